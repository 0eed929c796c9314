/* Unit tests: roam/raw.h over loopback in a private network namespace per test. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "netns.h"
#include "roam/ip.h"
#include "roam/raw.h"

#define MAXPKT 16

struct rx {
	int count, want, done;
	uint8_t data[MAXPKT][256];
	size_t len[MAXPKT], l3[MAXPKT];
	struct roam_ipaddr src[MAXPKT], dst[MAXPKT];
	int ifindex[MAXPKT], hoplimit[MAXPKT];
};

static void on_rx(struct roam_raw *r, const struct roam_raw_pkt *p, void *arg)
{
	struct rx *rx = arg;
	(void)r;
	if (rx->count < MAXPKT) {
		int i = rx->count;
		rx->len[i] = p->len;
		memcpy(rx->data[i], p->data, p->len < 256 ? p->len : 256);
		rx->l3[i] = p->l3_hdrlen;
		rx->src[i] = p->src;
		rx->dst[i] = p->dst;
		rx->ifindex[i] = p->ifindex;
		rx->hoplimit[i] = p->hoplimit;
	}
	if (++rx->count >= rx->want)
		rx->done = 1;
}

static struct roam_raw *open_raw(uv_loop_t *loop, int family, int proto, int hdrincl,
				 struct rx *rx, size_t bufsize)
{
	struct roam_raw_opts o;
	memset(&o, 0, sizeof(o));
	o.family = family;
	o.protocol = proto;
	o.hdrincl = hdrincl;
	o.bufsize = bufsize;
	struct roam_raw *r;
	int rc = roam_raw_open(loop, &o, rx ? on_rx : NULL, rx, &r);
	cr_assert_eq(rc, 0, "raw open: %s", strerror(-rc));
	return r;
}

static struct roam_ipaddr A(const char *s)
{
	struct roam_ipaddr a;
	cr_assert_eq(roam_ipaddr_parse(s, &a), 0);
	return a;
}

/* An inner IPv4/UDP datagram to tunnel. */
static size_t inner4(uint8_t *buf, size_t cap)
{
	struct roam_ip_udp u = {.src = A("192.0.2.10"), .dst = A("198.51.100.20"), .sport = 1,
				.dport = 2};
	struct wbuf w;
	wbuf_init_fixed(&w, buf, cap);
	cr_assert_eq(roam_ip_udp_build(&w, &u, "inner", 5), 0);
	return w.len;
}

Test(raw, ipip_v4_loopback_hdrincl_and_plain)
{
	netns_enter();
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct rx rr = {.want = 2};
	struct roam_raw *r = open_raw(&loop, AF_INET, IPPROTO_IPIP, 0, &rr, 0);
	struct roam_raw *hs = open_raw(&loop, AF_INET, IPPROTO_RAW, 0, NULL, 0);
	struct roam_raw *ps = open_raw(&loop, AF_INET, IPPROTO_IPIP, 0, NULL, 0);

	uint8_t in[128], pkt[256];
	size_t n = inner4(in, sizeof(in));
	struct roam_ipip t = {.src = A("127.0.0.1"), .dst = A("127.0.0.1"), .id = 99};
	struct wbuf w;
	wbuf_init_fixed(&w, pkt, sizeof(pkt));
	cr_assert_eq(roam_ipip_encap(&w, &t, in, n), 0);
	/* full header supplied (IPPROTO_RAW implies IP_HDRINCL); destination from the header */
	cr_assert_eq(roam_raw_send(hs, NULL, pkt, w.len), 0);
	/* payload only: the kernel builds the header */
	struct roam_ipaddr lo = A("127.0.0.1");
	cr_assert_eq(roam_raw_send(ps, &lo, in, n), 0);
	cr_assert(netns_run_until(&loop, &rr.done, 5000), "got %d", rr.count);
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(rr.l3[i], 20);
		cr_assert_eq(rr.len[i], 20 + n);
		cr_assert(roam_ipaddr_eq(&rr.src[i], &lo));
		cr_assert(roam_ipaddr_eq(&rr.dst[i], &lo));
		cr_assert_eq(rr.ifindex[i], 1);
		cr_assert_eq(rr.hoplimit[i], 64);
		struct roam_ip4_hdr oh;
		struct rbuf inner;
		cr_assert_eq(roam_ipip_decap(rr.data[i], rr.len[i], &oh, &inner), 0);
		cr_assert_eq(rbuf_left(&inner), n);
		cr_assert(memcmp(inner.p, in, n) == 0);
	}
	cr_assert_eq(rr.data[0][4], 0);  /* our id 99 in the first */
	cr_assert_eq(rr.data[0][5], 99);
	cr_assert_eq(roam_raw_stats(r)->rx_packets, 2);
	cr_assert_eq(roam_raw_stats(hs)->tx_packets, 1);
	/* HDRINCL sockets cannot pick a source by pktinfo */
	cr_assert_eq(roam_raw_send_from(hs, NULL, &lo, 0, pkt, w.len), -EINVAL);
	cr_assert_eq(roam_raw_stats(hs)->tx_errors, 1);
	roam_raw_close(r, NULL);
	roam_raw_close(r, NULL);
	roam_raw_close(hs, NULL);
	roam_raw_close(ps, NULL);
	netns_drain(&loop);
}

