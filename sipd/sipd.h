/* sipd: the SIP registrar (and, next, proxy) of roam: terminal mobility by re-REGISTER (seed 001,
 * [71]-[77]) and the NAT continuity extension (seed 004).  What it implements of RFC 3261 is
 * docs/protocols/sip-mobility.md; messages are parsed and built with GNU libosip2.
 *
 * Files: main.c (argv, config, loop), core.c (state set-up, expiry, snapshot save), conf.c (the
 * sipd.yaml schema), transport.c (UDP and TCP listeners, TCP framing), message.c (one receive
 * path: checks, dispatch, responses, OPTIONS, 420/405/501), registrar.c (REGISTER, RFC 3261
 * 10.3; digest checks), location.c (the location service, its expiry and snapshots), digest.c
 * (credentials, stateless nonces; the hashes are roam/sip_ua.h's), txn.c (non-INVITE server
 * transactions: retransmitted requests get the same response), proxy.c (the stateful proxy of
 * RFC 3261 section 16 with its INVITE and non-INVITE client and server transactions, section 17),
 * ctl.c (control commands), nat.c (the NAT continuity extension: X-Roam-Previous-Contact, claim
 * checks, rule planning, the translation pairs on the co-located router), peer.c (its
 * authenticated server-to-server notifications).  All state lives in one struct sipd, passed
 * explicitly. */
#ifndef SIPD_H
#define SIPD_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "roam/addr.h"
#include "roam/auth.h"
#include "roam/buf.h"
#include "roam/conf.h"
#include "roam/ctl.h"
#include "roam/daemon.h"
#include "roam/log.h"
#include "roam/nft.h"
#include "roam/sip_ua.h"
#include "roam/snapshot.h"
#include "roam/stats.h"
#include "roam/table.h"
#include "roam/udp.h"

#define SIPD_SNAP_KIND "sipd/1"
#define SIPD_SNAP_CONTACT 1   /* snapshot record: one binding */
#define SIPD_MAX_LISTEN 16
#define SIPD_AOR_MAX 200      /* bytes of a canonical address-of-record */
#define SIPD_URI_MAX 512      /* bytes of a contact URI */
#define SIPD_CALLID_MAX 255   /* bytes of a Call-ID kept with a binding */
#define SIPD_UDP_MAX 65507    /* largest UDP payload */
#define SIPD_MAX_CONTACTS_REQ 64 /* Contact values in one REGISTER */
#define SIPD_NONCE_RAW 32     /* 8-byte time, 8 random bytes, 16-byte truncated HMAC-SHA256 */
#define SIPD_NONCE_HEX (2 * SIPD_NONCE_RAW)

enum sipd_transport { SIPD_TP_UDP = 0, SIPD_TP_TCP = 1 };

/* A static next hop for a domain (sipd.yaml `routes:`). */
struct sipd_route {
	char *domain;
	struct roam_sockaddr next_hop;
	int transport;                /* enum sipd_transport */
};

/* A server that exchanges NAT continuity notifications with us (sipd.yaml `nat_peers:`). */
struct sipd_nat_peer_conf {
	char *name;                   /* its key id (its nat_node) */
	struct roam_sockaddr address; /* where its sipd listens (UDP) */
	struct conf_bytes secret;     /* shared HMAC-SHA256 key */
	bool notify;                  /* send it our moves */
};

/* ---- configuration (conf.c; sipd.yaml(5)) ---- */

struct sipd_conf {
	struct roam_sockaddr *listen; /* addresses (and ports) to listen on */
	size_t nlisten;
	bool udp, tcp;                /* transports */
	char **domains;               /* domains served; none: any */
	size_t ndomains;
	char *realm;
	bool authentication;
	int *digest_algorithms;       /* enum sip_digest_alg, in challenge order */
	size_t ndigest_algorithms;
	struct conf_bytes credentials;/* the credentials file content */
	uint32_t nonce_lifetime;      /* ms */
	uint32_t min_expires, max_expires, default_expires; /* ms (seconds on the wire) */
	uint32_t max_contacts;        /* per address-of-record */
	uint32_t max_bindings;        /* in all */
	uint32_t max_nonces;          /* nonces with nc state */
	uint32_t max_transactions;    /* cached non-INVITE responses */
	uint32_t max_message_size;    /* bytes */
	bool authenticate_invite;     /* 407 for INVITEs from local users without credentials */
	bool record_route;            /* insert Record-Route in dialog-creating requests */
	char *advertise;              /* host[:port] for Via and Record-Route; "": from listen */
	struct sipd_route *routes;    /* static next hops by Request-URI domain */
	size_t nroutes;
	uint32_t max_proxy_transactions;
	uint32_t tcp_max_connections;
	uint32_t tcp_idle_timeout;    /* ms */
	char *control_socket;
	char *snapshot;               /* empty: none */
	uint32_t snapshot_interval;   /* ms */
	char *user;
	int log_level;
	/* NAT session continuity (sip-mobility.md 4; nat.c, peer.c) */
	bool nat_continuity;          /* the option tag is supported */
	uint32_t nat_grace;           /* ms a dropped binding's address stays claimable */
	struct roam_prefix *nat_networks; /* networks of the co-located router (the new-hop role) */
	size_t nnat_networks;
	char *nat_node;               /* our key id towards peers */
	struct sipd_nat_peer_conf *nat_peers;
	size_t nnat_peers;
	uint32_t nat_peer_window;     /* ms: peer message timestamps within +- this of our clock */
	uint32_t nat_max_pairs;       /* translation pairs installed at most */
	char *nat_table_owner;        /* nftables owner ("sipd": table inet roam_sipd) */
};

