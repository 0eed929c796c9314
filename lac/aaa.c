/* The LNS of an attaching mobile from RADIUS (docs/protocols/radius.md; RFC 2865, RFC 2868
 * tunnel attributes, RFC 3579 Message-Authenticator):
 *
 *   ATTACH (no call for the MIN) --> Access-Request: User-Name (NAI, else MIN),
 *        Calling-Station-Id (MIN), NAS-Identifier, NAS-IP-Address, Service-Type Framed,
 *        Framed-Protocol PPP, NAS-Port-Type; the ATTACH waits (retransmissions of it are
 *        absorbed, a new Nonce replaces the waiting one)
 *   Access-Accept, Tunnel-Type L2TP + Tunnel-Server-Endpoint --> the call to that LNS (lowest
 *        Tunnel-Preference first; Tunnel-Password, if any, is the tunnel secret), ATTACH-ACK
 *   Access-Accept without a usable L2TP tunnel, Access-Reject --> ATTACH-NAK cause 3
 *   no answer from any server --> the static table (lns:) if it has an entry, else cause 3
 *
 * The client (common/proto/radius) takes `now` and sends through a function, so the unit tests
 * run this file on a fake clock and a fake transport (lacd_aaa_init). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lacd.h"

struct aaa_pending {
	struct table_node node;        /* aaa->pending, key: min */
	struct access_msg attach;      /* the waiting ATTACH (copied; no data) */
	struct roam_sockaddr src;
	struct roam_ipaddr dst;        /* family 0: none */
	uint64_t started;
};

struct lacd_aaa {
	struct lacd *h;
	struct radius_client client;
	struct table pending;
	bool ready;
	struct roam_udp *udp;
	uv_timer_t timer;
	bool timer_ready;
	radius_tx_fn tx;               /* the socket, or a test's fake */
	void *tx_arg;
	struct log_ratelimit rl;
	struct lacd_aaa_stats stats;
};

static void aaa_arm(struct lacd_aaa *a);

bool lacd_aaa_enabled(const struct lacd *h)
{
	return h->aaa && h->aaa->ready;
}

static void pending_free_cb(struct table *t, struct table_node *n, void *arg)
{
	(void)t, (void)arg;
	free(table_entry(n, struct aaa_pending, node));
}

static void aaa_tx(void *arg, const struct roam_sockaddr *dst, const uint8_t *pkt, size_t len)
{
	struct lacd_aaa *a = arg;
	a->tx(a->tx_arg, dst, pkt, len);
}

static struct aaa_pending *pending_by_min(struct lacd_aaa *a, const char *min)
{
	struct table_node *n = table_lookup(&a->pending, min, strlen(min));
	return n ? table_entry(n, struct aaa_pending, node) : NULL;
}

/* The LNS of an Access-Accept: the L2TP tunnel with the lowest Tunnel-Preference whose
 * Tunnel-Server-Endpoint is a numeric address (RFC 2868 3.4: dotted decimal for IPv4, the
 * textual form for IPv6; FQDNs are not resolved).  -ENOENT: none usable. */
static int pick_lns(struct lacd *h, const struct radius_tunnel *t, size_t n,
		    struct roam_sockaddr *lns, const struct radius_tunnel **which)
{
	for (size_t i = 0; i < n; i++) {
		struct roam_ipaddr ip;
		if (t[i].type != RADIUS_TUNNEL_L2TP || !t[i].server_endpoint[0])
			continue;
		if (roam_ipaddr_parse(t[i].server_endpoint, &ip) < 0) {
			log_warnx("radius: Tunnel-Server-Endpoint '%s' is not an address: skipped",
				  t[i].server_endpoint);
			continue;
		}
		if ((t[i].medium == RADIUS_MEDIUM_IPV4 && ip.family != AF_INET) ||
		    (t[i].medium == RADIUS_MEDIUM_IPV6 && ip.family != AF_INET6) ||
		    (t[i].medium && t[i].medium != RADIUS_MEDIUM_IPV4 &&
		     t[i].medium != RADIUS_MEDIUM_IPV6))
			continue;
		roam_sockaddr_set(lns, &ip, L2TP_UDP_PORT);
		*which = &t[i];
		(void)h;
		return 0;
	}
	return -ENOENT;
}

