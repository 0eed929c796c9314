/* The one receive path of sipd: size check, libosip2 parse, the general UAS checks of RFC 3261
 * 8.2 (mandatory headers, CSeq method, URI scheme, Require/420), then the proxy (proxy.c) for
 * responses and for every request that is not for sipd itself; for sipd itself: retransmission
 * matching, method dispatch (REGISTER, OPTIONS; 405/481/501 for the rest), responses built with
 * libosip2.  Every message either gets exactly one response, is forwarded by the proxy, or is
 * dropped through `drop:` with a counted reason. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <osipparser2/osip_parser.h>

#include "sipd.h"
#include "roam/clock.h"
#include "txn.h"

/* Option tags supported whatever the configuration; x-roam-nat-continuity (sip-mobility.md 4)
 * is supported when nat_continuity is on (tag_supported). */
const char *const sipd_supported_tags[] = { NULL };

#define SIPD_ALLOW "REGISTER, OPTIONS, INVITE, ACK, CANCEL, BYE"
#define SIPD_SERVER "roam-sipd/" ROAM_VERSION

static void count_reply(struct sipd *s, int code)
{
	switch (code) {
	case 200: s->stats.reply_200++; break;
	case 400: s->stats.reply_400++; break;
	case 401: s->stats.reply_401++; break;
	case 403: s->stats.reply_403++; break;
	case 405: s->stats.reply_405++; break;
	case 416: s->stats.reply_416++; break;
	case 420: s->stats.reply_420++; break;
	case 423: s->stats.reply_423++; break;
	case 481: s->stats.reply_481++; break;
	case 100: s->stats.reply_100++; break;
	case 404: s->stats.reply_404++; break;
	case 407: s->stats.reply_407++; break;
	case 408: s->stats.reply_408++; break;
	case 480: s->stats.reply_480++; break;
	case 482: s->stats.reply_482++; break;
	case 483: s->stats.reply_483++; break;
	case 487: s->stats.reply_487++; break;
	case 502: s->stats.reply_502++; break;
	case 500: s->stats.reply_500++; break;
	case 501: s->stats.reply_501++; break;
	case 503: s->stats.reply_503++; break;
	default: s->stats.reply_other++; break;
	}
}

/* RFC 3261 18.2.1 / RFC 3581: received= when sent-by is not the source address, rport=. */
void sipd_via_stamp(osip_via_t *via, const struct sipd_src *src)
{
	char ip[ROAM_ADDRSTRLEN], port[8];
	struct roam_ipaddr a;
	uint16_t p;
	if (!via || roam_sockaddr_addr(&src->addr, &a, &p) < 0)
		return;
	roam_ipaddr_fmt(&a, ip, sizeof(ip));
	snprintf(port, sizeof(port), "%u", p);
	osip_generic_param_t *rp = NULL;
	osip_via_param_get_byname(via, "rport", &rp);
	if (rp && !rp->gvalue)
		rp->gvalue = osip_strdup(port);
	char host[ROAM_ADDRSTRLEN] = "";
	const char *vh = via->host ? via->host : "";
	size_t hl = strlen(vh);
	if (hl >= 2 && vh[0] == '[' && vh[hl - 1] == ']' && hl - 2 < sizeof(host)) {
		memcpy(host, vh + 1, hl - 2); /* an IPv6 reference */
		host[hl - 2] = 0;
	} else if (hl < sizeof(host)) {
		memcpy(host, vh, hl + 1);
	}
	struct roam_ipaddr ha;
	if (roam_ipaddr_parse(host, &ha) < 0 || !roam_ipaddr_eq(&ha, &a)) {
		osip_generic_param_t *rc = NULL;
		osip_via_param_get_byname(via, "received", &rc);
		if (!rc)
			osip_via_set_received(via, osip_strdup(ip));
	}
}

