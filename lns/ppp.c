/* PPP termination at the LNS (docs/protocols/ppp.md): per established call a struct ppp in
 * the authenticator role (PAP and/or CHAP against the credentials of lnsd.yaml, an IPv4
 * address from the pool by IPCP), fed by the call's L2TP data messages.  IPv4 packets from the
 * mobile go to one TUN device; the kernel routes them.  Packets the kernel routes to the TUN
 * device for an assigned address (a host route per address, installed by netlink) go to that
 * mobile's call.  PPP going down (LINK_DOWN: wrong password, Terminate-Request, echo timeout)
 * clears the call with CDN; the call ending frees the address. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lnsd.h"
#include "roam/auth.h"

/* ---- credentials ---- */

static void creds_free(struct lnsd_cred *c, size_t n)
{
	if (c)
		explicit_bzero(c, n * sizeof(*c));
	free(c);
}

/* "name secret" per line; blank lines and lines starting with '#' ignored.  Replaces
 * h->creds only on success. */
static int parse_creds(struct lnsd *h, const struct conf_bytes *text)
{
	struct lnsd_cred *creds = NULL;
	size_t ncreds = 0, lineno = 0;
	const uint8_t *p = text->data;
	size_t len = text->len;
	char line[PPP_NAME_MAX + PPP_SECRET_MAX + 8];
	int r = 0;

	while (len > 0) {
		const uint8_t *nl = memchr(p, '\n', len);
		size_t n = nl ? (size_t)(nl - p) : len;
		lineno++;
		if (n >= sizeof(line)) {
			log_warnx("ppp.credentials line %zu: too long", lineno);
			r = -EINVAL;
			goto out;
		}
		memcpy(line, p, n);
		line[n] = 0;
		p += nl ? n + 1 : n;
		len -= nl ? n + 1 : n;
		if (memchr(line, 0, n)) {
			log_warnx("ppp.credentials line %zu: NUL byte", lineno);
			r = -EINVAL;
			goto out;
		}
		if (n && line[n - 1] == '\r')
			line[--n] = 0;
		char *s = line;
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s || *s == '#')
			continue;
		char *name = s;
		while (*s && *s != ' ' && *s != '\t')
			s++;
		if (!*s) {
			log_warnx("ppp.credentials line %zu: \"name secret\" expected", lineno);
			r = -EINVAL;
			goto out;
		}
		*s++ = 0;
		while (*s == ' ' || *s == '\t')
			s++;
		size_t sl = strlen(s);
		while (sl && (s[sl - 1] == ' ' || s[sl - 1] == '\t'))
			s[--sl] = 0;
		if (!sl || sl > PPP_SECRET_MAX || strlen(name) > PPP_NAME_MAX) {
			log_warnx("ppp.credentials line %zu: empty or too long", lineno);
			r = -EINVAL;
			goto out;
		}
		struct lnsd_cred *c = realloc(creds, (ncreds + 1) * sizeof(*c));
		if (!c) {
			r = -ENOMEM;
			goto out;
		}
		creds = c;
		c = &creds[ncreds++];
		memset(c, 0, sizeof(*c));
		snprintf(c->name, sizeof(c->name), "%s", name);
		memcpy(c->secret, s, sl);
		c->secret_len = sl;
	}
	creds_free(h->creds, h->ncreds);
	h->creds = creds;
	h->ncreds = ncreds;
	creds = NULL;
	ncreds = 0;
out:
	explicit_bzero(line, sizeof(line));
	creds_free(creds, ncreds);
	return r;
}

static const struct lnsd_cred *cred_find(const struct lnsd *h, const char *name)
{
	for (size_t i = 0; i < h->ncreds; i++)
		if (strcmp(h->creds[i].name, name) == 0)
			return &h->creds[i];
	return NULL;
}

/* ---- the pool ---- */

static uint32_t ip4_host(const struct roam_ipaddr *a)
{
	uint32_t v;
	memcpy(&v, &a->v4, 4);
	return ntohl(v);
}

