/* The L2TP tunnel both ends share (RFC 2661 5, 7.2.1): sending with a backlog, timers,
 * the receive path with its one drop path, the unknown-M-bit rule of 4.2, StopCCN, tunnel
 * authentication checks, the tunnel and session tables.  See roam/l2tp_tunnel.h; the role
 * (lacd, lnsd) decides the rest through struct l2tp_endpoint_ops. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roam/auth.h"
#include "roam/l2tp_tunnel.h"

static void put_key16(uint8_t *k, uint16_t v)
{
	k[0] = (uint8_t)(v >> 8);
	k[1] = (uint8_t)v;
}

void l2tp_ep_codec_opts(const struct l2tp_endpoint *ep, const struct l2tp_tunnel *t,
			struct l2tp_codec_opts *o)
{
	memset(o, 0, sizeof(*o));
	if (t && t->secret_len) {
		o->secret = t->secret;
		o->secret_len = t->secret_len;
	}
	o->ho_vendor = ep->ho_vendor ? *ep->ho_vendor : 0;
}

void l2tp_result_set(struct l2tp_result *res, uint16_t result, uint16_t error, const char *msg)
{
	res->result = result;
	if (error || msg) {
		res->has_error = 1;
		res->error = error;
	}
	if (msg)
		l2tp_bytes_str(&res->msg, msg);
}

struct l2tp_msg *l2tp_ep_msg(struct l2tp_endpoint *ep, uint16_t type, uint16_t session_id)
{
	memset(&ep->txm, 0, sizeof(ep->txm));
	ep->txm.type = type;
	ep->txm.unknown_mandatory = -1;
	ep->txm.session_id = session_id;
	return &ep->txm;
}

const char *l2tp_tunnel_state_name(const struct l2tp_endpoint *ep, int state)
{
	if (state >= 0 && state <= L2TP_TUN_CLOSING && ep->ops->tunnel_states)
		return ep->ops->tunnel_states[state];
	return "?";
}

const char *l2tp_session_state_name(const struct l2tp_endpoint *ep, int state)
{
	if (state >= 0 && state < ep->ops->nsession_states && ep->ops->session_states)
		return ep->ops->session_states[state];
	return "?";
}

/* ---- sending ---- */

static void ctrl_tx(void *ctx, const uint8_t *pkt, size_t len)
{
	struct l2tp_tunnel *t = ctx;
	t->ep->tx(t->ep->tx_arg, &t->peer, &t->local, pkt, len);
}

int l2tp_tunnel_send(struct l2tp_tunnel *t, struct l2tp_msg *m, uint64_t now)
{
	struct l2tp_endpoint *ep = t->ep;
	uint8_t buf[4096], rv[16];
	struct wbuf w;
	struct l2tp_codec_opts o;
	int r;

	l2tp_ep_codec_opts(ep, t, &o);
	if (t->hide) {
		if ((r = auth_random(rv, sizeof(rv))) < 0)
			goto fail;
		o.hide = ~0ULL;
		o.rv = rv;
		o.rv_len = sizeof(rv);
	}
	m->tunnel_id = t->peer_id;
	wbuf_init_fixed(&w, buf, sizeof(buf));
	if ((r = l2tp_msg_encode(&w, m, &o)) < 0)
		goto fail;
	if (t->backlog || (r = l2tp_ctrl_send(&t->ctrl, buf, w.len, now)) == -ENOBUFS) {
		/* The channel's queue is full (a burst of calls or hangups): keep the message,
		 * in order, until acknowledgements make room. */
		struct l2tp_backlog *b;
		if (t->nbacklog >= L2TP_TUNNEL_BACKLOG_MAX || !(b = malloc(sizeof(*b) + w.len))) {
			r = -ENOBUFS;
			goto fail;
		}
		b->next = NULL;
		b->len = w.len;
		memcpy(b->pkt, buf, w.len);
		if (!t->backlog)
			t->backlog_tail = &t->backlog;
		*t->backlog_tail = b;
		t->backlog_tail = &b->next;
		t->nbacklog++;
		ep->stats.tx_backlogged++;
		r = 0;
	}
	if (r < 0)
		goto fail;
	if (m->type <= L2TP_MSG_SLI)
		ep->stats.tx_msg[m->type]++;
	return 0;
fail:
	ep->stats.tx_errors++;
	log_warnx("tunnel %u: cannot send %s: %s", t->id, l2tp_msg_name(m->type), strerror(-r));
	return r;
}

