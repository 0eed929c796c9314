/* Agent Advertisement and Agent Solicitation (RFC 5944 2.1, 2.2; ICMP Router Discovery,
 * RFC 1256; docs/protocols/mipv4.md section 6). */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "roam/ip.h"
#include "roam/mip4.h"

#define ICMP_HDR_LEN 8

int mip4_adv_decode(const void *icmp, size_t len, struct mip4_adv *a)
{
	struct rbuf r;
	uint8_t type, entry_size;
	uint16_t cksum;
	int seen_ma = 0, seen_prefix = 0;

	memset(a, 0, sizeof(*a));
	rbuf_init(&r, icmp, len);
	if (rbuf_get_u8(&r, &type) < 0)
		return -EBADMSG;
	if (type != MIP4_ICMP_ADVERT)
		return -EPROTONOSUPPORT;
	if (rbuf_get_u8(&r, &a->code) < 0 || rbuf_get_u16(&r, &cksum) < 0 ||
	    rbuf_get_u8(&r, &a->n_routers) < 0 || rbuf_get_u8(&r, &entry_size) < 0 ||
	    rbuf_get_u16(&r, &a->lifetime) < 0)
		return -EBADMSG;
	if (roam_icmp4_cksum(icmp, len) != 0)
		return -EBADMSG;
	/* RFC 1256: entry size 2 words; RFC 5944 2.1: num addrs may be 0. */
	if (entry_size != 2 || a->n_routers > MIP4_ADV_MAX_ROUTERS)
		return -EBADMSG;
	for (unsigned i = 0; i < a->n_routers; i++) {
		uint32_t addr, pref;
		if (rbuf_get_u32(&r, &addr) < 0 || rbuf_get_u32(&r, &pref) < 0)
			return -EBADMSG;
		a->routers[i].addr.s_addr = htonl(addr);
		a->routers[i].pref = (int32_t)pref;
	}
	while (rbuf_left(&r) > 0) {
		uint8_t etype, elen;
		struct rbuf v;

		rbuf_get_u8(&r, &etype);
		if (etype == MIP4_ADV_EXT_PAD) {
			a->n_pad++;
			continue;
		}
		if (rbuf_get_u8(&r, &elen) < 0 || rbuf_sub(&r, elen, &v) < 0)
			return -EBADMSG;
		switch (etype) {
		case MIP4_ADV_EXT_MA:
			if (seen_ma || elen < 6 || (elen - 6) % 4 != 0 ||
			    (elen - 6) / 4 > MIP4_ADV_MAX_COA)
				return -EBADMSG;
			seen_ma = 1;
			a->has_ma = 1;
			rbuf_get_u16(&v, &a->seq);
			rbuf_get_u16(&v, &a->reg_lifetime);
			rbuf_get_u16(&v, &a->flags);
			a->n_coa = (uint8_t)((elen - 6) / 4);
			for (unsigned i = 0; i < a->n_coa; i++) {
				uint32_t c;
				rbuf_get_u32(&v, &c);
				a->coa[i].s_addr = htonl(c);
			}
			break;
		case MIP4_ADV_EXT_PREFIX:
			/* One length per router address (RFC 5944 2.1.2). */
			if (seen_prefix || elen == 0 || elen != a->n_routers)
				return -EBADMSG;
			seen_prefix = 1;
			a->n_prefix = elen;
			rbuf_get_bytes(&v, a->prefix_len, elen);
			for (unsigned i = 0; i < elen; i++)
				if (a->prefix_len[i] > 32)
					return -EBADMSG;
			break;
		default:
			if (etype < 128)
				return -ENOTSUP;
			a->n_skipped++;
			break;
		}
	}
	/* The Prefix-Lengths extension must follow a Mobility Agent Advertisement one. */
	if (seen_prefix && !seen_ma)
		return -EBADMSG;
	return 0;
}

int mip4_adv_encode(struct wbuf *w, const struct mip4_adv *a)
{
	size_t start = w->len;

	if (a->n_routers > MIP4_ADV_MAX_ROUTERS || a->n_coa > MIP4_ADV_MAX_COA ||
	    a->n_prefix > MIP4_ADV_MAX_ROUTERS || (a->n_prefix && !a->has_ma))
		return -EINVAL;
	wbuf_put_u8(w, MIP4_ICMP_ADVERT);
	wbuf_put_u8(w, a->code);
	wbuf_put_u16(w, 0);
	wbuf_put_u8(w, a->n_routers);
	wbuf_put_u8(w, 2);
	wbuf_put_u16(w, a->lifetime);
	for (unsigned i = 0; i < a->n_routers; i++) {
		wbuf_put_u32(w, ntohl(a->routers[i].addr.s_addr));
		wbuf_put_u32(w, (uint32_t)a->routers[i].pref);
	}
	if (a->has_ma) {
		wbuf_put_u8(w, MIP4_ADV_EXT_MA);
		wbuf_put_u8(w, (uint8_t)(6 + 4 * a->n_coa));
		wbuf_put_u16(w, a->seq);
		wbuf_put_u16(w, a->reg_lifetime);
		wbuf_put_u16(w, (uint16_t)(a->flags & ~MIP4_MA_RESERVED));
		for (unsigned i = 0; i < a->n_coa; i++)
			wbuf_put_u32(w, ntohl(a->coa[i].s_addr));
	}
	if (a->n_prefix) {
		wbuf_put_u8(w, MIP4_ADV_EXT_PREFIX);
		wbuf_put_u8(w, a->n_prefix);
		wbuf_put_bytes(w, a->prefix_len, a->n_prefix);
	}
	if (w->err)
		return w->err;
	wbuf_patch_u16(w, start + 2, roam_icmp4_cksum(w->buf + start, w->len - start));
	return w->err;
}

int mip4_sol_decode(const void *icmp, size_t len)
{
	struct rbuf r;
	uint8_t type, code;

	rbuf_init(&r, icmp, len);
	if (rbuf_get_u8(&r, &type) < 0)
		return -EBADMSG;
	if (type != MIP4_ICMP_SOLICIT)
		return -EPROTONOSUPPORT;
	/* RFC 1256 5: code 0, ICMP length >= 8; the reserved word is ignored. */
	if (rbuf_get_u8(&r, &code) < 0 || code != 0 || len < ICMP_HDR_LEN ||
	    roam_icmp4_cksum(icmp, len) != 0)
		return -EBADMSG;
	return 0;
}

int mip4_sol_encode(struct wbuf *w)
{
	size_t start = w->len;

	wbuf_put_u8(w, MIP4_ICMP_SOLICIT);
	wbuf_put_u8(w, 0);
	wbuf_put_u16(w, 0);
	wbuf_put_u32(w, 0);
	if (w->err)
		return w->err;
	wbuf_patch_u16(w, start + 2, roam_icmp4_cksum(w->buf + start, w->len - start));
	return w->err;
}
