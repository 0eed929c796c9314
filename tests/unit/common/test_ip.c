/* Unit tests: roam/ip.h (checksums, IPv4/IPv6/UDP codecs, builders, tunnels).
 *
 * The "captured" vectors were read from a TUN device in a private network namespace: a Linux
 * 6.18 kernel sent them from a UDP socket (192.0.2.1:49152 -> 192.0.2.2:434 and
 * [2001:db8::1]:49153 -> [2001:db8::2]:434, payload "roam registration") and from a raw ICMPv6
 * socket (echo request), with checksums computed by the kernel. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "roam/ip.h"

static size_t unhex(const char *h, uint8_t *out, size_t cap)
{
	size_t n = 0;
	while (h[0] && h[1]) {
		unsigned v;
		cr_assert_lt(n, cap);
		cr_assert_eq(sscanf(h, "%2x", &v), 1);
		out[n++] = (uint8_t)v;
		h += 2;
	}
	return n;
}

static struct roam_ipaddr A(const char *s)
{
	struct roam_ipaddr a;
	cr_assert_eq(roam_ipaddr_parse(s, &a), 0);
	return a;
}

#define CAP_UDP4 "4500002db237400040110485c0000201c0000202c00001b200194985" \
		 "726f616d20726567697374726174696f6e"
#define CAP_UDP6 "60070f390019114020010db8000000000000000000000001" \
		 "20010db8000000000000000000000002c00101b200197213" \
		 "726f616d20726567697374726174696f6e"
#define CAP_ICMP6 "60009f4e000c3a4020010db800000000000000000000000120010db8" \
		  "00000000000000000000000280003e3212340001726f616d"
/* RFC 791 example header often quoted (checksum b861) */
#define HDR_B861 "450000730000400040110000c0a80001c0a800c7"

/* --- checksum --- */

