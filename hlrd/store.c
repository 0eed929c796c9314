/* The mapping table: permanent address -> care-of address, soft state on roam/table.h (each
 * entry expires unless refreshed, seed 001 [56]) and saved with roam/snapshot.h so mappings
 * survive a restart with their remaining lifetime. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hlrd.h"
#include "roam/clock.h"
#include "roam/snapshot_store.h"

static void entry_expired(struct table *t, struct table_node *n, void *arg)
{
	(void)t;
	struct hlrd *h = arg;
	struct hlrd_entry *e = table_entry(n, struct hlrd_entry, node);
	char pb[ROAM_ADDRSTRLEN];
	log_debug("mapping of %s expired", roam_ipaddr_fmt(&e->perm, pb, sizeof(pb)));
	h->stats.mappings_expired++;
	free(e);
}

static void entry_free(struct table *t, struct table_node *n, void *arg)
{
	(void)t;
	(void)arg;
	free(table_entry(n, struct hlrd_entry, node));
}

static void expiry_timer_cb(uv_timer_t *t)
{
	struct hlrd *h = t->data;
	hlrd_store_expire(h, uv_now(h->loop));
}

int hlrd_store_init(struct hlrd *h)
{
	int r = table_init(&h->table, entry_expired, entry_free, h);
	if (r < 0)
		return r;
	/* Start the wheel at the current time rather than 0, so the first real expiry pass does
	 * not have to walk the wheel forward from the epoch of the monotonic clock. */
	table_expire(&h->table, roam_mono_ms());
	if (h->loop) {
		uv_timer_init(h->loop, &h->expiry_timer);
		h->expiry_timer.data = h;
	}
	return 0;
}

void hlrd_store_destroy(struct hlrd *h)
{
	if (h->loop && !uv_is_closing((uv_handle_t *)&h->expiry_timer)) {
		uv_timer_stop(&h->expiry_timer);
		uv_close((uv_handle_t *)&h->expiry_timer, NULL);
	}
	table_destroy(&h->table);
}

static void rearm(struct hlrd *h, uint64_t now)
{
	if (!h->loop || uv_is_closing((uv_handle_t *)&h->expiry_timer))
		return;
	uint64_t next = table_next_expiry(&h->table);
	if (next == TABLE_NEVER) {
		uv_timer_stop(&h->expiry_timer);
		return;
	}
	uv_timer_start(&h->expiry_timer, expiry_timer_cb, next > now ? next - now : 0, 0);
}

void hlrd_store_expire(struct hlrd *h, uint64_t now)
{
	table_expire(&h->table, now);
	rearm(h, now);
}

struct hlrd_entry *hlrd_store_lookup(struct hlrd *h, const struct roam_ipaddr *perm)
{
	uint8_t key[ROAM_IPADDR_KEYLEN];
	roam_ipaddr_key(perm, key);
	struct table_node *n = table_lookup(&h->table, key, sizeof(key));
	return n ? table_entry(n, struct hlrd_entry, node) : NULL;
}

uint32_t hlrd_entry_remaining(const struct hlrd_entry *e, uint64_t now)
{
	if (e->expires <= now)
		return 0;
	uint64_t s = (e->expires - now) / 1000;
	return s == 0 ? 1 : (uint32_t)s;
}

int hlrd_store_set(struct hlrd *h, const struct roam_ipaddr *perm, const struct roam_ipaddr *coa,
		   uint32_t granted, uint32_t key_id, uint64_t now, int *created)
{
	struct hlrd_entry *e = hlrd_store_lookup(h, perm);
	*created = 0;
	if (!e) {
		if (table_count(&h->table) >= h->conf.max_entries)
			return -ENOSPC;
		e = calloc(1, sizeof(*e));
		if (!e)
			return -ENOMEM;
		e->perm = *perm;
		roam_ipaddr_key(perm, e->tkey);
		int r = table_insert(&h->table, &e->node, e->tkey, sizeof(e->tkey));
		if (r < 0) {
			free(e);
			return r;
		}
		*created = 1;
	}
	e->coa = *coa;
	e->key_id = key_id;
	e->granted = granted;
	e->expires = now + (uint64_t)granted * 1000;
	e->updated_wall = roam_wall_ms();
	table_set_expiry(&h->table, &e->node, e->expires);
	rearm(h, now);
	return 0;
}

int hlrd_store_delete(struct hlrd *h, const struct roam_ipaddr *perm)
{
	struct hlrd_entry *e = hlrd_store_lookup(h, perm);
	if (!e)
		return 0;
	table_remove(&h->table, &e->node);
	free(e);
	return 1;
}

static int flush_one(struct table_node *n, void *arg)
{
	struct hlrd *h = arg;
	table_remove(&h->table, n);
	free(table_entry(n, struct hlrd_entry, node));
	return 0;
}