/* Moves backlogged messages into the channel while it has room. */
static void backlog_flush(struct l2tp_tunnel *t, uint64_t now)
{
	while (t->backlog) {
		struct l2tp_backlog *b = t->backlog;
		int r = l2tp_ctrl_send(&t->ctrl, b->pkt, b->len, now);
		if (r == -ENOBUFS)
			return;
		if (r < 0)
			t->ep->stats.tx_errors++;
		t->backlog = b->next;
		t->nbacklog--;
		free(b);
	}
}

static void backlog_free(struct l2tp_tunnel *t)
{
	while (t->backlog) {
		struct l2tp_backlog *b = t->backlog;
		t->backlog = b->next;
		free(b);
	}
	t->nbacklog = 0;
}

/* t carries no call any more: the role unlinks it, every session goes (without CDN). */
static void clear_sessions(struct l2tp_tunnel *t)
{
	struct l2tp_endpoint *ep = t->ep;
	if (ep->ops->tunnel_closing)
		ep->ops->tunnel_closing(ep->role, t);
	while (t->sessions)
		l2tp_session_free(t->sessions);
}

void l2tp_tunnel_stop(struct l2tp_tunnel *t, uint16_t result, uint16_t error, const char *msg,
		      uint64_t now)
{
	struct l2tp_endpoint *ep = t->ep;
	if (t->state == L2TP_TUN_CLOSING || t->dead)
		return;
	clear_sessions(t);
	ep->stats.tunnels_closed_local++;
	if (!t->peer_id) {
		/* No answer yet: the peer does not know our tunnel.  Nothing to send to. */
		log_info("tunnel %u: abandoned before the peer answered", t->id);
		t->dead = true;
		return;
	}
	struct l2tp_msg *m = l2tp_ep_msg(ep, L2TP_MSG_STOPCCN, 0);
	m->avps = L2TP_AVP_BIT(L2TP_AVP_ASSIGNED_TUNNEL_ID) | L2TP_AVP_BIT(L2TP_AVP_RESULT_CODE);
	m->assigned_tunnel_id = t->id;
	l2tp_result_set(&m->result, result, error, msg);
	log_info("tunnel %u (%s): StopCCN result %u error %u%s%s", t->id, t->host_name, result,
		 error, msg ? ": " : "", msg ? msg : "");
	l2tp_tunnel_send(t, m, now);
	t->state = L2TP_TUN_CLOSING;
	t->close_result = result;
	t->deadline = now + ep->conf->linger;
}

/* ---- tunnel objects ---- */

struct l2tp_tunnel *l2tp_tunnel_find(struct l2tp_endpoint *ep, uint16_t id)
{
	uint8_t k[2];
	put_key16(k, id);
	struct table_node *n = table_lookup(&ep->tunnels, k, 2);
	return n ? table_entry(n, struct l2tp_tunnel, node) : NULL;
}

/* Everything but the tunnels table and the memory. */
static void tunnel_release(struct l2tp_tunnel *t)
{
	struct l2tp_endpoint *ep = t->ep;
	clear_sessions(t);
	if (ep->ops->tunnel_release)
		ep->ops->tunnel_release(ep->role, t);
	ep->stats.ctrl_retransmits += t->ctrl.stats.tx_retransmits;
	ep->stats.ctrl_duplicates += t->ctrl.stats.rx_duplicate;
	ep->stats.ctrl_out_of_order += t->ctrl.stats.rx_queued;
	backlog_free(t);
	l2tp_ctrl_free(&t->ctrl);
	if (table_node_linked(&t->tnode))
		table_remove(&ep->timers, &t->tnode);
	explicit_bzero(t->secret, sizeof(t->secret));
}

void l2tp_tunnel_free(struct l2tp_tunnel *t)
{
	struct l2tp_endpoint *ep = t->ep;
	tunnel_release(t);
	if (table_node_linked(&t->node))
		table_remove(&ep->tunnels, &t->node);
	ep->stats.tunnels_freed++;
	log_debug("tunnel %u freed", t->id);
	free(t);
}

void l2tp_tunnel_arm(struct l2tp_tunnel *t)
{
	struct l2tp_endpoint *ep = t->ep;
	uint64_t next = l2tp_ctrl_next_timeout(&t->ctrl);
	if (t->deadline && t->deadline < next)
		next = t->deadline;
	if (t->state == L2TP_TUN_ESTABLISHED) {
		/* While a message is outstanding its retransmissions are the keepalive. */
		uint64_t hello = t->ctrl.last_rx_ms + ep->conf->hello_interval;
		if (l2tp_ctrl_idle(&t->ctrl) && hello < next)
			next = hello;
		for (const struct l2tp_session *s = t->sessions; s; s = s->next)
			if (s->deadline && s->deadline < next)
				next = s->deadline;
	}
	if (next == UINT64_MAX)
		next = 0;
	else if (next <= ep->now)
		next = ep->now + 1; /* never re-run within the same table_expire pass */
	if (!table_node_linked(&t->tnode) && table_insert(&ep->timers, &t->tnode, t->key, 2) < 0)
		return;
	table_set_expiry(&ep->timers, &t->tnode, next);
}

