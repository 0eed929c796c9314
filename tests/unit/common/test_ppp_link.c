/* The PPP link (roam/ppp.h): an authenticator and a peer negotiate with each other through a
 * fake link on a fake clock.  Every frame crosses the link HDLC-framed (RFC 1662) with the
 * negotiated ACCM and split into small datagrams, so the streaming decoder is exercised too.
 * Frames are queued and delivered after the call that produced them returns (no re-entry). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "roam/ppp.h"

#define A 0 /* authenticator (lnsd) */
#define P 1 /* peer (mnd) */
#define QMAX 512
#define POOL_ADDR 0x0a400002u
#define LNS_ADDR  0x0a400001u

struct frame {
	int to;
	size_t len;
	uint8_t b[1600]; /* HDLC-framed bytes */
};

struct end {
	struct ppp p;
	struct ppp_hdlc_dec dec;
	int ev[8];
	enum ppp_down_reason reason;
	struct ppp_state last;
	int ip_rx;
	int confreq_tx; /* LCP/IPCP Configure-Requests sent */
	uint32_t seed;
};

struct net {
	struct end e[2];
	struct frame *q;
	size_t qn;
	int loopback;    /* A's output comes back to A */
	int drop_all;    /* the link is cut */
	int drop_lcp_req[2], drop_auth[2]; /* drop the next n of these from side i */
	uint64_t now;
	const char *secret; /* what the authenticator has for "alice" */
	struct ppp_cfg ca, cp; /* the authenticator's and the peer's configuration */
};

static struct net *cur;

static int side_of(struct net *n, void *ctx)
{
	return ctx == &n->e[A] ? A : P;
}

static void out(void *ctx, uint16_t proto, const uint8_t *info, size_t len)
{
	struct net *n = cur;
	int from = side_of(n, ctx);
	struct end *e = &n->e[from];
	struct ppp_hdlc_tx tx;
	struct wbuf w;

	if ((proto == PPP_PROTO_LCP || proto == PPP_PROTO_IPCP) && info[0] == PPP_CONFREQ)
		e->confreq_tx++;
	if (n->drop_all)
		return;
	if (proto == PPP_PROTO_LCP && info[0] == PPP_CONFREQ && n->drop_lcp_req[from] > 0) {
		n->drop_lcp_req[from]--;
		return;
	}
	if ((proto == PPP_PROTO_PAP || proto == PPP_PROTO_CHAP) && n->drop_auth[from] > 0) {
		n->drop_auth[from]--;
		return;
	}
	cr_assert_lt(n->qn, QMAX);
	struct frame *f = &n->q[n->qn++];
	f->to = n->loopback ? from : !from;
	ppp_hdlc_tx_from_state(&tx, &e->p.st);
	if (e->p.lcp.state != PPP_ST_OPENED) { /* not negotiated yet: defaults */
		tx.accm = PPP_HDLC_ACCM_DEFAULT;
		tx.acfc = tx.pfc = 0;
	}
	wbuf_init_fixed(&w, f->b, sizeof(f->b));
	cr_assert_eq(ppp_hdlc_encode(&w, &tx, proto, info, len), 0);
	f->len = w.len;
}

static void event(void *ctx, const struct ppp_event *ev)
{
	struct end *e = ctx;
	e->ev[ev->type]++;
	e->last = *ev->st;
	if (ev->type == PPP_EV_LINK_DOWN)
		e->reason = ev->reason;
	if (ev->type == PPP_EV_LINK_UP) /* what the peer asked us to accept */
		e->dec.accm = ev->st->accm_recv;
}

static int get_secret(void *ctx, const char *name, uint8_t *secret, size_t *len)
{
	(void)ctx;
	if (strcmp(name, "alice"))
		return -ENOENT;
	*len = strlen(cur->secret);
	memcpy(secret, cur->secret, *len);
	return 0;
}

static int get_peer_addr(void *ctx, const char *name, uint32_t requested, uint32_t *addr)
{
	(void)ctx;
	(void)requested;
	cr_expect_str_eq(name, "alice");
	*addr = POOL_ADDR;
	return 0;
}

