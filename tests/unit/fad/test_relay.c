/* fad's relay state machine (relay.c, fbu.c, visitor.c, sa.c) on a fake clock: request relay
 * with FA-HA added and MN-FA stripped, reply relay with MN-FA added and FA-HA checked, denials
 * from the home agent relayed, fad's own denials (67, 69, 70, 72, 74, 77, 65), pending timeout
 * (78), registration expiry, deregistration, the synchronized handoff's deregistration reply,
 * FBU / FBAck (previous FA and new FA roles), the advertisement, and the snapshot. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fad_fixture.h"
#include "roam/clock.h"

#define HA "192.0.2.1"
#define HOME "192.0.2.10"  /* mobile with an MN-FA SA */
#define HOME2 "192.0.2.20" /* mobile without */
#define COA0 "198.51.100.1"
#define COA1 "198.51.100.2"
#define NCOA "203.0.113.7"
#define MN_SRC HOME ":434"
#define MN2_SRC HOME2 ":5000"

static const char *conf_text =
	"snapshot: \"\"\n"
	"max_lifetime: 600s\n"
	"relay_timeout: 5s\n"
	"fbu_max_lifetime: 10s\n"
	"max_visitors: 3\n"
	FX_FA_CELLS_HA_MN;

static struct fad f;
static struct fx_sent sent[16];
static int nsent;
static uint64_t now0 = 7000000;
static uint64_t wall0 = 1790000000000ULL;
static uint64_t ntp0;
static struct roam_key kmnha, kfaha, kmnfa;

static int capture(void *arg, const struct roam_sockaddr *dst, const struct roam_ipaddr *src,
		   int ifindex, const void *data, size_t len)
{
	(void)arg;
	fx_record(sent, &nsent, 16, dst, src, ifindex, data, len);
	return 0;
}

static void setup_text(const char *text)
{
	fx_fad_init(&f, text, now0, 11, capture, NULL);
	nsent = 0;
	ntp0 = auth_ntp_from_unix_ms(wall0);
	fx_keys(&kmnha, &kfaha, &kmnfa, NULL, NULL, NULL, NULL);
}

static void setup(void)
{
	setup_text(conf_text);
}

static void teardown(void)
{
	fx_fad_fini(&f);
}

static int is_dst(const struct fx_sent *s, const char *addr)
{
	return sa_is(&s->dst, addr);
}

/* A request as the mobile sends it. */
static size_t mk_request(uint8_t *buf, size_t n, uint8_t type, const char *home,
			 const char *ha, const char *coa, uint16_t life, uint8_t flags, uint64_t id,
			 const struct roam_key *mnfa_key, const struct roam_key *mnpar_key)
{
	struct wbuf w;
	fx_msg(&w, buf, n,
	       &(struct fx_hdr){ .type = type, .flags = flags, .life = life, .home = home,
				 .ha = ha, .coa = coa, .id = id });
	if (mnpar_key) {
		fx_auth(&w, MIP4_AUTH_MN_PAR, 4000, mnpar_key);
	} else {
		fx_auth(&w, MIP4_AUTH_MN_HA, 1000, &kmnha);
		if (mnfa_key)
			fx_auth(&w, MIP4_AUTH_MN_FA, 4000, mnfa_key);
	}
	return w.len;
}

/* A reply as the home agent sends it. */
static size_t mk_reply(uint8_t *buf, size_t n, const char *home, uint8_t code, uint16_t life,
		       uint64_t id, const struct roam_key *faha_key)
{
	struct wbuf w;
	fx_msg(&w, buf, n,
	       &(struct fx_hdr){ .type = MIP4_MSG_REG_REPLY, .code = code, .life = life,
				 .home = home, .ha = HA, .id = id });
	fx_auth(&w, MIP4_AUTH_MN_HA, 1000, &kmnha);
	if (faha_key)
		fx_auth(&w, MIP4_AUTH_FA_HA, 3000, faha_key);
	return w.len;
}

static uint64_t id_at(uint64_t ms)
{
	return mip4_id_next(wall0 + ms, 0, 0);
}

static void in_cell(const uint8_t *p, size_t n, const char *src, int cell, uint64_t now)
{
	fx_input(&f, p, n, src, cell + 11, now, now0, ntp0);
}

static void in_net(const uint8_t *p, size_t n, const char *src, uint64_t now)
{
	fx_input(&f, p, n, src, 99, now, now0, ntp0);
}

