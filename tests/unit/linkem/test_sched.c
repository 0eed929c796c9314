/* linkem scheduling core on a fake clock: delay queue ordering, jitter with and without
 * reordering, seeded loss/duplication rates, the rate stage (serialization + bounded queue). */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <stdlib.h>

#include "../../../tools/linkem/linkem.h"

#define MS 1000000ull
#define US 1000ull

static struct lk_params params(void)
{
	struct lk_params p;
	lk_params_default(&p);
	return p;
}

static void input_n(struct lk_dir *d, uint64_t now, uint32_t len)
{
	uint8_t buf[2048] = { 0 };
	cr_assert(lk_dir_input(d, now, buf, len, len) & LK_QUEUED);
}

Test(sched, fixed_delay_releases_on_time_in_order)
{
	struct lk_params p = params();
	p.delay_ns = 20 * MS;
	struct lk_dir d;
	cr_assert_eq(lk_dir_init(&d, &p, 1), 0);
	cr_assert_eq(lk_dir_next(&d), UINT64_MAX);
	for (uint64_t i = 0; i < 3; i++)
		input_n(&d, 1000 * MS + i * 100 * US, 100);
	cr_assert_eq(lk_dir_next(&d), 1020 * MS);
	cr_assert_null(lk_dir_pop(&d, 1020 * MS - 1));
	struct lk_frame *f = lk_dir_pop(&d, 1020 * MS);
	cr_assert_not_null(f);
	cr_assert_eq(f->idx, 1);
	cr_assert_eq(f->release_ns, 1020 * MS);
	free(f);
	cr_assert_null(lk_dir_pop(&d, 1020 * MS + 99 * US));
	cr_assert_eq(lk_dir_next(&d), 1020 * MS + 100 * US);
	/* late caller: both remaining frames are due, still in arrival order */
	f = lk_dir_pop(&d, 2000 * MS);
	cr_assert_eq(f->idx, 2);
	free(f);
	f = lk_dir_pop(&d, 2000 * MS);
	cr_assert_eq(f->idx, 3);
	free(f);
	cr_assert_null(lk_dir_pop(&d, 3000 * MS));
	cr_assert_eq(d.st.frames_in, 3);
	cr_assert_eq(d.st.frames_out, 3);
	cr_assert_eq(d.st.reordered, 0);
	lk_dir_free(&d);
	lk_dir_free(&d); /* safe twice */
}

Test(sched, same_release_time_is_fifo)
{
	struct lk_params p = params();
	struct lk_dir d;
	cr_assert_eq(lk_dir_init(&d, &p, 1), 0);
	for (int i = 0; i < 1000; i++)
		input_n(&d, 5 * MS, 64);
	for (uint64_t i = 1; i <= 1000; i++) {
		struct lk_frame *f = lk_dir_pop(&d, 5 * MS);
		cr_assert_not_null(f);
		cr_assert_eq(f->idx, i);
		free(f);
	}
	lk_dir_free(&d);
}

/* Drains d by advancing the fake clock to each next release; checks release times never go
 * back and returns the number of frames that came out after a later-arrived one. */
static uint64_t drain(struct lk_dir *d, uint64_t *count)
{
	uint64_t t = 0, max_idx = 0, out_of_order = 0;
	*count = 0;
	for (;;) {
		uint64_t next = lk_dir_next(d);
		if (next == UINT64_MAX)
			break;
		cr_assert_geq(next, t, "release times went backwards");
		t = next;
		struct lk_frame *f = lk_dir_pop(d, t);
		cr_assert_not_null(f);
		if (!f->is_dup) {
			if (f->idx < max_idx)
				out_of_order++;
			else
				max_idx = f->idx;
		}
		(*count)++;
		free(f);
	}
	return out_of_order;
}

Test(sched, jitter_without_reorder_keeps_order)
{
	struct lk_params p = params();
	p.delay_ns = 10 * MS;
	p.jitter_ns = 5 * MS;
	struct lk_dir d;
	cr_assert_eq(lk_dir_init(&d, &p, 7), 0);
	uint64_t lo = UINT64_MAX, hi = 0;
	for (uint64_t i = 0; i < 10000; i++) {
		/* sparse first (frames 20 ms apart: the full jitter range shows), then dense (10 us
		 * apart: the order clamp lifts most of them) */
		uint64_t now = i < 1000 ? i * 20 * MS : 20000 * MS + i * 10 * US;
		input_n(&d, now, 100);
		/* the newest frame is the one with the highest insertion order */
		uint64_t rel = 0;
		for (size_t k = 0; k < d.n; k++)
			if (d.heap[k]->idx == i + 1)
				rel = d.heap[k]->release_ns;
		cr_assert_geq(rel, now + 5 * MS);
		cr_assert_leq(rel, now + 15 * MS);
		if (i < 1000) {
			lo = rel - now < lo ? rel - now : lo;
			hi = rel - now > hi ? rel - now : hi;
		}
	}
	cr_assert_lt(lo, 6 * MS, "jitter never went low: %llu", (unsigned long long)lo);
	cr_assert_gt(hi, 14 * MS, "jitter never went high");
	uint64_t n;
	cr_assert_eq(drain(&d, &n), 0);
	cr_assert_eq(n, 10000);
	cr_assert_eq(d.st.reordered, 0);
	lk_dir_free(&d);
}

