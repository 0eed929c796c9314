/* cnd's mip4 module: the correspondent side of Mobile IPv4 route optimization
 * (draft-ietf-mobileip-optim-09 under roam's type numbers, docs/protocols/mipv4.md 4 and 8.4;
 * seed 002 figures 18-24; cnd(8) "Mobile IPv4 route optimization").
 *
 * - Control (UDP 434): a Binding Update (242) from a configured home agent, authenticated with
 *   the HA-CN SA's Route Optimization Authentication extension (35, last extension), with an
 *   Identification (I) inside the replay tolerance and never accepted before, creates, refreshes
 *   or moves the binding home -> care-of address (lifetime 0 deletes it); A asks for a Binding
 *   Acknowledge (243).  Verification order as had's: decode, identification check, authenticator,
 *   identification commit, state change; a forged or replayed update never touches a binding.
 * - Synchronized handoff (8.4): a moving update (new care-of address) keeps the old path
 *   draining (BINDING_MOVE_SYNC); the update's RO relay extension (240) carries the home agent's
 *   deregistration reply, which is queued as a control item on the old path's FIFO, behind every
 *   data packet already queued for the old care-of address, and sent from here (UDP 434) to the
 *   old FA once they have left: the old FA relays it to the mobile after the data it
 *   decapsulated before, so the mobile releases its old radio only when this correspondent's
 *   old path is drained.  Nothing changes at the FA or the mobile.
 * - Data plane: while a binding exists, the home address is routed into a TUN device; each
 *   packet read from it is pushed on the binding's current-path FIFO and tunnelled IP-in-IP
 *   (outer source our address) straight to the care-of address through the shared roam/tunnel.h
 *   endpoint.  The mobile's own traffic to us keeps the normal path.
 * - Binding Request (241): at request_percent of a binding's lifetime cnd asks the home agent
 *   that sent it for a fresh update (authenticated, new Identification); had answers with a
 *   Binding Update.
 *
 * Everything that touches the kernel goes through m->ops, so unit tests use fakes. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnd.h"
#include "roam/clock.h"
#include "roam/ip.h"
#include "roam/mip4_agent.h"

#define CND_MAX_MSG 512
#define DP_OUTER_MAX ROAM_TUNNEL_OUTER_MAX
#define TICK_MS 200
#define DP_RETRY_MS 1

static const struct cnd_mip4_conf *mconf(const struct cnd_mip4 *m)
{
	return &m->c->conf.mip4;
}

static void drop(struct cnd_mip4 *m, uint64_t *counter, const struct roam_sockaddr *src,
		 const char *why)
{
	char b[ROAM_ADDRSTRLEN];
	(*counter)++;
	log_rl_warnx(&m->rl, "mip4: %s: %s", src ? roam_sockaddr_fmt(src, b, sizeof(b)) : "-",
		     why);
}

/* ---- security associations ---- */

/* Builds m->sas from the config, keeping the replay state of SAs whose SPI, address and key
 * are unchanged (reload). */
static int sa_build(struct cnd_mip4 *m)
{
	const struct cnd_mip4_conf *c = mconf(m);
	struct cnd_ha_sa *sas = calloc(c->nhome_agents, sizeof(*sas));
	if (!sas)
		return -ENOMEM;
	uint64_t tol = (c->replay_tolerance / 1000) << 32;
	for (size_t i = 0; i < c->nhome_agents; i++) {
		const struct cnd_ha_conf *h = &c->home_agents[i];
		struct cnd_ha_sa *s = &sas[i];
		s->addr = h->address;
		s->spi = h->spi;
		snprintf(s->name, sizeof(s->name), "%s", h->name && *h->name ? h->name : "ha");
		int r = mip4_sa_key_set(&s->key, (int)h->algorithm, h->key.data, h->key.len);
		if (r < 0) {
			for (size_t j = 0; j < i; j++)
				auth_key_wipe(&sas[j].key);
			free(sas);
			return r;
		}
		replay_ts_init(&s->replay, tol, REPLAY_TS_SLOTS);
		for (size_t j = 0; j < m->nsas; j++) {
			const struct cnd_ha_sa *o = &m->sas[j];
			if (o->spi == s->spi && roam_ipaddr_eq(&o->addr, &s->addr) &&
			    o->key.len == s->key.len && o->key.alg == s->key.alg &&
			    memcmp(o->key.bytes, s->key.bytes, s->key.len) == 0) {
				s->replay = o->replay;
				s->replay.tolerance = tol;
			}
		}
	}
	for (size_t j = 0; j < m->nsas; j++)
		auth_key_wipe(&m->sas[j].key);
	free(m->sas);
	m->sas = sas;
	m->nsas = c->nhome_agents;
	return 0;
}

