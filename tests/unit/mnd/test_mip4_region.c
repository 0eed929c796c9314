/* mnd's Mobile IPv4 state machine in a GFA region (mnd/mip4_sm.c; docs/protocols/mipv4.md
 * 8.5): the first registration is a home registration (1) with the GFA's address as care-of
 * address; a move to another FA advertising the same GFA sends a Regional Registration
 * Request (18, local care-of address = the new FA, MN-GFA) instead; its reply (19) switches
 * the path, the GFA's deregistration reply (19, lifetime 0) on the old path releases the old
 * link; a forged 19 changes nothing; without an MN-GFA SA the move is a home registration. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>

#include "mnd_fixture.h"

#define MNHA "00112233445566778899aabbccddeeff"
#define MNGFA "0f0e0d0c0b0a09080706050403020100"
#define HOME "192.0.2.10"
#define HA "192.0.2.1"
#define GFA "198.51.100.100"
#define FA1 "203.0.113.1"
#define FA2 "203.0.113.2"

static struct mip4_sm sm;
static struct sm_world W;
static struct roam_key kmnha, kmngfa;
static const uint64_t T0 = 5000000;
static const int64_t WALL = 1790000000000LL;

static void setup_sm(bool gfa)
{
	struct mip4_sm_conf c;
	sm_world_reset(&W, 16);
	cr_assert_eq(auth_key_from_hex(&kmnha, AUTH_ALG_HMAC_MD5, MNHA), 0);
	cr_assert_eq(auth_key_from_hex(&kmngfa, AUTH_ALG_HMAC_MD5, MNGFA), 0);
	/* MN-FA: in 1 only, never in 18 (docs 2.4) */
	sm_conf_base(&c, HOME, HA, &kmnha, true, &kmngfa);
	c.has_mngfa = gfa;
	c.mngfa_spi = 5000;
	c.mngfa_key = kmngfa;
	c.synchronize = true;
	struct mip4_sm_out o = sm_world_out(&W);
	cr_assert_eq(mip4_sm_init(&sm, &c, &o, WALL, T0), 0);
}

/* An advertisement of the lower FA fa in the region of GFA (I, care-of address = GFA). */
static void adv(int radio, const char *fa, uint16_t seq, uint64_t now)
{
	sm_adv(&sm, radio, fa, GFA, MIP4_MA_R | MIP4_MA_F | MIP4_MA_I, seq, now);
}

static void reply(int radio, uint8_t type, uint16_t life, uint64_t id,
		  const struct roam_key *key, uint32_t spi, uint64_t now)
{
	struct wbuf w;
	uint8_t b[256];
	fx_msg(&w, b, sizeof(b),
	       &(struct fx_hdr){ .type = type, .life = life, .home = HOME, .ha = HA, .id = id });
	cr_assert_eq(mip4_auth_append(&w, 0, type == MIP4_MSG_REGIONAL_REPLY ? MIP4_AUTH_MN_GFA :
									      MIP4_AUTH_MN_HA,
				      spi, key), 0);
	mip4_sm_input(&sm, radio, b, w.len, now);
}

static uint64_t register_first(void)
{
	mip4_sm_tick(&sm, T0);
	adv(0, FA1, 1, T0 + 10);
	cr_assert_eq(W.nsent, 1);
	cr_assert_eq(W.sent[0].m.type, MIP4_MSG_REG_REQUEST);
	cr_assert_eq(W.sent[0].dst.s_addr, A(FA1).s_addr);
	cr_assert_eq(W.sent[0].m.coa.s_addr, A(GFA).s_addr);
	reply(0, MIP4_MSG_REG_REPLY, 300, W.sent[0].m.id, &kmnha, 1000, T0 + 50);
	cr_assert_eq(sm.state, MIP4_SM_REGISTERED);
	cr_assert_eq(W.last_path_fa.s_addr, A(FA1).s_addr);
	/* Heard again: nothing sent. */
	adv(0, FA1, 2, T0 + 60);
	cr_assert_eq(W.nsent, 1);
	return T0 + 60;
}

