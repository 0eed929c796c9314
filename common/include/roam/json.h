/* JSON: a streaming writer over a wbuf and a small tree parser, for the control socket
 * (docs/protocols/control.md) and for anything else that speaks JSON (snapshots, bench results).
 *
 * Writer: commas and nesting are automatic; inside an object every value is preceded by
 * json_key() (or use the json_kv_* helpers).  Misuse (a value without a key inside an object, a
 * key outside an object, unbalanced end calls, nesting deeper than JSON_MAX_DEPTH) sets a sticky
 * error, like the wbuf's own; check json_writer_err() once at the end.
 *
 * Parser: RFC 8259 text into a tree.  Limits: nesting depth JSON_MAX_DEPTH, input JSON_MAX_INPUT
 * bytes.  Strings must be valid UTF-8 and may not contain NUL (\u0000 is rejected), so every
 * string in the tree is a C string.  Duplicate object keys are kept in order; json_get() returns
 * the first. */
#ifndef ROAM_JSON_H
#define ROAM_JSON_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "roam/buf.h"

#define JSON_MAX_DEPTH 32
#define JSON_MAX_INPUT (1024 * 1024)

/* ---- writer ---- */

struct json_writer {
	struct wbuf *out;     /* borrowed */
	int depth;
	int err;              /* 0 or -EINVAL (misuse); see json_writer_err() */
	unsigned values;      /* values written at the top level */
	bool after_key;       /* a key was written, its value is due */
	uint8_t kind[JSON_MAX_DEPTH + 1];  /* per level: 0 top, 'o' object, 'a' array */
	uint8_t count[JSON_MAX_DEPTH + 1]; /* per level: 0 empty so far, 1 has members */
};

/* Starts writing at the end of `out` (borrowed; must outlive the writer). */
void json_writer_init(struct json_writer *w, struct wbuf *out);
/* 0, the writer's misuse error (-EINVAL), or the wbuf's error (-ENOMEM/-ENOSPC).  Also -EINVAL
 * when containers are still open. */
int json_writer_err(const struct json_writer *w);

void json_obj_begin(struct json_writer *w);
void json_obj_end(struct json_writer *w);
void json_arr_begin(struct json_writer *w);
void json_arr_end(struct json_writer *w);
/* Object member name; the next call writes its value. */
void json_key(struct json_writer *w, const char *key);
/* Strings are escaped: '"', '\\', and control characters (\n \r \t \b \f, others \u00XX); valid
 * UTF-8 passes through; each byte of an invalid UTF-8 sequence is written as \ufffd.
 * json_str(w, NULL) writes null. */
void json_str(struct json_writer *w, const char *s);
void json_strn(struct json_writer *w, const char *s, size_t n);
void json_int(struct json_writer *w, int64_t v);
void json_uint(struct json_writer *w, uint64_t v);
/* NaN and infinities (not representable in JSON) are written as null. */
void json_double(struct json_writer *w, double v);
void json_bool(struct json_writer *w, bool v);
void json_null(struct json_writer *w);
/* Writes a value that is already valid JSON text, as is (the caller vouches for it). */
void json_raw(struct json_writer *w, const char *text, size_t n);

void json_kv_str(struct json_writer *w, const char *key, const char *s);
void json_kv_int(struct json_writer *w, const char *key, int64_t v);
void json_kv_uint(struct json_writer *w, const char *key, uint64_t v);
void json_kv_bool(struct json_writer *w, const char *key, bool v);
void json_kv_double(struct json_writer *w, const char *key, double v);

/* ---- parser ---- */

enum json_type { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

struct json_member;

struct json_value {
	enum json_type type;
	bool boolean;               /* JSON_BOOL */
	double num;                 /* JSON_NUMBER: the value as a double */
	int64_t integer;            /* JSON_NUMBER: the value, when is_int */
	bool is_int;                /* JSON_NUMBER: integral and within int64 */
	/* JSON_STRING: the decoded string (NUL-terminated, no embedded NUL);
	 * JSON_NUMBER: the literal text as it appeared in the input (exact, for large integers). */
	char *str;
	size_t str_len;
	size_t len;                 /* JSON_ARRAY: items; JSON_OBJECT: members */
	struct json_value **items;  /* JSON_ARRAY */
	struct json_member *members;/* JSON_OBJECT, in input order */
};

struct json_member {
	char *key;
	struct json_value *value;
};

/* Parses `len` bytes of `text` (need not be NUL-terminated) holding exactly one JSON value
 * (whitespace around it allowed).  On success *out is a tree the caller owns (json_free()).
 * Errors: -EINVAL (syntax, bad escape or UTF-8, trailing garbage, number out of double range),
 * -E2BIG (input over JSON_MAX_INPUT or nesting over JSON_MAX_DEPTH), -ENOMEM; `err` (may be NULL)
 * then holds a message such as "line 1 col 7: expected ':' after object key". */
int json_parse(const char *text, size_t len, struct json_value **out, char *err, size_t errlen);
/* Frees a tree from json_parse(); NULL is fine. */
void json_free(struct json_value *v);

/* Member `key` of an object (the first if repeated); NULL if v is not an object or has none. */
const struct json_value *json_get(const struct json_value *obj, const char *key);
/* Number of items of an array (0 if v is not an array). */
size_t json_array_len(const struct json_value *arr);
/* Item i of an array; NULL if out of range or not an array. */
const struct json_value *json_array_at(const struct json_value *arr, size_t i);

/* Typed member getters: 0 and the value in *out, -ENOENT if the member is missing (or obj is
 * not an object), -EINVAL if it has another type (for int64: not an integer within int64).
 * Strings are borrowed from the tree. */
int json_get_str(const struct json_value *obj, const char *key, const char **out);
int json_get_int64(const struct json_value *obj, const char *key, int64_t *out);
int json_get_bool(const struct json_value *obj, const char *key, bool *out);
int json_get_double(const struct json_value *obj, const char *key, double *out);

/* Writes a parsed tree back as compact JSON (numbers as their literal text). */
void json_write_value(struct json_writer *w, const struct json_value *v);
/* "null", "boolean", "number", "string", "array", "object". */
const char *json_type_name(enum json_type t);

#endif
