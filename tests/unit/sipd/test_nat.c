/* NAT session continuity (docs/protocols/sip-mobility.md 4): the X-Roam-Previous-Contact
 * header parse/build, rule planning (which pair, which role, which route), the claim check
 * against the location service (current bindings, dropped ones within the grace period, other
 * users' addresses, no authentication, extension off: 420), pairs following their binding
 * (refresh, removal, expiry on a fake clock), peer notifications (built by one sipd, verified by
 * another: MAC, unknown key, replay, stale, bad body, withdrawal) and the reconciliation after
 * a restart.  The rules go to a fake backend: no kernel, no root. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <osipparser2/osip_parser.h>

#include "sipd_fixture.h"
#include "roam/clock.h"

#define T0 10000000ull

/* ---- fake nftables backend ---- */

struct fake_nft {
	struct roam_nft_pair p[64];
	size_t n;
	int adds, dels;
};

static int fake_add(void *arg, const struct roam_nft_pair *p)
{
	struct fake_nft *f = arg;
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->p[i].tag, p->tag) == 0 || roam_ipaddr_eq(&f->p[i].old, &p->old))
			return -EEXIST;
	cr_assert_lt(f->n, 64);
	f->p[f->n++] = *p;
	f->adds++;
	return 0;
}

static int fake_del(void *arg, const char *tag)
{
	struct fake_nft *f = arg;
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->p[i].tag, tag) == 0) {
			f->p[i] = f->p[--f->n];
			f->dels++;
			return 0;
		}
	return -ENOENT;
}

static int fake_list(void *arg, struct roam_nft_pair **out, size_t *n)
{
	struct fake_nft *f = arg;
	*n = f->n;
	*out = NULL;
	if (!f->n)
		return 0;
	*out = calloc(f->n, sizeof(**out));
	for (size_t i = 0; i < f->n; i++) {
		(*out)[i] = f->p[i];
		(*out)[i].route_oif = 0; /* roam_nft_list does not report routes */
		memset(&(*out)[i].route_gw, 0, sizeof((*out)[i].route_gw));
	}
	return 0;
}

static int fake_reconcile(void *arg, roam_nft_keep_cb keep, void *keep_arg, size_t *removed)
{
	struct fake_nft *f = arg;
	*removed = 0;
	for (size_t i = 0; i < f->n;) {
		struct roam_nft_pair p = f->p[i];
		memset(&p.route_gw, 0, sizeof(p.route_gw));
		if (keep(&p, keep_arg)) {
			i++;
			continue;
		}
		f->p[i] = f->p[--f->n];
		f->dels++;
		(*removed)++;
	}
	return 0;
}

static struct fake_nft NFT_B, NFT_C;

/* ---- fake transport: what sipd sends ---- */

#define MAXSENT 64
static char *SENT[MAXSENT];
static struct sipd_dest SENTD[MAXSENT];
static int NSENT;

static int fake_send(struct sipd *s, const struct sipd_dest *d, const uint8_t *data, size_t len)
{
	(void)s;
	cr_assert_lt(NSENT, MAXSENT);
	SENTD[NSENT] = *d;
	SENT[NSENT++] = strndup((const char *)data, len);
	return 0;
}

static void clear_sent(void)
{
	for (int i = 0; i < NSENT; i++)
		free(SENT[i]);
	NSENT = 0;
}

/* B: the registrar of the mobile, on the router of the new network 10.2.0.0/16; peer C. */
static const char *CONF_B =
	"listen: [\"10.2.0.1:5060\"]\n"
	"domains: [roam.example]\n"
	"realm: roam.example\n"
	"credentials: \"alice roam.example password=secret1\\nbob roam.example password=secret2\"\n"
	"digest_algorithms: [md5]\n"
	"snapshot: \"\"\n"
	"min_expires: 10s\nmax_expires: 3600s\ndefault_expires: 600s\n"
	"nat_continuity: true\n"
	"nat_grace: 30s\n"
	"nat_networks: [10.2.0.0/16, \"fd02::/64\"]\n"
	"nat_node: b\n"
	"nat_peers: [{name: c, address: \"10.3.0.1:5060\", secret: \"0123456789abcdef-bc\"}]\n";

/* C: the correspondent's server. */
static const char *CONF_C =
	"listen: [\"10.3.0.1:5060\"]\n"
	"domains: [c.example]\n"
	"authentication: false\n"
	"snapshot: \"\"\n"
	"nat_continuity: true\n"
	"nat_networks: [10.3.0.0/16]\n"
	"nat_node: c\n"
	"nat_peers: [{name: b, address: \"10.2.0.1\", secret: \"0123456789abcdef-bc\", notify: false},"
	" {name: x, address: \"10.9.0.1\", secret: \"another-secret-of-x\"}]\n";

static struct sipd B, C;

