/* A scripted L2TP peer for the tunnel tests (tests/unit/common/test_l2tp_tunnel.c,
 * tests/unit/lacd, tests/unit/lnsd): it encodes messages with its own Ns/Nr and feeds them to
 * the endpoint under test (l2tp_ep_input), and decodes what the endpoint sends through its tx
 * callback.  One peer per test process (Criterion runs each test in its own); state is
 * file-static, reset by peer_reset(). */
#ifndef TEST_L2TP_PEER_H
#define TEST_L2TP_PEER_H
#include <criterion/criterion.h>
#include <stdbool.h>
#include <string.h>

#include "roam/l2tp_tunnel.h"

#define PEER_MAXPKT 1024
#define PEER_UNUSED __attribute__((unused))

struct peer_sent {
	uint8_t buf[4096];
	size_t len;
	struct roam_sockaddr dst;
};
static struct peer_sent out[PEER_MAXPKT];
static unsigned nout;
static struct l2tp_endpoint *peer_ep;   /* the endpoint under test */
static struct roam_sockaddr peer;       /* the peer's address (what it sends from) */
static uint64_t now;                    /* the fake clock */
static uint16_t peer_ns, peer_nr;       /* the peer's sequence state */
static uint16_t tid;                    /* the endpoint's tunnel id (header of what we send) */
static struct l2tp_msg m, r;            /* scratch: to send, received */
static const char *const secret = "s3cret";
static bool peer_check_dst;             /* got() asserts that packets go to `peer` */

/* The endpoint's tx callback: keeps a copy of every datagram. */
static inline void tx(void *arg, const struct roam_sockaddr *dst, const struct roam_ipaddr *src,
		      const uint8_t *pkt, size_t len)
{
	(void)arg, (void)src;
	cr_assert_lt(nout, PEER_MAXPKT);
	cr_assert_leq(len, sizeof(out[0].buf));
	memcpy(out[nout].buf, pkt, len);
	out[nout].len = len;
	out[nout].dst = *dst;
	nout++;
}

static inline void peer_reset(struct l2tp_endpoint *ep, const char *addr, uint64_t start)
{
	peer_ep = ep;
	nout = 0;
	now = start;
	peer_ns = peer_nr = 0;
	tid = 0;
	peer_check_dst = false;
	cr_assert_eq(roam_sockaddr_parse(addr, 1701, &peer), 0);
}

static inline void msg_init(uint16_t type, uint16_t session_id)
{
	memset(&m, 0, sizeof(m));
	m.type = type;
	m.unknown_mandatory = -1;
	m.tunnel_id = tid;
	m.session_id = session_id;
}

/* Encodes m with Ns ns, the peer's Nr and secret sec (may be NULL) and feeds it. */
static inline void feed_raw(uint16_t ns, const char *sec)
{
	uint8_t buf[4096];
	struct wbuf w;
	struct l2tp_codec_opts o;
	memset(&o, 0, sizeof(o));
	o.secret = (const uint8_t *)sec;
	o.secret_len = sec ? strlen(sec) : 0;
	o.ho_vendor = L2TP_HO_VENDOR_DEFAULT;
	m.ns = ns;
	m.nr = peer_nr;
	wbuf_init_fixed(&w, buf, sizeof(buf));
	cr_assert_eq(l2tp_msg_encode(&w, &m, &o), 0);
	l2tp_ep_input(peer_ep, buf, w.len, &peer, NULL, now);
}

/* Feeds m with the next Ns (a ZLB does not take one). */
static inline void feed(void)
{
	feed_raw(peer_ns, secret);
	if (m.type != L2TP_MSG_ZLB)
		peer_ns++;
}

/* Decodes sent packet i into r (with the secret); returns its type.  Its Ns counts as
 * received: later messages acknowledge it. */
static inline uint16_t got(unsigned i)
{
	struct l2tp_codec_opts o;
	memset(&o, 0, sizeof(o));
	o.secret = (const uint8_t *)secret;
	o.secret_len = strlen(secret);
	o.ho_vendor = L2TP_HO_VENDOR_DEFAULT;
	cr_assert_lt(i, nout, "packet %u was not sent (%u sent)", i, nout);
	cr_assert_eq(l2tp_msg_decode(out[i].buf, out[i].len, &o, &r), 0);
	if (peer_check_dst)
		cr_assert(roam_sockaddr_eq(&out[i].dst, &peer));
	if (r.type != L2TP_MSG_ZLB && l2tp_seq_lt(peer_nr, (uint16_t)(r.ns + 1)))
		peer_nr = (uint16_t)(r.ns + 1);
	return r.type;
}

/* The last non-ZLB message sent, decoded into r. */
static inline uint16_t last(void)
{
	for (unsigned i = nout; i-- > 0;)
		if (got(i) != L2TP_MSG_ZLB)
			return r.type;
	cr_assert_fail("nothing sent");
	return 0;
}

/* Counts the messages of a type sent from index from on. */
static inline unsigned count(uint16_t type, unsigned from)
{
	unsigned n = 0;
	for (unsigned i = from; i < nout; i++)
		n += got(i) == type;
	return n;
}

