/* TCP byte pattern and stall tracker. */
#include <criterion/criterion.h>
#include <string.h>

#include "../../../tools/trafgen/trafgen.h"

#define MS 1000000ull

Test(pattern, fill_matches_byte_at_any_offset)
{
	uint8_t buf[300];
	for (uint64_t off = 0; off < 20; off++) {
		tg_pattern_fill(42, off * 7 + 1000, buf, sizeof(buf));
		for (size_t i = 0; i < sizeof(buf); i++)
			cr_assert_eq(buf[i], tg_pattern_byte(42, off * 7 + 1000 + i));
	}
}

Test(pattern, keyed_and_not_trivial)
{
	uint8_t a[64], b[64];
	tg_pattern_fill(1, 0, a, sizeof(a));
	tg_pattern_fill(2, 0, b, sizeof(b));
	cr_assert_neq(memcmp(a, b, sizeof(a)), 0);
	/* neighbouring blocks differ, so a duplicated or skipped block is caught */
	tg_pattern_fill(1, 8, b, sizeof(b));
	cr_assert_neq(memcmp(a, b, 8), 0);
	cr_assert_neq(memcmp(a + 8, a, 8), 0);
}

Test(pattern, check_finds_corruption_loss_and_duplication)
{
	enum { N = 10000 };
	static uint8_t s[N + 100];
	const uint64_t key = 0xfeed, base = 123457;
	tg_pattern_fill(key, base, s, N);
	cr_assert_eq(tg_pattern_check(key, base, s, N), N);
	cr_assert_eq(tg_pattern_check(key, base, s, 0), 0);
	/* a flipped bit */
	s[7777] ^= 0x10;
	cr_assert_eq(tg_pattern_check(key, base, s, N), 7777);
	s[7777] ^= 0x10;
	/* 10 bytes lost at 5000: everything after is shifted */
	memmove(s + 5000, s + 5010, N - 5010);
	size_t bad = tg_pattern_check(key, base, s, N - 10);
	cr_assert_geq(bad, 5000);
	cr_assert_lt(bad, 5010);
	/* bytes duplicated at 2000 */
	tg_pattern_fill(key, base, s, N);
	memmove(s + 2100, s + 2000, N - 2100);
	bad = tg_pattern_check(key, base, s, N);
	cr_assert_geq(bad, 2100);
	cr_assert_lt(bad, 2110);
	/* wrong key */
	tg_pattern_fill(key, base, s, N);
	cr_assert_lt(tg_pattern_check(key + 1, base, s, N), 8);
}

Test(stalls, threshold_and_report)
{
	static struct tg_stalls st;
	tg_stalls_init(&st, 200 * MS, 1000 * MS);
	tg_stalls_waiting(&st, 1, 1000 * MS);
	for (uint64_t t = 1000; t <= 2000; t += 10)
		tg_stalls_progress(&st, t * MS);
	tg_stalls_progress(&st, 2200 * MS); /* exactly the threshold: not a stall */
	tg_stalls_progress(&st, 2700 * MS); /* 500 ms */
	tg_stalls_progress(&st, 2710 * MS);
	/* idle (nothing outstanding): silence is not a stall */
	tg_stalls_waiting(&st, 0, 2710 * MS);
	tg_stalls_waiting(&st, 1, 5000 * MS);
	tg_stalls_progress(&st, 5100 * MS);
	/* an open stall at the end is recorded */
	tg_stalls_finish(&st, 6000 * MS);
	cr_assert_eq(st.count, 2);
	cr_assert_eq(st.n, 2);
	cr_assert_eq(st.list[0].at_ns, 1200 * MS);
	cr_assert_eq(st.list[0].len_ns, 500 * MS);
	cr_assert_eq(st.list[1].at_ns, 4100 * MS);
	cr_assert_eq(st.list[1].len_ns, 900 * MS);
	cr_assert_eq(st.max_ns, 900 * MS);
}

Test(stalls, list_is_bounded)
{
	static struct tg_stalls st;
	tg_stalls_init(&st, 1 * MS, 0);
	tg_stalls_waiting(&st, 1, 0);
	for (uint64_t i = 1; i <= TG_STALLS_MAX + 50; i++)
		tg_stalls_progress(&st, i * 10 * MS);
	cr_assert_eq(st.count, TG_STALLS_MAX + 50);
	cr_assert_eq(st.n, TG_STALLS_MAX);
}
