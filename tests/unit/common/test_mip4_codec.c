/* Mobile IPv4 codec (roam/mip4.h): byte vectors written by hand from the RFC layouts
 * (RFC 5944 2.1 / 3.3 / 3.4 / 3.5, RFC 3012 generalized authentication, RFC 3024, RFC 4857,
 * RFC 4988, draft-ietf-mobileip-optim with roam's type numbers, docs/protocols/mipv4.md).
 * The authenticators (HMAC-MD5 and RFC 2002 keyed-MD5 prefix+suffix, over the message up to
 * and including the SPI) and the ICMP checksums were computed independently with Python's
 * hmac / hashlib modules, not with roam's code.
 * Every row decodes, re-encodes to the same bytes, has its authenticators verified and
 * recomputed, and decodes at every truncation only where the cut falls on an extension
 * boundary (Mobile IP has no length field: a message cut between extensions is valid). */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "mip4_vectors.h"
#include "roam/ip.h"
#include "roam/mip4.h"


static struct roam_key key_of(enum auth_alg alg, const char *s)
{
	struct roam_key k;
	cr_assert_eq(auth_key_set(&k, alg, s, strlen(s)), 0);
	return k;
}

struct auth_check {
	enum mip4_auth_kind kind;
	enum auth_alg alg;
	const char *key;
	uint32_t spi;
};

struct row {
	const char *name;
	const uint8_t *bytes;
	size_t len;
	size_t bounds[6]; /* valid truncation points (extension boundaries), 0-terminated */
	struct auth_check auth[2];
	int n_auth;
};

#define ROW(n, v) .name = n, .bytes = v, .len = sizeof(v)
#define HM AUTH_ALG_HMAC_MD5
#define KM AUTH_ALG_KEYED_MD5

static const struct row rows[] = {
	{ ROW("RRQ NAI+EDS+MN-HA", v_rrq), .bounds = { 24, 34, 36 }, .n_auth = 1,
	  .auth = { { MIP4_AUTH_MN_HA, HM, "mn-ha-secret-key", 0x100 } } },
	{ ROW("RRQ keyed-MD5", v_rrq_keyed), .bounds = { 24 }, .n_auth = 1,
	  .auth = { { MIP4_AUTH_MN_HA, KM, "mn-ha-secret-key", 0x101 } } },
	{ ROW("RRQ relayed GFA+HFA+FA-HA", v_rrq_relayed), .bounds = { 24, 46, 52, 58 },
	  .n_auth = 2,
	  .auth = { { MIP4_AUTH_MN_HA, HM, "mn-ha-secret-key", 0x100 },
	            { MIP4_AUTH_FA_HA, KM, "fa-ha-key", 0x200 } } },
	{ ROW("RRP accepted", v_rrp), .bounds = { 20 }, .n_auth = 1,
	  .auth = { { MIP4_AUTH_MN_HA, HM, "mn-ha-secret-key", 0x100 } } },
	{ ROW("RRP 133 resync", v_rrp_133), .bounds = { 20 }, .n_auth = 1,
	  .auth = { { MIP4_AUTH_MN_HA, HM, "mn-ha-secret-key", 0x100 } } },
	{ ROW("RRP deregistration", v_rrp_dereg), .bounds = { 20 }, .n_auth = 1,
	  .auth = { { MIP4_AUTH_MN_HA, HM, "mn-ha-secret-key", 0x100 } } },
	{ ROW("Regional Request", v_regional_req), .bounds = { 24, 48, 54 }, .n_auth = 2,
	  .auth = { { MIP4_AUTH_MN_GFA, HM, "mn-gfa-key", 0x300 },
	            { MIP4_AUTH_FA_FA, HM, "fa-fa-key", 0x400 } } },
	{ ROW("Regional Reply", v_regional_rep), .bounds = { 20 }, .n_auth = 1,
	  .auth = { { MIP4_AUTH_MN_GFA, HM, "mn-gfa-key", 0x300 } } },
	{ ROW("FBU", v_fbu), .bounds = { 24 }, .n_auth = 1,
	  .auth = { { MIP4_AUTH_MN_PAR, HM, "mn-par-key", 0x500 } } },
	{ ROW("FBAck", v_fback), .bounds = { 20 }, .n_auth = 1,
	  .auth = { { MIP4_AUTH_MN_PAR, HM, "mn-par-key", 0x500 } } },
	{ ROW("Binding Warning", v_ro_warning), .bounds = { 0 } },
	{ ROW("Binding Request", v_ro_request), .bounds = { 16 }, .n_auth = 1,
	  .auth = { { MIP4_AUTH_RO, HM, "ha-cn-route-opt", 0x600 } } },
	{ ROW("Binding Update A+I", v_ro_update), .bounds = { 20 }, .n_auth = 1,
	  .auth = { { MIP4_AUTH_RO, KM, "ha-cn-route-opt", 0x600 } } },
	{ ROW("Binding Update no I", v_ro_update_noid), .bounds = { 0 } },
	{ ROW("Binding Acknowledge", v_ro_ack), .bounds = { 16 }, .n_auth = 1,
	  .auth = { { MIP4_AUTH_RO, KM, "ha-cn-route-opt", 0x600 } } },
};
#define NROWS (sizeof(rows) / sizeof(rows[0]))

