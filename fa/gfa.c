/* The gateway-FA role (RFC 4857; docs/protocols/mipv4.md 8.5; fad.yaml(5) "gfa").
 *
 * The GFA keeps its own roam/binding.h cache: home address -> local care-of address (the lower
 * FA the mobile is attached to).  The mobile's first registration in the region (type 1,
 * care-of address = the GFA), relayed by a lower FA with FA-FA, is relayed on to the home
 * agent with FA-HA; the accepted reply creates the binding (fad_gfa_home_request / _reply).
 * A Regional Registration Request (18) relayed by a lower FA is answered here, never reaching
 * the home agent.  Authentication: the FA-FA generalized
 * authenticator (36/2) of the relaying FA, then the mobile's MN-GFA authenticator (36/3)
 * (RFC 4857 allows MN-HA instead; roam uses MN-GFA).  A request whose FA-FA authenticator is
 * absent or wrong is discarded silently and counted; one whose MN-GFA authenticator is wrong
 * gets 67; either way the binding is untouched.
 *
 * An accepted move is the synchronized handoff of 8.1 with the GFA in the home agent's place:
 * binding_update(BINDING_MOVE_SYNC), the Regional Registration Reply (19) to the new FA, then
 * the deregistration reply (19, lifetime 0, Identification mip4_id_dereg(request)) queued as a
 * control item on the old path's FIFO, behind the data the GFA has already queued towards the
 * old FA.  The old path is released once that FIFO is empty.  With `synchronized: false` the
 * old path is flushed and only one reply is sent. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fad.h"
#include "roam/ip.h"
#include "roam/buf.h"

static struct fad_gfa_sa *sa_find(struct fad_gfa_sa *t, size_t n, struct in_addr a)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].addr.s_addr == a.s_addr)
			return &t[i];
	return NULL;
}

static int sa_fill(struct fad_gfa_sa *s, const struct roam_ipaddr *addr, const char *name,
		   uint32_t spi, int alg, const struct conf_bytes *key, uint64_t tol)
{
	if (mip4_sa_key_set(&s->key, alg, key->data, key->len) < 0)
		return -EINVAL;
	s->addr = addr->v4;
	s->spi = spi;
	snprintf(s->name, sizeof(s->name), "%s", name && *name ? name : "-");
	replay_ts_init(&s->replay, tol, REPLAY_TS_SLOTS);
	return 0;
}

static void binding_gone(struct binding *b, void *arg)
{
	(void)arg;
	free(b->user);
	b->user = NULL;
	binding_free(b);
}

int fad_gfa_init(struct fad *f)
{
	const struct fad_conf_gfa *c = &f->conf.gfa;
	struct fad_gfa *g = &f->gfa;
	memset(g, 0, sizeof(*g));
	if (!c->enabled)
		return 0;
	uint64_t tol = (uint64_t)(f->conf.replay_tolerance / 1000) << 32;
	g->mns = calloc(c->nmobiles ? c->nmobiles : 1, sizeof(*g->mns));
	g->fas = calloc(c->nfas ? c->nfas : 1, sizeof(*g->fas));
	g->txbuf = malloc(ROAM_TUNNEL_OUTER_MAX);
	if (!g->mns || !g->fas || !g->txbuf) {
		fad_gfa_free(f);
		return -ENOMEM;
	}
	for (size_t i = 0; i < c->nmobiles; i++) {
		const struct fad_conf_mobile *m = &c->mobiles[i];
		if (sa_fill(&g->mns[i], &m->home, m->name, m->spi, m->algorithm, &m->key, tol) < 0) {
			fad_gfa_free(f);
			return -EINVAL;
		}
	}
	g->nmns = c->nmobiles;
	for (size_t i = 0; i < c->nfas; i++) {
		const struct fad_conf_ha *a = &c->foreign_agents[i];
		if (sa_fill(&g->fas[i], &a->address, a->name, a->spi, a->algorithm, &a->key, tol) < 0) {
			fad_gfa_free(f);
			return -EINVAL;
		}
	}
	g->nfas = c->nfas;
	if (binding_cache_init(&g->bc, f->conf.fifo_items, 0, binding_gone, f) < 0) {
		fad_gfa_free(f);
		return -ENOMEM;
	}
	g->bc_ready = true;
	g->addr = c->address.v4;
	g->enabled = true;
	return 0;
}

static int free_user(struct binding *b, void *arg)
{
	(void)arg;
	free(b->user);
	b->user = NULL;
	return 0;
}

void fad_gfa_free(struct fad *f)
{
	struct fad_gfa *g = &f->gfa;
	if (g->bc_ready) {
		binding_foreach(&g->bc, free_user, NULL);
		binding_cache_destroy(&g->bc);
	}
	free(g->mns);
	free(g->fas);
	free(g->txbuf);
	memset(g, 0, sizeof(*g));
}

int fad_gfa_home_bound(struct fad *f, struct in_addr home, struct in_addr ha,
		       struct in_addr lcoa, uint16_t lifetime, uint64_t id, uint64_t now)
{
	struct fad_gfa *g = &f->gfa;
	if (!g->enabled)
		return -ENOTCONN;
	struct roam_ipaddr h, c;
	roam_ipaddr_set4(&h, home);
	roam_ipaddr_set4(&c, lcoa);
	struct binding *b = NULL;
	int r = binding_update(&g->bc, &h, &c, lifetime, now, BINDING_MOVE_FLUSH, &b);
	if (r < 0)
		return r;
	struct fad_gfa_binding *gb = b->user;
	if (!gb) {
		gb = calloc(1, sizeof(*gb));
		if (!gb) {
			binding_remove(&g->bc, b);
			return -ENOMEM;
		}
		b->user = gb;
	}
	gb->home = home;
	gb->ha = ha;
	gb->reg_id = id;
	f->stats.gfa_home_bound++;
	return 0;
}

/* ---- transmit ---- */