static struct cnd_ha_sa *sa_by_addr(struct cnd_mip4 *m, struct in_addr a, size_t *idx)
{
	for (size_t i = 0; i < m->nsas; i++)
		if (m->sas[i].addr.family == AF_INET && m->sas[i].addr.v4.s_addr == a.s_addr) {
			if (idx)
				*idx = i;
			return &m->sas[i];
		}
	return NULL;
}

/* ---- per binding ---- */

static int install(struct cnd_mip4 *m, struct binding *b, int add)
{
	struct cnd_binding *cb = b->user;
	char ab[ROAM_ADDRSTRLEN];
	if (!cb || !m->ops.install || (add ? cb->installed : !cb->installed))
		return 0;
	int r = m->ops.install(m->ops.arg, &b->home, add);
	if (r < 0) {
		log_warnx("mip4: %s the route of %s: %s", add ? "cannot install" : "cannot remove",
			  roam_ipaddr_fmt(&b->home, ab, sizeof(ab)), strerror(-r));
		if (add)
			return r;
	}
	cb->installed = add;
	return 0;
}

static int attach(struct cnd_mip4 *m, struct binding *b, size_t ha)
{
	struct cnd_binding *cb = b->user;
	if (!cb) {
		if (!(cb = calloc(1, sizeof(*cb))))
			return -ENOMEM;
		b->user = cb;
	}
	cb->ha = ha;
	return install(m, b, 1);
}

static void gone(struct cnd_mip4 *m, struct binding *b)
{
	install(m, b, 0);
	free(b->user);
	b->user = NULL;
}

static void expire_cb(struct binding *b, void *arg)
{
	struct cnd_mip4 *m = arg;
	char ab[ROAM_ADDRSTRLEN];
	m->st.expired++;
	log_info("mip4: binding of %s expired", roam_ipaddr_fmt(&b->home, ab, sizeof(ab)));
	gone(m, b);
	binding_free(b);
}

static void schedule_request(struct cnd_mip4 *m, struct binding *b, uint64_t now)
{
	struct cnd_binding *cb = b->user;
	cb->request_sent = false;
	cb->request_due = 0;
	if (mconf(m)->request_pct && b->lifetime_s != 0xffff)
		cb->request_due = now + (uint64_t)b->lifetime_s * 10 * mconf(m)->request_pct;
}

/* ---- data plane: FIFOs and tunnelling ---- */

static int tunnel(struct cnd_mip4 *m, struct binding *b, const struct roam_ipaddr *dst,
		  const void *inner, size_t len)
{
	struct cnd_binding *cb = b ? b->user : NULL;
	struct roam_ipip p;
	size_t olen = 0;
	int r;
	if (!m->txbuf || !m->ops.xmit)
		return -ENOTCONN;
	memset(&p, 0, sizeof(p));
	p.src = mconf(m)->address;
	p.dst = *dst;
	p.ttl = (uint8_t)mconf(m)->dataplane.ttl;
	p.id = m->ip_id;
	p.forwarding = 0; /* our own traffic (or forwarded into the TUN by the kernel) */
	r = roam_tunnel_encap(m->txbuf, DP_OUTER_MAX, &p, inner, len, &olen);
	if (r < 0) {
		if (r == -EMSGSIZE)
			m->st.dp_drop_too_big++;
		else
			m->st.dp_drop_malformed++;
		goto dropped;
	}
	r = m->ops.xmit(m->ops.arg, m->txbuf, olen);
	if (r == -EAGAIN) {
		m->st.dp_tx_eagain++;
		return r;
	}
	m->ip_id++;
	if (r < 0) {
		m->st.dp_drop_tx_error++;
		goto dropped;
	}
	m->st.dp_tunnelled++;
	m->st.dp_tunnelled_bytes += olen;
	if (cb) {
		cb->st.tunnelled++;
		cb->st.tunnelled_bytes += olen;
	}
	return 0;
dropped:
	if (cb)
		cb->st.dropped++;
	return r < 0 ? r : -EIO;
}

