/* The L2TP tunnel both ends use (RFC 2661 5, 7.2.1): what lacd and lnsd share on top of the
 * codec (roam/l2tp.h) and the reliable channel (roam/l2tp_ctrl.h).
 *
 * A struct l2tp_endpoint is one side's set of tunnels: the tunnel and session tables (on
 * roam/table.h), the timer table, the scratch messages, the shared counters and the UDP 1701
 * glue.  A struct l2tp_tunnel is embedded as the first member of the role's tunnel (allocated
 * by l2tp_tunnel_new with the role's size), a struct l2tp_session likewise in the role's
 * session.  The endpoint does what is the same at both ends:
 *   - encode and send through l2tp_ctrl, with a per-tunnel backlog when the channel is full;
 *   - timers: the channel's next timeout, HELLO after silence, the set-up deadline, linger
 *     (state kept after StopCCN to acknowledge it), session deadlines;
 *   - the receive path with one drop path and counted reasons; the unknown-M-bit rule of 4.2
 *     (StopCCN 2/8 for a tunnel message, CDN 2/8 for a session's), StopCCN received, HELLO,
 *     OCRQ refused (roam places no outgoing calls, l2tp.md 3);
 *   - StopCCN sent (clears every session without CDN), CDN sent, id allocation;
 *   - the challenge/response checks of tunnel authentication (4.4.3, 5.1.1), both directions;
 *   - JSON dumps for the control commands (tunnels, sessions, counters, stop-tunnel).
 * What differs by role goes through struct l2tp_endpoint_ops (the LAC places calls and tears
 * idle tunnels down; the LNS matches peers and accepts calls).
 *
 * The state machine never touches a socket or reads a clock: every entry point takes `now`
 * (monotonic ms) and datagrams go out through ep->tx, so tests drive it on a fake clock.
 * Callbacks run inside l2tp_ep_input / l2tp_ep_run_timers; a tunnel is freed only once the
 * call that killed it (t->dead) returns. */
#ifndef ROAM_L2TP_TUNNEL_H
#define ROAM_L2TP_TUNNEL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "roam/addr.h"
#include "roam/ctl.h"
#include "roam/json.h"
#include "roam/l2tp.h"
#include "roam/l2tp_ctrl.h"
#include "roam/log.h"
#include "roam/table.h"
#include "roam/udp.h"

#define L2TP_TUNNEL_HOST_NAME_MAX 63
#define L2TP_TUNNEL_SECRET_MAX 256
#define L2TP_TUNNEL_BACKLOG_MAX 16384 /* messages queued per tunnel beyond the channel's */

/* Tunnel parameters (the `tunnel:` section both daemons declare, L2TP_TUNNEL_CONF_FIELDS). */
struct l2tp_tunnel_conf {
	uint32_t hello_interval;      /* ms */
	uint16_t receive_window;
	uint32_t retransmit_initial;  /* ms */
	uint32_t retransmit_max;      /* ms */
	uint8_t max_retries;
	uint32_t linger;              /* ms after StopCCN */
	uint32_t setup_timeout;       /* ms for the tunnel and call set-up exchanges */
	uint32_t idle_timeout;        /* ms a tunnel without sessions is kept (LAC; 0: unused) */
	uint32_t max_tunnels;
	uint32_t max_sessions;        /* per tunnel */
};

/* The schema fields of struct l2tp_tunnel_conf shared by lacd.yaml and lnsd.yaml (a role adds
 * its own, e.g. idle_timeout, and wraps them in CONF_SCHEMA); the arguments are the role's
 * help text of setup_timeout and its default of max_tunnels (a string). */
