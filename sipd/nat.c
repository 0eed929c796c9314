/* The NAT session continuity extension, registrar side (docs/protocols/sip-mobility.md 4; seed
 * 004 figures 2, 3A and 3B): the X-Roam-Previous-Contact header, the check of a mobile's claim
 * on its old address against the location service, the planning of the translation pair our
 * co-located router needs (docs/nat-rules.md), the pairs we installed (tagged, so that they are
 * found again after a restart) and their life: as long as the binding of the new contact, or,
 * for pairs a peer server asked for, until the expiry it gave.
 *
 * The rules go through a backend (struct sipd_nat_backend): libnftables (roam/nft.h) in the
 * daemon, an in-memory fake in the unit tests, so that everything here runs without root. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <osipparser2/osip_parser.h>

#include "sipd.h"
#include "roam/auth.h"
#include "roam/clock.h"

/* ---- the real backend ---- */

static int nft_add(void *arg, const struct roam_nft_pair *p)
{
	return roam_nft_pair_add(arg, p);
}

static int nft_del(void *arg, const char *tag)
{
	return roam_nft_pair_del(arg, tag);
}

static int nft_list(void *arg, struct roam_nft_pair **out, size_t *n)
{
	return roam_nft_list(arg, out, n);
}

static int nft_reconcile(void *arg, roam_nft_keep_cb keep, void *keep_arg, size_t *removed)
{
	return roam_nft_reconcile(arg, keep, keep_arg, removed);
}

int sipd_nat_open_nft(struct sipd *s)
{
	struct roam_nft *t = NULL;
	int r = roam_nft_open(s->conf.nat_table_owner, &t);
	if (r < 0)
		return r;
	s->nat.nft = t;
	s->nat.be = (struct sipd_nat_backend){ nft_add, nft_del, nft_list, nft_reconcile, t };
	return 0;
}

/* ---- history of dropped bindings ---- */

static size_t hist_key(const char *aor, const struct roam_ipaddr *a, uint8_t *key)
{
	size_t l = strlen(aor);
	if (l > SIPD_AOR_MAX)
		l = SIPD_AOR_MAX;
	memcpy(key, aor, l);
	key[l] = 0;
	roam_ipaddr_key(a, key + l + 1);
	return l + 1 + ROAM_IPADDR_KEYLEN;
}

static void hist_expired(struct table *t, struct table_node *n, void *arg)
{
	(void)t;
	(void)arg;
	free(table_entry(n, struct sipd_nat_hist, node));
}

static void hist_add(struct sipd *s, const char *aor, const struct roam_ipaddr *a, uint64_t until)
{
	uint8_t key[sizeof(((struct sipd_nat_hist *)0)->key)];
	size_t kl = hist_key(aor, a, key);
	struct table_node *n = table_lookup(&s->nat.hist, key, kl);
	if (!n) {
		/* bounded like the location service: at most one entry per binding dropped within
		 * the grace period */
		if (table_count(&s->nat.hist) >= s->conf.max_bindings)
			return;
		struct sipd_nat_hist *h = calloc(1, sizeof(*h));
		if (!h)
			return;
		memcpy(h->key, key, kl);
		h->keylen = (uint8_t)kl;
		if (table_insert(&s->nat.hist, &h->node, h->key, h->keylen) < 0) {
			free(h);
			return;
		}
		n = &h->node;
	}
	if (table_node_expiry(n) < until)
		table_set_expiry(&s->nat.hist, n, until);
}

/* The address of a contact URI host when it is an IP literal. */
static int uri_host_addr(const char *uri, struct roam_ipaddr *a)
{
	osip_uri_t *u = NULL;
	int r = -EINVAL;
	if (osip_uri_init(&u) != 0)
		return -ENOMEM;
	if (osip_uri_parse(u, uri) == 0 && u->host && u->scheme &&
	    (strcasecmp(u->scheme, "sip") == 0 || strcasecmp(u->scheme, "sips") == 0)) {
		/* libosip2 strips the brackets of an IPv6 reference */
		r = roam_ipaddr_parse(u->host, a) < 0 ? -EINVAL : 0;
	}
	osip_uri_free(u);
	return r;
}

