/* Binding cache and per-path FIFO (roam/binding.h; docs/protocols/mipv4.md 7). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roam/binding.h"
#include "roam/json.h"

/* ---- FIFO ---- */

void bfifo_init(struct bfifo *f, size_t max_items, size_t max_bytes)
{
	memset(f, 0, sizeof(*f));
	f->max_items = max_items;
	f->max_bytes = max_bytes;
}

static int over_bound(const struct bfifo *f, size_t len, size_t extra_items)
{
	if (f->max_items && f->count + 1 > f->max_items + extra_items)
		return 1;
	if (f->max_bytes && extra_items == 0 && f->bytes + len > f->max_bytes)
		return 1;
	return 0;
}

int bfifo_push(struct bfifo *f, enum bfifo_kind kind, const void *data, size_t len,
               uint64_t now)
{
	struct bfifo_item *it;

	if (len == 0 || len > BFIFO_ITEM_MAX || !data || (kind != BFIFO_DATA && kind != BFIFO_CTRL))
		return -EINVAL;
	if (kind == BFIFO_DATA && over_bound(f, len, 0)) {
		f->st.drop_full++;
		return -ENOBUFS;
	}
	if (kind == BFIFO_CTRL && over_bound(f, len, BFIFO_CTRL_RESERVE))
		return -ENOBUFS;
	it = malloc(sizeof(*it) + len);
	if (!it)
		return -ENOMEM;
	it->next = NULL;
	it->enq_ms = now;
	it->len = (uint16_t)len;
	it->kind = (uint8_t)kind;
	memcpy(it->data, data, len);
	if (f->tail)
		f->tail->next = it;
	else
		f->head = it;
	f->tail = it;
	f->count++;
	f->bytes += len;
	f->st.enq++;
	if (kind == BFIFO_CTRL)
		f->st.enq_ctrl++;
	return 0;
}

static struct bfifo_item *unlink_head(struct bfifo *f)
{
	struct bfifo_item *it = f->head;

	if (!it)
		return NULL;
	f->head = it->next;
	if (!f->head)
		f->tail = NULL;
	it->next = NULL;
	f->count--;
	f->bytes -= it->len;
	return it;
}

struct bfifo_item *bfifo_pop(struct bfifo *f)
{
	struct bfifo_item *it = unlink_head(f);

	if (it) {
		f->st.deq++;
		if (it->kind == BFIFO_CTRL)
			f->st.deq_ctrl++;
	}
	return it;
}

const struct bfifo_item *bfifo_peek(const struct bfifo *f)
{
	return f->head;
}

size_t bfifo_drain(struct bfifo *f, bfifo_send_cb cb, void *arg, size_t max)
{
	size_t n = 0;

	while (f->head && (max == 0 || n < max)) {
		if (cb(f->head, arg) == -EAGAIN)
			break;
		free(bfifo_pop(f));
		n++;
	}
	return n;
}

size_t bfifo_flush(struct bfifo *f)
{
	size_t n = 0;
	struct bfifo_item *it;

	while ((it = unlink_head(f)) != NULL) {
		free(it);
		n++;
	}
	f->st.flushed += n;
	return n;
}

size_t bfifo_move(struct bfifo *dst, struct bfifo *src)
{
	size_t n = src->count;

	if (!src->head || dst == src)
		return 0;
	if (dst->tail)
		dst->tail->next = src->head;
	else
		dst->head = src->head;
	dst->tail = src->tail;
	dst->count += src->count;
	dst->bytes += src->bytes;
	dst->st.moved_in += n;
	src->st.moved_out += n;
	src->head = src->tail = NULL;
	src->count = src->bytes = 0;
	return n;
}

int bfifo_has_ctrl(const struct bfifo *f)
{
	for (const struct bfifo_item *it = f->head; it; it = it->next)
		if (it->kind == BFIFO_CTRL)
			return 1;
	return 0;
}

/* ---- binding cache ---- */

static void cache_expire(struct table *t, struct table_node *n, void *arg)
{
	struct binding_cache *c = arg;
	struct binding *b = table_entry(n, struct binding, node);

	(void)t;
	c->st.expired++;
	if (c->expire_cb)
		c->expire_cb(b, c->arg);
	else
		binding_free(b);
}

static void cache_free(struct table *t, struct table_node *n, void *arg)
{
	(void)t;
	(void)arg;
	binding_free(table_entry(n, struct binding, node));
}

int binding_cache_init(struct binding_cache *c, size_t fifo_items, size_t fifo_bytes,
                       binding_expire_cb expire_cb, void *arg)
{
	memset(c, 0, sizeof(*c));
	c->fifo_items = fifo_items;
	c->fifo_bytes = fifo_bytes;
	c->expire_cb = expire_cb;
	c->arg = arg;
	return table_init(&c->t, cache_expire, cache_free, c);
}

void binding_cache_destroy(struct binding_cache *c)
{
	table_destroy(&c->t);
}

struct binding *binding_lookup(struct binding_cache *c, const struct roam_ipaddr *home)
{
	uint8_t key[ROAM_IPADDR_KEYLEN];
	struct table_node *n;

	roam_ipaddr_key(home, key);
	n = table_lookup(&c->t, key, sizeof(key));
	return n ? table_entry(n, struct binding, node) : NULL;
}

