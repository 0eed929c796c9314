/* rbuf/wbuf: the cursors every codec reads and writes through. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "roam/buf.h"

static const uint8_t vec[] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
			       0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11 };

Test(rbuf, reads_big_endian_in_order)
{
	struct rbuf r;
	uint8_t u8;
	uint16_t u16;
	uint32_t u24, u32;
	uint64_t u64;
	rbuf_init(&r, vec, sizeof(vec));
	cr_assert_eq(rbuf_get_u8(&r, &u8), 0);
	cr_assert_eq(u8, 0x01);
	cr_assert_eq(rbuf_get_u16(&r, &u16), 0);
	cr_assert_eq(u16, 0x0203);
	cr_assert_eq(rbuf_get_u24(&r, &u24), 0);
	cr_assert_eq(u24, 0x040506);
	cr_assert_eq(rbuf_get_u32(&r, &u32), 0);
	cr_assert_eq(u32, 0x0708090a);
	cr_assert_eq(rbuf_left(&r), 7);
	cr_assert_eq(rbuf_get_u64(&r, &u64), -1, "7 bytes left: a u64 must not be read");
	cr_assert_eq(rbuf_left(&r), 7);
	rbuf_init(&r, vec + 9, 8);
	cr_assert_eq(rbuf_get_u64(&r, &u64), 0);
	cr_assert_eq(u64, 0x0a0b0c0d0e0f1011ULL);
	cr_assert_eq(rbuf_left(&r), 0);
	cr_assert_eq(rbuf_get_u8(&r, &u8), -1);
}

Test(rbuf, short_reads_fail_and_leave_the_cursor)
{
	struct rbuf r;
	uint32_t v;
	uint8_t out[4];
	rbuf_init(&r, vec, 3);
	cr_assert_eq(rbuf_get_u32(&r, &v), -1);
	cr_assert_eq(rbuf_left(&r), 3);
	cr_assert_eq(rbuf_get_bytes(&r, out, 4), -1);
	cr_assert_eq(rbuf_skip(&r, 4), -1);
	cr_assert_eq(rbuf_left(&r), 3);
	cr_assert_eq(rbuf_get_bytes(&r, out, 3), 0);
	cr_assert_eq(memcmp(out, vec, 3), 0);
}

Test(rbuf, every_getter_fails_cleanly_at_every_length)
{
	for (size_t len = 0; len < 8; len++) {
		struct rbuf r;
		uint8_t b;
		uint16_t s;
		uint32_t w;
		uint64_t q;
		rbuf_init(&r, vec, len);
		cr_assert_eq(rbuf_get_u8(&r, &b), len >= 1 ? 0 : -1);
		rbuf_init(&r, vec, len);
		cr_assert_eq(rbuf_get_u16(&r, &s), len >= 2 ? 0 : -1);
		rbuf_init(&r, vec, len);
		cr_assert_eq(rbuf_get_u24(&r, &w), len >= 3 ? 0 : -1);
		rbuf_init(&r, vec, len);
		cr_assert_eq(rbuf_get_u32(&r, &w), len >= 4 ? 0 : -1);
		rbuf_init(&r, vec, len);
		cr_assert_eq(rbuf_get_u64(&r, &q), -1);
	}
}

Test(rbuf, sub_limits_a_nested_view_and_advances_the_parent)
{
	struct rbuf r, sub;
	uint16_t v;
	rbuf_init(&r, vec, sizeof(vec));
	cr_assert_eq(rbuf_skip(&r, 1), 0);
	cr_assert_eq(rbuf_sub(&r, 3, &sub), 0);
	cr_assert_eq(rbuf_left(&sub), 3);
	cr_assert_eq(rbuf_get_u16(&sub, &v), 0);
	cr_assert_eq(v, 0x0203);
	cr_assert_eq(rbuf_get_u16(&sub, &v), -1, "the view must not read past its end");
	cr_assert_eq(rbuf_left(&r), sizeof(vec) - 4);
	cr_assert_eq(rbuf_get_u16(&r, &v), 0);
	cr_assert_eq(v, 0x0506);
	cr_assert_eq(rbuf_sub(&r, 100, &sub), -1);
	cr_assert_eq(rbuf_offset(&r, vec), 6);
}

Test(rbuf, peek_does_not_consume)
{
	struct rbuf r;
	uint8_t b;
	uint16_t s;
	rbuf_init(&r, vec, 2);
	cr_assert_eq(rbuf_peek_u8(&r, &b), 0);
	cr_assert_eq(rbuf_peek_u16(&r, &s), 0);
	cr_assert_eq(b, 1);
	cr_assert_eq(s, 0x0102);
	cr_assert_eq(rbuf_left(&r), 2);
	rbuf_init(&r, vec, 1);
	cr_assert_eq(rbuf_peek_u16(&r, &s), -1);
}

Test(rbuf, empty_and_null)
{
	struct rbuf r;
	uint8_t b;
	rbuf_init(&r, NULL, 0);
	cr_assert_eq(rbuf_left(&r), 0);
	cr_assert_eq(rbuf_get_u8(&r, &b), -1);
	cr_assert_eq(rbuf_skip(&r, 0), 0);
}

Test(wbuf, growable_writes_and_patches)
{
	struct wbuf w;
	wbuf_init(&w);
	wbuf_put_u8(&w, 0x01);
	size_t len_off = wbuf_reserve(&w, 2);
	wbuf_put_u24(&w, 0x040506);
	wbuf_put_u32(&w, 0x0708090a);
	wbuf_put_u64(&w, 0x0b0c0d0e0f101112ULL);
	wbuf_patch_u16(&w, len_off, 0x0203);
	cr_assert_eq(w.err, 0);
	cr_assert_eq(w.len, 18);
	cr_assert_eq(memcmp(w.buf, vec, 17), 0);
	cr_assert_eq(w.buf[17], 0x12);
	/* grow well past the initial capacity */
	for (int i = 0; i < 10000; i++)
		wbuf_put_u16(&w, (uint16_t)i);
	cr_assert_eq(w.err, 0);
	cr_assert_eq(w.len, 18 + 20000);
	cr_assert_eq(w.buf[18 + 2 * 9999 + 1], (uint8_t)9999);
	wbuf_patch_u32(&w, w.len - 2, 0); /* out of range: sticky error */
	cr_assert_eq(w.err, -ERANGE);
	size_t len = w.len;
	wbuf_put_u8(&w, 1);
	cr_assert_eq(w.len, len, "writes after an error are no-ops");
	wbuf_free(&w);
	cr_assert_null(w.buf);
}

