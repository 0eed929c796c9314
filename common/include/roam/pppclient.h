/* The mobile's PPP over the emulated access link, with its own TUN device: what rlpc (the test
 * mobile) and mnd's L2TP module share.  It attaches to a LAC (roam/access_client.h, discovery
 * by the all-LACs group or a configured LAC), runs the peer side of PPP (roam/ppp.h) over the
 * link, configures the address IPCP gives it on the TUN device (optionally with a default
 * route) and forwards IPv4 between the TUN device and PPP.
 *
 * Two behaviours on the loss of the access link (DETACH from the LAC, keepalive silence, or the
 * owner's pppc_moving()):
 *   - keep_ppp = false (rlpc): PPP goes down with the carrier and starts afresh on the next
 *     attachment (a standard PPP client on a new call);
 *   - keep_ppp = true (mnd): the PPP state is kept while the client attaches again, on
 *     whichever LAC answers; if the new LAC resumed the parked call (L2TP handoff,
 *     docs/protocols/l2tp-handoff.md) PPP simply continues (answering a CHAP re-challenge if
 *     the LAC sends one); if the LNS starts a fresh LCP negotiation instead (the standard
 *     fallback), PPP renegotiates (RFC 1661: Configure-Request in Opened) and the address may
 *     change.  A DETACH cause 0 (the call ended at the LNS) still ends PPP.
 *
 * Lifetime: pppc_open() allocates; pppc_close() sends DETACH when attached, removes the
 * address, and frees the client from the last close callback (the loop may then end).  Sockets
 * and the TUN device belong to the client; the netlink socket is borrowed. */
#ifndef ROAM_PPPCLIENT_H
#define ROAM_PPPCLIENT_H
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "roam/access_client.h"
#include "roam/json.h"
#include "roam/netlink.h"
#include "roam/ppp.h"

struct pppc_conf {
	struct access_client_conf ac; /* MIN, NAI, target (group or LAC) and the attach timers */
	struct ppp_cfg ppp;           /* peer role: name, secret, auth (PPP_AUTH_*) */
	const char *radio;            /* interface for the group ATTACH (NULL: routing's choice) */
	const char *tun_name;         /* "rlp%d" style allowed */
	unsigned tun_mtu;             /* 0: 1400 */
	bool default_route;           /* default route through the TUN device */
	bool keep_ppp;                /* keep PPP across the loss of the access link */
	const char *log_prefix;       /* "" or "l2tp: " */
};

struct pppc_stats {
	uint64_t ppp_negotiations; /* LCP reached Opened from scratch (not a resumed session) */
	uint64_t ppp_ups;          /* IPCP opened */
	uint64_t ppp_downs;        /* the PPP session ended (LINK_DOWN) */
	uint64_t attaches;         /* ATTACH-ACKs that started a PPP session */
	uint64_t reattaches;       /* ATTACH-ACKs that carried on a kept PPP session */
	uint64_t links_lost;       /* the access link went away (DETACH, silence, moving) */
	uint64_t moves;            /* pppc_moving() calls */
	uint64_t address_changes;  /* IPCP gave another address than the one configured */
	uint64_t rx_ip, tx_ip, drop_ip, drop_not_attached;
	uint64_t addr_errors;      /* netlink failures configuring the address or route */
};

/* ---- the pure core: no sockets, no clock reads (tests drive it on a fake clock) ---- */

struct pppc_core_ops {
	/* One datagram to send on the access link (borrowed). */
	void (*tx)(void *ctx, const struct roam_sockaddr *dst, const uint8_t *pkt, size_t len);
	/* An IPv4 packet from PPP, for the TUN device (borrowed). */
	void (*ip_in)(void *ctx, const uint8_t *pkt, size_t len);
	/* The address to put on the TUN device (host order), 0: remove it. */
	void (*address)(void *ctx, uint32_t addr);
};

