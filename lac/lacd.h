/* lacd: the L2TP Access Concentrator (RFC 2661), the tunnel initiator of seed 000
 * (US 2003/0224792, "tunnel initiators 30 and 40").  For each mobile (identified by its MIN)
 * it finds the LNS (a static table in its config), sets up a control connection to it (with
 * tunnel authentication when a secret is set) and places an incoming call; a tunnel whose last
 * session ended is closed after an idle time.  Wire format: docs/protocols/l2tp.md; codec and
 * reliable channel: common/proto/l2tp.
 *
 * Files: main.c (argv, config, loop), conf.c (the lacd.yaml schema, the MIN -> LNS table),
 * tunnel.c (the LAC's side of the control connection, RFC 2661 7.2.1: SCCRQ, SCCRP, idle
 * teardown), session.c (incoming calls, RFC 2661 7.4.1, LAC side), ctl.c (control commands:
 * call and hangup stand in for the access link until it exists).  What both ends of a tunnel
 * do (sending, timers, the receive path, StopCCN, the tables, UDP 1701) is the shared
 * struct l2tp_endpoint of roam/l2tp_tunnel.h, driven through its ops.
 *
 * The state machines never touch a socket or read a clock: every entry point takes `now`
 * (monotonic ms) and datagrams go out through h->ep.tx, so tests drive them on a fake clock. */
#ifndef LACD_H
#define LACD_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "roam/access.h"
#include "roam/addr.h"
#include "roam/conf.h"
#include "roam/ctl.h"
#include "roam/daemon.h"
#include "roam/l2tp.h"
#include "roam/l2tp_ctrl.h"
#include "roam/l2tp_tunnel.h"
#include "roam/log.h"
#include "roam/ppp.h"
#include "roam/stats.h"
#include "roam/table.h"
#include "roam/udp.h"

#define LACD_HOST_NAME_MAX L2TP_TUNNEL_HOST_NAME_MAX
#define LACD_SECRET_MAX L2TP_TUNNEL_SECRET_MAX
#define LACD_CONNECT_SPEED 9600 /* the emulated radio link's nominal rate (Connect Speed AVP) */

/* ---- configuration (conf.c; lacd.yaml(5)) ---- */

struct lacd_conf_lns {
	char *min;                    /* "15551230001" exact, "1555*" prefix, "*" any */
	struct roam_ipaddr address;   /* the LNS */
	uint16_t port;
	struct conf_bytes secret;     /* tunnel secret; empty: no tunnel authentication */
	bool hide_avps;               /* hide the AVPs RFC 2661 allows (needs secret) */
};

struct lacd_conf_handoff {
	uint16_t vendor_id;           /* Vendor ID of the handoff extension AVPs */
};

/* The access link to the mobiles (docs/protocols/access-link.md). */
struct lacd_conf_access {
	bool enabled;
	struct roam_ipaddr listen;    /* IPv4 address to bind (0.0.0.0: any) */
	uint16_t port;
	char *interface;              /* the cell interface (group join, DETACH); "": none */
	struct roam_ipaddr group;     /* all-LACs group joined on interface */
	uint32_t keepalive_interval;  /* ms, told to the mobile */
	uint32_t dead_interval;       /* ms without a message: the mobile is lost */
	bool data_sequencing;         /* send L2TP data messages with Ns */
	uint32_t max_links;
};

struct lacd_conf {
	struct roam_ipaddr listen;
	uint16_t port;
	char *host_name;
	char *control_socket;
	char *user;
	int log_level;
	struct l2tp_tunnel_conf tunnel; /* shared keys plus idle_timeout */
	struct lacd_conf_lns *lns;
	size_t nlns;
	struct lacd_conf_handoff handoff;
	struct lacd_conf_access access;
};

extern const struct conf_schema lacd_conf_schema;

int lacd_conf_load(struct lacd_conf *c, const char *path, int print, char *err, size_t errlen);
int lacd_conf_load_string(struct lacd_conf *c, const char *text, char *err, size_t errlen);
void lacd_conf_free(struct lacd_conf *c);
/* The LNS entry for min: an exact entry, else the longest matching prefix; NULL if none. */
const struct lacd_conf_lns *lacd_conf_route(const struct lacd_conf *c, const char *min);

/* ---- tunnels and sessions ---- */

/* The tunnel states of RFC 2661 7.2.1, LAC side (the shared machine's values). */
enum lacd_tunnel_state {
	LACD_T_WAIT_CTL_REPLY = L2TP_TUN_SETUP, /* SCCRQ sent */
	LACD_T_ESTABLISHED = L2TP_TUN_ESTABLISHED, /* SCCCN sent */
	LACD_T_CLOSING = L2TP_TUN_CLOSING,      /* StopCCN sent or received: lingering */
};