Test(wbuf, fixed_buffer_overflow_is_sticky)
{
	uint8_t store[4];
	struct wbuf w;
	wbuf_init_fixed(&w, store, sizeof(store));
	wbuf_put_u16(&w, 0xa1a2);
	wbuf_put_u16(&w, 0xa3a4);
	cr_assert_eq(w.err, 0);
	cr_assert_eq(w.len, 4);
	wbuf_put_u8(&w, 0xff);
	cr_assert_eq(w.err, -ENOSPC);
	cr_assert_eq(w.len, 4);
	cr_assert_eq(store[3], 0xa4);
	wbuf_reset(&w);
	cr_assert_eq(w.err, 0);
	cr_assert_eq(w.len, 0);
	wbuf_free(&w); /* a fixed buffer is never freed */
}

Test(wbuf, printf_and_str)
{
	struct wbuf w;
	wbuf_init(&w);
	cr_assert_str_eq(wbuf_str(&w), "");
	wbuf_printf(&w, "%s=%d", "x", 42);
	wbuf_printf(&w, ",%s", "y");
	cr_assert_eq(w.len, 6);
	cr_assert_str_eq(wbuf_str(&w), "x=42,y");
	wbuf_put_bytes(&w, "!", 1);
	cr_assert_str_eq(wbuf_str(&w), "x=42,y!");
	wbuf_free(&w);

	char store[4];
	wbuf_init_fixed(&w, store, sizeof(store));
	wbuf_printf(&w, "abc");
	cr_assert_str_eq(wbuf_str(&w), "abc");
	wbuf_printf(&w, "d");
	cr_assert_eq(w.err, -ENOSPC, "no room for text and its NUL");
	cr_assert_str_eq(wbuf_str(&w), "abc");
}

Test(wbuf, zero_and_reserve)
{
	struct wbuf w;
	wbuf_init(&w);
	wbuf_put_u8(&w, 9);
	wbuf_put_zero(&w, 3);
	size_t off = wbuf_reserve(&w, 2);
	cr_assert_eq(off, 4);
	wbuf_patch_bytes(&w, off, "\xaa\xbb", 2);
	wbuf_patch_u8(&w, 1, 7);
	const uint8_t want[] = { 9, 7, 0, 0, 0xaa, 0xbb };
	cr_assert_eq(w.len, sizeof(want));
	cr_assert_eq(memcmp(w.buf, want, sizeof(want)), 0);
	wbuf_free(&w);
	uint8_t s[1];
	wbuf_init_fixed(&w, s, 1);
	cr_assert_eq(wbuf_reserve(&w, 2), (size_t)-1);
	cr_assert_eq(w.err, -ENOSPC);
}
