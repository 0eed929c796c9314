/* USER_MOVED (docs/protocols/l2tp-handoff.md): encoding, HMAC-SHA256, forgery and replay.
 * The vector's HMAC was computed independently (Python hmac/hashlib). */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "roam/l2tp.h"

static const uint8_t v_um[] = {
	0x52, 0x4d, 0x01, 0x01, 0x00, 0x6a, 0x01, 0x0a, 0x00, 0x00, 0x01, 0x8b,
	0xcf, 0xe5, 0x68, 0x7b, 0xc0, 0xa8, 0x0a, 0x01, 0xc0, 0xa8, 0x14, 0x01,
	0x06, 0xa5, 0x00, 0x03, 0x00, 0x05, 0x12, 0x34, 0x00, 0x09, 0x00, 0x1e,
	0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x80, 0x03, 0x07, 0x05, 0xdc,
	0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xc2, 0x23, 0x00, 0x00,
	0x0a, 0x40, 0x00, 0x02, 0x33, 0x31, 0x32, 0x35, 0x35, 0x35, 0x30, 0x31,
	0x30, 0x30, 0xb6, 0xe7, 0x57, 0x8d, 0x92, 0x46, 0xfe, 0x6a, 0xe2, 0x0f,
	0xbc, 0xf7, 0x8e, 0xef, 0x0c, 0xf2, 0x51, 0xb8, 0x07, 0x79, 0x4a, 0x12,
	0x01, 0xb4, 0x90, 0x6b, 0xf4, 0x44, 0x98, 0x9f, 0xbe, 0xbb,
};

static struct roam_key key(uint8_t first)
{
	struct roam_key k;
	uint8_t b[32];
	for (int i = 0; i < 32; i++)
		b[i] = (uint8_t)(first + i);
	cr_assert_eq(auth_key_set(&k, AUTH_ALG_HMAC_SHA256, b, sizeof(b)), 0);
	return k;
}

static struct l2tp_user_moved um_example(void)
{
	struct l2tp_user_moved um = {
		.key_id = 1, .timestamp_ms = 1700000000123ULL, .lac_addr = 0xc0a80a01,
		.lns_addr = 0xc0a81401, .lns_port = 1701, .old_tunnel_id = 3, .old_session_id = 5,
		.peer_tunnel_id = 0x1234, .peer_session_id = 9, .hold_s = 30,
		.state = { .data_ns = 0x100, .data_nr = 0x80, .ppp_phase = 3, .ppp_flags = 7,
		           .mru = 1500, .accm_send = 0, .accm_recv = 0xffffffff,
		           .auth_proto = 0xc223, .mobile_addr = 0x0a400002 },
	};
	strcpy(um.min, "3125550100");
	return um;
}

Test(l2tp_um, vector_encode_decode)
{
	struct roam_key k = key(0);
	struct l2tp_user_moved um = um_example(), got;
	struct wbuf w;
	wbuf_init(&w);
	cr_assert_eq(l2tp_um_encode(&w, &um, &k), 0);
	cr_assert_eq(w.len, sizeof(v_um));
	cr_assert(memcmp(w.buf, v_um, sizeof(v_um)) == 0);
	wbuf_free(&w);
	cr_assert_eq(l2tp_um_decode(v_um, sizeof(v_um), &k, &got), 0);
	cr_assert_eq(got.key_id, 1);
	cr_assert_eq(got.timestamp_ms, um.timestamp_ms);
	cr_assert_eq(got.lac_addr, um.lac_addr);
	cr_assert_eq(got.lns_addr, um.lns_addr);
	cr_assert_eq(got.lns_port, 1701);
	cr_assert_eq(got.old_tunnel_id, 3);
	cr_assert_eq(got.old_session_id, 5);
	cr_assert_eq(got.peer_tunnel_id, 0x1234);
	cr_assert_eq(got.peer_session_id, 9);
	cr_assert_eq(got.hold_s, 30);
	cr_assert_eq(got.state.data_ns, 0x100);
	cr_assert_eq(got.state.data_nr, 0x80);
	cr_assert_eq(got.state.ppp_phase, 3);
	cr_assert_eq(got.state.ppp_flags, 7);
	cr_assert_eq(got.state.mru, 1500);
	cr_assert_eq(got.state.accm_recv, 0xffffffff);
	cr_assert_eq(got.state.auth_proto, 0xc223);
	cr_assert_eq(got.state.mobile_addr, 0x0a400002);
	cr_assert_str_eq(got.min, "3125550100");
}

