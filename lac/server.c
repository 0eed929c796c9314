/* lacd's sockets and timers: the UDP endpoint (port 1701) and one loop timer armed for the
 * earliest tunnel timer.  The state machines (tunnel.c, session.c) do the rest. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lacd.h"

static void udp_tx(void *arg, const struct roam_sockaddr *dst, const uint8_t *pkt, size_t len)
{
	struct lacd *h = arg;
	if (!h->udp)
		return;
	if (roam_udp_send(h->udp, dst, pkt, len) < 0)
		h->stats.tx_errors++;
}

static void on_timer(uv_timer_t *tm)
{
	struct lacd *h = tm->data;
	lacd_run_timers(h, uv_now(h->loop));
	lacd_server_rearm(h);
}

void lacd_server_rearm(struct lacd *h)
{
	if (!h->timer_ready)
		return;
	uint64_t next = lacd_next_timer(h), now = uv_now(h->loop);
	if (next == TABLE_NEVER) {
		uv_timer_stop(&h->timer);
		return;
	}
	uv_timer_start(&h->timer, on_timer, next > now ? next - now : 0, 0);
}

static void on_recv(struct roam_udp *u, const struct roam_udp_pkt *p, void *arg)
{
	(void)u;
	struct lacd *h = arg;
	uv_update_time(h->loop);
	lacd_input(h, p->data, p->len, &p->src, uv_now(h->loop));
	lacd_server_rearm(h);
}

int lacd_server_open(struct lacd *h)
{
	struct roam_udp_opts o;
	char b[ROAM_ADDRSTRLEN];
	int r;
	memset(&o, 0, sizeof(o));
	roam_sockaddr_set(&o.bind, &h->conf.listen, h->conf.port);
	o.dualstack = h->conf.listen.family == AF_INET6 && roam_ipaddr_is_any(&h->conf.listen);
	o.bufsize = 4096;
	h->tx = udp_tx;
	h->tx_arg = h;
	if ((r = roam_udp_open(h->loop, &o, on_recv, h, &h->udp)) < 0) {
		log_warnx("listen %s: %s", roam_sockaddr_fmt(&o.bind, b, sizeof(b)), strerror(-r));
		return r;
	}
	if ((r = uv_timer_init(h->loop, &h->timer)) < 0) {
		log_warnx("timer: %s", uv_strerror(r));
		return r;
	}
	h->timer.data = h;
	h->timer_ready = true;
	log_info("listening on %s", roam_sockaddr_fmt(&o.bind, b, sizeof(b)));
	return 0;
}

void lacd_server_close(struct lacd *h)
{
	if (h->timer_ready) {
		uv_timer_stop(&h->timer);
		uv_close((uv_handle_t *)&h->timer, NULL);
		h->timer_ready = false;
	}
	if (h->grace_ready) {
		uv_timer_stop(&h->grace);
		uv_close((uv_handle_t *)&h->grace, NULL);
		h->grace_ready = false;
	}
	roam_udp_close(h->udp, NULL);
	h->udp = NULL;
}
