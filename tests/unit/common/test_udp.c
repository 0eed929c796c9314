/* Unit tests: roam/udp.h, over loopback (and a TUN device for multicast) in a private
 * network namespace per test. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "netns.h"
#include "roam/tun.h"
#include "roam/udp.h"

#define MAXPKT 64

struct rx {
	int count;
	int want;
	int done;
	size_t len[MAXPKT];
	uint8_t first[MAXPKT];
	struct roam_sockaddr src[MAXPKT];
	struct roam_ipaddr dst[MAXPKT];
	int ifindex[MAXPKT];
	int closed;
};

static void on_rx(struct roam_udp *u, const struct roam_udp_pkt *p, void *arg)
{
	struct rx *rx = arg;
	(void)u;
	if (rx->count < MAXPKT) {
		rx->len[rx->count] = p->len;
		rx->first[rx->count] = p->len ? p->data[0] : 0;
		rx->src[rx->count] = p->src;
		rx->dst[rx->count] = p->dst;
		rx->ifindex[rx->count] = p->ifindex;
	}
	rx->count++;
	if (rx->count >= rx->want)
		rx->done = 1;
}

static void on_close(struct roam_udp *u, void *arg)
{
	struct rx *rx = arg;
	(void)u;
	rx->closed++;
}

static struct roam_udp *open_ep(uv_loop_t *loop, const char *bind, struct rx *rx, unsigned batch,
				size_t bufsize, int dualstack)
{
	struct roam_udp_opts o;
	memset(&o, 0, sizeof(o));
	cr_assert_eq(roam_sockaddr_parse(bind, 0, &o.bind), 0);
	o.batch = batch;
	o.bufsize = bufsize;
	o.dualstack = dualstack;
	struct roam_udp *u;
	int rc = roam_udp_open(loop, &o, on_rx, rx, &u);
	cr_assert_eq(rc, 0, "open %s: %s", bind, strerror(-rc));
	return u;
}

static struct roam_sockaddr local_of(struct roam_udp *u, const char *addr)
{
	struct roam_sockaddr sa, out;
	struct roam_ipaddr a;
	cr_assert_eq(roam_udp_local(u, &sa), 0);
	cr_assert_eq(roam_ipaddr_parse(addr, &a), 0);
	roam_sockaddr_set(&out, &a, roam_sockaddr_port(&sa));
	return out;
}

Test(udp, loopback_batched_receive)
{
	netns_enter();
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct rx rr = {.want = 20}, rs = {.want = 1000};
	struct roam_udp *r = open_ep(&loop, "127.0.0.1:0", &rr, 8, 0, 0);
	struct roam_udp *s = open_ep(&loop, "127.0.0.1:0", &rs, 0, 0, 0);
	struct roam_sockaddr to = local_of(r, "127.0.0.1");
	cr_assert_neq(roam_sockaddr_port(&to), 0);
	for (int i = 0; i < 20; i++) {
		uint8_t d[100];
		memset(d, i, sizeof(d));
		cr_assert_eq(roam_udp_send(s, &to, d, (size_t)(10 + i)), 0);
	}
	/* all 20 queued datagrams are drained in one wakeup (batches of 8, several rounds) */
	uv_run(&loop, UV_RUN_ONCE);
	cr_assert_eq(rr.count, 20);
	struct roam_sockaddr from = local_of(s, "127.0.0.1");
	for (int i = 0; i < 20; i++) {
		cr_assert_eq(rr.len[i], (size_t)(10 + i));
		cr_assert_eq(rr.first[i], i);
		cr_assert(roam_sockaddr_eq(&rr.src[i], &from));
		char b[ROAM_ADDRSTRLEN];
		cr_assert_str_eq(roam_ipaddr_fmt(&rr.dst[i], b, sizeof(b)), "127.0.0.1");
		cr_assert_eq(rr.ifindex[i], 1);
	}
	const struct roam_udp_stats *st = roam_udp_stats(r);
	cr_assert_eq(st->rx_packets, 20);
	cr_assert_eq(st->rx_bytes, 20 * 10 + 190);
	cr_assert_eq(roam_udp_stats(s)->tx_packets, 20);
	cr_assert_eq(roam_udp_stats(s)->tx_errors, 0);

	roam_udp_close(r, on_close);
	roam_udp_close(r, on_close); /* second close: no-op */
	roam_udp_close(s, NULL);
	netns_drain(&loop);
	cr_assert_eq(rr.closed, 1);
}

