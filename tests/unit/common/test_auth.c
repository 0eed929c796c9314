/* Unit tests for roam/auth.h: RFC 4231 (HMAC-SHA256) and RFC 2202 (HMAC-MD5) vectors,
 * keyed MD5, digests, incremental/iovec MACs, and both replay protections on a fake clock. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "roam/auth.h"

static size_t
unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = strlen(hex) / 2;
	cr_assert(n <= cap);
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		cr_assert(sscanf(hex + 2 * i, "%2x", &v) == 1);
		out[i] = (uint8_t)v;
	}
	return n;
}

struct mac_vec {
	const char *name;
	uint8_t key_byte; /* key = key_byte * key_len, unless key_str / key_seq */
	size_t key_len;
	const char *key_str;
	int key_seq; /* key = 0x01..0x19 */
	uint8_t data_byte;
	size_t data_len;
	const char *data_str;
	const char *expect; /* hex; may be a truncated prefix (test case 5) */
};

static size_t
vec_key(const struct mac_vec *v, uint8_t *k)
{
	if (v->key_str != NULL) {
		memcpy(k, v->key_str, strlen(v->key_str));
		return strlen(v->key_str);
	}
	if (v->key_seq) {
		for (int i = 0; i < 25; i++)
			k[i] = (uint8_t)(i + 1);
		return 25;
	}
	memset(k, v->key_byte, v->key_len);
	return v->key_len;
}

static size_t
vec_data(const struct mac_vec *v, uint8_t *d)
{
	if (v->data_str != NULL) {
		memcpy(d, v->data_str, strlen(v->data_str));
		return strlen(v->data_str);
	}
	memset(d, v->data_byte, v->data_len);
	return v->data_len;
}

static const char long_data7[] =
	"This is a test using a larger than block-size key and a larger than block-size data. "
	"The key needs to be hashed before being used by the HMAC algorithm.";

