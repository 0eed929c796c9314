/* l2tp_park: memory per parked call in lnsd (docs/protocols/l2tp-handoff.md 6), in-process,
 * through lnsd's own code (linked with lnsd's objects, like its unit tests).
 *
 *   l2tp_park [N]     (default 10,000)
 *
 * A parked call exists only after a PPP session reached the network phase and its LAC sent a
 * CDN with the Handoff Cause; bench/l2tp.sh's load generator runs no PPP, so the calls are
 * created here through lnsd's snapshot restore path instead: N parked-call records (PPP state
 * authenticated, IPCP opened, an address of the pool each) are encoded with
 * lnsd_parked_encode() into a snapshot file, and lnsd_handoff_load() restores them, which
 * allocates exactly what lnsd_handoff_cdn() allocates when it parks a call: one
 * struct lnsd_parked, its address claimed in the pool, and its nodes in the `parked` (by MIN,
 * with the hold-time expiry) and `parked_by_addr` tables.  No packet is buffered and no route
 * is installed (no netlink socket).  Bytes per parked call = VmRSS delta over the restore / N,
 * allocator overhead included.  Prints one JSON object. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lns/lnsd.h"
#include "roam/clock.h"
#include "roam/snapshot.h"

static long rss_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long v = -1;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &v) == 1)
			break;
	if (f)
		fclose(f);
	return v;
}

int main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 10000;
	if (n == 0 || n > 60000) {
		fprintf(stderr, "usage: l2tp_park [N (1..60000)]\n");
		return 2;
	}
	char snap[] = "/tmp/l2tp_park.XXXXXX";
	int fd = mkstemp(snap);
	if (fd < 0)
		return 1;
	close(fd);
	char cfg[1024], err[256];
	snprintf(cfg, sizeof(cfg),
		 "listen: 127.0.0.1\ncontrol_socket: /tmp/l2tp_park.sock\nlog_level: error\n"
		 "handoff: {enabled: true, hold_time: 3600s, snapshot: \"%s\"}\n"
		 "ppp: {enabled: true, auth: any, credentials: \"bench x\", pool: 10.128.0.0/16, local_address: 10.127.0.1}\n",
		 snap);
	log_init("l2tp_park", 1, LOG_LVL_WARN);
	static struct lnsd h;
	if (lnsd_conf_load_string(&h.conf, cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "l2tp_park: config: %s\n", err);
		return 1;
	}
	int rc = lnsd_ppp_init(&h);
	if (rc == 0)
		rc = lnsd_handoff_init(&h);
	if (rc < 0 || !h.ppp_ready) {
		fprintf(stderr, "l2tp_park: set-up failed: %s (ppp %s)\n", strerror(-rc),
			h.conf.ppp.enabled ? "enabled" : "off");
		return 1;
	}
	/* the snapshot: N parked calls as lnsd writes them */
	struct snap_writer *w;
	uint64_t wall = roam_wall_ms();
	if (snap_writer_open(&w, snap, "lnsd/1") < 0)
		return 1;
	for (unsigned i = 0; i < n; i++) {
		struct lnsd_parked p;
		uint8_t buf[1024];
		struct wbuf b;
		memset(&p, 0, sizeof(p));
		snprintf(p.min, sizeof(p.min), "%u", 1000000000u + i);
		p.old_tunnel_id = (uint16_t)(1 + i / 1000);
		p.old_session_id = (uint16_t)(1 + i % 1000);
		p.lns_tunnel_id = p.old_tunnel_id;
		p.lns_session_id = p.old_session_id;
		snprintf(p.lac, sizeof(p.lac), "lac-bench");
		p.addr = (10u << 24 | 128u << 16) + 2 + i;
		p.data_seq = true;
		p.parked_wall = wall;
		p.ppp.role = PPP_ROLE_AUTHENTICATOR;
		p.ppp.phase = PPP_PHASE_NETWORK;
		p.ppp.mru_recv = p.ppp.mru_send = 1500;
		p.ppp.magic_local = 0x12345678u + i;
		p.ppp.magic_peer = 0x9abcdef0u + i;
		p.ppp.authenticated = 1;
		p.ppp.ipcp_opened = 1;
		snprintf(p.ppp.peer_name, sizeof(p.ppp.peer_name), "mobile%u", i);
		p.ppp.addr_local = 10u << 24 | 127u << 16 | 1;
		p.ppp.addr_peer = p.addr;
		wbuf_init_fixed(&b, buf, sizeof(buf));
		if (lnsd_parked_encode(&b, &p, wall + 3600000) < 0 ||
		    snap_put(w, 1 /* LNSD_SNAP_PARKED */, buf, b.len) < 0) {
			snap_abort(w);
			fprintf(stderr, "l2tp_park: encoding failed\n");
			return 1;
		}
	}
	if (snap_commit(w) < 0)
		return 1;
	long r0 = rss_kb();
	lnsd_handoff_load(&h, roam_mono_ms());
	long r1 = rss_kb();
	unlink(snap);
	uint64_t parked = table_count(&h.parked);
	printf("{\"parked_calls\": %llu, \"park_rss_before_kb\": %ld, \"park_rss_after_kb\": %ld, "
	       "\"memory_per_parked_call_bytes\": %.1f, \"sizeof_lnsd_parked_bytes\": %zu}\n",
	       (unsigned long long)parked, r0, r1,
	       parked ? (double)(r1 - r0) * 1024.0 / (double)parked : 0.0,
	       sizeof(struct lnsd_parked));
	lnsd_handoff_destroy(&h);
	return parked == n ? 0 : 1;
}
