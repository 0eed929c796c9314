/* L2TPv2 message header (RFC 2661 3.1) and data-channel sequence numbers (RFC 2661 5.8). */
#include <errno.h>

#include "roam/l2tp.h"

int l2tp_hdr_decode(const void *pkt, size_t len, struct l2tp_hdr *h)
{
	struct rbuf r;
	uint16_t flags;

	*h = (struct l2tp_hdr){ 0 };
	rbuf_init(&r, pkt, len);
	if (rbuf_get_u16(&r, &flags) < 0)
		return -EBADMSG;
	/* Version first: a version 1 (L2F) or 3 (L2TPv3) packet is not ours to judge further. */
	if ((flags & L2TP_HDR_VER_MASK) != L2TP_VERSION)
		return -EPROTONOSUPPORT;
	h->flags = flags & (L2TP_HDR_T | L2TP_HDR_L | L2TP_HDR_S | L2TP_HDR_O | L2TP_HDR_P);
	if (h->flags & L2TP_HDR_T) {
		/* RFC 2661 3.1: control messages MUST have L and S set, O and P clear. */
		if (!(h->flags & L2TP_HDR_L) || !(h->flags & L2TP_HDR_S) ||
		    (h->flags & (L2TP_HDR_O | L2TP_HDR_P)))
			return -EBADMSG;
	}
	if ((h->flags & L2TP_HDR_L) && rbuf_get_u16(&r, &h->length) < 0)
		return -EBADMSG;
	if (rbuf_get_u16(&r, &h->tunnel_id) < 0 || rbuf_get_u16(&r, &h->session_id) < 0)
		return -EBADMSG;
	if ((h->flags & L2TP_HDR_S) &&
	    (rbuf_get_u16(&r, &h->ns) < 0 || rbuf_get_u16(&r, &h->nr) < 0))
		return -EBADMSG;
	if (h->flags & L2TP_HDR_O) {
		if (rbuf_get_u16(&r, &h->offset_size) < 0 || rbuf_skip(&r, h->offset_size) < 0)
			return -EBADMSG;
	}
	h->hdr_len = rbuf_offset(&r, pkt);
	if (h->flags & L2TP_HDR_L) {
		if (h->length != len || h->length < h->hdr_len)
			return -EBADMSG;
	}
	h->msg_len = len;
	return 0;
}

int l2tp_data_hdr_encode(struct wbuf *w, const struct l2tp_hdr *h, size_t payload_len)
{
	size_t hlen = 6;

	if (h->flags & L2TP_HDR_T)
		return -EINVAL;
	if (h->flags & L2TP_HDR_L)
		hlen += 2;
	if (h->flags & L2TP_HDR_S)
		hlen += 4;
	if (h->flags & L2TP_HDR_O)
		hlen += 2 + (size_t)h->offset_size;
	if (payload_len > 0xffff || hlen + payload_len > 0xffff)
		return -EINVAL;
	wbuf_put_u16(w, (uint16_t)((h->flags & (L2TP_HDR_L | L2TP_HDR_S | L2TP_HDR_O | L2TP_HDR_P)) |
	                           L2TP_VERSION));
	if (h->flags & L2TP_HDR_L)
		wbuf_put_u16(w, (uint16_t)(hlen + payload_len));
	wbuf_put_u16(w, h->tunnel_id);
	wbuf_put_u16(w, h->session_id);
	if (h->flags & L2TP_HDR_S) {
		wbuf_put_u16(w, h->ns);
		wbuf_put_u16(w, 0); /* Nr is reserved in data messages (RFC 2661 3.1) */
	}
	if (h->flags & L2TP_HDR_O) {
		wbuf_put_u16(w, h->offset_size);
		wbuf_put_zero(w, h->offset_size);
	}
	return w->err;
}

int l2tp_data_seq_accept(uint16_t *expected, uint16_t ns)
{
	if (l2tp_seq_lt(ns, *expected))
		return -EALREADY;
	*expected = (uint16_t)(ns + 1);
	return 0;
}