extern const struct conf_schema sipd_conf_schema;
/* Loads path into *c; errors printed (print) or logged; err gets the first line. */
int sipd_conf_load(struct sipd_conf *c, const char *path, int print, char *err, size_t errlen);
/* As sipd_conf_load from a string (tests). */
int sipd_conf_load_string(struct sipd_conf *c, const char *text, char *err, size_t errlen);
void sipd_conf_free(struct sipd_conf *c);

/* ---- credentials and digest (digest.c) ---- */

/* Algorithms are enum sip_digest_alg, the computation roam/sip_ua.h's sip_digest_*(). */

struct sipd_cred {
	struct table_node node;
	char *key;                     /* "user\0realm", owned */
	size_t keylen;
	char *password;                /* owned, wiped; NULL when only HA1 values are given */
	char ha1_md5[33];              /* lower-case hex or "" */
	char ha1_sha256[65];
};

struct sipd_creds {
	struct table t;
	bool init;
};

/* Parses the credentials text (see sipd.yaml(5)) into cs (initialised here).  -EINVAL with a
 * message naming the line in err. */
int sipd_creds_parse(struct sipd_creds *cs, const char *text, size_t len, char *err,
		     size_t errlen);
void sipd_creds_free(struct sipd_creds *cs);
struct sipd_cred *sipd_creds_find(struct sipd_creds *cs, const char *user, const char *realm);

struct sipd_nonce {
	struct table_node node;
	uint8_t raw[SIPD_NONCE_RAW];
	struct replay_seq nc;
};

/* Digest state: the per-process secret and the nc windows of nonces in use. */
struct sipd_digest {
	uint8_t secret[32];
	struct table nonces;
	bool init;
};

int sipd_digest_init(struct sipd_digest *d);
void sipd_digest_destroy(struct sipd_digest *d);
/* Writes a fresh nonce for monotonic time now (hex, SIPD_NONCE_HEX chars + NUL). */
void sipd_nonce_make(const struct sipd_digest *d, const char *realm, uint64_t now,
		     char out[SIPD_NONCE_HEX + 1]);
/* Checks a nonce: 0 valid and fresh; -ESTALE ours but older than lifetime_ms; -EBADMSG not ours. */
int sipd_nonce_check(const struct sipd_digest *d, const char *realm, const char *nonce,
		     uint64_t now, uint64_t lifetime_ms);
/* HA1 of a credential for alg ("" when the credential has neither password nor HA1). */
int sipd_cred_ha1(const struct sipd_cred *c, enum sip_digest_alg alg, const char *realm,
		  char out[65]);

/* ---- location service (location.c) ---- */

struct sipd_contact {
	struct sipd_contact *next;     /* in its AOR, most recent first */
	uint64_t expires;              /* monotonic ms */
	uint64_t updated_wall;         /* wall-clock ms of the last REGISTER */
	uint32_t cseq;
	uint16_t q;                    /* 0..1000 (q * 1000); 1000 when absent */
	uint8_t transport;             /* enum sipd_transport the REGISTER came over */
	uint8_t has_q;
	struct roam_ipaddr src;        /* where the REGISTER came from */
	uint16_t src_port;
	uint16_t urilen;
	uint8_t callidlen;
	char data[];                   /* uri NUL call-id NUL */
};

struct sipd_aor {
	struct table_node node;        /* keyed by the canonical AOR, expires at the first contact */
	struct sipd_contact *contacts;
	uint16_t ncontacts;
	uint8_t keylen;
	char key[];                    /* canonical AOR, NUL-terminated */
};

