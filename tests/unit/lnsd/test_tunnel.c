/* lnsd's tunnel and session state machines on a fake clock (no sockets): a scripted LAC feeds
 * encoded messages to lnsd_input and reads what lnsd sends through its tx callback. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "../../../lns/lnsd.h"
#include "roam/auth.h"

#define MAXPKT 64
struct sent {
	uint8_t buf[4096];
	size_t len;
	struct roam_sockaddr dst;
};
static struct sent out[MAXPKT];
static unsigned nout;
static struct lnsd h;
static struct roam_sockaddr lac;  /* the scripted LAC */
static uint64_t now;
static uint16_t lac_ns, lac_nr;   /* the LAC's sequence state */
static uint16_t lns_tid;          /* the tunnel id lnsd assigned */
static struct l2tp_msg m, r;      /* scratch: to send, received */
static const char *secret = "s3cret";

static void tx(void *arg, const struct roam_sockaddr *dst, const struct roam_ipaddr *src,
	       const uint8_t *pkt, size_t len)
{
	(void)arg, (void)src;
	cr_assert_lt(nout, MAXPKT);
	cr_assert_leq(len, sizeof(out[0].buf));
	memcpy(out[nout].buf, pkt, len);
	out[nout].len = len;
	out[nout].dst = *dst;
	nout++;
}

