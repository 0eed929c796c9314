/* Raw IP sockets (any protocol, IPv4 and IPv6) on a libuv loop, batched receive. */
#include "roam/raw.h"

#include <errno.h>
#include <linux/icmp.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netpriv.h"
#include "roam/buf.h"

#define RAW_CTRL_SPACE 128

struct roam_raw {
	struct net_ep ep;           /* socket, poll handle, receive batch (endpoint.c) */
	int family;
	int protocol;
	int hdrincl;
	roam_raw_recv_cb recv_cb;
	roam_raw_close_cb close_cb;
	void *arg;
	struct roam_raw_stats stats;
};

/* Reads the addresses of a received IPv4 header.  -1 when it is not a readable header. */
static int raw_v4_header(struct roam_raw_pkt *pkt)
{
	struct rbuf r;
	uint8_t vihl, ttl;
	uint16_t totlen;
	uint32_t src, dst;

	rbuf_init(&r, pkt->data, pkt->len);
	if (rbuf_get_u8(&r, &vihl) < 0 || (vihl >> 4) != 4 || (vihl & 0x0f) < 5)
		return -1;
	size_t hlen = (size_t)(vihl & 0x0f) * 4;
	if (hlen > pkt->len)
		return -1;
	if (rbuf_skip(&r, 1) < 0 || rbuf_get_u16(&r, &totlen) < 0 || rbuf_skip(&r, 4) < 0 ||
	    rbuf_get_u8(&r, &ttl) < 0 || rbuf_skip(&r, 3) < 0 || rbuf_get_u32(&r, &src) < 0 ||
	    rbuf_get_u32(&r, &dst) < 0)
		return -1;
	(void)totlen;
	pkt->l3_hdrlen = hlen;
	pkt->hoplimit = ttl;
	struct in_addr a;
	a.s_addr = htonl(src);
	roam_ipaddr_set4(&pkt->src, a);
	a.s_addr = htonl(dst);
	roam_ipaddr_set4(&pkt->dst, a);
	return 0;
}

static void raw_deliver(void *owner, const struct msghdr *m, const uint8_t *data, size_t len)
{
	struct roam_raw *r = owner;
	struct roam_raw_pkt pkt;
	memset(&pkt, 0, sizeof(pkt));
	pkt.data = data;
	pkt.len = len;
	pkt.hoplimit = -1;
	if (r->family == AF_INET) {
		struct roam_ipaddr ignored;
		int hl = -1;
		if (raw_v4_header(&pkt) < 0) {
			r->stats.rx_malformed++;
			return;
		}
		memset(&ignored, 0, sizeof(ignored));
		net_parse_cmsg(m, &ignored, &pkt.ifindex, &hl);
	} else {
		struct roam_sockaddr sa;
		if (roam_sockaddr_from(&sa, m->msg_name, m->msg_namelen) < 0 ||
		    roam_sockaddr_addr(&sa, &pkt.src, NULL) < 0) {
			r->stats.rx_malformed++;
			return;
		}
		net_parse_cmsg(m, &pkt.dst, &pkt.ifindex, &pkt.hoplimit);
	}
	r->stats.rx_packets++;
	r->stats.rx_bytes += pkt.len;
	if (r->recv_cb)
		r->recv_cb(r, &pkt, r->arg);
}

static void raw_closed(void *owner)
{
	struct roam_raw *r = owner;
	if (r->close_cb)
		r->close_cb(r, r->arg);
	free(r);
}

int roam_raw_drain(struct roam_raw *r)
{
	if (!r || r->ep.closing || r->ep.fd < 0)
		return -EINVAL;
	/* net_ep_read stops after a few batches (fairness in the loop); here everything queued
	 * now must go, however deep the backlog (bounded: the receive buffer). */
	for (int i = 0; i < 1024 && !r->ep.closing; i++) {
		char c;
		if (recv(r->ep.fd, &c, 0, MSG_PEEK | MSG_DONTWAIT) < 0)
			break; /* empty (EAGAIN) or an error the next read counts */
		net_ep_read(&r->ep);
	}
	return 0;
}

