/* had's data plane (dataplane.c) with fake kernel hooks on a fake clock: the encapsulation
 * decisions (RFC 2003 3.1 outer header, drops), reverse tunnelling checks (RFC 3024 5.3), the
 * route / proxy ARP life cycle of a binding, and the FIFO ordering of the synchronized handoff
 * (seed 002 figures 11-13, docs/protocols/mipv4.md 8.1): data queued for the old care-of
 * address leaves before the deregistration reply, new data goes to the new care-of address. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "had_fixture.h"
#include "roam/ip.h"

#define KEY1 "00112233445566778899aabbccddeeff"

static const char *conf_sync =
	"address: 192.0.2.1\n"
	"snapshot: \"\"\n"
	"max_lifetime: 100s\n"
	"fifo_items: 4\n"
	"dataplane: {enabled: true, ttl: 33}\n"
	"mobiles:\n"
	"  - spi: 1000\n"
	"    key: " KEY1 "\n"
	"    home: [192.0.2.10, 192.0.2.11]\n";

/* One event of the fake kernel / socket, in the order it happened. */
enum ev_kind { EV_DATA, EV_CTRL, EV_DELIVER, EV_ROUTE_ADD, EV_ROUTE_DEL };
struct ev {
	enum ev_kind kind;
	struct roam_ipaddr dst;  /* outer destination (DATA), UDP destination (CTRL), home */
	uint16_t port;
	uint8_t pkt[2048];
	size_t len;
};

static struct had h;
static struct ev evs[64];
static int nev;
static int xmit_result;   /* returned by the fake xmit when non-zero (-EAGAIN: blocked) */
static int install_result;
static uint64_t now0 = 7000000;
static uint64_t ntp0 = 0xE8000000ULL << 32;
static struct roam_key k1;

static struct ev *push_ev(enum ev_kind k)
{
	cr_assert_lt(nev, 64);
	memset(&evs[nev], 0, sizeof(evs[nev]));
	evs[nev].kind = k;
	return &evs[nev++];
}

static int f_xmit(void *arg, const void *pkt, size_t len)
{
	(void)arg;
	if (xmit_result)
		return xmit_result;
	struct ev *e = push_ev(EV_DATA);
	cr_assert_leq(len, sizeof(e->pkt));
	memcpy(e->pkt, pkt, len);
	e->len = len;
	struct in_addr d;
	memcpy(&d, (const uint8_t *)pkt + 16, 4);
	roam_ipaddr_set4(&e->dst, d);
	return 0;
}

static int f_deliver(void *arg, const void *pkt, size_t len)
{
	(void)arg;
	struct ev *e = push_ev(EV_DELIVER);
	memcpy(e->pkt, pkt, len);
	e->len = len;
	return 0;
}

static int f_install(void *arg, const struct roam_ipaddr *home, int add)
{
	(void)arg;
	if (add && install_result)
		return install_result;
	push_ev(add ? EV_ROUTE_ADD : EV_ROUTE_DEL)->dst = *home;
	return 0;
}

static int f_send(void *arg, const struct roam_sockaddr *dst, const void *data, size_t len)
{
	(void)arg;
	struct ev *e = push_ev(EV_CTRL);
	roam_sockaddr_addr(dst, &e->dst, &e->port);
	memcpy(e->pkt, data, len);
	e->len = len;
	return 0;
}

static void setup_text(const char *text)
{
	hx_had_init(&h, text, now0, f_send, false);
	struct had_dp_ops ops = { f_xmit, f_deliver, f_install, NULL };
	had_dp_init_ops(&h, &ops);
	nev = 0;
	xmit_result = 0;
	install_result = 0;
	auth_key_from_hex(&k1, AUTH_ALG_HMAC_MD5, KEY1);
}

static void setup(void)
{
	setup_text(conf_sync);
}

static void teardown(void)
{
	hx_had_fini(&h);
}

