/* Unit tests for roam/table.h: hashing, insert/lookup/remove, collisions, growth to 1,000,000
 * entries, timer-wheel expiry on a fake clock, iteration with removal, destroy. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roam/table.h"

struct ent {
	struct table_node node;
	uint64_t expires; /* what the test set, for the reference model */
	int expired;      /* times the expire callback saw it */
	int freed_by_cb;
	uint32_t id;
	uint8_t key[16];
	uint8_t keylen;
};

struct ctx {
	uint64_t now;
	uint64_t last_expired_at; /* expiry of the previous callback: order check */
	size_t nexpired;
	int free_in_cb;
	int order_violations;
	int early;
	size_t nfreed;
};

static void
on_expire(struct table *t, struct table_node *n, void *arg)
{
	struct ctx *c = arg;
	struct ent *e = table_entry(n, struct ent, node);
	cr_assert(!table_node_linked(n), "node still linked in the expire callback");
	cr_assert_null(table_lookup(t, e->key, e->keylen), "expired entry still found");
	if (e->expires > c->now)
		c->early++;
	if (e->expires < c->last_expired_at)
		c->order_violations++;
	c->last_expired_at = e->expires;
	e->expired++;
	c->nexpired++;
	if (c->free_in_cb)
		free(e);
}

static void
on_free(struct table *t, struct table_node *n, void *arg)
{
	(void)t;
	struct ctx *c = arg;
	c->nfreed++;
	free(table_entry(n, struct ent, node));
}

static struct ent *
mk(uint32_t id)
{
	struct ent *e = calloc(1, sizeof(*e));
	cr_assert_not_null(e);
	e->id = id;
	e->keylen = (uint8_t)snprintf((char *)e->key, sizeof(e->key), "k%u", id);
	return e;
}

static int
cmp(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return a < b ? -1 : a > b;
}

static int
count_cb(struct table_node *n, void *arg)
{
	size_t *v = arg;
	struct ent *e = table_entry(n, struct ent, node);
	cr_assert(e->id % 2 == 1);
	(*v)++;
	return 0;
}

TestSuite(table, .timeout = 120);

static const uint8_t fixed_seed[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };

Test(table, siphash_vectors)
{
	/* SipHash-2-4 paper (appendix A) and reference vectors.h: key 00..0f, message 00..len-1. */
	uint8_t key[16], msg[64];
	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	cr_assert_eq(table_siphash(key, msg, 15), 0xa129ca6149be45e5ULL);
	cr_assert_eq(table_siphash(key, msg, 0), 0x726fdb47dd0e0e31ULL);
	cr_assert_eq(table_siphash(key, NULL, 0), 0x726fdb47dd0e0e31ULL);
}

Test(table, insert_lookup_remove)
{
	struct table t;
	struct ctx c = { 0 };
	cr_assert_eq(table_init(&t, on_expire, on_free, &c), 0);
	struct ent *a = mk(1), *b = mk(2), *dup = mk(1);
	cr_assert_eq(table_insert(&t, &a->node, a->key, a->keylen), 0);
	cr_assert_eq(table_insert(&t, &b->node, b->key, b->keylen), 0);
	cr_assert_eq(table_insert(&t, &dup->node, dup->key, dup->keylen), -EEXIST);
	cr_assert(!table_node_linked(&dup->node));
	cr_assert_eq(table_insert(&t, &a->node, "other", 5), -EINVAL); /* already linked */
	cr_assert_eq(table_count(&t), 2);
	cr_assert_eq(table_lookup(&t, "k1", 2), &a->node);
	cr_assert_eq(table_lookup(&t, "k2", 2), &b->node);
	cr_assert_null(table_lookup(&t, "k3", 2));
	cr_assert_null(table_lookup(&t, "k1", 1));   /* prefix is another key */
	cr_assert_null(table_lookup(&t, "k1\0", 3)); /* so is a longer one */
	table_remove(&t, &a->node);
	table_remove(&t, &a->node); /* no-op */
	cr_assert_null(table_lookup(&t, "k1", 2));
	cr_assert_eq(table_count(&t), 1);
	/* the removed node can go back in */
	cr_assert_eq(table_insert(&t, &a->node, a->key, a->keylen), 0);
	cr_assert_eq(table_lookup(&t, "k1", 2), &a->node);

	/* key lengths 0 and 255 are fine, 256 is not */
	struct ent *z = mk(3), *big = mk(4), *over = mk(5);
	static uint8_t k255[256];
	memset(k255, 'x', sizeof(k255));
	cr_assert_eq(table_insert(&t, &z->node, NULL, 0), 0);
	cr_assert_eq(table_lookup(&t, "", 0), &z->node);
	cr_assert_eq(table_insert(&t, &big->node, k255, 255), 0);
	cr_assert_eq(table_lookup(&t, k255, 255), &big->node);
	cr_assert_eq(table_insert(&t, &over->node, k255, 256), -EINVAL);
	cr_assert_null(table_lookup(&t, k255, 256));
	free(dup);
	free(over);
	table_destroy(&t);
	cr_assert_eq(c.nfreed, 4);
	table_destroy(&t); /* twice is safe */
}

