/* REGISTER processing, RFC 3261 10.3 steps 1-8, and digest authentication of requests
 * (RFC 3261 22.4, RFC 2617 qop=auth, RFC 8760 SHA-256). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <osipparser2/osip_parser.h>

#include "sipd.h"

bool sipd_domain_served(const struct sipd *s, const char *host)
{
	if (s->conf.ndomains == 0)
		return true;
	for (size_t i = 0; i < s->conf.ndomains; i++)
		if (host && strcasecmp(s->conf.domains[i], host) == 0)
			return true;
	return false;
}

/* Unquoted copy of a digest parameter value into out; "" when absent. */
static void unq(const char *v, char *out, size_t n)
{
	out[0] = 0;
	if (!v)
		return;
	size_t l = strlen(v);
	if (l >= 2 && v[0] == '"' && v[l - 1] == '"') {
		v++;
		l -= 2;
	}
	if (l >= n)
		l = n - 1;
	memcpy(out, v, l);
	out[l] = 0;
}

static int parse_nc(const char *s, uint32_t *nc)
{
	if (strlen(s) != 8)
		return -1;
	uint32_t v = 0;
	for (int i = 0; i < 8; i++) {
		int c = tolower((unsigned char)s[i]);
		if (!isxdigit(c))
			return -1;
		v = v << 4 | (uint32_t)(isdigit(c) ? c - '0' : c - 'a' + 10);
	}
	*nc = v;
	return v == 0 ? -1 : 0;
}

