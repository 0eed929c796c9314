/* SIP user agent core (RFC 3261) of mnd and cnd: registration (10.2) with digest (22.2-22.4,
 * RFC 8760) and refresh; INVITE as UAC (13.2, 12.1.2) and UAS (13.3, 12.1.1), re-INVITE (14)
 * with the new Contact and SDP after a move (sip-mobility.md part 3); BYE (15); client
 * transactions (17.1, UDP timers A/B/D/E/F/K) and server-side retransmission of the 2xx until
 * the ACK (13.3.1.4) and of non-INVITE finals (17.2.2, Timer J).  No I/O: datagrams come in
 * through sip_ua_input(), leave through io->send(), time is the caller's `now`.
 * libosip2 parses every message received and builds every response. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <osipparser2/osip_parser.h>

#include "roam/auth.h"
#include "roam/buf.h"
#include "roam/log.h"
#include "roam/sip_ua.h"

#define SIP_UA_AGENT "roam-sip-ua/1"
#define TIMER_64T1 (64 * SIP_T1_MS)
#define REG_RETRY_MS 5000      /* after a failed or timed-out REGISTER */
#define REINVITE_RETRY_MS 2000 /* after a timed-out re-INVITE */
#define SIP_LOCAL_RETRY_MS 50  /* after a send the host itself refused */

enum ctxn_state { CT_TRYING, CT_PROCEEDING, CT_COMPLETED };
enum ctxn_owner { OWN_NONE, OWN_REG, OWN_CALL };

struct sip_ctxn {
	bool used, invite;
	enum ctxn_state st;
	char branch[48];
	char method[12];
	uint32_t cseq;
	char *msg;
	size_t len;
	char *ack;                    /* INVITE, non-2xx final: the ACK (re-sent on retransmission) */
	size_t ack_len;
	struct roam_sockaddr dst;
	uint64_t next_rtx, interval, deadline, end;
	enum ctxn_owner owner;
	unsigned reg;
	unsigned call;                /* call id */
	bool reinvite, natc;
	bool sent;                    /* has left the host at least once */
};

struct sip_stxn {
	bool used, invite, acked;
	char branch[96];
	char method[12];
	uint32_t cseq;
	char *resp;
	size_t len;
	struct roam_sockaddr dst;
	uint64_t next_rtx, interval, deadline, end;
	unsigned call;
};

struct sip_chal {
	bool have, proxy;
	enum sip_digest_alg alg;
	char realm[128], nonce[256], opaque[256];
	uint32_t nc;
};

struct sip_reg {
	enum sip_reg_state state;
	struct roam_sockaddr server;
	char call_id[96], from_tag[24];
	uint32_t cseq;
	uint32_t expires_req, granted;
	uint64_t refresh_at, registered_ms;
	int last_code, auth_tries;
	struct sip_chal chal;
	bool natc;                    /* the next REGISTER carries the claim */
	struct roam_ipaddr natc_old;
	struct roam_ipaddr drop_old;  /* contact to remove (expires=0) after a move; family 0 none */
};

struct sip_ua {
	char aor[128], user[64], domain[128], *password;
	bool nat_continuity;
	uint16_t sip_port, media_port;
	uint32_t expires;
	const struct sip_ua_io *io;
	void *arg;
	struct roam_ipaddr addr, prev;
	bool have_addr;
	struct sip_reg regs[SIP_MAX_SERVERS];
	size_t nregs;
	struct sip_call calls[SIP_MAX_CALLS];
	uint64_t reinvite_at[SIP_MAX_CALLS]; /* 0: none scheduled */
	unsigned next_call_id;
	struct sip_ctxn ct[SIP_MAX_TXN];
	struct sip_stxn st[SIP_MAX_TXN];
	struct sip_chal proxy_chal;   /* INVITE challenges (407 / 401) */
	bool natc_refused_move;       /* fallback re-INVITEs done for this move */
	struct sip_ua_stats stats;
};

/* ---- small helpers ---- */

static void rand_hex(char *out, size_t nbytes)
{
	uint8_t b[32];
	static const char hx[] = "0123456789abcdef";
	if (nbytes > sizeof(b))
		nbytes = sizeof(b);
	if (auth_random(b, nbytes) < 0)
		for (size_t i = 0; i < nbytes; i++)
			b[i] = (uint8_t)rand();
	for (size_t i = 0; i < nbytes; i++) {
		out[2 * i] = hx[b[i] >> 4];
		out[2 * i + 1] = hx[b[i] & 15];
	}
	out[2 * nbytes] = 0;
}

static uint32_t rand_u32(void)
{
	uint32_t v;
	if (auth_random(&v, sizeof(v)) < 0)
		v = (uint32_t)rand();
	return v;
}

/* Copies s without surrounding double quotes. */
static void unquote(const char *s, char *out, size_t len)
{
	size_t n;
	if (!s) {
		out[0] = 0;
		return;
	}
	n = strlen(s);
	if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
		s++;
		n -= 2;
	}
	if (n >= len)
		n = len - 1;
	memcpy(out, s, n);
	out[n] = 0;
}

static const char *addr_str(const struct sip_ua *ua, char *b, size_t len)
{
	if (!ua->have_addr)
		return snprintf(b, len, "0.0.0.0"), b;
	if (ua->addr.family == AF_INET6) {
		char a[ROAM_ADDRSTRLEN];
		snprintf(b, len, "[%s]", roam_ipaddr_fmt(&ua->addr, a, sizeof(a)));
		return b;
	}
	return roam_ipaddr_fmt(&ua->addr, b, len);
}

/* host:port of a SIP URI whose host is an IP literal (no DNS: sip-mobility.md 3). */
static int uri_target(const char *uri_text, struct roam_sockaddr *out)
{
	osip_uri_t *u = NULL;
	int r = -EINVAL;
	char tmp[300];
	const char *s = uri_text;
	/* a name-addr: take what is between < > */
	const char *lt = strchr(uri_text, '<');
	if (lt) {
		const char *gt = strchr(lt, '>');
		size_t n = gt ? (size_t)(gt - lt - 1) : 0;
		if (!gt || n >= sizeof(tmp))
			return -EINVAL;
		memcpy(tmp, lt + 1, n);
		tmp[n] = 0;
		s = tmp;
	}
	if (osip_uri_init(&u) != 0)
		return -ENOMEM;
	if (osip_uri_parse(u, s) == 0 && u->host) {
		struct roam_ipaddr a;
		char host[80];
		unquote(u->host, host, sizeof(host));
		size_t hl = strlen(host);
		if (hl > 2 && host[0] == '[' && host[hl - 1] == ']') {
			memmove(host, host + 1, hl - 2);
			host[hl - 2] = 0;
		}
		long port = u->port ? strtol(u->port, NULL, 10) : 5060;
		if (roam_ipaddr_parse(host, &a) == 0 && port > 0 && port < 65536)
			r = roam_sockaddr_set(out, &a, (uint16_t)port);
	}
	osip_uri_free(u);
	return r;
}

static int ua_send(struct sip_ua *ua, const struct roam_sockaddr *dst, const char *buf, size_t len)
{
	ua->stats.tx_messages++;
	return ua->io->send(ua->arg, dst, buf, len);
}

static struct sip_call *call_by_id(struct sip_ua *ua, unsigned id)
{
	for (unsigned i = 0; i < SIP_MAX_CALLS; i++)
		if (ua->calls[i].used && ua->calls[i].id == id)
			return &ua->calls[i];
	return NULL;
}

static void call_end(struct sip_ua *ua, struct sip_call *c)
{
	if (!c->used)
		return;
	c->state = SIP_CALL_TERMINATED;
	ua->io->call_event(ua->arg, c, SIP_CALL_EV_ENDED);
	ua->reinvite_at[c - ua->calls] = 0;
	memset(c, 0, sizeof(*c));
}

/* ---- client transactions (17.1) ---- */

static void ctxn_free(struct sip_ctxn *t)
{
	free(t->msg);
	free(t->ack);
	memset(t, 0, sizeof(*t));
}

