/* The stateful proxy of RFC 3261 section 16, with the transaction layer of section 17.
 *
 * A request that is not for sipd itself (REGISTER and OPTIONS to a served domain or to sipd's
 * own address are; message.c answers those) is validated (16.3: Max-Forwards, loop detection,
 * Proxy-Require), its Route set processed (16.4, loose routing), its targets determined (16.5:
 * the location service for a served domain, best q value first; the Request-URI otherwise,
 * resolved by an IP literal or the static `routes:` table) and forwarded (16.6) by one client
 * transaction per target.  Responses are matched to their client transaction by the branch
 * (17.1.3) and processed as in 16.7: provisional responses and 2xx to INVITE go upstream at
 * once, the other finals wait until every branch is done and the best one is sent (6xx first,
 * else the lowest class; 503 becomes 500).  CANCEL (16.10) is answered 200 and sent on every
 * pending branch; the 487 comes back as the best response.
 *
 * Forking: the contacts of the best q value are tried in parallel; when all of them fail with
 * a non-6xx final response, the contacts of the next q value are tried (16.6, 16.7 step 4).
 *
 * Branch values: "z9hG4bK" "sd" H(server transaction key) "." branch index "." H(loop fields),
 * H being SipHash under a per-process key.  16.3 item 4: a request carrying a Via of ours whose
 * last part equals the loop hash of the request as received is a loop (482); a Via of ours with
 * another hash is a spiral (the Request-URI or Route changed), which is forwarded.
 *
 * Timers (17.1.1.2, 17.1.2.2, 17.2.1, 17.2.2): A and E retransmit requests over UDP (T1 doubling;
 * E capped at T2), B and F time a branch out as 408, D and K absorb retransmitted finals, G
 * retransmits a non-2xx final to an INVITE over UDP until the ACK, H gives up waiting for it,
 * I and J absorb retransmitted requests, C (3 min) cancels an INVITE branch that never ends.
 * Over TCP nothing is retransmitted and D, I, J, K are zero.  A server transaction that sent a
 * 2xx to INVITE stays "accepted" for 64*T1 (RFC 6026) so that 2xx retransmissions of the UAS
 * keep reaching the caller.  Timeouts of non-INVITE requests are not answered (RFC 4320 3.2).
 *
 * ACK for a 2xx has a branch of its own and is forwarded statelessly along its Route set; an ACK
 * matching an INVITE server transaction in the completed state ends it (hop-by-hop ACK). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <osipparser2/osip_parser.h>

#include "sipd.h"
#include "txn.h"

enum sipd_ct_state { CT_CALLING = 0, CT_PROCEEDING, CT_COMPLETED, CT_ACCEPTED, CT_TERMINATED };
enum sipd_st_state { ST_PROCEEDING = 0, ST_COMPLETED, ST_CONFIRMED, ST_ACCEPTED, ST_TERMINATED };

static const char *const ct_names[] = { "calling", "proceeding", "completed", "accepted",
					"terminated" };
static const char *const st_names[] = { "proceeding", "completed", "confirmed", "accepted",
					"terminated" };

#define TIMER_64T1 (64u * SIPD_T1)

/* ---- set-up ---- */

static void ptxn_free(struct sipd_proxy *p, struct sipd_ptxn *tx);

static void txns_free_cb(struct table *t, struct table_node *n, void *arg)
{
	(void)t;
	struct sipd_proxy *p = arg;
	ptxn_free(p, table_entry(n, struct sipd_ptxn, node));
}

int sipd_proxy_init(struct sipd_proxy *p, uint64_t now)
{
	memset(p, 0, sizeof(*p));
	int r = table_init(&p->txns, NULL, txns_free_cb, p);
	if (r < 0)
		return r;
	if ((r = table_init(&p->branches, NULL, NULL, NULL)) < 0) {
		table_destroy(&p->txns);
		return r;
	}
	if (auth_random(p->secret, sizeof(p->secret)) < 0) {
		table_destroy(&p->txns);
		table_destroy(&p->branches);
		return -EIO;
	}
	(void)now;
	p->init = true;
	return 0;
}

void sipd_proxy_destroy(struct sipd_proxy *p)
{
	if (!p->init)
		return;
	/* Transactions own their branches: unlink those first, then free. */
	while (p->all) {
		struct sipd_ptxn *tx = p->all;
		if (table_node_linked(&tx->node))
			table_remove(&p->txns, &tx->node);
		ptxn_free(p, tx);
	}
	table_destroy(&p->txns);
	table_destroy(&p->branches);
	p->init = false;
}

static void branch_clear(struct sipd_proxy *p, struct sipd_branch *b)
{
	if (table_node_linked(&b->node))
		table_remove(&p->branches, &b->node);
	if (b->fwd)
		osip_message_free(b->fwd);
	free(b->req);
	free(b->ack);
	free(b->cancel);
	b->fwd = NULL;
	b->req = b->ack = b->cancel = NULL;
}

static void ptxn_free(struct sipd_proxy *p, struct sipd_ptxn *tx)
{
	for (int i = 0; i < tx->nbr; i++)
		branch_clear(p, &tx->br[i]);
	for (int i = 0; i < tx->ntargets; i++)
		free(tx->targets[i]);
	if (tx->req)
		osip_message_free(tx->req);
	if (tx->tmpl)
		osip_message_free(tx->tmpl);
	if (tx->best)
		osip_message_free(tx->best);
	free(tx->resp);
	if (tx->pprev) {
		*tx->pprev = tx->next;
		if (tx->next)
			tx->next->pprev = tx->pprev;
	}
	free(tx);
}

/* ---- small helpers ---- */

static int send_to(struct sipd *s, const struct sipd_dest *d, const void *data, size_t len)
{
	if (!s->send)
		return -ENOTCONN;
	int r = s->send(s, d, data, len);
	if (r < 0)
		s->stats.tx_errors++;
	else
		s->stats.tx_messages++;
	return r;
}

static int msg_text(osip_message_t *m, char **text, size_t *len)
{
	osip_message_force_update(m);
	*text = NULL;
	if (osip_message_to_str(m, text, len) != 0 || !*text)
		return -ENOMEM;
	return 0;
}

/* osip_message_to_str's buffer into a malloc'd copy (the two allocators may differ). */
static int msg_dup(osip_message_t *m, char **out, size_t *len)
{
	char *t;
	int r = msg_text(m, &t, len);
	if (r < 0)
		return r;
	*out = malloc(*len ? *len : 1);
	if (*out)
		memcpy(*out, t, *len);
	osip_free(t);
	return *out ? 0 : -ENOMEM;
}

static void hex64(uint64_t v, char out[17])
{
	snprintf(out, 17, "%016llx", (unsigned long long)v);
}

/* Strips the brackets of an IPv6 reference. */
static void host_plain(const char *h, char *out, size_t n)
{
	size_t l = strlen(h);
	if (l >= 2 && h[0] == '[' && h[l - 1] == ']') {
		h++;
		l -= 2;
	}
	if (l >= n)
		l = n - 1;
	memcpy(out, h, l);
	out[l] = 0;
}

static int parse_port(const char *p, uint16_t dflt, uint16_t *out)
{
	if (!p || !*p) {
		*out = dflt;
		return 0;
	}
	unsigned long v = 0;
	for (const char *q = p; *q; q++) {
		if (!isdigit((unsigned char)*q) || q - p > 5)
			return -EINVAL;
		v = v * 10 + (unsigned long)(*q - '0');
	}
	if (v == 0 || v > 65535)
		return -EINVAL;
	*out = (uint16_t)v;
	return 0;
}

static bool is_ip_literal(const char *host)
{
	char h[ROAM_ADDRSTRLEN];
	struct roam_ipaddr a;
	host_plain(host, h, sizeof(h));
	return roam_ipaddr_parse(h, &a) == 0;
}

