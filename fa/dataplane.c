/* The foreign agent's user-space data plane (RFC 5944 3.7.4, 4.2.2; RFC 2003; RFC 3024; RFC 4988
 * forwarding; docs/protocols/mipv4.md; fad(8) "Data plane").  This kernel has no ipip module, so
 * fad decapsulates and tunnels itself, through the tunnel endpoint it shares with had
 * (roam/tunnel.h: raw protocol-4 socket, TUN device, host routes, retry timer):
 *
 * - Downstream: an IP-in-IP datagram addressed to one of our care-of addresses (from any source
 *   by default, as a previous FA forwarding after an FBU sent over the old link is unknown to us;
 *   with any_tunnel_source off only from the visitor's home agent, a configured home agent, or
 *   the previous FA the visitor's FBU was relayed to), whose inner destination is the visitor's home address, is decapsulated and pushed as a
 *   data item into the visitor's FIFO, the same FIFO that carries the replies relayed from the
 *   home agent.  So the synchronized handoff's deregistration reply leaves behind the data
 *   decapsulated before it (the seed's synchronization at the FA).
 * - Delivery on the cell: the mobile keeps its home address, so fad installs a host route for
 *   the home address on the cell interface while the visitor is registered, and writes the
 *   decapsulated datagram into the TUN device; the kernel forwards it by that route (ARP for the
 *   home address on the cell, which the mobile answers; the kernel decrements the TTL).  A TUN
 *   write is processed synchronously by the kernel, so the order of data and of the relayed
 *   replies (sent by the UDP socket out of the same interface) is kept.
 * - Pending visitors: while a visitor's first registration is relayed and not answered, its data
 *   is held in its FIFO (at most dataplane.pending_items) and delivered when the reply arrives
 *   (before the reply: it arrived first).  A denial flushes it.
 * - Anticipated visitors (Phase III, fbu.c): a visitor announced by the previous FA's FBAck holds
 *   everything (forwarded data, the FBAck) until its request arrives on a cell, then data until
 *   the reply, like a pending one.  A forwarding entry whose target tunnels the mobile's traffic
 *   back to us ends (A->B->A) instead of tunnelling it back.
 * - Smooth handoff forwarding (RFC 4988, seed Phases II-III): while a visitor is a forwarding
 *   entry its FIFO's path is the new care-of address: everything queued and everything still
 *   arriving is re-tunnelled (outer source our care-of address on the visitor's cell, outer
 *   destination the new care-of address; the inner TTL is decremented, we forward it).  A
 *   control item (the deregistration reply) is sent inside as the UDP datagram the home agent
 *   sent (home agent:434 -> home address:the mobile's port), so the new FA delivers it in order
 *   as data.  The entry expires with the FBU's lifetime (visitor.c).
 * - Upstream: with dataplane.capture_cells, IPv4 forwarding is off on the cells and fad reads
 *   the mobiles' packets from an AF_PACKET socket per cell: from a visitor registered with T,
 *   they are tunnelled to its home agent (RFC 3024 5.2, outer source the cell's care-of
 *   address); from one registered without T they are written into the TUN device and routed
 *   normally; from anyone else they are dropped (fad is no general router on its cells).
 *   From an anticipated or pending visitor they are held (v->up) until its registration is
 *   accepted, also when sent to another router's MAC (a single-radio mobile that just moved
 *   still uses its previous FA as gateway); a forwarding entry still routes its mobile's
 *   upstream from its cell, and a visitor gone after its deregistration reply is routed for
 *   FAD_DEPARTED_LINGER_MS more (its reply via the new FA may come after).
 *   Packets addressed to fad itself, broadcast and multicast are the kernel's.
 *
 * Everything that touches the kernel goes through f->dp.ops, so unit tests use fakes. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fad.h"
#include "roam/clock.h"
#include "roam/ip.h"
#include "roam/netlink.h"

#define DP_RETRY_MS 1
#define DP_OTHERHOST_GRACE_MS 2000 /* after a registration that held upstream */
#define DP_OUTER_MAX ROAM_TUNNEL_OUTER_MAX