static struct sip_ctxn *ctxn_new(struct sip_ua *ua)
{
	struct sip_ctxn *oldest = NULL;
	for (unsigned i = 0; i < SIP_MAX_TXN; i++) {
		if (!ua->ct[i].used)
			return &ua->ct[i];
		if (ua->ct[i].st == CT_COMPLETED && (!oldest || ua->ct[i].end < oldest->end))
			oldest = &ua->ct[i];
	}
	if (oldest) /* a completed one only absorbs retransmissions: reuse it */
		ctxn_free(oldest);
	return oldest;
}

/* Sends the request held in w as a new client transaction (takes w's buffer). */
static struct sip_ctxn *ctxn_start(struct sip_ua *ua, struct wbuf *w, const char *method,
				   const char *branch, uint32_t cseq,
				   const struct roam_sockaddr *dst, uint64_t now)
{
	struct sip_ctxn *t;
	if (w->err || !(t = ctxn_new(ua))) {
		wbuf_free(w);
		return NULL;
	}
	t->used = true;
	t->invite = strcmp(method, "INVITE") == 0;
	t->st = CT_TRYING;
	snprintf(t->branch, sizeof(t->branch), "%s", branch);
	snprintf(t->method, sizeof(t->method), "%s", method);
	t->cseq = cseq;
	t->msg = (char *)w->buf;
	t->len = w->len;
	t->dst = *dst;
	t->interval = SIP_T1_MS;
	t->next_rtx = now + SIP_T1_MS;
	t->deadline = now + TIMER_64T1;
	/* a send refused locally (no route yet, right after a move) is retried at the next
	 * tick rather than after T1: nothing left the host */
	if (ua_send(ua, dst, t->msg, t->len) < 0)
		t->next_rtx = now + SIP_LOCAL_RETRY_MS;
	else
		t->sent = true;
	return t;
}

/* ---- building requests ---- */

struct req_spec {
	const char *method, *ruri, *from, *to, *call_id;
	uint32_t cseq;
	const char *branch;
	char (*route)[256];
	unsigned nroute;
	bool contact;
	uint32_t contact_expires;     /* REGISTER: ;expires= */
	const char *extra;            /* more header lines, each ending in CRLF */
	const char *body;             /* application/sdp */
};

static void put(struct wbuf *w, const char *s)
{
	wbuf_put_bytes(w, s, strlen(s));
}

