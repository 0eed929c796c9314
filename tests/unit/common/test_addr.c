/* Unit tests: roam/addr.h (addresses, socket addresses, prefixes). */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "roam/addr.h"

static struct roam_ipaddr A(const char *s)
{
	struct roam_ipaddr a;
	cr_assert_eq(roam_ipaddr_parse(s, &a), 0, "parse %s", s);
	return a;
}

Test(addr, parse_format_roundtrip)
{
	const char *ok[] = {"192.0.2.1", "0.0.0.0", "255.255.255.255", "2001:db8::1", "::",
			    "::1", "fe80::1", "::ffff:192.0.2.1", "2001:db8:1:2:3:4:5:6"};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		char b[ROAM_ADDRSTRLEN];
		struct roam_ipaddr a = A(ok[i]);
		cr_assert_str_eq(roam_ipaddr_fmt(&a, b, sizeof(b)), ok[i]);
	}
	struct roam_ipaddr a = A("2001:DB8:0:0::1");
	char b[ROAM_ADDRSTRLEN];
	cr_assert_str_eq(roam_ipaddr_fmt(&a, b, sizeof(b)), "2001:db8::1");
	cr_assert_eq(a.family, AF_INET6);
	cr_assert_eq(A("192.0.2.1").family, AF_INET);
}

Test(addr, parse_rejects)
{
	const char *bad[] = {"", "192.0.2", "192.0.2.256", "192.0.2.1:434", "[::1]", "::1/64",
			     "2001:db8:::1", "host.example", " 192.0.2.1", "1.2.3.4 "};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct roam_ipaddr a;
		cr_assert_eq(roam_ipaddr_parse(bad[i], &a), -EINVAL, "accepted '%s'", bad[i]);
	}
	struct roam_ipaddr a;
	cr_assert_eq(roam_ipaddr_parse(NULL, &a), -EINVAL);
}

Test(addr, format_small_buffer_and_unset)
{
	struct roam_ipaddr a = A("192.0.2.123");
	char b[8];
	roam_ipaddr_fmt(&a, b, sizeof(b));
	cr_assert_eq(strlen(b), 7); /* cut, NUL-terminated */
	struct roam_ipaddr z;
	memset(&z, 0, sizeof(z));
	char c[ROAM_ADDRSTRLEN];
	cr_assert_str_eq(roam_ipaddr_fmt(&z, c, sizeof(c)), "-");
}

Test(addr, compare_and_key)
{
	struct roam_ipaddr a = A("192.0.2.1"), b = A("192.0.2.2"), c = A("::1"), d = A("192.0.2.1");
	cr_assert_lt(roam_ipaddr_cmp(&a, &b), 0);
	cr_assert_gt(roam_ipaddr_cmp(&b, &a), 0);
	cr_assert_lt(roam_ipaddr_cmp(&b, &c), 0); /* IPv4 before IPv6 */
	cr_assert(roam_ipaddr_eq(&a, &d));
	cr_assert_not(roam_ipaddr_eq(&a, &b));

	/* equal keys whatever garbage sits in the unused union bytes */
	struct roam_ipaddr g;
	memset(&g, 0xaa, sizeof(g));
	g.family = AF_INET;
	g.v4 = a.v4;
	uint8_t k1[ROAM_IPADDR_KEYLEN], k2[ROAM_IPADDR_KEYLEN], k3[ROAM_IPADDR_KEYLEN];
	roam_ipaddr_key(&a, k1);
	roam_ipaddr_key(&g, k2);
	roam_ipaddr_key(&b, k3);
	cr_assert_arr_eq(k1, k2, sizeof(k1));
	cr_assert_arr_neq(k1, k3, sizeof(k1));
	const uint8_t want[ROAM_IPADDR_KEYLEN] = {4, 192, 0, 2, 1};
	cr_assert_arr_eq(k1, want, sizeof(want));
	roam_ipaddr_key(&c, k3);
	cr_assert_eq(k3[0], 6);
	cr_assert_eq(k3[16], 1);
}

