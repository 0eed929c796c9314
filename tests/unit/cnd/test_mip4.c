/* cnd's mip4 module (cnd/mip4.c; docs/protocols/mipv4.md 4, 8.4): Binding Updates from the home
 * agent (accept, refresh, move, delete; A -> Binding Acknowledge), the synchronized move (the
 * relayed deregistration reply leaves behind the old path's data), the data plane (TUN packet ->
 * IP-in-IP to the care-of address), Binding Requests before expiry, expiry, and every refusal
 * (forged, replayed, stale, stranger, wrong SPI, no Identification, RO not last, M/G, full cache)
 * counted with the binding untouched.  Fake kernel hooks record what would have been sent; the
 * clock is passed in. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../../cnd/cnd.h"
#include "roam/ip.h"

#define HA_ADDR "10.0.0.1"
#define CN_ADDR "10.0.0.10"
#define HOME "10.0.0.100"
#define COA1 "10.1.1.1"
#define COA2 "10.1.2.1"
#define KEY "c0c1c2c3c4c5c6c7c8c9cacbcccdcecf"
#define SPI 5001
#define NTP0 (((uint64_t)3900000000u) << 32)
#define T0 1000000

static const char *conf_text =
	"control_socket: /tmp/cnd-test.sock\n"
	"mip4:\n"
	"  address: " CN_ADDR "\n"
	"  max_lifetime: 600s\n"
	"  max_bindings: 2\n"
	"  fifo_items: 64\n"
	"  request_percent: 80\n"
	"  home_agents:\n"
	"    - name: ha\n"
	"      address: " HA_ADDR "\n"
	"      spi: 5001\n"
	"      key: " KEY "\n";

/* What the fake hooks saw, in order. */
enum ev_kind { EV_SEND, EV_XMIT, EV_INSTALL, EV_REMOVE };
struct ev {
	enum ev_kind kind;
	struct in_addr dst;     /* send: UDP destination; xmit: outer destination */
	uint16_t port;
	uint8_t data[2048];
	size_t len;
};
#define MAX_EV 256
static struct ev evs[MAX_EV];
static size_t nev;
static int xmit_rc; /* -EAGAIN to hold the FIFOs */

static struct ev *ev_add(enum ev_kind k)
{
	cr_assert_lt(nev, MAX_EV);
	struct ev *e = &evs[nev++];
	memset(e, 0, sizeof(*e));
	e->kind = k;
	return e;
}

static int f_send(void *arg, const struct roam_sockaddr *dst, const void *data, size_t len)
{
	(void)arg;
	struct roam_ipaddr a;
	struct ev *e = ev_add(EV_SEND);
	cr_assert_eq(roam_sockaddr_addr(dst, &a, &e->port), 0);
	e->dst = a.v4;
	memcpy(e->data, data, len);
	e->len = len;
	return 0;
}

static int f_xmit(void *arg, const void *pkt, size_t len)
{
	(void)arg;
	if (xmit_rc)
		return xmit_rc;
	struct ev *e = ev_add(EV_XMIT);
	memcpy(&e->dst, (const uint8_t *)pkt + 16, 4);
	memcpy(e->data, pkt, len);
	e->len = len;
	return 0;
}

static int f_install(void *arg, const struct roam_ipaddr *home, int add)
{
	(void)arg;
	struct ev *e = ev_add(add ? EV_INSTALL : EV_REMOVE);
	e->dst = home->v4;
	return 0;
}

static struct cnd c;
static struct cnd_mip4 *m;
static struct roam_key key;
static uint64_t last_id;
static struct roam_sockaddr ha_src;

static struct in_addr ip(const char *s)
{
	struct in_addr a;
	cr_assert_eq(inet_pton(AF_INET, s, &a), 1);
	return a;
}

static void setup(void)
{
	char err[256] = "";
	memset(&c, 0, sizeof(c));
	nev = 0;
	xmit_rc = 0;
	last_id = NTP0;
	cr_assert_eq(cnd_conf_load(&c.conf, "cnd.yaml", conf_text, 0, err, sizeof(err)), 0, "%s",
		     err);
	struct cnd_mip4_ops ops = { f_send, f_xmit, f_install, NULL };
	cr_assert_eq(cnd_mip4_new(&c, &ops, &m), 0);
	uint8_t kb[16];
	for (int i = 0; i < 16; i++)
		kb[i] = (uint8_t)(0xc0 + i);
	cr_assert_eq(auth_key_set(&key, AUTH_ALG_HMAC_MD5, kb, 16), 0);
	struct roam_ipaddr a;
	roam_ipaddr_set4(&a, ip(HA_ADDR));
	roam_sockaddr_set(&ha_src, &a, 434);
}

