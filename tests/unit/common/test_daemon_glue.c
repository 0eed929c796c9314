/* Tests of the daemon glue (common/util/daemon_glue.c, roam/daemon_glue.h): the accessors and
 * desc generated for a daemon, the end of the load callback, the reload rule for members that
 * need a restart. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roam/daemon_glue.h"
#include "roam/log.h"

/* A daemon's state as ROAM_DAEMON_ACCESSORS and ROAM_CONF_KEEP_LISTEN expect it. */
struct tconf {
	struct roam_ipaddr listen;
	uint16_t port;
	char *control_socket;
	char *user;
	int log_level;
	char *tun;
	uint32_t mtu;
};

struct td {
	struct tconf conf;
	struct roam_ctl *ctl;
	int registered;
};

static int td_ctl_register(struct td *h)
{
	h->registered++;
	return 7;
}

static int td_load(void *arg, const struct roam_args *args)
{
	(void)arg, (void)args;
	return 0;
}

static int td_setup(void *arg, uv_loop_t *loop, struct roam_daemon *d)
{
	(void)arg, (void)loop, (void)d;
	return 0;
}

static void td_cleanup(void *arg)
{
	(void)arg;
}

static int td_reload(void *arg, const char *config, char *err, size_t errlen)
{
	(void)arg, (void)config, (void)err, (void)errlen;
	return 0;
}

static void td_shutdown(void *arg)
{
	(void)arg;
}

static void td_status(void *arg, struct json_writer *w)
{
	(void)arg, (void)w;
}

ROAM_DAEMON_ACCESSORS(td, struct td)

Test(daemon_glue, accessors_and_desc)
{
	struct td h;
	memset(&h, 0, sizeof(h));
	h.conf.control_socket = "/run/roam/td.sock";
	h.conf.user = "roam";
	const struct roam_daemon_desc desc = ROAM_DAEMON_DESC(td, &h, ROAM_CAPS_NET);
	cr_assert_str_eq(desc.name, "td");
	cr_assert_eq(desc.keep_caps, ROAM_CAPS_NET);
	cr_assert_eq(desc.ops.arg, &h);
	cr_assert(desc.load == td_load && desc.setup == td_setup && desc.cleanup == td_cleanup);
	cr_assert(desc.ops.reload == td_reload && desc.ops.shutdown == td_shutdown &&
		  desc.ops.status == td_status);
	cr_assert_str_eq(desc.ctl_path(&h), "/run/roam/td.sock");
	cr_assert_str_eq(desc.user(&h), "roam");
	struct roam_ctl *ctl = (struct roam_ctl *)(void *)&h; /* only stored */
	cr_assert_eq(desc.ctl_register(&h, ctl), 7);
	cr_assert_eq(h.ctl, ctl);
	cr_assert_eq(h.registered, 1);
}

static void conf_make(struct tconf *c, const char *addr, uint16_t port, const char *cs,
		      const char *tun, uint32_t mtu)
{
	memset(c, 0, sizeof(*c));
	cr_assert_eq(roam_ipaddr_parse(addr, &c->listen), 0);
	c->port = port;
	c->control_socket = strdup(cs);
	c->tun = strdup(tun);
	c->mtu = mtu;
}

static void conf_free(struct tconf *c)
{
	free(c->control_socket);
	free(c->tun);
}

