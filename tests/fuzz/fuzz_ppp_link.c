/* The PPP link (roam/ppp.h): an authenticator and a peer negotiate with each other through a
 * link the fuzzer controls, on a fake clock.  Frames each side transmits are queued; each
 * input byte is a step:
 *   0-2  deliver the oldest queued frame      3  drop it
 *   4    deliver it with one byte changed     5  duplicate it
 *   6    inject a frame built from the input (protocol from a table or raw, side, bytes)
 *   7    advance the clock (up to 65 s) and run both sides' timers
 *   8    deliver it HDLC-framed, split into datagrams, with bytes of the input appended
 *   9    administrative: close, lower down, send an IP packet, export/import the state
 * The first byte picks the authentication (none, PAP, CHAP, both), whether the peer knows the
 * right secret, and the compression options.  Address/MRU agreement is only checked on runs
 * where no frame was changed or forged (PPP cannot detect that; the FCS or UDP checksum does).
 * Properties: every transmitted control packet has a valid header and Length; events come in
 * a sensible order (no NETWORK_UP without LINK_UP, nothing after LINK_DOWN); when both sides
 * are up they agree on the addresses and each one's MRU; an exported state imports into a
 * fresh link which is then up with the same values.  After PPP_EV_LINK_DOWN a side is
 * initialised and started again, as the contract in roam/ppp.h asks (a struct ppp serves one
 * session); nothing may be called on it in between. */
#include <errno.h>

#include "fuzz.h"
#include "roam/ppp.h"

#define A 0
#define P 1
#define QMAX 64
#define FMAX 1600
#define POOL_ADDR 0x0a400002u
#define LNS_ADDR 0x0a400001u

struct qframe {
	int to;
	uint16_t proto;
	size_t len;
	uint8_t b[FMAX];
};

struct end {
	struct ppp p;
	struct ppp_cfg cfg;
	int link_up, net_up, down; /* from events */
	uint32_t seed;
};

struct link {
	struct end e[2];
	struct qframe q[QMAX];
	size_t qhead, qn;
	uint64_t now;
	const char *secret; /* the authenticator's secret for "alice" */
	int tampered; /* a frame was changed or forged: PPP itself cannot detect that (the FCS or
	               * the UDP checksum does), so the two sides may legitimately disagree */
};

static struct link L;

static int side(void *ctx)
{
	return ctx == &L.e[A] ? A : P;
}

static void out(void *ctx, uint16_t proto, const uint8_t *info, size_t len)
{
	int from = side(ctx);
	if (proto == PPP_PROTO_LCP || proto == PPP_PROTO_IPCP || proto == PPP_PROTO_PAP ||
	    proto == PPP_PROTO_CHAP) {
		struct ppp_cp cp;
		FUZZ_CHECK(ppp_cp_decode(info, len, &cp) == 0 && cp.len + 4 == len,
		           "side %d sent a bad control packet (proto %04x, %zu bytes)", from, proto,
		           len);
	}
	if (proto == PPP_PROTO_PAP) {
		struct ppp_pap pap;
		FUZZ_CHECK(ppp_pap_decode(info, len, &pap) == 0, "side %d sent bad PAP", from);
	}
	if (proto == PPP_PROTO_CHAP) {
		struct ppp_chap chap;
		FUZZ_CHECK(ppp_chap_decode(info, len, &chap) == 0, "side %d sent bad CHAP", from);
	}
	FUZZ_CHECK(len <= FMAX, "side %d sent %zu bytes", from, len);
	if (L.qn == QMAX)
		return; /* the link is congested: lost */
	struct qframe *f = &L.q[(L.qhead + L.qn++) % QMAX];
	f->to = !from;
	f->proto = proto;
	f->len = len;
	memcpy(f->b, info, len);
}

static void event(void *ctx, const struct ppp_event *ev)
{
	struct end *e = ctx;
	FUZZ_CHECK(!e->down, "event %d after LINK_DOWN", ev->type);
	switch (ev->type) {
	case PPP_EV_LINK_UP:
		e->link_up = 1;
		break;
	case PPP_EV_AUTH_OK:
		FUZZ_CHECK(e->link_up, "AUTH_OK before LINK_UP");
		break;
	case PPP_EV_NETWORK_UP:
		FUZZ_CHECK(e->link_up, "NETWORK_UP before LINK_UP");
		e->net_up = 1;
		break;
	case PPP_EV_NETWORK_DOWN:
		e->net_up = 0;
		break;
	case PPP_EV_LINK_DOWN:
		e->down = 1;
		break;
	}
}

