/* UDP endpoints on a libuv loop with recvmmsg() batched receive. */
#include "roam/udp.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "netpriv.h"

#define UDP_CTRL_SPACE 128

struct roam_udp {
	struct net_ep ep;           /* socket, poll handle, receive batch (endpoint.c) */
	int family;
	int dualstack;
	roam_udp_recv_cb recv_cb;
	roam_udp_close_cb close_cb;
	void *arg;
	struct roam_udp_stats stats;
};

static void udp_deliver(void *owner, const struct msghdr *m, const uint8_t *data, size_t len)
{
	struct roam_udp *u = owner;
	struct roam_udp_pkt pkt;
	memset(&pkt, 0, sizeof(pkt));
	pkt.data = data;
	pkt.len = len;
	if (roam_sockaddr_from(&pkt.src, m->msg_name, m->msg_namelen) < 0) {
		u->stats.rx_errors++;
		return;
	}
	roam_sockaddr_unmap(&pkt.src);
	int hl = -1;
	net_parse_cmsg(m, &pkt.dst, &pkt.ifindex, &hl);
	u->stats.rx_packets++;
	u->stats.rx_bytes += pkt.len;
	if (u->recv_cb)
		u->recv_cb(u, &pkt, u->arg);
}

static void udp_closed(void *owner)
{
	struct roam_udp *u = owner;
	if (u->close_cb)
		u->close_cb(u, u->arg);
	free(u);
}

static int udp_setup_socket(void *owner, int fd, const void *arg)
{
	struct roam_udp *u = owner;
	const struct roam_udp_opts *o = arg;
	int rc;
	if (o->reuseaddr && (rc = net_setsockopt_int(fd, SOL_SOCKET, SO_REUSEADDR, 1)) < 0)
		return rc;
	if (o->reuseport && (rc = net_setsockopt_int(fd, SOL_SOCKET, SO_REUSEPORT, 1)) < 0)
		return rc;
	if (o->rcvbuf > 0 && (rc = net_setsockopt_int(fd, SOL_SOCKET, SO_RCVBUF, o->rcvbuf)) < 0)
		return rc;
	if (o->sndbuf > 0 && (rc = net_setsockopt_int(fd, SOL_SOCKET, SO_SNDBUF, o->sndbuf)) < 0)
		return rc;
	if ((rc = net_bind_device(fd, o->device)) < 0)
		return rc;
	if (u->family == AF_INET) {
		if ((rc = net_setsockopt_int(fd, IPPROTO_IP, IP_PKTINFO, 1)) < 0)
			return rc;
	} else {
		if ((rc = net_setsockopt_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, u->dualstack ? 0 : 1)) < 0)
			return rc;
		if ((rc = net_setsockopt_int(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1)) < 0)
			return rc;
	}
	if (bind(fd, &o->bind.sa, o->bind.len) < 0)
		return -errno;
	return 0;
}

int roam_udp_open(uv_loop_t *loop, const struct roam_udp_opts *opts, roam_udp_recv_cb recv_cb,
		  void *arg, struct roam_udp **out)
{
	int fam = roam_sockaddr_family(&opts->bind);
	unsigned batch = opts->batch ? opts->batch : ROAM_UDP_BATCH_DEFAULT;
	size_t bufsize = opts->bufsize ? opts->bufsize : ROAM_UDP_BUFSIZE_DEFAULT;
	int rc;

	*out = NULL;
	if (fam != AF_INET && fam != AF_INET6)
		return -EINVAL;
	if (batch > ROAM_UDP_BATCH_MAX || bufsize > 65535)
		return -EINVAL;
	if (opts->dualstack && fam != AF_INET6)
		return -EINVAL;
	struct roam_udp *u = calloc(1, sizeof(*u));
	if (u == NULL)
		return -ENOMEM;
	u->family = fam;
	u->dualstack = fam == AF_INET6 && opts->dualstack;
	u->recv_cb = recv_cb;
	u->arg = arg;
	const struct net_ep_conf c = {
		.family = fam, .type = SOCK_DGRAM, .protocol = IPPROTO_UDP,
		.batch = batch, .bufsize = bufsize, .ctrlsize = UDP_CTRL_SPACE,
		.setup = udp_setup_socket, .setup_arg = opts,
		.deliver = udp_deliver, .closed = udp_closed,
		.rx_errors = &u->stats.rx_errors, .rx_truncated = &u->stats.rx_truncated,
	};
	if ((rc = net_ep_open(&u->ep, loop, &c, u)) < 0)
		return rc; /* u is freed by udp_closed() */
	*out = u;
	return 0;
}

