/* The PPP link (RFC 1661 3: phases): dispatch of received frames by protocol, the timers,
 * Protocol-Reject, the data path, and export/import of an opened session. */
#include <errno.h>
#include <string.h>

#include "ppp_int.h"
#include "roam/auth.h"

void ppp_cfg_default(struct ppp_cfg *cfg, enum ppp_role role)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->role = role;
	cfg->mru = PPP_MRU_DEFAULT;
	cfg->accm = PPP_HDLC_ACCM_DEFAULT;
	cfg->allow_pfc = 1;
	cfg->allow_acfc = 1;
	cfg->auth = PPP_AUTH_PAP | PPP_AUTH_CHAP;
	cfg->restart_ms = 3000;
	cfg->max_configure = 10;
	cfg->max_terminate = 2;
	cfg->max_failure = 5;
	cfg->auth_timeout_ms = 30000;
	cfg->echo_interval_ms = 10000;
	cfg->echo_failures = 3;
	cfg->max_loops = 5;
}

int ppp_init(struct ppp *p, const struct ppp_cfg *cfg, const struct ppp_ops *ops, void *ctx)
{
	if (!cfg || !ops || !ops->output || cfg->mru < PPP_MRU_MIN || cfg->mru > PPP_MRU_MAX ||
	    memchr(cfg->name, 0, sizeof(cfg->name)) == NULL || cfg->secret_len > PPP_SECRET_MAX ||
	    (cfg->role != PPP_ROLE_PEER && cfg->role != PPP_ROLE_AUTHENTICATOR))
		return -EINVAL;
	if (cfg->role == PPP_ROLE_AUTHENTICATOR &&
	    (!ops->get_peer_addr || ((cfg->auth & PPP_AUTH_CHAP) && !ops->get_secret) ||
	     ((cfg->auth & PPP_AUTH_PAP) && !ops->get_secret && !ops->pap_verify)))
		return -EINVAL;
	memset(p, 0, sizeof(*p));
	p->cfg = *cfg;
	if (!p->cfg.restart_ms)
		p->cfg.restart_ms = 1;
	if (!p->cfg.max_configure)
		p->cfg.max_configure = 1;
	if (!p->cfg.max_terminate)
		p->cfg.max_terminate = 1;
	if (!p->cfg.echo_failures)
		p->cfg.echo_failures = 1;
	p->ops = *ops;
	p->ctx = ctx;
	p->st.role = (uint8_t)cfg->role;
	p->st.mru_send = PPP_MRU_DEFAULT;
	p->st.mru_recv = PPP_MRU_DEFAULT;
	p->st.accm_send = p->st.accm_recv = PPP_HDLC_ACCM_DEFAULT;
	ppp_fsm_init(&p->lcp, p, PPP_PROTO_LCP, &ppp_lcp_ops);
	ppp_fsm_init(&p->ipcp, p, PPP_PROTO_IPCP, &ppp_ipcp_ops);
	return 0;
}

void ppp_output(struct ppp *p, uint16_t proto, const uint8_t *info, size_t len)
{
	p->stats.tx_frames++;
	p->ops.output(p->ctx, proto, info, len);
}

static void sync_phase(struct ppp *p)
{
	enum ppp_phase ph;

	switch (p->lcp.state) {
	case PPP_ST_CLOSING:
	case PPP_ST_STOPPING:
		ph = PPP_PHASE_TERMINATE;
		break;
	case PPP_ST_REQ_SENT:
	case PPP_ST_ACK_RCVD:
	case PPP_ST_ACK_SENT:
		ph = PPP_PHASE_ESTABLISH;
		break;
	case PPP_ST_OPENED:
		ph = p->st.authenticated ? PPP_PHASE_NETWORK : PPP_PHASE_AUTHENTICATE;
		break;
	default:
		ph = PPP_PHASE_DEAD;
		break;
	}
	p->phase = ph;
	p->st.phase = (uint8_t)ph;
}

