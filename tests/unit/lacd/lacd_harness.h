/* What the lacd unit tests share (test_access.c, test_handoff.c, test_aaa.c, test_tunnel.c):
 * lacd `h` driven on a fake clock without sockets.  A scripted mobile sends access-link datagrams to lacd_access_input;
 * what lacd sends to mobiles and the L2TP data messages are captured here, its control
 * messages go to the scripted LNS of ../common/l2tp_peer.h.  The includer defines
 * `static struct lacd h;` first.  One lacd per test process (Criterion runs each test in its
 * own); state is file-static. */
#ifndef TEST_LACD_HARNESS_H
#define TEST_LACD_HARNESS_H
#include <criterion/criterion.h>
#include <string.h>

#include "../../../lac/lacd.h"
#include "../common/l2tp_peer.h"

#define H_UNUSED __attribute__((unused))
static const uint16_t LNS_TID = 600, LNS_SID = 77;
static uint8_t lns_challenge[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
static struct roam_sockaddr mobile;

/* What lacd sent to mobiles. */
static struct {
	uint8_t buf[ACCESS_HDR_LEN + ACCESS_DATA_MAX];
	size_t len;
	struct roam_sockaddr dst;
} acc_out[256];
static unsigned nacc;
static struct access_msg am; /* the last decoded */

/* L2TP data messages lacd sent (the control ones go to l2tp_peer.h's out[]). */
static struct {
	uint8_t buf[2048];
	size_t len;
} data_out[64];
static unsigned ndata;

static H_UNUSED void acc_tx(void *arg, const struct roam_sockaddr *dst,
			    const struct roam_ipaddr *src, const uint8_t *pkt, size_t len)
{
	(void)arg, (void)src;
	cr_assert_lt(nacc, 256);
	memcpy(acc_out[nacc].buf, pkt, len);
	acc_out[nacc].len = len;
	acc_out[nacc].dst = *dst;
	nacc++;
}

static H_UNUSED void l2tp_tx(void *arg, const struct roam_sockaddr *dst,
			     const struct roam_ipaddr *src, const uint8_t *pkt, size_t len)
{
	if (len >= 1 && !(pkt[0] & 0x80)) { /* T clear: a data message */
		cr_assert_lt(ndata, 64);
		cr_assert_leq(len, sizeof(data_out[0].buf));
		memcpy(data_out[ndata].buf, pkt, len);
		data_out[ndata].len = len;
		ndata++;
		return;
	}
	tx(arg, dst, src, pkt, len);
}

/* Decodes access message i into am; returns its type. */
static H_UNUSED unsigned acc_got(unsigned i)
{
	cr_assert_lt(i, nacc, "access message %u not sent (%u sent)", i, nacc);
	cr_assert_eq(access_msg_decode(acc_out[i].buf, acc_out[i].len, &am, NULL), 0);
	return am.type;
}

static H_UNUSED unsigned acc_last(void)
{
	cr_assert_gt(nacc, 0, "nothing sent to the mobile");
	return acc_got(nacc - 1);
}

static H_UNUSED void mob_send_from(const struct roam_sockaddr *src, struct access_msg *msg)
{
	uint8_t buf[ACCESS_HDR_LEN + ACCESS_DATA_MAX];
	struct wbuf w;
	wbuf_init_fixed(&w, buf, sizeof(buf));
	cr_assert_eq(access_msg_encode(msg, &w), 0);
	lacd_access_input(&h, buf, w.len, src, NULL, now);
}

static uint32_t link_id, mob_seq;

/* A message of the current link from the mobile (Link ID and next sequence number). */
static H_UNUSED void mob_send(struct access_msg *msg)
{
	msg->link_id = link_id;
	msg->seq = mob_seq++;
	mob_send_from(&mobile, msg);
}

/* Feeds m from the scripted LNS, everything sent so far acknowledged. */
static H_UNUSED void feed_lns(void)
{
	peer_ack_all();
	feed_raw(peer_ns, secret);
	if (m.type != L2TP_MSG_ZLB)
		peer_ns++;
}

/* Loads h from the lines every test shares (host name lac1, a control socket path) followed by
 * yaml, its L2TP datagrams going to ep_tx (tx: all to the scripted LNS's out[]; l2tp_tx: data
 * messages to data_out[]) and its access-link ones to acc_out[]; initialises the core. */
static H_UNUSED void lacd_start(const char *yaml, l2tp_ep_tx_fn ep_tx)
{
	char text[2048], err[256];
	cr_assert_lt((size_t)snprintf(text, sizeof(text),
				      "host_name: lac1\ncontrol_socket: /tmp/x.sock\n%s", yaml),
		     sizeof(text));
	memset(&h, 0, sizeof(h));
	cr_assert_eq(lacd_conf_load_string(&h.conf, text, err, sizeof(err)), 0, "%s", err);
	h.ep.tx = ep_tx;
	cr_assert_eq(lacd_core_init(&h), 0);
	h.acc.tx = acc_tx;
}

/* The scripted LNS's SCCRP to the tunnel lacd opens (tid must be set): host name, Assigned
 * Tunnel ID LNS_TID and, when resp is given, its Challenge (lns_challenge) and that Challenge
 * Response (16 bytes); fed with everything before acknowledged. */
static H_UNUSED void lns_send_sccrp(const char *host, const uint8_t *resp)
{
	peer_scc(L2TP_MSG_SCCRP, host, LNS_TID);
	if (resp) {
		m.avps |= L2TP_AVP_BIT(L2TP_AVP_CHALLENGE) |
			  L2TP_AVP_BIT(L2TP_AVP_CHALLENGE_RESPONSE);
		l2tp_bytes_set(&m.challenge, lns_challenge, 16);
		memcpy(m.challenge_response, resp, 16);
	}
	feed_lns();
}

/* The last message sent is an SCCRQ with a Challenge: the scripted LNS answers SCCRP (its
 * Challenge and the Response to lacd's), and lacd's SCCCN follows. */
static H_UNUSED void lns_sccrp(void)
{
	cr_assert_eq(last(), L2TP_MSG_SCCRQ);
	tid = r.assigned_tunnel_id;
	uint8_t resp[16];
	cr_assert_eq(l2tp_challenge_response(L2TP_MSG_SCCRP, (const uint8_t *)secret,
					     strlen(secret), r.challenge.p, r.challenge.len, resp),
		     0);
	lns_send_sccrp("lns1", resp);
}

#endif