/* An IPv4/UDP datagram src -> dst carrying seq (4 bytes). */
static size_t udp_pkt(uint8_t *buf, size_t cap, const char *src, const char *dst, uint32_t seq,
		      uint8_t ttl, uint8_t tos, int df)
{
	uint8_t pl[4] = { (uint8_t)(seq >> 24), (uint8_t)(seq >> 16), (uint8_t)(seq >> 8),
			  (uint8_t)seq };
	struct roam_ip_udp opt = { .ttl = ttl, .tos = tos, .df = df, .id = (uint16_t)seq };
	return fx_udp(buf, cap, src, dst, opt, pl, sizeof(pl));
}

/* The correspondent at 203.0.113.5 sends seq to home. */
static void cn_send(const char *home, uint32_t seq, uint64_t now)
{
	uint8_t b[256];
	size_t n = udp_pkt(b, sizeof(b), "203.0.113.5", home, seq, 63, 0, 0);
	had_dp_from_tun(&h, b, n, now);
}

/* Decapsulates event i (a DATA event): checks the outer header against the configuration and
 * returns the inner UDP sequence number. */
static uint32_t data_seq(int i, const char *coa)
{
	struct roam_ip4_hdr o;
	struct rbuf in;
	cr_assert_eq(evs[i].kind, EV_DATA, "event %d is %d, not data", i, evs[i].kind);
	cr_assert_eq(roam_ipip_decap(evs[i].pkt, evs[i].len, &o, &in), 0);
	cr_assert_eq(o.proto, 4);
	cr_assert_eq(o.src.s_addr, ip("192.0.2.1").v4.s_addr);
	struct roam_ipaddr c = ip(coa);
	cr_assert_eq(o.dst.s_addr, c.v4.s_addr, "event %d not to %s", i, coa);
	struct roam_ip_udp u;
	struct rbuf pl;
	cr_assert_eq(roam_ip_udp_parse(in.p, rbuf_left(&in), &u, &pl), 0);
	uint32_t seq;
	cr_assert_eq(rbuf_get_u32(&pl, &seq), 0);
	return seq;
}

/* A registration request for home at coa, fed to had at now (replies go to f_send). */
static void reg(const char *home, const char *coa, uint16_t lifetime, uint64_t now)
{
	struct mip4_msg m;
	uint8_t buf[256];
	struct wbuf w;
	memset(&m, 0, sizeof(m));
	m.type = MIP4_MSG_REG_REQUEST;
	m.lifetime = lifetime;
	m.home = ip(home).v4;
	m.ha = ip("192.0.2.1").v4;
	m.coa = ip(coa).v4;
	m.id = ntp0 + ((now - now0) / 1000 << 32) + (now - now0); /* strictly increasing */
	m.has_id = 1;
	wbuf_init_fixed(&w, buf, sizeof(buf));
	cr_assert_eq(mip4_msg_encode(&w, &m), 0);
	cr_assert_eq(mip4_auth_append(&w, 0, MIP4_AUTH_MN_HA, 1000, &k1), 0);
	struct roam_sockaddr s;
	struct roam_ipaddr ca = ip(coa);
	roam_sockaddr_set(&s, &ca, 434);
	had_reg_input(&h, buf, w.len, &s, now, m.id);
}

static struct binding *lookup(const char *home)
{
	struct roam_ipaddr a = ip(home);
	return binding_lookup(&h.bc, &a);
}

/* The reply of event i (a CTRL event). */
static struct mip4_msg ctrl_at(int i, const char *dst)
{
	struct mip4_msg m;
	cr_assert_eq(evs[i].kind, EV_CTRL, "event %d is %d, not control", i, evs[i].kind);
	struct roam_ipaddr d = ip(dst);
	cr_assert(roam_ipaddr_eq(&evs[i].dst, &d), "event %d not to %s", i, dst);
	cr_assert_eq(evs[i].port, 434);
	cr_assert_eq(mip4_msg_decode(evs[i].pkt, evs[i].len, &m), 0);
	return m;
}

