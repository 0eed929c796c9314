/* lacd: configuration, lifecycle and event loop (roam_daemon_main).  Everything
 * protocol-specific is in tunnel.c, session.c, access.c and handoff.c. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lacd.h"
#include "roam/clock.h"

#define LACD_GRACE_MS 4000 /* shutdown: how long StopCCN acknowledgements are waited for */

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
	if (!roam_ipaddr_eq(&h->conf.listen, &nc.listen) || h->conf.port != nc.port)
		log_warnx("reload: listen/port changes take effect at the next restart");
	if (strcmp(h->conf.control_socket, nc.control_socket) != 0)
		log_warnx("reload: control_socket changes take effect at the next restart");
	if (nc.access.enabled != h->conf.access.enabled ||
	    !roam_ipaddr_eq(&nc.access.listen, &h->conf.access.listen) ||
	    nc.access.port != h->conf.access.port ||
	    strcmp(nc.access.interface, h->conf.access.interface) != 0 ||
	    !roam_ipaddr_eq(&nc.access.group, &h->conf.access.group))
		log_warnx("reload: access enabled/listen/port/interface/group changes take effect "
			  "at the next restart");
	/* Keep what cannot change without a restart, so status tells the truth. */
	nc.listen = h->conf.listen;
	nc.port = h->conf.port;
	nc.access.enabled = h->conf.access.enabled;
	nc.access.listen = h->conf.access.listen;
	nc.access.port = h->conf.access.port;
	nc.access.group = h->conf.access.group;
	char *ifn = nc.access.interface;
	nc.access.interface = h->conf.access.interface;
	h->conf.access.interface = ifn;
	char *cs = nc.control_socket;
	nc.control_socket = h->conf.control_socket;
	h->conf.control_socket = cs;
	/* The LAC group socket stays as opened; keys, hold time and the challenge timers are
	 * taken (a key roll-over is a reload). */
	if (nc.handoff.enabled != h->conf.handoff.enabled ||
	    !roam_ipaddr_eq(&nc.handoff.group, &h->conf.handoff.group) ||
	    nc.handoff.port != h->conf.handoff.port ||
	    strcmp(nc.handoff.interface, h->conf.handoff.interface) != 0)
		log_warnx("reload: handoff enabled/group/port/interface changes take effect at the "
			  "next restart");
	nc.handoff.enabled = h->conf.handoff.enabled;
	nc.handoff.group = h->conf.handoff.group;
	nc.handoff.port = h->conf.handoff.port;
	char *hifn = nc.handoff.interface;
	nc.handoff.interface = h->conf.handoff.interface;
	h->conf.handoff.interface = hifn;
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
	l2tp_ep_shutdown(&h->ep, LACD_GRACE_MS);
}

static int lacd_load(void *arg, const struct roam_args *args)
{
	struct lacd *h = arg;
	h->config_path = args->config;
	h->debug = args->debug;
	if (lacd_conf_load(&h->conf, args->config, 1, NULL, 0) < 0)
		return -EINVAL;
	if (args->check_only)
		printf("%s: configuration OK (%zu LNS entries)\n", args->config, h->conf.nlns);
	else if (!args->debug)
		log_setlevel((enum log_level)h->conf.log_level);
	return 0;
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

static int lacd_ctl_setup(void *arg, struct roam_ctl *ctl)
{
	struct lacd *h = arg;
	h->ctl = ctl;
	return lacd_ctl_register(h);
}

static const char *lacd_ctl_path(void *arg)
{
	return ((struct lacd *)arg)->conf.control_socket;
}

static const char *lacd_user(void *arg)
{
	return ((struct lacd *)arg)->conf.user;
}

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
	const struct roam_daemon_desc desc = {
		.name = "lacd",
		.load = lacd_load,
		.ctl_path = lacd_ctl_path,
		.user = lacd_user,
		.keep_caps = 0, /* port 1701 is bound before the privilege drop */
		.setup = lacd_setup,
		.ctl_register = lacd_ctl_setup,
		.cleanup = lacd_cleanup,
		.ops = { .reload = lacd_reload, .shutdown = lacd_shutdown, .status = lacd_status,
			 .arg = &h },
	};
	return roam_daemon_main(argc, argv, &desc);
}
