/* had: the Mobile IPv4 home agent (RFC 5944; docs/protocols/mipv4.md; had(8)).
 *
 * This is the control plane: registration over UDP 434 (reg.c), security associations (sa.c),
 * the binding cache with its expiry and snapshots (store.c), agent advertisements on the home
 * link (adv.c), the control commands (ctl.c), the had.yaml schema (conf.c) and main.c (argv,
 * config, loop).  The data plane (tunnelling to the care-of addresses) comes later; until then
 * the only items in a binding's FIFOs are control messages (the synchronized handoff's
 * deregistration reply), drained at once through the UDP 434 socket.
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
#include "roam/raw.h"
#include "roam/snapshot.h"
#include "roam/stats.h"
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
	int reverse_tunnel;          /* enum had_rt */
	uint32_t fifo_items;
	struct had_conf_advert advert;
	char *user;
	int log_level;
	struct had_conf_mobile *mobiles;
	size_t nmobiles;
	struct had_conf_fa *foreign_agents;
	size_t nfas;
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
	uint64_t adv_sent, adv_solicited, sol_received, sol_malformed;
	uint64_t snapshot_saves, snapshot_failures, snapshot_loaded, snapshot_skipped;
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
	/* advertisements (adv.c) */
	struct roam_raw *raw;
	uv_timer_t adv_timer;
	int adv_started;
	uint16_t adv_seq;
	uint64_t adv_count;
	uint32_t rng;
	int adv_ifindex;
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
/* Encodes the agent advertisement (ICMP with checksum) into w. */
int had_adv_build(struct had *h, struct wbuf *w);
int had_adv_open(struct had *h);
void had_adv_close(struct had *h);
void had_adv_reconf(struct had *h);

/* ctl.c */
int had_ctl_register(struct had *h);
void had_status(void *arg, struct json_writer *w);

#endif
