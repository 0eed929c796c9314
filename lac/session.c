/* Incoming calls, LAC side (RFC 2661 7.4.1 "LAC Incoming Call States"):
 *
 *   idle --call--> wait-tunnel --tunnel up/ICRQ--> wait-reply --ICRP/ICCN--> established
 *   any --CDN rx--> freed;  any --hangup/CDN tx--> freed;  wait-reply --timeout--> CDN
 *
 * The call is identified by the mobile's MIN (Calling Number AVP); one call per MIN.  When the
 * last call of a tunnel ends, the tunnel's idle timer starts (tunnel.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lacd.h"
#include "roam/auth.h"

static const char *const session_state_names[] = { "idle", "wait-tunnel", "wait-reply",
						   "established" };

const char *lacd_session_state_name(int state)
{
	return state >= 0 && state <= LACD_S_ESTABLISHED ? session_state_names[state] : "?";
}

static void skey(uint8_t *k, uint16_t tid, uint16_t sid)
{
	k[0] = (uint8_t)(tid >> 8);
	k[1] = (uint8_t)tid;
	k[2] = (uint8_t)(sid >> 8);
	k[3] = (uint8_t)sid;
}

struct lacd_session *lacd_session_find(struct lacd *h, uint16_t tunnel_id, uint16_t session_id)
{
	uint8_t k[4];
	skey(k, tunnel_id, session_id);
	struct table_node *n = table_lookup(&h->sessions, k, 4);
	return n ? table_entry(n, struct lacd_session, node) : NULL;
}

struct lacd_session *lacd_session_by_min(struct lacd *h, const char *min)
{
	struct table_node *n = table_lookup(&h->by_min, min, strlen(min));
	return n ? table_entry(n, struct lacd_session, mnode) : NULL;
}

void lacd_session_free(struct lacd_session *s)
{
	struct lacd_tunnel *t = s->t;
	for (struct lacd_session **pp = &t->sessions; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	t->nsessions--;
	if (table_node_linked(&s->node))
		table_remove(&t->h->sessions, &s->node);
	if (table_node_linked(&s->mnode))
		table_remove(&t->h->by_min, &s->mnode);
	log_debug("tunnel %u session %u (MIN %s) freed", t->id, s->id, s->min);
	free(s);
}

static struct l2tp_msg *new_msg(struct lacd *h, uint16_t type, uint16_t session_id)
{
	struct l2tp_msg *m = &h->txm;
	memset(m, 0, sizeof(*m));
	m->type = type;
	m->unknown_mandatory = -1;
	m->session_id = session_id;
	return m;
}

void lacd_session_close(struct lacd_session *s, uint16_t result, uint16_t error, const char *msg,
			uint64_t now)
{
	struct lacd_tunnel *t = s->t;
	struct lacd *h = t->h;
	log_info("tunnel %u session %u (MIN %s): %s result %u error %u%s%s", t->id, s->id, s->min,
		 s->state == LACD_S_WAIT_TUNNEL ? "abandoned" : "CDN", result, error,
		 msg ? ": " : "", msg ? msg : "");
	if (s->state != LACD_S_WAIT_TUNNEL) {
		/* CDN (RFC 2661 6.11); before ICRP the LNS's session id is unknown: 0. */
		struct l2tp_msg *m = new_msg(h, L2TP_MSG_CDN, s->peer_id);
		m->avps = L2TP_AVP_BIT(L2TP_AVP_RESULT_CODE) |
			  L2TP_AVP_BIT(L2TP_AVP_ASSIGNED_SESSION_ID);
		m->assigned_session_id = s->id;
		m->result.result = result;
		if (error || msg) {
			m->result.has_error = 1;
			m->result.error = error;
		}
		if (msg)
			l2tp_bytes_str(&m->result.msg, msg);
		lacd_tunnel_send(t, m, now);
	}
	if (s->state == LACD_S_ESTABLISHED)
		h->stats.sessions_closed_local++;
	else
		h->stats.calls_failed++;
	lacd_session_free(s);
	lacd_tunnel_session_gone(t, now);
}

