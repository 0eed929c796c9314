/* The binding cache (roam/binding.h) of the home agent: expiry on a libuv timer and snapshots
 * (roam/snapshot.h) so that bindings survive a restart with their remaining lifetime. */
#include <errno.h>
#include <string.h>

#include "had.h"
#include "roam/clock.h"
#include "roam/snapshot_store.h"

static void binding_expired(struct binding *b, void *arg)
{
	struct had *h = arg;
	char hb[ROAM_ADDRSTRLEN];
	log_info("binding of %s expired", roam_ipaddr_fmt(&b->home, hb, sizeof(hb)));
	h->stats.bindings_expired++;
	had_binding_gone(h, b);
	binding_free(b);
}

static void expiry_timer_cb(uv_timer_t *t)
{
	struct had *h = t->data;
	had_store_expire(h, roam_mono_ms());
}

int had_store_init(struct had *h, uint64_t now)
{
	int r = binding_cache_init(&h->bc, h->conf.fifo_items, 0, binding_expired, h);
	if (r < 0)
		return r;
	binding_expire(&h->bc, now); /* start the wheel at the current time */
	if (h->loop) {
		uv_timer_init(h->loop, &h->expiry_timer);
		h->expiry_timer.data = h;
		uv_timer_init(h->loop, &h->drain_timer);
		h->drain_timer.data = h;
	}
	return 0;
}

static int gone_one(struct binding *b, void *arg)
{
	had_binding_gone(arg, b);
	return 0;
}

void had_store_destroy(struct had *h)
{
	if (h->loop && !uv_is_closing((uv_handle_t *)&h->expiry_timer)) {
		uv_timer_stop(&h->expiry_timer);
		uv_close((uv_handle_t *)&h->expiry_timer, NULL);
		uv_timer_stop(&h->drain_timer);
		uv_close((uv_handle_t *)&h->drain_timer, NULL);
	}
	binding_foreach(&h->bc, gone_one, h); /* routes, proxy ARP entries, b->user */
	binding_cache_destroy(&h->bc);
}

void had_store_rearm(struct had *h, uint64_t now)
{
	if (!h->loop || uv_is_closing((uv_handle_t *)&h->expiry_timer))
		return;
	uint64_t next = table_next_expiry(&h->bc.t);
	if (next == TABLE_NEVER) {
		uv_timer_stop(&h->expiry_timer);
		return;
	}
	uv_timer_start(&h->expiry_timer, expiry_timer_cb, next > now ? next - now : 0, 0);
}

struct cap_ctx {
	struct had *h;
	uint64_t limit;
	uint16_t max_s;
};

static int cap_one(struct binding *b, void *arg)
{
	struct cap_ctx *c = arg;
	if (b->lifetime_s == 0xffff || b->expires_ms > c->limit) {
		if (b->lifetime_s > c->max_s)
			b->lifetime_s = c->max_s;
		b->expires_ms = c->limit;
		table_set_expiry(&c->h->bc.t, &b->node, b->expires_ms);
	}
	return 0;
}

void had_store_cap(struct had *h, uint64_t now)
{
	struct cap_ctx c = { h, now + h->conf.max_lifetime, (uint16_t)(h->conf.max_lifetime / 1000) };
	binding_foreach(&h->bc, cap_one, &c);
	had_store_rearm(h, now);
}

void had_store_expire(struct had *h, uint64_t now)
{
	binding_expire(&h->bc, now);
	had_store_rearm(h, now);
}

/* ---- snapshot record HAD_SNAP_BINDING:
 *   home: u8 family (4|6) + 16 bytes; coa: likewise; lifetime_s u16 (granted);
 *   expires u64 (wall-clock ms, 0 = never); last_id u64; flags u32; spi u32; moves u32;
 *   created u64 (wall-clock ms) ---- */

struct save_ctx {
	struct snap_writer *w;
	uint64_t now, wall;
	int err;
};