Test(cksum, rfc1071_example)
{
	/* RFC 1071 §3: the sum of 00 01 f2 03 f4 f5 f6 f7 is ddf2, checksum ~ddf2 = 220d */
	const uint8_t d[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
	cr_assert_eq(roam_cksum(d, sizeof(d)), 0x220d);
	/* incremental in even chunks gives the same */
	uint32_t s = roam_cksum_add(0, d, 2);
	s = roam_cksum_add(s, d + 2, 4);
	s = roam_cksum_add(s, d + 6, 2);
	cr_assert_eq(roam_cksum_finish(s), 0x220d);
	/* odd length: a zero pad byte */
	const uint8_t o[] = {0x01, 0x02, 0x03};
	cr_assert_eq(roam_cksum(o, 3), (uint16_t)~(0x0102 + 0x0300));
	cr_assert_eq(roam_cksum(NULL, 0), 0xffff);
}

Test(cksum, ipv4_header_known)
{
	uint8_t h[20];
	unhex(HDR_B861, h, sizeof(h));
	cr_assert_eq(roam_cksum(h, 20), 0xb861);
	h[10] = 0xb8;
	h[11] = 0x61;
	cr_assert_eq(roam_cksum(h, 20), 0);

	uint8_t p[64];
	unhex(CAP_UDP4, p, sizeof(p));
	cr_assert_eq(roam_cksum(p, 20), 0);
	p[10] = p[11] = 0;
	cr_assert_eq(roam_cksum(p, 20), 0x0485);
}

Test(cksum, rfc1624_update)
{
	uint8_t h[20];
	unhex(HDR_B861, h, sizeof(h));
	h[10] = 0xb8;
	h[11] = 0x61;
	/* decrement TTL 0x40 -> 0x3f: the word at offset 8 is TTL|proto */
	for (int ttl = 0x40; ttl > 1; ttl--) {
		uint16_t old = (uint16_t)((h[8] << 8) | h[9]);
		uint16_t ck = (uint16_t)((h[10] << 8) | h[11]);
		h[8]--;
		uint16_t nw = (uint16_t)((h[8] << 8) | h[9]);
		uint16_t upd = roam_cksum_update16(ck, old, nw);
		h[10] = (uint8_t)(upd >> 8);
		h[11] = (uint8_t)upd;
		cr_assert_eq(roam_cksum(h, 20), 0, "ttl %d", ttl - 1);
	}
	/* a change giving the negative zero corner case still verifies */
	uint8_t z[4] = {0x00, 0x00, 0xff, 0xff};
	uint16_t ck = roam_cksum(z, 4);
	uint16_t upd = roam_cksum_update16(ck, 0x0000, 0x0001);
	z[1] = 1;
	uint8_t zz[6] = {z[0], z[1], z[2], z[3], (uint8_t)(upd >> 8), (uint8_t)upd};
	cr_assert_eq(roam_cksum(zz, 6), 0);
}

Test(cksum, udp_pseudo_captured)
{
	uint8_t p[128];
	size_t n = unhex(CAP_UDP4, p, sizeof(p));
	struct roam_ipaddr s = A("192.0.2.1"), d = A("192.0.2.2");
	cr_assert_eq(roam_l4_cksum(&s, &d, IPPROTO_UDP, p + 20, n - 20), 0);
	cr_assert(roam_udp_cksum_ok(&s, &d, p + 20, n - 20));
	p[26] = p[27] = 0;
	/* zero checksum: "none" for IPv4 */
	cr_assert(roam_udp_cksum_ok(&s, &d, p + 20, n - 20));
	cr_assert_eq(roam_l4_cksum(&s, &d, IPPROTO_UDP, p + 20, n - 20), 0x4985);
	p[27] = 1;
	cr_assert_not(roam_udp_cksum_ok(&s, &d, p + 20, n - 20));

	n = unhex(CAP_UDP6, p, sizeof(p));
	s = A("2001:db8::1");
	d = A("2001:db8::2");
	cr_assert_eq(roam_l4_cksum(&s, &d, IPPROTO_UDP, p + 40, n - 40), 0);
	cr_assert(roam_udp_cksum_ok(&s, &d, p + 40, n - 40));
	p[46] = p[47] = 0;
	cr_assert_eq(roam_l4_cksum(&s, &d, IPPROTO_UDP, p + 40, n - 40), 0x7213);
	cr_assert_not(roam_udp_cksum_ok(&s, &d, p + 40, n - 40)); /* mandatory in IPv6 */
	/* wrong pseudo-header (other destination) fails */
	n = unhex(CAP_UDP6, p, sizeof(p));
	d = A("2001:db8::3");
	cr_assert_not(roam_udp_cksum_ok(&s, &d, p + 40, n - 40));
}

Test(cksum, icmp6_captured)
{
	uint8_t p[128];
	size_t n = unhex(CAP_ICMP6, p, sizeof(p));
	struct in6_addr s, d;
	inet_pton(AF_INET6, "2001:db8::1", &s);
	inet_pton(AF_INET6, "2001:db8::2", &d);
	cr_assert_eq(roam_icmp6_cksum(&s, &d, p + 40, n - 40), 0);
	p[42] = p[43] = 0;
	cr_assert_eq(roam_icmp6_cksum(&s, &d, p + 40, n - 40), 0x3e32);
	/* ICMPv4 echo request "roam", no pseudo-header */
	uint8_t e[12] = {8, 0, 0, 0, 0x12, 0x34, 0, 1, 'r', 'o', 'a', 'm'};
	uint16_t c = roam_icmp4_cksum(e, sizeof(e));
	e[2] = (uint8_t)(c >> 8);
	e[3] = (uint8_t)c;
	cr_assert_eq(roam_cksum(e, sizeof(e)), 0);
}

/* --- IPv4 --- */

Test(ip4, decode_encode_captured)
{
	uint8_t p[128];
	size_t n = unhex(CAP_UDP4, p, sizeof(p));
	struct rbuf r, pl;
	struct roam_ip4_hdr h;
	rbuf_init(&r, p, n);
	cr_assert_eq(roam_ip4_decode(&r, &h, &pl), 0);
	cr_assert_eq(rbuf_left(&r), 0);
	cr_assert_eq(h.hlen, 20);
	cr_assert_eq(h.tot_len, 45);
	cr_assert_eq(h.id, 0xb237);
	cr_assert_eq(h.frag, ROAM_IP4_DF);
	cr_assert_eq(h.ttl, 64);
	cr_assert_eq(h.proto, IPPROTO_UDP);
	cr_assert_eq(h.cksum, 0x0485);
	cr_assert_eq(h.src.s_addr, inet_addr("192.0.2.1"));
	cr_assert_eq(h.dst.s_addr, inet_addr("192.0.2.2"));
	cr_assert_eq(rbuf_left(&pl), 25);

	uint8_t out[64];
	struct wbuf w;
	wbuf_init_fixed(&w, out, sizeof(out));
	cr_assert_eq(roam_ip4_encode(&w, &h), 0);
	cr_assert_eq(w.len, 20);
	cr_assert_arr_eq(out, p, 20);
}

Test(ip4, decode_truncated_every_offset)
{
	uint8_t p[128];
	size_t n = unhex(CAP_UDP4, p, sizeof(p));
	for (size_t i = 0; i < n; i++) {
		struct rbuf r;
		struct roam_ip4_hdr h;
		rbuf_init(&r, p, i);
		cr_assert_eq(roam_ip4_decode(&r, &h, NULL), -EBADMSG, "len %zu", i);
		cr_assert_eq(rbuf_left(&r), i); /* untouched */
	}
}

Test(ip4, decode_options_padding_and_errors)
{
	/* header with 4 bytes of options (IHL 6): NOP NOP NOP EOL */
	uint8_t p[28] = {0x46, 0, 0, 28, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
			 1, 1, 1, 0, 0xaa, 0xbb, 0xcc, 0xdd};
	uint16_t c = roam_cksum(p, 24);
	p[10] = (uint8_t)(c >> 8);
	p[11] = (uint8_t)c;
	uint8_t buf[40];
	memcpy(buf, p, 28);
	memset(buf + 28, 0xee, 12); /* link-layer padding after tot_len */
	struct rbuf r, pl;
	struct roam_ip4_hdr h;
	rbuf_init(&r, buf, sizeof(buf));
	cr_assert_eq(roam_ip4_decode(&r, &h, &pl), 0);
	cr_assert_eq(h.hlen, 24);
	cr_assert_eq(rbuf_left(&pl), 4);
	cr_assert_eq(pl.p[0], 0xaa);
	cr_assert_eq(rbuf_left(&r), 12);
	/* truncated inside the options */
	for (size_t i = 20; i < 28; i++) {
		rbuf_init(&r, p, i);
		cr_assert_eq(roam_ip4_decode(&r, &h, &pl), -EBADMSG);
	}
	/* bad checksum */
	uint8_t q[28];
	memcpy(q, p, 28);
	q[11] ^= 1;
	rbuf_init(&r, q, 28);
	cr_assert_eq(roam_ip4_decode(&r, &h, &pl), -EBADMSG);
	/* wrong version, IHL < 5, tot_len < hlen */
	memcpy(q, p, 28);
	q[0] = 0x66;
	rbuf_init(&r, q, 28);
	cr_assert_eq(roam_ip4_decode(&r, &h, &pl), -EBADMSG);
	q[0] = 0x44;
	rbuf_init(&r, q, 28);
	cr_assert_eq(roam_ip4_decode(&r, &h, &pl), -EBADMSG);
	memcpy(q, p, 28);
	q[3] = 20; /* < hlen 24 */
	c = 0;
	q[10] = q[11] = 0;
	c = roam_cksum(q, 24);
	q[10] = (uint8_t)(c >> 8);
	q[11] = (uint8_t)c;
	rbuf_init(&r, q, 28);
	cr_assert_eq(roam_ip4_decode(&r, &h, &pl), -EBADMSG);
}

/* --- IPv6 --- */

Test(ip6, decode_encode_captured)
{
	uint8_t p[128];
	size_t n = unhex(CAP_UDP6, p, sizeof(p));
	struct rbuf r, pl;
	struct roam_ip6_hdr h;
	rbuf_init(&r, p, n);
	cr_assert_eq(roam_ip6_decode(&r, &h, &pl), 0);
	cr_assert_eq(h.tclass, 0);
	cr_assert_eq(h.flow, 0x70f39);
	cr_assert_eq(h.payload_len, 25);
	cr_assert_eq(h.next, IPPROTO_UDP);
	cr_assert_eq(h.hlim, 64);
	cr_assert_eq(rbuf_left(&pl), 25);
	cr_assert_eq(rbuf_left(&r), 0);
	uint8_t out[64];
	struct wbuf w;
	wbuf_init_fixed(&w, out, sizeof(out));
	cr_assert_eq(roam_ip6_encode(&w, &h), 0);
	cr_assert_eq(w.len, 40);
	cr_assert_arr_eq(out, p, 40);

	for (size_t i = 0; i < n; i++) {
		rbuf_init(&r, p, i);
		cr_assert_eq(roam_ip6_decode(&r, &h, NULL), -EBADMSG, "len %zu", i);
	}
	p[0] = 0x40;
	rbuf_init(&r, p, n);
	cr_assert_eq(roam_ip6_decode(&r, &h, NULL), -EBADMSG);
}

/* payload: HBH(8, PadN) -> DST(16) -> FRAG(first, M=1) -> UDP(8 + 4) */
static size_t build_ext_chain(uint8_t *buf, uint16_t frag_off_flags)
{
	uint8_t *q = buf;
	const uint8_t hbh[8] = {IPPROTO_DSTOPTS, 0, 1, 4, 0, 0, 0, 0};
	memcpy(q, hbh, 8);
	q += 8;
	uint8_t dst[16] = {IPPROTO_FRAGMENT, 1, 1, 12};
	memcpy(q, dst, 16);
	q += 16;
	uint8_t frag[8] = {IPPROTO_UDP, 0, (uint8_t)(frag_off_flags >> 8), (uint8_t)frag_off_flags,
			   0, 0, 0, 42};
	memcpy(q, frag, 8);
	q += 8;
	const uint8_t udp[12] = {0x12, 0x34, 0x01, 0xb2, 0, 12, 0, 0, 'r', 'o', 'a', 'm'};
	memcpy(q, udp, 12);
	q += 12;
	return (size_t)(q - buf);
}

Test(ip6, extension_walk)
{
	uint8_t buf[64];
	size_t n = build_ext_chain(buf, 0x0001); /* offset 0, M */
	struct rbuf r;
	uint8_t proto;
	rbuf_init(&r, buf, n);
	cr_assert_eq(roam_ip6_upper(IPPROTO_HOPOPTS, &r, &proto), 0);
	cr_assert_eq(proto, IPPROTO_UDP);
	cr_assert_eq(rbuf_left(&r), 12);
	cr_assert_eq(r.p[0], 0x12);

	/* non-first fragment stops at the fragment header */
	n = build_ext_chain(buf, 0x0008 | 1);
	rbuf_init(&r, buf, n);
	cr_assert_eq(roam_ip6_upper(IPPROTO_HOPOPTS, &r, &proto), 0);
	cr_assert_eq(proto, IPPROTO_FRAGMENT);
	cr_assert_eq(rbuf_left(&r), 20);

	/* truncated at every offset inside the extension headers */
	n = build_ext_chain(buf, 0);
	for (size_t i = 0; i < 32; i++) {
		rbuf_init(&r, buf, i);
		cr_assert_eq(roam_ip6_upper(IPPROTO_HOPOPTS, &r, &proto), -EBADMSG, "len %zu", i);
	}
	/* no extension header: unchanged */
	rbuf_init(&r, buf, n);
	cr_assert_eq(roam_ip6_upper(IPPROTO_UDP, &r, &proto), 0);
	cr_assert_eq(proto, IPPROTO_UDP);
	cr_assert_eq(rbuf_left(&r), n);

	/* ext_next one by one */
	uint8_t next = IPPROTO_HOPOPTS;
	struct rbuf ext;
	rbuf_init(&r, buf, n);
	cr_assert_eq(roam_ip6_ext_next(&next, &r, &ext), 1);
	cr_assert_eq(next, IPPROTO_DSTOPTS);
	cr_assert_eq(rbuf_left(&ext), 8);
	cr_assert_eq(roam_ip6_ext_next(&next, &r, &ext), 1);
	cr_assert_eq(rbuf_left(&ext), 16);
	cr_assert_eq(roam_ip6_ext_next(&next, &r, &ext), 1);
	cr_assert_eq(next, IPPROTO_UDP);
	cr_assert_eq(roam_ip6_ext_next(&next, &r, &ext), 0);
}

Test(ip6, extension_walk_bounded)
{
	/* 40 destination options headers chained: refused past the bound */
	uint8_t buf[40 * 8];
	for (int i = 0; i < 40; i++) {
		uint8_t h[8] = {IPPROTO_DSTOPTS, 0, 1, 4, 0, 0, 0, 0};
		memcpy(buf + i * 8, h, 8);
	}
	struct rbuf r;
	uint8_t proto;
	rbuf_init(&r, buf, sizeof(buf));
	cr_assert_eq(roam_ip6_upper(IPPROTO_DSTOPTS, &r, &proto), -ELOOP);
	/* AH length: (len + 2) * 4 */
	uint8_t ah[16] = {IPPROTO_UDP, 2, 0, 0};
	rbuf_init(&r, ah, sizeof(ah));
	cr_assert_eq(roam_ip6_upper(IPPROTO_AH, &r, &proto), 0);
	cr_assert_eq(proto, IPPROTO_UDP);
	cr_assert_eq(rbuf_left(&r), 0);
}

/* --- UDP --- */

Test(udp_hdr, decode_encode)
{
	uint8_t p[128];
	size_t n = unhex(CAP_UDP4, p, sizeof(p));
	struct rbuf r, pl;
	struct roam_udp_hdr h;
	rbuf_init(&r, p + 20, n - 20);
	cr_assert_eq(roam_udp_hdr_decode(&r, &h, &pl), 0);
	cr_assert_eq(h.sport, 49152);
	cr_assert_eq(h.dport, 434);
	cr_assert_eq(h.len, 25);
	cr_assert_eq(h.cksum, 0x4985);
	cr_assert_eq(rbuf_left(&pl), 17);
	cr_assert(memcmp(pl.p, "roam registration", 17) == 0);
	uint8_t out[8];
	struct wbuf w;
	wbuf_init_fixed(&w, out, sizeof(out));
	cr_assert_eq(roam_udp_hdr_encode(&w, &h), 0);
	cr_assert_arr_eq(out, p + 20, 8);
	for (size_t i = 0; i < n - 20; i++) {
		rbuf_init(&r, p + 20, i);
		cr_assert_eq(roam_udp_hdr_decode(&r, &h, &pl), -EBADMSG, "len %zu", i);
	}
	/* length field below 8 */
	uint8_t bad[8] = {0, 1, 0, 2, 0, 7, 0, 0};
	rbuf_init(&r, bad, 8);
	cr_assert_eq(roam_udp_hdr_decode(&r, &h, &pl), -EBADMSG);
}

/* --- whole datagrams --- */

Test(datagram, build_matches_captures)
{
	uint8_t p[128], out[128];
	size_t n = unhex(CAP_UDP4, p, sizeof(p));
	struct roam_ip_udp u = {.src = A("192.0.2.1"), .dst = A("192.0.2.2"), .sport = 49152,
				.dport = 434, .ttl = 64, .id = 0xb237, .df = 1};
	struct wbuf w;
	wbuf_init_fixed(&w, out, sizeof(out));
	cr_assert_eq(roam_ip_udp_build(&w, &u, "roam registration", 17), 0);
	cr_assert_eq(w.len, n);
	cr_assert_arr_eq(out, p, n);

	n = unhex(CAP_UDP6, p, sizeof(p));
	struct roam_ip_udp u6 = {.src = A("2001:db8::1"), .dst = A("2001:db8::2"), .sport = 49153,
				 .dport = 434, .ttl = 64, .flow = 0x70f39};
	wbuf_init_fixed(&w, out, sizeof(out));
	cr_assert_eq(roam_ip_udp_build(&w, &u6, "roam registration", 17), 0);
	cr_assert_eq(w.len, n);
	cr_assert_arr_eq(out, p, n);

	/* mixed families and oversize are refused */
	struct roam_ip_udp mix = u;
	mix.dst = A("::1");
	wbuf_init_fixed(&w, out, sizeof(out));
	cr_assert_eq(roam_ip_udp_build(&w, &mix, "x", 1), -EAFNOSUPPORT);
	static uint8_t big[65535];
	struct wbuf g;
	wbuf_init(&g);
	cr_assert_eq(roam_ip_udp_build(&g, &u, big, 65535 - 28 + 1), -EMSGSIZE);
	cr_assert_eq(roam_ip_udp_build(&g, &u, big, 65535 - 28), 0);
	cr_assert_eq(g.len, 65535);
	wbuf_free(&g);
	/* a fixed buffer too small: the writer's error */
	wbuf_init_fixed(&w, out, 30);
	cr_assert_eq(roam_ip_udp_build(&w, &u, "roam registration", 17), -ENOSPC);
}

Test(datagram, parse_captures_and_truncation)
{
	const char *caps[] = {CAP_UDP4, CAP_UDP6};
	for (int k = 0; k < 2; k++) {
		uint8_t p[128];
		size_t n = unhex(caps[k], p, sizeof(p));
		struct roam_ip_udp u;
		struct rbuf pl;
		cr_assert_eq(roam_ip_udp_parse(p, n, &u, &pl), 0);
		cr_assert_eq(u.dport, 434);
		cr_assert_eq(u.sport, k == 0 ? 49152 : 49153);
		cr_assert_eq(u.ttl, 64);
		cr_assert_eq(rbuf_left(&pl), 17);
		cr_assert(memcmp(pl.p, "roam registration", 17) == 0);
		cr_assert_eq(u.src.family, k == 0 ? AF_INET : AF_INET6);
		for (size_t i = 0; i < n; i++)
			cr_assert_eq(roam_ip_udp_parse(p, i, &u, &pl), -EBADMSG, "cap %d len %zu",
				     k, i);
		/* a flipped payload bit breaks the UDP checksum */
		p[n - 1] ^= 0x01;
		cr_assert_eq(roam_ip_udp_parse(p, n, &u, &pl), -EBADMSG);
	}
	/* not UDP */
	uint8_t p[128];
	size_t n = unhex(CAP_ICMP6, p, sizeof(p));
	struct roam_ip_udp u;
	struct rbuf pl;
	cr_assert_eq(roam_ip_udp_parse(p, n, &u, &pl), -EPROTONOSUPPORT);
}

/* --- tunnels --- */

Test(tunnel, ipip_encap_decap)
{
	uint8_t inner[128], out[256];
	size_t n = unhex(CAP_UDP4, inner, sizeof(inner));
	struct roam_ipip t = {.src = A("198.51.100.1"), .dst = A("198.51.100.2"), .id = 7,
			      .forwarding = 1};
	struct wbuf w;
	wbuf_init_fixed(&w, out, sizeof(out));
	cr_assert_eq(roam_ipip_encap(&w, &t, inner, n), 0);
	cr_assert_eq(w.len, 20 + n);
	uint8_t want[20];
	unhex("45000041000740004004e647c6336401c6336402", want, sizeof(want));
	cr_assert_arr_eq(out, want, 20); /* TOS 0 and DF copied, TTL 64, proto 4 */
	cr_assert_eq(out[20 + 8], 63);   /* inner TTL decremented */
	cr_assert_eq(out[20 + 10], 0x05); /* and its checksum updated: 0485 -> 0585 */
	cr_assert_eq(out[20 + 11], 0x85);
	cr_assert_eq(roam_cksum(out + 20, 20), 0);

	struct roam_ip4_hdr oh;
	struct rbuf in;
	cr_assert_eq(roam_ipip_decap(out, w.len, &oh, &in), 0);
	cr_assert_eq(oh.proto, IPPROTO_IPIP);
	cr_assert_eq(rbuf_left(&in), n);
	cr_assert(memcmp(in.p, out + 20, n) == 0);
	/* the decapsulated datagram is a valid UDP datagram */
	struct roam_ip_udp u;
	struct rbuf pl;
	cr_assert_eq(roam_ip_udp_parse(in.p, rbuf_left(&in), &u, &pl), 0);
	cr_assert_eq(u.ttl, 63);

	for (size_t i = 0; i < w.len; i++)
		cr_assert_eq(roam_ipip_decap(out, i, &oh, &in), -EBADMSG, "len %zu", i);

	/* not forwarding: inner untouched; TTL 1 forwarding: time exceeded */
	t.forwarding = 0;
	wbuf_init_fixed(&w, out, sizeof(out));
	cr_assert_eq(roam_ipip_encap(&w, &t, inner, n), 0);
	cr_assert_arr_eq(out + 20, inner, n);
	inner[8] = 1;
	inner[10] = inner[11] = 0;
	uint16_t c = roam_cksum(inner, 20);
	inner[10] = (uint8_t)(c >> 8);
	inner[11] = (uint8_t)c;
	t.forwarding = 1;
	wbuf_init_fixed(&w, out, sizeof(out));
	cr_assert_eq(roam_ipip_encap(&w, &t, inner, n), -ETIMEDOUT);
	/* inner garbage refused; outer not IPIP refused */
	wbuf_init_fixed(&w, out, sizeof(out));
	cr_assert_eq(roam_ipip_encap(&w, &t, "garbage", 7), -EBADMSG);
	n = unhex(CAP_UDP4, inner, sizeof(inner));
	cr_assert_eq(roam_ipip_decap(inner, n, &oh, &in), -EPROTONOSUPPORT);
	/* wrong families */
	struct roam_ipip t6 = {.src = A("2001:db8::1"), .dst = A("2001:db8::2")};
	cr_assert_eq(roam_ipip_encap(&w, &t6, inner, n), -EAFNOSUPPORT);
}

Test(tunnel, ip6ip6_encap_decap)
{
	uint8_t inner[128], out[256];
	size_t n = unhex(CAP_UDP6, inner, sizeof(inner));
	struct roam_ipip t = {.src = A("2001:db8:ffff::1"), .dst = A("2001:db8:ffff::2"),
			      .ttl = 255, .forwarding = 1};
	struct wbuf w;
	wbuf_init_fixed(&w, out, sizeof(out));
	cr_assert_eq(roam_ip6ip6_encap(&w, &t, inner, n), 0);
	cr_assert_eq(w.len, 40 + n);
	struct rbuf r;
	struct roam_ip6_hdr oh;
	rbuf_init(&r, out, w.len);
	cr_assert_eq(roam_ip6_decode(&r, &oh, NULL), 0);
	cr_assert_eq(oh.next, IPPROTO_IPV6);
	cr_assert_eq(oh.hlim, 255);
	cr_assert_eq(oh.payload_len, n);
	cr_assert_eq(oh.flow, 0);
	cr_assert_eq(out[40 + 7], 63); /* inner hop limit decremented */

	struct rbuf in;
	cr_assert_eq(roam_ip6ip6_decap(out, w.len, &oh, &in), 0);
	cr_assert_eq(rbuf_left(&in), n);
	cr_assert(memcmp(in.p, out + 40, n) == 0);
	struct roam_ip_udp u;
	struct rbuf pl;
	cr_assert_eq(roam_ip_udp_parse(in.p, rbuf_left(&in), &u, &pl), 0); /* hop limit is not
									     * covered by the checksum */
	for (size_t i = 0; i < w.len; i++)
		cr_assert_eq(roam_ip6ip6_decap(out, i, &oh, &in), -EBADMSG, "len %zu", i);
	cr_assert_eq(roam_ip6ip6_decap(inner, n, &oh, &in), -EPROTONOSUPPORT);

	/* decap through a destination options header (as a tunnel encapsulation limit) */
	uint8_t ext[256];
	memcpy(ext, out, 40);
	ext[6] = IPPROTO_DSTOPTS;
	const uint8_t d[8] = {IPPROTO_IPV6, 0, 4, 1, 4, 1, 1, 0};
	memcpy(ext + 40, d, 8);
	memcpy(ext + 48, out + 40, n);
	ext[4] = (uint8_t)((n + 8) >> 8);
	ext[5] = (uint8_t)(n + 8);
	cr_assert_eq(roam_ip6ip6_decap(ext, 48 + n, &oh, &in), 0);
	cr_assert_eq(rbuf_left(&in), n);

	inner[7] = 1;
	wbuf_init_fixed(&w, out, sizeof(out));
	cr_assert_eq(roam_ip6ip6_encap(&w, &t, inner, n), -ETIMEDOUT);
}
