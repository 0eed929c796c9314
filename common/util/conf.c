/* Configuration loading through declared schemas (see roam/conf.h).
 *
 * The YAML tree is walked once against the schema, loading into a zeroed temporary struct;
 * every problem is appended to the error list and the walk goes on, so that one run of `-t`
 * shows everything wrong with a file.  Only a clean load is moved into the caller's struct. */
#include "roam/conf.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "roam/log.h"

#define CONF_STRING_MAX 4096
#define CONF_HEX_MAX 1024
#define CONF_LIST_MAX 1024
#define CONF_SECRET_FILE_MAX 65536 /* the least a secret file may hold */

struct ctx {
	const char *file;
	const char *basedir;
	struct conf_errors *errs;
	size_t nerr;    /* errors found in this load (counted even when errs is NULL) */
	int rc;         /* set for a failure that is not the file's fault (-ENOMEM) */
	int in_default; /* > 0 while parsing a schema default */
	const char *dflt_text;
	char path[1024];
	size_t plen;
};

/* ---- errors ---- */

void conf_errors_init(struct conf_errors *e)
{
	memset(e, 0, sizeof(*e));
}

void conf_errors_free(struct conf_errors *e)
{
	if (e == NULL)
		return;
	for (size_t i = 0; i < e->count; i++) {
		free(e->v[i].path);
		free(e->v[i].msg);
		free(e->v[i].text);
	}
	free(e->v);
	memset(e, 0, sizeof(*e));
}

void conf_errors_print(const struct conf_errors *e, FILE *fp)
{
	if (e == NULL)
		return;
	for (size_t i = 0; i < e->count; i++)
		fprintf(fp, "%s\n", e->v[i].text);
	if (e->dropped)
		fprintf(fp, "(%zu more error%s not shown)\n", e->dropped, e->dropped == 1 ? "" : "s");
}

void conf_errors_log(const struct conf_errors *e)
{
	if (e == NULL)
		return;
	for (size_t i = 0; i < e->count; i++)
		log_warnx("%s", e->v[i].text);
	if (e->dropped)
		log_warnx("(%zu more error%s not shown)", e->dropped, e->dropped == 1 ? "" : "s");
}

static void errs_add(struct conf_errors *e, const char *file, int line, int col, const char *path,
                     const char *msg)
{
	if (e == NULL)
		return;
	if (e->count >= CONF_MAX_ERRORS) {
		e->dropped++;
		return;
	}
	if (e->count == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 8;
		struct conf_error *v = realloc(e->v, cap * sizeof(*v));
		if (v == NULL) {
			e->dropped++;
			return;
		}
		e->v = v;
		e->cap = cap;
	}
	struct conf_error *er = &e->v[e->count];
	memset(er, 0, sizeof(*er));
	er->line = line;
	er->col = col;
	er->path = path && path[0] ? strdup(path) : NULL;
	er->msg = strdup(msg);
	char pos[64] = "";
	if (line > 0)
		snprintf(pos, sizeof(pos), ":%d:%d", line, col);
	int n;
	if (path && path[0])
		n = asprintf(&er->text, "%s%s: key '%s': %s", file, pos, path, msg);
	else
		n = asprintf(&er->text, "%s%s: %s", file, pos, msg);
	if (n < 0)
		er->text = NULL;
	if (er->msg == NULL || er->text == NULL || (path && path[0] && er->path == NULL)) {
		free(er->path);
		free(er->msg);
		free(er->text);
		e->dropped++;
		return;
	}
	e->count++;
}

