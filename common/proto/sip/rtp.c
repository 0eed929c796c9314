/* RTP fixed header (RFC 3550 5.1) and the receive statistics of roam's SIP agents (loss from
 * the extended highest sequence number, RFC 3550 A.3; longest inter-arrival gap). */
#include <errno.h>
#include <string.h>

#include "roam/buf.h"
#include "roam/sip_ua.h"

int sip_rtp_encode(const struct sip_rtp_hdr *h, size_t payload_len, uint8_t *buf, size_t len)
{
	struct wbuf w;
	if (payload_len > len || len - payload_len < SIP_RTP_HDR)
		return -ENOSPC;
	wbuf_init_fixed(&w, buf, len);
	wbuf_put_u8(&w, 0x80); /* V=2 P=0 X=0 CC=0 */
	wbuf_put_u8(&w, (uint8_t)((h->marker ? 0x80 : 0) | (h->pt & 0x7f)));
	wbuf_put_u16(&w, h->seq);
	wbuf_put_u32(&w, h->ts);
	wbuf_put_u32(&w, h->ssrc);
	if (w.err)
		return -ENOSPC;
	memset(buf + SIP_RTP_HDR, 0xff, payload_len);
	return (int)(SIP_RTP_HDR + payload_len);
}

int sip_rtp_decode(const uint8_t *buf, size_t len, struct sip_rtp_hdr *h, size_t *payload_off)
{
	struct rbuf r;
	uint8_t b0, b1;
	rbuf_init(&r, buf, len);
	if (rbuf_get_u8(&r, &b0) < 0 || rbuf_get_u8(&r, &b1) < 0 || rbuf_get_u16(&r, &h->seq) < 0 ||
	    rbuf_get_u32(&r, &h->ts) < 0 || rbuf_get_u32(&r, &h->ssrc) < 0)
		return -EBADMSG;
	if ((b0 >> 6) != 2)
		return -EBADMSG;
	h->marker = b1 & 0x80;
	h->pt = b1 & 0x7f;
	if (rbuf_skip(&r, 4u * (b0 & 0x0f)) < 0)
		return -EBADMSG;
	if (b0 & 0x10) { /* header extension: profile, length in 32-bit words */
		uint16_t prof, words;
		if (rbuf_get_u16(&r, &prof) < 0 || rbuf_get_u16(&r, &words) < 0 ||
		    rbuf_skip(&r, 4u * words) < 0)
			return -EBADMSG;
	}
	if (b0 & 0x20) { /* padding: the last byte counts it, within the payload */
		uint8_t pad = buf[len - 1];
		if (pad == 0 || pad > rbuf_left(&r))
			return -EBADMSG;
	}
	*payload_off = rbuf_offset(&r, buf);
	return 0;
}

void sip_rtp_rx_account(struct sip_rtp_rx *s, const struct sip_rtp_hdr *h,
			const struct roam_sockaddr *src, uint64_t now)
{
	if (s->received && now - s->last_ms > s->longest_gap_ms) {
		s->longest_gap_ms = now - s->last_ms;
		s->gap_end_ms = now;
	}
	s->received++;
	s->last_ms = now;
	s->from = *src;
	if (!s->started || h->ssrc != s->ssrc) {
		/* a new source: its numbers start from here; packets so far count as expected */
		uint64_t prior = s->started ? s->cycles + s->max_seq - s->base_seq + 1 : 0;
		s->started = true;
		s->ssrc = h->ssrc;
		s->cycles = 0;
		s->max_seq = h->seq;
		/* base_seq is kept so that expected = prior + (ext - seq) + 1 */
		s->base_seq = (uint32_t)h->seq - (uint32_t)prior;
		return;
	}
	uint16_t delta = (uint16_t)(h->seq - s->max_seq);
	if (delta == 0 || delta >= 0x8000) {
		s->reordered++;      /* duplicate or late: counted as received, not as new */
		return;
	}
	if (h->seq < s->max_seq)
		s->cycles += 1u << 16;
	s->max_seq = h->seq;
}

uint64_t sip_rtp_rx_lost(const struct sip_rtp_rx *s)
{
	if (!s->started)
		return 0;
	int64_t expected = (int64_t)s->cycles + s->max_seq - (int64_t)(int32_t)s->base_seq + 1;
	int64_t got = (int64_t)s->received; /* RFC 3550 A.3: duplicates count as received */
	return expected > got ? (uint64_t)(expected - got) : 0;
}
