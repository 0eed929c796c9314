/* Unit tests: the SIP user agent core (roam/sip_ua.h) on a fake clock and a fake transport:
 * registration with a digest challenge (SHA-256 preferred) and refresh, retransmission and
 * timeout, INVITE as callee (2xx retransmitted until the ACK) and as caller (ACK along the
 * route set), re-INVITE with the new Contact and SDP after an address change, the NAT
 * continuity claim and its 420 fallback, BYE; malformed and truncated input never crashes.
 * Also the SDP and RTP codecs and the RTP receive statistics, the digest computations, and the
 * agent's module glue (reload check, control commands over a real control socket). */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <osipparser2/osip_parser.h>

#include "roam/sip_ua.h"

#define MAXSENT 64

struct fake {
	char *sent[MAXSENT];
	size_t nsent;
	struct roam_sockaddr dst[MAXSENT];
	int events[8];
	struct sip_call last_call;
	int natc[2];
	int fail_sends; /* the next N sends fail (no route) */
};

static struct fake F;

static int f_send(void *arg, const struct roam_sockaddr *dst, const char *buf, size_t len)
{
	(void)arg;
	if (F.fail_sends > 0) {
		F.fail_sends--;
		return -ENETUNREACH;
	}
	if (F.nsent < MAXSENT) {
		F.sent[F.nsent] = strndup(buf, len);
		F.dst[F.nsent] = *dst;
		F.nsent++;
	}
	return 0;
}

static void f_event(void *arg, struct sip_call *c, enum sip_call_event ev)
{
	(void)arg;
	F.events[ev]++;
	F.last_call = *c;
}

static void f_natc(void *arg, unsigned server, const struct roam_ipaddr *old,
		   const struct roam_ipaddr *n, enum sip_natc_result res)
{
	(void)arg, (void)server, (void)old, (void)n;
	F.natc[res]++;
}

static const struct sip_ua_io fake_io = { .send = f_send, .call_event = f_event,
					  .natc_result = f_natc };

static void reset(void)
{
	for (size_t i = 0; i < F.nsent; i++)
		free(F.sent[i]);
	memset(&F, 0, sizeof(F));
}

static const char *last(void)
{
	cr_assert(F.nsent > 0, "nothing sent");
	return F.sent[F.nsent - 1];
}

static struct roam_sockaddr sa(const char *s)
{
	struct roam_sockaddr a;
	cr_assert_eq(roam_sockaddr_parse(s, 5060, &a), 0);
	return a;
}

static struct roam_ipaddr ip(const char *s)
{
	struct roam_ipaddr a;
	cr_assert_eq(roam_ipaddr_parse(s, &a), 0);
	return a;
}

static struct sip_ua *mk(bool natc)
{
	static struct roam_sockaddr servers[1];
	servers[0] = sa("192.0.2.1:5060");
	struct sip_ua_params p = { .aor = "sip:mn@roam.example", .password = "secret",
				   .servers = servers, .nservers = 1, .sip_port = 5060,
				   .media_port = 16384, .expires = 60, .nat_continuity = natc,
				   .io = &fake_io };
	struct sip_ua *ua;
	cr_assert_eq(sip_ua_new(&p, &ua), 0);
	return ua;
}

/* mk() with the mobile's address set to addr. */
static struct sip_ua *mk_at(bool natc, const char *addr)
{
	struct sip_ua *ua = mk(natc);
	struct roam_ipaddr a = ip(addr);
	sip_ua_set_address(ua, &a, 0);
	return ua;
}

/* The value of header name (first occurrence) in msg, into out. */
static bool hdr(const char *msg, const char *name, char *out, size_t len)
{
	char pat[64];
	snprintf(pat, sizeof(pat), "\r\n%s:", name);
	const char *p = strcasestr(msg, pat);
	if (!p)
		return false;
	p += strlen(pat);
	while (*p == ' ')
		p++;
	const char *e = strstr(p, "\r\n");
	size_t n = (size_t)(e - p);
	if (n >= len)
		n = len - 1;
	memcpy(out, p, n);
	out[n] = 0;
	return true;
}

/* A response to request req: code, extra header lines, To tag, body. */
static char *reply(const char *req, int code, const char *extra, const char *totag,
		   const char *body)
{
	char via[256], from[256], to[256], cid[128], cseq[64];
	static char buf[4096];
	cr_assert(hdr(req, "Via", via, sizeof(via)));
	cr_assert(hdr(req, "From", from, sizeof(from)));
	cr_assert(hdr(req, "To", to, sizeof(to)));
	cr_assert(hdr(req, "Call-ID", cid, sizeof(cid)));
	cr_assert(hdr(req, "CSeq", cseq, sizeof(cseq)));
	snprintf(buf, sizeof(buf),
		 "SIP/2.0 %d X\r\nVia: %s\r\nFrom: %s\r\nTo: %s%s%s\r\nCall-ID: %s\r\nCSeq: %s\r\n"
		 "%s%sContent-Length: %zu\r\n\r\n%s",
		 code, via, from, to, totag ? ";tag=" : "", totag ? totag : "", cid, cseq,
		 extra ? extra : "", body ? "Content-Type: application/sdp\r\n" : "",
		 body ? strlen(body) : 0, body ? body : "");
	return buf;
}

static void feed(struct sip_ua *ua, const char *msg, uint64_t now)
{
	struct roam_sockaddr src = sa("192.0.2.1:5060");
	sip_ua_input(ua, msg, strlen(msg), &src, now);
}

static const char *param(const char *s, const char *name, char *out, size_t len)
{
	char pat[32];
	snprintf(pat, sizeof(pat), "%s=", name);
	const char *p = strstr(s, pat);
	cr_assert(p, "no %s in %s", name, s);
	p += strlen(pat);
	bool q = *p == '"';
	if (q)
		p++;
	size_t n = strcspn(p, q ? "\"" : ", \r");
	snprintf(out, len, "%.*s", (int)n, p);
	return out;
}

