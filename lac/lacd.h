/* lacd: the L2TP Access Concentrator (RFC 2661), the tunnel initiator of seed 000
 * (US 2003/0224792, "tunnel initiators 30 and 40").  For each mobile (identified by its MIN)
 * it finds the LNS (a static table in its config), sets up a control connection to it (with
 * tunnel authentication when a secret is set) and places an incoming call; a tunnel whose last
 * session ended is closed after an idle time.  Wire format: docs/protocols/l2tp.md; codec and
 * reliable channel: common/proto/l2tp.
 *
 * Files: main.c (argv, config, loop), conf.c (the lacd.yaml schema, the MIN -> LNS table),
 * tunnel.c (the control connection state machine, RFC 2661 7.2.1, LAC side), session.c
 * (incoming calls, RFC 2661 7.4.1, LAC side), server.c (UDP socket, timer glue), ctl.c
 * (control commands: call and hangup stand in for the access link until it exists).
 *
 * The state machines never touch a socket or read a clock: every entry point takes `now`
 * (monotonic ms) and datagrams go out through h->tx, so tests drive them on a fake clock. */
#ifndef LACD_H
#define LACD_H
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

#define LACD_HOST_NAME_MAX 63
#define LACD_SECRET_MAX 256
#define LACD_CONNECT_SPEED 9600 /* the emulated radio link's nominal rate (Connect Speed AVP) */

/* ---- configuration (conf.c; lacd.yaml(5)) ---- */

struct lacd_conf_lns {
	char *min;                    /* "15551230001" exact, "1555*" prefix, "*" any */
	struct roam_ipaddr address;   /* the LNS */
	uint16_t port;
	struct conf_bytes secret;     /* tunnel secret; empty: no tunnel authentication */
	bool hide_avps;               /* hide the AVPs RFC 2661 allows (needs secret) */
};

struct lacd_conf_tunnel {
	uint32_t hello_interval;      /* ms */
	uint16_t receive_window;
	uint32_t retransmit_initial;  /* ms */
	uint32_t retransmit_max;      /* ms */
	uint8_t max_retries;
	uint32_t linger;              /* ms after StopCCN */
	uint32_t setup_timeout;       /* ms for SCCRQ..SCCRP and ICRQ..ICRP */
	uint32_t idle_timeout;        /* ms a tunnel without sessions is kept */
	uint32_t max_tunnels;
	uint32_t max_sessions;        /* per tunnel */
};

struct lacd_conf_handoff {
	uint16_t vendor_id;           /* Vendor ID of the handoff extension AVPs */
};

struct lacd_conf {
	struct roam_ipaddr listen;
	uint16_t port;
	char *host_name;
	char *control_socket;
	char *user;
	int log_level;
	struct lacd_conf_tunnel tunnel;
	struct lacd_conf_lns *lns;
	size_t nlns;
	struct lacd_conf_handoff handoff;
};

extern const struct conf_schema lacd_conf_schema;

int lacd_conf_load(struct lacd_conf *c, const char *path, int print, char *err, size_t errlen);
int lacd_conf_load_string(struct lacd_conf *c, const char *text, char *err, size_t errlen);
void lacd_conf_free(struct lacd_conf *c);
/* The LNS entry for min: an exact entry, else the longest matching prefix; NULL if none. */
const struct lacd_conf_lns *lacd_conf_route(const struct lacd_conf *c, const char *min);

/* ---- tunnels and sessions ---- */

enum lacd_tunnel_state {
	LACD_T_WAIT_CTL_REPLY = 1, /* SCCRQ sent */
	LACD_T_ESTABLISHED,        /* SCCCN sent */
	LACD_T_CLOSING,            /* StopCCN sent or received: lingering */
};

enum lacd_session_state {
	LACD_S_WAIT_TUNNEL = 1,    /* the tunnel is being set up */
	LACD_S_WAIT_REPLY,         /* ICRQ sent */
	LACD_S_ESTABLISHED,        /* ICCN sent */
};

