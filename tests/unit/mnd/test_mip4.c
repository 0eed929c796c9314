/* mnd's Mobile IPv4 state machine (mnd/mip4_sm.c) on a fake clock with fake sockets: discovery,
 * registration, refresh, retransmission with backoff, 133 resync, dual-radio synchronized handoff
 * (reply then DRR releases the old link), late DRR with the L2 notice -> FBU, single-radio FBU,
 * forged / mismatched replies dropped with the state unchanged, deregistration at stop. */
#include <arpa/inet.h>
#include <errno.h>
#include <criterion/criterion.h>
#include <string.h>

#include "mnd_fixture.h"

#define MNHA "00112233445566778899aabbccddeeff"
#define MNFA "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf"

static struct mip4_sm sm;
static struct sm_world W;
static struct roam_key kmnha, kmnfa;
static const uint64_t T0 = 5000000;
static const int64_t WALL = 1790000000000LL; /* wall_off */

static void setup_sm(bool sync, bool mnfa)
{
	struct mip4_sm_conf c;
	sm_world_reset(&W, 32);
	cr_assert_eq(auth_key_from_hex(&kmnha, AUTH_ALG_HMAC_MD5, MNHA), 0);
	cr_assert_eq(auth_key_from_hex(&kmnfa, AUTH_ALG_HMAC_MD5, MNFA), 0);
	sm_conf_base(&c, "192.0.2.10", "192.0.2.1", &kmnha, mnfa, &kmnfa);
	c.refresh_pct = 80;
	c.fbu_lifetime_s = 5;
	c.synchronize = sync;
	c.nneigh = 1;
	strcpy(c.neigh[0].network, "cell2");
	c.neigh[0].fa = A("198.51.100.2");
	struct mip4_sm_out o = sm_world_out(&W);
	cr_assert_eq(mip4_sm_init(&sm, &c, &o, WALL, T0), 0);
}

static void adv(int radio, const char *fa, uint16_t seq, uint64_t now)
{
	sm_adv(&sm, radio, fa, fa, MIP4_MA_R | MIP4_MA_F, seq, now);
}

/* A reply as had would send it: type/code/lifetime/id, MN-HA under key (NULL: none). */
static size_t mkreply(uint8_t *buf, uint8_t type, uint8_t code, uint16_t life, uint64_t id,
		      const struct roam_key *key, uint32_t spi)
{
	struct wbuf w;
	fx_msg(&w, buf, 256,
	       &(struct fx_hdr){ .type = type, .code = code, .life = life, .home = "192.0.2.10",
				 .ha = type == MIP4_MSG_FBACK ? "198.51.100.1" : "192.0.2.1",
				 .id = id });
	if (key)
		cr_assert_eq(mip4_auth_append(&w, 0, type == MIP4_MSG_FBACK ? MIP4_AUTH_MN_PAR
									  : MIP4_AUTH_MN_HA,
					      spi, key), 0);
	return w.len;
}

static void reply(int radio, uint8_t code, uint16_t life, uint64_t id, uint64_t now)
{
	uint8_t b[256];
	size_t n = mkreply(b, MIP4_MSG_REG_REPLY, code, life, id, &kmnha, 1000);
	mip4_sm_input(&sm, radio, b, n, now);
}

/* Discovery and first registration via 198.51.100.1 on radio 0. */
static uint64_t register_first(void)
{
	mip4_sm_tick(&sm, T0);
	cr_assert_eq(W.nsol[0], 1);
	adv(0, "198.51.100.1", 1, T0 + 10);
	cr_assert_eq(sm.state, MIP4_SM_REGISTERING);
	cr_assert_eq(W.nsent, 1);
	struct sm_sent *s = &W.sent[0];
	cr_assert_eq(s->m.type, MIP4_MSG_REG_REQUEST);
	cr_assert_eq(s->dst.s_addr, A("198.51.100.1").s_addr);
	cr_assert_eq(s->m.coa.s_addr, A("198.51.100.1").s_addr);
	cr_assert_eq(s->m.lifetime, 300);
	cr_assert(s->m.auth[MIP4_AUTH_MN_HA].present);
	cr_assert_eq(mip4_auth_verify(s->data, &s->m, MIP4_AUTH_MN_HA, &kmnha), 0);
	reply(0, 0, 300, s->m.id, T0 + 50);
	cr_assert_eq(sm.state, MIP4_SM_REGISTERED);
	cr_assert_eq(W.last_path_radio, 0);
	cr_assert_eq(W.last_path_fa.s_addr, A("198.51.100.1").s_addr);
	return T0 + 50;
}

