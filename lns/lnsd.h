/* lnsd: the L2TP Network Server (RFC 2661), the tunnel endpoint of seed 000 (US 2003/0224792,
 * "tunnel endpoint server 50").  Accepts control connections from configured LACs (by address
 * or host name, with tunnel authentication when a secret is set) and incoming calls on them.
 * Wire format: docs/protocols/l2tp.md; codec and reliable channel: common/proto/l2tp.
 *
 * Files: main.c (argv, config, loop), conf.c (the lnsd.yaml schema), tunnel.c (the control
 * connection state machine, RFC 2661 7.2.1, LNS side), session.c (incoming calls, RFC 2661
 * 7.4.2, LNS side), server.c (the UDP socket and the timer glue), ctl.c (control commands).
 *
 * The state machines never touch a socket or read a clock: every entry point takes `now`
 * (monotonic ms) and datagrams go out through h->tx, so tests drive them on a fake clock. */
#ifndef LNSD_H
#define LNSD_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "roam/addr.h"
#include "roam/conf.h"
#include "roam/ctl.h"
#include "roam/daemon.h"
#include "roam/l2tp.h"
#include "roam/l2tp_ctrl.h"
#include "roam/log.h"
#include "roam/stats.h"
#include "roam/table.h"
#include "roam/udp.h"

#define LNSD_HOST_NAME_MAX 63
#define LNSD_SECRET_MAX 256

/* ---- configuration (conf.c; lnsd.yaml(5)) ---- */

struct lnsd_conf_peer {
	struct roam_ipaddr address;   /* family 0: any address (then host_name must match) */
	char *host_name;              /* NULL/empty: any host name (then address must match) */
	struct conf_bytes secret;     /* tunnel secret; empty: no tunnel authentication */
	bool hide_avps;               /* hide the AVPs RFC 2661 allows (needs the secret) */
};

struct lnsd_conf_tunnel {
	uint32_t hello_interval;      /* ms */
	uint16_t receive_window;
	uint32_t retransmit_initial;  /* ms */
	uint32_t retransmit_max;      /* ms */
	uint8_t max_retries;
	uint32_t linger;              /* ms after StopCCN */
	uint32_t setup_timeout;       /* ms for SCCRQ..SCCCN and ICRQ..ICCN */
	uint32_t max_tunnels;
	uint32_t max_sessions;        /* per tunnel */
};

struct lnsd_conf_handoff {
	uint16_t vendor_id;           /* Vendor ID of the handoff extension AVPs */
};

struct lnsd_conf {
	struct roam_ipaddr listen;
	uint16_t port;
	char *host_name;
	char *control_socket;
	char *user;
	int log_level;
	bool accept_any;              /* tunnels from peers not listed, without authentication */
	struct lnsd_conf_tunnel tunnel;
	struct lnsd_conf_peer *peers;
	size_t npeers;
	struct lnsd_conf_handoff handoff;
};

extern const struct conf_schema lnsd_conf_schema;

/* Loads and checks path into *c; on error every problem is printed (print) or logged and *c is
 * untouched; err (may be NULL) gets the first error line. */
int lnsd_conf_load(struct lnsd_conf *c, const char *path, int print, char *err, size_t errlen);
/* Same from a string (tests). */
int lnsd_conf_load_string(struct lnsd_conf *c, const char *text, char *err, size_t errlen);
void lnsd_conf_free(struct lnsd_conf *c);

/* ---- tunnels and sessions ---- */

enum lnsd_tunnel_state {
	LNSD_T_WAIT_CTL_CONN = 1, /* SCCRP sent, waiting for SCCCN */
	LNSD_T_ESTABLISHED,
	LNSD_T_CLOSING,           /* StopCCN sent or received: lingering to acknowledge */
};

enum lnsd_session_state {
	LNSD_S_WAIT_CONNECT = 1, /* ICRP sent, waiting for ICCN */
	LNSD_S_ESTABLISHED,
};

struct lnsd_tunnel;

#define LNSD_BACKLOG_MAX 16384 /* control messages queued per tunnel beyond the channel's */