struct drain_ctx {
	struct fad *f;
	struct binding *b;
	const struct binding_path *p;
};

static int drain_send(const struct bfifo_item *it, void *arg)
{
	struct drain_ctx *d = arg;
	struct fad *f = d->f;
	struct fad_gfa *g = &f->gfa;
	if (it->kind == BFIFO_CTRL) {
		struct roam_sockaddr dst;
		struct roam_ipaddr from;
		roam_sockaddr_set(&dst, &d->p->coa, MIP4_UDP_PORT);
		roam_ipaddr_set4(&from, g->addr);
		int r = f->send ? f->send(f->send_arg, &dst, g->addr.s_addr ? &from : NULL, 0,
					  it->data, it->len)
				: -ENOTCONN;
		if (r == -EAGAIN)
			return r;
		if (r < 0)
			f->stats.gfa_drr_failed++;
		else
			f->stats.gfa_drr_sent++;
		return r;
	}
	struct roam_ipip p;
	size_t olen = 0;
	memset(&p, 0, sizeof(p));
	roam_ipaddr_set4(&p.src, g->addr);
	p.dst = d->p->coa;
	p.ttl = (uint8_t)f->conf.dataplane.ttl;
	p.id = g->ip_id;
	if (!f->dp.ops.xmit) {
		f->stats.gfa_drop_tx++;
		return -ENOTCONN;
	}
	int r = roam_tunnel_encap(g->txbuf, ROAM_TUNNEL_OUTER_MAX, &p, it->data, it->len, &olen);
	if (r < 0) {
		f->stats.gfa_drop_tx++;
		return r;
	}
	r = f->dp.ops.xmit(f->dp.ops.arg, g->txbuf, olen);
	if (r == -EAGAIN)
		return r;
	g->ip_id++;
	if (r < 0) {
		f->stats.gfa_drop_tx++;
		return r;
	}
	f->stats.gfa_tunnelled++;
	f->stats.gfa_tunnelled_bytes += it->len;
	return 0;
}

