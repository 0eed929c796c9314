/* Incoming calls, LNS side (RFC 2661 7.4.2 "LNS Incoming Call States"):
 *
 *   idle --ICRQ ok/ICRP--> wait-connect --ICCN--> established
 *   any --CDN rx--> freed;  any --local clear/CDN tx--> freed;  wait-connect --timeout--> CDN
 *
 * The session table, CDN, OCRQ refusal (CDN Result 5, l2tp.md 3), the unknown-M-bit rule
 * (CDN 2/8, 4.2) and set-up deadlines are the shared l2tp_endpoint's (roam/l2tp_tunnel.h);
 * this file accepts or refuses calls. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lnsd.h"

const char *const lnsd_session_state_names[] = { "idle", "wait-connect", "established" };

static struct l2tp_session *find_by_peer_id(struct l2tp_tunnel *t, uint16_t peer_id)
{
	for (struct l2tp_session *s = t->sessions; s; s = s->next)
		if (s->peer_id == peer_id)
			return s;
	return NULL;
}

void lnsd_session_free(void *arg, struct l2tp_session *s)
{
	struct lnsd *h = arg;
	lnsd_ppp_release(h, lnsd_session_of(s));
	lnsd_handoff_session_free(h, lnsd_session_of(s));
	free(lnsd_session_of(s));
}

void lnsd_dump_session(void *arg, struct json_writer *w, const struct l2tp_session *ls)
{
	(void)arg;
	const struct lnsd_session *s = (const struct lnsd_session *)(const void *)ls;
	json_kv_str(w, "calling", s->calling);
	json_kv_str(w, "called", s->called);
	json_kv_uint(w, "tx_speed", s->tx_speed);
	json_kv_uint(w, "framing_type", s->framing_type);
	json_kv_bool(w, "seq_required", s->seq_required);
	json_kv_bool(w, "handoff_resumed", s->ho_resumed);
	lnsd_ppp_dump(s, w);
}

void lnsd_session_close(void *arg, struct l2tp_session *ls, uint16_t result, uint16_t error,
			const char *msg, uint64_t now)
{
	struct lnsd *h = arg;
	struct lnsd_session *s = lnsd_session_of(ls);
	struct l2tp_tunnel *t = ls->t;
	log_info("tunnel %u session %u (MIN %s): CDN result %u error %u%s%s", t->id, ls->id,
		 s->calling, result, error, msg ? ": " : "", msg ? msg : "");
	l2tp_session_send_cdn(t, ls->id, ls->peer_id, result, error, msg, now);
	h->stats.sessions_closed_local++;
	l2tp_session_free(ls);
}

static void str_avp(const struct l2tp_msg *m, int type, const struct l2tp_bytes *b, char *dst,
		    size_t n)
{
	dst[0] = 0;
	if ((m->avps & L2TP_AVP_BIT(type)) && l2tp_bytes_to_str(b, dst, n) < 0)
		dst[0] = 0;
}

static void handle_icrq(struct lnsd *h, struct l2tp_tunnel *t, const struct l2tp_msg *m,
			uint64_t now)
{
	int missing;
	char what[64];

	h->stats.sessions_requested++;
	if (!(m->avps & L2TP_AVP_BIT(L2TP_AVP_ASSIGNED_SESSION_ID))) {
		/* Nobody to answer to: the call cannot be identified. */
		h->stats.sessions_refused++;
		log_warnx("tunnel %u: ICRQ without Assigned Session ID ignored", t->id);
		return;
	}
	if (find_by_peer_id(t, m->assigned_session_id)) {
		h->stats.sessions_refused++;
		h->ep.stats.fsm_errors++;
		log_warnx("tunnel %u: ICRQ for its session %u, which exists: ignored", t->id,
			  m->assigned_session_id);
		return;
	}
	if (m->unknown_mandatory >= 0) {
		h->stats.sessions_refused++;
		snprintf(what, sizeof(what), "vendor %u type %u",
			 m->unknown_mandatory < L2TP_MAX_UNKNOWN
				 ? m->unknown[m->unknown_mandatory].vendor : 0,
			 m->unknown_mandatory < L2TP_MAX_UNKNOWN
				 ? m->unknown[m->unknown_mandatory].type : 0);
		l2tp_session_send_cdn(t, l2tp_session_alloc_id(t), m->assigned_session_id,
				      L2TP_CDN_GENERAL_ERROR, L2TP_ERR_UNKNOWN_MANDATORY, what, now);
		return;
	}
	if (l2tp_msg_check(m, &missing) < 0) {
		h->stats.sessions_refused++;
		snprintf(what, sizeof(what), "ICRQ without %s", l2tp_avp_name((uint16_t)missing));
		l2tp_session_send_cdn(t, l2tp_session_alloc_id(t), m->assigned_session_id,
				      L2TP_CDN_GENERAL_ERROR, L2TP_ERR_LENGTH, what, now);
		return;
	}
	if (t->nsessions >= h->conf.tunnel.max_sessions) {
		h->stats.sessions_refused++;
		l2tp_session_send_cdn(t, l2tp_session_alloc_id(t), m->assigned_session_id,
				      L2TP_CDN_NO_FACILITIES_TEMP, 0, "session limit reached", now);
		return;
	}
	struct lnsd_session *s = calloc(1, sizeof(*s));
	if (!s || !(s->s.id = l2tp_session_alloc_id(t))) {
		free(s);
		h->stats.sessions_refused++;
		l2tp_session_send_cdn(t, 1, m->assigned_session_id, L2TP_CDN_NO_FACILITIES_TEMP,
				      L2TP_ERR_RESOURCES, NULL, now);
		return;
	}
	s->s.peer_id = m->assigned_session_id;
	s->s.serial = m->call_serial;
	s->bearer_type = m->bearer_type;
	str_avp(m, L2TP_AVP_CALLING_NUMBER, &m->calling_number, s->calling, sizeof(s->calling));
	str_avp(m, L2TP_AVP_CALLED_NUMBER, &m->called_number, s->called, sizeof(s->called));
	s->s.created = now;
	s->s.deadline = now + h->conf.tunnel.setup_timeout;
	s->s.state = LNSD_S_WAIT_CONNECT;
	if (l2tp_session_add(t, &s->s) < 0) {
		free(s);
		h->stats.sessions_refused++;
		return;
	}
	struct l2tp_msg *r = l2tp_ep_msg(&h->ep, L2TP_MSG_ICRP, s->s.peer_id);
	r->avps = L2TP_AVP_BIT(L2TP_AVP_ASSIGNED_SESSION_ID);
	r->assigned_session_id = s->s.id;
	lnsd_handoff_icrq(h, s, m, r, now);
	log_info("tunnel %u session %u: ICRQ (its session %u, serial %u, calling %s)", t->id,
		 s->s.id, s->s.peer_id, s->s.serial, *s->calling ? s->calling : "-");
	l2tp_tunnel_send(t, r, now);
}

