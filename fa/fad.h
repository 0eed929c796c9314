/* fad: the Mobile IPv4 foreign agent (RFC 5944 3.7; docs/protocols/mipv4.md; fad(8)).
 *
 * The control plane: agent advertisements on each cell (adv.c, with the shared
 * roam/mip4_agent.h advertiser), the registration relay between the mobiles on the cells and
 * their home agents over UDP 434 (relay.c), the Fast Binding Update of RFC 4988 for the
 * synchronized handoff (fbu.c), the security associations (sa.c), the visitor list with its
 * expiry and snapshots (visitor.c), the control commands (ctl.c), the fad.yaml schema (conf.c)
 * and main.c (argv, config, loop).  The user-space data plane (dataplane.c: decapsulation,
 * delivery on the cells, hold for pending registrations, forwarding after an FBU, reverse
 * tunnelling) uses the tunnel endpoint shared with had (roam/tunnel.h).
 *
 * The visitor list is a roam/binding.h cache keyed by home address: each visitor's current
 * path is the delivery FIFO towards the mobile (care-of field = the home address itself: the
 * mobile is on a cell of ours), or, after an accepted FBU, the forwarding path towards the new
 * care-of address (BINDING_MOVE_FORWARD).  Replies from the home agent for a visitor go
 * through that FIFO as control items behind the data the data plane (dataplane.c) decapsulated
 * before them, so a deregistration reply cannot overtake data that arrived before it.  Without
 * the data plane (dataplane.enabled false) data items are dropped and counted
 * (drop_no_dataplane).
 *
 * All state lives in one struct fad, passed explicitly. */
#ifndef FAD_H
#define FAD_H
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
#include "roam/snapshot.h"
#include "roam/stats.h"
#include "roam/tunnel.h"
#include "roam/udp.h"

#define FAD_SNAP_KIND "fad/1"
#define FAD_SNAP_VISITOR 1 /* snapshot record type: one visitor */
#define FAD_MAX_MSG 1400   /* largest message fad relays or builds */
#define FAD_MAX_CELLS 64

/* ---- configuration (conf.c; fad.yaml(5)) ---- */

enum fad_rt { FAD_RT_OFF = 0, FAD_RT_ON = 1, FAD_RT_MANDATORY = 2 };

struct fad_conf_cell {
	char *interface;             /* cell link */
	struct roam_ipaddr care_of;  /* care-of address advertised there (an address of fad) */
};

struct fad_conf_ha {
	char *name;
	struct roam_ipaddr address;  /* home agent address */
	uint32_t spi;                /* FA-HA SA */
	struct conf_bytes key;
	int algorithm;               /* index in mip4_sa_algorithms */
};

struct fad_conf_mobile {
	char *name;
	struct roam_ipaddr home;     /* the mobile's home address */
	uint32_t spi;                /* MN-FA SA (also MN-PAR for its FBUs) */
	struct conf_bytes key;
	int algorithm;
};

struct fad_conf_advert {
	bool enabled;
	uint32_t interval;           /* ms */
	uint32_t lifetime;           /* ms, whole seconds on the wire */
};

/* The user-space data plane (dataplane.c; fad.yaml(5) "dataplane"). */
struct fad_conf_dataplane {
	bool enabled;
	char *tun;                   /* TUN device decapsulated packets are written into */
	uint32_t tun_mtu;
	uint32_t ttl;                /* outer TTL of what fad tunnels (reverse, forwarding) */
	uint32_t pending_items;      /* data held per visitor whose registration is pending */
	bool capture_cells;          /* capture the visitors' packets on the cells (AF_PACKET,
				      * cell forwarding off) for reverse tunnelling */
	bool any_tunnel_source;      /* accept tunnels for a visitor from any outer source (a
				      * previous FA we never heard of); false: its home agent, a
				      * configured home agent, or the previous FA of an FBU relayed */
};

