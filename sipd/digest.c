/* Digest authentication (RFC 3261 22.4 with RFC 2617's qop=auth; SHA-256 per RFC 8760):
 * the credentials store, stateless nonces, the HA1 of a credential.
 *
 * Nonces carry their own issue time: hex(ts || rnd || mac), ts the 8-byte monotonic millisecond
 * time, rnd 8 random bytes (so clients challenged in the same millisecond never share a nonce),
 * mac HMAC-SHA256(secret, ts || rnd || realm) cut to 16 bytes, secret random per process.  So a
 * nonce needs no state to be checked, expires after nonce_lifetime (then stale=true), and nonces
 * of another process are not accepted.  State is kept only for nonces a client has used
 * successfully: the nc values seen (roam/auth.h replay window), so that a replayed nc is refused;
 * that entry lives as long as the nonce is valid.  The hashes themselves are libroam's
 * (roam/sip_ua.h sip_digest_*), which the user agents of mnd and cnd compute with. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipd.h"

static void hex_encode(const uint8_t *in, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hx[in[i] >> 4];
		out[2 * i + 1] = hx[in[i] & 15];
	}
	out[2 * n] = 0;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int hex_decode(const char *s, uint8_t *out, size_t n)
{
	if (strlen(s) != 2 * n)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		int h = hexval((unsigned char)s[2 * i]), l = hexval((unsigned char)s[2 * i + 1]);
		if (h < 0 || l < 0)
			return -EINVAL;
		out[i] = (uint8_t)(h << 4 | l);
	}
	return 0;
}

static int is_hex(const char *s, size_t n)
{
	if (strlen(s) != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (hexval((unsigned char)s[i]) < 0)
			return 0;
	return 1;
}

/* ---- credentials ---- */

static void cred_free(struct sipd_cred *c)
{
	if (!c)
		return;
	if (c->password) {
		memset(c->password, 0, strlen(c->password));
		free(c->password);
	}
	memset(c->ha1_md5, 0, sizeof(c->ha1_md5));
	memset(c->ha1_sha256, 0, sizeof(c->ha1_sha256));
	free(c->key);
	free(c);
}

static void cred_free_cb(struct table *t, struct table_node *n, void *arg)
{
	(void)t;
	(void)arg;
	cred_free(table_entry(n, struct sipd_cred, node));
}

void sipd_creds_free(struct sipd_creds *cs)
{
	if (cs->init)
		table_destroy(&cs->t);
	cs->init = false;
}

static char *cred_key(const char *user, const char *realm, size_t *len)
{
	size_t ul = strlen(user), rl = strlen(realm);
	if (ul + rl + 1 > TABLE_KEY_MAX)
		return NULL;
	char *k = malloc(ul + rl + 2);
	if (!k)
		return NULL;
	memcpy(k, user, ul + 1);
	memcpy(k + ul + 1, realm, rl + 1);
	*len = ul + 1 + rl;
	return k;
}

struct sipd_cred *sipd_creds_find(struct sipd_creds *cs, const char *user, const char *realm)
{
	char buf[TABLE_KEY_MAX + 2];
	size_t ul = strlen(user), rl = strlen(realm);
	if (!cs->init || ul + rl + 1 > TABLE_KEY_MAX)
		return NULL;
	memcpy(buf, user, ul + 1);
	memcpy(buf + ul + 1, realm, rl + 1);
	struct table_node *n = table_lookup(&cs->t, buf, ul + 1 + rl);
	return n ? table_entry(n, struct sipd_cred, node) : NULL;
}

/* One line: USER REALM then password=TEXT and/or ha1-md5=HEX32 ha1-sha256=HEX64. */
static int cred_line(struct sipd_creds *cs, char *line, int lineno, char *err, size_t errlen)
{
	char *save = NULL;
	char *user = strtok_r(line, " \t", &save);
	if (!user || *user == '#')
		return 0;
	char *realm = strtok_r(NULL, " \t", &save);
	if (!realm) {
		snprintf(err, errlen, "credentials line %d: expected USER REALM password=... or ha1-md5=...",
			 lineno);
		return -EINVAL;
	}
	struct sipd_cred *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->key = cred_key(user, realm, &c->keylen);
	if (!c->key) {
		cred_free(c);
		snprintf(err, errlen, "credentials line %d: user and realm too long", lineno);
		return -EINVAL;
	}
	char *tok;
	int any = 0;
	while ((tok = strtok_r(NULL, " \t", &save))) {
		if (strncmp(tok, "password=", 9) == 0 && !c->password && tok[9]) {
			c->password = strdup(tok + 9);
			if (!c->password) {
				cred_free(c);
				return -ENOMEM;
			}
		} else if (strncmp(tok, "ha1-md5=", 8) == 0 && is_hex(tok + 8, 32)) {
			for (int i = 0; i < 33; i++)
				c->ha1_md5[i] = (char)tolower((unsigned char)tok[8 + i]);
		} else if (strncmp(tok, "ha1-sha256=", 11) == 0 && is_hex(tok + 11, 64)) {
			for (int i = 0; i < 65; i++)
				c->ha1_sha256[i] = (char)tolower((unsigned char)tok[11 + i]);
		} else {
			cred_free(c);
			snprintf(err, errlen,
				 "credentials line %d: bad field (password=TEXT, ha1-md5=32 hex, "
				 "ha1-sha256=64 hex)", lineno);
			return -EINVAL;
		}
		any = 1;
	}
	if (!any) {
		cred_free(c);
		snprintf(err, errlen, "credentials line %d: no password= or ha1-*= field", lineno);
		return -EINVAL;
	}
	int r = table_insert(&cs->t, &c->node, c->key, c->keylen);
	if (r < 0) {
		cred_free(c);
		if (r == -EEXIST)
			snprintf(err, errlen, "credentials line %d: user %s realm %s given twice",
				 lineno, user, realm);
		else
			snprintf(err, errlen, "credentials line %d: %s", lineno, strerror(-r));
		return r == -EEXIST ? -EINVAL : r;
	}
	return 0;
}

