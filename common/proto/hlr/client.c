/* HLR client: docs/protocols/hlr.md sections 7 (reply checks) and 8 (timers).  One libuv timer
 * drives every retransmission, refresh and query timeout: the host agents have a handful of
 * registrations and a modest number of queries in flight, so a scan per tick is cheap and keeps
 * the handle ownership simple (two sockets and one timer). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "roam/hlr_client.h"
#include "roam/log.h"
#include "roam/table.h"
#include "roam/udp.h"

#define XACT_TS_MAX 16 /* timestamps remembered per transaction (the latest transmissions) */

struct xact {
	uint32_t txid;
	uint64_t ts[XACT_TS_MAX];
	unsigned nts;       /* transmissions recorded (ring index = nts % XACT_TS_MAX) */
	unsigned tries;     /* transmissions so far */
	uint32_t rto;
	uint64_t due;       /* next transmission or give-up, monotonic ms */
	int active;
};

struct reg_srv {
	struct xact x;
	int done;           /* no more transmissions for this registration at this server */
	uint64_t refresh_at;/* 0: none */
};

struct reg {
	struct reg *next;
	struct roam_ipaddr perm, coa;
	uint32_t lifetime;
	hlr_update_cb cb;
	void *arg;
	struct reg_srv s[HLR_CLIENT_MAX_SERVERS];
};

struct query {
	struct query *next;
	struct roam_ipaddr perm;
	size_t server;
	struct xact x;
	hlr_query_cb cb;
	void *arg;
};

struct cache_ent {
	struct table_node node;
	uint8_t key[ROAM_IPADDR_KEYLEN];
	struct hlr_mapping m;
	uint64_t expires;
};

struct hlr_client {
	uv_loop_t *loop;
	struct roam_sockaddr servers[HLR_CLIENT_MAX_SERVERS];
	size_t nservers;
	uint32_t key_id;
	struct roam_key key;
	uint32_t rto_initial, rto_max, cache_max_s;
	unsigned query_tries, refresh_pct;
	size_t cache_max;
	struct roam_udp *udp4, *udp6;
	uv_timer_t timer;
	struct reg *regs;
	struct query *queries;
	struct table cache;
	int cache_ok;
	uint32_t next_txid;
	uint64_t last_ts;
	struct hlr_client_stats st;
	int closing;
	int pending_closes;
};

static void schedule(struct hlr_client *c);

/* ---- cache ---- */

static void cache_expired(struct table *t, struct table_node *n, void *arg)
{
	(void)t;
	(void)arg;
	free(table_entry(n, struct cache_ent, node));
}

static void cache_put(struct hlr_client *c, const struct hlr_mapping *m, uint64_t now)
{
	uint32_t ttl = m->lifetime < c->cache_max_s ? m->lifetime : c->cache_max_s;
	uint8_t key[ROAM_IPADDR_KEYLEN];
	roam_ipaddr_key(&m->perm, key);
	struct table_node *n = table_lookup(&c->cache, key, sizeof(key));
	struct cache_ent *e = n ? table_entry(n, struct cache_ent, node) : NULL;
	if (ttl == 0) {
		if (e) {
			table_remove(&c->cache, &e->node);
			free(e);
		}
		return;
	}
	if (!e) {
		if (table_count(&c->cache) >= c->cache_max)
			return; /* full: answer without caching */
		e = calloc(1, sizeof(*e));
		if (!e)
			return;
		memcpy(e->key, key, sizeof(key));
		if (table_insert(&c->cache, &e->node, e->key, sizeof(e->key)) < 0) {
			free(e);
			return;
		}
	}
	e->m = *m;
	e->expires = now + (uint64_t)ttl * 1000;
	table_set_expiry(&c->cache, &e->node, e->expires);
}

int hlr_client_cache_lookup(struct hlr_client *c, const struct roam_ipaddr *perm,
			    struct hlr_mapping *out)
{
	uint64_t now = uv_now(c->loop);
	uint8_t key[ROAM_IPADDR_KEYLEN];
	roam_ipaddr_key(perm, key);
	struct table_node *n = table_lookup(&c->cache, key, sizeof(key));
	if (!n)
		return 0;
	struct cache_ent *e = table_entry(n, struct cache_ent, node);
	if (e->expires <= now)
		return 0;
	*out = e->m;
	out->lifetime = (uint32_t)((e->expires - now + 999) / 1000);
	out->server = -1;
	return 1;
}