static int get_secret(void *ctx, const char *name, uint8_t *secret, size_t *len)
{
	(void)ctx;
	if (strcmp(name, "alice"))
		return -ENOENT;
	*len = strlen(L.secret);
	memcpy(secret, L.secret, *len);
	return 0;
}

static int get_peer_addr(void *ctx, const char *name, uint32_t requested, uint32_t *addr)
{
	(void)ctx;
	(void)name;
	(void)requested;
	*addr = POOL_ADDR;
	return 0;
}

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
	.output = out, .event = event, .get_secret = get_secret,
	.get_peer_addr = get_peer_addr, .random = rnd,
};

static int trace = -1; /* FUZZ_TRACE in the environment: print every frame delivered */

static void input(int to, uint16_t proto, const uint8_t *b, size_t len)
{
	if (trace < 0)
		trace = getenv("FUZZ_TRACE") != NULL;
	if (trace) {
		fprintf(stderr, "t=%llu %c->%c %04x", (unsigned long long)L.now, to ? 'A' : 'P',
		        to ? 'P' : 'A', proto);
		for (size_t i = 0; i < len; i++)
			fprintf(stderr, " %02x", b[i]);
		fputc('\n', stderr);
	}
	int rc = ppp_input(&L.e[to].p, proto, b, len, L.now);
	FUZZ_CHECK(rc == 1 || rc == 0 || rc == -EBADMSG || rc == -ENOTCONN, "ppp_input: %d", rc);
	FUZZ_CHECK(rc != 1 || proto == PPP_PROTO_IP, "1 for protocol %04x", proto);
}

static struct qframe *head(void)
{
	return L.qn ? &L.q[L.qhead] : NULL;
}

static void pop(void)
{
	L.qhead = (L.qhead + 1) % QMAX;
	L.qn--;
}

/* Delivers through the HDLC encoder and the streaming decoder in datagrams of `chunk`, with
 * `junk` appended to the last one. */
static void deliver_hdlc(const struct qframe *f, size_t chunk, const uint8_t *junk, size_t jn)
{
	static struct ppp_hdlc_dec d;
	struct ppp_hdlc_tx tx;
	struct wbuf w;
	const struct end *from = &L.e[!f->to];

	ppp_hdlc_tx_from_state(&tx, &from->p.st);
	if (from->p.lcp.state != PPP_ST_OPENED) {
		tx.accm = PPP_HDLC_ACCM_DEFAULT;
		tx.acfc = tx.pfc = 0;
	}
	wbuf_init(&w);
	FUZZ_CHECK(ppp_hdlc_encode(&w, &tx, f->proto, f->b, f->len) == 0, "hdlc encode");
	wbuf_put_bytes(&w, junk, jn);
	ppp_hdlc_dec_init(&d, PPP_HDLC_BUF_MAX);
	d.accm = 0;
	int got = 0;
	for (size_t off = 0; off < w.len; off += chunk) {
		const uint8_t *p = w.buf + off;
		size_t n = w.len - off < chunk ? w.len - off : chunk;
		struct ppp_hdlc_frame fr;
		int rc;
		while ((rc = ppp_hdlc_decode(&d, &p, &n, &fr)) != 0) {
			if (rc != 1)
				continue;
			if (!got++)
				FUZZ_CHECK(fr.proto == f->proto && fuzz_eq(fr.info, fr.info_len, f->b, f->len),
				           "HDLC changed the frame");
			input(f->to, fr.proto, fr.info, fr.info_len);
		}
	}
	FUZZ_CHECK(got >= 1, "HDLC lost the frame");
	wbuf_free(&w);
}

