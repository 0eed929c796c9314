/* sipd: arguments, configuration, event loop.  Everything SIP is in message.c and registrar.c. */
#include <errno.h>
#include <string.h>

#include "sipd.h"
#include "roam/clock.h"
#include "roam/daemon_glue.h"

#define SIPD_TICK_MS 1000 /* expiry resolution of bindings, nonces and transactions */
#define SIPD_PROXY_TICK_MS 50 /* resolution of the transaction timers (T1 is 500 ms) */

static void proxy_tick_cb(uv_timer_t *t)
{
	struct sipd *s = t->data;
	if (s->proxy.all)
		sipd_proxy_timers(s, uv_now(s->loop));
	sipd_peer_timers(s, uv_now(s->loop));
}

static void tick_cb(uv_timer_t *t)
{
	struct sipd *s = t->data;
	sipd_expire(s, uv_now(s->loop));
}

/* SIGHUP / "reload": limits, realm, domains and credentials apply at once; listen addresses,
 * transports and the control socket at the next restart.  A bad file keeps everything. */
static int sipd_reload(void *arg, const char *config, char *err, size_t errlen)
{
	struct sipd *s = arg;
	struct sipd_conf nc;
	int r = sipd_conf_load(&nc, config, 0, err, errlen);
	if (r < 0)
		return r;
	struct sipd_creds cs;
	memset(&cs, 0, sizeof(cs));
	if (nc.credentials.data &&
	    (r = sipd_creds_parse(&cs, (const char *)nc.credentials.data, nc.credentials.len, err,
				  errlen)) < 0) {
		sipd_conf_free(&nc);
		return r;
	}
	/* (a changed control_socket is kept without a word) */
	roam_reload_needs_restart(nc.nlisten != s->conf.nlisten || nc.udp != s->conf.udp ||
					  nc.tcp != s->conf.tcp ||
					  memcmp(nc.listen, s->conf.listen,
						 nc.nlisten * sizeof(*nc.listen)) != 0,
				  "listen/udp/tcp");
	/* Keep what cannot change without a restart, so status tells the truth. */
	ROAM_CONF_KEEP(&nc, &s->conf, listen);
	ROAM_CONF_KEEP(&nc, &s->conf, nlisten);
	ROAM_CONF_KEEP(&nc, &s->conf, udp);
	ROAM_CONF_KEEP(&nc, &s->conf, tcp);
	ROAM_CONF_KEEP(&nc, &s->conf, control_socket);
	/* the nftables table is opened (and reconciled) at start only */
	roam_reload_needs_restart(nc.nat_continuity != s->conf.nat_continuity ||
					  strcmp(nc.nat_table_owner, s->conf.nat_table_owner) != 0,
				  "nat_continuity/nat_table_owner");
	ROAM_CONF_KEEP(&nc, &s->conf, nat_continuity);
	ROAM_CONF_KEEP(&nc, &s->conf, nat_table_owner);
	sipd_conf_free(&s->conf);
	s->conf = nc;
	sipd_creds_free(&s->creds);
	s->creds = cs;
	if (!s->debug)
		log_setlevel((enum log_level)s->conf.log_level);
	sipd_loc_cap(&s->loc, s->conf.max_expires, uv_now(s->loop));
	if ((r = snap_timer_configure(&s->snap, s->loop, s->conf.snapshot, s->conf.snapshot_interval,
				      sipd_save, s)) < 0)
		log_warnx("snapshot timer: %s", uv_strerror(r));
	log_info("reloaded: %zu bindings kept", s->loc.nbindings);
	return 0;
}

/* SIGTERM/SIGINT (and a failed start): save the bindings, close every handle of ours so that
 * uv_run returns (roam_daemon_main closes the control socket). */
static void sipd_shutdown(void *arg)
{
	struct sipd *s = arg;
	if (!s->core_ready)
		return;
	log_info("shutting down: %zu bindings", s->loc.nbindings);
	if (s->snap.started)
		snap_timer_save_now(&s->snap);
	else
		sipd_save(s);
	snap_timer_close(&s->snap);
	sipd_transport_close(s);
	s->ctl = NULL;
	if (s->timer_init && !uv_is_closing((uv_handle_t *)&s->expiry_timer)) {
		uv_timer_stop(&s->expiry_timer);
		uv_close((uv_handle_t *)&s->expiry_timer, NULL);
	}
	if (s->proxy_timer_init && !uv_is_closing((uv_handle_t *)&s->proxy_timer)) {
		uv_timer_stop(&s->proxy_timer);
		uv_close((uv_handle_t *)&s->proxy_timer, NULL);
	}
}