static void putf(struct wbuf *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(struct wbuf *w, const char *fmt, ...)
{
	char b[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(b, sizeof(b), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(b)) {
		w->err = -ENOSPC;
		return;
	}
	wbuf_put_bytes(w, b, (size_t)n);
}

static void build_request(struct sip_ua *ua, struct wbuf *w, const struct req_spec *s)
{
	char a[ROAM_ADDRSTRLEN + 2];
	addr_str(ua, a, sizeof(a));
	putf(w, "%s %s SIP/2.0\r\n", s->method, s->ruri);
	putf(w, "Via: SIP/2.0/UDP %s:%u;branch=%s;rport\r\n", a, ua->sip_port, s->branch);
	put(w, "Max-Forwards: 70\r\n");
	putf(w, "From: %s\r\n", s->from);
	putf(w, "To: %s\r\n", s->to);
	putf(w, "Call-ID: %s\r\n", s->call_id);
	putf(w, "CSeq: %" PRIu32 " %s\r\n", s->cseq, s->method);
	for (unsigned i = 0; i < s->nroute; i++)
		putf(w, "Route: %s\r\n", s->route[i]);
	if (s->contact) {
		putf(w, "Contact: <sip:%s@%s:%u>", ua->user, a, ua->sip_port);
		if (strcmp(s->method, "REGISTER") == 0)
			putf(w, ";expires=%" PRIu32, s->contact_expires);
		put(w, "\r\n");
	}
	if (strcmp(s->method, "INVITE") == 0 || strcmp(s->method, "OPTIONS") == 0)
		put(w, "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS\r\n");
	put(w, "User-Agent: " SIP_UA_AGENT "\r\n");
	if (s->extra)
		put(w, s->extra);
	if (s->body) {
		put(w, "Content-Type: application/sdp\r\n");
		putf(w, "Content-Length: %zu\r\n\r\n", strlen(s->body));
		put(w, s->body);
	} else {
		put(w, "Content-Length: 0\r\n\r\n");
	}
}

/* The Authorization / Proxy-Authorization line for a challenge (nc incremented). */
static void auth_line(struct sip_ua *ua, struct sip_chal *ch, const char *method, const char *uri,
		      char *out, size_t len)
{
	char nc[9], cnonce[17], resp[65];
	ch->nc++;
	snprintf(nc, sizeof(nc), "%08" PRIx32, ch->nc);
	rand_hex(cnonce, 8);
	if (sip_digest_response(ch->alg, ua->user, ch->realm, ua->password ? ua->password : "",
				ch->nonce, nc, cnonce, "auth", method, uri, resp) < 0) {
		out[0] = 0;
		return;
	}
	int n = snprintf(out, len,
			 "%s: Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", uri=\"%s\", "
			 "response=\"%s\", algorithm=%s, cnonce=\"%s\", qop=auth, nc=%s",
			 ch->proxy ? "Proxy-Authorization" : "Authorization", ua->user, ch->realm,
			 ch->nonce, uri, resp, ch->alg == SIP_DIGEST_SHA256 ? "SHA-256" : "MD5",
			 cnonce, nc);
	if (n > 0 && (size_t)n < len && ch->opaque[0])
		n += snprintf(out + n, len - (size_t)n, ", opaque=\"%s\"", ch->opaque);
	if (n > 0 && (size_t)n + 3 < len)
		snprintf(out + n, len - (size_t)n, "\r\n");
	else
		out[0] = 0;
}

/* Picks the best challenge of a 401/407 (SHA-256 before MD5, RFC 8760 2.4).  0 or -EINVAL
 * (none usable); *stale_same is set when the nonce is the one we used and not stale. */
static int take_challenge(osip_message_t *m, struct sip_chal *ch, bool *same_nonce)
{
	osip_list_t *l = m->status_code == 407 ? &m->proxy_authenticates : &m->www_authenticates;
	int best = -1;
	osip_www_authenticate_t *pick = NULL;
	for (int i = 0; i < osip_list_size(l); i++) {
		osip_www_authenticate_t *h = osip_list_get(l, i);
		char alg[32], qop[64];
		if (!h || !h->auth_type || strcasecmp(h->auth_type, "Digest") != 0 || !h->nonce ||
		    !h->realm)
			continue;
		unquote(h->algorithm, alg, sizeof(alg));
		unquote(h->qop_options, qop, sizeof(qop));
		if (qop[0] && !strstr(qop, "auth"))
			continue;
		int a = !alg[0] || strcasecmp(alg, "MD5") == 0 ? SIP_DIGEST_MD5
			: strcasecmp(alg, "SHA-256") == 0     ? SIP_DIGEST_SHA256
							       : -1;
		if (a > best) {
			best = a;
			pick = h;
		}
	}
	if (!pick)
		return -EINVAL;
	char nonce[256], stale[16];
	unquote(pick->nonce, nonce, sizeof(nonce));
	unquote(pick->stale, stale, sizeof(stale));
	*same_nonce = ch->have && strcmp(nonce, ch->nonce) == 0 && strcasecmp(stale, "true") != 0;
	ch->have = true;
	ch->proxy = m->status_code == 407;
	ch->alg = (enum sip_digest_alg)best;
	unquote(pick->realm, ch->realm, sizeof(ch->realm));
	snprintf(ch->nonce, sizeof(ch->nonce), "%s", nonce);
	unquote(pick->opaque, ch->opaque, sizeof(ch->opaque));
	ch->nc = 0;
	return 0;
}

/* ---- registration (10.2) ---- */

static void reg_send(struct sip_ua *ua, unsigned i, uint32_t expires, uint64_t now)
{
	struct sip_reg *r = &ua->regs[i];
	if (!ua->have_addr)
		return;
	/* a REGISTER still in flight is abandoned: the new one (higher CSeq) says it all */
	for (unsigned k = 0; k < SIP_MAX_TXN; k++)
		if (ua->ct[k].used && ua->ct[k].owner == OWN_REG && ua->ct[k].reg == i &&
		    ua->ct[k].st != CT_COMPLETED)
			ctxn_free(&ua->ct[k]);
	char ruri[140], aor[140], from[170], branch[40], extra[1400] = "";
	snprintf(ruri, sizeof(ruri), "sip:%s", ua->domain);
	snprintf(aor, sizeof(aor), "<%s>", ua->aor);
	snprintf(from, sizeof(from), "<%s>;tag=%s", ua->aor, r->from_tag);
	memcpy(branch, "z9hG4bK", 7);
	rand_hex(branch + 7, 10);
	r->cseq++;
	r->expires_req = expires;
	if (r->chal.have)
		auth_line(ua, &r->chal, "REGISTER", ruri, extra, sizeof(extra));
	if (expires && r->drop_old.family) {
		/* the binding of the old address goes in the same request (10.2.2) */
		char old[ROAM_ADDRSTRLEN];
		size_t n = strlen(extra);
		snprintf(extra + n, sizeof(extra) - n, "Contact: <sip:%s@%s:%u>;expires=0\r\n",
			 ua->user, roam_ipaddr_fmt(&r->drop_old, old, sizeof(old)), ua->sip_port);
	}
	if (r->natc && expires) {
		char old[ROAM_ADDRSTRLEN];
		size_t n = strlen(extra);
		snprintf(extra + n, sizeof(extra) - n,
			 "Require: " SIP_NATC_TAG "\r\n" SIP_NATC_HEADER ": <sip:%s@%s:%u>\r\n",
			 ua->user, roam_ipaddr_fmt(&r->natc_old, old, sizeof(old)), ua->sip_port);
	}
	struct req_spec s = { .method = "REGISTER", .ruri = ruri, .from = from, .to = aor,
			      .call_id = r->call_id, .cseq = r->cseq, .branch = branch,
			      .contact = true, .contact_expires = expires, .extra = extra };
	struct wbuf w;
	wbuf_init(&w);
	build_request(ua, &w, &s);
	struct sip_ctxn *t = ctxn_start(ua, &w, "REGISTER", branch, r->cseq, &r->server, now);
	if (!t) {
		r->state = SIP_REG_FAILED;
		r->refresh_at = now + REG_RETRY_MS;
		return;
	}
	t->owner = OWN_REG;
	t->reg = i;
	t->natc = r->natc && expires;
	if (r->state != SIP_REG_OK)
		r->state = SIP_REG_PENDING;
	r->refresh_at = 0;
	ua->stats.tx_register++;
}

void sip_ua_register(struct sip_ua *ua, uint32_t expires, uint64_t now)
{
	for (unsigned i = 0; i < ua->nregs; i++) {
		ua->regs[i].auth_tries = 0;
		reg_send(ua, i, expires, now);
	}
}

static void reinvite_all(struct sip_ua *ua, uint64_t now)
{
	for (unsigned i = 0; i < SIP_MAX_CALLS; i++)
		if (ua->calls[i].used && ua->calls[i].state == SIP_CALL_CONFIRMED)
			(void)sip_ua_reinvite(ua, &ua->calls[i], now);
}

static void natc_done(struct sip_ua *ua, unsigned i, enum sip_natc_result res, uint64_t now)
{
	struct sip_reg *r = &ua->regs[i];
	r->natc = false;
	if (res == SIP_NATC_ACCEPTED)
		ua->stats.natc_accepted++;
	else
		ua->stats.natc_refused++;
	if (ua->io->natc_result)
		ua->io->natc_result(ua->arg, i, &r->natc_old, &ua->addr, res);
	if (res == SIP_NATC_REFUSED && !ua->natc_refused_move) {
		/* the extension is not there: plain terminal mobility (sip-mobility.md 3) */
		ua->natc_refused_move = true;
		reinvite_all(ua, now);
	}
}

/* Expiry granted for our contact: its expires parameter, else the Expires header. */
static uint32_t granted_expires(struct sip_ua *ua, osip_message_t *m, uint32_t asked)
{
	char a[ROAM_ADDRSTRLEN + 2];
	addr_str(ua, a, sizeof(a));
	for (int i = 0; i < osip_list_size(&m->contacts); i++) {
		osip_contact_t *c = osip_list_get(&m->contacts, i);
		osip_generic_param_t *e = NULL;
		if (!c || !c->url || !c->url->host || strcmp(c->url->host, a) != 0)
			continue;
		long p = c->url->port ? strtol(c->url->port, NULL, 10) : 5060;
		if (p != ua->sip_port)
			continue;
		if (osip_contact_param_get_byname(c, "expires", &e) == 0 && e && e->gvalue)
			return (uint32_t)strtoul(e->gvalue, NULL, 10);
	}
	osip_header_t *h = NULL;
	if (osip_message_header_get_byname(m, "expires", 0, &h) >= 0 && h && h->hvalue)
		return (uint32_t)strtoul(h->hvalue, NULL, 10);
	return asked;
}

static void reg_final(struct sip_ua *ua, struct sip_ctxn *t, osip_message_t *m, uint64_t now)
{
	unsigned i = t->reg;
	struct sip_reg *r = &ua->regs[i];
	int code = m ? m->status_code : 408;
	r->last_code = code;
	if (code >= 200 && code < 300) {
		ua->stats.rx_register_ok++;
		r->auth_tries = 0;
		if (r->expires_req == 0) {
			r->state = SIP_REG_IDLE;
			return;
		}
		r->state = SIP_REG_OK;
		r->registered_ms = now;
		r->drop_old.family = 0;
		r->granted = granted_expires(ua, m, r->expires_req);
		if (r->granted == 0)
			r->granted = r->expires_req;
		/* refresh when 80 % of the lifetime has passed (at least 5 s before expiry) */
		uint64_t life = (uint64_t)r->granted * 1000;
		uint64_t at = life * 4 / 5;
		if (life > 10000 && life - at < 5000)
			at = life - 5000;
		r->refresh_at = now + (at ? at : 1000);
		if (t->natc) {
			osip_header_t *h = NULL;
			bool echoed = osip_message_header_get_byname(m, SIP_NATC_HEADER, 0, &h) >= 0;
			natc_done(ua, i, echoed ? SIP_NATC_ACCEPTED : SIP_NATC_REFUSED, now);
			if (!echoed) /* a server that ignored the claim: plain re-REGISTER (3.2) */
				reg_send(ua, i, r->expires_req, now);
		}
		return;
	}
	if ((code == 401 || code == 407) && ua->password) {
		bool same = false;
		ua->stats.rx_register_challenge++;
		if (take_challenge(m, &r->chal, &same) == 0 && !same && r->auth_tries < 3) {
			r->auth_tries++;
			reg_send(ua, i, r->expires_req, now);
			return;
		}
	}
	if (t->natc && code != 408) {
		/* 420 (extension unknown), 403 (claim refused), anything else: without the claim */
		natc_done(ua, i, SIP_NATC_REFUSED, now);
		reg_send(ua, i, r->expires_req, now);
		return;
	}
	if (code == 423) { /* Interval Too Brief: take Min-Expires */
		osip_header_t *h = NULL;
		if (osip_message_header_get_byname(m, "min-expires", 0, &h) >= 0 && h && h->hvalue) {
			uint32_t me = (uint32_t)strtoul(h->hvalue, NULL, 10);
			if (me > r->expires_req && me <= 86400) {
				reg_send(ua, i, me, now);
				return;
			}
		}
	}
	ua->stats.register_failures++;
	r->state = SIP_REG_FAILED;
	r->refresh_at = now + REG_RETRY_MS;
	log_warnx("sip: REGISTER %s: %d", ua->aor, code);
}

/* ---- calls ---- */

static struct sip_call *call_new(struct sip_ua *ua)
{
	for (unsigned i = 0; i < SIP_MAX_CALLS; i++) {
		struct sip_call *c = &ua->calls[i];
		if (c->used)
			continue;
		memset(c, 0, sizeof(*c));
		c->used = true;
		c->id = ++ua->next_call_id;
		c->local_media_port = (uint16_t)(ua->media_port + 2 * i);
		c->sdp_sess = rand_u32();
		c->sdp_version = 1;
		rand_hex(c->local_tag, 8);
		ua->reinvite_at[i] = 0;
		return c;
	}
	return NULL;
}

/* Next hop of an in-dialog request: the first Route, else the remote target (12.2.1.1). */
static int dialog_next_hop(const struct sip_call *c, struct roam_sockaddr *dst)
{
	return uri_target(c->nroute ? c->route[0] : c->remote_target, dst);
}

static int send_invite(struct sip_ua *ua, struct sip_call *c, bool reinvite, uint64_t now)
{
	char from[200], to[340], branch[40], sdp[512], extra[1400] = "";
	struct roam_sockaddr dst;
	if (!ua->have_addr)
		return -EAGAIN;
	if (reinvite) {
		if (dialog_next_hop(c, &dst) < 0)
			return -EINVAL;
	} else if (ua->nregs) {
		dst = ua->regs[0].server;
	} else if (uri_target(c->remote_target, &dst) < 0) {
		return -EINVAL;
	}
	snprintf(from, sizeof(from), "<%s>;tag=%s", c->local_uri, c->local_tag);
	if (c->remote_tag[0])
		snprintf(to, sizeof(to), "<%s>;tag=%s", c->remote_uri, c->remote_tag);
	else
		snprintf(to, sizeof(to), "<%s>", c->remote_uri);
	memcpy(branch, "z9hG4bK", 7);
	rand_hex(branch + 7, 10);
	if (sip_sdp_build(sdp, sizeof(sdp), &ua->addr, c->local_media_port, c->sdp_sess,
			  c->sdp_version) < 0)
		return -ENOSPC;
	if (!reinvite && ua->proxy_chal.have)
		auth_line(ua, &ua->proxy_chal, "INVITE", c->remote_target, extra, sizeof(extra));
	c->local_cseq++;
	struct req_spec s = { .method = "INVITE", .ruri = c->remote_target, .from = from, .to = to,
			      .call_id = c->call_id, .cseq = c->local_cseq, .branch = branch,
			      .route = reinvite ? c->route : NULL, .nroute = reinvite ? c->nroute : 0,
			      .contact = true, .extra = extra, .body = sdp };
	struct wbuf w;
	wbuf_init(&w);
	build_request(ua, &w, &s);
	struct sip_ctxn *t = ctxn_start(ua, &w, "INVITE", branch, c->local_cseq, &dst, now);
	if (!t)
		return -EBUSY;
	t->owner = OWN_CALL;
	t->call = c->id;
	t->reinvite = reinvite;
	if (reinvite) {
		c->reinvite_pending = true;
		c->reinvites_sent++;
		ua->stats.tx_reinvite++;
	} else {
		ua->stats.tx_invite++;
	}
	return 0;
}

int sip_ua_call(struct sip_ua *ua, const char *uri, uint64_t now, struct sip_call **out)
{
	struct roam_sockaddr dst;
	if (!ua->have_addr)
		return -EAGAIN;
	if (strncmp(uri, "sip:", 4) != 0 || strlen(uri) >= sizeof(((struct sip_call *)0)->remote_uri) ||
	    strpbrk(uri, " <>\"\r\n") || (!ua->nregs && uri_target(uri, &dst) < 0))
		return -EINVAL;
	struct sip_call *c = call_new(ua);
	if (!c)
		return -EBUSY;
	char a[ROAM_ADDRSTRLEN + 2], rnd[25];
	rand_hex(rnd, 12);
	snprintf(c->call_id, sizeof(c->call_id), "%s@%s", rnd, addr_str(ua, a, sizeof(a)));
	snprintf(c->local_uri, sizeof(c->local_uri), "%s", ua->aor);
	snprintf(c->remote_uri, sizeof(c->remote_uri), "%s", uri);
	snprintf(c->remote_target, sizeof(c->remote_target), "%s", uri);
	c->outgoing = true;
	c->state = SIP_CALL_CALLING;
	c->started_ms = now;
	c->auth_tries = 0;
	int r = send_invite(ua, c, false, now);
	if (r < 0) {
		memset(c, 0, sizeof(*c));
		return r;
	}
	*out = c;
	return 0;
}

int sip_ua_reinvite(struct sip_ua *ua, struct sip_call *c, uint64_t now)
{
	if (c->state != SIP_CALL_CONFIRMED)
		return -EINVAL;
	if (c->reinvite_pending) { /* 14.1: one at a time; send the newest when this one ends */
		c->reinvite_again = true;
		return 0;
	}
	c->sdp_version++;
	int r = send_invite(ua, c, true, now);
	if (r < 0)
		ua->reinvite_at[c - ua->calls] = now + REINVITE_RETRY_MS;
	return r;
}

static void send_in_dialog(struct sip_ua *ua, struct sip_call *c, const char *method,
			   uint32_t cseq, uint64_t now, bool txn)
{
	char from[200], to[340], branch[40];
	struct roam_sockaddr dst;
	if (dialog_next_hop(c, &dst) < 0)
		return;
	snprintf(from, sizeof(from), "<%s>;tag=%s", c->local_uri, c->local_tag);
	snprintf(to, sizeof(to), "<%s>;tag=%s", c->remote_uri, c->remote_tag);
	memcpy(branch, "z9hG4bK", 7);
	rand_hex(branch + 7, 10);
	struct req_spec s = { .method = method, .ruri = c->remote_target, .from = from, .to = to,
			      .call_id = c->call_id, .cseq = cseq, .branch = branch,
			      .route = c->route, .nroute = c->nroute };
	struct wbuf w;
	wbuf_init(&w);
	build_request(ua, &w, &s);
	if (txn) {
		(void)ctxn_start(ua, &w, method, branch, cseq, &dst, now);
		return;
	}
	/* the ACK of a 2xx: no transaction, kept for re-sending on a 2xx retransmission */
	if (!w.err && w.len < sizeof(c->last_ack)) {
		memcpy(c->last_ack, w.buf, w.len);
		c->last_ack_len = w.len;
		c->acked_cseq = cseq;
		c->ack_dst = dst;
		(void)ua_send(ua, &dst, c->last_ack, c->last_ack_len);
		ua->stats.tx_ack++;
	}
	wbuf_free(&w);
}

int sip_ua_hangup(struct sip_ua *ua, struct sip_call *c, uint64_t now)
{
	if (!c || !c->used)
		return -ENOENT;
	if (c->state == SIP_CALL_CONFIRMED) {
		c->local_cseq++;
		send_in_dialog(ua, c, "BYE", c->local_cseq, now, true);
		ua->stats.tx_bye++;
	}
	/* a call still ringing: the INVITE transaction is forgotten; a late 2xx gets a BYE
	 * (no dialog matches it: see response handling) */
	for (unsigned k = 0; k < SIP_MAX_TXN; k++)
		if (ua->ct[k].used && ua->ct[k].owner == OWN_CALL && ua->ct[k].call == c->id &&
		    strcmp(ua->ct[k].method, "BYE") != 0)
			ua->ct[k].owner = OWN_NONE;
	call_end(ua, c);
	return 0;
}

/* Route set from the Record-Route of m: in order (UAS) or reversed (UAC), 12.1.1 / 12.1.2. */
static void take_route_set(struct sip_call *c, osip_message_t *m, bool reverse)
{
	int n = osip_list_size(&m->record_routes);
	c->nroute = 0;
	for (int i = 0; i < n && c->nroute < 4; i++) {
		osip_record_route_t *rr = osip_list_get(&m->record_routes, reverse ? n - 1 - i : i);
		char *s = NULL;
		if (rr && osip_record_route_to_str(rr, &s) == 0 && s && strlen(s) < 256)
			snprintf(c->route[c->nroute++], 256, "%s", s);
		osip_free(s);
	}
}

static void take_contact(struct sip_call *c, osip_message_t *m)
{
	osip_contact_t *ct = NULL;
	char *s = NULL;
	if (osip_message_get_contact(m, 0, &ct) < 0 || !ct || !ct->url)
		return;
	if (osip_uri_to_str(ct->url, &s) == 0 && s && strlen(s) < sizeof(c->remote_target))
		snprintf(c->remote_target, sizeof(c->remote_target), "%s", s);
	osip_free(s);
}

/* The SDP of m, if any, into c->peer_media; true when it changed. */
static bool take_sdp(struct sip_call *c, osip_message_t *m, bool *ok)
{
	osip_body_t *b = NULL;
	struct roam_sockaddr sa;
	*ok = false;
	if (osip_message_get_body(m, 0, &b) < 0 || !b || !b->body)
		return false;
	if (sip_sdp_parse(b->body, b->length, &sa) < 0)
		return false;
	*ok = true;
	if (roam_sockaddr_eq(&sa, &c->peer_media))
		return false;
	c->peer_media = sa;
	return true;
}

static void invite_final(struct sip_ua *ua, struct sip_ctxn *t, osip_message_t *m, uint64_t now)
{
	struct sip_call *c = call_by_id(ua, t->call);
	int code = m ? m->status_code : 408;
	if (!c)
		return;
	if (code >= 200 && code < 300) {
		bool ok;
		osip_generic_param_t *tag = NULL;
		take_contact(c, m);
		if (!t->reinvite) {
			if (m->to && osip_to_get_tag(m->to, &tag) == 0 && tag && tag->gvalue)
				snprintf(c->remote_tag, sizeof(c->remote_tag), "%s", tag->gvalue);
			take_route_set(c, m, true);
			take_sdp(c, m, &ok);
			c->state = SIP_CALL_CONFIRMED;
			c->established_ms = now;
			send_in_dialog(ua, c, "ACK", t->cseq, now, false);
			ua->io->call_event(ua->arg, c, SIP_CALL_EV_ESTABLISHED);
		} else {
			bool changed = take_sdp(c, m, &ok);
			send_in_dialog(ua, c, "ACK", t->cseq, now, false);
			if (changed)
				ua->io->call_event(ua->arg, c, SIP_CALL_EV_MEDIA);
		}
	} else if (!t->reinvite) {
		bool same = false;
		if ((code == 401 || code == 407) && ua->password && c->auth_tries < 2 &&
		    take_challenge(m, &ua->proxy_chal, &same) == 0 && !same) {
			c->auth_tries++;
			if (send_invite(ua, c, false, now) == 0)
				return;
		}
		log_info("sip: call %u to %s failed: %d", c->id, c->remote_uri, code);
		call_end(ua, c);
		return;
	} else if (code == 481 || (code == 408 && !m)) {
		/* 14.1: the dialog is gone (481) -- a timed-out re-INVITE is retried instead: right
		 * after a move the path may take a moment */
		if (code == 481) {
			call_end(ua, c);
			return;
		}
		ua->reinvite_at[c - ua->calls] = now + REINVITE_RETRY_MS;
	} else if (code == 491) {
		ua->reinvite_at[c - ua->calls] = now + 2100 + rand_u32() % 1900;
	}
	if (t->reinvite) {
		c->reinvite_pending = false;
		if (c->reinvite_again) {
			c->reinvite_again = false;
			(void)sip_ua_reinvite(ua, c, now);
		}
	}
}

/* 17.1.1.3: the ACK of a non-2xx final, in the INVITE's transaction (same branch). */
static void ack_non2xx(struct sip_ua *ua, struct sip_ctxn *t, osip_message_t *m)
{
	if (!t->ack) {
		/* the request line, Via, From, Call-ID, Route of the INVITE; To of the response */
		osip_message_t *req = NULL;
		char *to = NULL;
		if (osip_message_init(&req) != 0)
			return;
		if (osip_message_parse(req, t->msg, t->len) != 0 || !m->to ||
		    osip_to_to_str(m->to, &to) != 0) {
			osip_message_free(req);
			return;
		}
		struct wbuf w;
		char *ruri = NULL, *via = NULL, *from = NULL;
		osip_via_t *v = NULL;
		osip_message_get_via(req, 0, &v);
		osip_uri_to_str(req->req_uri, &ruri);
		if (v)
			osip_via_to_str(v, &via);
		osip_from_to_str(req->from, &from);
		wbuf_init(&w);
		putf(&w, "ACK %s SIP/2.0\r\nVia: %s\r\nMax-Forwards: 70\r\nFrom: %s\r\nTo: %s\r\n"
			 "Call-ID: %s@%s\r\nCSeq: %" PRIu32 " ACK\r\n",
		     ruri ? ruri : "", via ? via : "", from ? from : "", to,
		     req->call_id->number, req->call_id->host ? req->call_id->host : "", t->cseq);
		for (int i = 0; i < osip_list_size(&req->routes); i++) {
			char *rs = NULL;
			if (osip_route_to_str(osip_list_get(&req->routes, i), &rs) == 0 && rs)
				putf(&w, "Route: %s\r\n", rs);
			osip_free(rs);
		}
		put(&w, "Content-Length: 0\r\n\r\n");
		osip_free(ruri);
		osip_free(via);
		osip_free(from);
		osip_free(to);
		osip_message_free(req);
		if (w.err) {
			wbuf_free(&w);
			return;
		}
		t->ack = (char *)w.buf;
		t->ack_len = w.len;
	}
	(void)ua_send(ua, &t->dst, t->ack, t->ack_len);
	ua->stats.tx_ack++;
}

/* A final (or timeout: m NULL) for a client transaction: to its owner. */
static void ctxn_deliver(struct sip_ua *ua, struct sip_ctxn *t, osip_message_t *m, uint64_t now)
{
	if (t->owner == OWN_REG)
		reg_final(ua, t, m, now);
	else if (t->owner == OWN_CALL && t->invite)
		invite_final(ua, t, m, now);
}

static void on_response(struct sip_ua *ua, osip_message_t *m, uint64_t now)
{
	osip_via_t *v = NULL;
	osip_generic_param_t *br = NULL;
	if (osip_message_get_via(m, 0, &v) < 0 || !v ||
	    osip_via_param_get_byname(v, "branch", &br) != 0 || !br || !br->gvalue || !m->cseq ||
	    !m->cseq->method)
		goto stray;
	struct sip_ctxn *t = NULL;
	for (unsigned i = 0; i < SIP_MAX_TXN; i++)
		if (ua->ct[i].used && strcmp(ua->ct[i].branch, br->gvalue) == 0 &&
		    strcasecmp(ua->ct[i].method, m->cseq->method) == 0) {
			t = &ua->ct[i];
			break;
		}
	int code = m->status_code;
	if (!t) {
		/* 2xx retransmission of an INVITE whose transaction ended: re-ACK (13.2.2.4) */
		if (code >= 200 && code < 300 && strcasecmp(m->cseq->method, "INVITE") == 0 &&
		    m->call_id && m->call_id->number) {
			uint32_t cseq = (uint32_t)strtoul(m->cseq->number, NULL, 10);
			for (unsigned i = 0; i < SIP_MAX_CALLS; i++) {
				struct sip_call *c = &ua->calls[i];
				char cid[128];
				snprintf(cid, sizeof(cid), "%s%s%s", m->call_id->number,
					 m->call_id->host ? "@" : "",
					 m->call_id->host ? m->call_id->host : "");
				if (c->used && strcmp(c->call_id, cid) == 0 && c->acked_cseq == cseq &&
				    c->last_ack_len) {
					(void)ua_send(ua, &c->ack_dst, c->last_ack, c->last_ack_len);
					ua->stats.tx_ack++;
					return;
				}
			}
		}
		goto stray;
	}
	if (code < 200) {
		if (t->st == CT_TRYING) {
			t->st = CT_PROCEEDING;
			if (!t->invite)
				t->interval = SIP_T2_MS;
		}
		return;
	}
	if (t->st == CT_COMPLETED) { /* a retransmitted final: absorbed (INVITE: ACK again) */
		if (t->invite && code >= 300)
			ack_non2xx(ua, t, m);
		return;
	}
	if (t->invite && code >= 300)
		ack_non2xx(ua, t, m);
	bool invite_2xx = t->invite && code < 300;
	t->st = CT_COMPLETED;
	t->end = now + (t->invite ? 32000 : SIP_T4_MS);
	ctxn_deliver(ua, t, m, now);
	if (invite_2xx) /* 17.1.1.2: the transaction ends on a 2xx; the dialog ACKs */
		ctxn_free(t);
	return;
stray:
	ua->stats.drop_stray_response++;
}

/* ---- server side ---- */

static struct sip_stxn *stxn_find(struct sip_ua *ua, const char *branch, const char *method)
{
	for (unsigned i = 0; i < SIP_MAX_TXN; i++)
		if (ua->st[i].used && strcmp(ua->st[i].branch, branch) == 0 &&
		    strcasecmp(ua->st[i].method, method) == 0)
			return &ua->st[i];
	return NULL;
}

static void stxn_free(struct sip_stxn *s)
{
	free(s->resp);
	memset(s, 0, sizeof(*s));
}

/* Builds the response to req with libosip2 (8.2.6): Via list, From, To (+ tag), Call-ID,
 * CSeq copied; Contact, Record-Route and the SDP body for an INVITE 2xx. */
static int build_response(struct sip_ua *ua, osip_message_t *req, int code, const char *tag,
			  const char *sdp, char **out, size_t *outlen)
{
	osip_message_t *resp = NULL;
	char *text = NULL;
	size_t len = 0;
	int rc = -ENOMEM;
	if (osip_message_init(&resp) != 0)
		return -ENOMEM;
	osip_message_set_version(resp, osip_strdup("SIP/2.0"));
	osip_message_set_status_code(resp, code);
	const char *reason = osip_message_get_reason(code);
	osip_message_set_reason_phrase(resp, osip_strdup(reason ? reason : "Unknown"));
	if (osip_list_clone(&req->vias, &resp->vias, (int (*)(void *, void **))&osip_via_clone) != 0 ||
	    osip_from_clone(req->from, &resp->from) != 0 || osip_to_clone(req->to, &resp->to) != 0 ||
	    osip_call_id_clone(req->call_id, &resp->call_id) != 0 ||
	    osip_cseq_clone(req->cseq, &resp->cseq) != 0)
		goto out;
	osip_generic_param_t *t = NULL;
	if (tag && osip_to_get_tag(resp->to, &t) != 0)
		osip_to_set_tag(resp->to, osip_strdup(tag));
	if (code >= 200 && code < 300 && strcmp(req->cseq->method, "INVITE") == 0) {
		char a[ROAM_ADDRSTRLEN + 2], ct[200];
		addr_str(ua, a, sizeof(a));
		snprintf(ct, sizeof(ct), "<sip:%s@%s:%u>", ua->user, a, ua->sip_port);
		osip_message_set_contact(resp, ct);
		osip_list_clone(&req->record_routes, &resp->record_routes,
				(int (*)(void *, void **))&osip_record_route_clone);
	}
	if (code == 405 || code == 200)
		osip_message_set_header(resp, "Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS");
	osip_message_set_header(resp, "Server", SIP_UA_AGENT);
	if (sdp) {
		osip_message_set_content_type(resp, "application/sdp");
		osip_message_set_body(resp, sdp, strlen(sdp));
	}
	if (osip_message_to_str(resp, &text, &len) != 0 || !text)
		goto out;
	*out = malloc(len);
	if (*out) {
		memcpy(*out, text, len);
		*outlen = len;
		rc = 0;
	}
out:
	osip_free(text);
	osip_message_free(resp);
	return rc;
}

/* Answers req (and keeps the answer in a server transaction for retransmissions). */
static void respond(struct sip_ua *ua, osip_message_t *req, const char *branch,
		    const struct roam_sockaddr *src, int code, const char *tag, const char *sdp,
		    unsigned call, uint64_t now)
{
	char *text = NULL;
	size_t len = 0;
	if (build_response(ua, req, code, tag, sdp, &text, &len) < 0)
		return;
	(void)ua_send(ua, src, text, len);
	bool invite = strcmp(req->cseq->method, "INVITE") == 0;
	struct sip_stxn *s = NULL;
	if (branch && strncmp(branch, "z9hG4bK", 7) == 0 && strlen(branch) < sizeof(s->branch) &&
	    strcmp(req->cseq->method, "ACK") != 0) {
		for (unsigned i = 0; i < SIP_MAX_TXN && !s; i++)
			if (!ua->st[i].used)
				s = &ua->st[i];
		if (!s) { /* full: the oldest one goes */
			s = &ua->st[0];
			for (unsigned i = 1; i < SIP_MAX_TXN; i++)
				if (ua->st[i].end < s->end)
					s = &ua->st[i];
			stxn_free(s);
		}
	}
	if (!s) {
		free(text);
		return;
	}
	s->used = true;
	s->invite = invite;
	snprintf(s->branch, sizeof(s->branch), "%s", branch);
	snprintf(s->method, sizeof(s->method), "%s", req->cseq->method);
	s->cseq = (uint32_t)strtoul(req->cseq->number, NULL, 10);
	s->resp = text;
	s->len = len;
	s->dst = *src;
	s->call = call;
	s->acked = !(invite && code >= 200 && code < 300);
	s->interval = SIP_T1_MS;
	s->next_rtx = now + SIP_T1_MS;
	s->deadline = now + TIMER_64T1;
	s->end = now + TIMER_64T1; /* Timer J / H */
}

static struct sip_call *dialog_of(struct sip_ua *ua, osip_message_t *m)
{
	osip_generic_param_t *tt = NULL, *ft = NULL;
	char cid[128];
	if (!m->to || osip_to_get_tag(m->to, &tt) != 0 || !tt || !tt->gvalue || !m->from ||
	    osip_from_get_tag(m->from, &ft) != 0 || !ft || !ft->gvalue)
		return NULL;
	snprintf(cid, sizeof(cid), "%s%s%s", m->call_id->number, m->call_id->host ? "@" : "",
		 m->call_id->host ? m->call_id->host : "");
	for (unsigned i = 0; i < SIP_MAX_CALLS; i++) {
		struct sip_call *c = &ua->calls[i];
		if (c->used && strcmp(c->call_id, cid) == 0 && strcmp(c->local_tag, tt->gvalue) == 0 &&
		    strcmp(c->remote_tag, ft->gvalue) == 0)
			return c;
	}
	return NULL;
}

static void on_invite(struct sip_ua *ua, osip_message_t *m, const char *branch,
		      const struct roam_sockaddr *src, uint64_t now)
{
	char sdp[512];
	bool ok;
	osip_generic_param_t *tt = NULL;
	uint32_t cseq = (uint32_t)strtoul(m->cseq->number, NULL, 10);
	bool has_tag = osip_to_get_tag(m->to, &tt) == 0 && tt && tt->gvalue;
	if (has_tag) { /* re-INVITE (14.2) */
		struct sip_call *c = dialog_of(ua, m);
		if (!c) {
			ua->stats.drop_no_dialog++;
			respond(ua, m, branch, src, 481, NULL, NULL, 0, now);
			return;
		}
		if (cseq <= c->remote_cseq) {
			respond(ua, m, branch, src, 500, NULL, NULL, c->id, now);
			return;
		}
		c->remote_cseq = cseq;
		if (c->reinvite_pending) { /* glare, 14.2 */
			respond(ua, m, branch, src, 491, NULL, NULL, c->id, now);
			return;
		}
		ua->stats.rx_reinvite++;
		c->reinvites_rcvd++;
		take_contact(c, m);
		bool changed = take_sdp(c, m, &ok);
		if (!ok) {
			respond(ua, m, branch, src, 488, NULL, NULL, c->id, now);
			return;
		}
		if (sip_sdp_build(sdp, sizeof(sdp), &ua->addr, c->local_media_port, c->sdp_sess,
				  c->sdp_version) < 0)
			return;
		respond(ua, m, branch, src, 200, NULL, sdp, c->id, now);
		if (changed)
			ua->io->call_event(ua->arg, c, SIP_CALL_EV_MEDIA);
		return;
	}
	ua->stats.rx_invite++;
	osip_generic_param_t *ft = NULL;
	if (osip_from_get_tag(m->from, &ft) != 0 || !ft || !ft->gvalue) {
		ua->stats.drop_bad_request++;
		respond(ua, m, branch, src, 400, NULL, NULL, 0, now);
		return;
	}
	struct sip_call *c = call_new(ua);
	if (!c) {
		respond(ua, m, branch, src, 486, NULL, NULL, 0, now);
		return;
	}
	take_sdp(c, m, &ok);
	if (!ok) { /* offerless INVITE is not supported: 488 */
		char tag[24];
		snprintf(tag, sizeof(tag), "%s", c->local_tag);
		memset(c, 0, sizeof(*c));
		respond(ua, m, branch, src, 488, tag, NULL, 0, now);
		return;
	}
	char *s = NULL;
	snprintf(c->call_id, sizeof(c->call_id), "%s%s%s", m->call_id->number,
		 m->call_id->host ? "@" : "", m->call_id->host ? m->call_id->host : "");
	snprintf(c->remote_tag, sizeof(c->remote_tag), "%s", ft->gvalue);
	if (m->from->url && osip_uri_to_str(m->from->url, &s) == 0 && s)
		snprintf(c->remote_uri, sizeof(c->remote_uri), "%s", s);
	osip_free(s);
	s = NULL;
	if (m->to->url && osip_uri_to_str(m->to->url, &s) == 0 && s)
		snprintf(c->local_uri, sizeof(c->local_uri), "%s", s);
	osip_free(s);
	snprintf(c->remote_target, sizeof(c->remote_target), "%s", c->remote_uri);
	take_contact(c, m);
	take_route_set(c, m, false);
	c->remote_cseq = cseq;
	c->local_cseq = rand_u32() % 1000 + 1;
	c->state = SIP_CALL_CONFIRMED; /* answered at once; the ACK is awaited by the txn */
	c->started_ms = c->established_ms = now;
	if (sip_sdp_build(sdp, sizeof(sdp), &ua->addr, c->local_media_port, c->sdp_sess,
			  c->sdp_version) < 0)
		return;
	respond(ua, m, branch, src, 200, c->local_tag, sdp, c->id, now);
	ua->io->call_event(ua->arg, c, SIP_CALL_EV_ESTABLISHED);
}

static void on_request(struct sip_ua *ua, osip_message_t *m, const struct roam_sockaddr *src,
		       uint64_t now)
{
	osip_via_t *v = NULL;
	osip_generic_param_t *br = NULL;
	const char *method = m->sip_method;
	if (osip_message_get_via(m, 0, &v) < 0 || !v || !m->cseq->method ||
	    strcasecmp(m->cseq->method, method) != 0 || !m->cseq->number)
		goto bad;
	osip_via_param_get_byname(v, "branch", &br);
	const char *branch = br && br->gvalue ? br->gvalue : NULL;
	if (strcmp(method, "ACK") == 0) {
		struct sip_call *c = dialog_of(ua, m);
		ua->stats.rx_ack++;
		uint32_t cseq = (uint32_t)strtoul(m->cseq->number, NULL, 10);
		for (unsigned i = 0; i < SIP_MAX_TXN; i++) {
			struct sip_stxn *s = &ua->st[i];
			if (s->used && s->invite && (branch && strcmp(s->branch, branch) == 0 ?
						      true : (c && s->call == c->id && s->cseq == cseq)))
				s->acked = true;
		}
		if (c) {
			bool ok;
			if (take_sdp(c, m, &ok))
				ua->io->call_event(ua->arg, c, SIP_CALL_EV_MEDIA);
		}
		return;
	}
	/* a retransmission: the same answer again (17.2.1, 17.2.2) */
	struct sip_stxn *s = branch ? stxn_find(ua, branch, method) : NULL;
	if (s) {
		(void)ua_send(ua, &s->dst, s->resp, s->len);
		ua->stats.retransmissions++;
		return;
	}
	if (strcmp(method, "INVITE") == 0) {
		on_invite(ua, m, branch, src, now);
	} else if (strcmp(method, "BYE") == 0) {
		struct sip_call *c = dialog_of(ua, m);
		if (!c) {
			ua->stats.drop_no_dialog++;
			respond(ua, m, branch, src, 481, NULL, NULL, 0, now);
			return;
		}
		ua->stats.rx_bye++;
		respond(ua, m, branch, src, 200, NULL, NULL, c->id, now);
		call_end(ua, c);
	} else if (strcmp(method, "OPTIONS") == 0) {
		char tag[17];
		rand_hex(tag, 8);
		respond(ua, m, branch, src, 200, tag, NULL, 0, now);
	} else if (strcmp(method, "CANCEL") == 0) {
		/* INVITEs are answered at once: a CANCEL finds nothing left to cancel (9.2) */
		bool known = branch && stxn_find(ua, branch, "INVITE");
		respond(ua, m, branch, src, known ? 200 : 481, NULL, NULL, 0, now);
	} else {
		char tag[17];
		rand_hex(tag, 8);
		respond(ua, m, branch, src, 405, tag, NULL, 0, now);
	}
	return;
bad:
	ua->stats.drop_bad_request++;
}

void sip_ua_input(struct sip_ua *ua, const void *data, size_t len,
		  const struct roam_sockaddr *src, uint64_t now)
{
	osip_message_t *m = NULL;
	ua->stats.rx_messages++;
	if (len == 0 || len > 65535 || memchr(data, 0, len))
		goto drop;
	/* CRLF keep-alives (RFC 5626 4.4.1) are ignored */
	size_t ws = 0;
	while (ws < len && (((const char *)data)[ws] == '\r' || ((const char *)data)[ws] == '\n'))
		ws++;
	if (ws == len)
		return;
	if (osip_message_init(&m) != 0)
		goto drop;
	if (osip_message_parse(m, (const char *)data + ws, len - ws) != 0 || !m->call_id ||
	    !m->call_id->number || !m->cseq || !m->cseq->number || !m->from || !m->to)
		goto drop;
	if (MSG_IS_RESPONSE(m)) {
		if (m->status_code < 100 || m->status_code > 699)
			goto drop;
		on_response(ua, m, now);
	} else if (m->sip_method && m->req_uri) {
		on_request(ua, m, src, now);
	} else {
		goto drop;
	}
	osip_message_free(m);
	return;
drop:
	ua->stats.drop_unparseable++;
	if (m)
		osip_message_free(m);
}

/* ---- timers ---- */

void sip_ua_tick(struct sip_ua *ua, uint64_t now)
{
	for (unsigned i = 0; i < SIP_MAX_TXN; i++) {
		struct sip_ctxn *t = &ua->ct[i];
		if (!t->used)
			continue;
		if (t->st == CT_COMPLETED) {
			if (now >= t->end) /* Timer D / K */
				ctxn_free(t);
			continue;
		}
		if (now >= t->deadline) { /* Timer B / F */
			ua->stats.timeouts++;
			t->st = CT_COMPLETED;
			ctxn_deliver(ua, t, NULL, now);
			ctxn_free(t);
			continue;
		}
		/* Timer A (INVITE, doubling) while trying; Timer E (non-INVITE, capped at T2) */
		if (now >= t->next_rtx && (t->st == CT_TRYING || !t->invite)) {
			if (ua_send(ua, &t->dst, t->msg, t->len) < 0) {
				t->next_rtx = now + SIP_LOCAL_RETRY_MS;
				continue;
			}
			if (!t->sent) { /* the first transmission, late: Timer A / E start now */
				t->sent = true;
				t->next_rtx = now + t->interval;
				continue;
			}
			ua->stats.retransmissions++;
			t->interval = t->invite ? t->interval * 2
				    : (t->interval * 2 < SIP_T2_MS ? t->interval * 2 : SIP_T2_MS);
			t->next_rtx = now + t->interval;
		}
	}
	for (unsigned i = 0; i < SIP_MAX_TXN; i++) {
		struct sip_stxn *s = &ua->st[i];
		if (!s->used)
			continue;
		if (!s->acked) { /* 13.3.1.4: the 2xx again, T1 doubling to T2, until the ACK */
			if (now >= s->deadline) {
				struct sip_call *c = call_by_id(ua, s->call);
				s->acked = true;
				ua->stats.timeouts++;
				if (c) /* no ACK: the dialog is ended with a BYE */
					(void)sip_ua_hangup(ua, c, now);
			} else if (now >= s->next_rtx) {
				(void)ua_send(ua, &s->dst, s->resp, s->len);
				ua->stats.retransmissions++;
				s->interval = s->interval * 2 < SIP_T2_MS ? s->interval * 2 : SIP_T2_MS;
				s->next_rtx = now + s->interval;
			}
		}
		if (s->acked && now >= s->end)
			stxn_free(s);
	}
	for (unsigned i = 0; i < ua->nregs; i++) {
		struct sip_reg *r = &ua->regs[i];
		if (r->refresh_at && now >= r->refresh_at) {
			r->auth_tries = 0;
			reg_send(ua, i, ua->expires, now);
		}
	}
	for (unsigned i = 0; i < SIP_MAX_CALLS; i++)
		if (ua->reinvite_at[i] && now >= ua->reinvite_at[i]) {
			ua->reinvite_at[i] = 0;
			if (ua->calls[i].used)
				(void)sip_ua_reinvite(ua, &ua->calls[i], now);
		}
}

/* ---- lifecycle and accessors ---- */

void sip_ua_set_address(struct sip_ua *ua, const struct roam_ipaddr *a, uint64_t now)
{
	char b1[ROAM_ADDRSTRLEN], b2[ROAM_ADDRSTRLEN];
	if (!a || a->family == 0) {
		if (ua->have_addr)
			ua->prev = ua->addr;
		ua->have_addr = false;
		return;
	}
	if (ua->have_addr && roam_ipaddr_eq(a, &ua->addr))
		return;
	/* the address it had before: the current one, or the last one before an outage */
	struct roam_ipaddr old = ua->have_addr ? ua->addr : ua->prev;
	bool first = old.family == 0;
	ua->addr = *a;
	ua->have_addr = true;
	if (first)
		return;
	if (roam_ipaddr_eq(&old, a)) {
		/* back on the same address after an outage: refresh what may have been lost */
		sip_ua_register(ua, ua->expires, now);
		return;
	}
	ua->stats.moves++;
	ua->prev = old;
	log_info("sip: address %s -> %s: re-REGISTER%s", roam_ipaddr_fmt(&old, b1, sizeof(b1)),
		 roam_ipaddr_fmt(a, b2, sizeof(b2)),
		 ua->nat_continuity ? " with the previous contact" : " and re-INVITE");
	ua->natc_refused_move = false;
	for (unsigned i = 0; i < ua->nregs; i++) {
		ua->regs[i].natc = ua->nat_continuity && ua->regs[i].state == SIP_REG_OK;
		ua->regs[i].natc_old = old;
		ua->regs[i].drop_old = old;
	}
	sip_ua_register(ua, ua->expires, now);
	/* without the extension (or without any server to claim it at): re-INVITE now */
	bool claimed = false;
	for (unsigned i = 0; i < ua->nregs; i++)
		claimed |= ua->regs[i].natc;
	if (!claimed) {
		ua->natc_refused_move = true;
		reinvite_all(ua, now);
	}
}

const struct roam_ipaddr *sip_ua_address(const struct sip_ua *ua)
{
	return ua->have_addr ? &ua->addr : NULL;
}

static void osip_trace_quiet(const char *fi, int li, osip_trace_level_t level, const char *chfr,
			     va_list ap)
{
	(void)fi, (void)li, (void)level, (void)chfr, (void)ap; /* our drop counters say it */
}

void sip_parser_init(void)
{
	static bool ready;
	if (ready)
		return;
	ready = true;
	parser_init();
	osip_trace_initialize_func(END_TRACE_LEVEL, osip_trace_quiet);
	for (int l = 0; l < END_TRACE_LEVEL; l++)
		osip_trace_disable_level((osip_trace_level_t)l);
}

int sip_ua_new(const struct sip_ua_params *p, struct sip_ua **out)
{
	const char *at;
	if (!p->aor || strncmp(p->aor, "sip:", 4) != 0 || !(at = strchr(p->aor, '@')) ||
	    at == p->aor + 4 || !at[1] || strlen(p->aor) >= 128 || p->nservers > SIP_MAX_SERVERS ||
	    !p->io || !p->io->send || !p->io->call_event)
		return -EINVAL;
	sip_parser_init();
	struct sip_ua *ua = calloc(1, sizeof(*ua));
	if (!ua)
		return -ENOMEM;
	snprintf(ua->aor, sizeof(ua->aor), "%s", p->aor);
	snprintf(ua->domain, sizeof(ua->domain), "%s", at + 1);
	if (p->user && p->user[0])
		snprintf(ua->user, sizeof(ua->user), "%s", p->user);
	else
		snprintf(ua->user, sizeof(ua->user), "%.*s", (int)(at - p->aor - 4), p->aor + 4);
	if (p->password && !(ua->password = strdup(p->password))) {
		free(ua);
		return -ENOMEM;
	}
	ua->nat_continuity = p->nat_continuity;
	ua->sip_port = p->sip_port ? p->sip_port : 5060;
	ua->media_port = p->media_port ? p->media_port : 16384;
	ua->expires = p->expires ? p->expires : 3600;
	ua->io = p->io;
	ua->arg = p->arg;
	ua->nregs = p->nservers;
	for (unsigned i = 0; i < ua->nregs; i++) {
		struct sip_reg *r = &ua->regs[i];
		char rnd[25];
		r->server = p->servers[i];
		rand_hex(rnd, 12);
		snprintf(r->call_id, sizeof(r->call_id), "reg%u-%s", i, rnd);
		rand_hex(r->from_tag, 8);
		r->cseq = rand_u32() % 10000;
	}
	*out = ua;
	return 0;
}

void sip_ua_free(struct sip_ua *ua)
{
	if (!ua)
		return;
	for (unsigned i = 0; i < SIP_MAX_TXN; i++) {
		ctxn_free(&ua->ct[i]);
		stxn_free(&ua->st[i]);
	}
	if (ua->password) {
		memset(ua->password, 0, strlen(ua->password));
		free(ua->password);
	}
	free(ua);
}

const struct sip_ua_stats *sip_ua_stats(const struct sip_ua *ua)
{
	return &ua->stats;
}

size_t sip_ua_nservers(const struct sip_ua *ua)
{
	return ua->nregs;
}

void sip_ua_reg_info(const struct sip_ua *ua, unsigned server, struct sip_reg_info *out)
{
	memset(out, 0, sizeof(*out));
	if (server >= ua->nregs)
		return;
	const struct sip_reg *r = &ua->regs[server];
	out->state = r->state;
	out->last_code = r->last_code;
	out->expires = r->granted;
	out->registered_ms = r->registered_ms;
	out->server = r->server;
}

struct sip_call *sip_ua_call_at(struct sip_ua *ua, unsigned i)
{
	return i < SIP_MAX_CALLS && ua->calls[i].used ? &ua->calls[i] : NULL;
}

struct sip_call *sip_ua_call_by_id(struct sip_ua *ua, unsigned id)
{
	return call_by_id(ua, id);
}

const char *sip_call_state_name(enum sip_call_state s)
{
	switch (s) {
	case SIP_CALL_CALLING: return "calling";
	case SIP_CALL_CONFIRMED: return "confirmed";
	case SIP_CALL_TERMINATED: return "terminated";
	default: return "idle";
	}
}
