/* The shared L2TP tunnel (roam/l2tp_tunnel.h) on a fake clock, no sockets: a minimal responder
 * role (accepts any SCCRQ, authenticates with one secret, accepts every ICRQ) drives the
 * endpoint; a scripted peer feeds encoded messages to l2tp_ep_input and reads what goes out
 * through ep.tx (l2tp_peer.h).  What is role logic (peer matching, calls) is tested in tests/unit/lnsd and
 * tests/unit/lacd. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "roam/auth.h"
#include "roam/l2tp_tunnel.h"
#include "l2tp_peer.h"

static struct l2tp_endpoint ep;
static struct l2tp_tunnel_conf conf;
static uint16_t vendor = L2TP_HO_VENDOR_DEFAULT;
static unsigned nfreed;            /* sessions freed through the role */

/* ---- the fake responder role ---- */

static const char *role_new_tunnel(void *arg, const uint8_t *pkt, size_t len,
				   const struct roam_sockaddr *src, const struct roam_ipaddr *dst,
				   uint64_t t_now, struct l2tp_tunnel **out_t)
{
	(void)arg;
	struct l2tp_codec_opts o;
	l2tp_ep_codec_opts(&ep, NULL, &o);
	if (l2tp_msg_decode(pkt, len, &o, &ep.rx) < 0 || ep.rx.type != L2TP_MSG_SCCRQ)
		return "not an SCCRQ";
	if (l2tp_tunnel_new(&ep, sizeof(struct l2tp_tunnel), src, dst,
			    ep.rx.assigned_tunnel_id, 0, (const uint8_t *)secret, strlen(secret),
			    false, t_now, out_t) < 0)
		return "no tunnel";
	return NULL;
}

static void role_tunnel_msg(void *arg, struct l2tp_tunnel *t, const struct l2tp_msg *msg,
			    uint64_t t_now)
{
	(void)arg;
	if (msg->type == L2TP_MSG_SCCRQ && t->state == 0) {
		l2tp_tunnel_set_host_name(t, msg);
		struct l2tp_msg *a = l2tp_ep_msg(&ep, L2TP_MSG_SCCRP, 0);
		a->avps = L2TP_AVP_BIT(L2TP_AVP_PROTOCOL_VERSION) |
			  L2TP_AVP_BIT(L2TP_AVP_FRAMING_CAP) | L2TP_AVP_BIT(L2TP_AVP_HOST_NAME) |
			  L2TP_AVP_BIT(L2TP_AVP_ASSIGNED_TUNNEL_ID);
		a->proto_ver = 1;
		a->framing_cap = 3;
		l2tp_bytes_str(&a->host_name, "ep");
		a->assigned_tunnel_id = t->id;
		cr_assert_eq(l2tp_tunnel_answer_challenge(t, msg, a), 0);
		cr_assert_eq(l2tp_tunnel_new_challenge(t), 0);
		l2tp_bytes_set(&a->challenge, t->challenge, sizeof(t->challenge));
		a->avps |= L2TP_AVP_BIT(L2TP_AVP_CHALLENGE);
		t->state = L2TP_TUN_SETUP;
		l2tp_tunnel_send(t, a, t_now);
		return;
	}
	if (msg->type == L2TP_MSG_SCCCN && t->state == L2TP_TUN_SETUP) {
		if (l2tp_tunnel_verify_response(t, L2TP_MSG_SCCCN, msg, t_now) < 0)
			return;
		t->authenticated = true;
		l2tp_tunnel_established(t, t_now);
		return;
	}
	ep.stats.fsm_errors++;
	l2tp_tunnel_stop(t, L2TP_STOPCCN_FSM_ERROR, 0, "unexpected", t_now);
}

static void role_session_close(void *arg, struct l2tp_session *s, uint16_t result,
			       uint16_t error, const char *msg, uint64_t t_now)
{
	(void)arg;
	l2tp_session_send_cdn(s->t, s->id, s->peer_id, result, error, msg, t_now);
	l2tp_session_free(s);
}