TestSuite(dp, .init = setup, .fini = teardown);

Test(dp, no_binding_dropped_and_counted)
{
	cn_send("192.0.2.10", 1, now0);
	cr_assert_eq(nev, 0);
	cr_assert_eq(h.stats.dp_drop_no_binding, 1);
	cr_assert_eq(h.stats.dp_rx_packets, 1);
}

Test(dp, new_binding_installs_route_and_tunnels_rfc2003)
{
	reg("192.0.2.10", "198.51.100.7", 60, now0);
	cr_assert_eq(nev, 2);
	cr_assert_eq(evs[0].kind, EV_ROUTE_ADD);
	struct roam_ipaddr home = ip("192.0.2.10");
	cr_assert(roam_ipaddr_eq(&evs[0].dst, &home));
	cr_assert_eq(ctrl_at(1, "198.51.100.7").code, 0);
	nev = 0;

	uint8_t b[256];
	size_t n = udp_pkt(b, sizeof(b), "203.0.113.5", "192.0.2.10", 42, 17, 0xb8, 1);
	had_dp_from_tun(&h, b, n, now0 + 1);
	cr_assert_eq(nev, 1);
	struct roam_ip4_hdr o;
	struct rbuf in;
	cr_assert_eq(roam_ipip_decap(evs[0].pkt, evs[0].len, &o, &in), 0); /* checksums valid */
	cr_assert_eq(o.proto, 4);
	cr_assert_eq(o.ttl, 33);                  /* dataplane.ttl */
	cr_assert_eq(o.tos, 0xb8);                /* copied from the inner header */
	cr_assert(o.frag & ROAM_IP4_DF);          /* DF copied */
	cr_assert_eq(o.tot_len, n + 20);
	cr_assert_eq(o.src.s_addr, ip("192.0.2.1").v4.s_addr);
	cr_assert_eq(o.dst.s_addr, ip("198.51.100.7").v4.s_addr);
	/* the inner datagram is carried unchanged: the kernel already decremented its TTL */
	cr_assert_eq(rbuf_left(&in), n);
	cr_assert_eq(memcmp(in.p, b, n), 0);
	cr_assert_eq(data_seq(0, "198.51.100.7"), 42);
	const struct had_bstats *st = had_binding_stats(lookup("192.0.2.10"));
	cr_assert_eq(st->tunnelled, 1);
	cr_assert_eq(st->tunnelled_bytes, n + 20);
	cr_assert_eq(st->queued, 1);
	cr_assert_eq(h.stats.dp_tunnelled, 1);
	cr_assert_eq(bfifo_count(&lookup("192.0.2.10")->cur.fifo), 0);
}

Test(dp, tunnel_source_from_config)
{
	teardown();
	setup_text("address: 192.0.2.1\nsnapshot: \"\"\n"
		   "dataplane: {enabled: true, source: 192.0.2.254}\n"
		   "mobiles:\n  - spi: 1000\n    key: " KEY1 "\n    home: [192.0.2.10]\n");
	reg("192.0.2.10", "198.51.100.7", 60, now0);
	nev = 0;
	cn_send("192.0.2.10", 1, now0 + 1);
	struct roam_ip4_hdr o;
	struct rbuf in;
	cr_assert_eq(roam_ipip_decap(evs[0].pkt, evs[0].len, &o, &in), 0);
	cr_assert_eq(o.src.s_addr, ip("192.0.2.254").v4.s_addr);
	cr_assert_eq(o.ttl, 64); /* default */
}