/* A control item is 4 bytes of destination address (UDP 434) + the message. */
static int send_relay(struct cnd_mip4 *m, struct in_addr dst, const void *msg, size_t len)
{
	struct roam_ipaddr a;
	struct roam_sockaddr sa;
	roam_ipaddr_set4(&a, dst);
	roam_sockaddr_set(&sa, &a, MIP4_UDP_PORT);
	int r = m->ops.send ? m->ops.send(m->ops.arg, &sa, msg, len) : -ENOTCONN;
	if (r == 0)
		m->st.drr_relayed++;
	else if (r != -EAGAIN)
		m->st.drop_tx_error++;
	return r;
}

struct drain_ctx {
	struct cnd_mip4 *m;
	struct binding *b;
	const struct roam_ipaddr *dst;
};

static int drain_send(const struct bfifo_item *it, void *arg)
{
	struct drain_ctx *d = arg;
	if (it->kind == BFIFO_CTRL) {
		struct in_addr dst;
		if (it->len < 4)
			return -EINVAL;
		memcpy(&dst, it->data, 4);
		int r = send_relay(d->m, dst, it->data + 4, it->len - 4u);
		if (r == 0 && d->b->user)
			((struct cnd_binding *)d->b->user)->drr_relayed++;
		return r;
	}
	return tunnel(d->m, d->b, d->dst, it->data, it->len);
}

static void drain_timer_cb(uv_timer_t *t)
{
	cnd_mip4_drain_all(t->data);
}

static void drain_later(struct cnd_mip4 *m)
{
	if (m->timers && !uv_is_active((uv_handle_t *)&m->drain_timer))
		uv_timer_start(&m->drain_timer, drain_timer_cb, DP_RETRY_MS, 0);
}

/* Drains b's old path (releasing it once empty), then its current path.  1 when items stay. */
static int drain_binding(struct cnd_mip4 *m, struct binding *b)
{
	int left = 0;
	if (b->old.coa.family) {
		struct drain_ctx d = { m, b, &b->old.coa };
		bfifo_drain(&b->old.fifo, drain_send, &d, 0);
		if (bfifo_count(&b->old.fifo) == 0)
			binding_old_release(b);
		else
			left = 1;
	}
	struct drain_ctx d = { m, b, &b->cur.coa };
	bfifo_drain(&b->cur.fifo, drain_send, &d, 0);
	if (bfifo_count(&b->cur.fifo))
		left = 1;
	if (left)
		drain_later(m);
	return left;
}

static int drain_walk(struct binding *b, void *arg)
{
	size_t *n = ((void **)arg)[1];
	*n += (size_t)drain_binding(((void **)arg)[0], b);
	return 0;
}

size_t cnd_mip4_drain_all(struct cnd_mip4 *m)
{
	size_t n = 0;
	void *a[2] = { m, &n };
	if (m->bc_ready)
		binding_foreach(&m->bc, drain_walk, a);
	return n;
}

void cnd_mip4_from_tun(struct cnd_mip4 *m, const uint8_t *pkt, size_t len, uint64_t now)
{
	struct roam_ipaddr a;
	struct in_addr d;
	m->st.dp_rx_packets++;
	if (len < ROAM_IP4_HDRLEN || (pkt[0] >> 4) != 4) {
		m->st.dp_drop_malformed++;
		return;
	}
	memcpy(&d, pkt + 16, 4);
	roam_ipaddr_set4(&a, d);
	struct binding *b = binding_lookup(&m->bc, &a);
	if (!b) {
		m->st.dp_drop_no_binding++; /* route left behind a deleted binding: nothing to do */
		return;
	}
	struct cnd_binding *cb = b->user;
	if (bfifo_push(&b->cur.fifo, BFIFO_DATA, pkt, len, now) < 0) {
		m->st.dp_drop_full++;
		if (cb)
			cb->st.dropped++;
		return;
	}
	m->st.dp_queued++;
	if (cb)
		cb->st.queued++;
	drain_binding(m, b);
}

