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

#include "../../../fa/fad.h"
#include "roam/clock.h"

#define MNGFA "0f0e0d0c0b0a09080706050403020100"
#define FAFA1 "11111111111111111111111111111111"
#define FAFA2 "22222222222222222222222222222222"
#define WRONG "deadbeefdeadbeefdeadbeefdeadbeef"
#define FAHA "0123456789abcdef0123456789abcdef"
#define MNHA "00112233445566778899aabbccddeeff"

#define HA "192.0.2.1"
#define HOME "192.0.2.10"
#define GFA "198.51.100.100"
#define FA1 "203.0.113.1"
#define FA2 "203.0.113.2"

static const char *gfa_conf =
	"snapshot: \"\"\n"
	"cells:\n"
	"  - interface: up0\n"
	"    care_of: " GFA "\n"
	"home_agents:\n"
	"  - address: " HA "\n"
	"    spi: 3000\n"
	"    key: " FAHA "\n"
	"gfa:\n"
	"  enabled: true\n"
	"  address: " GFA "\n"
	"  mobiles:\n"
	"    - home: " HOME "\n"
	"      spi: 5000\n"
	"      key: " MNGFA "\n"
	"  foreign_agents:\n"
	"    - address: " FA1 "\n"
	"      spi: 6001\n"
	"      key: " FAFA1 "\n"
	"    - address: " FA2 "\n"
	"      spi: 6002\n"
	"      key: " FAFA2 "\n";

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
	struct roam_sockaddr dst[16];
	uint8_t data[16][FAD_MAX_MSG];
	size_t len[16];
};

static struct fad g, l1, l2;
static struct cap cg, c1, c2;
static uint64_t now0 = 5000000;
static uint64_t ntp0;
static struct roam_key kmn, kfa1, kwrong, kfaha, kmnha;

static int cap_send(void *arg, const struct roam_sockaddr *dst, const struct roam_ipaddr *src,
		    int ifindex, const void *data, size_t len)
{
	(void)src;
	(void)ifindex;
	struct cap *c = arg;
	cr_assert_lt(c->n, 16);
	c->dst[c->n] = *dst;
	memcpy(c->data[c->n], data, len);
	c->len[c->n] = len;
	c->n++;
	return 0;
}

static struct in_addr a4(const char *s)
{
	struct roam_ipaddr a;
	cr_assert_eq(roam_ipaddr_parse(s, &a), 0);
	return a.v4;
}

static struct roam_sockaddr sa(const char *s)
{
	struct roam_sockaddr x;
	cr_assert_eq(roam_sockaddr_parse(s, 434, &x), 0);
	return x;
}

