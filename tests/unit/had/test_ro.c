/* had's route optimization (ha/ro.c; docs/protocols/mipv4.md 4, 8.4) on a fake clock: Binding
 * Updates to the correspondents on registration, refresh, move and deregistration; the
 * synchronized move's deregistration reply carried in the first correspondent's update (RO relay
 * extension) instead of being sent to the old care-of address; Binding Requests (authenticated,
 * replay-protected) and Binding Warnings answered with an update; push: false correspondents only
 * after they asked; Binding Acknowledges counted; forged / replayed / strangers' messages refused
 * and counted. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "had_fixture.h"

#define KEY1 "00112233445566778899aabbccddeeff"
#define CNKEY "c0c1c2c3c4c5c6c7c8c9cacbcccdcecf"
#define CN2KEY "d0d1d2d3d4d5d6d7d8d9dadbdcdddedf"

static const char *conf_text =
	"address: 192.0.2.1\n"
	"snapshot: \"\"\n"
	"max_lifetime: 100s\n"
	"mobiles:\n"
	"  - spi: 1000\n"
	"    key: " KEY1 "\n"
	"    home: [192.0.2.10]\n"
	"route_optimization:\n"
	"  acknowledge: true\n"
	"  relay_dereg: true\n"
	"  correspondents:\n"
	"    - name: cn1\n"
	"      address: 192.0.2.50\n"
	"      spi: 5001\n"
	"      key: " CNKEY "\n"
	"    - name: cn2\n"
	"      address: 192.0.2.51\n"
	"      spi: 5002\n"
	"      key: " CN2KEY "\n"
	"      push: false\n";

struct sent {
	struct roam_sockaddr dst;
	uint8_t data[HAD_MAX_MSG];
	size_t len;
};

static struct had h;
static struct sent sent[16];
static int nsent;
static uint64_t now0 = 5000000;
static uint64_t ntp0 = 0xE8000000ULL << 32;
static struct roam_key k1, kcn, kcn2;

static int capture(void *arg, const struct roam_sockaddr *dst, const void *data, size_t len)
{
	(void)arg;
	cr_assert_lt(nsent, 16);
	sent[nsent].dst = *dst;
	memcpy(sent[nsent].data, data, len);
	sent[nsent].len = len;
	nsent++;
	return 0;
}

static void setup(void)
{
	hx_had_init(&h, conf_text, now0, capture, true);
	nsent = 0;
	auth_key_from_hex(&k1, AUTH_ALG_HMAC_MD5, KEY1);
	auth_key_from_hex(&kcn, AUTH_ALG_HMAC_MD5, CNKEY);
	auth_key_from_hex(&kcn2, AUTH_ALG_HMAC_MD5, CN2KEY);
}

static void teardown(void)
{
	hx_had_fini(&h);
}

TestSuite(ro, .init = setup, .fini = teardown);

static int dst_is(int i, const char *s)
{
	struct roam_sockaddr x = sa(s);
	return roam_sockaddr_eq(&sent[i].dst, &x);
}

static uint64_t ntp_at(uint64_t now)
{
	return ntp0 + ((now - now0) / 1000 << 32);
}

/* A registration of 192.0.2.10 at coa from coa:434; returns datagrams sent. */
static int reg(const char *coa, uint16_t lifetime, uint64_t id, uint64_t now)
{
	uint8_t buf[256];
	struct mip4_msg m;
	struct wbuf w;
	memset(&m, 0, sizeof(m));
	m.type = MIP4_MSG_REG_REQUEST;
	m.lifetime = lifetime;
	m.home = a4("192.0.2.10");
	m.ha = a4("192.0.2.1");
	m.coa = a4(lifetime ? coa : "192.0.2.10");
	m.id = id;
	wbuf_init_fixed(&w, buf, sizeof(buf));
	cr_assert_eq(mip4_msg_encode(&w, &m), 0);
	cr_assert_eq(mip4_auth_append(&w, 0, MIP4_AUTH_MN_HA, 1000, &k1), 0);
	char src[64];
	snprintf(src, sizeof(src), "%s:434", coa);
	struct roam_sockaddr s = sa(src);
	int before = nsent;
	had_reg_input(&h, buf, w.len, &s, now, ntp_at(now));
	return nsent - before;
}

