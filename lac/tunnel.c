/* The control connection, LAC side (RFC 2661 7.2.1 "Control connection states", initiator):
 *
 *   idle --call/SCCRQ--> wait-ctl-reply --SCCRP ok/SCCCN--> established
 *   established --last session gone, idle_timeout--> StopCCN
 *   any --StopCCN rx or tx--> closing (linger: acknowledge retransmitted StopCCN) --> freed
 *   any --retransmission limit--> freed (no StopCCN can get through)
 *
 * Tunnel authentication (4.4.3, 5.1.1) when the LNS entry has a secret: our Challenge goes in
 * SCCRQ and the SCCRP must answer it; the LNS's Challenge in SCCRP is answered in SCCCN.  A
 * missing or wrong response is StopCCN Result 4.  The unknown-M-bit rule of 4.2 is applied to
 * every delivered message.  Every received datagram goes through lacd_input (one drop path). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lacd.h"
#include "roam/auth.h"

static const char *const tunnel_state_names[] = { "idle", "wait-ctl-reply", "established",
						  "closing" };

const char *lacd_tunnel_state_name(int state)
{
	return state >= 0 && state <= LACD_T_CLOSING ? tunnel_state_names[state] : "?";
}

static void codec_opts(const struct lacd_tunnel *t, struct l2tp_codec_opts *o)
{
	memset(o, 0, sizeof(*o));
	if (t->secret_len) {
		o->secret = t->secret;
		o->secret_len = t->secret_len;
	}
	o->ho_vendor = t->h->conf.handoff.vendor_id;
}

static void put_key16(uint8_t *k, uint16_t v)
{
	k[0] = (uint8_t)(v >> 8);
	k[1] = (uint8_t)v;
}

static void lns_key(uint8_t *k, const struct roam_sockaddr *sa)
{
	struct roam_ipaddr a;
	uint16_t port = 0;
	memset(&a, 0, sizeof(a));
	roam_sockaddr_addr(sa, &a, &port);
	roam_ipaddr_key(&a, k);
	put_key16(k + ROAM_IPADDR_KEYLEN, port);
}

/* ---- sending ---- */

static void ctrl_tx(void *ctx, const uint8_t *pkt, size_t len)
{
	struct lacd_tunnel *t = ctx;
	t->h->tx(t->h->tx_arg, &t->peer, pkt, len);
}

int lacd_tunnel_send(struct lacd_tunnel *t, struct l2tp_msg *m, uint64_t now)
{
	uint8_t buf[4096], rv[16];
	struct wbuf w;
	struct l2tp_codec_opts o;
	int r;

	codec_opts(t, &o);
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
		struct lacd_backlog *b;
		if (t->nbacklog >= LACD_BACKLOG_MAX || !(b = malloc(sizeof(*b) + w.len))) {
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
		t->h->stats.tx_backlogged++;
		r = 0;
	}
	if (r < 0)
		goto fail;
	switch (m->type) {
	case L2TP_MSG_SCCRQ: t->h->stats.tx_sccrq++; break;
	case L2TP_MSG_SCCCN: t->h->stats.tx_scccn++; break;
	case L2TP_MSG_STOPCCN: t->h->stats.tx_stopccn++; break;
	case L2TP_MSG_HELLO: t->h->stats.tx_hello++; break;
	case L2TP_MSG_ICRQ: t->h->stats.tx_icrq++; break;
	case L2TP_MSG_ICCN: t->h->stats.tx_iccn++; break;
	case L2TP_MSG_CDN: t->h->stats.tx_cdn++; break;
	default: break;
	}
	return 0;
fail:
	t->h->stats.tx_errors++;
	log_warnx("tunnel %u: cannot send %s: %s", t->id, l2tp_msg_name(m->type), strerror(-r));
	return r;
}

/* Moves backlogged messages into the channel while it has room. */
static void backlog_flush(struct lacd_tunnel *t, uint64_t now)
{
	while (t->backlog) {
		struct lacd_backlog *b = t->backlog;
		int r = l2tp_ctrl_send(&t->ctrl, b->pkt, b->len, now);
		if (r == -ENOBUFS)
			return;
		if (r < 0)
			t->h->stats.tx_errors++;
		t->backlog = b->next;
		t->nbacklog--;
		free(b);
	}
}