void l2tp_tunnel_done(struct l2tp_tunnel *t)
{
	if (t->dead) {
		l2tp_tunnel_free(t);
		return;
	}
	backlog_flush(t, t->ep->now);
	l2tp_tunnel_arm(t);
}

static void tunnel_deliver(void *ctx, const uint8_t *pkt, size_t len);

static uint16_t alloc_tunnel_id(struct l2tp_endpoint *ep)
{
	for (int i = 0; i < 64; i++) {
		uint16_t id;
		if (auth_random(&id, sizeof(id)) < 0)
			return 0;
		if (id && !l2tp_tunnel_find(ep, id))
			return id;
	}
	return 0;
}

int l2tp_tunnel_new(struct l2tp_endpoint *ep, size_t size, const struct roam_sockaddr *peer,
		    const struct roam_ipaddr *local, uint16_t peer_id, uint16_t peer_window,
		    const uint8_t *secret, size_t secret_len, bool hide, uint64_t now,
		    struct l2tp_tunnel **out)
{
	if (ep->stopping)
		return -ESHUTDOWN;
	if (table_count(&ep->tunnels) >= ep->conf->max_tunnels)
		return -ENOSPC;
	if (size < sizeof(struct l2tp_tunnel) || secret_len > L2TP_TUNNEL_SECRET_MAX)
		return -EINVAL;
	struct l2tp_tunnel *t = calloc(1, size);
	if (!t)
		return -ENOMEM;
	t->ep = ep;
	if (!(t->id = alloc_tunnel_id(ep))) {
		free(t);
		return -ENOMEM;
	}
	put_key16(t->key, t->id);
	t->peer = *peer;
	if (local)
		t->local = *local;
	if (secret_len) {
		memcpy(t->secret, secret, secret_len);
		t->secret_len = secret_len;
		t->hide = hide;
	}
	t->peer_id = peer_id;
	t->created = now;
	t->deadline = now + ep->conf->setup_timeout;
	struct l2tp_ctrl_cfg cc;
	l2tp_ctrl_cfg_default(&cc);
	cc.recv_window = ep->conf->receive_window;
	cc.rto_initial_ms = ep->conf->retransmit_initial;
	cc.rto_max_ms = ep->conf->retransmit_max;
	cc.max_retries = ep->conf->max_retries;
	l2tp_ctrl_init(&t->ctrl, &cc, ctrl_tx, tunnel_deliver, t, now);
	if (peer_id)
		l2tp_ctrl_set_peer(&t->ctrl, peer_id, peer_window);
	if (table_insert(&ep->tunnels, &t->node, t->key, 2) < 0) {
		l2tp_ctrl_free(&t->ctrl);
		explicit_bzero(t->secret, sizeof(t->secret));
		free(t);
		return -ENOMEM;
	}
	*out = t;
	return 0;
}

void l2tp_tunnel_discard(struct l2tp_tunnel *t)
{
	struct l2tp_endpoint *ep = t->ep;
	l2tp_tunnel_free(t);
	ep->stats.tunnels_freed--; /* never was a tunnel */
}

void l2tp_peer_key(uint8_t *k, const struct roam_sockaddr *peer)
{
	struct roam_ipaddr a;
	uint16_t port = 0;
	memset(&a, 0, sizeof(a));
	roam_sockaddr_addr(peer, &a, &port);
	roam_ipaddr_key(&a, k);
	put_key16(k + ROAM_IPADDR_KEYLEN, port);
}

struct l2tp_msg *l2tp_tunnel_setup_msg(struct l2tp_tunnel *t, uint16_t type, const char *host_name,
				       uint32_t bearer_cap)
{
	struct l2tp_msg *m = l2tp_ep_msg(t->ep, type, 0);
	m->avps = L2TP_AVP_BIT(L2TP_AVP_PROTOCOL_VERSION) | L2TP_AVP_BIT(L2TP_AVP_FRAMING_CAP) |
		  L2TP_AVP_BIT(L2TP_AVP_BEARER_CAP) | L2TP_AVP_BIT(L2TP_AVP_HOST_NAME) |
		  L2TP_AVP_BIT(L2TP_AVP_ASSIGNED_TUNNEL_ID) |
		  L2TP_AVP_BIT(L2TP_AVP_RECV_WINDOW_SIZE) | L2TP_AVP_BIT(L2TP_AVP_FIRMWARE_REV) |
		  L2TP_AVP_BIT(L2TP_AVP_VENDOR_NAME);
	m->proto_ver = 1;
	m->proto_rev = 0;
	m->framing_cap = L2TP_FRAMING_SYNC | L2TP_FRAMING_ASYNC;
	m->bearer_cap = bearer_cap;
	l2tp_bytes_str(&m->host_name, host_name);
	l2tp_bytes_str(&m->vendor_name, "roam");
	m->firmware_rev = 0x0100;
	m->assigned_tunnel_id = t->id;
	m->recv_window = t->ep->conf->receive_window;
	return m;
}