static void register_ok(struct sip_ua *ua, uint64_t now)
{
	sip_ua_register(ua, 60, now);
	feed(ua, reply(last(), 200, "Contact: <sip:mn@10.0.1.10:5060>;expires=60\r\n", "t1", NULL),
	     now);
}

TestSuite(sip_ua, .init = reset, .fini = reset);

Test(sip_ua, register_digest_sha256_then_refresh)
{
	struct sip_ua *ua = mk_at(false, "10.0.1.10");
	sip_ua_register(ua, 60, 0);
	cr_assert_eq(F.nsent, 1);
	cr_assert(strncmp(last(), "REGISTER sip:roam.example SIP/2.0\r\n", 35) == 0);
	cr_assert(strstr(last(), "Contact: <sip:mn@10.0.1.10:5060>;expires=60"));
	cr_assert(strstr(last(), "Via: SIP/2.0/UDP 10.0.1.10:5060;branch=z9hG4bK"));
	/* both algorithms offered, MD5 first: SHA-256 is taken */
	feed(ua, reply(last(), 401,
		       "WWW-Authenticate: Digest realm=\"roam.example\", nonce=\"abc123\", "
		       "qop=\"auth\", algorithm=MD5\r\n"
		       "WWW-Authenticate: Digest realm=\"roam.example\", nonce=\"abc123\", "
		       "qop=\"auth\", algorithm=SHA-256\r\n",
		       "t1", NULL),
	     10);
	cr_assert_eq(F.nsent, 2);
	char auth[1024], nc[16], cn[64], resp[80], want[65];
	cr_assert(hdr(last(), "Authorization", auth, sizeof(auth)));
	cr_assert(strstr(auth, "algorithm=SHA-256"));
	param(auth, "nc", nc, sizeof(nc));
	param(auth, "cnonce", cn, sizeof(cn));
	param(auth, "response", resp, sizeof(resp));
	cr_assert_eq(sip_digest_response(SIP_DIGEST_SHA256, "mn", "roam.example", "secret", "abc123",
					 nc, cn, "auth", "REGISTER", "sip:roam.example", want), 0);
	cr_assert_str_eq(resp, want);
	cr_assert_str_eq(nc, "00000001");
	feed(ua, reply(last(), 200, "Contact: <sip:mn@10.0.1.10:5060>;expires=30\r\n", "t1", NULL),
	     20);
	struct sip_reg_info ri;
	sip_ua_reg_info(ua, 0, &ri);
	cr_assert_eq(ri.state, SIP_REG_OK);
	cr_assert_eq(ri.expires, 30);
	/* refresh at 80 %: 24 s, with the cached challenge (nc 2), not before */
	size_t n = F.nsent;
	sip_ua_tick(ua, 23000);
	cr_assert_eq(F.nsent, n);
	sip_ua_tick(ua, 24100);
	cr_assert_eq(F.nsent, n + 1);
	cr_assert(hdr(last(), "Authorization", auth, sizeof(auth)));
	cr_assert_str_eq(param(auth, "nc", nc, sizeof(nc)), "00000002");
	/* a wrong password ends with failure, not a loop: the same nonce again is final */
	feed(ua, reply(last(), 401,
		       "WWW-Authenticate: Digest realm=\"roam.example\", nonce=\"abc123\", "
		       "qop=\"auth\", algorithm=SHA-256\r\n", "t1", NULL), 24200);
	sip_ua_reg_info(ua, 0, &ri);
	cr_assert_eq(ri.state, SIP_REG_FAILED);
	sip_ua_free(ua);
}

Test(sip_ua, register_md5_only)
{
	struct sip_ua *ua = mk_at(false, "10.0.1.10");
	sip_ua_register(ua, 60, 0);
	feed(ua, reply(last(), 401, "WWW-Authenticate: Digest realm=\"r\", nonce=\"n1\", qop=\"auth\"\r\n",
		       "t", NULL), 0);
	char auth[1024];
	cr_assert(hdr(last(), "Authorization", auth, sizeof(auth)));
	cr_assert(strstr(auth, "algorithm=MD5"));
	sip_ua_free(ua);
}

Test(sip_ua, register_retransmission_and_timeout)
{
	struct sip_ua *ua = mk_at(false, "10.0.1.10");
	sip_ua_register(ua, 60, 0);
	cr_assert_eq(F.nsent, 1);
	sip_ua_tick(ua, 499);
	cr_assert_eq(F.nsent, 1);
	sip_ua_tick(ua, 500); /* Timer E: T1 */
	cr_assert_eq(F.nsent, 2);
	cr_assert_str_eq(F.sent[0], F.sent[1]);
	sip_ua_tick(ua, 1400);
	cr_assert_eq(F.nsent, 2);
	sip_ua_tick(ua, 1500); /* 2 T1 later */
	cr_assert_eq(F.nsent, 3);
	for (uint64_t t = 1550; t < 31950; t += 50)
		sip_ua_tick(ua, t);
	/* capped at T2: 0.5 1.5 3.5 7.5 11.5 15.5 19.5 23.5 27.5 31.5 */
	cr_assert_eq(F.nsent, 11);
	sip_ua_tick(ua, 32000); /* Timer F */
	struct sip_reg_info ri;
	sip_ua_reg_info(ua, 0, &ri);
	cr_assert_eq(ri.state, SIP_REG_FAILED);
	cr_assert_eq(sip_ua_stats(ua)->timeouts, 1);
	/* a provisional response moves the retransmission interval to T2 */
	sip_ua_tick(ua, 37000); /* retry after 5 s */
	size_t n = F.nsent;
	feed(ua, reply(last(), 100, NULL, NULL, NULL), 37010);
	sip_ua_tick(ua, 37600); /* Timer E as scheduled, then reset to T2 (17.1.2.2) */
	cr_assert_eq(F.nsent, n + 1);
	sip_ua_tick(ua, 41500);
	cr_assert_eq(F.nsent, n + 1);
	sip_ua_tick(ua, 41600);
	cr_assert_eq(F.nsent, n + 2);
	sip_ua_free(ua);
}

