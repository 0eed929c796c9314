/* User-space IP-in-IP tunnel endpoint: raw protocol-4 socket, TUN device, host routes and proxy
 * ARP, retry timer (roam/tunnel.h). */
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "roam/buf.h"
#include "roam/log.h"
#include "roam/netlink.h"
#include "roam/raw.h"
#include "roam/tun.h"
#include "roam/tunnel.h"

int roam_tunnel_encap(uint8_t *buf, size_t cap, const struct roam_ipip *p, const void *inner,
		      size_t len, size_t *out_len)
{
	struct wbuf w;
	if (!buf || !p || !inner || !out_len)
		return -EINVAL;
	wbuf_init_fixed(&w, buf, cap);
	int r = roam_ipip_encap(&w, p, inner, len);
	if (r == 0 && w.err)
		r = w.err;
	if (r == -ENOSPC || r == -ENOBUFS)
		r = -EMSGSIZE; /* does not fit cap */
	if (r < 0)
		return r;
	*out_len = w.len;
	return 0;
}

static void tun_cb(struct roam_tun *tun, const uint8_t *pkt, size_t len, void *arg)
{
	(void)tun;
	struct roam_tunnel *t = arg;
	if (t->o.tun_recv)
		t->o.tun_recv(t->o.arg, pkt, len);
}

static void raw_cb(struct roam_raw *r, const struct roam_raw_pkt *pkt, void *arg)
{
	(void)r;
	struct roam_tunnel *t = arg;
	if (t->o.tunnel_recv)
		t->o.tunnel_recv(t->o.arg, pkt->data, pkt->len);
}

static void retry_cb(uv_timer_t *tm)
{
	struct roam_tunnel *t = tm->data;
	if (t->o.retry)
		t->o.retry(t->o.arg);
}

/* A daemon busy for a few tens of milliseconds must not lose what the kernel hands it at
 * thousands of packets per second: a 4 MB receive buffer on the raw socket (SO_RCVBUFFORCE,
 * beyond net.core.rmem_max, as root) and a 10,000-packet queue on the TUN device (the kernel
 * to daemon direction).  Best effort: the defaults stay on failure. */