/* HOME's request (lifetime life, flags, MN-FA) on cell (care-of address COA0 or COA1) at
 * now0 + at; returns its id. */
static uint64_t home_request(int cell, uint16_t life, uint8_t flags, uint64_t at)
{
	uint8_t b[512];
	uint64_t id = id_at(at);
	size_t n = mk_request(b, sizeof(b), MIP4_MSG_REG_REQUEST, HOME, HA, cell ? COA1 : COA0, life,
			      flags, id, &kmnfa, NULL);
	in_cell(b, n, MN_SRC, cell, now0 + at);
	return id;
}

/* The home agent's reply for HOME (FA-HA under k, NULL: none) arrives at now0 + at. */
static void home_reply(uint8_t code, uint16_t life, uint64_t id, const struct roam_key *k,
		       uint64_t at)
{
	uint8_t b[512];
	size_t n = mk_reply(b, sizeof(b), HOME, code, life, id, k);
	in_net(b, n, HA ":434", now0 + at);
}

/* Registers HOME via cell 0 for 300 s; returns the request's id. */
static uint64_t register_home(void)
{
	uint64_t id = home_request(0, 300, 0, 0);
	cr_assert_eq(nsent, 1);
	home_reply(0, 300, id, &kfaha, 50);
	cr_assert_eq(nsent, 2);
	struct fad_visitor *v = fad_visitor_find(&f, a4(HOME));
	cr_assert_not_null(v);
	cr_assert_eq(v->state, FAD_V_REGISTERED);
	nsent = 0;
	return id;
}

TestSuite(fad_relay, .init = setup, .fini = teardown);

Test(fad_relay, request_relayed_with_fa_ha_and_without_mn_fa)
{
	uint64_t id = home_request(0, 300, MIP4_REQ_T, 0);
	cr_assert_eq(nsent, 1);
	cr_assert(is_dst(&sent[0], HA ":434"));
	cr_assert_eq(sent[0].src.v4.s_addr, a4(COA0).s_addr, "relayed from the care-of address");
	struct mip4_msg m;
	fx_decode(&sent[0], &m);
	cr_assert_eq(m.type, MIP4_MSG_REG_REQUEST);
	cr_assert_eq(m.id, id);
	cr_assert_eq(m.flags, MIP4_REQ_T);
	cr_assert_eq(mip4_auth_verify(sent[0].data, &m, MIP4_AUTH_MN_HA, &kmnha), 0);
	cr_assert(!m.auth[MIP4_AUTH_MN_FA].present, "MN-FA removed");
	cr_assert_eq(m.auth[MIP4_AUTH_FA_HA].spi, 3000);
	cr_assert_eq(mip4_auth_verify(sent[0].data, &m, MIP4_AUTH_FA_HA, &kfaha), 0);
	struct fad_visitor *v = fad_visitor_find(&f, a4(HOME));
	cr_assert_not_null(v);
	cr_assert_eq(v->state, FAD_V_PENDING);
	cr_assert(v->pend.active);
	cr_assert_eq(f.stats.relayed_requests, 1);
	cr_assert_eq(f.cells[0].rx_requests, 1);
}

Test(fad_relay, reply_relayed_with_mn_fa_visitor_registered)
{
	uint64_t id = home_request(1, 300, 0, 0);
	nsent = 0;
	home_reply(0, 200, id, &kfaha, 40);
	cr_assert_eq(nsent, 1);
	cr_assert(is_dst(&sent[0], MN_SRC));
	cr_assert_eq(sent[0].ifindex, 12, "out of the mobile's cell");
	struct mip4_msg m;
	fx_decode(&sent[0], &m);
	cr_assert_eq(m.code, 0);
	cr_assert_eq(m.lifetime, 200);
	cr_assert_eq(mip4_auth_verify(sent[0].data, &m, MIP4_AUTH_MN_HA, &kmnha), 0);
	cr_assert(!m.auth[MIP4_AUTH_FA_HA].present, "FA-HA removed");
	cr_assert_eq(mip4_auth_verify(sent[0].data, &m, MIP4_AUTH_MN_FA, &kmnfa), 0);
	struct fad_visitor *v = fad_visitor_find(&f, a4(HOME));
	cr_assert_eq(v->state, FAD_V_REGISTERED);
	cr_assert_eq(v->granted, 200);
	cr_assert_eq(v->cell, 1);
	cr_assert_eq(v->coa.s_addr, a4(COA1).s_addr);
	cr_assert_eq(fad_visitor_remaining(v, now0 + 40), 200);
	cr_assert_eq(f.stats.registered, 1);
	/* Expiry: gone after the granted lifetime. */
	fad_store_expire(&f, now0 + 40 + 199000);
	cr_assert_not_null(fad_visitor_find(&f, a4(HOME)));
	fad_store_expire(&f, now0 + 40 + 200001);
	cr_assert_null(fad_visitor_find(&f, a4(HOME)));
	cr_assert_eq(f.stats.visitors_expired, 1);
}