/* Deterministic "random": a per-end LCG (magic numbers, challenges). */
static int rnd(void *ctx, void *buf, size_t len)
{
	struct end *e = ctx;
	uint8_t *b = buf;
	for (size_t i = 0; i < len; i++) {
		e->seed = e->seed * 1103515245u + 12345u;
		b[i] = (uint8_t)(e->seed >> 16);
	}
	return 0;
}

static const struct ppp_ops ops = {
	.output = out,
	.event = event,
	.get_secret = get_secret,
	.get_peer_addr = get_peer_addr,
	.random = rnd,
};

static void cfg_a(struct ppp_cfg *c, unsigned auth)
{
	ppp_cfg_default(c, PPP_ROLE_AUTHENTICATOR);
	c->auth = auth;
	strcpy(c->name, "lns");
	c->local_addr = LNS_ADDR;
	c->dns1 = 0x0a000035;
	c->dns2 = 0x0a000036;
}

static void cfg_p(struct ppp_cfg *c, const char *pw)
{
	ppp_cfg_default(c, PPP_ROLE_PEER);
	strcpy(c->name, "alice");
	c->secret_len = strlen(pw);
	memcpy(c->secret, pw, c->secret_len);
	c->want_dns = 1;
	c->accm = 0; /* the mobile's async link: ask for no escaping */
}

/* A fresh link: the authenticator offers auth, the peer "alice" has the password pw; the test
 * may change n->ca and n->cp before net_init(). */
static void net_cfg(struct net *n, unsigned auth, const char *pw)
{
	memset(n, 0, sizeof(*n));
	cfg_a(&n->ca, auth);
	cfg_p(&n->cp, pw);
}

static void net_init(struct net *n)
{
	n->q = calloc(QMAX, sizeof(*n->q));
	cr_assert(n->q);
	n->secret = "s3cret";
	n->now = 1000000;
	cur = n;
	n->e[A].seed = 1;
	n->e[P].seed = 2;
	cr_assert_eq(ppp_init(&n->e[A].p, &n->ca, &ops, &n->e[A]), 0);
	cr_assert_eq(ppp_init(&n->e[P].p, &n->cp, &ops, &n->e[P]), 0);
	ppp_hdlc_dec_init(&n->e[A].dec, 0);
	ppp_hdlc_dec_init(&n->e[P].dec, 0);
}

/* Delivers one HDLC frame in datagrams of 7 bytes. */
static void deliver(struct net *n, const struct frame *f)
{
	struct end *e = &n->e[f->to];
	for (size_t off = 0; off < f->len; off += 7) {
		const uint8_t *p = f->b + off;
		size_t len = f->len - off < 7 ? f->len - off : 7;
		struct ppp_hdlc_frame fr;
		int rc;
		while ((rc = ppp_hdlc_decode(&e->dec, &p, &len, &fr)) != 0) {
			cr_assert_eq(rc, 1, "HDLC decode error %d", rc);
			if (ppp_input(&e->p, fr.proto, fr.info, fr.info_len, n->now) == 1)
				e->ip_rx++;
		}
	}
}

/* Runs the link until `until` (fake ms): frames first, then the earliest timer. */
static void run(struct net *n, uint64_t until)
{
	while (n->now <= until) {
		while (n->qn) {
			struct frame f = n->q[0];
			memmove(n->q, n->q + 1, (n->qn - 1) * sizeof(*n->q));
			n->qn--;
			deliver(n, &f);
		}
		uint64_t t = ppp_next_timeout(&n->e[A].p);
		uint64_t t2 = ppp_next_timeout(&n->e[P].p);
		if (t2 < t)
			t = t2;
		if (t > until)
			break;
		if (t > n->now)
			n->now = t;
		ppp_tick(&n->e[A].p, n->now);
		ppp_tick(&n->e[P].p, n->now);
	}
	n->now = until;
}

static void start(struct net *n)
{
	ppp_start(&n->e[A].p, n->now);
	ppp_start(&n->e[P].p, n->now);
}

/* Both ends start; the link runs for ms. */
static void start_run(struct net *n, uint64_t ms)
{
	start(n);
	run(n, n->now + ms);
}

