/* had: the Mobile IPv4 home agent (RFC 5944; docs/protocols/mipv4.md; had(8)).
 *
 * This is the control plane: registration over UDP 434 (reg.c), security associations (sa.c),
 * the binding cache with its expiry and snapshots (store.c), agent advertisements on the home
 * link (adv.c), the control commands (ctl.c), the had.yaml schema (conf.c) and main.c (argv,
 * config, loop).  The user-space data plane (dataplane.c) captures the traffic for bound home
 * addresses on a TUN device, tunnels it IP-in-IP to the care-of addresses through each
 * binding's path FIFO (so data and the synchronized handoff's deregistration reply keep their
 * order) and decapsulates reverse-tunnelled traffic.
 *
 * All state lives in one struct had, passed explicitly. */
#ifndef HAD_H
#define HAD_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "roam/addr.h"
#include "roam/auth.h"
#include "roam/binding.h"
#include "roam/conf.h"
#include "roam/ctl.h"
#include "roam/daemon.h"
#include "roam/log.h"
#include "roam/mip4.h"
#include "roam/mip4_agent.h"
#include "roam/raw.h"
#include "roam/snapshot.h"
#include "roam/stats.h"
#include "roam/tunnel.h"
#include "roam/udp.h"

#define HAD_SNAP_KIND "had/1"
#define HAD_SNAP_BINDING 1 /* snapshot record type: one binding */
#define HAD_MAX_MSG 1024   /* largest reply had builds */

/* ---- configuration (conf.c; had.yaml(5)) ---- */

enum had_alg { HAD_ALG_HMAC_MD5 = 0, HAD_ALG_KEYED_MD5 = 1 };
enum had_rt { HAD_RT_OFF = 0, HAD_RT_ON = 1, HAD_RT_MANDATORY = 2 };

struct had_conf_mobile {
	char *name;                  /* label for logs */
	uint32_t spi;                /* 256..2^32-1, unique */
	struct conf_bytes key;       /* secret, hex, 1..64 bytes */
	int algorithm;               /* enum had_alg */
	struct roam_ipaddr *home;    /* home addresses bound to this SA */
	size_t nhome;
};

struct had_conf_fa {
	char *name;
	struct roam_ipaddr address;  /* the FA's address (source of relayed requests, care-of) */
	uint32_t spi;
	struct conf_bytes key;
	int algorithm;
};

struct had_conf_advert {
	bool enabled;
	char *interface;             /* home link */
	uint32_t interval;           /* ms */
	uint32_t lifetime;           /* ms, whole seconds on the wire */
};

struct had_conf_dataplane {
	bool enabled;
	char *tun;                   /* TUN device name */
	uint32_t tun_mtu;
	char *interface;             /* home link: proxy ARP for the bound home addresses */
	struct roam_ipaddr source;   /* tunnel source; 0.0.0.0: the home agent address */
	uint32_t ttl;                /* outer TTL */
	bool gratuitous_arp;
};

/* Route optimization (ro.c; docs/protocols/mipv4.md 4, 8.4): the correspondents running cnd. */
struct had_conf_cn {
	char *name;
	struct roam_ipaddr address;  /* the correspondent (Binding Updates to its port 434) */
	uint32_t spi;                /* HA-CN security association */
	struct conf_bytes key;
	int algorithm;
	bool push;                   /* updates on every registration; false: once it asked */
};

struct had_conf_ro {
	bool acknowledge;            /* A in the Binding Updates */
	bool relay_dereg;            /* synchronized move: the DRR goes through the correspondent */
	struct had_conf_cn *correspondents;
	size_t ncns;
};

