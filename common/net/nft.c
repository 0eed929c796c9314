/* Stateless old/new address translation over libnftables (see roam/nft.h, docs/nat-rules.md). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nftables/libnftables.h>

#include "roam/json.h"
#include "roam/log.h"
#include "roam/netlink.h"
#include "roam/nft.h"

#define NFT_FAMILY "inet"
#define CMD_MAX 4096

struct roam_nft {
	struct nft_ctx *ctx;
	char table[ROAM_NFT_OWNER_MAX + 8];
	char err[ROAM_NFT_ERR_MAX];
};

/* One rule of ours as listed by the kernel. */
struct nft_rule {
	char chain[8];
	long long handle;
	char tag[ROAM_NFT_TAG_MAX];
	unsigned kind;              /* ROAM_NFT_DST, ROAM_NFT_SRC or ROAM_NFT_GUARD */
	struct roam_ipaddr match;   /* the address the rule matches */
	struct roam_ipaddr set;     /* the address it writes (DST/SRC) */
};

struct rule_list {
	struct nft_rule *v;
	size_t n, cap;
};

static void set_err(struct roam_nft *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_err(struct roam_nft *t, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(t->err, sizeof(t->err), fmt, ap);
	va_end(ap);
}

int roam_nft_tag_check(const char *tag)
{
	if (!tag)
		return -EINVAL;
	size_t n = strnlen(tag, ROAM_NFT_TAG_MAX);
	if (n == 0 || n >= ROAM_NFT_TAG_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		char c = tag[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr("._:@+-", c)))
			return -EINVAL;
	}
	return 0;
}

static int owner_check(const char *owner)
{
	if (!owner)
		return -EINVAL;
	size_t n = strnlen(owner, ROAM_NFT_OWNER_MAX + 1);
	if (n == 0 || n > ROAM_NFT_OWNER_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!((owner[i] >= 'a' && owner[i] <= 'z') || (owner[i] >= '0' && owner[i] <= '9') ||
		      owner[i] == '_'))
			return -EINVAL;
	return 0;
}

/* Runs a command buffer.  On failure the error text (trimmed) goes to t->err; the code is
 * guessed from it since libnftables only says -1. */
static int run(struct roam_nft *t, const char *cmd, const char **output)
{
	int rc = nft_run_cmd_from_buffer(t->ctx, cmd);
	const char *out = nft_ctx_get_output_buffer(t->ctx);   /* also resets the buffers */
	const char *e = nft_ctx_get_error_buffer(t->ctx);
	if (output)
		*output = out;
	if (rc == 0) {
		t->err[0] = 0;
		return 0;
	}
	set_err(t, "%s", e && *e ? e : "libnftables failed without a message");
	size_t n = strlen(t->err);
	while (n > 0 && (t->err[n - 1] == '\n' || t->err[n - 1] == ' '))
		t->err[--n] = 0;
	for (char *p = t->err; *p; p++)     /* one line for logs and control replies */
		if (*p == '\n')
			*p = ' ';
	if (strstr(t->err, "Operation not permitted"))
		return -EPERM;
	if (strstr(t->err, "No such file or directory"))
		return -ENOENT;
	return -EIO;
}

int roam_nft_open(const char *owner, struct roam_nft **out)
{
	*out = NULL;
	if (owner_check(owner) < 0)
		return -EINVAL;
	struct roam_nft *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	snprintf(t->table, sizeof(t->table), "roam_%s", owner);
	t->ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!t->ctx) {
		free(t);
		return -ENOMEM;
	}
	nft_ctx_output_set_flags(t->ctx, NFT_CTX_OUTPUT_JSON | NFT_CTX_OUTPUT_HANDLE);
	if (nft_ctx_buffer_output(t->ctx) < 0 || nft_ctx_buffer_error(t->ctx) < 0) {
		nft_ctx_free(t->ctx);
		free(t);
		return -ENOMEM;
	}
	char cmd[512];
	snprintf(cmd, sizeof(cmd),
		 "add table " NFT_FAMILY " %s\n"
		 "add chain " NFT_FAMILY " %s pre { type filter hook prerouting priority raw; policy accept; }\n"
		 "add chain " NFT_FAMILY " %s out { type route hook output priority raw; policy accept; }\n",
		 t->table, t->table, t->table);
	int rc = run(t, cmd, NULL);
	if (rc < 0) {
		log_warnx("nft: cannot create table %s: %s", t->table, t->err);
		roam_nft_close(t);
		return rc;
	}
	*out = t;
	return 0;
}