Test(mnd_mip4, discovery_registration_refresh)
{
	setup_sm(true, true);
	uint64_t t = register_first();
	cr_assert(W.sent[0].m.auth[MIP4_AUTH_MN_FA].present);
	/* identification is a timestamp near our wall clock */
	uint64_t secs = W.sent[0].m.id >> 32;
	cr_assert_lt(secs - ((uint64_t)(T0 + WALL) / 1000 + 2208988800ULL) + 1, 3);
	/* no refresh before 80 % of 300 s */
	uint64_t next = mip4_sm_tick(&sm, t + 1000);
	cr_assert_eq(sm.refresh_at, t + 240000);
	cr_assert_leq(next, t + 240000);
	cr_assert_eq(W.nsent, 1);
	mip4_sm_tick(&sm, t + 240000);
	cr_assert_eq(W.nsent, 2);
	cr_assert_eq(W.sent[1].m.coa.s_addr, A("198.51.100.1").s_addr);
	cr_assert_gt(W.sent[1].m.id, W.sent[0].m.id);
	reply(0, 0, 300, W.sent[1].m.id, t + 240100);
	cr_assert_eq(sm.stats.reply_ok, 2);
	cr_assert_eq(sm.binding_expires, t + 240100 + 300000);
	cr_assert_eq(sm.stats.handoffs, 0);
	cr_assert_eq(W.npath, 1); /* a refresh does not change the path */
}

Test(mnd_mip4, retransmission_backoff_and_give_up)
{
	setup_sm(true, false);
	mip4_sm_tick(&sm, T0);
	adv(0, "198.51.100.1", 1, T0);
	cr_assert_eq(W.nsent, 1);
	cr_assert_eq(mip4_sm_tick(&sm, T0 + 999), T0 + 1000);
	cr_assert_eq(W.nsent, 1);
	mip4_sm_tick(&sm, T0 + 1000); /* 2nd, next in 2 s */
	cr_assert_eq(W.nsent, 2);
	cr_assert_eq(sm.next_tx, T0 + 3000);
	cr_assert_neq(W.sent[1].m.id, W.sent[0].m.id);
	mip4_sm_tick(&sm, T0 + 3000); /* 3rd, next in 4 s */
	cr_assert_eq(sm.next_tx, T0 + 7000);
	mip4_sm_tick(&sm, T0 + 7000); /* 4th, next in 8 s (cap) */
	cr_assert_eq(W.nsent, 4);
	cr_assert_eq(sm.next_tx, T0 + 15000);
	int sol = W.nsol[0];
	mip4_sm_tick(&sm, T0 + 15000); /* max_tries reached: give up, solicit again */
	cr_assert_eq(W.nsent, 4);
	cr_assert_eq(sm.stats.req_timeouts, 1);
	cr_assert_eq(sm.state, MIP4_SM_DISCOVER);
	cr_assert_gt(W.nsol[0], sol);
	/* a reply to a given-up request is dropped */
	reply(0, 0, 300, W.sent[3].m.id, T0 + 15100);
	cr_assert_eq(sm.state, MIP4_SM_DISCOVER);
	cr_assert_eq(sm.stats.drop_id, 1);
}

Test(mnd_mip4, resync_133)
{
	setup_sm(true, false);
	mip4_sm_tick(&sm, T0);
	adv(0, "198.51.100.1", 1, T0);
	uint64_t id = W.sent[0].m.id;
	/* had's clock is 100 s ahead */
	uint64_t hid = ((((id >> 32) + 100) << 32) | (id & 0xffffffffu));
	reply(0, MIP4_CODE_HA_ID_MISMATCH, 0, hid, T0 + 20);
	cr_assert_eq(sm.stats.resync_133, 1);
	cr_assert_eq(W.nsent, 2);
	int64_t d = (int64_t)(W.sent[1].m.id >> 32) - (int64_t)(id >> 32);
	cr_assert(d >= 100 && d <= 101, "resynced id off by %lld s", (long long)d);
	cr_assert_eq(sm.state, MIP4_SM_REGISTERING);
	reply(0, 0, 300, W.sent[1].m.id, T0 + 40);
	cr_assert_eq(sm.state, MIP4_SM_REGISTERED);
}

