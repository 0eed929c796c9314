/* Tests of roam/yaml.h: tree shape, positions, quoting, anchors/aliases/merges, duplicate keys,
 * limits and error messages. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "roam/yaml.h"

static struct ydoc *load_ok(const char *text)
{
	struct ydoc *d = NULL;
	char err[256];
	int rc = ynode_load_string("t.yaml", text, strlen(text), &d, err, sizeof(err));
	cr_assert_eq(rc, 0, "load failed: %s", err);
	cr_assert_not_null(d);
	return d;
}

static int load_err(const char *text, char *err, size_t errlen)
{
	struct ydoc *d = (struct ydoc *)1;
	int rc = ynode_load_string("t.yaml", text, strlen(text), &d, err, errlen);
	cr_assert_lt(rc, 0, "load of %s should fail", text);
	cr_assert_null(d);
	return rc;
}

Test(yaml, tree_and_positions)
{
	struct ydoc *d = load_ok("# comment\n"
	                         "name: web\n"
	                         "ports:\n"
	                         "  - 80\n"
	                         "  - \"443\"\n"
	                         "nested:\n"
	                         "    a: {x: 1, y: [2, 3]}\n");
	const struct ynode *root = ydoc_root(d);
	cr_assert_eq(root->type, YN_MAP);
	cr_assert_eq(root->count, 3);
	cr_assert_str_eq(root->pairs[0].key->scalar, "name");
	cr_assert_eq(root->pairs[0].key->line, 2);
	cr_assert_eq(root->pairs[0].key->col, 1);
	const struct ynode *name = ynode_map_get(root, "name");
	cr_assert_str_eq(ynode_str(name), "web");
	cr_assert_eq(name->line, 2);
	cr_assert_eq(name->col, 7);
	cr_assert_eq(name->len, 3);
	const struct ynode *ports = ynode_map_get(root, "ports");
	cr_assert_eq(ports->type, YN_SEQ);
	cr_assert_eq(ynode_count(ports), 2);
	const struct ynode *p1 = ynode_seq_at(ports, 1);
	cr_assert_str_eq(p1->scalar, "443");
	cr_assert(p1->quoted);
	cr_assert_eq(p1->line, 5);
	cr_assert_eq(p1->col, 5);
	cr_assert_not(ynode_seq_at(ports, 0)->quoted);
	cr_assert_null(ynode_seq_at(ports, 2));
	const struct ynode *a = ynode_map_get(ynode_map_get(root, "nested"), "a");
	cr_assert_eq(a->type, YN_MAP);
	cr_assert_eq(a->line, 7);
	cr_assert_eq(a->col, 8);
	const struct ynode *y = ynode_map_get(a, "y");
	cr_assert_eq(ynode_count(y), 2);
	cr_assert_str_eq(ynode_seq_at(y, 1)->scalar, "3");
	cr_assert_eq(ynode_seq_at(y, 1)->col, 22);
	/* Lookups on the wrong types or NULL are harmless. */
	cr_assert_null(ynode_map_get(ports, "x"));
	cr_assert_null(ynode_map_get(NULL, "x"));
	cr_assert_null(ynode_map_get(root, "missing"));
	cr_assert_eq(ynode_map_key(root, "nested")->line, 6);
	cr_assert_eq(ynode_count(name), 0);
	cr_assert_str_eq(ydoc_name(d), "t.yaml");
	ydoc_free(d);
}

Test(yaml, iteration_macros)
{
	struct ydoc *d = load_ok("b: 1\na: 2\nc: [x, y, z]\n");
	const struct ypair *p;
	char keys[16] = "";
	YNODE_MAP_FOREACH(ydoc_root(d), i, p)
		strcat(keys, p->key->scalar);
	cr_assert_str_eq(keys, "bac"); /* document order */
	const struct ynode *it;
	char items[16] = "";
	size_t seen = 0;
	YNODE_SEQ_FOREACH(ynode_map_get(ydoc_root(d), "c"), i, it) {
		strcat(items, it->scalar);
		seen = i + 1;
	}
	cr_assert_str_eq(items, "xyz");
	cr_assert_eq(seen, 3);
	ydoc_free(d);
}

