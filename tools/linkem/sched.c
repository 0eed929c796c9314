/* linkem scheduling core (see linkem.h): impairment decisions and the release queue. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "linkem.h"

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void lk_prng_seed(struct lk_prng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t lk_prng_next(struct lk_prng *r)
{
	uint64_t *s = r->s;
	uint64_t res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return res;
}

double lk_prng_unit(struct lk_prng *r)
{
	return (double)(lk_prng_next(r) >> 11) * 0x1.0p-53;
}

void lk_params_default(struct lk_params *p)
{
	memset(p, 0, sizeof(*p));
	p->reorder_gap_ns = 1000000;
	p->queue_limit = 1000;
	p->limit = 100000;
}

struct lk_frame *lk_frame_new(const void *data, uint32_t len)
{
	struct lk_frame *f = malloc(sizeof(*f) + len);
	if (!f)
		return NULL;
	memset(f, 0, sizeof(*f));
	f->len = len;
	if (len)
		memcpy(f->data, data, len);
	return f;
}

int lk_dir_init(struct lk_dir *d, const struct lk_params *p, uint64_t seed)
{
	memset(d, 0, sizeof(*d));
	if (p->queue_limit == 0 || p->limit == 0 || p->loss < 0 || p->loss > 1 || p->dup < 0 ||
	    p->dup > 1 || p->reorder < 0 || p->reorder > 1)
		return -EINVAL;
	d->p = *p;
	lk_prng_seed(&d->rng, seed);
	if (p->rate_bps) {
		d->dep = calloc(p->queue_limit, sizeof(*d->dep));
		if (!d->dep)
			return -ENOMEM;
	}
	return 0;
}

void lk_dir_free(struct lk_dir *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->heap[i]);
	free(d->heap);
	free(d->dep);
	d->heap = NULL;
	d->dep = NULL;
	d->n = d->cap = 0;
}

static int before(const struct lk_frame *a, const struct lk_frame *b)
{
	return a->release_ns < b->release_ns ||
	       (a->release_ns == b->release_ns && a->order < b->order);
}

static int heap_push(struct lk_dir *d, struct lk_frame *f)
{
	if (d->n == d->cap) {
		size_t ncap = d->cap ? d->cap * 2 : 256;
		struct lk_frame **nh = realloc(d->heap, ncap * sizeof(*nh));
		if (!nh)
			return -ENOMEM;
		d->heap = nh;
		d->cap = ncap;
	}
	f->order = d->next_order++;
	size_t i = d->n++;
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!before(f, d->heap[parent]))
			break;
		d->heap[i] = d->heap[parent];
		i = parent;
	}
	d->heap[i] = f;
	if (d->n > d->st.held_hw)
		d->st.held_hw = (uint32_t)d->n;
	return 0;
}

static struct lk_frame *heap_pop(struct lk_dir *d)
{
	struct lk_frame *top = d->heap[0], *last = d->heap[--d->n];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= d->n)
			break;
		if (c + 1 < d->n && before(d->heap[c + 1], d->heap[c]))
			c++;
		if (!before(d->heap[c], last))
			break;
		d->heap[i] = d->heap[c];
		i = c;
	}
	if (d->n)
		d->heap[i] = last;
	return top;
}

/* Rate stage: returns the time the frame has finished serializing, or UINT64_MAX when the
 * queue is full. */
static uint64_t rate_stage(struct lk_dir *d, uint64_t now, uint32_t len)
{
	if (!d->p.rate_bps)
		return now;
	while (d->dep_n && d->dep[d->dep_head] <= now) {
		d->dep_head = (d->dep_head + 1) % d->p.queue_limit;
		d->dep_n--;
	}
	if (d->dep_n >= d->p.queue_limit)
		return UINT64_MAX;
	uint64_t start = d->link_free > now ? d->link_free : now;
	/* bits * 1e9 / rate, without overflow for any frame up to 64 KiB */
	uint64_t tx = ((uint64_t)len * 8u * 1000000000ull + d->p.rate_bps - 1) / d->p.rate_bps;
	uint64_t done = start + tx;
	d->link_free = done;
	d->dep[(d->dep_head + d->dep_n) % d->p.queue_limit] = done;
	d->dep_n++;
	if (d->dep_n > d->st.queue_hw)
		d->st.queue_hw = d->dep_n;
	return done;
}

int lk_dir_input(struct lk_dir *d, uint64_t now, const void *data, uint32_t len,
		 uint32_t wire_len)
{
	const struct lk_params *p = &d->p;
	int verdict = 0;
	d->st.frames_in++;
	d->st.bytes_in += wire_len;
	uint64_t idx = ++d->next_idx;

	/* Draws are made in a fixed order, each only when its impairment is on, so a seed
	 * reproduces the same decisions for the same input. */
	if (p->loss > 0 && lk_prng_unit(&d->rng) < p->loss) {
		d->st.dropped_loss++;
		return LK_DROP_LOSS;
	}
	int dup = p->dup > 0 && lk_prng_unit(&d->rng) < p->dup;
	if (d->n + 1u + (unsigned)dup > p->limit) {
		d->st.dropped_limit++;
		return LK_DROP_LIMIT;
	}
	uint64_t t = rate_stage(d, now, wire_len);
	if (t == UINT64_MAX) {
		d->st.dropped_queue++;
		return LK_DROP_QUEUE;
	}
	t += p->delay_ns;
	if (p->jitter_ns) {
		uint64_t span = 2 * p->jitter_ns + 1;
		uint64_t j = lk_prng_next(&d->rng) % span; /* [0, 2*jitter] */
		t = t + j >= p->jitter_ns ? t + j - p->jitter_ns : 0;
	}
	int held = 0;
	if (p->reorder > 0) {
		held = lk_prng_unit(&d->rng) < p->reorder;
		if (held)
			t += p->reorder_gap_ns;
	} else {
		/* order kept: never before the predecessor */
		if (t < d->last_release)
			t = d->last_release;
		d->last_release = t;
	}

	struct lk_frame *f = lk_frame_new(data, len), *c = NULL;
	if (!f)
		goto nomem;
	f->release_ns = t;
	f->wire_len = wire_len;
	f->idx = idx;
	f->held = (uint8_t)held;
	if (dup) {
		c = lk_frame_new(data, len);
		if (!c)
			goto nomem;
		c->release_ns = t;
		c->wire_len = wire_len;
		c->idx = idx;
		c->is_dup = 1;
		c->held = (uint8_t)held;
	}
	if (heap_push(d, f) < 0)
		goto nomem;
	verdict = LK_QUEUED;
	if (c) {
		if (heap_push(d, c) < 0) {
			free(c);
		} else {
			d->st.duplicated++;
			verdict |= LK_DUPLICATED;
		}
	}
	return verdict;
nomem:
	free(f);
	free(c);
	d->st.dropped_limit++;
	return LK_DROP_LIMIT;
}

uint64_t lk_dir_next(const struct lk_dir *d)
{
	return d->n ? d->heap[0]->release_ns : UINT64_MAX;
}

struct lk_frame *lk_dir_pop(struct lk_dir *d, uint64_t now)
{
	if (!d->n || d->heap[0]->release_ns > now)
		return NULL;
	struct lk_frame *f = heap_pop(d);
	if (!f->is_dup) {
		if (f->idx < d->max_released_idx)
			d->st.reordered++;
		else
			d->max_released_idx = f->idx;
	}
	d->st.frames_out++;
	d->st.bytes_out += f->wire_len;
	return f;
}
