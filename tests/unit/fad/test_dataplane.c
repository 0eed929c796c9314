/* fad's user-space data plane (fa/dataplane.c) with fake kernel hooks and a fake clock:
 * decapsulation and delivery order with the synchronized handoff's deregistration reply in the
 * middle, data held for a pending registration and released by the reply, re-tunnelling after
 * an FBU until the forwarding entry expires, reverse tunnelling decisions, host routes, drops. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "fad_fixture.h"
#include "roam/clock.h"
#include "roam/ip.h"

#define HA "192.0.2.1"
#define HOME "192.0.2.10"
#define CN "192.0.2.99"
#define COA0 "198.51.100.1"
#define COA1 "198.51.100.2"
#define NCOA "203.0.113.7"
#define STRANGER "203.0.113.66"
#define MN_SRC HOME ":434"

static const char *conf_text =
	"snapshot: \"\"\n"
	"max_lifetime: 600s\n"
	"fbu_max_lifetime: 10s\n"
	"fifo_items: 8\n"
	"dataplane:\n"
	"  enabled: true\n"
	"  pending_items: 4\n"
	"  ttl: 50\n"
	"  any_tunnel_source: false\n"
	FX_FA_CELLS_HA_MN;

/* Everything fad hands to the kernel, in order. */
enum ev_kind { EV_UDP, EV_XMIT, EV_DELIVER };
struct ev {
	enum ev_kind kind;
	uint8_t data[2048];
	size_t len;
	struct roam_sockaddr dst; /* EV_UDP */
};

static struct fad f;
static struct ev evs[64];
static int nev;
static int deliver_eagain, xmit_eagain;
static int routes_added, routes_removed, route_ifindex;
static uint64_t now0 = 7000000;
static uint64_t wall0 = 1790000000000ULL;
static uint64_t ntp0;
static struct roam_key kmnha, kfaha, kmnfa;

static void record(enum ev_kind k, const void *data, size_t len, const struct roam_sockaddr *dst)
{
	cr_assert_lt(nev, 64);
	cr_assert_leq(len, sizeof(evs[0].data));
	evs[nev].kind = k;
	memcpy(evs[nev].data, data, len);
	evs[nev].len = len;
	if (dst)
		evs[nev].dst = *dst;
	nev++;
}

static int f_udp(void *arg, const struct roam_sockaddr *dst, const struct roam_ipaddr *src,
		 int ifindex, const void *data, size_t len)
{
	(void)arg;
	(void)src;
	(void)ifindex;
	record(EV_UDP, data, len, dst);
	return 0;
}

/* A kernel hook that is full (-EAGAIN) while *eagain is set, else records the packet. */
static int hook(const int *eagain, enum ev_kind k, const void *pkt, size_t len)
{
	if (*eagain)
		return -EAGAIN;
	record(k, pkt, len, NULL);
	return 0;
}

static int f_xmit(void *arg, const void *pkt, size_t len)
{
	(void)arg;
	return hook(&xmit_eagain, EV_XMIT, pkt, len);
}

static int f_deliver(void *arg, const void *pkt, size_t len)
{
	(void)arg;
	return hook(&deliver_eagain, EV_DELIVER, pkt, len);
}

static int f_route(void *arg, const struct roam_ipaddr *home, int ifindex, int add)
{
	(void)arg;
	(void)home;
	if (add) {
		routes_added++;
		route_ifindex = ifindex;
	} else {
		routes_removed++;
		route_ifindex = 0;
	}
	return 0;
}

static void setup(void)
{
	fx_fad_init(&f, conf_text, now0, 11, f_udp, NULL);
	struct fad_dp_ops ops = { f_xmit, f_deliver, f_route, NULL };
	cr_assert_eq(fad_dp_init_ops(&f, &ops), 0);
	cr_assert_eq(f.send_data, fad_dp_send_data);
	nev = 0;
	deliver_eagain = xmit_eagain = 0;
	routes_added = routes_removed = route_ifindex = 0;
	ntp0 = auth_ntp_from_unix_ms(wall0);
	fx_keys(&kmnha, &kfaha, &kmnfa, NULL, NULL, NULL, NULL);
}

static void teardown(void)
{
	fx_fad_fini(&f);
}

