/* rtnetlink (NETLINK_ROUTE), hand-written over a raw netlink socket (no libmnl).
 *
 * Two objects:
 *  - struct roam_nl: a blocking request socket for set-up calls.  Each call sends one request
 *    with NLM_F_ACK and waits (bounded by a receive timeout) for its acknowledgement; a kernel
 *    refusal comes back as the negative errno of its NLMSG_ERROR (-EEXIST, -ESRCH, -ENODEV...).
 *    Calls act in the network namespace the socket was opened in.
 *  - struct roam_nl_mon: an asynchronous subscription on a libuv loop to link and address
 *    events, delivered parsed (struct roam_nl_event).  Lifetime as roam/udp.h.
 * All replies and events are parsed through rbuf with bounds checks; a malformed message is
 * skipped and counted, never fatal. */
#ifndef ROAM_NETLINK_H
#define ROAM_NETLINK_H
#include <net/if.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>
#include "roam/addr.h"

/* --- synchronous requests --- */

struct roam_nl;

/* Opens a request socket (timeout_ms 0: 5000 ms per reply).  Returns 0 or -errno. */
int roam_nl_open(unsigned timeout_ms, struct roam_nl **out);
void roam_nl_close(struct roam_nl *nl);   /* NULL is a no-op */

/* Interface index of a name in the current namespace (if_nametoindex).  -ENODEV. */
int roam_nl_ifindex(const char *name, int *ifindex);

struct roam_nl_link {
	int ifindex;
	char name[IFNAMSIZ];
	unsigned flags;             /* IFF_UP, IFF_RUNNING, IFF_LOWER_UP, IFF_POINTOPOINT ... */
	unsigned mtu;
	unsigned short type;        /* ARPHRD_* */
};

/* Reads one link's state (RTM_GETLINK).  -ENODEV if absent. */
int roam_nl_link_get(struct roam_nl *nl, int ifindex, struct roam_nl_link *out);
/* Sets the link administratively up (1) or down (0). */
int roam_nl_link_set_up(struct roam_nl *nl, int ifindex, int up);
int roam_nl_link_set_mtu(struct roam_nl *nl, int ifindex, unsigned mtu);

/* Address flags for roam_nl_addr_add(). */
#define ROAM_NL_ADDR_NODAD 0x1      /* IPv6: skip duplicate address detection (usable at once) */
#define ROAM_NL_ADDR_REPLACE 0x2    /* replace an existing equal address instead of -EEXIST */

/* Adds / deletes an address with its prefix length ("10.0.0.1/24") on a link.  IPv4 gets the
 * broadcast address of its prefix.  -EEXIST (add, already there), -EADDRNOTAVAIL (delete, not
 * there), -ENODEV. */
int roam_nl_addr_add(struct roam_nl *nl, int ifindex, const struct roam_prefix *addr,
		     unsigned flags);
int roam_nl_addr_del(struct roam_nl *nl, int ifindex, const struct roam_prefix *addr);

/* A route.  Zero-initialise, then set what is needed:
 *  - default route via a gateway:  dst = 0.0.0.0/0, gw = 192.0.2.1
 *  - host route via a device:      dst = 192.0.2.7/32, oif = ifindex (no gw: link scope)
 * family is that of dst. */
struct roam_nl_route {
	struct roam_prefix dst;     /* destination prefix (len 0: default route) */
	struct roam_ipaddr gw;      /* gateway (RTA_GATEWAY); family 0 = none */
	struct roam_ipaddr prefsrc; /* preferred source (RTA_PREFSRC); family 0 = none */
	int oif;                    /* output interface (RTA_OIF); 0 = none */
	uint32_t table;             /* routing table (RTA_TABLE); 0 = main */
	uint32_t metric;            /* RTA_PRIORITY; 0 = none */
	uint8_t protocol;           /* RTPROT_*; 0 = RTPROT_STATIC */
	uint8_t type;               /* RTN_*; 0 = RTN_UNICAST (RTN_BLACKHOLE etc. allowed) */
};

/* Adds a route; -EEXIST if an identical one exists. */
int roam_nl_route_add(struct roam_nl *nl, const struct roam_nl_route *rt);
/* Adds, or replaces the route with the same destination/table/metric. */
int roam_nl_route_replace(struct roam_nl *nl, const struct roam_nl_route *rt);
/* Deletes a route matching the given fields (unset fields match anything); -ESRCH. */
int roam_nl_route_del(struct roam_nl *nl, const struct roam_nl_route *rt);

