/* The kernel side of a user-space IP-in-IP tunnel endpoint (RFC 2003), shared by had and fad
 * (this kernel has no ipip module, so the mobility agents tunnel themselves):
 *
 * - a raw IPv4 socket for protocol 4 with IP_HDRINCL: encapsulated datagrams out (the caller
 *   builds them with roam_ipip_encap() or roam_tunnel_encap()), every IP-in-IP datagram
 *   addressed to this host in (tunnel_recv callback, whole outer datagram);
 * - a TUN device: packets the kernel routes into it come out through tun_recv; decapsulated
 *   datagrams written into it are routed by the kernel (forwarding is turned on for it; IPv6
 *   is turned off on it);
 * - host routes of mobile addresses (into the TUN device, or onto a cell interface) with an
 *   optional proxy ARP entry, through roam/netlink.h;
 * - a one-shot retry timer for senders whose raw socket refused a packet with -EAGAIN.
 *
 * The struct is owned by the caller (embedded); everything is released by roam_tunnel_close().
 * Unit tests do not open it: the daemons put hooks in front of it. */
#ifndef ROAM_TUNNEL_H
#define ROAM_TUNNEL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "roam/addr.h"
#include "roam/ip.h"

#define ROAM_TUNNEL_OUTER_MAX 65535

struct roam_tun;
struct roam_raw;
struct roam_nl;

typedef void (*roam_tunnel_pkt_cb)(void *arg, const uint8_t *pkt, size_t len);
typedef void (*roam_tunnel_retry_cb)(void *arg);

struct roam_tunnel_opts {
	const char *tun;            /* TUN device name (required) */
	unsigned tun_mtu;           /* 0: the kernel's default */
	const char *proxy_interface; /* link answering proxy ARP for the routed addresses (forwarding,
				      * proxy_arp on, proxy_delay 0 there); NULL or "": none */
	roam_tunnel_pkt_cb tun_recv;    /* a packet the kernel routed into the TUN device */
	roam_tunnel_pkt_cb tunnel_recv; /* an IP-in-IP datagram from the raw socket (outer header
					 * included) */
	roam_tunnel_retry_cb retry;     /* the retry timer fired */
	void *arg;
};

struct roam_tunnel {
	struct roam_tun *tun;
	struct roam_raw *raw;       /* protocol 4, IP_HDRINCL */
	struct roam_nl *nl;
	int tun_ifindex;
	int proxy_ifindex;          /* 0: none */
	uv_timer_t retry_timer;
	bool timer_init;
	struct roam_tunnel_opts o;
};

/* Opens the TUN device (up, forwarding on, IPv6 off), netlink, the proxy-ARP link's sysctls
 * and the raw socket on loop, and prepares the retry timer.  *t is zeroed first.  Needs
 * CAP_NET_ADMIN and CAP_NET_RAW.  On error everything opened is closed again and a message
 * logged; returns -errno. */
int roam_tunnel_open(struct roam_tunnel *t, uv_loop_t *loop, const struct roam_tunnel_opts *o);
/* Closes what roam_tunnel_open opened (routes through the TUN device go with it); safe on a
 * zeroed or already closed struct. */
void roam_tunnel_close(struct roam_tunnel *t);
/* Sends a complete outer IPv4 datagram on the raw socket.  0, -EAGAIN (socket full), -errno,
 * -ENOTCONN when not open. */
int roam_tunnel_xmit(struct roam_tunnel *t, const void *pkt, size_t len);
/* Writes an IPv4 datagram into the TUN device (the kernel routes it).  0 or -errno. */
int roam_tunnel_deliver(struct roam_tunnel *t, const void *pkt, size_t len);
/* Adds (add = 1, replacing) or removes the host route of addr through oif (0: the TUN device)
 * and, when proxy_ifindex > 0, the proxy ARP entry of addr on that link.  Removal ignores
 * entries already gone.  0 or -errno. */
int roam_tunnel_route(struct roam_tunnel *t, const struct roam_ipaddr *addr, int oif,
		      int proxy_ifindex, int add);
/* Starts the one-shot retry timer (ms) unless it is already pending or the tunnel is closed. */
void roam_tunnel_retry_later(struct roam_tunnel *t, unsigned ms);
/* Hands what the raw IP-in-IP socket holds now to tunnel_recv (roam_raw_drain): a foreign
 * agent calls it before a deregistration reply read from its UDP socket, so that the data the
 * home agent tunnelled before that reply is queued before it.  No-op when not open. */
void roam_tunnel_rx_now(struct roam_tunnel *t);

/* Encapsulates inner (a valid IPv4 datagram) IP-in-IP as p says into buf (cap bytes), *out_len
 * the outer length; p->id is the caller's counter (not advanced here).  -EMSGSIZE (does not fit
 * cap or 65535), -EBADMSG (inner malformed), -ETIMEDOUT (p->forwarding and TTL expired). */
int roam_tunnel_encap(uint8_t *buf, size_t cap, const struct roam_ipip *p, const void *inner,
		      size_t len, size_t *out_len);

#endif