struct fad_dp_cap {
	struct fad *f;
	int cell;
	int fd;
	bool open;
	unsigned wakeups;
	uv_poll_t poll;
};

static void dp_drop(struct fad *f, struct fad_visitor *v, uint64_t *counter, const char *why)
{
	(*counter)++;
	if (v)
		v->st.dropped++;
	log_rl_warnx(&f->drop_rl, "data plane: dropped a packet: %s", why);
}

static bool is_our_coa(const struct fad *f, struct in_addr a)
{
	return fad_cell_by_coa(f, a) >= 0;
}

/* ---- routes ---- */

void fad_dp_visitor_sync(struct fad *f, struct fad_visitor *v)
{
	int want = 0;
	if (f->dp.enabled && f->dp.ops.route && v->state == FAD_V_REGISTERED && v->cell >= 0 &&
	    (size_t)v->cell < f->ncells)
		want = f->cells[v->cell].ifindex;
	if (want == v->dp_route_ifindex)
		return;
	struct roam_ipaddr h;
	char hb[ROAM_ADDRSTRLEN];
	int r;
	roam_ipaddr_set4(&h, v->home);
	if (v->dp_route_ifindex > 0) {
		r = f->dp.ops.route(f->dp.ops.arg, &h, v->dp_route_ifindex, 0);
		if (r < 0)
			log_warnx("cannot remove the route of %s: %s",
				  roam_ipaddr_fmt(&h, hb, sizeof(hb)), strerror(-r));
		f->stats.dp_removals++;
		v->dp_route_ifindex = 0;
	}
	if (want > 0) {
		r = f->dp.ops.route(f->dp.ops.arg, &h, want, 1);
		if (r < 0) {
			f->stats.dp_install_failures++;
			log_warnx("cannot install the route of %s on %s: %s",
				  roam_ipaddr_fmt(&h, hb, sizeof(hb)), f->cells[v->cell].ifname,
				  strerror(-r));
			return;
		}
		f->stats.dp_installs++;
		v->dp_route_ifindex = want;
	}
}

void fad_dp_visitor_gone(struct fad *f, struct fad_visitor *v)
{
	enum fad_vstate s = v->state;
	v->state = FAD_V_PENDING; /* wants no route */
	fad_dp_visitor_sync(f, v);
	v->state = s;
}

/* ---- encapsulation ---- */

/* Tunnels inner from src to dst (forwarding: the inner TTL is decremented).  -EAGAIN: nothing
 * sent; other errors: dropped and counted. */
static int tunnel(struct fad *f, struct fad_visitor *v, struct in_addr src, struct in_addr dst,
		  const void *inner, size_t len, int forwarding, size_t *out_len)
{
	struct roam_ipip p;
	size_t olen = 0;
	if (!f->dp.txbuf || !f->dp.ops.xmit)
		return -ENOTCONN;
	memset(&p, 0, sizeof(p));
	roam_ipaddr_set4(&p.src, src);
	roam_ipaddr_set4(&p.dst, dst);
	p.ttl = (uint8_t)f->conf.dataplane.ttl;
	p.id = f->dp.ip_id;
	p.forwarding = forwarding;
	int r = roam_tunnel_encap(f->dp.txbuf, DP_OUTER_MAX, &p, inner, len, &olen);
	if (r == -ETIMEDOUT) {
		dp_drop(f, v, &f->stats.dp_drop_ttl, "TTL expired");
		return r;
	}
	if (r == -EMSGSIZE) {
		dp_drop(f, v, &f->stats.dp_drop_too_big, "too big to encapsulate");
		return r;
	}
	if (r < 0) {
		dp_drop(f, v, &f->stats.dp_drop_malformed, "cannot encapsulate");
		return r;
	}
	r = f->dp.ops.xmit(f->dp.ops.arg, f->dp.txbuf, olen);
	if (r == -EAGAIN) {
		f->stats.dp_tx_eagain++;
		return r;
	}
	f->dp.ip_id++;
	if (r < 0) {
		dp_drop(f, v, &f->stats.dp_drop_tx_error, "tunnel transmit failed");
		return r;
	}
	*out_len = olen;
	return 0;
}

