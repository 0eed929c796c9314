/* Mobility binding cache with a per-path FIFO, shared by the Mobile IPv4 agents (had, fad in
 * FA and GFA role, cnd) and, later, the IPv6 / HMIPv6 ones (docs/protocols/mipv4.md 7).
 *
 * - struct bfifo: a bounded FIFO of outgoing items towards one care-of address, data packets
 *   and control messages interleaved in arrival order, so a control message queued behind
 *   data (the synchronized handoff's deregistration reply) leaves after that data.  Data is
 *   refused when the FIFO is full; control items may exceed the bound by BFIFO_CTRL_RESERVE
 *   so that the marker message of a handoff is never lost to a full queue.
 * - struct binding_cache: bindings keyed by home address (roam_ipaddr) on roam/table.h, each
 *   expiring with its lifetime.  A binding has a current path (care-of address + FIFO) and,
 *   during a synchronized handoff, the old path still draining behind it.
 *
 * Pure data structures: no sockets, no clock reads (`now` is passed in, milliseconds on the
 * caller's clock), no logging; binding_json / binding_path_json render them for the control
 * commands.  Not thread-safe.  Errors: 0 or a negative errno-style code. */
#ifndef ROAM_BINDING_H
#define ROAM_BINDING_H
#include <stddef.h>
#include <stdint.h>

#include "roam/addr.h"
#include "roam/table.h"

/* ---- FIFO ------------------------------------------------------------------------------ */

enum bfifo_kind {
	BFIFO_DATA = 0, /* a data packet (already encapsulated or to be) */
	BFIFO_CTRL = 1, /* a control message (registration / deregistration reply, BAck ...) */
};

#define BFIFO_CTRL_RESERVE 4      /* control items allowed beyond max_items */
#define BFIFO_ITEM_MAX     65535  /* bytes of one item */

/* One queued item; allocated by bfifo_push (copy of the caller's bytes). */
struct bfifo_item {
	struct bfifo_item *next;
	uint64_t enq_ms;     /* when it was queued */
	uint16_t len;
	uint8_t kind;        /* enum bfifo_kind */
	uint8_t data[];
};

struct bfifo_stats {
	uint64_t enq, deq;           /* items queued / handed out (pop or drain) */
	uint64_t enq_ctrl, deq_ctrl; /* of which control */
	uint64_t drop_full;          /* data refused: queue full */
	uint64_t flushed;            /* items discarded by bfifo_flush */
	uint64_t moved_in, moved_out;/* items moved between FIFOs (handoff forwarding) */
};

struct bfifo {
	struct bfifo_item *head, *tail;
	size_t count, bytes;
	size_t max_items, max_bytes; /* bounds for data; 0 = unbounded */
	struct bfifo_stats st;
};

/* An empty FIFO bounded to max_items / max_bytes (0: no bound on that measure). */
void bfifo_init(struct bfifo *f, size_t max_items, size_t max_bytes);
/* Copies len bytes (1..BFIFO_ITEM_MAX) in at the tail.  -EINVAL: bad len/kind;
 * -ENOBUFS: full (data over the bound, control over bound + reserve), counted in drop_full
 * for data; -ENOMEM. */
int bfifo_push(struct bfifo *f, enum bfifo_kind kind, const void *data, size_t len,
               uint64_t now);
/* Unlinks and returns the head item (owned by the caller: free() it), NULL when empty. */
struct bfifo_item *bfifo_pop(struct bfifo *f);
/* The head item without unlinking it, NULL when empty. */
const struct bfifo_item *bfifo_peek(const struct bfifo *f);

/* Drain callback: transmit the item (borrowed for the call).  Return 0 when it was sent (it
 * is then freed), -EAGAIN to stop draining with the item left at the head (socket full,
 * pacing), any other negative value to drop it (counted as dequeued) and go on. */
typedef int (*bfifo_send_cb)(const struct bfifo_item *it, void *arg);
/* Hands up to max items (0: all) to cb in order.  Returns the number dequeued. */
size_t bfifo_drain(struct bfifo *f, bfifo_send_cb cb, void *arg, size_t max);
/* Frees every item (counted in flushed); returns how many. */
size_t bfifo_flush(struct bfifo *f);
/* Moves every item of src to the tail of dst, in order, whatever dst's bound (forwarding an
 * old path's backlog to the new path, seed Phase II/III).  Returns the number moved. */
size_t bfifo_move(struct bfifo *dst, struct bfifo *src);
/* 1 when the FIFO holds a control item. */
int bfifo_has_ctrl(const struct bfifo *f);
static inline size_t bfifo_count(const struct bfifo *f) { return f->count; }

/* ---- binding cache ------------------------------------------------------------------------ */

