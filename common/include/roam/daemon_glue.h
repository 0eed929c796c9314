/* The glue a daemon writes around roam_daemon_main() (roam/daemon.h) that is the same from one
 * daemon to the next: the accessors of struct roam_daemon_desc, the end of the load callback,
 * and the reload rule for members that need a restart.
 *
 * ROAM_DAEMON_ACCESSORS(prefix, type) defines, in the manner of OpenBSD's RB_GENERATE, for a
 * daemon state `type` with members conf.control_socket, conf.user (char *) and ctl (struct
 * roam_ctl *), and a function `int prefix_ctl_register(type *)`:
 *     static const char *prefix_ctl_path(void *arg);          the desc's ctl_path
 *     static const char *prefix_user(void *arg);              the desc's user
 *     static int prefix_ctl_setup(void *arg, struct roam_ctl *ctl);
 *                                   the desc's ctl_register: keeps ctl (borrowed) in the state,
 *                                   then registers the daemon's commands
 * ROAM_DAEMON_DESC(prefix, state, caps) is the struct roam_daemon_desc of a daemon named
 * "prefix" whose callbacks are named after it: prefix_load, prefix_setup, prefix_cleanup,
 * prefix_reload, prefix_shutdown, prefix_status and the three above; state (a pointer to the
 * daemon's state) is ops.arg, caps the keep_caps mask.
 *
 * Used by lacd, lnsd, fad, had, hlrd, cnd, sipd and mnd; every daemon's main.c has the same
 * functions and desc. */
#ifndef ROAM_DAEMON_GLUE_H
#define ROAM_DAEMON_GLUE_H
#include <stdbool.h>
#include <string.h>

#include "roam/addr.h"
#include "roam/daemon.h"

#define ROAM_DAEMON_ACCESSORS(prefix, type)                                                      \
	static const char *prefix##_ctl_path(void *arg)                                          \
	{                                                                                        \
		return ((type *)arg)->conf.control_socket;                                       \
	}                                                                                        \
	static const char *prefix##_user(void *arg)                                              \
	{                                                                                        \
		return ((type *)arg)->conf.user;                                                 \
	}                                                                                        \
	static int prefix##_ctl_setup(void *arg, struct roam_ctl *ctl)                           \
	{                                                                                        \
		type *h_ = arg;                                                                  \
		h_->ctl = ctl;                                                                   \
		return prefix##_ctl_register(h_);                                                \
	}

#define ROAM_DAEMON_DESC(prefix, state, caps)                                                    \
	{                                                                                        \
		.name = #prefix, .load = prefix##_load, .ctl_path = prefix##_ctl_path,           \
		.user = prefix##_user, .keep_caps = (caps), .setup = prefix##_setup,             \
		.ctl_register = prefix##_ctl_setup, .cleanup = prefix##_cleanup,                 \
		.ops = { .reload = prefix##_reload, .shutdown = prefix##_shutdown,              \
			 .status = prefix##_status, .arg = (state) },                            \
	}

/* The end of a desc's load callback, the config loaded: with -t prints "CONFIG: configuration
 * OK (SUMMARY)" to stdout (SUMMARY from the printf format fmt; fmt NULL: no summary, "CONFIG:
 * configuration OK"), otherwise sets the log level to the config's log_level unless -d asked
 * for debug.  Returns 0. */
int roam_daemon_loaded(const struct roam_args *args, int log_level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Reload of a member the running daemon cannot apply: when changed, logs "reload: WHAT
 * changes take effect at the next restart".  Returns changed. */
bool roam_reload_needs_restart(bool changed, const char *what);

/* Reload: keeps the running value of member (one that needs a restart) by swapping it between
 * the new config *nc and the running one *rc, which is then freed: strings stay owned once. */
#define ROAM_CONF_KEEP(nc, rc, member)                                                           \
	do {                                                                                     \
		__typeof__((nc)->member) keep_ = (nc)->member;                                   \
		(nc)->member = (rc)->member;                                                     \
		(rc)->member = keep_;                                                            \
	} while (0)

/* The members every daemon's config has and none applies at a reload: listen and port, and
 * control_socket.  ROAM_RELOAD_WARN_LISTEN warns about changes (roam_reload_needs_restart),
 * ROAM_CONF_KEEP_LISTEN keeps the running values (ROAM_CONF_KEEP: a second call undoes the
 * first); nc is the new config, rc the running one. */
#define ROAM_RELOAD_WARN_LISTEN(nc, rc)                                                          \
	do {                                                                                     \
		roam_reload_needs_restart(!roam_ipaddr_eq(&(nc)->listen, &(rc)->listen) ||        \
						  (nc)->port != (rc)->port,                      \
					  "listen/port");                                        \
		roam_reload_needs_restart(strcmp((nc)->control_socket, (rc)->control_socket) != 0, \
					  "control_socket");                                     \
	} while (0)
#define ROAM_CONF_KEEP_LISTEN(nc, rc)                                                            \
	do {                                                                                     \
		ROAM_CONF_KEEP(nc, rc, listen);                                                  \
		ROAM_CONF_KEEP(nc, rc, port);                                                    \
		ROAM_CONF_KEEP(nc, rc, control_socket);                                          \
	} while (0)

#endif
