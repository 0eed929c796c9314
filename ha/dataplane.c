/* The home agent's user-space data plane (RFC 5944 4.2.3, RFC 2003, RFC 3024; docs/protocols/
 * mipv4.md 7, 8.1; had(8) "Data plane").  This kernel has no ipip module, so had tunnels itself:
 *
 * - Capture: had is the home network's router for its mobiles' home addresses.  While a binding
 *   exists, the home address has a host route to the TUN device (dataplane.tun) and a proxy ARP
 *   entry on the home link (dataplane.interface), so hosts on the home link send to had and the
 *   kernel forwards the packets into the TUN device (decrementing the TTL: the kernel is the
 *   forwarding router, so had does not decrement it again).  A gratuitous ARP on a new binding
 *   makes hosts that cached the mobile's own MAC address switch to had at once.
 * - Downstream: each captured packet is looked up by destination, pushed into the binding's
 *   current-path FIFO (roam/binding.h) and the FIFO is drained at once: the item is encapsulated
 *   IP-in-IP (outer source dataplane.source, destination the path's care-of address, TTL
 *   dataplane.ttl, TOS and DF copied, RFC 2003 3.1) and sent through a raw IPv4 socket with
 *   IP_HDRINCL.  The FIFO is what keeps data and the synchronized handoff's deregistration reply
 *   in order: on a move the current path (with whatever the socket had not yet taken) becomes
 *   the old one, reg.c queues the deregistration reply behind it and drains it (data through
 *   h->send_data = had_dp_send_data, to the old care-of address), while new packets go to the
 *   new path.  A send refused with -EAGAIN leaves the item at the head; a 1 ms timer retries.
 * - Upstream (reverse tunnelling, RFC 3024 5.3): an IP-in-IP datagram on the raw socket whose
 *   outer source is a registered care-of address of the binding of its inner source is
 *   decapsulated and written into the TUN device, from where the kernel routes it.  Anything
 *   else (unknown care-of address, spoofed inner source, malformed) is dropped and counted.
 *
 * The kernel side (raw socket, TUN device, routes, proxy ARP, retry timer) is the shared
 * roam/tunnel.h endpoint, also used by fad.  Everything that touches the kernel goes through
 * h->dp.ops, so the unit tests drive the same code with fakes. */
#include <errno.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <linux/if_packet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "had.h"
#include "roam/clock.h"
#include "roam/ip.h"
#include "roam/tunnel.h"

#define DP_RETRY_MS 1
#define DP_OUTER_MAX 65535

/* ---- per-binding state ---- */

uint32_t had_binding_spi(const struct binding *b)
{
	const struct had_binding *hb = b->user;
	return hb ? hb->spi : 0;
}

const struct had_bstats *had_binding_stats(const struct binding *b)
{
	const struct had_binding *hb = b->user;
	return hb ? &hb->st : NULL;
}

static void garp_send(struct had *h, const struct roam_ipaddr *home);

/* Installs (add = 1) or removes the kernel state of one home address; counted and logged. */
static int install(struct had *h, struct binding *b, int add)
{
	struct had_binding *hb = b->user;
	char ab[ROAM_ADDRSTRLEN];
	if (!h->dp.enabled || !h->dp.ops.install || !hb || (add ? hb->installed : !hb->installed))
		return 0;
	int r = h->dp.ops.install(h->dp.ops.arg, &b->home, add);
	if (r < 0) {
		if (add)
			h->stats.dp_install_failures++;
		log_warnx("%s the route / proxy ARP entry of %s: %s", add ? "cannot install" :
			  "cannot remove", roam_ipaddr_fmt(&b->home, ab, sizeof(ab)), strerror(-r));
		if (add)
			return r;
	}
	hb->installed = add;
	if (add) {
		h->stats.dp_installs++;
		garp_send(h, &b->home);
	} else {
		h->stats.dp_removals++;
	}
	return 0;
}

int had_binding_attach(struct had *h, struct binding *b, uint32_t spi)
{
	struct had_binding *hb = b->user;
	if (!hb) {
		hb = calloc(1, sizeof(*hb));
		if (!hb)
			return -ENOMEM;
		b->user = hb;
	}
	hb->spi = spi;
	install(h, b, 1); /* a failure is logged and counted; the binding stays (control plane) */
	return 0;
}

