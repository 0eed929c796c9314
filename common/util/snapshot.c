/* State snapshots: atomic write (tmp + fsync + rename + fsync dir) and validated load.
 * Format in docs/snapshot.md; contract in roam/snapshot.h. */
#include "roam/snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "roam/clock.h"
#include "roam/log.h"

#define SNAP_MAGIC_LEN   8
#define SNAP_FILE_MAX    (1ULL << 30)
#define SNAP_TRAILER_LEN 8 /* u32 count, u32 crc */

/* ---- CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320, as zlib/PNG) --------------------- */

struct crc32 {
	uint32_t tab[256];
	uint32_t crc; /* running value, pre-inverted */
};

static void
crc32_init(struct crc32 *c)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t v = i;
		for (int k = 0; k < 8; k++)
			v = (v & 1) ? (v >> 1) ^ 0xEDB88320u : v >> 1;
		c->tab[i] = v;
	}
	c->crc = 0xffffffffu;
}

static void
crc32_update(struct crc32 *c, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t v = c->crc;

	while (len-- > 0)
		v = c->tab[(v ^ *p++) & 0xff] ^ (v >> 8);
	c->crc = v;
}

static uint32_t
crc32_value(const struct crc32 *c)
{
	return c->crc ^ 0xffffffffu;
}

/* ---- writer ------------------------------------------------------------------------------ */

struct snap_writer {
	FILE *f;
	char *path, *tmp;
	struct crc32 crc;
	uint32_t count;
	int err; /* first error, sticky */
};

static void
w_write(struct snap_writer *w, const void *data, size_t len)
{
	if (w->err != 0 || len == 0)
		return;
	if (fwrite(data, 1, len, w->f) != len) {
		w->err = errno != 0 ? -errno : -EIO;
		return;
	}
	crc32_update(&w->crc, data, len);
}

static void
w_free(struct snap_writer *w, int remove_tmp)
{
	if (w->f != NULL)
		fclose(w->f);
	if (remove_tmp && w->tmp != NULL)
		unlink(w->tmp);
	free(w->path);
	free(w->tmp);
	free(w);
}

int
snap_writer_open(struct snap_writer **wp, const char *path, const char *kind)
{
	struct snap_writer *w;
	size_t klen, plen;
	uint8_t hdr[SNAP_MAGIC_LEN + 2 + 2 + 1 + SNAP_KIND_MAX + 8];
	struct wbuf b;
	int fd;

	if (wp == NULL)
		return -EINVAL;
	*wp = NULL;
	if (path == NULL || kind == NULL)
		return -EINVAL;
	klen = strlen(kind);
	plen = strlen(path);
	if (klen == 0 || klen > SNAP_KIND_MAX || plen == 0 || path[plen - 1] == '/')
		return -EINVAL;
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return -ENOMEM;
	w->path = strdup(path);
	w->tmp = malloc(plen + 5);
	if (w->path == NULL || w->tmp == NULL) {
		w_free(w, 0);
		return -ENOMEM;
	}
	memcpy(w->tmp, path, plen);
	memcpy(w->tmp + plen, ".tmp", 5);
	fd = open(w->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		int rc = -errno;
		w_free(w, 0);
		return rc;
	}
	w->f = fdopen(fd, "wb");
	if (w->f == NULL) {
		int rc = -errno;
		close(fd);
		w_free(w, 1);
		return rc;
	}
	crc32_init(&w->crc);

	wbuf_init_fixed(&b, hdr, sizeof(hdr));
	wbuf_put_bytes(&b, SNAP_MAGIC, SNAP_MAGIC_LEN);
	wbuf_put_u16(&b, SNAP_VERSION);
	wbuf_put_u16(&b, 0); /* flags */
	wbuf_put_u8(&b, (uint8_t)klen);
	wbuf_put_bytes(&b, kind, klen);
	wbuf_put_u64(&b, roam_wall_ms());
	if (b.err != 0) {
		w_free(w, 1);
		return -EINVAL;
	}
	w_write(w, b.buf, b.len);
	if (w->err != 0) {
		int rc = w->err;
		w_free(w, 1);
		return rc;
	}
	*wp = w;
	return 0;
}

int
snap_put(struct snap_writer *w, uint16_t type, const void *data, size_t len)
{
	uint8_t hdr[6];
	struct wbuf b;

	if (w == NULL)
		return -EINVAL;
	if (w->err != 0)
		return w->err;
	if (type == SNAP_TYPE_TRAILER || len > SNAP_RECORD_MAX || (data == NULL && len > 0))
		return -EINVAL;
	if (w->count == UINT32_MAX) {
		w->err = -EOVERFLOW;
		return w->err;
	}
	wbuf_init_fixed(&b, hdr, sizeof(hdr));
	wbuf_put_u16(&b, type);
	wbuf_put_u32(&b, (uint32_t)len);
	w_write(w, hdr, sizeof(hdr));
	w_write(w, data, len);
	if (w->err != 0)
		return w->err;
	w->count++;
	return 0;
}

