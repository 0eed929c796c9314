/* RADIUS codec: packets and attributes (RFC 2865 3 and 5), tagged attributes (RFC 2868 3),
 * hiding (RFC 2865 5.2, RFC 2868 3.5) and authenticators (RFC 2865 3, RFC 3579 3.2).
 * docs/protocols/radius.md. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "roam/auth.h"
#include "roam/radius.h"

int radius_pkt_decode(const uint8_t *pkt, size_t len, struct radius_pkt *out, const char **why)
{
	struct rbuf r, body;
	const char *dummy;
	if (!why)
		why = &dummy;
	*why = NULL;
	memset(out, 0, sizeof(*out) - sizeof(out->attrs));
	out->nattrs = 0;
	rbuf_init(&r, pkt, len);
	if (rbuf_get_u8(&r, &out->code) < 0 || rbuf_get_u8(&r, &out->id) < 0 ||
	    rbuf_get_u16(&r, &out->length) < 0 ||
	    rbuf_get_bytes(&r, out->authenticator, RADIUS_AUTH_LEN) < 0) {
		*why = "shorter than the header";
		return -EMSGSIZE;
	}
	if (out->length < RADIUS_MIN_LEN || out->length > RADIUS_MAX_LEN) {
		*why = "Length out of range (20-4096)";
		return -EMSGSIZE;
	}
	/* RFC 2865 3: octets beyond Length are padding; a datagram shorter than Length is
	 * silently discarded. */
	if (rbuf_sub(&r, out->length - RADIUS_HDR_LEN, &body) < 0) {
		*why = "Length beyond the datagram";
		return -EMSGSIZE;
	}
	while (rbuf_left(&body)) {
		uint8_t t, l;
		const uint8_t *v;
		if (rbuf_get_u8(&body, &t) < 0 || rbuf_get_u8(&body, &l) < 0) {
			*why = "truncated attribute header";
			return -EBADMSG;
		}
		if (l < 2 || rbuf_get_ptr(&body, (size_t)l - 2, &v) < 0) {
			*why = "attribute length out of range";
			return -EBADMSG;
		}
		if (out->nattrs == RADIUS_PKT_ATTRS_MAX) {
			*why = "too many attributes";
			return -E2BIG;
		}
		out->attrs[out->nattrs++] = (struct radius_attr){ .type = t, .len = (uint8_t)(l - 2),
								 .value = v };
	}
	return 0;
}

int radius_pkt_encode(const struct radius_pkt *p, struct wbuf *w)
{
	size_t start = w->len;
	wbuf_put_u8(w, p->code);
	wbuf_put_u8(w, p->id);
	size_t loff = wbuf_reserve(w, 2);
	wbuf_put_bytes(w, p->authenticator, RADIUS_AUTH_LEN);
	for (size_t i = 0; i < p->nattrs; i++) {
		const struct radius_attr *a = &p->attrs[i];
		if (a->len > RADIUS_ATTR_VALUE_MAX)
			return -EINVAL;
		wbuf_put_u8(w, a->type);
		wbuf_put_u8(w, (uint8_t)(a->len + 2));
		wbuf_put_bytes(w, a->value, a->len);
	}
	if (w->err)
		return w->err;
	if (w->len - start > RADIUS_MAX_LEN)
		return -EMSGSIZE;
	wbuf_patch_u16(w, loff, (uint16_t)(w->len - start));
	return w->err;
}

const struct radius_attr *radius_pkt_find(const struct radius_pkt *p, uint8_t t)
{
	for (size_t i = 0; i < p->nattrs; i++)
		if (p->attrs[i].type == t)
			return &p->attrs[i];
	return NULL;
}

int radius_pkt_add(struct radius_pkt *p, uint8_t type, const void *value, size_t len)
{
	if (len > RADIUS_ATTR_VALUE_MAX)
		return -EINVAL;
	if (p->nattrs == RADIUS_PKT_ATTRS_MAX)
		return -E2BIG;
	p->attrs[p->nattrs++] = (struct radius_attr){ .type = type, .len = (uint8_t)len,
						     .value = value };
	return 0;
}