static size_t mk_request(uint8_t *buf, size_t n, uint8_t type, const char *ha, const char *coa,
			 uint16_t life, uint8_t flags, uint64_t id, int fbu)
{
	struct wbuf w;
	fx_msg(&w, buf, n,
	       &(struct fx_hdr){ .type = type, .flags = flags, .life = life, .home = HOME,
				 .ha = ha, .coa = coa, .id = id });
	if (fbu) {
		fx_auth(&w, MIP4_AUTH_MN_PAR, 4000, &kmnfa);
	} else {
		fx_auth(&w, MIP4_AUTH_MN_HA, 1000, &kmnha);
		fx_auth(&w, MIP4_AUTH_MN_FA, 4000, &kmnfa);
	}
	return w.len;
}

static size_t mk_reply(uint8_t *buf, size_t n, uint8_t code, uint16_t life, uint64_t id)
{
	struct wbuf w;
	fx_msg(&w, buf, n,
	       &(struct fx_hdr){ .type = MIP4_MSG_REG_REPLY, .code = code, .life = life,
				 .home = HOME, .ha = HA, .id = id });
	fx_auth(&w, MIP4_AUTH_MN_HA, 1000, &kmnha);
	fx_auth(&w, MIP4_AUTH_FA_HA, 3000, &kfaha);
	return w.len;
}

static uint64_t id_at(uint64_t ms)
{
	return mip4_id_next(wall0 + ms, 0, 0);
}

static void in_cell(const uint8_t *p, size_t n, uint64_t now)
{
	fx_input(&f, p, n, MN_SRC, 11, now, now0, ntp0);
}

static void in_net(const uint8_t *p, size_t n, uint64_t now)
{
	fx_input(&f, p, n, HA ":434", 99, now, now0, ntp0);
}

/* Relays a request (flags) from the mobile on cell 0; returns its id. */
static uint64_t request(uint8_t flags, uint64_t at)
{
	uint8_t b[512];
	uint64_t id = id_at(at);
	size_t n = mk_request(b, sizeof(b), MIP4_MSG_REG_REQUEST, HA, COA0, 300, flags, id, 0);
	in_cell(b, n, now0 + at);
	return id;
}

static void reply(uint8_t code, uint16_t life, uint64_t id, uint64_t at)
{
	uint8_t b[512];
	size_t n = mk_reply(b, sizeof(b), code, life, id);
	in_net(b, n, now0 + at);
}

/* Registers HOME on cell 0 (flags); the log is emptied. */
static uint64_t register_home(uint8_t flags)
{
	uint64_t id = request(flags, 0);
	reply(0, 300, id, 50);
	struct fad_visitor *v = fad_visitor_find(&f, a4(HOME));
	cr_assert_not_null(v);
	cr_assert_eq(v->state, FAD_V_REGISTERED);
	nev = 0;
	return id;
}

/* An inner UDP datagram src -> dst whose payload is the tag byte seq, TTL ttl. */
static size_t mk_inner(uint8_t *buf, size_t n, const char *src, const char *dst, uint8_t seq,
		       uint8_t ttl)
{
	uint8_t payload[4] = { 'D', seq, 0, 0 };
	return fx_udp(buf, n, src, dst, (struct roam_ip_udp){ .ttl = ttl }, payload,
		      sizeof(payload));
}

/* The IP-in-IP datagram osrc -> odst carrying data packet seq CN -> HOME, fed to fad. */
static void tunnel_in(const char *osrc, const char *odst, const char *idst, uint8_t seq)
{
	uint8_t inner[256], outer[512];
	size_t n = mk_inner(inner, sizeof(inner), CN, idst, seq, 60);
	struct roam_ipip p;
	memset(&p, 0, sizeof(p));
	p.src = ip(osrc);
	p.dst = ip(odst);
	p.ttl = 60;
	struct wbuf w;
	wbuf_init_fixed(&w, outer, sizeof(outer));
	cr_assert_eq(roam_ipip_encap(&w, &p, inner, n), 0);
	fad_dp_from_tunnel(&f, outer, w.len, now0);
}

static void data_in(uint8_t seq)
{
	tunnel_in(HA, COA0, HOME, seq);
}

