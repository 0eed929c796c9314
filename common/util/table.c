/* Soft-state table: keyed hash (SipHash-2-4) with incremental rehash, and a hierarchical timer
 * wheel for expiry (see roam/table.h for the contract).
 *
 * Timer wheel.  wheel_now is the wheel's time: every entry due before it has been expired.
 * An armed entry with (effective) expiry e >= wheel_now lives at level L = index of the highest
 * bit where e and wheel_now differ, divided by 6 (level 0 when they are equal), in slot
 * (e >> 6L) & 63.  Hence every entry of level L agrees with wheel_now above bit 6(L+1), and its
 * slot is greater than wheel_now's 6-bit field at L (greater or equal at level 0).  The first
 * non-empty level's lowest slot is therefore the next event: at level 0 the exact expiry of its
 * entries, above it the moment the wheel reaches that slot and must cascade its entries down to
 * lower levels (each entry descends at least one level per cascade).  Moving wheel_now forward
 * to any time before that event keeps every entry's position valid, so table_expire jumps over
 * empty stretches in O(levels) using one occupancy bitmap per level. */
#include "roam/table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define INITIAL_BUCKETS 16
#define REHASH_STEPS    4   /* old buckets moved per operation while rehashing */
#define WMASK           (TABLE_WHEEL_SLOTS - 1)

/* ---- SipHash-2-4 ------------------------------------------------------------------------- */

