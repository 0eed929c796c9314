/* cnd: the correspondent host agent (cnd(8), cnd.yaml(5)).  One daemon, one module per
 * mechanism, like mnd: each module has an optional section in cnd.yaml and is enabled by its
 * presence.  The module table (main.c) runs through roam/module.h: a module is a
 * struct roam_module whose callbacks get `struct cnd *` as d and `const struct cnd_conf *` as
 * conf / old.
 *
 * Modules: mip4 (Mobile IPv4 route optimization, mip4.c: Binding Update / Acknowledge /
 * Request, binding cache, IP-in-IP straight to the care-of address, synchronized handoff by
 * relaying the home agent's deregistration reply behind the data; docs/protocols/mipv4.md 4,
 * 8.4).  A new module adds its config struct to struct cnd_conf, a CONF_MAP line in conf.c,
 * its `extern const struct roam_module cnd_<name>_module;` below and an entry in main.c's
 * table (CND_NMODULES). */
#ifndef CND_H
#define CND_H
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
#include "roam/json.h"
#include "roam/log.h"
#include "roam/mip4.h"
#include "roam/module.h"
#include "roam/sip_ua.h"
#include "roam/tunnel.h"
#include "roam/udp.h"

struct cnd;

/* ---- configuration (conf.c; cnd.yaml(5)) ---- */

struct cnd_ha_conf {
	char *name;                  /* label for logs */
	struct roam_ipaddr address;  /* the home agent (source of Binding Updates) */
	uint32_t spi;                /* HA-CN security association */
	struct conf_bytes key;
	unsigned algorithm;          /* index into mip4_sa_algorithms */
};

struct cnd_dataplane_conf {
	bool enabled;
	char *tun;                   /* TUN device the home addresses are routed into */
	uint32_t tun_mtu;
	uint32_t ttl;                /* outer TTL */
};

struct cnd_mip4_conf {
	struct roam_ipaddr address;  /* family 0: section absent, module disabled; else our
				      * address (tunnel source, Binding Request source) */
	struct roam_ipaddr listen;
	uint32_t port;
	uint64_t replay_tolerance;   /* ms */
	uint64_t max_lifetime;       /* ms: longer Binding Updates are shortened */
	uint32_t max_bindings;
	uint32_t fifo_items;
	uint32_t request_pct;        /* Binding Request at this share of the lifetime; 0: never */
	bool synchronize;            /* keep the old path draining, relay the DRR behind it */
	struct cnd_dataplane_conf dataplane;
	struct cnd_ha_conf *home_agents;
	size_t nhome_agents;
};

struct cnd_conf {
	char *control_socket;
	char *user;
	unsigned log_level;
	struct cnd_mip4_conf mip4;
	struct sip_agent_conf sip;   /* sip.c; aor NULL: section absent */
};

extern const struct conf_schema cnd_conf_schema;
/* Loads path (or text, when not NULL: tests) into c (print: errors to stderr, else to the
 * log; err gets the first one). */
int cnd_conf_load(struct cnd_conf *c, const char *path, const char *text, int print, char *err,
		  size_t errlen);
void cnd_conf_free(struct cnd_conf *c);

/* ---- modules ---- */

extern const struct roam_module cnd_mip4_module;
extern const struct roam_module cnd_sip_module;

#define CND_NMODULES 2

struct cnd {
	struct cnd_conf conf;
	const char *config_path;
	bool debug;
	uv_loop_t *loop;                 /* NULL in unit tests */
	struct roam_daemon *daemon;
	struct roam_ctl *ctl;
	struct roam_module_slot mods[CND_NMODULES];
	uint64_t started_wall;
};

/* ctl.c */
int cnd_ctl_register(struct cnd *c);
void cnd_status(void *arg, struct json_writer *w);

/* ---- the mip4 module (mip4.c) ---- */

struct cnd_ha_sa {
	struct roam_ipaddr addr;
	uint32_t spi;
	char name[64];
	struct roam_key key;
	struct replay_ts replay;         /* Binding Update Identifications (NTP units) */
};

