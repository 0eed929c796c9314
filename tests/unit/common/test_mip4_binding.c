/* Binding cache and per-path FIFO (roam/binding.h) on a fake clock: the ordering the
 * synchronized handoff relies on (a control message queued behind data leaves after it),
 * bounds, drain/flush/move, the three move modes, expiry by lifetime, and the JSON of the
 * control commands. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "roam/binding.h"
#include "roam/buf.h"
#include "roam/json.h"

/* Items are tagged by their first byte. */
static int push(struct bfifo *f, enum bfifo_kind kind, uint8_t tag, uint64_t now)
{
	uint8_t b[3] = { tag, 0xee, 0xff };
	return bfifo_push(f, kind, b, sizeof(b), now);
}

struct log {
	uint8_t tags[64];
	uint8_t kinds[64];
	size_t n;
	int eagain_at; /* -1: never */
};

static int record(const struct bfifo_item *it, void *arg)
{
	struct log *l = arg;
	if (l->eagain_at >= 0 && (size_t)l->eagain_at == l->n)
		return -EAGAIN;
	l->tags[l->n] = it->data[0];
	l->kinds[l->n] = it->kind;
	l->n++;
	return 0;
}

Test(bfifo, control_leaves_after_the_data_queued_before_it)
{
	struct bfifo f;
	struct log l = { .eagain_at = -1 };

	bfifo_init(&f, 16, 0);
	cr_assert_eq(push(&f, BFIFO_DATA, 1, 10), 0);
	cr_assert_eq(push(&f, BFIFO_DATA, 2, 11), 0);
	cr_assert_eq(push(&f, BFIFO_CTRL, 3, 12), 0); /* the deregistration reply */
	cr_assert_eq(push(&f, BFIFO_DATA, 4, 13), 0);
	cr_assert_eq(bfifo_count(&f), 4);
	cr_assert(bfifo_has_ctrl(&f));
	cr_assert_eq(bfifo_peek(&f)->data[0], 1);
	cr_assert_eq(bfifo_peek(&f)->enq_ms, 10);
	cr_assert_eq(bfifo_drain(&f, record, &l, 0), 4);
	cr_assert_eq(l.n, 4);
	for (size_t i = 0; i < 4; i++)
		cr_assert_eq(l.tags[i], i + 1);
	cr_assert_eq(l.kinds[2], BFIFO_CTRL);
	cr_assert_eq(f.st.enq, 4);
	cr_assert_eq(f.st.deq, 4);
	cr_assert_eq(f.st.enq_ctrl, 1);
	cr_assert_eq(f.st.deq_ctrl, 1);
	cr_assert_eq(f.bytes, 0);
	cr_assert_null(bfifo_pop(&f));
	cr_assert_not(bfifo_has_ctrl(&f));
}

Test(bfifo, drain_stops_on_eagain_and_resumes_in_order)
{
	struct bfifo f;
	struct log l = { .eagain_at = 2 };

	bfifo_init(&f, 0, 0);
	for (uint8_t t = 1; t <= 5; t++)
		push(&f, t == 4 ? BFIFO_CTRL : BFIFO_DATA, t, 0);
	cr_assert_eq(bfifo_drain(&f, record, &l, 0), 2);
	cr_assert_eq(bfifo_count(&f), 3);
	cr_assert_eq(bfifo_peek(&f)->data[0], 3);
	l.eagain_at = -1;
	cr_assert_eq(bfifo_drain(&f, record, &l, 1), 1); /* max */
	cr_assert_eq(bfifo_drain(&f, record, &l, 0), 2);
	for (size_t i = 0; i < 5; i++)
		cr_assert_eq(l.tags[i], i + 1);
}

Test(bfifo, bounds_and_control_reserve)
{
	struct bfifo f;

	bfifo_init(&f, 3, 0);
	for (uint8_t t = 0; t < 3; t++)
		cr_assert_eq(push(&f, BFIFO_DATA, t, 0), 0);
	cr_assert_eq(push(&f, BFIFO_DATA, 9, 0), -ENOBUFS);
	cr_assert_eq(f.st.drop_full, 1);
	/* the handoff marker still fits, up to the reserve */
	for (int i = 0; i < BFIFO_CTRL_RESERVE; i++)
		cr_assert_eq(push(&f, BFIFO_CTRL, 50, 0), 0);
	cr_assert_eq(push(&f, BFIFO_CTRL, 51, 0), -ENOBUFS);
	cr_assert_eq(bfifo_count(&f), 3 + BFIFO_CTRL_RESERVE);
	cr_assert_eq(bfifo_flush(&f), 3 + BFIFO_CTRL_RESERVE);
	cr_assert_eq(f.st.flushed, 3 + BFIFO_CTRL_RESERVE);

	bfifo_init(&f, 0, 7); /* byte bound: two 3-byte items fit, not three */
	cr_assert_eq(push(&f, BFIFO_DATA, 1, 0), 0);
	cr_assert_eq(push(&f, BFIFO_DATA, 2, 0), 0);
	cr_assert_eq(push(&f, BFIFO_DATA, 3, 0), -ENOBUFS);
	cr_assert_eq(bfifo_push(&f, BFIFO_DATA, "x", 0, 0), -EINVAL);
	cr_assert_eq(bfifo_push(&f, 7, "x", 1, 0), -EINVAL);
	bfifo_flush(&f);
}