int sipd_authenticate(struct sipd *s, struct sipd_req *r, const char **user)
{
	osip_authorization_t *a = NULL, *cand;
	char realm[256];
	osip_list_t *al = r->proxy_auth ? &r->msg->proxy_authorizations : &r->msg->authorizations;
	for (int i = 0; osip_message_get_knownheaderlist(al, i, (void **)&cand) >= 0; i++) {
		unq(cand ? cand->realm : NULL, realm, sizeof(realm));
		if (cand && strcmp(realm, s->conf.realm) == 0) {
			a = cand;
			break;
		}
	}
	if (!a) {
		sipd_challenge(s, r, false);
		return -EACCES;
	}
	char *username = r->user;
	char nonce[128], uri[1024], response[129], cnonce[256], qop[32], nc[16], alg[32];
	unq(a->username, username, sizeof(r->user));
	unq(a->nonce, nonce, sizeof(nonce));
	unq(a->uri, uri, sizeof(uri));
	unq(a->response, response, sizeof(response));
	unq(a->cnonce, cnonce, sizeof(cnonce));
	unq(a->message_qop, qop, sizeof(qop));
	unq(a->nonce_count, nc, sizeof(nc));
	unq(a->algorithm, alg, sizeof(alg));
	if (!a->auth_type || strcasecmp(a->auth_type, "Digest") != 0 || !*username || !*nonce ||
	    !*uri || !*response) {
		s->stats.auth_failed++;
		sipd_respond(s, r, 400, "Bad Authorization Header", NULL);
		return -EACCES;
	}
	enum sip_digest_alg da = SIP_DIGEST_MD5;
	bool offered = false;
	if (!*alg || strcasecmp(alg, "MD5") == 0)
		da = SIP_DIGEST_MD5;
	else if (strcasecmp(alg, "SHA-256") == 0)
		da = SIP_DIGEST_SHA256;
	for (size_t i = 0; i < s->conf.ndigest_algorithms; i++)
		offered |= s->conf.digest_algorithms[i] == (int)da;
	if ((*alg && strcasecmp(alg, "MD5") != 0 && strcasecmp(alg, "SHA-256") != 0) ||
	    !offered) {
		s->stats.auth_failed++;
		sipd_challenge(s, r, false);
		return -EACCES;
	}
	uint32_t ncv;
	if (strcasecmp(qop, "auth") != 0 || !*cnonce || parse_nc(nc, &ncv) < 0) {
		/* qop=auth was offered: its absence (RFC 2069 style) is refused, so nc protects
		 * every accepted response against replay. */
		s->stats.auth_failed++;
		sipd_challenge(s, r, false);
		return -EACCES;
	}
	/* RFC 2617 3.2.2.5: the digest-uri must name the Request-URI. */
	char *rus = NULL;
	osip_uri_t *au = NULL;
	char *aus = NULL;
	int same = 0;
	if (osip_uri_to_str(r->msg->req_uri, &rus) == 0 && osip_uri_init(&au) == 0 &&
	    osip_uri_parse(au, uri) == 0 && osip_uri_to_str(au, &aus) == 0)
		same = strcmp(rus, aus) == 0;
	osip_free(rus);
	osip_free(aus);
	osip_uri_free(au);
	if (!same) {
		s->stats.auth_failed++;
		sipd_respond(s, r, 400, "Digest URI Mismatch", NULL);
		return -EACCES;
	}
	struct sipd_cred *c = sipd_creds_find(&s->creds, username, s->conf.realm);
	char ha1[65], expect[65];
	if (!c || sipd_cred_ha1(c, da, s->conf.realm, ha1) < 0) {
		s->stats.auth_unknown_user++;
		sipd_challenge(s, r, false); /* same answer as a wrong password */
		return -EACCES;
	}
	for (char *p = response; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (sip_digest_response_ha1(da, ha1, nonce, nc, cnonce, "auth", r->msg->sip_method, uri,
				    expect) < 0 ||
	    strlen(expect) != strlen(response) || !auth_equal(expect, response, strlen(expect))) {
		memset(ha1, 0, sizeof(ha1));
		s->stats.auth_failed++;
		sipd_challenge(s, r, false);
		return -EACCES;
	}
	memset(ha1, 0, sizeof(ha1));
	/* The response is right: a nonce that is old or not ours (an earlier process) is stale. */
	if (sipd_nonce_check(&s->digest, s->conf.realm, nonce, r->now, s->conf.nonce_lifetime) <
	    0) {
		s->stats.auth_stale++;
		sipd_challenge(s, r, true);
		return -EACCES;
	}
	uint8_t raw[SIPD_NONCE_RAW];
	for (int i = 0; i < SIPD_NONCE_RAW; i++) {
		unsigned v;
		sscanf(nonce + 2 * i, "%2x", &v);
		raw[i] = (uint8_t)v;
	}
	struct table_node *tn = table_lookup(&s->digest.nonces, raw, sizeof(raw));
	struct sipd_nonce *ne = tn ? table_entry(tn, struct sipd_nonce, node) : NULL;
	if (ne && replay_seq_check(&ne->nc, ncv) != 0) {
		s->stats.auth_replay++;
		sipd_challenge(s, r, false);
		return -EACCES;
	}
	if (!ne) {
		if (table_count(&s->digest.nonces) >= s->conf.max_nonces ||
		    !(ne = calloc(1, sizeof(*ne)))) {
			s->stats.auth_nonce_table_full++;
			sipd_challenge(s, r, true);
			return -EACCES;
		}
		memcpy(ne->raw, raw, sizeof(raw));
		replay_seq_init(&ne->nc, 0);
		if (table_insert(&s->digest.nonces, &ne->node, ne->raw, sizeof(ne->raw)) < 0) {
			free(ne);
			sipd_respond(s, r, 500, NULL, NULL);
			return -EACCES;
		}
		uint64_t ts = 0;
		for (int i = 0; i < 8; i++)
			ts = ts << 8 | raw[i];
		table_set_expiry(&s->digest.nonces, &ne->node, ts + s->conf.nonce_lifetime + 1);
	}
	replay_seq_commit(&ne->nc, ncv);
	s->stats.auth_ok++;
	*user = username;
	return 0;
}

/* Canonical AOR of a To URI (10.3 step 5): scheme:user@host[:port], host lower-cased, no
 * parameters.  -EINVAL when it does not fit or has no host. */
static int canonical_aor(const osip_uri_t *u, char *out, size_t n)
{
	if (!u || !u->scheme || !u->host || !*u->host)
		return -EINVAL;
	int w = snprintf(out, n, "%s:%s%s%s%s%s", u->scheme, u->username ? u->username : "",
			 u->username ? "@" : "", u->host, u->port ? ":" : "", u->port ? u->port : "");
	if (w < 0 || (size_t)w >= n || (size_t)w > SIPD_AOR_MAX)
		return -EINVAL;
	for (char *p = out; *p; p++)
		*p = (char)tolower((unsigned char)*p); /* scheme and host are case-insensitive */
	if (u->username) { /* the user part is case-sensitive: copy it back */
		size_t sl = strlen(u->scheme) + 1;
		memcpy(out + sl, u->username, strlen(u->username));
	}
	return 0;
}

static int parse_delta(const char *v, uint32_t *out)
{
	if (!v || !*v || strlen(v) > 10)
		return -1;
	for (const char *p = v; *p; p++)
		if (!isdigit((unsigned char)*p))
			return -1;
	unsigned long long x = strtoull(v, NULL, 10);
	*out = x > UINT32_MAX ? UINT32_MAX : (uint32_t)x;
	return 0;
}

/* q-value (RFC 3261 25.1): "0" / "1" with up to three decimals, as 0..1000. */
static int parse_q(const char *v, uint16_t *out)
{
	if (!v || !*v || strlen(v) > 5)
		return -1;
	if (v[0] != '0' && v[0] != '1')
		return -1;
	unsigned q = (unsigned)(v[0] - '0') * 1000, scale = 100;
	if (v[1]) {
		if (v[1] != '.')
			return -1;
		for (const char *p = v + 2; *p; p++, scale /= 10) {
			if (!isdigit((unsigned char)*p) || scale == 0)
				return -1;
			q += (unsigned)(*p - '0') * scale;
		}
	}
	if (q > 1000)
		return -1;
	*out = (uint16_t)q;
	return 0;
}

struct uri_store {
	char *uris[SIPD_MAX_CONTACTS_REQ];
	size_t n;
};

void sipd_register(struct sipd *s, struct sipd_req *r)
{
	osip_message_t *m = r->msg;
	char aor[SIPD_AOR_MAX + 1];
	struct sipd_binding_req reqs[SIPD_MAX_CONTACTS_REQ];
	struct uri_store us = { { 0 }, 0 };
	size_t n = 0;
	bool wildcard = false;
	/* Step 1: the domain of the Request-URI. */
	if (!sipd_domain_served(s, m->req_uri->host)) {
		sipd_respond(s, r, 403, "Domain Not Served", NULL);
		return;
	}
	/* Step 2 (Require) was done for every request by message.c. */
	/* Step 5 before 3: the AOR is needed to authorise. */
	if (canonical_aor(m->to->url, aor, sizeof(aor)) < 0 ||
	    (strcasecmp(m->to->url->scheme, "sip") != 0 &&
	     strcasecmp(m->to->url->scheme, "sips") != 0)) {
		sipd_respond(s, r, 400, "Bad To Address", NULL);
		return;
	}
	if (!sipd_domain_served(s, m->to->url->host)) {
		sipd_respond(s, r, 404, "Address Not Served Here", NULL);
		return;
	}
	/* Steps 3, 4: authenticate; the user may register its own AOR only. */
	if (s->conf.authentication) {
		const char *user = NULL;
		if (sipd_authenticate(s, r, &user) < 0)
			return;
		if (!m->to->url->username || strcmp(user, m->to->url->username) != 0) {
			sipd_respond(s, r, 403, "Not Your Address-Of-Record", NULL);
			return;
		}
	}
	/* Step 6: the Contact header fields. */
	uint32_t hdr_exp = s->conf.default_expires / 1000;
	bool has_hdr_exp = false;
	osip_header_t *eh = NULL;
	if (osip_message_header_get_byname(m, "expires", 0, &eh) >= 0 && eh) {
		if (parse_delta(eh->hvalue, &hdr_exp) < 0) {
			sipd_respond(s, r, 400, "Bad Expires", NULL);
			return;
		}
		has_hdr_exp = true;
	}
	osip_contact_t *c;
	int ncontact = osip_list_size(&m->contacts);
	uint32_t min_s = s->conf.min_expires / 1000, max_s = s->conf.max_expires / 1000;
	for (int i = 0; i < ncontact && osip_message_get_contact(m, i, &c) >= 0; i++) {
		if (c && !c->url && c->displayname && strcmp(c->displayname, "*") == 0) {
			wildcard = true;
			continue;
		}
		if (!c || !c->url || !c->url->scheme) {
			sipd_respond(s, r, 400, "Bad Contact", NULL);
			goto out;
		}
		if (n == SIPD_MAX_CONTACTS_REQ) {
			sipd_respond(s, r, 400, "Too Many Contacts In Request", NULL);
			goto out;
		}
		char *u = NULL;
		if (osip_uri_to_str(c->url, &u) != 0 || !u || strlen(u) > SIPD_URI_MAX) {
			osip_free(u);
			sipd_respond(s, r, 400, "Bad Contact URI", NULL);
			goto out;
		}
		us.uris[us.n++] = u;
		osip_generic_param_t *p = NULL;
		uint32_t e = hdr_exp;
		osip_contact_param_get_byname(c, "expires", &p);
		if (p && parse_delta(p->gvalue, &e) < 0) {
			sipd_respond(s, r, 400, "Bad Contact Expires", NULL);
			goto out;
		}
		uint16_t q = 1000;
		p = NULL;
		osip_contact_param_get_byname(c, "q", &p);
		if (p && parse_q(p->gvalue, &q) < 0) {
			sipd_respond(s, r, 400, "Bad q Value", NULL);
			goto out;
		}
		if (e > 0 && e < min_s) {
			char mh[64];
			snprintf(mh, sizeof(mh), "Min-Expires: %u", min_s);
			const char *hs[] = { mh, NULL };
			sipd_respond(s, r, 423, NULL, hs);
			goto out;
		}
		if (e > max_s)
			e = max_s;
		reqs[n] = (struct sipd_binding_req){ u, e, q, p != NULL };
		n++;
	}
	/* 10.3 step 6: "*" only alone and only with Expires: 0. */
	if (wildcard && (n > 0 || ncontact != 1 || !has_hdr_exp || hdr_exp != 0)) {
		sipd_respond(s, r, 400, "Invalid Wildcard Contact", NULL);
		goto out;
	}
	/* NAT continuity (sip-mobility.md 4.4): the claim is checked before anything changes. */
	bool nat = s->conf.nat_continuity && sipd_requires(m, SIPD_NAT_OPTION);
	struct roam_ipaddr nat_old[SIPD_NAT_MAX_PREV], nat_new;
	size_t nat_nold = 0;
	const char *nat_uri = NULL;
	if (nat) {
		size_t live = 0;
		for (size_t i = 0; i < n; i++)
			if (reqs[i].expires_s > 0) {
				live++;
				nat_uri = reqs[i].uri;
			}
		if (live != 1 || wildcard) {
			s->stats.nat_claims++;
			s->stats.nat_claims_refused_bad_header++;
			sipd_respond(s, r, 400, "One New Contact Required", NULL);
			goto out;
		}
		if (sipd_nat_register_check(s, r, aor, s->conf.authentication, nat_old, &nat_nold,
					    &nat_new) < 0)
			goto out;
	}
	/* Step 7: update the bindings (a REGISTER without Contact is a query). */
	struct sipd_reg_meta meta;
	memset(&meta, 0, sizeof(meta));
	meta.callid = m->call_id->number;
	meta.cseq = (uint32_t)strtoul(m->cseq->number, NULL, 10);
	meta.transport = (uint8_t)r->src->transport;
	roam_sockaddr_addr(&r->src->addr, &meta.src, &meta.src_port);
	char cid[SIPD_CALLID_MAX + 1];
	if (m->call_id->host) {
		snprintf(cid, sizeof(cid), "%s@%s", m->call_id->number, m->call_id->host);
		meta.callid = cid;
	}
	if (strlen(meta.callid) >= SIPD_CALLID_MAX) {
		sipd_respond(s, r, 400, "Call-ID Too Long", NULL);
		goto out;
	}
	if (n > 0 || wildcard) {
		unsigned cr = 0, rf = 0, rm = 0;
		int e = sipd_loc_update(&s->loc, aor, reqs, n, wildcard, &meta, r->now,
					s->conf.max_contacts, s->conf.max_bindings, &cr, &rf, &rm);
		if (e == -EALREADY) {
			s->stats.cseq_out_of_order++;
			sipd_respond(s, r, 400, "Invalid CSeq Number", NULL);
			goto out;
		} else if (e == -EMLINK) {
			sipd_respond(s, r, 403, "Too Many Registered Contacts", NULL);
			goto out;
		} else if (e == -ENOSPC) {
			const char *hs[] = { "Retry-After: 60", NULL };
			sipd_respond(s, r, 503, "Location Service Full", hs);
			goto out;
		} else if (e < 0) {
			sipd_respond(s, r, 500, NULL, NULL);
			goto out;
		}
		s->stats.bindings_created += cr;
		s->stats.bindings_refreshed += rf;
		s->stats.bindings_removed += rm;
		if (wildcard)
			s->stats.wildcard_removals++;
	}
	char echo[SIPD_NAT_MAX_PREV * 64 + 64] = "";
	if (nat)
		sipd_nat_register_apply(s, aor, nat_uri, nat_old, nat_nold, &nat_new, r->now, echo,
					sizeof(echo));
	if (s->conf.nat_continuity)
		sipd_nat_sync(s, aor, r->now); /* pairs of bindings refreshed or removed */
	/* Step 8: 200 with every current binding. */
	const char *hs[SIPD_MAX_CONTACTS_REQ + 70];
	char lines[64][SIPD_URI_MAX + 64];
	size_t nh = 0;
	struct sipd_aor *a = sipd_loc_find(&s->loc, aor);
	for (struct sipd_contact *k = a ? a->contacts : NULL; k && nh < 64; k = k->next) {
		uint32_t left = sipd_contact_remaining(k, r->now);
		if (left == 0)
			continue;
		if (k->has_q)
			snprintf(lines[nh], sizeof(lines[nh]), "Contact: <%s>;expires=%u;q=%u.%03u",
				 sipd_contact_uri(k), left, k->q / 1000, k->q % 1000);
		else
			snprintf(lines[nh], sizeof(lines[nh]), "Contact: <%s>;expires=%u",
				 sipd_contact_uri(k), left);
		hs[nh] = lines[nh];
		nh++;
	}
	char date[64];
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "Date: %a, %d %b %Y %H:%M:%S GMT", &tm);
	hs[nh++] = date;
	if (s->conf.nat_continuity)
		hs[nh++] = "Supported: " SIPD_NAT_OPTION;
	if (echo[0])
		hs[nh++] = echo;
	hs[nh] = NULL;
	s->stats.registrations_ok++;
	sipd_respond(s, r, 200, NULL, hs);
out:
	for (size_t i = 0; i < us.n; i++)
		osip_free(us.uris[i]);
}