Test(dp, bad_packets_dropped_and_counted)
{
	reg("192.0.2.10", "198.51.100.7", 60, now0);
	nev = 0;
	uint8_t b[256];
	size_t n;
	/* TTL 0 */
	n = udp_pkt(b, sizeof(b), "203.0.113.5", "192.0.2.10", 1, 1, 0, 0);
	b[8] = 0;
	b[10] = b[11] = 0;
	uint16_t ck = roam_cksum(b, 20);
	b[10] = (uint8_t)(ck >> 8);
	b[11] = (uint8_t)ck;
	had_dp_from_tun(&h, b, n, now0 + 1);
	cr_assert_eq(h.stats.dp_drop_ttl, 1);
	/* a loop: the inner source is the care-of address itself (RFC 2003 4) */
	n = udp_pkt(b, sizeof(b), "198.51.100.7", "192.0.2.10", 2, 64, 0, 0);
	had_dp_from_tun(&h, b, n, now0 + 1);
	cr_assert_eq(h.stats.dp_drop_loop, 1);
	/* bad header checksum */
	n = udp_pkt(b, sizeof(b), "203.0.113.5", "192.0.2.10", 3, 64, 0, 0);
	b[10] ^= 0x55;
	had_dp_from_tun(&h, b, n, now0 + 1);
	cr_assert_eq(h.stats.dp_drop_malformed, 1);
	/* truncated at every offset */
	n = udp_pkt(b, sizeof(b), "203.0.113.5", "192.0.2.10", 4, 64, 0, 0);
	for (size_t i = 1; i < n; i++)
		had_dp_from_tun(&h, b, i, now0 + 1);
	cr_assert_eq(h.stats.dp_drop_malformed, n);
	/* IPv6 */
	uint8_t v6[40] = { 0x60 };
	had_dp_from_tun(&h, v6, sizeof(v6), now0 + 1);
	had_dp_from_tun(&h, v6, 0, now0 + 1);
	cr_assert_eq(h.stats.dp_drop_not_ipv4, 2);
	cr_assert_eq(nev, 0);
	cr_assert_eq(had_binding_stats(lookup("192.0.2.10"))->dropped, 2);
	cr_assert_eq(h.stats.dp_tunnelled, 0);
}

Test(dp, blocked_socket_keeps_order_and_fifo_bound)
{
	reg("192.0.2.10", "198.51.100.7", 60, now0);
	nev = 0;
	xmit_result = -EAGAIN;
	for (uint32_t s = 1; s <= 5; s++)
		cn_send("192.0.2.10", s, now0 + s);
	struct binding *b = lookup("192.0.2.10");
	cr_assert_eq(bfifo_count(&b->cur.fifo), 4);   /* fifo_items: 4 */
	cr_assert_eq(h.stats.dp_drop_full, 1);
	cr_assert_eq(had_binding_stats(b)->dropped, 1);
	cr_assert_eq(nev, 0);
	xmit_result = 0;
	cr_assert_eq(had_dp_drain_all(&h), 0);
	cr_assert_eq(nev, 4);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(data_seq(i, "198.51.100.7"), (uint32_t)i + 1);
}

