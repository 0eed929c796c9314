/* The control connection, LNS side (RFC 2661 7.2.1 "Control connection states", responder):
 *
 *   idle --SCCRQ ok/SCCRP--> wait-ctl-conn --SCCCN ok--> established
 *   any --StopCCN rx or tx--> closing (linger: acknowledge retransmitted StopCCN) --> freed
 *   any --retransmission limit--> freed (no StopCCN can get through)
 *
 * Tunnel authentication (4.4.3, 5.1.1) when the peer has a secret: the LAC's Challenge in
 * SCCRQ is answered in SCCRP, ours (in SCCRP) must be answered correctly in SCCCN, otherwise
 * StopCCN Result 4.  The unknown-M-bit rule of 4.2 is applied to every delivered message.
 * Every received datagram goes through lnsd_input, which has one drop path. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lnsd.h"
#include "roam/auth.h"

static const char *const tunnel_state_names[] = { "idle", "wait-ctl-conn", "established",
						  "closing" };

const char *lnsd_tunnel_state_name(int state)
{
	return state >= 0 && state <= LNSD_T_CLOSING ? tunnel_state_names[state] : "?";
}

static void codec_opts(const struct lnsd_tunnel *t, struct l2tp_codec_opts *o)
{
	memset(o, 0, sizeof(*o));
	if (t && t->secret_len) {
		o->secret = t->secret;
		o->secret_len = t->secret_len;
	}
	o->ho_vendor = t ? t->h->conf.handoff.vendor_id : 0;
}

static void put_key16(uint8_t *k, uint16_t v)
{
	k[0] = (uint8_t)(v >> 8);
	k[1] = (uint8_t)v;
}

/* ---- sending ---- */

static void ctrl_tx(void *ctx, const uint8_t *pkt, size_t len)
{
	struct lnsd_tunnel *t = ctx;
	t->h->tx(t->h->tx_arg, &t->peer, &t->local, pkt, len);
}