void l2tp_tunnel_established(struct l2tp_tunnel *t, uint64_t now)
{
	t->state = L2TP_TUN_ESTABLISHED;
	t->established = now;
	t->deadline = 0;
	t->ep->stats.tunnels_established++;
	log_info("tunnel %u (%s) established (its id %u)%s", t->id, t->host_name, t->peer_id,
		 t->authenticated ? ", authenticated" : "");
}

void l2tp_tunnel_set_host_name(struct l2tp_tunnel *t, const struct l2tp_msg *m)
{
	if (l2tp_bytes_to_str(&m->host_name, t->host_name, sizeof(t->host_name)) < 0)
		snprintf(t->host_name, sizeof(t->host_name), "?");
}

/* ---- tunnel authentication (RFC 2661 4.4.3, 5.1.1) ---- */

int l2tp_tunnel_new_challenge(struct l2tp_tunnel *t)
{
	return auth_random(t->challenge, sizeof(t->challenge));
}

int l2tp_tunnel_put_challenge(struct l2tp_tunnel *t, struct l2tp_msg *m)
{
	int r = l2tp_tunnel_new_challenge(t);
	if (r < 0)
		return r;
	l2tp_bytes_set(&m->challenge, t->challenge, sizeof(t->challenge));
	m->avps |= L2TP_AVP_BIT(L2TP_AVP_CHALLENGE);
	return 0;
}

int l2tp_tunnel_verify_response(struct l2tp_tunnel *t, uint16_t type, const struct l2tp_msg *m,
				uint64_t now)
{
	bool has = (m->avps & L2TP_AVP_BIT(L2TP_AVP_CHALLENGE_RESPONSE)) != 0;
	if (has && l2tp_challenge_verify(type, t->secret, t->secret_len, t->challenge,
					 sizeof(t->challenge), m->challenge_response) == 0)
		return 0;
	t->ep->stats.tunnels_auth_failed++;
	log_warnx("tunnel %u (%s): challenge response %s: refused", t->id, t->host_name,
		  has ? "wrong" : "missing");
	l2tp_tunnel_stop(t, L2TP_STOPCCN_NOT_AUTHORIZED, 0, "challenge response does not verify",
			 now);
	return -EACCES;
}

int l2tp_tunnel_answer_challenge(struct l2tp_tunnel *t, const struct l2tp_msg *peer,
				 struct l2tp_msg *m)
{
	uint8_t resp[AUTH_MD5_LEN];
	int r = l2tp_challenge_response(m->type, t->secret, t->secret_len, peer->challenge.p,
					peer->challenge.len, resp);
	if (r < 0)
		return r;
	memcpy(m->challenge_response, resp, sizeof(resp));
	m->avps |= L2TP_AVP_BIT(L2TP_AVP_CHALLENGE_RESPONSE);
	return 0;
}

/* ---- received control messages (in order, exactly once) ---- */

static void handle_stopccn(struct l2tp_tunnel *t, const struct l2tp_msg *m, uint64_t now)
{
	struct l2tp_endpoint *ep = t->ep;
	log_info("tunnel %u (%s): StopCCN from peer, result %u error %u", t->id, t->host_name,
		 m->result.result, m->result.has_error ? m->result.error : 0);
	if ((m->avps & L2TP_AVP_BIT(L2TP_AVP_ASSIGNED_TUNNEL_ID)) && !t->peer_id) {
		t->peer_id = m->assigned_tunnel_id;
		l2tp_ctrl_set_peer(&t->ctrl, t->peer_id, t->ctrl.peer_window);
	}
	t->stop_by_peer = true; /* before the role hears of it (a refusal while in set-up) */
	clear_sessions(t);
	t->state = L2TP_TUN_CLOSING;
	t->close_result = m->result.result;
	t->deadline = now + ep->conf->linger;
	ep->stats.tunnels_closed_by_peer++;
	/* The ZLB acknowledging it goes out from the channel's delayed-ack timer. */
}

