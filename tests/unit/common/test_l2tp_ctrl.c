/* L2TP reliable control channel (roam/l2tp_ctrl.h) over a fake transport that drops,
 * duplicates and reorders, on a fake clock. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "roam/l2tp.h"
#include "roam/l2tp_ctrl.h"

/* ---- fake network ---- */
#define NET_MAX 4096
struct pkt {
	int dst; /* 0 = A, 1 = B */
	uint64_t at;
	size_t len;
	uint8_t b[64];
};
struct net {
	struct pkt q[NET_MAX];
	int n;
	uint32_t rng;
	int drop_pct, dup_pct, reorder_pct;
	uint64_t now;
	struct l2tp_ctrl ep[2];
	int from; /* sender of the callback being run, via ctx */
	/* delivered counters per receiving endpoint */
	uint32_t got[2][1024];
	int ngot[2];
	/* transmissions seen (for the backoff and window tests) */
	uint64_t tx_at[64];
	uint16_t tx_ns[64];
	int ntx;
	int nzlb;
	uint16_t last_zlb_nr;
};
struct ep_ctx {
	struct net *net;
	int id;
};

static uint32_t rnd(struct net *n)
{
	n->rng = n->rng * 1103515245u + 12345u;
	return (n->rng >> 16) & 0x7fff;
}

static void net_put(struct net *n, int dst, const uint8_t *p, size_t len, uint64_t delay)
{
	cr_assert_lt(n->n, NET_MAX);
	cr_assert_leq(len, sizeof(n->q[0].b));
	struct pkt *k = &n->q[n->n++];
	k->dst = dst;
	k->at = n->now + delay;
	k->len = len;
	memcpy(k->b, p, len);
}

static void ep_send(void *ctx, const uint8_t *p, size_t len)
{
	struct ep_ctx *e = ctx;
	struct net *n = e->net;
	if (len == L2TP_CTRL_HDR_LEN) {
		n->nzlb++;
		n->last_zlb_nr = (uint16_t)((p[10] << 8) | p[11]);
	} else if (n->ntx < 64) {
		n->tx_at[n->ntx] = n->now;
		n->tx_ns[n->ntx++] = (uint16_t)((p[8] << 8) | p[9]);
	}
	if ((int)(rnd(n) % 100) < n->drop_pct)
		return;
	uint64_t delay = 20 + (((int)(rnd(n) % 100) < n->reorder_pct) ? rnd(n) % 300 : 0);
	net_put(n, !e->id, p, len, delay);
	if ((int)(rnd(n) % 100) < n->dup_pct)
		net_put(n, !e->id, p, len, delay + rnd(n) % 200);
}

static void ep_deliver(void *ctx, const uint8_t *p, size_t len)
{
	struct ep_ctx *e = ctx;
	static struct l2tp_msg m;
	cr_assert_eq(l2tp_msg_decode(p, len, NULL, &m), 0);
	cr_assert_eq(m.type, L2TP_MSG_ICRQ);
	cr_assert_lt(e->net->ngot[e->id], 1024);
	e->net->got[e->id][e->net->ngot[e->id]++] = m.call_serial;
}

static void msg_bytes(uint32_t serial, uint16_t tunnel, struct wbuf *w)
{
	static struct l2tp_msg m;
	memset(&m, 0, sizeof(m));
	m.type = L2TP_MSG_ICRQ;
	m.tunnel_id = tunnel;
	m.avps = L2TP_AVP_BIT(L2TP_AVP_ASSIGNED_SESSION_ID) | L2TP_AVP_BIT(L2TP_AVP_CALL_SERIAL);
	m.assigned_session_id = 1;
	m.call_serial = serial;
	wbuf_init(w);
	cr_assert_eq(l2tp_msg_encode(w, &m, NULL), 0);
}

