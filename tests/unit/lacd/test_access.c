/* lacd's access link (lac/access.c) on a fake clock, no sockets: a scripted mobile sends
 * access-link datagrams to lacd_access_input, a scripted LNS (../common/l2tp_peer.h) answers
 * the L2TP side; what lacd sends to the mobile and the L2TP data messages are captured. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "../../../lac/lacd.h"
#include "roam/auth.h"

#define MIN1 "3125550100"
static struct lacd h;
#include "lacd_harness.h"
static struct roam_sockaddr other;

static void setup(void)
{
	lacd_start("access:\n  keepalive_interval: 1s\n  dead_interval: 3s\n"
		   "lns:\n"
		   "  - min: \"312*\"\n    address: 192.0.2.10\n"
		   "    secret: s3cret\n",
		   l2tp_tx);
	peer_reset(&h.ep, "192.0.2.10:1701", 7000000);
	cr_assert_eq(roam_sockaddr_parse("198.51.100.7:40000", 0, &mobile), 0);
	cr_assert_eq(roam_sockaddr_parse("198.51.100.8:40000", 0, &other), 0);
	nacc = ndata = 0;
	link_id = mob_seq = 0;
}

static void teardown(void)
{
	lacd_core_destroy(&h);
	lacd_conf_free(&h.conf);
}

/* ATTACH for MIN1 (nonce), expects ATTACH-ACK; returns the link id. */
static uint32_t attach(uint32_t nonce)
{
	struct access_msg a = { .type = ACCESS_ATTACH, .nonce = nonce, .min = MIN1 };
	unsigned before = nacc;
	mob_send_from(&mobile, &a);
	cr_assert_eq(nacc, before + 1);
	cr_assert_eq(acc_last(), ACCESS_ATTACH_ACK);
	cr_assert_eq(am.nonce, nonce);
	cr_assert_eq(am.seq, 0);
	cr_assert_eq(am.keepalive_ms, 1000);
	cr_assert_eq(am.dead_ms, 3000);
	cr_assert_neq(am.link_id, 0);
	cr_assert(roam_sockaddr_eq(&acc_out[nacc - 1].dst, &mobile));
	link_id = am.link_id;
	mob_seq = 0;
	return am.link_id;
}

/* The scripted LNS completes the tunnel (when new) and the call of MIN1. */
static struct lacd_session *lns_accepts(void)
{
	struct lacd_session *s = lacd_session_by_min(&h, MIN1);
	cr_assert_not_null(s);
	if (last() == L2TP_MSG_SCCRQ)
		lns_sccrp();
	cr_assert_eq(last(), L2TP_MSG_ICRQ);
	msg_init(L2TP_MSG_ICRP, s->s.id);
	m.avps = L2TP_AVP_BIT(L2TP_AVP_ASSIGNED_SESSION_ID);
	m.assigned_session_id = LNS_SID;
	feed_lns();
	cr_assert_eq(last(), L2TP_MSG_ICCN);
	cr_assert_eq(s->s.state, LACD_S_ESTABLISHED);
	return s;
}

TestSuite(lacd_access, .init = setup, .fini = teardown);

Test(lacd_access, attach_places_call_and_duplicate_gets_same_answer)
{
	uint32_t id = attach(0x1a2b3c4d);
	cr_assert_eq(last(), L2TP_MSG_SCCRQ, "the ATTACH places the call: tunnel first");
	struct lacd_session *s = lns_accepts();
	cr_assert(s->s.data_seq, "data sequencing on by default");
	/* A retransmitted ATTACH: same Link ID, no new call. */
	unsigned before = nout;
	cr_assert_eq(attach(0x1a2b3c4d), id);
	cr_assert_eq(count(L2TP_MSG_ICRQ, before), 0);
	cr_assert_eq(h.acc.stats.attach_duplicate, 1);
	cr_assert_not_null(lacd_link_by_min(&h, MIN1));
}

