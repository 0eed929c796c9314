/* lnsd's side of the L2TP handoff (lns/handoff.c, docs/protocols/l2tp-handoff.md) on a fake
 * clock, no sockets and no TUN: two scripted LACs (../common/l2tp_peer.h, switched by saving
 * its state), a real PPP peer for the mobile talking through L2TP data messages, and what lnsd
 * writes to its TUN captured.  Covers parking on a handoff CDN, every refusal reason, expiry,
 * buffering, resume without PPP renegotiation, the snapshot across a restart, and the byte
 * layout of the snapshot record. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../../lns/lnsd.h"
#include "roam/auth.h"
#include "roam/clock.h"

static struct lnsd h;
#include "lnsd_mobile.h"

/* ---- two LACs on one scripted peer ---- */

struct lac {
	struct roam_sockaddr addr;
	uint16_t ns, nr, tid;  /* peer_ns, peer_nr, tid of l2tp_peer.h */
	uint16_t our_tid;      /* its Assigned Tunnel ID (the header of what lnsd sends it) */
};
static struct lac lacs[3];
static int cur = -1;

static void use(int i)
{
	if (cur >= 0) {
		lacs[cur].addr = peer;
		lacs[cur].ns = peer_ns;
		lacs[cur].nr = peer_nr;
		lacs[cur].tid = tid;
	}
	peer = lacs[i].addr;
	peer_ns = lacs[i].ns;
	peer_nr = lacs[i].nr;
	tid = lacs[i].tid;
	cur = i;
}

/* ---- data messages and the mobile (lnsd_mobile.h) ---- */

static uint16_t last_data_ns;   /* Ns of the last data message lnsd sent */
static unsigned data_rx_count;

/* lnsd's data messages go to the current LAC and carry consecutive Ns; LCP Configure-Requests
 * (a PPP renegotiation) are counted. */
static void data_check(const struct l2tp_hdr *hd, uint16_t proto, const uint8_t *info,
		       size_t ilen)
{
	cr_assert_eq(hd->tunnel_id, lacs[cur].our_tid, "data to the current LAC");
	if (hd->flags & L2TP_HDR_S) {
		if (data_rx_count)
			cr_assert_eq(hd->ns, (uint16_t)(last_data_ns + 1), "lnsd's data Ns continue");
		last_data_ns = hd->ns;
		data_rx_count++;
	}
	if (proto == PPP_PROTO_LCP && ilen && info[0] == PPP_CONFREQ)
		mob_lcp_confreq_rx++;
}

static char snap_path[64];

static void setup_conf(const char *handoff, const char *auth)
{
	char yaml[2048];
	snprintf(yaml, sizeof(yaml),
		 "peers:\n"
		 "  - address: 192.0.2.1\n    secret: s3cret\n"
		 "  - address: 192.0.2.2\n    secret: s3cret\n"
		 "  - address: 192.0.2.3\n"
		 "handoff:\n%s"
		 "ppp:\n  enabled: yes\n  auth: %s\n"
		 "  credentials: \"alice wonderland\\nbob builder\\n\"\n"
		 "  local_address: 10.64.0.1\n  pool: 10.64.0.0/29\n  echo_interval: 0s\n",
		 handoff, auth);
	cr_assert_eq(lnsd_start(yaml), 0);
}

static void setup_with(const char *handoff, const char *auth)
{
	setup_conf(handoff, auth);
	peer_reset(&h.ep, "192.0.2.1:1701", 2000000);
	memset(lacs, 0, sizeof(lacs));
	cur = -1;
	const char *addrs[3] = { "192.0.2.1", "192.0.2.2", "192.0.2.3" };
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(roam_sockaddr_parse(addrs[i], 1701, &lacs[i].addr), 0);
		lacs[i].our_tid = (uint16_t)(77 + 11 * i);
	}
	ndq = dq_read = 0;
	tun_len = tun_count = 0;
	data_rx_count = 0;
}

static void setup(void)
{
	setup_with("  hold_time: 30s\n  buffer: 4\n  snapshot: \"\"\n", "chap");
}

static void teardown(void)
{
	lnsd_core_destroy(&h);
	lnsd_conf_free(&h.conf);
	if (*snap_path)
		unlink(snap_path);
}

static const uint8_t lac_challenge[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };

/* SCCRQ/SCCRP/SCCCN from LAC i, with challenge authentication when auth. */
static struct l2tp_tunnel *tunnel_up(int i, bool auth)
{
	use(i);
	peer_sccrq(i == 0 ? "lac1" : i == 1 ? "lac2" : "lac3", lacs[i].our_tid);
	m.tunnel_id = 0;
	if (auth) {
		m.avps |= L2TP_AVP_BIT(L2TP_AVP_CHALLENGE);
		l2tp_bytes_set(&m.challenge, lac_challenge, sizeof(lac_challenge));
	}
	feed();
	cr_assert_eq(last(), L2TP_MSG_SCCRP);
	tid = r.assigned_tunnel_id;
	msg_init(L2TP_MSG_SCCCN, 0);
	if (auth) {
		cr_assert(r.avps & L2TP_AVP_BIT(L2TP_AVP_CHALLENGE));
		cr_assert_eq(l2tp_challenge_response(L2TP_MSG_SCCCN, (const uint8_t *)secret,
						     strlen(secret), r.challenge.p, r.challenge.len,
						     m.challenge_response),
			     0);
		m.avps = L2TP_AVP_BIT(L2TP_AVP_CHALLENGE_RESPONSE);
	}
	feed();
	struct l2tp_tunnel *t = l2tp_tunnel_find(&h.ep, tid);
	cr_assert_not_null(t);
	cr_assert_eq(t->state, LNSD_T_ESTABLISHED);
	cr_assert_eq(t->authenticated, auth);
	return t;
}

#define MIN_A "3125550100"