enum lacd_session_state {
	LACD_S_WAIT_TUNNEL = 1,    /* the tunnel is being set up */
	LACD_S_WAIT_REPLY,         /* ICRQ sent */
	LACD_S_ESTABLISHED,        /* ICCN sent */
};

struct lacd_session {
	struct l2tp_session s;         /* first: the shared session */
	struct table_node mnode;       /* h->by_min, key: min */
	char min[L2TP_MIN_MAX + 1];
};

struct lacd_tunnel {
	struct l2tp_tunnel l;          /* first: the shared tunnel */
	struct table_node lnode;       /* h->by_lns, key: lkey (only while not closing) */
	uint8_t lkey[ROAM_IPADDR_KEYLEN + 2];
};

/* One access link: a mobile attached to this LAC (access.c).  Bound to the source address
 * and port of its ATTACH; carries the PPP octet stream of the call of its MIN. */
struct lacd_link {
	struct table_node inode;       /* h->acc.links, key: ikey (link id) */
	struct table_node mnode;       /* h->acc.by_min, key: min */
	uint32_t id;
	uint8_t ikey[4];
	char min[ACCESS_MIN_LEN + 1];
	char nai[ACCESS_NAI_MAX + 1];
	uint32_t nonce;
	struct roam_sockaddr peer;
	struct roam_ipaddr local;      /* the address the mobile reached us at (family 0: any) */
	uint32_t tx_seq;               /* next sequence number we send */
	struct access_seq rx;
	uint64_t created, last_rx;
	struct ppp_hdlc_dec dec;       /* the mobile's octet stream */
	struct ppp_hdlc_tx hdlc;       /* framing towards the mobile (ACCM from SLI) */
	uint64_t rx_msgs, tx_msgs, frames_up, frames_down;
	/* PPP frames from the mobile while the call is being set up (sent at ICCN). */
	struct lacd_frame *pending, **pending_tail;
	uint32_t npending;
};

#define LACD_PENDING_MAX 8
struct lacd_frame {
	struct lacd_frame *next;
	size_t len;
	uint8_t buf[];
};

struct lacd_access_stats {
	uint64_t rx_packets, drop_malformed, drop_bad_version, drop_unknown_type,
		drop_unknown_link, drop_wrong_source, drop_late, drop_not_for_lac, rx_lost;
	uint64_t attach_rx, attach_duplicate, attach_acked, attach_refused, links_replaced;
	uint64_t links_lost, detach_rx, detach_tx, keepalive_rx;
	uint64_t data_rx, data_tx, frames_to_lns, frames_from_lns, drop_frame_no_call,
		drop_frame_bad, drop_frame_unframed, frames_queued, tx_errors;
};

/* Sends one access-link datagram to dst from src (family 0: the kernel's choice). */
typedef void (*lacd_access_tx_fn)(void *arg, const struct roam_sockaddr *dst,
				  const struct roam_ipaddr *src, const uint8_t *pkt, size_t len);

#define LACD_DETACH_REPEAT_MAX 64
struct lacd_detach_repeat {
	struct roam_sockaddr dst;
	struct roam_ipaddr src;
	uint32_t link_id, seq;
	uint16_t cause;
	uint64_t due;                  /* 0: slot free */
};

struct lacd_access {
	struct table links, by_min;
	bool tables_ready;
	lacd_access_tx_fn tx;
	void *tx_arg;
	struct roam_udp *udp;
	uv_timer_t timer;
	bool timer_ready;
	struct lacd_detach_repeat repeat[LACD_DETACH_REPEAT_MAX];
	struct log_ratelimit unknown_rl;  /* DETACH cause 2 answers */
	struct log_ratelimit drop_rl;
	struct lacd_access_stats stats;
};

/* The LAC's own counters (the shared ones are h->ep.stats). */
struct lacd_stats {
	uint64_t drop_tunnel_id_zero;
	uint64_t tunnels_requested, tunnels_refused_by_peer, tunnels_closed_idle;
	uint64_t calls_requested, calls_refused_no_lns, calls_refused_busy, calls_failed;
	uint64_t sessions_established, sessions_closed_by_peer, sessions_closed_local;
};

struct lacd {
	uv_loop_t *loop;               /* NULL in unit tests */
	const char *config_path;
	bool debug;
	struct lacd_conf conf;
	struct l2tp_endpoint ep;       /* tunnels, sessions, UDP 1701 (roam/l2tp_tunnel.h) */
	struct table by_lns, by_min;
	uint32_t next_serial;
	struct roam_ctl *ctl;
	struct roam_daemon *daemon;
	struct lacd_stats stats;
	uint64_t started_wall;
	struct lacd_access acc;        /* access.c */
};