static int raw_setup_socket(void *owner, int fd, const void *arg)
{
	struct roam_raw *r = owner;
	const struct roam_raw_opts *o = arg;
	int rc;
	if (o->rcvbuf > 0 && (rc = net_setsockopt_int(fd, SOL_SOCKET, SO_RCVBUF, o->rcvbuf)) < 0)
		return rc;
	if ((rc = net_bind_device(fd, o->device)) < 0)
		return rc;
	if (r->family == AF_INET) {
		if (r->hdrincl && (rc = net_setsockopt_int(fd, IPPROTO_IP, IP_HDRINCL, 1)) < 0)
			return rc;
		if ((rc = net_setsockopt_int(fd, IPPROTO_IP, IP_PKTINFO, 1)) < 0)
			return rc;
	} else {
		if ((rc = net_setsockopt_int(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1)) < 0)
			return rc;
		if ((rc = net_setsockopt_int(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1)) < 0)
			return rc;
	}
	if (o->bind.family != 0) {
		struct roam_sockaddr sa;
		if (o->bind.family != r->family)
			return -EINVAL;
		roam_sockaddr_set(&sa, &o->bind, 0);
		if (bind(fd, &sa.sa, sa.len) < 0)
			return -errno;
	}
	return 0;
}

int roam_raw_open(uv_loop_t *loop, const struct roam_raw_opts *opts, roam_raw_recv_cb recv_cb,
		  void *arg, struct roam_raw **out)
{
	unsigned batch = opts->batch ? opts->batch : ROAM_RAW_BATCH_DEFAULT;
	size_t bufsize = opts->bufsize ? opts->bufsize : ROAM_RAW_BUFSIZE_DEFAULT;
	int rc;

	*out = NULL;
	if (opts->family != AF_INET && opts->family != AF_INET6)
		return -EINVAL;
	if (opts->protocol < 1 || opts->protocol > 255)
		return -EINVAL;
	if (opts->hdrincl && opts->family != AF_INET)
		return -EINVAL;
	if (batch > ROAM_RAW_BATCH_MAX || bufsize > 65535)
		return -EINVAL;
	struct roam_raw *r = calloc(1, sizeof(*r));
	if (r == NULL)
		return -ENOMEM;
	r->family = opts->family;
	r->protocol = opts->protocol;
	r->hdrincl = opts->hdrincl || (opts->family == AF_INET && opts->protocol == IPPROTO_RAW);
	r->recv_cb = recv_cb;
	r->arg = arg;
	const struct net_ep_conf c = {
		.family = opts->family, .type = SOCK_RAW, .protocol = opts->protocol,
		.batch = batch, .bufsize = bufsize, .ctrlsize = RAW_CTRL_SPACE,
		.setup = raw_setup_socket, .setup_arg = opts,
		.deliver = raw_deliver, .closed = raw_closed,
		.rx_errors = &r->stats.rx_errors, .rx_truncated = &r->stats.rx_truncated,
	};
	if ((rc = net_ep_open(&r->ep, loop, &c, r)) < 0)
		return rc; /* r is freed by raw_closed() */
	*out = r;
	return 0;
}

void roam_raw_close(struct roam_raw *r, roam_raw_close_cb cb)
{
	if (r == NULL || r->ep.closing)
		return;
	r->close_cb = cb;
	net_ep_close(&r->ep);
}

static int raw_sendmsg(struct roam_raw *r, const struct roam_ipaddr *dst,
		       const struct roam_ipaddr *src, int ifindex, const void *data, size_t len)
{
	struct roam_ipaddr hdst;
	struct roam_sockaddr to;
	int rc;

	if (r->ep.closing)
		return -EBADF;
	if (r->hdrincl) {
		if ((src != NULL && src->family != 0) || ifindex != 0)
			return -EINVAL;
		if (dst == NULL) {
			if (len < 20)
				return -EINVAL;
			if ((rc = roam_ipaddr_from_bytes(&hdst, AF_INET,
							 (const uint8_t *)data + 16)) < 0)
				return rc;
			dst = &hdst;
		}
	}
	if (dst == NULL || dst->family != r->family)
		return -EINVAL;
	roam_sockaddr_set(&to, dst, 0);
	/* hdrincl: no source and no ifindex, so no ancillary data; otherwise a src of the other
	 * family is -EINVAL (as a NULL dst) */
	return net_sendto(r->ep.fd, &to, r->family == AF_INET, src, ifindex, data, len);
}

