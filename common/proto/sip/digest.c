/* Digest computation (RFC 3261 22.4, RFC 2617 qop=auth, RFC 8760 SHA-256): the client's
 * response (the UA) and the server's check (sipd, from a stored or computed HA1). */
#include <errno.h>
#include <string.h>

#include "roam/auth.h"
#include "roam/buf.h"
#include "roam/sip_ua.h"

int sip_digest_hex(enum sip_digest_alg alg, const char *text, size_t len, char out[65])
{
	static const char hx[] = "0123456789abcdef";
	uint8_t h[AUTH_SHA256_LEN];
	size_t n = alg == SIP_DIGEST_SHA256 ? AUTH_SHA256_LEN : AUTH_MD5_LEN;
	int r = alg == SIP_DIGEST_SHA256 ? auth_sha256(text, len, h) : auth_md5(text, len, h);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hx[h[i] >> 4];
		out[2 * i + 1] = hx[h[i] & 15];
	}
	out[2 * n] = 0;
	return 0;
}

/* H(p[0]:p[1]:...) */
static int hash_joined(enum sip_digest_alg alg, const char *const *p, size_t n, char out[65])
{
	struct wbuf w;
	wbuf_init(&w);
	for (size_t i = 0; i < n; i++) {
		if (i)
			wbuf_put_u8(&w, ':');
		wbuf_put_bytes(&w, p[i], strlen(p[i]));
	}
	int r = w.err ? w.err : sip_digest_hex(alg, (const char *)w.buf, w.len, out);
	if (w.buf)
		memset(w.buf, 0, w.cap);
	wbuf_free(&w);
	return r;
}

int sip_digest_ha1(enum sip_digest_alg alg, const char *user, const char *realm,
		   const char *password, char out[65])
{
	const char *a1[] = { user, realm, password };
	return hash_joined(alg, a1, 3, out);
}

int sip_digest_response_ha1(enum sip_digest_alg alg, const char *ha1, const char *nonce,
			    const char *nc, const char *cnonce, const char *qop,
			    const char *method, const char *uri, char out[65])
{
	char ha2[65];
	const char *a2[] = { method, uri };
	int r = hash_joined(alg, a2, 2, ha2);
	if (r < 0)
		return r;
	if (qop) {
		const char *p[] = { ha1, nonce, nc, cnonce, qop, ha2 };
		return hash_joined(alg, p, 6, out);
	}
	const char *p[] = { ha1, nonce, ha2 };
	return hash_joined(alg, p, 3, out);
}

int sip_digest_response(enum sip_digest_alg alg, const char *user, const char *realm,
			const char *password, const char *nonce, const char *nc,
			const char *cnonce, const char *qop, const char *method, const char *uri,
			char out[65])
{
	char ha1[65];
	int r = sip_digest_ha1(alg, user, realm, password, ha1);
	if (r == 0)
		r = sip_digest_response_ha1(alg, ha1, nonce, nc, cnonce, qop, method, uri, out);
	memset(ha1, 0, sizeof(ha1));
	return r;
}
