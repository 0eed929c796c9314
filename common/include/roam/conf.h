/* Configuration files: a declared schema loads a YAML file (roam/yaml.h) into a typed C struct.
 *
 * A daemon describes its config struct with a table of struct conf_field (key, type, offset of
 * the member, flags, default, range...) and calls conf_load().  The loader checks everything
 * (types, ranges, enum names, addresses, required keys, unknown keys, duplicate keys, secret
 * files) and reports ALL errors of the file, each one line formatted
 *	file:line:col: key 'tunnel.hello_interval': out of range (1-3600)
 * with the dotted path of the key (list items as `peers[2].key`).  On any error the caller's
 * struct is left untouched, so a daemon reloading on SIGHUP keeps its running config.
 *
 * Storage per type (the C member at .offset; .size is its sizeof, filled in by the macros):
 *	CONF_T_BOOL      bool
 *	CONF_T_INT       int8_t/int16_t/int32_t/int64_t (range: .min/.max, else the type's range)
 *	CONF_T_UINT      uint8_t..uint64_t           (range: .umin/.umax, else the type's range)
 *	CONF_T_DURATION  uint32_t or uint64_t, milliseconds; "250ms" "30s" "5m" "1h" "1d"
 *	                 (a bare number is an error: "duration needs a unit"); range .umin/.umax ms
 *	CONF_T_SIZE      uint32_t or uint64_t, bytes; "4096", "64KiB", "1MiB", "1GiB", "1TiB",
 *	                 or SI "kB" "MB" "GB" "TB"; range .umin/.umax bytes
 *	CONF_T_STRING    char *, allocated, NUL-terminated; length .umin..umax (default max 4096)
 *	CONF_T_PATH      char *, like a string (no NUL, max PATH_MAX-1); CONF_F_ABSOLUTE requires /
 *	CONF_T_ENUM      int: the index of the value in .names (a NULL-terminated array)
 *	CONF_T_ADDR      struct roam_ipaddr (roam/addr.h); "192.0.2.1", "2001:db8::1"
 *	CONF_T_PREFIX    struct roam_prefix; "10.0.0.0/8", a bare address is /32 or /128;
 *	                 host bits are kept unless CONF_F_NO_HOST_BITS makes them an error
 *	CONF_T_SOCKADDR  struct roam_sockaddr; "192.0.2.1:434", "[2001:db8::1]:434", and without a
 *	                 port ("192.0.2.1", "2001:db8::1", "[::1]") the port is .port
 *	CONF_T_HEX       struct conf_bytes, allocated; "hex:00112233..." or plain hex digits (an
 *	                 optional "0x" prefix too); length in bytes .umin..umax (default max 1024)
 *	CONF_T_SECRET    struct conf_bytes, allocated, NUL-terminated, wiped when freed: the
 *	                 string itself, or "file:/path" whose content is read (one trailing newline
 *	                 stripped); a relative path is relative to the config file's directory; the
 *	                 file is refused if group or others may read or write it.  With CONF_F_HEX
 *	                 the text (inline or from the file) is hex as for CONF_T_HEX.  Length
 *	                 .umin..umax bytes (default max 4096)
 *	CONF_T_MAP       a nested struct (inline), described by .sub
 *	CONF_T_LIST      a pointer to an allocated array of .elem_size elements, plus a size_t
 *	                 count at .count_offset; elements are maps described by .sub, or scalars
 *	                 described by .elem (a field with offset 0, see CONF_ELEM); at most .umax
 *	                 items (default 1024), at least .umin
 * For CONF_T_INT the range applies when .min or .max is non-zero (a .max left at 0 below .min
 * means no upper bound); for the unsigned types .umin is the minimum and a non-zero .umax the
 * maximum; the member's own width always bounds the value.
 *
 * Values: booleans are plain true/false/yes/no/on/off; numbers must not be quoted (a quoted
 * "42" is a string); strings, enums, addresses, durations and sizes may be quoted or not.  A
 * plain null (`key:`, `key: ~`, `key: null`) counts as if the key were absent.
 *
 * Defaults (.dflt): for scalar types, the literal text of the value as it would appear in a
 * plain scalar ("30s", "::1", "[2001:db8::1]:434", "yes"); for lists, a YAML flow sequence
 * ("[a, b]" or "[]"); maps have no default text, their fields have theirs.  A field that is
 * absent, not required and without default is zero (NULL pointer, 0 count, family 0).  A default
 * that does not parse is reported as an error of the file (a schema bug, caught by tests).
 *
 * Required keys: CONF_F_REQUIRED makes a missing key an error at the position of the enclosing
 * map (line 1 col 1 for an empty file).  Inside an optional map that is absent, nothing is
 * required (only defaults apply): mark the map required too if its keys must be there.
 */
