/* Private helpers shared by udp.c, raw.c and tun.c (not part of the public API). */
#ifndef ROAM_NET_NETPRIV_H
#define ROAM_NET_NETPRIV_H
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include "roam/addr.h"

/* A recvmmsg() batch: n slots of bufsize data bytes, a source name and ctrlsize bytes of
 * ancillary data each, allocated once. */
struct net_rxbatch {
	unsigned n;
	size_t bufsize, ctrlsize;
	void *mem;                  /* one allocation holding everything below */
	struct mmsghdr *msgs;
	struct iovec *iov;
	struct sockaddr_storage *names;
	uint8_t *bufs;
	uint8_t *ctrl;
};

int net_rxbatch_init(struct net_rxbatch *b, unsigned n, size_t bufsize, size_t ctrlsize);
void net_rxbatch_free(struct net_rxbatch *b);
/* One recvmmsg(MSG_DONTWAIT): returns the number of messages (>= 0) or -errno. */
int net_rxbatch_recv(struct net_rxbatch *b, int fd);
uint8_t *net_rxbatch_buf(const struct net_rxbatch *b, unsigned i);

/* Destination address, ifindex and hop limit from IP_PKTINFO / IPV6_PKTINFO / IP_TTL /
 * IPV6_HOPLIMIT ancillary data.  Fields not found are left as they are. */
void net_parse_cmsg(const struct msghdr *m, struct roam_ipaddr *dst, int *ifindex, int *hoplimit);
/* Builds the ancillary data for a send with a source address / ifindex.  buf must hold
 * NET_PKTINFO_CMSG_SPACE bytes.  v4 selects IP_PKTINFO (else IPV6_PKTINFO).  Returns the
 * control length, 0 when nothing is needed, or -EINVAL (src family mismatch). */
#define NET_PKTINFO_CMSG_SPACE 64
int net_build_pktinfo(void *buf, int v4, const struct roam_ipaddr *src, int ifindex);

int net_bind_device(int fd, const char *dev);
int net_setsockopt_int(int fd, int level, int name, int val);
/* Multicast helpers.  sockfamily is the socket's family; dualstack tells whether IPv4 options
 * also apply to an AF_INET6 socket. */
int net_mcast_member(int fd, int sockfamily, const struct roam_ipaddr *group, const char *ifname,
		     int join);
int net_mcast_if(int fd, int sockfamily, int dualstack, const char *ifname);
int net_mcast_loop(int fd, int sockfamily, int dualstack, int on);
int net_mcast_ttl(int fd, int sockfamily, int dualstack, int ttl);

#endif
