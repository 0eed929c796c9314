/* PAP (RFC 1334 2): codec and both roles.  The peer sends Authenticate-Request every restart
 * interval (new Identifier each time, 2.2.1) until Ack or Nak, at most max_configure times;
 * the authenticator waits auth_timeout_ms for the first request, answers a duplicate of an
 * accepted request with Ack again, and ends the link on a wrong name or password. */
#include <errno.h>
#include <string.h>

#include "ppp_int.h"
#include "roam/auth.h"

int ppp_pap_decode(const uint8_t *p, size_t len, struct ppp_pap *pap)
{
	struct ppp_cp cp;
	struct rbuf r;

	memset(pap, 0, sizeof(*pap));
	if (ppp_cp_decode(p, len, &cp) < 0)
		return -EBADMSG;
	pap->code = cp.code;
	pap->id = cp.id;
	rbuf_init(&r, cp.data, cp.len);
	switch (cp.code) {
	case PPP_PAP_REQ:
		if (rbuf_get_u8(&r, &pap->peer_id_len) < 0 ||
		    rbuf_get_ptr(&r, pap->peer_id_len, &pap->peer_id) < 0 ||
		    rbuf_get_u8(&r, &pap->passwd_len) < 0 ||
		    rbuf_get_ptr(&r, pap->passwd_len, &pap->passwd) < 0)
			return -EBADMSG;
		break;
	case PPP_PAP_ACK:
	case PPP_PAP_NAK:
		/* Msg-Length and Message; an empty data field is tolerated (some peers) */
		if (rbuf_left(&r) && (rbuf_get_u8(&r, &pap->msg_len) < 0 ||
		                      rbuf_get_ptr(&r, pap->msg_len, &pap->msg) < 0))
			return -EBADMSG;
		break;
	default:
		return -ENOTSUP;
	}
	return rbuf_left(&r) ? -EBADMSG : 0;
}

int ppp_pap_encode(struct wbuf *w, const struct ppp_pap *pap)
{
	size_t off = w->len, n;

	wbuf_put_u8(w, pap->code);
	wbuf_put_u8(w, pap->id);
	wbuf_put_u16(w, 0);
	if (pap->code == PPP_PAP_REQ) {
		wbuf_put_u8(w, pap->peer_id_len);
		wbuf_put_bytes(w, pap->peer_id, pap->peer_id_len);
		wbuf_put_u8(w, pap->passwd_len);
		wbuf_put_bytes(w, pap->passwd, pap->passwd_len);
	} else if (pap->code == PPP_PAP_ACK || pap->code == PPP_PAP_NAK) {
		wbuf_put_u8(w, pap->msg_len);
		wbuf_put_bytes(w, pap->msg, pap->msg_len);
	} else {
		return -EINVAL;
	}
	if (w->err)
		return w->err;
	n = w->len - off;
	wbuf_patch_u16(w, off + 2, (uint16_t)n);
	return w->err;
}

static void pap_send(struct ppp *p, const struct ppp_pap *pap)
{
	uint8_t buf[600];
	struct wbuf w;

	wbuf_init_fixed(&w, buf, sizeof(buf));
	if (ppp_pap_encode(&w, pap) == 0)
		ppp_output(p, PPP_PROTO_PAP, buf, w.len);
}

static void pap_send_req(struct ppp *p, uint64_t now)
{
	struct ppp_pap req = { .code = PPP_PAP_REQ };

	req.id = ++p->auth_id;
	req.peer_id = (const uint8_t *)p->cfg.name;
	req.peer_id_len = (uint8_t)strlen(p->cfg.name);
	req.passwd = p->cfg.secret;
	req.passwd_len = (uint8_t)p->cfg.secret_len;
	p->auth_tries++;
	p->auth_timer = now + p->cfg.restart_ms;
	pap_send(p, &req);
}

static void pap_reply(struct ppp *p, uint8_t code, uint8_t id, const char *msg)
{
	struct ppp_pap rep = { .code = code, .id = id };

	rep.msg = (const uint8_t *)msg;
	rep.msg_len = (uint8_t)strlen(msg);
	pap_send(p, &rep);
}