static void set_lifetime(struct binding_cache *c, struct binding *b, uint16_t lifetime_s,
                         uint64_t now)
{
	b->lifetime_s = lifetime_s;
	b->expires_ms = lifetime_s == 0xffff ? 0 : now + (uint64_t)lifetime_s * 1000;
	table_set_expiry(&c->t, &b->node, b->expires_ms);
}

void binding_old_release(struct binding *b)
{
	bfifo_flush(&b->old.fifo);
	memset(&b->old.coa, 0, sizeof(b->old.coa));
	b->old.since_ms = 0;
}

void binding_move(struct binding_cache *c, struct binding *b, const struct roam_ipaddr *coa,
                  uint64_t now, enum binding_move_mode mode)
{
	struct bfifo fresh;

	bfifo_init(&fresh, c->fifo_items, c->fifo_bytes);
	switch (mode) {
	case BINDING_MOVE_SYNC:
		/* Only one old path drains at a time: a second move inside the window gives up
		 * the oldest one. */
		binding_old_release(b);
		b->old = b->cur;
		break;
	case BINDING_MOVE_FORWARD:
		bfifo_move(&fresh, &b->old.fifo);
		bfifo_move(&fresh, &b->cur.fifo);
		binding_old_release(b);
		break;
	case BINDING_MOVE_FLUSH:
	default:
		binding_old_release(b);
		bfifo_flush(&b->cur.fifo);
		break;
	}
	b->cur.fifo = fresh;
	b->cur.coa = *coa;
	b->cur.since_ms = now;
	b->moves++;
	c->st.moved++;
}

int binding_update(struct binding_cache *c, const struct roam_ipaddr *home,
                   const struct roam_ipaddr *coa, uint16_t lifetime_s, uint64_t now,
                   enum binding_move_mode mode, struct binding **out)
{
	struct binding *b;
	int rc;

	if (lifetime_s == 0 || !home->family || !coa->family)
		return -EINVAL;
	b = binding_lookup(c, home);
	if (b) {
		if (!roam_ipaddr_eq(&b->cur.coa, coa))
			binding_move(c, b, coa, now, mode);
		else
			c->st.refreshed++;
		set_lifetime(c, b, lifetime_s, now);
		*out = b;
		return 0;
	}
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->home = *home;
	roam_ipaddr_key(home, b->key);
	b->cur.coa = *coa;
	b->cur.since_ms = now;
	bfifo_init(&b->cur.fifo, c->fifo_items, c->fifo_bytes);
	bfifo_init(&b->old.fifo, c->fifo_items, c->fifo_bytes);
	b->created_ms = now;
	rc = table_insert(&c->t, &b->node, b->key, sizeof(b->key));
	if (rc < 0) {
		free(b);
		return rc;
	}
	set_lifetime(c, b, lifetime_s, now);
	c->st.created++;
	*out = b;
	return 0;
}

void binding_free(struct binding *b)
{
	if (!b)
		return;
	bfifo_flush(&b->cur.fifo);
	bfifo_flush(&b->old.fifo);
	free(b);
}

void binding_remove(struct binding_cache *c, struct binding *b)
{
	table_remove(&c->t, &b->node);
	c->st.removed++;
	binding_free(b);
}

size_t binding_expire(struct binding_cache *c, uint64_t now)
{
	return table_expire(&c->t, now);
}

uint16_t binding_remaining(const struct binding *b, uint64_t now)
{
	if (b->lifetime_s == 0xffff)
		return 0xffff;
	if (b->expires_ms <= now)
		return 0;
	return (uint16_t)((b->expires_ms - now) / 1000);
}

size_t binding_count(const struct binding_cache *c)
{
	return table_count(&c->t);
}

struct walk_ctx {
	binding_walk_cb cb;
	void *arg;
};

static int walk_one(struct table_node *n, void *arg)
{
	struct walk_ctx *w = arg;
	return w->cb(table_entry(n, struct binding, node), w->arg);
}

int binding_foreach(struct binding_cache *c, binding_walk_cb cb, void *arg)
{
	struct walk_ctx w = { cb, arg };
	return table_foreach(&c->t, walk_one, &w);
}

/* ---- JSON ---- */

void binding_json(struct json_writer *w, const struct binding *b, uint64_t now)
{
	char ab[ROAM_ADDRSTRLEN], idb[24];
	json_kv_str(w, "home", roam_ipaddr_fmt(&b->home, ab, sizeof(ab)));
	json_kv_str(w, "care_of", roam_ipaddr_fmt(&b->cur.coa, ab, sizeof(ab)));
	json_kv_uint(w, "remaining", binding_remaining(b, now));
	json_kv_uint(w, "lifetime", b->lifetime_s);
	json_kv_uint(w, "moves", b->moves);
	snprintf(idb, sizeof(idb), "%016llx", (unsigned long long)b->last_id);
	json_kv_str(w, "last_id", idb);
}

void binding_path_json(struct json_writer *w, const char *key, const struct binding_path *p)
{
	char b[ROAM_ADDRSTRLEN];
	json_key(w, key);
	json_obj_begin(w);
	json_kv_str(w, "care_of", roam_ipaddr_fmt(&p->coa, b, sizeof(b)));
	json_kv_uint(w, "queued", bfifo_count(&p->fifo));
	json_kv_uint(w, "enq", p->fifo.st.enq);
	json_kv_uint(w, "deq", p->fifo.st.deq);
	json_kv_uint(w, "enq_ctrl", p->fifo.st.enq_ctrl);
	json_kv_uint(w, "drop_full", p->fifo.st.drop_full);
	json_obj_end(w);
}