Test(addr, predicates_and_mapping)
{
	struct roam_ipaddr a;
	cr_assert(roam_ipaddr_is_any(&(struct roam_ipaddr){.family = 0}));
	a = A("0.0.0.0");
	cr_assert(roam_ipaddr_is_any(&a));
	a = A("::");
	cr_assert(roam_ipaddr_is_any(&a));
	a = A("::1");
	cr_assert_not(roam_ipaddr_is_any(&a));
	a = A("224.0.0.1");
	cr_assert(roam_ipaddr_is_multicast(&a));
	a = A("239.255.255.255");
	cr_assert(roam_ipaddr_is_multicast(&a));
	a = A("240.0.0.1");
	cr_assert_not(roam_ipaddr_is_multicast(&a));
	a = A("ff02::1");
	cr_assert(roam_ipaddr_is_multicast(&a));
	a = A("fe80::1");
	cr_assert(roam_ipaddr_is_linklocal(&a));
	a = A("fec0::1");
	cr_assert_not(roam_ipaddr_is_linklocal(&a));

	struct roam_ipaddr m, v4 = A("192.0.2.9");
	roam_ipaddr_map6(&v4, &m);
	cr_assert_eq(m.family, AF_INET6);
	struct roam_ipaddr expect = A("::ffff:192.0.2.9");
	cr_assert(roam_ipaddr_eq(&m, &expect));
	roam_ipaddr_unmap(&m);
	cr_assert(roam_ipaddr_eq(&m, &v4));
	a = A("2001:db8::1");
	struct roam_ipaddr b = a;
	roam_ipaddr_unmap(&b);
	cr_assert(roam_ipaddr_eq(&a, &b));
}

Test(addr, bytes)
{
	struct roam_ipaddr a;
	const uint8_t v4[4] = {10, 1, 2, 3};
	cr_assert_eq(roam_ipaddr_from_bytes(&a, AF_INET, v4), 0);
	size_t n;
	const uint8_t *p = roam_ipaddr_bytes(&a, &n);
	cr_assert_eq(n, 4);
	cr_assert_arr_eq(p, v4, 4);
	cr_assert_eq(roam_ipaddr_from_bytes(&a, AF_UNIX, v4), -EAFNOSUPPORT);
	cr_assert_eq(roam_ipaddr_family_len(AF_INET6), 16);
	cr_assert_eq(roam_ipaddr_family_len(0), 0);
}

struct sa_case {
	const char *in;
	int family;
	const char *addr;
	uint16_t port;
	const char *out;
};

