/* Unit tests for roam/snapshot.h: round trip, the documented byte format, every truncation,
 * bit flips, wrong kind, missing file, abort and failed commits never replacing the file. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "roam/buf.h"
#include "roam/clock.h"
#include "roam/snapshot.h"

static char dir[64];
static char path[128];
static char tmppath[160];

static void
setup(void)
{
	strcpy(dir, "/tmp/roam-snap-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/state.snap", dir);
	snprintf(tmppath, sizeof(tmppath), "%s.tmp", path);
}

static void
teardown(void)
{
	unlink(tmppath);
	unlink(path);
	rmdir(dir);
}

struct rec {
	uint16_t type;
	uint32_t len;
	uint8_t data[64];
};

struct collect {
	struct rec recs[16];
	int n;
	int fail_at; /* return -EPROTO at this record index (or -1) */
};

static int
collect_cb(void *arg, uint16_t type, struct rbuf *body)
{
	struct collect *c = arg;
	if (c->n == c->fail_at)
		return -EPROTO;
	cr_assert_lt(c->n, 16);
	struct rec *r = &c->recs[c->n++];
	r->type = type;
	r->len = (uint32_t)rbuf_left(body);
	cr_assert_leq(r->len, sizeof(r->data));
	cr_assert_eq(rbuf_get_bytes(body, r->data, r->len), 0);
	return 0;
}

static int
never_cb(void *arg, uint16_t type, struct rbuf *body)
{
	(void)arg;
	(void)type;
	(void)body;
	cr_assert_fail("callback called for an invalid file");
	return 0;
}

/* Writes the reference snapshot used by several tests: three records, one empty. */
static void
write_sample(const char *kind)
{
	struct snap_writer *w;
	struct wbuf b;
	uint8_t buf[32];
	cr_assert_eq(snap_writer_open(&w, path, kind), 0);
	wbuf_init_fixed(&b, buf, sizeof(buf));
	wbuf_put_u32(&b, 0xc0a80001);   /* an address */
	wbuf_put_u64(&b, 1700000000123); /* a wall-clock expiry */
	cr_assert_eq(snap_put(w, 1, b.buf, b.len), 0);
	cr_assert_eq(snap_put(w, 2, NULL, 0), 0);
	cr_assert_eq(snap_put(w, 0xfffe, "hello", 5), 0);
	cr_assert_eq(snap_writer_count(w), 3);
	cr_assert_eq(snap_commit(w), 0);
}

static uint8_t *
slurp(const char *p, size_t *len)
{
	FILE *f = fopen(p, "rb");
	cr_assert_not_null(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *d = malloc((size_t)n + 1);
	cr_assert_eq(fread(d, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return d;
}

static void
spit(const char *p, const uint8_t *d, size_t len)
{
	FILE *f = fopen(p, "wb");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(d, 1, len, f), len);
	cr_assert_eq(fclose(f), 0);
}

TestSuite(snapshot, .init = setup, .fini = teardown, .timeout = 60);

Test(snapshot, round_trip)
{
	uint64_t before = roam_wall_ms();
	write_sample("hlrd/1");
	uint64_t after = roam_wall_ms();
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	cr_assert_eq(access(tmppath, F_OK), -1, "temp file left behind");

	struct collect c = { .fail_at = -1 };
	struct snap_info info;
	cr_assert_eq(snap_load(path, "hlrd/1", collect_cb, &c, &info), 0);
	cr_assert_eq(info.records, 3);
	cr_assert_geq(info.written_ms, before);
	cr_assert_leq(info.written_ms, after);
	cr_assert_eq(c.n, 3);
	cr_assert_eq(c.recs[0].type, 1);
	cr_assert_eq(c.recs[0].len, 12);
	struct rbuf r;
	uint32_t a;
	uint64_t exp;
	rbuf_init(&r, c.recs[0].data, c.recs[0].len);
	cr_assert_eq(rbuf_get_u32(&r, &a), 0);
	cr_assert_eq(rbuf_get_u64(&r, &exp), 0);
	cr_assert_eq(a, 0xc0a80001);
	cr_assert_eq(exp, 1700000000123ULL);
	cr_assert_eq(c.recs[1].type, 2);
	cr_assert_eq(c.recs[1].len, 0);
	cr_assert_eq(c.recs[2].type, 0xfffe);
	cr_assert_eq(c.recs[2].len, 5);
	cr_assert(memcmp(c.recs[2].data, "hello", 5) == 0);

	/* an empty snapshot is valid too, and replaces the previous one */
	struct snap_writer *w;
	cr_assert_eq(snap_writer_open(&w, path, "hlrd/1"), 0);
	cr_assert_eq(snap_commit(w), 0);
	struct collect c2 = { .fail_at = -1 };
	cr_assert_eq(snap_load(path, "hlrd/1", collect_cb, &c2, NULL), 0);
	cr_assert_eq(c2.n, 0);
}

/* Independent bitwise CRC-32 (IEEE) to pin the documented format. */
static uint32_t
ref_crc32(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1)));
	}
	return ~c;
}

