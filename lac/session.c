/* Incoming calls, LAC side (RFC 2661 7.4.1 "LAC Incoming Call States"):
 *
 *   idle --call--> wait-tunnel --tunnel up/ICRQ--> wait-reply --ICRP/ICCN--> established
 *   any --CDN rx--> freed;  any --hangup/CDN tx--> freed;  wait-reply --timeout--> CDN
 *
 * A handoff call (handoff.c, seed 000 figure 6) adds Handoff Request + Call State to its
 * ICRQ; on ICRP Handoff Accepted its ICCN carries Proxy Authen and the data channel resumes,
 * otherwise it goes on as a plain call; a CDN with Handoff Refused after ICCN is followed by a
 * fresh call for the still attached mobile.
 * The call is identified by the mobile's MIN (Calling Number AVP); one call per MIN.  When the
 * last call of a tunnel ends, the tunnel's idle timer starts (tunnel.c).  The session table,
 * CDN, OCRQ refusal and set-up deadlines are the shared l2tp_endpoint's. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lacd.h"

const char *const lacd_session_state_names[] = { "idle", "wait-tunnel", "wait-reply",
						 "established" };

struct lacd_session *lacd_session_by_min(struct lacd *h, const char *min)
{
	struct table_node *n = table_lookup(&h->by_min, min, strlen(min));
	return n ? table_entry(n, struct lacd_session, mnode) : NULL;
}

void lacd_session_free(void *arg, struct l2tp_session *ls)
{
	struct lacd *h = arg;
	struct lacd_session *s = lacd_session_of(ls);
	if (table_node_linked(&s->mnode))
		table_remove(&h->by_min, &s->mnode);
	if (!s->keep_link) /* a fallback call follows: the mobile stays */
		lacd_access_call_gone(h, s->min, h->ep.now); /* DETACH to the mobile, if any */
	log_debug("session %u (MIN %s) freed", ls->id, s->min);
	free(s);
}

void lacd_dump_session(void *arg, struct json_writer *w, const struct l2tp_session *s)
{
	(void)arg;
	json_kv_str(w, "min", ((const struct lacd_session *)(const void *)s)->min);
}

void lacd_session_close(void *arg, struct l2tp_session *ls, uint16_t result, uint16_t error,
			const char *msg, uint64_t now)
{
	struct lacd *h = arg;
	struct lacd_session *s = lacd_session_of(ls);
	struct l2tp_tunnel *t = ls->t;
	log_info("tunnel %u session %u (MIN %s): %s result %u error %u%s%s", t->id, ls->id, s->min,
		 ls->state == LACD_S_WAIT_TUNNEL ? "abandoned" : "CDN", result, error,
		 msg ? ": " : "", msg ? msg : "");
	/* Before ICRP the LNS's session id is unknown: 0. */
	if (ls->state != LACD_S_WAIT_TUNNEL)
		l2tp_session_send_cdn(t, ls->id, ls->peer_id, result, error, msg, now);
	if (ls->state == LACD_S_ESTABLISHED)
		h->stats.sessions_closed_local++;
	else
		h->stats.calls_failed++;
	l2tp_session_free(ls);
	lacd_tunnel_session_gone(t, now);
}

/* ICRQ (RFC 2661 6.8): Assigned Session ID, Call Serial Number, Bearer Type, Calling Number
 * (the MIN). */
static void send_icrq(struct lacd *h, struct lacd_session *s, uint64_t now)
{
	struct l2tp_tunnel *t = s->s.t;
	struct l2tp_msg *m = l2tp_ep_msg(&h->ep, L2TP_MSG_ICRQ, 0);
	m->avps = L2TP_AVP_BIT(L2TP_AVP_ASSIGNED_SESSION_ID) | L2TP_AVP_BIT(L2TP_AVP_CALL_SERIAL) |
		  L2TP_AVP_BIT(L2TP_AVP_BEARER_TYPE) | L2TP_AVP_BIT(L2TP_AVP_CALLING_NUMBER);
	m->assigned_session_id = s->s.id;
	m->call_serial = s->s.serial;
	m->bearer_type = L2TP_BEARER_DIGITAL;
	l2tp_bytes_str(&m->calling_number, s->min);
	if (s->ho.state == LACD_HO_REQUESTED) /* figure 6: Handoff Request + Call State */
		lacd_ho_icrq(h, s, m);
	s->s.state = LACD_S_WAIT_REPLY;
	s->s.deadline = now + h->conf.tunnel.setup_timeout;
	log_info("tunnel %u session %u (MIN %s): ICRQ%s, serial %u", t->id, s->s.id, s->min,
		 s->ho.state == LACD_HO_REQUESTED ? " (handoff)" : "", s->s.serial);
	l2tp_tunnel_send(t, m, now);
}

