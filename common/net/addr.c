/* IP addresses, socket addresses and prefixes. */
#include "roam/addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- roam_ipaddr --- */

size_t roam_ipaddr_family_len(int family)
{
	switch (family) {
	case AF_INET:
		return 4;
	case AF_INET6:
		return 16;
	default:
		return 0;
	}
}

int roam_ipaddr_parse(const char *s, struct roam_ipaddr *out)
{
	memset(out, 0, sizeof(*out));
	if (s == NULL || *s == '\0')
		return -EINVAL;
	if (inet_pton(AF_INET, s, &out->v4) == 1) {
		out->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, &out->v6) == 1) {
		out->family = AF_INET6;
		return 0;
	}
	memset(out, 0, sizeof(*out));
	return -EINVAL;
}

const char *roam_ipaddr_fmt(const struct roam_ipaddr *a, char *buf, size_t len)
{
	if (len == 0)
		return buf;
	buf[0] = '\0';
	switch (a->family) {
	case 0:
		snprintf(buf, len, "-");
		break;
	case AF_INET:
	case AF_INET6: {
		char tmp[INET6_ADDRSTRLEN];
		if (inet_ntop(a->family, a->family == AF_INET ? (const void *)&a->v4
							     : (const void *)&a->v6,
			      tmp, sizeof(tmp)) == NULL)
			snprintf(buf, len, "?");
		else
			snprintf(buf, len, "%s", tmp);
		break;
	}
	default:
		snprintf(buf, len, "?");
	}
	return buf;
}

void roam_ipaddr_set4(struct roam_ipaddr *a, struct in_addr v4)
{
	memset(a, 0, sizeof(*a));
	a->family = AF_INET;
	a->v4 = v4;
}

void roam_ipaddr_set6(struct roam_ipaddr *a, const struct in6_addr *v6)
{
	memset(a, 0, sizeof(*a));
	a->family = AF_INET6;
	a->v6 = *v6;
}

int roam_ipaddr_from_bytes(struct roam_ipaddr *a, int family, const void *bytes)
{
	size_t n = roam_ipaddr_family_len(family);
	if (n == 0)
		return -EAFNOSUPPORT;
	memset(a, 0, sizeof(*a));
	a->family = family;
	memcpy(family == AF_INET ? (void *)&a->v4 : (void *)&a->v6, bytes, n);
	return 0;
}

const uint8_t *roam_ipaddr_bytes(const struct roam_ipaddr *a, size_t *len)
{
	switch (a->family) {
	case AF_INET:
		*len = 4;
		return (const uint8_t *)&a->v4;
	case AF_INET6:
		*len = 16;
		return (const uint8_t *)&a->v6;
	default:
		*len = 0;
		return NULL;
	}
}

static int family_rank(int family)
{
	switch (family) {
	case AF_INET:
		return 1;
	case AF_INET6:
		return 2;
	case 0:
		return 0;
	default:
		return 3;
	}
}

int roam_ipaddr_cmp(const struct roam_ipaddr *a, const struct roam_ipaddr *b)
{
	int ra = family_rank(a->family), rb = family_rank(b->family);
	if (ra != rb)
		return ra < rb ? -1 : 1;
	size_t la, lb;
	const uint8_t *pa = roam_ipaddr_bytes(a, &la), *pb = roam_ipaddr_bytes(b, &lb);
	if (la == 0)
		return 0;
	return memcmp(pa, pb, la);
}

int roam_ipaddr_eq(const struct roam_ipaddr *a, const struct roam_ipaddr *b)
{
	return roam_ipaddr_cmp(a, b) == 0;
}

void roam_ipaddr_key(const struct roam_ipaddr *a, uint8_t key[ROAM_IPADDR_KEYLEN])
{
	size_t n;
	const uint8_t *p = roam_ipaddr_bytes(a, &n);
	memset(key, 0, ROAM_IPADDR_KEYLEN);
	key[0] = a->family == AF_INET ? 4 : a->family == AF_INET6 ? 6 : 0;
	if (n)
		memcpy(key + 1, p, n);
}

