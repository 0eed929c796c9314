/* LCP (RFC 1661 5, 6; RFC 1662 7.1): option handling for the automaton, This-Layer actions
 * that drive the phases (RFC 1661 3), Protocol-Reject, Echo keepalive and Discard. */
#include <errno.h>
#include <string.h>

#include "ppp_int.h"

/* The authentication protocol an authenticator asks for first: CHAP preferred (RFC 1994 1). */
static uint16_t next_auth(const struct ppp *p)
{
	unsigned left = p->cfg.auth & ~p->auth_tried;
	if (left & PPP_AUTH_CHAP)
		return PPP_PROTO_CHAP;
	if (left & PPP_AUTH_PAP)
		return PPP_PROTO_PAP;
	return 0;
}

static unsigned auth_bit(uint16_t proto)
{
	return proto == PPP_PROTO_CHAP ? PPP_AUTH_CHAP : proto == PPP_PROTO_PAP ? PPP_AUTH_PAP : 0;
}

static void set_auth_want(struct ppp *p, uint16_t proto)
{
	p->lcp_want.auth_proto = proto;
	p->lcp_want.auth_alg = proto == PPP_PROTO_CHAP ? PPP_CHAP_MD5 : 0;
}

static void lcp_reset(struct ppp_fsm *f)
{
	struct ppp *p = f->ppp;
	struct ppp_lcp_opts *w = &p->lcp_want;

	memset(w, 0, sizeof(*w));
	if (p->cfg.mru != PPP_MRU_DEFAULT) {
		w->has |= PPP_OPT_BIT(PPP_LCP_MRU);
		w->mru = p->cfg.mru;
	}
	if (p->cfg.accm != PPP_HDLC_ACCM_DEFAULT) {
		w->has |= PPP_OPT_BIT(PPP_LCP_ACCM);
		w->accm = p->cfg.accm;
	}
	p->auth_tried = 0;
	if (p->cfg.role == PPP_ROLE_AUTHENTICATOR && p->cfg.auth) {
		w->has |= PPP_OPT_BIT(PPP_LCP_AUTH);
		set_auth_want(p, next_auth(p));
	}
	w->has |= PPP_OPT_BIT(PPP_LCP_MAGIC);
	w->magic = ppp_new_magic(p, 0);
	if (p->cfg.want_pfc)
		w->has |= PPP_OPT_BIT(PPP_LCP_PFC);
	if (p->cfg.want_acfc)
		w->has |= PPP_OPT_BIT(PPP_LCP_ACFC);
}

static void lcp_build_req(struct ppp_fsm *f, struct wbuf *w)
{
	ppp_lcp_opts_encode(w, &f->ppp->lcp_want);
}

/* The auth option a peer suggests in a Nak: CHAP-MD5 when it may, else PAP. */
static void put_auth_suggestion(struct wbuf *w, unsigned allowed)
{
	if (allowed & PPP_AUTH_CHAP) {
		uint8_t b[3] = { PPP_PROTO_CHAP >> 8, PPP_PROTO_CHAP & 0xff, PPP_CHAP_MD5 };
		ppp_put_opt(w, PPP_LCP_AUTH, b, 3);
	} else {
		ppp_put_opt16(w, PPP_LCP_AUTH, PPP_PROTO_PAP);
	}
}

/* RFC 1661 5.1-5.4: every option is acknowledged, Nak'ed with a value we accept, or rejected;
 * the reply carries only the rejected options if there are any, else only the Nak'ed ones. */
