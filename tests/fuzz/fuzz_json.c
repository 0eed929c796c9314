/* JSON parser (json_parse, roam/json.h).  A parsed tree is written back with json_write_value
 * (must not fail), parsed again (must succeed) and written again: the two texts must be
 * identical (the writer's output is canonical).  Every string in the tree must be valid
 * NUL-free text of its recorded length; the typed getters run on every object member. */
#include <errno.h>

#include "fuzz.h"
#include "roam/json.h"

static void walk(const struct json_value *v, int depth)
{
	FUZZ_CHECK(depth <= JSON_MAX_DEPTH + 1, "tree deeper than the limit");
	switch (v->type) {
	case JSON_STRING:
	case JSON_NUMBER:
		FUZZ_CHECK(v->str && strlen(v->str) == v->str_len, "string length");
		break;
	case JSON_ARRAY:
		for (size_t i = 0; i < v->len; i++) {
			FUZZ_CHECK(json_array_at(v, i) == v->items[i], "json_array_at");
			walk(v->items[i], depth + 1);
		}
		FUZZ_CHECK(json_array_len(v) == v->len, "json_array_len");
		break;
	case JSON_OBJECT:
		for (size_t i = 0; i < v->len; i++) {
			const struct json_member *m = &v->members[i];
			const char *s;
			int64_t n;
			bool b;
			double d;
			FUZZ_CHECK(m->key != NULL && json_get(v, m->key) != NULL, "member lookup");
			(void)json_get_str(v, m->key, &s);
			(void)json_get_int64(v, m->key, &n);
			(void)json_get_bool(v, m->key, &b);
			(void)json_get_double(v, m->key, &d);
			walk(m->value, depth + 1);
		}
		break;
	default:
		break;
	}
	(void)json_type_name(v->type);
}

static char *write_tree(const struct json_value *v, size_t *len)
{
	struct wbuf w;
	struct json_writer jw;
	wbuf_init(&w);
	json_writer_init(&jw, &w);
	json_write_value(&jw, v);
	int rc = json_writer_err(&jw);
	FUZZ_CHECK(rc == 0, "json_write_value of a parsed tree: %d", rc);
	*len = w.len;
	char *s = malloc(w.len + 1);
	if (!s)
		abort();
	if (w.len)
		memcpy(s, w.buf, w.len);
	s[w.len] = 0;
	wbuf_free(&w);
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_value *v = NULL, *v2 = NULL;
	char err[128];
	size_t l1, l2;

	fuzz_quiet();
	int rc = json_parse((const char *)data, size, &v, err, sizeof(err));
	FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -E2BIG || rc == -ENOMEM, "parse: %d", rc);
	if (rc != 0) {
		FUZZ_CHECK(memchr(err, 0, sizeof(err)) != NULL, "error message not terminated");
		return 0;
	}
	walk(v, 0);
	char *t1 = write_tree(v, &l1);
	rc = json_parse(t1, l1, &v2, err, sizeof(err));
	FUZZ_CHECK(rc == 0, "written tree does not parse: %s (%s)", err, t1);
	char *t2 = write_tree(v2, &l2);
	FUZZ_CHECK(fuzz_eq(t1, l1, t2, l2), "writing not stable:\n%s\n%s", t1, t2);
	free(t1);
	free(t2);
	json_free(v);
	json_free(v2);
	return 0;
}