void ppp_emit(struct ppp *p, enum ppp_event_type type)
{
	struct ppp_event ev = { .type = type, .st = &p->st };

	if (type == PPP_EV_LINK_DOWN) {
		/* One LINK_DOWN per session: a close after ppp_lower_down() finishes LCP again
		 * (Starting -> tlf) but the owner was already told. */
		if (p->down_reported)
			return;
		p->down_reported = 1;
		ev.reason = p->reason;
	} else if (type == PPP_EV_LINK_UP) {
		p->down_reported = 0;
	}
	sync_phase(p);
	if (p->ops.event)
		p->ops.event(p->ctx, &ev);
}

void ppp_defer_close(struct ppp *p, enum ppp_down_reason reason)
{
	if (p->pending_close == PPP_DOWN_NONE)
		p->pending_close = reason;
}

/* Runs what callbacks asked for while the automata were busy, then updates the phase. */
static void settle(struct ppp *p, uint64_t now)
{
	while (p->pending_close != PPP_DOWN_NONE) {
		enum ppp_down_reason r = p->pending_close;
		p->pending_close = PPP_DOWN_NONE;
		if (p->lcp.state >= PPP_ST_REQ_SENT) {
			if (p->reason == PPP_DOWN_NONE)
				p->reason = r;
			ppp_fsm_close(&p->lcp, now);
		}
	}
	sync_phase(p);
}

int ppp_rand(struct ppp *p, void *buf, size_t len)
{
	if (p->ops.random)
		return p->ops.random(p->ctx, buf, len);
	return auth_random(buf, len);
}

/* A fresh non-zero magic number different from `avoid` (RFC 1661 6.4). */
uint32_t ppp_new_magic(struct ppp *p, uint32_t avoid)
{
	uint32_t m = 0;

	for (int i = 0; i < 8; i++) {
		uint8_t b[4];
		if (ppp_rand(p, b, sizeof(b)) < 0)
			break;
		m = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
		if (m && m != avoid)
			return m;
	}
	/* no usable randomness: still a valid, different value */
	return avoid + 0x9e3779b9u ? avoid + 0x9e3779b9u : 1;
}

void ppp_auth_done(struct ppp *p, uint64_t now)
{
	p->st.authenticated = 1;
	p->auth_running = 0;
	p->auth_timer = 0;
	if (p->st.auth_proto)
		ppp_emit(p, PPP_EV_AUTH_OK);
	/* RFC 1661 3.6: Network phase, IPCP starts */
	ppp_fsm_open(&p->ipcp, now);
	ppp_fsm_up(&p->ipcp, now);
}

void ppp_start(struct ppp *p, uint64_t now)
{
	p->reason = PPP_DOWN_NONE;
	p->pending_close = PPP_DOWN_NONE;
	p->down_reported = 0;
	p->loops = 0;
	p->echo_rejected = 0;
	ppp_fsm_open(&p->lcp, now);
	ppp_fsm_up(&p->lcp, now);
	settle(p, now);
}

void ppp_close(struct ppp *p, enum ppp_down_reason reason, uint64_t now)
{
	if (p->reason == PPP_DOWN_NONE)
		p->reason = reason == PPP_DOWN_NONE ? PPP_DOWN_ADMIN : reason;
	ppp_fsm_close(&p->lcp, now);
	settle(p, now);
}

void ppp_lower_down(struct ppp *p, uint64_t now)
{
	enum ppp_fsm_state s = p->lcp.state;

	if (p->reason == PPP_DOWN_NONE)
		p->reason = PPP_DOWN_CARRIER;
	p->pending_close = PPP_DOWN_NONE;
	ppp_fsm_down(&p->lcp, now);
	p->auth_running = 0;
	p->auth_timer = 0;
	p->echo_due = 0;
	if (s >= PPP_ST_CLOSING) { /* a session was in progress: say it is over */
		p->phase = PPP_PHASE_DEAD;
		ppp_emit(p, PPP_EV_LINK_DOWN);
	}
	sync_phase(p);
}

