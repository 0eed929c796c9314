/* JSON writer and parser (see roam/json.h). */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roam/json.h"

/* ================================ writer ================================ */

void json_writer_init(struct json_writer *w, struct wbuf *out)
{
	memset(w, 0, sizeof(*w));
	w->out = out;
}

int json_writer_err(const struct json_writer *w)
{
	if (w->err)
		return w->err;
	if (w->out->err)
		return w->out->err;
	if (w->depth != 0 || w->after_key)
		return -EINVAL;
	return 0;
}

/* Called before every value: writes the separating comma, checks a key is due in an object. */
static int value_begin(struct json_writer *w)
{
	if (w->err)
		return -1;
	uint8_t k = w->kind[w->depth];
	if (k == 'o') {
		if (!w->after_key) {
			w->err = -EINVAL;
			return -1;
		}
		w->after_key = false;
	} else if (k == 'a') {
		if (w->count[w->depth])
			wbuf_put_u8(w->out, ',');
		w->count[w->depth] = 1;
	} else {
		w->values++;
	}
	return 0;
}

static void open_container(struct json_writer *w, uint8_t kind, char c)
{
	if (value_begin(w) < 0)
		return;
	if (w->depth >= JSON_MAX_DEPTH) {
		w->err = -EINVAL;
		return;
	}
	wbuf_put_u8(w->out, (uint8_t)c);
	w->depth++;
	w->kind[w->depth] = kind;
	w->count[w->depth] = 0;
}

static void close_container(struct json_writer *w, uint8_t kind, char c)
{
	if (w->err)
		return;
	if (w->depth == 0 || w->kind[w->depth] != kind || w->after_key) {
		w->err = -EINVAL;
		return;
	}
	wbuf_put_u8(w->out, (uint8_t)c);
	w->depth--;
}

void json_obj_begin(struct json_writer *w) { open_container(w, 'o', '{'); }
void json_obj_end(struct json_writer *w) { close_container(w, 'o', '}'); }
void json_arr_begin(struct json_writer *w) { open_container(w, 'a', '['); }
void json_arr_end(struct json_writer *w) { close_container(w, 'a', ']'); }

/* Length of the valid UTF-8 sequence starting at s (n bytes available), or 0 if invalid
 * (overlong forms, surrogates and code points above U+10FFFF are invalid). */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	uint32_t cp;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

static void put_escaped(struct wbuf *out, const char *str, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;
	wbuf_put_u8(out, '"');
	size_t i = 0;
	while (i < n) {
		/* Copy a run of bytes that need no escaping in one go. */
		size_t j = i;
		while (j < n && s[j] >= 0x20 && s[j] < 0x80 && s[j] != '"' && s[j] != '\\')
			j++;
		if (j > i)
			wbuf_put_bytes(out, s + i, j - i);
		i = j;
		if (i >= n)
			break;
		unsigned char c = s[i];
		if (c >= 0x80) {
			size_t len = utf8_seq_len(s + i, n - i);
			if (len == 0) {
				wbuf_put_bytes(out, "\\ufffd", 6);
				i++;
			} else {
				wbuf_put_bytes(out, s + i, len);
				i += len;
			}
			continue;
		}
		char esc[6] = { '\\', 0, 0, 0, 0, 0 };
		size_t elen = 2;
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		default:
			esc[1] = 'u';
			esc[2] = '0';
			esc[3] = '0';
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			elen = 6;
		}
		wbuf_put_bytes(out, esc, elen);
		i++;
	}
	wbuf_put_u8(out, '"');
}

void json_key(struct json_writer *w, const char *key)
{
	if (w->err)
		return;
	if (w->kind[w->depth] != 'o' || w->after_key || !key) {
		w->err = -EINVAL;
		return;
	}
	if (w->count[w->depth])
		wbuf_put_u8(w->out, ',');
	w->count[w->depth] = 1;
	put_escaped(w->out, key, strlen(key));
	wbuf_put_u8(w->out, ':');
	w->after_key = true;
}

void json_strn(struct json_writer *w, const char *s, size_t n)
{
	if (!s) {
		json_null(w);
		return;
	}
	if (value_begin(w) < 0)
		return;
	put_escaped(w->out, s, n);
}

