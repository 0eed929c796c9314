/* IP addresses, socket addresses and prefixes (IPv4 and IPv6).
 *
 * struct roam_ipaddr is the one address type of roam: configs, tables and codecs use it.
 * Formatting is thread-safe: every *_fmt() writes into the caller's buffer (ROAM_ADDRSTRLEN
 * bytes is always enough) and returns that buffer, so it can be used inside a log call:
 *	char b[ROAM_ADDRSTRLEN];
 *	log_info("peer %s", roam_sockaddr_fmt(&sa, b, sizeof(b)));
 * Parsers return 0 or -EINVAL and leave *out unspecified on error. */
#ifndef ROAM_ADDR_H
#define ROAM_ADDR_H
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>

/* Longest text any *_fmt() produces, with its NUL: "[v6%ifname]:65535" or "v6/128". */
#define ROAM_ADDRSTRLEN 72
/* Length of the canonical key bytes of roam_ipaddr_key(). */
#define ROAM_IPADDR_KEYLEN 17

/* An IPv4 or IPv6 address.  family is AF_INET or AF_INET6 (0: unset / none).  Zero-initialise
 * before filling it field by field so that roam_ipaddr_cmp() and memcmp-free keys work. */
struct roam_ipaddr {
	int family;
	union {
		struct in_addr v4;
		struct in6_addr v6;
	};
};

/* A socket address (sockaddr_storage wrapper) with its length.  len is 0 when unset. */
struct roam_sockaddr {
	union {
		struct sockaddr sa;
		struct sockaddr_in sin;
		struct sockaddr_in6 sin6;
		struct sockaddr_storage ss;
	};
	socklen_t len;
};

/* An address with a prefix length (0..32 or 0..128).  The address may carry host bits
 * ("10.1.2.3/24" names an interface address); roam_prefix_mask() clears them. */
struct roam_prefix {
	struct roam_ipaddr addr;
	uint8_t len;
};

/* --- roam_ipaddr --- */

/* Parses "192.0.2.1" or "2001:db8::1" (no port, no brackets, no prefix). */
int roam_ipaddr_parse(const char *s, struct roam_ipaddr *out);
/* Formats the address ("192.0.2.1", "2001:db8::1", "-" when family is 0, "?" for an unknown
 * family).  Returns buf. */
const char *roam_ipaddr_fmt(const struct roam_ipaddr *a, char *buf, size_t len);
void roam_ipaddr_set4(struct roam_ipaddr *a, struct in_addr v4);
void roam_ipaddr_set6(struct roam_ipaddr *a, const struct in6_addr *v6);
/* Sets from 4 (AF_INET) or 16 (AF_INET6) raw network-order bytes; -EAFNOSUPPORT otherwise. */
int roam_ipaddr_from_bytes(struct roam_ipaddr *a, int family, const void *bytes);
/* Pointer to the raw network-order address bytes (borrowed from a) and their count (4 or 16;
 * 0 and NULL for an unset address). */
const uint8_t *roam_ipaddr_bytes(const struct roam_ipaddr *a, size_t *len);
/* Byte length of an address of this family: 4, 16, or 0. */
size_t roam_ipaddr_family_len(int family);
/* Total order: family first (unset < AF_INET < AF_INET6), then bytes.  <0, 0, >0. */
int roam_ipaddr_cmp(const struct roam_ipaddr *a, const struct roam_ipaddr *b);
/* 1 if equal, else 0. */
int roam_ipaddr_eq(const struct roam_ipaddr *a, const struct roam_ipaddr *b);
/* Canonical fixed-length key for hash tables: byte 0 is 4, 6 or 0, then the address bytes
 * zero-padded to 16.  Equal addresses give equal keys, whatever padding the struct had. */
