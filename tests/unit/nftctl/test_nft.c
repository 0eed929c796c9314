/* Unit tests: roam/nft.h (common/net/nft.c), the stateless old/new translation rules over
 * libnftables, each test in a private network namespace (netns.h), checked against the kernel's
 * ruleset as libnftables lists it.  Packets through the rules: tests/e2e/nft-nat.sh.
 * They live here, not in tests/unit/common/, because the nftctl fragment links -lnftables. */
#include <criterion/criterion.h>
#include <errno.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/netns.h"
#include "roam/netlink.h"
#include "roam/nft.h"

/* The whole ruleset of the namespace as nft prints it (text), in buf. */
static const char *ruleset(char *buf, size_t len)
{
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	cr_assert_not_null(ctx);
	cr_assert_eq(nft_ctx_buffer_output(ctx), 0);
	cr_assert_eq(nft_run_cmd_from_buffer(ctx, "list ruleset"), 0);
	snprintf(buf, len, "%s", nft_ctx_get_output_buffer(ctx));
	nft_ctx_free(ctx);
	return buf;
}

static struct roam_nft_pair mkpair(const char *tag, const char *old, const char *new,
				   unsigned flags)
{
	struct roam_nft_pair p;
	memset(&p, 0, sizeof(p));
	snprintf(p.tag, sizeof(p.tag), "%s", tag);
	cr_assert_eq(roam_ipaddr_parse(old, &p.old), 0);
	cr_assert_eq(roam_ipaddr_parse(new, &p.new), 0);
	p.flags = flags;
	return p;
}

static const struct roam_nft_pair *find(const struct roam_nft_pair *v, size_t n, const char *tag)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].tag, tag) == 0)
			return &v[i];
	return NULL;
}

static void expect_pair(const struct roam_nft_pair *v, size_t n, const char *tag, const char *old,
			const char *new, unsigned flags)
{
	const struct roam_nft_pair *p = find(v, n, tag);
	cr_assert_not_null(p, "pair %s listed", tag);
	char b1[ROAM_ADDRSTRLEN], b2[ROAM_ADDRSTRLEN];
	cr_assert_str_eq(roam_ipaddr_fmt(&p->old, b1, sizeof(b1)), old);
	cr_assert_str_eq(roam_ipaddr_fmt(&p->new, b2, sizeof(b2)), new);
	cr_assert_eq(p->flags, flags, "pair %s flags 0x%x, expected 0x%x", tag, p->flags, flags);
}

Test(nft, table_create_and_destroy)
{
	netns_enter();
	char rs[8192];
	struct roam_nft *t;
	cr_assert_eq(roam_nft_open("sipd", &t), 0, "%s", t ? roam_nft_error(t) : "");
	cr_assert_str_eq(roam_nft_table(t), "roam_sipd");
	ruleset(rs, sizeof(rs));
	cr_assert(strstr(rs, "table inet roam_sipd"), "%s", rs);
	cr_assert(strstr(rs, "type filter hook prerouting priority raw"), "%s", rs);
	cr_assert(strstr(rs, "type route hook output priority raw"), "%s", rs);
	struct roam_nft_pair *v;
	size_t n = 99;
	cr_assert_eq(roam_nft_list(t, &v, &n), 0);
	cr_assert_eq(n, 0);
	cr_assert_null(v);
	/* opening again (a second owner instance, or a restart) keeps the table */
	struct roam_nft *t2;
	cr_assert_eq(roam_nft_open("sipd", &t2), 0);
	roam_nft_close(t2);
	cr_assert_eq(roam_nft_destroy(t), 0);
	cr_assert_str_eq(ruleset(rs, sizeof(rs)), "", "left behind: %s", rs);
}