/* OCRQ: roam places no outgoing calls (RFC 2661 6.7; l2tp.md 3): CDN Result 5 with a
 * throw-away session id, header Session ID = the requester's. */
static void refuse_ocrq(struct l2tp_tunnel *t, const struct l2tp_msg *m, uint64_t now)
{
	t->ep->stats.ocrq_refused++;
	if (!(m->avps & L2TP_AVP_BIT(L2TP_AVP_ASSIGNED_SESSION_ID)))
		return;
	uint16_t id = l2tp_session_alloc_id(t);
	l2tp_session_send_cdn(t, id ? id : 1, m->assigned_session_id,
			      L2TP_CDN_NO_FACILITIES_PERM, 0, "outgoing calls are not supported",
			      now);
}

static int is_session_msg(uint16_t type)
{
	switch (type) {
	case L2TP_MSG_OCRQ: case L2TP_MSG_OCRP: case L2TP_MSG_OCCN: case L2TP_MSG_ICRQ:
	case L2TP_MSG_ICRP: case L2TP_MSG_ICCN: case L2TP_MSG_CDN: case L2TP_MSG_WEN:
	case L2TP_MSG_SLI:
		return 1;
	default:
		return 0;
	}
}

static int is_known_msg(uint16_t type)
{
	return is_session_msg(type) || (type >= L2TP_MSG_SCCRQ && type <= L2TP_MSG_STOPCCN) ||
	       type == L2TP_MSG_HELLO;
}

static void tunnel_deliver(void *ctx, const uint8_t *pkt, size_t len)
{
	struct l2tp_tunnel *t = ctx;
	struct l2tp_endpoint *ep = t->ep;
	const struct l2tp_endpoint_ops *ops = ep->ops;
	struct l2tp_msg *m = &ep->rx;
	struct l2tp_codec_opts o;
	uint64_t now = ep->now;
	int missing;
	char what[64];

	if (t->dead)
		return;
	l2tp_ep_codec_opts(ep, t, &o);
	if (l2tp_msg_decode(pkt, len, &o, m) < 0) /* checked before sequencing: not reached */
		return;
	if (m->type <= L2TP_MSG_SLI && is_known_msg(m->type))
		ep->stats.rx_msg[m->type]++;
	else
		ep->stats.rx_other++;
	log_debug("tunnel %u: %s received (session %u)", t->id, l2tp_msg_name(m->type),
		  m->session_id);
	if (t->state == L2TP_TUN_CLOSING)
		return; /* acknowledged by the channel, nothing else */
	if (!is_known_msg(m->type)) {
		/* RFC 2661 4.2 applied to the Message Type AVP itself. */
		if (m->type_mandatory) {
			ep->stats.unknown_mandatory_avp++;
			snprintf(what, sizeof(what), "unknown message type %u", m->type);
			l2tp_tunnel_stop(t, L2TP_STOPCCN_GENERAL_ERROR, L2TP_ERR_UNKNOWN_MANDATORY,
					 what, now);
		} else {
			ep->stats.rx_unknown_ignored++;
		}
		return;
	}
	if (m->unknown_mandatory >= 0) {
		ep->stats.unknown_mandatory_avp++;
		if (m->unknown_mandatory < L2TP_MAX_UNKNOWN)
			snprintf(what, sizeof(what), "vendor %u type %u",
				 m->unknown[m->unknown_mandatory].vendor,
				 m->unknown[m->unknown_mandatory].type);
		else
			snprintf(what, sizeof(what), "unknown mandatory AVP");
		if (is_session_msg(m->type)) {
			struct l2tp_session *s = l2tp_session_find(ep, t->id, m->session_id);
			if (s)
				ops->session_close(ep->role, s, L2TP_CDN_GENERAL_ERROR,
						   L2TP_ERR_UNKNOWN_MANDATORY, what, now);
			else if (m->type == L2TP_MSG_ICRQ && t->state == L2TP_TUN_ESTABLISHED)
				ops->session_msg(ep->role, t, NULL, m, now); /* refused there */
		} else {
			l2tp_tunnel_stop(t, L2TP_STOPCCN_GENERAL_ERROR, L2TP_ERR_UNKNOWN_MANDATORY,
					 what, now);
		}
		return;
	}
	if (l2tp_msg_check(m, &missing) < 0) {
		snprintf(what, sizeof(what), "%s without %s", l2tp_msg_name(m->type),
			 l2tp_avp_name((uint16_t)missing));
		log_warnx("tunnel %u (%s): %s", t->id, t->host_name, what);
		if (is_session_msg(m->type)) {
			struct l2tp_session *s = l2tp_session_find(ep, t->id, m->session_id);
			if (s)
				ops->session_close(ep->role, s, L2TP_CDN_GENERAL_ERROR,
						   L2TP_ERR_LENGTH, what, now);
			else if (m->type == L2TP_MSG_ICRQ && t->state == L2TP_TUN_ESTABLISHED)
				ops->session_msg(ep->role, t, NULL, m, now); /* refused there */
		} else {
			l2tp_tunnel_stop(t, L2TP_STOPCCN_GENERAL_ERROR, L2TP_ERR_LENGTH, what, now);
		}
		return;
	}
	switch (m->type) {
	case L2TP_MSG_SCCRQ:
	case L2TP_MSG_SCCRP:
	case L2TP_MSG_SCCCN:
		ops->tunnel_msg(ep->role, t, m, now);
		break;
	case L2TP_MSG_STOPCCN:
		handle_stopccn(t, m, now);
		break;
	case L2TP_MSG_HELLO:
		break; /* the channel acknowledges it */
	default:
		if (t->state != L2TP_TUN_ESTABLISHED) {
			ep->stats.fsm_errors++;
			l2tp_tunnel_stop(t, L2TP_STOPCCN_FSM_ERROR, 0,
					 "session message before the tunnel is up", now);
			break;
		}
		if (m->type == L2TP_MSG_OCRQ) {
			refuse_ocrq(t, m, now);
			break;
		}
		struct l2tp_session *s = NULL;
		if (m->type != L2TP_MSG_ICRQ &&
		    !(s = l2tp_session_find(ep, t->id, m->session_id))) {
			/* A CDN for a call already cleared, or a stray message: acknowledged by
			 * the channel, nothing else (answering would loop). */
			ep->stats.drop_unknown_session++;
			log_debug("tunnel %u: %s for unknown session %u", t->id,
				  l2tp_msg_name(m->type), m->session_id);
			break;
		}
		ops->session_msg(ep->role, t, s, m, now);
		break;
	}
}

