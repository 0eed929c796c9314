/* The visitor list (RFC 5944 3.7.1): one roam/binding.h entry per mobile, with the fad_visitor
 * state in binding->user; deadlines (pending timeout, registration expiry, forwarding expiry)
 * on the cache's timer wheel, and snapshots (roam/snapshot.h) so that registered visitors
 * survive a restart with their remaining lifetime. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fad.h"
#include "roam/snapshot_store.h"
#include "roam/clock.h"

const char *fad_vstate_name(enum fad_vstate s)
{
	switch (s) {
	case FAD_V_PENDING: return "pending";
	case FAD_V_REGISTERED: return "registered";
	case FAD_V_FORWARDING: return "forwarding";
	}
	return "?";
}

static struct fad_visitor *vis(struct binding *b)
{
	return b->user;
}

/* Frees v; the upstream it still held (a visitor gone before its registration was accepted)
 * is dropped and counted. */
static void vis_free(struct fad *f, struct fad_visitor *v)
{
	if (v) {
		size_t n = bfifo_count(&v->up);
		if (n && f) {
			f->stats.dp_drop_up_flushed += n;
			log_rl_warnx(&f->drop_rl, "data plane: %zu held upstream packets dropped: "
				     "the visitor left before its registration was accepted", n);
		}
		bfifo_flush(&v->up);
	}
	free(v);
}

/* Earliest deadline of v; TABLE_NEVER when none. */
static uint64_t next_deadline(const struct fad_visitor *v)
{
	uint64_t d = TABLE_NEVER;
	if (v->pend.active && v->pend.deadline < d)
		d = v->pend.deadline;
	if (v->state == FAD_V_REGISTERED && v->reg_expires && v->reg_expires < d)
		d = v->reg_expires;
	if (v->state == FAD_V_FORWARDING && v->fwd_expires < d)
		d = v->fwd_expires;
	if (v->anticipated && v->anticipate_expires < d)
		d = v->anticipate_expires;
	return d;
}

void fad_visitor_schedule(struct fad *f, struct fad_visitor *v, uint64_t now)
{
	uint64_t d = next_deadline(v);
	if (d == TABLE_NEVER)
		d = now + 1; /* nothing keeps it: let the expiry remove it */
	v->b->expires_ms = d;
	table_set_expiry(&f->vl.t, &v->b->node, d == 0 ? 1 : d);
	fad_store_rearm(f, now);
	fad_dp_visitor_sync(f, v);
}

uint32_t fad_visitor_remaining(const struct fad_visitor *v, uint64_t now)
{
	uint64_t end = v->state == FAD_V_FORWARDING ? v->fwd_expires :
		       v->state == FAD_V_REGISTERED ? v->reg_expires :
		       v->pend.active ? v->pend.deadline : v->anticipate_expires;
	return end > now ? (uint32_t)((end - now) / 1000) : 0;
}

size_t fad_visitor_count(const struct fad *f)
{
	return binding_count(&f->vl);
}

struct fad_visitor *fad_visitor_find(struct fad *f, struct in_addr home)
{
	struct roam_ipaddr h;
	roam_ipaddr_set4(&h, home);
	struct binding *b = binding_lookup(&f->vl, &h);
	return b ? vis(b) : NULL;
}

int fad_visitor_new(struct fad *f, struct in_addr home, uint64_t now, struct fad_visitor **out)
{
	if (binding_count(&f->vl) >= f->conf.max_visitors)
		return -ENOBUFS;
	struct fad_visitor *v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	struct roam_ipaddr h;
	struct binding *b;
	roam_ipaddr_set4(&h, home);
	/* The path towards the mobile: its "care-of address" is the home address itself. */
	int r = binding_update(&f->vl, &h, &h, 0xffff, now, BINDING_MOVE_FLUSH, &b);
	if (r < 0) {
		vis_free(f, v);
		return r;
	}
	if (b->user) { /* already there: keep it */
		vis_free(f, v);
		*out = vis(b);
		return 0;
	}
	b->user = v;
	v->b = b;
	v->home = home;
	bfifo_init(&v->up, f->conf.dataplane.pending_items, 0);
	v->state = FAD_V_PENDING;
	v->cell = -1;
	*out = v;
	return 0;
}