static void loc_dropped(void *arg, const char *aor, const struct sipd_contact *c, uint64_t now)
{
	struct sipd *s = arg;
	struct roam_ipaddr a;
	if (!s->conf.nat_continuity)
		return;
	if (uri_host_addr(sipd_contact_uri(c), &a) == 0)
		hist_add(s, aor, &a, now + s->conf.nat_grace);
	if (!roam_ipaddr_is_any(&c->src))
		hist_add(s, aor, &c->src, now + s->conf.nat_grace);
}

int sipd_nat_init(struct sipd *s, const struct sipd_nat_backend *be, uint64_t now)
{
	(void)now;
	struct sipd_nat *n = &s->nat;
	int r = table_init(&n->hist, hist_expired, hist_expired, s);
	if (r < 0)
		return r;
	n->init = true;
	if (be)
		n->be = *be;
	n->started_wall = roam_wall_ms();
	s->loc.on_drop = loc_dropped;
	s->loc.drop_arg = s;
	return 0;
}

void sipd_nat_destroy(struct sipd *s)
{
	struct sipd_nat *n = &s->nat;
	if (!n->init)
		return;
	table_destroy(&n->hist);
	free(n->pairs);
	free(n->peer_seq);
	for (size_t i = 0; i < SIPD_NAT_PEER_PENDING; i++)
		free(n->out[i].text);
	if (n->nft)
		roam_nft_close(n->nft); /* the rules stay for the next start (reconcile) */
	s->loc.on_drop = NULL;
	memset(n, 0, sizeof(*n));
}

/* ---- the header ---- */

int sipd_nat_prev_parse(osip_message_t *msg, struct roam_ipaddr *old, size_t max, size_t *n)
{
	osip_header_t *h = NULL;
	size_t k = 0;
	bool any = false;
	*n = 0;
	for (int pos = 0;
	     (pos = osip_message_header_get_byname(msg, SIPD_NAT_HEADER, pos, &h)) >= 0; pos++) {
		any = true;
		if (!h || !h->hvalue)
			return -EINVAL;
		/* one or more comma-separated values; each a name-addr or addr-spec */
		const char *v = h->hvalue;
		while (*v) {
			while (*v == ' ' || *v == '\t' || *v == ',')
				v++;
			if (!*v)
				break;
			/* a value ends at a comma outside <> and quotes */
			const char *e = v;
			int angle = 0, quote = 0;
			for (; *e; e++) {
				if (*e == '"' && (e == v || e[-1] != '\\'))
					quote ^= 1;
				else if (!quote && *e == '<')
					angle++;
				else if (!quote && *e == '>')
					angle--;
				else if (!quote && !angle && *e == ',')
					break;
			}
			size_t l = (size_t)(e - v);
			if (l == 0 || l > SIPD_URI_MAX || quote || angle)
				return -EINVAL;
			char buf[SIPD_URI_MAX + 1];
			memcpy(buf, v, l);
			buf[l] = 0;
			osip_contact_t *c = NULL;
			int bad = osip_contact_init(&c) != 0 || osip_contact_parse(c, buf) != 0 ||
				  !c->url || !c->url->scheme || !c->url->host;
			char host[ROAM_ADDRSTRLEN + 2] = "";
			if (!bad) {
				bad = strcasecmp(c->url->scheme, "sip") != 0 &&
				      strcasecmp(c->url->scheme, "sips") != 0;
				if (strlen(c->url->host) < sizeof(host))
					strcpy(host, c->url->host);
				else
					bad = 1;
			}
			/* since=delta-seconds, when present, must be one */
			osip_generic_param_t *sp = NULL;
			if (!bad && osip_contact_param_get_byname(c, "since", &sp) == 0 && sp) {
				if (!sp->gvalue || !*sp->gvalue || strlen(sp->gvalue) > 10)
					bad = 1;
				for (const char *p = sp && sp->gvalue ? sp->gvalue : ""; *p; p++)
					bad |= !isdigit((unsigned char)*p);
			}
			osip_contact_free(c);
			if (bad)
				return -EINVAL;
			struct roam_ipaddr a;
			if (roam_ipaddr_parse(host, &a) < 0 || roam_ipaddr_is_any(&a) ||
			    roam_ipaddr_is_multicast(&a))
				return -EINVAL;
			if (k == max)
				return -EINVAL;
			bool dup = false;
			for (size_t i = 0; i < k; i++)
				dup |= roam_ipaddr_eq(&old[i], &a);
			if (!dup)
				old[k++] = a;
			v = e;
		}
	}
	if (!any)
		return -ENOENT;
	if (k == 0)
		return -EINVAL;
	*n = k;
	return 0;
}