static int lcp_recv_req(struct ppp_fsm *f, const uint8_t *opts, size_t len, struct wbuf *reply,
                        int reject_naks)
{
	struct ppp *p = f->ppp;
	struct ppp_state *st = &p->st;
	struct ppp_optreply q;
	struct wbuf *nak = &q.nak;
	struct ppp_opt o;
	uint32_t seen = 0;
	int rc, looped = 0;

	if (ppp_optreply_init(&q, opts, len) < 0)
		return -EBADMSG;
	/* what the peer's request determines; absent options take their defaults */
	st->mru_send = PPP_MRU_DEFAULT;
	st->accm_send = PPP_HDLC_ACCM_DEFAULT;
	st->magic_peer = 0;
	st->pfc_send = st->acfc_send = 0;
	if (p->cfg.role == PPP_ROLE_PEER)
		st->auth_proto = 0;

	while ((rc = ppp_optreply_next(&q, &o)) > 0) {
		int verdict = PPP_CONFACK; /* or NAK (suggestion written to nak) or REJ */
		int dup = o.type < 32 && (seen & PPP_OPT_BIT(o.type));

		if (o.type < 32)
			seen |= PPP_OPT_BIT(o.type);
		switch (dup ? 0 : o.type) {
		case PPP_LCP_MRU:
			if (o.len != 2) {
				verdict = PPP_CONFREJ;
			} else if (ppp_get16(o.val) < PPP_MRU_MIN) {
				verdict = PPP_CONFNAK;
				ppp_put_opt16(nak, PPP_LCP_MRU, PPP_MRU_MIN);
			} else {
				uint16_t m = ppp_get16(o.val);
				st->mru_send = m > PPP_MRU_MAX ? PPP_MRU_MAX : m;
			}
			break;
		case PPP_LCP_ACCM:
			if (o.len != 4)
				verdict = PPP_CONFREJ;
			else
				st->accm_send = ppp_get32(o.val);
			break;
		case PPP_LCP_AUTH: {
			unsigned allowed = p->cfg.auth;
			uint16_t proto = o.len >= 2 ? ppp_get16(o.val) : 0;
			if (p->cfg.role == PPP_ROLE_AUTHENTICATOR || !allowed || o.len < 2) {
				verdict = PPP_CONFREJ; /* we do not authenticate ourselves to a peer */
			} else if (proto == PPP_PROTO_PAP && o.len == 2 && (allowed & PPP_AUTH_PAP)) {
				st->auth_proto = PPP_PROTO_PAP;
			} else if (proto == PPP_PROTO_CHAP && o.len == 3 && o.val[2] == PPP_CHAP_MD5 &&
			           (allowed & PPP_AUTH_CHAP)) {
				st->auth_proto = PPP_PROTO_CHAP;
			} else {
				verdict = PPP_CONFNAK;
				put_auth_suggestion(nak, allowed);
			}
			break;
		}
		case PPP_LCP_MAGIC:
			if (o.len != 4) {
				verdict = PPP_CONFREJ;
			} else {
				uint32_t m = ppp_get32(o.val);
				int ours = (p->lcp_want.has & PPP_OPT_BIT(PPP_LCP_MAGIC)) &&
				           m == p->lcp_want.magic;
				if (ours) { /* RFC 1661 6.4: possibly looped back */
					looped = 1;
					p->loops++;
					p->stats.loops_detected++;
					if (p->cfg.max_loops && p->loops >= p->cfg.max_loops)
						ppp_defer_close(p, PPP_DOWN_LOOPBACK);
				}
				if (m == 0 || ours) {
					verdict = PPP_CONFNAK;
					ppp_put_opt32(nak, PPP_LCP_MAGIC, ppp_new_magic(p, m));
				} else {
					st->magic_peer = m;
				}
			}
			break;
		case PPP_LCP_PFC:
			if (o.len != 0 || !p->cfg.allow_pfc)
				verdict = PPP_CONFREJ;
			else
				st->pfc_send = 1;
			break;
		case PPP_LCP_ACFC:
			if (o.len != 0 || !p->cfg.allow_acfc)
				verdict = PPP_CONFREJ;
			else
				st->acfc_send = 1;
			break;
		default: /* unknown, unsupported (Quality-Protocol...) or listed twice */
			verdict = PPP_CONFREJ;
			break;
		}
		ppp_optreply_verdict(&q, &o, verdict, reject_naks);
	}
	if (rc < 0 || q.nak.err || q.rej.err)
		return -EBADMSG;
	if (looped && !reject_naks) {
		/* our own request came back: answer only the magic number, so that the loop is
		 * what gets detected, not a side effect of our other options */
		ppp_put_opt32(reply, PPP_LCP_MAGIC, ppp_new_magic(p, p->lcp_want.magic));
		return PPP_CONFNAK;
	}
	return ppp_optreply_finish(&q, reply);
}

/* The peer Nak'ed some of our options: adopt acceptable suggestions (RFC 1661 5.3). */
static void lcp_recv_nak(struct ppp_fsm *f, const struct ppp_opt *o)
{
	struct ppp *p = f->ppp;
	struct ppp_lcp_opts *w = &p->lcp_want;

	switch (o->type) {
	case PPP_LCP_MRU:
		if (o->len == 2 && ppp_get16(o->val) >= PPP_MRU_MIN &&
		    ppp_get16(o->val) <= PPP_MRU_MAX) {
			w->has |= PPP_OPT_BIT(PPP_LCP_MRU);
			w->mru = ppp_get16(o->val);
		}
		break;
	case PPP_LCP_ACCM:
		if (o->len == 4) { /* RFC 1662 7.1: the union of both maps */
			w->has |= PPP_OPT_BIT(PPP_LCP_ACCM);
			w->accm = p->cfg.accm | ppp_get32(o->val);
		}
		break;
	case PPP_LCP_AUTH:
		if (p->cfg.role != PPP_ROLE_AUTHENTICATOR || !(w->has & PPP_OPT_BIT(PPP_LCP_AUTH)))
			break;
		p->auth_tried |= auth_bit(w->auth_proto);
		if (o->len >= 2) {
			uint16_t sug = ppp_get16(o->val);
			unsigned bit = auth_bit(sug);
			int ok = bit && (p->cfg.auth & bit) && !(p->auth_tried & bit) &&
			         (sug == PPP_PROTO_PAP ? o->len == 2
			                               : o->len == 3 && o->val[2] == PPP_CHAP_MD5);
			if (ok) {
				set_auth_want(p, sug);
				break;
			}
		}
		if (next_auth(p))
			set_auth_want(p, next_auth(p));
		else /* the peer accepts none of the protocols we demand */
			ppp_defer_close(p, PPP_DOWN_NEGOTIATION);
		break;
	case PPP_LCP_MAGIC:
		if (o->len == 4 && (w->has & PPP_OPT_BIT(PPP_LCP_MAGIC)))
			w->magic = ppp_new_magic(p, ppp_get32(o->val));
		break;
	default: /* suggestions for options we do not want: ignored */
		break;
	}
}

