/* lacd's RADIUS lookup of the LNS (lac/aaa.c, docs/protocols/radius.md) on a fake clock and a
 * fake transport: a scripted mobile attaches, the Access-Request lacd sends is decoded and
 * answered by a scripted server (signed with the codec), and what follows is checked: the
 * SCCRQ to the LNS of the answer, ATTACH-ACK or ATTACH-NAK cause 3, the static fallback on
 * timeout, the counters. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../../lac/lacd.h"
#include "roam/auth.h"

#include "../common/radius_tunnel.h"

#define MIN1 "3125550100" /* in the static table (312*) */
#define MIN2 "4125550100" /* not in it */
#define RSECRET "testing123"
static struct lacd h;
#include "lacd_harness.h"
static struct roam_sockaddr server;

static struct {
	uint8_t buf[RADIUS_MAX_LEN];
	size_t len;
	struct roam_sockaddr dst;
} rad_out[64];
static unsigned nrad;

static void rad_tx(void *arg, const struct roam_sockaddr *dst, const uint8_t *pkt, size_t len)
{
	(void)arg;
	cr_assert_lt(nrad, 64);
	memcpy(rad_out[nrad].buf, pkt, len);
	rad_out[nrad].len = len;
	rad_out[nrad].dst = *dst;
	nrad++;
}

static void attach(const char *min, const char *nai, uint32_t nonce)
{
	struct access_msg a = { .type = ACCESS_ATTACH, .nonce = nonce };
	snprintf(a.min, sizeof(a.min), "%s", min);
	snprintf(a.nai, sizeof(a.nai), "%s", nai);
	a.nai_len = (uint8_t)strlen(nai);
	mob_send_from(&mobile, &a);
}

static void setup(void)
{
	lacd_start("radius:\n"
		   "  servers: [192.0.2.50, \"192.0.2.51:1645\"]\n"
		   "  secret: " RSECRET "\n"
		   "  password: roam\n"
		   "  nas_ip_address: 192.0.2.1\n"
		   "  timeout: 1s\n"
		   "  retries: 1\n"
		   "lns:\n"
		   "  - min: \"312*\"\n    address: 192.0.2.10\n",
		   tx);
	cr_assert_eq(lacd_aaa_init(&h, rad_tx, NULL), 0);
	cr_assert(lacd_aaa_enabled(&h));
	peer_reset(&h.ep, "192.0.2.10:1701", 7000000);
	cr_assert_eq(roam_sockaddr_parse("198.51.100.7:40000", 0, &mobile), 0);
	cr_assert_eq(roam_sockaddr_parse("192.0.2.50", RADIUS_PORT, &server), 0);
	nacc = nrad = 0;
}

static void teardown(void)
{
	lacd_aaa_destroy(&h);
	lacd_core_destroy(&h);
	lacd_conf_free(&h.conf);
}

static const uint8_t *rs = (const uint8_t *)RSECRET;
#define RSLEN (sizeof(RSECRET) - 1)

/* Answers RADIUS datagram i with code and the attributes of p, signed; fed from src. */
static void answer(unsigned i, struct radius_pkt *p, const struct roam_sockaddr *src)
{
	static const uint8_t zero[16];
	uint8_t b[RADIUS_MAX_LEN];
	struct wbuf w;
	cr_assert_lt(i, nrad);
	p->id = rad_out[i].buf[1];
	cr_assert_eq(radius_pkt_add(p, RADIUS_MESSAGE_AUTHENTICATOR, zero, 16), 0);
	wbuf_init_fixed(&w, b, sizeof(b));
	cr_assert_eq(radius_pkt_encode(p, &w), 0);
	cr_assert_eq(radius_response_sign(b, w.len, rad_out[i].buf + 4, rs, RSLEN), 0);
	lacd_aaa_input(&h, b, w.len, src, now);
}

static struct radius_pkt accept_pkt(const uint8_t *req_auth, bool with_password)
{
	static struct radius_tunnel_attrs a1, a2;
	static uint8_t tpw[1 + 2 + 256];
	size_t el;
	struct radius_pkt p = { .code = RADIUS_ACCESS_ACCEPT };
	radius_add_l2tp_tunnel(&p, &a1, 1, "203.0.113.5", 5);
	radius_add_l2tp_tunnel(&p, &a2, 2, "203.0.113.9", 1);
	if (with_password) {
		tpw[0] = 2;
		cr_assert_eq(radius_tunnel_password_encrypt(rs, RSLEN, req_auth, 0x8001,
							    (const uint8_t *)"tsecret", 7, tpw + 1,
							    &el), 0);
		radius_pkt_add(&p, RADIUS_TUNNEL_PASSWORD, tpw, 1 + el);
	}
	return p;
}