Test(fad_relay, refresh_keeps_visitor)
{
	register_home();
	uint64_t id = home_request(0, 300, 0, 5000);
	home_reply(0, 300, id, &kfaha, 5050);
	cr_assert_eq(nsent, 2);
	cr_assert_eq(f.stats.refreshed, 1);
	struct fad_visitor *v = fad_visitor_find(&f, a4(HOME));
	cr_assert_eq(v->reg_id, id);
	cr_assert_eq(v->reg_expires, now0 + 5050 + 300000);
}

Test(fad_relay, home_agent_denial_relayed_visitor_dropped)
{
	uint8_t b[512];
	uint64_t id = id_at(0);
	size_t n = mk_request(b, sizeof(b), MIP4_MSG_REG_REQUEST, HOME2, HA, COA0, 300, 0, id,
			      NULL, NULL);
	in_cell(b, n, MN2_SRC, 0, now0);
	cr_assert_eq(nsent, 1);
	n = mk_reply(b, sizeof(b), HOME2, MIP4_CODE_HA_MN_AUTH, 0, id, &kfaha);
	in_net(b, n, HA ":434", now0 + 10);
	cr_assert_eq(nsent, 2);
	cr_assert(is_dst(&sent[1], MN2_SRC));
	struct mip4_msg m;
	fx_decode(&sent[1], &m);
	cr_assert_eq(m.code, 131);
	cr_assert(!m.auth[MIP4_AUTH_MN_FA].present, "no MN-FA SA for this mobile");
	cr_assert_null(fad_visitor_find(&f, a4(HOME2)));
	cr_assert_eq(f.stats.ha_denied[131 - 128], 1);
}

Test(fad_relay, forged_fa_ha_reply_dropped)
{
	uint64_t id = home_request(0, 300, 0, 0);
	nsent = 0;
	struct roam_key bad = kfaha;
	bad.bytes[0] ^= 1;
	home_reply(0, 300, id, &bad, 10);
	home_reply(0, 300, id, NULL, 11); /* absent */
	cr_assert_eq(nsent, 0);
	cr_assert_eq(f.stats.drop_ha_auth, 2);
	struct fad_visitor *v = fad_visitor_find(&f, a4(HOME));
	cr_assert_eq(v->state, FAD_V_PENDING, "untouched");
	cr_assert(v->pend.active);
}

Test(fad_relay, pending_timeout_answers_78)
{
	uint64_t id = home_request(0, 300, 0, 0);
	nsent = 0;
	fad_store_expire(&f, now0 + 4999);
	cr_assert_eq(nsent, 0);
	fad_store_expire(&f, now0 + 5001);
	cr_assert_eq(nsent, 1);
	cr_assert(is_dst(&sent[0], MN_SRC));
	struct mip4_msg m;
	fx_decode(&sent[0], &m);
	cr_assert_eq(m.code, MIP4_CODE_FA_TIMEOUT);
	cr_assert_eq(m.id, id);
	cr_assert_eq(mip4_auth_verify(sent[0].data, &m, MIP4_AUTH_MN_FA, &kmnfa), 0);
	cr_assert_null(fad_visitor_find(&f, a4(HOME)));
	cr_assert_eq(f.stats.pending_timeouts, 1);
	cr_assert_eq(f.stats.denied[78 - 64], 1);
	/* A late reply now matches nothing. */
	home_reply(0, 300, id, &kfaha, 6000);
	cr_assert_eq(f.stats.drop_unknown_visitor, 1);
}

Test(fad_relay, pending_timeout_of_refresh_keeps_registration)
{
	register_home();
	uint8_t b[512];
	size_t n = mk_request(b, sizeof(b), MIP4_MSG_REG_REQUEST, HOME, HA, COA0, 300, 0,
			      id_at(1000), &kmnfa, NULL);
	in_cell(b, n, MN_SRC, 0, now0 + 1000);
	fad_store_expire(&f, now0 + 7000);
	struct fad_visitor *v = fad_visitor_find(&f, a4(HOME));
	cr_assert_not_null(v);
	cr_assert_eq(v->state, FAD_V_REGISTERED);
	cr_assert(!v->pend.active);
}

