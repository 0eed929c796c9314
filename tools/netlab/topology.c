/* Topology parsing: a docker-compose file (format 3.x) plus x-roam extension keys, read through
 * the roam/yaml.h tree into struct nl_topo.  Every problem is reported as file:line:col and the
 * whole file is checked before giving up, so one run shows every mistake. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "roam/log.h"
#include "roam/yaml.h"
#include "netlab.h"

#define DEFAULT_READY_MS 10000

struct parser {
	const char *file;
	struct nl_errs *errs;
	struct nl_topo *t;
};

static void *xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz ? sz : 1);
	if (p == NULL)
		fatal("netlab: out of memory");
	return p;
}

static void *xrealloc(void *p, size_t n, size_t sz)
{
	if (sz && n > SIZE_MAX / sz)
		fatalx("netlab: allocation overflow");
	p = realloc(p, (n * sz) != 0 ? n * sz : 1);
	if (p == NULL)
		fatal("netlab: out of memory");
	return p;
}

static char *xstrdup(const char *s)
{
	char *d = strdup(s);
	if (d == NULL)
		fatal("netlab: out of memory");
	return d;
}

static void errs_add(struct nl_errs *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void errs_add(struct nl_errs *e, const char *fmt, ...)
{
	va_list ap;
	char *m;
	int rc;

	e->total++;
	if (e->n >= NL_MAX_ERRORS)
		return;
	va_start(ap, fmt);
	rc = vasprintf(&m, fmt, ap);
	va_end(ap);
	if (rc < 0)
		fatal("netlab: out of memory");
	e->msg[e->n++] = m;
}

void nl_errs_free(struct nl_errs *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->msg[i]);
	memset(e, 0, sizeof(*e));
}

void nl_errs_print(const struct nl_errs *e)
{
	for (size_t i = 0; i < e->n; i++)
		fprintf(stderr, "%s\n", e->msg[i]);
	if (e->total > e->n)
		fprintf(stderr, "(%zu more errors)\n", e->total - e->n);
}

/* An error at node n (or at the file when n is NULL). */
static void perr(struct parser *p, const struct ynode *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void perr(struct parser *p, const struct ynode *n, const char *fmt, ...)
{
	va_list ap;
	char buf[512];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n != NULL)
		errs_add(p->errs, "%s:%d:%d: %s", p->file, n->line, n->col, buf);
	else
		errs_add(p->errs, "%s: %s", p->file, buf);
}

/* ---- value parsers ---- */

/* A non-negative decimal number ("20", "1.5") followed by a unit from the table. */
struct unit {
	const char *name;
	double mult;
};

static int parse_num_unit(const char *s, const struct unit *units, double *out)
{
	char *end;
	double v;

	if (s == NULL || !(isdigit((unsigned char)s[0]) || s[0] == '.'))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || !isfinite(v) || v < 0)
		return -EINVAL;
	for (const struct unit *u = units; u->name != NULL; u++) {
		if (strcmp(end, u->name) == 0) {
			*out = v * u->mult;
			return 0;
		}
	}
	return -EINVAL;
}

int nl_parse_duration(const char *s, uint64_t *ns)
{
	static const struct unit u[] = { { "ns", 1 }, { "us", 1e3 }, { "ms", 1e6 }, { "s", 1e9 },
					 { NULL, 0 } };
	double v;

	/* "0" needs no unit: it means nothing. */
	if (s != NULL && strcmp(s, "0") == 0) {
		*ns = 0;
		return 0;
	}
	if (parse_num_unit(s, u, &v) < 0 || v > 3600e9)
		return -EINVAL;
	*ns = (uint64_t)llround(v);
	return 0;
}

int nl_parse_percent(const char *s, double *pct)
{
	static const struct unit u[] = { { "%", 1 }, { NULL, 0 } };
	double v;

	if (parse_num_unit(s, u, &v) < 0 || v > 100)
		return -EINVAL;
	*pct = v;
	return 0;
}

int nl_parse_rate(const char *s, uint64_t *bps)
{
	static const struct unit u[] = { { "bit", 1 }, { "kbit", 1e3 }, { "mbit", 1e6 },
					 { "gbit", 1e9 }, { NULL, 0 } };
	double v;

	if (parse_num_unit(s, u, &v) < 0 || v < 1 || v > 1e12)
		return -EINVAL;
	*bps = (uint64_t)llround(v);
	return 0;
}

void nl_strv_free(char **v)
{
	if (v == NULL)
		return;
	for (char **p = v; *p != NULL; p++)
		free(*p);
	free(v);
}

int nl_shell_split(const char *s, char ***argv)
{
	char **v = NULL;
	size_t n = 0;
	size_t len = strlen(s);
	char *word = xcalloc(len + 1, 1);
	size_t wl = 0;
	bool inword = false;
	char q = 0;

	for (const char *c = s;; c++) {
		if (q == 0 && (*c == '\0' || isspace((unsigned char)*c))) {
			if (inword) {
				word[wl] = '\0';
				v = xrealloc(v, n + 2, sizeof(*v));
				v[n++] = xstrdup(word);
				v[n] = NULL;
				wl = 0;
				inword = false;
			}
			if (*c == '\0')
				break;
			continue;
		}
		if (*c == '\0') { /* unterminated quote */
			free(word);
			nl_strv_free(v);
			return -EINVAL;
		}
		inword = true;
		if (q == '\'') {
			if (*c == '\'')
				q = 0;
			else
				word[wl++] = *c;
		} else if (q == '"') {
			if (*c == '"')
				q = 0;
			else if (*c == '\\' && (c[1] == '"' || c[1] == '\\' || c[1] == '$' || c[1] == '`')) {
				word[wl++] = *++c;
			} else
				word[wl++] = *c;
		} else if (*c == '\'' || *c == '"') {
			q = *c;
		} else if (*c == '\\') {
			if (c[1] == '\0') {
				free(word);
				nl_strv_free(v);
				return -EINVAL;
			}
			word[wl++] = *++c;
		} else {
			word[wl++] = *c;
		}
	}
	free(word);
	if (n == 0) {
		nl_strv_free(v);
		return -EINVAL;
	}
	*argv = v;
	return 0;
}

/* ---- names ---- */

static bool valid_name(const char *s)
{
	if (s == NULL || !isalnum((unsigned char)s[0]) || strlen(s) > 63)
		return false;
	for (const char *c = s; *c; c++)
		if (!isalnum((unsigned char)*c) && *c != '_' && *c != '.' && *c != '-')
			return false;
	return true;
}

static bool valid_ifname(const char *s)
{
	size_t l = s ? strlen(s) : 0;
	if (l == 0 || l >= NL_IFNAMSIZ || strcmp(s, "lo") == 0 || strcmp(s, ".") == 0 ||
	    strcmp(s, "..") == 0)
		return false;
	for (const char *c = s; *c; c++)
		if (*c == '/' || *c == ':' || isspace((unsigned char)*c) || !isprint((unsigned char)*c))
			return false;
	return true;
}