int sipd_nat_prev_build(const char *user, const struct roam_ipaddr *addr, char *out, size_t len)
{
	char a[ROAM_ADDRSTRLEN];
	roam_ipaddr_fmt(addr, a, sizeof(a));
	bool v6 = strchr(a, ':') != NULL;
	int w = snprintf(out, len, "<sip:%s%s%s%s%s>", user && *user ? user : "",
			 user && *user ? "@" : "", v6 ? "[" : "", a, v6 ? "]" : "");
	return w < 0 || (size_t)w >= len ? -ENOSPC : 0;
}

/* ---- tags and planning ---- */

static void tag_make(char prefix, const char *a, const char *b, const struct roam_ipaddr *old,
		     char tag[ROAM_NFT_TAG_MAX])
{
	uint8_t h[AUTH_SHA256_LEN], h2[AUTH_SHA256_LEN];
	size_t la = strlen(a), lb = strlen(b);
	char buf[2 * (SIPD_URI_MAX + SIPD_AOR_MAX) + 2];
	if (la + lb + 1 > sizeof(buf)) {
		la = la > SIPD_URI_MAX ? SIPD_URI_MAX : la;
		lb = lb > SIPD_URI_MAX ? SIPD_URI_MAX : lb;
	}
	memcpy(buf, a, la);
	buf[la] = 0;
	memcpy(buf + la + 1, b, lb);
	auth_sha256(buf, la + 1 + lb, h);
	uint8_t k[ROAM_IPADDR_KEYLEN];
	roam_ipaddr_key(old, k);
	auth_sha256(k, sizeof(k), h2);
	snprintf(tag, ROAM_NFT_TAG_MAX, "%c%02x%02x%02x%02x%02x%02x%02x%02x.%02x%02x%02x%02x",
		 prefix, h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], h2[0], h2[1], h2[2],
		 h2[3]);
}

void sipd_nat_local_tag(const char *aor, const char *uri, const struct roam_ipaddr *old,
			char tag[ROAM_NFT_TAG_MAX])
{
	tag_make('l', aor, uri, old, tag);
}

void sipd_nat_peer_tag(const char *peer, const char *aor, const struct roam_ipaddr *old,
		       char tag[ROAM_NFT_TAG_MAX])
{
	tag_make('p', peer, aor, old, tag);
}

int sipd_nat_plan(const struct sipd_conf *c, const char *tag, const struct roam_ipaddr *old,
		  const struct roam_ipaddr *new, struct roam_nft_pair *out)
{
	if (old->family != new->family || roam_ipaddr_eq(old, new) || roam_ipaddr_is_any(old) ||
	    roam_ipaddr_is_any(new) || roam_ipaddr_is_multicast(old) ||
	    roam_ipaddr_is_multicast(new) || roam_nft_tag_check(tag) < 0)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	snprintf(out->tag, sizeof(out->tag), "%s", tag);
	out->old = *old;
	out->new = *new;
	out->flags = ROAM_NFT_DST;
	int role = SIPD_NAT_ROLE_CN_HOP;
	for (size_t i = 0; i < c->nnat_networks; i++)
		if (roam_prefix_contains(&c->nat_networks[i], new)) {
			role = SIPD_NAT_ROLE_NEW_HOP;
			break;
		}
	/* Seed step 240: on the mobile's new first hop, the static route delivering OLD into the
	 * new network (through the mobile itself: NEW is on one of our links). */
	if (role == SIPD_NAT_ROLE_NEW_HOP)
		out->route_gw = *new;
	return role;
}

/* ---- the pairs ---- */

struct sipd_nat_pair *sipd_nat_find(struct sipd *s, const char *tag)
{
	for (size_t i = 0; i < s->nat.npairs; i++)
		if (strcmp(s->nat.pairs[i].tag, tag) == 0)
			return &s->nat.pairs[i];
	return NULL;
}

static void pair_forget(struct sipd *s, struct sipd_nat_pair *p)
{
	size_t i = (size_t)(p - s->nat.pairs);
	s->nat.pairs[i] = s->nat.pairs[--s->nat.npairs];
}

