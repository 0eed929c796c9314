/* had's registration processing (reg.c, sa.c, store.c) on a fake clock: RFC 5944 3.8 checks in
 * docs/protocols/mipv4.md section 3 order, every denial code had detects, replay handling, the
 * binding cache after each step, and the synchronized handoff's deregistration reply (sync vs
 * plain mode). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "had_fixture.h"
#include "roam/clock.h"

#define KEY1 "00112233445566778899aabbccddeeff"
#define KEY2 "ffeeddccbbaa99887766554433221100"
#define FAKEY "0123456789abcdef0123456789abcdef"

static const char *conf_text =
	"address: 192.0.2.1\n"
	"snapshot: \"\"\n"
	"max_lifetime: 100s\n"
	"max_bindings: 3\n"
	"mobiles:\n"
	"  - spi: 1000\n"
	"    key: " KEY1 "\n"
	"    home: [192.0.2.10]\n"
	"  - spi: 1001\n"
	"    key: " KEY2 "\n"
	"    algorithm: keyed-md5\n"
	"    home: [192.0.2.11, 192.0.2.12, 192.0.2.13, 192.0.2.14]\n"
	"foreign_agents:\n"
	"  - address: 198.51.100.1\n"
	"    spi: 2000\n"
	"    key: " FAKEY "\n";

struct sent {
	struct roam_sockaddr dst;
	uint8_t data[HAD_MAX_MSG];
	size_t len;
};

static struct had h;
static struct sent sent[8];
static int nsent;
static int send_result;
static uint64_t now0 = 5000000;                 /* fake monotonic ms */
static uint64_t ntp0 = 0xE8000000ULL << 32;     /* fake NTP time */
static struct roam_key k1, k2, kfa;

static int capture(void *arg, const struct roam_sockaddr *dst, const void *data, size_t len)
{
	(void)arg;
	if (send_result)
		return send_result;
	cr_assert_lt(nsent, 8);
	sent[nsent].dst = *dst;
	memcpy(sent[nsent].data, data, len);
	sent[nsent].len = len;
	nsent++;
	return 0;
}

static void setup_text(const char *text)
{
	hx_had_init(&h, text, now0, capture, false);
	nsent = 0;
	send_result = 0;
	auth_key_from_hex(&k1, AUTH_ALG_HMAC_MD5, KEY1);
	auth_key_from_hex(&k2, AUTH_ALG_KEYED_MD5, KEY2);
	auth_key_from_hex(&kfa, AUTH_ALG_HMAC_MD5, FAKEY);
}

static void setup(void)
{
	setup_text(conf_text);
}

static void teardown(void)
{
	hx_had_fini(&h);
}

struct req {
	const char *home, *coa, *ha;
	uint16_t lifetime;
	uint8_t flags;
	uint64_t id;
	uint32_t spi;
	const struct roam_key *key;
	const struct roam_key *fakey; /* FA-HA when set */
};

static size_t build(const struct req *r, uint8_t *buf, size_t cap)
{
	struct mip4_msg m;
	struct wbuf w;
	memset(&m, 0, sizeof(m));
	m.type = MIP4_MSG_REG_REQUEST;
	m.flags = r->flags;
	m.lifetime = r->lifetime;
	m.home = a4(r->home);
	m.ha = a4(r->ha ? r->ha : "192.0.2.1");
	m.coa = a4(r->coa);
	m.id = r->id ? r->id : ntp0;
	m.has_id = 1;
	wbuf_init_fixed(&w, buf, cap);
	cr_assert_eq(mip4_msg_encode(&w, &m), 0);
	cr_assert_eq(mip4_auth_append(&w, 0, MIP4_AUTH_MN_HA, r->spi ? r->spi : 1000,
				      r->key ? r->key : &k1), 0);
	if (r->fakey)
		cr_assert_eq(mip4_auth_append(&w, 0, MIP4_AUTH_FA_HA, 2000, r->fakey), 0);
	return w.len;
}