/* Gateway-FA role (gfa.c; fad.yaml(5) "gfa"; docs/protocols/mipv4.md 8.5). */
struct fad_conf_gfa {
	bool enabled;
	struct roam_ipaddr address;  /* the GFA's address: tunnel source, regional replies */
	uint32_t max_lifetime;       /* ms: longest regional registration (69 above) */
	struct fad_conf_mobile *mobiles; /* MN-GFA security associations */
	size_t nmobiles;
	struct fad_conf_ha *foreign_agents; /* FA-FA security associations (the lower FAs) */
	size_t nfas;
};

/* Lower-FA role in a GFA region (relay.c; fad.yaml(5) "region"; docs/protocols/mipv4.md 8.5):
 * the GFA's address is advertised as care-of address (I flag), registrations go to it. */
struct fad_conf_region {
	struct roam_ipaddr gfa;      /* family 0: not in a region */
	uint32_t spi;                /* FA-FA SA with the GFA */
	struct conf_bytes key;
	int algorithm;
};

struct fad_conf {
	struct roam_ipaddr listen;   /* UDP bind address */
	uint16_t port;
	char *control_socket;
	char *snapshot;              /* empty: no snapshots */
	uint32_t snapshot_interval;  /* ms */
	uint32_t max_lifetime;       /* ms: advertised registration lifetime; 69 above it */
	uint32_t relay_timeout;      /* ms: pending registration without reply -> 78 */
	uint32_t fbu_max_lifetime;   /* ms: longest forwarding an FBU may ask; 69 above */
	uint32_t replay_tolerance;   /* ms: FBU Identification tolerance */
	uint32_t max_visitors;       /* 66 beyond, B bit in the advertisements */
	bool synchronized;           /* accept FBUs (false: plain RFC 5944, FBU refused 65) */
	bool require_mn_fa;          /* 67 for a mobile without an MN-FA SA */
	bool known_home_agents_only; /* 65 for a home agent without an FA-HA SA */
	bool binding_warnings;       /* route optimization: Binding Warnings (ro.c) */
	int reverse_tunnel;          /* enum fad_rt */
	uint32_t fifo_items;
	struct fad_conf_advert advert;
	struct fad_conf_dataplane dataplane;
	char *user;
	int log_level;
	struct fad_conf_cell *cells;
	size_t ncells;
	struct fad_conf_ha *home_agents;
	size_t nhas;
	struct fad_conf_mobile *mobiles;
	size_t nmobiles;
	struct fad_conf_gfa gfa;     /* gateway-FA role (gfa.c) */
	struct fad_conf_region region; /* lower-FA role (relay.c) */
};

extern const struct conf_schema fad_conf_schema;

/* Loads and checks path into *c; every error printed (print) or logged; *c untouched on error.
 * err (may be NULL) receives the first error line. */
int fad_conf_load(struct fad_conf *c, const char *path, int print, char *err, size_t errlen);
/* Same from a string (tests). */
int fad_conf_load_string(struct fad_conf *c, const char *text, char *err, size_t errlen);
void fad_conf_free(struct fad_conf *c);

/* ---- security associations (sa.c) ---- */

struct fad_ha_sa {
	struct in_addr addr;
	uint32_t spi;
	char name[64];
	struct roam_key key;
};

struct fad_mn_sa {
	struct in_addr home;
	uint32_t spi;
	char name[64];
	struct roam_key key;
	struct replay_ts replay;     /* FBU Identifications (NTP units) */
};

/* ---- visitors (visitor.c) ---- */

enum fad_vstate {
	FAD_V_PENDING = 0,    /* first request relayed, no reply yet */
	FAD_V_REGISTERED,     /* accepted by the home agent */
	FAD_V_FORWARDING,     /* accepted FBU: the mobile moved on, its traffic goes to fwd_coa */
};
const char *fad_vstate_name(enum fad_vstate s);

