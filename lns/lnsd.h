/* lnsd: the L2TP Network Server (RFC 2661), the tunnel endpoint of seed 000 (US 2003/0224792,
 * "tunnel endpoint server 50").  Accepts control connections from configured LACs (by address
 * or host name, with tunnel authentication when a secret is set) and incoming calls on them.
 * Wire format: docs/protocols/l2tp.md; codec and reliable channel: common/proto/l2tp.
 *
 * Files: main.c (argv, config, loop), conf.c (the lnsd.yaml schema), tunnel.c (the LNS's side
 * of the control connection, RFC 2661 7.2.1: peer matching, SCCRQ, SCCCN), session.c
 * (incoming calls, RFC 2661 7.4.2, LNS side), ppp.c (PPP termination, pool, TUN), handoff.c
 * (parked calls of the handoff extension, docs/protocols/l2tp-handoff.md 6), ctl.c (control
 * commands).  What both ends of a
 * tunnel do (sending, timers, the receive path, StopCCN, the tables, UDP 1701) is the shared
 * struct l2tp_endpoint of roam/l2tp_tunnel.h, driven through its ops.
 *
 * The state machines never touch a socket or read a clock: every entry point takes `now`
 * (monotonic ms) and datagrams go out through h->ep.tx, so tests drive them on a fake clock. */
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
#include "roam/l2tp_tunnel.h"
#include "roam/log.h"
#include "roam/netlink.h"
#include "roam/ppp.h"
#include "roam/snapshot.h"
#include "roam/tun.h"
#include "roam/stats.h"
#include "roam/table.h"
#include "roam/udp.h"

#define LNSD_HOST_NAME_MAX L2TP_TUNNEL_HOST_NAME_MAX
#define LNSD_SECRET_MAX L2TP_TUNNEL_SECRET_MAX

/* ---- configuration (conf.c; lnsd.yaml(5)) ---- */

struct lnsd_conf_peer {
	struct roam_ipaddr address;   /* family 0: any address (then host_name must match) */
	char *host_name;              /* NULL/empty: any host name (then address must match) */
	struct conf_bytes secret;     /* tunnel secret; empty: no tunnel authentication */
	bool hide_avps;               /* hide the AVPs RFC 2661 allows (needs the secret) */
};

struct lnsd_conf_handoff {
	uint16_t vendor_id;           /* Vendor ID of the handoff extension AVPs */
	bool enabled;                 /* park calls on a handoff CDN, resume them on ICRQ */
	uint32_t hold_time;           /* ms a parked call is kept */
	uint32_t buffer;              /* packets for a parked mobile kept (0: dropped) */
	uint32_t buffer_bytes;        /* ... and bytes of them at most, per parked call */
	uint32_t resend_window;       /* ms of sent downstream packets kept for a handoff (0: none) */
	uint32_t resume_rate;         /* packets/s at most of the buffered packets sent on resume */
	char *snapshot;               /* parked calls across restarts; "": not kept */
	uint32_t snapshot_interval;   /* ms between periodic saves */
};

/* PPP termination (ppp.c; docs/protocols/ppp.md). */
enum lnsd_ppp_auth { LNSD_AUTH_NONE = 0, LNSD_AUTH_PAP, LNSD_AUTH_CHAP, LNSD_AUTH_ANY };

struct lnsd_conf_ppp {
	bool enabled;                 /* terminate PPP (else data messages are counted only) */
	int auth;                     /* enum lnsd_ppp_auth */
	struct conf_bytes credentials; /* "name secret" lines (inline or file:/path) */
	char *name;                   /* our CHAP name */
	struct roam_ipaddr local_address; /* our IPCP address */
	struct roam_prefix pool;      /* addresses handed out (network, broadcast, ours excluded) */
	struct roam_ipaddr dns1, dns2; /* family 0: none */
	char *tun;                    /* TUN device name */
	uint32_t mtu;
	uint32_t echo_interval;       /* ms; 0: no LCP echo */
};

struct lnsd_cred {
	char name[PPP_NAME_MAX + 1];
	uint8_t secret[PPP_SECRET_MAX];
	size_t secret_len;
};

