/* lacd: the L2TP Access Concentrator (RFC 2661), the tunnel initiator of seed 000
 * (US 2003/0224792, "tunnel initiators 30 and 40").  For each mobile (identified by its MIN)
 * it finds the LNS (RADIUS, aaa.c, or a static table in its config), sets up a control
 * connection to it (with tunnel authentication when a secret is set) and places an incoming
 * call; a tunnel whose last session ended is closed after an idle time.  Wire format:
 * docs/protocols/l2tp.md; codec and reliable channel: common/proto/l2tp.
 *
 * Files: main.c (argv, config, loop), conf.c (the lacd.yaml schema, the MIN -> LNS table),
 * tunnel.c (the LAC's side of the control connection, RFC 2661 7.2.1: SCCRQ, SCCRP, idle
 * teardown), session.c (incoming calls, RFC 2661 7.4.1, LAC side), access.c (the access link
 * to the mobiles), handoff.c (the handoff extension of seed 000 figures 4-6: CDN with the
 * handoff cause, USER_MOVED, the handoff table, CHAP re-challenge and handoff ICRQ), ctl.c
 * (control commands; call and hangup place calls without a mobile).  What both ends of a tunnel
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
#include "roam/radius.h"
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

/* One LAC group key (handoff.key_file): the first line of the file is the current key
 * (USER_MOVED is sent with it), an optional second line the previous one (still accepted). */
#define LACD_HO_KEYS_MAX 2
struct lacd_ho_key {
	uint8_t id;
	struct roam_key key;          /* HMAC-SHA256 */
};