/* Seed figures 11-13: the move while data for the old care-of address is still queued. */
Test(dp, synchronized_move_old_data_then_dereg_reply_then_new_path)
{
	reg("192.0.2.10", "198.51.100.7", 60, now0);
	cn_send("192.0.2.10", 1, now0 + 1); /* sent at once */
	nev = 0;
	xmit_result = -EAGAIN;              /* the raw socket is full */
	cn_send("192.0.2.10", 2, now0 + 2);
	cn_send("192.0.2.10", 3, now0 + 3);
	reg("192.0.2.10", "198.51.100.99", 60, now0 + 1000); /* the move */
	struct binding *b = lookup("192.0.2.10");
	struct roam_ipaddr ncoa = ip("198.51.100.99"), ocoa = ip("198.51.100.7");
	cr_assert(roam_ipaddr_eq(&b->cur.coa, &ncoa));
	cr_assert(roam_ipaddr_eq(&b->old.coa, &ocoa));
	/* the reply went to the new care-of address; the DRR waits behind data 2, 3 */
	cr_assert_eq(nev, 1);
	struct mip4_msg rrp = ctrl_at(0, "198.51.100.99");
	cr_assert_eq(rrp.lifetime, 60);
	cr_assert_eq(bfifo_count(&b->old.fifo), 3);
	cr_assert(bfifo_has_ctrl(&b->old.fifo));
	/* the route was not touched by the move */
	cr_assert(((struct had_binding *)b->user)->installed);
	/* data for the home address now queues on the new path */
	cn_send("192.0.2.10", 4, now0 + 1001);
	cr_assert_eq(bfifo_count(&b->cur.fifo), 1);
	/* the socket takes packets again: old path first (data 2, 3, then the DRR) */
	xmit_result = 0;
	had_drain_all(&h);
	cr_assert_eq(nev, 4);
	cr_assert_eq(data_seq(1, "198.51.100.7"), 2);
	cr_assert_eq(data_seq(2, "198.51.100.7"), 3);
	struct mip4_msg drr = ctrl_at(3, "198.51.100.7");
	cr_assert_eq(drr.lifetime, 0);
	cr_assert_eq(drr.code, 0);
	cr_assert_eq(drr.id, mip4_id_dereg(rrp.id));
	cr_assert_eq(b->old.coa.family, 0); /* released */
	cr_assert_eq(h.stats.drr_sent, 1);
	had_dp_drain_all(&h);
	cr_assert_eq(nev, 5);
	cr_assert_eq(data_seq(4, "198.51.100.99"), 4);
	cn_send("192.0.2.10", 5, now0 + 1002);
	cr_assert_eq(data_seq(5, "198.51.100.99"), 5);
	cr_assert_eq(had_binding_stats(b)->tunnelled, 5);
}

Test(dp, synchronized_move_with_empty_queue_sends_drr_at_once)
{
	reg("192.0.2.10", "198.51.100.7", 60, now0);
	cn_send("192.0.2.10", 1, now0 + 1);
	nev = 0;
	reg("192.0.2.10", "198.51.100.99", 60, now0 + 1000);
	cr_assert_eq(nev, 2);
	ctrl_at(0, "198.51.100.99");
	cr_assert_eq(ctrl_at(1, "198.51.100.7").lifetime, 0);
	cn_send("192.0.2.10", 2, now0 + 1001);
	cr_assert_eq(data_seq(2, "198.51.100.99"), 2);
}

Test(dp, plain_move_flushes_old_backlog_no_drr)
{
	teardown();
	setup_text("address: 192.0.2.1\nsnapshot: \"\"\nsynchronized: false\n"
		   "dataplane: {enabled: true}\n"
		   "mobiles:\n  - spi: 1000\n    key: " KEY1 "\n    home: [192.0.2.10]\n");
	reg("192.0.2.10", "198.51.100.7", 60, now0);
	nev = 0;
	xmit_result = -EAGAIN;
	cn_send("192.0.2.10", 1, now0 + 1);
	reg("192.0.2.10", "198.51.100.99", 60, now0 + 1000);
	xmit_result = 0;
	had_drain_all(&h);
	had_dp_drain_all(&h);
	cr_assert_eq(nev, 1); /* the reply only: the old backlog was flushed */
	ctrl_at(0, "198.51.100.99");
	cr_assert_eq(h.stats.drr_queued, 0);
	cn_send("192.0.2.10", 2, now0 + 1001);
	cr_assert_eq(data_seq(1, "198.51.100.99"), 2);
}