Test(nft, pairs_v4_v6_add_list_del)
{
	netns_enter();
	char rs[16384];
	struct roam_nft *t;
	cr_assert_eq(roam_nft_open("sipd", &t), 0);
	struct roam_nft_pair a = mkpair("alice@example.com", "192.0.2.10", "198.51.100.20",
					ROAM_NFT_DST | ROAM_NFT_SRC);
	struct roam_nft_pair b = mkpair("b-2", "2001:db8:1::10", "2001:db8:2::20",
					ROAM_NFT_DST | ROAM_NFT_GUARD);
	cr_assert_eq(roam_nft_pair_add(t, &a), 0, "%s", roam_nft_error(t));
	cr_assert_eq(roam_nft_pair_add(t, &b), 0, "%s", roam_nft_error(t));
	ruleset(rs, sizeof(rs));
	/* the exact rules of docs/nat-rules.md */
	cr_assert(strstr(rs, "ip daddr 192.0.2.10 ip daddr set 198.51.100.20 notrack comment \"alice@example.com\""), "%s", rs);
	cr_assert(strstr(rs, "ip saddr 198.51.100.20 ip saddr set 192.0.2.10 notrack comment \"alice@example.com\""), "%s", rs);
	cr_assert(strstr(rs, "ip6 daddr 2001:db8:1::10 socket wildcard 0 accept comment \"b-2\""), "%s", rs);
	cr_assert(strstr(rs, "ip6 daddr 2001:db8:1::10 socket wildcard 1 ip6 daddr set 2001:db8:2::20 notrack comment \"b-2\""), "%s", rs);
	cr_assert(strstr(rs, "ip6 daddr 2001:db8:1::10 socket transparent 0 accept comment \"b-2\""), "%s", rs);
	/* the guard comes first in the prerouting chain */
	cr_assert(strstr(rs, "socket transparent 0 accept comment \"b-2\"") <
		  strstr(rs, "ip6 daddr 2001:db8:1::10 ip6 daddr set"), "%s", rs);
	cr_assert(strstr(rs, "ip6 daddr 2001:db8:1::10 ip6 daddr set 2001:db8:2::20 notrack comment \"b-2\""), "%s", rs);
	cr_assert_null(strstr(rs, "ip6 saddr"), "b-2 has no source rewrite: %s", rs);

	struct roam_nft_pair *v;
	size_t n;
	cr_assert_eq(roam_nft_list(t, &v, &n), 0, "%s", roam_nft_error(t));
	cr_assert_eq(n, 2);
	expect_pair(v, n, "alice@example.com", "192.0.2.10", "198.51.100.20", ROAM_NFT_DST | ROAM_NFT_SRC);
	expect_pair(v, n, "b-2", "2001:db8:1::10", "2001:db8:2::20", ROAM_NFT_DST | ROAM_NFT_GUARD);
	cr_assert_eq(v[0].route_oif, 0);
	free(v);

	cr_assert_eq(roam_nft_pair_del(t, "alice@example.com"), 0, "%s", roam_nft_error(t));
	cr_assert_eq(roam_nft_pair_del(t, "alice@example.com"), -ENOENT);
	cr_assert(strstr(roam_nft_error(t), "alice@example.com"), "%s", roam_nft_error(t));
	ruleset(rs, sizeof(rs));
	cr_assert_null(strstr(rs, "192.0.2.10"), "%s", rs);
	cr_assert(strstr(rs, "2001:db8:2::20"), "%s", rs);
	cr_assert_eq(roam_nft_list(t, &v, &n), 0);
	cr_assert_eq(n, 1);
	expect_pair(v, n, "b-2", "2001:db8:1::10", "2001:db8:2::20", ROAM_NFT_DST | ROAM_NFT_GUARD);
	free(v);

	/* the same old address again under a new tag after a second move is fine once removed */
	cr_assert_eq(roam_nft_pair_del(t, "b-2"), 0);
	struct roam_nft_pair b2 = mkpair("b-3", "2001:db8:1::10", "2001:db8:3::30", ROAM_NFT_SRC);
	cr_assert_eq(roam_nft_pair_add(t, &b2), 0, "%s", roam_nft_error(t));
	cr_assert_eq(roam_nft_list(t, &v, &n), 0);
	cr_assert_eq(n, 1);
	expect_pair(v, n, "b-3", "2001:db8:1::10", "2001:db8:3::30", ROAM_NFT_SRC);
	free(v);

	cr_assert_eq(roam_nft_destroy(t), 0);
	cr_assert_str_eq(ruleset(rs, sizeof(rs)), "", "left behind: %s", rs);
}