/* Decodes sent[i] as a Binding Update to cn (verified under key). */
static struct mip4_msg bu_at(int i, const char *cn, const struct roam_key *key)
{
	struct mip4_msg m;
	char d[64];
	snprintf(d, sizeof(d), "%s:434", cn);
	cr_assert(dst_is(i, d), "datagram %d to %s", i, cn);
	cr_assert_eq(mip4_msg_decode(sent[i].data, sent[i].len, &m), 0);
	cr_assert_eq(m.type, MIP4_MSG_RO_UPDATE);
	cr_assert_eq(m.flags, MIP4_BU_A | MIP4_BU_I);
	cr_assert_eq(mip4_auth_verify(sent[i].data, &m, MIP4_AUTH_RO, key), 0);
	cr_assert_eq(m.auth[MIP4_AUTH_RO].covered + 16, sent[i].len, "RO last");
	cr_assert_eq(m.home.s_addr, a4("192.0.2.10").s_addr);
	return m;
}

/* Sends msg (type 241 / 243: RO authenticator under key when key) from src. */
static void ro_msg(uint8_t type, uint8_t flags, uint64_t id, const char *src,
		   const struct roam_key *key, uint32_t spi, uint64_t now)
{
	uint8_t buf[256];
	struct mip4_msg m;
	struct wbuf w;
	memset(&m, 0, sizeof(m));
	m.type = type;
	m.flags = flags;
	m.home = a4("192.0.2.10");
	m.target = a4("192.0.2.51");
	m.id = id;
	wbuf_init_fixed(&w, buf, sizeof(buf));
	cr_assert_eq(mip4_msg_encode(&w, &m), 0);
	if (key)
		cr_assert_eq(mip4_auth_append(&w, 0, MIP4_AUTH_RO, spi, key), 0);
	struct roam_sockaddr s = sa(src);
	had_reg_input(&h, buf, w.len, &s, now, ntp_at(now));
}

Test(ro, registration_sends_update_to_pushed_correspondent_only)
{
	cr_assert_eq(reg("198.51.100.7", 60, ntp0, now0), 2); /* reply + BU to cn1 */
	cr_assert(dst_is(0, "198.51.100.7:434"));
	struct mip4_msg u = bu_at(1, "192.0.2.50", &kcn);
	cr_assert_eq(u.lifetime, 60);
	cr_assert_eq(u.coa.s_addr, a4("198.51.100.7").s_addr);
	cr_assert_eq(mip4_id_check(u.id, ntp0, 7), 0, "a timestamp");
	cr_assert_eq(u.exts & MIP4_HAS_RO_RELAY, 0);
	cr_assert_eq(h.ro.st.bu_sent, 1);
	/* refresh: another update, a strictly larger Identification */
	cr_assert_eq(reg("198.51.100.7", 60, ntp0 + (1ULL << 32), now0 + 1000), 2);
	struct mip4_msg u2 = bu_at(3, "192.0.2.50", &kcn);
	cr_assert_gt(u2.id, u.id);
}

