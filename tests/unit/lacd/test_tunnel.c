/* lacd's tunnel and session state machines on a fake clock (no sockets): lacd_call starts the
 * exchange, a scripted LNS (../common/l2tp_peer.h, lacd_harness.h: feed_lns acknowledges
 * everything lacd sent with the message it sends) answers through l2tp_ep_input, lacd's
 * datagrams are captured. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "../../../lac/lacd.h"
#include "roam/auth.h"

static struct lacd h;
#include "lacd_harness.h"

static void setup(void)
{
	lacd_start("tunnel:\n  idle_timeout: 5s\n  setup_timeout: 20s\n"
		   "lns:\n"
		   "  - min: \"1555*\"\n    address: 192.0.2.10\n"
		   "    secret: s3cret\n"
		   "  - min: \"15559999999\"\n    address: 192.0.2.20\n"
		   "  - min: \"155*\"\n    address: 192.0.2.30\n",
		   tx);
	peer_reset(&h.ep, "192.0.2.10:1701", 5000000); /* the scripted LNS */
}

static void teardown(void)
{
	lacd_core_destroy(&h);
	lacd_conf_free(&h.conf);
}

/* call for min; answers SCCRP (authenticated) when the tunnel is new. */
static struct lacd_session *place_call(const char *min)
{
	struct lacd_session *s = NULL;
	unsigned before = nout;
	cr_assert_eq(lacd_call(&h, min, NULL, now, &s), 0);
	if (count(L2TP_MSG_SCCRQ, before)) {
		cr_assert_eq(last(), L2TP_MSG_SCCRQ);
		cr_assert(roam_sockaddr_eq(&out[nout - 1].dst, &peer));
		cr_assert_eq(r.tunnel_id, 0);
		cr_assert(r.avps & L2TP_AVP_BIT(L2TP_AVP_CHALLENGE), "secret: Challenge in SCCRQ");
		tid = r.assigned_tunnel_id;
		uint8_t resp[16];
		cr_assert_eq(l2tp_challenge_response(L2TP_MSG_SCCRP, (const uint8_t *)secret,
						     strlen(secret), r.challenge.p, r.challenge.len,
						     resp), 0);
		before = nout;
		lns_send_sccrp("lns1", resp);
		cr_assert_eq(got(before), L2TP_MSG_SCCCN);
		cr_assert_eq(r.tunnel_id, LNS_TID);
		cr_assert_eq(l2tp_challenge_verify(L2TP_MSG_SCCCN, (const uint8_t *)secret,
						   strlen(secret), lns_challenge, 16,
						   r.challenge_response), 0);
	}
	cr_assert_eq(last(), L2TP_MSG_ICRQ);
	cr_assert_eq(r.tunnel_id, LNS_TID);
	char cn[32];
	cr_assert_eq(l2tp_bytes_to_str(&r.calling_number, cn, sizeof(cn)), 0);
	cr_assert_str_eq(cn, min);
	cr_assert_eq(s->s.state, LACD_S_WAIT_REPLY);
	uint16_t sid = r.assigned_session_id;
	cr_assert_eq(sid, s->s.id);
	msg_init(L2TP_MSG_ICRP, sid);
	m.avps = L2TP_AVP_BIT(L2TP_AVP_ASSIGNED_SESSION_ID);
	m.assigned_session_id = (uint16_t)(1000 + sid % 1000);
	feed_lns();
	cr_assert_eq(last(), L2TP_MSG_ICCN);
	cr_assert_eq(r.session_id, 1000 + sid % 1000);
	cr_assert(r.avps & L2TP_AVP_BIT(L2TP_AVP_TX_CONNECT_SPEED));
	cr_assert(r.avps & L2TP_AVP_BIT(L2TP_AVP_FRAMING_TYPE));
	cr_assert_eq(s->s.state, LACD_S_ESTABLISHED);
	return s;
}

TestSuite(lacd_tunnel, .init = setup, .fini = teardown);

