/* YAML documents as a read-only tree that remembers where every node came from.
 *
 * A file (or a string) is parsed with libyaml into a tree of scalars, maps and sequences.  Each
 * node keeps its 1-based source line and column, so that whoever interprets the tree (the config
 * schema loader in roam/conf.h, netlab reading docker-compose files) can point at the exact spot
 * of a mistake.  What the loader does:
 *   - anchors and aliases are resolved: an alias is the very node its anchor names (shared, so
 *     its position is the anchor's); an alias to an enclosing node (a loop) is an error, and so is
 *     a document whose alias expansion would exceed YAML_MAX_EXPANDED nodes ("billion laughs");
 *   - merge keys (`<<: *base` or `<<: [*a, *b]`) are applied: the merged map's pairs that the
 *     map doesn't set itself are appended after its own pairs;
 *   - tags are ignored, except that `!!str` makes a scalar count as quoted;
 *   - map keys must be scalars; a duplicate key is an error naming both positions;
 *   - only the first document of a stream is read; a second one is an error;
 *   - limits: YAML_MAX_FILE bytes of input, YAML_MAX_DEPTH levels of nesting.
 * The tree is owned by its struct ydoc; every pointer obtained from it is valid until
 * ydoc_free().  Nothing here keeps global state: documents may be loaded from several threads.
 */
#ifndef ROAM_YAML_H
#define ROAM_YAML_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define YAML_MAX_FILE (1024 * 1024) /* bytes of input */
#define YAML_MAX_DEPTH 64           /* nested maps/sequences */
#define YAML_MAX_EXPANDED 1000000   /* nodes, counting every alias use in full */

enum ynode_type { YN_SCALAR, YN_MAP, YN_SEQ };

struct ynode;

/* One key/value pair of a map.  The key is always a scalar node (it has a position too). */
struct ypair {
	const struct ynode *key;
	const struct ynode *value;
};

struct ynode {
	enum ynode_type type;
	int line, col; /* 1-based position of the node's first character (a key's for map keys) */
	/* YN_SCALAR: the text, NUL-terminated (len excludes the NUL; a double-quoted "\0" escape
	 * may put a NUL inside, so check len where that matters).  NULL for maps and sequences. */
	const char *scalar;
	size_t len;
	/* YN_SCALAR: true if the scalar was not plain (single/double quoted, literal | or folded >)
	 * or was tagged !!str: it is then a string, never a boolean, number or null. */
	bool quoted;
	/* YN_MAP: number of pairs; YN_SEQ: number of items; 0 for scalars. */
	size_t count;
	const struct ypair *pairs;         /* YN_MAP: count pairs, in document order */
	const struct ynode *const *items;  /* YN_SEQ: count items, in document order */
};

/* A loaded document: owns the tree and the copy of its name. */
struct ydoc;

/* Problems that a load with YLOAD_DEFER_DUPS noted without failing (see below). */
struct ydiag {
	int line, col;
	const char *path; /* dotted path of the offending key: "services.web.image", "a[2].b" */
	const char *msg;  /* e.g. "duplicate key (first at 3:5)" */
};

/* Flags for the _flags loaders. */
#define YLOAD_DEFER_DUPS 0x1u /* a duplicate key does not fail the load: the later pair is
                               * dropped (the first one wins) and a diagnostic is recorded,
                               * see ydoc_ndiags()/ydoc_diag().  Used by conf to report every
                               * error of a file at once. */

/* Loads the YAML file at path.  On success returns 0 and *out owns the document (free it with
 * ydoc_free).  On failure returns a negative errno-style code (-ENOENT, -EACCES... for I/O,
 * -EFBIG over YAML_MAX_FILE, -EINVAL for a syntax or structure error, -ENOMEM), leaves *out
 * NULL and writes a one-line message into err (if err is not NULL), formatted
 * "path:line:col: message" (or "path: message" when there is no position).  An empty file or
 * one holding only comments loads as a document whose root is NULL. */