/* RFC 1661 5.7: the rejected protocol and as much of the packet as fits in the peer's MRU. */
static void send_protrej(struct ppp *p, uint16_t proto, const uint8_t *info, size_t len)
{
	uint8_t buf[PPP_PKT_MAX];
	size_t n = len < sizeof(buf) - 2 ? len : sizeof(buf) - 2;

	buf[0] = (uint8_t)(proto >> 8);
	buf[1] = (uint8_t)proto;
	if (n)
		memcpy(buf + 2, info, n);
	ppp_fsm_send(&p->lcp, PPP_PROTREJ, p->lcp.next_id++, buf, n + 2);
}

int ppp_input(struct ppp *p, uint16_t proto, const uint8_t *info, size_t len, uint64_t now)
{
	int rc = 0;
	int lcp_open = p->lcp.state == PPP_ST_OPENED;

	p->stats.rx_frames++;
	switch (proto) {
	case PPP_PROTO_LCP:
		if (p->lcp.state == PPP_ST_OPENED && p->reason == PPP_DOWN_NONE && len >= 1 &&
		    info[0] == PPP_TERMREQ)
			p->reason = PPP_DOWN_PEER;
		rc = ppp_fsm_input(&p->lcp, info, len, now);
		break;
	case PPP_PROTO_PAP:
	case PPP_PROTO_CHAP:
		/* RFC 1661 3.5: only with LCP opened, and only the negotiated protocol */
		if (!lcp_open || p->st.auth_proto != proto) {
			p->stats.rx_unexpected++;
			rc = -ENOTCONN;
		} else if (proto == PPP_PROTO_PAP) {
			ppp_pap_input(p, info, len, now);
		} else {
			ppp_chap_input(p, info, len, now);
		}
		break;
	case PPP_PROTO_IPCP:
		/* RFC 1661 3.5/3.6: NCP packets before the Network phase are discarded */
		if (!lcp_open || !p->st.authenticated) {
			p->stats.rx_unexpected++;
			rc = -ENOTCONN;
		} else {
			rc = ppp_fsm_input(&p->ipcp, info, len, now);
		}
		break;
	case PPP_PROTO_IP:
		if (p->ipcp.state != PPP_ST_OPENED) {
			p->stats.rx_unexpected++;
			rc = -ENOTCONN;
		} else {
			p->stats.rx_ip++;
			return 1;
		}
		break;
	default:
		if (!lcp_open) {
			p->stats.rx_unexpected++;
			rc = -ENOTCONN;
		} else {
			p->stats.rx_unknown_proto++;
			send_protrej(p, proto, info, len);
		}
		break;
	}
	settle(p, now);
	return rc < 0 ? rc : 0;
}

int ppp_send_ip(struct ppp *p, const uint8_t *pkt, size_t len)
{
	if (p->ipcp.state != PPP_ST_OPENED)
		return -ENOTCONN;
	if (len > p->st.mru_send)
		return -EMSGSIZE;
	p->stats.tx_ip++;
	ppp_output(p, PPP_PROTO_IP, pkt, len);
	return 0;
}

void ppp_tick(struct ppp *p, uint64_t now)
{
	ppp_fsm_tick(&p->lcp, now);
	ppp_fsm_tick(&p->ipcp, now);
	if (p->st.auth_proto == PPP_PROTO_PAP)
		ppp_pap_tick(p, now);
	else if (p->st.auth_proto == PPP_PROTO_CHAP)
		ppp_chap_tick(p, now);
	ppp_lcp_tick_echo(p, now);
	settle(p, now);
}

static uint64_t tmin(uint64_t a, uint64_t b)
{
	if (!b)
		return a;
	return b < a ? b : a;
}

uint64_t ppp_next_timeout(const struct ppp *p)
{
	uint64_t t = UINT64_MAX;

	t = tmin(t, p->lcp.timer);
	t = tmin(t, p->ipcp.timer);
	if (p->auth_running)
		t = tmin(t, p->auth_timer);
	if (p->lcp.state == PPP_ST_OPENED)
		t = tmin(t, p->echo_due);
	return t;
}

int ppp_is_up(const struct ppp *p)
{
	return p->lcp.state == PPP_ST_OPENED && p->st.authenticated &&
	       p->ipcp.state == PPP_ST_OPENED;
}

