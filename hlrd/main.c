/* hlrd: arguments, configuration, event loop.  Everything protocol-specific is in server.c. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hlrd.h"
#include "roam/clock.h"

static int same_listen(const struct hlrd_conf *a, const struct hlrd_conf *b)
{
	if (a->port != b->port || a->nlisten != b->nlisten)
		return 0;
	for (size_t i = 0; i < a->nlisten; i++)
		if (!roam_ipaddr_eq(&a->listen[i], &b->listen[i]))
			return 0;
	return 1;
}

/* SIGHUP / "reload": a file with errors keeps the running config (and every mapping). */
static int hlrd_reload(void *arg, const char *config, char *err, size_t errlen)
{
	struct hlrd *h = arg;
	struct hlrd_conf nc, old;
	int r = hlrd_conf_load(&nc, config, 0, err, errlen);
	if (r < 0)
		return r; /* every error was logged; the lifecycle module logs the outcome */
	if (!same_listen(&h->conf, &nc))
		log_warnx("reload: listen/port changes take effect at the next restart");
	if (strcmp(h->conf.control_socket, nc.control_socket) != 0)
		log_warnx("reload: control_socket changes take effect at the next restart");
	old = h->conf;
	h->conf = nc;
	r = hlrd_keys_build(h);
	if (r < 0) {
		h->conf = old;
		hlrd_conf_free(&nc);
		snprintf(err, errlen, "%s: cannot apply host keys: %s", config, strerror(-r));
		log_warnx("%s", err);
		return r;
	}
	/* Keep what cannot change without a restart, so status tells the truth. */
	struct roam_ipaddr *l = h->conf.listen;
	size_t nl = h->conf.nlisten;
	uint16_t port = h->conf.port;
	char *cs = h->conf.control_socket;
	h->conf.listen = old.listen;
	h->conf.nlisten = old.nlisten;
	h->conf.port = old.port;
	h->conf.control_socket = old.control_socket;
	old.listen = l;
	old.nlisten = nl;
	old.port = port;
	old.control_socket = cs;
	hlrd_conf_free(&old);
	if (!h->debug)
		log_setlevel((enum log_level)h->conf.log_level);
	hlrd_store_cap(h, h->conf.max_lifetime / 1000, uv_now(h->loop));
	hlrd_store_snap_start(h);
	log_info("%zu host keys, %zu mappings kept", h->nkeys, table_count(&h->table));
	(void)config;
	return 0;
}

/* SIGTERM/SIGINT: save the table, close every handle so that uv_run returns. */
static void hlrd_shutdown(void *arg)
{
	struct hlrd *h = arg;
	log_info("shutting down: %zu mappings", table_count(&h->table));
	if (h->snap.started)
		snap_timer_save_now(&h->snap);
	else
		hlrd_store_save(h);
	snap_timer_close(&h->snap);
	hlrd_server_close(h);
	ctl_close(h->ctl);
	h->ctl = NULL;
	hlrd_store_destroy(h);
}

int main(int argc, char **argv)
{
	struct roam_args args;
	struct hlrd h;
	uv_loop_t loop;
	int r = roam_args_parse(&args, "hlrd", argc, argv);
	if (r != ROAM_ARGS_RUN)
		return r == ROAM_ARGS_EXIT ? 0 : 2;
	log_init("hlrd", 1, args.debug ? LOG_LVL_DEBUG : LOG_LVL_INFO);

	memset(&h, 0, sizeof(h));
	h.config_path = args.config;
	h.debug = args.debug;
	if (hlrd_conf_load(&h.conf, args.config, 1, NULL, 0) < 0)
		return 1;
	if (args.check_only) {
		printf("%s: configuration OK (%zu hosts)\n", args.config, h.conf.nhosts);
		hlrd_conf_free(&h.conf);
		return 0;
	}
	if (!args.debug)
		log_setlevel((enum log_level)h.conf.log_level);
	if (uv_loop_init(&loop) < 0)
		fatalx("cannot initialise the event loop");
	h.loop = &loop;
	h.started_wall = roam_wall_ms();
	h.drop_rl.burst = 10;
	h.drop_rl.interval_ms = 1000;
	if ((r = hlrd_keys_build(&h)) < 0)
		fatalx("host keys: %s", strerror(-r));
	if ((r = hlrd_store_init(&h)) < 0)
		fatalx("mapping table: %s", strerror(-r));
	hlrd_store_load(&h);

	struct roam_daemon_ops ops = { .reload = hlrd_reload, .shutdown = hlrd_shutdown,
				       .status = hlrd_status, .arg = &h };
	if (roam_daemon_start(&h.daemon, &loop, &args, &ops) < 0)
		return 1;
	int rc = 1;
	if (hlrd_server_open(&h) < 0)
		goto out;
	if ((r = ctl_open(&h.ctl, &loop, h.conf.control_socket, 0)) < 0) {
		log_warnx("control socket %s: %s", h.conf.control_socket, strerror(-r));
		goto out;
	}
	if (roam_daemon_register_ctl(h.daemon, h.ctl) < 0 || hlrd_ctl_register(&h) < 0) {
		log_warnx("cannot register control commands");
		goto out;
	}
	if (h.conf.user && *h.conf.user && roam_daemon_drop_privs(h.conf.user, 0) < 0)
		goto out;
	if ((r = hlrd_store_snap_start(&h)) < 0)
		log_warnx("snapshot timer: %s", uv_strerror(r));
	log_info("started: %zu hosts, %zu mappings restored", h.nkeys, table_count(&h.table));
	roam_daemon_ready(h.daemon);
	uv_run(&loop, UV_RUN_DEFAULT);
	rc = 0;
out:
	if (rc != 0)
		roam_daemon_shutdown(h.daemon);
	roam_daemon_close(h.daemon);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	hlrd_keys_free(&h);
	hlrd_conf_free(&h.conf);
	return rc;
}