Test(nft, conflicts_and_bad_input)
{
	netns_enter();
	struct roam_nft *t = NULL;
	cr_assert_eq(roam_nft_open("", &t), -EINVAL);
	cr_assert_null(t);
	cr_assert_eq(roam_nft_open("Sipd", &t), -EINVAL);
	cr_assert_eq(roam_nft_open("a b", &t), -EINVAL);
	cr_assert_eq(roam_nft_open("x23456789012345678901234567890123", &t), -EINVAL);
	cr_assert_eq(roam_nft_open(NULL, &t), -EINVAL);
	cr_assert_eq(roam_nft_open("x2345678901234567890123456789012", &t), 0);
	cr_assert_eq(roam_nft_destroy(t), 0);

	cr_assert_eq(roam_nft_open("sipd", &t), 0);
	struct roam_nft_pair a = mkpair("a", "192.0.2.10", "198.51.100.20", ROAM_NFT_DST);
	cr_assert_eq(roam_nft_pair_add(t, &a), 0, "%s", roam_nft_error(t));
	cr_assert_eq(roam_nft_pair_add(t, &a), -EEXIST, "same tag");
	struct roam_nft_pair p = mkpair("other", "192.0.2.10", "198.51.100.21", ROAM_NFT_DST);
	cr_assert_eq(roam_nft_pair_add(t, &p), -EEXIST, "same old address");
	cr_assert(strstr(roam_nft_error(t), "conflicts"), "%s", roam_nft_error(t));
	p = mkpair("other", "192.0.2.11", "198.51.100.20", ROAM_NFT_DST);
	cr_assert_eq(roam_nft_pair_add(t, &p), -EEXIST, "same new address");

	static const char *bad_tags[] = { "", "a b", "a\"b", "a;b", "a\nb", "a}b",
		"0123456789012345678901234567890123456789012345678901234567890123" };
	for (size_t i = 0; i < sizeof(bad_tags) / sizeof(bad_tags[0]); i++) {
		p = mkpair("x", "192.0.2.50", "198.51.100.50", ROAM_NFT_DST);
		snprintf(p.tag, sizeof(p.tag), "%s", bad_tags[i]);
		if (strlen(bad_tags[i]) >= sizeof(p.tag)) /* a full, unterminated field */
			memset(p.tag, 'a', sizeof(p.tag));
		cr_assert_eq(roam_nft_pair_add(t, &p), -EINVAL, "tag %zu", i);
		cr_assert(roam_nft_error(t)[0], "an error message");
	}
	cr_assert_eq(roam_nft_pair_del(t, "a b"), -EINVAL);
	p = mkpair("x", "192.0.2.50", "2001:db8::1", ROAM_NFT_DST);
	cr_assert_eq(roam_nft_pair_add(t, &p), -EINVAL, "mixed families");
	p = mkpair("x", "192.0.2.50", "192.0.2.50", ROAM_NFT_DST);
	cr_assert_eq(roam_nft_pair_add(t, &p), -EINVAL, "equal");
	p = mkpair("x", "0.0.0.0", "192.0.2.51", ROAM_NFT_DST);
	cr_assert_eq(roam_nft_pair_add(t, &p), -EINVAL, "unspecified");
	p = mkpair("x", "192.0.2.50", "224.0.0.1", ROAM_NFT_DST);
	cr_assert_eq(roam_nft_pair_add(t, &p), -EINVAL, "multicast");
	p = mkpair("x", "::", "2001:db8::1", ROAM_NFT_DST);
	cr_assert_eq(roam_nft_pair_add(t, &p), -EINVAL, "v6 unspecified");
	p = mkpair("x", "192.0.2.50", "192.0.2.51", 0);
	cr_assert_eq(roam_nft_pair_add(t, &p), -EINVAL, "no rewrite");
	p.flags = ROAM_NFT_GUARD | ROAM_NFT_SRC;
	cr_assert_eq(roam_nft_pair_add(t, &p), -EINVAL, "guard without DST");
	p.flags = ROAM_NFT_DST | 0x100;
	cr_assert_eq(roam_nft_pair_add(t, &p), -EINVAL, "unknown flag");
	p = mkpair("x", "192.0.2.50", "192.0.2.51", ROAM_NFT_DST);
	cr_assert_eq(roam_ipaddr_parse("2001:db8::9", &p.route_gw), 0);
	cr_assert_eq(roam_nft_pair_add(t, &p), -EINVAL, "route gateway of another family");
	p.route_gw.family = 0;
	p.route_oif = 4242;             /* no such interface: the route fails, no rule left */
	int rc = roam_nft_pair_add(t, &p);
	cr_assert(rc == -ENODEV || rc == -EINVAL || rc == -ENETUNREACH, "rc %d", rc);
	cr_assert(strstr(roam_nft_error(t), "static route"), "%s", roam_nft_error(t));

	struct roam_nft_pair *v;
	size_t n;
	cr_assert_eq(roam_nft_list(t, &v, &n), 0);
	cr_assert_eq(n, 1, "refused pairs left nothing");
	expect_pair(v, n, "a", "192.0.2.10", "198.51.100.20", ROAM_NFT_DST);
	free(v);

	/* libnftables' own error, captured: the table removed behind the owner's back */
	struct roam_nft *t2;
	cr_assert_eq(roam_nft_open("sipd", &t2), 0);
	cr_assert_eq(roam_nft_destroy(t2), 0);
	cr_assert_eq(roam_nft_list(t, &v, &n), -ENOENT);
	cr_assert(strstr(roam_nft_error(t), "No such file or directory"), "%s", roam_nft_error(t));
	cr_assert_null(strchr(roam_nft_error(t), '\n'), "one line");
	cr_assert_eq(roam_nft_pair_del(t, "a"), -ENOENT);
	roam_nft_close(t);
}