struct cnd_bstats {
	uint64_t tunnelled, tunnelled_bytes; /* sent IP-in-IP to a care-of address */
	uint64_t queued, dropped;
};

/* Per binding (b->user). */
struct cnd_binding {
	size_t ha;                 /* index of the SA that sent the update */
	bool installed;            /* route of the home address into the TUN device */
	bool request_sent;         /* Binding Request sent for this lifetime */
	uint64_t request_due;      /* monotonic ms; 0: none */
	uint64_t drr_relayed;
	struct cnd_bstats st;
};

/* Kernel and socket side through hooks (unit tests use fakes): send a control message on
 * UDP 434, transmit a complete outer IPv4 datagram (raw socket), add / remove the route of a
 * home address into the TUN device.  0 or a negative errno; -EAGAIN from xmit leaves the item
 * queued. */
struct cnd_mip4_ops {
	int (*send)(void *arg, const struct roam_sockaddr *dst, const void *data, size_t len);
	int (*xmit)(void *arg, const void *pkt, size_t len);
	int (*install)(void *arg, const struct roam_ipaddr *home, int add);
	void *arg;
};

struct cnd_mip4_stats {
	uint64_t rx_packets, rx_update, rx_other;
	uint64_t accepted, created, refreshed, moved, deleted, expired;
	uint64_t acks_sent, nacks_sent, requests_sent, drr_relayed, drr_no_old_path;
	uint64_t drop_malformed, drop_must_understand, drop_unknown_ha, drop_unknown_spi,
		drop_no_auth, drop_auth_failed, drop_no_id, drop_id_window, drop_replay,
		drop_bad_flags, drop_too_many, drop_tx_error;
	uint64_t dp_rx_packets, dp_tunnelled, dp_tunnelled_bytes, dp_queued;
	uint64_t dp_drop_no_binding, dp_drop_malformed, dp_drop_full, dp_drop_too_big,
		dp_drop_tx_error, dp_tx_eagain;
};

struct cnd_mip4 {
	struct cnd *c;
	struct cnd_ha_sa *sas;
	size_t nsas;
	struct binding_cache bc;
	bool bc_ready;
	struct cnd_mip4_ops ops;
	bool have_ops;                   /* ops are in place (sockets or fakes) */
	struct roam_udp *udp;
	struct roam_tunnel tn;
	bool tn_open;
	uint8_t *txbuf;                  /* encapsulation buffer */
	uint16_t ip_id;
	uint64_t last_req_id;            /* Identification of our last Binding Request */
	uv_timer_t timer;                /* expiry and Binding Requests */
	uv_timer_t drain_timer;          /* retries FIFOs the raw socket refused */
	bool timers;
	struct cnd_mip4_stats st;
	struct log_ratelimit rl;
};

/* Test / embedding entry points (mip4.c). */
/* Creates the module state for c without sockets; ops are the hooks. */
int cnd_mip4_new(struct cnd *c, const struct cnd_mip4_ops *ops, struct cnd_mip4 **out);
void cnd_mip4_delete(struct cnd_mip4 *m);
/* One UDP 434 datagram (borrowed) from src at monotonic now (ms), receiver NTP time ntp_now. */
void cnd_mip4_input(struct cnd_mip4 *m, const uint8_t *data, size_t len,
		    const struct roam_sockaddr *src, uint64_t now, uint64_t ntp_now);
/* One IPv4 packet the kernel routed into the TUN device (borrowed). */
void cnd_mip4_from_tun(struct cnd_mip4 *m, const uint8_t *pkt, size_t len, uint64_t now);
/* Expires bindings and sends the Binding Requests that are due; returns the next deadline
 * (monotonic ms, UINT64_MAX: none). */
uint64_t cnd_mip4_tick(struct cnd_mip4 *m, uint64_t now, uint64_t ntp_now);
/* Drains every path; returns how many still hold items. */
size_t cnd_mip4_drain_all(struct cnd_mip4 *m);

#endif
