/* Raw IP sockets on a libuv loop: any IP protocol number (4 IP-in-IP, 41 IPv6-in-IP,
 * 135 Mobility Header, 1 ICMP, 58 ICMPv6, ...), IPv4 and IPv6, batched receive.
 *
 * Receive (recvmmsg on a uv_poll_t, as roam/udp.h):
 *  - IPv4: the kernel hands raw IPv4 sockets the whole datagram, IPv4 header included; the
 *    callback gets it whole (data starts with the IPv4 header, l3_hdrlen is its length, src/dst
 *    are those of the header, hoplimit its TTL).
 *  - IPv6: the kernel strips the IPv6 header (and extension headers before the protocol); data
 *    starts at the protocol's header, l3_hdrlen is 0, and src/dst/hoplimit/ifindex come from
 *    ancillary data (IPV6_RECVPKTINFO, IPV6_RECVHOPLIMIT).
 * The data is borrowed for the callback only.  Truncated datagrams are dropped and counted.
 * Lifetime and close semantics are those of roam/udp.h. */
#ifndef ROAM_RAW_H
#define ROAM_RAW_H
#include <stddef.h>
#include <stdint.h>
#include <uv.h>
#include "roam/addr.h"

#define ROAM_RAW_BATCH_DEFAULT 32
#define ROAM_RAW_BATCH_MAX 256
#define ROAM_RAW_BUFSIZE_DEFAULT 65535

struct roam_raw;

struct roam_raw_pkt {
	const uint8_t *data;        /* IPv4: from the IPv4 header; IPv6: from the protocol header */
	size_t len;
	size_t l3_hdrlen;           /* IPv4: header length (IHL*4); IPv6: 0 */
	struct roam_ipaddr src, dst;
	int ifindex;                /* receiving interface; 0 if unknown */
	int hoplimit;               /* IPv4 TTL / IPv6 hop limit; -1 if unknown */
};

struct roam_raw_stats {
	uint64_t rx_packets, rx_bytes;
	uint64_t rx_truncated;      /* larger than bufsize: dropped */
	uint64_t rx_malformed;      /* IPv4 header unreadable: dropped */
	uint64_t rx_errors;
	uint64_t tx_packets, tx_bytes, tx_errors;
};

typedef void (*roam_raw_recv_cb)(struct roam_raw *r, const struct roam_raw_pkt *pkt, void *arg);
typedef void (*roam_raw_close_cb)(struct roam_raw *r, void *arg);

struct roam_raw_opts {
	int family;                 /* AF_INET or AF_INET6 */
	int protocol;               /* IP protocol number, 1..255 (IPPROTO_RAW = 255 is send-only) */
	int hdrincl;                /* IPv4 only: the caller supplies the IPv4 header on send */
	struct roam_ipaddr bind;    /* local address filter; family 0 = any */
	const char *device;         /* SO_BINDTODEVICE; NULL or "" for none */
	int rcvbuf;                 /* SO_RCVBUF bytes; 0 = default */
	unsigned batch;             /* datagrams per recvmmsg; 0 = default */
	size_t bufsize;             /* bytes per datagram buffer; 0 = default (65535) */
};

/* Opens the socket and starts receiving.  recv_cb NULL: packets are read and discarded
 * (counted), for send-only users.  Needs CAP_NET_RAW.
 * Errors: -EINVAL, -EPERM, -ENODEV, -errno, -ENOMEM. */
int roam_raw_open(uv_loop_t *loop, const struct roam_raw_opts *opts, roam_raw_recv_cb recv_cb,
		  void *arg, struct roam_raw **out);
/* See roam_udp_close(). */
void roam_raw_close(struct roam_raw *r, roam_raw_close_cb cb);

/* Sends one packet.  Without hdrincl, data is the protocol payload (the kernel builds the IP
 * header) and dst is required.  With hdrincl, data is the complete IPv4 datagram and dst may be
 * NULL (taken from the header).  Returns 0 or -errno (counted). */
int roam_raw_send(struct roam_raw *r, const struct roam_ipaddr *dst, const void *data,
		  size_t len);
/* As roam_raw_send() with an explicit source address and/or outgoing interface (IP_PKTINFO /
 * IPV6_PKTINFO); src NULL or family 0 and ifindex 0 mean the kernel's choice.  Not with
 * hdrincl (the header already carries the source): -EINVAL. */
int roam_raw_send_from(struct roam_raw *r, const struct roam_ipaddr *dst,
		       const struct roam_ipaddr *src, int ifindex, const void *data, size_t len);

/* TTL / hop limit for unicast and multicast sends (1..255; router advertisements use 255). */
int roam_raw_set_hoplimit(struct roam_raw *r, int hoplimit);
/* IPv6: asks the kernel to compute and verify the checksum at this byte offset of the payload
 * (IPV6_CHECKSUM; 4 for the Mobility Header); -1 turns it off.  ICMPv6 always has it. */
int roam_raw_set_checksum_offset(struct roam_raw *r, int offset);
/* ICMPv4 (protocol 1) receive filter: only the listed types (each 0..31) are delivered
 * (ICMP_FILTER).  n = 0 blocks everything. */
int roam_raw_icmp_filter(struct roam_raw *r, const uint8_t *types, size_t n);
/* ICMPv6 (protocol 58) receive filter: only the listed types are delivered (ICMP6_FILTER). */
int roam_raw_icmp6_filter(struct roam_raw *r, const uint8_t *types, size_t n);
/* Multicast membership on a named interface (NULL: kernel's choice), e.g. 224.0.0.2 or ff02::2
 * for router solicitations; outgoing multicast interface and loopback. */
int roam_raw_mcast_join(struct roam_raw *r, const struct roam_ipaddr *group, const char *ifname);
int roam_raw_mcast_leave(struct roam_raw *r, const struct roam_ipaddr *group, const char *ifname);
int roam_raw_mcast_if(struct roam_raw *r, const char *ifname);
int roam_raw_mcast_loop(struct roam_raw *r, int on);

/* Reads and delivers (recv_cb) what the socket holds now, as when it becomes readable: a
 * caller that must not handle a message from another socket before the datagrams that arrived
 * ahead of it calls this first.  -EINVAL when closing. */
int roam_raw_drain(struct roam_raw *r);
int roam_raw_recv_stop(struct roam_raw *r);
int roam_raw_recv_start(struct roam_raw *r);
int roam_raw_fd(const struct roam_raw *r);
const struct roam_raw_stats *roam_raw_stats(const struct roam_raw *r);

#endif