/* ---- the receive path: one drop path ---- */

void l2tp_ep_log_drop(struct l2tp_endpoint *ep, size_t len, const struct roam_sockaddr *src,
		      const char *why, uint64_t now)
{
	struct roam_ipaddr a;
	uint16_t port = 0;
	uint32_t suppressed;
	char b[ROAM_ADDRSTRLEN];
	if (!log_rl_allow(&ep->drop_rl, now, &suppressed))
		return;
	memset(&a, 0, sizeof(a));
	roam_sockaddr_addr(src, &a, &port);
	log_warnx("drop %zu bytes from %s:%u: %s (%u more not logged)", len,
		  roam_ipaddr_fmt(&a, b, sizeof(b)), port, why, suppressed);
}

void l2tp_ep_input(struct l2tp_endpoint *ep, const uint8_t *pkt, size_t len,
		   const struct roam_sockaddr *src, const struct roam_ipaddr *dst, uint64_t now)
{
	struct l2tp_hdr hdr;
	struct l2tp_codec_opts o;
	struct l2tp_tunnel *t = NULL;
	struct roam_ipaddr a, pa;
	uint16_t port = 0, pport = 0;
	const char *why;
	int r;

	ep->stats.rx_packets++;
	ep->now = now;
	memset(&a, 0, sizeof(a));
	roam_sockaddr_addr(src, &a, &port);
	r = l2tp_hdr_decode(pkt, len, &hdr);
	if (r == -EPROTONOSUPPORT) {
		ep->stats.drop_bad_version++;
		why = "not L2TPv2";
		goto drop;
	}
	if (r < 0) {
		ep->stats.drop_malformed++;
		why = "malformed header";
		goto drop;
	}
	if (!(hdr.flags & L2TP_HDR_T)) {
		ep->stats.rx_data++;
		struct l2tp_session *s = l2tp_session_find(ep, hdr.tunnel_id, hdr.session_id);
		if (!s || !roam_sockaddr_eq(&s->t->peer, src)) {
			ep->stats.drop_unknown_session++;
			why = "data for an unknown session";
			goto drop;
		}
		s->rx_data++;
		if (hdr.flags & L2TP_HDR_S) {
			/* RFC 2661 5.8: once the peer numbers its data messages, we do too. */
			uint16_t before = s->data_nr;
			s->data_seq = true;
			if (l2tp_data_seq_accept(&s->data_nr, hdr.ns) < 0) {
				s->rx_data_late++;
				return;
			}
			s->rx_data_lost += (uint16_t)(hdr.ns - before);
		}
		if (!ep->ops->session_data || hdr.msg_len <= hdr.hdr_len) {
			ep->stats.drop_data_unhandled++;
			return;
		}
		ep->ops->session_data(ep->role, s, pkt + hdr.hdr_len, hdr.msg_len - hdr.hdr_len,
				      now);
		return;
	}
	ep->stats.rx_control++;
	if (hdr.tunnel_id == 0) {
		/* Only the role knows who may set a tunnel up (and a LAC accepts none). */
		why = ep->ops->new_tunnel(ep->role, pkt, len, src, dst, now, &t);
		if (why)
			goto drop;
	} else {
		t = l2tp_tunnel_find(ep, hdr.tunnel_id);
		if (!t) {
			ep->stats.drop_unknown_tunnel++;
			why = "unknown tunnel id";
			goto drop;
		}
		memset(&pa, 0, sizeof(pa));
		roam_sockaddr_addr(&t->peer, &pa, &pport);
		/* RFC 2661 8.1: the responder may answer the SCCRQ from another port. */
		if (!roam_ipaddr_eq(&a, &pa) ||
		    (pport != port && !(ep->initiator && t->state == L2TP_TUN_SETUP))) {
			ep->stats.drop_wrong_peer++;
			t = NULL;
			why = "tunnel id of another peer";
			goto drop;
		}
		l2tp_ep_codec_opts(ep, t, &o);
		r = l2tp_msg_decode(pkt, len, &o, &ep->rx);
		if (r < 0) {
			if (r == -ENOKEY)
				ep->stats.drop_hidden_no_key++;
			else
				ep->stats.drop_malformed++;
			why = r == -ENOKEY ? "hidden AVP without a secret" : "malformed message";
			goto drop;
		}
		if (pport != port)
			t->peer = *src;
	}
	if (ep->rx.type == L2TP_MSG_ZLB)
		ep->stats.rx_zlb++;
	if (l2tp_ctrl_input(&t->ctrl, pkt, len, now) == -ENOMEM)
		ep->stats.drop_ctrl_nomem++;
	if (t->state == 0 && !t->dead) {
		/* A new tunnel whose first message was not delivered: its Ns was not 0. */
		ep->stats.fsm_errors++;
		t->dead = true;
	}
	l2tp_tunnel_done(t);
	return;
drop:
	l2tp_ep_log_drop(ep, len, src, why, now);
	if (t)
		l2tp_tunnel_done(t);
}

