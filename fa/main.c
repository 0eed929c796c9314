/* fad: arguments, configuration, event loop.  Relay processing is in relay.c and fbu.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fad.h"
#include "roam/clock.h"
#include "roam/daemon_glue.h"

static int udp_send(void *arg, const struct roam_sockaddr *dst, const struct roam_ipaddr *src,
		    int ifindex, const void *data, size_t len)
{
	struct fad *f = arg;
	if (!f->udp)
		return -ENOTCONN;
	return roam_udp_send_from(f->udp, dst, src, ifindex, data, len);
}

static void udp_recv(struct roam_udp *u, const struct roam_udp_pkt *pkt, void *arg)
{
	(void)u;
	struct fad *f = arg;
	fad_input(f, pkt->data, pkt->len, &pkt->src, pkt->ifindex, roam_mono_ms(),
		  auth_ntp_from_unix_ms(roam_wall_ms()));
}

static int udp_open(struct fad *f)
{
	struct roam_udp_opts o;
	memset(&o, 0, sizeof(o));
	roam_sockaddr_set(&o.bind, &f->conf.listen, f->conf.port);
	o.reuseaddr = 1;
	int r = roam_udp_open(f->loop, &o, udp_recv, f, &f->udp);
	if (r < 0) {
		char b[ROAM_ADDRSTRLEN];
		log_warnx("cannot listen on %s: %s", roam_sockaddr_fmt(&o.bind, b, sizeof(b)),
			  strerror(-r));
		return r;
	}
	/* A mobile may send its request to the "all mobility agents" group 224.0.0.11 instead of
	 * the advertised address (RFC 5944 3.6.1.2); roam's mobiles use the care-of address.
	 * Joined on every cell when possible. */
	struct roam_ipaddr grp;
	memset(&grp, 0, sizeof(grp));
	grp.family = AF_INET;
	grp.v4.s_addr = htonl(0xe000000bu);
	for (size_t i = 0; i < f->ncells; i++)
		if (roam_udp_mcast_join(f->udp, &grp, f->cells[i].ifname) < 0)
			log_debug("cannot join 224.0.0.11 on %s", f->cells[i].ifname);
	return 0;
}

static bool cells_equal(const struct fad_conf *a, const struct fad_conf *b)
{
	if (a->ncells != b->ncells)
		return false;
	for (size_t i = 0; i < a->ncells; i++)
		if (strcmp(a->cells[i].interface, b->cells[i].interface) != 0 ||
		    !roam_ipaddr_eq(&a->cells[i].care_of, &b->cells[i].care_of))
			return false;
	return true;
}

/* SIGHUP / "reload": SAs, lifetimes, limits and modes change; visitors are kept.  listen,
 * port, control_socket, snapshot path, cells and advert.enabled need a restart.  A file with
 * errors keeps the running config. */
static int fad_reload(void *arg, const char *config, char *err, size_t errlen)
{
	struct fad *f = arg;
	struct fad_conf nc, old;
	int r = fad_conf_load(&nc, config, 0, err, errlen);
	if (r < 0)
		return r;
	old = f->conf;
	f->conf = nc;
	if ((r = fad_sa_build(f)) < 0) {
		f->conf = old;
		fad_conf_free(&nc);
		snprintf(err, errlen, "%s: cannot apply the keys: %s", config, strerror(-r));
		log_warnx("%s", err);
		return r;
	}
	ROAM_RELOAD_WARN_LISTEN(&f->conf, &old);
	roam_reload_needs_restart(strcmp(old.snapshot, f->conf.snapshot) != 0, "snapshot path");
	roam_reload_needs_restart(!cells_equal(&old, &f->conf) ||
				  old.advert.enabled != f->conf.advert.enabled,
				  "cells/advert.enabled");
	roam_reload_needs_restart(old.dataplane.enabled != f->conf.dataplane.enabled ||
				  strcmp(old.dataplane.tun, f->conf.dataplane.tun) != 0,
				  "dataplane");
	roam_reload_needs_restart(old.gfa.enabled != f->conf.gfa.enabled, "gfa");
	ROAM_CONF_KEEP_LISTEN(&f->conf, &old);
	/* the GFA's SAs and bindings (gfa.c) are built at start-up */
	ROAM_CONF_KEEP(&f->conf, &old, gfa);
	ROAM_CONF_KEEP(&f->conf, &old, snapshot);
	ROAM_CONF_KEEP(&f->conf, &old, advert.enabled);
	ROAM_CONF_KEEP(&f->conf, &old, fifo_items);
	ROAM_CONF_KEEP(&f->conf, &old, cells);
	ROAM_CONF_KEEP(&f->conf, &old, ncells);
	ROAM_CONF_KEEP(&f->conf, &old, dataplane);
	fad_conf_free(&old);
	if (!f->debug)
		log_setlevel((enum log_level)f->conf.log_level);
	fad_adv_reconf(f);
	fad_store_snap_start(f);
	log_info("reloaded: %zu home agent SAs, %zu mobile SAs, %zu visitors kept, %s", f->nhas,
		 f->nmns, fad_visitor_count(f),
		 f->conf.synchronized ? "synchronized" : "plain RFC 5944");
	return 0;
}