static void setup_with(const char *yaml)
{
	char err[256];
	memset(&h, 0, sizeof(h));
	cr_assert_eq(lnsd_conf_load_string(&h.conf, yaml, err, sizeof(err)), 0, "%s", err);
	h.tx = tx;
	cr_assert_eq(lnsd_core_init(&h), 0);
	nout = 0;
	now = 1000000;
	lac_ns = lac_nr = 0;
	lns_tid = 0;
	roam_sockaddr_parse("192.0.2.1:1701", 1701, &lac);
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

static void msg_init(uint16_t type, uint16_t session_id)
{
	memset(&m, 0, sizeof(m));
	m.type = type;
	m.unknown_mandatory = -1;
	m.tunnel_id = lns_tid;
	m.session_id = session_id;
}

/* Encodes m with the LAC's Ns/Nr and feeds it to lnsd (from the LAC's address). */
static void feed_raw(uint16_t ns, const char *sec)
{
	uint8_t buf[4096];
	struct wbuf w;
	struct l2tp_codec_opts o;
	memset(&o, 0, sizeof(o));
	o.secret = (const uint8_t *)sec;
	o.secret_len = sec ? strlen(sec) : 0;
	o.ho_vendor = L2TP_HO_VENDOR_DEFAULT;
	m.ns = ns;
	m.nr = lac_nr;
	wbuf_init_fixed(&w, buf, sizeof(buf));
	cr_assert_eq(l2tp_msg_encode(&w, &m, &o), 0);
	lnsd_input(&h, buf, w.len, &lac, NULL, now);
}

static void feed(void)
{
	feed_raw(lac_ns, secret);
	if (m.type != L2TP_MSG_ZLB)
		lac_ns++;
}

/* Decodes sent packet i into r (with the secret); returns its type. */
static uint16_t got(unsigned i)
{
	struct l2tp_codec_opts o;
	memset(&o, 0, sizeof(o));
	o.secret = (const uint8_t *)secret;
	o.secret_len = strlen(secret);
	o.ho_vendor = L2TP_HO_VENDOR_DEFAULT;
	cr_assert_lt(i, nout, "packet %u was not sent (%u sent)", i, nout);
	cr_assert_eq(l2tp_msg_decode(out[i].buf, out[i].len, &o, &r), 0);
	cr_assert(roam_sockaddr_eq(&out[i].dst, &lac));
	if (r.type != L2TP_MSG_ZLB)
		lac_nr = (uint16_t)(r.ns + 1);
	return r.type;
}

/* The last non-ZLB message sent, decoded into r. */
static uint16_t last(void)
{
	for (unsigned i = nout; i-- > 0;) {
		if (got(i) != L2TP_MSG_ZLB)
			return r.type;
	}
	cr_assert_fail("nothing sent");
	return 0;
}

static uint8_t lac_challenge[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };

static void send_sccrq(bool with_challenge)
{
	msg_init(L2TP_MSG_SCCRQ, 0);
	m.tunnel_id = 0;
	m.avps = L2TP_AVP_BIT(L2TP_AVP_PROTOCOL_VERSION) | L2TP_AVP_BIT(L2TP_AVP_HOST_NAME) |
		 L2TP_AVP_BIT(L2TP_AVP_FRAMING_CAP) | L2TP_AVP_BIT(L2TP_AVP_ASSIGNED_TUNNEL_ID);
	m.proto_ver = 1;
	l2tp_bytes_str(&m.host_name, "lac1");
	m.framing_cap = 3;
	m.assigned_tunnel_id = 77;
	if (with_challenge) {
		m.avps |= L2TP_AVP_BIT(L2TP_AVP_CHALLENGE);
		l2tp_bytes_set(&m.challenge, lac_challenge, sizeof(lac_challenge));
	}
	feed();
}

/* SCCRQ / SCCRP / SCCCN with authentication; returns with the tunnel established. */
static void bring_up(void)
{
	uint8_t resp[16];
	send_sccrq(true);
	cr_assert_eq(last(), L2TP_MSG_SCCRP);
	cr_assert_eq(r.tunnel_id, 77);
	cr_assert(r.avps & L2TP_AVP_BIT(L2TP_AVP_ASSIGNED_TUNNEL_ID));
	lns_tid = r.assigned_tunnel_id;
	cr_assert_eq(l2tp_challenge_verify(L2TP_MSG_SCCRP, (const uint8_t *)secret, strlen(secret),
					   lac_challenge, 16, r.challenge_response), 0,
		     "SCCRP's Challenge Response must answer our challenge");
	cr_assert(r.avps & L2TP_AVP_BIT(L2TP_AVP_CHALLENGE));
	cr_assert_eq(l2tp_challenge_response(L2TP_MSG_SCCCN, (const uint8_t *)secret,
					     strlen(secret), r.challenge.p, r.challenge.len, resp),
		     0);
	msg_init(L2TP_MSG_SCCCN, 0);
	m.avps = L2TP_AVP_BIT(L2TP_AVP_CHALLENGE_RESPONSE);
	memcpy(m.challenge_response, resp, 16);
	feed();
	struct lnsd_tunnel *t = lnsd_tunnel_find(&h, lns_tid);
	cr_assert_not_null(t);
	cr_assert_eq(t->state, LNSD_T_ESTABLISHED);
	cr_assert(t->authenticated);
	cr_assert_eq(h.stats.tunnels_established, 1);
}

/* ICRQ + ICCN for LAC session lsid; returns lnsd's session id. */
static uint16_t call(uint16_t lsid, const char *min)
{
	msg_init(L2TP_MSG_ICRQ, 0);
	m.avps = L2TP_AVP_BIT(L2TP_AVP_ASSIGNED_SESSION_ID) | L2TP_AVP_BIT(L2TP_AVP_CALL_SERIAL) |
		 L2TP_AVP_BIT(L2TP_AVP_CALLING_NUMBER);
	m.assigned_session_id = lsid;
	m.call_serial = lsid;
	l2tp_bytes_str(&m.calling_number, min);
	feed();
	cr_assert_eq(last(), L2TP_MSG_ICRP);
	cr_assert_eq(r.session_id, lsid);
	uint16_t sid = r.assigned_session_id;
	msg_init(L2TP_MSG_ICCN, sid);
	m.avps = L2TP_AVP_BIT(L2TP_AVP_TX_CONNECT_SPEED) | L2TP_AVP_BIT(L2TP_AVP_FRAMING_TYPE);
	m.tx_connect_speed = 9600;
	m.framing_type = 2;
	feed();
	struct lnsd_session *s = lnsd_session_find(&h, lns_tid, sid);
	cr_assert_not_null(s);
	cr_assert_eq(s->state, LNSD_S_ESTABLISHED);
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
	cr_assert_eq(table_count(&h.sessions), 2);
	cr_assert_eq(h.stats.sessions_established, 2);

	/* CDN from the LAC clears one call. */
	msg_init(L2TP_MSG_CDN, s1);
	m.avps = L2TP_AVP_BIT(L2TP_AVP_RESULT_CODE) | L2TP_AVP_BIT(L2TP_AVP_ASSIGNED_SESSION_ID);
	m.result.result = L2TP_CDN_ADMIN;
	m.assigned_session_id = 11;
	feed();
	cr_assert_null(lnsd_session_find(&h, lns_tid, s1));
	cr_assert_eq(h.stats.sessions_closed_by_peer, 1);

	/* The delayed ZLB acknowledges it (nothing else to piggyback on). */
	unsigned before = nout;
	now += 300;
	lnsd_run_timers(&h, now);
	cr_assert_gt(nout, before);
	cr_assert_eq(got(nout - 1), L2TP_MSG_ZLB);
	cr_assert_eq(r.nr, lac_ns);

	/* StopCCN: sessions gone at once, tunnel lingers, then is freed. */
	msg_init(L2TP_MSG_STOPCCN, 0);
	m.avps = L2TP_AVP_BIT(L2TP_AVP_RESULT_CODE) | L2TP_AVP_BIT(L2TP_AVP_ASSIGNED_TUNNEL_ID);
	m.result.result = L2TP_STOPCCN_CLEAR;
	m.assigned_tunnel_id = 77;
	feed();
	struct lnsd_tunnel *t = lnsd_tunnel_find(&h, lns_tid);
	cr_assert_not_null(t);
	cr_assert_eq(t->state, LNSD_T_CLOSING);
	cr_assert_eq(table_count(&h.sessions), 0);
	/* A retransmitted StopCCN (same Ns) is acknowledged again while lingering. */
	before = nout;
	feed_raw((uint16_t)(lac_ns - 1), secret);
	cr_assert_eq(got(nout - 1), L2TP_MSG_ZLB);
	cr_assert_gt(nout, before);
	now += 30000;
	lnsd_run_timers(&h, now);
	cr_assert_not_null(lnsd_tunnel_find(&h, lns_tid), "still lingering before 31 s");
	now += 1500;
	lnsd_run_timers(&h, now);
	cr_assert_null(lnsd_tunnel_find(&h, lns_tid));
	cr_assert_eq(h.stats.tunnels_closed_by_peer, 1);
	cr_assert_eq(h.stats.tunnels_freed, 1);
}

Test(lnsd_tunnel, wrong_challenge_response_refused)
{
	send_sccrq(true);
	cr_assert_eq(last(), L2TP_MSG_SCCRP);
	lns_tid = r.assigned_tunnel_id;
	msg_init(L2TP_MSG_SCCCN, 0);
	m.avps = L2TP_AVP_BIT(L2TP_AVP_CHALLENGE_RESPONSE);
	memset(m.challenge_response, 0x42, 16);
	feed();
	cr_assert_eq(last(), L2TP_MSG_STOPCCN);
	cr_assert_eq(r.result.result, L2TP_STOPCCN_NOT_AUTHORIZED);
	cr_assert_eq(r.tunnel_id, 77);
	cr_assert_eq(h.stats.tunnels_refused_auth, 1);
	cr_assert_eq(h.stats.tunnels_established, 0);
	struct lnsd_tunnel *t = lnsd_tunnel_find(&h, lns_tid);
	cr_assert(t && t->state == LNSD_T_CLOSING);
	/* A call on the refused tunnel gets nothing. */
	unsigned before = nout;
	msg_init(L2TP_MSG_ICRQ, 0);
	m.avps = L2TP_AVP_BIT(L2TP_AVP_ASSIGNED_SESSION_ID) | L2TP_AVP_BIT(L2TP_AVP_CALL_SERIAL);
	m.assigned_session_id = 5;
	feed();
	for (unsigned i = before; i < nout; i++)
		cr_assert_eq(got(i), L2TP_MSG_ZLB);
	cr_assert_eq(table_count(&h.sessions), 0);
}

Test(lnsd_tunnel, sccrq_without_challenge_refused_when_secret)
{
	send_sccrq(false);
	cr_assert_eq(last(), L2TP_MSG_STOPCCN);
	cr_assert_eq(r.result.result, L2TP_STOPCCN_NOT_AUTHORIZED);
	cr_assert_eq(h.stats.tunnels_refused_auth, 1);
}

/* An address no peer entry names: dropped without state or answer. */
Test(lnsd_tunnel, unknown_address_dropped)
{
	roam_sockaddr_parse("198.51.100.9:1701", 1701, &lac);
	send_sccrq(true);
	cr_assert_eq(nout, 0);
	cr_assert_eq(table_count(&h.tunnels), 0);
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
	cr_assert_eq(h.stats.tunnels_established, 0);
}

Test(lnsd_tunnel, retransmitted_sccrq_does_not_make_a_second_tunnel)
{
	send_sccrq(true);
	cr_assert_eq(last(), L2TP_MSG_SCCRP);
	lns_tid = r.assigned_tunnel_id;
	unsigned before = nout;
	lns_tid = 0;
	feed_raw(0, secret); /* same Ns 0: a duplicate */
	cr_assert_eq(table_count(&h.tunnels), 1);
	cr_assert_eq(got(nout - 1), L2TP_MSG_ZLB, "a duplicate is acknowledged");
	cr_assert_gt(nout, before);
}

Test(lnsd_tunnel, sccrp_retransmitted_then_tunnel_dies)
{
	send_sccrq(true);
	cr_assert_eq(last(), L2TP_MSG_SCCRP);
	lns_tid = r.assigned_tunnel_id;
	unsigned sccrp = 0;
	for (int i = 0; i < 60; i++) {
		now += 1000;
		lnsd_run_timers(&h, now);
	}
	for (unsigned i = 0; i < nout; i++)
		sccrp += got(i) == L2TP_MSG_SCCRP;
	cr_assert_eq(sccrp, 6, "1 + 5 retransmissions, got %u", sccrp);
	cr_assert_null(lnsd_tunnel_find(&h, lns_tid));
	cr_assert_eq(h.stats.tunnels_timed_out, 1);
}

Test(lnsd_tunnel, unknown_mandatory_avp_in_session_message_gives_cdn)
{
	bring_up();
	msg_init(L2TP_MSG_ICRQ, 0);
	m.avps = L2TP_AVP_BIT(L2TP_AVP_ASSIGNED_SESSION_ID) | L2TP_AVP_BIT(L2TP_AVP_CALL_SERIAL);
	m.assigned_session_id = 9;
	m.n_unknown = 1;
	m.unknown[0] = (struct l2tp_avp_raw){ .vendor = 9, .type = 7, .mandatory = 1 };
	feed();
	cr_assert_eq(last(), L2TP_MSG_CDN);
	cr_assert_eq(r.session_id, 9);
	cr_assert_eq(r.result.result, L2TP_CDN_GENERAL_ERROR);
	cr_assert_eq(r.result.error, L2TP_ERR_UNKNOWN_MANDATORY);
	cr_assert_eq(table_count(&h.sessions), 0);
	cr_assert_eq(lnsd_tunnel_find(&h, lns_tid)->state, LNSD_T_ESTABLISHED);
}

Test(lnsd_tunnel, unknown_avp_m_clear_ignored)
{
	bring_up();
	msg_init(L2TP_MSG_ICRQ, 0);
	m.avps = L2TP_AVP_BIT(L2TP_AVP_ASSIGNED_SESSION_ID) | L2TP_AVP_BIT(L2TP_AVP_CALL_SERIAL);
	m.assigned_session_id = 9;
	m.n_unknown = 1;
	m.unknown[0] = (struct l2tp_avp_raw){ .vendor = 9, .type = 7, .mandatory = 0 };
	feed();
	cr_assert_eq(last(), L2TP_MSG_ICRP);
	cr_assert_eq(table_count(&h.sessions), 1);
}

Test(lnsd_tunnel, unknown_mandatory_avp_in_tunnel_message_gives_stopccn)
{
	bring_up();
	call(11, "15550001");
	msg_init(L2TP_MSG_HELLO, 0);
	m.n_unknown = 1;
	m.unknown[0] = (struct l2tp_avp_raw){ .vendor = 0, .type = 200, .mandatory = 1 };
	feed();
	cr_assert_eq(last(), L2TP_MSG_STOPCCN);
	cr_assert_eq(r.result.result, L2TP_STOPCCN_GENERAL_ERROR);
	cr_assert_eq(r.result.error, L2TP_ERR_UNKNOWN_MANDATORY);
	cr_assert_eq(table_count(&h.sessions), 0);
}

Test(lnsd_tunnel, ocrq_refused_with_cdn_5)
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
	cr_assert_eq(h.stats.ocrq_refused, 1);
	cr_assert_eq(table_count(&h.sessions), 0);
}