static void teardown(void)
{
	cnd_mip4_delete(m);
	cnd_conf_free(&c.conf);
}

TestSuite(cnd_mip4, .init = setup, .fini = teardown);

struct bu_opts {
	const char *coa;
	uint16_t lifetime;
	uint8_t flags;          /* 0: A|I */
	uint64_t id;            /* 0: next */
	const void *relay;
	size_t relay_len;
	const char *relay_dst;
	uint32_t spi;           /* 0: SPI */
	bool bad_key, no_auth, trailing;
};

/* Encodes a Binding Update into buf; returns its length. */
static size_t bu(uint8_t *buf, size_t cap, const struct bu_opts *o)
{
	struct wbuf w;
	struct mip4_msg u;
	memset(&u, 0, sizeof(u));
	u.type = MIP4_MSG_RO_UPDATE;
	u.flags = o->flags ? o->flags : (MIP4_BU_A | MIP4_BU_I);
	u.lifetime = o->lifetime;
	u.home = ip(HOME);
	u.coa = ip(o->coa ? o->coa : COA1);
	u.id = o->id ? o->id : (last_id += 0x100000000ULL);
	if (o->relay) {
		u.exts = MIP4_HAS_RO_RELAY;
		u.relay = o->relay;
		u.relay_len = (uint8_t)o->relay_len;
		u.relay_dst = ip(o->relay_dst);
	}
	wbuf_init_fixed(&w, buf, cap);
	cr_assert_eq(mip4_msg_encode(&w, &u), 0);
	if (!o->no_auth) {
		struct roam_key k = key;
		if (o->bad_key)
			k.bytes[0] ^= 1;
		cr_assert_eq(mip4_auth_append(&w, 0, MIP4_AUTH_RO, o->spi ? o->spi : SPI, &k), 0);
	}
	if (o->trailing) {
		wbuf_put_u8(&w, 140);
		wbuf_put_u8(&w, 4);
		wbuf_put_u32(&w, 0x0a000001);
	}
	cr_assert_eq(w.err, 0);
	return w.len;
}

static void input(const uint8_t *b, size_t len, uint64_t now, uint64_t ntp)
{
	cnd_mip4_input(m, b, len, &ha_src, now, ntp);
}

static void send_bu(const struct bu_opts *o, uint64_t now)
{
	uint8_t b[512];
	size_t n = bu(b, sizeof(b), o);
	input(b, n, now, last_id);
}

static struct binding *bound(void)
{
	struct roam_ipaddr h;
	roam_ipaddr_set4(&h, ip(HOME));
	return binding_lookup(&m->bc, &h);
}

/* A UDP datagram cn -> home, sequence number seq in its payload. */
static size_t data_pkt(uint8_t *buf, uint32_t seq)
{
	memset(buf, 0, 32);
	buf[0] = 0x45;
	buf[3] = 32;
	buf[8] = 64;
	buf[9] = 17;
	struct in_addr s = ip(CN_ADDR), d = ip(HOME);
	memcpy(buf + 12, &s, 4);
	memcpy(buf + 16, &d, 4);
	uint16_t ck = roam_cksum(buf, 20);
	buf[10] = (uint8_t)(ck >> 8);
	buf[11] = (uint8_t)ck;
	buf[28] = (uint8_t)(seq >> 24);
	buf[29] = (uint8_t)(seq >> 16);
	buf[30] = (uint8_t)(seq >> 8);
	buf[31] = (uint8_t)seq;
	return 32;
}