static void expect_denial(uint8_t code)
{
	cr_assert_eq(nsent, 1, "one reply, nothing relayed");
	cr_assert(is_dst(&sent[0], MN_SRC) || is_dst(&sent[0], MN2_SRC));
	struct mip4_msg m;
	fx_decode(&sent[0], &m);
	cr_assert_eq(m.type, MIP4_MSG_REG_REPLY);
	cr_assert_eq(m.code, code);
	cr_assert_eq(f.stats.denied[code - 64], 1);
	cr_assert_eq(f.stats.relayed_requests, 0);
}

Test(fad_relay, lifetime_too_long_69)
{
	uint8_t b[512];
	size_t n = mk_request(b, sizeof(b), MIP4_MSG_REG_REQUEST, HOME, HA, COA0, 601, 0, id_at(0),
			      &kmnfa, NULL);
	in_cell(b, n, MN_SRC, 0, now0);
	expect_denial(69);
	cr_assert_null(fad_visitor_find(&f, a4(HOME)));
}

Test(fad_relay, mn_fa_wrong_or_absent_67)
{
	uint8_t b[512];
	struct roam_key bad = kmnfa;
	bad.bytes[3] ^= 0x40;
	size_t n = mk_request(b, sizeof(b), MIP4_MSG_REG_REQUEST, HOME, HA, COA0, 300, 0, id_at(0),
			      &bad, NULL);
	in_cell(b, n, MN_SRC, 0, now0);
	expect_denial(67);
	struct mip4_msg m;
	fx_decode(&sent[0], &m);
	cr_assert(!m.auth[MIP4_AUTH_MN_FA].present);
	nsent = 0;
	n = mk_request(b, sizeof(b), MIP4_MSG_REG_REQUEST, HOME, HA, COA0, 300, 0, id_at(1), NULL,
		       NULL);
	in_cell(b, n, MN_SRC, 0, now0);
	cr_assert_eq(nsent, 1);
	cr_assert_eq(f.stats.denied[67 - 64], 2);
}

Test(fad_relay, encapsulation_72_invalid_coa_77_bad_ha_65)
{
	uint8_t b[512];
	size_t n = mk_request(b, sizeof(b), MIP4_MSG_REG_REQUEST, HOME2, HA, COA0, 300, MIP4_REQ_G,
			      id_at(0), NULL, NULL);
	in_cell(b, n, MN2_SRC, 0, now0);
	expect_denial(72);
	nsent = 0;
	n = mk_request(b, sizeof(b), MIP4_MSG_REG_REQUEST, HOME2, HA, NCOA, 300, 0, id_at(1), NULL,
		       NULL);
	in_cell(b, n, MN2_SRC, 0, now0);
	cr_assert_eq(nsent, 1);
	cr_assert_eq(f.stats.denied[77 - 64], 1);
	nsent = 0;
	n = mk_request(b, sizeof(b), MIP4_MSG_REG_REQUEST, HOME2, "255.255.255.255", COA0, 300, 0,
		       id_at(2), NULL, NULL);
	in_cell(b, n, MN2_SRC, 0, now0);
	cr_assert_eq(nsent, 1);
	cr_assert_eq(f.stats.denied[65 - 64], 1);
}

Test(fad_relay, malformed_request_70_and_not_from_cell)
{
	uint8_t b[512];
	size_t n = mk_request(b, sizeof(b), MIP4_MSG_REG_REQUEST, HOME2, HA, COA0, 300, 0, id_at(0),
			      NULL, NULL);
	b[n++] = MIP4_EXT_NAI; /* NAI extension running past the end */
	b[n++] = 9;
	b[n++] = 'x';
	in_cell(b, n, MN2_SRC, 0, now0);
	expect_denial(70);
	nsent = 0;
	n = mk_request(b, sizeof(b), MIP4_MSG_REG_REQUEST, HOME2, HA, COA0, 300, 0, id_at(1), NULL,
		       NULL);
	in_net(b, n, MN2_SRC, now0);
	cr_assert_eq(nsent, 0);
	cr_assert_eq(f.stats.drop_not_cell, 1);
}