Test(raw, ip6ip6_loopback_ancillary)
{
	netns_enter();
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct rx rr = {.want = 1};
	struct roam_raw *r = open_raw(&loop, AF_INET6, IPPROTO_IPV6, 0, &rr, 0);
	struct roam_raw *s = open_raw(&loop, AF_INET6, IPPROTO_IPV6, 0, NULL, 0);
	struct roam_ip_udp u = {.src = A("2001:db8::10"), .dst = A("2001:db8::20"), .sport = 1,
				.dport = 2};
	uint8_t in[128];
	struct wbuf w;
	wbuf_init_fixed(&w, in, sizeof(in));
	cr_assert_eq(roam_ip_udp_build(&w, &u, "inner6", 6), 0);
	struct roam_ipaddr lo = A("::1");
	cr_assert_eq(roam_raw_set_hoplimit(s, 33), 0);
	cr_assert_eq(roam_raw_send_from(s, &lo, &lo, 1, in, w.len), 0);
	cr_assert(netns_run_until(&loop, &rr.done, 5000));
	cr_assert_eq(rr.l3[0], 0); /* kernel stripped the outer IPv6 header */
	cr_assert_eq(rr.len[0], w.len);
	cr_assert(memcmp(rr.data[0], in, w.len) == 0);
	cr_assert(roam_ipaddr_eq(&rr.src[0], &lo));
	cr_assert(roam_ipaddr_eq(&rr.dst[0], &lo));
	cr_assert_eq(rr.ifindex[0], 1);
	cr_assert_eq(rr.hoplimit[0], 33);
	roam_raw_close(r, NULL);
	roam_raw_close(s, NULL);
	netns_drain(&loop);
}

Test(raw, mobility_header_kernel_checksum)
{
	netns_enter();
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct rx rr = {.want = 1};
	struct roam_raw *r = open_raw(&loop, AF_INET6, 135, 0, &rr, 0);
	struct roam_raw *s = open_raw(&loop, AF_INET6, 135, 0, NULL, 0);
	cr_assert_eq(roam_raw_set_checksum_offset(s, 4), 0);
	cr_assert_eq(roam_raw_set_checksum_offset(r, 4), 0);
	cr_assert_eq(roam_raw_set_checksum_offset(r, 3), -EINVAL);
	/* a Binding Refresh Request shaped MH: payload proto 59, len 0 (8 bytes), type 0 */
	uint8_t mh[8] = {59, 0, 0, 0, 0, 0, 0, 0};
	struct roam_ipaddr lo = A("::1");
	cr_assert_eq(roam_raw_send(s, &lo, mh, sizeof(mh)), 0);
	cr_assert(netns_run_until(&loop, &rr.done, 5000));
	cr_assert_eq(rr.len[0], 8);
	/* the kernel filled the checksum over the pseudo-header; ours agrees */
	cr_assert_eq(roam_l4_cksum(&lo, &lo, 135, rr.data[0], 8), 0);
	cr_assert_neq(rr.data[0][4] | rr.data[0][5], 0);
	roam_raw_close(r, NULL);
	roam_raw_close(s, NULL);
	netns_drain(&loop);
}

