/* mnd: the mobile host agent (mnd(8), mnd.yaml(5)).  One daemon, one module per mobility
 * mechanism; each module has an optional section in mnd.yaml and is enabled by its presence.
 *
 * Shared by every module: the interface table kept from a netlink monitor (iface.c; link and
 * address changes are dispatched to every enabled module), the Layer-2 notices of netlab's
 * `move --notice` (control command "l2-notice", dispatched likewise), a netlink request socket
 * for addresses and routes, and the control socket. */
#ifndef MND_H
#define MND_H
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "mip4_sm.h"
#include "roam/addr.h"
#include "roam/conf.h"
#include "roam/ctl.h"
#include "roam/daemon.h"
#include "roam/json.h"
#include "roam/log.h"
#include "roam/mip4_agent.h"
#include "roam/netlink.h"
#include "roam/raw.h"
#include "roam/sip_ua.h"
#include "roam/udp.h"

struct mnd;

/* ---- configuration (conf.c) ---- */

#define MND_MAX_RADIOS MIP4_SM_RADIOS
#define MND_MAX_NEIGH 8

struct mnd_neigh_conf {
	char *network; /* netlab network / cell name as in an l2-notice "to" */
	struct roam_ipaddr fa;
};

struct mnd_mip4_conf {
	struct roam_ipaddr home;      /* family 0: section absent, module disabled */
	struct roam_ipaddr home_agent;
	uint64_t spi;
	struct conf_bytes key;
	unsigned algorithm;           /* index into mip4_sa_algorithms */
	uint64_t fa_spi;              /* MN-FA SA (also MN-PAR for the FBU); 0: none */
	struct conf_bytes fa_key;
	unsigned fa_algorithm;
	uint64_t gfa_spi;             /* MN-GFA SA (regional registration, RFC 4857); 0: none */
	struct conf_bytes gfa_key;
	unsigned gfa_algorithm;
	char **radios;
	size_t nradios;
	char *home_interface;         /* where the home address lives ("lo" by default) */
	bool manage_routes;
	uint64_t lifetime;            /* ms */
	uint64_t retransmit, retransmit_max; /* ms */
	uint64_t max_tries;
	uint64_t refresh_pct;
	uint64_t fbu_lifetime;        /* ms */
	uint64_t release_guard;       /* ms */
	bool synchronize;
	bool reverse_tunnel;
	struct mnd_neigh_conf *neighbours;
	size_t nneighbours;
};

/* l2tp: the mobile's PPP over the access link to a LAC (docs/protocols/access-link.md), kept
 * across moves (docs/protocols/l2tp-handoff.md); mnd/l2tp.c. */
struct mnd_l2tp_conf {
	char *min;                    /* NULL: section absent, module disabled */
	char *nai;
	char *ppp_user;
	struct conf_bytes password;   /* inline or file:/path */
	char *password_file;          /* alternative to password (NULL: none) */
	unsigned auth;                /* index into mnd_l2tp_auth_names: any, pap, chap */
	char **radios;
	size_t nradios;
	char *lac;                    /* "" : discovery by the group */
	char *group;
	char *tun;
	bool default_route;
	uint64_t notice_margin;       /* ms after a link-going-down notice's in_ms */
	uint64_t silence_margin;      /* ms: ATTACH delay after the LAC went silent */
};

struct mnd_conf {
	char *control_socket;
	char *user;
	unsigned log_level;
	struct mnd_mip4_conf mip4;
	struct mnd_l2tp_conf l2tp;
	struct sip_agent_conf sip;   /* sip.c; aor NULL: section absent */
};

extern const struct conf_schema mnd_conf_schema;
extern const char *const mnd_l2tp_auth_names[];
/* Loads path into c (print: errors to stderr, else to the log; err gets the first one). */
int mnd_conf_load(struct mnd_conf *c, const char *path, int print, char *err, size_t errlen);
void mnd_conf_free(struct mnd_conf *c);

/* ---- modules ---- */