/* ---- control ---- */

/* Sends a Binding Acknowledge (243) for update u to dst under sa. */
static void send_ack(struct cnd_mip4 *m, struct cnd_ha_sa *sa, const struct mip4_msg *u,
		     bool nack, const struct roam_sockaddr *dst)
{
	uint8_t buf[CND_MAX_MSG];
	struct wbuf w;
	struct mip4_msg a;
	memset(&a, 0, sizeof(a));
	a.type = MIP4_MSG_RO_ACK;
	a.flags = nack ? MIP4_BA_N : 0;
	a.home = u->home;
	a.id = u->id;
	a.has_id = 1;
	wbuf_init_fixed(&w, buf, sizeof(buf));
	if (mip4_msg_encode(&w, &a) < 0 ||
	    mip4_auth_append(&w, 0, MIP4_AUTH_RO, sa->spi, &sa->key) < 0 || w.err) {
		m->st.drop_tx_error++;
		return;
	}
	int r = m->ops.send ? m->ops.send(m->ops.arg, dst, buf, w.len) : -ENOTCONN;
	if (r < 0) {
		m->st.drop_tx_error++;
		return;
	}
	if (nack)
		m->st.nacks_sent++;
	else
		m->st.acks_sent++;
}

static uint16_t capped_lifetime(const struct cnd_mip4 *m, uint16_t lt)
{
	uint64_t max = mconf(m)->max_lifetime / 1000;
	if (max > 0xfffe)
		max = 0xfffe;
	return lt > max ? (uint16_t)max : lt;
}

