/* IPCP (RFC 1332) with the IP-Address option (3.3) and RFC 1877 primary/secondary DNS.
 * Authenticator: offers its own address, assigns the peer's (ops.get_peer_addr) and hands out
 * DNS servers by Nak'ing the peer's requests.  Peer: asks for 0.0.0.0 (or its configured
 * address) and DNS 0.0.0.0 and adopts what the authenticator Naks back.  IP-Compression,
 * NBNS and unknown options are rejected. */
#include <errno.h>
#include <string.h>

#include "ppp_int.h"

static void ipcp_reset(struct ppp_fsm *f)
{
	struct ppp *p = f->ppp;
	struct ppp_ipcp_opts *w = &p->ipcp_want;

	memset(w, 0, sizeof(*w));
	if (p->cfg.role == PPP_ROLE_AUTHENTICATOR) {
		if (p->cfg.local_addr) {
			w->has |= PPP_IPCP_BIT_ADDR;
			w->addr = p->cfg.local_addr;
		}
		p->peer_addr_known = 0;
	} else {
		w->has |= PPP_IPCP_BIT_ADDR;
		w->addr = p->cfg.local_addr;
		if (p->cfg.want_dns)
			w->has |= PPP_IPCP_BIT_DNS1 | PPP_IPCP_BIT_DNS2;
	}
}

static void ipcp_build_req(struct ppp_fsm *f, struct wbuf *w)
{
	ppp_ipcp_opts_encode(w, &f->ppp->ipcp_want);
}

/* Authenticator: the address for the peer, from the owner's pool, asked once. */
static int offer_addr(struct ppp *p, uint32_t requested, uint32_t *addr)
{
	if (!p->peer_addr_known) {
		uint32_t a = 0;
		if (p->ops.get_peer_addr(p->ctx, p->st.peer_name, requested, &a) < 0 || a == 0) {
			ppp_defer_close(p, PPP_DOWN_NO_ADDRESS);
			return -EADDRNOTAVAIL;
		}
		p->st.addr_peer = a;
		p->peer_addr_known = 1;
	}
	*addr = p->st.addr_peer;
	return 0;
}

static int ipcp_recv_req(struct ppp_fsm *f, const uint8_t *opts, size_t len, struct wbuf *reply,
                         int reject_naks)
{
	struct ppp *p = f->ppp;
	int auth = p->cfg.role == PPP_ROLE_AUTHENTICATOR;
	struct ppp_optreply q;
	struct ppp_opt o;
	int rc, seen_addr = 0;
	uint32_t seen = 0;

	if (ppp_optreply_init(&q, opts, len) < 0)
		return -EBADMSG;
	if (!auth)
		p->st.addr_peer = 0;

	while ((rc = ppp_optreply_next(&q, &o)) > 0) {
		int verdict = PPP_CONFACK;
		uint32_t v = o.len == 4 ? ppp_get32(o.val) : 0, want = 0, bit = 0;

		switch (o.type) {
		case PPP_IPCP_ADDR: bit = 1; break;
		case PPP_IPCP_DNS1: bit = 2; break;
		case PPP_IPCP_DNS2: bit = 4; break;
		default: break;
		}
		if (!bit || o.len != 4 || (seen & bit)) {
			verdict = PPP_CONFREJ;
		} else if (o.type == PPP_IPCP_ADDR) {
			seen_addr = 1;
			if (auth) {
				if (offer_addr(p, v, &want) < 0)
					verdict = PPP_CONFREJ;
				else if (v != want)
					verdict = PPP_CONFNAK;
			} else if (v == 0) {
				verdict = PPP_CONFREJ; /* we have no address to give the authenticator */
			} else {
				p->st.addr_peer = v;
			}
		} else { /* DNS: only an authenticator with servers configured hands them out */
			want = o.type == PPP_IPCP_DNS1 ? p->cfg.dns1 : p->cfg.dns2;
			if (!auth || !want)
				verdict = PPP_CONFREJ;
			else if (v != want)
				verdict = PPP_CONFNAK;
		}
		seen |= bit;
		if (ppp_optreply_verdict(&q, &o, verdict, reject_naks) == PPP_CONFNAK)
			ppp_put_opt32(&q.nak, o.type, want);
	}
	if (rc < 0)
		return -EBADMSG;
	/* RFC 1332 3.3: an authenticator may Nak an absent IP-Address to give the peer one */
	if (auth && !seen_addr && !reject_naks && !q.rej.len) {
		uint32_t want;
		if (offer_addr(p, 0, &want) == 0)
			ppp_put_opt32(&q.nak, PPP_IPCP_ADDR, want);
	}
	return ppp_optreply_finish(&q, reply);
}

