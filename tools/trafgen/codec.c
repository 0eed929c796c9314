/* trafgen wire formats: the UDP datagram and the TCP stream header (see trafgen.h). */
#include <errno.h>

#include "trafgen.h"

int tg_pkt_encode(const struct tg_pkt *p, size_t size, struct wbuf *w)
{
	size_t min = p->type == TG_DATA ? TG_DATA_LEN : p->type == TG_END ? TG_END_LEN : 0;
	if (!min || size > TG_MAX_LEN)
		return -EINVAL;
	if (size < min)
		size = min;
	wbuf_put_u32(w, TG_MAGIC);
	wbuf_put_u8(w, TG_VERSION);
	wbuf_put_u8(w, p->type);
	wbuf_put_u16(w, 0);
	wbuf_put_u32(w, p->flow);
	wbuf_put_u64(w, p->type == TG_DATA ? p->seq : 0);
	wbuf_put_u64(w, p->send_ns);
	if (p->type == TG_END)
		wbuf_put_u64(w, p->total);
	wbuf_put_zero(w, size - min);
	return w->err;
}

int tg_pkt_decode(const void *buf, size_t len, struct tg_pkt *p)
{
	struct rbuf r;
	uint32_t magic;
	uint16_t flags;
	uint8_t version;
	rbuf_init(&r, buf, len);
	if (rbuf_get_u32(&r, &magic) || rbuf_get_u8(&r, &version) || rbuf_get_u8(&r, &p->type) ||
	    rbuf_get_u16(&r, &flags))
		return -EMSGSIZE;
	if (magic != TG_MAGIC || version != TG_VERSION ||
	    (p->type != TG_DATA && p->type != TG_END))
		return -EBADMSG;
	if (rbuf_get_u32(&r, &p->flow) || rbuf_get_u64(&r, &p->seq) ||
	    rbuf_get_u64(&r, &p->send_ns))
		return -EMSGSIZE;
	p->total = 0;
	if (p->type == TG_END && rbuf_get_u64(&r, &p->total))
		return -EMSGSIZE;
	return 0; /* padding ignored */
}

int tg_tcp_hdr_encode(uint64_t key, struct wbuf *w)
{
	wbuf_put_u32(w, TG_TCP_MAGIC);
	wbuf_put_u8(w, TG_VERSION);
	wbuf_put_zero(w, 3);
	wbuf_put_u64(w, key);
	return w->err;
}

int tg_tcp_hdr_decode(const void *buf, size_t len, uint64_t *key)
{
	struct rbuf r;
	uint32_t magic;
	uint8_t version;
	rbuf_init(&r, buf, len);
	if (rbuf_get_u32(&r, &magic) || rbuf_get_u8(&r, &version) || rbuf_skip(&r, 3) ||
	    rbuf_get_u64(&r, key))
		return -EMSGSIZE;
	if (magic != TG_TCP_MAGIC || version != TG_VERSION)
		return -EBADMSG;
	return 0;
}