Test(yaml, scalars_quoting_and_nulls)
{
	struct ydoc *d = load_ok("a: yes\nb: \"yes\"\nc: 'no'\nd:\ne: ~\nf: null\ng: \"\"\n"
	                         "h: !!str true\ni: |\n  line1\n  line2\nj: Off\n");
	const struct ynode *r = ydoc_root(d);
	bool v;
	cr_assert_eq(ynode_bool(ynode_map_get(r, "a"), &v), 0);
	cr_assert(v);
	cr_assert_eq(ynode_bool(ynode_map_get(r, "b"), &v), -EINVAL);
	cr_assert_eq(ynode_bool(ynode_map_get(r, "c"), &v), -EINVAL);
	cr_assert_eq(ynode_bool(ynode_map_get(r, "h"), &v), -EINVAL);
	cr_assert(ynode_map_get(r, "h")->quoted);
	cr_assert_eq(ynode_bool(ynode_map_get(r, "j"), &v), 0);
	cr_assert_not(v);
	cr_assert(ynode_is_null(ynode_map_get(r, "d")));
	cr_assert(ynode_is_null(ynode_map_get(r, "e")));
	cr_assert(ynode_is_null(ynode_map_get(r, "f")));
	cr_assert_not(ynode_is_null(ynode_map_get(r, "g")));
	cr_assert_not(ynode_is_null(ynode_map_get(r, "a")));
	cr_assert_not(ynode_is_null(NULL));
	cr_assert_str_eq(ynode_map_get(r, "i")->scalar, "line1\nline2\n");
	cr_assert(ynode_map_get(r, "i")->quoted);
	ydoc_free(d);
}

Test(yaml, embedded_nul)
{
	struct ydoc *d = load_ok("a: \"x\\0y\"\n");
	const struct ynode *a = ynode_map_get(ydoc_root(d), "a");
	cr_assert_eq(a->len, 3);
	cr_assert_eq(memcmp(a->scalar, "x\0y", 4), 0);
	ydoc_free(d);
}

Test(yaml, integers)
{
	struct ydoc *d = load_ok("[0, 42, -7, 0x1F, 0o17, 9223372036854775807, -9223372036854775808,"
	                         " 9223372036854775808, 18446744073709551616, 0644, '5', 1.5, +3]");
	const struct ynode *r = ydoc_root(d);
	int64_t v;
	uint64_t u;
	cr_assert_eq(ynode_int64(ynode_seq_at(r, 0), &v), 0);
	cr_assert_eq(v, 0);
	cr_assert_eq(ynode_int64(ynode_seq_at(r, 1), &v), 0);
	cr_assert_eq(v, 42);
	cr_assert_eq(ynode_int64(ynode_seq_at(r, 2), &v), 0);
	cr_assert_eq(v, -7);
	cr_assert_eq(ynode_int64(ynode_seq_at(r, 3), &v), 0);
	cr_assert_eq(v, 31);
	cr_assert_eq(ynode_int64(ynode_seq_at(r, 4), &v), 0);
	cr_assert_eq(v, 15);
	cr_assert_eq(ynode_int64(ynode_seq_at(r, 5), &v), 0);
	cr_assert_eq(v, INT64_MAX);
	cr_assert_eq(ynode_int64(ynode_seq_at(r, 6), &v), 0);
	cr_assert_eq(v, INT64_MIN);
	cr_assert_eq(ynode_int64(ynode_seq_at(r, 7), &v), -ERANGE);
	cr_assert_eq(ynode_uint64(ynode_seq_at(r, 7), &u), 0);
	cr_assert_eq(u, 9223372036854775808ull);
	cr_assert_eq(ynode_uint64(ynode_seq_at(r, 8), &u), -ERANGE);
	cr_assert_eq(ynode_int64(ynode_seq_at(r, 9), &v), -EINVAL);
	cr_assert_eq(ynode_int64(ynode_seq_at(r, 10), &v), -EINVAL);
	cr_assert_eq(ynode_int64(ynode_seq_at(r, 11), &v), -EINVAL);
	cr_assert_eq(ynode_int64(ynode_seq_at(r, 12), &v), 0);
	cr_assert_eq(v, 3);
	cr_assert_eq(ynode_uint64(ynode_seq_at(r, 2), &u), -ERANGE);
	cr_assert_eq(ynode_int64(r, &v), -EINVAL);
	ydoc_free(d);
}