/* What happens to the old path's FIFO when a binding moves to a new care-of address. */
enum binding_move_mode {
	BINDING_MOVE_SYNC = 0, /* keep the old path draining (synchronized handoff) */
	BINDING_MOVE_FORWARD,  /* move the old backlog to the new path, ahead of new traffic */
	BINDING_MOVE_FLUSH,    /* drop the old backlog (plain RFC 5944) */
};

struct binding_path {
	struct roam_ipaddr coa;  /* family 0: no path */
	struct bfifo fifo;
	uint64_t since_ms;
};

struct binding {
	struct table_node node;
	uint8_t key[ROAM_IPADDR_KEYLEN];
	struct roam_ipaddr home;
	struct binding_path cur;  /* where new traffic goes */
	struct binding_path old;  /* the previous path, draining (SYNC mode), or family 0 */
	uint16_t lifetime_s;
	uint64_t created_ms, expires_ms;
	uint64_t last_id;         /* protocol's replay state (e.g. MIPv4 Identification) */
	uint32_t flags;           /* protocol's flags (e.g. MIP4_REQ_*) */
	uint32_t moves;           /* care-of address changes */
	void *user;               /* protocol / daemon data, not touched by the cache */
};

struct binding_cache_stats {
	uint64_t created, refreshed, moved, removed, expired;
};

/* Called when a binding expires (already unlinked): the callback owns it and must call
 * binding_free() (or re-insert it). */
typedef void (*binding_expire_cb)(struct binding *b, void *arg);

struct binding_cache {
	struct table t;
	size_t fifo_items, fifo_bytes; /* bounds given to each path's FIFO */
	binding_expire_cb expire_cb;
	void *arg;
	struct binding_cache_stats st;
};

/* Initialises c.  expire_cb may be NULL (expired bindings are then freed).
 * -ENOMEM / -EIO as table_init. */
int binding_cache_init(struct binding_cache *c, size_t fifo_items, size_t fifo_bytes,
                       binding_expire_cb expire_cb, void *arg);
/* Frees every binding and their queued items. */
void binding_cache_destroy(struct binding_cache *c);

/* The binding of home, or NULL. */
struct binding *binding_lookup(struct binding_cache *c, const struct roam_ipaddr *home);
/* Creates or refreshes the binding of home at coa for lifetime_s seconds (0xffff: never
 * expires; 0 is a deregistration: use binding_remove).  When the binding exists with another
 * care-of address it moves (binding_move with mode).  *out gets the binding.
 * -EINVAL: lifetime 0 or address families unset; -ENOMEM. */
int binding_update(struct binding_cache *c, const struct roam_ipaddr *home,
                   const struct roam_ipaddr *coa, uint16_t lifetime_s, uint64_t now,
                   enum binding_move_mode mode, struct binding **out);
/* Switches b to a new care-of address.  The current path becomes the old one (SYNC; a still
 * draining older path is flushed first), or its backlog is moved / flushed. */
void binding_move(struct binding_cache *c, struct binding *b, const struct roam_ipaddr *coa,
                  uint64_t now, enum binding_move_mode mode);
/* Releases the old path (its FIFO flushed).  Call when its last item (the deregistration
 * reply) has been sent, or when the handoff is abandoned. */
void binding_old_release(struct binding *b);
/* Unlinks b and frees it with its FIFOs. */
void binding_remove(struct binding_cache *c, struct binding *b);
/* Frees an unlinked binding (expire callback). */
void binding_free(struct binding *b);
/* Expires the bindings whose lifetime is over at now; returns how many. */
size_t binding_expire(struct binding_cache *c, uint64_t now);
/* Remaining lifetime of b at now in seconds (rounded down), 0xffff for infinite. */
uint16_t binding_remaining(const struct binding *b, uint64_t now);
size_t binding_count(const struct binding_cache *c);
/* Calls cb for each binding; cb may remove the current one (table_foreach rules). */
typedef int (*binding_walk_cb)(struct binding *b, void *arg);
int binding_foreach(struct binding_cache *c, binding_walk_cb cb, void *arg);

/* ---- JSON for the control commands (the "bindings" answers of had, cnd) -------------------- */

struct json_writer;

/* The members every binding has, into an open object: "home", "care_of", "remaining" (s at now),
 * "lifetime", "moves", "last_id" (16 hex digits).  The daemon adds its own after them. */
void binding_json(struct json_writer *w, const struct binding *b, uint64_t now);
/* One path as member key: {"care_of", "queued", "enq", "deq", "enq_ctrl", "drop_full"}. */
void binding_path_json(struct json_writer *w, const char *key, const struct binding_path *p);

#endif