TestSuite(mnd_mip4_region);

Test(mnd_mip4_region, move_regional_request_and_dual_reply)
{
	setup_sm(true);
	uint64_t t = register_first();
	adv(1, FA2, 1, t + 100);
	cr_assert_eq(W.nsent, 2);
	struct sm_sent *rq = &W.sent[1];
	cr_assert_eq(rq->radio, 1);
	cr_assert_eq(rq->m.type, MIP4_MSG_REGIONAL_REQUEST);
	cr_assert_eq(rq->dst.s_addr, A(FA2).s_addr);
	cr_assert_eq(rq->m.coa.s_addr, A(FA2).s_addr); /* local care-of address */
	cr_assert_eq(rq->m.ha.s_addr, A(HA).s_addr);
	cr_assert_not(rq->m.auth[MIP4_AUTH_MN_HA].present);
	cr_assert_not(rq->m.auth[MIP4_AUTH_MN_FA].present);
	cr_assert(W.sent[0].m.auth[MIP4_AUTH_MN_FA].present);
	cr_assert_eq(mip4_auth_verify(rq->data, &rq->m, MIP4_AUTH_MN_GFA, &kmngfa), 0);
	cr_assert_eq(sm.stats.regional_tx, 1);
	/* A forged 19 (MN-HA key under the MN-GFA SPI): dropped. */
	reply(1, MIP4_MSG_REGIONAL_REPLY, 300, rq->m.id, &kmnha, 5000, t + 120);
	cr_assert_eq(sm.stats.drop_auth, 1);
	cr_assert_eq(W.last_path_radio, 0);
	reply(1, MIP4_MSG_REGIONAL_REPLY, 300, rq->m.id, &kmngfa, 5000, t + 150);
	cr_assert_eq(sm.stats.regional_ok, 1);
	cr_assert_eq(sm.stats.handoffs, 1);
	cr_assert_eq(W.last_path_radio, 1);
	cr_assert_eq(W.last_path_fa.s_addr, A(FA2).s_addr);
	cr_assert(sm.old.valid);
	cr_assert_eq(W.nrel, 0);
	/* The GFA's deregistration reply via the old FA releases radio 0. */
	reply(0, MIP4_MSG_REGIONAL_REPLY, 0, mip4_id_dereg(rq->m.id), &kmngfa, 5000, t + 170);
	cr_assert_eq(sm.stats.drr_rx, 1);
	cr_assert_eq(W.nrel, 1);
	cr_assert_eq(W.last_rel, 0);
	cr_assert_not(sm.old.valid);
	/* Radio 0 detached and attached again to FA1's cell: regional again. */
	mip4_sm_link(&sm, 0, false, t + 200);
	mip4_sm_link(&sm, 0, true, t + 250);
	adv(0, FA1, 3, t + 300);
	cr_assert_eq(W.nsent, 3);
	cr_assert_eq(W.sent[2].m.type, MIP4_MSG_REGIONAL_REQUEST);
	cr_assert_eq(W.sent[2].m.coa.s_addr, A(FA1).s_addr);
}

Test(mnd_mip4_region, without_mngfa_home_registration)
{
	setup_sm(false);
	uint64_t t = register_first();
	adv(1, FA2, 1, t + 100);
	cr_assert_eq(W.nsent, 2);
	cr_assert_eq(W.sent[1].m.type, MIP4_MSG_REG_REQUEST);
	cr_assert_eq(W.sent[1].m.coa.s_addr, A(GFA).s_addr);
	/* A 19 is not for a mobile without MN-GFA. */
	reply(1, MIP4_MSG_REGIONAL_REPLY, 300, W.sent[1].m.id, &kmngfa, 5000, t + 150);
	cr_assert_eq(sm.stats.drop_unexpected, 1);
	cr_assert_eq(sm.stats.regional_ok, 0);
}