int roam_ipaddr_is_any(const struct roam_ipaddr *a)
{
	size_t n;
	const uint8_t *p = roam_ipaddr_bytes(a, &n);
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

int roam_ipaddr_is_multicast(const struct roam_ipaddr *a)
{
	if (a->family == AF_INET)
		return (ntohl(a->v4.s_addr) & 0xf0000000u) == 0xe0000000u;
	if (a->family == AF_INET6)
		return a->v6.s6_addr[0] == 0xff;
	return 0;
}

int roam_ipaddr_is_linklocal(const struct roam_ipaddr *a)
{
	return a->family == AF_INET6 && a->v6.s6_addr[0] == 0xfe &&
	       (a->v6.s6_addr[1] & 0xc0) == 0x80;
}

static int is_v4mapped(const struct in6_addr *a)
{
	static const uint8_t pfx[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	return memcmp(a->s6_addr, pfx, sizeof(pfx)) == 0;
}

void roam_ipaddr_unmap(struct roam_ipaddr *a)
{
	if (a->family != AF_INET6 || !is_v4mapped(&a->v6))
		return;
	struct in_addr v4;
	memcpy(&v4, a->v6.s6_addr + 12, 4);
	roam_ipaddr_set4(a, v4);
}

void roam_ipaddr_map6(const struct roam_ipaddr *a, struct roam_ipaddr *out)
{
	if (a->family != AF_INET) {
		*out = *a;
		return;
	}
	struct in6_addr v6;
	memset(&v6, 0, sizeof(v6));
	v6.s6_addr[10] = 0xff;
	v6.s6_addr[11] = 0xff;
	memcpy(v6.s6_addr + 12, &a->v4, 4);
	roam_ipaddr_set6(out, &v6);
}

/* --- roam_sockaddr --- */

static int parse_port(const char *s, uint16_t *port)
{
	if (*s == '\0' || strlen(s) > 5)
		return -EINVAL;
	unsigned long v = 0;
	for (const char *c = s; *c; c++) {
		if (*c < '0' || *c > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(*c - '0');
	}
	if (v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

static int parse_scope(const char *s, uint32_t *scope)
{
	if (*s == '\0' || strlen(s) >= IF_NAMESIZE)
		return -EINVAL;
	int numeric = 1;
	for (const char *c = s; *c; c++)
		if (*c < '0' || *c > '9')
			numeric = 0;
	if (numeric) {
		unsigned long v = strtoul(s, NULL, 10);
		if (v == 0 || v > 0x7fffffff)
			return -EINVAL;
		*scope = (uint32_t)v;
		return 0;
	}
	unsigned idx = if_nametoindex(s);
	if (idx == 0)
		return -ENODEV;
	*scope = idx;
	return 0;
}

int roam_sockaddr_parse(const char *s, uint16_t default_port, struct roam_sockaddr *out)
{
	char host[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
	const char *portstr = NULL;
	uint16_t port = default_port;
	uint32_t scope = 0;
	int r;

	memset(out, 0, sizeof(*out));
	if (s == NULL || *s == '\0')
		return -EINVAL;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (close == NULL)
			return -EINVAL;
		size_t n = (size_t)(close - (s + 1));
		if (n == 0 || n >= sizeof(host))
			return -EINVAL;
		memcpy(host, s + 1, n);
		host[n] = '\0';
		if (close[1] == ':')
			portstr = close + 2;
		else if (close[1] != '\0')
			return -EINVAL;
		if (strchr(host, ':') == NULL)
			return -EINVAL; /* brackets are for IPv6 only */
	} else {
		const char *colon = strchr(s, ':');
		if (colon != NULL && strchr(colon + 1, ':') == NULL) {
			/* exactly one colon: IPv4 (or name) with a port */
			size_t n = (size_t)(colon - s);
			if (n == 0 || n >= sizeof(host))
				return -EINVAL;
			memcpy(host, s, n);
			host[n] = '\0';
			portstr = colon + 1;
			if (strchr(host, '%') != NULL)
				return -EINVAL;
		} else {
			if (strlen(s) >= sizeof(host))
				return -EINVAL;
			memcpy(host, s, strlen(s) + 1);
		}
	}
	if (portstr != NULL && (r = parse_port(portstr, &port)) < 0)
		return r;

	char *pct = strchr(host, '%');
	if (pct != NULL) {
		*pct = '\0';
		if ((r = parse_scope(pct + 1, &scope)) < 0)
			return r;
	}
	struct roam_ipaddr a;
	if (roam_ipaddr_parse(host, &a) < 0)
		return -EINVAL;
	if (scope != 0 && a.family != AF_INET6)
		return -EINVAL;
	roam_sockaddr_set(out, &a, port);
	if (scope != 0)
		out->sin6.sin6_scope_id = scope;
	return 0;
}

const char *roam_sockaddr_fmt(const struct roam_sockaddr *sa, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	if (len == 0)
		return buf;
	if (sa->len == 0) {
		snprintf(buf, len, "-");
		return buf;
	}
	switch (sa->sa.sa_family) {
	case AF_INET:
		if (inet_ntop(AF_INET, &sa->sin.sin_addr, a, sizeof(a)) == NULL)
			break;
		snprintf(buf, len, "%s:%u", a, ntohs(sa->sin.sin_port));
		return buf;
	case AF_INET6: {
		if (inet_ntop(AF_INET6, &sa->sin6.sin6_addr, a, sizeof(a)) == NULL)
			break;
		char scope[IF_NAMESIZE + 2] = "";
		if (sa->sin6.sin6_scope_id != 0) {
			char ifn[IF_NAMESIZE];
			if (if_indextoname(sa->sin6.sin6_scope_id, ifn) != NULL)
				snprintf(scope, sizeof(scope), "%%%s", ifn);
			else
				snprintf(scope, sizeof(scope), "%%%u", sa->sin6.sin6_scope_id);
		}
		snprintf(buf, len, "[%s%s]:%u", a, scope, ntohs(sa->sin6.sin6_port));
		return buf;
	}
	default:
		break;
	}
	snprintf(buf, len, "?");
	return buf;
}

int roam_sockaddr_set(struct roam_sockaddr *out, const struct roam_ipaddr *a, uint16_t port)
{
	memset(out, 0, sizeof(*out));
	switch (a->family) {
	case AF_INET:
		out->sin.sin_family = AF_INET;
		out->sin.sin_port = htons(port);
		out->sin.sin_addr = a->v4;
		out->len = sizeof(struct sockaddr_in);
		return 0;
	case AF_INET6:
		out->sin6.sin6_family = AF_INET6;
		out->sin6.sin6_port = htons(port);
		out->sin6.sin6_addr = a->v6;
		out->len = sizeof(struct sockaddr_in6);
		return 0;
	default:
		return -EAFNOSUPPORT;
	}
}

int roam_sockaddr_from(struct roam_sockaddr *out, const struct sockaddr *sa, socklen_t len)
{
	memset(out, 0, sizeof(*out));
	if (len < (socklen_t)sizeof(sa_family_t))
		return -EINVAL;
	switch (sa->sa_family) {
	case AF_INET:
		if (len < (socklen_t)sizeof(struct sockaddr_in))
			return -EINVAL;
		memcpy(&out->sin, sa, sizeof(struct sockaddr_in));
		out->len = sizeof(struct sockaddr_in);
		return 0;
	case AF_INET6:
		if (len < (socklen_t)sizeof(struct sockaddr_in6))
			return -EINVAL;
		memcpy(&out->sin6, sa, sizeof(struct sockaddr_in6));
		out->len = sizeof(struct sockaddr_in6);
		return 0;
	default:
		return -EAFNOSUPPORT;
	}
}

int roam_sockaddr_addr(const struct roam_sockaddr *sa, struct roam_ipaddr *a, uint16_t *port)
{
	if (sa->len == 0)
		return -EAFNOSUPPORT;
	switch (sa->sa.sa_family) {
	case AF_INET:
		roam_ipaddr_set4(a, sa->sin.sin_addr);
		if (port)
			*port = ntohs(sa->sin.sin_port);
		return 0;
	case AF_INET6:
		roam_ipaddr_set6(a, &sa->sin6.sin6_addr);
		if (port)
			*port = ntohs(sa->sin6.sin6_port);
		return 0;
	default:
		return -EAFNOSUPPORT;
	}
}

uint16_t roam_sockaddr_port(const struct roam_sockaddr *sa)
{
	if (sa->len == 0)
		return 0;
	if (sa->sa.sa_family == AF_INET)
		return ntohs(sa->sin.sin_port);
	if (sa->sa.sa_family == AF_INET6)
		return ntohs(sa->sin6.sin6_port);
	return 0;
}

void roam_sockaddr_set_port(struct roam_sockaddr *sa, uint16_t port)
{
	if (sa->len == 0)
		return;
	if (sa->sa.sa_family == AF_INET)
		sa->sin.sin_port = htons(port);
	else if (sa->sa.sa_family == AF_INET6)
		sa->sin6.sin6_port = htons(port);
}

int roam_sockaddr_family(const struct roam_sockaddr *sa)
{
	return sa->len == 0 ? 0 : sa->sa.sa_family;
}

int roam_sockaddr_cmp(const struct roam_sockaddr *a, const struct roam_sockaddr *b)
{
	struct roam_ipaddr aa, ba;
	uint16_t ap = 0, bp = 0;
	memset(&aa, 0, sizeof(aa));
	memset(&ba, 0, sizeof(ba));
	roam_sockaddr_addr(a, &aa, &ap);
	roam_sockaddr_addr(b, &ba, &bp);
	int c = roam_ipaddr_cmp(&aa, &ba);
	if (c != 0)
		return c;
	if (ap != bp)
		return ap < bp ? -1 : 1;
	if (aa.family == AF_INET6 && a->sin6.sin6_scope_id != b->sin6.sin6_scope_id)
		return a->sin6.sin6_scope_id < b->sin6.sin6_scope_id ? -1 : 1;
	return 0;
}

int roam_sockaddr_eq(const struct roam_sockaddr *a, const struct roam_sockaddr *b)
{
	return roam_sockaddr_cmp(a, b) == 0;
}

void roam_sockaddr_unmap(struct roam_sockaddr *sa)
{
	if (roam_sockaddr_family(sa) != AF_INET6 || !is_v4mapped(&sa->sin6.sin6_addr))
		return;
	struct roam_ipaddr a;
	uint16_t port;
	roam_sockaddr_addr(sa, &a, &port);
	roam_ipaddr_unmap(&a);
	roam_sockaddr_set(sa, &a, port);
}

/* --- roam_prefix --- */

int roam_prefix_set(struct roam_prefix *p, const struct roam_ipaddr *a, unsigned len)
{
	size_t n = roam_ipaddr_family_len(a->family);
	if (n == 0)
		return -EAFNOSUPPORT;
	if (len > n * 8)
		return -EINVAL;
	memset(p, 0, sizeof(*p));
	p->addr = *a;
	p->len = (uint8_t)len;
	return 0;
}

int roam_prefix_parse(const char *s, struct roam_prefix *out)
{
	char host[INET6_ADDRSTRLEN];
	memset(out, 0, sizeof(*out));
	if (s == NULL)
		return -EINVAL;
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	if (n == 0 || n >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, n);
	host[n] = '\0';
	struct roam_ipaddr a;
	if (roam_ipaddr_parse(host, &a) < 0)
		return -EINVAL;
	unsigned len = (unsigned)roam_ipaddr_family_len(a.family) * 8;
	if (slash != NULL) {
		const char *d = slash + 1;
		if (*d == '\0' || strlen(d) > 3)
			return -EINVAL;
		unsigned v = 0;
		for (; *d; d++) {
			if (*d < '0' || *d > '9')
				return -EINVAL;
			v = v * 10 + (unsigned)(*d - '0');
		}
		if (v > len)
			return -EINVAL;
		len = v;
	}
	return roam_prefix_set(out, &a, len);
}

const char *roam_prefix_fmt(const struct roam_prefix *p, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN + 2];
	if (len == 0)
		return buf;
	if (p->addr.family == 0) {
		snprintf(buf, len, "-");
		return buf;
	}
	roam_ipaddr_fmt(&p->addr, a, sizeof(a));
	snprintf(buf, len, "%s/%u", a, p->len);
	return buf;
}

/* Clears the bits after the first plen in n bytes. */
static void mask_bytes(uint8_t *b, size_t n, unsigned plen)
{
	for (size_t i = 0; i < n; i++) {
		unsigned bit = (unsigned)i * 8;
		if (bit >= plen)
			b[i] = 0;
		else if (plen - bit < 8)
			b[i] &= (uint8_t)(0xff << (8 - (plen - bit)));
	}
}

void roam_prefix_mask(struct roam_prefix *p)
{
	size_t n;
	uint8_t *b = (uint8_t *)roam_ipaddr_bytes(&p->addr, &n);
	if (b != NULL)
		mask_bytes(b, n, p->len);
}

int roam_prefix_contains(const struct roam_prefix *p, const struct roam_ipaddr *a)
{
	if (p->addr.family == 0 || p->addr.family != a->family)
		return 0;
	struct roam_prefix pp = *p, pa;
	if (roam_prefix_set(&pa, a, p->len) < 0)
		return 0;
	roam_prefix_mask(&pp);
	roam_prefix_mask(&pa);
	return roam_ipaddr_eq(&pp.addr, &pa.addr);
}

int roam_prefix_eq(const struct roam_prefix *a, const struct roam_prefix *b)
{
	if (a->len != b->len)
		return 0;
	struct roam_prefix ma = *a, mb = *b;
	roam_prefix_mask(&ma);
	roam_prefix_mask(&mb);
	return roam_ipaddr_eq(&ma.addr, &mb.addr);
}