/* Outer source for v's tunnels: the care-of address of its cell (any cell if unknown). */
static struct in_addr our_coa(const struct fad *f, const struct fad_visitor *v)
{
	if (v->cell >= 0 && (size_t)v->cell < f->ncells)
		return f->cells[v->cell].coa;
	struct in_addr none = { 0 };
	return f->ncells ? f->cells[0].coa : none;
}

/* ---- the send_data hook: items of a visitor's FIFO ---- */

static int forward_item(struct fad *f, struct fad_visitor *v, const void *data, size_t len,
			int is_control)
{
	uint8_t pkt[FAD_MAX_MSG + 64];
	const void *inner = data;
	size_t ilen = len, olen = 0;
	if (is_control) {
		/* The relayed reply as the home agent's UDP datagram to the mobile. */
		struct roam_ip_udp u;
		struct wbuf w;
		uint16_t mport = MIP4_UDP_PORT;
		struct roam_ipaddr ma;
		memset(&u, 0, sizeof(u));
		roam_ipaddr_set4(&u.src, v->ha);
		roam_ipaddr_set4(&u.dst, v->home);
		if (roam_sockaddr_addr(&v->mn, &ma, &mport) < 0 || mport == 0)
			mport = MIP4_UDP_PORT;
		u.sport = MIP4_UDP_PORT;
		u.dport = mport;
		u.id = f->dp.ip_id;
		wbuf_init_fixed(&w, pkt, sizeof(pkt));
		if (roam_ip_udp_build(&w, &u, data, len) < 0 || w.err) {
			dp_drop(f, v, &f->stats.dp_drop_too_big, "control item too big to forward");
			return -EMSGSIZE;
		}
		inner = pkt;
		ilen = w.len;
	}
	int r = tunnel(f, v, our_coa(f, v), v->fwd_coa, inner, ilen, !is_control, &olen);
	if (r < 0)
		return r;
	f->stats.dp_forwarded++;
	f->stats.dp_forwarded_bytes += olen;
	if (is_control)
		f->stats.dp_forwarded_ctrl++;
	v->st.forwarded++;
	v->st.forwarded_bytes += olen;
	return 0;
}

int fad_dp_send_data(void *arg, struct fad_visitor *v, const void *data, size_t len,
		     int is_control)
{
	struct fad *f = arg;
	if (v->state == FAD_V_FORWARDING)
		return forward_item(f, v, data, len, is_control);
	if (is_control)
		return -EINVAL; /* relay.c sends those to the mobile itself */
	if (!f->dp.ops.deliver)
		return -ENOTCONN;
	int r = f->dp.ops.deliver(f->dp.ops.arg, data, len);
	if (r == -EAGAIN) {
		f->stats.dp_tx_eagain++;
		return r;
	}
	if (r < 0) {
		dp_drop(f, v, &f->stats.dp_drop_tx_error, "delivery on the cell failed");
		return r;
	}
	f->stats.dp_delivered++;
	f->stats.dp_delivered_bytes += len;
	v->st.delivered++;
	v->st.delivered_bytes += len;
	return 0;
}

/* ---- downstream ---- */

/* May src tunnel packets for v to us?  A previous FA forwarding after an FBU sent over the old
 * link is unknown to us, hence dataplane.any_tunnel_source (default on). */
static bool source_ok(struct fad *f, const struct fad_visitor *v, struct in_addr src)
{
	if (src.s_addr == 0 || src.s_addr == INADDR_BROADCAST || is_our_coa(f, src))
		return false;
	if (f->conf.dataplane.any_tunnel_source)
		return true; /* e.g. a previous FA whose FBU did not come through us (docs 8.2) */
	if (src.s_addr == v->ha.s_addr || (v->pend.active && src.s_addr == v->pend.ha.s_addr))
		return true;
	if (f->region.enabled && src.s_addr == f->region.gfa.s_addr)
		return true; /* the region's GFA (docs 8.5) */
	if (v->prev_fa.s_addr && src.s_addr == v->prev_fa.s_addr)
		return true;
	return fad_ha_find(f, src) != NULL;
}

