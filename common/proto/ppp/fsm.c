/* The option negotiation automaton of RFC 1661 4 (state transition table 4.1), shared by LCP
 * and IPCP.  Each event handler below follows one row of the table; the comments give the
 * table entry for each state.  Actions: tlu/tld/tlf go to the protocol's ops, irc/zrc set the
 * restart counter, scr/sca/scn/str/sta/scj send packets.  (tls: the lower layer is always
 * there when a control protocol is opened here, so This-Layer-Started has nothing to do.)
 * The restart timer runs in Closing, Stopping, Req-Sent, Ack-Rcvd and Ack-Sent. */
#include <errno.h>
#include <string.h>

#include "ppp_int.h"

void ppp_fsm_init(struct ppp_fsm *f, struct ppp *p, uint16_t proto,
                  const struct ppp_fsm_ops *ops)
{
	memset(f, 0, sizeof(*f));
	f->ppp = p;
	f->ops = ops;
	f->proto = proto;
	f->state = PPP_ST_INITIAL;
	f->next_id = 1;
}

static int timer_state(enum ppp_fsm_state s)
{
	return s >= PPP_ST_CLOSING && s <= PPP_ST_ACK_SENT;
}

static void set_state(struct ppp_fsm *f, enum ppp_fsm_state s)
{
	f->state = s;
	if (!timer_state(s))
		f->timer = 0;
}

void ppp_fsm_send(struct ppp_fsm *f, uint8_t code, uint8_t id, const void *data, size_t len)
{
	uint8_t pkt[PPP_PKT_MAX];
	struct wbuf w;
	size_t max = f->ppp->st.mru_send ? f->ppp->st.mru_send : PPP_MRU_DEFAULT;

	if (max > sizeof(pkt))
		max = sizeof(pkt);
	if (len > max - 4)
		len = max - 4; /* Code-/Protocol-Reject and Echo data are truncated (RFC 1661 5.6) */
	wbuf_init_fixed(&w, pkt, sizeof(pkt));
	if (ppp_cp_encode(&w, code, id, data, len) == 0)
		ppp_output(f->ppp, f->proto, pkt, w.len);
}

static void irc(struct ppp_fsm *f, int terminate)
{
	const struct ppp_cfg *c = &f->ppp->cfg;
	f->restart = terminate ? c->max_terminate : c->max_configure;
}

static void zrc(struct ppp_fsm *f, uint64_t now)
{
	f->restart = 0;
	f->timer = now + f->ppp->cfg.restart_ms;
}

/* scr: a fresh request (new identifier) unless retransmitting. */
static void scr(struct ppp_fsm *f, int retransmit, uint64_t now)
{
	struct wbuf w;

	if (f->state != PPP_ST_REQ_SENT && f->state != PPP_ST_ACK_RCVD &&
	    f->state != PPP_ST_ACK_SENT) {
		/* not negotiating yet: start from the configured options */
		f->ops->reset(f);
		f->naks_sent = 0;
	}
	if (!retransmit || !f->req_valid) {
		wbuf_init_fixed(&w, f->req, sizeof(f->req));
		f->ops->build_req(f, &w);
		f->req_len = w.err ? 0 : w.len;
		f->id = f->next_id++;
	} else {
		f->ppp->stats.retransmits++;
	}
	f->req_valid = 1;
	if (f->restart)
		f->restart--;
	f->timer = now + f->ppp->cfg.restart_ms;
	ppp_fsm_send(f, PPP_CONFREQ, f->id, f->req, f->req_len);
}

static void str(struct ppp_fsm *f, uint64_t now)
{
	const char *why = ppp_down_reason_str(f->ppp->reason);

	f->term_id = f->next_id++;
	if (f->restart)
		f->restart--;
	f->timer = now + f->ppp->cfg.restart_ms;
	ppp_fsm_send(f, PPP_TERMREQ, f->term_id, why, strlen(why));
}

static void sta(struct ppp_fsm *f, uint8_t id)
{
	ppp_fsm_send(f, PPP_TERMACK, id, NULL, 0);
}

