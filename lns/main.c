/* lnsd: configuration, lifecycle and event loop (roam_daemon_main).  Everything
 * protocol-specific is in tunnel.c and session.c. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lnsd.h"
#include "roam/clock.h"
#include "roam/daemon_glue.h"

/* Keeps in nc the running values of what needs a restart (ROAM_CONF_KEEP; a second call
 * undoes it). */
static void lnsd_conf_keep(struct lnsd_conf *nc, struct lnsd_conf *rc)
{
	ROAM_CONF_KEEP_LISTEN(nc, rc);
	ROAM_CONF_KEEP(nc, rc, ppp.enabled);
	ROAM_CONF_KEEP(nc, rc, ppp.pool);
	ROAM_CONF_KEEP(nc, rc, ppp.local_address);
	ROAM_CONF_KEEP(nc, rc, ppp.mtu);
	ROAM_CONF_KEEP(nc, rc, ppp.tun);
}

/* SIGHUP / "reload": peers, tunnel parameters (for new tunnels), host name, log level and the
 * PPP credentials, authentication, CHAP name, DNS and echo (for new calls) change; tunnels that
 * exist keep their secret; the PPP on/off switch, pool, local address and TUN device need a
 * restart.  A file with errors keeps the running config. */
static int lnsd_reload(void *arg, const char *config, char *err, size_t errlen)
{
	struct lnsd *h = arg;
	struct lnsd_conf nc;
	int r = lnsd_conf_load(&nc, config, 0, err, errlen);
	if (r < 0)
		return r;
	ROAM_RELOAD_WARN_LISTEN(&nc, &h->conf);
	roam_reload_needs_restart(nc.ppp.enabled != h->conf.ppp.enabled ||
				  !roam_ipaddr_eq(&nc.ppp.pool.addr, &h->conf.ppp.pool.addr) ||
				  nc.ppp.pool.len != h->conf.ppp.pool.len ||
				  !roam_ipaddr_eq(&nc.ppp.local_address,
						  &h->conf.ppp.local_address) ||
				  strcmp(nc.ppp.tun, h->conf.ppp.tun) != 0 ||
				  nc.ppp.mtu != h->conf.ppp.mtu,
				  "ppp enabled/pool/local_address/tun/mtu");
	/* Keep what cannot change without a restart, so status tells the truth. */
	lnsd_conf_keep(&nc, &h->conf);
	if ((r = lnsd_ppp_reload(h, &nc)) < 0) {
		snprintf(err, errlen, "ppp.credentials: not valid (see the log)");
		lnsd_conf_keep(&nc, &h->conf); /* the running config as it was */
		lnsd_conf_free(&nc);
		return r;
	}
	lnsd_conf_free(&h->conf);
	h->conf = nc;
	if (!h->debug)
		log_setlevel((enum log_level)h->conf.log_level);
	h->ho_dirty = true; /* a new snapshot path gets the parked calls at the next save */
	if ((r = lnsd_handoff_snap_start(h)) < 0)
		log_warnx("snapshot timer: %s", uv_strerror(r));
	log_info("configuration reloaded: %zu peers", h->conf.npeers);
	return 0;
}

/* SIGTERM/SIGINT (and a failed start): StopCCN on every tunnel, wait briefly for the
 * acknowledgements, then close our handles (roam_daemon_main closes the control socket). */
static void lnsd_shutdown(void *arg)
{
	struct lnsd *h = arg;
	h->ctl = NULL;
	/* Parked calls are kept for the next start (established ones end with StopCCN). */
	if (h->snap.started)
		snap_timer_save_now(&h->snap);
	else
		lnsd_handoff_save(h);
	snap_timer_close(&h->snap);
	lnsd_ppp_close(h); /* TUN device (and its routes), timer, netlink */
	l2tp_ep_shutdown(&h->ep, L2TP_EP_SHUTDOWN_GRACE_MS);
}

static int lnsd_load(void *arg, const struct roam_args *args)
{
	struct lnsd *h = arg;
	h->config_path = args->config;
	h->debug = args->debug;
	if (lnsd_conf_load(&h->conf, args->config, 1, NULL, 0) < 0)
		return -EINVAL;
	return roam_daemon_loaded(args, h->conf.log_level, "%zu peers", h->conf.npeers);
}

static int lnsd_setup(void *arg, uv_loop_t *loop, struct roam_daemon *d)
{
	struct lnsd *h = arg;
	int r;
	h->loop = loop;
	h->daemon = d;
	h->started_wall = roam_wall_ms();
	if ((r = lnsd_core_init(h)) < 0) {
		log_warnx("tables: %s", strerror(-r));
		return r;
	}
	if ((r = l2tp_ep_server_open(&h->ep, loop, &h->conf.listen, h->conf.port)) < 0)
		return r;
	if ((r = lnsd_ppp_open(h, loop)) < 0)
		return r;
	lnsd_handoff_load(h, uv_now(loop));
	if ((r = lnsd_handoff_snap_start(h)) < 0)
		log_warnx("snapshot timer: %s", uv_strerror(r));
	log_info("started: %s, %zu peers%s", h->conf.host_name, h->conf.npeers,
		 h->conf.accept_any ? ", accepting any peer" : "");
	return 0;
}

ROAM_DAEMON_ACCESSORS(lnsd, struct lnsd)

static void lnsd_cleanup(void *arg)
{
	struct lnsd *h = arg;
	lnsd_core_destroy(h);
	lnsd_conf_free(&h->conf);
}

int main(int argc, char **argv)
{
	static struct lnsd h; /* large (scratch messages): not on the stack */
	/* keep_caps 0: port 1701 is bound before the privilege drop */
	const struct roam_daemon_desc desc = ROAM_DAEMON_DESC(lnsd, &h, 0);
	return roam_daemon_main(argc, argv, &desc);
}