static void iccn(void)
{
	peer_iccn(lns_sid);
	m.avps |= L2TP_AVP_BIT(L2TP_AVP_SEQUENCING_REQUIRED);
}

/* A call from the current LAC (session lsid) with the mobile's PPP brought up. */
static struct lnsd_session *call_up(uint16_t lsid, const char *user, const char *pw)
{
	peer_icrq(lsid, MIN_A);
	feed();
	cr_assert_eq(last(), L2TP_MSG_ICRP);
	cr_assert_eq(r.ho_avps, 0, "no handoff AVP for a plain call");
	lns_sid = r.assigned_session_id;
	iccn();
	feed();
	mob_init(user, pw);
	data_rx_count = 0;
	ppp_start(&mob, now);
	pump();
	cr_assert(mob_up);
	struct lnsd_session *s = lnsd_session_of(l2tp_session_find(&h.ep, tid, lns_sid));
	cr_assert_not_null(s);
	cr_assert(ppp_is_up(s->ppp));
	return s;
}

static size_t ip_packet(uint8_t *p, uint32_t src, uint32_t dst, uint8_t tag)
{
	memset(p, 0, 28);
	p[0] = 0x45;
	p[3] = 28;
	p[8] = 64;
	p[9] = 17;
	p[27] = tag;
	src = htonl(src);
	dst = htonl(dst);
	memcpy(p + 12, &src, 4);
	memcpy(p + 16, &dst, 4);
	return 28;
}

/* The old LAC's next expected data Ns in its CDN: all lnsd sent arrived but the last
 * cdn_in_flight ones (still on their way to it when it sent the CDN). */
static uint16_t cdn_in_flight;

/* The old LAC reports the handoff: CDN Result 1 + Handoff Cause (+ Call State). */
static void handoff_cdn(uint16_t lsid, const char *min, uint16_t lac_data_ns)
{
	struct l2tp_session *ls = l2tp_session_find(&h.ep, tid, lns_sid);
	uint16_t nr = ls ? (uint16_t)(ls->data_ns - cdn_in_flight) : 0;
	cdn_in_flight = 0;
	msg_init(L2TP_MSG_CDN, lns_sid);
	m.avps = L2TP_AVP_BIT(L2TP_AVP_RESULT_CODE) | L2TP_AVP_BIT(L2TP_AVP_ASSIGNED_SESSION_ID);
	m.result.result = L2TP_CDN_LOST_CARRIER;
	m.assigned_session_id = lsid;
	m.ho_avps = L2TP_HO_BIT(L2TP_HO_AVP_CAUSE) | L2TP_HO_BIT(L2TP_HO_AVP_CALL_STATE);
	m.ho_cause.cause = L2TP_HO_CAUSE_MOBILE_LOST;
	snprintf(m.ho_cause.min, sizeof(m.ho_cause.min), "%s", min);
	m.ho_state.data_ns = lac_data_ns;
	m.ho_state.data_nr = nr;
	m.ho_state.ppp_phase = PPP_PHASE_NETWORK;
	feed();
}

/* The new LAC's ICRQ with Handoff Request; returns the ICRP decoded in r. */
static void handoff_icrq(uint16_t lsid, const char *min, uint16_t old_t, uint16_t old_s,
			 uint16_t next_ns)
{
	peer_icrq(lsid, min);
	m.ho_avps = L2TP_HO_BIT(L2TP_HO_AVP_REQUEST) | L2TP_HO_BIT(L2TP_HO_AVP_CALL_STATE);
	m.ho_request.old_tunnel_id = old_t;
	m.ho_request.old_session_id = old_s;
	snprintf(m.ho_request.min, sizeof(m.ho_request.min), "%s", min);
	m.ho_state.data_ns = next_ns;
	m.ho_state.ppp_phase = PPP_PHASE_NETWORK;
	feed();
	cr_assert_eq(last(), L2TP_MSG_ICRP);
	lns_sid = r.assigned_session_id;
}

static uint8_t proxy_chal[16] = { 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
				  0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf };
static uint8_t proxy_resp[16];

/* ICCN with CHAP Proxy Authen computed from password pw. */
static void handoff_iccn_chap(const char *name, const char *pw)
{
	iccn();
	m.avps |= L2TP_AVP_BIT(L2TP_AVP_PROXY_AUTH_TYPE) | L2TP_AVP_BIT(L2TP_AVP_PROXY_AUTH_NAME) |
		  L2TP_AVP_BIT(L2TP_AVP_PROXY_AUTH_CHALLENGE) | L2TP_AVP_BIT(L2TP_AVP_PROXY_AUTH_ID) |
		  L2TP_AVP_BIT(L2TP_AVP_PROXY_AUTH_RESPONSE);
	m.proxy_auth_type = L2TP_PROXY_AUTH_CHAP;
	l2tp_bytes_str(&m.proxy_auth_name, name);
	l2tp_bytes_set(&m.proxy_auth_challenge, proxy_chal, sizeof(proxy_chal));
	m.proxy_auth_id = 0x42;
	cr_assert_eq(ppp_chap_md5(0x42, pw, strlen(pw), proxy_chal, 16, proxy_resp), 0);
	l2tp_bytes_set(&m.proxy_auth_response, proxy_resp, 16);
	feed();
}

static struct lnsd_parked *parked(const char *min)
{
	struct table_node *n = table_lookup(&h.parked, min, strlen(min));
	return n ? table_entry(n, struct lnsd_parked, node) : NULL;
}

/* LAC1 brings alice up, sends data both ways, then reports the handoff.  Returns the LNS's
 * next data Ns at the moment it parked. */
