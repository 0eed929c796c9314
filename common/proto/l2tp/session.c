/* The L2TP sessions both ends share: the session table (tunnel id + session id), id
 * allocation, the per-tunnel list, CDN sending (RFC 2661 6.11).  See roam/l2tp_tunnel.h. */
#include <errno.h>
#include <string.h>

#include "roam/auth.h"
#include "roam/l2tp_tunnel.h"

static void skey(uint8_t *k, uint16_t tid, uint16_t sid)
{
	k[0] = (uint8_t)(tid >> 8);
	k[1] = (uint8_t)tid;
	k[2] = (uint8_t)(sid >> 8);
	k[3] = (uint8_t)sid;
}

struct l2tp_session *l2tp_session_find(struct l2tp_endpoint *ep, uint16_t tunnel_id,
				       uint16_t session_id)
{
	uint8_t k[4];
	skey(k, tunnel_id, session_id);
	struct table_node *n = table_lookup(&ep->sessions, k, 4);
	return n ? table_entry(n, struct l2tp_session, node) : NULL;
}

uint16_t l2tp_session_alloc_id(struct l2tp_tunnel *t)
{
	for (int i = 0; i < 64; i++) {
		uint16_t id;
		if (auth_random(&id, sizeof(id)) < 0)
			return 0;
		if (id && !l2tp_session_find(t->ep, t->id, id))
			return id;
	}
	return 0;
}

int l2tp_session_add(struct l2tp_tunnel *t, struct l2tp_session *s)
{
	s->t = t;
	skey(s->key, t->id, s->id);
	if (table_insert(&t->ep->sessions, &s->node, s->key, 4) < 0)
		return -ENOMEM;
	s->next = t->sessions;
	t->sessions = s;
	t->nsessions++;
	return 0;
}

void l2tp_session_free(struct l2tp_session *s)
{
	struct l2tp_tunnel *t = s->t;
	struct l2tp_endpoint *ep = t->ep;
	for (struct l2tp_session **pp = &t->sessions; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			t->nsessions--;
			break;
		}
	if (table_node_linked(&s->node))
		table_remove(&ep->sessions, &s->node);
	log_debug("tunnel %u session %u freed", t->id, s->id);
	ep->ops->session_free(ep->role, s);
}

void l2tp_session_send_cdn(struct l2tp_tunnel *t, uint16_t our_id, uint16_t peer_id,
			   uint16_t result, uint16_t error, const char *msg, uint64_t now)
{
	struct l2tp_msg *m = l2tp_ep_msg(t->ep, L2TP_MSG_CDN, peer_id);
	m->avps = L2TP_AVP_BIT(L2TP_AVP_RESULT_CODE) | L2TP_AVP_BIT(L2TP_AVP_ASSIGNED_SESSION_ID);
	m->assigned_session_id = our_id;
	l2tp_result_set(&m->result, result, error, msg);
	l2tp_tunnel_send(t, m, now);
}

int l2tp_session_send_data(struct l2tp_session *s, const uint8_t *ppp, size_t len)
{
	struct l2tp_tunnel *t = s->t;
	uint8_t pkt[0xffff];
	struct wbuf w;
	struct l2tp_hdr h = { .flags = L2TP_HDR_L, .tunnel_id = t->peer_id,
			      .session_id = s->peer_id };
	int r;

	if (!s->peer_id || !t->peer_id || t->state != L2TP_TUN_ESTABLISHED || !t->ep->tx)
		return -ENOTCONN;
	if (s->data_seq) {
		h.flags |= L2TP_HDR_S;
		h.ns = s->data_ns;
	}
	wbuf_init_fixed(&w, pkt, sizeof(pkt));
	if ((r = l2tp_data_hdr_encode(&w, &h, len)) < 0)
		return r == -EINVAL ? -EMSGSIZE : r;
	wbuf_put_bytes(&w, ppp, len);
	if (w.err)
		return -EMSGSIZE;
	if (s->data_seq)
		s->data_ns++;
	s->tx_data++;
	t->ep->tx(t->ep->tx_arg, &t->peer, &t->local, pkt, w.len);
	return 0;
}