static void tlu(struct ppp_fsm *f, uint64_t now)
{
	f->ops->up(f, now);
}

static void tld(struct ppp_fsm *f, uint64_t now)
{
	f->ops->down(f, now);
}

static void tlf(struct ppp_fsm *f, uint64_t now)
{
	f->ops->finished(f, now);
}

/* Opened and a Configure-Request, -Ack, -Nak, -Reject or a Terminate-Ack arrives: tld,scr/6
 * (6x); negotiating again, scr sends our configured options. */
static void renegotiate(struct ppp_fsm *f, uint64_t now)
{
	tld(f, now);
	set_state(f, PPP_ST_REQ_SENT);
	f->ops->reset(f);
	scr(f, 0, now);
}

/* Close (from Req-Sent, Ack-Rcvd, Ack-Sent or Opened; tld first when Opened) or RXJ- (from
 * Opened): irc,str and the state given (4, or 5 for RXJ-). */
static void terminate(struct ppp_fsm *f, enum ppp_fsm_state next, uint64_t now)
{
	if (f->state == PPP_ST_OPENED)
		tld(f, now);
	irc(f, 1);
	str(f, now);
	set_state(f, next);
}

/* ---- administrative and lower layer events ---- */

void ppp_fsm_up(struct ppp_fsm *f, uint64_t now)
{
	switch (f->state) {
	case PPP_ST_INITIAL: /* 2 */
		set_state(f, PPP_ST_CLOSED);
		break;
	case PPP_ST_STARTING: /* irc,scr/6 */
		irc(f, 0);
		scr(f, 0, now);
		set_state(f, PPP_ST_REQ_SENT);
		break;
	default:
		break;
	}
}

void ppp_fsm_down(struct ppp_fsm *f, uint64_t now)
{
	switch (f->state) {
	case PPP_ST_CLOSED:  /* 0 */
	case PPP_ST_CLOSING: /* 0 */
		set_state(f, PPP_ST_INITIAL);
		break;
	case PPP_ST_STOPPED: /* tls/1 */
	case PPP_ST_STOPPING:
	case PPP_ST_REQ_SENT:
	case PPP_ST_ACK_RCVD:
	case PPP_ST_ACK_SENT: /* 1 */
		set_state(f, PPP_ST_STARTING);
		break;
	case PPP_ST_OPENED: /* tld/1 */
		tld(f, now);
		set_state(f, PPP_ST_STARTING);
		break;
	default:
		break;
	}
	f->req_valid = 0;
}

void ppp_fsm_open(struct ppp_fsm *f, uint64_t now)
{
	switch (f->state) {
	case PPP_ST_INITIAL: /* tls/1 */
		set_state(f, PPP_ST_STARTING);
		break;
	case PPP_ST_CLOSED: /* irc,scr/6 */
		irc(f, 0);
		scr(f, 0, now);
		set_state(f, PPP_ST_REQ_SENT);
		break;
	case PPP_ST_CLOSING: /* 5r */
		set_state(f, PPP_ST_STOPPING);
		break;
	default: /* 1, 3, 5, 6, 7, 8, 9: no change (no restart option) */
		break;
	}
}

void ppp_fsm_close(struct ppp_fsm *f, uint64_t now)
{
	switch (f->state) {
	case PPP_ST_STARTING: /* tlf/0 */
		set_state(f, PPP_ST_INITIAL);
		tlf(f, now);
		break;
	case PPP_ST_STOPPED: /* 2 */
		set_state(f, PPP_ST_CLOSED);
		break;
	case PPP_ST_STOPPING: /* 4 */
		set_state(f, PPP_ST_CLOSING);
		break;
	case PPP_ST_REQ_SENT:
	case PPP_ST_ACK_RCVD:
	case PPP_ST_ACK_SENT: /* irc,str/4 */
	case PPP_ST_OPENED:   /* tld,irc,str/4 */
		terminate(f, PPP_ST_CLOSING, now);
		break;
	default: /* 0, 2, 4 */
		break;
	}
	f->req_valid = 0;
}

/* ---- timeout (TO+ / TO-) ---- */