struct lnsd_conf {
	struct roam_ipaddr listen;
	uint16_t port;
	char *host_name;
	char *control_socket;
	char *user;
	int log_level;
	bool accept_any;              /* tunnels from peers not listed, without authentication */
	struct l2tp_tunnel_conf tunnel;
	struct lnsd_conf_peer *peers;
	size_t npeers;
	struct lnsd_conf_handoff handoff;
	struct lnsd_conf_ppp ppp;
};

extern const struct conf_schema lnsd_conf_schema;

/* Loads and checks path into *c; on error every problem is printed (print) or logged and *c is
 * untouched; err (may be NULL) gets the first error line. */
int lnsd_conf_load(struct lnsd_conf *c, const char *path, int print, char *err, size_t errlen);
/* Same from a string (tests). */
int lnsd_conf_load_string(struct lnsd_conf *c, const char *text, char *err, size_t errlen);
void lnsd_conf_free(struct lnsd_conf *c);

/* ---- tunnels and sessions ---- */

/* The tunnel states of RFC 2661 7.2.1, LNS side (the shared machine's values). */
enum lnsd_tunnel_state {
	LNSD_T_WAIT_CTL_CONN = L2TP_TUN_SETUP,   /* SCCRP sent, waiting for SCCCN */
	LNSD_T_ESTABLISHED = L2TP_TUN_ESTABLISHED,
	LNSD_T_CLOSING = L2TP_TUN_CLOSING,       /* StopCCN sent or received: lingering */
};

enum lnsd_session_state {
	LNSD_S_WAIT_CONNECT = 1, /* ICRP sent, waiting for ICCN */
	LNSD_S_ESTABLISHED,
};

struct lnsd_pkt;

struct lnsd_session {
	struct l2tp_session s;         /* first: the shared session */
	uint32_t tx_speed, rx_speed, framing_type, bearer_type;
	bool seq_required;
	char calling[64], called[64];
	/* PPP (ppp.c) */
	struct ppp *ppp;               /* NULL: not terminated here (ppp.enabled off) */
	bool ppp_dead;                 /* LINK_DOWN seen: the call is cleared after the call */
	uint32_t addr;                 /* the mobile's address from the pool (0: none) */
	struct table_node anode;       /* h->by_addr, key: akey */
	uint8_t akey[4];
	bool route;                    /* host route installed */
	uint64_t ppp_started, ppp_up;  /* monotonic ms */
	uint64_t rx_ip, tx_ip, drop_spoofed;
	/* handoff (handoff.c): the ICRQ carried an accepted Handoff Request */
	bool ho_pending;
	bool ho_resumed;               /* the call is a resumed parked one */
	char ho_min[L2TP_MIN_MAX + 1];
	uint16_t ho_old_tunnel, ho_old_session;
	bool ho_has_nr;                /* the ICRQ's Call State gave the new LAC's next data Ns */
	uint16_t ho_nr;
	/* the IP packets sent in the last handoff.resend_window, oldest first: those the old
	 * LAC never received (Ns >= its Data Nr at the handoff CDN) go to the parked call */
	struct lnsd_pkt *recent, **recent_tail;
	uint32_t nrecent;
	size_t recent_bytes;
	/* a resumed call's buffered packets not sent yet (paced at handoff.resume_rate); while
	 * any is left, newer packets for the mobile queue behind them */
	struct lnsd_pkt *backlog, **backlog_tail;
	uint32_t nbacklog;
	size_t backlog_bytes;
};

struct lnsd_tunnel {
	struct l2tp_tunnel l;          /* first: the shared tunnel */
	struct table_node pnode;       /* h->by_peer, key: pkey */
	uint8_t pkey[ROAM_IPADDR_KEYLEN + 4];
};

struct lnsd_ppp_stats {
	uint64_t ppp_started, ppp_up, ppp_down, auth_ok, auth_failed, no_address;
	uint64_t addr_assigned, addr_released;
	uint64_t rx_frames, drop_frames_malformed, drop_frames_not_up, rx_ip, tx_ip;
	uint64_t drop_spoofed, drop_tun_not_ipv4, drop_tun_no_session, drop_tun_write,
		drop_send;
	uint64_t routes_added, route_errors;
	uint64_t negotiations;        /* LCP opened by negotiation (not by a handoff import) */
	uint64_t sli_sent;
};