static uint16_t park_alice(void)
{
	tunnel_up(0, true);
	struct lnsd_session *s = call_up(11, "alice", "wonderland");
	cr_assert_eq(s->addr, 0x0a400002);
	uint8_t pkt[64];
	size_t n = ip_packet(pkt, 0x0a400002, 0xc6336401, 1);
	cr_assert_eq(ppp_send_ip(&mob, pkt, n), 0);
	pump();
	cr_assert_eq(tun_count, 1);
	n = ip_packet(pkt, 0xc6336401, 0x0a400002, 2);
	lnsd_ppp_from_tun(&h, pkt, n);
	pump();
	cr_assert_eq(mob_rx_ip, 1);
	uint16_t ns = s->s.data_ns;
	cr_assert_eq(s->s.data_nr, mob_ns);
	handoff_cdn(11, MIN_A, mob_ns);
	cr_assert_null(l2tp_session_find(&h.ep, tid, lns_sid), "the session is gone");
	struct lnsd_parked *p = parked(MIN_A);
	cr_assert_not_null(p, "the call is parked under the MIN_A");
	cr_assert_eq(p->addr, 0x0a400002);
	cr_assert_eq(p->old_tunnel_id, 77);
	cr_assert_eq(p->old_session_id, 11);
	cr_assert_eq(p->data_ns, ns);
	cr_assert_eq(p->data_nr, mob_ns);
	cr_assert_str_eq(p->ppp.peer_name, "alice");
	cr_assert_eq(h.pool.used, 1, "the address stays taken while parked");
	cr_assert_eq(h.hstats.handoffs_parked, 1);
	return ns;
}

/* ---- resume ---- */

Test(lnsd_handoff, park_buffer_and_resume_without_renegotiation, .init = setup,
     .fini = teardown)
{
	park_alice();
	cr_assert_eq(h.pstats.negotiations, 1);
	cr_assert_eq(h.pstats.sli_sent, 1, "SLI with the ACCM when LCP opened");
	{
		/* the SLI to LAC1: the ACCMs the mobile and lnsd asked for (RFC 2661 6.15) */
		unsigned k;
		for (k = 0; k < nout && got(k) != L2TP_MSG_SLI; k++)
			;
		cr_assert_lt(k, nout, "SLI sent");
		cr_assert_eq(r.session_id, 11);
		cr_assert(r.avps & L2TP_AVP_BIT(L2TP_AVP_ACCM));
		cr_assert_eq(r.accm_send, mob.st.accm_recv, "what the mobile asked for");
		cr_assert_eq(r.accm_recv, mob.st.accm_send);
	}
	/* packets for the parked mobile: 4 buffered, the rest dropped (counted) */
	uint8_t pkt[64];
	for (uint8_t i = 0; i < 6; i++) {
		size_t n = ip_packet(pkt, 0xc6336401, 0x0a400002, (uint8_t)(10 + i));
		lnsd_ppp_from_tun(&h, pkt, n);
	}
	cr_assert_eq(h.hstats.park_buffered, 4);
	cr_assert_eq(h.hstats.park_dropped, 2);
	cr_assert_eq(h.pstats.drop_tun_no_session, 0);

	/* the mobile moves to LAC2: ICRQ with Handoff Request on an authenticated tunnel */
	now += 2000;
	tunnel_up(1, true);
	unsigned before = ndq;
	handoff_icrq(21, MIN_A, 77, 11, mob_ns);
	cr_assert(r.ho_avps & L2TP_HO_BIT(L2TP_HO_AVP_ACCEPTED));
	cr_assert(r.ho_avps & L2TP_HO_BIT(L2TP_HO_AVP_CALL_STATE));
	cr_assert_not(r.ho_avps & L2TP_HO_BIT(L2TP_HO_AVP_REFUSED));
	cr_assert_eq(r.ho_accepted.old_tunnel_id, 77);
	cr_assert_eq(r.ho_accepted.old_session_id, 11);
	cr_assert_eq(r.ho_state.data_ns, (uint16_t)(last_data_ns + 1), "LNS's next data Ns");
	cr_assert_eq(r.ho_state.data_nr, mob_ns);
	cr_assert_eq(r.ho_state.mobile_addr, 0x0a400002);
	cr_assert_eq(r.ho_state.auth_proto, PPP_PROTO_CHAP);
	cr_assert_eq(r.ho_state.ppp_phase, PPP_PHASE_NETWORK);
	cr_assert_eq(r.ho_state.ppp_flags & 0x07, 0x07);
	cr_assert_not_null(parked(MIN_A), "untouched until ICCN verifies");

	handoff_iccn_chap("alice", "wonderland");
	cr_assert_null(parked(MIN_A));
	struct lnsd_session *s = lnsd_session_of(l2tp_session_find(&h.ep, tid, lns_sid));
	cr_assert_not_null(s);
	cr_assert_eq(s->s.state, LNSD_S_ESTABLISHED);
	cr_assert(s->ho_resumed);
	cr_assert(ppp_is_up(s->ppp));
	cr_assert_eq(s->addr, 0x0a400002);
	cr_assert_eq(h.pool.used, 1);
	cr_assert_eq(h.hstats.handoffs_resumed, 1);
	cr_assert_eq(h.hstats.park_flushed, 4);
	/* the buffered packets went out at once on the new session, in order */
	cr_assert_eq(ndq - before, 4);
	pump();
	cr_assert_eq(mob_rx_ip, 5);
	cr_assert_eq(mob_lcp_confreq_rx, 1, "no LCP Configure-Request since the first");
	cr_assert_eq(h.pstats.negotiations, 1, "PPP not renegotiated");
	cr_assert_eq(h.pstats.ppp_started, 1);

	/* traffic both ways on the new tunnel; the mobile's Ns continue */
	size_t n = ip_packet(pkt, 0x0a400002, 0xc6336401, 30);
	cr_assert_eq(ppp_send_ip(&mob, pkt, n), 0);
	pump();
	cr_assert_eq(tun_count, 2);
	cr_assert_eq(tun_last[27], 30);
	cr_assert_eq(s->s.rx_data_late, 0);
	cr_assert_eq(s->s.rx_data_lost, 0);
	n = ip_packet(pkt, 0xc6336401, 0x0a400002, 31);
	lnsd_ppp_from_tun(&h, pkt, n);
	pump();
	cr_assert_eq(mob_rx_ip, 6);
	cr_assert_not(mob_down);

	/* a replay of the same request finds nothing parked */
	handoff_icrq(22, MIN_A, 77, 11, 0);
	cr_assert(r.ho_avps & L2TP_HO_BIT(L2TP_HO_AVP_REFUSED));
	cr_assert_eq(r.ho_refused.reason, L2TP_HO_REFUSE_UNKNOWN_MIN);
	cr_assert_eq(h.hstats.refused[L2TP_HO_REFUSE_UNKNOWN_MIN], 1);
	cr_assert_eq(l2tp_session_find(&h.ep, tid, s->s.id), &s->s, "untouched");
}