Test(ro, synchronized_move_relays_dereg_reply_through_the_correspondent)
{
	reg("198.51.100.7", 60, ntp0, now0);
	nsent = 0;
	uint64_t id = ntp0 + (1ULL << 32);
	cr_assert_eq(reg("203.0.113.9", 60, id, now0 + 1000), 2, "reply + BU, no DRR of its own");
	cr_assert(dst_is(0, "203.0.113.9:434"));
	struct mip4_msg u = bu_at(1, "192.0.2.50", &kcn);
	cr_assert_eq(u.coa.s_addr, a4("203.0.113.9").s_addr);
	cr_assert(u.exts & MIP4_HAS_RO_RELAY);
	cr_assert_eq(u.exts_late & MIP4_HAS_RO_RELAY, 0, "covered by the RO authenticator");
	cr_assert_eq(u.relay_dst.s_addr, a4("198.51.100.7").s_addr, "to the old care-of address");
	struct mip4_msg d;
	cr_assert_eq(mip4_msg_decode(u.relay, u.relay_len, &d), 0);
	cr_assert_eq(d.type, MIP4_MSG_REG_REPLY);
	cr_assert_eq(d.lifetime, 0);
	cr_assert_eq(d.id, mip4_id_dereg(id));
	cr_assert_eq(mip4_auth_verify(u.relay, &d, MIP4_AUTH_MN_HA, &k1), 0);
	cr_assert_eq(h.ro.st.drr_relayed, 1);
	cr_assert_eq(h.stats.drr_queued, 0);
	cr_assert_eq(h.stats.drr_sent, 0);
	struct roam_ipaddr home;
	roam_ipaddr_parse("192.0.2.10", &home);
	cr_assert_eq(binding_lookup(&h.bc, &home)->old.coa.family, 0, "old path released");
}

Test(ro, without_relay_dereg_had_sends_its_own_drr)
{
	h.conf.ro.relay_dereg = false;
	reg("198.51.100.7", 60, ntp0, now0);
	nsent = 0;
	cr_assert_eq(reg("203.0.113.9", 60, ntp0 + (1ULL << 32), now0 + 1000), 3);
	struct mip4_msg u = bu_at(1, "192.0.2.50", &kcn);
	cr_assert_eq(u.exts & MIP4_HAS_RO_RELAY, 0);
	cr_assert(dst_is(2, "198.51.100.7:434"), "the DRR to the old care-of address");
	cr_assert_eq(h.stats.drr_sent, 1);
}

Test(ro, deregistration_updates_with_lifetime_zero)
{
	reg("198.51.100.7", 60, ntp0, now0);
	nsent = 0;
	cr_assert_eq(reg("198.51.100.7", 0, ntp0 + (1ULL << 32), now0 + 1000), 2);
	struct mip4_msg u = bu_at(0, "192.0.2.50", &kcn);
	cr_assert_eq(u.lifetime, 0);
	cr_assert_eq(h.ro.st.bu_dereg_sent, 1);
}

Test(ro, binding_request_answered_and_then_pushed)
{
	reg("198.51.100.7", 60, ntp0, now0);
	nsent = 0;
	/* cn2 (push: false) asks */
	ro_msg(MIP4_MSG_RO_REQUEST, 0, ntp0 + (10ULL << 32) + 5, "192.0.2.51:434", &kcn2, 5002,
	       now0 + 10000);
	cr_assert_eq(nsent, 1);
	struct mip4_msg u = bu_at(0, "192.0.2.51", &kcn2);
	cr_assert_eq(u.lifetime, 50, "the remaining lifetime");
	cr_assert_eq(h.ro.st.br_answered, 1);
	/* from now on it gets the binding's updates too */
	nsent = 0;
	cr_assert_eq(reg("203.0.113.9", 60, ntp0 + (11ULL << 32), now0 + 11000), 3);
	struct mip4_msg a = bu_at(1, "192.0.2.50", &kcn);
	struct mip4_msg b = bu_at(2, "192.0.2.51", &kcn2);
	cr_assert(a.exts & MIP4_HAS_RO_RELAY, "the first correspondent carries the DRR");
	cr_assert_eq(b.exts & MIP4_HAS_RO_RELAY, 0, "only one");
	/* replayed request: refused */
	nsent = 0;
	ro_msg(MIP4_MSG_RO_REQUEST, 0, ntp0 + (10ULL << 32) + 5, "192.0.2.51:434", &kcn2, 5002,
	       now0 + 12000);
	cr_assert_eq(nsent, 0);
	cr_assert_eq(h.ro.st.drop_replay, 1);
}