Test(mnd_mip4, forged_and_mismatched_dropped)
{
	setup_sm(true, false);
	mip4_sm_tick(&sm, T0);
	adv(0, "198.51.100.1", 1, T0);
	uint64_t id = W.sent[0].m.id;
	struct roam_key bad;
	cr_assert_eq(auth_key_from_hex(&bad, AUTH_ALG_HMAC_MD5, MNFA), 0);
	uint8_t b[256];
	size_t n = mkreply(b, MIP4_MSG_REG_REPLY, 0, 300, id, &bad, 1000);
	mip4_sm_input(&sm, 0, b, n, T0 + 1);
	cr_assert_eq(sm.stats.drop_auth, 1);
	n = mkreply(b, MIP4_MSG_REG_REPLY, 0, 300, id, &kmnha, 999); /* unknown SPI */
	mip4_sm_input(&sm, 0, b, n, T0 + 1);
	cr_assert_eq(sm.stats.drop_auth, 2);
	n = mkreply(b, MIP4_MSG_REG_REPLY, 0, 300, id, NULL, 0); /* no authenticator */
	mip4_sm_input(&sm, 0, b, n, T0 + 1);
	cr_assert_eq(sm.stats.drop_auth, 3);
	reply(0, 0, 300, id + 7, T0 + 1); /* identification mismatch */
	cr_assert_eq(sm.stats.drop_id, 1);
	b[0] = MIP4_MSG_REG_REPLY;
	mip4_sm_input(&sm, 0, b, 7, T0 + 1); /* truncated */
	cr_assert_eq(sm.stats.drop_malformed, 1);
	/* a tampered byte after signing */
	n = mkreply(b, MIP4_MSG_REG_REPLY, 0, 300, id, &kmnha, 1000);
	b[3] ^= 1;
	mip4_sm_input(&sm, 0, b, n, T0 + 1);
	cr_assert_eq(sm.stats.drop_auth, 4);
	cr_assert_eq(sm.state, MIP4_SM_REGISTERING);
	cr_assert(sm.pending);
	cr_assert_eq(sm.stats.reply_ok, 0);
	cr_assert_eq(W.npath, 0);
	/* FA denial without MN-HA for our request: accepted as a denial */
	n = mkreply(b, MIP4_MSG_REG_REPLY, MIP4_CODE_FA_LIFETIME, 0, id, NULL, 0);
	mip4_sm_input(&sm, 0, b, n, T0 + 2);
	cr_assert_eq(sm.stats.reply_denied, 1);
	cr_assert_not(sm.pending);
	cr_assert_eq(sm.state, MIP4_SM_DISCOVER);
}