/* The tag of an inner datagram (delivered or inside an XMIT). */
static int tag_of(const uint8_t *pkt, size_t len)
{
	struct roam_ip_udp u;
	struct rbuf pl;
	if (roam_ip_udp_parse(pkt, len, &u, &pl) < 0 || rbuf_left(&pl) < 2 || pl.p[0] != 'D')
		return -1;
	return pl.p[1];
}

static int delivered_tag(int i)
{
	cr_assert_eq(evs[i].kind, EV_DELIVER, "event %d is %d", i, evs[i].kind);
	return tag_of(evs[i].data, evs[i].len);
}

/* Decapsulates an XMIT event; checks the outer addresses; returns the inner. */
static struct rbuf xmit_inner(int i, const char *osrc, const char *odst)
{
	struct roam_ip4_hdr o;
	struct rbuf in;
	cr_assert_eq(evs[i].kind, EV_XMIT, "event %d is %d", i, evs[i].kind);
	cr_assert_eq(roam_ipip_decap(evs[i].data, evs[i].len, &o, &in), 0);
	cr_assert_eq(o.src.s_addr, a4(osrc).s_addr, "outer source");
	cr_assert_eq(o.dst.s_addr, a4(odst).s_addr, "outer destination");
	cr_assert_eq(o.ttl, 50, "dataplane.ttl");
	return in;
}

TestSuite(fad_dp, .init = setup, .fini = teardown);

Test(fad_dp, route_follows_registration)
{
	uint64_t id = register_home(0);
	cr_assert_eq(routes_added, 1);
	cr_assert_eq(route_ifindex, 11, "host route on the cell interface");
	cr_assert_eq(f.stats.dp_installs, 1);
	/* Plain deregistration: relayed, visitor and route go. */
	uint64_t id2 = request(0, 1000);
	(void)id;
	uint8_t b[512];
	size_t n = mk_reply(b, sizeof(b), 0, 0, id2);
	in_net(b, n, now0 + 1100);
	cr_assert_null(fad_visitor_find(&f, a4(HOME)));
	cr_assert_eq(routes_removed, 1);
	cr_assert_eq(route_ifindex, 0);
}

Test(fad_dp, delivery_in_order_with_dereg_reply_in_the_middle)
{
	uint64_t id = register_home(0);
	/* The cell is busy: what arrives stays queued in order. */
	deliver_eagain = 1;
	data_in(1);
	data_in(2);
	data_in(3);
	cr_assert_eq(nev, 0);
	cr_assert_eq(f.stats.dp_queued, 3);
	/* The synchronized handoff's deregistration reply from the home agent, then two data
	 * packets that arrive after it. */
	reply(0, 0, mip4_id_dereg(id_at(2500)), 3000);
	cr_assert_eq(nev, 0, "the reply waits behind the data");
	(void)id;
	deliver_eagain = 0;
	cr_assert_eq(fad_drain_all(&f), 0);
	cr_assert_eq(nev, 4);
	cr_assert_eq(delivered_tag(0), 1);
	cr_assert_eq(delivered_tag(1), 2);
	cr_assert_eq(delivered_tag(2), 3);
	cr_assert_eq(evs[3].kind, EV_UDP, "the reply last");
	struct mip4_msg m;
	cr_assert_eq(mip4_msg_decode(evs[3].data, evs[3].len, &m), 0);
	cr_assert_eq(m.type, MIP4_MSG_REG_REPLY);
	cr_assert_eq(m.lifetime, 0);
	/* The visitor went with its reply: later data has nowhere to go. */
	cr_assert_null(fad_visitor_find(&f, a4(HOME)));
	cr_assert_eq(routes_removed, 1);
	data_in(4);
	cr_assert_eq(nev, 4);
	cr_assert_eq(f.stats.dp_drop_no_visitor, 1);
	cr_assert_eq(f.stats.dp_delivered, 3);
}

Test(fad_dp, delivered_at_once_when_the_cell_takes_it)
{
	register_home(0);
	data_in(7);
	cr_assert_eq(nev, 1);
	cr_assert_eq(delivered_tag(0), 7);
	struct fad_visitor *v = fad_visitor_find(&f, a4(HOME));
	cr_assert_eq(v->st.decapsulated, 1);
	cr_assert_eq(v->st.delivered, 1);
	cr_assert_eq(bfifo_count(&v->b->cur.fifo), 0);
	/* The inner datagram is delivered unchanged (the kernel forwards it, TTL and all). */
	cr_assert_eq(evs[0].data[8], 60);
}

