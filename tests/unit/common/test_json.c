/* Tests of the JSON writer and parser (common/util/json.c). */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "roam/json.h"

/* Writes with the callback and compares the text. */
#define EXPECT_JSON(body, expected)                                                         \
	do {                                                                                \
		struct wbuf b_;                                                             \
		struct json_writer w_;                                                      \
		wbuf_init(&b_);                                                             \
		json_writer_init(&w_, &b_);                                                 \
		struct json_writer *w = &w_;                                                \
		body;                                                                       \
		cr_assert_eq(json_writer_err(&w_), 0, "writer error %d", json_writer_err(&w_)); \
		cr_assert_str_eq(wbuf_str(&b_), expected);                                  \
		wbuf_free(&b_);                                                             \
	} while (0)

Test(json_writer, scalars_and_nesting)
{
	EXPECT_JSON({
		json_obj_begin(w);
		json_kv_str(w, "name", "hlrd");
		json_kv_int(w, "neg", -42);
		json_kv_uint(w, "big", UINT64_MAX);
		json_kv_bool(w, "t", true);
		json_key(w, "n");
		json_null(w);
		json_key(w, "list");
		json_arr_begin(w);
		json_int(w, 1);
		json_arr_begin(w);
		json_arr_end(w);
		json_obj_begin(w);
		json_obj_end(w);
		json_str(w, "x");
		json_arr_end(w);
		json_obj_end(w);
	}, "{\"name\":\"hlrd\",\"neg\":-42,\"big\":18446744073709551615,\"t\":true,\"n\":null,"
	   "\"list\":[1,[],{},\"x\"]}");
	EXPECT_JSON(json_int(w, INT64_MIN), "-9223372036854775808");
	EXPECT_JSON(json_double(w, 0.5), "0.5");
	EXPECT_JSON(json_double(w, 0.1), "0.1");
	EXPECT_JSON(json_double(w, 1e300), "1e+300");
	EXPECT_JSON(json_double(w, NAN), "null");
	EXPECT_JSON(json_double(w, INFINITY), "null");
	EXPECT_JSON(json_str(w, NULL), "null");
	EXPECT_JSON(json_bool(w, false), "false");
}

