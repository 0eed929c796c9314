/* hlrd: the home location register of MIP-LR (seed 001, [56]-[62]).  Keeps the mapping from a
 * mobile host's permanent address to its care-of address; the wire protocol is
 * docs/protocols/hlr.md, the codec common/proto/hlr.
 *
 * Files: main.c (argv, config, loop), conf.c (the hlrd.yaml schema), server.c (the protocol:
 * receive, check, answer), store.c (the mapping table, its expiry and snapshots), ctl.c (the
 * control commands).  All state lives in one struct hlrd, passed explicitly. */
#ifndef HLRD_H
#define HLRD_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "roam/addr.h"
#include "roam/auth.h"
#include "roam/conf.h"
#include "roam/ctl.h"
#include "roam/daemon.h"
#include "roam/log.h"
#include "roam/snapshot.h"
#include "roam/stats.h"
#include "roam/table.h"
#include "roam/udp.h"

#define HLRD_SNAP_KIND "hlrd/1"
#define HLRD_SNAP_MAPPING 1 /* snapshot record type: one mapping */
#define HLRD_MAX_LISTEN 16

/* ---- configuration (conf.c; hlrd.yaml(5)) ---- */

struct hlrd_conf_host {
	char *name;                   /* optional label for logs and dumps */
	uint32_t key_id;              /* 1..2^32-1, unique */
	struct conf_bytes key;        /* secret, hex, 16..64 bytes */
	int algorithm;                /* index in hlrd_algorithms: 0 = hmac-sha256 */
	struct roam_prefix *addresses;/* permanent addresses / prefixes it may update */
	size_t naddresses;
};

struct hlrd_conf {
	struct roam_ipaddr *listen;   /* addresses to bind, v4 and/or v6 */
	size_t nlisten;
	uint16_t port;
	char *control_socket;
	char *snapshot;               /* state file; empty: no snapshots */
	uint32_t snapshot_interval;   /* ms */
	uint32_t default_lifetime;    /* ms (whole seconds on the wire) */
	uint32_t max_lifetime;        /* ms */
	uint32_t negative_ttl;        /* ms */
	uint32_t replay_tolerance;    /* ms */
	uint32_t max_entries;
	char *user;                   /* drop privileges to this user; empty: stay */
	int log_level;                /* index in hlrd_log_levels */
	struct hlrd_conf_host *hosts;
	size_t nhosts;
};

extern const struct conf_schema hlrd_conf_schema;

/* Loads and checks path into *c (on error, prints/logs every error: to stderr when `print`,
 * else through the log; *c is untouched).  err (may be NULL) receives the first error line. */
int hlrd_conf_load(struct hlrd_conf *c, const char *path, int print, char *err, size_t errlen);
void hlrd_conf_free(struct hlrd_conf *c);

/* ---- runtime keys (built from the config; replay state survives reloads) ---- */

struct hlrd_key {
	uint32_t key_id;
	char name[64];
	struct roam_key key;
	struct replay_ts replay;
	const struct roam_prefix *addresses; /* borrowed from the running config */
	size_t naddresses;
};

/* ---- the mapping table (store.c) ---- */

struct hlrd_entry {
	struct table_node node;
	uint8_t tkey[ROAM_IPADDR_KEYLEN];   /* table key: roam_ipaddr_key(perm) */
	struct roam_ipaddr perm, coa;
	uint32_t key_id;                    /* who updated it last */
	uint32_t granted;                   /* seconds granted by the last update */
	uint64_t expires;                   /* monotonic ms */
	uint64_t updated_wall;              /* wall-clock ms of the last update */
};

struct hlrd_stats {
	uint64_t rx_packets;
	uint64_t rx_update, rx_query;             /* well-formed requests by type (before auth) */
	uint64_t accepted_update, accepted_query; /* authenticated, fresh: answered */
	uint64_t drop_malformed, drop_not_request, drop_unknown_key, drop_bad_auth, drop_stale,
		drop_replay;
	uint64_t reply_not_authorized, reply_bad_address, reply_no_resources;
	uint64_t tx_update_ack, tx_query_reply, tx_errors;
	uint64_t mappings_created, mappings_refreshed, deregistrations, lifetimes_capped;
	uint64_t queries_found, queries_no_mapping;
	uint64_t mappings_expired, mappings_deleted;
	uint64_t snapshot_saves, snapshot_failures, snapshot_loaded, snapshot_skipped;
};

