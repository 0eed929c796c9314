/* UDP endpoints on a libuv loop, with batched receive.
 *
 * The endpoint owns a non-blocking socket watched by a uv_poll_t; each wakeup drains up to
 * `batch` datagrams with recvmmsg() (and keeps going while full batches come in, up to a
 * bound, so one busy socket cannot starve the loop).  Every datagram is handed to the receive
 * callback with its source, its destination address (IP_PKTINFO / IPV6_PKTINFO) and the
 * receiving interface.  The data is borrowed: it is valid during the callback only.
 * Datagrams larger than the per-datagram buffer are detected (MSG_TRUNC), dropped and
 * counted, never delivered cut.
 *
 * On a dual-stack socket (AF_INET6 bind with v6only = 0) IPv4 peers are reported as AF_INET
 * addresses (never IPv4-mapped), and AF_INET destinations may be passed to the send calls.
 *
 * Lifetime: roam_udp_open() allocates; roam_udp_close() stops receiving at once and frees the
 * endpoint from the uv_close callback, after calling the user's close callback.  Calling
 * roam_udp_close() a second time before that is a no-op.  No callback runs after the close
 * callback. */
#ifndef ROAM_UDP_H
#define ROAM_UDP_H
#include <stddef.h>
#include <stdint.h>
#include <uv.h>
#include "roam/addr.h"

#define ROAM_UDP_BATCH_DEFAULT 32
#define ROAM_UDP_BATCH_MAX 256
#define ROAM_UDP_BUFSIZE_DEFAULT 2048

struct roam_udp;

/* One received datagram.  All pointers are borrowed for the callback. */
struct roam_udp_pkt {
	const uint8_t *data;
	size_t len;
	struct roam_sockaddr src;   /* sender (unmapped to AF_INET on a dual-stack socket) */
	struct roam_ipaddr dst;     /* destination address of the datagram; family 0 if unknown */
	int ifindex;                /* receiving interface; 0 if unknown */
};

struct roam_udp_stats {
	uint64_t rx_packets, rx_bytes;
	uint64_t rx_truncated;      /* larger than bufsize: dropped (MSG_TRUNC) */
	uint64_t rx_errors;         /* recvmmsg errors other than EAGAIN */
	uint64_t tx_packets, tx_bytes;
	uint64_t tx_errors;         /* failed sends (including EAGAIN and short sends) */
};

typedef void (*roam_udp_recv_cb)(struct roam_udp *u, const struct roam_udp_pkt *pkt, void *arg);
typedef void (*roam_udp_close_cb)(struct roam_udp *u, void *arg);

struct roam_udp_opts {
	/* Local address and port; its family picks the socket family.  Required (use
	 * 0.0.0.0 / :: for "any"; port 0 for an ephemeral port). */
	struct roam_sockaddr bind;
	const char *device;         /* SO_BINDTODEVICE; NULL or "" for none */
	int reuseaddr;              /* SO_REUSEADDR */
	int reuseport;              /* SO_REUSEPORT */
	int dualstack;              /* AF_INET6 only: 1 = also IPv4 (IPV6_V6ONLY off); else v6 only */
	int rcvbuf;                 /* SO_RCVBUF in bytes; 0 = system default */
	int sndbuf;                 /* SO_SNDBUF in bytes; 0 = system default */
	unsigned batch;             /* datagrams per recvmmsg; 0 = default, max ROAM_UDP_BATCH_MAX */
	size_t bufsize;             /* bytes per datagram buffer; 0 = default; max 65535 */
};

/* Creates and binds the socket and starts receiving.  recv_cb may be NULL (datagrams are then
 * read and discarded, still counted).  arg is passed to both callbacks.
 * Errors: -EINVAL (bad options), -errno of socket/setsockopt/bind (e.g. -EADDRINUSE,
 * -ENODEV for an unknown device), -ENOMEM, or a libuv error mapped to -errno. */
int roam_udp_open(uv_loop_t *loop, const struct roam_udp_opts *opts, roam_udp_recv_cb recv_cb,
		  void *arg, struct roam_udp **out);
/* Stops and releases the endpoint (see lifetime above).  cb may be NULL.  NULL u is a no-op. */
void roam_udp_close(struct roam_udp *u, roam_udp_close_cb cb);

/* Sends one datagram to dst.  Returns 0, or -errno (counted in tx_errors); -EMSGSIZE for a
 * short send.  A full socket buffer gives -EAGAIN: UDP is lossy, the caller decides. */
int roam_udp_send(struct roam_udp *u, const struct roam_sockaddr *dst, const void *data,
		  size_t len);
/* As roam_udp_send() with an explicit source address (IP_PKTINFO / IPV6_PKTINFO), for
 * multi-homed agents that must answer from the address they were reached at.  src may be NULL
 * or family 0 (kernel choice); ifindex 0 lets routing choose the interface.
 * -EADDRNOTAVAIL if src is not a local address. */
int roam_udp_send_from(struct roam_udp *u, const struct roam_sockaddr *dst,
		       const struct roam_ipaddr *src, int ifindex, const void *data, size_t len);

/* Joins / leaves a multicast group on the named interface (NULL: the kernel's choice).  IPv4
 * groups work on AF_INET and dual-stack sockets, IPv6 groups on AF_INET6 sockets.
 * Errors: -ENODEV (unknown interface), -EINVAL (not a multicast address), -errno. */
int roam_udp_mcast_join(struct roam_udp *u, const struct roam_ipaddr *group, const char *ifname);
int roam_udp_mcast_leave(struct roam_udp *u, const struct roam_ipaddr *group, const char *ifname);
/* Multicast sending options: TTL / hop limit (0..255), loopback of own datagrams (0/1), and
 * outgoing interface (NULL: routing's choice).  They apply to both families on a dual-stack
 * socket.  Return 0 or -errno. */
int roam_udp_mcast_ttl(struct roam_udp *u, int ttl);
int roam_udp_mcast_loop(struct roam_udp *u, int on);
int roam_udp_mcast_if(struct roam_udp *u, const char *ifname);
/* Unicast TTL / hop limit (1..255). */
int roam_udp_set_ttl(struct roam_udp *u, int ttl);

/* Pauses / resumes receiving (back-pressure).  Return 0 or -errno. */
int roam_udp_recv_stop(struct roam_udp *u);
int roam_udp_recv_start(struct roam_udp *u);

/* The bound local address (with the kernel-chosen port when bound to port 0). */
int roam_udp_local(const struct roam_udp *u, struct roam_sockaddr *out);
int roam_udp_fd(const struct roam_udp *u);
/* Counters (borrowed, live). */
const struct roam_udp_stats *roam_udp_stats(const struct roam_udp *u);

#endif