static void backlog_free(struct lacd_tunnel *t)
{
	while (t->backlog) {
		struct lacd_backlog *b = t->backlog;
		t->backlog = b->next;
		free(b);
	}
	t->nbacklog = 0;
}

static struct l2tp_msg *new_msg(struct lacd *h, uint16_t type)
{
	memset(&h->txm, 0, sizeof(h->txm));
	h->txm.type = type;
	h->txm.unknown_mandatory = -1;
	return &h->txm;
}

/* No new call may use a closing tunnel. */
static void unlink_lns(struct lacd_tunnel *t)
{
	if (table_node_linked(&t->lnode))
		table_remove(&t->h->by_lns, &t->lnode);
}

static void fail_sessions(struct lacd_tunnel *t)
{
	while (t->sessions) {
		if (t->sessions->state != LACD_S_ESTABLISHED)
			t->h->stats.calls_failed++;
		lacd_session_free(t->sessions);
	}
}

void lacd_tunnel_stop(struct lacd_tunnel *t, uint16_t result, uint16_t error, const char *msg,
		      uint64_t now)
{
	struct lacd *h = t->h;
	if (t->state == LACD_T_CLOSING || t->dead)
		return;
	unlink_lns(t);
	fail_sessions(t);
	if (!t->peer_id) {
		/* No SCCRP yet: the LNS does not know our tunnel.  Nothing to send to. */
		log_info("tunnel %u: abandoned before SCCRP", t->id);
		t->dead = true;
		h->stats.tunnels_closed_local++;
		return;
	}
	struct l2tp_msg *m = new_msg(h, L2TP_MSG_STOPCCN);
	m->avps = L2TP_AVP_BIT(L2TP_AVP_ASSIGNED_TUNNEL_ID) | L2TP_AVP_BIT(L2TP_AVP_RESULT_CODE);
	m->assigned_tunnel_id = t->id;
	m->result.result = result;
	if (error || msg) {
		m->result.has_error = 1;
		m->result.error = error;
	}
	if (msg)
		l2tp_bytes_str(&m->result.msg, msg);
	log_info("tunnel %u (%s): StopCCN result %u error %u%s%s", t->id, t->host_name, result,
		 error, msg ? ": " : "", msg ? msg : "");
	lacd_tunnel_send(t, m, now);
	t->state = LACD_T_CLOSING;
	t->close_result = result;
	t->deadline = now + h->conf.tunnel.linger;
	h->stats.tunnels_closed_local++;
}

/* ---- tunnel objects ---- */

struct lacd_tunnel *lacd_tunnel_find(struct lacd *h, uint16_t id)
{
	uint8_t k[2];
	put_key16(k, id);
	struct table_node *n = table_lookup(&h->tunnels, k, 2);
	return n ? table_entry(n, struct lacd_tunnel, node) : NULL;
}

static void tunnel_release(struct lacd_tunnel *t)
{
	struct lacd *h = t->h;
	fail_sessions(t);
	h->stats.ctrl_retransmits += t->ctrl.stats.tx_retransmits;
	h->stats.ctrl_duplicates += t->ctrl.stats.rx_duplicate;
	backlog_free(t);
	l2tp_ctrl_free(&t->ctrl);
	unlink_lns(t);
	if (table_node_linked(&t->tnode))
		table_remove(&h->timers, &t->tnode);
	explicit_bzero(t->secret, sizeof(t->secret));
}

static void tunnel_free(struct lacd_tunnel *t)
{
	struct lacd *h = t->h;
	tunnel_release(t);
	if (table_node_linked(&t->node))
		table_remove(&h->tunnels, &t->node);
	h->stats.tunnels_freed++;
	log_debug("tunnel %u freed", t->id);
	free(t);
}