static int pair_del_rules(struct sipd *s, struct sipd_nat_pair *p)
{
	int r = s->nat.be.del ? s->nat.be.del(s->nat.be.arg, p->tag) : -ENOTCONN;
	if (r < 0 && r != -ENOENT) {
		log_warnx("nat: removing pair %s: %s%s%s", p->tag, strerror(-r),
			  s->nat.nft ? ": " : "", s->nat.nft ? roam_nft_error(s->nat.nft) : "");
		return r;
	}
	s->stats.nat_pairs_removed++;
	return 0;
}

int sipd_nat_remove(struct sipd *s, const char *tag, uint64_t now)
{
	struct sipd_nat_pair *p = sipd_nat_find(s, tag);
	if (!p)
		return -ENOENT;
	char o[ROAM_ADDRSTRLEN], nw[ROAM_ADDRSTRLEN];
	log_info("nat: pair %s %s -> %s of %s removed", p->tag,
		 roam_ipaddr_fmt(&p->old, o, sizeof(o)), roam_ipaddr_fmt(&p->new, nw, sizeof(nw)),
		 p->aor);
	int r = pair_del_rules(s, p);
	if (p->origin == SIPD_NAT_LOCAL)
		sipd_peer_notify(s, p->aor, &p->old, &p->new, 0, now);
	pair_forget(s, p);
	return r;
}

int sipd_nat_install(struct sipd *s, const struct sipd_nat_pair *np)
{
	struct sipd_nat *n = &s->nat;
	struct roam_nft_pair rule;
	int role = sipd_nat_plan(&s->conf, np->tag, &np->old, &np->new, &rule);
	if (role < 0)
		return role;
	struct sipd_nat_pair *cur = sipd_nat_find(s, np->tag);
	if (cur && roam_ipaddr_eq(&cur->new, &np->new)) {
		/* the same translation: a refresh */
		cur->expires = np->expires;
		return 0;
	}
	/* Another pair for the same old address (the mobile moved again, or the same pair under
	 * another tag): the new one replaces it. */
	for (size_t i = 0; i < n->npairs;) {
		struct sipd_nat_pair *p = &n->pairs[i];
		if (p != cur && roam_ipaddr_eq(&p->old, &np->old)) {
			pair_del_rules(s, p);
			pair_forget(s, p);
			continue;
		}
		i++;
	}
	cur = sipd_nat_find(s, np->tag);
	if (cur) {
		pair_del_rules(s, cur);
		pair_forget(s, cur);
	}
	if (n->npairs >= s->conf.nat_max_pairs) {
		s->stats.nat_install_failures++;
		return -ENOSPC;
	}
	if (n->npairs == n->cap) {
		size_t nc = n->cap ? 2 * n->cap : 8;
		struct sipd_nat_pair *np2 = realloc(n->pairs, nc * sizeof(*np2));
		if (!np2)
			return -ENOMEM;
		n->pairs = np2;
		n->cap = nc;
	}
	int r = n->be.add ? n->be.add(n->be.arg, &rule) : -ENOTCONN;
	if (r < 0) {
		s->stats.nat_install_failures++;
		log_warnx("nat: installing pair %s: %s%s%s", np->tag, strerror(-r),
			  n->nft ? ": " : "", n->nft ? roam_nft_error(n->nft) : "");
		return r;
	}
	struct sipd_nat_pair *p = &n->pairs[n->npairs++];
	*p = *np;
	p->role = (uint8_t)role;
	s->stats.nat_pairs_installed++;
	char o[ROAM_ADDRSTRLEN], nw[ROAM_ADDRSTRLEN];
	log_info("nat: pair %s %s -> %s of %s installed (%s%s)", p->tag,
		 roam_ipaddr_fmt(&p->old, o, sizeof(o)), roam_ipaddr_fmt(&p->new, nw, sizeof(nw)),
		 p->aor, role == SIPD_NAT_ROLE_NEW_HOP ? "new first hop, route" : "correspondent side",
		 p->origin == SIPD_NAT_PEER ? ", for a peer" : "");
	return 0;
}

/* The binding of aor with this contact URI, or NULL. */
static struct sipd_contact *binding_find(struct sipd *s, const char *aor, const char *uri,
					 uint64_t now)
{
	struct sipd_aor *a = sipd_loc_find(&s->loc, aor);
	for (struct sipd_contact *c = a ? a->contacts : NULL; c; c = c->next)
		if (strcmp(sipd_contact_uri(c), uri) == 0)
			return c->expires > now ? c : NULL;
	return NULL;
}