struct lacd_tunnel;

#define LACD_BACKLOG_MAX 16384 /* control messages queued per tunnel beyond the channel's */

struct lacd_backlog {
	struct lacd_backlog *next;
	size_t len;
	uint8_t pkt[];
};

struct lacd_session {
	struct table_node node;        /* h->sessions, key: tunnel id + session id */
	struct table_node mnode;       /* h->by_min, key: min */
	uint8_t key[4];
	uint16_t id, peer_id;
	struct lacd_tunnel *t;
	struct lacd_session *next;     /* in t->sessions */
	int state;
	uint32_t serial;
	char min[L2TP_MIN_MAX + 1];
	uint64_t created, established, deadline; /* deadline: ICRP due (0: none) */
	uint64_t rx_data;
};

struct lacd_tunnel {
	struct table_node node;        /* h->tunnels, key: id */
	struct table_node lnode;       /* h->by_lns, key: lkey (only while not closing) */
	struct table_node tnode;       /* h->timers, key: id */
	uint8_t key[2];
	uint8_t lkey[ROAM_IPADDR_KEYLEN + 2];
	uint16_t id, peer_id;
	struct roam_sockaddr peer;
	int state;
	struct l2tp_ctrl ctrl;
	struct lacd *h;
	char host_name[LACD_HOST_NAME_MAX + 1]; /* the LNS's */
	uint8_t secret[LACD_SECRET_MAX];
	size_t secret_len;
	bool hide;
	uint8_t challenge[16];
	bool authenticated;
	uint64_t created, established, deadline; /* set-up, idle or linger end; 0: none */
	uint32_t close_result;
	bool stop_by_peer;
	bool dead;
	struct lacd_session *sessions;
	/* Messages waiting for room in the channel's queue (L2TP_CTRL_TXQ_MAX), in order. */
	struct lacd_backlog *backlog, **backlog_tail;
	uint32_t nbacklog;
	uint32_t nsessions;
};

struct lacd_stats {
	uint64_t rx_packets, rx_control, rx_zlb, rx_data;
	uint64_t drop_malformed, drop_bad_version, drop_hidden_no_key, drop_unknown_tunnel,
		drop_wrong_peer, drop_tunnel_id_zero, drop_unknown_session, drop_data_unhandled,
		drop_ctrl_nomem;
	uint64_t rx_sccrp, rx_stopccn, rx_hello, rx_icrp, rx_cdn, rx_other, rx_unknown_ignored;
	uint64_t tx_backlogged;
	uint64_t tx_sccrq, tx_scccn, tx_stopccn, tx_hello, tx_icrq, tx_iccn, tx_cdn, tx_errors;
	uint64_t tunnels_requested, tunnels_established, tunnels_authenticated;
	uint64_t tunnels_refused_by_peer, tunnels_auth_failed, tunnels_closed_by_peer,
		tunnels_closed_local, tunnels_closed_idle, tunnels_timed_out, tunnels_freed;
	uint64_t calls_requested, calls_refused_no_lns, calls_refused_busy, calls_failed;
	uint64_t sessions_established, sessions_closed_by_peer, sessions_closed_local,
		sessions_timed_out;
	uint64_t unknown_mandatory_avp, fsm_errors;
	uint64_t ctrl_retransmits, ctrl_duplicates;
};

typedef void (*lacd_tx_fn)(void *arg, const struct roam_sockaddr *dst, const uint8_t *pkt,
			   size_t len);