Test(lnsd_tunnel, malformed_and_foreign_datagrams_dropped_and_counted)
{
	bring_up();
	unsigned before = nout;
	uint8_t junk[20] = { 0xc8, 0x02, 0x00, 0x30 }; /* Length 48 != 20 */
	lnsd_input(&h, junk, sizeof(junk), &lac, NULL, now);
	cr_assert_eq(h.stats.drop_malformed, 1);
	uint8_t v3[12] = { 0xc8, 0x03, 0x00, 0x0c };
	lnsd_input(&h, v3, sizeof(v3), &lac, NULL, now);
	cr_assert_eq(h.stats.drop_bad_version, 1);
	/* Our tunnel id from another address. */
	struct roam_sockaddr other;
	roam_sockaddr_parse("192.0.2.99:1701", 1701, &other);
	msg_init(L2TP_MSG_HELLO, 0);
	uint8_t buf[256];
	struct wbuf w;
	wbuf_init_fixed(&w, buf, sizeof(buf));
	m.ns = lac_ns;
	cr_assert_eq(l2tp_msg_encode(&w, &m, NULL), 0);
	lnsd_input(&h, buf, w.len, &other, NULL, now);
	cr_assert_eq(h.stats.drop_wrong_peer, 1);
	/* An unknown tunnel id. */
	buf[4] ^= 0xff;
	lnsd_input(&h, buf, w.len, &lac, NULL, now);
	cr_assert_eq(h.stats.drop_unknown_tunnel, 1);
	cr_assert_eq(nout, before, "nothing answers a dropped datagram");
	cr_assert_eq(lnsd_tunnel_find(&h, lns_tid)->state, LNSD_T_ESTABLISHED);
}

