/* Message-level tests: raw SIP text fed into sipd_handle (no sockets), on a fake clock.
 * REGISTER with digest (MD5 and SHA-256), nc replay, stale nonces, Require/420, 423, wildcard
 * rules, OPTIONS, 405/501, retransmissions, and malformed / oversized input (400 or a counted
 * drop, never a crash).  TCP framing (sipd_tcp_frame) too. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipd_fixture.h"

#define T0 10000000ull

static struct sipd S;
static struct sipd_src SRC;

static const char *CONF = "listen: [\"127.0.0.1:5060\"]\n"
			  "domains: [roam.example]\n"
			  "realm: roam.example\n"
			  "credentials: \"alice roam.example password=secret1\"\n"
			  "snapshot: \"\"\n"
			  "min_expires: 60s\nmax_expires: 3600s\ndefault_expires: 600s\n"
			  "max_message_size: 4KiB\n";

static void setup(void)
{
	char err[256] = "";
	memset(&S, 0, sizeof(S));
	cr_assert_eq(sipd_conf_load_string(&S.conf, CONF, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(sipd_core_init(&S, T0), 0);
	memset(&SRC, 0, sizeof(SRC));
	SRC.transport = SIPD_TP_UDP;
	roam_sockaddr_parse("192.0.2.10:5070", 0, &SRC.addr);
}

static void teardown(void)
{
	sipd_core_destroy(&S);
	sipd_conf_free(&S.conf);
}

TestSuite(msg, .init = setup, .fini = teardown);

/* Sends text (\n turned into CRLF), returns the response (malloc'd) or NULL when dropped. */
static char *send_at(const char *text, uint64_t now, struct roam_sockaddr *dst)
{
	return sipd_feed(&S, &SRC, text, now, dst, false);
}

static char *reg_text(const char *user, const char *callid, int cseq, const char *branch,
		      const char *extra)
{
	char *t = NULL;
	cr_assert(asprintf(&t,
			   "REGISTER sip:roam.example SIP/2.0\n"
			   "Via: SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bK%s;rport\n"
			   "Max-Forwards: 70\n"
			   "From: <sip:%s@roam.example>;tag=f1\n"
			   "To: <sip:%s@roam.example>\n"
			   "Call-ID: %s\n"
			   "CSeq: %d REGISTER\n"
			   "%s"
			   "Content-Length: 0\n\n",
			   branch, user, user, callid, cseq, extra) > 0);
	return t;
}

static void get_param(const char *resp, const char *hdr_alg, const char *name, char *out, size_t n)
{
	const char *h = strstr(resp, hdr_alg);
	cr_assert_not_null(h, "no challenge %s in %s", hdr_alg, resp);
	const char *line = h;
	while (line > resp && line[-1] != '\n')
		line--;
	const char *p = strstr(line, name);
	cr_assert_not_null(p);
	p += strlen(name);
	size_t i = 0;
	while (p[i] && p[i] != '"' && i + 1 < n) {
		out[i] = p[i];
		i++;
	}
	out[i] = 0;
}

static char *auth_hdr(bool sha, const char *nonce, const char *nc, const char *password)
{
	char ha1[65], resp[65], a1[256];
	snprintf(a1, sizeof(a1), "alice:roam.example:%s", password);
	enum sip_digest_alg alg = sha ? SIP_DIGEST_SHA256 : SIP_DIGEST_MD5;
	sip_digest_hex(alg, a1, strlen(a1), ha1);
	sip_digest_response_ha1(alg, ha1, nonce, nc, "c0ffee", "auth", "REGISTER",
				"sip:roam.example", resp);
	char *h = NULL;
	cr_assert(asprintf(&h,
			   "Authorization: Digest username=\"alice\", realm=\"roam.example\", "
			   "nonce=\"%s\", uri=\"sip:roam.example\", response=\"%s\", "
			   "algorithm=%s, qop=auth, nc=%s, cnonce=\"c0ffee\"\n"
			   "Contact: <sip:alice@192.0.2.10:5070>\n",
			   nonce, resp, sha ? "SHA-256" : "MD5", nc) > 0);
	return h;
}

/* Gets a nonce from a 401 and registers with it. */
static char *challenge(const char *callid, int cseq, char nonce[SIPD_NONCE_HEX + 1], uint64_t now)
{
	char br[32];
	snprintf(br, sizeof(br), "ch%d", cseq);
	char *t = reg_text("alice", callid, cseq, br, "Contact: <sip:alice@192.0.2.10:5070>\n");
	char *r = send_at(t, now, NULL);
	cr_assert_eq(status_of(r), 401, "%s", r);
	get_param(r, "algorithm=MD5", "nonce=\"", nonce, SIPD_NONCE_HEX + 1);
	free(t);
	return r;
}