/* ---- timers ---- */

static void session_timers(struct l2tp_tunnel *t, uint64_t now)
{
	struct l2tp_endpoint *ep = t->ep;
	struct l2tp_session *s = t->sessions, *next;
	char what[64];
	for (; s; s = next) {
		next = s->next;
		if (s->deadline && now >= s->deadline) {
			ep->stats.sessions_timed_out++;
			snprintf(what, sizeof(what), "%s not received in time",
				 ep->ops->session_setup_msg ? ep->ops->session_setup_msg
							    : "answer");
			ep->ops->session_close(ep->role, s, L2TP_CDN_TIMEOUT, 0, what, now);
		}
	}
}

static void tunnel_timer(struct l2tp_tunnel *t, uint64_t now)
{
	struct l2tp_endpoint *ep = t->ep;
	if (l2tp_ctrl_tick(&t->ctrl, now) == -ETIMEDOUT) {
		log_warnx("tunnel %u (%s): peer unreachable (no acknowledgement): torn down", t->id,
			  t->host_name);
		if (t->state != L2TP_TUN_CLOSING)
			ep->stats.tunnels_timed_out++;
		clear_sessions(t);
		t->dead = true;
		return;
	}
	if (t->deadline && now >= t->deadline) {
		switch (t->state) {
		case L2TP_TUN_CLOSING:
			t->dead = true;
			return;
		case L2TP_TUN_ESTABLISHED:
			t->deadline = 0;
			if (ep->ops->tunnel_deadline) {
				ep->ops->tunnel_deadline(ep->role, t, now);
				if (t->state != L2TP_TUN_ESTABLISHED || t->dead)
					return;
			}
			break;
		default:
			ep->stats.tunnels_timed_out++;
			l2tp_tunnel_stop(t, L2TP_STOPCCN_GENERAL_ERROR, 0, "set-up timed out", now);
			return;
		}
	}
	if (t->state == L2TP_TUN_ESTABLISHED) {
		session_timers(t, now);
		if (l2tp_ctrl_idle(&t->ctrl) &&
		    l2tp_ctrl_hello_due(&t->ctrl, now, ep->conf->hello_interval)) {
			l2tp_tunnel_send(t, l2tp_ep_msg(ep, L2TP_MSG_HELLO, 0), now);
			/* Restart the silence timer: the HELLO itself is now what must be acked. */
			t->ctrl.last_rx_ms = now;
		}
	}
}