void ppp_pap_start(struct ppp *p, uint64_t now)
{
	p->auth_running = 1;
	p->auth_tries = 0;
	if (p->cfg.role == PPP_ROLE_PEER)
		pap_send_req(p, now);
	else
		p->auth_timer = now + p->cfg.auth_timeout_ms;
}

void ppp_pap_tick(struct ppp *p, uint64_t now)
{
	if (!p->auth_running || !p->auth_timer || now < p->auth_timer)
		return;
	p->auth_timer = 0;
	if (p->cfg.role == PPP_ROLE_PEER && p->auth_tries < p->cfg.max_configure) {
		p->stats.retransmits++;
		pap_send_req(p, now);
		return;
	}
	p->auth_running = 0;
	ppp_defer_close(p, PPP_DOWN_AUTH_TIMEOUT);
}

/* Name and password against the owner's credentials. */
static int pap_check(struct ppp *p, const char *name, const struct ppp_pap *req)
{
	uint8_t secret[PPP_SECRET_MAX];
	size_t slen = 0;
	int ok;

	if (p->ops.pap_verify)
		return p->ops.pap_verify(p->ctx, name, req->passwd, req->passwd_len);
	if (!p->ops.get_secret || p->ops.get_secret(p->ctx, name, secret, &slen) < 0 ||
	    slen > sizeof(secret))
		return -EACCES;
	ok = slen == req->passwd_len && auth_equal(secret, req->passwd, slen);
	memset(secret, 0, sizeof(secret));
	return ok ? 0 : -EACCES;
}

void ppp_pap_input(struct ppp *p, const uint8_t *pkt, size_t len, uint64_t now)
{
	struct ppp_pap pap;
	char name[PPP_NAME_MAX + 1];

	if (ppp_pap_decode(pkt, len, &pap) < 0) {
		p->stats.rx_malformed++;
		return;
	}
	if (p->cfg.role == PPP_ROLE_AUTHENTICATOR) {
		if (pap.code != PPP_PAP_REQ) {
			p->stats.rx_unexpected++;
			return;
		}
		if (p->st.authenticated) { /* our Ack was lost: the peer asks again */
			if (pap.peer_id_len == strlen(p->st.peer_name) &&
			    !memcmp(pap.peer_id, p->st.peer_name, pap.peer_id_len))
				pap_reply(p, PPP_PAP_ACK, pap.id, "Login ok");
			else
				p->stats.rx_unexpected++;
			return;
		}
		if (!p->auth_running) {
			p->stats.rx_unexpected++;
			return;
		}
		if (pap.peer_id_len > PPP_NAME_MAX || memchr(pap.peer_id, 0, pap.peer_id_len))
			goto fail;
		memcpy(name, pap.peer_id, pap.peer_id_len);
		name[pap.peer_id_len] = '\0';
		if (pap_check(p, name, &pap) < 0)
			goto fail;
		memcpy(p->st.peer_name, name, sizeof(name));
		pap_reply(p, PPP_PAP_ACK, pap.id, "Login ok");
		ppp_auth_done(p, now);
		return;
	fail:
		p->stats.auth_failures++;
		pap_reply(p, PPP_PAP_NAK, pap.id, "Authentication failed");
		p->auth_running = 0;
		p->auth_timer = 0;
		ppp_defer_close(p, PPP_DOWN_AUTH_FAILED);
		return;
	}
	/* peer */
	if (pap.code == PPP_PAP_REQ || !p->auth_running || pap.id != p->auth_id) {
		if (pap.code == PPP_PAP_REQ)
			p->stats.rx_unexpected++;
		else
			p->stats.rx_bad_id++;
		return;
	}
	p->auth_running = 0;
	p->auth_timer = 0;
	if (pap.code == PPP_PAP_ACK) {
		ppp_auth_done(p, now);
	} else {
		p->stats.auth_failures++;
		ppp_defer_close(p, PPP_DOWN_AUTH_FAILED);
	}
}