uint32_t
snap_writer_count(const struct snap_writer *w)
{
	return w != NULL ? w->count : 0;
}

/* fsyncs the directory holding path, so the rename itself is durable. */
static int
fsync_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int fd, rc = 0;

	if (slash == NULL)
		dir = strdup(".");
	else if (slash == path)
		dir = strdup("/");
	else
		dir = strndup(path, (size_t)(slash - path));
	if (dir == NULL)
		return -ENOMEM;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		rc = -errno;
	else if (fsync(fd) < 0)
		rc = -errno;
	if (fd >= 0)
		close(fd);
	free(dir);
	return rc;
}

int
snap_commit(struct snap_writer *w)
{
	uint8_t tr[2 + 4 + 4];
	uint8_t crcb[4];
	struct wbuf b;
	int rc;

	if (w == NULL)
		return -EINVAL;
	if (w->err != 0) {
		rc = w->err;
		snap_abort(w);
		return rc;
	}
	wbuf_init_fixed(&b, tr, sizeof(tr));
	wbuf_put_u16(&b, SNAP_TYPE_TRAILER);
	wbuf_put_u32(&b, SNAP_TRAILER_LEN);
	wbuf_put_u32(&b, w->count);
	w_write(w, tr, b.len);
	/* The CRC covers everything before it, the trailer's count included. */
	wbuf_init_fixed(&b, crcb, sizeof(crcb));
	wbuf_put_u32(&b, crc32_value(&w->crc));
	w_write(w, crcb, sizeof(crcb));
	if (w->err == 0 && fflush(w->f) != 0)
		w->err = -errno;
	if (w->err == 0 && fsync(fileno(w->f)) < 0)
		w->err = -errno;
	if (fclose(w->f) != 0 && w->err == 0)
		w->err = -errno;
	w->f = NULL;
	if (w->err != 0) {
		rc = w->err;
		w_free(w, 1);
		return rc;
	}
	if (rename(w->tmp, w->path) < 0) {
		rc = -errno;
		w_free(w, 1);
		return rc;
	}
	/* The new file is in place; a failing directory fsync only weakens durability. */
	rc = fsync_dir(w->path);
	w_free(w, 0);
	return rc;
}

void
snap_abort(struct snap_writer *w)
{
	if (w != NULL)
		w_free(w, 1);
}

/* ---- reader ------------------------------------------------------------------------------ */

static int
read_file(const char *path, uint8_t **datap, size_t *lenp)
{
	struct stat st;
	uint8_t *data;
	size_t len, got = 0;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return -EBADMSG;
	}
	if ((unsigned long long)st.st_size > SNAP_FILE_MAX) {
		close(fd);
		return -EFBIG;
	}
	len = (size_t)st.st_size;
	data = malloc(len > 0 ? len : 1);
	if (data == NULL) {
		close(fd);
		return -ENOMEM;
	}
	while (got < len) {
		ssize_t n = read(fd, data + got, len - got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			free(data);
			close(fd);
			return rc;
		}
		if (n == 0)
			break; /* shrank under us: validated as truncated below */
		got += (size_t)n;
	}
	close(fd);
	*datap = data;
	*lenp = got;
	return 0;
}

/* Validates the whole file; on success fills info and leaves *records at the first record. */
static int
validate(const uint8_t *data, size_t len, const char *kind, struct snap_info *info,
         struct rbuf *records)
{
	struct rbuf r;
	uint16_t version, flags, type;
	uint8_t klen;
	const uint8_t *kbytes;
	uint64_t written;
	uint32_t rlen, count = 0, tcount, tcrc;
	struct crc32 crc;