int radius_attr_u32(const struct radius_attr *a, uint32_t *v)
{
	struct rbuf r;
	rbuf_init(&r, a->value, a->len);
	if (a->len != 4 || rbuf_get_u32(&r, v) < 0)
		return -EBADMSG;
	return 0;
}

int radius_tagged_u32(const struct radius_attr *a, uint8_t *tag, uint32_t *v)
{
	struct rbuf r;
	rbuf_init(&r, a->value, a->len);
	if (a->len != 4 || rbuf_get_u8(&r, tag) < 0 || rbuf_get_u24(&r, v) < 0)
		return -EBADMSG;
	return 0;
}

int radius_tagged_str(const struct radius_attr *a, uint8_t *tag, const uint8_t **s, size_t *len)
{
	if (a->len == 0)
		return -EBADMSG;
	if (a->value[0] <= RADIUS_TUNNEL_TAG_MAX) {
		*tag = a->value[0];
		*s = a->value + 1;
		*len = a->len - 1u;
	} else {
		*tag = 0;
		*s = a->value;
		*len = a->len;
	}
	return *len ? 0 : -EBADMSG;
}

/* ---- hiding ---- */

/* b = MD5(secret + x[xlen] + y[ylen]) */
static int md5_2(const uint8_t *secret, size_t slen, const uint8_t *x, size_t xlen,
		 const uint8_t *y, size_t ylen, uint8_t b[AUTH_MD5_LEN])
{
	uint8_t buf[RADIUS_SECRET_MAX + RADIUS_AUTH_LEN + 2];
	if (slen > RADIUS_SECRET_MAX || xlen + ylen > RADIUS_AUTH_LEN + 2)
		return -EINVAL;
	memcpy(buf, secret, slen);
	memcpy(buf + slen, x, xlen);
	if (ylen)
		memcpy(buf + slen + xlen, y, ylen);
	int r = auth_md5(buf, slen + xlen + ylen, b);
	explicit_bzero(buf, sizeof(buf));
	return r;
}

/* The RFC 2865 5.2 / RFC 2868 3.5 chain over n octets (a multiple of 16): the first key block
 * is MD5(secret + iv), each next one MD5(secret + previous ciphertext block). */
static int xor_chain(const uint8_t *secret, size_t slen, const uint8_t *iv, size_t ivlen,
		     const uint8_t *in, uint8_t *out, size_t n, bool encrypt)
{
	uint8_t b[AUTH_MD5_LEN];
	const uint8_t *prev = iv;
	size_t prevlen = ivlen;
	int r;
	for (size_t off = 0; off < n; off += 16) {
		if ((r = md5_2(secret, slen, prev, prevlen, NULL, 0, b)) < 0)
			return r;
		uint8_t c[16];
		for (int i = 0; i < 16; i++)
			c[i] = in[off + i] ^ b[i];
		/* The next block is keyed by the ciphertext: out when encrypting, in otherwise. */
		memcpy(out + off, c, 16);
		prev = encrypt ? out + off : in + off;
		prevlen = 16;
	}
	explicit_bzero(b, sizeof(b));
	return 0;
}

int radius_password_hide(const uint8_t *secret, size_t slen, const uint8_t auth[RADIUS_AUTH_LEN],
			 const uint8_t *pw, size_t pwlen, uint8_t *out, size_t *outlen)
{
	uint8_t p[RADIUS_PASSWORD_MAX];
	if (!pwlen || pwlen > RADIUS_PASSWORD_MAX || !slen || slen > RADIUS_SECRET_MAX)
		return -EINVAL;
	size_t n = (pwlen + 15) / 16 * 16;
	memset(p, 0, sizeof(p));
	memcpy(p, pw, pwlen);
	int r = xor_chain(secret, slen, auth, RADIUS_AUTH_LEN, p, out, n, true);
	explicit_bzero(p, sizeof(p));
	*outlen = n;
	return r;
}