static void mk(struct fad *f, struct cap *c, const char *text)
{
	memset(f, 0, sizeof(*f));
	memset(c, 0, sizeof(*c));
	char err[256] = "";
	cr_assert_eq(fad_conf_load_string(&f->conf, text, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(fad_sa_build(f), 0);
	cr_assert_eq(fad_cells_build(f, 0), 0);
	cr_assert_eq(fad_store_init(f, now0), 0);
	cr_assert_eq(fad_gfa_init(f), 0);
	f->send = cap_send;
	f->send_arg = c;
	f->drop_rl.burst = 1000;
	f->drop_rl.interval_ms = 1;
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
	auth_key_from_hex(&kmn, AUTH_ALG_HMAC_MD5, MNGFA);
	auth_key_from_hex(&kfa1, AUTH_ALG_HMAC_MD5, FAFA1);
	auth_key_from_hex(&kwrong, AUTH_ALG_HMAC_MD5, WRONG);
	auth_key_from_hex(&kfaha, AUTH_ALG_HMAC_MD5, FAHA);
	auth_key_from_hex(&kmnha, AUTH_ALG_HMAC_MD5, MNHA);
}

static void fini1(struct fad *f)
{
	fad_gfa_free(f);
	fad_store_destroy(f);
	fad_sa_free(f);
	fad_cells_free(f);
	fad_conf_free(&f->conf);
}

static void teardown(void)
{
	fini1(&g);
	fini1(&l1);
	fini1(&l2);
}

static void in(struct fad *f, const uint8_t *buf, size_t len, const char *from)
{
	struct roam_sockaddr src = sa(from);
	fad_input(f, buf, len, &src, 0, now0, ntp0);
}

static void dec(struct cap *c, int i, struct mip4_msg *m)
{
	cr_assert_lt(i, c->n);
	cr_assert_eq(mip4_msg_decode(c->data[i], c->len[i], m), 0);
}

static int is_dst(struct cap *c, int i, const char *addr)
{
	struct roam_sockaddr d = sa(addr);
	return roam_sockaddr_eq(&c->dst[i], &d);
}

/* The mobile's home registration (1, care-of address = the GFA, MN-HA). */
static size_t mk_rrq1(uint8_t *buf, size_t n, uint64_t id)
{
	struct mip4_msg m;
	struct wbuf w;
	memset(&m, 0, sizeof(m));
	m.type = MIP4_MSG_REG_REQUEST;
	m.lifetime = 300;
	m.home = a4(HOME);
	m.ha = a4(HA);
	m.coa = a4(GFA);
	m.id = id;
	m.has_id = 1;
	wbuf_init_fixed(&w, buf, n);
	cr_assert_eq(mip4_msg_encode(&w, &m), 0);
	cr_assert_eq(mip4_auth_append(&w, 0, MIP4_AUTH_MN_HA, 1000, &kmnha), 0);
	return w.len;
}

/* had's reply to it (MN-HA, FA-HA). */
static size_t mk_rrp_ha(uint8_t *buf, size_t n, uint64_t id)
{
	struct mip4_msg m;
	struct wbuf w;
	memset(&m, 0, sizeof(m));
	m.type = MIP4_MSG_REG_REPLY;
	m.lifetime = 300;
	m.home = a4(HOME);
	m.ha = a4(HA);
	m.id = id;
	m.has_id = 1;
	wbuf_init_fixed(&w, buf, n);
	cr_assert_eq(mip4_msg_encode(&w, &m), 0);
	cr_assert_eq(mip4_auth_append(&w, 0, MIP4_AUTH_MN_HA, 1000, &kmnha), 0);
	cr_assert_eq(mip4_auth_append(&w, 0, MIP4_AUTH_FA_HA, 3000, &kfaha), 0);
	return w.len;
}

/* The mobile's regional request (18) via the FA at lcoa. */
static size_t mk_rrq18(uint8_t *buf, size_t n, const char *lcoa, uint64_t id)
{
	struct mip4_msg m;
	struct wbuf w;
	memset(&m, 0, sizeof(m));
	m.type = MIP4_MSG_REGIONAL_REQUEST;
	m.lifetime = 120;
	m.home = a4(HOME);
	m.ha = a4(HA);
	m.coa = a4(lcoa);
	m.id = id;
	m.has_id = 1;
	wbuf_init_fixed(&w, buf, n);
	cr_assert_eq(mip4_msg_encode(&w, &m), 0);
	cr_assert_eq(mip4_auth_append(&w, 0, MIP4_AUTH_MN_GFA, 5000, &kmn), 0);
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
	cr_assert_eq(mip4_auth_verify(c1.data[0], &m, MIP4_AUTH_FA_FA, &kfa1), 0);
	cr_assert_eq(mip4_auth_verify(c1.data[0], &m, MIP4_AUTH_MN_HA, &kmnha), 0);
	cr_assert_not(m.auth[MIP4_AUTH_FA_HA].present);
	cr_assert_eq(l1.stats.region_home_relayed, 1);
	/* GFA -> had. */
	in(&g, c1.data[0], c1.len[0], FA1);
	cr_assert_eq(g.stats.gfa_home_relayed, 1);
	cr_assert_eq(cg.n, 1);
	cr_assert(is_dst(&cg, 0, HA));
	/* had -> GFA -> l1 -> the mobile. */
	in(&g, buf, mk_rrp_ha(buf, sizeof(buf), id), HA);
	cr_assert_eq(cg.n, 2);
	cr_assert(is_dst(&cg, 1, FA1));
	in(&l1, cg.data[1], cg.len[1], GFA);
	cr_assert_eq(l1.stats.region_replies, 1);
	cr_assert_eq(c1.n, 2);
	cr_assert(is_dst(&c1, 1, HOME));
	dec(&c1, 1, &m);
	cr_assert_eq(m.type, MIP4_MSG_REG_REPLY);
	cr_assert_eq(m.code, 0);
	cr_assert_eq(mip4_auth_verify(c1.data[1], &m, MIP4_AUTH_MN_HA, &kmnha), 0);
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
	in(&g, c2.data[0], c2.len[0], FA2);
	cr_assert_eq(g.stats.gfa_regional_accepted, 1);
	cr_assert_eq(g.stats.gfa_dual_replies, 1);
	cr_assert_eq(cg.n, 4);
	cr_assert(is_dst(&cg, 2, FA2));
	cr_assert(is_dst(&cg, 3, FA1));
	/* l2 relays the reply to the mobile. */
	in(&l2, cg.data[2], cg.len[2], GFA);
	cr_assert_eq(c2.n, 2);
	cr_assert(is_dst(&c2, 1, HOME));
	dec(&c2, 1, &m);
	cr_assert_eq(m.type, MIP4_MSG_REGIONAL_REPLY);
	cr_assert_eq(m.code, 0);
	cr_assert_eq(m.id, id);
	cr_assert_eq(mip4_auth_verify(c2.data[1], &m, MIP4_AUTH_MN_GFA, &kmn), 0);
	struct fad_visitor *v2 = fad_visitor_find(&l2, a4(HOME));
	cr_assert_not_null(v2);
	cr_assert_eq(v2->state, FAD_V_REGISTERED);
	/* l1 relays the DRR to the mobile and drops its visitor. */
	in(&l1, cg.data[3], cg.len[3], GFA);
	cr_assert_eq(l1.stats.drr_received, 1);
	cr_assert_eq(l1.stats.drr_relayed, 1);
	cr_assert_eq(c1.n, 3);
	cr_assert(is_dst(&c1, 2, HOME));
	dec(&c1, 2, &m);
	cr_assert_eq(m.type, MIP4_MSG_REGIONAL_REPLY);
	cr_assert_eq(m.lifetime, 0);
	cr_assert_eq(mip4_id_match(m.id, id), 2);
	cr_assert_eq(mip4_auth_verify(c1.data[2], &m, MIP4_AUTH_MN_GFA, &kmn), 0);
	cr_assert_null(fad_visitor_find(&l1, a4(HOME)));
}

Test(region, forged_gfa_reply_dropped)
{
	uint8_t buf[FAD_MAX_MSG];
	uint64_t id = ntp0 - (1ULL << 32);
	in(&l1, buf, mk_rrq1(buf, sizeof(buf), id), HOME);
	cr_assert_eq(c1.n, 1);
	/* A reply "from the GFA" with a wrong FA-FA key. */
	struct mip4_msg m;
	struct wbuf w;
	memset(&m, 0, sizeof(m));
	m.type = MIP4_MSG_REG_REPLY;
	m.lifetime = 300;
	m.home = a4(HOME);
	m.ha = a4(HA);
	m.id = id;
	m.has_id = 1;
	wbuf_init_fixed(&w, buf, sizeof(buf));
	cr_assert_eq(mip4_msg_encode(&w, &m), 0);
	cr_assert_eq(mip4_auth_append(&w, 0, MIP4_AUTH_MN_HA, 1000, &kmnha), 0);
	cr_assert_eq(mip4_auth_append(&w, 0, MIP4_AUTH_FA_FA, 6001, &kwrong), 0);
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
