/* The serialised PPP negotiated state (ppp_state_encode / ppp_state_decode, docs/protocols/
 * ppp.md "Negotiated state, serialised"): a byte vector written by hand from the layout, the
 * round trip, every truncation, every out-of-range field, and export -> encode -> decode ->
 * import resuming an opened session without a packet exchanged. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "roam/ppp.h"

static const uint8_t v_state[] = {
	0x01,                   /* version */
	0x01,                   /* role: authenticator */
	0x03,                   /* phase: network */
	0x05, 0xdc,             /* MRU we receive: 1500 */
	0x05, 0x78,             /* MRU we send: 1400 */
	0xff, 0xff, 0xff, 0xff, /* receive ACCM */
	0x00, 0x0a, 0x00, 0x00, /* send ACCM */
	0x11, 0x22, 0x33, 0x44, /* our magic */
	0x55, 0x66, 0x77, 0x88, /* the peer's magic */
	0x39,                   /* flags: PFC send, ACFC receive, authenticated, IPCP opened */
	0xc2, 0x23,             /* CHAP */
	0x0a, 0x40, 0x00, 0x01, /* our address */
	0x0a, 0x40, 0x00, 0x02, /* the peer's */
	0x0a, 0x00, 0x00, 0x35, /* DNS 1 */
	0x00, 0x00, 0x00, 0x00, /* DNS 2 */
	0x03, 0x02,             /* next LCP / IPCP identifiers */
	0x05, 'a', 'l', 'i', 'c', 'e',
};

static void expected(struct ppp_state *st)
{
	memset(st, 0, sizeof(*st));
	st->role = PPP_ROLE_AUTHENTICATOR;
	st->phase = PPP_PHASE_NETWORK;
	st->mru_recv = 1500;
	st->mru_send = 1400;
	st->accm_recv = 0xffffffff;
	st->accm_send = 0x000a0000;
	st->magic_local = 0x11223344;
	st->magic_peer = 0x55667788;
	st->pfc_send = 1;
	st->acfc_recv = 1;
	st->auth_proto = PPP_PROTO_CHAP;
	st->authenticated = 1;
	st->ipcp_opened = 1;
	strcpy(st->peer_name, "alice");
	st->addr_local = 0x0a400001;
	st->addr_peer = 0x0a400002;
	st->dns1 = 0x0a000035;
	st->lcp_next_id = 3;
	st->ipcp_next_id = 2;
}

Test(ppp_state, vector_decode_encode)
{
	struct ppp_state st, want;
	struct rbuf r;
	uint8_t buf[PPP_STATE_ENC_MAX];
	struct wbuf w;

	cr_assert_eq(sizeof(v_state), PPP_STATE_ENC_MIN + 5);
	expected(&want);
	rbuf_init(&r, v_state, sizeof(v_state));
	cr_assert_eq(ppp_state_decode(&r, &st), 0);
	cr_assert(memcmp(&st, &want, sizeof(st)) == 0);
	wbuf_init_fixed(&w, buf, sizeof(buf));
	cr_assert_eq(ppp_state_encode(&w, &want), 0);
	cr_assert_eq(w.len, sizeof(v_state));
	cr_assert(memcmp(buf, v_state, sizeof(v_state)) == 0);
}

Test(ppp_state, truncated_and_trailing)
{
	struct ppp_state st;
	struct rbuf r;
	uint8_t longer[sizeof(v_state) + 1];
	for (size_t n = 0; n < sizeof(v_state); n++) {
		rbuf_init(&r, v_state, n);
		cr_assert_eq(ppp_state_decode(&r, &st), -EBADMSG, "truncated at %zu", n);
		cr_assert_eq(st.role, 0, "nothing left behind");
	}
	memcpy(longer, v_state, sizeof(v_state));
	longer[sizeof(v_state)] = 0;
	rbuf_init(&r, longer, sizeof(longer));
	cr_assert_eq(ppp_state_decode(&r, &st), -EBADMSG);
}