Test(fad_dp, pending_registration_holds_then_releases)
{
	uint64_t id = request(0, 0);
	nev = 0;
	struct fad_visitor *v = fad_visitor_find(&f, a4(HOME));
	cr_assert_eq(v->state, FAD_V_PENDING);
	for (uint8_t i = 1; i <= 6; i++)
		data_in(i);
	cr_assert_eq(nev, 0, "held while the registration is pending");
	cr_assert_eq(f.stats.dp_held, 4);
	cr_assert_eq(v->st.held, 4);
	cr_assert_eq(f.stats.dp_drop_pending_full, 2, "pending_items bounds the hold");
	cr_assert_eq(routes_added, 0);
	reply(0, 300, id, 40);
	cr_assert_eq(v->state, FAD_V_REGISTERED);
	cr_assert_eq(routes_added, 1);
	cr_assert_eq(nev, 5);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(delivered_tag(i), i + 1, "held data first, in order");
	cr_assert_eq(evs[4].kind, EV_UDP, "then the reply");
}

Test(fad_dp, pending_denied_flushes_the_hold)
{
	uint64_t id = request(0, 0);
	nev = 0;
	data_in(1);
	data_in(2);
	reply(MIP4_CODE_HA_MN_AUTH, 0, id, 40);
	cr_assert_eq(nev, 1);
	cr_assert_eq(evs[0].kind, EV_UDP, "only the denial");
	cr_assert_null(fad_visitor_find(&f, a4(HOME)));
	cr_assert_eq(f.stats.dp_delivered, 0);
}

Test(fad_dp, forwarding_after_fbu_until_expiry)
{
	register_home(0);
	struct fad_visitor *v = fad_visitor_find(&f, a4(HOME));
	deliver_eagain = 1;
	data_in(1);
	data_in(2);
	cr_assert_eq(bfifo_count(&v->b->cur.fifo), 2);
	/* FBU from the mobile: forward to NCOA for 5 s. */
	uint8_t b[512];
	size_t n = mk_request(b, sizeof(b), MIP4_MSG_FBU, COA0, NCOA, 5, 0, id_at(4000), 1);
	in_cell(b, n, now0 + 4000);
	cr_assert_eq(v->state, FAD_V_FORWARDING);
	cr_assert_eq(routes_removed, 1, "no delivery on the cell any more");
	/* The FBAck to the new care-of address first (the new FA learns from it that the mobile
	 * is coming), then the queued data, re-tunnelled. */
	cr_assert_eq(nev, 3);
	cr_assert_eq(evs[0].kind, EV_UDP);
	for (int i = 1; i < 3; i++) {
		struct rbuf in = xmit_inner(i, COA0, NCOA);
		cr_assert_eq(tag_of(in.p, rbuf_left(&in)), i);
		cr_assert_eq(in.p[8], 59, "inner TTL decremented: forwarded");
	}
	/* Still arriving from the home agent: re-tunnelled. */
	data_in(3);
	cr_assert_eq(nev, 4);
	struct rbuf in = xmit_inner(3, COA0, NCOA);
	cr_assert_eq(tag_of(in.p, rbuf_left(&in)), 3);
	/* The deregistration reply: re-tunnelled as the home agent's UDP datagram. */
	reply(0, 0, mip4_id_dereg(v->reg_id), 4200);
	cr_assert_eq(nev, 5);
	in = xmit_inner(4, COA0, NCOA);
	struct roam_ip_udp u;
	struct rbuf pl;
	cr_assert_eq(roam_ip_udp_parse(in.p, rbuf_left(&in), &u, &pl), 0);
	cr_assert_eq(u.src.v4.s_addr, a4(HA).s_addr);
	cr_assert_eq(u.dst.v4.s_addr, a4(HOME).s_addr);
	cr_assert_eq(u.sport, 434);
	cr_assert_eq(u.dport, 434);
	struct mip4_msg m;
	cr_assert_eq(mip4_msg_decode(pl.p, rbuf_left(&pl), &m), 0);
	cr_assert_eq(m.type, MIP4_MSG_REG_REPLY);
	cr_assert_eq(m.lifetime, 0);
	cr_assert_eq(f.stats.dp_forwarded, 4);
	cr_assert_eq(f.stats.dp_forwarded_ctrl, 1);
	cr_assert_eq(v->st.forwarded, 4);
	cr_assert_eq(f.stats.dp_delivered, 0);
	/* The entry expires with the FBU's lifetime; then nothing is forwarded. */
	fad_store_expire(&f, now0 + 4000 + 5001);
	cr_assert_null(fad_visitor_find(&f, a4(HOME)));
	data_in(4);
	cr_assert_eq(nev, 5);
	cr_assert_eq(f.stats.dp_drop_no_visitor, 1);
}