/* Drains b's old path (then releases it when empty) and its current path. */
static int drain_binding(struct binding *b, void *arg)
{
	struct fad *f = arg;
	struct drain_ctx d = { .f = f, .b = b };
	if (b->old.coa.family) {
		d.p = &b->old;
		bfifo_drain(&b->old.fifo, drain_send, &d, 0);
		if (bfifo_count(&b->old.fifo) == 0) {
			binding_old_release(b);
			struct fad_gfa_binding *gb = b->user;
			if (gb)
				gb->old_fa.s_addr = 0;
		}
	}
	d.p = &b->cur;
	bfifo_drain(&b->cur.fifo, drain_send, &d, 0);
	return 0;
}

static int count_left(struct binding *b, void *arg)
{
	*(size_t *)arg += bfifo_count(&b->cur.fifo) + bfifo_count(&b->old.fifo);
	return 0;
}

size_t fad_gfa_drain_all(struct fad *f)
{
	size_t left = 0;
	if (!f->gfa.enabled)
		return 0;
	binding_foreach(&f->gfa.bc, drain_binding, f);
	binding_foreach(&f->gfa.bc, count_left, &left);
	return left;
}

int fad_gfa_tunnel(struct fad *f, const void *inner, size_t len, uint64_t now)
{
	struct fad_gfa *g = &f->gfa;
	if (!g->enabled)
		return -ENOTCONN;
	if (len < 20)
		return -EBADMSG;
	struct in_addr dst;
	memcpy(&dst.s_addr, (const uint8_t *)inner + 16, 4);
	struct roam_ipaddr h;
	roam_ipaddr_set4(&h, dst);
	binding_expire(&g->bc, now); /* lazily: the cache's expiry heap makes this cheap */
	struct binding *b = binding_lookup(&g->bc, &h);
	if (!b)
		return -ENOENT;
	int r = bfifo_push(&b->cur.fifo, BFIFO_DATA, inner, len, now);
	if (r < 0) {
		f->stats.gfa_drop_full++;
		return r;
	}
	drain_binding(b, f);
	return 0;
}

/* ---- regional registration ---- */

/* Builds a Regional Registration Reply for req with the MN-GFA (mn) and FA-FA (fa)
 * authenticators into buf.  Returns the length or -errno. */
static int build_reply(const struct mip4_msg *req, uint8_t code, uint16_t lifetime,
		       uint64_t id, const struct fad_gfa_sa *mn, const struct fad_gfa_sa *fa,
		       uint8_t *buf, size_t cap)
{
	struct wbuf w;
	struct mip4_msg r;
	memset(&r, 0, sizeof(r));
	r.type = MIP4_MSG_REGIONAL_REPLY;
	r.code = code;
	r.lifetime = lifetime;
	r.home = req->home;
	r.ha = req->ha;
	r.id = id;
	r.has_id = 1;
	wbuf_init_fixed(&w, buf, cap);
	int rc = mip4_msg_encode(&w, &r);
	if (rc == 0 && mn)
		rc = mip4_auth_append(&w, 0, MIP4_AUTH_MN_GFA, mn->spi, &mn->key);
	if (rc == 0 && fa)
		rc = mip4_auth_append(&w, 0, MIP4_AUTH_FA_FA, fa->spi, &fa->key);
	if (rc < 0 || w.err)
		return rc < 0 ? rc : -ENOBUFS;
	return (int)w.len;
}

static void reply(struct fad *f, const struct mip4_msg *req, uint8_t code, uint16_t lifetime,
		  const struct fad_gfa_sa *mn, const struct fad_gfa_sa *fa,
		  const struct roam_sockaddr *dst)
{
	uint8_t buf[FAD_MAX_MSG];
	int n = build_reply(req, code, lifetime, req->id, mn, fa, buf, sizeof(buf));
	if (n < 0) {
		f->stats.drop_tx_error++;
		return;
	}
	struct roam_ipaddr from;
	roam_ipaddr_set4(&from, f->gfa.addr);
	int r = f->send ? f->send(f->send_arg, dst, f->gfa.addr.s_addr ? &from : NULL, 0, buf,
				  (size_t)n)
			: -ENOTCONN;
	if (r < 0)
		f->stats.drop_tx_error++;
	if (code != MIP4_CODE_ACCEPTED) {
		f->stats.gfa_regional_denied++;
		if (code >= FAD_CODE_MIN && code < FAD_CODE_MIN + FAD_NCODES)
			f->stats.denied[code - FAD_CODE_MIN]++;
	}
}