int radius_password_unhide(const uint8_t *secret, size_t slen,
			   const uint8_t auth[RADIUS_AUTH_LEN], const uint8_t *in, size_t inlen,
			   uint8_t *pw, size_t *pwlen)
{
	if (!slen || slen > RADIUS_SECRET_MAX)
		return -EINVAL;
	if (inlen < 16 || inlen > RADIUS_PASSWORD_MAX || inlen % 16)
		return -EBADMSG;
	int r = xor_chain(secret, slen, auth, RADIUS_AUTH_LEN, in, pw, inlen, false);
	if (r < 0)
		return r;
	while (inlen && pw[inlen - 1] == 0)
		inlen--;
	*pwlen = inlen;
	return 0;
}

int radius_tunnel_password_encrypt(const uint8_t *secret, size_t slen,
				   const uint8_t req_auth[RADIUS_AUTH_LEN], uint16_t salt,
				   const uint8_t *pw, size_t pwlen, uint8_t *out, size_t *outlen)
{
	uint8_t p[256], iv[RADIUS_AUTH_LEN + 2];
	if (!(salt & 0x8000) || pwlen > 240 || !slen || slen > RADIUS_SECRET_MAX)
		return -EINVAL;
	size_t n = (pwlen + 1 + 15) / 16 * 16;
	memset(p, 0, sizeof(p));
	p[0] = (uint8_t)pwlen;
	if (pwlen)
		memcpy(p + 1, pw, pwlen);
	out[0] = (uint8_t)(salt >> 8);
	out[1] = (uint8_t)salt;
	memcpy(iv, req_auth, RADIUS_AUTH_LEN);
	memcpy(iv + RADIUS_AUTH_LEN, out, 2);
	int r = xor_chain(secret, slen, iv, sizeof(iv), p, out + 2, n, true);
	explicit_bzero(p, sizeof(p));
	*outlen = n + 2;
	return r;
}

int radius_tunnel_password_decrypt(const uint8_t *secret, size_t slen,
				   const uint8_t req_auth[RADIUS_AUTH_LEN], const uint8_t *value,
				   size_t vlen, uint8_t *pw, size_t *pwlen)
{
	uint8_t p[256], iv[RADIUS_AUTH_LEN + 2];
	if (!slen || slen > RADIUS_SECRET_MAX)
		return -EINVAL;
	if (vlen < 2 + 16 || (vlen - 2) % 16 || vlen - 2 > sizeof(p) || !(value[0] & 0x80))
		return -EBADMSG;
	memcpy(iv, req_auth, RADIUS_AUTH_LEN);
	memcpy(iv + RADIUS_AUTH_LEN, value, 2);
	int r = xor_chain(secret, slen, iv, sizeof(iv), value + 2, p, vlen - 2, false);
	if (r < 0)
		return r;
	if ((size_t)p[0] + 1 > vlen - 2) {
		explicit_bzero(p, sizeof(p));
		return -EBADMSG;
	}
	*pwlen = p[0];
	memcpy(pw, p + 1, p[0]);
	explicit_bzero(p, sizeof(p));
	return 0;
}

/* ---- authenticators ---- */

int radius_response_auth(const uint8_t *pkt, size_t len, const uint8_t req_auth[RADIUS_AUTH_LEN],
			 const uint8_t *secret, size_t slen, uint8_t out[RADIUS_AUTH_LEN])
{
	if (len < RADIUS_HDR_LEN || len > RADIUS_MAX_LEN || slen > RADIUS_SECRET_MAX)
		return -EINVAL;
	uint8_t *buf = malloc(len + slen);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, pkt, 4);
	memcpy(buf + 4, req_auth, RADIUS_AUTH_LEN);
	memcpy(buf + RADIUS_HDR_LEN, pkt + RADIUS_HDR_LEN, len - RADIUS_HDR_LEN);
	memcpy(buf + len, secret, slen);
	int r = auth_md5(buf, len + slen, out);
	explicit_bzero(buf, len + slen);
	free(buf);
	return r;
}