Test(bfifo, move_appends_in_order)
{
	struct bfifo a, b;
	struct log l = { .eagain_at = -1 };

	bfifo_init(&a, 2, 0);
	bfifo_init(&b, 2, 0);
	push(&a, BFIFO_DATA, 1, 0);
	push(&a, BFIFO_DATA, 2, 0);
	push(&b, BFIFO_DATA, 3, 0);
	push(&b, BFIFO_CTRL, 4, 0);
	cr_assert_eq(bfifo_move(&a, &b), 2); /* beyond a's bound: moving never drops */
	cr_assert_eq(bfifo_count(&a), 4);
	cr_assert_eq(bfifo_count(&b), 0);
	cr_assert_null(bfifo_peek(&b));
	cr_assert_eq(a.st.moved_in, 2);
	cr_assert_eq(b.st.moved_out, 2);
	cr_assert_eq(bfifo_move(&a, &b), 0);
	push(&b, BFIFO_DATA, 5, 0); /* b is usable again */
	bfifo_move(&a, &b);
	bfifo_drain(&a, record, &l, 0);
	cr_assert_eq(l.n, 5);
	for (size_t i = 0; i < 5; i++)
		cr_assert_eq(l.tags[i], i + 1);
}

/* ---- binding cache ---- */

static struct roam_ipaddr v4(const char *s)
{
	struct roam_ipaddr a;
	cr_assert_eq(roam_ipaddr_parse(s, &a), 0);
	return a;
}

Test(binding, create_refresh_lookup)
{
	struct binding_cache c;
	struct binding *b, *b2;
	struct roam_ipaddr home = v4("10.1.0.5"), coa = v4("192.0.2.10");

	cr_assert_eq(binding_cache_init(&c, 8, 0, NULL, NULL), 0);
	cr_assert_eq(binding_update(&c, &home, &coa, 300, 1000, BINDING_MOVE_SYNC, &b), 0);
	cr_assert_eq(binding_count(&c), 1);
	cr_assert_eq(binding_lookup(&c, &home), b);
	cr_assert(roam_ipaddr_eq(&b->cur.coa, &coa));
	cr_assert_eq(b->old.coa.family, 0);
	cr_assert_eq(b->expires_ms, 301000);
	cr_assert_eq(binding_remaining(b, 1000), 300);
	cr_assert_eq(binding_update(&c, &home, &coa, 600, 5000, BINDING_MOVE_SYNC, &b2), 0);
	cr_assert_eq(b2, b);
	cr_assert_eq(b->expires_ms, 605000);
	cr_assert_eq(b->moves, 0);
	cr_assert_eq(c.st.created, 1);
	cr_assert_eq(c.st.refreshed, 1);
	cr_assert_eq(binding_update(&c, &home, &coa, 0, 5000, BINDING_MOVE_SYNC, &b2), -EINVAL);
	struct roam_ipaddr other = v4("10.1.0.6");
	cr_assert_null(binding_lookup(&c, &other));
	binding_remove(&c, b);
	cr_assert_eq(binding_count(&c), 0);
	cr_assert_null(binding_lookup(&c, &home));
	binding_cache_destroy(&c);
}

/* Seed Phase I-3: new traffic goes to the new care-of address; the deregistration reply is
 * queued on the old path behind its data and the old path is released once it is sent. */
