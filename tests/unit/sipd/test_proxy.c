/* Proxy tests (RFC 3261 16, 17): raw SIP text fed into sipd_handle with a fake transport (every
 * forwarded message is captured with its destination) and a fake clock driving
 * sipd_proxy_timers.  Forwarding to a registered contact (Via, Record-Route, Max-Forwards),
 * 483, 482 loop, 404, 480, 420 for Proxy-Require, responses routed back by Via, CANCEL/487
 * (also before a provisional), Timer A retransmissions and the 408 of Timer B, Timer G and the
 * ACK, Timer E/F (no 408 to a non-INVITE), Timer C, best-response selection, q-value order,
 * 6xx, hop-by-hop ACK, ACK and BYE along the Record-Route, late 2xx forwarded statelessly, TCP
 * (no retransmission), 407 for INVITE, odd and mutated input. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipd_fixture.h"

#define T0 10000000ull
#define MAXSENT 1024

static struct sipd S;
static struct sipd_src SRC;    /* alice's UA */
static struct sipd_src BOBSRC; /* bob's UA */

struct sent {
	struct sipd_dest d;
	char *text;
};
static struct sent SENT[MAXSENT];
static int NSENT;

static int fake_send(struct sipd *s, const struct sipd_dest *d, const uint8_t *data, size_t len)
{
	(void)s;
	cr_assert_lt(NSENT, MAXSENT);
	SENT[NSENT].d = *d;
	SENT[NSENT].text = strndup((const char *)data, len);
	NSENT++;
	return 0;
}

static void clear_sent(void)
{
	for (int i = 0; i < NSENT; i++)
		free(SENT[i].text);
	NSENT = 0;
}

static const char *CONF = "listen: [\"127.0.0.1:5060\"]\n"
			  "domains: [roam.example]\n"
			  "realm: roam.example\n"
			  "authentication: false\n"
			  "credentials: \"alice roam.example password=a\\nbob roam.example password=b\\n"
			  "carol roam.example password=c\"\n"
			  "routes: [{domain: other.example, next_hop: \"198.51.100.7:5070\"}]\n"
			  "snapshot: \"\"\n";

static char *send_from(const struct sipd_src *src, const char *text, uint64_t now)
{
	return sipd_feed(&S, src, text, now, NULL, false);
}

static void reg(const char *user, const char *contact, const char *q, int cseq)
{
	char *t = NULL;
	cr_assert(asprintf(&t,
			   "REGISTER sip:roam.example SIP/2.0\n"
			   "Via: SIP/2.0/UDP 192.0.2.20:5080;branch=z9hG4bKreg%s%d\n"
			   "Max-Forwards: 70\n"
			   "From: <sip:%s@roam.example>;tag=r1\n"
			   "To: <sip:%s@roam.example>\n"
			   "Call-ID: reg-%s@192.0.2.20\n"
			   "CSeq: %d REGISTER\n"
			   "Contact: <%s>%s%s\n"
			   "Expires: 600\n"
			   "Content-Length: 0\n\n",
			   user, cseq, user, user, user, cseq, contact, q ? ";q=" : "", q ? q : "") > 0);
	char *r = send_from(&BOBSRC, t, T0);
	cr_assert_eq(status_of(r), 200, "%s", r ? r : "(dropped)");
	free(r);
	free(t);
}