Test(snapshot, documented_format)
{
	cr_assert_eq(ref_crc32((const uint8_t *)"123456789", 9), 0xCBF43926u);
	/* hand-built file, as docs/snapshot.md describes it */
	uint8_t f[128];
	struct wbuf b;
	wbuf_init_fixed(&b, f, sizeof(f));
	wbuf_put_bytes(&b, "ROAMSNAP", 8);
	wbuf_put_u16(&b, 1);  /* version */
	wbuf_put_u16(&b, 0);  /* flags */
	wbuf_put_u8(&b, 4);
	wbuf_put_bytes(&b, "sipd", 4);
	wbuf_put_u64(&b, 1234567890123ULL);
	wbuf_put_u16(&b, 7);
	wbuf_put_u32(&b, 3);
	wbuf_put_bytes(&b, "abc", 3);
	wbuf_put_u16(&b, 0xffff);
	wbuf_put_u32(&b, 8);
	wbuf_put_u32(&b, 1);
	wbuf_put_u32(&b, ref_crc32(f, b.len));
	cr_assert_eq(b.err, 0);
	spit(path, f, b.len);
	struct collect c = { .fail_at = -1 };
	struct snap_info info;
	cr_assert_eq(snap_load(path, "sipd", collect_cb, &c, &info), 0);
	cr_assert_eq(info.written_ms, 1234567890123ULL);
	cr_assert_eq(c.n, 1);
	cr_assert_eq(c.recs[0].type, 7);
	cr_assert(memcmp(c.recs[0].data, "abc", 3) == 0);

	/* and the writer produces that layout: compare a written file byte for byte, bar time */
	struct snap_writer *w;
	cr_assert_eq(snap_writer_open(&w, path, "sipd"), 0);
	cr_assert_eq(snap_put(w, 7, "abc", 3), 0);
	cr_assert_eq(snap_commit(w), 0);
	size_t n;
	uint8_t *d = slurp(path, &n);
	cr_assert_eq(n, b.len);
	cr_assert(memcmp(d, f, 17) == 0);              /* magic, version, flags, kind */
	cr_assert(memcmp(d + 25, f + 25, n - 29) == 0); /* records and trailer count */
	cr_assert_eq(ref_crc32(d, n - 4),
	             (uint32_t)d[n - 4] << 24 | (uint32_t)d[n - 3] << 16 | (uint32_t)d[n - 2] << 8 |
	                     d[n - 1]);
	free(d);
}

Test(snapshot, missing_file)
{
	struct collect c = { .fail_at = -1 };
	cr_assert_eq(snap_load(path, "hlrd/1", collect_cb, &c, NULL), -ENOENT);
	cr_assert_eq(c.n, 0);
}

Test(snapshot, wrong_kind)
{
	write_sample("hlrd/1");
	cr_assert_eq(snap_load(path, "hlrd/2", never_cb, NULL, NULL), -EBADMSG);
	cr_assert_eq(snap_load(path, "hlrd/", never_cb, NULL, NULL), -EBADMSG);
	cr_assert_eq(snap_load(path, "hlrd/10", never_cb, NULL, NULL), -EBADMSG);
	cr_assert_eq(snap_load(path, "sipd/1", never_cb, NULL, NULL), -EBADMSG);
}

