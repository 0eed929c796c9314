/* Tests of roam/snapshot_store.h (address encoding, whole save and load with counters, the
 * "save" command) and roam/ctl_store.h (address argument, the "delete" command). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "roam/ctl_store.h"
#include "roam/snapshot_store.h"

static char dir[64];
static char path[128];

static void setup(void)
{
	strcpy(dir, "/tmp/roam-snapstore-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/t.snap", dir);
}

static void teardown(void)
{
	unlink(path);
	rmdir(dir);
}

static struct roam_ipaddr addr(const char *s)
{
	struct roam_ipaddr a;
	cr_assert_eq(roam_ipaddr_parse(s, &a), 0);
	return a;
}

Test(snapshot_store, addr_round_trip_and_bad_family)
{
	uint8_t buf[2 * SNAP_ADDR_LEN];
	struct wbuf w;
	wbuf_init_fixed(&w, buf, sizeof(buf));
	struct roam_ipaddr a4 = addr("192.0.2.7"), a6 = addr("2001:db8::9"), b;
	snap_put_addr(&w, &a4);
	snap_put_addr(&w, &a6);
	cr_assert_eq(w.err, 0);
	cr_assert_eq(w.len, 2 * SNAP_ADDR_LEN);
	cr_assert_eq(buf[0], 4);
	cr_assert_eq(buf[1], 192);
	cr_assert_eq(buf[SNAP_ADDR_LEN], 6);
	struct rbuf r = { buf, buf + w.len };
	cr_assert_eq(snap_get_addr(&r, &b), 0);
	cr_assert(roam_ipaddr_eq(&a4, &b));
	cr_assert_eq(snap_get_addr(&r, &b), 0);
	cr_assert(roam_ipaddr_eq(&a6, &b));
	cr_assert_eq(snap_get_addr(&r, &b), -EBADMSG, "short");
	buf[0] = 5;
	r = (struct rbuf){ buf, buf + w.len };
	cr_assert_eq(snap_get_addr(&r, &b), -EBADMSG, "family 5");
	r = (struct rbuf){ buf + SNAP_ADDR_LEN, buf + 2 * SNAP_ADDR_LEN - 1 };
	cr_assert_eq(snap_get_addr(&r, &b), -EBADMSG, "truncated");
}

struct table {
	int n;     /* records to write */
	int fail;  /* fill fails with this after the records */
	int big;   /* a record that does not fit its buffer */
	int seen;  /* records loaded */
	uint64_t saves, failures, loaded, skipped;
};

static int fill(struct snap_writer *sw, void *arg)
{
	struct table *t = arg;
	for (int i = 0; i < t->n; i++) {
		uint8_t buf[SNAP_ADDR_LEN];
		struct wbuf w;
		wbuf_init_fixed(&w, buf, t->big ? 4 : sizeof(buf));
		struct roam_ipaddr a = addr("10.0.0.1");
		snap_put_addr(&w, &a);
		int r = snap_put_wbuf(sw, 7, &w);
		if (r < 0)
			return r;
	}
	return t->fail;
}

static int load_one(void *arg, uint16_t type, struct rbuf *body)
{
	struct table *t = arg;
	struct roam_ipaddr a;
	if (type != 7 || snap_get_addr(body, &a) < 0) {
		t->skipped++;
		return 0;
	}
	t->loaded++;
	return 0;
}

static int save(void *arg)
{
	struct table *t = arg;
	return snap_save_file(path, "test/1", fill, t, &t->saves, &t->failures);
}

Test(snapshot_store, save_and_load, .init = setup, .fini = teardown)
{
	struct table t = { .n = 3 };
	cr_assert_eq(snap_load_file(path, "test/1", load_one, &t, "things", &t.loaded, &t.skipped),
		     0, "no file yet: nothing restored");
	cr_assert_eq(save(&t), 0);
	cr_assert_eq(t.saves, 1);
	cr_assert_eq(t.failures, 0);
	cr_assert_eq(snap_load_file(path, "test/1", load_one, &t, "things", &t.loaded, &t.skipped),
		     1);
	cr_assert_eq(t.loaded, 3);
	cr_assert_eq(t.skipped, 0);
	cr_assert_eq(snap_load_file(path, "other/1", load_one, &t, "things", &t.loaded, &t.skipped),
		     -EBADMSG, "another kind");
	cr_assert_eq(t.loaded, 3);
}