Test(binding, sync_move_keeps_old_path_draining)
{
	struct binding_cache c;
	struct binding *b;
	struct roam_ipaddr home = v4("10.1.0.5"), coa1 = v4("192.0.2.10"), coa2 = v4("192.0.2.30");
	struct log l = { .eagain_at = -1 };

	cr_assert_eq(binding_cache_init(&c, 8, 0, NULL, NULL), 0);
	binding_update(&c, &home, &coa1, 300, 0, BINDING_MOVE_SYNC, &b);
	push(&b->cur.fifo, BFIFO_DATA, 1, 1);
	push(&b->cur.fifo, BFIFO_DATA, 2, 2);
	cr_assert_eq(binding_update(&c, &home, &coa2, 300, 3, BINDING_MOVE_SYNC, &b), 0);
	cr_assert(roam_ipaddr_eq(&b->cur.coa, &coa2));
	cr_assert(roam_ipaddr_eq(&b->old.coa, &coa1));
	cr_assert_eq(b->moves, 1);
	cr_assert_eq(bfifo_count(&b->old.fifo), 2);
	cr_assert_eq(bfifo_count(&b->cur.fifo), 0);
	push(&b->old.fifo, BFIFO_CTRL, 3, 3);     /* deregistration reply */
	push(&b->cur.fifo, BFIFO_DATA, 10, 4);    /* new data: new path only */
	bfifo_drain(&b->old.fifo, record, &l, 0);
	cr_assert_eq(l.n, 3);
	cr_assert_eq(l.tags[2], 3);
	cr_assert_eq(l.kinds[2], BFIFO_CTRL);
	binding_old_release(b);
	cr_assert_eq(b->old.coa.family, 0);
	cr_assert_eq(bfifo_count(&b->cur.fifo), 1);
	/* a second move while an old path still drains gives up the oldest one */
	push(&b->cur.fifo, BFIFO_DATA, 11, 5);
	binding_move(&c, b, &coa1, 6, BINDING_MOVE_SYNC);
	binding_move(&c, b, &coa2, 7, BINDING_MOVE_SYNC);
	cr_assert(roam_ipaddr_eq(&b->old.coa, &coa1));
	cr_assert_eq(bfifo_count(&b->old.fifo), 0);
	binding_cache_destroy(&c);
}

Test(binding, forward_and_flush_modes)
{
	struct binding_cache c;
	struct binding *b;
	struct roam_ipaddr home = v4("10.1.0.5"), coa1 = v4("192.0.2.10"), coa2 = v4("192.0.2.30");
	struct log l = { .eagain_at = -1 };

	cr_assert_eq(binding_cache_init(&c, 8, 0, NULL, NULL), 0);
	binding_update(&c, &home, &coa1, 300, 0, BINDING_MOVE_FORWARD, &b);
	push(&b->cur.fifo, BFIFO_DATA, 1, 0);
	push(&b->cur.fifo, BFIFO_DATA, 2, 0);
	binding_update(&c, &home, &coa2, 300, 1, BINDING_MOVE_FORWARD, &b);
	cr_assert_eq(b->old.coa.family, 0);
	push(&b->cur.fifo, BFIFO_DATA, 3, 2);
	bfifo_drain(&b->cur.fifo, record, &l, 0);
	cr_assert_eq(l.n, 3);
	for (size_t i = 0; i < 3; i++)
		cr_assert_eq(l.tags[i], i + 1); /* backlog first, then new traffic */

	push(&b->cur.fifo, BFIFO_DATA, 4, 3);
	binding_update(&c, &home, &coa1, 300, 4, BINDING_MOVE_FLUSH, &b);
	cr_assert_eq(bfifo_count(&b->cur.fifo), 0);
	cr_assert_eq(b->old.coa.family, 0);
	cr_assert_eq(b->moves, 2);
	binding_cache_destroy(&c);
}

struct expired {
	struct roam_ipaddr homes[8];
	int n;
};

static void on_expire(struct binding *b, void *arg)
{
	struct expired *e = arg;
	e->homes[e->n++] = b->home;
	binding_free(b);
}