/* A packet for a parked mobile, kept until the call resumes or expires. */
struct lnsd_pkt {
	struct lnsd_pkt *next;
	size_t len;
	uint64_t sent;                 /* recent list: monotonic ms it was sent */
	uint16_t ns;                   /* recent list: its data Ns */
	uint8_t data[];
};

/* A parked call (handoff.c; seed 000 "connection table"): everything needed to resume it on
 * another tunnel without renegotiating PPP. */
struct lnsd_parked {
	struct table_node node;        /* h->parked, key: min (expiry: hold time) */
	struct table_node anode;       /* h->parked_by_addr, key: akey */
	char min[L2TP_MIN_MAX + 1];
	uint8_t akey[4];
	uint16_t old_tunnel_id, old_session_id; /* the old LAC's Assigned Tunnel / Session ID */
	uint16_t lns_tunnel_id, lns_session_id; /* ours of the old call (logs, dumps) */
	char lac[LNSD_HOST_NAME_MAX + 1];       /* the old LAC's host name */
	char called[64];
	struct ppp_state ppp;          /* exported from the old call's struct ppp */
	uint32_t addr;                 /* the mobile's address (host order), still in the pool */
	bool route;                    /* our host route to the TUN device is installed */
	bool data_seq;
	uint16_t data_ns, data_nr;     /* next data Ns we send / expect */
	uint64_t parked_wall;          /* wall ms */
	uint64_t expires;              /* monotonic ms */
	struct lnsd_pkt *pkts, **pkts_tail;
	uint32_t npkts;
	size_t pkts_bytes;             /* IP bytes buffered (handoff.buffer_bytes at most) */
	uint64_t pkts_dropped;
};

/* Handoff counters (lnsd(8) CONTROL COMMANDS, stats). */
enum { LNSD_HO_REASONS = L2TP_HO_REFUSE_MOBILE_AUTH + 1 };
struct lnsd_ho_stats {
	uint64_t handoff_cdn, handoffs_parked, park_refused, park_replaced, park_expired,
		park_restored, park_buffered, park_dropped, park_flushed,
		park_discarded, park_resent;
	uint64_t handoffs_requested, handoffs_accepted, handoffs_resumed, handoffs_refused;
	uint64_t refused[LNSD_HO_REASONS];
	uint64_t snapshot_saves, snapshot_failures, snapshot_skipped;
};

/* The address pool: one bit per address of conf.ppp.pool. */
struct lnsd_pool {
	uint32_t base, size, used, next;
	uint8_t *bits;
};

/* The LNS's own counters (the shared ones are h->ep.stats). */
struct lnsd_stats {
	uint64_t drop_not_sccrq;
	uint64_t tunnels_requested;
	uint64_t tunnels_refused_peer, tunnels_refused_version, tunnels_refused_limit,
		tunnels_refused_malformed;
	uint64_t sessions_requested, sessions_established, sessions_refused,
		sessions_closed_by_peer, sessions_closed_local;
};

struct lnsd {
	uv_loop_t *loop;               /* NULL in unit tests */
	const char *config_path;
	bool debug;
	struct lnsd_conf conf;
	struct l2tp_endpoint ep;       /* tunnels, sessions, UDP 1701 (roam/l2tp_tunnel.h) */
	struct table by_peer;
	struct roam_ctl *ctl;
	struct roam_daemon *daemon;
	struct lnsd_stats stats;
	uint64_t started_wall;
	/* PPP termination (ppp.c) */
	struct lnsd_cred *creds;
	size_t ncreds;
	struct lnsd_pool pool;
	struct table by_addr;
	bool ppp_ready;
	struct roam_tun *tun;
	int tun_ifindex;
	struct roam_nl *nl;            /* NULL: no routes (unit tests) */
	uv_timer_t ppp_timer;
	bool ppp_timer_ready;
	uv_timer_t drain_timer;        /* paces the resumed calls' backlogs (handoff.c) */
	bool drain_armed;
	uint64_t drain_last;
	/* Transmit to the TUN device; the default writes h->tun (tests replace it). */
	void (*tun_tx)(struct lnsd *h, const uint8_t *pkt, size_t len);
	struct lnsd_ppp_stats pstats;
	/* handoff (handoff.c) */
	struct table parked, parked_by_addr;
	bool ho_ready;
	bool ho_dirty;                 /* parked calls changed since the last snapshot */
	struct snap_timer snap;
	struct lnsd_ho_stats hstats;
};

