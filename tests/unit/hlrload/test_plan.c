/* hlrload's plan (tools/hlrload/plan.c): every request names an address inside the block its
 * host's key may update (as written by --print-hosts), the first keys * per_key requests name
 * distinct addresses, bad plans are refused, keys are deterministic and distinct, percentiles. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../../tools/hlrload/hlrload.h"

static struct roam_prefix pfx(const char *s)
{
	struct roam_prefix p;
	cr_assert_eq(roam_prefix_parse(s, &p), 0);
	return p;
}

Test(plan, requests_stay_in_their_hosts_block)
{
	struct hlrload_plan p;
	struct roam_prefix pre = pfx("100.64.0.0/12");
	cr_assert_eq(hlrload_plan_init(&p, 1000, 1, &pre, 1024, 1000, NULL), 0);
	for (uint64_t seq = 0; seq < 3000000; seq += 997) {
		uint32_t host;
		struct roam_ipaddr a;
		struct roam_prefix b;
		hlrload_plan_request(&p, seq, &host, &a);
		cr_assert_eq(host, seq % 1000);
		hlrload_plan_block(&p, host, &b);
		cr_assert_eq(b.len, 22);
		cr_assert(roam_prefix_contains(&b, &a), "seq %llu outside its block",
			  (unsigned long long)seq);
		cr_assert(roam_prefix_contains(&pre, &a));
		/* and no other host's block */
		if (host > 0) {
			hlrload_plan_block(&p, host - 1, &b);
			cr_assert(!roam_prefix_contains(&b, &a));
		}
	}
}

Test(plan, first_keys_times_per_key_requests_are_distinct)
{
	struct hlrload_plan p;
	struct roam_prefix pre = pfx("10.0.0.0/16");
	cr_assert_eq(hlrload_plan_init(&p, 64, 5, &pre, 1024, 1000, NULL), 0);
	size_t n = 64 * 1000;
	uint8_t *seen = calloc(1u << 16, 1);
	cr_assert_not_null(seen);
	for (uint64_t seq = 0; seq < n; seq++) {
		uint32_t host;
		struct roam_ipaddr a;
		hlrload_plan_request(&p, seq, &host, &a);
		uint32_t off = ntohl(a.v4.s_addr) - 0x0a000000u;
		cr_assert_lt(off, 1u << 16);
		cr_assert_eq(seen[off], 0, "address repeated at seq %llu", (unsigned long long)seq);
		seen[off] = 1;
	}
	/* request n wraps around to the first address again */
	uint32_t h0, hn;
	struct roam_ipaddr a0, an;
	hlrload_plan_request(&p, 0, &h0, &a0);
	hlrload_plan_request(&p, n, &hn, &an);
	cr_assert(roam_ipaddr_eq(&a0, &an));
	free(seen);
}

Test(plan, bad_plans_are_refused)
{
	struct hlrload_plan p;
	struct roam_prefix v4 = pfx("100.64.0.0/12"), v6 = pfx("2001:db8::/32");
	const char *why = NULL;
	cr_assert_eq(hlrload_plan_init(&p, 0, 1, &v4, 1024, 1, &why), -EINVAL);
	cr_assert_not_null(why);
	cr_assert_eq(hlrload_plan_init(&p, 10, 0, &v4, 1024, 1, NULL), -EINVAL);
	cr_assert_eq(hlrload_plan_init(&p, 10, UINT32_MAX, &v4, 1024, 1, NULL), -EINVAL);
	cr_assert_eq(hlrload_plan_init(&p, 10, 1, &v4, 1000, 1, NULL), -EINVAL);
	cr_assert_eq(hlrload_plan_init(&p, 10, 1, &v4, 1024, 1025, NULL), -EINVAL);
	cr_assert_eq(hlrload_plan_init(&p, 10, 1, &v4, 1024, 0, NULL), -EINVAL);
	cr_assert_eq(hlrload_plan_init(&p, 1025, 1, &v4, 1024, 1, NULL), -EINVAL); /* > /12 */
	cr_assert_eq(hlrload_plan_init(&p, 1024, 1, &v4, 1024, 1, NULL), 0);       /* exactly */
	cr_assert_eq(hlrload_plan_init(&p, 10, 1, &v6, 1024, 1, NULL), -EINVAL);
}

Test(plan, host_bits_of_the_prefix_are_ignored)
{
	struct hlrload_plan p;
	struct roam_prefix pre = pfx("100.64.7.9/12");
	cr_assert_eq(hlrload_plan_init(&p, 2, 1, &pre, 256, 1, NULL), 0);
	struct roam_prefix b;
	char s[ROAM_ADDRSTRLEN];
	hlrload_plan_block(&p, 1, &b);
	cr_assert_str_eq(roam_prefix_fmt(&b, s, sizeof(s)), "100.64.1.0/24");
}

Test(plan, keys_are_deterministic_and_distinct)
{
	uint8_t a[HLRLOAD_KEY_LEN], b[HLRLOAD_KEY_LEN], c[HLRLOAD_KEY_LEN];
	hlrload_derive_key(7, a);
	hlrload_derive_key(7, b);
	hlrload_derive_key(8, c);
	cr_assert_eq(memcmp(a, b, sizeof(a)), 0);
	cr_assert_neq(memcmp(a, c, sizeof(a)), 0);
	/* not a short repeating pattern */
	cr_assert_neq(memcmp(a, a + 8, 8), 0);
}

Test(plan, percentiles)
{
	uint32_t h[10] = { 0 };
	cr_assert_eq(hlrload_percentile(h, 10, 0, 50, 99), 0);
	h[1] = 50;
	h[3] = 49;
	h[9] = 1;
	cr_assert_eq(hlrload_percentile(h, 10, 100, 50, 99), 1);
	cr_assert_eq(hlrload_percentile(h, 10, 100, 51, 99), 3);
	cr_assert_eq(hlrload_percentile(h, 10, 100, 99, 99), 3);
	cr_assert_eq(hlrload_percentile(h, 10, 100, 100, 99), 9);
	cr_assert_eq(hlrload_percentile(h, 10, 101, 100, 12345), 12345); /* one sample beyond */
	cr_assert_eq(hlrload_percentile(h, 10, 100, 0, 99), 1);
}