Test(sched, jitter_with_reorder_reorders_and_counts)
{
	struct lk_params p = params();
	p.delay_ns = 10 * MS;
	p.jitter_ns = 5 * MS;
	p.reorder = 0.0000001; /* reordering allowed; hold-backs practically never */
	struct lk_dir d;
	cr_assert_eq(lk_dir_init(&d, &p, 7), 0);
	for (uint64_t i = 0; i < 10000; i++)
		input_n(&d, 100 * MS + i * 10 * US, 100);
	uint64_t n, ooo = drain(&d, &n);
	cr_assert_eq(n, 10000);
	cr_assert_gt(ooo, 1000);
	cr_assert_eq(d.st.reordered, ooo);
	lk_dir_free(&d);
}

Test(sched, reorder_holds_back_frames)
{
	struct lk_params p = params();
	p.delay_ns = 2 * MS;
	p.reorder = 0.1;
	p.reorder_gap_ns = 1 * MS;
	struct lk_dir d;
	cr_assert_eq(lk_dir_init(&d, &p, 3), 0);
	uint64_t held = 0;
	for (uint64_t i = 0; i < 20000; i++) {
		input_n(&d, i * 100 * US, 100);
		for (size_t k = 0; k < d.n; k++)
			if (d.heap[k]->idx == i + 1 && d.heap[k]->held) {
				held++;
				cr_assert_eq(d.heap[k]->release_ns, i * 100 * US + 3 * MS);
			}
	}
	cr_assert(held > 1700 && held < 2300, "held %llu of 20000", (unsigned long long)held);
	uint64_t n, ooo = drain(&d, &n);
	/* at one frame per 100 us, every held frame is overtaken (except possibly the last) */
	cr_assert_eq(d.st.reordered, ooo);
	cr_assert_geq(ooo, held - 1);
	cr_assert_leq(ooo, held);
	lk_dir_free(&d);
}

static uint64_t loss_run(uint64_t seed, double loss, uint8_t *pattern, size_t n)
{
	struct lk_params p = params();
	p.loss = loss;
	p.limit = 1000000;
	struct lk_dir d;
	cr_assert_eq(lk_dir_init(&d, &p, seed), 0);
	uint8_t b[64] = { 0 };
	for (size_t i = 0; i < n; i++) {
		int v = lk_dir_input(&d, i * US, b, sizeof(b), sizeof(b));
		pattern[i] = (v & LK_DROP_LOSS) != 0;
		cr_assert(v == LK_QUEUED || v == LK_DROP_LOSS);
	}
	uint64_t dropped = d.st.dropped_loss;
	cr_assert_eq(d.st.frames_in, n);
	cr_assert_eq(d.n + dropped, n);
	lk_dir_free(&d);
	return dropped;
}

Test(sched, loss_rate_is_seeded_and_accurate)
{
	enum { N = 100000 };
	static uint8_t a[N], b[N], c[N];
	uint64_t da = loss_run(42, 0.05, a, N), db = loss_run(42, 0.05, b, N),
		 dc = loss_run(43, 0.05, c, N);
	cr_assert(da > 4700 && da < 5300, "dropped %llu of 100000 at 5%%",
		  (unsigned long long)da);
	cr_assert_eq(da, db);
	cr_assert_eq(memcmp(a, b, N), 0, "same seed, different losses");
	cr_assert_neq(memcmp(a, c, N), 0, "different seeds, same losses");
	(void)dc;
	uint64_t none = loss_run(1, 0, a, 1000), all = loss_run(1, 1.0, b, 1000);
	cr_assert_eq(none, 0);
	cr_assert_eq(all, 1000);
}