void lacd_tunnel_arm(struct lacd_tunnel *t)
{
	struct lacd *h = t->h;
	uint64_t next = l2tp_ctrl_next_timeout(&t->ctrl);
	if (t->deadline && t->deadline < next)
		next = t->deadline;
	if (t->state == LACD_T_ESTABLISHED) {
		/* While a message is outstanding its retransmissions are the keepalive. */
		uint64_t hello = t->ctrl.last_rx_ms + h->conf.tunnel.hello_interval;
		if (l2tp_ctrl_idle(&t->ctrl) && hello < next)
			next = hello;
		uint64_t s = lacd_session_next(t);
		if (s < next)
			next = s;
	}
	if (next == UINT64_MAX)
		next = 0;
	else if (next <= h->now)
		next = h->now + 1; /* never re-run within the same table_expire pass */
	if (!table_node_linked(&t->tnode) && table_insert(&h->timers, &t->tnode, t->key, 2) < 0)
		return;
	table_set_expiry(&h->timers, &t->tnode, next);
}

void lacd_tunnel_done(struct lacd_tunnel *t)
{
	if (t->dead) {
		tunnel_free(t);
		return;
	}
	backlog_flush(t, t->h->now);
	lacd_tunnel_arm(t);
}

void lacd_tunnel_session_gone(struct lacd_tunnel *t, uint64_t now)
{
	if (t->nsessions == 0 && t->state == LACD_T_ESTABLISHED)
		t->deadline = now + t->h->conf.tunnel.idle_timeout;
}

static void tunnel_deliver(void *ctx, const uint8_t *pkt, size_t len);

static uint16_t alloc_tunnel_id(struct lacd *h)
{
	for (int i = 0; i < 64; i++) {
		uint16_t id;
		if (auth_random(&id, sizeof(id)) < 0)
			return 0;
		if (id && !lacd_tunnel_find(h, id))
			return id;
	}
	return 0;
}

/* SCCRQ (RFC 2661 6.1). */
static int send_sccrq(struct lacd_tunnel *t, uint64_t now)
{
	struct lacd *h = t->h;
	struct l2tp_msg *m = new_msg(h, L2TP_MSG_SCCRQ);
	m->avps = L2TP_AVP_BIT(L2TP_AVP_PROTOCOL_VERSION) | L2TP_AVP_BIT(L2TP_AVP_HOST_NAME) |
		  L2TP_AVP_BIT(L2TP_AVP_FRAMING_CAP) | L2TP_AVP_BIT(L2TP_AVP_BEARER_CAP) |
		  L2TP_AVP_BIT(L2TP_AVP_ASSIGNED_TUNNEL_ID) |
		  L2TP_AVP_BIT(L2TP_AVP_RECV_WINDOW_SIZE) | L2TP_AVP_BIT(L2TP_AVP_FIRMWARE_REV) |
		  L2TP_AVP_BIT(L2TP_AVP_VENDOR_NAME);
	m->proto_ver = 1;
	m->proto_rev = 0;
	m->framing_cap = L2TP_FRAMING_SYNC | L2TP_FRAMING_ASYNC;
	m->bearer_cap = L2TP_BEARER_DIGITAL | L2TP_BEARER_ANALOG;
	l2tp_bytes_str(&m->host_name, h->conf.host_name);
	l2tp_bytes_str(&m->vendor_name, "roam");
	m->firmware_rev = 0x0100;
	m->assigned_tunnel_id = t->id;
	m->recv_window = h->conf.tunnel.receive_window;
	if (t->secret_len) {
		int r = auth_random(t->challenge, sizeof(t->challenge));
		if (r < 0)
			return r;
		l2tp_bytes_set(&m->challenge, t->challenge, sizeof(t->challenge));
		m->avps |= L2TP_AVP_BIT(L2TP_AVP_CHALLENGE);
	}
	return lacd_tunnel_send(t, m, now);
}

