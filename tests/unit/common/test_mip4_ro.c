/* Route optimization messages (docs/protocols/mipv4.md 4; draft-ietf-mobileip-optim-09 under
 * roam's types 240-243) and roam's RO relay extension (240, docs 4 / 8.4): byte vectors written
 * from the layouts of section 4, with the Route Optimization Authentication extension (35,
 * HMAC-MD5 over the message up to and including its SPI) computed independently with Python's
 * hmac / hashlib, not with roam's code.  The relayed message is the deregistration reply vector
 * of test_mip4_codec.c.  Each row decodes to the expected fields, re-encodes to the same bytes,
 * verifies under the HA-CN key (and fails under another), and decodes at a truncation only where
 * the cut falls on an extension boundary. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "mip4_vectors.h"
#include "roam/mip4.h"


static struct roam_key ro_key(const char *s)
{
	struct roam_key k;
	cr_assert_eq(auth_key_set(&k, AUTH_ALG_HMAC_MD5, s, strlen(s)), 0);
	return k;
}

static struct in_addr ip(const char *s)
{
	struct in_addr a;
	cr_assert_eq(inet_pton(AF_INET, s, &a), 1);
	return a;
}

struct row {
	const char *name;
	const uint8_t *b;
	size_t len;
	uint8_t type, flags;
	uint16_t lifetime;
	const char *coa;          /* BU; target for BW */
	uint64_t id;
	int auth;                 /* RO authenticator present */
	size_t bounds[4];         /* offsets where a cut is a valid shorter message (0-terminated) */
};

#define R(v) v, sizeof(v)
static const struct row rows[] = {
	{ "bu-relay", R(v_bu_relay), 242, 0xc0, 600, "192.0.2.30", 0xe8a1b2c312345678ULL, 1,
	  { 20, 20 + 2 + 4 + 42, 0 } },
	{ "bu", R(v_bu), 242, 0xc0, 600, "192.0.2.30", 0xe8a1b2c312345678ULL, 1, { 20, 0 } },
	{ "bu-dereg", R(v_bu_dereg), 242, 0xc0, 0, "10.1.0.5", 0xe8a1b2c312345778ULL, 1, { 20, 0 } },
	{ "ba", R(v_ba), 243, 0x00, 0, NULL, 0xe8a1b2c312345678ULL, 1, { 16, 0 } },
	{ "ba-nack", R(v_ba_nack), 243, 0x80, 0, NULL, 0xe8a1b2c312345678ULL, 1, { 16, 0 } },
	{ "br", R(v_br), 241, 0x00, 0, NULL, 0xe8a1b2c312345878ULL, 1, { 16, 0 } },
	{ "bw", R(v_bw), 240, 0x00, 0, "192.0.2.50", 0, 0, { 12, 0 } },
};
#define NROWS (sizeof(rows) / sizeof(rows[0]))

Test(mip4_ro, rows_decode_fields)
{
	for (size_t i = 0; i < NROWS; i++) {
		const struct row *r = &rows[i];
		struct mip4_msg m;
		cr_assert_eq(mip4_msg_decode(r->b, r->len, &m), 0, "%s", r->name);
		cr_assert_eq(m.type, r->type, "%s", r->name);
		cr_assert_eq(m.home.s_addr, ip("10.1.0.5").s_addr, "%s", r->name);
		if (r->type == MIP4_MSG_RO_UPDATE || r->type == MIP4_MSG_RO_ACK)
			cr_assert_eq(m.flags, r->flags, "%s", r->name);
		if (r->type == MIP4_MSG_RO_UPDATE) {
			cr_assert_eq(m.lifetime, r->lifetime, "%s", r->name);
			cr_assert_eq(m.coa.s_addr, ip(r->coa).s_addr, "%s", r->name);
		}
		if (r->type == MIP4_MSG_RO_WARNING)
			cr_assert_eq(m.target.s_addr, ip(r->coa).s_addr, "%s", r->name);
		else
			cr_assert_eq(m.id, r->id, "%s", r->name);
		cr_assert_eq(m.auth[MIP4_AUTH_RO].present, r->auth, "%s", r->name);
		if (r->auth) {
			cr_assert_eq(m.auth[MIP4_AUTH_RO].spi, 0x700, "%s", r->name);
			cr_assert_eq(m.auth[MIP4_AUTH_RO].covered + 16, r->len, "%s: RO last", r->name);
		}
		cr_assert_eq(m.len, r->len);
	}
}