static void lcp_recv_rej(struct ppp_fsm *f, const struct ppp_opt *o)
{
	struct ppp *p = f->ppp;

	if (o->type >= 32)
		return;
	p->lcp_want.has &= ~PPP_OPT_BIT(o->type);
	if (o->type == PPP_LCP_AUTH) /* authentication is not optional for us */
		ppp_defer_close(p, PPP_DOWN_NEGOTIATION);
}

static void lcp_up(struct ppp_fsm *f, uint64_t now)
{
	struct ppp *p = f->ppp;
	struct ppp_state *st = &p->st;
	const struct ppp_lcp_opts *w = &p->lcp_want;

	st->mru_recv = (w->has & PPP_OPT_BIT(PPP_LCP_MRU)) ? w->mru : PPP_MRU_DEFAULT;
	st->accm_recv = (w->has & PPP_OPT_BIT(PPP_LCP_ACCM)) ? w->accm : PPP_HDLC_ACCM_DEFAULT;
	st->magic_local = (w->has & PPP_OPT_BIT(PPP_LCP_MAGIC)) ? w->magic : 0;
	st->pfc_recv = !!(w->has & PPP_OPT_BIT(PPP_LCP_PFC));
	st->acfc_recv = !!(w->has & PPP_OPT_BIT(PPP_LCP_ACFC));
	if (p->cfg.role == PPP_ROLE_AUTHENTICATOR)
		st->auth_proto = (w->has & PPP_OPT_BIT(PPP_LCP_AUTH)) ? w->auth_proto : 0;
	st->authenticated = 0;
	st->peer_name[0] = '\0';
	p->reason = PPP_DOWN_NONE;
	p->loops = 0;
	p->echo_pending = 0;
	p->echo_due = p->cfg.echo_interval_ms ? now + p->cfg.echo_interval_ms : 0;
	ppp_emit(p, PPP_EV_LINK_UP);

	/* RFC 1661 3.5: Authenticate phase when an authentication protocol was negotiated */
	p->auth_running = 0;
	p->chap_succeeded = 0;
	if (st->auth_proto == PPP_PROTO_PAP)
		ppp_pap_start(p, now);
	else if (st->auth_proto == PPP_PROTO_CHAP)
		ppp_chap_start(p, now);
	else if (p->cfg.role == PPP_ROLE_AUTHENTICATOR && p->cfg.auth)
		ppp_defer_close(p, PPP_DOWN_NEGOTIATION); /* cannot happen: AUTH is not optional */
	else
		ppp_auth_done(p, now);
}

static void lcp_down(struct ppp_fsm *f, uint64_t now)
{
	struct ppp *p = f->ppp;

	p->auth_running = 0;
	p->auth_timer = 0;
	p->echo_due = 0;
	p->st.authenticated = 0;
	ppp_fsm_down(&p->ipcp, now); /* NCPs go down with the link (RFC 1661 3.7) */
}

static void lcp_finished(struct ppp_fsm *f, uint64_t now)
{
	struct ppp *p = f->ppp;

	if (p->reason == PPP_DOWN_NONE)
		p->reason = PPP_DOWN_TIMEOUT;
	ppp_fsm_down(&p->ipcp, now);
	p->phase = PPP_PHASE_DEAD;
	p->st.phase = PPP_PHASE_DEAD;
	ppp_emit(p, PPP_EV_LINK_DOWN);
}