static inline const char *sipd_contact_uri(const struct sipd_contact *c) { return c->data; }
static inline const char *sipd_contact_callid(const struct sipd_contact *c)
{
	return c->data + c->urilen + 1;
}

struct sipd_loc {
	struct table t;
	size_t nbindings;
	uint64_t *expired;             /* counter to bump on expiry (borrowed), may be NULL */
	/* Called for every binding that goes (expired, removed, wildcard), before it is freed
	 * (not at destroy): the NAT extension keeps recently dropped addresses (nat.c). */
	void (*on_drop)(void *arg, const char *aor, const struct sipd_contact *c, uint64_t now);
	void *drop_arg;
	uint64_t now;                  /* time of the current / last expiry run */
	bool init;
};

/* One contact of a REGISTER, as the registrar hands it to sipd_loc_update(). */
struct sipd_binding_req {
	const char *uri;
	uint32_t expires_s;            /* 0: remove */
	uint16_t q;
	uint8_t has_q;
};

struct sipd_reg_meta {
	const char *callid;
	uint32_t cseq;
	uint8_t transport;
	struct roam_ipaddr src;
	uint16_t src_port;
};

int sipd_loc_init(struct sipd_loc *l, uint64_t now);
void sipd_loc_destroy(struct sipd_loc *l);
struct sipd_aor *sipd_loc_find(struct sipd_loc *l, const char *aor);
/* Applies one REGISTER's contacts to aor atomically (RFC 3261 10.3 step 7): checks every contact
 * first (Call-ID/CSeq ordering; limits) and changes nothing on error.  wildcard: remove every
 * binding (Contact: *, Expires: 0; reqs ignored).  Errors: -EALREADY (same Call-ID, CSeq not
 * higher: request fails), -EMLINK (more than max_contacts), -ENOSPC (max_bindings), -ENOMEM,
 * -EINVAL (bad aor or URI length).  Counters of what changed in created, refreshed, removed
 * (may be NULL). */
int sipd_loc_update(struct sipd_loc *l, const char *aor, const struct sipd_binding_req *reqs,
		    size_t n, bool wildcard, const struct sipd_reg_meta *meta, uint64_t now,
		    uint32_t max_contacts, uint32_t max_bindings, unsigned *created,
		    unsigned *refreshed, unsigned *removed);
/* Removes every binding of aor; returns how many. */
size_t sipd_loc_remove_aor(struct sipd_loc *l, const char *aor);
/* Shortens bindings with more than max_ms left (a reload lowered max_expires). */
void sipd_loc_cap(struct sipd_loc *l, uint64_t max_ms, uint64_t now);
/* Expires due bindings at now; returns how many expired. */
size_t sipd_loc_expire(struct sipd_loc *l, uint64_t now);
/* Seconds left (at least 1 while not expired). */
uint32_t sipd_contact_remaining(const struct sipd_contact *c, uint64_t now);
/* Snapshot save / load (records SIPD_SNAP_CONTACT).  load drops expired bindings and caps
 * the remaining time at max_ms.  *loaded / *skipped count records. */
int sipd_loc_save(struct sipd_loc *l, const char *path);
int sipd_loc_load(struct sipd_loc *l, const char *path, uint64_t max_ms, uint64_t *loaded,
		  uint64_t *skipped);

/* ---- non-INVITE server transactions (txn.c) ---- */

struct sipd_txn {
	struct table_node node;
	uint8_t keylen;
	uint16_t resplen;
	char *resp;                    /* the response sent, owned */
	char key[];                    /* branch NUL sent-by NUL method */
};

struct sipd_txns {
	struct table t;
	bool init;
};

int sipd_txns_init(struct sipd_txns *x, uint64_t now);
void sipd_txns_destroy(struct sipd_txns *x);

/* ---- counters ---- */