static void gdrop(struct fad *f, uint64_t *counter, const struct roam_sockaddr *src,
		  const char *why)
{
	char b[ROAM_ADDRSTRLEN];
	(*counter)++;
	log_rl_warnx(&f->drop_rl, "GFA: dropped regional registration from %s: %s",
		     roam_sockaddr_fmt(src, b, sizeof(b)), why);
}

void fad_gfa_regional_input(struct fad *f, const uint8_t *data, size_t len,
			    const struct mip4_msg *m, const struct roam_sockaddr *src,
			    uint64_t now, uint64_t ntp_now)
{
	(void)len;
	struct fad_gfa *g = &f->gfa;
	/* The relaying FA: its Hierarchical FA extension (covered by FA-FA) or the source. */
	struct roam_ipaddr sip;
	uint16_t sport = 0;
	struct in_addr fa_addr = { 0 };
	if (m->exts & MIP4_HAS_HIER_FA)
		fa_addr = m->hier_fa;
	else if (roam_sockaddr_addr(src, &sip, &sport) == 0 && sip.family == AF_INET)
		fa_addr = sip.v4;
	struct fad_gfa_sa *fa = sa_find(g->fas, g->nfas, fa_addr);
	if (!fa) {
		gdrop(f, &f->stats.gfa_drop_fa_unknown, src, "not from a foreign agent of the region");
		return;
	}
	if (!m->auth[MIP4_AUTH_FA_FA].present || m->auth[MIP4_AUTH_FA_FA].spi != fa->spi ||
	    mip4_auth_verify(data, m, MIP4_AUTH_FA_FA, &fa->key) < 0) {
		gdrop(f, &f->stats.gfa_drop_fa_auth, src, "FA-FA authenticator wrong or absent");
		return;
	}
	struct fad_gfa_sa *mn = sa_find(g->mns, g->nmns, m->home);
	if (!mn) {
		reply(f, m, MIP4_CODE_FA_PROHIBITED, 0, NULL, fa, src);
		return;
	}
	if (!m->auth[MIP4_AUTH_MN_GFA].present || m->auth[MIP4_AUTH_MN_GFA].spi != mn->spi ||
	    mip4_auth_verify(data, m, MIP4_AUTH_MN_GFA, &mn->key) < 0) {
		f->stats.gfa_drop_mn_auth++;
		reply(f, m, MIP4_CODE_FA_MN_AUTH, 0, NULL, fa, src);
		return;
	}
	unsigned tol_s = f->conf.replay_tolerance / 1000;
	if (mip4_id_check(m->id, ntp_now, tol_s) < 0 ||
	    replay_ts_commit(&mn->replay, m->id, ntp_now) < 0) {
		gdrop(f, &f->stats.gfa_drop_replay, src, "Identification replayed or out of tolerance");
		return;
	}
	struct roam_ipaddr home, coa;
	roam_ipaddr_set4(&home, m->home);
	roam_ipaddr_set4(&coa, m->coa);
	binding_expire(&g->bc, now);
	struct binding *b = binding_lookup(&g->bc, &home);
	struct fad_gfa_binding *gb = b ? b->user : NULL;
	if (!b || !gb || gb->ha.s_addr != m->ha.s_addr) {
		/* No home registration through this GFA: the mobile registers with its HA first. */
		f->stats.gfa_drop_no_binding++;
		reply(f, m, MIP4_CODE_FA_PROHIBITED, 0, mn, fa, src);
		return;
	}
	if (m->lifetime > f->conf.gfa.max_lifetime / 1000) {
		reply(f, m, MIP4_CODE_FA_LIFETIME, 0, mn, fa, src);
		return;
	}
	if (!sa_find(g->fas, g->nfas, m->coa)) {
		reply(f, m, MIP4_CODE_FA_INVALID_COA, 0, mn, fa, src);
		return;
	}
	if (m->lifetime == 0) {
		reply(f, m, MIP4_CODE_ACCEPTED, 0, mn, fa, src);
		free(b->user);
		b->user = NULL;
		binding_remove(&g->bc, b);
		f->stats.gfa_regional_deregistered++;
		return;
	}
	struct roam_ipaddr prev = b->cur.coa;
	bool moves = !roam_ipaddr_eq(&prev, &coa);
	enum binding_move_mode mode = f->conf.synchronized ? BINDING_MOVE_SYNC : BINDING_MOVE_FLUSH;
	if (binding_update(&g->bc, &home, &coa, m->lifetime, now, mode, &b) < 0) {
		reply(f, m, MIP4_CODE_FA_RESOURCES, 0, mn, fa, src);
		return;
	}
	gb->reg_id = m->id;
	f->stats.gfa_regional_accepted++;
	reply(f, m, MIP4_CODE_ACCEPTED, m->lifetime, mn, fa, src);
	if (moves && mode == BINDING_MOVE_SYNC && b->old.coa.family == AF_INET) {
		/* The dual reply (docs 8.1, 8.5): the deregistration reply behind the old path's
		 * data, to the old FA. */
		uint8_t buf[FAD_MAX_MSG];
		const struct fad_gfa_sa *ofa = sa_find(g->fas, g->nfas, b->old.coa.v4);
		int n = build_reply(m, MIP4_CODE_ACCEPTED, 0, mip4_id_dereg(m->id), mn, ofa, buf,
				    sizeof(buf));
		if (n < 0 || bfifo_push(&b->old.fifo, BFIFO_CTRL, buf, (size_t)n, now) < 0) {
			f->stats.gfa_drr_failed++;
			binding_old_release(b);
		} else {
			f->stats.gfa_dual_replies++;
			gb->old_fa = b->old.coa.v4;
		}
	}
	drain_binding(b, f);
}

