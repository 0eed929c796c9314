/* Socket plumbing shared by the UDP and raw endpoints: recvmmsg batches, ancillary data,
 * device binding and multicast options. */
#include "netpriv.h"

#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

static size_t align_up(size_t v)
{
	return (v + 15) & ~(size_t)15;
}

int net_rxbatch_init(struct net_rxbatch *b, unsigned n, size_t bufsize, size_t ctrlsize)
{
	memset(b, 0, sizeof(*b));
	if (n == 0 || bufsize == 0)
		return -EINVAL;
	size_t o_msgs = 0;
	size_t o_iov = align_up(o_msgs + n * sizeof(struct mmsghdr));
	size_t o_names = align_up(o_iov + n * sizeof(struct iovec));
	size_t o_ctrl = align_up(o_names + n * sizeof(struct sockaddr_storage));
	ctrlsize = align_up(ctrlsize);
	size_t o_bufs = align_up(o_ctrl + n * ctrlsize);
	size_t total = o_bufs + n * bufsize;
	uint8_t *mem = calloc(1, total);
	if (mem == NULL)
		return -ENOMEM;
	b->n = n;
	b->bufsize = bufsize;
	b->ctrlsize = ctrlsize;
	b->mem = mem;
	b->msgs = (struct mmsghdr *)(void *)(mem + o_msgs);
	b->iov = (struct iovec *)(void *)(mem + o_iov);
	b->names = (struct sockaddr_storage *)(void *)(mem + o_names);
	b->ctrl = mem + o_ctrl;
	b->bufs = mem + o_bufs;
	return 0;
}

void net_rxbatch_free(struct net_rxbatch *b)
{
	free(b->mem);
	memset(b, 0, sizeof(*b));
}

uint8_t *net_rxbatch_buf(const struct net_rxbatch *b, unsigned i)
{
	return b->bufs + (size_t)i * b->bufsize;
}

int net_rxbatch_recv(struct net_rxbatch *b, int fd)
{
	for (unsigned i = 0; i < b->n; i++) {
		struct msghdr *m = &b->msgs[i].msg_hdr;
		b->iov[i].iov_base = net_rxbatch_buf(b, i);
		b->iov[i].iov_len = b->bufsize;
		m->msg_name = &b->names[i];
		m->msg_namelen = sizeof(b->names[i]);
		m->msg_iov = &b->iov[i];
		m->msg_iovlen = 1;
		m->msg_control = b->ctrlsize ? b->ctrl + (size_t)i * b->ctrlsize : NULL;
		m->msg_controllen = b->ctrlsize;
		m->msg_flags = 0;
		b->msgs[i].msg_len = 0;
	}
	int n;
	do {
		n = recvmmsg(fd, b->msgs, b->n, MSG_DONTWAIT, NULL);
	} while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

void net_parse_cmsg(const struct msghdr *m, struct roam_ipaddr *dst, int *ifindex, int *hoplimit)
{
	if (m->msg_control == NULL || m->msg_controllen == 0)
		return;
	for (struct cmsghdr *c = CMSG_FIRSTHDR((struct msghdr *)m); c != NULL;
	     c = CMSG_NXTHDR((struct msghdr *)m, c)) {
		size_t dlen = c->cmsg_len - CMSG_LEN(0);
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO &&
		    dlen >= sizeof(struct in_pktinfo)) {
			struct in_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			roam_ipaddr_set4(dst, pi.ipi_addr);
			*ifindex = pi.ipi_ifindex;
		} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO &&
			   dlen >= sizeof(struct in6_pktinfo)) {
			struct in6_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			roam_ipaddr_set6(dst, &pi.ipi6_addr);
			roam_ipaddr_unmap(dst);
			*ifindex = (int)pi.ipi6_ifindex;
		} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT &&
			   dlen >= sizeof(int)) {
			int h;
			memcpy(&h, CMSG_DATA(c), sizeof(h));
			*hoplimit = h;
		} else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL &&
			   dlen >= sizeof(int)) {
			int h;
			memcpy(&h, CMSG_DATA(c), sizeof(h));
			*hoplimit = h;
		}
	}
}