	rbuf_init(&r, data, len);
	if (len < SNAP_MAGIC_LEN || memcmp(data, SNAP_MAGIC, SNAP_MAGIC_LEN) != 0)
		return -EBADMSG;
	rbuf_skip(&r, SNAP_MAGIC_LEN);
	if (rbuf_get_u16(&r, &version) < 0 || version != SNAP_VERSION)
		return -EBADMSG;
	if (rbuf_get_u16(&r, &flags) < 0 || flags != 0)
		return -EBADMSG;
	if (rbuf_get_u8(&r, &klen) < 0 || klen == 0 || rbuf_get_ptr(&r, klen, &kbytes) < 0)
		return -EBADMSG;
	if (strlen(kind) != klen || memcmp(kbytes, kind, klen) != 0)
		return -EBADMSG;
	if (rbuf_get_u64(&r, &written) < 0)
		return -EBADMSG;
	*records = r;
	for (;;) {
		if (rbuf_get_u16(&r, &type) < 0 || rbuf_get_u32(&r, &rlen) < 0)
			return -EBADMSG;
		if (type == SNAP_TYPE_TRAILER)
			break;
		if (rlen > SNAP_RECORD_MAX || rbuf_skip(&r, rlen) < 0)
			return -EBADMSG;
		count++;
	}
	if (rlen != SNAP_TRAILER_LEN || rbuf_get_u32(&r, &tcount) < 0)
		return -EBADMSG;
	size_t crc_covered = rbuf_offset(&r, data);
	if (rbuf_get_u32(&r, &tcrc) < 0 || rbuf_left(&r) != 0 || tcount != count)
		return -EBADMSG;
	crc32_init(&crc);
	crc32_update(&crc, data, crc_covered);
	if (crc32_value(&crc) != tcrc)
		return -EBADMSG;
	info->written_ms = written;
	info->records = count;
	return 0;
}

int
snap_load(const char *path, const char *kind, snap_record_cb cb, void *arg,
          struct snap_info *info)
{
	uint8_t *data = NULL;
	size_t len = 0;
	struct snap_info si;
	struct rbuf r, body;
	int rc;

	if (path == NULL || kind == NULL || cb == NULL || kind[0] == '\0' ||
	    strlen(kind) > SNAP_KIND_MAX)
		return -EINVAL;
	rc = read_file(path, &data, &len);
	if (rc < 0)
		return rc;
	rc = validate(data, len, kind, &si, &r);
	if (rc < 0)
		goto out;
	if (info != NULL)
		*info = si;
	for (uint32_t i = 0; i < si.records; i++) {
		uint16_t type;
		uint32_t rlen;
		/* Cannot fail: validate() walked the same bytes. */
		if (rbuf_get_u16(&r, &type) < 0 || rbuf_get_u32(&r, &rlen) < 0 ||
		    rbuf_sub(&r, rlen, &body) < 0) {
			rc = -EBADMSG;
			goto out;
		}
		rc = cb(arg, type, &body);
		if (rc != 0) {
			if (rc > 0)
				rc = -ECANCELED;
			goto out;
		}
	}
	rc = 0;
out:
	free(data);
	return rc;
}

/* ---- periodic saves ---------------------------------------------------------------------- */

static void
snap_timer_cb(uv_timer_t *h)
{
	struct snap_timer *st = h->data;
	int rc = st->save(st->arg);

	if (rc < 0) {
		st->failures++;
		/* At most one message per interval: already rate-limited by the timer. */
		log_warnx("snapshot: periodic save failed: %s", strerror(-rc));
	} else {
		st->saves++;
	}
	st->last_err = rc;
}

int
snap_timer_start(struct snap_timer *st, uv_loop_t *loop, uint64_t interval_ms,
                 int (*save)(void *arg), void *arg)
{
	int rc;

	if (st == NULL || loop == NULL || save == NULL || interval_ms == 0)
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	st->interval_ms = interval_ms;
	st->save = save;
	st->arg = arg;
	rc = uv_timer_init(loop, &st->timer);
	if (rc < 0)
		return rc;
	st->timer.data = st;
	st->started = 1;
	rc = uv_timer_start(&st->timer, snap_timer_cb, interval_ms, interval_ms);
	if (rc < 0) {
		snap_timer_close(st);
		return rc;
	}
	uv_unref((uv_handle_t *)&st->timer);
	return 0;
}

int
snap_timer_save_now(struct snap_timer *st)
{
	int rc;

	if (st == NULL || st->save == NULL)
		return -EINVAL;
	if (st->started && !st->closing)
		uv_timer_again(&st->timer);
	rc = st->save(st->arg);
	if (rc < 0)
		st->failures++;
	else
		st->saves++;
	st->last_err = rc;
	return rc;
}

void
snap_timer_close(struct snap_timer *st)
{
	if (st == NULL || !st->started || st->closing)
		return;
	st->closing = 1;
	uv_timer_stop(&st->timer);
	uv_close((uv_handle_t *)&st->timer, NULL);
}

int snap_timer_configure(struct snap_timer *st, uv_loop_t *loop, const char *path,
                         uint64_t interval_ms, int (*save)(void *arg), void *arg)
{
	if (st->closing)
		return 0;
	if (st->started) {
		if (st->interval_ms == interval_ms)
			return 0;
		st->interval_ms = interval_ms;
		uv_timer_set_repeat(&st->timer, interval_ms);
		return uv_timer_again(&st->timer);
	}
	if (!path || !*path)
		return 0;
	return snap_timer_start(st, loop, interval_ms, save, arg);
}