Test(table, full_hash_collisions)
{
	/* Find distinct keys whose 32-bit table hashes are equal (birthday search under a fixed
	 * seed), put them in one chain, and check each stays reachable. */
	enum { N = 300000 };
	struct table t;
	struct ctx c = { 0 };
	cr_assert_eq(table_init_seed(&t, on_expire, on_free, &c, fixed_seed), 0);
	uint64_t *hv = malloc(N * sizeof(*hv));
	cr_assert_not_null(hv);
	for (uint32_t i = 0; i < N; i++) {
		char k[16];
		int l = snprintf(k, sizeof(k), "k%u", i);
		uint32_t h = (uint32_t)table_siphash(fixed_seed, k, (size_t)l);
		hv[i] = (uint64_t)h << 32 | i;
	}
	qsort(hv, N, sizeof(*hv), cmp);
	size_t pairs = 0;
	for (size_t i = 1; i < N && pairs < 8; i++) {
		if (hv[i] >> 32 != hv[i - 1] >> 32)
			continue;
		struct ent *a = mk((uint32_t)hv[i - 1]), *b = mk((uint32_t)hv[i]);
		cr_assert_eq(table_insert(&t, &a->node, a->key, a->keylen), 0);
		cr_assert_eq(table_insert(&t, &b->node, b->key, b->keylen), 0);
		cr_assert_eq(table_lookup(&t, a->key, a->keylen), &a->node);
		cr_assert_eq(table_lookup(&t, b->key, b->keylen), &b->node);
		table_remove(&t, &a->node);
		cr_assert_null(table_lookup(&t, a->key, a->keylen));
		cr_assert_eq(table_lookup(&t, b->key, b->keylen), &b->node);
		cr_assert_eq(table_insert(&t, &a->node, a->key, a->keylen), 0);
		pairs++;
	}
	cr_assert_geq(pairs, 1, "no 32-bit collision among %d keys (expected ~10)", N);
	free(hv);
	table_destroy(&t);
	cr_assert_eq(c.nfreed, pairs * 2);
}

Test(table, seeds_differ)
{
	struct table a, b;
	cr_assert_eq(table_init(&a, NULL, NULL, NULL), 0);
	cr_assert_eq(table_init(&b, NULL, NULL, NULL), 0);
	cr_assert(a.seed[0] != b.seed[0] || a.seed[1] != b.seed[1]);
	table_destroy(&a);
	table_destroy(&b);
}

