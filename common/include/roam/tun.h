/* TUN devices (IFF_TUN | IFF_NO_PI: one bare IPv4 or IPv6 packet per read/write) on a libuv
 * loop.  Each wakeup reads up to `batch` packets, one callback per packet; the packet is
 * borrowed for the callback only.  Bringing the link up and giving it addresses and routes goes
 * through roam/netlink.h (roam_tun_ifindex() gives the index).  Lifetime and close semantics
 * are those of roam/udp.h; closing the last descriptor removes a non-persistent device. */
#ifndef ROAM_TUN_H
#define ROAM_TUN_H
#include <net/if.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define ROAM_TUN_BATCH_DEFAULT 32
#define ROAM_TUN_BUFSIZE_DEFAULT 65535

struct roam_tun;

struct roam_tun_stats {
	uint64_t rx_packets, rx_bytes, rx_errors;
	uint64_t tx_packets, tx_bytes, tx_errors;
};

typedef void (*roam_tun_recv_cb)(struct roam_tun *t, const uint8_t *pkt, size_t len, void *arg);
typedef void (*roam_tun_close_cb)(struct roam_tun *t, void *arg);

struct roam_tun_opts {
	const char *name;           /* device name or pattern ("roam%d"); NULL/"" = kernel's choice */
	unsigned batch;             /* packets read per wakeup; 0 = default */
	size_t bufsize;             /* read buffer bytes; 0 = default (65535); >= the link MTU */
	unsigned mtu;               /* set this MTU after creation; 0 = leave the default */
};

/* Creates (or attaches to an existing) TUN device and starts reading.  recv_cb NULL: packets
 * are read and discarded (counted).  Needs CAP_NET_ADMIN.
 * Errors: -EINVAL (name too long), -EPERM, -EBUSY (device in use), -errno, -ENOMEM. */
int roam_tun_open(uv_loop_t *loop, const struct roam_tun_opts *opts, roam_tun_recv_cb recv_cb,
		  void *arg, struct roam_tun **out);
/* See roam_udp_close(). */
void roam_tun_close(struct roam_tun *t, roam_tun_close_cb cb);

/* Device name chosen by the kernel (borrowed, valid until close) and its ifindex. */
const char *roam_tun_name(const struct roam_tun *t);
int roam_tun_ifindex(const struct roam_tun *t);
/* Sets the link MTU (SIOCSIFMTU).  Returns 0 or -errno. */
int roam_tun_set_mtu(struct roam_tun *t, unsigned mtu);
/* Writes one IP packet into the kernel (as if received on the device).  Returns 0 or -errno
 * (counted; -EAGAIN when the device queue is full, -EIO when the link is down). */
int roam_tun_write(struct roam_tun *t, const void *pkt, size_t len);

int roam_tun_recv_stop(struct roam_tun *t);
int roam_tun_recv_start(struct roam_tun *t);
int roam_tun_fd(const struct roam_tun *t);
const struct roam_tun_stats *roam_tun_stats(const struct roam_tun *t);

#endif