void roam_nft_close(struct roam_nft *t)
{
	if (!t)
		return;
	nft_ctx_free(t->ctx);
	free(t);
}

const char *roam_nft_error(const struct roam_nft *t)
{
	return t->err;
}

const char *roam_nft_table(const struct roam_nft *t)
{
	return t->table;
}

/* --- listing --- */

/* Parses "ip"/"ip6" payload {daddr|saddr} of a match left side or mangle key.  Returns the
 * field ('d' or 's') and the family, or 0. */
static int payload_field(const struct json_value *v, int *family)
{
	const struct json_value *pl = json_get(v, "payload");
	const char *proto, *field;
	if (!pl || json_get_str(pl, "protocol", &proto) < 0 || json_get_str(pl, "field", &field) < 0)
		return 0;
	if (strcmp(proto, "ip") == 0)
		*family = AF_INET;
	else if (strcmp(proto, "ip6") == 0)
		*family = AF_INET6;
	else
		return 0;
	if (strcmp(field, "daddr") == 0)
		return 'd';
	if (strcmp(field, "saddr") == 0)
		return 's';
	return 0;
}

static int parse_addr(const struct json_value *v, int family, struct roam_ipaddr *out)
{
	if (!v || v->type != JSON_STRING || roam_ipaddr_parse(v->str, out) < 0 || out->family != family)
		return -EBADMSG;
	return 0;
}

/* One rule object.  Returns 1 if it is one of ours (filled in), 0 if not (another shape: a rule
 * someone else put in our table is ignored, never fatal), -EBADMSG without chain or handle. */
static int parse_rule(const struct json_value *rule, struct nft_rule *r)
{
	const char *chain, *comment;
	int64_t handle;
	memset(r, 0, sizeof(*r));
	if (json_get_str(rule, "chain", &chain) < 0 || json_get_int64(rule, "handle", &handle) < 0)
		return -EBADMSG;
	if (json_get_str(rule, "comment", &comment) < 0 || roam_nft_tag_check(comment) < 0)
		return 0;
	if (strcmp(chain, "pre") != 0 && strcmp(chain, "out") != 0)
		return 0;
	snprintf(r->chain, sizeof(r->chain), "%s", chain);
	snprintf(r->tag, sizeof(r->tag), "%s", comment);
	r->handle = handle;
	const struct json_value *expr = json_get(rule, "expr");
	int mfield = 0, mfam = 0, socket = 0, mangle = 0;
	for (size_t i = 0; i < json_array_len(expr); i++) {
		const struct json_value *e = json_array_at(expr, i);
		const struct json_value *m = json_get(e, "match"), *g = json_get(e, "mangle");
		if (m) {
			const struct json_value *left = json_get(m, "left");
			int fam = 0, f = payload_field(left, &fam);
			if (f && !mfield) {
				if (parse_addr(json_get(m, "right"), fam, &r->match) < 0)
					return 0;       /* a set or prefix: not a rule we write */
				mfield = f;
				mfam = fam;
			} else if (json_get(left, "socket")) {
				socket = 1;
			}
		} else if (g) {
			int fam = 0, f = payload_field(json_get(g, "key"), &fam);
			if (!f || f != mfield || fam != mfam ||
			    parse_addr(json_get(g, "value"), fam, &r->set) < 0)
				return 0;
			mangle = 1;
		}
	}
	if (!mfield)
		return 0;
	if (socket && !mangle && mfield == 'd')
		r->kind = ROAM_NFT_GUARD;
	else if (mangle && mfield == 'd')
		r->kind = ROAM_NFT_DST;
	else if (mangle && mfield == 's')
		r->kind = ROAM_NFT_SRC;
	else
		return 0;
	return 1;
}