#define L2TP_TUNNEL_CONF_FIELDS(setup_help, max_tunnels_dflt)                                   \
	CONF_DURATION("hello_interval", struct l2tp_tunnel_conf, hello_interval, .dflt = "60s", \
		      .umin = 1000, .umax = 3600000, .help = "HELLO after this much silence"),  \
	CONF_UINT("receive_window", struct l2tp_tunnel_conf, receive_window, .dflt = "8",       \
		  .umin = 1, .umax = L2TP_CTRL_RXQ_MAX, .help = "our Receive Window Size"),     \
	CONF_DURATION("retransmit_initial", struct l2tp_tunnel_conf, retransmit_initial,        \
		      .dflt = "1s", .umin = 100, .umax = 60000, .help = "first retransmission"), \
	CONF_DURATION("retransmit_max", struct l2tp_tunnel_conf, retransmit_max, .dflt = "8s",  \
		      .umin = 100, .umax = 600000, .help = "backoff cap"),                      \
	CONF_UINT("max_retries", struct l2tp_tunnel_conf, max_retries, .dflt = "5", .umin = 1,  \
		  .umax = 50, .help = "retransmissions before the tunnel is declared dead"),    \
	CONF_DURATION("linger", struct l2tp_tunnel_conf, linger, .dflt = "31s", .umin = 0,      \
		      .umax = 600000, .help = "state kept after StopCCN to acknowledge it"),    \
	CONF_DURATION("setup_timeout", struct l2tp_tunnel_conf, setup_timeout, .dflt = "60s",   \
		      .umin = 1000, .umax = 600000, .help = setup_help),                        \
	CONF_UINT("max_tunnels", struct l2tp_tunnel_conf, max_tunnels, .dflt = max_tunnels_dflt, \
		  .umin = 1, .umax = 65535, .help = "tunnels at most"),                         \
	CONF_UINT("max_sessions", struct l2tp_tunnel_conf, max_sessions, .dflt = "65535",       \
		  .umin = 1, .umax = 65535, .help = "sessions per tunnel at most")

/* Tunnel states (RFC 2661 7.2.1); 0: created, first message not delivered yet. */
enum l2tp_tunnel_state {
	L2TP_TUN_SETUP = 1,   /* LAC: SCCRQ sent (wait-ctl-reply); LNS: SCCRP sent (wait-ctl-conn) */
	L2TP_TUN_ESTABLISHED,
	L2TP_TUN_CLOSING,     /* StopCCN sent or received: lingering to acknowledge */
};

struct l2tp_backlog {
	struct l2tp_backlog *next;
	size_t len;
	uint8_t pkt[];
};

struct l2tp_endpoint;
struct l2tp_session;

struct l2tp_tunnel {
	struct table_node node;        /* ep->tunnels, key: id */
	struct table_node tnode;       /* ep->timers, key: id */
	uint8_t key[2];
	uint16_t id, peer_id;
	struct roam_sockaddr peer;
	struct roam_ipaddr local;      /* address the peer reached us at (family 0: any) */
	int state;                     /* enum l2tp_tunnel_state */
	struct l2tp_ctrl ctrl;
	struct l2tp_endpoint *ep;
	char host_name[L2TP_TUNNEL_HOST_NAME_MAX + 1]; /* the peer's */
	uint8_t secret[L2TP_TUNNEL_SECRET_MAX];
	size_t secret_len;
	bool hide;
	uint8_t challenge[16];         /* ours */
	bool authenticated;
	uint64_t created, established, deadline; /* set-up, idle or linger end; 0: none */
	uint32_t close_result;
	bool stop_by_peer;
	bool dead;                     /* freed once the current call returns */
	struct l2tp_session *sessions;
	struct l2tp_backlog *backlog, **backlog_tail;
	uint32_t nbacklog;
	uint32_t nsessions;
};

struct l2tp_session {
	struct table_node node;        /* ep->sessions, key: tunnel id + session id */
	uint8_t key[4];
	uint16_t id, peer_id;
	struct l2tp_tunnel *t;
	struct l2tp_session *next;     /* in t->sessions */
	int state;                     /* the role's */
	uint32_t serial;
	uint64_t created, established, deadline; /* deadline: set-up due (0: none) */
	uint64_t rx_data;
	/* Data messages (RFC 2661 5.8), l2tp_session_send_data / l2tp_ep_input: */
	bool data_seq;                 /* send Ns (S bit); also set once the peer sends Ns */
	uint16_t data_ns;              /* next Ns we send */
	uint16_t data_nr;              /* next Ns expected from the peer */
	uint64_t tx_data, rx_data_late, rx_data_lost;
};

