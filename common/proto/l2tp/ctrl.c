/* L2TP reliable control channel (RFC 2661 5.8, appendix A slow start and congestion
 * avoidance).  See roam/l2tp_ctrl.h for the contract. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "roam/l2tp.h"
#include "roam/l2tp_ctrl.h"

#define DEFAULT_PEER_WINDOW 4 /* RFC 2661 4.4.3: absent Receive Window Size */

void l2tp_ctrl_cfg_default(struct l2tp_ctrl_cfg *cfg)
{
	cfg->recv_window = 8;
	cfg->rto_initial_ms = 1000;
	cfg->rto_max_ms = 8000;
	cfg->max_retries = 5;
	cfg->ack_delay_ms = 250;
}

void l2tp_ctrl_init(struct l2tp_ctrl *c, const struct l2tp_ctrl_cfg *cfg, l2tp_ctrl_send_fn send,
                    l2tp_ctrl_deliver_fn deliver, void *ctx, uint64_t now)
{
	memset(c, 0, sizeof(*c));
	if (cfg)
		c->cfg = *cfg;
	else
		l2tp_ctrl_cfg_default(&c->cfg);
	if (c->cfg.recv_window < 1)
		c->cfg.recv_window = 1;
	if (c->cfg.recv_window > L2TP_CTRL_RXQ_MAX)
		c->cfg.recv_window = L2TP_CTRL_RXQ_MAX;
	if (c->cfg.rto_initial_ms == 0)
		c->cfg.rto_initial_ms = 1;
	if (c->cfg.rto_max_ms < c->cfg.rto_initial_ms)
		c->cfg.rto_max_ms = c->cfg.rto_initial_ms;
	c->send = send;
	c->deliver = deliver;
	c->ctx = ctx;
	c->peer_window = DEFAULT_PEER_WINDOW;
	c->cwnd = 1;
	c->ssthresh = DEFAULT_PEER_WINDOW;
	c->last_rx_ms = now;
}

void l2tp_ctrl_free(struct l2tp_ctrl *c)
{
	for (unsigned i = 0; i < c->tx_count; i++) {
		struct l2tp_ctrl_txslot *s = &c->txq[(c->tx_head + i) % L2TP_CTRL_TXQ_MAX];
		free(s->pkt);
		s->pkt = NULL;
	}
	c->tx_count = 0;
	for (unsigned i = 0; i < L2TP_CTRL_RXQ_MAX; i++) {
		free(c->rxq[i].pkt);
		c->rxq[i].pkt = NULL;
	}
}