/* Proxy ARP / proxy NDP entries (RTM_NEWNEIGH with NTF_PROXY): the host answers ARP or
 * neighbour solicitations for addr on ifindex.  IPv6 also needs proxy_ndp = 1 on the link
 * (roam_sysctl_proxy_ndp()).  Delete: -ENOENT if absent. */
int roam_nl_neigh_proxy_add(struct roam_nl *nl, int ifindex, const struct roam_ipaddr *addr);
int roam_nl_neigh_proxy_del(struct roam_nl *nl, int ifindex, const struct roam_ipaddr *addr);

/* --- sysctls through /proc/sys --- */

/* Writes / reads a sysctl; key is "net.ipv4.ip_forward" or "net/ipv4/ip_forward" (dots are
 * turned into slashes only in the dotted form, so interface names with dots need the slash
 * form).  get trims the trailing newline.  Return 0 or -errno (-ENOENT: no such key). */
int roam_sysctl_set(const char *key, const char *value);
int roam_sysctl_get(const char *key, char *buf, size_t len);
/* Forwarding for a family on an interface ("all", "default", or a name). */
int roam_sysctl_forwarding(int family, const char *ifname, int on);
/* net/ipv4/conf/IF/proxy_arp and net/ipv6/conf/IF/proxy_ndp. */
int roam_sysctl_proxy_arp(const char *ifname, int on);
int roam_sysctl_proxy_ndp(const char *ifname, int on);

/* --- asynchronous link/address events --- */

#define ROAM_NL_MON_LINK 0x1        /* RTMGRP_LINK */
#define ROAM_NL_MON_IPV4_ADDR 0x2   /* RTMGRP_IPV4_IFADDR */
#define ROAM_NL_MON_IPV6_ADDR 0x4   /* RTMGRP_IPV6_IFADDR */

enum roam_nl_event_type {
	ROAM_NL_EV_LINK_NEW,        /* link appeared or changed (flags, mtu, name) */
	ROAM_NL_EV_LINK_DEL,
	ROAM_NL_EV_ADDR_NEW,
	ROAM_NL_EV_ADDR_DEL,
	ROAM_NL_EV_OVERRUN,         /* events were lost (ENOBUFS): resynchronise with a dump */
	ROAM_NL_EV_DUMP_DONE,       /* the dump asked by roam_nl_mon_dump() is complete */
};

struct roam_nl_event {
	enum roam_nl_event_type type;
	int ifindex;
	char ifname[IFNAMSIZ];      /* link events: IFLA_IFNAME; address events: IFA_LABEL or "" */
	unsigned flags;             /* link events: IFF_* */
	int up;                     /* link events: IFF_UP */
	int running;                /* link events: IFF_RUNNING (operationally up) */
	unsigned mtu;               /* link events */
	struct roam_prefix addr;    /* address events: IFA_LOCAL (else IFA_ADDRESS) and prefixlen */
	unsigned addr_flags;        /* address events: IFA_F_* (IFA_F_TENTATIVE, IFA_F_DADFAILED) */
};

struct roam_nl_mon;

struct roam_nl_mon_stats {
	uint64_t events, malformed, overruns;
};

typedef void (*roam_nl_event_cb)(struct roam_nl_mon *m, const struct roam_nl_event *ev,
				 void *arg);
typedef void (*roam_nl_mon_close_cb)(struct roam_nl_mon *m, void *arg);

/* Subscribes to the ROAM_NL_MON_* groups.  ev is borrowed for the callback.
 * Errors: -EINVAL (no group), -errno, -ENOMEM. */
int roam_nl_mon_open(uv_loop_t *loop, unsigned groups, roam_nl_event_cb cb, void *arg,
		     struct roam_nl_mon **out);
/* Asks for the current links and/or addresses (of the subscribed kinds), delivered through the
 * same callback as NEW events, then ROAM_NL_EV_DUMP_DONE.  -EBUSY while a dump runs. */
int roam_nl_mon_dump(struct roam_nl_mon *m);
void roam_nl_mon_close(struct roam_nl_mon *m, roam_nl_mon_close_cb cb);
const struct roam_nl_mon_stats *roam_nl_mon_stats(const struct roam_nl_mon *m);

/* Parses one rtnetlink message (RTM_NEWLINK/DELLINK/NEWADDR/DELADDR; header included, len
 * bytes) into ev.  Returns 0, -ENOENT for another message type, -EBADMSG when malformed.
 * Exposed for tests and for callers that dump on their own. */
int roam_nl_parse_event(const void *msg, size_t len, struct roam_nl_event *ev);

#endif