void json_str(struct json_writer *w, const char *s)
{
	json_strn(w, s, s ? strlen(s) : 0);
}

void json_int(struct json_writer *w, int64_t v)
{
	if (value_begin(w) < 0)
		return;
	wbuf_printf(w->out, "%" PRId64, v);
}

void json_uint(struct json_writer *w, uint64_t v)
{
	if (value_begin(w) < 0)
		return;
	wbuf_printf(w->out, "%" PRIu64, v);
}

void json_double(struct json_writer *w, double v)
{
	if (!isfinite(v)) {
		json_null(w);
		return;
	}
	if (value_begin(w) < 0)
		return;
	/* %.17g round-trips every double; integral values print without exponent up to 1e17. */
	char tmp[40];
	snprintf(tmp, sizeof(tmp), "%.17g", v);
	/* Prefer the shortest representation that reads back the same. */
	for (int prec = 1; prec < 17; prec++) {
		char t2[40];
		snprintf(t2, sizeof(t2), "%.*g", prec, v);
		if (strtod(t2, NULL) == v) {
			memcpy(tmp, t2, sizeof(tmp));
			break;
		}
	}
	wbuf_put_bytes(w->out, tmp, strlen(tmp));
}

void json_bool(struct json_writer *w, bool v)
{
	if (value_begin(w) < 0)
		return;
	if (v)
		wbuf_put_bytes(w->out, "true", 4);
	else
		wbuf_put_bytes(w->out, "false", 5);
}

void json_null(struct json_writer *w)
{
	if (value_begin(w) < 0)
		return;
	wbuf_put_bytes(w->out, "null", 4);
}

void json_raw(struct json_writer *w, const char *text, size_t n)
{
	if (value_begin(w) < 0)
		return;
	wbuf_put_bytes(w->out, text, n);
}

void json_kv_str(struct json_writer *w, const char *key, const char *s)
{
	json_key(w, key);
	json_str(w, s);
}

void json_kv_int(struct json_writer *w, const char *key, int64_t v)
{
	json_key(w, key);
	json_int(w, v);
}

void json_kv_uint(struct json_writer *w, const char *key, uint64_t v)
{
	json_key(w, key);
	json_uint(w, v);
}

void json_kv_bool(struct json_writer *w, const char *key, bool v)
{
	json_key(w, key);
	json_bool(w, v);
}

void json_kv_double(struct json_writer *w, const char *key, double v)
{
	json_key(w, key);
	json_double(w, v);
}

void json_write_value(struct json_writer *w, const struct json_value *v)
{
	if (!v) {
		json_null(w);
		return;
	}
	switch (v->type) {
	case JSON_NULL:
		json_null(w);
		break;
	case JSON_BOOL:
		json_bool(w, v->boolean);
		break;
	case JSON_NUMBER:
		if (v->str)
			json_raw(w, v->str, v->str_len);
		else
			json_double(w, v->num);
		break;
	case JSON_STRING:
		json_strn(w, v->str, v->str_len);
		break;
	case JSON_ARRAY:
		json_arr_begin(w);
		for (size_t i = 0; i < v->len; i++)
			json_write_value(w, v->items[i]);
		json_arr_end(w);
		break;
	case JSON_OBJECT:
		json_obj_begin(w);
		for (size_t i = 0; i < v->len; i++) {
			json_key(w, v->members[i].key);
			json_write_value(w, v->members[i].value);
		}
		json_obj_end(w);
		break;
	}
}

const char *json_type_name(enum json_type t)
{
	switch (t) {
	case JSON_NULL: return "null";
	case JSON_BOOL: return "boolean";
	case JSON_NUMBER: return "number";
	case JSON_STRING: return "string";
	case JSON_ARRAY: return "array";
	case JSON_OBJECT: return "object";
	}
	return "?";
}

/* ================================ parser ================================ */

struct jparser {
	const char *s;
	size_t len, pos;
	int err;
	char *msg;
	size_t msglen;
};