/* Counters of the shared machine (the role keeps its own beside them). */
struct l2tp_ep_stats {
	uint64_t rx_packets, rx_control, rx_zlb, rx_data;
	uint64_t drop_malformed, drop_bad_version, drop_hidden_no_key, drop_unknown_tunnel,
		drop_wrong_peer, drop_unknown_session, drop_data_unhandled, drop_ctrl_nomem;
	uint64_t rx_unknown_ignored, rx_other;
	uint64_t rx_msg[L2TP_MSG_SLI + 1], tx_msg[L2TP_MSG_SLI + 1]; /* by message type */
	uint64_t tx_backlogged, tx_errors;
	uint64_t tunnels_established, tunnels_authenticated, tunnels_auth_failed,
		tunnels_closed_by_peer, tunnels_closed_local, tunnels_timed_out, tunnels_freed;
	uint64_t sessions_timed_out, ocrq_refused;
	uint64_t unknown_mandatory_avp, fsm_errors;
	uint64_t ctrl_retransmits, ctrl_duplicates, ctrl_out_of_order; /* of freed tunnels */
};

/* Sends one datagram to dst from src (family 0: the kernel's choice).  Borrowed buffers. */
typedef void (*l2tp_ep_tx_fn)(void *arg, const struct roam_sockaddr *dst,
			      const struct roam_ipaddr *src, const uint8_t *pkt, size_t len);

/* What the role decides.  Every callback gets ep->role as arg; m is borrowed. */
struct l2tp_endpoint_ops {
	/* A control message with Tunnel ID 0 from src (received at dst, may be NULL), header
	 * decoded in hdr: find or create the tunnel (l2tp_tunnel_new) into *out, or return a
	 * reason to drop it (counted by the role). */
	const char *(*new_tunnel)(void *arg, const uint8_t *pkt, size_t len,
				  const struct roam_sockaddr *src, const struct roam_ipaddr *dst,
				  uint64_t now, struct l2tp_tunnel **out);
	/* SCCRQ, SCCRP, SCCCN delivered on t (checked: known, no unknown mandatory AVP, every
	 * mandatory AVP present). */
	void (*tunnel_msg)(void *arg, struct l2tp_tunnel *t, const struct l2tp_msg *m,
			   uint64_t now);
	/* A session message (ICRQ, ICRP, ICCN, CDN, WEN, SLI) on an established t, checked as
	 * above, for session s (found by the header's Session ID; NULL only for an ICRQ, which
	 * asks for a new one: a message for an unknown session is dropped and counted before). */
	void (*session_msg)(void *arg, struct l2tp_tunnel *t, struct l2tp_session *s,
			    const struct l2tp_msg *m, uint64_t now);
	/* Closes s with CDN (result, error, msg) and frees it (unknown mandatory AVP, missing
	 * AVP, set-up timeout). */
	void (*session_close)(void *arg, struct l2tp_session *s, uint16_t result, uint16_t error,
			      const char *msg, uint64_t now);
	/* s is being freed (tunnel gone or l2tp_session_free): count, unlink the role's indexes,
	 * free the memory. */
	void (*session_free)(void *arg, struct l2tp_session *s);
	/* t stops carrying calls (StopCCN sent or received, channel failed, freed): unlink it
	 * from the role's indexes.  May be NULL. */
	void (*tunnel_closing)(void *arg, struct l2tp_tunnel *t);
	/* t is being freed (after its sessions): unlink it from the role's indexes.  May be
	 * NULL. */
	void (*tunnel_release)(void *arg, struct l2tp_tunnel *t);
	/* t's deadline passed while established (the LAC's idle timer).  May be NULL: cleared. */
	void (*tunnel_deadline)(void *arg, struct l2tp_tunnel *t, uint64_t now);
	/* The message a set-up timeout names ("ICRP" for the LAC, "ICCN" for the LNS). */
	const char *session_setup_msg;
	/* A data message for s (from its tunnel's peer; sequence-checked when it carried Ns:
	 * duplicates and late ones are counted in s->rx_data_late and not delivered).  ppp is
	 * the PPP frame (address/control and protocol, no HDLC framing), borrowed.  May be NULL:
	 * counted as drop_data_unhandled. */
	void (*session_data)(void *arg, struct l2tp_session *s, const uint8_t *ppp, size_t len,
			     uint64_t now);
	/* JSON fields of s beyond the shared ones.  May be NULL. */
	void (*dump_session)(void *arg, struct json_writer *w, const struct l2tp_session *s);
	const char *const *tunnel_states; /* names, index 0..L2TP_TUN_CLOSING */
	const char *const *session_states;
	int nsession_states;
};

