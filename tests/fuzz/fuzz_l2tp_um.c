/* USER_MOVED (roam/l2tp.h, docs/protocols/l2tp-handoff.md).  The HMAC would stop the fuzzer at
 * the first check, so the target first decodes the input as it is (must be refused unless the
 * MAC is right), then with the trailing 32 bytes replaced by the correct HMAC-SHA256 under the
 * unit tests' key: that decode reaches every field.  A decoded message is re-encoded
 * (l2tp_um_encode must accept it), must decode to the same fields, and encode to the same
 * bytes again. */
#include <errno.h>

#include "fuzz.h"
#include "roam/l2tp.h"

static int same_um(const struct l2tp_user_moved *a, const struct l2tp_user_moved *b)
{
	return a->key_id == b->key_id && a->timestamp_ms == b->timestamp_ms &&
	       a->lac_addr == b->lac_addr && a->lns_addr == b->lns_addr &&
	       a->lns_port == b->lns_port && a->old_tunnel_id == b->old_tunnel_id &&
	       a->old_session_id == b->old_session_id && a->peer_tunnel_id == b->peer_tunnel_id &&
	       a->peer_session_id == b->peer_session_id && a->hold_s == b->hold_s &&
	       memcmp(&a->state, &b->state, sizeof(a->state)) == 0 && strcmp(a->min, b->min) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct roam_key key;
	static int have_key;
	struct l2tp_user_moved um, um2;
	uint8_t buf[512];
	int rc;

	fuzz_quiet();
	if (!have_key) {
		uint8_t k[32];
		for (int i = 0; i < 32; i++)
			k[i] = (uint8_t)(1 + i); /* key(1) of test_l2tp_handoff.c */
		if (auth_key_set(&key, AUTH_ALG_HMAC_SHA256, k, sizeof(k)) < 0)
			abort();
		have_key = 1;
	}
	rc = l2tp_um_decode(data, size, &key, &um);
	FUZZ_CHECK(rc == 0 || rc == -EBADMSG || rc == -EACCES, "decode as received: %d", rc);

	if (size < AUTH_SHA256_LEN || size > sizeof(buf))
		return 0;
	memcpy(buf, data, size);
	if (auth_mac(&key, buf, size - AUTH_SHA256_LEN, buf + size - AUTH_SHA256_LEN) < 0)
		abort();
	rc = l2tp_um_decode(buf, size, &key, &um);
	FUZZ_CHECK(rc == 0 || rc == -EBADMSG, "decode with a good MAC: %d", rc);
	if (rc != 0)
		return 0;
	FUZZ_CHECK(l2tp_min_valid(um.min) == 0, "decoded MIN '%s' is not valid", um.min);

	struct wbuf w1, w2;
	wbuf_init(&w1);
	rc = l2tp_um_encode(&w1, &um, &key);
	FUZZ_CHECK(rc == 0, "l2tp_um_encode of a decoded message: %d", rc);
	rc = l2tp_um_decode(w1.buf, w1.len, &key, &um2);
	FUZZ_CHECK(rc == 0, "re-encoded message does not decode: %d", rc);
	FUZZ_CHECK(same_um(&um, &um2), "message changed across a round trip");
	wbuf_init(&w2);
	FUZZ_CHECK(l2tp_um_encode(&w2, &um2, &key) == 0, "second encode");
	FUZZ_CHECK(fuzz_eq(w1.buf, w1.len, w2.buf, w2.len), "encoding not stable");
	FUZZ_CHECK(w1.len == size,
	           "re-encoded length %zu, received %zu (MIN '%s', MIN length byte %u)", w1.len,
	           size, um.min, buf[7]);
	wbuf_free(&w1);
	wbuf_free(&w2);
	return 0;
}