static void role_session_msg(void *arg, struct l2tp_tunnel *t, struct l2tp_session *s,
			     const struct l2tp_msg *msg, uint64_t t_now)
{
	if (msg->type == L2TP_MSG_ICRQ) {
		cr_assert_null(s);
		s = calloc(1, sizeof(*s));
		cr_assert_not_null(s);
		s->id = l2tp_session_alloc_id(t);
		cr_assert_neq(s->id, 0);
		s->peer_id = msg->assigned_session_id;
		s->state = 1;
		s->created = t_now;
		s->deadline = t_now + conf.setup_timeout;
		cr_assert_eq(l2tp_session_add(t, s), 0);
		struct l2tp_msg *a = l2tp_ep_msg(&ep, L2TP_MSG_ICRP, s->peer_id);
		a->avps = L2TP_AVP_BIT(L2TP_AVP_ASSIGNED_SESSION_ID);
		a->assigned_session_id = s->id;
		l2tp_tunnel_send(t, a, t_now);
		return;
	}
	cr_assert_not_null(s, "the endpoint drops messages for unknown sessions");
	cr_assert_eq(s, l2tp_session_find(&ep, t->id, msg->session_id));
	if (msg->type == L2TP_MSG_ICCN) {
		s->state = 2;
		s->deadline = 0;
	} else if (msg->type == L2TP_MSG_CDN) {
		l2tp_session_free(s);
	} else {
		role_session_close(arg, s, L2TP_CDN_GENERAL_ERROR, 0, "unexpected", t_now);
	}
}

static void role_session_free(void *arg, struct l2tp_session *s)
{
	(void)arg;
	nfreed++;
	free(s);
}

static const char *const tstates[] = { "idle", "setup", "established", "closing" };
static const char *const sstates[] = { "idle", "wait", "established" };

static const struct l2tp_endpoint_ops ops = {
	.new_tunnel = role_new_tunnel,
	.tunnel_msg = role_tunnel_msg,
	.session_msg = role_session_msg,
	.session_close = role_session_close,
	.session_free = role_session_free,
	.session_setup_msg = "ICCN",
	.tunnel_states = tstates,
	.session_states = sstates,
	.nsession_states = 3,
};

/* ---- the scripted peer ---- */

static void setup(void)
{
	memset(&ep, 0, sizeof(ep));
	conf = (struct l2tp_tunnel_conf){ .hello_interval = 60000, .receive_window = 8,
					  .retransmit_initial = 1000, .retransmit_max = 8000,
					  .max_retries = 5, .linger = 31000,
					  .setup_timeout = 20000, .max_tunnels = 16,
					  .max_sessions = 100 };
	ep.ops = &ops;
	ep.conf = &conf;
	ep.ho_vendor = &vendor;
	ep.tx = tx;
	cr_assert_eq(l2tp_ep_init(&ep), 0);
	nfreed = 0;
	peer_reset(&ep, "192.0.2.1:1701", 1000000);
	peer_check_dst = true;
}

static void teardown(void)
{
	l2tp_ep_destroy(&ep);
	l2tp_ep_destroy(&ep); /* safe twice */
}

static uint8_t peer_challenge[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };

static void send_sccrq(void)
{
	msg_init(L2TP_MSG_SCCRQ, 0);
	m.tunnel_id = 0;
	m.avps = L2TP_AVP_BIT(L2TP_AVP_PROTOCOL_VERSION) | L2TP_AVP_BIT(L2TP_AVP_HOST_NAME) |
		 L2TP_AVP_BIT(L2TP_AVP_FRAMING_CAP) | L2TP_AVP_BIT(L2TP_AVP_ASSIGNED_TUNNEL_ID) |
		 L2TP_AVP_BIT(L2TP_AVP_CHALLENGE);
	m.proto_ver = 1;
	l2tp_bytes_str(&m.host_name, "peer1");
	m.framing_cap = 3;
	m.assigned_tunnel_id = 77;
	l2tp_bytes_set(&m.challenge, peer_challenge, sizeof(peer_challenge));
	feed();
	cr_assert_eq(last(), L2TP_MSG_SCCRP);
	cr_assert_eq(r.tunnel_id, 77);
	tid = r.assigned_tunnel_id;
}