static const char *INVITE_IN =
	"INVITE sip:mn@10.0.1.10:5060 SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKproxy1;rport\r\n"
	"Via: SIP/2.0/UDP 10.0.3.2:5060;branch=z9hG4bKcaller1\r\n"
	"Record-Route: <sip:192.0.2.1:5060;lr>\r\n"
	"Max-Forwards: 69\r\n"
	"From: <sip:cn@roam.example>;tag=cntag\r\n"
	"To: <sip:mn@roam.example>\r\n"
	"Call-ID: call1@10.0.3.2\r\n"
	"CSeq: 7 INVITE\r\n"
	"Contact: <sip:cn@10.0.3.2:5060>\r\n"
	"Content-Type: application/sdp\r\n"
	"Content-Length: 120\r\n\r\n"
	"v=0\r\no=x 1 1 IN IP4 10.0.3.2\r\ns=-\r\nc=IN IP4 10.0.3.2\r\nt=0 0\r\n"
	"m=audio 20000 RTP/AVP 0\r\na=sendrecv\r\n";

Test(sip_ua, answer_invite_2xx_until_ack_reinvite_bye)
{
	struct sip_ua *ua = mk_at(false, "10.0.1.10");
	/* fix the Content-Length of the test message */
	char inv[2048];
	const char *body = strstr(INVITE_IN, "\r\n\r\n") + 4;
	snprintf(inv, sizeof(inv), "%.*s", (int)(body - INVITE_IN), INVITE_IN);
	char *cl = strstr(inv, "Content-Length: 120");
	char num[8];
	snprintf(num, sizeof(num), "%3zu", strlen(body));
	memcpy(cl + 16, num, 3);
	strcat(inv, body);
	feed(ua, inv, 0);
	cr_assert_eq(F.events[SIP_CALL_EV_ESTABLISHED], 1);
	char b[64];
	cr_assert_str_eq(roam_sockaddr_fmt(&F.last_call.peer_media, b, sizeof(b)), "10.0.3.2:20000");
	cr_assert(strncmp(last(), "SIP/2.0 200 OK", 14) == 0);
	cr_assert(strstr(last(), "c=IN IP4 10.0.1.10"));
	cr_assert(strstr(last(), "m=audio 16384 RTP/AVP 0"));
	cr_assert(strstr(last(), "Record-Route: <sip:192.0.2.1:5060;lr>"));
	cr_assert(strstr(last(), "Contact: <sip:mn@10.0.1.10:5060>"));
	char to[256];
	cr_assert(hdr(last(), "To", to, sizeof(to)));
	const char *tag = strstr(to, "tag=");
	cr_assert(tag);
	/* the 2xx again after T1, until the ACK */
	size_t n = F.nsent;
	sip_ua_tick(ua, 500);
	cr_assert_eq(F.nsent, n + 1);
	/* a retransmitted INVITE gets the same 200 */
	feed(ua, inv, 600);
	cr_assert_eq(F.nsent, n + 2);
	cr_assert_str_eq(F.sent[n], F.sent[n + 1]);
	char ack[1024];
	snprintf(ack, sizeof(ack),
		 "ACK sip:mn@10.0.1.10:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKack1\r\n"
		 "From: <sip:cn@roam.example>;tag=cntag\r\nTo: <sip:mn@roam.example>;%s\r\n"
		 "Call-ID: call1@10.0.3.2\r\nCSeq: 7 ACK\r\nContent-Length: 0\r\n\r\n", tag);
	feed(ua, ack, 700);
	n = F.nsent;
	for (uint64_t t = 700; t < 10000; t += 50)
		sip_ua_tick(ua, t);
	cr_assert_eq(F.nsent, n, "2xx retransmitted after the ACK");

	/* move: re-INVITE along the route set with the new Contact and SDP */
	struct roam_ipaddr a2 = ip("10.0.2.10");
	sip_ua_set_address(ua, &a2, 10000);
	const char *ri = NULL;
	for (size_t i = n; i < F.nsent; i++)
		if (strncmp(F.sent[i], "INVITE ", 7) == 0)
			ri = F.sent[i];
	cr_assert(ri, "no re-INVITE");
	cr_assert(strncmp(ri, "INVITE sip:cn@10.0.3.2:5060 SIP/2.0", 35) == 0);
	cr_assert(strstr(ri, "Route: <sip:192.0.2.1:5060;lr>"));
	cr_assert(strstr(ri, "Contact: <sip:mn@10.0.2.10:5060>"));
	cr_assert(strstr(ri, "c=IN IP4 10.0.2.10"));
	cr_assert(strstr(ri, "To: <sip:cn@roam.example>;tag=cntag"));
	cr_assert(strstr(ri, "Via: SIP/2.0/UDP 10.0.2.10:5060"));
	cr_assert_eq(sip_ua_stats(ua)->tx_reinvite, 1);
	cr_assert_eq(sip_ua_stats(ua)->moves, 1);
	/* the REGISTER went out too, from the new address */
	bool reg = false;
	for (size_t i = n; i < F.nsent; i++)
		reg |= strncmp(F.sent[i], "REGISTER", 8) == 0 &&
		       strstr(F.sent[i], "Contact: <sip:mn@10.0.2.10:5060>;expires=60") &&
		       strstr(F.sent[i], "Contact: <sip:mn@10.0.1.10:5060>;expires=0");
	cr_assert(reg);
	/* its 200: ACKed towards the route */
	const char *sdp2 = "v=0\r\no=x 1 2 IN IP4 10.0.3.2\r\ns=-\r\nc=IN IP4 10.0.3.2\r\nt=0 0\r\n"
			   "m=audio 20000 RTP/AVP 0\r\n";
	char rcopy[4096];
	snprintf(rcopy, sizeof(rcopy), "%s", ri);
	feed(ua, reply(rcopy, 200, "Contact: <sip:cn@10.0.3.2:5060>\r\n", NULL, sdp2), 10100);
	cr_assert(strncmp(last(), "ACK sip:cn@10.0.3.2:5060", 24) == 0);
	char d[64];
	cr_assert_str_eq(roam_sockaddr_fmt(&F.dst[F.nsent - 1], d, sizeof(d)), "192.0.2.1:5060");
	/* BYE from the peer ends the call */
	char bye[1024];
	snprintf(bye, sizeof(bye),
		 "BYE sip:mn@10.0.2.10:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKbye1\r\n"
		 "From: <sip:cn@roam.example>;tag=cntag\r\nTo: <sip:mn@roam.example>;%s\r\n"
		 "Call-ID: call1@10.0.3.2\r\nCSeq: 8 BYE\r\nContent-Length: 0\r\n\r\n", tag);
	feed(ua, bye, 11000);
	cr_assert(strncmp(last(), "SIP/2.0 200 OK", 14) == 0);
	cr_assert_eq(F.events[SIP_CALL_EV_ENDED], 1);
	cr_assert_null(sip_ua_call_at(ua, 0));
	/* a second BYE: no dialog, 481 */
	bye[strlen("BYE sip:mn@10.0.2.10:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKbye")] = '2';
	feed(ua, bye, 11100);
	cr_assert(strncmp(last(), "SIP/2.0 481", 11) == 0);
	sip_ua_free(ua);
}