/* Per-visitor data-plane counters (status, "visitor show"). */
struct fad_vstats {
	uint64_t decapsulated, decapsulated_bytes; /* IP-in-IP received for this visitor */
	uint64_t delivered, delivered_bytes;       /* written towards the mobile on its cell */
	uint64_t held;                             /* queued while its registration was pending */
	uint64_t forwarded, forwarded_bytes;       /* re-tunnelled to the new care-of address */
	uint64_t reverse, reverse_bytes;           /* reverse-tunnelled to its home agent */
	uint64_t routed;                           /* from the mobile, routed normally (no T) */
	uint64_t dropped;
};

/* The request relayed and not answered yet. */
struct fad_pending {
	bool active;
	uint64_t id;
	uint16_t lifetime;          /* requested */
	uint8_t flags;
	struct in_addr ha, coa;
	struct roam_sockaddr mn;    /* the mobile's source address and port */
	int cell;                   /* index in fad.cells */
	uint64_t deadline;          /* monotonic ms */
};

struct fad_visitor {
	struct binding *b;          /* back pointer (b->user == this) */
	enum fad_vstate state;
	struct in_addr home, ha, coa;
	struct roam_sockaddr mn;    /* where replies to the mobile go */
	int cell;
	uint8_t flags;              /* request flags of the registration (T ...) */
	uint16_t granted;           /* lifetime granted by the home agent, s */
	uint64_t reg_id;            /* Identification of the accepted registration */
	uint64_t reg_expires;       /* monotonic ms; 0 while pending */
	struct fad_pending pend;
	/* forwarding (accepted FBU) */
	struct in_addr fwd_coa;
	uint64_t fwd_expires;
	uint64_t fbu_id;
	bool remove_when_drained;   /* the deregistration reply was queued: drop the visitor after */
	/* new-FA role: where the mobile sent the FBU we relayed from (its FBAck goes there) */
	bool has_fbu_mn;
	struct roam_sockaddr fbu_mn;
	int fbu_cell;
	/* previous FA (the FBU we relayed for it): its forwarded tunnel traffic is accepted */
	struct in_addr prev_fa;
	/* Announced, not here yet (docs 8.3): an FBAck from the previous FA (or a forwarding
	 * entry of ours ended by the mobile coming back) says the mobile is on its way to one of
	 * our cells.  Everything queued for it (the FBAck, forwarded data, at most
	 * dataplane.pending_items data items) is held until its request arrives on a cell, or
	 * dropped at anticipate_expires. */
	bool anticipated;
	uint64_t anticipate_expires;  /* monotonic ms */
	/* Upstream from the mobile while it is anticipated or its registration here is pending
	 * (single radio: it sends before its registration is accepted, docs 8.3), at most
	 * dataplane.pending_items; sent (reverse tunnel / routed) once it is registered. */
	struct bfifo up;
	/* Until then (monotonic ms) frames of the mobile to another router's MAC are still taken:
	 * it keeps using its previous FA as gateway until it has processed our reply. */
	uint64_t other_until;
	/* data plane: host route of the home address on the cell (ifindex, 0 = none) */
	int dp_route_ifindex;
	struct fad_vstats st;
};

/* ---- counters ---- */

#define FAD_CODE_MIN 64
#define FAD_NCODES 25 /* reply codes 64..88 */
#define FAD_HA_NCODES 12 /* 128..139 relayed from the home agent */