Test(mnd_mip4, dual_radio_handoff_dereg_reply_releases_old)
{
	setup_sm(true, true);
	uint64_t t = register_first();
	uint64_t old_id = W.sent[0].m.id;
	adv(1, "198.51.100.2", 1, t + 100); /* the new cell on the second radio */
	cr_assert_eq(W.nsent, 2);
	struct sm_sent *rq = &W.sent[1];
	cr_assert_eq(rq->radio, 1);
	cr_assert_eq(rq->dst.s_addr, A("198.51.100.2").s_addr);
	cr_assert_eq(rq->m.coa.s_addr, A("198.51.100.2").s_addr);
	cr_assert_eq(W.last_path_radio, 0); /* still sending via the old FA */
	/* the DRR of the *first* registration is not a thing: dropped */
	reply(0, 0, 0, mip4_id_dereg(old_id), t + 110);
	cr_assert_eq(sm.stats.drr_rx, 0);
	reply(1, 0, 300, rq->m.id, t + 150); /* RRP via nFA: switch sending */
	cr_assert_eq(W.last_path_radio, 1);
	cr_assert_eq(W.last_path_fa.s_addr, A("198.51.100.2").s_addr);
	cr_assert_eq(sm.stats.handoffs, 1);
	cr_assert(sm.old.valid);
	cr_assert_eq(W.nrel, 0); /* old radio kept until the DRR */
	/* a forged DRR does not release it */
	struct roam_key bad;
	cr_assert_eq(auth_key_from_hex(&bad, AUTH_ALG_HMAC_MD5, MNFA), 0);
	uint8_t b[256];
	size_t n = mkreply(b, MIP4_MSG_REG_REPLY, 0, 0, mip4_id_dereg(rq->m.id), &bad, 1000);
	mip4_sm_input(&sm, 0, b, n, t + 160);
	cr_assert_eq(W.nrel, 0);
	reply(0, 0, 0, mip4_id_dereg(rq->m.id), t + 170); /* the DRR via oFA */
	cr_assert_eq(sm.stats.drr_rx, 1);
	cr_assert_eq(W.nrel, 1);
	cr_assert_eq(W.last_rel, 0);
	cr_assert_not(sm.old.valid);
	cr_assert_eq(sm.cur.radio, 1);
	cr_assert_eq(sm.stats.fbu_tx, 0);
}

Test(mnd_mip4, late_dereg_reply_l2_notice_sends_fbu)
{
	setup_sm(true, true);
	uint64_t t = register_first();
	adv(1, "198.51.100.2", 1, t + 100);
	uint64_t id = W.sent[1].m.id;
	reply(1, 0, 300, id, t + 150);
	cr_assert(sm.old.valid);
	/* Phase II: old radio going down, DRR not yet there */
	cr_assert_eq(mip4_sm_l2_notice(&sm, 0, "link-going-down", "cell2", t + 200), 0);
	cr_assert_eq(W.nsent, 3);
	struct sm_sent *f = &W.sent[2];
	cr_assert_eq(f->m.type, MIP4_MSG_FBU);
	cr_assert_eq(f->radio, 0);
	cr_assert_eq(f->dst.s_addr, A("198.51.100.1").s_addr);
	cr_assert_eq(f->m.ha.s_addr, A("198.51.100.1").s_addr);
	cr_assert_eq(f->m.coa.s_addr, A("198.51.100.2").s_addr);
	cr_assert_eq(f->m.lifetime, 5);
	cr_assert_eq(mip4_auth_verify(f->data, &f->m, MIP4_AUTH_MN_PAR, &kmnfa), 0);
	cr_assert_eq(sm.stats.fbu_tx, 1);
	/* FBAck via nFA */
	uint8_t b[256];
	size_t n = mkreply(b, MIP4_MSG_FBACK, 0, 5, f->m.id, &kmnfa, 4000);
	mip4_sm_input(&sm, 1, b, n, t + 250);
	cr_assert_eq(sm.stats.fback_rx, 1);
	/* the DRR forwarded by oFA arrives late via nFA: still releases the old radio */
	reply(1, 0, 0, mip4_id_dereg(id), t + 400);
	cr_assert_eq(sm.stats.drr_rx, 1);
	cr_assert_eq(W.last_rel, 0);
}

Test(mnd_mip4, late_dereg_reply_times_out)
{
	setup_sm(true, true);
	uint64_t t = register_first();
	adv(1, "198.51.100.2", 1, t + 100);
	reply(1, 0, 300, W.sent[1].m.id, t + 150);
	cr_assert(sm.old.valid);
	mip4_sm_tick(&sm, t + 5000);
	cr_assert_eq(W.nrel, 0);
	mip4_sm_tick(&sm, t + 150 + 10000);
	cr_assert_eq(W.nrel, 1);
	cr_assert_eq(sm.stats.drr_rx, 0);
}

