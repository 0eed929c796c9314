/* Daemon lifecycle shared by every roam daemon: command line, detaching, pidfile, signals,
 * the standard control commands, privilege drop.  A daemon's main() is one call:
 *
 *     int main(int argc, char **argv)
 *     {
 *             struct hlrd h = { 0 };
 *             const struct roam_daemon_desc desc = {
 *                     .name = "hlrd", .load = hlrd_load, .setup = hlrd_setup,
 *                     .ctl_path = hlrd_ctl_path, .user = hlrd_user,
 *                     .ctl_register = hlrd_ctl_setup, .cleanup = hlrd_cleanup,
 *                     .ops = { .reload = hlrd_reload, .shutdown = hlrd_shutdown,
 *                              .status = hlrd_status, .arg = &h },
 *             };
 *             return roam_daemon_main(argc, argv, &desc);
 *     }
 *
 * roam_daemon_main() is built from the pieces below (argument parsing, roam_daemon_start,
 * roam_daemon_register_ctl, roam_daemon_drop_privs, roam_daemon_ready, roam_daemon_close),
 * which stay public for tools and tests that need only some of them.
 */
#ifndef ROAM_DAEMON_H
#define ROAM_DAEMON_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

#include "roam/ctl.h"
#include "roam/json.h"

#ifndef ROAM_VERSION
#define ROAM_VERSION "0.1.0"
#endif

#define ROAM_CONF_DIR "/etc/roam"
#define ROAM_RUN_DIR "/run/roam"
#define ROAM_PATH_MAX 4096

/* ---- command line: NAME [-c FILE] [-f] [-t] [-p PIDFILE] [-d] [-h] [-V] ---- */

struct roam_args {
	char name[32];             /* program name as given to roam_args_parse() */
	char config[ROAM_PATH_MAX];  /* -c, default /etc/roam/NAME.yaml */
	char pidfile[ROAM_PATH_MAX]; /* -p, default /run/roam/NAME.pid */
	bool foreground;           /* -f: stay attached, log to stderr */
	bool check_only;           /* -t: check the config and exit 0/1 */
	bool debug;                /* -d: log level debug */
};

enum {
	ROAM_ARGS_RUN = 0,  /* go on starting */
	ROAM_ARGS_EXIT = 1, /* -h or -V was handled (printed to stdout): exit 0 */
};

/* Parses argv (argv[0] is skipped).  Options may be bundled ("-fd") and option values attached
 * ("-cFILE") or separate; "--" ends options; "--help" and "--version" are accepted.  No
 * positional arguments.  Returns ROAM_ARGS_RUN, ROAM_ARGS_EXIT, or -EINVAL after printing the
 * problem and the usage message to stderr (the caller exits 2).  No global state (no getopt). */
int roam_args_parse(struct roam_args *a, const char *name, int argc, char *const argv[]);
/* Prints the usage message to f (a FILE *; void * keeps stdio out of this header). */
void roam_args_usage(void *f, const char *name);

/* ---- pidfile ---- */

struct roam_pidfile {
	int fd;                   /* -1 when not held */
	char path[ROAM_PATH_MAX];
};

/* Opens and locks (flock, exclusive) the pidfile at path, creating it (0644) and its parent
 * directory (0755, one level) if missing.  A file left by a dead instance (not locked) is reused.
 * Errors: -EEXIST when a live process holds it (its pid, if readable, in *holder; may be NULL),
 * or the open/lock error.  The lock is inherited across fork (the detached child keeps it). */
int roam_pidfile_open(struct roam_pidfile *pf, const char *path, pid_t *holder);
/* Writes pid (replacing the contents). */
int roam_pidfile_write(struct roam_pidfile *pf, pid_t pid);
/* Removes the file (if it is still the one we locked) and releases the lock; safe twice. */
void roam_pidfile_remove(struct roam_pidfile *pf);

/* ---- lifecycle ---- */

struct roam_daemon;

struct roam_daemon_ops {
	/* SIGHUP and the "reload" command: load `config` (args.config) again and apply it.  Return
	 * 0, or a negative code with the reason in err: the daemon then keeps its running config.
	 * May be NULL (reload then replies "reload not supported"). */
	int (*reload)(void *arg, const char *config, char *err, size_t errlen);
	/* SIGTERM/SIGINT, called once: save snapshots, close every handle (ctl included) so that
	 * uv_run() returns. */
	void (*shutdown)(void *arg);
	/* Optional: extra members for the "status" reply object (write json_kv_* pairs). */
	void (*status)(void *arg, struct json_writer *w);
	void *arg; /* borrowed, passed to the callbacks */
};