#ifndef ROAM_CONF_H
#define ROAM_CONF_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "roam/addr.h"
#include "roam/yaml.h"

enum conf_type {
	CONF_T_BOOL = 1,
	CONF_T_INT,
	CONF_T_UINT,
	CONF_T_DURATION,
	CONF_T_SIZE,
	CONF_T_STRING,
	CONF_T_PATH,
	CONF_T_ENUM,
	CONF_T_ADDR,
	CONF_T_PREFIX,
	CONF_T_SOCKADDR,
	CONF_T_HEX,
	CONF_T_SECRET,
	CONF_T_MAP,
	CONF_T_LIST,
};

/* Field flags. */
#define CONF_F_REQUIRED 0x01u     /* the key must be present (and not null) */
#define CONF_F_V4 0x02u           /* ADDR/PREFIX/SOCKADDR: IPv4 only */
#define CONF_F_V6 0x04u           /* ADDR/PREFIX/SOCKADDR: IPv6 only */
#define CONF_F_NO_HOST_BITS 0x08u /* PREFIX: "10.1.2.3/24" is an error */
#define CONF_F_ABSOLUTE 0x10u     /* PATH: must start with '/' */
#define CONF_F_HEX 0x20u          /* SECRET: the text is hex digits, decoded to bytes */

/* Bytes of a CONF_T_HEX or CONF_T_SECRET value.  data is allocated (NUL-terminated one byte
 * past len, for secrets used as strings) and owned by the config struct; NULL when unset. */
struct conf_bytes {
	uint8_t *data;
	size_t len;
};

struct conf_schema;

struct conf_field {
	const char *key;      /* lower_snake_case key in its map */
	enum conf_type type;
	size_t offset;        /* offsetof() the member in the struct */
	size_t size;          /* sizeof() the member (checked against the type) */
	unsigned flags;       /* CONF_F_* */
	const char *dflt;     /* default value text, or NULL (see above) */
	int64_t min, max;     /* CONF_T_INT range */
	uint64_t umin, umax;  /* UINT/DURATION/SIZE: value range; STRING/PATH/SECRET/HEX: length
	                       * in bytes; LIST: number of items */
	const char *const *names;        /* ENUM: allowed names, NULL-terminated; value = index */
	const struct conf_schema *sub;   /* MAP: the nested struct; LIST: map elements */
	const struct conf_field *elem;   /* LIST of scalars: element type (offset 0, size) */
	size_t elem_size;                /* LIST: sizeof one element */
	size_t count_offset;             /* LIST: offsetof() the size_t item count */
	uint16_t port;                   /* SOCKADDR: port when the value has none */
	const char *help;                /* one line for docs and -h style output */
};

struct conf_schema {
	const char *name;                /* for messages about the schema itself */
	size_t size;                     /* sizeof the struct */
	const struct conf_field *fields;
	size_t nfields;
	/* Optional cross-field check, run on a map once all its fields loaded without error.
	 * Returns 0, or a negative value after writing a message into msg; *key may be set to the
	 * key (of this map) the error is about, so that it is reported at that key's position
	 * (else at the map's).  obj is the loaded struct (borrowed). */
	int (*check)(const void *obj, const char **key, char *msg, size_t msglen);
};