static int pool_init(struct lnsd *h)
{
	const struct roam_prefix *p = &h->conf.ppp.pool;
	struct lnsd_pool *pl = &h->pool;
	memset(pl, 0, sizeof(*pl));
	if (p->addr.family != AF_INET || p->len < 16 || p->len > 30)
		return -EINVAL;
	pl->size = 1u << (32 - p->len);
	pl->base = ip4_host(&p->addr) & ~(pl->size - 1);
	pl->bits = calloc(pl->size / 8, 1);
	if (!pl->bits)
		return -ENOMEM;
	/* Network and broadcast addresses, and ours, are never handed out. */
	pl->bits[0] |= 1;
	pl->bits[(pl->size - 1) / 8] |= (uint8_t)(1u << ((pl->size - 1) % 8));
	uint32_t local = h->conf.ppp.local_address.family == AF_INET
				 ? ip4_host(&h->conf.ppp.local_address) : 0;
	if (local - pl->base < pl->size)
		pl->bits[(local - pl->base) / 8] |= (uint8_t)(1u << ((local - pl->base) % 8));
	return 0;
}

static int pool_taken(const struct lnsd_pool *pl, uint32_t i)
{
	return pl->bits[i / 8] & (1u << (i % 8));
}

/* An address (host order), the requested one when it is free in the pool.  0: exhausted. */
static uint32_t pool_alloc(struct lnsd_pool *pl, uint32_t requested)
{
	if (!pl->bits)
		return 0;
	if (requested - pl->base < pl->size && !pool_taken(pl, requested - pl->base)) {
		uint32_t i = requested - pl->base;
		pl->bits[i / 8] |= (uint8_t)(1u << (i % 8));
		pl->used++;
		return requested;
	}
	/* Round robin from the last one handed out: an address is not reused at once. */
	for (uint32_t k = 0; k < pl->size; k++) {
		uint32_t i = (pl->next + k) % pl->size;
		if (!pool_taken(pl, i)) {
			pl->bits[i / 8] |= (uint8_t)(1u << (i % 8));
			pl->used++;
			pl->next = i + 1;
			return pl->base + i;
		}
	}
	return 0;
}

static void pool_free(struct lnsd_pool *pl, uint32_t addr)
{
	uint32_t i = addr - pl->base;
	if (!pl->bits || i >= pl->size || !pool_taken(pl, i))
		return;
	pl->bits[i / 8] &= (uint8_t) ~(1u << (i % 8));
	pl->used--;
}