/* max_retries 0: the defaults. */
static struct net *net_new_cfg(uint32_t seed, uint8_t max_retries)
{
	struct net *n = calloc(1, sizeof(*n));
	static struct ep_ctx ctx[2];
	struct l2tp_ctrl_cfg cfg;
	cr_assert(n);
	n->rng = seed;
	l2tp_ctrl_cfg_default(&cfg);
	if (max_retries)
		cfg.max_retries = max_retries;
	for (int i = 0; i < 2; i++) {
		ctx[i] = (struct ep_ctx){ n, i };
		l2tp_ctrl_init(&n->ep[i], &cfg, ep_send, ep_deliver, &ctx[i], 0);
		l2tp_ctrl_set_peer(&n->ep[i], (uint16_t)(100 + !i), 8);
	}
	return n;
}

static struct net *net_new(uint32_t seed)
{
	return net_new_cfg(seed, 0);
}

static void net_free(struct net *n)
{
	l2tp_ctrl_free(&n->ep[0]);
	l2tp_ctrl_free(&n->ep[1]);
	l2tp_ctrl_free(&n->ep[0]); /* safe twice */
	free(n);
}

/* Delivers every packet due at n->now (in queue order: later entries with an earlier time
 * overtake, which is the reordering), then runs both timers. */
static void net_step(struct net *n)
{
	for (int i = 0; i < n->n;) {
		if (n->q[i].at <= n->now) {
			struct pkt k = n->q[i];
			n->q[i] = n->q[--n->n];
			cr_assert_eq(l2tp_ctrl_input(&n->ep[k.dst], k.b, k.len, n->now), 0);
		} else {
			i++;
		}
	}
	for (int e = 0; e < 2; e++)
		cr_assert_eq(l2tp_ctrl_tick(&n->ep[e], n->now), 0, "endpoint %d gave up", e);
}

static void lossy_run(uint32_t seed, int drop, int dup, int reorder)
{
	/* At 35 % loss each way, 5 retries lose a message about once in 30: heavy loss gets a
	 * retry budget that makes giving up practically impossible (giving up is tested below). */
	struct net *n = net_new_cfg(seed, drop ? 20 : 0);
	const uint32_t N = 300;
	uint32_t sent[2] = { 0, 0 };

	n->drop_pct = drop;
	n->dup_pct = dup;
	n->reorder_pct = reorder;
	for (n->now = 0; n->now < 3600 * 1000; n->now += 10) {
		for (int e = 0; e < 2; e++) {
			/* the application keeps a few messages queued */
			while (sent[e] < N && n->ep[e].tx_count < 6) {
				struct wbuf w;
				msg_bytes(sent[e]++, (uint16_t)(100 + !e), &w);
				cr_assert_eq(l2tp_ctrl_send(&n->ep[e], w.buf, w.len, n->now), 0);
				wbuf_free(&w);
			}
		}
		net_step(n);
		if (sent[0] == N && sent[1] == N && l2tp_ctrl_idle(&n->ep[0]) &&
		    l2tp_ctrl_idle(&n->ep[1]) && n->ngot[0] == (int)N && n->ngot[1] == (int)N)
			break;
	}
	for (int e = 0; e < 2; e++) {
		cr_assert_eq(n->ngot[e], (int)N, "endpoint %d got %d of %u", e, n->ngot[e], N);
		for (uint32_t i = 0; i < N; i++)
			cr_assert_eq(n->got[e][i], i, "endpoint %d: message %u out of order", e, i);
		cr_assert(l2tp_ctrl_idle(&n->ep[e]));
	}
	if (drop)
		cr_assert_gt(n->ep[0].stats.tx_retransmits + n->ep[1].stats.tx_retransmits, 0);
	if (dup || drop)
		cr_assert_gt(n->ep[0].stats.rx_duplicate + n->ep[1].stats.rx_duplicate, 0);
	if (reorder)
		cr_assert_gt(n->ep[0].stats.rx_queued + n->ep[1].stats.rx_queued, 0);
	net_free(n);
}

Test(l2tp_ctrl, clean_link_in_order_once)
{
	lossy_run(1, 0, 0, 0);
}

Test(l2tp_ctrl, lossy_link_in_order_once)
{
	lossy_run(7, 20, 10, 30);
	lossy_run(12345, 35, 25, 50);
}

