/* IPv4 / IPv6 / UDP decoders and the tunnel decapsulations (roam/ip.h), all on the same
 * bytes (and, since the IPv4 header checksum would stop the fuzzer, on a copy whose IPv4
 * header checksum is fixed up):
 *  - roam_ip4_decode: the header re-encoded (20 bytes, no options) with the payload must
 *    decode to the same fields; decoders never claim bytes outside their input;
 *  - roam_ip6_decode: the 40-byte header re-encodes to exactly the input's first 40 bytes;
 *    roam_ip6_upper walks the extension headers;
 *  - roam_udp_hdr_decode: the 8 bytes re-encode exactly;
 *  - roam_ip_udp_parse: a parsed datagram rebuilt with roam_ip_udp_build parses to the same
 *    addressing and payload;
 *  - roam_ipip_decap / roam_ip6ip6_decap: the inner packet re-encapsulated and decapsulated
 *    again is the same inner packet. */
#include <errno.h>

#include "fuzz.h"
#include "roam/ip.h"

static void in_bounds(const struct rbuf *r, const uint8_t *data, size_t size, const char *what)
{
	FUZZ_CHECK(r->p >= data && r->end <= data + size && r->p <= r->end, "%s out of bounds",
	           what);
}

static void ip4(const uint8_t *data, size_t size)
{
	struct rbuf r, pl, r2, pl2;
	struct roam_ip4_hdr h, h2;
	rbuf_init(&r, data, size);
	if (roam_ip4_decode(&r, &h, &pl) != 0) {
		FUZZ_CHECK(r.p == data, "failed decode moved the cursor");
		return;
	}
	in_bounds(&pl, data, size, "ip4 payload");
	FUZZ_CHECK(h.hlen >= 20 && h.hlen <= 60 && h.tot_len <= size, "ip4 header fields");
	(void)roam_cksum(data, h.hlen);
	struct wbuf w;
	wbuf_init(&w);
	h.tot_len = (uint16_t)(ROAM_IP4_HDRLEN + rbuf_left(&pl));
	FUZZ_CHECK(roam_ip4_encode(&w, &h) == 0, "ip4 encode");
	wbuf_put_bytes(&w, pl.p, rbuf_left(&pl));
	FUZZ_CHECK(w.err == 0, "wbuf");
	rbuf_init(&r2, w.buf, w.len);
	FUZZ_CHECK(roam_ip4_decode(&r2, &h2, &pl2) == 0, "re-encoded ip4 does not decode");
	FUZZ_CHECK(h2.hlen == 20 && h.tos == h2.tos && h.tot_len == h2.tot_len && h.id == h2.id &&
	           h.frag == h2.frag && h.ttl == h2.ttl && h.proto == h2.proto &&
	           h.src.s_addr == h2.src.s_addr && h.dst.s_addr == h2.dst.s_addr,
	           "ip4 header changed");
	FUZZ_CHECK(fuzz_eq(pl.p, rbuf_left(&pl), pl2.p, rbuf_left(&pl2)), "ip4 payload changed");
	wbuf_free(&w);
}

static void ip6(const uint8_t *data, size_t size)
{
	struct rbuf r, pl;
	struct roam_ip6_hdr h;
	rbuf_init(&r, data, size);
	if (roam_ip6_decode(&r, &h, &pl) != 0)
		return;
	in_bounds(&pl, data, size, "ip6 payload");
	uint8_t o[ROAM_IP6_HDRLEN];
	struct wbuf w;
	wbuf_init_fixed(&w, o, sizeof(o));
	FUZZ_CHECK(roam_ip6_encode(&w, &h) == 0 && w.len == ROAM_IP6_HDRLEN, "ip6 encode");
	FUZZ_CHECK(memcmp(o, data, ROAM_IP6_HDRLEN) == 0, "ip6 header re-encodes differently");
	uint8_t proto;
	struct rbuf walk = pl;
	int rc = roam_ip6_upper(h.next, &walk, &proto);
	FUZZ_CHECK(rc == 0 || rc == -EBADMSG || rc == -ELOOP, "ip6_upper: %d", rc);
	if (rc == 0) {
		in_bounds(&walk, data, size, "ip6 upper layer");
		FUZZ_CHECK(!roam_ip6_is_ext(proto) || proto == IPPROTO_FRAGMENT,
		           "walk stopped at extension header %u", proto);
	}
}

static void udp(const uint8_t *data, size_t size)
{
	struct rbuf r, pl;
	struct roam_udp_hdr h;
	rbuf_init(&r, data, size);
	if (roam_udp_hdr_decode(&r, &h, &pl) != 0)
		return;
	in_bounds(&pl, data, size, "udp payload");
	FUZZ_CHECK(h.len >= 8 && h.len <= size && rbuf_left(&pl) == (size_t)h.len - 8, "udp len");
	uint8_t o[8];
	struct wbuf w;
	wbuf_init_fixed(&w, o, sizeof(o));
	FUZZ_CHECK(roam_udp_hdr_encode(&w, &h) == 0 && memcmp(o, data, 8) == 0, "udp re-encode");
}