/* Our host[:port] for Via and Record-Route towards a peer of the given family. */
static void local_name(const struct sipd *s, int family, char *out, size_t n)
{
	char b[ROAM_ADDRSTRLEN + 8];
	if (s->conf.advertise && *s->conf.advertise) {
		snprintf(out, n, "%s", s->conf.advertise);
		return;
	}
	const struct roam_sockaddr *pick = NULL;
	for (int pass = 0; pass < 2 && !pick; pass++)
		for (size_t i = 0; i < s->conf.nlisten; i++) {
			struct roam_ipaddr a;
			uint16_t port;
			const struct roam_sockaddr *l = &s->conf.listen[i];
			if (roam_sockaddr_addr(l, &a, &port) < 0 || roam_ipaddr_is_any(&a))
				continue;
			if (pass == 0 && roam_sockaddr_family(l) != family)
				continue;
			pick = l;
			break;
		}
	if (pick) {
		snprintf(out, n, "%s", roam_sockaddr_fmt(pick, b, sizeof(b)));
		return;
	}
	uint16_t port = 5060;
	if (s->conf.nlisten) {
		struct roam_ipaddr a;
		roam_sockaddr_addr(&s->conf.listen[0], &a, &port);
	}
	snprintf(out, n, "%s:%u", s->conf.ndomains ? s->conf.domains[0] : "localhost", port);
}

void sipd_local_name(const struct sipd *s, int family, char *out, size_t n)
{
	local_name(s, family, out, n);
}

/* host (as in a URI or Via, brackets allowed) and port (0: absent) name sipd itself. */
static bool hostport_is_us(const struct sipd *s, const char *host, uint16_t port)
{
	char h[ROAM_ADDRSTRLEN + 8];
	if (!host || !*host)
		return false;
	host_plain(host, h, sizeof(h));
	if (s->conf.advertise && *s->conf.advertise) {
		char ah[300];
		const char *adv = s->conf.advertise;
		uint16_t ap = 5060;
		const char *colon = strrchr(adv, ':');
		const char *rb = strrchr(adv, ']');
		size_t hl = strlen(adv);
		if (colon && (!rb || colon > rb) && (adv[0] == '[' || strchr(adv, ':') == colon)) {
			hl = (size_t)(colon - adv);
			parse_port(colon + 1, 5060, &ap);
		}
		if (hl >= sizeof(ah))
			hl = sizeof(ah) - 1;
		memcpy(ah, adv, hl);
		ah[hl] = 0;
		char ahp[300];
		host_plain(ah, ahp, sizeof(ahp));
		if (strcasecmp(ahp, h) == 0 && (port == 0 ? ap == 5060 : port == ap))
			return true;
	}
	struct roam_ipaddr a;
	if (roam_ipaddr_parse(h, &a) == 0) {
		for (size_t i = 0; i < s->conf.nlisten; i++) {
			struct roam_ipaddr la;
			uint16_t lp;
			if (roam_sockaddr_addr(&s->conf.listen[i], &la, &lp) < 0)
				continue;
			if ((port ? port : 5060) != lp)
				continue;
			if (roam_ipaddr_eq(&la, &a))
				return true;
		}
		return false;
	}
	/* A served domain name without a user part (Route: <sip:roam.example;lr>). */
	if (s->conf.ndomains && sipd_domain_served(s, h)) {
		for (size_t i = 0; i < s->conf.nlisten; i++) {
			struct roam_ipaddr la;
			uint16_t lp;
			if (roam_sockaddr_addr(&s->conf.listen[i], &la, &lp) == 0 &&
			    (port ? port : 5060) == lp)
				return true;
		}
	}
	return false;
}

static bool uri_is_us(const struct sipd *s, const osip_uri_t *u)
{
	uint16_t port = 0;
	if (!u || !u->host)
		return false;
	if (u->port && parse_port(u->port, 0, &port) < 0)
		return false;
	return hostport_is_us(s, u->host, port);
}

static int uri_transport(const osip_uri_t *u, enum sipd_transport dflt)
{
	osip_uri_param_t *tp = NULL;
	if (u->scheme && strcasecmp(u->scheme, "sips") == 0)
		return SIPD_TP_TCP;
	osip_uri_uparam_get_byname((osip_uri_t *)u, "transport", &tp);
	if (tp && tp->gvalue) {
		if (strcasecmp(tp->gvalue, "tcp") == 0)
			return SIPD_TP_TCP;
		if (strcasecmp(tp->gvalue, "udp") == 0)
			return SIPD_TP_UDP;
		return -EPROTONOSUPPORT;
	}
	return (int)dflt;
}

/* Next hop of a URI (RFC 3263 without DNS): an IP literal host, or the static route of its
 * domain.  -EHOSTUNREACH when neither, -EPROTONOSUPPORT for an unknown transport. */
static int resolve_uri(const struct sipd *s, const osip_uri_t *u, struct sipd_dest *d)
{
	char h[ROAM_ADDRSTRLEN + 8];
	if (!u || !u->host)
		return -EHOSTUNREACH;
	int tp = uri_transport(u, SIPD_TP_UDP);
	if (tp < 0)
		return tp;
	host_plain(u->host, h, sizeof(h));
	struct roam_ipaddr a;
	uint16_t port;
	if (roam_ipaddr_parse(h, &a) == 0) {
		if (parse_port(u->port, 5060, &port) < 0)
			return -EHOSTUNREACH;
		d->transport = (enum sipd_transport)tp;
		return roam_sockaddr_set(&d->addr, &a, port) < 0 ? -EHOSTUNREACH : 0;
	}
	for (size_t i = 0; i < s->conf.nroutes; i++)
		if (strcasecmp(s->conf.routes[i].domain, u->host) == 0) {
			d->addr = s->conf.routes[i].next_hop;
			osip_uri_param_t *tpp = NULL;
			osip_uri_uparam_get_byname((osip_uri_t *)u, "transport", &tpp);
			d->transport = tpp ? (enum sipd_transport)tp
					   : (enum sipd_transport)s->conf.routes[i].transport;
			return 0;
		}
	return -EHOSTUNREACH;
}

static bool has_static_route(const struct sipd *s, const char *host)
{
	for (size_t i = 0; i < s->conf.nroutes; i++)
		if (strcasecmp(s->conf.routes[i].domain, host) == 0)
			return true;
	return false;
}

/* Where a response goes when no transaction holds the answer (stateless, 16.11 / 18.2.2):
 * the received/rport of the Via, else its sent-by. */
static int via_dest(osip_via_t *v, struct sipd_dest *d)
{
	char h[ROAM_ADDRSTRLEN + 8];
	osip_generic_param_t *rc = NULL, *rp = NULL;
	if (!v || !v->host || !v->protocol)
		return -EINVAL;
	d->transport = strcasecmp(v->protocol, "TCP") == 0 ? SIPD_TP_TCP : SIPD_TP_UDP;
	osip_via_param_get_byname(v, "received", &rc);
	osip_via_param_get_byname(v, "rport", &rp);
	host_plain(rc && rc->gvalue ? rc->gvalue : v->host, h, sizeof(h));
	struct roam_ipaddr a;
	uint16_t port;
	if (roam_ipaddr_parse(h, &a) < 0)
		return -EHOSTUNREACH;
	if (rp && rp->gvalue) {
		if (parse_port(rp->gvalue, 5060, &port) < 0)
			return -EINVAL;
	} else if (parse_port(v->port, 5060, &port) < 0) {
		return -EINVAL;
	}
	return roam_sockaddr_set(&d->addr, &a, port) < 0 ? -EINVAL : 0;
}