/* SCCRQ / SCCRP / SCCCN with authentication both ways: the tunnel is established. */
static struct l2tp_tunnel *bring_up(void)
{
	send_sccrq();
	peer_scccn_auth(peer_challenge, "the response helper answers our challenge");
	struct l2tp_tunnel *t = l2tp_tunnel_find(&ep, tid);
	cr_assert_not_null(t);
	cr_assert_eq(t->state, L2TP_TUN_ESTABLISHED);
	cr_assert(t->authenticated);
	cr_assert_str_eq(t->host_name, "peer1");
	cr_assert_eq(ep.stats.tunnels_established, 1);
	return t;
}

/* ICRQ + ICCN for the peer's session psid; returns our session id. */
static uint16_t call(uint16_t psid)
{
	msg_init(L2TP_MSG_ICRQ, 0);
	m.avps = L2TP_AVP_BIT(L2TP_AVP_ASSIGNED_SESSION_ID) | L2TP_AVP_BIT(L2TP_AVP_CALL_SERIAL);
	m.assigned_session_id = psid;
	uint16_t sid = peer_call(psid);
	struct l2tp_session *s = l2tp_session_find(&ep, tid, sid);
	cr_assert_not_null(s);
	cr_assert_eq(s->state, 2);
	return sid;
}

TestSuite(l2tp_tunnel, .init = setup, .fini = teardown);

Test(l2tp_tunnel, wrong_challenge_response_gives_stopccn_4)
{
	send_sccrq();
	msg_init(L2TP_MSG_SCCCN, 0);
	m.avps = L2TP_AVP_BIT(L2TP_AVP_CHALLENGE_RESPONSE);
	memset(m.challenge_response, 0x5a, 16);
	feed();
	cr_assert_eq(last(), L2TP_MSG_STOPCCN);
	cr_assert_eq(r.result.result, L2TP_STOPCCN_NOT_AUTHORIZED);
	cr_assert_eq(ep.stats.tunnels_auth_failed, 1);
	cr_assert_eq(ep.stats.tunnels_established, 0);
	struct l2tp_tunnel *t = l2tp_tunnel_find(&ep, tid);
	cr_assert(t && t->state == L2TP_TUN_CLOSING && !t->stop_by_peer);
}

/* StopCCN from the peer: sessions cleared without CDN, state kept 31 s to acknowledge it. */
Test(l2tp_tunnel, stopccn_received_then_linger)
{
	bring_up();
	call(11);
	call(12);
	cr_assert_eq(table_count(&ep.sessions), 2);
	unsigned before = nout;
	msg_init(L2TP_MSG_STOPCCN, 0);
	m.avps = L2TP_AVP_BIT(L2TP_AVP_ASSIGNED_TUNNEL_ID) | L2TP_AVP_BIT(L2TP_AVP_RESULT_CODE);
	m.assigned_tunnel_id = 77;
	m.result.result = L2TP_STOPCCN_CLEAR;
	feed();
	cr_assert_eq(count(L2TP_MSG_CDN, before), 0, "no CDN for the sessions of a stopped tunnel");
	cr_assert_eq(table_count(&ep.sessions), 0);
	cr_assert_eq(nfreed, 2);
	struct l2tp_tunnel *t = l2tp_tunnel_find(&ep, tid);
	cr_assert(t && t->state == L2TP_TUN_CLOSING && t->stop_by_peer);
	cr_assert_eq(t->close_result, L2TP_STOPCCN_CLEAR);
	now += 300;
	l2tp_ep_run_timers(&ep, now);
	cr_assert_eq(got(nout - 1), L2TP_MSG_ZLB, "the StopCCN is acknowledged");
	now += 30000;
	l2tp_ep_run_timers(&ep, now);
	cr_assert_not_null(l2tp_tunnel_find(&ep, tid), "still lingering before 31 s");
	now += 1000;
	l2tp_ep_run_timers(&ep, now);
	cr_assert_null(l2tp_tunnel_find(&ep, tid));
	cr_assert_eq(ep.stats.tunnels_closed_by_peer, 1);
	cr_assert_eq(ep.stats.tunnels_freed, 1);
}