Test(lnsd_tunnel, hello_after_silence)
{
	bring_up();
	now += 300;
	lnsd_run_timers(&h, now); /* ZLB for SCCCN */
	unsigned before = nout;
	now += 60000;
	lnsd_run_timers(&h, now);
	cr_assert_gt(nout, before);
	cr_assert_eq(last(), L2TP_MSG_HELLO);
	cr_assert_eq(h.stats.tx_hello, 1);
}

Test(lnsd_tunnel, iccn_timeout_clears_call)
{
	bring_up();
	msg_init(L2TP_MSG_ICRQ, 0);
	m.avps = L2TP_AVP_BIT(L2TP_AVP_ASSIGNED_SESSION_ID) | L2TP_AVP_BIT(L2TP_AVP_CALL_SERIAL);
	m.assigned_session_id = 4;
	feed();
	cr_assert_eq(last(), L2TP_MSG_ICRP);
	/* The LAC acknowledges but never connects. */
	msg_init(L2TP_MSG_ZLB, 0);
	feed();
	now += 21000;
	lnsd_run_timers(&h, now);
	cr_assert_eq(last(), L2TP_MSG_CDN);
	cr_assert_eq(r.result.result, L2TP_CDN_TIMEOUT);
	cr_assert_eq(table_count(&h.sessions), 0);
	cr_assert_eq(h.stats.sessions_timed_out, 1);
}