/* Sends a request from src at now; returns the number of datagrams had sent. */
static int feed(const struct req *r, const char *src, uint64_t now)
{
	uint8_t buf[256];
	size_t n = build(r, buf, sizeof(buf));
	struct roam_sockaddr s = sa(src);
	int before = nsent;
	had_reg_input(&h, buf, n, &s, now, ntp0 + ((now - now0) / 1000 << 32));
	return nsent - before;
}

static int dst_is(int i, const char *s)
{
	struct roam_sockaddr x = sa(s);
	return roam_sockaddr_eq(&sent[i].dst, &x);
}

/* Decodes sent[i] as a reply. */
static struct mip4_msg reply_at(int i)
{
	struct mip4_msg m;
	cr_assert_eq(mip4_msg_decode(sent[i].data, sent[i].len, &m), 0);
	cr_assert_eq(m.type, MIP4_MSG_REG_REPLY);
	return m;
}

static struct binding *lookup(const char *home)
{
	struct roam_ipaddr a = ip(home);
	return binding_lookup(&h.bc, &a);
}

TestSuite(reg, .init = setup, .fini = teardown);

Test(reg, accept_creates_binding_and_authenticated_reply)
{
	struct req r = { .home = "192.0.2.10", .coa = "198.51.100.7", .lifetime = 60 };
	cr_assert_eq(feed(&r, "198.51.100.7:434", now0), 1);
	struct mip4_msg m = reply_at(0);
	cr_assert_eq(m.code, 0);
	cr_assert_eq(m.lifetime, 60);
	cr_assert_eq(m.id, ntp0);
	cr_assert_eq(m.home.s_addr, a4("192.0.2.10").s_addr);
	cr_assert_eq(m.ha.s_addr, a4("192.0.2.1").s_addr);
	cr_assert_eq(mip4_auth_verify(sent[0].data, &m, MIP4_AUTH_MN_HA, &k1), 0);
	cr_assert(dst_is(0, "198.51.100.7:434"));
	struct binding *b = lookup("192.0.2.10");
	cr_assert_not_null(b);
	struct roam_ipaddr coa = ip("198.51.100.7");
	cr_assert(roam_ipaddr_eq(&b->cur.coa, &coa));
	cr_assert_eq(had_binding_spi(b), 1000);
	cr_assert_eq(binding_remaining(b, now0), 60);
	cr_assert_eq(h.stats.accepted, 1);
	cr_assert_eq(h.stats.created, 1);
}

Test(reg, lifetime_capped_and_refresh)
{
	struct req r = { .home = "192.0.2.10", .coa = "198.51.100.7", .lifetime = 0xffff };
	feed(&r, "198.51.100.7:434", now0);
	cr_assert_eq(reply_at(0).lifetime, 100);
	cr_assert_eq(h.stats.lifetimes_capped, 1);
	r.lifetime = 30;
	r.id = ntp0 + (2ULL << 32);
	feed(&r, "198.51.100.7:434", now0 + 2000);
	cr_assert_eq(reply_at(1).code, 0);
	cr_assert_eq(binding_remaining(lookup("192.0.2.10"), now0 + 2000), 30);
	cr_assert_eq(h.stats.refreshed, 1);
	/* and it expires on time */
	had_store_expire(&h, now0 + 2000 + 30000);
	cr_assert_null(lookup("192.0.2.10"));
	cr_assert_eq(h.stats.bindings_expired, 1);
}

Test(reg, wrong_key_denied_131_binding_untouched_window_unmoved)
{
	struct req r = { .home = "192.0.2.10", .coa = "198.51.100.7", .lifetime = 60 };
	feed(&r, "198.51.100.7:434", now0);
	struct roam_key bad = k1;
	bad.bytes[3] ^= 1;
	struct req f = { .home = "192.0.2.10", .coa = "203.0.113.9", .lifetime = 60,
			 .id = ntp0 + (1ULL << 32), .key = &bad };
	cr_assert_eq(feed(&f, "203.0.113.9:434", now0 + 1000), 1);
	struct mip4_msg m = reply_at(1);
	cr_assert_eq(m.code, 131);
	cr_assert_eq(h.stats.denied[131 - 128], 1);
	cr_assert_eq(h.stats.mn_auth_failed, 1);
	struct roam_ipaddr coa = ip("198.51.100.7");
	cr_assert(roam_ipaddr_eq(&lookup("192.0.2.10")->cur.coa, &coa));
	/* the forged Identification did not enter the replay window */
	f.key = &k1;
	cr_assert_eq(feed(&f, "203.0.113.9:434", now0 + 1000), 2); /* reply + dereg reply */
	cr_assert_eq(reply_at(2).code, 0);
}

