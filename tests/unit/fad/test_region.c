/* fad's lower-FA role in a GFA region (relay.c, adv.c; docs/protocols/mipv4.md 8.5), wired
 * to a GFA (gfa.c) in the same process: the advertisement (I flag, the GFA's address as
 * care-of address), the home registration relayed to the GFA (Hierarchical FA, FA-FA instead
 * of FA-HA) and its reply back to the mobile, a move with a Regional Registration Request (18)
 * via the new FA, the GFA's reply (19) relayed by the new FA and its deregistration reply
 * relayed by the old FA (which then drops the visitor), and a forged reply from the GFA. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fad_fixture.h"
#include "roam/clock.h"

#define HA "192.0.2.1"
#define HOME "192.0.2.10"
#define GFA "198.51.100.100"
#define FA1 "203.0.113.1"
#define FA2 "203.0.113.2"

static const char *gfa_conf = FX_GFA_CONF("", "");

static const char *lfa_conf_fmt =
	"snapshot: \"\"\n"
	"cells:\n"
	"  - interface: cell0\n"
	"    care_of: %s\n"
	"region:\n"
	"  gfa: " GFA "\n"
	"  spi: %u\n"
	"  key: %s\n";

struct cap {
	int n;
	struct fx_sent s[16];
};

static struct fad g, l1, l2;
static struct cap cg, c1, c2;
static uint64_t now0 = 5000000;
static uint64_t ntp0;
static struct roam_key kmn, kfa1, kwrong, kfaha, kmnha;

static int cap_send(void *arg, const struct roam_sockaddr *dst, const struct roam_ipaddr *src,
		    int ifindex, const void *data, size_t len)
{
	struct cap *c = arg;
	fx_record(c->s, &c->n, 16, dst, src, ifindex, data, len);
	return 0;
}

static void mk(struct fad *f, struct cap *c, const char *text)
{
	memset(c, 0, sizeof(*c));
	fx_fad_init(f, text, now0, 0, cap_send, c);
}

static void setup(void)
{
	char text[1024];
	mk(&g, &cg, gfa_conf);
	snprintf(text, sizeof(text), lfa_conf_fmt, FA1, 6001u, FAFA1);
	mk(&l1, &c1, text);
	snprintf(text, sizeof(text), lfa_conf_fmt, FA2, 6002u, FAFA2);
	mk(&l2, &c2, text);
	ntp0 = auth_ntp_from_unix_ms(1790000000000ULL);
	fx_keys(&kmnha, &kfaha, NULL, &kmn, &kfa1, NULL, &kwrong);
}

static void teardown(void)
{
	fx_fad_fini(&g);
	fx_fad_fini(&l1);
	fx_fad_fini(&l2);
}

static void in(struct fad *f, const uint8_t *buf, size_t len, const char *from)
{
	fx_input(f, buf, len, from, 0, now0, now0, ntp0);
}

static void dec(struct cap *c, int i, struct mip4_msg *m)
{
	cr_assert_lt(i, c->n);
	fx_decode(&c->s[i], m);
}

static int is_dst(struct cap *c, int i, const char *addr)
{
	return sa_is(&c->s[i].dst, addr);
}

/* The mobile's home registration (1, care-of address = the GFA, MN-HA). */
static size_t mk_rrq1(uint8_t *buf, size_t n, uint64_t id)
{
	struct wbuf w;
	fx_msg(&w, buf, n,
	       &(struct fx_hdr){ .type = MIP4_MSG_REG_REQUEST, .life = 300, .home = HOME, .ha = HA,
				 .coa = GFA, .id = id });
	fx_auth(&w, MIP4_AUTH_MN_HA, 1000, &kmnha);
	return w.len;
}

/* had's reply to it (MN-HA, FA-HA). */
static size_t mk_rrp_ha(uint8_t *buf, size_t n, uint64_t id)
{
	struct wbuf w;
	fx_msg(&w, buf, n,
	       &(struct fx_hdr){ .type = MIP4_MSG_REG_REPLY, .life = 300, .home = HOME, .ha = HA,
				 .id = id });
	fx_auth(&w, MIP4_AUTH_MN_HA, 1000, &kmnha);
	fx_auth(&w, MIP4_AUTH_FA_HA, 3000, &kfaha);
	return w.len;
}

/* The mobile's regional request (18) via the FA at lcoa. */
static size_t mk_rrq18(uint8_t *buf, size_t n, const char *lcoa, uint64_t id)
{
	struct wbuf w;
	fx_msg(&w, buf, n,
	       &(struct fx_hdr){ .type = MIP4_MSG_REGIONAL_REQUEST, .life = 120, .home = HOME,
				 .ha = HA, .coa = lcoa, .id = id });
	fx_auth(&w, MIP4_AUTH_MN_GFA, 5000, &kmn);
	return w.len;
}

