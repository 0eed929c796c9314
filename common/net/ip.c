/* Internet checksum, IPv4/IPv6/UDP header codecs, datagram builders, IP-in-IP and
 * IPv6-in-IPv6 encapsulation. */
#include "roam/ip.h"

#include <errno.h>
#include <string.h>

/* --- checksum (RFC 1071, RFC 1624) --- */

uint32_t roam_cksum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t s = sum;
	while (len >= 2) {
		s += (uint32_t)((p[0] << 8) | p[1]);
		p += 2;
		len -= 2;
	}
	if (len)
		s += (uint32_t)(p[0] << 8);
	while (s >> 32)
		s = (s & 0xffffffffu) + (s >> 32);
	/* keep headroom for the next call */
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint32_t)s;
}

uint16_t roam_cksum_finish(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint16_t roam_cksum(const void *data, size_t len)
{
	return roam_cksum_finish(roam_cksum_add(0, data, len));
}

uint16_t roam_cksum_update16(uint16_t cksum, uint16_t old_val, uint16_t new_val)
{
	/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m') */
	uint32_t s = (uint16_t)~cksum;
	s += (uint16_t)~old_val;
	s += new_val;
	return roam_cksum_finish(s);
}

uint32_t roam_cksum_pseudo(const struct roam_ipaddr *src, const struct roam_ipaddr *dst,
			   uint8_t proto, uint32_t len)
{
	size_t ns, nd;
	const uint8_t *ps = roam_ipaddr_bytes(src, &ns), *pd = roam_ipaddr_bytes(dst, &nd);
	uint32_t sum = 0;
	if (ps)
		sum = roam_cksum_add(sum, ps, ns);
	if (pd)
		sum = roam_cksum_add(sum, pd, nd);
	if (src->family == AF_INET6) {
		/* RFC 8200 §8.1: 32-bit upper-layer length, 3 zero bytes, next header */
		uint8_t t[8] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
				(uint8_t)len, 0, 0, 0, proto};
		sum = roam_cksum_add(sum, t, sizeof(t));
	} else {
		/* RFC 768: zero, protocol, 16-bit UDP length */
		uint8_t t[4] = {0, proto, (uint8_t)(len >> 8), (uint8_t)len};
		sum = roam_cksum_add(sum, t, sizeof(t));
	}
	return sum;
}

uint16_t roam_l4_cksum(const struct roam_ipaddr *src, const struct roam_ipaddr *dst,
		       uint8_t proto, const void *seg, size_t len)
{
	uint32_t sum = roam_cksum_pseudo(src, dst, proto, (uint32_t)len);
	return roam_cksum_finish(roam_cksum_add(sum, seg, len));
}

uint16_t roam_icmp4_cksum(const void *icmp, size_t len)
{
	return roam_cksum(icmp, len);
}

uint16_t roam_icmp6_cksum(const struct in6_addr *src, const struct in6_addr *dst,
			  const void *icmp, size_t len)
{
	struct roam_ipaddr s, d;
	roam_ipaddr_set6(&s, src);
	roam_ipaddr_set6(&d, dst);
	return roam_l4_cksum(&s, &d, IPPROTO_ICMPV6, icmp, len);
}

/* --- IPv4 --- */

int roam_ip4_decode(struct rbuf *r, struct roam_ip4_hdr *h, struct rbuf *payload)
{
	struct rbuf c = *r;
	const uint8_t *start = c.p;
	uint8_t vihl;
	uint32_t src, dst;

	if (rbuf_get_u8(&c, &vihl) < 0)
		return -EBADMSG;
	if ((vihl >> 4) != 4 || (vihl & 0x0f) < 5)
		return -EBADMSG;
	memset(h, 0, sizeof(*h));
	h->hlen = (uint8_t)((vihl & 0x0f) * 4);
	if (rbuf_get_u8(&c, &h->tos) < 0 || rbuf_get_u16(&c, &h->tot_len) < 0 ||
	    rbuf_get_u16(&c, &h->id) < 0 || rbuf_get_u16(&c, &h->frag) < 0 ||
	    rbuf_get_u8(&c, &h->ttl) < 0 || rbuf_get_u8(&c, &h->proto) < 0 ||
	    rbuf_get_u16(&c, &h->cksum) < 0 || rbuf_get_u32(&c, &src) < 0 ||
	    rbuf_get_u32(&c, &dst) < 0)
		return -EBADMSG;
	h->src.s_addr = htonl(src);
	h->dst.s_addr = htonl(dst);
	/* options: skipped, but they must be there */
	if (rbuf_skip(&c, (size_t)h->hlen - ROAM_IP4_HDRLEN) < 0)
		return -EBADMSG;
	if (h->tot_len < h->hlen || (size_t)h->tot_len > rbuf_left(r))
		return -EBADMSG;
	if (roam_cksum(start, h->hlen) != 0)
		return -EBADMSG;
	struct rbuf pl;
	if (rbuf_sub(&c, (size_t)h->tot_len - h->hlen, &pl) < 0)
		return -EBADMSG;
	if (payload)
		*payload = pl;
	*r = c;
	return 0;
}

