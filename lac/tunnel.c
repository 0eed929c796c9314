/* The control connection, LAC side (RFC 2661 7.2.1 "Control connection states", initiator):
 *
 *   idle --call/SCCRQ--> wait-ctl-reply --SCCRP ok/SCCCN--> established
 *   established --last session gone, idle_timeout--> StopCCN
 *   any --StopCCN rx or tx--> closing (linger: acknowledge retransmitted StopCCN) --> freed
 *   any --retransmission limit--> freed (no StopCCN can get through)
 *
 * Tunnel authentication (4.4.3, 5.1.1) when the LNS entry has a secret: our Challenge goes in
 * SCCRQ and the SCCRP must answer it; the LNS's Challenge in SCCRP is answered in SCCCN.  A
 * missing or wrong response is StopCCN Result 4.  Sending, timers, the receive path (one drop
 * path), the unknown-M-bit rule of 4.2 and StopCCN are the shared l2tp_endpoint's
 * (roam/l2tp_tunnel.h); this file holds what only the initiator does. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lacd.h"

static const char *const tunnel_state_names[] = { "idle", "wait-ctl-reply", "established",
						  "closing" };

/* No new call may use a closing tunnel; the calls not yet up have failed. */
static void tunnel_closing(void *arg, struct l2tp_tunnel *lt)
{
	struct lacd *h = arg;
	struct lacd_tunnel *t = lacd_tunnel_of(lt);
	if (table_node_linked(&t->lnode))
		table_remove(&h->by_lns, &t->lnode);
	if (lt->stop_by_peer && lt->state == LACD_T_WAIT_CTL_REPLY)
		h->stats.tunnels_refused_by_peer++;
	for (const struct l2tp_session *s = lt->sessions; s; s = s->next)
		if (s->state != LACD_S_ESTABLISHED)
			h->stats.calls_failed++;
}

/* The idle timer: a tunnel without calls is closed. */
static void tunnel_deadline(void *arg, struct l2tp_tunnel *t, uint64_t now)
{
	struct lacd *h = arg;
	if (t->nsessions == 0) {
		h->stats.tunnels_closed_idle++;
		l2tp_tunnel_stop(t, L2TP_STOPCCN_CLEAR, 0, "no session left", now);
	}
}

void lacd_tunnel_session_gone(struct l2tp_tunnel *t, uint64_t now)
{
	if (t->nsessions == 0 && t->state == LACD_T_ESTABLISHED)
		t->deadline = now + t->ep->conf->idle_timeout;
}

/* SCCRQ (RFC 2661 6.1). */
static int send_sccrq(struct lacd *h, struct l2tp_tunnel *t, uint64_t now)
{
	struct l2tp_msg *m = l2tp_tunnel_setup_msg(t, L2TP_MSG_SCCRQ, h->conf.host_name,
						   L2TP_BEARER_DIGITAL | L2TP_BEARER_ANALOG);
	int r;
	if (t->secret_len && (r = l2tp_tunnel_put_challenge(t, m)) < 0)
		return r;
	return l2tp_tunnel_send(t, m, now);
}

int lacd_tunnel_get(struct lacd *h, const struct roam_sockaddr *lns, const uint8_t *secret,
		    size_t secret_len, bool hide, uint64_t now, struct lacd_tunnel **out)
{
	uint8_t lk[L2TP_PEER_KEYLEN];
	char b[ROAM_ADDRSTRLEN];
	struct l2tp_tunnel *lt;
	l2tp_peer_key(lk, lns);
	struct table_node *n = table_lookup(&h->by_lns, lk, sizeof(lk));
	if (n) {
		*out = table_entry(n, struct lacd_tunnel, lnode);
		return 0;
	}
	int r = l2tp_tunnel_new(&h->ep, sizeof(struct lacd_tunnel), lns, NULL, 0, 0, secret,
				secret_len, hide, now, &lt);
	if (r < 0)
		return r;
	struct lacd_tunnel *t = lacd_tunnel_of(lt);
	memcpy(t->lkey, lk, sizeof(lk));
	lt->state = LACD_T_WAIT_CTL_REPLY;
	if (table_insert(&h->by_lns, &t->lnode, t->lkey, sizeof(t->lkey)) < 0) {
		l2tp_tunnel_discard(lt);
		return -ENOMEM;
	}
	h->stats.tunnels_requested++;
	log_info("tunnel %u: SCCRQ to %s%s", lt->id, roam_sockaddr_fmt(lns, b, sizeof(b)),
		 lt->secret_len ? ", authenticating" : "");
	if ((r = send_sccrq(h, lt, now)) < 0) {
		l2tp_tunnel_discard(lt);
		return r;
	}
	l2tp_tunnel_arm(lt);
	*out = t;
	return 0;
}

/* ---- received control messages (in order, exactly once) ---- */