void sipd_nat_sync(struct sipd *s, const char *aor, uint64_t now)
{
	struct sipd_nat *n = &s->nat;
	for (size_t i = 0; i < n->npairs;) {
		struct sipd_nat_pair *p = &n->pairs[i];
		if (aor && strcmp(p->aor, aor) != 0) {
			i++;
			continue;
		}
		if (p->origin == SIPD_NAT_LOCAL) {
			struct sipd_contact *c = binding_find(s, p->aor, p->uri, now);
			if (!c) {
				char tag[ROAM_NFT_TAG_MAX];
				memcpy(tag, p->tag, sizeof(tag));
				sipd_nat_remove(s, tag, now); /* moves the last pair to i */
				continue;
			}
			if (c->expires != p->expires) { /* refreshed: the peers hear it */
				p->expires = c->expires;
				sipd_peer_notify(s, p->aor, &p->old, &p->new,
						 sipd_contact_remaining(c, now), now);
			}
		} else if (p->expires <= now) {
			char tag[ROAM_NFT_TAG_MAX];
			memcpy(tag, p->tag, sizeof(tag));
			sipd_nat_remove(s, tag, now);
			continue;
		}
		i++;
	}
}

/* ---- claims ---- */

int sipd_nat_claim_check(struct sipd *s, const char *aor, const struct roam_ipaddr *old,
			 uint64_t now)
{
	struct sipd_aor *a = sipd_loc_find(&s->loc, aor);
	for (struct sipd_contact *c = a ? a->contacts : NULL; c; c = c->next) {
		if (c->expires <= now)
			continue;
		struct roam_ipaddr h;
		if (uri_host_addr(sipd_contact_uri(c), &h) == 0 && roam_ipaddr_eq(&h, old))
			return 0;
		if (roam_ipaddr_eq(&c->src, old))
			return 0;
	}
	uint8_t key[sizeof(((struct sipd_nat_hist *)0)->key)];
	size_t kl = hist_key(aor, old, key);
	struct table_node *hn = table_lookup(&s->nat.hist, key, kl);
	if (hn && table_node_expiry(hn) > now)
		return 0;
	/* an address the mobile still holds through a pair of ours (it moved again) */
	for (size_t i = 0; i < s->nat.npairs; i++)
		if (s->nat.pairs[i].origin == SIPD_NAT_LOCAL &&
		    strcmp(s->nat.pairs[i].aor, aor) == 0 &&
		    roam_ipaddr_eq(&s->nat.pairs[i].old, old))
			return 0;
	return -EPERM;
}

int sipd_nat_register_check(struct sipd *s, struct sipd_req *r, const char *aor, bool authed,
			    struct roam_ipaddr *old, size_t *nold, struct roam_ipaddr *new)
{
	s->stats.nat_claims++;
	uint16_t port;
	if (!authed) {
		/* the claim moves traffic: never without digest authentication (4.4 rule 1) */
		s->stats.nat_claims_refused_unauthenticated++;
		sipd_respond(s, r, 403, "Authentication Required For Previous Contact", NULL);
		return -EPERM;
	}
	int e = sipd_nat_prev_parse(r->msg, old, SIPD_NAT_MAX_PREV, nold);
	if (e < 0) {
		s->stats.nat_claims_refused_bad_header++;
		sipd_respond(s, r, 400,
			     e == -ENOENT ? "Missing X-Roam-Previous-Contact" :
					    "Bad X-Roam-Previous-Contact",
			     NULL);
		return -EPERM;
	}
	if (roam_sockaddr_addr(&r->src->addr, new, &port) < 0) {
		s->stats.nat_claims_refused_bad_header++;
		sipd_respond(s, r, 500, NULL, NULL);
		return -EPERM;
	}
	roam_ipaddr_unmap(new);
	for (size_t i = 0; i < *nold; i++) {
		if (old[i].family != new->family || roam_ipaddr_eq(&old[i], new)) {
			s->stats.nat_claims_refused_bad_header++;
			sipd_respond(s, r, 400, "Previous Contact Not Usable", NULL);
			return -EPERM;
		}
		if (sipd_nat_claim_check(s, aor, &old[i], r->now) < 0) {
			char b[ROAM_ADDRSTRLEN];
			log_warnx("nat: %s claims %s: not one of its addresses", aor,
				  roam_ipaddr_fmt(&old[i], b, sizeof(b)));
			s->stats.nat_claims_refused_not_yours++;
			sipd_respond(s, r, 403, "Previous Contact Not Yours", NULL);
			return -EPERM;
		}
	}
	if (s->nat.npairs + *nold > s->conf.nat_max_pairs) {
		s->stats.nat_claims_refused_limit++;
		const char *hs[] = { "Retry-After: 60", NULL };
		sipd_respond(s, r, 503, "Translation Table Full", hs);
		return -EPERM;
	}
	return 0;
}

