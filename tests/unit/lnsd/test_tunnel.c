/* lnsd's role on the shared tunnel on a fake clock (no sockets): a scripted LAC feeds encoded
 * messages to l2tp_ep_input and reads what lnsd sends through its tx callback.  What the shared
 * machine does by itself (HELLO, retransmission limits, drops, the unknown-M-bit rule on
 * tunnel messages, OCRQ, StopCCN for all, session set-up timeouts) is tested in
 * tests/unit/common/test_l2tp_tunnel.c. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "../../../lns/lnsd.h"
#include "roam/auth.h"
#include "../common/l2tp_peer.h"

static struct lnsd h;

static void setup_with(const char *yaml)
{
	char err[256];
	memset(&h, 0, sizeof(h));
	cr_assert_eq(lnsd_conf_load_string(&h.conf, yaml, err, sizeof(err)), 0, "%s", err);
	h.ep.tx = tx;
	cr_assert_eq(lnsd_core_init(&h), 0);
	peer_reset(&h.ep, "192.0.2.1:1701", 1000000); /* the scripted LAC */
	peer_check_dst = true;
}

static const char *conf_secret = "host_name: lns\n"
				 "control_socket: /tmp/x.sock\n"
				 "tunnel:\n  setup_timeout: 20s\n"
				 "peers:\n  - address: 192.0.2.1\n    secret: s3cret\n";

static void setup(void)
{
	setup_with(conf_secret);
}

static void teardown(void)
{
	lnsd_core_destroy(&h);
	lnsd_conf_free(&h.conf);
}

static uint8_t lac_challenge[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };

static void send_sccrq(bool with_challenge)
{
	peer_sccrq("lac1", 77);
	m.tunnel_id = 0;
	if (with_challenge) {
		m.avps |= L2TP_AVP_BIT(L2TP_AVP_CHALLENGE);
		l2tp_bytes_set(&m.challenge, lac_challenge, sizeof(lac_challenge));
	}
	feed();
}

/* SCCRQ / SCCRP / SCCCN with authentication; returns with the tunnel established. */
static void bring_up(void)
{
	send_sccrq(true);
	cr_assert_eq(last(), L2TP_MSG_SCCRP);
	cr_assert_eq(r.tunnel_id, 77);
	cr_assert(r.avps & L2TP_AVP_BIT(L2TP_AVP_ASSIGNED_TUNNEL_ID));
	tid = r.assigned_tunnel_id;
	peer_scccn_auth(lac_challenge, "SCCRP's Challenge Response must answer our challenge");
	struct l2tp_tunnel *t = l2tp_tunnel_find(&h.ep, tid);
	cr_assert_not_null(t);
	cr_assert_eq(t->state, LNSD_T_ESTABLISHED);
	cr_assert(t->authenticated);
	cr_assert_eq(h.ep.stats.tunnels_established, 1);
}

/* ICRQ + ICCN for LAC session lsid; returns lnsd's session id. */
static uint16_t call(uint16_t lsid, const char *min)
{
	peer_icrq(lsid, min);
	uint16_t sid = peer_call(lsid);
	struct lnsd_session *s = lnsd_session_of(l2tp_session_find(&h.ep, tid, sid));
	cr_assert_not_null(s);
	cr_assert_eq(s->s.state, LNSD_S_ESTABLISHED);
	cr_assert_str_eq(s->calling, min);
	return sid;
}

TestSuite(lnsd_tunnel, .init = setup, .fini = teardown);

Test(lnsd_tunnel, full_exchange_then_stopccn_and_linger)
{
	bring_up();
	uint16_t s1 = call(11, "15550001");
	uint16_t s2 = call(12, "15550002");
	cr_assert_neq(s1, s2);
	cr_assert_eq(table_count(&h.ep.sessions), 2);
	cr_assert_eq(h.stats.sessions_established, 2);

	/* CDN from the LAC clears one call. */
	msg_init(L2TP_MSG_CDN, s1);
	m.avps = L2TP_AVP_BIT(L2TP_AVP_RESULT_CODE) | L2TP_AVP_BIT(L2TP_AVP_ASSIGNED_SESSION_ID);
	m.result.result = L2TP_CDN_ADMIN;
	m.assigned_session_id = 11;
	feed();
	cr_assert_null(l2tp_session_find(&h.ep, tid, s1));
	cr_assert_eq(h.stats.sessions_closed_by_peer, 1);

	/* The delayed ZLB acknowledges it (nothing else to piggyback on). */
	unsigned before = nout;
	now += 300;
	l2tp_ep_run_timers(&h.ep, now);
	cr_assert_gt(nout, before);
	cr_assert_eq(got(nout - 1), L2TP_MSG_ZLB);
	cr_assert_eq(r.nr, peer_ns);

	/* StopCCN: sessions gone at once, tunnel lingers, then is freed. */
	msg_init(L2TP_MSG_STOPCCN, 0);
	m.avps = L2TP_AVP_BIT(L2TP_AVP_RESULT_CODE) | L2TP_AVP_BIT(L2TP_AVP_ASSIGNED_TUNNEL_ID);
	m.result.result = L2TP_STOPCCN_CLEAR;
	m.assigned_tunnel_id = 77;
	feed();
	struct l2tp_tunnel *t = l2tp_tunnel_find(&h.ep, tid);
	cr_assert_not_null(t);
	cr_assert_eq(t->state, LNSD_T_CLOSING);
	cr_assert_eq(table_count(&h.ep.sessions), 0);
	/* A retransmitted StopCCN (same Ns) is acknowledged again while lingering. */
	before = nout;
	feed_raw((uint16_t)(peer_ns - 1), secret);
	cr_assert_eq(got(nout - 1), L2TP_MSG_ZLB);
	cr_assert_gt(nout, before);
	now += 30000;
	l2tp_ep_run_timers(&h.ep, now);
	cr_assert_not_null(l2tp_tunnel_find(&h.ep, tid), "still lingering before 31 s");
	now += 1500;
	l2tp_ep_run_timers(&h.ep, now);
	cr_assert_null(l2tp_tunnel_find(&h.ep, tid));
	cr_assert_eq(h.ep.stats.tunnels_closed_by_peer, 1);
	cr_assert_eq(h.ep.stats.tunnels_freed, 1);
}