static int lcp_extcode(struct ppp_fsm *f, const struct ppp_cp *cp, uint64_t now)
{
	struct ppp *p = f->ppp;

	switch (cp->code) {
	case PPP_PROTREJ: {
		uint16_t proto;
		if (f->state != PPP_ST_OPENED) /* RFC 1661 5.7: only meaningful when Opened */
			return 0;
		if (cp->len < 2) {
			p->stats.rx_malformed++;
			return -EBADMSG;
		}
		proto = ppp_get16(cp->data);
		switch (proto) {
		case PPP_PROTO_LCP:
			if (p->reason == PPP_DOWN_NONE)
				p->reason = PPP_DOWN_PROTO_REJECTED;
			ppp_fsm_rxj(f, 1, now);
			break;
		case PPP_PROTO_IPCP:
		case PPP_PROTO_IP:
			ppp_defer_close(p, PPP_DOWN_PROTO_REJECTED);
			ppp_fsm_rxj(&p->ipcp, 1, now);
			break;
		case PPP_PROTO_PAP:
		case PPP_PROTO_CHAP:
			if (p->auth_running && proto == p->st.auth_proto)
				ppp_defer_close(p, PPP_DOWN_PROTO_REJECTED);
			break;
		default: /* something we sent by mistake: RXJ+ */
			break;
		}
		return 0;
	}
	case PPP_ECHOREQ: {
		uint8_t rep[PPP_PKT_MAX];
		uint32_t m;
		size_t n;
		if (f->state != PPP_ST_OPENED) /* RFC 1661 5.8: discarded unless Opened */
			return 0;
		if (cp->len < 4) {
			p->stats.rx_malformed++;
			return -EBADMSG;
		}
		m = ppp_get32(cp->data);
		if (p->st.magic_local && m == p->st.magic_local) {
			p->stats.loops_detected++; /* our own request came back */
			return 0;
		}
		n = cp->len < sizeof(rep) ? cp->len : sizeof(rep);
		rep[0] = (uint8_t)(p->st.magic_local >> 24);
		rep[1] = (uint8_t)(p->st.magic_local >> 16);
		rep[2] = (uint8_t)(p->st.magic_local >> 8);
		rep[3] = (uint8_t)p->st.magic_local;
		memcpy(rep + 4, cp->data + 4, n - 4); /* the data is echoed back (RFC 1661 5.8) */
		ppp_fsm_send(f, PPP_ECHOREP, cp->id, rep, n);
		return 0;
	}
	case PPP_ECHOREP:
		if (f->state != PPP_ST_OPENED)
			return 0;
		if (cp->len < 4) {
			p->stats.rx_malformed++;
			return -EBADMSG;
		}
		if (p->st.magic_local && ppp_get32(cp->data) == p->st.magic_local) {
			p->stats.loops_detected++; /* our own reply: proves nothing about the peer */
			return 0;
		}
		p->echo_pending = 0;
		p->stats.echo_replies++;
		return 0;
	case PPP_DISCREQ:
		return 0; /* RFC 1661 5.10: silently discarded */
	default:
		return -ENOENT;
	}
}

static void lcp_code_rejected(struct ppp_fsm *f, uint8_t code)
{
	if (code == PPP_ECHOREQ) /* the peer does not do keepalives: stop asking */
		f->ppp->echo_rejected = 1;
}

const struct ppp_fsm_ops ppp_lcp_ops = {
	.name = "LCP",
	.reset = lcp_reset,
	.build_req = lcp_build_req,
	.recv_req = lcp_recv_req,
	.recv_nak = lcp_recv_nak,
	.recv_rej = lcp_recv_rej,
	.up = lcp_up,
	.down = lcp_down,
	.finished = lcp_finished,
	.extcode = lcp_extcode,
	.code_rejected = lcp_code_rejected,
};

/* Echo keepalive (RFC 1661 5.8): one Echo-Request per interval while Opened; the link is
 * declared down once echo_failures requests in a row went unanswered. */
void ppp_lcp_tick_echo(struct ppp *p, uint64_t now)
{
	uint8_t m[4];

	if (p->lcp.state != PPP_ST_OPENED || !p->echo_due || now < p->echo_due)
		return;
	if (p->echo_rejected) {
		p->echo_due = 0;
		return;
	}
	if (p->echo_pending >= p->cfg.echo_failures) {
		p->echo_due = 0;
		ppp_defer_close(p, PPP_DOWN_ECHO_TIMEOUT);
		return;
	}
	m[0] = (uint8_t)(p->st.magic_local >> 24);
	m[1] = (uint8_t)(p->st.magic_local >> 16);
	m[2] = (uint8_t)(p->st.magic_local >> 8);
	m[3] = (uint8_t)p->st.magic_local;
	p->echo_pending++;
	p->stats.echo_sent++;
	p->echo_due = now + p->cfg.echo_interval_ms;
	ppp_fsm_send(&p->lcp, PPP_ECHOREQ, p->echo_id++, m, sizeof(m));
}