Test(fad_dp, forwarding_retries_when_the_socket_is_full)
{
	register_home(0);
	uint8_t b[512];
	size_t n = mk_request(b, sizeof(b), MIP4_MSG_FBU, COA0, NCOA, 5, 0, id_at(4000), 1);
	in_cell(b, n, now0 + 4000);
	nev = 0;
	xmit_eagain = 1;
	data_in(1);
	data_in(2);
	cr_assert_eq(nev, 0);
	cr_assert_geq(f.stats.dp_tx_eagain, 1);
	xmit_eagain = 0;
	cr_assert_eq(fad_drain_all(&f), 0);
	cr_assert_eq(nev, 2);
	struct rbuf in = xmit_inner(0, COA0, NCOA);
	cr_assert_eq(tag_of(in.p, rbuf_left(&in)), 1);
	in = xmit_inner(1, COA0, NCOA);
	cr_assert_eq(tag_of(in.p, rbuf_left(&in)), 2);
}

Test(fad_dp, reverse_tunnel_decisions)
{
	uint8_t p[256];
	/* Without T: routed normally (into the TUN device). */
	register_home(0);
	size_t n = mk_inner(p, sizeof(p), HOME, CN, 1, 64);
	fad_dp_from_cell(&f, 0, p, n);
	cr_assert_eq(nev, 1);
	cr_assert_eq(evs[0].kind, EV_DELIVER);
	cr_assert_eq(f.stats.dp_routed, 1);
	/* From the wrong cell: dropped. */
	fad_dp_from_cell(&f, 1, p, n);
	cr_assert_eq(nev, 1);
	cr_assert_eq(f.stats.dp_drop_cell_state, 1);
	/* Addressed to fad itself, multicast: the kernel's, not counted. */
	size_t n2 = mk_inner(p, sizeof(p), HOME, COA0, 2, 64);
	fad_dp_from_cell(&f, 0, p, n2);
	n2 = mk_inner(p, sizeof(p), HOME, "224.0.0.11", 2, 64);
	fad_dp_from_cell(&f, 0, p, n2);
	cr_assert_eq(nev, 1);
	cr_assert_eq(f.stats.dp_rx_cell, 2);
	/* A stranger: dropped. */
	n2 = mk_inner(p, sizeof(p), STRANGER, CN, 3, 64);
	fad_dp_from_cell(&f, 0, p, n2);
	cr_assert_eq(f.stats.dp_drop_cell_stranger, 1);
	cr_assert_eq(nev, 1);
}

Test(fad_dp, reverse_tunnel_with_t_bit)
{
	uint8_t p[256];
	register_home(MIP4_REQ_T);
	size_t n = mk_inner(p, sizeof(p), HOME, CN, 9, 64);
	fad_dp_from_cell(&f, 0, p, n);
	cr_assert_eq(nev, 1);
	struct rbuf in = xmit_inner(0, COA0, HA);
	cr_assert_eq(tag_of(in.p, rbuf_left(&in)), 9);
	cr_assert_eq(in.p[8], 63, "inner TTL decremented");
	cr_assert_eq(f.stats.dp_reverse, 1);
	cr_assert_eq(fad_visitor_find(&f, a4(HOME))->st.reverse, 1);
	/* TTL 1: not forwarded. */
	n = mk_inner(p, sizeof(p), HOME, CN, 10, 1);
	fad_dp_from_cell(&f, 0, p, n);
	cr_assert_eq(nev, 1);
	cr_assert_eq(f.stats.dp_drop_ttl, 1);
}

