/* Internet checksum (RFC 1071, RFC 1624), IPv4 / IPv6 / UDP header codecs, pseudo-header
 * checksums, whole-datagram builders and the tunnel encapsulations of mobility:
 * IP-in-IP (RFC 2003) and IPv6-in-IPv6 (RFC 2473).
 *
 * Checksum values are host-order integers whose big-endian bytes are the wire field: write
 * them with wbuf_put_u16()/wbuf_patch_u16(), compare them with what rbuf_get_u16() read.
 * Decoders read through an rbuf, return 0 or -EBADMSG (malformed or truncated) and never read
 * outside their input. */
#ifndef ROAM_IP_H
#define ROAM_IP_H
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include "roam/addr.h"
#include "roam/buf.h"

/* --- checksum --- */

/* Adds data to a running 32-bit one's-complement partial sum (start with 0).  Every chunk but
 * the last must have an even length. */
uint32_t roam_cksum_add(uint32_t sum, const void *data, size_t len);
/* Folds a partial sum and complements it: the value to put in the checksum field. */
uint16_t roam_cksum_finish(uint32_t sum);
/* One-shot RFC 1071 checksum of a buffer.  Over a buffer that contains a correct checksum
 * field the result is 0. */
uint16_t roam_cksum(const void *data, size_t len);
/* RFC 1624 incremental update: the new checksum after a 16-bit field changed from old to new
 * (values in host order, as read by rbuf_get_u16). */
uint16_t roam_cksum_update16(uint16_t cksum, uint16_t old_val, uint16_t new_val);
/* Partial sum of the IPv4 (RFC 768) or IPv6 (RFC 8200 §8.1) pseudo-header.  src and dst must
 * be of the same family. */
uint32_t roam_cksum_pseudo(const struct roam_ipaddr *src, const struct roam_ipaddr *dst,
			   uint8_t proto, uint32_t len);
/* Checksum of an upper-layer segment (UDP, TCP, ICMPv6, MH) with its pseudo-header.  Computed
 * with the segment's checksum field zeroed it is the value to write; computed over a segment
 * with its checksum in place it is 0 when that checksum is correct. */
uint16_t roam_l4_cksum(const struct roam_ipaddr *src, const struct roam_ipaddr *dst,
		       uint8_t proto, const void *seg, size_t len);
/* ICMPv4 checksum (no pseudo-header) and ICMPv6 checksum (pseudo-header, proto 58). */
uint16_t roam_icmp4_cksum(const void *icmp, size_t len);
uint16_t roam_icmp6_cksum(const struct in6_addr *src, const struct in6_addr *dst,
			  const void *icmp, size_t len);

/* --- IPv4 header (RFC 791) --- */

#define ROAM_IP4_HDRLEN 20
#define ROAM_IP4_DF 0x4000
#define ROAM_IP4_MF 0x2000
#define ROAM_IP4_OFFMASK 0x1fff

struct roam_ip4_hdr {
	uint8_t hlen;               /* header bytes (IHL * 4), 20..60; encode writes 20 */
	uint8_t tos;
	uint16_t tot_len;           /* encode: ignored when building with the helpers below */
	uint16_t id;
	uint16_t frag;              /* flags (ROAM_IP4_DF, ROAM_IP4_MF) | offset in 8-byte units */
	uint8_t ttl;
	uint8_t proto;
	uint16_t cksum;             /* decode: as read (verified); encode: computed */
	struct in_addr src, dst;
};

/* Decodes the header at r (options skipped but length-checked; version, IHL, total length and
 * header checksum verified).  On success r is advanced past the whole datagram (tot_len bytes;
 * link-layer padding after it stays in r) and payload, if not NULL, is the tot_len - hlen bytes
 * after the header.  -EBADMSG otherwise, r unchanged. */
int roam_ip4_decode(struct rbuf *r, struct roam_ip4_hdr *h, struct rbuf *payload);
/* Writes a 20-byte header (no options) from h, with h->tot_len and a computed checksum. */
int roam_ip4_encode(struct wbuf *w, const struct roam_ip4_hdr *h);

/* --- IPv6 header (RFC 8200) --- */

#define ROAM_IP6_HDRLEN 40
#define ROAM_IP6_MAX_EXT 16         /* extension headers walked at most */

struct roam_ip6_hdr {
	uint8_t tclass;
	uint32_t flow;              /* 20 bits */
	uint16_t payload_len;
	uint8_t next;               /* next header */
	uint8_t hlim;
	struct in6_addr src, dst;
};

/* Decodes the fixed header; r advanced past header + payload_len bytes; payload (if not NULL)
 * is the payload_len bytes after the header (jumbograms are refused).  -EBADMSG. */
int roam_ip6_decode(struct rbuf *r, struct roam_ip6_hdr *h, struct rbuf *payload);
int roam_ip6_encode(struct wbuf *w, const struct roam_ip6_hdr *h);
/* 1 if proto is an extension header walked by roam_ip6_ext_next() (hop-by-hop 0, routing 43,
 * fragment 44, destination options 60, AH 51), else 0. */
