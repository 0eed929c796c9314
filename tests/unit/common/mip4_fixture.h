/* Mobile IPv4 helpers shared by the tests of fad, had and mnd (tests/unit/fad/fad_fixture.h,
 * tests/unit/had/had_fixture.h, tests/unit/mnd/mnd_fixture.h): address parsing that fails the
 * test on a typo, HMAC-MD5 keys from hex, and a message builder (the fixed part, then the
 * authentication and Hierarchical FA extensions).  Header-only (static inline). */
#ifndef TEST_MIP4_FIXTURE_H
#define TEST_MIP4_FIXTURE_H

#include <criterion/criterion.h>
#include <string.h>
#include <sys/socket.h>

#include "roam/addr.h"
#include "roam/auth.h"
#include "roam/ip.h"
#include "roam/mip4.h"

static inline struct in_addr a4(const char *s)
{
	struct roam_ipaddr a;
	cr_assert_eq(roam_ipaddr_parse(s, &a), 0, "address %s", s);
	cr_assert_eq(a.family, AF_INET, "address %s", s);
	return a.v4;
}

static inline struct roam_ipaddr ip(const char *s)
{
	struct roam_ipaddr a;
	memset(&a, 0, sizeof(a));
	cr_assert_eq(roam_ipaddr_parse(s, &a), 0, "address %s", s);
	return a;
}

/* "addr" or "addr:port"; port 434 when none is given. */
static inline struct roam_sockaddr sa(const char *s)
{
	struct roam_sockaddr x;
	cr_assert_eq(roam_sockaddr_parse(s, 434, &x), 0, "address %s", s);
	return x;
}

static inline int sa_is(const struct roam_sockaddr *dst, const char *addr)
{
	struct roam_sockaddr d = sa(addr);
	return roam_sockaddr_eq(dst, &d);
}

static inline struct roam_key fx_key(const char *hex)
{
	struct roam_key k;
	cr_assert_eq(auth_key_from_hex(&k, AUTH_ALG_HMAC_MD5, hex), 0, "key %s", hex);
	return k;
}

/* An IP/UDP datagram src:5000 -> dst:6000 carrying payload into buf (cap bytes); the TTL, TOS,
 * Identification and DF come from opt (its addresses and ports are set here).  Returns its
 * length. */
static inline size_t fx_udp(uint8_t *buf, size_t cap, const char *src, const char *dst,
			    struct roam_ip_udp opt, const void *payload, size_t len)
{
	struct wbuf w;
	opt.src = ip(src);
	opt.dst = ip(dst);
	opt.sport = 5000;
	opt.dport = 6000;
	wbuf_init_fixed(&w, buf, cap);
	cr_assert_eq(roam_ip_udp_build(&w, &opt, payload, len), 0);
	return w.len;
}

/* The fixed part of a Mobile IPv4 message (coa NULL: 0.0.0.0, as in a reply). */
struct fx_hdr {
	uint8_t type, code, flags;
	uint16_t life;
	const char *home, *ha, *coa;
	uint64_t id;
};

/* Encodes h into buf through w; the caller appends extensions (fx_auth, fx_hier_fa). */
static inline void fx_msg(struct wbuf *w, uint8_t *buf, size_t n, const struct fx_hdr *h)
{
	struct mip4_msg m;
	memset(&m, 0, sizeof(m));
	m.type = h->type;
	m.code = h->code;
	m.flags = h->flags;
	m.lifetime = h->life;
	m.home = a4(h->home);
	m.ha = a4(h->ha);
	if (h->coa)
		m.coa = a4(h->coa);
	m.id = h->id;
	m.has_id = 1;
	wbuf_init_fixed(w, buf, n);
	cr_assert_eq(mip4_msg_encode(w, &m), 0);
}

static inline void fx_auth(struct wbuf *w, enum mip4_auth_kind kind, uint32_t spi,
			   const struct roam_key *k)
{
	cr_assert_eq(mip4_auth_append(w, 0, kind, spi, k), 0);
}

/* The Hierarchical Foreign Agent extension naming fa (docs/protocols/mipv4.md 8.5). */
static inline void fx_hier_fa(struct wbuf *w, const char *fa)
{
	struct in_addr a = a4(fa);
	wbuf_put_u8(w, MIP4_EXT_HIER_FA);
	wbuf_put_u8(w, 4);
	wbuf_put_bytes(w, &a.s_addr, 4);
	cr_assert_eq(w->err, 0);
}

#endif