/* --- Declaring fields tersely.  T is the struct type, m the member; trailing arguments are
 * designated initialisers: CONF_UINT("port", struct cfg, port, .dflt = "434", .umin = 1). --- */
#define CONF_MEMBER_SIZE(T, m) sizeof(((T *)0)->m)
#define CONF_FIELD(k, t, T, m, ...)                                                        \
	{ .key = (k), .type = (t), .offset = offsetof(T, m), .size = CONF_MEMBER_SIZE(T, m),    \
	  __VA_ARGS__ }
#define CONF_BOOL(k, T, m, ...) CONF_FIELD(k, CONF_T_BOOL, T, m, __VA_ARGS__)
#define CONF_INT(k, T, m, ...) CONF_FIELD(k, CONF_T_INT, T, m, __VA_ARGS__)
#define CONF_UINT(k, T, m, ...) CONF_FIELD(k, CONF_T_UINT, T, m, __VA_ARGS__)
#define CONF_DURATION(k, T, m, ...) CONF_FIELD(k, CONF_T_DURATION, T, m, __VA_ARGS__)
#define CONF_SIZE(k, T, m, ...) CONF_FIELD(k, CONF_T_SIZE, T, m, __VA_ARGS__)
#define CONF_STRING(k, T, m, ...) CONF_FIELD(k, CONF_T_STRING, T, m, __VA_ARGS__)
#define CONF_PATH(k, T, m, ...) CONF_FIELD(k, CONF_T_PATH, T, m, __VA_ARGS__)
#define CONF_ENUM(k, T, m, nm, ...) CONF_FIELD(k, CONF_T_ENUM, T, m, .names = (nm), __VA_ARGS__)
#define CONF_ADDR(k, T, m, ...) CONF_FIELD(k, CONF_T_ADDR, T, m, __VA_ARGS__)
#define CONF_PREFIX(k, T, m, ...) CONF_FIELD(k, CONF_T_PREFIX, T, m, __VA_ARGS__)
#define CONF_SOCKADDR(k, T, m, ...) CONF_FIELD(k, CONF_T_SOCKADDR, T, m, __VA_ARGS__)
#define CONF_HEX(k, T, m, ...) CONF_FIELD(k, CONF_T_HEX, T, m, __VA_ARGS__)
#define CONF_SECRET(k, T, m, ...) CONF_FIELD(k, CONF_T_SECRET, T, m, __VA_ARGS__)
#define CONF_MAP(k, T, m, schema, ...) CONF_FIELD(k, CONF_T_MAP, T, m, .sub = (schema), __VA_ARGS__)
/* A list of maps: `E *m; size_t cnt;` with E described by schema. */
#define CONF_LIST(k, T, m, cnt, schema, ...)                                               \
	CONF_FIELD(k, CONF_T_LIST, T, m, .sub = (schema), .elem_size = sizeof(*((T *)0)->m),     \
	           .count_offset = offsetof(T, cnt), __VA_ARGS__)
/* A list of scalars: `E *m; size_t cnt;` with the element type given by CONF_ELEM. */
#define CONF_LIST_OF(k, T, m, cnt, elemfield, ...)                                         \
	CONF_FIELD(k, CONF_T_LIST, T, m, .elem = (elemfield), .elem_size = sizeof(*((T *)0)->m), \
	           .count_offset = offsetof(T, cnt), __VA_ARGS__)
/* The element type of a scalar list: CONF_ELEM(CONF_T_ADDR, struct roam_ipaddr, .flags = ..). */
#define CONF_ELEM(t, E, ...)                                                               \
	(&(const struct conf_field){ .key = "", .type = (t), .offset = 0, .size = sizeof(E),      \
	                             __VA_ARGS__ })
/* The schema of struct T from an array of fields. */
#define CONF_SCHEMA(T, fieldarray, ...)                                                    \
	{ .name = #T, .size = sizeof(T), .fields = (fieldarray),                                 \
	  .nfields = sizeof(fieldarray) / sizeof((fieldarray)[0]), __VA_ARGS__ }