static void hash_str(struct wbuf *w, const char *v)
{
	if (v)
		wbuf_put_bytes(w, v, strlen(v));
	wbuf_put_u8(w, 0);
}

/* 16.6 item 8: a hash of the fields loop detection compares, on the request as received. */
static uint64_t loop_hash(const struct sipd *s, osip_message_t *m)
{
	struct wbuf w;
	char *t = NULL;
	wbuf_init(&w);
	if (osip_uri_to_str(m->req_uri, &t) == 0)
		hash_str(&w, t);
	osip_free(t);
	osip_generic_param_t *tag = NULL;
	if (m->from && osip_from_get_tag(m->from, &tag) == 0 && tag)
		hash_str(&w, tag->gvalue);
	hash_str(&w, "|");
	tag = NULL;
	if (m->to && osip_to_get_tag(m->to, &tag) == 0 && tag)
		hash_str(&w, tag->gvalue);
	hash_str(&w, m->call_id ? m->call_id->number : NULL);
	hash_str(&w, m->call_id ? m->call_id->host : NULL);
	hash_str(&w, m->cseq ? m->cseq->number : NULL);
	osip_route_t *rt;
	for (int i = 0; osip_message_get_route(m, i, &rt) >= 0; i++) {
		t = NULL;
		if (rt && osip_route_to_str(rt, &t) == 0)
			hash_str(&w, t);
		osip_free(t);
	}
	osip_header_t *h = NULL;
	for (int pos = 0; (pos = osip_message_header_get_byname(m, "proxy-require", pos, &h)) >= 0;
	     pos++)
		hash_str(&w, h ? h->hvalue : NULL);
	uint64_t v = table_siphash(s->proxy.secret, w.buf, w.len);
	wbuf_free(&w);
	return v;
}

/* The branch for client transaction idx ('a' + idx) of server key. */
static void make_branch(const struct sipd *s, const char *key, size_t keylen, char idx,
			uint64_t lh, char out[SIPD_BRANCH_MAX])
{
	char a[17], b[17];
	hex64(table_siphash(s->proxy.secret, key, keylen), a);
	hex64(lh, b);
	snprintf(out, SIPD_BRANCH_MAX, "z9hG4bKsd%s.%c.%s", a, idx, b);
}

/* 16.3 item 4: 1 for a loop, 0 otherwise (spirals counted). */
static int check_loop(struct sipd *s, osip_message_t *m, uint64_t lh)
{
	char b[17];
	hex64(lh, b);
	osip_via_t *v;
	for (int i = 0; osip_message_get_via(m, i, &v) >= 0; i++) {
		osip_generic_param_t *br = NULL;
		uint16_t port = 0;
		if (!v || !v->host || (v->port && parse_port(v->port, 0, &port) < 0))
			continue;
		if (!hostport_is_us(s, v->host, port))
			continue;
		osip_via_param_get_byname(v, "branch", &br);
		if (!br || !br->gvalue || strncmp(br->gvalue, "z9hG4bKsd", 9) != 0)
			continue;
		size_t l = strlen(br->gvalue);
		if (l >= 16 && strcmp(br->gvalue + l - 16, b) == 0)
			return 1;
		s->stats.proxy_spirals++;
	}
	return 0;
}

/* 16.3 item 5 / 16.6: Proxy-Require option tags (none supported): 420.  1 when answered. */
static int check_proxy_require(struct sipd *s, struct sipd_req *r)
{
	osip_header_t *h = NULL;
	char list[512] = "";
	size_t used = 0;
	for (int pos = 0;
	     (pos = osip_message_header_get_byname(r->msg, "proxy-require", pos, &h)) >= 0; pos++) {
		if (!h || !h->hvalue)
			continue;
		const char *v = h->hvalue;
		while (*v == ' ' || *v == '\t')
			v++;
		size_t n = strcspn(v, " \t,");
		if (n == 0)
			continue;
		bool ok = false;
		for (size_t i = 0; sipd_supported_tags[i]; i++)
			ok |= strlen(sipd_supported_tags[i]) == n &&
			      strncasecmp(sipd_supported_tags[i], v, n) == 0;
		if (ok)
			continue;
		int w = snprintf(list + used, sizeof(list) - used, "%s%.*s", used ? ", " : "",
				 (int)(n > 100 ? 100 : n), v);
		if (w > 0 && (size_t)w < sizeof(list) - used)
			used += (size_t)w;
	}
	if (!used)
		return 0;
	char hdr[600];
	snprintf(hdr, sizeof(hdr), "Unsupported: %s", list);
	const char *hs[] = { hdr, NULL };
	sipd_respond(s, r, 420, NULL, hs);
	return 1;
}

static void count_method(struct sipd *s, const char *m)
{
	if (strcmp(m, "INVITE") == 0)
		s->stats.proxy_rx_invite++;
	else if (strcmp(m, "ACK") == 0)
		s->stats.proxy_rx_ack++;
	else if (strcmp(m, "BYE") == 0)
		s->stats.proxy_rx_bye++;
	else if (strcmp(m, "CANCEL") == 0)
		s->stats.proxy_rx_cancel++;
	else if (strcmp(m, "OPTIONS") == 0)
		s->stats.proxy_rx_options++;
	else
		s->stats.proxy_rx_other++;
}

static void count_class(struct sipd *s, int code)
{
	switch (code / 100) {
	case 1: s->stats.proxy_rx_1xx++; break;
	case 2: s->stats.proxy_rx_2xx++; break;
	case 3: s->stats.proxy_rx_3xx++; break;
	case 4: s->stats.proxy_rx_4xx++; break;
	case 5: s->stats.proxy_rx_5xx++; break;
	default: s->stats.proxy_rx_6xx++; break;
	}
}

/* Removes Max-Forwards' value and writes value-1 (or 70 when absent): 16.6 item 3. */
static int decrement_max_forwards(osip_message_t *m)
{
	osip_header_t *h = NULL;
	if (osip_message_header_get_byname(m, "max-forwards", 0, &h) >= 0 && h && h->hvalue) {
		unsigned long v = strtoul(h->hvalue, NULL, 10);
		char b[24];
		snprintf(b, sizeof(b), "%lu", v ? v - 1 : 0);
		osip_free(h->hvalue);
		h->hvalue = osip_strdup(b);
		return h->hvalue ? 0 : -ENOMEM;
	}
	return osip_message_set_max_forwards(m, "70") == 0 ? 0 : -ENOMEM;
}

static int insert_header_top(osip_list_t *list, const char *value)
{
	osip_from_t *rr = NULL;
	if (osip_from_init(&rr) != 0)
		return -ENOMEM;
	if (osip_from_parse(rr, value) != 0) {
		osip_from_free(rr);
		return -EINVAL;
	}
	if (osip_list_add(list, rr, 0) < 0) {
		osip_from_free(rr);
		return -ENOMEM;
	}
	return 0;
}

static int insert_via(osip_message_t *m, const char *value)
{
	osip_via_t *v = NULL;
	if (osip_via_init(&v) != 0)
		return -ENOMEM;
	if (osip_via_parse(v, value) != 0) {
		osip_via_free(v);
		return -EINVAL;
	}
	if (osip_list_add(&m->vias, v, 0) < 0) {
		osip_via_free(v);
		return -ENOMEM;
	}
	return 0;
}

static void remove_top_via(osip_message_t *m)
{
	osip_via_t *v = osip_list_get(&m->vias, 0);
	if (v) {
		osip_list_remove(&m->vias, 0);
		osip_via_free(v);
	}
}

