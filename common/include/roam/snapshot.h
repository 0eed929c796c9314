/* State snapshots: tables that must survive a restart (bindings, parked calls, location
 * service) written atomically to one file and loaded at start.  Format: docs/snapshot.md.
 *
 * Records are opaque here: a daemon encodes each entry with a wbuf and gives the bytes to
 * snap_put under a record type of its own; at load it decodes the body with the rbuf it is
 * handed.  Expiry times are stored as wall-clock ms (roam_mono_to_wall) and converted back at
 * load (roam_wall_to_mono); entries already expired are dropped by the daemon at load.
 *
 * Atomicity: the writer writes PATH.tmp in the same directory; snap_commit flushes and fsyncs
 * it, renames it over PATH and fsyncs the directory.  A crash at any point leaves either the
 * old complete file or the new complete file at PATH (plus possibly a stale PATH.tmp, which is
 * never read and is overwritten by the next writer).
 *
 * The loader checks the whole file (magic, version, kind, every record header, trailer count
 * and CRC-32) before calling the callback even once, so a corrupt file never yields a partial
 * load. */
#ifndef ROAM_SNAPSHOT_H
#define ROAM_SNAPSHOT_H
#include <stddef.h>
#include <stdint.h>
#include <uv.h>
#include "roam/buf.h"

#define SNAP_MAGIC        "ROAMSNAP"
#define SNAP_VERSION      1
#define SNAP_KIND_MAX     255          /* bytes of the kind string */
#define SNAP_RECORD_MAX   (16u << 20)  /* largest record body accepted (16 MiB) */
#define SNAP_TYPE_TRAILER 0xffff       /* reserved for the trailer; not usable by snap_put */

struct snap_writer; /* opaque */

/* Starts a snapshot of `kind` (e.g. "hlrd/1": names the daemon's table set and its record
 * encoding version; 1..SNAP_KIND_MAX bytes) to be committed at path.  Creates PATH.tmp (mode
 * 0600, truncating a stale one).  The header records the current wall-clock time.
 * *wp receives a writer owned by the caller until snap_commit or snap_abort.
 * Errors: -EINVAL (bad kind or path), -ENOMEM, -errno from open/write. */
int snap_writer_open(struct snap_writer **wp, const char *path, const char *kind);
/* Appends one record: type 0..0xfffe, len <= SNAP_RECORD_MAX bytes of data (borrowed).
 * Errors: -EINVAL (type or len), -errno from write.  After an error the writer is poisoned:
 * later puts fail and snap_commit returns the first error (and aborts). */
int snap_put(struct snap_writer *w, uint16_t type, const void *data, size_t len);
/* Writes the trailer, fflush + fsync PATH.tmp, renames it over PATH, fsyncs the directory, and
 * frees w (always, also on error: on error PATH.tmp is removed and PATH is untouched).
 * Returns 0 or -errno (or the first error of a snap_put). */
int snap_commit(struct snap_writer *w);
/* Discards the snapshot: closes and removes PATH.tmp, frees w.  PATH is untouched.  NULL ok. */
void snap_abort(struct snap_writer *w);
/* Records put so far. */
uint32_t snap_writer_count(const struct snap_writer *w);

/* Record callback for snap_load: body is a read cursor over exactly the record's bytes,
 * borrowed for the call.  Return 0 to go on, or a negative errno-style code to abort the load
 * (snap_load returns it; a positive value aborts with -ECANCELED).  Records already handed over
 * stay with the daemon, which discards them when the load fails. */
typedef int (*snap_record_cb)(void *arg, uint16_t type, struct rbuf *body);

struct snap_info {
	uint64_t written_ms; /* wall-clock ms when the snapshot was started */
	uint32_t records;
};

/* Loads the snapshot at path, calling cb for each record in file order.  info (may be NULL)
 * receives the header's time and the record count, filled before the first callback.
 * Returns 0 when every record was handed to cb;
 *   -ENOENT:  no file (a normal first start);
 *   -EBADMSG: not a snapshot, unknown version, truncated, corrupt (CRC), or a different kind
 *             (no callback has been called in all these cases);
 *   -EFBIG:   file larger than the reader accepts (1 GiB);
 *   the callback's negative code when it aborted the load;
 *   -errno from open/read/fstat, -ENOMEM. */
int snap_load(const char *path, const char *kind, snap_record_cb cb, void *arg,
              struct snap_info *info);

/* Periodic saves on a libuv timer.  Embedded in the daemon's state.  save(arg) writes a whole
 * snapshot (snap_writer_open ... snap_commit) and returns 0 or a negative code; failures are
 * logged (rate-limited by the interval) and counted, and the timer keeps running.
 * The struct must stay valid until the loop has run the close callback (uv_run after
 * snap_timer_close, as at every daemon shutdown). */
struct snap_timer {
	uv_timer_t timer;
	uint64_t interval_ms;
	int (*save)(void *arg);
	void *arg;
	uint64_t saves, failures;
	int last_err;
	int started, closing;
};

/* Starts saving every interval_ms (> 0).  -EINVAL for a zero interval or NULL save, else
 * libuv's error.  The timer is unref'ed: it does not keep the loop alive by itself. */
int snap_timer_start(struct snap_timer *st, uv_loop_t *loop, uint64_t interval_ms,
                     int (*save)(void *arg), void *arg);
/* What a daemon does at start and on every reload: starts the periodic save when path is set
 * (NULL or "": snapshots off, nothing started), or, when the timer already runs, applies a
 * changed interval.  Returns 0 or snap_timer_start's / libuv's error. */
int snap_timer_configure(struct snap_timer *st, uv_loop_t *loop, const char *path,
                         uint64_t interval_ms, int (*save)(void *arg), void *arg);
/* Saves now (e.g. at shutdown or on a control command) and restarts the interval.
 * Returns save's result. */
int snap_timer_save_now(struct snap_timer *st);
/* Stops the timer and closes the handle; safe twice and on a never-started struct.
 * Does not save: call snap_timer_save_now first at shutdown. */
void snap_timer_close(struct snap_timer *st);

#endif