static uint16_t alloc_session_id(struct lacd_tunnel *t)
{
	for (int i = 0; i < 64; i++) {
		uint16_t id;
		if (auth_random(&id, sizeof(id)) < 0)
			return 0;
		if (id && !lacd_session_find(t->h, t->id, id))
			return id;
	}
	return 0;
}

/* ICRQ (RFC 2661 6.8): Assigned Session ID, Call Serial Number, Bearer Type, Calling Number
 * (the MIN). */
static void send_icrq(struct lacd_session *s, uint64_t now)
{
	struct lacd_tunnel *t = s->t;
	struct l2tp_msg *m = new_msg(t->h, L2TP_MSG_ICRQ, 0);
	m->avps = L2TP_AVP_BIT(L2TP_AVP_ASSIGNED_SESSION_ID) | L2TP_AVP_BIT(L2TP_AVP_CALL_SERIAL) |
		  L2TP_AVP_BIT(L2TP_AVP_BEARER_TYPE) | L2TP_AVP_BIT(L2TP_AVP_CALLING_NUMBER);
	m->assigned_session_id = s->id;
	m->call_serial = s->serial;
	m->bearer_type = L2TP_BEARER_DIGITAL;
	l2tp_bytes_str(&m->calling_number, s->min);
	s->state = LACD_S_WAIT_REPLY;
	s->deadline = now + t->h->conf.tunnel.setup_timeout;
	log_info("tunnel %u session %u (MIN %s): ICRQ, serial %u", t->id, s->id, s->min,
		 s->serial);
	lacd_tunnel_send(t, m, now);
}

void lacd_session_tunnel_up(struct lacd_tunnel *t, uint64_t now)
{
	for (struct lacd_session *s = t->sessions; s; s = s->next)
		if (s->state == LACD_S_WAIT_TUNNEL)
			send_icrq(s, now);
}

int lacd_call(struct lacd *h, const char *min, const struct roam_sockaddr *lns, uint64_t now,
	      struct lacd_session **out)
{
	struct roam_sockaddr dst;
	const uint8_t *secret = NULL;
	size_t secret_len = 0;
	bool hide = false;
	struct lacd_tunnel *t;
	int r;

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
	if ((r = lacd_tunnel_get(h, &dst, secret, secret_len, hide, now, &t)) < 0)
		return r;
	if (t->nsessions >= h->conf.tunnel.max_sessions)
		return -ENOSPC;
	struct lacd_session *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	if (!(s->id = alloc_session_id(t))) {
		free(s);
		return -ENOMEM;
	}
	s->t = t;
	snprintf(s->min, sizeof(s->min), "%s", min);
	s->serial = ++h->next_serial;
	s->created = now;
	s->state = LACD_S_WAIT_TUNNEL;
	skey(s->key, t->id, s->id);
	if (table_insert(&h->sessions, &s->node, s->key, 4) < 0 ||
	    table_insert(&h->by_min, &s->mnode, s->min, strlen(s->min)) < 0) {
		if (table_node_linked(&s->node))
			table_remove(&h->sessions, &s->node);
		free(s);
		return -ENOMEM;
	}
	s->next = t->sessions;
	t->sessions = s;
	t->nsessions++;
	if (t->state == LACD_T_ESTABLISHED) {
		t->deadline = 0; /* not idle any more */
		send_icrq(s, now);
	}
	lacd_tunnel_done(t);
	if (out)
		*out = s;
	return 0;
}

int lacd_hangup(struct lacd *h, const char *min, uint16_t result, uint64_t now)
{
	struct lacd_session *s = lacd_session_by_min(h, min);
	if (!s)
		return -ENOENT;
	struct lacd_tunnel *t = s->t;
	lacd_session_close(s, result, 0, NULL, now);
	lacd_tunnel_done(t);
	return 0;
}