void l2tp_ctrl_set_peer(struct l2tp_ctrl *c, uint16_t peer_tunnel_id, uint16_t peer_window)
{
	c->peer_tunnel_id = peer_tunnel_id;
	c->peer_window = peer_window ? peer_window : DEFAULT_PEER_WINDOW;
	c->ssthresh = c->peer_window;
	if (c->cwnd > c->peer_window)
		c->cwnd = c->peer_window;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

void l2tp_ctrl_send_zlb(struct l2tp_ctrl *c)
{
	uint8_t z[L2TP_CTRL_HDR_LEN];

	put16(z, L2TP_HDR_T | L2TP_HDR_L | L2TP_HDR_S | L2TP_VERSION);
	put16(z + 2, L2TP_CTRL_HDR_LEN);
	put16(z + 4, c->peer_tunnel_id);
	put16(z + 6, 0);
	put16(z + 8, c->ns_next); /* a ZLB does not consume an Ns (RFC 2661 5.8) */
	put16(z + 10, c->nr);
	c->ack_pending = 0;
	c->ack_count = 0;
	c->stats.tx_zlb++;
	c->send(c->ctx, z, sizeof(z));
}

static struct l2tp_ctrl_txslot *txslot(struct l2tp_ctrl *c, unsigned i)
{
	return &c->txq[(c->tx_head + i) % L2TP_CTRL_TXQ_MAX];
}

static uint64_t rto(const struct l2tp_ctrl *c, unsigned retries)
{
	uint64_t t = c->cfg.rto_initial_ms;
	for (unsigned i = 0; i < retries && t < c->cfg.rto_max_ms; i++)
		t *= 2;
	return t < c->cfg.rto_max_ms ? t : c->cfg.rto_max_ms;
}

static void transmit(struct l2tp_ctrl *c, struct l2tp_ctrl_txslot *s)
{
	put16(s->pkt + L2TP_CTRL_NR_OFF, c->nr); /* the current Nr, also on retransmission */
	c->ack_pending = 0;                       /* this message carries the ack */
	c->ack_count = 0;
	c->send(c->ctx, s->pkt, s->len);
}

/* Sends what the window allows: min(cwnd, peer window) messages outstanding. */
static void pump(struct l2tp_ctrl *c, uint64_t now)
{
	unsigned inflight = 0, win = c->cwnd < c->peer_window ? c->cwnd : c->peer_window;

	for (unsigned i = 0; i < c->tx_count; i++) {
		struct l2tp_ctrl_txslot *s = txslot(c, i);
		if (s->sent) {
			inflight++;
			continue;
		}
		if (inflight >= win)
			break;
		s->sent = 1;
		s->retries = 0;
		s->due = now + rto(c, 0);
		c->stats.tx_msgs++;
		transmit(c, s);
		inflight++;
	}
}

int l2tp_ctrl_send(struct l2tp_ctrl *c, const uint8_t *pkt, size_t len, uint64_t now)
{
	struct l2tp_hdr h;
	struct l2tp_ctrl_txslot *s;

	if (c->failed)
		return -EPIPE;
	if (l2tp_hdr_decode(pkt, len, &h) < 0 || !(h.flags & L2TP_HDR_T) ||
	    len <= L2TP_CTRL_HDR_LEN || h.hdr_len != L2TP_CTRL_HDR_LEN)
		return -EINVAL;
	if (c->tx_count >= L2TP_CTRL_TXQ_MAX)
		return -ENOBUFS;
	s = txslot(c, c->tx_count);
	memset(s, 0, sizeof(*s));
	if (!(s->pkt = malloc(len)))
		return -ENOMEM;
	memcpy(s->pkt, pkt, len);
	s->len = len;
	s->ns = c->ns_next++;
	put16(s->pkt + L2TP_CTRL_NS_OFF, s->ns);
	c->tx_count++;
	pump(c, now);
	return 0;
}

/* Processes the peer's Nr: every message with Ns before nr is acknowledged. */
static void process_ack(struct l2tp_ctrl *c, uint16_t nr, uint64_t now)
{
	uint16_t una = c->tx_count ? txslot(c, 0)->ns : c->ns_next;
	unsigned acked = 0, sent = 0;

	for (unsigned i = 0; i < c->tx_count; i++)
		sent += txslot(c, i)->sent;
	/* Valid acks lie in [una, una + sent].  Below una: a stale Nr from a reordered packet;
	 * above: it acknowledges what we never sent. */
	if (l2tp_seq_lt(nr, una))
		return;
	if ((uint16_t)(nr - una) > sent) {
		c->stats.rx_bad_nr++;
		return;
	}
	while (c->tx_count && l2tp_seq_lt(txslot(c, 0)->ns, nr)) {
		struct l2tp_ctrl_txslot *s = txslot(c, 0);
		free(s->pkt);
		s->pkt = NULL;
		c->tx_head = (c->tx_head + 1) % L2TP_CTRL_TXQ_MAX;
		c->tx_count--;
		acked++;
	}
	/* Appendix A: +1 per ack in slow start, +1 per window's worth in congestion avoidance. */
	for (unsigned i = 0; i < acked; i++) {
		if (c->cwnd < c->ssthresh) {
			c->cwnd++;
		} else if (++c->ca_acked >= c->cwnd) {
			c->ca_acked = 0;
			c->cwnd++;
		}
		if (c->cwnd > c->peer_window)
			c->cwnd = c->peer_window;
	}
	if (acked)
		pump(c, now);
}

static void schedule_ack(struct l2tp_ctrl *c, uint64_t now)
{
	if (!c->ack_pending) {
		c->ack_pending = 1;
		c->ack_due = now + c->cfg.ack_delay_ms;
	}
	c->ack_count++;
}

/* Half our receive window (at least 1) unacknowledged: acknowledge at once, so that a peer
 * sending a burst is not held to one window per ack delay (l2tp.md 6). */
static void ack_if_half_window(struct l2tp_ctrl *c)
{
	unsigned half = (c->cfg.recv_window + 1u) / 2u;
	if (c->ack_pending && c->ack_count >= (half ? half : 1))
		l2tp_ctrl_send_zlb(c);
}

/* Takes the queued message with Ns == nr, if any. */
static int rxq_take(struct l2tp_ctrl *c, uint16_t ns)
{
	for (int i = 0; i < L2TP_CTRL_RXQ_MAX; i++)
		if (c->rxq[i].pkt && c->rxq[i].ns == ns)
			return i;
	return -1;
}

int l2tp_ctrl_input(struct l2tp_ctrl *c, const uint8_t *pkt, size_t len, uint64_t now)
{
	struct l2tp_hdr h;
	int rc, i;
	uint16_t ahead;

	if ((rc = l2tp_hdr_decode(pkt, len, &h)) < 0 || !(h.flags & L2TP_HDR_T)) {
		c->stats.rx_malformed++;
		return rc < 0 ? rc : -EBADMSG;
	}
	c->last_rx_ms = now;
	process_ack(c, h.nr, now);
	if (h.hdr_len == h.msg_len) {
		c->stats.rx_zlb++;
		return 0;
	}
	c->stats.rx_msgs++;
	if (h.ns == c->nr) {
		c->nr++;
		schedule_ack(c, now);
		c->stats.rx_delivered++;
		c->deliver(c->ctx, pkt, len);
		/* Messages queued out of order that are now in sequence. */
		while ((i = rxq_take(c, c->nr)) >= 0) {
			uint8_t *q = c->rxq[i].pkt;
			size_t qlen = c->rxq[i].len;
			c->rxq[i].pkt = NULL;
			c->nr++;
			schedule_ack(c, now);
			c->stats.rx_delivered++;
			c->deliver(c->ctx, q, qlen);
			free(q);
		}
		/* After delivery: a reply sent from the callback already carried the ack. */
		ack_if_half_window(c);
		return 0;
	}
	if (l2tp_seq_lt(h.ns, c->nr)) {
		/* A duplicate: our ack was lost.  Acknowledge at once (RFC 2661 5.8). */
		c->stats.rx_duplicate++;
		l2tp_ctrl_send_zlb(c);
		return 0;
	}
	ahead = (uint16_t)(h.ns - c->nr);
	if (ahead >= c->cfg.recv_window) {
		c->stats.rx_out_of_window++;
		return 0;
	}
	if (rxq_take(c, h.ns) >= 0) {
		c->stats.rx_duplicate++;
		return 0;
	}
	for (i = 0; i < L2TP_CTRL_RXQ_MAX; i++) {
		if (!c->rxq[i].pkt) {
			if (!(c->rxq[i].pkt = malloc(len)))
				return -ENOMEM;
			memcpy(c->rxq[i].pkt, pkt, len);
			c->rxq[i].len = len;
			c->rxq[i].ns = h.ns;
			c->stats.rx_queued++;
			return 0;
		}
	}
	c->stats.rx_out_of_window++; /* not reached: recv_window <= L2TP_CTRL_RXQ_MAX */
	return 0;
}

int l2tp_ctrl_tick(struct l2tp_ctrl *c, uint64_t now)
{
	int backed_off = 0;

	if (c->failed)
		return -ETIMEDOUT;
	for (unsigned i = 0; i < c->tx_count; i++) {
		struct l2tp_ctrl_txslot *s = txslot(c, i);
		if (!s->sent || s->due > now)
			continue;
		if (s->retries >= c->cfg.max_retries) {
			c->failed = 1;
			return -ETIMEDOUT;
		}
		s->retries++;
		s->due = now + rto(c, s->retries);
		c->stats.tx_retransmits++;
		transmit(c, s);
		if (!backed_off) {
			/* Appendix A: a timeout halves the threshold and restarts slow start. */
			c->ssthresh = c->cwnd / 2 ? c->cwnd / 2 : 1;
			c->cwnd = 1;
			c->ca_acked = 0;
			backed_off = 1;
		}
	}
	if (c->ack_pending && c->ack_due <= now)
		l2tp_ctrl_send_zlb(c);
	return 0;
}

uint64_t l2tp_ctrl_next_timeout(const struct l2tp_ctrl *c)
{
	uint64_t t = UINT64_MAX;

	if (c->failed)
		return UINT64_MAX;
	for (unsigned i = 0; i < c->tx_count; i++) {
		const struct l2tp_ctrl_txslot *s = &c->txq[(c->tx_head + i) % L2TP_CTRL_TXQ_MAX];
		if (s->sent && s->due < t)
			t = s->due;
	}
	if (c->ack_pending && c->ack_due < t)
		t = c->ack_due;
	return t;
}

int l2tp_ctrl_idle(const struct l2tp_ctrl *c)
{
	return c->tx_count == 0;
}

int l2tp_ctrl_hello_due(const struct l2tp_ctrl *c, uint64_t now, uint64_t interval_ms)
{
	return now >= c->last_rx_ms && now - c->last_rx_ms >= interval_ms;
}