struct sipd_stats {
	uint64_t rx_messages, rx_bytes, rx_requests;
	uint64_t rx_register, rx_options, rx_other_methods, rx_retransmissions;
	uint64_t drop_oversize, drop_unparseable, drop_response, drop_no_via, drop_ack;
	uint64_t reply_200, reply_400, reply_401, reply_403, reply_405, reply_416, reply_420,
		reply_423, reply_481, reply_500, reply_501, reply_503, reply_other;
	uint64_t tx_messages, tx_errors;
	uint64_t auth_ok, auth_challenged, auth_failed, auth_stale, auth_replay, auth_unknown_user,
		auth_nonce_table_full;
	uint64_t bindings_created, bindings_refreshed, bindings_removed, bindings_expired,
		wildcard_removals, cseq_out_of_order, registrations_ok;
	uint64_t txn_cache_full;
	uint64_t tcp_accepted, tcp_connected, tcp_refused, tcp_closed, tcp_idle_closed, tcp_framing_errors;
	uint64_t keepalives;           /* CRLF keep-alives (UDP and TCP) */
	uint64_t snapshot_saves, snapshot_failures, snapshot_loaded, snapshot_skipped;
	/* proxy (proxy.c) */
	uint64_t reply_100, reply_404, reply_407, reply_408, reply_480, reply_482, reply_483,
		reply_487, reply_502;
	uint64_t proxy_rx_invite, proxy_rx_ack, proxy_rx_bye, proxy_rx_cancel, proxy_rx_options,
		proxy_rx_other;
	uint64_t proxy_rx_1xx, proxy_rx_2xx, proxy_rx_3xx, proxy_rx_4xx, proxy_rx_5xx,
		proxy_rx_6xx;
	uint64_t proxy_fwd_requests, proxy_fwd_responses, proxy_stateless_requests,
		proxy_stateless_responses, proxy_retransmissions, proxy_request_retransmissions,
		proxy_timeouts, proxy_cancels_sent, proxy_acks_sent, proxy_loops, proxy_spirals,
		proxy_txn_created, proxy_txn_freed;
	uint64_t drop_proxy_stray_response, drop_proxy_send, drop_proxy_txn_full,
		drop_proxy_stray_ack, drop_proxy_bad_response;
	/* NAT continuity (nat.c, peer.c) */
	uint64_t nat_claims, nat_claims_ok, nat_claims_refused_disabled,
		nat_claims_refused_unauthenticated, nat_claims_refused_bad_header,
		nat_claims_refused_not_yours, nat_claims_refused_limit;
	uint64_t nat_pairs_installed, nat_pairs_removed, nat_pairs_reconciled, nat_install_failures;
	uint64_t nat_peer_sent, nat_peer_acked, nat_peer_rejected, nat_peer_timeouts,
		nat_peer_retransmissions;
	uint64_t nat_peer_received, nat_peer_refused_unknown_key, nat_peer_refused_bad_mac,
		nat_peer_refused_replay, nat_peer_refused_stale, nat_peer_refused_bad_body;
};

extern const struct stats_def sipd_stats_defs[];
extern const size_t sipd_stats_ndefs;

/* ---- transport (transport.c) ---- */

struct sipd;

/* Where a message came from, and (for TCP) the connection to answer on. */
struct sipd_src {
	enum sipd_transport transport;
	struct roam_sockaddr addr;
	void *conn;                    /* struct sipd_tcp_conn * for TCP, NULL for UDP */
};

struct sipd_udp_listener {
	struct sipd *s;
	struct roam_udp *udp;
	struct roam_sockaddr addr;
};

struct sipd_tcp_listener {
	struct sipd *s;
	uv_tcp_t handle;
	struct roam_sockaddr addr;
	bool open;
};

struct sipd_tcp_conn {
	uv_tcp_t handle;
	uv_timer_t idle;
	struct sipd *s;
	struct sipd_tcp_conn *next, **pprev;
	struct roam_sockaddr peer;
	uint8_t *buf;
	size_t len, cap;
	uint8_t *pend;                 /* queued while an outgoing connection is being set up */
	size_t pendlen;
	bool connecting;
	int closing;                   /* 0, or the number of handles still to close */
};

int sipd_transport_open(struct sipd *s);
void sipd_transport_close(struct sipd *s);
/* Splits one message off the front of a TCP stream buffer (RFC 3261 18.3).  Returns the length
 * of the message (> 0) with leading CRLFs skipped (*skip), 0 when more bytes are needed, or
 * -EMSGSIZE (over max) / -EBADMSG (no or bad Content-Length) on a framing error. */
long sipd_tcp_frame(const uint8_t *buf, size_t len, size_t max, size_t *skip);

/* Where a message goes (proxy.c, transport.c). */
struct sipd_dest {
	enum sipd_transport transport;
	struct roam_sockaddr addr;
};

/* Sends data (borrowed) to d: UDP from a listener of d's family, TCP over an existing
 * connection to d or a new one.  0 or -errno.  transport.c installs the real one; tests a fake. */
typedef int (*sipd_send_fn)(struct sipd *s, const struct sipd_dest *d, const uint8_t *data,
			    size_t len);

/* ---- the stateful proxy (proxy.c) ---- */

#define SIPD_T1 500u                  /* RFC 3261 17.1.1.1, ms */
#define SIPD_T2 4000u
#define SIPD_T4 5000u
#define SIPD_TIMER_C 180000u          /* 16.6 item 11: > 3 min */
#define SIPD_MAX_BRANCHES 8           /* client transactions of one server transaction */
#define SIPD_MAX_TARGETS 16           /* contacts considered per request */
#define SIPD_BRANCH_MAX 64