Test(msg, register_digest_md5_then_sha256)
{
	char nonce[SIPD_NONCE_HEX + 1];
	char *r = challenge("cid1", 1, nonce, T0);
	/* both challenges, SHA-256 first, the same nonce, qop=auth */
	char *sha = strstr(r, "algorithm=SHA-256"), *md5 = strstr(r, "algorithm=MD5");
	cr_assert(sha && md5 && sha < md5, "%s", r);
	cr_assert(strstr(r, "qop=\"auth\""));
	cr_assert(strstr(r, "rport=5070"), "rport filled in: %s", r);
	free(r);
	char *ah = auth_hdr(false, nonce, "00000001", "secret1");
	char *t = reg_text("alice", "cid1", 2, "a2", ah);
	struct roam_sockaddr dst;
	r = send_at(t, T0 + 10, &dst);
	cr_assert_eq(status_of(r), 200, "%s", r);
	cr_assert(strstr(r, "Contact: <sip:alice@192.0.2.10:5070>;expires=600"), "%s", r);
	cr_assert_eq(roam_sockaddr_port(&dst), 5070);
	cr_assert_eq(S.loc.nbindings, 1);
	free(r);
	free(t);
	free(ah);
	/* refresh with SHA-256, nc 2 of the same nonce, Expires 120 */
	ah = auth_hdr(true, nonce, "00000002", "secret1");
	char extra[1024];
	snprintf(extra, sizeof(extra), "%sExpires: 120\n", ah);
	t = reg_text("alice", "cid1", 3, "a3", extra);
	r = send_at(t, T0 + 20, NULL);
	cr_assert_eq(status_of(r), 200, "%s", r);
	cr_assert(strstr(r, ";expires=120"), "%s", r);
	cr_assert_eq(S.stats.auth_ok, 2);
	free(r);
	free(t);
	free(ah);
}

Test(msg, wrong_password_and_nc_replay_are_refused)
{
	char nonce[SIPD_NONCE_HEX + 1];
	free(challenge("cid2", 1, nonce, T0));
	char *ah = auth_hdr(false, nonce, "00000001", "wrong");
	char *t = reg_text("alice", "cid2", 2, "b2", ah);
	char *r = send_at(t, T0, NULL);
	cr_assert_eq(status_of(r), 401);
	cr_assert_null(strstr(r, "stale=true"));
	cr_assert_eq(S.loc.nbindings, 0);
	free(r); free(t); free(ah);
	ah = auth_hdr(false, nonce, "00000001", "secret1");
	t = reg_text("alice", "cid2", 3, "b3", ah);
	r = send_at(t, T0, NULL);
	cr_assert_eq(status_of(r), 200);
	free(r); free(t);
	/* the same nc again, in a new transaction with a higher CSeq: a replay */
	t = reg_text("alice", "cid2", 4, "b4", ah);
	r = send_at(t, T0, NULL);
	cr_assert_eq(status_of(r), 401, "%s", r);
	cr_assert_eq(S.stats.auth_replay, 1);
	free(r); free(t); free(ah);
}

Test(msg, expired_nonce_is_stale)
{
	char nonce[SIPD_NONCE_HEX + 1];
	free(challenge("cid3", 1, nonce, T0));
	char *ah = auth_hdr(false, nonce, "00000001", "secret1");
	char *t = reg_text("alice", "cid3", 2, "c2", ah);
	char *r = send_at(t, T0 + 300001, NULL);
	cr_assert_eq(status_of(r), 401);
	cr_assert(strstr(r, "stale=true"), "%s", r);
	cr_assert_eq(S.stats.auth_stale, 1);
	cr_assert_eq(S.loc.nbindings, 0);
	free(r); free(t); free(ah);
}

static char *authed_register(const char *callid, int cseq, const char *extra_after_auth,
			     uint64_t now)
{
	char nonce[SIPD_NONCE_HEX + 1];
	free(challenge(callid, cseq, nonce, now));
	char *ah = auth_hdr(false, nonce, "00000001", "secret1");
	/* drop auth_hdr's own Contact when the caller gives its own */
	if (extra_after_auth && strstr(extra_after_auth, "Contact:"))
		*strstr(ah, "Contact:") = 0;
	char extra[2048], br[32];
	snprintf(extra, sizeof(extra), "%s%s", ah, extra_after_auth ? extra_after_auth : "");
	snprintf(br, sizeof(br), "x%d", cseq + 1);
	char *t = reg_text("alice", callid, cseq + 1, br, extra);
	char *r = send_at(t, now, NULL);
	free(t);
	free(ah);
	return r;
}