static void update_input(struct cnd_mip4 *m, const uint8_t *data, size_t len,
			 const struct mip4_msg *u, const struct roam_sockaddr *src, uint64_t now,
			 uint64_t ntp_now)
{
	struct roam_ipaddr sip, home, coa;
	size_t idx = 0;
	char hb[ROAM_ADDRSTRLEN], cb_[ROAM_ADDRSTRLEN];
	m->st.rx_update++;
	if (roam_sockaddr_addr(src, &sip, NULL) < 0 || sip.family != AF_INET) {
		drop(m, &m->st.drop_unknown_ha, src, "Binding Update from a non-IPv4 source");
		return;
	}
	struct cnd_ha_sa *sa = sa_by_addr(m, sip.v4, &idx);
	if (!sa) {
		drop(m, &m->st.drop_unknown_ha, src, "Binding Update from an unknown home agent");
		return;
	}
	const struct mip4_auth *ra = &u->auth[MIP4_AUTH_RO];
	if (!ra->present) {
		drop(m, &m->st.drop_no_auth, src, "Binding Update without RO authentication");
		return;
	}
	if (ra->covered + ra->mac_len != len) {
		drop(m, &m->st.drop_malformed, src, "RO authentication is not the last extension");
		return;
	}
	if (ra->spi != sa->spi) {
		drop(m, &m->st.drop_unknown_spi, src, "unknown SPI");
		return;
	}
	if (!(u->flags & MIP4_BU_I)) {
		drop(m, &m->st.drop_no_id, src, "Binding Update without Identification (I)");
		return;
	}
	unsigned tol_s = (unsigned)(mconf(m)->replay_tolerance / 1000);
	if (mip4_id_check(u->id, ntp_now, tol_s) != 0) {
		drop(m, &m->st.drop_id_window, src, "Identification outside the replay tolerance");
		return;
	}
	if (replay_ts_check(&sa->replay, u->id, ntp_now) < 0) {
		drop(m, &m->st.drop_replay, src, "replayed Identification");
		return;
	}
	if (mip4_auth_verify(data, u, MIP4_AUTH_RO, &sa->key) < 0) {
		drop(m, &m->st.drop_auth_failed, src, "RO authentication failed");
		return;
	}
	replay_ts_commit(&sa->replay, u->id, ntp_now);
	bool want_ack = (u->flags & MIP4_BU_A) != 0;
	if (u->flags & (MIP4_BU_M | MIP4_BU_G)) {
		m->st.drop_bad_flags++;
		send_ack(m, sa, u, true, src); /* only IP-in-IP here (docs 4) */
		return;
	}
	bool relay = (u->exts & MIP4_HAS_RO_RELAY) && !(u->exts_late & MIP4_HAS_RO_RELAY);
	roam_ipaddr_set4(&home, u->home);
	roam_ipaddr_set4(&coa, u->coa);
	roam_ipaddr_fmt(&home, hb, sizeof(hb));
	struct binding *b = binding_lookup(&m->bc, &home);
	m->st.accepted++;

	if (u->lifetime == 0 || u->coa.s_addr == u->home.s_addr) {
		/* Deregistration: the mobile is home (or gone).  What is queued leaves first. */
		if (b) {
			drain_binding(m, b);
			gone(m, b);
			binding_remove(&m->bc, b);
			m->st.deleted++;
			log_info("mip4: binding of %s deleted by %s", hb, sa->name);
		}
		if (relay)
			send_relay(m, u->relay_dst, u->relay, u->relay_len);
		if (want_ack)
			send_ack(m, sa, u, false, src);
		return;
	}
	if (!b && binding_count(&m->bc) >= mconf(m)->max_bindings) {
		drop(m, &m->st.drop_too_many, src, "binding cache full");
		if (want_ack)
			send_ack(m, sa, u, true, src);
		return;
	}
	bool existed = b != NULL;
	bool moved = existed && !roam_ipaddr_eq(&b->cur.coa, &coa);
	enum binding_move_mode mode = mconf(m)->synchronize ? BINDING_MOVE_SYNC :
							      BINDING_MOVE_FLUSH;
	int r = binding_update(&m->bc, &home, &coa, capped_lifetime(m, u->lifetime), now, mode,
			       &b);
	if (r < 0 || attach(m, b, idx) < 0) {
		m->st.drop_tx_error++;
		if (b && !existed) {
			gone(m, b);
			binding_remove(&m->bc, b);
		}
		if (want_ack)
			send_ack(m, sa, u, true, src);
		return;
	}
	b->last_id = u->id;
	schedule_request(m, b, now);
	if (!existed)
		m->st.created++;
	else if (moved)
		m->st.moved++;
	else
		m->st.refreshed++;
	log_info("mip4: binding %s -> %s (%us) %s by %s", hb,
		 roam_ipaddr_fmt(&coa, cb_, sizeof(cb_)), b->lifetime_s,
		 !existed ? "created" : moved ? "moved" : "refreshed", sa->name);
	if (relay) {
		/* The deregistration reply leaves behind the old path's data (8.4). */
		uint8_t item[4 + MIP4_RO_RELAY_MAX];
		memcpy(item, &u->relay_dst, 4);
		memcpy(item + 4, u->relay, u->relay_len);
		if (moved && b->old.coa.family &&
		    bfifo_push(&b->old.fifo, BFIFO_CTRL, item, 4u + u->relay_len, now) == 0) {
			/* queued */
		} else {
			m->st.drr_no_old_path++;
			send_relay(m, u->relay_dst, u->relay, u->relay_len);
		}
	}
	drain_binding(m, b);
	if (want_ack)
		send_ack(m, sa, u, false, src);
}

void cnd_mip4_input(struct cnd_mip4 *m, const uint8_t *data, size_t len,
		    const struct roam_sockaddr *src, uint64_t now, uint64_t ntp_now)
{
	struct mip4_msg u;
	m->st.rx_packets++;
	int r = mip4_msg_decode(data, len, &u);
	if (r == -ENOTSUP) {
		drop(m, &m->st.drop_must_understand, src, "unknown must-understand extension");
		return;
	}
	if (r < 0) {
		drop(m, &m->st.drop_malformed, src, "malformed message");
		return;
	}
	if (u.type != MIP4_MSG_RO_UPDATE) {
		drop(m, &m->st.rx_other, src, "not a Binding Update");
		return;
	}
	update_input(m, data, len, &u, src, now, ntp_now);
}

