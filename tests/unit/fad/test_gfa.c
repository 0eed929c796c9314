/* fad's gateway-FA role (gfa.c; docs/protocols/mipv4.md 8.5): regional registration accepted
 * and refused (forged MN-GFA, forged / unknown FA-FA, replay, no home registration, lifetime,
 * care-of address outside the region), the dual reply with the deregistration reply queued
 * behind the data already queued towards the old FA, tunnelling to the current FA, and
 * synchronization off (one reply, old path flushed), and the home registration relayed
 * through the GFA (FA-FA checked, FA-HA added, the binding created by the accepted reply). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fad_fixture.h"
#include "roam/clock.h"
#include "roam/ip.h"

#define HA "192.0.2.1"
#define HOME "192.0.2.10"
#define HOME2 "192.0.2.30" /* no MN-GFA SA */
#define GFA "198.51.100.100"
#define FA1 "203.0.113.1"
#define FA2 "203.0.113.2"
#define FA3 "203.0.113.3" /* not in the region */
#define CN "192.0.2.99"

static const char *conf_text_fmt =
	FX_GFA_CONF("synchronized: %s\n", "  max_lifetime: 120s\n");

/* Everything the GFA transmits, in order: 'C' control (UDP 434), 'D' data (IP-in-IP). */
struct out {
	char kind;
	struct roam_sockaddr dst; /* C */
	struct in_addr outer_dst; /* D */
	uint16_t inner_id;        /* D */
	uint8_t data[FAD_MAX_MSG];
	size_t len;
};

static struct fad f;
static struct out outs[64];
static int nout;
static int xmit_blocked;
static uint64_t now0 = 5000000;
static uint64_t ntp0;
static struct roam_key kmn, kfa1, kfa2, kwrong, kfaha, kmnha;

static int cap_send(void *arg, const struct roam_sockaddr *dst, const struct roam_ipaddr *src,
		    int ifindex, const void *data, size_t len)
{
	(void)arg;
	(void)src;
	(void)ifindex;
	cr_assert_lt(nout, 64);
	outs[nout].kind = 'C';
	outs[nout].dst = *dst;
	memcpy(outs[nout].data, data, len);
	outs[nout].len = len;
	nout++;
	return 0;
}

static int cap_xmit(void *arg, const void *pkt, size_t len)
{
	(void)arg;
	if (xmit_blocked)
		return -EAGAIN;
	cr_assert_lt(nout, 64);
	const uint8_t *p = pkt;
	cr_assert_geq(len, 40);
	cr_assert_eq(p[9], 4, "IP-in-IP");
	outs[nout].kind = 'D';
	memcpy(&outs[nout].outer_dst.s_addr, p + 16, 4);
	outs[nout].inner_id = (uint16_t)(p[24] << 8 | p[25]);
	outs[nout].len = len;
	nout++;
	return 0;
}

static void setup_sync(const char *sync)
{
	char text[2048];
	snprintf(text, sizeof(text), conf_text_fmt, sync);
	fx_fad_init(&f, text, now0, 0, cap_send, NULL);
	f.dp.ops.xmit = cap_xmit;
	nout = 0;
	xmit_blocked = 0;
	ntp0 = auth_ntp_from_unix_ms(1790000000000ULL);
	fx_keys(&kmnha, &kfaha, NULL, &kmn, &kfa1, &kfa2, &kwrong);
}

static void setup(void)
{
	setup_sync("true");
}

static void teardown(void)
{
	fx_fad_fini(&f);
}

/* A Regional Registration Request as the mobile sends it (MN-GFA), relayed by fa (Hierarchical
 * FA extension, FA-FA). */
static size_t mk_rrq(uint8_t *buf, size_t n, const char *home, const char *coa, uint16_t life,
		     uint64_t id, const struct roam_key *mnkey, const char *fa, uint32_t fa_spi,
		     const struct roam_key *fakey)
{
	struct wbuf w;
	fx_msg(&w, buf, n,
	       &(struct fx_hdr){ .type = MIP4_MSG_REGIONAL_REQUEST, .life = life, .home = home,
				 .ha = HA, .coa = coa, .id = id });
	fx_auth(&w, MIP4_AUTH_MN_GFA, 5000, mnkey);
	fx_hier_fa(&w, fa);
	if (fakey)
		fx_auth(&w, MIP4_AUTH_FA_FA, fa_spi, fakey);
	cr_assert_eq(w.err, 0);
	return w.len;
}

