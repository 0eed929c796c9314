/* lacd's side of the handoff (lac/handoff.c, docs/protocols/l2tp-handoff.md) on fake clocks,
 * no sockets: the group keys file, the handoff table (expiry), the USER_MOVED acceptance rules
 * (forged, replayed, own, malformed, stale, unknown key), leaving (CDN with the handoff AVPs,
 * USER_MOVED, StopCCN; plain CDN when disabled) and arriving (CHAP re-challenge answered by a
 * real PPP peer, handoff ICRQ, ICRP accepted -> ICCN with Proxy Authen and the restored data
 * Ns/Nr; refused -> plain ICCN; no answer -> fresh call).  The harness (scripted mobile and
 * LNS) is lacd_harness.h. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../../lac/lacd.h"
#include "roam/auth.h"

#define MIN1 "3125550100"
static struct lacd h;
#include "lacd_harness.h"
static char keypath[64];
static uint64_t wall = 1700000000000ULL;
static struct roam_key key_cur, key_prev;

static const char KEY_CUR[] = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
static const char KEY_PREV[] = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";
#define OTHER_LAC 0xc0000232u /* 192.0.2.50 */
#define OUR_LAC   0xc0000201u /* 192.0.2.1 */
#define LNS_ADDR  0xc000020au /* 192.0.2.10 */

static uint64_t fake_wall(void)
{
	return wall;
}

/* USER_MOVED datagrams lacd sent. */
static struct {
	uint8_t buf[256];
	size_t len;
} um_out[16];
static unsigned num;

static void um_tx(void *arg, const uint8_t *pkt, size_t len)
{
	(void)arg;
	cr_assert_lt(num, 16);
	cr_assert_leq(len, sizeof(um_out[0].buf));
	memcpy(um_out[num].buf, pkt, len);
	um_out[num].len = len;
	num++;
}

/* A PPP packet from the mobile, HDLC-framed in one DATA message. */
static void mob_ppp(uint16_t proto, const uint8_t *info, size_t len)
{
	uint8_t framed[1024];
	struct wbuf w;
	struct ppp_hdlc_tx htx = { .accm = PPP_HDLC_ACCM_DEFAULT };
	wbuf_init_fixed(&w, framed, sizeof(framed));
	cr_assert_eq(ppp_hdlc_encode(&w, &htx, proto, info, len), 0);
	struct access_msg d = { .type = ACCESS_DATA, .data = framed, .data_len = w.len };
	mob_send(&d);
}

/* The PPP frames in DATA message i to the mobile (first one). */
static void acc_frame(unsigned i, uint16_t *proto, uint8_t *info, size_t *len)
{
	struct ppp_hdlc_dec dec;
	struct ppp_hdlc_frame f;
	cr_assert_eq(acc_got(i), ACCESS_DATA);
	const uint8_t *p = am.data;
	size_t left = am.data_len;
	ppp_hdlc_dec_init(&dec, 0);
	dec.accm = 0; /* the LAC frames with the mobile's negotiated ACCM (0 here) */
	cr_assert_eq(ppp_hdlc_decode(&dec, &p, &left, &f), 1);
	*proto = f.proto;
	memcpy(info, f.info, f.info_len);
	*len = f.info_len;
}