/* Encodes m (header ids filled here: Tunnel ID = the peer's) and queues it on t's channel. */
int lnsd_tunnel_send(struct lnsd_tunnel *t, struct l2tp_msg *m, uint64_t now)
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
		struct lnsd_backlog *b;
		if (t->nbacklog >= LNSD_BACKLOG_MAX || !(b = malloc(sizeof(*b) + w.len))) {
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
	case L2TP_MSG_SCCRP: t->h->stats.tx_sccrp++; break;
	case L2TP_MSG_STOPCCN: t->h->stats.tx_stopccn++; break;
	case L2TP_MSG_HELLO: t->h->stats.tx_hello++; break;
	case L2TP_MSG_ICRP: t->h->stats.tx_icrp++; break;
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
static void backlog_flush(struct lnsd_tunnel *t, uint64_t now)
{
	while (t->backlog) {
		struct lnsd_backlog *b = t->backlog;
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

static void backlog_free(struct lnsd_tunnel *t)
{
	while (t->backlog) {
		struct lnsd_backlog *b = t->backlog;
		t->backlog = b->next;
		free(b);
	}
	t->nbacklog = 0;
}

static struct l2tp_msg *new_msg(struct lnsd *h, uint16_t type)
{
	memset(&h->txm, 0, sizeof(h->txm));
	h->txm.type = type;
	h->txm.unknown_mandatory = -1;
	return &h->txm;
}

/* StopCCN (RFC 2661 5.7 / 6.4): clears every session without CDN, lingers to acknowledge. */
void lnsd_tunnel_stop(struct lnsd_tunnel *t, uint16_t result, uint16_t error, const char *msg,
		      uint64_t now)
{
	struct lnsd *h = t->h;
	if (t->state == LNSD_T_CLOSING || t->dead)
		return;
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
	lnsd_tunnel_send(t, m, now);
	while (t->sessions)
		lnsd_session_free(t->sessions);
	t->state = LNSD_T_CLOSING;
	t->close_result = result;
	t->deadline = now + h->conf.tunnel.linger;
	h->stats.tunnels_closed_local++;
}

/* ---- tunnel objects ---- */

struct lnsd_tunnel *lnsd_tunnel_find(struct lnsd *h, uint16_t id)
{
	uint8_t k[2];
	put_key16(k, id);
	struct table_node *n = table_lookup(&h->tunnels, k, 2);
	return n ? table_entry(n, struct lnsd_tunnel, node) : NULL;
}

static void peer_key(uint8_t *k, const struct roam_sockaddr *sa, uint16_t peer_id)
{
	struct roam_ipaddr a;
	uint16_t port = 0;
	memset(&a, 0, sizeof(a));
	roam_sockaddr_addr(sa, &a, &port);
	roam_ipaddr_key(&a, k);
	put_key16(k + ROAM_IPADDR_KEYLEN, port);
	put_key16(k + ROAM_IPADDR_KEYLEN + 2, peer_id);
}

static void tunnel_free(struct lnsd_tunnel *t)
{
	struct lnsd *h = t->h;
	while (t->sessions)
		lnsd_session_free(t->sessions);
	h->stats.ctrl_retransmits += t->ctrl.stats.tx_retransmits;
	h->stats.ctrl_duplicates += t->ctrl.stats.rx_duplicate;
	h->stats.ctrl_out_of_order += t->ctrl.stats.rx_queued;
	backlog_free(t);
	l2tp_ctrl_free(&t->ctrl);
	if (table_node_linked(&t->node))
		table_remove(&h->tunnels, &t->node);
	if (table_node_linked(&t->pnode))
		table_remove(&h->by_peer, &t->pnode);
	if (table_node_linked(&t->tnode))
		table_remove(&h->timers, &t->tnode);
	h->stats.tunnels_freed++;
	log_debug("tunnel %u freed", t->id);
	explicit_bzero(t->secret, sizeof(t->secret));
	free(t);
}

/* The next moment t's timer must run. */
void lnsd_tunnel_arm(struct lnsd_tunnel *t)
{
	struct lnsd *h = t->h;
	uint64_t next = l2tp_ctrl_next_timeout(&t->ctrl);
	if (t->deadline && t->deadline < next)
		next = t->deadline;
	if (t->state == LNSD_T_ESTABLISHED) {
		/* While a message is outstanding its retransmissions are the keepalive. */
		uint64_t hello = t->ctrl.last_rx_ms + h->conf.tunnel.hello_interval;
		if (l2tp_ctrl_idle(&t->ctrl) && hello < next)
			next = hello;
		uint64_t s = lnsd_session_next(t);
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

/* After a call into t: free it if it died, else re-arm its timer. */
static void tunnel_done(struct lnsd_tunnel *t)
{
	if (t->dead) {
		tunnel_free(t);
		return;
	}
	backlog_flush(t, t->h->now);
	lnsd_tunnel_arm(t);
}

static void tunnel_deliver(void *ctx, const uint8_t *pkt, size_t len);

static uint16_t alloc_tunnel_id(struct lnsd *h)
{
	for (int i = 0; i < 64; i++) {
		uint16_t id;
		if (auth_random(&id, sizeof(id)) < 0)
			return 0;
		if (id && !lnsd_tunnel_find(h, id))
			return id;
	}
	return 0;
}

static struct lnsd_tunnel *tunnel_new(struct lnsd *h, const struct roam_sockaddr *src,
				      const struct roam_ipaddr *dst, uint16_t peer_id,
				      uint16_t peer_window, const struct lnsd_conf_peer *p,
				      uint64_t now)
{
	struct lnsd_tunnel *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->h = h;
	t->id = alloc_tunnel_id(h);
	if (!t->id) {
		free(t);
		return NULL;
	}
	put_key16(t->key, t->id);
	t->peer = *src;
	if (p && p->secret.len) {
		/* The SCCRQ is decoded again on delivery: it may carry hidden AVPs. */
		memcpy(t->secret, p->secret.data, p->secret.len);
		t->secret_len = p->secret.len;
	}
	if (dst)
		t->local = *dst;
	t->peer_id = peer_id;
	peer_key(t->pkey, src, peer_id);
	t->created = now;
	t->deadline = now + h->conf.tunnel.setup_timeout;
	struct l2tp_ctrl_cfg cc;
	l2tp_ctrl_cfg_default(&cc);
	cc.recv_window = h->conf.tunnel.receive_window;
	cc.rto_initial_ms = h->conf.tunnel.retransmit_initial;
	cc.rto_max_ms = h->conf.tunnel.retransmit_max;
	cc.max_retries = h->conf.tunnel.max_retries;
	l2tp_ctrl_init(&t->ctrl, &cc, ctrl_tx, tunnel_deliver, t, now);
	l2tp_ctrl_set_peer(&t->ctrl, peer_id, peer_window);
	if (table_insert(&h->tunnels, &t->node, t->key, 2) < 0 ||
	    table_insert(&h->by_peer, &t->pnode, t->pkey, sizeof(t->pkey)) < 0) {
		tunnel_free(t);
		h->stats.tunnels_freed--; /* never was a tunnel */
		return NULL;
	}
	return t;
}

/* ---- peers ---- */

static const struct lnsd_conf_peer *find_peer(const struct lnsd *h, const struct roam_ipaddr *a,
					      const char *host)
{
	const struct lnsd_conf_peer *by_name = NULL;
	for (size_t i = 0; i < h->conf.npeers; i++) {
		const struct lnsd_conf_peer *p = &h->conf.peers[i];
		bool has_name = p->host_name && *p->host_name;
		bool addr_ok = !p->address.family || roam_ipaddr_eq(&p->address, a);
		/* host NULL: by address only (the SCCRQ is not decoded yet) */
		bool name_ok = !has_name || !host || strcmp(host, p->host_name) == 0;
		if (!addr_ok || !name_ok)
			continue;
		if (p->address.family)
			return p; /* the most specific match: address (and name if given) */
		if (!host)
			continue;
		if (!by_name)
			by_name = p;
	}
	return by_name;
}

static int has_name_only_peer(const struct lnsd *h)
{
	for (size_t i = 0; i < h->conf.npeers; i++)
		if (!h->conf.peers[i].address.family)
			return 1;
	return 0;
}

/* ---- received control messages (in order, exactly once) ---- */

static void handle_sccrq(struct lnsd_tunnel *t, const struct l2tp_msg *m, uint64_t now)
{
	struct lnsd *h = t->h;
	struct roam_ipaddr a;
	uint16_t port;
	uint8_t resp[AUTH_MD5_LEN];
	char b[ROAM_ADDRSTRLEN];

	h->stats.tunnels_requested++;
	if (t->state != 0) { /* a second SCCRQ with new Ns on the same tunnel */
		h->stats.fsm_errors++;
		lnsd_tunnel_stop(t, L2TP_STOPCCN_FSM_ERROR, 0, "unexpected SCCRQ", now);
		return;
	}
	roam_sockaddr_addr(&t->peer, &a, &port);
	roam_ipaddr_fmt(&a, b, sizeof(b));
	if (l2tp_bytes_to_str(&m->host_name, t->host_name, sizeof(t->host_name)) < 0)
		snprintf(t->host_name, sizeof(t->host_name), "?");
	if (m->proto_ver != 1 || m->proto_rev != 0) {
		h->stats.tunnels_refused_version++;
		lnsd_tunnel_stop(t, L2TP_STOPCCN_BAD_VERSION, 0x0100, "protocol version 1.0 only",
				 now);
		return;
	}
	const struct lnsd_conf_peer *p = find_peer(h, &a, t->host_name);
	if (!p && !h->conf.accept_any) {
		h->stats.tunnels_refused_peer++;
		log_warnx("tunnel from %s (host name %s) refused: not a configured peer", b,
			  t->host_name);
		lnsd_tunnel_stop(t, L2TP_STOPCCN_NOT_AUTHORIZED, 0, "not a configured peer", now);
		return;
	}
	explicit_bzero(t->secret, sizeof(t->secret));
	t->secret_len = 0;
	t->hide = false;
	if (p && p->secret.len) {
		memcpy(t->secret, p->secret.data, p->secret.len);
		t->secret_len = p->secret.len;
		t->hide = p->hide_avps;
	}
	struct l2tp_msg *r = new_msg(h, L2TP_MSG_SCCRP);
	r->avps = L2TP_AVP_BIT(L2TP_AVP_PROTOCOL_VERSION) | L2TP_AVP_BIT(L2TP_AVP_FRAMING_CAP) |
		  L2TP_AVP_BIT(L2TP_AVP_BEARER_CAP) | L2TP_AVP_BIT(L2TP_AVP_HOST_NAME) |
		  L2TP_AVP_BIT(L2TP_AVP_ASSIGNED_TUNNEL_ID) |
		  L2TP_AVP_BIT(L2TP_AVP_RECV_WINDOW_SIZE) | L2TP_AVP_BIT(L2TP_AVP_FIRMWARE_REV) |
		  L2TP_AVP_BIT(L2TP_AVP_VENDOR_NAME);
	r->proto_ver = 1;
	r->proto_rev = 0;
	r->framing_cap = L2TP_FRAMING_SYNC | L2TP_FRAMING_ASYNC;
	r->bearer_cap = 0;
	l2tp_bytes_str(&r->host_name, h->conf.host_name);
	l2tp_bytes_str(&r->vendor_name, "roam");
	r->firmware_rev = 0x0100;
	r->assigned_tunnel_id = t->id;
	r->recv_window = h->conf.tunnel.receive_window;
	if (t->secret_len) {
		if (!(m->avps & L2TP_AVP_BIT(L2TP_AVP_CHALLENGE))) {
			h->stats.tunnels_refused_auth++;
			log_warnx("tunnel from %s (%s) refused: a secret is configured but SCCRQ has "
				  "no Challenge", b, t->host_name);
			lnsd_tunnel_stop(t, L2TP_STOPCCN_NOT_AUTHORIZED, 0,
					 "challenge authentication required", now);
			return;
		}
		if (l2tp_challenge_response(L2TP_MSG_SCCRP, t->secret, t->secret_len,
					    m->challenge.p, m->challenge.len, resp) < 0 ||
		    auth_random(t->challenge, sizeof(t->challenge)) < 0) {
			lnsd_tunnel_stop(t, L2TP_STOPCCN_GENERAL_ERROR, L2TP_ERR_RESOURCES, NULL, now);
			return;
		}
		r = &h->txm; /* new_msg above; still ours */
		memcpy(r->challenge_response, resp, sizeof(resp));
		l2tp_bytes_set(&r->challenge, t->challenge, sizeof(t->challenge));
		r->avps |= L2TP_AVP_BIT(L2TP_AVP_CHALLENGE_RESPONSE) | L2TP_AVP_BIT(L2TP_AVP_CHALLENGE);
	}
	t->state = LNSD_T_WAIT_CTL_CONN;
	log_info("tunnel %u: SCCRQ from %s:%u (%s, its id %u)%s", t->id, b, port, t->host_name,
		 t->peer_id, t->secret_len ? ", authenticating" : "");
	lnsd_tunnel_send(t, r, now);
}

static void handle_scccn(struct lnsd_tunnel *t, const struct l2tp_msg *m, uint64_t now)
{
	struct lnsd *h = t->h;
	if (t->state != LNSD_T_WAIT_CTL_CONN) {
		h->stats.fsm_errors++;
		if (t->state == LNSD_T_ESTABLISHED)
			lnsd_tunnel_stop(t, L2TP_STOPCCN_FSM_ERROR, 0, "unexpected SCCCN", now);
		return;
	}
	if (t->secret_len) {
		if (!(m->avps & L2TP_AVP_BIT(L2TP_AVP_CHALLENGE_RESPONSE)) ||
		    l2tp_challenge_verify(L2TP_MSG_SCCCN, t->secret, t->secret_len, t->challenge,
					  sizeof(t->challenge), m->challenge_response) < 0) {
			h->stats.tunnels_refused_auth++;
			log_warnx("tunnel %u (%s): challenge response %s: refused", t->id,
				  t->host_name,
				  (m->avps & L2TP_AVP_BIT(L2TP_AVP_CHALLENGE_RESPONSE)) ? "wrong"
											: "missing");
			lnsd_tunnel_stop(t, L2TP_STOPCCN_NOT_AUTHORIZED, 0,
					 "challenge response does not verify", now);
			return;
		}
		t->authenticated = true;
		h->stats.tunnels_authenticated++;
	}
	t->state = LNSD_T_ESTABLISHED;
	t->established = now;
	t->deadline = 0;
	h->stats.tunnels_established++;
	log_info("tunnel %u (%s) established%s", t->id, t->host_name,
		 t->authenticated ? ", authenticated" : "");
}

static void handle_stopccn(struct lnsd_tunnel *t, const struct l2tp_msg *m, uint64_t now)
{
	struct lnsd *h = t->h;
	if (t->state == LNSD_T_CLOSING)
		return;
	log_info("tunnel %u (%s): StopCCN from peer, result %u error %u", t->id, t->host_name,
		 m->result.result, m->result.has_error ? m->result.error : 0);
	while (t->sessions)
		lnsd_session_free(t->sessions);
	t->state = LNSD_T_CLOSING;
	t->stop_by_peer = true;
	t->close_result = m->result.result;
	t->deadline = now + h->conf.tunnel.linger;
	h->stats.tunnels_closed_by_peer++;
	/* The ZLB acknowledging it goes out from the channel's delayed-ack timer. */
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
	struct lnsd_tunnel *t = ctx;
	struct lnsd *h = t->h;
	struct l2tp_msg *m = &h->rx;
	struct l2tp_codec_opts o;
	uint64_t now = h->now;
	int missing;
	char what[64];

	if (t->dead)
		return;
	codec_opts(t, &o);
	if (l2tp_msg_decode(pkt, len, &o, m) < 0) /* checked before sequencing: not reached */
		return;
	switch (m->type) {
	case L2TP_MSG_SCCRQ: h->stats.rx_sccrq++; break;
	case L2TP_MSG_SCCCN: h->stats.rx_scccn++; break;
	case L2TP_MSG_STOPCCN: h->stats.rx_stopccn++; break;
	case L2TP_MSG_HELLO: h->stats.rx_hello++; break;
	case L2TP_MSG_ICRQ: h->stats.rx_icrq++; break;
	case L2TP_MSG_ICCN: h->stats.rx_iccn++; break;
	case L2TP_MSG_CDN: h->stats.rx_cdn++; break;
	case L2TP_MSG_OCRQ: h->stats.rx_ocrq++; break;
	case L2TP_MSG_WEN: h->stats.rx_wen++; break;
	case L2TP_MSG_SLI: h->stats.rx_sli++; break;
	default: h->stats.rx_other++; break;
	}
	log_debug("tunnel %u: %s received (session %u)", t->id, l2tp_msg_name(m->type),
		  m->session_id);
	if (t->state == LNSD_T_CLOSING)
		return; /* acknowledged by the channel, nothing else */
	if (!is_known_msg(m->type)) {
		/* RFC 2661 4.2 applied to the Message Type AVP itself. */
		if (m->type_mandatory) {
			h->stats.unknown_mandatory_avp++;
			snprintf(what, sizeof(what), "unknown message type %u", m->type);
			lnsd_tunnel_stop(t, L2TP_STOPCCN_GENERAL_ERROR, L2TP_ERR_UNKNOWN_MANDATORY,
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
		if (is_session_msg(m->type)) {
			struct lnsd_session *s = lnsd_session_find(h, t->id, m->session_id);
			if (s)
				lnsd_session_close(s, L2TP_CDN_GENERAL_ERROR,
						   L2TP_ERR_UNKNOWN_MANDATORY, what, now);
			else if (m->type == L2TP_MSG_ICRQ)
				lnsd_session_msg(t, m, now); /* refused there with the same rule */
		} else {
			lnsd_tunnel_stop(t, L2TP_STOPCCN_GENERAL_ERROR, L2TP_ERR_UNKNOWN_MANDATORY,
					 what, now);
		}
		return;
	}
	if (l2tp_msg_check(m, &missing) < 0) {
		snprintf(what, sizeof(what), "%s without %s", l2tp_msg_name(m->type),
			 l2tp_avp_name((uint16_t)missing));
		log_warnx("tunnel %u (%s): %s", t->id, t->host_name, what);
		if (is_session_msg(m->type)) {
			lnsd_session_msg(t, m, now); /* the session code refuses it */
		} else {
			if (m->type == L2TP_MSG_SCCRQ)
				h->stats.tunnels_refused_malformed++;
			lnsd_tunnel_stop(t, L2TP_STOPCCN_GENERAL_ERROR, L2TP_ERR_LENGTH, what, now);
		}
		return;
	}
	switch (m->type) {
	case L2TP_MSG_SCCRQ: handle_sccrq(t, m, now); break;
	case L2TP_MSG_SCCCN: handle_scccn(t, m, now); break;
	case L2TP_MSG_STOPCCN: handle_stopccn(t, m, now); break;
	case L2TP_MSG_HELLO: break; /* the channel acknowledges it */
	case L2TP_MSG_SCCRP:
		h->stats.fsm_errors++;
		lnsd_tunnel_stop(t, L2TP_STOPCCN_FSM_ERROR, 0, "SCCRP to an LNS", now);
		break;
	default:
		if (t->state != LNSD_T_ESTABLISHED) {
			h->stats.fsm_errors++;
			lnsd_tunnel_stop(t, L2TP_STOPCCN_FSM_ERROR, 0,
					 "session message before the tunnel is up", now);
			break;
		}
		lnsd_session_msg(t, m, now);
		break;
	}
}

/* ---- the receive path: one drop path ---- */

void lnsd_input(struct lnsd *h, const uint8_t *pkt, size_t len, const struct roam_sockaddr *src,
		const struct roam_ipaddr *dst, uint64_t now)
{
	struct l2tp_hdr hdr;
	struct l2tp_codec_opts o;
	struct lnsd_tunnel *t = NULL;
	struct roam_ipaddr a;
	uint16_t port = 0;
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
		struct lnsd_session *s = lnsd_session_find(h, hdr.tunnel_id, hdr.session_id);
		if (!s || !roam_sockaddr_eq(&s->t->peer, src)) {
			h->stats.drop_unknown_session++;
			why = "data for an unknown session";
			goto drop;
		}
		s->rx_data++;
		/* PPP termination comes with the PPP data path (issue 4, next step). */
		h->stats.drop_data_unhandled++;
		return;
	}
	h->stats.rx_control++;
	if (hdr.tunnel_id == 0) {
		/* Only an SCCRQ may come without our tunnel id.  Decode it with the secret of the
		 * peer its address names (hidden AVPs); by host name when that is all we have. */
		const struct lnsd_conf_peer *p = find_peer(h, &a, NULL);
		memset(&o, 0, sizeof(o));
		o.ho_vendor = h->conf.handoff.vendor_id;
		if (p && p->secret.len) {
			o.secret = p->secret.data;
			o.secret_len = p->secret.len;
		}
		r = l2tp_msg_decode(pkt, len, &o, &h->rx);
		if (r == -ENOKEY) {
			h->stats.drop_hidden_no_key++;
			why = "hidden AVP without a secret";
			goto drop;
		}
		if (r < 0) {
			h->stats.drop_malformed++;
			why = "malformed message";
			goto drop;
		}
		if (h->rx.type != L2TP_MSG_SCCRQ) {
			h->stats.drop_not_sccrq++;
			why = "tunnel id 0 on a message other than SCCRQ";
			goto drop;
		}
		if (!(h->rx.avps & L2TP_AVP_BIT(L2TP_AVP_ASSIGNED_TUNNEL_ID))) {
			h->stats.drop_malformed++;
			h->stats.tunnels_refused_malformed++;
			why = "SCCRQ without Assigned Tunnel ID";
			goto drop;
		}
		uint8_t pk[ROAM_IPADDR_KEYLEN + 4];
		peer_key(pk, src, h->rx.assigned_tunnel_id);
		struct table_node *n = table_lookup(&h->by_peer, pk, sizeof(pk));
		if (n) {
			t = table_entry(n, struct lnsd_tunnel, pnode); /* a retransmitted SCCRQ */
		} else if (!p && !h->conf.accept_any && !has_name_only_peer(h)) {
			/* Nobody by that address may set up a tunnel: no state, no answer, so that
			 * strangers cannot fill the tunnel table. */
			h->stats.tunnels_refused_peer++;
			why = "SCCRQ from an address that is not a configured peer";
			goto drop;
		} else if (h->stopping) {
			why = "shutting down";
			goto drop;
		} else if (table_count(&h->tunnels) >= h->conf.tunnel.max_tunnels) {
			h->stats.tunnels_refused_limit++;
			why = "tunnel limit reached";
			goto drop;
		} else {
			t = tunnel_new(h, src, dst, h->rx.assigned_tunnel_id,
				       (h->rx.avps & L2TP_AVP_BIT(L2TP_AVP_RECV_WINDOW_SIZE))
					       ? h->rx.recv_window
					       : 0,
				       p, now);
			if (!t) {
				h->stats.drop_ctrl_nomem++;
				why = "no memory for a tunnel";
				goto drop;
			}
		}
	} else {
		t = lnsd_tunnel_find(h, hdr.tunnel_id);
		if (!t) {
			h->stats.drop_unknown_tunnel++;
			why = "unknown tunnel id";
			goto drop;
		}
		if (!roam_sockaddr_eq(&t->peer, src)) {
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
			t = NULL;
			why = r == -ENOKEY ? "hidden AVP without a secret" : "malformed message";
			goto drop;
		}
	}
	if (h->rx.type == L2TP_MSG_ZLB)
		h->stats.rx_zlb++;
	r = l2tp_ctrl_input(&t->ctrl, pkt, len, now);
	if (r == -ENOMEM)
		h->stats.drop_ctrl_nomem++;
	if (t->state == 0 && !t->dead) {
		/* A new tunnel whose SCCRQ was not delivered: its Ns was not 0. */
		h->stats.fsm_errors++;
		t->dead = true;
	}
	tunnel_done(t);
	return;
drop:
	if (log_rl_allow(&h->drop_rl, now, &suppressed))
		log_warnx("drop %zu bytes from %s:%u: %s (%u more not logged)", len,
			  roam_ipaddr_fmt(&a, b, sizeof(b)), port, why, suppressed);
	if (t)
		tunnel_done(t);
}

/* ---- timers ---- */

static void tunnel_timer(struct lnsd_tunnel *t, uint64_t now)
{
	struct lnsd *h = t->h;
	if (l2tp_ctrl_tick(&t->ctrl, now) == -ETIMEDOUT) {
		log_warnx("tunnel %u (%s): peer unreachable (no acknowledgement): torn down", t->id,
			  t->host_name);
		if (t->state != LNSD_T_CLOSING)
			h->stats.tunnels_timed_out++;
		t->dead = true;
		return;
	}
	if (t->deadline && now >= t->deadline) {
		if (t->state == LNSD_T_CLOSING) {
			t->dead = true;
			return;
		}
		h->stats.tunnels_timed_out++;
		lnsd_tunnel_stop(t, L2TP_STOPCCN_GENERAL_ERROR, 0, "set-up timed out", now);
		return;
	}
	if (t->state == LNSD_T_ESTABLISHED) {
		lnsd_session_timers(t, now);
		if (l2tp_ctrl_idle(&t->ctrl) &&
		    l2tp_ctrl_hello_due(&t->ctrl, now, h->conf.tunnel.hello_interval)) {
			lnsd_tunnel_send(t, new_msg(h, L2TP_MSG_HELLO), now);
			/* Restart the silence timer: the HELLO itself is now what must be acked. */
			t->ctrl.last_rx_ms = now;
		}
	}
}

static void timer_expired(struct table *tab, struct table_node *n, void *arg)
{
	(void)tab;
	struct lnsd *h = arg;
	struct lnsd_tunnel *t = table_entry(n, struct lnsd_tunnel, tnode);
	tunnel_timer(t, h->now);
	tunnel_done(t);
}

void lnsd_run_timers(struct lnsd *h, uint64_t now)
{
	h->now = now;
	table_expire(&h->timers, now);
}

uint64_t lnsd_next_timer(struct lnsd *h)
{
	return table_next_expiry(&h->timers);
}

/* ---- whole-daemon operations ---- */

struct stop_ctx {
	uint16_t result;
	uint64_t now;
};

static int stop_one(struct table_node *n, void *arg)
{
	struct stop_ctx *c = arg;
	struct lnsd_tunnel *t = table_entry(n, struct lnsd_tunnel, node);
	lnsd_tunnel_stop(t, c->result, 0,
			 c->result == L2TP_STOPCCN_SHUTTING_DOWN ? "shutting down" : NULL, c->now);
	lnsd_tunnel_arm(t);
	return 0;
}

void lnsd_stop_all(struct lnsd *h, uint16_t result, uint64_t now)
{
	struct stop_ctx c = { result, now };
	table_foreach(&h->tunnels, stop_one, &c);
}

int lnsd_tunnel_stop_id(struct lnsd *h, uint16_t id, uint64_t now)
{
	struct lnsd_tunnel *t = lnsd_tunnel_find(h, id);
	if (!t)
		return -ENOENT;
	lnsd_tunnel_stop(t, L2TP_STOPCCN_CLEAR, 0, "administrative", now);
	tunnel_done(t);
	return 0;
}

static int idle_one(struct table_node *n, void *arg)
{
	(void)arg;
	struct lnsd_tunnel *t = table_entry(n, struct lnsd_tunnel, node);
	return (t->backlog || !l2tp_ctrl_idle(&t->ctrl)) && !t->ctrl.failed;
}

int lnsd_all_idle(struct lnsd *h)
{
	return table_foreach(&h->tunnels, idle_one, NULL) == 0;
}

static void free_cb(struct table *tab, struct table_node *n, void *arg)
{
	(void)tab;
	(void)arg;
	struct lnsd_tunnel *t = table_entry(n, struct lnsd_tunnel, node);
	struct lnsd *h = t->h;
	while (t->sessions)
		lnsd_session_free(t->sessions);
	backlog_free(t);
	l2tp_ctrl_free(&t->ctrl);
	if (table_node_linked(&t->pnode))
		table_remove(&h->by_peer, &t->pnode);
	if (table_node_linked(&t->tnode))
		table_remove(&h->timers, &t->tnode);
	explicit_bzero(t->secret, sizeof(t->secret));
	free(t);
}

int lnsd_core_init(struct lnsd *h)
{
	int r;
	if ((r = table_init(&h->tunnels, NULL, free_cb, h)) < 0)
		return r;
	if ((r = table_init(&h->by_peer, NULL, NULL, h)) < 0 ||
	    (r = table_init(&h->timers, timer_expired, NULL, h)) < 0 ||
	    (r = table_init(&h->sessions, NULL, NULL, h)) < 0) {
		table_destroy(&h->tunnels);
		table_destroy(&h->by_peer);
		table_destroy(&h->timers);
		return r;
	}
	h->tables_ready = true;
	if (!h->drop_rl.burst) {
		h->drop_rl.burst = 10;
		h->drop_rl.interval_ms = 1000;
	}
	return 0;
}

void lnsd_core_destroy(struct lnsd *h)
{
	if (!h->tables_ready)
		return;
	table_destroy(&h->tunnels); /* frees tunnels and their sessions */
	table_destroy(&h->by_peer);
	table_destroy(&h->timers);
	table_destroy(&h->sessions);
	h->tables_ready = false;
}
