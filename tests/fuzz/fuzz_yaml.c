/* YAML loader (ynode_load_string, roam/yaml.h), with and without YLOAD_DEFER_DUPS.  A loaded
 * tree must be consistent: scalars NUL-terminated at their length, positions 1-based, map keys
 * scalars and found again by ynode_map_get (the first pair with that key), counts matching the
 * accessors.  The walk is bounded (aliases share nodes, so a tree may be much larger than its
 * text).  A failed load must leave *out NULL and a terminated message. */
#include <errno.h>

#include "fuzz.h"
#include "roam/yaml.h"

static void walk(const struct ynode *n, int depth, unsigned *budget)
{
	if (!n || !*budget)
		return;
	(*budget)--;
	FUZZ_CHECK(depth <= YAML_MAX_DEPTH + 1, "deeper than YAML_MAX_DEPTH");
	FUZZ_CHECK(n->line >= 1 && n->col >= 1, "position %d:%d", n->line, n->col);
	(void)ynode_type_name(n);
	switch (n->type) {
	case YN_SCALAR: {
		FUZZ_CHECK(n->scalar && n->scalar[n->len] == 0, "scalar not terminated");
		FUZZ_CHECK(ynode_str(n) == n->scalar && ynode_count(n) == 0, "scalar accessors");
		bool b;
		int64_t i;
		uint64_t u;
		(void)ynode_bool(n, &b);
		(void)ynode_int64(n, &i);
		(void)ynode_uint64(n, &u);
		(void)ynode_is_null(n);
		break;
	}
	case YN_MAP:
		FUZZ_CHECK(ynode_count(n) == n->count, "map count");
		for (size_t i = 0; i < n->count && *budget; i++) {
			const struct ypair *p = ynode_map_at(n, i);
			FUZZ_CHECK(p == &n->pairs[i], "ynode_map_at");
			FUZZ_CHECK(p->key && p->key->type == YN_SCALAR && p->value, "map key or value");
			/* A key with an embedded NUL cannot be looked up by C string. */
			if (strlen(p->key->scalar) == p->key->len) {
				const struct ynode *v = ynode_map_get(n, p->key->scalar);
				FUZZ_CHECK(v != NULL, "key '%s' not found again", p->key->scalar);
				FUZZ_CHECK(ynode_map_key(n, p->key->scalar) != NULL, "ynode_map_key");
			}
			walk(p->key, depth + 1, budget);
			walk(p->value, depth + 1, budget);
		}
		break;
	case YN_SEQ:
		FUZZ_CHECK(ynode_count(n) == n->count, "seq count");
		for (size_t i = 0; i < n->count && *budget; i++) {
			FUZZ_CHECK(ynode_seq_at(n, i) == n->items[i] && n->items[i], "ynode_seq_at");
			walk(n->items[i], depth + 1, budget);
		}
		break;
	default:
		FUZZ_CHECK(0, "node type %d", n->type);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_quiet();
	for (unsigned flags = 0; flags <= YLOAD_DEFER_DUPS; flags += YLOAD_DEFER_DUPS) {
		struct ydoc *doc = (struct ydoc *)1;
		char err[256];
		err[0] = 0;
		int rc = ynode_load_string_flags("fuzz.yaml", (const char *)data, size, flags, &doc,
		                                 err, sizeof(err));
		if (rc != 0) {
			FUZZ_CHECK(rc == -EINVAL || rc == -ENOMEM || rc == -EFBIG, "load: %d", rc);
			FUZZ_CHECK(doc == NULL, "doc not NULL after a failed load");
			FUZZ_CHECK(memchr(err, 0, sizeof(err)) && err[0], "no error message");
			continue;
		}
		unsigned budget = 100000;
		walk(ydoc_root(doc), 0, &budget);
		FUZZ_CHECK(strcmp(ydoc_name(doc), "fuzz.yaml") == 0, "name");
		for (size_t i = 0; i < ydoc_ndiags(doc); i++) {
			const struct ydiag *d = ydoc_diag(doc, i);
			FUZZ_CHECK(flags && d && d->msg, "diagnostic %zu", i);
		}
		ydoc_free(doc);
	}
	return 0;
}