Test(mip4_codec, rows_roundtrip)
{
	for (size_t i = 0; i < NROWS; i++)
		mip4_vec_roundtrip(rows[i].name, rows[i].bytes, rows[i].len);
}

Test(mip4_codec, rows_truncated_at_every_offset)
{
	for (size_t i = 0; i < NROWS; i++)
		mip4_vec_truncations(rows[i].name, rows[i].bytes, rows[i].len, rows[i].bounds, 6);
}

Test(mip4_codec, rows_authenticators_verify_and_recompute)
{
	for (size_t i = 0; i < NROWS; i++) {
		const struct row *r = &rows[i];
		struct mip4_msg m;

		cr_assert_eq(mip4_msg_decode(r->bytes, r->len, &m), 0);
		for (int j = 0; j < r->n_auth; j++) {
			const struct auth_check *c = &r->auth[j];
			struct roam_key k = key_of(c->alg, c->key);
			const struct mip4_auth *a = &m.auth[c->kind];
			struct wbuf w;
			size_t keep;

			cr_assert(a->present, "%s %s", r->name, mip4_auth_name(c->kind));
			cr_assert_eq(a->spi, c->spi);
			cr_assert_eq(a->mac_len, 16);
			cr_assert_eq(mip4_auth_verify(r->bytes, &m, c->kind, &k), 0, "%s %s",
			             r->name, mip4_auth_name(c->kind));
			/* recompute: bytes before the extension + mip4_auth_append */
			wbuf_init(&w);
			wbuf_put_bytes(&w, r->bytes, a->ext_off);
			cr_assert_eq(mip4_auth_append(&w, 0, c->kind, c->spi, &k), 0);
			cr_assert_eq(mip4_auth_end(&m, c->kind, &keep), 0);
			cr_assert_eq(w.len, keep);
			cr_assert_eq(memcmp(w.buf, r->bytes, keep), 0, "%s %s recomputed", r->name,
			             mip4_auth_name(c->kind));
			wbuf_free(&w);
		}
	}
}

