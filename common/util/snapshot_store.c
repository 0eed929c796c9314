/* The daemons' side of snapshots (roam/snapshot_store.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "roam/log.h"
#include "roam/snapshot_store.h"

void snap_put_addr(struct wbuf *w, const struct roam_ipaddr *a)
{
	uint8_t key[ROAM_IPADDR_KEYLEN];
	roam_ipaddr_key(a, key); /* byte 0: 4 or 6, then the address zero-padded to 16 */
	wbuf_put_bytes(w, key, sizeof(key));
}

int snap_get_addr(struct rbuf *r, struct roam_ipaddr *a)
{
	uint8_t fam, b[16];
	if (rbuf_get_u8(r, &fam) < 0 || rbuf_get_bytes(r, b, sizeof(b)) < 0)
		return -EBADMSG;
	memset(a, 0, sizeof(*a));
	if (fam == 4)
		return roam_ipaddr_from_bytes(a, AF_INET, b) < 0 ? -EBADMSG : 0;
	if (fam == 6)
		return roam_ipaddr_from_bytes(a, AF_INET6, b) < 0 ? -EBADMSG : 0;
	return -EBADMSG;
}

int snap_put_wbuf(struct snap_writer *sw, uint16_t type, const struct wbuf *w)
{
	return w->err < 0 ? w->err : snap_put(sw, type, w->buf, w->len);
}

static int path_set(const char *path)
{
	return path && *path;
}

int snap_save_file(const char *path, const char *kind, snap_fill_fn fill, void *arg,
		   uint64_t *saves, uint64_t *failures)
{
	if (!path_set(path))
		return 0;
	struct snap_writer *w;
	int r = snap_writer_open(&w, path, kind);
	if (r < 0)
		goto fail;
	r = fill(w, arg);
	if (r < 0) {
		snap_abort(w);
		goto fail;
	}
	r = snap_commit(w);
	if (r < 0)
		goto fail;
	(*saves)++;
	return 0;
fail:
	(*failures)++;
	log_warnx("snapshot %s: %s", path, strerror(-r));
	return r;
}

int snap_load_file(const char *path, const char *kind, snap_record_cb cb, void *arg,
		   const char *what, const uint64_t *loaded, const uint64_t *skipped)
{
	if (!path_set(path))
		return 0;
	int r = snap_load(path, kind, cb, arg, NULL);
	if (r == -ENOENT)
		return 0;
	if (r < 0) {
		log_warnx("snapshot %s: %s; starting with no %s", path, strerror(-r), what);
		return r;
	}
	log_info("snapshot %s: %llu %s restored, %llu expired or skipped", path,
		 (unsigned long long)*loaded, what, (unsigned long long)*skipped);
	return 1;
}

int snap_save_command(struct snap_timer *st, const char *path, int (*save)(void *arg), void *arg,
		      char *err, size_t errlen)
{
	if (!path_set(path)) {
		snprintf(err, errlen, "no snapshot file configured");
		return -ENOENT;
	}
	int r = st->started ? snap_timer_save_now(st) : save(arg);
	if (r < 0)
		snprintf(err, errlen, "snapshot: %s", strerror(-r));
	return r < 0 ? r : 0;
}