void nl_ns_name(const struct nl_topo *t, const char *svc, char *buf, size_t len)
{
	snprintf(buf, len, "%s-%s", t->name, svc);
}

void nl_sw_name(const struct nl_topo *t, char *buf, size_t len)
{
	snprintf(buf, len, "%s-sw", t->name);
}

void nl_br_name(size_t n, char *buf, size_t len)
{
	snprintf(buf, len, "br%zu", n);
}

void nl_swif_name(char kind, size_t s, size_t i, char *buf, size_t len)
{
	snprintf(buf, len, "%c%zui%zu", kind, s, i);
}

int topo_net_find(const struct nl_topo *t, const char *name)
{
	for (size_t i = 0; i < t->nnets; i++)
		if (strcmp(t->nets[i].name, name) == 0)
			return (int)i;
	return -1;
}

int topo_svc_find(const struct nl_topo *t, const char *name)
{
	for (size_t i = 0; i < t->nsvcs; i++)
		if (strcmp(t->svcs[i].name, name) == 0)
			return (int)i;
	return -1;
}

const struct nl_iface *topo_iface_for(const struct nl_svc *s, int n)
{
	for (size_t i = 0; i < s->nifs; i++) {
		const struct nl_iface *f = &s->ifs[i];
		if (!f->radio && f->net == n)
			return f;
		for (size_t c = 0; f->radio && c < f->ncells; c++)
			if (f->cells[c] == n)
				return f;
	}
	return NULL;
}

/* ---- helpers over the YAML tree ---- */

/* The scalar text of n, or NULL with an error naming what was expected. */
static const char *want_str(struct parser *p, const struct ynode *n, const char *what)
{
	if (!ynode_is_scalar(n) || ynode_is_null(n)) {
		perr(p, n, "%s: expected a string, got %s", what,
		     n && ynode_is_null(n) ? "null" : ynode_type_name(n));
		return NULL;
	}
	if (strlen(n->scalar) != n->len) {
		perr(p, n, "%s: NUL byte in string", what);
		return NULL;
	}
	return n->scalar;
}

static bool want_map(struct parser *p, const struct ynode *n, const char *what)
{
	if (n == NULL || n->type != YN_MAP) {
		perr(p, n, "%s: expected a map, got %s", what, ynode_type_name(n));
		return false;
	}
	return true;
}

/* ---- networks ---- */

static void parse_emu_key(struct parser *p, struct nl_net *net, const struct ypair *kv)
{
	const char *k = kv->key->scalar;
	const struct ynode *v = kv->value;
	struct nl_emu *e = &net->emu;
	char what[160];
	const char *s;

	snprintf(what, sizeof(what), "networks.%s.x-roam.%s", net->name, k);
	if (strcmp(k, "radio") == 0) {
		if (ynode_bool(v, &net->radio) < 0)
			perr(p, v, "%s: expected true or false", what);
		return;
	}
	if (strcmp(k, "seed") == 0) {
		if (ynode_uint64(v, &e->seed) < 0)
			perr(p, v, "%s: expected a non-negative integer", what);
		else
			e->has_seed = true;
		return;
	}
	if ((s = want_str(p, v, what)) == NULL)
		return;
	if (strcmp(k, "delay") == 0 || strcmp(k, "jitter") == 0) {
		uint64_t ns;
		if (nl_parse_duration(s, &ns) < 0) {
			perr(p, v, "%s: bad duration '%s' (a number with a unit: ns, us, ms, s, e.g. \"20ms\")",
			     what, s);
			return;
		}
		if (k[0] == 'd') {
			e->delay_ns = ns;
			snprintf(e->delay, sizeof(e->delay), "%s", s);
		} else {
			e->jitter_ns = ns;
			snprintf(e->jitter, sizeof(e->jitter), "%s", s);
		}
	} else if (strcmp(k, "loss") == 0 || strcmp(k, "dup") == 0 || strcmp(k, "reorder") == 0) {
		double pct;
		if (nl_parse_percent(s, &pct) < 0) {
			perr(p, v, "%s: bad percentage '%s' (0%% to 100%%, e.g. \"0.5%%\")", what, s);
			return;
		}
		if (k[0] == 'l') {
			e->loss_pct = pct;
			snprintf(e->loss, sizeof(e->loss), "%s", s);
		} else if (k[0] == 'd') {
			e->dup_pct = pct;
			snprintf(e->dup, sizeof(e->dup), "%s", s);
		} else {
			e->reorder_pct = pct;
			snprintf(e->reorder, sizeof(e->reorder), "%s", s);
		}
	} else if (strcmp(k, "rate") == 0) {
		if (nl_parse_rate(s, &e->rate_bps) < 0) {
			perr(p, v, "%s: bad rate '%s' (a number with a unit: bit, kbit, mbit, gbit)",
			     what, s);
			return;
		}
		snprintf(e->rate, sizeof(e->rate), "%s", s);
	} else {
		return;
	}
	e->set = true;
}

static void parse_network(struct parser *p, struct nl_net *net, const struct ynode *v)
{
	const struct ynode *ipam, *cfg, *x;
	const struct ypair *kv;
	const struct ynode *item;

	if (v == NULL || ynode_is_null(v))
		return;
	if (!want_map(p, v, net->name))
		return;
	ipam = ynode_map_get(v, "ipam");
	cfg = ynode_map_get(ipam, "config");
	if (ipam != NULL && !ynode_is_null(ipam) && ipam->type != YN_MAP)
		perr(p, ipam, "networks.%s.ipam: expected a map", net->name);
	if (cfg != NULL && cfg->type != YN_SEQ)
		perr(p, cfg, "networks.%s.ipam.config: expected a list", net->name);
	YNODE_SEQ_FOREACH(cfg, i, item) {
		const struct ynode *sn = ynode_map_get(item, "subnet");
		const char *s;
		struct roam_prefix pf;

		if (sn == NULL)
			continue;
		if ((s = want_str(p, sn, "subnet")) == NULL)
			continue;
		if (strchr(s, '/') == NULL || roam_prefix_parse(s, &pf) < 0) {
			perr(p, sn, "networks.%s: bad subnet '%s' (expected ADDRESS/LENGTH)", net->name, s);
			continue;
		}
		struct roam_prefix masked = pf;
		roam_prefix_mask(&masked);
		if (!roam_ipaddr_eq(&masked.addr, &pf.addr)) {
			perr(p, sn, "networks.%s: subnet '%s' has host bits set", net->name, s);
			continue;
		}
		if (pf.addr.family == AF_INET) {
			if (net->has4)
				perr(p, sn, "networks.%s: more than one IPv4 subnet", net->name);
			net->has4 = true;
			net->subnet4 = pf;
		} else {
			if (net->has6)
				perr(p, sn, "networks.%s: more than one IPv6 subnet", net->name);
			net->has6 = true;
			net->subnet6 = pf;
		}
	}
	x = ynode_map_get(v, "x-roam");
	if (x == NULL || ynode_is_null(x))
		return;
	if (!want_map(p, x, "x-roam"))
		return;
	YNODE_MAP_FOREACH(x, i, kv) {
		static const char *const known[] = { "delay", "jitter", "loss", "rate", "dup",
						     "reorder", "seed", "radio", NULL };
		bool ok = false;
		for (const char *const *k = known; *k; k++)
			ok |= strcmp(kv->key->scalar, *k) == 0;
		if (!ok) {
			perr(p, kv->key, "networks.%s: unknown x-roam key '%s' (known: delay, jitter, "
			     "loss, rate, dup, reorder, seed, radio)", net->name, kv->key->scalar);
			continue;
		}
		parse_emu_key(p, net, kv);
	}
}