Test(lnsd_tunnel, wrong_challenge_response_refused)
{
	send_sccrq(true);
	cr_assert_eq(last(), L2TP_MSG_SCCRP);
	tid = r.assigned_tunnel_id;
	msg_init(L2TP_MSG_SCCCN, 0);
	m.avps = L2TP_AVP_BIT(L2TP_AVP_CHALLENGE_RESPONSE);
	memset(m.challenge_response, 0x42, 16);
	feed();
	cr_assert_eq(last(), L2TP_MSG_STOPCCN);
	cr_assert_eq(r.result.result, L2TP_STOPCCN_NOT_AUTHORIZED);
	cr_assert_eq(r.tunnel_id, 77);
	cr_assert_eq(h.ep.stats.tunnels_auth_failed, 1);
	cr_assert_eq(h.ep.stats.tunnels_established, 0);
	struct l2tp_tunnel *t = l2tp_tunnel_find(&h.ep, tid);
	cr_assert(t && t->state == LNSD_T_CLOSING);
	/* A call on the refused tunnel gets nothing. */
	unsigned before = nout;
	msg_init(L2TP_MSG_ICRQ, 0);
	m.avps = L2TP_AVP_BIT(L2TP_AVP_ASSIGNED_SESSION_ID) | L2TP_AVP_BIT(L2TP_AVP_CALL_SERIAL);
	m.assigned_session_id = 5;
	feed();
	for (unsigned i = before; i < nout; i++)
		cr_assert_eq(got(i), L2TP_MSG_ZLB);
	cr_assert_eq(table_count(&h.ep.sessions), 0);
}

Test(lnsd_tunnel, sccrq_without_challenge_refused_when_secret)
{
	send_sccrq(false);
	cr_assert_eq(last(), L2TP_MSG_STOPCCN);
	cr_assert_eq(r.result.result, L2TP_STOPCCN_NOT_AUTHORIZED);
	cr_assert_eq(h.ep.stats.tunnels_auth_failed, 1);
}

/* An address no peer entry names: dropped without state or answer. */
Test(lnsd_tunnel, unknown_address_dropped)
{
	roam_sockaddr_parse("198.51.100.9:1701", 1701, &peer);
	send_sccrq(true);
	cr_assert_eq(nout, 0);
	cr_assert_eq(table_count(&h.ep.tunnels), 0);
	cr_assert_eq(h.stats.tunnels_refused_peer, 1);
}

/* With name-only peers, a wrong Host Name is answered with StopCCN 4. */
Test(lnsd_tunnel, unknown_host_name_refused)
{
	teardown();
	setup_with("control_socket: /tmp/x.sock\npeers:\n  - host_name: other\n");
	send_sccrq(false);
	cr_assert_eq(last(), L2TP_MSG_STOPCCN);
	cr_assert_eq(r.result.result, L2TP_STOPCCN_NOT_AUTHORIZED);
	cr_assert_eq(h.stats.tunnels_refused_peer, 1);
	cr_assert_eq(h.ep.stats.tunnels_established, 0);
}

Test(lnsd_tunnel, retransmitted_sccrq_does_not_make_a_second_tunnel)
{
	send_sccrq(true);
	cr_assert_eq(last(), L2TP_MSG_SCCRP);
	tid = r.assigned_tunnel_id;
	unsigned before = nout;
	tid = 0;
	feed_raw(0, secret); /* same Ns 0: a duplicate */
	cr_assert_eq(table_count(&h.ep.tunnels), 1);
	cr_assert_eq(got(nout - 1), L2TP_MSG_ZLB, "a duplicate is acknowledged");
	cr_assert_gt(nout, before);
}