void fad_visitor_remove(struct fad *f, struct fad_visitor *v)
{
	struct binding *b = v->b;
	fad_dp_visitor_gone(f, v);
	b->user = NULL;
	vis_free(f, v);
	binding_remove(&f->vl, b);
}

static int free_user(struct binding *b, void *arg)
{
	if (b->user)
		fad_dp_visitor_gone(arg, b->user);
	vis_free(arg, b->user);
	b->user = NULL;
	return 0;
}

static void visitor_expired(struct binding *b, void *arg);

static void expiry_timer_cb(uv_timer_t *t)
{
	struct fad *f = t->data;
	fad_store_expire(f, roam_mono_ms());
}

int fad_store_init(struct fad *f, uint64_t now)
{
	int r = binding_cache_init(&f->vl, f->conf.fifo_items, 0, visitor_expired, f);
	if (r < 0)
		return r;
	binding_expire(&f->vl, now);
	if (f->loop) {
		uv_timer_init(f->loop, &f->expiry_timer);
		f->expiry_timer.data = f;
		uv_timer_init(f->loop, &f->drain_timer);
		f->drain_timer.data = f;
	}
	f->store_ready = true;
	return 0;
}

void fad_store_destroy(struct fad *f)
{
	if (!f->store_ready)
		return;
	if (f->loop && !uv_is_closing((uv_handle_t *)&f->expiry_timer)) {
		uv_timer_stop(&f->expiry_timer);
		uv_close((uv_handle_t *)&f->expiry_timer, NULL);
		uv_timer_stop(&f->drain_timer);
		uv_close((uv_handle_t *)&f->drain_timer, NULL);
	}
	binding_foreach(&f->vl, free_user, f);
	binding_cache_destroy(&f->vl);
	f->store_ready = false;
}

void fad_store_rearm(struct fad *f, uint64_t now)
{
	if (!f->loop || uv_is_closing((uv_handle_t *)&f->expiry_timer))
		return;
	uint64_t next = table_next_expiry(&f->vl.t);
	if (next == TABLE_NEVER) {
		uv_timer_stop(&f->expiry_timer);
		return;
	}
	uv_timer_start(&f->expiry_timer, expiry_timer_cb, next > now ? next - now : 0, 0);
}

static void visitor_expired(struct binding *b, void *arg)
{
	struct fad *f = arg;
	struct fad_visitor *v = vis(b);
	uint64_t now = b->expires_ms; /* the deadline that fired (<= the caller's now) */
	char hb[ROAM_ADDRSTRLEN];
	struct roam_ipaddr h;
	if (!v) {
		binding_free(b);
		return;
	}
	roam_ipaddr_set4(&h, v->home);
	roam_ipaddr_fmt(&h, hb, sizeof(hb));
	if (v->pend.active && v->pend.deadline <= now) {
		/* The home agent did not answer: 78 to the mobile (RFC 5944 3.7.2.3). */
		struct mip4_msg req;
		memset(&req, 0, sizeof(req));
		req.type = MIP4_MSG_REG_REQUEST;
		req.home = v->home;
		req.ha = v->pend.ha;
		req.id = v->pend.id;
		req.has_id = 1;
		f->stats.pending_timeouts++;
		log_info("registration of %s: no reply from the home agent, timed out", hb);
		v->pend.active = false;
		fad_deny(f, &req, &v->pend.mn, v->pend.cell, MIP4_CODE_FA_TIMEOUT);
	}
	bool keep = false;
	if (v->state == FAD_V_REGISTERED && v->reg_expires > now) {
		keep = true;
	} else if (v->state == FAD_V_REGISTERED) {
		f->stats.visitors_expired++;
		log_info("visitor %s expired", hb);
	} else if (v->state == FAD_V_FORWARDING && v->fwd_expires > now) {
		keep = true;
	} else if (v->state == FAD_V_FORWARDING) {
		f->stats.forwarding_expired++;
		log_info("forwarding of %s ended", hb);
	}
	if (v->anticipated && v->state == FAD_V_PENDING) {
		if (v->anticipate_expires > now) {
			keep = true;
		} else {
			/* Announced by an FBAck, never came: what was held for it is dropped. */
			f->stats.anticipated_expired++;
			log_info("visitor %s announced but never arrived: %zu held items dropped", hb,
				 bfifo_count(&b->cur.fifo));
		}
	}
	if (v->pend.active)
		keep = true;
	if (!keep) {
		fad_dp_visitor_gone(f, v);
		b->user = NULL;
		vis_free(f, v);
		binding_free(b);
		return;
	}
	/* Still alive: back into the table with its next deadline. */
	if (table_insert(&f->vl.t, &b->node, b->key, sizeof(b->key)) < 0) {
		fad_dp_visitor_gone(f, v);
		b->user = NULL;
		vis_free(f, v);
		binding_free(b);
		return;
	}
	uint64_t d = next_deadline(v);
	b->expires_ms = d;
	table_set_expiry(&f->vl.t, &b->node, d);
	fad_dp_visitor_sync(f, v); /* e.g. a registered visitor whose refresh timed out */
}

