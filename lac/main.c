/* lacd: configuration, lifecycle and event loop (roam_daemon_main).  Everything
 * protocol-specific is in tunnel.c, session.c, access.c and handoff.c. */
#include <errno.h>
#include <string.h>

#include "lacd.h"
#include "roam/clock.h"
#include "roam/daemon_glue.h"

/* SIGHUP / "reload": the LNS table, tunnel parameters (for new tunnels), host name and log
 * level change; tunnels that exist keep their secret.  A file with errors keeps the running
 * config. */
static int lacd_reload(void *arg, const char *config, char *err, size_t errlen)
{
	struct lacd *h = arg;
	struct lacd_conf nc;
	int r = lacd_conf_load(&nc, config, 0, err, errlen);
	if (r < 0)
		return r;
	ROAM_RELOAD_WARN_LISTEN(&nc, &h->conf);
	roam_reload_needs_restart(nc.access.enabled != h->conf.access.enabled ||
				  !roam_ipaddr_eq(&nc.access.listen, &h->conf.access.listen) ||
				  nc.access.port != h->conf.access.port ||
				  strcmp(nc.access.interface, h->conf.access.interface) != 0 ||
				  !roam_ipaddr_eq(&nc.access.group, &h->conf.access.group),
				  "access enabled/listen/port/interface/group");
	/* Keep what cannot change without a restart, so status tells the truth. */
	ROAM_CONF_KEEP_LISTEN(&nc, &h->conf);
	ROAM_CONF_KEEP(&nc, &h->conf, access.enabled);
	ROAM_CONF_KEEP(&nc, &h->conf, access.listen);
	ROAM_CONF_KEEP(&nc, &h->conf, access.port);
	ROAM_CONF_KEEP(&nc, &h->conf, access.group);
	ROAM_CONF_KEEP(&nc, &h->conf, access.interface);
	/* The LAC group socket stays as opened; keys, hold time and the challenge timers are
	 * taken (a key roll-over is a reload). */
	roam_reload_needs_restart(nc.handoff.enabled != h->conf.handoff.enabled ||
				  !roam_ipaddr_eq(&nc.handoff.group, &h->conf.handoff.group) ||
				  nc.handoff.port != h->conf.handoff.port ||
				  strcmp(nc.handoff.interface, h->conf.handoff.interface) != 0,
				  "handoff enabled/group/port/interface");
	ROAM_CONF_KEEP(&nc, &h->conf, handoff.enabled);
	ROAM_CONF_KEEP(&nc, &h->conf, handoff.group);
	ROAM_CONF_KEEP(&nc, &h->conf, handoff.port);
	ROAM_CONF_KEEP(&nc, &h->conf, handoff.interface);
	lacd_aaa_reload(h, &nc);
	lacd_conf_free(&h->conf);
	h->conf = nc;
	lacd_ho_apply_conf(h);
	if (!h->debug)
		log_setlevel((enum log_level)h->conf.log_level);
	log_info("configuration reloaded: %zu LNS entries", h->conf.nlns);
	return 0;
}

/* SIGTERM/SIGINT (and a failed start): StopCCN on every tunnel, wait briefly for the
 * acknowledgements, then close our handles (roam_daemon_main closes the control socket). */
static void lacd_shutdown(void *arg)
{
	struct lacd *h = arg;
	h->ctl = NULL;
	lacd_access_close(h); /* DETACH cause 3 to every mobile */
	lacd_aaa_close(h);
	lacd_ho_close(h);
	l2tp_ep_shutdown(&h->ep, L2TP_EP_SHUTDOWN_GRACE_MS);
}

static int lacd_load(void *arg, const struct roam_args *args)
{
	struct lacd *h = arg;
	h->config_path = args->config;
	h->debug = args->debug;
	if (lacd_conf_load(&h->conf, args->config, 1, NULL, 0) < 0)
		return -EINVAL;
	return roam_daemon_loaded(args, h->conf.log_level, "%zu LNS entries", h->conf.nlns);
}

static int lacd_setup(void *arg, uv_loop_t *loop, struct roam_daemon *d)
{
	struct lacd *h = arg;
	int r;
	h->loop = loop;
	h->daemon = d;
	h->started_wall = roam_wall_ms();
	if ((r = lacd_core_init(h)) < 0) {
		log_warnx("tables: %s", strerror(-r));
		return r;
	}
	if ((r = l2tp_ep_server_open(&h->ep, loop, &h->conf.listen, h->conf.port)) < 0)
		return r;
	if ((r = lacd_access_open(h, loop)) < 0 || (r = lacd_ho_open(h, loop)) < 0)
		return r;
	if ((r = lacd_aaa_open(h, loop)) < 0)
		return r;
	log_info("started: %s, %zu LNS entries", h->conf.host_name, h->conf.nlns);
	return 0;
}

ROAM_DAEMON_ACCESSORS(lacd, struct lacd)

static void lacd_cleanup(void *arg)
{
	struct lacd *h = arg;
	lacd_aaa_destroy(h);
	lacd_core_destroy(h);
	lacd_conf_free(&h->conf);
}

int main(int argc, char **argv)
{
	static struct lacd h; /* large (scratch messages): not on the stack */
	/* keep_caps 0: port 1701 is bound before the privilege drop */
	const struct roam_daemon_desc desc = ROAM_DAEMON_DESC(lacd, &h, 0);
	return roam_daemon_main(argc, argv, &desc);
}
