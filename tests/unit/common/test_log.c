/* The rate limiter behind per-packet warnings, and level parsing. */
#include <criterion/criterion.h>

#include "roam/clock.h"
#include "roam/log.h"

Test(log, level_names)
{
	cr_assert_eq(log_level_parse("error"), LOG_LVL_ERR);
	cr_assert_eq(log_level_parse("warning"), LOG_LVL_WARN);
	cr_assert_eq(log_level_parse("INFO"), LOG_LVL_INFO);
	cr_assert_eq(log_level_parse("debug"), LOG_LVL_DEBUG);
	cr_assert_eq(log_level_parse("verbose"), -1);
}

Test(log, ratelimit_burst_then_suppress_then_report)
{
	struct log_ratelimit rl = { .burst = 3, .interval_ms = 1000 };
	uint32_t sup;
	uint64_t t = 5000;
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(log_rl_allow(&rl, t + (uint64_t)i, &sup), 1);
		cr_assert_eq(sup, 0);
	}
	for (int i = 0; i < 7; i++)
		cr_assert_eq(log_rl_allow(&rl, t + 10, &sup), 0);
	/* still inside the window */
	cr_assert_eq(log_rl_allow(&rl, t + 999, &sup), 0);
	/* next window: allowed, and told how many were suppressed */
	cr_assert_eq(log_rl_allow(&rl, t + 1000, &sup), 1);
	cr_assert_eq(sup, 8);
	cr_assert_eq(log_rl_allow(&rl, t + 1001, &sup), 1);
	cr_assert_eq(sup, 0, "the count is reported once");
}

/* suppressed_before may be NULL: same accounting, no crash. */
Test(log, ratelimit_null_suppressed)
{
	struct log_ratelimit rl = { .burst = 2, .interval_ms = 1000 };
	uint32_t sup;
	cr_assert_eq(log_rl_allow(&rl, 100, NULL), 1);
	cr_assert_eq(log_rl_allow(&rl, 101, NULL), 1);
	cr_assert_eq(log_rl_allow(&rl, 102, NULL), 0);
	cr_assert_eq(log_rl_allow(&rl, 1100, &sup), 1);
	cr_assert_eq(sup, 1);
}

Test(log, ratelimit_defaults)
{
	struct log_ratelimit rl = { 0 };
	uint32_t sup;
	int allowed = 0;
	for (int i = 0; i < 100; i++)
		allowed += log_rl_allow(&rl, 1, &sup);
	cr_assert_eq(allowed, 10, "default burst is 10 per second");
}

Test(log, messages_go_to_stderr_when_foreground)
{
	log_init("test", 1, LOG_LVL_INFO);
	log_debug("not shown");
	log_info("shown");
	struct log_ratelimit rl = { .burst = 1 };
	log_rl_warnx(&rl, "once");
	log_rl_warnx(&rl, "suppressed");
	cr_assert_eq(log_getlevel(), LOG_LVL_INFO);
	log_setlevel(LOG_LVL_DEBUG);
	cr_assert_eq(log_getlevel(), LOG_LVL_DEBUG);
}

Test(clock, conversions_round_trip)
{
	uint64_t m = roam_mono_ms(), w = roam_wall_ms();
	cr_assert_gt(w, 1600000000000ULL);
	uint64_t w2 = roam_mono_to_wall(m + 60000);
	cr_assert(w2 >= w + 59000 && w2 <= w + 61000);
	uint64_t m2 = roam_wall_to_mono(w - 30000);
	cr_assert(m2 + 31000 >= m && m2 + 29000 <= m);
}