static void cerr(struct ctx *c, const struct ynode *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Reports an error about the current path at node `at` (NULL: no position). */
static void cerr(struct ctx *c, const struct ynode *at, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->nerr++;
	if (c->in_default) {
		char m2[700];
		snprintf(m2, sizeof(m2), "schema bug: invalid default '%s': %s",
		         c->dflt_text ? c->dflt_text : "", msg);
		errs_add(c->errs, c->file, 0, 0, c->path, m2);
		return;
	}
	errs_add(c->errs, c->file, at ? at->line : 0, at ? at->col : 0, c->path, msg);
}

static void oom(struct ctx *c)
{
	if (c->rc == 0) {
		c->rc = -ENOMEM;
		c->nerr++;
		errs_add(c->errs, c->file, 0, 0, NULL, "out of memory");
	}
}

/* ---- key paths ---- */

static size_t path_key(struct ctx *c, const char *key)
{
	size_t old = c->plen;
	int n = snprintf(c->path + c->plen, sizeof(c->path) - c->plen, "%s%s", c->plen ? "." : "",
	                 key);
	if (n > 0)
		c->plen = c->plen + (size_t)n < sizeof(c->path) ? c->plen + (size_t)n
		                                                 : sizeof(c->path) - 1;
	return old;
}

static size_t path_idx(struct ctx *c, size_t i)
{
	size_t old = c->plen;
	int n = snprintf(c->path + c->plen, sizeof(c->path) - c->plen, "[%zu]", i);
	if (n > 0)
		c->plen = c->plen + (size_t)n < sizeof(c->path) ? c->plen + (size_t)n
		                                                 : sizeof(c->path) - 1;
	return old;
}

static void path_pop(struct ctx *c, size_t old)
{
	c->plen = old;
	c->path[old] = '\0';
}

/* ---- value parsers ---- */

static int parse_digits(const char **sp, uint64_t *v)
{
	const char *s = *sp;
	uint64_t x = 0;
	bool range = false;
	if (*s < '0' || *s > '9')
		return -EINVAL;
	for (; *s >= '0' && *s <= '9'; s++) {
		unsigned d = (unsigned)(*s - '0');
		if (x > (UINT64_MAX - d) / 10)
			range = true;
		else
			x = x * 10 + d;
	}
	*sp = s;
	*v = x;
	return range ? -ERANGE : 0;
}

struct unit {
	const char *name;
	uint64_t mul;
};

static int parse_with_units(const char *s, const struct unit *units, size_t nunits,
                            bool unit_required, uint64_t *out)
{
	if (s == NULL)
		return -EINVAL;
	uint64_t v;
	int rc = parse_digits(&s, &v);
	if (rc == -EINVAL)
		return rc;
	while (*s == ' ')
		s++;
	uint64_t mul = 1;
	if (*s == '\0') {
		if (unit_required)
			return -EINVAL;
	} else {
		size_t i;
		for (i = 0; i < nunits; i++)
			if (strcmp(s, units[i].name) == 0)
				break;
		if (i == nunits)
			return -EINVAL;
		mul = units[i].mul;
	}
	if (rc == -ERANGE)
		return rc;
	if (mul != 0 && v > UINT64_MAX / mul)
		return -ERANGE;
	*out = v * mul;
	return 0;
}

static const struct unit duration_units[] = {
	{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 }, { "d", 86400000 },
};

static const struct unit size_units[] = {
	{ "B", 1 },
	{ "KiB", 1ull << 10 }, { "MiB", 1ull << 20 }, { "GiB", 1ull << 30 }, { "TiB", 1ull << 40 },
	{ "kB", 1000ull }, { "MB", 1000000ull }, { "GB", 1000000000ull }, { "TB", 1000000000000ull },
};

int conf_parse_duration(const char *s, uint64_t *ms)
{
	return parse_with_units(s, duration_units, sizeof(duration_units) / sizeof(duration_units[0]),
	                        true, ms);
}

int conf_parse_size(const char *s, uint64_t *bytes)
{
	return parse_with_units(s, size_units, sizeof(size_units) / sizeof(size_units[0]), false,
	                        bytes);
}

const char *conf_fmt_duration(uint64_t ms, char *buf, size_t len)
{
	size_t i = sizeof(duration_units) / sizeof(duration_units[0]);
	while (--i > 0)
		if (ms != 0 && ms % duration_units[i].mul == 0)
			break;
	snprintf(buf, len, "%" PRIu64 "%s", ms / duration_units[i].mul, duration_units[i].name);
	return buf;
}

static const char *fmt_size(uint64_t b, char *buf, size_t len)
{
	static const struct unit bin[] = { { "TiB", 1ull << 40 }, { "GiB", 1ull << 30 },
		                           { "MiB", 1ull << 20 }, { "KiB", 1ull << 10 } };
	for (size_t i = 0; i < sizeof(bin) / sizeof(bin[0]); i++) {
		if (b != 0 && b % bin[i].mul == 0) {
			snprintf(buf, len, "%" PRIu64 "%s", b / bin[i].mul, bin[i].name);
			return buf;
		}
	}
	snprintf(buf, len, "%" PRIu64, b);
	return buf;
}

static bool all_digits(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Decodes hex digits (after an optional "hex:" or "0x").  *why explains a failure. */
static int hex_decode(const char *s, size_t n, uint8_t **out, size_t *outlen, const char **why)
{
	if (n >= 4 && memcmp(s, "hex:", 4) == 0) {
		s += 4;
		n -= 4;
	} else if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		n -= 2;
	}
	if (n % 2) {
		*why = "odd number of hex digits";
		return -EINVAL;
	}
	uint8_t *b = malloc(n / 2 + 1);
	if (b == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i += 2) {
		int hi = hexval(s[i]), lo = hexval(s[i + 1]);
		if (hi < 0 || lo < 0) {
			explicit_bzero(b, n / 2 + 1);
			free(b);
			*why = "not a hex digit";
			return -EINVAL;
		}
		b[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	b[n / 2] = 0;
	*out = b;
	*outlen = n / 2;
	return 0;
}

/* ---- storage helpers ---- */

static void store_uint(void *dst, size_t size, uint64_t v)
{
	switch (size) {
	case 1: { uint8_t x = (uint8_t)v; memcpy(dst, &x, 1); break; }
	case 2: { uint16_t x = (uint16_t)v; memcpy(dst, &x, 2); break; }
	case 4: { uint32_t x = (uint32_t)v; memcpy(dst, &x, 4); break; }
	default: memcpy(dst, &v, 8); break;
	}
}

static void store_int(void *dst, size_t size, int64_t v)
{
	switch (size) {
	case 1: { int8_t x = (int8_t)v; memcpy(dst, &x, 1); break; }
	case 2: { int16_t x = (int16_t)v; memcpy(dst, &x, 2); break; }
	case 4: { int32_t x = (int32_t)v; memcpy(dst, &x, 4); break; }
	default: memcpy(dst, &v, 8); break;
	}
}

static uint64_t umax_of(size_t size)
{
	return size >= 8 ? UINT64_MAX : (1ull << (size * 8)) - 1;
}

/* Checks that the member size suits the type: a schema bug otherwise. */
static bool size_ok(const struct conf_field *f)
{
	switch (f->type) {
	case CONF_T_BOOL:
		return f->size == sizeof(bool);
	case CONF_T_INT:
	case CONF_T_UINT:
		return f->size == 1 || f->size == 2 || f->size == 4 || f->size == 8;
	case CONF_T_DURATION:
	case CONF_T_SIZE:
		return f->size == 4 || f->size == 8;
	case CONF_T_STRING:
	case CONF_T_PATH:
		return f->size == sizeof(char *);
	case CONF_T_ENUM:
		return f->size == sizeof(int) && f->names != NULL;
	case CONF_T_ADDR:
		return f->size == sizeof(struct roam_ipaddr);
	case CONF_T_PREFIX:
		return f->size == sizeof(struct roam_prefix);
	case CONF_T_SOCKADDR:
		return f->size == sizeof(struct roam_sockaddr);
	case CONF_T_HEX:
	case CONF_T_SECRET:
		return f->size == sizeof(struct conf_bytes);
	case CONF_T_MAP:
		return f->sub != NULL && f->size == f->sub->size;
	case CONF_T_LIST:
		if (f->size != sizeof(void *) || (f->sub == NULL) == (f->elem == NULL))
			return false;
		if (f->sub)
			return f->elem_size == f->sub->size;
		return f->elem_size == f->elem->size && f->elem->type != CONF_T_LIST &&
		       f->elem->type != CONF_T_MAP;
	}
	return false;
}

/* ---- freeing ---- */

static void free_value(const struct conf_field *f, void *dst)
{
	switch (f->type) {
	case CONF_T_STRING:
	case CONF_T_PATH: {
		char *s;
		memcpy(&s, dst, sizeof(s));
		free(s);
		s = NULL;
		memcpy(dst, &s, sizeof(s));
		break;
	}
	case CONF_T_HEX:
	case CONF_T_SECRET: {
		struct conf_bytes *b = dst;
		if (b->data) {
			explicit_bzero(b->data, b->len + 1);
			free(b->data);
		}
		b->data = NULL;
		b->len = 0;
		break;
	}
	case CONF_T_MAP:
		if (f->sub)
			conf_free(f->sub, dst);
		break;
	case CONF_T_LIST: {
		char *arr;
		size_t n;
		memcpy(&arr, dst, sizeof(arr));
		char *cntp = (char *)dst - f->offset + f->count_offset;
		memcpy(&n, cntp, sizeof(n));
		if (arr != NULL) {
			for (size_t i = 0; i < n; i++) {
				void *el = arr + i * f->elem_size;
				if (f->sub)
					conf_free(f->sub, el);
				else if (f->elem)
					free_value(f->elem, el);
			}
			free(arr);
		}
		arr = NULL;
		n = 0;
		memcpy(dst, &arr, sizeof(arr));
		memcpy(cntp, &n, sizeof(n));
		break;
	}
	default:
		break;
	}
}

void conf_free(const struct conf_schema *schema, void *obj)
{
	if (schema == NULL || obj == NULL)
		return;
	for (size_t i = 0; i < schema->nfields; i++) {
		const struct conf_field *f = &schema->fields[i];
		free_value(f, (char *)obj + f->offset);
	}
}

/* ---- loading ---- */

static void load_map(struct ctx *c, const struct conf_schema *s, const struct ynode *map,
                     bool present, void *obj);
static void load_value(struct ctx *c, const struct conf_field *f, const struct ynode *n,
                       void *dst);

static bool family_ok(struct ctx *c, const struct conf_field *f, const struct ynode *n, int fam,
                      const char *what)
{
	if ((f->flags & CONF_F_V4) && fam != AF_INET) {
		cerr(c, n, "expected an IPv4 %s, got '%s'", what, n->scalar);
		return false;
	}
	if ((f->flags & CONF_F_V6) && fam != AF_INET6) {
		cerr(c, n, "expected an IPv6 %s, got '%s'", what, n->scalar);
		return false;
	}
	return true;
}

/* A scalar that is not null, or an error.  Returns its text or NULL. */
static const char *need_scalar(struct ctx *c, const struct ynode *n, const char *what)
{
	if (n->type != YN_SCALAR) {
		cerr(c, n, "expected %s, got a %s", what, ynode_type_name(n));
		return NULL;
	}
	if (n->len != strlen(n->scalar)) {
		cerr(c, n, "contains a NUL byte");
		return NULL;
	}
	return n->scalar;
}

static bool len_ok(struct ctx *c, const struct ynode *n, const struct conf_field *f, size_t len,
                   size_t dflt_min, size_t dflt_max)
{
	uint64_t mn = f->umin ? f->umin : dflt_min, mx = f->umax ? f->umax : dflt_max;
	if (len < mn) {
		if (len == 0)
			cerr(c, n, "must not be empty");
		else
			cerr(c, n, "too short (%zu bytes, min %" PRIu64 ")", len, mn);
		return false;
	}
	if (len > mx) {
		cerr(c, n, "too long (%zu bytes, max %" PRIu64 ")", len, mx);
		return false;
	}
	return true;
}

static void load_int(struct ctx *c, const struct conf_field *f, const struct ynode *n, void *dst)
{
	if (n->type != YN_SCALAR) {
		cerr(c, n, "expected an integer, got a %s", ynode_type_name(n));
		return;
	}
	int64_t wmin = f->size >= 8 ? INT64_MIN : -(int64_t)(1ull << (f->size * 8 - 1));
	int64_t wmax = f->size >= 8 ? INT64_MAX : (int64_t)((1ull << (f->size * 8 - 1)) - 1);
	int64_t mn = wmin, mx = wmax;
	if (f->min || f->max) {
		mn = f->min > wmin ? f->min : wmin;
		/* .min alone (.max left 0 below it) means no upper bound but the type's. */
		int64_t fmax = f->max < f->min ? wmax : f->max;
		mx = fmax < wmax ? fmax : wmax;
	}
	int64_t v;
	int rc = ynode_int64(n, &v);
	if (rc == -EINVAL) {
		if (n->quoted)
			cerr(c, n, "expected an integer, got a quoted string");
		else if (n->scalar[0] == '0' && all_digits(n->scalar))
			cerr(c, n, "ambiguous leading zero in '%s' (write 0o%s for octal)", n->scalar,
			     n->scalar + 1);
		else
			cerr(c, n, "expected an integer, got '%s'", n->scalar);
		return;
	}
	if (rc < 0 || v < mn || v > mx) {
		cerr(c, n, "out of range (%" PRId64 "-%" PRId64 ")", mn, mx);
		return;
	}
	store_int(dst, f->size, v);
}

static void load_uint(struct ctx *c, const struct conf_field *f, const struct ynode *n, void *dst)
{
	uint64_t wmax = umax_of(f->size), mn = 0, mx = wmax, v;
	if (f->umin || f->umax) {
		mn = f->umin;
		mx = f->umax && f->umax < wmax ? f->umax : wmax;
	}
	char a[32], b[32];
	int rc;
	switch (f->type) {
	case CONF_T_UINT:
		if (n->type != YN_SCALAR) {
			cerr(c, n, "expected an integer, got a %s", ynode_type_name(n));
			return;
		}
		rc = ynode_uint64(n, &v);
		if (rc == -EINVAL) {
			if (n->quoted)
				cerr(c, n, "expected an integer, got a quoted string");
			else if (n->scalar[0] == '0' && all_digits(n->scalar))
				cerr(c, n, "ambiguous leading zero in '%s' (write 0o%s for octal)",
				     n->scalar, n->scalar + 1);
			else
				cerr(c, n, "expected a non-negative integer, got '%s'", n->scalar);
			return;
		}
		snprintf(a, sizeof(a), "%" PRIu64, mn);
		snprintf(b, sizeof(b), "%" PRIu64, mx);
		break;
	case CONF_T_DURATION: {
		const char *s = need_scalar(c, n, "a duration");
		if (s == NULL)
			return;
		rc = conf_parse_duration(s, &v);
		if (rc == -EINVAL) {
			if (all_digits(s))
				cerr(c, n, "duration needs a unit (e.g. %sms or %ss)", s, s);
			else
				cerr(c, n, "invalid duration '%s' (use e.g. 250ms, 30s, 5m, 1h, 1d)", s);
			return;
		}
		conf_fmt_duration(mn, a, sizeof(a));
		conf_fmt_duration(mx, b, sizeof(b));
		break;
	}
	default: { /* CONF_T_SIZE */
		const char *s = need_scalar(c, n, "a size");
		if (s == NULL)
			return;
		rc = conf_parse_size(s, &v);
		if (rc == -EINVAL) {
			cerr(c, n, "invalid size '%s' (use e.g. 4096, 64KiB, 1MiB)", s);
			return;
		}
		fmt_size(mn, a, sizeof(a));
		fmt_size(mx, b, sizeof(b));
		break;
	}
	}
	if (rc < 0 || v < mn || v > mx) {
		if (mx == UINT64_MAX && f->type == CONF_T_DURATION)
			snprintf(b, sizeof(b), "max");
		cerr(c, n, "out of range (%s-%s)", a, b);
		return;
	}
	store_uint(dst, f->size, v);
}

static void load_enum(struct ctx *c, const struct conf_field *f, const struct ynode *n, void *dst)
{
	const char *s = need_scalar(c, n, "a name");
	if (s == NULL)
		return;
	for (int i = 0; f->names[i]; i++) {
		if (strcmp(f->names[i], s) == 0) {
			memcpy(dst, &i, sizeof(i));
			return;
		}
	}
	char allowed[400];
	size_t len = 0;
	allowed[0] = '\0';
	for (int i = 0; f->names[i] && len < sizeof(allowed); i++) {
		int w = snprintf(allowed + len, sizeof(allowed) - len, "%s%s", i ? ", " : "",
		                 f->names[i]);
		if (w < 0)
			break;
		len += (size_t)w;
	}
	cerr(c, n, "invalid value '%s' (allowed: %s)", s, allowed);
}

static char *join_path(const char *dir, const char *p)
{
	char *out;
	if (p[0] == '/' || dir == NULL || dir[0] == '\0')
		return strdup(p);
	size_t dl = strlen(dir);
	if (asprintf(&out, "%s%s%s", dir, dir[dl - 1] == '/' ? "" : "/", p) < 0)
		return NULL;
	return out;
}

/* Reads a secret file into a malloc'd NUL-terminated buffer, one trailing newline stripped. */
static void load_secret_file(struct ctx *c, const struct ynode *n, const char *ref, size_t max,
                             char **out, size_t *outlen)
{
	*out = NULL;
	if (ref[0] == '\0') {
		cerr(c, n, "empty secret file name after 'file:'");
		return;
	}
	char *path = join_path(c->basedir, ref);
	if (path == NULL) {
		oom(c);
		return;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	struct stat st;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	if (fd < 0) {
		cerr(c, n, "cannot read secret file '%s': %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		cerr(c, n, "cannot read secret file '%s': %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		cerr(c, n, "secret file '%s' is not a regular file", path);
		goto out;
	}
	if (st.st_mode & (S_IRGRP | S_IWGRP | S_IROTH | S_IWOTH)) {
		cerr(c, n, "secret file '%s' is readable or writable by group or others (mode %04o; "
		           "chmod 600 it)", path, (unsigned)(st.st_mode & 07777));
		goto out;
	}
	if ((uint64_t)st.st_size > max) {
		cerr(c, n, "secret file '%s' is too large (max %zu bytes)", path, max);
		goto out;
	}
	/* sized by the file (a credentials file may be large), one byte more to see it grow */
	cap = (size_t)st.st_size + 1;
	buf = malloc(cap + 1);
	if (buf == NULL) {
		oom(c);
		goto out;
	}
	for (;;) {
		ssize_t r = read(fd, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			cerr(c, n, "cannot read secret file '%s': %s", path, strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len >= cap) {
			cerr(c, n, "secret file '%s' changed while being read", path);
			goto fail;
		}
	}
	if (len > 0 && buf[len - 1] == '\n') {
		len--;
		if (len > 0 && buf[len - 1] == '\r')
			len--;
	}
	buf[len] = '\0';
	if (memchr(buf, '\0', len) != NULL) {
		cerr(c, n, "secret file '%s' contains a NUL byte", path);
		goto fail;
	}
	*out = buf;
	*outlen = len;
	buf = NULL;
	goto out;
fail:
	explicit_bzero(buf, cap + 1);
	free(buf);
	buf = NULL;
out:
	if (fd >= 0)
		close(fd);
	free(path);
}

static void load_bytes(struct ctx *c, const struct conf_field *f, const struct ynode *n, void *dst)
{
	const char *s = need_scalar(c, n, f->type == CONF_T_HEX ? "hex bytes" : "a secret");
	if (s == NULL)
		return;
	struct conf_bytes b = { 0 };
	const char *why = NULL;
	if (f->type == CONF_T_HEX) {
		int rc = hex_decode(s, n->len, &b.data, &b.len, &why);
		if (rc == -ENOMEM) {
			oom(c);
			return;
		}
		if (rc < 0) {
			cerr(c, n, "invalid hex bytes: %s", why);
			return;
		}
		if (!len_ok(c, n, f, b.len, 0, CONF_HEX_MAX))
			goto bad;
		memcpy(dst, &b, sizeof(b));
		return;
	}
	/* CONF_T_SECRET */
	char *text;
	size_t tlen;
	if (strncmp(s, "file:", 5) == 0) {
		/* the field's own bound (hex: two digits a byte, and a newline), at least 64 KiB */
		size_t max = f->umax ? (size_t)f->umax * ((f->flags & CONF_F_HEX) ? 2 : 1) + 2 : 0;
		load_secret_file(c, n, s + 5, max > CONF_SECRET_FILE_MAX ? max : CONF_SECRET_FILE_MAX,
				 &text, &tlen);
		if (text == NULL)
			return;
	} else {
		tlen = n->len;
		text = malloc(tlen + 1);
		if (text == NULL) {
			oom(c);
			return;
		}
		memcpy(text, s, tlen + 1);
	}
	if (f->flags & CONF_F_HEX) {
		int rc = hex_decode(text, tlen, &b.data, &b.len, &why);
		explicit_bzero(text, tlen);
		free(text);
		if (rc == -ENOMEM) {
			oom(c);
			return;
		}
		if (rc < 0) {
			cerr(c, n, "invalid hex secret: %s", why);
			return;
		}
	} else {
		b.data = (uint8_t *)text;
		b.len = tlen;
	}
	if (!len_ok(c, n, f, b.len, 1, CONF_STRING_MAX))
		goto bad;
	memcpy(dst, &b, sizeof(b));
	return;
bad:
	explicit_bzero(b.data, b.len);
	free(b.data);
}

static void load_string(struct ctx *c, const struct conf_field *f, const struct ynode *n, void *dst)
{
	const char *s = need_scalar(c, n, f->type == CONF_T_PATH ? "a path" : "a string");
	if (s == NULL)
		return;
	if (f->type == CONF_T_PATH) {
		if (!len_ok(c, n, f, n->len, 1, PATH_MAX - 1))
			return;
		if ((f->flags & CONF_F_ABSOLUTE) && s[0] != '/') {
			cerr(c, n, "must be an absolute path, got '%s'", s);
			return;
		}
	} else if (!len_ok(c, n, f, n->len, 0, CONF_STRING_MAX)) {
		return;
	}
	char *copy = strdup(s);
	if (copy == NULL) {
		oom(c);
		return;
	}
	memcpy(dst, &copy, sizeof(copy));
}

static void load_addr(struct ctx *c, const struct conf_field *f, const struct ynode *n, void *dst)
{
	const char *s = need_scalar(c, n, "an IP address");
	if (s == NULL)
		return;
	switch (f->type) {
	case CONF_T_ADDR: {
		struct roam_ipaddr a;
		memset(&a, 0, sizeof(a));
		if (roam_ipaddr_parse(s, &a) < 0) {
			cerr(c, n, "invalid IP address '%s'", s);
			return;
		}
		if (!family_ok(c, f, n, a.family, "address"))
			return;
		memcpy(dst, &a, sizeof(a));
		return;
	}
	case CONF_T_PREFIX: {
		struct roam_prefix p;
		memset(&p, 0, sizeof(p));
		if (roam_prefix_parse(s, &p) < 0) {
			cerr(c, n, "invalid prefix '%s' (use e.g. 10.0.0.0/8 or 2001:db8::/32)", s);
			return;
		}
		if (!family_ok(c, f, n, p.addr.family, "prefix"))
			return;
		if (f->flags & CONF_F_NO_HOST_BITS) {
			struct roam_prefix m = p;
			roam_prefix_mask(&m);
			if (!roam_ipaddr_eq(&m.addr, &p.addr)) {
				char buf[ROAM_ADDRSTRLEN];
				cerr(c, n, "host bits set in '%s' (did you mean %s?)", s,
				     roam_prefix_fmt(&m, buf, sizeof(buf)));
				return;
			}
		}
		memcpy(dst, &p, sizeof(p));
		return;
	}
	default: { /* CONF_T_SOCKADDR */
		struct roam_sockaddr sa;
		memset(&sa, 0, sizeof(sa));
		int rc = roam_sockaddr_parse(s, f->port, &sa);
		if (rc == -ENODEV) {
			cerr(c, n, "unknown interface in '%s'", s);
			return;
		}
		if (rc < 0) {
			cerr(c, n, "invalid socket address '%s' (use e.g. 192.0.2.1:434 or "
			           "[2001:db8::1]:434)", s);
			return;
		}
		if (!family_ok(c, f, n, roam_sockaddr_family(&sa), "address"))
			return;
		memcpy(dst, &sa, sizeof(sa));
		return;
	}
	}
}

static void load_list(struct ctx *c, const struct conf_field *f, const struct ynode *n, void *dst)
{
	if (n->type != YN_SEQ) {
		cerr(c, n, "expected a sequence, got a %s", ynode_type_name(n));
		return;
	}
	uint64_t mx = f->umax ? f->umax : CONF_LIST_MAX;
	if (n->count > mx) {
		cerr(c, n, "too many items (%zu, max %" PRIu64 ")", n->count, mx);
		return;
	}
	if (n->count < f->umin) {
		cerr(c, n, "too few items (%zu, min %" PRIu64 ")", n->count, f->umin);
		return;
	}
	char *arr = NULL;
	if (n->count) {
		arr = calloc(n->count, f->elem_size);
		if (arr == NULL) {
			oom(c);
			return;
		}
	}
	/* Store pointer and count at once so that conf_free can clean up a partial load. */
	size_t cnt = n->count;
	memcpy(dst, &arr, sizeof(arr));
	memcpy((char *)dst - f->offset + f->count_offset, &cnt, sizeof(cnt));
	for (size_t i = 0; i < n->count; i++) {
		const struct ynode *it = n->items[i];
		void *el = arr + i * f->elem_size;
		size_t old = path_idx(c, i);
		if (ynode_is_null(it)) {
			cerr(c, it, "missing value");
		} else if (f->sub) {
			load_map(c, f->sub, it, true, el);
		} else {
			load_value(c, f->elem, it, el);
		}
		path_pop(c, old);
	}
}

static void load_value(struct ctx *c, const struct conf_field *f, const struct ynode *n, void *dst)
{
	switch (f->type) {
	case CONF_T_BOOL: {
		bool v;
		if (ynode_bool(n, &v) < 0) {
			if (n->type != YN_SCALAR)
				cerr(c, n, "expected a boolean (true/false), got a %s", ynode_type_name(n));
			else if (n->quoted)
				cerr(c, n, "expected a boolean (true/false), got a quoted string");
			else
				cerr(c, n, "expected a boolean (true/false), got '%s'", n->scalar);
			return;
		}
		memcpy(dst, &v, sizeof(v));
		return;
	}
	case CONF_T_INT:
		load_int(c, f, n, dst);
		return;
	case CONF_T_UINT:
	case CONF_T_DURATION:
	case CONF_T_SIZE:
		load_uint(c, f, n, dst);
		return;
	case CONF_T_STRING:
	case CONF_T_PATH:
		load_string(c, f, n, dst);
		return;
	case CONF_T_ENUM:
		load_enum(c, f, n, dst);
		return;
	case CONF_T_ADDR:
	case CONF_T_PREFIX:
	case CONF_T_SOCKADDR:
		load_addr(c, f, n, dst);
		return;
	case CONF_T_HEX:
	case CONF_T_SECRET:
		load_bytes(c, f, n, dst);
		return;
	case CONF_T_MAP:
		load_map(c, f->sub, n, true, dst);
		return;
	case CONF_T_LIST:
		load_list(c, f, n, dst);
		return;
	}
}

/* Applies a field's default (the field is absent). */
static void load_default(struct ctx *c, const struct conf_field *f, void *dst)
{
	if (f->type == CONF_T_MAP) {
		load_map(c, f->sub, NULL, false, dst);
		return;
	}
	if (f->dflt == NULL)
		return;
	c->in_default++;
	c->dflt_text = f->dflt;
	if (f->type == CONF_T_LIST) {
		struct ydoc *d = NULL;
		char err[256];
		int rc = ynode_load_string("<default>", f->dflt, strlen(f->dflt), &d, err, sizeof(err));
		if (rc == -ENOMEM)
			oom(c);
		else if (rc < 0)
			cerr(c, NULL, "%s", err);
		else if (ydoc_root(d) == NULL || ynode_is_null(ydoc_root(d)))
			(void)0; /* empty list */
		else
			load_list(c, f, ydoc_root(d), dst);
		ydoc_free(d);
	} else {
		struct ynode fake = { .type = YN_SCALAR, .scalar = f->dflt, .len = strlen(f->dflt),
		                      .line = 0, .col = 0 };
		load_value(c, f, &fake, dst);
	}
	c->in_default--;
	c->dflt_text = NULL;
}

static unsigned edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 63 || lb > 63)
		return 99;
	unsigned row[64];
	for (size_t j = 0; j <= lb; j++)
		row[j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++) {
		unsigned prev = row[0];
		row[0] = (unsigned)i;
		for (size_t j = 1; j <= lb; j++) {
			unsigned cur = row[j];
			unsigned best = prev + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = cur;
		}
	}
	return row[lb];
}

static void load_map(struct ctx *c, const struct conf_schema *s, const struct ynode *map,
                     bool present, void *obj)
{
	size_t nerr0 = c->nerr;
	if (map != NULL && map->type != YN_MAP) {
		cerr(c, map, "expected a map, got a %s", ynode_type_name(map));
		return;
	}
	/* Unknown keys, in document order. */
	for (size_t i = 0; map && i < map->count; i++) {
		const struct ynode *k = map->pairs[i].key;
		size_t j;
		for (j = 0; j < s->nfields; j++)
			if (strcmp(s->fields[j].key, k->scalar) == 0 && k->len == strlen(k->scalar))
				break;
		if (j < s->nfields)
			continue;
		size_t old = path_key(c, k->scalar);
		const char *best = NULL;
		unsigned bestd = 3;
		for (j = 0; j < s->nfields; j++) {
			unsigned d = edit_distance(k->scalar, s->fields[j].key);
			if (d < bestd && d < strlen(s->fields[j].key)) {
				bestd = d;
				best = s->fields[j].key;
			}
		}
		if (best)
			cerr(c, k, "unknown key (did you mean '%s'?)", best);
		else
			cerr(c, k, "unknown key");
		path_pop(c, old);
	}
	for (size_t i = 0; i < s->nfields; i++) {
		const struct conf_field *f = &s->fields[i];
		void *dst = (char *)obj + f->offset;
		size_t old = path_key(c, f->key);
		if (!size_ok(f)) {
			c->nerr++;
			char m[300];
			snprintf(m, sizeof(m), "schema bug in %s: member size or description does not "
			                       "suit the type", s->name ? s->name : "?");
			errs_add(c->errs, c->file, 0, 0, c->path, m);
			path_pop(c, old);
			continue;
		}
		const struct ynode *v = ynode_map_get(map, f->key);
		if (v != NULL && ynode_is_null(v))
			v = NULL;
		if (v != NULL) {
			load_value(c, f, v, dst);
		} else if ((f->flags & CONF_F_REQUIRED) && present) {
			const struct ynode *k = ynode_map_key(map, f->key);
			if (k != NULL)
				cerr(c, k, "missing value");
			else if (map != NULL)
				cerr(c, map, "required key missing");
			else {
				struct ynode top = { .type = YN_MAP, .line = 1, .col = 1 };
				cerr(c, &top, "required key missing");
			}
		} else {
			load_default(c, f, dst);
		}
		path_pop(c, old);
	}
	if (c->nerr == nerr0 && s->check != NULL) {
		const char *key = NULL;
		char msg[300] = "";
		if (s->check(obj, &key, msg, sizeof(msg)) < 0) {
			const struct ynode *at = key ? ynode_map_key(map, key) : NULL;
			if (at == NULL)
				at = map;
			size_t old = key ? path_key(c, key) : c->plen;
			struct ynode top = { .type = YN_MAP, .line = 1, .col = 1 };
			cerr(c, at ? at : &top, "%s", msg[0] ? msg : "invalid");
			path_pop(c, old);
		}
	}
}

/* Recovers the position from a "name:line:col: msg" message of the YAML loader. */
static void yaml_err(struct ctx *c, const char *name, const char *err)
{
	size_t nl = strlen(name);
	int line = 0, col = 0, off = 0;
	const char *msg = err;
	if (strncmp(err, name, nl) == 0 && err[nl] == ':') {
		msg = err + nl + 1;
		if (sscanf(msg, "%d:%d: %n", &line, &col, &off) == 2 && off > 0)
			msg += off;
		else {
			line = col = 0;
			while (*msg == ' ')
				msg++;
		}
	}
	c->nerr++;
	errs_add(c->errs, c->file, line, col, NULL, msg);
}

/* Sorts the errors appended since index `from` by position (stable), so that they read top
 * to bottom like a compiler's, whatever order the schema walk found them in. */
static void errs_sort(struct conf_errors *e, size_t from)
{
	if (e == NULL)
		return;
	for (size_t i = from + 1; i < e->count; i++) {
		struct conf_error x = e->v[i];
		size_t j = i;
		while (j > from && (e->v[j - 1].line > x.line ||
		                    (e->v[j - 1].line == x.line && e->v[j - 1].col > x.col))) {
			e->v[j] = e->v[j - 1];
			j--;
		}
		e->v[j] = x;
	}
}

static int finish(struct ctx *c, const struct conf_schema *schema, void *tmp, void *out)
{
	if (c->nerr) {
		conf_free(schema, tmp);
		free(tmp);
		return c->rc ? c->rc : -EINVAL;
	}
	memcpy(out, tmp, schema->size);
	free(tmp);
	return 0;
}

static int load_doc(struct ctx *c, const struct ynode *root, const struct conf_schema *schema,
                    void *out)
{
	void *tmp = calloc(1, schema->size ? schema->size : 1);
	if (tmp == NULL) {
		oom(c);
		return -ENOMEM;
	}
	if (root != NULL && ynode_is_null(root))
		root = NULL;
	if (root != NULL && root->type != YN_MAP)
		cerr(c, root, "expected a map at the top level, got a %s", ynode_type_name(root));
	else
		load_map(c, schema, root, true, tmp);
	return finish(c, schema, tmp, out);
}

int conf_load_node(const struct ynode *node, const char *file, const char *basedir,
                   const struct conf_schema *schema, void *out, struct conf_errors *errs)
{
	struct ctx c = { .file = file ? file : "<config>", .basedir = basedir, .errs = errs };
	size_t from = errs ? errs->count : 0;
	int rc = load_doc(&c, node, schema, out);
	errs_sort(errs, from);
	return rc;
}

static int load_text_or_file(const char *name, const char *text, const char *basedir,
                             const struct conf_schema *schema, void *out, struct conf_errors *errs)
{
	struct ctx c = { .file = name, .basedir = basedir, .errs = errs };
	size_t from = errs ? errs->count : 0;
	struct ydoc *d = NULL;
	char err[512];
	int rc;
	if (text != NULL)
		rc = ynode_load_string_flags(name, text, strlen(text), YLOAD_DEFER_DUPS, &d, err,
		                             sizeof(err));
	else
		rc = ynode_load_file_flags(name, YLOAD_DEFER_DUPS, &d, err, sizeof(err));
	if (rc < 0) {
		yaml_err(&c, name, err);
		return rc;
	}
	for (size_t i = 0; i < ydoc_ndiags(d); i++) {
		const struct ydiag *g = ydoc_diag(d, i);
		c.nerr++;
		errs_add(errs, name, g->line, g->col, g->path, g->msg);
	}
	rc = load_doc(&c, ydoc_root(d), schema, out);
	ydoc_free(d);
	errs_sort(errs, from);
	return rc;
}

int conf_load(const char *path, const struct conf_schema *schema, void *out,
              struct conf_errors *errs)
{
	char *dir = strdup(path);
	if (dir == NULL) {
		errs_add(errs, path, 0, 0, NULL, "out of memory");
		return -ENOMEM;
	}
	char *slash = strrchr(dir, '/');
	if (slash == NULL)
		dir[0] = '\0';
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	int rc = load_text_or_file(path, NULL, dir, schema, out, errs);
	free(dir);
	return rc;
}

int conf_load_string(const char *name, const char *text, const struct conf_schema *schema,
                     void *out, struct conf_errors *errs)
{
	return load_text_or_file(name ? name : "<string>", text ? text : "", NULL, schema, out,
	                         errs);
}

int conf_load_report(const char *path, const char *text, const struct conf_schema *schema,
                     void *out, enum conf_report how, char *err, size_t errlen)
{
	struct conf_errors errs;
	conf_errors_init(&errs);
	int r = text ? conf_load_string(path, text, schema, out, &errs)
		     : conf_load(path, schema, out, &errs);
	if (r < 0) {
		if (errs.count == 0) {
			if (how == CONF_REPORT_STDERR)
				fprintf(stderr, "%s: cannot load: %s\n", path, strerror(-r));
			else
				log_warnx("%s: cannot load: %s", path, strerror(-r));
		} else if (how == CONF_REPORT_STDERR) {
			conf_errors_print(&errs, stderr);
		} else {
			conf_errors_log(&errs);
		}
		if (err && errlen) {
			if (errs.count > 0)
				snprintf(err, errlen, "%s", errs.v[0].text);
			else
				snprintf(err, errlen, "%s: %s", path, strerror(-r));
		}
	}
	conf_errors_free(&errs);
	return r;
}