Test(fad_relay, visitor_list_full_66)
{
	uint8_t b[512];
	const char *homes[] = { "192.0.2.31", "192.0.2.32", "192.0.2.33" };
	for (int i = 0; i < 3; i++) {
		size_t n = mk_request(b, sizeof(b), MIP4_MSG_REG_REQUEST, homes[i], HA, COA0, 300, 0,
				      id_at((uint64_t)i), NULL, NULL);
		in_cell(b, n, MN2_SRC, 0, now0);
	}
	cr_assert_eq(nsent, 3);
	f.stats.relayed_requests = 0;
	/* The advertisement now carries B. */
	uint8_t ab[256];
	struct wbuf w;
	wbuf_init_fixed(&w, ab, sizeof(ab));
	cr_assert_eq(fad_adv_build(&f, 0, 5, &w), 0);
	struct mip4_adv a;
	cr_assert_eq(mip4_adv_decode(ab, w.len, &a), 0);
	cr_assert(a.flags & MIP4_MA_B);
	nsent = 0;
	size_t n = mk_request(b, sizeof(b), MIP4_MSG_REG_REQUEST, HOME2, HA, COA0, 300, 0, id_at(9),
			      NULL, NULL);
	in_cell(b, n, MN2_SRC, 0, now0);
	expect_denial(66);
}

Test(fad_relay, advertisement)
{
	uint8_t ab[256];
	struct wbuf w;
	wbuf_init_fixed(&w, ab, sizeof(ab));
	cr_assert_eq(fad_adv_build(&f, 1, 300, &w), 0);
	struct mip4_adv a;
	cr_assert_eq(mip4_adv_decode(ab, w.len, &a), 0);
	cr_assert_eq(a.code, MIP4_ADV_CODE_MOBILE_ONLY);
	cr_assert(a.has_ma);
	cr_assert_eq(a.seq, 300);
	cr_assert_eq(a.flags, MIP4_MA_F | MIP4_MA_R | MIP4_MA_T);
	cr_assert_eq(a.reg_lifetime, 600);
	cr_assert_eq(a.n_coa, 1);
	cr_assert_eq(a.coa[0].s_addr, a4(COA1).s_addr);
	cr_assert_eq(a.routers[0].addr.s_addr, a4(COA1).s_addr);
	cr_assert_eq(mip4_adv_seq_next(0xffff), 256);
	cr_assert_eq(mip4_adv_seq_next(7), 8);
}

Test(fad_relay, deregistration_removes_visitor)
{
	register_home();
	uint8_t b[512];
	uint64_t id = id_at(2000);
	size_t n = mk_request(b, sizeof(b), MIP4_MSG_REG_REQUEST, HOME, HA, HOME, 0, 0, id, &kmnfa,
			      NULL);
	in_cell(b, n, MN_SRC, 0, now0 + 2000);
	cr_assert_eq(nsent, 1);
	cr_assert(is_dst(&sent[0], HA ":434"));
	cr_assert_eq(f.stats.relayed_deregistrations, 1);
	home_reply(0, 0, id, &kfaha, 2010);
	cr_assert_eq(nsent, 2);
	cr_assert(is_dst(&sent[1], MN_SRC));
	cr_assert_null(fad_visitor_find(&f, a4(HOME)));
	cr_assert_eq(f.stats.deregistered, 1);
}

Test(fad_relay, dereg_reply_of_synchronized_handoff)
{
	uint64_t id = register_home();
	/* A reply with the request's own id again is no deregistration reply. */
	home_reply(0, 0, id, &kfaha, 3000);
	cr_assert_eq(nsent, 0);
	cr_assert_eq(f.stats.drop_unmatched_reply, 1);
	/* Forged FA-HA: dropped, the visitor stays. */
	struct roam_key bad = kfaha;
	bad.bytes[0] ^= 1;
	home_reply(0, 0, mip4_id_dereg(id), &bad, 3000);
	cr_assert_eq(nsent, 0);
	cr_assert_not_null(fad_visitor_find(&f, a4(HOME)));
	/* An older Identification: no deregistration reply of a later request. */
	home_reply(0, 0, id - (1ULL << 32), &kfaha, 3000);
	cr_assert_eq(nsent, 0);
	cr_assert_eq(f.stats.drop_unmatched_reply, 2);
	/* The real one answers the request the mobile sent via its new FA (Identification
	 * mip4_id_dereg of that request): relayed to the mobile on its cell, then the visitor
	 * goes. */
	uint64_t via_new = id_at(2500);
	home_reply(0, 0, mip4_id_dereg(via_new), &kfaha, 3000);
	cr_assert_eq(nsent, 1);
	cr_assert(is_dst(&sent[0], MN_SRC));
	cr_assert_eq(sent[0].ifindex, 11);
	struct mip4_msg m;
	fx_decode(&sent[0], &m);
	cr_assert_eq(m.lifetime, 0);
	cr_assert_eq(mip4_id_match(m.id, via_new), 2);
	cr_assert_eq(mip4_auth_verify(sent[0].data, &m, MIP4_AUTH_MN_HA, &kmnha), 0);
	cr_assert_null(fad_visitor_find(&f, a4(HOME)));
	cr_assert_eq(f.stats.drr_received, 1);
	cr_assert_eq(f.stats.drr_relayed, 1);
}