int roam_ip4_encode(struct wbuf *w, const struct roam_ip4_hdr *h)
{
	size_t off = w->len;
	wbuf_put_u8(w, 0x45);
	wbuf_put_u8(w, h->tos);
	wbuf_put_u16(w, h->tot_len);
	wbuf_put_u16(w, h->id);
	wbuf_put_u16(w, h->frag);
	wbuf_put_u8(w, h->ttl);
	wbuf_put_u8(w, h->proto);
	size_t ck = wbuf_reserve(w, 2);
	wbuf_put_bytes(w, &h->src, 4);
	wbuf_put_bytes(w, &h->dst, 4);
	if (w->err)
		return w->err;
	wbuf_patch_u16(w, ck, roam_cksum(w->buf + off, ROAM_IP4_HDRLEN));
	return w->err;
}

/* --- IPv6 --- */

int roam_ip6_decode(struct rbuf *r, struct roam_ip6_hdr *h, struct rbuf *payload)
{
	struct rbuf c = *r;
	uint32_t vtf;

	if (rbuf_get_u32(&c, &vtf) < 0 || (vtf >> 28) != 6)
		return -EBADMSG;
	memset(h, 0, sizeof(*h));
	h->tclass = (uint8_t)(vtf >> 20);
	h->flow = vtf & 0xfffff;
	if (rbuf_get_u16(&c, &h->payload_len) < 0 || rbuf_get_u8(&c, &h->next) < 0 ||
	    rbuf_get_u8(&c, &h->hlim) < 0 || rbuf_get_bytes(&c, &h->src, 16) < 0 ||
	    rbuf_get_bytes(&c, &h->dst, 16) < 0)
		return -EBADMSG;
	struct rbuf pl;
	if (rbuf_sub(&c, h->payload_len, &pl) < 0)
		return -EBADMSG;
	if (payload)
		*payload = pl;
	*r = c;
	return 0;
}

int roam_ip6_encode(struct wbuf *w, const struct roam_ip6_hdr *h)
{
	wbuf_put_u32(w, (6u << 28) | ((uint32_t)h->tclass << 20) | (h->flow & 0xfffff));
	wbuf_put_u16(w, h->payload_len);
	wbuf_put_u8(w, h->next);
	wbuf_put_u8(w, h->hlim);
	wbuf_put_bytes(w, &h->src, 16);
	wbuf_put_bytes(w, &h->dst, 16);
	return w->err;
}

int roam_ip6_is_ext(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_HOPOPTS:
	case IPPROTO_ROUTING:
	case IPPROTO_FRAGMENT:
	case IPPROTO_DSTOPTS:
	case IPPROTO_AH:
		return 1;
	default:
		return 0;
	}
}

int roam_ip6_ext_next(uint8_t *next, struct rbuf *r, struct rbuf *ext)
{
	uint8_t nh, hlen;
	size_t len;
	struct rbuf c = *r;

	if (!roam_ip6_is_ext(*next))
		return 0;
	if (rbuf_get_u8(&c, &nh) < 0 || rbuf_get_u8(&c, &hlen) < 0)
		return -EBADMSG;
	if (*next == IPPROTO_FRAGMENT)
		len = 8;                          /* RFC 8200 §4.5: fixed size */
	else if (*next == IPPROTO_AH)
		len = ((size_t)hlen + 2) * 4;     /* RFC 4302 §2.2: 32-bit words minus 2 */
	else
		len = ((size_t)hlen + 1) * 8;     /* 8-octet units, first 8 not counted */
	c = *r;
	if (rbuf_sub(&c, len, ext) < 0)
		return -EBADMSG;
	*r = c;
	*next = nh;
	return 1;
}