/* Moved from tests/unit/lnsd: sccrp_retransmitted_then_tunnel_dies. */
Test(l2tp_tunnel, setup_reply_retransmitted_then_tunnel_dies)
{
	send_sccrq();
	unsigned sccrp = 0;
	for (int i = 0; i < 60; i++) {
		now += 1000;
		l2tp_ep_run_timers(&ep, now);
	}
	for (unsigned i = 0; i < nout; i++)
		sccrp += got(i) == L2TP_MSG_SCCRP;
	cr_assert_eq(sccrp, 6, "1 + 5 retransmissions, got %u", sccrp);
	cr_assert_null(l2tp_tunnel_find(&ep, tid));
	cr_assert_eq(ep.stats.tunnels_timed_out, 1);
}

/* Moved from tests/unit/lnsd: unknown_mandatory_avp_in_session_message_gives_cdn (here on
 * an existing session; a refused ICRQ is the role's, still tested in tests/unit/lnsd). */
Test(l2tp_tunnel, unknown_mandatory_avp_in_session_message_gives_cdn)
{
	bring_up();
	uint16_t sid = call(9);
	msg_init(L2TP_MSG_ICCN, sid);
	m.avps = L2TP_AVP_BIT(L2TP_AVP_TX_CONNECT_SPEED) | L2TP_AVP_BIT(L2TP_AVP_FRAMING_TYPE);
	m.n_unknown = 1;
	m.unknown[0] = (struct l2tp_avp_raw){ .vendor = 9, .type = 7, .mandatory = 1 };
	feed();
	cr_assert_eq(last(), L2TP_MSG_CDN);
	cr_assert_eq(r.session_id, 9);
	cr_assert_eq(r.assigned_session_id, sid);
	cr_assert_eq(r.result.result, L2TP_CDN_GENERAL_ERROR);
	cr_assert_eq(r.result.error, L2TP_ERR_UNKNOWN_MANDATORY);
	cr_assert_eq(table_count(&ep.sessions), 0);
	cr_assert_eq(ep.stats.unknown_mandatory_avp, 1);
	cr_assert_eq(l2tp_tunnel_find(&ep, tid)->state, L2TP_TUN_ESTABLISHED);
}

/* Moved from tests/unit/lnsd. */
Test(l2tp_tunnel, unknown_avp_m_clear_ignored)
{
	bring_up();
	peer_icrq_unknown_avp(9, false);
	cr_assert_eq(last(), L2TP_MSG_ICRP);
	cr_assert_eq(table_count(&ep.sessions), 1);
	cr_assert_eq(ep.stats.unknown_mandatory_avp, 0);
}

/* Moved from tests/unit/lnsd. */
Test(l2tp_tunnel, unknown_mandatory_avp_in_tunnel_message_gives_stopccn)
{
	bring_up();
	call(11);
	msg_init(L2TP_MSG_HELLO, 0);
	m.n_unknown = 1;
	m.unknown[0] = (struct l2tp_avp_raw){ .vendor = 0, .type = 200, .mandatory = 1 };
	feed();
	cr_assert_eq(last(), L2TP_MSG_STOPCCN);
	cr_assert_eq(r.result.result, L2TP_STOPCCN_GENERAL_ERROR);
	cr_assert_eq(r.result.error, L2TP_ERR_UNKNOWN_MANDATORY);
	cr_assert_eq(table_count(&ep.sessions), 0);
}

/* An unknown message type: with M set StopCCN 2/8, with M clear ignored (RFC 2661 4.2). */
Test(l2tp_tunnel, unknown_message_type)
{
	bring_up();
	/* The encoder always sets M on the Message Type AVP: clear it in the bytes. */
	uint8_t buf[64];
	struct wbuf w;
	msg_init(13, 0);
	m.ns = peer_ns++;
	m.nr = peer_nr;
	wbuf_init_fixed(&w, buf, sizeof(buf));
	cr_assert_eq(l2tp_msg_encode(&w, &m, NULL), 0);
	cr_assert(buf[L2TP_CTRL_HDR_LEN] & 0x80, "the Message Type AVP's M bit");
	buf[L2TP_CTRL_HDR_LEN] &= 0x7f;
	l2tp_ep_input(&ep, buf, w.len, &peer, NULL, now);
	cr_assert_eq(ep.stats.rx_unknown_ignored, 1);
	cr_assert_eq(l2tp_tunnel_find(&ep, tid)->state, L2TP_TUN_ESTABLISHED);
	msg_init(13, 0);
	m.type_mandatory = 1;
	feed();
	cr_assert_eq(last(), L2TP_MSG_STOPCCN);
	cr_assert_eq(r.result.error, L2TP_ERR_UNKNOWN_MANDATORY);
}