static void write_keys(const char *text, mode_t mode)
{
	FILE *f = fopen(keypath, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	cr_assert_eq(chmod(keypath, mode), 0);
}

static int load(bool enabled, char *err, size_t errlen)
{
	char conf[1024];
	snprintf(conf, sizeof(conf),
		 "host_name: lac1\n"
		 "control_socket: /tmp/x.sock\n"
		 "access:\n  keepalive_interval: 1s\n  dead_interval: 3s\n"
		 "handoff:\n  enabled: %s\n  address: 192.0.2.1\n  hold_time: 20s\n"
		 "  challenge_timeout: 1s\n  challenge_retries: 2\n  key_file: %s\n"
		 "lns:\n"
		 "  - min: \"312*\"\n    address: 192.0.2.10\n    secret: s3cret\n",
		 enabled ? "yes" : "no", keypath);
	return lacd_conf_load_string(&h.conf, conf, err, errlen);
}

static void setup_with(bool enabled)
{
	char err[512];
	memset(&h, 0, sizeof(h));
	snprintf(keypath, sizeof(keypath), "/tmp/lacd-ho-keys-%d", (int)getpid());
	char keys[256];
	snprintf(keys, sizeof(keys), "# current, previous\n7 %s\n3 %s\n", KEY_CUR, KEY_PREV);
	write_keys(keys, 0600);
	cr_assert_eq(load(enabled, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(auth_key_from_hex(&key_cur, AUTH_ALG_HMAC_SHA256, KEY_CUR), 0);
	cr_assert_eq(auth_key_from_hex(&key_prev, AUTH_ALG_HMAC_SHA256, KEY_PREV), 0);
	h.ep.tx = l2tp_tx;
	h.ho.wall_ms = fake_wall;
	cr_assert_eq(lacd_core_init(&h), 0);
	h.acc.tx = acc_tx;
	h.ho.tx = um_tx;
	peer_reset(&h.ep, "192.0.2.10:1701", 7000000);
	cr_assert_eq(roam_sockaddr_parse("198.51.100.7:40000", 0, &mobile), 0);
	nacc = ndata = num = 0;
	link_id = mob_seq = 0;
}

static void setup(void)
{
	setup_with(true);
}

static void teardown(void)
{
	lacd_core_destroy(&h);
	lacd_conf_free(&h.conf);
	unlink(keypath);
}

static uint32_t attach(uint32_t nonce)
{
	struct access_msg a = { .type = ACCESS_ATTACH, .nonce = nonce, .min = MIN1 };
	unsigned before = nacc;
	mob_send_from(&mobile, &a);
	cr_assert_geq(nacc, before + 1);
	cr_assert_eq(acc_got(before), ACCESS_ATTACH_ACK);
	link_id = am.link_id;
	mob_seq = 0;
	return am.link_id;
}

static struct lacd_session *lns_icrp_plain(void)
{
	struct lacd_session *s = lacd_session_by_min(&h, MIN1);
	cr_assert_not_null(s);
	cr_assert_eq(last(), L2TP_MSG_ICRQ);
	msg_init(L2TP_MSG_ICRP, s->s.id);
	m.avps = L2TP_AVP_BIT(L2TP_AVP_ASSIGNED_SESSION_ID);
	m.assigned_session_id = LNS_SID;
	feed_lns();
	cr_assert_eq(last(), L2TP_MSG_ICCN);
	return s;
}

/* A USER_MOVED from another LAC (sender, timestamp, key). */
static size_t make_um(uint8_t *buf, size_t cap, uint32_t lac, uint64_t ts,
		      const struct roam_key *k, uint8_t key_id, uint16_t auth_proto)
{
	struct l2tp_user_moved um;
	struct wbuf w;
	memset(&um, 0, sizeof(um));
	um.key_id = key_id;
	um.timestamp_ms = ts;
	um.lac_addr = lac;
	um.lns_addr = LNS_ADDR;
	um.lns_port = 1701;
	um.old_tunnel_id = 4001;
	um.old_session_id = 4002;
	um.peer_tunnel_id = 600;
	um.peer_session_id = 70;
	um.hold_s = 20;
	um.state.data_ns = 100;
	um.state.data_nr = 200;
	um.state.ppp_phase = 3;
	um.state.ppp_flags = L2TP_PPP_LCP_OPENED | L2TP_PPP_AUTH_DONE | L2TP_PPP_IPCP_OPENED |
			     L2TP_PPP_DATA_SEQ;
	um.state.mru = 1500;
	um.state.accm_send = 0;
	um.state.accm_recv = 0;
	um.state.auth_proto = auth_proto;
	um.state.mobile_addr = 0x0a000005;
	snprintf(um.min, sizeof(um.min), "%s", MIN1);
	wbuf_init_fixed(&w, buf, cap);
	cr_assert_eq(l2tp_um_encode(&w, &um, k), 0);
	return w.len;
}

static void um_in(const uint8_t *pkt, size_t len, uint32_t src)
{
	lacd_ho_input(&h, pkt, len, src, now);
}

/* A USER-MOVED of the LAC lac (timestamp ts, key k with id key_id, auth_proto) from lac. */
static void um_from(uint32_t lac, uint64_t ts, const struct roam_key *k, uint8_t key_id,
		    uint16_t auth_proto)
{
	uint8_t pkt[256];
	size_t n = make_um(pkt, sizeof(pkt), lac, ts, k, key_id, auth_proto);
	um_in(pkt, n, lac);
}

TestSuite(lacd_handoff, .init = setup, .fini = teardown);

/* ---- the keys file ---- */

Test(lacd_handoff, keys_file_rules)
{
	char err[512];
	struct lacd_conf keep = h.conf;
	cr_assert_eq(h.conf.handoff.nkeys, 2);
	cr_assert_eq(h.conf.handoff.keys[0].id, 7, "the first line is the current key");
	cr_assert_eq(h.conf.handoff.keys[1].id, 3);
	char keys[256];
	snprintf(keys, sizeof(keys), "7 %s\n", KEY_CUR);
	write_keys(keys, 0640);
	cr_assert_lt(load(true, err, sizeof(err)), 0, "group-readable: refused");
	cr_assert(strstr(err, "handoff.key_file"), "%s", err);
	cr_assert(strstr(err, "group or others"), "%s", err);
	write_keys(keys, 0604);
	cr_assert_lt(load(true, err, sizeof(err)), 0, "world-readable: refused");
	write_keys("7 0011\n", 0600);
	cr_assert_lt(load(true, err, sizeof(err)), 0, "a short key: refused");
	write_keys("x 00112233445566778899aabbccddeeff\n", 0600);
	cr_assert_lt(load(true, err, sizeof(err)), 0, "a bad id: refused");
	snprintf(keys, sizeof(keys), "1 %s\n2 %s\n3 %s\n", KEY_CUR, KEY_CUR, KEY_CUR);
	write_keys(keys, 0600);
	cr_assert_lt(load(true, err, sizeof(err)), 0, "three keys: refused");
	write_keys("# nothing\n", 0600);
	cr_assert_lt(load(true, err, sizeof(err)), 0, "no key: refused");
	h.conf = keep;
}

Test(lacd_handoff, enabled_needs_key_file)
{
	char err[512];
	struct lacd_conf c;
	cr_assert_lt(lacd_conf_load_string(&c, "handoff:\n  enabled: yes\n", err, sizeof(err)), 0);
	cr_assert(strstr(err, "key_file"), "%s", err);
	cr_assert_eq(lacd_conf_load_string(&c, "handoff:\n  enabled: no\n", err, sizeof(err)), 0,
		     "%s", err);
	lacd_conf_free(&c);
}

/* ---- USER_MOVED acceptance and the table ---- */

Test(lacd_handoff, genuine_user_moved_stored_until_hold_time)
{
	um_from(OTHER_LAC, wall, &key_cur, 7, PPP_PROTO_CHAP);
	cr_assert_eq(h.ho.stats.um_accepted, 1);
	struct lacd_ho_entry *e = lacd_ho_lookup(&h, MIN1, now);
	cr_assert_not_null(e);
	cr_assert_eq(e->um.old_tunnel_id, 4001);
	cr_assert_eq(e->um.state.data_ns, 100);
	cr_assert_not(e->own);
	now += 19999;
	cr_assert_not_null(lacd_ho_lookup(&h, MIN1, now), "kept for the hold time");
	now += 1;
	lacd_ho_run_timers(&h, now);
	cr_assert_null(lacd_ho_lookup(&h, MIN1, now), "gone at the hold time");
	cr_assert_eq(h.ho.stats.table_expired, 1);
}

Test(lacd_handoff, previous_key_accepted)
{
	um_from(OTHER_LAC, wall, &key_prev, 3, PPP_PROTO_CHAP);
	cr_assert_eq(h.ho.stats.um_accepted, 1);
	cr_assert_not_null(lacd_ho_lookup(&h, MIN1, now));
}

Test(lacd_handoff, forged_dropped_and_window_untouched)
{
	uint8_t pkt[256];
	struct roam_key wrong;
	cr_assert_eq(auth_key_from_hex(&wrong, AUTH_ALG_HMAC_SHA256, KEY_PREV), 0);
	/* Signed with another key under the current id. */
	size_t n = make_um(pkt, sizeof(pkt), OTHER_LAC, wall + 5, &wrong, 7, PPP_PROTO_CHAP);
	um_in(pkt, n, OTHER_LAC);
	cr_assert_eq(h.ho.stats.um_bad_mac, 1);
	/* A genuine one with a flipped bit (the LNS address). */
	n = make_um(pkt, sizeof(pkt), OTHER_LAC, wall + 5, &key_cur, 7, PPP_PROTO_CHAP);
	pkt[21] ^= 1;
	um_in(pkt, n, OTHER_LAC);
	cr_assert_eq(h.ho.stats.um_bad_mac, 2);
	cr_assert_null(lacd_ho_lookup(&h, MIN1, now), "table untouched");
	cr_assert_eq(table_count(&h.ho.senders), 0, "replay state untouched");
	/* The same timestamp, genuine: accepted (the forgeries did not consume it). */
	n = make_um(pkt, sizeof(pkt), OTHER_LAC, wall + 5, &key_cur, 7, PPP_PROTO_CHAP);
	um_in(pkt, n, OTHER_LAC);
	cr_assert_eq(h.ho.stats.um_accepted, 1);
	/* Unknown key id. */
	n = make_um(pkt, sizeof(pkt), OTHER_LAC, wall + 6, &key_cur, 9, PPP_PROTO_CHAP);
	um_in(pkt, n, OTHER_LAC);
	cr_assert_eq(h.ho.stats.um_unknown_key, 1);
	cr_assert_eq(h.ho.stats.um_accepted, 1);
}

Test(lacd_handoff, replayed_and_stale_dropped)
{
	uint8_t pkt[256];
	size_t n = make_um(pkt, sizeof(pkt), OTHER_LAC, wall, &key_cur, 7, PPP_PROTO_CHAP);
	um_in(pkt, n, OTHER_LAC);
	cr_assert_eq(h.ho.stats.um_accepted, 1);
	/* The table entry is consumed meanwhile; the replay must not bring it back. */
	struct lacd_ho_entry *e = lacd_ho_lookup(&h, MIN1, now);
	table_remove(&h.ho.table, &e->node);
	free(e);
	um_in(pkt, n, OTHER_LAC);
	cr_assert_eq(h.ho.stats.um_replayed, 1);
	cr_assert_null(lacd_ho_lookup(&h, MIN1, now));
	/* 31 s old, and 31 s in the future: outside the window. */
	n = make_um(pkt, sizeof(pkt), OTHER_LAC, wall - 31000, &key_cur, 7, PPP_PROTO_CHAP);
	um_in(pkt, n, OTHER_LAC);
	n = make_um(pkt, sizeof(pkt), OTHER_LAC, wall + 31000, &key_cur, 7, PPP_PROTO_CHAP);
	um_in(pkt, n, OTHER_LAC);
	cr_assert_eq(h.ho.stats.um_stale, 2);
	cr_assert_null(lacd_ho_lookup(&h, MIN1, now));
	/* Another sender has its own window: the same timestamp is fine from it. */
	n = make_um(pkt, sizeof(pkt), OTHER_LAC + 1, wall, &key_cur, 7, PPP_PROTO_CHAP);
	um_in(pkt, n, OTHER_LAC + 1);
	cr_assert_eq(h.ho.stats.um_accepted, 2);
}

Test(lacd_handoff, own_and_malformed_dropped)
{
	uint8_t pkt[256];
	size_t n = make_um(pkt, sizeof(pkt), OUR_LAC, wall, &key_cur, 7, PPP_PROTO_CHAP);
	um_in(pkt, n, OUR_LAC);
	um_in(pkt, n, OTHER_LAC); /* relayed from elsewhere: the LAC Address is still ours */
	cr_assert_eq(h.ho.stats.um_own, 2);
	cr_assert_null(lacd_ho_lookup(&h, MIN1, now));
	n = make_um(pkt, sizeof(pkt), OTHER_LAC, wall, &key_cur, 7, PPP_PROTO_CHAP);
	/* Truncated at every length, one byte too long, bad magic: malformed. */
	for (size_t i = 0; i < n; i++)
		um_in(pkt, i, OTHER_LAC);
	uint8_t longer[257];
	memcpy(longer, pkt, n);
	longer[n] = 0;
	um_in(longer, n + 1, OTHER_LAC);
	pkt[0] ^= 0xff;
	um_in(pkt, n, OTHER_LAC);
	cr_assert_eq(h.ho.stats.um_malformed + h.ho.stats.um_unknown_key, n + 2);
	cr_assert_eq(h.ho.stats.um_accepted, 0);
	cr_assert_null(lacd_ho_lookup(&h, MIN1, now));
	cr_assert_eq(h.ho.stats.um_rx, 2 + n + 2);
}

/* ---- leaving (figure 5) ---- */

/* A call with PPP as the LNS and the mobile negotiated it (snooped by the LAC). */
static struct lacd_session *established_call(void)
{
	attach(1);
	lns_sccrp();
	struct lacd_session *s = lns_icrp_plain();
	cr_assert_eq(s->s.state, LACD_S_ESTABLISHED);
	/* LCP Configure-Ack from the mobile to the LNS's request (CHAP-MD5). */
	static const uint8_t ack_up[] = { 2, 1, 0, 9, 3, 5, 0xc2, 0x23, 5 };
	mob_ppp(PPP_PROTO_LCP, ack_up, sizeof(ack_up));
	/* ... and from the LNS (the mobile's MRU 1400), CHAP Success, IPCP acks. */
	uint8_t dm[64];
	struct wbuf w;
	uint16_t ns = 0;
	static const uint8_t ack_down[] = { 0xff, 3, 0xc0, 0x21, 2, 1, 0, 8, 1, 4, 0x05, 0x78 };
	static const uint8_t success[] = { 0xff, 3, 0xc2, 0x23, 3, 9, 0, 4 };
	static const uint8_t ipcp_down[] = { 0xff, 3, 0x80, 0x21, 2, 2, 0, 10, 3, 6, 10, 0, 0, 5 };
	const uint8_t *frames[] = { ack_down, success, ipcp_down };
	size_t lens[] = { sizeof(ack_down), sizeof(success), sizeof(ipcp_down) };
	for (int i = 0; i < 3; i++) {
		struct l2tp_hdr oh = { .flags = L2TP_HDR_L | L2TP_HDR_S, .tunnel_id = tid,
				       .session_id = s->s.id, .ns = ns++ };
		wbuf_init_fixed(&w, dm, sizeof(dm));
		cr_assert_eq(l2tp_data_hdr_encode(&w, &oh, lens[i]), 0);
		wbuf_put_bytes(&w, frames[i], lens[i]);
		l2tp_ep_input(&h.ep, dm, w.len, &peer, NULL, now);
	}
	static const uint8_t ipcp_up[] = { 2, 1, 0, 10, 3, 6, 10, 0, 0, 1 };
	mob_ppp(PPP_PROTO_IPCP, ipcp_up, sizeof(ipcp_up));
	cr_assert_eq(s->s.data_ns, 2, "two frames sent to the LNS");
	cr_assert_eq(s->s.data_nr, 3);
	return s;
}

Test(lacd_handoff, lost_mobile_sends_cdn_handoff_user_moved_stopccn)
{
	struct lacd_session *s = established_call();
	uint16_t sid = s->s.id, t_id = s->s.t->id;
	unsigned before = nout;
	now += 3000;
	lacd_access_run_timers(&h, now);
	cr_assert_null(lacd_session_by_min(&h, MIN1));
	/* CDN: Result 1 + Handoff Cause + Call State. */
	cr_assert_eq(count(L2TP_MSG_CDN, before), 1);
	unsigned i;
	for (i = before; got(i) != L2TP_MSG_CDN; i++)
		;
	cr_assert_eq(r.result.result, L2TP_CDN_LOST_CARRIER);
	cr_assert_eq(r.assigned_session_id, sid);
	cr_assert(r.ho_avps & L2TP_HO_BIT(L2TP_HO_AVP_CAUSE));
	cr_assert(r.ho_avps & L2TP_HO_BIT(L2TP_HO_AVP_CALL_STATE));
	cr_assert_eq(r.ho_cause.cause, L2TP_HO_CAUSE_MOBILE_LOST);
	cr_assert_str_eq(r.ho_cause.min, MIN1);
	cr_assert_eq(r.ho_state.data_ns, 2);
	cr_assert_eq(r.ho_state.data_nr, 3);
	cr_assert_eq(r.ho_state.auth_proto, PPP_PROTO_CHAP);
	cr_assert_eq(r.ho_state.mru, 1400);
	cr_assert_eq(r.ho_state.mobile_addr, 0x0a000005);
	cr_assert_eq(r.ho_state.ppp_phase, 3);
	cr_assert_eq(r.ho_state.ppp_flags, L2TP_PPP_LCP_OPENED | L2TP_PPP_AUTH_DONE |
						   L2TP_PPP_IPCP_OPENED | L2TP_PPP_DATA_SEQ);
	/* StopCCN after it: no other session on the tunnel. */
	cr_assert_eq(count(L2TP_MSG_STOPCCN, i), 1);
	/* USER_MOVED to the group, verifiable with the current key. */
	cr_assert_eq(num, 1);
	struct l2tp_user_moved um;
	cr_assert_eq(l2tp_um_decode(um_out[0].buf, um_out[0].len, &key_cur, &um), 0);
	cr_assert_eq(um.key_id, 7);
	cr_assert_str_eq(um.min, MIN1);
	cr_assert_eq(um.lac_addr, OUR_LAC);
	cr_assert_eq(um.lns_addr, LNS_ADDR);
	cr_assert_eq(um.lns_port, 1701);
	cr_assert_eq(um.old_tunnel_id, t_id);
	cr_assert_eq(um.old_session_id, sid);
	cr_assert_eq(um.peer_tunnel_id, LNS_TID);
	cr_assert_eq(um.peer_session_id, LNS_SID);
	cr_assert_eq(um.hold_s, 20);
	cr_assert_eq(um.timestamp_ms, wall);
	cr_assert_eq(um.state.data_ns, 2);
	cr_assert_eq(h.ho.stats.handoffs_sent, 1);
	cr_assert_eq(h.ho.stats.um_sent, 1);
	/* Our own entry: the mobile may come back. */
	struct lacd_ho_entry *e = lacd_ho_lookup(&h, MIN1, now);
	cr_assert_not_null(e);
	cr_assert(e->own);
}

Test(lacd_handoff, detach_moving_is_a_loss)
{
	established_call();
	unsigned before = nout;
	struct access_msg d = { .type = ACCESS_DETACH, .cause = ACCESS_DETACH_MOVING };
	mob_send(&d);
	cr_assert_eq(count(L2TP_MSG_CDN, before), 1);
	unsigned i;
	for (i = before; got(i) != L2TP_MSG_CDN; i++)
		;
	cr_assert(r.ho_avps & L2TP_HO_BIT(L2TP_HO_AVP_CAUSE));
	cr_assert_eq(num, 1);
	/* The mobile comes back and leaves again within the same ms: a later timestamp. */
	struct l2tp_user_moved um1, um2;
	cr_assert_eq(l2tp_um_decode(um_out[0].buf, um_out[0].len, &key_cur, &um1), 0);
	struct lacd_ho_entry *e = lacd_ho_lookup(&h, MIN1, now);
	table_remove(&h.ho.table, &e->node);
	free(e);
	nout = 0;
	peer_reset(&h.ep, "192.0.2.10:1701", now);
	established_call();
	mob_send(&d);
	cr_assert_eq(num, 2);
	cr_assert_eq(l2tp_um_decode(um_out[1].buf, um_out[1].len, &key_cur, &um2), 0);
	cr_assert_eq(um2.timestamp_ms, um1.timestamp_ms + 1);
}

Test(lacd_handoff, disabled_gives_plain_cdn)
{
	teardown();
	setup_with(false);
	established_call();
	unsigned before = nout;
	now += 3000;
	lacd_access_run_timers(&h, now);
	cr_assert_eq(count(L2TP_MSG_CDN, before), 1);
	unsigned i;
	for (i = before; got(i) != L2TP_MSG_CDN; i++)
		;
	cr_assert_eq(r.result.result, L2TP_CDN_LOST_CARRIER);
	cr_assert_eq(r.ho_avps, 0, "no handoff AVP");
	cr_assert_eq(r.n_unknown, 0, "not even as unknown vendor AVPs");
	cr_assert_eq(num, 0, "no USER_MOVED");
	cr_assert_eq(count(L2TP_MSG_STOPCCN, before), 0, "idle timer as usual");
	cr_assert_eq(h.ho.stats.plain_cdn, 1);
	/* USER_MOVED is not even looked at. */
	um_from(OTHER_LAC, wall, &key_cur, 7, PPP_PROTO_CHAP);
	cr_assert_eq(h.ho.stats.um_accepted, 0);
}

/* ---- arriving (figure 6) ---- */

/* The mobile: a real PPP peer, opened (LCP, CHAP, IPCP) on the old LAC. */
static struct ppp mob_ppp_peer;
static struct {
	uint16_t proto;
	uint8_t info[512];
	size_t len;
} mob_outq[8];
static unsigned nmob_out;

static void mob_output(void *ctx, uint16_t proto, const uint8_t *info, size_t len)
{
	(void)ctx;
	cr_assert_lt(nmob_out, 8);
	mob_outq[nmob_out].proto = proto;
	memcpy(mob_outq[nmob_out].info, info, len);
	mob_outq[nmob_out].len = len;
	nmob_out++;
}

static void mob_event(void *ctx, const struct ppp_event *ev)
{
	(void)ctx, (void)ev;
}

static void mobile_ppp_open(void)
{
	struct ppp_cfg cfg;
	struct ppp_ops ops = { .output = mob_output, .event = mob_event };
	struct ppp_state st;
	ppp_cfg_default(&cfg, PPP_ROLE_PEER);
	snprintf(cfg.name, sizeof(cfg.name), "mobile1");
	memcpy(cfg.secret, "mobilepw", 8);
	cfg.secret_len = 8;
	cfg.echo_interval_ms = 0;
	cr_assert_eq(ppp_init(&mob_ppp_peer, &cfg, &ops, NULL), 0);
	memset(&st, 0, sizeof(st));
	st.role = PPP_ROLE_PEER;
	st.phase = PPP_PHASE_NETWORK;
	st.mru_recv = st.mru_send = 1500;
	st.accm_recv = st.accm_send = 0;
	st.auth_proto = PPP_PROTO_CHAP;
	st.authenticated = 1;
	st.ipcp_opened = 1;
	st.addr_local = 0x0a000005;
	st.addr_peer = 0x0a000001;
	cr_assert_eq(ppp_state_import(&mob_ppp_peer, &st, now), 0);
	nmob_out = 0;
}

/* A USER_MOVED for MIN1 is in the table, the mobile attaches: the LAC re-challenges. */
static void arrive_and_challenge(uint8_t *chal_id, uint8_t chal[16])
{
	uint8_t pkt[256];
	size_t n = make_um(pkt, sizeof(pkt), OTHER_LAC, wall, &key_cur, 7, PPP_PROTO_CHAP);
	um_in(pkt, n, OTHER_LAC);
	cr_assert_eq(h.ho.stats.um_accepted, 1);
	unsigned before = nacc;
	attach(42);
	cr_assert_null(lacd_session_by_min(&h, MIN1), "no call before the mobile answers");
	cr_assert_eq(nout, 0, "nothing to the LNS yet");
	cr_assert_eq(nacc, before + 2, "ATTACH-ACK, then the CHAP Challenge");
	uint16_t proto;
	uint8_t info[512];
	size_t len;
	acc_frame(before + 1, &proto, info, &len);
	cr_assert_eq(proto, PPP_PROTO_CHAP);
	struct ppp_chap c;
	cr_assert_eq(ppp_chap_decode(info, len, &c), 0);
	cr_assert_eq(c.code, PPP_CHAP_CHALLENGE);
	cr_assert_eq(c.value_len, 16);
	cr_assert_eq(c.name_len, 4);
	cr_assert(memcmp(c.name, "lac1", 4) == 0);
	*chal_id = c.id;
	memcpy(chal, c.value, 16);
	/* The mobile's PPP (opened) answers it, and stays in the network phase. */
	mobile_ppp_open();
	cr_assert_eq(ppp_input(&mob_ppp_peer, proto, info, len, now), 0);
	cr_assert_eq(nmob_out, 1);
	cr_assert_eq(mob_outq[0].proto, PPP_PROTO_CHAP);
	cr_assert(ppp_is_up(&mob_ppp_peer));
	cr_assert_eq(mob_ppp_peer.phase, PPP_PHASE_NETWORK);
}

static void mobile_sends_response(void)
{
	mob_ppp(mob_outq[0].proto, mob_outq[0].info, mob_outq[0].len);
}

Test(lacd_handoff, arrival_accepted_resumes_with_proxy_authen)
{
	uint8_t id, chal[16];
	arrive_and_challenge(&id, chal);
	/* An IP packet from the mobile meanwhile: queued, not lost. */
	static const uint8_t ip[] = { 0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 5,
				      10, 0, 0, 1 };
	mob_ppp(PPP_PROTO_IP, ip, sizeof(ip));
	mobile_sends_response();
	cr_assert_eq(h.ho.stats.chap_responses, 1);
	/* A tunnel (authenticated) to the LNS of USER_MOVED, then the handoff ICRQ. */
	lns_sccrp();
	struct lacd_session *s = lacd_session_by_min(&h, MIN1);
	cr_assert_not_null(s);
	cr_assert(s->s.t->authenticated);
	cr_assert_eq(last(), L2TP_MSG_ICRQ);
	cr_assert_eq(r.calling_number.len, 10);
	cr_assert(memcmp(r.calling_number.p, MIN1, 10) == 0);
	cr_assert(r.ho_avps & L2TP_HO_BIT(L2TP_HO_AVP_REQUEST));
	cr_assert(r.ho_avps & L2TP_HO_BIT(L2TP_HO_AVP_CALL_STATE));
	cr_assert_eq(r.ho_request.old_tunnel_id, 4001);
	cr_assert_eq(r.ho_request.old_session_id, 4002);
	cr_assert_str_eq(r.ho_request.min, MIN1);
	cr_assert_eq(r.ho_state.data_ns, 100);
	cr_assert_eq(r.ho_state.data_nr, 200);
	cr_assert_eq(h.ho.stats.handoffs_requested, 1);
	cr_assert_eq(ndata, 0, "the CHAP Response was not relayed as data");
	/* ICRP: Handoff Accepted with the LNS's restored state. */
	msg_init(L2TP_MSG_ICRP, s->s.id);
	m.avps = L2TP_AVP_BIT(L2TP_AVP_ASSIGNED_SESSION_ID);
	m.assigned_session_id = LNS_SID;
	m.ho_avps = L2TP_HO_BIT(L2TP_HO_AVP_ACCEPTED) | L2TP_HO_BIT(L2TP_HO_AVP_CALL_STATE);
	m.ho_accepted.old_tunnel_id = 4001;
	m.ho_accepted.old_session_id = 4002;
	m.ho_state.data_ns = 201; /* the LNS sends 201 next */
	m.ho_state.data_nr = 100; /* and expects 100 */
	m.ho_state.ppp_phase = 3;
	unsigned before_acc = nacc;
	feed_lns();
	cr_assert_eq(last(), L2TP_MSG_ICCN);
	cr_assert(r.avps & L2TP_AVP_BIT(L2TP_AVP_PROXY_AUTH_TYPE));
	cr_assert_eq(r.proxy_auth_type, L2TP_PROXY_AUTH_CHAP);
	cr_assert_eq(r.proxy_auth_name.len, 7);
	cr_assert(memcmp(r.proxy_auth_name.p, "mobile1", 7) == 0);
	cr_assert_eq(r.proxy_auth_id, id);
	cr_assert_eq(r.proxy_auth_challenge.len, 16);
	cr_assert(memcmp(r.proxy_auth_challenge.p, chal, 16) == 0);
	uint8_t want[16];
	cr_assert_eq(ppp_chap_md5(id, "mobilepw", 8, chal, 16, want), 0);
	cr_assert_eq(r.proxy_auth_response.len, 16);
	cr_assert(memcmp(r.proxy_auth_response.p, want, 16) == 0, "the mobile's own Response");
	cr_assert(r.avps & L2TP_AVP_BIT(L2TP_AVP_SEQUENCING_REQUIRED));
	cr_assert_eq(s->s.state, LACD_S_ESTABLISHED);
	cr_assert_eq(s->ho.state, LACD_HO_RESUMED);
	cr_assert_eq(h.ho.stats.handoffs_accepted, 1);
	cr_assert_null(lacd_ho_lookup(&h, MIN1, now), "entry removed");
	/* The mobile got CHAP Success for its Response, and stays up. */
	uint16_t proto;
	uint8_t info[512];
	size_t len;
	cr_assert_geq(nacc, before_acc + 1);
	acc_frame(before_acc, &proto, info, &len);
	cr_assert_eq(proto, PPP_PROTO_CHAP);
	cr_assert_eq(info[0], PPP_CHAP_SUCCESS);
	cr_assert_eq(info[1], id);
	nmob_out = 0;
	ppp_input(&mob_ppp_peer, proto, info, len, now);
	cr_assert(ppp_is_up(&mob_ppp_peer));
	cr_assert_eq(nmob_out, 0);
	/* The queued IP packet went out with the restored Ns. */
	cr_assert_eq(ndata, 1);
	struct l2tp_hdr hd;
	cr_assert_eq(l2tp_hdr_decode(data_out[0].buf, data_out[0].len, &hd), 0);
	cr_assert(hd.flags & L2TP_HDR_S);
	cr_assert_eq(hd.ns, 100);
	cr_assert_eq(hd.session_id, LNS_SID);
	/* From the LNS: Ns 201 is delivered, 200 (before the handoff point) is late. */
	uint8_t dm[64];
	struct wbuf w;
	static const uint8_t ipf[] = { 0xff, 3, 0, 0x21, 0x45, 0, 0, 20 };
	unsigned b2 = nacc;
	for (uint16_t ns = 200; ns <= 201; ns++) {
		struct l2tp_hdr oh = { .flags = L2TP_HDR_L | L2TP_HDR_S, .tunnel_id = tid,
				       .session_id = s->s.id, .ns = ns };
		wbuf_init_fixed(&w, dm, sizeof(dm));
		cr_assert_eq(l2tp_data_hdr_encode(&w, &oh, sizeof(ipf)), 0);
		wbuf_put_bytes(&w, ipf, sizeof(ipf));
		l2tp_ep_input(&h.ep, dm, w.len, &peer, NULL, now);
	}
	cr_assert_eq(nacc, b2 + 1, "only Ns 201 reaches the mobile");
	cr_assert_eq(s->s.rx_data_late, 1);

	/* It moves on: this LAC never saw its PPP negotiation, the Call State it passes on is
	 * the one it was given (CHAP, flags, address), with its own data Ns/Nr. */
	unsigned before = nout;
	now += 3000;
	lacd_access_run_timers(&h, now);
	cr_assert_eq(count(L2TP_MSG_CDN, before), 1);
	cr_assert_eq(num, 1);
	struct l2tp_user_moved um;
	cr_assert_eq(l2tp_um_decode(um_out[0].buf, um_out[0].len, &key_cur, &um), 0);
	cr_assert_eq(um.state.auth_proto, PPP_PROTO_CHAP);
	cr_assert_eq(um.state.ppp_phase, 3);
	cr_assert_eq(um.state.ppp_flags, L2TP_PPP_LCP_OPENED | L2TP_PPP_AUTH_DONE |
						 L2TP_PPP_IPCP_OPENED | L2TP_PPP_DATA_SEQ);
	cr_assert_eq(um.state.mobile_addr, 0x0a000005);
	cr_assert_eq(um.state.data_ns, 101);
	cr_assert_eq(um.state.data_nr, 202);
}

Test(lacd_handoff, arrival_refused_falls_back_to_plain_call)
{
	uint8_t id, chal[16];
	arrive_and_challenge(&id, chal);
	mobile_sends_response();
	lns_sccrp();
	struct lacd_session *s = lacd_session_by_min(&h, MIN1);
	cr_assert_eq(last(), L2TP_MSG_ICRQ);
	msg_init(L2TP_MSG_ICRP, s->s.id);
	m.avps = L2TP_AVP_BIT(L2TP_AVP_ASSIGNED_SESSION_ID);
	m.assigned_session_id = LNS_SID;
	m.ho_avps = L2TP_HO_BIT(L2TP_HO_AVP_REFUSED);
	m.ho_refused.reason = L2TP_HO_REFUSE_UNKNOWN_MIN;
	feed_lns();
	cr_assert_eq(last(), L2TP_MSG_ICCN);
	cr_assert_eq(r.avps & L2TP_AVP_BIT(L2TP_AVP_PROXY_AUTH_TYPE), 0, "plain ICCN");
	cr_assert_eq(s->s.state, LACD_S_ESTABLISHED);
	cr_assert_eq(s->ho.state, LACD_HO_NONE);
	cr_assert_eq(h.ho.stats.handoffs_refused, 1);
	cr_assert_eq(h.ho.stats.refused[L2TP_HO_REFUSE_UNKNOWN_MIN], 1);
	cr_assert_eq(h.ho.stats.fallback_calls, 1);
	cr_assert_null(lacd_ho_lookup(&h, MIN1, now));
}

Test(lacd_handoff, refused_at_iccn_places_fresh_call)
{
	uint8_t id, chal[16];
	arrive_and_challenge(&id, chal);
	mobile_sends_response();
	lns_sccrp();
	struct lacd_session *s = lacd_session_by_min(&h, MIN1);
	msg_init(L2TP_MSG_ICRP, s->s.id);
	m.avps = L2TP_AVP_BIT(L2TP_AVP_ASSIGNED_SESSION_ID);
	m.assigned_session_id = LNS_SID;
	m.ho_avps = L2TP_HO_BIT(L2TP_HO_AVP_ACCEPTED) | L2TP_HO_BIT(L2TP_HO_AVP_CALL_STATE);
	m.ho_accepted.old_tunnel_id = 4001;
	m.ho_accepted.old_session_id = 4002;
	feed_lns();
	cr_assert_eq(last(), L2TP_MSG_ICCN);
	uint16_t old_sid = s->s.id;
	/* The LNS does not take the mobile's credentials: CDN 2/6 + Handoff Refused 5. */
	unsigned before = nout, bacc = nacc;
	msg_init(L2TP_MSG_CDN, old_sid);
	m.avps = L2TP_AVP_BIT(L2TP_AVP_RESULT_CODE) | L2TP_AVP_BIT(L2TP_AVP_ASSIGNED_SESSION_ID);
	m.result.result = L2TP_CDN_GENERAL_ERROR;
	m.result.error = L2TP_ERR_VENDOR;
	m.result.has_error = 1;
	m.assigned_session_id = LNS_SID;
	m.ho_avps = L2TP_HO_BIT(L2TP_HO_AVP_REFUSED);
	m.ho_refused.reason = L2TP_HO_REFUSE_MOBILE_AUTH;
	feed_lns();
	cr_assert_eq(count(L2TP_MSG_ICRQ, before), 1, "a fresh call");
	cr_assert_eq(r.ho_avps, 0, "a plain ICRQ");
	cr_assert_not_null(lacd_link_by_min(&h, MIN1), "the mobile stays attached");
	for (unsigned i = bacc; i < nacc; i++)
		cr_assert_neq(acc_got(i), ACCESS_DETACH);
	cr_assert_eq(h.ho.stats.refused[L2TP_HO_REFUSE_MOBILE_AUTH], 1);
	s = lacd_session_by_min(&h, MIN1);
	cr_assert_not_null(s);
	cr_assert_neq(s->s.id, old_sid);
}

Test(lacd_handoff, no_chap_answer_falls_back)
{
	uint8_t id, chal[16];
	arrive_and_challenge(&id, chal);
	/* A wrong identifier is consumed, not relayed, and not taken. */
	uint8_t bad[64];
	memcpy(bad, mob_outq[0].info, mob_outq[0].len);
	bad[1] ^= 0x55;
	mob_ppp(PPP_PROTO_CHAP, bad, mob_outq[0].len);
	cr_assert_eq(h.ho.stats.chap_bad_response, 1);
	cr_assert_null(lacd_session_by_min(&h, MIN1));
	/* Re-challenged twice (new id and value), then a fresh call. */
	for (int i = 0; i < 2; i++) {
		now += 1000;
		lacd_access_run_timers(&h, now);
	}
	cr_assert_eq(h.ho.stats.chap_challenges, 3);
	cr_assert_null(lacd_session_by_min(&h, MIN1));
	struct access_msg k = { .type = ACCESS_KEEPALIVE, .timestamp = 1 };
	mob_send(&k); /* still alive */
	now += 1000;
	lacd_access_run_timers(&h, now);
	cr_assert_eq(h.ho.stats.fallback_chap_timeout, 1);
	cr_assert_eq(h.ho.stats.fallback_calls, 1);
	cr_assert_not_null(lacd_session_by_min(&h, MIN1), "a plain call");
	cr_assert_eq(last(), L2TP_MSG_SCCRQ);
}

Test(lacd_handoff, pap_mobile_gets_plain_call)
{
	um_from(OTHER_LAC, wall, &key_cur, 7, PPP_PROTO_PAP);
	attach(5);
	cr_assert_not_null(lacd_session_by_min(&h, MIN1), "a call at once");
	cr_assert_eq(h.ho.stats.fallback_not_chap, 1);
	cr_assert_eq(h.ho.stats.chap_challenges, 0);
}

Test(lacd_handoff, replaced_link_is_a_loss_and_resumes_here)
{
	established_call();
	unsigned before = nout, bacc = nacc;
	/* The mobile attaches again (new Nonce) while its link still looks alive. */
	struct access_msg a = { .type = ACCESS_ATTACH, .nonce = 99, .min = MIN1 };
	mob_send_from(&mobile, &a);
	cr_assert_eq(h.acc.stats.links_replaced, 1);
	cr_assert_eq(count(L2TP_MSG_CDN, before), 1);
	unsigned i;
	for (i = before; got(i) != L2TP_MSG_CDN; i++)
		;
	cr_assert(r.ho_avps & L2TP_HO_BIT(L2TP_HO_AVP_CAUSE), "the old call is parked");
	cr_assert_eq(num, 1, "USER_MOVED");
	cr_assert_eq(acc_got(bacc), ACCESS_ATTACH_ACK);
	uint16_t proto;
	uint8_t info[512];
	size_t len;
	acc_frame(bacc + 1, &proto, info, &len);
	cr_assert_eq(proto, PPP_PROTO_CHAP, "and the new link is re-challenged");
	cr_assert_eq(info[0], PPP_CHAP_CHALLENGE);
	cr_assert_null(lacd_session_by_min(&h, MIN1));
}

Test(lacd_handoff, coming_back_to_the_same_lac)
{
	established_call();
	now += 3000;
	lacd_access_run_timers(&h, now);
	cr_assert_eq(num, 1);
	/* The mobile attaches here again: our own entry is found, re-challenge. */
	unsigned before = nacc;
	attach(77);
	cr_assert_eq(nacc, before + 2);
	uint16_t proto;
	uint8_t info[512];
	size_t len;
	acc_frame(before + 1, &proto, info, &len);
	cr_assert_eq(proto, PPP_PROTO_CHAP);
	cr_assert_eq(info[0], PPP_CHAP_CHALLENGE);
}

/* ---- A -> B -> A: our own entry is stale once the call moved on ---- */

#define THIRD_LAC 0xc0000233u /* 192.0.2.51 */

/* The mobile answers the CHAP Challenge in DATA message i to it. */
static void answer_challenge(unsigned i)
{
	uint16_t proto;
	uint8_t info[512];
	size_t len;
	acc_frame(i, &proto, info, &len);
	cr_assert_eq(proto, PPP_PROTO_CHAP);
	cr_assert_eq(info[0], PPP_CHAP_CHALLENGE);
	mobile_ppp_open();
	cr_assert_eq(ppp_input(&mob_ppp_peer, proto, info, len, now), 0);
	cr_assert_eq(nmob_out, 1);
	mobile_sends_response();
}

/* This LAC is A: the mobile leaves it (own entry), B resumes the call and hands it off in
 * turn (a newer USER_MOVED): B's entry replaces ours, a late older one does not replace B's,
 * and when the mobile comes back the handoff request names B's ids, not our stale ones. */
Test(lacd_handoff, a_b_a_newer_user_moved_replaces_own_entry)
{
	struct lacd_session *s = established_call();
	uint16_t own_tid = s->s.t->id, own_sid = s->s.id;
	now += 3000;
	lacd_access_run_timers(&h, now);
	struct lacd_ho_entry *e = lacd_ho_lookup(&h, MIN1, now);
	cr_assert_not_null(e);
	cr_assert(e->own);
	cr_assert_eq(e->um.old_tunnel_id, own_tid);
	uint64_t own_ts = e->um.timestamp_ms;

	um_from(OTHER_LAC, own_ts + 2000, &key_cur, 7, PPP_PROTO_CHAP);
	e = lacd_ho_lookup(&h, MIN1, now);
	cr_assert_not_null(e);
	cr_assert_not(e->own, "B's USER_MOVED replaced our own entry");
	cr_assert_eq(e->um.lac_addr, OTHER_LAC);
	cr_assert_eq(e->um.old_tunnel_id, 4001);
	cr_assert_eq(h.ho.stats.own_superseded, 1);

	/* A third LAC's USER_MOVED for the same MIN, older than B's, arriving late. */
	um_from(THIRD_LAC, own_ts + 1000, &key_cur, 7, PPP_PROTO_CHAP);
	cr_assert_eq(h.ho.stats.um_older, 1);
	cr_assert_eq(lacd_ho_lookup(&h, MIN1, now)->um.lac_addr, OTHER_LAC);

	/* The mobile is back: re-challenged, and the ICRQ asks for the call B parked. */
	peer_reset(&h.ep, "192.0.2.10:1701", now);
	unsigned before = nacc;
	attach(78);
	cr_assert_eq(nacc, before + 2);
	answer_challenge(before + 1);
	lns_sccrp();
	cr_assert_eq(last(), L2TP_MSG_ICRQ);
	cr_assert(r.ho_avps & L2TP_HO_BIT(L2TP_HO_AVP_REQUEST));
	cr_assert_eq(r.ho_request.old_tunnel_id, 4001);
	cr_assert_eq(r.ho_request.old_session_id, 4002);
	cr_assert(r.ho_request.old_tunnel_id != own_tid || r.ho_request.old_session_id != own_sid);
}

/* The race: the mobile is back at A before B's USER_MOVED arrives, so A asks with its own
 * (stale) entry; B's USER_MOVED arrives while the ICRQ is on its way and the LNS refuses
 * (mismatch: the call is parked under B's ids).  A asks again at once with B's entry: no
 * fresh call, no PPP renegotiation, the mobile stays attached. */
Test(lacd_handoff, a_b_a_refused_stale_own_entry_asks_again)
{
	struct lacd_session *s = established_call();
	uint16_t own_tid = s->s.t->id, own_sid = s->s.id;
	now += 3000;
	lacd_access_run_timers(&h, now);
	uint64_t own_ts = lacd_ho_lookup(&h, MIN1, now)->um.timestamp_ms;

	peer_reset(&h.ep, "192.0.2.10:1701", now);
	unsigned before = nacc;
	attach(79);
	answer_challenge(before + 1);
	lns_sccrp();
	cr_assert_eq(last(), L2TP_MSG_ICRQ);
	cr_assert_eq(r.ho_request.old_tunnel_id, own_tid, "our own entry, B's not heard yet");
	cr_assert_eq(r.ho_request.old_session_id, own_sid);
	s = lacd_session_by_min(&h, MIN1);
	cr_assert_not_null(s);
	uint16_t first_sid = s->s.id;

	um_from(OTHER_LAC, own_ts + 2000, &key_cur, 7, PPP_PROTO_CHAP);

	unsigned bout = nout, bacc = nacc;
	msg_init(L2TP_MSG_ICRP, first_sid);
	m.avps = L2TP_AVP_BIT(L2TP_AVP_ASSIGNED_SESSION_ID);
	m.assigned_session_id = LNS_SID;
	m.ho_avps = L2TP_HO_BIT(L2TP_HO_AVP_REFUSED);
	m.ho_refused.reason = L2TP_HO_REFUSE_MISMATCH;
	feed_lns();
	cr_assert_eq(h.ho.stats.refused[L2TP_HO_REFUSE_MISMATCH], 1);
	cr_assert_eq(h.ho.stats.handoffs_retried, 1);
	cr_assert_eq(h.ho.stats.fallback_calls, 0, "no fresh call");
	cr_assert_eq(count(L2TP_MSG_CDN, bout), 1, "the refused call cleared");
	cr_assert_eq(count(L2TP_MSG_ICCN, bout), 0);
	cr_assert_eq(last(), L2TP_MSG_ICRQ);
	cr_assert(r.ho_avps & L2TP_HO_BIT(L2TP_HO_AVP_REQUEST));
	cr_assert_eq(r.ho_request.old_tunnel_id, 4001, "asked again with B's ids");
	cr_assert_eq(r.ho_request.old_session_id, 4002);
	cr_assert_not_null(lacd_link_by_min(&h, MIN1), "the mobile stays attached");
	for (unsigned i = bacc; i < nacc; i++)
		cr_assert_neq(acc_got(i), ACCESS_DETACH);

	/* The LNS accepts that one: ICCN with the mobile's CHAP (the same Response). */
	s = lacd_session_by_min(&h, MIN1);
	cr_assert_not_null(s);
	cr_assert_neq(s->s.id, first_sid);
	msg_init(L2TP_MSG_ICRP, s->s.id);
	m.avps = L2TP_AVP_BIT(L2TP_AVP_ASSIGNED_SESSION_ID);
	m.assigned_session_id = LNS_SID + 1;
	m.ho_avps = L2TP_HO_BIT(L2TP_HO_AVP_ACCEPTED) | L2TP_HO_BIT(L2TP_HO_AVP_CALL_STATE);
	m.ho_accepted.old_tunnel_id = 4001;
	m.ho_accepted.old_session_id = 4002;
	feed_lns();
	cr_assert_eq(last(), L2TP_MSG_ICCN);
	cr_assert_eq(r.proxy_auth_type, L2TP_PROXY_AUTH_CHAP);
	cr_assert_eq(s->ho.state, LACD_HO_RESUMED);
	cr_assert_eq(h.ho.stats.handoffs_accepted, 1);
	cr_assert_null(lacd_ho_lookup(&h, MIN1, now), "entry used");
}

/* Refused with our own entry and nothing newer known: the stale entry goes, a fresh call. */
Test(lacd_handoff, refused_own_entry_dropped)
{
	established_call();
	now += 3000;
	lacd_access_run_timers(&h, now);
	peer_reset(&h.ep, "192.0.2.10:1701", now);
	unsigned before = nacc;
	attach(80);
	answer_challenge(before + 1);
	lns_sccrp();
	struct lacd_session *s = lacd_session_by_min(&h, MIN1);
	msg_init(L2TP_MSG_ICRP, s->s.id);
	m.avps = L2TP_AVP_BIT(L2TP_AVP_ASSIGNED_SESSION_ID);
	m.assigned_session_id = LNS_SID;
	m.ho_avps = L2TP_HO_BIT(L2TP_HO_AVP_REFUSED);
	m.ho_refused.reason = L2TP_HO_REFUSE_UNKNOWN_MIN;
	feed_lns();
	cr_assert_eq(last(), L2TP_MSG_ICCN);
	cr_assert_eq(h.ho.stats.handoffs_retried, 0);
	cr_assert_eq(h.ho.stats.fallback_refused, 1);
	cr_assert_null(lacd_ho_lookup(&h, MIN1, now), "our stale entry dropped");
}