static void answer(struct lacd *h, struct aaa_pending *p, const struct roam_sockaddr *lns,
		   uint64_t now)
{
	lacd_access_attach(h, &p->attach, &p->src, p->dst.family ? &p->dst : NULL, lns, now);
}

static void nak(struct lacd *h, struct aaa_pending *p)
{
	lacd_access_send_nak(h, &p->src, p->dst.family ? &p->dst : NULL, p->attach.nonce,
			     ACCESS_NAK_NO_LNS);
}

static void done_cb(void *arg, void *user, enum radius_result res, const struct radius_pkt *resp,
		    const uint8_t *req_auth)
{
	struct lacd_aaa *a = arg;
	struct lacd *h = a->h;
	struct aaa_pending *p = user;
	struct radius_tunnel t[RADIUS_TUNNELS_MAX];
	const struct radius_tunnel *which = NULL;
	struct roam_sockaddr lns;
	char b[ROAM_ADDRSTRLEN];
	size_t n = 0;
	uint64_t now = h->ep.now;

	table_remove(&a->pending, &p->node);
	switch (res) {
	case RADIUS_RESULT_ACCEPT:
		a->stats.accepts++;
		if (radius_tunnels(resp, a->client.conf.secret, a->client.conf.secret_len, req_auth,
				   t, RADIUS_TUNNELS_MAX, &n) < 0 ||
		    pick_lns(h, t, n, &lns, &which) < 0) {
			a->stats.accept_no_tunnel++;
			log_warnx("radius: MIN %s accepted without a usable L2TP tunnel: ATTACH-NAK",
				  p->attach.min);
			nak(h, p);
			break;
		}
		log_info("radius: MIN %s -> LNS %s (tag %u, preference %u%s)", p->attach.min,
			 roam_sockaddr_fmt(&lns, b, sizeof(b)), which->tag,
			 which->preference == UINT32_MAX ? 0 : which->preference,
			 which->has_password ? ", Tunnel-Password" : "");
		if (which->has_password && which->password_len) {
			/* The tunnel is created with the RADIUS secret; lacd_call then finds it. */
			struct lacd_tunnel *lt;
			int r = lacd_tunnel_get(h, &lns, which->password, which->password_len,
						false, now, &lt);
			if (r < 0)
				log_warnx("radius: tunnel to %s: %s", b, strerror(-r));
		}
		answer(h, p, &lns, now);
		break;
	case RADIUS_RESULT_REJECT:
		a->stats.rejects++;
		log_info("radius: MIN %s rejected: ATTACH-NAK", p->attach.min);
		nak(h, p);
		break;
	case RADIUS_RESULT_TIMEOUT:
		a->stats.timeouts++;
		if (lacd_conf_route(&h->conf, p->attach.min)) {
			a->stats.fallback_static++;
			log_warnx("radius: no answer for MIN %s: static table", p->attach.min);
			answer(h, p, NULL, now);
		} else {
			log_warnx("radius: no answer for MIN %s, no static entry: ATTACH-NAK",
				  p->attach.min);
			nak(h, p);
		}
		break;
	case RADIUS_RESULT_CANCELLED:
		break;
	}
	explicit_bzero(t, sizeof(t));
	free(p);
}

