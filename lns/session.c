/* Incoming calls, LNS side (RFC 2661 7.4.2 "LNS Incoming Call States"):
 *
 *   idle --ICRQ ok/ICRP--> wait-connect --ICCN--> established
 *   any --CDN rx--> freed;  any --local clear/CDN tx--> freed;  wait-connect --timeout--> CDN
 *
 * Outgoing calls are not placed by roam: an OCRQ is refused with CDN Result 5 (l2tp.md 3).
 * A session message with an unknown mandatory AVP is answered with CDN 2/8 (4.2). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lnsd.h"
#include "roam/auth.h"

static const char *const session_state_names[] = { "idle", "wait-connect", "established" };

const char *lnsd_session_state_name(int state)
{
	return state >= 0 && state <= LNSD_S_ESTABLISHED ? session_state_names[state] : "?";
}

static void skey(uint8_t *k, uint16_t tid, uint16_t sid)
{
	k[0] = (uint8_t)(tid >> 8);
	k[1] = (uint8_t)tid;
	k[2] = (uint8_t)(sid >> 8);
	k[3] = (uint8_t)sid;
}

struct lnsd_session *lnsd_session_find(struct lnsd *h, uint16_t tunnel_id, uint16_t session_id)
{
	uint8_t k[4];
	skey(k, tunnel_id, session_id);
	struct table_node *n = table_lookup(&h->sessions, k, 4);
	return n ? table_entry(n, struct lnsd_session, node) : NULL;
}

static struct lnsd_session *find_by_peer_id(struct lnsd_tunnel *t, uint16_t peer_id)
{
	for (struct lnsd_session *s = t->sessions; s; s = s->next)
		if (s->peer_id == peer_id)
			return s;
	return NULL;
}

void lnsd_session_free(struct lnsd_session *s)
{
	struct lnsd_tunnel *t = s->t;
	for (struct lnsd_session **pp = &t->sessions; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	t->nsessions--;
	if (table_node_linked(&s->node))
		table_remove(&t->h->sessions, &s->node);
	log_debug("tunnel %u session %u freed", t->id, s->id);
	free(s);
}

/* CDN (RFC 2661 6.11): Result Code, Assigned Session ID = ours, header Session ID = the
 * peer's. */
static void send_cdn(struct lnsd_tunnel *t, uint16_t our_id, uint16_t peer_id, uint16_t result,
		     uint16_t error, const char *msg, uint64_t now)
{
	struct l2tp_msg *m = &t->h->txm;
	memset(m, 0, sizeof(*m));
	m->type = L2TP_MSG_CDN;
	m->unknown_mandatory = -1;
	m->session_id = peer_id;
	m->avps = L2TP_AVP_BIT(L2TP_AVP_RESULT_CODE) | L2TP_AVP_BIT(L2TP_AVP_ASSIGNED_SESSION_ID);
	m->assigned_session_id = our_id;
	m->result.result = result;
	if (error || msg) {
		m->result.has_error = 1;
		m->result.error = error;
	}
	if (msg)
		l2tp_bytes_str(&m->result.msg, msg);
	lnsd_tunnel_send(t, m, now);
}

void lnsd_session_close(struct lnsd_session *s, uint16_t result, uint16_t error,
			const char *msg, uint64_t now)
{
	struct lnsd_tunnel *t = s->t;
	log_info("tunnel %u session %u (MIN %s): CDN result %u error %u%s%s", t->id, s->id,
		 s->calling, result, error, msg ? ": " : "", msg ? msg : "");
	send_cdn(t, s->id, s->peer_id, result, error, msg, now);
	t->h->stats.sessions_closed_local++;
	lnsd_session_free(s);
}

static uint16_t alloc_session_id(struct lnsd_tunnel *t)
{
	for (int i = 0; i < 64; i++) {
		uint16_t id;
		if (auth_random(&id, sizeof(id)) < 0)
			return 0;
		if (id && !lnsd_session_find(t->h, t->id, id))
			return id;
	}
	return 0;
}