static int sipd_load(void *arg, const struct roam_args *args)
{
	struct sipd *s = arg;
	s->config_path = args->config;
	s->debug = args->debug;
	if (sipd_conf_load(&s->conf, args->config, 1, NULL, 0) < 0)
		return -EINVAL;
	return roam_daemon_loaded(args, s->conf.log_level, NULL);
}

static int sipd_setup(void *arg, uv_loop_t *loop, struct roam_daemon *d)
{
	struct sipd *s = arg;
	int r;
	s->loop = loop;
	s->daemon = d;
	s->started_wall = roam_wall_ms();
	if ((r = sipd_core_init(s, uv_now(loop))) < 0) {
		log_warnx("initialisation: %s", strerror(-r));
		return r;
	}
	s->core_ready = true;
	if (!s->conf.authentication)
		log_warnx("authentication is off: anyone may register any address-of-record");
	if (s->conf.snapshot && *s->conf.snapshot) {
		uint64_t loaded = 0, skipped = 0;
		r = sipd_loc_load(&s->loc, s->conf.snapshot, s->conf.max_expires, &loaded, &skipped);
		s->stats.snapshot_loaded = loaded;
		s->stats.snapshot_skipped = skipped;
		if (r < 0 && r != -ENOENT)
			log_warnx("snapshot %s: %s; starting with an empty location service",
				  s->conf.snapshot, strerror(-r));
		else if (r == 0)
			log_info("snapshot %s: %llu bindings restored, %llu expired or skipped",
				 s->conf.snapshot, (unsigned long long)loaded,
				 (unsigned long long)skipped);
	}
	/* NAT continuity: our table on the co-located router; the pairs an earlier run left are
	 * reconciled against the restored bindings (sip-mobility.md 4.7).  With the extension off
	 * the table is not touched (nor created). */
	if (s->conf.nat_continuity && (r = sipd_nat_open_nft(s)) < 0) {
		log_warnx("nat: cannot open nftables table roam_%s: %s", s->conf.nat_table_owner,
			  strerror(-r));
		return r;
	} else if (s->conf.nat_continuity) {
		r = sipd_nat_reconcile(s, uv_now(loop));
		if (r < 0)
			log_warnx("nat: reconcile: %s", strerror(-r));
		else
			log_info("nat: %zu pairs kept, %d removed", s->nat.npairs, r);
	}
	uv_timer_init(loop, &s->expiry_timer);
	s->expiry_timer.data = s;
	s->timer_init = true;
	uv_timer_start(&s->expiry_timer, tick_cb, SIPD_TICK_MS, SIPD_TICK_MS);
	uv_timer_init(loop, &s->proxy_timer);
	s->proxy_timer.data = s;
	s->proxy_timer_init = true;
	uv_timer_start(&s->proxy_timer, proxy_tick_cb, SIPD_PROXY_TICK_MS, SIPD_PROXY_TICK_MS);
	s->send = sipd_transport_send;
	if ((r = sipd_transport_open(s)) < 0)
		return r;
	if ((r = snap_timer_configure(&s->snap, loop, s->conf.snapshot, s->conf.snapshot_interval,
				      sipd_save, s)) < 0)
		log_warnx("snapshot timer: %s", uv_strerror(r));
	log_info("started: %zu bindings restored", s->loc.nbindings);
	return 0;
}

ROAM_DAEMON_ACCESSORS(sipd, struct sipd)

static void sipd_cleanup(void *arg)
{
	struct sipd *s = arg;
	if (s->core_ready)
		sipd_core_destroy(s);
	sipd_conf_free(&s->conf);
}

int main(int argc, char **argv)
{
	struct sipd s;
	memset(&s, 0, sizeof(s));
	/* CAP_NET_BIND_SERVICE: port 5060 */
	const struct roam_daemon_desc desc = ROAM_DAEMON_DESC(sipd, &s, ROAM_CAP(10));
	return roam_daemon_main(argc, argv, &desc);
}
