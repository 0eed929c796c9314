/* Hidden AVP values (RFC 2661 4.3) and tunnel authentication (Challenge Response, 4.4.3).
 * Both are MD5 constructions over the tunnel's shared secret; MD5 itself comes from roam/auth.h. */
#include <errno.h>
#include <string.h>

#include "roam/l2tp.h"

#define SECRET_MAX 256
#define RV_MAX     (L2TP_AVP_MAX_LEN - L2TP_AVP_HDR_LEN)

/* Applies the RFC 2661 4.3 key stream to n bytes.  The chaining input is always the cipher
 * text: `in` when decrypting, `out` when encrypting. */
static int hidden_xor(int encrypt, uint16_t attr, const uint8_t *secret, size_t secret_len,
                      const uint8_t *rv, size_t rv_len, const uint8_t *in, uint8_t *out, size_t n)
{
	uint8_t buf[2 + SECRET_MAX + RV_MAX];
	uint8_t b[AUTH_MD5_LEN];
	size_t len, off;
	int rc;

	if ((!secret && secret_len) || secret_len > SECRET_MAX || !rv || rv_len == 0 ||
	    rv_len > RV_MAX)
		return -EINVAL;
	buf[0] = (uint8_t)(attr >> 8);
	buf[1] = (uint8_t)attr;
	if (secret_len)
		memcpy(buf + 2, secret, secret_len);
	memcpy(buf + 2 + secret_len, rv, rv_len);
	len = 2 + secret_len + rv_len;
	for (off = 0; off < n; off += AUTH_MD5_LEN) {
		size_t blk = n - off < AUTH_MD5_LEN ? n - off : AUTH_MD5_LEN;
		if ((rc = auth_md5(buf, len, b)) < 0)
			return rc;
		/* next block's key: MD5(secret + c(i)); c(i) is a full 16 bytes except at the end */
		uint8_t c[AUTH_MD5_LEN];
		for (size_t i = 0; i < blk; i++) {
			c[i] = encrypt ? (uint8_t)(in[off + i] ^ b[i]) : in[off + i];
			out[off + i] = (uint8_t)(in[off + i] ^ b[i]);
		}
		if (secret_len)
			memcpy(buf, secret, secret_len);
		memcpy(buf + secret_len, c, blk);
		len = secret_len + blk;
	}
	return 0;
}

int l2tp_hidden_encrypt(uint16_t attr, const uint8_t *secret, size_t secret_len,
                        const uint8_t *rv, size_t rv_len, const uint8_t *in, uint8_t *out,
                        size_t n)
{
	return hidden_xor(1, attr, secret, secret_len, rv, rv_len, in, out, n);
}

int l2tp_hidden_decrypt(uint16_t attr, const uint8_t *secret, size_t secret_len,
                        const uint8_t *rv, size_t rv_len, const uint8_t *in, uint8_t *out,
                        size_t n)
{
	return hidden_xor(0, attr, secret, secret_len, rv, rv_len, in, out, n);
}

int l2tp_challenge_response(uint8_t msg_type, const uint8_t *secret, size_t secret_len,
                            const uint8_t *challenge, size_t challenge_len,
                            uint8_t out[AUTH_MD5_LEN])
{
	uint8_t buf[1 + SECRET_MAX + RV_MAX];

	if ((!secret && secret_len) || secret_len > SECRET_MAX || !challenge ||
	    challenge_len == 0 || challenge_len > RV_MAX)
		return -EINVAL;
	buf[0] = msg_type;
	if (secret_len)
		memcpy(buf + 1, secret, secret_len);
	memcpy(buf + 1 + secret_len, challenge, challenge_len);
	return auth_md5(buf, 1 + secret_len + challenge_len, out);
}

int l2tp_challenge_verify(uint8_t msg_type, const uint8_t *secret, size_t secret_len,
                          const uint8_t *challenge, size_t challenge_len,
                          const uint8_t response[AUTH_MD5_LEN])
{
	uint8_t want[AUTH_MD5_LEN];
	int rc = l2tp_challenge_response(msg_type, secret, secret_len, challenge, challenge_len,
	                                 want);
	if (rc < 0)
		return rc;
	return auth_equal(want, response, AUTH_MD5_LEN) ? 0 : -EACCES;
}