static int flush_one(struct table_node *n, void *arg)
{
	struct hlr_client *c = arg;
	table_remove(&c->cache, n);
	free(table_entry(n, struct cache_ent, node));
	return 0;
}

void hlr_client_cache_flush(struct hlr_client *c, const struct roam_ipaddr *perm)
{
	if (!perm) {
		table_foreach(&c->cache, flush_one, c);
		return;
	}
	uint8_t key[ROAM_IPADDR_KEYLEN];
	roam_ipaddr_key(perm, key);
	struct table_node *n = table_lookup(&c->cache, key, sizeof(key));
	if (n)
		flush_one(n, c);
}

/* ---- transmissions ---- */

static void xact_start(struct hlr_client *c, struct xact *x)
{
	memset(x, 0, sizeof(*x));
	x->txid = c->next_txid++;
	x->rto = c->rto_initial;
	x->active = 1;
}

static int xact_has_ts(const struct xact *x, uint64_t ts)
{
	unsigned n = x->nts < XACT_TS_MAX ? x->nts : XACT_TS_MAX;
	for (unsigned i = 0; i < n; i++)
		if (x->ts[i] == ts)
			return 1;
	return 0;
}

/* Sends one fresh message of the transaction (new timestamp, hlr.md section 8) and schedules
 * the next attempt with exponential backoff. */
static void xact_send(struct hlr_client *c, size_t server, struct xact *x, uint8_t type,
		      const struct roam_ipaddr *perm, const struct roam_ipaddr *coa,
		      const uint32_t *lifetime, uint64_t now)
{
	uint64_t ts = hlr_ntp_now();
	if (ts <= c->last_ts)
		ts = c->last_ts + 1; /* strictly increasing per key */
	c->last_ts = ts;
	struct hlr_msg m = { .type = type, .txid = x->txid, .key_id = c->key_id, .timestamp = ts,
			     .present = HLR_HAS_PERM, .perm = *perm };
	if (coa) {
		m.present |= HLR_HAS_COA;
		m.coa = *coa;
	}
	if (lifetime) {
		m.present |= HLR_HAS_LIFETIME;
		m.lifetime = *lifetime;
	}
	x->ts[x->nts % XACT_TS_MAX] = ts;
	x->nts++;
	x->tries++;
	x->due = now + x->rto;
	x->rto = x->rto * 2 > c->rto_max ? c->rto_max : x->rto * 2;

	uint8_t buf[HLR_MAX_MSG];
	struct wbuf w;
	wbuf_init_fixed(&w, buf, sizeof(buf));
	const struct roam_sockaddr *dst = &c->servers[server];
	struct roam_udp *u = roam_sockaddr_family(dst) == AF_INET6 ? c->udp6 : c->udp4;
	if (hlr_encode(&w, &m, &c->key) < 0 || !u || roam_udp_send(u, dst, buf, w.len) < 0) {
		c->st.tx_errors++; /* retried at the next due time like a lost datagram */
		return;
	}
	if (type == HLR_UPDATE)
		c->st.tx_update++;
	else
		c->st.tx_query++;
}

static void reg_send(struct hlr_client *c, struct reg *r, size_t i, uint64_t now)
{
	xact_send(c, i, &r->s[i].x, HLR_UPDATE, &r->perm, &r->coa, &r->lifetime, now);
}

static void query_send(struct hlr_client *c, struct query *q, uint64_t now)
{
	xact_send(c, q->server, &q->x, HLR_QUERY, &q->perm, NULL, NULL, now);
}

/* ---- registrations ---- */

static struct reg *reg_find(struct hlr_client *c, const struct roam_ipaddr *perm)
{
	for (struct reg *r = c->regs; r; r = r->next)
		if (roam_ipaddr_eq(&r->perm, perm))
			return r;
	return NULL;
}

static void reg_unlink(struct hlr_client *c, struct reg *r)
{
	for (struct reg **pp = &c->regs; *pp; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			return;
		}
}

static int reg_all_done(const struct hlr_client *c, const struct reg *r)
{
	for (size_t i = 0; i < c->nservers; i++)
		if (!r->s[i].done)
			return 0;
	return 1;
}