struct fad_stats {
	uint64_t rx_packets;
	uint64_t rx_request, rx_reply, rx_fbu, rx_fback, rx_regional, rx_ro, rx_unknown_type;
	uint64_t relayed_requests, relayed_replies, relayed_deregistrations;
	uint64_t registered, refreshed, deregistered;
	uint64_t denied[FAD_NCODES];          /* denials fad sent, per code 64..88 */
	uint64_t ha_denied[FAD_HA_NCODES];    /* home agent denials relayed, per code 128..139 */
	uint64_t ha_denied_other;
	uint64_t drop_malformed, drop_must_understand, drop_not_cell, drop_unknown_visitor,
		drop_unmatched_reply, drop_ha_auth, drop_from_stranger, drop_tx_error,
		drop_no_dataplane;
	uint64_t pending_timeouts, pending_replaced;
	uint64_t drr_received, drr_relayed, drr_forwarded;
	uint64_t fbu_accepted, fbu_refused, fbu_stranger, fbu_replay, fbu_relayed, fbu_cancelled;
	uint64_t fback_sent, fback_relayed, fback_unknown;
	uint64_t anticipated, anticipated_arrived, anticipated_expired, anticipated_refused;
	uint64_t forwarding_returned;     /* forwarding ended: the mobile came back (A->B->A) */
	uint64_t visitors_expired, visitors_deleted, forwarding_expired;
	struct mip4_adv_counters adv;
	uint64_t snapshot_saves, snapshot_failures, snapshot_loaded, snapshot_skipped;
	/* data plane (dataplane.c) */
	uint64_t dp_rx_tunnel, dp_rx_tunnel_bytes;  /* IP-in-IP datagrams read */
	uint64_t dp_queued, dp_held, dp_delivered, dp_delivered_bytes;
	uint64_t dp_up_held, dp_up_released, dp_drop_up_full, dp_routed_departed;
	uint64_t dp_forwarded, dp_forwarded_bytes, dp_forwarded_ctrl;
	uint64_t dp_rx_cell, dp_reverse, dp_reverse_bytes, dp_routed;
	uint64_t dp_drop_not_ipip, dp_drop_malformed, dp_drop_not_for_us, dp_drop_no_visitor,
		dp_drop_bad_source, dp_drop_pending_full, dp_drop_full, dp_drop_ttl,
		dp_drop_too_big, dp_drop_tx_error, dp_drop_cell_stranger, dp_drop_cell_state;
	uint64_t dp_drop_cell_kernel; /* the kernel's drops on a cell capture (fad starved) */
	uint64_t dp_drop_up_flushed;  /* held upstream dropped with its visitor or a denial */
	uint64_t dp_tx_eagain;
	uint64_t ro_warnings_sent, ro_warnings_suppressed; /* Binding Warnings (ro.c) */
	uint64_t dp_installs, dp_install_failures, dp_removals;
	/* gateway-FA role (gfa.c) */
	uint64_t gfa_home_bound, gfa_regional_accepted, gfa_regional_denied,
		gfa_regional_deregistered, gfa_dual_replies, gfa_drr_sent, gfa_drr_failed,
		gfa_tunnelled, gfa_tunnelled_bytes, gfa_drop_fa_auth, gfa_drop_fa_unknown,
		gfa_drop_mn_auth, gfa_drop_replay, gfa_drop_no_binding, gfa_drop_tx,
		gfa_drop_full, gfa_home_relayed, gfa_home_replies, gfa_home_drop_ha_auth,
		gfa_home_timeouts;
	/* lower-FA role in a GFA region (relay.c) */
	uint64_t region_home_relayed, region_regional_relayed, region_replies,
		region_drop_fa_auth;
};

/* ---- gateway-FA role (gfa.c) ---- */

/* One security association of the GFA: MN-GFA (addr = home address; replay state for the
 * regional requests' Identifications) or FA-FA (addr = the lower FA's address). */
struct fad_gfa_sa {
	struct in_addr addr;
	uint32_t spi;
	char name[64];
	struct roam_key key;
	struct replay_ts replay;
};

/* Per-binding GFA data (binding.user). */
struct fad_gfa_binding {
	struct in_addr home, ha;
	uint64_t reg_id;            /* Identification of the last accepted regional request */
	struct in_addr old_fa;      /* the local care-of address the DRR goes to (0: none) */
};

/* A home registration relayed by the GFA to the home agent, not answered yet. */
#define FAD_GFA_PENDING 64
struct fad_gfa_pending {
	struct in_addr home, ha, lfa;  /* lfa: the lower FA that relayed it (local care-of) */
	struct roam_sockaddr from;     /* where its reply goes */
	uint64_t id;
	uint64_t deadline;             /* monotonic ms; 0: free slot */
};

