/* Internals of common/proto/ppp shared by its files (not a public header). */
#ifndef ROAM_PPP_INT_H
#define ROAM_PPP_INT_H
#include "roam/ppp.h"

/* What a control protocol plugs into the generic automaton (fsm.c).  Option handlers
 * return <0 for a malformed list (the packet is then silently discarded, RFC 1661 5). */
struct ppp_fsm_ops {
	const char *name;
	/* Back to the configured options before a fresh negotiation. */
	void (*reset)(struct ppp_fsm *f);
	/* Our Configure-Request options. */
	void (*build_req)(struct ppp_fsm *f, struct wbuf *w);
	/* The peer's Configure-Request: writes the options of the reply to `reply` (Nak or Reject
	 * lists; nothing for an Ack) and returns PPP_CONFACK, PPP_CONFNAK or PPP_CONFREJ.
	 * reject_naks: Max-Failure reached, reject instead of Nak. */
	int (*recv_req)(struct ppp_fsm *f, const uint8_t *opts, size_t len, struct wbuf *reply,
	                int reject_naks);
	int (*recv_nak)(struct ppp_fsm *f, const uint8_t *opts, size_t len);
	/* Called after the generic check that the list is a subset of our request. */
	int (*recv_rej)(struct ppp_fsm *f, const uint8_t *opts, size_t len);
	void (*up)(struct ppp_fsm *f, uint64_t now);       /* This-Layer-Up */
	void (*down)(struct ppp_fsm *f, uint64_t now);     /* This-Layer-Down */
	void (*finished)(struct ppp_fsm *f, uint64_t now); /* This-Layer-Finished */
	/* Codes beyond Code-Reject: 0 handled, -ENOENT unknown (answered with Code-Reject).
	 * NULL: every such code is unknown. */
	int (*extcode)(struct ppp_fsm *f, const struct ppp_cp *cp, uint64_t now);
	/* A permitted code was rejected by the peer (RXJ+), e.g. Echo-Request. */
	void (*code_rejected)(struct ppp_fsm *f, uint8_t code);
};

extern const struct ppp_fsm_ops ppp_lcp_ops, ppp_ipcp_ops;

void ppp_fsm_init(struct ppp_fsm *f, struct ppp *p, uint16_t proto,
                  const struct ppp_fsm_ops *ops);
void ppp_fsm_up(struct ppp_fsm *f, uint64_t now);
void ppp_fsm_down(struct ppp_fsm *f, uint64_t now);
void ppp_fsm_open(struct ppp_fsm *f, uint64_t now);
void ppp_fsm_close(struct ppp_fsm *f, uint64_t now);
/* One received packet of this protocol: <0 discarded as malformed. */
int ppp_fsm_input(struct ppp_fsm *f, const uint8_t *pkt, size_t len, uint64_t now);
/* RXJ+ (catastrophic = 0) or RXJ- (catastrophic = 1). */
void ppp_fsm_rxj(struct ppp_fsm *f, int catastrophic, uint64_t now);
void ppp_fsm_tick(struct ppp_fsm *f, uint64_t now);
/* Sends a packet of this protocol (Code, Identifier, data), truncated to the peer's MRU. */
void ppp_fsm_send(struct ppp_fsm *f, uint8_t code, uint8_t id, const void *data, size_t len);

/* ppp.c */
void ppp_output(struct ppp *p, uint16_t proto, const uint8_t *info, size_t len);
void ppp_emit(struct ppp *p, enum ppp_event_type type);
/* Asks for the link to be closed once the current input or timer is processed. */
void ppp_defer_close(struct ppp *p, enum ppp_down_reason reason);
int ppp_rand(struct ppp *p, void *buf, size_t len);
uint32_t ppp_new_magic(struct ppp *p, uint32_t avoid);
void ppp_lcp_tick_echo(struct ppp *p, uint64_t now);
/* Authentication done (either role): record it and enter the Network phase. */
void ppp_auth_done(struct ppp *p, uint64_t now);

/* auth (pap.c, chap.c) */
void ppp_pap_start(struct ppp *p, uint64_t now);
void ppp_pap_input(struct ppp *p, const uint8_t *pkt, size_t len, uint64_t now);
void ppp_pap_tick(struct ppp *p, uint64_t now);
void ppp_chap_start(struct ppp *p, uint64_t now);
void ppp_chap_input(struct ppp *p, const uint8_t *pkt, size_t len, uint64_t now);
void ppp_chap_tick(struct ppp *p, uint64_t now);

static inline struct ppp *fsm_ppp(struct ppp_fsm *f)
{
	return f->ppp;
}

#endif