static void check_state(const struct end *e)
{
	struct ppp_state st, st2;
	if (ppp_state_export(&e->p, &st) != 0) {
		FUZZ_CHECK(!ppp_is_up(&e->p), "is up but export fails");
		return;
	}
	static struct ppp q;
	static const struct ppp_ops qops = { .output = out, .event = event,
		                             .get_secret = get_secret,
		                             .get_peer_addr = get_peer_addr, .random = rnd };
	FUZZ_CHECK(ppp_init(&q, &e->cfg, &qops, (void *)e) == 0, "init for import");
	int rc = ppp_state_import(&q, &st, L.now);
	FUZZ_CHECK(rc == 0, "import of an exported state: %d", rc);
	FUZZ_CHECK(ppp_is_up(&q), "imported link not up");
	FUZZ_CHECK(ppp_state_export(&q, &st2) == 0, "export of the imported link");
	FUZZ_CHECK(st.addr_local == st2.addr_local && st.addr_peer == st2.addr_peer &&
	           st.mru_send == st2.mru_send && st.mru_recv == st2.mru_recv &&
	           st.accm_send == st2.accm_send && st.magic_peer == st2.magic_peer &&
	           strcmp(st.peer_name, st2.peer_name) == 0, "imported state differs");
}

static void both_up_agree(void)
{
	const struct ppp *a = &L.e[A].p, *p = &L.e[P].p;
	if (L.tampered || !ppp_is_up(a) || !ppp_is_up(p))
		return;
	FUZZ_CHECK(a->st.addr_local == p->st.addr_peer && a->st.addr_peer == p->st.addr_local,
	           "addresses disagree: A %08x/%08x P %08x/%08x", a->st.addr_local,
	           a->st.addr_peer, p->st.addr_local, p->st.addr_peer);
	FUZZ_CHECK(a->st.mru_send == p->st.mru_recv && p->st.mru_send == a->st.mru_recv,
	           "MRUs disagree");
}

/* A side whose session ended starts a new one (outside any ppp call).  With FUZZ_STRICT set
 * it is left dead and still driven, so that any event after PPP_EV_LINK_DOWN is reported (the
 * regression seed corpus/fuzz_ppp_link/link-down-twice-close-after-lower-down once raised a
 * second LINK_DOWN from ppp_close after ppp_lower_down). */
