/* Message authentication and replay protection shared by every protocol (OpenSSL 3 libcrypto).
 *
 * - MACs: HMAC-SHA256, HMAC-MD5 (RFC 2104) and the RFC 2002/5944 "prefix+suffix" keyed MD5,
 *   MD5(key || data || key); one-shot, over scattered buffers (iovec) and incremental
 *   (auth_init/auth_update/auth_final), so a protocol can authenticate "header + extensions
 *   so far" without copying.
 * - Digests: MD5, SHA-256.  Constant-time comparison, random bytes.
 * - Replay protection, no allocation, `now` passed in:
 *     struct replay_seq: 64-bit sequence numbers, sliding bitmap window (RFC 4303 3.4.3);
 *     struct replay_ts:  timestamps within a tolerance of `now`, each accepted once, with a
 *                        little reordering allowed (RFC 5944 5.7 style identifications).
 *   Both split check (read-only) from commit: a receiver calls _check() before verifying the
 *   MAC, and _commit() only once the message authenticated, so a forged packet can never move
 *   the window.
 *
 * All functions return 0 or a negative errno-style code unless stated otherwise. */
#ifndef ROAM_AUTH_H
#define ROAM_AUTH_H
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define AUTH_KEY_MAX    64 /* bytes of key material */
#define AUTH_MD5_LEN    16
#define AUTH_SHA256_LEN 32
#define AUTH_MAC_MAX    32 /* the largest MAC any auth_alg produces */

enum auth_alg {
	AUTH_ALG_NONE = 0,
	AUTH_ALG_HMAC_SHA256, /* RFC 2104 + FIPS 180-4, 32-byte MAC */
	AUTH_ALG_HMAC_MD5,    /* RFC 2104, 16-byte MAC */
	AUTH_ALG_KEYED_MD5,   /* RFC 2002 3.5.1 prefix+suffix: MD5(key || data || key), 16 bytes */
};

/* A key with its algorithm.  Plain value type: copy it, embed it, zero it with auth_key_wipe. */
struct roam_key {
	enum auth_alg alg;
	uint8_t len;               /* 1..AUTH_KEY_MAX */
	uint8_t bytes[AUTH_KEY_MAX];
};

/* "hmac-sha256", "hmac-md5", "keyed-md5" <-> enum.  parse: -EINVAL for an unknown name.
 * name: never NULL ("none" or "unknown" for other values). */
int auth_alg_parse(const char *name, enum auth_alg *alg);
const char *auth_alg_name(enum auth_alg alg);
/* MAC length in bytes for alg, 0 for AUTH_ALG_NONE or an unknown value. */
size_t auth_mac_len(enum auth_alg alg);

/* Fills k from raw bytes.  -EINVAL: unknown alg, len 0 or len > AUTH_KEY_MAX. */
int auth_key_set(struct roam_key *k, enum auth_alg alg, const void *bytes, size_t len);
/* Fills k from a hex string (config files); an optional "0x" prefix is accepted.
 * -EINVAL: not hex, odd length, empty, longer than AUTH_KEY_MAX bytes, unknown alg. */
int auth_key_from_hex(struct roam_key *k, enum auth_alg alg, const char *hex);
/* Overwrites the key material (OPENSSL_cleanse). */
void auth_key_wipe(struct roam_key *k);

/* One-shot primitives.  key may be any length (HMAC hashes long keys itself).
 * Errors: -EINVAL (NULL out, key NULL with keylen > 0), -EIO (libcrypto failure). */
int auth_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
                     uint8_t out[AUTH_SHA256_LEN]);
int auth_hmac_md5(const void *key, size_t keylen, const void *data, size_t len,
                  uint8_t out[AUTH_MD5_LEN]);
/* MD5(key || data || key): RFC 2002 3.5.1 / RFC 5944 default "prefix+suffix" mode. */
int auth_keyed_md5(const void *key, size_t keylen, const void *data, size_t len,
                   uint8_t out[AUTH_MD5_LEN]);
int auth_md5(const void *data, size_t len, uint8_t out[AUTH_MD5_LEN]);
int auth_sha256(const void *data, size_t len, uint8_t out[AUTH_SHA256_LEN]);

/* MAC under k (algorithm from k->alg) over one buffer or over iovcnt scattered buffers taken
 * in order.  out must hold auth_mac_len(k->alg) bytes (AUTH_MAC_MAX always suffices); the length
 * written is auth_mac_len(k->alg).  -EINVAL: bad key/alg, -EIO: libcrypto failure. */
int auth_mac(const struct roam_key *k, const void *data, size_t len, uint8_t *out);
int auth_mac_iov(const struct roam_key *k, const struct iovec *iov, int iovcnt, uint8_t *out);
/* Computes the MAC over data and compares it in constant time with mac[maclen].
 * 0 when it matches; -EBADMSG when it does not (or maclen is not the algorithm's length);
 * -EINVAL / -EIO as auth_mac. */
int auth_mac_verify(const struct roam_key *k, const void *data, size_t len, const void *mac,
                    size_t maclen);
int auth_mac_verify_iov(const struct roam_key *k, const struct iovec *iov, int iovcnt,
                        const void *mac, size_t maclen);