Test(yaml, anchors_aliases_and_merge)
{
	struct ydoc *d = load_ok("x-base: &base\n"
	                         "  image: roam\n"
	                         "  restart: always\n"
	                         "x-env: &env {A: 1}\n"
	                         "web:\n"
	                         "  <<: [*base, *env]\n"
	                         "  restart: never\n"
	                         "  port: &p 80\n"
	                         "other: *p\n");
	const struct ynode *r = ydoc_root(d);
	const struct ynode *web = ynode_map_get(r, "web");
	cr_assert_eq(web->count, 4); /* restart, port, image, A: no "<<" */
	cr_assert_str_eq(web->pairs[0].key->scalar, "restart");
	cr_assert_str_eq(ynode_str(ynode_map_get(web, "restart")), "never");
	cr_assert_str_eq(ynode_str(ynode_map_get(web, "image")), "roam");
	cr_assert_str_eq(ynode_str(ynode_map_get(web, "A")), "1");
	cr_assert_null(ynode_map_get(web, "<<"));
	cr_assert_eq(ynode_map_get(r, "other"), ynode_map_get(web, "port"));
	/* An alias is the anchored node itself, position included. */
	cr_assert_eq(ynode_map_get(web, "image")->line, 2);
	ydoc_free(d);
}

Test(yaml, quoted_merge_key_is_a_key)
{
	struct ydoc *d = load_ok("a: {\"<<\": 1}\n");
	cr_assert_str_eq(ynode_str(ynode_map_get(ynode_map_get(ydoc_root(d), "a"), "<<")), "1");
	ydoc_free(d);
}