Test(lacd_tunnel, calls_share_a_tunnel_and_idle_teardown)
{
	place_call("15550001");
	place_call("15550002");
	cr_assert_eq(table_count(&h.ep.tunnels), 1);
	cr_assert_eq(table_count(&h.ep.sessions), 2);
	cr_assert_eq(h.ep.stats.tunnels_authenticated, 1);
	cr_assert_eq(lacd_call(&h, "15550001", NULL, now, NULL), -EEXIST);

	cr_assert_eq(lacd_hangup(&h, "15550001", L2TP_CDN_ADMIN, now), 0);
	cr_assert_eq(last(), L2TP_MSG_CDN);
	cr_assert_eq(r.result.result, L2TP_CDN_ADMIN);
	cr_assert_eq(lacd_hangup(&h, "15550001", L2TP_CDN_ADMIN, now), -ENOENT);
	/* The LNS clears the other call. */
	struct lacd_session *s = lacd_session_by_min(&h, "15550002");
	cr_assert_not_null(s);
	msg_init(L2TP_MSG_CDN, s->s.id);
	m.avps = L2TP_AVP_BIT(L2TP_AVP_RESULT_CODE) | L2TP_AVP_BIT(L2TP_AVP_ASSIGNED_SESSION_ID);
	m.result.result = L2TP_CDN_ADMIN;
	m.assigned_session_id = 1234;
	feed_lns();
	cr_assert_eq(table_count(&h.ep.sessions), 0);
	cr_assert_eq(h.stats.sessions_closed_by_peer, 1);
	/* Acknowledge everything, then wait for the idle time. */
	msg_init(L2TP_MSG_ZLB, 0);
	feed_lns();
	unsigned before = nout;
	now += 4000;
	l2tp_ep_run_timers(&h.ep, now);
	cr_assert_eq(count(L2TP_MSG_STOPCCN, before), 0, "not before idle_timeout");
	now += 1500;
	l2tp_ep_run_timers(&h.ep, now);
	cr_assert_eq(count(L2TP_MSG_STOPCCN, before), 1);
	cr_assert_eq(r.result.result, L2TP_STOPCCN_CLEAR);
	cr_assert_eq(h.stats.tunnels_closed_idle, 1);
	/* A new call now needs a new tunnel. */
	before = nout;
	cr_assert_eq(lacd_call(&h, "15550003", NULL, now, NULL), 0);
	cr_assert_eq(count(L2TP_MSG_SCCRQ, before), 1);
	cr_assert_eq(table_count(&h.ep.tunnels), 2);
	/* The old one is freed after lingering. */
	msg_init(L2TP_MSG_ZLB, 0);
	feed_lns();
	now += 32000;
	l2tp_ep_run_timers(&h.ep, now);
	cr_assert_null(l2tp_tunnel_find(&h.ep, tid));
}

Test(lacd_tunnel, new_call_cancels_idle_timer)
{
	place_call("15550001");
	lacd_hangup(&h, "15550001", L2TP_CDN_ADMIN, now);
	msg_init(L2TP_MSG_ZLB, 0); /* the LNS acknowledges everything */
	feed_lns();
	now += 3000;
	l2tp_ep_run_timers(&h.ep, now);
	place_call("15550002"); /* same tunnel, no SCCRQ */
	unsigned before = nout;
	now += 10000;
	l2tp_ep_run_timers(&h.ep, now);
	cr_assert_eq(count(L2TP_MSG_STOPCCN, before), 0);
	cr_assert_eq(table_count(&h.ep.tunnels), 1);
}

Test(lacd_tunnel, wrong_sccrp_response_refused)
{
	struct lacd_session *s;
	cr_assert_eq(lacd_call(&h, "15550001", NULL, now, &s), 0);
	cr_assert_eq(last(), L2TP_MSG_SCCRQ);
	tid = r.assigned_tunnel_id;
	uint8_t wrong[16];
	memset(wrong, 0x11, sizeof(wrong));
	lns_send_sccrp("evil", wrong);
	cr_assert_eq(last(), L2TP_MSG_STOPCCN);
	cr_assert_eq(r.tunnel_id, LNS_TID);
	cr_assert_eq(r.result.result, L2TP_STOPCCN_NOT_AUTHORIZED);
	cr_assert_eq(h.ep.stats.tunnels_auth_failed, 1);
	cr_assert_eq(h.ep.stats.tunnels_established, 0);
	cr_assert_null(lacd_session_by_min(&h, "15550001"));
	cr_assert_eq(h.stats.calls_failed, 1);
	cr_assert_eq(count(L2TP_MSG_ICRQ, 0), 0);
}

Test(lacd_tunnel, lns_without_challenge_refused_when_secret)
{
	cr_assert_eq(lacd_call(&h, "15550001", NULL, now, NULL), 0);
	tid = (last(), r.assigned_tunnel_id);
	lns_send_sccrp("lns", NULL);
	cr_assert_eq(last(), L2TP_MSG_STOPCCN);
	cr_assert_eq(r.result.result, L2TP_STOPCCN_NOT_AUTHORIZED);
}

