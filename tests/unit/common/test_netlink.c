/* Unit tests: roam/netlink.h (requests, events, sysctls) in a private network namespace per
 * test, plus the event parser on hand-made messages. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netns.h"
#include "roam/netlink.h"
#include "roam/tun.h"

#define MAXEV 128

struct evlog {
	int n;
	struct roam_nl_event ev[MAXEV];
	int dump_done;
};

static void on_ev(struct roam_nl_mon *m, const struct roam_nl_event *ev, void *arg)
{
	struct evlog *l = arg;
	(void)m;
	if (ev->type == ROAM_NL_EV_DUMP_DONE)
		l->dump_done = 1;
	if (l->n < MAXEV)
		l->ev[l->n++] = *ev;
}

/* Index of the first event matching, or -1. */
static int find_ev(const struct evlog *l, enum roam_nl_event_type type, int ifindex,
		   const char *prefix)
{
	for (int i = 0; i < l->n; i++) {
		const struct roam_nl_event *e = &l->ev[i];
		if (e->type != type || (ifindex && e->ifindex != ifindex))
			continue;
		if (prefix) {
			char b[ROAM_ADDRSTRLEN];
			if (strcmp(roam_prefix_fmt(&e->addr, b, sizeof(b)), prefix) != 0)
				continue;
		}
		return i;
	}
	return -1;
}

struct waitfor {
	struct evlog *l;
	enum roam_nl_event_type type;
	int ifindex;
	const char *prefix;
	int done;
};

static void poll_cb(uv_idle_t *h)
{
	struct waitfor *w = h->data;
	if (find_ev(w->l, w->type, w->ifindex, w->prefix) >= 0)
		w->done = 1;
}

static int wait_ev(uv_loop_t *loop, struct evlog *l, enum roam_nl_event_type type, int ifindex,
		   const char *prefix)
{
	struct waitfor w = {l, type, ifindex, prefix, 0};
	uv_idle_t idle;
	uv_idle_init(loop, &idle);
	idle.data = &w;
	uv_idle_start(&idle, poll_cb);
	netns_run_until(loop, &w.done, 5000);
	uv_close((uv_handle_t *)&idle, NULL);
	uv_run(loop, UV_RUN_NOWAIT);
	return find_ev(l, type, ifindex, prefix);
}

