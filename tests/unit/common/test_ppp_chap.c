/* CHAP re-challenge in the Network phase (RFC 1994 2: the authenticator may send a new
 * challenge at any time), as a handed-off mobile sees it from its new LAC (lacd, handoff.c):
 * a peer that negotiated LCP + CHAP + IPCP with a real authenticator answers a Challenge with
 * a fresh Identifier and value correctly, without leaving the Network phase or sending any
 * LCP/IPCP packet; Success for it changes nothing, a Success with another Identifier is
 * ignored.  A peer that authenticated with PAP does not answer CHAP (the LAC then places a
 * fresh call). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "roam/ppp.h"

struct pkt {
	uint16_t proto;
	uint8_t info[1600];
	size_t len;
};

/* Two ends connected by queues: a = authenticator (the LNS), p = peer (the mobile). */
static struct ppp a, p;
static struct pkt q[2][64]; /* q[0]: a -> p, q[1]: p -> a */
static unsigned nq[2];
static uint64_t now = 1000;

static void out(void *ctx, uint16_t proto, const uint8_t *info, size_t len)
{
	int dir = ctx == &p;
	cr_assert_lt(nq[dir], 64);
	q[dir][nq[dir]].proto = proto;
	memcpy(q[dir][nq[dir]].info, info, len);
	q[dir][nq[dir]].len = len;
	nq[dir]++;
}

static void event(void *ctx, const struct ppp_event *ev)
{
	(void)ctx, (void)ev;
}

static int get_secret(void *ctx, const char *name, uint8_t *secret, size_t *len)
{
	(void)ctx;
	if (strcmp(name, "mobile1") != 0)
		return -1;
	memcpy(secret, "mobilepw", 8);
	*len = 8;
	return 0;
}

static int pap_verify(void *ctx, const char *name, const uint8_t *pw, size_t len)
{
	(void)ctx;
	return strcmp(name, "mobile1") == 0 && len == 8 && memcmp(pw, "mobilepw", 8) == 0 ? 0
											 : -1;
}

static int get_peer_addr(void *ctx, const char *name, uint32_t req, uint32_t *addr)
{
	(void)ctx, (void)name, (void)req;
	*addr = 0x0a000005;
	return 0;
}

/* Delivers everything queued both ways until quiet. */
static void run(void)
{
	for (int round = 0; round < 100 && (nq[0] || nq[1]); round++) {
		for (int dir = 0; dir < 2; dir++) {
			struct pkt tmp[64];
			unsigned n = nq[dir];
			memcpy(tmp, q[dir], n * sizeof(tmp[0]));
			nq[dir] = 0;
			for (unsigned i = 0; i < n; i++)
				ppp_input(dir ? &a : &p, tmp[i].proto, tmp[i].info, tmp[i].len, now);
		}
	}
}

static void open_link(unsigned auth)
{
	struct ppp_cfg ca, cp;
	struct ppp_ops oa = { .output = out, .event = event, .get_secret = get_secret,
			      .pap_verify = pap_verify, .get_peer_addr = get_peer_addr };
	struct ppp_ops op = { .output = out, .event = event };
	ppp_cfg_default(&ca, PPP_ROLE_AUTHENTICATOR);
	ca.auth = auth;
	snprintf(ca.name, sizeof(ca.name), "lns1");
	ca.local_addr = 0x0a000001;
	ca.echo_interval_ms = 0;
	ppp_cfg_default(&cp, PPP_ROLE_PEER);
	snprintf(cp.name, sizeof(cp.name), "mobile1");
	memcpy(cp.secret, "mobilepw", 8);
	cp.secret_len = 8;
	cp.echo_interval_ms = 0;
	cr_assert_eq(ppp_init(&a, &ca, &oa, &a), 0);
	cr_assert_eq(ppp_init(&p, &cp, &op, &p), 0);
	nq[0] = nq[1] = 0;
	ppp_start(&a, now);
	ppp_start(&p, now);
	run();
	cr_assert(ppp_is_up(&a));
	cr_assert(ppp_is_up(&p));
	cr_assert_eq(p.phase, PPP_PHASE_NETWORK);
}