void sipd_nat_register_apply(struct sipd *s, const char *aor, const char *uri,
			     const struct roam_ipaddr *old, size_t nold,
			     const struct roam_ipaddr *new, uint64_t now, char *echo, size_t echolen)
{
	struct sipd_contact *c = binding_find(s, aor, uri, now);
	size_t used = (size_t)snprintf(echo, echolen, "%s: ", SIPD_NAT_HEADER);
	bool any = false;
	if (!c)
		goto out;
	for (size_t i = 0; i < nold; i++) {
		struct sipd_nat_pair p;
		memset(&p, 0, sizeof(p));
		sipd_nat_local_tag(aor, uri, &old[i], p.tag);
		p.origin = SIPD_NAT_LOCAL;
		p.old = old[i];
		p.new = *new;
		p.expires = c->expires;
		snprintf(p.aor, sizeof(p.aor), "%s", aor);
		snprintf(p.uri, sizeof(p.uri), "%s", uri);
		if (sipd_nat_install(s, &p) < 0)
			continue;
		s->stats.nat_claims_ok++;
		sipd_peer_notify(s, aor, &old[i], new, sipd_contact_remaining(c, now), now);
		char v[SIPD_URI_MAX];
		if (sipd_nat_prev_build(NULL, &old[i], v, sizeof(v)) == 0 && used < echolen) {
			int w = snprintf(echo + used, echolen - used, "%s%s", any ? ", " : "", v);
			if (w > 0)
				used += (size_t)w;
			any = true;
		}
	}
out:
	if (!any)
		echo[0] = 0;
}

/* ---- restart ---- */

/* One pass over the location service finds the binding of every local pair of the table: the
 * pairs are sorted by the binding part of their tag ("l" + 16 hex), each binding's part is
 * computed once and looked up (O(bindings log pairs), one SHA-256 per binding). */
struct adopt_ent {
	char key[18];                 /* "l" + 16 hex */
	const struct roam_nft_pair *p;
	struct sipd_contact *found;
	char aor[SIPD_AOR_MAX + 1];
};

struct adopt_ctx {
	struct adopt_ent *e;
	size_t n;
	uint64_t now;
};

static int adopt_cmp(const void *a, const void *b)
{
	return strcmp(((const struct adopt_ent *)a)->key, ((const struct adopt_ent *)b)->key);
}

static int adopt_walk(struct table_node *node, void *arg)
{
	struct adopt_ctx *ac = arg;
	struct sipd_aor *a = table_entry(node, struct sipd_aor, node);
	for (struct sipd_contact *c = a->contacts; c; c = c->next) {
		if (c->expires <= ac->now)
			continue;
		struct roam_ipaddr any;
		memset(&any, 0, sizeof(any));
		struct adopt_ent k;
		char tag[ROAM_NFT_TAG_MAX];
		sipd_nat_local_tag(a->key, sipd_contact_uri(c), &any, tag);
		memcpy(k.key, tag, 17);
		k.key[17] = 0;
		struct adopt_ent *e = bsearch(&k, ac->e, ac->n, sizeof(*ac->e), adopt_cmp);
		if (!e)
			continue;
		/* equal keys are adjacent: check each candidate's full tag (OLD part) */
		while (e > ac->e && strcmp(e[-1].key, k.key) == 0)
			e--;
		for (; e < ac->e + ac->n && strcmp(e->key, k.key) == 0; e++) {
			sipd_nat_local_tag(a->key, sipd_contact_uri(c), &e->p->old, tag);
			if (!e->found && strcmp(tag, e->p->tag) == 0) {
				e->found = c;
				snprintf(e->aor, sizeof(e->aor), "%s", a->key);
			}
		}
	}
	return 0;
}