Test(binding, expiry_on_fake_clock)
{
	struct binding_cache c;
	struct binding *b1, *b2, *b3;
	struct expired e = { .n = 0 };
	struct roam_ipaddr h1 = v4("10.1.0.5"), h2 = v4("10.1.0.6"), h3 = v4("10.1.0.7");
	struct roam_ipaddr coa = v4("192.0.2.10");
	uint64_t t0 = 1000000;

	cr_assert_eq(binding_cache_init(&c, 8, 0, on_expire, &e), 0);
	binding_update(&c, &h1, &coa, 10, t0, BINDING_MOVE_SYNC, &b1);
	binding_update(&c, &h2, &coa, 20, t0, BINDING_MOVE_SYNC, &b2);
	binding_update(&c, &h3, &coa, 0xffff, t0, BINDING_MOVE_SYNC, &b3);
	push(&b1->cur.fifo, BFIFO_DATA, 1, t0); /* freed with the binding */
	cr_assert_eq(binding_remaining(b3, t0 + 100000000), 0xffff);
	cr_assert_eq(binding_expire(&c, t0 + 9999), 0);
	cr_assert_eq(binding_remaining(b1, t0 + 9999), 0);
	cr_assert_eq(binding_expire(&c, t0 + 10000), 1);
	cr_assert_eq(e.n, 1);
	cr_assert(roam_ipaddr_eq(&e.homes[0], &h1));
	cr_assert_null(binding_lookup(&c, &h1));
	/* a refresh pushes the expiry out */
	binding_update(&c, &h2, &coa, 20, t0 + 15000, BINDING_MOVE_SYNC, &b2);
	cr_assert_eq(binding_expire(&c, t0 + 20000), 0);
	cr_assert_eq(binding_expire(&c, t0 + 35000), 1);
	cr_assert(roam_ipaddr_eq(&e.homes[1], &h2));
	/* the infinite one never goes */
	cr_assert_eq(binding_expire(&c, UINT64_MAX - 1), 0);
	cr_assert_eq(binding_count(&c), 1);
	cr_assert_eq(c.st.expired, 2);
	binding_cache_destroy(&c);
}

static int count_cb(struct binding *b, void *arg)
{
	(void)b;
	(*(int *)arg)++;
	return 0;
}

Test(binding, foreach_and_ipv6_keys)
{
	struct binding_cache c;
	struct binding *b;
	struct roam_ipaddr h6 = v4("2001:db8::5"), h4 = v4("10.1.0.5"), coa6 = v4("2001:db8:1::1");
	int n = 0;

	cr_assert_eq(binding_cache_init(&c, 8, 0, NULL, NULL), 0);
	cr_assert_eq(binding_update(&c, &h6, &coa6, 60, 0, BINDING_MOVE_SYNC, &b), 0);
	cr_assert_eq(binding_update(&c, &h4, &coa6, 60, 0, BINDING_MOVE_SYNC, &b), 0);
	cr_assert_eq(binding_foreach(&c, count_cb, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_not_null(binding_lookup(&c, &h6));
	/* expired without a callback: freed by the cache */
	cr_assert_eq(binding_expire(&c, 60000), 2);
	cr_assert_eq(binding_count(&c), 0);
	binding_cache_destroy(&c);
}

/* The members the "bindings" control commands of had and cnd share (binding_json,
 * binding_path_json), byte for byte. */
Test(binding, json_members_and_paths)
{
	struct binding_cache c;
	struct binding *b;
	struct roam_ipaddr home = v4("10.1.0.5"), coa1 = v4("192.0.2.10"), coa2 = v4("192.0.2.30");
	struct wbuf out;
	struct json_writer w;

	cr_assert_eq(binding_cache_init(&c, 8, 0, NULL, NULL), 0);
	cr_assert_eq(binding_update(&c, &home, &coa1, 300, 0, BINDING_MOVE_SYNC, &b), 0);
	push(&b->cur.fifo, BFIFO_DATA, 1, 1);
	push(&b->cur.fifo, BFIFO_CTRL, 2, 2);
	cr_assert_eq(binding_update(&c, &home, &coa2, 300, 1000, BINDING_MOVE_SYNC, &b), 0);
	push(&b->cur.fifo, BFIFO_DATA, 3, 1000);
	b->last_id = 0x0123456789abcdefull;
	wbuf_init(&out);
	json_writer_init(&w, &out);
	json_obj_begin(&w);
	binding_json(&w, b, 11500);
	binding_path_json(&w, "current", &b->cur);
	binding_path_json(&w, "old", &b->old);
	json_obj_end(&w);
	cr_assert_str_eq(wbuf_str(&out),
			 "{\"home\":\"10.1.0.5\",\"care_of\":\"192.0.2.30\",\"remaining\":289,"
			 "\"lifetime\":300,\"moves\":1,\"last_id\":\"0123456789abcdef\","
			 "\"current\":{\"care_of\":\"192.0.2.30\",\"queued\":1,\"enq\":1,\"deq\":0,"
			 "\"enq_ctrl\":0,\"drop_full\":0},"
			 "\"old\":{\"care_of\":\"192.0.2.10\",\"queued\":2,\"enq\":2,\"deq\":0,"
			 "\"enq_ctrl\":1,\"drop_full\":0}}");
	wbuf_free(&out);
	binding_cache_destroy(&c);
}