/* Offset of the only Message-Authenticator's value in pkt.  -ENOENT, -EBADMSG. */
static int msg_auth_offset(const uint8_t *pkt, size_t len, size_t *off)
{
	struct radius_pkt *p = malloc(sizeof(*p));
	if (!p)
		return -ENOMEM;
	int r = radius_pkt_decode(pkt, len, p, NULL);
	int found = 0;
	if (r == 0)
		for (size_t i = 0; i < p->nattrs; i++) {
			if (p->attrs[i].type != RADIUS_MESSAGE_AUTHENTICATOR)
				continue;
			if (p->attrs[i].len != RADIUS_AUTH_LEN || found++) {
				r = -EBADMSG;
				break;
			}
			*off = (size_t)(p->attrs[i].value - pkt);
		}
	if (r == 0 && !found)
		r = -ENOENT;
	else if (r < 0 && r != -EBADMSG)
		r = -EBADMSG;
	free(p);
	return r;
}

static int msg_auth_at(const uint8_t *pkt, size_t len, size_t off, const uint8_t *req_auth,
		       const uint8_t *secret, size_t slen, uint8_t out[RADIUS_AUTH_LEN])
{
	static const uint8_t zero[RADIUS_AUTH_LEN];
	struct auth_ctx c;
	struct roam_key k;
	uint8_t mac[AUTH_MAC_MAX];
	int r;
	/* HMAC takes keys of any length; roam_key holds up to 64 octets, longer ones are
	 * hashed first exactly as HMAC would (RFC 2104 2). */
	if (slen > AUTH_KEY_MAX) {
		uint8_t h[AUTH_MD5_LEN];
		if ((r = auth_md5(secret, slen, h)) < 0)
			return r;
		r = auth_key_set(&k, AUTH_ALG_HMAC_MD5, h, sizeof(h));
	} else {
		r = auth_key_set(&k, AUTH_ALG_HMAC_MD5, secret, slen);
	}
	if (r < 0)
		return r;
	if ((r = auth_init(&c, &k)) < 0)
		goto out;
	auth_update(&c, pkt, 4);
	auth_update(&c, req_auth ? req_auth : pkt + 4, RADIUS_AUTH_LEN);
	auth_update(&c, pkt + RADIUS_HDR_LEN, off - RADIUS_HDR_LEN);
	auth_update(&c, zero, RADIUS_AUTH_LEN);
	auth_update(&c, pkt + off + RADIUS_AUTH_LEN, len - off - RADIUS_AUTH_LEN);
	if ((r = auth_final(&c, mac)) == 0)
		memcpy(out, mac, RADIUS_AUTH_LEN);
out:
	auth_key_wipe(&k);
	return r;
}

int radius_msg_auth(const uint8_t *pkt, size_t len, const uint8_t *req_auth,
		    const uint8_t *secret, size_t slen, uint8_t out[RADIUS_AUTH_LEN])
{
	size_t off;
	int r = msg_auth_offset(pkt, len, &off);
	if (r < 0)
		return r;
	return msg_auth_at(pkt, len, off, req_auth, secret, slen, out);
}

int radius_msg_auth_sign(uint8_t *pkt, size_t len, const uint8_t *req_auth,
			 const uint8_t *secret, size_t slen)
{
	size_t off;
	uint8_t mac[RADIUS_AUTH_LEN];
	int r = msg_auth_offset(pkt, len, &off);
	if (r < 0)
		return r;
	if ((r = msg_auth_at(pkt, len, off, req_auth, secret, slen, mac)) < 0)
		return r;
	memcpy(pkt + off, mac, RADIUS_AUTH_LEN);
	return 0;
}

int radius_response_sign(uint8_t *pkt, size_t len, const uint8_t req_auth[RADIUS_AUTH_LEN],
			 const uint8_t *secret, size_t slen)
{
	uint8_t a[RADIUS_AUTH_LEN];
	int r = radius_msg_auth_sign(pkt, len, req_auth, secret, slen);
	if (r < 0 && r != -ENOENT)
		return r;
	if ((r = radius_response_auth(pkt, len, req_auth, secret, slen, a)) < 0)
		return r;
	memcpy(pkt + 4, a, RADIUS_AUTH_LEN);
	return 0;
}