Test(mnd_mip4, single_radio_l2_notice_fbu_then_register)
{
	setup_sm(true, true);
	uint64_t t = register_first();
	cr_assert_eq(mip4_sm_l2_notice(&sm, 0, "link-going-down", "cell2", t + 100), 0);
	cr_assert_eq(W.nsent, 2);
	struct sm_sent *f = &W.sent[1];
	cr_assert_eq(f->m.type, MIP4_MSG_FBU);
	cr_assert_eq(f->dst.s_addr, A("198.51.100.1").s_addr);
	cr_assert_eq(f->m.coa.s_addr, A("198.51.100.2").s_addr); /* from the neighbour list */
	/* moved: the new FA heard on the same radio */
	adv(0, "198.51.100.2", 1, t + 300);
	cr_assert_eq(W.nsent, 3);
	cr_assert_eq(W.sent[2].m.type, MIP4_MSG_REG_REQUEST);
	cr_assert_eq(W.sent[2].m.coa.s_addr, A("198.51.100.2").s_addr);
	reply(0, 0, 300, W.sent[2].m.id, t + 350);
	cr_assert_eq(sm.stats.handoffs, 1);
	cr_assert_eq(W.last_path_fa.s_addr, A("198.51.100.2").s_addr);
	reply(0, 0, 0, mip4_id_dereg(W.sent[2].m.id), t + 400);
	cr_assert_eq(sm.stats.drr_rx, 1);
	cr_assert_eq(W.nrel, 0); /* one radio: nothing to release */
}

Test(mnd_mip4, single_radio_unknown_network_fbu_via_new_fa)
{
	setup_sm(true, true);
	uint64_t t = register_first();
	cr_assert_eq(mip4_sm_l2_notice(&sm, 0, "link-going-down", "elsewhere", t + 100), 0);
	cr_assert_eq(W.nsent, 1);
	adv(0, "198.51.100.3", 1, t + 300);
	cr_assert_eq(W.nsent, 3);
	cr_assert_eq(W.sent[1].m.type, MIP4_MSG_FBU);
	cr_assert_eq(W.sent[1].dst.s_addr, A("198.51.100.1").s_addr);
	cr_assert_eq(W.sent[1].m.coa.s_addr, A("198.51.100.3").s_addr);
	cr_assert_eq(W.sent[2].m.type, MIP4_MSG_REG_REQUEST);
}

Test(mnd_mip4, plain_mode_no_fbu_old_released_at_once)
{
	setup_sm(false, true);
	uint64_t t = register_first();
	adv(1, "198.51.100.2", 1, t + 100);
	reply(1, 0, 300, W.sent[1].m.id, t + 150);
	cr_assert_eq(W.nrel, 1);
	cr_assert_eq(mip4_sm_l2_notice(&sm, 1, "link-going-down", "cell1", t + 200), 0);
	cr_assert_eq(sm.stats.fbu_tx, 0);
}

Test(mnd_mip4, agent_expiry_and_stop_deregisters)
{
	setup_sm(true, false);
	uint64_t t = register_first();
	int sol = W.nsol[0];
	mip4_sm_tick(&sm, t + 3000); /* advertisement lifetime 3 s */
	cr_assert_eq(sm.stats.agent_lost, 1);
	cr_assert_gt(W.nsol[0], sol);
	mip4_sm_stop(&sm, t + 4000);
	cr_assert_eq(W.sent[W.nsent - 1].m.lifetime, 0);
	cr_assert_eq(W.sent[W.nsent - 1].dst.s_addr, A("198.51.100.1").s_addr);
	cr_assert_eq(mip4_sm_l2_notice(&sm, 0, "bogus", NULL, t), -EINVAL);
}

Test(mnd_mip4, reply_to_previous_transmission_and_early_drr)
{
	setup_sm(true, true);
	uint64_t t = register_first();
	adv(1, "198.51.100.2", 1, t + 100);
	mip4_sm_tick(&sm, t + 1100); /* retransmitted with a fresh id */
	cr_assert_eq(W.nsent, 3);
	uint64_t id1 = W.sent[1].m.id;
	cr_assert_neq(id1, W.sent[2].m.id);
	/* the DRR for the first transmission overtakes its reply */
	reply(0, 0, 0, mip4_id_dereg(id1), t + 1150);
	cr_assert_eq(sm.stats.drr_rx, 1);
	cr_assert_eq(W.nrel, 0);
	reply(1, 0, 300, id1, t + 1200); /* reply to the first transmission */
	cr_assert_eq(sm.stats.handoffs, 1);
	cr_assert_eq(W.nrel, 1); /* released at once: the old path had already drained */
	cr_assert_not(sm.old.valid);
}

