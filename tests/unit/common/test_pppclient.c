/* The mobile's PPP client core (roam/pppclient.h, common/proto/access/pppclient.c) against fake
 * LACs and a fake LNS on a fake clock: attachment and PPP, then what a move does to PPP —
 * kept and resumed (the L2TP handoff, with the new LAC's CHAP re-challenge answered), kept and
 * renegotiated (the LNS starts afresh: standard fallback, new address), or restarted (rlpc's
 * keep_ppp = false).  Datagrams are queued and delivered after the call that produced them. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "roam/access.h"
#include "roam/pppclient.h"

#define QMAX 256
#define SECRET "handoff-ppp-secret"

struct dgram {
	int to_client;
	struct roam_sockaddr peer; /* to_client: the source (a LAC); else the destination */
	size_t len;
	uint8_t b[ACCESS_MSG_MAX + ACCESS_DATA_MAX];
};

struct world {
	uint64_t now;
	struct pppc_core c;
	/* the current LAC: address, link, sequence, whether it answers ATTACH */
	struct roam_sockaddr lac;
	uint32_t link_id, tx_seq;
	int lac_answers;
	int detach_seen, detach_cause;
	struct ppp_hdlc_dec dec; /* LAC side: frames from the mobile */
	/* the LNS */
	struct ppp lns;
	int lns_on;              /* the call is up at the LNS */
	uint32_t pool_next;
	int lns_ip_rx;
	/* a CHAP re-challenge by the LAC */
	int rechallenge_id;
	uint8_t rechallenge[16];
	int chap_response_ok;
	/* what the client did */
	uint32_t addr;
	int addr_calls, ip_in;
	struct dgram q[QMAX];
	size_t qn;
};

static struct world W;

static void push(int to_client, const struct roam_sockaddr *peer, const uint8_t *b, size_t len)
{
	cr_assert_lt(W.qn, QMAX);
	struct dgram *d = &W.q[W.qn++];
	d->to_client = to_client;
	d->peer = *peer;
	cr_assert_leq(len, sizeof(d->b));
	memcpy(d->b, b, len);
	d->len = len;
}

static void lac_send(struct access_msg *m)
{
	uint8_t b[ACCESS_MSG_MAX + ACCESS_DATA_MAX];
	struct wbuf w;
	wbuf_init_fixed(&w, b, sizeof(b));
	m->link_id = W.link_id;
	m->seq = W.tx_seq++;
	cr_assert_eq(access_msg_encode(m, &w), 0);
	push(1, &W.lac, b, w.len);
}

/* A PPP frame from the LAC side (the LNS's output, or the LAC's own CHAP challenge). */
static void lac_send_ppp(uint16_t proto, const uint8_t *info, size_t len)
{
	uint8_t out[2 * PPP_HDLC_BUF_MAX];
	struct wbuf w;
	struct ppp_hdlc_tx tx = { .accm = PPP_HDLC_ACCM_DEFAULT };
	wbuf_init_fixed(&w, out, sizeof(out));
	cr_assert_eq(ppp_hdlc_encode(&w, &tx, proto, info, len), 0);
	struct access_msg m = { .type = ACCESS_DATA, .data = out, .data_len = w.len };
	lac_send(&m);
}

/* ---- the LNS (authenticator) ---- */

static void lns_output(void *ctx, uint16_t proto, const uint8_t *info, size_t len)
{
	(void)ctx;
	if (W.link_id)
		lac_send_ppp(proto, info, len);
}

static int lns_secret(void *ctx, const char *name, uint8_t *secret, size_t *len)
{
	(void)ctx;
	if (strcmp(name, "mobile1") != 0)
		return -ENOENT;
	memcpy(secret, SECRET, strlen(SECRET));
	*len = strlen(SECRET);
	return 0;
}

static int lns_addr(void *ctx, const char *name, uint32_t req, uint32_t *addr)
{
	(void)ctx, (void)name, (void)req;
	*addr = W.pool_next++;
	return 0;
}

static const struct ppp_ops lns_ops = { .output = lns_output, .get_secret = lns_secret,
					.get_peer_addr = lns_addr };

/* A fresh call at the LNS: a new PPP negotiation (it sends its Configure-Request). */
static void lns_fresh(void)
{
	struct ppp_cfg cfg;
	ppp_cfg_default(&cfg, PPP_ROLE_AUTHENTICATOR);
	cfg.auth = PPP_AUTH_CHAP;
	cfg.local_addr = 0x0a410001u;
	cfg.echo_interval_ms = 0;
	cr_assert_eq(ppp_init(&W.lns, &cfg, &lns_ops, NULL), 0);
	W.lns_on = 1;
	ppp_start(&W.lns, W.now);
}

/* ---- the LAC: answers ATTACH, KEEPALIVE; relays PPP to the LNS ---- */

