/* Logging, after OpenBSD's log.c: stderr in the foreground, syslog otherwise.
 * log_warn() appends strerror(errno).  fatal()/fatalx() are for start-up failures and broken
 * invariants only: nothing a peer sends may reach them. */
#ifndef ROAM_LOG_H
#define ROAM_LOG_H
#include <stdint.h>

enum log_level { LOG_LVL_ERR = 0, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* ident: program name; foreground: log to stderr (else syslog, facility daemon). */
void log_init(const char *ident, int foreground, enum log_level level);
void log_setlevel(enum log_level level);
enum log_level log_getlevel(void);
/* Parses "error", "warning", "info", "debug"; returns the level or -1. */
int log_level_parse(const char *s);

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Rate limiting for per-packet warnings: at most `burst` messages per `interval_ms`; the
 * number suppressed is reported with the next message let through.  Zero-initialise, then set
 * burst/interval_ms (0 means the defaults: 10 per 1000 ms).  The clock is the monotonic one. */
struct log_ratelimit {
	uint32_t burst, interval_ms;
	uint64_t window_start;
	uint32_t count, suppressed;
};
void log_rl_warnx(struct log_ratelimit *rl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Returns 1 if a message may be logged now (and accounts for it), 0 if it is suppressed.
 * suppressed_before (may be NULL) gets how many were suppressed since the last allowed one. */
int log_rl_allow(struct log_ratelimit *rl, uint64_t now_ms, uint32_t *suppressed_before);

#endif