/* ---- home registration through the GFA (RFC 4857 4.1) ---- */

static int send_from_gfa(struct fad *f, const struct roam_sockaddr *dst, const void *data,
			 size_t len)
{
	struct roam_ipaddr from;
	roam_ipaddr_set4(&from, f->gfa.addr);
	int r = f->send ? f->send(f->send_arg, dst, f->gfa.addr.s_addr ? &from : NULL, 0, data,
				  len)
			: -ENOTCONN;
	if (r < 0)
		f->stats.drop_tx_error++;
	return r;
}

int fad_gfa_home_request(struct fad *f, const uint8_t *data, size_t len,
			 const struct mip4_msg *m, const struct roam_sockaddr *src, uint64_t now)
{
	(void)len;
	struct fad_gfa *g = &f->gfa;
	if (!g->enabled)
		return 0;
	struct roam_ipaddr sip;
	uint16_t sport = 0;
	struct in_addr lfa = { 0 };
	if (m->exts & MIP4_HAS_HIER_FA)
		lfa = m->hier_fa;
	else if (roam_sockaddr_addr(src, &sip, &sport) == 0 && sip.family == AF_INET)
		lfa = sip.v4;
	struct fad_gfa_sa *fa = sa_find(g->fas, g->nfas, lfa);
	if (!fa)
		return 0;
	if (!m->auth[MIP4_AUTH_FA_FA].present || m->auth[MIP4_AUTH_FA_FA].spi != fa->spi ||
	    mip4_auth_verify(data, m, MIP4_AUTH_FA_FA, &fa->key) < 0) {
		gdrop(f, &f->stats.gfa_drop_fa_auth, src, "home registration: FA-FA wrong or absent");
		return 1;
	}
	size_t keep;
	if (mip4_auth_end(m, MIP4_AUTH_MN_HA, &keep) < 0) {
		gdrop(f, &f->stats.drop_malformed, src, "home registration without MN-HA");
		return 1;
	}
	/* A free (or expired, or the same mobile's) pending slot. */
	struct fad_gfa_pending *p = NULL;
	for (size_t i = 0; i < FAD_GFA_PENDING; i++) {
		struct fad_gfa_pending *q = &g->pend[i];
		if (q->deadline && q->deadline <= now) {
			q->deadline = 0;
			f->stats.gfa_home_timeouts++;
		}
		if (q->deadline && q->home.s_addr == m->home.s_addr) {
			p = q;
			break;
		}
		if (!q->deadline && !p)
			p = q;
	}
	if (!p) {
		gdrop(f, &f->stats.gfa_drop_full, src, "too many home registrations pending");
		return 1;
	}
	uint8_t out[FAD_MAX_MSG];
	struct wbuf w;
	wbuf_init_fixed(&w, out, sizeof(out));
	wbuf_put_bytes(&w, data, keep);
	struct fad_ha_sa *hsa = fad_ha_find(f, m->ha);
	if (hsa && mip4_auth_append(&w, 0, MIP4_AUTH_FA_HA, hsa->spi, &hsa->key) < 0) {
		f->stats.drop_tx_error++;
		return 1;
	}
	if (w.err) {
		f->stats.drop_tx_error++;
		return 1;
	}
	struct roam_ipaddr ha;
	struct roam_sockaddr dst;
	roam_ipaddr_set4(&ha, m->ha);
	roam_sockaddr_set(&dst, &ha, MIP4_UDP_PORT);
	if (send_from_gfa(f, &dst, out, w.len) < 0)
		return 1;
	p->home = m->home;
	p->ha = m->ha;
	p->lfa = lfa;
	p->from = *src;
	p->id = m->id;
	p->deadline = now + f->conf.relay_timeout;
	f->stats.gfa_home_relayed++;
	return 1;
}