Test(table, million_entries)
{
	enum { N = 1000000 };
	struct table t;
	struct ctx c = { 0 };
	struct ent *e = calloc(N, sizeof(*e));
	cr_assert_not_null(e);
	cr_assert_eq(table_init(&t, on_expire, NULL, &c), 0);
	for (uint32_t i = 0; i < N; i++) {
		memcpy(e[i].key, &i, 4);
		e[i].keylen = 4;
		e[i].id = i;
		cr_assert_eq(table_insert(&t, &e[i].node, e[i].key, 4), 0);
	}
	cr_assert_eq(table_count(&t), N);
	for (uint32_t i = 0; i < N; i++)
		cr_assert_eq(table_lookup(&t, &i, 4), &e[i].node, "lookup %u", i);
	uint32_t missing = N + 7;
	cr_assert_null(table_lookup(&t, &missing, 4));
	/* Bucket memory per entry: load factor between 1/2 and 1 once growth settles, plus the
	 * old array while a rehash is under way: at most 24 bytes per entry. */
	double per = (double)table_memory(&t) / N;
	cr_log_info("table: %zu buckets, %.1f bucket bytes/entry + %zu node bytes", t.nbuckets, per,
	            sizeof(struct table_node));
	cr_assert_leq(per, 24.0);
	cr_assert_leq(sizeof(struct table_node), 48);
	/* remove the even ones */
	for (uint32_t i = 0; i < N; i += 2)
		table_remove(&t, &e[i].node);
	cr_assert_eq(table_count(&t), N / 2);
	for (uint32_t i = 0; i < N; i++) {
		struct table_node *n = table_lookup(&t, &i, 4);
		cr_assert_eq(n, (i % 2) ? &e[i].node : NULL, "after removal %u", i);
	}
	/* every remaining entry once through foreach */
	size_t visits = 0;
	cr_assert_eq(table_foreach(&t, count_cb, &visits), 0);
	cr_assert_eq(visits, N / 2);
	table_destroy(&t);
	free(e);
}