static void check_up(struct net *n, uint16_t auth_proto)
{
	struct end *a = &n->e[A], *p = &n->e[P];

	cr_assert(ppp_is_up(&a->p), "authenticator not up: lcp %s phase %s",
	          ppp_fsm_state_str(a->p.lcp.state), ppp_phase_str(a->p.phase));
	cr_assert(ppp_is_up(&p->p), "peer not up: lcp %s ipcp %s phase %s",
	          ppp_fsm_state_str(p->p.lcp.state), ppp_fsm_state_str(p->p.ipcp.state),
	          ppp_phase_str(p->p.phase));
	for (int i = 0; i < 2; i++) {
		cr_expect_eq(n->e[i].ev[PPP_EV_LINK_UP], 1);
		cr_expect_eq(n->e[i].ev[PPP_EV_AUTH_OK], 1);
		cr_expect_eq(n->e[i].ev[PPP_EV_NETWORK_UP], 1);
		cr_expect_eq(n->e[i].ev[PPP_EV_LINK_DOWN], 0);
		cr_expect_eq(n->e[i].p.phase, PPP_PHASE_NETWORK);
		cr_expect_eq(n->e[i].p.st.auth_proto, auth_proto);
	}
	cr_expect_str_eq(a->p.st.peer_name, "alice");
	cr_expect_eq(a->p.st.addr_local, LNS_ADDR);
	cr_expect_eq(a->p.st.addr_peer, POOL_ADDR);
	cr_expect_eq(p->p.st.addr_local, POOL_ADDR);
	cr_expect_eq(p->p.st.addr_peer, LNS_ADDR);
	cr_expect_eq(p->p.st.dns1, 0x0a000035);
	cr_expect_eq(p->p.st.dns2, 0x0a000036);
	/* the mobile asked for ACCM 0; magic numbers were exchanged */
	cr_expect_eq(a->p.st.accm_send, 0);
	cr_expect_eq(p->p.st.accm_recv, 0);
	cr_expect_neq(a->p.st.magic_local, 0);
	cr_expect_eq(a->p.st.magic_local, p->p.st.magic_peer);
	cr_expect_eq(p->p.st.magic_local, a->p.st.magic_peer);
}

static void exchange_ip(struct net *n)
{
	static const uint8_t pkt[] = { 0x45, 0x00, 0x00, 0x14, 0x7e, 0x7d, 0x00, 0x11, 0x13 };
	int a0 = n->e[A].ip_rx, p0 = n->e[P].ip_rx;

	cr_assert_eq(ppp_send_ip(&n->e[A].p, pkt, sizeof(pkt)), 0);
	cr_assert_eq(ppp_send_ip(&n->e[P].p, pkt, sizeof(pkt)), 0);
	run(n, n->now);
	cr_expect_eq(n->e[A].ip_rx, a0 + 1);
	cr_expect_eq(n->e[P].ip_rx, p0 + 1);
}

Test(ppp_link, pap_success)
{
	struct net n;

	net_cfg(&n, PPP_AUTH_PAP, "s3cret");
	net_init(&n);
	start_run(&n, 1000);
	check_up(&n, PPP_PROTO_PAP);
	exchange_ip(&n);
	/* keepalive for a while: still up, echoes answered, nothing renegotiated */
	int req = n.e[A].confreq_tx + n.e[P].confreq_tx;
	run(&n, n.now + 120000);
	cr_expect(ppp_is_up(&n.e[A].p) && ppp_is_up(&n.e[P].p));
	cr_expect_gt(n.e[A].p.stats.echo_replies, 5);
	cr_expect_gt(n.e[P].p.stats.echo_replies, 5);
	cr_expect_eq(n.e[A].confreq_tx + n.e[P].confreq_tx, req);
	/* orderly close from the mobile */
	ppp_close(&n.e[P].p, PPP_DOWN_NONE, n.now);
	run(&n, n.now + 10000);
	cr_expect_eq(n.e[P].ev[PPP_EV_LINK_DOWN], 1);
	cr_expect_eq(n.e[P].reason, PPP_DOWN_ADMIN);
	cr_expect_eq(n.e[A].ev[PPP_EV_LINK_DOWN], 1);
	cr_expect_eq(n.e[A].reason, PPP_DOWN_PEER);
	cr_expect_eq(n.e[A].ev[PPP_EV_NETWORK_DOWN], 1);
	cr_expect_eq(n.e[A].p.phase, PPP_PHASE_DEAD);
	free(n.q);
}