static uint32_t seq_of(const struct ev *e)
{
	const uint8_t *p = e->data + 20 + 28;
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static const struct ev *find(enum ev_kind k, size_t from)
{
	for (size_t i = from; i < nev; i++)
		if (evs[i].kind == k)
			return &evs[i];
	return NULL;
}

Test(cnd_mip4, update_creates_binding_installs_route_and_acks)
{
	send_bu(&(struct bu_opts){ .lifetime = 300 }, T0);
	struct binding *b = bound();
	cr_assert_not_null(b);
	cr_assert_eq(b->cur.coa.v4.s_addr, ip(COA1).s_addr);
	cr_assert_eq(b->lifetime_s, 300);
	cr_assert_eq(m->st.created, 1);
	const struct ev *in = find(EV_INSTALL, 0);
	cr_assert_not_null(in);
	cr_assert_eq(in->dst.s_addr, ip(HOME).s_addr);
	const struct ev *a = find(EV_SEND, 0);
	cr_assert_not_null(a, "Binding Acknowledge");
	cr_assert_eq(a->dst.s_addr, ip(HA_ADDR).s_addr);
	cr_assert_eq(a->port, 434);
	struct mip4_msg ack;
	cr_assert_eq(mip4_msg_decode(a->data, a->len, &ack), 0);
	cr_assert_eq(ack.type, MIP4_MSG_RO_ACK);
	cr_assert_eq(ack.flags & MIP4_BA_N, 0);
	cr_assert_eq(ack.id, last_id);
	cr_assert_eq(ack.home.s_addr, ip(HOME).s_addr);
	cr_assert_eq(mip4_auth_verify(a->data, &ack, MIP4_AUTH_RO, &key), 0);
	cr_assert_eq(m->st.acks_sent, 1);
}

Test(cnd_mip4, lifetime_capped_and_no_ack_without_a)
{
	send_bu(&(struct bu_opts){ .lifetime = 0xffff, .flags = MIP4_BU_I }, T0);
	cr_assert_eq(bound()->lifetime_s, 600);
	cr_assert_null(find(EV_SEND, 0));
}

Test(cnd_mip4, data_tunnelled_to_care_of_address)
{
	uint8_t p[64];
	send_bu(&(struct bu_opts){ .lifetime = 300 }, T0);
	size_t n0 = nev;
	cnd_mip4_from_tun(m, p, data_pkt(p, 7), T0);
	const struct ev *x = find(EV_XMIT, n0);
	cr_assert_not_null(x);
	struct roam_ip4_hdr outer;
	struct rbuf inner;
	cr_assert_eq(roam_ipip_decap(x->data, x->len, &outer, &inner), 0);
	cr_assert_eq(outer.src.s_addr, ip(CN_ADDR).s_addr);
	cr_assert_eq(outer.dst.s_addr, ip(COA1).s_addr);
	cr_assert_eq(rbuf_left(&inner), 32);
	cr_assert_eq(memcmp(inner.p, p, 32), 0, "inner datagram intact");
	cr_assert_eq(m->st.dp_tunnelled, 1);
	cr_assert_eq(((struct cnd_binding *)bound()->user)->st.tunnelled, 1);
}

Test(cnd_mip4, data_without_binding_dropped)
{
	uint8_t p[64];
	cnd_mip4_from_tun(m, p, data_pkt(p, 1), T0);
	cr_assert_eq(m->st.dp_drop_no_binding, 1);
	cr_assert_null(find(EV_XMIT, 0));
	cnd_mip4_from_tun(m, p, 10, T0);
	cr_assert_eq(m->st.dp_drop_malformed, 1);
}

static uint8_t drr[42];

static void make_drr(void)
{
	memset(drr, 0, sizeof(drr));
	drr[0] = MIP4_MSG_REG_REPLY;
	drr[20] = 32;
	drr[21] = 20;
}

Test(cnd_mip4, synchronized_move_relays_the_dereg_reply_behind_the_old_data)
{
	uint8_t p[64];
	make_drr();
	send_bu(&(struct bu_opts){ .lifetime = 300 }, T0);
	/* the raw socket is full: three packets stay queued on the path to COA1 */
	xmit_rc = -EAGAIN;
	for (uint32_t s = 1; s <= 3; s++)
		cnd_mip4_from_tun(m, p, data_pkt(p, s), T0);
	cr_assert_eq(bfifo_count(&bound()->cur.fifo), 3);
	size_t n0 = nev;
	send_bu(&(struct bu_opts){ .coa = COA2, .lifetime = 300, .relay = drr,
				   .relay_len = sizeof(drr), .relay_dst = COA1 }, T0 + 10);
	struct binding *b = bound();
	cr_assert_eq(b->cur.coa.v4.s_addr, ip(COA2).s_addr);
	cr_assert_eq(b->old.coa.v4.s_addr, ip(COA1).s_addr);
	cr_assert_eq(bfifo_count(&b->old.fifo), 4, "3 data + the relayed reply");
	for (size_t i = n0; i < nev; i++)
		cr_assert(!(evs[i].kind == EV_SEND && evs[i].dst.s_addr == ip(COA1).s_addr),
			  "the relayed reply must wait behind the data");
	/* new data goes to the new path */
	cnd_mip4_from_tun(m, p, data_pkt(p, 4), T0 + 11);
	cr_assert_eq(bfifo_count(&b->cur.fifo), 1);
	/* the socket takes packets again */
	xmit_rc = 0;
	n0 = nev;
	cnd_mip4_drain_all(m);
	uint32_t want = 1;
	int relayed_at = -1;
	for (size_t i = n0; i < nev; i++) {
		if (evs[i].kind == EV_XMIT) {
			cr_assert_eq(seq_of(&evs[i]), want, "in order");
			cr_assert_eq(evs[i].dst.s_addr, ip(want <= 3 ? COA1 : COA2).s_addr, "seq %u", want);
			if (want <= 3)
				cr_assert_eq(relayed_at, -1, "old data before the relayed reply");
			want++;
		} else if (evs[i].kind == EV_SEND && evs[i].dst.s_addr == ip(COA1).s_addr) {
			relayed_at = (int)i;
			cr_assert_eq(evs[i].port, 434);
			cr_assert_eq(evs[i].len, sizeof(drr));
			cr_assert_eq(memcmp(evs[i].data, drr, sizeof(drr)), 0, "the home agent's bytes");
		}
	}
	cr_assert_eq(want, 5);
	cr_assert_geq(relayed_at, 0);
	cr_assert_eq(b->old.coa.family, 0, "old path released");
	cr_assert_eq(m->st.drr_relayed, 1);
	cr_assert_eq(m->st.moved, 1);
}

Test(cnd_mip4, relay_without_old_path_goes_at_once)
{
	make_drr();
	send_bu(&(struct bu_opts){ .lifetime = 300, .relay = drr, .relay_len = sizeof(drr),
				   .relay_dst = COA2 }, T0);
	cr_assert_eq(m->st.drr_no_old_path, 1);
	cr_assert_eq(m->st.drr_relayed, 1);
	const struct ev *s = find(EV_SEND, 0);
	cr_assert_eq(s->dst.s_addr, ip(COA2).s_addr);
}

Test(cnd_mip4, unsynchronized_move_flushes_and_relays_at_once)
{
	uint8_t p[64];
	make_drr();
	c.conf.mip4.synchronize = false;
	send_bu(&(struct bu_opts){ .lifetime = 300 }, T0);
	xmit_rc = -EAGAIN;
	cnd_mip4_from_tun(m, p, data_pkt(p, 1), T0);
	send_bu(&(struct bu_opts){ .coa = COA2, .lifetime = 300, .relay = drr,
				   .relay_len = sizeof(drr), .relay_dst = COA1 }, T0 + 10);
	cr_assert_eq(bound()->old.coa.family, 0);
	cr_assert_eq(m->st.drr_relayed, 1);
}

Test(cnd_mip4, lifetime_zero_deletes_and_removes_route)
{
	send_bu(&(struct bu_opts){ .lifetime = 300 }, T0);
	send_bu(&(struct bu_opts){ .coa = HOME, .lifetime = 0 }, T0 + 5);
	cr_assert_null(bound());
	cr_assert_not_null(find(EV_REMOVE, 0));
	cr_assert_eq(m->st.deleted, 1);
	cr_assert_eq(m->st.acks_sent, 2);
}

/* A refused update: counted in *ctr, the binding as it was, no acknowledgement. */
static void refused(const struct bu_opts *o, uint64_t ntp, uint64_t *ctr)
{
	uint8_t b[512];
	uint64_t before = *ctr, acks = m->st.acks_sent + m->st.nacks_sent;
	struct binding *x = bound();
	uint32_t moves = x->moves;
	uint64_t lid = x->last_id;
	size_t n = bu(b, sizeof(b), o);
	input(b, n, T0 + 20, ntp ? ntp : last_id);
	cr_assert_eq(*ctr, before + 1);
	x = bound();
	cr_assert_not_null(x);
	cr_assert_eq(x->cur.coa.v4.s_addr, ip(COA1).s_addr);
	cr_assert_eq(x->moves, moves);
	cr_assert_eq(x->last_id, lid);
	cr_assert_eq(m->st.acks_sent + m->st.nacks_sent, acks);
}

Test(cnd_mip4, forged_update_refused)
{
	send_bu(&(struct bu_opts){ .lifetime = 300 }, T0);
	refused(&(struct bu_opts){ .coa = COA2, .lifetime = 300, .bad_key = true }, 0,
		&m->st.drop_auth_failed);
}

Test(cnd_mip4, replayed_update_refused)
{
	uint8_t b[512];
	send_bu(&(struct bu_opts){ .lifetime = 300 }, T0);
	size_t n = bu(b, sizeof(b), &(struct bu_opts){ .coa = COA2, .lifetime = 300 });
	input(b, n, T0 + 1, last_id);
	cr_assert_eq(bound()->cur.coa.v4.s_addr, ip(COA2).s_addr);
	send_bu(&(struct bu_opts){ .coa = COA1, .lifetime = 300 }, T0 + 2);
	uint32_t moves = bound()->moves;
	input(b, n, T0 + 3, last_id); /* the COA2 update again */
	cr_assert_eq(m->st.drop_replay, 1);
	cr_assert_eq(bound()->cur.coa.v4.s_addr, ip(COA1).s_addr);
	cr_assert_eq(bound()->moves, moves);
}

Test(cnd_mip4, stale_identification_refused)
{
	send_bu(&(struct bu_opts){ .lifetime = 300 }, T0);
	refused(&(struct bu_opts){ .coa = COA2, .lifetime = 300, .id = last_id - (100ULL << 32) },
		last_id, &m->st.drop_id_window);
}

Test(cnd_mip4, other_refusals)
{
	send_bu(&(struct bu_opts){ .lifetime = 300 }, T0);
	refused(&(struct bu_opts){ .coa = COA2, .lifetime = 300, .spi = 5002 }, 0,
		&m->st.drop_unknown_spi);
	refused(&(struct bu_opts){ .coa = COA2, .lifetime = 300, .no_auth = true }, 0,
		&m->st.drop_no_auth);
	refused(&(struct bu_opts){ .coa = COA2, .lifetime = 300, .flags = MIP4_BU_A }, 0,
		&m->st.drop_no_id);
	refused(&(struct bu_opts){ .coa = COA2, .lifetime = 300, .trailing = true }, 0,
		&m->st.drop_malformed);
	/* a stranger's update (right key, wrong source) */
	uint8_t b[512];
	size_t n = bu(b, sizeof(b), &(struct bu_opts){ .coa = COA2, .lifetime = 300 });
	struct roam_ipaddr a;
	struct roam_sockaddr src;
	roam_ipaddr_set4(&a, ip("10.0.0.66"));
	roam_sockaddr_set(&src, &a, 434);
	cnd_mip4_input(m, b, n, &src, T0, last_id);
	cr_assert_eq(m->st.drop_unknown_ha, 1);
	cr_assert_eq(bound()->cur.coa.v4.s_addr, ip(COA1).s_addr);
	/* garbage and other message types */
	cnd_mip4_input(m, b, 5, &ha_src, T0, last_id);
	cr_assert_eq(m->st.drop_malformed, 2);
	b[0] = MIP4_MSG_RO_ACK;
	cnd_mip4_input(m, b, 16, &ha_src, T0, last_id);
	cr_assert_eq(m->st.rx_other, 1);
	b[0] = 242;
	b[20] = 5; /* an unknown must-understand extension */
	b[21] = 0;
	cnd_mip4_input(m, b, 22, &ha_src, T0, last_id);
	cr_assert_eq(m->st.drop_must_understand, 1);
}

Test(cnd_mip4, minimal_encapsulation_nacked)
{
	send_bu(&(struct bu_opts){ .lifetime = 300 }, T0);
	send_bu(&(struct bu_opts){ .coa = COA2, .lifetime = 300,
				   .flags = MIP4_BU_A | MIP4_BU_I | MIP4_BU_M }, T0 + 1);
	cr_assert_eq(m->st.nacks_sent, 1);
	cr_assert_eq(bound()->cur.coa.v4.s_addr, ip(COA1).s_addr);
}

Test(cnd_mip4, cache_full_nacked)
{
	send_bu(&(struct bu_opts){ .lifetime = 300 }, T0);
	/* two more home addresses, max_bindings 2 */
	for (int i = 0; i < 2; i++) {
		uint8_t b[512];
		struct wbuf w;
		struct mip4_msg u;
		memset(&u, 0, sizeof(u));
		u.type = MIP4_MSG_RO_UPDATE;
		u.flags = MIP4_BU_A | MIP4_BU_I;
		u.lifetime = 300;
		u.home = ip(i ? "10.0.0.102" : "10.0.0.101");
		u.coa = ip(COA1);
		u.id = (last_id += 0x100000000ULL);
		wbuf_init_fixed(&w, b, sizeof(b));
		mip4_msg_encode(&w, &u);
		mip4_auth_append(&w, 0, MIP4_AUTH_RO, SPI, &key);
		input(b, w.len, T0, last_id);
	}
	cr_assert_eq(binding_count(&m->bc), 2);
	cr_assert_eq(m->st.drop_too_many, 1);
	cr_assert_eq(m->st.nacks_sent, 1);
}

Test(cnd_mip4, binding_request_before_expiry_then_expiry)
{
	send_bu(&(struct bu_opts){ .lifetime = 100 }, T0);
	size_t n0 = nev;
	cr_assert_eq(cnd_mip4_tick(m, T0 + 79000, last_id), T0 + 80000);
	cr_assert_null(find(EV_SEND, n0), "not yet");
	cnd_mip4_tick(m, T0 + 80000, last_id + (80ULL << 32));
	const struct ev *r = find(EV_SEND, n0);
	cr_assert_not_null(r);
	cr_assert_eq(r->dst.s_addr, ip(HA_ADDR).s_addr);
	cr_assert_eq(r->port, 434);
	struct mip4_msg q;
	cr_assert_eq(mip4_msg_decode(r->data, r->len, &q), 0);
	cr_assert_eq(q.type, MIP4_MSG_RO_REQUEST);
	cr_assert_eq(q.home.s_addr, ip(HOME).s_addr);
	cr_assert_eq(mip4_id_check(q.id, last_id + (80ULL << 32), 7), 0, "a fresh timestamp");
	cr_assert_eq(mip4_auth_verify(r->data, &q, MIP4_AUTH_RO, &key), 0);
	cr_assert_eq(q.auth[MIP4_AUTH_RO].covered + 16, r->len, "RO last");
	/* once */
	n0 = nev;
	cnd_mip4_tick(m, T0 + 90000, last_id);
	cr_assert_null(find(EV_SEND, n0));
	cr_assert_eq(m->st.requests_sent, 1);
	/* the home agent's answer re-arms it */
	send_bu(&(struct bu_opts){ .lifetime = 100 }, T0 + 91000);
	cr_assert_eq(((struct cnd_binding *)bound()->user)->request_sent, false);
	/* no answer: the binding expires and its route goes */
	cnd_mip4_tick(m, T0 + 91000 + 100001, last_id);
	cr_assert_null(bound());
	cr_assert_eq(m->st.expired, 1);
	cr_assert_not_null(find(EV_REMOVE, 0));
}

Test(cnd_mip4, conf_errors)
{
	struct cnd_conf x;
	char err[256] = "";
	cr_assert_lt(cnd_conf_load(&x, "bad.yaml", "mip4:\n  address: 10.0.0.1\n", 0, err,
				   sizeof(err)), 0);
	cr_assert(strstr(err, "home_agents"), "%s", err);
	cr_assert_lt(cnd_conf_load(&x, "bad.yaml",
				   "mip4:\n  address: 10.0.0.1\n  home_agents:\n"
				   "    - {address: 10.0.0.2, spi: 300, key: " KEY "}\n"
				   "    - {address: 10.0.0.3, spi: 300, key: " KEY "}\n",
				   0, err, sizeof(err)), 0);
	cr_assert(strstr(err, "spi 300"), "%s", err);
	cr_assert_lt(cnd_conf_load(&x, "bad.yaml",
				   "mip4:\n  address: 10.0.0.1\n  home_agents:\n"
				   "    - {address: 10.0.0.2, spi: 255, key: " KEY "}\n",
				   0, err, sizeof(err)), 0);
	cr_assert_lt(cnd_conf_load(&x, "bad.yaml", "mip4:\n  addres: 10.0.0.1\n", 0, err,
				   sizeof(err)), 0);
	/* no mip4 section: the module is off */
	cr_assert_eq(cnd_conf_load(&x, "ok.yaml", "log_level: debug\n", 0, err, sizeof(err)), 0);
	cr_assert_eq(cnd_mip4_module.enabled(&x), false);
	cnd_conf_free(&x);
	cr_assert_eq(cnd_mip4_module.enabled(&c.conf), true);
}