static inline struct lnsd_tunnel *lnsd_tunnel_of(struct l2tp_tunnel *t)
{
	return (struct lnsd_tunnel *)(void *)t;
}

static inline struct lnsd_session *lnsd_session_of(struct l2tp_session *s)
{
	return (struct lnsd_session *)(void *)s;
}

/* tunnel.c */
/* Sets up the endpoint (conf loaded) and the LNS's table.  -ENOMEM. */
int lnsd_core_init(struct lnsd *h);
/* Frees every tunnel and session without sending anything, and the tables. */
void lnsd_core_destroy(struct lnsd *h);

/* session.c: ops of the shared machine (struct l2tp_endpoint_ops) */
/* Handles a delivered session message (ICRQ, ICCN, CDN, WEN, SLI) on tunnel t. */
void lnsd_session_msg(void *arg, struct l2tp_tunnel *t, struct l2tp_session *s,
		      const struct l2tp_msg *m, uint64_t now);
/* Sends CDN and frees the session. */
void lnsd_session_close(void *arg, struct l2tp_session *s, uint16_t result, uint16_t error,
			const char *msg, uint64_t now);
void lnsd_session_free(void *arg, struct l2tp_session *s);
void lnsd_dump_session(void *arg, struct json_writer *w, const struct l2tp_session *s);
extern const char *const lnsd_session_state_names[];

/* ppp.c: PPP termination, the address pool, the TUN device */
/* Parses the credentials and sets up the pool and tables (conf loaded).  -EINVAL (bad
 * credentials, logged), -ENOMEM. */
int lnsd_ppp_init(struct lnsd *h);
void lnsd_ppp_destroy(struct lnsd *h);
/* Reload: the credentials of nc replace the running ones (kept on error: -EINVAL, -ENOMEM). */
int lnsd_ppp_reload(struct lnsd *h, const struct lnsd_conf *nc);
/* Opens the TUN device (up, MTU), the netlink socket and the PPP timer.  -errno, logged. */
int lnsd_ppp_open(struct lnsd *h, uv_loop_t *loop);
void lnsd_ppp_close(struct lnsd *h);
/* The call is up (ICCN): start PPP as authenticator.  -ENOMEM, -EINVAL. */
int lnsd_ppp_start(struct lnsd *h, struct lnsd_session *s, uint64_t now);
/* s is being freed: address released, route removed, PPP freed. */
void lnsd_ppp_release(struct lnsd *h, struct lnsd_session *s);
/* ops.session_data: a PPP frame from the LAC. */
void lnsd_ppp_data(void *arg, struct l2tp_session *s, const uint8_t *ppp, size_t len,
		   uint64_t now);
/* An IPv4 packet read from the TUN device. */
void lnsd_ppp_from_tun(struct lnsd *h, const uint8_t *pkt, size_t len);
/* PPP timers due at now (restart, auth, echo); calls whose PPP went down are cleared. */
void lnsd_ppp_run_timers(struct lnsd *h, uint64_t now);
/* JSON of the PPP state of s (dump) and of the counters. */
void lnsd_ppp_dump(const struct lnsd_session *s, struct json_writer *w);
void lnsd_ppp_stats_json(struct lnsd *h, struct json_writer *w);

/* Handoff support in ppp.c. */
/* Moves s's PPP state, address and route into p (s keeps neither).  -ENOTCONN: PPP not up. */
int lnsd_ppp_park(struct lnsd *h, struct lnsd_session *s, struct lnsd_parked *p);
/* Gives s a PPP restored from p (no negotiation) with p's address and route.  -errno. */
int lnsd_ppp_resume(struct lnsd *h, struct lnsd_session *s, struct lnsd_parked *p,
		    uint64_t now);