Test(netlink, link_and_address_events)
{
	netns_enter();
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct evlog log = {0};
	struct roam_nl_mon *m;
	cr_assert_eq(roam_nl_mon_open(&loop, ROAM_NL_MON_LINK | ROAM_NL_MON_IPV4_ADDR |
						     ROAM_NL_MON_IPV6_ADDR,
				      on_ev, &log, &m),
		     0);
	struct roam_tun_opts to = {.name = "evt0"};
	struct roam_tun *t;
	cr_assert_eq(roam_tun_open(&loop, &to, NULL, NULL, &t), 0);
	int idx = roam_tun_ifindex(t);
	int i = wait_ev(&loop, &log, ROAM_NL_EV_LINK_NEW, idx, NULL);
	cr_assert_geq(i, 0, "no link event");
	cr_assert_str_eq(log.ev[i].ifname, "evt0");
	cr_assert_eq(log.ev[i].up, 0);

	struct roam_nl *nl;
	cr_assert_eq(roam_nl_open(0, &nl), 0);
	log.n = 0;
	cr_assert_eq(roam_nl_link_set_up(nl, idx, 1), 0);
	/* the link event of "up" */
	int found = 0;
	for (int k = 0; k < 20 && !found; k++) {
		wait_ev(&loop, &log, ROAM_NL_EV_LINK_NEW, idx, NULL);
		for (int j = 0; j < log.n; j++)
			if (log.ev[j].type == ROAM_NL_EV_LINK_NEW && log.ev[j].up)
				found = 1;
	}
	cr_assert(found, "no up event");

	struct roam_prefix p4, p6;
	roam_prefix_parse("192.0.2.1/24", &p4);
	roam_prefix_parse("2001:db8::1/64", &p6);
	cr_assert_eq(roam_nl_addr_add(nl, idx, &p4, 0), 0);
	cr_assert_eq(roam_nl_addr_add(nl, idx, &p4, 0), -EEXIST);
	cr_assert_eq(roam_nl_addr_add(nl, idx, &p4, ROAM_NL_ADDR_REPLACE), 0);
	cr_assert_eq(roam_nl_addr_add(nl, idx, &p6, ROAM_NL_ADDR_NODAD), 0);
	i = wait_ev(&loop, &log, ROAM_NL_EV_ADDR_NEW, idx, "192.0.2.1/24");
	cr_assert_geq(i, 0);
	cr_assert_str_eq(log.ev[i].ifname, "evt0"); /* IFA_LABEL */
	i = wait_ev(&loop, &log, ROAM_NL_EV_ADDR_NEW, idx, "2001:db8::1/64");
	cr_assert_geq(i, 0);
	cr_assert_eq(log.ev[i].addr_flags & IFA_F_TENTATIVE, 0);
	cr_assert_eq(roam_nl_addr_del(nl, idx, &p4), 0);
	cr_assert_eq(roam_nl_addr_del(nl, idx, &p4), -EADDRNOTAVAIL);
	cr_assert_geq(wait_ev(&loop, &log, ROAM_NL_EV_ADDR_DEL, idx, "192.0.2.1/24"), 0);

	/* a dump reports what exists, then DUMP_DONE */
	log.n = 0;
	cr_assert_eq(roam_nl_mon_dump(m), 0);
	cr_assert_eq(roam_nl_mon_dump(m), -EBUSY);
	netns_run_until(&loop, &log.dump_done, 5000);
	cr_assert(log.dump_done);
	cr_assert_geq(find_ev(&log, ROAM_NL_EV_LINK_NEW, 1, NULL), 0); /* lo */
	cr_assert_geq(find_ev(&log, ROAM_NL_EV_LINK_NEW, idx, NULL), 0);
	cr_assert_geq(find_ev(&log, ROAM_NL_EV_ADDR_NEW, 1, "127.0.0.1/8"), 0);
	cr_assert_geq(find_ev(&log, ROAM_NL_EV_ADDR_NEW, idx, "2001:db8::1/64"), 0);
	cr_assert_lt(find_ev(&log, ROAM_NL_EV_ADDR_NEW, idx, "192.0.2.1/24"), 0);

	roam_tun_close(t, NULL);
	cr_assert_geq(wait_ev(&loop, &log, ROAM_NL_EV_LINK_DEL, idx, NULL), 0);
	cr_assert_gt(roam_nl_mon_stats(m)->events, 0);
	cr_assert_eq(roam_nl_mon_stats(m)->malformed, 0);
	roam_nl_close(nl);
	roam_nl_mon_close(m, NULL);
	roam_nl_mon_close(m, NULL);
	netns_drain(&loop);
}

/* 1 if a UDP socket can be connected to dst (that is, a route exists). */
static int reachable(const char *dst)
{
	struct roam_sockaddr sa;
	cr_assert_eq(roam_sockaddr_parse(dst, 9, &sa), 0);
	int fd = socket(sa.sa.sa_family, SOCK_DGRAM, 0);
	int rc = connect(fd, &sa.sa, sa.len);
	close(fd);
	return rc == 0;
}