void ppp_fsm_tick(struct ppp_fsm *f, uint64_t now)
{
	if (!f->timer || now < f->timer)
		return;
	f->timer = 0;
	switch (f->state) {
	case PPP_ST_CLOSING:
	case PPP_ST_STOPPING:
		if (f->restart > 0) { /* str/4, str/5 */
			str(f, now);
		} else { /* tlf/2, tlf/3 */
			set_state(f, f->state == PPP_ST_CLOSING ? PPP_ST_CLOSED : PPP_ST_STOPPED);
			tlf(f, now);
		}
		break;
	case PPP_ST_REQ_SENT:
	case PPP_ST_ACK_RCVD:
	case PPP_ST_ACK_SENT:
		if (f->restart > 0) { /* scr/6, scr/6, scr/8 */
			scr(f, 1, now);
			if (f->state == PPP_ST_ACK_RCVD)
				set_state(f, PPP_ST_REQ_SENT);
		} else { /* tlf/3p */
			f->req_valid = 0;
			set_state(f, PPP_ST_STOPPED);
			tlf(f, now);
		}
		break;
	default:
		break;
	}
}

/* ---- receive events ---- */

/* The columns RCR, RCA and RCN where a Configure packet is not negotiated: Closed answers with
 * Terminate-Ack (sta/2), Closing and Stopping ignore it (4, 5), Initial and Starting cannot
 * receive it (counted).  1 when cp was handled so. */
static int not_negotiating(struct ppp_fsm *f, const struct ppp_cp *cp)
{
	switch (f->state) {
	case PPP_ST_CLOSED: /* sta/2 */
		sta(f, cp->id);
		return 1;
	case PPP_ST_CLOSING:
	case PPP_ST_STOPPING: /* 4, 5 */
		return 1;
	case PPP_ST_INITIAL:
	case PPP_ST_STARTING:
		f->ppp->stats.rx_unexpected++;
		return 1;
	default:
		return 0;
	}
}

static void rcr(struct ppp_fsm *f, const struct ppp_cp *cp, uint64_t now)
{
	uint8_t reply[PPP_PKT_MAX];
	struct wbuf w;
	int code;
	enum ppp_fsm_state s = f->state;

	if (not_negotiating(f, cp))
		return;
	wbuf_init_fixed(&w, reply, sizeof(reply));
	code = f->ops->recv_req(f, cp->data, cp->len, &w, f->naks_sent >= f->ppp->cfg.max_failure);
	if (code < 0 || w.err) {
		f->ppp->stats.rx_malformed++;
		return;
	}
	switch (s) {
	case PPP_ST_STOPPED: /* irc,scr,sca/8  irc,scr,scn/6 */
		irc(f, 0);
		scr(f, 0, now);
		break;
	case PPP_ST_OPENED: /* tld,scr,sca/8  tld,scr,scn/6 */
		renegotiate(f, now);
		break;
	default:
		break;
	}
	if (code == PPP_CONFACK) {
		ppp_fsm_send(f, PPP_CONFACK, cp->id, cp->data, cp->len);
		f->naks_sent = 0;
		if (s == PPP_ST_ACK_RCVD) { /* sca,tlu/9 */
			set_state(f, PPP_ST_OPENED);
			tlu(f, now);
		} else { /* sca/8 */
			set_state(f, PPP_ST_ACK_SENT);
		}
	} else {
		ppp_fsm_send(f, (uint8_t)code, cp->id, reply, w.len);
		if (code == PPP_CONFNAK)
			f->naks_sent++;
		/* scn/6, except Ack-Rcvd which stays */
		set_state(f, s == PPP_ST_ACK_RCVD ? PPP_ST_ACK_RCVD : PPP_ST_REQ_SENT);
	}
}

/* A reply to our Configure-Request: it must carry the identifier of the outstanding request
 * (RFC 1661 5.2-5.4); later duplicates are discarded. */
static int reply_matches(struct ppp_fsm *f, const struct ppp_cp *cp)
{
	if (!f->req_valid || cp->id != f->id) {
		f->ppp->stats.rx_bad_id++;
		return 0;
	}
	return 1;
}