Test(lnsd_handoff, pap_proxy_authen, .fini = teardown)
{
	setup_with("  snapshot: \"\"\n", "pap");
	park_alice();
	tunnel_up(1, true);
	handoff_icrq(21, MIN_A, 77, 11, mob_ns);
	cr_assert(r.ho_avps & L2TP_HO_BIT(L2TP_HO_AVP_ACCEPTED));
	cr_assert_eq(r.ho_state.auth_proto, PPP_PROTO_PAP);
	/* a wrong password first: CDN with Handoff Refused 5 */
	iccn();
	m.avps |= L2TP_AVP_BIT(L2TP_AVP_PROXY_AUTH_TYPE) | L2TP_AVP_BIT(L2TP_AVP_PROXY_AUTH_NAME) |
		  L2TP_AVP_BIT(L2TP_AVP_PROXY_AUTH_RESPONSE);
	m.proxy_auth_type = L2TP_PROXY_AUTH_PAP;
	l2tp_bytes_str(&m.proxy_auth_name, "alice");
	l2tp_bytes_str(&m.proxy_auth_response, "wonderlanD");
	feed();
	cr_assert_eq(last(), L2TP_MSG_CDN);
	cr_assert_eq(r.ho_refused.reason, L2TP_HO_REFUSE_MOBILE_AUTH);
	cr_assert_not_null(parked(MIN_A));
	/* then right */
	handoff_icrq(22, MIN_A, 77, 11, mob_ns);
	iccn();
	m.avps |= L2TP_AVP_BIT(L2TP_AVP_PROXY_AUTH_TYPE) | L2TP_AVP_BIT(L2TP_AVP_PROXY_AUTH_NAME) |
		  L2TP_AVP_BIT(L2TP_AVP_PROXY_AUTH_RESPONSE);
	m.proxy_auth_type = L2TP_PROXY_AUTH_PAP;
	l2tp_bytes_str(&m.proxy_auth_name, "alice");
	l2tp_bytes_str(&m.proxy_auth_response, "wonderland");
	feed();
	cr_assert_null(parked(MIN_A));
	cr_assert_eq(h.hstats.handoffs_resumed, 1);
	cr_assert_eq(h.pstats.negotiations, 1);
}

/* The names the control socket exposes (lnsd(8) STATISTICS, CONTROL COMMANDS). */
Test(lnsd_handoff, stats_and_parked_command, .init = setup, .fini = teardown)
{
	park_alice();
	struct wbuf jo;
	struct json_writer w;
	wbuf_init(&jo);
	json_writer_init(&w, &jo);
	lnsd_handoff_dump_json(&h, &w, now + 1000);
	cr_assert_eq(json_writer_err(&w), 0);
	wbuf_put_u8(&jo, 0);
	const char *j = (const char *)jo.buf;
	cr_assert(strstr(j, "\"parked\":[{"), "%s", j);
	cr_assert(strstr(j, "\"min\":\"" MIN_A "\""), "%s", j);
	cr_assert(strstr(j, "\"user\":\"alice\""), "%s", j);
	cr_assert(strstr(j, "\"address\":\"10.64.0.2\""), "%s", j);
	cr_assert(strstr(j, "\"old_tunnel_id\":77"), "%s", j);
	cr_assert(strstr(j, "\"old_session_id\":11"), "%s", j);
	cr_assert(strstr(j, "\"remaining_ms\":29000"), "%s", j);
	wbuf_free(&jo);

	wbuf_init(&jo);
	json_writer_init(&w, &jo);
	json_obj_begin(&w);
	lnsd_ppp_stats_json(&h, &w);
	lnsd_handoff_stats_json(&h, &w);
	json_obj_end(&w);
	cr_assert_eq(json_writer_err(&w), 0);
	wbuf_put_u8(&jo, 0);
	j = (const char *)jo.buf;
	static const char *const keys[] = {
		"\"ppp_negotiations\":1", "\"ppp_sli_sent\":1", "\"handoffs_parked\":1",
		"\"parked\":1", "\"park_expired\":0", "\"handoffs_resumed\":0",
		"\"handoffs_refused\":0", "\"handoffs_refused_unknown_min\":0",
		"\"handoffs_refused_not_authenticated\":0", "\"handoffs_refused_mismatch\":0",
		"\"handoffs_refused_disabled\":0", "\"handoffs_refused_mobile_auth\":0",
		"\"park_buffered\":0", "\"park_dropped\":0",
	};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		cr_assert(strstr(j, keys[i]), "%s in %s", keys[i], j);
	wbuf_free(&jo);
}

/* ---- refusals ---- */

