/* CHAP with MD5 (RFC 1994): codec and both roles.  The authenticator sends a Challenge of
 * PPP_CHAP_CHALLENGE_LEN random bytes every restart interval (new Identifier and value each
 * time, 4.1) until a Response arrives, at most max_configure times; a duplicate Response to
 * an accepted Challenge gets Success again.  The peer answers every Challenge (also in the
 * Network phase: re-challenges, 3) and waits auth_timeout_ms for the verdict. */
#include <errno.h>
#include <string.h>

#include "ppp_int.h"
#include "roam/auth.h"

int ppp_chap_decode(const uint8_t *p, size_t len, struct ppp_chap *c)
{
	struct ppp_cp cp;
	struct rbuf r;

	memset(c, 0, sizeof(*c));
	if (ppp_cp_decode(p, len, &cp) < 0)
		return -EBADMSG;
	c->code = cp.code;
	c->id = cp.id;
	rbuf_init(&r, cp.data, cp.len);
	switch (cp.code) {
	case PPP_CHAP_CHALLENGE:
	case PPP_CHAP_RESPONSE:
		if (rbuf_get_u8(&r, &c->value_len) < 0 || c->value_len == 0 ||
		    rbuf_get_ptr(&r, c->value_len, &c->value) < 0)
			return -EBADMSG;
		c->name = r.p;
		c->name_len = rbuf_left(&r);
		break;
	case PPP_CHAP_SUCCESS:
	case PPP_CHAP_FAILURE:
		c->msg = r.p;
		c->msg_len = rbuf_left(&r);
		break;
	default:
		return -ENOTSUP;
	}
	return 0;
}

int ppp_chap_encode(struct wbuf *w, const struct ppp_chap *c)
{
	size_t off = w->len;

	wbuf_put_u8(w, c->code);
	wbuf_put_u8(w, c->id);
	wbuf_put_u16(w, 0);
	switch (c->code) {
	case PPP_CHAP_CHALLENGE:
	case PPP_CHAP_RESPONSE:
		if (c->value_len == 0)
			return -EINVAL;
		wbuf_put_u8(w, c->value_len);
		wbuf_put_bytes(w, c->value, c->value_len);
		wbuf_put_bytes(w, c->name, c->name_len);
		break;
	case PPP_CHAP_SUCCESS:
	case PPP_CHAP_FAILURE:
		wbuf_put_bytes(w, c->msg, c->msg_len);
		break;
	default:
		return -EINVAL;
	}
	if (w->err)
		return w->err;
	if (w->len - off > 0xffff)
		return -EMSGSIZE;
	wbuf_patch_u16(w, off + 2, (uint16_t)(w->len - off));
	return w->err;
}

int ppp_chap_md5(uint8_t id, const void *secret, size_t secret_len, const void *challenge,
                 size_t challenge_len, uint8_t out[16])
{
	uint8_t buf[1 + PPP_SECRET_MAX + 255];

	if (secret_len > PPP_SECRET_MAX || challenge_len > 255)
		return -EINVAL;
	buf[0] = id;
	memcpy(buf + 1, secret, secret_len);
	memcpy(buf + 1 + secret_len, challenge, challenge_len);
	int rc = auth_md5(buf, 1 + secret_len + challenge_len, out);
	memset(buf, 0, sizeof(buf));
	return rc;
}

static void chap_send(struct ppp *p, const struct ppp_chap *c)
{
	uint8_t buf[600];
	struct wbuf w;

	wbuf_init_fixed(&w, buf, sizeof(buf));
	if (ppp_chap_encode(&w, c) == 0)
		ppp_output(p, PPP_PROTO_CHAP, buf, w.len);
}

static void chap_verdict(struct ppp *p, uint8_t code, uint8_t id, const char *msg)
{
	struct ppp_chap c = { .code = code, .id = id };

	c.msg = (const uint8_t *)msg;
	c.msg_len = strlen(msg);
	chap_send(p, &c);
}

static void chap_send_challenge(struct ppp *p, uint64_t now)
{
	struct ppp_chap c = { .code = PPP_CHAP_CHALLENGE };

	if (ppp_rand(p, p->challenge, sizeof(p->challenge)) < 0) {
		p->auth_running = 0;
		ppp_defer_close(p, PPP_DOWN_AUTH_FAILED); /* no randomness: refuse, never weaken */
		return;
	}
	c.id = ++p->auth_id;
	c.value = p->challenge;
	c.value_len = sizeof(p->challenge);
	c.name = (const uint8_t *)p->cfg.name;
	c.name_len = strlen(p->cfg.name);
	p->auth_tries++;
	p->auth_timer = now + p->cfg.restart_ms;
	chap_send(p, &c);
}