/* Incremental MAC.  The context owns libcrypto state allocated by auth_init and released by
 * auth_final or auth_abort (either one, always; auth_abort is safe twice and after final).
 * The key is copied: k is borrowed for the call only.
 *   auth_init:   -EINVAL bad key, -ENOMEM, -EIO.
 *   auth_update: -EINVAL when the context is not initialised, -EIO.
 *   auth_final:  writes auth_mac_len(alg) bytes to out; releases the context even on error. */
struct auth_ctx {
	enum auth_alg alg;
	void *mac; /* EVP_MAC_CTX * (HMAC algorithms) */
	void *md;  /* EVP_MD_CTX * (keyed MD5) */
	struct roam_key key; /* keyed MD5 appends the key again at final */
};
int auth_init(struct auth_ctx *c, const struct roam_key *k);
int auth_update(struct auth_ctx *c, const void *data, size_t len);
int auth_final(struct auth_ctx *c, uint8_t *out);
void auth_abort(struct auth_ctx *c);

/* Constant-time comparison (CRYPTO_memcmp): 1 when the n bytes are equal, 0 otherwise. */
int auth_equal(const void *a, const void *b, size_t n);
/* Cryptographically strong random bytes (RAND_bytes).  -EIO on failure (never partial). */
int auth_random(void *buf, size_t len);

/* ---- Replay protection: sequence numbers (RFC 4303 3.4.3) ------------------------------- */

#define REPLAY_SEQ_WINDOW 128 /* bits in the sliding window */

/* One per peer / security association, embedded in the caller's struct.  Zero-initialised
 * (or replay_seq_init) it accepts any first sequence number; afterwards a number is accepted
 * once, if it is within the window below the highest accepted one or above it. */
struct replay_seq {
	uint64_t top;         /* highest committed sequence number */
	uint64_t bitmap[REPLAY_SEQ_WINDOW / 64]; /* bit i: top - i was committed */
	uint64_t max_ahead;   /* 0: any jump forward accepted; else top + max_ahead at most */
	int started;          /* anything committed yet */
};

/* Resets r; max_ahead as in the struct (0 = unlimited, as IPsec). */
void replay_seq_init(struct replay_seq *r, uint64_t max_ahead);
/* Read-only check of seq.  0: acceptable; -EALREADY: already committed (duplicate);
 * -ESTALE: below the window (too old to tell); -ERANGE: more than max_ahead above top. */
int replay_seq_check(const struct replay_seq *r, uint64_t seq);
/* Records seq as received (call after the message authenticated).  Re-checks first and returns
 * the same errors as replay_seq_check without changing anything; 0 once recorded. */
int replay_seq_commit(struct replay_seq *r, uint64_t seq);

/* ---- Replay protection: timestamps ------------------------------------------------------- */

#define REPLAY_TS_SLOTS 8 /* most recent accepted timestamps remembered per peer */

/* Timestamps and `now` are 64-bit values in one unit the caller chooses, the same for ts, now
 * and tolerance: milliseconds (roam_wall_ms) or raw NTP 64-bit (tolerance in 2^-32 s units:
 * seconds << 32) both work.  A timestamp is accepted when |ts - now| <= tolerance, it was not
 * accepted before, and it is newer than the oldest of the last `slots` accepted ones (so up to
 * slots-1 messages may arrive out of order; slots = 1 demands strictly increasing timestamps).
 * Zero-initialised state is invalid: call replay_ts_init. */
struct replay_ts {
	uint64_t tolerance;
	uint64_t recent[REPLAY_TS_SLOTS]; /* accepted timestamps, unordered */
	uint8_t slots;  /* 1..REPLAY_TS_SLOTS */
	uint8_t used;   /* valid entries in recent */
};

/* slots is clamped to 1..REPLAY_TS_SLOTS. */
void replay_ts_init(struct replay_ts *r, uint64_t tolerance, unsigned slots);
/* Read-only check.  0: acceptable; -ERANGE: outside now +- tolerance (clock skew; Mobile IP
 * answers with code 133 and its own time); -EALREADY: this timestamp was accepted already;
 * -ESTALE: older than every remembered timestamp (slots are full). */
int replay_ts_check(const struct replay_ts *r, uint64_t ts, uint64_t now);
/* Records ts after the message authenticated; re-checks first (same errors, nothing changed). */
int replay_ts_commit(struct replay_ts *r, uint64_t ts, uint64_t now);
/* Forgets every remembered timestamp (e.g. after a peer's key changed). */
void replay_ts_reset(struct replay_ts *r);

/* NTP 64-bit timestamps (RFC 5905; RFC 5944 5.7 identifications): seconds since 1900-01-01 in
 * the high 32 bits, binary fraction in the low 32.  Conversions from/to Unix wall-clock ms
 * (roam_wall_ms); times before 1970 are not representable on the ms side and give 0. */
#define AUTH_NTP_UNIX_OFFSET 2208988800ULL /* seconds from 1900 to 1970 */
uint64_t auth_ntp_from_unix_ms(uint64_t unix_ms);
uint64_t auth_ntp_to_unix_ms(uint64_t ntp);

#endif