int net_build_pktinfo(void *buf, int v4, const struct roam_ipaddr *src, int ifindex)
{
	int have_src = src != NULL && src->family != 0;
	if (!have_src && ifindex == 0)
		return 0;
	memset(buf, 0, NET_PKTINFO_CMSG_SPACE);
	struct cmsghdr *c = buf;
	if (v4) {
		struct in_pktinfo pi;
		if (have_src && src->family != AF_INET)
			return -EINVAL;
		memset(&pi, 0, sizeof(pi));
		pi.ipi_ifindex = ifindex;
		if (have_src)
			pi.ipi_spec_dst = src->v4;
		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
		return (int)CMSG_SPACE(sizeof(pi));
	}
	struct in6_pktinfo pi;
	if (have_src && src->family != AF_INET6)
		return -EINVAL;
	memset(&pi, 0, sizeof(pi));
	pi.ipi6_ifindex = (unsigned)ifindex;
	if (have_src)
		pi.ipi6_addr = src->v6;
	c->cmsg_level = IPPROTO_IPV6;
	c->cmsg_type = IPV6_PKTINFO;
	c->cmsg_len = CMSG_LEN(sizeof(pi));
	memcpy(CMSG_DATA(c), &pi, sizeof(pi));
	return (int)CMSG_SPACE(sizeof(pi));
}

int net_setsockopt_int(int fd, int level, int name, int val)
{
	if (setsockopt(fd, level, name, &val, sizeof(val)) < 0)
		return -errno;
	return 0;
}

int net_bind_device(int fd, const char *dev)
{
	if (dev == NULL || *dev == '\0')
		return 0;
	if (strlen(dev) >= IFNAMSIZ)
		return -EINVAL;
	if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, dev, (socklen_t)strlen(dev)) < 0)
		return -errno;
	return 0;
}

static int ifindex_of(const char *ifname, unsigned *idx)
{
	*idx = 0;
	if (ifname == NULL || *ifname == '\0')
		return 0;
	*idx = if_nametoindex(ifname);
	return *idx == 0 ? -ENODEV : 0;
}

int net_mcast_member(int fd, int sockfamily, const struct roam_ipaddr *group, const char *ifname,
		     int join)
{
	unsigned idx;
	int rc;

	if (!roam_ipaddr_is_multicast(group))
		return -EINVAL;
	if ((rc = ifindex_of(ifname, &idx)) < 0)
		return rc;
	if (group->family == AF_INET) {
		struct ip_mreqn mr;
		memset(&mr, 0, sizeof(mr));
		mr.imr_multiaddr = group->v4;
		mr.imr_ifindex = (int)idx;
		if (setsockopt(fd, IPPROTO_IP, join ? IP_ADD_MEMBERSHIP : IP_DROP_MEMBERSHIP, &mr,
			       sizeof(mr)) < 0)
			return -errno;
		return 0;
	}
	if (sockfamily != AF_INET6)
		return -EAFNOSUPPORT;
	struct ipv6_mreq mr;
	memset(&mr, 0, sizeof(mr));
	mr.ipv6mr_multiaddr = group->v6;
	mr.ipv6mr_interface = idx;
	if (setsockopt(fd, IPPROTO_IPV6, join ? IPV6_JOIN_GROUP : IPV6_LEAVE_GROUP, &mr,
		       sizeof(mr)) < 0)
		return -errno;
	return 0;
}

int net_mcast_if(int fd, int sockfamily, int dualstack, const char *ifname)
{
	unsigned idx;
	int rc;
	if ((rc = ifindex_of(ifname, &idx)) < 0)
		return rc;
	if (sockfamily == AF_INET || dualstack) {
		struct ip_mreqn mr;
		memset(&mr, 0, sizeof(mr));
		mr.imr_ifindex = (int)idx;
		if (setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mr, sizeof(mr)) < 0)
			return -errno;
	}
	if (sockfamily == AF_INET6)
		return net_setsockopt_int(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, (int)idx);
	return 0;
}

int net_mcast_loop(int fd, int sockfamily, int dualstack, int on)
{
	int rc;
	on = on ? 1 : 0;
	if (sockfamily == AF_INET || dualstack)
		if ((rc = net_setsockopt_int(fd, IPPROTO_IP, IP_MULTICAST_LOOP, on)) < 0)
			return rc;
	if (sockfamily == AF_INET6)
		return net_setsockopt_int(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, on);
	return 0;
}

int net_mcast_ttl(int fd, int sockfamily, int dualstack, int ttl)
{
	int rc;
	if (ttl < 0 || ttl > 255)
		return -EINVAL;
	if (sockfamily == AF_INET || dualstack)
		if ((rc = net_setsockopt_int(fd, IPPROTO_IP, IP_MULTICAST_TTL, ttl)) < 0)
			return rc;
	if (sockfamily == AF_INET6)
		return net_setsockopt_int(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, ttl);
	return 0;
}