Test(lnsd_tunnel, stop_all_sends_stopccn)
{
	bring_up();
	call(11, "15550001");
	lnsd_stop_all(&h, L2TP_STOPCCN_SHUTTING_DOWN, now);
	cr_assert_eq(last(), L2TP_MSG_STOPCCN);
	cr_assert_eq(r.result.result, L2TP_STOPCCN_SHUTTING_DOWN);
	cr_assert_eq(table_count(&h.sessions), 0);
	cr_assert_eq(lnsd_all_idle(&h), 0, "StopCCN not yet acknowledged");
	msg_init(L2TP_MSG_ZLB, 0);
	feed();
	cr_assert_eq(lnsd_all_idle(&h), 1);
}

Test(lnsd_tunnel, no_secret_peer_by_host_name)
{
	teardown(); /* replace the suite's config */
	setup_with("control_socket: /tmp/x.sock\npeers:\n  - host_name: lac1\n");
	send_sccrq(false);
	cr_assert_eq(last(), L2TP_MSG_SCCRP);
	cr_assert_not(r.avps & L2TP_AVP_BIT(L2TP_AVP_CHALLENGE));
	lns_tid = r.assigned_tunnel_id;
	msg_init(L2TP_MSG_SCCCN, 0);
	feed();
	struct lnsd_tunnel *t = lnsd_tunnel_find(&h, lns_tid);
	cr_assert(t && t->state == LNSD_T_ESTABLISHED && !t->authenticated);
}