Test(ppp_state, fields_out_of_range)
{
	static const struct {
		size_t off;
		uint8_t val;
	} bad[] = {
		{ 0, 2 },     /* version */
		{ 0, 0 },
		{ 1, 2 },     /* role */
		{ 2, 5 },     /* phase */
		{ 23, 0x40 }, /* unknown flag */
		{ 23, 0x80 },
		{ 45, 'a' },  /* name: NUL inside is tested below; length beyond the record */
	};
	struct ppp_state st;
	struct rbuf r;
	uint8_t b[sizeof(v_state)];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(b, v_state, sizeof(b));
		if (bad[i].off == 45)
			b[44] = 6; /* name length past the end */
		else
			b[bad[i].off] = bad[i].val;
		rbuf_init(&r, b, sizeof(b));
		cr_assert_eq(ppp_state_decode(&r, &st), -EBADMSG, "row %zu", i);
	}
	memcpy(b, v_state, sizeof(b));
	b[47] = 0; /* "al\0ce" */
	rbuf_init(&r, b, sizeof(b));
	cr_assert_eq(ppp_state_decode(&r, &st), -EBADMSG);

	/* encode refuses what decode would refuse */
	uint8_t out[PPP_STATE_ENC_MAX + 8];
	struct wbuf w;
	struct ppp_state e;
	expected(&e);
	e.phase = 7;
	wbuf_init_fixed(&w, out, sizeof(out));
	cr_assert_eq(ppp_state_encode(&w, &e), -EINVAL);
	expected(&e);
	e.authenticated = 2;
	cr_assert_eq(ppp_state_encode(&w, &e), -EINVAL);
	expected(&e);
	memset(e.peer_name, 'x', sizeof(e.peer_name));
	cr_assert_eq(ppp_state_encode(&w, &e), -EINVAL);
	/* longest name fits PPP_STATE_ENC_MAX */
	expected(&e);
	memset(e.peer_name, 'x', PPP_NAME_MAX);
	e.peer_name[PPP_NAME_MAX] = 0;
	wbuf_init_fixed(&w, out, PPP_STATE_ENC_MAX);
	cr_assert_eq(ppp_state_encode(&w, &e), 0);
	cr_assert_eq(w.len, PPP_STATE_ENC_MAX);
	struct rbuf rr;
	rbuf_init(&rr, out, w.len);
	cr_assert_eq(ppp_state_decode(&rr, &st), 0);
	cr_assert_str_eq(st.peer_name, e.peer_name);
}

/* ---- export -> bytes -> import: two real PPP ends over a direct, lossless pipe ---- */

struct end {
	struct ppp p;
	struct end *other;
	int up, lcp_confreq;
	uint8_t q[64][1600];
	size_t qlen[64];
	uint16_t qproto[64];
	int nq;
};

static void out(void *ctx, uint16_t proto, const uint8_t *info, size_t len)
{
	struct end *e = ctx;
	cr_assert_lt(e->nq, 64);
	memcpy(e->q[e->nq], info, len);
	e->qlen[e->nq] = len;
	e->qproto[e->nq] = proto;
	e->nq++;
	if (proto == PPP_PROTO_LCP && len && info[0] == PPP_CONFREQ)
		e->lcp_confreq++;
}

static void ev(void *ctx, const struct ppp_event *e)
{
	if (e->type == PPP_EV_NETWORK_UP)
		((struct end *)ctx)->up++;
}

static int secret(void *ctx, const char *name, uint8_t *s, size_t *len)
{
	(void)ctx;
	if (strcmp(name, "alice"))
		return -ENOENT;
	memcpy(s, "wonderland", 10);
	*len = 10;
	return 0;
}

static int peer_addr(void *ctx, const char *name, uint32_t req, uint32_t *a)
{
	(void)ctx, (void)name, (void)req;
	*a = 0x0a400002;
	return 0;
}

static const struct ppp_ops ops = { .output = out, .event = ev, .get_secret = secret,
				    .get_peer_addr = peer_addr };