Test(mip4_codec, request_fields)
{
	struct mip4_msg m;

	cr_assert_eq(mip4_msg_decode(v_rrq, sizeof(v_rrq), &m), 0);
	cr_assert_eq(m.type, MIP4_MSG_REG_REQUEST);
	cr_assert_eq(m.flags, MIP4_REQ_T);
	cr_assert_eq(m.lifetime, 300);
	cr_assert_eq(m.home.s_addr, inet_addr("10.1.0.5"));
	cr_assert_eq(m.ha.s_addr, inet_addr("10.1.0.1"));
	cr_assert_eq(m.coa.s_addr, inet_addr("192.0.2.10"));
	cr_assert_eq(m.id, 0xE8A1B2C312345678ULL);
	cr_assert_eq(m.exts, MIP4_HAS_NAI | MIP4_HAS_ENCAP_DELIVERY);
	cr_assert_eq(m.exts_late, 0);
	cr_assert_eq(m.nai_len, 8);
	cr_assert_eq(memcmp(m.nai, "mn1@roam", 8), 0);
	cr_assert_eq(m.auth[MIP4_AUTH_MN_HA].covered, 42);

	cr_assert_eq(mip4_msg_decode(v_rrq_relayed, sizeof(v_rrq_relayed), &m), 0);
	cr_assert_eq(m.gfa_addr.s_addr, inet_addr("198.51.100.1"));
	cr_assert_eq(m.hier_fa.s_addr, inet_addr("192.0.2.20"));
	cr_assert_eq(m.exts_late, MIP4_HAS_GFA_ADDR | MIP4_HAS_HIER_FA);

	cr_assert_eq(mip4_msg_decode(v_ro_update_noid, sizeof(v_ro_update_noid), &m), 0);
	cr_assert_eq(m.has_id, 0);
	cr_assert_eq(m.lifetime, 0);
	cr_assert_eq(mip4_msg_decode(v_ro_update, sizeof(v_ro_update), &m), 0);
	cr_assert_eq(m.flags, MIP4_BU_A | MIP4_BU_I);
	cr_assert_eq(m.has_id, 1);
	cr_assert_eq(mip4_msg_decode(v_ro_warning, sizeof(v_ro_warning), &m), 0);
	cr_assert_eq(m.target.s_addr, inet_addr("10.1.0.77"));
	cr_assert_eq(mip4_msg_decode(v_rrp_133, sizeof(v_rrp_133), &m), 0);
	cr_assert_eq(m.code, MIP4_CODE_HA_ID_MISMATCH);
	cr_assert_eq(mip4_code_accepted(m.code), 0);
}

/* What a mobile does: fill the struct, encode, append the MN-HA authenticator. */
Test(mip4_codec, build_request_like_mnd)
{
	struct mip4_msg m;
	struct wbuf w;
	struct roam_key k = key_of(HM, "mn-ha-secret-key");

	memset(&m, 0, sizeof(m));
	m.type = MIP4_MSG_REG_REQUEST;
	m.flags = MIP4_REQ_T;
	m.lifetime = 300;
	m.home.s_addr = inet_addr("10.1.0.5");
	m.ha.s_addr = inet_addr("10.1.0.1");
	m.coa.s_addr = inet_addr("192.0.2.10");
	m.id = 0xE8A1B2C312345678ULL;
	m.exts = MIP4_HAS_NAI | MIP4_HAS_ENCAP_DELIVERY;
	m.nai = (const uint8_t *)"mn1@roam";
	m.nai_len = 8;
	wbuf_init(&w);
	wbuf_put_bytes(&w, "xyz", 3); /* the message need not start the buffer */
	cr_assert_eq(mip4_msg_encode(&w, &m), 0);
	cr_assert_eq(mip4_auth_append(&w, 3, MIP4_AUTH_MN_HA, 0x100, &k), 0);
	cr_assert_eq(w.len - 3, sizeof(v_rrq));
	cr_assert_eq(memcmp(w.buf + 3, v_rrq, sizeof(v_rrq)), 0);
	wbuf_free(&w);
}