static int rules_list(struct roam_nft *t, struct rule_list *rl)
{
	char cmd[128];
	const char *out;
	memset(rl, 0, sizeof(*rl));
	snprintf(cmd, sizeof(cmd), "list table " NFT_FAMILY " %s\n", t->table);
	int rc = run(t, cmd, &out);
	if (rc < 0)
		return rc;
	struct json_value *root;
	char jerr[128];
	if (!out)
		out = "";
	size_t len = strlen(out);
	rc = json_parse(out, len, &root, jerr, sizeof(jerr));
	if (rc < 0) {
		set_err(t, "cannot parse the listing of %s (%zu bytes): %s", t->table, len, jerr);
		return rc == -ENOMEM || rc == -E2BIG ? rc : -EBADMSG;
	}
	const struct json_value *items = json_get(root, "nftables");
	if (!items || items->type != JSON_ARRAY) {
		set_err(t, "listing of %s: no \"nftables\" array", t->table);
		json_free(root);
		return -EBADMSG;
	}
	rc = 0;
	for (size_t i = 0; i < items->len && rc == 0; i++) {
		const struct json_value *rule = json_get(items->items[i], "rule");
		if (!rule)
			continue;
		struct nft_rule r;
		int ok = parse_rule(rule, &r);
		if (ok < 0) {
			set_err(t, "listing of %s: unexpected rule %zu", t->table, i);
			rc = ok;
		} else if (ok > 0) {
			if (rl->n == rl->cap) {
				size_t cap = rl->cap ? rl->cap * 2 : 16;
				struct nft_rule *v = realloc(rl->v, cap * sizeof(*v));
				if (!v) {
					rc = -ENOMEM;
					break;
				}
				rl->v = v;
				rl->cap = cap;
			}
			rl->v[rl->n++] = r;
		}
	}
	json_free(root);
	if (rc < 0) {
		free(rl->v);
		memset(rl, 0, sizeof(*rl));
	}
	return rc;
}

/* Folds rules into pairs by tag. */
static int rules_to_pairs(const struct rule_list *rl, struct roam_nft_pair **out, size_t *n)
{
	struct roam_nft_pair *v = NULL;
	size_t cnt = 0;
	*out = NULL;
	*n = 0;
	for (size_t i = 0; i < rl->n; i++) {
		const struct nft_rule *r = &rl->v[i];
		struct roam_nft_pair *p = NULL;
		for (size_t j = 0; j < cnt; j++)
			if (strcmp(v[j].tag, r->tag) == 0)
				p = &v[j];
		if (!p) {
			struct roam_nft_pair *nv = realloc(v, (cnt + 1) * sizeof(*v));
			if (!nv) {
				free(v);
				return -ENOMEM;
			}
			v = nv;
			p = &v[cnt++];
			memset(p, 0, sizeof(*p));
			snprintf(p->tag, sizeof(p->tag), "%s", r->tag);
		}
		p->flags |= r->kind;
		switch (r->kind) {
		case ROAM_NFT_GUARD:
		case ROAM_NFT_DST:
			p->old = r->match;
			if (r->kind == ROAM_NFT_DST)
				p->new = r->set;
			break;
		case ROAM_NFT_SRC:
			p->new = r->match;
			p->old = r->set;
			break;
		}
	}
	*out = v;
	*n = cnt;
	return 0;
}

int roam_nft_list(struct roam_nft *t, struct roam_nft_pair **out, size_t *n)
{
	struct rule_list rl;
	*out = NULL;
	*n = 0;
	int rc = rules_list(t, &rl);
	if (rc < 0)
		return rc;
	rc = rules_to_pairs(&rl, out, n);
	free(rl.v);
	return rc;
}

/* --- routes --- */

static void host_route(struct roam_nl_route *rt, const struct roam_ipaddr *a)
{
	memset(rt, 0, sizeof(*rt));
	roam_prefix_set(&rt->dst, a, a->family == AF_INET ? 32 : 128);
	rt->protocol = ROAM_NFT_RTPROT;
}

/* Deletes the ROAM_NFT_RTPROT host route of a (absent is fine). */
static int route_del(struct roam_nft *t, const struct roam_ipaddr *a)
{
	struct roam_nl *nl;
	int rc = roam_nl_open(0, &nl);
	if (rc < 0) {
		set_err(t, "netlink: %s", strerror(-rc));
		return rc;
	}
	struct roam_nl_route rt;
	host_route(&rt, a);
	rc = roam_nl_route_del(nl, &rt);
	roam_nl_close(nl);
	if (rc == -ESRCH || rc == -ENOENT)
		return 0;
	if (rc < 0) {
		char b[ROAM_ADDRSTRLEN];
		set_err(t, "route %s: %s", roam_ipaddr_fmt(a, b, sizeof(b)), strerror(-rc));
	}
	return rc;
}

/* --- pairs --- */

static int addr_usable(const struct roam_ipaddr *a)
{
	return (a->family == AF_INET || a->family == AF_INET6) && !roam_ipaddr_is_any(a) &&
	       !roam_ipaddr_is_multicast(a);
}