/* Moved from tests/unit/lnsd. */
Test(l2tp_tunnel, ocrq_refused_with_cdn_5)
{
	bring_up();
	msg_init(L2TP_MSG_OCRQ, 0);
	m.avps = L2TP_AVP_BIT(L2TP_AVP_ASSIGNED_SESSION_ID) | L2TP_AVP_BIT(L2TP_AVP_CALL_SERIAL) |
		 L2TP_AVP_BIT(L2TP_AVP_MIN_BPS) | L2TP_AVP_BIT(L2TP_AVP_MAX_BPS) |
		 L2TP_AVP_BIT(L2TP_AVP_BEARER_TYPE) | L2TP_AVP_BIT(L2TP_AVP_FRAMING_TYPE) |
		 L2TP_AVP_BIT(L2TP_AVP_CALLED_NUMBER);
	m.assigned_session_id = 33;
	l2tp_bytes_str(&m.called_number, "123");
	feed();
	cr_assert_eq(last(), L2TP_MSG_CDN);
	cr_assert_eq(r.session_id, 33);
	cr_assert_eq(r.result.result, L2TP_CDN_NO_FACILITIES_PERM);
	cr_assert_eq(ep.stats.ocrq_refused, 1);
	cr_assert_eq(table_count(&ep.sessions), 0);
}

/* Moved from tests/unit/lnsd. */
Test(l2tp_tunnel, malformed_and_foreign_datagrams_dropped_and_counted)
{
	bring_up();
	unsigned before = nout;
	uint8_t junk[20] = { 0xc8, 0x02, 0x00, 0x30 }; /* Length 48 != 20 */
	l2tp_ep_input(&ep, junk, sizeof(junk), &peer, NULL, now);
	cr_assert_eq(ep.stats.drop_malformed, 1);
	uint8_t v3[12] = { 0xc8, 0x03, 0x00, 0x0c };
	l2tp_ep_input(&ep, v3, sizeof(v3), &peer, NULL, now);
	cr_assert_eq(ep.stats.drop_bad_version, 1);
	/* Our tunnel id from another address. */
	struct roam_sockaddr other;
	roam_sockaddr_parse("192.0.2.99:1701", 1701, &other);
	msg_init(L2TP_MSG_HELLO, 0);
	uint8_t buf[256];
	struct wbuf w;
	wbuf_init_fixed(&w, buf, sizeof(buf));
	m.ns = peer_ns;
	cr_assert_eq(l2tp_msg_encode(&w, &m, NULL), 0);
	l2tp_ep_input(&ep, buf, w.len, &other, NULL, now);
	cr_assert_eq(ep.stats.drop_wrong_peer, 1);
	/* ... and from another port of the right address (only an initiator in set-up allows
	 * that, RFC 2661 8.1). */
	struct roam_sockaddr port2;
	roam_sockaddr_parse("192.0.2.1:1702", 1701, &port2);
	l2tp_ep_input(&ep, buf, w.len, &port2, NULL, now);
	cr_assert_eq(ep.stats.drop_wrong_peer, 2);
	/* An unknown tunnel id. */
	buf[4] ^= 0xff;
	l2tp_ep_input(&ep, buf, w.len, &peer, NULL, now);
	cr_assert_eq(ep.stats.drop_unknown_tunnel, 1);
	/* Data for an unknown session. */
	uint8_t data[8] = { 0x00, 0x02, 0x12, 0x34, 0x56, 0x78, 0xff, 0x03 };
	l2tp_ep_input(&ep, data, sizeof(data), &peer, NULL, now);
	cr_assert_eq(ep.stats.drop_unknown_session, 1);
	cr_assert_eq(nout, before, "nothing answers a dropped datagram");
	cr_assert_eq(l2tp_tunnel_find(&ep, tid)->state, L2TP_TUN_ESTABLISHED);
	/* A NULL role answer for tunnel id 0 on a non-SCCRQ is the role's drop. */
	msg_init(L2TP_MSG_HELLO, 0);
	m.tunnel_id = 0;
	wbuf_init_fixed(&w, buf, sizeof(buf));
	cr_assert_eq(l2tp_msg_encode(&w, &m, NULL), 0);
	l2tp_ep_input(&ep, buf, w.len, &peer, NULL, now);
	cr_assert_eq(table_count(&ep.tunnels), 1);
	cr_assert_eq(nout, before);
}