static void setup(void)
{
	char err[256] = "";
	memset(&S, 0, sizeof(S));
	cr_assert_eq(sipd_conf_load_string(&S.conf, CONF, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(sipd_core_init(&S, T0), 0);
	S.send = fake_send;
	memset(&SRC, 0, sizeof(SRC));
	SRC.transport = SIPD_TP_UDP;
	roam_sockaddr_parse("192.0.2.10:5070", 0, &SRC.addr);
	BOBSRC = SRC;
	roam_sockaddr_parse("192.0.2.20:5080", 0, &BOBSRC.addr);
	NSENT = 0;
}

static void teardown(void)
{
	clear_sent();
	sipd_core_destroy(&S);
	sipd_conf_free(&S.conf);
}

TestSuite(proxy, .init = setup, .fini = teardown);

static char *invite(const char *ruri, const char *branch, int mf, const char *extra)
{
	char *t = NULL;
	cr_assert(asprintf(&t,
			   "INVITE %s SIP/2.0\n"
			   "Via: SIP/2.0/UDP 192.0.2.10:5070;branch=%s;rport\n"
			   "Max-Forwards: %d\n"
			   "From: <sip:alice@roam.example>;tag=a1\n"
			   "To: <sip:bob@roam.example>\n"
			   "Call-ID: call1@192.0.2.10\n"
			   "CSeq: 1 INVITE\n"
			   "Contact: <sip:alice@192.0.2.10:5070>\n"
			   "%s"
			   "Content-Type: application/sdp\n"
			   "Content-Length: 4\n\n"
			   "v=0\n",
			   ruri, branch, mf, extra ? extra : "") > 0);
	return t;
}

/* The response text of a downstream UA to a forwarded request (its Vias copied). */
static char *response_to(const char *req, int code, const char *reason, const char *totag)
{
	struct wbuf w;
	wbuf_init(&w);
	char line[128];
	snprintf(line, sizeof(line), "SIP/2.0 %d %s\r\n", code, reason);
	wbuf_put_bytes(&w, line, strlen(line));
	const char *p = req;
	while ((p = strstr(p, "\r\n")) && p[2] != '\r') {
		p += 2;
		const char *e = strstr(p, "\r\n");
		size_t n = (size_t)(e - p);
		if (strncasecmp(p, "Via:", 4) == 0 || strncasecmp(p, "From:", 5) == 0 ||
		    strncasecmp(p, "Call-ID:", 8) == 0 || strncasecmp(p, "CSeq:", 5) == 0 ||
		    strncasecmp(p, "Record-Route:", 13) == 0) {
			wbuf_put_bytes(&w, p, n);
			wbuf_put_bytes(&w, "\r\n", 2);
		} else if (strncasecmp(p, "To:", 3) == 0) {
			wbuf_put_bytes(&w, p, n);
			if (totag) {
				wbuf_put_bytes(&w, ";tag=", 5);
				wbuf_put_bytes(&w, totag, strlen(totag));
			}
			wbuf_put_bytes(&w, "\r\n", 2);
		}
	}
	wbuf_put_bytes(&w, "Content-Length: 0\r\n\r\n", 21);
	char *r = strndup((const char *)w.buf, w.len);
	wbuf_free(&w);
	return r;
}

/* Feeds a response (CRLF text) from bob's UA. */
static void respond_from_bob(const char *text, uint64_t now)
{
	struct wbuf out;
	wbuf_init(&out);
	struct roam_sockaddr d;
	cr_assert_eq(sipd_handle(&S, (const uint8_t *)text, strlen(text), &BOBSRC, now, &out, &d),
		     0);
	wbuf_free(&out);
}

static int find_sent(const char *prefix, int from)
{
	for (int i = from; i < NSENT; i++)
		if (strncmp(SENT[i].text, prefix, strlen(prefix)) == 0)
			return i;
	return -1;
}

static int port_of(const struct sipd_dest *d)
{
	struct roam_ipaddr a;
	uint16_t p = 0;
	roam_sockaddr_addr(&d->addr, &a, &p);
	return p;
}

/* alice's INVITE for ruri (Max-Forwards 70, extra headers or NULL) reaches the proxy; what it
 * answers her at once is dropped. */
static void send_invite(const char *ruri, const char *branch, const char *extra)
{
	char *t = invite(ruri, branch, 70, extra);
	free(send_from(&SRC, t, T0));
	free(t);
}

/* The INVITE forked in parallel to bob's two contacts: copies of both (the caller frees). */
static void forked_pair(char **f1, char **f2)
{
	int i1 = find_sent("INVITE sip:bob@192.0.2.2", 0);
	int i2 = find_sent("INVITE sip:bob@192.0.2.2", i1 + 1);
	cr_assert(i1 >= 0 && i2 >= 0, "parallel forking over two contacts of equal q");
	*f1 = strdup(SENT[i1].text);
	*f2 = strdup(SENT[i2].text);
}

/* bob registers two contacts of equal q and alice's INVITE (branch) forks to both: copies of
 * the two forked INVITEs (the caller frees). */
static void fork_to_bob(const char *branch, char **f1, char **f2)
{
	reg("bob", "sip:bob@192.0.2.20:5080", NULL, 1);
	reg("bob", "sip:bob@192.0.2.21:5080", NULL, 2);
	send_invite("sip:bob@roam.example", branch, NULL);
	forked_pair(f1, f2);
}

Test(proxy, forwards_invite_to_contact)
{
	reg("bob", "sip:bob@192.0.2.20:5080", NULL, 1);
	char *t = invite("sip:bob@roam.example", "z9hG4bKinv1", 70, NULL);
	char *r = send_from(&SRC, t, T0);
	free(t);
	/* 100 Trying to alice, the INVITE to bob's contact */
	int i100 = find_sent("SIP/2.0 100", 0);
	cr_assert_geq(i100, 0, "a 100 Trying");
	cr_assert_eq(port_of(&SENT[i100].d), 5070);
	int inv = find_sent("INVITE sip:bob@192.0.2.20:5080 SIP/2.0", 0);
	cr_assert_geq(inv, 0, "INVITE forwarded to the contact");
	const char *f = SENT[inv].text;
	cr_assert_eq(port_of(&SENT[inv].d), 5080);
	cr_assert(strcasestr(f, "Max-Forwards: 69"), "%s", f);
	cr_assert(strstr(f, "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKsd"), "%s", f);
	cr_assert(strstr(f, "Record-Route: <sip:127.0.0.1:5060;lr>"), "%s", f);
	cr_assert(strstr(f, "received=192.0.2.10") || strstr(f, "rport=5070"), "%s", f);
	const char *v1 = strstr(f, "Via:"), *v2 = strstr(v1 + 4, "Via:");
	cr_assert(v2 && strstr(v2, "192.0.2.10:5070"), "alice's Via second");
	cr_assert(strstr(f, "v=0"), "body kept");
	free(r);
	/* 180 and 200 from bob come back to alice without our Via */
	char *resp = response_to(f, 180, "Ringing", "b1");
	clear_sent();
	respond_from_bob(resp, T0 + 10);
	free(resp);
	cr_assert_eq(NSENT, 1);
	cr_assert(strncmp(SENT[0].text, "SIP/2.0 180", 11) == 0);
	cr_assert_eq(port_of(&SENT[0].d), 5070);
	cr_assert_null(strstr(SENT[0].text, "127.0.0.1:5060;branch"), "our Via removed");
	cr_assert(strstr(SENT[0].text, "Record-Route: <sip:127.0.0.1:5060;lr>"));
	cr_assert_eq(S.stats.proxy_fwd_responses, 1);
	clear_sent();
	t = invite("sip:bob@roam.example", "z9hG4bKinv1", 70, NULL);
	r = send_from(&SRC, t, T0);
	free(t);
	free(r);
	/* (a retransmitted INVITE gets the last provisional again) */
	cr_assert_eq(NSENT, 1);
	cr_assert(strncmp(SENT[0].text, "SIP/2.0 180", 11) == 0);
}

Test(proxy, max_forwards_zero_is_483)
{
	reg("bob", "sip:bob@192.0.2.20:5080", NULL, 1);
	char *t = invite("sip:bob@roam.example", "z9hG4bKmf0", 0, NULL);
	char *r = send_from(&SRC, t, T0);
	cr_assert_eq(status_of(r), 483, "%s", r);
	cr_assert_eq(NSENT, 0, "nothing forwarded");
	cr_assert_eq(S.stats.reply_483, 1);
	free(r);
	free(t);
}

Test(proxy, unknown_user_404_unbound_user_480)
{
	char *t = invite("sip:nobody@roam.example", "z9hG4bKu1", 70, NULL);
	char *r = send_from(&SRC, t, T0);
	cr_assert_eq(status_of(r), 404, "%s", r);
	free(r);
	free(t);
	t = invite("sip:carol@roam.example", "z9hG4bKu2", 70, NULL);
	r = send_from(&SRC, t, T0);
	cr_assert_eq(status_of(r), 480, "%s", r);
	free(r);
	free(t);
	cr_assert_eq(find_sent("INVITE", 0), -1);
}

Test(proxy, loop_is_482_spiral_is_forwarded)
{
	/* A request for other.example whose route leads back to us: it carries our Via with the
	 * same loop hash. */
	char *t = invite("sip:dave@other.example", "z9hG4bKl1", 70, NULL);
	char *r = send_from(&SRC, t, T0);
	free(r);
	free(t);
	int i = find_sent("INVITE sip:dave@other.example", 0);
	cr_assert_geq(i, 0);
	cr_assert_eq(port_of(&SENT[i].d), 5070, "static route next hop");
	/* feed the forwarded INVITE back as if the next hop routed it to us */
	struct sipd_src me = SRC;
	roam_sockaddr_parse("198.51.100.7:5070", 0, &me.addr);
	struct wbuf out;
	wbuf_init(&out);
	struct roam_sockaddr d;
	int rr = sipd_handle(&S, (const uint8_t *)SENT[i].text, strlen(SENT[i].text), &me,
			     T0 + 5, &out, &d);
	cr_assert_eq(rr, 1);
	char *resp = strndup((const char *)out.buf, out.len);
	cr_assert_eq(status_of(resp), 482);
	free(resp);
	cr_assert_eq(S.stats.proxy_loops, 1);
	wbuf_free(&out);
}

Test(proxy, timeout_408_after_retransmissions)
{
	reg("bob", "sip:bob@192.0.2.20:5080", NULL, 1);
	send_invite("sip:bob@roam.example", "z9hG4bKto", NULL);
	clear_sent();
	/* Timer A: 500, 1000, 2000 ... ms; Timer B at 32 s */
	uint64_t now = T0;
	int retrans = 0;
	for (int k = 1; k <= 330; k++) {
		now = T0 + (uint64_t)k * 100;
		sipd_proxy_timers(&S, now);
	}
	for (int i = 0; i < NSENT; i++)
		if (strncmp(SENT[i].text, "INVITE ", 7) == 0)
			retrans++;
	cr_assert_eq(retrans, 6, "A fires at 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s (%d)", retrans);
	int i408 = find_sent("SIP/2.0 408", 0);
	cr_assert_geq(i408, 0, "408 to alice after Timer B");
	cr_assert_eq(port_of(&SENT[i408].d), 5070);
	cr_assert_eq(S.stats.proxy_timeouts, 1);
	/* Timer G retransmits the 408 until the ACK; the ACK ends it */
	clear_sent();
	sipd_proxy_timers(&S, now + 600);
	cr_assert_geq(find_sent("SIP/2.0 408", 0), 0, "Timer G");
	char ack[512];
	snprintf(ack, sizeof(ack),
		 "ACK sip:bob@roam.example SIP/2.0\nVia: SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bKto\n"
		 "Max-Forwards: 70\nFrom: <sip:alice@roam.example>;tag=a1\nTo: <sip:bob@roam.example>;tag=x\n"
		 "Call-ID: call1@192.0.2.10\nCSeq: 1 ACK\nContent-Length: 0\n\n");
	cr_assert_null(send_from(&SRC, ack, now + 700));
	clear_sent();
	sipd_proxy_timers(&S, now + 5000);
	cr_assert_eq(find_sent("SIP/2.0 408", 0), -1, "no more 408 after the ACK");
	sipd_proxy_timers(&S, now + 40000);
	cr_assert_eq(table_count(&S.proxy.txns), 0, "transaction freed");
}

Test(proxy, cancel_gives_487)
{
	reg("bob", "sip:bob@192.0.2.20:5080", NULL, 1);
	send_invite("sip:bob@roam.example", "z9hG4bKc1", NULL);
	int inv = find_sent("INVITE ", 0);
	cr_assert_geq(inv, 0);
	char *fwd = strdup(SENT[inv].text);
	char *ring = response_to(fwd, 180, "Ringing", "b1");
	respond_from_bob(ring, T0 + 10);
	free(ring);
	clear_sent();
	const char *cancel = "CANCEL sip:bob@roam.example SIP/2.0\n"
			     "Via: SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bKc1;rport\n"
			     "Max-Forwards: 70\nFrom: <sip:alice@roam.example>;tag=a1\n"
			     "To: <sip:bob@roam.example>\nCall-ID: call1@192.0.2.10\nCSeq: 1 CANCEL\n"
			     "Content-Length: 0\n\n";
	char *r = send_from(&SRC, cancel, T0 + 20);
	cr_assert_eq(status_of(r), 200, "%s", r);
	free(r);
	int ic = find_sent("CANCEL sip:bob@192.0.2.20:5080", 0);
	cr_assert_geq(ic, 0, "CANCEL forwarded to the branch");
	char *br = strstr(fwd, "branch=z9hG4bKsd");
	cr_assert(br);
	char bval[80];
	sscanf(br, "branch=%79[^;\r]", bval);
	cr_assert(strstr(SENT[ic].text, bval), "same branch as the INVITE");
	/* bob: 200 to the CANCEL, 487 to the INVITE */
	char *c200 = response_to(SENT[ic].text, 200, "OK", "b1");
	char *r487 = response_to(fwd, 487, "Request Terminated", "b1");
	clear_sent();
	respond_from_bob(c200, T0 + 30);
	cr_assert_eq(NSENT, 0, "the 200 to our CANCEL stays here");
	respond_from_bob(r487, T0 + 40);
	int a = find_sent("ACK sip:bob@192.0.2.20:5080", 0);
	cr_assert_geq(a, 0, "hop-by-hop ACK of the 487");
	int i = find_sent("SIP/2.0 487", 0);
	cr_assert_geq(i, 0, "487 to alice");
	cr_assert_eq(port_of(&SENT[i].d), 5070);
	free(c200);
	free(r487);
	free(fwd);
}

Test(proxy, best_response_over_two_branches)
{
	char *f1, *f2;
	fork_to_bob("z9hG4bKbest", &f1, &f2);
	char *r486 = response_to(f1, 486, "Busy Here", "x1");
	char *r503 = response_to(f2, 503, "Service Unavailable", "x2");
	clear_sent();
	respond_from_bob(r503, T0 + 10);
	cr_assert_eq(find_sent("SIP/2.0", 0), -1, "nothing upstream while a branch is pending");
	respond_from_bob(r486, T0 + 20);
	int b = find_sent("SIP/2.0 486", 0);
	cr_assert_geq(b, 0, "the 4xx is the best (lowest class)");
	cr_assert_eq(find_sent("SIP/2.0 503", 0), -1);
	free(f1);
	free(f2);
	free(r486);
	free(r503);
}

Test(proxy, q_values_serial)
{
	reg("bob", "sip:bob@192.0.2.20:5080", "0.5", 1);
	reg("bob", "sip:bob@192.0.2.21:5080", "0.9", 2);
	send_invite("sip:bob@roam.example", "z9hG4bKq", NULL);
	cr_assert_geq(find_sent("INVITE sip:bob@192.0.2.21:5080", 0), 0, "best q first");
	cr_assert_eq(find_sent("INVITE sip:bob@192.0.2.20:5080", 0), -1, "not yet the other");
	int i = find_sent("INVITE sip:bob@192.0.2.21:5080", 0);
	char *r = response_to(SENT[i].text, 480, "Temporarily Unavailable", "z");
	clear_sent();
	respond_from_bob(r, T0 + 10);
	free(r);
	cr_assert_geq(find_sent("INVITE sip:bob@192.0.2.20:5080", 0), 0, "then the next q");
	cr_assert_eq(find_sent("SIP/2.0 480", 0), -1);
}

Test(proxy, ok_then_ack_and_bye_along_record_route)
{
	reg("bob", "sip:bob@192.0.2.20:5080", NULL, 1);
	send_invite("sip:bob@roam.example", "z9hG4bKok", NULL);
	int inv = find_sent("INVITE ", 0);
	char *ok = response_to(SENT[inv].text, 200, "OK", "b9");
	clear_sent();
	respond_from_bob(ok, T0 + 10);
	free(ok);
	cr_assert_geq(find_sent("SIP/2.0 200", 0), 0, "2xx forwarded at once");
	clear_sent();
	const char *ack = "ACK sip:bob@192.0.2.20:5080 SIP/2.0\n"
			  "Via: SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bKack2\n"
			  "Route: <sip:127.0.0.1:5060;lr>\n"
			  "Max-Forwards: 70\nFrom: <sip:alice@roam.example>;tag=a1\n"
			  "To: <sip:bob@roam.example>;tag=b9\nCall-ID: call1@192.0.2.10\n"
			  "CSeq: 1 ACK\nContent-Length: 0\n\n";
	cr_assert_null(send_from(&SRC, ack, T0 + 20));
	int a = find_sent("ACK sip:bob@192.0.2.20:5080", 0);
	cr_assert_geq(a, 0, "ACK for the 2xx forwarded along the route");
	cr_assert_null(strstr(SENT[a].text, "Route:"), "our Route entry removed");
	cr_assert_eq(port_of(&SENT[a].d), 5080);
	const char *bye = "BYE sip:bob@192.0.2.20:5080 SIP/2.0\n"
			  "Via: SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bKbye1\n"
			  "Route: <sip:127.0.0.1:5060;lr>\n"
			  "Max-Forwards: 70\nFrom: <sip:alice@roam.example>;tag=a1\n"
			  "To: <sip:bob@roam.example>;tag=b9\nCall-ID: call1@192.0.2.10\n"
			  "CSeq: 2 BYE\nContent-Length: 0\n\n";
	clear_sent();
	free(send_from(&SRC, bye, T0 + 30));
	int b = find_sent("BYE sip:bob@192.0.2.20:5080", 0);
	cr_assert_geq(b, 0);
	cr_assert_eq(find_sent("SIP/2.0 100", 0), -1, "no 100 for non-INVITE");
	char *r = response_to(SENT[b].text, 200, "OK", NULL);
	clear_sent();
	respond_from_bob(r, T0 + 40);
	free(r);
	int o = find_sent("SIP/2.0 200", 0);
	cr_assert_geq(o, 0);
	cr_assert(strstr(SENT[o].text, "CSeq: 2 BYE"));
	cr_assert_eq(S.stats.proxy_rx_bye, 1);
}

Test(proxy, non_invite_timeout_is_silent)
{
	reg("bob", "sip:bob@192.0.2.20:5080", NULL, 1);
	const char *opt = "OPTIONS sip:bob@roam.example SIP/2.0\n"
			  "Via: SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bKopt1\n"
			  "Max-Forwards: 70\nFrom: <sip:alice@roam.example>;tag=a1\n"
			  "To: <sip:bob@roam.example>\nCall-ID: opt1@192.0.2.10\n"
			  "CSeq: 1 OPTIONS\nContent-Length: 0\n\n";
	free(send_from(&SRC, opt, T0));
	cr_assert_geq(find_sent("OPTIONS sip:bob@192.0.2.20:5080", 0), 0);
	clear_sent();
	for (int k = 1; k <= 400; k++)
		sipd_proxy_timers(&S, T0 + (uint64_t)k * 100);
	int n = 0;
	for (int i = 0; i < NSENT; i++)
		n += strncmp(SENT[i].text, "OPTIONS", 7) == 0;
	/* E: 0.5, 1.5, 3.5, 7.5, then every T2 = 4 s (11.5 ... 31.5) until F at 32 s: 10 */
	cr_assert_eq(n, 10, "%d retransmissions", n);
	cr_assert_eq(find_sent("SIP/2.0 408", 0), -1, "RFC 4320: no 408 to a non-INVITE");
	cr_assert_eq(table_count(&S.proxy.txns), 0);
}

Test(proxy, garbage_responses_never_crash)
{
	const char *bad[] = {
		"SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n",
		"SIP/2.0 999 Odd\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKsdx\r\n\r\n",
		"SIP/2.0 180 R\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKsdx\r\n"
		"CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		respond_from_bob(bad[i], T0);
	cr_assert_eq(NSENT, 0);
}

Test(proxy, proxy_require_420)
{
	reg("bob", "sip:bob@192.0.2.20:5080", NULL, 1);
	char *t = invite("sip:bob@roam.example", "z9hG4bKpr", 70, "Proxy-Require: x-nothing\n");
	char *r = send_from(&SRC, t, T0);
	cr_assert_eq(status_of(r), 420, "%s", r);
	cr_assert(strstr(r, "Unsupported: x-nothing"), "%s", r);
	cr_assert_eq(find_sent("INVITE", 0), -1);
	free(r);
	free(t);
	/* Require is end-to-end: a proxy passes it on */
	t = invite("sip:bob@roam.example", "z9hG4bKrq", 70, "Require: x-end-to-end\n");
	free(send_from(&SRC, t, T0));
	free(t);
	cr_assert_geq(find_sent("INVITE sip:bob@192.0.2.20:5080", 0), 0);
}

Test(proxy, cancel_before_provisional_waits)
{
	reg("bob", "sip:bob@192.0.2.20:5080", NULL, 1);
	send_invite("sip:bob@roam.example", "z9hG4bKcp", NULL);
	int inv = find_sent("INVITE ", 0);
	char *fwd = strdup(SENT[inv].text);
	clear_sent();
	const char *cancel = "CANCEL sip:bob@roam.example SIP/2.0\n"
			     "Via: SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bKcp;rport\n"
			     "Max-Forwards: 70\nFrom: <sip:alice@roam.example>;tag=a1\n"
			     "To: <sip:bob@roam.example>\nCall-ID: call1@192.0.2.10\nCSeq: 1 CANCEL\n"
			     "Content-Length: 0\n\n";
	char *r = send_from(&SRC, cancel, T0 + 10);
	cr_assert_eq(status_of(r), 200);
	free(r);
	cr_assert_eq(find_sent("CANCEL", 0), -1, "9.1: no CANCEL before a provisional response");
	char *ring = response_to(fwd, 180, "Ringing", "b1");
	respond_from_bob(ring, T0 + 20);
	free(ring);
	cr_assert_geq(find_sent("CANCEL sip:bob@192.0.2.20:5080", 0), 0, "sent on the 180");
	free(fwd);
}

Test(proxy, six_hundred_cancels_the_others)
{
	char *f1, *f2;
	fork_to_bob("z9hG4bK6xx", &f1, &f2);
	char *ring = response_to(f2, 180, "Ringing", "y2");
	respond_from_bob(ring, T0 + 5);
	char *decl = response_to(f1, 603, "Decline", "y1");
	clear_sent();
	respond_from_bob(decl, T0 + 10);
	cr_assert_geq(find_sent("CANCEL", 0), 0, "the ringing branch is cancelled");
	cr_assert_eq(find_sent("SIP/2.0 603", 0), -1, "the 6xx waits for the other branch");
	char *r487 = response_to(f2, 487, "Request Terminated", "y2");
	respond_from_bob(r487, T0 + 20);
	cr_assert_geq(find_sent("SIP/2.0 603", 0), 0, "6xx wins over 487");
	free(f1);
	free(f2);
	free(ring);
	free(decl);
	free(r487);
}

Test(proxy, tcp_is_not_retransmitted)
{
	struct sipd_src tsrc = BOBSRC;
	tsrc.transport = SIPD_TP_TCP;
	char *t = NULL;
	cr_assert(asprintf(&t, "REGISTER sip:roam.example SIP/2.0\n"
			       "Via: SIP/2.0/TCP 192.0.2.20:5080;branch=z9hG4bKtreg\n"
			       "Max-Forwards: 70\nFrom: <sip:bob@roam.example>;tag=r1\n"
			       "To: <sip:bob@roam.example>\nCall-ID: treg\nCSeq: 1 REGISTER\n"
			       "Contact: <sip:bob@10.9.9.9:5080;transport=tcp>\nContent-Length: 0\n\n") > 0);
	char *r = send_from(&tsrc, t, T0);
	cr_assert_eq(status_of(r), 200, "%s", r);
	free(r);
	free(t);
	t = invite("sip:bob@roam.example", "z9hG4bKtcp", 70, NULL);
	free(send_from(&SRC, t, T0));
	free(t);
	int inv = find_sent("INVITE ", 0);
	cr_assert_geq(inv, 0);
	cr_assert_eq(SENT[inv].d.transport, SIPD_TP_TCP, "over the contact's connection");
	cr_assert_eq(port_of(&SENT[inv].d), 5080);
	cr_assert(strstr(SENT[inv].text, "Via: SIP/2.0/TCP 127.0.0.1:5060;branch="));
	clear_sent();
	for (int k = 1; k <= 20; k++)
		sipd_proxy_timers(&S, T0 + (uint64_t)k * 500);
	cr_assert_eq(find_sent("INVITE", 0), -1, "no retransmission over TCP");
}

Test(proxy, authenticate_invite_407)
{
	teardown();
	char err[256] = "";
	memset(&S, 0, sizeof(S));
	char *conf = NULL;
	cr_assert(asprintf(&conf, "%sauthenticate_invite: true\ndigest_algorithms: [md5]\n", CONF) > 0);
	cr_assert_eq(sipd_conf_load_string(&S.conf, conf, err, sizeof(err)), 0, "%s", err);
	free(conf);
	cr_assert_eq(sipd_core_init(&S, T0), 0);
	S.send = fake_send;
	reg("bob", "sip:bob@192.0.2.20:5080", NULL, 1);
	char *t = invite("sip:bob@roam.example", "z9hG4bKau1", 70, NULL);
	char *r = send_from(&SRC, t, T0);
	free(t);
	cr_assert_eq(status_of(r), 407, "%s", r);
	char *pa = strstr(r, "Proxy-Authenticate: Digest");
	cr_assert(pa, "%s", r);
	char nonce[128];
	cr_assert_eq(sscanf(strstr(pa, "nonce=\"") + 7, "%127[^\"]", nonce), 1);
	free(r);
	cr_assert_eq(find_sent("INVITE", 0), -1);
	/* the answer: MD5, qop=auth */
	char ha1[65], resp[65], hdr[600];
	const char *ha1text = "alice:roam.example:a";
	cr_assert_eq(sip_digest_hex(SIP_DIGEST_MD5, ha1text, strlen(ha1text), ha1), 0);
	cr_assert_eq(sip_digest_response_ha1(SIP_DIGEST_MD5, ha1, nonce, "00000001", "cn1", "auth",
					     "INVITE", "sip:bob@roam.example", resp), 0);
	snprintf(hdr, sizeof(hdr),
		 "Proxy-Authorization: Digest username=\"alice\", realm=\"roam.example\", "
		 "nonce=\"%s\", uri=\"sip:bob@roam.example\", response=\"%s\", algorithm=MD5, "
		 "qop=auth, nc=00000001, cnonce=\"cn1\"\n", nonce, resp);
	t = invite("sip:bob@roam.example", "z9hG4bKau2", 70, hdr);
	r = send_from(&SRC, t, T0 + 10);
	free(t);
	free(r);
	int inv = find_sent("INVITE sip:bob@192.0.2.20:5080", 0);
	cr_assert_geq(inv, 0, "forwarded once authenticated");
	cr_assert_null(strstr(SENT[inv].text, "Proxy-Authorization"), "our credentials consumed");
}

/* Odd requests for the proxy: each answered or dropped, never a crash (run under ASan too). */
Test(proxy, odd_requests)
{
	reg("bob", "sip:bob@192.0.2.20:5080", NULL, 1);
	const char *extra[] = {
		"Route: <sip:nowhere.invalid;lr>\n",
		"Route: <sip:127.0.0.1:5060;lr>\nRoute: <sip:[2001:db8::1]:5090;lr;transport=tcp>\n",
		"Route: <sip:127.0.0.1:5060;lr>\nRoute: <sip:192.0.2.30;lr;transport=sctp>\n",
		"Route: <sip:127.0.0.1:99999;lr>\n",
		"Proxy-Require: \n",
		"Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKsdzz\n",
	};
	char branch[32];
	for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++) {
		snprintf(branch, sizeof(branch), "z9hG4bKodd%zu", i);
		send_invite("sip:bob@roam.example", branch, extra[i]);
	}
	const char *ruris[] = { "sip:bob@192.0.2.40:0", "sip:bob@[::1", "sip:@roam.example",
				"sip:bob@roam.example;transport=foo", "sips:bob@10.0.0.1",
				"sip:x@other.example:5999" };
	for (size_t i = 0; i < sizeof(ruris) / sizeof(ruris[0]); i++) {
		snprintf(branch, sizeof(branch), "z9hG4bKru%zu", i);
		send_invite(ruris[i], branch, NULL);
	}
	char *t = invite("sip:bob@roam.example", "nobranch", 70, NULL);
	char *r = send_from(&SRC, t, T0);
	cr_assert_eq(status_of(r), 400, "RFC 2543 branch: %s", r);
	free(r);
	free(t);
	for (int k = 1; k <= 800; k++)
		sipd_proxy_timers(&S, T0 + (uint64_t)k * 100);
	cr_assert_eq(table_count(&S.proxy.txns), 0, "everything ends");
	cr_assert_eq(S.stats.proxy_txn_created, S.stats.proxy_txn_freed);
}

/* Mutated requests and responses (fixed seed) through the proxy and its timers: no crash, no
 * leak under ASan, every transaction ends. */
Test(proxy, mutations)
{
	reg("bob", "sip:bob@192.0.2.20:5080", NULL, 1);
	reg("bob", "sip:bob@192.0.2.21:5080", NULL, 2);
	char *base = invite("sip:bob@roam.example", "z9hG4bKmut", 70,
			    "Route: <sip:127.0.0.1:5060;lr>\n");
	struct wbuf in;
	wbuf_init(&in);
	for (const char *p = base; *p; p++) {
		if (*p == '\n')
			wbuf_put_u8(&in, '\r');
		wbuf_put_u8(&in, (uint8_t)*p);
	}
	free(base);
	free(send_from(&SRC, "INVITE sip:bob@roam.example SIP/2.0\n"
			     "Via: SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bKmutbase\n"
			     "Max-Forwards: 70\nFrom: <sip:alice@roam.example>;tag=a1\n"
			     "To: <sip:bob@roam.example>\nCall-ID: mb\nCSeq: 1 INVITE\n"
			     "Content-Length: 0\n\n", T0));
	int inv = find_sent("INVITE sip:bob@192.0.2.2", 0);
	cr_assert_geq(inv, 0);
	char *resp = response_to(SENT[inv].text, 180, "Ringing", "m1");
	uint32_t rnd = 12345;
	uint8_t *buf = malloc(in.len + strlen(resp) + 1);
	for (int it = 0; it < 3000; it++) {
		bool is_resp = it % 2;
		const uint8_t *src = is_resp ? (const uint8_t *)resp : in.buf;
		size_t len = is_resp ? strlen(resp) : in.len;
		memcpy(buf, src, len);
		for (int k = 0; k < 1 + it % 4; k++) {
			rnd = rnd * 1103515245u + 12345u;
			size_t pos = (rnd >> 8) % len;
			rnd = rnd * 1103515245u + 12345u;
			const char pick[] = ";:<>@\r\n 0z9.,=\"";
			buf[pos] = (rnd >> 16) % 3 ? (uint8_t)pick[(rnd >> 4) % (sizeof(pick) - 1)]
						   : (uint8_t)(rnd >> 20);
		}
		rnd = rnd * 1103515245u + 12345u;
		size_t cut = (rnd >> 8) % 5 == 0 ? (rnd >> 12) % len : len;
		struct wbuf out;
		wbuf_init(&out);
		struct roam_sockaddr d;
		sipd_handle(&S, buf, cut ? cut : 1, is_resp ? &BOBSRC : &SRC, T0 + (uint64_t)it, &out,
			    &d);
		wbuf_free(&out);
		if (NSENT > MAXSENT - 50)
			clear_sent();
	}
	free(buf);
	free(resp);
	wbuf_free(&in);
	/* (a mutated 180 may leave an INVITE branch proceeding: Timer C, 180 s, then CANCEL, 64*T1
	 * for the 487, the 408 upstream and Timer H, 64*T1, for its ACK: 300 s) */
	for (int k = 1; k <= 3000; k++) {
		sipd_proxy_timers(&S, T0 + 3000 + (uint64_t)k * 100);
		if (NSENT > MAXSENT - 50)
			clear_sent();
	}
	cr_assert_eq(table_count(&S.proxy.txns), 0, "everything ends");
	cr_assert_eq(S.stats.proxy_txn_created, S.stats.proxy_txn_freed);
}

/* After the transaction is gone, a 2xx retransmission of the UAS still reaches the caller
 * (16.7 step 2 / 16.11, stateless, by the received/rport of the next Via). */
Test(proxy, late_2xx_forwarded_statelessly)
{
	reg("bob", "sip:bob@192.0.2.20:5080", NULL, 1);
	send_invite("sip:bob@roam.example", "z9hG4bKlate", NULL);
	int inv = find_sent("INVITE ", 0);
	char *ok = response_to(SENT[inv].text, 200, "OK", "b9");
	respond_from_bob(ok, T0 + 10);
	for (int k = 1; k <= 400; k++)
		sipd_proxy_timers(&S, T0 + (uint64_t)k * 100);
	cr_assert_eq(table_count(&S.proxy.txns), 0, "accepted for 64*T1, then freed");
	clear_sent();
	respond_from_bob(ok, T0 + 41000);
	free(ok);
	int i = find_sent("SIP/2.0 200", 0);
	cr_assert_geq(i, 0, "forwarded statelessly");
	cr_assert_eq(port_of(&SENT[i].d), 5070);
	cr_assert_null(strstr(SENT[i].text, "127.0.0.1:5060;branch"), "our Via removed");
	cr_assert_eq(S.stats.proxy_stateless_responses, 1);
}

/* Timer C: an INVITE branch that rings for 3 minutes is cancelled; its 487 goes upstream. */
Test(proxy, timer_c)
{
	reg("bob", "sip:bob@192.0.2.20:5080", NULL, 1);
	send_invite("sip:bob@roam.example", "z9hG4bKtc", NULL);
	int inv = find_sent("INVITE ", 0);
	char *fwd = strdup(SENT[inv].text);
	char *ring = response_to(fwd, 180, "Ringing", "c1");
	respond_from_bob(ring, T0 + 10);
	free(ring);
	clear_sent();
	sipd_proxy_timers(&S, T0 + 100000);
	cr_assert_eq(find_sent("CANCEL", 0), -1, "not before 3 minutes");
	sipd_proxy_timers(&S, T0 + 10 + SIPD_TIMER_C);
	int c = find_sent("CANCEL sip:bob@192.0.2.20:5080", 0);
	cr_assert_geq(c, 0, "Timer C cancels the branch");
	char *r487 = response_to(fwd, 487, "Request Terminated", "c1");
	respond_from_bob(r487, T0 + 20 + SIPD_TIMER_C);
	cr_assert_geq(find_sent("SIP/2.0 487", 0), 0, "the 487 goes upstream");
	free(r487);
	free(fwd);
}

/* IPv6: a contact at an IPv6 literal gets a Via and Record-Route of sipd's IPv6 address. */
Test(proxy, ipv6_next_hop)
{
	teardown();
	char err[256] = "";
	memset(&S, 0, sizeof(S));
	char *conf = NULL;
	cr_assert(asprintf(&conf, "%s", CONF) > 0);
	char *l = strstr(conf, "listen: [\"127.0.0.1:5060\"]");
	cr_assert(l);
	char *fixed = NULL;
	cr_assert(asprintf(&fixed, "listen: [\"127.0.0.1:5060\", \"[2001:db8::1]:5060\"]%s",
			   l + strlen("listen: [\"127.0.0.1:5060\"]")) > 0);
	cr_assert_eq(sipd_conf_load_string(&S.conf, fixed, err, sizeof(err)), 0, "%s", err);
	free(conf);
	free(fixed);
	cr_assert_eq(sipd_core_init(&S, T0), 0);
	S.send = fake_send;
	reg("bob", "sip:bob@[2001:db8::20]:5080", NULL, 1);
	send_invite("sip:bob@roam.example", "z9hG4bKv6", NULL);
	int inv = find_sent("INVITE sip:bob@[2001:db8::20]:5080", 0);
	cr_assert_geq(inv, 0);
	cr_assert_eq(roam_sockaddr_family(&SENT[inv].d.addr), AF_INET6);
	cr_assert(strstr(SENT[inv].text, "Via: SIP/2.0/UDP [2001:db8::1]:5060;branch="), "%s",
		  SENT[inv].text);
	/* the Record-Route names the side the request came from (IPv4 here) */
	cr_assert(strstr(SENT[inv].text, "Record-Route: <sip:127.0.0.1:5060;lr>"), "%s",
		  SENT[inv].text);
	/* the forwarded request fed back: our IPv6 Via is recognised, the Request-URI changed
	 * since we saw it (a spiral, not a loop) */
	struct sipd_src me = SRC;
	roam_sockaddr_parse("[2001:db8::20]:5080", 0, &me.addr);
	char *back = strdup(SENT[inv].text);
	struct wbuf out;
	wbuf_init(&out);
	struct roam_sockaddr d;
	sipd_handle(&S, (const uint8_t *)back, strlen(back), &me, T0 + 5, &out, &d);
	wbuf_free(&out);
	free(back);
	cr_assert_eq(S.stats.proxy_spirals, 1, "our Via seen, the Request-URI changed: a spiral");
}