static void handle_iccn(struct lnsd *h, struct lnsd_session *s, const struct l2tp_msg *m,
			uint64_t now)
{
	struct l2tp_tunnel *t = s->s.t;
	if (s->s.state != LNSD_S_WAIT_CONNECT) {
		h->ep.stats.fsm_errors++;
		lnsd_session_close(h, &s->s, L2TP_CDN_GENERAL_ERROR, 0, "unexpected ICCN", now);
		return;
	}
	s->tx_speed = m->tx_connect_speed;
	s->rx_speed = (m->avps & L2TP_AVP_BIT(L2TP_AVP_RX_CONNECT_SPEED)) ? m->rx_connect_speed
									    : m->tx_connect_speed;
	s->framing_type = m->framing_type;
	s->seq_required = (m->avps & L2TP_AVP_BIT(L2TP_AVP_SEQUENCING_REQUIRED)) != 0;
	/* A handoff (handoff.c): the parked call moves onto s, or s is refused and freed. */
	int ho = lnsd_handoff_iccn(h, s, m, now);
	if (ho < 0)
		return;
	s->s.state = LNSD_S_ESTABLISHED;
	s->s.established = now;
	s->s.deadline = 0;
	h->stats.sessions_established++;
	s->s.data_seq = s->s.data_seq || s->seq_required;
	log_info("tunnel %u session %u (MIN %s) established, %u bps%s", t->id, s->s.id,
		 *s->calling ? s->calling : "-", s->tx_speed, ho == 0 ? ", resumed by handoff" : "");
	if (ho == 0)
		return; /* PPP restored, not renegotiated */
	if (lnsd_ppp_start(h, s, now) < 0) {
		lnsd_session_close(h, &s->s, L2TP_CDN_NO_FACILITIES_TEMP, L2TP_ERR_RESOURCES,
				   "cannot start PPP", now);
		return;
	}
	if (s->ppp_dead)
		lnsd_session_close(h, &s->s, L2TP_CDN_ADMIN, 0, "PPP terminated", now);
}

void lnsd_session_msg(void *arg, struct l2tp_tunnel *t, struct l2tp_session *ls,
		      const struct l2tp_msg *m, uint64_t now)
{
	struct lnsd *h = arg;
	if (m->type == L2TP_MSG_ICRQ) {
		handle_icrq(h, t, m, now);
		return;
	}
	struct lnsd_session *s = lnsd_session_of(ls);
	switch (m->type) {
	case L2TP_MSG_ICCN:
		handle_iccn(h, s, m, now);
		break;
	case L2TP_MSG_CDN:
		log_info("tunnel %u session %u (MIN %s): CDN from peer, result %u error %u", t->id,
			 ls->id, s->calling, m->result.result,
			 m->result.has_error ? m->result.error : 0);
		h->stats.sessions_closed_by_peer++;
		lnsd_handoff_cdn(h, s, m, now); /* parks it: PPP, address, route move out of s */
		l2tp_session_free(ls);
		break;
	case L2TP_MSG_WEN:
	case L2TP_MSG_SLI:
		break; /* accepted and ignored (l2tp.md 3) */
	default:
		h->ep.stats.fsm_errors++;
		lnsd_session_close(h, ls, L2TP_CDN_GENERAL_ERROR, 0, "unexpected message", now);
		break;
	}
}