void had_binding_gone(struct had *h, struct binding *b)
{
	struct had_binding *hb = b->user;
	if (!hb)
		return;
	install(h, b, 0);
	free(hb);
	b->user = NULL;
}

void had_binding_remove(struct had *h, struct binding *b)
{
	had_binding_gone(h, b);
	binding_remove(&h->bc, b);
}

/* ---- downstream: encapsulation and the current path's FIFO ---- */

/* Encapsulates inner to dst and transmits.  b (may be NULL) gets the per-binding counters.
 * -EAGAIN: nothing sent, retry later; other negative values: dropped (counted). */
static int tunnel(struct had *h, struct binding *b, const struct roam_ipaddr *dst,
		  const void *inner, size_t len)
{
	struct had_binding *hb = b ? b->user : NULL;
	uint8_t *buf = h->dp.txbuf;
	struct roam_ipip p;
	size_t olen = 0;
	int r;
	if (!buf || !h->dp.ops.xmit)
		return -ENOTCONN;
	memset(&p, 0, sizeof(p));
	p.src = h->dp.source;
	p.dst = *dst;
	p.ttl = (uint8_t)h->conf.dataplane.ttl;
	p.id = h->dp.ip_id;
	p.forwarding = 0; /* the kernel forwarded it into the TUN device: TTL already decremented */
	r = roam_tunnel_encap(buf, DP_OUTER_MAX, &p, inner, len, &olen);
	if (r < 0) {
		if (r == -EMSGSIZE)
			h->stats.dp_drop_too_big++;
		else
			h->stats.dp_drop_malformed++;
		goto dropped;
	}
	r = h->dp.ops.xmit(h->dp.ops.arg, buf, olen);
	if (r == -EAGAIN) {
		h->stats.dp_tx_eagain++;
		return r;
	}
	h->dp.ip_id++;
	if (r < 0) {
		char ab[ROAM_ADDRSTRLEN];
		if (r == -EMSGSIZE)
			h->stats.dp_drop_too_big++;
		else
			h->stats.dp_drop_tx_error++;
		log_rl_warnx(&h->drop_rl, "tunnel to %s: %s", roam_ipaddr_fmt(dst, ab, sizeof(ab)),
			     strerror(-r));
		goto dropped;
	}
	h->stats.dp_tunnelled++;
	h->stats.dp_tunnelled_bytes += olen;
	if (hb) {
		hb->st.tunnelled++;
		hb->st.tunnelled_bytes += olen;
	}
	return 0;
dropped:
	if (hb)
		hb->st.dropped++;
	return r < 0 ? r : -EIO;
}

/* The binding of an inner IPv4 datagram's destination, or NULL. */
static struct binding *binding_of_dst(struct had *h, const void *inner, size_t len)
{
	struct roam_ipaddr a;
	struct in_addr d;
	if (len < ROAM_IP4_HDRLEN)
		return NULL;
	memcpy(&d, (const uint8_t *)inner + 16, 4);
	roam_ipaddr_set4(&a, d);
	return binding_lookup(&h->bc, &a);
}

int had_dp_send_data(void *arg, const struct roam_sockaddr *dst, const void *inner, size_t len)
{
	struct had *h = arg;
	struct roam_ipaddr a;
	if (roam_sockaddr_addr(dst, &a, NULL) < 0 || a.family != AF_INET)
		return -EAFNOSUPPORT;
	return tunnel(h, binding_of_dst(h, inner, len), &a, inner, len);
}

struct cur_ctx {
	struct had *h;
	struct binding *b;
};

static int cur_send(const struct bfifo_item *it, void *arg)
{
	struct cur_ctx *c = arg;
	struct had *h = c->h;
	int r;
	if (it->kind == BFIFO_DATA) {
		r = tunnel(h, c->b, &c->b->cur.coa, it->data, it->len);
	} else {
		/* Control items on a current path go to its care-of address, port 434. */
		struct roam_sockaddr d;
		roam_sockaddr_set(&d, &c->b->cur.coa, MIP4_UDP_PORT);
		r = h->send ? h->send(h->send_arg, &d, it->data, it->len) : -ENOTCONN;
		if (r < 0 && r != -EAGAIN)
			h->stats.drop_tx_error++;
	}
	return r == -EAGAIN ? -EAGAIN : (r < 0 ? -EIO : 0);
}