/* Sends a Binding Request (241) for b to the home agent that bound it. */
static void send_request(struct cnd_mip4 *m, struct binding *b, uint64_t ntp_now)
{
	struct cnd_binding *cb = b->user;
	if (!cb || cb->ha >= m->nsas)
		return;
	struct cnd_ha_sa *sa = &m->sas[cb->ha];
	uint8_t buf[CND_MAX_MSG];
	struct wbuf w;
	struct mip4_msg q;
	memset(&q, 0, sizeof(q));
	q.type = MIP4_MSG_RO_REQUEST;
	q.home = b->home.v4;
	q.id = mip4_id_next(auth_ntp_to_unix_ms(ntp_now), 0, m->last_req_id);
	q.has_id = 1;
	m->last_req_id = q.id;
	wbuf_init_fixed(&w, buf, sizeof(buf));
	if (mip4_msg_encode(&w, &q) < 0 ||
	    mip4_auth_append(&w, 0, MIP4_AUTH_RO, sa->spi, &sa->key) < 0 || w.err) {
		m->st.drop_tx_error++;
		return;
	}
	struct roam_sockaddr dst;
	roam_sockaddr_set(&dst, &sa->addr, MIP4_UDP_PORT);
	if (!m->ops.send || m->ops.send(m->ops.arg, &dst, buf, w.len) < 0) {
		m->st.drop_tx_error++;
		return;
	}
	m->st.requests_sent++;
	cb->request_sent = true;
}

struct tick_ctx {
	struct cnd_mip4 *m;
	uint64_t now, ntp_now, next;
};

static int tick_walk(struct binding *b, void *arg)
{
	struct tick_ctx *t = arg;
	struct cnd_binding *cb = b->user;
	if (!cb || !cb->request_due || cb->request_sent)
		return 0;
	if (cb->request_due <= t->now)
		send_request(t->m, b, t->ntp_now);
	else if (cb->request_due < t->next)
		t->next = cb->request_due;
	return 0;
}

uint64_t cnd_mip4_tick(struct cnd_mip4 *m, uint64_t now, uint64_t ntp_now)
{
	struct tick_ctx t = { m, now, ntp_now, UINT64_MAX };
	binding_expire(&m->bc, now);
	binding_foreach(&m->bc, tick_walk, &t);
	return t.next;
}

/* ---- state ---- */

int cnd_mip4_new(struct cnd *c, const struct cnd_mip4_ops *ops, struct cnd_mip4 **out)
{
	struct cnd_mip4 *m = calloc(1, sizeof(*m));
	int r;
	if (!m)
		return -ENOMEM;
	m->c = c;
	if ((r = sa_build(m)) < 0)
		goto fail;
	if ((r = binding_cache_init(&m->bc, c->conf.mip4.fifo_items, 0, expire_cb, m)) < 0)
		goto fail;
	m->bc_ready = true;
	if (!(m->txbuf = malloc(DP_OUTER_MAX))) {
		r = -ENOMEM;
		goto fail;
	}
	if (ops) {
		m->ops = *ops;
		m->have_ops = true;
	}
	*out = m;
	return 0;
fail:
	cnd_mip4_delete(m);
	return r;
}

static int gone_walk(struct binding *b, void *arg)
{
	gone(arg, b);
	return 0;
}

void cnd_mip4_delete(struct cnd_mip4 *m)
{
	if (!m)
		return;
	if (m->bc_ready) {
		binding_foreach(&m->bc, gone_walk, m);
		binding_cache_destroy(&m->bc);
	}
	for (size_t i = 0; i < m->nsas; i++)
		auth_key_wipe(&m->sas[i].key);
	free(m->sas);
	free(m->txbuf);
	free(m);
}

/* ---- sockets (the daemon) ---- */

static int k_send(void *arg, const struct roam_sockaddr *dst, const void *data, size_t len)
{
	struct cnd_mip4 *m = arg;
	return m->udp ? roam_udp_send(m->udp, dst, data, len) : -ENOTCONN;
}

static int k_xmit(void *arg, const void *pkt, size_t len)
{
	return roam_tunnel_xmit(&((struct cnd_mip4 *)arg)->tn, pkt, len);
}

static int k_install(void *arg, const struct roam_ipaddr *home, int add)
{
	return roam_tunnel_route(&((struct cnd_mip4 *)arg)->tn, home, 0, 0, add);
}

static void udp_recv(struct roam_udp *u, const struct roam_udp_pkt *pkt, void *arg)
{
	(void)u;
	cnd_mip4_input(arg, pkt->data, pkt->len, &pkt->src, roam_mono_ms(),
		       auth_ntp_from_unix_ms(roam_wall_ms()));
}