Test(ppp_link, chap_success)
{
	struct net n;

	net_cfg(&n, PPP_AUTH_PAP | PPP_AUTH_CHAP, "s3cret"); /* CHAP preferred */
	net_init(&n);
	start_run(&n, 1000);
	check_up(&n, PPP_PROTO_CHAP);
	exchange_ip(&n);
	free(n.q);
}

Test(ppp_link, auth_nak_falls_back_to_pap)
{
	struct net n;

	net_cfg(&n, PPP_AUTH_PAP | PPP_AUTH_CHAP, "s3cret");
	n.cp.auth = PPP_AUTH_PAP; /* the mobile does only PAP: Naks CHAP, suggests PAP */
	net_init(&n);
	start_run(&n, 1000);
	check_up(&n, PPP_PROTO_PAP);
	free(n.q);
}

Test(ppp_link, no_common_auth_terminates)
{
	struct net n;

	net_cfg(&n, PPP_AUTH_CHAP, "s3cret");
	n.cp.auth = PPP_AUTH_PAP;
	net_init(&n);
	start_run(&n, 60000);
	cr_expect_eq(n.e[A].ev[PPP_EV_LINK_DOWN], 1);
	cr_expect_eq(n.e[A].reason, PPP_DOWN_NEGOTIATION);
	cr_expect_eq(n.e[A].ev[PPP_EV_LINK_UP], 0);
	free(n.q);
}

static void wrong_password(unsigned auth)
{
	struct net n;

	net_cfg(&n, auth, "guess");
	net_init(&n);
	start_run(&n, 30000);
	for (int i = 0; i < 2; i++) {
		cr_expect_eq(n.e[i].ev[PPP_EV_LINK_UP], 1);
		cr_expect_eq(n.e[i].ev[PPP_EV_AUTH_OK], 0);
		cr_expect_eq(n.e[i].ev[PPP_EV_NETWORK_UP], 0);
		cr_expect_eq(n.e[i].ev[PPP_EV_LINK_DOWN], 1);
		cr_expect_eq(n.e[i].reason, PPP_DOWN_AUTH_FAILED, "side %d: %s", i,
		             ppp_down_reason_str(n.e[i].reason));
		cr_expect_eq(n.e[i].p.phase, PPP_PHASE_DEAD);
	}
	cr_expect_eq(n.e[A].p.stats.auth_failures, 1);
	/* no address was ever asked for or handed out */
	cr_expect_eq(n.e[A].p.st.addr_peer, 0);
	free(n.q);
}

Test(ppp_link, pap_wrong_password)
{
	wrong_password(PPP_AUTH_PAP);
}

Test(ppp_link, chap_wrong_password)
{
	wrong_password(PPP_AUTH_CHAP);
}

Test(ppp_link, unknown_user)
{
	struct net n;

	net_cfg(&n, PPP_AUTH_CHAP, "s3cret");
	strcpy(n.cp.name, "mallory");
	net_init(&n);
	start_run(&n, 30000);
	cr_expect_eq(n.e[A].reason, PPP_DOWN_AUTH_FAILED);
	cr_expect_eq(n.e[P].reason, PPP_DOWN_AUTH_FAILED);
	free(n.q);
}

Test(ppp_link, lost_packets_retransmitted)
{
	struct net n;

	net_cfg(&n, PPP_AUTH_CHAP, "s3cret");
	net_init(&n);
	n.drop_lcp_req[A] = 3;
	n.drop_lcp_req[P] = 2;
	n.drop_auth[A] = 2; /* two challenges lost */
	n.drop_auth[P] = 1; /* one response lost */
	start_run(&n, 60000);
	check_up(&n, PPP_PROTO_CHAP);
	cr_expect_geq(n.e[A].p.stats.retransmits, 5);
	cr_expect_geq(n.e[P].p.stats.retransmits, 2);
	exchange_ip(&n);
	free(n.q);
}

Test(ppp_link, lost_pap_request)
{
	struct net n;

	net_cfg(&n, PPP_AUTH_PAP, "s3cret");
	net_init(&n);
	n.drop_auth[P] = 2; /* two Authenticate-Requests lost */
	n.drop_auth[A] = 1; /* and the first Ack: the duplicate request is acked again */
	start_run(&n, 60000);
	check_up(&n, PPP_PROTO_PAP);
	free(n.q);
}