static void retry_cb(void *arg)
{
	struct had *h = arg;
	had_dp_drain_all(h);
	had_drain_all(h);
}

static void retry_later(struct had *h)
{
	roam_tunnel_retry_later(&h->dp.tn, DP_RETRY_MS);
}

/* Drains b's current path; 1 when items remain (the socket refused one). */
static int drain_cur(struct had *h, struct binding *b)
{
	if (!b->cur.coa.family || bfifo_count(&b->cur.fifo) == 0)
		return 0;
	struct cur_ctx c = { h, b };
	bfifo_drain(&b->cur.fifo, cur_send, &c, 0);
	return bfifo_count(&b->cur.fifo) != 0;
}

static int drain_walk(struct binding *b, void *arg)
{
	struct had *h = arg;
	h->dp.backlog += (size_t)drain_cur(h, b);
	return 0;
}

size_t had_dp_drain_all(struct had *h)
{
	h->dp.backlog = 0;
	binding_foreach(&h->bc, drain_walk, h);
	if (h->dp.backlog)
		retry_later(h);
	return h->dp.backlog;
}

static void dp_drop(struct had *h, uint64_t *counter, const char *why)
{
	(*counter)++;
	log_rl_warnx(&h->drop_rl, "data plane: dropped a packet: %s", why);
}

void had_dp_from_tun(struct had *h, const uint8_t *pkt, size_t len, uint64_t now)
{
	struct rbuf r = { pkt, pkt + len };
	struct roam_ip4_hdr ih;
	struct roam_ipaddr dst, src;
	h->stats.dp_rx_packets++;
	h->stats.dp_rx_bytes += len;
	if (len == 0 || (pkt[0] >> 4) != 4) {
		h->stats.dp_drop_not_ipv4++; /* e.g. the kernel's IPv6 on the TUN: not ours */
		return;
	}
	if (roam_ip4_decode(&r, &ih, NULL) < 0 || ih.tot_len != len) {
		dp_drop(h, &h->stats.dp_drop_malformed, "malformed IPv4 from the TUN device");
		return;
	}
	roam_ipaddr_set4(&dst, ih.dst);
	roam_ipaddr_set4(&src, ih.src);
	struct binding *b = binding_lookup(&h->bc, &dst);
	if (!b || !b->cur.coa.family) {
		/* A route outlived its binding for a moment, or a home address at home. */
		h->stats.dp_drop_no_binding++;
		return;
	}
	struct had_binding *hb = b->user;
	if (ih.ttl == 0) {
		dp_drop(h, &h->stats.dp_drop_ttl, "TTL 0");
		goto counted;
	}
	if (roam_ipaddr_eq(&src, &b->cur.coa)) {
		/* RFC 2003 4: never tunnel a datagram back to its own source (a loop). */
		dp_drop(h, &h->stats.dp_drop_loop, "inner source is the tunnel exit point");
		goto counted;
	}
	if (len + ROAM_IP4_HDRLEN > DP_OUTER_MAX) {
		dp_drop(h, &h->stats.dp_drop_too_big, "too big to encapsulate");
		goto counted;
	}
	if (bfifo_push(&b->cur.fifo, BFIFO_DATA, pkt, len, now) < 0) {
		dp_drop(h, &h->stats.dp_drop_full, "path FIFO full");
		goto counted;
	}
	h->stats.dp_queued++;
	if (hb)
		hb->st.queued++;
	if (drain_cur(h, b))
		retry_later(h);
	return;
counted:
	if (hb)
		hb->st.dropped++;
}

/* ---- upstream: reverse tunnelling (RFC 3024 5.3) ---- */