/* ---- services ---- */

/* One requested attachment from the compose `networks:` of a service. */
struct want {
	int net;
	const struct ynode *where;
	bool has4, has6;
	struct roam_ipaddr a4, a6;
	const struct ynode *n4, *n6;
	bool claimed;        /* by a radio interface */
};

static void parse_addr(struct parser *p, struct want *w, const struct ynode *v, int family,
		       const char *svc)
{
	const char *s = want_str(p, v, family == AF_INET ? "ipv4_address" : "ipv6_address");
	struct roam_ipaddr a;

	if (s == NULL)
		return;
	if (roam_ipaddr_parse(s, &a) < 0 || a.family != family) {
		perr(p, v, "services.%s: bad %s address '%s'", svc,
		     family == AF_INET ? "IPv4" : "IPv6", s);
		return;
	}
	if (family == AF_INET) {
		w->has4 = true;
		w->a4 = a;
		w->n4 = v;
	} else {
		w->has6 = true;
		w->a6 = a;
		w->n6 = v;
	}
}

static void parse_svc_networks(struct parser *p, struct nl_svc *s, const struct ynode *v,
			       struct want **wants, size_t *nwants)
{
	const struct ynode *item;
	const struct ypair *kv;

	if (v == NULL || ynode_is_null(v))
		return;
	if (v->type == YN_SEQ) {
		YNODE_SEQ_FOREACH(v, i, item) {
			const char *n = want_str(p, item, "networks");
			int ni;
			if (n == NULL)
				continue;
			if ((ni = topo_net_find(p->t, n)) < 0) {
				perr(p, item, "services.%s: undefined network '%s'", s->name, n);
				continue;
			}
			*wants = xrealloc(*wants, *nwants + 1, sizeof(**wants));
			memset(&(*wants)[*nwants], 0, sizeof(**wants));
			(*wants)[*nwants].net = ni;
			(*wants)[(*nwants)++].where = item;
		}
		return;
	}
	if (!want_map(p, v, "networks"))
		return;
	YNODE_MAP_FOREACH(v, i, kv) {
		int ni = topo_net_find(p->t, kv->key->scalar);
		struct want w = { .net = ni, .where = kv->key };
		if (ni < 0) {
			perr(p, kv->key, "services.%s: undefined network '%s'", s->name, kv->key->scalar);
			continue;
		}
		if (kv->value != NULL && !ynode_is_null(kv->value)) {
			if (!want_map(p, kv->value, kv->key->scalar))
				continue;
			const struct ynode *a4 = ynode_map_get(kv->value, "ipv4_address");
			const struct ynode *a6 = ynode_map_get(kv->value, "ipv6_address");
			if (a4 != NULL)
				parse_addr(p, &w, a4, AF_INET, s->name);
			if (a6 != NULL)
				parse_addr(p, &w, a6, AF_INET6, s->name);
		}
		*wants = xrealloc(*wants, *nwants + 1, sizeof(**wants));
		(*wants)[(*nwants)++] = w;
	}
}

static void parse_command(struct parser *p, struct nl_svc *s, const struct ynode *v)
{
	const struct ynode *item;

	if (v == NULL || ynode_is_null(v))
		return;
	if (ynode_is_scalar(v)) {
		if (nl_shell_split(v->scalar, &s->argv) < 0)
			perr(p, v, "services.%s.command: empty or unbalanced quotes", s->name);
		return;
	}
	if (v->type != YN_SEQ || v->count == 0) {
		perr(p, v, "services.%s.command: expected a string or a non-empty list", s->name);
		return;
	}
	s->argv = xcalloc(v->count + 1, sizeof(char *));
	YNODE_SEQ_FOREACH(v, i, item) {
		const char *a = want_str(p, item, "command");
		s->argv[i] = xstrdup(a ? a : "");
	}
}

static void parse_env(struct parser *p, struct nl_svc *s, const struct ynode *v)
{
	size_t n = 0;
	const struct ynode *item;
	const struct ypair *kv;

	if (v == NULL || ynode_is_null(v))
		return;
	s->env = xcalloc(ynode_count(v) + 1, sizeof(char *));
	if (v->type == YN_SEQ) {
		YNODE_SEQ_FOREACH(v, i, item) {
			const char *e = want_str(p, item, "environment");
			if (e == NULL)
				continue;
			if (strchr(e, '=') == NULL || e[0] == '=') {
				perr(p, item, "services.%s.environment: expected NAME=VALUE", s->name);
				continue;
			}
			s->env[n++] = xstrdup(e);
		}
	} else if (want_map(p, v, "environment")) {
		YNODE_MAP_FOREACH(v, i, kv) {
			const char *val = ynode_is_null(kv->value) ? "" : want_str(p, kv->value,
										  "environment");
			char *e;
			if (val == NULL)
				continue;
			if (asprintf(&e, "%s=%s", kv->key->scalar, val) < 0)
				fatal("netlab: out of memory");
			s->env[n++] = e;
		}
	}
}

static char *abs_path(const char *dir, const char *rel)
{
	char *r;
	if (rel[0] == '/')
		return xstrdup(rel);
	if (asprintf(&r, "%s/%s", dir, rel[0] == '.' && rel[1] == '/' ? rel + 2 : rel) < 0)
		fatal("netlab: out of memory");
	return r;
}