Test(lnsd_handoff, refused_unauthenticated_tunnel_first, .init = setup, .fini = teardown)
{
	park_alice();
	tunnel_up(2, false); /* LAC3: no secret */
	/* even with an unknown MIN_A the tunnel is judged first */
	handoff_icrq(31, "999", 77, 11, 0);
	cr_assert(r.ho_avps & L2TP_HO_BIT(L2TP_HO_AVP_REFUSED));
	cr_assert_eq(r.ho_refused.reason, L2TP_HO_REFUSE_NOT_AUTHENTICATED);
	handoff_icrq(32, MIN_A, 77, 11, 0);
	cr_assert_eq(r.ho_refused.reason, L2TP_HO_REFUSE_NOT_AUTHENTICATED);
	cr_assert_eq(h.hstats.refused[L2TP_HO_REFUSE_NOT_AUTHENTICATED], 2);
	/* the call proceeds as a fresh one: PPP negotiates, a new address, parked untouched */
	iccn();
	feed();
	struct lnsd_session *s = lnsd_session_of(l2tp_session_find(&h.ep, tid, lns_sid));
	cr_assert_not_null(s);
	cr_assert_not(s->ho_resumed);
	mob_init("alice", "wonderland");
	data_rx_count = 0;
	ppp_start(&mob, now);
	pump();
	cr_assert(mob_up);
	cr_assert_eq(h.pstats.negotiations, 2);
	cr_assert_neq(s->addr, 0x0a400002);
	struct lnsd_parked *p = parked(MIN_A);
	cr_assert_not_null(p);
	cr_assert_eq(p->addr, 0x0a400002);
	cr_assert_eq(h.hstats.handoffs_resumed, 0);
}

Test(lnsd_handoff, refused_unknown_min_and_mismatch, .init = setup, .fini = teardown)
{
	park_alice();
	tunnel_up(1, true);
	handoff_icrq(21, "3125550199", 77, 11, 0);
	cr_assert_eq(r.ho_refused.reason, L2TP_HO_REFUSE_UNKNOWN_MIN);
	handoff_icrq(22, MIN_A, 77, 12, 0);
	cr_assert_eq(r.ho_refused.reason, L2TP_HO_REFUSE_MISMATCH);
	handoff_icrq(23, MIN_A, 78, 11, 0);
	cr_assert_eq(r.ho_refused.reason, L2TP_HO_REFUSE_MISMATCH);
	/* Calling Number and Handoff Request disagreeing */
	peer_icrq(24, "3125550101");
	m.ho_avps = L2TP_HO_BIT(L2TP_HO_AVP_REQUEST);
	m.ho_request.old_tunnel_id = 77;
	m.ho_request.old_session_id = 11;
	strcpy(m.ho_request.min, MIN_A);
	feed();
	cr_assert_eq(last(), L2TP_MSG_ICRP);
	cr_assert_eq(r.ho_refused.reason, L2TP_HO_REFUSE_MISMATCH);
	cr_assert_eq(h.hstats.refused[L2TP_HO_REFUSE_UNKNOWN_MIN], 1);
	cr_assert_eq(h.hstats.refused[L2TP_HO_REFUSE_MISMATCH], 3);
	cr_assert_eq(h.hstats.handoffs_refused, 4);
	cr_assert_not_null(parked(MIN_A));
	cr_assert_eq(h.hstats.handoffs_accepted, 0);
}

Test(lnsd_handoff, refused_mobile_auth_leaves_parked_call, .init = setup, .fini = teardown)
{
	park_alice();
	tunnel_up(1, true);
	struct {
		const char *name, *pw;
	} bad[] = { { "alice", "looking-glass" }, { "bob", "builder" }, { "mallory", "x" } };
	for (size_t i = 0; i < 3; i++) {
		handoff_icrq((uint16_t)(21 + i), MIN_A, 77, 11, mob_ns);
		cr_assert(r.ho_avps & L2TP_HO_BIT(L2TP_HO_AVP_ACCEPTED));
		uint16_t sid = lns_sid;
		handoff_iccn_chap(bad[i].name, bad[i].pw);
		cr_assert_eq(last(), L2TP_MSG_CDN);
		cr_assert_eq(r.result.result, L2TP_CDN_GENERAL_ERROR);
		cr_assert_eq(r.result.error, L2TP_ERR_VENDOR);
		cr_assert(r.ho_avps & L2TP_HO_BIT(L2TP_HO_AVP_REFUSED));
		cr_assert_eq(r.ho_refused.reason, L2TP_HO_REFUSE_MOBILE_AUTH);
		cr_assert_null(l2tp_session_find(&h.ep, tid, sid));
		struct lnsd_parked *p = parked(MIN_A);
		cr_assert_not_null(p, "untouched");
		cr_assert_eq(p->addr, 0x0a400002);
	}
	/* no Proxy Authen at all */
	handoff_icrq(25, MIN_A, 77, 11, mob_ns);
	iccn();
	feed();
	cr_assert_eq(last(), L2TP_MSG_CDN);
	cr_assert_eq(r.ho_refused.reason, L2TP_HO_REFUSE_MOBILE_AUTH);
	/* a response to another challenge (replayed from an earlier exchange) */
	handoff_icrq(26, MIN_A, 77, 11, mob_ns);
	iccn();
	m.avps |= L2TP_AVP_BIT(L2TP_AVP_PROXY_AUTH_TYPE) | L2TP_AVP_BIT(L2TP_AVP_PROXY_AUTH_NAME) |
		  L2TP_AVP_BIT(L2TP_AVP_PROXY_AUTH_CHALLENGE) | L2TP_AVP_BIT(L2TP_AVP_PROXY_AUTH_ID) |
		  L2TP_AVP_BIT(L2TP_AVP_PROXY_AUTH_RESPONSE);
	m.proxy_auth_type = L2TP_PROXY_AUTH_CHAP;
	l2tp_bytes_str(&m.proxy_auth_name, "alice");
	uint8_t other[16] = { 9 };
	uint8_t resp[16];
	cr_assert_eq(ppp_chap_md5(0x42, "wonderland", 10, other, 16, resp), 0);
	l2tp_bytes_set(&m.proxy_auth_challenge, proxy_chal, 16);
	m.proxy_auth_id = 0x42;
	l2tp_bytes_set(&m.proxy_auth_response, resp, 16);
	feed();
	cr_assert_eq(last(), L2TP_MSG_CDN);
	cr_assert_eq(r.ho_refused.reason, L2TP_HO_REFUSE_MOBILE_AUTH);
	cr_assert_eq(h.hstats.refused[L2TP_HO_REFUSE_MOBILE_AUTH], 5);
	cr_assert_eq(h.hstats.handoffs_resumed, 0);
	/* and then the mobile itself */
	handoff_icrq(27, MIN_A, 77, 11, mob_ns);
	handoff_iccn_chap("alice", "wonderland");
	cr_assert_null(parked(MIN_A));
	cr_assert_eq(h.hstats.handoffs_resumed, 1);
}