bool lacd_aaa_attach(struct lacd *h, const struct access_msg *m, const struct roam_sockaddr *src,
		     const struct roam_ipaddr *dst, uint64_t now)
{
	struct lacd_aaa *a = h->aaa;
	struct radius_attr at[10];
	size_t n = 0;
	uint8_t nas_ip[4], st[4] = { 0, 0, 0, RADIUS_SERVICE_FRAMED },
			   fp[4] = { 0, 0, 0, RADIUS_FRAMED_PPP },
			   pt[4] = { 0, 0, 0, RADIUS_NAS_PORT_WIRELESS_OTHER };
	int r;

	if (!lacd_aaa_enabled(h))
		return false;
	struct lacd_link *l = lacd_link_by_min(h, m->min);
	if (l && l->nonce == m->nonce && roam_sockaddr_eq(&l->peer, src))
		return false; /* a retransmission of an answered ATTACH: answered again */
	if (!l && lacd_session_by_min(h, m->min))
		return false; /* a call placed by the `call` command: the mobile takes it */
	if (lacd_ho_lookup(h, m->min, now))
		return false; /* a handoff arrival: its call goes to the LNS of the USER_MOVED */
	h->ep.now = now;
	struct aaa_pending *p = pending_by_min(a, m->min);
	if (p) {
		if (p->attach.nonce == m->nonce && roam_sockaddr_eq(&p->src, src)) {
			a->stats.attach_waiting++; /* the mobile retransmits: RADIUS answers */
			return true;
		}
		/* A new attempt: the answer goes to it. */
		p->attach = *m;
		p->attach.data = NULL;
		p->src = *src;
		if (dst && !roam_ipaddr_is_multicast(dst))
			p->dst = *dst;
		else
			memset(&p->dst, 0, sizeof(p->dst));
		return true;
	}
	if (!(p = calloc(1, sizeof(*p)))) {
		lacd_access_send_nak(h, src, dst, m->nonce, ACCESS_NAK_NO_RESOURCES);
		return true;
	}
	p->attach = *m;
	p->attach.data = NULL;
	p->src = *src;
	if (dst && !roam_ipaddr_is_multicast(dst))
		p->dst = *dst;
	p->started = now;
	const char *user = m->nai[0] ? m->nai : m->min;
	const char *nasid = h->conf.radius.nas_identifier[0] ? h->conf.radius.nas_identifier
							      : h->conf.host_name;
	at[n++] = (struct radius_attr){ RADIUS_USER_NAME, (uint8_t)strlen(user),
					(const uint8_t *)user };
	at[n++] = (struct radius_attr){ RADIUS_CALLING_STATION_ID, (uint8_t)strlen(m->min),
					(const uint8_t *)m->min };
	at[n++] = (struct radius_attr){ RADIUS_NAS_IDENTIFIER, (uint8_t)strlen(nasid),
					(const uint8_t *)nasid };
	if (h->conf.radius.nas_ip_address.family == AF_INET) {
		size_t alen;
		memcpy(nas_ip, roam_ipaddr_bytes(&h->conf.radius.nas_ip_address, &alen), 4);
		at[n++] = (struct radius_attr){ RADIUS_NAS_IP_ADDRESS, 4, nas_ip };
	}
	at[n++] = (struct radius_attr){ RADIUS_SERVICE_TYPE, 4, st };
	at[n++] = (struct radius_attr){ RADIUS_FRAMED_PROTOCOL, 4, fp };
	at[n++] = (struct radius_attr){ RADIUS_NAS_PORT_TYPE, 4, pt };
	if (h->conf.radius.password.len)
		at[n++] = (struct radius_attr){ RADIUS_USER_PASSWORD,
						(uint8_t)h->conf.radius.password.len,
						h->conf.radius.password.data };
	if (table_insert(&a->pending, &p->node, p->attach.min, strlen(p->attach.min)) < 0) {
		free(p);
		lacd_access_send_nak(h, src, dst, m->nonce, ACCESS_NAK_NO_RESOURCES);
		return true;
	}
	if ((r = radius_client_request(&a->client, at, n, p, now)) < 0) {
		table_remove(&a->pending, &p->node);
		free(p);
		log_warnx("radius: Access-Request for MIN %s: %s", m->min, strerror(-r));
		lacd_access_send_nak(h, src, dst, m->nonce, ACCESS_NAK_NO_RESOURCES);
		return true;
	}
	a->stats.requests++;
	log_debug("radius: Access-Request for MIN %s (User-Name %s)", m->min, user);
	aaa_arm(a);
	return true;
}