struct l2tp_endpoint {
	const struct l2tp_endpoint_ops *ops;
	void *role;                     /* the daemon's state, handed to every callback */
	const struct l2tp_tunnel_conf *conf; /* borrowed (the role's, may be reloaded in place) */
	const uint16_t *ho_vendor;      /* borrowed: Vendor ID of the handoff extension AVPs */
	bool initiator;                 /* LAC: the peer may answer from another port (8.1) */
	l2tp_ep_tx_fn tx;
	void *tx_arg;
	struct table tunnels, timers, sessions;
	bool tables_ready;
	struct l2tp_msg rx, txm;        /* scratch messages (large) */
	struct l2tp_ep_stats stats;
	struct log_ratelimit drop_rl;
	bool stopping;
	uint64_t now;                   /* of the call being processed */
	/* UDP glue (l2tp_ep_server_open); unused in unit tests. */
	uv_loop_t *loop;
	struct roam_udp *udp;
	uv_timer_t timer;
	bool timer_ready;
	uv_timer_t grace;               /* shutdown: waits for StopCCN acknowledgements */
	bool grace_ready;
	uint64_t grace_end;
};

/* ---- endpoint ---- */

/* Initialises the tables (ops, role, conf and ho_vendor set; tx, or
 * l2tp_ep_server_open later).  -ENOMEM. */
int l2tp_ep_init(struct l2tp_endpoint *ep);
/* Sets ops, role, conf, ho_vendor (all borrowed) and initiator, then l2tp_ep_init.  -ENOMEM. */
int l2tp_ep_init_role(struct l2tp_endpoint *ep, const struct l2tp_endpoint_ops *ops, void *role,
		      const struct l2tp_tunnel_conf *conf, const uint16_t *ho_vendor,
		      bool initiator);
/* Frees every tunnel and session without sending anything, and the tables (safe twice). */
void l2tp_ep_destroy(struct l2tp_endpoint *ep);
/* Handles one datagram from src received at dst (may be NULL) at monotonic now.  Never fails:
 * drops are counted. */
void l2tp_ep_input(struct l2tp_endpoint *ep, const uint8_t *pkt, size_t len,
		   const struct roam_sockaddr *src, const struct roam_ipaddr *dst, uint64_t now);
/* Runs the timers due at now. */
void l2tp_ep_run_timers(struct l2tp_endpoint *ep, uint64_t now);
/* When l2tp_ep_run_timers next has work (TABLE_NEVER: nothing). */
uint64_t l2tp_ep_next_timer(struct l2tp_endpoint *ep);
/* StopCCN (result) on every tunnel not already closing (shutdown). */
void l2tp_ep_stop_all(struct l2tp_endpoint *ep, uint16_t result, uint64_t now);
/* 1 when every tunnel's channel has nothing unacknowledged (or has failed). */
int l2tp_ep_all_idle(struct l2tp_endpoint *ep);
/* Drop helper for the role's new_tunnel: logs "drop ... why" rate-limited. */
void l2tp_ep_log_drop(struct l2tp_endpoint *ep, size_t len, const struct roam_sockaddr *src,
		      const char *why, uint64_t now);
/* Fills a Result Code AVP value: result, and error and msg (may be NULL; borrowed until the
 * message is encoded) when either is given. */