Test(lnsd_handoff, disabled, .fini = teardown)
{
	setup_with("  enabled: no\n  snapshot: \"\"\n", "chap");
	tunnel_up(0, true);
	call_up(11, "alice", "wonderland");
	handoff_cdn(11, MIN_A, mob_ns);
	cr_assert_null(parked(MIN_A));
	cr_assert_eq(h.pool.used, 0, "cleared as a plain call");
	cr_assert_eq(h.hstats.park_refused, 1);
	tunnel_up(1, true);
	handoff_icrq(21, MIN_A, 77, 11, 0);
	cr_assert_eq(r.ho_refused.reason, L2TP_HO_REFUSE_DISABLED);
	cr_assert_eq(h.hstats.refused[L2TP_HO_REFUSE_DISABLED], 1);
}

Test(lnsd_handoff, cdn_from_unauthenticated_tunnel_not_parked, .init = setup,
     .fini = teardown)
{
	tunnel_up(2, false);
	call_up(31, "alice", "wonderland");
	handoff_cdn(31, MIN_A, mob_ns);
	cr_assert_null(parked(MIN_A));
	cr_assert_eq(h.pool.used, 0);
	cr_assert_eq(h.hstats.park_refused, 1);
	cr_assert_eq(h.hstats.handoffs_parked, 0);
}

Test(lnsd_handoff, cdn_with_other_min_not_parked, .init = setup, .fini = teardown)
{
	tunnel_up(0, true);
	call_up(11, "alice", "wonderland");
	handoff_cdn(11, "3125550199", mob_ns);
	cr_assert_null(parked(MIN_A));
	cr_assert_null(parked("3125550199"));
	cr_assert_eq(h.pool.used, 0);
}

/* ---- expiry ---- */

Test(lnsd_handoff, hold_time_expiry_releases, .fini = teardown)
{
	setup_with("  hold_time: 5s\n  buffer: 0\n  snapshot: \"\"\n", "chap");
	park_alice();
	uint8_t pkt[64];
	size_t n = ip_packet(pkt, 0xc6336401, 0x0a400002, 3);
	lnsd_ppp_from_tun(&h, pkt, n);
	cr_assert_eq(h.hstats.park_dropped, 1, "buffer 0: dropped, counted");
	cr_assert_eq(h.hstats.park_buffered, 0);
	lnsd_handoff_run_timers(&h, now + 4999);
	cr_assert_not_null(parked(MIN_A));
	lnsd_handoff_run_timers(&h, now + 5000);
	cr_assert_null(parked(MIN_A));
	cr_assert_eq(h.hstats.park_expired, 1);
	cr_assert_eq(h.pool.used, 0, "the address is back in the pool");
	lnsd_ppp_from_tun(&h, pkt, n);
	cr_assert_eq(h.pstats.drop_tun_no_session, 1);
	now += 5000;
	tunnel_up(1, true);
	handoff_icrq(21, MIN_A, 77, 11, 0);
	cr_assert_eq(r.ho_refused.reason, L2TP_HO_REFUSE_UNKNOWN_MIN);
}

Test(lnsd_handoff, expired_between_icrp_and_iccn, .fini = teardown)
{
	setup_with("  hold_time: 5s\n  snapshot: \"\"\n", "chap");
	park_alice();
	tunnel_up(1, true);
	now += 4000;
	handoff_icrq(21, MIN_A, 77, 11, mob_ns);
	cr_assert(r.ho_avps & L2TP_HO_BIT(L2TP_HO_AVP_ACCEPTED));
	now += 2000;
	lnsd_handoff_run_timers(&h, now);
	handoff_iccn_chap("alice", "wonderland");
	cr_assert_eq(last(), L2TP_MSG_CDN);
	cr_assert_eq(r.ho_refused.reason, L2TP_HO_REFUSE_UNKNOWN_MIN);
	cr_assert_eq(h.pool.used, 0);
}

/* ---- restart ---- */

