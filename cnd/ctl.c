/* Control commands of cnd (cnd(8) CONTROL COMMANDS): status (lifecycle + every module), stats,
 * and each module's own commands (mip4-bindings ...). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cnd.h"

void cnd_status(void *arg, struct json_writer *w)
{
	struct cnd *c = arg;
	roam_modules_status(c->mods, CND_NMODULES, c, w);
}

static int cmd_stats(void *arg, const struct json_value *args, struct json_writer *w, char *err,
		     size_t errlen)
{
	struct cnd *c = arg;
	(void)args, (void)err, (void)errlen;
	json_obj_begin(w);
	cnd_status(c, w);
	json_obj_end(w);
	return 0;
}

int cnd_ctl_register(struct cnd *c)
{
	int r;
	if ((r = ctl_register(c->ctl, "stats", "counters of every module", cmd_stats, c)) < 0)
		return r;
	return roam_modules_ctl_register(c->mods, CND_NMODULES, c, c->ctl);
}