Test(daemon_glue, keep_swaps_and_undoes)
{
	struct tconf run, nc;
	conf_make(&run, "192.0.2.1", 1701, "/run/a.sock", "lns0", 1400);
	conf_make(&nc, "192.0.2.2", 1702, "/run/b.sock", "lns1", 1300);
	char *run_cs = run.control_socket, *nc_cs = nc.control_socket;
	ROAM_CONF_KEEP_LISTEN(&nc, &run);
	ROAM_CONF_KEEP(&nc, &run, tun);
	/* the new config carries the running values; the running one (freed next) the others */
	cr_assert_eq(nc.port, 1701);
	cr_assert_eq(run.port, 1702);
	cr_assert_eq(nc.control_socket, run_cs);
	cr_assert_eq(run.control_socket, nc_cs);
	cr_assert_str_eq(nc.tun, "lns0");
	cr_assert_str_eq(run.tun, "lns1");
	char b[ROAM_ADDRSTRLEN];
	cr_assert_str_eq(roam_ipaddr_fmt(&nc.listen, b, sizeof(b)), "192.0.2.1");
	cr_assert_eq(nc.mtu, 1300); /* not kept: taken from the new file */
	/* a second call undoes the first (a reload that fails later) */
	ROAM_CONF_KEEP_LISTEN(&nc, &run);
	ROAM_CONF_KEEP(&nc, &run, tun);
	cr_assert_eq(run.port, 1701);
	cr_assert_eq(run.control_socket, run_cs);
	cr_assert_str_eq(run.tun, "lns0");
	cr_assert_str_eq(roam_ipaddr_fmt(&run.listen, b, sizeof(b)), "192.0.2.1");
	conf_free(&run);
	conf_free(&nc);
}

Test(daemon_glue, needs_restart_says_so, .init = cr_redirect_stderr)
{
	log_init("test", 1, LOG_LVL_INFO);
	cr_assert_not(roam_reload_needs_restart(false, "quiet"));
	cr_assert(roam_reload_needs_restart(true, "ppp enabled/pool"));
	fflush(stderr);
	char out[512];
	size_t n = fread(out, 1, sizeof(out) - 1, cr_get_redirected_stderr());
	out[n] = 0;
	/* one line, after the time stamp */
	cr_assert(strstr(out, " test[warning]: reload: ppp enabled/pool changes take effect at "
			      "the next restart\n"), "%s", out);
	cr_assert_null(strstr(out, "quiet"));
	cr_assert_eq(strchr(out, '\n'), out + n - 1);
}

Test(daemon_glue, loaded_check_only_prints_summary, .init = cr_redirect_stdout)
{
	struct roam_args a;
	memset(&a, 0, sizeof(a));
	snprintf(a.config, sizeof(a.config), "/etc/roam/td.yaml");
	a.check_only = true;
	log_setlevel(LOG_LVL_WARN);
	cr_assert_eq(roam_daemon_loaded(&a, LOG_LVL_DEBUG, "%zu peers%s", (size_t)3, ""), 0);
	cr_assert_eq(log_getlevel(), LOG_LVL_WARN); /* -t: the level is not touched */
	fflush(stdout);
	cr_assert_stdout_eq_str("/etc/roam/td.yaml: configuration OK (3 peers)\n");
}

Test(daemon_glue, loaded_sets_the_level_unless_debug)
{
	struct roam_args a;
	memset(&a, 0, sizeof(a));
	log_setlevel(LOG_LVL_WARN);
	cr_assert_eq(roam_daemon_loaded(&a, LOG_LVL_INFO, "unused"), 0);
	cr_assert_eq(log_getlevel(), LOG_LVL_INFO);
	a.debug = true;
	log_setlevel(LOG_LVL_DEBUG);
	cr_assert_eq(roam_daemon_loaded(&a, LOG_LVL_ERR, "unused"), 0);
	cr_assert_eq(log_getlevel(), LOG_LVL_DEBUG);
}

/* fmt NULL (sipd): no summary, the level untouched as well */
Test(daemon_glue, loaded_check_only_without_summary, .init = cr_redirect_stdout)
{
	log_setlevel(LOG_LVL_ERR);
	struct roam_args a = { .check_only = true, .config = "sipd.yaml" };
	int r = roam_daemon_loaded(&a, LOG_LVL_DEBUG, NULL);
	fflush(stdout);
	cr_assert_stdout_eq_str("sipd.yaml: configuration OK\n");
	cr_assert(r == 0 && log_getlevel() == LOG_LVL_ERR);
}