static void init_one(struct sipd *s, const char *conf, struct fake_nft *f)
{
	char err[256] = "";
	memset(s, 0, sizeof(*s));
	cr_assert_eq(sipd_conf_load_string(&s->conf, conf, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(sipd_core_init(s, T0), 0);
	memset(f, 0, sizeof(*f));
	struct sipd_nat_backend be = { fake_add, fake_del, fake_list, fake_reconcile, f };
	s->nat.be = be;
	s->send = fake_send;
}

static void setup(void)
{
	init_one(&B, CONF_B, &NFT_B);
	init_one(&C, CONF_C, &NFT_C);
	NSENT = 0;
}

static void teardown(void)
{
	clear_sent();
	sipd_core_destroy(&B);
	sipd_conf_free(&B.conf);
	sipd_core_destroy(&C);
	sipd_conf_free(&C.conf);
}

TestSuite(nat, .init = setup, .fini = teardown);

/* Feeds text (\n -> CRLF) to s as if from src_ip:5060; returns the response or NULL. */
static char *feed(struct sipd *s, const char *text, const char *src_ip, uint64_t now)
{
	struct sipd_src src;
	memset(&src, 0, sizeof(src));
	src.transport = SIPD_TP_UDP;
	char sa[80];
	snprintf(sa, sizeof(sa), strchr(src_ip, ':') ? "[%s]:5060" : "%s:5060", src_ip);
	cr_assert_eq(roam_sockaddr_parse(sa, 0, &src.addr), 0);
	return sipd_feed(s, &src, text, now, NULL, true);
}

static int BR;

/* A REGISTER of user from ip (Contact sip:user@ip), authenticated (401 then the answer) unless
 * auth is false; extra header lines appended.  Returns the final response. */
static char *reg(struct sipd *s, const char *user, const char *pw, const char *ip, int cseq,
		 const char *extra, bool auth, uint64_t now)
{
	char *t = NULL, *r;
	char host[80];
	snprintf(host, sizeof(host), strchr(ip, ':') ? "[%s]" : "%s", ip);
	char authz[1024] = "";
	if (auth) {
		cr_assert(asprintf(&t,
				   "REGISTER sip:roam.example SIP/2.0\n"
				   "Via: SIP/2.0/UDP %s:5060;branch=z9hG4bKu%d;rport\n"
				   "From: <sip:%s@roam.example>;tag=f\nTo: <sip:%s@roam.example>\n"
				   "Call-ID: cid-%s\nCSeq: %d REGISTER\n"
				   "Contact: <sip:%s@%s>\nContent-Length: 0\n\n",
				   host, ++BR, user, user, user, cseq, user, host) > 0);
		r = feed(s, t, ip, now);
		free(t);
		cr_assert_eq(status_of(r), 401, "%s", r);
		char *np = strstr(r, "nonce=\"");
		cr_assert_not_null(np);
		char nonce[SIPD_NONCE_HEX + 1];
		memcpy(nonce, np + 7, SIPD_NONCE_HEX);
		nonce[SIPD_NONCE_HEX] = 0;
		free(r);
		char a1[256], ha1[65], resp[65];
		snprintf(a1, sizeof(a1), "%s:roam.example:%s", user, pw);
		sip_digest_hex(SIP_DIGEST_MD5, a1, strlen(a1), ha1);
		sip_digest_response_ha1(SIP_DIGEST_MD5, ha1, nonce, "00000001", "cafe", "auth",
					"REGISTER", "sip:roam.example", resp);
		snprintf(authz, sizeof(authz),
			 "Authorization: Digest username=\"%s\", realm=\"roam.example\", "
			 "nonce=\"%s\", uri=\"sip:roam.example\", response=\"%s\", algorithm=MD5, "
			 "qop=auth, nc=00000001, cnonce=\"cafe\"\n",
			 user, nonce, resp);
		cseq++;
	}
	cr_assert(asprintf(&t,
			   "REGISTER sip:roam.example SIP/2.0\n"
			   "Via: SIP/2.0/UDP %s:5060;branch=z9hG4bKr%d;rport\n"
			   "From: <sip:%s@roam.example>;tag=f\nTo: <sip:%s@roam.example>\n"
			   "Call-ID: cid-%s\nCSeq: %d REGISTER\n"
			   "Contact: <sip:%s@%s>\n%s%sContent-Length: 0\n\n",
			   host, ++BR, user, user, user, cseq, user, host, authz, extra) > 0);
	r = feed(s, t, ip, now);
	free(t);
	return r;
}

#define MOVE_HDRS(old) "Require: x-roam-nat-continuity\nX-Roam-Previous-Contact: <sip:alice@" old ">\n"

/* ---- header ---- */

static int parse_hdr(const char *value, struct roam_ipaddr *old, size_t *n)
{
	osip_message_t *m = NULL;
	char *t = NULL;
	cr_assert(asprintf(&t,
			   "REGISTER sip:roam.example SIP/2.0\r\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bKx\r\n"
			   "From: <sip:a@roam.example>;tag=1\r\nTo: <sip:a@roam.example>\r\n"
			   "Call-ID: x\r\nCSeq: 1 REGISTER\r\n%s%s%sContent-Length: 0\r\n\r\n",
			   value ? "X-Roam-Previous-Contact: " : "", value ? value : "",
			   value ? "\r\n" : "") > 0);
	parser_init();
	cr_assert_eq(osip_message_init(&m), 0);
	cr_assert_eq(osip_message_parse(m, t, strlen(t)), 0);
	int r = sipd_nat_prev_parse(m, old, SIPD_NAT_MAX_PREV, n);
	osip_message_free(m);
	free(t);
	return r;
}

Test(nat, header_parse_and_build)
{
	struct roam_ipaddr old[SIPD_NAT_MAX_PREV], a;
	size_t n;
	cr_assert_eq(parse_hdr("<sip:mn@1.1.1.1>", old, &n), 0);
	cr_assert_eq(n, 1);
	roam_ipaddr_parse("1.1.1.1", &a);
	cr_assert(roam_ipaddr_eq(&old[0], &a));
	cr_assert_eq(parse_hdr("\"Mobile, Node\" <sip:mn@10.0.0.1:5070;transport=udp>;since=12, "
			       "sip:[2001:db8::7], <sip:mn@10.0.0.1>",
			       old, &n), 0, "display name with a comma, IPv6, a duplicate");
	cr_assert_eq(n, 2);
	roam_ipaddr_parse("2001:db8::7", &a);
	cr_assert(roam_ipaddr_eq(&old[1], &a));
	cr_assert_eq(parse_hdr(NULL, old, &n), -ENOENT);
	cr_assert_eq(parse_hdr("<sip:mn@host.example>", old, &n), -EINVAL, "not an IP literal");
	cr_assert_eq(parse_hdr("<tel:+123>", old, &n), -EINVAL);
	cr_assert_eq(parse_hdr("<sip:mn@1.1.1.1>;since=soon", old, &n), -EINVAL);
	cr_assert_eq(parse_hdr("<sip:mn@0.0.0.0>", old, &n), -EINVAL);
	cr_assert_eq(parse_hdr("<sip:mn@224.0.0.1>", old, &n), -EINVAL);
	cr_assert_eq(parse_hdr("<sip:mn@1.1.1.1", old, &n), -EINVAL, "unterminated <");
	cr_assert_eq(parse_hdr(",,,", old, &n), -EINVAL);
	cr_assert_eq(parse_hdr("sip:1.0.0.1, sip:1.0.0.2, sip:1.0.0.3, sip:1.0.0.4, sip:1.0.0.5",
			       old, &n), -EINVAL, "more than SIPD_NAT_MAX_PREV");
	/* build -> parse round trip */
	char v[128], h[160];
	roam_ipaddr_parse("fd01::2", &a);
	cr_assert_eq(sipd_nat_prev_build("mn", &a, v, sizeof(v)), 0);
	cr_assert_str_eq(v, "<sip:mn@[fd01::2]>");
	snprintf(h, sizeof(h), "%s", v);
	cr_assert_eq(parse_hdr(h, old, &n), 0);
	cr_assert(n == 1 && roam_ipaddr_eq(&old[0], &a));
	roam_ipaddr_parse("1.1.1.1", &a);
	cr_assert_eq(sipd_nat_prev_build(NULL, &a, v, sizeof(v)), 0);
	cr_assert_str_eq(v, "<sip:1.1.1.1>");
	cr_assert_eq(sipd_nat_prev_build("mn", &a, v, 8), -ENOSPC);
}

/* ---- planning ---- */

Test(nat, plan_roles_and_routes)
{
	struct roam_ipaddr o, nw, o6, n6;
	struct roam_nft_pair p;
	roam_ipaddr_parse("10.1.0.2", &o);
	roam_ipaddr_parse("10.2.0.2", &nw);
	roam_ipaddr_parse("fd01::2", &o6);
	roam_ipaddr_parse("fd02::2", &n6);
	/* on B, NEW is local: the new first hop, DST plus the route OLD via NEW */
	cr_assert_eq(sipd_nat_plan(&B.conf, "t1", &o, &nw, &p), SIPD_NAT_ROLE_NEW_HOP);
	cr_assert_eq(p.flags, ROAM_NFT_DST);
	cr_assert(roam_ipaddr_eq(&p.route_gw, &nw));
	cr_assert(roam_ipaddr_eq(&p.old, &o) && roam_ipaddr_eq(&p.new, &nw));
	cr_assert_str_eq(p.tag, "t1");
	cr_assert_eq(sipd_nat_plan(&B.conf, "t1", &o6, &n6, &p), SIPD_NAT_ROLE_NEW_HOP);
	/* on C, the correspondent's first hop: DST only, no route, never GUARD or SRC */
	cr_assert_eq(sipd_nat_plan(&C.conf, "t1", &o, &nw, &p), SIPD_NAT_ROLE_CN_HOP);
	cr_assert_eq(p.flags, ROAM_NFT_DST);
	cr_assert(roam_ipaddr_is_any(&p.route_gw) || p.route_gw.family == 0);
	cr_assert_eq(p.route_oif, 0);
	/* unusable */
	cr_assert_eq(sipd_nat_plan(&B.conf, "t1", &o, &n6, &p), -EINVAL, "families differ");
	cr_assert_eq(sipd_nat_plan(&B.conf, "t1", &o, &o, &p), -EINVAL, "equal");
	cr_assert_eq(sipd_nat_plan(&B.conf, "bad tag", &o, &nw, &p), -EINVAL);
	/* tags: stable, distinct, valid */
	char t1[ROAM_NFT_TAG_MAX], t2[ROAM_NFT_TAG_MAX], t3[ROAM_NFT_TAG_MAX];
	sipd_nat_local_tag("sip:alice@roam.example", "sip:alice@10.2.0.2", &o, t1);
	sipd_nat_local_tag("sip:alice@roam.example", "sip:alice@10.2.0.2", &o, t2);
	sipd_nat_local_tag("sip:alice@roam.example", "sip:alice@10.2.0.2", &o6, t3);
	cr_assert_str_eq(t1, t2);
	cr_assert_str_neq(t1, t3);
	cr_assert_eq(t1[0], 'l');
	cr_assert_eq(roam_nft_tag_check(t1), 0);
	sipd_nat_peer_tag("b", "sip:alice@roam.example", &o, t2);
	cr_assert_eq(t2[0], 'p');
	cr_assert_eq(roam_nft_tag_check(t2), 0);
}

/* ---- the REGISTER side ---- */

static const struct roam_nft_pair *fake_find_old(struct fake_nft *f, const char *old)
{
	struct roam_ipaddr a;
	roam_ipaddr_parse(old, &a);
	for (size_t i = 0; i < f->n; i++)
		if (roam_ipaddr_eq(&f->p[i].old, &a))
			return &f->p[i];
	return NULL;
}

Test(nat, move_installs_pair_and_tells_peer)
{
	char *r = reg(&B, "alice", "secret1", "10.1.0.2", 1, "", true, T0);
	cr_assert_eq(status_of(r), 200, "%s", r);
	cr_assert(strstr(r, "Supported: x-roam-nat-continuity"), "%s", r);
	free(r);
	cr_assert_eq(NFT_B.n, 0);
	/* the mobile moved to 10.2.0.2 */
	r = reg(&B, "alice", "secret1", "10.2.0.2", 10, MOVE_HDRS("10.1.0.2"), true, T0 + 1000);
	cr_assert_eq(status_of(r), 200, "%s", r);
	cr_assert(strstr(r, "X-Roam-Previous-Contact: <sip:10.1.0.2>"), "echo: %s", r);
	free(r);
	const struct roam_nft_pair *p = fake_find_old(&NFT_B, "10.1.0.2");
	cr_assert_not_null(p);
	char b[64];
	cr_assert_str_eq(roam_ipaddr_fmt(&p->new, b, sizeof(b)), "10.2.0.2");
	cr_assert_str_eq(roam_ipaddr_fmt(&p->route_gw, b, sizeof(b)), "10.2.0.2");
	cr_assert_eq(B.stats.nat_pairs_installed, 1);
	cr_assert_eq(B.stats.nat_claims_ok, 1);
	cr_assert_eq(B.nat.npairs, 1);
	/* the peer C was told, with an authenticated MESSAGE */
	cr_assert_eq(NSENT, 1);
	cr_assert(strstr(SENT[0], "MESSAGE sip:10.3.0.1:5060 SIP/2.0"), "%s", SENT[0]);
	cr_assert(strstr(SENT[0], "Require: x-roam-nat-continuity"));
	cr_assert(strstr(SENT[0], "X-Roam-Peer-Auth: hmac-sha256 key=b, seq="));
	cr_assert(strstr(SENT[0], "old=10.1.0.2\r\nnew=10.2.0.2\r\n"), "%s", SENT[0]);
	cr_assert(strstr(SENT[0], "aor=sip:alice@roam.example"));
	cr_assert_eq(B.stats.nat_peer_sent, 1);
	/* C receives it: the correspondent-side pair */
	char *resp = feed(&C, SENT[0], "10.2.0.1", T0 + 1000);
	cr_assert_eq(status_of(resp), 200, "%s", resp);
	p = fake_find_old(&NFT_C, "10.1.0.2");
	cr_assert_not_null(p);
	cr_assert_eq(p->flags, ROAM_NFT_DST);
	cr_assert_eq(p->route_gw.family, 0, "no route on the correspondent's side");
	cr_assert_eq(C.stats.nat_peer_received, 1);
	/* the response ends B's client transaction (no retransmission afterwards) */
	cr_assert_null(feed(&B, resp, "10.3.0.1", T0 + 1100));
	free(resp);
	cr_assert_eq(B.stats.nat_peer_acked, 1);
	sipd_peer_timers(&B, T0 + 10000);
	cr_assert_eq(NSENT, 1, "acknowledged: not retransmitted");
	/* the same message again (a replay under another branch) is refused, nothing changes */
	char *again = strdup(SENT[0]);
	char *bp = strstr(again, "branch=z9hG4bKnp");
	cr_assert_not_null(bp);
	bp[16] = 'Z';
	resp = feed(&C, again, "10.2.0.1", T0 + 1200);
	cr_assert_eq(status_of(resp), 403, "%s", resp);
	cr_assert_eq(C.stats.nat_peer_refused_replay, 1);
	free(resp);
	free(again);
	/* a retransmission (same branch) gets the cached 200 again without being processed */
	resp = feed(&C, SENT[0], "10.2.0.1", T0 + 1300);
	cr_assert_eq(status_of(resp), 200);
	cr_assert_eq(C.stats.nat_peer_refused_replay, 1);
	free(resp);
	cr_assert_eq(NFT_C.n, 1);
}

Test(nat, peer_retransmits_then_gives_up)
{
	struct roam_ipaddr o, nw;
	roam_ipaddr_parse("10.1.0.9", &o);
	roam_ipaddr_parse("10.2.0.9", &nw);
	sipd_peer_notify(&B, "sip:alice@roam.example", &o, &nw, 60, T0);
	cr_assert_eq(NSENT, 1);
	sipd_peer_timers(&B, T0 + 499);
	cr_assert_eq(NSENT, 1);
	sipd_peer_timers(&B, T0 + 500);
	cr_assert_eq(NSENT, 2, "Timer E at T1");
	sipd_peer_timers(&B, T0 + 1500);
	cr_assert_eq(NSENT, 3, "then 2*T1");
	cr_assert_str_eq(SENT[0], SENT[2], "byte for byte");
	sipd_peer_timers(&B, T0 + 64 * 500);
	cr_assert_eq(B.stats.nat_peer_timeouts, 1);
	int n = NSENT;
	sipd_peer_timers(&B, T0 + 100000);
	cr_assert_eq(NSENT, n, "given up");
}

Test(nat, claims_refused)
{
	free(reg(&B, "alice", "secret1", "10.1.0.2", 1, "", true, T0));
	free(reg(&B, "bob", "secret2", "10.1.0.3", 1, "", true, T0));
	/* alice claims bob's address */
	char *r = reg(&B, "alice", "secret1", "10.2.0.2", 10, MOVE_HDRS("10.1.0.3"), true, T0 + 10);
	cr_assert_eq(status_of(r), 403, "%s", r);
	cr_assert(strstr(r, "Previous Contact Not Yours"));
	free(r);
	/* an address nobody had */
	r = reg(&B, "alice", "secret1", "10.2.0.2", 20, MOVE_HDRS("10.1.0.77"), true, T0 + 20);
	cr_assert_eq(status_of(r), 403, "%s", r);
	free(r);
	cr_assert_eq(B.stats.nat_claims_refused_not_yours, 2);
	/* without credentials: challenged, no rule */
	r = reg(&B, "alice", "secret1", "10.2.0.2", 30, MOVE_HDRS("10.1.0.2"), false, T0 + 30);
	cr_assert_eq(status_of(r), 401, "%s", r);
	free(r);
	/* wrong password: challenged again */
	r = reg(&B, "alice", "wrong", "10.2.0.2", 40, MOVE_HDRS("10.1.0.2"), true, T0 + 40);
	cr_assert_eq(status_of(r), 401, "%s", r);
	free(r);
	/* malformed header, missing header, the new address itself */
	r = reg(&B, "alice", "secret1", "10.2.0.2", 50,
		"Require: x-roam-nat-continuity\nX-Roam-Previous-Contact: <sip:alice@old.example>\n",
		true, T0 + 50);
	cr_assert_eq(status_of(r), 400, "%s", r);
	free(r);
	r = reg(&B, "alice", "secret1", "10.2.0.2", 60, "Require: x-roam-nat-continuity\n", true,
		T0 + 60);
	cr_assert_eq(status_of(r), 400, "%s", r);
	free(r);
	r = reg(&B, "alice", "secret1", "10.2.0.2", 70, MOVE_HDRS("10.2.0.2"), true, T0 + 70);
	cr_assert_eq(status_of(r), 400, "%s", r);
	free(r);
	/* none of these changed anything */
	cr_assert_eq(NFT_B.n, 0);
	cr_assert_eq(NSENT, 0);
	cr_assert_eq(B.stats.nat_pairs_installed, 0);
	struct sipd_aor *a = sipd_loc_find(&B.loc, "sip:alice@roam.example");
	cr_assert(a && a->ncontacts == 1, "alice's bindings untouched");
}

Test(nat, unauthenticated_server_refuses_claims)
{
	/* C runs without authentication: a claim there is refused whatever it says */
	char *r = reg(&C, "alice", "x", "10.3.0.5", 1,
		      "Require: x-roam-nat-continuity\nX-Roam-Previous-Contact: <sip:10.1.0.2>\n",
		      false, T0);
	/* C does not serve roam.example: 403 Domain Not Served comes first; use its domain */
	free(r);
	char *t = NULL;
	cr_assert(asprintf(&t, "REGISTER sip:c.example SIP/2.0\nVia: SIP/2.0/UDP 10.3.0.5;branch=z9hG4bKq1\n"
			       "From: <sip:carol@c.example>;tag=1\nTo: <sip:carol@c.example>\n"
			       "Call-ID: q1\nCSeq: 1 REGISTER\nContact: <sip:carol@10.3.0.5>\n"
			       "Require: x-roam-nat-continuity\nX-Roam-Previous-Contact: <sip:10.3.0.4>\n"
			       "Content-Length: 0\n\n") > 0);
	r = feed(&C, t, "10.3.0.5", T0);
	cr_assert_eq(status_of(r), 403, "%s", r);
	cr_assert_eq(C.stats.nat_claims_refused_unauthenticated, 1);
	cr_assert_eq(NFT_C.n, 0);
	free(r);
	free(t);
}

Test(nat, disabled_answers_420)
{
	B.conf.nat_continuity = false;
	char *r = reg(&B, "alice", "secret1", "10.2.0.2", 1, MOVE_HDRS("10.1.0.2"), false, T0);
	cr_assert_eq(status_of(r), 420, "%s", r);
	cr_assert(strstr(r, "Unsupported: x-roam-nat-continuity"), "%s", r);
	free(r);
	/* and so does a peer MESSAGE */
	struct roam_ipaddr o, nw;
	roam_ipaddr_parse("10.1.0.9", &o);
	roam_ipaddr_parse("10.2.0.9", &nw);
	B.conf.nat_continuity = true;
	C.conf.nat_continuity = false;
	sipd_peer_notify(&B, "sip:a@roam.example", &o, &nw, 60, T0);
	cr_assert_eq(NSENT, 1);
	r = feed(&C, SENT[0], "10.2.0.1", T0);
	cr_assert_eq(status_of(r), 420, "%s", r);
	free(r);
	cr_assert_eq(NFT_C.n, 0);
	cr_assert_eq(NFT_B.n, 0);
}

Test(nat, pairs_follow_the_binding)
{
	free(reg(&B, "alice", "secret1", "10.1.0.2", 1, "", true, T0));
	/* the move; the old binding removed in the same request */
	char *r = reg(&B, "alice", "secret1", "10.2.0.2", 10,
		      MOVE_HDRS("10.1.0.2") "Expires: 60\n", true, T0 + 1000);
	cr_assert_eq(status_of(r), 200, "%s", r);
	free(r);
	cr_assert_eq(NFT_B.n, 1);
	clear_sent();
	/* a plain refresh of the new binding: the pair stays, the peer hears the new lifetime */
	r = reg(&B, "alice", "secret1", "10.2.0.2", 20, "Expires: 120\n", true, T0 + 20000);
	cr_assert_eq(status_of(r), 200, "%s", r);
	free(r);
	cr_assert_eq(NFT_B.n, 1);
	cr_assert_eq(NSENT, 1, "refresh announced");
	cr_assert(strstr(SENT[0], "expires=120\r\n"), "%s", SENT[0]);
	clear_sent();
	/* nothing happens before the expiry */
	sipd_expire(&B, T0 + 20000 + 119000);
	cr_assert_eq(NFT_B.n, 1);
	/* the binding expires: the pair goes, the peer is told (expires=0) */
	sipd_expire(&B, T0 + 20000 + 121000);
	cr_assert_eq(NFT_B.n, 0);
	cr_assert_eq(B.nat.npairs, 0);
	cr_assert_eq(B.stats.nat_pairs_removed, 1);
	cr_assert_geq(NSENT, 1);
	cr_assert(strstr(SENT[0], "expires=0\r\n"), "%s", SENT[0]);
}

Test(nat, removal_and_grace)
{
	free(reg(&B, "alice", "secret1", "10.1.0.2", 1, "", true, T0));
	/* the old binding is removed (Expires: 0 for its contact) before the move's REGISTER */
	char *t = NULL;
	cr_assert(asprintf(&t, "REGISTER sip:roam.example SIP/2.0\nVia: SIP/2.0/UDP 10.1.0.2;branch=z9hG4bKrm\n"
			       "From: <sip:alice@roam.example>;tag=1\nTo: <sip:alice@roam.example>\n"
			       "Call-ID: cid-alice\nCSeq: 5 REGISTER\nContact: <sip:alice@10.1.0.2>;expires=0\n"
			       "Content-Length: 0\n\n") > 0);
	B.conf.authentication = false; /* the removal itself is not what is tested */
	char *r = feed(&B, t, "10.1.0.2", T0 + 100);
	cr_assert_eq(status_of(r), 200, "%s", r);
	free(r);
	free(t);
	B.conf.authentication = true;
	cr_assert_eq(B.loc.nbindings, 0);
	/* within the grace period (30 s) the address is still alice's */
	struct roam_ipaddr o;
	roam_ipaddr_parse("10.1.0.2", &o);
	cr_assert_eq(sipd_nat_claim_check(&B, "sip:alice@roam.example", &o, T0 + 20000), 0);
	cr_assert_eq(sipd_nat_claim_check(&B, "sip:bob@roam.example", &o, T0 + 20000), -EPERM);
	r = reg(&B, "alice", "secret1", "10.2.0.2", 10, MOVE_HDRS("10.1.0.2"), true, T0 + 20000);
	cr_assert_eq(status_of(r), 200, "%s", r);
	free(r);
	cr_assert_eq(NFT_B.n, 1);
	/* after the grace period alice still holds it through her pair (she may move again) */
	sipd_expire(&B, T0 + 40000);
	cr_assert_eq(sipd_nat_claim_check(&B, "sip:alice@roam.example", &o, T0 + 40000), 0);
	/* moving again: 10.2.0.2 -> 10.2.0.3 claiming both; the pair of 10.1.0.2 now points to
	 * the newest address, one pair per old address */
	r = reg(&B, "alice", "secret1", "10.2.0.3", 20,
		"Require: x-roam-nat-continuity\n"
		"X-Roam-Previous-Contact: <sip:alice@10.1.0.2>, <sip:alice@10.2.0.2>\n",
		true, T0 + 41000);
	cr_assert_eq(status_of(r), 200, "%s", r);
	free(r);
	cr_assert_eq(NFT_B.n, 2);
	char b[64];
	cr_assert_str_eq(roam_ipaddr_fmt(&fake_find_old(&NFT_B, "10.1.0.2")->new, b, sizeof(b)),
			 "10.2.0.3");
	cr_assert_str_eq(roam_ipaddr_fmt(&fake_find_old(&NFT_B, "10.2.0.2")->new, b, sizeof(b)),
			 "10.2.0.3");
	/* a binding dropped longer ago than the grace period is no longer claimable */
	free(reg(&B, "bob", "secret2", "10.1.0.3", 1, "Expires: 10\n", true, T0 + 41000));
	sipd_expire(&B, T0 + 52000);
	roam_ipaddr_parse("10.1.0.3", &o);
	cr_assert_eq(sipd_nat_claim_check(&B, "sip:bob@roam.example", &o, T0 + 60000), 0);
	sipd_expire(&B, T0 + 90000);
	cr_assert_eq(sipd_nat_claim_check(&B, "sip:bob@roam.example", &o, T0 + 90000), -EPERM);
}

/* ---- peer messages ---- */

static char *peer_msg(struct sipd *from, const char *branch, const char *body, uint64_t seq)
{
	char *text = NULL;
	size_t len;
	cr_assert_eq(sipd_peer_build(from, 0, branch, body, seq, &text, &len), 0);
	return text;
}

Test(nat, peer_message_authentication)
{
	const char *body = "aor=sip:alice@roam.example\r\nold=10.1.0.2\r\nnew=10.2.0.2\r\nexpires=60\r\n";
	uint64_t now = roam_wall_ms();
	/* a valid one */
	char *m = peer_msg(&B, "z9hG4bKnpA1", body, now);
	char *r = feed(&C, m, "10.2.0.1", T0);
	cr_assert_eq(status_of(r), 200, "%s", r);
	free(r);
	cr_assert_eq(NFT_C.n, 1);
	/* tampered body (new address changed after signing) */
	char *t = strdup(m);
	char *p = strstr(t, "new=10.2.0.2");
	p[11] = '9';
	p = strstr(t, "branch=z9hG4bKnpA1");
	p[17] = '2';
	r = feed(&C, t, "10.2.0.1", T0);
	cr_assert_eq(status_of(r), 403, "%s", r);
	cr_assert_eq(C.stats.nat_peer_refused_bad_mac, 1);
	free(r);
	free(t);
	free(m);
	/* signed with another secret */
	free(B.conf.nat_peers[0].secret.data);
	B.conf.nat_peers[0].secret.data = (uint8_t *)strdup("not-the-shared-secret");
	B.conf.nat_peers[0].secret.len = strlen("not-the-shared-secret");
	m = peer_msg(&B, "z9hG4bKnpA3", body, now + 1);
	r = feed(&C, m, "10.2.0.1", T0);
	cr_assert_eq(status_of(r), 403, "%s", r);
	cr_assert_eq(C.stats.nat_peer_refused_bad_mac, 2);
	free(r);
	free(m);
	/* an unknown key id */
	free(B.conf.nat_node);
	B.conf.nat_node = strdup("mallory");
	m = peer_msg(&B, "z9hG4bKnpA4", body, now + 2);
	r = feed(&C, m, "10.2.0.1", T0);
	cr_assert_eq(status_of(r), 403, "%s", r);
	cr_assert_eq(C.stats.nat_peer_refused_unknown_key, 1);
	free(r);
	free(m);
	/* no auth header at all */
	r = feed(&C, "MESSAGE sip:10.3.0.1 SIP/2.0\nVia: SIP/2.0/UDP 10.2.0.1;branch=z9hG4bKnpA5\n"
		     "From: <sip:b@10.2.0.1>;tag=1\nTo: <sip:10.3.0.1>\nCall-ID: n1\nCSeq: 1 MESSAGE\n"
		     "Require: x-roam-nat-continuity\nContent-Type: application/x-roam-nat-continuity\n"
		     "Content-Length: 0\n\n",
		 "10.2.0.1", T0);
	cr_assert_eq(status_of(r), 403, "%s", r);
	free(r);
	cr_assert_eq(NFT_C.n, 1, "only the valid one installed");
}

Test(nat, peer_message_freshness_body_and_withdrawal)
{
	uint64_t now = roam_wall_ms();
	const char *body = "aor=sip:alice@roam.example\r\nold=10.1.0.2\r\nnew=10.2.0.2\r\nexpires=60\r\n";
	/* too old, too far in the future */
	char *m = peer_msg(&B, "z9hG4bKnpB1", body, now - 31000);
	char *r = feed(&C, m, "10.2.0.1", T0);
	cr_assert_eq(status_of(r), 403, "%s", r);
	free(r);
	free(m);
	m = peer_msg(&B, "z9hG4bKnpB2", body, now + 31000);
	r = feed(&C, m, "10.2.0.1", T0);
	cr_assert_eq(status_of(r), 403, "%s", r);
	free(r);
	free(m);
	cr_assert_eq(C.stats.nat_peer_refused_stale, 2);
	/* bad bodies: a key missing, twice, a bad address, families differ */
	const char *bad[] = {
		"aor=sip:alice@roam.example\r\nold=10.1.0.2\r\nexpires=60\r\n",
		"aor=sip:alice@roam.example\r\nold=10.1.0.2\r\nold=10.1.0.3\r\nnew=10.2.0.2\r\nexpires=1\r\n",
		"aor=sip:alice@roam.example\r\nold=10.1.0.300\r\nnew=10.2.0.2\r\nexpires=60\r\n",
		"aor=sip:alice@roam.example\r\nold=10.1.0.2\r\nnew=fd02::2\r\nexpires=60\r\n",
		"aor=sip:alice@roam.example\r\nold=10.1.0.2\r\nnew=10.2.0.2\r\nexpires=-1\r\n",
		"garbage",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char br[32];
		snprintf(br, sizeof(br), "z9hG4bKnpC%zu", i);
		m = peer_msg(&B, br, bad[i], now + 10 + i);
		r = feed(&C, m, "10.2.0.1", T0);
		cr_assert_eq(status_of(r), 400, "body %zu: %s", i, r);
		free(r);
		free(m);
	}
	cr_assert_eq(NFT_C.n, 0);
	/* valid, then withdrawn with expires=0 */
	m = peer_msg(&B, "z9hG4bKnpD1", body, now + 100);
	r = feed(&C, m, "10.2.0.1", T0);
	cr_assert_eq(status_of(r), 200, "%s", r);
	free(r);
	free(m);
	cr_assert_eq(NFT_C.n, 1);
	cr_assert_eq(C.nat.npairs, 1);
	m = peer_msg(&B, "z9hG4bKnpD2",
		     "aor=sip:alice@roam.example\r\nold=10.1.0.2\r\nnew=10.2.0.2\r\nexpires=0\r\n",
		     now + 101);
	r = feed(&C, m, "10.2.0.1", T0 + 10);
	cr_assert_eq(status_of(r), 200, "%s", r);
	free(r);
	free(m);
	cr_assert_eq(NFT_C.n, 0);
	/* a peer pair also goes at its own expiry when its server falls silent */
	m = peer_msg(&B, "z9hG4bKnpD3", body, now + 102);
	free(feed(&C, m, "10.2.0.1", T0 + 20));
	free(m);
	cr_assert_eq(NFT_C.n, 1);
	sipd_expire(&C, T0 + 20 + 59000);
	cr_assert_eq(NFT_C.n, 1);
	sipd_expire(&C, T0 + 20 + 61000);
	cr_assert_eq(NFT_C.n, 0);
}

/* ---- restart ---- */

Test(nat, reconcile_after_restart)
{
	free(reg(&B, "alice", "secret1", "10.1.0.2", 1, "", true, T0));
	free(reg(&B, "alice", "secret1", "10.1.0.4", 3, "", true, T0 + 5));
	char *r = reg(&B, "alice", "secret1", "10.2.0.2", 10,
		      "Require: x-roam-nat-continuity\n"
		      "X-Roam-Previous-Contact: <sip:alice@10.1.0.2>, <sip:alice@10.1.0.4>\n",
		      true, T0 + 10);
	cr_assert_eq(status_of(r), 200, "%s", r);
	free(r);
	cr_assert_eq(NFT_B.n, 2, "two old addresses, two pairs of the same binding");
	char kept[ROAM_NFT_TAG_MAX], kept2[ROAM_NFT_TAG_MAX];
	snprintf(kept, sizeof(kept), "%s", NFT_B.p[0].tag);
	snprintf(kept2, sizeof(kept2), "%s", NFT_B.p[1].tag);
	cr_assert_eq(strncmp(kept, kept2, 17), 0, "same binding part");
	cr_assert_str_neq(kept, kept2);
	/* what an earlier run left besides: a pair of a binding that is gone, a peer's pair,
	 * and a pair of ours with an unexpected shape */
	struct roam_nft_pair x;
	memset(&x, 0, sizeof(x));
	snprintf(x.tag, sizeof(x.tag), "l0123456789abcdef.01234567");
	roam_ipaddr_parse("10.1.0.50", &x.old);
	roam_ipaddr_parse("10.2.0.50", &x.new);
	x.flags = ROAM_NFT_DST;
	fake_add(&NFT_B, &x);
	snprintf(x.tag, sizeof(x.tag), "pfedcba9876543210.01234567");
	roam_ipaddr_parse("10.1.0.51", &x.old);
	fake_add(&NFT_B, &x);
	snprintf(x.tag, sizeof(x.tag), "lffffffffffffffff.01234567");
	roam_ipaddr_parse("10.1.0.52", &x.old);
	x.flags = ROAM_NFT_DST | ROAM_NFT_SRC;
	fake_add(&NFT_B, &x);
	/* "restart": forget the tracked pairs (the kernel keeps the rules) */
	B.nat.npairs = 0;
	int removed = sipd_nat_reconcile(&B, T0 + 20);
	cr_assert_eq(removed, 2, "the unbound local pair and the odd one");
	cr_assert_eq(NFT_B.n, 3);
	cr_assert_not_null(sipd_nat_find(&B, kept), "the binding's pairs are adopted");
	cr_assert_not_null(sipd_nat_find(&B, kept2));
	struct sipd_nat_pair *pp = sipd_nat_find(&B, "pfedcba9876543210.01234567");
	cr_assert_not_null(pp, "the peer's pair is kept for the grace period");
	cr_assert_eq(pp->expires, T0 + 20 + 30000);
	cr_assert_eq(B.stats.nat_pairs_reconciled, 2);
	/* the adopted pair still follows its binding */
	sipd_loc_remove_aor(&B.loc, "sip:alice@roam.example");
	sipd_nat_sync(&B, NULL, T0 + 30);
	cr_assert_null(sipd_nat_find(&B, kept));
	cr_assert_null(sipd_nat_find(&B, kept2));
	sipd_expire(&B, T0 + 20 + 31000);
	cr_assert_eq(NFT_B.n, 0);
	/* with the extension off, every pair of ours goes at start */
	fake_add(&NFT_B, &x);
	B.conf.nat_continuity = false;
	B.nat.npairs = 0;
	cr_assert_eq(sipd_nat_reconcile(&B, T0 + 40000), 1);
	cr_assert_eq(NFT_B.n, 0);
}

Test(nat, options_lists_the_tag)
{
	char *r = feed(&B, "OPTIONS sip:roam.example SIP/2.0\nVia: SIP/2.0/UDP 10.2.0.2;branch=z9hG4bKo1\n"
			   "From: <sip:a@roam.example>;tag=1\nTo: <sip:roam.example>\nCall-ID: o1\n"
			   "CSeq: 1 OPTIONS\nContent-Length: 0\n\n",
		       "10.2.0.2", T0);
	cr_assert_eq(status_of(r), 200, "%s", r);
	cr_assert(strstr(r, "Supported: x-roam-nat-continuity"), "%s", r);
	free(r);
}