void l2tp_result_set(struct l2tp_result *res, uint16_t result, uint16_t error, const char *msg);
/* A cleared message of type in ep->txm (session id set), for l2tp_tunnel_send. */
struct l2tp_msg *l2tp_ep_msg(struct l2tp_endpoint *ep, uint16_t type, uint16_t session_id);
/* Codec options for t (its secret, the handoff vendor); t may be NULL (no secret). */
void l2tp_ep_codec_opts(const struct l2tp_endpoint *ep, const struct l2tp_tunnel *t,
			struct l2tp_codec_opts *o);

/* ---- tunnels ---- */

/* Allocates a tunnel of size bytes (>= sizeof(struct l2tp_tunnel), zeroed; the role's struct
 * starting with struct l2tp_tunnel) with a fresh id, its channel (peer_id and peer_window
 * when known, else 0), secret (may be NULL), in state 0 with the set-up deadline, and inserts
 * it in ep->tunnels.  -ENOMEM, -ENOSPC (tunnel limit), -ESHUTDOWN (stopping), -EINVAL. */
int l2tp_tunnel_new(struct l2tp_endpoint *ep, size_t size, const struct roam_sockaddr *peer,
		    const struct roam_ipaddr *local, uint16_t peer_id, uint16_t peer_window,
		    const uint8_t *secret, size_t secret_len, bool hide, uint64_t now,
		    struct l2tp_tunnel **out);
/* Frees t at once (its sessions through ops->session_free; nothing is sent). */
void l2tp_tunnel_free(struct l2tp_tunnel *t);
/* Frees t, just made by l2tp_tunnel_new, when the role cannot take it (its index is full, the
 * first message did not go out): as l2tp_tunnel_free, but it never counts as a tunnel. */
void l2tp_tunnel_discard(struct l2tp_tunnel *t);
struct l2tp_tunnel *l2tp_tunnel_find(struct l2tp_endpoint *ep, uint16_t id);
/* Encodes m (header Tunnel ID = the peer's) and queues it on t's channel (or its backlog).
 * Counted by type.  -ENOBUFS (backlog full), codec errors. */
int l2tp_tunnel_send(struct l2tp_tunnel *t, struct l2tp_msg *m, uint64_t now);
/* StopCCN (RFC 2661 5.7): clears every session without CDN, then lingers; without a peer id
 * (no answer yet) nothing can be sent and t dies. */
void l2tp_tunnel_stop(struct l2tp_tunnel *t, uint16_t result, uint16_t error, const char *msg,
		      uint64_t now);
/* Closes tunnel id with StopCCN 1 "administrative" (operator).  -ENOENT. */
int l2tp_tunnel_stop_id(struct l2tp_endpoint *ep, uint16_t id, uint64_t now);
/* Re-arms t's timer. */
void l2tp_tunnel_arm(struct l2tp_tunnel *t);
/* After an operation on t outside l2tp_ep_input/timers: free it if dead, else flush its
 * backlog and re-arm. */
void l2tp_tunnel_done(struct l2tp_tunnel *t);
/* t is established (the role's answer to the set-up message went out): state, counters. */
void l2tp_tunnel_established(struct l2tp_tunnel *t, uint64_t now);
/* SCCRQ or SCCRP (type; RFC 2661 6.1, 6.2) in ep->txm with what both ends send: Protocol
 * Version 1.0, Framing Capabilities sync and async, bearer_cap, Host Name host_name (borrowed
 * until the message is sent), Vendor Name "roam", Firmware Revision 1.0, Assigned Tunnel ID
 * t->id and our Receive Window Size.  The role adds its challenge and response. */
struct l2tp_msg *l2tp_tunnel_setup_msg(struct l2tp_tunnel *t, uint16_t type, const char *host_name,
				       uint32_t bearer_cap);
/* The key of a peer's address and UDP port (L2TP_PEER_KEYLEN bytes), for a role's index of its
 * tunnels by peer. */
#define L2TP_PEER_KEYLEN (ROAM_IPADDR_KEYLEN + 2)
void l2tp_peer_key(uint8_t *k, const struct roam_sockaddr *peer);
/* The peer's Host Name into t->host_name ("?" when unusable). */
void l2tp_tunnel_set_host_name(struct l2tp_tunnel *t, const struct l2tp_msg *m);
const char *l2tp_tunnel_state_name(const struct l2tp_endpoint *ep, int state);