/* xorshift for reproducible pseudo-random times */
static uint64_t
rnd(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

Test(table, expiry_in_order_fake_clock)
{
	enum { N = 20000 };
	struct table t;
	struct ctx c = { 0 };
	struct ent *e = calloc(N, sizeof(*e));
	uint64_t s = 88172645463325252ULL;
	cr_assert_not_null(e);
	cr_assert_eq(table_init(&t, on_expire, NULL, &c), 0);
	c.now = 1000;
	table_expire(&t, c.now);
	for (uint32_t i = 0; i < N; i++) {
		e[i].keylen = (uint8_t)snprintf((char *)e[i].key, sizeof(e[i].key), "e%u", i);
		cr_assert_eq(table_insert(&t, &e[i].node, e[i].key, e[i].keylen), 0);
		/* spread over every wheel level: 1 ms .. ~2^40 ms (35 years) ahead */
		unsigned bits = (unsigned)(rnd(&s) % 41);
		uint64_t delta = 1 + rnd(&s) % (1ULL << bits);
		e[i].expires = c.now + delta;
		cr_assert_eq(table_set_expiry(&t, &e[i].node, e[i].expires), 0);
		cr_assert_eq(table_node_expiry(&e[i].node), e[i].expires);
	}
	/* a few far-future entries past any realistic lifetime */
	e[0].expires = UINT64_MAX - 5;
	table_set_expiry(&t, &e[0].node, e[0].expires);
	e[1].expires = 1ULL << 62;
	table_set_expiry(&t, &e[1].node, e[1].expires);

	size_t steps = 0;
	while (c.now < (1ULL << 41)) {
		uint64_t next = table_next_expiry(&t);
		/* next never lies past the earliest pending expiry */
		uint64_t earliest = UINT64_MAX;
		if (steps % 500 == 0) {
			for (uint32_t i = 0; i < N; i++)
				if (!e[i].expired && e[i].expires < earliest)
					earliest = e[i].expires;
			cr_assert_leq(next, earliest);
		}
		/* advance either to the wheel's next event or by a random stride */
		uint64_t stride = 1 + rnd(&s) % (1ULL << (rnd(&s) % 36));
		c.now = (next != TABLE_NEVER && next > c.now && next < c.now + stride) ? next
		                                                                       : c.now + stride;
		c.last_expired_at = 0;
		table_expire(&t, c.now);
		steps++;
		cr_assert_eq(c.early, 0, "an entry expired before its time");
		cr_assert_eq(c.order_violations, 0, "expiry out of order");
		if (steps % 256 == 0)
			for (uint32_t i = 0; i < N; i++)
				cr_assert_eq(e[i].expired, e[i].expires <= c.now ? 1 : 0, "entry %u", i);
	}
	for (uint32_t i = 2; i < N; i++)
		cr_assert_eq(e[i].expired, 1, "entry %u (expires %lu) never expired", i,
		             (unsigned long)e[i].expires);
	cr_assert_eq(e[0].expired, 0);
	cr_assert_eq(e[1].expired, 0);
	cr_assert_eq(table_count(&t), 2);
	cr_assert_eq(table_next_expiry(&t) <= e[1].expires, 1);
	/* jump to the far future */
	c.now = 1ULL << 62;
	cr_assert_eq(table_expire(&t, c.now), 1);
	cr_assert_eq(e[1].expired, 1);
	c.now = UINT64_MAX - 5;
	cr_assert_eq(table_expire(&t, c.now), 1);
	cr_assert_eq(e[0].expired, 1);
	cr_assert_eq(table_next_expiry(&t), TABLE_NEVER);
	table_destroy(&t);
	free(e);
}

Test(table, next_expiry_converges)
{
	/* A daemon arms its timer for table_next_expiry and calls table_expire when it fires: the
	 * entry expires exactly on time, after at most one wake-up per wheel level. */
	struct table t;
	struct ctx c = { 0 };
	struct ent *a = mk(1);
	cr_assert_eq(table_init(&t, on_expire, NULL, &c), 0);
	c.now = 123456;
	table_expire(&t, c.now);
	cr_assert_eq(table_next_expiry(&t), TABLE_NEVER);
	cr_assert_eq(table_insert(&t, &a->node, a->key, a->keylen), 0);
	a->expires = c.now + 3600 * 1000 + 17;
	table_set_expiry(&t, &a->node, a->expires);
	int wakeups = 0;
	while (!a->expired) {
		uint64_t next = table_next_expiry(&t);
		cr_assert_neq(next, TABLE_NEVER);
		cr_assert_leq(next, a->expires);
		cr_assert_geq(next, c.now);
		c.now = next;
		table_expire(&t, c.now);
		wakeups++;
		cr_assert_leq(wakeups, TABLE_WHEEL_LEVELS + 1);
	}
	cr_assert_eq(c.now, a->expires);
	free(a);
	table_destroy(&t);
}

Test(table, reset_and_cancel_expiry)
{
	struct table t;
	struct ctx c = { 0 };
	struct ent *a = mk(1), *b = mk(2), *d = mk(3);
	cr_assert_eq(table_init(&t, on_expire, on_free, &c), 0);
	c.now = 10000;
	table_expire(&t, c.now);
	table_insert(&t, &a->node, a->key, a->keylen);
	table_insert(&t, &b->node, b->key, b->keylen);
	table_insert(&t, &d->node, d->key, d->keylen);
	a->expires = 20000;
	table_set_expiry(&t, &a->node, a->expires);
	/* refresh later (a binding renewal) */
	a->expires = 500000;
	table_set_expiry(&t, &a->node, a->expires);
	/* shorten */
	b->expires = 900000;
	table_set_expiry(&t, &b->node, b->expires);
	b->expires = 15000;
	table_set_expiry(&t, &b->node, b->expires);
	/* cancel */
	d->expires = 12000;
	table_set_expiry(&t, &d->node, d->expires);
	table_set_expiry(&t, &d->node, 0);
	cr_assert_eq(table_node_expiry(&d->node), 0);
	d->expires = UINT64_MAX;

	c.now = 20000;
	cr_assert_eq(table_expire(&t, c.now), 1);
	cr_assert_eq(b->expired, 1);
	cr_assert_eq(a->expired, 0);
	cr_assert_eq(table_next_expiry(&t) <= 500000, 1);
	c.now = 499999;
	cr_assert_eq(table_expire(&t, c.now), 0);
	c.now = 500000;
	cr_assert_eq(table_expire(&t, c.now), 1);
	cr_assert_eq(a->expired, 1);
	/* a time in the past expires at the next call; a clock going back changes nothing */
	d->expires = 100;
	table_set_expiry(&t, &d->node, d->expires);
	cr_assert_eq(table_next_expiry(&t), 500000);
	cr_assert_eq(table_expire(&t, 400000), 1);
	cr_assert_eq(d->expired, 1);
	/* set_expiry on an unlinked node */
	cr_assert_eq(table_set_expiry(&t, &d->node, 5), -EINVAL);
	/* removal cancels the timer */
	struct ent *x = mk(9);
	table_insert(&t, &x->node, x->key, x->keylen);
	table_set_expiry(&t, &x->node, 600000);
	table_remove(&t, &x->node);
	cr_assert_eq(table_next_expiry(&t), TABLE_NEVER);
	cr_assert_eq(table_expire(&t, 700000), 0);
	free(a);
	free(b);
	free(d);
	free(x);
	table_destroy(&t);
	cr_assert_eq(c.nfreed, 0);
}

/* Expire callback that frees its entry and also removes + frees a partner entry, and inserts a
 * replacement: exercises the live-list walk in table_expire (run under ASan). */
struct chain_ctx {
	struct table t;
	struct ent *ents[64];
	size_t nexp;
	uint64_t now;
};

static void
chain_expire(struct table *t, struct table_node *n, void *arg)
{
	struct chain_ctx *c = arg;
	struct ent *e = table_entry(n, struct ent, node);
	uint32_t partner = e->id ^ 1;
	c->nexp++;
	if (c->ents[partner] != NULL && table_node_linked(&c->ents[partner]->node)) {
		table_remove(t, &c->ents[partner]->node);
		free(c->ents[partner]);
		c->ents[partner] = NULL;
	}
	if (e->id < 32) {
		/* replacement far in the future */
		struct ent *r = mk(e->id + 32);
		cr_assert_eq(table_insert(t, &r->node, r->key, r->keylen), 0);
		table_set_expiry(t, &r->node, c->now + 1000000);
		c->ents[e->id + 32] = r;
	}
	c->ents[e->id] = NULL;
	free(e);
}

static void
chain_free(struct table *t, struct table_node *n, void *arg)
{
	(void)t;
	struct chain_ctx *c = arg;
	struct ent *e = table_entry(n, struct ent, node);
	c->ents[e->id] = NULL;
	free(e);
}

Test(table, expire_callback_frees_and_mutates)
{
	struct chain_ctx c;
	memset(&c, 0, sizeof(c));
	cr_assert_eq(table_init(&c.t, chain_expire, chain_free, &c), 0);
	for (uint32_t i = 0; i < 32; i++) {
		c.ents[i] = mk(i);
		cr_assert_eq(table_insert(&c.t, &c.ents[i]->node, c.ents[i]->key, c.ents[i]->keylen), 0);
		table_set_expiry(&c.t, &c.ents[i]->node, 5000); /* all in the same slot */
	}
	c.now = 5000;
	size_t n = table_expire(&c.t, c.now);
	/* pairs (0,1),(2,3)...: one of each pair expires, the partner is removed by it */
	cr_assert_eq(n, 16);
	cr_assert_eq(c.nexp, 16);
	cr_assert_eq(table_count(&c.t), 16); /* the replacements */
	for (uint32_t i = 0; i < 32; i++)
		cr_assert_null(c.ents[i]);
	table_destroy(&c.t);
	for (uint32_t i = 0; i < 64; i++)
		cr_assert_null(c.ents[i], "entry %u leaked", i);
}

static int
remove_current(struct table_node *n, void *arg)
{
	struct table *t = arg;
	struct ent *e = table_entry(n, struct ent, node);
	if (e->id % 3 != 0) {
		table_remove(t, n);
		free(e);
	}
	return 0;
}

static int
stop_at_five(struct table_node *n, void *arg)
{
	(void)n;
	int *k = arg;
	return ++*k == 5 ? 42 : 0;
}

Test(table, foreach_with_removal)
{
	enum { N = 5000 };
	struct table t;
	struct ctx c = { 0 };
	cr_assert_eq(table_init(&t, on_expire, on_free, &c), 0);
	for (uint32_t i = 0; i < N; i++) {
		struct ent *e = mk(i);
		cr_assert_eq(table_insert(&t, &e->node, e->key, e->keylen), 0);
		table_set_expiry(&t, &e->node, 1000 + i);
	}
	cr_assert_eq(table_foreach(&t, remove_current, &t), 0);
	cr_assert_eq(table_count(&t), (N + 2) / 3);
	for (uint32_t i = 0; i < N; i++) {
		char k[16];
		int l = snprintf(k, sizeof(k), "k%u", i);
		cr_assert_eq(table_lookup(&t, k, (size_t)l) != NULL, i % 3 == 0, "key %u", i);
	}
	int k = 0;
	cr_assert_eq(table_foreach(&t, stop_at_five, &k), 42);
	cr_assert_eq(k, 5);
	/* removed entries' timers are gone: only the survivors expire */
	c.free_in_cb = 1;
	c.now = 1000 + N;
	cr_assert_eq(table_expire(&t, c.now), (N + 2) / 3);
	cr_assert_eq(table_count(&t), 0);
	table_destroy(&t);
}

static int
insert_during_walk(struct table_node *n, void *arg)
{
	struct table *t = arg;
	struct ent *e = table_entry(n, struct ent, node);
	if (e->id < 1000) {
		struct ent *x = mk(e->id + 100000);
		cr_assert_eq(table_insert(t, &x->node, x->key, x->keylen), 0);
	}
	e->expired++; /* visit count */
	cr_assert_eq(e->expired, 1, "entry %u visited twice", e->id);
	return 0;
}

Test(table, foreach_insert_no_double_visit)
{
	struct table t;
	struct ctx c = { 0 };
	cr_assert_eq(table_init(&t, on_expire, on_free, &c), 0);
	for (uint32_t i = 0; i < 1000; i++) {
		struct ent *e = mk(i);
		cr_assert_eq(table_insert(&t, &e->node, e->key, e->keylen), 0);
	}
	cr_assert_eq(table_foreach(&t, insert_during_walk, &t), 0);
	cr_assert_eq(table_count(&t), 2000);
	/* growth postponed during the walk resumes afterwards */
	for (uint32_t i = 0; i < 1000; i++) {
		struct ent *e = mk(200000 + i);
		cr_assert_eq(table_insert(&t, &e->node, e->key, e->keylen), 0);
	}
	cr_assert_geq(t.nbuckets, 2048);
	table_destroy(&t);
	cr_assert_eq(c.nfreed, 3000);
}

Test(table, first_expire_long_after_zero)
{
	/* No table_expire before arming: the wheel starts at 0 while the daemon's monotonic clock
	 * is days past it.  The first call must expire what is due and keep the rest. */
	struct table t;
	struct ctx c = { 0 };
	cr_assert_eq(table_init(&t, on_expire, on_free, &c), 0);
	uint64_t boot = 3ULL * 24 * 3600 * 1000 + 12345; /* three days of uptime */
	struct ent *a = mk(1), *b = mk(2), *d = mk(3);
	table_insert(&t, &a->node, a->key, a->keylen);
	table_insert(&t, &b->node, b->key, b->keylen);
	table_insert(&t, &d->node, d->key, d->keylen);
	a->expires = boot + 30000;
	b->expires = boot + 3600000;
	d->expires = boot - 5; /* already due */
	table_set_expiry(&t, &a->node, a->expires);
	table_set_expiry(&t, &b->node, b->expires);
	table_set_expiry(&t, &d->node, d->expires);
	c.free_in_cb = 1;
	c.now = boot;
	cr_assert_eq(table_expire(&t, c.now), 1);
	cr_assert_eq(table_count(&t), 2);
	cr_assert_leq(table_next_expiry(&t), boot + 30000);
	cr_assert_geq(table_next_expiry(&t), boot);
	c.now = boot + 30000;
	cr_assert_eq(table_expire(&t, c.now), 1);
	c.now = boot + 3600000;
	cr_assert_eq(table_expire(&t, c.now), 1);
	cr_assert_eq(table_count(&t), 0);
	cr_assert_eq(c.early, 0);
	table_destroy(&t);
}