static void addr_fmt(uint32_t a, char *b, size_t n)
{
	snprintf(b, n, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

static void host_prefix(uint32_t a, struct roam_prefix *p)
{
	uint32_t n = htonl(a);
	memset(p, 0, sizeof(*p));
	p->addr.family = AF_INET;
	memcpy(&p->addr.v4, &n, 4);
	p->len = 32;
}

/* ---- set-up ---- */

static void tun_write(struct lnsd *h, const uint8_t *pkt, size_t len)
{
	if (!h->tun || roam_tun_write(h->tun, pkt, len) < 0)
		h->pstats.drop_tun_write++;
}

int lnsd_ppp_init(struct lnsd *h)
{
	int r;
	if (h->ppp_ready || !h->conf.ppp.enabled)
		return 0;
	if ((r = parse_creds(h, &h->conf.ppp.credentials)) < 0)
		goto fail;
	if ((r = pool_init(h)) < 0) {
		log_warnx("ppp.pool: an IPv4 prefix of length 16..30 expected");
		goto fail;
	}
	if ((r = table_init(&h->by_addr, NULL, NULL, h)) < 0)
		goto fail;
	if (!h->tun_tx)
		h->tun_tx = tun_write;
	h->ppp_ready = true;
	return 0;
fail:
	creds_free(h->creds, h->ncreds);
	h->creds = NULL;
	h->ncreds = 0;
	free(h->pool.bits);
	h->pool.bits = NULL;
	return r;
}

int lnsd_ppp_reload(struct lnsd *h, const struct lnsd_conf *nc)
{
	int r;
	if (!h->ppp_ready)
		return 0;
	if ((r = parse_creds(h, &nc->ppp.credentials)) < 0)
		return r;
	log_info("ppp: %zu credentials", h->ncreds);
	return 0;
}

void lnsd_ppp_destroy(struct lnsd *h)
{
	if (!h->ppp_ready)
		return;
	table_destroy(&h->by_addr);
	creds_free(h->creds, h->ncreds);
	h->creds = NULL;
	h->ncreds = 0;
	free(h->pool.bits);
	h->pool.bits = NULL;
	h->ppp_ready = false;
}

/* ---- PPP callbacks ---- */

static void ppp_output(void *ctx, uint16_t proto, const uint8_t *info, size_t len)
{
	struct lnsd_session *s = ctx;
	struct lnsd *h = s->s.t->ep->role;
	uint8_t frame[4 + PPP_MRU_MAX + 64];
	struct wbuf w;
	wbuf_init_fixed(&w, frame, sizeof(frame));
	ppp_frame_hdr_encode(&w, proto, 0, 0);
	wbuf_put_bytes(&w, info, len);
	if (w.err || l2tp_session_send_data(&s->s, frame, w.len) < 0)
		h->pstats.drop_send++;
}

static int ppp_get_secret(void *ctx, const char *name, uint8_t *secret, size_t *len)
{
	struct lnsd_session *s = ctx;
	const struct lnsd_cred *c = cred_find(s->s.t->ep->role, name);
	if (!c)
		return -ENOENT;
	memcpy(secret, c->secret, c->secret_len);
	*len = c->secret_len;
	return 0;
}

static int ppp_get_peer_addr(void *ctx, const char *name, uint32_t requested, uint32_t *addr)
{
	struct lnsd_session *s = ctx;
	struct lnsd *h = s->s.t->ep->role;
	char b[16];
	if (!s->addr) {
		s->addr = pool_alloc(&h->pool, requested);
		if (!s->addr) {
			h->pstats.no_address++;
			log_warnx("session %u (%s): address pool exhausted", s->s.id, name);
			return -ENOSPC;
		}
		uint32_t n = htonl(s->addr);
		memcpy(s->akey, &n, 4);
		if (table_insert(&h->by_addr, &s->anode, s->akey, 4) < 0) {
			pool_free(&h->pool, s->addr);
			s->addr = 0;
			return -ENOMEM;
		}
		h->pstats.addr_assigned++;
		addr_fmt(s->addr, b, sizeof(b));
		log_info("session %u (%s, MIN %s): address %s", s->s.id, name, s->calling, b);
	}
	*addr = s->addr;
	return 0;
}

/* The host route of addr to the TUN device: 0 or -errno (counted, logged). */
static int route_addr(struct lnsd *h, uint32_t addr, bool add)
{
	struct roam_nl_route rt;
	char b[16];
	int r;
	memset(&rt, 0, sizeof(rt));
	host_prefix(addr, &rt.dst);
	rt.oif = h->tun_ifindex;
	r = add ? roam_nl_route_replace(h->nl, &rt) : roam_nl_route_del(h->nl, &rt);
	if (r < 0 && !(add == false && r == -ESRCH)) {
		h->pstats.route_errors++;
		addr_fmt(addr, b, sizeof(b));
		log_warnx("route %s %s: %s", add ? "add" : "delete", b, strerror(-r));
		return r;
	}
	if (add)
		h->pstats.routes_added++;
	return 0;
}

static void route_set(struct lnsd *h, struct lnsd_session *s, bool add)
{
	if (!h->nl || !s->addr || s->route == add)
		return;
	if (route_addr(h, s->addr, add) == 0)
		s->route = add;
}

static void addr_release(struct lnsd *h, struct lnsd_session *s)
{
	char b[16];
	if (!s->addr)
		return;
	route_set(h, s, false);
	if (table_node_linked(&s->anode))
		table_remove(&h->by_addr, &s->anode);
	pool_free(&h->pool, s->addr);
	h->pstats.addr_released++;
	addr_fmt(s->addr, b, sizeof(b));
	log_info("session %u: address %s released", s->s.id, b);
	s->addr = 0;
}

/* SLI (RFC 2661 6.15) with the ACCMs LCP negotiated, for the LAC's HDLC framing: Send ACCM
 * is what the LAC uses towards the mobile (what the mobile asked for), Receive ACCM what it
 * expects from the mobile (what we asked for). */
static void send_sli(struct lnsd *h, struct lnsd_session *s, const struct ppp_state *st)
{
	struct l2tp_tunnel *t = s->s.t;
	if (!s->s.peer_id || t->state != L2TP_TUN_ESTABLISHED)
		return;
	struct l2tp_msg *m = l2tp_ep_msg(&h->ep, L2TP_MSG_SLI, s->s.peer_id);
	m->avps = L2TP_AVP_BIT(L2TP_AVP_ACCM);
	m->accm_send = st->accm_send;
	m->accm_recv = st->accm_recv;
	if (l2tp_tunnel_send(t, m, h->ep.now) == 0)
		h->pstats.sli_sent++;
}

static void ppp_event(void *ctx, const struct ppp_event *ev)
{
	struct lnsd_session *s = ctx;
	struct lnsd *h = s->s.t->ep->role;
	uint64_t now = h->ep.now;
	switch (ev->type) {
	case PPP_EV_LINK_UP:
		h->pstats.negotiations++;
		log_debug("session %u: LCP opened", s->s.id);
		send_sli(h, s, ev->st);
		break;
	case PPP_EV_AUTH_OK:
		h->pstats.auth_ok++;
		log_info("session %u (MIN %s): authenticated as %s", s->s.id, s->calling,
			 ev->st->peer_name);
		break;
	case PPP_EV_NETWORK_UP:
		h->pstats.ppp_up++;
		s->ppp_up = now;
		route_set(h, s, true);
		log_info("session %u (%s): PPP up in %llu ms", s->s.id, ev->st->peer_name,
			 (unsigned long long)(now - s->ppp_started));
		break;
	case PPP_EV_NETWORK_DOWN:
		route_set(h, s, false);
		break;
	case PPP_EV_LINK_DOWN:
		h->pstats.ppp_down++;
		if (ev->reason == PPP_DOWN_AUTH_FAILED || ev->reason == PPP_DOWN_AUTH_TIMEOUT)
			h->pstats.auth_failed++;
		log_info("session %u (MIN %s): PPP down: %s", s->s.id, s->calling,
			 ppp_down_reason_str(ev->reason));
		addr_release(h, s);
		s->ppp_dead = true; /* the call is cleared once the PPP call returns */
		break;
	}
}

static const struct ppp_ops lnsd_ppp_ops = {
	.output = ppp_output,
	.event = ppp_event,
	.get_secret = ppp_get_secret,
	.get_peer_addr = ppp_get_peer_addr,
};

static void ppp_cfg_of(const struct lnsd *h, struct ppp_cfg *cfg)
{
	const struct lnsd_conf_ppp *c = &h->conf.ppp;
	ppp_cfg_default(cfg, PPP_ROLE_AUTHENTICATOR);
	cfg->auth = c->auth == LNSD_AUTH_PAP    ? PPP_AUTH_PAP
		    : c->auth == LNSD_AUTH_CHAP ? PPP_AUTH_CHAP
		    : c->auth == LNSD_AUTH_ANY  ? PPP_AUTH_PAP | PPP_AUTH_CHAP
						: 0;
	snprintf(cfg->name, sizeof(cfg->name), "%s", c->name);
	cfg->local_addr = c->local_address.family == AF_INET ? ip4_host(&c->local_address) : 0;
	cfg->dns1 = c->dns1.family == AF_INET ? ip4_host(&c->dns1) : 0;
	cfg->dns2 = c->dns2.family == AF_INET ? ip4_host(&c->dns2) : 0;
	cfg->echo_interval_ms = c->echo_interval;
}

int lnsd_ppp_start(struct lnsd *h, struct lnsd_session *s, uint64_t now)
{
	struct ppp_cfg cfg;
	int r;
	if (!h->ppp_ready)
		return 0;
	ppp_cfg_of(h, &cfg);
	if (!(s->ppp = calloc(1, sizeof(*s->ppp))))
		return -ENOMEM;
	if ((r = ppp_init(s->ppp, &cfg, &lnsd_ppp_ops, s)) < 0) {
		free(s->ppp);
		s->ppp = NULL;
		return r;
	}
	s->ppp_started = now;
	h->pstats.ppp_started++;
	h->ep.now = now;
	ppp_start(s->ppp, now);
	return 0;
}

/* ---- handoff: park, resume, verify ---- */

int lnsd_ppp_park(struct lnsd *h, struct lnsd_session *s, struct lnsd_parked *p)
{
	int r;
	if (!s->ppp || s->ppp_dead || !s->addr)
		return -ENOTCONN;
	if ((r = ppp_state_export(s->ppp, &p->ppp)) < 0)
		return r;
	if (table_node_linked(&s->anode))
		table_remove(&h->by_addr, &s->anode);
	p->addr = s->addr;
	p->route = s->route;
	s->addr = 0;
	s->route = false;
	free(s->ppp);
	s->ppp = NULL;
	return 0;
}

int lnsd_ppp_resume(struct lnsd *h, struct lnsd_session *s, struct lnsd_parked *p,
		    uint64_t now)
{
	struct ppp_cfg cfg;
	int r;
	if (!h->ppp_ready || s->ppp)
		return -EINVAL;
	ppp_cfg_of(h, &cfg);
	if (!(s->ppp = calloc(1, sizeof(*s->ppp))))
		return -ENOMEM;
	if ((r = ppp_init(s->ppp, &cfg, &lnsd_ppp_ops, s)) < 0 ||
	    (r = ppp_state_import(s->ppp, &p->ppp, now)) < 0)
		goto fail;
	s->addr = p->addr;
	uint32_t n = htonl(s->addr);
	memcpy(s->akey, &n, 4);
	if ((r = table_insert(&h->by_addr, &s->anode, s->akey, 4)) < 0) {
		s->addr = 0;
		goto fail;
	}
	s->route = p->route;
	p->addr = 0;
	p->route = false;
	s->ppp_started = s->ppp_up = now;
	route_set(h, s, true); /* a restored call whose route could not be added retries */
	return 0;
fail:
	free(s->ppp);
	s->ppp = NULL;
	return r;
}

void lnsd_ppp_addr_drop(struct lnsd *h, uint32_t addr, bool route)
{
	char b[16];
	if (!addr)
		return;
	if (route && h->nl)
		route_addr(h, addr, false);
	pool_free(&h->pool, addr);
	h->pstats.addr_released++;
	addr_fmt(addr, b, sizeof(b));
	log_info("parked address %s released", b);
}

int lnsd_ppp_addr_claim(struct lnsd *h, uint32_t addr, bool *route)
{
	uint32_t i = addr - h->pool.base;
	/* taken, or outside the (possibly changed) pool */
	if (!h->ppp_ready || !h->pool.bits || i >= h->pool.size || pool_taken(&h->pool, i) ||
	    pool_alloc(&h->pool, addr) != addr)
		return -EADDRINUSE;
	*route = h->nl && route_addr(h, addr, true) == 0;
	return 0;
}

int lnsd_ppp_verify_proxy(struct lnsd *h, const char *name, uint16_t auth_proto,
			  const struct l2tp_msg *m)
{
	char pname[PPP_NAME_MAX + 1];
	(void)auth_proto; /* the mobile may authenticate either way on the new access link */
	if (!(m->avps & L2TP_AVP_BIT(L2TP_AVP_PROXY_AUTH_TYPE)))
		return -EACCES;
	if (m->proxy_auth_type == L2TP_PROXY_AUTH_NONE)
		return -EACCES;
	if (!(m->avps & L2TP_AVP_BIT(L2TP_AVP_PROXY_AUTH_NAME)) ||
	    l2tp_bytes_to_str(&m->proxy_auth_name, pname, sizeof(pname)) < 0 ||
	    strcmp(pname, name) != 0)
		return -EACCES;
	const struct lnsd_cred *c = cred_find(h, name);
	if (!c)
		return -ENOENT;
	if (!(m->avps & L2TP_AVP_BIT(L2TP_AVP_PROXY_AUTH_RESPONSE)))
		return -EACCES;
	const struct l2tp_bytes *resp = &m->proxy_auth_response;
	if (m->proxy_auth_type == L2TP_PROXY_AUTH_PAP) {
		/* the password itself (RFC 2661 4.4.5); trailing padding is not allowed */
		if (resp->len != c->secret_len || !auth_equal(resp->p, c->secret, c->secret_len))
			return -EACCES;
		return 0;
	}
	if (m->proxy_auth_type == L2TP_PROXY_AUTH_CHAP) {
		uint8_t want[16];
		if (!(m->avps & L2TP_AVP_BIT(L2TP_AVP_PROXY_AUTH_CHALLENGE)) ||
		    !(m->avps & L2TP_AVP_BIT(L2TP_AVP_PROXY_AUTH_ID)) || resp->len != 16 ||
		    !m->proxy_auth_challenge.len ||
		    ppp_chap_md5(m->proxy_auth_id, c->secret, c->secret_len,
				 m->proxy_auth_challenge.p, m->proxy_auth_challenge.len, want) < 0)
			return -EACCES;
		int ok = auth_equal(resp->p, want, 16);
		explicit_bzero(want, sizeof(want));
		return ok ? 0 : -EACCES;
	}
	return -EACCES; /* text, MS-CHAPv1: not supported for a handoff */
}

void lnsd_ppp_release(struct lnsd *h, struct lnsd_session *s)
{
	if (!s->ppp)
		return;
	addr_release(h, s);
	free(s->ppp);
	s->ppp = NULL;
}

/* After a PPP call on s: a PPP that went down clears the call (CDN). */
static void after(struct lnsd *h, struct lnsd_session *s, uint64_t now)
{
	if (!s->ppp_dead)
		return;
	struct l2tp_tunnel *t = s->s.t;
	lnsd_session_close(h, &s->s, L2TP_CDN_ADMIN, 0, "PPP terminated", now);
	l2tp_tunnel_done(t);
}

/* ---- data path ---- */

void lnsd_ppp_data(void *arg, struct l2tp_session *ls, const uint8_t *frame, size_t len,
		   uint64_t now)
{
	struct lnsd *h = arg;
	struct lnsd_session *s = lnsd_session_of(ls);
	uint16_t proto;
	const uint8_t *info;
	size_t info_len;
	int r;

	if (!s->ppp || s->ppp_dead) {
		h->ep.stats.drop_data_unhandled++;
		return;
	}
	h->pstats.rx_frames++;
	if (ppp_frame_parse(frame, len, &proto, &info, &info_len) < 0) {
		h->pstats.drop_frames_malformed++;
		return;
	}
	h->ep.now = now;
	r = ppp_input(s->ppp, proto, info, info_len, now);
	if (r == 1) {
		/* An IPv4 packet from the mobile: only from its own address (no spoofing). */
		uint32_t src;
		if (info_len < 20 || (info[0] >> 4) != 4) {
			h->pstats.drop_frames_malformed++;
		} else if (memcpy(&src, info + 12, 4), ntohl(src) != s->addr) {
			s->drop_spoofed++;
			h->pstats.drop_spoofed++;
		} else {
			s->rx_ip++;
			h->pstats.rx_ip++;
			h->tun_tx(h, info, info_len);
		}
	} else if (r == -ENOTCONN) {
		h->pstats.drop_frames_not_up++;
	} else if (r == -EBADMSG) {
		h->pstats.drop_frames_malformed++;
	}
	after(h, s, now);
}

void lnsd_ppp_from_tun(struct lnsd *h, const uint8_t *pkt, size_t len)
{
	uint8_t key[4];
	if (len < 20 || (pkt[0] >> 4) != 4) {
		h->pstats.drop_tun_not_ipv4++;
		return;
	}
	memcpy(key, pkt + 16, 4);
	struct table_node *n = h->ppp_ready ? table_lookup(&h->by_addr, key, 4) : NULL;
	if (!n) {
		if (h->ppp_ready && lnsd_handoff_from_tun(h, pkt, len))
			return;
		h->pstats.drop_tun_no_session++;
		return;
	}
	struct lnsd_session *s = table_entry(n, struct lnsd_session, anode);
	if (s->backlog && lnsd_handoff_backlog_add(h, s, pkt, len))
		return; /* behind the buffered packets of the handoff, in order */
	uint16_t ns = s->s.data_ns;
	if (!s->ppp || ppp_send_ip(s->ppp, pkt, len) < 0) {
		h->pstats.drop_send++;
		return;
	}
	s->tx_ip++;
	h->pstats.tx_ip++;
	if (s->s.data_seq && h->conf.handoff.resend_window)
		lnsd_handoff_sent(h, s, ns, pkt, len, h->loop ? uv_now(h->loop) : h->ep.now);
}

struct tick_walk {
	uint64_t now;
	struct lnsd_session *dead[64];
	size_t n;
};

static int tick_cb(struct table_node *n, void *arg)
{
	struct tick_walk *wk = arg;
	struct lnsd_session *s = (struct lnsd_session *)(void *)table_entry(n, struct l2tp_session,
									     node);
	if (s->ppp && !s->ppp_dead && ppp_next_timeout(s->ppp) <= wk->now)
		ppp_tick(s->ppp, wk->now);
	if (s->ppp_dead && wk->n < 64)
		wk->dead[wk->n++] = s;
	return 0;
}

void lnsd_ppp_run_timers(struct lnsd *h, uint64_t now)
{
	struct tick_walk wk;
	if (!h->ppp_ready || !h->ep.tables_ready)
		return;
	h->ep.now = now;
	wk.now = now;
	wk.n = 0;
	table_foreach(&h->ep.sessions, tick_cb, &wk);
	for (size_t i = 0; i < wk.n; i++)
		after(h, wk.dead[i], now);
}

/* ---- glue ---- */

static void tun_rx(struct roam_tun *t, const uint8_t *pkt, size_t len, void *arg)
{
	(void)t;
	struct lnsd *h = arg;
	lnsd_ppp_from_tun(h, pkt, len);
}

static void ppp_timer_cb(uv_timer_t *t)
{
	struct lnsd *h = t->data;
	lnsd_ppp_run_timers(h, uv_now(h->loop));
	lnsd_handoff_run_timers(h, uv_now(h->loop));
	l2tp_ep_server_rearm(&h->ep);
}

static void drain_timer_cb(uv_timer_t *t)
{
	struct lnsd *h = t->data;
	if (!lnsd_handoff_drain(h, uv_now(h->loop))) {
		uv_timer_stop(&h->drain_timer);
		h->drain_armed = false;
	}
}

void lnsd_ppp_drain_arm(struct lnsd *h)
{
	if (!h->ppp_timer_ready) {
		while (lnsd_handoff_drain(h, h->drain_last + 1000)) /* no loop (tests): at once */
			;
		return;
	}
	if (h->drain_armed)
		return;
	h->drain_armed = true;
	h->drain_last = uv_now(h->loop);
	uv_timer_start(&h->drain_timer, drain_timer_cb, 1, 1);
}

int lnsd_ppp_open(struct lnsd *h, uv_loop_t *loop)
{
	struct roam_tun_opts o;
	struct roam_prefix p;
	int r;
	if (!h->ppp_ready)
		return 0;
	memset(&o, 0, sizeof(o));
	o.name = h->conf.ppp.tun;
	o.mtu = h->conf.ppp.mtu;
	if ((r = roam_tun_open(loop, &o, tun_rx, h, &h->tun)) < 0) {
		log_warnx("ppp: TUN device %s: %s", h->conf.ppp.tun, strerror(-r));
		return r;
	}
	h->tun_ifindex = roam_tun_ifindex(h->tun);
	if ((r = roam_nl_open(1000, &h->nl)) < 0) {
		log_warnx("ppp: netlink: %s", strerror(-r));
		return r;
	}
	if ((r = roam_nl_link_set_up(h->nl, h->tun_ifindex, 1)) < 0) {
		log_warnx("ppp: %s up: %s", roam_tun_name(h->tun), strerror(-r));
		return r;
	}
	if (h->conf.ppp.local_address.family == AF_INET) {
		host_prefix(ip4_host(&h->conf.ppp.local_address), &p);
		r = roam_nl_addr_add(h->nl, h->tun_ifindex, &p, 0);
		if (r < 0 && r != -EEXIST)
			log_warnx("ppp: address on %s: %s", roam_tun_name(h->tun), strerror(-r));
	}
	uv_timer_init(loop, &h->ppp_timer);
	h->ppp_timer.data = h;
	uv_timer_init(loop, &h->drain_timer);
	h->drain_timer.data = h;
	h->ppp_timer_ready = true;
	uv_timer_start(&h->ppp_timer, ppp_timer_cb, 100, 100);
	log_info("ppp: %s, pool %u addresses", roam_tun_name(h->tun), h->pool.size - 2);
	return 0;
}

void lnsd_ppp_close(struct lnsd *h)
{
	if (h->ppp_timer_ready) {
		uv_timer_stop(&h->ppp_timer);
		uv_close((uv_handle_t *)&h->ppp_timer, NULL);
		uv_timer_stop(&h->drain_timer);
		uv_close((uv_handle_t *)&h->drain_timer, NULL);
		h->ppp_timer_ready = false;
		h->drain_armed = false;
	}
	if (h->tun) {
		roam_tun_close(h->tun, NULL);
		h->tun = NULL;
	}
	roam_nl_close(h->nl);
	h->nl = NULL;
}

/* ---- control commands ---- */

void lnsd_ppp_dump(const struct lnsd_session *s, struct json_writer *w)
{
	char b[16];
	if (!s->ppp) {
		json_kv_str(w, "ppp", "none");
		return;
	}
	json_kv_str(w, "ppp", s->ppp_dead ? "dead" : ppp_phase_str(s->ppp->phase));
	json_kv_str(w, "lcp", ppp_fsm_state_str(s->ppp->lcp.state));
	json_kv_str(w, "ipcp", ppp_fsm_state_str(s->ppp->ipcp.state));
	json_kv_bool(w, "ppp_up", ppp_is_up(s->ppp));
	json_kv_str(w, "peer_name", s->ppp->st.peer_name);
	addr_fmt(s->addr, b, sizeof(b));
	json_kv_str(w, "address", s->addr ? b : "");
	json_kv_str(w, "auth", s->ppp->st.auth_proto == PPP_PROTO_PAP    ? "pap"
			       : s->ppp->st.auth_proto == PPP_PROTO_CHAP ? "chap"
									 : "none");
	if (s->ppp_up)
		json_kv_uint(w, "ppp_setup_ms", s->ppp_up - s->ppp_started);
	json_kv_uint(w, "rx_ip", s->rx_ip);
	json_kv_uint(w, "tx_ip", s->tx_ip);
	json_kv_uint(w, "drop_spoofed", s->drop_spoofed);
	json_kv_uint(w, "data_rx_late", s->s.rx_data_late);
	json_kv_uint(w, "data_rx_lost", s->s.rx_data_lost);
	json_kv_uint(w, "data_tx", s->s.tx_data);
}

void lnsd_ppp_stats_json(struct lnsd *h, struct json_writer *w)
{
	const struct lnsd_ppp_stats *s = &h->pstats;
#define K(f) json_kv_uint(w, "ppp_" #f, s->f)
	K(ppp_started), K(ppp_up), K(ppp_down), K(auth_ok), K(auth_failed), K(no_address);
	K(addr_assigned), K(addr_released), K(rx_frames), K(drop_frames_malformed);
	K(drop_frames_not_up), K(rx_ip), K(tx_ip), K(drop_spoofed), K(drop_tun_not_ipv4);
	K(drop_tun_no_session), K(drop_tun_write), K(drop_send), K(routes_added), K(route_errors);
	K(negotiations), K(sli_sent);
#undef K
	json_kv_uint(w, "ppp_pool_used", h->pool.used);
}