static int keep_tag(const struct roam_nft_pair *p, void *arg)
{
	return strcmp(p->tag, (const char *)arg) == 0;
}

Test(nft, reconcile_after_restart)
{
	netns_enter();
	char rs[16384];
	struct roam_nft *t;
	cr_assert_eq(roam_nft_open("sipd", &t), 0);
	struct roam_nft_pair p1 = mkpair("b1", "192.0.2.1", "198.51.100.1", ROAM_NFT_DST | ROAM_NFT_SRC);
	struct roam_nft_pair p2 = mkpair("b2", "192.0.2.2", "198.51.100.2", ROAM_NFT_DST | ROAM_NFT_SRC);
	struct roam_nft_pair p3 = mkpair("b3", "2001:db8::3", "2001:db8:1::3", ROAM_NFT_DST | ROAM_NFT_SRC);
	cr_assert_eq(roam_nft_pair_add(t, &p1), 0);
	cr_assert_eq(roam_nft_pair_add(t, &p2), 0);
	cr_assert_eq(roam_nft_pair_add(t, &p3), 0);
	roam_nft_close(t);              /* the owner stops without cleaning (crash, restart) */
	cr_assert(strstr(ruleset(rs, sizeof(rs)), "198.51.100.2"), "rules survive the handle");

	/* a stranger's rule in our table, without a tag, is neither listed nor removed */
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	cr_assert_eq(nft_run_cmd_from_buffer(ctx, "add rule inet roam_sipd pre ip daddr 10.9.9.9 counter"), 0);
	/* nor are tagged rules of shapes we never write */
	cr_assert_eq(nft_run_cmd_from_buffer(ctx, "add rule inet roam_sipd pre ip daddr 10.9.9.8 ip saddr set 10.9.9.7 comment \"x1\""), 0);
	cr_assert_eq(nft_run_cmd_from_buffer(ctx, "add rule inet roam_sipd pre ip daddr { 10.9.9.5, 10.9.9.6 } ip daddr set 10.9.9.4 comment \"x2\""), 0);
	cr_assert_eq(nft_run_cmd_from_buffer(ctx, "add rule inet roam_sipd out meta mark 1 counter comment \"x3\""), 0);
	nft_ctx_free(ctx);

	cr_assert_eq(roam_nft_open("sipd", &t), 0);
	struct roam_nft_pair *v;
	size_t n, removed = 99;
	cr_assert_eq(roam_nft_list(t, &v, &n), 0);
	cr_assert_eq(n, 3);
	expect_pair(v, n, "b3", "2001:db8::3", "2001:db8:1::3", ROAM_NFT_DST | ROAM_NFT_SRC);
	free(v);
	cr_assert_eq(roam_nft_reconcile(t, keep_tag, "b2", &removed), 0, "%s", roam_nft_error(t));
	cr_assert_eq(removed, 2);
	cr_assert_eq(roam_nft_list(t, &v, &n), 0);
	cr_assert_eq(n, 1);
	expect_pair(v, n, "b2", "192.0.2.2", "198.51.100.2", ROAM_NFT_DST | ROAM_NFT_SRC);
	free(v);
	ruleset(rs, sizeof(rs));
	cr_assert_null(strstr(rs, "198.51.100.1 "), "%s", rs);
	cr_assert(strstr(rs, "10.9.9.9"), "the untagged rule stays: %s", rs);
	cr_assert(strstr(rs, "10.9.9.7") && strstr(rs, "10.9.9.4") && strstr(rs, "meta mark"),
		  "foreign shapes stay: %s", rs);
	/* nothing to remove the second time */
	cr_assert_eq(roam_nft_reconcile(t, keep_tag, "b2", &removed), 0);
	cr_assert_eq(removed, 0);
	cr_assert_eq(roam_nft_flush(t), 0);
	cr_assert_eq(roam_nft_list(t, &v, &n), 0);
	cr_assert_eq(n, 0);
	cr_assert_eq(roam_nft_destroy(t), 0);
	cr_assert_str_eq(ruleset(rs, sizeof(rs)), "", "left behind: %s", rs);
}

