/* mnd's Mobile IPv4 state machine (docs/protocols/mipv4.md 2.4, 8.1-8.3): pure, no clock reads,
 * no sockets.  Every entry point takes `now` (monotonic ms); Identification values use
 * now + wall_off (Unix ms).  What it sends goes through the output callbacks.
 *
 * Radios are indexes 0..MIP4_SM_RADIOS-1.  The machine tracks, per radio, the foreign agent
 * heard there (advertisement), and globally: the current path (radio + FA + care-of address
 * that upstream traffic uses), the pending registration, and during a synchronized handoff the
 * old path kept until its deregistration reply (DRR, mip4_id_match == 2) arrives. */
#ifndef MND_MIP4_SM_H
#define MND_MIP4_SM_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#include "roam/auth.h"
#include "roam/mip4.h"

#define MIP4_SM_RADIOS 2

enum mip4_sm_state {
	MIP4_SM_DISCOVER = 0, /* no agent known: soliciting, waiting for an advertisement */
	MIP4_SM_REGISTERING,  /* request sent, no binding yet */
	MIP4_SM_REGISTERED,   /* binding at the HA via the current FA */
	MIP4_SM_AT_HOME,      /* own HA heard: deregistered, no tunnel */
};
const char *mip4_sm_state_name(enum mip4_sm_state s);

struct mip4_sm_conf {
	struct in_addr home, ha;
	uint32_t mnha_spi;
	struct roam_key mnha_key;
	bool has_mnfa;
	uint32_t mnfa_spi;
	struct roam_key mnfa_key;
	bool has_mngfa;            /* MN-GFA SA: regional registrations (RFC 4857, docs 8.5) */
	uint32_t mngfa_spi;
	struct roam_key mngfa_key;
	uint16_t lifetime_s;       /* requested registration lifetime */
	unsigned retrans_ms;       /* first retransmission interval (doubles) */
	unsigned retrans_max_ms;   /* cap of the interval */
	unsigned max_tries;        /* transmissions before giving up and soliciting again */
	unsigned refresh_pct;      /* refresh when this % of the granted lifetime has passed */
	uint16_t fbu_lifetime_s;   /* forwarding time asked of the old FA */
	unsigned release_guard_ms; /* an old link is released no sooner after the sending switch */
	bool synchronize;          /* false: plain RFC 5944 (no waiting for the DRR, no FBU) */
	bool reverse_tunnel;       /* T flag when the FA advertises it */
	/* Single radio (Phase III): the FA address of a network named in an L2 notice ("to").  */
	size_t nneigh;
	struct { char network[32]; struct in_addr fa; } neigh[8];
};

/* Outputs.  `radio` is the interface to send on; all callbacks may be NULL. */
struct mip4_sm_out {
	/* A UDP/434 message from the home address to dst (an FA). */
	int (*send)(void *arg, int radio, struct in_addr dst, const void *buf, size_t len);
	/* An Agent Solicitation on radio. */
	void (*solicit)(void *arg, int radio);
	/* Upstream now goes via fa on radio (default route); radio -1: no path (at home / lost). */
	void (*path)(void *arg, int radio, struct in_addr fa);
	/* The old link on radio is no longer needed (its DRR arrived, or it went down). */
	void (*release)(void *arg, int radio);
	void *arg;
};

struct mip4_sm_stats {
	uint64_t adv_rx, adv_ignored, sol_tx;
	uint64_t req_tx, retrans, req_timeouts;
	uint64_t reply_ok, reply_denied, resync_133;
	uint64_t drr_rx;              /* deregistration replies of a handoff (match 2) */
	uint64_t regional_tx, regional_ok; /* Regional Registration Requests / accepted replies */
	uint64_t handoffs;            /* completed moves to a new FA */
	uint64_t fbu_tx, fback_rx, fback_denied;
	uint64_t drop_auth, drop_id, drop_malformed, drop_unexpected;
	uint64_t l2_notices, agent_lost;
	uint64_t l2_pingpong;         /* notices back to the current FA before a registration ended */
};