int roam_ip6_is_ext(uint8_t proto);
/* Splits off the extension header of type *next at r into ext (whole header, its first two
 * bytes included) and sets *next to the header that follows.  Returns 1 when one was consumed,
 * 0 when *next is not an extension header (r untouched), -EBADMSG on truncation. */
int roam_ip6_ext_next(uint8_t *next, struct rbuf *r, struct rbuf *ext);
/* Walks extension headers from next (the IPv6 header's next field) over the payload in r, at
 * most ROAM_IP6_MAX_EXT of them: *proto is the upper-layer protocol and r is left at its
 * header.  A non-first fragment stops the walk with *proto = IPPROTO_FRAGMENT and r at the
 * fragment header.  -EBADMSG on truncation, -ELOOP past the bound. */
int roam_ip6_upper(uint8_t next, struct rbuf *r, uint8_t *proto);

/* --- UDP header (RFC 768) --- */

#define ROAM_UDP_HDRLEN 8

struct roam_udp_hdr {
	uint16_t sport, dport;
	uint16_t len;               /* header + payload */
	uint16_t cksum;
};

/* Decodes the header; len must be 8..available; payload (if not NULL) is len - 8 bytes; r is
 * advanced past len bytes.  The checksum is not verified here (see roam_udp_cksum_ok()). */
int roam_udp_hdr_decode(struct rbuf *r, struct roam_udp_hdr *h, struct rbuf *payload);
/* Writes sport, dport, len and cksum as given. */
int roam_udp_hdr_encode(struct wbuf *w, const struct roam_udp_hdr *h);
/* Checks the UDP checksum of a whole UDP segment (header included): returns 1 if it is correct
 * or (IPv4 only) absent (zero), else 0. */
int roam_udp_cksum_ok(const struct roam_ipaddr *src, const struct roam_ipaddr *dst,
		      const void *seg, size_t len);

/* --- whole datagrams --- */

/* Addressing of an IP/UDP datagram.  src and dst of one family. */
struct roam_ip_udp {
	struct roam_ipaddr src, dst;
	uint16_t sport, dport;
	uint8_t ttl;                /* TTL / hop limit; 0 = 64 */
	uint8_t tos;                /* TOS / traffic class */
	uint16_t id;                /* IPv4 identification */
	int df;                     /* IPv4: set DF */
	uint32_t flow;              /* IPv6 flow label */
};

/* Appends a complete IPv4/UDP or IPv6/UDP datagram (headers, UDP checksum) to w.
 * -EAFNOSUPPORT (mixed/unset families), -EMSGSIZE (payload too large), or w->err. */
int roam_ip_udp_build(struct wbuf *w, const struct roam_ip_udp *p, const void *payload,
		      size_t len);
/* Parses a complete IPv4 or IPv6 datagram carrying UDP (IPv6 extension headers walked, IPv4
 * fragments refused), verifies the IP and UDP checksums, fills p (ttl, tos, id, df, flow too)
 * and sets payload to the UDP payload.  -EBADMSG (malformed, bad checksum, fragment),
 * -EPROTONOSUPPORT (not UDP). */
int roam_ip_udp_parse(const void *pkt, size_t len, struct roam_ip_udp *p, struct rbuf *payload);

/* --- tunnels --- */

/* IP-in-IP (RFC 2003 §3.1) / IPv6-in-IPv6 (RFC 2473 §3, §6) encapsulation parameters. */
struct roam_ipip {
	struct roam_ipaddr src, dst; /* tunnel entry and exit points (AF_INET for IPIP, AF_INET6
				      * for IP6IP6) */
	uint8_t ttl;                /* outer TTL / hop limit; 0 = 64 */
	uint16_t id;                /* IPv4 outer identification (the caller's counter) */
	int forwarding;             /* 1: the inner TTL / hop limit is decremented (the packet is
				     * being forwarded into the tunnel); if it would reach 0 the call
				     * fails with -ETIMEDOUT (send ICMP time exceeded instead) */
};

/* Appends outer IPv4 header + inner IPv4 datagram to w.  The outer header copies TOS and the
 * DF bit from the inner one, protocol 4, total length covers the inner datagram.  The inner
 * datagram must be a valid IPv4 datagram (-EBADMSG); -EMSGSIZE if the result exceeds 65535. */
int roam_ipip_encap(struct wbuf *w, const struct roam_ipip *p, const void *inner, size_t len);
/* Decapsulates a whole IPv4 datagram with protocol 4: outer gets its header, inner the inner
 * datagram (validated as IPv4).  -EBADMSG, -EPROTONOSUPPORT (outer protocol is not 4). */
int roam_ipip_decap(const void *pkt, size_t len, struct roam_ip4_hdr *outer, struct rbuf *inner);
/* Appends outer IPv6 header (next header 41, traffic class copied from the inner packet, flow
 * label 0) + inner IPv6 packet to w. */
int roam_ip6ip6_encap(struct wbuf *w, const struct roam_ipip *p, const void *inner, size_t len);
/* Decapsulates a whole IPv6 packet whose upper layer (after extension headers) is 41.
 * -EBADMSG, -EPROTONOSUPPORT. */
int roam_ip6ip6_decap(const void *pkt, size_t len, struct roam_ip6_hdr *outer,
		      struct rbuf *inner);

#endif