int sipd_respond(struct sipd *s, struct sipd_req *r, int code, const char *reason,
		 const char *const *headers)
{
	osip_message_t *req = r->msg, *resp = NULL;
	char *text = NULL;
	size_t len = 0;
	int rc = -ENOMEM;
	if (osip_message_init(&resp) != 0)
		return -ENOMEM;
	osip_message_set_version(resp, osip_strdup("SIP/2.0"));
	osip_message_set_status_code(resp, code);
	if (!reason)
		reason = osip_message_get_reason(code);
	osip_message_set_reason_phrase(resp, osip_strdup(reason ? reason : "Unknown"));
	if (osip_list_clone(&req->vias, &resp->vias, (int (*)(void *, void **))&osip_via_clone) != 0)
		goto out;
	osip_via_t *top = NULL;
	osip_message_get_via(resp, 0, &top);
	sipd_via_stamp(top, r->src);
	if ((req->from && osip_from_clone(req->from, &resp->from) != 0) ||
	    (req->to && osip_to_clone(req->to, &resp->to) != 0) ||
	    (req->call_id && osip_call_id_clone(req->call_id, &resp->call_id) != 0) ||
	    (req->cseq && osip_cseq_clone(req->cseq, &resp->cseq) != 0))
		goto out;
	osip_generic_param_t *tag = NULL;
	if (resp->to && osip_to_get_tag(resp->to, &tag) != 0 && code > 100) {
		uint8_t rnd[8];
		char hex[17];
		if (auth_random(rnd, sizeof(rnd)) < 0)
			memset(rnd, 0x5a, sizeof(rnd));
		for (int i = 0; i < 8; i++)
			snprintf(hex + 2 * i, 3, "%02x", rnd[i]);
		osip_to_set_tag(resp->to, osip_strdup(hex));
	}
	for (size_t i = 0; headers && headers[i]; i++) {
		const char *colon = strchr(headers[i], ':');
		char name[64];
		size_t nl = colon ? (size_t)(colon - headers[i]) : 0;
		if (!colon || nl == 0 || nl >= sizeof(name))
			continue;
		memcpy(name, headers[i], nl);
		name[nl] = 0;
		const char *v = colon + 1;
		while (*v == ' ')
			v++;
		if (osip_message_set_header(resp, name, v) != 0 && strcasecmp(name, "Contact") == 0)
			osip_message_set_contact(resp, v);
	}
	osip_message_set_header(resp, "Server", SIPD_SERVER);
	if (osip_message_to_str(resp, &text, &len) != 0 || !text)
		goto out;
	wbuf_put_bytes(r->out, text, len);
	rc = r->out->err;
	count_reply(s, code);
out:
	osip_free(text);
	osip_message_free(resp);
	return rc;
}

int sipd_challenge(struct sipd *s, struct sipd_req *r, bool stale)
{
	char nonce[SIPD_NONCE_HEX + 1], h[2][512];
	const char *hs[3] = { NULL, NULL, NULL };
	size_t n = 0;
	sipd_nonce_make(&s->digest, s->conf.realm, r->now, nonce);
	/* One challenge per configured algorithm, in the configured order (RFC 8760 3: the
	 * preferred one first; by default SHA-256, then MD5 for older clients). */
	for (size_t i = 0; i < s->conf.ndigest_algorithms && n < 2; i++) {
		bool sha = s->conf.digest_algorithms[i] == SIP_DIGEST_SHA256;
		snprintf(h[n], sizeof(h[n]),
			 "%s: Digest realm=\"%s\", nonce=\"%s\", algorithm=%s, "
			 "qop=\"auth\"%s", r->proxy_auth ? "Proxy-Authenticate" : "WWW-Authenticate",
			 s->conf.realm, nonce, sha ? "SHA-256" : "MD5",
			 stale ? ", stale=true" : "");
		hs[n] = h[n];
		n++;
	}
	s->stats.auth_challenged++;
	return sipd_respond(s, r, r->proxy_auth ? 407 : 401, NULL, hs);
}

static bool tag_supported(const struct sipd *s, const char *tag)
{
	for (size_t i = 0; sipd_supported_tags[i]; i++)
		if (strcasecmp(sipd_supported_tags[i], tag) == 0)
			return true;
	return s->conf.nat_continuity && strcasecmp(tag, SIPD_NAT_OPTION) == 0;
}