/* Retransmission: 1 s doubling to the 8 s cap, 5 retransmissions, then give up. */
Test(l2tp_ctrl, backoff_and_give_up)
{
	struct net *n = net_new(3);
	struct wbuf w;
	int rc = 0;
	msg_bytes(1, 101, &w);
	cr_assert_eq(l2tp_ctrl_send(&n->ep[0], w.buf, w.len, 0), 0);
	wbuf_free(&w);
	for (n->now = 0; n->now < 60000; n->now++) {
		rc = l2tp_ctrl_tick(&n->ep[0], n->now);
		if (rc < 0)
			break;
	}
	static const uint64_t want[] = { 0, 1000, 3000, 7000, 15000, 23000 };
	cr_assert_eq(n->ntx, 6, "transmissions: %d", n->ntx);
	for (int i = 0; i < 6; i++) {
		cr_assert_eq(n->tx_at[i], want[i], "tx %d at %lu", i, (unsigned long)n->tx_at[i]);
		cr_assert_eq(n->tx_ns[i], 0); /* same Ns each time */
	}
	cr_assert_eq(rc, -ETIMEDOUT);
	cr_assert_eq(n->now, 31000);
	cr_assert(n->ep[0].failed);
	cr_assert_eq(l2tp_ctrl_tick(&n->ep[0], n->now + 1), -ETIMEDOUT);
	cr_assert_eq(l2tp_ctrl_next_timeout(&n->ep[0]), UINT64_MAX);
	msg_bytes(2, 101, &w);
	cr_assert_eq(l2tp_ctrl_send(&n->ep[0], w.buf, w.len, n->now), -EPIPE);
	wbuf_free(&w);
	net_free(n);
}

static void feed_zlb(struct l2tp_ctrl *c, uint16_t ns, uint16_t nr, uint64_t now)
{
	uint8_t z[12] = { 0xc8, 0x02, 0x00, 0x0c, 0x00, 0x64, 0x00, 0x00,
		          (uint8_t)(ns >> 8), (uint8_t)ns, (uint8_t)(nr >> 8), (uint8_t)nr };
	cr_assert_eq(l2tp_ctrl_input(c, z, sizeof(z), now), 0);
}

/* Never more outstanding than min(cwnd, peer window); slow start opens up to the window. */
Test(l2tp_ctrl, window_respected)
{
	struct net *n = net_new(4);
	struct l2tp_ctrl *c = &n->ep[0];
	struct wbuf w;
	l2tp_ctrl_set_peer(c, 101, 4);
	for (uint32_t i = 0; i < 20; i++) {
		msg_bytes(i, 101, &w);
		cr_assert_eq(l2tp_ctrl_send(c, w.buf, w.len, 0), 0);
		wbuf_free(&w);
	}
	cr_assert_eq(n->ntx, 1); /* slow start: cwnd 1 */
	uint16_t acked = 0;
	int max_out = 0;
	while (acked < 20) {
		/* highest Ns transmitted so far + 1 */
		uint16_t top = 0;
		for (int i = 0; i < n->ntx; i++)
			if ((uint16_t)(n->tx_ns[i] + 1) > top)
				top = (uint16_t)(n->tx_ns[i] + 1);
		int out = top - acked;
		cr_assert_leq(out, 4, "outstanding %d", out);
		if (out > max_out)
			max_out = out;
		acked++; /* acknowledge one at a time */
		feed_zlb(c, 0, acked, 10);
	}
	cr_assert_eq(max_out, 4);
	cr_assert(l2tp_ctrl_idle(c));
	/* an ack for something never sent is ignored */
	feed_zlb(c, 0, 500, 20);
	cr_assert_eq(c->stats.rx_bad_nr, 1);
	net_free(n);
}

