/* Logging (see roam/log.h).  The only process-wide state in libroam: the log destination. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>

#include "roam/log.h"

static struct {
	const char *ident;
	int foreground;
	enum log_level level;
} lg = { "roam", 1, LOG_LVL_INFO };

void log_init(const char *ident, int foreground, enum log_level level)
{
	lg.ident = ident;
	lg.foreground = foreground;
	lg.level = level;
	if (!foreground)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void log_setlevel(enum log_level level) { lg.level = level; }
enum log_level log_getlevel(void) { return lg.level; }

int log_level_parse(const char *s)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	for (int i = 0; i < 4; i++)
		if (strcasecmp(s, names[i]) == 0)
			return i;
	return -1;
}

static void vlog(enum log_level lvl, int with_errno, const char *fmt, va_list ap)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	static const char *const tag[] = { "error", "warning", "info", "debug" };
	int saved = errno;
	if (lvl > lg.level)
		return;
	char msg[1024];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (with_errno) {
		size_t n = strlen(msg);
		snprintf(msg + n, sizeof(msg) - n, ": %s", strerror(saved));
	}
	if (lg.foreground) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		struct tm tm;
		localtime_r(&ts.tv_sec, &tm);
		fprintf(stderr, "%02d:%02d:%02d.%03ld %s[%s]: %s\n", tm.tm_hour, tm.tm_min, tm.tm_sec,
			ts.tv_nsec / 1000000, lg.ident, tag[lvl], msg);
	} else {
		syslog(prio[lvl], "%s", msg);
	}
	errno = saved;
}

#define LOGFN(name, lvl, err)                   \
	void name(const char *fmt, ...)         \
	{                                       \
		va_list ap;                     \
		va_start(ap, fmt);              \
		vlog(lvl, err, fmt, ap);        \
		va_end(ap);                     \
	}
LOGFN(log_warn, LOG_LVL_WARN, 1)
LOGFN(log_warnx, LOG_LVL_WARN, 0)
LOGFN(log_info, LOG_LVL_INFO, 0)
LOGFN(log_debug, LOG_LVL_DEBUG, 0)

void fatal(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(LOG_LVL_ERR, 1, fmt, ap);
	va_end(ap);
	exit(1);
}

void fatalx(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(LOG_LVL_ERR, 0, fmt, ap);
	va_end(ap);
	exit(1);
}

int log_rl_allow(struct log_ratelimit *rl, uint64_t now_ms, uint32_t *suppressed_before)
{
	uint32_t burst = rl->burst ? rl->burst : 10;
	uint32_t interval = rl->interval_ms ? rl->interval_ms : 1000;
	uint32_t unused;
	if (!suppressed_before)
		suppressed_before = &unused;
	*suppressed_before = 0;
	if (rl->window_start == 0 || now_ms - rl->window_start >= interval) {
		rl->window_start = now_ms ? now_ms : 1;
		rl->count = 0;
	}
	if (rl->count >= burst) {
		rl->suppressed++;
		return 0;
	}
	rl->count++;
	*suppressed_before = rl->suppressed;
	rl->suppressed = 0;
	return 1;
}

void log_rl_warnx(struct log_ratelimit *rl, const char *fmt, ...)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t now = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	uint32_t sup;
	if (!log_rl_allow(rl, now, &sup))
		return;
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (sup)
		log_warnx("%s (%u similar messages suppressed)", msg, sup);
	else
		log_warnx("%s", msg);
}
