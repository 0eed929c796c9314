/* The L2TP reliable control channel (RFC 2661 5.8 and appendix A) as a pure state machine:
 * no sockets, no clock reads.  The owner (one per tunnel):
 *   - encodes a control message with l2tp_msg_encode() and hands it to l2tp_ctrl_send(),
 *     which assigns Ns, fills in Nr and transmits it when the peer's window allows;
 *   - feeds every control datagram received for the tunnel to l2tp_ctrl_input(), which
 *     processes the acknowledgement (Nr), and delivers each new message exactly once and in
 *     order through the deliver callback (out-of-order messages within the receive window
 *     are queued, duplicates are acknowledged, the rest is discarded);
 *   - calls l2tp_ctrl_tick() at l2tp_ctrl_next_timeout() (or later) for retransmissions with
 *     exponential backoff and for the delayed ZLB acknowledgement (a ZLB goes out at once
 *     when half the receive window or more is unacknowledged).
 * Callbacks run inside l2tp_ctrl_input / _send / _tick; they may call l2tp_ctrl_send() but
 * must not free the l2tp_ctrl (defer tunnel destruction to after the call returns). */
#ifndef ROAM_L2TP_CTRL_H
#define ROAM_L2TP_CTRL_H
#include <stddef.h>
#include <stdint.h>

#define L2TP_CTRL_TXQ_MAX 64 /* messages waiting for the window or for their ack */
#define L2TP_CTRL_RXQ_MAX 16 /* out-of-order messages held (caps our receive window) */

struct l2tp_ctrl_cfg {
	uint16_t recv_window;    /* our Receive Window Size (advertised by the owner); 1..16 */
	uint32_t rto_initial_ms; /* first retransmission timeout (RFC 2661: 1 s) */
	uint32_t rto_max_ms;     /* backoff cap (RFC 2661: no less than 8 s) */
	uint8_t max_retries;     /* retransmissions before giving up (RFC 2661: 5) */
	uint32_t ack_delay_ms;   /* ZLB sent after this when no message carried the ack */
};
/* Defaults: window 8, 1000 ms doubling to 8000 ms, 5 retries, ZLB after 250 ms. */
void l2tp_ctrl_cfg_default(struct l2tp_ctrl_cfg *cfg);

/* Transmit one datagram (borrowed for the call).  Deliver one in-order control message
 * (the whole datagram, header included; borrowed for the call). */
typedef void (*l2tp_ctrl_send_fn)(void *ctx, const uint8_t *pkt, size_t len);
typedef void (*l2tp_ctrl_deliver_fn)(void *ctx, const uint8_t *pkt, size_t len);

struct l2tp_ctrl_stats {
	uint64_t tx_msgs, tx_retransmits, tx_zlb;
	uint64_t rx_msgs, rx_zlb, rx_delivered;
	uint64_t rx_duplicate, rx_queued, rx_out_of_window, rx_bad_nr, rx_malformed;
};

struct l2tp_ctrl_txslot {
	uint8_t *pkt; /* owned copy */
	size_t len;
	uint16_t ns;
	uint8_t sent, retries;
	uint64_t due;
};

struct l2tp_ctrl_rxslot {
	uint8_t *pkt; /* owned copy, NULL when free */
	size_t len;
	uint16_t ns;
};

struct l2tp_ctrl {
	struct l2tp_ctrl_cfg cfg;
	l2tp_ctrl_send_fn send;
	l2tp_ctrl_deliver_fn deliver;
	void *ctx;

	uint16_t peer_tunnel_id; /* header Tunnel ID of what we send (ZLBs included) */
	uint16_t ns_next;        /* Ns of the next new message */
	uint16_t nr;             /* next Ns expected from the peer */
	uint16_t peer_window;    /* peer's Receive Window Size (RFC 2661 default 4) */
	uint16_t cwnd, ssthresh, ca_acked; /* appendix A slow start / congestion avoidance */

	struct l2tp_ctrl_txslot txq[L2TP_CTRL_TXQ_MAX]; /* ring, ordered by Ns */
	unsigned tx_head, tx_count;
	struct l2tp_ctrl_rxslot rxq[L2TP_CTRL_RXQ_MAX];

	int ack_pending;
	uint64_t ack_due;
	unsigned ack_count;  /* messages delivered since the last ack we sent (half window: ZLB now) */
	uint64_t last_rx_ms; /* last control datagram (ZLB included) from the peer: HELLO timer */
	int failed;          /* retry limit reached: the tunnel must be torn down */
	struct l2tp_ctrl_stats stats;
};

/* Initialises c (cfg NULL: defaults; recv_window clamped to 1..L2TP_CTRL_RXQ_MAX).
 * now: for the HELLO timer's start.  Callbacks and ctx are borrowed. */
void l2tp_ctrl_init(struct l2tp_ctrl *c, const struct l2tp_ctrl_cfg *cfg, l2tp_ctrl_send_fn send,
                    l2tp_ctrl_deliver_fn deliver, void *ctx, uint64_t now);
/* Frees the queued copies (safe twice). */
void l2tp_ctrl_free(struct l2tp_ctrl *c);

/* The peer's Tunnel ID (from its Assigned Tunnel ID AVP) and Receive Window Size (from its
 * SCCRQ/SCCRP; 0 or absent means RFC 2661's default of 4). */
void l2tp_ctrl_set_peer(struct l2tp_ctrl *c, uint16_t peer_tunnel_id, uint16_t peer_window);

/* Queues a control message encoded by l2tp_msg_encode (copied; Ns and Nr are overwritten)
 * and transmits it now if the window allows.  Errors: -EINVAL (not a control message or a
 * ZLB), -ENOBUFS (queue full), -ENOMEM, -EPIPE (the channel has failed). */
int l2tp_ctrl_send(struct l2tp_ctrl *c, const uint8_t *pkt, size_t len, uint64_t now);

/* Processes one received control datagram.  Returns 0 (also for duplicates and discarded
 * out-of-window messages, which are counted), -EBADMSG (not a valid control header: nothing
 * changed), -EPROTONOSUPPORT (not version 2), -ENOMEM (an out-of-order copy could not be kept:
 * dropped, the peer retransmits). */
int l2tp_ctrl_input(struct l2tp_ctrl *c, const uint8_t *pkt, size_t len, uint64_t now);

/* Runs the timers due at `now`: retransmissions (exponential backoff, capped) and the delayed
 * ZLB.  Returns 0, or -ETIMEDOUT once a message went unacknowledged through max_retries
 * retransmissions (c->failed is then set and stays set). */
int l2tp_ctrl_tick(struct l2tp_ctrl *c, uint64_t now);

/* The earliest time l2tp_ctrl_tick has something to do, or UINT64_MAX. */
uint64_t l2tp_ctrl_next_timeout(const struct l2tp_ctrl *c);

/* Sends a ZLB acknowledgement now (e.g. the last ack before a tunnel is freed). */
void l2tp_ctrl_send_zlb(struct l2tp_ctrl *c);

/* 1 when every message sent was acknowledged and nothing waits to be sent. */
int l2tp_ctrl_idle(const struct l2tp_ctrl *c);

/* 1 when nothing was received from the peer for interval_ms (send a HELLO, RFC 2661 6.5). */
int l2tp_ctrl_hello_due(const struct l2tp_ctrl *c, uint64_t now, uint64_t interval_ms);

#endif