/* A Layer-2 notice: {"event":"link-going-down","in_ms":MS,"to":"NETWORK"} (netlab), optionally
 * "interface" naming the radio (default: the module's first radio). */
struct mnd_l2_notice {
	const char *event;     /* link-going-down, link-down, link-up */
	int64_t in_ms;         /* -1 when absent */
	const char *to;        /* NULL when absent */
	const char *ifname;    /* NULL when absent */
};

struct mnd_iface {
	bool present;
	int ifindex;
	char name[IFNAMSIZ];
	bool up, running;
};

#define MND_MAX_IFACES 64

/* One mobility mechanism.  Callbacks get the module's state (what start made) and may be NULL
 * except start / stop.  Events reach only enabled (started) modules. */
struct mnd_module {
	const char *name;                 /* config section and control command prefix */
	/* true when the module's section is in c */
	bool (*enabled)(const struct mnd_conf *c);
	/* Opens the module's sockets and timers; *state is the module's own. */
	int (*start)(struct mnd *m, void **state);
	/* Deregisters / releases what it set up; closes its handles (the loop then ends). */
	void (*stop)(struct mnd *m, void *state);
	/* The new config has been loaded into m->conf (the old one is in old): apply or refuse. */
	int (*reload)(struct mnd *m, void *state, const struct mnd_conf *old, char *err,
		      size_t errlen);
	void (*on_link_event)(struct mnd *m, void *state, const struct roam_nl_event *ev);
	int (*on_l2_notice)(struct mnd *m, void *state, const struct mnd_l2_notice *n,
			    char *err, size_t errlen);
	int (*ctl_register)(struct mnd *m, void *state, struct roam_ctl *ctl);
	/* Members of the module's object in "status" / "stats". */
	void (*status)(struct mnd *m, void *state, struct json_writer *w);
	/* Frees the state after the loop ended. */
	void (*free)(struct mnd *m, void *state);
};

extern const struct mnd_module mnd_mip4_module;
extern const struct mnd_module mnd_l2tp_module;
extern const struct mnd_module mnd_sip_module;

struct mnd_module_slot {
	const struct mnd_module *mod;
	void *state;
	bool running;
};

#define MND_NMODULES 3

struct mnd {
	struct mnd_conf conf;
	const char *config_path;
	bool debug;
	uv_loop_t *loop;
	struct roam_daemon *daemon;
	struct roam_ctl *ctl;
	struct roam_nl *nl;              /* requests: addresses, routes */
	struct roam_nl_mon *mon;         /* link / address events */
	struct mnd_iface ifaces[MND_MAX_IFACES];
	struct mnd_module_slot mods[MND_NMODULES];
	uint64_t started_wall;
	struct {
		uint64_t link_events, l2_notices, l2_bad;
	} stats;
};

/* sip.c: the IPv4 addresses of the SIP agent's interface, newest last; the newest is the
 * care-of address. */
#define MND_SIP_MAX_ADDRS 8
struct mnd_sip_addrs {
	struct roam_ipaddr a[MND_SIP_MAX_ADDRS];
	size_t n;
};
/* Applies an address event of the interface (ADDR_NEW / ADDR_DEL, IPv4); true when the set
 * changed.  The current address is then a[n - 1] (none when n is 0). */
bool mnd_sip_track(struct mnd_sip_addrs *t, const struct roam_nl_event *ev);

/* iface.c */
int mnd_iface_open(struct mnd *m);
void mnd_iface_close(struct mnd *m);
/* The interface named name, or NULL when not (yet) present. */
const struct mnd_iface *mnd_iface_by_name(const struct mnd *m, const char *name);
const struct mnd_iface *mnd_iface_by_index(const struct mnd *m, int ifindex);

/* ctl.c */
int mnd_ctl_register(struct mnd *m);
void mnd_status(void *arg, struct json_writer *w);
/* Dispatches a notice to every running module (the first error is returned). */
int mnd_l2_dispatch(struct mnd *m, const struct mnd_l2_notice *n, char *err, size_t errlen);

#endif