void fad_dp_from_tunnel(struct fad *f, const uint8_t *pkt, size_t len, uint64_t now)
{
	struct roam_ip4_hdr outer;
	struct rbuf inner;
	f->stats.dp_rx_tunnel++;
	f->stats.dp_rx_tunnel_bytes += len;
	int r = roam_ipip_decap(pkt, len, &outer, &inner);
	if (r == -EPROTONOSUPPORT) {
		dp_drop(f, NULL, &f->stats.dp_drop_not_ipip, "raw socket: not IP-in-IP");
		return;
	}
	if (r < 0 || rbuf_left(&inner) < ROAM_IP4_HDRLEN) {
		dp_drop(f, NULL, &f->stats.dp_drop_malformed, "malformed IP-in-IP");
		return;
	}
	if (f->gfa.enabled && outer.dst.s_addr == f->gfa.addr.s_addr &&
	    fad_gfa_tunnel(f, inner.p, rbuf_left(&inner), now) != -ENOENT)
		return; /* gateway-FA role: re-tunnelled to the lower FA (gfa.c, counted there) */
	if (!is_our_coa(f, outer.dst)) {
		f->stats.dp_drop_not_for_us++; /* another local address: not a tunnel of ours */
		return;
	}
	struct in_addr idst, isrc;
	memcpy(&isrc, inner.p + 12, 4);
	memcpy(&idst, inner.p + 16, 4);
	struct fad_visitor *v = fad_visitor_find(f, idst);
	if (!v) {
		dp_drop(f, NULL, &f->stats.dp_drop_no_visitor, "inner destination is no visitor");
		fad_ro_warn(f, idst, outer.src, now); /* a stale correspondent binding (ro.c) */
		return;
	}
	if (!source_ok(f, v, outer.src)) {
		char b[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &outer.src, b, sizeof(b));
		f->stats.dp_drop_bad_source++;
		v->st.dropped++;
		log_rl_warnx(&f->drop_rl, "data plane: tunnel from %s is not the visitor's home agent",
			     b);
		return;
	}
	if (v->state == FAD_V_FORWARDING && outer.src.s_addr == v->fwd_coa.s_addr) {
		/* The FA we forward to sends the mobile's traffic back: the mobile is returning
		 * (A->B->A).  Forwarding ends here instead of looping; held until it arrives. */
		fad_visitor_return(f, v, now);
	}
	if (isrc.s_addr == v->fwd_coa.s_addr && v->state == FAD_V_FORWARDING) {
		dp_drop(f, v, &f->stats.dp_drop_malformed, "would tunnel back to its source");
		return;
	}
	size_t n = rbuf_left(&inner);
	v->st.decapsulated++;
	v->st.decapsulated_bytes += n;
	if (v->state == FAD_V_PENDING && !v->remove_when_drained &&
	    bfifo_count(&v->b->cur.fifo) >= f->conf.dataplane.pending_items) {
		dp_drop(f, v, &f->stats.dp_drop_pending_full, "registration pending, hold full");
		return;
	}
	if (bfifo_push(&v->b->cur.fifo, BFIFO_DATA, inner.p, n, now) < 0) {
		dp_drop(f, v, &f->stats.dp_drop_full, "visitor FIFO full");
		return;
	}
	f->stats.dp_queued++;
	if (v->state == FAD_V_PENDING) {
		f->stats.dp_held++;
		v->st.held++;
	}
	fad_drain(f, v);
}

/* ---- upstream: packets from the mobiles on the cells ---- */

/* The mobile of v sends before its registration here is accepted (anticipated, or pending on
 * this cell): held in v->up (docs 8.3). */