struct had_conf {
	struct roam_ipaddr address;  /* the home agent address (Home Agent field) */
	struct roam_ipaddr listen;   /* UDP bind address */
	uint16_t port;
	char *control_socket;
	char *snapshot;              /* empty: no snapshots */
	uint32_t snapshot_interval;  /* ms */
	uint32_t max_lifetime;       /* ms, whole seconds on the wire */
	uint32_t replay_tolerance;   /* ms, whole seconds used */
	uint32_t max_bindings;
	bool synchronized;
	uint32_t drr_delay;          /* ms; test knob: the deregistration reply waits this long at
				      * the head of the old path (a slow old path, docs 8.2) */
	int reverse_tunnel;          /* enum had_rt */
	uint32_t fifo_items;
	struct had_conf_advert advert;
	struct had_conf_dataplane dataplane;
	char *user;
	int log_level;
	struct had_conf_mobile *mobiles;
	size_t nmobiles;
	struct had_conf_fa *foreign_agents;
	size_t nfas;
	struct had_conf_ro ro;       /* route_optimization (ro.c) */
};

extern const struct conf_schema had_conf_schema;

/* Loads and checks path into *c; every error printed (print) or logged; *c untouched on error.
 * err (may be NULL) receives the first error line. */
int had_conf_load(struct had_conf *c, const char *path, int print, char *err, size_t errlen);
/* Same from a string (tests). */
int had_conf_load_string(struct had_conf *c, const char *text, char *err, size_t errlen);
void had_conf_free(struct had_conf *c);

/* ---- security associations (sa.c) ---- */

struct had_sa {
	uint32_t spi;
	char name[64];
	struct roam_key key;
	struct replay_ts replay;              /* Identification replay state (NTP units) */
	const struct roam_ipaddr *home;       /* borrowed from the running config */
	size_t nhome;
};

struct had_fa {
	struct roam_ipaddr addr;
	uint32_t spi;
	char name[64];
	struct roam_key key;
};

/* ---- counters ---- */

#define HAD_NCODES 12 /* denial codes 128..139 */

struct had_stats {
	uint64_t rx_packets;
	uint64_t rx_request, rx_reply, rx_regional, rx_fbu, rx_ro, rx_unknown_type;
	uint64_t accepted, created, refreshed, moved, deregistered, simultaneous, lifetimes_capped;
	uint64_t denied[HAD_NCODES];
	uint64_t unknown_spi, mn_auth_failed, fa_auth_failed, foreign_home;
	uint64_t drop_malformed, drop_must_understand, drop_not_request, drop_replay,
		drop_tx_error;
	uint64_t drr_queued, drr_sent, drr_failed, drop_no_dataplane;
	uint64_t tx_replies;
	uint64_t bindings_expired, bindings_deleted;
	struct mip4_adv_counters adv; /* advertisements (roam/mip4_agent.h) */
	uint64_t snapshot_saves, snapshot_failures, snapshot_loaded, snapshot_skipped;
	/* data plane (dataplane.c) */
	uint64_t dp_rx_packets, dp_rx_bytes;         /* read from the TUN device */
	uint64_t dp_tunnelled, dp_tunnelled_bytes;   /* encapsulated packets sent */
	uint64_t dp_queued;                          /* pushed into a path FIFO */
	uint64_t dp_drop_no_binding, dp_drop_not_ipv4, dp_drop_malformed, dp_drop_full,
		dp_drop_ttl, dp_drop_loop, dp_drop_too_big, dp_drop_tx_error;
	uint64_t dp_tx_eagain;                       /* raw socket full: left queued, retried */
	uint64_t rt_rx_packets, rt_rx_bytes;         /* reverse tunnel: delivered to the TUN */
	uint64_t rt_drop_malformed, rt_drop_unknown_coa, rt_drop_spoofed, rt_drop_not_ipip,
		rt_drop_off, rt_drop_tx_error;
	uint64_t dp_installs, dp_install_failures, dp_removals, dp_garp_sent;
};

/* ---- per binding (b->user, dataplane.c) ---- */

struct had_bstats {
	uint64_t tunnelled, tunnelled_bytes;  /* sent IP-in-IP to a care-of address */
	uint64_t reverse, reverse_bytes;      /* reverse-tunnelled, delivered */
	uint64_t queued;                      /* pushed into a path FIFO */
	uint64_t dropped;                     /* FIFO full, TTL, size, send error */
};

/* What had keeps per binding beyond roam/binding.h: owned by the binding (b->user), created
 * by had_binding_attach(), freed by had_binding_gone(). */