Test(reg, unknown_spi_denied_131_without_authenticator)
{
	struct req r = { .home = "192.0.2.10", .coa = "198.51.100.7", .lifetime = 60,
			 .spi = 4242 };
	cr_assert_eq(feed(&r, "198.51.100.7:434", now0), 1);
	struct mip4_msg m = reply_at(0);
	cr_assert_eq(m.code, 131);
	cr_assert_eq(m.auth[MIP4_AUTH_MN_HA].present, 0);
	cr_assert_eq(h.stats.unknown_spi, 1);
	cr_assert_eq(binding_count(&h.bc), 0);
}

Test(reg, someone_elses_home_address_denied_129)
{
	struct req r = { .home = "192.0.2.11", .coa = "198.51.100.7", .lifetime = 60 };
	cr_assert_eq(feed(&r, "198.51.100.7:434", now0), 1);
	cr_assert_eq(reply_at(0).code, 129);
	cr_assert_eq(h.stats.foreign_home, 1);
	cr_assert_null(lookup("192.0.2.11"));
}

Test(reg, stale_identification_gets_133_with_resync_id)
{
	uint64_t id = ntp0 - (100ULL << 32) + 0x1234;
	struct req r = { .home = "192.0.2.10", .coa = "198.51.100.7", .lifetime = 60, .id = id };
	cr_assert_eq(feed(&r, "198.51.100.7:434", now0), 1);
	struct mip4_msg m = reply_at(0);
	cr_assert_eq(m.code, 133);
	cr_assert_eq(m.id, mip4_id_resync(id, ntp0));
	cr_assert_eq(m.id >> 32, ntp0 >> 32);
	cr_assert_eq(m.id & 0xffffffffu, 0x1234);
	cr_assert_eq(mip4_auth_verify(sent[0].data, &m, MIP4_AUTH_MN_HA, &k1), 0);
	cr_assert_eq(binding_count(&h.bc), 0);
	/* within the tolerance (7 s) it is fine */
	r.id = ntp0 - (6ULL << 32);
	feed(&r, "198.51.100.7:434", now0);
	cr_assert_eq(reply_at(1).code, 0);
}

Test(reg, replayed_identification_dropped_without_reply)
{
	struct req r = { .home = "192.0.2.10", .coa = "198.51.100.7", .lifetime = 60 };
	cr_assert_eq(feed(&r, "198.51.100.7:434", now0), 1);
	r.coa = "203.0.113.9"; /* same id, different content: a replay attempt */
	cr_assert_eq(feed(&r, "203.0.113.9:434", now0 + 500), 0);
	cr_assert_eq(h.stats.drop_replay, 1);
	struct roam_ipaddr coa = ip("198.51.100.7");
	cr_assert(roam_ipaddr_eq(&lookup("192.0.2.10")->cur.coa, &coa));
}