int hlr_client_update(struct hlr_client *c, const struct roam_ipaddr *perm,
		      const struct roam_ipaddr *coa, uint32_t lifetime_s, hlr_update_cb cb,
		      void *arg)
{
	if (c->closing || !hlr_addr_usable(perm, 0) || !hlr_addr_usable(coa, 1))
		return -EINVAL;
	struct reg *r = reg_find(c, perm);
	if (!r) {
		r = calloc(1, sizeof(*r));
		if (!r)
			return -ENOMEM;
		r->perm = *perm;
		r->next = c->regs;
		c->regs = r;
	}
	r->coa = *coa;
	r->lifetime = lifetime_s;
	r->cb = cb;
	r->arg = arg;
	uint64_t now = uv_now(c->loop);
	for (size_t i = 0; i < c->nservers; i++) {
		memset(&r->s[i], 0, sizeof(r->s[i]));
		xact_start(c, &r->s[i].x);
		reg_send(c, r, i, now);
	}
	schedule(c);
	return 0;
}

int hlr_client_forget(struct hlr_client *c, const struct roam_ipaddr *perm)
{
	struct reg *r = reg_find(c, perm);
	if (!r)
		return 0;
	reg_unlink(c, r);
	free(r);
	schedule(c);
	return 1;
}

/* ---- queries ---- */

static void query_unlink(struct hlr_client *c, struct query *q)
{
	for (struct query **pp = &c->queries; *pp; pp = &(*pp)->next)
		if (*pp == q) {
			*pp = q->next;
			return;
		}
}

int hlr_client_query(struct hlr_client *c, const struct roam_ipaddr *perm, struct hlr_mapping *out,
		     hlr_query_cb cb, void *arg)
{
	if (c->closing || !hlr_addr_usable(perm, 0))
		return -EINVAL;
	if (out && hlr_client_cache_lookup(c, perm, out)) {
		c->st.cache_hits++;
		return 1;
	}
	c->st.cache_misses++;
	struct query *q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->perm = *perm;
	q->cb = cb;
	q->arg = arg;
	q->next = c->queries;
	c->queries = q;
	xact_start(c, &q->x);
	query_send(c, q, uv_now(c->loop));
	schedule(c);
	return 0;
}

/* ---- timer ---- */

static void on_timer(uv_timer_t *t)
{
	struct hlr_client *c = t->data;
	uint64_t now = uv_now(c->loop);
again:
	if (c->closing)
		return;
	for (struct reg *r = c->regs; r; r = r->next) {
		for (size_t i = 0; i < c->nservers; i++) {
			struct reg_srv *s = &r->s[i];
			if (s->x.active && s->x.due <= now) {
				if (r->lifetime == 0 && s->x.tries >= c->query_tries) {
					/* A deregistration nobody answered: give up on it. */
					struct hlr_update_result res = { i, &r->perm, -ETIMEDOUT, 0 };
					struct roam_ipaddr perm = r->perm;
					hlr_update_cb cb = r->cb;
					void *arg = r->arg;
					s->x.active = 0;
					s->done = 1;
					if (reg_all_done(c, r)) {
						reg_unlink(c, r);
						free(r);
					}
					res.perm = &perm;
					if (cb)
						cb(arg, &res);
					goto again; /* the callback may have changed the lists */
				}
				reg_send(c, r, i, now);
			} else if (!s->x.active && !s->done && s->refresh_at && s->refresh_at <= now) {
				xact_start(c, &s->x); /* refresh: a new transaction */
				s->refresh_at = 0;
				reg_send(c, r, i, now);
			}
		}
	}
	for (struct query *q = c->queries; q; q = q->next) {
		if (q->x.due > now)
			continue;
		if (q->x.tries < c->query_tries) {
			query_send(c, q, now);
			continue;
		}
		if (q->server + 1 < c->nservers) {
			q->server++; /* hlr.md 8: next HLR in order */
			xact_start(c, &q->x);
			query_send(c, q, now);
			continue;
		}
		query_unlink(c, q);
		c->st.query_timeouts++;
		hlr_query_cb cb = q->cb;
		void *arg = q->arg;
		free(q);
		if (cb)
			cb(arg, -ETIMEDOUT, NULL);
		goto again;
	}
	table_expire(&c->cache, now);
	schedule(c);
}