struct fad_gfa {
	bool enabled;
	struct fad_gfa_pending pend[FAD_GFA_PENDING];
	struct in_addr addr;
	struct fad_gfa_sa *mns, *fas;
	size_t nmns, nfas;
	struct binding_cache bc;    /* home address -> local care-of address (the lower FA) */
	bool bc_ready;
	uint8_t *txbuf;             /* ROAM_TUNNEL_OUTER_MAX bytes */
	uint16_t ip_id;
};

/* Transmit hook for UDP 434 (the daemon's socket; a capture in tests): to dst from src
 * (family 0: the kernel's choice) out of ifindex (0: routing's choice).  0 or -errno. */
typedef int (*fad_send_fn)(void *arg, const struct roam_sockaddr *dst,
			   const struct roam_ipaddr *src, int ifindex, const void *data,
			   size_t len);
/* Data-plane hook for a data item (or, while forwarding, any item) of a visitor's FIFO. */
typedef int (*fad_data_fn)(void *arg, struct fad_visitor *v, const void *data, size_t len,
			   int is_control);

/* Data-plane kernel hooks (dataplane.c), so unit tests run without sockets: xmit sends a whole
 * outer IPv4 datagram (raw socket, IP_HDRINCL; -EAGAIN leaves the item queued), deliver writes
 * an IPv4 datagram into the TUN device (the kernel routes it: onto the cell by the visitor's
 * host route, or onwards for a mobile's packet without reverse tunnelling), route adds (add = 1)
 * or removes the host route of a home address on the cell interface ifindex.  0 or -errno. */
struct fad_dp_ops {
	int (*xmit)(void *arg, const void *pkt, size_t len);
	int (*deliver)(void *arg, const void *pkt, size_t len);
	int (*route)(void *arg, const struct roam_ipaddr *home, int ifindex, int add);
	void *arg;
};

/* A visitor that left after its deregistration reply (synchronized handoff): for a moment its
 * mobile may still send upstream through us (its reply via the new FA can come after the
 * deregistration reply via us, docs 8.1 I-4: "the correspondent may still receive upstream
 * data via the old FA"); that is still routed for FAD_DEPARTED_LINGER_MS. */
#define FAD_DEPARTED_MAX 16
#define FAD_DEPARTED_LINGER_MS 2000
struct fad_departed {
	struct in_addr home, ha;
	int cell;
	uint8_t flags;
	uint64_t until;             /* monotonic ms; 0: free slot */
};

struct fad_dp_cap;
struct fad_dp {
	bool enabled;
	struct fad_dp_ops ops;
	uint16_t ip_id;             /* outer Identification counter */
	uint8_t *txbuf;             /* ROAM_TUNNEL_OUTER_MAX bytes */
	struct roam_tunnel tn;      /* raw socket, TUN device, routes, retry timer */
	struct fad_dp_cap *caps;    /* per-cell AF_PACKET capture (capture_cells) */
	size_t ncaps;
	struct fad_departed departed[FAD_DEPARTED_MAX];
	size_t departed_next;
};

struct fad;
struct fad_cell {
	struct fad *fad;
	int index;
	char ifname[16];
	int ifindex;                /* 0 until resolved (unit tests) */
	struct in_addr coa;
	struct mip4_advertiser adv;
	uint64_t rx_requests;       /* per-cell counter (status) */
};

/* A Binding Warning sent (ro.c), remembered to send at most one per second per pair. */
#define FAD_RO_WARNED 16
struct fad_ro_warned {
	struct in_addr home, sender;
	uint64_t at;                /* monotonic ms, 0: free */
};