Test(lacd_tunnel, routes_from_static_table)
{
	cr_assert_null(lacd_conf_route(&h.conf, "2999"));
	cr_assert_eq(lacd_call(&h, "2999", NULL, now, NULL), -EHOSTUNREACH);
	cr_assert_eq(h.stats.calls_refused_no_lns, 1);
	cr_assert_eq(lacd_call(&h, "12a4", NULL, now, NULL), -EINVAL);
	const struct lacd_conf_lns *l = lacd_conf_route(&h.conf, "15559999999");
	cr_assert_not_null(l);
	cr_assert_eq(l->address.v4.s_addr, htonl(0xc0000214), "exact entry wins");
	l = lacd_conf_route(&h.conf, "15551");
	cr_assert_eq(l->address.v4.s_addr, htonl(0xc000020a), "longest prefix wins");
	l = lacd_conf_route(&h.conf, "1559");
	cr_assert_eq(l->address.v4.s_addr, htonl(0xc000021e));
}

Test(lacd_tunnel, unreachable_lns_fails_calls)
{
	cr_assert_eq(lacd_call(&h, "15550001", NULL, now, NULL), 0);
	cr_assert_eq(lacd_call(&h, "15550002", NULL, now, NULL), 0);
	cr_assert_eq(count(L2TP_MSG_SCCRQ, 0), 1, "one tunnel for both calls");
	for (int i = 0; i < 40; i++) {
		now += 1000;
		l2tp_ep_run_timers(&h.ep, now);
	}
	cr_assert_geq(count(L2TP_MSG_SCCRQ, 0), 5, "retransmitted with backoff");
	cr_assert_eq(table_count(&h.ep.tunnels), 0);
	cr_assert_eq(table_count(&h.ep.sessions), 0);
	cr_assert_eq(h.stats.calls_failed, 2);
	cr_assert_eq(h.ep.stats.tunnels_timed_out, 1);
}

Test(lacd_tunnel, stopccn_from_lns_clears_calls)
{
	place_call("15550001");
	msg_init(L2TP_MSG_STOPCCN, 0);
	m.avps = L2TP_AVP_BIT(L2TP_AVP_RESULT_CODE) | L2TP_AVP_BIT(L2TP_AVP_ASSIGNED_TUNNEL_ID);
	m.result.result = L2TP_STOPCCN_SHUTTING_DOWN;
	m.assigned_tunnel_id = LNS_TID;
	feed_lns();
	cr_assert_eq(table_count(&h.ep.sessions), 0);
	struct l2tp_tunnel *t = l2tp_tunnel_find(&h.ep, tid);
	cr_assert(t && t->state == LACD_T_CLOSING && t->stop_by_peer);
	/* A new call for that LNS does not use the closing tunnel. */
	unsigned before = nout;
	cr_assert_eq(lacd_call(&h, "15550001", NULL, now, NULL), 0);
	cr_assert_eq(count(L2TP_MSG_SCCRQ, before), 1);
}

Test(lacd_tunnel, unknown_mandatory_avp_in_cdn_path)
{
	struct lacd_session *s = place_call("15550001");
	uint16_t sid = s->s.id;
	msg_init(L2TP_MSG_ICRP, sid); /* unexpected now, and with an unknown M AVP */
	m.avps = L2TP_AVP_BIT(L2TP_AVP_ASSIGNED_SESSION_ID);
	m.assigned_session_id = 7;
	m.n_unknown = 1;
	m.unknown[0] = (struct l2tp_avp_raw){ .vendor = 311, .type = 1, .mandatory = 1 };
	feed_lns();
	cr_assert_eq(last(), L2TP_MSG_CDN);
	cr_assert_eq(r.result.result, L2TP_CDN_GENERAL_ERROR);
	cr_assert_eq(r.result.error, L2TP_ERR_UNKNOWN_MANDATORY);
	cr_assert_null(lacd_session_by_min(&h, "15550001"));
	cr_assert_eq(h.ep.stats.unknown_mandatory_avp, 1);
}