Test(ro, binding_request_refusals)
{
	reg("198.51.100.7", 60, ntp0, now0);
	nsent = 0;
	ro_msg(MIP4_MSG_RO_REQUEST, 0, ntp0, "192.0.2.99:434", &kcn, 5001, now0);
	cr_assert_eq(h.ro.st.drop_unknown_cn, 1);
	ro_msg(MIP4_MSG_RO_REQUEST, 0, ntp0, "192.0.2.50:434", &kcn2, 5001, now0);
	cr_assert_eq(h.ro.st.drop_auth_failed, 1);
	ro_msg(MIP4_MSG_RO_REQUEST, 0, ntp0, "192.0.2.50:434", NULL, 0, now0);
	cr_assert_eq(h.ro.st.drop_no_auth, 1);
	ro_msg(MIP4_MSG_RO_REQUEST, 0, ntp0 - (60ULL << 32), "192.0.2.50:434", &kcn, 5001, now0);
	cr_assert_eq(h.ro.st.drop_id_window, 1);
	cr_assert_eq(nsent, 0);
	/* for an unbound address: an update with lifetime 0 */
	ro_msg(MIP4_MSG_RO_REQUEST, 0, ntp0 + 3, "192.0.2.50:434", &kcn, 5001, now0);
	cr_assert_eq(nsent, 1);
	cr_assert_eq(bu_at(0, "192.0.2.50", &kcn).lifetime, 60);
}

Test(ro, binding_warning_triggers_update_to_the_target)
{
	reg("198.51.100.7", 60, ntp0, now0);
	nsent = 0;
	ro_msg(MIP4_MSG_RO_WARNING, 0, 0, "198.51.100.8:434", NULL, 0, now0 + 1000);
	cr_assert_eq(nsent, 1);
	struct mip4_msg u = bu_at(0, "192.0.2.51", &kcn2);
	cr_assert_eq(u.coa.s_addr, a4("198.51.100.7").s_addr);
	cr_assert_eq(h.ro.st.bw_answered, 1);
}

Test(ro, binding_acknowledge_counted)
{
	reg("198.51.100.7", 60, ntp0, now0);
	struct mip4_msg u = bu_at(1, "192.0.2.50", &kcn);
	ro_msg(MIP4_MSG_RO_ACK, 0, u.id, "192.0.2.50:434", &kcn, 5001, now0);
	ro_msg(MIP4_MSG_RO_ACK, MIP4_BA_N, u.id, "192.0.2.50:434", &kcn, 5001, now0);
	ro_msg(MIP4_MSG_RO_ACK, 0, u.id, "192.0.2.50:434", &kcn2, 5001, now0);
	cr_assert_eq(h.ro.st.ba_rx, 3);
	cr_assert_eq(h.ro.st.ba_nack, 1);
	cr_assert_eq(h.ro.st.drop_auth_failed, 1);
	cr_assert_eq(h.ro.cns[0].ba_rx, 2);
}

Test(ro, reload_keeps_replay_state_of_unchanged_correspondents)
{
	ro_msg(MIP4_MSG_RO_REQUEST, 0, ntp0 + 5, "192.0.2.50:434", &kcn, 5001, now0);
	cr_assert_eq(h.ro.st.br_answered, 1);
	cr_assert_eq(had_ro_build(&h), 0);
	ro_msg(MIP4_MSG_RO_REQUEST, 0, ntp0 + 5, "192.0.2.50:434", &kcn, 5001, now0);
	cr_assert_eq(h.ro.st.drop_replay, 1);
}

/* An update sent with A and not acknowledged is re-sent after 1, 2, 4 s with a fresh
 * Identification and the lifetime reduced by the time passed; acknowledged, it stops. */