/* The handoff extension (docs/protocols/l2tp-handoff.md, lacd.yaml(5) handoff). */
struct lacd_conf_handoff {
	uint16_t vendor_id;           /* Vendor ID of the handoff extension AVPs */
	bool enabled;                 /* false: plain CDN, no USER_MOVED, AVPs not recognised */
	struct roam_ipaddr group;     /* LAC group (IPv4 multicast) */
	uint16_t port;
	char *interface;              /* LAC-facing interface: group joined and sent there */
	struct roam_ipaddr address;   /* our LAC Address in USER_MOVED (0.0.0.0: interface's) */
	uint8_t ttl;
	uint32_t hold_time;           /* ms; Hold Time told in USER_MOVED (the LNS's park time) */
	uint32_t challenge_timeout;   /* ms between CHAP re-challenges to an arriving mobile */
	uint8_t challenge_retries;    /* re-challenges before falling back to a fresh call */
	char *key_file;               /* secrets file (mode 0600) */
	/* loaded from key_file by lacd_conf_load (not schema fields) */
	struct lacd_ho_key keys[LACD_HO_KEYS_MAX];
	size_t nkeys;
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

/* The RADIUS lookup of the LNS (aaa.c, docs/protocols/radius.md); no servers: the static
 * table only. */
struct lacd_conf_radius {
	struct roam_sockaddr *servers; /* tried in order (failover) */
	size_t nservers;
	struct conf_bytes secret;     /* shared secret (inline or file:, mode 0600) */
	struct conf_bytes password;   /* User-Password sent for every mobile; empty: none */
	char *nas_identifier;         /* "": host_name */
	struct roam_ipaddr nas_ip_address; /* NAS-IP-Address and source; family 0: none */
	uint32_t timeout;             /* ms per transmission */
	uint32_t retries;             /* retransmissions per server */
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
	struct lacd_conf_radius radius;
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

/* The arriving half of a handoff (figure 6), carried by the session placed for it. */
enum lacd_ho_call_state {
	LACD_HO_NONE = 0,      /* a plain call */
	LACD_HO_REQUESTED,     /* ICRQ with Handoff Request sent */
	LACD_HO_RESUMED,       /* ICRP Handoff Accepted, ICCN with Proxy Authen sent */
	LACD_HO_RETRY,         /* ICRP Handoff Refused, a newer USER_MOVED heard meanwhile */
};

struct lacd_ho_call {
	int state;                     /* enum lacd_ho_call_state */
	uint16_t old_tunnel_id, old_session_id;
	struct l2tp_call_state cs;     /* from USER_MOVED (the old LAC's view) */
	uint64_t um_ts;                /* the USER_MOVED used: its Timestamp and LAC Address */
	uint32_t um_lac;
	/* the mobile's CHAP exchange on the new access link (Proxy Authen AVPs, RFC 2661 4.4.5) */
	uint8_t chap_id;
	uint8_t challenge[PPP_CHAP_CHALLENGE_LEN];
	uint8_t response[16];
	char name[PPP_NAME_MAX + 1];
};

struct lacd_session {
	struct l2tp_session s;         /* first: the shared session */
	struct table_node mnode;       /* h->by_min, key: min */
	char min[L2TP_MIN_MAX + 1];
	struct lacd_ho_call ho;
	bool keep_link;                /* freed for a fallback call: the mobile stays attached */
};

struct lacd_tunnel {
	struct l2tp_tunnel l;          /* first: the shared tunnel */
	struct table_node lnode;       /* h->by_lns, key: lkey (only while not closing) */
	uint8_t lkey[ROAM_IPADDR_KEYLEN + 2];
};

/* The PPP state summary a LAC learns from the frames it relays (it does not run PPP): what
 * goes into the Call State AVP and USER_MOVED when the mobile leaves. */
struct lacd_ppp_snoop {
	uint16_t auth_proto;           /* PPP_PROTO_PAP / PPP_PROTO_CHAP: as LCP agreed */
	uint16_t mru;                  /* the mobile's MRU (LCP Configure-Ack from the LNS) */
	uint32_t mobile_addr;          /* IPCP address acknowledged by the LNS */
	bool lcp_ack_up, lcp_ack_down; /* Configure-Ack seen from the mobile / from the LNS */
	bool ipcp_ack_up, ipcp_ack_down;
	bool auth_done;                /* CHAP Success / PAP Authenticate-Ack from the LNS */
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
	struct lacd_ppp_snoop snoop;   /* what the PPP frames relayed told (handoff Call State) */
	/* Arrival by handoff (handoff.c): the CHAP re-challenge before the call is placed. */
	bool ho_challenging;
	uint8_t ho_tries;
	uint64_t ho_due;               /* next re-challenge or give-up time */
	struct lacd_ho_call ho;        /* entry data and the CHAP exchange, moved to the session */
	struct roam_sockaddr ho_lns;
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

/* ---- the handoff extension (handoff.c) ---- */

/* One USER_MOVED accepted (or sent by us): the handoff table, keyed by MIN, expiring at the
 * Hold Time it announced (figure 4, "handoff table 244"). */
struct lacd_ho_entry {
	struct table_node node;        /* h->ho.table, key: min */
	char min[L2TP_MIN_MAX + 1];
	struct l2tp_user_moved um;
	uint64_t stored;               /* monotonic ms */
	bool own;                      /* our own (the mobile may come back) */
};

/* Replay state per sending LAC (l2tp_um_replay_accept). */
struct lacd_ho_sender {
	struct table_node node;        /* h->ho.senders, key: addr */
	uint8_t key[4];
	struct replay_ts rt;
};
#define LACD_HO_SENDERS_MAX 4096

/* Handoff refusal reasons as counted: the LNS's (L2TP_HO_REFUSE_*, 1..5), 0 for an ICRP with
 * neither Handoff Accepted nor Refused (a standard LNS). */
#define LACD_HO_REFUSE_MAX 6

struct lacd_ho_stats {
	uint64_t handoffs_sent, plain_cdn, um_sent, um_tx_errors;
	uint64_t um_rx, um_accepted, um_bad_mac, um_replayed, um_stale, um_malformed, um_own,
		um_unknown_key, um_table_full, um_replaced, um_older, own_superseded;
	uint64_t table_expired;
	uint64_t arrivals, chap_challenges, chap_responses, chap_bad_response;
	uint64_t handoffs_requested, handoffs_accepted, handoffs_refused, handoffs_retried;
	uint64_t refused[LACD_HO_REFUSE_MAX];
	uint64_t fallback_calls, fallback_not_chap, fallback_no_secret, fallback_chap_timeout,
		fallback_refused;
};

/* Sends one USER_MOVED datagram to the LAC group. */
typedef void (*lacd_ho_tx_fn)(void *arg, const uint8_t *pkt, size_t len);

struct lacd_ho {
	struct table table, senders;
	bool ready;
	uint16_t vendor;               /* what ep.ho_vendor points to: 0 when disabled */
	lacd_ho_tx_fn tx;
	void *tx_arg;
	uint64_t (*wall_ms)(void);     /* roam_wall_ms; tests substitute a fake */
	uint32_t lac_addr;             /* our LAC Address (IPv4, host order; 0: unknown) */
	uint64_t last_ts;              /* our last USER_MOVED timestamp (strictly increasing) */
	struct roam_udp *udp;
	struct log_ratelimit rl;
	struct lacd_ho_stats stats;
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
	struct lacd_aaa *aaa;          /* aaa.c; NULL: no RADIUS */
	struct lacd_ho ho;             /* handoff.c */
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
/* The call of min is established: the frames queued meanwhile go to the LNS.  resumed: by a
 * handoff (the mobile first gets CHAP Success for its re-challenge). */
void lacd_access_call_up(struct lacd *h, const char *min, bool resumed);
/* ops.session_data: a PPP frame from the LNS for s, framed towards its mobile. */
void lacd_access_session_data(void *arg, struct l2tp_session *s, const uint8_t *ppp,
			      size_t len, uint64_t now);
/* SLI from the LNS (RFC 2661 6.15): the ACCM used towards the mobile. */
void lacd_access_set_accm(struct lacd *h, const char *min, uint32_t send_accm,
			  uint32_t recv_accm);
void lacd_access_links_json(struct lacd *h, struct json_writer *w);
void lacd_access_stats_json(struct lacd *h, struct json_writer *w);

/* handoff.c: the LAC side of docs/protocols/l2tp-handoff.md (figures 5 and 6) */
/* Reads conf->handoff.key_file into conf->handoff.keys (refused when group/others may read
 * or write it).  0, or -1 with a message in err (path: key 'handoff.key_file': ...). */
int lacd_ho_keys_load(struct lacd_conf *c, const char *cfgpath, char *err, size_t errlen);
/* The handoff table and replay state (before any other lacd_ho_* call).  -ENOMEM. */
int lacd_ho_init(struct lacd *h);
void lacd_ho_destroy(struct lacd *h);
/* Socket to the LAC group (joined on handoff.interface, TTL, no loopback).  -errno. */
int lacd_ho_open(struct lacd *h, uv_loop_t *loop);
void lacd_ho_close(struct lacd *h);
/* Applies handoff.enabled to the codec (ep.ho_vendor) after a (re)load. */
void lacd_ho_apply_conf(struct lacd *h);
/* Leaving (figure 5): the access link of min is lost (silence, DETACH moving, replaced).
 * With the extension on and an established call: CDN (Result 1, Handoff Cause, Call State),
 * USER_MOVED to the LAC group, StopCCN when the tunnel has no other session.  Otherwise a
 * plain CDN (Result 1).  snoop: what the link learnt (borrowed; NULL: nothing). */
void lacd_ho_mobile_lost(struct lacd *h, const char *min, const struct lacd_ppp_snoop *snoop,
			 uint32_t accm_send, uint32_t accm_recv, uint64_t now);
/* One USER_MOVED datagram from src (IPv4, host order).  Never fails: drops are counted. */
void lacd_ho_input(struct lacd *h, const uint8_t *pkt, size_t len, uint32_t src,
		   uint64_t now);
struct lacd_ho_entry *lacd_ho_lookup(struct lacd *h, const char *min, uint64_t now);
/* Arriving (figure 6), step 1: the table entry for an attaching min when a handoff can be
 * tried, else NULL (a plain call: no entry, extension off; counted fallbacks: the mobile did
 * not authenticate with CHAP, no tunnel secret for the LNS of the entry). */
struct lacd_ho_entry *lacd_ho_arrival(struct lacd *h, const char *min, uint64_t now);
/* Step 2, once the ATTACH-ACK went out: the CHAP re-challenge (RFC 1994 2) of link l; the
 * call is placed when the mobile answers (lacd_ho_link_frame). */
void lacd_ho_challenge(struct lacd *h, struct lacd_link *l, const struct lacd_ho_entry *e,
		       uint64_t now);
/* A PPP frame from a link in the challenge phase: the CHAP Response is consumed (never
 * relayed to the LNS).  1 consumed, 0 not CHAP (the caller queues it). */
int lacd_ho_link_frame(struct lacd *h, struct lacd_link *l, uint16_t proto,
		       const uint8_t *info, size_t len, uint64_t now);
/* Re-challenges due and give-ups; table expiry. */
void lacd_ho_run_timers(struct lacd *h, uint64_t now);
/* ICRQ of a handoff call: adds Handoff Request and Call State to m. */
void lacd_ho_icrq(struct lacd *h, struct lacd_session *s, struct l2tp_msg *m);
/* ICRP on a handoff call: fills the ICCN r (Proxy Authen on acceptance) and restores the data
 * channel; counts.  Returns true when the call resumes the parked one. */
bool lacd_ho_icrp(struct lacd *h, struct lacd_session *s, const struct l2tp_msg *m,
		  struct l2tp_msg *r);
/* After an ICRP that left s in LACD_HO_RETRY: the newer USER_MOVED's handoff request, on a new
 * call (ho filled; lns: where to send it).  False when there is none after all. */
bool lacd_ho_retry(struct lacd *h, struct lacd_session *s, struct lacd_ho_call *ho,
		   struct roam_sockaddr *lns, uint64_t now);
/* CDN on a resumed handoff call with Handoff Refused (reason 5, at ICCN): counted; true when
 * the caller should place a fresh call for the still attached mobile. */
bool lacd_ho_cdn(struct lacd *h, struct lacd_session *s, const struct l2tp_msg *m);
/* session.c: places the call of a handoff (ho copied) or a plain one (ho NULL). */
int lacd_call_ho(struct lacd *h, const char *min, const struct roam_sockaddr *lns,
		 const struct lacd_ho_call *ho, uint64_t now, struct lacd_session **out);
/* Snoops a PPP frame relayed (up: from the mobile) for the Call State summary. */
void lacd_ppp_snoop(struct lacd_ppp_snoop *sn, bool up, uint16_t proto, const uint8_t *info,
		    size_t len);
/* Call State of the session of min as this LAC sees it. */
void lacd_ho_call_state(const struct lacd_session *s, const struct lacd_ppp_snoop *snoop,
			uint32_t accm_send, uint32_t accm_recv, struct l2tp_call_state *cs);
void lacd_ho_table_json(struct lacd *h, struct json_writer *w, uint64_t now);
void lacd_ho_stats_json(struct lacd *h, struct json_writer *w);
/* access.c helper for handoff.c: a PPP control packet to the link's mobile. */
void lacd_access_send_ppp(struct lacd *h, struct lacd_link *l, uint16_t proto,
			  const uint8_t *info, size_t len);

/* The rest of an ATTACH (after the RADIUS lookup, if any): link, call to lns (NULL: from the
 * static table), ATTACH-ACK or -NAK.  m, src, dst borrowed. */
void lacd_access_attach(struct lacd *h, const struct access_msg *m,
			const struct roam_sockaddr *src, const struct roam_ipaddr *dst,
			const struct roam_sockaddr *lns, uint64_t now);
/* ATTACH-NAK with cause to dst (from src, may be NULL). */
void lacd_access_send_nak(struct lacd *h, const struct roam_sockaddr *dst,
			  const struct roam_ipaddr *src, uint32_t nonce, uint16_t cause);

/* aaa.c: the LNS from RADIUS (docs/protocols/radius.md) */
struct lacd_aaa_stats {
	uint64_t requests, accepts, rejects, timeouts, bad_authenticator;
	uint64_t accept_no_tunnel, fallback_static, attach_waiting, drop_other, tx_errors;
};
struct lacd_aaa;
/* The client on tx (a fake in tests) when radius.servers is set; nothing otherwise.  -ENOMEM,
 * -EINVAL. */
int lacd_aaa_init(struct lacd *h, radius_tx_fn tx, void *tx_arg);
/* lacd_aaa_init on a UDP socket with its timer.  Errors logged, -errno. */
int lacd_aaa_open(struct lacd *h, uv_loop_t *loop);
/* Closes the socket and timer (safe twice); lacd_aaa_destroy frees the rest. */
void lacd_aaa_close(struct lacd *h);
void lacd_aaa_destroy(struct lacd *h);
bool lacd_aaa_enabled(const struct lacd *h);
/* An ATTACH: true when it waits for RADIUS (answered later by lacd_access_attach or NAK),
 * false when lacd_access_attach is to handle it now (no RADIUS, a retransmission, a call
 * placed by the `call` command). */
bool lacd_aaa_attach(struct lacd *h, const struct access_msg *m, const struct roam_sockaddr *src,
		     const struct roam_ipaddr *dst, uint64_t now);
/* An answer from a RADIUS server; drops counted. */
void lacd_aaa_input(struct lacd *h, const uint8_t *pkt, size_t len,
		    const struct roam_sockaddr *src, uint64_t now);
/* Retransmissions, failovers, timeouts due at now. */
void lacd_aaa_run_timers(struct lacd *h, uint64_t now);
void lacd_aaa_stats_json(struct lacd *h, struct json_writer *w);
/* Reload: servers, secret, timeout and retries change at the next restart (warned); the rest
 * (User-Password, NAS-Identifier, NAS-IP-Address) with the new config. */
void lacd_aaa_reload(struct lacd *h, const struct lacd_conf *nc);

/* ctl.c */
int lacd_ctl_register(struct lacd *h);
void lacd_status(void *arg, struct json_writer *w);

#endif