static int perr(struct jparser *p, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int perr(struct jparser *p, int code, const char *fmt, ...)
{
	if (p->err)
		return p->err;
	p->err = code;
	if (p->msg && p->msglen) {
		size_t line = 1, col = 1;
		for (size_t i = 0; i < p->pos && i < p->len; i++) {
			if (p->s[i] == '\n') {
				line++;
				col = 1;
			} else {
				col++;
			}
		}
		int n = snprintf(p->msg, p->msglen, "line %zu col %zu: ", line, col);
		if (n >= 0 && (size_t)n < p->msglen) {
			va_list ap;
			va_start(ap, fmt);
			vsnprintf(p->msg + n, p->msglen - (size_t)n, fmt, ap);
			va_end(ap);
		}
	}
	return code;
}

static void skip_ws(struct jparser *p)
{
	while (p->pos < p->len) {
		char c = p->s[p->pos];
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		p->pos++;
	}
}

static const char *describe(struct jparser *p)
{
	if (p->pos >= p->len)
		return "end of input";
	return "unexpected character";
}

static struct json_value *new_value(enum json_type t)
{
	struct json_value *v = calloc(1, sizeof(*v));
	if (v)
		v->type = t;
	return v;
}

static int hex4(struct jparser *p, uint32_t *out)
{
	if (p->len - p->pos < 4) {
		p->pos = p->len;
		return perr(p, -EINVAL, "truncated \\u escape");
	}
	uint32_t v = 0;
	for (int i = 0; i < 4; i++) {
		char c = p->s[p->pos];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (uint32_t)(c - 'A' + 10);
		else
			return perr(p, -EINVAL, "bad hex digit in \\u escape");
		p->pos++;
	}
	*out = v;
	return 0;
}

static void put_utf8(struct wbuf *b, uint32_t cp)
{
	if (cp < 0x80) {
		wbuf_put_u8(b, (uint8_t)cp);
	} else if (cp < 0x800) {
		wbuf_put_u8(b, (uint8_t)(0xc0 | (cp >> 6)));
		wbuf_put_u8(b, (uint8_t)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		wbuf_put_u8(b, (uint8_t)(0xe0 | (cp >> 12)));
		wbuf_put_u8(b, (uint8_t)(0x80 | ((cp >> 6) & 0x3f)));
		wbuf_put_u8(b, (uint8_t)(0x80 | (cp & 0x3f)));
	} else {
		wbuf_put_u8(b, (uint8_t)(0xf0 | (cp >> 18)));
		wbuf_put_u8(b, (uint8_t)(0x80 | ((cp >> 12) & 0x3f)));
		wbuf_put_u8(b, (uint8_t)(0x80 | ((cp >> 6) & 0x3f)));
		wbuf_put_u8(b, (uint8_t)(0x80 | (cp & 0x3f)));
	}
}

/* Parses a string starting at the opening quote; *out is malloc'd, NUL-terminated. */
static int parse_string(struct jparser *p, char **out, size_t *outlen)
{
	struct wbuf b;
	wbuf_init(&b);
	p->pos++; /* opening quote */
	for (;;) {
		if (p->pos >= p->len) {
			perr(p, -EINVAL, "unterminated string");
			goto fail;
		}
		unsigned char c = (unsigned char)p->s[p->pos];
		if (c == '"') {
			p->pos++;
			break;
		}
		if (c < 0x20) {
			perr(p, -EINVAL, "control character in string");
			goto fail;
		}
		if (c == '\\') {
			p->pos++;
			if (p->pos >= p->len) {
				perr(p, -EINVAL, "unterminated string");
				goto fail;
			}
			char e = p->s[p->pos++];
			switch (e) {
			case '"': wbuf_put_u8(&b, '"'); break;
			case '\\': wbuf_put_u8(&b, '\\'); break;
			case '/': wbuf_put_u8(&b, '/'); break;
			case 'b': wbuf_put_u8(&b, '\b'); break;
			case 'f': wbuf_put_u8(&b, '\f'); break;
			case 'n': wbuf_put_u8(&b, '\n'); break;
			case 'r': wbuf_put_u8(&b, '\r'); break;
			case 't': wbuf_put_u8(&b, '\t'); break;
			case 'u': {
				uint32_t cp;
				if (hex4(p, &cp) < 0)
					goto fail;
				if (cp >= 0xdc00 && cp <= 0xdfff) {
					perr(p, -EINVAL, "unpaired low surrogate in \\u escape");
					goto fail;
				}
				if (cp >= 0xd800 && cp <= 0xdbff) {
					uint32_t lo;
					if (p->len - p->pos < 2 || p->s[p->pos] != '\\' ||
					    p->s[p->pos + 1] != 'u') {
						perr(p, -EINVAL, "unpaired high surrogate in \\u escape");
						goto fail;
					}
					p->pos += 2;
					if (hex4(p, &lo) < 0)
						goto fail;
					if (lo < 0xdc00 || lo > 0xdfff) {
						perr(p, -EINVAL, "bad low surrogate in \\u escape");
						goto fail;
					}
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				}
				if (cp == 0) {
					perr(p, -EINVAL, "\\u0000 not allowed in strings");
					goto fail;
				}
				put_utf8(&b, cp);
				break;
			}
			default:
				p->pos--;
				perr(p, -EINVAL, "bad escape '\\%c'",
				     (e >= 0x20 && e < 0x7f) ? e : '?');
				goto fail;
			}
			continue;
		}
		if (c >= 0x80) {
			size_t l = utf8_seq_len((const unsigned char *)p->s + p->pos,
						p->len - p->pos);
			if (l == 0) {
				perr(p, -EINVAL, "invalid UTF-8 in string");
				goto fail;
			}
			wbuf_put_bytes(&b, p->s + p->pos, l);
			p->pos += l;
			continue;
		}
		/* Plain run. */
		size_t j = p->pos;
		while (j < p->len && (unsigned char)p->s[j] >= 0x20 &&
		       (unsigned char)p->s[j] < 0x80 && p->s[j] != '"' && p->s[j] != '\\')
			j++;
		wbuf_put_bytes(&b, p->s + p->pos, j - p->pos);
		p->pos = j;
	}
	wbuf_put_u8(&b, 0);
	if (b.err) {
		perr(p, -ENOMEM, "out of memory");
		goto fail;
	}
	*outlen = b.len - 1;
	*out = (char *)b.buf; /* ownership moves to the tree */
	return 0;
fail:
	wbuf_free(&b);
	return p->err ? p->err : -EINVAL;
}

static int parse_number(struct jparser *p, struct json_value *v)
{
	size_t start = p->pos;
	bool integral = true;
	if (p->pos < p->len && p->s[p->pos] == '-')
		p->pos++;
	if (p->pos >= p->len)
		return perr(p, -EINVAL, "truncated number");
	if (p->s[p->pos] == '0') {
		p->pos++;
	} else if (p->s[p->pos] >= '1' && p->s[p->pos] <= '9') {
		while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
			p->pos++;
	} else {
		return perr(p, -EINVAL, "bad number");
	}
	if (p->pos < p->len && p->s[p->pos] == '.') {
		integral = false;
		p->pos++;
		if (p->pos >= p->len || p->s[p->pos] < '0' || p->s[p->pos] > '9')
			return perr(p, -EINVAL, "digit expected after '.'");
		while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
			p->pos++;
	}
	if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
		integral = false;
		p->pos++;
		if (p->pos < p->len && (p->s[p->pos] == '+' || p->s[p->pos] == '-'))
			p->pos++;
		if (p->pos >= p->len || p->s[p->pos] < '0' || p->s[p->pos] > '9')
			return perr(p, -EINVAL, "digit expected in exponent");
		while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
			p->pos++;
	}
	size_t n = p->pos - start;
	v->str = malloc(n + 1);
	if (!v->str)
		return perr(p, -ENOMEM, "out of memory");
	memcpy(v->str, p->s + start, n);
	v->str[n] = 0;
	v->str_len = n;
	errno = 0;
	double d = strtod(v->str, NULL);
	if (!isfinite(d)) {
		p->pos = start;
		return perr(p, -EINVAL, "number out of range");
	}
	v->num = d;
	if (integral) {
		errno = 0;
		long long ll = strtoll(v->str, NULL, 10);
		if (errno == 0) {
			v->integer = ll;
			v->is_int = true;
		}
	} else if (d == floor(d) && d >= -9223372036854775808.0 && d < 9223372036854775808.0) {
		v->integer = (int64_t)d;
		v->is_int = true;
	}
	return 0;
}

static int parse_value(struct jparser *p, struct json_value **out, int depth);

static int parse_array(struct jparser *p, struct json_value *v, int depth)
{
	size_t cap = 0;
	p->pos++; /* [ */
	skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == ']') {
		p->pos++;
		return 0;
	}
	for (;;) {
		struct json_value *item;
		int r = parse_value(p, &item, depth);
		if (r < 0)
			return r;
		if (v->len == cap) {
			size_t nc = cap ? cap * 2 : 4;
			struct json_value **ni = realloc(v->items, nc * sizeof(*ni));
			if (!ni) {
				json_free(item);
				return perr(p, -ENOMEM, "out of memory");
			}
			v->items = ni;
			cap = nc;
		}
		v->items[v->len++] = item;
		skip_ws(p);
		if (p->pos >= p->len)
			return perr(p, -EINVAL, "unterminated array");
		char c = p->s[p->pos];
		if (c == ',') {
			p->pos++;
			continue;
		}
		if (c == ']') {
			p->pos++;
			return 0;
		}
		return perr(p, -EINVAL, "expected ',' or ']' in array");
	}
}