struct lnsd_backlog {
	struct lnsd_backlog *next;
	size_t len;
	uint8_t pkt[];
};

struct lnsd_session {
	struct table_node node;        /* h->sessions, key: tunnel id + session id */
	uint8_t key[4];
	uint16_t id, peer_id;
	struct lnsd_tunnel *t;
	struct lnsd_session *next;     /* in t->sessions */
	int state;
	uint32_t serial, tx_speed, rx_speed, framing_type, bearer_type;
	bool seq_required;
	char calling[64], called[64];
	uint64_t created, established, deadline; /* deadline: ICCN due (0: none) */
	uint64_t rx_data;              /* data messages received (PPP is not terminated yet) */
};

struct lnsd_tunnel {
	struct table_node node;        /* h->tunnels, key: id (2 bytes) */
	struct table_node pnode;       /* h->by_peer, key: pkey */
	struct table_node tnode;       /* h->timers, key: id */
	uint8_t key[2];
	uint8_t pkey[ROAM_IPADDR_KEYLEN + 4];
	uint16_t id, peer_id;
	struct roam_sockaddr peer;
	struct roam_ipaddr local;      /* address the peer reached us at (family 0: unknown) */
	int state;
	struct l2tp_ctrl ctrl;
	struct lnsd *h;
	char host_name[LNSD_HOST_NAME_MAX + 1];
	uint8_t secret[LNSD_SECRET_MAX];
	size_t secret_len;
	bool hide;
	uint8_t challenge[16];         /* ours, sent in SCCRP */
	bool authenticated;            /* challenge exchange done in both directions */
	uint64_t created, established, deadline; /* deadline: setup or linger end, 0: none */
	uint32_t close_result;         /* StopCCN result sent or received */
	bool stop_by_peer;
	bool dead;                     /* free once the current call returns */
	struct lnsd_session *sessions;
	/* Messages waiting for room in the channel's queue (L2TP_CTRL_TXQ_MAX), in order. */
	struct lnsd_backlog *backlog, **backlog_tail;
	uint32_t nbacklog;
	uint32_t nsessions;
	uint32_t next_serial;
};

struct lnsd_stats {
	uint64_t rx_packets, rx_control, rx_zlb, rx_data;
	uint64_t drop_malformed, drop_bad_version, drop_hidden_no_key, drop_unknown_tunnel,
		drop_wrong_peer, drop_not_sccrq, drop_unknown_session, drop_data_unhandled,
		drop_ctrl_nomem;
	uint64_t rx_sccrq, rx_scccn, rx_stopccn, rx_hello, rx_icrq, rx_iccn, rx_cdn, rx_ocrq,
		rx_wen, rx_sli, rx_other, rx_unknown_ignored;
	uint64_t tx_backlogged;
	uint64_t tx_sccrp, tx_stopccn, tx_hello, tx_icrp, tx_cdn, tx_errors;
	uint64_t tunnels_requested, tunnels_established, tunnels_authenticated;
	uint64_t tunnels_refused_peer, tunnels_refused_auth, tunnels_refused_version,
		tunnels_refused_limit, tunnels_refused_malformed;
	uint64_t tunnels_closed_by_peer, tunnels_closed_local, tunnels_timed_out, tunnels_freed;
	uint64_t sessions_requested, sessions_established, sessions_refused, sessions_closed_by_peer,
		sessions_closed_local, sessions_timed_out, ocrq_refused;
	uint64_t unknown_mandatory_avp, fsm_errors;
	uint64_t ctrl_retransmits, ctrl_duplicates, ctrl_out_of_order; /* of freed tunnels */
};

/* Sends one datagram to dst from src (family 0: kernel's choice).  Borrowed buffers. */
typedef void (*lnsd_tx_fn)(void *arg, const struct roam_sockaddr *dst,
			   const struct roam_ipaddr *src, const uint8_t *pkt, size_t len);

