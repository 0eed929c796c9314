/* What lacd and lnsd share to set a tunnel up (roam/l2tp_tunnel.h): the role's endpoint
 * initialisation, the SCCRQ/SCCRP body, our Challenge, the peer key of a role's index, and a
 * tunnel discarded before it was one.  The exchanges themselves are tested in
 * test_l2tp_tunnel.c and tests/unit/lacd, tests/unit/lnsd. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "roam/l2tp_tunnel.h"

static struct l2tp_endpoint ep;
static struct l2tp_tunnel_conf conf;
static uint16_t vendor = L2TP_HO_VENDOR_DEFAULT;
static int role;

/* Nothing is received or sent here: the role has no callbacks to run. */
static const struct l2tp_endpoint_ops ops = { .session_setup_msg = "ICCN" };

static void setup(void)
{
	memset(&ep, 0, sizeof(ep));
	memset(&conf, 0, sizeof(conf));
	conf.receive_window = 12;
	conf.max_tunnels = 16;
	conf.setup_timeout = 20000;
	cr_assert_eq(l2tp_ep_init_role(&ep, &ops, &role, &conf, &vendor, true), 0);
}

static void teardown(void)
{
	l2tp_ep_destroy(&ep);
}

static struct l2tp_tunnel *tunnel(const char *secret)
{
	struct roam_sockaddr peer;
	struct l2tp_tunnel *t;
	cr_assert_eq(roam_sockaddr_parse("192.0.2.7:1701", 0, &peer), 0);
	cr_assert_eq(l2tp_tunnel_new(&ep, sizeof(*t), &peer, NULL, 0, 0, (const uint8_t *)secret,
				     secret ? strlen(secret) : 0, false, 1000, &t),
		     0);
	return t;
}

TestSuite(l2tp_setup, .init = setup, .fini = teardown);

Test(l2tp_setup, init_role_sets_the_endpoint)
{
	cr_assert_eq(ep.ops, &ops);
	cr_assert_eq(ep.role, &role);
	cr_assert_eq(ep.conf, &conf);
	cr_assert_eq(ep.ho_vendor, &vendor);
	cr_assert(ep.initiator);
	cr_assert(ep.tables_ready);
}

/* RFC 2661 6.1 / 6.2: the AVPs both ends send, encoded and decoded back. */
Test(l2tp_setup, sccrq_and_sccrp_body)
{
	struct l2tp_tunnel *t = tunnel(NULL);
	const uint16_t types[] = { L2TP_MSG_SCCRQ, L2TP_MSG_SCCRP };
	const uint32_t bearers[] = { L2TP_BEARER_DIGITAL | L2TP_BEARER_ANALOG, 0 };
	for (int i = 0; i < 2; i++) {
		struct l2tp_msg *m = l2tp_tunnel_setup_msg(t, types[i], "lac-1", bearers[i]);
		cr_assert_eq(m, &ep.txm);
		cr_assert_eq(m->avps, L2TP_AVP_BIT(L2TP_AVP_PROTOCOL_VERSION) |
					      L2TP_AVP_BIT(L2TP_AVP_FRAMING_CAP) |
					      L2TP_AVP_BIT(L2TP_AVP_BEARER_CAP) |
					      L2TP_AVP_BIT(L2TP_AVP_HOST_NAME) |
					      L2TP_AVP_BIT(L2TP_AVP_ASSIGNED_TUNNEL_ID) |
					      L2TP_AVP_BIT(L2TP_AVP_RECV_WINDOW_SIZE) |
					      L2TP_AVP_BIT(L2TP_AVP_FIRMWARE_REV) |
					      L2TP_AVP_BIT(L2TP_AVP_VENDOR_NAME));
		uint8_t buf[512];
		struct wbuf w;
		struct l2tp_codec_opts o;
		struct l2tp_msg d;
		wbuf_init_fixed(&w, buf, sizeof(buf));
		l2tp_ep_codec_opts(&ep, t, &o);
		cr_assert_eq(l2tp_msg_encode(&w, m, &o), 0);
		cr_assert_eq(l2tp_msg_decode(buf, w.len, &o, &d), 0);
		cr_assert_eq(d.type, types[i]);
		cr_assert_eq(d.proto_ver, 1);
		cr_assert_eq(d.proto_rev, 0);
		cr_assert_eq(d.framing_cap, L2TP_FRAMING_SYNC | L2TP_FRAMING_ASYNC);
		cr_assert_eq(d.bearer_cap, bearers[i]);
		cr_assert_eq(d.firmware_rev, 0x0100);
		cr_assert_eq(d.assigned_tunnel_id, t->id);
		cr_assert_eq(d.recv_window, 12);
		char s[64];
		cr_assert_eq(l2tp_bytes_to_str(&d.host_name, s, sizeof(s)), 0);
		cr_assert_str_eq(s, "lac-1");
		cr_assert_eq(l2tp_bytes_to_str(&d.vendor_name, s, sizeof(s)), 0);
		cr_assert_str_eq(s, "roam");
		cr_assert_eq(d.avps & L2TP_AVP_BIT(L2TP_AVP_CHALLENGE), 0);
	}
}