int roam_ip6_upper(uint8_t next, struct rbuf *r, uint8_t *proto)
{
	struct rbuf c = *r;
	for (int i = 0; i <= ROAM_IP6_MAX_EXT; i++) {
		if (!roam_ip6_is_ext(next)) {
			*proto = next;
			*r = c;
			return 0;
		}
		if (i == ROAM_IP6_MAX_EXT)
			break;
		if (next == IPPROTO_FRAGMENT) {
			struct rbuf f = c;
			uint8_t nh, res;
			uint16_t offflags;
			if (rbuf_get_u8(&f, &nh) < 0 || rbuf_get_u8(&f, &res) < 0 ||
			    rbuf_get_u16(&f, &offflags) < 0)
				return -EBADMSG;
			if ((offflags & 0xfff8) != 0) {
				/* not the first fragment: no upper-layer header here */
				*proto = IPPROTO_FRAGMENT;
				*r = c;
				return 0;
			}
		}
		struct rbuf ext;
		int rc = roam_ip6_ext_next(&next, &c, &ext);
		if (rc < 0)
			return rc;
	}
	return -ELOOP;
}

/* --- UDP --- */

int roam_udp_hdr_decode(struct rbuf *r, struct roam_udp_hdr *h, struct rbuf *payload)
{
	struct rbuf c = *r;
	if (rbuf_get_u16(&c, &h->sport) < 0 || rbuf_get_u16(&c, &h->dport) < 0 ||
	    rbuf_get_u16(&c, &h->len) < 0 || rbuf_get_u16(&c, &h->cksum) < 0)
		return -EBADMSG;
	if (h->len < ROAM_UDP_HDRLEN)
		return -EBADMSG;
	struct rbuf pl;
	if (rbuf_sub(&c, (size_t)h->len - ROAM_UDP_HDRLEN, &pl) < 0)
		return -EBADMSG;
	if (payload)
		*payload = pl;
	*r = c;
	return 0;
}

int roam_udp_hdr_encode(struct wbuf *w, const struct roam_udp_hdr *h)
{
	wbuf_put_u16(w, h->sport);
	wbuf_put_u16(w, h->dport);
	wbuf_put_u16(w, h->len);
	wbuf_put_u16(w, h->cksum);
	return w->err;
}

int roam_udp_cksum_ok(const struct roam_ipaddr *src, const struct roam_ipaddr *dst,
		      const void *seg, size_t len)
{
	if (len < ROAM_UDP_HDRLEN || src->family != dst->family)
		return 0;
	const uint8_t *p = seg;
	if (p[6] == 0 && p[7] == 0)
		return src->family == AF_INET; /* RFC 768: none; RFC 8200 §8.1: mandatory */
	return roam_l4_cksum(src, dst, IPPROTO_UDP, seg, len) == 0;
}

/* --- whole datagrams --- */

int roam_ip_udp_build(struct wbuf *w, const struct roam_ip_udp *p, const void *payload,
		      size_t len)
{
	int fam = p->src.family;
	if (fam != p->dst.family || (fam != AF_INET && fam != AF_INET6))
		return -EAFNOSUPPORT;
	size_t iphl = fam == AF_INET ? ROAM_IP4_HDRLEN : ROAM_IP6_HDRLEN;
	size_t ulen = ROAM_UDP_HDRLEN + len;
	if (ulen > 0xffff || (fam == AF_INET && ulen + iphl > 0xffff))
		return -EMSGSIZE;
	if (w->err)
		return w->err;
	if (fam == AF_INET) {
		struct roam_ip4_hdr h = {
			.hlen = ROAM_IP4_HDRLEN,
			.tos = p->tos,
			.tot_len = (uint16_t)(ulen + iphl),
			.id = p->id,
			.frag = p->df ? ROAM_IP4_DF : 0,
			.ttl = p->ttl ? p->ttl : 64,
			.proto = IPPROTO_UDP,
			.src = p->src.v4,
			.dst = p->dst.v4,
		};
		roam_ip4_encode(w, &h);
	} else {
		struct roam_ip6_hdr h = {
			.tclass = p->tos,
			.flow = p->flow,
			.payload_len = (uint16_t)ulen,
			.next = IPPROTO_UDP,
			.hlim = p->ttl ? p->ttl : 64,
			.src = p->src.v6,
			.dst = p->dst.v6,
		};
		roam_ip6_encode(w, &h);
	}
	size_t uoff = w->len;
	struct roam_udp_hdr uh = {.sport = p->sport, .dport = p->dport, .len = (uint16_t)ulen};
	roam_udp_hdr_encode(w, &uh);
	wbuf_put_bytes(w, payload, len);
	if (w->err)
		return w->err;
	uint16_t ck = roam_l4_cksum(&p->src, &p->dst, IPPROTO_UDP, w->buf + uoff, ulen);
	if (ck == 0)
		ck = 0xffff; /* RFC 768: a computed zero is sent as all ones */
	wbuf_patch_u16(w, uoff + 6, ck);
	return w->err;
}