static void restart_dead(void)
{
	static int strict = -1;
	if (strict < 0)
		strict = getenv("FUZZ_STRICT") != NULL;
	if (strict)
		return;
	for (int i = 0; i < 2; i++) {
		struct end *e = &L.e[i];
		if (!e->down)
			continue;
		FUZZ_CHECK(!ppp_is_up(&e->p), "side %d up after LINK_DOWN", i);
		e->down = e->link_up = e->net_up = 0;
		FUZZ_CHECK(ppp_init(&e->p, &e->cfg, &ops, e) == 0, "ppp_init again");
		ppp_start(&e->p, L.now);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t protos[] = { PPP_PROTO_LCP, PPP_PROTO_IPCP, PPP_PROTO_PAP,
		                           PPP_PROTO_CHAP, PPP_PROTO_IP, PPP_PROTO_IPV6, 0x80fd };
	static const unsigned auths[] = { 0, PPP_AUTH_PAP, PPP_AUTH_CHAP,
		                          PPP_AUTH_PAP | PPP_AUTH_CHAP };
	struct fuzz_in in = { data, size };
	uint8_t conf = fuzz_u8(&in);
	const uint8_t *p;
	size_t n;

	fuzz_quiet();
	memset(&L, 0, sizeof(L));
	L.now = 1000000;
	L.secret = "s3cret";
	L.e[A].seed = 1;
	L.e[P].seed = 2;
	ppp_cfg_default(&L.e[A].cfg, PPP_ROLE_AUTHENTICATOR);
	L.e[A].cfg.auth = auths[conf & 3];
	strcpy(L.e[A].cfg.name, "lns");
	L.e[A].cfg.local_addr = LNS_ADDR;
	L.e[A].cfg.dns1 = 0x0a000035;
	L.e[A].cfg.want_pfc = L.e[A].cfg.want_acfc = (conf >> 4) & 1;
	ppp_cfg_default(&L.e[P].cfg, PPP_ROLE_PEER);
	strcpy(L.e[P].cfg.name, "alice");
	const char *pw = (conf & 4) ? "wrong" : "s3cret";
	L.e[P].cfg.secret_len = strlen(pw);
	memcpy(L.e[P].cfg.secret, pw, L.e[P].cfg.secret_len);
	L.e[P].cfg.want_dns = (conf >> 3) & 1;
	L.e[P].cfg.accm = 0;
	L.e[P].cfg.want_pfc = L.e[P].cfg.want_acfc = (conf >> 5) & 1;
	L.e[P].cfg.mru = (conf & 0x40) ? 1400 : PPP_MRU_DEFAULT;
	L.e[A].cfg.echo_interval_ms = (conf & 0x80) ? 0 : 10000;
	for (int i = 0; i < 2; i++)
		FUZZ_CHECK(ppp_init(&L.e[i].p, &L.e[i].cfg, &ops, &L.e[i]) == 0, "ppp_init %d", i);
	ppp_start(&L.e[A].p, L.now);
	ppp_start(&L.e[P].p, L.now);

	for (int steps = 0; in.left && steps < 4000; steps++) {
		uint8_t op = fuzz_u8(&in) % 10;
		struct qframe *f = head();
		switch (op) {
		case 0: case 1: case 2:
			if (f) {
				struct qframe c = *f;
				pop();
				input(c.to, c.proto, c.b, c.len);
			}
			break;
		case 3:
			if (f)
				pop();
			break;
		case 4:
			if (f && f->len) {
				struct qframe c = *f;
				pop();
				L.tampered = 1;
				c.b[fuzz_u8(&in) % c.len] ^= fuzz_u8(&in) | 1;
				input(c.to, c.proto, c.b, c.len);
			}
			break;
		case 5:
			if (f && L.qn < QMAX)
				L.q[(L.qhead + L.qn++) % QMAX] = *f;
			break;
		case 6: {
			uint8_t sel = fuzz_u8(&in);
			uint16_t proto = (sel & 7) < 7 ? protos[sel & 7] : fuzz_u16(&in);
			p = fuzz_bytes(&in, fuzz_u8(&in), &n);
			L.tampered = 1;
			input((sel >> 3) & 1, proto, p, n);
			break;
		}
		case 7:
			L.now += (uint64_t)fuzz_u16(&in) + 1;
			ppp_tick(&L.e[A].p, L.now);
			ppp_tick(&L.e[P].p, L.now);
			break;
		case 8:
			if (f) {
				struct qframe c = *f;
				pop();
				uint8_t sel = fuzz_u8(&in);
				p = fuzz_bytes(&in, sel >> 4, &n);
				L.tampered |= n > 0;
				deliver_hdlc(&c, (sel & 15) + 1, p, n);
			}
			break;
		case 9: {
			uint8_t sel = fuzz_u8(&in);
			int s = sel & 1;
			switch ((sel >> 1) % 5) {
			case 0:
				ppp_close(&L.e[s].p, PPP_DOWN_NONE, L.now);
				break;
			case 1:
				ppp_lower_down(&L.e[s].p, L.now);
				break;
			case 2: {
				static const uint8_t ip[20] = { 0x45, 0, 0, 20 };
				int rc = ppp_send_ip(&L.e[s].p, ip, sizeof(ip));
				FUZZ_CHECK(rc == 0 || rc == -ENOTCONN, "send_ip: %d", rc);
				FUZZ_CHECK((rc == 0) == (L.e[s].p.st.ipcp_opened != 0) ||
				           rc == -ENOTCONN, "send_ip");
				break;
			}
			default:
				check_state(&L.e[s]);
				break;
			}
			break;
		}
		}
		(void)ppp_next_timeout(&L.e[A].p);
		both_up_agree();
		restart_dead();
	}
	/* Let whatever is left converge without interference. */
	for (int steps = 0; steps < 200 && (L.qn || steps < 20); steps++) {
		struct qframe *f = head();
		if (f) {
			struct qframe c = *f;
			pop();
			input(c.to, c.proto, c.b, c.len);
		} else {
			L.now += 3000;
			ppp_tick(&L.e[A].p, L.now);
			ppp_tick(&L.e[P].p, L.now);
		}
		both_up_agree();
		restart_dead();
	}
	check_state(&L.e[A]);
	check_state(&L.e[P]);
	return 0;
}