struct pppc_core {
	bool keep_ppp;
	char prefix[16];
	struct ppp_cfg pcfg;
	struct pppc_core_ops ops;
	void *ctx;
	struct access_client ac;
	struct ppp ppp;
	uint32_t addr;                  /* configured (host order), 0: none */
	uint64_t now;                   /* of the call being handled */
	uint64_t ppp_started, ppp_up_at, last_attach_at;
	enum ppp_down_reason last_down;
	bool carrier_down;
	struct pppc_stats stats;
};

/* Initialises c (idle) from conf's ac, ppp, keep_ppp and log_prefix; ops copied, ctx borrowed.
 * -EINVAL (MIN, NAI, PPP configuration, not the peer role). */
int pppc_core_init(struct pppc_core *c, const struct pppc_conf *conf,
		   const struct pppc_core_ops *ops, void *ctx);
/* Discovery: the first ATTACH now. */
void pppc_core_start(struct pppc_core *c, uint64_t now);
/* One datagram from the access link. */
void pppc_core_input(struct pppc_core *c, const uint8_t *pkt, size_t len,
		     const struct roam_sockaddr *src, uint64_t now);
/* An IPv4 packet from the TUN device: 0, or -ENOTCONN / -EMSGSIZE / -EINVAL (dropped). */
int pppc_core_send_ip(struct pppc_core *c, const uint8_t *pkt, size_t len);
void pppc_core_tick(struct pppc_core *c, uint64_t now);
uint64_t pppc_core_next_timeout(const struct pppc_core *c);
/* Leaving the cell: DETACH cause 1 to the current LAC, the link idle (PPP kept when keep_ppp);
 * the owner calls pppc_core_start() once on the new cell. */
void pppc_core_moving(struct pppc_core *c, uint64_t now);
/* Carrier lost (link idle) / back (discovery).  false when nothing changed. */
bool pppc_core_carrier(struct pppc_core *c, bool up, uint64_t now);
/* DETACH cause 0 if attached; the address removed (ops.address(0)). */
void pppc_core_stop(struct pppc_core *c, uint64_t now);
void pppc_core_status_json(const struct pppc_core *c, struct json_writer *w);

/* ---- the client with its UDP socket, TUN device and timers ---- */

struct pppc;

/* Opens the UDP socket (ephemeral port, multicast TTL 1 on radio), the TUN device (up), and
 * initialises the access client and PPP; nothing is sent until pppc_start().  conf is copied
 * (strings too); nl borrowed (must outlive the client).  -EINVAL (MIN, NAI or PPP
 * configuration), -ENODEV, -errno of the socket or the device. */
int pppc_open(uv_loop_t *loop, const struct pppc_conf *conf, struct roam_nl *nl,
	      struct pppc **out);
/* Starts discovery (the first ATTACH). */
void pppc_start(struct pppc *c);
/* The mobile leaves its cell: DETACH cause 1 (moving) to the current LAC, and discovery again
 * after delay_ms (0: at once), from the cell it is then on.  PPP is kept when keep_ppp. */
void pppc_moving(struct pppc *c, uint64_t delay_ms);
/* The radio lost (down) or regained (up) its carrier: down stops the access link (nothing can
 * be sent); up starts discovery at once.  false when nothing changed. */
bool pppc_carrier(struct pppc *c, bool up);
/* The radio the group ATTACH goes out of from now on (a mobile with several radios switches to
 * one that has a carrier).  -ENODEV, -EINVAL (name too long). */
int pppc_set_radio(struct pppc *c, const char *radio);
/* DETACH cause 0 if attached, address removed, everything closed and c freed (asynchronously).
 * Safe with NULL. */
void pppc_close(struct pppc *c);

const struct pppc_stats *pppc_stats(const struct pppc *c);
bool pppc_ppp_up(const struct pppc *c);
/* The address configured on the TUN device (host order), 0 when none. */
uint32_t pppc_address(const struct pppc *c);
/* Members (no braces) describing the link, PPP and the counters, for a status object. */
void pppc_status_json(const struct pppc *c, struct json_writer *w);

#endif