static int parse_object(struct jparser *p, struct json_value *v, int depth)
{
	size_t cap = 0;
	p->pos++; /* { */
	skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == '}') {
		p->pos++;
		return 0;
	}
	for (;;) {
		skip_ws(p);
		if (p->pos >= p->len)
			return perr(p, -EINVAL, "unterminated object");
		if (p->s[p->pos] != '"')
			return perr(p, -EINVAL, "expected string key in object");
		char *key;
		size_t klen;
		int r = parse_string(p, &key, &klen);
		if (r < 0)
			return r;
		skip_ws(p);
		if (p->pos >= p->len || p->s[p->pos] != ':') {
			free(key);
			return perr(p, -EINVAL, "expected ':' after object key");
		}
		p->pos++;
		struct json_value *val;
		r = parse_value(p, &val, depth);
		if (r < 0) {
			free(key);
			return r;
		}
		if (v->len == cap) {
			size_t nc = cap ? cap * 2 : 4;
			struct json_member *nm = realloc(v->members, nc * sizeof(*nm));
			if (!nm) {
				free(key);
				json_free(val);
				return perr(p, -ENOMEM, "out of memory");
			}
			v->members = nm;
			cap = nc;
		}
		v->members[v->len].key = key;
		v->members[v->len].value = val;
		v->len++;
		skip_ws(p);
		if (p->pos >= p->len)
			return perr(p, -EINVAL, "unterminated object");
		char c = p->s[p->pos];
		if (c == ',') {
			p->pos++;
			continue;
		}
		if (c == '}') {
			p->pos++;
			return 0;
		}
		return perr(p, -EINVAL, "expected ',' or '}' in object");
	}
}