/* The address of a parked call that expires: route removed, back to the pool. */
void lnsd_ppp_addr_drop(struct lnsd *h, uint32_t addr, bool route);
/* A restored parked call claims its address in the pool and its route.  -EADDRINUSE. */
int lnsd_ppp_addr_claim(struct lnsd *h, uint32_t addr, bool *route);
/* Checks the ICCN's Proxy Authen AVPs (RFC 2661 4.4.5: PAP or CHAP-MD5) of m for user name
 * against lnsd's credentials.  0, -EACCES (wrong or missing proof), -ENOENT (unknown user). */
int lnsd_ppp_verify_proxy(struct lnsd *h, const char *name, uint16_t auth_proto,
			  const struct l2tp_msg *m);

/* handoff.c: the parked calls (docs/protocols/l2tp-handoff.md, seed 000 figures 5 and 6) */
int lnsd_handoff_init(struct lnsd *h);
/* Releases every parked call (address, route) and the tables. */
void lnsd_handoff_destroy(struct lnsd *h);
/* A CDN for s: parks it when it carries the Handoff Cause (s keeps no PPP, address or route
 * then).  1 parked, 0 not a handoff (the caller clears the call as usual). */
int lnsd_handoff_cdn(struct lnsd *h, struct lnsd_session *s, const struct l2tp_msg *m,
		     uint64_t now);
/* An ICRQ creating s: decides a Handoff Request and fills the ICRP's handoff AVPs in r. */
void lnsd_handoff_icrq(struct lnsd *h, struct lnsd_session *s, const struct l2tp_msg *m,
		       struct l2tp_msg *r, uint64_t now);
/* ICCN on s with ho_pending: verifies the mobile and resumes the parked call.  0 resumed;
 * 1 not a handoff; -EACCES refused (s was closed with CDN). */
int lnsd_handoff_iccn(struct lnsd *h, struct lnsd_session *s, const struct l2tp_msg *m,
		      uint64_t now);
/* A packet from the TUN device for a parked mobile: buffered or dropped.  1 taken, 0 none. */
int lnsd_handoff_from_tun(struct lnsd *h, const uint8_t *pkt, size_t len);
/* An IP packet about to be sent on s with data Ns ns: kept for handoff.resend_window. */
void lnsd_handoff_sent(struct lnsd *h, struct lnsd_session *s, uint16_t ns, const uint8_t *pkt,
		       size_t len, uint64_t now);
void lnsd_handoff_session_free(struct lnsd *h, struct lnsd_session *s);
/* A packet from the TUN device for s while its backlog drains: queued behind it (1), or 0. */
int lnsd_handoff_backlog_add(struct lnsd *h, struct lnsd_session *s, const uint8_t *pkt,
			     size_t len);
/* Sends what the pace allows of every backlog; true while some is left. */
bool lnsd_handoff_drain(struct lnsd *h, uint64_t now);
/* ppp.c: runs lnsd_handoff_drain every ms until nothing is left (no loop: at once). */
void lnsd_ppp_drain_arm(struct lnsd *h);
/* Parked calls past their hold time are released. */
void lnsd_handoff_run_timers(struct lnsd *h, uint64_t now);
/* Snapshot of the parked calls (a snap_timer save function); loaded once at start. */
int lnsd_handoff_save(void *arg);
/* now: monotonic ms of the restored deadlines. */
int lnsd_handoff_load(struct lnsd *h, uint64_t now);
int lnsd_handoff_snap_start(struct lnsd *h);
/* A parked call's snapshot record (byte layout: lnsd(8) FILES); expires as wall ms. */
int lnsd_parked_encode(struct wbuf *w, const struct lnsd_parked *p, uint64_t expires_wall);
int lnsd_parked_decode(struct rbuf *r, struct lnsd_parked *p, uint64_t *expires_wall);
void lnsd_handoff_stats_json(struct lnsd *h, struct json_writer *w);
void lnsd_handoff_status_json(struct lnsd *h, struct json_writer *w);
/* The `parked` command's answer: {"parked": [{min, user, ...}, ...]}. */
void lnsd_handoff_dump_json(struct lnsd *h, struct json_writer *w, uint64_t now);
int lnsd_handoff_ctl_register(struct lnsd *h);

/* ctl.c */
int lnsd_ctl_register(struct lnsd *h);
void lnsd_status(void *arg, struct json_writer *w);

#endif