Test(sip_ua, call_out_ack_along_route)
{
	struct sip_ua *ua = mk_at(false, "10.0.1.10");
	struct sip_call *c;
	cr_assert_eq(sip_ua_call(ua, "sip:cn@roam.example", 0, &c), 0);
	cr_assert(strncmp(last(), "INVITE sip:cn@roam.example SIP/2.0", 34) == 0);
	cr_assert(strstr(last(), "m=audio 16384 RTP/AVP 0"));
	char d[64];
	cr_assert_str_eq(roam_sockaddr_fmt(&F.dst[0], d, sizeof(d)), "192.0.2.1:5060");
	/* Timer A: INVITE again after T1, 2 T1 */
	sip_ua_tick(ua, 500);
	cr_assert_eq(F.nsent, 2);
	char inv[4096];
	snprintf(inv, sizeof(inv), "%s", last());
	feed(ua, reply(inv, 180, NULL, "cnt", NULL), 600);
	sip_ua_tick(ua, 1500); /* proceeding: no more retransmissions */
	cr_assert_eq(F.nsent, 2);
	const char *sdp = "v=0\r\no=x 1 1 IN IP4 10.0.3.2\r\ns=-\r\nc=IN IP4 10.0.3.2\r\nt=0 0\r\n"
			  "m=audio 20000 RTP/AVP 0\r\n";
	char *r200 = reply(inv, 200,
			   "Record-Route: <sip:192.0.2.9:5060;lr>\r\nRecord-Route: <sip:192.0.2.1:5060;lr>\r\n"
			   "Contact: <sip:cn@10.0.3.2:5060>\r\n", "cnt", sdp);
	char r200c[4096];
	snprintf(r200c, sizeof(r200c), "%s", r200);
	feed(ua, r200c, 2000);
	cr_assert_eq(F.events[SIP_CALL_EV_ESTABLISHED], 1);
	cr_assert_eq(c->state, SIP_CALL_CONFIRMED);
	cr_assert(strncmp(last(), "ACK sip:cn@10.0.3.2:5060 SIP/2.0", 32) == 0);
	/* route set reversed: first the proxy nearest to us */
	const char *r1 = strstr(last(), "Route: <sip:192.0.2.1:5060;lr>");
	const char *r2 = strstr(last(), "Route: <sip:192.0.2.9:5060;lr>");
	cr_assert(r1 && r2 && r1 < r2);
	cr_assert_str_eq(roam_sockaddr_fmt(&F.dst[F.nsent - 1], d, sizeof(d)), "192.0.2.1:5060");
	/* a retransmitted 2xx is ACKed again */
	size_t n = F.nsent;
	feed(ua, r200c, 2500);
	cr_assert_eq(F.nsent, n + 1);
	cr_assert_str_eq(F.sent[n], F.sent[n - 1]);
	/* hang up: BYE along the route */
	cr_assert_eq(sip_ua_hangup(ua, c, 3000), 0);
	cr_assert(strncmp(last(), "BYE sip:cn@10.0.3.2:5060", 24) == 0);
	cr_assert_eq(F.events[SIP_CALL_EV_ENDED], 1);
	sip_ua_free(ua);
}

Test(sip_ua, invite_failure_acked_and_ended)
{
	struct sip_ua *ua = mk_at(false, "10.0.1.10");
	struct sip_call *c;
	cr_assert_eq(sip_ua_call(ua, "sip:nobody@roam.example", 0, &c), 0);
	char inv[4096];
	snprintf(inv, sizeof(inv), "%s", last());
	feed(ua, reply(inv, 404, NULL, "x", NULL), 100);
	cr_assert(strncmp(last(), "ACK sip:nobody@roam.example", 27) == 0);
	cr_assert(strstr(last(), "z9hG4bK")); /* same branch as the INVITE */
	char v1[200], v2[200];
	hdr(inv, "Via", v1, sizeof(v1));
	hdr(last(), "Via", v2, sizeof(v2));
	cr_assert_str_eq(v1, v2);
	cr_assert_eq(F.events[SIP_CALL_EV_ENDED], 1);
	sip_ua_free(ua);
}