/* Home registration through l1 and the GFA; returns its Identification. */
static uint64_t home_register(void)
{
	uint8_t buf[FAD_MAX_MSG];
	struct mip4_msg m;
	uint64_t id = ntp0 - (1ULL << 32);
	in(&l1, buf, mk_rrq1(buf, sizeof(buf), id), HOME);
	/* l1 -> GFA: Hierarchical FA = FA1, FA-FA, no FA-HA. */
	cr_assert_eq(c1.n, 1);
	cr_assert(is_dst(&c1, 0, GFA));
	dec(&c1, 0, &m);
	cr_assert_eq(m.type, MIP4_MSG_REG_REQUEST);
	cr_assert(m.exts & MIP4_HAS_HIER_FA);
	cr_assert_eq(m.hier_fa.s_addr, a4(FA1).s_addr);
	cr_assert(m.exts & MIP4_HAS_GFA_ADDR);
	cr_assert_eq(m.gfa_addr.s_addr, a4(GFA).s_addr);
	cr_assert_eq(mip4_auth_verify(c1.s[0].data, &m, MIP4_AUTH_FA_FA, &kfa1), 0);
	cr_assert_eq(mip4_auth_verify(c1.s[0].data, &m, MIP4_AUTH_MN_HA, &kmnha), 0);
	cr_assert_not(m.auth[MIP4_AUTH_FA_HA].present);
	cr_assert_eq(l1.stats.region_home_relayed, 1);
	/* GFA -> had. */
	in(&g, c1.s[0].data, c1.s[0].len, FA1);
	cr_assert_eq(g.stats.gfa_home_relayed, 1);
	cr_assert_eq(cg.n, 1);
	cr_assert(is_dst(&cg, 0, HA));
	/* had -> GFA -> l1 -> the mobile. */
	in(&g, buf, mk_rrp_ha(buf, sizeof(buf), id), HA);
	cr_assert_eq(cg.n, 2);
	cr_assert(is_dst(&cg, 1, FA1));
	in(&l1, cg.s[1].data, cg.s[1].len, GFA);
	cr_assert_eq(l1.stats.region_replies, 1);
	cr_assert_eq(c1.n, 2);
	cr_assert(is_dst(&c1, 1, HOME));
	dec(&c1, 1, &m);
	cr_assert_eq(m.type, MIP4_MSG_REG_REPLY);
	cr_assert_eq(m.code, 0);
	cr_assert_eq(mip4_auth_verify(c1.s[1].data, &m, MIP4_AUTH_MN_HA, &kmnha), 0);
	cr_assert_not(m.auth[MIP4_AUTH_FA_FA].present);
	struct fad_visitor *v = fad_visitor_find(&l1, a4(HOME));
	cr_assert_not_null(v);
	cr_assert_eq(v->state, FAD_V_REGISTERED);
	return id;
}

TestSuite(region, .init = setup, .fini = teardown);

Test(region, advertises_gfa_with_i_flag)
{
	uint8_t buf[256];
	struct wbuf w;
	struct mip4_adv a;
	wbuf_init_fixed(&w, buf, sizeof(buf));
	cr_assert_eq(fad_adv_build(&l1, 0, 7, &w), 0);
	cr_assert_eq(mip4_adv_decode(buf, w.len, &a), 0);
	cr_assert(a.flags & MIP4_MA_I);
	cr_assert_eq(a.n_coa, 1);
	cr_assert_eq(a.coa[0].s_addr, a4(GFA).s_addr);
	cr_assert_eq(a.routers[0].addr.s_addr, a4(FA1).s_addr);
	/* Outside a region: no I, the cell's own address. */
	wbuf_init_fixed(&w, buf, sizeof(buf));
	cr_assert_eq(fad_adv_build(&g, 0, 7, &w), 0);
	cr_assert_eq(mip4_adv_decode(buf, w.len, &a), 0);
	cr_assert_not(a.flags & MIP4_MA_I);
	cr_assert_eq(a.coa[0].s_addr, a4(GFA).s_addr);
}

Test(region, home_registration_via_gfa)
{
	home_register();
	struct roam_ipaddr h;
	roam_ipaddr_set4(&h, a4(HOME));
	struct binding *b = binding_lookup(&g.gfa.bc, &h);
	cr_assert_not_null(b);
	cr_assert_eq(b->cur.coa.v4.s_addr, a4(FA1).s_addr);
}