void roam_ipaddr_key(const struct roam_ipaddr *a, uint8_t key[ROAM_IPADDR_KEYLEN]);
/* 1 for 0.0.0.0 / :: (and for an unset address), else 0. */
int roam_ipaddr_is_any(const struct roam_ipaddr *a);
/* 1 for IPv4 224/4 or IPv6 ff00::/8. */
int roam_ipaddr_is_multicast(const struct roam_ipaddr *a);
/* 1 for IPv6 fe80::/10. */
int roam_ipaddr_is_linklocal(const struct roam_ipaddr *a);
/* Turns an IPv4-mapped IPv6 address (::ffff:192.0.2.1) into the IPv4 address in place; other
 * addresses are left alone.  Used for what dual-stack sockets report. */
void roam_ipaddr_unmap(struct roam_ipaddr *a);
/* Writes the IPv4-mapped IPv6 form of an IPv4 address into out (IPv6 copied as is). */
void roam_ipaddr_map6(const struct roam_ipaddr *a, struct roam_ipaddr *out);

/* --- roam_sockaddr --- */

/* Parses "192.0.2.1", "192.0.2.1:434", "2001:db8::1", "[2001:db8::1]:434", and link-local
 * scopes "fe80::1%eth0" / "[fe80::1%2]:434".  A missing port is default_port.
 * Errors: -EINVAL (syntax, port out of range), -ENODEV (unknown scope interface). */
int roam_sockaddr_parse(const char *s, uint16_t default_port, struct roam_sockaddr *out);
/* "192.0.2.1:434", "[2001:db8::1]:434", "[fe80::1%eth0]:434"; "-" when unset.  Returns buf. */
const char *roam_sockaddr_fmt(const struct roam_sockaddr *sa, char *buf, size_t len);
/* Builds a sockaddr from an address and a port (host order).  -EAFNOSUPPORT for family 0. */
int roam_sockaddr_set(struct roam_sockaddr *out, const struct roam_ipaddr *a, uint16_t port);
/* Copies a kernel-provided sockaddr (AF_INET or AF_INET6 only).  -EAFNOSUPPORT, -EINVAL
 * when len is too short for the family. */
int roam_sockaddr_from(struct roam_sockaddr *out, const struct sockaddr *sa, socklen_t len);
/* Extracts the address (and port, host order, if port is not NULL).  -EAFNOSUPPORT. */
int roam_sockaddr_addr(const struct roam_sockaddr *sa, struct roam_ipaddr *a, uint16_t *port);
/* Port in host order (0 when unset). */
uint16_t roam_sockaddr_port(const struct roam_sockaddr *sa);
void roam_sockaddr_set_port(struct roam_sockaddr *sa, uint16_t port);
int roam_sockaddr_family(const struct roam_sockaddr *sa);
/* Total order on family, address, port, then IPv6 scope.  <0, 0, >0. */
int roam_sockaddr_cmp(const struct roam_sockaddr *a, const struct roam_sockaddr *b);
int roam_sockaddr_eq(const struct roam_sockaddr *a, const struct roam_sockaddr *b);
/* In-place IPv4-mapped IPv6 -> AF_INET (port kept); other addresses unchanged. */
void roam_sockaddr_unmap(struct roam_sockaddr *sa);

/* --- roam_prefix --- */

/* Parses "10.0.0.0/8", "2001:db8::/32", "10.1.2.3/24" (host bits kept); a bare address is a
 * host prefix (/32 or /128). */
int roam_prefix_parse(const char *s, struct roam_prefix *out);
/* "10.0.0.0/8".  Returns buf. */
const char *roam_prefix_fmt(const struct roam_prefix *p, char *buf, size_t len);
/* Sets a prefix; -EINVAL if len exceeds the family's width, -EAFNOSUPPORT for family 0. */
int roam_prefix_set(struct roam_prefix *p, const struct roam_ipaddr *a, unsigned len);
/* Clears the host bits in place. */
void roam_prefix_mask(struct roam_prefix *p);
/* 1 if a lies inside p (same family, first p->len bits equal; host bits of p ignored). */
int roam_prefix_contains(const struct roam_prefix *p, const struct roam_ipaddr *a);
/* 1 if the two prefixes are equal after masking. */
int roam_prefix_eq(const struct roam_prefix *a, const struct roam_prefix *b);

#endif