struct had_binding {
	uint32_t spi;           /* the MN-HA SA it was registered with */
	bool installed;         /* host route + proxy ARP entry in the kernel */
	struct had_bstats st;
	uint64_t ro_requested;  /* correspondents (bit = index < 64) that sent a Binding Request or
				 * were named by a Binding Warning for this binding (ro.c) */
};

/* ---- data plane (dataplane.c) ----
 * Kernel side through hooks so that unit tests run without sockets: xmit sends a complete
 * outer IPv4 datagram (raw socket, IP_HDRINCL), deliver writes a decapsulated inner datagram
 * into the TUN device, install adds (add = 1) or removes the host route and proxy ARP entry of
 * a home address.  Each returns 0 or a negative errno; xmit's -EAGAIN leaves the packet queued
 * at the head of its FIFO. */
struct had_dp_ops {
	int (*xmit)(void *arg, const void *pkt, size_t len);
	int (*deliver)(void *arg, const void *pkt, size_t len);
	int (*install)(void *arg, const struct roam_ipaddr *home, int add);
	void *arg;
};

struct had_dp {
	bool enabled;             /* hooks in place: bindings are tunnelled */
	struct had_dp_ops ops;
	struct roam_ipaddr source; /* outer source */
	uint16_t ip_id;           /* outer Identification counter */
	uint8_t *txbuf;           /* encapsulation buffer (65535 bytes) */
	size_t backlog;           /* bindings whose current path holds items (retry pending) */
	struct roam_tunnel tn;    /* raw socket, TUN device, routes, retry timer (roam/tunnel.h) */
	int garp_fd;              /* AF_PACKET for gratuitous ARP, valid when garp */
	bool garp;
	uint8_t home_mac[6];
};


/* ---- route optimization (ro.c) ---- */

#define HAD_RO_MAX_CN 64

struct had_cn {
	struct roam_ipaddr addr;
	uint32_t spi;
	char name[64];
	struct roam_key key;
	struct replay_ts replay;    /* Binding Request Identifications */
	bool push;
	uint64_t last_id;           /* Identification of our last Binding Update */
	uint64_t bu_sent, ba_rx, nack_rx, br_rx;
	/* Binding Updates sent with A and not yet acknowledged, one per home address (the newest
	 * replaces an older one): re-sent with a fresh Identification (ro.c) */
	struct had_bu_pending *pend;
	size_t npend;
};

#define HAD_BU_PENDING_MAX 1024 /* per correspondent; the oldest makes room */
#define HAD_BU_RETX_FIRST_MS 1000
#define HAD_BU_RETX_TRIES 4     /* transmissions in all */

struct had_bu_pending {
	struct in_addr home, coa, relay_dst;
	uint16_t lifetime;          /* as first sent */
	uint8_t relay_len;
	unsigned tries;
	uint64_t id;                /* of the last transmission */
	uint64_t first_ms, next_ms, interval_ms; /* Unix ms (the Identification's clock) */
	uint8_t relay[MIP4_RO_RELAY_MAX];
};

struct had_ro_stats {
	uint64_t bu_sent, bu_dereg_sent, drr_relayed, tx_error;
	uint64_t ba_rx, ba_nack, ba_unmatched;
	uint64_t bu_retx, bu_given_up, bu_pending_evicted;
	uint64_t br_rx, br_answered, bw_rx, bw_answered;
	uint64_t drop_unknown_cn, drop_no_auth, drop_auth_failed, drop_replay, drop_id_window,
		drop_no_binding;
};

struct had_ro {
	struct had_cn *cns;
	size_t ncns;
	struct had_ro_stats st;
	uv_timer_t timer;             /* retransmissions (with a loop only) */
	bool timer_init;
};

/* Transmit hook for everything sent on UDP 434 (the daemon's socket; a capture in tests).
 * Returns 0 or a negative errno (counted by the caller). */
typedef int (*had_send_fn)(void *arg, const struct roam_sockaddr *dst, const void *data,
                           size_t len);

