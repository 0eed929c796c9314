/* hlrd: arguments, configuration, event loop.  Everything protocol-specific is in server.c. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hlrd.h"
#include "roam/clock.h"
#include "roam/daemon_glue.h"

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
	roam_reload_needs_restart(!same_listen(&h->conf, &nc), "listen/port");
	roam_reload_needs_restart(strcmp(h->conf.control_socket, nc.control_socket) != 0,
				  "control_socket");
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
	ROAM_CONF_KEEP(&h->conf, &old, listen);
	ROAM_CONF_KEEP(&h->conf, &old, nlisten);
	ROAM_CONF_KEEP(&h->conf, &old, port);
	ROAM_CONF_KEEP(&h->conf, &old, control_socket);
	hlrd_conf_free(&old);
	if (!h->debug)
		log_setlevel((enum log_level)h->conf.log_level);
	hlrd_store_cap(h, h->conf.max_lifetime / 1000, uv_now(h->loop));
	hlrd_store_snap_start(h);
	log_info("%zu host keys, %zu mappings kept", h->nkeys, table_count(&h->table));
	(void)config;
	return 0;
}

/* SIGTERM/SIGINT (and a failed start): save the table, close every handle of ours so that
 * uv_run returns (roam_daemon_main closes the control socket). */
static void hlrd_shutdown(void *arg)
{
	struct hlrd *h = arg;
	log_info("shutting down: %zu mappings", table_count(&h->table));
	if (h->snap.started)
		snap_timer_save_now(&h->snap);
	else if (h->store_ready)
		hlrd_store_save(h);
	snap_timer_close(&h->snap);
	hlrd_server_close(h);
	h->ctl = NULL;
	if (h->store_ready)
		hlrd_store_destroy(h);
	h->store_ready = 0;
}

static int hlrd_load(void *arg, const struct roam_args *args)
{
	struct hlrd *h = arg;
	h->config_path = args->config;
	h->debug = args->debug;
	if (hlrd_conf_load(&h->conf, args->config, 1, NULL, 0) < 0)
		return -EINVAL;
	return roam_daemon_loaded(args, h->conf.log_level, "%zu hosts", h->conf.nhosts);
}

static int hlrd_setup(void *arg, uv_loop_t *loop, struct roam_daemon *d)
{
	struct hlrd *h = arg;
	int r;
	h->loop = loop;
	h->daemon = d;
	h->started_wall = roam_wall_ms();
	h->drop_rl.burst = 10;
	h->drop_rl.interval_ms = 1000;
	if ((r = hlrd_keys_build(h)) < 0) {
		log_warnx("host keys: %s", strerror(-r));
		return r;
	}
	if ((r = hlrd_store_init(h)) < 0) {
		log_warnx("mapping table: %s", strerror(-r));
		return r;
	}
	h->store_ready = 1;
	hlrd_store_load(h);
	if ((r = hlrd_server_open(h)) < 0)
		return r;
	if ((r = hlrd_store_snap_start(h)) < 0)
		log_warnx("snapshot timer: %s", uv_strerror(r));
	log_info("started: %zu hosts, %zu mappings restored", h->nkeys, table_count(&h->table));
	return 0;
}

ROAM_DAEMON_ACCESSORS(hlrd, struct hlrd)

static void hlrd_cleanup(void *arg)
{
	struct hlrd *h = arg;
	hlrd_keys_free(h);
	hlrd_conf_free(&h->conf);
}

int main(int argc, char **argv)
{
	struct hlrd h;
	memset(&h, 0, sizeof(h));
	/* keep_caps 0: an unprivileged port, no devices */
	const struct roam_daemon_desc desc = ROAM_DAEMON_DESC(hlrd, &h, 0);
	return roam_daemon_main(argc, argv, &desc);
}
