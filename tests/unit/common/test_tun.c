/* Unit tests: roam/tun.h in a private network namespace per test. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "netns.h"
#include "roam/ip.h"
#include "roam/tun.h"
#include "roam/udp.h"

#define MAXPKT 32

struct rx {
	int count, want, done, udp4;
	uint8_t data[MAXPKT][256];
	size_t len[MAXPKT];
};

/* Collects IPv4/IPv6 UDP packets only (the kernel also sends IPv6 MLD/ND on a new link). */
static void on_tun(struct roam_tun *t, const uint8_t *p, size_t n, void *arg)
{
	struct rx *rx = arg;
	struct roam_ip_udp u;
	struct rbuf pl;
	(void)t;
	if (roam_ip_udp_parse(p, n, &u, &pl) != 0)
		return;
	if (rx->count < MAXPKT) {
		memcpy(rx->data[rx->count], p, n < 256 ? n : 256);
		rx->len[rx->count] = n;
	}
	if (++rx->count >= rx->want)
		rx->done = 1;
}

struct urx {
	int done;
	size_t len;
	struct roam_sockaddr src;
	struct roam_ipaddr dst;
	int ifindex;
};

static void on_udp(struct roam_udp *u, const struct roam_udp_pkt *p, void *arg)
{
	struct urx *r = arg;
	(void)u;
	r->len = p->len;
	r->src = p->src;
	r->dst = p->dst;
	r->ifindex = p->ifindex;
	r->done = 1;
}

static struct roam_tun *setup_tun(uv_loop_t *loop, struct rx *rx)
{
	struct roam_tun_opts o = {.name = "rtun%d", .mtu = 1400};
	struct roam_tun *t;
	int rc = roam_tun_open(loop, &o, on_tun, rx, &t);
	cr_assert_eq(rc, 0, "tun: %s", strerror(-rc));
	cr_assert_str_eq(roam_tun_name(t), "rtun0");
	cr_assert_gt(roam_tun_ifindex(t), 1);
	struct roam_nl *nl;
	struct roam_prefix p4, p6;
	struct roam_nl_link l;
	cr_assert_eq(roam_nl_open(0, &nl), 0);
	cr_assert_eq(roam_nl_link_get(nl, roam_tun_ifindex(t), &l), 0);
	cr_assert_eq(l.mtu, 1400);
	cr_assert_str_eq(l.name, "rtun0");
	cr_assert_eq(roam_nl_link_set_up(nl, roam_tun_ifindex(t), 1), 0);
	roam_prefix_parse("192.0.2.1/24", &p4);
	roam_prefix_parse("2001:db8::1/64", &p6);
	cr_assert_eq(roam_nl_addr_add(nl, roam_tun_ifindex(t), &p4, 0), 0);
	cr_assert_eq(roam_nl_addr_add(nl, roam_tun_ifindex(t), &p6, ROAM_NL_ADDR_NODAD), 0);
	roam_nl_close(nl);
	return t;
}

Test(tun, read_kernel_packets_batched)
{
	netns_enter();
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct rx rx = {.want = 12};
	struct roam_tun *t = setup_tun(&loop, &rx);
	struct urx ur = {0};
	struct roam_udp_opts uo;
	memset(&uo, 0, sizeof(uo));
	roam_sockaddr_parse("[::]:0", 0, &uo.bind);
	uo.dualstack = 1;
	struct roam_udp *u;
	cr_assert_eq(roam_udp_open(&loop, &uo, on_udp, &ur, &u), 0);
	struct roam_sockaddr d4, d6;
	roam_sockaddr_parse("192.0.2.2:434", 0, &d4);
	roam_sockaddr_parse("[2001:db8::2]:434", 0, &d6);
	for (int i = 0; i < 10; i++)
		cr_assert_eq(roam_udp_send(u, &d4, "mobile-ip", 9), 0);
	cr_assert_eq(roam_udp_send(u, &d6, "mobile-ip6", 10), 0);
	cr_assert_eq(roam_udp_send(u, &d6, "mobile-ip6", 10), 0);
	cr_assert(netns_run_until(&loop, &rx.done, 5000), "got %d", rx.count);
	/* each packet was parsed with its checksums verified (kernel-built) in on_tun */
	int v4 = 0, v6 = 0;
	for (int i = 0; i < 12; i++) {
		struct roam_ip_udp p;
		struct rbuf pl;
		cr_assert_eq(roam_ip_udp_parse(rx.data[i], rx.len[i], &p, &pl), 0);
		cr_assert_eq(p.dport, 434);
		if (p.src.family == AF_INET)
			v4++;
		else
			v6++;
	}
	cr_assert_eq(v4, 10);
	cr_assert_eq(v6, 2);
	cr_assert_geq(roam_tun_stats(t)->rx_packets, 12);
	roam_udp_close(u, NULL);
	roam_tun_close(t, NULL);
	roam_tun_close(t, NULL);
	netns_drain(&loop);
}