int fad_gfa_home_reply(struct fad *f, const uint8_t *data, size_t len,
		       const struct mip4_msg *m, const struct roam_sockaddr *src, uint64_t now)
{
	(void)len;
	struct fad_gfa *g = &f->gfa;
	if (!g->enabled)
		return 0;
	struct fad_gfa_pending *p = NULL;
	for (size_t i = 0; i < FAD_GFA_PENDING && !p; i++) {
		struct fad_gfa_pending *q = &g->pend[i];
		if (q->deadline && q->deadline > now && q->home.s_addr == m->home.s_addr &&
		    q->ha.s_addr == m->ha.s_addr && mip4_id_match(m->id, q->id) == 1)
			p = q;
	}
	if (!p)
		return 0;
	struct fad_ha_sa *hsa = fad_ha_find(f, m->ha);
	if (hsa && (!m->auth[MIP4_AUTH_FA_HA].present || m->auth[MIP4_AUTH_FA_HA].spi != hsa->spi ||
		    mip4_auth_verify(data, m, MIP4_AUTH_FA_HA, &hsa->key) < 0)) {
		gdrop(f, &f->stats.gfa_home_drop_ha_auth, src, "home reply: FA-HA wrong or absent");
		return 1;
	}
	size_t keep;
	if (mip4_auth_end(m, MIP4_AUTH_MN_HA, &keep) < 0) {
		gdrop(f, &f->stats.drop_malformed, src, "home reply without MN-HA");
		return 1;
	}
	if (mip4_code_accepted(m->code)) {
		struct roam_ipaddr h;
		roam_ipaddr_set4(&h, m->home);
		struct binding *b = binding_lookup(&g->bc, &h);
		if (m->lifetime == 0) {
			if (b) {
				free(b->user);
				b->user = NULL;
				binding_remove(&g->bc, b);
			}
		} else if (fad_gfa_home_bound(f, m->home, m->ha, p->lfa, m->lifetime, p->id, now) < 0) {
			f->stats.drop_tx_error++;
		}
	}
	uint8_t out[FAD_MAX_MSG];
	struct wbuf w;
	wbuf_init_fixed(&w, out, sizeof(out));
	wbuf_put_bytes(&w, data, keep);
	const struct fad_gfa_sa *fa = sa_find(g->fas, g->nfas, p->lfa);
	if (fa && mip4_auth_append(&w, 0, MIP4_AUTH_FA_FA, fa->spi, &fa->key) < 0) {
		f->stats.drop_tx_error++;
		return 1;
	}
	p->deadline = 0;
	if (w.err) {
		f->stats.drop_tx_error++;
		return 1;
	}
	if (send_from_gfa(f, &p->from, out, w.len) == 0)
		f->stats.gfa_home_replies++;
	return 1;
}
