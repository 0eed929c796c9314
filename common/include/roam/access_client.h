/* The mobile's side of the access link (docs/protocols/access-link.md): discovery and ATTACH
 * with retransmission, the keepalive and the loss of the LAC, HDLC-like framing of PPP into
 * DATA messages and a streaming decoder for the frames coming back.  Used by rlpc (the test
 * mobile) and by mnd's L2TP module.
 *
 * A pure state machine like struct ppp: no sockets, no clock reads.  The owner feeds every
 * datagram from the cell to access_client_input(), calls access_client_tick() at
 * access_client_next_timeout(), and gets datagrams to send, link events and decoded PPP
 * frames through the ops.  Callbacks must not free the client. */
#ifndef ROAM_ACCESS_CLIENT_H
#define ROAM_ACCESS_CLIENT_H
#include <stdbool.h>
#include <stdint.h>

#include "roam/access.h"
#include "roam/addr.h"
#include "roam/ppp.h"

struct access_client_conf {
	char min[ACCESS_MIN_LEN + 1];   /* ten digits */
	char nai[ACCESS_NAI_MAX + 1];   /* "" for none */
	struct roam_sockaddr target;    /* the all-LACs group or a configured LAC, port 17010 */
	uint32_t attach_interval_ms;    /* first retransmission interval: 1000 */
	uint32_t attach_fast_tries;     /* with the same Nonce: 5 */
	uint32_t attach_max_ms;         /* doubling up to: 8000 */
	uint32_t nak_retry_ms;          /* after ATTACH-NAK: 8000 */
	uint32_t silence_delay_ms;      /* after the LAC went silent, ATTACH waits this long: 0 */
};

enum access_client_state {
	ACCESS_CLIENT_IDLE = 0,
	ACCESS_CLIENT_DISCOVERY,        /* ATTACH sent, waiting for an answer */
	ACCESS_CLIENT_ATTACHED,
};

struct access_client_ops {
	/* Sends one datagram (borrowed). */
	void (*tx)(void *ctx, const struct roam_sockaddr *dst, const uint8_t *pkt, size_t len);
	/* ATTACH-ACK taken: the link is up (start PPP). */
	void (*attached)(void *ctx, uint32_t link_id);
	/* The link is gone (DETACH from the LAC with cause, or -1: the LAC went silent); the
	 * client is back in discovery. */
	void (*lost)(void *ctx, int cause);
	/* A PPP frame from the LAC (borrowed). */
	void (*ppp_frame)(void *ctx, uint16_t proto, const uint8_t *info, size_t len);
};

struct access_client_stats {
	uint64_t attach_sent, attach_acked, attach_nak, detach_rx, lost_silent, keepalive_sent,
		keepalive_acked, data_tx, data_rx, frames_rx, frames_bad, drop_malformed,
		drop_foreign, drop_stale_nonce, drop_late, rx_lost;
	uint32_t rtt_ms;                /* of the last KEEPALIVE-ACK */
	uint16_t last_nak_cause, last_detach_cause;
};

struct access_client {
	struct access_client_conf conf;
	struct access_client_ops ops;
	void *ctx;
	int state;                      /* enum access_client_state */
	uint32_t nonce, tries, interval;
	uint64_t next_attach;
	struct roam_sockaddr lac;       /* the LAC that answered */
	uint32_t link_id, tx_seq;
	struct access_seq rx;
	uint32_t keepalive_ms, dead_ms;
	uint64_t last_rx, next_keepalive, attached_at;
	struct ppp_hdlc_dec dec;
	struct ppp_hdlc_tx hdlc;        /* framing towards the LAC (ACCM set by the owner) */
	struct access_client_stats stats;
	uint64_t detach_due;            /* the repeated DETACH (0: none) */
	uint32_t detach_link, detach_seq;
	uint16_t detach_cause;
	struct roam_sockaddr detach_dst;
};

/* Fills conf's timers with the defaults above (min, nai and target are the caller's). */
void access_client_conf_default(struct access_client_conf *conf);
/* Initialises c (idle).  conf and ops copied, ctx borrowed.  -EINVAL: MIN not ten digits, NAI
 * too long, no tx. */
int access_client_init(struct access_client *c, const struct access_client_conf *conf,
		       const struct access_client_ops *ops, void *ctx);
/* Starts discovery: the first ATTACH goes out. */
void access_client_start(struct access_client *c, uint64_t now);
/* One datagram from src.  Never fails: drops are counted. */
void access_client_input(struct access_client *c, const uint8_t *pkt, size_t len,
			 const struct roam_sockaddr *src, uint64_t now);
/* Retransmissions, keepalives, the dead interval. */
void access_client_tick(struct access_client *c, uint64_t now);
uint64_t access_client_next_timeout(const struct access_client *c);
/* Frames one PPP packet (HDLC-like, c->hdlc) into DATA messages.  -ENOTCONN (not attached),
 * -EMSGSIZE. */
int access_client_send_ppp(struct access_client *c, uint16_t proto, const uint8_t *info,
			   size_t len);
/* DETACH (cause) to the LAC, twice; the client goes idle. */
void access_client_detach(struct access_client *c, uint16_t cause, uint64_t now);
const char *access_client_state_str(int state);

#endif