static int save_one(struct binding *b, void *arg)
{
	struct save_ctx *c = arg;
	uint8_t buf[96];
	struct wbuf w;
	wbuf_init_fixed(&w, buf, sizeof(buf));
	snap_put_addr(&w, &b->home);
	snap_put_addr(&w, &b->cur.coa);
	wbuf_put_u16(&w, b->lifetime_s);
	wbuf_put_u64(&w, b->lifetime_s == 0xffff ? 0 : c->wall + (b->expires_ms > c->now ?
								   b->expires_ms - c->now : 0));
	wbuf_put_u64(&w, b->last_id);
	wbuf_put_u32(&w, b->flags);
	wbuf_put_u32(&w, had_binding_spi(b));
	wbuf_put_u32(&w, b->moves);
	wbuf_put_u64(&w, c->wall - (c->now > b->created_ms ? c->now - b->created_ms : 0));
	int r = snap_put_wbuf(c->w, HAD_SNAP_BINDING, &w);
	if (r < 0) {
		c->err = r;
		return 1;
	}
	return 0;
}

static int save_all(struct snap_writer *w, void *arg)
{
	struct had *h = arg;
	struct save_ctx c = { w, roam_mono_ms(), roam_wall_ms(), 0 };
	binding_foreach(&h->bc, save_one, &c);
	return c.err;
}

int had_store_save(void *arg)
{
	struct had *h = arg;
	return snap_save_file(h->conf.snapshot, HAD_SNAP_KIND, save_all, h, &h->stats.snapshot_saves,
			      &h->stats.snapshot_failures);
}

struct load_ctx {
	struct had *h;
	uint64_t wall, now;
};

static int load_one(void *arg, uint16_t type, struct rbuf *body)
{
	struct load_ctx *c = arg;
	struct had *h = c->h;
	struct roam_ipaddr home, coa;
	uint16_t life;
	uint64_t expires, last_id, created;
	uint32_t flags, spi, moves;
	if (type != HAD_SNAP_BINDING || snap_get_addr(body, &home) < 0 ||
	    snap_get_addr(body, &coa) < 0 ||
	    rbuf_get_u16(body, &life) < 0 || rbuf_get_u64(body, &expires) < 0 ||
	    rbuf_get_u64(body, &last_id) < 0 || rbuf_get_u32(body, &flags) < 0 ||
	    rbuf_get_u32(body, &spi) < 0 || rbuf_get_u32(body, &moves) < 0 ||
	    rbuf_get_u64(body, &created) < 0 || rbuf_left(body) != 0 || life == 0) {
		h->stats.snapshot_skipped++;
		return 0;
	}
	uint64_t max_ms = h->conf.max_lifetime;
	uint64_t left;
	if (life == 0xffff) {
		left = max_ms;
	} else {
		if (expires <= c->wall) {
			h->stats.snapshot_skipped++; /* expired while we were down */
			return 0;
		}
		left = expires - c->wall;
		if (left > max_ms)
			left = max_ms;
	}
	/* binding_update takes whole seconds: round up, then set the exact expiry. */
	uint16_t secs = (uint16_t)((left + 999) / 1000);
	if (secs == 0 || secs == 0xffff)
		secs = secs ? 0xfffe : 1;
	struct binding *b;
	if (binding_count(&h->bc) >= h->conf.max_bindings ||
	    binding_update(&h->bc, &home, &coa, secs, c->now, BINDING_MOVE_FLUSH, &b) < 0) {
		h->stats.snapshot_skipped++;
		return 0;
	}
	b->lifetime_s = life == 0xffff ? (uint16_t)(max_ms / 1000) : life;
	b->expires_ms = c->now + left;
	table_set_expiry(&h->bc.t, &b->node, b->expires_ms);
	if (had_binding_attach(h, b, spi) < 0) {
		had_binding_remove(h, b);
		h->stats.snapshot_skipped++;
		return 0;
	}
	b->last_id = last_id;
	b->flags = flags;
	b->moves = moves;
	b->created_ms = c->now - (c->wall > created ? c->wall - created : 0);
	h->stats.snapshot_loaded++;
	return 0;
}

int had_store_load(struct had *h, uint64_t wall, uint64_t now)
{
	struct load_ctx c = { h, wall, now };
	int r = snap_load_file(h->conf.snapshot, HAD_SNAP_KIND, load_one, &c, "bindings",
			       &h->stats.snapshot_loaded, &h->stats.snapshot_skipped);
	if (r > 0)
		had_store_rearm(h, now);
	return r < 0 ? r : 0;
}

int had_store_snap_start(struct had *h)
{
	return snap_timer_configure(&h->snap, h->loop, h->conf.snapshot, h->conf.snapshot_interval,
				    had_store_save, h);
}