Test(fad_relay, dereg_reply_waits_behind_queued_items)
{
	uint64_t id = register_home();
	struct fad_visitor *v = fad_visitor_find(&f, a4(HOME));
	/* Data the data plane queued for the mobile (none attached here: dropped in order). */
	cr_assert_eq(bfifo_push(&v->b->cur.fifo, BFIFO_DATA, "abcd", 4, now0), 0);
	cr_assert_eq(bfifo_push(&v->b->cur.fifo, BFIFO_DATA, "efgh", 4, now0), 0);
	home_reply(0, 0, mip4_id_dereg(id), &kfaha, 3000);
	cr_assert_eq(f.stats.drop_no_dataplane, 2, "the data left first");
	cr_assert_eq(nsent, 1);
	cr_assert_null(fad_visitor_find(&f, a4(HOME)));
}

static size_t mk_fbu(uint8_t *b, size_t n, const char *home, const char *ncoa, uint16_t life,
		     uint64_t id, const struct roam_key *k)
{
	return mk_request(b, n, MIP4_MSG_FBU, home, COA0, ncoa, life, 0, id, NULL, k);
}

Test(fad_relay, fbu_forwarding_and_fback_via_new_fa)
{
	register_home();
	uint8_t b[512];
	uint64_t id = id_at(4000);
	size_t n = mk_fbu(b, sizeof(b), HOME, NCOA, 5, id, &kmnfa);
	in_cell(b, n, MN_SRC, 0, now0 + 4000);
	cr_assert_eq(nsent, 1);
	cr_assert(is_dst(&sent[0], NCOA ":434"), "FBAck via the new FA");
	struct mip4_msg m;
	fx_decode(&sent[0], &m);
	cr_assert_eq(m.type, MIP4_MSG_FBACK);
	cr_assert_eq(m.code, 0);
	cr_assert_eq(m.id, id);
	cr_assert_eq(m.ha.s_addr, a4(COA0).s_addr);
	cr_assert_eq(mip4_auth_verify(sent[0].data, &m, MIP4_AUTH_MN_PAR, &kmnfa), 0);
	struct fad_visitor *v = fad_visitor_find(&f, a4(HOME));
	cr_assert_eq(v->state, FAD_V_FORWARDING);
	cr_assert_eq(v->fwd_coa.s_addr, a4(NCOA).s_addr);
	cr_assert_eq(v->b->cur.coa.v4.s_addr, a4(NCOA).s_addr);
	cr_assert_eq(f.stats.fbu_accepted, 1);
	/* Replayed: dropped. */
	in_cell(b, n, MN_SRC, 0, now0 + 4100);
	cr_assert_eq(nsent, 1);
	cr_assert_eq(f.stats.fbu_replay, 1);
	/* The deregistration reply arriving now goes the forwarding way (data plane). */
	nsent = 0;
	home_reply(0, 0, mip4_id_dereg(v->reg_id), &kfaha, 4200);
	cr_assert_eq(nsent, 0, "not sent on the old cell");
	cr_assert_eq(f.stats.drr_received, 1);
	cr_assert_eq(f.stats.drop_no_dataplane, 1);
	cr_assert_not_null(fad_visitor_find(&f, a4(HOME)), "forwarding lasts its lifetime");
	fad_store_expire(&f, now0 + 4000 + 5001);
	cr_assert_null(fad_visitor_find(&f, a4(HOME)));
	cr_assert_eq(f.stats.forwarding_expired, 1);
}

