/* Message authentication and replay protection (see roam/auth.h).
 * HMAC through the OpenSSL 3 EVP_MAC interface, digests through EVP_Digest*; nothing from the
 * deprecated low-level APIs (HMAC_CTX, MD5_Init ...). */
#include "roam/auth.h"

#include <errno.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

/* ---- algorithms and keys ---------------------------------------------------------------- */

static const struct {
	enum auth_alg alg;
	const char *name;
	size_t maclen;
} alg_table[] = {
	{ AUTH_ALG_HMAC_SHA256, "hmac-sha256", AUTH_SHA256_LEN },
	{ AUTH_ALG_HMAC_MD5, "hmac-md5", AUTH_MD5_LEN },
	{ AUTH_ALG_KEYED_MD5, "keyed-md5", AUTH_MD5_LEN },
};
#define N_ALGS (sizeof(alg_table) / sizeof(alg_table[0]))

int
auth_alg_parse(const char *name, enum auth_alg *alg)
{
	if (name == NULL || alg == NULL)
		return -EINVAL;
	for (size_t i = 0; i < N_ALGS; i++) {
		if (strcmp(name, alg_table[i].name) == 0) {
			*alg = alg_table[i].alg;
			return 0;
		}
	}
	return -EINVAL;
}

const char *
auth_alg_name(enum auth_alg alg)
{
	if (alg == AUTH_ALG_NONE)
		return "none";
	for (size_t i = 0; i < N_ALGS; i++)
		if (alg_table[i].alg == alg)
			return alg_table[i].name;
	return "unknown";
}

size_t
auth_mac_len(enum auth_alg alg)
{
	for (size_t i = 0; i < N_ALGS; i++)
		if (alg_table[i].alg == alg)
			return alg_table[i].maclen;
	return 0;
}

static int
key_valid(const struct roam_key *k)
{
	return k != NULL && auth_mac_len(k->alg) != 0 && k->len >= 1 && k->len <= AUTH_KEY_MAX;
}

int
auth_key_set(struct roam_key *k, enum auth_alg alg, const void *bytes, size_t len)
{
	if (k == NULL || auth_mac_len(alg) == 0 || bytes == NULL || len == 0 ||
	    len > AUTH_KEY_MAX)
		return -EINVAL;
	memset(k, 0, sizeof(*k));
	k->alg = alg;
	k->len = (uint8_t)len;
	memcpy(k->bytes, bytes, len);
	return 0;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
auth_key_from_hex(struct roam_key *k, enum auth_alg alg, const char *hex)
{
	uint8_t tmp[AUTH_KEY_MAX];
	size_t n, i;
	int rc;

	if (k == NULL || hex == NULL)
		return -EINVAL;
	if (hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X'))
		hex += 2;
	n = strlen(hex);
	if (n == 0 || n % 2 != 0 || n / 2 > AUTH_KEY_MAX)
		return -EINVAL;
	for (i = 0; i < n / 2; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			OPENSSL_cleanse(tmp, sizeof(tmp));
			return -EINVAL;
		}
		tmp[i] = (uint8_t)(hi << 4 | lo);
	}
	rc = auth_key_set(k, alg, tmp, n / 2);
	OPENSSL_cleanse(tmp, sizeof(tmp));
	return rc;
}

void
auth_key_wipe(struct roam_key *k)
{
	if (k != NULL)
		OPENSSL_cleanse(k, sizeof(*k));
}

/* ---- incremental MAC --------------------------------------------------------------------- */

static const char *
hmac_digest_name(enum auth_alg alg)
{
	switch (alg) {
	case AUTH_ALG_HMAC_SHA256:
		return "SHA256";
	case AUTH_ALG_HMAC_MD5:
		return "MD5";
	default:
		return NULL;
	}
}

/* Starts an HMAC or keyed-MD5 computation with raw key bytes (any length for HMAC). */
static int
ctx_start(struct auth_ctx *c, enum auth_alg alg, const void *key, size_t keylen)
{
	static const uint8_t empty_key[1];

	memset(c, 0, sizeof(*c));
	if (key == NULL && keylen > 0)
		return -EINVAL;
	if (key == NULL)
		key = empty_key;
	if (alg == AUTH_ALG_KEYED_MD5) {
		if (keylen > AUTH_KEY_MAX)
			return -EINVAL;
		EVP_MD_CTX *md = EVP_MD_CTX_new();
		if (md == NULL)
			return -ENOMEM;
		if (EVP_DigestInit_ex(md, EVP_md5(), NULL) != 1 ||
		    EVP_DigestUpdate(md, key, keylen) != 1) {
			EVP_MD_CTX_free(md);
			return -EIO;
		}
		c->md = md;
		c->alg = alg;
		c->key.alg = alg;
		c->key.len = (uint8_t)keylen;
		memcpy(c->key.bytes, key, keylen);
		return 0;
	}
	const char *dname = hmac_digest_name(alg);
	if (dname == NULL)
		return -EINVAL;
	EVP_MAC *mac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);
	if (mac == NULL)
		return -EIO;
	EVP_MAC_CTX *mctx = EVP_MAC_CTX_new(mac);
	EVP_MAC_free(mac); /* the context holds its own reference */
	if (mctx == NULL)
		return -ENOMEM;
	OSSL_PARAM params[2];
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)dname, 0);
	params[1] = OSSL_PARAM_construct_end();
	if (EVP_MAC_init(mctx, key, keylen, params) != 1) {
		EVP_MAC_CTX_free(mctx);
		return -EIO;
	}
	c->mac = mctx;
	c->alg = alg;
	return 0;
}