static void timer_expired(struct table *tab, struct table_node *n, void *arg)
{
	(void)tab;
	struct l2tp_endpoint *ep = arg;
	struct l2tp_tunnel *t = table_entry(n, struct l2tp_tunnel, tnode);
	tunnel_timer(t, ep->now);
	l2tp_tunnel_done(t);
}

void l2tp_ep_run_timers(struct l2tp_endpoint *ep, uint64_t now)
{
	ep->now = now;
	table_expire(&ep->timers, now);
}

uint64_t l2tp_ep_next_timer(struct l2tp_endpoint *ep)
{
	return table_next_expiry(&ep->timers);
}

/* ---- whole-endpoint operations ---- */

#define STOP_BATCH 64

struct stop_ctx {
	uint16_t result;
	uint64_t now;
	struct l2tp_tunnel *dead[STOP_BATCH];
	unsigned ndead;
};

static int stop_one(struct table_node *n, void *arg)
{
	struct stop_ctx *c = arg;
	struct l2tp_tunnel *t = table_entry(n, struct l2tp_tunnel, node);
	if (t->dead)
		return 0;
	l2tp_tunnel_stop(t, c->result, 0,
			 c->result == L2TP_STOPCCN_SHUTTING_DOWN ? "shutting down" : NULL, c->now);
	if (t->dead) {
		/* Freed after the walk: not under table_foreach's feet. */
		if (c->ndead < STOP_BATCH)
			c->dead[c->ndead++] = t;
		return c->ndead == STOP_BATCH;
	}
	l2tp_tunnel_arm(t);
	return 0;
}

void l2tp_ep_stop_all(struct l2tp_endpoint *ep, uint16_t result, uint64_t now)
{
	struct stop_ctx c;
	memset(&c, 0, sizeof(c));
	c.result = result;
	c.now = now;
	ep->now = now;
	do {
		c.ndead = 0;
		table_foreach(&ep->tunnels, stop_one, &c);
		for (unsigned i = 0; i < c.ndead; i++)
			l2tp_tunnel_free(c.dead[i]);
	} while (c.ndead == STOP_BATCH);
}

int l2tp_tunnel_stop_id(struct l2tp_endpoint *ep, uint16_t id, uint64_t now)
{
	struct l2tp_tunnel *t = l2tp_tunnel_find(ep, id);
	if (!t)
		return -ENOENT;
	ep->now = now;
	l2tp_tunnel_stop(t, L2TP_STOPCCN_CLEAR, 0, "administrative", now);
	l2tp_tunnel_done(t);
	return 0;
}

static int idle_one(struct table_node *n, void *arg)
{
	(void)arg;
	struct l2tp_tunnel *t = table_entry(n, struct l2tp_tunnel, node);
	return (t->backlog || !l2tp_ctrl_idle(&t->ctrl)) && !t->ctrl.failed;
}

int l2tp_ep_all_idle(struct l2tp_endpoint *ep)
{
	return table_foreach(&ep->tunnels, idle_one, NULL) == 0;
}

static void free_cb(struct table *tab, struct table_node *n, void *arg)
{
	(void)tab;
	(void)arg;
	struct l2tp_tunnel *t = table_entry(n, struct l2tp_tunnel, node);
	tunnel_release(t);
	free(t);
}

int l2tp_ep_init(struct l2tp_endpoint *ep)
{
	int r;
	if ((r = table_init(&ep->tunnels, NULL, free_cb, ep)) < 0)
		return r;
	if ((r = table_init(&ep->timers, timer_expired, NULL, ep)) < 0 ||
	    (r = table_init(&ep->sessions, NULL, NULL, ep)) < 0) {
		table_destroy(&ep->tunnels);
		table_destroy(&ep->timers);
		return r;
	}
	ep->tables_ready = true;
	if (!ep->drop_rl.burst) {
		ep->drop_rl.burst = 10;
		ep->drop_rl.interval_ms = 1000;
	}
	return 0;
}

int l2tp_ep_init_role(struct l2tp_endpoint *ep, const struct l2tp_endpoint_ops *ops, void *role,
		      const struct l2tp_tunnel_conf *conf, const uint16_t *ho_vendor,
		      bool initiator)
{
	ep->ops = ops;
	ep->role = role;
	ep->conf = conf;
	ep->ho_vendor = ho_vendor;
	ep->initiator = initiator;
	return l2tp_ep_init(ep);
}

void l2tp_ep_destroy(struct l2tp_endpoint *ep)
{
	if (!ep->tables_ready)
		return;
	table_destroy(&ep->tunnels); /* frees tunnels and their sessions */
	table_destroy(&ep->timers);
	table_destroy(&ep->sessions);
	ep->tables_ready = false;
}
