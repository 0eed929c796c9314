/* linkem argument parsers. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "../../../tools/linkem/linkem.h"

Test(parse, durations)
{
	static const struct { const char *s; uint64_t ns; } ok[] = {
		{ "20ms", 20000000 }, { "500us", 500000 }, { "1s", 1000000000 }, { "250ns", 250 },
		{ "1.5ms", 1500000 }, { "0", 0 },        { "7", 7000000 },     { "0.2MS", 200000 },
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		uint64_t v = 1;
		cr_assert_eq(lk_parse_duration(ok[i].s, &v), 0, "%s", ok[i].s);
		cr_assert_eq(v, ok[i].ns, "%s", ok[i].s);
	}
	static const char *const bad[] = { "", "-1ms", "ms", "20 ms", "20min", "1e30s", "nan",
					   "20msx", "inf" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t v;
		cr_assert_eq(lk_parse_duration(bad[i], &v), -EINVAL, "'%s'", bad[i]);
	}
}

Test(parse, percentages)
{
	double p;
	cr_assert_eq(lk_parse_percent("1%", &p), 0);
	cr_assert_float_eq(p, 0.01, 1e-12);
	cr_assert_eq(lk_parse_percent("0.5%", &p), 0);
	cr_assert_float_eq(p, 0.005, 1e-12);
	cr_assert_eq(lk_parse_percent("100%", &p), 0);
	cr_assert_float_eq(p, 1.0, 1e-12);
	cr_assert_eq(lk_parse_percent("5", &p), 0);
	cr_assert_float_eq(p, 0.05, 1e-12);
	cr_assert_eq(lk_parse_percent("101%", &p), -EINVAL);
	cr_assert_eq(lk_parse_percent("-1%", &p), -EINVAL);
	cr_assert_eq(lk_parse_percent("1%%", &p), -EINVAL);
	cr_assert_eq(lk_parse_percent("%", &p), -EINVAL);
}

Test(parse, rates)
{
	uint64_t r;
	cr_assert_eq(lk_parse_rate("10mbit", &r), 0);
	cr_assert_eq(r, 10000000);
	cr_assert_eq(lk_parse_rate("512kbit", &r), 0);
	cr_assert_eq(r, 512000);
	cr_assert_eq(lk_parse_rate("1gbit", &r), 0);
	cr_assert_eq(r, 1000000000);
	cr_assert_eq(lk_parse_rate("9600bit", &r), 0);
	cr_assert_eq(r, 9600);
	cr_assert_eq(lk_parse_rate("1mbps", &r), 0); /* tc: bytes per second */
	cr_assert_eq(r, 8000000);
	cr_assert_eq(lk_parse_rate("0", &r), 0);
	cr_assert_eq(r, 0);
	cr_assert_eq(lk_parse_rate("0.5bit", &r), -EINVAL);
	cr_assert_eq(lk_parse_rate("10mb", &r), -EINVAL);
	cr_assert_eq(lk_parse_rate("fast", &r), -EINVAL);
}