Test(netlink, routes_links_neighbours)
{
	netns_enter();
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct roam_tun_opts to = {.name = "rt0"};
	struct roam_tun *t;
	cr_assert_eq(roam_tun_open(&loop, &to, NULL, NULL, &t), 0);
	int idx = roam_tun_ifindex(t), idx2;
	cr_assert_eq(roam_nl_ifindex("rt0", &idx2), 0);
	cr_assert_eq(idx, idx2);
	cr_assert_eq(roam_nl_ifindex("nosuch0", &idx2), -ENODEV);

	struct roam_nl *nl;
	struct roam_nl_link l;
	cr_assert_eq(roam_nl_open(0, &nl), 0);
	cr_assert_eq(roam_nl_link_set_mtu(nl, idx, 1280), 0);
	cr_assert_eq(roam_nl_link_set_up(nl, idx, 1), 0);
	cr_assert_eq(roam_nl_link_get(nl, idx, &l), 0);
	cr_assert_eq(l.mtu, 1280);
	cr_assert(l.flags & IFF_UP);
	cr_assert_eq(roam_nl_link_get(nl, 9999, &l), -ENODEV);
	cr_assert_eq(roam_nl_link_set_up(nl, 9999, 1), -ENODEV);

	struct roam_prefix p4, p6;
	roam_prefix_parse("192.0.2.1/24", &p4);
	roam_prefix_parse("2001:db8::1/64", &p6);
	cr_assert_eq(roam_nl_addr_add(nl, idx, &p4, 0), 0);
	cr_assert_eq(roam_nl_addr_add(nl, idx, &p6, ROAM_NL_ADDR_NODAD), 0);

	/* a network via a gateway */
	struct roam_nl_route rt;
	memset(&rt, 0, sizeof(rt));
	roam_prefix_parse("198.51.100.0/24", &rt.dst);
	roam_ipaddr_parse("192.0.2.254", &rt.gw);
	cr_assert_not(reachable("198.51.100.7"));
	cr_assert_eq(roam_nl_route_add(nl, &rt), 0);
	cr_assert(reachable("198.51.100.7"));
	cr_assert_eq(roam_nl_route_add(nl, &rt), -EEXIST);
	cr_assert_eq(roam_nl_route_replace(nl, &rt), 0);
	cr_assert_eq(roam_nl_route_del(nl, &rt), 0);
	cr_assert_not(reachable("198.51.100.7"));
	cr_assert_eq(roam_nl_route_del(nl, &rt), -ESRCH);

	/* a host route via the device (no gateway), with a metric */
	memset(&rt, 0, sizeof(rt));
	roam_prefix_parse("203.0.113.9/32", &rt.dst);
	rt.oif = idx;
	rt.metric = 50;
	cr_assert_eq(roam_nl_route_add(nl, &rt), 0);
	cr_assert(reachable("203.0.113.9"));
	cr_assert_not(reachable("203.0.113.10"));
	cr_assert_eq(roam_nl_route_del(nl, &rt), 0);

	/* IPv6 default route in another table, and in main */
	memset(&rt, 0, sizeof(rt));
	roam_prefix_parse("::/0", &rt.dst);
	roam_ipaddr_parse("2001:db8::fe", &rt.gw);
	rt.table = 100;
	cr_assert_eq(roam_nl_route_add(nl, &rt), 0);
	cr_assert_not(reachable("[2001:db8:ffff::1]")); /* table 100 has no rule */
	rt.table = 0;
	cr_assert_eq(roam_nl_route_add(nl, &rt), 0);
	cr_assert(reachable("[2001:db8:ffff::1]"));
	cr_assert_eq(roam_nl_route_del(nl, &rt), 0);
	rt.table = 100;
	cr_assert_eq(roam_nl_route_del(nl, &rt), 0);

	/* mixed families refused before the kernel */
	roam_ipaddr_parse("192.0.2.254", &rt.gw);
	cr_assert_eq(roam_nl_route_add(nl, &rt), -EINVAL);

	/* proxy ARP / NDP entries */
	struct roam_ipaddr pa, pa6;
	roam_ipaddr_parse("192.0.2.50", &pa);
	roam_ipaddr_parse("2001:db8::50", &pa6);
	cr_assert_eq(roam_nl_neigh_proxy_add(nl, idx, &pa), 0);
	cr_assert_eq(roam_nl_neigh_proxy_add(nl, idx, &pa6), 0);
	cr_assert_eq(roam_nl_neigh_proxy_del(nl, idx, &pa), 0);
	cr_assert_eq(roam_nl_neigh_proxy_del(nl, idx, &pa), -ENOENT);
	cr_assert_eq(roam_nl_neigh_proxy_del(nl, idx, &pa6), 0);

	roam_nl_close(nl);
	roam_tun_close(t, NULL);
	netns_drain(&loop);
}

Test(netlink, sysctls)
{
	netns_enter();
	char b[64];
	cr_assert_eq(roam_sysctl_set("net.ipv4.ip_forward", "1"), 0);
	cr_assert_eq(roam_sysctl_get("net/ipv4/ip_forward", b, sizeof(b)), 0);
	cr_assert_str_eq(b, "1");
	cr_assert_eq(roam_sysctl_forwarding(AF_INET6, "all", 1), 0);
	cr_assert_eq(roam_sysctl_get("net.ipv6.conf.all.forwarding", b, sizeof(b)), 0);
	cr_assert_str_eq(b, "1");
	cr_assert_eq(roam_sysctl_proxy_arp("lo", 1), 0);
	cr_assert_eq(roam_sysctl_get("net/ipv4/conf/lo/proxy_arp", b, sizeof(b)), 0);
	cr_assert_str_eq(b, "1");
	cr_assert_eq(roam_sysctl_proxy_ndp("lo", 1), 0);
	cr_assert_eq(roam_sysctl_get("net.nosuch.key", b, sizeof(b)), -ENOENT);
	cr_assert_eq(roam_sysctl_set("../../etc/passwd", "x"), -EINVAL);
	cr_assert_eq(roam_sysctl_proxy_arp("../x", 1), -EINVAL);
	cr_assert_eq(roam_sysctl_forwarding(AF_UNIX, "all", 1), -EAFNOSUPPORT);
}