Test(lacd_access, data_both_ways)
{
	attach(1);
	lns_accepts();
	/* LCP Configure-Request (id 1, no options) in HDLC-like framing, split in two DATA. */
	uint8_t framed[64];
	struct wbuf w;
	struct ppp_hdlc_tx htx = { .accm = PPP_HDLC_ACCM_DEFAULT };
	static const uint8_t lcp[] = { 1, 1, 0, 4 };
	wbuf_init_fixed(&w, framed, sizeof(framed));
	cr_assert_eq(ppp_hdlc_encode(&w, &htx, PPP_PROTO_LCP, lcp, sizeof(lcp)), 0);
	struct access_msg d = { .type = ACCESS_DATA, .data = framed, .data_len = 5 };
	mob_send(&d);
	cr_assert_eq(ndata, 0, "half a frame: nothing yet");
	d.data = framed + 5;
	d.data_len = w.len - 5;
	mob_send(&d);
	cr_assert_eq(ndata, 1);
	struct l2tp_hdr hd;
	cr_assert_eq(l2tp_hdr_decode(data_out[0].buf, data_out[0].len, &hd), 0);
	cr_assert_eq(hd.flags & L2TP_HDR_T, 0);
	cr_assert(hd.flags & L2TP_HDR_S);
	cr_assert_eq(hd.ns, 0);
	cr_assert_eq(hd.tunnel_id, LNS_TID);
	cr_assert_eq(hd.session_id, LNS_SID);
	static const uint8_t want[] = { 0xff, 0x03, 0xc0, 0x21, 1, 1, 0, 4 };
	cr_assert_eq(hd.msg_len - hd.hdr_len, sizeof(want));
	cr_assert(memcmp(data_out[0].buf + hd.hdr_len, want, sizeof(want)) == 0);

	/* From the LNS: a data message with Ns 0, then a duplicate (dropped), framed to the
	 * mobile with the default ACCM. */
	uint8_t dm[64];
	struct l2tp_hdr oh = { .flags = L2TP_HDR_L | L2TP_HDR_S, .tunnel_id = tid,
			       .session_id = lacd_session_by_min(&h, MIN1)->s.id, .ns = 0 };
	static const uint8_t ppp[] = { 0xff, 0x03, 0xc0, 0x21, 2, 1, 0, 4 };
	wbuf_init_fixed(&w, dm, sizeof(dm));
	cr_assert_eq(l2tp_data_hdr_encode(&w, &oh, sizeof(ppp)), 0);
	wbuf_put_bytes(&w, ppp, sizeof(ppp));
	unsigned before = nacc;
	l2tp_ep_input(&h.ep, dm, w.len, &peer, NULL, now);
	l2tp_ep_input(&h.ep, dm, w.len, &peer, NULL, now);
	cr_assert_eq(nacc, before + 1, "the duplicate is not forwarded");
	cr_assert_eq(lacd_session_by_min(&h, MIN1)->s.rx_data_late, 1);
	cr_assert_eq(acc_last(), ACCESS_DATA);
	cr_assert_eq(am.link_id, link_id);
	cr_assert_eq(am.seq, 1, "first message after the ATTACH-ACK");
	struct ppp_hdlc_dec dec;
	struct ppp_hdlc_frame f;
	const uint8_t *p = am.data;
	size_t left = am.data_len;
	ppp_hdlc_dec_init(&dec, 0);
	cr_assert_eq(ppp_hdlc_decode(&dec, &p, &left, &f), 1);
	cr_assert_eq(f.proto, PPP_PROTO_LCP);
	cr_assert_eq(f.info_len, 4);
	cr_assert_eq(f.info[0], 2);
	cr_assert_eq(h.acc.stats.frames_from_lns, 1);
	cr_assert_eq(h.acc.stats.frames_to_lns, 1);
}

Test(lacd_access, data_before_call_is_queued_until_iccn)
{
	attach(2);
	uint8_t framed[64];
	struct wbuf w;
	struct ppp_hdlc_tx htx = { .accm = PPP_HDLC_ACCM_DEFAULT };
	static const uint8_t lcp[] = { 1, 1, 0, 4 };
	wbuf_init_fixed(&w, framed, sizeof(framed));
	cr_assert_eq(ppp_hdlc_encode(&w, &htx, PPP_PROTO_LCP, lcp, sizeof(lcp)), 0);
	struct access_msg d = { .type = ACCESS_DATA, .data = framed, .data_len = w.len };
	mob_send(&d);
	cr_assert_eq(ndata, 0);
	cr_assert_eq(h.acc.stats.frames_queued, 1);
	lns_accepts();
	cr_assert_eq(ndata, 1, "sent once the call is up");
	cr_assert_eq(h.acc.stats.frames_to_lns, 1);
	/* More than LACD_PENDING_MAX before a call: the rest is dropped (PPP retransmits). */
	struct access_msg det = { .type = ACCESS_DETACH };
	mob_send(&det);
	attach(3);
	for (int i = 0; i < LACD_PENDING_MAX + 2; i++)
		mob_send(&d);
	cr_assert_eq(h.acc.stats.frames_queued, 1 + LACD_PENDING_MAX);
	cr_assert_eq(h.acc.stats.drop_frame_no_call, 2);
}

Test(lacd_access, keepalive_and_loss_detection)
{
	attach(3);
	lns_accepts();
	struct access_msg k = { .type = ACCESS_KEEPALIVE, .timestamp = 4242 };
	mob_send(&k);
	cr_assert_eq(acc_last(), ACCESS_KEEPALIVE_ACK);
	cr_assert_eq(am.timestamp, 4242);
	now += 2900;
	lacd_access_run_timers(&h, now);
	cr_assert_not_null(lacd_link_by_min(&h, MIN1), "not before the dead interval");
	mob_send(&k); /* alive again */
	now += 2999;
	lacd_access_run_timers(&h, now);
	cr_assert_not_null(lacd_link_by_min(&h, MIN1));
	unsigned before = nout;
	now += 1;
	lacd_access_run_timers(&h, now);
	cr_assert_null(lacd_link_by_min(&h, MIN1), "lost after 3 s of silence");
	cr_assert_null(lacd_session_by_min(&h, MIN1));
	cr_assert_eq(count(L2TP_MSG_CDN, before), 1);
	cr_assert_eq(r.result.result, L2TP_CDN_LOST_CARRIER);
	cr_assert_eq(h.acc.stats.links_lost, 1);
}