void lacd_session_tunnel_up(struct l2tp_tunnel *t, uint64_t now)
{
	struct lacd *h = t->ep->role;
	for (struct l2tp_session *s = t->sessions; s; s = s->next)
		if (s->state == LACD_S_WAIT_TUNNEL)
			send_icrq(h, lacd_session_of(s), now);
}

int lacd_call(struct lacd *h, const char *min, const struct roam_sockaddr *lns, uint64_t now,
	      struct lacd_session **out)
{
	return lacd_call_ho(h, min, lns, NULL, now, out);
}

int lacd_call_ho(struct lacd *h, const char *min, const struct roam_sockaddr *lns,
		 const struct lacd_ho_call *ho, uint64_t now, struct lacd_session **out)
{
	struct roam_sockaddr dst;
	const uint8_t *secret = NULL;
	size_t secret_len = 0;
	bool hide = false;
	struct lacd_tunnel *lt;
	int r;

	h->ep.now = now;
	h->stats.calls_requested++;
	if (l2tp_min_valid(min) < 0)
		return -EINVAL;
	if (lacd_session_by_min(h, min)) {
		h->stats.calls_refused_busy++;
		return -EEXIST;
	}
	const struct lacd_conf_lns *l = lacd_conf_route(&h->conf, min);
	if (lns) {
		/* An explicit LNS: its secret comes from a table entry naming that address. */
		struct roam_ipaddr a;
		uint16_t port;
		dst = *lns;
		roam_sockaddr_addr(lns, &a, &port);
		l = NULL;
		for (size_t i = 0; i < h->conf.nlns; i++)
			if (roam_ipaddr_eq(&h->conf.lns[i].address, &a) &&
			    h->conf.lns[i].port == port) {
				l = &h->conf.lns[i];
				break;
			}
	} else if (l) {
		roam_sockaddr_set(&dst, &l->address, l->port);
	} else {
		h->stats.calls_refused_no_lns++;
		return -EHOSTUNREACH;
	}
	if (l && l->secret.len) {
		secret = l->secret.data;
		secret_len = l->secret.len;
		hide = l->hide_avps;
	}
	if ((r = lacd_tunnel_get(h, &dst, secret, secret_len, hide, now, &lt)) < 0)
		return r;
	struct l2tp_tunnel *t = &lt->l;
	if (t->nsessions >= h->conf.tunnel.max_sessions)
		return -ENOSPC;
	struct lacd_session *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	if (!(s->s.id = l2tp_session_alloc_id(t))) {
		free(s);
		return -ENOMEM;
	}
	snprintf(s->min, sizeof(s->min), "%s", min);
	s->s.serial = ++h->next_serial;
	s->s.created = now;
	s->s.state = LACD_S_WAIT_TUNNEL;
	if (lacd_link_by_min(h, min)) /* a mobile on the access link (handoff, fallback) */
		s->s.data_seq = h->conf.access.data_sequencing;
	if (ho)
		s->ho = *ho;
	if (table_insert(&h->by_min, &s->mnode, s->min, strlen(s->min)) < 0) {
		free(s);
		return -ENOMEM;
	}
	if (l2tp_session_add(t, &s->s) < 0) {
		table_remove(&h->by_min, &s->mnode);
		free(s);
		return -ENOMEM;
	}
	if (t->state == LACD_T_ESTABLISHED) {
		t->deadline = 0; /* not idle any more */
		send_icrq(h, s, now);
	}
	l2tp_tunnel_done(t);
	if (out)
		*out = s;
	return 0;
}

int lacd_hangup(struct lacd *h, const char *min, uint16_t result, uint64_t now)
{
	struct lacd_session *s = lacd_session_by_min(h, min);
	if (!s)
		return -ENOENT;
	struct l2tp_tunnel *t = s->s.t;
	h->ep.now = now;
	lacd_session_close(h, &s->s, result, 0, NULL, now);
	l2tp_tunnel_done(t);
	return 0;
}

