/* Glue shared by the daemons' main.c around roam_daemon_main() (see roam/daemon_glue.h). */
#include <stdarg.h>
#include <stdio.h>

#include "roam/daemon_glue.h"
#include "roam/log.h"

int roam_daemon_loaded(const struct roam_args *args, int log_level, const char *fmt, ...)
{
	char summary[256];
	va_list ap;
	if (args->check_only && !fmt) {
		printf("%s: configuration OK\n", args->config);
	} else if (args->check_only) {
		va_start(ap, fmt);
		vsnprintf(summary, sizeof(summary), fmt, ap);
		va_end(ap);
		printf("%s: configuration OK (%s)\n", args->config, summary);
	} else if (!args->debug) {
		log_setlevel((enum log_level)log_level);
	}
	return 0;
}

bool roam_reload_needs_restart(bool changed, const char *what)
{
	if (changed)
		log_warnx("reload: %s changes take effect at the next restart", what);
	return changed;
}