struct osip_message;
struct sipd_ptxn;

/* A client transaction (17.1) of the proxy: one branch of a server transaction. */
struct sipd_branch {
	struct table_node node;        /* in sipd_proxy.branches, keyed by branch */
	struct sipd_ptxn *tx;
	char branch[SIPD_BRANCH_MAX];
	uint8_t branchlen;
	uint8_t state;                 /* enum sipd_ct_state (proxy.c) */
	uint8_t cancel_state;          /* 0 none, 1 waiting for a provisional, 2 sent, 3 done */
	struct sipd_dest dst;
	struct osip_message *fwd;      /* the forwarded request, owned */
	char *req;                     /* its text, owned (retransmissions) */
	size_t reqlen;
	char *ack;                     /* the hop-by-hop ACK of a non-2xx, owned */
	size_t acklen;
	char *cancel;                  /* the CANCEL, owned */
	size_t cancellen;
	uint64_t next_tx, deadline;    /* A/E retransmission; B/F, C, D/K */
	uint32_t interval;
	uint64_t cancel_next, cancel_deadline;
	uint32_t cancel_interval;
	int code;                      /* last final status (408 on timeout) */
};

/* A server transaction (17.2) of the proxy and its response context (16.7). */
struct sipd_ptxn {
	struct table_node node;        /* in sipd_proxy.txns, keyed by the 17.2.3 key */
	struct sipd_ptxn *next, **pprev; /* every transaction, for the timers */
	struct osip_message *req;      /* the request as received (Via stamped), owned */
	struct osip_message *tmpl;     /* the request prepared for forwarding (16.6 1-7), owned */
	struct sipd_dest up;           /* where responses go */
	bool invite;
	uint8_t state;                 /* enum sipd_st_state (proxy.c) */
	bool cancelled, final_sent;
	char *resp;                    /* last response sent upstream, owned */
	size_t resplen;
	int resp_code;
	uint64_t g_next, deadline;     /* Timer G; H, I, J or the end of Accepted */
	uint32_t g_interval;
	struct osip_message *best;     /* best final response so far, owned (NULL: best_code only) */
	int best_code;
	char *targets[SIPD_MAX_TARGETS]; /* owned URIs, best q first */
	uint16_t tq[SIPD_MAX_TARGETS];
	bool tforced[SIPD_MAX_TARGETS];
	struct sipd_dest tdst[SIPD_MAX_TARGETS]; /* when forced (contact registered over TCP) */
	int ntargets, next_target;
	uint64_t lh;                   /* loop hash of the request as received (16.6 item 8) */
	struct sipd_branch br[SIPD_MAX_BRANCHES];
	int nbr;
	uint64_t created;
	uint8_t keylen;
	char key[TABLE_KEY_MAX];
};

struct sipd_proxy {
	struct table txns;             /* server transactions by key */
	struct table branches;         /* client transactions by branch */
	struct sipd_ptxn *all;
	uint8_t secret[16];            /* SipHash key of the branch values */
	bool init;
};

/* ---- NAT session continuity (nat.c, peer.c; sip-mobility.md 4, docs/nat-rules.md) ---- */

#define SIPD_NAT_OPTION "x-roam-nat-continuity"
#define SIPD_NAT_HEADER "X-Roam-Previous-Contact"
#define SIPD_NAT_AUTH_HEADER "X-Roam-Peer-Auth"
#define SIPD_NAT_CTYPE "application/x-roam-nat-continuity"
#define SIPD_NAT_MAX_PREV 4           /* previous contacts in one request */
#define SIPD_NAT_PEER_BRANCH "z9hG4bKnp" /* branch prefix of our peer MESSAGEs */
#define SIPD_NAT_PEER_PENDING 256     /* peer MESSAGEs awaiting a response */

/* Where the translation goes: the pair's rules through libnftables (real) or a fake (tests).
 * Same contracts as roam_nft_pair_add / _pair_del / _list / _reconcile (roam/nft.h). */
struct sipd_nat_backend {
	int (*add)(void *arg, const struct roam_nft_pair *p);
	int (*del)(void *arg, const char *tag);
	int (*list)(void *arg, struct roam_nft_pair **out, size_t *n);
	int (*reconcile)(void *arg, roam_nft_keep_cb keep, void *keep_arg, size_t *removed);
	void *arg;
};

/* The role of our router for a pair (seed 004 figure 2; docs/nat-rules.md "Who installs what"). */
enum sipd_nat_role {
	SIPD_NAT_ROLE_NEW_HOP = 1,    /* NEW is in one of our networks: DST + host route OLD via NEW */
	SIPD_NAT_ROLE_CN_HOP = 2,     /* anything else (the correspondent's first hop): DST */
};

