/* Private helpers shared by udp.c, raw.c and tun.c (not part of the public API). */
#ifndef ROAM_NET_NETPRIV_H
#define ROAM_NET_NETPRIV_H
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>
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

/* sendmsg(MSG_DONTWAIT | MSG_NOSIGNAL), retried on EINTR: 0, -errno, or -EMSGSIZE when fewer
 * than len bytes went out. */
int net_sendmsg(int fd, const struct msghdr *m, size_t len);
/* Sends one datagram of len bytes (borrowed) to `to` through net_sendmsg(), from src and/or
 * out of ifindex when given (IP_PKTINFO when v4, else IPV6_PKTINFO; see net_build_pktinfo).
 * 0, -EINVAL (src family mismatch) or net_sendmsg()'s errors. */
int net_sendto(int fd, const struct roam_sockaddr *to, int v4, const struct roam_ipaddr *src,
	       int ifindex, const void *data, size_t len);

/* The part of a UDP or raw endpoint (udp.c, raw.c) that does not depend on the protocol
 * (endpoint.c): a non-blocking socket watched by a uv_poll_t and drained with recvmmsg()
 * batches, receive pause and resume, and the two-step close.  The owner embeds it and handles
 * each datagram (deliver), its sends and its options.
 * Lifetime: net_ep_close() stops receiving at once; the uv_close callback closes the socket,
 * frees the batch and calls closed(owner), where the owner runs its user's close callback and
 * frees itself.  Neither callback runs after closed(). */
typedef void (*net_ep_deliver_cb)(void *owner, const struct msghdr *m, const uint8_t *data,
				  size_t len);
typedef void (*net_ep_closed_cb)(void *owner);

struct net_ep {
	uv_poll_t poll;             /* poll.data == this */
	int fd;                     /* -1 until opened */
	int closing;
	int polling;
	void *owner;                /* borrowed: the struct that embeds this one */
	net_ep_deliver_cb deliver;  /* a datagram that was not truncated (borrowed data) */
	net_ep_closed_cb closed;
	uint64_t *rx_errors;        /* the owner's counters: poll and recvmmsg errors */
	uint64_t *rx_truncated;     /* datagrams longer than bufsize (MSG_TRUNC), dropped */
	struct net_rxbatch rx;
};

struct net_ep_conf {
	int family, type, protocol; /* socket(2); SOCK_NONBLOCK and SOCK_CLOEXEC are added */
	unsigned batch;             /* recvmmsg slots */
	size_t bufsize, ctrlsize;   /* data and ancillary bytes per slot */
	/* Socket options and bind before receiving starts: 0 or -errno. */
	int (*setup)(void *owner, int fd, const void *arg);
	const void *setup_arg;
	net_ep_deliver_cb deliver;
	net_ep_closed_cb closed;
	uint64_t *rx_errors, *rx_truncated;
};

/* Opens the socket, runs setup and starts receiving.  On failure: -errno or a libuv error;
 * closed(owner) has then run already, or runs from the uv_close callback when the poll handle
 * was initialised but did not start: either way the owner is released through closed() and
 * must not be touched after a failure.  owner is borrowed. */
int net_ep_open(struct net_ep *e, uv_loop_t *loop, const struct net_ep_conf *c, void *owner);
/* Stops receiving and starts the close (see the lifetime above).  A no-op when closing. */
void net_ep_close(struct net_ep *e);
/* Reads and delivers what the socket holds now, as when it becomes readable: up to 8 batches
 * while full ones come in (one busy socket cannot starve the loop), stopping when closing. */
void net_ep_read(struct net_ep *e);
/* Pauses / resumes receiving: 0, -EBADF when closing, or a libuv error. */
int net_ep_recv_stop(struct net_ep *e);
int net_ep_recv_start(struct net_ep *e);

#endif
