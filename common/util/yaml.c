/* YAML documents as a read-only tree with source positions (see roam/yaml.h).
 *
 * libyaml's event parser feeds a stack of frames (one per open map or sequence); a node is
 * finished when its end event arrives, at which point its children are copied into the
 * document's arena.  Duplicate keys and merge keys are dealt with when a map ends, by sorting
 * its keys.  Every node carries its "expanded weight" (nodes counted as if each alias were
 * copied out) so that a document cannot make its readers walk an exponential tree. */
#include "roam/yaml.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

/* ---- arena ---- */

#define ARENA_BLOCK 16384

struct arena_blk {
	struct arena_blk *next;
	size_t used, cap;
	max_align_t data[];
};

/* Internal node: the public node plus bookkeeping. */
struct ynode_x {
	struct ynode n;
	uint64_t weight; /* expanded size, saturating above YAML_MAX_EXPANDED */
};

struct ydoc {
	struct arena_blk *blocks;
	char *name;
	const struct ynode *root;
	struct ydiag *diags;
	size_t ndiags, diagcap;
};

static void *arena_alloc(struct ydoc *d, size_t n)
{
	const size_t al = sizeof(max_align_t);
	n = (n + al - 1) / al * al;
	if (n == 0)
		n = al;
	struct arena_blk *b = d->blocks;
	if (b == NULL || b->cap - b->used < n) {
		size_t cap = n > ARENA_BLOCK / 4 ? n : ARENA_BLOCK;
		b = malloc(sizeof(*b) + cap);
		if (b == NULL)
			return NULL;
		b->cap = cap;
		b->used = 0;
		if (cap == ARENA_BLOCK || d->blocks == NULL) {
			b->next = d->blocks;
			d->blocks = b;
		} else {
			/* A big one-off block: keep the current block as the one to bump from. */
			b->next = d->blocks->next;
			d->blocks->next = b;
			b->used = n;
			return (char *)b->data;
		}
	}
	void *p = (char *)b->data + b->used;
	b->used += n;
	return p;
}