struct fad {
	uv_loop_t *loop;            /* NULL in unit tests */
	const char *config_path;
	bool debug;
	struct fad_conf conf;
	struct fad_cell *cells;     /* fixed at start (cells need a restart to change) */
	size_t ncells;
	struct fad_ha_sa *has;
	size_t nhas;
	struct fad_mn_sa *mns;
	size_t nmns;
	struct binding_cache vl;    /* the visitor list */
	bool store_ready;
	uv_timer_t expiry_timer;
	uv_timer_t drain_timer;
	struct snap_timer snap;
	struct roam_udp *udp;
	fad_send_fn send;
	void *send_arg;
	/* Data plane (dataplane.c): delivery on the cell / re-tunnelling to the forwarding
	 * care-of address.  While NULL, data items are dropped (drop_no_dataplane) and a control
	 * item of a forwarding visitor is counted and dropped too. */
	fad_data_fn send_data;
	void *send_data_arg;
	struct fad_dp dp;
	struct roam_ctl *ctl;
	struct roam_daemon *daemon;
	struct fad_stats stats;
	struct stats_table stats_table;
	struct log_ratelimit drop_rl;
	uint64_t started_wall;
	struct fad_ro_warned ro_warned[FAD_RO_WARNED]; /* ro.c */
	unsigned ro_warned_next;
	struct fad_gfa gfa;         /* gateway-FA role (gfa.c) */
	/* Lower-FA role (relay.c, from conf.region by fad_sa_build): FA-FA SA with the GFA. */
	struct {
		bool enabled;
		struct in_addr gfa;
		uint32_t spi;
		struct roam_key key;
	} region;
};

/* gfa.c: the gateway-FA role of RFC 4857 (docs/protocols/mipv4.md 8.5).  The GFA keeps its
 * own binding cache (roam/binding.h, home address -> local care-of address = the lower FA),
 * answers Regional Registration Requests (18) itself (had never sees a move inside the
 * region), and performs the synchronized handoff's dual reply exactly as had does (8.1): the
 * reply (19) to the new FA, and the deregistration reply (19, lifetime 0, Identification
 * mip4_id_dereg) queued as a control item on the old path's FIFO behind the data already
 * queued towards the old FA.  What it tunnels to the current FA goes through the same FIFOs. */
/* Builds the SAs and the cache from f->conf.gfa (no-op when disabled).  -ENOMEM, -EINVAL. */
int fad_gfa_init(struct fad *f);
void fad_gfa_free(struct fad *f);
/* The home registration through the GFA was accepted by the home agent (care-of address =
 * the GFA): binds home -> lcoa (the lower FA) for lifetime seconds.  0 or -errno. */
int fad_gfa_home_bound(struct fad *f, struct in_addr home, struct in_addr ha,
		       struct in_addr lcoa, uint16_t lifetime, uint64_t id, uint64_t now);
/* A Regional Registration Request (18) from src.  Never fails: refusals are counted, a
 * forged request leaves the binding untouched. */
void fad_gfa_regional_input(struct fad *f, const uint8_t *data, size_t len,
			    const struct mip4_msg *m, const struct roam_sockaddr *src,
			    uint64_t now, uint64_t ntp_now);
/* A Registration Request (1) relayed by a lower FA of the region (it carries FA-FA): FA-FA
 * checked, relayed to the home agent with FA-HA (RFC 4857 home registration through the GFA).
 * Returns 1 when consumed, 0 when it is not the GFA's (ordinary processing goes on). */
int fad_gfa_home_request(struct fad *f, const uint8_t *data, size_t len,
			 const struct mip4_msg *m, const struct roam_sockaddr *src, uint64_t now);
/* A Registration Reply (3): when it answers a home registration the GFA relayed, FA-HA
 * checked, the binding created (accepted) and the reply relayed to the lower FA with FA-FA.
 * Returns 1 when consumed, 0 otherwise. */
int fad_gfa_home_reply(struct fad *f, const uint8_t *data, size_t len,
		       const struct mip4_msg *m, const struct roam_sockaddr *src, uint64_t now);