enum sipd_nat_origin { SIPD_NAT_LOCAL = 1, SIPD_NAT_PEER = 2 };

/* A pair sipd installed and keeps alive. */
struct sipd_nat_pair {
	char tag[ROAM_NFT_TAG_MAX];
	uint8_t origin;               /* enum sipd_nat_origin */
	uint8_t role;                 /* enum sipd_nat_role */
	struct roam_ipaddr old, new;
	uint64_t expires;             /* monotonic ms: the binding's expiry (local) or the peer's */
	char aor[SIPD_AOR_MAX + 1];
	char uri[SIPD_URI_MAX + 1];   /* local: the contact URI of the binding at NEW */
	char peer[64];                /* peer: the sender's key id */
};

/* An address of a binding that went, claimable until it expires (nat_grace). */
struct sipd_nat_hist {
	struct table_node node;       /* keyed by aor NUL address key */
	uint8_t keylen;
	uint8_t key[SIPD_AOR_MAX + 1 + ROAM_IPADDR_KEYLEN];
};

/* The replay window of the messages of one peer (by key id). */
struct sipd_nat_peer_seq {
	char name[64];
	struct replay_seq seq;
};

/* A peer MESSAGE we sent, retransmitted (RFC 3261 17.1.2, Timer E/F) until a final response. */
struct sipd_nat_out {
	char branch[SIPD_BRANCH_MAX];
	struct sipd_dest dst;
	char *text;                   /* owned */
	size_t len;
	uint64_t next_tx, deadline;
	uint32_t interval;
	bool used;
};

struct sipd_nat {
	struct sipd_nat_backend be;
	struct roam_nft *nft;         /* the real backend's handle, or NULL */
	struct sipd_nat_pair *pairs;  /* owned array */
	size_t npairs, cap;
	struct table hist;
	struct sipd_nat_peer_seq *peer_seq; /* replay windows by peer name (survive a reload) */
	size_t npeer_seq;
	uint64_t last_seq;            /* the last seq we sent */
	uint64_t started_wall;        /* messages stamped before we started are refused */
	struct sipd_nat_out out[SIPD_NAT_PEER_PENDING];
	uint64_t branch_ctr;
	bool init;
};

/* ---- the daemon ---- */

struct sipd {
	uv_loop_t *loop;
	const char *config_path;
	bool debug;
	struct sipd_conf conf;
	struct sipd_creds creds;
	struct sipd_digest digest;
	struct sipd_loc loc;
	struct sipd_txns txns;
	struct sipd_proxy proxy;
	sipd_send_fn send;             /* NULL: forwarding fails with 503 */
	void *send_arg;                /* for a fake send */
	uv_timer_t proxy_timer;
	bool proxy_timer_init;
	struct sipd_udp_listener udp[SIPD_MAX_LISTEN];
	size_t nudp;
	struct sipd_tcp_listener tcp[SIPD_MAX_LISTEN];
	size_t ntcp;
	struct sipd_tcp_conn *conns;
	size_t nconns;
	uv_timer_t expiry_timer;
	bool timer_init;
	bool core_ready; /* sipd_core_init succeeded */
	struct snap_timer snap;
	struct roam_ctl *ctl;
	struct roam_daemon *daemon;
	struct sipd_stats stats;
	struct stats_table stats_table;
	struct log_ratelimit drop_rl;
	uint64_t started_wall;
	struct sipd_nat nat;
};

/* message.c */
/* Initialises everything but the loop-bound parts (tests call this with a config only):
 * libosip2's parser, digest secret, tables, credentials.  -errno. */
int sipd_core_init(struct sipd *s, uint64_t now);
void sipd_core_destroy(struct sipd *s);
/* Handles one message (data borrowed) from src at monotonic `now`.  When a reply to src is due
 * it is appended to out and its destination written to *dst (for UDP: RFC 3261 18.2.2 and RFC
 * 3581); returns 1; returns 0 when nothing is to be sent back (dropped, ACK, forwarded ...).
 * What the proxy forwards, and responses it sends later, go through s->send.  Never fails:
 * every drop is counted. */
int sipd_handle(struct sipd *s, const uint8_t *data, size_t len, const struct sipd_src *src,
		uint64_t now, struct wbuf *out, struct roam_sockaddr *dst);
/* True when the Require header fields of msg list tag. */
struct osip_message;
bool sipd_requires(struct osip_message *msg, const char *tag);
/* Option tags sipd supports (for Supported and the 420 check): NULL-terminated. */
extern const char *const sipd_supported_tags[];