/* Removes the Proxy-Authorization credentials of our realm (22.3: consumed here). */
static void remove_own_credentials(struct sipd *s, osip_message_t *m)
{
	for (int i = 0; i < osip_list_size(&m->proxy_authorizations);) {
		osip_authorization_t *a = osip_list_get(&m->proxy_authorizations, i);
		char realm[256] = "";
		if (a && a->realm) {
			size_t l = strlen(a->realm);
			if (l >= 2 && a->realm[0] == '"' && a->realm[l - 1] == '"')
				snprintf(realm, sizeof(realm), "%.*s", (int)(l - 2), a->realm + 1);
			else
				snprintf(realm, sizeof(realm), "%s", a->realm);
		}
		if (a && strcmp(realm, s->conf.realm) == 0) {
			osip_list_remove(&m->proxy_authorizations, i);
			osip_authorization_free(a);
			continue;
		}
		i++;
	}
}

/* ---- sending upstream (server transaction side) ---- */

/* Sends text upstream and keeps it as the transaction's last response. */
static void send_up(struct sipd *s, struct sipd_ptxn *tx, char *text, size_t len, int code)
{
	if (send_to(s, &tx->up, text, len) < 0)
		s->stats.drop_proxy_send++;
	free(tx->resp);
	tx->resp = text; /* ownership taken */
	tx->resplen = len;
	tx->resp_code = code;
}

/* A response of our own to tx's request (100, 408, 480, 487, 500...). */
static int respond_tx(struct sipd *s, struct sipd_ptxn *tx, int code, const char *reason,
		      uint64_t now)
{
	struct wbuf out;
	struct sipd_src src = { tx->up.transport, tx->up.addr, NULL };
	struct sipd_req r;
	wbuf_init(&out);
	memset(&r, 0, sizeof(r));
	r.msg = tx->req;
	r.src = &src;
	r.now = now;
	r.out = &out;
	int rc = sipd_respond(s, &r, code, reason, NULL);
	if (rc == 0 && out.len) {
		char *t = malloc(out.len);
		if (t) {
			memcpy(t, out.buf, out.len);
			send_up(s, tx, t, out.len, code);
		} else {
			rc = -ENOMEM;
		}
	}
	wbuf_free(&out);
	return rc;
}

/* Final response sent upstream: the server transaction's timers (17.2.1, 17.2.2). */
static void server_final(struct sipd_ptxn *tx, int code, uint64_t now)
{
	bool udp = tx->up.transport == SIPD_TP_UDP;
	tx->final_sent = true;
	if (tx->invite && code >= 200 && code < 300) {
		tx->state = ST_ACCEPTED;
		tx->deadline = now + TIMER_64T1;
	} else if (tx->invite) {
		tx->state = ST_COMPLETED;
		tx->g_interval = SIPD_T1;
		tx->g_next = udp ? now + SIPD_T1 : 0;
		tx->deadline = now + TIMER_64T1; /* H */
	} else {
		tx->state = ST_COMPLETED;
		tx->deadline = now + (udp ? TIMER_64T1 : 0); /* J */
	}
}

/* Forwards a response (msg borrowed, top Via ours) upstream. */
static void forward_response(struct sipd *s, struct sipd_ptxn *tx, osip_message_t *msg,
			     uint64_t now)
{
	remove_top_via(msg);
	char *t;
	size_t len;
	if (msg_dup(msg, &t, &len) < 0) {
		s->stats.drop_proxy_bad_response++;
		return;
	}
	int code = osip_message_get_status_code(msg);
	send_up(s, tx, t, len, code);
	s->stats.proxy_fwd_responses++;
	if (code >= 200)
		server_final(tx, code, now);
}

/* ---- client transactions ---- */

static void cancel_branch(struct sipd *s, struct sipd_branch *b, uint64_t now);

/* A request built from a branch's forwarded request: the hop-by-hop ACK (17.1.1.3, `to` the
 * response's To) or a CANCEL (9.1).  Text malloc'd into *out. */
static int build_from_fwd(osip_message_t *fwd, const char *method, osip_to_t *to, char **out,
			  size_t *len)
{
	osip_message_t *m = NULL;
	osip_via_t *v = osip_list_get(&fwd->vias, 0), *vc = NULL;
	int rc = -ENOMEM;
	if (!v || osip_message_init(&m) != 0)
		return -ENOMEM;
	osip_message_set_method(m, osip_strdup(method));
	osip_message_set_version(m, osip_strdup("SIP/2.0"));
	osip_uri_t *u = NULL;
	if (osip_uri_clone(fwd->req_uri, &u) != 0)
		goto out;
	osip_message_set_uri(m, u);
	if (osip_via_clone(v, &vc) != 0 || osip_list_add(&m->vias, vc, -1) < 0)
		goto out;
	if (osip_from_clone(fwd->from, &m->from) != 0 ||
	    osip_to_clone(to ? to : fwd->to, &m->to) != 0 ||
	    osip_call_id_clone(fwd->call_id, &m->call_id) != 0 ||
	    osip_cseq_clone(fwd->cseq, &m->cseq) != 0)
		goto out;
	osip_free(m->cseq->method);
	m->cseq->method = osip_strdup(method);
	if (osip_list_clone(&fwd->routes, &m->routes, (int (*)(void *, void **))&osip_route_clone) !=
	    0)
		goto out;
	osip_message_set_max_forwards(m, "70");
	osip_message_set_content_length(m, "0");
	rc = msg_dup(m, out, len);
out:
	osip_message_free(m);
	return rc;
}

static void branch_timeout_or_final(struct sipd *s, struct sipd_ptxn *tx, uint64_t now);

/* Starts a client transaction towards target idx (its URI becomes the Request-URI unless
 * the request is routed by Route or keeps its Request-URI). */
static int start_branch(struct sipd *s, struct sipd_ptxn *tx, int t, uint64_t now,
			uint64_t lh)
{
	if (tx->nbr >= SIPD_MAX_BRANCHES)
		return -ENOSPC;
	struct sipd_branch *b = &tx->br[tx->nbr];
	memset(b, 0, sizeof(*b));
	b->tx = tx;
	b->state = CT_TERMINATED;
	b->code = 503;
	tx->nbr++;
	osip_message_t *f = NULL;
	int rc = 0;
	if (osip_message_clone(tx->tmpl, &f) != 0)
		return -ENOMEM;
	b->fwd = f;
	if (tx->targets[t]) {
		osip_uri_t *u = NULL;
		if (osip_uri_init(&u) != 0)
			return -ENOMEM;
		if (osip_uri_parse(u, tx->targets[t]) != 0) {
			osip_uri_free(u);
			b->code = 480;
			return -EINVAL;
		}
		osip_uri_free(f->req_uri);
		f->req_uri = u;
	}
	/* 16.6 items 6, 7: the next hop is the top Route, else the Request-URI. */
	osip_route_t *rt = NULL;
	if (tx->tforced[t])
		b->dst = tx->tdst[t];
	else if (osip_message_get_route(f, 0, &rt) >= 0 && rt && rt->url)
		rc = resolve_uri(s, rt->url, &b->dst);
	else
		rc = resolve_uri(s, f->req_uri, &b->dst);
	if (!tx->tforced[t] && rc < 0) {
		b->code = rc == -EHOSTUNREACH ? 404 : 502;
		return rc;
	}
	char name[300], via[SIPD_BRANCH_MAX + 400];
	local_name(s, roam_sockaddr_family(&b->dst.addr), name, sizeof(name));
	make_branch(s, tx->key, tx->keylen, (char)('a' + tx->nbr - 1), lh, b->branch);
	b->branchlen = (uint8_t)strlen(b->branch);
	snprintf(via, sizeof(via), "SIP/2.0/%s %s;branch=%s;rport",
		 b->dst.transport == SIPD_TP_TCP ? "TCP" : "UDP", name, b->branch);
	if ((rc = insert_via(f, via)) < 0)
		return rc;
	if ((rc = msg_dup(f, &b->req, &b->reqlen)) < 0)
		return rc;
	if (table_insert(&s->proxy.branches, &b->node, b->branch, b->branchlen) < 0)
		return -EEXIST;
	if (send_to(s, &b->dst, b->req, b->reqlen) < 0) {
		s->stats.drop_proxy_send++;
		table_remove(&s->proxy.branches, &b->node);
		b->code = 503;
		return -EIO;
	}
	s->stats.proxy_fwd_requests++;
	b->state = CT_CALLING;
	b->code = 0;
	b->interval = SIPD_T1;
	b->next_tx = b->dst.transport == SIPD_TP_UDP ? now + SIPD_T1 : 0;
	b->deadline = now + TIMER_64T1; /* B or F */
	return 0;
}