/* An IPv4 datagram for a home address bound at the GFA (what had tunnelled to the GFA,
 * decapsulated): queued on the binding's current path and tunnelled to the lower FA.
 * 0, -ENOENT (no binding), -ENOBUFS (FIFO full), -errno. */
int fad_gfa_tunnel(struct fad *f, const void *inner, size_t len, uint64_t now);
/* Drains every GFA path (data tunnelled, DRR sent, old path released after it); returns the
 * items left queued (socket full). */
size_t fad_gfa_drain_all(struct fad *f);

/* sa.c */
/* Builds the SA tables from f->conf, keeping the FBU replay state of MN SAs whose SPI and key
 * are unchanged.  -ENOMEM, -EINVAL. */
int fad_sa_build(struct fad *f);
void fad_sa_free(struct fad *f);
struct fad_ha_sa *fad_ha_find(struct fad *f, struct in_addr ha);
struct fad_mn_sa *fad_mn_find(struct fad *f, struct in_addr home);
/* Cells from the config (ifindex resolved when resolve is set).  -ENOMEM, -ENODEV. */
int fad_cells_build(struct fad *f, int resolve);
void fad_cells_free(struct fad *f);
/* Index of the cell with ifindex (or, with a single cell, any ifindex 0), -1 if none. */
int fad_cell_by_ifindex(const struct fad *f, int ifindex);
/* Index of the cell advertising care-of address a, -1 if none. */
int fad_cell_by_coa(const struct fad *f, struct in_addr a);

/* ro.c */
/* Tunnelled traffic for home (no visitor) from sender: Binding Warning to our home agents
 * (docs/protocols/mipv4.md 4), at most once per second per (home, sender). */
void fad_ro_warn(struct fad *f, struct in_addr home, struct in_addr sender, uint64_t now);

/* relay.c */
/* Processes one UDP 434 datagram (borrowed) from src received on ifindex at monotonic now
 * (ms) and NTP time ntp_now.  Never fails: drops and denials are counted. */
void fad_input(struct fad *f, const uint8_t *data, size_t len, const struct roam_sockaddr *src,
	       int ifindex, uint64_t now, uint64_t ntp_now);
/* Sends a reply built by fad (denial or timeout) for request fields to the mobile. */
void fad_deny(struct fad *f, const struct mip4_msg *req, const struct roam_sockaddr *mn,
	      int cell, uint8_t code);
/* Hands the items of v's FIFO to their destinations (mobile / data plane); removes v when
 * its deregistration reply has left.  Returns 1 when items remain (socket full). */
int fad_drain(struct fad *f, struct fad_visitor *v);
size_t fad_drain_all(struct fad *f);
/* Sends data to the mobile at mn on cell (from the cell's care-of address, out of its
 * interface).  0 or -errno (counted). */
int fad_send_mobile(struct fad *f, const struct roam_sockaddr *mn, int cell, const void *data,
		    size_t len);
/* Queues a control message (a copy of data) for the mobile on v's FIFO and drains it. */
void fad_to_mobile(struct fad *f, struct fad_visitor *v, const void *data, size_t len,
		   uint64_t now);

/* fbu.c */
void fad_fbu_input(struct fad *f, const uint8_t *data, size_t len, const struct mip4_msg *m,
		   const struct roam_sockaddr *src, int cell, uint64_t now, uint64_t ntp_now);
void fad_fback_input(struct fad *f, const uint8_t *data, size_t len, const struct mip4_msg *m,
		     const struct roam_sockaddr *src, uint64_t now);
/* The forwarding entry v points back at its sender (an FBAck or tunnelled data from v's new
 * care-of address): the mobile is coming back to us.  Forwarding ends (no A->B->A loop), v
 * becomes pending, anticipated unless its request has already arrived. */
void fad_visitor_return(struct fad *f, struct fad_visitor *v, uint64_t now);