void lacd_aaa_input(struct lacd *h, const uint8_t *pkt, size_t len,
		    const struct roam_sockaddr *src, uint64_t now)
{
	struct lacd_aaa *a = h->aaa;
	if (!lacd_aaa_enabled(h))
		return;
	const struct radius_client_stats before = a->client.stats;
	h->ep.now = now;
	radius_client_input(&a->client, pkt, len, src, now);
	const struct radius_client_stats *s = &a->client.stats;
	uint64_t bad = (s->drop_bad_authenticator - before.drop_bad_authenticator) +
		       (s->drop_bad_msg_auth - before.drop_bad_msg_auth);
	uint64_t other = (s->drop_malformed - before.drop_malformed) +
			 (s->drop_bad_code - before.drop_bad_code) +
			 (s->drop_unknown_id - before.drop_unknown_id) +
			 (s->drop_wrong_source - before.drop_wrong_source);
	a->stats.bad_authenticator += bad;
	a->stats.drop_other += other;
	if (bad || other) {
		uint32_t suppressed;
		char b[ROAM_ADDRSTRLEN];
		if (log_rl_allow(&a->rl, now, &suppressed))
			log_warnx("radius: drop %zu bytes from %s: %s (%u more not logged)", len,
				  roam_sockaddr_fmt(src, b, sizeof(b)),
				  bad ? "bad authenticator" : "malformed, unexpected or unknown id",
				  suppressed);
	}
	l2tp_ep_server_rearm(&h->ep);
}

void lacd_aaa_run_timers(struct lacd *h, uint64_t now)
{
	if (!lacd_aaa_enabled(h))
		return;
	h->ep.now = now;
	radius_client_run(&h->aaa->client, now);
}

/* ---- set-up ---- */

int lacd_aaa_init(struct lacd *h, radius_tx_fn tx, void *tx_arg)
{
	const struct lacd_conf_radius *c = &h->conf.radius;
	struct radius_client_conf rc;
	int r;

	if (!c->nservers)
		return 0;
	struct lacd_aaa *a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	memset(&rc, 0, sizeof(rc));
	for (size_t i = 0; i < c->nservers; i++)
		rc.servers[i] = c->servers[i];
	rc.nservers = c->nservers;
	memcpy(rc.secret, c->secret.data, c->secret.len);
	rc.secret_len = c->secret.len;
	rc.timeout_ms = c->timeout;
	rc.retries = c->retries;
	rc.tx = aaa_tx;
	rc.done = done_cb;
	rc.arg = a;
	a->h = h;
	a->tx = tx;
	a->tx_arg = tx_arg;
	a->rl.burst = 10;
	a->rl.interval_ms = 10000;
	r = radius_client_init(&a->client, &rc);
	explicit_bzero(rc.secret, sizeof(rc.secret));
	if (r < 0 || (r = table_init(&a->pending, NULL, pending_free_cb, a)) < 0) {
		free(a);
		return r;
	}
	a->ready = true;
	h->aaa = a;
	return 0;
}

void lacd_aaa_destroy(struct lacd *h)
{
	struct lacd_aaa *a = h->aaa;
	if (!a)
		return;
	a->ready = false;
	radius_client_destroy(&a->client); /* CANCELLED: each pending record freed */
	table_destroy(&a->pending);
	h->aaa = NULL;
	free(a);
}

static void udp_tx(void *arg, const struct roam_sockaddr *dst, const uint8_t *pkt, size_t len)
{
	struct lacd_aaa *a = arg;
	if (!a->udp || roam_udp_send(a->udp, dst, pkt, len) < 0)
		a->stats.tx_errors++;
}

static void udp_rx(struct roam_udp *u, const struct roam_udp_pkt *pkt, void *arg)
{
	(void)u;
	struct lacd_aaa *a = arg;
	lacd_aaa_input(a->h, pkt->data, pkt->len, &pkt->src, uv_now(a->h->loop));
	aaa_arm(a);
}

static void timer_cb(uv_timer_t *t)
{
	struct lacd_aaa *a = t->data;
	lacd_aaa_run_timers(a->h, uv_now(a->h->loop));
	l2tp_ep_server_rearm(&a->h->ep);
	aaa_arm(a);
}