/* The route table as `ip route` prints it for dst, in buf. */
static const char *route_show(const char *args, char *buf, size_t len)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "ip %s 2>&1", args);
	FILE *f = popen(cmd, "r");
	cr_assert_not_null(f);
	size_t n = fread(buf, 1, len - 1, f);
	buf[n] = 0;
	pclose(f);
	return buf;
}

Test(nft, static_route_with_the_pair)
{
	netns_enter();
	char out[2048];
	cr_assert_eq(system("ip link add nftd0 type veth peer name nftd1 && ip link set nftd1 up && ip link set nftd0 up && "
			    "ip addr add 198.51.100.1/24 dev nftd0 && "
			    "ip -6 addr add 2001:db8:2::1/64 dev nftd0 nodad"), 0);
	int ifindex;
	cr_assert_eq(roam_nl_ifindex("nftd0", &ifindex), 0);
	struct roam_nft *t;
	cr_assert_eq(roam_nft_open("sipd", &t), 0);
	struct roam_nft_pair p = mkpair("r4", "192.0.2.10", "198.51.100.20", ROAM_NFT_DST);
	p.route_oif = ifindex;
	cr_assert_eq(roam_nft_pair_add(t, &p), 0, "%s", roam_nft_error(t));
	route_show("-4 route show 192.0.2.10/32", out, sizeof(out));
	cr_assert(strstr(out, "192.0.2.10 dev nftd0 proto 176"), "%s", out);
	struct roam_nft_pair q = mkpair("r6", "2001:db8:1::10", "2001:db8:2::20", ROAM_NFT_DST | ROAM_NFT_SRC);
	cr_assert_eq(roam_ipaddr_parse("2001:db8:2::20", &q.route_gw), 0);
	cr_assert_eq(roam_nft_pair_add(t, &q), 0, "%s", roam_nft_error(t));
	route_show("-6 route show 2001:db8:1::10/128", out, sizeof(out));
	cr_assert(strstr(out, "via 2001:db8:2::20"), "%s", out);

	cr_assert_eq(roam_nft_pair_del(t, "r4"), 0, "%s", roam_nft_error(t));
	/* rules refused after the route went in (the chain removed behind the owner's back): the
	 * route is taken back, libnftables' message kept */
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	cr_assert_eq(nft_run_cmd_from_buffer(ctx, "flush chain inet roam_sipd pre; delete chain inet roam_sipd pre"), 0);
	nft_ctx_free(ctx);
	p = mkpair("r5", "192.0.2.11", "198.51.100.21", ROAM_NFT_DST);
	p.route_oif = ifindex;
	cr_assert_eq(roam_nft_pair_add(t, &p), -ENOENT);
	cr_assert(strstr(roam_nft_error(t), "No such file or directory"), "%s", roam_nft_error(t));
	cr_assert_str_eq(route_show("-4 route show 192.0.2.11/32", out, sizeof(out)), "");
	cr_assert_str_eq(route_show("-4 route show 192.0.2.10/32", out, sizeof(out)), "");
	cr_assert_eq(roam_nft_destroy(t), 0, "routes removed with the table");
	cr_assert_str_eq(route_show("-6 route show 2001:db8:1::10/128", out, sizeof(out)), "");
	/* a route someone else added for the same address (another protocol) is not ours */
	cr_assert_eq(system("ip route add 192.0.2.99/32 dev nftd0"), 0);
	cr_assert_eq(roam_nft_open("sipd", &t), 0);
	p = mkpair("r9", "192.0.2.99", "198.51.100.99", ROAM_NFT_DST);
	cr_assert_eq(roam_nft_pair_add(t, &p), 0);
	cr_assert_eq(roam_nft_pair_del(t, "r9"), 0);
	route_show("-4 route show 192.0.2.99/32", out, sizeof(out));
	cr_assert(strstr(out, "192.0.2.99 dev nftd0"), "kept: %s", out);
	cr_assert_eq(roam_nft_destroy(t), 0);
}