static inline uint64_t
rotl64(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

static inline uint64_t
load_le64(const uint8_t *p)
{
	return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
	       (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 |
	       (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
}

#define SIPROUND                                                                         \
	do {                                                                             \
		v0 += v1; v1 = rotl64(v1, 13); v1 ^= v0; v0 = rotl64(v0, 32);            \
		v2 += v3; v3 = rotl64(v3, 16); v3 ^= v2;                                 \
		v0 += v3; v3 = rotl64(v3, 21); v3 ^= v0;                                 \
		v2 += v1; v1 = rotl64(v1, 17); v1 ^= v2; v2 = rotl64(v2, 32);            \
	} while (0)

static uint64_t
siphash_k(uint64_t k0, uint64_t k1, const uint8_t *in, size_t len)
{
	uint64_t v0 = k0 ^ 0x736f6d6570736575ULL;
	uint64_t v1 = k1 ^ 0x646f72616e646f6dULL;
	uint64_t v2 = k0 ^ 0x6c7967656e657261ULL;
	uint64_t v3 = k1 ^ 0x7465646279746573ULL;
	const uint8_t *end = in + (len - len % 8);
	uint64_t m, b = (uint64_t)len << 56;

	for (; in != end; in += 8) {
		m = load_le64(in);
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	switch (len & 7) {
	case 7: b |= (uint64_t)in[6] << 48; /* fall through */
	case 6: b |= (uint64_t)in[5] << 40; /* fall through */
	case 5: b |= (uint64_t)in[4] << 32; /* fall through */
	case 4: b |= (uint64_t)in[3] << 24; /* fall through */
	case 3: b |= (uint64_t)in[2] << 16; /* fall through */
	case 2: b |= (uint64_t)in[1] << 8;  /* fall through */
	case 1: b |= (uint64_t)in[0]; break;
	default: break;
	}
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

uint64_t
table_siphash(const uint8_t key[16], const void *data, size_t len)
{
	static const uint8_t empty[1];

	return siphash_k(load_le64(key), load_le64(key + 8), data != NULL ? data : empty,
	                 data != NULL ? len : 0);
}

static uint32_t
key_hash(const struct table *t, const void *key, size_t keylen)
{
	static const uint8_t empty[1];

	return (uint32_t)siphash_k(t->seed[0], t->seed[1], keylen > 0 ? key : empty, keylen);
}

/* ---- init / destroy ---------------------------------------------------------------------- */

int
table_init_seed(struct table *t, table_expire_cb expire_cb, table_free_cb free_cb, void *arg,
                const uint8_t seed[16])
{
	uint8_t rnd[16];

	memset(t, 0, sizeof(*t));
	if (seed == NULL) {
		size_t got = 0;
		while (got < sizeof(rnd)) {
			ssize_t n = getrandom(rnd + got, sizeof(rnd) - got, 0);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				return -EIO;
			}
			got += (size_t)n;
		}
		seed = rnd;
	}
	t->seed[0] = load_le64(seed);
	t->seed[1] = load_le64(seed + 8);
	t->buckets = calloc(INITIAL_BUCKETS, sizeof(*t->buckets));
	if (t->buckets == NULL) {
		memset(t, 0, sizeof(*t));
		return -ENOMEM;
	}
	t->nbuckets = INITIAL_BUCKETS;
	t->expire_cb = expire_cb;
	t->free_cb = free_cb;
	t->arg = arg;
	return 0;
}

int
table_init(struct table *t, table_expire_cb expire_cb, table_free_cb free_cb, void *arg)
{
	return table_init_seed(t, expire_cb, free_cb, arg, NULL);
}

static void wheel_unlink(struct table *t, struct table_node *n);

static void
destroy_chain(struct table *t, struct table_node *n)
{
	while (n != NULL) {
		struct table_node *next = n->hnext;
		wheel_unlink(t, n);
		n->hnext = NULL;
		n->linked = 0;
		n->expires = 0;
		if (t->free_cb != NULL)
			t->free_cb(t, n, t->arg);
		n = next;
	}
}

void
table_destroy(struct table *t)
{
	if (t == NULL)
		return;
	if (t->old != NULL)
		for (size_t i = t->rehash_idx; i < t->nold; i++)
			destroy_chain(t, t->old[i]);
	if (t->buckets != NULL)
		for (size_t i = 0; i < t->nbuckets; i++)
			destroy_chain(t, t->buckets[i]);
	free(t->old);
	free(t->buckets);
	memset(t, 0, sizeof(*t));
}

/* ---- hashing and rehash ------------------------------------------------------------------ */

/* The chain head where a node with this hash lives (or is to be inserted). */
static struct table_node **
chain_for(struct table *t, uint32_t hash)
{
	if (t->old != NULL) {
		size_t i = hash & (t->nold - 1);
		if (i >= t->rehash_idx)
			return &t->old[i];
	}
	return &t->buckets[hash & (t->nbuckets - 1)];
}

static void
rehash_step(struct table *t, size_t steps)
{
	if (t->old == NULL || t->walking > 0)
		return;
	while (steps-- > 0 && t->rehash_idx < t->nold) {
		struct table_node *n = t->old[t->rehash_idx];
		t->old[t->rehash_idx++] = NULL;
		while (n != NULL) {
			struct table_node *next = n->hnext;
			struct table_node **head = &t->buckets[n->hash & (t->nbuckets - 1)];
			n->hnext = *head;
			*head = n;
			n = next;
		}
	}
	if (t->rehash_idx >= t->nold) {
		free(t->old);
		t->old = NULL;
		t->nold = 0;
		t->rehash_idx = 0;
	}
}

/* Starts doubling the bucket array when the load factor exceeds 1. */
static void
maybe_grow(struct table *t)
{
	if (t->walking > 0 || t->count < t->nbuckets)
		return;
	if (t->old != NULL)
		rehash_step(t, t->nold); /* finish the previous growth first (rare) */
	if (t->nbuckets > SIZE_MAX / 2 / sizeof(*t->buckets))
		return;
	struct table_node **nb = calloc(t->nbuckets * 2, sizeof(*nb));
	if (nb == NULL) {
		t->grow_fail++; /* keep going at a higher load factor; retried on later inserts */
		return;
	}
	t->old = t->buckets;
	t->nold = t->nbuckets;
	t->rehash_idx = 0;
	t->buckets = nb;
	t->nbuckets *= 2;
	rehash_step(t, REHASH_STEPS);
}

static struct table_node *
chain_find(struct table_node *n, uint32_t hash, const void *key, size_t keylen)
{
	for (; n != NULL; n = n->hnext)
		if (n->hash == hash && n->keylen == keylen &&
		    (keylen == 0 || memcmp(n->key, key, keylen) == 0))
			return n;
	return NULL;
}

/* ---- public hash operations -------------------------------------------------------------- */

int
table_insert(struct table *t, struct table_node *n, const void *key, size_t keylen)
{
	static const uint8_t empty[1];

	if (t == NULL || n == NULL || t->buckets == NULL || keylen > TABLE_KEY_MAX ||
	    (key == NULL && keylen > 0))
		return -EINVAL;
	if (n->linked)
		return -EINVAL;
	if (key == NULL)
		key = empty;
	rehash_step(t, REHASH_STEPS);
	uint32_t h = key_hash(t, key, keylen);
	struct table_node **head = chain_for(t, h);
	if (chain_find(*head, h, key, keylen) != NULL)
		return -EEXIST;
	memset(n, 0, sizeof(*n));
	n->key = key;
	n->keylen = (uint8_t)keylen;
	n->hash = h;
	n->linked = 1;
	n->hnext = *head;
	*head = n;
	t->count++;
	maybe_grow(t);
	return 0;
}

struct table_node *
table_lookup(struct table *t, const void *key, size_t keylen)
{
	static const uint8_t empty[1];

	if (t == NULL || t->buckets == NULL || keylen > TABLE_KEY_MAX ||
	    (key == NULL && keylen > 0))
		return NULL;
	if (key == NULL)
		key = empty;
	rehash_step(t, REHASH_STEPS);
	uint32_t h = key_hash(t, key, keylen);
	return chain_find(*chain_for(t, h), h, key, keylen);
}

/* Unlinks n from its hash chain; 0, or -ENOENT if it is not there. */
static int
hash_unlink(struct table *t, struct table_node *n)
{
	struct table_node **pp = chain_for(t, n->hash);

	for (; *pp != NULL; pp = &(*pp)->hnext) {
		if (*pp == n) {
			*pp = n->hnext;
			n->hnext = NULL;
			t->count--;
			return 0;
		}
	}
	return -ENOENT;
}

void
table_remove(struct table *t, struct table_node *n)
{
	if (t == NULL || n == NULL || !n->linked)
		return;
	rehash_step(t, REHASH_STEPS);
	wheel_unlink(t, n);
	n->expires = 0;
	if (hash_unlink(t, n) == 0)
		n->linked = 0;
}

int
table_node_linked(const struct table_node *n)
{
	return n != NULL && n->linked;
}

size_t
table_count(const struct table *t)
{
	return t->count;
}

size_t
table_memory(const struct table *t)
{
	return (t->nbuckets + t->nold) * sizeof(struct table_node *);
}

/* ---- timer wheel ------------------------------------------------------------------------- */

static void
wheel_unlink(struct table *t, struct table_node *n)
{
	if (n->tpprev == NULL)
		return;
	*n->tpprev = n->tnext;
	if (n->tnext != NULL)
		n->tnext->tpprev = n->tpprev;
	if (t->wheel[n->level][n->slot] == NULL)
		t->bitmap[n->level] &= ~(1ULL << n->slot);
	n->tnext = NULL;
	n->tpprev = NULL;
	t->armed--;
}

static void
wheel_place(struct table *t, struct table_node *n)
{
	uint64_t e = n->expires < t->wheel_now ? t->wheel_now : n->expires;
	uint64_t x = e ^ t->wheel_now;
	unsigned level = x == 0 ? 0 : (unsigned)(63 - __builtin_clzll(x)) / TABLE_WHEEL_BITS;
	unsigned slot = (unsigned)(e >> (TABLE_WHEEL_BITS * level)) & WMASK;
	struct table_node **head = &t->wheel[level][slot];

	n->level = (uint8_t)level;
	n->slot = (uint8_t)slot;
	n->tnext = *head;
	if (*head != NULL)
		(*head)->tpprev = &n->tnext;
	n->tpprev = head;
	*head = n;
	t->bitmap[level] |= 1ULL << slot;
	t->armed++;
}

int
table_set_expiry(struct table *t, struct table_node *n, uint64_t expires_ms)
{
	if (t == NULL || n == NULL || !n->linked)
		return -EINVAL;
	wheel_unlink(t, n);
	n->expires = expires_ms;
	if (expires_ms != 0)
		wheel_place(t, n);
	return 0;
}

uint64_t
table_node_expiry(const struct table_node *n)
{
	return n->expires;
}

/* The next wheel event: first non-empty level and its lowest slot, and the time of that slot
 * relative to wheel_now.  Returns 0 and fills *when, *level, *slot, or -1 when the wheel is
 * empty. */
static int
wheel_next(const struct table *t, uint64_t *when, unsigned *level, unsigned *slot)
{
	for (unsigned l = 0; l < TABLE_WHEEL_LEVELS; l++) {
		if (t->bitmap[l] == 0)
			continue;
		unsigned s = (unsigned)__builtin_ctzll(t->bitmap[l]);
		unsigned shift = TABLE_WHEEL_BITS * l;
		unsigned upper = shift + TABLE_WHEEL_BITS; /* bits above the level's field */
		uint64_t prefix = upper >= 64 ? 0 : t->wheel_now & ~((1ULL << upper) - 1);
		*when = prefix | ((uint64_t)s << shift);
		*level = l;
		*slot = s;
		return 0;
	}
	return -1;
}

size_t
table_expire(struct table *t, uint64_t now_ms)
{
	size_t expired = 0;
	uint64_t when;
	unsigned level, slot;

	if (t == NULL)
		return 0;
	if (now_ms < t->wheel_now)
		now_ms = t->wheel_now;
	while (wheel_next(t, &when, &level, &slot) == 0) {
		if (when > now_ms)
			break;
		t->wheel_now = when;
		if (level == 0) {
			/* Every entry of this slot expires exactly now.  Take them one at a time
			 * from the live list: the callback may remove or add other entries. */
			struct table_node *n;
			while ((n = t->wheel[0][slot]) != NULL) {
				wheel_unlink(t, n);
				n->expires = 0;
				if (hash_unlink(t, n) == 0)
					n->linked = 0;
				expired++;
				if (t->expire_cb != NULL)
					t->expire_cb(t, n, t->arg);
			}
		} else {
			/* Cascade: re-place every entry of the slot relative to the new time; each
			 * lands on a lower level. */
			struct table_node *n = t->wheel[level][slot];
			t->wheel[level][slot] = NULL;
			t->bitmap[level] &= ~(1ULL << slot);
			while (n != NULL) {
				struct table_node *next = n->tnext;
				t->armed--;
				n->tpprev = NULL;
				n->tnext = NULL;
				wheel_place(t, n);
				n = next;
			}
		}
	}
	t->wheel_now = now_ms;
	return expired;
}

uint64_t
table_next_expiry(const struct table *t)
{
	uint64_t when;
	unsigned level, slot;

	if (t == NULL || wheel_next(t, &when, &level, &slot) < 0)
		return TABLE_NEVER;
	return when;
}

/* ---- iteration --------------------------------------------------------------------------- */

static int
walk_chain(struct table_node *n, table_walk_cb cb, void *arg)
{
	while (n != NULL) {
		struct table_node *next = n->hnext;
		int rc = cb(n, arg);
		if (rc != 0)
			return rc;
		n = next;
	}
	return 0;
}

int
table_foreach(struct table *t, table_walk_cb cb, void *arg)
{
	int rc = 0;

	if (t == NULL || cb == NULL || t->buckets == NULL)
		return 0;
	t->walking++;
	if (t->old != NULL)
		for (size_t i = t->rehash_idx; i < t->nold && rc == 0; i++)
			rc = walk_chain(t->old[i], cb, arg);
	for (size_t i = 0; i < t->nbuckets && rc == 0; i++)
		rc = walk_chain(t->buckets[i], cb, arg);
	t->walking--;
	return rc;
}