Test(udp, truncated_datagrams_dropped)
{
	netns_enter();
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct rx rr = {.want = 2}, rs = {.want = 1000};
	struct roam_udp *r = open_ep(&loop, "127.0.0.1:0", &rr, 4, 64, 0);
	struct roam_udp *s = open_ep(&loop, "127.0.0.1:0", &rs, 0, 0, 0);
	struct roam_sockaddr to = local_of(r, "127.0.0.1");
	uint8_t d[200];
	memset(d, 0x5a, sizeof(d));
	cr_assert_eq(roam_udp_send(s, &to, d, 65), 0);  /* one byte too many */
	cr_assert_eq(roam_udp_send(s, &to, d, 64), 0);  /* fits exactly */
	cr_assert_eq(roam_udp_send(s, &to, d, 200), 0);
	cr_assert_eq(roam_udp_send(s, &to, d, 0), 0);   /* empty datagram */
	cr_assert(netns_run_until(&loop, &rr.done, 5000));
	cr_assert_eq(rr.count, 2);
	cr_assert_eq(rr.len[0], 64);
	cr_assert_eq(rr.len[1], 0);
	cr_assert_eq(roam_udp_stats(r)->rx_truncated, 2);
	cr_assert_eq(roam_udp_stats(r)->rx_packets, 2);
	roam_udp_close(r, NULL);
	roam_udp_close(s, NULL);
	netns_drain(&loop);
}

Test(udp, dualstack_v4_peers_unmapped)
{
	netns_enter();
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct rx rr = {.want = 2}, r4 = {.want = 1}, r6 = {.want = 1};
	struct roam_udp *ds = open_ep(&loop, "[::]:0", &rr, 0, 0, 1);
	struct roam_udp *s4 = open_ep(&loop, "127.0.0.1:0", &r4, 0, 0, 0);
	struct roam_udp *s6 = open_ep(&loop, "[::1]:0", &r6, 0, 0, 0);
	struct roam_sockaddr to4 = local_of(ds, "127.0.0.1"), to6 = local_of(ds, "::1");
	cr_assert_eq(roam_udp_send(s4, &to4, "four", 4), 0);
	cr_assert_eq(roam_udp_send(s6, &to6, "six", 3), 0);
	cr_assert(netns_run_until(&loop, &rr.done, 5000));
	int i4 = rr.len[0] == 4 ? 0 : 1, i6 = 1 - i4;
	char b[ROAM_ADDRSTRLEN];
	cr_assert_eq(roam_sockaddr_family(&rr.src[i4]), AF_INET);
	struct roam_sockaddr from4 = local_of(s4, "127.0.0.1");
	cr_assert(roam_sockaddr_eq(&rr.src[i4], &from4), "src %s",
		  roam_sockaddr_fmt(&rr.src[i4], b, sizeof(b)));
	cr_assert_eq(rr.dst[i4].family, AF_INET, "dst %s", roam_ipaddr_fmt(&rr.dst[i4], b, sizeof(b)));
	cr_assert_str_eq(roam_ipaddr_fmt(&rr.dst[i4], b, sizeof(b)), "127.0.0.1");
	cr_assert_eq(roam_sockaddr_family(&rr.src[i6]), AF_INET6);
	cr_assert_str_eq(roam_ipaddr_fmt(&rr.dst[i6], b, sizeof(b)), "::1");

	/* replies to an AF_INET peer go out of the dual-stack socket */
	cr_assert_eq(roam_udp_send(ds, &rr.src[i4], "back", 4), 0);
	cr_assert(netns_run_until(&loop, &r4.done, 5000));
	cr_assert_eq(r4.len[0], 4);
	/* an AF_INET destination on a v6-only socket is refused */
	cr_assert_eq(roam_udp_send(s6, &to4, "x", 1), -EAFNOSUPPORT);
	cr_assert_eq(roam_udp_stats(s6)->tx_errors, 1);
	roam_udp_close(ds, NULL);
	roam_udp_close(s4, NULL);
	roam_udp_close(s6, NULL);
	netns_drain(&loop);
}