/* What a foreign agent does when relaying: keep up to MN-HA, add its extensions and FA-HA. */
Test(mip4_codec, relay_like_fad)
{
	struct mip4_msg m;
	struct wbuf w;
	struct roam_key k = key_of(KM, "fa-ha-key");
	size_t keep;
	const uint8_t gfa[] = { 46, 4, 198, 51, 100, 1, 140, 4, 192, 0, 2, 20 };

	cr_assert_eq(mip4_msg_decode(v_rrq_relayed, sizeof(v_rrq_relayed), &m), 0);
	cr_assert_eq(mip4_auth_end(&m, MIP4_AUTH_MN_HA, &keep), 0);
	cr_assert_eq(keep, 46);
	cr_assert_eq(mip4_auth_end(&m, MIP4_AUTH_MN_FA, &keep), -ENOENT);
	mip4_auth_end(&m, MIP4_AUTH_MN_HA, &keep);
	wbuf_init(&w);
	wbuf_put_bytes(&w, v_rrq_relayed, keep);
	wbuf_put_bytes(&w, gfa, sizeof(gfa));
	cr_assert_eq(mip4_auth_append(&w, 0, MIP4_AUTH_FA_HA, 0x200, &k), 0);
	cr_assert_eq(w.len, sizeof(v_rrq_relayed));
	cr_assert_eq(memcmp(w.buf, v_rrq_relayed, w.len), 0);
	wbuf_free(&w);
}

Test(mip4_codec, wrong_authenticator)
{
	uint8_t pkt[sizeof(v_rrq)];
	struct mip4_msg m;
	struct roam_key k = key_of(HM, "mn-ha-secret-key");
	struct roam_key bad = key_of(HM, "mn-ha-secret-kez");
	struct roam_key keyed = key_of(KM, "mn-ha-secret-key");

	cr_assert_eq(mip4_msg_decode(v_rrq, sizeof(v_rrq), &m), 0);
	cr_assert_eq(mip4_auth_verify(v_rrq, &m, MIP4_AUTH_MN_HA, &bad), -EBADMSG);
	/* the same key under the other algorithm of the SA */
	cr_assert_eq(mip4_auth_verify(v_rrq, &m, MIP4_AUTH_MN_HA, &keyed), -EBADMSG);
	cr_assert_eq(mip4_auth_verify(v_rrq, &m, MIP4_AUTH_MN_FA, &k), -ENOENT);
	/* a flipped bit anywhere in the protected part or the MAC */
	for (size_t off = 0; off < sizeof(v_rrq); off++) {
		memcpy(pkt, v_rrq, sizeof(pkt));
		pkt[off] ^= 0x01;
		if (mip4_msg_decode(pkt, sizeof(pkt), &m) != 0)
			continue; /* a flipped type/length byte: malformed, also refused */
		/* -EBADMSG, or -ENOENT when the flip renamed the extension itself */
		cr_assert_neq(mip4_auth_verify(pkt, &m, MIP4_AUTH_MN_HA, &k), 0,
		              "flip at %zu accepted", off);
	}
	/* an FA-HA authenticator from the wrong key (HA answers 132) */
	cr_assert_eq(mip4_msg_decode(v_rrq_relayed, sizeof(v_rrq_relayed), &m), 0);
	cr_assert_eq(mip4_auth_verify(v_rrq_relayed, &m, MIP4_AUTH_FA_HA, &k), -EBADMSG);
}

/* Appends bytes to a copy of a vector and decodes it. */
static int decode_with(const uint8_t *base, size_t blen, const uint8_t *ext, size_t elen,
                       struct mip4_msg *m)
{
	static uint8_t buf[512];
	memcpy(buf, base, blen);
	memcpy(buf + blen, ext, elen);
	return mip4_msg_decode(buf, blen + elen, m);
}