int lacd_tunnel_get(struct lacd *h, const struct roam_sockaddr *lns, const uint8_t *secret,
		    size_t secret_len, bool hide, uint64_t now, struct lacd_tunnel **out)
{
	uint8_t lk[ROAM_IPADDR_KEYLEN + 2];
	char b[ROAM_ADDRSTRLEN];
	lns_key(lk, lns);
	struct table_node *n = table_lookup(&h->by_lns, lk, sizeof(lk));
	if (n) {
		*out = table_entry(n, struct lacd_tunnel, lnode);
		return 0;
	}
	if (h->stopping)
		return -ESHUTDOWN;
	if (table_count(&h->tunnels) >= h->conf.tunnel.max_tunnels)
		return -ENOSPC;
	if (secret_len > sizeof(((struct lacd_tunnel *)0)->secret))
		return -EINVAL;
	struct lacd_tunnel *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->h = h;
	if (!(t->id = alloc_tunnel_id(h))) {
		free(t);
		return -ENOMEM;
	}
	put_key16(t->key, t->id);
	memcpy(t->lkey, lk, sizeof(lk));
	t->peer = *lns;
	if (secret_len) {
		memcpy(t->secret, secret, secret_len);
		t->secret_len = secret_len;
		t->hide = hide;
	}
	t->created = now;
	t->deadline = now + h->conf.tunnel.setup_timeout;
	t->state = LACD_T_WAIT_CTL_REPLY;
	struct l2tp_ctrl_cfg cc;
	l2tp_ctrl_cfg_default(&cc);
	cc.recv_window = h->conf.tunnel.receive_window;
	cc.rto_initial_ms = h->conf.tunnel.retransmit_initial;
	cc.rto_max_ms = h->conf.tunnel.retransmit_max;
	cc.max_retries = h->conf.tunnel.max_retries;
	l2tp_ctrl_init(&t->ctrl, &cc, ctrl_tx, tunnel_deliver, t, now);
	if (table_insert(&h->tunnels, &t->node, t->key, 2) < 0 ||
	    table_insert(&h->by_lns, &t->lnode, t->lkey, sizeof(t->lkey)) < 0) {
		tunnel_release(t);
		if (table_node_linked(&t->node))
			table_remove(&h->tunnels, &t->node);
		free(t);
		return -ENOMEM;
	}
	h->stats.tunnels_requested++;
	log_info("tunnel %u: SCCRQ to %s%s", t->id, roam_sockaddr_fmt(lns, b, sizeof(b)),
		 t->secret_len ? ", authenticating" : "");
	int r = send_sccrq(t, now);
	if (r < 0) {
		tunnel_free(t);
		h->stats.tunnels_freed--;
		return r;
	}
	lacd_tunnel_arm(t);
	*out = t;
	return 0;
}

/* ---- received control messages (in order, exactly once) ---- */