/* A hand-made RTM_NEWADDR: ifaddrmsg + IFA_ADDRESS + IFA_LOCAL + IFA_LABEL. */
static size_t make_newaddr(uint8_t *buf)
{
	size_t off = sizeof(struct nlmsghdr);
	struct ifaddrmsg ifa = {.ifa_family = AF_INET, .ifa_prefixlen = 24, .ifa_index = 7};
	memcpy(buf + off, &ifa, sizeof(ifa));
	off += NLMSG_ALIGN(sizeof(ifa));
	uint8_t a[4] = {192, 0, 2, 1};
	uint16_t types[2] = {IFA_ADDRESS, IFA_LOCAL};
	for (int i = 0; i < 2; i++) {
		struct rtattr ra = {.rta_len = RTA_LENGTH(4), .rta_type = types[i]};
		memcpy(buf + off, &ra, sizeof(ra));
		memcpy(buf + off + sizeof(ra), a, 4);
		off += RTA_SPACE(4);
	}
	struct rtattr rl = {.rta_len = RTA_LENGTH(5), .rta_type = IFA_LABEL};
	memcpy(buf + off, &rl, sizeof(rl));
	memcpy(buf + off + sizeof(rl), "eth7", 5);
	off += RTA_SPACE(5);
	struct nlmsghdr h = {.nlmsg_len = (uint32_t)off, .nlmsg_type = RTM_NEWADDR};
	memcpy(buf, &h, sizeof(h));
	return off;
}

Test(netlink, parse_event_vectors_and_truncation)
{
	uint8_t buf[256];
	memset(buf, 0, sizeof(buf));
	size_t n = make_newaddr(buf);
	struct roam_nl_event ev;
	char b[ROAM_ADDRSTRLEN];
	cr_assert_eq(roam_nl_parse_event(buf, n, &ev), 0);
	cr_assert_eq(ev.type, ROAM_NL_EV_ADDR_NEW);
	cr_assert_eq(ev.ifindex, 7);
	cr_assert_str_eq(ev.ifname, "eth7");
	cr_assert_str_eq(roam_prefix_fmt(&ev.addr, b, sizeof(b)), "192.0.2.1/24");
	/* buffer shorter than the message at every offset */
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(roam_nl_parse_event(buf, i, &ev), -EBADMSG, "len %zu", i);
	/* a consistent length field but a body cut inside an attribute or the header */
	for (size_t i = sizeof(struct nlmsghdr); i < n; i++) {
		uint8_t c[256];
		memcpy(c, buf, n);
		uint32_t len = (uint32_t)i;
		memcpy(c, &len, 4);
		int rc = roam_nl_parse_event(c, i, &ev);
		cr_assert(rc == 0 || rc == -EBADMSG, "len %zu rc %d", i, rc);
		if (i < sizeof(struct nlmsghdr) + sizeof(struct ifaddrmsg) + 8)
			cr_assert_eq(rc, -EBADMSG, "len %zu", i); /* no address yet */
	}
	/* attribute length below its header, and past the message */
	uint8_t c[256];
	memcpy(c, buf, n);
	size_t a0 = sizeof(struct nlmsghdr) + NLMSG_ALIGN(sizeof(struct ifaddrmsg));
	c[a0] = 2;
	c[a0 + 1] = 0;
	cr_assert_eq(roam_nl_parse_event(c, n, &ev), -EBADMSG);
	c[a0] = 200;
	cr_assert_eq(roam_nl_parse_event(c, n, &ev), -EBADMSG);
	/* wrong address size; bad prefix length */
	memcpy(c, buf, n);
	c[a0] = RTA_LENGTH(3);
	cr_assert_eq(roam_nl_parse_event(c, n, &ev), -EBADMSG);
	memcpy(c, buf, n);
	c[sizeof(struct nlmsghdr) + 1] = 33;
	cr_assert_eq(roam_nl_parse_event(c, n, &ev), -EBADMSG);
	/* other message types are not events */
	memcpy(c, buf, n);
	uint16_t ty = RTM_NEWROUTE;
	memcpy(c + 4, &ty, 2);
	cr_assert_eq(roam_nl_parse_event(c, n, &ev), -ENOENT);
}
