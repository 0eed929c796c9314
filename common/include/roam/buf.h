/* Bounds-checked wire cursors.  Every protocol codec in common/proto/ reads through an rbuf and
 * writes through a wbuf; no codec does raw pointer arithmetic on packet bytes.
 * All multi-byte integers are in network byte order on the wire. */
#ifndef ROAM_BUF_H
#define ROAM_BUF_H
#include <stddef.h>
#include <stdint.h>

/* Read cursor over borrowed bytes.  Getters return 0, or -1 on a short read (the cursor is then
 * left unchanged). */
struct rbuf {
	const uint8_t *p, *end;
};

void rbuf_init(struct rbuf *r, const void *data, size_t len);
size_t rbuf_left(const struct rbuf *r);
int rbuf_get_u8(struct rbuf *r, uint8_t *v);
int rbuf_get_u16(struct rbuf *r, uint16_t *v);
int rbuf_get_u24(struct rbuf *r, uint32_t *v);
int rbuf_get_u32(struct rbuf *r, uint32_t *v);
int rbuf_get_u64(struct rbuf *r, uint64_t *v);
/* Copies n bytes out. */
int rbuf_get_bytes(struct rbuf *r, void *dst, size_t n);
/* Borrows a pointer to the next n bytes (valid as long as the underlying buffer). */
int rbuf_get_ptr(struct rbuf *r, size_t n, const uint8_t **ptr);
int rbuf_skip(struct rbuf *r, size_t n);
/* Peeks without consuming. */
int rbuf_peek_u8(const struct rbuf *r, uint8_t *v);
int rbuf_peek_u16(const struct rbuf *r, uint16_t *v);
/* Splits off a length-limited view of the next n bytes (a nested AVP, extension or option) and
 * advances the parent past them. */
int rbuf_sub(struct rbuf *r, size_t n, struct rbuf *sub);
/* Offset of the cursor from a base pointer (for authenticators covering "everything so far"). */
size_t rbuf_offset(const struct rbuf *r, const void *base);

/* Write buffer: growable (heap) or fixed (caller's storage).  The first failure (allocation, or a
 * fixed buffer running out, or a patch out of range) sets err; later writes are no-ops, so a
 * writer checks err once at the end. */
struct wbuf {
	uint8_t *buf;
	size_t len, cap;
	int err;   /* 0, or -ENOMEM / -ENOSPC / -ERANGE */
	int fixed; /* caller-owned storage, never reallocated or freed */
};

void wbuf_init(struct wbuf *w);                                  /* growable, empty */
void wbuf_init_fixed(struct wbuf *w, void *storage, size_t cap); /* fixed */
void wbuf_free(struct wbuf *w);                                  /* frees a growable buffer */
void wbuf_reset(struct wbuf *w);                                 /* len = 0, err = 0 */
void wbuf_put_u8(struct wbuf *w, uint8_t v);
void wbuf_put_u16(struct wbuf *w, uint16_t v);
void wbuf_put_u24(struct wbuf *w, uint32_t v);
void wbuf_put_u32(struct wbuf *w, uint32_t v);
void wbuf_put_u64(struct wbuf *w, uint64_t v);
void wbuf_put_bytes(struct wbuf *w, const void *src, size_t n);
void wbuf_put_zero(struct wbuf *w, size_t n);
/* Reserves n bytes (zeroed) and returns their offset, for fields patched later (lengths,
 * checksums, authenticators); returns (size_t)-1 and sets err on failure. */
size_t wbuf_reserve(struct wbuf *w, size_t n);
void wbuf_patch_u8(struct wbuf *w, size_t off, uint8_t v);
void wbuf_patch_u16(struct wbuf *w, size_t off, uint16_t v);
void wbuf_patch_u32(struct wbuf *w, size_t off, uint32_t v);
void wbuf_patch_bytes(struct wbuf *w, size_t off, const void *src, size_t n);
/* Appends printf-formatted text (no terminating NUL counted in len; one is kept after it). */
void wbuf_printf(struct wbuf *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Pointer to the NUL-terminated contents (text use); never NULL. */
const char *wbuf_str(struct wbuf *w);

#endif