/* Moved from tests/unit/lnsd. */
Test(l2tp_tunnel, hello_after_silence)
{
	bring_up();
	now += 300;
	l2tp_ep_run_timers(&ep, now); /* ZLB for SCCCN */
	unsigned before = nout;
	now += 59000;
	l2tp_ep_run_timers(&ep, now);
	cr_assert_eq(count(L2TP_MSG_HELLO, before), 0, "not before the interval");
	now += 1000;
	l2tp_ep_run_timers(&ep, now);
	cr_assert_gt(nout, before);
	cr_assert_eq(last(), L2TP_MSG_HELLO);
	cr_assert_eq(ep.stats.tx_msg[L2TP_MSG_HELLO], 1);
}

/* Moved from tests/unit/lnsd: iccn_timeout_clears_call. */
Test(l2tp_tunnel, session_setup_timeout_clears_call)
{
	bring_up();
	msg_init(L2TP_MSG_ICRQ, 0);
	m.avps = L2TP_AVP_BIT(L2TP_AVP_ASSIGNED_SESSION_ID) | L2TP_AVP_BIT(L2TP_AVP_CALL_SERIAL);
	m.assigned_session_id = 4;
	feed();
	cr_assert_eq(last(), L2TP_MSG_ICRP);
	/* The peer acknowledges but never connects. */
	msg_init(L2TP_MSG_ZLB, 0);
	feed();
	now += 21000;
	l2tp_ep_run_timers(&ep, now);
	cr_assert_eq(last(), L2TP_MSG_CDN);
	cr_assert_eq(r.result.result, L2TP_CDN_TIMEOUT);
	char msg[64];
	cr_assert_eq(l2tp_bytes_to_str(&r.result.msg, msg, sizeof(msg)), 0);
	cr_assert_str_eq(msg, "ICCN not received in time");
	cr_assert_eq(table_count(&ep.sessions), 0);
	cr_assert_eq(ep.stats.sessions_timed_out, 1);
}

/* Moved from tests/unit/lnsd. */
Test(l2tp_tunnel, stop_all_sends_stopccn)
{
	bring_up();
	call(11);
	l2tp_ep_stop_all(&ep, L2TP_STOPCCN_SHUTTING_DOWN, now);
	cr_assert_eq(last(), L2TP_MSG_STOPCCN);
	cr_assert_eq(r.result.result, L2TP_STOPCCN_SHUTTING_DOWN);
	cr_assert_eq(table_count(&ep.sessions), 0);
	cr_assert_eq(l2tp_ep_all_idle(&ep), 0, "StopCCN not yet acknowledged");
	msg_init(L2TP_MSG_ZLB, 0);
	feed();
	cr_assert_eq(l2tp_ep_all_idle(&ep), 1);
}

/* Moved from tests/unit/lnsd: a HELLO that is never acknowledged: its retransmissions run out
 * and the tunnel is torn down (regression: the HELLO timer used to re-arm in the past and
 * spin). */
Test(l2tp_tunnel, unanswered_hello_tears_down, .timeout = 10)
{
	bring_up();
	call(11);
	for (int i = 0; i < 200; i++) {
		now += 1000;
		l2tp_ep_run_timers(&ep, now);
	}
	cr_assert_eq(ep.stats.tx_msg[L2TP_MSG_HELLO], 1);
	cr_assert_null(l2tp_tunnel_find(&ep, tid));
	cr_assert_eq(ep.stats.tunnels_timed_out, 1);
	cr_assert_eq(nfreed, 1, "its session went with it");
}