Test(ppp_link, no_answer_times_out)
{
	struct net n;

	net_cfg(&n, PPP_AUTH_PAP, "s3cret");
	net_init(&n);
	n.drop_all = 1;
	start_run(&n, 120000);
	/* Max-Configure (10) requests, 3 s apart, then This-Layer-Finished */
	cr_expect_eq(n.e[A].confreq_tx, 10);
	cr_expect_eq(n.e[A].ev[PPP_EV_LINK_DOWN], 1);
	cr_expect_eq(n.e[A].reason, PPP_DOWN_TIMEOUT);
	free(n.q);
}

Test(ppp_link, pfc_rejected_still_converges)
{
	struct net n;

	net_cfg(&n, PPP_AUTH_PAP, "s3cret");
	n.ca.allow_pfc = 0; /* the LNS rejects PFC, accepts ACFC */
	n.cp.want_pfc = n.cp.want_acfc = 1;
	n.cp.mru = 1400;
	net_init(&n);
	start_run(&n, 2000);
	check_up(&n, PPP_PROTO_PAP);
	cr_expect_eq(n.e[A].p.st.pfc_send, 0);
	cr_expect_eq(n.e[A].p.st.acfc_send, 1);
	cr_expect_eq(n.e[P].p.st.acfc_recv, 1);
	cr_expect_eq(n.e[A].p.st.mru_send, 1400);
	cr_expect_eq(n.e[P].p.st.mru_recv, 1400);
	exchange_ip(&n);
	free(n.q);
}

Test(ppp_link, looped_back_link)
{
	struct net n;

	net_cfg(&n, PPP_AUTH_PAP, "s3cret");
	net_init(&n);
	n.loopback = 1;
	ppp_start(&n.e[A].p, n.now);
	run(&n, n.now + 60000);
	cr_expect_geq(n.e[A].p.stats.loops_detected, 5, "loops %lu reason %s lcp %s",
	              (unsigned long)n.e[A].p.stats.loops_detected,
	              ppp_down_reason_str(n.e[A].reason), ppp_fsm_state_str(n.e[A].p.lcp.state));
	cr_expect_eq(n.e[A].ev[PPP_EV_LINK_UP], 0);
	cr_expect_eq(n.e[A].ev[PPP_EV_LINK_DOWN], 1);
	cr_expect_eq(n.e[A].reason, PPP_DOWN_LOOPBACK);
	free(n.q);
}

Test(ppp_link, echo_failure_detected)
{
	struct net n;

	net_cfg(&n, PPP_AUTH_PAP, "s3cret");
	n.ca.echo_interval_ms = 5000;
	n.ca.echo_failures = 3;
	n.cp.echo_interval_ms = 0; /* only the LNS probes */
	net_init(&n);
	start_run(&n, 1000);
	check_up(&n, PPP_PROTO_PAP);
	uint64_t cut = n.now;
	n.drop_all = 1; /* the mobile vanishes without a word */
	run(&n, n.now + 60000);
	cr_expect_eq(n.e[A].ev[PPP_EV_LINK_DOWN], 1);
	cr_expect_eq(n.e[A].reason, PPP_DOWN_ECHO_TIMEOUT);
	cr_expect_eq(n.e[A].ev[PPP_EV_NETWORK_DOWN], 1);
	cr_expect_geq(n.e[A].p.stats.echo_sent, 3);
	/* generous bound: detection within (failures + 1) intervals + terminate time */
	cr_expect_lt(n.e[A].p.stats.echo_sent, 6);
	(void)cut;
	free(n.q);
}