static int pair_check(struct roam_nft *t, const struct roam_nft_pair *p)
{
	if (roam_nft_tag_check(p->tag) < 0) {
		set_err(t, "invalid tag (1-%d of A-Z a-z 0-9 . _ : @ + -)", ROAM_NFT_TAG_MAX - 1);
		return -EINVAL;
	}
	if (!addr_usable(&p->old) || !addr_usable(&p->new) || p->old.family != p->new.family) {
		set_err(t, "pair %s: old and new must be unicast addresses of one family", p->tag);
		return -EINVAL;
	}
	if (roam_ipaddr_eq(&p->old, &p->new)) {
		set_err(t, "pair %s: old and new address are equal", p->tag);
		return -EINVAL;
	}
	if ((p->flags & ~ROAM_NFT_ALL) || !(p->flags & (ROAM_NFT_DST | ROAM_NFT_SRC)) ||
	    ((p->flags & ROAM_NFT_GUARD) && !(p->flags & ROAM_NFT_DST))) {
		set_err(t, "pair %s: bad flags 0x%x", p->tag, p->flags);
		return -EINVAL;
	}
	if (p->route_gw.family && (p->route_gw.family != p->old.family || !addr_usable(&p->route_gw))) {
		set_err(t, "pair %s: route gateway of another family", p->tag);
		return -EINVAL;
	}
	if (p->route_oif < 0) {
		set_err(t, "pair %s: bad route interface", p->tag);
		return -EINVAL;
	}
	return 0;
}

int roam_nft_pair_add(struct roam_nft *t, const struct roam_nft_pair *p)
{
	int rc = pair_check(t, p);
	if (rc < 0)
		return rc;
	struct roam_nft_pair *cur;
	size_t n;
	rc = roam_nft_list(t, &cur, &n);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(cur[i].tag, p->tag) == 0 || roam_ipaddr_eq(&cur[i].old, &p->old) ||
		    roam_ipaddr_eq(&cur[i].new, &p->new)) {
			char b[ROAM_ADDRSTRLEN];
			set_err(t, "pair %s: conflicts with installed pair %s (old %s)", p->tag,
				cur[i].tag, roam_ipaddr_fmt(&cur[i].old, b, sizeof(b)));
			free(cur);
			return -EEXIST;
		}
	}
	free(cur);

	int routed = 0;
	if (p->route_oif || p->route_gw.family) {
		struct roam_nl *nl;
		rc = roam_nl_open(0, &nl);
		if (rc < 0) {
			set_err(t, "netlink: %s", strerror(-rc));
			return rc;
		}
		struct roam_nl_route rt;
		host_route(&rt, &p->old);
		rt.oif = p->route_oif;
		rt.gw = p->route_gw;
		rc = roam_nl_route_replace(nl, &rt);
		roam_nl_close(nl);
		if (rc < 0) {
			set_err(t, "pair %s: static route: %s", p->tag, strerror(-rc));
			return rc;
		}
		routed = 1;
	}

	char o[ROAM_ADDRSTRLEN], w[ROAM_ADDRSTRLEN], cmd[CMD_MAX];
	const char *ip = p->old.family == AF_INET ? "ip" : "ip6";
	roam_ipaddr_fmt(&p->old, o, sizeof(o));
	roam_ipaddr_fmt(&p->new, w, sizeof(w));
	size_t len = 0;
#define ADD(...) len += (size_t)snprintf(cmd + len, len < sizeof(cmd) ? sizeof(cmd) - len : 0, __VA_ARGS__)
	if (p->flags & ROAM_NFT_GUARD) {
		/* A full socket bound to exactly OLD: a session started there, leave it.  A wildcard
		 * socket (listener, unbound UDP): the old sessions' packets reach it too, rewrite.
		 * Then any other socket (request and time-wait sockets, which "wildcard" cannot
		 * inspect): leave it.  Rewritten packets no longer match "daddr OLD" below. */
		ADD("add rule " NFT_FAMILY " %s pre %s daddr %s socket wildcard 0 accept comment \"%s\"\n",
		    t->table, ip, o, p->tag);
		ADD("add rule " NFT_FAMILY " %s pre %s daddr %s socket wildcard 1 %s daddr set %s notrack comment \"%s\"\n",
		    t->table, ip, o, ip, w, p->tag);
		ADD("add rule " NFT_FAMILY " %s pre %s daddr %s socket transparent 0 accept comment \"%s\"\n",
		    t->table, ip, o, p->tag);
	}
	if (p->flags & ROAM_NFT_DST)
		for (int c = 0; c < 2; c++)
			ADD("add rule " NFT_FAMILY " %s %s %s daddr %s %s daddr set %s notrack comment \"%s\"\n",
			    t->table, c ? "out" : "pre", ip, o, ip, w, p->tag);
	if (p->flags & ROAM_NFT_SRC)
		for (int c = 0; c < 2; c++)
			ADD("add rule " NFT_FAMILY " %s %s %s saddr %s %s saddr set %s notrack comment \"%s\"\n",
			    t->table, c ? "out" : "pre", ip, w, ip, o, p->tag);