static void handle_icrp(struct lacd_session *s, const struct l2tp_msg *m, uint64_t now)
{
	struct lacd_tunnel *t = s->t;
	struct lacd *h = t->h;
	if (s->state != LACD_S_WAIT_REPLY) {
		h->stats.fsm_errors++;
		lacd_session_close(s, L2TP_CDN_GENERAL_ERROR, 0, "unexpected ICRP", now);
		return;
	}
	s->peer_id = m->assigned_session_id;
	/* ICCN (RFC 2661 6.10): (Tx) Connect Speed and Framing Type. */
	struct l2tp_msg *r = new_msg(h, L2TP_MSG_ICCN, s->peer_id);
	r->avps = L2TP_AVP_BIT(L2TP_AVP_TX_CONNECT_SPEED) | L2TP_AVP_BIT(L2TP_AVP_FRAMING_TYPE);
	r->tx_connect_speed = LACD_CONNECT_SPEED;
	r->framing_type = L2TP_FRAMING_ASYNC;
	if (lacd_tunnel_send(t, r, now) < 0) {
		lacd_session_close(s, L2TP_CDN_NO_FACILITIES_TEMP, L2TP_ERR_RESOURCES, NULL, now);
		return;
	}
	s->state = LACD_S_ESTABLISHED;
	s->established = now;
	s->deadline = 0;
	h->stats.sessions_established++;
	log_info("tunnel %u session %u (MIN %s) established (its session %u)", t->id, s->id,
		 s->min, s->peer_id);
}

void lacd_session_msg(struct lacd_tunnel *t, const struct l2tp_msg *m, uint64_t now)
{
	struct lacd *h = t->h;
	struct lacd_session *s = lacd_session_find(h, t->id, m->session_id);
	if (!s) {
		if (m->type == L2TP_MSG_OCRQ && (m->avps &
						 L2TP_AVP_BIT(L2TP_AVP_ASSIGNED_SESSION_ID))) {
			/* roam places no outgoing calls (l2tp.md 3). */
			struct l2tp_msg *r = new_msg(h, L2TP_MSG_CDN, m->assigned_session_id);
			uint16_t id = alloc_session_id(t);
			r->avps = L2TP_AVP_BIT(L2TP_AVP_RESULT_CODE) |
				  L2TP_AVP_BIT(L2TP_AVP_ASSIGNED_SESSION_ID);
			r->assigned_session_id = id ? id : 1;
			r->result.result = L2TP_CDN_NO_FACILITIES_PERM;
			r->result.has_error = 1;
			l2tp_bytes_str(&r->result.msg, "outgoing calls are not supported");
			lacd_tunnel_send(t, r, now);
			return;
		}
		h->stats.drop_unknown_session++;
		log_debug("tunnel %u: %s for unknown session %u", t->id, l2tp_msg_name(m->type),
			  m->session_id);
		return;
	}
	switch (m->type) {
	case L2TP_MSG_ICRP:
		handle_icrp(s, m, now);
		break;
	case L2TP_MSG_CDN:
		log_info("tunnel %u session %u (MIN %s): CDN from peer, result %u error %u", t->id,
			 s->id, s->min, m->result.result,
			 m->result.has_error ? m->result.error : 0);
		if (s->state == LACD_S_ESTABLISHED)
			h->stats.sessions_closed_by_peer++;
		else
			h->stats.calls_failed++;
		lacd_session_free(s);
		lacd_tunnel_session_gone(t, now);
		break;
	default:
		h->stats.fsm_errors++;
		lacd_session_close(s, L2TP_CDN_GENERAL_ERROR, 0, "unexpected message", now);
		break;
	}
}

void lacd_session_timers(struct lacd_tunnel *t, uint64_t now)
{
	struct lacd_session *s = t->sessions, *next;
	for (; s; s = next) {
		next = s->next;
		if (s->deadline && now >= s->deadline) {
			t->h->stats.sessions_timed_out++;
			lacd_session_close(s, L2TP_CDN_TIMEOUT, 0, "ICRP not received in time", now);
		}
	}
}

uint64_t lacd_session_next(const struct lacd_tunnel *t)
{
	uint64_t next = UINT64_MAX;
	for (const struct lacd_session *s = t->sessions; s; s = s->next)
		if (s->deadline && s->deadline < next)
			next = s->deadline;
	return next;
}