Test(lnsd_tunnel, unknown_mandatory_avp_in_session_message_gives_cdn)
{
	bring_up();
	peer_icrq_unknown_avp(9, true);
	cr_assert_eq(last(), L2TP_MSG_CDN);
	cr_assert_eq(r.session_id, 9);
	cr_assert_eq(r.result.result, L2TP_CDN_GENERAL_ERROR);
	cr_assert_eq(r.result.error, L2TP_ERR_UNKNOWN_MANDATORY);
	cr_assert_eq(table_count(&h.ep.sessions), 0);
	cr_assert_eq(l2tp_tunnel_find(&h.ep, tid)->state, LNSD_T_ESTABLISHED);
}

Test(lnsd_tunnel, no_secret_peer_by_host_name)
{
	teardown(); /* replace the suite's config */
	setup_with("control_socket: /tmp/x.sock\npeers:\n  - host_name: lac1\n");
	send_sccrq(false);
	cr_assert_eq(last(), L2TP_MSG_SCCRP);
	cr_assert_not(r.avps & L2TP_AVP_BIT(L2TP_AVP_CHALLENGE));
	tid = r.assigned_tunnel_id;
	msg_init(L2TP_MSG_SCCCN, 0);
	feed();
	struct l2tp_tunnel *t = l2tp_tunnel_find(&h.ep, tid);
	cr_assert(t && t->state == LNSD_T_ESTABLISHED && !t->authenticated);
}

/* hide_avps: lnsd's SCCRP carries a Random Vector and hidden AVPs that decode with the secret
 * (and only with it). */
Test(lnsd_tunnel, hidden_avps_in_sccrp)
{
	teardown();
	setup_with("control_socket: /tmp/x.sock\n"
		   "peers:\n  - address: 192.0.2.1\n    secret: s3cret\n    hide_avps: true\n");
	send_sccrq(true);
	cr_assert_eq(last(), L2TP_MSG_SCCRP);
	cr_assert(r.avps & L2TP_AVP_BIT(L2TP_AVP_RANDOM_VECTOR));
	cr_assert_neq(r.assigned_tunnel_id, 0);
	struct l2tp_msg *plain = calloc(1, sizeof(*plain));
	cr_assert_eq(l2tp_msg_decode(out[nout - 1].buf, out[nout - 1].len, NULL, plain), -ENOKEY);
	free(plain);
}

/* SCCRQ/SCCRP/SCCCN without authentication for the LAC at `peer`. */
static void noauth_up(void)
{
	tid = 0;
	peer_ns = peer_nr = 0;
	send_sccrq(false);
	cr_assert_eq(last(), L2TP_MSG_SCCRP);
	tid = r.assigned_tunnel_id;
	msg_init(L2TP_MSG_SCCCN, 0);
	feed();
	cr_assert_eq(l2tp_tunnel_find(&h.ep, tid)->state, LNSD_T_ESTABLISHED);
}

/* Many tunnels: two LACs (accept_any), the same LAC session ids on both, kept apart. */
Test(lnsd_tunnel, two_lacs_two_tunnels)
{
	teardown();
	setup_with("control_socket: /tmp/x.sock\naccept_any: true\n");
	noauth_up();
	uint16_t t1 = tid, s1 = call(11, "111"), ns1 = peer_ns, nr1 = peer_nr;
	struct roam_sockaddr lac1 = peer;
	roam_sockaddr_parse("192.0.2.2:1701", 1701, &peer);
	noauth_up();
	uint16_t t2 = tid, s2 = call(11, "222");
	cr_assert_neq(t1, t2);
	cr_assert_eq(table_count(&h.ep.tunnels), 2);
	cr_assert_eq(table_count(&h.ep.sessions), 2);
	cr_assert_str_eq(lnsd_session_of(l2tp_session_find(&h.ep, t1, s1))->calling, "111");
	cr_assert_str_eq(lnsd_session_of(l2tp_session_find(&h.ep, t2, s2))->calling, "222");
	/* StopCCN on the first tunnel leaves the second alone. */
	peer = lac1;
	tid = t1;
	peer_ns = ns1;
	peer_nr = nr1;
	msg_init(L2TP_MSG_STOPCCN, 0);
	m.avps = L2TP_AVP_BIT(L2TP_AVP_RESULT_CODE) | L2TP_AVP_BIT(L2TP_AVP_ASSIGNED_TUNNEL_ID);
	m.result.result = L2TP_STOPCCN_CLEAR;
	m.assigned_tunnel_id = 77;
	feed();
	cr_assert_null(l2tp_session_find(&h.ep, t1, s1));
	cr_assert_not_null(l2tp_session_find(&h.ep, t2, s2));
	cr_assert_eq(l2tp_tunnel_find(&h.ep, t2)->state, LNSD_T_ESTABLISHED);
}