struct lacd {
	uv_loop_t *loop;               /* NULL in unit tests */
	const char *config_path;
	bool debug;
	struct lacd_conf conf;
	lacd_tx_fn tx;
	void *tx_arg;
	struct table tunnels, by_lns, timers, sessions, by_min;
	bool tables_ready;
	struct l2tp_msg rx, txm;
	uint32_t next_serial;
	struct roam_udp *udp;
	uv_timer_t timer;
	bool timer_ready;
	uv_timer_t grace;
	bool grace_ready;
	uint64_t grace_end;
	struct roam_ctl *ctl;
	struct roam_daemon *daemon;
	struct lacd_stats stats;
	struct log_ratelimit drop_rl;
	uint64_t started_wall;
	bool stopping;
	uint64_t now;
};

/* tunnel.c */
int lacd_core_init(struct lacd *h);
void lacd_core_destroy(struct lacd *h);
void lacd_input(struct lacd *h, const uint8_t *pkt, size_t len, const struct roam_sockaddr *src,
		uint64_t now);
void lacd_run_timers(struct lacd *h, uint64_t now);
uint64_t lacd_next_timer(struct lacd *h);
void lacd_stop_all(struct lacd *h, uint16_t result, uint64_t now);
int lacd_all_idle(struct lacd *h);
struct lacd_tunnel *lacd_tunnel_find(struct lacd *h, uint16_t id);
const char *lacd_tunnel_state_name(int state);
/* The tunnel to lns (not closing), created (SCCRQ sent) when there is none.  secret may be
 * NULL.  -ENOMEM, -ENOSPC (tunnel limit), -ESHUTDOWN (stopping). */
int lacd_tunnel_get(struct lacd *h, const struct roam_sockaddr *lns, const uint8_t *secret,
		    size_t secret_len, bool hide, uint64_t now, struct lacd_tunnel **out);
int lacd_tunnel_send(struct lacd_tunnel *t, struct l2tp_msg *m, uint64_t now);
void lacd_tunnel_stop(struct lacd_tunnel *t, uint16_t result, uint16_t error, const char *msg,
		      uint64_t now);
void lacd_tunnel_arm(struct lacd_tunnel *t);
/* A session of t ended: start the idle timer when it was the last. */
void lacd_tunnel_session_gone(struct lacd_tunnel *t, uint64_t now);
/* After an operation on t outside lacd_input/timers: free it if dead, else re-arm. */
void lacd_tunnel_done(struct lacd_tunnel *t);

/* session.c */
/* Places an incoming call for min (validated) to lns (NULL: from the config's table).
 * Errors: -EINVAL (bad MIN), -EEXIST (a call for min exists), -EHOSTUNREACH (no LNS for
 * min), -ENOMEM, -ENOSPC.  *out (may be NULL) gets the session. */
int lacd_call(struct lacd *h, const char *min, const struct roam_sockaddr *lns, uint64_t now,
	      struct lacd_session **out);
/* Clears the call of min with CDN (result).  -ENOENT. */
int lacd_hangup(struct lacd *h, const char *min, uint16_t result, uint64_t now);
struct lacd_session *lacd_session_by_min(struct lacd *h, const char *min);
struct lacd_session *lacd_session_find(struct lacd *h, uint16_t tunnel_id, uint16_t session_id);
/* The tunnel is up: send the ICRQs of the calls waiting for it. */
void lacd_session_tunnel_up(struct lacd_tunnel *t, uint64_t now);
void lacd_session_msg(struct lacd_tunnel *t, const struct l2tp_msg *m, uint64_t now);
void lacd_session_close(struct lacd_session *s, uint16_t result, uint16_t error, const char *msg,
			uint64_t now);
void lacd_session_free(struct lacd_session *s);
void lacd_session_timers(struct lacd_tunnel *t, uint64_t now);
uint64_t lacd_session_next(const struct lacd_tunnel *t);
const char *lacd_session_state_name(int state);

/* server.c */
int lacd_server_open(struct lacd *h);
void lacd_server_close(struct lacd *h);
void lacd_server_rearm(struct lacd *h);

/* ctl.c */
int lacd_ctl_register(struct lacd *h);
void lacd_status(void *arg, struct json_writer *w);

#endif