/* The peer's SCCRQ or SCCRP (type), in m (not fed yet): Protocol Version, Host Name host,
 * Framing Capabilities, its Assigned Tunnel ID; no Challenge (add it to m). */
static inline PEER_UNUSED void peer_scc(uint16_t type, const char *host, uint16_t assigned_tid)
{
	msg_init(type, 0);
	m.avps = L2TP_AVP_BIT(L2TP_AVP_PROTOCOL_VERSION) | L2TP_AVP_BIT(L2TP_AVP_HOST_NAME) |
		 L2TP_AVP_BIT(L2TP_AVP_FRAMING_CAP) | L2TP_AVP_BIT(L2TP_AVP_ASSIGNED_TUNNEL_ID);
	m.proto_ver = 1;
	l2tp_bytes_str(&m.host_name, host);
	m.framing_cap = 3;
	m.assigned_tunnel_id = assigned_tid;
}

/* The SCCRQ of a LAC peer, in m (not fed yet), as peer_scc. */
static inline PEER_UNUSED void peer_sccrq(const char *host, uint16_t assigned_tid)
{
	peer_scc(L2TP_MSG_SCCRQ, host, assigned_tid);
}

/* The ICRQ of a LAC peer for its session lsid (Call Serial Number lsid) from the mobile min
 * (Calling Number), in m (not fed yet). */
static inline PEER_UNUSED void peer_icrq(uint16_t lsid, const char *min)
{
	msg_init(L2TP_MSG_ICRQ, 0);
	m.avps = L2TP_AVP_BIT(L2TP_AVP_ASSIGNED_SESSION_ID) | L2TP_AVP_BIT(L2TP_AVP_CALL_SERIAL) |
		 L2TP_AVP_BIT(L2TP_AVP_CALLING_NUMBER);
	m.assigned_session_id = lsid;
	m.call_serial = lsid;
	l2tp_bytes_str(&m.calling_number, min);
}

/* The SCCRP in r must answer the peer's challenge ours (16 bytes) under the shared secret
 * (what: the failure message) and carry a challenge of its own; the SCCCN answering it is fed. */
static inline PEER_UNUSED void peer_scccn_auth(const uint8_t *ours, const char *what)
{
	uint8_t resp[16];
	cr_assert_eq(l2tp_challenge_verify(L2TP_MSG_SCCRP, (const uint8_t *)secret, strlen(secret),
					   ours, 16, r.challenge_response), 0, "%s", what);
	cr_assert(r.avps & L2TP_AVP_BIT(L2TP_AVP_CHALLENGE));
	cr_assert_eq(l2tp_challenge_response(L2TP_MSG_SCCCN, (const uint8_t *)secret,
					     strlen(secret), r.challenge.p, r.challenge.len, resp),
		     0);
	msg_init(L2TP_MSG_SCCCN, 0);
	m.avps = L2TP_AVP_BIT(L2TP_AVP_CHALLENGE_RESPONSE);
	memcpy(m.challenge_response, resp, 16);
	feed();
}

/* The ICCN completing the endpoint's session sid (Tx Connect Speed 9600, framing 2), in m (not
 * fed yet). */
static inline PEER_UNUSED void peer_iccn(uint16_t sid)
{
	msg_init(L2TP_MSG_ICCN, sid);
	m.avps = L2TP_AVP_BIT(L2TP_AVP_TX_CONNECT_SPEED) | L2TP_AVP_BIT(L2TP_AVP_FRAMING_TYPE);
	m.tx_connect_speed = 9600;
	m.framing_type = 2;
}

/* Feeds the ICRQ in m for the peer's session psid, which the endpoint must answer with an ICRP
 * for psid, then the ICCN; returns the endpoint's session id. */
static inline PEER_UNUSED uint16_t peer_call(uint16_t psid)
{
	feed();
	cr_assert_eq(last(), L2TP_MSG_ICRP);
	cr_assert_eq(r.session_id, psid);
	uint16_t sid = r.assigned_session_id;
	peer_iccn(sid);
	feed();
	return sid;
}

/* An ICRQ for the peer's session lsid that carries an unknown vendor AVP (vendor 9, type 7)
 * with the M bit mandatory, fed (RFC 2661 4.1: an unknown mandatory AVP in a session message
 * ends the session with a CDN; one with M clear is ignored). */
static inline PEER_UNUSED void peer_icrq_unknown_avp(uint16_t lsid, bool mandatory)
{
	msg_init(L2TP_MSG_ICRQ, 0);
	m.avps = L2TP_AVP_BIT(L2TP_AVP_ASSIGNED_SESSION_ID) | L2TP_AVP_BIT(L2TP_AVP_CALL_SERIAL);
	m.assigned_session_id = lsid;
	m.n_unknown = 1;
	m.unknown[0] = (struct l2tp_avp_raw){ .vendor = 9, .type = 7, .mandatory = mandatory };
	feed();
}

/* Acknowledges (with the next message fed) everything sent so far. */
static inline void peer_ack_all(void)
{
	for (unsigned i = 0; i < nout; i++)
		got(i);
}

#endif