Test(lacd_tunnel, drops_counted)
{
	place_call("15550001");
	unsigned before = nout;
	uint8_t junk[8] = { 0xc8, 0x02, 0, 8 };
	l2tp_ep_input(&h.ep, junk, sizeof(junk), &peer, NULL, now);
	cr_assert_eq(h.ep.stats.drop_malformed, 1);
	msg_init(L2TP_MSG_SCCRQ, 0);
	m.tunnel_id = 0;
	m.avps = L2TP_AVP_BIT(L2TP_AVP_PROTOCOL_VERSION) | L2TP_AVP_BIT(L2TP_AVP_HOST_NAME) |
		 L2TP_AVP_BIT(L2TP_AVP_FRAMING_CAP) | L2TP_AVP_BIT(L2TP_AVP_ASSIGNED_TUNNEL_ID);
	m.assigned_tunnel_id = 3;
	m.proto_ver = 1;
	l2tp_bytes_str(&m.host_name, "x");
	feed_lns();
	cr_assert_eq(h.stats.drop_tunnel_id_zero, 1);
	struct roam_sockaddr other;
	roam_sockaddr_parse("192.0.2.77:1701", 1701, &other);
	uint8_t buf[64];
	struct wbuf w;
	msg_init(L2TP_MSG_HELLO, 0);
	wbuf_init_fixed(&w, buf, sizeof(buf));
	cr_assert_eq(l2tp_msg_encode(&w, &m, NULL), 0);
	l2tp_ep_input(&h.ep, buf, w.len, &other, NULL, now);
	cr_assert_eq(h.ep.stats.drop_wrong_peer, 1);
	cr_assert_eq(nout, before);
	cr_assert_eq(table_count(&h.ep.sessions), 1);
}

/* Many tunnels: calls routed to three LNSs make three tunnels, one SCCRQ to each. */
Test(lacd_tunnel, one_tunnel_per_lns)
{
	struct lacd_session *a, *b, *c;
	cr_assert_eq(lacd_call(&h, "15550001", NULL, now, &a), 0);
	cr_assert_eq(lacd_call(&h, "15559999999", NULL, now, &b), 0);
	cr_assert_eq(lacd_call(&h, "1559", NULL, now, &c), 0);
	cr_assert_eq(lacd_call(&h, "15550002", NULL, now, NULL), 0);
	cr_assert_eq(table_count(&h.ep.tunnels), 3);
	cr_assert_eq(count(L2TP_MSG_SCCRQ, 0), 3);
	cr_assert_eq(a->s.t, lacd_session_by_min(&h, "15550002")->s.t);
	cr_assert_neq(a->s.t, b->s.t);
	cr_assert_neq(b->s.t, c->s.t);
	struct roam_sockaddr want;
	roam_sockaddr_parse("192.0.2.20:1701", 1701, &want);
	cr_assert(roam_sockaddr_eq(&b->s.t->peer, &want));
	roam_sockaddr_parse("192.0.2.30:1701", 1701, &want);
	cr_assert(roam_sockaddr_eq(&c->s.t->peer, &want));
	/* An explicit lns= override. */
	struct lacd_session *d;
	roam_sockaddr_parse("198.51.100.1:1701", 1701, &want);
	cr_assert_eq(lacd_call(&h, "2000", &want, now, &d), 0);
	cr_assert(roam_sockaddr_eq(&d->s.t->peer, &want));
	cr_assert_eq(d->s.t->secret_len, 0);
}

/* A burst of calls larger than the channel's queue: the messages wait in the tunnel's backlog,
 * in order, and all go out as acknowledgements make room; nothing is lost. */
Test(lacd_tunnel, burst_of_calls_backlogged_not_lost)
{
	place_call("15550000");
	char min[16];
	for (int i = 1; i <= 150; i++) {
		snprintf(min, sizeof(min), "1555%04d", i);
		cr_assert_eq(lacd_call(&h, min, NULL, now, NULL), 0);
	}
	struct l2tp_tunnel *t = l2tp_tunnel_find(&h.ep, tid);
	cr_assert_gt(t->nbacklog, 0, "more than the channel holds");
	cr_assert_gt(h.ep.stats.tx_backlogged, 0);
	for (int i = 0; i < 400 && (t->nbacklog || !l2tp_ctrl_idle(&t->ctrl)); i++) {
		msg_init(L2TP_MSG_ZLB, 0); /* the LNS acknowledges what it got */
		feed_lns();
		now += 10;
		l2tp_ep_run_timers(&h.ep, now);
	}
	cr_assert_eq(t->nbacklog, 0);
	cr_assert_eq(count(L2TP_MSG_ICRQ, 0), 151, "every ICRQ sent exactly once");
	cr_assert_eq(h.ep.stats.tx_errors, 0);
	/* Ns strictly increasing across the ICRQs: order kept. */
	uint16_t prev = 0;
	int first = 1;
	for (unsigned i = 0; i < nout; i++) {
		if (got(i) != L2TP_MSG_ICRQ)
			continue;
		if (!first)
			cr_assert(l2tp_seq_lt(prev, r.ns));
		prev = r.ns;
		first = 0;
	}
}