static void lac_rx(const struct dgram *d)
{
	struct access_msg m;
	cr_assert_eq(access_msg_decode(d->b, d->len, &m, NULL), 0);
	switch (m.type) {
	case ACCESS_ATTACH:
		if (!W.lac_answers)
			return;
		W.link_id = 0x1000 + (uint32_t)W.lac.sin.sin_addr.s_addr % 251;
		W.tx_seq = 0;
		ppp_hdlc_dec_init(&W.dec, PPP_HDLC_BUF_MAX);
		{
			struct access_msg a = { .type = ACCESS_ATTACH_ACK, .nonce = m.nonce,
						.keepalive_ms = 1000, .dead_ms = 3000 };
			lac_send(&a);
		}
		return;
	case ACCESS_DETACH:
		W.detach_seen++;
		W.detach_cause = m.cause;
		return;
	case ACCESS_KEEPALIVE: {
		struct access_msg a = { .type = ACCESS_KEEPALIVE_ACK, .timestamp = m.timestamp };
		lac_send(&a);
		return;
	}
	case ACCESS_DATA: {
		const uint8_t *p = m.data;
		size_t left = m.data_len;
		struct ppp_hdlc_frame f;
		int r;
		while ((r = ppp_hdlc_decode(&W.dec, &p, &left, &f)) != 0) {
			cr_assert_gt(r, 0, "bad frame from the mobile");
			if (f.proto == PPP_PROTO_CHAP && W.rechallenge_id >= 0 && f.info_len > 5 &&
			    f.info[0] == PPP_CHAP_RESPONSE && f.info[1] == W.rechallenge_id) {
				/* the answer to the LAC's re-challenge: check it, keep it from the LNS */
				uint8_t want[16];
				cr_assert_eq(ppp_chap_md5((uint8_t)W.rechallenge_id, SECRET,
							  strlen(SECRET), W.rechallenge, 16, want),
					     0);
				W.chap_response_ok = f.info[4] == 16 && memcmp(f.info + 5, want, 16) == 0;
				W.rechallenge_id = -1;
				continue;
			}
			if (W.lns_on && ppp_input(&W.lns, f.proto, f.info, f.info_len, W.now) == 1)
				W.lns_ip_rx++;
		}
		return;
	}
	}
}

/* ---- the client's ops ---- */

static void c_tx(void *ctx, const struct roam_sockaddr *dst, const uint8_t *pkt, size_t len)
{
	(void)ctx;
	push(0, dst, pkt, len);
}

static void c_ip_in(void *ctx, const uint8_t *pkt, size_t len)
{
	(void)ctx, (void)pkt, (void)len;
	W.ip_in++;
}

static void c_address(void *ctx, uint32_t addr)
{
	(void)ctx;
	W.addr = addr;
	W.addr_calls++;
}

static const struct pppc_core_ops c_ops = { .tx = c_tx, .ip_in = c_ip_in, .address = c_address };

/* Delivers queued datagrams until none is left (datagrams to a LAC reach the current one only
 * when addressed to it or to the group). */
static void pump(void)
{
	for (int guard = 0; W.qn && guard < 10000; guard++) {
		struct dgram d = W.q[0];
		memmove(W.q, W.q + 1, (W.qn - 1) * sizeof(W.q[0]));
		W.qn--;
		if (d.to_client)
			pppc_core_input(&W.c, d.b, d.len, &d.peer, W.now);
		else
			lac_rx(&d);
	}
}

static void run_for(uint64_t ms)
{
	for (uint64_t end = W.now + ms; W.now < end; W.now += 10) {
		if (pppc_core_next_timeout(&W.c) <= W.now)
			pppc_core_tick(&W.c, W.now);
		if (W.lns_on && W.lns.phase != PPP_PHASE_DEAD && ppp_next_timeout(&W.lns) <= W.now)
			ppp_tick(&W.lns, W.now);
		pump();
	}
}

static void use_lac(const char *addr)
{
	cr_assert_eq(roam_sockaddr_parse(addr, ACCESS_PORT, &W.lac), 0);
	W.link_id = 0;
	W.lac_answers = 1;
}

