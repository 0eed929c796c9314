/* What every daemon with a snapshot (roam/snapshot.h, docs/snapshot.md) does around it: the
 * address encoding its records share, a whole save with its counters and log line, the load at
 * start, the "save" control command, and the two config keys.
 *
 * The counters are the daemon's own (members of its stats struct, borrowed). */
#ifndef ROAM_SNAPSHOT_STORE_H
#define ROAM_SNAPSHOT_STORE_H
#include <stddef.h>
#include <stdint.h>

#include "roam/addr.h"
#include "roam/buf.h"
#include "roam/conf.h"
#include "roam/snapshot.h"

/* An address in a record: u8 family (4 or 6), then 16 bytes, the address zero-padded
 * (roam_ipaddr_key).  SNAP_ADDR_LEN bytes. */
#define SNAP_ADDR_LEN 17
void snap_put_addr(struct wbuf *w, const struct roam_ipaddr *a);
/* Reads one into *a.  -EBADMSG: short, or a family other than 4 and 6. */
int snap_get_addr(struct rbuf *r, struct roam_ipaddr *a);

/* snap_put of the record encoded in w (borrowed): w's error (a record that did not fit) if it
 * has one, else snap_put's result. */
int snap_put_wbuf(struct snap_writer *sw, uint16_t type, const struct wbuf *w);

/* Puts every record of a snapshot into w (snap_put; borrowed).  Returns 0, or a negative code
 * that abandons the snapshot. */
typedef int (*snap_fill_fn)(struct snap_writer *w, void *arg);

/* Writes the snapshot of `kind` at path: snap_writer_open, fill, snap_commit (snap_abort when
 * fill fails).  path NULL or "": snapshots are off, returns 0 and counts nothing.  Counts a
 * success in *saves, a failure in *failures (logged "snapshot PATH: error").  Returns 0 or the
 * negative code of the step that failed. */
int snap_save_file(const char *path, const char *kind, snap_fill_fn fill, void *arg,
		   uint64_t *saves, uint64_t *failures);

/* Loads the snapshot at path at start-up (snap_load with cb and arg).  path NULL or "" or no
 * file: returns 0 (nothing to restore).  Any other failure is logged "snapshot PATH: error;
 * starting with no WHAT" and returned (records already handed over stay with the daemon).  On
 * success logs "snapshot PATH: N WHAT restored, M expired or skipped" from the daemon's
 * counters *loaded and *skipped (read after the load) and returns 1. */
int snap_load_file(const char *path, const char *kind, snap_record_cb cb, void *arg,
		   const char *what, const uint64_t *loaded, const uint64_t *skipped);

/* The "save" control command: writes the snapshot now, through the timer when it runs
 * (snap_timer_save_now: the interval restarts) else by save(arg).  Returns 0, or -ENOENT "no
 * snapshot file configured" (path NULL or ""), or save's error "snapshot: strerror", with the
 * message in err (errlen bytes) ready for the control reply. */
int snap_save_command(struct snap_timer *st, const char *path, int (*save)(void *arg), void *arg,
		      char *err, size_t errlen);

/* The config keys "snapshot" (a string rather than a path: "" turns snapshots off; default
 * path_dflt) and "snapshot_interval" (1 s .. 1 day, default interval_dflt) for members
 * `char *snapshot; uint32_t or uint64_t snapshot_interval;` of struct T. */
#define SNAP_CONF_FIELDS(T, path_dflt, interval_dflt)                                      \
	CONF_STRING("snapshot", T, snapshot, .dflt = (path_dflt), .umax = 4095,                   \
		    .help = "snapshot file; empty string: no snapshots"),                         \
	CONF_DURATION("snapshot_interval", T, snapshot_interval, .dflt = (interval_dflt),         \
		      .umin = 1000, .umax = 86400000, .help = "how often the snapshot is written")

#endif
