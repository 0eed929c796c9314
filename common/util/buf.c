/* Bounds-checked read and write cursors (see roam/buf.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roam/buf.h"

void rbuf_init(struct rbuf *r, const void *data, size_t len)
{
	r->p = data;
	r->end = r->p ? r->p + len : NULL;
}

size_t rbuf_left(const struct rbuf *r)
{
	return (size_t)(r->end - r->p);
}

int rbuf_get_ptr(struct rbuf *r, size_t n, const uint8_t **ptr)
{
	if (rbuf_left(r) < n)
		return -1;
	*ptr = r->p;
	r->p += n;
	return 0;
}

int rbuf_get_bytes(struct rbuf *r, void *dst, size_t n)
{
	const uint8_t *p;
	if (rbuf_get_ptr(r, n, &p) < 0)
		return -1;
	if (n)
		memcpy(dst, p, n);
	return 0;
}

int rbuf_skip(struct rbuf *r, size_t n)
{
	const uint8_t *p;
	return rbuf_get_ptr(r, n, &p);
}

static uint64_t be_read(const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

static int get_be(struct rbuf *r, size_t n, uint64_t *v)
{
	const uint8_t *p;
	if (rbuf_get_ptr(r, n, &p) < 0)
		return -1;
	*v = be_read(p, n);
	return 0;
}

int rbuf_get_u8(struct rbuf *r, uint8_t *v)
{
	uint64_t x;
	if (get_be(r, 1, &x) < 0)
		return -1;
	*v = (uint8_t)x;
	return 0;
}

int rbuf_get_u16(struct rbuf *r, uint16_t *v)
{
	uint64_t x;
	if (get_be(r, 2, &x) < 0)
		return -1;
	*v = (uint16_t)x;
	return 0;
}

int rbuf_get_u24(struct rbuf *r, uint32_t *v)
{
	uint64_t x;
	if (get_be(r, 3, &x) < 0)
		return -1;
	*v = (uint32_t)x;
	return 0;
}

int rbuf_get_u32(struct rbuf *r, uint32_t *v)
{
	uint64_t x;
	if (get_be(r, 4, &x) < 0)
		return -1;
	*v = (uint32_t)x;
	return 0;
}

int rbuf_get_u64(struct rbuf *r, uint64_t *v)
{
	return get_be(r, 8, v);
}

int rbuf_peek_u8(const struct rbuf *r, uint8_t *v)
{
	struct rbuf c = *r;
	return rbuf_get_u8(&c, v);
}

int rbuf_peek_u16(const struct rbuf *r, uint16_t *v)
{
	struct rbuf c = *r;
	return rbuf_get_u16(&c, v);
}

int rbuf_sub(struct rbuf *r, size_t n, struct rbuf *sub)
{
	const uint8_t *p;
	if (rbuf_get_ptr(r, n, &p) < 0)
		return -1;
	sub->p = p;
	sub->end = p + n;
	return 0;
}

size_t rbuf_offset(const struct rbuf *r, const void *base)
{
	return (size_t)(r->p - (const uint8_t *)base);
}

void wbuf_init(struct wbuf *w)
{
	memset(w, 0, sizeof(*w));
}

void wbuf_init_fixed(struct wbuf *w, void *storage, size_t cap)
{
	memset(w, 0, sizeof(*w));
	w->buf = storage;
	w->cap = cap;
	w->fixed = 1;
}

void wbuf_free(struct wbuf *w)
{
	if (!w->fixed)
		free(w->buf);
	w->buf = NULL;
	w->len = w->cap = 0;
}

void wbuf_reset(struct wbuf *w)
{
	w->len = 0;
	w->err = 0;
}

/* Makes room for n more bytes plus a NUL guard; returns 0 or -1 (err set). */
static int wbuf_grow(struct wbuf *w, size_t n)
{
	if (w->err)
		return -1;
	if (n > SIZE_MAX / 2 - w->len) {
		w->err = -ENOMEM;
		return -1;
	}
	size_t need = w->len + n;
	if (w->fixed) {
		if (need > w->cap) {
			w->err = -ENOSPC;
			return -1;
		}
		return 0;
	}
	if (need + 1 > w->cap) {
		size_t cap = w->cap ? w->cap : 64;
		while (cap < need + 1)
			cap *= 2;
		uint8_t *nb = realloc(w->buf, cap);
		if (!nb) {
			w->err = -ENOMEM;
			return -1;
		}
		w->buf = nb;
		w->cap = cap;
	}
	return 0;
}

void wbuf_put_bytes(struct wbuf *w, const void *src, size_t n)
{
	if (wbuf_grow(w, n) < 0)
		return;
	if (n)
		memcpy(w->buf + w->len, src, n);
	w->len += n;
}

void wbuf_put_zero(struct wbuf *w, size_t n)
{
	if (wbuf_grow(w, n) < 0)
		return;
	if (n)
		memset(w->buf + w->len, 0, n);
	w->len += n;
}

static void be_write(uint8_t *p, uint64_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

static void put_be(struct wbuf *w, uint64_t v, size_t n)
{
	if (wbuf_grow(w, n) < 0)
		return;
	be_write(w->buf + w->len, v, n);
	w->len += n;
}

void wbuf_put_u8(struct wbuf *w, uint8_t v) { put_be(w, v, 1); }
void wbuf_put_u16(struct wbuf *w, uint16_t v) { put_be(w, v, 2); }
void wbuf_put_u24(struct wbuf *w, uint32_t v) { put_be(w, v & 0xffffff, 3); }
void wbuf_put_u32(struct wbuf *w, uint32_t v) { put_be(w, v, 4); }
void wbuf_put_u64(struct wbuf *w, uint64_t v) { put_be(w, v, 8); }

size_t wbuf_reserve(struct wbuf *w, size_t n)
{
	size_t off = w->len;
	wbuf_put_zero(w, n);
	return w->err ? (size_t)-1 : off;
}

static int patch_ok(struct wbuf *w, size_t off, size_t n)
{
	if (w->err)
		return 0;
	if (off > w->len || n > w->len - off) {
		w->err = -ERANGE;
		return 0;
	}
	return 1;
}

void wbuf_patch_u8(struct wbuf *w, size_t off, uint8_t v)
{
	if (patch_ok(w, off, 1))
		be_write(w->buf + off, v, 1);
}

void wbuf_patch_u16(struct wbuf *w, size_t off, uint16_t v)
{
	if (patch_ok(w, off, 2))
		be_write(w->buf + off, v, 2);
}

void wbuf_patch_u32(struct wbuf *w, size_t off, uint32_t v)
{
	if (patch_ok(w, off, 4))
		be_write(w->buf + off, v, 4);
}

void wbuf_patch_bytes(struct wbuf *w, size_t off, const void *src, size_t n)
{
	if (patch_ok(w, off, n) && n)
		memcpy(w->buf + off, src, n);
}

void wbuf_printf(struct wbuf *w, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		if (!w->err)
			w->err = -EINVAL;
		return;
	}
	/* +1 for vsnprintf's NUL, which is not counted in len */
	if (wbuf_grow(w, (size_t)n + 1) < 0)
		return;
	va_start(ap, fmt);
	vsnprintf((char *)w->buf + w->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	w->len += (size_t)n;
}

const char *wbuf_str(struct wbuf *w)
{
	static const char empty[1];
	if (!w->buf)
		return empty;
	if (w->len >= w->cap) { /* only a full fixed buffer: no room for the NUL */
		if (!w->err)
			w->err = -ENOSPC;
		return empty;
	}
	w->buf[w->len] = 0;
	return (const char *)w->buf;
}