static bool hold_up(const struct fad_visitor *v, int cell)
{
	return v->state == FAD_V_PENDING &&
	       (v->anticipated || (v->pend.active && v->pend.cell == cell));
}

static void from_cell(struct fad *f, int cell, const uint8_t *pkt, size_t len, bool other,
		      uint64_t now)
{
	struct rbuf rb = { pkt, pkt + len };
	struct roam_ip4_hdr ih;
	if (len == 0 || (pkt[0] >> 4) != 4)
		return; /* not IPv4: not ours */
	if (roam_ip4_decode(&rb, &ih, NULL) < 0 || ih.tot_len > len)
		return; /* the kernel drops it too */
	len = ih.tot_len;
	uint32_t d = ntohl(ih.dst.s_addr);
	if (is_our_coa(f, ih.dst) || (d >> 28) == 0xe || ih.dst.s_addr == INADDR_BROADCAST ||
	    (d & 0xff) == 0xff)
		return; /* to fad itself, multicast, broadcast: the kernel's */
	struct fad_visitor *v = fad_visitor_find(f, ih.src);
	if (other && (!v || (!hold_up(v, cell) && !(v->state == FAD_V_REGISTERED &&
						      v->cell == cell && now < v->other_until))))
		return; /* another host's frame on the cell: not ours */
	f->stats.dp_rx_cell++;
	if (!v) {
		const struct fad_departed *gone = NULL;
		for (size_t i = 0; i < FAD_DEPARTED_MAX && !other; i++)
			if (f->dp.departed[i].until > now && f->dp.departed[i].cell == cell &&
			    f->dp.departed[i].home.s_addr == ih.src.s_addr)
				gone = &f->dp.departed[i];
		if (!gone) {
			f->stats.dp_drop_cell_stranger++;
			return;
		}
		/* Just left after its deregistration reply: still routed (docs 8.1 I-4). */
		if (ih.ttl <= 1) {
			dp_drop(f, NULL, &f->stats.dp_drop_ttl, "TTL expired");
			return;
		}
		size_t olen = 0;
		int r = (gone->flags & MIP4_REQ_T)
				? tunnel(f, NULL, f->cells[cell].coa, gone->ha, pkt, len, 1, &olen)
			: f->dp.ops.deliver ? f->dp.ops.deliver(f->dp.ops.arg, pkt, len) : -ENOTCONN;
		if (r == 0)
			f->stats.dp_routed_departed++;
		return;
	}
	if (hold_up(v, cell)) {
		if (bfifo_push(&v->up, BFIFO_DATA, pkt, len, now) < 0) {
			dp_drop(f, v, &f->stats.dp_drop_up_full, "registration pending, upstream hold full");
			return;
		}
		f->stats.dp_up_held++;
		return;
	}
	/* A forwarding visitor may still be on our cell in the moments between its FBU and its
	 * move (Phase III-3: the correspondent still gets its upstream via the old FA). */
	if ((v->state != FAD_V_REGISTERED && v->state != FAD_V_FORWARDING) || v->cell != cell) {
		dp_drop(f, v, &f->stats.dp_drop_cell_state, "from a visitor not registered here");
		return;
	}
	if (ih.ttl <= 1) {
		dp_drop(f, v, &f->stats.dp_drop_ttl, "TTL expired");
		return;
	}
	if (v->flags & MIP4_REQ_T) {
		size_t olen = 0;
		int r = tunnel(f, v, f->cells[cell].coa, v->ha, pkt, len, 1, &olen);
		if (r < 0)
			return; /* counted; -EAGAIN: a datagram socket's drop, like a full queue */
		f->stats.dp_reverse++;
		f->stats.dp_reverse_bytes += olen;
		v->st.reverse++;
		v->st.reverse_bytes += olen;
		return;
	}
	int r = f->dp.ops.deliver ? f->dp.ops.deliver(f->dp.ops.arg, pkt, len) : -ENOTCONN;
	if (r < 0) {
		dp_drop(f, v, &f->stats.dp_drop_tx_error, "routing a mobile's packet failed");
		return;
	}
	f->stats.dp_routed++;
	v->st.routed++;
}