Test(snapshot, every_truncation_fails_cleanly)
{
	write_sample("hlrd/1");
	size_t n;
	uint8_t *d = slurp(path, &n);
	cr_assert_gt(n, 40);
	for (size_t cut = 0; cut < n; cut++) {
		spit(path, d, cut);
		cr_assert_eq(snap_load(path, "hlrd/1", never_cb, NULL, NULL), -EBADMSG,
		             "truncated at %zu of %zu", cut, n);
	}
	/* trailing garbage is refused as well */
	uint8_t *longer = malloc(n + 1);
	memcpy(longer, d, n);
	longer[n] = 0;
	spit(path, longer, n + 1);
	cr_assert_eq(snap_load(path, "hlrd/1", never_cb, NULL, NULL), -EBADMSG);
	free(longer);
	/* the intact file still loads */
	spit(path, d, n);
	struct collect c = { .fail_at = -1 };
	cr_assert_eq(snap_load(path, "hlrd/1", collect_cb, &c, NULL), 0);
	cr_assert_eq(c.n, 3);
	free(d);
}

Test(snapshot, every_bit_flip_detected)
{
	write_sample("hlrd/1");
	size_t n;
	uint8_t *d = slurp(path, &n);
	for (size_t i = 0; i < n; i++) {
		for (int bit = 0; bit < 8; bit++) {
			d[i] ^= (uint8_t)(1u << bit);
			spit(path, d, n);
			int rc = snap_load(path, "hlrd/1", never_cb, NULL, NULL);
			cr_assert_eq(rc, -EBADMSG, "flip of bit %d in byte %zu: %d", bit, i, rc);
			d[i] ^= (uint8_t)(1u << bit);
		}
	}
	free(d);
}

Test(snapshot, hostile_lengths)
{
	/* A record claiming 4 GiB and one claiming more than SNAP_RECORD_MAX: refused without
	 * reading past the buffer (ASan) and without calling back. */
	uint8_t f[64];
	struct wbuf b;
	wbuf_init_fixed(&b, f, sizeof(f));
	wbuf_put_bytes(&b, "ROAMSNAP", 8);
	wbuf_put_u16(&b, 1);
	wbuf_put_u16(&b, 0);
	wbuf_put_u8(&b, 1);
	wbuf_put_u8(&b, 'x');
	wbuf_put_u64(&b, 0);
	wbuf_put_u16(&b, 1);
	wbuf_put_u32(&b, 0xffffffffu);
	spit(path, f, b.len);
	cr_assert_eq(snap_load(path, "x", never_cb, NULL, NULL), -EBADMSG);
	wbuf_patch_u32(&b, b.len - 4, SNAP_RECORD_MAX + 1);
	spit(path, f, b.len);
	cr_assert_eq(snap_load(path, "x", never_cb, NULL, NULL), -EBADMSG);
	/* a kind length of zero, other versions, flags */
	uint8_t g[32] = "ROAMSNAP\x00\x02\x00\x00\x01x";
	spit(path, g, 20);
	cr_assert_eq(snap_load(path, "x", never_cb, NULL, NULL), -EBADMSG);
	/* not a regular file */
	cr_assert_eq(snap_load(dir, "x", never_cb, NULL, NULL), -EBADMSG);
}

Test(snapshot, callback_error_aborts)
{
	write_sample("hlrd/1");
	struct collect c = { .fail_at = 1 };
	cr_assert_eq(snap_load(path, "hlrd/1", collect_cb, &c, NULL), -EPROTO);
	cr_assert_eq(c.n, 1);
}