void had_dp_from_raw(struct had *h, const uint8_t *pkt, size_t len)
{
	struct roam_ip4_hdr outer;
	struct rbuf inner;
	struct roam_ipaddr osrc, isrc;
	int r = roam_ipip_decap(pkt, len, &outer, &inner);
	if (r == -EPROTONOSUPPORT) {
		dp_drop(h, &h->stats.rt_drop_not_ipip, "raw socket: not IP-in-IP");
		return;
	}
	if (h->conf.reverse_tunnel == HAD_RT_OFF) {
		/* T is denied (137): nobody may reverse-tunnel through us. */
		dp_drop(h, &h->stats.rt_drop_off, "reverse tunnel: reverse_tunnel is off");
		return;
	}
	if (r < 0 || rbuf_left(&inner) < ROAM_IP4_HDRLEN) {
		dp_drop(h, &h->stats.rt_drop_malformed, "reverse tunnel: malformed");
		return;
	}
	struct in_addr s;
	memcpy(&s, inner.p + 12, 4);
	roam_ipaddr_set4(&isrc, s);
	roam_ipaddr_set4(&osrc, outer.src);
	struct binding *b = binding_lookup(&h->bc, &isrc);
	if (!b) {
		/* No binding for the inner source: either a stranger or a spoofed home address. */
		dp_drop(h, &h->stats.rt_drop_unknown_coa, "reverse tunnel: no binding");
		return;
	}
	if (!roam_ipaddr_eq(&osrc, &b->cur.coa) && !roam_ipaddr_eq(&osrc, &b->old.coa)) {
		char a1[ROAM_ADDRSTRLEN], a2[ROAM_ADDRSTRLEN];
		h->stats.rt_drop_spoofed++;
		log_rl_warnx(&h->drop_rl, "reverse tunnel: %s is not a care-of address of %s",
			     roam_ipaddr_fmt(&osrc, a1, sizeof(a1)),
			     roam_ipaddr_fmt(&isrc, a2, sizeof(a2)));
		return;
	}
	size_t n = rbuf_left(&inner);
	if (!h->dp.ops.deliver || (r = h->dp.ops.deliver(h->dp.ops.arg, inner.p, n)) < 0) {
		dp_drop(h, &h->stats.rt_drop_tx_error, "reverse tunnel: TUN write failed");
		if (b->user)
			((struct had_binding *)b->user)->st.dropped++;
		return;
	}
	h->stats.rt_rx_packets++;
	h->stats.rt_rx_bytes += n;
	if (b->user) {
		struct had_binding *hb = b->user;
		hb->st.reverse++;
		hb->st.reverse_bytes += n;
	}
}

/* ---- set-up: hooks ---- */

void had_dp_init_ops(struct had *h, const struct had_dp_ops *ops)
{
	h->dp.ops = *ops;
	h->dp.source = h->conf.dataplane.source;
	if (roam_ipaddr_is_any(&h->dp.source))
		h->dp.source = h->conf.address;
	if (!h->dp.txbuf)
		h->dp.txbuf = malloc(DP_OUTER_MAX);
	h->dp.enabled = h->dp.txbuf != NULL;
	h->send_data = had_dp_send_data;
	h->send_data_arg = h;
}

/* ---- the kernel side ---- */

static int k_xmit(void *arg, const void *pkt, size_t len)
{
	struct had *h = arg;
	return roam_tunnel_xmit(&h->dp.tn, pkt, len);
}

static int k_deliver(void *arg, const void *pkt, size_t len)
{
	struct had *h = arg;
	return roam_tunnel_deliver(&h->dp.tn, pkt, len);
}

static int k_install(void *arg, const struct roam_ipaddr *home, int add)
{
	struct had *h = arg;
	return roam_tunnel_route(&h->dp.tn, home, 0, h->dp.tn.proxy_ifindex, add);
}

/* Gratuitous ARP (RFC 5944 4.6): an ARP request for the home address from the home address with
 * had's MAC, broadcast on the home link, so hosts that cached the mobile's MAC send to had. */