/* Operator stop: StopCCN 1, the id must exist. */
Test(l2tp_tunnel, stop_by_id)
{
	bring_up();
	cr_assert_eq(l2tp_tunnel_stop_id(&ep, (uint16_t)(tid + 1), now), -ENOENT);
	cr_assert_eq(l2tp_tunnel_stop_id(&ep, tid, now), 0);
	cr_assert_eq(last(), L2TP_MSG_STOPCCN);
	cr_assert_eq(r.result.result, L2TP_STOPCCN_CLEAR);
	cr_assert_eq(ep.stats.tunnels_closed_local, 1);
	cr_assert_eq(l2tp_tunnel_find(&ep, tid)->state, L2TP_TUN_CLOSING);
}

/* More messages than the channel's queue holds: they wait in the tunnel's backlog, in order,
 * and all go out as acknowledgements make room (after tests/unit/lacd's burst of calls). */
Test(l2tp_tunnel, backlog_keeps_order_and_loses_nothing)
{
	struct l2tp_tunnel *t = bring_up();
	const unsigned N = 150;
	nout = 0;
	for (unsigned i = 0; i < N; i++) {
		struct l2tp_msg *c = l2tp_ep_msg(&ep, L2TP_MSG_CDN, (uint16_t)(1000 + i));
		c->avps = L2TP_AVP_BIT(L2TP_AVP_RESULT_CODE) |
			  L2TP_AVP_BIT(L2TP_AVP_ASSIGNED_SESSION_ID);
		c->assigned_session_id = (uint16_t)(i + 1);
		c->result.result = L2TP_CDN_ADMIN;
		cr_assert_eq(l2tp_tunnel_send(t, c, now), 0);
	}
	cr_assert_gt(t->nbacklog, 0, "more than the channel holds");
	cr_assert_eq(ep.stats.tx_backlogged, t->nbacklog);
	for (int i = 0; i < 400 && (t->nbacklog || !l2tp_ctrl_idle(&t->ctrl)); i++) {
		for (unsigned k = 0; k < nout; k++)
			got(k); /* acknowledge what arrived */
		msg_init(L2TP_MSG_ZLB, 0);
		feed();
		l2tp_tunnel_done(t);
		now += 10;
		l2tp_ep_run_timers(&ep, now);
	}
	cr_assert_eq(t->nbacklog, 0);
	cr_assert_eq(ep.stats.tx_errors, 0);
	cr_assert_eq(ep.stats.tx_msg[L2TP_MSG_CDN], N);
	/* Each CDN went out exactly once (first transmissions), in order. */
	unsigned seen = 0;
	uint16_t prev = 0;
	for (unsigned i = 0; i < nout; i++) {
		if (got(i) != L2TP_MSG_CDN)
			continue;
		if (seen)
			cr_assert(l2tp_seq_lt(prev, r.ns) || prev == r.ns);
		if (!seen || prev != r.ns) {
			cr_assert_eq(r.assigned_session_id, seen + 1, "in order");
			seen++;
		}
		prev = r.ns;
	}
	cr_assert_eq(seen, N);
}

/* The JSON helpers: message counters by name, the shared gauges. */
Test(l2tp_tunnel, stats_json_names)
{
	bring_up();
	struct wbuf b;
	struct json_writer w;
	wbuf_init(&b);
	json_writer_init(&w, &b);
	json_obj_begin(&w);
	l2tp_ep_stats_json(&ep, &w);
	json_obj_end(&w);
	cr_assert_eq(json_writer_err(&w), 0);
	wbuf_put_u8(&b, 0);
	const char *s = (const char *)b.buf;
	cr_assert_not_null(strstr(s, "\"rx_sccrq\":1"), "%s", s);
	cr_assert_not_null(strstr(s, "\"rx_scccn\":1"), "%s", s);
	cr_assert_not_null(strstr(s, "\"tx_sccrp\":1"), "%s", s);
	cr_assert_not_null(strstr(s, "\"tx_stopccn\":0"), "%s", s);
	cr_assert_not_null(strstr(s, "\"tunnels_up\":1"), "%s", s);
	wbuf_free(&b);
}