static char *arena_strndup(struct ydoc *d, const char *s, size_t n)
{
	char *p = arena_alloc(d, n + 1);
	if (p == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/* ---- loader state ---- */

struct frame {
	struct ynode_x *node;
	/* seq: items; map: flat key/value pairs (key, value) as collected */
	const struct ynode **v;
	size_t n, cap;
	const struct ynode *key; /* map: key waiting for its value */
	size_t anchor;           /* index+1 into the anchor table of this node, or 0 */
};

struct anchor {
	char *name;
	const struct ynode *node; /* NULL while the node is still open */
};

struct loader {
	struct ydoc *doc;
	unsigned flags;
	struct frame *st;
	size_t depth, stcap;
	struct anchor *anchors;
	size_t nanchors, anchorcap;
	char *err;
	size_t errlen;
	int rc; /* first error */
};

static void lerr(struct loader *l, int rc, int line, int col, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void lerr(struct loader *l, int rc, int line, int col, const char *fmt, ...)
{
	if (l->rc)
		return;
	l->rc = rc;
	if (l->err == NULL || l->errlen == 0)
		return;
	int n;
	if (line > 0)
		n = snprintf(l->err, l->errlen, "%s:%d:%d: ", l->doc->name, line, col);
	else
		n = snprintf(l->err, l->errlen, "%s: ", l->doc->name);
	if (n < 0 || (size_t)n >= l->errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(l->err + n, l->errlen - (size_t)n, fmt, ap);
	va_end(ap);
}

static void set_err(char *err, size_t errlen, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void set_err(char *err, size_t errlen, const char *name, const char *fmt, ...)
{
	if (err == NULL || errlen == 0)
		return;
	int n = snprintf(err, errlen, "%s: ", name);
	if (n < 0 || (size_t)n >= errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
}

/* Appends printf text to a malloc'd growing string; on failure the string is freed (NULL). */
static void sbuf_add(char **s, size_t *len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void sbuf_add(char **s, size_t *len, const char *fmt, ...)
{
	if (*s == NULL)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		free(*s);
		*s = NULL;
		return;
	}
	char *p = realloc(*s, *len + (size_t)n + 1);
	if (p == NULL) {
		free(*s);
		*s = NULL;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(p + *len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	*s = p;
	*len += (size_t)n;
}

/* Dotted path of the node being built at stack level `upto` (exclusive), plus an optional last
 * key.  Returns a malloc'd string or NULL. */
static char *stack_path(struct loader *l, size_t upto, const struct ynode *lastkey)
{
	size_t len = 0;
	char *s = calloc(1, 1);
	for (size_t i = 0; i < upto && s; i++) {
		struct frame *f = &l->st[i];
		if (f->node->n.type == YN_SEQ) {
			sbuf_add(&s, &len, "[%zu]", f->n);
		} else if (f->key != NULL) {
			sbuf_add(&s, &len, "%s%s", len ? "." : "", f->key->scalar);
		}
	}
	if (lastkey != NULL)
		sbuf_add(&s, &len, "%s%s", len ? "." : "", lastkey->scalar);
	return s;
}

static struct ynode_x *new_node(struct loader *l, enum ynode_type t, const yaml_mark_t *m)
{
	struct ynode_x *x = arena_alloc(l->doc, sizeof(*x));
	if (x == NULL) {
		lerr(l, -ENOMEM, 0, 0, "out of memory");
		return NULL;
	}
	memset(x, 0, sizeof(*x));
	x->n.type = t;
	x->n.line = (int)m->line + 1;
	x->n.col = (int)m->column + 1;
	x->weight = 1;
	return x;
}

static uint64_t weight_of(const struct ynode *n)
{
	return ((const struct ynode_x *)n)->weight;
}

static void weight_add(struct ynode_x *x, uint64_t w)
{
	x->weight += w;
	if (x->weight > YAML_MAX_EXPANDED)
		x->weight = YAML_MAX_EXPANDED + 1;
}

static int anchor_add(struct loader *l, const char *name, size_t *idx)
{
	if (l->nanchors == l->anchorcap) {
		size_t cap = l->anchorcap ? l->anchorcap * 2 : 16;
		struct anchor *a = realloc(l->anchors, cap * sizeof(*a));
		if (a == NULL)
			return -ENOMEM;
		l->anchors = a;
		l->anchorcap = cap;
	}
	char *nm = strdup(name);
	if (nm == NULL)
		return -ENOMEM;
	l->anchors[l->nanchors].name = nm;
	l->anchors[l->nanchors].node = NULL;
	*idx = ++l->nanchors;
	return 0;
}

static int vec_push(const struct ynode ***v, size_t *n, size_t *cap, const struct ynode *x)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 8;
		const struct ynode **p = realloc(*v, c * sizeof(*p));
		if (p == NULL)
			return -ENOMEM;
		*v = p;
		*cap = c;
	}
	(*v)[(*n)++] = x;
	return 0;
}

static int key_cmp(const struct ynode *a, const struct ynode *b)
{
	size_t n = a->len < b->len ? a->len : b->len;
	int c = memcmp(a->scalar, b->scalar, n);
	if (c)
		return c;
	return a->len < b->len ? -1 : a->len > b->len;
}

static bool is_merge_key(const struct ynode *k)
{
	return k->type == YN_SCALAR && !k->quoted && k->len == 2 && memcmp(k->scalar, "<<", 2) == 0;
}

struct cand {
	const struct ynode *key, *value;
	size_t order;
	bool explicit_;
	bool drop;
};

static int cand_cmp(const void *pa, const void *pb)
{
	const struct cand *a = pa, *b = pb;
	int c = key_cmp(a->key, b->key);
	if (c)
		return c;
	return a->order < b->order ? -1 : a->order > b->order;
}

static int cand_order_cmp(const void *pa, const void *pb)
{
	const struct cand *a = pa, *b = pb;
	return a->order < b->order ? -1 : a->order > b->order;
}

static int diag_add(struct loader *l, int line, int col, char *path, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* Records a deferred diagnostic; takes ownership of path (malloc'd). */
static int diag_add(struct loader *l, int line, int col, char *path, const char *fmt, ...)
{
	struct ydoc *d = l->doc;
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (d->ndiags == d->diagcap) {
		size_t cap = d->diagcap ? d->diagcap * 2 : 8;
		struct ydiag *p = realloc(d->diags, cap * sizeof(*p));
		if (p == NULL) {
			free(path);
			return -ENOMEM;
		}
		d->diags = p;
		d->diagcap = cap;
	}
	char *ap_ = arena_strndup(d, path ? path : "", path ? strlen(path) : 0);
	char *am = arena_strndup(d, msg, strlen(msg));
	free(path);
	if (ap_ == NULL || am == NULL)
		return -ENOMEM;
	d->diags[d->ndiags++] = (struct ydiag){ .line = line, .col = col, .path = ap_, .msg = am };
	return 0;
}

/* Builds the final pair array of the map on top of the stack (depth-1). */
static void finish_map(struct loader *l, struct frame *f)
{
	size_t nexp = f->n / 2, ncand = 0, cap = nexp;
	/* Count merge candidates first. */
	for (size_t i = 0; i < nexp; i++) {
		const struct ynode *k = f->v[2 * i], *v = f->v[2 * i + 1];
		if (!is_merge_key(k))
			continue;
		if (v->type == YN_MAP) {
			cap += v->count;
		} else if (v->type == YN_SEQ) {
			for (size_t j = 0; j < v->count; j++) {
				if (v->items[j]->type != YN_MAP) {
					lerr(l, -EINVAL, v->items[j]->line, v->items[j]->col,
					     "merge key '<<' takes a map or a sequence of maps, not a %s",
					     ynode_type_name(v->items[j]));
					return;
				}
				cap += v->items[j]->count;
			}
		} else {
			lerr(l, -EINVAL, v->line, v->col,
			     "merge key '<<' takes a map or a sequence of maps, not a %s",
			     ynode_type_name(v));
			return;
		}
	}
	struct cand *c = cap ? calloc(cap, sizeof(*c)) : NULL;
	if (cap && c == NULL) {
		lerr(l, -ENOMEM, 0, 0, "out of memory");
		return;
	}
	for (size_t i = 0; i < nexp; i++) {
		const struct ynode *k = f->v[2 * i];
		if (is_merge_key(k))
			continue;
		c[ncand] = (struct cand){ .key = k, .value = f->v[2 * i + 1], .order = ncand,
		                          .explicit_ = true };
		ncand++;
	}
	for (size_t i = 0; i < nexp; i++) {
		const struct ynode *k = f->v[2 * i], *v = f->v[2 * i + 1];
		if (!is_merge_key(k))
			continue;
		size_t nsrc = v->type == YN_MAP ? 1 : v->count;
		for (size_t s = 0; s < nsrc; s++) {
			const struct ynode *m = v->type == YN_MAP ? v : v->items[s];
			for (size_t j = 0; j < m->count; j++) {
				c[ncand] = (struct cand){ .key = m->pairs[j].key, .value = m->pairs[j].value,
				                          .order = ncand };
				ncand++;
			}
		}
	}
	if (ncand > 1)
		qsort(c, ncand, sizeof(*c), cand_cmp);
	/* In each group of equal keys the lowest order wins; a second explicit one is a
	 * duplicate.  Fail-fast reports the duplicate that comes first in the document. */
	const struct cand *dup = NULL, *dupfirst = NULL;
	for (size_t i = 0; i < ncand;) {
		size_t j = i + 1;
		while (j < ncand && key_cmp(c[j].key, c[i].key) == 0) {
			c[j].drop = true;
			if (c[j].explicit_) {
				if (l->flags & YLOAD_DEFER_DUPS) {
					char *path = stack_path(l, l->depth - 1, c[j].key);
					if (diag_add(l, c[j].key->line, c[j].key->col, path,
					             "duplicate key (first at %d:%d)", c[i].key->line,
					             c[i].key->col) < 0)
						lerr(l, -ENOMEM, 0, 0, "out of memory");
				} else if (dup == NULL || c[j].order < dup->order) {
					dup = &c[j];
					dupfirst = &c[i];
				}
			}
			j++;
		}
		i = j;
	}
	if (dup != NULL) {
		char *path = stack_path(l, l->depth - 1, dup->key);
		lerr(l, -EINVAL, dup->key->line, dup->key->col, "key '%s': duplicate key (first at %d:%d)",
		     path ? path : dup->key->scalar, dupfirst->key->line, dupfirst->key->col);
		free(path);
		free(c);
		return;
	}
	size_t keep = 0;
	for (size_t i = 0; i < ncand; i++)
		if (!c[i].drop)
			c[keep++] = c[i];
	if (keep > 1)
		qsort(c, keep, sizeof(*c), cand_order_cmp);
	struct ypair *pairs = keep ? arena_alloc(l->doc, keep * sizeof(*pairs)) : NULL;
	if (keep && pairs == NULL) {
		free(c);
		lerr(l, -ENOMEM, 0, 0, "out of memory");
		return;
	}
	for (size_t i = 0; i < keep; i++) {
		pairs[i].key = c[i].key;
		pairs[i].value = c[i].value;
		weight_add(f->node, weight_of(c[i].key) + weight_of(c[i].value));
	}
	free(c);
	f->node->n.pairs = pairs;
	f->node->n.count = keep;
}

static void finish_seq(struct loader *l, struct frame *f)
{
	const struct ynode **items = NULL;
	if (f->n) {
		items = arena_alloc(l->doc, f->n * sizeof(*items));
		if (items == NULL) {
			lerr(l, -ENOMEM, 0, 0, "out of memory");
			return;
		}
		memcpy(items, f->v, f->n * sizeof(*items));
	}
	for (size_t i = 0; i < f->n; i++)
		weight_add(f->node, weight_of(f->v[i]));
	f->node->n.items = (const struct ynode *const *)items;
	f->node->n.count = f->n;
}

/* Hands a finished node to its parent (or makes it the root). */
static void attach(struct loader *l, const struct ynode *n)
{
	if (l->rc)
		return;
	if (weight_of(n) > YAML_MAX_EXPANDED) {
		lerr(l, -EINVAL, n->line, n->col,
		     "document too large once aliases are expanded (over %d nodes)", YAML_MAX_EXPANDED);
		return;
	}
	if (l->depth == 0) {
		l->doc->root = n;
		return;
	}
	struct frame *f = &l->st[l->depth - 1];
	if (f->node->n.type == YN_SEQ) {
		if (vec_push(&f->v, &f->n, &f->cap, n) < 0)
			lerr(l, -ENOMEM, 0, 0, "out of memory");
		return;
	}
	if (f->key == NULL) {
		if (n->type != YN_SCALAR) {
			lerr(l, -EINVAL, n->line, n->col, "map keys must be scalars, not a %s",
			     ynode_type_name(n));
			return;
		}
		f->key = n;
		return;
	}
	if (vec_push(&f->v, &f->n, &f->cap, f->key) < 0 || vec_push(&f->v, &f->n, &f->cap, n) < 0)
		lerr(l, -ENOMEM, 0, 0, "out of memory");
	f->key = NULL;
}

static void on_start(struct loader *l, enum ynode_type t, const yaml_mark_t *m,
                     const yaml_char_t *anchor)
{
	if (l->depth >= YAML_MAX_DEPTH) {
		lerr(l, -EINVAL, (int)m->line + 1, (int)m->column + 1,
		     "nesting deeper than %d levels", YAML_MAX_DEPTH);
		return;
	}
	struct ynode_x *x = new_node(l, t, m);
	if (x == NULL)
		return;
	if (l->depth == l->stcap) {
		size_t cap = l->stcap ? l->stcap * 2 : 8;
		struct frame *s = realloc(l->st, cap * sizeof(*s));
		if (s == NULL) {
			lerr(l, -ENOMEM, 0, 0, "out of memory");
			return;
		}
		l->st = s;
		l->stcap = cap;
	}
	struct frame *f = &l->st[l->depth++];
	memset(f, 0, sizeof(*f));
	f->node = x;
	if (anchor != NULL && anchor_add(l, (const char *)anchor, &f->anchor) < 0)
		lerr(l, -ENOMEM, 0, 0, "out of memory");
}

static void on_end(struct loader *l)
{
	struct frame *f = &l->st[l->depth - 1];
	if (f->node->n.type == YN_MAP)
		finish_map(l, f);
	else
		finish_seq(l, f);
	if (f->anchor)
		l->anchors[f->anchor - 1].node = &f->node->n;
	const struct ynode *n = &f->node->n;
	free(f->v);
	f->v = NULL;
	l->depth--;
	attach(l, n);
}

static void on_scalar(struct loader *l, const yaml_event_t *ev)
{
	struct ynode_x *x = new_node(l, YN_SCALAR, &ev->start_mark);
	if (x == NULL)
		return;
	const char *val = (const char *)ev->data.scalar.value;
	char *s = arena_strndup(l->doc, val ? val : "", val ? ev->data.scalar.length : 0);
	if (s == NULL) {
		lerr(l, -ENOMEM, 0, 0, "out of memory");
		return;
	}
	x->n.scalar = s;
	x->n.len = val ? ev->data.scalar.length : 0;
	x->n.quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
	              (ev->data.scalar.tag != NULL &&
	               strcmp((const char *)ev->data.scalar.tag, YAML_STR_TAG) == 0);
	if (ev->data.scalar.anchor != NULL) {
		size_t idx;
		if (anchor_add(l, (const char *)ev->data.scalar.anchor, &idx) < 0) {
			lerr(l, -ENOMEM, 0, 0, "out of memory");
			return;
		}
		l->anchors[idx - 1].node = &x->n;
	}
	attach(l, &x->n);
}

static void on_alias(struct loader *l, const yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;
	int line = (int)ev->start_mark.line + 1, col = (int)ev->start_mark.column + 1;
	for (size_t i = l->nanchors; i-- > 0;) {
		if (strcmp(l->anchors[i].name, name) != 0)
			continue;
		if (l->anchors[i].node == NULL) {
			lerr(l, -EINVAL, line, col, "alias '*%s' refers to a node that contains it (loop)",
			     name);
			return;
		}
		attach(l, l->anchors[i].node);
		return;
	}
	lerr(l, -EINVAL, line, col, "unknown alias '*%s'", name);
}

static void parser_error(struct loader *l, const yaml_parser_t *p)
{
	const char *problem = p->problem ? p->problem : "syntax error";
	if (p->error == YAML_MEMORY_ERROR) {
		lerr(l, -ENOMEM, 0, 0, "out of memory");
		return;
	}
	if (p->error == YAML_READER_ERROR) {
		lerr(l, -EINVAL, 0, 0, "%s at byte %zu", problem, p->problem_offset);
		return;
	}
	int line = (int)p->problem_mark.line + 1, col = (int)p->problem_mark.column + 1;
	if (p->context != NULL)
		lerr(l, -EINVAL, line, col, "%s (%s at %d:%d)", problem, p->context,
		     (int)p->context_mark.line + 1, (int)p->context_mark.column + 1);
	else
		lerr(l, -EINVAL, line, col, "%s", problem);
}

static void loader_free(struct loader *l)
{
	for (size_t i = 0; i < l->depth; i++)
		free(l->st[i].v);
	free(l->st);
	for (size_t i = 0; i < l->nanchors; i++)
		free(l->anchors[i].name);
	free(l->anchors);
}

static int load(struct ydoc *d, const char *text, size_t len, unsigned flags, char *err,
                size_t errlen)
{
	struct loader l = { .doc = d, .flags = flags, .err = err, .errlen = errlen };
	yaml_parser_t p;
	if (!yaml_parser_initialize(&p)) {
		set_err(err, errlen, d->name, "out of memory");
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	int docs = 0;
	bool done = false;
	while (!done && l.rc == 0) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&p, &ev)) {
			parser_error(&l, &p);
			break;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++docs > 1)
				lerr(&l, -EINVAL, (int)ev.start_mark.line + 1, (int)ev.start_mark.column + 1,
				     "only one YAML document is allowed");
			break;
		case YAML_SCALAR_EVENT:
			on_scalar(&l, &ev);
			break;
		case YAML_ALIAS_EVENT:
			on_alias(&l, &ev);
			break;
		case YAML_SEQUENCE_START_EVENT:
			on_start(&l, YN_SEQ, &ev.start_mark, ev.data.sequence_start.anchor);
			break;
		case YAML_MAPPING_START_EVENT:
			on_start(&l, YN_MAP, &ev.start_mark, ev.data.mapping_start.anchor);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			if (l.depth > 0)
				on_end(&l);
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	loader_free(&l);
	return l.rc;
}

static struct ydoc *doc_new(const char *name)
{
	struct ydoc *d = calloc(1, sizeof(*d));
	if (d == NULL)
		return NULL;
	d->name = strdup(name ? name : "<string>");
	if (d->name == NULL) {
		free(d);
		return NULL;
	}
	return d;
}

int ynode_load_string_flags(const char *name, const char *text, size_t len, unsigned flags,
                            struct ydoc **out, char *err, size_t errlen)
{
	*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	if (name == NULL)
		name = "<string>";
	if (len > YAML_MAX_FILE) {
		set_err(err, errlen, name, "too large (over %d bytes)", YAML_MAX_FILE);
		return -EFBIG;
	}
	struct ydoc *d = doc_new(name);
	if (d == NULL) {
		set_err(err, errlen, name, "out of memory");
		return -ENOMEM;
	}
	int rc = load(d, text ? text : "", text ? len : 0, flags, err, errlen);
	if (rc < 0) {
		ydoc_free(d);
		return rc;
	}
	*out = d;
	return 0;
}

int ynode_load_string(const char *name, const char *text, size_t len, struct ydoc **out,
                      char *err, size_t errlen)
{
	return ynode_load_string_flags(name, text, len, 0, out, err, errlen);
}

int ynode_load_file_flags(const char *path, unsigned flags, struct ydoc **out, char *err,
                          size_t errlen)
{
	*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		set_err(err, errlen, path, "%s", strerror(e));
		return -e;
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		set_err(err, errlen, path, "%s", strerror(e));
		return -e;
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		set_err(err, errlen, path, "%s", strerror(EISDIR));
		return -EISDIR;
	}
	if (S_ISREG(st.st_mode) && st.st_size > YAML_MAX_FILE) {
		close(fd);
		set_err(err, errlen, path, "too large (over %d bytes)", YAML_MAX_FILE);
		return -EFBIG;
	}
	size_t cap = YAML_MAX_FILE + 1, len = 0;
	char *buf = malloc(cap);
	if (buf == NULL) {
		close(fd);
		set_err(err, errlen, path, "out of memory");
		return -ENOMEM;
	}
	for (;;) {
		ssize_t r = read(fd, buf + len, cap - len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			free(buf);
			close(fd);
			set_err(err, errlen, path, "%s", strerror(e));
			return -e;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len == cap)
			break;
	}
	close(fd);
	if (len > YAML_MAX_FILE) {
		free(buf);
		set_err(err, errlen, path, "too large (over %d bytes)", YAML_MAX_FILE);
		return -EFBIG;
	}
	int rc = ynode_load_string_flags(path, buf, len, flags, out, err, errlen);
	explicit_bzero(buf, len);
	free(buf);
	return rc;
}

int ynode_load_file(const char *path, struct ydoc **out, char *err, size_t errlen)
{
	return ynode_load_file_flags(path, 0, out, err, errlen);
}

void ydoc_free(struct ydoc *doc)
{
	if (doc == NULL)
		return;
	struct arena_blk *b = doc->blocks;
	while (b) {
		struct arena_blk *next = b->next;
		/* Configs hold secrets: leave none of their text in freed memory. */
		explicit_bzero(b->data, b->used);
		free(b);
		b = next;
	}
	free(doc->diags);
	free(doc->name);
	free(doc);
}

const struct ynode *ydoc_root(const struct ydoc *doc)
{
	return doc ? doc->root : NULL;
}

const char *ydoc_name(const struct ydoc *doc)
{
	return doc ? doc->name : NULL;
}

size_t ydoc_ndiags(const struct ydoc *doc)
{
	return doc ? doc->ndiags : 0;
}

const struct ydiag *ydoc_diag(const struct ydoc *doc, size_t i)
{
	return doc && i < doc->ndiags ? &doc->diags[i] : NULL;
}

/* ---- navigation ---- */

static const struct ypair *map_find(const struct ynode *map, const char *key)
{
	if (map == NULL || map->type != YN_MAP || key == NULL)
		return NULL;
	size_t kl = strlen(key);
	for (size_t i = 0; i < map->count; i++) {
		const struct ynode *k = map->pairs[i].key;
		if (k->len == kl && memcmp(k->scalar, key, kl) == 0)
			return &map->pairs[i];
	}
	return NULL;
}

const struct ynode *ynode_map_get(const struct ynode *map, const char *key)
{
	const struct ypair *p = map_find(map, key);
	return p ? p->value : NULL;
}

const struct ynode *ynode_map_key(const struct ynode *map, const char *key)
{
	const struct ypair *p = map_find(map, key);
	return p ? p->key : NULL;
}

size_t ynode_count(const struct ynode *n)
{
	return n && n->type != YN_SCALAR ? n->count : 0;
}

const struct ynode *ynode_seq_at(const struct ynode *seq, size_t i)
{
	if (seq == NULL || seq->type != YN_SEQ || i >= seq->count)
		return NULL;
	return seq->items[i];
}

const struct ypair *ynode_map_at(const struct ynode *map, size_t i)
{
	if (map == NULL || map->type != YN_MAP || i >= map->count)
		return NULL;
	return &map->pairs[i];
}

const char *ynode_type_name(const struct ynode *n)
{
	if (n == NULL)
		return "nothing";
	switch (n->type) {
	case YN_SCALAR:
		return "scalar";
	case YN_MAP:
		return "map";
	case YN_SEQ:
		return "sequence";
	}
	return "?";
}

bool ynode_is_scalar(const struct ynode *n)
{
	return n != NULL && n->type == YN_SCALAR;
}

bool ynode_is_null(const struct ynode *n)
{
	if (n == NULL || n->type != YN_SCALAR || n->quoted)
		return false;
	const char *s = n->scalar;
	return n->len == 0 || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
	       strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

const char *ynode_str(const struct ynode *n)
{
	return n != NULL && n->type == YN_SCALAR ? n->scalar : NULL;
}

int ynode_bool(const struct ynode *n, bool *out)
{
	static const char *const t[] = { "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON" };
	static const char *const f[] = { "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF" };
	if (n == NULL || n->type != YN_SCALAR || n->quoted)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (strcmp(n->scalar, t[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcmp(n->scalar, f[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

/* Parses the magnitude of a plain integer: decimal (no leading zero), 0x, 0o.  *neg is set
 * for a '-' sign. */
static int parse_mag(const struct ynode *n, bool *neg, uint64_t *mag)
{
	if (n == NULL || n->type != YN_SCALAR || n->quoted || n->len != strlen(n->scalar))
		return -EINVAL;
	const char *s = n->scalar;
	*neg = false;
	if (*s == '+' || *s == '-')
		*neg = *s++ == '-';
	unsigned base = 10;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	} else if (s[0] == '0' && s[1] == 'o') {
		base = 8;
		s += 2;
	} else if (s[0] == '0' && s[1] != '\0') {
		return -EINVAL; /* 0644: octal in YAML 1.1, decimal in 1.2: refuse to guess */
	}
	if (*s == '\0')
		return -EINVAL;
	uint64_t v = 0;
	bool range = false;
	for (; *s; s++) {
		unsigned d;
		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (*s >= 'a' && *s <= 'f')
			d = (unsigned)(*s - 'a' + 10);
		else if (*s >= 'A' && *s <= 'F')
			d = (unsigned)(*s - 'A' + 10);
		else
			return -EINVAL;
		if (d >= base)
			return -EINVAL;
		if (v > (UINT64_MAX - d) / base)
			range = true;
		else
			v = v * base + d;
	}
	*mag = v;
	return range ? -ERANGE : 0;
}

int ynode_int64(const struct ynode *n, int64_t *out)
{
	bool neg;
	uint64_t m;
	int rc = parse_mag(n, &neg, &m);
	if (rc < 0)
		return rc;
	if (neg) {
		if (m > (uint64_t)INT64_MAX + 1)
			return -ERANGE;
		*out = m == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)m;
	} else {
		if (m > (uint64_t)INT64_MAX)
			return -ERANGE;
		*out = (int64_t)m;
	}
	return 0;
}

int ynode_uint64(const struct ynode *n, uint64_t *out)
{
	bool neg;
	uint64_t m;
	int rc = parse_mag(n, &neg, &m);
	if (rc < 0)
		return rc;
	if (neg && m != 0)
		return -ERANGE;
	*out = m;
	return 0;
}