Test(l2tp_um, forged_and_truncated)
{
	struct roam_key k = key(0), other = key(1);
	struct l2tp_user_moved got;
	uint8_t b[sizeof(v_um)];
	cr_assert_eq(l2tp_um_decode(v_um, sizeof(v_um), &other, &got), -EACCES);
	cr_assert_eq(got.min[0], 0); /* nothing handed out */
	for (size_t i = 0; i < sizeof(v_um); i++) {
		memcpy(b, v_um, sizeof(b));
		b[i] ^= 0x01;
		int rc = l2tp_um_decode(b, sizeof(b), &k, &got);
		cr_assert(rc == -EACCES || rc == -EBADMSG, "flip at %zu: %d", i, rc);
	}
	for (size_t cut = 0; cut < sizeof(v_um); cut++)
		cr_assert_eq(l2tp_um_decode(v_um, cut, &k, &got), -EBADMSG, "cut %zu", cut);
	struct roam_key md5;
	cr_assert_eq(auth_key_set(&md5, AUTH_ALG_HMAC_MD5, "x", 1), 0);
	cr_assert_eq(l2tp_um_decode(v_um, sizeof(v_um), &md5, &got), -EINVAL);
	/* a bad MIN is not sent: here one that fills the buffer with no room for its NUL (16
	 * digits where at most 15 are allowed) */
	struct l2tp_user_moved um = um_example();
	memset(um.min, '7', sizeof(um.min));
	struct wbuf w;
	wbuf_init(&w);
	cr_assert_eq(l2tp_um_encode(&w, &um, &k), -EINVAL);
	wbuf_free(&w);
}

Test(l2tp_um, replay)
{
	struct roam_key k = key(0);
	struct l2tp_user_moved got;
	struct replay_ts r;
	uint64_t now = 1700000000123ULL + 500;
	replay_ts_init(&r, L2TP_UM_REPLAY_TOLERANCE_MS, 4);
	cr_assert_eq(l2tp_um_decode(v_um, sizeof(v_um), &k, &got), 0);
	cr_assert_eq(l2tp_um_replay_accept(&r, &got, now), 0);
	cr_assert_eq(l2tp_um_replay_accept(&r, &got, now + 10), -EALREADY);
	/* a replay long after: outside the tolerance */
	replay_ts_init(&r, L2TP_UM_REPLAY_TOLERANCE_MS, 4);
	cr_assert_eq(l2tp_um_replay_accept(&r, &got, now + 60000), -ERANGE);
}

Test(l2tp_um, min_valid)
{
	cr_assert_eq(l2tp_min_valid("0"), 0);
	cr_assert_eq(l2tp_min_valid("123456789012345"), 0);
	cr_assert_eq(l2tp_min_valid("1234567890123456"), -EINVAL);
	cr_assert_eq(l2tp_min_valid(""), -EINVAL);
	cr_assert_eq(l2tp_min_valid("12 4"), -EINVAL);
	cr_assert_eq(l2tp_min_valid(NULL), -EINVAL);
}

/* A MIN must be digits only: one with a NUL inside, correctly authenticated, would otherwise be
 * accepted with the bytes after the NUL never checked (found by fuzz_l2tp_um). */
Test(l2tp_um, min_with_nul_refused)
{
	struct roam_key k = key(0);
	struct l2tp_user_moved um = um_example(), got;
	struct wbuf w;
	wbuf_init(&w);
	cr_assert_eq(l2tp_um_encode(&w, &um, &k), 0);
	/* find the MIN in the encoding and put a NUL in its middle */
	size_t at = 0;
	for (size_t i = 0; i + 10 <= w.len; i++)
		if (memcmp(w.buf + i, "3125550100", 10) == 0)
			at = i;
	cr_assert_gt(at, 0);
	w.buf[at + 4] = 0;
	/* re-authenticate so only the MIN check can refuse it */
	size_t maclen = auth_mac_len(k.alg);
	cr_assert_eq(auth_mac(&k, w.buf, w.len - maclen, w.buf + w.len - maclen), 0);
	cr_assert_eq(l2tp_um_decode(w.buf, w.len, &k, &got), -EBADMSG);
	wbuf_free(&w);
}