Test(ro, unacknowledged_update_resent_until_acknowledged)
{
	reg("198.51.100.7", 60, ntp0, now0);
	struct mip4_msg u = bu_at(1, "192.0.2.50", &kcn);
	cr_assert_eq(h.ro.cns[0].npend, 1);
	nsent = 0;
	cr_assert_eq(had_ro_tick(&h, ntp_at(now0)), auth_ntp_to_unix_ms(ntp0) + 1000);
	cr_assert_eq(nsent, 0, "not yet due");
	had_ro_tick(&h, ntp_at(now0 + 1000));
	cr_assert_eq(nsent, 1);
	struct mip4_msg r = bu_at(0, "192.0.2.50", &kcn);
	cr_assert_gt(r.id, u.id, "a fresh Identification");
	cr_assert_eq(r.lifetime, 59);
	cr_assert_eq(r.coa.s_addr, u.coa.s_addr);
	cr_assert_eq(h.ro.st.bu_retx, 1);
	/* the acknowledge of the first transmission does not end it (not the pending id) ... */
	ro_msg(MIP4_MSG_RO_ACK, 0, u.id, "192.0.2.50:434", &kcn, 5001, now0 + 1000);
	cr_assert_eq(h.ro.cns[0].npend, 1);
	/* ... the acknowledge of the last one does */
	ro_msg(MIP4_MSG_RO_ACK, 0, r.id, "192.0.2.50:434", &kcn, 5001, now0 + 1000);
	cr_assert_eq(h.ro.cns[0].npend, 0);
	cr_assert_eq(had_ro_tick(&h, ntp_at(now0 + 10000)), UINT64_MAX);
	cr_assert_eq(nsent, 1);
}

Test(ro, unacknowledged_update_given_up_after_four_transmissions)
{
	reg("198.51.100.7", 60, ntp0, now0);
	nsent = 0;
	for (uint64_t s = 1; s <= 20; s++)
		had_ro_tick(&h, ntp_at(now0 + s * 1000));
	cr_assert_eq(nsent, 3, "re-sent at 1, 3 and 7 s");
	cr_assert_eq(h.ro.st.bu_retx, 3);
	cr_assert_eq(h.ro.st.bu_given_up, 1);
	cr_assert_eq(h.ro.cns[0].npend, 0);
	/* a forged acknowledge would not have ended it either */
	reg("198.51.100.7", 60, ntp0 + (30ULL << 32), now0 + 30000);
	ro_msg(MIP4_MSG_RO_ACK, 0, h.ro.cns[0].last_id, "192.0.2.50:434", &kcn2, 5001, now0 + 30000);
	cr_assert_eq(h.ro.cns[0].npend, 1);
}

/* The re-sent update of a synchronized move carries the same relayed deregistration reply; a
 * newer update for the home address replaces the pending one. */
Test(ro, resent_update_keeps_the_relayed_reply_and_newest_wins)
{
	reg("198.51.100.7", 60, ntp0, now0);
	uint64_t id = ntp0 + (1ULL << 32);
	reg("203.0.113.9", 60, id, now0 + 1000);
	cr_assert_eq(h.ro.cns[0].npend, 1, "the move's update replaced the first one");
	nsent = 0;
	had_ro_tick(&h, ntp_at(now0 + 2000));
	cr_assert_eq(nsent, 1);
	struct mip4_msg u = bu_at(0, "192.0.2.50", &kcn);
	cr_assert_eq(u.coa.s_addr, a4("203.0.113.9").s_addr);
	cr_assert(u.exts & MIP4_HAS_RO_RELAY);
	cr_assert_eq(u.relay_dst.s_addr, a4("198.51.100.7").s_addr);
	struct mip4_msg d;
	cr_assert_eq(mip4_msg_decode(u.relay, u.relay_len, &d), 0);
	cr_assert_eq(d.id, mip4_id_dereg(id));
	cr_assert_eq(mip4_auth_verify(u.relay, &d, MIP4_AUTH_MN_HA, &k1), 0);
}

Test(ro, without_acknowledge_nothing_pending)
{
	h.conf.ro.acknowledge = false;
	reg("198.51.100.7", 60, ntp0, now0);
	cr_assert_eq(h.ro.cns[0].npend, 0);
	nsent = 0;
	had_ro_tick(&h, ntp_at(now0 + 5000));
	cr_assert_eq(nsent, 0);
}