int sipd_creds_parse(struct sipd_creds *cs, const char *text, size_t len, char *err,
		     size_t errlen)
{
	memset(cs, 0, sizeof(*cs));
	int r = table_init(&cs->t, NULL, cred_free_cb, NULL);
	if (r < 0)
		return r;
	cs->init = true;
	size_t off = 0;
	int lineno = 0;
	char line[1024];
	while (off < len) {
		const char *nl = memchr(text + off, '\n', len - off);
		size_t n = nl ? (size_t)(nl - (text + off)) : len - off;
		lineno++;
		if (n >= sizeof(line)) {
			snprintf(err, errlen, "credentials line %d: too long", lineno);
			r = -EINVAL;
			goto fail;
		}
		memcpy(line, text + off, n);
		line[n] = 0;
		if (n && line[n - 1] == '\r')
			line[n - 1] = 0;
		if (memchr(line, 0, n > 0 && line[n - 1] == 0 ? n - 1 : n) != NULL) {
			snprintf(err, errlen, "credentials line %d: NUL byte", lineno);
			r = -EINVAL;
			goto fail;
		}
		r = cred_line(cs, line, lineno, err, errlen);
		memset(line, 0, sizeof(line));
		if (r < 0)
			goto fail;
		off += n + (nl ? 1 : 0);
	}
	return 0;
fail:
	memset(line, 0, sizeof(line));
	sipd_creds_free(cs);
	return r;
}

/* ---- hashing: roam/sip_ua.h (sip_digest_*) ---- */

int sipd_cred_ha1(const struct sipd_cred *c, enum sip_digest_alg alg, const char *realm,
		  char out[65])
{
	const char *stored = alg == SIP_DIGEST_SHA256 ? c->ha1_sha256 : c->ha1_md5;
	if (*stored) {
		memcpy(out, stored, strlen(stored) + 1);
		return 0;
	}
	if (!c->password) {
		out[0] = 0;
		return -ENOENT;
	}
	return sip_digest_ha1(alg, c->key, realm, c->password, out); /* key: "user\0realm" */
}

/* ---- nonces ---- */

static void nonce_free_cb(struct table *t, struct table_node *n, void *arg)
{
	(void)t;
	(void)arg;
	free(table_entry(n, struct sipd_nonce, node));
}

int sipd_digest_init(struct sipd_digest *d)
{
	memset(d, 0, sizeof(*d));
	int r = auth_random(d->secret, sizeof(d->secret));
	if (r < 0)
		return r;
	r = table_init(&d->nonces, nonce_free_cb, nonce_free_cb, NULL);
	if (r < 0)
		return r;
	d->init = true;
	return 0;
}

void sipd_digest_destroy(struct sipd_digest *d)
{
	if (d->init)
		table_destroy(&d->nonces);
	memset(d->secret, 0, sizeof(d->secret));
	d->init = false;
}

/* HMAC over the time and random bytes (the first 16 of raw) and the realm. */
static void nonce_mac(const struct sipd_digest *d, const char *realm, const uint8_t ts[16],
		      uint8_t mac[16])
{
	uint8_t buf[16 + 256], full[AUTH_SHA256_LEN];
	size_t rl = strlen(realm);
	if (rl > 256)
		rl = 256;
	memcpy(buf, ts, 16);
	memcpy(buf + 16, realm, rl);
	if (auth_hmac_sha256(d->secret, sizeof(d->secret), buf, 16 + rl, full) < 0)
		memset(full, 0, sizeof(full)); /* libcrypto failure: the nonce will not verify */
	memcpy(mac, full, 16);
}

void sipd_nonce_make(const struct sipd_digest *d, const char *realm, uint64_t now,
		     char out[SIPD_NONCE_HEX + 1])
{
	uint8_t raw[SIPD_NONCE_RAW];
	for (int i = 0; i < 8; i++)
		raw[i] = (uint8_t)(now >> (56 - 8 * i));
	if (auth_random(raw + 8, 8) < 0)
		memset(raw + 8, 0, 8); /* still valid; only uniqueness suffers */
	nonce_mac(d, realm, raw, raw + 16);
	hex_encode(raw, sizeof(raw), out);
}

int sipd_nonce_check(const struct sipd_digest *d, const char *realm, const char *nonce,
		     uint64_t now, uint64_t lifetime_ms)
{
	uint8_t raw[SIPD_NONCE_RAW], mac[16];
	if (hex_decode(nonce, raw, sizeof(raw)) < 0)
		return -EBADMSG;
	nonce_mac(d, realm, raw, mac);
	if (!auth_equal(mac, raw + 16, sizeof(mac)))
		return -EBADMSG;
	uint64_t ts = 0;
	for (int i = 0; i < 8; i++)
		ts = ts << 8 | raw[i];
	if (ts > now + 1000 || now - (ts > now ? now : ts) > lifetime_ms)
		return -ESTALE;
	return 0;
}