Test(lnsd_handoff, snapshot_restores_parked_call_after_restart, .fini = teardown)
{
	char hc[256];
	snprintf(snap_path, sizeof(snap_path), "/tmp/lnsd-ho-test-%d.snap", (int)getpid());
	unlink(snap_path);
	snprintf(hc, sizeof(hc), "  hold_time: 60s\n  snapshot: \"%s\"\n", snap_path);
	setup_with(hc, "chap");
	uint16_t ns = park_alice();
	cr_assert_eq(h.hstats.snapshot_saves, 1, "written when the call was parked");
	cr_assert_eq(access(snap_path, F_OK), 0);

	/* restart: a new lnsd instance, fresh pool, a different monotonic clock */
	lnsd_core_destroy(&h);
	lnsd_conf_free(&h.conf);
	setup_conf(hc, "chap");
	now = 9000000;
	cr_assert_eq(h.pool.used, 0);
	cr_assert_eq(lnsd_handoff_load(&h, now), 0);
	cr_assert_eq(h.hstats.park_restored, 1);
	struct lnsd_parked *p = parked(MIN_A);
	cr_assert_not_null(p);
	cr_assert_eq(p->addr, 0x0a400002);
	cr_assert_eq(h.pool.used, 1, "address claimed again");
	cr_assert_eq(p->data_ns, ns);
	cr_assert_str_eq(p->ppp.peer_name, "alice");
	cr_assert_gt(p->expires, now + 55000, "hold time carried over in wall-clock time");
	cr_assert_leq(p->expires, now + 60000);

	/* a fresh pool never hands the parked address to someone else */
	cur = -1;
	peer_reset(&h.ep, "192.0.2.2:1701", now);
	ndq = dq_read = 0;
	data_rx_count = 0;
	lacs[1].ns = lacs[1].nr = lacs[1].tid = 0;
	tunnel_up(1, true);
	handoff_icrq(21, MIN_A, 77, 11, mob_ns);
	cr_assert(r.ho_avps & L2TP_HO_BIT(L2TP_HO_AVP_ACCEPTED));
	cr_assert_eq(r.ho_state.data_ns, ns);
	handoff_iccn_chap("alice", "wonderland");
	cr_assert_eq(h.hstats.handoffs_resumed, 1);
	cr_assert_eq(h.pstats.negotiations, 0, "the restarted lnsd never negotiated");
	uint8_t pkt[64];
	size_t n = ip_packet(pkt, 0x0a400002, 0xc6336401, 40);
	cr_assert_eq(ppp_send_ip(&mob, pkt, n), 0);
	pump();
	cr_assert_eq(tun_last[27], 40);
	n = ip_packet(pkt, 0xc6336401, 0x0a400002, 41);
	lnsd_ppp_from_tun(&h, pkt, n);
	pump();
	cr_assert_eq(mob_rx_ip, 2);
	/* resumed: the file no longer holds it */
	lnsd_core_destroy(&h);
	lnsd_conf_free(&h.conf);
	setup_conf(hc, "chap");
	cr_assert_eq(lnsd_handoff_load(&h, now), 0);
	cr_assert_eq(h.hstats.park_restored, 0);
}

static void fill_parked(struct lnsd_parked *p)
{
	memset(p, 0, sizeof(*p));
	strcpy(p->min, "31255501");
	p->old_tunnel_id = 0x004d;
	p->old_session_id = 0x000b;
	p->lns_tunnel_id = 0x1234;
	p->lns_session_id = 0x5678;
	p->addr = 0x0a400002;
	p->data_seq = true;
	p->data_ns = 0x0102;
	p->data_nr = 0x0304;
	p->parked_wall = 0x0000018c00000000ull;
	strcpy(p->lac, "lac1");
	strcpy(p->called, "");
	p->ppp.role = PPP_ROLE_AUTHENTICATOR;
	p->ppp.phase = PPP_PHASE_NETWORK;
	p->ppp.mru_recv = 1500;
	p->ppp.mru_send = 1500;
	p->ppp.accm_recv = 0xffffffff;
	p->ppp.accm_send = 0;
	p->ppp.auth_proto = PPP_PROTO_CHAP;
	p->ppp.authenticated = 1;
	p->ppp.ipcp_opened = 1;
	strcpy(p->ppp.peer_name, "al");
	p->ppp.addr_local = 0x0a400001;
	p->ppp.addr_peer = 0x0a400002;
}

/* The snapshot record, written by hand from the layout in lnsd(8) FILES. */
static const uint8_t v_record[] = {
	0x08, '3', '1', '2', '5', '5', '5', '0', '1', /* MIN_A */
	0x00, 0x4d, 0x00, 0x0b,                       /* old tunnel / session id */
	0x12, 0x34, 0x56, 0x78,                       /* ours */
	0x0a, 0x40, 0x00, 0x02,                       /* address */
	0x01,                                         /* flags: data sequencing */
	0x01, 0x02, 0x03, 0x04,                       /* data Ns, Nr */
	0x00, 0x00, 0x01, 0x8c, 0x00, 0x00, 0x00, 0x00, /* parked at (wall ms) */
	0x00, 0x00, 0x01, 0x8c, 0x00, 0x00, 0x75, 0x30, /* expires (wall ms) */
	0x04, 'l', 'a', 'c', '1',                     /* LAC */
	0x00,                                         /* called number */
	0x00, 0x2f,                                   /* PPP state: 47 octets */
	0x01, 0x01, 0x03, 0x05, 0xdc, 0x05, 0xdc, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x30, 0xc2, 0x23, 0x0a, 0x40, 0x00, 0x01,
	0x0a, 0x40, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
	'a', 'l',
};

Test(lnsd_handoff, snapshot_record_vector)
{
	struct lnsd_parked p, back;
	uint8_t buf[512];
	struct wbuf w;
	struct rbuf rb;
	uint64_t exp;
	fill_parked(&p);
	wbuf_init_fixed(&w, buf, sizeof(buf));
	cr_assert_eq(lnsd_parked_encode(&w, &p, 0x0000018c00007530ull), 0);
	cr_assert_eq(w.len, sizeof(v_record));
	cr_assert(memcmp(buf, v_record, sizeof(v_record)) == 0);
	rbuf_init(&rb, v_record, sizeof(v_record));
	cr_assert_eq(lnsd_parked_decode(&rb, &back, &exp), 0);
	cr_assert_eq(exp, 0x0000018c00007530ull);
	cr_assert_str_eq(back.min, p.min);
	cr_assert_eq(back.addr, p.addr);
	cr_assert_eq(back.data_ns, p.data_ns);
	cr_assert_eq(back.data_nr, p.data_nr);
	cr_assert(back.data_seq);
	cr_assert_str_eq(back.lac, "lac1");
	cr_assert(memcmp(&back.ppp, &p.ppp, sizeof(p.ppp)) == 0);
	for (size_t n = 0; n < sizeof(v_record); n++) {
		rbuf_init(&rb, v_record, n);
		cr_assert_eq(lnsd_parked_decode(&rb, &back, &exp), -EBADMSG, "truncated at %zu", n);
	}
	/* what cannot be resumed is refused: a bad MIN_A, no address, an unknown flag, PPP not in
	 * the network phase */
	uint8_t b[sizeof(v_record)];
	size_t offs[] = { 1, 17, 21, 52 };
	uint8_t vals[] = { 'x', 0, 2, PPP_PHASE_ESTABLISH };
	for (size_t i = 0; i < 4; i++) {
		memcpy(b, v_record, sizeof(b));
		b[offs[i]] = vals[i];
		if (offs[i] == 17)
			b[18] = b[19] = b[20] = 0;
		rbuf_init(&rb, b, sizeof(b));
		cr_assert_eq(lnsd_parked_decode(&rb, &back, &exp), -EBADMSG, "row %zu", i);
	}
}