Test(reg, flags_and_home_agent_field)
{
	uint64_t id = ntp0;
	struct { uint8_t flags; const char *ha; uint8_t code; } cases[] = {
		{ 0, "192.0.2.99", 136 },
		{ MIP4_REQ_D, NULL, 129 },
		{ MIP4_REQ_M, NULL, 139 },
		{ MIP4_REQ_G, NULL, 139 },
		{ MIP4_REQ_S, NULL, 1 },
		{ MIP4_REQ_T, NULL, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct req r = { .home = "192.0.2.10", .coa = "198.51.100.7", .lifetime = 60,
				 .flags = cases[i].flags, .ha = cases[i].ha, .id = id++ };
		cr_assert_eq(feed(&r, "198.51.100.7:434", now0), 1);
		struct mip4_msg m = reply_at((int)i);
		cr_assert_eq(m.code, cases[i].code, "case %zu: %u", i, m.code);
		if (cases[i].code == 136)
			cr_assert_eq(m.ha.s_addr, a4("192.0.2.1").s_addr);
	}
	cr_assert_eq(h.stats.denied[136 - 128], 1);
	cr_assert_eq(h.stats.denied[139 - 128], 2);
	cr_assert_eq(h.stats.simultaneous, 1);
}

Test(reg, reverse_tunnel_off_and_mandatory)
{
	teardown();
	char text[2048];
	snprintf(text, sizeof(text), "%sreverse_tunnel: off\n", conf_text);
	setup_text(text);
	struct req r = { .home = "192.0.2.10", .coa = "198.51.100.7", .lifetime = 60,
			 .flags = MIP4_REQ_T };
	feed(&r, "198.51.100.7:434", now0);
	cr_assert_eq(reply_at(0).code, 137);
	teardown();
	snprintf(text, sizeof(text), "%sreverse_tunnel: mandatory\n", conf_text);
	setup_text(text);
	r.flags = 0;
	feed(&r, "198.51.100.7:434", now0);
	cr_assert_eq(reply_at(0).code, 138);
	cr_assert_eq(binding_count(&h.bc), 0);
}

Test(reg, deregistration_lifetime_zero_and_at_home)
{
	struct req r = { .home = "192.0.2.10", .coa = "198.51.100.7", .lifetime = 60 };
	feed(&r, "198.51.100.7:434", now0);
	cr_assert_not_null(lookup("192.0.2.10"));
	r.lifetime = 0;
	r.id = ntp0 + 1000;
	feed(&r, "198.51.100.7:434", now0);
	struct mip4_msg m = reply_at(1);
	cr_assert_eq(m.code, 0);
	cr_assert_eq(m.lifetime, 0);
	cr_assert_null(lookup("192.0.2.10"));
	/* register again, then come home: care-of = home address */
	r.lifetime = 60;
	r.id = ntp0 + 2000;
	feed(&r, "198.51.100.7:434", now0);
	cr_assert_not_null(lookup("192.0.2.10"));
	struct req home = { .home = "192.0.2.10", .coa = "192.0.2.10", .lifetime = 60,
			    .id = ntp0 + 3000 };
	feed(&home, "192.0.2.10:434", now0);
	cr_assert_eq(reply_at(3).lifetime, 0);
	cr_assert_null(lookup("192.0.2.10"));
	cr_assert_eq(h.stats.deregistered, 2);
}

Test(reg, keyed_md5_sa)
{
	struct req r = { .home = "192.0.2.12", .coa = "198.51.100.7", .lifetime = 60,
			 .spi = 1001, .key = &k2 };
	feed(&r, "198.51.100.7:434", now0);
	struct mip4_msg m = reply_at(0);
	cr_assert_eq(m.code, 0);
	cr_assert_eq(mip4_auth_verify(sent[0].data, &m, MIP4_AUTH_MN_HA, &k2), 0);
	/* an HMAC-MD5 authenticator under the same key bytes is wrong for this SA */
	struct roam_key hm = k2;
	hm.alg = AUTH_ALG_HMAC_MD5;
	r.key = &hm;
	r.id = ntp0 + 1;
	feed(&r, "198.51.100.7:434", now0);
	cr_assert_eq(reply_at(1).code, 131);
}

Test(reg, fa_ha_required_from_configured_fa)
{
	struct req r = { .home = "192.0.2.10", .coa = "198.51.100.1", .lifetime = 60 };
	feed(&r, "198.51.100.1:434", now0);
	cr_assert_eq(reply_at(0).code, 132);
	cr_assert_eq(h.stats.fa_auth_failed, 1);
	cr_assert_eq(binding_count(&h.bc), 0);
	struct roam_key bad = kfa;
	bad.bytes[0] ^= 1;
	r.fakey = &bad;
	r.id = ntp0 + 1;
	feed(&r, "198.51.100.1:434", now0);
	cr_assert_eq(reply_at(1).code, 132);
	r.fakey = &kfa;
	r.id = ntp0 + 2;
	feed(&r, "198.51.100.1:434", now0);
	struct mip4_msg m = reply_at(2);
	cr_assert_eq(m.code, 0);
	cr_assert_eq(mip4_auth_verify(sent[2].data, &m, MIP4_AUTH_FA_HA, &kfa), 0);
	cr_assert_eq(mip4_auth_verify(sent[2].data, &m, MIP4_AUTH_MN_HA, &k1), 0);
}

Test(reg, too_many_bindings_130)
{
	const char *homes[] = { "192.0.2.11", "192.0.2.12", "192.0.2.13", "192.0.2.14" };
	for (int i = 0; i < 4; i++) {
		struct req r = { .home = homes[i], .coa = "198.51.100.7", .lifetime = 60,
				 .spi = 1001, .key = &k2, .id = ntp0 + (uint64_t)i };
		feed(&r, "198.51.100.7:434", now0);
	}
	cr_assert_eq(reply_at(2).code, 0);
	cr_assert_eq(reply_at(3).code, 130);
	cr_assert_eq(binding_count(&h.bc), 3);
}

Test(reg, garbage_and_other_messages_dropped)
{
	uint8_t junk[] = { 1, 0, 0, 60, 1, 2, 3 };
	struct roam_sockaddr s = sa("198.51.100.7:434");
	had_reg_input(&h, junk, sizeof(junk), &s, now0, ntp0);
	cr_assert_eq(h.stats.drop_malformed, 1);
	uint8_t unk[] = { 99, 0, 0, 0 };
	had_reg_input(&h, unk, sizeof(unk), &s, now0, ntp0);
	cr_assert_eq(h.stats.drop_not_request, 1);
	/* a valid request with an unknown must-understand extension (type 99) */
	struct req r = { .home = "192.0.2.10", .coa = "198.51.100.7", .lifetime = 60 };
	uint8_t buf[256];
	size_t n = build(&r, buf, sizeof(buf));
	buf[n++] = 99;
	buf[n++] = 0;
	had_reg_input(&h, buf, n, &s, now0, ntp0);
	cr_assert_eq(h.stats.drop_must_understand, 1);
	/* a Registration Reply sent to the HA */
	uint8_t rep[MIP4_REPLY_LEN] = { MIP4_MSG_REG_REPLY };
	had_reg_input(&h, rep, sizeof(rep), &s, now0, ntp0);
	cr_assert_eq(h.stats.drop_not_request, 2);
	cr_assert_eq(nsent, 0);
	cr_assert_eq(binding_count(&h.bc), 0);
}

/* ---- synchronized handoff ---- */

static void move_setup(void)
{
	struct req r = { .home = "192.0.2.10", .coa = "198.51.100.7", .lifetime = 60 };
	cr_assert_eq(feed(&r, "198.51.100.7:434", now0), 1);
	nsent = 0;
}

Test(reg, sync_move_sends_reply_then_dereg_reply_to_old_coa)
{
	move_setup();
	uint64_t id = ntp0 + (1ULL << 32) + 0x100;
	struct req r = { .home = "192.0.2.10", .coa = "203.0.113.9", .lifetime = 60, .id = id };
	cr_assert_eq(feed(&r, "203.0.113.9:434", now0 + 1000), 2);
	/* first the reply to the new care-of address ... */
	struct mip4_msg m = reply_at(0);
	cr_assert_eq(m.code, 0);
	cr_assert_eq(m.id, id);
	cr_assert(dst_is(0, "203.0.113.9:434"));
	/* ... then the deregistration reply to the old one, port 434, own Identification */
	struct mip4_msg d = reply_at(1);
	cr_assert(dst_is(1, "198.51.100.7:434"));
	cr_assert_eq(d.code, 0);
	cr_assert_eq(d.lifetime, 0);
	cr_assert_eq(d.id, mip4_id_dereg(id));
	cr_assert_eq(mip4_id_match(d.id, id), 2);
	cr_assert_eq(mip4_auth_verify(sent[1].data, &d, MIP4_AUTH_MN_HA, &k1), 0);
	struct binding *b = lookup("192.0.2.10");
	struct roam_ipaddr ncoa = ip("203.0.113.9");
	cr_assert(roam_ipaddr_eq(&b->cur.coa, &ncoa));
	cr_assert_eq(b->old.coa.family, 0, "old path released once drained");
	cr_assert_eq(bfifo_count(&b->old.fifo), 0);
	cr_assert_eq(h.stats.drr_queued, 1);
	cr_assert_eq(h.stats.drr_sent, 1);
	cr_assert_eq(h.stats.moved, 1);
}

Test(reg, sync_move_dereg_reply_queued_behind_old_path_data)
{
	move_setup();
	struct binding *b = lookup("192.0.2.10");
	/* data already queued towards the old care-of address (the future data plane) */
	uint8_t pkt[40] = { 0x45 };
	cr_assert_eq(bfifo_push(&b->cur.fifo, BFIFO_DATA, pkt, sizeof(pkt), now0), 0);
	h.send_data = capture;
	send_result = -EAGAIN; /* the sockets take nothing: the FIFO keeps its order */
	struct req r = { .home = "192.0.2.10", .coa = "203.0.113.9", .lifetime = 60,
			 .id = ntp0 + (1ULL << 32) };
	feed(&r, "203.0.113.9:434", now0 + 1000);
	struct roam_ipaddr ocoa = ip("198.51.100.7");
	cr_assert(roam_ipaddr_eq(&b->old.coa, &ocoa));
	cr_assert_eq(bfifo_count(&b->old.fifo), 2);
	const struct bfifo_item *it = bfifo_peek(&b->old.fifo);
	cr_assert_eq(it->kind, BFIFO_DATA);
	cr_assert_eq(it->next->kind, BFIFO_CTRL);
	struct mip4_msg d;
	cr_assert_eq(mip4_msg_decode(it->next->data, it->next->len, &d), 0);
	cr_assert_eq(d.lifetime, 0);
	cr_assert_eq(d.id, mip4_id_dereg(r.id));
	cr_assert_eq(bfifo_count(&b->cur.fifo), 0);
	/* once the sockets take them, both leave in order (data through the data plane's hook,
	 * to the care-of address; the reply through the UDP socket, port 434) and the old path
	 * is released */
	send_result = 0;
	nsent = 0;
	had_drain_old(&h, b);
	cr_assert_eq(nsent, 2);
	cr_assert_eq(sent[0].len, sizeof(pkt));
	struct roam_ipaddr da, ocoa2 = ip("198.51.100.7");
	uint16_t dport = 1;
	cr_assert_eq(roam_sockaddr_addr(&sent[0].dst, &da, &dport), 0);
	cr_assert(roam_ipaddr_eq(&da, &ocoa2));
	cr_assert_eq(dport, 0);
	cr_assert(dst_is(1, "198.51.100.7:434"));
	cr_assert_eq(reply_at(1).lifetime, 0);
	cr_assert_eq(b->old.coa.family, 0);
}

Test(reg, plain_mode_move_sends_one_reply_and_flushes)
{
	teardown();
	char text[2048];
	snprintf(text, sizeof(text), "%ssynchronized: false\n", conf_text);
	setup_text(text);
	move_setup();
	struct binding *b = lookup("192.0.2.10");
	uint8_t pkt[40] = { 0x45 };
	cr_assert_eq(bfifo_push(&b->cur.fifo, BFIFO_DATA, pkt, sizeof(pkt), now0), 0);
	struct req r = { .home = "192.0.2.10", .coa = "203.0.113.9", .lifetime = 60,
			 .id = ntp0 + (1ULL << 32) };
	cr_assert_eq(feed(&r, "203.0.113.9:434", now0 + 1000), 1);
	cr_assert_eq(reply_at(0).code, 0);
	cr_assert_eq(b->old.coa.family, 0);
	cr_assert_eq(bfifo_count(&b->old.fifo), 0);
	cr_assert_eq(bfifo_count(&b->cur.fifo), 0);
	cr_assert_eq(h.stats.drr_queued, 0);
	cr_assert_eq(h.stats.moved, 1);
}

Test(reg, dereg_reply_to_old_fa_carries_fa_ha)
{
	struct req r = { .home = "192.0.2.10", .coa = "198.51.100.1", .lifetime = 60,
			 .fakey = &kfa };
	feed(&r, "198.51.100.1:434", now0);
	nsent = 0;
	struct req r2 = { .home = "192.0.2.10", .coa = "203.0.113.9", .lifetime = 60,
			  .id = ntp0 + (1ULL << 32) };
	cr_assert_eq(feed(&r2, "203.0.113.9:434", now0 + 1000), 2);
	struct mip4_msg d = reply_at(1);
	cr_assert_eq(d.lifetime, 0);
	cr_assert_eq(mip4_auth_verify(sent[1].data, &d, MIP4_AUTH_FA_HA, &kfa), 0);
	cr_assert_eq(reply_at(0).auth[MIP4_AUTH_FA_HA].present, 0);
}

/* ---- configuration ---- */

Test(conf, errors_are_reported)
{
	struct had_conf c;
	char err[256];
	memset(&c, 0, sizeof(c));
	cr_assert_lt(had_conf_load_string(&c, "address: 192.0.2.1\nmobiles:\n  - spi: 12\n"
					      "    key: 0011\n    home: [192.0.2.10]\n",
					  err, sizeof(err)), 0);
	cr_assert(strstr(err, "spi"), "%s", err);
	cr_assert_lt(had_conf_load_string(&c, "address: 192.0.2.1\nmobiles:\n  - spi: 300\n"
					      "    key: 0011\n    home: [192.0.2.10]\n"
					      "  - spi: 300\n    key: 0011\n    home: [192.0.2.11]\n",
					  err, sizeof(err)), 0);
	cr_assert(strstr(err, "300"), "%s", err);
	cr_assert_lt(had_conf_load_string(&c, "address: 192.0.2.1\nbogus: 1\nmobiles:\n"
					      "  - spi: 300\n    key: 0011\n    home: [192.0.2.10]\n",
					  err, sizeof(err)), 0);
	cr_assert_lt(had_conf_load_string(&c, "address: 192.0.2.1\nadvert: {enabled: true}\n"
					      "mobiles:\n  - spi: 300\n    key: 0011\n"
					      "    home: [192.0.2.10]\n", err, sizeof(err)), 0);
	cr_assert_eq(had_conf_load_string(&c, "address: 192.0.2.1\nmobiles:\n  - spi: 300\n"
					      "    key: 0011\n    home: [192.0.2.10]\n",
					  err, sizeof(err)), 0);
	cr_assert_eq(c.synchronized, true);
	cr_assert_eq(c.port, 434);
	cr_assert_eq(c.max_lifetime, 1800000);
	had_conf_free(&c);
}

Test(conf, example_config_is_valid)
{
	struct had_conf c;
	memset(&c, 0, sizeof(c));
	cr_assert_eq(had_conf_load(&c, "etc/roam/had.yaml", 0, NULL, 0), 0);
	cr_assert_eq(c.nmobiles, 2);
	had_conf_free(&c);
}

Test(reg, data_item_without_data_plane_is_dropped_and_counted)
{
	move_setup();
	struct binding *b = lookup("192.0.2.10");
	uint8_t pkt[40] = { 0x45 };
	cr_assert_eq(bfifo_push(&b->cur.fifo, BFIFO_DATA, pkt, sizeof(pkt), now0), 0);
	struct req r = { .home = "192.0.2.10", .coa = "203.0.113.9", .lifetime = 60,
			 .id = ntp0 + (1ULL << 32) };
	cr_assert_eq(feed(&r, "203.0.113.9:434", now0 + 1000), 2);
	cr_assert_eq(h.stats.drop_no_dataplane, 1);
	cr_assert_eq(reply_at(1).lifetime, 0);
	cr_assert_eq(b->old.coa.family, 0);
}

/* ---- reload helpers ---- */

Test(reg, cap_after_lower_max_lifetime)
{
	struct req r = { .home = "192.0.2.10", .coa = "198.51.100.7", .lifetime = 90 };
	feed(&r, "198.51.100.7:434", now0);
	h.conf.max_lifetime = 20000;
	had_store_cap(&h, now0 + 1000);
	struct binding *b = lookup("192.0.2.10");
	cr_assert_eq(binding_remaining(b, now0 + 1000), 20);
	had_store_expire(&h, now0 + 21000);
	cr_assert_null(lookup("192.0.2.10"));
}

Test(reg, drain_all_retries_refused_dereg_reply)
{
	move_setup();
	send_result = -EAGAIN;
	struct req r = { .home = "192.0.2.10", .coa = "203.0.113.9", .lifetime = 60,
			 .id = ntp0 + (1ULL << 32) };
	feed(&r, "203.0.113.9:434", now0 + 1000);
	cr_assert_eq(had_drain_all(&h), 1);
	struct binding *b = lookup("192.0.2.10");
	cr_assert_eq(bfifo_count(&b->old.fifo), 1);
	send_result = 0;
	cr_assert_eq(had_drain_all(&h), 0);
	cr_assert_eq(nsent, 1);
	cr_assert_eq(reply_at(0).lifetime, 0);
	cr_assert_eq(h.stats.drr_sent, 1);
	cr_assert_eq(b->old.coa.family, 0);
}

Test(reg, sa_rebuild_keeps_replay_state_of_unchanged_sa)
{
	struct req r = { .home = "192.0.2.10", .coa = "198.51.100.7", .lifetime = 60 };
	cr_assert_eq(feed(&r, "198.51.100.7:434", now0), 1);
	/* a reload with the same SAs: the accepted Identification stays a replay */
	cr_assert_eq(had_sa_build(&h), 0);
	cr_assert_eq(feed(&r, "198.51.100.7:434", now0), 0);
	cr_assert_eq(h.stats.drop_replay, 1);
	/* bindings are untouched by a rebuild */
	cr_assert_not_null(lookup("192.0.2.10"));
}

Test(reg, drr_delay_holds_the_dereg_reply_for_a_late_reply_test)
{
	/* drr_delay (a test knob): the deregistration reply waits at the head of the old path,
	 * so that it reaches the mobile late (docs 8.2, Phase II). */
	teardown();
	char text[2048];
	snprintf(text, sizeof(text), "%sdrr_delay: 80ms\n", conf_text);
	uint64_t saved = now0;
	now0 = roam_mono_ms(); /* the knob compares with the real clock */
	uint64_t t = now0;
	setup_text(text);
	cr_assert_eq(h.conf.drr_delay, 80);
	struct req r0 = { .home = "192.0.2.10", .coa = "198.51.100.7", .lifetime = 60 };
	cr_assert_eq(feed(&r0, "198.51.100.7:434", t), 1);
	nsent = 0;
	struct req r = { .home = "192.0.2.10", .coa = "203.0.113.9", .lifetime = 60,
			 .id = ntp0 + (1ULL << 32) };
	cr_assert_eq(feed(&r, "203.0.113.9:434", t), 1, "only the reply: the DRR waits");
	struct binding *b = lookup("192.0.2.10");
	cr_assert_eq(bfifo_count(&b->old.fifo), 1);
	cr_assert_eq(h.stats.drr_queued, 1);
	cr_assert_eq(h.stats.drr_sent, 0);
	usleep(100 * 1000);
	had_drain_old(&h, b);
	cr_assert_eq(nsent, 2);
	cr_assert(dst_is(1, "198.51.100.7:434"));
	cr_assert_eq(reply_at(1).lifetime, 0);
	cr_assert_eq(h.stats.drr_sent, 1);
	cr_assert_eq(b->old.coa.family, 0);
	now0 = saved;
}
