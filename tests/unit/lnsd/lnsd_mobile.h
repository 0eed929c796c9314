/* What the lnsd unit tests share (test_ppp.c, test_handoff.c): lnsd `h` on a fake clock without
 * sockets or TUN, a scripted LAC (../common/l2tp_peer.h), and the mobile: a real PPP peer
 * (common/proto/ppp) talking to lnsd through L2TP data messages.  lnsd's data messages are
 * captured in dq[] (its control messages go to l2tp_peer.h's out[]), what it writes to its TUN
 * in tun_last.  The includer defines `static struct lnsd h;` first, and data_check(), which
 * pump() calls on each data message lnsd sent before the mobile reads it.  One lnsd per test
 * process (Criterion runs each test in its own); state is file-static. */
#ifndef TEST_LNSD_MOBILE_H
#define TEST_LNSD_MOBILE_H
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "../../../lns/lnsd.h"
#include "../common/l2tp_peer.h"

#define M_UNUSED __attribute__((unused))

/* lnsd's data messages (control ones go to l2tp_peer.h's out[]). */
static struct {
	uint8_t buf[2048];
	size_t len;
} dq[512];
static unsigned ndq, dq_read;

/* The mobile's PPP and what it sends. */
static struct ppp mob;
static struct {
	uint8_t buf[2048];
	size_t len;
} mq[256];
static unsigned nmq, mq_read;
static uint16_t mob_ns, lns_sid;
static int mob_up, mob_down, mob_rx_ip, mob_lcp_confreq_rx;
static enum ppp_down_reason mob_down_reason;

/* What lnsd wrote to its TUN device. */
static uint8_t tun_last[2048];
static size_t tun_len;
static unsigned tun_count;

/* Checks one data message lnsd sent (hd) carrying the PPP frame proto/info (the includer's). */
static void data_check(const struct l2tp_hdr *hd, uint16_t proto, const uint8_t *info,
		       size_t ilen);

static void l2tp_tx(void *arg, const struct roam_sockaddr *dst, const struct roam_ipaddr *src,
		    const uint8_t *pkt, size_t len)
{
	if (len >= 1 && !(pkt[0] & 0x80)) {
		cr_assert_lt(ndq, 512);
		memcpy(dq[ndq].buf, pkt, len);
		dq[ndq].len = len;
		ndq++;
		return;
	}
	tx(arg, dst, src, pkt, len);
}

static void tun_capture(struct lnsd *hh, const uint8_t *pkt, size_t len)
{
	(void)hh;
	memcpy(tun_last, pkt, len);
	tun_len = len;
	tun_count++;
}

/* Loads h from the lines every test shares (host name lns, a control socket path) followed by
 * yaml, its output captured (l2tp_tx, tun_capture); returns lnsd_core_init's result. */
static M_UNUSED int lnsd_start(const char *yaml)
{
	char text[4096], err[256];
	cr_assert_lt((size_t)snprintf(text, sizeof(text),
				      "host_name: lns\ncontrol_socket: /tmp/x.sock\n%s", yaml),
		     sizeof(text));
	memset(&h, 0, sizeof(h));
	cr_assert_eq(lnsd_conf_load_string(&h.conf, text, err, sizeof(err)), 0, "%s", err);
	h.ep.tx = l2tp_tx;
	h.tun_tx = tun_capture;
	return lnsd_core_init(&h);
}

static void mob_output(void *ctx, uint16_t proto, const uint8_t *info, size_t len)
{
	(void)ctx;
	struct wbuf w;
	cr_assert_lt(nmq, 256);
	wbuf_init_fixed(&w, mq[nmq].buf, sizeof(mq[nmq].buf));
	ppp_frame_hdr_encode(&w, proto, 0, 0);
	wbuf_put_bytes(&w, info, len);
	cr_assert_eq(w.err, 0);
	mq[nmq].len = w.len;
	nmq++;
}

static void mob_event(void *ctx, const struct ppp_event *ev)
{
	(void)ctx;
	if (ev->type == PPP_EV_NETWORK_UP)
		mob_up = 1;
	if (ev->type == PPP_EV_LINK_DOWN) {
		mob_down = 1;
		mob_down_reason = ev->reason;
	}
}

static M_UNUSED void mob_init(const char *name, const char *password)
{
	struct ppp_cfg cfg;
	static const struct ppp_ops ops = { .output = mob_output, .event = mob_event };
	ppp_cfg_default(&cfg, PPP_ROLE_PEER);
	cfg.auth = PPP_AUTH_PAP | PPP_AUTH_CHAP;
	cfg.echo_interval_ms = 0;
	snprintf(cfg.name, sizeof(cfg.name), "%s", name);
	memcpy(cfg.secret, password, strlen(password));
	cfg.secret_len = strlen(password);
	cr_assert_eq(ppp_init(&mob, &cfg, &ops, NULL), 0);
	nmq = mq_read = 0;
	mob_ns = 0;
	mob_up = mob_down = mob_rx_ip = mob_lcp_confreq_rx = 0;
}

/* Moves frames both ways (the mobile's through the scripted LAC, tid and peer) until nothing is
 * left. */
static M_UNUSED void pump(void)
{
	for (int round = 0; round < 200; round++) {
		bool moved = false;
		while (dq_read < ndq) {
			struct l2tp_hdr hd;
			uint16_t proto;
			const uint8_t *info;
			size_t ilen;
			unsigned i = dq_read++;
			cr_assert_eq(l2tp_hdr_decode(dq[i].buf, dq[i].len, &hd), 0);
			cr_assert_eq(ppp_frame_parse(dq[i].buf + hd.hdr_len, hd.msg_len - hd.hdr_len,
						     &proto, &info, &ilen), 0);
			data_check(&hd, proto, info, ilen);
			if (ppp_input(&mob, proto, info, ilen, now) == 1)
				mob_rx_ip++;
			moved = true;
		}
		while (mq_read < nmq) {
			uint8_t pkt[2100];
			struct wbuf w;
			unsigned i = mq_read++;
			struct l2tp_hdr hd = { .flags = L2TP_HDR_L | L2TP_HDR_S, .tunnel_id = tid,
					       .session_id = lns_sid, .ns = mob_ns++ };
			wbuf_init_fixed(&w, pkt, sizeof(pkt));
			cr_assert_eq(l2tp_data_hdr_encode(&w, &hd, mq[i].len), 0);
			wbuf_put_bytes(&w, mq[i].buf, mq[i].len);
			l2tp_ep_input(&h.ep, pkt, w.len, &peer, NULL, now);
			moved = true;
		}
		if (!moved)
			return;
	}
	cr_assert_fail("PPP does not settle");
}

#endif