Test(snapshot, abort_keeps_old_file)
{
	write_sample("hlrd/1");
	size_t n0;
	uint8_t *old = slurp(path, &n0);
	struct snap_writer *w;
	cr_assert_eq(snap_writer_open(&w, path, "hlrd/1"), 0);
	cr_assert_eq(access(tmppath, F_OK), 0, "writer writes PATH.tmp");
	cr_assert_eq(snap_put(w, 9, "new", 3), 0);
	snap_abort(w);
	cr_assert_eq(access(tmppath, F_OK), -1);
	size_t n1;
	uint8_t *now = slurp(path, &n1);
	cr_assert_eq(n0, n1);
	cr_assert(memcmp(old, now, n0) == 0);
	free(old);
	free(now);
	snap_abort(NULL);
}

Test(snapshot, crash_before_commit_leaves_old_file)
{
	/* A writer that "crashed" (never committed) leaves a partial PATH.tmp behind: the loader
	 * never looks at it, and the next writer replaces it. */
	write_sample("hlrd/1");
	uint8_t junk[10] = "ROAMSNAP\0";
	spit(tmppath, junk, sizeof(junk));
	struct collect c = { .fail_at = -1 };
	cr_assert_eq(snap_load(path, "hlrd/1", collect_cb, &c, NULL), 0);
	cr_assert_eq(c.n, 3);
	struct snap_writer *w;
	cr_assert_eq(snap_writer_open(&w, path, "hlrd/1"), 0);
	cr_assert_eq(snap_put(w, 4, "x", 1), 0);
	cr_assert_eq(snap_commit(w), 0);
	struct collect c2 = { .fail_at = -1 };
	cr_assert_eq(snap_load(path, "hlrd/1", collect_cb, &c2, NULL), 0);
	cr_assert_eq(c2.n, 1);
	cr_assert_eq(access(tmppath, F_OK), -1);
}

Test(snapshot, failed_put_poisons_commit)
{
	write_sample("hlrd/1");
	struct snap_writer *w;
	cr_assert_eq(snap_writer_open(&w, path, "hlrd/1"), 0);
	cr_assert_eq(snap_put(w, SNAP_TYPE_TRAILER, "x", 1), -EINVAL); /* reserved type */
	cr_assert_eq(snap_put(w, 1, NULL, 3), -EINVAL);
	cr_assert_eq(snap_put(w, 1, "x", SNAP_RECORD_MAX + 1), -EINVAL);
	cr_assert_eq(snap_writer_count(w), 0);
	/* argument errors do not poison; a write error would.  Commit still works here. */
	cr_assert_eq(snap_put(w, 1, "y", 1), 0);
	cr_assert_eq(snap_commit(w), 0);
	struct collect c = { .fail_at = -1 };
	cr_assert_eq(snap_load(path, "hlrd/1", collect_cb, &c, NULL), 0);
	cr_assert_eq(c.n, 1);
}

Test(snapshot, write_error_keeps_old_file)
{
	/* Failures at open and at rename: the real file is never touched. */
	write_sample("hlrd/1");
	struct snap_writer *w;
	char bad[200];
	snprintf(bad, sizeof(bad), "%s/nodir/state.snap", dir);
	cr_assert_eq(snap_writer_open(&w, bad, "hlrd/1"), -ENOENT);
	cr_assert_null(w);
	cr_assert_eq(snap_writer_open(&w, path, ""), -EINVAL);
	char longkind[300];
	memset(longkind, 'k', sizeof(longkind) - 1);
	longkind[sizeof(longkind) - 1] = '\0';
	cr_assert_eq(snap_writer_open(&w, path, longkind), -EINVAL);
	/* a rename onto a directory fails: the temp file is removed, nothing else changes */
	char dpath[200], dtmp[210];
	snprintf(dpath, sizeof(dpath), "%s/adir", dir);
	snprintf(dtmp, sizeof(dtmp), "%s.tmp", dpath);
	cr_assert_eq(mkdir(dpath, 0700), 0);
	char inner[220];
	snprintf(inner, sizeof(inner), "%s/keep", dpath);
	spit(inner, (const uint8_t *)"k", 1); /* non-empty: rename(2) cannot replace it */
	cr_assert_eq(snap_writer_open(&w, dpath, "hlrd/1"), 0);
	int rc = snap_commit(w);
	cr_assert(rc == -EISDIR || rc == -ENOTEMPTY || rc == -EEXIST, "rc %d", rc);
	cr_assert_eq(access(dtmp, F_OK), -1);
	unlink(inner);
	rmdir(dpath);
	struct collect c = { .fail_at = -1 };
	cr_assert_eq(snap_load(path, "hlrd/1", collect_cb, &c, NULL), 0);
	cr_assert_eq(c.n, 3);
}