/* --- Errors. --- */

#define CONF_MAX_ERRORS 100 /* further errors are only counted (dropped) */

struct conf_error {
	int line, col; /* 1-based; 0 when the error has no position (file unreadable) */
	char *path;    /* dotted key path ("tunnel.hello_interval", "peers[2].key"), or NULL */
	char *msg;     /* the message alone ("out of range (1-3600)") */
	char *text;    /* the full line: "file:line:col: key 'path': msg" */
};

/* A list of errors.  Zero-initialise (or conf_errors_init); free with conf_errors_free. */
struct conf_errors {
	struct conf_error *v;
	size_t count, cap;
	size_t dropped; /* errors beyond CONF_MAX_ERRORS (or not recorded for lack of memory) */
};

void conf_errors_init(struct conf_errors *e);
/* Frees the messages and empties the list (it may be reused). */
void conf_errors_free(struct conf_errors *e);
/* Writes one line per error (text + '\n'), and a line for the dropped ones. */
void conf_errors_print(const struct conf_errors *e, FILE *fp);
/* Logs one log_warnx() per error. */
void conf_errors_log(const struct conf_errors *e);

/* --- Loading. --- */

/* Loads the YAML file at path (borrowed) into *out (a struct of schema->size bytes).  Returns 0
 * on success: *out is overwritten (the previous content is NOT freed: load into a new struct,
 * then conf_free() the old one and swap).  Otherwise returns -EINVAL (the file has errors),
 * -ENOENT/-EACCES/... (it cannot be read) or -ENOMEM, appends every error to errs (may be NULL)
 * and leaves *out untouched.  Nothing is kept from errs: call conf_errors_free after use. */
int conf_load(const char *path, const struct conf_schema *schema, void *out,
              struct conf_errors *errs);
/* Same from a string (borrowed), for tests and built-in configs; name appears in messages
 * (NULL: "<string>"); relative secret files are relative to the current directory. */
int conf_load_string(const char *name, const char *text, const struct conf_schema *schema,
                     void *out, struct conf_errors *errs);
/* Loads from an already-parsed node (the root of a config, or a sub-tree of some other YAML
 * file); file and basedir (may be NULL) serve for messages and relative secret paths. */
int conf_load_node(const struct ynode *node, const char *file, const char *basedir,
                   const struct conf_schema *schema, void *out, struct conf_errors *errs);
/* How conf_load_report() reports errors: every error to stderr (start-up and -t), or to the
 * log (SIGHUP and the "reload" command). */
enum conf_report { CONF_REPORT_STDERR, CONF_REPORT_LOG };
/* A daemon's config load: conf_load() of path, or conf_load_string() of text when text is not
 * NULL (path then names it in messages), with every error reported as `how` says and the first
 * one (or why the file could not be read) copied into err (may be NULL) for the control
 * socket's reply.  Returns as conf_load; *out untouched on failure. */
int conf_load_report(const char *path, const char *text, const struct conf_schema *schema,
                     void *out, enum conf_report how, char *err, size_t errlen);
/* Frees everything conf_load allocated in obj (strings, byte buffers, wiping secrets; lists,
 * recursively) and zeroes those members.  Safe on a zeroed struct and twice. */
void conf_free(const struct conf_schema *schema, void *obj);

/* --- The value parsers, for command-line arguments and control-socket commands. --- */

/* "250ms" "30s" "5m" "1h" "1d" -> milliseconds.  -EINVAL (syntax, missing unit), -ERANGE. */
int conf_parse_duration(const char *s, uint64_t *ms);
/* "4096" "64KiB" "1MiB" "10MB" -> bytes.  -EINVAL, -ERANGE. */
int conf_parse_size(const char *s, uint64_t *bytes);
/* Formats milliseconds with the largest unit that divides them ("30s", "1500ms"). */
const char *conf_fmt_duration(uint64_t ms, char *buf, size_t len);

#endif
