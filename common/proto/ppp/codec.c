/* PPP control packet and option codecs (RFC 1661 5 and 6, RFC 1662 7.1, RFC 1332 3,
 * RFC 1877 1) and the address/control/protocol fields of a frame (RFC 1661 2, 6.5, 6.6). */
#include <errno.h>
#include <string.h>

#include "ppp_int.h"

int ppp_cp_decode(const uint8_t *p, size_t len, struct ppp_cp *cp)
{
	struct rbuf r;
	uint16_t plen;

	rbuf_init(&r, p, len);
	if (rbuf_get_u8(&r, &cp->code) < 0 || rbuf_get_u8(&r, &cp->id) < 0 ||
	    rbuf_get_u16(&r, &plen) < 0)
		return -EBADMSG;
	if (plen < 4 || plen > len)
		return -EBADMSG;
	cp->data = p + 4;
	cp->len = (size_t)plen - 4; /* anything after Length is padding (RFC 1661 5) */
	return 0;
}

int ppp_cp_encode(struct wbuf *w, uint8_t code, uint8_t id, const void *data, size_t len)
{
	if (len > 0xffff - 4)
		return -EMSGSIZE;
	wbuf_put_u8(w, code);
	wbuf_put_u8(w, id);
	wbuf_put_u16(w, (uint16_t)(len + 4));
	if (len)
		wbuf_put_bytes(w, data, len);
	return w->err;
}

int ppp_opt_next(struct rbuf *r, struct ppp_opt *o)
{
	uint8_t t, l;
	struct rbuf sub;

	if (!rbuf_left(r))
		return 0;
	if (rbuf_get_u8(r, &t) < 0 || rbuf_get_u8(r, &l) < 0 || l < 2 ||
	    rbuf_sub(r, (size_t)l - 2, &sub) < 0)
		return -EBADMSG;
	o->type = t;
	o->val = sub.p;
	o->len = (uint8_t)(l - 2);
	return 1;
}

int ppp_opts_check(const uint8_t *p, size_t len)
{
	struct rbuf r;
	struct ppp_opt o;
	int rc;

	rbuf_init(&r, p, len);
	while ((rc = ppp_opt_next(&r, &o)) > 0)
		;
	return rc;
}

void ppp_put_opt(struct wbuf *w, uint8_t type, const void *val, size_t len)
{
	wbuf_put_u8(w, type);
	wbuf_put_u8(w, (uint8_t)(len + 2));
	wbuf_put_bytes(w, val, len);
}

void ppp_put_opt16(struct wbuf *w, uint8_t type, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };
	ppp_put_opt(w, type, b, 2);
}

void ppp_put_opt32(struct wbuf *w, uint8_t type, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
	ppp_put_opt(w, type, b, 4);
}

int ppp_optreply_init(struct ppp_optreply *q, const uint8_t *opts, size_t len)
{
	if (ppp_opts_check(opts, len) < 0)
		return -EBADMSG;
	rbuf_init(&q->r, opts, len);
	wbuf_init_fixed(&q->nak, q->nakbuf, sizeof(q->nakbuf));
	wbuf_init_fixed(&q->rej, q->rejbuf, sizeof(q->rejbuf));
	q->nak_mark = 0;
	return 0;
}

int ppp_optreply_next(struct ppp_optreply *q, struct ppp_opt *o)
{
	q->nak_mark = q->nak.len;
	return ppp_opt_next(&q->r, o);
}

int ppp_optreply_verdict(struct ppp_optreply *q, const struct ppp_opt *o, int verdict,
                         int reject_naks)
{
	if (verdict == PPP_CONFNAK && reject_naks)
		verdict = PPP_CONFREJ;
	if (verdict == PPP_CONFREJ) {
		q->nak.len = q->nak_mark;
		ppp_put_opt(&q->rej, o->type, o->val, o->len);
	}
	return verdict;
}

int ppp_optreply_finish(struct ppp_optreply *q, struct wbuf *reply)
{
	if (q->nak.err || q->rej.err)
		return -EBADMSG;
	if (q->rej.len) {
		wbuf_put_bytes(reply, q->rejbuf, q->rej.len);
		return PPP_CONFREJ;
	}
	if (q->nak.len) {
		wbuf_put_bytes(reply, q->nakbuf, q->nak.len);
		return PPP_CONFNAK;
	}
	return PPP_CONFACK;
}