/* ---- periodic saves on a libuv loop ---- */

struct saver {
	int calls;
	int fail;
	struct snap_timer *st;
};

static int
save_cb(void *arg)
{
	struct saver *s = arg;
	s->calls++;
	if (s->calls >= 3)
		snap_timer_close(s->st);
	return s->fail ? -EIO : 0;
}

static void
noop_timer(uv_timer_t *h)
{
	(void)h;
}

Test(snapshot, timer_saves_periodically)
{
	uv_loop_t loop;
	struct snap_timer st;
	struct saver s = { .st = &st };
	uv_timer_t keepalive;
	cr_assert_eq(uv_loop_init(&loop), 0);
	memset(&st, 0, sizeof(st));
	snap_timer_close(&st); /* never started: safe */
	cr_assert_eq(snap_timer_start(&st, &loop, 0, save_cb, &s), -EINVAL);
	cr_assert_eq(snap_timer_start(&st, &loop, 5, save_cb, &s), 0);
	/* the snapshot timer is unref'ed: keep the loop alive with a referenced one */
	uv_timer_init(&loop, &keepalive);
	uv_timer_start(&keepalive, noop_timer, 2000, 0);
	cr_assert_eq(snap_timer_save_now(&st), 0);
	cr_assert_eq(s.calls, 1);
	while (s.calls < 3 && uv_run(&loop, UV_RUN_ONCE) != 0)
		;
	cr_assert_eq(s.calls, 3);
	cr_assert_eq(st.saves, 3);
	cr_assert_eq(st.closing, 1);
	snap_timer_close(&st); /* twice: safe */
	uv_close((uv_handle_t *)&keepalive, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	cr_assert_eq(uv_loop_close(&loop), 0);
}

static int count_save(void *arg)
{
	(*(int *)arg)++;
	return 0;
}

/* Start and reload in one call: off without a path, started with one, a new interval applied. */
Test(snapshot, timer_configure)
{
	uv_loop_t loop;
	cr_assert_eq(uv_loop_init(&loop), 0);
	struct snap_timer st;
	memset(&st, 0, sizeof(st));
	int saves = 0;
	cr_assert_eq(snap_timer_configure(&st, &loop, "", 1000, count_save, &saves), 0);
	cr_assert_eq(st.started, 0, "no path: snapshots are off");
	cr_assert_eq(snap_timer_configure(&st, &loop, NULL, 1000, count_save, &saves), 0);
	cr_assert_eq(st.started, 0);
	cr_assert_eq(snap_timer_configure(&st, &loop, "/tmp/x.snap", 1000, count_save, &saves), 0);
	cr_assert_neq(st.started, 0);
	cr_assert_eq(st.interval_ms, 1000);
	cr_assert_eq(snap_timer_configure(&st, &loop, "/tmp/x.snap", 5, count_save, &saves), 0);
	cr_assert_eq(st.interval_ms, 5, "a reload applies the new interval");
	cr_assert_eq(uv_timer_get_repeat(&st.timer), 5);
	/* the timer is unref'ed (it must not keep a daemon's loop alive): ref it for the test */
	uv_ref((uv_handle_t *)&st.timer);
	uint64_t end = uv_now(&loop) + 2000;
	while (saves < 2 && uv_now(&loop) < end)
		uv_run(&loop, UV_RUN_ONCE);
	cr_assert_geq(saves, 2);
	snap_timer_close(&st);
	cr_assert_eq(snap_timer_configure(&st, &loop, "/tmp/x.snap", 10, count_save, &saves), 0,
		     "closing: nothing to do");
	uv_run(&loop, UV_RUN_DEFAULT);
	cr_assert_eq(uv_loop_close(&loop), 0);
}