/* A parsed request being handled (message.c, registrar.c).  msg is owned by sipd_handle. */
struct osip_message;
struct sipd_req {
	struct osip_message *msg;
	const struct sipd_src *src;
	uint64_t now;
	struct wbuf *out;
	char user[256];                /* the authenticated user name */
	bool proxy_auth;               /* 407 / Proxy-Authorization instead of 401 / Authorization */
};
/* Builds and serialises a response to r: code, reason (NULL: the standard phrase) and extra
 * header lines ("Name: value", NULL-terminated list, may be NULL).  Counts it.  0 or -errno. */
int sipd_respond(struct sipd *s, struct sipd_req *r, int code, const char *reason,
		 const char *const *headers);
/* Answers 401 with a SHA-256 and an MD5 challenge (stale as given). */
int sipd_challenge(struct sipd *s, struct sipd_req *r, bool stale);
/* REGISTER (registrar.c).  Always answers. */
void sipd_register(struct sipd *s, struct sipd_req *r);
/* Digest check of r's Authorization for realm (registrar.c): 0 authenticated (user in *user,
 * borrowed from r), else it answered (401/400/403) and returns -EACCES. */
int sipd_authenticate(struct sipd *s, struct sipd_req *r, const char **user);

/* RFC 3261 18.2.1 / RFC 3581: received= and rport= on a request's top Via (borrowed). */
struct osip_via;
void sipd_via_stamp(struct osip_via *via, const struct sipd_src *src);
/* Where a response to msg received from src goes (18.2.2, RFC 3581 4). */
void sipd_response_dst(struct osip_message *msg, const struct sipd_src *src,
		       struct roam_sockaddr *dst);
/* True when host (a domain name) is one of ours (any name when no domains are configured). */
bool sipd_domain_served(const struct sipd *s, const char *host);

/* proxy.c */
int sipd_proxy_init(struct sipd_proxy *p, uint64_t now);
void sipd_proxy_destroy(struct sipd_proxy *p);
/* Request r (validated by message.c) for the proxy: returns 0 when it is for sipd itself
 * (REGISTER or OPTIONS for us: the caller answers), 1 when the proxy took it (a response to
 * the sender may have been appended to r->out: the caller sends it). */
int sipd_proxy_request(struct sipd *s, struct sipd_req *r);
/* A response (msg borrowed) received from src: matched to a client transaction (17.1.3) and
 * processed (16.7), or forwarded statelessly.  Never fails: drops are counted. */
void sipd_proxy_response(struct sipd *s, struct osip_message *msg, const struct sipd_src *src,
			 uint64_t now);
/* Runs the transaction timers due at now (A, B, C, D, E, F, G, H, I, J, K). */
void sipd_proxy_timers(struct sipd *s, uint64_t now);
/* Dumps the proxy transactions as a JSON array (control command `transactions`). */
void sipd_proxy_dump(struct sipd *s, struct json_writer *w, uint64_t now);
/* host:port for our Via and Record-Route towards a destination of family (advertise, else a
 * listen address of that family). */
void sipd_local_name(const struct sipd *s, int family, char *out, size_t n);
/* transport.c: the real send function. */
int sipd_transport_send(struct sipd *s, const struct sipd_dest *d, const uint8_t *data,
			size_t len);

/* main.c / location glue */
/* Expires due bindings, nonces and transactions and re-arms the expiry timer. */
void sipd_expire(struct sipd *s, uint64_t now);
int sipd_save(void *arg);

/* nat.c: the NAT continuity extension, registrar side (sip-mobility.md 4.4). */
/* Sets up the pair list and the history; be NULL: no backend yet (sipd_nat_open_nft, or a fake
 * given by the tests).  -errno. */
int sipd_nat_init(struct sipd *s, const struct sipd_nat_backend *be, uint64_t now);
void sipd_nat_destroy(struct sipd *s);
/* Opens the nftables table of the owner (root, CAP_NET_ADMIN) as the backend.  -errno. */
int sipd_nat_open_nft(struct sipd *s);
/* Parses the X-Roam-Previous-Contact values of msg: the IP literals into old[] (at most max);
 * *n how many.  -ENOENT: no header; -EINVAL: a value that is not a SIP URI with an IP literal
 * host, or more than max. */
int sipd_nat_prev_parse(struct osip_message *msg, struct roam_ipaddr *old, size_t max,
			size_t *n);
/* One header value for addr: "<sip:user@ADDR>" (IPv6 bracketed) into out.  -ENOSPC. */
int sipd_nat_prev_build(const char *user, const struct roam_ipaddr *addr, char *out,
			size_t len);