int ppp_lcp_opts_decode(const uint8_t *p, size_t len, struct ppp_lcp_opts *o)
{
	struct rbuf r;
	struct ppp_opt opt;
	int rc;

	memset(o, 0, sizeof(*o));
	rbuf_init(&r, p, len);
	while ((rc = ppp_opt_next(&r, &opt)) > 0) {
		if (opt.type >= 32 || (o->has & PPP_OPT_BIT(opt.type)))
			return -EBADMSG;
		switch (opt.type) {
		case PPP_LCP_MRU:
			if (opt.len != 2)
				return -EBADMSG;
			o->mru = ppp_get16(opt.val);
			break;
		case PPP_LCP_ACCM:
			if (opt.len != 4)
				return -EBADMSG;
			o->accm = ppp_get32(opt.val);
			break;
		case PPP_LCP_AUTH:
			if (opt.len < 2)
				return -EBADMSG;
			o->auth_proto = ppp_get16(opt.val);
			if (o->auth_proto == PPP_PROTO_PAP) {
				if (opt.len != 2)
					return -EBADMSG;
			} else if (o->auth_proto == PPP_PROTO_CHAP) {
				if (opt.len != 3)
					return -EBADMSG;
				o->auth_alg = opt.val[2];
			} else {
				return -ENOTSUP;
			}
			break;
		case PPP_LCP_MAGIC:
			if (opt.len != 4)
				return -EBADMSG;
			o->magic = ppp_get32(opt.val);
			break;
		case PPP_LCP_PFC:
		case PPP_LCP_ACFC:
			if (opt.len != 0)
				return -EBADMSG;
			break;
		default:
			return -EBADMSG;
		}
		o->has |= PPP_OPT_BIT(opt.type);
	}
	return rc;
}

int ppp_lcp_opts_encode(struct wbuf *w, const struct ppp_lcp_opts *o)
{
	if (o->has & PPP_OPT_BIT(PPP_LCP_MRU)) {
		wbuf_put_u8(w, PPP_LCP_MRU);
		wbuf_put_u8(w, 4);
		wbuf_put_u16(w, o->mru);
	}
	if (o->has & PPP_OPT_BIT(PPP_LCP_ACCM)) {
		wbuf_put_u8(w, PPP_LCP_ACCM);
		wbuf_put_u8(w, 6);
		wbuf_put_u32(w, o->accm);
	}
	if (o->has & PPP_OPT_BIT(PPP_LCP_AUTH)) {
		int chap = o->auth_proto == PPP_PROTO_CHAP;
		wbuf_put_u8(w, PPP_LCP_AUTH);
		wbuf_put_u8(w, chap ? 5 : 4);
		wbuf_put_u16(w, o->auth_proto);
		if (chap)
			wbuf_put_u8(w, o->auth_alg);
	}
	if (o->has & PPP_OPT_BIT(PPP_LCP_MAGIC)) {
		wbuf_put_u8(w, PPP_LCP_MAGIC);
		wbuf_put_u8(w, 6);
		wbuf_put_u32(w, o->magic);
	}
	if (o->has & PPP_OPT_BIT(PPP_LCP_PFC)) {
		wbuf_put_u8(w, PPP_LCP_PFC);
		wbuf_put_u8(w, 2);
	}
	if (o->has & PPP_OPT_BIT(PPP_LCP_ACFC)) {
		wbuf_put_u8(w, PPP_LCP_ACFC);
		wbuf_put_u8(w, 2);
	}
	return w->err;
}

int ppp_ipcp_opts_decode(const uint8_t *p, size_t len, struct ppp_ipcp_opts *o)
{
	struct rbuf r;
	struct ppp_opt opt;
	uint32_t bit, *dst;
	int rc;

	memset(o, 0, sizeof(*o));
	rbuf_init(&r, p, len);
	while ((rc = ppp_opt_next(&r, &opt)) > 0) {
		switch (opt.type) {
		case PPP_IPCP_ADDR: bit = PPP_IPCP_BIT_ADDR; dst = &o->addr; break;
		case PPP_IPCP_DNS1: bit = PPP_IPCP_BIT_DNS1; dst = &o->dns1; break;
		case PPP_IPCP_DNS2: bit = PPP_IPCP_BIT_DNS2; dst = &o->dns2; break;
		default: return -EBADMSG;
		}
		if (opt.len != 4 || (o->has & bit))
			return -EBADMSG;
		*dst = ppp_get32(opt.val);
		o->has |= bit;
	}
	return rc;
}