static void input(const uint8_t *buf, size_t len, const char *from)
{
	fx_input(&f, buf, len, from, 0, now0, now0, ntp0);
}

/* An IPv4/UDP datagram CN -> home with IP Identification id. */
static size_t mk_data(uint8_t *buf, size_t n, uint16_t id)
{
	struct wbuf w;
	wbuf_init_fixed(&w, buf, n);
	struct roam_ipaddr s, d;
	roam_ipaddr_parse(CN, &s);
	roam_ipaddr_parse(HOME, &d);
	uint8_t payload[8 + 32];
	memset(payload, 0, sizeof(payload));
	payload[1] = 9;
	payload[3] = 9;
	payload[5] = sizeof(payload);
	wbuf_put_u8(&w, 0x45);
	wbuf_put_u8(&w, 0);
	wbuf_put_u16(&w, (uint16_t)(20 + sizeof(payload)));
	wbuf_put_u16(&w, id);
	wbuf_put_u16(&w, 0);
	wbuf_put_u8(&w, 64);
	wbuf_put_u8(&w, 17);
	wbuf_put_u16(&w, 0);
	wbuf_put_bytes(&w, &s.v4.s_addr, 4);
	wbuf_put_bytes(&w, &d.v4.s_addr, 4);
	wbuf_put_bytes(&w, payload, sizeof(payload));
	cr_assert_eq(w.err, 0);
	/* header checksum */
	uint32_t sum = 0;
	for (int i = 0; i < 20; i += 2)
		sum += (uint32_t)(buf[i] << 8 | buf[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	uint16_t c = (uint16_t)~sum;
	buf[10] = (uint8_t)(c >> 8);
	buf[11] = (uint8_t)c;
	return w.len;
}

static void decode_out(int i, struct mip4_msg *m)
{
	cr_assert_eq(outs[i].kind, 'C');
	cr_assert_eq(mip4_msg_decode(outs[i].data, outs[i].len, m), 0);
	cr_assert_eq(m->type, MIP4_MSG_REGIONAL_REPLY);
}

static struct binding *bound(void)
{
	struct roam_ipaddr h;
	roam_ipaddr_set4(&h, a4(HOME));
	return binding_lookup(&f.gfa.bc, &h);
}

static int is_dst(int i, const char *addr)
{
	return sa_is(&outs[i].dst, addr);
}

TestSuite(gfa, .init = setup, .fini = teardown);

Test(gfa, conf_disabled_by_default)
{
	struct fad_conf c;
	char err[256] = "";
	cr_assert_eq(fad_conf_load_string(&c, "cells:\n  - interface: c0\n    care_of: 10.0.0.1\n",
					  err, sizeof(err)),
		     0, "%s", err);
	cr_assert_not(c.gfa.enabled);
	cr_assert_eq(c.gfa.nmobiles, 0);
	fad_conf_free(&c);
	cr_assert(f.gfa.enabled);
	cr_assert_eq(f.gfa.nmns, 1);
	cr_assert_eq(f.gfa.nfas, 2);
}

Test(gfa, move_dual_reply_behind_data)
{
	uint8_t buf[FAD_MAX_MSG], pkt[128];
	cr_assert_eq(fad_gfa_home_bound(&f, a4(HOME), a4(HA), a4(FA1), 300, ntp0 - 10, now0), 0);
	/* Three data packets queued towards FA1 (the raw socket is full). */
	xmit_blocked = 1;
	for (uint16_t i = 1; i <= 3; i++)
		cr_assert_eq(fad_gfa_tunnel(&f, pkt, mk_data(pkt, sizeof(pkt), i), now0), 0);
	cr_assert_eq(nout, 0);
	struct binding *b = bound();
	cr_assert_not_null(b);
	cr_assert_eq(bfifo_count(&b->cur.fifo), 3);
	/* The mobile moves to FA2: regional registration via FA2. */
	uint64_t id = ntp0 + (1ULL << 30);
	size_t n = mk_rrq(buf, sizeof(buf), HOME, FA2, 60, id, &kmn, FA2, 6002, &kfa2);
	input(buf, n, FA2);
	cr_assert_eq(f.stats.gfa_regional_accepted, 1);
	cr_assert_eq(f.stats.gfa_dual_replies, 1);
	/* The reply to FA2 left at once; the DRR waits behind the three data packets. */
	cr_assert_eq(nout, 1);
	struct mip4_msg m;
	decode_out(0, &m);
	cr_assert(is_dst(0, FA2));
	cr_assert_eq(m.code, 0);
	cr_assert_eq(m.lifetime, 60);
	cr_assert_eq(m.id, id);
	cr_assert_eq(mip4_auth_verify(outs[0].data, &m, MIP4_AUTH_MN_GFA, &kmn), 0);
	cr_assert_eq(mip4_auth_verify(outs[0].data, &m, MIP4_AUTH_FA_FA, &kfa2), 0);
	b = bound();
	char cb[ROAM_ADDRSTRLEN];
	cr_assert_str_eq(roam_ipaddr_fmt(&b->cur.coa, cb, sizeof(cb)), FA2);
	cr_assert_str_eq(roam_ipaddr_fmt(&b->old.coa, cb, sizeof(cb)), FA1);
	cr_assert_eq(bfifo_count(&b->old.fifo), 4);
	/* New data goes to FA2's path. */
	cr_assert_eq(fad_gfa_tunnel(&f, pkt, mk_data(pkt, sizeof(pkt), 4), now0), 0);
	/* The socket drains: FA1 gets 1, 2, 3 then the DRR; FA2 gets 4. */
	xmit_blocked = 0;
	fad_gfa_drain_all(&f);
	cr_assert_eq(nout, 6);
	for (int i = 1; i <= 3; i++) {
		cr_assert_eq(outs[i].kind, 'D');
		cr_assert_eq(outs[i].outer_dst.s_addr, a4(FA1).s_addr);
		cr_assert_eq(outs[i].inner_id, i);
	}
	decode_out(4, &m);
	cr_assert(is_dst(4, FA1));
	cr_assert_eq(m.lifetime, 0);
	cr_assert_eq(m.code, 0);
	cr_assert_eq(m.id, mip4_id_dereg(id));
	cr_assert_eq(mip4_id_match(m.id, id), 2);
	cr_assert_eq(mip4_auth_verify(outs[4].data, &m, MIP4_AUTH_MN_GFA, &kmn), 0);
	cr_assert_eq(mip4_auth_verify(outs[4].data, &m, MIP4_AUTH_FA_FA, &kfa1), 0);
	cr_assert_eq(outs[5].kind, 'D');
	cr_assert_eq(outs[5].outer_dst.s_addr, a4(FA2).s_addr);
	cr_assert_eq(outs[5].inner_id, 4);
	cr_assert_eq(f.stats.gfa_drr_sent, 1);
	cr_assert_eq(f.stats.gfa_tunnelled, 4);
	/* The old path is released once the DRR has left. */
	cr_assert_eq(bound()->old.coa.family, 0);
	cr_assert_eq(bound()->moves, 1);
	/* And back to FA1: a second dual reply, now to FA2. */
	nout = 0;
	n = mk_rrq(buf, sizeof(buf), HOME, FA1, 60, id + (1ULL << 30), &kmn, FA1, 6001, &kfa1);
	input(buf, n, FA1);
	cr_assert_eq(nout, 2);
	cr_assert(is_dst(0, FA1));
	cr_assert(is_dst(1, FA2));
	decode_out(1, &m);
	cr_assert_eq(m.lifetime, 0);
	cr_assert_eq(f.stats.gfa_dual_replies, 2);
}

Test(gfa, forged_regional_registration_refused)
{
	uint8_t buf[FAD_MAX_MSG];
	cr_assert_eq(fad_gfa_home_bound(&f, a4(HOME), a4(HA), a4(FA1), 300, ntp0 - 10, now0), 0);
	uint64_t id = ntp0 + (1ULL << 30);
	/* MN-GFA forged: 67 to the relaying FA, binding untouched. */
	size_t n = mk_rrq(buf, sizeof(buf), HOME, FA2, 60, id, &kwrong, FA2, 6002, &kfa2);
	input(buf, n, FA2);
	cr_assert_eq(nout, 1);
	struct mip4_msg m;
	decode_out(0, &m);
	cr_assert_eq(m.code, MIP4_CODE_FA_MN_AUTH);
	cr_assert_eq(f.stats.gfa_drop_mn_auth, 1);
	cr_assert_eq(f.stats.gfa_regional_denied, 1);
	cr_assert_eq(f.stats.denied[MIP4_CODE_FA_MN_AUTH - FAD_CODE_MIN], 1);
	/* FA-FA forged (right MN-GFA): discarded silently. */
	n = mk_rrq(buf, sizeof(buf), HOME, FA2, 60, id, &kmn, FA2, 6002, &kwrong);
	input(buf, n, FA2);
	cr_assert_eq(f.stats.gfa_drop_fa_auth, 1);
	/* FA-FA absent. */
	n = mk_rrq(buf, sizeof(buf), HOME, FA2, 60, id, &kmn, FA2, 6002, NULL);
	input(buf, n, FA2);
	cr_assert_eq(f.stats.gfa_drop_fa_auth, 2);
	/* From an FA outside the region. */
	n = mk_rrq(buf, sizeof(buf), HOME, FA2, 60, id, &kmn, FA3, 6002, &kfa2);
	input(buf, n, FA3);
	cr_assert_eq(f.stats.gfa_drop_fa_unknown, 1);
	cr_assert_eq(nout, 1);
	cr_assert_eq(f.stats.gfa_regional_accepted, 0);
	struct binding *b = bound();
	char cb[ROAM_ADDRSTRLEN];
	cr_assert_str_eq(roam_ipaddr_fmt(&b->cur.coa, cb, sizeof(cb)), FA1);
	cr_assert_eq(b->old.coa.family, 0);
	cr_assert_eq(b->moves, 0);
	/* The genuine one is accepted; its replay is dropped without a reply. */
	n = mk_rrq(buf, sizeof(buf), HOME, FA2, 60, id, &kmn, FA2, 6002, &kfa2);
	input(buf, n, FA2);
	cr_assert_eq(f.stats.gfa_regional_accepted, 1);
	int before = nout;
	input(buf, n, FA2);
	cr_assert_eq(f.stats.gfa_drop_replay, 1);
	cr_assert_eq(nout, before);
	cr_assert_eq(f.stats.gfa_regional_accepted, 1);
	cr_assert_eq(bound()->moves, 1);
}

Test(gfa, refusals)
{
	uint8_t buf[FAD_MAX_MSG];
	struct mip4_msg m;
	uint64_t id = ntp0 + (1ULL << 30);
	/* No home registration through this GFA yet: 65. */
	size_t n = mk_rrq(buf, sizeof(buf), HOME, FA2, 60, id, &kmn, FA2, 6002, &kfa2);
	input(buf, n, FA2);
	cr_assert_eq(nout, 1);
	decode_out(0, &m);
	cr_assert_eq(m.code, MIP4_CODE_FA_PROHIBITED);
	cr_assert_eq(f.stats.gfa_drop_no_binding, 1);
	/* A mobile without an MN-GFA SA: 65. */
	n = mk_rrq(buf, sizeof(buf), HOME2, FA2, 60, id + 1, &kmn, FA2, 6002, &kfa2);
	input(buf, n, FA2);
	decode_out(1, &m);
	cr_assert_eq(m.code, MIP4_CODE_FA_PROHIBITED);
	cr_assert_eq(fad_gfa_home_bound(&f, a4(HOME), a4(HA), a4(FA1), 300, ntp0 - 10, now0), 0);
	/* Lifetime above gfa.max_lifetime: 69. */
	n = mk_rrq(buf, sizeof(buf), HOME, FA2, 121, id + (2ULL << 30), &kmn, FA2, 6002, &kfa2);
	input(buf, n, FA2);
	decode_out(2, &m);
	cr_assert_eq(m.code, MIP4_CODE_FA_LIFETIME);
	/* Care-of address outside the region: 77. */
	n = mk_rrq(buf, sizeof(buf), HOME, FA3, 60, id + (3ULL << 30), &kmn, FA2, 6002, &kfa2);
	input(buf, n, FA2);
	decode_out(3, &m);
	cr_assert_eq(m.code, MIP4_CODE_FA_INVALID_COA);
	cr_assert_eq(f.stats.gfa_regional_denied, 4);
	cr_assert_eq(f.stats.gfa_regional_accepted, 0);
	cr_assert_eq(bound()->moves, 0);
	/* Regional deregistration: binding removed. */
	n = mk_rrq(buf, sizeof(buf), HOME, FA1, 0, id + (4ULL << 30), &kmn, FA1, 6001, &kfa1);
	input(buf, n, FA1);
	decode_out(4, &m);
	cr_assert_eq(m.code, 0);
	cr_assert_null(bound());
	cr_assert_eq(f.stats.gfa_regional_deregistered, 1);
}

Test(gfa, no_data_without_binding)
{
	uint8_t pkt[128];
	cr_assert_eq(fad_gfa_tunnel(&f, pkt, mk_data(pkt, sizeof(pkt), 1), now0), -ENOENT);
	/* A binding expires with its lifetime. */
	cr_assert_eq(fad_gfa_home_bound(&f, a4(HOME), a4(HA), a4(FA1), 2, ntp0 - 10, now0), 0);
	cr_assert_eq(fad_gfa_tunnel(&f, pkt, mk_data(pkt, sizeof(pkt), 2), now0 + 1000), 0);
	cr_assert_eq(fad_gfa_tunnel(&f, pkt, mk_data(pkt, sizeof(pkt), 3), now0 + 2001), -ENOENT);
	cr_assert_null(bound());
}

static void setup_plain(void)
{
	setup_sync("false");
}

Test(gfa_plain, unsynchronized_one_reply_flush, .init = setup_plain, .fini = teardown)
{
	uint8_t buf[FAD_MAX_MSG], pkt[128];
	cr_assert_eq(fad_gfa_home_bound(&f, a4(HOME), a4(HA), a4(FA1), 300, ntp0 - 10, now0), 0);
	xmit_blocked = 1;
	cr_assert_eq(fad_gfa_tunnel(&f, pkt, mk_data(pkt, sizeof(pkt), 1), now0), 0);
	size_t n = mk_rrq(buf, sizeof(buf), HOME, FA2, 60, ntp0 + (1ULL << 30), &kmn, FA2, 6002,
			  &kfa2);
	input(buf, n, FA2);
	xmit_blocked = 0;
	fad_gfa_drain_all(&f);
	cr_assert_eq(nout, 1);
	cr_assert(is_dst(0, FA2));
	cr_assert_eq(f.stats.gfa_dual_replies, 0);
	cr_assert_eq(bound()->old.coa.family, 0);
}

Test(gfa, dataplane_retunnels_to_the_lower_fa)
{
	uint8_t pkt[128], outer[256];
	cr_assert_eq(fad_gfa_home_bound(&f, a4(HOME), a4(HA), a4(FA1), 300, ntp0 - 10, now0), 0);
	struct roam_ipip p;
	memset(&p, 0, sizeof(p));
	roam_ipaddr_parse(HA, &p.src);
	roam_ipaddr_parse(GFA, &p.dst);
	size_t olen = 0;
	size_t n = mk_data(pkt, sizeof(pkt), 42);
	cr_assert_eq(roam_tunnel_encap(outer, sizeof(outer), &p, pkt, n, &olen), 0);
	fad_dp_from_tunnel(&f, outer, olen, now0);
	cr_assert_eq(nout, 1);
	cr_assert_eq(outs[0].kind, 'D');
	cr_assert_eq(outs[0].outer_dst.s_addr, a4(FA1).s_addr);
	cr_assert_eq(outs[0].inner_id, 42);
	cr_assert_eq(f.stats.gfa_tunnelled, 1);
	cr_assert_eq(f.stats.dp_drop_no_visitor, 0);
}

/* The mobile's first registration in the region: RRQ (care-of = the GFA) relayed by FA1. */
static size_t mk_home_rrq(uint8_t *buf, size_t n, uint64_t id, const struct roam_key *fakey)
{
	struct wbuf w;
	fx_msg(&w, buf, n,
	       &(struct fx_hdr){ .type = MIP4_MSG_REG_REQUEST, .life = 300, .home = HOME, .ha = HA,
				 .coa = GFA, .id = id });
	fx_auth(&w, MIP4_AUTH_MN_HA, 1000, &kmnha);
	fx_hier_fa(&w, FA1);
	fx_auth(&w, MIP4_AUTH_FA_FA, 6001, fakey);
	return w.len;
}

static size_t mk_home_rrp(uint8_t *buf, size_t n, uint64_t id, const struct roam_key *fahakey)
{
	struct wbuf w;
	fx_msg(&w, buf, n,
	       &(struct fx_hdr){ .type = MIP4_MSG_REG_REPLY, .life = 300, .home = HOME, .ha = HA,
				 .id = id });
	fx_auth(&w, MIP4_AUTH_MN_HA, 1000, &kmnha);
	fx_auth(&w, MIP4_AUTH_FA_HA, 3000, fahakey);
	return w.len;
}

Test(gfa, home_registration_through_the_gfa)
{
	uint8_t buf[FAD_MAX_MSG];
	struct mip4_msg m;
	uint64_t id = ntp0 + 77;
	/* Forged FA-FA: discarded, nothing relayed. */
	size_t n = mk_home_rrq(buf, sizeof(buf), id, &kwrong);
	input(buf, n, FA1);
	cr_assert_eq(nout, 0, "sent %c len %zu type %u; drop_not_cell %lu", outs[0].kind, outs[0].len,
		     outs[0].data[0], (unsigned long)f.stats.drop_not_cell);
	cr_assert_eq(f.stats.gfa_drop_fa_auth, 1);
	/* Genuine: relayed to the home agent with FA-HA, the lower FA's extensions removed. */
	n = mk_home_rrq(buf, sizeof(buf), id, &kfa1);
	input(buf, n, FA1);
	cr_assert_eq(nout, 1);
	cr_assert(is_dst(0, HA));
	cr_assert_eq(mip4_msg_decode(outs[0].data, outs[0].len, &m), 0);
	cr_assert_eq(m.type, MIP4_MSG_REG_REQUEST);
	cr_assert_eq(m.coa.s_addr, a4(GFA).s_addr);
	cr_assert_not(m.auth[MIP4_AUTH_FA_FA].present);
	cr_assert_eq(mip4_auth_verify(outs[0].data, &m, MIP4_AUTH_MN_HA, &kmnha), 0);
	cr_assert_eq(mip4_auth_verify(outs[0].data, &m, MIP4_AUTH_FA_HA, &kfaha), 0);
	cr_assert_eq(f.stats.gfa_home_relayed, 1);
	/* A reply with a forged FA-HA: discarded, no binding. */
	n = mk_home_rrp(buf, sizeof(buf), id, &kwrong);
	input(buf, n, HA);
	cr_assert_eq(nout, 1);
	cr_assert_eq(f.stats.gfa_home_drop_ha_auth, 1);
	cr_assert_null(bound());
	/* The genuine reply: binding home -> FA1, reply relayed to FA1 with FA-FA. */
	n = mk_home_rrp(buf, sizeof(buf), id, &kfaha);
	input(buf, n, HA);
	cr_assert_eq(nout, 2);
	cr_assert(is_dst(1, FA1));
	cr_assert_eq(mip4_msg_decode(outs[1].data, outs[1].len, &m), 0);
	cr_assert_eq(m.type, MIP4_MSG_REG_REPLY);
	cr_assert_not(m.auth[MIP4_AUTH_FA_HA].present);
	cr_assert_eq(mip4_auth_verify(outs[1].data, &m, MIP4_AUTH_FA_FA, &kfa1), 0);
	cr_assert_eq(f.stats.gfa_home_replies, 1);
	struct binding *b = bound();
	cr_assert_not_null(b);
	char cb[ROAM_ADDRSTRLEN];
	cr_assert_str_eq(roam_ipaddr_fmt(&b->cur.coa, cb, sizeof(cb)), FA1);
	cr_assert_eq(f.stats.gfa_home_bound, 1);
	/* Then a move inside the region never reaches the home agent. */
	n = mk_rrq(buf, sizeof(buf), HOME, FA2, 60, ntp0 + (1ULL << 30), &kmn, FA2, 6002, &kfa2);
	input(buf, n, FA2);
	cr_assert_eq(nout, 4);
	cr_assert(is_dst(2, FA2));
	cr_assert(is_dst(3, FA1));
	for (int i = 0; i < nout; i++)
		if (i > 0)
			cr_assert_not(is_dst(i, HA));
	cr_assert_eq(f.stats.gfa_home_relayed, 1);
	cr_assert_eq(f.stats.gfa_dual_replies, 1);
}
