/* Control socket: every daemon answers line-delimited JSON requests on a Unix stream socket.
 * The protocol (framing, requests, replies, errors, limits, access control) is specified in
 * docs/protocols/control.md; in short, one request per line
 *     {"cmd":"NAME","args":{...}}
 * and one reply per line
 *     {"ok":true,"result":<any JSON>}   or   {"ok":false,"error":"text"}
 *
 * Commands register themselves with ctl_register(); "help" is built in.  Handlers run on the
 * loop thread, synchronously, and must not block. */
#ifndef ROAM_CTL_H
#define ROAM_CTL_H
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "roam/json.h"

#define CTL_MAX_LINE (64 * 1024)   /* longest request line, newline excluded */
#define CTL_MAX_CLIENTS 32         /* concurrent connections; more are refused */
#define CTL_IDLE_MS 60000          /* a connection silent this long is closed */
#define CTL_DEFAULT_MODE 0660      /* socket file mode when ctl_open() is given 0 */
#define CTL_MAX_NAME 63            /* longest command name */
#define CTL_MAX_REPLY (256u * 1024 * 1024) /* longest reply ctl_call() accepts */

struct roam_ctl;

/* A command.  `args` is the request's "args" object (an empty object when the request has none;
 * never NULL; borrowed for the call).  On success write exactly one JSON value into `result` (an
 * object, array or scalar; writing nothing replies null) and return 0.  On failure return a
 * negative errno-style code and put a message for the client in err (NUL-terminated, errlen
 * bytes at most; if left empty, strerror of the code is used).  Anything written to `result` on
 * failure is discarded. */
typedef int (*ctl_handler_fn)(void *arg, const struct json_value *args, struct json_writer *result,
			      char *err, size_t errlen);

/* Creates the control socket at `path` on `loop` and starts listening.
 * - The parent directory is created (mode 0755) if missing (one level only).
 * - An existing socket at `path` is probed: if a live daemon answers, -EADDRINUSE; if nobody
 *   listens (stale), it is removed.  A non-socket file at `path` is never removed: -EEXIST.
 * - The socket file gets `mode` (0 means CTL_DEFAULT_MODE, 0660).
 * - Each connection's peer (SO_PEERCRED) must be uid 0, the daemon's effective uid, or a member
 *   of the socket file's group; others get an error reply and are closed.
 * *out is owned by the caller and released with ctl_close().  Errors: -ENAMETOOLONG,
 * -EADDRINUSE, -EEXIST, -ENOMEM, or the error from mkdir/bind/listen/chmod (with a log_warnx). */
int ctl_open(struct roam_ctl **out, uv_loop_t *loop, const char *path, unsigned mode);

/* Registers a command.  `name` and `help` are copied; `arg` is borrowed and passed to fn (it
 * must outlive the ctl).  Errors: -EINVAL (empty or too long name, NULL fn), -EEXIST (name
 * already registered, including "help"), -ENOMEM. */
int ctl_register(struct roam_ctl *ctl, const char *name, const char *help, ctl_handler_fn fn,
		 void *arg);

/* Stops listening, closes every connection (pending replies may be lost), removes the socket
 * file (if it is still ours), and frees the ctl in the close callbacks (so run the loop once
 * more afterwards).  Safe to call twice, and from inside a handler; NULL is fine. */
void ctl_close(struct roam_ctl *ctl);

/* The socket path (borrowed from the ctl). */
const char *ctl_path(const struct roam_ctl *ctl);
/* Number of connected clients (for tests and status). */
unsigned ctl_nclients(const struct roam_ctl *ctl);

/* ---- argument helpers for handlers ----
 * Each returns 0 with the value (or the default) in *out, or a negative code with a message in
 * err naming the argument (ready to be returned by the handler as is). */

/* String argument.  def == NULL makes it required (-ENOENT "missing argument 'key'").  A number
 * argument is accepted too and yields its literal text (roamctl types "key=123" as a number).
 * Other types: -EINVAL.  The string is borrowed from args. */
int ctl_arg_str(const struct json_value *args, const char *key, const char *def, const char **out,
		char *err, size_t errlen);
/* Optional integer argument within [min, max]: -EINVAL if not an integer, -ERANGE if out of
 * range.  A string holding a decimal integer is accepted too. */
int ctl_arg_int(const struct json_value *args, const char *key, int64_t def, int64_t min,
		int64_t max, int64_t *out, char *err, size_t errlen);
/* Required integer argument within [min, max] (-ENOENT if missing). */
int ctl_arg_int_req(const struct json_value *args, const char *key, int64_t min, int64_t max,
		    int64_t *out, char *err, size_t errlen);
/* Optional boolean argument (true/false; also the strings "true"/"false"/"yes"/"no"/"on"/"off"
 * and the integers 0/1). */
int ctl_arg_bool(const struct json_value *args, const char *key, bool def, bool *out, char *err,
		 size_t errlen);

/* ---- synchronous client (roamctl, tests, scripts) ----
 * Connects to `path`, sends `request_json` (one JSON object; a newline is appended if missing;
 * it must contain no other newline), reads one reply line and returns it in *reply_out
 * (malloc'd, NUL-terminated, newline stripped; the caller frees it).  Blocking, plain sockets,
 * no libuv; timeout_ms bounds the whole exchange (<= 0 means 5000 ms).  Errors: -ENOENT (no
 * socket at path), -ECONNREFUSED (nobody listening), -EACCES, -ENAMETOOLONG, -EINVAL (request
 * has an embedded newline), -ETIMEDOUT, -ECONNRESET (closed before a full reply line),
 * -EMSGSIZE (reply over CTL_MAX_REPLY), -ENOMEM, or another connect/IO error. */
int ctl_call(const char *path, const char *request_json, char **reply_out, int timeout_ms);

#endif