/* visitor.c */
int fad_store_init(struct fad *f, uint64_t now);
void fad_store_destroy(struct fad *f);
struct fad_visitor *fad_visitor_find(struct fad *f, struct in_addr home);
/* A new visitor in pending state (its FIFO towards the mobile).  -ENOMEM / -ENOBUFS (full). */
int fad_visitor_new(struct fad *f, struct in_addr home, uint64_t now, struct fad_visitor **out);
/* Removes v (and its queued items). */
void fad_visitor_remove(struct fad *f, struct fad_visitor *v);
/* Re-arms v's expiry after a state change: the earliest of its deadlines. */
void fad_visitor_schedule(struct fad *f, struct fad_visitor *v, uint64_t now);
/* Seconds left of v's registration (or forwarding) at now. */
uint32_t fad_visitor_remaining(const struct fad_visitor *v, uint64_t now);
size_t fad_visitor_count(const struct fad *f);
/* Runs the deadlines due at now (pending timeouts -> 78, registration / forwarding expiry). */
void fad_store_expire(struct fad *f, uint64_t now);
void fad_store_rearm(struct fad *f, uint64_t now);
int fad_store_save(void *arg);
int fad_store_load(struct fad *f, uint64_t wall, uint64_t now);
int fad_store_snap_start(struct fad *f);

/* dataplane.c */
/* Puts the kernel hooks in place (unit tests pass fakes; fad_dp_open the real ones): from then
 * on f->send_data is fad_dp_send_data.  -ENOMEM. */
int fad_dp_init_ops(struct fad *f, const struct fad_dp_ops *ops);
/* Opens the shared tunnel endpoint (roam/tunnel.h) and the cell captures when
 * dataplane.enabled; logs and returns -errno on failure (everything closed again). */
int fad_dp_open(struct fad *f);
/* Removes the visitors' routes and closes what fad_dp_open opened. */
void fad_dp_close(struct fad *f);
/* One datagram from the raw IP-in-IP socket (outer header included) at now. */
void fad_dp_from_tunnel(struct fad *f, const uint8_t *pkt, size_t len, uint64_t now);
/* One IPv4 datagram a mobile sent on cell (reverse tunnelling or normal routing). */
void fad_dp_from_cell(struct fad *f, int cell, const uint8_t *pkt, size_t len);
/* Same for a frame captured on cell that was not addressed to us (another router's MAC: a
 * single-radio mobile that just moved still sends to its previous FA): only taken from an
 * anticipated or pending visitor, and held. */
void fad_dp_from_cell_other(struct fad *f, int cell, const uint8_t *pkt, size_t len,
			    uint64_t now);
/* Sends what v's mobile sent upstream while its registration was pending (now registered);
 * flushes it when v is not registered. */
void fad_dp_release_up(struct fad *f, struct fad_visitor *v);
/* v (registered) leaves after its deregistration reply at now: its upstream is still routed
 * for FAD_DEPARTED_LINGER_MS. */
void fad_dp_visitor_departed(struct fad *f, const struct fad_visitor *v, uint64_t now);
/* The f->send_data hook: a data item of v's FIFO towards the mobile, or (forwarding) any item
 * re-tunnelled to v's new care-of address.  0, -EAGAIN (retry), -errno (dropped, counted). */
int fad_dp_send_data(void *arg, struct fad_visitor *v, const void *data, size_t len,
		     int is_control);
/* Brings v's kernel state (the host route of its home address on its cell) in line with its
 * state; fad_dp_visitor_gone removes it before v is freed. */
void fad_dp_visitor_sync(struct fad *f, struct fad_visitor *v);
void fad_dp_visitor_gone(struct fad *f, struct fad_visitor *v);

/* adv.c */
/* Encodes cell's agent advertisement with sequence number seq into w. */
int fad_adv_build(struct fad *f, int cell, uint16_t seq, struct wbuf *w);
int fad_adv_open(struct fad *f);
void fad_adv_close(struct fad *f);
void fad_adv_reconf(struct fad *f);

/* ctl.c */
int fad_ctl_register(struct fad *f);
void fad_status(void *arg, struct json_writer *w);

#endif