/* RFC 4231 section 4 */
static const struct mac_vec rfc4231[] = {
	{ "tc1", 0x0b, 20, NULL, 0, 0, 0, "Hi There",
	  "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
	{ "tc2", 0, 0, "Jefe", 0, 0, 0, "what do ya want for nothing?",
	  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
	{ "tc3", 0xaa, 20, NULL, 0, 0xdd, 50, NULL,
	  "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe" },
	{ "tc4", 0, 0, NULL, 1, 0xcd, 50, NULL,
	  "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b" },
	{ "tc5", 0x0c, 20, NULL, 0, 0, 0, "Test With Truncation", "a3b6167473100ee06e0c796c2955552b" },
	{ "tc6", 0xaa, 131, NULL, 0, 0, 0, "Test Using Larger Than Block-Size Key - Hash Key First",
	  "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
	{ "tc7", 0xaa, 131, NULL, 0, 0, 0, long_data7,
	  "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2" },
};

/* RFC 2202 section 2 */
static const struct mac_vec rfc2202[] = {
	{ "tc1", 0x0b, 16, NULL, 0, 0, 0, "Hi There", "9294727a3638bb1c13f48ef8158bfc9d" },
	{ "tc2", 0, 0, "Jefe", 0, 0, 0, "what do ya want for nothing?",
	  "750c783e6ab0b503eaa86e310a5db738" },
	{ "tc3", 0xaa, 16, NULL, 0, 0xdd, 50, NULL, "56be34521d144c88dbb8c733f0e8b3f6" },
	{ "tc4", 0, 0, NULL, 1, 0xcd, 50, NULL, "697eaf0aca3a3aea3a75164746ffaa79" },
	{ "tc5", 0x0c, 16, NULL, 0, 0, 0, "Test With Truncation", "56461ef2342edc00f9bab995690efd4c" },
	{ "tc6", 0xaa, 80, NULL, 0, 0, 0, "Test Using Larger Than Block-Size Key - Hash Key First",
	  "6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd" },
	{ "tc7", 0xaa, 80, NULL, 0, 0, 0,
	  "Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data",
	  "6f630fad67cda0ee1fb1f562db3aa53e" },
};

Test(auth, hmac_sha256_rfc4231)
{
	for (size_t i = 0; i < sizeof(rfc4231) / sizeof(rfc4231[0]); i++) {
		const struct mac_vec *v = &rfc4231[i];
		uint8_t key[200], data[200], exp[32], out[32];
		size_t kl = vec_key(v, key), dl = vec_data(v, data);
		size_t el = unhex(v->expect, exp, sizeof(exp));
		cr_assert_eq(auth_hmac_sha256(key, kl, data, dl, out), 0, "%s", v->name);
		cr_assert(memcmp(out, exp, el) == 0, "RFC 4231 %s mismatch", v->name);

		/* the same through a roam_key, one byte at a time, and verify */
		if (kl <= AUTH_KEY_MAX) {
			struct roam_key k;
			struct auth_ctx c;
			uint8_t out2[AUTH_MAC_MAX];
			cr_assert_eq(auth_key_set(&k, AUTH_ALG_HMAC_SHA256, key, kl), 0);
			cr_assert_eq(auth_init(&c, &k), 0);
			for (size_t j = 0; j < dl; j++)
				cr_assert_eq(auth_update(&c, data + j, 1), 0);
			cr_assert_eq(auth_final(&c, out2), 0);
			cr_assert(memcmp(out2, out, 32) == 0, "%s incremental", v->name);
			cr_assert_eq(auth_mac_verify(&k, data, dl, out, 32), 0);
		}
	}
}

Test(auth, hmac_md5_rfc2202)
{
	for (size_t i = 0; i < sizeof(rfc2202) / sizeof(rfc2202[0]); i++) {
		const struct mac_vec *v = &rfc2202[i];
		uint8_t key[200], data[200], exp[16], out[16];
		size_t kl = vec_key(v, key), dl = vec_data(v, data);
		size_t el = unhex(v->expect, exp, sizeof(exp));
		cr_assert_eq(el, 16);
		cr_assert_eq(auth_hmac_md5(key, kl, data, dl, out), 0, "%s", v->name);
		cr_assert(memcmp(out, exp, 16) == 0, "RFC 2202 %s mismatch", v->name);
	}
}

Test(auth, keyed_md5_prefix_suffix)
{
	/* MD5(key || data || key), computed independently (Python hashlib). */
	const char *key = "roam-keyed-md5-secret";
	const uint8_t data[] = "registration request bytes \x00\x01\x02";
	uint8_t exp[16], out[16];
	unhex("9c6e579b99b2bbe393384c7b67b59303", exp, sizeof(exp));
	cr_assert_eq(auth_keyed_md5(key, strlen(key), data, sizeof(data) - 1, out), 0);
	cr_assert(memcmp(out, exp, 16) == 0);

	/* and through a key + iovec split at an odd place */
	struct roam_key k;
	struct iovec iov[3] = { { (void *)data, 5 }, { (void *)(data + 5), 0 },
	                        { (void *)(data + 5), sizeof(data) - 1 - 5 } };
	uint8_t out2[AUTH_MAC_MAX];
	cr_assert_eq(auth_key_set(&k, AUTH_ALG_KEYED_MD5, key, strlen(key)), 0);
	cr_assert_eq(auth_mac_iov(&k, iov, 3, out2), 0);
	cr_assert(memcmp(out2, exp, 16) == 0);
	cr_assert_eq(auth_mac_verify_iov(&k, iov, 3, exp, 16), 0);
	exp[15] ^= 1;
	cr_assert_eq(auth_mac_verify_iov(&k, iov, 3, exp, 16), -EBADMSG);
	/* keyed MD5 is not HMAC-MD5 */
	uint8_t h[16];
	cr_assert_eq(auth_hmac_md5(key, strlen(key), data, sizeof(data) - 1, h), 0);
	cr_assert(memcmp(h, out, 16) != 0);
}

Test(auth, digests)
{
	uint8_t out[32], exp[32];
	cr_assert_eq(auth_md5("", 0, out), 0);
	unhex("d41d8cd98f00b204e9800998ecf8427e", exp, 16);
	cr_assert(memcmp(out, exp, 16) == 0);
	cr_assert_eq(auth_md5("abc", 3, out), 0);
	unhex("900150983cd24fb0d6963f7d28e17f72", exp, 16);
	cr_assert(memcmp(out, exp, 16) == 0);
	cr_assert_eq(auth_sha256("abc", 3, out), 0);
	unhex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", exp, 32);
	cr_assert(memcmp(out, exp, 32) == 0);
	cr_assert_eq(auth_sha256(NULL, 0, out), 0);
	cr_assert_eq(auth_sha256(NULL, 1, out), -EINVAL);
}

Test(auth, verify_rejects)
{
	struct roam_key k;
	uint8_t mac[AUTH_MAC_MAX];
	const char *msg = "header+extensions";
	cr_assert_eq(auth_key_from_hex(&k, AUTH_ALG_HMAC_SHA256, "0x00112233445566778899aabbccddeeff"), 0);
	cr_assert_eq(k.len, 16);
	cr_assert_eq(auth_mac(&k, msg, strlen(msg), mac), 0);
	cr_assert_eq(auth_mac_verify(&k, msg, strlen(msg), mac, 32), 0);
	cr_assert_eq(auth_mac_verify(&k, msg, strlen(msg), mac, 16), -EBADMSG); /* truncated */
	cr_assert_eq(auth_mac_verify(&k, msg, strlen(msg) - 1, mac, 32), -EBADMSG);
	mac[0] ^= 0x80;
	cr_assert_eq(auth_mac_verify(&k, msg, strlen(msg), mac, 32), -EBADMSG);
	mac[0] ^= 0x80;
	struct roam_key k2 = k;
	k2.bytes[3] ^= 1;
	cr_assert_eq(auth_mac_verify(&k2, msg, strlen(msg), mac, 32), -EBADMSG); /* wrong key */
	k2.alg = AUTH_ALG_NONE;
	cr_assert_eq(auth_mac(&k2, msg, 3, mac), -EINVAL);
}

Test(auth, keys_and_names)
{
	struct roam_key k;
	enum auth_alg a;
	cr_assert_eq(auth_key_from_hex(&k, AUTH_ALG_HMAC_MD5, "abc"), -EINVAL);   /* odd */
	cr_assert_eq(auth_key_from_hex(&k, AUTH_ALG_HMAC_MD5, "zz"), -EINVAL);    /* not hex */
	cr_assert_eq(auth_key_from_hex(&k, AUTH_ALG_HMAC_MD5, ""), -EINVAL);
	char big[2 * AUTH_KEY_MAX + 3];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cr_assert_eq(auth_key_from_hex(&k, AUTH_ALG_HMAC_MD5, big), -EINVAL);     /* too long */
	big[2 * AUTH_KEY_MAX] = '\0';
	cr_assert_eq(auth_key_from_hex(&k, AUTH_ALG_HMAC_MD5, big), 0);
	cr_assert_eq(k.len, AUTH_KEY_MAX);
	cr_assert_eq(k.bytes[0], 0xaa);
	auth_key_wipe(&k);
	cr_assert_eq(k.len, 0);
	cr_assert_eq(auth_key_set(&k, AUTH_ALG_NONE, "x", 1), -EINVAL);
	cr_assert_eq(auth_alg_parse("hmac-sha256", &a), 0);
	cr_assert_eq(a, AUTH_ALG_HMAC_SHA256);
	cr_assert_eq(auth_alg_parse("keyed-md5", &a), 0);
	cr_assert_eq(a, AUTH_ALG_KEYED_MD5);
	cr_assert_eq(auth_alg_parse("sha1", &a), -EINVAL);
	cr_assert_str_eq(auth_alg_name(AUTH_ALG_HMAC_MD5), "hmac-md5");
	cr_assert_eq(auth_mac_len(AUTH_ALG_HMAC_SHA256), 32);
	cr_assert_eq(auth_mac_len(AUTH_ALG_KEYED_MD5), 16);
	cr_assert_eq(auth_mac_len(AUTH_ALG_NONE), 0);
}

Test(auth, ctx_abort_and_misuse)
{
	struct roam_key k;
	struct auth_ctx c;
	uint8_t out[AUTH_MAC_MAX];
	cr_assert_eq(auth_key_set(&k, AUTH_ALG_KEYED_MD5, "key", 3), 0);
	cr_assert_eq(auth_init(&c, &k), 0);
	cr_assert_eq(auth_update(&c, "abc", 3), 0);
	auth_abort(&c);
	auth_abort(&c); /* twice is safe */
	cr_assert_eq(auth_update(&c, "abc", 3), -EINVAL);
	cr_assert_eq(auth_final(&c, out), -EINVAL);
	k.len = 0;
	cr_assert_eq(auth_init(&c, &k), -EINVAL);
}

Test(auth, equal_and_random)
{
	uint8_t a[32], b[32];
	cr_assert_eq(auth_random(a, sizeof(a)), 0);
	cr_assert_eq(auth_random(b, sizeof(b)), 0);
	cr_assert(!auth_equal(a, b, sizeof(a))); /* 2^-256 */
	memcpy(b, a, sizeof(a));
	cr_assert(auth_equal(a, b, sizeof(a)));
	b[31] ^= 1;
	cr_assert(!auth_equal(a, b, sizeof(a)));
	cr_assert(auth_equal(a, b, 31));
}

/* ---- sequence window ---- */

Test(replay_seq, in_order_duplicate_old)
{
	struct replay_seq r;
	replay_seq_init(&r, 0);
	cr_assert_eq(replay_seq_check(&r, 1000), 0); /* first: anything */
	for (uint64_t s = 1000; s < 1300; s++) {
		cr_assert_eq(replay_seq_check(&r, s), 0, "seq %lu", (unsigned long)s);
		cr_assert_eq(replay_seq_commit(&r, s), 0);
		cr_assert_eq(replay_seq_check(&r, s), -EALREADY);
		cr_assert_eq(replay_seq_commit(&r, s), -EALREADY);
	}
	/* top = 1299; window = 1299-127 .. 1299 */
	cr_assert_eq(replay_seq_check(&r, 1299 - 127), -EALREADY);
	cr_assert_eq(replay_seq_check(&r, 1299 - 128), -ESTALE);
	cr_assert_eq(replay_seq_check(&r, 0), -ESTALE);
}

Test(replay_seq, reordering_inside_window)
{
	struct replay_seq r;
	replay_seq_init(&r, 0);
	cr_assert_eq(replay_seq_commit(&r, 10), 0);
	cr_assert_eq(replay_seq_commit(&r, 200), 0); /* jump: 10 falls out (200-10 > 127) */
	cr_assert_eq(replay_seq_check(&r, 10), -ESTALE);
	cr_assert_eq(replay_seq_check(&r, 73), 0);    /* 200-127: still inside */
	cr_assert_eq(replay_seq_check(&r, 72), -ESTALE);
	cr_assert_eq(replay_seq_commit(&r, 150), 0);
	cr_assert_eq(replay_seq_commit(&r, 73), 0);
	cr_assert_eq(replay_seq_commit(&r, 150), -EALREADY);
	cr_assert_eq(replay_seq_commit(&r, 73), -EALREADY);
	cr_assert_eq(replay_seq_check(&r, 151), 0);
	/* advance by 64 exactly (word-boundary shift) and by 65: bits follow */
	cr_assert_eq(replay_seq_commit(&r, 264), 0);
	cr_assert_eq(replay_seq_check(&r, 200), -EALREADY);
	cr_assert_eq(replay_seq_check(&r, 150), -EALREADY);
	cr_assert_eq(replay_seq_check(&r, 151), 0);
	cr_assert_eq(replay_seq_commit(&r, 329), 0);
	cr_assert_eq(replay_seq_check(&r, 264), -EALREADY);
	cr_assert_eq(replay_seq_check(&r, 200), -ESTALE); /* 329-200 = 129 > 127 */
	cr_assert_eq(replay_seq_check(&r, 202), 0);          /* inside, never seen */
	cr_assert_eq(replay_seq_check(&r, 329 - 127), 0);
}

Test(replay_seq, window_edges_exhaustive)
{
	/* Commit a random-looking subset, then compare every check with a reference model. */
	struct replay_seq r;
	static uint8_t seen[2000];
	uint64_t top = 0;
	int started = 0;
	replay_seq_init(&r, 0);
	memset(seen, 0, sizeof(seen));
	for (uint64_t i = 0; i < 5000; i++) {
		uint64_t s = (i * 7919) % 1999 / 2 + i / 3; /* wanders forward with jitter */
		if (s >= 2000)
			continue;
		int exp;
		if (!started)
			exp = 0;
		else if (s > top)
			exp = 0;
		else if (top - s >= REPLAY_SEQ_WINDOW)
			exp = -ESTALE;
		else
			exp = seen[s] ? -EALREADY : 0;
		cr_assert_eq(replay_seq_commit(&r, s), exp, "seq %lu top %lu", (unsigned long)s,
		             (unsigned long)top);
		if (exp == 0) {
			seen[s] = 1;
			if (!started || s > top)
				top = s;
			started = 1;
		}
	}
}

Test(replay_seq, far_ahead)
{
	struct replay_seq r;
	replay_seq_init(&r, 0);
	cr_assert_eq(replay_seq_commit(&r, 5), 0);
	cr_assert_eq(replay_seq_check(&r, UINT64_MAX), 0); /* IPsec: any jump is fine */

	replay_seq_init(&r, 1000);
	cr_assert_eq(replay_seq_commit(&r, 5), 0);
	cr_assert_eq(replay_seq_check(&r, 1005), 0);
	cr_assert_eq(replay_seq_check(&r, 1006), -ERANGE);
	cr_assert_eq(replay_seq_commit(&r, 1006), -ERANGE);
	cr_assert_eq(replay_seq_check(&r, 6), 0); /* nothing moved */
}

Test(replay_seq, check_without_commit_does_not_advance)
{
	struct replay_seq r;
	replay_seq_init(&r, 0);
	cr_assert_eq(replay_seq_commit(&r, 100), 0);
	/* A forged packet with a huge sequence number passes check, fails its MAC, is never
	 * committed: the window stays where it was and old numbers remain acceptable. */
	cr_assert_eq(replay_seq_check(&r, 1000000), 0);
	cr_assert_eq(replay_seq_check(&r, 1000000), 0);
	cr_assert_eq(replay_seq_check(&r, 99), 0);
	cr_assert_eq(replay_seq_check(&r, 100), -EALREADY);
	cr_assert_eq(r.top, 100);
	/* a fresh state: check alone does not start it */
	struct replay_seq z;
	replay_seq_init(&z, 0);
	cr_assert_eq(replay_seq_check(&z, 50), 0);
	cr_assert_eq(replay_seq_check(&z, 50), 0);
	cr_assert_eq(z.started, 0);
}

/* ---- timestamps ---- */

Test(replay_ts, tolerance_edges)
{
	struct replay_ts r;
	const uint64_t now = 1700000000000ULL;
	replay_ts_init(&r, 7000, 1);
	cr_assert_eq(replay_ts_check(&r, now - 7000, now), 0);
	cr_assert_eq(replay_ts_check(&r, now + 7000, now), 0);
	cr_assert_eq(replay_ts_check(&r, now - 7001, now), -ERANGE);
	cr_assert_eq(replay_ts_check(&r, now + 7001, now), -ERANGE);
	cr_assert_eq(replay_ts_commit(&r, now + 7001, now), -ERANGE);
	cr_assert_eq(r.used, 0);
	/* near 0 and near the top of the range: no wrap-around */
	cr_assert_eq(replay_ts_check(&r, UINT64_MAX, 5), -ERANGE);
	cr_assert_eq(replay_ts_check(&r, 3, UINT64_MAX), -ERANGE);
}

Test(replay_ts, strict_replay)
{
	struct replay_ts r;
	uint64_t now = 1000000;
	replay_ts_init(&r, 5000, 1);
	cr_assert_eq(replay_ts_commit(&r, now, now), 0);
	cr_assert_eq(replay_ts_check(&r, now, now), -EALREADY);
	cr_assert_eq(replay_ts_check(&r, now - 1, now), -ESTALE);
	cr_assert_eq(replay_ts_check(&r, now + 1, now), 0);
	/* check without commit changes nothing */
	cr_assert_eq(replay_ts_check(&r, now + 4000, now), 0);
	cr_assert_eq(replay_ts_check(&r, now + 1, now), 0);
	cr_assert_eq(replay_ts_commit(&r, now + 10, now + 5), 0);
	cr_assert_eq(replay_ts_check(&r, now + 9, now + 5), -ESTALE);
	/* a replay later, still inside the tolerance, stays refused */
	cr_assert_eq(replay_ts_check(&r, now + 10, now + 4000), -EALREADY);
	/* reset after a key change: accepted again */
	replay_ts_reset(&r);
	cr_assert_eq(replay_ts_check(&r, now + 9, now + 5), 0);
}

Test(replay_ts, reordering)
{
	struct replay_ts r;
	uint64_t now = 50000;
	replay_ts_init(&r, 10000, 4);
	/* 100, 103, 101, 104, 102 arrive; each once */
	uint64_t seq[] = { 100, 103, 101, 104, 102 };
	for (size_t i = 0; i < 5; i++)
		cr_assert_eq(replay_ts_commit(&r, now + seq[i], now), 0, "ts %lu", (unsigned long)seq[i]);
	for (size_t i = 0; i < 5; i++) {
		int rc = replay_ts_check(&r, now + seq[i], now);
		cr_assert(rc == -EALREADY || rc == -ESTALE, "replay of %lu accepted",
		          (unsigned long)seq[i]);
	}
	/* remembered: 101..104 (100 evicted); 100 is older than all: stale, 99 too */
	cr_assert_eq(replay_ts_check(&r, now + 100, now), -ESTALE);
	cr_assert_eq(replay_ts_check(&r, now + 99, now), -ESTALE);
	cr_assert_eq(replay_ts_check(&r, now + 105, now), 0);
	/* a late message between remembered ones that was never seen */
	replay_ts_init(&r, 10000, 4);
	cr_assert_eq(replay_ts_commit(&r, now + 10, now), 0);
	cr_assert_eq(replay_ts_commit(&r, now + 30, now), 0);
	cr_assert_eq(replay_ts_check(&r, now + 20, now), 0);
	cr_assert_eq(replay_ts_commit(&r, now + 20, now), 0);
	cr_assert_eq(replay_ts_check(&r, now + 20, now), -EALREADY);
	cr_assert_eq(replay_ts_check(&r, now + 5, now), 0); /* not full yet: never evicted */
	/* slots clamp */
	replay_ts_init(&r, 1, 99);
	cr_assert_eq(r.slots, REPLAY_TS_SLOTS);
	replay_ts_init(&r, 1, 0);
	cr_assert_eq(r.slots, 1);
}

Test(replay_ts, ntp_conversion)
{
	/* 2017-11-14T22:13:20Z = 1510697600 s */
	uint64_t ms = 1510697600000ULL + 500;
	uint64_t ntp = auth_ntp_from_unix_ms(ms);
	cr_assert_eq(ntp >> 32, 1510697600ULL + 2208988800ULL);
	cr_assert_eq(ntp & 0xffffffffULL, 0x80000000ULL); /* half a second */
	cr_assert_eq(auth_ntp_to_unix_ms(ntp), ms);
	for (uint64_t m = 0; m < 3000; m += 7)
		cr_assert_eq(auth_ntp_to_unix_ms(auth_ntp_from_unix_ms(1700000000000ULL + m)),
		             1700000000000ULL + m);
	cr_assert_eq(auth_ntp_to_unix_ms(5ULL << 32), 0); /* 1900: before the Unix epoch */
	cr_assert_eq(auth_ntp_from_unix_ms(0), 2208988800ULL << 32);

	/* raw NTP identifications through the timestamp window, 7 s tolerance */
	struct replay_ts r;
	replay_ts_init(&r, 7ULL << 32, 1);
	uint64_t now = auth_ntp_from_unix_ms(1700000000000ULL);
	cr_assert_eq(replay_ts_commit(&r, now + 1, now), 0);
	cr_assert_eq(replay_ts_check(&r, now + 1, now), -EALREADY);
	cr_assert_eq(replay_ts_check(&r, now + (8ULL << 32), now), -ERANGE);
}