static void handle_sccrp(struct lacd_tunnel *t, const struct l2tp_msg *m, uint64_t now)
{
	struct lacd *h = t->h;
	uint8_t resp[AUTH_MD5_LEN];

	if (t->state != LACD_T_WAIT_CTL_REPLY) {
		h->stats.fsm_errors++;
		lacd_tunnel_stop(t, L2TP_STOPCCN_FSM_ERROR, 0, "unexpected SCCRP", now);
		return;
	}
	if (l2tp_bytes_to_str(&m->host_name, t->host_name, sizeof(t->host_name)) < 0)
		snprintf(t->host_name, sizeof(t->host_name), "?");
	/* The LNS's id first: every answer, StopCCN included, goes to it. */
	t->peer_id = m->assigned_tunnel_id;
	l2tp_ctrl_set_peer(&t->ctrl, t->peer_id,
			   (m->avps & L2TP_AVP_BIT(L2TP_AVP_RECV_WINDOW_SIZE)) ? m->recv_window : 0);
	if (m->proto_ver != 1 || m->proto_rev != 0) {
		lacd_tunnel_stop(t, L2TP_STOPCCN_BAD_VERSION, 0x0100, "protocol version 1.0 only",
				 now);
		return;
	}
	if (t->secret_len) {
		if (!(m->avps & L2TP_AVP_BIT(L2TP_AVP_CHALLENGE_RESPONSE)) ||
		    l2tp_challenge_verify(L2TP_MSG_SCCRP, t->secret, t->secret_len, t->challenge,
					  sizeof(t->challenge), m->challenge_response) < 0) {
			h->stats.tunnels_auth_failed++;
			log_warnx("tunnel %u (%s): challenge response %s: refused", t->id,
				  t->host_name,
				  (m->avps & L2TP_AVP_BIT(L2TP_AVP_CHALLENGE_RESPONSE)) ? "wrong"
											: "missing");
			lacd_tunnel_stop(t, L2TP_STOPCCN_NOT_AUTHORIZED, 0,
					 "challenge response does not verify", now);
			return;
		}
		if (!(m->avps & L2TP_AVP_BIT(L2TP_AVP_CHALLENGE))) {
			h->stats.tunnels_auth_failed++;
			lacd_tunnel_stop(t, L2TP_STOPCCN_NOT_AUTHORIZED, 0,
					 "challenge authentication required", now);
			return;
		}
	} else if (m->avps & L2TP_AVP_BIT(L2TP_AVP_CHALLENGE)) {
		h->stats.tunnels_auth_failed++;
		log_warnx("tunnel %u (%s): the LNS wants authentication and no secret is "
			  "configured", t->id, t->host_name);
		lacd_tunnel_stop(t, L2TP_STOPCCN_NOT_AUTHORIZED, 0, "no secret for this peer", now);
		return;
	}
	struct l2tp_msg *r = new_msg(h, L2TP_MSG_SCCCN);
	if (t->secret_len) {
		if (l2tp_challenge_response(L2TP_MSG_SCCCN, t->secret, t->secret_len,
					    m->challenge.p, m->challenge.len, resp) < 0) {
			lacd_tunnel_stop(t, L2TP_STOPCCN_GENERAL_ERROR, L2TP_ERR_RESOURCES, NULL, now);
			return;
		}
		r = new_msg(h, L2TP_MSG_SCCCN);
		memcpy(r->challenge_response, resp, sizeof(resp));
		r->avps = L2TP_AVP_BIT(L2TP_AVP_CHALLENGE_RESPONSE);
		t->authenticated = true;
		h->stats.tunnels_authenticated++;
	}
	if (lacd_tunnel_send(t, r, now) < 0) {
		lacd_tunnel_stop(t, L2TP_STOPCCN_GENERAL_ERROR, L2TP_ERR_RESOURCES, NULL, now);
		return;
	}
	t->state = LACD_T_ESTABLISHED;
	t->established = now;
	t->deadline = 0;
	h->stats.tunnels_established++;
	log_info("tunnel %u to %s established (its id %u)%s", t->id, t->host_name, t->peer_id,
		 t->authenticated ? ", authenticated" : "");
	lacd_session_tunnel_up(t, now);
	lacd_tunnel_session_gone(t, now); /* no call waiting: idle timer */
}