Test(snapshot_store, failed_saves_keep_the_file, .init = setup, .fini = teardown)
{
	struct table t = { .n = 2 };
	cr_assert_eq(save(&t), 0);
	t.n = 5;
	t.fail = -EIO;
	cr_assert_eq(save(&t), -EIO);
	t.fail = 0;
	t.big = 1;
	cr_assert_lt(save(&t), 0, "a record over its buffer abandons the snapshot");
	cr_assert_eq(t.saves, 1);
	cr_assert_eq(t.failures, 2);
	struct stat st;
	char tmp[160];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	cr_assert_neq(stat(tmp, &st), 0, "no PATH.tmp left");
	cr_assert_eq(snap_load_file(path, "test/1", load_one, &t, "things", &t.loaded, &t.skipped),
		     1);
	cr_assert_eq(t.loaded, 2, "the previous snapshot stays");
}

Test(snapshot_store, off_without_path)
{
	struct table t = { .n = 1 };
	cr_assert_eq(snap_save_file("", "test/1", fill, &t, &t.saves, &t.failures), 0);
	cr_assert_eq(snap_save_file(NULL, "test/1", fill, &t, &t.saves, &t.failures), 0);
	cr_assert_eq(t.saves + t.failures, 0);
	cr_assert_eq(snap_load_file("", "test/1", load_one, &t, "things", &t.loaded, &t.skipped), 0);
	struct snap_timer st = { 0 };
	char err[128] = "";
	cr_assert_eq(snap_save_command(&st, "", save, &t, err, sizeof(err)), -ENOENT);
	cr_assert_str_eq(err, "no snapshot file configured");
}

Test(snapshot_store, save_command, .init = setup, .fini = teardown)
{
	struct table t = { .n = 1 };
	struct snap_timer st = { 0 };
	char err[128] = "";
	cr_assert_eq(snap_save_command(&st, path, save, &t, err, sizeof(err)), 0);
	cr_assert_eq(t.saves, 1);
	t.fail = -ENOSPC;
	cr_assert_eq(snap_save_command(&st, path, save, &t, err, sizeof(err)), -ENOSPC);
	cr_assert_str_eq(err, "snapshot: No space left on device");
}

/* ---- ctl_store ---- */

struct entries {
	struct roam_ipaddr have;
	int removed;
};

static int remove_entry(void *arg, const struct roam_ipaddr *a)
{
	struct entries *e = arg;
	if (e->removed || !roam_ipaddr_eq(a, &e->have))
		return -ENOENT;
	e->removed = 1;
	return 0;
}

static int run_delete(struct entries *e, int family, const char *args_json, char *out, size_t outlen,
		      char *err, size_t errlen)
{
	struct json_value *args;
	char perr[64];
	cr_assert_eq(json_parse(args_json, strlen(args_json), &args, perr, sizeof(perr)), 0);
	struct wbuf wb;
	wbuf_init(&wb);
	struct json_writer w;
	json_writer_init(&w, &wb);
	const struct ctl_delete d = { "home", family, "no entry for", "entry of", remove_entry, e };
	err[0] = 0;
	int r = ctl_delete_addr(&d, args, &w, err, errlen);
	snprintf(out, outlen, "%.*s", (int)wb.len, (const char *)wb.buf);
	wbuf_free(&wb);
	json_free(args);
	return r;
}

Test(ctl_store, delete)
{
	struct entries e = { addr("10.1.2.3"), 0 };
	char out[128], err[128];
	cr_assert_eq(run_delete(&e, AF_INET, "{}", out, sizeof(out), err, sizeof(err)), -ENOENT);
	cr_assert_str_eq(err, "missing argument 'home'");
	cr_assert_eq(run_delete(&e, AF_INET, "{\"home\":\"2001:db8::1\"}", out, sizeof(out), err,
				sizeof(err)), -EINVAL);
	cr_assert_str_eq(err, "argument 'home': not an IPv4 address: 2001:db8::1");
	cr_assert_eq(run_delete(&e, 0, "{\"home\":\"nonsense\"}", out, sizeof(out), err,
				sizeof(err)), -EINVAL);
	cr_assert_str_eq(err, "argument 'home': not an address: nonsense");
	cr_assert_eq(run_delete(&e, AF_INET, "{\"home\":\"10.1.2.4\"}", out, sizeof(out), err,
				sizeof(err)), -ENOENT);
	cr_assert_str_eq(err, "no entry for 10.1.2.4");
	cr_assert_eq(e.removed, 0);
	cr_assert_eq(run_delete(&e, AF_INET, "{\"home\":\"10.1.2.3\"}", out, sizeof(out), err,
				sizeof(err)), 0);
	cr_assert_eq(e.removed, 1);
	cr_assert_str_eq(out, "{\"deleted\":\"10.1.2.3\"}");
	cr_assert_eq(run_delete(&e, AF_INET, "{\"home\":\"10.1.2.3\"}", out, sizeof(out), err,
				sizeof(err)), -ENOENT, "gone");
}