Test(mip4_ro, relay_extension_fields)
{
	struct mip4_msg m;
	cr_assert_eq(mip4_msg_decode(v_bu_relay, sizeof(v_bu_relay), &m), 0);
	cr_assert(m.exts & MIP4_HAS_RO_RELAY);
	cr_assert_eq(m.exts_late & MIP4_HAS_RO_RELAY, 0, "covered by the RO authenticator");
	cr_assert_eq(m.relay_dst.s_addr, ip("192.0.2.10").s_addr);
	cr_assert_eq(m.relay_len, 42);
	cr_assert_eq(m.relay, v_bu_relay + 26, "borrowed from the datagram");
	/* the relayed message is a deregistration reply that decodes on its own */
	struct mip4_msg d;
	cr_assert_eq(mip4_msg_decode(m.relay, m.relay_len, &d), 0);
	cr_assert_eq(d.type, MIP4_MSG_REG_REPLY);
	cr_assert_eq(d.lifetime, 0);
	cr_assert_eq(d.id, 0xe8a1b2c312345679ULL);
	cr_assert(d.auth[MIP4_AUTH_MN_HA].present);
}

Test(mip4_ro, rows_roundtrip)
{
	for (size_t i = 0; i < NROWS; i++)
		mip4_vec_roundtrip(rows[i].name, rows[i].b, rows[i].len);
}

Test(mip4_ro, rows_authenticators)
{
	struct roam_key k = ro_key("ha-cn-secret-key");
	struct roam_key bad = ro_key("ha-cn-secret-kez");
	for (size_t i = 0; i < NROWS; i++) {
		const struct row *r = &rows[i];
		struct mip4_msg m;
		if (!r->auth)
			continue;
		cr_assert_eq(mip4_msg_decode(r->b, r->len, &m), 0);
		cr_assert_eq(mip4_auth_verify(r->b, &m, MIP4_AUTH_RO, &k), 0, "%s", r->name);
		cr_assert_lt(mip4_auth_verify(r->b, &m, MIP4_AUTH_RO, &bad), 0, "%s", r->name);
		/* recompute: the message without its authenticator, appended again */
		uint8_t out[512];
		struct wbuf w;
		struct mip4_msg e = m;
		e.auth[MIP4_AUTH_RO].present = 0;
		wbuf_init_fixed(&w, out, sizeof(out));
		cr_assert_eq(mip4_msg_encode(&w, &e), 0);
		cr_assert_eq(mip4_auth_append(&w, 0, MIP4_AUTH_RO, 0x700, &k), 0);
		cr_assert_eq(w.len, r->len, "%s", r->name);
		cr_assert_eq(memcmp(out, r->b, r->len), 0, "%s", r->name);
		/* one flipped bit anywhere in the covered part fails */
		uint8_t x[512];
		memcpy(x, r->b, r->len);
		x[4] ^= 1;
		cr_assert_eq(mip4_msg_decode(x, r->len, &m), 0);
		cr_assert_lt(mip4_auth_verify(x, &m, MIP4_AUTH_RO, &k), 0, "%s", r->name);
	}
}

Test(mip4_ro, rows_truncated_at_every_offset)
{
	for (size_t i = 0; i < NROWS; i++)
		mip4_vec_truncations(rows[i].name, rows[i].b, rows[i].len, rows[i].bounds, 4);
}