struct mip4_sm_agent {
	bool valid;
	struct in_addr addr;   /* advertisement source */
	struct in_addr coa;    /* first care-of address advertised */
	uint16_t seq, flags, reg_lifetime;
	uint64_t expires;      /* advertisement lifetime end */
	bool home;             /* H flag and addr == our HA */
};

struct mip4_sm_path {
	bool valid;
	int radio;
	struct in_addr fa, coa;
};

struct mip4_sm {
	struct mip4_sm_conf conf;
	struct mip4_sm_out out;
	int64_t wall_off;          /* Unix ms - monotonic ms */
	int64_t id_offset;         /* clock offset learnt from a 133 reply (NTP units) */
	enum mip4_sm_state state;
	bool radio_up[MIP4_SM_RADIOS];
	struct mip4_sm_agent agent[MIP4_SM_RADIOS];

	struct mip4_sm_path cur;   /* upstream path (valid once registered) */
	uint64_t binding_expires;  /* monotonic ms */
	uint64_t refresh_at;
	uint16_t granted_s;

	/* the request in flight */
	bool pending;
	struct mip4_sm_path req;   /* where it goes */
	uint64_t req_id, prev_id;  /* this transmission's and the previous one's Identification */
	uint64_t last_id;          /* last Identification sent (mip4_id_next) */
	bool drr_early;            /* the pending request's DRR came before its reply */
	uint16_t req_lifetime;
	bool req_regional;         /* a Regional Registration Request (18) to the GFA via req.fa */
	unsigned tries;
	unsigned interval;
	uint64_t next_tx;
	uint8_t req_buf[256];
	size_t req_len;

	/* synchronized handoff: the old path until its DRR */
	struct mip4_sm_path old;
	uint64_t old_req_id;       /* the request whose DRR releases the old path */
	uint64_t old_deadline;     /* give up waiting for the DRR */
	/* the upstream guard: the frames handed to the old radio before the sending path moved
	 * (at switched_at) leave it before it is released */
	uint64_t switched_at;
	bool rel_pending;
	int rel_radio;
	uint64_t rel_at;
	/* FBU in flight (Phase II/III) */
	bool fbu_pending;
	/* single radio, back to the FA we are still registered with before the registration where
	 * we were completed: register with it anew when heard (it forwards to the other one) */
	bool rereg_cur;
	uint64_t fbu_id;
	struct in_addr fbu_ofa;

	uint64_t next_sol;
	struct mip4_sm_stats stats;
};

/* Initialises sm with a copy of conf and out.  -EINVAL: no home address / HA, or bad key. */
int mip4_sm_init(struct mip4_sm *sm, const struct mip4_sm_conf *conf,
		 const struct mip4_sm_out *out, int64_t wall_off, uint64_t now);
/* Radio link state (carrier).  A radio going down with the current path on it loses it. */
void mip4_sm_link(struct mip4_sm *sm, int radio, bool up, uint64_t now);
/* An Agent Advertisement (already decoded) from src received on radio. */
void mip4_sm_adv(struct mip4_sm *sm, int radio, struct in_addr src, const struct mip4_adv *a,
		 uint64_t now);
/* A UDP/434 datagram received on radio (Registration Reply or FBAck); malformed, forged or
 * unexpected messages are dropped and counted, the state unchanged. */
void mip4_sm_input(struct mip4_sm *sm, int radio, const void *pkt, size_t len, uint64_t now);
/* Layer-2 notice: "link-going-down" (to: network name or NULL), "link-down", "link-up". */
int mip4_sm_l2_notice(struct mip4_sm *sm, int radio, const char *event, const char *to,
		      uint64_t now);
/* Timers: retransmission, refresh, advertisement expiry, DRR wait.  Returns the next deadline
 * (monotonic ms), UINT64_MAX when nothing is due. */
uint64_t mip4_sm_tick(struct mip4_sm *sm, uint64_t now);
/* Deregisters (lifetime 0) via the current FA, once, without waiting for the reply. */
void mip4_sm_stop(struct mip4_sm *sm, uint64_t now);

#endif