int radius_response_verify(const uint8_t *pkt, size_t len, const uint8_t req_auth[RADIUS_AUTH_LEN],
			   const uint8_t *secret, size_t slen, bool require_msg_auth)
{
	uint8_t a[RADIUS_AUTH_LEN];
	size_t off;
	if (len < RADIUS_HDR_LEN)
		return -EBADMSG;
	int r = radius_response_auth(pkt, len, req_auth, secret, slen, a);
	if (r < 0)
		return r == -EINVAL ? -EBADMSG : r;
	if (!auth_equal(a, pkt + 4, RADIUS_AUTH_LEN))
		return -EBADMSG;
	r = msg_auth_offset(pkt, len, &off);
	if (r == -ENOENT)
		return require_msg_auth ? -EPERM : 0;
	if (r < 0)
		return -EPERM;
	if ((r = msg_auth_at(pkt, len, off, req_auth, secret, slen, a)) < 0)
		return r;
	return auth_equal(a, pkt + off, RADIUS_AUTH_LEN) ? 0 : -EPERM;
}

/* ---- tunnels ---- */

static struct radius_tunnel *tunnel_of(struct radius_tunnel *t, size_t max, size_t *n,
				       uint8_t tag)
{
	for (size_t i = 0; i < *n; i++)
		if (t[i].tag == tag)
			return &t[i];
	if (*n == max)
		return NULL;
	struct radius_tunnel *x = &t[(*n)++];
	memset(x, 0, sizeof(*x));
	x->tag = tag;
	x->preference = UINT32_MAX;
	return x;
}

int radius_tunnels(const struct radius_pkt *p, const uint8_t *secret, size_t slen,
		   const uint8_t req_auth[RADIUS_AUTH_LEN], struct radius_tunnel *out, size_t max,
		   size_t *n)
{
	*n = 0;
	for (size_t i = 0; i < p->nattrs; i++) {
		const struct radius_attr *a = &p->attrs[i];
		struct radius_tunnel *t;
		uint8_t tag;
		uint32_t v;
		const uint8_t *s;
		size_t sl;
		switch (a->type) {
		case RADIUS_TUNNEL_TYPE:
		case RADIUS_TUNNEL_MEDIUM_TYPE:
		case RADIUS_TUNNEL_PREFERENCE:
			if (radius_tagged_u32(a, &tag, &v) < 0 || tag > RADIUS_TUNNEL_TAG_MAX)
				return -EBADMSG;
			if (!(t = tunnel_of(out, max, n, tag)))
				continue;
			if (a->type == RADIUS_TUNNEL_TYPE)
				t->type = v;
			else if (a->type == RADIUS_TUNNEL_MEDIUM_TYPE)
				t->medium = v;
			else
				t->preference = v;
			break;
		case RADIUS_TUNNEL_SERVER_ENDPOINT:
			if (radius_tagged_str(a, &tag, &s, &sl) < 0 || memchr(s, 0, sl))
				return -EBADMSG;
			if (!(t = tunnel_of(out, max, n, tag)))
				continue;
			memcpy(t->server_endpoint, s, sl);
			t->server_endpoint[sl] = 0;
			break;
		case RADIUS_TUNNEL_PASSWORD:
			if (a->len < 1 || a->value[0] > RADIUS_TUNNEL_TAG_MAX)
				return -EBADMSG;
			if (!(t = tunnel_of(out, max, n, a->value[0])))
				continue;
			if (radius_tunnel_password_decrypt(secret, slen, req_auth, a->value + 1,
							   a->len - 1u, t->password,
							   &t->password_len) < 0)
				return -EBADMSG;
			t->has_password = true;
			break;
		default:
			break;
		}
	}
	/* Stable insertion sort by preference (a handful of groups). */
	for (size_t i = 1; i < *n; i++)
		for (size_t j = i; j > 0 && out[j].preference < out[j - 1].preference; j--) {
			struct radius_tunnel x = out[j];
			out[j] = out[j - 1];
			out[j - 1] = x;
		}
	return 0;
}