/* A Configure-Reject must list options of our request, unchanged and in order (RFC 1661 5.4). */
static int reject_is_subset(const struct ppp_fsm *f, const uint8_t *opts, size_t len)
{
	struct rbuf rr, rq;
	struct ppp_opt a, b;
	int rc;

	rbuf_init(&rr, opts, len);
	rbuf_init(&rq, f->req, f->req_len);
	while ((rc = ppp_opt_next(&rr, &a)) > 0) {
		for (;;) {
			if (ppp_opt_next(&rq, &b) <= 0)
				return 0;
			if (b.type == a.type)
				break;
		}
		if (a.len != b.len || (a.len && memcmp(a.val, b.val, a.len)))
			return 0;
	}
	return rc == 0;
}

/* Hands each option of a well-formed list (cp's data) to fn, in order. */
static void each_opt(struct ppp_fsm *f, const struct ppp_cp *cp,
                     void (*fn)(struct ppp_fsm *f, const struct ppp_opt *o))
{
	struct rbuf r;
	struct ppp_opt o;

	rbuf_init(&r, cp->data, cp->len);
	while (ppp_opt_next(&r, &o) > 0)
		fn(f, &o);
}

static void rca_rcn(struct ppp_fsm *f, const struct ppp_cp *cp, uint64_t now)
{
	enum ppp_fsm_state s = f->state;
	int ack = cp->code == PPP_CONFACK;

	if (s == PPP_ST_STOPPED) { /* sta/3 */
		sta(f, cp->id);
		return;
	}
	if (not_negotiating(f, cp))
		return;
	if (!reply_matches(f, cp))
		return;
	if (ack) {
		if (cp->len != f->req_len || (cp->len && memcmp(cp->data, f->req, cp->len))) {
			f->ppp->stats.rx_malformed++; /* an Ack must repeat the request exactly */
			return;
		}
	} else if (ppp_opts_check(cp->data, cp->len) < 0 ||
		   (cp->code == PPP_CONFREJ && !reject_is_subset(f, cp->data, cp->len))) {
		f->ppp->stats.rx_malformed++;
		return;
	} else {
		each_opt(f, cp, cp->code == PPP_CONFNAK ? f->ops->recv_nak : f->ops->recv_rej);
	}
	f->req_valid = 0;
	switch (s) {
	case PPP_ST_REQ_SENT: /* RCA: irc/7; RCN: irc,scr/6 */
		irc(f, 0);
		if (ack) {
			set_state(f, PPP_ST_ACK_RCVD);
		} else {
			scr(f, 0, now);
		}
		break;
	case PPP_ST_ACK_RCVD: /* scr/6x (crossed connection) */
		scr(f, 0, now);
		set_state(f, PPP_ST_REQ_SENT);
		break;
	case PPP_ST_ACK_SENT: /* RCA: irc,tlu/9; RCN: irc,scr/8 */
		irc(f, 0);
		if (ack) {
			set_state(f, PPP_ST_OPENED);
			tlu(f, now);
		} else {
			scr(f, 0, now);
		}
		break;
	case PPP_ST_OPENED: /* tld,scr/6x */
		renegotiate(f, now);
		break;
	default:
		break;
	}
}

static void rtr(struct ppp_fsm *f, const struct ppp_cp *cp, uint64_t now)
{
	switch (f->state) {
	case PPP_ST_CLOSED:
	case PPP_ST_STOPPED:
	case PPP_ST_CLOSING:
	case PPP_ST_STOPPING: /* sta/2..5 */
		sta(f, cp->id);
		break;
	case PPP_ST_REQ_SENT:
	case PPP_ST_ACK_RCVD:
	case PPP_ST_ACK_SENT: /* sta/6 */
		sta(f, cp->id);
		set_state(f, PPP_ST_REQ_SENT);
		break;
	case PPP_ST_OPENED: /* tld,zrc,sta/5 */
		tld(f, now);
		zrc(f, now);
		sta(f, cp->id);
		f->req_valid = 0;
		set_state(f, PPP_ST_STOPPING);
		break;
	default:
		f->ppp->stats.rx_unexpected++;
		break;
	}
}