static void handle_icrp(struct lacd *h, struct lacd_session *s, const struct l2tp_msg *m,
			uint64_t now)
{
	struct l2tp_tunnel *t = s->s.t;
	if (s->s.state != LACD_S_WAIT_REPLY) {
		h->ep.stats.fsm_errors++;
		lacd_session_close(h, &s->s, L2TP_CDN_GENERAL_ERROR, 0, "unexpected ICRP", now);
		return;
	}
	s->s.peer_id = m->assigned_session_id;
	/* ICCN (RFC 2661 6.10): (Tx) Connect Speed and Framing Type. */
	struct l2tp_msg *r = l2tp_ep_msg(&h->ep, L2TP_MSG_ICCN, s->s.peer_id);
	r->avps = L2TP_AVP_BIT(L2TP_AVP_TX_CONNECT_SPEED) | L2TP_AVP_BIT(L2TP_AVP_FRAMING_TYPE);
	r->tx_connect_speed = LACD_CONNECT_SPEED;
	r->framing_type = L2TP_FRAMING_ASYNC;
	bool resumed = s->ho.state == LACD_HO_REQUESTED && lacd_ho_icrp(h, s, m, r);
	struct lacd_ho_call ho;
	struct roam_sockaddr lns;
	if (s->ho.state == LACD_HO_RETRY && lacd_ho_retry(h, s, &ho, &lns, now)) {
		/* The call moved on while we asked: CDN, and the newer handoff request. */
		char min[L2TP_MIN_MAX + 1];
		snprintf(min, sizeof(min), "%s", s->min);
		s->keep_link = true;
		lacd_session_close(h, &s->s, L2TP_CDN_ADMIN, 0, "handoff asked again", now);
		if (lacd_call_ho(h, min, &lns, &ho, now, NULL) < 0 &&
		    lacd_call(h, min, NULL, now, NULL) < 0)
			lacd_access_call_gone(h, min, now);
		l2tp_tunnel_done(t);
		return;
	}
	if (l2tp_tunnel_send(t, r, now) < 0) {
		lacd_session_close(h, &s->s, L2TP_CDN_NO_FACILITIES_TEMP, L2TP_ERR_RESOURCES, NULL,
				   now);
		return;
	}
	s->s.state = LACD_S_ESTABLISHED;
	s->s.established = now;
	s->s.deadline = 0;
	h->stats.sessions_established++;
	log_info("tunnel %u session %u (MIN %s) %s (its session %u)", t->id, s->s.id, s->min,
		 resumed ? "resumed by handoff, PPP not renegotiated" : "established",
		 s->s.peer_id);
	lacd_access_call_up(h, s->min, resumed);
}

void lacd_session_msg(void *arg, struct l2tp_tunnel *t, struct l2tp_session *ls,
		      const struct l2tp_msg *m, uint64_t now)
{
	struct lacd *h = arg;
	if (!ls) { /* an ICRQ: roam's LAC accepts no call from the LNS (no session for it) */
		h->ep.stats.drop_unknown_session++;
		log_debug("tunnel %u: ICRQ to a LAC ignored", t->id);
		return;
	}
	struct lacd_session *s = lacd_session_of(ls);
	switch (m->type) {
	case L2TP_MSG_ICRP:
		handle_icrp(h, s, m, now);
		break;
	case L2TP_MSG_CDN:
		log_info("tunnel %u session %u (MIN %s): CDN from peer, result %u error %u", t->id,
			 ls->id, s->min, m->result.result,
			 m->result.has_error ? m->result.error : 0);
		if (ls->state == LACD_S_ESTABLISHED)
			h->stats.sessions_closed_by_peer++;
		else
			h->stats.calls_failed++;
		if (lacd_ho_cdn(h, s, m)) {
			/* Handoff refused at ICCN: a fresh call to the same LNS, PPP renegotiates. */
			char min[L2TP_MIN_MAX + 1];
			struct roam_sockaddr lns = t->peer;
			snprintf(min, sizeof(min), "%s", s->min);
			s->keep_link = true;
			l2tp_session_free(ls);
			lacd_tunnel_session_gone(t, now);
			if (lacd_call(h, min, &lns, now, NULL) < 0)
				lacd_access_call_gone(h, min, now);
			break;
		}
		l2tp_session_free(ls);
		lacd_tunnel_session_gone(t, now);
		break;
	case L2TP_MSG_SLI:
		/* RFC 2661 6.15: the ACCM the mobile negotiated, for the framing at the LAC. */
		if (m->avps & L2TP_AVP_BIT(L2TP_AVP_ACCM))
			lacd_access_set_accm(h, s->min, m->accm_send, m->accm_recv);
		break;
	case L2TP_MSG_WEN:
		break; /* WAN error counters: nothing to do with them */
	default:
		h->ep.stats.fsm_errors++;
		lacd_session_close(h, ls, L2TP_CDN_GENERAL_ERROR, 0, "unexpected message", now);
		break;
	}
}