static void schedule(struct hlr_client *c)
{
	if (c->closing)
		return;
	uint64_t next = UINT64_MAX;
	for (struct reg *r = c->regs; r; r = r->next)
		for (size_t i = 0; i < c->nservers; i++) {
			const struct reg_srv *s = &r->s[i];
			if (s->x.active && s->x.due < next)
				next = s->x.due;
			if (!s->x.active && !s->done && s->refresh_at && s->refresh_at < next)
				next = s->refresh_at;
		}
	for (struct query *q = c->queries; q; q = q->next)
		if (q->x.due < next)
			next = q->x.due;
	if (next == UINT64_MAX) {
		uv_timer_stop(&c->timer);
		return;
	}
	uint64_t now = uv_now(c->loop);
	uv_timer_start(&c->timer, on_timer, next > now ? next - now : 0, 0);
}

/* ---- replies ---- */

static int server_index(const struct hlr_client *c, const struct roam_sockaddr *src)
{
	for (size_t i = 0; i < c->nservers; i++)
		if (roam_sockaddr_eq(&c->servers[i], src))
			return (int)i;
	return -1;
}

static void on_recv(struct roam_udp *u, const struct roam_udp_pkt *pkt, void *arg)
{
	(void)u;
	struct hlr_client *c = arg;
	struct hlr_msg m;
	uint64_t now = uv_now(c->loop);
	if (c->closing)
		return;
	c->st.rx_packets++;
	if (hlr_decode(pkt->data, pkt->len, &m, NULL) < 0) {
		c->st.drop_malformed++;
		return;
	}
	int si = server_index(c, &pkt->src);
	if (si < 0 || m.key_id != c->key_id ||
	    (m.type != HLR_UPDATE_ACK && m.type != HLR_QUERY_REPLY)) {
		c->st.drop_unexpected++;
		return;
	}
	if (m.type == HLR_UPDATE_ACK) {
		struct reg *r;
		struct reg_srv *s = NULL;
		for (r = c->regs; r; r = r->next) {
			s = &r->s[si];
			if (s->x.active && s->x.txid == m.txid && xact_has_ts(&s->x, m.timestamp) &&
			    roam_ipaddr_eq(&r->perm, &m.perm))
				break;
		}
		if (!r) {
			c->st.drop_unexpected++;
			return;
		}
		if (hlr_verify(pkt->data, pkt->len, &c->key) < 0) {
			c->st.drop_bad_auth++;
			return;
		}
		c->st.rx_accepted++;
		s->x.active = 0;
		s->refresh_at = 0;
		if (m.code == HLR_CODE_OK && r->lifetime > 0 && m.lifetime > 0) {
			uint64_t in = (uint64_t)m.lifetime * 10 * c->refresh_pct; /* ms */
			s->refresh_at = now + (in > 0 ? in : 1);
		} else {
			s->done = 1; /* deregistered, or refused: not retried */
		}
		struct roam_ipaddr perm = r->perm;
		struct hlr_update_result res = { (size_t)si, &perm, m.code,
						 m.code == HLR_CODE_OK ? m.lifetime : 0 };
		hlr_update_cb cb = r->cb;
		void *cbarg = r->arg;
		if (r->lifetime == 0 && reg_all_done(c, r)) {
			reg_unlink(c, r);
			free(r);
		}
		schedule(c);
		if (cb)
			cb(cbarg, &res);
		return;
	}
	struct query *q;
	for (q = c->queries; q; q = q->next)
		if ((int)q->server == si && q->x.txid == m.txid &&
		    xact_has_ts(&q->x, m.timestamp) && roam_ipaddr_eq(&q->perm, &m.perm))
			break;
	if (!q) {
		c->st.drop_unexpected++;
		return;
	}
	if (hlr_verify(pkt->data, pkt->len, &c->key) < 0) {
		c->st.drop_bad_auth++;
		return;
	}
	c->st.rx_accepted++;
	query_unlink(c, q);
	hlr_query_cb cb = q->cb;
	void *cbarg = q->arg;
	free(q);
	schedule(c);
	struct hlr_mapping map;
	memset(&map, 0, sizeof(map));
	map.perm = m.perm;
	map.server = si;
	int status = 0;
	if (m.code == HLR_CODE_OK) {
		map.found = 1;
		map.coa = m.coa;
		map.lifetime = m.lifetime;
		cache_put(c, &map, now);
	} else if (m.code == HLR_CODE_NO_MAPPING) {
		map.lifetime = m.neg_ttl;
		cache_put(c, &map, now);
	} else {
		status = -EINVAL; /* BAD-ADDRESS: we asked about an unusable address */
	}
	if (cb)
		cb(cbarg, status, status == 0 ? &map : NULL);
}

