/* Mobile IPv4 control messages (roam/mip4.h): mip4_msg_decode on a UDP payload; when it
 * succeeds the message is re-encoded (mip4_msg_encode must accept it: authentication
 * extensions are written verbatim), decoded again to the same fields, and encoded again to the
 * same bytes.  Authenticator lookups (mip4_auth_end, mip4_auth_verify with a test key) run on
 * every decoded message. */
#include <errno.h>

#include "fuzz.h"
#include "roam/mip4.h"

static void same_msg(const struct mip4_msg *a, const struct mip4_msg *b)
{
	FUZZ_CHECK(a->type == b->type && a->flags == b->flags && a->code == b->code &&
	           a->lifetime == b->lifetime && a->home.s_addr == b->home.s_addr &&
	           a->ha.s_addr == b->ha.s_addr && a->coa.s_addr == b->coa.s_addr &&
	           a->target.s_addr == b->target.s_addr && a->has_id == b->has_id &&
	           (!a->has_id || a->id == b->id), "fixed part changed across a round trip");
	FUZZ_CHECK(a->exts == b->exts, "extension set changed: %x vs %x", a->exts, b->exts);
	if (a->exts & MIP4_HAS_NAI)
		FUZZ_CHECK(fuzz_eq(a->nai, a->nai_len, b->nai, b->nai_len),
		           "NAI changed");
	if (a->exts & MIP4_HAS_GFA_ADDR)
		FUZZ_CHECK(a->gfa_addr.s_addr == b->gfa_addr.s_addr, "GFA address changed");
	if (a->exts & MIP4_HAS_HIER_FA)
		FUZZ_CHECK(a->hier_fa.s_addr == b->hier_fa.s_addr, "hierarchical FA changed");
	for (int k = 0; k < MIP4_AUTH_KINDS; k++) {
		const struct mip4_auth *x = &a->auth[k], *y = &b->auth[k];
		FUZZ_CHECK(x->present == y->present, "auth %s presence changed", mip4_auth_name(k));
		if (x->present)
			FUZZ_CHECK(x->spi == y->spi &&
			           fuzz_eq(x->mac, x->mac_len, y->mac, y->mac_len),
			           "auth %s changed", mip4_auth_name(k));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct roam_key key;
	static int have_key;
	struct mip4_msg m, m2;
	struct wbuf w1, w2;
	int rc;

	fuzz_quiet();
	if (!have_key) {
		uint8_t k[16];
		for (int i = 0; i < 16; i++)
			k[i] = (uint8_t)i;
		if (auth_key_set(&key, AUTH_ALG_HMAC_MD5, k, sizeof(k)) < 0)
			abort();
		have_key = 1;
	}
	memset(&m, 0, sizeof(m));
	rc = mip4_msg_decode(data, size, &m);
	FUZZ_CHECK(rc == 0 || rc == -EBADMSG || rc == -ENOTSUP || rc == -EPROTONOSUPPORT,
	           "decode: %d", rc);
	(void)mip4_msg_name(m.type);
	(void)mip4_code_name(m.code);
	if (rc != 0)
		return 0;
	FUZZ_CHECK(m.len == size, "decoded length %zu of %zu", m.len, size);
	for (int k = 0; k < MIP4_AUTH_KINDS; k++) {
		size_t keep = 0;
		if (mip4_auth_end(&m, k, &keep) == 0)
			FUZZ_CHECK(keep <= size && m.auth[k].covered <= size,
			           "auth %s ends past the message", mip4_auth_name(k));
		rc = mip4_auth_verify(data, &m, k, &key);
		FUZZ_CHECK(rc == 0 || rc == -ENOENT || rc == -EBADMSG || rc == -EINVAL,
		           "verify %s: %d", mip4_auth_name(k), rc);
	}

	wbuf_init(&w1);
	rc = mip4_msg_encode(&w1, &m);
	FUZZ_CHECK(rc == 0, "mip4_msg_encode of a decoded %s: %d", mip4_msg_name(m.type), rc);
	memset(&m2, 0, sizeof(m2));
	rc = mip4_msg_decode(w1.buf, w1.len, &m2);
	FUZZ_CHECK(rc == 0, "re-encoded message does not decode: %d (ext %d)", rc, m2.bad_ext);
	same_msg(&m, &m2);
	wbuf_init(&w2);
	FUZZ_CHECK(mip4_msg_encode(&w2, &m2) == 0, "second encode");
	FUZZ_CHECK(fuzz_eq(w1.buf, w1.len, w2.buf, w2.len), "encoding not stable");
	wbuf_free(&w1);
	wbuf_free(&w2);
	return 0;
}