static void put_addr_opt(struct wbuf *w, uint8_t type, uint32_t a)
{
	wbuf_put_u8(w, type);
	wbuf_put_u8(w, 6);
	wbuf_put_u32(w, a);
}

int ppp_ipcp_opts_encode(struct wbuf *w, const struct ppp_ipcp_opts *o)
{
	if (o->has & PPP_IPCP_BIT_ADDR)
		put_addr_opt(w, PPP_IPCP_ADDR, o->addr);
	if (o->has & PPP_IPCP_BIT_DNS1)
		put_addr_opt(w, PPP_IPCP_DNS1, o->dns1);
	if (o->has & PPP_IPCP_BIT_DNS2)
		put_addr_opt(w, PPP_IPCP_DNS2, o->dns2);
	return w->err;
}

int ppp_frame_parse(const uint8_t *p, size_t len, uint16_t *proto, const uint8_t **info,
                    size_t *info_len)
{
	struct rbuf r;
	uint8_t b0, b1;

	rbuf_init(&r, p, len);
	if (rbuf_peek_u8(&r, &b0) < 0)
		return -EBADMSG;
	if (b0 == 0xff) { /* address; ACFC may have removed it (RFC 1661 6.6) */
		rbuf_skip(&r, 1);
		if (rbuf_get_u8(&r, &b1) < 0 || b1 != 0x03)
			return -EBADMSG;
	}
	if (rbuf_get_u8(&r, &b0) < 0)
		return -EBADMSG;
	if (b0 & 1) { /* compressed protocol field (RFC 1661 6.5) */
		*proto = b0;
	} else {
		if (rbuf_get_u8(&r, &b1) < 0 || !(b1 & 1))
			return -EBADMSG;
		*proto = (uint16_t)(b0 << 8 | b1);
	}
	*info = r.p;
	*info_len = rbuf_left(&r);
	return 0;
}

void ppp_frame_hdr_encode(struct wbuf *w, uint16_t proto, int acfc, int pfc)
{
	if (proto == PPP_PROTO_LCP)
		acfc = pfc = 0;
	if (!acfc) {
		wbuf_put_u8(w, 0xff);
		wbuf_put_u8(w, 0x03);
	}
	if (pfc && proto < 0x100)
		wbuf_put_u8(w, (uint8_t)proto);
	else
		wbuf_put_u16(w, proto);
}

const char *ppp_down_reason_str(enum ppp_down_reason r)
{
	switch (r) {
	case PPP_DOWN_NONE: return "none";
	case PPP_DOWN_ADMIN: return "closed";
	case PPP_DOWN_PEER: return "terminated by peer";
	case PPP_DOWN_CARRIER: return "carrier lost";
	case PPP_DOWN_TIMEOUT: return "negotiation timeout";
	case PPP_DOWN_NEGOTIATION: return "negotiation failed";
	case PPP_DOWN_AUTH_FAILED: return "authentication failed";
	case PPP_DOWN_AUTH_TIMEOUT: return "authentication timeout";
	case PPP_DOWN_LOOPBACK: return "link looped back";
	case PPP_DOWN_ECHO_TIMEOUT: return "echo timeout";
	case PPP_DOWN_PROTO_REJECTED: return "protocol rejected";
	case PPP_DOWN_NO_ADDRESS: return "no address";
	case PPP_DOWN_IPCP_FAILED: return "IPCP failed";
	}
	return "unknown";
}

const char *ppp_phase_str(enum ppp_phase p)
{
	static const char *const n[] = { "dead", "establish", "authenticate", "network",
		                         "terminate" };
	return (unsigned)p < 5 ? n[p] : "unknown";
}

const char *ppp_fsm_state_str(enum ppp_fsm_state s)
{
	static const char *const n[] = { "initial", "starting", "closed",   "stopped",
		                         "closing", "stopping", "req-sent", "ack-rcvd",
		                         "ack-sent", "opened" };
	return (unsigned)s < 10 ? n[s] : "unknown";
}

/* ---- negotiated state (docs/protocols/ppp.md "Negotiated state, serialised") ---- */

#define ST_PFC_SEND  0x01
#define ST_ACFC_SEND 0x02
#define ST_PFC_RECV  0x04
#define ST_ACFC_RECV 0x08
#define ST_AUTHED    0x10
#define ST_IPCP      0x20