struct had {
	uv_loop_t *loop;              /* NULL in unit tests */
	const char *config_path;
	bool debug;
	struct had_conf conf;
	struct had_sa *sas;
	size_t nsas;
	struct had_fa *fas;
	size_t nfas;
	struct binding_cache bc;
	bool store_ready; /* binding cache and its timers initialised */
	uv_timer_t expiry_timer;
	uv_timer_t drain_timer;       /* retries old-path FIFOs the socket refused (-EAGAIN) */
	struct snap_timer snap;
	struct roam_udp *udp;
	had_send_fn send;
	void *send_arg;
	/* Transmit hook for data items of a binding path's FIFO (dst: the care-of address, port
	 * 0).  The data plane (next release) sets it; while NULL, a data item reaching the head of
	 * a FIFO is dropped and counted (drop_no_dataplane). */
	had_send_fn send_data;
	void *send_data_arg;
	/* advertisements (adv.c, roam/mip4_agent.h) */
	struct mip4_advertiser adv;
	struct had_dp dp;
	struct had_ro ro;             /* route optimization (ro.c) */
	struct roam_ctl *ctl;
	struct roam_daemon *daemon;
	struct had_stats stats;
	struct stats_table stats_table;
	struct log_ratelimit drop_rl;
	uint64_t started_wall;
};

/* sa.c */
/* Builds h->sas / h->fas from h->conf, keeping the replay state of SAs whose SPI, algorithm and
 * key are unchanged.  -ENOMEM, -EINVAL (bad key). */
int had_sa_build(struct had *h);
void had_sa_free(struct had *h);
struct had_sa *had_sa_find(struct had *h, uint32_t spi);
/* 1 when sa is bound to home address a. */
int had_sa_has_home(const struct had_sa *sa, struct in_addr a);
/* The FA security association of address a, or NULL. */
struct had_fa *had_fa_find(struct had *h, struct in_addr a);

/* reg.c */
/* Processes one UDP 434 datagram (borrowed) from src at monotonic `now` (ms) and receiver NTP
 * time ntp_now.  Replies go out through h->send; a synchronized handoff queues the
 * deregistration reply on the binding's old FIFO and drains it (had_drain_old).  Never fails:
 * drops and denials are counted. */
void had_reg_input(struct had *h, const uint8_t *data, size_t len,
                   const struct roam_sockaddr *src, uint64_t now, uint64_t ntp_now);
/* Sends what b's old path holds to the old care-of address (port 434) through h->send and
 * releases the old path once empty. */
void had_drain_old(struct had *h, struct binding *b);
/* Drains every binding's old path (drain timer); returns how many still hold items. */
size_t had_drain_all(struct had *h);
/* The SPI a binding was registered with. */
uint32_t had_binding_spi(const struct binding *b);
/* Removes b from the cache after had_binding_gone() (deregistration, operator delete). */
void had_binding_remove(struct had *h, struct binding *b);

/* store.c */
int had_store_init(struct had *h, uint64_t now);
void had_store_destroy(struct had *h);
/* Expires due bindings and re-arms the expiry timer. */
void had_store_expire(struct had *h, uint64_t now);
/* Shortens bindings whose remaining lifetime exceeds max_lifetime (after a reload lowered
 * it). */
void had_store_cap(struct had *h, uint64_t now);
/* Re-arms the expiry timer after a change (no-op without a loop). */
void had_store_rearm(struct had *h, uint64_t now);
int had_store_save(void *arg);
/* Loads the snapshot at h->conf.snapshot; wall/now are the current wall-clock / monotonic ms.
 * Expired bindings are dropped, the remaining lifetime kept (capped by max_lifetime). */
int had_store_load(struct had *h, uint64_t wall, uint64_t now);
int had_store_snap_start(struct had *h);

/* adv.c */
/* Encodes the agent advertisement (ICMP with checksum) with sequence number h->adv.seq into
 * w. */
int had_adv_build(struct had *h, struct wbuf *w);
int had_adv_open(struct had *h);
void had_adv_close(struct had *h);
void had_adv_reconf(struct had *h);