Test(ppp_link, export_import_without_renegotiation)
{
	struct net n;
	struct ppp_state st;
	struct ppp fresh;

	net_cfg(&n, PPP_AUTH_CHAP, "s3cret");
	net_init(&n);
	cr_expect_eq(ppp_state_export(&n.e[A].p, &st), -ENOTCONN);
	start_run(&n, 1000);
	check_up(&n, PPP_PROTO_CHAP);
	cr_assert_eq(ppp_state_export(&n.e[A].p, &st), 0);
	cr_expect_eq(st.phase, PPP_PHASE_NETWORK);
	cr_expect_eq(st.auth_proto, PPP_PROTO_CHAP);
	cr_expect_eq(st.addr_peer, POOL_ADDR);
	cr_expect_str_eq(st.peer_name, "alice");

	/* import refusals */
	cr_assert_eq(ppp_init(&fresh, &n.cp, &ops, &n.e[A]), 0);
	cr_expect_eq(ppp_state_import(&fresh, &st, n.now), -EINVAL); /* role differs */
	cr_expect_eq(ppp_state_import(&n.e[A].p, &st, n.now), -EBUSY);
	struct ppp_state bad = st;
	bad.mru_send = 20;
	cr_assert_eq(ppp_init(&fresh, &n.ca, &ops, &n.e[A]), 0);
	cr_expect_eq(ppp_state_import(&fresh, &bad, n.now), -EINVAL);

	/* the LNS parks the call: the old instance is forgotten, a new one (another tunnel) is
	 * restored from the state; the mobile's instance is untouched */
	struct end *a = &n.e[A];
	memset(a->ev, 0, sizeof(a->ev));
	int req_a = a->confreq_tx, req_p = n.e[P].confreq_tx;
	uint64_t tx_p = n.e[P].p.stats.tx_frames;
	cr_assert_eq(ppp_init(&a->p, &n.ca, &ops, a), 0);
	cr_assert_eq(ppp_state_import(&a->p, &st, n.now), 0);
	cr_expect_eq(a->p.stats.tx_frames, 0); /* nothing sent */
	cr_expect(ppp_is_up(&a->p));
	cr_expect_eq(a->p.phase, PPP_PHASE_NETWORK);
	exchange_ip(&n);
	run(&n, n.now + 120000); /* echoes both ways */
	cr_expect(ppp_is_up(&a->p));
	cr_expect(ppp_is_up(&n.e[P].p));
	cr_expect_gt(a->p.stats.echo_replies, 5);
	cr_expect_gt(n.e[P].p.stats.echo_replies, 5);
	cr_expect_gt(n.e[P].p.stats.tx_frames, tx_p);
	cr_expect_eq(a->confreq_tx, req_a);
	cr_expect_eq(n.e[P].confreq_tx, req_p);
	for (int i = 1; i < 8; i++)
		cr_expect_eq(a->ev[i], 0, "event %d after import", i);
	cr_expect_eq(n.e[P].ev[PPP_EV_LINK_UP], 1);
	cr_expect_eq(n.e[P].ev[PPP_EV_LINK_DOWN], 0);
	exchange_ip(&n);
	free(n.q);
}

/* ---- bad input against a fixed state, frames fed directly ---- */

struct capture {
	uint16_t proto;
	uint8_t b[1600];
	size_t len;
	int n;
};

static void cap_out(void *ctx, uint16_t proto, const uint8_t *info, size_t len)
{
	struct capture *c = ctx;
	c->proto = proto;
	c->len = len < sizeof(c->b) ? len : sizeof(c->b);
	memcpy(c->b, info, c->len);
	c->n++;
}

static int fixed_addr(void *ctx, const char *name, uint32_t req, uint32_t *addr)
{
	(void)ctx;
	(void)name;
	(void)req;
	*addr = POOL_ADDR;
	return 0;
}

static int no_secret(void *ctx, const char *name, uint8_t *s, size_t *len)
{
	(void)ctx;
	(void)name;
	(void)s;
	(void)len;
	return -ENOENT;
}

static void lone_init(struct ppp *p, struct capture *c, unsigned auth)
{
	struct ppp_cfg cfg;
	static const struct ppp_ops cops = {
		.output = cap_out, .get_secret = no_secret, .get_peer_addr = fixed_addr,
	};
	cfg_a(&cfg, auth);
	memset(c, 0, sizeof(*c));
	cr_assert_eq(ppp_init(p, &cfg, &cops, c), 0);
	ppp_start(p, 0);
	cr_assert_eq(c->n, 1); /* our Configure-Request */
}