static void setup_world(bool keep_ppp)
{
	struct pppc_conf conf;
	memset(&W, 0, sizeof(W));
	W.now = 1000;
	W.pool_next = 0x0a410002u;
	W.rechallenge_id = -1;
	memset(&conf, 0, sizeof(conf));
	access_client_conf_default(&conf.ac);
	snprintf(conf.ac.min, sizeof(conf.ac.min), "3125550100");
	cr_assert_eq(roam_sockaddr_parse(ACCESS_GROUP, ACCESS_PORT, &conf.ac.target), 0);
	ppp_cfg_default(&conf.ppp, PPP_ROLE_PEER);
	conf.ppp.auth = PPP_AUTH_CHAP;
	snprintf(conf.ppp.name, sizeof(conf.ppp.name), "mobile1");
	memcpy(conf.ppp.secret, SECRET, strlen(SECRET));
	conf.ppp.secret_len = strlen(SECRET);
	conf.ppp.echo_interval_ms = 0;
	conf.keep_ppp = keep_ppp;
	cr_assert_eq(pppc_core_init(&W.c, &conf, &c_ops, NULL), 0);
	use_lac("10.86.1.1");
	pppc_core_start(&W.c, W.now);
	pump();
	lns_fresh(); /* the call is up at the LNS once the mobile has attached */
	run_for(5000); /* the mobile's first Configure-Request was lost: restart timer 3 s */
	cr_assert(ppp_is_up(&W.c.ppp), "PPP not up on the first LAC");
	cr_assert_eq(W.c.stats.ppp_negotiations, 1);
	cr_assert_eq(W.c.stats.attaches, 1);
	cr_assert_eq(W.addr, 0x0a410002u);
}

/* An IPv4 packet from the mobile reaches the LNS. */
static int ip_reaches_lns(void)
{
	uint8_t ip[20] = { 0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17 };
	int before = W.lns_ip_rx;
	if (pppc_core_send_ip(&W.c, ip, sizeof(ip)) < 0)
		return 0;
	pump();
	return W.lns_ip_rx == before + 1;
}

/* The mobile leaves for lac (a move announced by a notice): DETACH "moving" to the old LAC, then
 * discovery on the new cell. */
static void move_to(const char *lac)
{
	pppc_core_moving(&W.c, W.now);
	pump();
	cr_assert_eq(W.detach_cause, ACCESS_DETACH_MOVING);
	use_lac(lac);
	pppc_core_start(&W.c, W.now);
	pump();
	cr_assert_eq(W.c.ac.state, ACCESS_CLIENT_ATTACHED);
}

Test(pppclient, first_attachment_and_ip)
{
	setup_world(true);
	cr_assert(ip_reaches_lns());
	uint8_t ip[20] = { 0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17 };
	lac_send_ppp(PPP_PROTO_IP, ip, sizeof(ip));
	pump();
	cr_assert_eq(W.ip_in, 1);
	cr_assert_eq(W.c.stats.rx_ip, 1);
	/* not IPv4: dropped */
	uint8_t v6[40] = { 0x60 };
	cr_assert_lt(pppc_core_send_ip(&W.c, v6, sizeof(v6)), 0);
	cr_assert_eq(W.c.stats.drop_ip, 1);
}

Test(pppclient, handoff_resumed_with_chap_rechallenge)
{
	setup_world(true);
	for (int k = 0; k < 4; k++) {
		move_to(k % 2 ? "10.86.1.1" : "10.86.1.2");
		cr_assert_geq(W.detach_seen, k + 1);
		/* The new LAC re-challenges the mobile (the LNS's PPP is resumed untouched). */
		uint8_t ch[4 + 1 + 16 + 4];
		W.rechallenge_id = 0x40 + k;
		for (int i = 0; i < 16; i++)
			W.rechallenge[i] = (uint8_t)(i * 7 + k);
		ch[0] = PPP_CHAP_CHALLENGE;
		ch[1] = (uint8_t)W.rechallenge_id;
		ch[2] = 0;
		ch[3] = sizeof(ch);
		ch[4] = 16;
		memcpy(ch + 5, W.rechallenge, 16);
		memcpy(ch + 21, "lac2", 4);
		W.chap_response_ok = 0;
		lac_send_ppp(PPP_PROTO_CHAP, ch, sizeof(ch));
		run_for(500);
		cr_assert(W.chap_response_ok, "no valid CHAP response to the re-challenge (move %d)", k);
		cr_assert(ppp_is_up(&W.c.ppp));
		cr_assert(ip_reaches_lns(), "no IP after move %d", k);
	}
	cr_assert_eq(W.c.stats.ppp_negotiations, 1, "PPP renegotiated");
	cr_assert_eq(W.c.stats.attaches, 1);
	cr_assert_eq(W.c.stats.reattaches, 4);
	cr_assert_eq(W.c.stats.moves, 4);
	cr_assert_eq(W.c.stats.address_changes, 0);
	cr_assert_eq(W.addr, 0x0a410002u);
	cr_assert_eq(W.addr_calls, 1);
}

Test(pppclient, standard_fallback_renegotiates)
{
	setup_world(true);
	move_to("10.86.1.2");
	/* A standard LNS: a fresh call, a fresh LCP negotiation, another address. */
	lns_fresh();
	run_for(3000);
	cr_assert(ppp_is_up(&W.c.ppp));
	cr_assert_eq(W.c.stats.ppp_negotiations, 2);
	cr_assert_eq(W.c.stats.attaches, 1);
	cr_assert_eq(W.c.stats.reattaches, 1);
	cr_assert_eq(W.c.stats.ppp_downs, 0);
	cr_assert_eq(W.addr, 0x0a410003u);
	cr_assert_eq(W.c.stats.address_changes, 1);
	cr_assert(ip_reaches_lns());
}

