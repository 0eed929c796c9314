/* roam/tunnel.h: the encapsulation helper and the closed-endpoint behaviour (the kernel side is
 * exercised end to end by tests/e2e/had-dataplane.sh and tests/e2e/fad-dataplane.sh). */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "roam/ip.h"
#include "roam/tunnel.h"

static size_t inner_udp(uint8_t *buf, size_t n, uint8_t ttl)
{
	struct roam_ip_udp u;
	struct wbuf w;
	memset(&u, 0, sizeof(u));
	roam_ipaddr_parse("192.0.2.99", &u.src);
	roam_ipaddr_parse("192.0.2.10", &u.dst);
	u.sport = 1;
	u.dport = 2;
	u.ttl = ttl;
	u.tos = 0x10;
	u.df = 1;
	wbuf_init_fixed(&w, buf, n);
	cr_assert_eq(roam_ip_udp_build(&w, &u, "hello", 5), 0);
	return w.len;
}

static struct roam_ipip params(int forwarding)
{
	struct roam_ipip p;
	memset(&p, 0, sizeof(p));
	roam_ipaddr_parse("198.51.100.1", &p.src);
	roam_ipaddr_parse("203.0.113.7", &p.dst);
	p.ttl = 50;
	p.id = 77;
	p.forwarding = forwarding;
	return p;
}

Test(tunnel, encap_roundtrip)
{
	uint8_t in[128], out[256];
	size_t n = inner_udp(in, sizeof(in), 9), olen = 0;
	struct roam_ipip p = params(1);
	cr_assert_eq(roam_tunnel_encap(out, sizeof(out), &p, in, n, &olen), 0);
	cr_assert_eq(olen, n + 20);
	struct roam_ip4_hdr o;
	struct rbuf r;
	cr_assert_eq(roam_ipip_decap(out, olen, &o, &r), 0);
	cr_assert_eq(o.ttl, 50);
	cr_assert_eq(o.id, 77);
	cr_assert_eq(o.tos, 0x10, "TOS copied");
	cr_assert(o.frag & ROAM_IP4_DF, "DF copied");
	cr_assert_eq(o.src.s_addr, p.src.v4.s_addr);
	cr_assert_eq(o.dst.s_addr, p.dst.v4.s_addr);
	cr_assert_eq(rbuf_left(&r), n);
	cr_assert_eq(r.p[8], 8, "inner TTL decremented when forwarding");
}

Test(tunnel, encap_errors)
{
	uint8_t in[128], out[256];
	size_t n = inner_udp(in, sizeof(in), 9), olen = 0;
	struct roam_ipip p = params(0);
	cr_assert_eq(roam_tunnel_encap(out, n + 19, &p, in, n, &olen), -EMSGSIZE);
	cr_assert_eq(roam_tunnel_encap(out, sizeof(out), &p, in, 10, &olen), -EBADMSG);
	cr_assert_eq(roam_tunnel_encap(NULL, sizeof(out), &p, in, n, &olen), -EINVAL);
	n = inner_udp(in, sizeof(in), 1);
	p.forwarding = 1;
	cr_assert_eq(roam_tunnel_encap(out, sizeof(out), &p, in, n, &olen), -ETIMEDOUT);
}

Test(tunnel, closed_endpoint)
{
	struct roam_tunnel t;
	memset(&t, 0, sizeof(t));
	uint8_t pkt[20] = { 0x45 };
	struct roam_ipaddr a;
	roam_ipaddr_parse("192.0.2.10", &a);
	cr_assert_eq(roam_tunnel_xmit(&t, pkt, sizeof(pkt)), -ENOTCONN);
	cr_assert_eq(roam_tunnel_deliver(&t, pkt, sizeof(pkt)), -ENOTCONN);
	cr_assert_eq(roam_tunnel_route(&t, &a, 0, 0, 1), -ENOTCONN);
	roam_tunnel_retry_later(&t, 1); /* no timer: nothing */
	roam_tunnel_close(&t);
	roam_tunnel_close(&t);
	cr_assert_eq(roam_tunnel_open(&t, NULL, NULL), -EINVAL);
}