Test(dp, deregistration_expiry_delete_remove_route)
{
	reg("192.0.2.10", "198.51.100.7", 60, now0);
	reg("192.0.2.11", "198.51.100.7", 10, now0 + 1);
	cr_assert_eq(h.stats.dp_installs, 2);
	nev = 0;
	reg("192.0.2.10", "198.51.100.7", 0, now0 + 1000); /* deregistration */
	cr_assert_eq(evs[0].kind, EV_ROUTE_DEL);
	struct roam_ipaddr a = ip("192.0.2.10");
	cr_assert(roam_ipaddr_eq(&evs[0].dst, &a));
	cr_assert_null(lookup("192.0.2.10"));
	nev = 0;
	cn_send("192.0.2.10", 1, now0 + 1001);
	cr_assert_eq(nev, 0);
	cr_assert_eq(h.stats.dp_drop_no_binding, 1);
	had_store_expire(&h, now0 + 20000);               /* 192.0.2.11 expires */
	cr_assert_eq(nev, 1);
	cr_assert_eq(evs[0].kind, EV_ROUTE_DEL);
	cr_assert_eq(h.stats.dp_removals, 2);
	/* operator delete */
	reg("192.0.2.11", "198.51.100.7", 60, now0 + 21000);
	nev = 0;
	had_binding_remove(&h, lookup("192.0.2.11"));
	cr_assert_eq(nev, 1);
	cr_assert_eq(evs[0].kind, EV_ROUTE_DEL);
}

Test(dp, install_failure_counted_binding_kept)
{
	install_result = -EPERM;
	reg("192.0.2.10", "198.51.100.7", 60, now0);
	cr_assert_not_null(lookup("192.0.2.10"));
	cr_assert_eq(h.stats.dp_install_failures, 1);
	cr_assert_not(((struct had_binding *)lookup("192.0.2.10")->user)->installed);
	/* a refresh retries */
	install_result = 0;
	reg("192.0.2.10", "198.51.100.7", 60, now0 + 1000);
	cr_assert(((struct had_binding *)lookup("192.0.2.10")->user)->installed);
}

/* An IP-in-IP datagram outer_src -> 192.0.2.1 carrying a UDP datagram inner_src -> CN. */
static size_t rt_pkt(uint8_t *buf, size_t cap, const char *outer_src, const char *inner_src)
{
	uint8_t in[256];
	size_t n = udp_pkt(in, sizeof(in), inner_src, "203.0.113.5", 9, 64, 0, 0);
	struct roam_ipip p;
	memset(&p, 0, sizeof(p));
	p.src = ip(outer_src);
	p.dst = ip("192.0.2.1");
	struct wbuf w;
	wbuf_init_fixed(&w, buf, cap);
	cr_assert_eq(roam_ipip_encap(&w, &p, in, n), 0);
	return w.len;
}

Test(dp, reverse_tunnel_checks)
{
	reg("192.0.2.10", "198.51.100.7", 60, now0);
	nev = 0;
	uint8_t b[512];
	size_t n = rt_pkt(b, sizeof(b), "198.51.100.7", "192.0.2.10");
	had_dp_from_raw(&h, b, n);
	cr_assert_eq(nev, 1);
	cr_assert_eq(evs[0].kind, EV_DELIVER);
	cr_assert_eq(evs[0].len, n - 20);
	cr_assert_eq(memcmp(evs[0].pkt, b + 20, n - 20), 0);
	cr_assert_eq(h.stats.rt_rx_packets, 1);
	cr_assert_eq(had_binding_stats(lookup("192.0.2.10"))->reverse, 1);
	/* from another care-of address: spoofed */
	n = rt_pkt(b, sizeof(b), "198.51.100.66", "192.0.2.10");
	had_dp_from_raw(&h, b, n);
	cr_assert_eq(h.stats.rt_drop_spoofed, 1);
	/* inner source without a binding */
	n = rt_pkt(b, sizeof(b), "198.51.100.7", "192.0.2.11");
	had_dp_from_raw(&h, b, n);
	cr_assert_eq(h.stats.rt_drop_unknown_coa, 1);
	/* malformed: truncated at every offset, corrupt inner */
	n = rt_pkt(b, sizeof(b), "198.51.100.7", "192.0.2.10");
	for (size_t i = 0; i < n; i++)
		had_dp_from_raw(&h, b, i);
	b[20 + 10] ^= 1;
	had_dp_from_raw(&h, b, n);
	cr_assert_eq(h.stats.rt_drop_malformed, n + 1);
	/* not IP-in-IP */
	n = udp_pkt(b, sizeof(b), "198.51.100.7", "192.0.2.1", 1, 64, 0, 0);
	had_dp_from_raw(&h, b, n);
	cr_assert_eq(h.stats.rt_drop_not_ipip, 1);
	cr_assert_eq(nev, 1);
	cr_assert_eq(h.stats.rt_rx_packets, 1);
}