static void handle_sccrp(struct lacd *h, struct l2tp_tunnel *t, const struct l2tp_msg *m,
			 uint64_t now)
{
	l2tp_tunnel_set_host_name(t, m);
	/* The LNS's id first: every answer, StopCCN included, goes to it. */
	t->peer_id = m->assigned_tunnel_id;
	l2tp_ctrl_set_peer(&t->ctrl, t->peer_id,
			   (m->avps & L2TP_AVP_BIT(L2TP_AVP_RECV_WINDOW_SIZE)) ? m->recv_window : 0);
	if (m->proto_ver != 1 || m->proto_rev != 0) {
		l2tp_tunnel_stop(t, L2TP_STOPCCN_BAD_VERSION, 0x0100, "protocol version 1.0 only",
				 now);
		return;
	}
	if (t->secret_len) {
		if (l2tp_tunnel_verify_response(t, L2TP_MSG_SCCRP, m, now) < 0)
			return;
		if (!(m->avps & L2TP_AVP_BIT(L2TP_AVP_CHALLENGE))) {
			h->ep.stats.tunnels_auth_failed++;
			l2tp_tunnel_stop(t, L2TP_STOPCCN_NOT_AUTHORIZED, 0,
					 "challenge authentication required", now);
			return;
		}
	} else if (m->avps & L2TP_AVP_BIT(L2TP_AVP_CHALLENGE)) {
		h->ep.stats.tunnels_auth_failed++;
		log_warnx("tunnel %u (%s): the LNS wants authentication and no secret is "
			  "configured", t->id, t->host_name);
		l2tp_tunnel_stop(t, L2TP_STOPCCN_NOT_AUTHORIZED, 0, "no secret for this peer", now);
		return;
	}
	struct l2tp_msg *r = l2tp_ep_msg(&h->ep, L2TP_MSG_SCCCN, 0);
	if (t->secret_len) {
		if (l2tp_tunnel_answer_challenge(t, m, r) < 0) {
			l2tp_tunnel_stop(t, L2TP_STOPCCN_GENERAL_ERROR, L2TP_ERR_RESOURCES, NULL, now);
			return;
		}
		t->authenticated = true;
		h->ep.stats.tunnels_authenticated++;
	}
	if (l2tp_tunnel_send(t, r, now) < 0) {
		l2tp_tunnel_stop(t, L2TP_STOPCCN_GENERAL_ERROR, L2TP_ERR_RESOURCES, NULL, now);
		return;
	}
	l2tp_tunnel_established(t, now);
	lacd_session_tunnel_up(t, now);
	lacd_tunnel_session_gone(t, now); /* no call waiting: idle timer */
}

static void tunnel_msg(void *arg, struct l2tp_tunnel *t, const struct l2tp_msg *m, uint64_t now)
{
	struct lacd *h = arg;
	if (m->type == L2TP_MSG_SCCRP && t->state == LACD_T_WAIT_CTL_REPLY) {
		handle_sccrp(h, t, m, now);
		return;
	}
	h->ep.stats.fsm_errors++;
	l2tp_tunnel_stop(t, L2TP_STOPCCN_FSM_ERROR, 0,
			 m->type == L2TP_MSG_SCCRP ? "unexpected SCCRP" : "unexpected message",
			 now);
}

/* roam's LAC only initiates (l2tp.md 9): an SCCRQ to it is not answered. */
static const char *new_tunnel(void *arg, const uint8_t *pkt, size_t len,
			      const struct roam_sockaddr *src, const struct roam_ipaddr *dst,
			      uint64_t now, struct l2tp_tunnel **out)
{
	(void)pkt, (void)len, (void)src, (void)dst, (void)now, (void)out;
	struct lacd *h = arg;
	h->stats.drop_tunnel_id_zero++;
	return "tunnel id 0 (a LAC accepts no SCCRQ)";
}

static const struct l2tp_endpoint_ops lacd_ops = {
	.new_tunnel = new_tunnel,
	.tunnel_msg = tunnel_msg,
	.session_msg = lacd_session_msg,
	.session_close = lacd_session_close,
	.session_free = lacd_session_free,
	.session_data = lacd_access_session_data,
	.tunnel_closing = tunnel_closing,
	.tunnel_deadline = tunnel_deadline,
	.session_setup_msg = "ICRP",
	.dump_session = lacd_dump_session,
	.tunnel_states = tunnel_state_names,
	.session_states = lacd_session_state_names,
	.nsession_states = LACD_S_ESTABLISHED + 1,
};

int lacd_core_init(struct lacd *h)
{
	int r;
	if ((r = table_init(&h->by_lns, NULL, NULL, h)) < 0)
		return r;
	/* ho.vendor is 0 while handoff.enabled is off (lacd_ho_apply_conf) */
	if ((r = table_init(&h->by_min, NULL, NULL, h)) < 0 ||
	    (r = l2tp_ep_init_role(&h->ep, &lacd_ops, h, &h->conf.tunnel, &h->ho.vendor, true)) < 0) {
		table_destroy(&h->by_lns);
		table_destroy(&h->by_min);
		return r;
	}
	if ((r = lacd_access_init(h)) < 0 || (r = lacd_ho_init(h)) < 0) {
		lacd_core_destroy(h);
		return r;
	}
	return 0;
}

void lacd_core_destroy(struct lacd *h)
{
	if (!h->ep.tables_ready)
		return;
	l2tp_ep_destroy(&h->ep); /* tunnels first: they unlink from the LAC's tables */
	table_destroy(&h->by_lns);
	table_destroy(&h->by_min);
	lacd_access_destroy(h);
	lacd_ho_destroy(h);
}
