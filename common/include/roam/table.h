/* Soft-state table: a hash table keyed by bytes with per-entry expiry driven by a hierarchical
 * timer wheel.  Used for HLR mappings, MIP bindings, routing caches, handoff tables and the SIP
 * location service (designed for 1,000,000 entries and more).
 *
 * Intrusive: the caller's entry struct embeds a struct table_node and owns all memory; the
 * table never allocates or frees entries (only its bucket arrays).  Get the entry back with
 * table_entry(node, struct my_entry, node_field).
 *
 * Keys: 0..255 bytes stored BY THE CALLER, normally inside its entry (an address, an IMSI...);
 * the node keeps a pointer to them.  The key bytes must stay valid and unchanged while the node
 * is in the table: to change an entry's key, remove it, change the key, insert it again.
 *
 * Hashing: SipHash-2-4 keyed with a random 128-bit seed per table (getrandom), so peers that
 * choose keys cannot force collisions.  The bucket array doubles when the load factor exceeds
 * 1, with incremental rehash (each insert/lookup/remove moves a few buckets), so every operation
 * is O(1) amortised and no single call pauses for a full rehash.  A failed allocation while
 * growing is not an error: the table keeps working at a higher load factor and retries later.
 *
 * Expiry: a hierarchical timer wheel, millisecond resolution, 11 levels of 64 slots covering
 * the whole 64-bit range.  table_set_expiry / cancel are O(1); table_expire costs O(entries
 * expiring + entries cascading + levels), with empty slots skipped through per-level bitmaps;
 * each entry cascades at most once per level.  Times are absolute milliseconds on whatever
 * clock the caller uses (roam_mono_ms / uv_now in daemons, a fake clock in tests): the table
 * never reads a clock itself.
 *
 * Memory: sizeof(struct table_node) (48 bytes on LP64) inside each entry, plus 8 bytes per
 * bucket: between 8 and 16 bytes per entry (8.4 at 1,000,000 entries; 24 briefly during a
 * rehash), and ~5.8 KiB per table for the wheel (sizeof(struct table)).
 *
 * Not thread-safe; one table belongs to one event loop. */
#ifndef ROAM_TABLE_H
#define ROAM_TABLE_H
#include <stddef.h>
#include <stdint.h>

#define TABLE_KEY_MAX     255
#define TABLE_WHEEL_BITS  6
#define TABLE_WHEEL_SLOTS (1u << TABLE_WHEEL_BITS)
#define TABLE_WHEEL_LEVELS 11 /* 11 * 6 bits >= 64 bits of milliseconds */
#define TABLE_NEVER       UINT64_MAX /* table_next_expiry when nothing is scheduled */

/* Embedded in the caller's entry.  Fields are private to the table.  Before the first
 * table_insert the node must be zeroed (calloc'ed entry, or memset): `linked` is checked. */
struct table_node {
	struct table_node *hnext;              /* hash chain */
	const uint8_t *key;                    /* caller's key bytes (borrowed) */
	struct table_node *tnext, **tpprev;    /* timer slot list; tpprev NULL when not armed */
	uint64_t expires;                      /* absolute ms, 0 = never */
	uint32_t hash;                         /* low 32 bits of the SipHash */
	uint8_t keylen;
	uint8_t level, slot;                   /* wheel position when armed */
	uint8_t linked;                        /* in a table */
};

#define table_entry(nodeptr, type, member) \
	((type *)(void *)((char *)(nodeptr) - offsetof(type, member)))

struct table;
/* Called by table_expire for an entry whose time has come.  The node is already removed from
 * the table (hash and wheel) when the callback runs, so the callback owns the entry: it may free
 * it, re-insert it (with a new expiry), or insert/remove other entries.  An entry (re)armed by
 * the callback for a time <= now expires again within the same table_expire call. */
typedef void (*table_expire_cb)(struct table *t, struct table_node *n, void *arg);
/* Called by table_destroy for each entry still in the table (already unlinked): free it. */
typedef void (*table_free_cb)(struct table *t, struct table_node *n, void *arg);
/* table_foreach callback: return non-zero to stop (that value is returned by table_foreach). */
typedef int (*table_walk_cb)(struct table_node *n, void *arg);