Test(sched, duplication_rate_and_copies_follow_originals)
{
	struct lk_params p = params();
	p.dup = 0.1;
	p.delay_ns = 1 * MS;
	p.limit = 1000000;
	struct lk_dir d;
	cr_assert_eq(lk_dir_init(&d, &p, 9), 0);
	uint64_t dups = 0;
	uint8_t b[100];
	for (uint64_t i = 0; i < 50000; i++) {
		memset(b, (int)(i & 0xff), sizeof(b));
		int v = lk_dir_input(&d, i * 10 * US, b, sizeof(b), sizeof(b));
		dups += (v & LK_DUPLICATED) != 0;
	}
	cr_assert_eq(d.st.duplicated, dups);
	cr_assert(dups > 4700 && dups < 5300, "duplicated %llu of 50000", (unsigned long long)dups);
	uint64_t prev_idx = 0, copies = 0;
	for (;;) {
		struct lk_frame *f = lk_dir_pop(&d, UINT64_MAX - 1);
		if (!f)
			break;
		if (f->is_dup) {
			cr_assert_eq(f->idx, prev_idx, "a copy must follow its original");
			cr_assert_eq(f->data[0], (uint8_t)((f->idx - 1) & 0xff));
			copies++;
		} else {
			cr_assert_eq(f->idx, prev_idx + 1);
			prev_idx = f->idx;
		}
		free(f);
	}
	cr_assert_eq(copies, dups);
	cr_assert_eq(d.st.frames_out, 50000 + dups);
	cr_assert_eq(d.st.reordered, 0);
	lk_dir_free(&d);
}

Test(sched, rate_serializes_and_bounds_the_queue)
{
	struct lk_params p = params();
	p.rate_bps = 8000000; /* one byte per microsecond */
	p.queue_limit = 5;
	struct lk_dir d;
	cr_assert_eq(lk_dir_init(&d, &p, 1), 0);
	uint8_t b[1000] = { 0 };
	int v[8];
	for (int i = 0; i < 8; i++)
		v[i] = lk_dir_input(&d, 0, b, sizeof(b), sizeof(b));
	for (int i = 0; i < 5; i++)
		cr_assert_eq(v[i], LK_QUEUED);
	for (int i = 5; i < 8; i++)
		cr_assert_eq(v[i], LK_DROP_QUEUE);
	cr_assert_eq(d.st.dropped_queue, 3);
	cr_assert_eq(d.st.queue_hw, 5);
	for (uint64_t i = 1; i <= 5; i++) {
		cr_assert_eq(lk_dir_next(&d), i * 1000 * US);
		cr_assert_null(lk_dir_pop(&d, i * 1000 * US - 1));
		struct lk_frame *f = lk_dir_pop(&d, i * 1000 * US);
		cr_assert_eq(f->idx, i);
		free(f);
	}
	/* at 2.5 ms, frames 1 and 2 have left the serializer: two places are free */
	cr_assert_eq(lk_dir_input(&d, 2500 * US, b, sizeof(b), sizeof(b)), LK_QUEUED);
	cr_assert_eq(lk_dir_next(&d), 6000 * US); /* queued behind the 5th */
	/* an idle link sends at once: serialization time only */
	cr_assert_eq(lk_dir_input(&d, 100 * MS, b, 500, 500), LK_QUEUED);
	struct lk_frame *f = lk_dir_pop(&d, 100 * MS);
	cr_assert_not_null(f);
	free(f);
	f = lk_dir_pop(&d, 100 * MS + 500 * US);
	cr_assert_not_null(f);
	cr_assert_eq(f->len, 500);
	free(f);
	lk_dir_free(&d);
}

Test(sched, rate_plus_delay)
{
	struct lk_params p = params();
	p.rate_bps = 1000000; /* 8 us per byte */
	p.delay_ns = 20 * MS;
	struct lk_dir d;
	cr_assert_eq(lk_dir_init(&d, &p, 1), 0);
	uint8_t b[125] = { 0 }; /* 1 ms on the wire */
	lk_dir_input(&d, 0, b, sizeof(b), sizeof(b));
	lk_dir_input(&d, 0, b, sizeof(b), sizeof(b));
	cr_assert_eq(lk_dir_next(&d), 21 * MS);
	free(lk_dir_pop(&d, 21 * MS));
	cr_assert_eq(lk_dir_next(&d), 22 * MS);
	free(lk_dir_pop(&d, 22 * MS));
	lk_dir_free(&d);
}

Test(sched, hold_limit)
{
	struct lk_params p = params();
	p.limit = 3;
	p.delay_ns = MS;
	struct lk_dir d;
	cr_assert_eq(lk_dir_init(&d, &p, 1), 0);
	uint8_t b[10] = { 0 };
	for (int i = 0; i < 3; i++)
		cr_assert_eq(lk_dir_input(&d, 0, b, 10, 10), LK_QUEUED);
	cr_assert_eq(lk_dir_input(&d, 0, b, 10, 10), LK_DROP_LIMIT);
	cr_assert_eq(d.st.dropped_limit, 1);
	cr_assert_eq(d.st.held_hw, 3);
	free(lk_dir_pop(&d, MS));
	cr_assert_eq(lk_dir_input(&d, MS, b, 10, 10), LK_QUEUED);
	lk_dir_free(&d);
}

Test(sched, bad_params)
{
	struct lk_params p = params();
	struct lk_dir d;
	p.loss = 1.5;
	cr_assert_eq(lk_dir_init(&d, &p, 1), -EINVAL);
	p = params();
	p.queue_limit = 0;
	cr_assert_eq(lk_dir_init(&d, &p, 1), -EINVAL);
}