int ynode_load_file(const char *path, struct ydoc **out, char *err, size_t errlen);
int ynode_load_file_flags(const char *path, unsigned flags, struct ydoc **out, char *err,
                          size_t errlen);

/* Same, from len bytes of text (borrowed; the tree copies what it keeps).  name (borrowed,
 * copied; NULL means "<string>") is what messages and ydoc_name() call the document. */
int ynode_load_string(const char *name, const char *text, size_t len, struct ydoc **out,
                      char *err, size_t errlen);
int ynode_load_string_flags(const char *name, const char *text, size_t len, unsigned flags,
                            struct ydoc **out, char *err, size_t errlen);

/* Frees the document and every node of it.  NULL is fine. */
void ydoc_free(struct ydoc *doc);

/* The root node, or NULL for an empty document. */
const struct ynode *ydoc_root(const struct ydoc *doc);
/* The name given at load time (the path for files). */
const char *ydoc_name(const struct ydoc *doc);
/* Diagnostics recorded by a YLOAD_DEFER_DUPS load (0 otherwise); i < ydoc_ndiags(). */
size_t ydoc_ndiags(const struct ydoc *doc);
const struct ydiag *ydoc_diag(const struct ydoc *doc, size_t i);

/* --- Navigation.  Every function accepts NULL and nodes of the wrong type (returning NULL/0),
 * so lookups chain: ynode_map_get(ynode_map_get(root, "services"), "web"). --- */

/* The value stored under key in a map, or NULL (not a map, or no such key). */
const struct ynode *ynode_map_get(const struct ynode *map, const char *key);
/* The key node of that pair (for its position), or NULL. */
const struct ynode *ynode_map_key(const struct ynode *map, const char *key);
/* Number of pairs of a map / items of a sequence; 0 for scalars and NULL. */
size_t ynode_count(const struct ynode *n);
/* The i-th item of a sequence, or NULL if out of range or not a sequence. */
const struct ynode *ynode_seq_at(const struct ynode *seq, size_t i);
/* The i-th pair of a map, or NULL if out of range or not a map. */
const struct ypair *ynode_map_at(const struct ynode *map, size_t i);

/* Iterates a sequence: for each item, `item` (const struct ynode *) is set. */
#define YNODE_SEQ_FOREACH(seq, idx, item)                                                   \
	for (size_t idx = 0; idx < ynode_count(seq) && ((item) = ynode_seq_at((seq), idx)); idx++)
/* Iterates a map: for each pair, `pair` (const struct ypair *) is set. */
#define YNODE_MAP_FOREACH(map, idx, pair)                                                   \
	for (size_t idx = 0; idx < ynode_count(map) && ((pair) = ynode_map_at((map), idx)); idx++)

/* --- Scalars. --- */

/* "scalar", "map", "sequence" (or "nothing" for NULL), for messages. */
const char *ynode_type_name(const struct ynode *n);
/* true for a scalar node. */
bool ynode_is_scalar(const struct ynode *n);
/* true for a plain null: empty, "~", "null", "Null", "NULL" (not quoted).  NULL is not a node
 * and returns false. */
bool ynode_is_null(const struct ynode *n);
/* The scalar's text, or NULL for maps, sequences and NULL. */
const char *ynode_str(const struct ynode *n);
/* Plain booleans: true/false, yes/no, on/off (lower, Capitalised or UPPER case).  Returns 0,
 * or -EINVAL for anything else (a quoted "yes" included). */
int ynode_bool(const struct ynode *n, bool *out);
/* Plain integers: optional sign, decimal, 0x hexadecimal, 0o octal.  Returns 0, -EINVAL
 * (not an integer, quoted), or -ERANGE (does not fit). */
int ynode_int64(const struct ynode *n, int64_t *out);
int ynode_uint64(const struct ynode *n, uint64_t *out);

#endif
