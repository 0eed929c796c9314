/* had: arguments, configuration, event loop.  Registration processing is in reg.c. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "had.h"
#include "roam/clock.h"
#include "roam/daemon_glue.h"

static int udp_send(void *arg, const struct roam_sockaddr *dst, const void *data, size_t len)
{
	struct had *h = arg;
	return h->udp ? roam_udp_send(h->udp, dst, data, len) : -ENOTCONN;
}

static void udp_recv(struct roam_udp *u, const struct roam_udp_pkt *pkt, void *arg)
{
	(void)u;
	struct had *h = arg;
	had_reg_input(h, pkt->data, pkt->len, &pkt->src, roam_mono_ms(),
		      auth_ntp_from_unix_ms(roam_wall_ms()));
}

static int udp_open(struct had *h)
{
	struct roam_udp_opts o;
	memset(&o, 0, sizeof(o));
	roam_sockaddr_set(&o.bind, &h->conf.listen, h->conf.port);
	o.reuseaddr = 1;
	int r = roam_udp_open(h->loop, &o, udp_recv, h, &h->udp);
	if (r < 0) {
		char b[ROAM_ADDRSTRLEN];
		log_warnx("cannot listen on %s: %s", roam_sockaddr_fmt(&o.bind, b, sizeof(b)),
			  strerror(-r));
	}
	return r;
}

/* SIGHUP / "reload": SAs, lifetimes, tolerance, mode and limits change; bindings are kept.
 * listen, port, control_socket, snapshot path and the advertisement interface need a
 * restart.  A file with errors keeps the running config. */
static int had_reload(void *arg, const char *config, char *err, size_t errlen)
{
	struct had *h = arg;
	struct had_conf nc, old;
	int r = had_conf_load(&nc, config, 0, err, errlen);
	if (r < 0)
		return r;
	old = h->conf;
	h->conf = nc;
	if ((r = had_sa_build(h)) < 0 || (r = had_ro_build(h)) < 0) {
		h->conf = old;
		had_sa_build(h);
		had_conf_free(&nc);
		snprintf(err, errlen, "%s: cannot apply the keys: %s", config, strerror(-r));
		log_warnx("%s", err);
		return r;
	}
	ROAM_RELOAD_WARN_LISTEN(&h->conf, &old);
	roam_reload_needs_restart(old.advert.enabled != h->conf.advert.enabled ||
				  strcmp(old.advert.interface, h->conf.advert.interface) != 0,
				  "advert.enabled/interface");
	roam_reload_needs_restart(strcmp(old.snapshot, h->conf.snapshot) != 0, "snapshot path");
	ROAM_CONF_KEEP_LISTEN(&h->conf, &old);
	ROAM_CONF_KEEP(&h->conf, &old, snapshot);
	ROAM_CONF_KEEP(&h->conf, &old, advert.enabled);
	ROAM_CONF_KEEP(&h->conf, &old, advert.interface);
	ROAM_CONF_KEEP(&h->conf, &old, fifo_items);
	if (old.dataplane.enabled != h->conf.dataplane.enabled ||
	    strcmp(old.dataplane.tun, h->conf.dataplane.tun) != 0 ||
	    strcmp(old.dataplane.interface, h->conf.dataplane.interface) != 0 ||
	    !roam_ipaddr_eq(&old.dataplane.source, &h->conf.dataplane.source) ||
	    old.dataplane.tun_mtu != h->conf.dataplane.tun_mtu ||
	    old.dataplane.gratuitous_arp != h->conf.dataplane.gratuitous_arp)
		log_warnx("reload: dataplane changes other than ttl take effect at the next restart");
	{
		uint32_t ttl = h->conf.dataplane.ttl;
		ROAM_CONF_KEEP(&h->conf, &old, dataplane);
		h->conf.dataplane.ttl = ttl;
	}
	had_conf_free(&old);
	if (!h->debug)
		log_setlevel((enum log_level)h->conf.log_level);
	had_adv_reconf(h);
	had_store_snap_start(h);
	had_store_cap(h, roam_mono_ms());
	log_info("reloaded: %zu mobile SAs, %zu FA SAs, %zu bindings kept, %s", h->nsas, h->nfas,
		 binding_count(&h->bc), h->conf.synchronized ? "synchronized" : "plain RFC 5944");
	return 0;
}

/* SIGTERM/SIGINT (and a failed start): save the bindings, close every handle of ours so that
 * uv_run returns (roam_daemon_main closes the control socket). */
static void had_shutdown(void *arg)
{
	struct had *h = arg;
	if (!h->store_ready)
		return;
	log_info("shutting down: %zu bindings", binding_count(&h->bc));
	if (h->snap.started)
		snap_timer_save_now(&h->snap);
	else
		had_store_save(h);
	snap_timer_close(&h->snap);
	had_adv_close(h);
	roam_udp_close(h->udp, NULL);
	h->udp = NULL;
	h->ctl = NULL;
	had_ro_close(h);
	had_store_destroy(h); /* removes the routes and proxy ARP entries of the bindings */
	h->store_ready = false;
	had_dp_close(h);
}

static int had_load(void *arg, const struct roam_args *args)
{
	struct had *h = arg;
	int r;
	h->config_path = args->config;
	h->debug = args->debug;
	if (had_conf_load(&h->conf, args->config, 1, NULL, 0) < 0)
		return -EINVAL;
	if ((r = had_sa_build(h)) < 0 || (r = had_ro_build(h)) < 0) {
		fprintf(stderr, "%s: keys: %s\n", args->config, strerror(-r));
		return r;
	}
	return roam_daemon_loaded(args, h->conf.log_level, "%zu mobile SAs, %zu FA SAs", h->nsas,
				  h->nfas);
}

/* After the detach (uv_loop_fork), so the timers live in the daemon's loop. */
static int had_setup(void *arg, uv_loop_t *loop, struct roam_daemon *d)
{
	struct had *h = arg;
	int r;
	h->loop = loop;
	h->daemon = d;
	h->send = udp_send;
	h->send_arg = h;
	h->started_wall = roam_wall_ms();
	h->drop_rl.burst = 10;
	h->drop_rl.interval_ms = 1000;
	if ((r = had_store_init(h, roam_mono_ms())) < 0) {
		log_warnx("binding cache: %s", strerror(-r));
		return r;
	}
	h->store_ready = true;
	had_store_load(h, roam_wall_ms(), roam_mono_ms());
	if ((r = udp_open(h)) < 0 || (r = had_adv_open(h)) < 0 || (r = had_dp_open(h)) < 0)
		return r;
	if ((r = had_store_snap_start(h)) < 0)
		log_warnx("snapshot timer: %s", uv_strerror(r));
	log_info("started: %zu mobile SAs, %zu bindings restored, %s", h->nsas,
		 binding_count(&h->bc), h->conf.synchronized ? "synchronized" : "plain RFC 5944");
	return 0;
}

ROAM_DAEMON_ACCESSORS(had, struct had)

static void had_cleanup(void *arg)
{
	struct had *h = arg;
	had_sa_free(h);
	had_ro_free(h);
	had_conf_free(&h->conf);
}

int main(int argc, char **argv)
{
	struct had h;
	memset(&h, 0, sizeof(h));
	/* keep_caps: port 434, raw ICMP for advertisements */
	const struct roam_daemon_desc desc = ROAM_DAEMON_DESC(had, &h, ROAM_CAPS_NET);
	return roam_daemon_main(argc, argv, &desc);
}