struct lnsd {
	uv_loop_t *loop;               /* NULL in unit tests */
	const char *config_path;
	bool debug;
	struct lnsd_conf conf;
	lnsd_tx_fn tx;
	void *tx_arg;
	struct table tunnels, by_peer, timers, sessions;
	bool tables_ready;
	struct l2tp_msg rx, txm;       /* scratch messages (large) */
	struct roam_udp *udp;
	uv_timer_t timer;
	bool timer_ready;
	uv_timer_t grace;              /* shutdown: waits for StopCCN acknowledgements */
	bool grace_ready;
	uint64_t grace_end;
	struct roam_ctl *ctl;
	struct roam_daemon *daemon;
	struct lnsd_stats stats;
	struct log_ratelimit drop_rl;
	uint64_t started_wall;
	bool stopping;
	uint64_t now;                  /* of the call being processed */
};

/* tunnel.c */
/* Initialises the tables (conf must be loaded, tx set).  -ENOMEM, -EIO. */
int lnsd_core_init(struct lnsd *h);
/* Frees every tunnel and session without sending anything, and the tables. */
void lnsd_core_destroy(struct lnsd *h);
/* Handles one datagram from src received at dst (may be NULL) at monotonic now.  Never fails:
 * drops are counted. */
void lnsd_input(struct lnsd *h, const uint8_t *pkt, size_t len, const struct roam_sockaddr *src,
		const struct roam_ipaddr *dst, uint64_t now);
/* Runs the timers due at now (retransmissions, acknowledgements, HELLO, linger, set-up). */
void lnsd_run_timers(struct lnsd *h, uint64_t now);
/* When lnsd_run_timers next has work (TABLE_NEVER: nothing). */
uint64_t lnsd_next_timer(struct lnsd *h);
/* Sends StopCCN (result) on every tunnel not already closing (shutdown). */
void lnsd_stop_all(struct lnsd *h, uint16_t result, uint64_t now);
/* Closes one tunnel with StopCCN (operator); -ENOENT. */
int lnsd_tunnel_stop_id(struct lnsd *h, uint16_t id, uint64_t now);
struct lnsd_tunnel *lnsd_tunnel_find(struct lnsd *h, uint16_t id);
/* 1 when every tunnel's control channel has nothing unacknowledged. */
int lnsd_all_idle(struct lnsd *h);
const char *lnsd_tunnel_state_name(int state);
/* Internal to tunnel.c / session.c. */
int lnsd_tunnel_send(struct lnsd_tunnel *t, struct l2tp_msg *m, uint64_t now);
void lnsd_tunnel_stop(struct lnsd_tunnel *t, uint16_t result, uint16_t error, const char *msg,
		      uint64_t now);
void lnsd_tunnel_arm(struct lnsd_tunnel *t);

/* session.c */
/* Handles a delivered session message (ICRQ, ICCN, CDN, OCRQ, WEN, SLI) on tunnel t. */
void lnsd_session_msg(struct lnsd_tunnel *t, const struct l2tp_msg *m, uint64_t now);
struct lnsd_session *lnsd_session_find(struct lnsd *h, uint16_t tunnel_id, uint16_t session_id);
/* Sends CDN and frees the session. */
void lnsd_session_close(struct lnsd_session *s, uint16_t result, uint16_t error,
			const char *msg, uint64_t now);
/* Frees a session without sending anything (tunnel gone). */
void lnsd_session_free(struct lnsd_session *s);
/* Session set-up deadlines of tunnel t (called from the tunnel's timer). */
void lnsd_session_timers(struct lnsd_tunnel *t, uint64_t now);
/* Earliest session deadline of t, or UINT64_MAX. */
uint64_t lnsd_session_next(const struct lnsd_tunnel *t);
const char *lnsd_session_state_name(int state);

/* server.c */
int lnsd_server_open(struct lnsd *h);
void lnsd_server_close(struct lnsd *h);
/* Re-arms the loop timer after the state machines ran. */
void lnsd_server_rearm(struct lnsd *h);

/* ctl.c */
int lnsd_ctl_register(struct lnsd *h);
void lnsd_status(void *arg, struct json_writer *w);

#endif