int
auth_init(struct auth_ctx *c, const struct roam_key *k)
{
	if (c == NULL)
		return -EINVAL;
	if (!key_valid(k)) {
		memset(c, 0, sizeof(*c));
		return -EINVAL;
	}
	return ctx_start(c, k->alg, k->bytes, k->len);
}

int
auth_update(struct auth_ctx *c, const void *data, size_t len)
{
	if (c == NULL || (data == NULL && len > 0))
		return -EINVAL;
	if (len == 0)
		return c->mac != NULL || c->md != NULL ? 0 : -EINVAL;
	if (c->mac != NULL)
		return EVP_MAC_update(c->mac, data, len) == 1 ? 0 : -EIO;
	if (c->md != NULL)
		return EVP_DigestUpdate(c->md, data, len) == 1 ? 0 : -EIO;
	return -EINVAL;
}

int
auth_final(struct auth_ctx *c, uint8_t *out)
{
	int rc = -EINVAL;

	if (c == NULL)
		return -EINVAL;
	if (out == NULL)
		goto done;
	if (c->mac != NULL) {
		size_t outl = 0, want = auth_mac_len(c->alg);
		uint8_t buf[EVP_MAX_MD_SIZE];
		if (EVP_MAC_final(c->mac, buf, &outl, sizeof(buf)) == 1 && outl == want) {
			memcpy(out, buf, want);
			rc = 0;
		} else {
			rc = -EIO;
		}
		OPENSSL_cleanse(buf, sizeof(buf));
	} else if (c->md != NULL) {
		unsigned int outl = 0;
		uint8_t buf[EVP_MAX_MD_SIZE];
		if (EVP_DigestUpdate(c->md, c->key.bytes, c->key.len) == 1 &&
		    EVP_DigestFinal_ex(c->md, buf, &outl) == 1 && outl == AUTH_MD5_LEN) {
			memcpy(out, buf, AUTH_MD5_LEN);
			rc = 0;
		} else {
			rc = -EIO;
		}
		OPENSSL_cleanse(buf, sizeof(buf));
	}
done:
	auth_abort(c);
	return rc;
}

void
auth_abort(struct auth_ctx *c)
{
	if (c == NULL)
		return;
	EVP_MAC_CTX_free(c->mac);
	EVP_MD_CTX_free(c->md);
	c->mac = NULL;
	c->md = NULL;
	OPENSSL_cleanse(&c->key, sizeof(c->key));
	c->alg = AUTH_ALG_NONE;
}

/* ---- one-shot ---------------------------------------------------------------------------- */

static int
mac_raw(enum auth_alg alg, const void *key, size_t keylen, const struct iovec *iov, int iovcnt,
        uint8_t *out)
{
	struct auth_ctx c;
	int rc;

	if (out == NULL || iovcnt < 0 || (iov == NULL && iovcnt > 0))
		return -EINVAL;
	rc = ctx_start(&c, alg, key, keylen);
	if (rc < 0)
		return rc;
	for (int i = 0; i < iovcnt; i++) {
		rc = auth_update(&c, iov[i].iov_base, iov[i].iov_len);
		if (rc < 0) {
			auth_abort(&c);
			return rc;
		}
	}
	return auth_final(&c, out);
}

static int
mac_raw1(enum auth_alg alg, const void *key, size_t keylen, const void *data, size_t len,
         uint8_t *out)
{
	struct iovec iov = { .iov_base = (void *)(uintptr_t)data, .iov_len = len };

	if (data == NULL && len > 0)
		return -EINVAL;
	return mac_raw(alg, key, keylen, &iov, 1, out);
}

int
auth_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
                 uint8_t out[AUTH_SHA256_LEN])
{
	return mac_raw1(AUTH_ALG_HMAC_SHA256, key, keylen, data, len, out);
}