Test(l2tp_setup, challenge_put_in_the_message)
{
	struct l2tp_tunnel *t = tunnel("s3cret");
	struct l2tp_msg *m = l2tp_tunnel_setup_msg(t, L2TP_MSG_SCCRQ, "lac-1", 0);
	cr_assert_eq(l2tp_tunnel_put_challenge(t, m), 0);
	cr_assert(m->avps & L2TP_AVP_BIT(L2TP_AVP_CHALLENGE));
	cr_assert_eq(m->challenge.len, sizeof(t->challenge));
	cr_assert_eq(memcmp(m->challenge.p, t->challenge, sizeof(t->challenge)), 0);
	uint8_t first[sizeof(t->challenge)];
	memcpy(first, t->challenge, sizeof(first));
	cr_assert_eq(l2tp_tunnel_put_challenge(t, m), 0); /* a fresh one each time */
	cr_assert_neq(memcmp(first, t->challenge, sizeof(first)), 0);
}

Test(l2tp_setup, peer_key_is_address_then_port)
{
	struct roam_sockaddr a, b, c;
	uint8_t ka[L2TP_PEER_KEYLEN], kb[L2TP_PEER_KEYLEN], kc[L2TP_PEER_KEYLEN];
	uint8_t kaddr[ROAM_IPADDR_KEYLEN];
	struct roam_ipaddr ip;
	cr_assert_eq(roam_sockaddr_parse("192.0.2.7:1701", 0, &a), 0);
	cr_assert_eq(roam_sockaddr_parse("192.0.2.7:1702", 0, &b), 0);
	cr_assert_eq(roam_sockaddr_parse("[2001:db8::7]:1701", 0, &c), 0);
	l2tp_peer_key(ka, &a);
	l2tp_peer_key(kb, &b);
	l2tp_peer_key(kc, &c);
	cr_assert_eq(roam_ipaddr_parse("192.0.2.7", &ip), 0);
	roam_ipaddr_key(&ip, kaddr);
	cr_assert_eq(memcmp(ka, kaddr, sizeof(kaddr)), 0);
	cr_assert_eq(ka[ROAM_IPADDR_KEYLEN], 1701 >> 8);
	cr_assert_eq(ka[ROAM_IPADDR_KEYLEN + 1], 1701 & 0xff);
	cr_assert_neq(memcmp(ka, kb, sizeof(ka)), 0);
	cr_assert_neq(memcmp(ka, kc, sizeof(ka)), 0);
}

Test(l2tp_setup, discarded_tunnel_never_counts)
{
	struct l2tp_tunnel *t = tunnel(NULL);
	uint16_t id = t->id;
	uint64_t freed = ep.stats.tunnels_freed;
	l2tp_tunnel_discard(t);
	cr_assert_null(l2tp_tunnel_find(&ep, id));
	cr_assert_eq(ep.stats.tunnels_freed, freed);
	t = tunnel(NULL);
	l2tp_tunnel_free(t); /* a real one does */
	cr_assert_eq(ep.stats.tunnels_freed, freed + 1);
}