int roam_ip_udp_parse(const void *pkt, size_t len, struct roam_ip_udp *p, struct rbuf *payload)
{
	struct rbuf r, l4;
	uint8_t ver;
	uint8_t proto;

	memset(p, 0, sizeof(*p));
	rbuf_init(&r, pkt, len);
	if (rbuf_peek_u8(&r, &ver) < 0)
		return -EBADMSG;
	if ((ver >> 4) == 4) {
		struct roam_ip4_hdr h;
		if (roam_ip4_decode(&r, &h, &l4) < 0)
			return -EBADMSG;
		if (h.frag & (ROAM_IP4_MF | ROAM_IP4_OFFMASK))
			return -EBADMSG;
		roam_ipaddr_set4(&p->src, h.src);
		roam_ipaddr_set4(&p->dst, h.dst);
		p->ttl = h.ttl;
		p->tos = h.tos;
		p->id = h.id;
		p->df = (h.frag & ROAM_IP4_DF) != 0;
		proto = h.proto;
	} else if ((ver >> 4) == 6) {
		struct roam_ip6_hdr h;
		if (roam_ip6_decode(&r, &h, &l4) < 0)
			return -EBADMSG;
		roam_ipaddr_set6(&p->src, &h.src);
		roam_ipaddr_set6(&p->dst, &h.dst);
		p->ttl = h.hlim;
		p->tos = h.tclass;
		p->flow = h.flow;
		int rc = roam_ip6_upper(h.next, &l4, &proto);
		if (rc < 0 || proto == IPPROTO_FRAGMENT)
			return -EBADMSG;
	} else {
		return -EBADMSG;
	}
	if (proto != IPPROTO_UDP)
		return -EPROTONOSUPPORT;
	const uint8_t *seg = l4.p;
	size_t seglen = rbuf_left(&l4);
	struct roam_udp_hdr uh;
	struct rbuf pl;
	if (roam_udp_hdr_decode(&l4, &uh, &pl) < 0)
		return -EBADMSG;
	/* the checksum covers the UDP length, not what the IP layer says is left */
	if (uh.len != seglen && p->src.family == AF_INET6)
		return -EBADMSG;
	if (!roam_udp_cksum_ok(&p->src, &p->dst, seg, uh.len))
		return -EBADMSG;
	p->sport = uh.sport;
	p->dport = uh.dport;
	*payload = pl;
	return 0;
}

/* --- tunnels --- */

int roam_ipip_encap(struct wbuf *w, const struct roam_ipip *p, const void *inner, size_t len)
{
	struct rbuf r;
	struct roam_ip4_hdr ih;

	if (p->src.family != AF_INET || p->dst.family != AF_INET)
		return -EAFNOSUPPORT;
	rbuf_init(&r, inner, len);
	if (roam_ip4_decode(&r, &ih, NULL) < 0)
		return -EBADMSG;
	size_t total = ROAM_IP4_HDRLEN + (size_t)ih.tot_len;
	if (total > 0xffff)
		return -EMSGSIZE;
	if (p->forwarding && ih.ttl <= 1)
		return -ETIMEDOUT;
	if (w->err)
		return w->err;
	/* RFC 2003 §3.1: TOS copied, DF copied, protocol 4 */
	struct roam_ip4_hdr oh = {
		.hlen = ROAM_IP4_HDRLEN,
		.tos = ih.tos,
		.tot_len = (uint16_t)total,
		.id = p->id,
		.frag = ih.frag & ROAM_IP4_DF,
		.ttl = p->ttl ? p->ttl : 64,
		.proto = IPPROTO_IPIP,
		.src = p->src.v4,
		.dst = p->dst.v4,
	};
	roam_ip4_encode(w, &oh);
	size_t ioff = w->len;
	wbuf_put_bytes(w, inner, ih.tot_len);
	if (w->err)
		return w->err;
	if (p->forwarding) {
		/* TTL is the high byte of the 16-bit word at offset 8 (with the protocol) */
		uint16_t oldw = (uint16_t)((ih.ttl << 8) | ih.proto);
		uint16_t neww = (uint16_t)(((ih.ttl - 1) << 8) | ih.proto);
		wbuf_patch_u8(w, ioff + 8, (uint8_t)(ih.ttl - 1));
		wbuf_patch_u16(w, ioff + 10, roam_cksum_update16(ih.cksum, oldw, neww));
	}
	return w->err;
}