static void parse_volumes(struct parser *p, struct nl_svc *s, const struct ynode *v)
{
	const struct ynode *item;

	if (v == NULL || ynode_is_null(v))
		return;
	if (v->type != YN_SEQ) {
		perr(p, v, "services.%s.volumes: expected a list", s->name);
		return;
	}
	s->vols = xcalloc(v->count, sizeof(*s->vols));
	YNODE_SEQ_FOREACH(v, i, item) {
		char src[PATH_MAX], dst[PATH_MAX], mode[16] = "rw";
		struct nl_volume *vol = &s->vols[s->nvols];

		if (item->type == YN_MAP) {
			const char *ty = ynode_str(ynode_map_get(item, "type"));
			const char *so = ynode_str(ynode_map_get(item, "source"));
			const char *ta = ynode_str(ynode_map_get(item, "target"));
			bool ro = false;
			if (ty == NULL || strcmp(ty, "bind") != 0 || so == NULL || ta == NULL) {
				perr(p, item, "services.%s.volumes: only bind mounts with source and "
				     "target are supported", s->name);
				continue;
			}
			(void)ynode_bool(ynode_map_get(item, "read_only"), &ro);
			snprintf(src, sizeof(src), "%s", so);
			snprintf(dst, sizeof(dst), "%s", ta);
			snprintf(mode, sizeof(mode), "%s", ro ? "ro" : "rw");
		} else {
			const char *str = want_str(p, item, "volumes");
			const char *c1, *c2;
			if (str == NULL)
				continue;
			c1 = strchr(str, ':');
			c2 = c1 ? strchr(c1 + 1, ':') : NULL;
			if (c1 == NULL || (size_t)(c1 - str) >= sizeof(src) ||
			    (size_t)((c2 ? c2 : c1 + strlen(c1)) - c1) >= sizeof(dst) ||
			    (c2 && strlen(c2 + 1) >= sizeof(mode))) {
				perr(p, item, "services.%s.volumes: expected SOURCE:TARGET[:ro|rw], got '%s'",
				     s->name, str);
				continue;
			}
			snprintf(src, sizeof(src), "%.*s", (int)(c1 - str), str);
			snprintf(dst, sizeof(dst), "%.*s", (int)((c2 ? c2 : c1 + strlen(c1)) - c1 - 1),
				 c1 + 1);
			if (c2)
				snprintf(mode, sizeof(mode), "%s", c2 + 1);
		}
		if (!(src[0] == '/' || src[0] == '.')) {
			perr(p, item, "services.%s.volumes: named volume '%s' not supported (use a path "
			     "starting with ./ or /)", s->name, src);
			continue;
		}
		if (dst[0] != '/') {
			perr(p, item, "services.%s.volumes: target '%s' is not an absolute path",
			     s->name, dst);
			continue;
		}
		if (strcmp(mode, "ro") != 0 && strcmp(mode, "rw") != 0) {
			perr(p, item, "services.%s.volumes: mode '%s' not supported (ro or rw)", s->name,
			     mode);
			continue;
		}
		vol->src = abs_path(p->t->dir, src);
		vol->dst = xstrdup(dst);
		vol->ro = strcmp(mode, "ro") == 0;
		s->nvols++;
	}
}

static void parse_sysctls(struct parser *p, struct nl_svc *s, const struct ynode *v)
{
	const struct ynode *item;
	const struct ypair *kv;

	if (v == NULL || ynode_is_null(v))
		return;
	s->sysctls = xcalloc(ynode_count(v) + 2, sizeof(*s->sysctls));
	if (v->type == YN_SEQ) {
		YNODE_SEQ_FOREACH(v, i, item) {
			const char *e = want_str(p, item, "sysctls");
			const char *eq = e ? strchr(e, '=') : NULL;
			if (e == NULL)
				continue;
			if (eq == NULL || eq == e) {
				perr(p, item, "services.%s.sysctls: expected KEY=VALUE", s->name);
				continue;
			}
			s->sysctls[s->nsysctls].key = strndup(e, (size_t)(eq - e));
			s->sysctls[s->nsysctls++].value = xstrdup(eq + 1);
		}
	} else if (want_map(p, v, "sysctls")) {
		YNODE_MAP_FOREACH(v, i, kv) {
			const char *val = want_str(p, kv->value, "sysctls");
			if (val == NULL)
				continue;
			s->sysctls[s->nsysctls].key = xstrdup(kv->key->scalar);
			s->sysctls[s->nsysctls++].value = xstrdup(val);
		}
	}
	for (size_t i = 0; i < s->nsysctls; i++) {
		const char *k = s->sysctls[i].key;
		if (k == NULL)
			fatal("netlab: out of memory");
		if (strncmp(k, "net.", 4) != 0 || strstr(k, "..") || strchr(k, '/'))
			perr(p, v, "services.%s.sysctls: '%s': only net.* sysctls are namespaced",
			     s->name, k);
	}
}