Test(lnsd_handoff, snapshot_expired_and_bad_records_skipped, .fini = teardown)
{
	char hc[256];
	snprintf(snap_path, sizeof(snap_path), "/tmp/lnsd-ho-test2-%d.snap", (int)getpid());
	snprintf(hc, sizeof(hc), "  hold_time: 60s\n  snapshot: \"%s\"\n", snap_path);
	struct snap_writer *sw;
	struct lnsd_parked p;
	uint8_t buf[512];
	struct wbuf w;
	uint64_t wall = roam_wall_ms();
	cr_assert_eq(snap_writer_open(&sw, snap_path, "lnsd/1"), 0);
	fill_parked(&p);
	wbuf_init_fixed(&w, buf, sizeof(buf));
	cr_assert_eq(lnsd_parked_encode(&w, &p, wall - 1000), 0); /* expired while down */
	cr_assert_eq(snap_put(sw, 1, buf, w.len), 0);
	strcpy(p.min, "5551234");
	p.addr = 0x0a400003;
	wbuf_init_fixed(&w, buf, sizeof(buf));
	cr_assert_eq(lnsd_parked_encode(&w, &p, wall + 3600000), 0); /* capped to hold_time */
	cr_assert_eq(snap_put(sw, 1, buf, w.len), 0);
	strcpy(p.min, "5559999");
	p.addr = 0x0a400077; /* outside the pool */
	wbuf_init_fixed(&w, buf, sizeof(buf));
	cr_assert_eq(lnsd_parked_encode(&w, &p, wall + 10000), 0);
	cr_assert_eq(snap_put(sw, 1, buf, w.len), 0);
	cr_assert_eq(snap_put(sw, 1, "junk", 4), 0);
	cr_assert_eq(snap_put(sw, 7, "other", 5), 0);
	cr_assert_eq(snap_commit(sw), 0);

	setup_conf(hc, "chap");
	cr_assert_eq(lnsd_handoff_load(&h, 1000000), 0);
	cr_assert_eq(h.hstats.park_restored, 1);
	cr_assert_eq(h.hstats.snapshot_skipped, 4);
	cr_assert_null(parked("31255501"));
	struct lnsd_parked *q = parked("5551234");
	cr_assert_not_null(q);
	cr_assert_leq(q->expires, 1000000 + 60000);
	cr_assert_eq(h.pool.used, 1);
	lnsd_handoff_run_timers(&h, 1000000 + 60000);
	cr_assert_null(parked("5551234"));
	cr_assert_eq(h.pool.used, 0);
}

/* The last IP packet lnsd sent before the CDN never reached the old LAC (in flight when it sent
 * the CDN: its Data Nr is that packet's Ns).  It goes first into the park buffer and is sent
 * again on resume, before what the TUN device delivered meanwhile (handoff.resend_window). */
Test(lnsd_handoff, in_flight_packet_resent_first, .init = setup, .fini = teardown)
{
	cdn_in_flight = 1;
	park_alice();
	cr_assert_eq(h.hstats.park_resent, 1);
	struct lnsd_parked *p = parked(MIN_A);
	cr_assert_eq(p->npkts, 1);
	uint8_t pkt[64];
	for (uint8_t i = 0; i < 2; i++) {
		size_t n = ip_packet(pkt, 0xc6336401, 0x0a400002, (uint8_t)(10 + i));
		lnsd_ppp_from_tun(&h, pkt, n);
	}
	cr_assert_eq(p->npkts, 3);
	now += 500;
	tunnel_up(1, true);
	handoff_icrq(21, MIN_A, 77, 11, mob_ns);
	cr_assert(r.ho_avps & L2TP_HO_BIT(L2TP_HO_AVP_ACCEPTED));
	unsigned before = ndq;
	handoff_iccn_chap("alice", "wonderland");
	cr_assert_eq(h.hstats.handoffs_resumed, 1);
	cr_assert_eq(h.hstats.park_flushed, 3);
	/* in order: the one lost in flight (tag 2), then 10 and 11 */
	static const uint8_t want[] = { 2, 10, 11 };
	unsigned k = 0;
	for (unsigned i = before; i < ndq; i++) {
		struct l2tp_hdr hd;
		uint16_t proto;
		const uint8_t *info;
		size_t ilen;
		if (l2tp_hdr_decode(dq[i].buf, dq[i].len, &hd) < 0 || (hd.flags & L2TP_HDR_T))
			continue;
		cr_assert_eq(ppp_frame_parse(dq[i].buf + hd.hdr_len, hd.msg_len - hd.hdr_len,
					     &proto, &info, &ilen), 0);
		if (proto != PPP_PROTO_IP)
			continue;
		cr_assert_lt(k, 3);
		cr_assert_eq(info[27], want[k], "packet %u: tag %u", k, info[27]);
		k++;
	}
	cr_assert_eq(k, 3);
	cr_assert_eq(h.hstats.park_dropped, 0);
}