/* roam_nft_reconcile's keep callback: the pairs adopted (tracked) stay. */
static int reconcile_keep(const struct roam_nft_pair *p, void *arg)
{
	struct sipd *s = arg;
	struct sipd_nat_pair *t = sipd_nat_find(s, p->tag);
	if (t)
		return 1;
	log_info("nat: pair %s left by an earlier run is not needed: removed", p->tag);
	return 0;
}

int sipd_nat_reconcile(struct sipd *s, uint64_t now)
{
	struct sipd_nat *n = &s->nat;
	struct roam_nft_pair *list = NULL;
	size_t cnt = 0, removed = 0;
	if (!n->be.list || !n->be.reconcile)
		return -ENOTCONN;
	int r = n->be.list(n->be.arg, &list, &cnt);
	if (r < 0)
		return r;
	struct adopt_ctx ac = { NULL, 0, now };
	if (cnt && s->conf.nat_continuity && !(ac.e = calloc(cnt, sizeof(*ac.e)))) {
		free(list);
		return -ENOMEM;
	}
	for (size_t i = 0; i < cnt && ac.e; i++)
		if (list[i].tag[0] == 'l' && strlen(list[i].tag) > 17) {
			memcpy(ac.e[ac.n].key, list[i].tag, 17);
			ac.e[ac.n].p = &list[i];
			ac.n++;
		}
	if (ac.n) {
		qsort(ac.e, ac.n, sizeof(*ac.e), adopt_cmp);
		table_foreach(&s->loc.t, adopt_walk, &ac);
	}
	for (size_t i = 0; i < cnt; i++) {
		const struct roam_nft_pair *kp = &list[i];
		bool keep = false;
		struct sipd_nat_pair p;
		memset(&p, 0, sizeof(p));
		snprintf(p.tag, sizeof(p.tag), "%s", kp->tag);
		p.old = kp->old;
		p.new = kp->new;
		if (s->conf.nat_continuity && kp->tag[0] == 'l' && n->npairs < s->conf.nat_max_pairs &&
		    !sipd_nat_find(s, kp->tag)) {
			/* a binding restored from the snapshot still needs it: the tag says which */
			const struct adopt_ent *e = NULL;
			for (size_t j = 0; j < ac.n && !e; j++)
				if (ac.e[j].p == kp)
					e = &ac.e[j];
			if (e && e->found) {
				p.origin = SIPD_NAT_LOCAL;
				p.expires = e->found->expires;
				snprintf(p.aor, sizeof(p.aor), "%s", e->aor);
				snprintf(p.uri, sizeof(p.uri), "%s", sipd_contact_uri(e->found));
				keep = true;
			}
		} else if (s->conf.nat_continuity && kp->tag[0] == 'p' &&
			   n->npairs < s->conf.nat_max_pairs && !sipd_nat_find(s, kp->tag)) {
			/* a peer's pair: kept for the grace period, in which its server refreshes
			 * it (each REGISTER of the binding) or lets it go */
			p.origin = SIPD_NAT_PEER;
			p.expires = now + s->conf.nat_grace;
			keep = true;
		}
		if (keep) {
			struct roam_nft_pair plan;
			int role = sipd_nat_plan(&s->conf, p.tag, &p.old, &p.new, &plan);
			keep = role > 0 && (kp->flags & ROAM_NFT_ALL) == ROAM_NFT_DST;
			p.role = (uint8_t)(role > 0 ? role : 0);
		}
		if (keep) {
			if (n->npairs == n->cap) {
				size_t nc = n->cap ? 2 * n->cap : 8;
				struct sipd_nat_pair *np2 = realloc(n->pairs, nc * sizeof(*np2));
				if (!np2) {
					free(ac.e);
					free(list);
					return -ENOMEM;
				}
				n->pairs = np2;
				n->cap = nc;
			}
			n->pairs[n->npairs++] = p;
		}
	}
	free(ac.e);
	free(list);
	/* Pass 2: everything of our table that was not adopted goes (rules and route). */
	r = n->be.reconcile(n->be.arg, reconcile_keep, s, &removed);
	s->stats.nat_pairs_reconciled += removed;
	return r < 0 ? r : (int)removed;
}