void roam_udp_close(struct roam_udp *u, roam_udp_close_cb cb)
{
	if (u == NULL || u->ep.closing)
		return;
	u->close_cb = cb;
	net_ep_close(&u->ep);
}

/* The destination as the socket wants it: IPv4 on a dual-stack socket becomes IPv4-mapped. */
static int udp_dst(const struct roam_udp *u, const struct roam_sockaddr *dst,
		   struct roam_sockaddr *out, int *v4)
{
	int fam = roam_sockaddr_family(dst);
	*out = *dst;
	*v4 = fam == AF_INET;
	if (fam == u->family)
		return 0;
	if (fam == AF_INET && u->dualstack) {
		struct roam_ipaddr a, m;
		uint16_t port;
		roam_sockaddr_addr(dst, &a, &port);
		roam_ipaddr_map6(&a, &m);
		return roam_sockaddr_set(out, &m, port);
	}
	return -EAFNOSUPPORT;
}

int roam_udp_send_from(struct roam_udp *u, const struct roam_sockaddr *dst,
		       const struct roam_ipaddr *src, int ifindex, const void *data, size_t len)
{
	struct roam_sockaddr to;
	int v4, rc;

	if (u->ep.closing)
		return -EBADF;
	if ((rc = udp_dst(u, dst, &to, &v4)) < 0 ||
	    (rc = net_sendto(u->ep.fd, &to, v4, src, ifindex, data, len)) < 0)
		goto err;
	u->stats.tx_packets++;
	u->stats.tx_bytes += len;
	return 0;
err:
	u->stats.tx_errors++;
	return rc;
}

int roam_udp_send(struct roam_udp *u, const struct roam_sockaddr *dst, const void *data,
		  size_t len)
{
	return roam_udp_send_from(u, dst, NULL, 0, data, len);
}

int roam_udp_mcast_join(struct roam_udp *u, const struct roam_ipaddr *group, const char *ifname)
{
	if (group->family == AF_INET && u->family == AF_INET6 && !u->dualstack)
		return -EAFNOSUPPORT;
	return net_mcast_member(u->ep.fd, u->family, group, ifname, 1);
}

int roam_udp_mcast_leave(struct roam_udp *u, const struct roam_ipaddr *group, const char *ifname)
{
	if (group->family == AF_INET && u->family == AF_INET6 && !u->dualstack)
		return -EAFNOSUPPORT;
	return net_mcast_member(u->ep.fd, u->family, group, ifname, 0);
}

int roam_udp_mcast_ttl(struct roam_udp *u, int ttl)
{
	return net_mcast_ttl(u->ep.fd, u->family, u->dualstack, ttl);
}

int roam_udp_mcast_loop(struct roam_udp *u, int on)
{
	return net_mcast_loop(u->ep.fd, u->family, u->dualstack, on);
}

int roam_udp_mcast_if(struct roam_udp *u, const char *ifname)
{
	return net_mcast_if(u->ep.fd, u->family, u->dualstack, ifname);
}

int roam_udp_set_ttl(struct roam_udp *u, int ttl)
{
	int rc;
	if (ttl < 1 || ttl > 255)
		return -EINVAL;
	if (u->family == AF_INET || u->dualstack)
		if ((rc = net_setsockopt_int(u->ep.fd, IPPROTO_IP, IP_TTL, ttl)) < 0)
			return rc;
	if (u->family == AF_INET6)
		return net_setsockopt_int(u->ep.fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, ttl);
	return 0;
}

int roam_udp_recv_stop(struct roam_udp *u)
{
	return net_ep_recv_stop(&u->ep);
}

int roam_udp_recv_start(struct roam_udp *u)
{
	return net_ep_recv_start(&u->ep);
}

int roam_udp_local(const struct roam_udp *u, struct roam_sockaddr *out)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	if (getsockname(u->ep.fd, (struct sockaddr *)&ss, &len) < 0)
		return -errno;
	return roam_sockaddr_from(out, (struct sockaddr *)&ss, len);
}

int roam_udp_fd(const struct roam_udp *u)
{
	return u->ep.fd;
}

const struct roam_udp_stats *roam_udp_stats(const struct roam_udp *u)
{
	return &u->stats;
}