static void handle_stopccn(struct lacd_tunnel *t, const struct l2tp_msg *m, uint64_t now)
{
	struct lacd *h = t->h;
	if (t->state == LACD_T_CLOSING)
		return;
	log_info("tunnel %u (%s): StopCCN from peer, result %u error %u", t->id, t->host_name,
		 m->result.result, m->result.has_error ? m->result.error : 0);
	if (t->state == LACD_T_WAIT_CTL_REPLY)
		h->stats.tunnels_refused_by_peer++;
	if (m->avps & L2TP_AVP_BIT(L2TP_AVP_ASSIGNED_TUNNEL_ID) && !t->peer_id) {
		t->peer_id = m->assigned_tunnel_id;
		l2tp_ctrl_set_peer(&t->ctrl, t->peer_id, t->ctrl.peer_window);
	}
	unlink_lns(t);
	fail_sessions(t);
	t->state = LACD_T_CLOSING;
	t->stop_by_peer = true;
	t->close_result = m->result.result;
	t->deadline = now + h->conf.tunnel.linger;
	h->stats.tunnels_closed_by_peer++;
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
	struct lacd_tunnel *t = ctx;
	struct lacd *h = t->h;
	struct l2tp_msg *m = &h->rx;
	struct l2tp_codec_opts o;
	uint64_t now = h->now;
	int missing;
	char what[64];

	if (t->dead)
		return;
	codec_opts(t, &o);
	if (l2tp_msg_decode(pkt, len, &o, m) < 0)
		return;
	switch (m->type) {
	case L2TP_MSG_SCCRP: h->stats.rx_sccrp++; break;
	case L2TP_MSG_STOPCCN: h->stats.rx_stopccn++; break;
	case L2TP_MSG_HELLO: h->stats.rx_hello++; break;
	case L2TP_MSG_ICRP: h->stats.rx_icrp++; break;
	case L2TP_MSG_CDN: h->stats.rx_cdn++; break;
	default: h->stats.rx_other++; break;
	}
	log_debug("tunnel %u: %s received (session %u)", t->id, l2tp_msg_name(m->type),
		  m->session_id);
	if (t->state == LACD_T_CLOSING)
		return;
	if (!is_known_msg(m->type)) {
		if (m->type_mandatory) {
			h->stats.unknown_mandatory_avp++;
			snprintf(what, sizeof(what), "unknown message type %u", m->type);
			lacd_tunnel_stop(t, L2TP_STOPCCN_GENERAL_ERROR, L2TP_ERR_UNKNOWN_MANDATORY,
					 what, now);
		} else {
			h->stats.rx_unknown_ignored++;
		}
		return;
	}
	if (m->unknown_mandatory >= 0) {
		h->stats.unknown_mandatory_avp++;
		if (m->unknown_mandatory < L2TP_MAX_UNKNOWN)
			snprintf(what, sizeof(what), "vendor %u type %u",
				 m->unknown[m->unknown_mandatory].vendor,
				 m->unknown[m->unknown_mandatory].type);
		else
			snprintf(what, sizeof(what), "unknown mandatory AVP");
		struct lacd_session *s = is_session_msg(m->type)
						 ? lacd_session_find(h, t->id, m->session_id)
						 : NULL;
		if (s)
			lacd_session_close(s, L2TP_CDN_GENERAL_ERROR, L2TP_ERR_UNKNOWN_MANDATORY,
					   what, now);
		else if (!is_session_msg(m->type))
			lacd_tunnel_stop(t, L2TP_STOPCCN_GENERAL_ERROR, L2TP_ERR_UNKNOWN_MANDATORY,
					 what, now);
		return;
	}
	if (l2tp_msg_check(m, &missing) < 0) {
		snprintf(what, sizeof(what), "%s without %s", l2tp_msg_name(m->type),
			 l2tp_avp_name((uint16_t)missing));
		log_warnx("tunnel %u (%s): %s", t->id, t->host_name, what);
		if (is_session_msg(m->type)) {
			struct lacd_session *s = lacd_session_find(h, t->id, m->session_id);
			if (s)
				lacd_session_close(s, L2TP_CDN_GENERAL_ERROR, L2TP_ERR_LENGTH, what,
						   now);
		} else {
			lacd_tunnel_stop(t, L2TP_STOPCCN_GENERAL_ERROR, L2TP_ERR_LENGTH, what, now);
		}
		return;
	}
	switch (m->type) {
	case L2TP_MSG_SCCRP: handle_sccrp(t, m, now); break;
	case L2TP_MSG_STOPCCN: handle_stopccn(t, m, now); break;
	case L2TP_MSG_HELLO: break;
	case L2TP_MSG_SCCRQ:
	case L2TP_MSG_SCCCN:
		h->stats.fsm_errors++;
		lacd_tunnel_stop(t, L2TP_STOPCCN_FSM_ERROR, 0, "unexpected message", now);
		break;
	default:
		if (t->state != LACD_T_ESTABLISHED) {
			h->stats.fsm_errors++;
			lacd_tunnel_stop(t, L2TP_STOPCCN_FSM_ERROR, 0,
					 "session message before the tunnel is up", now);
			break;
		}
		lacd_session_msg(t, m, now);
		break;
	}
}

/* ---- the receive path: one drop path ---- */