static int parse_literal(struct jparser *p, const char *word)
{
	size_t n = strlen(word);
	if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
		return perr(p, -EINVAL, "invalid literal (expected '%s')", word);
	p->pos += n;
	return 0;
}

/* Parses one value; on failure *out is NULL and everything allocated is freed. */
static int parse_value(struct jparser *p, struct json_value **out, int depth)
{
	*out = NULL;
	skip_ws(p);
	if (p->pos >= p->len)
		return perr(p, -EINVAL, "value expected, got %s", describe(p));
	char c = p->s[p->pos];
	struct json_value *v = NULL;
	int r;
	switch (c) {
	case '{':
	case '[':
		if (depth >= JSON_MAX_DEPTH)
			return perr(p, -E2BIG, "nesting deeper than %d", JSON_MAX_DEPTH);
		v = new_value(c == '{' ? JSON_OBJECT : JSON_ARRAY);
		if (!v)
			return perr(p, -ENOMEM, "out of memory");
		r = c == '{' ? parse_object(p, v, depth + 1) : parse_array(p, v, depth + 1);
		break;
	case '"':
		v = new_value(JSON_STRING);
		if (!v)
			return perr(p, -ENOMEM, "out of memory");
		r = parse_string(p, &v->str, &v->str_len);
		break;
	case 't':
	case 'f':
		v = new_value(JSON_BOOL);
		if (!v)
			return perr(p, -ENOMEM, "out of memory");
		v->boolean = c == 't';
		r = parse_literal(p, c == 't' ? "true" : "false");
		break;
	case 'n':
		v = new_value(JSON_NULL);
		if (!v)
			return perr(p, -ENOMEM, "out of memory");
		r = parse_literal(p, "null");
		break;
	default:
		if (c == '-' || (c >= '0' && c <= '9')) {
			v = new_value(JSON_NUMBER);
			if (!v)
				return perr(p, -ENOMEM, "out of memory");
			r = parse_number(p, v);
			break;
		}
		return perr(p, -EINVAL, "unexpected character '%c'",
			    (c >= 0x20 && c < 0x7f) ? c : '?');
	}
	if (r < 0) {
		json_free(v);
		return r;
	}
	*out = v;
	return 0;
}