static void str_avp(const struct l2tp_msg *m, int type, const struct l2tp_bytes *b, char *dst,
		    size_t n)
{
	dst[0] = 0;
	if ((m->avps & L2TP_AVP_BIT(type)) && l2tp_bytes_to_str(b, dst, n) < 0)
		dst[0] = 0;
}

static void handle_icrq(struct lnsd_tunnel *t, const struct l2tp_msg *m, uint64_t now)
{
	struct lnsd *h = t->h;
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
		h->stats.fsm_errors++;
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
		send_cdn(t, alloc_session_id(t), m->assigned_session_id, L2TP_CDN_GENERAL_ERROR,
			 L2TP_ERR_UNKNOWN_MANDATORY, what, now);
		return;
	}
	if (l2tp_msg_check(m, &missing) < 0) {
		h->stats.sessions_refused++;
		snprintf(what, sizeof(what), "ICRQ without %s", l2tp_avp_name((uint16_t)missing));
		send_cdn(t, alloc_session_id(t), m->assigned_session_id, L2TP_CDN_GENERAL_ERROR,
			 L2TP_ERR_LENGTH, what, now);
		return;
	}
	if (t->nsessions >= h->conf.tunnel.max_sessions) {
		h->stats.sessions_refused++;
		send_cdn(t, alloc_session_id(t), m->assigned_session_id,
			 L2TP_CDN_NO_FACILITIES_TEMP, 0, "session limit reached", now);
		return;
	}
	struct lnsd_session *s = calloc(1, sizeof(*s));
	if (!s || !(s->id = alloc_session_id(t))) {
		free(s);
		h->stats.sessions_refused++;
		send_cdn(t, 1, m->assigned_session_id, L2TP_CDN_NO_FACILITIES_TEMP,
			 L2TP_ERR_RESOURCES, NULL, now);
		return;
	}
	s->t = t;
	s->peer_id = m->assigned_session_id;
	s->serial = m->call_serial;
	s->bearer_type = m->bearer_type;
	str_avp(m, L2TP_AVP_CALLING_NUMBER, &m->calling_number, s->calling, sizeof(s->calling));
	str_avp(m, L2TP_AVP_CALLED_NUMBER, &m->called_number, s->called, sizeof(s->called));
	s->created = now;
	s->deadline = now + h->conf.tunnel.setup_timeout;
	s->state = LNSD_S_WAIT_CONNECT;
	skey(s->key, t->id, s->id);
	if (table_insert(&h->sessions, &s->node, s->key, 4) < 0) {
		free(s);
		h->stats.sessions_refused++;
		return;
	}
	s->next = t->sessions;
	t->sessions = s;
	t->nsessions++;

	struct l2tp_msg *r = &h->txm;
	memset(r, 0, sizeof(*r));
	r->type = L2TP_MSG_ICRP;
	r->unknown_mandatory = -1;
	r->session_id = s->peer_id;
	r->avps = L2TP_AVP_BIT(L2TP_AVP_ASSIGNED_SESSION_ID);
	r->assigned_session_id = s->id;
	log_info("tunnel %u session %u: ICRQ (its session %u, serial %u, calling %s)", t->id,
		 s->id, s->peer_id, s->serial, *s->calling ? s->calling : "-");
	lnsd_tunnel_send(t, r, now);
}

static void handle_iccn(struct lnsd_tunnel *t, struct lnsd_session *s, const struct l2tp_msg *m,
			uint64_t now)
{
	struct lnsd *h = t->h;
	int missing;
	if (s->state != LNSD_S_WAIT_CONNECT) {
		h->stats.fsm_errors++;
		lnsd_session_close(s, L2TP_CDN_GENERAL_ERROR, 0, "unexpected ICCN", now);
		return;
	}
	if (l2tp_msg_check(m, &missing) < 0) {
		char what[64];
		snprintf(what, sizeof(what), "ICCN without %s", l2tp_avp_name((uint16_t)missing));
		lnsd_session_close(s, L2TP_CDN_GENERAL_ERROR, L2TP_ERR_LENGTH, what, now);
		return;
	}
	s->tx_speed = m->tx_connect_speed;
	s->rx_speed = (m->avps & L2TP_AVP_BIT(L2TP_AVP_RX_CONNECT_SPEED)) ? m->rx_connect_speed
									    : m->tx_connect_speed;
	s->framing_type = m->framing_type;
	s->seq_required = (m->avps & L2TP_AVP_BIT(L2TP_AVP_SEQUENCING_REQUIRED)) != 0;
	s->state = LNSD_S_ESTABLISHED;
	s->established = now;
	s->deadline = 0;
	h->stats.sessions_established++;
	log_info("tunnel %u session %u (MIN %s) established, %u bps", t->id, s->id,
		 *s->calling ? s->calling : "-", s->tx_speed);
}