Test(mip4_codec, unknown_extensions)
{
	struct mip4_msg m;
	const uint8_t must[] = { 99, 2, 0xaa, 0xbb };
	const uint8_t skip[] = { 200, 2, 0xaa, 0xbb, 255, 0 };
	const uint8_t mn_aaa[] = { 36, 1, 0, 4, 0, 0, 0, 1 };   /* generalized, subtype MN-AAA */
	const uint8_t cvse[] = { 38, 0, 0, 2, 0, 0 };

	cr_assert_eq(decode_with(v_rrq, 24, must, sizeof(must), &m), -ENOTSUP);
	cr_assert_eq(m.bad_ext, 99);
	cr_assert_eq(decode_with(v_rrq, 24, mn_aaa, sizeof(mn_aaa), &m), -ENOTSUP);
	cr_assert_eq(m.bad_ext, 36);
	cr_assert_eq(decode_with(v_rrq, 24, cvse, sizeof(cvse), &m), -ENOTSUP);
	cr_assert_eq(decode_with(v_rrq, 24, skip, sizeof(skip), &m), 0);
	cr_assert_eq(m.n_skipped, 2);
	/* skippable after the authenticator: still fine, and not covered */
	cr_assert_eq(decode_with(v_rrq, sizeof(v_rrq), skip, sizeof(skip), &m), 0);
	cr_assert_eq(m.n_skipped, 2);
	/* a must-understand unknown one after valid extensions still kills the message */
	cr_assert_eq(decode_with(v_rrq, sizeof(v_rrq), must, sizeof(must), &m), -ENOTSUP);
}