static void fad_shutdown(void *arg)
{
	struct fad *f = arg;
	if (!f->store_ready)
		return;
	log_info("shutting down: %zu visitors", fad_visitor_count(f));
	if (f->snap.started)
		snap_timer_save_now(&f->snap);
	else
		fad_store_save(f);
	snap_timer_close(&f->snap);
	fad_adv_close(f);
	fad_dp_close(f);
	roam_udp_close(f->udp, NULL);
	f->udp = NULL;
	f->ctl = NULL;
	fad_store_destroy(f);
}

static int fad_load(void *arg, const struct roam_args *args)
{
	struct fad *f = arg;
	int r;
	f->config_path = args->config;
	f->debug = args->debug;
	if (fad_conf_load(&f->conf, args->config, 1, NULL, 0) < 0)
		return -EINVAL;
	if ((r = fad_sa_build(f)) < 0) {
		fprintf(stderr, "%s: keys: %s\n", args->config, strerror(-r));
		return r;
	}
	if ((r = fad_gfa_init(f)) < 0) {
		fprintf(stderr, "%s: gfa: %s\n", args->config, strerror(-r));
		return r;
	}
	return roam_daemon_loaded(args, f->conf.log_level,
				  "%zu cells, %zu home agent SAs, %zu mobile SAs", f->conf.ncells,
				  f->nhas, f->nmns);
}

static int fad_setup(void *arg, uv_loop_t *loop, struct roam_daemon *d)
{
	struct fad *f = arg;
	int r;
	f->loop = loop;
	f->daemon = d;
	f->send = udp_send;
	f->send_arg = f;
	f->started_wall = roam_wall_ms();
	f->drop_rl.burst = 10;
	f->drop_rl.interval_ms = 1000;
	if ((r = fad_cells_build(f, 1)) < 0)
		return r;
	if ((r = fad_store_init(f, roam_mono_ms())) < 0) {
		log_warnx("visitor list: %s", strerror(-r));
		return r;
	}
	fad_store_load(f, roam_wall_ms(), roam_mono_ms());
	if ((r = udp_open(f)) < 0 || (r = fad_adv_open(f)) < 0 || (r = fad_dp_open(f)) < 0)
		return r;
	if ((r = fad_store_snap_start(f)) < 0)
		log_warnx("snapshot timer: %s", uv_strerror(r));
	log_info("started: %zu cells, %zu visitors restored, %s", f->ncells, fad_visitor_count(f),
		 f->conf.synchronized ? "synchronized" : "plain RFC 5944");
	return 0;
}

ROAM_DAEMON_ACCESSORS(fad, struct fad)

static void fad_cleanup(void *arg)
{
	struct fad *f = arg;
	fad_sa_free(f);
	fad_gfa_free(f);
	free(f->dp.caps); /* its handles were closed with the loop */
	f->dp.caps = NULL;
	fad_cells_free(f);
	fad_conf_free(&f->conf);
}

int main(int argc, char **argv)
{
	struct fad f;
	memset(&f, 0, sizeof(f));
	/* keep_caps: port 434, raw ICMP for advertisements */
	const struct roam_daemon_desc desc = ROAM_DAEMON_DESC(fad, &f, ROAM_CAPS_NET);
	return roam_daemon_main(argc, argv, &desc);
}