static void tun_recv(void *arg, const uint8_t *pkt, size_t len)
{
	cnd_mip4_from_tun(arg, pkt, len, roam_mono_ms());
}

static void raw_recv(void *arg, const uint8_t *pkt, size_t len)
{
	(void)arg, (void)pkt, (void)len; /* the mobile's traffic takes the normal path */
}

static void retry_cb(void *arg)
{
	cnd_mip4_drain_all(arg);
}

static void timer_cb(uv_timer_t *t)
{
	cnd_mip4_tick(t->data, roam_mono_ms(), auth_ntp_from_unix_ms(roam_wall_ms()));
}

static bool mip4_enabled(const void *conf)
{
	return ((const struct cnd_conf *)conf)->mip4.address.family != 0;
}

static int mip4_start(void *d, void **state)
{
	struct cnd *c = d;
	const struct cnd_mip4_conf *mc = &c->conf.mip4;
	struct cnd_mip4 *m;
	int r = cnd_mip4_new(c, NULL, &m);
	if (r < 0)
		return r;
	*state = m;
	struct cnd_mip4_ops ops = { k_send, NULL, NULL, m };
	if (mc->dataplane.enabled) {
		struct roam_tunnel_opts to = {
			.tun = mc->dataplane.tun,
			.tun_mtu = mc->dataplane.tun_mtu,
			.tun_recv = tun_recv,
			.tunnel_recv = raw_recv,
			.retry = retry_cb,
			.arg = m,
		};
		if ((r = roam_tunnel_open(&m->tn, c->loop, &to)) < 0)
			return r;
		m->tn_open = true;
		ops.xmit = k_xmit;
		ops.install = k_install;
	}
	m->ops = ops;
	m->have_ops = true;
	struct roam_udp_opts o;
	memset(&o, 0, sizeof(o));
	roam_sockaddr_set(&o.bind, &mc->listen, (uint16_t)mc->port);
	o.reuseaddr = 1;
	if ((r = roam_udp_open(c->loop, &o, udp_recv, m, &m->udp)) < 0) {
		char b[ROAM_ADDRSTRLEN];
		log_warnx("mip4: cannot listen on %s: %s",
			  roam_sockaddr_fmt(&o.bind, b, sizeof(b)), strerror(-r));
		return r;
	}
	uv_timer_init(c->loop, &m->timer);
	uv_timer_init(c->loop, &m->drain_timer);
	m->timer.data = m;
	m->drain_timer.data = m;
	m->timers = true;
	uv_timer_start(&m->timer, timer_cb, TICK_MS, TICK_MS);
	char ab[ROAM_ADDRSTRLEN];
	log_info("mip4: route optimization at %s, %zu home agent(s), data plane %s",
		 roam_ipaddr_fmt(&mc->address, ab, sizeof(ab)), m->nsas,
		 mc->dataplane.enabled ? mc->dataplane.tun : "off");
	return 0;
}

static void mip4_stop(void *d, void *state)
{
	(void)d;
	struct cnd_mip4 *m = state;
	if (m->bc_ready)
		binding_foreach(&m->bc, gone_walk, m); /* routes out before the TUN goes */
	if (m->timers) {
		uv_timer_stop(&m->timer);
		uv_timer_stop(&m->drain_timer);
		uv_close((uv_handle_t *)&m->timer, NULL);
		uv_close((uv_handle_t *)&m->drain_timer, NULL);
		m->timers = false;
	}
	if (m->udp)
		roam_udp_close(m->udp, NULL);
	m->udp = NULL;
	if (m->tn_open)
		roam_tunnel_close(&m->tn);
	m->tn_open = false;
	m->ops.send = NULL;
	m->ops.xmit = NULL;
	m->ops.install = NULL;
}