Test(pppclient, without_keep_ppp_restarts)
{
	setup_world(false);
	pppc_core_moving(&W.c, W.now);
	pump();
	cr_assert_eq(W.c.ppp.phase, PPP_PHASE_DEAD);
	cr_assert_eq(W.c.stats.ppp_downs, 1);
	cr_assert_eq(W.addr, 0, "address not removed with PPP");
	W.lns_on = 0; /* the old call is cleared (plain CDN) */
	use_lac("10.86.1.2");
	pppc_core_start(&W.c, W.now);
	pump();
	lns_fresh();
	run_for(5000);
	cr_assert(ppp_is_up(&W.c.ppp));
	cr_assert_eq(W.c.stats.attaches, 2);
	cr_assert_eq(W.c.stats.reattaches, 0);
	cr_assert_eq(W.c.stats.ppp_negotiations, 2, "negotiations %llu", (unsigned long long)W.c.stats.ppp_negotiations);
}

Test(pppclient, lac_silence_keeps_ppp_and_attaches_again)
{
	setup_world(true);
	/* The radio moves without notice: the old LAC goes silent. */
	W.lac_answers = 0;
	struct roam_sockaddr old = W.lac;
	use_lac("10.86.1.2");
	W.lac_answers = 0;
	(void)old;
	run_for(3500); /* dead interval 3 s */
	cr_assert_eq(W.c.ac.stats.lost_silent, 1);
	cr_assert_neq(W.c.ppp.phase, PPP_PHASE_DEAD, "PPP dropped on the loss of the LAC");
	W.lac_answers = 1;
	run_for(9000); /* the ATTACH retransmission reaches the new LAC */
	cr_assert_eq(W.c.ac.state, ACCESS_CLIENT_ATTACHED);
	cr_assert_eq(W.c.stats.reattaches, 1);
	cr_assert(ppp_is_up(&W.c.ppp));
	cr_assert_eq(W.c.stats.ppp_negotiations, 1);
}

Test(pppclient, detach_normal_ends_ppp)
{
	setup_world(true);
	struct access_msg m = { .type = ACCESS_DETACH, .cause = ACCESS_DETACH_NORMAL };
	lac_send(&m);
	pump();
	cr_assert_eq(W.c.ppp.phase, PPP_PHASE_DEAD);
	cr_assert_eq(W.addr, 0);
	cr_assert_eq(W.c.stats.ppp_downs, 1);
}

Test(pppclient, carrier_down_and_up)
{
	setup_world(true);
	cr_assert(pppc_core_carrier(&W.c, false, W.now));
	cr_assert_not(pppc_core_carrier(&W.c, false, W.now), "no change reported as one");
	cr_assert_eq(W.c.ac.state, ACCESS_CLIENT_IDLE);
	cr_assert_neq(W.c.ppp.phase, PPP_PHASE_DEAD);
	size_t before = W.c.ac.stats.attach_sent;
	run_for(3000);
	cr_assert_eq(W.c.ac.stats.attach_sent, before, "ATTACH without a carrier");
	use_lac("10.86.1.2");
	cr_assert(pppc_core_carrier(&W.c, true, W.now));
	pump();
	cr_assert_eq(W.c.ac.state, ACCESS_CLIENT_ATTACHED);
	cr_assert_eq(W.c.stats.reattaches, 1);
}

Test(pppclient, stop_detaches_and_removes_the_address)
{
	setup_world(true);
	pppc_core_stop(&W.c, W.now);
	pump();
	cr_assert_eq(W.detach_cause, ACCESS_DETACH_NORMAL);
	cr_assert_eq(W.addr, 0);
}

Test(pppclient, silence_delay_holds_the_attach)
{
	setup_world(true);
	W.c.ac.conf.silence_delay_ms = 200;
	W.lac_answers = 0;
	use_lac("10.86.1.2");
	W.lac_answers = 0;
	uint64_t sent = W.c.ac.stats.attach_sent;
	while (W.c.ac.stats.lost_silent == 0)
		run_for(10);
	cr_assert_eq(W.c.ac.stats.attach_sent, sent, "ATTACH at once after the silence");
	run_for(150);
	cr_assert_eq(W.c.ac.stats.attach_sent, sent, "ATTACH before silence_delay_ms");
	W.lac_answers = 1;
	run_for(100);
	cr_assert_eq(W.c.ac.stats.attach_sent, sent + 1);
	cr_assert_eq(W.c.ac.state, ACCESS_CLIENT_ATTACHED);
	cr_assert_eq(W.c.stats.reattaches, 1);
}