static void rta(struct ppp_fsm *f, uint64_t now)
{
	switch (f->state) {
	case PPP_ST_CLOSING: /* tlf/2 */
		set_state(f, PPP_ST_CLOSED);
		tlf(f, now);
		break;
	case PPP_ST_STOPPING: /* tlf/3 */
		set_state(f, PPP_ST_STOPPED);
		tlf(f, now);
		break;
	case PPP_ST_ACK_RCVD: /* 6 */
		set_state(f, PPP_ST_REQ_SENT);
		break;
	case PPP_ST_OPENED: /* tld,scr/6 */
		renegotiate(f, now);
		break;
	default: /* 2, 3, 6, 8: no change */
		break;
	}
}

void ppp_fsm_rxj(struct ppp_fsm *f, int catastrophic, uint64_t now)
{
	if (!catastrophic) { /* RXJ+: Ack-Rcvd goes back to Req-Sent, the rest stays */
		if (f->state == PPP_ST_ACK_RCVD)
			set_state(f, PPP_ST_REQ_SENT);
		return;
	}
	switch (f->state) {
	case PPP_ST_CLOSED:
	case PPP_ST_CLOSING: /* tlf/2 */
		set_state(f, PPP_ST_CLOSED);
		tlf(f, now);
		break;
	case PPP_ST_STOPPED:
	case PPP_ST_STOPPING:
	case PPP_ST_REQ_SENT:
	case PPP_ST_ACK_RCVD:
	case PPP_ST_ACK_SENT: /* tlf/3 */
		f->req_valid = 0;
		set_state(f, PPP_ST_STOPPED);
		tlf(f, now);
		break;
	case PPP_ST_OPENED: /* tld,irc,str/5 */
		terminate(f, PPP_ST_STOPPING, now);
		break;
	default:
		break;
	}
}

int ppp_fsm_input(struct ppp_fsm *f, const uint8_t *pkt, size_t len, uint64_t now)
{
	struct ppp_cp cp;
	int rc;

	if (ppp_cp_decode(pkt, len, &cp) < 0) {
		f->ppp->stats.rx_malformed++;
		return -EBADMSG;
	}
	switch (cp.code) {
	case PPP_CONFREQ:
		rcr(f, &cp, now);
		return 0;
	case PPP_CONFACK:
	case PPP_CONFNAK:
	case PPP_CONFREJ:
		rca_rcn(f, &cp, now);
		return 0;
	case PPP_TERMREQ:
		rtr(f, &cp, now);
		return 0;
	case PPP_TERMACK:
		rta(f, now);
		return 0;
	case PPP_CODEREJ: {
		struct ppp_cp rej;
		if (f->state < PPP_ST_CLOSED)
			return 0;
		/* the rejected packet, possibly truncated: its code is what matters */
		if (cp.len < 1) {
			f->ppp->stats.rx_malformed++;
			return -EBADMSG;
		}
		rej.code = cp.data[0];
		if (rej.code >= PPP_CONFREQ && rej.code <= PPP_CODEREJ) {
			if (f->ppp->reason == PPP_DOWN_NONE)
				f->ppp->reason = PPP_DOWN_PROTO_REJECTED;
			ppp_fsm_rxj(f, 1, now); /* RXJ-: we cannot work without it */
		} else {
			if (f->ops->code_rejected)
				f->ops->code_rejected(f, rej.code);
			ppp_fsm_rxj(f, 0, now);
		}
		return 0;
	}
	default:
		rc = f->ops->extcode ? f->ops->extcode(f, &cp, now) : -ENOENT;
		if (rc == -ENOENT) {
			/* RUC: scj, the whole packet (truncated to the MRU) */
			if (f->state < PPP_ST_CLOSED)
				return 0;
			f->ppp->stats.rx_unknown_code++;
			ppp_fsm_send(f, PPP_CODEREJ, f->next_id++, pkt, (size_t)4 + cp.len);
			return 0;
		}
		return rc;
	}
}