/* The timer follows the client's next deadline. */
static void aaa_arm(struct lacd_aaa *a)
{
	if (!a->timer_ready)
		return;
	uint64_t next = radius_client_next(&a->client);
	if (next == UINT64_MAX) {
		uv_timer_stop(&a->timer);
		return;
	}
	uint64_t now = uv_now(a->h->loop);
	uv_timer_start(&a->timer, timer_cb, next > now ? next - now : 0, 0);
}

int lacd_aaa_open(struct lacd *h, uv_loop_t *loop)
{
	const struct lacd_conf_radius *c = &h->conf.radius;
	struct roam_udp_opts o;
	int r;

	if (!c->nservers)
		return 0;
	if ((r = lacd_aaa_init(h, udp_tx, NULL)) < 0) {
		log_warnx("radius: %s", strerror(-r));
		return r;
	}
	struct lacd_aaa *a = h->aaa;
	a->tx_arg = a;
	memset(&o, 0, sizeof(o));
	/* An ephemeral port on the servers' family; the source must stay the same for the
	 * retransmissions of a request (RFC 5080 2.2.1). */
	struct roam_ipaddr any;
	memset(&any, 0, sizeof(any));
	any.family = (sa_family_t)roam_sockaddr_family(&c->servers[0]);
	if (c->nas_ip_address.family == any.family)
		any = c->nas_ip_address;
	roam_sockaddr_set(&o.bind, &any, 0);
	if (roam_sockaddr_family(&c->servers[0]) == AF_INET6)
		o.dualstack = 1;
	if ((r = roam_udp_open(loop, &o, udp_rx, a, &a->udp)) < 0) {
		log_warnx("radius: cannot open the client socket: %s", strerror(-r));
		lacd_aaa_destroy(h);
		return r;
	}
	uv_timer_init(loop, &a->timer);
	a->timer.data = a;
	a->timer_ready = true;
	log_info("radius: %zu server%s, timeout %u ms, %u retries", c->nservers,
		 c->nservers == 1 ? "" : "s", c->timeout, c->retries);
	return 0;
}

void lacd_aaa_close(struct lacd *h)
{
	struct lacd_aaa *a = h->aaa;
	if (!a)
		return;
	if (a->timer_ready) {
		uv_timer_stop(&a->timer);
		uv_close((uv_handle_t *)&a->timer, NULL);
		a->timer_ready = false;
	}
	if (a->udp) {
		roam_udp_close(a->udp, NULL);
		a->udp = NULL;
	}
}

void lacd_aaa_stats_json(struct lacd *h, struct json_writer *w)
{
	static const struct lacd_aaa_stats zero;
	const struct lacd_aaa_stats *s = h->aaa ? &h->aaa->stats : &zero;
	uint64_t retrans = h->aaa ? h->aaa->client.stats.retransmissions : 0;
	uint64_t failovers = h->aaa ? h->aaa->client.stats.failovers : 0;
#define K(f) json_kv_uint(w, "radius_" #f, s->f)
	K(requests), K(accepts), K(rejects), K(timeouts), K(bad_authenticator);
	K(accept_no_tunnel), K(fallback_static), K(attach_waiting), K(drop_other), K(tx_errors);
#undef K
	json_kv_uint(w, "radius_retransmissions", retrans);
	json_kv_uint(w, "radius_failovers", failovers);
	json_kv_uint(w, "radius_pending", h->aaa ? table_count(&h->aaa->pending) : 0);
}

void lacd_aaa_reload(struct lacd *h, const struct lacd_conf *nc)
{
	const struct lacd_conf_radius *o = &h->conf.radius, *n = &nc->radius;
	bool same = o->nservers == n->nservers && o->timeout == n->timeout &&
		    o->retries == n->retries && o->secret.len == n->secret.len &&
		    (!o->secret.len || memcmp(o->secret.data, n->secret.data, o->secret.len) == 0);
	for (size_t i = 0; same && i < o->nservers; i++)
		same = roam_sockaddr_eq(&o->servers[i], &n->servers[i]);
	if (!same)
		log_warnx("reload: radius servers/secret/timeout/retries changes take effect at the "
			  "next restart");
}