/* True when Require of msg lists tag. */
bool sipd_requires(struct osip_message *msg, const char *tag)
{
	osip_header_t *h = NULL;
	for (int pos = 0; (pos = osip_message_header_get_byname(msg, "require", pos, &h)) >= 0;
	     pos++) {
		if (!h || !h->hvalue)
			continue;
		const char *v = h->hvalue;
		while (*v) {
			while (*v == ' ' || *v == '\t' || *v == ',')
				v++;
			size_t n = strcspn(v, " \t,");
			if (n == strlen(tag) && strncasecmp(v, tag, n) == 0)
				return true;
			v += n;
		}
	}
	return false;
}

/* RFC 3261 8.2.2.3: 420 listing every option tag of Require we do not support.  Returns 1 when
 * it answered. */
static int check_require(struct sipd *s, struct sipd_req *r)
{
	osip_header_t *h = NULL;
	char list[1024] = "";
	size_t used = 0;
	/* header_get_byname returns the index it found the header at: continue after it. */
	for (int pos = 0; (pos = osip_message_header_get_byname(r->msg, "require", pos, &h)) >= 0;
	     pos++) {
		if (!h || !h->hvalue)
			continue;
		/* libosip2 splits comma-separated values into one header each; trim anyway. */
		char tag[128];
		const char *v = h->hvalue;
		while (*v == ' ' || *v == '\t')
			v++;
		size_t n = strcspn(v, " \t,");
		if (n == 0 || n >= sizeof(tag))
			continue;
		memcpy(tag, v, n);
		tag[n] = 0;
		if (tag_supported(s, tag))
			continue;
		int w = snprintf(list + used, sizeof(list) - used, "%s%s", used ? ", " : "", tag);
		if (w > 0 && (size_t)w < sizeof(list) - used)
			used += (size_t)w;
	}
	if (!used)
		return 0;
	char hdr[1100];
	snprintf(hdr, sizeof(hdr), "Unsupported: %s", list);
	const char *hs[] = { hdr, NULL };
	sipd_respond(s, r, 420, NULL, hs);
	return 1;
}

static void handle_options(struct sipd *s, struct sipd_req *r)
{
	char sup[512] = "Supported: ";
	size_t used = strlen(sup);
	size_t i = 0;
	for (; sipd_supported_tags[i]; i++) {
		int w = snprintf(sup + used, sizeof(sup) - used, "%s%s", i ? ", " : "",
				 sipd_supported_tags[i]);
		if (w > 0 && (size_t)w < sizeof(sup) - used)
			used += (size_t)w;
	}
	if (s->conf.nat_continuity)
		snprintf(sup + used, sizeof(sup) - used, "%s%s", i ? ", " : "", SIPD_NAT_OPTION);
	const char *hs[] = { "Allow: " SIPD_ALLOW, "Accept: application/sdp", sup, NULL };
	s->stats.rx_options++;
	sipd_respond(s, r, 200, NULL, hs);
}

static bool method_known(const char *m)
{
	static const char *const known[] = { "INVITE", "BYE", "PRACK", "UPDATE", "INFO",
					     "MESSAGE", "SUBSCRIBE", "NOTIFY", "REFER", "PUBLISH",
					     NULL };
	for (size_t i = 0; known[i]; i++)
		if (strcmp(m, known[i]) == 0)
			return true;
	return false;
}

static bool all_digits(const char *v)
{
	if (!v || !*v)
		return false;
	for (; *v; v++)
		if (!isdigit((unsigned char)*v))
			return false;
	return true;
}

/* Where a UDP response goes (RFC 3261 18.2.2, RFC 3581 4): the source address; the source port
 * when rport was asked for, else the sent-by port (5060 by default). */
void sipd_response_dst(osip_message_t *msg, const struct sipd_src *src, struct roam_sockaddr *dst)
{
	*dst = src->addr;
	if (src->transport != SIPD_TP_UDP)
		return;
	osip_via_t *via = NULL;
	osip_generic_param_t *rp = NULL;
	if (osip_message_get_via(msg, 0, &via) < 0 || !via)
		return;
	osip_via_param_get_byname(via, "rport", &rp);
	if (rp)
		return;
	unsigned long port = 5060;
	if (via->port && all_digits(via->port))
		port = strtoul(via->port, NULL, 10);
	if (port >= 1 && port <= 65535)
		roam_sockaddr_set_port(dst, (uint16_t)port);
}