Test(lacd_access, detach_clears_call_and_cdn_detaches)
{
	attach(4);
	lns_accepts();
	struct access_msg d = { .type = ACCESS_DETACH, .cause = ACCESS_DETACH_NORMAL };
	unsigned before = nout;
	mob_send(&d);
	cr_assert_eq(count(L2TP_MSG_CDN, before), 1);
	cr_assert_eq(r.result.result, L2TP_CDN_ADMIN);
	cr_assert_null(lacd_link_by_min(&h, MIN1));

	/* Next call: the LNS clears it, the mobile gets DETACH cause 0, twice. */
	attach(5);
	struct lacd_session *s = lns_accepts();
	msg_init(L2TP_MSG_CDN, s->s.id);
	m.avps = L2TP_AVP_BIT(L2TP_AVP_RESULT_CODE) | L2TP_AVP_BIT(L2TP_AVP_ASSIGNED_SESSION_ID);
	m.result.result = L2TP_CDN_ADMIN;
	m.assigned_session_id = LNS_SID;
	before = nacc;
	feed_lns();
	cr_assert_eq(nacc, before + 1);
	cr_assert_eq(acc_last(), ACCESS_DETACH);
	cr_assert_eq(am.cause, ACCESS_DETACH_NORMAL);
	cr_assert_null(lacd_link_by_min(&h, MIN1));
	now += 100;
	lacd_access_run_timers(&h, now);
	cr_assert_eq(nacc, before + 2, "DETACH repeated after 100 ms");
	cr_assert_eq(acc_last(), ACCESS_DETACH);
}

Test(lacd_access, new_attach_replaces_link)
{
	uint32_t id = attach(6);
	lns_accepts();
	unsigned before = nout;
	uint32_t id2 = attach(7);
	cr_assert_neq(id, id2);
	cr_assert_eq(count(L2TP_MSG_CDN, before), 1, "old call cleared");
	cr_assert_eq(count(L2TP_MSG_ICRQ, before), 1, "new call placed");
	cr_assert_eq(h.acc.stats.links_replaced, 1);
}

Test(lacd_access, refusals_and_drops)
{
	/* Bad MIN: NAK 2. */
	uint8_t b[ACCESS_HDR_LEN + 15] = { 0x52, 0x4c, 1, ACCESS_ATTACH, 0, 0, 0, 0, 0, 0, 0, 0,
					   0, 0, 0, 9, '3', '1', '2', 'x', '5', '5', '0', '1',
					   '0', '0', 0 };
	lacd_access_input(&h, b, sizeof(b), &mobile, NULL, now);
	cr_assert_eq(acc_last(), ACCESS_ATTACH_NAK);
	cr_assert_eq(am.cause, ACCESS_NAK_MALFORMED);
	cr_assert_eq(am.nonce, 9);
	/* Version 2: NAK 5. */
	b[2] = 2;
	lacd_access_input(&h, b, sizeof(b), &mobile, NULL, now);
	cr_assert_eq(acc_last(), ACCESS_ATTACH_NAK);
	cr_assert_eq(am.cause, ACCESS_NAK_VERSION);
	/* No LNS for this MIN: NAK 3. */
	struct access_msg a = { .type = ACCESS_ATTACH, .nonce = 10, .min = "9995550100" };
	mob_send_from(&mobile, &a);
	cr_assert_eq(acc_last(), ACCESS_ATTACH_NAK);
	cr_assert_eq(am.cause, ACCESS_NAK_NO_LNS);
	cr_assert_eq(h.acc.stats.attach_refused, 3);
	/* Unknown link: DETACH cause 2. */
	struct access_msg k = { .type = ACCESS_KEEPALIVE, .link_id = 0xdead, .timestamp = 1 };
	mob_send_from(&mobile, &k);
	cr_assert_eq(acc_last(), ACCESS_DETACH);
	cr_assert_eq(am.cause, ACCESS_DETACH_UNKNOWN_LINK);
	cr_assert_eq(am.link_id, 0xdead);
	/* A known link from another source: dropped, nothing sent. */
	attach(11);
	unsigned before = nacc;
	k.link_id = link_id;
	mob_send_from(&other, &k);
	cr_assert_eq(nacc, before);
	cr_assert_eq(h.acc.stats.drop_wrong_source, 1);
	/* A late keepalive: dropped. */
	mob_send(&k);
	mob_send(&k);
	cr_assert_eq(nacc, before + 2);
	k.seq = 0;
	mob_send_from(&mobile, &k);
	cr_assert_eq(nacc, before + 2);
	cr_assert_eq(h.acc.stats.drop_late, 1);
	/* Garbage. */
	lacd_access_input(&h, b, 3, &mobile, NULL, now);
	cr_assert_eq(h.acc.stats.drop_malformed, 2);
}