/* Tunnel authentication (RFC 2661 4.4.3, 5.1.1): draws our Challenge into t->challenge. */
int l2tp_tunnel_new_challenge(struct l2tp_tunnel *t);
/* Draws our Challenge (l2tp_tunnel_new_challenge) and puts it in m (SCCRQ or SCCRP). */
int l2tp_tunnel_put_challenge(struct l2tp_tunnel *t, struct l2tp_msg *m);
/* Checks m's Challenge Response (to our t->challenge, for message type `type`); counts and
 * logs a failure.  0, or -EACCES (StopCCN 4 is then sent). */
int l2tp_tunnel_verify_response(struct l2tp_tunnel *t, uint16_t type, const struct l2tp_msg *m,
				uint64_t now);
/* Puts the response to the peer's Challenge in m (of type type) and marks the AVP. */
int l2tp_tunnel_answer_challenge(struct l2tp_tunnel *t, const struct l2tp_msg *peer,
				 struct l2tp_msg *m);

/* ---- sessions ---- */

struct l2tp_session *l2tp_session_find(struct l2tp_endpoint *ep, uint16_t tunnel_id,
				       uint16_t session_id);
/* A fresh session id on t (0: none available). */
uint16_t l2tp_session_alloc_id(struct l2tp_tunnel *t);
/* Links s (the role's, zeroed, id set) into t and ep->sessions.  -ENOMEM. */
int l2tp_session_add(struct l2tp_tunnel *t, struct l2tp_session *s);
/* Unlinks s from t and ep->sessions, then ops->session_free. */
void l2tp_session_free(struct l2tp_session *s);
/* CDN (RFC 2661 6.11): Assigned Session ID our_id, header Session ID peer_id. */
void l2tp_session_send_cdn(struct l2tp_tunnel *t, uint16_t our_id, uint16_t peer_id,
			   uint16_t result, uint16_t error, const char *msg, uint64_t now);
const char *l2tp_session_state_name(const struct l2tp_endpoint *ep, int state);
/* Sends one PPP frame (address/control and protocol included, no HDLC framing; borrowed) as a
 * data message on s (header Tunnel and Session ID = the peer's, L bit, S bit and Ns when
 * s->data_seq).  -ENOTCONN (no peer session id yet or tunnel not established), -EMSGSIZE. */
int l2tp_session_send_data(struct l2tp_session *s, const uint8_t *ppp, size_t len);

/* ---- control commands ---- */

/* The shared counters as JSON members (rx_<msg>, tx_<msg> by message name). */
void l2tp_ep_stats_json(const struct l2tp_endpoint *ep, struct json_writer *w);
/* Shared status members: tunnels, tunnels_established, sessions. */
void l2tp_ep_status_json(struct l2tp_endpoint *ep, struct json_writer *w);
/* Registers tunnels, sessions and stop-tunnel on ctl.  -1 on error. */
int l2tp_ep_ctl_register(struct l2tp_endpoint *ep, struct roam_ctl *ctl);

/* ---- UDP glue (port 1701) ---- */

/* Opens the UDP socket on listen:port and the loop timer; sets ep->tx.  Errors logged. */
int l2tp_ep_server_open(struct l2tp_endpoint *ep, uv_loop_t *loop,
			const struct roam_ipaddr *listen, uint16_t port);
/* Closes the socket and the timers (safe twice). */
void l2tp_ep_server_close(struct l2tp_endpoint *ep);
/* How long a daemon's shutdown waits for the StopCCN acknowledgements (lacd, lnsd). */
#define L2TP_EP_SHUTDOWN_GRACE_MS 4000
/* Shutdown: no new tunnel; StopCCN (Result 6) on every tunnel, then the socket and timers are
 * closed once every StopCCN is acknowledged or grace_ms passed (at once when there is no
 * tunnel or no socket). */
void l2tp_ep_shutdown(struct l2tp_endpoint *ep, uint64_t grace_ms);
/* Re-arms the loop timer after the state machine ran outside a socket or timer callback. */
void l2tp_ep_server_rearm(struct l2tp_endpoint *ep);

#endif