/* dataplane.c */
/* Gives b its had_binding (allocated on first call: -ENOMEM) with spi and, when the data plane
 * runs, installs the home address's route and proxy ARP entry (new binding, restored binding)
 * and sends a gratuitous ARP; a moved binding keeps them. */
int had_binding_attach(struct had *h, struct binding *b, uint32_t spi);
/* Undoes attach before b leaves the cache (deregistration, delete, expiry, shutdown): removes
 * the route and proxy ARP entry and frees b->user.  Safe on a binding never attached. */
void had_binding_gone(struct had *h, struct binding *b);
/* The binding's counters, or NULL when it was never attached. */
const struct had_bstats *had_binding_stats(const struct binding *b);
/* Opens the TUN device, the raw socket (protocol 4), netlink, proxy ARP on the home link, sets
 * h->send_data, and installs the bound home addresses (restored from the snapshot).  No-op when
 * dataplane.enabled is false.  Errors: negative errno (logged). */
int had_dp_open(struct had *h);
/* Closes what had_dp_open opened (call after the bindings are gone). */
void had_dp_close(struct had *h);
/* Test / embedding entry: uses ops instead of sockets and sets h->send_data. */
void had_dp_init_ops(struct had *h, const struct had_dp_ops *ops);
/* One IPv4 packet captured on the TUN device (borrowed): looked up by destination, queued on
 * the binding's current path and drained.  Never fails: drops are counted. */
void had_dp_from_tun(struct had *h, const uint8_t *pkt, size_t len, uint64_t now);
/* One datagram of the raw protocol-4 socket (borrowed, IPv4 header included): a reverse-
 * tunnelled packet of a bound mobile is decapsulated and delivered.  Drops are counted. */
void had_dp_from_raw(struct had *h, const uint8_t *pkt, size_t len);
/* h->send_data: encapsulates inner (an IPv4 datagram) to dst's address and transmits it. */
int had_dp_send_data(void *arg, const struct roam_sockaddr *dst, const void *inner, size_t len);
/* Drains every binding's current path; returns how many still hold items. */
size_t had_dp_drain_all(struct had *h);

/* ro.c (route optimization, docs/protocols/mipv4.md 4, 8.4) */
/* Builds h->ro.cns from h->conf.ro, keeping the replay state of unchanged SAs.  -ENOMEM,
 * -EINVAL (bad key). */
int had_ro_build(struct had *h);
void had_ro_free(struct had *h);
/* Re-sends the unacknowledged Binding Updates due at ntp_now; returns the next due time (Unix
 * ms) or UINT64_MAX.  With a loop, a timer calls it; had_ro_close() stops that timer. */
uint64_t had_ro_tick(struct had *h, uint64_t ntp_now);
void had_ro_close(struct had *h);
/* b was created, refreshed or moved: Binding Updates (lifetime b->lifetime_s, CoA b->cur) to
 * its correspondents.  drr (borrowed, may be NULL): the deregistration reply of a synchronized
 * move, to go to the old care-of address drr_dst; when route_optimization.relay_dereg is on and
 * a correspondent gets an update, it rides in that update's relay extension (240) and 1 is
 * returned (the caller then does not queue it); else 0. */
int had_ro_update(struct had *h, struct binding *b, const void *drr, size_t drr_len,
		  struct in_addr drr_dst, uint64_t ntp_now);
/* b is being deregistered: Binding Updates with lifetime 0 to its correspondents. */
void had_ro_dereg(struct had *h, struct binding *b, uint64_t ntp_now);
/* A route optimization message (240-243) decoded from data (borrowed) from src. */
void had_ro_input(struct had *h, const uint8_t *data, size_t len, const struct mip4_msg *m,
		  const struct roam_sockaddr *src, uint64_t now, uint64_t ntp_now);
/* "route_optimization" object members for status / stats. */
void had_ro_status(struct had *h, struct json_writer *w);

/* ctl.c */
int had_ctl_register(struct had *h);
void had_status(void *arg, struct json_writer *w);

#endif