/* OCRQ: roam places no outgoing calls (RFC 2661 6.7; l2tp.md 3): CDN Result 5 with a
 * throw-away session id, header Session ID = the requester's. */
static void refuse_ocrq(struct lnsd_tunnel *t, const struct l2tp_msg *m, uint64_t now)
{
	t->h->stats.ocrq_refused++;
	if (!(m->avps & L2TP_AVP_BIT(L2TP_AVP_ASSIGNED_SESSION_ID)))
		return;
	uint16_t id = alloc_session_id(t);
	send_cdn(t, id ? id : 1, m->assigned_session_id, L2TP_CDN_NO_FACILITIES_PERM, 0,
		 "outgoing calls are not supported", now);
}

void lnsd_session_msg(struct lnsd_tunnel *t, const struct l2tp_msg *m, uint64_t now)
{
	struct lnsd *h = t->h;
	struct lnsd_session *s;

	switch (m->type) {
	case L2TP_MSG_ICRQ:
		handle_icrq(t, m, now);
		return;
	case L2TP_MSG_OCRQ:
		refuse_ocrq(t, m, now);
		return;
	default:
		break;
	}
	s = lnsd_session_find(h, t->id, m->session_id);
	if (!s) {
		/* A CDN for a call we already cleared, or a stray message: acknowledged by the
		 * channel, nothing else (answering would loop). */
		h->stats.drop_unknown_session++;
		log_debug("tunnel %u: %s for unknown session %u", t->id, l2tp_msg_name(m->type),
			  m->session_id);
		return;
	}
	switch (m->type) {
	case L2TP_MSG_ICCN:
		handle_iccn(t, s, m, now);
		break;
	case L2TP_MSG_CDN:
		log_info("tunnel %u session %u (MIN %s): CDN from peer, result %u error %u", t->id,
			 s->id, s->calling, m->result.result,
			 m->result.has_error ? m->result.error : 0);
		h->stats.sessions_closed_by_peer++;
		lnsd_session_free(s);
		break;
	case L2TP_MSG_WEN:
	case L2TP_MSG_SLI:
		break; /* accepted and ignored (l2tp.md 3) */
	default: {
		int missing;
		if (l2tp_msg_check(m, &missing) < 0) {
			lnsd_session_close(s, L2TP_CDN_GENERAL_ERROR, L2TP_ERR_LENGTH,
					   "missing mandatory AVP", now);
			break;
		}
		h->stats.fsm_errors++;
		lnsd_session_close(s, L2TP_CDN_GENERAL_ERROR, 0, "unexpected message", now);
		break;
	}
	}
}

void lnsd_session_timers(struct lnsd_tunnel *t, uint64_t now)
{
	struct lnsd_session *s = t->sessions, *next;
	for (; s; s = next) {
		next = s->next;
		if (s->deadline && now >= s->deadline) {
			t->h->stats.sessions_timed_out++;
			lnsd_session_close(s, L2TP_CDN_TIMEOUT, 0, "ICCN not received in time", now);
		}
	}
}

uint64_t lnsd_session_next(const struct lnsd_tunnel *t)
{
	uint64_t next = UINT64_MAX;
	for (const struct lnsd_session *s = t->sessions; s; s = s->next)
		if (s->deadline && s->deadline < next)
			next = s->deadline;
	return next;
}