int ppp_state_encode(struct wbuf *w, const struct ppp_state *st)
{
	const void *nul = memchr(st->peer_name, 0, sizeof(st->peer_name));
	if (st->role > PPP_ROLE_AUTHENTICATOR || st->phase > PPP_PHASE_TERMINATE || !nul ||
	    st->pfc_send > 1 || st->acfc_send > 1 || st->pfc_recv > 1 || st->acfc_recv > 1 ||
	    st->authenticated > 1 || st->ipcp_opened > 1)
		return -EINVAL;
	size_t nl = (size_t)((const char *)nul - st->peer_name);
	uint8_t flags = (uint8_t)((st->pfc_send ? ST_PFC_SEND : 0) |
				  (st->acfc_send ? ST_ACFC_SEND : 0) |
				  (st->pfc_recv ? ST_PFC_RECV : 0) |
				  (st->acfc_recv ? ST_ACFC_RECV : 0) |
				  (st->authenticated ? ST_AUTHED : 0) |
				  (st->ipcp_opened ? ST_IPCP : 0));
	wbuf_put_u8(w, PPP_STATE_VERSION);
	wbuf_put_u8(w, st->role);
	wbuf_put_u8(w, st->phase);
	wbuf_put_u16(w, st->mru_recv);
	wbuf_put_u16(w, st->mru_send);
	wbuf_put_u32(w, st->accm_recv);
	wbuf_put_u32(w, st->accm_send);
	wbuf_put_u32(w, st->magic_local);
	wbuf_put_u32(w, st->magic_peer);
	wbuf_put_u8(w, flags);
	wbuf_put_u16(w, st->auth_proto);
	wbuf_put_u32(w, st->addr_local);
	wbuf_put_u32(w, st->addr_peer);
	wbuf_put_u32(w, st->dns1);
	wbuf_put_u32(w, st->dns2);
	wbuf_put_u8(w, st->lcp_next_id);
	wbuf_put_u8(w, st->ipcp_next_id);
	wbuf_put_u8(w, (uint8_t)nl);
	wbuf_put_bytes(w, st->peer_name, nl);
	return w->err ? w->err : 0;
}

int ppp_state_decode(struct rbuf *r, struct ppp_state *st)
{
	uint8_t ver, flags, nl;
	memset(st, 0, sizeof(*st));
	if (rbuf_get_u8(r, &ver) < 0 || ver != PPP_STATE_VERSION || rbuf_get_u8(r, &st->role) < 0 ||
	    rbuf_get_u8(r, &st->phase) < 0 || rbuf_get_u16(r, &st->mru_recv) < 0 ||
	    rbuf_get_u16(r, &st->mru_send) < 0 || rbuf_get_u32(r, &st->accm_recv) < 0 ||
	    rbuf_get_u32(r, &st->accm_send) < 0 || rbuf_get_u32(r, &st->magic_local) < 0 ||
	    rbuf_get_u32(r, &st->magic_peer) < 0 || rbuf_get_u8(r, &flags) < 0 ||
	    rbuf_get_u16(r, &st->auth_proto) < 0 || rbuf_get_u32(r, &st->addr_local) < 0 ||
	    rbuf_get_u32(r, &st->addr_peer) < 0 || rbuf_get_u32(r, &st->dns1) < 0 ||
	    rbuf_get_u32(r, &st->dns2) < 0 || rbuf_get_u8(r, &st->lcp_next_id) < 0 ||
	    rbuf_get_u8(r, &st->ipcp_next_id) < 0 || rbuf_get_u8(r, &nl) < 0 ||
	    nl > PPP_NAME_MAX || rbuf_get_bytes(r, st->peer_name, nl) < 0 || rbuf_left(r) != 0)
		goto bad;
	if (st->role > PPP_ROLE_AUTHENTICATOR || st->phase > PPP_PHASE_TERMINATE ||
	    (flags & ~(ST_PFC_SEND | ST_ACFC_SEND | ST_PFC_RECV | ST_ACFC_RECV | ST_AUTHED |
		       ST_IPCP)) ||
	    memchr(st->peer_name, 0, nl))
		goto bad;
	st->pfc_send = !!(flags & ST_PFC_SEND);
	st->acfc_send = !!(flags & ST_ACFC_SEND);
	st->pfc_recv = !!(flags & ST_PFC_RECV);
	st->acfc_recv = !!(flags & ST_ACFC_RECV);
	st->authenticated = !!(flags & ST_AUTHED);
	st->ipcp_opened = !!(flags & ST_IPCP);
	return 0;
bad:
	memset(st, 0, sizeof(*st));
	return -EBADMSG;
}