Test(fad_dp, drops)
{
	register_home(0);
	uint8_t junk[40];
	memset(junk, 0, sizeof(junk));
	/* Not even IPv4. */
	fad_dp_from_tunnel(&f, junk, sizeof(junk), now0);
	cr_assert_eq(f.stats.dp_drop_malformed + f.stats.dp_drop_not_ipip, 1);
	/* Not IP-in-IP: an inner datagram alone. */
	uint8_t p[256];
	size_t n = mk_inner(p, sizeof(p), HA, COA0, 1, 64);
	fad_dp_from_tunnel(&f, p, n, now0);
	cr_assert_eq(f.stats.dp_drop_not_ipip, 1);
	/* Outer destination not one of our care-of addresses. */
	tunnel_in(HA, "198.51.100.200", HOME, 1);
	cr_assert_eq(f.stats.dp_drop_not_for_us, 1);
	/* From a stranger (any_tunnel_source: false). */
	tunnel_in(STRANGER, COA0, HOME, 1);
	cr_assert_eq(f.stats.dp_drop_bad_source, 1);
	/* From ourselves: never. */
	f.conf.dataplane.any_tunnel_source = true;
	tunnel_in(COA1, COA0, HOME, 1);
	cr_assert_eq(f.stats.dp_drop_bad_source, 2);
	f.conf.dataplane.any_tunnel_source = false;
	/* For no visitor. */
	tunnel_in(HA, COA0, "192.0.2.77", 1);
	cr_assert_eq(f.stats.dp_drop_no_visitor, 1);
	cr_assert_eq(nev, 0);
	/* FIFO full (fifo_items 8) while the cell refuses. */
	deliver_eagain = 1;
	for (uint8_t i = 0; i < 10; i++)
		data_in(i);
	cr_assert_eq(f.stats.dp_drop_full, 2);
	cr_assert_eq(fad_visitor_find(&f, a4(HOME))->st.dropped, 4);
}

Test(fad_dp, previous_fa_of_a_relayed_fbu_is_accepted)
{
	/* We are the new FA: the mobile registered here and sends its FBU for the previous FA
	 * through us; the previous FA's forwarded tunnel is accepted, a stranger's is not. */
	register_home(0);
	uint8_t b[512];
	size_t n = mk_request(b, sizeof(b), MIP4_MSG_FBU, "198.51.100.77", COA0, 5, 0, id_at(100),
			      1);
	in_cell(b, n, now0 + 100);
	cr_assert_eq(f.stats.fbu_relayed, 1);
	nev = 0;
	tunnel_in(STRANGER, COA0, HOME, 1);
	cr_assert_eq(nev, 0);
	cr_assert_eq(f.stats.dp_drop_bad_source, 1);
	tunnel_in("198.51.100.77", COA0, HOME, 2);
	cr_assert_eq(nev, 1);
	cr_assert_eq(delivered_tag(0), 2);
}

/* ---- Phase III at the new FA: the mobile announced by the previous FA's FBAck ---- */

#define PREV "198.51.100.77" /* the previous FA */

/* The previous FA's FBAck (accepted, forwarding for life s) for HOME, MN-PAR under key k,
 * sent from src to our care-of address. */
static void fback_in(const char *src, const struct roam_key *k, uint8_t code, uint16_t life,
		     uint64_t at)
{
	uint8_t b[512];
	struct wbuf w;
	fx_msg(&w, b, sizeof(b),
	       &(struct fx_hdr){ .type = MIP4_MSG_FBACK, .code = code, .life = life, .home = HOME,
				 .ha = PREV, .id = id_at(at) });
	fx_auth(&w, MIP4_AUTH_MN_PAR, 4000, k);
	fx_input(&f, b, w.len, src, 99, now0 + at, now0, ntp0);
}

static int udp_type(int i)
{
	cr_assert_eq(evs[i].kind, EV_UDP, "event %d is %d", i, evs[i].kind);
	return evs[i].data[0];
}