/* Starts the lifecycle: locks the pidfile (refusing to start if another instance holds it),
 * detaches unless args->foreground (double fork + setsid, stdin/stdout to /dev/null; stderr stays
 * on the terminal until roam_daemon_ready(), so start-up errors are seen), writes the pidfile,
 * sets the log level (-d), ignores SIGPIPE and installs SIGHUP/SIGTERM/SIGINT watchers on loop.
 * `loop` must be initialised (uv_loop_init; uv_loop_fork() is applied in the detached child).
 * When detaching, the working directory becomes "/" (the config and pidfile paths are made
 * absolute first; other paths in a config should be absolute).  `args` and `ops` are copied,
 * except args->name, which stays borrowed as the log ident (keep args alive, e.g. in main()).
 * Errors: -EEXIST (already running), -ENOMEM, fork/open/uv errors; each is
 * logged.  The parent processes of the detach never return: they exit 0 once the daemon calls
 * roam_daemon_ready(), or 1 if it dies first. */
int roam_daemon_start(struct roam_daemon **out, uv_loop_t *loop, const struct roam_args *args,
		      const struct roam_daemon_ops *ops);
/* Registers "status", "reload" and "log-level" on ctl (borrowed; d must outlive its use). */
int roam_daemon_register_ctl(struct roam_daemon *d, struct roam_ctl *ctl);
/* Start-up is complete: the waiting parent exits 0, stderr goes to /dev/null and logging to
 * syslog (unless foreground).  Safe twice. */
void roam_daemon_ready(struct roam_daemon *d);
/* Runs the reload callback now (as SIGHUP does) and records the result for "status".
 * Returns the callback's result; err gets the message. */
int roam_daemon_reload(struct roam_daemon *d, char *err, size_t errlen);
/* Runs the shutdown callback unless it already ran (as SIGTERM does). */
void roam_daemon_shutdown(struct roam_daemon *d);
/* True once shutdown has begun. */
bool roam_daemon_stopping(const struct roam_daemon *d);
/* Removes the pidfile, closes the signal watchers; memory is freed in their close callbacks
 * (run the loop once more).  Safe twice; NULL is fine. */
void roam_daemon_close(struct roam_daemon *d);

/* ---- privileges ---- */

#define ROAM_CAP(c) (1ULL << (c))
/* CAP_NET_ADMIN (12), CAP_NET_RAW (13), CAP_NET_BIND_SERVICE (10). */
#define ROAM_CAPS_NET (ROAM_CAP(12) | ROAM_CAP(13) | ROAM_CAP(10))

/* Switches to `user` (NULL means "roam") and its groups, keeping only the capabilities in
 * keep_caps (a mask of ROAM_CAP() bits) as permitted and effective.  Call after every socket and
 * device is open.  When not running as root it does nothing; when the user does not exist it
 * warns and stays root.  Returns 0, or a negative code (the caller should then exit: a half
 * dropped process is not safe to run). */
int roam_daemon_drop_privs(const char *user, uint64_t keep_caps);


/* ---- the whole main() ---- */
/* What a daemon hands roam_daemon_main().  Every callback gets ops.arg (the daemon's state). */
struct roam_daemon_desc {
	const char *name; /* program name: log ident, default config and pidfile names */
	/* Loads args->config into the daemon's state.  With args->check_only (-t): print every
	 * error to stderr and, when the file is valid, a one-line summary to stdout.  Returns 0 or
	 * a negative code (the errors already reported).  args stays valid until main returns. */
	int (*load)(void *arg, const struct roam_args *args);
	/* The loaded config's control socket path, and the user to run as (NULL or "": stay
	 * root). */
	const char *(*ctl_path)(void *arg);
	const char *(*user)(void *arg);     /* may be NULL */
	uint64_t keep_caps;                 /* ROAM_CAP() mask kept after the privilege drop */
	/* After detaching and taking the pidfile, before the control socket opens: open sockets,
	 * devices and tables, load snapshots.  A negative return aborts the start (log why). */
	int (*setup)(void *arg, uv_loop_t *loop, struct roam_daemon *d);
	/* Registers the daemon's own control commands (ctl is borrowed until shutdown). */
	int (*ctl_register)(void *arg, struct roam_ctl *ctl);
	/* After the loop has ended, whether the start succeeded or not, and after -t: free
	 * whatever load and setup made.  Must cope with a setup that stopped half way. */
	void (*cleanup)(void *arg);
	/* reload and status as in roam_daemon_ops; shutdown closes the daemon's own handles (not
	 * the control socket: roam_daemon_main closes it after shutdown returns).  shutdown also
	 * runs after a failed start, so it must cope with a setup that stopped half way. */
	struct roam_daemon_ops ops;
};

/* Runs a daemon from argv to exit, in the order every roam daemon follows: arguments, logging,
 * config (-t stops here), event loop, lifecycle (detach, pidfile, signals), setup, control
 * socket with the standard and the daemon's commands, privilege drop, ready, the loop until
 * SIGTERM, cleanup.  Returns main()'s exit code: 0 clean exit (or -t on a valid file), 1
 * invalid config or failed start, 2 usage error. */
int roam_daemon_main(int argc, char **argv, const struct roam_daemon_desc *desc);

#endif