static void store_best(struct sipd_ptxn *tx, osip_message_t *msg, int code);

/* Starts the next group of targets with the same q value (the next group after one that
 * failed entirely).  Returns how many branches started. */
static int start_next_group(struct sipd *s, struct sipd_ptxn *tx, uint64_t now)
{
	int started = 0;
	while (tx->next_target < tx->ntargets && started == 0) {
		uint16_t q = tx->tq[tx->next_target];
		while (tx->next_target < tx->ntargets && tx->tq[tx->next_target] == q) {
			int t = tx->next_target++;
			int rc = start_branch(s, tx, t, now, tx->lh);
			if (rc == 0) {
				started++;
			} else if (rc != -ENOSPC) {
				struct sipd_branch *b = &tx->br[tx->nbr - 1];
				store_best(tx, NULL, b->code ? b->code : 503);
				branch_clear(&s->proxy, b);
			}
		}
	}
	return started;
}

/* 16.7 step 6: 6xx first; else the lowest class; 503 is sent as 500.  Returns the better. */
static bool better(int a, int b)
{
	if (b == 0)
		return true;
	if (a >= 600 || b >= 600)
		return a >= 600 && b < 600;
	return a / 100 < b / 100;
}

static void store_best(struct sipd_ptxn *tx, osip_message_t *msg, int code)
{
	if (!better(code, tx->best_code))
		return;
	osip_message_t *c = NULL;
	if (msg && osip_message_clone(msg, &c) != 0)
		c = NULL;
	if (tx->best)
		osip_message_free(tx->best);
	tx->best = c;
	tx->best_code = code;
}

static bool any_pending(const struct sipd_ptxn *tx)
{
	for (int i = 0; i < tx->nbr; i++)
		if (tx->br[i].state == CT_CALLING || tx->br[i].state == CT_PROCEEDING)
			return true;
	return false;
}

/* After a branch ended: more targets, or the best response upstream (16.7 steps 4, 6). */
static void branch_timeout_or_final(struct sipd *s, struct sipd_ptxn *tx, uint64_t now)
{
	if (tx->final_sent || any_pending(tx))
		return;
	if (!tx->cancelled && tx->best_code < 600 && tx->next_target < tx->ntargets &&
	    start_next_group(s, tx, now) > 0)
		return;
	int code = tx->best_code ? tx->best_code : 408;
	if (!tx->invite && code == 408) {
		/* RFC 4320 3.2: no 408 to a non-INVITE; the client has timed out as well. */
		tx->final_sent = true;
		tx->state = ST_TERMINATED;
		return;
	}
	if (tx->best && code != 503) {
		osip_message_t *b = tx->best;
		tx->best = NULL;
		forward_response(s, tx, b, now);
		osip_message_free(b);
		return;
	}
	if (code == 503)
		code = 500;
	if (respond_tx(s, tx, code, NULL, now) == 0)
		server_final(tx, code, now);
	else
		tx->state = ST_TERMINATED;
}

static void send_cancel(struct sipd *s, struct sipd_branch *b, uint64_t now)
{
	if (!b->cancel && build_from_fwd(b->fwd, "CANCEL", NULL, &b->cancel, &b->cancellen) < 0)
		return;
	if (send_to(s, &b->dst, b->cancel, b->cancellen) < 0)
		s->stats.drop_proxy_send++;
	s->stats.proxy_cancels_sent++;
	b->cancel_state = 2;
	b->cancel_interval = SIPD_T1;
	b->cancel_next = b->dst.transport == SIPD_TP_UDP ? now + SIPD_T1 : 0;
	b->cancel_deadline = now + TIMER_64T1;
}

/* 9.1: a CANCEL only after a provisional response; before, it waits. */
static void cancel_branch(struct sipd *s, struct sipd_branch *b, uint64_t now)
{
	if (!b->tx->invite || b->cancel_state)
		return;
	if (b->state == CT_PROCEEDING)
		send_cancel(s, b, now);
	else if (b->state == CT_CALLING)
		b->cancel_state = 1;
}

static void cancel_all(struct sipd *s, struct sipd_ptxn *tx, uint64_t now)
{
	for (int i = 0; i < tx->nbr; i++)
		cancel_branch(s, &tx->br[i], now);
}

void sipd_proxy_response(struct sipd *s, osip_message_t *msg, const struct sipd_src *src,
			 uint64_t now)
{
	osip_via_t *v = NULL;
	osip_generic_param_t *br = NULL;
	const char *why;
	int code = osip_message_get_status_code(msg);
	(void)src;
	if (code < 100 || code > 699 || !msg->cseq || !msg->cseq->method ||
	    osip_message_get_via(msg, 0, &v) < 0 || !v) {
		s->stats.drop_proxy_bad_response++;
		s->stats.drop_response++;
		why = "bad response";
		goto drop;
	}
	count_class(s, code);
	osip_via_param_get_byname(v, "branch", &br);
	struct table_node *n = NULL;
	if (br && br->gvalue && strlen(br->gvalue) < SIPD_BRANCH_MAX)
		n = table_lookup(&s->proxy.branches, br->gvalue, strlen(br->gvalue));
	if (!n) {
		/* 16.7 step 2 / 16.11: no context: forward statelessly when the top Via is ours
		 * (2xx retransmissions after the transaction ended, responses to stateless ACKs). */
		uint16_t port = 0;
		if (!v->host || (v->port && parse_port(v->port, 0, &port) < 0) ||
		    !hostport_is_us(s, v->host, port) || osip_list_size(&msg->vias) < 2) {
			s->stats.drop_proxy_stray_response++;
			s->stats.drop_response++;
			why = "response matches no transaction";
			goto drop;
		}
		remove_top_via(msg);
		struct sipd_dest d;
		char *t;
		size_t len;
		if (via_dest(osip_list_get(&msg->vias, 0), &d) < 0 || msg_text(msg, &t, &len) < 0) {
			s->stats.drop_proxy_bad_response++;
			why = "cannot route the response";
			goto drop;
		}
		if (send_to(s, &d, t, len) < 0)
			s->stats.drop_proxy_send++;
		else
			s->stats.proxy_stateless_responses++;
		osip_free(t);
		return;
	}
	struct sipd_branch *b = table_entry(n, struct sipd_branch, node);
	struct sipd_ptxn *tx = b->tx;
	if (strcmp(msg->cseq->method, "CANCEL") == 0) {
		if (code >= 200 && b->cancel_state == 2)
			b->cancel_state = 3; /* our CANCEL's client transaction is done */
		return;
	}
	if (!tx->req || strcmp(msg->cseq->method, tx->req->sip_method) != 0) {
		s->stats.drop_proxy_bad_response++;
		why = "response CSeq method does not match the transaction";
		goto drop;
	}
	bool udp = b->dst.transport == SIPD_TP_UDP;
	switch (b->state) {
	case CT_COMPLETED:
		/* A retransmitted final: the ACK again (17.1.1.2); K/D absorb the rest. */
		if (tx->invite && code >= 300 && b->ack && send_to(s, &b->dst, b->ack, b->acklen) == 0)
			s->stats.proxy_acks_sent++;
		return;
	case CT_ACCEPTED:
		if (code >= 200 && code < 300) /* a 2xx retransmission: to the caller */
			goto fwd_2xx;
		return;
	case CT_TERMINATED:
		return;
	default:
		break;
	}
	if (code < 200) {
		if (b->state == CT_CALLING) {
			b->state = CT_PROCEEDING;
			if (tx->invite) {
				b->next_tx = 0;
				b->deadline = now + SIPD_TIMER_C;
			} else if (udp) {
				b->interval = SIPD_T2;
				b->next_tx = now + SIPD_T2;
			}
		} else if (tx->invite) {
			b->deadline = now + SIPD_TIMER_C; /* 16.7 step 2: C restarts */
		}
		if (b->cancel_state == 1)
			send_cancel(s, b, now);
		if (code > 100 && !tx->final_sent)
			forward_response(s, tx, msg, now); /* 16.7 step 5 */
		return;
	}
	b->code = code;
	if (code < 300) {
		if (tx->invite) {
			b->state = CT_ACCEPTED;
			b->next_tx = 0;
			b->deadline = now + TIMER_64T1;
			tx->best_code = code;
			cancel_all(s, tx, now); /* 16.7 step 10: the others are not needed */
		fwd_2xx:
			forward_response(s, tx, msg, now); /* every 2xx, at once */
			tx->final_sent = true;
			tx->state = ST_ACCEPTED;
			tx->deadline = now + TIMER_64T1;
			return;
		}
		b->state = CT_COMPLETED;
		b->next_tx = 0;
		b->deadline = now + (udp ? SIPD_T4 : 0);
		if (!tx->final_sent)
			forward_response(s, tx, msg, now);
		return;
	}
	/* 300-699. */
	b->next_tx = 0;
	b->state = CT_COMPLETED;
	if (tx->invite) {
		if (!b->ack)
			build_from_fwd(b->fwd, "ACK", msg->to, &b->ack, &b->acklen);
		if (b->ack && send_to(s, &b->dst, b->ack, b->acklen) == 0)
			s->stats.proxy_acks_sent++;
		b->deadline = now + (udp ? 32000u : 0); /* D */
	} else {
		b->deadline = now + (udp ? SIPD_T4 : 0); /* K */
	}
	store_best(tx, msg, code);
	if (code >= 600)
		cancel_all(s, tx, now); /* 16.7 step 5 */
	branch_timeout_or_final(s, tx, now);
	return;
drop: {
	char b2[ROAM_ADDRSTRLEN];
	log_rl_warnx(&s->drop_rl, "dropped a response from %s: %s",
		     roam_sockaddr_fmt(&src->addr, b2, sizeof(b2)), why);
}
}