void fad_dp_from_cell(struct fad *f, int cell, const uint8_t *pkt, size_t len)
{
	from_cell(f, cell, pkt, len, false, roam_mono_ms());
}

void fad_dp_from_cell_other(struct fad *f, int cell, const uint8_t *pkt, size_t len,
			    uint64_t now)
{
	from_cell(f, cell, pkt, len, true, now);
}

void fad_dp_visitor_departed(struct fad *f, const struct fad_visitor *v, uint64_t now)
{
	if (!f->dp.enabled || v->state != FAD_V_REGISTERED || v->cell < 0)
		return;
	struct fad_departed *d = &f->dp.departed[f->dp.departed_next++ % FAD_DEPARTED_MAX];
	d->home = v->home;
	d->ha = v->ha;
	d->cell = v->cell;
	d->flags = v->flags;
	d->until = now + FAD_DEPARTED_LINGER_MS;
}

void fad_dp_release_up(struct fad *f, struct fad_visitor *v)
{
	struct bfifo_item *it;
	if (v->state != FAD_V_REGISTERED || v->cell < 0) {
		size_t n = bfifo_count(&v->up);
		if (n) {
			f->stats.dp_drop_up_flushed += n;
			log_rl_warnx(&f->drop_rl, "data plane: %zu held upstream packets dropped: "
				     "the registration was not accepted", n);
		}
		bfifo_flush(&v->up);
		return;
	}
	if (bfifo_count(&v->up))
		v->other_until = roam_mono_ms() + DP_OTHERHOST_GRACE_MS;
	while ((it = bfifo_pop(&v->up)) != NULL) {
		f->stats.dp_up_released++;
		from_cell(f, v->cell, it->data, it->len, false, 0);
		free(it);
	}
}

/* ---- set-up ---- */

int fad_dp_init_ops(struct fad *f, const struct fad_dp_ops *ops)
{
	f->dp.ops = *ops;
	if (!f->dp.txbuf)
		f->dp.txbuf = malloc(DP_OUTER_MAX);
	if (!f->dp.txbuf)
		return -ENOMEM;
	f->dp.enabled = true;
	f->send_data = fad_dp_send_data;
	f->send_data_arg = f;
	return 0;
}

static int k_xmit(void *arg, const void *pkt, size_t len)
{
	struct fad *f = arg;
	return roam_tunnel_xmit(&f->dp.tn, pkt, len);
}

static int k_deliver(void *arg, const void *pkt, size_t len)
{
	struct fad *f = arg;
	return roam_tunnel_deliver(&f->dp.tn, pkt, len);
}

static int k_route(void *arg, const struct roam_ipaddr *home, int ifindex, int add)
{
	struct fad *f = arg;
	return roam_tunnel_route(&f->dp.tn, home, ifindex, 0, add);
}

static void tun_recv(void *arg, const uint8_t *pkt, size_t len)
{
	(void)pkt;
	(void)len;
	(void)arg; /* nothing is routed into fad's TUN device; its IPv6 is off */
}

static void raw_recv(void *arg, const uint8_t *pkt, size_t len)
{
	fad_dp_from_tunnel(arg, pkt, len, roam_mono_ms());
}

static void retry_cb(void *arg)
{
	fad_drain_all(arg);
}

/* A packet the sender's stack left to checksum offload (virtual links: TP_STATUS_CSUMNOTREADY)
 * carries a partial UDP/TCP checksum; it is completed before fad forwards the packet. */