static uint64_t rstat(const char *name)
{
	/* The counters as the control socket shows them. */
	struct wbuf out_;
	struct json_writer w;
	wbuf_init(&out_);
	json_writer_init(&w, &out_);
	json_obj_begin(&w);
	lacd_aaa_stats_json(&h, &w);
	json_obj_end(&w);
	const char *s = wbuf_str(&out_);
	char key[64];
	snprintf(key, sizeof(key), "\"%s\":", name);
	const char *p = strstr(s, key);
	cr_assert(p, "%s not in %s", name, s);
	uint64_t v = strtoull(p + strlen(key), NULL, 10);
	wbuf_free(&out_);
	return v;
}

TestSuite(aaa, .init = setup, .fini = teardown);

Test(aaa, accept_gives_the_lns)
{
	attach(MIN2, "alice@example.net", 11);
	cr_assert_eq(nacc, 0, "the ATTACH waits for RADIUS");
	cr_assert_eq(nrad, 1);
	cr_assert(roam_sockaddr_eq(&rad_out[0].dst, &server));
	/* The Access-Request. */
	struct radius_pkt q;
	uint8_t pw[128];
	size_t pwlen;
	cr_assert_eq(radius_pkt_decode(rad_out[0].buf, rad_out[0].len, &q, NULL), 0);
	cr_assert_eq(q.code, RADIUS_ACCESS_REQUEST);
	const struct radius_attr *a = radius_pkt_find(&q, RADIUS_CALLING_STATION_ID);
	cr_assert(a && a->len == 10 && memcmp(a->value, MIN2, 10) == 0);
	a = radius_pkt_find(&q, RADIUS_USER_NAME);
	cr_assert(a && a->len == 17 && memcmp(a->value, "alice@example.net", 17) == 0);
	a = radius_pkt_find(&q, RADIUS_NAS_IDENTIFIER);
	cr_assert(a && a->len == 4 && memcmp(a->value, "lac1", 4) == 0);
	a = radius_pkt_find(&q, RADIUS_NAS_IP_ADDRESS);
	cr_assert(a && a->len == 4 && memcmp(a->value, "\xc0\x00\x02\x01", 4) == 0);
	a = radius_pkt_find(&q, RADIUS_USER_PASSWORD);
	cr_assert(a);
	cr_assert_eq(radius_password_unhide(rs, RSLEN, q.authenticator, a->value, a->len, pw,
					    &pwlen), 0);
	cr_assert(pwlen == 4 && memcmp(pw, "roam", 4) == 0);
	cr_assert(radius_pkt_find(&q, RADIUS_MESSAGE_AUTHENTICATOR));
	/* The mobile retransmits: absorbed. */
	attach(MIN2, "alice@example.net", 11);
	cr_assert_eq(nrad, 1);
	cr_assert_eq(nacc, 0);
	cr_assert_eq(rstat("radius_attach_waiting"), 1);
	/* A forged answer (another secret): dropped, still waiting. */
	struct radius_pkt bad = { .code = RADIUS_ACCESS_REJECT };
	uint8_t b[256];
	struct wbuf w;
	wbuf_init_fixed(&w, b, sizeof(b));
	bad.id = rad_out[0].buf[1];
	cr_assert_eq(radius_pkt_encode(&bad, &w), 0);
	cr_assert_eq(radius_response_sign(b, w.len, rad_out[0].buf + 4, (const uint8_t *)"x", 1),
		     0);
	lacd_aaa_input(&h, b, w.len, &server, now);
	cr_assert_eq(rstat("radius_bad_authenticator"), 1);
	cr_assert_eq(nacc, 0);
	/* The Accept: tag 2 is preferred (Tunnel-Preference 1 < 5) and has a Tunnel-Password. */
	struct radius_pkt p = accept_pkt(rad_out[0].buf + 4, true);
	answer(0, &p, &server);
	cr_assert_eq(rstat("radius_accepts"), 1);
	cr_assert_eq(acc_last(), ACCESS_ATTACH_ACK);
	cr_assert_eq(am.nonce, 11);
	cr_assert_eq(last(), L2TP_MSG_SCCRQ);
	struct roam_sockaddr lns;
	roam_sockaddr_parse("203.0.113.9", 1701, &lns);
	cr_assert(roam_sockaddr_eq(&out[nout - 1].dst, &lns), "SCCRQ to the preferred LNS");
	cr_assert(r.avps & L2TP_AVP_BIT(L2TP_AVP_CHALLENGE),
		  "the Tunnel-Password is the tunnel secret: SCCRQ with a Challenge");
	struct lacd_session *s = lacd_session_by_min(&h, MIN2);
	cr_assert(s);
	cr_assert_eq(s->s.t->secret_len, 7);
	cr_assert_eq(memcmp(s->s.t->secret, "tsecret", 7), 0);
	cr_assert_eq(rstat("radius_pending"), 0);
}