Test(mnd_mip4, forged_fback_and_no_mnfa_no_fbu)
{
	setup_sm(true, true);
	uint64_t t = register_first();
	cr_assert_eq(mip4_sm_l2_notice(&sm, 0, "link-going-down", "cell2", t + 100), 0);
	struct sm_sent *f = &W.sent[W.nsent - 1];
	cr_assert_eq(f->m.type, MIP4_MSG_FBU);
	uint8_t b[256];
	size_t n = mkreply(b, MIP4_MSG_FBACK, 0, 5, f->m.id, &kmnha, 4000); /* wrong key */
	mip4_sm_input(&sm, 0, b, n, t + 150);
	n = mkreply(b, MIP4_MSG_FBACK, 0, 5, f->m.id + 1, &kmnfa, 4000); /* wrong id */
	mip4_sm_input(&sm, 0, b, n, t + 150);
	cr_assert_eq(sm.stats.fback_rx, 0);
	cr_assert_eq(sm.stats.drop_auth, 1);
	cr_assert_eq(sm.stats.drop_id, 1);
	cr_assert(sm.fbu_pending);
	n = mkreply(b, MIP4_MSG_FBACK, MIP4_CODE_FA_PROHIBITED, 0, f->m.id, &kmnfa, 4000);
	mip4_sm_input(&sm, 0, b, n, t + 160);
	cr_assert_eq(sm.stats.fback_denied, 1);
	cr_assert_not(sm.fbu_pending);

	setup_sm(true, false); /* no MN-FA SA: no FBU */
	register_first();
	cr_assert_eq(mip4_sm_l2_notice(&sm, 0, "link-going-down", "cell2", t + 100), 0);
	cr_assert_eq(sm.stats.fbu_tx, 0);
	cr_assert_eq(W.nsent, 1);
}

/* One radio, both cells known: registered via A, the notice of the move to B, then B heard (the
 * request via B sent).  Returns the time of the first registration. */
static uint64_t single_radio_a_to_b(void)
{
	setup_sm(true, true);
	sm.conf.nneigh = 2;
	strcpy(sm.conf.neigh[1].network, "cell1");
	sm.conf.neigh[1].fa = A("198.51.100.1");
	uint64_t t = register_first();
	cr_assert_eq(mip4_sm_l2_notice(&sm, 0, "link-going-down", "cell2", t + 100), 0);
	adv(0, "198.51.100.2", 1, t + 300);
	return t;
}

Test(mnd_mip4, single_radio_next_move_before_the_drr_fbu_goes_to_the_current_fa)
{
	/* One radio, A -> B, and the notice of the move back B -> A comes before the DRR of the
	 * first move: the FBU must go to B (the FA we are leaving), not to A (the old path). */
	uint64_t t = single_radio_a_to_b();
	reply(0, 0, 300, W.sent[W.nsent - 1].m.id, t + 350);
	cr_assert_eq(sm.stats.handoffs, 1);
	cr_assert(sm.old.valid, "the first move's DRR has not come");
	int n0 = W.nsent;
	cr_assert_eq(mip4_sm_l2_notice(&sm, 0, "link-going-down", "cell1", t + 500), 0);
	cr_assert_eq(W.nsent, n0 + 1);
	cr_assert_eq(W.sent[n0].m.type, MIP4_MSG_FBU);
	cr_assert_eq(W.sent[n0].dst.s_addr, A("198.51.100.2").s_addr, "to the FA we leave");
	cr_assert_eq(W.sent[n0].m.ha.s_addr, A("198.51.100.2").s_addr);
	cr_assert_eq(W.sent[n0].m.coa.s_addr, A("198.51.100.1").s_addr, "naming the next FA");
	cr_assert_not(sm.old.valid, "the older path is given up");
}

/* The old radio is released on the DRR, but no sooner than release_guard after the sending
 * switch: a DRR right behind the RRP (nothing queued on the old path) or before it waits. */