/* Claim check: 0 when old belongs to aor (a current binding's contact host or source, a
 * binding dropped less than nat_grace ago, or a pair of aor installed here), else -EPERM. */
int sipd_nat_claim_check(struct sipd *s, const char *aor, const struct roam_ipaddr *old,
			 uint64_t now);
/* Rule planning: the pair our router needs for old -> new (role from nat_networks) with tag.
 * -EINVAL for unusable addresses (families differ, equal, unspecified, multicast). */
int sipd_nat_plan(const struct sipd_conf *c, const char *tag, const struct roam_ipaddr *old,
		  const struct roam_ipaddr *new, struct roam_nft_pair *out);
/* Tag of a local pair: "l" + 16 hex digits of SHA-256(aor NUL uri) + "." + 8 of old. */
void sipd_nat_local_tag(const char *aor, const char *uri, const struct roam_ipaddr *old,
			char tag[ROAM_NFT_TAG_MAX]);
/* Tag of a peer pair: "p" + 16 hex digits of SHA-256(peer NUL aor) + "." + 8 of old. */
void sipd_nat_peer_tag(const char *peer, const char *aor, const struct roam_ipaddr *old,
		       char tag[ROAM_NFT_TAG_MAX]);
/* Installs (or replaces) a pair of the given origin; any other pair of the same aor with the same
 * old address goes first.  0 or -errno (counted as nat_install_failures). */
int sipd_nat_install(struct sipd *s, const struct sipd_nat_pair *p);
/* Removes the pair with this tag (rules and tracking); tells the peers when local. */
int sipd_nat_remove(struct sipd *s, const char *tag, uint64_t now);
struct sipd_nat_pair *sipd_nat_find(struct sipd *s, const char *tag);
/* After a REGISTER of aor or at each tick: local pairs whose binding went are removed (and the
 * peers told), refreshed bindings re-announced; peer pairs past their expiry removed. */
void sipd_nat_sync(struct sipd *s, const char *aor, uint64_t now);
/* At start-up, after the location service was restored: adopts the pairs of the table that
 * current bindings (local) still need, removes the others; peer pairs are adopted for nat_grace
 * (their server refreshes them).  Returns how many were removed, or -errno. */
int sipd_nat_reconcile(struct sipd *s, uint64_t now);
/* The REGISTER part (registrar.c): r carries the option tag in Require.  Checks the claim of
 * the request for aor (authenticated as user) and fills old[] and *nold and *new; 0 to go on, else
 * it answered (400/403) and returns -EPERM. */
int sipd_nat_register_check(struct sipd *s, struct sipd_req *r, const char *aor, bool authed,
			    struct roam_ipaddr *old, size_t *nold, struct roam_ipaddr *new);
/* After the bindings were updated: installs the pairs for the binding of uri, notifies the
 * peers; echo gets the X-Roam-Previous-Contact line of the 200 ("" when nothing was done). */
void sipd_nat_register_apply(struct sipd *s, const char *aor, const char *uri,
			     const struct roam_ipaddr *old, size_t nold,
			     const struct roam_ipaddr *new, uint64_t now, char *echo, size_t echolen);

/* peer.c: server-to-server notifications (sip-mobility.md 4.5). */
/* Sends (and retransmits) to every peer with notify a MESSAGE announcing old -> new for aor,
 * valid expires_s seconds (0: withdrawn). */
void sipd_peer_notify(struct sipd *s, const char *aor, const struct roam_ipaddr *old,
		      const struct roam_ipaddr *new, uint32_t expires_s, uint64_t now);
/* A MESSAGE with the option tag for sipd itself: verify, apply, answer.  Always answers. */
void sipd_peer_rx(struct sipd *s, struct sipd_req *r);
/* A response: 1 when it answers one of our peer MESSAGEs (consumed), else 0. */
int sipd_peer_response(struct sipd *s, struct osip_message *msg, uint64_t now);
/* Retransmissions and timeouts of our peer MESSAGEs. */
void sipd_peer_timers(struct sipd *s, uint64_t now);
/* The MAC of a peer message (hex, 64 chars + NUL) under key. */
int sipd_peer_mac(const struct conf_bytes *key, const char *keyid, uint64_t seq,
		  const char *callid, const char *body, size_t bodylen, char out[65]);
/* Builds a peer MESSAGE (text owned by the caller, free()) for peer i. */
int sipd_peer_build(struct sipd *s, size_t peer, const char *branch, const char *body,
		    uint64_t seq, char **text, size_t *len);

/* ctl.c */
int sipd_ctl_register(struct sipd *s);
void sipd_status(void *arg, struct json_writer *w);

#endif