Test(aaa, reject_naks_cause_3)
{
	attach(MIN1, "", 12);
	cr_assert_eq(nrad, 1);
	struct radius_pkt q;
	cr_assert_eq(radius_pkt_decode(rad_out[0].buf, rad_out[0].len, &q, NULL), 0);
	const struct radius_attr *a = radius_pkt_find(&q, RADIUS_USER_NAME);
	cr_assert(a && a->len == 10 && memcmp(a->value, MIN1, 10) == 0, "no NAI: the MIN");
	struct radius_pkt p = { .code = RADIUS_ACCESS_REJECT };
	answer(0, &p, &server);
	cr_assert_eq(acc_last(), ACCESS_ATTACH_NAK);
	cr_assert_eq(am.cause, ACCESS_NAK_NO_LNS);
	cr_assert_eq(am.nonce, 12);
	cr_assert_eq(rstat("radius_rejects"), 1);
	cr_assert_eq(nout, 0, "no tunnel: the static entry is not used after a Reject");
	cr_assert_null(lacd_session_by_min(&h, MIN1));
}

Test(aaa, accept_without_l2tp_naks)
{
	attach(MIN1, "", 13);
	struct radius_pkt p = { .code = RADIUS_ACCESS_ACCEPT };
	static uint8_t t1[4] = { 1, 0, 0, 1 /* PPTP */ };
	radius_pkt_add(&p, RADIUS_TUNNEL_TYPE, t1, 4);
	radius_pkt_add(&p, RADIUS_TUNNEL_SERVER_ENDPOINT, "\x01"
							  "203.0.113.5", 12);
	answer(0, &p, &server);
	cr_assert_eq(acc_last(), ACCESS_ATTACH_NAK);
	cr_assert_eq(am.cause, ACCESS_NAK_NO_LNS);
	cr_assert_eq(rstat("radius_accept_no_tunnel"), 1);
}

Test(aaa, timeout_falls_back_to_the_static_table)
{
	uint64_t t0 = now;
	attach(MIN1, "", 14);
	attach(MIN2, "", 15);
	cr_assert_eq(nrad, 2);
	/* 1 s timeout, 1 retry, two servers: 4 transmissions each, then the verdict. */
	for (uint64_t t = t0; t <= t0 + 4000; t += 100) {
		now = t;
		lacd_aaa_run_timers(&h, now);
	}
	cr_assert_eq(nrad, 8);
	struct roam_sockaddr s2;
	roam_sockaddr_parse("192.0.2.51:1645", 0, &s2);
	cr_assert(roam_sockaddr_eq(&rad_out[7].dst, &s2), "failover to the second server");
	cr_assert_eq(rstat("radius_timeouts"), 2);
	cr_assert_eq(rstat("radius_fallback_static"), 1);
	cr_assert_eq(nacc, 2);
	/* MIN1: the static entry (192.0.2.10), MIN2: none, NAK cause 3. */
	cr_assert_eq(access_msg_decode(acc_out[0].buf, acc_out[0].len, &am, NULL), 0);
	cr_assert_eq(am.type, ACCESS_ATTACH_ACK);
	cr_assert_eq(am.nonce, 14);
	cr_assert_eq(access_msg_decode(acc_out[1].buf, acc_out[1].len, &am, NULL), 0);
	cr_assert_eq(am.type, ACCESS_ATTACH_NAK);
	cr_assert_eq(am.cause, ACCESS_NAK_NO_LNS);
	cr_assert_eq(am.nonce, 15);
	cr_assert_eq(got(0), L2TP_MSG_SCCRQ);
	cr_assert(roam_sockaddr_eq(&out[0].dst, &peer));
}

Test(aaa, new_nonce_takes_the_answer)
{
	attach(MIN1, "", 16);
	attach(MIN1, "", 17); /* the mobile gave up on 16 */
	cr_assert_eq(nrad, 1, "one request per MIN");
	struct radius_pkt p = accept_pkt(rad_out[0].buf + 4, false);
	answer(0, &p, &server);
	cr_assert_eq(nacc, 1);
	cr_assert_eq(acc_last(), ACCESS_ATTACH_ACK);
	cr_assert_eq(am.nonce, 17);
	cr_assert_eq(r.avps & L2TP_AVP_BIT(L2TP_AVP_CHALLENGE), 0, "no Tunnel-Password: none");
}

Test(aaa, conf_errors)
{
	struct lacd_conf c;
	char err[256];
	cr_assert_lt(lacd_conf_load_string(&c, "radius:\n  servers: [192.0.2.50]\n", err,
					   sizeof(err)), 0);
	cr_assert(strstr(err, "secret"), "%s", err);
	cr_assert_lt(lacd_conf_load_string(&c,
					   "radius:\n  servers: [192.0.2.50]\n  secret: x\n"
					   "  nas_ip_address: \"2001:db8::1\"\n",
					   err, sizeof(err)), 0);
	cr_assert(strstr(err, "nas_ip_address"), "%s", err);
	cr_assert_lt(lacd_conf_load_string(&c, "radius:\n  servers: [192.0.2.50]\n  secret: x\n"
					       "  timeout: 10ms\n", err, sizeof(err)), 0);
}