Test(fad_relay, fbu_refusals)
{
	uint8_t b[512];
	/* Not a visitor: 65. */
	size_t n = mk_fbu(b, sizeof(b), HOME, NCOA, 5, id_at(1), &kmnfa);
	in_cell(b, n, MN_SRC, 0, now0);
	cr_assert_eq(nsent, 1);
	struct mip4_msg m;
	fx_decode(&sent[0], &m);
	cr_assert_eq(m.type, MIP4_MSG_FBACK);
	cr_assert_eq(m.code, 65);
	cr_assert(is_dst(&sent[0], MN_SRC), "refusals go back to the sender");
	nsent = 0;
	register_home();
	/* Wrong MN-PAR: 67, no authenticator. */
	struct roam_key bad = kmnfa;
	bad.bytes[0] ^= 1;
	n = mk_fbu(b, sizeof(b), HOME, NCOA, 5, id_at(2), &bad);
	in_cell(b, n, MN_SRC, 0, now0 + 100);
	cr_assert_eq(nsent, 1);
	fx_decode(&sent[0], &m);
	cr_assert_eq(m.code, 67);
	cr_assert(!m.auth[MIP4_AUTH_MN_PAR].present);
	/* Too long: 69. */
	n = mk_fbu(b, sizeof(b), HOME, NCOA, 11, id_at(3), &kmnfa);
	in_cell(b, n, MN_SRC, 0, now0 + 200);
	fx_decode(&sent[1], &m);
	cr_assert_eq(m.code, 69);
	/* Care-of address of ours: 77. */
	n = mk_fbu(b, sizeof(b), HOME, COA1, 5, id_at(4), &kmnfa);
	in_cell(b, n, MN_SRC, 0, now0 + 300);
	fx_decode(&sent[2], &m);
	cr_assert_eq(m.code, 77);
	/* A stranger (no SA): dropped. */
	n = mk_fbu(b, sizeof(b), HOME2, NCOA, 5, id_at(5), &kmnfa);
	in_net(b, n, "203.0.113.99:434", now0 + 400);
	cr_assert_eq(nsent, 3);
	cr_assert_eq(f.stats.fbu_stranger, 1);
	cr_assert_eq(f.stats.fbu_refused, 4);
	cr_assert_eq(fad_visitor_find(&f, a4(HOME))->state, FAD_V_REGISTERED, "untouched");
}

Test(fad_relay, new_fa_relays_fbu_and_fback)
{
	uint8_t b[512];
	/* HOME is registering here (pending) and sends the FBU for its previous FA through us. */
	size_t n = mk_request(b, sizeof(b), MIP4_MSG_REG_REQUEST, HOME, HA, COA1, 300, 0, id_at(0),
			      &kmnfa, NULL);
	in_cell(b, n, MN_SRC, 1, now0);
	nsent = 0;
	struct mip4_msg fb;
	memset(&fb, 0, sizeof(fb));
	n = mk_request(b, sizeof(b), MIP4_MSG_FBU, HOME, "203.0.113.50", COA1, 5, 0, id_at(1), NULL,
		       &kmnfa);
	in_cell(b, n, "192.0.2.10:6000", 1, now0 + 10);
	cr_assert_eq(nsent, 1);
	cr_assert(is_dst(&sent[0], "203.0.113.50:434"));
	cr_assert_eq(sent[0].len, n);
	cr_assert_eq(memcmp(sent[0].data, b, n), 0, "relayed unchanged");
	cr_assert_eq(f.stats.fbu_relayed, 1);
	/* The FBAck from the previous FA comes back to us: relayed to the mobile. */
	struct wbuf w;
	struct fx_hdr h = { .type = MIP4_MSG_FBACK, .life = 5, .home = HOME, .ha = "203.0.113.50",
			    .id = id_at(1) };
	fx_msg(&w, b, sizeof(b), &h);
	fx_auth(&w, MIP4_AUTH_MN_PAR, 4000, &kmnfa);
	in_net(b, w.len, "203.0.113.50:434", now0 + 20);
	cr_assert_eq(nsent, 2);
	cr_assert(is_dst(&sent[1], "192.0.2.10:6000"), "to the FBU's sender");
	cr_assert_eq(sent[1].ifindex, 12);
	cr_assert_eq(f.stats.fback_relayed, 1);
	/* For a stranger: dropped. */
	h.home = "192.0.2.99";
	fx_msg(&w, b, sizeof(b), &h);
	in_net(b, w.len, "203.0.113.50:434", now0 + 30);
	cr_assert_eq(nsent, 2);
	cr_assert_eq(f.stats.fback_unknown, 1);
}