Test(udp, send_from_explicit_source)
{
	netns_enter();
	struct roam_nl *nl;
	struct roam_prefix p6;
	cr_assert_eq(roam_nl_open(0, &nl), 0);
	cr_assert_eq(roam_prefix_parse("2001:db8::77/128", &p6), 0);
	cr_assert_eq(roam_nl_addr_add(nl, 1, &p6, ROAM_NL_ADDR_NODAD), 0);
	roam_nl_close(nl);

	uv_loop_t loop;
	uv_loop_init(&loop);
	struct rx rr = {.want = 1}, rs = {.want = 1000}, r6 = {.want = 1}, s6x = {.want = 1000};
	struct roam_udp *r = open_ep(&loop, "0.0.0.0:0", &rr, 0, 0, 0);
	struct roam_udp *s = open_ep(&loop, "0.0.0.0:0", &rs, 0, 0, 0);
	struct roam_sockaddr to = local_of(r, "127.0.0.1");
	struct roam_ipaddr src;
	roam_ipaddr_parse("127.0.0.5", &src);
	cr_assert_eq(roam_udp_send_from(s, &to, &src, 0, "hi", 2), 0);
	cr_assert(netns_run_until(&loop, &rr.done, 5000));
	char b[ROAM_ADDRSTRLEN];
	struct roam_ipaddr got;
	roam_sockaddr_addr(&rr.src[0], &got, NULL);
	cr_assert_str_eq(roam_ipaddr_fmt(&got, b, sizeof(b)), "127.0.0.5");
	/* a source that is not ours is refused */
	roam_ipaddr_parse("192.0.2.99", &src);
	cr_assert_lt(roam_udp_send_from(s, &to, &src, 0, "hi", 2), 0);
	/* family mismatch */
	roam_ipaddr_parse("::1", &src);
	cr_assert_eq(roam_udp_send_from(s, &to, &src, 0, "hi", 2), -EINVAL);

	struct roam_udp *q = open_ep(&loop, "[::]:0", &r6, 0, 0, 0);
	struct roam_udp *t = open_ep(&loop, "[::]:0", &s6x, 0, 0, 0);
	struct roam_sockaddr to6 = local_of(q, "::1");
	roam_ipaddr_parse("2001:db8::77", &src);
	cr_assert_eq(roam_udp_send_from(t, &to6, &src, 1, "hi6", 3), 0);
	cr_assert(netns_run_until(&loop, &r6.done, 5000));
	roam_sockaddr_addr(&r6.src[0], &got, NULL);
	cr_assert_str_eq(roam_ipaddr_fmt(&got, b, sizeof(b)), "2001:db8::77");
	roam_udp_close(r, NULL);
	roam_udp_close(s, NULL);
	roam_udp_close(q, NULL);
	roam_udp_close(t, NULL);
	netns_drain(&loop);
}

Test(udp, bind_options_and_errors)
{
	netns_enter();
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct rx rx = {.want = 1};
	struct roam_udp_opts o;
	struct roam_udp *a, *b;
	memset(&o, 0, sizeof(o));
	roam_sockaddr_parse("127.0.0.1:0", 0, &o.bind);
	cr_assert_eq(roam_udp_open(&loop, &o, on_rx, &rx, &a), 0);
	roam_udp_local(a, &o.bind);
	cr_assert_eq(roam_udp_open(&loop, &o, on_rx, &rx, &b), -EADDRINUSE);
	cr_assert_null(b);
	roam_udp_close(a, NULL);

	roam_sockaddr_parse("127.0.0.1:0", 0, &o.bind);
	o.reuseport = 1;
	cr_assert_eq(roam_udp_open(&loop, &o, on_rx, &rx, &a), 0);
	roam_udp_local(a, &o.bind);
	cr_assert_eq(roam_udp_open(&loop, &o, on_rx, &rx, &b), 0);
	roam_udp_close(a, NULL);
	roam_udp_close(b, NULL);

	memset(&o, 0, sizeof(o));
	roam_sockaddr_parse("0.0.0.0:0", 0, &o.bind);
	o.device = "lo";
	o.rcvbuf = 1 << 18;
	cr_assert_eq(roam_udp_open(&loop, &o, on_rx, &rx, &a), 0);
	int v = 0;
	socklen_t vl = sizeof(v);
	getsockopt(roam_udp_fd(a), SOL_SOCKET, SO_RCVBUF, &v, &vl);
	cr_assert_geq(v, 1 << 18);
	roam_udp_close(a, NULL);
	o.device = "nosuchdev0";
	cr_assert_eq(roam_udp_open(&loop, &o, on_rx, &rx, &a), -ENODEV);
	o.device = NULL;
	o.dualstack = 1; /* not for AF_INET */
	cr_assert_eq(roam_udp_open(&loop, &o, on_rx, &rx, &a), -EINVAL);
	o.dualstack = 0;
	o.batch = ROAM_UDP_BATCH_MAX + 1;
	cr_assert_eq(roam_udp_open(&loop, &o, on_rx, &rx, &a), -EINVAL);
	memset(&o, 0, sizeof(o));
	cr_assert_eq(roam_udp_open(&loop, &o, on_rx, &rx, &a), -EINVAL); /* no bind address */
	netns_drain(&loop);
}