static void feed_msg(struct l2tp_ctrl *c, uint32_t serial, uint16_t ns, uint16_t nr, uint64_t now)
{
	struct wbuf w;
	msg_bytes(serial, 100, &w);
	w.buf[8] = (uint8_t)(ns >> 8);
	w.buf[9] = (uint8_t)ns;
	w.buf[10] = (uint8_t)(nr >> 8);
	w.buf[11] = (uint8_t)nr;
	cr_assert_eq(l2tp_ctrl_input(c, w.buf, w.len, now), 0);
	wbuf_free(&w);
}

/* ZLB after the ack delay when nothing else carries the ack; none when a message does. */
Test(l2tp_ctrl, zlb_when_idle)
{
	struct net *n = net_new(5);
	struct l2tp_ctrl *b = &n->ep[1];
	feed_msg(b, 0, 0, 0, 1000);
	cr_assert_eq(n->ngot[1], 1);
	cr_assert_eq(l2tp_ctrl_next_timeout(b), 1250);
	n->now = 1249;
	l2tp_ctrl_tick(b, 1249);
	cr_assert_eq(n->nzlb, 0);
	l2tp_ctrl_tick(b, 1250);
	cr_assert_eq(n->nzlb, 1);
	cr_assert_eq(n->last_zlb_nr, 1);
	l2tp_ctrl_tick(b, 5000);
	cr_assert_eq(n->nzlb, 1); /* once */
	/* piggyback: a reply within the delay carries Nr, no ZLB */
	feed_msg(b, 1, 1, 0, 6000);
	struct wbuf w;
	msg_bytes(99, 100, &w);
	cr_assert_eq(l2tp_ctrl_send(b, w.buf, w.len, 6100), 0);
	wbuf_free(&w);
	cr_assert_eq(n->ntx, 1);
	l2tp_ctrl_tick(b, 6500);
	cr_assert_eq(n->nzlb, 1);
	cr_assert_eq(n->q[n->n - 1].b[11], 2); /* the reply's Nr acknowledges both */
	net_free(n);
}

/* Half the receive window (8: 4 messages) unacknowledged: the ZLB goes out at once, not after
 * the ack delay, so a burst drains at the peer's window rate. */
Test(l2tp_ctrl, zlb_at_once_at_half_window)
{
	struct net *n = net_new(6);
	struct l2tp_ctrl *b = &n->ep[1];
	cr_assert_eq(b->cfg.recv_window, 8);
	n->now = 1000;
	for (uint16_t i = 0; i < 3; i++)
		feed_msg(b, i, i, 0, 1000);
	cr_assert_eq(n->ngot[1], 3);
	cr_assert_eq(n->nzlb, 0); /* below half: still the delayed ack */
	cr_assert_eq(l2tp_ctrl_next_timeout(b), 1250);
	feed_msg(b, 3, 3, 0, 1000);
	cr_assert_eq(n->nzlb, 1);
	cr_assert_eq(n->last_zlb_nr, 4);
	cr_assert_eq(l2tp_ctrl_next_timeout(b), UINT64_MAX); /* nothing pending any more */
	/* the count restarts after the ack: three more wait for the delay again */
	for (uint16_t i = 4; i < 7; i++)
		feed_msg(b, i, i, 0, 1010);
	cr_assert_eq(n->nzlb, 1);
	l2tp_ctrl_tick(b, 1260);
	cr_assert_eq(n->nzlb, 2);
	cr_assert_eq(n->last_zlb_nr, 7);
	/* a reply carrying Nr also restarts the count */
	for (uint16_t i = 7; i < 10; i++)
		feed_msg(b, i, i, 0, 2000);
	struct wbuf w;
	msg_bytes(99, 100, &w);
	cr_assert_eq(l2tp_ctrl_send(b, w.buf, w.len, 2000), 0);
	wbuf_free(&w);
	feed_msg(b, 10, 10, 0, 2001);
	cr_assert_eq(n->nzlb, 2); /* one unacknowledged since the reply, not four */
	net_free(n);
}

/* Duplicates are acknowledged at once and not delivered again; out-of-window messages are
 * discarded; in-window ones are queued and delivered in order. */