Test(tun, write_delivers_to_local_socket)
{
	netns_enter();
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct rx rx = {.want = 1000};
	struct roam_tun *t = setup_tun(&loop, &rx);
	const char *binds[] = {"192.0.2.1:4340", "[2001:db8::1]:4340"};
	const char *peers[] = {"192.0.2.2", "2001:db8::2"};
	const char *locals[] = {"192.0.2.1", "2001:db8::1"};
	int total_writes = 0;
	for (int k = 0; k < 2; k++) {
		struct urx ur = {0};
		struct roam_udp_opts uo;
		memset(&uo, 0, sizeof(uo));
		roam_sockaddr_parse(binds[k], 0, &uo.bind);
		struct roam_udp *u;
		cr_assert_eq(roam_udp_open(&loop, &uo, on_udp, &ur, &u), 0);
		struct roam_ip_udp p = {.sport = 5000, .dport = 4340};
		roam_ipaddr_parse(peers[k], &p.src);
		roam_ipaddr_parse(locals[k], &p.dst);
		uint8_t pkt[128];
		struct wbuf w;
		wbuf_init_fixed(&w, pkt, sizeof(pkt));
		cr_assert_eq(roam_ip_udp_build(&w, &p, "from the tunnel", 15), 0);
		/* The kernel installs the local route of an IPv6 address from a work queue, even with
		 * NODAD: a packet written in the first milliseconds may be dropped as not for us.
		 * Write again until one arrives (each write is counted). */
		int writes = 0;
		do {
			cr_assert_eq(roam_tun_write(t, pkt, w.len), 0);
			writes++;
		} while (!netns_run_until(&loop, &ur.done, 500) && writes < 20);
		cr_assert(ur.done, "family %d: nothing delivered after %d writes", k, writes);
		total_writes += writes;
		cr_assert_eq(ur.len, 15);
		cr_assert_eq(ur.ifindex, roam_tun_ifindex(t));
		cr_assert(roam_ipaddr_eq(&ur.dst, &p.dst));
		struct roam_ipaddr s;
		roam_sockaddr_addr(&ur.src, &s, NULL);
		cr_assert(roam_ipaddr_eq(&s, &p.src));
		cr_assert_eq(roam_sockaddr_port(&ur.src), 5000);
		roam_udp_close(u, NULL);
	}
	cr_assert_eq(roam_tun_stats(t)->tx_packets, (uint64_t)total_writes);
	/* garbage is refused by the kernel and counted */
	cr_assert_lt(roam_tun_write(t, "\x00\x01", 2), 0);
	cr_assert_eq(roam_tun_stats(t)->tx_errors, 1);
	roam_tun_close(t, NULL);
	netns_drain(&loop);
}

Test(tun, names_and_errors)
{
	netns_enter();
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct roam_tun_opts o = {0};
	struct roam_tun *a, *b;
	cr_assert_eq(roam_tun_open(&loop, &o, NULL, NULL, &a), 0);
	cr_assert_gt(strlen(roam_tun_name(a)), 0); /* kernel-chosen name, e.g. tun0 */
	o.name = roam_tun_name(a);
	cr_assert_eq(roam_tun_open(&loop, &o, NULL, NULL, &b), -EBUSY);
	o.name = "a-name-much-too-long-for-ifnamsiz";
	cr_assert_eq(roam_tun_open(&loop, &o, NULL, NULL, &b), -EINVAL);
	cr_assert_eq(roam_tun_set_mtu(a, 1280), 0);
	cr_assert_eq(roam_tun_set_mtu(a, 10), -EINVAL);
	int idx = roam_tun_ifindex(a);
	roam_tun_close(a, NULL);
	netns_drain(&loop);
	/* the non-persistent device is gone with its descriptor */
	struct roam_nl *nl;
	struct roam_nl_link l;
	cr_assert_eq(roam_nl_open(0, &nl), 0);
	cr_assert_eq(roam_nl_link_get(nl, idx, &l), -ENODEV);
	roam_nl_close(nl);
}
