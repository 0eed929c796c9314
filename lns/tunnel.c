/* The control connection, LNS side (RFC 2661 7.2.1 "Control connection states", responder):
 *
 *   idle --SCCRQ ok/SCCRP--> wait-ctl-conn --SCCCN ok--> established
 *   any --StopCCN rx or tx--> closing (linger: acknowledge retransmitted StopCCN) --> freed
 *   any --retransmission limit--> freed (no StopCCN can get through)
 *
 * Tunnel authentication (4.4.3, 5.1.1) when the peer has a secret: the LAC's Challenge in
 * SCCRQ is answered in SCCRP, ours (in SCCRP) must be answered correctly in SCCCN, otherwise
 * StopCCN Result 4.  Sending, timers, the receive path (one drop path), the unknown-M-bit
 * rule of 4.2 and StopCCN are the shared l2tp_endpoint's (roam/l2tp_tunnel.h); this file
 * holds what only the responder does: who may set a tunnel up, SCCRQ and SCCCN. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lnsd.h"

static const char *const tunnel_state_names[] = { "idle", "wait-ctl-conn", "established",
						  "closing" };

/* The peer's address, port and its tunnel id: a retransmitted SCCRQ finds its tunnel. */
static void peer_key(uint8_t *k, const struct roam_sockaddr *sa, uint16_t peer_id)
{
	l2tp_peer_key(k, sa);
	k[L2TP_PEER_KEYLEN] = (uint8_t)(peer_id >> 8);
	k[L2TP_PEER_KEYLEN + 1] = (uint8_t)peer_id;
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

/* ---- tunnel set-up ---- */

/* Only an SCCRQ may come without our tunnel id.  Decode it with the secret of the peer its
 * address names (hidden AVPs); by host name when that is all we have. */
static const char *new_tunnel(void *arg, const uint8_t *pkt, size_t len,
			      const struct roam_sockaddr *src, const struct roam_ipaddr *dst,
			      uint64_t now, struct l2tp_tunnel **out)
{
	struct lnsd *h = arg;
	struct l2tp_msg *m = &h->ep.rx;
	struct l2tp_codec_opts o;
	struct roam_ipaddr a;
	uint16_t port = 0;
	int missing;

	memset(&a, 0, sizeof(a));
	roam_sockaddr_addr(src, &a, &port);
	const struct lnsd_conf_peer *p = find_peer(h, &a, NULL);
	l2tp_ep_codec_opts(&h->ep, NULL, &o);
	if (p && p->secret.len) {
		o.secret = p->secret.data;
		o.secret_len = p->secret.len;
	}
	int r = l2tp_msg_decode(pkt, len, &o, m);
	if (r == -ENOKEY) {
		h->ep.stats.drop_hidden_no_key++;
		return "hidden AVP without a secret";
	}
	if (r < 0) {
		h->ep.stats.drop_malformed++;
		return "malformed message";
	}
	if (m->type != L2TP_MSG_SCCRQ) {
		h->stats.drop_not_sccrq++;
		return "tunnel id 0 on a message other than SCCRQ";
	}
	if (!(m->avps & L2TP_AVP_BIT(L2TP_AVP_ASSIGNED_TUNNEL_ID))) {
		h->ep.stats.drop_malformed++;
		h->stats.tunnels_refused_malformed++;
		return "SCCRQ without Assigned Tunnel ID";
	}
	uint8_t pk[L2TP_PEER_KEYLEN + 2];
	peer_key(pk, src, m->assigned_tunnel_id);
	struct table_node *n = table_lookup(&h->by_peer, pk, sizeof(pk));
	if (n) {
		*out = &table_entry(n, struct lnsd_tunnel, pnode)->l; /* a retransmitted SCCRQ */
		return NULL;
	}
	if (!p && !h->conf.accept_any && !has_name_only_peer(h)) {
		/* Nobody by that address may set up a tunnel: no state, no answer, so that
		 * strangers cannot fill the tunnel table. */
		h->stats.tunnels_refused_peer++;
		return "SCCRQ from an address that is not a configured peer";
	}
	if (h->ep.stopping)
		return "shutting down";
	if (table_count(&h->ep.tunnels) >= h->conf.tunnel.max_tunnels) {
		h->stats.tunnels_refused_limit++;
		return "tunnel limit reached";
	}
	if (l2tp_msg_check(m, &missing) < 0)
		h->stats.tunnels_refused_malformed++; /* StopCCN 2/6 on delivery */
	/* The SCCRQ is decoded again on delivery with the tunnel's secret: it may carry hidden
	 * AVPs. */
	struct l2tp_tunnel *t;
	r = l2tp_tunnel_new(&h->ep, sizeof(struct lnsd_tunnel), src, dst, m->assigned_tunnel_id,
			    (m->avps & L2TP_AVP_BIT(L2TP_AVP_RECV_WINDOW_SIZE)) ? m->recv_window : 0,
			    p ? p->secret.data : NULL, p ? p->secret.len : 0, false, now, &t);
	if (r < 0) {
		h->ep.stats.drop_ctrl_nomem++;
		return "no memory for a tunnel";
	}
	struct lnsd_tunnel *lt = lnsd_tunnel_of(t);
	memcpy(lt->pkey, pk, sizeof(pk));
	if (table_insert(&h->by_peer, &lt->pnode, lt->pkey, sizeof(lt->pkey)) < 0) {
		l2tp_tunnel_discard(t);
		h->ep.stats.drop_ctrl_nomem++;
		return "no memory for a tunnel";
	}
	*out = t;
	return NULL;
}

/* The peer key stays while closing (a retransmitted SCCRQ finds the tunnel), until freed. */
static void tunnel_release(void *arg, struct l2tp_tunnel *t)
{
	struct lnsd *h = arg;
	struct lnsd_tunnel *lt = lnsd_tunnel_of(t);
	if (table_node_linked(&lt->pnode))
		table_remove(&h->by_peer, &lt->pnode);
}

static void handle_sccrq(struct lnsd *h, struct l2tp_tunnel *t, const struct l2tp_msg *m,
			 uint64_t now)
{
	struct roam_ipaddr a;
	uint16_t port;
	char b[ROAM_ADDRSTRLEN];

	h->stats.tunnels_requested++;
	if (t->state != 0) { /* a second SCCRQ with new Ns on the same tunnel */
		h->ep.stats.fsm_errors++;
		l2tp_tunnel_stop(t, L2TP_STOPCCN_FSM_ERROR, 0, "unexpected SCCRQ", now);
		return;
	}
	roam_sockaddr_addr(&t->peer, &a, &port);
	roam_ipaddr_fmt(&a, b, sizeof(b));
	l2tp_tunnel_set_host_name(t, m);
	if (m->proto_ver != 1 || m->proto_rev != 0) {
		h->stats.tunnels_refused_version++;
		l2tp_tunnel_stop(t, L2TP_STOPCCN_BAD_VERSION, 0x0100, "protocol version 1.0 only",
				 now);
		return;
	}
	const struct lnsd_conf_peer *p = find_peer(h, &a, t->host_name);
	if (!p && !h->conf.accept_any) {
		h->stats.tunnels_refused_peer++;
		log_warnx("tunnel from %s (host name %s) refused: not a configured peer", b,
			  t->host_name);
		l2tp_tunnel_stop(t, L2TP_STOPCCN_NOT_AUTHORIZED, 0, "not a configured peer", now);
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
	struct l2tp_msg *r = l2tp_tunnel_setup_msg(t, L2TP_MSG_SCCRP, h->conf.host_name, 0);
	if (t->secret_len) {
		if (!(m->avps & L2TP_AVP_BIT(L2TP_AVP_CHALLENGE))) {
			h->ep.stats.tunnels_auth_failed++;
			log_warnx("tunnel from %s (%s) refused: a secret is configured but SCCRQ has "
				  "no Challenge", b, t->host_name);
			l2tp_tunnel_stop(t, L2TP_STOPCCN_NOT_AUTHORIZED, 0,
					 "challenge authentication required", now);
			return;
		}
		if (l2tp_tunnel_answer_challenge(t, m, r) < 0 || l2tp_tunnel_put_challenge(t, r) < 0) {
			l2tp_tunnel_stop(t, L2TP_STOPCCN_GENERAL_ERROR, L2TP_ERR_RESOURCES, NULL, now);
			return;
		}
	}
	t->state = LNSD_T_WAIT_CTL_CONN;
	log_info("tunnel %u: SCCRQ from %s:%u (%s, its id %u)%s", t->id, b, port, t->host_name,
		 t->peer_id, t->secret_len ? ", authenticating" : "");
	l2tp_tunnel_send(t, r, now);
}

static void handle_scccn(struct lnsd *h, struct l2tp_tunnel *t, const struct l2tp_msg *m,
			 uint64_t now)
{
	if (t->state != LNSD_T_WAIT_CTL_CONN) {
		h->ep.stats.fsm_errors++;
		if (t->state == LNSD_T_ESTABLISHED)
			l2tp_tunnel_stop(t, L2TP_STOPCCN_FSM_ERROR, 0, "unexpected SCCCN", now);
		return;
	}
	if (t->secret_len) {
		if (l2tp_tunnel_verify_response(t, L2TP_MSG_SCCCN, m, now) < 0)
			return;
		t->authenticated = true;
		h->ep.stats.tunnels_authenticated++;
	}
	l2tp_tunnel_established(t, now);
}

static void tunnel_msg(void *arg, struct l2tp_tunnel *t, const struct l2tp_msg *m, uint64_t now)
{
	struct lnsd *h = arg;
	switch (m->type) {
	case L2TP_MSG_SCCRQ:
		handle_sccrq(h, t, m, now);
		break;
	case L2TP_MSG_SCCCN:
		handle_scccn(h, t, m, now);
		break;
	default:
		h->ep.stats.fsm_errors++;
		l2tp_tunnel_stop(t, L2TP_STOPCCN_FSM_ERROR, 0, "SCCRP to an LNS", now);
		break;
	}
}

static const struct l2tp_endpoint_ops lnsd_ops = {
	.new_tunnel = new_tunnel,
	.tunnel_msg = tunnel_msg,
	.session_msg = lnsd_session_msg,
	.session_close = lnsd_session_close,
	.session_free = lnsd_session_free,
	.session_data = lnsd_ppp_data,
	.tunnel_release = tunnel_release,
	.session_setup_msg = "ICCN",
	.dump_session = lnsd_dump_session,
	.tunnel_states = tunnel_state_names,
	.session_states = lnsd_session_state_names,
	.nsession_states = LNSD_S_ESTABLISHED + 1,
};

int lnsd_core_init(struct lnsd *h)
{
	int r;
	if ((r = table_init(&h->by_peer, NULL, NULL, h)) < 0)
		return r;
	if ((r = l2tp_ep_init_role(&h->ep, &lnsd_ops, h, &h->conf.tunnel,
				   &h->conf.handoff.vendor_id, false)) < 0) {
		table_destroy(&h->by_peer);
		return r;
	}
	if ((r = lnsd_ppp_init(h)) < 0) {
		l2tp_ep_destroy(&h->ep);
		table_destroy(&h->by_peer);
		return r;
	}
	if ((r = lnsd_handoff_init(h)) < 0) {
		lnsd_ppp_destroy(h);
		l2tp_ep_destroy(&h->ep);
		table_destroy(&h->by_peer);
		return r;
	}
	return 0;
}

void lnsd_core_destroy(struct lnsd *h)
{
	if (!h->ep.tables_ready)
		return;
	l2tp_ep_destroy(&h->ep); /* sessions first: they release their addresses */
	table_destroy(&h->by_peer);
	lnsd_handoff_destroy(h);
	lnsd_ppp_destroy(h);
}