size_t hlrd_store_flush(struct hlrd *h)
{
	size_t n = table_count(&h->table);
	table_foreach(&h->table, flush_one, h);
	return n;
}

struct cap_ctx {
	struct hlrd *h;
	uint64_t limit;
};

static int cap_one(struct table_node *n, void *arg)
{
	struct cap_ctx *c = arg;
	struct hlrd_entry *e = table_entry(n, struct hlrd_entry, node);
	if (e->expires > c->limit) {
		e->expires = c->limit;
		table_set_expiry(&c->h->table, n, e->expires);
	}
	return 0;
}

void hlrd_store_cap(struct hlrd *h, uint32_t max_s, uint64_t now)
{
	struct cap_ctx c = { h, now + (uint64_t)max_s * 1000 };
	table_foreach(&h->table, cap_one, &c);
	rearm(h, now);
}

/* ---- snapshots: record HLRD_SNAP_MAPPING =
 *   perm: u8 family (4|6) + 16 bytes, coa: likewise, key_id u32, granted u32,
 *   expires u64 (wall-clock ms), updated u64 (wall-clock ms) ---- */

struct save_ctx {
	struct snap_writer *w;
	int err;
};

static int save_one(struct table_node *n, void *arg)
{
	struct save_ctx *c = arg;
	const struct hlrd_entry *e = table_entry(n, struct hlrd_entry, node);
	uint8_t buf[64];
	struct wbuf w;
	wbuf_init_fixed(&w, buf, sizeof(buf));
	snap_put_addr(&w, &e->perm);
	snap_put_addr(&w, &e->coa);
	wbuf_put_u32(&w, e->key_id);
	wbuf_put_u32(&w, e->granted);
	wbuf_put_u64(&w, roam_mono_to_wall(e->expires));
	wbuf_put_u64(&w, e->updated_wall);
	int r = snap_put_wbuf(c->w, HLRD_SNAP_MAPPING, &w);
	if (r < 0) {
		c->err = r;
		return 1;
	}
	return 0;
}

static int save_all(struct snap_writer *w, void *arg)
{
	struct hlrd *h = arg;
	struct save_ctx c = { w, 0 };
	table_foreach(&h->table, save_one, &c);
	return c.err;
}

int hlrd_store_save(void *arg)
{
	struct hlrd *h = arg;
	return snap_save_file(h->conf.snapshot, HLRD_SNAP_KIND, save_all, h,
			      &h->stats.snapshot_saves, &h->stats.snapshot_failures);
}

static int load_one(void *arg, uint16_t type, struct rbuf *body)
{
	struct hlrd *h = arg;
	struct roam_ipaddr perm, coa;
	uint32_t key_id, granted;
	uint64_t expires_wall, updated;
	if (type != HLRD_SNAP_MAPPING) {
		h->stats.snapshot_skipped++;
		return 0;
	}
	if (snap_get_addr(body, &perm) < 0 || snap_get_addr(body, &coa) < 0 ||
	    rbuf_get_u32(body, &key_id) < 0 || rbuf_get_u32(body, &granted) < 0 ||
	    rbuf_get_u64(body, &expires_wall) < 0 || rbuf_get_u64(body, &updated) < 0 ||
	    rbuf_left(body) != 0) {
		h->stats.snapshot_skipped++;
		return 0;
	}
	uint64_t wall = roam_wall_ms();
	if (expires_wall <= wall) {
		h->stats.snapshot_skipped++; /* expired while we were down */
		return 0;
	}
	uint64_t now = roam_mono_ms();
	/* The remaining lifetime is kept, but never more than the (possibly new) cap. */
	uint64_t left = expires_wall - wall;
	uint64_t cap = (uint64_t)h->conf.max_lifetime;
	if (left > cap)
		left = cap;
	int created;
	if (hlrd_store_set(h, &perm, &coa, granted, key_id, now, &created) < 0) {
		h->stats.snapshot_skipped++;
		return 0;
	}
	struct hlrd_entry *e = hlrd_store_lookup(h, &perm);
	e->expires = now + left;
	e->updated_wall = updated;
	table_set_expiry(&h->table, &e->node, e->expires);
	h->stats.snapshot_loaded++;
	return 0;
}

int hlrd_store_load(struct hlrd *h)
{
	/* A corrupt state file must not keep the register down: start empty (logged). */
	if (snap_load_file(h->conf.snapshot, HLRD_SNAP_KIND, load_one, h, "mappings",
			   &h->stats.snapshot_loaded, &h->stats.snapshot_skipped) > 0)
		rearm(h, roam_mono_ms());
	return 0;
}

int hlrd_store_snap_start(struct hlrd *h)
{
	return snap_timer_configure(&h->snap, h->loop, h->conf.snapshot, h->conf.snapshot_interval,
				    hlrd_store_save, h);
}