void fad_store_expire(struct fad *f, uint64_t now)
{
	binding_expire(&f->vl, now);
	fad_store_rearm(f, now);
}

/* ---- snapshot record FAD_SNAP_VISITOR (registered and forwarding visitors):
 *   u8 state; home, ha, coa, fwd_coa: 4 bytes each; mobile: u8 family (4) + 4 bytes + u16
 *   port; cell interface: u8 length + name; flags u8; granted u16; reg_id u64; fbu_id u64;
 *   reg_expires u64 and fwd_expires u64 (wall-clock ms, 0 = none) ---- */

struct save_ctx {
	struct snap_writer *w;
	struct fad *f;
	uint64_t now, wall;
	int err;
};

static uint64_t to_wall(const struct save_ctx *c, uint64_t mono)
{
	return mono ? c->wall + (mono > c->now ? mono - c->now : 0) : 0;
}

static int save_one(struct binding *b, void *arg)
{
	struct save_ctx *c = arg;
	struct fad_visitor *v = vis(b);
	if (!v || v->state == FAD_V_PENDING)
		return 0;
	uint8_t buf[128];
	struct wbuf w;
	wbuf_init_fixed(&w, buf, sizeof(buf));
	struct roam_ipaddr ma;
	uint16_t port = 0;
	if (roam_sockaddr_addr(&v->mn, &ma, &port) < 0 || ma.family != AF_INET)
		return 0;
	const char *ifn = v->cell >= 0 && (size_t)v->cell < c->f->ncells ?
				  c->f->cells[v->cell].ifname : "";
	wbuf_put_u8(&w, (uint8_t)v->state);
	wbuf_put_bytes(&w, &v->home, 4);
	wbuf_put_bytes(&w, &v->ha, 4);
	wbuf_put_bytes(&w, &v->coa, 4);
	wbuf_put_bytes(&w, &v->fwd_coa, 4);
	wbuf_put_u8(&w, 4);
	wbuf_put_bytes(&w, &ma.v4, 4);
	wbuf_put_u16(&w, port);
	wbuf_put_u8(&w, (uint8_t)strlen(ifn));
	wbuf_put_bytes(&w, ifn, strlen(ifn));
	wbuf_put_u8(&w, v->flags);
	wbuf_put_u16(&w, v->granted);
	wbuf_put_u64(&w, v->reg_id);
	wbuf_put_u64(&w, v->fbu_id);
	wbuf_put_u64(&w, v->state == FAD_V_REGISTERED ? to_wall(c, v->reg_expires) : 0);
	wbuf_put_u64(&w, v->state == FAD_V_FORWARDING ? to_wall(c, v->fwd_expires) : 0);
	int r = snap_put_wbuf(c->w, FAD_SNAP_VISITOR, &w);
	if (r < 0) {
		c->err = r;
		return 1;
	}
	return 0;
}

static int save_all(struct snap_writer *w, void *arg)
{
	struct fad *f = arg;
	struct save_ctx c = { w, f, roam_mono_ms(), roam_wall_ms(), 0 };
	binding_foreach(&f->vl, save_one, &c);
	return c.err;
}

int fad_store_save(void *arg)
{
	struct fad *f = arg;
	return snap_save_file(f->conf.snapshot, FAD_SNAP_KIND, save_all, f,
			      &f->stats.snapshot_saves, &f->stats.snapshot_failures);
}