Test(fad_dp, fback_announces_the_mobile_everything_held_until_it_registers)
{
	fback_in(PREV ":434", &kmnfa, 0, 5, 0);
	struct fad_visitor *v = fad_visitor_find(&f, a4(HOME));
	cr_assert_not_null(v, "the FBAck created the visitor");
	cr_assert(v->anticipated);
	cr_assert_eq(v->state, FAD_V_PENDING);
	cr_assert_eq(f.stats.anticipated, 1);
	cr_assert_eq(nev, 0, "the mobile is not here yet: the FBAck is held too");
	/* The previous FA forwards (accepted from it although any_tunnel_source is off). */
	for (uint8_t i = 1; i <= 3; i++)
		tunnel_in(PREV, COA0, HOME, i);
	cr_assert_eq(nev, 0);
	cr_assert_eq(f.stats.dp_held, 3);
	/* The mobile sends upstream before its request (to its old router's MAC): held. */
	uint8_t p[256];
	size_t n = mk_inner(p, sizeof(p), HOME, CN, 50, 64);
	fad_dp_from_cell_other(&f, 0, p, n, now0 + 10);
	cr_assert_eq(f.stats.dp_up_held, 1);
	cr_assert_eq(nev, 0);
	/* Its request arrives on the cell: relayed, and the FBAck goes to it; data still held. */
	uint64_t id = request(0, 20);
	cr_assert_not(v->anticipated);
	cr_assert_eq(f.stats.anticipated_arrived, 1);
	cr_assert_eq(nev, 2);
	cr_assert_eq(udp_type(0), MIP4_MSG_REG_REQUEST);
	cr_assert_eq(udp_type(1), MIP4_MSG_FBACK);
	cr_assert_eq(routes_added, 0);
	tunnel_in(HA, COA0, HOME, 4); /* the home agent already tunnels here */
	/* More upstream, now through us (pending on this cell): held. */
	fad_dp_from_cell(&f, 0, p, n);
	cr_assert_eq(f.stats.dp_up_held, 2);
	cr_assert_eq(nev, 2);
	/* The reply: upstream sent, the held data in order, then the reply. */
	nev = 0;
	reply(0, 300, id, 80);
	cr_assert_eq(v->state, FAD_V_REGISTERED);
	cr_assert_eq(f.stats.dp_up_released, 2);
	cr_assert_eq(nev, 2 + 4 + 1);
	cr_assert_eq(evs[0].kind, EV_DELIVER);
	cr_assert_eq(tag_of(evs[0].data, evs[0].len), 50, "upstream first");
	cr_assert_eq(evs[1].kind, EV_DELIVER);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(delivered_tag(2 + i), i + 1, "held downstream in order");
	cr_assert_eq(udp_type(6), MIP4_MSG_REG_REPLY);
	/* Shortly after, its frames to the old router's MAC are still taken; a stranger's never. */
	fad_dp_from_cell_other(&f, 0, p, n, roam_mono_ms());
	cr_assert_eq(nev, 8);
	size_t n2 = mk_inner(p, sizeof(p), STRANGER, CN, 51, 64);
	fad_dp_from_cell_other(&f, 0, p, n2, roam_mono_ms());
	cr_assert_eq(nev, 8);
	cr_assert_eq(f.stats.dp_drop_cell_stranger, 0, "another host's frame: not even counted");
}

Test(fad_dp, fback_forged_or_misdirected_creates_nothing)
{
	struct roam_key bad = kmnfa;
	bad.bytes[0] ^= 1;
	fback_in(PREV ":434", &bad, 0, 5, 0);            /* wrong MN-PAR key */
	fback_in(STRANGER ":434", &kmnfa, 0, 5, 10);     /* not sent by the FA it names */
	fback_in(PREV ":434", &kmnfa, MIP4_CODE_FA_PROHIBITED, 0, 20); /* a refusal */
	cr_assert_null(fad_visitor_find(&f, a4(HOME)));
	cr_assert_eq(f.stats.anticipated_refused, 3);
	cr_assert_eq(f.stats.fback_unknown, 3);
	tunnel_in(PREV, COA0, HOME, 1);
	cr_assert_eq(f.stats.dp_drop_no_visitor, 1);
	cr_assert_eq(nev, 0);
}