int roam_raw_send_from(struct roam_raw *r, const struct roam_ipaddr *dst,
		       const struct roam_ipaddr *src, int ifindex, const void *data, size_t len)
{
	int rc = raw_sendmsg(r, dst, src, ifindex, data, len);
	if (rc < 0) {
		r->stats.tx_errors++;
		return rc;
	}
	r->stats.tx_packets++;
	r->stats.tx_bytes += len;
	return 0;
}

int roam_raw_send(struct roam_raw *r, const struct roam_ipaddr *dst, const void *data,
		  size_t len)
{
	return roam_raw_send_from(r, dst, NULL, 0, data, len);
}

int roam_raw_set_hoplimit(struct roam_raw *r, int hoplimit)
{
	int rc;
	if (hoplimit < 1 || hoplimit > 255)
		return -EINVAL;
	if (r->family == AF_INET) {
		if ((rc = net_setsockopt_int(r->ep.fd, IPPROTO_IP, IP_TTL, hoplimit)) < 0)
			return rc;
		return net_setsockopt_int(r->ep.fd, IPPROTO_IP, IP_MULTICAST_TTL, hoplimit);
	}
	if ((rc = net_setsockopt_int(r->ep.fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, hoplimit)) < 0)
		return rc;
	return net_setsockopt_int(r->ep.fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, hoplimit);
}

int roam_raw_set_checksum_offset(struct roam_raw *r, int offset)
{
	if (r->family != AF_INET6)
		return -EAFNOSUPPORT;
	if (offset < -1 || (offset >= 0 && (offset & 1)))
		return -EINVAL;
	return net_setsockopt_int(r->ep.fd, IPPROTO_IPV6, IPV6_CHECKSUM, offset);
}

int roam_raw_icmp_filter(struct roam_raw *r, const uint8_t *types, size_t n)
{
	struct icmp_filter f;
	if (r->family != AF_INET || r->protocol != IPPROTO_ICMP)
		return -EINVAL;
	f.data = ~0u; /* a set bit blocks the type */
	for (size_t i = 0; i < n; i++) {
		if (types[i] > 31)
			return -EINVAL;
		f.data &= ~(1u << types[i]);
	}
	if (setsockopt(r->ep.fd, SOL_RAW, ICMP_FILTER, &f, sizeof(f)) < 0)
		return -errno;
	return 0;
}

int roam_raw_icmp6_filter(struct roam_raw *r, const uint8_t *types, size_t n)
{
	struct icmp6_filter f;
	if (r->family != AF_INET6 || r->protocol != IPPROTO_ICMPV6)
		return -EINVAL;
	ICMP6_FILTER_SETBLOCKALL(&f);
	for (size_t i = 0; i < n; i++)
		ICMP6_FILTER_SETPASS(types[i], &f);
	if (setsockopt(r->ep.fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof(f)) < 0)
		return -errno;
	return 0;
}

int roam_raw_mcast_join(struct roam_raw *r, const struct roam_ipaddr *group, const char *ifname)
{
	if (group->family != r->family)
		return -EAFNOSUPPORT;
	return net_mcast_member(r->ep.fd, r->family, group, ifname, 1);
}

int roam_raw_mcast_leave(struct roam_raw *r, const struct roam_ipaddr *group, const char *ifname)
{
	if (group->family != r->family)
		return -EAFNOSUPPORT;
	return net_mcast_member(r->ep.fd, r->family, group, ifname, 0);
}

int roam_raw_mcast_if(struct roam_raw *r, const char *ifname)
{
	return net_mcast_if(r->ep.fd, r->family, 0, ifname);
}

int roam_raw_mcast_loop(struct roam_raw *r, int on)
{
	return net_mcast_loop(r->ep.fd, r->family, 0, on);
}

int roam_raw_recv_stop(struct roam_raw *r)
{
	return net_ep_recv_stop(&r->ep);
}

int roam_raw_recv_start(struct roam_raw *r)
{
	return net_ep_recv_start(&r->ep);
}

int roam_raw_fd(const struct roam_raw *r)
{
	return r->ep.fd;
}

const struct roam_raw_stats *roam_raw_stats(const struct roam_raw *r)
{
	return &r->stats;
}