static inline struct lacd_tunnel *lacd_tunnel_of(struct l2tp_tunnel *t)
{
	return (struct lacd_tunnel *)(void *)t;
}

static inline struct lacd_session *lacd_session_of(struct l2tp_session *s)
{
	return (struct lacd_session *)(void *)s;
}

/* tunnel.c */
/* Sets up the endpoint (conf loaded) and the LAC's tables.  -ENOMEM. */
int lacd_core_init(struct lacd *h);
void lacd_core_destroy(struct lacd *h);
/* The tunnel to lns (not closing), created (SCCRQ sent) when there is none.  secret may be
 * NULL.  -ENOMEM, -ENOSPC (tunnel limit), -ESHUTDOWN (stopping). */
int lacd_tunnel_get(struct lacd *h, const struct roam_sockaddr *lns, const uint8_t *secret,
		    size_t secret_len, bool hide, uint64_t now, struct lacd_tunnel **out);
/* A session of t ended: start the idle timer when it was the last. */
void lacd_tunnel_session_gone(struct l2tp_tunnel *t, uint64_t now);

/* session.c */
/* Places an incoming call for min (validated) to lns (NULL: from the config's table).
 * Errors: -EINVAL (bad MIN), -EEXIST (a call for min exists), -EHOSTUNREACH (no LNS for
 * min), -ENOMEM, -ENOSPC.  *out (may be NULL) gets the session. */
int lacd_call(struct lacd *h, const char *min, const struct roam_sockaddr *lns, uint64_t now,
	      struct lacd_session **out);
/* Clears the call of min with CDN (result).  -ENOENT. */
int lacd_hangup(struct lacd *h, const char *min, uint16_t result, uint64_t now);
struct lacd_session *lacd_session_by_min(struct lacd *h, const char *min);
/* The tunnel is up: send the ICRQs of the calls waiting for it. */
void lacd_session_tunnel_up(struct l2tp_tunnel *t, uint64_t now);
/* ops of the shared machine (struct l2tp_endpoint_ops) */
void lacd_session_msg(void *arg, struct l2tp_tunnel *t, struct l2tp_session *s,
		      const struct l2tp_msg *m, uint64_t now);
void lacd_session_close(void *arg, struct l2tp_session *s, uint16_t result, uint16_t error,
			const char *msg, uint64_t now);
void lacd_session_free(void *arg, struct l2tp_session *s);
void lacd_dump_session(void *arg, struct json_writer *w, const struct l2tp_session *s);
extern const char *const lacd_session_state_names[];

/* access.c: the access link (docs/protocols/access-link.md) */
/* Initialises the link tables (before any other lacd_access_* call).  -ENOMEM. */
int lacd_access_init(struct lacd *h);
/* Frees every link without sending anything (safe twice). */
void lacd_access_destroy(struct lacd *h);
/* Opens the UDP socket (access.listen:port), joins access.group on access.interface and
 * starts the timer; sets h->acc.tx.  Errors logged, -errno. */
int lacd_access_open(struct lacd *h, uv_loop_t *loop);
/* Shutdown: DETACH cause 3 to every mobile, socket and timer closed (safe twice). */
void lacd_access_close(struct lacd *h);
/* One datagram from src received at dst (may be NULL).  Never fails: drops are counted. */
void lacd_access_input(struct lacd *h, const uint8_t *pkt, size_t len,
		       const struct roam_sockaddr *src, const struct roam_ipaddr *dst,
		       uint64_t now);
/* Dead-interval checks and DETACH repeats due at now. */
void lacd_access_run_timers(struct lacd *h, uint64_t now);
struct lacd_link *lacd_link_by_min(struct lacd *h, const char *min);
/* The call of min ended (CDN either way, StopCCN): DETACH cause 0 to its mobile, if any. */
void lacd_access_call_gone(struct lacd *h, const char *min, uint64_t now);
/* The call of min is established: the frames queued meanwhile go to the LNS. */
void lacd_access_call_up(struct lacd *h, const char *min);
/* ops.session_data: a PPP frame from the LNS for s, framed towards its mobile. */
void lacd_access_session_data(void *arg, struct l2tp_session *s, const uint8_t *ppp,
			      size_t len, uint64_t now);
/* SLI from the LNS (RFC 2661 6.15): the ACCM used towards the mobile. */
void lacd_access_set_accm(struct lacd *h, const char *min, uint32_t send_accm,
			  uint32_t recv_accm);
void lacd_access_links_json(struct lacd *h, struct json_writer *w);
void lacd_access_stats_json(struct lacd *h, struct json_writer *w);

/* ctl.c */
int lacd_ctl_register(struct lacd *h);
void lacd_status(void *arg, struct json_writer *w);

#endif