Test(msg, interval_too_brief)
{
	char *r = authed_register("cid4", 1, "Expires: 10\n", T0);
	cr_assert_eq(status_of(r), 423, "%s", r);
	cr_assert(strstr(r, "Min-Expires: 60"), "%s", r);
	free(r);
}

Test(msg, max_expires_caps_and_expiry_removes)
{
	char *r = authed_register("cid5", 1, "Expires: 99999\n", T0);
	cr_assert_eq(status_of(r), 200, "%s", r);
	cr_assert(strstr(r, ";expires=3600"), "%s", r);
	free(r);
	sipd_expire(&S, T0 + 3600 * 1000);
	cr_assert_eq(S.loc.nbindings, 0);
	cr_assert_eq(S.stats.bindings_expired, 1);
}

Test(msg, several_contacts_and_wildcard)
{
	char *r = authed_register("cid6", 1,
				  "Contact: <sip:alice@192.0.2.10:5070>;q=0.7, "
				  "<sip:alice@[2001:db8::1]:5060>;expires=300\n", T0);
	cr_assert_eq(status_of(r), 200, "%s", r);
	cr_assert(strstr(r, "q=0.700"), "%s", r);
	cr_assert(strstr(r, "expires=300"), "%s", r);
	cr_assert_eq(S.loc.nbindings, 2);
	free(r);
	/* wildcard without Expires: 0 is a 400, as is * with another contact */
	r = authed_register("cid6", 3, "Contact: *\n", T0);
	cr_assert_eq(status_of(r), 400, "%s", r);
	free(r);
	r = authed_register("cid6", 5, "Contact: *, <sip:alice@h>\nExpires: 0\n", T0);
	cr_assert_eq(status_of(r), 400, "%s", r);
	free(r);
	cr_assert_eq(S.loc.nbindings, 2);
	r = authed_register("cid6", 7, "Contact: *\nExpires: 0\n", T0);
	cr_assert_eq(status_of(r), 200, "%s", r);
	cr_assert_null(strstr(r, "Contact:"), "no bindings left: %s", r);
	cr_assert_eq(S.loc.nbindings, 0);
	free(r);
}

Test(msg, cseq_not_higher_fails)
{
	char *r = authed_register("cid7", 10, NULL, T0);
	cr_assert_eq(status_of(r), 200, "%s", r);
	free(r);
	r = authed_register("cid7", 4, NULL, T0); /* CSeq 5 < 11 */
	cr_assert_eq(status_of(r), 400, "%s", r);
	cr_assert_eq(S.stats.cseq_out_of_order, 1);
	cr_assert_eq(S.loc.nbindings, 1);
	free(r);
}

Test(msg, other_users_aor_is_forbidden)
{
	char nonce[SIPD_NONCE_HEX + 1];
	free(challenge("cid8", 1, nonce, T0));
	char *ah = auth_hdr(false, nonce, "00000001", "secret1");
	char *t = reg_text("bob", "cid8", 2, "d2", ah); /* alice's credentials, bob's AOR */
	char *r = send_at(t, T0, NULL);
	cr_assert_eq(status_of(r), 403, "%s", r);
	cr_assert_eq(S.loc.nbindings, 0);
	free(r); free(t); free(ah);
}

Test(msg, require_unsupported_gives_420)
{
	char *t = reg_text("alice", "cid9", 1, "e1",
			   "Require: x-roam-nat-continuity, foo\nContact: <sip:alice@h>\n");
	char *r = send_at(t, T0, NULL);
	cr_assert_eq(status_of(r), 420, "%s", r);
	cr_assert(strstr(r, "Unsupported: x-roam-nat-continuity, foo"), "%s", r);
	cr_assert_eq(S.stats.reply_420, 1);
	free(r); free(t);
}