int json_parse(const char *text, size_t len, struct json_value **out, char *err, size_t errlen)
{
	struct jparser p = { .s = text, .len = len, .msg = err, .msglen = errlen };
	*out = NULL;
	if (err && errlen)
		err[0] = 0;
	if (len > JSON_MAX_INPUT)
		return perr(&p, -E2BIG, "input larger than %d bytes", JSON_MAX_INPUT);
	if (!text && len)
		return perr(&p, -EINVAL, "no input");
	struct json_value *v;
	int r = parse_value(&p, &v, 0);
	if (r < 0)
		return r;
	skip_ws(&p);
	if (p.pos != p.len) {
		json_free(v);
		return perr(&p, -EINVAL, "trailing characters after the value");
	}
	*out = v;
	return 0;
}

void json_free(struct json_value *v)
{
	if (!v)
		return;
	free(v->str);
	for (size_t i = 0; v->type == JSON_ARRAY && i < v->len; i++)
		json_free(v->items[i]);
	free(v->items);
	for (size_t i = 0; v->type == JSON_OBJECT && i < v->len; i++) {
		free(v->members[i].key);
		json_free(v->members[i].value);
	}
	free(v->members);
	free(v);
}

/* ================================ access ================================ */

const struct json_value *json_get(const struct json_value *obj, const char *key)
{
	if (!obj || obj->type != JSON_OBJECT || !key)
		return NULL;
	for (size_t i = 0; i < obj->len; i++)
		if (strcmp(obj->members[i].key, key) == 0)
			return obj->members[i].value;
	return NULL;
}

size_t json_array_len(const struct json_value *arr)
{
	return (arr && arr->type == JSON_ARRAY) ? arr->len : 0;
}

const struct json_value *json_array_at(const struct json_value *arr, size_t i)
{
	if (!arr || arr->type != JSON_ARRAY || i >= arr->len)
		return NULL;
	return arr->items[i];
}

int json_get_str(const struct json_value *obj, const char *key, const char **out)
{
	const struct json_value *v = json_get(obj, key);
	if (!v)
		return -ENOENT;
	if (v->type != JSON_STRING)
		return -EINVAL;
	*out = v->str;
	return 0;
}

int json_get_int64(const struct json_value *obj, const char *key, int64_t *out)
{
	const struct json_value *v = json_get(obj, key);
	if (!v)
		return -ENOENT;
	if (v->type != JSON_NUMBER || !v->is_int)
		return -EINVAL;
	*out = v->integer;
	return 0;
}

int json_get_bool(const struct json_value *obj, const char *key, bool *out)
{
	const struct json_value *v = json_get(obj, key);
	if (!v)
		return -ENOENT;
	if (v->type != JSON_BOOL)
		return -EINVAL;
	*out = v->boolean;
	return 0;
}

int json_get_double(const struct json_value *obj, const char *key, double *out)
{
	const struct json_value *v = json_get(obj, key);
	if (!v)
		return -ENOENT;
	if (v->type != JSON_NUMBER)
		return -EINVAL;
	*out = v->num;
	return 0;
}
