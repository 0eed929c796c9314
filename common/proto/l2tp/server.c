/* The L2TP endpoint's socket and timer: the UDP endpoint (port 1701) and one loop timer armed
 * for the earliest tunnel timer.  The state machine (tunnel.c) does the rest. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "roam/l2tp_tunnel.h"

static void udp_tx(void *arg, const struct roam_sockaddr *dst, const struct roam_ipaddr *src,
		   const uint8_t *pkt, size_t len)
{
	struct l2tp_endpoint *ep = arg;
	if (!ep->udp)
		return;
	int r = src && src->family && !roam_ipaddr_is_any(src)
			? roam_udp_send_from(ep->udp, dst, src, 0, pkt, len)
			: roam_udp_send(ep->udp, dst, pkt, len);
	if (r < 0)
		ep->stats.tx_errors++;
}

static void on_timer(uv_timer_t *tm)
{
	struct l2tp_endpoint *ep = tm->data;
	l2tp_ep_run_timers(ep, uv_now(ep->loop));
	l2tp_ep_server_rearm(ep);
}

void l2tp_ep_server_rearm(struct l2tp_endpoint *ep)
{
	if (!ep->timer_ready)
		return;
	uint64_t next = l2tp_ep_next_timer(ep), now = uv_now(ep->loop);
	if (next == TABLE_NEVER) {
		uv_timer_stop(&ep->timer);
		return;
	}
	uv_timer_start(&ep->timer, on_timer, next > now ? next - now : 0, 0);
}

static void on_recv(struct roam_udp *u, const struct roam_udp_pkt *p, void *arg)
{
	(void)u;
	struct l2tp_endpoint *ep = arg;
	uv_update_time(ep->loop);
	l2tp_ep_input(ep, p->data, p->len, &p->src, p->dst.family ? &p->dst : NULL,
		      uv_now(ep->loop));
	l2tp_ep_server_rearm(ep);
}

int l2tp_ep_server_open(struct l2tp_endpoint *ep, uv_loop_t *loop,
			const struct roam_ipaddr *listen, uint16_t port)
{
	struct roam_udp_opts o;
	char b[ROAM_ADDRSTRLEN];
	int r;
	ep->loop = loop;
	memset(&o, 0, sizeof(o));
	roam_sockaddr_set(&o.bind, listen, port);
	o.dualstack = listen->family == AF_INET6 && roam_ipaddr_is_any(listen);
	o.bufsize = 4096;
	ep->tx = udp_tx;
	ep->tx_arg = ep;
	if ((r = roam_udp_open(loop, &o, on_recv, ep, &ep->udp)) < 0) {
		log_warnx("listen %s: %s", roam_sockaddr_fmt(&o.bind, b, sizeof(b)), strerror(-r));
		return r;
	}
	if ((r = uv_timer_init(loop, &ep->timer)) < 0) {
		log_warnx("timer: %s", uv_strerror(r));
		return r;
	}
	ep->timer.data = ep;
	ep->timer_ready = true;
	log_info("listening on %s", roam_sockaddr_fmt(&o.bind, b, sizeof(b)));
	return 0;
}

void l2tp_ep_server_close(struct l2tp_endpoint *ep)
{
	if (ep->grace_ready) {
		uv_timer_stop(&ep->grace);
		uv_close((uv_handle_t *)&ep->grace, NULL);
		ep->grace_ready = false;
	}
	if (ep->timer_ready) {
		uv_timer_stop(&ep->timer);
		uv_close((uv_handle_t *)&ep->timer, NULL);
		ep->timer_ready = false;
	}
	roam_udp_close(ep->udp, NULL);
	ep->udp = NULL;
}

static void on_grace(uv_timer_t *tm)
{
	struct l2tp_endpoint *ep = tm->data;
	if (l2tp_ep_all_idle(ep) || uv_now(ep->loop) >= ep->grace_end)
		l2tp_ep_server_close(ep);
}

void l2tp_ep_shutdown(struct l2tp_endpoint *ep, uint64_t grace_ms)
{
	ep->stopping = true;
	if (!ep->tables_ready || !ep->udp || table_count(&ep->tunnels) == 0) {
		l2tp_ep_server_close(ep);
		return;
	}
	log_info("shutting down: StopCCN on %zu tunnels (%zu sessions)", table_count(&ep->tunnels),
		 table_count(&ep->sessions));
	l2tp_ep_stop_all(ep, L2TP_STOPCCN_SHUTTING_DOWN, uv_now(ep->loop));
	l2tp_ep_server_rearm(ep);
	ep->grace_end = uv_now(ep->loop) + grace_ms;
	if (ep->grace_ready || uv_timer_init(ep->loop, &ep->grace) < 0) {
		if (!ep->grace_ready)
			l2tp_ep_server_close(ep);
		return;
	}
	ep->grace.data = ep;
	ep->grace_ready = true;
	uv_timer_start(&ep->grace, on_grace, 50, 50);
}