Test(msg, options_and_other_methods)
{
	const char *opt = "OPTIONS sip:roam.example SIP/2.0\n"
			  "Via: SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bKo1\n"
			  "From: <sip:alice@roam.example>;tag=1\nTo: <sip:roam.example>\n"
			  "Call-ID: o1\nCSeq: 1 OPTIONS\nMax-Forwards: 70\nContent-Length: 0\n\n";
	struct roam_sockaddr dst;
	char *r = send_at(opt, T0, &dst);
	cr_assert_eq(status_of(r), 200, "%s", r);
	cr_assert(strstr(r, "Allow: REGISTER, OPTIONS"), "%s", r);
	cr_assert(strstr(r, "Supported:"), "%s", r);
	cr_assert(strstr(r, "received=") == NULL, "sent-by is the source: %s", r);
	free(r);
	const char *inv = "INVITE sip:bob@roam.example SIP/2.0\n"
			  "Via: SIP/2.0/UDP 192.0.2.99:5070;branch=z9hG4bKi1\n"
			  "From: <sip:alice@roam.example>;tag=1\nTo: <sip:bob@roam.example>\n"
			  "Call-ID: i1\nCSeq: 1 INVITE\nContent-Length: 0\n\n";
	r = send_at(inv, T0, &dst);
	/* proxied (test_proxy.c): bob is not known here */
	cr_assert_eq(status_of(r), 404, "%s", r);
	cr_assert(strstr(r, "received=192.0.2.10"), "%s", r);
	cr_assert_eq(roam_sockaddr_port(&dst), 5070);
	free(r);
	const char *foo = "FOO sip:roam.example SIP/2.0\n"
			  "Via: SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bKf1\n"
			  "From: <sip:alice@roam.example>;tag=1\nTo: <sip:bob@roam.example>\n"
			  "Call-ID: f1\nCSeq: 1 FOO\nContent-Length: 0\n\n";
	r = send_at(foo, T0, NULL);
	cr_assert_eq(status_of(r), 501, "%s", r);
	free(r);
	const char *ack = "ACK sip:bob@roam.example SIP/2.0\n"
			  "Via: SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bKa1\n"
			  "From: <sip:alice@roam.example>;tag=1\nTo: <sip:bob@roam.example>;tag=2\n"
			  "Call-ID: f1\nCSeq: 1 ACK\nContent-Length: 0\n\n";
	cr_assert_null(send_at(ack, T0, NULL));
	cr_assert_eq(S.stats.drop_ack, 1);
}

Test(msg, retransmission_gets_the_same_response)
{
	char *t = reg_text("alice", "cid10", 1, "rt1", "Contact: <sip:alice@h>\n");
	char *r1 = send_at(t, T0, NULL), *r2 = send_at(t, T0 + 500, NULL);
	cr_assert_eq(status_of(r1), 401);
	cr_assert_str_eq(r1, r2, "identical, same nonce and To tag");
	cr_assert_eq(S.stats.rx_retransmissions, 1);
	sipd_expire(&S, T0 + 40000); /* after Timer J the transaction is gone */
	char *r3 = send_at(t, T0 + 40000, NULL);
	cr_assert_str_neq(r1, r3);
	free(r1); free(r2); free(r3); free(t);
}