static void fix_l4_cksum(uint8_t *pkt, size_t len)
{
	struct rbuf rb = { pkt, pkt + len };
	struct roam_ip4_hdr ih;
	struct rbuf pl;
	size_t off;
	if (roam_ip4_decode(&rb, &ih, &pl) < 0 || (ih.frag & 0x3fff) != 0)
		return;
	if (ih.proto == IPPROTO_UDP)
		off = 6;
	else if (ih.proto == IPPROTO_TCP)
		off = 16;
	else
		return;
	size_t seglen = rbuf_left(&pl);
	if (seglen < off + 2)
		return;
	uint8_t *seg = pkt + ih.hlen;
	struct roam_ipaddr src, dst;
	roam_ipaddr_set4(&src, ih.src);
	roam_ipaddr_set4(&dst, ih.dst);
	seg[off] = seg[off + 1] = 0;
	uint16_t c = roam_l4_cksum(&src, &dst, ih.proto, seg, seglen);
	if (c == 0 && ih.proto == IPPROTO_UDP)
		c = 0xffff;
	seg[off] = (uint8_t)(c >> 8);
	seg[off + 1] = (uint8_t)c;
}

static void cap_cb(uv_poll_t *p, int status, int events)
{
	struct fad_dp_cap *c = p->data;
	static uint8_t buf[65536]; /* the loop is single-threaded; only one capture runs at a time */
	union {
		struct cmsghdr h;
		uint8_t b[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
	} cm;
	(void)events;
	if (status < 0)
		return;
	int i;
	for (i = 0; i < 64; i++) {
		struct sockaddr_ll ll;
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr mh = { .msg_name = &ll, .msg_namelen = sizeof(ll), .msg_iov = &iov,
				     .msg_iovlen = 1, .msg_control = cm.b,
				     .msg_controllen = sizeof(cm.b) };
		ssize_t n = recvmsg(c->fd, &mh, MSG_DONTWAIT);
		if (n < 0)
			break;
		if ((ll.sll_pkttype != PACKET_HOST && ll.sll_pkttype != PACKET_OTHERHOST) ||
		    ll.sll_protocol != htons(ETH_P_IP) || (mh.msg_flags & MSG_TRUNC))
			continue;
		for (struct cmsghdr *h = CMSG_FIRSTHDR(&mh); h; h = CMSG_NXTHDR(&mh, h)) {
			if (h->cmsg_level != SOL_PACKET || h->cmsg_type != PACKET_AUXDATA)
				continue;
			struct tpacket_auxdata aux;
			memcpy(&aux, CMSG_DATA(h), sizeof(aux));
			if (aux.tp_status & TP_STATUS_CSUMNOTREADY)
				fix_l4_cksum(buf, (size_t)n);
		}
		if (ll.sll_pkttype == PACKET_OTHERHOST)
			fad_dp_from_cell_other(c->f, c->cell, buf, (size_t)n, roam_mono_ms());
		else
			fad_dp_from_cell(c->f, c->cell, buf, (size_t)n);
	}
	/* What the kernel could not queue for us (fad starved of the CPU for longer than the
	 * receive buffer lasts): lost upstream, counted.  The kernel adds its drops up until we
	 * read them, so a look after a full batch (a busy socket) or every 256th wake-up is
	 * enough: not a system call per wake-up. */
	if (++c->wakeups % 256 != 0 && i < 64)
		return;
	struct tpacket_stats ts;
	socklen_t tl = sizeof(ts);
	if (getsockopt(c->fd, SOL_PACKET, PACKET_STATISTICS, &ts, &tl) == 0 && ts.tp_drops)
		c->f->stats.dp_drop_cell_kernel += ts.tp_drops;
}

static void cap_close_cb(uv_handle_t *h)
{
	struct fad_dp_cap *c = h->data;
	close(c->fd);
	c->open = false;
}

static int caps_open(struct fad *f)
{
	f->dp.caps = calloc(f->ncells, sizeof(*f->dp.caps));
	if (!f->dp.caps)
		return -ENOMEM;
	f->dp.ncaps = f->ncells;
	for (size_t i = 0; i < f->ncells; i++) {
		struct fad_dp_cap *c = &f->dp.caps[i];
		c->f = f;
		c->cell = (int)i;
		c->fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(ETH_P_IP));
		if (c->fd < 0)
			return -errno;
		struct sockaddr_ll ll;
		memset(&ll, 0, sizeof(ll));
		ll.sll_family = AF_PACKET;
		ll.sll_protocol = htons(ETH_P_IP);
		ll.sll_ifindex = f->cells[i].ifindex;
		int one = 1, rcvbuf = 4 << 20;
		/* A busy moment of fad must not cost the mobiles' upstream (5,000 packets/s). */
		if (setsockopt(c->fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
			(void)setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
		if (setsockopt(c->fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one)) < 0 ||
		    bind(c->fd, (struct sockaddr *)&ll, sizeof(ll)) < 0) {
			int e = -errno;
			close(c->fd);
			return e;
		}
		uv_poll_init_socket(f->loop, &c->poll, c->fd);
		c->poll.data = c;
		c->open = true;
		uv_poll_start(&c->poll, UV_READABLE, cap_cb);
		/* The kernel must not forward the mobiles' packets itself: fad does. */
		int r = roam_sysctl_forwarding(AF_INET, f->cells[i].ifname, 0);
		if (r < 0)
			log_warnx("data plane: forwarding off on %s: %s", f->cells[i].ifname,
				  strerror(-r));
		/* What was held for a mobile leaves in one burst when its registration is
		 * accepted; while the kernel resolves the home address on the cell, that burst
		 * waits in the neighbour queue, which must hold it (default: ~200 packets). */
		char key[96];
		snprintf(key, sizeof(key), "net/ipv4/neigh/%s/unres_qlen_bytes", f->cells[i].ifname);
		if ((r = roam_sysctl_set(key, "16777216")) < 0)
			log_warnx("data plane: %s: %s", key, strerror(-r));
	}
	return 0;
}

static void caps_close(struct fad *f)
{
	for (size_t i = 0; i < f->dp.ncaps; i++) {
		struct fad_dp_cap *c = &f->dp.caps[i];
		if (c->open && !uv_is_closing((uv_handle_t *)&c->poll)) {
			uv_poll_stop(&c->poll);
			uv_close((uv_handle_t *)&c->poll, cap_close_cb);
		}
	}
}

static int sync_walk(struct binding *b, void *arg)
{
	if (b->user)
		fad_dp_visitor_sync(arg, b->user);
	return 0;
}

static int gone_walk(struct binding *b, void *arg)
{
	if (b->user)
		fad_dp_visitor_gone(arg, b->user);
	return 0;
}

int fad_dp_open(struct fad *f)
{
	const struct fad_conf_dataplane *c = &f->conf.dataplane;
	int r;
	if (!c->enabled)
		return 0;
	struct roam_tunnel_opts to = {
		.tun = c->tun,
		.tun_mtu = c->tun_mtu,
		.tun_recv = tun_recv,
		.tunnel_recv = raw_recv,
		.retry = retry_cb,
		.arg = f,
	};
	if ((r = roam_tunnel_open(&f->dp.tn, f->loop, &to)) < 0)
		goto fail;
	struct fad_dp_ops ops = { k_xmit, k_deliver, k_route, f };
	if ((r = fad_dp_init_ops(f, &ops)) < 0)
		goto fail;
	if (c->capture_cells && (r = caps_open(f)) < 0) {
		log_warnx("data plane: cell capture: %s", strerror(-r));
		goto fail;
	}
	binding_foreach(&f->vl, sync_walk, f); /* visitors restored from the snapshot */
	log_info("data plane: %s (mtu %u), %s", c->tun, c->tun_mtu,
		 c->capture_cells ? "reverse tunnelling from the cells" : "no cell capture");
	return 0;
fail:
	fad_dp_close(f);
	return r;
}

void fad_dp_close(struct fad *f)
{
	if (f->store_ready)
		binding_foreach(&f->vl, gone_walk, f);
	f->dp.enabled = false;
	f->send_data = NULL;
	caps_close(f);
	roam_tunnel_close(&f->dp.tn);
	free(f->dp.txbuf);
	f->dp.txbuf = NULL;
}