Test(dp, reverse_tunnel_from_old_coa_during_handoff)
{
	reg("192.0.2.10", "198.51.100.7", 60, now0);
	xmit_result = -EAGAIN;
	cn_send("192.0.2.10", 1, now0 + 1);
	reg("192.0.2.10", "198.51.100.99", 60, now0 + 1000);
	nev = 0;
	uint8_t b[512];
	size_t n = rt_pkt(b, sizeof(b), "198.51.100.7", "192.0.2.10");
	had_dp_from_raw(&h, b, n);
	n = rt_pkt(b, sizeof(b), "198.51.100.99", "192.0.2.10");
	had_dp_from_raw(&h, b, n);
	cr_assert_eq(h.stats.rt_rx_packets, 2);
	cr_assert_eq(nev, 2);
}

Test(dp, reverse_tunnel_off_drops)
{
	reg("192.0.2.10", "198.51.100.7", 60, now0);
	h.conf.reverse_tunnel = HAD_RT_OFF; /* as after a reload */
	nev = 0;
	uint8_t b[512];
	size_t n = rt_pkt(b, sizeof(b), "198.51.100.7", "192.0.2.10");
	had_dp_from_raw(&h, b, n);
	cr_assert_eq(nev, 0);
	cr_assert_eq(h.stats.rt_drop_off, 1);
	cr_assert_eq(h.stats.rt_rx_packets, 0);
}

Test(dp, config_defaults)
{
	teardown();
	setup_text("address: 192.0.2.1\nsnapshot: \"\"\n"
		   "mobiles:\n  - spi: 1000\n    key: " KEY1 "\n    home: [192.0.2.10]\n");
	cr_assert_not(h.conf.dataplane.enabled);
	cr_assert_str_eq(h.conf.dataplane.tun, "roamha0");
	cr_assert_eq(h.conf.dataplane.tun_mtu, 1480);
	cr_assert_eq(h.conf.dataplane.ttl, 64);
	cr_assert(h.conf.dataplane.gratuitous_arp);
	cr_assert_str_eq(h.conf.dataplane.interface, "");
	cr_assert(roam_ipaddr_is_any(&h.conf.dataplane.source));
	cr_assert_eq(h.dp.source.v4.s_addr, ip("192.0.2.1").v4.s_addr); /* defaults to address */
}

Test(dp, config_errors_refused)
{
	static const char *bad[] = {
		"dataplane: {ttl: 0}\n",
		"dataplane: {ttl: 256}\n",
		"dataplane: {tun: a-name-far-too-long}\n",
		"dataplane: {tun_mtu: 100}\n",
		"dataplane: {source: 2001:db8::1}\n",
		"dataplane: {bogus: 1}\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[512], err[256] = "";
		struct had_conf c;
		snprintf(text, sizeof(text),
			 "address: 192.0.2.1\n%smobiles:\n  - spi: 1000\n    key: " KEY1
			 "\n    home: [192.0.2.10]\n", bad[i]);
		cr_assert_lt(had_conf_load_string(&c, text, err, sizeof(err)), 0, "%s", bad[i]);
		cr_assert(strstr(err, "dataplane") != NULL, "%s: %s", bad[i], err);
	}
	cr_assert_eq(h.conf.dataplane.ttl, 33);
}