/* A CHAP packet as the new LAC sends it. */
static void send_to_peer(uint8_t code, uint8_t id, const uint8_t *value, size_t vlen)
{
	uint8_t buf[128];
	struct wbuf w;
	struct ppp_chap c = { .code = code, .id = id };
	if (code == PPP_CHAP_CHALLENGE) {
		c.value = value;
		c.value_len = (uint8_t)vlen;
		c.name = (const uint8_t *)"lac2";
		c.name_len = 4;
	}
	wbuf_init_fixed(&w, buf, sizeof(buf));
	cr_assert_eq(ppp_chap_encode(&w, &c), 0);
	cr_assert_eq(ppp_input(&p, PPP_PROTO_CHAP, buf, w.len, now), 0);
}

Test(ppp_chap, opened_peer_answers_rechallenge_in_network_phase)
{
	open_link(PPP_AUTH_CHAP);
	cr_assert_eq(p.st.auth_proto, PPP_PROTO_CHAP);
	uint8_t lcp_id = p.lcp.next_id, ipcp_id = p.ipcp.next_id;
	for (int round = 0; round < 3; round++) {
		uint8_t chal[16], want[16];
		for (int i = 0; i < 16; i++)
			chal[i] = (uint8_t)(0x30 + round * 16 + i);
		uint8_t id = (uint8_t)(0x80 + round * 7);
		nq[1] = 0;
		send_to_peer(PPP_CHAP_CHALLENGE, id, chal, sizeof(chal));
		cr_assert_eq(nq[1], 1, "exactly one answer");
		cr_assert_eq(q[1][0].proto, PPP_PROTO_CHAP);
		struct ppp_chap c;
		cr_assert_eq(ppp_chap_decode(q[1][0].info, q[1][0].len, &c), 0);
		cr_assert_eq(c.code, PPP_CHAP_RESPONSE);
		cr_assert_eq(c.id, id);
		cr_assert_eq(c.value_len, 16);
		cr_assert_eq(ppp_chap_md5(id, "mobilepw", 8, chal, 16, want), 0);
		cr_assert(memcmp(c.value, want, 16) == 0);
		cr_assert_eq(c.name_len, 7);
		cr_assert(memcmp(c.name, "mobile1", 7) == 0);
		/* still up, nothing renegotiated, no timer started */
		cr_assert(ppp_is_up(&p));
		cr_assert_eq(p.phase, PPP_PHASE_NETWORK);
		cr_assert_eq(ppp_next_timeout(&p), UINT64_MAX);
		/* the verdict */
		nq[1] = 0;
		send_to_peer(PPP_CHAP_SUCCESS, (uint8_t)(id + 1), NULL, 0); /* not ours: ignored */
		send_to_peer(PPP_CHAP_SUCCESS, id, NULL, 0);
		cr_assert_eq(nq[1], 0);
		cr_assert(ppp_is_up(&p));
		cr_assert_eq(p.phase, PPP_PHASE_NETWORK);
	}
	cr_assert_eq(p.lcp.next_id, lcp_id, "no LCP packet sent");
	cr_assert_eq(p.ipcp.next_id, ipcp_id, "no IPCP packet sent");
	/* IP still flows both ways. */
	static const uint8_t ip[20] = { 0x45, 0, 0, 20 };
	nq[1] = 0;
	cr_assert_eq(ppp_send_ip(&p, ip, sizeof(ip)), 0);
	cr_assert_eq(nq[1], 1);
	cr_assert_eq(ppp_input(&a, q[1][0].proto, q[1][0].info, q[1][0].len, now), 1);
}

Test(ppp_chap, pap_peer_ignores_chap)
{
	open_link(PPP_AUTH_PAP);
	cr_assert_eq(p.st.auth_proto, PPP_PROTO_PAP);
	uint8_t chal[16] = { 1 };
	uint8_t buf[64];
	struct wbuf w;
	struct ppp_chap c = { .code = PPP_CHAP_CHALLENGE, .id = 5, .value = chal,
			      .value_len = 16 };
	wbuf_init_fixed(&w, buf, sizeof(buf));
	cr_assert_eq(ppp_chap_encode(&w, &c), 0);
	nq[1] = 0;
	cr_assert_lt(ppp_input(&p, PPP_PROTO_CHAP, buf, w.len, now), 0);
	cr_assert_eq(nq[1], 0, "CHAP was not negotiated: no answer (the LAC falls back)");
	cr_assert(ppp_is_up(&p));
}