int
auth_hmac_md5(const void *key, size_t keylen, const void *data, size_t len,
              uint8_t out[AUTH_MD5_LEN])
{
	return mac_raw1(AUTH_ALG_HMAC_MD5, key, keylen, data, len, out);
}

int
auth_keyed_md5(const void *key, size_t keylen, const void *data, size_t len,
               uint8_t out[AUTH_MD5_LEN])
{
	return mac_raw1(AUTH_ALG_KEYED_MD5, key, keylen, data, len, out);
}

static int
digest(const EVP_MD *md, size_t want, const void *data, size_t len, uint8_t *out)
{
	unsigned int outl = 0;
	uint8_t buf[EVP_MAX_MD_SIZE];
	static const uint8_t empty[1];

	if (out == NULL || (data == NULL && len > 0))
		return -EINVAL;
	if (data == NULL)
		data = empty;
	if (EVP_Digest(data, len, buf, &outl, md, NULL) != 1 || outl != want)
		return -EIO;
	memcpy(out, buf, want);
	return 0;
}

int
auth_md5(const void *data, size_t len, uint8_t out[AUTH_MD5_LEN])
{
	return digest(EVP_md5(), AUTH_MD5_LEN, data, len, out);
}

int
auth_sha256(const void *data, size_t len, uint8_t out[AUTH_SHA256_LEN])
{
	return digest(EVP_sha256(), AUTH_SHA256_LEN, data, len, out);
}

int
auth_mac(const struct roam_key *k, const void *data, size_t len, uint8_t *out)
{
	if (!key_valid(k))
		return -EINVAL;
	return mac_raw1(k->alg, k->bytes, k->len, data, len, out);
}

int
auth_mac_iov(const struct roam_key *k, const struct iovec *iov, int iovcnt, uint8_t *out)
{
	if (!key_valid(k))
		return -EINVAL;
	return mac_raw(k->alg, k->bytes, k->len, iov, iovcnt, out);
}

static int
verify_common(const struct roam_key *k, const uint8_t *calc, int rc, const void *mac,
              size_t maclen)
{
	if (rc < 0)
		return rc;
	if (mac == NULL || maclen != auth_mac_len(k->alg))
		return -EBADMSG;
	return CRYPTO_memcmp(calc, mac, maclen) == 0 ? 0 : -EBADMSG;
}

int
auth_mac_verify(const struct roam_key *k, const void *data, size_t len, const void *mac,
                size_t maclen)
{
	uint8_t calc[AUTH_MAC_MAX];
	int rc = auth_mac(k, data, len, calc);

	rc = verify_common(k, calc, rc, mac, maclen);
	OPENSSL_cleanse(calc, sizeof(calc));
	return rc;
}

int
auth_mac_verify_iov(const struct roam_key *k, const struct iovec *iov, int iovcnt,
                    const void *mac, size_t maclen)
{
	uint8_t calc[AUTH_MAC_MAX];
	int rc = auth_mac_iov(k, iov, iovcnt, calc);

	rc = verify_common(k, calc, rc, mac, maclen);
	OPENSSL_cleanse(calc, sizeof(calc));
	return rc;
}

int
auth_equal(const void *a, const void *b, size_t n)
{
	if (n == 0)
		return 1;
	return CRYPTO_memcmp(a, b, n) == 0;
}

int
auth_random(void *buf, size_t len)
{
	uint8_t *p = buf;

	if (buf == NULL && len > 0)
		return -EINVAL;
	/* RAND_bytes takes an int length: feed large requests in pieces. */
	while (len > 0) {
		size_t n = len > (1u << 30) ? (1u << 30) : len;
		if (RAND_bytes(p, (int)n) != 1)
			return -EIO;
		p += n;
		len -= n;
	}
	return 0;
}

/* ---- replay: sequence window ------------------------------------------------------------- */

#define SEQ_WORDS (REPLAY_SEQ_WINDOW / 64)

void
replay_seq_init(struct replay_seq *r, uint64_t max_ahead)
{
	memset(r, 0, sizeof(*r));
	r->max_ahead = max_ahead;
}

static int
seq_bit(const struct replay_seq *r, uint64_t off)
{
	return (r->bitmap[off / 64] >> (off % 64)) & 1;
}

int
replay_seq_check(const struct replay_seq *r, uint64_t seq)
{
	if (!r->started)
		return 0;
	if (seq > r->top) {
		if (r->max_ahead != 0 && seq - r->top > r->max_ahead)
			return -ERANGE;
		return 0;
	}
	uint64_t off = r->top - seq;
	if (off >= REPLAY_SEQ_WINDOW)
		return -ESTALE;
	return seq_bit(r, off) ? -EALREADY : 0;
}