struct closer {
	struct roam_udp *u;
	int got, closed;
};

static void on_rx_close(struct roam_udp *u, const struct roam_udp_pkt *p, void *arg)
{
	struct closer *c = arg;
	(void)p;
	c->got++;
	roam_udp_close(u, NULL); /* closing from inside the callback stops delivery at once */
	roam_udp_close(u, NULL);
}

Test(udp, close_inside_callback)
{
	netns_enter();
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct closer c = {0};
	struct rx rs = {.want = 1000};
	struct roam_udp_opts o;
	memset(&o, 0, sizeof(o));
	roam_sockaddr_parse("127.0.0.1:0", 0, &o.bind);
	cr_assert_eq(roam_udp_open(&loop, &o, on_rx_close, &c, &c.u), 0);
	struct roam_udp *s = open_ep(&loop, "127.0.0.1:0", &rs, 0, 0, 0);
	struct roam_sockaddr to = local_of(c.u, "127.0.0.1");
	for (int i = 0; i < 5; i++)
		roam_udp_send(s, &to, "x", 1);
	uv_run(&loop, UV_RUN_ONCE);
	cr_assert_eq(c.got, 1);
	roam_udp_close(s, NULL);
	netns_drain(&loop);
}

Test(udp, recv_stop_pauses_recv_start_resumes)
{
	netns_enter();
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct rx rr = {.want = 3}, rs = {.want = 1000};
	struct roam_udp *r = open_ep(&loop, "127.0.0.1:0", &rr, 0, 0, 0);
	struct roam_udp *s = open_ep(&loop, "127.0.0.1:0", &rs, 0, 0, 0);
	struct roam_sockaddr to = local_of(r, "127.0.0.1");
	cr_assert_eq(roam_udp_recv_stop(r), 0);
	cr_assert_eq(roam_udp_recv_stop(r), 0); /* already stopped: no-op */
	for (int i = 0; i < 3; i++)
		cr_assert_eq(roam_udp_send(s, &to, "abc", 3), 0);
	uv_run(&loop, UV_RUN_NOWAIT);
	cr_assert_eq(rr.count, 0, "delivered while stopped");
	cr_assert_eq(roam_udp_recv_start(r), 0);
	cr_assert_eq(roam_udp_recv_start(r), 0); /* already started: no-op */
	cr_assert(netns_run_until(&loop, &rr.done, 5000));
	cr_assert_eq(rr.count, 3); /* what queued up meanwhile */
	cr_assert_eq(roam_udp_stats(r)->rx_packets, 3);
	roam_udp_close(r, on_close);
	/* closing (until the close callback): neither pauses nor resumes */
	cr_assert_eq(roam_udp_recv_start(r), -EBADF);
	cr_assert_eq(roam_udp_recv_stop(r), -EBADF);
	roam_udp_close(s, NULL);
	netns_drain(&loop);
	cr_assert_eq(rr.closed, 1);
}

static void on_tun_rx(struct roam_tun *t, const uint8_t *p, size_t n, void *arg)
{
	(void)t, (void)p, (void)n, (void)arg;
}