static void pump(struct end *a, struct end *b, uint64_t now)
{
	for (int round = 0; round < 1000; round++) {
		struct end *e = a->nq ? a : b->nq ? b : NULL;
		if (!e)
			return;
		uint8_t tmp[1600];
		size_t l = e->qlen[0];
		uint16_t pr = e->qproto[0];
		memcpy(tmp, e->q[0], l);
		memmove(e->q[0], e->q[1], (size_t)(e->nq - 1) * sizeof(e->q[0]));
		memmove(&e->qlen[0], &e->qlen[1], (size_t)(e->nq - 1) * sizeof(e->qlen[0]));
		memmove(&e->qproto[0], &e->qproto[1], (size_t)(e->nq - 1) * sizeof(e->qproto[0]));
		e->nq--;
		ppp_input(&e->other->p, pr, tmp, l, now);
	}
	cr_assert_fail("PPP does not settle");
}

Test(ppp_state, export_encode_decode_import)
{
	static struct end a, p, a2;
	struct ppp_cfg ca, cp;
	ppp_cfg_default(&ca, PPP_ROLE_AUTHENTICATOR);
	ca.auth = PPP_AUTH_CHAP;
	ca.local_addr = 0x0a400001;
	ca.echo_interval_ms = 0;
	ppp_cfg_default(&cp, PPP_ROLE_PEER);
	cp.auth = PPP_AUTH_CHAP;
	strcpy(cp.name, "alice");
	memcpy(cp.secret, "wonderland", 10);
	cp.secret_len = 10;
	cp.echo_interval_ms = 0;
	a.other = &p;
	p.other = &a;
	cr_assert_eq(ppp_init(&a.p, &ca, &ops, &a), 0);
	cr_assert_eq(ppp_init(&p.p, &cp, &ops, &p), 0);
	ppp_start(&a.p, 1000);
	ppp_start(&p.p, 1000);
	pump(&a, &p, 1000);
	cr_assert(ppp_is_up(&a.p) && ppp_is_up(&p.p));

	struct ppp_state st, back;
	uint8_t buf[PPP_STATE_ENC_MAX];
	struct wbuf w;
	struct rbuf r;
	cr_assert_eq(ppp_state_export(&a.p, &st), 0);
	wbuf_init_fixed(&w, buf, sizeof(buf));
	cr_assert_eq(ppp_state_encode(&w, &st), 0);
	rbuf_init(&r, buf, w.len);
	cr_assert_eq(ppp_state_decode(&r, &back), 0);
	cr_assert_eq(back.magic_local, st.magic_local);
	cr_assert_eq(back.magic_peer, st.magic_peer);
	cr_assert_eq(back.mru_send, st.mru_send);
	cr_assert_eq(back.accm_send, st.accm_send);
	cr_assert_eq(back.auth_proto, PPP_PROTO_CHAP);
	cr_assert_str_eq(back.peer_name, "alice");
	cr_assert_eq(back.addr_peer, 0x0a400002);

	/* a new authenticator instance takes over from the bytes: nothing sent, up at once */
	a2.other = &p;
	p.other = &a2;
	cr_assert_eq(ppp_init(&a2.p, &ca, &ops, &a2), 0);
	cr_assert_eq(ppp_state_import(&a2.p, &back, 2000), 0);
	cr_assert(ppp_is_up(&a2.p));
	cr_assert_eq(a2.nq, 0);
	int confreq = p.lcp_confreq;
	uint8_t ip[28] = { 0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 10, 64, 0, 1, 10, 64, 0, 2 };
	cr_assert_eq(ppp_send_ip(&a2.p, ip, sizeof(ip)), 0);
	cr_assert_eq(a2.nq, 1);
	cr_assert_eq(ppp_input(&p.p, a2.qproto[0], a2.q[0], a2.qlen[0], 2000), 1,
		     "the peer takes the packet: no renegotiation");
	cr_assert_eq(p.lcp_confreq, confreq);
	cr_assert_eq(a2.up, 0, "no event raised by the import");
}