Test(fad_relay, plain_mode_refuses_fbu)
{
	teardown();
	char text[2048];
	snprintf(text, sizeof(text), "%ssynchronized: false\nreverse_tunnel: off\n", conf_text);
	setup_text(text);
	register_home();
	uint8_t b[512];
	size_t n = mk_fbu(b, sizeof(b), HOME, NCOA, 5, id_at(10), &kmnfa);
	in_cell(b, n, MN_SRC, 0, now0 + 100);
	struct mip4_msg m;
	fx_decode(&sent[0], &m);
	cr_assert_eq(m.code, 65);
	/* reverse_tunnel: off -> 74 on T. */
	nsent = 0;
	n = mk_request(b, sizeof(b), MIP4_MSG_REG_REQUEST, HOME2, HA, COA0, 300, MIP4_REQ_T,
		       id_at(11), NULL, NULL);
	in_cell(b, n, MN2_SRC, 0, now0 + 200);
	fx_decode(&sent[0], &m);
	cr_assert_eq(m.code, 74);
}

Test(fad_relay, snapshot_roundtrip)
{
	char path[] = "/tmp/fad-test-snap-XXXXXX";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	close(fd);
	unlink(path);
	teardown();
	char text[2048];
	const char *rest = conf_text + strlen("snapshot: \"\"\n");
	cr_assert_eq(strncmp(conf_text, "snapshot: \"\"\n", 13), 0);
	snprintf(text, sizeof(text), "snapshot: \"%s\"\n%s", path, rest);
	uint64_t real = roam_mono_ms();
	now0 = real;
	setup_text(text);
	uint64_t id = register_home();
	cr_assert_eq(fad_store_save(&f), 0);
	teardown();
	setup_text(text);
	cr_assert_eq(fad_store_load(&f, roam_wall_ms(), roam_mono_ms()), 0);
	struct fad_visitor *v = fad_visitor_find(&f, a4(HOME));
	cr_assert_not_null(v);
	cr_assert_eq(v->state, FAD_V_REGISTERED);
	cr_assert_eq(v->reg_id, id);
	cr_assert_eq(v->cell, 0);
	cr_assert_eq(v->ha.s_addr, a4(HA).s_addr);
	uint32_t left = fad_visitor_remaining(v, roam_mono_ms());
	cr_assert(left >= 295 && left <= 300, "remaining %u", left);
	cr_assert_eq(f.stats.snapshot_loaded, 1);
	unlink(path);
	now0 = 7000000;
}

Test(fad_relay, mobile_returns_to_forwarding_fa)
{
	register_home();
	uint8_t b[512];
	size_t n = mk_fbu(b, sizeof(b), HOME, NCOA, 8, id_at(1000), &kmnfa);
	in_cell(b, n, MN_SRC, 0, now0 + 1000);
	struct fad_visitor *v = fad_visitor_find(&f, a4(HOME));
	cr_assert_eq(v->state, FAD_V_FORWARDING);
	/* Back on cell 1 of the same FA before the forwarding ends. */
	nsent = 0;
	uint64_t id = id_at(2000);
	n = mk_request(b, sizeof(b), MIP4_MSG_REG_REQUEST, HOME, HA, COA1, 300, 0, id, &kmnfa, NULL);
	in_cell(b, n, MN_SRC, 1, now0 + 2000);
	cr_assert_eq(nsent, 1);
	cr_assert_eq(v->state, FAD_V_PENDING, "back on our cell: forwarding ends at once (no loop)");
	cr_assert_eq(f.stats.forwarding_returned, 1);
	cr_assert_not(v->anticipated, "its request is here: nothing waits for it");
	home_reply(0, 300, id, &kfaha, 2050);
	cr_assert_eq(nsent, 2);
	cr_assert(is_dst(&sent[1], MN_SRC));
	cr_assert_eq(sent[1].ifindex, 12);
	cr_assert_eq(v->state, FAD_V_REGISTERED);
	cr_assert_eq(v->cell, 1);
	cr_assert_eq(v->b->cur.coa.v4.s_addr, a4(HOME).s_addr, "delivering on the cell again");
	fad_store_expire(&f, now0 + 1000 + 9000);
	cr_assert_not_null(fad_visitor_find(&f, a4(HOME)), "the forwarding deadline is gone");
}