static int mip4_reload(void *d, void *state, const void *old, char *err, size_t errlen)
{
	(void)d;
	struct cnd_mip4 *m = state;
	const struct cnd_mip4_conf *o = &((const struct cnd_conf *)old)->mip4;
	const struct cnd_mip4_conf *n = mconf(m);
	if (!roam_ipaddr_eq(&o->listen, &n->listen) || o->port != n->port ||
	    o->dataplane.enabled != n->dataplane.enabled ||
	    strcmp(o->dataplane.tun, n->dataplane.tun) != 0)
		log_warnx("reload: mip4 listen, port and dataplane take effect at the next restart");
	int r = sa_build(m);
	if (r < 0) {
		snprintf(err, errlen, "mip4: cannot set the home agent keys: %s", strerror(-r));
		return r;
	}
	return 0;
}

struct dump_ctx {
	struct json_writer *w;
	uint64_t now;
};

static int dump_one(struct binding *b, void *arg)
{
	struct dump_ctx *x = arg;
	const struct cnd_binding *cb = b->user;
	json_obj_begin(x->w);
	binding_json(x->w, b, x->now);
	if (cb) {
		json_kv_bool(x->w, "installed", cb->installed);
		json_kv_uint(x->w, "tunnelled", cb->st.tunnelled);
		json_kv_uint(x->w, "tunnelled_bytes", cb->st.tunnelled_bytes);
		json_kv_uint(x->w, "queued_total", cb->st.queued);
		json_kv_uint(x->w, "dropped", cb->st.dropped);
		json_kv_uint(x->w, "drr_relayed", cb->drr_relayed);
		json_kv_bool(x->w, "request_sent", cb->request_sent);
	}
	binding_path_json(x->w, "current", &b->cur);
	if (b->old.coa.family)
		binding_path_json(x->w, "old", &b->old);
	json_obj_end(x->w);
	return 0;
}

static int cmd_bindings(void *arg, const struct json_value *args, struct json_writer *w,
			char *err, size_t errlen)
{
	struct cnd_mip4 *m = arg;
	(void)args, (void)err, (void)errlen;
	struct dump_ctx x = { w, roam_mono_ms() };
	json_arr_begin(w);
	binding_foreach(&m->bc, dump_one, &x);
	json_arr_end(w);
	return 0;
}

static int mip4_ctl_register(void *d, void *state, struct roam_ctl *ctl)
{
	(void)d;
	return ctl_register(ctl, "mip4-bindings",
			    "route optimization binding cache (home, care-of, counters)",
			    cmd_bindings, state);
}

#define ST(k) json_kv_uint(w, #k, m->st.k)
static void mip4_status(void *d, void *state, struct json_writer *w)
{
	(void)d;
	struct cnd_mip4 *m = state;
	char ab[ROAM_ADDRSTRLEN];
	json_kv_str(w, "address", roam_ipaddr_fmt(&mconf(m)->address, ab, sizeof(ab)));
	json_kv_uint(w, "bindings", binding_count(&m->bc));
	json_kv_uint(w, "home_agents", m->nsas);
	json_kv_bool(w, "synchronize", mconf(m)->synchronize);
	json_kv_bool(w, "dataplane", m->tn_open);
	ST(rx_packets); ST(rx_update); ST(rx_other);
	ST(accepted); ST(created); ST(refreshed); ST(moved); ST(deleted); ST(expired);
	ST(acks_sent); ST(nacks_sent); ST(requests_sent); ST(drr_relayed); ST(drr_no_old_path);
	ST(drop_malformed); ST(drop_must_understand); ST(drop_unknown_ha); ST(drop_unknown_spi);
	ST(drop_no_auth); ST(drop_auth_failed); ST(drop_no_id); ST(drop_id_window);
	ST(drop_replay); ST(drop_bad_flags); ST(drop_too_many); ST(drop_tx_error);
	ST(dp_rx_packets); ST(dp_tunnelled); ST(dp_tunnelled_bytes); ST(dp_queued);
	ST(dp_drop_no_binding); ST(dp_drop_malformed); ST(dp_drop_full); ST(dp_drop_too_big);
	ST(dp_drop_tx_error); ST(dp_tx_eagain);
}
#undef ST

static void mip4_free(void *d, void *state)
{
	(void)d;
	cnd_mip4_delete(state);
}

const struct roam_module cnd_mip4_module = {
	.name = "mip4",
	.enabled = mip4_enabled,
	.start = mip4_start,
	.stop = mip4_stop,
	.reload = mip4_reload,
	.ctl_register = mip4_ctl_register,
	.status = mip4_status,
	.free = mip4_free,
};
