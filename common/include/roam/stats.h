/* Named counters for a daemon's "stats" control command.  A daemon keeps its counters as
 * uint64_t fields of one struct and describes them with a table:
 *
 *     struct hlrd_stats { uint64_t rx, rx_bad_auth, tx; };
 *     static const struct stats_def hlrd_stats_defs[] = {
 *             STATS_DEF(struct hlrd_stats, rx),
 *             STATS_DEF(struct hlrd_stats, rx_bad_auth),
 *             STATS_DEF(struct hlrd_stats, tx),
 *     };
 *     h->stats_table = (struct stats_table){ &h->stats, hlrd_stats_defs,
 *                                            STATS_COUNT(hlrd_stats_defs) };
 *     stats_register(h->ctl, &h->stats_table);
 *
 * "stats" then replies {"rx":12,"rx_bad_auth":0,"tx":12}. */
#ifndef ROAM_STATS_H
#define ROAM_STATS_H
#include <stddef.h>
#include <stdint.h>

#include "roam/ctl.h"
#include "roam/json.h"

struct stats_def {
	const char *name;  /* JSON key */
	size_t offset;     /* of a uint64_t within the counter struct */
};

#define STATS_DEF(type, field) { #field, offsetof(type, field) }
#define STATS_NAMED(name, type, field) { name, offsetof(type, field) }
#define STATS_COUNT(defs) (sizeof(defs) / sizeof((defs)[0]))

struct stats_table {
	const void *base;             /* the counter struct (borrowed) */
	const struct stats_def *defs; /* borrowed */
	size_t n;
};

/* Writes the counters as one JSON object {"name": value, ...} in table order. */
void stats_write(struct json_writer *w, const struct stats_table *t);
/* Registers the "stats" command on ctl, replying with stats_write().  `t` is borrowed and must
 * outlive the ctl.  Errors as ctl_register(). */
int stats_register(struct roam_ctl *ctl, const struct stats_table *t);

#endif