Test(region, regional_move_dual_reply_relayed)
{
	uint64_t id1 = home_register();
	uint8_t buf[FAD_MAX_MSG];
	struct mip4_msg m;
	uint64_t id = ntp0 + (1ULL << 30);
	cr_assert_gt(id, id1);
	/* The mobile moves to FA2: 18 via l2. */
	in(&l2, buf, mk_rrq18(buf, sizeof(buf), FA2, id), HOME);
	cr_assert_eq(l2.stats.region_regional_relayed, 1);
	cr_assert_eq(c2.n, 1);
	cr_assert(is_dst(&c2, 0, GFA));
	dec(&c2, 0, &m);
	cr_assert_eq(m.type, MIP4_MSG_REGIONAL_REQUEST);
	cr_assert_eq(m.hier_fa.s_addr, a4(FA2).s_addr);
	cr_assert_not(m.exts & MIP4_HAS_GFA_ADDR);
	cr_assert_not(m.auth[MIP4_AUTH_MN_FA].present);
	/* GFA: 19 to FA2, the DRR (19, lifetime 0) to FA1. */
	in(&g, c2.s[0].data, c2.s[0].len, FA2);
	cr_assert_eq(g.stats.gfa_regional_accepted, 1);
	cr_assert_eq(g.stats.gfa_dual_replies, 1);
	cr_assert_eq(cg.n, 4);
	cr_assert(is_dst(&cg, 2, FA2));
	cr_assert(is_dst(&cg, 3, FA1));
	/* l2 relays the reply to the mobile. */
	in(&l2, cg.s[2].data, cg.s[2].len, GFA);
	cr_assert_eq(c2.n, 2);
	cr_assert(is_dst(&c2, 1, HOME));
	dec(&c2, 1, &m);
	cr_assert_eq(m.type, MIP4_MSG_REGIONAL_REPLY);
	cr_assert_eq(m.code, 0);
	cr_assert_eq(m.id, id);
	cr_assert_eq(mip4_auth_verify(c2.s[1].data, &m, MIP4_AUTH_MN_GFA, &kmn), 0);
	struct fad_visitor *v2 = fad_visitor_find(&l2, a4(HOME));
	cr_assert_not_null(v2);
	cr_assert_eq(v2->state, FAD_V_REGISTERED);
	/* l1 relays the DRR to the mobile and drops its visitor. */
	in(&l1, cg.s[3].data, cg.s[3].len, GFA);
	cr_assert_eq(l1.stats.drr_received, 1);
	cr_assert_eq(l1.stats.drr_relayed, 1);
	cr_assert_eq(c1.n, 3);
	cr_assert(is_dst(&c1, 2, HOME));
	dec(&c1, 2, &m);
	cr_assert_eq(m.type, MIP4_MSG_REGIONAL_REPLY);
	cr_assert_eq(m.lifetime, 0);
	cr_assert_eq(mip4_id_match(m.id, id), 2);
	cr_assert_eq(mip4_auth_verify(c1.s[2].data, &m, MIP4_AUTH_MN_GFA, &kmn), 0);
	cr_assert_null(fad_visitor_find(&l1, a4(HOME)));
}

Test(region, forged_gfa_reply_dropped)
{
	uint8_t buf[FAD_MAX_MSG];
	uint64_t id = ntp0 - (1ULL << 32);
	in(&l1, buf, mk_rrq1(buf, sizeof(buf), id), HOME);
	cr_assert_eq(c1.n, 1);
	/* A reply "from the GFA" with a wrong FA-FA key. */
	struct wbuf w;
	fx_msg(&w, buf, sizeof(buf),
	       &(struct fx_hdr){ .type = MIP4_MSG_REG_REPLY, .life = 300, .home = HOME, .ha = HA,
				 .id = id });
	fx_auth(&w, MIP4_AUTH_MN_HA, 1000, &kmnha);
	fx_auth(&w, MIP4_AUTH_FA_FA, 6001, &kwrong);
	in(&l1, buf, w.len, GFA);
	cr_assert_eq(l1.stats.region_drop_fa_auth, 1);
	cr_assert_eq(c1.n, 1);
	struct fad_visitor *v = fad_visitor_find(&l1, a4(HOME));
	cr_assert_not_null(v);
	cr_assert_eq(v->state, FAD_V_PENDING);
	/* In a region, a reply from someone else than the GFA (here the home agent itself,
	 * with which l1 has no FA-HA SA): dropped. */
	in(&l1, buf, w.len, HA);
	cr_assert_eq(l1.stats.drop_from_stranger, 1);
	cr_assert_eq(c1.n, 1);
}