Test(json_writer, escapes)
{
	EXPECT_JSON(json_str(w, "a\"b\\c/d"), "\"a\\\"b\\\\c/d\"");
	EXPECT_JSON(json_str(w, "\n\r\t\b\f"), "\"\\n\\r\\t\\b\\f\"");
	EXPECT_JSON(json_strn(w, "\x01\x1f\x7f", 3), "\"\\u0001\\u001f\x7f\"");
	EXPECT_JSON(json_strn(w, "a\0b", 3), "\"a\\u0000b\"");
	/* Valid UTF-8 passes through: é, €, U+1F600. */
	EXPECT_JSON(json_str(w, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"),
		    "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");
	/* Invalid: lone continuation, truncated sequence, overlong '/', surrogate, > U+10FFFF. */
	EXPECT_JSON(json_str(w, "\x80"), "\"\\ufffd\"");
	EXPECT_JSON(json_str(w, "a\xe2\x82"), "\"a\\ufffd\\ufffd\"");
	EXPECT_JSON(json_str(w, "\xc0\xaf"), "\"\\ufffd\\ufffd\"");
	EXPECT_JSON(json_str(w, "\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\"");
	EXPECT_JSON(json_str(w, "\xf4\x90\x80\x80"), "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
	/* Keys are escaped too. */
	EXPECT_JSON({
		json_obj_begin(w);
		json_kv_int(w, "k\"\n", 1);
		json_obj_end(w);
	}, "{\"k\\\"\\n\":1}");
}

static int misuse(void (*fn)(struct json_writer *))
{
	struct wbuf b;
	struct json_writer w;
	wbuf_init(&b);
	json_writer_init(&w, &b);
	fn(&w);
	int r = json_writer_err(&w);
	wbuf_free(&b);
	return r;
}

static void m_value_without_key(struct json_writer *w) { json_obj_begin(w); json_int(w, 1); json_obj_end(w); }
static void m_key_in_array(struct json_writer *w) { json_arr_begin(w); json_key(w, "a"); json_arr_end(w); }
static void m_key_at_top(struct json_writer *w) { json_key(w, "a"); }
static void m_unbalanced(struct json_writer *w) { json_obj_begin(w); }
static void m_wrong_end(struct json_writer *w) { json_obj_begin(w); json_arr_end(w); }
static void m_extra_end(struct json_writer *w) { json_arr_end(w); }
static void m_dangling_key(struct json_writer *w) { json_obj_begin(w); json_key(w, "a"); json_obj_end(w); }
static void m_too_deep(struct json_writer *w)
{
	for (int i = 0; i <= JSON_MAX_DEPTH; i++)
		json_arr_begin(w);
}

Test(json_writer, misuse_is_sticky_error)
{
	cr_assert_eq(misuse(m_value_without_key), -EINVAL);
	cr_assert_eq(misuse(m_key_in_array), -EINVAL);
	cr_assert_eq(misuse(m_key_at_top), -EINVAL);
	cr_assert_eq(misuse(m_unbalanced), -EINVAL);
	cr_assert_eq(misuse(m_wrong_end), -EINVAL);
	cr_assert_eq(misuse(m_extra_end), -EINVAL);
	cr_assert_eq(misuse(m_dangling_key), -EINVAL);
	cr_assert_eq(misuse(m_too_deep), -EINVAL);
}

Test(json_writer, fixed_buffer_overflow)
{
	char store[8];
	struct wbuf b;
	struct json_writer w;
	wbuf_init_fixed(&b, store, sizeof(store));
	json_writer_init(&w, &b);
	json_str(&w, "much too long for eight bytes");
	cr_assert_eq(json_writer_err(&w), -ENOSPC);
}

static struct json_value *parse_ok(const char *s)
{
	struct json_value *v = NULL;
	char err[128];
	int r = json_parse(s, strlen(s), &v, err, sizeof(err));
	cr_assert_eq(r, 0, "parse of '%s' failed: %s", s, err);
	cr_assert_not_null(v);
	return v;
}

static int parse_err(const char *s, size_t len, char *err, size_t errlen)
{
	struct json_value *v = (struct json_value *)0x1;
	int r = json_parse(s, len, &v, err, errlen);
	cr_assert_lt(r, 0, "'%.*s' parsed but should not", (int)len, s);
	cr_assert_null(v);
	if (err)
		cr_assert_gt(strlen(err), 0, "no error message for '%.*s'", (int)len, s);
	return r;
}

static char *rewrite(const struct json_value *v)
{
	struct wbuf b;
	struct json_writer w;
	wbuf_init(&b);
	json_writer_init(&w, &b);
	json_write_value(&w, v);
	cr_assert_eq(json_writer_err(&w), 0);
	char *s = strdup(wbuf_str(&b));
	wbuf_free(&b);
	return s;
}

Test(json_parser, values_and_getters)
{
	struct json_value *v = parse_ok(
		" {\"s\":\"a\\u00e9\\ud83d\\ude00\\n\",\"i\":-12,\"d\":2.5,\"e\":1e3,\"t\":true,"
		"\"f\":false,\"n\":null,\"a\":[1,\"two\",[3]],\"o\":{\"k\":\"v\"},"
		"\"big\":18446744073709551615,\"dup\":1,\"dup\":2} ");
	cr_assert_eq(v->type, JSON_OBJECT);
	const char *s;
	cr_assert_eq(json_get_str(v, "s", &s), 0);
	cr_assert_str_eq(s, "a\xc3\xa9\xf0\x9f\x98\x80\n");
	int64_t i;
	cr_assert_eq(json_get_int64(v, "i", &i), 0);
	cr_assert_eq(i, -12);
	cr_assert_eq(json_get_int64(v, "e", &i), 0);
	cr_assert_eq(i, 1000);
	cr_assert_eq(json_get_int64(v, "d", &i), -EINVAL);
	double d;
	cr_assert_eq(json_get_double(v, "d", &d), 0);
	cr_assert_float_eq(d, 2.5, 1e-12);
	bool b;
	cr_assert_eq(json_get_bool(v, "t", &b), 0);
	cr_assert(b);
	cr_assert_eq(json_get_bool(v, "f", &b), 0);
	cr_assert(!b);
	cr_assert_eq(json_get(v, "n")->type, JSON_NULL);
	cr_assert_eq(json_get_str(v, "missing", &s), -ENOENT);
	cr_assert_eq(json_get_str(v, "i", &s), -EINVAL);
	cr_assert_eq(json_get_int64(v, "s", &i), -EINVAL);
	cr_assert_eq(json_get_bool(v, "n", &b), -EINVAL);
	/* A uint64 beyond int64 is a number, not an int64, but keeps its exact text. */
	const struct json_value *big = json_get(v, "big");
	cr_assert_eq(big->type, JSON_NUMBER);
	cr_assert(!big->is_int);
	cr_assert_eq(json_get_int64(v, "big", &i), -EINVAL);
	cr_assert_str_eq(big->str, "18446744073709551615");
	/* First of duplicate keys. */
	cr_assert_eq(json_get_int64(v, "dup", &i), 0);
	cr_assert_eq(i, 1);
	const struct json_value *a = json_get(v, "a");
	cr_assert_eq(json_array_len(a), 3);
	cr_assert_eq(json_array_at(a, 0)->integer, 1);
	cr_assert_str_eq(json_array_at(a, 1)->str, "two");
	cr_assert_eq(json_array_len(json_array_at(a, 2)), 1);
	cr_assert_null(json_array_at(a, 3));
	cr_assert_eq(json_array_len(v), 0);
	cr_assert_null(json_get(a, "x"));
	cr_assert_eq(json_get_str(json_get(v, "o"), "k", &s), 0);
	cr_assert_str_eq(s, "v");
	cr_assert_eq(json_get_str(NULL, "k", &s), -ENOENT);
	json_free(v);
	json_free(NULL);
}

Test(json_parser, scalars_at_top_level)
{
	const char *docs[] = { "0", "-0", "1.5e-3", "\"\"", "true", "false", "null", "[]", "{}",
			       "9223372036854775807", "-9223372036854775808" };
	for (size_t k = 0; k < sizeof(docs) / sizeof(docs[0]); k++) {
		struct json_value *v = parse_ok(docs[k]);
		char *s = rewrite(v);
		cr_assert_str_eq(s, docs[k]);
		free(s);
		json_free(v);
	}
	struct json_value *v = parse_ok("9223372036854775807");
	cr_assert(v->is_int);
	cr_assert_eq(v->integer, INT64_MAX);
	json_free(v);
	v = parse_ok("9223372036854775808");
	cr_assert(!v->is_int);
	json_free(v);
}

static const char *const round_trip_docs[] = {
	"{\"cmd\":\"status\",\"args\":{}}",
	"{\"a\":[1,2,{\"b\":[true,false,null]},\"x\\\"y\\\\z\\n\\u0001\"],\"c\":-0.25,"
	"\"d\":1e+300,\"\xc3\xa9\":\"\xe2\x82\xac\"}",
	"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]", /* depth 32 */
	"[\"\xf0\x9f\x98\x80\",18446744073709551616,123456789012345678901234567890]",
};

Test(json_parser, round_trip)
{
	for (size_t k = 0; k < sizeof(round_trip_docs) / sizeof(round_trip_docs[0]); k++) {
		struct json_value *v = parse_ok(round_trip_docs[k]);
		char *s = rewrite(v);
		cr_assert_str_eq(s, round_trip_docs[k]);
		/* And the rewrite parses to the same rewrite. */
		struct json_value *v2 = parse_ok(s);
		char *s2 = rewrite(v2);
		cr_assert_str_eq(s2, s);
		free(s);
		free(s2);
		json_free(v);
		json_free(v2);
	}
}

Test(json_parser, writer_output_parses_back)
{
	struct wbuf b;
	struct json_writer w;
	wbuf_init(&b);
	json_writer_init(&w, &b);
	char all[256];
	for (int i = 1; i < 256; i++)
		all[i - 1] = (char)i;
	all[255] = 0;
	json_obj_begin(&w);
	json_kv_str(&w, "bytes", all); /* every byte but NUL, invalid UTF-8 included */
	json_kv_double(&w, "pi", 3.141592653589793);
	json_obj_end(&w);
	cr_assert_eq(json_writer_err(&w), 0);
	struct json_value *v = parse_ok(wbuf_str(&b));
	const char *s;
	cr_assert_eq(json_get_str(v, "bytes", &s), 0);
	/* The ASCII part comes back byte for byte. */
	cr_assert_eq(memcmp(s, all, 127), 0);
	double d;
	cr_assert_eq(json_get_double(v, "pi", &d), 0);
	cr_assert_eq(d, 3.141592653589793);
	json_free(v);
	wbuf_free(&b);
}

Test(json_parser, truncated_at_every_offset_fails)
{
	for (size_t k = 0; k < sizeof(round_trip_docs) / sizeof(round_trip_docs[0]); k++) {
		const char *doc = round_trip_docs[k];
		size_t n = strlen(doc);
		for (size_t cut = 0; cut < n; cut++) {
			char err[128];
			/* Copy so that reading past the cut would be caught by ASan. */
			char *t = malloc(cut ? cut : 1);
			memcpy(t, doc, cut);
			parse_err(t, cut, err, sizeof(err));
			free(t);
		}
	}
}

Test(json_parser, malformed)
{
	const char *bad[] = {
		"", " ", "{", "}", "[", "]", "[1,]", "[,1]", "{,}", "{\"a\"}", "{\"a\":}",
		"{\"a\" 1}", "{\"a\":1,}", "{a:1}", "{'a':1}", "[1 2]", "tru", "nul", "True",
		"NaN", "Infinity", "-", "+1", "01", "1.", ".5", "1e", "1e+", "0x10", "--1",
		"\"abc", "\"\\x\"", "\"\\u12\"", "\"\\u12g4\"", "\"\\ud800\"", "\"\\udc00\"",
		"\"\\ud800\\u0041\"", "\"\\u0000\"", "\"a\tb\"", "\"a\nb\"", "\"\x80\"",
		"\"\xc3\"", "\"\xc0\xaf\"", "\"\xed\xa0\x80\"", "\"\xf5\x80\x80\x80\"",
		"1 2", "{} x", "[]]", "null null", "1e999", "-1e999", "\"ok\"\"",
	};
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		char err[128];
		int r = parse_err(bad[k], strlen(bad[k]), err, sizeof(err));
		cr_assert_eq(r, -EINVAL, "'%s': %d (%s)", bad[k], r, err);
	}
	/* An embedded NUL byte in the input is just a bad character. */
	parse_err("[1,\0 2]", 7, NULL, 0);
	/* NULL err buffer is fine. */
	parse_err("[", 1, NULL, 0);
}

Test(json_parser, error_positions)
{
	char err[128];
	parse_err("{\n  \"a\" 1}", 10, err, sizeof(err));
	cr_assert_str_eq(err, "line 2 col 7: expected ':' after object key");
	parse_err("[1,2] x", 7, err, sizeof(err));
	cr_assert_str_eq(err, "line 1 col 7: trailing characters after the value");
	parse_err("\"\\q\"", 4, err, sizeof(err));
	cr_assert_str_eq(err, "line 1 col 3: bad escape '\\q'");
	/* A small err buffer is truncated, not overrun. */
	char small[8];
	memset(small, 'Z', sizeof(small));
	parse_err("[", 1, small, 5);
	cr_assert_eq(strlen(small), 4);
	cr_assert_eq(small[5], 'Z');
}

Test(json_parser, depth_limit)
{
	char deep[2 * (JSON_MAX_DEPTH + 1) + 1];
	for (int d = JSON_MAX_DEPTH; d <= JSON_MAX_DEPTH + 1; d++) {
		memset(deep, '[', (size_t)d);
		memset(deep + d, ']', (size_t)d);
		deep[2 * d] = 0;
		struct json_value *v = NULL;
		char err[128];
		int r = json_parse(deep, strlen(deep), &v, err, sizeof(err));
		if (d <= JSON_MAX_DEPTH) {
			cr_assert_eq(r, 0, "%s", err);
			json_free(v);
		} else {
			cr_assert_eq(r, -E2BIG);
			cr_assert_null(v);
		}
	}
	/* Very deep input fails fast without recursing without bound. */
	size_t n = 100000;
	char *huge = malloc(n);
	memset(huge, '{', n);
	char err[128];
	cr_assert_eq(parse_err(huge, n, err, sizeof(err)), -EINVAL); /* '{' needs a key */
	memset(huge, '[', n);
	cr_assert_eq(parse_err(huge, n, err, sizeof(err)), -E2BIG);
	free(huge);
}

Test(json_parser, size_limit)
{
	size_t n = JSON_MAX_INPUT + 1;
	char *s = malloc(n);
	memset(s, ' ', n);
	s[0] = '1';
	char err[128];
	cr_assert_eq(parse_err(s, n, err, sizeof(err)), -E2BIG);
	/* Exactly at the limit is fine. */
	struct json_value *v;
	cr_assert_eq(json_parse(s, JSON_MAX_INPUT, &v, err, sizeof(err)), 0);
	json_free(v);
	free(s);
}

Test(json_parser, huge_numbers)
{
	struct json_value *v = parse_ok("[1e308,-1e308,1e-400,123456789012345678901234567890]");
	cr_assert_float_eq(json_array_at(v, 0)->num, 1e308, 1e295);
	cr_assert(!json_array_at(v, 0)->is_int); /* integral but beyond int64 */
	cr_assert_eq(json_array_at(v, 2)->num, 0.0);
	cr_assert(!json_array_at(v, 3)->is_int);
	cr_assert_str_eq(json_array_at(v, 3)->str, "123456789012345678901234567890");
	json_free(v);
	char err[128];
	parse_err("1e309", 5, err, sizeof(err));
	cr_assert_str_eq(err, "line 1 col 1: number out of range");
}

Test(json, type_names)
{
	cr_assert_str_eq(json_type_name(JSON_OBJECT), "object");
	cr_assert_str_eq(json_type_name(JSON_NULL), "null");
}