/* Malformed input: each row gets a 400, or is dropped and counted; never a crash. */
Test(msg, malformed_inputs)
{
	struct row {
		const char *text;
		int expect; /* status, or 0 for a drop */
	} rows[] = {
		{ "garbage\n\n", 0 },
		{ "", 0 },
		{ "\n\n\n", 0 },
		{ "SIP/2.0 200 OK\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\n\n", 0 },
		{ "REGISTER sip:roam.example SIP/2.0\nFrom: <sip:a@b>;tag=1\nTo: <sip:a@b>\n"
		  "Call-ID: 1\nCSeq: 1 REGISTER\n\n", 0 },                     /* no Via */
		{ "REGISTER sip:roam.example SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bKm1\n"
		  "To: <sip:a@b>\nCall-ID: 1\nCSeq: 1 REGISTER\n\n", 400 },    /* no From */
		{ "REGISTER sip:roam.example SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bKm2\n"
		  "From: <sip:a@b>;tag=1\nTo: <sip:a@b>\nCall-ID: 1\nCSeq: x REGISTER\n\n", 400 },
		{ "REGISTER sip:roam.example SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bKm3\n"
		  "From: <sip:a@b>;tag=1\nTo: <sip:a@b>\nCall-ID: 1\nCSeq: 1 OPTIONS\n\n", 400 },
		{ "REGISTER sip:roam.example SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bKm4\n"
		  "From: <sip:a@b>;tag=1\nTo: <sip:a@b>\nCall-ID: 1\nCSeq: 1 REGISTER\n"
		  "Max-Forwards: lots\n\n", 400 },
		{ "REGISTER tel:+123 SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bKm5\n"
		  "From: <sip:a@b>;tag=1\nTo: <sip:a@b>\nCall-ID: 1\nCSeq: 1 REGISTER\n\n", 416 },
		{ "REGISTER sip:roam.example SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bKm6\n"
		  "From: <sip:a@b>;tag=1\nTo: <sip:a@b>\nCall-ID: 1\nCSeq: 99999999999 REGISTER\n\n",
		  400 },
		{ "REGISTER sip:other.example SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bKm7\n"
		  "From: <sip:a@b>;tag=1\nTo: <sip:a@b>\nCall-ID: 1\nCSeq: 1 REGISTER\n\n", 403 },
		{ "REGISTER sip:roam.example SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bKm8\n"
		  "From: <sip:a@b>;tag=1\nTo: <sip:alice@roam.example>\nCall-ID: 1\n"
		  "CSeq: 1 REGISTER\nAuthorization: Digest realm=\"roam.example\"\n\n", 400 },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint64_t drops = S.stats.drop_unparseable + S.stats.drop_response +
				 S.stats.drop_no_via + S.stats.keepalives;
		char *r = send_at(rows[i].text, T0, NULL);
		if (rows[i].expect == 0) {
			cr_assert_null(r, "row %zu answered: %s", i, r);
			cr_assert_eq(S.stats.drop_unparseable + S.stats.drop_response +
					     S.stats.drop_no_via + S.stats.keepalives,
				     drops + 1, "row %zu: the drop is counted", i);
		} else {
			cr_assert_eq(status_of(r), rows[i].expect, "row %zu: %s", i, r);
		}
		free(r);
	}
	cr_assert_eq(S.loc.nbindings, 0);
}

Test(msg, oversized_and_truncated_inputs)
{
	char *t = reg_text("alice", "cid11", 1, "ov1", "Contact: <sip:alice@h>\n");
	size_t n = strlen(t);
	/* every truncation of a valid request: a response or a counted drop, no crash */
	for (size_t cut = 0; cut < n; cut++) {
		char *p = strndup(t, cut);
		free(send_at(p, T0 + cut, NULL));
		free(p);
	}
	char *big = malloc(8192);
	memset(big, 'a', 8191);
	big[8191] = 0;
	memcpy(big, t, n);
	cr_assert_null(send_at(big, T0, NULL));
	cr_assert_eq(S.stats.drop_oversize, 1);
	free(big);
	free(t);
	cr_assert_eq(S.loc.nbindings, 0);
}

Test(msg, tcp_framing)
{
	size_t skip;
	const char *m = "OPTIONS sip:x SIP/2.0\r\nl: 4\r\n\r\nbody";
	cr_assert_eq(sipd_tcp_frame((const uint8_t *)m, strlen(m), 4096, &skip), (long)strlen(m));
	cr_assert_eq(sipd_tcp_frame((const uint8_t *)m, strlen(m) - 1, 4096, &skip), 0);
	const char *ka = "\r\n\r\nOPTIONS sip:x SIP/2.0\r\nContent-Length: 0\r\n\r\n";
	cr_assert_eq(sipd_tcp_frame((const uint8_t *)ka, strlen(ka), 4096, &skip),
		     (long)strlen(ka) - 4);
	cr_assert_eq(skip, 4);
	const char *nolen = "OPTIONS sip:x SIP/2.0\r\nVia: x\r\n\r\n";
	cr_assert_eq(sipd_tcp_frame((const uint8_t *)nolen, strlen(nolen), 4096, &skip), -EBADMSG);
	const char *two = "OPTIONS sip:x SIP/2.0\r\nl: 1\r\nContent-Length: 2\r\n\r\nab";
	cr_assert_eq(sipd_tcp_frame((const uint8_t *)two, strlen(two), 4096, &skip), -EBADMSG);
	const char *huge = "OPTIONS sip:x SIP/2.0\r\nContent-Length: 999999\r\n\r\n";
	cr_assert_eq(sipd_tcp_frame((const uint8_t *)huge, strlen(huge), 4096, &skip), -EMSGSIZE);
	char endless[5000];
	memset(endless, 'x', sizeof(endless));
	cr_assert_eq(sipd_tcp_frame((const uint8_t *)endless, sizeof(endless), 4096, &skip),
		     -EMSGSIZE);
}