/* The table itself, embedded in the daemon's state; fields are private. */
struct table {
	struct table_node **buckets;   /* current array (new one while rehashing) */
	struct table_node **old;       /* array being drained, or NULL */
	size_t nbuckets, nold;         /* powers of two */
	size_t rehash_idx;             /* next old bucket to move */
	size_t count;
	uint64_t seed[2];              /* SipHash key */
	uint64_t wheel_now;            /* everything before this has been expired */
	size_t armed;                  /* entries with an expiry */
	uint64_t bitmap[TABLE_WHEEL_LEVELS];
	struct table_node *wheel[TABLE_WHEEL_LEVELS][TABLE_WHEEL_SLOTS];
	table_expire_cb expire_cb;
	table_free_cb free_cb;
	void *arg;
	unsigned walking;              /* table_foreach depth: no rehash steps while > 0 */
	unsigned grow_fail;            /* failed growth attempts (diagnostics) */
};

/* Initialises t (empty, random seed).  expire_cb may be NULL only if no entry is ever given an
 * expiry; free_cb may be NULL (table_destroy then just unlinks).  arg is passed to both.
 * Errors: -ENOMEM (initial buckets), -EIO (no randomness). */
int table_init(struct table *t, table_expire_cb expire_cb, table_free_cb free_cb, void *arg);
/* As table_init with a fixed SipHash seed (tests, reproducible dumps).  seed NULL = random. */
int table_init_seed(struct table *t, table_expire_cb expire_cb, table_free_cb free_cb, void *arg,
                    const uint8_t seed[16]);
/* Removes every entry (calling free_cb for each, if set) and frees the bucket arrays.  t can be
 * table_init'ed again afterwards.  Safe on a table whose table_init failed or was destroyed. */
void table_destroy(struct table *t);

/* Links n (zeroed, or removed/expired from a table) under key[keylen] (borrowed, see above);
 * no expiry.  O(1) amortised.
 * -EEXIST: an entry with the same key is present (n is not linked);
 * -EINVAL: keylen > TABLE_KEY_MAX, key NULL with keylen > 0, or n already in a table. */
int table_insert(struct table *t, struct table_node *n, const void *key, size_t keylen);
/* The entry with that key, or NULL.  O(1). */
struct table_node *table_lookup(struct table *t, const void *key, size_t keylen);
/* Unlinks n (hash and wheel).  n must be in t; removing a node that is not linked is a no-op.
 * The caller frees the entry afterwards if it wants to.  O(1). */
void table_remove(struct table *t, struct table_node *n);
/* 1 when n is currently in a table. */
int table_node_linked(const struct table_node *n);

/* Schedules n (which must be in t) to expire at expires_ms (absolute, caller's clock);
 * 0 cancels.  Re-setting replaces the previous time.  A time at or before the last table_expire
 * `now` expires at the next table_expire call.  O(1).  -EINVAL if n is not linked. */
int table_set_expiry(struct table *t, struct table_node *n, uint64_t expires_ms);
/* The expiry set on n, 0 if none. */
uint64_t table_node_expiry(const struct table_node *n);
/* Expires, in time order, every entry with expiry <= now_ms: each is unlinked, then handed to
 * expire_cb.  Returns the number of entries expired.  A `now` earlier than a previous one is
 * treated as that previous one. */
size_t table_expire(struct table *t, uint64_t now_ms);
/* When table_expire next has work: TABLE_NEVER if no entry has an expiry.  The value is never
 * later than the earliest expiry; it is exact when that entry is within 64 ms of the wheel's
 * time, otherwise it may be the earlier moment when the wheel must cascade that entry down (a
 * timer armed for it and re-armed after table_expire converges in at most one wake-up per
 * level).  Arm a timer for max(0, value - now). */
uint64_t table_next_expiry(const struct table *t);

size_t table_count(const struct table *t);
/* Bytes the table itself allocated (bucket arrays), excluding the struct and the entries. */
size_t table_memory(const struct table *t);

/* Calls cb for every entry (unspecified order) until cb returns non-zero (returned) or all were
 * visited (0).  cb may remove the CURRENT node (and free it) and may change expiries; it must
 * not remove other nodes.  Entries inserted by cb may or may not be visited; no entry is visited
 * twice.  table_expire must not be called from cb. */
int table_foreach(struct table *t, table_walk_cb cb, void *arg);

/* SipHash-2-4 (Aumasson & Bernstein) of data under a 128-bit key, as used by the table. */
uint64_t table_siphash(const uint8_t key[16], const void *data, size_t len);

#endif