Test(l2tp_ctrl, duplicates_and_out_of_order)
{
	struct net *n = net_new(6);
	struct l2tp_ctrl *b = &n->ep[1];
	struct l2tp_ctrl_cfg cfg;
	static struct ep_ctx ctx;
	l2tp_ctrl_free(b);
	l2tp_ctrl_cfg_default(&cfg);
	cfg.recv_window = 4;
	ctx = (struct ep_ctx){ n, 1 };
	l2tp_ctrl_init(b, &cfg, ep_send, ep_deliver, &ctx, 0);

	feed_msg(b, 0, 0, 0, 10);
	feed_msg(b, 0, 0, 0, 20); /* duplicate */
	cr_assert_eq(n->ngot[1], 1);
	cr_assert_eq(n->nzlb, 1);
	cr_assert_eq(n->last_zlb_nr, 1);
	feed_msg(b, 5, 5, 0, 30); /* nr 1, window 4: 5 is outside (1..4) */
	cr_assert_eq(b->stats.rx_out_of_window, 1);
	feed_msg(b, 3, 3, 0, 40);
	feed_msg(b, 2, 2, 0, 50);
	feed_msg(b, 2, 2, 0, 55); /* duplicate of a queued one */
	cr_assert_eq(n->ngot[1], 1);
	cr_assert_eq(b->stats.rx_queued, 2);
	feed_msg(b, 1, 1, 0, 60);
	cr_assert_eq(n->ngot[1], 4);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(n->got[1][i], (uint32_t)i);
	cr_assert_eq(b->nr, 4);
	/* the discarded one comes again, now in order */
	feed_msg(b, 4, 4, 0, 70);
	feed_msg(b, 5, 5, 0, 80);
	cr_assert_eq(n->ngot[1], 6);
	cr_assert_eq(n->got[1][5], 5);
	net_free(n);
}

Test(l2tp_ctrl, sequence_wraps)
{
	struct net *n = net_new(8);
	n->ep[0].ns_next = 0xfffd;
	n->ep[1].nr = 0xfffd;
	n->drop_pct = 10;
	uint32_t sent = 0;
	for (n->now = 0; n->now < 600000 && n->ngot[1] < 10; n->now += 10) {
		while (sent < 10 && n->ep[0].tx_count < 4) {
			struct wbuf w;
			msg_bytes(sent++, 101, &w);
			cr_assert_eq(l2tp_ctrl_send(&n->ep[0], w.buf, w.len, n->now), 0);
			wbuf_free(&w);
		}
		net_step(n);
	}
	cr_assert_eq(n->ngot[1], 10);
	for (int i = 0; i < 10; i++)
		cr_assert_eq(n->got[1][i], (uint32_t)i);
	cr_assert_eq(n->ep[1].nr, 7);
	net_free(n);
}

Test(l2tp_ctrl, rejects_bad_input)
{
	struct net *n = net_new(9);
	static const uint8_t data[] = { 0x40, 0x02, 0x00, 0x08, 0, 1, 0, 1 };
	static const uint8_t shortp[] = { 0xc8, 0x02, 0x00 };
	cr_assert_eq(l2tp_ctrl_input(&n->ep[0], data, sizeof(data), 0), -EBADMSG);
	cr_assert_eq(l2tp_ctrl_input(&n->ep[0], shortp, sizeof(shortp), 0), -EBADMSG);
	cr_assert_eq(n->ep[0].stats.rx_malformed, 2);
	uint8_t z[12] = { 0xc8, 0x02, 0x00, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0 };
	cr_assert_eq(l2tp_ctrl_send(&n->ep[0], z, sizeof(z), 0), -EINVAL); /* a ZLB */
	cr_assert_eq(l2tp_ctrl_send(&n->ep[0], data, sizeof(data), 0), -EINVAL);
	cr_assert(l2tp_ctrl_hello_due(&n->ep[0], 60000, 60000));
	feed_zlb(&n->ep[0], 0, 0, 59000);
	cr_assert_not(l2tp_ctrl_hello_due(&n->ep[0], 60000, 60000));
	net_free(n);
}