Test(mip4_ro, relay_extension_errors)
{
	uint8_t x[sizeof(v_bu_relay) + 64];
	struct mip4_msg m;
	/* length 4: a destination and no message */
	static const uint8_t short_relay[] = { 0xf2, 0x40, 0x00, 0x3c, 10, 1, 0, 5, 192, 0, 2, 30,
					       1, 2, 3, 4, 5, 6, 7, 8, 0xf0, 0x04, 192, 0, 2, 10 };
	cr_assert_eq(mip4_msg_decode(short_relay, sizeof(short_relay), &m), -EBADMSG);
	cr_assert_eq(m.bad_ext, MIP4_EXT_RO_RELAY);
	/* twice */
	memcpy(x, v_bu_relay, 68);
	memcpy(x + 68, v_bu_relay + 20, 48);
	cr_assert_eq(mip4_msg_decode(x, 116, &m), -EBADMSG);
	cr_assert_eq(m.bad_ext, MIP4_EXT_RO_RELAY);
	/* after the RO authenticator: decoded, but flagged as not covered */
	memcpy(x, v_bu, 20);
	memcpy(x + 20, v_bu + 20, 22);
	memcpy(x + 42, v_bu_relay + 20, 48);
	cr_assert_eq(mip4_msg_decode(x, 90, &m), 0);
	cr_assert(m.exts & MIP4_HAS_RO_RELAY);
	cr_assert(m.exts_late & MIP4_HAS_RO_RELAY);
	/* an old decoder's view: skippable (>= 128), so a correspondent without the relay still
	 * takes the update; here the type is known, so n_skipped stays 0 */
	cr_assert_eq(mip4_msg_decode(v_bu_relay, sizeof(v_bu_relay), &m), 0);
	cr_assert_eq(m.n_skipped, 0);
	cr_assert_geq(MIP4_EXT_RO_RELAY, 128);
}

Test(mip4_ro, relay_encode_errors)
{
	uint8_t out[600];
	struct wbuf w;
	struct mip4_msg m;
	memset(&m, 0, sizeof(m));
	m.type = MIP4_MSG_RO_UPDATE;
	m.flags = MIP4_BU_I;
	m.exts = MIP4_HAS_RO_RELAY;
	wbuf_init_fixed(&w, out, sizeof(out));
	cr_assert_eq(mip4_msg_encode(&w, &m), -EINVAL, "no relayed message");
	uint8_t big[MIP4_RO_RELAY_MAX];
	memset(big, 3, sizeof(big));
	m.relay = big;
	m.relay_len = MIP4_RO_RELAY_MAX;
	m.relay_dst = ip("192.0.2.10");
	wbuf_init_fixed(&w, out, sizeof(out));
	cr_assert_eq(mip4_msg_encode(&w, &m), 0, "the largest relayed message fits");
	cr_assert_eq(w.len, 20 + 2 + 4 + MIP4_RO_RELAY_MAX);
	cr_assert_eq(out[21], 255);
	cr_assert_eq(mip4_msg_decode(out, w.len, &m), 0);
	cr_assert_eq(m.relay_len, MIP4_RO_RELAY_MAX);
}

Test(mip4_ro, bu_without_identification)
{
	/* I clear: 12-byte fixed part, no Identification */
	static const uint8_t v[] = { 0xf2, 0x80, 0x00, 0x3c, 10, 1, 0, 5, 192, 0, 2, 30 };
	struct mip4_msg m;
	cr_assert_eq(mip4_msg_decode(v, sizeof(v), &m), 0);
	cr_assert_eq(m.has_id, 0);
	cr_assert_eq(m.flags, MIP4_BU_A);
	uint8_t out[64];
	struct wbuf w;
	wbuf_init_fixed(&w, out, sizeof(out));
	cr_assert_eq(mip4_msg_encode(&w, &m), 0);
	cr_assert_eq(w.len, sizeof(v));
	cr_assert_eq(memcmp(out, v, sizeof(v)), 0);
}