struct hlrd_listener {
	struct hlrd *h;
	struct roam_udp *udp;
	struct roam_sockaddr addr;
};

struct hlrd {
	uv_loop_t *loop;
	const char *config_path;      /* borrowed from args */
	bool debug;                   /* -d: the log level stays debug across reloads */
	struct hlrd_conf conf;
	struct hlrd_key *keys;
	size_t nkeys;
	struct hlrd_listener listeners[HLRD_MAX_LISTEN];
	size_t nlisteners;
	struct table table;
	bool store_ready;             /* table and expiry timer initialised */
	uv_timer_t expiry_timer;
	struct snap_timer snap;
	struct roam_ctl *ctl;
	struct roam_daemon *daemon;
	struct hlrd_stats stats;
	struct stats_table stats_table;
	struct log_ratelimit drop_rl;
	uint64_t started_wall;
};

/* server.c */
/* Builds h->keys from h->conf, keeping the replay windows of keys whose id and key bytes are
 * unchanged.  -ENOMEM, -EINVAL (bad key). */
int hlrd_keys_build(struct hlrd *h);
void hlrd_keys_free(struct hlrd *h);
struct hlrd_key *hlrd_key_find(struct hlrd *h, uint32_t key_id);
/* 1 when key k may update permanent address a. */
int hlrd_key_may_update(const struct hlrd_key *k, const struct roam_ipaddr *a);
/* Opens one UDP listener per configured address.  Errors are logged; -errno. */
int hlrd_server_open(struct hlrd *h);
void hlrd_server_close(struct hlrd *h);
/* Handles one datagram (borrowed) from src, received at dst (may be NULL), at monotonic `now`
 * and wall-clock NTP `ntp_now`.  If a reply is due it is written to reply (HLR_MAX_MSG bytes)
 * and its length returned; 0 when the datagram is dropped.  Never fails: drops are counted. */
size_t hlrd_handle(struct hlrd *h, const uint8_t *data, size_t len, const struct roam_sockaddr *src,
		   uint64_t now, uint64_t ntp_now, uint8_t *reply);

/* store.c */
int hlrd_store_init(struct hlrd *h);
void hlrd_store_destroy(struct hlrd *h);
struct hlrd_entry *hlrd_store_lookup(struct hlrd *h, const struct roam_ipaddr *perm);
/* Creates or refreshes perm -> coa for granted seconds (> 0) at now.  Returns 0 (created: *created
 * = 1) or -ENOSPC (table full), -ENOMEM. */
int hlrd_store_set(struct hlrd *h, const struct roam_ipaddr *perm, const struct roam_ipaddr *coa,
		   uint32_t granted, uint32_t key_id, uint64_t now, int *created);
/* Removes the mapping of perm; 1 if there was one, else 0. */
int hlrd_store_delete(struct hlrd *h, const struct roam_ipaddr *perm);
size_t hlrd_store_flush(struct hlrd *h);
/* Seconds left (rounded down, at least 1 while not expired), 0 if expired. */
uint32_t hlrd_entry_remaining(const struct hlrd_entry *e, uint64_t now);
/* Expires due entries and re-arms the expiry timer. */
void hlrd_store_expire(struct hlrd *h, uint64_t now);
/* Shortens entries whose remaining lifetime exceeds max_s (after a reload lowered the cap). */
void hlrd_store_cap(struct hlrd *h, uint32_t max_s, uint64_t now);
int hlrd_store_save(void *arg);
int hlrd_store_load(struct hlrd *h);
/* Starts (or restarts with a new interval) the periodic snapshot; no-op without a path. */
int hlrd_store_snap_start(struct hlrd *h);

/* ctl.c */
int hlrd_ctl_register(struct hlrd *h);
void hlrd_status(void *arg, struct json_writer *w);

#endif