Test(fad_dp, announced_mobile_that_never_comes_expires)
{
	fback_in(PREV ":434", &kmnfa, 0, 5, 0);
	tunnel_in(PREV, COA0, HOME, 1);
	/* Held for the forwarding time the FBAck names, at least relay_timeout. */
	uint64_t hold = f.conf.relay_timeout > 5000 ? f.conf.relay_timeout : 5000;
	fad_store_expire(&f, now0 + hold - 1);
	cr_assert_not_null(fad_visitor_find(&f, a4(HOME)));
	fad_store_expire(&f, now0 + hold + 1);
	cr_assert_null(fad_visitor_find(&f, a4(HOME)));
	cr_assert_eq(f.stats.anticipated_expired, 1);
	cr_assert_eq(nev, 0);
}

/* HOME registered on cell 0, then its FBU (at 100 ms) makes it a forwarding entry to ncoa; the
 * event log is emptied. */
static struct fad_visitor *registered_then_forwarding_to(const char *ncoa)
{
	register_home(0);
	uint8_t b[512];
	size_t n = mk_request(b, sizeof(b), MIP4_MSG_FBU, COA0, ncoa, 5, 0, id_at(100), 1);
	in_cell(b, n, now0 + 100);
	struct fad_visitor *v = fad_visitor_find(&f, a4(HOME));
	cr_assert_eq(v->state, FAD_V_FORWARDING);
	nev = 0;
	return v;
}

Test(fad_dp, forwarding_ends_when_its_target_sends_the_mobile_back)
{
	/* A -> B -> A: we forward to NCOA after the FBU; the mobile then leaves NCOA's cell for
	 * ours again and NCOA forwards to us.  That traffic must not go back to NCOA. */
	struct fad_visitor *v = registered_then_forwarding_to(NCOA);
	f.conf.dataplane.any_tunnel_source = true; /* NCOA is not a home agent of ours */
	tunnel_in(NCOA, COA0, HOME, 1);
	cr_assert_eq(f.stats.forwarding_returned, 1);
	cr_assert_eq(v->state, FAD_V_PENDING);
	cr_assert(v->anticipated);
	cr_assert_eq(nev, 0, "held, not tunnelled back");
	cr_assert_eq(f.stats.dp_forwarded, 0);
	uint64_t id = request(0, 200);
	reply(0, 300, id, 250);
	cr_assert_eq(v->state, FAD_V_REGISTERED);
	cr_assert_eq(f.stats.dp_delivered, 1);
}

Test(fad_dp, fback_from_the_fa_we_forward_to_ends_forwarding)
{
	struct fad_visitor *v = registered_then_forwarding_to(PREV);
	/* The mobile's FBU at PREV names us: PREV's FBAck comes here. */
	fback_in(PREV ":434", &kmnfa, 0, 5, 300);
	cr_assert_eq(f.stats.forwarding_returned, 1);
	cr_assert_eq(v->state, FAD_V_PENDING);
	cr_assert(v->anticipated);
	cr_assert_eq(nev, 0, "the FBAck waits for the mobile");
}

Test(fad_dp, upstream_still_routed_just_after_the_dereg_reply)
{
	/* The deregistration reply via us can beat the reply via the new FA: the mobile still
	 * sends upstream through us for a moment, which is routed, not dropped. */
	register_home(0);
	struct fad_visitor *v = fad_visitor_find(&f, a4(HOME));
	reply(0, 0, mip4_id_dereg(v->reg_id), 100);
	cr_assert_null(fad_visitor_find(&f, a4(HOME)), "the visitor is gone");
	nev = 0;
	uint8_t p[256];
	size_t n = mk_inner(p, sizeof(p), HOME, CN, 7, 64);
	fad_dp_from_cell(&f, 0, p, n);
	cr_assert_eq(nev, 1);
	cr_assert_eq(evs[0].kind, EV_DELIVER);
	cr_assert_eq(f.stats.dp_routed_departed, 1);
	fad_dp_from_cell(&f, 1, p, n); /* not from the cell it left */
	cr_assert_eq(nev, 1);
	cr_assert_eq(f.stats.dp_drop_cell_stranger, 1);
	cr_assert_eq(tag_of(evs[0].data, evs[0].len), 7);
}