#undef ADD
	if (len >= sizeof(cmd)) {
		set_err(t, "pair %s: command too long", p->tag);
		rc = -ENAMETOOLONG;
	} else {
		rc = run(t, cmd, NULL);
	}
	if (rc < 0 && routed) {
		char keep[ROAM_NFT_ERR_MAX];
		memcpy(keep, t->err, sizeof(keep));
		route_del(t, &p->old);
		memcpy(t->err, keep, sizeof(keep));
	}
	return rc;
}

/* Deletes the rules of one tag from a listing, then its route. */
static int del_tag(struct roam_nft *t, const struct rule_list *rl, const char *tag)
{
	char cmd[CMD_MAX];
	size_t len = 0;
	struct roam_ipaddr old = { 0 };
	int found = 0, rc = 0;
	for (size_t i = 0; i < rl->n; i++) {
		const struct nft_rule *r = &rl->v[i];
		if (strcmp(r->tag, tag) != 0)
			continue;
		old = r->kind == ROAM_NFT_SRC ? r->set : r->match;
		found++;
		len += (size_t)snprintf(cmd + len, len < sizeof(cmd) ? sizeof(cmd) - len : 0,
					"delete rule " NFT_FAMILY " %s %s handle %lld\n", t->table,
					r->chain, r->handle);
		if (len >= sizeof(cmd)) {       /* more rules than a pair makes: in batches */
			set_err(t, "tag %s: too many rules", tag);
			return -E2BIG;
		}
	}
	if (!found) {
		set_err(t, "no pair tagged %s", tag);
		return -ENOENT;
	}
	rc = run(t, cmd, NULL);
	if (rc < 0)
		return rc;
	return route_del(t, &old);
}

int roam_nft_pair_del(struct roam_nft *t, const char *tag)
{
	if (roam_nft_tag_check(tag) < 0) {
		set_err(t, "invalid tag");
		return -EINVAL;
	}
	struct rule_list rl;
	int rc = rules_list(t, &rl);
	if (rc < 0)
		return rc;
	rc = del_tag(t, &rl, tag);
	free(rl.v);
	return rc;
}

static int keep_none(const struct roam_nft_pair *p, void *arg)
{
	(void)p;
	(void)arg;
	return 0;
}

int roam_nft_reconcile(struct roam_nft *t, roam_nft_keep_cb keep, void *arg, size_t *removed)
{
	struct rule_list rl;
	struct roam_nft_pair *pairs;
	size_t n, gone = 0;
	if (removed)
		*removed = 0;
	int rc = rules_list(t, &rl);
	if (rc < 0)
		return rc;
	rc = rules_to_pairs(&rl, &pairs, &n);
	if (rc < 0) {
		free(rl.v);
		return rc;
	}
	int first = 0;
	for (size_t i = 0; i < n; i++) {
		if (keep(&pairs[i], arg))
			continue;
		rc = del_tag(t, &rl, pairs[i].tag);
		if (rc < 0) {
			log_warnx("nft: %s: cannot remove pair %s: %s", t->table, pairs[i].tag, t->err);
			if (!first)
				first = rc;
		} else {
			gone++;
		}
	}
	free(pairs);
	free(rl.v);
	if (removed)
		*removed = gone;
	return first;
}

int roam_nft_flush(struct roam_nft *t)
{
	return roam_nft_reconcile(t, keep_none, NULL, NULL);
}

int roam_nft_destroy(struct roam_nft *t)
{
	if (!t)
		return 0;
	int rc = roam_nft_flush(t);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "delete table " NFT_FAMILY " %s\n", t->table);
	int rc2 = run(t, cmd, NULL);
	if (rc2 < 0)
		log_warnx("nft: cannot delete table %s: %s", t->table, t->err);
	roam_nft_close(t);
	return rc < 0 ? rc : rc2;
}