int roam_ipip_decap(const void *pkt, size_t len, struct roam_ip4_hdr *outer, struct rbuf *inner)
{
	struct rbuf r, pl;
	struct roam_ip4_hdr ih;

	rbuf_init(&r, pkt, len);
	if (roam_ip4_decode(&r, outer, &pl) < 0)
		return -EBADMSG;
	if (outer->proto != IPPROTO_IPIP)
		return -EPROTONOSUPPORT;
	if (outer->frag & (ROAM_IP4_MF | ROAM_IP4_OFFMASK))
		return -EBADMSG;
	struct rbuf in = pl;
	if (roam_ip4_decode(&in, &ih, NULL) < 0)
		return -EBADMSG;
	/* the inner datagram, without trailing bytes beyond its total length */
	struct rbuf c = pl;
	if (rbuf_sub(&c, ih.tot_len, inner) < 0)
		return -EBADMSG;
	return 0;
}

int roam_ip6ip6_encap(struct wbuf *w, const struct roam_ipip *p, const void *inner, size_t len)
{
	struct rbuf r;
	struct roam_ip6_hdr ih;

	if (p->src.family != AF_INET6 || p->dst.family != AF_INET6)
		return -EAFNOSUPPORT;
	rbuf_init(&r, inner, len);
	if (roam_ip6_decode(&r, &ih, NULL) < 0)
		return -EBADMSG;
	size_t ilen = ROAM_IP6_HDRLEN + (size_t)ih.payload_len;
	if (ilen > 0xffff)
		return -EMSGSIZE;
	if (p->forwarding && ih.hlim <= 1)
		return -ETIMEDOUT;
	if (w->err)
		return w->err;
	/* RFC 2473 §6: hop limit of the tunnel, next header 41, traffic class from the inner
	 * packet (§6.5 configurable; roam copies it), flow label 0 (§6.6 default) */
	struct roam_ip6_hdr oh = {
		.tclass = ih.tclass,
		.flow = 0,
		.payload_len = (uint16_t)ilen,
		.next = IPPROTO_IPV6,
		.hlim = p->ttl ? p->ttl : 64,
		.src = p->src.v6,
		.dst = p->dst.v6,
	};
	roam_ip6_encode(w, &oh);
	size_t ioff = w->len;
	wbuf_put_bytes(w, inner, ilen);
	if (p->forwarding)
		wbuf_patch_u8(w, ioff + 7, (uint8_t)(ih.hlim - 1)); /* §3.1 */
	return w->err;
}

int roam_ip6ip6_decap(const void *pkt, size_t len, struct roam_ip6_hdr *outer,
		      struct rbuf *inner)
{
	struct rbuf r, pl;
	struct roam_ip6_hdr ih;
	uint8_t proto;

	rbuf_init(&r, pkt, len);
	if (roam_ip6_decode(&r, outer, &pl) < 0)
		return -EBADMSG;
	int rc = roam_ip6_upper(outer->next, &pl, &proto);
	if (rc < 0)
		return -EBADMSG;
	if (proto != IPPROTO_IPV6)
		return proto == IPPROTO_FRAGMENT ? -EBADMSG : -EPROTONOSUPPORT;
	struct rbuf in = pl;
	if (roam_ip6_decode(&in, &ih, NULL) < 0)
		return -EBADMSG;
	struct rbuf c = pl;
	if (rbuf_sub(&c, ROAM_IP6_HDRLEN + (size_t)ih.payload_len, inner) < 0)
		return -EBADMSG;
	return 0;
}