Test(ppp_link, reject_unknown_and_nak_mru)
{
	struct ppp p;
	struct capture c;

	lone_init(&p, &c, PPP_AUTH_PAP);
	/* MRU 64 (too small), an unknown option 0x42 and a magic number of the wrong length:
	 * only the Reject is sent */
	static const uint8_t req1[] = { 0x01, 0x05, 0x00, 0x0d, 0x01, 0x04, 0x00, 0x40,
		                        0x42, 0x03, 0xaa, 0x05, 0x02 };
	static const uint8_t rej1[] = { 0x04, 0x05, 0x00, 0x09, 0x42, 0x03, 0xaa, 0x05, 0x02 };
	cr_assert_eq(ppp_input(&p, PPP_PROTO_LCP, req1, sizeof(req1), 10), 0);
	cr_assert_eq(c.proto, PPP_PROTO_LCP);
	cr_assert_eq(c.len, sizeof(rej1));
	cr_expect_arr_eq(c.b, rej1, sizeof(rej1));
	/* the same with only the MRU: Nak suggesting 128 */
	static const uint8_t req2[] = { 0x01, 0x06, 0x00, 0x08, 0x01, 0x04, 0x00, 0x40 };
	static const uint8_t nak2[] = { 0x03, 0x06, 0x00, 0x08, 0x01, 0x04, 0x00, 0x80 };
	cr_assert_eq(ppp_input(&p, PPP_PROTO_LCP, req2, sizeof(req2), 20), 0);
	cr_assert_eq(c.len, sizeof(nak2));
	cr_expect_arr_eq(c.b, nak2, sizeof(nak2));
	cr_expect_eq(p.lcp.state, PPP_ST_REQ_SENT);
	/* Max-Failure: after 5 Naks the option is rejected instead */
	for (int i = 0; i < 4; i++) { /* Naks 2..5 */
		ppp_input(&p, PPP_PROTO_LCP, req2, sizeof(req2), 30);
		cr_expect_eq(c.b[0], PPP_CONFNAK);
	}
	ppp_input(&p, PPP_PROTO_LCP, req2, sizeof(req2), 40);
	cr_expect_eq(c.b[0], PPP_CONFREJ);
	cr_expect_eq(c.len, 8);
	/* an acceptable request is acknowledged verbatim */
	static const uint8_t req3[] = { 0x01, 0x07, 0x00, 0x0a, 0x05, 0x06, 0x11, 0x22, 0x33, 0x44 };
	ppp_input(&p, PPP_PROTO_LCP, req3, sizeof(req3), 50);
	cr_expect_eq(c.b[0], PPP_CONFACK);
	cr_expect_arr_eq(c.b + 1, req3 + 1, sizeof(req3) - 1);
	cr_expect_eq(p.lcp.state, PPP_ST_ACK_SENT);
}

Test(ppp_link, malformed_and_unexpected_input)
{
	struct ppp p;
	struct capture c;

	lone_init(&p, &c, PPP_AUTH_PAP);
	enum ppp_fsm_state s = p.lcp.state;
	int n0 = c.n;
	/* Length past the data, option running past the packet, Length < 4 */
	static const uint8_t bad1[] = { 0x01, 0x05, 0x00, 0x20, 0x01, 0x04 };
	static const uint8_t bad2[] = { 0x01, 0x05, 0x00, 0x08, 0x01, 0x08, 0x00, 0x40 };
	static const uint8_t bad3[] = { 0x01, 0x05, 0x00, 0x02 };
	cr_expect_eq(ppp_input(&p, PPP_PROTO_LCP, bad1, sizeof(bad1), 1), -EBADMSG);
	ppp_input(&p, PPP_PROTO_LCP, bad2, sizeof(bad2), 1);
	cr_expect_eq(ppp_input(&p, PPP_PROTO_LCP, bad3, sizeof(bad3), 1), -EBADMSG);
	for (size_t k = 0; k < sizeof(bad2); k++)
		ppp_input(&p, PPP_PROTO_LCP, bad2, k, 1);
	cr_expect_eq(c.n, n0, "nothing answered");
	cr_expect_eq(p.lcp.state, s);
	cr_expect_geq(p.stats.rx_malformed, 3);
	/* an Ack with the wrong identifier, an Ack that does not repeat our request */
	static const uint8_t ack_badid[] = { 0x02, 0x77, 0x00, 0x04 };
	ppp_input(&p, PPP_PROTO_LCP, ack_badid, sizeof(ack_badid), 1);
	cr_expect_eq(p.stats.rx_bad_id, 1);
	cr_expect_eq(p.lcp.state, s);
	/* NCP, auth and IP before the link is up: silently discarded */
	static const uint8_t ipcp[] = { 0x01, 0x01, 0x00, 0x04 };
	cr_expect_eq(ppp_input(&p, PPP_PROTO_IPCP, ipcp, sizeof(ipcp), 1), -ENOTCONN);
	static const uint8_t pap[] = { 0x01, 0x01, 0x00, 0x06, 0x00, 0x00 };
	cr_expect_eq(ppp_input(&p, PPP_PROTO_PAP, pap, sizeof(pap), 1), -ENOTCONN);
	cr_expect_eq(ppp_input(&p, PPP_PROTO_IP, ipcp, sizeof(ipcp), 1), -ENOTCONN);
	cr_expect_eq(ppp_input(&p, 0x8057, ipcp, sizeof(ipcp), 1), -ENOTCONN);
	cr_expect_eq(c.n, n0);
	cr_expect_eq(ppp_send_ip(&p, ipcp, sizeof(ipcp)), -ENOTCONN);
}