Test(yaml, alias_loop_and_unknown_alias)
{
	char err[256];
	cr_assert_eq(load_err("a: &x\n  b: *x\n", err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(err, "t.yaml:2:6: alias '*x' refers to a node that contains it (loop)");
	load_err("a: &x [1, *x]\n", err, sizeof(err));
	cr_assert(strstr(err, "loop") != NULL, "%s", err);
	load_err("a: *nope\n", err, sizeof(err));
	cr_assert_str_eq(err, "t.yaml:1:4: unknown alias '*nope'");
}

Test(yaml, billion_laughs_refused)
{
	char text[2048];
	size_t n = 0;
	n += (size_t)snprintf(text + n, sizeof(text) - n, "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
	for (int i = 1; i < 9; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
		                      "a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n",
		                      i, i, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1,
		                      i - 1);
	char err[256];
	cr_assert_eq(load_err(text, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "aliases are expanded") != NULL, "%s", err);
}

Test(yaml, duplicate_keys)
{
	char err[256];
	load_err("a: 1\nb:\n  c: 1\n  d: 2\n  c: 3\n", err, sizeof(err));
	cr_assert_str_eq(err, "t.yaml:5:3: key 'b.c': duplicate key (first at 3:3)");
	load_err("l:\n  - {x: 1, x: 2}\n", err, sizeof(err));
	cr_assert_str_eq(err, "t.yaml:2:12: key 'l[0].x': duplicate key (first at 2:6)");
}

Test(yaml, duplicate_keys_deferred)
{
	struct ydoc *d = NULL;
	char err[256];
	const char *text = "a: 1\na: 2\nb: {c: 1, c: 2, c: 3}\n";
	cr_assert_eq(ynode_load_string_flags("t.yaml", text, strlen(text), YLOAD_DEFER_DUPS, &d, err,
	                                     sizeof(err)), 0, "%s", err);
	cr_assert_eq(ydoc_ndiags(d), 3);
	const struct ydiag *g = ydoc_diag(d, 0);
	/* inner map ends first */
	cr_assert_str_eq(g->path, "b.c");
	cr_assert_eq(g->line, 3);
	cr_assert_eq(g->col, 11);
	cr_assert_str_eq(g->msg, "duplicate key (first at 3:5)");
	g = ydoc_diag(d, 2);
	cr_assert_str_eq(g->path, "a");
	cr_assert_eq(g->line, 2);
	cr_assert_str_eq(ynode_str(ynode_map_get(ydoc_root(d), "a")), "1"); /* first wins */
	cr_assert_eq(ynode_count(ynode_map_get(ydoc_root(d), "b")), 1);
	cr_assert_null(ydoc_diag(d, 3));
	ydoc_free(d);
}

Test(yaml, syntax_errors_have_positions)
{
	char err[256];
	load_err("a: b: c\n", err, sizeof(err));
	cr_assert(strncmp(err, "t.yaml:1:5: ", 12) == 0, "%s", err);
	load_err("a: [1, 2\n", err, sizeof(err));
	cr_assert(strncmp(err, "t.yaml:2:", 9) == 0, "%s", err);
	load_err("a: 1\n---\nb: 2\n", err, sizeof(err));
	cr_assert_str_eq(err, "t.yaml:2:1: only one YAML document is allowed");
	load_err("? [a, b]\n: c\n", err, sizeof(err));
	cr_assert_str_eq(err, "t.yaml:1:3: map keys must be scalars, not a sequence");
	load_err("a: \"\xff\"\n", err, sizeof(err));
	cr_assert(strncmp(err, "t.yaml: ", 8) == 0, "%s", err);
}

Test(yaml, merge_key_wrong_type)
{
	char err[256];
	load_err("a:\n  <<: 5\n", err, sizeof(err));
	cr_assert_str_eq(err, "t.yaml:2:7: merge key '<<' takes a map or a sequence of maps, not a scalar");
}

Test(yaml, depth_limit)
{
	char text[400];
	size_t n = 0;
	for (int i = 0; i < YAML_MAX_DEPTH; i++)
		text[n++] = '[';
	for (int i = 0; i < YAML_MAX_DEPTH; i++)
		text[n++] = ']';
	text[n] = '\0';
	struct ydoc *d = load_ok(text);
	ydoc_free(d);
	n = 0;
	for (int i = 0; i < YAML_MAX_DEPTH + 1; i++)
		text[n++] = '[';
	for (int i = 0; i < YAML_MAX_DEPTH + 1; i++)
		text[n++] = ']';
	text[n] = '\0';
	char err[256];
	load_err(text, err, sizeof(err));
	cr_assert_str_eq(err, "t.yaml:1:65: nesting deeper than 64 levels");
}

Test(yaml, empty_documents)
{
	struct ydoc *d = load_ok("");
	cr_assert_null(ydoc_root(d));
	ydoc_free(d);
	d = load_ok("# only a comment\n");
	cr_assert_null(ydoc_root(d));
	ydoc_free(d);
	ydoc_free(NULL);
}

Test(yaml, files)
{
	char path[] = "/tmp/roam-test-yaml-XXXXXX";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	const char *text = "k: v\n";
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	struct ydoc *d = NULL;
	char err[256];
	cr_assert_eq(ynode_load_file(path, &d, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(ydoc_name(d), path);
	cr_assert_str_eq(ynode_str(ynode_map_get(ydoc_root(d), "k")), "v");
	ydoc_free(d);

	/* Over the size limit. */
	FILE *fp = fopen(path, "w");
	cr_assert_not_null(fp);
	fputs("k: ", fp);
	for (int i = 0; i < YAML_MAX_FILE; i++)
		fputc('x', fp);
	fclose(fp);
	cr_assert_eq(ynode_load_file(path, &d, err, sizeof(err)), -EFBIG);
	cr_assert_null(d);
	cr_assert(strstr(err, "too large") != NULL, "%s", err);
	unlink(path);

	cr_assert_eq(ynode_load_file(path, &d, err, sizeof(err)), -ENOENT);
	char expect[300];
	snprintf(expect, sizeof(expect), "%s: No such file or directory", path);
	cr_assert_str_eq(err, expect);
	cr_assert_eq(ynode_load_file("/tmp", &d, err, sizeof(err)), -EISDIR);
}

Test(yaml, string_size_limit)
{
	size_t len = YAML_MAX_FILE + 1;
	char *big = malloc(len);
	cr_assert_not_null(big);
	memset(big, '#', len);
	struct ydoc *d = NULL;
	char err[128];
	cr_assert_eq(ynode_load_string(NULL, big, len, &d, err, sizeof(err)), -EFBIG);
	cr_assert(strncmp(err, "<string>: ", 10) == 0, "%s", err);
	free(big);
}