/* ---- lifecycle ---- */

static void closed_one(struct hlr_client *c)
{
	if (--c->pending_closes == 0) {
		auth_key_wipe(&c->key);
		free(c);
	}
}

static void on_udp_closed(struct roam_udp *u, void *arg)
{
	(void)u;
	closed_one(arg);
}

static void on_timer_closed(uv_handle_t *h)
{
	closed_one(h->data);
}

static int open_sock(struct hlr_client *c, int family, struct roam_udp **out)
{
	struct roam_udp_opts o;
	struct roam_ipaddr any;
	memset(&o, 0, sizeof(o));
	memset(&any, 0, sizeof(any));
	any.family = family;
	roam_sockaddr_set(&o.bind, &any, 0);
	o.bufsize = 2048;
	return roam_udp_open(c->loop, &o, on_recv, c, out);
}

int hlr_client_open(struct hlr_client **out, uv_loop_t *loop, const struct hlr_client_opts *o)
{
	if (!o || o->nservers == 0 || o->nservers > HLR_CLIENT_MAX_SERVERS ||
	    o->key.alg != AUTH_ALG_HMAC_SHA256 || o->key.len == 0)
		return -EINVAL;
	struct hlr_client *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->loop = loop;
	memcpy(c->servers, o->servers, o->nservers * sizeof(o->servers[0]));
	c->nservers = o->nservers;
	c->key_id = o->key_id;
	c->key = o->key;
	c->rto_initial = o->rto_initial_ms ? o->rto_initial_ms : 1000;
	c->rto_max = o->rto_max_ms ? o->rto_max_ms : 16000;
	if (c->rto_max < c->rto_initial)
		c->rto_max = c->rto_initial;
	c->query_tries = o->query_tries ? o->query_tries : 3;
	c->refresh_pct = o->refresh_pct && o->refresh_pct < 100 ? o->refresh_pct : 80;
	c->cache_max_s = o->cache_max_s ? o->cache_max_s : 60;
	c->cache_max = o->cache_max ? o->cache_max : 4096;
	auth_random(&c->next_txid, sizeof(c->next_txid));
	int r = table_init(&c->cache, cache_expired, cache_expired, c);
	if (r < 0) {
		free(c);
		return r;
	}
	c->cache_ok = 1;
	table_expire(&c->cache, uv_now(loop)); /* start the wheel at the loop's time */
	int need4 = 0, need6 = 0;
	for (size_t i = 0; i < c->nservers; i++) {
		if (roam_sockaddr_family(&c->servers[i]) == AF_INET6)
			need6 = 1;
		else
			need4 = 1;
	}
	uv_timer_init(loop, &c->timer);
	c->timer.data = c;
	c->pending_closes = 1;
	if (need4 && (r = open_sock(c, AF_INET, &c->udp4)) == 0)
		c->pending_closes++;
	if (r == 0 && need6 && (r = open_sock(c, AF_INET6, &c->udp6)) == 0)
		c->pending_closes++;
	if (r < 0) {
		hlr_client_close(c);
		return r;
	}
	*out = c;
	return 0;
}

void hlr_client_close(struct hlr_client *c)
{
	if (!c || c->closing)
		return;
	c->closing = 1;
	struct query *qs = c->queries;
	c->queries = NULL;
	while (qs) {
		struct query *q = qs;
		qs = q->next;
		if (q->cb)
			q->cb(q->arg, -ECANCELED, NULL);
		free(q);
	}
	while (c->regs) {
		struct reg *r = c->regs;
		c->regs = r->next;
		free(r);
	}
	if (c->cache_ok)
		table_destroy(&c->cache);
	uv_timer_stop(&c->timer);
	uv_close((uv_handle_t *)&c->timer, on_timer_closed);
	if (c->udp4)
		roam_udp_close(c->udp4, on_udp_closed);
	if (c->udp6)
		roam_udp_close(c->udp6, on_udp_closed);
}

const struct hlr_client_stats *hlr_client_stats(const struct hlr_client *c)
{
	return &c->st;
}