Test(ppp_link, protocol_and_code_reject_when_opened)
{
	struct net n;

	net_cfg(&n, PPP_AUTH_PAP, "s3cret");
	net_init(&n);
	start_run(&n, 1000);
	check_up(&n, PPP_PROTO_PAP);
	/* IPv6CP from the mobile: the LNS answers Protocol-Reject; the mobile shrugs (RXJ+) */
	static const uint8_t v6cp[] = { 0x01, 0x01, 0x00, 0x0e, 0x01, 0x0a, 1, 2, 3, 4, 5, 6, 7, 8 };
	cr_expect_eq(ppp_input(&n.e[A].p, 0x8057, v6cp, sizeof(v6cp), n.now), 0);
	cr_expect_eq(n.e[A].p.stats.rx_unknown_proto, 1);
	cr_assert_eq(n.qn, 1);
	/* an unknown LCP code: Code-Reject, the other side stays up (RXJ+) */
	static const uint8_t code42[] = { 0x2a, 0x09, 0x00, 0x06, 0xab, 0xcd };
	cr_expect_eq(ppp_input(&n.e[P].p, PPP_PROTO_LCP, code42, sizeof(code42), n.now), 0);
	cr_expect_eq(n.e[P].p.stats.rx_unknown_code, 1);
	cr_assert_eq(n.qn, 2);
	run(&n, n.now + 100);
	cr_expect(ppp_is_up(&n.e[A].p));
	cr_expect(ppp_is_up(&n.e[P].p));
	/* a Protocol-Reject of IPCP is fatal for the link (RXJ- on the only NCP) */
	static const uint8_t prej[] = { 0x08, 0x33, 0x00, 0x0a, 0x80, 0x21, 0x01, 0x01, 0x00, 0x04 };
	ppp_input(&n.e[P].p, PPP_PROTO_LCP, prej, sizeof(prej), n.now);
	run(&n, n.now + 20000);
	cr_expect_eq(n.e[P].ev[PPP_EV_LINK_DOWN], 1);
	cr_expect_eq(n.e[P].reason, PPP_DOWN_PROTO_REJECTED);
	cr_expect_eq(n.e[A].ev[PPP_EV_LINK_DOWN], 1);
	free(n.q);
}

/* The owner hears of a session's end once: a close after the carrier was lost (an LNS tearing
 * down every session at shutdown) must not raise a second LINK_DOWN (found by fuzz_ppp_link). */
Test(ppp_link, one_link_down_per_session)
{
	struct net n;

	net_cfg(&n, PPP_AUTH_PAP, "s3cret");
	net_init(&n);
	start_run(&n, 1000);
	check_up(&n, PPP_PROTO_PAP);
	ppp_lower_down(&n.e[A].p, n.now);
	cr_expect_eq(n.e[A].ev[PPP_EV_LINK_DOWN], 1);
	cr_expect_eq(n.e[A].reason, PPP_DOWN_CARRIER);
	ppp_close(&n.e[A].p, PPP_DOWN_ADMIN, n.now);
	run(&n, n.now + 30000);
	cr_expect_eq(n.e[A].ev[PPP_EV_LINK_DOWN], 1, "a second LINK_DOWN for the same session");
	cr_expect_eq(n.e[A].reason, PPP_DOWN_CARRIER);
	free(n.q);
}