Test(sip_ua, nat_continuity_claim_420_falls_back_to_reinvite)
{
	struct sip_ua *ua = mk_at(true, "10.0.1.10");
	register_ok(ua, 0);
	struct sip_call *c;
	cr_assert_eq(sip_ua_call(ua, "sip:cn@roam.example", 0, &c), 0);
	char inv[4096];
	snprintf(inv, sizeof(inv), "%s", last());
	const char *sdp = "v=0\r\no=x 1 1 IN IP4 10.0.3.2\r\ns=-\r\nc=IN IP4 10.0.3.2\r\nt=0 0\r\n"
			  "m=audio 20000 RTP/AVP 0\r\n";
	feed(ua, reply(inv, 200, "Contact: <sip:cn@10.0.3.2:5060>\r\n", "cnt", sdp), 100);
	cr_assert_eq(c->state, SIP_CALL_CONFIRMED);
	size_t n = F.nsent;
	struct roam_ipaddr a2 = ip("10.0.2.10");
	sip_ua_set_address(ua, &a2, 1000);
	/* only the claim goes out; the re-INVITE waits for the registrar's answer */
	cr_assert_eq(F.nsent, n + 1);
	cr_assert(strstr(last(), "Require: x-roam-nat-continuity"));
	cr_assert(strstr(last(), "X-Roam-Previous-Contact: <sip:mn@10.0.1.10:5060>"));
	char reg[4096];
	snprintf(reg, sizeof(reg), "%s", last());
	feed(ua, reply(reg, 420, "Unsupported: x-roam-nat-continuity\r\n", "t", NULL), 1100);
	cr_assert_eq(F.natc[SIP_NATC_REFUSED], 1);
	bool plain_reg = false, reinv = false;
	for (size_t i = n + 1; i < F.nsent; i++) {
		plain_reg |= strncmp(F.sent[i], "REGISTER", 8) == 0 && !strstr(F.sent[i], "Require:");
		reinv |= strncmp(F.sent[i], "INVITE", 6) == 0 && strstr(F.sent[i], "c=IN IP4 10.0.2.10");
	}
	cr_assert(plain_reg);
	cr_assert(reinv);
	sip_ua_free(ua);
}

Test(sip_ua, nat_continuity_accepted_no_reinvite)
{
	struct sip_ua *ua = mk_at(true, "10.0.1.10");
	register_ok(ua, 0);
	struct roam_ipaddr a2 = ip("10.0.2.10");
	sip_ua_set_address(ua, &a2, 1000);
	char reg[4096];
	snprintf(reg, sizeof(reg), "%s", last());
	size_t n = F.nsent;
	feed(ua, reply(reg, 200, "Contact: <sip:mn@10.0.2.10:5060>;expires=60\r\n"
		       "X-Roam-Previous-Contact: <sip:mn@10.0.1.10:5060>\r\n", "t", NULL), 1100);
	cr_assert_eq(F.natc[SIP_NATC_ACCEPTED], 1);
	cr_assert_eq(F.nsent, n);
	sip_ua_free(ua);
}