/* Shifts the window so that bit 0 means top + shift (i.e. everything moves shift bits up). */
static void
seq_shift(struct replay_seq *r, uint64_t shift)
{
	if (shift >= REPLAY_SEQ_WINDOW) {
		memset(r->bitmap, 0, sizeof(r->bitmap));
		return;
	}
	unsigned words = (unsigned)(shift / 64), bits = (unsigned)(shift % 64);
	for (int i = SEQ_WORDS - 1; i >= 0; i--) {
		uint64_t v = 0;
		int src = i - (int)words;
		if (src >= 0) {
			v = r->bitmap[src] << bits;
			if (bits != 0 && src - 1 >= 0)
				v |= r->bitmap[src - 1] >> (64 - bits);
		}
		r->bitmap[i] = v;
	}
}

int
replay_seq_commit(struct replay_seq *r, uint64_t seq)
{
	int rc = replay_seq_check(r, seq);

	if (rc < 0)
		return rc;
	if (!r->started) {
		memset(r->bitmap, 0, sizeof(r->bitmap));
		r->top = seq;
		r->bitmap[0] = 1;
		r->started = 1;
		return 0;
	}
	if (seq > r->top) {
		seq_shift(r, seq - r->top);
		r->top = seq;
		r->bitmap[0] |= 1;
	} else {
		uint64_t off = r->top - seq;
		r->bitmap[off / 64] |= 1ULL << (off % 64);
	}
	return 0;
}

/* ---- replay: timestamps ------------------------------------------------------------------ */

void
replay_ts_init(struct replay_ts *r, uint64_t tolerance, unsigned slots)
{
	memset(r, 0, sizeof(*r));
	r->tolerance = tolerance;
	if (slots < 1)
		slots = 1;
	if (slots > REPLAY_TS_SLOTS)
		slots = REPLAY_TS_SLOTS;
	r->slots = (uint8_t)slots;
}

void
replay_ts_reset(struct replay_ts *r)
{
	r->used = 0;
	memset(r->recent, 0, sizeof(r->recent));
}

/* Index of the oldest remembered timestamp (used > 0). */
static unsigned
ts_oldest(const struct replay_ts *r)
{
	unsigned min = 0;

	for (unsigned i = 1; i < r->used; i++)
		if (r->recent[i] < r->recent[min])
			min = i;
	return min;
}

int
replay_ts_check(const struct replay_ts *r, uint64_t ts, uint64_t now)
{
	uint64_t diff = ts > now ? ts - now : now - ts;
	unsigned slots = r->slots;

	if (slots < 1 || slots > REPLAY_TS_SLOTS)
		slots = 1; /* an uninitialised struct is treated as strict */
	if (diff > r->tolerance)
		return -ERANGE;
	for (unsigned i = 0; i < r->used && i < REPLAY_TS_SLOTS; i++)
		if (r->recent[i] == ts)
			return -EALREADY;
	if (r->used >= slots && ts < r->recent[ts_oldest(r)])
		return -ESTALE;
	return 0;
}

int
replay_ts_commit(struct replay_ts *r, uint64_t ts, uint64_t now)
{
	int rc = replay_ts_check(r, ts, now);

	if (rc < 0)
		return rc;
	if (r->slots < 1 || r->slots > REPLAY_TS_SLOTS)
		r->slots = 1;
	if (r->used > r->slots)
		r->used = r->slots;
	if (r->used < r->slots)
		r->recent[r->used++] = ts;
	else
		r->recent[ts_oldest(r)] = ts; /* ts is newer than the oldest: it takes its place */
	return 0;
}

/* ---- NTP timestamps ---------------------------------------------------------------------- */

uint64_t
auth_ntp_from_unix_ms(uint64_t unix_ms)
{
	uint64_t sec = unix_ms / 1000 + AUTH_NTP_UNIX_OFFSET;
	uint64_t ms = unix_ms % 1000;
	/* fraction = ms / 1000 * 2^32, rounded down */
	uint64_t frac = (ms << 32) / 1000;

	return (sec << 32) | (frac & 0xffffffffULL);
}

uint64_t
auth_ntp_to_unix_ms(uint64_t ntp)
{
	uint64_t sec = ntp >> 32, frac = ntp & 0xffffffffULL;

	if (sec < AUTH_NTP_UNIX_OFFSET)
		return 0;
	/* nearest ms: to_unix_ms(from_unix_ms(x)) == x */
	uint64_t ms = (frac * 1000 + (1ULL << 31)) >> 32;
	return (sec - AUTH_NTP_UNIX_OFFSET) * 1000 + ms;
}