#define TUNNEL_RCVBUF (4 << 20)
#define TUNNEL_TUN_QLEN 10000
static void tunnel_deepen_queues(struct roam_tunnel *t)
{
	int fd = roam_raw_fd(t->raw), v = TUNNEL_RCVBUF;
	if (fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", roam_tun_name(t->tun));
	ifr.ifr_qlen = TUNNEL_TUN_QLEN;
	if (ioctl(s, SIOCSIFTXQLEN, &ifr) < 0)
		log_debug("tunnel: queue length of %s: %s", ifr.ifr_name, strerror(errno));
	close(s);
}

int roam_tunnel_open(struct roam_tunnel *t, uv_loop_t *loop, const struct roam_tunnel_opts *o)
{
	char key[128];
	int r;
	memset(t, 0, sizeof(*t));
	if (!loop || !o || !o->tun || !*o->tun)
		return -EINVAL;
	t->o = *o;
	struct roam_tun_opts to = { .name = o->tun, .mtu = o->tun_mtu };
	if ((r = roam_tun_open(loop, &to, tun_cb, t, &t->tun)) < 0) {
		log_warnx("tunnel: TUN device %s: %s", o->tun, strerror(-r));
		goto fail;
	}
	t->tun_ifindex = roam_tun_ifindex(t->tun);
	if ((r = roam_nl_open(0, &t->nl)) < 0) {
		log_warnx("tunnel: netlink: %s", strerror(-r));
		goto fail;
	}
	/* No IPv6 on the TUN device: its router solicitations would only be counted as drops. */
	snprintf(key, sizeof(key), "net/ipv6/conf/%s/disable_ipv6", roam_tun_name(t->tun));
	roam_sysctl_set(key, "1");
	if ((r = roam_nl_link_set_up(t->nl, t->tun_ifindex, 1)) < 0) {
		log_warnx("tunnel: %s up: %s", o->tun, strerror(-r));
		goto fail;
	}
	/* What is written into the TUN device is forwarded by the kernel. */
	if ((r = roam_sysctl_forwarding(AF_INET, roam_tun_name(t->tun), 1)) < 0)
		log_warnx("tunnel: forwarding on %s: %s", o->tun, strerror(-r));
	if (o->proxy_interface && *o->proxy_interface) {
		if ((r = roam_nl_ifindex(o->proxy_interface, &t->proxy_ifindex)) < 0) {
			log_warnx("tunnel: %s: %s", o->proxy_interface, strerror(-r));
			goto fail;
		}
		/* Proxy ARP answers only when the link forwards (the kernel's rule).  The kernel
		 * delays proxy answers to broadcast requests by up to proxy_delay (0.8 s by
		 * default) while the sender queues and drops: answer at once. */
		snprintf(key, sizeof(key), "net/ipv4/neigh/%s/proxy_delay", o->proxy_interface);
		if ((r = roam_sysctl_forwarding(AF_INET, o->proxy_interface, 1)) < 0 ||
		    (r = roam_sysctl_proxy_arp(o->proxy_interface, 1)) < 0 ||
		    (r = roam_sysctl_set(key, "0")) < 0)
			log_warnx("tunnel: forwarding / proxy_arp / proxy_delay on %s: %s",
				  o->proxy_interface, strerror(-r));
	}
	struct roam_raw_opts ro = { .family = AF_INET, .protocol = IPPROTO_IPIP, .hdrincl = 1 };
	if ((r = roam_raw_open(loop, &ro, raw_cb, t, &t->raw)) < 0) {
		log_warnx("tunnel: raw IP-in-IP socket: %s", strerror(-r));
		goto fail;
	}
	tunnel_deepen_queues(t);
	uv_timer_init(loop, &t->retry_timer);
	t->retry_timer.data = t;
	t->timer_init = true;
	return 0;
fail:
	roam_tunnel_close(t);
	return r;
}

void roam_tunnel_close(struct roam_tunnel *t)
{
	if (!t)
		return;
	if (t->timer_init && !uv_is_closing((uv_handle_t *)&t->retry_timer)) {
		uv_timer_stop(&t->retry_timer);
		uv_close((uv_handle_t *)&t->retry_timer, NULL);
	}
	if (t->raw)
		roam_raw_close(t->raw, NULL);
	t->raw = NULL;
	if (t->tun)
		roam_tun_close(t->tun, NULL);
	t->tun = NULL;
	roam_nl_close(t->nl);
	t->nl = NULL;
}

int roam_tunnel_xmit(struct roam_tunnel *t, const void *pkt, size_t len)
{
	return t && t->raw ? roam_raw_send(t->raw, NULL, pkt, len) : -ENOTCONN;
}

int roam_tunnel_deliver(struct roam_tunnel *t, const void *pkt, size_t len)
{
	return t && t->tun ? roam_tun_write(t->tun, pkt, len) : -ENOTCONN;
}

int roam_tunnel_route(struct roam_tunnel *t, const struct roam_ipaddr *addr, int oif,
		      int proxy_ifindex, int add)
{
	struct roam_nl_route rt;
	int r = 0, r2;
	if (!t || !t->nl)
		return -ENOTCONN;
	memset(&rt, 0, sizeof(rt));
	roam_prefix_set(&rt.dst, addr, 32);
	rt.oif = oif > 0 ? oif : t->tun_ifindex;
	if (add) {
		r = roam_nl_route_replace(t->nl, &rt);
		if (r == 0 && proxy_ifindex > 0) {
			r = roam_nl_neigh_proxy_add(t->nl, proxy_ifindex, addr);
			if (r == -EEXIST)
				r = 0;
		}
		return r;
	}
	if (proxy_ifindex > 0) {
		r2 = roam_nl_neigh_proxy_del(t->nl, proxy_ifindex, addr);
		if (r2 < 0 && r2 != -ENOENT)
			r = r2;
	}
	r2 = roam_nl_route_del(t->nl, &rt);
	if (r2 < 0 && r2 != -ESRCH && r2 != -ENODEV)
		r = r2;
	return r;
}

void roam_tunnel_retry_later(struct roam_tunnel *t, unsigned ms)
{
	if (t && t->timer_init && !uv_is_closing((uv_handle_t *)&t->retry_timer) &&
	    !uv_is_active((uv_handle_t *)&t->retry_timer))
		uv_timer_start(&t->retry_timer, retry_cb, ms, 0);
}

void roam_tunnel_rx_now(struct roam_tunnel *t)
{
	if (t && t->raw)
		(void)roam_raw_drain(t->raw);
}