static void garp_send(struct had *h, const struct roam_ipaddr *home)
{
	if (!h->dp.garp || home->family != AF_INET)
		return;
	uint8_t f[42];
	struct wbuf w;
	wbuf_init_fixed(&w, f, sizeof(f));
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	wbuf_put_bytes(&w, bcast, 6);
	wbuf_put_bytes(&w, h->dp.home_mac, 6);
	wbuf_put_u16(&w, ETHERTYPE_ARP);
	wbuf_put_u16(&w, ARPHRD_ETHER);
	wbuf_put_u16(&w, ETHERTYPE_IP);
	wbuf_put_u8(&w, 6);
	wbuf_put_u8(&w, 4);
	wbuf_put_u16(&w, ARPOP_REQUEST);
	wbuf_put_bytes(&w, h->dp.home_mac, 6);
	wbuf_put_bytes(&w, &home->v4, 4);
	static const uint8_t zero[6] = { 0 };
	wbuf_put_bytes(&w, zero, 6);
	wbuf_put_bytes(&w, &home->v4, 4);
	struct sockaddr_ll ll;
	memset(&ll, 0, sizeof(ll));
	ll.sll_family = AF_PACKET;
	ll.sll_ifindex = h->dp.tn.proxy_ifindex;
	ll.sll_halen = 6;
	memcpy(ll.sll_addr, bcast, 6);
	if (!w.err && sendto(h->dp.garp_fd, f, w.len, 0, (struct sockaddr *)&ll, sizeof(ll)) ==
			      (ssize_t)w.len)
		h->stats.dp_garp_sent++;
	else
		log_rl_warnx(&h->drop_rl, "gratuitous ARP: %s", strerror(errno));
}

static void garp_open(struct had *h)
{
	struct ifreq ifr;
	h->dp.garp = false;
	if (!h->conf.dataplane.gratuitous_arp || h->dp.tn.proxy_ifindex <= 0)
		return;
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		log_warn("gratuitous ARP socket");
		return;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", h->conf.dataplane.interface);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0 || ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER) {
		log_warnx("%s: no Ethernet address: no gratuitous ARP", ifr.ifr_name);
		close(fd);
		return;
	}
	memcpy(h->dp.home_mac, ifr.ifr_hwaddr.sa_data, 6);
	h->dp.garp_fd = fd;
	h->dp.garp = true;
}

static void tun_recv(void *arg, const uint8_t *pkt, size_t len)
{
	had_dp_from_tun(arg, pkt, len, roam_mono_ms());
}

static void raw_recv(void *arg, const uint8_t *pkt, size_t len)
{
	had_dp_from_raw(arg, pkt, len);
}

static int install_walk(struct binding *b, void *arg)
{
	install(arg, b, 1);
	return 0;
}

int had_dp_open(struct had *h)
{
	const struct had_conf_dataplane *c = &h->conf.dataplane;
	int r;
	if (!c->enabled)
		return 0;
	struct roam_tunnel_opts to = {
		.tun = c->tun,
		.tun_mtu = c->tun_mtu,
		.proxy_interface = c->interface,
		.tun_recv = tun_recv,
		.tunnel_recv = raw_recv,
		.retry = retry_cb,
		.arg = h,
	};
	if ((r = roam_tunnel_open(&h->dp.tn, h->loop, &to)) < 0)
		goto fail;
	garp_open(h);
	struct had_dp_ops ops = { k_xmit, k_deliver, k_install, h };
	had_dp_init_ops(h, &ops);
	if (!h->dp.enabled) {
		r = -ENOMEM;
		goto fail;
	}
	binding_foreach(&h->bc, install_walk, h); /* bindings restored from the snapshot */
	char sb[ROAM_ADDRSTRLEN];
	log_info("data plane: %s (mtu %u), home link %s, tunnel source %s", c->tun,
		 c->tun_mtu, h->dp.tn.proxy_ifindex ? c->interface : "(none)",
		 roam_ipaddr_fmt(&h->dp.source, sb, sizeof(sb)));
	return 0;
fail:
	had_dp_close(h);
	return r;
}

void had_dp_close(struct had *h)
{
	h->dp.enabled = false;
	h->send_data = NULL;
	roam_tunnel_close(&h->dp.tn); /* the routes through its TUN device go with it */
	if (h->dp.garp)
		close(h->dp.garp_fd);
	h->dp.garp = false;
	free(h->dp.txbuf);
	h->dp.txbuf = NULL;
}
