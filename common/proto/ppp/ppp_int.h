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
	/* One option of a Configure-Nak (a suggestion), in order; the list is well formed. */
	void (*recv_nak)(struct ppp_fsm *f, const struct ppp_opt *o);
	/* One option of a Configure-Reject, in order, after the generic check that the list is
	 * well formed and a subset of our request. */
	void (*recv_rej)(struct ppp_fsm *f, const struct ppp_opt *o);
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

/* ---- option handling shared by LCP and IPCP (codec.c) ---- */

static inline uint16_t ppp_get16(const uint8_t *v)
{
	return (uint16_t)(v[0] << 8 | v[1]);
}

static inline uint32_t ppp_get32(const uint8_t *v)
{
	return (uint32_t)v[0] << 24 | (uint32_t)v[1] << 16 | (uint32_t)v[2] << 8 | v[3];
}

/* Appends one option (type, length, value; RFC 1661 6) to w (sticky error). */
void ppp_put_opt(struct wbuf *w, uint8_t type, const void *val, size_t len);
void ppp_put_opt16(struct wbuf *w, uint8_t type, uint16_t v);
void ppp_put_opt32(struct wbuf *w, uint8_t type, uint32_t v);

/* The reply to a peer's Configure-Request being built (RFC 1661 5.1-5.4): the request's
 * options are walked one by one, each is acknowledged, Nak'ed (the protocol writes its
 * suggestion to nak) or rejected; the reply carries only the rejected options if there are
 * any, else only the Nak'ed ones, else it is an Ack. */
struct ppp_optreply {
	struct rbuf r;              /* the request's options */
	struct wbuf nak, rej;
	size_t nak_mark;            /* nak.len before the current option */
	uint8_t nakbuf[PPP_PKT_MAX], rejbuf[PPP_PKT_MAX];
};

/* Starts a reply to the options opts (borrowed until the reply is finished).  -EBADMSG when
 * the list is malformed (the request is then discarded). */
int ppp_optreply_init(struct ppp_optreply *q, const uint8_t *opts, size_t len);
/* The next option of the request into *o: 1, 0 at the end, -EBADMSG. */
int ppp_optreply_next(struct ppp_optreply *q, struct ppp_opt *o);
/* Records the verdict on option o (PPP_CONFACK, PPP_CONFNAK or PPP_CONFREJ) and returns the
 * final one: with reject_naks (Max-Failure, RFC 1661 4.6) a Nak becomes a Reject; a rejected
 * option drops what was written to nak for it and is copied to rej. */
int ppp_optreply_verdict(struct ppp_optreply *q, const struct ppp_opt *o, int verdict,
                         int reject_naks);
/* Writes the reply's options to reply and returns its code (PPP_CONFACK, PPP_CONFNAK,
 * PPP_CONFREJ), or -EBADMSG when a list overflowed. */
int ppp_optreply_finish(struct ppp_optreply *q, struct wbuf *reply);

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
