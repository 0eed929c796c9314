/* The module table sequence of modular daemons (roam/module.h, common/util/module.c): only the
 * modules their config enables start, in order; a failing start stops the sequence and is
 * returned; reload reaches the running ones and a refusal is returned; stop runs in reverse order
 * for the started ones; free reaches every module with state; status writes one object per
 * module with "enabled". */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "roam/module.h"

struct fconf {
	bool on[3];
	int fail_start, fail_reload; /* index + 1 of the module that fails, 0: none */
};

static char trace[256];

static void note(const char *what, int i)
{
	char b[16];
	snprintf(b, sizeof(b), "%s%d ", what, i);
	strncat(trace, b, sizeof(trace) - strlen(trace) - 1);
}

#define MOD(i)                                                                                   \
	static bool en##i(const void *c) { return ((const struct fconf *)c)->on[i]; }            \
	static int st##i(void *d, void **s)                                                      \
	{                                                                                        \
		note("start", i);                                                                \
		if (((struct fconf *)d)->fail_start == i + 1)                                    \
			return -EIO;                                                             \
		*s = malloc(1);                                                                  \
		return 0;                                                                        \
	}                                                                                        \
	static void sp##i(void *d, void *s) { (void)d, (void)s; note("stop", i); }              \
	static int rl##i(void *d, void *s, const void *old, char *e, size_t n)                  \
	{                                                                                        \
		(void)s, (void)old;                                                              \
		note("reload", i);                                                               \
		if (((struct fconf *)d)->fail_reload == i + 1) {                                 \
			snprintf(e, n, "no");                                                    \
			return -EINVAL;                                                          \
		}                                                                                \
		return 0;                                                                        \
	}                                                                                        \
	static void stat##i(void *d, void *s, struct json_writer *w)                            \
	{                                                                                        \
		(void)d, (void)s;                                                                \
		json_key(w, "n");                                                                \
		json_int(w, i);                                                                  \
	}                                                                                        \
	static void fr##i(void *d, void *s) { (void)d; note("free", i); free(s); }              \
	static const struct roam_module m##i = { "m" #i, en##i, st##i, sp##i, rl##i, NULL,      \
						 stat##i, fr##i };
MOD(0)
MOD(1)
MOD(2)

static const struct roam_module *const mods[3] = { &m0, &m1, &m2 };

Test(module, start_enabled_in_order_stop_reverse_free)
{
	struct roam_module_slot s[3];
	struct fconf c = { .on = { true, false, true } };
	trace[0] = 0;
	roam_modules_init(s, mods, 3);
	cr_assert_eq(roam_modules_enabled(s, 3, &c), 2);
	cr_assert_eq(roam_modules_start(s, 3, &c, &c), 0);
	cr_assert(s[0].running && !s[1].running && s[2].running);
	char err[32] = "";
	cr_assert_eq(roam_modules_reload(s, 3, &c, &c, &c, err, sizeof(err)), 0);
	roam_modules_stop(s, 3, &c);
	roam_modules_free(s, 3, &c);
	cr_assert_str_eq(trace, "start0 start2 reload0 reload2 stop2 stop0 free0 free2 ");
	cr_assert_null(s[0].state);
}

Test(module, failing_start_and_reload)
{
	struct roam_module_slot s[3];
	struct fconf c = { .on = { true, true, true }, .fail_start = 2 };
	trace[0] = 0;
	roam_modules_init(s, mods, 3);
	cr_assert_eq(roam_modules_start(s, 3, &c, &c), -EIO);
	cr_assert(s[0].running && !s[1].running && !s[2].running);
	c.fail_reload = 1;
	char err[32] = "";
	cr_assert_eq(roam_modules_reload(s, 3, &c, &c, &c, err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(err, "no");
	roam_modules_stop(s, 3, &c);
	roam_modules_free(s, 3, &c);
	cr_assert_str_eq(trace, "start0 start1 reload0 stop0 free0 ");
}

Test(module, status_object)
{
	struct roam_module_slot s[3];
	struct fconf c = { .on = { false, true, false } };
	roam_modules_init(s, mods, 3);
	cr_assert_eq(roam_modules_start(s, 3, &c, &c), 0);
	char buf[256];
	struct wbuf out;
	struct json_writer w;
	wbuf_init_fixed(&out, buf, sizeof(buf) - 1);
	json_writer_init(&w, &out);
	json_obj_begin(&w);
	roam_modules_status(s, 3, &c, &w);
	json_obj_end(&w);
	cr_assert_eq(json_writer_err(&w), 0);
	buf[out.len] = 0;
	cr_assert_str_eq(buf, "{\"modules\":{\"m0\":{\"enabled\":false},\"m1\":{\"enabled\":true,\"n\":1},"
			      "\"m2\":{\"enabled\":false}}}");
	roam_modules_stop(s, 3, &c);
	roam_modules_free(s, 3, &c);
}