Test(udp, multicast_join_loop_v4_v6)
{
	netns_enter();
	uv_loop_t loop;
	uv_loop_init(&loop);
	/* lo cannot multicast: use a TUN device (IFF_MULTICAST) with looped-back sends */
	struct roam_tun_opts to = {.name = "mct0"};
	struct roam_tun *tun;
	cr_assert_eq(roam_tun_open(&loop, &to, on_tun_rx, NULL, &tun), 0);
	struct roam_nl *nl;
	struct roam_prefix p4, p6;
	cr_assert_eq(roam_nl_open(0, &nl), 0);
	cr_assert_eq(roam_nl_link_set_up(nl, roam_tun_ifindex(tun), 1), 0);
	roam_prefix_parse("192.0.2.1/24", &p4);
	roam_prefix_parse("2001:db8::1/64", &p6);
	cr_assert_eq(roam_nl_addr_add(nl, roam_tun_ifindex(tun), &p4, 0), 0);
	cr_assert_eq(roam_nl_addr_add(nl, roam_tun_ifindex(tun), &p6, ROAM_NL_ADDR_NODAD), 0);
	roam_nl_close(nl);

	struct rx rr = {.want = 2}, rs = {.want = 1000};
	struct roam_udp *r = open_ep(&loop, "[::]:4340", &rr, 0, 0, 1);
	struct roam_udp *s = open_ep(&loop, "[::]:0", &rs, 0, 0, 1);
	struct roam_ipaddr g4, g6, notmc;
	roam_ipaddr_parse("239.1.2.3", &g4);
	roam_ipaddr_parse("ff15::1234", &g6);
	roam_ipaddr_parse("192.0.2.1", &notmc);
	cr_assert_eq(roam_udp_mcast_join(r, &g4, "mct0"), 0);
	cr_assert_eq(roam_udp_mcast_join(r, &g6, "mct0"), 0);
	cr_assert_eq(roam_udp_mcast_join(r, &notmc, "mct0"), -EINVAL);
	cr_assert_eq(roam_udp_mcast_join(r, &g4, "nosuch0"), -ENODEV);
	cr_assert_eq(roam_udp_mcast_if(s, "mct0"), 0);
	cr_assert_eq(roam_udp_mcast_loop(s, 1), 0);
	cr_assert_eq(roam_udp_mcast_ttl(s, 1), 0);
	cr_assert_eq(roam_udp_mcast_ttl(s, 256), -EINVAL);
	struct roam_sockaddr d4, d6;
	roam_sockaddr_set(&d4, &g4, 4340);
	roam_sockaddr_set(&d6, &g6, 4340);
	cr_assert_eq(roam_udp_send(s, &d4, "USER_MOVED4", 11), 0);
	cr_assert_eq(roam_udp_send(s, &d6, "USER_MOVED6", 11), 0);
	cr_assert(netns_run_until(&loop, &rr.done, 5000), "got %d", rr.count);
	int seen4 = 0, seen6 = 0;
	for (int i = 0; i < 2; i++) {
		if (roam_ipaddr_eq(&rr.dst[i], &g4))
			seen4++;
		if (roam_ipaddr_eq(&rr.dst[i], &g6))
			seen6++;
		cr_assert_eq(rr.ifindex[i], roam_tun_ifindex(tun));
	}
	cr_assert_eq(seen4, 1);
	cr_assert_eq(seen6, 1);

	/* after leaving, nothing more arrives */
	cr_assert_eq(roam_udp_mcast_leave(r, &g4, "mct0"), 0);
	cr_assert_eq(roam_udp_mcast_leave(r, &g6, "mct0"), 0);
	rr.done = 0;
	rr.want = 3;
	roam_udp_send(s, &d4, "late", 4);
	roam_udp_send(s, &d6, "late", 4);
	cr_assert_not(netns_run_until(&loop, &rr.done, 300));
	cr_assert_eq(rr.count, 2);
	roam_udp_close(r, NULL);
	roam_udp_close(s, NULL);
	roam_tun_close(tun, NULL);
	netns_drain(&loop);
}

Test(udp, recv_stop_start)
{
	netns_enter();
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct rx rr = {.want = 1}, rs = {.want = 1000};
	struct roam_udp *r = open_ep(&loop, "127.0.0.1:0", &rr, 0, 0, 0);
	struct roam_udp *s = open_ep(&loop, "127.0.0.1:0", &rs, 0, 0, 0);
	struct roam_sockaddr to = local_of(r, "127.0.0.1");
	cr_assert_eq(roam_udp_recv_stop(r), 0);
	roam_udp_send(s, &to, "x", 1);
	cr_assert_not(netns_run_until(&loop, &rr.done, 200));
	cr_assert_eq(roam_udp_recv_start(r), 0);
	cr_assert(netns_run_until(&loop, &rr.done, 5000));
	cr_assert_eq(roam_udp_set_ttl(s, 7), 0);
	cr_assert_eq(roam_udp_set_ttl(s, 0), -EINVAL);
	roam_udp_close(r, NULL);
	roam_udp_close(s, NULL);
	netns_drain(&loop);
}
