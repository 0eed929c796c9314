/* Helpers for the unit tests of common/net that need a network: each Criterion test runs in
 * its own process, which moves into a fresh network namespace (loopback only, brought up), so
 * nothing is seen or touched outside it and nothing needs cleaning up.  Needs root
 * (CAP_SYS_ADMIN + CAP_NET_ADMIN); without it the test is reported as skipped. */
#ifndef TEST_NETNS_H
#define TEST_NETNS_H
#include <criterion/criterion.h>
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <uv.h>

#include "roam/netlink.h"

static inline void netns_enter(void)
{
	if (unshare(CLONE_NEWNET) < 0)
		cr_skip_test("unshare(CLONE_NEWNET): %s (run as root)", strerror(errno));
	struct roam_nl *nl;
	cr_assert_eq(roam_nl_open(0, &nl), 0);
	cr_assert_eq(roam_nl_link_set_up(nl, 1, 1), 0, "lo up");
	roam_nl_close(nl);
}

static inline void netns_timeout_cb(uv_timer_t *t)
{
	*(int *)t->data = 1;
}

/* Runs the loop until *done is set or timeout_ms passes (a generous sanity bound).  Returns 1
 * when done. */
static inline int netns_run_until(uv_loop_t *loop, const int *done, unsigned timeout_ms)
{
	uv_timer_t t;
	int expired = 0;
	uv_timer_init(loop, &t);
	t.data = &expired;
	uv_timer_start(&t, netns_timeout_cb, timeout_ms, 0);
	while (!*done && !expired)
		uv_run(loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&t, NULL);
	uv_run(loop, UV_RUN_NOWAIT);
	return *done;
}

/* Runs the loop until every handle is closed. */
static inline void netns_drain(uv_loop_t *loop)
{
	uv_run(loop, UV_RUN_DEFAULT);
	cr_assert_eq(uv_loop_close(loop), 0, "handles left open");
}

#endif