Test(raw, icmp_filters)
{
	netns_enter();
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct rx r4 = {.want = 1}, r6 = {.want = 1};
	struct roam_raw *i4 = open_raw(&loop, AF_INET, IPPROTO_ICMP, 0, &r4, 0);
	struct roam_raw *i6 = open_raw(&loop, AF_INET6, IPPROTO_ICMPV6, 0, &r6, 0);
	const uint8_t pass4[] = {9, 10};   /* router advertisement, solicitation (RFC 1256) */
	const uint8_t pass6[] = {133, 134}; /* RS, RA (RFC 4861) */
	cr_assert_eq(roam_raw_icmp_filter(i4, pass4, sizeof(pass4)), 0);
	cr_assert_eq(roam_raw_icmp6_filter(i6, pass6, sizeof(pass6)), 0);
	cr_assert_eq(roam_raw_icmp_filter(i6, pass4, 1), -EINVAL);
	cr_assert_eq(roam_raw_icmp6_filter(i4, pass6, 1), -EINVAL);
	const uint8_t bad[] = {32};
	cr_assert_eq(roam_raw_icmp_filter(i4, bad, 1), -EINVAL);
	cr_assert_eq(roam_raw_set_hoplimit(i6, 255), 0);
	cr_assert_eq(roam_raw_set_hoplimit(i6, 256), -EINVAL);

	struct roam_ipaddr lo4 = A("127.0.0.1"), lo6 = A("::1");
	/* echo requests (filtered out, and so are the kernel's echo replies), then adverts */
	uint8_t echo[8] = {8, 0, 0, 0, 0, 1, 0, 1};
	uint16_t c = roam_icmp4_cksum(echo, 8);
	echo[2] = (uint8_t)(c >> 8);
	echo[3] = (uint8_t)c;
	cr_assert_eq(roam_raw_send(i4, &lo4, echo, 8), 0);
	uint8_t ra4[8] = {9, 0, 0, 0, 0, 0, 0, 30};
	c = roam_icmp4_cksum(ra4, 8);
	ra4[2] = (uint8_t)(c >> 8);
	ra4[3] = (uint8_t)c;
	cr_assert_eq(roam_raw_send(i4, &lo4, ra4, 8), 0);
	uint8_t echo6[8] = {128, 0, 0, 0, 0, 1, 0, 1};
	cr_assert_eq(roam_raw_send(i6, &lo6, echo6, 8), 0);
	uint8_t ra6[16] = {134, 0, 0, 0, 64, 0, 0, 30};
	cr_assert_eq(roam_raw_send(i6, &lo6, ra6, 16), 0);
	int both = 0;
	for (int k = 0; k < 50 && !(r4.done && r6.done); k++)
		netns_run_until(&loop, &both, 50);
	cr_assert_eq(r4.count, 1);
	cr_assert_eq(r6.count, 1);
	cr_assert_eq(r4.data[0][r4.l3[0]], 9);
	cr_assert_eq(r6.data[0][0], 134);
	cr_assert_eq(r6.hoplimit[0], 255);
	/* the kernel computed the ICMPv6 checksum */
	cr_assert_eq(roam_l4_cksum(&lo6, &lo6, IPPROTO_ICMPV6, r6.data[0], 16), 0);
	roam_raw_close(i4, NULL);
	roam_raw_close(i6, NULL);
	netns_drain(&loop);
}

Test(raw, truncated_and_options)
{
	netns_enter();
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct rx rr = {.want = 1};
	struct roam_raw *r = open_raw(&loop, AF_INET6, 253, 0, &rr, 64);
	struct roam_raw *s = open_raw(&loop, AF_INET6, 253, 0, NULL, 0);
	struct roam_ipaddr lo = A("::1");
	uint8_t big[200] = {0};
	cr_assert_eq(roam_raw_send(s, &lo, big, sizeof(big)), 0);
	cr_assert_eq(roam_raw_send(s, &lo, big, 10), 0);
	cr_assert(netns_run_until(&loop, &rr.done, 5000));
	cr_assert_eq(rr.len[0], 10);
	cr_assert_eq(roam_raw_stats(r)->rx_truncated, 1);
	/* wrong family destination */
	struct roam_ipaddr v4 = A("127.0.0.1");
	cr_assert_eq(roam_raw_send(s, &v4, big, 10), -EINVAL);
	roam_raw_close(r, NULL);
	roam_raw_close(s, NULL);

	struct roam_raw_opts o;
	struct roam_raw *x;
	memset(&o, 0, sizeof(o));
	o.family = AF_INET6;
	o.protocol = 4;
	o.hdrincl = 1;
	cr_assert_eq(roam_raw_open(&loop, &o, NULL, NULL, &x), -EINVAL);
	o.family = AF_INET;
	o.protocol = 0;
	cr_assert_eq(roam_raw_open(&loop, &o, NULL, NULL, &x), -EINVAL);
	o.protocol = 4;
	o.device = "nosuch0";
	cr_assert_eq(roam_raw_open(&loop, &o, NULL, NULL, &x), -ENODEV);
	netns_drain(&loop);
}
