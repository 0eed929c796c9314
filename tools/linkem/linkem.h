/* linkem: a user-space link emulator.  This header holds the scheduling core (one struct
 * lk_dir per direction of the link), which never reads a clock or touches a socket: the caller
 * hands it `now` (monotonic nanoseconds), so the unit tests drive it with a fake clock.
 *
 * Pipeline of one direction, decided when a frame arrives:
 *   loss (Bernoulli) -> rate stage (serialization at --rate, bounded queue) ->
 *   delay (+ uniform jitter, clamped so order is kept unless reordering is asked for) ->
 *   optional hold-back (--reorder) -> duplication (the copy leaves right after the original).
 * Frames wait in a min-heap keyed by (release time, arrival order). */
#ifndef LINKEM_H
#define LINKEM_H
#include <stddef.h>
#include <stdint.h>

/* Seeded PRNG (xoshiro256**, seeded through splitmix64): deterministic per seed. */
struct lk_prng {
	uint64_t s[4];
};
void lk_prng_seed(struct lk_prng *r, uint64_t seed);
uint64_t lk_prng_next(struct lk_prng *r);
/* Uniform double in [0, 1). */
double lk_prng_unit(struct lk_prng *r);

struct lk_params {
	uint64_t delay_ns;       /* fixed one-way delay */
	uint64_t jitter_ns;      /* uniform in [-jitter, +jitter], total delay clamped at 0 */
	uint64_t reorder_gap_ns; /* extra hold of a frame picked for reordering */
	uint64_t rate_bps;       /* 0: unlimited */
	double loss;             /* probabilities in [0, 1] */
	double dup;
	double reorder;
	uint32_t queue_limit;    /* frames waiting for serialization (rate stage); >= 1 */
	uint32_t limit;          /* frames held in total in this direction; >= 1 */
};
/* Defaults: no impairment, queue_limit 1000, limit 100000, reorder_gap 1 ms. */
void lk_params_default(struct lk_params *p);

/* A frame held by the scheduler.  Allocated by lk_frame_new(), owned by the scheduler while
 * queued, handed back (transferred) by lk_dir_pop(); the caller frees it with free(). */
struct lk_frame {
	uint64_t release_ns; /* when it may leave */
	uint64_t order;      /* heap tie-break: insertion order */
	uint64_t idx;        /* arrival number in this direction (1, 2, ...); a copy shares it */
	uint32_t len, wire_len;
	uint8_t is_dup;      /* the copy made by duplication */
	uint8_t held;        /* picked for reordering */
	uint8_t data[];
};
/* Returns a new frame holding a copy of data[0..len), or NULL (ENOMEM). */
struct lk_frame *lk_frame_new(const void *data, uint32_t len);

struct lk_stats {
	uint64_t frames_in, bytes_in;
	uint64_t frames_out, bytes_out; /* released by lk_dir_pop() */
	uint64_t dropped_loss;          /* random loss */
	uint64_t dropped_queue;         /* rate queue full */
	uint64_t dropped_limit;         /* total hold limit reached, or out of memory */
	uint64_t duplicated;            /* copies made */
	uint64_t reordered;             /* released after a frame that arrived later than it */
	uint32_t queue_hw;              /* rate-stage queue high-water (frames) */
	uint32_t held_hw;               /* frames held in total, high-water */
};

struct lk_dir {
	struct lk_params p;
	struct lk_prng rng;
	struct lk_stats st;
	/* min-heap of frames by (release_ns, order) */
	struct lk_frame **heap;
	size_t n, cap;
	uint64_t next_order, next_idx, max_released_idx;
	uint64_t last_release; /* order keeping */
	/* rate stage: ring of departure times of the frames still being serialized */
	uint64_t *dep;
	uint32_t dep_head, dep_n;
	uint64_t link_free; /* when the serializer is next idle */
};

/* Verdict of lk_dir_input(): a bit set. */
enum {
	LK_QUEUED = 1,
	LK_DUPLICATED = 2,
	LK_DROP_LOSS = 4,
	LK_DROP_QUEUE = 8,
	LK_DROP_LIMIT = 16,
};

/* Initialises a direction with a copy of p and the PRNG seed.  Returns 0 or -ENOMEM, -EINVAL. */
int lk_dir_init(struct lk_dir *d, const struct lk_params *p, uint64_t seed);
/* Frees every queued frame and the queues; safe twice. */
void lk_dir_free(struct lk_dir *d);
/* Offers a frame (data[0..len) is copied) that arrived at `now`; wire_len is its size on the
 * link (what the rate stage serializes and the byte counters count; len may include a
 * metadata header).  Returns a verdict bit set (see above). */
int lk_dir_input(struct lk_dir *d, uint64_t now, const void *data, uint32_t len,
		 uint32_t wire_len);
/* Release time of the earliest queued frame, or UINT64_MAX when empty. */
uint64_t lk_dir_next(const struct lk_dir *d);
/* If a frame is due at `now`, removes it and returns it (caller frees); else NULL. */
struct lk_frame *lk_dir_pop(struct lk_dir *d, uint64_t now);

/* Argument parsers (parse.c).  Return 0 or -EINVAL. */
/* "20ms", "500us", "1s", "250ns", "1.5ms"; a bare number is milliseconds. */
int lk_parse_duration(const char *s, uint64_t *ns);
/* "1%", "0.5%" -> 0.01, 0.005 (the % is optional); range 0..100. */
int lk_parse_percent(const char *s, double *p);
/* "10mbit", "512kbit", "1gbit", "9600bit" (also tc's byte units "kbps"...); a bare number is
 * bit/s; "0" is unlimited. */
int lk_parse_rate(const char *s, uint64_t *bps);

#endif