static void ip_udp(const uint8_t *data, size_t size)
{
	struct roam_ip_udp p, p2;
	struct rbuf pl, pl2;
	memset(&p, 0, sizeof(p));
	int rc = roam_ip_udp_parse(data, size, &p, &pl);
	FUZZ_CHECK(rc == 0 || rc == -EBADMSG || rc == -EPROTONOSUPPORT, "ip_udp_parse: %d", rc);
	if (rc != 0)
		return;
	in_bounds(&pl, data, size, "udp payload");
	struct wbuf w;
	wbuf_init(&w);
	rc = roam_ip_udp_build(&w, &p, pl.p, rbuf_left(&pl));
	FUZZ_CHECK(rc == 0, "rebuild of a parsed datagram: %d", rc);
	memset(&p2, 0, sizeof(p2));
	rc = roam_ip_udp_parse(w.buf, w.len, &p2, &pl2);
	FUZZ_CHECK(rc == 0, "rebuilt datagram does not parse: %d", rc);
	FUZZ_CHECK(roam_ipaddr_eq(&p.src, &p2.src) && roam_ipaddr_eq(&p.dst, &p2.dst) &&
	           p.sport == p2.sport && p.dport == p2.dport && p.tos == p2.tos,
	           "addressing changed");
	FUZZ_CHECK(p.ttl == p2.ttl || (p.ttl == 0 && p2.ttl == 64), "ttl %u -> %u", p.ttl, p2.ttl);
	if (p.src.family == AF_INET)
		FUZZ_CHECK(p.id == p2.id && !!p.df == !!p2.df, "ipv4 id/df changed");
	else
		FUZZ_CHECK(p.flow == p2.flow, "flow label changed");
	FUZZ_CHECK(fuzz_eq(pl.p, rbuf_left(&pl), pl2.p, rbuf_left(&pl2)), "payload changed");
	wbuf_free(&w);
}

static void decap(const uint8_t *data, size_t size)
{
	struct roam_ip4_hdr o4;
	struct roam_ip6_hdr o6;
	struct rbuf inner, inner2;
	struct wbuf w;
	int rc = roam_ipip_decap(data, size, &o4, &inner);
	FUZZ_CHECK(rc == 0 || rc == -EBADMSG || rc == -EPROTONOSUPPORT, "ipip_decap: %d", rc);
	if (rc == 0) {
		in_bounds(&inner, data, size, "ipip inner");
		struct roam_ipip t = { .ttl = o4.ttl, .id = o4.id };
		t.src.family = t.dst.family = AF_INET;
		t.src.v4 = o4.src;
		t.dst.v4 = o4.dst;
		wbuf_init(&w);
		rc = roam_ipip_encap(&w, &t, inner.p, rbuf_left(&inner));
		FUZZ_CHECK(rc == 0 || rc == -EMSGSIZE, "re-encapsulation: %d", rc);
		if (rc == 0) {
			FUZZ_CHECK(roam_ipip_decap(w.buf, w.len, &o4, &inner2) == 0, "decap again");
			FUZZ_CHECK(fuzz_eq(inner.p, rbuf_left(&inner), inner2.p, rbuf_left(&inner2)),
			           "ipip inner changed");
		}
		wbuf_free(&w);
	}
	rc = roam_ip6ip6_decap(data, size, &o6, &inner);
	FUZZ_CHECK(rc == 0 || rc == -EBADMSG || rc == -EPROTONOSUPPORT, "ip6ip6_decap: %d", rc);
	if (rc == 0) {
		in_bounds(&inner, data, size, "ip6ip6 inner");
		struct roam_ipip t = { .ttl = o6.hlim };
		t.src.family = t.dst.family = AF_INET6;
		t.src.v6 = o6.src;
		t.dst.v6 = o6.dst;
		wbuf_init(&w);
		rc = roam_ip6ip6_encap(&w, &t, inner.p, rbuf_left(&inner));
		FUZZ_CHECK(rc == 0 || rc == -EMSGSIZE || rc == -EBADMSG, "re-encapsulation 6: %d", rc);
		if (rc == 0) {
			FUZZ_CHECK(roam_ip6ip6_decap(w.buf, w.len, &o6, &inner2) == 0, "decap6 again");
			FUZZ_CHECK(fuzz_eq(inner.p, rbuf_left(&inner), inner2.p, rbuf_left(&inner2)),
			           "ip6ip6 inner changed");
		}
		wbuf_free(&w);
	}
}

static void all(const uint8_t *data, size_t size)
{
	ip4(data, size);
	ip6(data, size);
	udp(data, size);
	ip_udp(data, size);
	decap(data, size);
}

/* Fixes the IPv4 header checksum of b (and of an inner IPv4 header right after it, and the
 * UDP checksum of an IPv4/UDP datagram) so the decoders get past their checks. */
static void fixup(uint8_t *b, size_t size)
{
	size_t hl = (size_t)(b[0] & 0x0f) * 4;
	if ((b[0] >> 4) != 4 || hl < 20 || hl > size)
		return;
	b[10] = b[11] = 0;
	uint16_t ck = roam_cksum(b, hl);
	b[10] = (uint8_t)(ck >> 8);
	b[11] = (uint8_t)ck;
	if (b[9] == IPPROTO_IPIP && size >= hl + 20)
		fixup(b + hl, size - hl);
	if (b[9] == IPPROTO_UDP && size >= hl + 8) {
		size_t tot = (size_t)b[2] << 8 | b[3];
		if (tot > size || tot < hl + 8)
			return;
		struct roam_ipaddr s = { .family = AF_INET }, d = { .family = AF_INET };
		memcpy(&s.v4, b + 12, 4);
		memcpy(&d.v4, b + 16, 4);
		b[hl + 6] = b[hl + 7] = 0;
		ck = roam_l4_cksum(&s, &d, IPPROTO_UDP, b + hl, tot - hl);
		b[hl + 6] = (uint8_t)(ck >> 8);
		b[hl + 7] = (uint8_t)ck;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_quiet();
	all(data, size);
	if (size >= 20 && size <= 65535) {
		uint8_t *b = malloc(size);
		if (!b)
			abort();
		memcpy(b, data, size);
		fixup(b, size);
		all(b, size);
		free(b);
	}
	return 0;
}
