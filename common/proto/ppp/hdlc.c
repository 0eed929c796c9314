/* RFC 1662 HDLC-like framing in octet-stuffed mode: flag sequence 0x7e, control escape 0x7d
 * (4.2), ACCM (7.1) and FCS-16 (C.2).  FCS-32 is not implemented (not negotiated). */
#include <errno.h>
#include <string.h>

#include "roam/ppp.h"

/* RFC 1662 C.2: generator x**0 + x**5 + x**12 + x**16, bit-reflected (0x8408), computed
 * bitwise (frames on the access link are small; no table to get wrong). */
uint16_t ppp_fcs16(uint16_t fcs, const void *data, size_t len)
{
	const uint8_t *p = data;

	while (len--) {
		fcs ^= *p++;
		for (int i = 0; i < 8; i++)
			fcs = (fcs & 1) ? (uint16_t)((fcs >> 1) ^ 0x8408) : (uint16_t)(fcs >> 1);
	}
	return fcs;
}

static void put_stuffed(struct wbuf *w, uint32_t accm, uint8_t c)
{
	if (c == PPP_HDLC_FLAG || c == PPP_HDLC_ESCAPE || (c < 0x20 && (accm & (1u << c)))) {
		wbuf_put_u8(w, PPP_HDLC_ESCAPE);
		wbuf_put_u8(w, c ^ PPP_HDLC_XOR);
	} else {
		wbuf_put_u8(w, c);
	}
}

int ppp_hdlc_encode(struct wbuf *w, const struct ppp_hdlc_tx *tx, uint16_t proto,
                    const void *info, size_t info_len)
{
	uint8_t hdr[4];
	struct wbuf h;
	const uint8_t *ip = info;
	uint32_t accm = tx->accm;
	int acfc = tx->acfc, pfc = tx->pfc;
	uint16_t fcs;

	/* RFC 1662 7.1 / RFC 1661 6.5, 6.6: LCP Configure..Code-Reject use the defaults */
	if (proto == PPP_PROTO_LCP && info_len && ip[0] >= PPP_CONFREQ && ip[0] <= PPP_CODEREJ)
		accm = PPP_HDLC_ACCM_DEFAULT;
	wbuf_init_fixed(&h, hdr, sizeof(hdr));
	ppp_frame_hdr_encode(&h, proto, acfc, pfc);
	fcs = ppp_fcs16(PPP_FCS16_INIT, hdr, h.len);
	fcs = ppp_fcs16(fcs, info, info_len);
	fcs ^= 0xffff;

	wbuf_put_u8(w, PPP_HDLC_FLAG);
	for (size_t i = 0; i < h.len; i++)
		put_stuffed(w, accm, hdr[i]);
	for (size_t i = 0; i < info_len; i++)
		put_stuffed(w, accm, ip[i]);
	put_stuffed(w, accm, (uint8_t)(fcs & 0xff)); /* least significant octet first */
	put_stuffed(w, accm, (uint8_t)(fcs >> 8));
	wbuf_put_u8(w, PPP_HDLC_FLAG);
	return w->err;
}

void ppp_hdlc_dec_init(struct ppp_hdlc_dec *d, size_t max)
{
	memset(d, 0, sizeof(*d));
	d->accm = PPP_HDLC_ACCM_DEFAULT;
	if (max == 0)
		max = PPP_HDLC_MAX_DEFAULT;
	if (max > PPP_HDLC_BUF_MAX)
		max = PPP_HDLC_BUF_MAX;
	d->max = max;
}

/* A flag closed a frame of d->len bytes: check it, reset for the next one. */
static int frame_end(struct ppp_hdlc_dec *d, struct ppp_hdlc_frame *f)
{
	size_t n = d->len;
	int escaped = d->escaped, discarding = d->discarding;

	d->len = 0;
	d->escaped = 0;
	d->discarding = 0;
	if (discarding) /* overlong: counted when it overflowed */
		return 0;
	if (escaped) { /* 0x7d 0x7e: abort sequence (RFC 1662 4.2 / 1549) */
		d->stats.aborted++;
		return -EPROTO;
	}
	if (n == 0) /* back-to-back flags, or the opening flag */
		return 0;
	if (n < 4) {
		d->stats.too_short++;
		return -EPROTO;
	}
	if (ppp_fcs16(PPP_FCS16_INIT, d->buf, n) != PPP_FCS16_GOOD) {
		d->stats.bad_fcs++;
		return -EBADMSG;
	}
	if (ppp_frame_parse(d->buf, n - 2, &f->proto, &f->info, &f->info_len) < 0) {
		d->stats.bad_header++;
		return -EPROTO;
	}
	d->stats.frames++;
	return 1;
}

int ppp_hdlc_decode(struct ppp_hdlc_dec *d, const uint8_t **data, size_t *len,
                    struct ppp_hdlc_frame *f)
{
	while (*len) {
		uint8_t c = **data;
		(*data)++;
		(*len)--;
		if (c == PPP_HDLC_FLAG) {
			int rc = frame_end(d, f);
			if (rc != 0)
				return rc;
			continue;
		}
		if (d->discarding)
			continue;
		if (c < 0x20 && (d->accm & (1u << c))) {
			/* inserted by the link, not part of the data (RFC 1662 7.1) */
			d->stats.dropped_ctrl++;
			continue;
		}
		if (c == PPP_HDLC_ESCAPE) {
			d->escaped = 1;
			continue;
		}
		if (d->escaped) {
			c ^= PPP_HDLC_XOR;
			d->escaped = 0;
		}
		if (d->len >= d->max) {
			d->discarding = 1;
			d->escaped = 0;
			d->len = 0;
			d->stats.too_long++;
			return -EMSGSIZE;
		}
		d->buf[d->len++] = c;
	}
	return 0;
}