void lacd_input(struct lacd *h, const uint8_t *pkt, size_t len, const struct roam_sockaddr *src,
		uint64_t now)
{
	struct l2tp_hdr hdr;
	struct l2tp_codec_opts o;
	struct lacd_tunnel *t = NULL;
	struct roam_ipaddr a, pa;
	uint16_t port = 0, pport = 0;
	const char *why;
	char b[ROAM_ADDRSTRLEN];
	uint32_t suppressed;
	int r;

	h->stats.rx_packets++;
	h->now = now;
	memset(&a, 0, sizeof(a));
	roam_sockaddr_addr(src, &a, &port);
	r = l2tp_hdr_decode(pkt, len, &hdr);
	if (r == -EPROTONOSUPPORT) {
		h->stats.drop_bad_version++;
		why = "not L2TPv2";
		goto drop;
	}
	if (r < 0) {
		h->stats.drop_malformed++;
		why = "malformed header";
		goto drop;
	}
	if (!(hdr.flags & L2TP_HDR_T)) {
		h->stats.rx_data++;
		struct lacd_session *s = lacd_session_find(h, hdr.tunnel_id, hdr.session_id);
		if (!s || !roam_sockaddr_eq(&s->t->peer, src)) {
			h->stats.drop_unknown_session++;
			why = "data for an unknown session";
			goto drop;
		}
		s->rx_data++;
		/* PPP frames go to the access link with the PPP data path (issue 4, next step). */
		h->stats.drop_data_unhandled++;
		return;
	}
	h->stats.rx_control++;
	if (hdr.tunnel_id == 0) {
		/* roam's LAC only initiates (l2tp.md 9): an SCCRQ to it is not answered. */
		h->stats.drop_tunnel_id_zero++;
		why = "tunnel id 0 (a LAC accepts no SCCRQ)";
		goto drop;
	}
	t = lacd_tunnel_find(h, hdr.tunnel_id);
	if (!t) {
		h->stats.drop_unknown_tunnel++;
		why = "unknown tunnel id";
		goto drop;
	}
	memset(&pa, 0, sizeof(pa));
	roam_sockaddr_addr(&t->peer, &pa, &pport);
	if (!roam_ipaddr_eq(&a, &pa) ||
	    (pport != port && t->state != LACD_T_WAIT_CTL_REPLY)) {
		h->stats.drop_wrong_peer++;
		t = NULL;
		why = "tunnel id of another peer";
		goto drop;
	}
	codec_opts(t, &o);
	r = l2tp_msg_decode(pkt, len, &o, &h->rx);
	if (r < 0) {
		if (r == -ENOKEY)
			h->stats.drop_hidden_no_key++;
		else
			h->stats.drop_malformed++;
		why = r == -ENOKEY ? "hidden AVP without a secret" : "malformed message";
		goto drop;
	}
	if (pport != port) /* RFC 2661 8.1: the LNS may answer from another port */
		t->peer = *src;
	if (h->rx.type == L2TP_MSG_ZLB)
		h->stats.rx_zlb++;
	if (l2tp_ctrl_input(&t->ctrl, pkt, len, now) == -ENOMEM)
		h->stats.drop_ctrl_nomem++;
	lacd_tunnel_done(t);
	return;
drop:
	if (log_rl_allow(&h->drop_rl, now, &suppressed))
		log_warnx("drop %zu bytes from %s:%u: %s (%u more not logged)", len,
			  roam_ipaddr_fmt(&a, b, sizeof(b)), port, why, suppressed);
	if (t)
		lacd_tunnel_done(t);
}

/* ---- timers ---- */

static void tunnel_timer(struct lacd_tunnel *t, uint64_t now)
{
	struct lacd *h = t->h;
	if (l2tp_ctrl_tick(&t->ctrl, now) == -ETIMEDOUT) {
		log_warnx("tunnel %u (%s): peer unreachable (no acknowledgement): torn down", t->id,
			  t->host_name);
		if (t->state != LACD_T_CLOSING)
			h->stats.tunnels_timed_out++;
		fail_sessions(t);
		t->dead = true;
		return;
	}
	if (t->deadline && now >= t->deadline) {
		switch (t->state) {
		case LACD_T_CLOSING:
			t->dead = true;
			return;
		case LACD_T_WAIT_CTL_REPLY:
			h->stats.tunnels_timed_out++;
			lacd_tunnel_stop(t, L2TP_STOPCCN_GENERAL_ERROR, 0, "set-up timed out", now);
			return;
		default:
			if (t->nsessions == 0) {
				h->stats.tunnels_closed_idle++;
				lacd_tunnel_stop(t, L2TP_STOPCCN_CLEAR, 0, "no session left", now);
				return;
			}
			t->deadline = 0;
			break;
		}
	}
	if (t->state == LACD_T_ESTABLISHED) {
		lacd_session_timers(t, now);
		if (l2tp_ctrl_idle(&t->ctrl) &&
		    l2tp_ctrl_hello_due(&t->ctrl, now, h->conf.tunnel.hello_interval)) {
			lacd_tunnel_send(t, new_msg(h, L2TP_MSG_HELLO), now);
			t->ctrl.last_rx_ms = now;
		}
	}
}