/* A HELLO that is never acknowledged: its retransmissions run out and the tunnel is torn down
 * (regression: the HELLO timer used to re-arm in the past and spin). */
Test(lnsd_tunnel, unanswered_hello_tears_down, .timeout = 10)
{
	bring_up();
	for (int i = 0; i < 200; i++) {
		now += 1000;
		lnsd_run_timers(&h, now);
	}
	cr_assert_eq(h.stats.tx_hello, 1);
	cr_assert_null(lnsd_tunnel_find(&h, lns_tid));
	cr_assert_eq(h.stats.tunnels_timed_out, 1);
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

/* SCCRQ/SCCRP/SCCCN without authentication for the LAC at `lac`. */
static void noauth_up(void)
{
	lns_tid = 0;
	lac_ns = lac_nr = 0;
	send_sccrq(false);
	cr_assert_eq(last(), L2TP_MSG_SCCRP);
	lns_tid = r.assigned_tunnel_id;
	msg_init(L2TP_MSG_SCCCN, 0);
	feed();
	cr_assert_eq(lnsd_tunnel_find(&h, lns_tid)->state, LNSD_T_ESTABLISHED);
}

/* Many tunnels: two LACs (accept_any), the same LAC session ids on both, kept apart. */
Test(lnsd_tunnel, two_lacs_two_tunnels)
{
	teardown();
	setup_with("control_socket: /tmp/x.sock\naccept_any: true\n");
	noauth_up();
	uint16_t t1 = lns_tid, s1 = call(11, "111"), ns1 = lac_ns, nr1 = lac_nr;
	struct roam_sockaddr lac1 = lac;
	roam_sockaddr_parse("192.0.2.2:1701", 1701, &lac);
	noauth_up();
	uint16_t t2 = lns_tid, s2 = call(11, "222");
	cr_assert_neq(t1, t2);
	cr_assert_eq(table_count(&h.tunnels), 2);
	cr_assert_eq(table_count(&h.sessions), 2);
	cr_assert_str_eq(lnsd_session_find(&h, t1, s1)->calling, "111");
	cr_assert_str_eq(lnsd_session_find(&h, t2, s2)->calling, "222");
	/* StopCCN on the first tunnel leaves the second alone. */
	lac = lac1;
	lns_tid = t1;
	lac_ns = ns1;
	lac_nr = nr1;
	msg_init(L2TP_MSG_STOPCCN, 0);
	m.avps = L2TP_AVP_BIT(L2TP_AVP_RESULT_CODE) | L2TP_AVP_BIT(L2TP_AVP_ASSIGNED_TUNNEL_ID);
	m.result.result = L2TP_STOPCCN_CLEAR;
	m.assigned_tunnel_id = 77;
	feed();
	cr_assert_null(lnsd_session_find(&h, t1, s1));
	cr_assert_not_null(lnsd_session_find(&h, t2, s2));
	cr_assert_eq(lnsd_tunnel_find(&h, t2)->state, LNSD_T_ESTABLISHED);
}