Test(addr, sockaddr_parse)
{
	const struct sa_case cases[] = {
		{"192.0.2.1", AF_INET, "192.0.2.1", 1701, "192.0.2.1:1701"},
		{"192.0.2.1:434", AF_INET, "192.0.2.1", 434, "192.0.2.1:434"},
		{"2001:db8::1", AF_INET6, "2001:db8::1", 1701, "[2001:db8::1]:1701"},
		{"[2001:db8::1]:434", AF_INET6, "2001:db8::1", 434, "[2001:db8::1]:434"},
		{"[2001:db8::1]", AF_INET6, "2001:db8::1", 1701, "[2001:db8::1]:1701"},
		{"[::]:0", AF_INET6, "::", 0, "[::]:0"},
		{"0.0.0.0:65535", AF_INET, "0.0.0.0", 65535, "0.0.0.0:65535"},
		{"[fe80::1%1]:434", AF_INET6, "fe80::1", 434, "[fe80::1%lo]:434"},
		{"fe80::1%lo", AF_INET6, "fe80::1", 1701, "[fe80::1%lo]:1701"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct roam_sockaddr sa;
		struct roam_ipaddr a;
		uint16_t port;
		char b[ROAM_ADDRSTRLEN], c[ROAM_ADDRSTRLEN];
		cr_assert_eq(roam_sockaddr_parse(cases[i].in, 1701, &sa), 0, "%s", cases[i].in);
		cr_assert_eq(roam_sockaddr_family(&sa), cases[i].family);
		cr_assert_eq(roam_sockaddr_addr(&sa, &a, &port), 0);
		cr_assert_str_eq(roam_ipaddr_fmt(&a, b, sizeof(b)), cases[i].addr);
		cr_assert_eq(port, cases[i].port);
		cr_assert_eq(roam_sockaddr_port(&sa), cases[i].port);
		cr_assert_str_eq(roam_sockaddr_fmt(&sa, c, sizeof(c)), cases[i].out);
		cr_assert_eq(sa.len, cases[i].family == AF_INET ? sizeof(struct sockaddr_in)
								 : sizeof(struct sockaddr_in6));
	}
}

Test(addr, sockaddr_parse_rejects)
{
	const char *bad[] = {"", ":434", "192.0.2.1:", "192.0.2.1:65536", "192.0.2.1:-1",
			     "192.0.2.1:43a", "[192.0.2.1]:434", "[2001:db8::1", "[2001:db8::1]434",
			     "[2001:db8::1]:", "[]:434", "192.0.2.1%lo", "host:434",
			     "[2001:db8::1]:1234567"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct roam_sockaddr sa;
		cr_assert_eq(roam_sockaddr_parse(bad[i], 0, &sa), -EINVAL, "accepted '%s'", bad[i]);
	}
	struct roam_sockaddr sa;
	cr_assert_eq(roam_sockaddr_parse("fe80::1%nosuchif0", 0, &sa), -ENODEV);
}

Test(addr, sockaddr_conversions)
{
	struct roam_sockaddr sa, sb;
	struct roam_ipaddr a = A("192.0.2.7");
	cr_assert_eq(roam_sockaddr_set(&sa, &a, 434), 0);
	cr_assert_eq(sa.sin.sin_port, htons(434));
	cr_assert_eq(roam_sockaddr_from(&sb, &sa.sa, sa.len), 0);
	cr_assert(roam_sockaddr_eq(&sa, &sb));
	cr_assert_eq(roam_sockaddr_from(&sb, &sa.sa, 4), -EINVAL);
	cr_assert_eq(roam_sockaddr_from(&sb, &sa.sa, sa.len), 0);
	roam_sockaddr_set_port(&sb, 435);
	cr_assert_lt(roam_sockaddr_cmp(&sa, &sb), 0);
	struct roam_ipaddr z;
	memset(&z, 0, sizeof(z));
	cr_assert_eq(roam_sockaddr_set(&sa, &z, 1), -EAFNOSUPPORT);
	struct sockaddr_un_like {
		sa_family_t f;
		char pad[30];
	} un = {.f = AF_UNIX};
	cr_assert_eq(roam_sockaddr_from(&sb, (struct sockaddr *)&un, sizeof(un)), -EAFNOSUPPORT);

	/* dual-stack: mapped -> plain IPv4 */
	struct roam_ipaddr m = A("::ffff:198.51.100.4"), v4 = A("198.51.100.4");
	roam_sockaddr_set(&sa, &m, 1701);
	roam_sockaddr_unmap(&sa);
	cr_assert_eq(roam_sockaddr_family(&sa), AF_INET);
	roam_sockaddr_set(&sb, &v4, 1701);
	cr_assert(roam_sockaddr_eq(&sa, &sb));
	char b[ROAM_ADDRSTRLEN];
	memset(&sa, 0, sizeof(sa));
	cr_assert_str_eq(roam_sockaddr_fmt(&sa, b, sizeof(b)), "-");
}

Test(addr, prefix_parse_format)
{
	struct { const char *in, *out; unsigned len; } ok[] = {
		{"10.0.0.0/8", "10.0.0.0/8", 8},
		{"10.1.2.3/24", "10.1.2.3/24", 24},
		{"192.0.2.1", "192.0.2.1/32", 32},
		{"0.0.0.0/0", "0.0.0.0/0", 0},
		{"2001:db8::/32", "2001:db8::/32", 32},
		{"2001:db8::1", "2001:db8::1/128", 128},
		{"::/0", "::/0", 0},
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct roam_prefix p;
		char b[ROAM_ADDRSTRLEN];
		cr_assert_eq(roam_prefix_parse(ok[i].in, &p), 0, "%s", ok[i].in);
		cr_assert_eq(p.len, ok[i].len);
		cr_assert_str_eq(roam_prefix_fmt(&p, b, sizeof(b)), ok[i].out);
	}
	const char *bad[] = {"10.0.0.0/33", "2001:db8::/129", "10.0.0.0/", "/8", "10.0.0.0/8/8",
			     "10.0.0.0/-1", "10.0.0.0/ 8", "10.0.0.0/0008", "x/8"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct roam_prefix p;
		cr_assert_eq(roam_prefix_parse(bad[i], &p), -EINVAL, "accepted '%s'", bad[i]);
	}
}

Test(addr, prefix_contains_and_mask)
{
	struct roam_prefix p;
	struct roam_ipaddr a;
	cr_assert_eq(roam_prefix_parse("10.0.0.0/8", &p), 0);
	a = A("10.255.1.2");
	cr_assert(roam_prefix_contains(&p, &a));
	a = A("11.0.0.0");
	cr_assert_not(roam_prefix_contains(&p, &a));
	a = A("::a00:1");
	cr_assert_not(roam_prefix_contains(&p, &a)); /* other family */

	cr_assert_eq(roam_prefix_parse("192.0.2.77/27", &p), 0); /* 192.0.2.64 - .95 */
	a = A("192.0.2.64");
	cr_assert(roam_prefix_contains(&p, &a));
	a = A("192.0.2.95");
	cr_assert(roam_prefix_contains(&p, &a));
	a = A("192.0.2.96");
	cr_assert_not(roam_prefix_contains(&p, &a));
	roam_prefix_mask(&p);
	char b[ROAM_ADDRSTRLEN];
	cr_assert_str_eq(roam_prefix_fmt(&p, b, sizeof(b)), "192.0.2.64/27");

	cr_assert_eq(roam_prefix_parse("2001:db8:abcd::/35", &p), 0);
	a = A("2001:db8:c000::1"); /* byte 4: 0xab = 101.. vs 0xc0 = 110.. */
	cr_assert_not(roam_prefix_contains(&p, &a));
	a = A("2001:db8:b000::1"); /* 0xb0 = 101.. */
	cr_assert(roam_prefix_contains(&p, &a));
	a = A("2001:db8:a000::1");
	cr_assert(roam_prefix_contains(&p, &a));
	roam_prefix_mask(&p);
	cr_assert_str_eq(roam_prefix_fmt(&p, b, sizeof(b)), "2001:db8:a000::/35");

	cr_assert_eq(roam_prefix_parse("0.0.0.0/0", &p), 0);
	a = A("203.0.113.5");
	cr_assert(roam_prefix_contains(&p, &a));
	cr_assert_eq(roam_prefix_parse("2001:db8::1/128", &p), 0);
	a = A("2001:db8::1");
	cr_assert(roam_prefix_contains(&p, &a));
	a = A("2001:db8::2");
	cr_assert_not(roam_prefix_contains(&p, &a));

	struct roam_prefix q1, q2;
	roam_prefix_parse("10.1.2.3/16", &q1);
	roam_prefix_parse("10.1.0.0/16", &q2);
	cr_assert(roam_prefix_eq(&q1, &q2));
	roam_prefix_parse("10.1.0.0/17", &q2);
	cr_assert_not(roam_prefix_eq(&q1, &q2));
	a = A("10.0.0.1");
	cr_assert_eq(roam_prefix_set(&q1, &a, 33), -EINVAL);
}