static void ipcp_recv_nak(struct ppp_fsm *f, const struct ppp_opt *o)
{
	struct ppp *p = f->ppp;
	struct ppp_ipcp_opts *w = &p->ipcp_want;
	uint32_t v;

	if (o->len != 4)
		return;
	v = ppp_get32(o->val);
	switch (o->type) {
	case PPP_IPCP_ADDR:
		if (v) {
			w->has |= PPP_IPCP_BIT_ADDR;
			w->addr = v;
		}
		break;
	case PPP_IPCP_DNS1:
		if (p->cfg.role == PPP_ROLE_PEER && (w->has & PPP_IPCP_BIT_DNS1))
			w->dns1 = v;
		break;
	case PPP_IPCP_DNS2:
		if (p->cfg.role == PPP_ROLE_PEER && (w->has & PPP_IPCP_BIT_DNS2))
			w->dns2 = v;
		break;
	default:
		break;
	}
}

static void ipcp_recv_rej(struct ppp_fsm *f, const struct ppp_opt *o)
{
	struct ppp *p = f->ppp;

	switch (o->type) {
	case PPP_IPCP_ADDR:
		p->ipcp_want.has &= ~PPP_IPCP_BIT_ADDR;
		if (p->cfg.role == PPP_ROLE_PEER && !p->ipcp_want.addr)
			ppp_defer_close(p, PPP_DOWN_IPCP_FAILED); /* no way to get an address */
		break;
	case PPP_IPCP_DNS1: p->ipcp_want.has &= ~PPP_IPCP_BIT_DNS1; break;
	case PPP_IPCP_DNS2: p->ipcp_want.has &= ~PPP_IPCP_BIT_DNS2; break;
	default: break;
	}
}

static void ipcp_up(struct ppp_fsm *f, uint64_t now)
{
	struct ppp *p = f->ppp;
	const struct ppp_ipcp_opts *w = &p->ipcp_want;

	(void)now;
	p->st.addr_local = (w->has & PPP_IPCP_BIT_ADDR) ? w->addr : 0;
	if (p->cfg.role == PPP_ROLE_PEER) {
		p->st.dns1 = (w->has & PPP_IPCP_BIT_DNS1) ? w->dns1 : 0;
		p->st.dns2 = (w->has & PPP_IPCP_BIT_DNS2) ? w->dns2 : 0;
		if (!p->st.addr_local) { /* RFC 1332: nothing to route over */
			ppp_defer_close(p, PPP_DOWN_IPCP_FAILED);
			return;
		}
	} else {
		p->st.dns1 = p->cfg.dns1;
		p->st.dns2 = p->cfg.dns2;
		if (!p->st.addr_peer) {
			ppp_defer_close(p, PPP_DOWN_NO_ADDRESS);
			return;
		}
	}
	p->st.ipcp_opened = 1;
	ppp_emit(p, PPP_EV_NETWORK_UP);
}

static void ipcp_down(struct ppp_fsm *f, uint64_t now)
{
	struct ppp *p = f->ppp;

	(void)now;
	if (p->st.ipcp_opened) {
		p->st.ipcp_opened = 0;
		ppp_emit(p, PPP_EV_NETWORK_DOWN);
	}
}

/* IP is the only network protocol: without it the link has no purpose (as pppd does). */
static void ipcp_finished(struct ppp_fsm *f, uint64_t now)
{
	struct ppp *p = f->ppp;

	(void)now;
	if (p->lcp.state == PPP_ST_OPENED)
		ppp_defer_close(p, PPP_DOWN_IPCP_FAILED);
}

const struct ppp_fsm_ops ppp_ipcp_ops = {
	.name = "IPCP",
	.reset = ipcp_reset,
	.build_req = ipcp_build_req,
	.recv_req = ipcp_recv_req,
	.recv_nak = ipcp_recv_nak,
	.recv_rej = ipcp_recv_rej,
	.up = ipcp_up,
	.down = ipcp_down,
	.finished = ipcp_finished,
	.extcode = NULL,
	.code_rejected = NULL,
};