int ppp_state_export(const struct ppp *p, struct ppp_state *st)
{
	if (!ppp_is_up(p))
		return -ENOTCONN;
	*st = p->st;
	st->phase = PPP_PHASE_NETWORK;
	st->ipcp_opened = 1;
	st->lcp_next_id = p->lcp.next_id;
	st->ipcp_next_id = p->ipcp.next_id;
	return 0;
}

int ppp_state_import(struct ppp *p, const struct ppp_state *st, uint64_t now)
{
	if (p->lcp.state != PPP_ST_INITIAL || p->ipcp.state != PPP_ST_INITIAL)
		return -EBUSY;
	if (st->role != p->cfg.role || st->phase != PPP_PHASE_NETWORK || !st->ipcp_opened ||
	    !st->authenticated || st->mru_recv < PPP_MRU_MIN || st->mru_recv > PPP_MRU_MAX ||
	    st->mru_send < PPP_MRU_MIN || st->mru_send > PPP_MRU_MAX ||
	    !memchr(st->peer_name, 0, sizeof(st->peer_name)) ||
	    (st->auth_proto && st->auth_proto != PPP_PROTO_PAP && st->auth_proto != PPP_PROTO_CHAP))
		return -EINVAL;
	p->st = *st;
	/* what our requests would carry, so a later renegotiation starts from the same values */
	memset(&p->lcp_want, 0, sizeof(p->lcp_want));
	if (st->mru_recv != PPP_MRU_DEFAULT) {
		p->lcp_want.has |= PPP_OPT_BIT(PPP_LCP_MRU);
		p->lcp_want.mru = st->mru_recv;
	}
	if (st->accm_recv != PPP_HDLC_ACCM_DEFAULT) {
		p->lcp_want.has |= PPP_OPT_BIT(PPP_LCP_ACCM);
		p->lcp_want.accm = st->accm_recv;
	}
	if (st->magic_local) {
		p->lcp_want.has |= PPP_OPT_BIT(PPP_LCP_MAGIC);
		p->lcp_want.magic = st->magic_local;
	}
	if (st->role == PPP_ROLE_AUTHENTICATOR && st->auth_proto) {
		p->lcp_want.has |= PPP_OPT_BIT(PPP_LCP_AUTH);
		p->lcp_want.auth_proto = st->auth_proto;
		p->lcp_want.auth_alg = st->auth_proto == PPP_PROTO_CHAP ? PPP_CHAP_MD5 : 0;
	}
	if (st->pfc_recv)
		p->lcp_want.has |= PPP_OPT_BIT(PPP_LCP_PFC);
	if (st->acfc_recv)
		p->lcp_want.has |= PPP_OPT_BIT(PPP_LCP_ACFC);
	memset(&p->ipcp_want, 0, sizeof(p->ipcp_want));
	if (st->addr_local) {
		p->ipcp_want.has |= PPP_IPCP_BIT_ADDR;
		p->ipcp_want.addr = st->addr_local;
	}
	if (st->role == PPP_ROLE_PEER) {
		if (st->dns1)
			p->ipcp_want.has |= PPP_IPCP_BIT_DNS1;
		if (st->dns2)
			p->ipcp_want.has |= PPP_IPCP_BIT_DNS2;
		p->ipcp_want.dns1 = st->dns1;
		p->ipcp_want.dns2 = st->dns2;
	} else {
		p->peer_addr_known = 1;
	}
	p->lcp.state = PPP_ST_OPENED;
	p->ipcp.state = PPP_ST_OPENED;
	p->lcp.next_id = st->lcp_next_id;
	p->ipcp.next_id = st->ipcp_next_id;
	p->reason = PPP_DOWN_NONE;
	p->echo_pending = 0;
	p->echo_due = p->cfg.echo_interval_ms ? now + p->cfg.echo_interval_ms : 0;
	sync_phase(p);
	return 0;
}

void ppp_hdlc_tx_from_state(struct ppp_hdlc_tx *tx, const struct ppp_state *st)
{
	tx->accm = st->accm_send;
	tx->acfc = st->acfc_send;
	tx->pfc = st->pfc_send;
}
