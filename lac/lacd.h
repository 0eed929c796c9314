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

#include "roam/addr.h"
#include "roam/conf.h"
#include "roam/ctl.h"
#include "roam/daemon.h"
#include "roam/l2tp.h"
#include "roam/l2tp_ctrl.h"
#include "roam/l2tp_tunnel.h"
#include "roam/log.h"
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

/* ctl.c */
int lacd_ctl_register(struct lacd *h);
void lacd_status(void *arg, struct json_writer *w);

#endif
