/* Named counters rendered for the "stats" control command (see roam/stats.h). */
#include <string.h>

#include "roam/stats.h"

void stats_write(struct json_writer *w, const struct stats_table *t)
{
	json_obj_begin(w);
	for (size_t i = 0; i < t->n; i++) {
		uint64_t v;
		/* memcpy: the offset need not be aligned for a uint64_t read through a cast. */
		memcpy(&v, (const char *)t->base + t->defs[i].offset, sizeof(v));
		json_kv_uint(w, t->defs[i].name, v);
	}
	json_obj_end(w);
}

static int stats_handler(void *arg, const struct json_value *args, struct json_writer *w,
			 char *err, size_t errlen)
{
	(void)args, (void)err, (void)errlen;
	stats_write(w, arg);
	return 0;
}

int stats_register(struct roam_ctl *ctl, const struct stats_table *t)
{
	return ctl_register(ctl, "stats", "show the counters", stats_handler, (void *)t);
}