int sipd_handle(struct sipd *s, const uint8_t *data, size_t len, const struct sipd_src *src,
		uint64_t now, struct wbuf *out, struct roam_sockaddr *dst)
{
	osip_message_t *msg = NULL;
	const char *why = NULL;
	char key[TABLE_KEY_MAX + 1];
	size_t keylen = 0;
	int have_key = 0;
	size_t start = out->len;
	struct sipd_req r;
	memset(&r, 0, sizeof(r));
	r.src = src;
	r.now = now;
	r.out = out;
	s->stats.rx_messages++;
	s->stats.rx_bytes += len;
	if (len > s->conf.max_message_size || len > SIPD_UDP_MAX * 4) {
		s->stats.drop_oversize++;
		why = "message too large";
		goto drop;
	}
	size_t ws = 0;
	while (ws < len && (data[ws] == '\r' || data[ws] == '\n'))
		ws++;
	if (ws == len) {
		s->stats.keepalives++; /* RFC 5626 CRLF keep-alive: nothing to answer over UDP */
		return 0;
	}
	if (memchr(data, 0, len)) {
		s->stats.drop_unparseable++;
		why = "NUL byte";
		goto drop;
	}
	if (osip_message_init(&msg) != 0) {
		s->stats.drop_unparseable++;
		why = "out of memory";
		goto drop;
	}
	if (osip_message_parse(msg, (const char *)data + ws, len - ws) != 0) {
		s->stats.drop_unparseable++;
		why = "unparseable";
		goto drop;
	}
	if (MSG_IS_RESPONSE(msg)) {
		/* answers to our peer notifications (peer.c), else the proxy's */
		if (!sipd_peer_response(s, msg, now))
			sipd_proxy_response(s, msg, src, now); /* counts its own drops */
		osip_message_free(msg);
		return 0;
	}
	if (!msg->sip_method) {
		s->stats.drop_unparseable++;
		why = "neither request nor response";
		goto drop;
	}
	s->stats.rx_requests++;
	osip_via_t *via = NULL;
	if (osip_message_get_via(msg, 0, &via) < 0 || !via || !via->host || !via->protocol) {
		s->stats.drop_no_via++;
		why = "request without a usable Via";
		goto drop;
	}
	r.msg = msg;
	bool is_ack = strcmp(msg->sip_method, "ACK") == 0;
	/* RFC 3261 8.1.1: To, From, CSeq, Call-ID, Max-Forwards, Via are mandatory (Max-Forwards
	 * is not enforced here: its absence harms no registrar). */
	if (!msg->from || !msg->from->url || !msg->to || !msg->to->url || !msg->call_id ||
	    !msg->call_id->number || !msg->cseq || !msg->cseq->number || !msg->cseq->method ||
	    !msg->req_uri || !msg->req_uri->scheme) {
		if (is_ack) { /* never answered (17.1.1.3) */
			s->stats.drop_ack++;
			why = "ACK without mandatory headers";
			goto drop;
		}
		sipd_respond(s, &r, 400, "Missing Mandatory Header", NULL);
		goto sent;
	}
	if (is_ack && (!all_digits(msg->cseq->number) || strcmp(msg->cseq->method, "ACK") != 0)) {
		s->stats.drop_ack++;
		why = "ACK with a bad CSeq";
		goto drop;
	}
	if (!all_digits(msg->cseq->number) || strlen(msg->cseq->number) > 10 ||
	    strtoull(msg->cseq->number, NULL, 10) > UINT32_MAX >> 1) {
		sipd_respond(s, &r, 400, "Bad CSeq", NULL);
		goto sent;
	}
	if (strcmp(msg->cseq->method, msg->sip_method) != 0) {
		sipd_respond(s, &r, 400, "CSeq Method Mismatch", NULL);
		goto sent;
	}
	osip_header_t *mf = NULL;
	if (osip_message_header_get_byname(msg, "max-forwards", 0, &mf) >= 0 && mf &&
	    (!all_digits(mf->hvalue) || strlen(mf->hvalue) > 3)) {
		sipd_respond(s, &r, 400, "Bad Max-Forwards", NULL);
		goto sent;
	}
	if (is_ack) {
		if (sipd_proxy_request(s, &r) == 0)
			s->stats.drop_ack++; /* an ACK for sipd itself: absorbed (17.2.1) */
		osip_message_free(msg);
		out->len = start;
		return 0;
	}
	/* The proxy first: its server transactions absorb retransmissions of what it forwards,
	 * and what is not for sipd itself is forwarded (RFC 3261 16). */
	if (strcasecmp(msg->req_uri->scheme, "sip") == 0 ||
	    strcasecmp(msg->req_uri->scheme, "sips") == 0) {
		int pr = sipd_proxy_request(s, &r);
		if (pr == 1) {
			if (out->err) {
				s->stats.tx_errors++;
				why = "cannot build the response";
				goto drop;
			}
			if (out->len == start) {
				osip_message_free(msg);
				return 0;
			}
			goto sent_nocache;
		}
	}
	if (strcmp(msg->sip_method, "CANCEL") != 0 &&
	    sipd_txn_key(msg, key, &keylen) == 0) {
		have_key = 1;
		const struct sipd_txn *t = sipd_txn_find(&s->txns, key, keylen);
		if (t) {
			s->stats.rx_retransmissions++;
			wbuf_put_bytes(out, t->resp, t->resplen);
			goto sent_nocache;
		}
	}
	if (strcasecmp(msg->req_uri->scheme, "sip") != 0 &&
	    strcasecmp(msg->req_uri->scheme, "sips") != 0) {
		sipd_respond(s, &r, 416, NULL, NULL);
		goto sent;
	}
	if (strcmp(msg->sip_method, "CANCEL") != 0 && check_require(s, &r))
		goto sent;
	if (strcmp(msg->sip_method, "REGISTER") == 0) {
		s->stats.rx_register++;
		sipd_register(s, &r);
	} else if (strcmp(msg->sip_method, "OPTIONS") == 0) {
		handle_options(s, &r);
	} else if (strcmp(msg->sip_method, "MESSAGE") == 0 && s->conf.nat_continuity &&
		   sipd_requires(msg, SIPD_NAT_OPTION)) {
		sipd_peer_rx(s, &r); /* a peer server's notification (sip-mobility.md 4.5) */
	} else if (strcmp(msg->sip_method, "CANCEL") == 0) {
		s->stats.rx_other_methods++;
		sipd_respond(s, &r, 481, NULL, NULL); /* no INVITE transaction of ours to cancel */
	} else if (method_known(msg->sip_method)) {
		s->stats.rx_other_methods++;
		const char *hs[] = { "Allow: " SIPD_ALLOW, NULL };
		sipd_respond(s, &r, 405, NULL, hs);
	} else {
		s->stats.rx_other_methods++;
		const char *hs[] = { "Allow: " SIPD_ALLOW, NULL };
		sipd_respond(s, &r, 501, NULL, hs);
	}
sent:
	if (out->err || out->len == start) {
		s->stats.tx_errors++;
		why = "cannot build the response";
		goto drop;
	}
	if (have_key && src->transport == SIPD_TP_UDP &&
	    sipd_txn_store(&s->txns, key, keylen, out->buf + start, out->len - start,
			   now + SIPD_TXN_TIMER_J, s->conf.max_transactions) == -ENOSPC)
		s->stats.txn_cache_full++;
sent_nocache:
	sipd_response_dst(msg, src, dst);
	osip_message_free(msg);
	return 1;
drop: {
	char b[ROAM_ADDRSTRLEN];
	log_rl_warnx(&s->drop_rl, "dropped %zu bytes from %s: %s", len,
		     roam_sockaddr_fmt(&src->addr, b, sizeof(b)), why);
	if (msg)
		osip_message_free(msg);
	out->len = start;
	return 0;
}
}
