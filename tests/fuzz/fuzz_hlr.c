/* HLR codec (roam/hlr.h): hlr_decode on arbitrary bytes; when it succeeds the message is
 * re-encoded (hlr_encode must accept whatever hlr_decode accepted), the result must verify
 * under the key, decode to the same host form, and encode again to the same bytes.  The input
 * is also verified (hlr_verify must never fail other than -EBADMSG / -EINVAL). */
#include <errno.h>

#include "fuzz.h"
#include "roam/hlr.h"

static void same_msg(const struct hlr_msg *a, const struct hlr_msg *b)
{
	FUZZ_CHECK(a->type == b->type && a->flags == b->flags && a->code == b->code &&
	           a->txid == b->txid && a->key_id == b->key_id && a->timestamp == b->timestamp &&
	           a->present == b->present, "header or attribute set changed");
	if (a->present & HLR_HAS_PERM)
		FUZZ_CHECK(roam_ipaddr_eq(&a->perm, &b->perm), "permanent address changed");
	if (a->present & HLR_HAS_COA)
		FUZZ_CHECK(roam_ipaddr_eq(&a->coa, &b->coa), "care-of address changed");
	if (a->present & HLR_HAS_LIFETIME)
		FUZZ_CHECK(a->lifetime == b->lifetime, "lifetime changed");
	if (a->present & HLR_HAS_NEG_TTL)
		FUZZ_CHECK(a->neg_ttl == b->neg_ttl, "negative ttl changed");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct roam_key key;
	static int have_key;
	struct hlr_msg m, m2;
	const char *why = NULL;

	fuzz_quiet();
	if (!have_key) {
		uint8_t k[32];
		for (int i = 0; i < 32; i++)
			k[i] = (uint8_t)i; /* the key of the unit-test vectors */
		if (auth_key_set(&key, AUTH_ALG_HMAC_SHA256, k, sizeof(k)) < 0)
			abort();
		have_key = 1;
	}

	int vr = hlr_verify(data, size, &key);
	FUZZ_CHECK(vr == 0 || vr == -EBADMSG || vr == -EINVAL, "hlr_verify returned %d", vr);

	memset(&m, 0, sizeof(m));
	if (hlr_decode(data, size, &m, &why) != 0)
		return 0;
	FUZZ_CHECK(hlr_msg_check(&m, &why) == 0, "decoded message fails hlr_msg_check: %s", why);

	uint8_t o1[HLR_MAX_MSG], o2[HLR_MAX_MSG];
	struct wbuf w1, w2;
	wbuf_init_fixed(&w1, o1, sizeof(o1));
	int rc = hlr_encode(&w1, &m, &key);
	FUZZ_CHECK(rc == 0, "hlr_encode of a decoded message: %d", rc);
	FUZZ_CHECK(hlr_verify(o1, w1.len, &key) == 0, "re-encoded message does not verify");
	memset(&m2, 0, sizeof(m2));
	rc = hlr_decode(o1, w1.len, &m2, &why);
	FUZZ_CHECK(rc == 0, "re-encoded message does not decode: %s", why ? why : "?");
	same_msg(&m, &m2);
	wbuf_init_fixed(&w2, o2, sizeof(o2));
	FUZZ_CHECK(hlr_encode(&w2, &m2, &key) == 0, "second encode");
	FUZZ_CHECK(fuzz_eq(o1, w1.len, o2, w2.len), "encoding not stable");
	/* A verified input without unknown optional attributes is already canonical. */
	if (vr == 0 && w1.len == size)
		FUZZ_CHECK(memcmp(o1, data, size) == 0, "verified input re-encodes differently");
	return 0;
}