struct load_ctx {
	struct fad *f;
	uint64_t wall, now;
};

static int load_one(void *arg, uint16_t type, struct rbuf *body)
{
	struct load_ctx *c = arg;
	struct fad *f = c->f;
	uint8_t state, fam, iflen, flags;
	struct in_addr home, ha, coa, fwd, mn;
	uint16_t port, granted;
	uint64_t reg_id, fbu_id, reg_exp, fwd_exp;
	char ifn[256];
	if (type != FAD_SNAP_VISITOR || rbuf_get_u8(body, &state) < 0 ||
	    rbuf_get_bytes(body, &home, 4) < 0 || rbuf_get_bytes(body, &ha, 4) < 0 ||
	    rbuf_get_bytes(body, &coa, 4) < 0 || rbuf_get_bytes(body, &fwd, 4) < 0 ||
	    rbuf_get_u8(body, &fam) < 0 || fam != 4 || rbuf_get_bytes(body, &mn, 4) < 0 ||
	    rbuf_get_u16(body, &port) < 0 || rbuf_get_u8(body, &iflen) < 0 ||
	    rbuf_get_bytes(body, ifn, iflen) < 0 || rbuf_get_u8(body, &flags) < 0 ||
	    rbuf_get_u16(body, &granted) < 0 || rbuf_get_u64(body, &reg_id) < 0 ||
	    rbuf_get_u64(body, &fbu_id) < 0 || rbuf_get_u64(body, &reg_exp) < 0 ||
	    rbuf_get_u64(body, &fwd_exp) < 0 || rbuf_left(body) != 0 ||
	    (state != FAD_V_REGISTERED && state != FAD_V_FORWARDING)) {
		f->stats.snapshot_skipped++;
		return 0;
	}
	ifn[iflen] = '\0';
	uint64_t end = state == FAD_V_REGISTERED ? reg_exp : fwd_exp;
	if (end <= c->wall) {
		f->stats.snapshot_skipped++; /* expired while we were down */
		return 0;
	}
	int cell = -1;
	for (size_t i = 0; i < f->ncells; i++)
		if (strcmp(f->cells[i].ifname, ifn) == 0)
			cell = (int)i;
	struct fad_visitor *v;
	if ((state == FAD_V_REGISTERED && cell < 0) || fad_visitor_find(f, home) ||
	    fad_visitor_new(f, home, c->now, &v) < 0) {
		f->stats.snapshot_skipped++;
		return 0;
	}
	v->state = (enum fad_vstate)state;
	v->ha = ha;
	v->coa = coa;
	v->fwd_coa = fwd;
	struct roam_ipaddr ma;
	roam_ipaddr_set4(&ma, mn);
	roam_sockaddr_set(&v->mn, &ma, port);
	v->cell = cell;
	v->flags = flags;
	v->granted = granted;
	v->reg_id = reg_id;
	v->fbu_id = fbu_id;
	uint64_t left = end - c->wall;
	if (state == FAD_V_REGISTERED) {
		uint64_t max = (uint64_t)f->conf.max_lifetime;
		v->reg_expires = c->now + (left > max ? max : left);
	} else {
		struct roam_ipaddr fa;
		roam_ipaddr_set4(&fa, fwd);
		binding_move(&f->vl, v->b, &fa, c->now, BINDING_MOVE_FORWARD);
		v->fwd_expires = c->now + left;
	}
	fad_visitor_schedule(f, v, c->now);
	f->stats.snapshot_loaded++;
	return 0;
}

int fad_store_load(struct fad *f, uint64_t wall, uint64_t now)
{
	struct load_ctx c = { f, wall, now };
	int r = snap_load_file(f->conf.snapshot, FAD_SNAP_KIND, load_one, &c, "visitors",
			       &f->stats.snapshot_loaded, &f->stats.snapshot_skipped);
	if (r > 0)
		fad_store_rearm(f, now);
	return r < 0 ? r : 0;
}

int fad_store_snap_start(struct fad *f)
{
	return snap_timer_configure(&f->snap, f->loop, f->conf.snapshot, f->conf.snapshot_interval,
				    fad_store_save, f);
}