void ppp_chap_start(struct ppp *p, uint64_t now)
{
	p->auth_running = 1;
	p->auth_tries = 0;
	if (p->cfg.role == PPP_ROLE_AUTHENTICATOR)
		chap_send_challenge(p, now);
	else
		p->auth_timer = now + p->cfg.auth_timeout_ms;
}

void ppp_chap_tick(struct ppp *p, uint64_t now)
{
	if (!p->auth_running || !p->auth_timer || now < p->auth_timer)
		return;
	p->auth_timer = 0;
	if (p->cfg.role == PPP_ROLE_AUTHENTICATOR && p->auth_tries < p->cfg.max_configure) {
		p->stats.retransmits++;
		chap_send_challenge(p, now);
		return;
	}
	p->auth_running = 0;
	ppp_defer_close(p, PPP_DOWN_AUTH_TIMEOUT);
}

static void chap_authenticator(struct ppp *p, const struct ppp_chap *c, uint64_t now)
{
	uint8_t secret[PPP_SECRET_MAX], expect[16];
	size_t slen = 0;
	char name[PPP_NAME_MAX + 1];
	int ok = 0;

	if (c->code != PPP_CHAP_RESPONSE) {
		p->stats.rx_unexpected++;
		return;
	}
	if (p->chap_succeeded) { /* our Success was lost (RFC 1994 4.2) */
		if (c->id == p->chap_success_id)
			chap_verdict(p, PPP_CHAP_SUCCESS, c->id, "Welcome");
		else
			p->stats.rx_bad_id++;
		return;
	}
	if (!p->auth_running || c->id != p->auth_id) {
		p->stats.rx_bad_id++;
		return;
	}
	if (c->value_len == 16 && c->name_len <= PPP_NAME_MAX && !memchr(c->name, 0, c->name_len)) {
		memcpy(name, c->name, c->name_len);
		name[c->name_len] = '\0';
		if (p->ops.get_secret && p->ops.get_secret(p->ctx, name, secret, &slen) == 0 &&
		    slen <= sizeof(secret) &&
		    ppp_chap_md5(c->id, secret, slen, p->challenge, sizeof(p->challenge), expect) == 0)
			ok = auth_equal(expect, c->value, 16);
		memset(secret, 0, sizeof(secret));
	}
	p->auth_running = 0;
	p->auth_timer = 0;
	if (!ok) {
		p->stats.auth_failures++;
		chap_verdict(p, PPP_CHAP_FAILURE, c->id, "Authentication failed");
		ppp_defer_close(p, PPP_DOWN_AUTH_FAILED);
		return;
	}
	memcpy(p->st.peer_name, name, sizeof(name));
	p->chap_succeeded = 1;
	p->chap_success_id = c->id;
	chap_verdict(p, PPP_CHAP_SUCCESS, c->id, "Welcome");
	ppp_auth_done(p, now);
}

static void chap_peer(struct ppp *p, const struct ppp_chap *c, uint64_t now)
{
	struct ppp_chap r = { .code = PPP_CHAP_RESPONSE };
	uint8_t digest[16];

	switch (c->code) {
	case PPP_CHAP_CHALLENGE:
		if (ppp_chap_md5(c->id, p->cfg.secret, p->cfg.secret_len, c->value, c->value_len,
		                 digest) < 0)
			return;
		r.id = c->id;
		r.value = digest;
		r.value_len = sizeof(digest);
		r.name = (const uint8_t *)p->cfg.name;
		r.name_len = strlen(p->cfg.name);
		p->auth_id = c->id;
		if (!p->st.authenticated) {
			p->auth_running = 1;
			p->auth_timer = now + p->cfg.auth_timeout_ms;
		}
		chap_send(p, &r);
		return;
	case PPP_CHAP_SUCCESS:
	case PPP_CHAP_FAILURE:
		if (c->id != p->auth_id || (!p->auth_running && !p->st.authenticated)) {
			p->stats.rx_bad_id++;
			return;
		}
		p->auth_running = 0;
		p->auth_timer = 0;
		if (c->code == PPP_CHAP_FAILURE) {
			p->stats.auth_failures++;
			ppp_defer_close(p, PPP_DOWN_AUTH_FAILED);
		} else if (!p->st.authenticated) {
			ppp_auth_done(p, now);
		}
		return;
	default:
		p->stats.rx_unexpected++;
	}
}

void ppp_chap_input(struct ppp *p, const uint8_t *pkt, size_t len, uint64_t now)
{
	struct ppp_chap c;

	if (ppp_chap_decode(pkt, len, &c) < 0) {
		p->stats.rx_malformed++;
		return;
	}
	if (p->cfg.role == PPP_ROLE_AUTHENTICATOR)
		chap_authenticator(p, &c, now);
	else
		chap_peer(p, &c, now);
}