Test(mip4_codec, bad_lengths)
{
	struct mip4_msg m;
	static const struct {
		const char *name;
		uint8_t ext[24];
		size_t len;
	} bad[] = {
		{ "auth shorter than SPI", { 32, 3, 0, 0, 1 }, 5 },
		{ "auth past the end", { 32, 20, 0, 0, 1, 0 }, 6 },
		{ "gen auth shorter than SPI", { 36, 4, 0, 2, 0, 0 }, 6 },
		{ "gen auth past the end", { 36, 4, 0, 30, 0, 0, 0, 1 }, 8 },
		{ "NAI empty", { 131, 0 }, 2 },
		{ "EDS with data", { 130, 1, 0 }, 3 },
		{ "GFA address 5 bytes", { 46, 5, 1, 2, 3, 4, 5 }, 7 },
		{ "HFA address 3 bytes", { 140, 3, 1, 2, 3 }, 5 },
		{ "lone type byte", { 131 }, 1 },
		{ "duplicate NAI", { 131, 1, 'a', 131, 1, 'b' }, 6 },
		{ "duplicate EDS", { 130, 0, 130, 0 }, 4 },
		{ "duplicate MN-HA", { 32, 4, 0, 0, 0, 1, 32, 4, 0, 0, 0, 1 }, 12 },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(decode_with(v_rrq, 24, bad[i].ext, bad[i].len, &m), -EBADMSG, "%s",
		             bad[i].name);
	/* a zero-length authenticator is well-formed but never verifies */
	const uint8_t empty_mac[] = { 32, 4, 0, 0, 1, 0 };
	struct roam_key k = key_of(HM, "mn-ha-secret-key");
	uint8_t buf[64];
	memcpy(buf, v_rrq, 24);
	memcpy(buf + 24, empty_mac, sizeof(empty_mac));
	cr_assert_eq(mip4_msg_decode(buf, 24 + sizeof(empty_mac), &m), 0);
	cr_assert_eq(mip4_auth_verify(buf, &m, MIP4_AUTH_MN_HA, &k), -EBADMSG);
}

Test(mip4_codec, late_extensions_flagged)
{
	struct mip4_msg m;
	const uint8_t nai[] = { 131, 1, 'x' };

	/* an NAI after the MN-HA authenticator is not protected by it */
	cr_assert_eq(decode_with(v_rrq_keyed, sizeof(v_rrq_keyed), nai, sizeof(nai), &m), 0);
	cr_assert_eq(m.exts_late, MIP4_HAS_NAI);
}

Test(mip4_codec, unknown_type_and_encode_errors)
{
	struct mip4_msg m;
	const uint8_t revocation[] = { 7, 0, 0, 0 };
	struct wbuf w;

	cr_assert_eq(mip4_msg_decode(revocation, sizeof(revocation), &m), -EPROTONOSUPPORT);
	cr_assert_eq(m.type, 7);
	cr_assert_eq(mip4_msg_decode(revocation, 0, &m), -EBADMSG);
	memset(&m, 0, sizeof(m));
	m.type = 2;
	wbuf_init(&w);
	cr_assert_eq(mip4_msg_encode(&w, &m), -EINVAL);
	m.type = MIP4_MSG_REG_REQUEST;
	m.exts = MIP4_HAS_NAI; /* NAI flagged but empty */
	cr_assert_eq(mip4_msg_encode(&w, &m), -EINVAL);
	wbuf_free(&w);
	cr_assert_str_eq(mip4_msg_name(MIP4_MSG_FBU), "Fast Binding Update");
	cr_assert_str_eq(mip4_code_name(133), "HA: registration Identification mismatch");
	cr_assert_eq(mip4_msg_layout(MIP4_MSG_REGIONAL_REQUEST), MIP4_LAYOUT_REQUEST);
	cr_assert_eq(mip4_msg_layout(22), MIP4_LAYOUT_NONE);
}

/* ---- Identification (RFC 5944 5.7) ---- */

#define NTP_S(s) ((uint64_t)(s) << 32)

Test(mip4_ident, tolerance_edges)
{
	uint64_t now = NTP_S(3900000000u) + 0x80000000u;

	cr_assert_eq(mip4_id_check(now, now, 7), 0);
	cr_assert_eq(mip4_id_check(now + NTP_S(7), now, 7), 0);
	cr_assert_eq(mip4_id_check(now - NTP_S(7), now, 7), 0);
	cr_assert_eq(mip4_id_check(now + NTP_S(7) + 1, now, 7), -ERANGE);
	cr_assert_eq(mip4_id_check(now - NTP_S(7) - 1, now, 7), -ERANGE);
	cr_assert_eq(mip4_id_check(0, now, MIP4_ID_TOLERANCE_S), -ERANGE);
	cr_assert_eq(mip4_id_check(now, now, 0), 0);
	cr_assert_eq(mip4_id_check(now + 1, now, 0), -ERANGE);
}

/* The vector rows v_rrq (request) and v_rrp_133 (reply) form one resync exchange. */
Test(mip4_ident, resync_133)
{
	uint64_t req = 0xE8A1B2C312345678ULL;
	uint64_t ha_now = NTP_S(0xE8A1B2D0u) + 0x11111111u; /* HA is 13 s ahead */
	uint64_t reply = mip4_id_resync(req, ha_now);
	struct mip4_msg m;
	int64_t off;

	cr_assert_eq(reply, 0xE8A1B2D012345678ULL);
	cr_assert_eq(mip4_msg_decode(v_rrp_133, sizeof(v_rrp_133), &m), 0);
	cr_assert_eq(m.id, reply);
	cr_assert_eq(mip4_id_match(reply, req), 1);
	cr_assert_eq(mip4_id_check(req, ha_now, 7), -ERANGE);
	off = mip4_id_resync_offset(reply, req);
	cr_assert_eq(off, (int64_t)NTP_S(13));
	/* the mobile's next identification, corrected, is within the HA's tolerance */
	uint64_t mn_ms = auth_ntp_to_unix_ms(req);
	uint64_t next = mip4_id_next(mn_ms + 200, off, req);
	cr_assert_eq(mip4_id_check(next, ha_now + NTP_S(1), 7), 0);
	/* a HA behind the mobile gives a negative offset */
	off = mip4_id_resync_offset(mip4_id_resync(req, NTP_S(0xE8A1B2C0u)), req);
	cr_assert_eq(off, -(int64_t)NTP_S(3));
}

Test(mip4_ident, dereg_reply_identification)
{
	uint64_t req = 0xE8A1B2C312345678ULL;
	uint64_t d = mip4_id_dereg(req);
	struct mip4_msg m;

	cr_assert_eq(d, 0xE8A1B2C312345679ULL);
	cr_assert_neq(d, req);
	cr_assert_eq(mip4_id_match(d, req), 2);
	cr_assert_eq(mip4_id_match(req, req), 1);
	cr_assert_eq(mip4_id_match(req + 2, req), 0);
	cr_assert_eq(mip4_msg_decode(v_rrp_dereg, sizeof(v_rrp_dereg), &m), 0);
	cr_assert_eq(m.lifetime, 0);
	cr_assert_eq(mip4_id_match(m.id, req), 2);
	/* low word wraps without touching the seconds */
	cr_assert_eq(mip4_id_dereg(0x00000005ffffffffULL), 0x0000000500000000ULL);
}

Test(mip4_ident, next_is_monotonic_and_skips_dereg)
{
	uint64_t t = 1700000000000ULL;
	uint64_t a = mip4_id_next(t, 0, 0);
	uint64_t b = mip4_id_next(t, 0, a);   /* same millisecond */
	uint64_t c = mip4_id_next(t - 5000, 0, b); /* clock stepped back */

	cr_assert_eq(a, auth_ntp_from_unix_ms(t));
	cr_assert_geq(b, a + 2);
	cr_assert_neq(b, mip4_id_dereg(a));
	cr_assert_geq(c, b + 2);
	cr_assert_neq((mip4_id_next(t, 0, 0xfffffffdULL) & 0xffffffffULL), 0xffffffffULL);
}

/* ---- Agent Advertisement / Solicitation ---- */

Test(mip4_adv, vector_roundtrip)
{
	struct mip4_adv a;
	struct wbuf w;

	cr_assert_eq(mip4_adv_decode(v_adv, sizeof(v_adv), &a), 0);
	cr_assert_eq(a.code, MIP4_ADV_CODE_MOBILE_ONLY);
	cr_assert_eq(a.lifetime, 1800);
	cr_assert_eq(a.n_routers, 1);
	cr_assert_eq(a.routers[0].addr.s_addr, inet_addr("192.0.2.1"));
	cr_assert_eq(a.has_ma, 1);
	cr_assert_eq(a.seq, 7);
	cr_assert_eq(a.reg_lifetime, 600);
	cr_assert_eq(a.flags, MIP4_MA_F | MIP4_MA_T | MIP4_MA_I);
	cr_assert_eq(a.n_coa, 1);
	cr_assert_eq(a.coa[0].s_addr, inet_addr("192.0.2.1"));
	cr_assert_eq(a.n_pad, 1);
	cr_assert_eq(a.n_prefix, 1);
	cr_assert_eq(a.prefix_len[0], 24);

	/* re-encoded without the padding byte: same content, valid checksum */
	wbuf_init(&w);
	cr_assert_eq(mip4_adv_encode(&w, &a), 0);
	cr_assert_eq(w.len, sizeof(v_adv) - 1);
	cr_assert_eq(roam_icmp4_cksum(w.buf, w.len), 0);
	cr_assert_eq(memcmp(w.buf + 4, v_adv + 4, 24), 0);
	cr_assert_eq(memcmp(w.buf + 28, v_adv + 29, 3), 0);
	struct mip4_adv b;
	cr_assert_eq(mip4_adv_decode(w.buf, w.len, &b), 0);
	cr_assert_eq(b.flags, a.flags);
	wbuf_free(&w);
}

Test(mip4_adv, truncated_at_every_offset)
{
	struct mip4_adv a;

	for (size_t off = 0; off < sizeof(v_adv); off++)
		cr_assert_eq(mip4_adv_decode(v_adv, off, &a), -EBADMSG, "cut at %zu", off);
}

/* Copies v_adv, appends ext, fixes the checksum and decodes. */
static int adv_with(const uint8_t *ext, size_t elen, struct mip4_adv *a)
{
	uint8_t buf[128];
	size_t n = sizeof(v_adv);

	memcpy(buf, v_adv, n);
	memcpy(buf + n, ext, elen);
	buf[2] = buf[3] = 0;
	uint16_t c = roam_icmp4_cksum(buf, n + elen);
	buf[2] = (uint8_t)(c >> 8);
	buf[3] = (uint8_t)c;
	return mip4_adv_decode(buf, n + elen, a);
}

Test(mip4_adv, extensions_and_errors)
{
	struct mip4_adv a;
	uint8_t bad[sizeof(v_adv)];
	const uint8_t skip[] = { 200, 1, 0 };
	const uint8_t must[] = { 24, 1, 0 }; /* RFC 3012 challenge: not supported */
	const uint8_t dup_ma[] = { 16, 6, 0, 1, 0, 1, 0, 0 };
	const uint8_t trunc[] = { 200, 5, 0 };

	cr_assert_eq(adv_with(skip, sizeof(skip), &a), 0);
	cr_assert_eq(a.n_skipped, 1);
	cr_assert_eq(adv_with(must, sizeof(must), &a), -ENOTSUP);
	cr_assert_eq(adv_with(dup_ma, sizeof(dup_ma), &a), -EBADMSG);
	cr_assert_eq(adv_with(trunc, sizeof(trunc), &a), -EBADMSG);
	memcpy(bad, v_adv, sizeof(bad));
	bad[9] ^= 1; /* checksum no longer matches */
	cr_assert_eq(mip4_adv_decode(bad, sizeof(bad), &a), -EBADMSG);
	memcpy(bad, v_adv, sizeof(bad));
	bad[0] = 10;
	cr_assert_eq(mip4_adv_decode(bad, sizeof(bad), &a), -EPROTONOSUPPORT);

	/* MA length not 6 + 4n, entry size != 2: built by encode then patched */
	struct mip4_adv e;
	struct wbuf w;
	memset(&e, 0, sizeof(e));
	e.has_ma = 1;
	e.n_coa = 1;
	e.flags = MIP4_MA_F | MIP4_MA_r; /* reserved bit is not sent */
	wbuf_init(&w);
	cr_assert_eq(mip4_adv_encode(&w, &e), 0);
	cr_assert_eq(mip4_adv_decode(w.buf, w.len, &a), 0);
	cr_assert_eq(a.flags, MIP4_MA_F);
	w.buf[5] = 3; /* entry size */
	w.buf[2] = w.buf[3] = 0;
	uint16_t c = roam_icmp4_cksum(w.buf, w.len);
	w.buf[2] = (uint8_t)(c >> 8);
	w.buf[3] = (uint8_t)c;
	cr_assert_eq(mip4_adv_decode(w.buf, w.len, &a), -EBADMSG);
	e.n_prefix = 1; /* prefix lengths count must equal the router count (0) */
	wbuf_reset(&w);
	cr_assert_eq(mip4_adv_encode(&w, &e), 0);
	cr_assert_eq(mip4_adv_decode(w.buf, w.len, &a), -EBADMSG);
	e.n_coa = MIP4_ADV_MAX_COA + 1;
	cr_assert_eq(mip4_adv_encode(&w, &e), -EINVAL);
	wbuf_free(&w);
}

Test(mip4_adv, solicitation)
{
	struct wbuf w;
	uint8_t bad[8];

	cr_assert_eq(mip4_sol_decode(v_sol, sizeof(v_sol)), 0);
	wbuf_init(&w);
	cr_assert_eq(mip4_sol_encode(&w), 0);
	cr_assert_eq(w.len, sizeof(v_sol));
	cr_assert_eq(memcmp(w.buf, v_sol, sizeof(v_sol)), 0);
	wbuf_free(&w);
	for (size_t off = 0; off < sizeof(v_sol); off++)
		cr_assert_eq(mip4_sol_decode(v_sol, off), -EBADMSG);
	memcpy(bad, v_sol, 8);
	bad[1] = 1;
	cr_assert_eq(mip4_sol_decode(bad, 8), -EBADMSG);
	cr_assert_eq(mip4_sol_decode(v_adv, sizeof(v_adv)), -EPROTONOSUPPORT);
}