static void timer_expired(struct table *tab, struct table_node *n, void *arg)
{
	(void)tab;
	struct lacd *h = arg;
	struct lacd_tunnel *t = table_entry(n, struct lacd_tunnel, tnode);
	tunnel_timer(t, h->now);
	lacd_tunnel_done(t);
}

void lacd_run_timers(struct lacd *h, uint64_t now)
{
	h->now = now;
	table_expire(&h->timers, now);
}

uint64_t lacd_next_timer(struct lacd *h)
{
	return table_next_expiry(&h->timers);
}

/* ---- whole-daemon operations ---- */

struct stop_ctx {
	uint16_t result;
	uint64_t now;
	struct lacd_tunnel *dead[64];
	unsigned ndead;
};

static int stop_one(struct table_node *n, void *arg)
{
	struct stop_ctx *c = arg;
	struct lacd_tunnel *t = table_entry(n, struct lacd_tunnel, node);
	lacd_tunnel_stop(t, c->result, 0,
			 c->result == L2TP_STOPCCN_SHUTTING_DOWN ? "shutting down" : NULL, c->now);
	if (t->dead) {
		/* Freed after the walk (only the current node may be removed, and we do not
		 * want to free it under table_foreach's feet). */
		if (c->ndead < 64)
			c->dead[c->ndead++] = t;
		return 0;
	}
	lacd_tunnel_arm(t);
	return 0;
}

void lacd_stop_all(struct lacd *h, uint16_t result, uint64_t now)
{
	struct stop_ctx c;
	memset(&c, 0, sizeof(c));
	c.result = result;
	c.now = now;
	do {
		c.ndead = 0;
		table_foreach(&h->tunnels, stop_one, &c);
		for (unsigned i = 0; i < c.ndead; i++)
			tunnel_free(c.dead[i]);
	} while (c.ndead == 64);
}

static int idle_one(struct table_node *n, void *arg)
{
	(void)arg;
	struct lacd_tunnel *t = table_entry(n, struct lacd_tunnel, node);
	return (t->backlog || !l2tp_ctrl_idle(&t->ctrl)) && !t->ctrl.failed;
}

int lacd_all_idle(struct lacd *h)
{
	return table_foreach(&h->tunnels, idle_one, NULL) == 0;
}

static void free_cb(struct table *tab, struct table_node *n, void *arg)
{
	(void)tab;
	(void)arg;
	struct lacd_tunnel *t = table_entry(n, struct lacd_tunnel, node);
	tunnel_release(t);
	free(t);
}

int lacd_core_init(struct lacd *h)
{
	int r;
	if ((r = table_init(&h->tunnels, NULL, free_cb, h)) < 0)
		return r;
	if ((r = table_init(&h->by_lns, NULL, NULL, h)) < 0 ||
	    (r = table_init(&h->timers, timer_expired, NULL, h)) < 0 ||
	    (r = table_init(&h->sessions, NULL, NULL, h)) < 0 ||
	    (r = table_init(&h->by_min, NULL, NULL, h)) < 0) {
		table_destroy(&h->tunnels);
		table_destroy(&h->by_lns);
		table_destroy(&h->timers);
		table_destroy(&h->sessions);
		return r;
	}
	h->tables_ready = true;
	if (!h->drop_rl.burst) {
		h->drop_rl.burst = 10;
		h->drop_rl.interval_ms = 1000;
	}
	return 0;
}

void lacd_core_destroy(struct lacd *h)
{
	if (!h->tables_ready)
		return;
	table_destroy(&h->tunnels);
	table_destroy(&h->by_lns);
	table_destroy(&h->timers);
	table_destroy(&h->sessions);
	table_destroy(&h->by_min);
	h->tables_ready = false;
}