/* ---- requests ---- */

/* Canonical AOR lookup of a Request-URI of ours: user@domain, and user@<each served domain>
 * when the host is our address.  The user is known (credentials) or not. */
static struct sipd_aor *find_aor(struct sipd *s, const osip_uri_t *u, bool by_address,
				 bool *known)
{
	char aor[SIPD_AOR_MAX + 1];
	*known = false;
	if (!u->username || !*u->username)
		return NULL;
	size_t nd = by_address ? s->conf.ndomains : 1;
	for (size_t i = 0; i < nd; i++) {
		const char *dom = by_address ? s->conf.domains[i] : u->host;
		char hl[256];
		snprintf(hl, sizeof(hl), "%s", dom);
		for (char *p = hl; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		int w = snprintf(aor, sizeof(aor), "%s:%s@%s%s%s", "sip", u->username, hl,
				 !by_address && u->port ? ":" : "",
				 !by_address && u->port ? u->port : "");
		if (w < 0 || (size_t)w >= sizeof(aor))
			continue;
		if (sipd_creds_find(&s->creds, u->username, s->conf.realm))
			*known = true;
		struct sipd_aor *a = sipd_loc_find(&s->loc, aor);
		if (a) {
			*known = true;
			return a;
		}
	}
	return NULL;
}

/* Fills tx's targets from an AOR's live contacts, best q first, then most recent. */
static void targets_from_aor(struct sipd_ptxn *tx, struct sipd_aor *a, uint64_t now)
{
	struct sipd_contact *c;
	for (c = a ? a->contacts : NULL; c && tx->ntargets < SIPD_MAX_TARGETS; c = c->next) {
		if (c->expires <= now)
			continue;
		char *u = strdup(sipd_contact_uri(c));
		if (!u)
			break;
		int i = tx->ntargets++;
		/* insertion sort by q, stable: the list is most recent first */
		while (i > 0 && tx->tq[i - 1] < c->q) {
			tx->targets[i] = tx->targets[i - 1];
			tx->tq[i] = tx->tq[i - 1];
			tx->tforced[i] = tx->tforced[i - 1];
			tx->tdst[i] = tx->tdst[i - 1];
			i--;
		}
		tx->targets[i] = u;
		tx->tq[i] = c->q;
		tx->tforced[i] = false;
		/* A contact registered over TCP is reached over that connection (RFC 5626-like):
		 * its URI may not be reachable at all. */
		if (c->transport == SIPD_TP_TCP) {
			tx->tforced[i] = true;
			tx->tdst[i].transport = SIPD_TP_TCP;
			roam_sockaddr_set(&tx->tdst[i].addr, &c->src, c->src_port);
		}
	}
}

static void add_ptxn(struct sipd *s, struct sipd_ptxn *tx)
{
	tx->next = s->proxy.all;
	if (tx->next)
		tx->next->pprev = &tx->next;
	s->proxy.all = tx;
	tx->pprev = &s->proxy.all;
	s->stats.proxy_txn_created++;
}

/* Stateless forwarding of an ACK for a 2xx (or any ACK that matches nothing) along its route. */
static void forward_ack(struct sipd *s, struct sipd_req *r, const char *key, size_t keylen,
			uint64_t lh)
{
	osip_message_t *m = r->msg;
	struct sipd_dest d;
	osip_route_t *rt = NULL;
	int rc;
	if (osip_message_get_route(m, 0, &rt) >= 0 && rt && rt->url)
		rc = resolve_uri(s, rt->url, &d);
	else if (uri_is_us(s, m->req_uri) || (m->req_uri->host &&
					      sipd_domain_served(s, m->req_uri->host) &&
					      !is_ip_literal(m->req_uri->host)))
		rc = -ENOENT; /* for us, or an AOR of ours: an ACK to absorb */
	else
		rc = resolve_uri(s, m->req_uri, &d);
	if (rc < 0) {
		s->stats.drop_proxy_stray_ack++;
		s->stats.drop_ack++;
		return;
	}
	if (decrement_max_forwards(m) < 0)
		return;
	char name[300], via[SIPD_BRANCH_MAX + 400], branch[SIPD_BRANCH_MAX];
	local_name(s, roam_sockaddr_family(&d.addr), name, sizeof(name));
	make_branch(s, key, keylen, 'z', lh, branch);
	snprintf(via, sizeof(via), "SIP/2.0/%s %s;branch=%s;rport",
		 d.transport == SIPD_TP_TCP ? "TCP" : "UDP", name, branch);
	char *t;
	size_t len;
	if (insert_via(m, via) < 0 || msg_text(m, &t, &len) < 0)
		return;
	if (send_to(s, &d, t, len) < 0)
		s->stats.drop_proxy_send++;
	else
		s->stats.proxy_stateless_requests++;
	osip_free(t);
}

static bool dialog_creating(const char *m)
{
	return strcmp(m, "INVITE") == 0 || strcmp(m, "SUBSCRIBE") == 0 ||
	       strcmp(m, "REFER") == 0;
}

/* CANCEL (16.10): 200 and CANCEL on every pending branch; 481 when nothing matches. */
static void handle_cancel(struct sipd *s, struct sipd_req *r)
{
	char key[TABLE_KEY_MAX + 1];
	size_t keylen = 0;
	osip_message_t *m = r->msg;
	char *saved = m->sip_method;
	m->sip_method = (char *)"INVITE";
	int kr = sipd_txn_key(m, key, &keylen);
	m->sip_method = saved;
	struct table_node *n = kr == 0 ? table_lookup(&s->proxy.txns, key, keylen) : NULL;
	if (!n) {
		sipd_respond(s, r, 481, NULL, NULL);
		return;
	}
	struct sipd_ptxn *tx = table_entry(n, struct sipd_ptxn, node);
	sipd_respond(s, r, 200, NULL, NULL);
	if (tx->final_sent)
		return;
	tx->cancelled = true;
	cancel_all(s, tx, r->now);
}

int sipd_proxy_request(struct sipd *s, struct sipd_req *r)
{
	osip_message_t *m = r->msg;
	const char *meth = m->sip_method;
	bool is_ack = strcmp(meth, "ACK") == 0;
	char key[TABLE_KEY_MAX + 1];
	size_t keylen = 0;
	uint64_t now = r->now;
	int have_key;

	/* Server transaction matching (17.2.3): retransmissions and the ACK of a non-2xx. */
	if (is_ack) {
		char *saved = m->sip_method;
		m->sip_method = (char *)"INVITE";
		have_key = sipd_txn_key(m, key, &keylen) == 0;
		m->sip_method = saved;
	} else {
		have_key = sipd_txn_key(m, key, &keylen) == 0;
	}
	struct table_node *n = have_key ? table_lookup(&s->proxy.txns, key, keylen) : NULL;
	if (n) {
		struct sipd_ptxn *tx = table_entry(n, struct sipd_ptxn, node);
		if (is_ack) {
			if (tx->state == ST_COMPLETED) {
				tx->state = ST_CONFIRMED;
				tx->g_next = 0;
				tx->deadline = now + (tx->up.transport == SIPD_TP_UDP ? SIPD_T4 : 0);
				return 1; /* I */
			}
			if (tx->state == ST_CONFIRMED)
				return 1;
			/* an ACK for a 2xx with the INVITE's branch (RFC 2543 style): route it */
		} else {
			s->stats.proxy_request_retransmissions++;
			if (tx->resp && send_to(s, &tx->up, tx->resp, tx->resplen) == 0)
				s->stats.proxy_retransmissions++;
			return 1;
		}
	}
	if (strcmp(meth, "CANCEL") == 0) {
		s->stats.proxy_rx_cancel++;
		handle_cancel(s, r);
		return 1;
	}

	/* 16.4: our own entry at the top of the Route set goes. */
	osip_route_t *rt = NULL;
	while (osip_message_get_route(m, 0, &rt) >= 0 && rt && uri_is_us(s, rt->url)) {
		osip_list_remove(&m->routes, 0);
		osip_route_free(rt);
	}
	rt = NULL;
	bool has_route = osip_message_get_route(m, 0, &rt) >= 0 && rt && rt->url;
	osip_uri_t *ru = m->req_uri;
	bool ru_us = uri_is_us(s, ru);
	/* (with no domains configured every name is served, unless the routes table has it) */
	bool ru_domain = ru->host && !is_ip_literal(ru->host) && sipd_domain_served(s, ru->host) &&
			 !has_static_route(s, ru->host);
	bool has_user = ru->username && *ru->username;
	/* What is for sipd itself: REGISTER to our domain, OPTIONS (and the rest) to our address
	 * or domain without a user part. */
	if (!has_route && (ru_us || ru_domain) &&
	    ((!has_user) || (strcmp(meth, "REGISTER") == 0 && ru_domain))) {
		return 0;
	}
	if (!has_route && strcmp(meth, "REGISTER") == 0 && !ru_us && !ru_domain) {
		/* A REGISTER for another domain is forwarded when we know the way there; else
		 * the registrar answers it (403 Domain Not Served). */
		struct sipd_dest d;
		if (resolve_uri(s, ru, &d) < 0)
			return 0;
	}
	count_method(s, meth);

	/* 16.3: validation. */
	osip_header_t *mf = NULL;
	if (osip_message_header_get_byname(m, "max-forwards", 0, &mf) >= 0 && mf && mf->hvalue &&
	    strtoul(mf->hvalue, NULL, 10) == 0) {
		if (is_ack)
			return 1;
		sipd_respond(s, r, 483, NULL, NULL);
		return 1;
	}
	uint64_t lh = loop_hash(s, m);
	if (check_loop(s, m, lh)) {
		s->stats.proxy_loops++;
		if (!is_ack)
			sipd_respond(s, r, 482, NULL, NULL);
		return 1;
	}
	if (!is_ack && check_proxy_require(s, r))
		return 1;
	osip_via_t *top = NULL;
	osip_message_get_via(m, 0, &top);
	sipd_via_stamp(top, r->src); /* 18.2.1: so that responses find the way back */
	if (is_ack) {
		forward_ack(s, r, have_key ? key : "ack", have_key ? keylen : 3, lh);
		return 1;
	}
	if (!have_key) {
		sipd_respond(s, r, 400, "Missing RFC 3261 Branch", NULL);
		return 1;
	}

	/* Authentication of INVITEs from our own users (22.3, 407). */
	bool initial = true;
	osip_generic_param_t *tt = NULL;
	if (m->to && osip_to_get_tag(m->to, &tt) == 0 && tt)
		initial = false;
	if (s->conf.authenticate_invite && initial && strcmp(meth, "INVITE") == 0 && m->from->url &&
	    m->from->url->host && !is_ip_literal(m->from->url->host) &&
	    s->conf.ndomains && sipd_domain_served(s, m->from->url->host)) {
		const char *user = NULL;
		r->proxy_auth = true;
		if (sipd_authenticate(s, r, &user) < 0)
			return 1;
		if (!m->from->url->username || strcmp(user, m->from->url->username) != 0) {
			sipd_respond(s, r, 403, "Not Your From Address", NULL);
			return 1;
		}
		remove_own_credentials(s, m);
	}

	if (table_count(&s->proxy.txns) >= s->conf.max_proxy_transactions) {
		s->stats.drop_proxy_txn_full++;
		const char *hs[] = { "Retry-After: 5", NULL };
		sipd_respond(s, r, 503, "Too Many Transactions", hs);
		return 1;
	}

	struct sipd_ptxn *tx = calloc(1, sizeof(*tx));
	if (!tx) {
		sipd_respond(s, r, 500, NULL, NULL);
		return 1;
	}
	memcpy(tx->key, key, keylen);
	tx->keylen = (uint8_t)keylen;
	tx->invite = strcmp(meth, "INVITE") == 0;
	tx->created = now;
	tx->up.transport = r->src->transport;
	sipd_response_dst(m, r->src, &tx->up.addr);
	if (table_insert(&s->proxy.txns, &tx->node, tx->key, tx->keylen) < 0) {
		free(tx);
		sipd_respond(s, r, 500, NULL, NULL);
		return 1;
	}
	add_ptxn(s, tx);

	/* 16.5: the targets. */
	if (!has_route && (ru_us || ru_domain) && has_user) {
		bool known = false;
		struct sipd_aor *a = find_aor(s, ru, ru_us, &known);
		targets_from_aor(tx, a, now);
		if (tx->ntargets == 0) {
			/* known user without a binding: 480; nobody: 404 */
			sipd_respond(s, r, known ? 480 : 404, NULL, NULL);
			tx->final_sent = true;
			tx->state = ST_TERMINATED;
			return 1;
		}
	} else {
		tx->targets[0] = NULL; /* the Request-URI as it is */
		tx->tq[0] = 1000;
		tx->ntargets = 1;
	}

	/* 16.6 items 1-5 once, on the template every branch is cloned from. */
	osip_message_t *tm = NULL;
	if (osip_message_clone(m, &tm) != 0 || decrement_max_forwards(tm) < 0) {
		if (tm)
			osip_message_free(tm);
		sipd_respond(s, r, 500, NULL, NULL);
		tx->final_sent = true;
		tx->state = ST_TERMINATED;
		return 1;
	}
	tx->tmpl = tm;
	if (s->conf.record_route && initial && dialog_creating(meth)) {
		char name[300], rr[400];
		local_name(s, roam_sockaddr_family(&r->src->addr), name, sizeof(name));
		snprintf(rr, sizeof(rr), "<sip:%s;lr%s>", name,
			 r->src->transport == SIPD_TP_TCP ? ";transport=tcp" : "");
		insert_header_top(&tm->record_routes, rr);
	}
	if (osip_message_clone(m, &tx->req) != 0) {
		sipd_respond(s, r, 500, NULL, NULL);
		tx->final_sent = true;
		tx->state = ST_TERMINATED;
		return 1;
	}
	/* 16.2: a stateful proxy answers an INVITE with 100 at once. */
	if (tx->invite)
		respond_tx(s, tx, 100, NULL, now);

	/* 16.6 / 16.7: the first group of targets. */
	tx->lh = lh;
	if (start_next_group(s, tx, now) == 0)
		branch_timeout_or_final(s, tx, now);
	return 1;
}

/* ---- timers ---- */

static void run_branch_timers(struct sipd *s, struct sipd_ptxn *tx, struct sipd_branch *b,
			      uint64_t now)
{
	if (b->cancel_state == 2) {
		if (b->cancel_deadline && now >= b->cancel_deadline) {
			b->cancel_state = 3;
		} else if (b->cancel_next && now >= b->cancel_next && b->cancel) {
			send_to(s, &b->dst, b->cancel, b->cancellen);
			s->stats.proxy_retransmissions++;
			b->cancel_interval = b->cancel_interval * 2 > SIPD_T2 ? SIPD_T2
									  : b->cancel_interval * 2;
			b->cancel_next = now + b->cancel_interval;
		}
	}
	switch (b->state) {
	case CT_CALLING:
	case CT_PROCEEDING:
		if (now >= b->deadline) {
			/* B/F: no final response: 408 for this branch (16.7 step 4 / 16.8).
			 * C: an INVITE branch that stays proceeding is cancelled. */
			if (tx->invite && b->state == CT_PROCEEDING && b->cancel_state == 0) {
				/* C: CANCEL, then wait 64*T1 more for the 487 (and ACK it) */
				send_cancel(s, b, now);
				b->deadline = now + TIMER_64T1;
				return;
			}
			s->stats.proxy_timeouts++;
			b->state = CT_TERMINATED;
			b->code = 408;
			store_best(tx, NULL, 408);
			if (table_node_linked(&b->node) && b->cancel_state != 2)
				table_remove(&s->proxy.branches, &b->node);
			branch_timeout_or_final(s, tx, now);
			return;
		}
		if (b->next_tx && now >= b->next_tx && b->req) {
			if (send_to(s, &b->dst, b->req, b->reqlen) == 0)
				s->stats.proxy_retransmissions++;
			if (tx->invite)
				b->interval *= 2;
			else
				b->interval = b->state == CT_PROCEEDING ? SIPD_T2
				    : (b->interval * 2 > SIPD_T2 ? SIPD_T2 : b->interval * 2);
			b->next_tx = now + b->interval;
		}
		break;
	case CT_COMPLETED:
	case CT_ACCEPTED:
		if (now >= b->deadline) {
			b->state = CT_TERMINATED;
			if (table_node_linked(&b->node) && b->cancel_state != 2)
				table_remove(&s->proxy.branches, &b->node);
		}
		break;
	default:
		if (table_node_linked(&b->node) && b->cancel_state != 2)
			table_remove(&s->proxy.branches, &b->node);
		break;
	}
}

void sipd_proxy_timers(struct sipd *s, uint64_t now)
{
	struct sipd_ptxn *tx = s->proxy.all, *next;
	for (; tx; tx = next) {
		next = tx->next;
		for (int i = 0; i < tx->nbr; i++)
			run_branch_timers(s, tx, &tx->br[i], now);
		switch (tx->state) {
		case ST_PROCEEDING:
			break;
		case ST_COMPLETED:
			if (tx->g_next && now >= tx->g_next && tx->resp) {
				/* G: the non-2xx final again, until the ACK */
				if (send_to(s, &tx->up, tx->resp, tx->resplen) == 0)
					s->stats.proxy_retransmissions++;
				tx->g_interval = tx->g_interval * 2 > SIPD_T2 ? SIPD_T2
									      : tx->g_interval * 2;
				tx->g_next = now + tx->g_interval;
			}
			if (now >= tx->deadline) {
				if (tx->invite)
					s->stats.proxy_timeouts++; /* H: no ACK came */
				tx->state = ST_TERMINATED;
			}
			break;
		case ST_CONFIRMED:
		case ST_ACCEPTED:
			if (now >= tx->deadline)
				tx->state = ST_TERMINATED;
			break;
		default:
			break;
		}
		if (tx->state == ST_TERMINATED) {
			bool busy = false;
			for (int i = 0; i < tx->nbr; i++)
				busy |= tx->br[i].state != CT_TERMINATED ||
					tx->br[i].cancel_state == 2;
			if (!busy) {
				if (table_node_linked(&tx->node))
					table_remove(&s->proxy.txns, &tx->node);
				ptxn_free(&s->proxy, tx);
				s->stats.proxy_txn_freed++;
			}
		}
	}
}

void sipd_proxy_dump(struct sipd *s, struct json_writer *w, uint64_t now)
{
	char b[ROAM_ADDRSTRLEN];
	json_arr_begin(w);
	for (struct sipd_ptxn *tx = s->proxy.all; tx; tx = tx->next) {
		json_obj_begin(w);
		json_kv_str(w, "method", tx->req ? tx->req->sip_method : "?");
		json_kv_str(w, "call_id", tx->req && tx->req->call_id && tx->req->call_id->number
					      ? tx->req->call_id->number : "");
		json_kv_str(w, "state", st_names[tx->state]);
		json_kv_str(w, "upstream", roam_sockaddr_fmt(&tx->up.addr, b, sizeof(b)));
		json_kv_str(w, "transport", tx->up.transport == SIPD_TP_TCP ? "tcp" : "udp");
		json_kv_uint(w, "age_ms", now - tx->created);
		json_kv_uint(w, "last_response", (uint64_t)tx->resp_code);
		json_kv_uint(w, "best", (uint64_t)tx->best_code);
		json_kv_bool(w, "cancelled", tx->cancelled);
		json_key(w, "branches");
		json_arr_begin(w);
		for (int i = 0; i < tx->nbr; i++) {
			const struct sipd_branch *br = &tx->br[i];
			json_obj_begin(w);
			json_kv_str(w, "branch", br->branch);
			json_kv_str(w, "state", ct_names[br->state]);
			json_kv_str(w, "to", roam_sockaddr_fmt(&br->dst.addr, b, sizeof(b)));
			json_kv_str(w, "transport", br->dst.transport == SIPD_TP_TCP ? "tcp" : "udp");
			json_kv_uint(w, "code", (uint64_t)br->code);
			json_obj_end(w);
		}
		json_arr_end(w);
		json_obj_end(w);
	}
	json_arr_end(w);
}