Test(mnd_mip4, release_waits_for_upstream_guard)
{
	setup_sm(true, true);
	sm.conf.release_guard_ms = 100;
	uint64_t t = register_first();
	adv(1, "198.51.100.2", 1, t + 100);
	uint64_t id = W.sent[1].m.id;
	reply(1, 0, 300, id, t + 150); /* switch at t + 150 */
	cr_assert_eq(W.last_path_radio, 1);
	reply(0, 0, 0, mip4_id_dereg(id), t + 151); /* the DRR at once */
	cr_assert_eq(sm.stats.drr_rx, 1);
	cr_assert_not(sm.old.valid);
	cr_assert_eq(W.nrel, 0); /* the guard runs */
	cr_assert_eq(mip4_sm_tick(&sm, t + 200), t + 250); /* the next deadline is the release */
	cr_assert_eq(W.nrel, 0);
	mip4_sm_tick(&sm, t + 250);
	cr_assert_eq(W.nrel, 1);
	cr_assert_eq(W.last_rel, 0);
	mip4_sm_tick(&sm, t + 400);
	cr_assert_eq(W.nrel, 1); /* once */
}

Test(mnd_mip4, late_enough_drr_releases_at_once)
{
	setup_sm(true, true);
	sm.conf.release_guard_ms = 100;
	uint64_t t = register_first();
	adv(1, "198.51.100.2", 1, t + 100);
	uint64_t id = W.sent[1].m.id;
	reply(1, 0, 300, id, t + 150);
	reply(0, 0, 0, mip4_id_dereg(id), t + 250); /* the guard has passed */
	cr_assert_eq(W.nrel, 1);
	cr_assert_eq(W.last_rel, 0);
	cr_assert_not(sm.rel_pending);
}

/* An early DRR (before the RRP): released release_guard after the switch, not with it. */
Test(mnd_mip4, early_drr_release_after_guard)
{
	setup_sm(true, true);
	sm.conf.release_guard_ms = 100;
	uint64_t t = register_first();
	adv(1, "198.51.100.2", 1, t + 100);
	uint64_t id = W.sent[1].m.id;
	reply(0, 0, 0, mip4_id_dereg(id), t + 140);
	reply(1, 0, 300, id, t + 150);
	cr_assert_eq(sm.stats.handoffs, 1);
	cr_assert_eq(W.nrel, 0);
	mip4_sm_tick(&sm, t + 249);
	cr_assert_eq(W.nrel, 0);
	mip4_sm_tick(&sm, t + 250);
	cr_assert_eq(W.nrel, 1);
}

/* One radio, A -> B, and the notice of the move back to A comes before B's reply: no FBU (it
 * would name A to A), the request via B is given up, and A, heard again, is asked anew (it is
 * forwarding to B and must take the mobile back). */
Test(mnd_mip4, single_radio_back_before_the_reply_reregisters_with_the_current_fa)
{
	uint64_t t = single_radio_a_to_b();
	cr_assert(sm.pending, "the request via B");
	int n0 = W.nsent;
	uint64_t fbus = sm.stats.fbu_tx;
	cr_assert_eq(mip4_sm_l2_notice(&sm, 0, "link-going-down", "cell1", t + 500), 0);
	cr_assert_eq(sm.stats.fbu_tx, fbus, "no FBU naming A to A");
	cr_assert_eq(W.nsent, n0);
	cr_assert_not(sm.pending);
	cr_assert_eq(sm.stats.l2_pingpong, 1);
	/* B still heard before the switch: nothing */
	adv(0, "198.51.100.2", 2, t + 550);
	cr_assert_eq(W.nsent, n0);
	/* back on A's cell: a registration with A */
	adv(0, "198.51.100.1", 2, t + 700);
	cr_assert_eq(W.nsent, n0 + 1);
	cr_assert_eq(W.sent[n0].m.type, MIP4_MSG_REG_REQUEST);
	cr_assert_eq(W.sent[n0].dst.s_addr, A("198.51.100.1").s_addr);
	cr_assert_eq(W.sent[n0].m.coa.s_addr, A("198.51.100.1").s_addr);
	/* heard again afterwards: no second request */
	adv(0, "198.51.100.1", 3, t + 800);
	cr_assert_eq(W.nsent, n0 + 1);
}