Test(sip_ua, malformed_and_truncated_input)
{
	struct sip_ua *ua = mk_at(false, "10.0.1.10");
	register_ok(ua, 0);
	size_t len = strlen(INVITE_IN);
	for (size_t i = 0; i < len; i++) {
		struct roam_sockaddr src = sa("192.0.2.1:5060");
		sip_ua_input(ua, INVITE_IN, i, &src, 10);
	}
	static const char *bad[] = {
		"", "\r\n\r\n", "SIP/2.0 200\r\n\r\n", "INVITE\r\n\r\n", "GARBAGE garbage\r\n",
		"SIP/2.0 99999 X\r\nVia: SIP/2.0/UDP a;branch=z9hG4bKx\r\nFrom: <sip:a@b>\r\nTo: <sip:a@b>\r\n"
		"Call-ID: x\r\nCSeq: 1 REGISTER\r\n\r\n",
		"BYE sip:x SIP/2.0\r\nFrom: <sip:a@b>\r\nTo: <sip:a@b>\r\nCall-ID: x\r\nCSeq: 1 BYE\r\n\r\n",
		"INVITE sip:mn@x SIP/2.0\r\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bKq\r\nFrom: <sip:a@b>;tag=1\r\n"
		"To: <sip:a@b>\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\nContent-Type: application/sdp\r\n"
		"Content-Length: 10\r\n\r\nv=0\r\nm=xx\r\n",
		"INVITE sip:mn@x SIP/2.0\r\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bKr\r\nFrom: <sip:a@b>;tag=1\r\n"
		"To: <sip:a@b>\r\nCall-ID: y\r\nCSeq: 1 BYE\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		feed(ua, bad[i], 20);
	uint8_t junk[512];
	srand(1);
	for (int k = 0; k < 2000; k++) {
		size_t n = (size_t)(rand() % 512);
		for (size_t i = 0; i < n; i++)
			junk[i] = (uint8_t)(rand() % 3 ? ' ' + rand() % 95 : "\r\n:;<>@"[rand() % 7]);
		struct roam_sockaddr src = sa("192.0.2.1:5060");
		sip_ua_input(ua, junk, n, &src, 30);
	}
	cr_assert_gt(sip_ua_stats(ua)->drop_unparseable, 0);
	cr_assert_null(sip_ua_call_at(ua, 1)); /* nothing half-made stays behind */
	struct sip_reg_info ri;
	sip_ua_reg_info(ua, 0, &ri);
	cr_assert_eq(ri.state, SIP_REG_OK);
	sip_ua_free(ua);
}

/* ---- codecs ---- */

Test(sip_sdp, build_parse_and_refuse)
{
	char b[512];
	struct roam_ipaddr a = ip("10.0.2.10");
	struct roam_sockaddr m;
	int n = sip_sdp_build(b, sizeof(b), &a, 16384, 42, 3);
	cr_assert_gt(n, 0);
	cr_assert_eq(sip_sdp_parse(b, (size_t)n, &m), 0);
	char s[64];
	cr_assert_str_eq(roam_sockaddr_fmt(&m, s, sizeof(s)), "10.0.2.10:16384");
	/* media-level c= wins over session-level */
	const char *two = "v=0\r\nc=IN IP4 1.1.1.1\r\nm=audio 4000 RTP/AVP 0\r\nc=IN IP4 2.2.2.2\r\n";
	cr_assert_eq(sip_sdp_parse(two, strlen(two), &m), 0);
	cr_assert_str_eq(roam_sockaddr_fmt(&m, s, sizeof(s)), "2.2.2.2:4000");
	static const char *bad[] = { "v=0\r\n", "v=0\r\nc=IN IP4 1.1.1.1\r\n",
				     "m=audio 4000 RTP/AVP 0\r\n", "c=IN IP4 zz\r\nm=audio 1 RTP/AVP 0\r\n",
				     "c=IN IP6 1.1.1.1\r\nm=audio 1 RTP/AVP 0\r\n",
				     "c=IN IP4 1.1.1.1\r\nm=audio x RTP/AVP 0\r\n",
				     "c=IN IP4 1.1.1.1\r\nm=audio 99999 RTP/AVP 0\r\n" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_lt(sip_sdp_parse(bad[i], strlen(bad[i]), &m), 0, "%s", bad[i]);
	for (int k = 0; k < n; k++)
		(void)sip_sdp_parse(b, (size_t)k, &m); /* truncations: no crash */
	cr_assert_eq(sip_sdp_build(b, 20, &a, 1, 1, 1), -ENOSPC);
}

Test(sip_rtp, encode_decode_truncated)
{
	/* RFC 3550 5.1 header: V=2, M, PT 0, seq 0x1234, ts 0xdeadbeef, ssrc 0x01020304 */
	static const uint8_t want[] = { 0x80, 0x80, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef,
					0x01, 0x02, 0x03, 0x04, 0xff, 0xff };
	uint8_t b[64];
	struct sip_rtp_hdr h = { .pt = 0, .marker = true, .seq = 0x1234, .ts = 0xdeadbeef,
				 .ssrc = 0x01020304 }, d;
	size_t off;
	cr_assert_eq(sip_rtp_encode(&h, 2, b, sizeof(b)), 14);
	cr_assert_arr_eq(b, want, sizeof(want));
	cr_assert_eq(sip_rtp_decode(b, 14, &d, &off), 0);
	cr_assert_eq(off, 12);
	cr_assert(d.marker && d.seq == 0x1234 && d.ts == 0xdeadbeef && d.ssrc == 0x01020304);
	for (size_t i = 0; i < 12; i++)
		cr_assert_lt(sip_rtp_decode(b, i, &d, &off), 0);
	b[0] = 0x40; /* version 1 */
	cr_assert_lt(sip_rtp_decode(b, 14, &d, &off), 0);
	b[0] = 0x82; /* two CSRCs that are not there */
	cr_assert_lt(sip_rtp_decode(b, 14, &d, &off), 0);
	cr_assert_eq(sip_rtp_encode(&h, 60, b, sizeof(b)), -ENOSPC);
}

Test(sip_rtp, rx_loss_gap_wrap)
{
	struct sip_rtp_rx s = { 0 };
	struct roam_sockaddr src = sa("10.0.1.10:16384");
	struct sip_rtp_hdr h = { .ssrc = 7 };
	uint64_t t = 1000;
	for (uint32_t i = 0; i < 100; i++) { /* seq 65500 .. wraps; 10 lost in the middle */
		h.seq = (uint16_t)(65500 + i);
		if (i >= 40 && i < 50) {
			t += 20;
			continue;
		}
		sip_rtp_rx_account(&s, &h, &src, t);
		t += i == 60 ? 700 : 20;
	}
	cr_assert_eq(s.received, 90);
	cr_assert_eq(sip_rtp_rx_lost(&s), 10);
	cr_assert_eq(s.longest_gap_ms, 700);
	h.seq = (uint16_t)(65500 + 70); /* a duplicate */
	sip_rtp_rx_account(&s, &h, &src, t);
	cr_assert_eq(s.reordered, 1);
}

Test(sip_digest, rfc2617_md5_vector)
{
	/* RFC 2617 3.5 (qop=auth), response 6629fae49393a05397450978507c4ef1 */
	char out[65];
	cr_assert_eq(sip_digest_response(SIP_DIGEST_MD5, "Mufasa", "testrealm@host.com",
					 "Circle Of Life", "dcd98b7102dd2f0e8b11d0f600bfb0c093",
					 "00000001", "0a4f113b", "auth", "GET", "/dir/index.html", out),
		     0);
	cr_assert_str_eq(out, "6629fae49393a05397450978507c4ef1");
	/* the same from the HA1 a registrar stores (sipd's check) */
	char ha1[65];
	cr_assert_eq(sip_digest_ha1(SIP_DIGEST_MD5, "Mufasa", "testrealm@host.com",
				    "Circle Of Life", ha1), 0);
	cr_assert_str_eq(ha1, "939e7578ed9e3c518a452acee763bce9");
	cr_assert_eq(sip_digest_response_ha1(SIP_DIGEST_MD5, ha1,
					     "dcd98b7102dd2f0e8b11d0f600bfb0c093", "00000001",
					     "0a4f113b", "auth", "GET", "/dir/index.html", out), 0);
	cr_assert_str_eq(out, "6629fae49393a05397450978507c4ef1");
}

Test(sip_digest, rfc2069_form_without_qop)
{
	/* RFC 2617 3.2.2.1 without qop: H(HA1:nonce:HA2) (hashlib) */
	char out[65];
	cr_assert_eq(sip_digest_response_ha1(SIP_DIGEST_MD5, "939e7578ed9e3c518a452acee763bce9",
					     "dcd98b7102dd2f0e8b11d0f600bfb0c093", NULL, NULL, NULL,
					     "GET", "/dir/index.html", out), 0);
	cr_assert_str_eq(out, "670fd8c2df070c60b045671b8b24ff02");
}

Test(sip_digest, rfc7616_sha256_vector)
{
	/* RFC 7616 3.9.1, SHA-256 */
	char out[65];
	cr_assert_eq(sip_digest_response(SIP_DIGEST_SHA256, "Mufasa", "http-auth@example.org",
					 "Circle of Life",
					 "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", "00000001",
					 "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", "auth", "GET",
					 "/dir/index.html", out), 0);
	cr_assert_str_eq(out, "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
	char ha1[65];
	const char *a1 = "Mufasa:http-auth@example.org:Circle of Life";
	cr_assert_eq(sip_digest_hex(SIP_DIGEST_SHA256, a1, strlen(a1), ha1), 0);
	cr_assert_str_eq(ha1, "7987c64c30e25f1b74be53f966b49b90f2808aa92faf9a00262392d7b4794232");
	cr_assert_eq(sip_digest_ha1(SIP_DIGEST_SHA256, "Mufasa", "http-auth@example.org",
				    "Circle of Life", out), 0);
	cr_assert_str_eq(out, ha1);
	cr_assert_eq(sip_digest_response_ha1(SIP_DIGEST_SHA256, ha1,
					     "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", "00000001",
					     "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", "auth",
					     "GET", "/dir/index.html", out), 0);
	cr_assert_str_eq(out, "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
}

Test(sip_ua, refused_send_retried_at_next_tick)
{
	struct sip_ua *ua = mk_at(false, "10.0.1.10");
	F.fail_sends = 2; /* no route yet right after a move */
	sip_ua_register(ua, 60, 0);
	cr_assert_eq(F.nsent, 0);
	sip_ua_tick(ua, 50);
	cr_assert_eq(F.nsent, 0);
	sip_ua_tick(ua, 100); /* third try: out, 100 ms after, not T1 */
	cr_assert_eq(F.nsent, 1);
	cr_assert_eq(sip_ua_stats(ua)->retransmissions, 0);
	sip_ua_tick(ua, 599); /* then the usual Timer E */
	cr_assert_eq(F.nsent, 1);
	sip_ua_tick(ua, 600);
	cr_assert_eq(F.nsent, 2);
	sip_ua_free(ua);
}

static void answer_incoming(struct sip_ua *ua, char *tag, size_t taglen)
{
	char inv[2048];
	const char *body = "v=0\r\no=x 1 1 IN IP4 10.0.3.2\r\ns=-\r\nc=IN IP4 10.0.3.2\r\nt=0 0\r\n"
			   "m=audio 20000 RTP/AVP 0\r\n";
	snprintf(inv, sizeof(inv),
		 "INVITE sip:cn@10.0.3.2:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.1.10:5060;branch=z9hG4bKi1\r\n"
		 "From: <sip:mn@roam.example>;tag=mntag\r\nTo: <sip:cn@roam.example>\r\n"
		 "Call-ID: c2@10.0.1.10\r\nCSeq: 1 INVITE\r\nContact: <sip:mn@10.0.1.10:5060>\r\n"
		 "Content-Type: application/sdp\r\nContent-Length: %zu\r\n\r\n%s", strlen(body), body);
	feed(ua, inv, 0);
	char to[256];
	cr_assert(hdr(last(), "To", to, sizeof(to)));
	snprintf(tag, taglen, "%s", strstr(to, "tag=") + 4);
}

Test(sip_ua, reinvite_received_moves_the_media_target)
{
	struct sip_ua *ua = mk_at(false, "10.0.3.2");
	char tag[64], m[2048], b[64];
	answer_incoming(ua, tag, sizeof(tag));
	cr_assert_str_eq(roam_sockaddr_fmt(&F.last_call.peer_media, b, sizeof(b)), "10.0.3.2:20000");
	const char *body = "v=0\r\no=x 1 2 IN IP4 10.0.2.10\r\ns=-\r\nc=IN IP4 10.0.2.10\r\nt=0 0\r\n"
			   "m=audio 16384 RTP/AVP 0\r\n";
	snprintf(m, sizeof(m),
		 "INVITE sip:cn@10.0.3.2:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.2.10:5060;branch=z9hG4bKi2\r\n"
		 "From: <sip:mn@roam.example>;tag=mntag\r\nTo: <sip:cn@roam.example>;tag=%s\r\n"
		 "Call-ID: c2@10.0.1.10\r\nCSeq: 2 INVITE\r\nContact: <sip:mn@10.0.2.10:5060>\r\n"
		 "Content-Type: application/sdp\r\nContent-Length: %zu\r\n\r\n%s", tag, strlen(body), body);
	feed(ua, m, 1000);
	cr_assert(strncmp(last(), "SIP/2.0 200 OK", 14) == 0);
	cr_assert_eq(F.events[SIP_CALL_EV_MEDIA], 1);
	cr_assert_str_eq(roam_sockaddr_fmt(&F.last_call.peer_media, b, sizeof(b)), "10.0.2.10:16384");
	cr_assert_str_eq(F.last_call.remote_target, "sip:mn@10.0.2.10:5060");
	cr_assert_eq(sip_ua_stats(ua)->rx_reinvite, 1);
	/* the same CSeq again with another branch: 500 (14.2), nothing changes */
	char *br = strstr(m, "z9hG4bKi2");
	br[8] = '9';
	feed(ua, m, 1100);
	cr_assert(strncmp(last(), "SIP/2.0 500", 11) == 0);
	cr_assert_eq(F.events[SIP_CALL_EV_MEDIA], 1);
	/* a re-INVITE for an unknown dialog: 481 */
	char *cid = strstr(m, "c2@");
	cid[1] = '9';
	br[8] = '8';
	feed(ua, m, 1200);
	cr_assert(strncmp(last(), "SIP/2.0 481", 11) == 0);
	sip_ua_free(ua);
}

Test(sip_ua, glare_491)
{
	struct sip_ua *ua = mk_at(false, "10.0.3.2");
	char tag[64], m[2048];
	answer_incoming(ua, tag, sizeof(tag));
	struct sip_call *c = sip_ua_call_at(ua, 0);
	cr_assert_not_null(c);
	cr_assert_eq(sip_ua_reinvite(ua, c, 100), 0); /* ours is pending */
	const char *body = "v=0\r\nc=IN IP4 10.0.2.10\r\nm=audio 16384 RTP/AVP 0\r\n";
	snprintf(m, sizeof(m),
		 "INVITE sip:cn@10.0.3.2:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.2.10:5060;branch=z9hG4bKg1\r\n"
		 "From: <sip:mn@roam.example>;tag=mntag\r\nTo: <sip:cn@roam.example>;tag=%s\r\n"
		 "Call-ID: c2@10.0.1.10\r\nCSeq: 2 INVITE\r\n"
		 "Content-Type: application/sdp\r\nContent-Length: %zu\r\n\r\n%s", tag, strlen(body), body);
	feed(ua, m, 150);
	cr_assert(strncmp(last(), "SIP/2.0 491", 11) == 0);
	sip_ua_free(ua);
}

Test(sip_ua, move_abandons_register_in_flight)
{
	struct sip_ua *ua = mk(false);
	struct roam_ipaddr a = ip("10.0.1.10"), b = ip("10.0.2.10");
	sip_ua_set_address(ua, &a, 0);
	sip_ua_register(ua, 60, 0);
	char first[4096];
	snprintf(first, sizeof(first), "%s", last());
	sip_ua_set_address(ua, &b, 100);
	size_t n = F.nsent;
	for (uint64_t t = 150; t < 3000; t += 50)
		sip_ua_tick(ua, t);
	for (size_t i = n; i < F.nsent; i++)
		cr_assert(strcmp(F.sent[i], first) != 0, "the abandoned REGISTER was retransmitted");
	/* its late answer is a stray */
	feed(ua, reply(first, 200, NULL, "t", NULL), 3000);
	cr_assert_eq(sip_ua_stats(ua)->drop_stray_response, 1);
	sip_ua_free(ua);
}

/* ---- the agent's module glue (sip_agent_reload, sip_agent_ctl_register) ---- */

Test(sip_agent, reload_refuses_aor_and_port_changes)
{
	struct sip_agent_conf old = { .aor = "sip:mn@roam.example", .local_port = 5070,
				      .expires = 300, .media = { .rate = 50 } };
	struct sip_agent_conf c = old;
	char err[128] = "";
	c.expires = 60;
	c.media.rate = 20;
	cr_assert_eq(sip_agent_reload(&c, &old, err, sizeof(err)), 0);
	cr_assert_str_empty(err);
	c.local_port = 5071;
	cr_assert_eq(sip_agent_reload(&c, &old, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "restart"), "%s", err);
	c = old;
	c.aor = "sip:other@roam.example";
	err[0] = 0;
	cr_assert_eq(sip_agent_reload(&c, &old, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "aor"), "%s", err);
	c.aor = NULL; /* the section removed while the module runs */
	err[0] = 0;
	cr_assert_eq(sip_agent_reload(&c, &old, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "restart"), "%s", err);
}

struct agent_client {
	char path[128];
	const char *req[5];
	char *rep[5];
	int rc[5];
	volatile int done;
};

static void *agent_client(void *arg)
{
	struct agent_client *k = arg;
	for (int i = 0; i < 5 && k->req[i]; i++)
		k->rc[i] = ctl_call(k->path, k->req[i], &k->rep[i], 5000);
	__atomic_store_n(&k->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static void agent_extra(void *arg, struct json_writer *w)
{
	json_kv_uint(w, "extra_member", *(unsigned *)arg);
}

Test(sip_agent, control_commands)
{
	uv_loop_t loop;
	char dir[] = "/tmp/sip-agent-XXXXXX";
	unsigned extra = 42;
	cr_assert_not_null(mkdtemp(dir));
	cr_assert_eq(uv_loop_init(&loop), 0);
	struct sip_agent_conf c = { .aor = "sip:mn@roam.example", .interface = "",
				    .auto_call = "", .expires = 60 };
	cr_assert_eq(roam_ipaddr_parse("127.0.0.1", &c.address), 0);
	struct sip_agent_hooks h = { .status = agent_extra, .arg = &extra };
	struct sip_agent *a;
	struct roam_ctl *ctl;
	struct agent_client k = {
		.req = { "{\"cmd\":\"sip-call\",\"args\":{\"uri\":\"sip:cn@127.0.0.1:9\"}}",
			 "{\"cmd\":\"sip\"}",
			 "{\"cmd\":\"sip-hangup\",\"args\":{\"call\":99}}",
			 "{\"cmd\":\"sip-call\",\"args\":{\"uri\":\"mailto:x\"}}",
			 "{\"cmd\":\"sip-hangup\",\"args\":{\"call\":1}}" },
	};
	snprintf(k.path, sizeof(k.path), "%s/ctl.sock", dir);
	cr_assert_eq(sip_agent_open(&loop, &c, &h, &a), 0);
	cr_assert_eq(ctl_open(&ctl, &loop, k.path, 0), 0);
	cr_assert_eq(sip_agent_ctl_register(a, ctl), 0);
	cr_assert_eq(sip_agent_ctl_register(a, ctl), -EEXIST);
	pthread_t th;
	cr_assert_eq(pthread_create(&th, NULL, agent_client, &k), 0);
	while (!__atomic_load_n(&k.done, __ATOMIC_SEQ_CST))
		uv_run(&loop, UV_RUN_ONCE);
	pthread_join(th, NULL);
	for (int i = 0; i < 5; i++)
		cr_assert_eq(k.rc[i], 0, "request %d: %s", i, strerror(-k.rc[i]));
	cr_assert_str_eq(k.rep[0], "{\"ok\":true,\"result\":{\"call\":1}}");
	cr_assert(strstr(k.rep[1], "\"aor\":\"sip:mn@roam.example\""), "%s", k.rep[1]);
	cr_assert(strstr(k.rep[1], "\"address\":\"127.0.0.1\""), "%s", k.rep[1]);
	cr_assert(strstr(k.rep[1], "\"remote\":\"sip:cn@127.0.0.1:9\""), "%s", k.rep[1]);
	cr_assert(strstr(k.rep[1], "\"extra_member\":42}}"), "the hook's members last: %s",
		  k.rep[1]);
	cr_assert_str_eq(k.rep[2], "{\"ok\":false,\"error\":\"no call 99\"}");
	cr_assert(strstr(k.rep[3], "\"ok\":false"), "%s", k.rep[3]);
	cr_assert_str_eq(k.rep[4], "{\"ok\":true,\"result\":{\"call\":1}}");
	for (int i = 0; i < 5; i++)
		free(k.rep[i]);
	sip_agent_close(a);
	ctl_close(ctl);
	uv_run(&loop, UV_RUN_DEFAULT);
	cr_assert_eq(uv_loop_close(&loop), 0, "handles left open");
	rmdir(dir);
}