static bool parse_route_str(const char *s, struct nl_route *r, char *why, size_t wl)
{
	char buf[256], *tok[8], *save = NULL;
	size_t n = 0;

	if (strlen(s) >= sizeof(buf)) {
		snprintf(why, wl, "too long");
		return false;
	}
	snprintf(buf, sizeof(buf), "%s", s);
	for (char *t = strtok_r(buf, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
		if (n == 8) {
			snprintf(why, wl, "too many words");
			return false;
		}
		tok[n++] = t;
	}
	if (n == 0 || n % 2 == 0) {
		snprintf(why, wl, "expected 'PREFIX via ADDRESS' or 'PREFIX dev IFACE'");
		return false;
	}
	bool deflt = strcmp(tok[0], "default") == 0;
	if (!deflt && roam_prefix_parse(tok[0], &r->to) < 0) {
		snprintf(why, wl, "bad prefix '%s'", tok[0]);
		return false;
	}
	for (size_t i = 1; i + 1 < n; i += 2) {
		if (strcmp(tok[i], "via") == 0) {
			if (roam_ipaddr_parse(tok[i + 1], &r->via) < 0) {
				snprintf(why, wl, "bad gateway address '%s'", tok[i + 1]);
				return false;
			}
			r->has_via = true;
		} else if (strcmp(tok[i], "dev") == 0) {
			size_t dl = strlen(tok[i + 1]);
			if (dl >= sizeof(r->dev) && dl > 63) {
				snprintf(why, wl, "bad device '%s'", tok[i + 1]);
				return false;
			}
			/* A network name may be longer than an interface name: keep what fits, the
			 * caller resolves it (and reports what does not resolve). */
			memcpy(r->dev, tok[i + 1], dl < sizeof(r->dev) ? dl + 1 : sizeof(r->dev) - 1);
			r->dev[sizeof(r->dev) - 1] = '\0';
		} else {
			snprintf(why, wl, "unknown word '%s' (via or dev)", tok[i]);
			return false;
		}
	}
	if (deflt) {
		memset(&r->to, 0, sizeof(r->to));
		r->to.addr.family = r->has_via ? r->via.family : AF_INET;
		r->to.len = 0;
	}
	return true;
}

static void parse_routes(struct parser *p, struct nl_svc *s, const struct ynode *v)
{
	const struct ynode *item;

	if (v == NULL || ynode_is_null(v))
		return;
	if (v->type != YN_SEQ) {
		perr(p, v, "services.%s.x-roam.routes: expected a list", s->name);
		return;
	}
	s->routes = xcalloc(v->count, sizeof(*s->routes));
	YNODE_SEQ_FOREACH(v, i, item) {
		struct nl_route r = { .line = item->line, .col = item->col };
		char why[128] = "";

		if (item->type == YN_MAP) {
			const struct ypair *kv;
			char text[300] = "";
			const char *to = NULL, *via = NULL, *dev = NULL;
			bool bad = false;
			YNODE_MAP_FOREACH(item, j, kv) {
				const char *k = kv->key->scalar;
				const char *val = want_str(p, kv->value, k);
				if (strcmp(k, "to") == 0)
					to = val;
				else if (strcmp(k, "via") == 0)
					via = val;
				else if (strcmp(k, "dev") == 0)
					dev = val;
				else {
					perr(p, kv->key, "services.%s.x-roam.routes: unknown key '%s' (to, "
					     "via, dev)", s->name, k);
					bad = true;
				}
				if (val == NULL)
					bad = true;
			}
			if (bad)
				continue;
			if (to == NULL || (via == NULL && dev == NULL)) {
				perr(p, item, "services.%s.x-roam.routes: a route needs 'to' and 'via' or "
				     "'dev'", s->name);
				continue;
			}
			snprintf(text, sizeof(text), "%s%s%s%s%s", to, via ? " via " : "", via ? via : "",
				 dev ? " dev " : "", dev ? dev : "");
			if (!parse_route_str(text, &r, why, sizeof(why))) {
				perr(p, item, "services.%s.x-roam.routes: %s", s->name, why);
				continue;
			}
		} else {
			const char *str = want_str(p, item, "routes");
			if (str == NULL)
				continue;
			if (!parse_route_str(str, &r, why, sizeof(why))) {
				perr(p, item, "services.%s.x-roam.routes: '%s': %s", s->name, str, why);
				continue;
			}
		}
		if (r.has_via && r.via.family != r.to.addr.family) {
			perr(p, item, "services.%s.x-roam.routes: gateway and prefix of different "
			     "families", s->name);
			continue;
		}
		if (!r.has_via && r.dev[0] == '\0') {
			perr(p, item, "services.%s.x-roam.routes: a route needs 'via' or 'dev'", s->name);
			continue;
		}
		s->routes[s->nroutes++] = r;
	}
}

/* x-roam radio of a service: one map or a list of maps {interface, cells, attach}. */
struct radio_spec {
	const struct ynode *where;
	char ifname[NL_IFNAMSIZ];
	int *cells;
	size_t ncells;
	int attach;
};

static void parse_radio(struct parser *p, struct nl_svc *s, const struct ynode *v,
			struct radio_spec **out, size_t *nout)
{
	const struct ynode *item;
	size_t cnt = v->type == YN_SEQ ? v->count : 1;

	*out = xcalloc(cnt, sizeof(**out));
	for (size_t i = 0; i < cnt; i++) {
		const struct ynode *m = v->type == YN_SEQ ? ynode_seq_at(v, i) : v;
		struct radio_spec *r = &(*out)[*nout];
		const struct ypair *kv;
		bool bad = false;

		if (!want_map(p, m, "x-roam.radio"))
			continue;
		r->where = m;
		r->attach = -1;
		snprintf(r->ifname, sizeof(r->ifname), "radio%u", (unsigned)(i % 1000));
		YNODE_MAP_FOREACH(m, j, kv) {
			const char *k = kv->key->scalar;
			if (strcmp(k, "interface") == 0) {
				const char *n = want_str(p, kv->value, "interface");
				if (n == NULL || !valid_ifname(n)) {
					if (n)
						perr(p, kv->value, "services.%s.x-roam.radio: bad interface "
						     "name '%s' (1-15 characters)", s->name, n);
					bad = true;
				} else
					snprintf(r->ifname, sizeof(r->ifname), "%s", n);
			} else if (strcmp(k, "cells") == 0) {
				if (kv->value == NULL || kv->value->type != YN_SEQ) {
					perr(p, kv->value, "services.%s.x-roam.radio.cells: expected a list",
					     s->name);
					bad = true;
					continue;
				}
				r->cells = xcalloc(kv->value->count, sizeof(int));
				YNODE_SEQ_FOREACH(kv->value, c, item) {
					const char *n = want_str(p, item, "cells");
					int ni = n ? topo_net_find(p->t, n) : -1;
					if (n && ni < 0)
						perr(p, item, "services.%s.x-roam.radio: undefined network '%s'",
						     s->name, n);
					else if (ni >= 0 && !p->t->nets[ni].radio)
						perr(p, item, "services.%s.x-roam.radio: network '%s' is not a "
						     "radio cell (x-roam radio: true)", s->name, n);
					else if (ni >= 0)
						r->cells[r->ncells++] = ni;
					if (ni < 0 || !p->t->nets[ni].radio)
						bad = true;
				}
			} else if (strcmp(k, "attach") == 0) {
				if (ynode_is_null(kv->value))
					continue;
				const char *n = want_str(p, kv->value, "attach");
				if (n == NULL) {
					bad = true;
					continue;
				}
				r->attach = topo_net_find(p->t, n);
				if (r->attach < 0) {
					perr(p, kv->value, "services.%s.x-roam.radio: undefined network '%s'",
					     s->name, n);
					bad = true;
				}
			} else {
				perr(p, kv->key, "services.%s.x-roam.radio: unknown key '%s' (interface, "
				     "cells, attach)", s->name, k);
				bad = true;
			}
		}
		if (bad) {
			free(r->cells);
			r->cells = NULL;
			continue;
		}
		if (r->ncells == 0) {
			perr(p, m, "services.%s.x-roam.radio: 'cells' lists no radio network", s->name);
			free(r->cells);
			r->cells = NULL;
			continue;
		}
		if (r->attach >= 0) {
			bool in = false;
			for (size_t c = 0; c < r->ncells; c++)
				in |= r->cells[c] == r->attach;
			if (!in) {
				perr(p, m, "services.%s.x-roam.radio: attach '%s' is not one of its cells",
				     s->name, p->t->nets[r->attach].name);
				free(r->cells);
				r->cells = NULL;
				continue;
			}
		}
		(*nout)++;
	}
}

static void add_addr(struct nl_iface *f, const struct roam_ipaddr *a, unsigned len)
{
	f->addrs = xrealloc(f->addrs, f->naddrs + 1, sizeof(*f->addrs));
	roam_prefix_set(&f->addrs[f->naddrs++], a, len);
}

static bool addr_check(struct parser *p, const struct nl_svc *s, const struct nl_net *net,
		       const struct roam_ipaddr *a, const struct ynode *where)
{
	const struct roam_prefix *sub = a->family == AF_INET ? &net->subnet4 : &net->subnet6;
	bool has = a->family == AF_INET ? net->has4 : net->has6;
	char b1[ROAM_ADDRSTRLEN], b2[ROAM_ADDRSTRLEN];

	if (!has) {
		perr(p, where, "services.%s: network '%s' has no %s subnet (ipam.config)", s->name,
		     net->name, a->family == AF_INET ? "IPv4" : "IPv6");
		return false;
	}
	if (!roam_prefix_contains(sub, a)) {
		perr(p, where, "services.%s: address %s is outside network '%s' (%s)", s->name,
		     roam_ipaddr_fmt(a, b1, sizeof(b1)), net->name,
		     roam_prefix_fmt(sub, b2, sizeof(b2)));
		return false;
	}
	return true;
}

static void parse_service(struct parser *p, struct nl_svc *s, const struct ynode *v)
{
	const struct ynode *x, *nm;
	const struct ypair *kv;
	struct want *wants = NULL;
	size_t nwants = 0;
	struct radio_spec *radios = NULL;
	size_t nradios = 0;
	const struct ynode *ifnames = NULL;

	if (!want_map(p, v, s->name))
		return;
	parse_command(p, s, ynode_map_get(v, "command"));
	if (ynode_map_get(v, "entrypoint") != NULL)
		perr(p, ynode_map_key(v, "entrypoint"), "services.%s: entrypoint is not supported by "
		     "netlab (put the program in command)", s->name);
	parse_env(p, s, ynode_map_get(v, "environment"));
	parse_volumes(p, s, ynode_map_get(v, "volumes"));
	parse_sysctls(p, s, ynode_map_get(v, "sysctls"));
	if ((x = ynode_map_get(v, "working_dir")) != NULL) {
		const char *w = want_str(p, x, "working_dir");
		if (w)
			s->workdir = xstrdup(w);
	}
	nm = ynode_map_get(v, "network_mode");
	if (nm != NULL) {
		const char *m = want_str(p, nm, "network_mode");
		if (m && strcmp(m, "none") != 0 && strcmp(m, "bridge") != 0)
			perr(p, nm, "services.%s: network_mode '%s' not supported by netlab (none, or "
			     "networks)", s->name, m);
		if (m && strcmp(m, "none") == 0 && ynode_map_get(v, "networks") != NULL)
			perr(p, nm, "services.%s: network_mode none with networks", s->name);
	}
	parse_svc_networks(p, s, ynode_map_get(v, "networks"), &wants, &nwants);

	/* x-roam of the service */
	s->ready_ms = p->t->ready_ms;
	x = ynode_map_get(v, "x-roam");
	if (x != NULL && !ynode_is_null(x) && want_map(p, x, "x-roam")) {
		YNODE_MAP_FOREACH(x, i, kv) {
			const char *k = kv->key->scalar;
			const struct ynode *val = kv->value;
			if (strcmp(k, "role") == 0) {
				const char *r = want_str(p, val, "role");
				if (r == NULL)
					continue;
				if (!valid_name(r) || strlen(r) >= sizeof(s->role)) {
					perr(p, val, "services.%s.x-roam.role: bad role '%s'", s->name, r);
					continue;
				}
				snprintf(s->role, sizeof(s->role), "%s", r);
				s->router = strcmp(r, "router") == 0;
			} else if (strcmp(k, "routes") == 0) {
				parse_routes(p, s, val);
			} else if (strcmp(k, "ctl") == 0) {
				const char *c = want_str(p, val, "ctl");
				if (c == NULL)
					continue;
				if (c[0] != '/' || strlen(c) > 100) {
					perr(p, val, "services.%s.x-roam.ctl: expected an absolute socket "
					     "path (at most 100 characters)", s->name);
					continue;
				}
				s->ctl = xstrdup(c);
			} else if (strcmp(k, "ready_timeout") == 0) {
				const char *d = want_str(p, val, "ready_timeout");
				uint64_t ns;
				if (d == NULL)
					continue;
				if (nl_parse_duration(d, &ns) < 0 || ns < 1000000) {
					perr(p, val, "services.%s.x-roam.ready_timeout: bad duration '%s'",
					     s->name, d);
					continue;
				}
				s->ready_ms = ns / 1000000;
			} else if (strcmp(k, "radio") == 0) {
				if (val == NULL || (val->type != YN_MAP && val->type != YN_SEQ)) {
					perr(p, val, "services.%s.x-roam.radio: expected a map or a list of "
					     "maps", s->name);
					continue;
				}
				parse_radio(p, s, val, &radios, &nradios);
			} else if (strcmp(k, "ifnames") == 0) {
				if (want_map(p, val, "ifnames"))
					ifnames = val;
			} else {
				perr(p, kv->key, "services.%s: unknown x-roam key '%s' (known: role, routes, "
				     "ctl, ready_timeout, radio, ifnames)", s->name, k);
			}
		}
	}

	/* Interfaces: one per radio, one per other (static) attachment. */
	s->ifs = xcalloc(nradios + nwants, sizeof(*s->ifs));
	for (size_t r = 0; r < nradios; r++) {
		struct nl_iface *f = &s->ifs[s->nifs++];
		f->radio = true;
		snprintf(f->ifname, sizeof(f->ifname), "%s", radios[r].ifname);
		f->cells = radios[r].cells;
		f->ncells = radios[r].ncells;
		f->net = radios[r].attach;
		for (size_t c = 0; c < f->ncells; c++) {
			struct want *w = NULL;
			for (size_t k = 0; k < nwants; k++)
				if (wants[k].net == f->cells[c])
					w = &wants[k];
			if (w == NULL) {
				perr(p, radios[r].where, "services.%s.x-roam.radio: cell '%s' is not in the "
				     "service's networks", s->name, p->t->nets[f->cells[c]].name);
				continue;
			}
			if (w->claimed) {
				perr(p, radios[r].where, "services.%s.x-roam.radio: cell '%s' belongs to "
				     "two radios", s->name, p->t->nets[f->cells[c]].name);
				continue;
			}
			w->claimed = true;
		}
	}
	for (size_t k = 0; k < nwants; k++) {
		struct want *w = &wants[k];
		struct nl_net *net = &p->t->nets[w->net];
		struct nl_iface *f = NULL;

		for (size_t j = 0; j < k; j++)
			if (wants[j].net == w->net)
				perr(p, w->where, "services.%s: network '%s' listed twice", s->name,
				     net->name);
		if (w->claimed) {
			for (size_t r = 0; r < s->nifs && f == NULL; r++)
				for (size_t c = 0; s->ifs[r].radio && c < s->ifs[r].ncells; c++)
					if (s->ifs[r].cells[c] == w->net)
						f = &s->ifs[r];
		} else {
			const char *n = NULL;
			f = &s->ifs[s->nifs++];
			f->net = w->net;
			if (ifnames != NULL) {
				const struct ynode *in = ynode_map_get(ifnames, net->name);
				if (in != NULL && (n = want_str(p, in, "ifnames")) != NULL &&
				    !valid_ifname(n)) {
					perr(p, in, "services.%s.x-roam.ifnames: bad interface name '%s' "
					     "(1-15 characters)", s->name, n);
					n = NULL;
				}
			}
			if (n != NULL)
				snprintf(f->ifname, sizeof(f->ifname), "%s", n);
			else if (strlen(net->name) + 4 < NL_IFNAMSIZ)
				snprintf(f->ifname, sizeof(f->ifname), "eth-%s", net->name);
			else
				perr(p, w->where, "services.%s: interface name 'eth-%s' is too long; name it "
				     "in x-roam ifnames", s->name, net->name);
		}
		if (w->has4 && addr_check(p, s, net, &w->a4, w->n4))
			add_addr(f, &w->a4, net->subnet4.len);
		if (w->has6 && addr_check(p, s, net, &w->a6, w->n6))
			add_addr(f, &w->a6, net->subnet6.len);
	}
	if (ifnames != NULL) {
		YNODE_MAP_FOREACH(ifnames, i, kv) {
			int ni = topo_net_find(p->t, kv->key->scalar);
			bool ok = false;
			for (size_t k = 0; k < nwants; k++)
				ok |= wants[k].net == ni && !wants[k].claimed;
			if (!ok)
				perr(p, kv->key, "services.%s.x-roam.ifnames: '%s' is not a (non-radio) "
				     "network of the service", s->name, kv->key->scalar);
		}
	}
	for (size_t i = 0; i < s->nifs; i++)
		for (size_t j = 0; j < i; j++)
			if (s->ifs[i].ifname[0] && strcmp(s->ifs[i].ifname, s->ifs[j].ifname) == 0)
				perr(p, v, "services.%s: two interfaces named '%s'", s->name,
				     s->ifs[i].ifname);
	/* Route devices may name a network: use its interface. */
	for (size_t i = 0; i < s->nroutes; i++) {
		struct nl_route *r = &s->routes[i];
		bool found = false;
		if (r->dev[0] == '\0')
			continue;
		for (size_t j = 0; j < s->nifs; j++)
			found |= strcmp(s->ifs[j].ifname, r->dev) == 0;
		if (!found) {
			int ni = topo_net_find(p->t, r->dev);
			const struct nl_iface *f = ni >= 0 ? topo_iface_for(s, ni) : NULL;
			if (f != NULL) {
				snprintf(r->dev, sizeof(r->dev), "%s", f->ifname);
			} else {
				errs_add(p->errs, "%s:%d:%d: services.%s.x-roam.routes: unknown device '%s'",
					 p->file, r->line, r->col, s->name, r->dev);
			}
		}
	}
	free(wants);
	free(radios);
}

static void parse_depends(struct parser *p, struct nl_svc *s, const struct ynode *v)
{
	const struct ynode *item;
	const struct ypair *kv;

	if (v == NULL || ynode_is_null(v))
		return;
	s->deps = xcalloc(ynode_count(v), sizeof(int));
	if (v->type == YN_SEQ) {
		YNODE_SEQ_FOREACH(v, i, item) {
			const char *n = want_str(p, item, "depends_on");
			int si = n ? topo_svc_find(p->t, n) : -1;
			if (n && si < 0)
				perr(p, item, "services.%s.depends_on: undefined service '%s'", s->name, n);
			else if (si >= 0)
				s->deps[s->ndeps++] = si;
		}
	} else if (want_map(p, v, "depends_on")) {
		YNODE_MAP_FOREACH(v, i, kv) {
			int si = topo_svc_find(p->t, kv->key->scalar);
			if (si < 0)
				perr(p, kv->key, "services.%s.depends_on: undefined service '%s'", s->name,
				     kv->key->scalar);
			else
				s->deps[s->ndeps++] = si;
		}
	}
}

/* Start order: a depth-first topological sort (file order among independent services). */
static bool order_visit(struct nl_topo *t, size_t i, uint8_t *mark, size_t *n)
{
	if (mark[i] == 2)
		return true;
	if (mark[i] == 1)
		return false;
	mark[i] = 1;
	for (size_t d = 0; d < t->svcs[i].ndeps; d++)
		if (!order_visit(t, (size_t)t->svcs[i].deps[d], mark, n))
			return false;
	mark[i] = 2;
	t->order[(*n)++] = i;
	return true;
}

static void compute_order(struct parser *p)
{
	struct nl_topo *t = p->t;
	uint8_t *mark = xcalloc(t->nsvcs, 1);
	size_t n = 0;

	t->order = xcalloc(t->nsvcs, sizeof(size_t));
	for (size_t i = 0; i < t->nsvcs; i++) {
		if (!order_visit(t, i, mark, &n)) {
			errs_add(p->errs, "%s:%d:%d: services.%s.depends_on: dependency cycle", p->file,
				 t->svcs[i].line, t->svcs[i].col, t->svcs[i].name);
			break;
		}
	}
	free(mark);
}

/* Cross checks once everything is read. */
static void validate(struct parser *p, const struct ynode *svcs_node)
{
	struct nl_topo *t = p->t;
	(void)svcs_node;

	for (size_t n = 0; n < t->nnets; n++) {
		struct nl_net *net = &t->nets[n];
		size_t nstatic = 0, nmobile = 0;
		for (size_t s = 0; s < t->nsvcs; s++) {
			const struct nl_iface *f = topo_iface_for(&t->svcs[s], (int)n);
			if (f == NULL)
				continue;
			if (f->radio)
				nmobile++;
			else
				nstatic++;
		}
		if (net->emu.set && net->radio)
			errs_add(p->errs, "%s:%d:%d: networks.%s: link emulation on a radio cell is not "
				 "supported yet (put it on the network behind the access router)", p->file,
				 net->line, net->col, net->name);
		net->direct = net->emu.set && !net->radio && nstatic == 2;
		(void)nmobile;
	}
	/* The same address twice on a network. */
	for (size_t s = 0; s < t->nsvcs; s++) {
		for (size_t f = 0; f < t->svcs[s].nifs; f++) {
			const struct nl_iface *fa = &t->svcs[s].ifs[f];
			for (size_t a = 0; a < fa->naddrs; a++) {
				for (size_t s2 = 0; s2 <= s; s2++) {
					for (size_t f2 = 0; f2 < t->svcs[s2].nifs; f2++) {
						const struct nl_iface *fb = &t->svcs[s2].ifs[f2];
						for (size_t b = 0; b < fb->naddrs; b++) {
							if ((s2 == s && (f2 > f || (f2 == f && b >= a))))
								continue;
							if (roam_ipaddr_eq(&fa->addrs[a].addr, &fb->addrs[b].addr)) {
								char ab[ROAM_ADDRSTRLEN];
								errs_add(p->errs, "%s:%d:%d: services.%s: address %s "
									 "is also used by service '%s'", p->file,
									 t->svcs[s].line, t->svcs[s].col,
									 t->svcs[s].name,
									 roam_ipaddr_fmt(&fa->addrs[a].addr, ab,
											 sizeof(ab)),
									 t->svcs[s2].name);
							}
						}
					}
				}
			}
		}
	}
}

static void parse_root_xroam(struct parser *p, const struct ynode *x)
{
	const struct ypair *kv;

	if (x == NULL || ynode_is_null(x) || !want_map(p, x, "x-roam"))
		return;
	YNODE_MAP_FOREACH(x, i, kv) {
		const char *k = kv->key->scalar;
		const char *v = want_str(p, kv->value, k);
		if (strcmp(k, "name") == 0) {
			if (v == NULL)
				continue;
			if (!valid_name(v) || strlen(v) > 24) {
				perr(p, kv->value, "x-roam.name: bad project name '%s' (letters, digits, "
				     "'_', '.', '-'; at most 24)", v);
				continue;
			}
			free(p->t->name);
			p->t->name = xstrdup(v);
		} else if (strcmp(k, "ready_timeout") == 0) {
			uint64_t ns;
			if (v == NULL)
				continue;
			if (nl_parse_duration(v, &ns) < 0 || ns < 1000000)
				perr(p, kv->value, "x-roam.ready_timeout: bad duration '%s'", v);
			else
				p->t->ready_ms = ns / 1000000;
		} else {
			perr(p, kv->key, "unknown x-roam key '%s' (known: name, ready_timeout)", k);
		}
	}
}

static int topo_from_doc(struct parser *p, const struct ynode *root)
{
	struct nl_topo *t = p->t;
	const struct ynode *nets, *svcs, *ver;
	const struct ypair *kv;

	if (root == NULL || root->type != YN_MAP) {
		perr(p, root, "expected a docker-compose file (a map with services)");
		return -EINVAL;
	}
	ver = ynode_map_get(root, "version");
	if (ver != NULL) {
		const char *v = want_str(p, ver, "version");
		if (v && strncmp(v, "3.", 2) != 0 && strcmp(v, "3") != 0)
			perr(p, ver, "version: '%s': netlab reads compose format 3.x", v);
	}
	parse_root_xroam(p, ynode_map_get(root, "x-roam"));

	nets = ynode_map_get(root, "networks");
	if (nets != NULL && !ynode_is_null(nets) && want_map(p, nets, "networks")) {
		if (nets->count > NL_MAX_NETWORKS) {
			perr(p, nets, "too many networks (at most %d)", NL_MAX_NETWORKS);
			return -EINVAL;
		}
		t->nets = xcalloc(nets->count, sizeof(*t->nets));
		YNODE_MAP_FOREACH(nets, i, kv) {
			struct nl_net *net = &t->nets[t->nnets++];
			net->name = xstrdup(kv->key->scalar);
			net->line = kv->key->line;
			net->col = kv->key->col;
			if (!valid_name(net->name))
				perr(p, kv->key, "bad network name '%s'", net->name);
			parse_network(p, net, kv->value);
		}
	}
	svcs = ynode_map_get(root, "services");
	if (svcs == NULL || svcs->type != YN_MAP || svcs->count == 0) {
		perr(p, svcs ? svcs : root, "services: expected a map of at least one service");
		return -EINVAL;
	}
	if (svcs->count > NL_MAX_SERVICES) {
		perr(p, svcs, "too many services (at most %d)", NL_MAX_SERVICES);
		return -EINVAL;
	}
	t->svcs = xcalloc(svcs->count, sizeof(*t->svcs));
	YNODE_MAP_FOREACH(svcs, i, kv) {
		struct nl_svc *s = &t->svcs[t->nsvcs++];
		s->name = xstrdup(kv->key->scalar);
		s->line = kv->key->line;
		s->col = kv->key->col;
		if (!valid_name(s->name) || strcmp(s->name, "sw") == 0)
			perr(p, kv->key, "bad service name '%s'%s", s->name,
			     strcmp(s->name, "sw") == 0 ? " (reserved for the switch namespace)" : "");
	}
	YNODE_MAP_FOREACH(svcs, i, kv) {
		parse_service(p, &t->svcs[i], kv->value);
		parse_depends(p, &t->svcs[i], ynode_map_get(kv->value, "depends_on"));
	}
	compute_order(p);
	validate(p, svcs);
	return p->errs->total ? -EINVAL : 0;
}

static char *base_name(const char *path)
{
	const char *b = strrchr(path, '/');
	char *n = xstrdup(b ? b + 1 : path);
	char *dot = strrchr(n, '.');
	if (dot && (strcmp(dot, ".yml") == 0 || strcmp(dot, ".yaml") == 0))
		*dot = '\0';
	for (char *c = n; *c; c++)
		if (!isalnum((unsigned char)*c) && *c != '-' && *c != '_' && *c != '.')
			*c = '-';
	if (strlen(n) > 24)
		n[24] = '\0';
	return n;
}

static int load_common(struct ydoc *doc, const char *name, const char *dir, struct nl_topo **out,
		       struct nl_errs *errs)
{
	struct nl_topo *t = xcalloc(1, sizeof(*t));
	struct parser p = { .file = name, .errs = errs, .t = t };
	int rc;

	t->file = xstrdup(name);
	t->dir = xstrdup(dir);
	t->name = base_name(name);
	t->ready_ms = DEFAULT_READY_MS;
	rc = topo_from_doc(&p, ydoc_root(doc));
	if (rc < 0) {
		topo_free(t);
		return rc;
	}
	*out = t;
	return 0;
}

int topo_load_string(const char *name, const char *dir, const char *text, struct nl_topo **out,
		     struct nl_errs *errs)
{
	struct ydoc *doc = NULL;
	char err[512];
	int rc;

	*out = NULL;
	rc = ynode_load_string(name, text, strlen(text), &doc, err, sizeof(err));
	if (rc < 0) {
		errs_add(errs, "%s", err);
		return rc;
	}
	rc = load_common(doc, name, dir, out, errs);
	ydoc_free(doc);
	return rc;
}

int topo_load(const char *path, struct nl_topo **out, struct nl_errs *errs)
{
	struct ydoc *doc = NULL;
	char err[512], abspath[PATH_MAX], dir[PATH_MAX];
	int rc;

	*out = NULL;
	if (realpath(path, abspath) == NULL) {
		rc = -errno;
		errs_add(errs, "%s: %s", path, strerror(errno));
		return rc;
	}
	rc = ynode_load_file(abspath, &doc, err, sizeof(err));
	if (rc < 0) {
		errs_add(errs, "%s", err);
		return rc;
	}
	snprintf(dir, sizeof(dir), "%s", abspath);
	*strrchr(dir, '/') = '\0';
	if (dir[0] == '\0')
		snprintf(dir, sizeof(dir), "/");
	rc = load_common(doc, abspath, dir, out, errs);
	ydoc_free(doc);
	return rc;
}

void topo_free(struct nl_topo *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->nnets; i++)
		free(t->nets[i].name);
	free(t->nets);
	for (size_t i = 0; i < t->nsvcs; i++) {
		struct nl_svc *s = &t->svcs[i];
		free(s->name);
		nl_strv_free(s->argv);
		nl_strv_free(s->env);
		free(s->workdir);
		for (size_t j = 0; j < s->nifs; j++) {
			free(s->ifs[j].cells);
			free(s->ifs[j].addrs);
		}
		free(s->ifs);
		free(s->routes);
		for (size_t j = 0; j < s->nvols; j++) {
			free(s->vols[j].src);
			free(s->vols[j].dst);
		}
		free(s->vols);
		for (size_t j = 0; j < s->nsysctls; j++) {
			free(s->sysctls[j].key);
			free(s->sysctls[j].value);
		}
		free(s->sysctls);
		free(s->ctl);
		free(s->deps);
	}
	free(t->svcs);
	free(t->order);
	free(t->file);
	free(t->dir);
	free(t->name);
	free(t);
}
