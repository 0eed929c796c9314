/* rlpc: a test mobile for the L2TP data path.  It attaches to a LAC over the emulated access
 * link (docs/protocols/access-link.md; common/proto/access/client.c) with its MIN, runs the
 * peer side of PPP (common/proto/ppp) with a user and password, configures the negotiated
 * address on its own TUN device with a default route, and forwards IPv4 between the TUN device
 * and PPP.  It runs until SIGTERM/SIGINT (then DETACH) and answers `status` on a control
 * socket.
 *
 *   rlpc -m MIN -u USER -p PASSWORD [-P PASSWORD_FILE] [-l LAC[:PORT] | -g GROUP]
 *        [-i CELL_IF] [-t TUN] [-s CTL_SOCKET] [-n NAI] [-A pap|chap|any] [-R] [-d]
 *
 * -R: no default route.  Exit: 0 after a signal, 1 on a start-up error, 2 usage. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roam/access_client.h"
#include "roam/ctl.h"
#include "roam/json.h"
#include "roam/log.h"
#include "roam/netlink.h"
#include "roam/ppp.h"
#include "roam/tun.h"
#include "roam/udp.h"

struct rlpc {
	uv_loop_t *loop;
	struct access_client ac;
	struct ppp ppp;
	struct ppp_cfg pcfg;
	struct roam_udp *udp;
	struct roam_tun *tun;
	int tun_ifindex;
	struct roam_nl *nl;
	struct roam_ctl *ctl;
	uv_timer_t timer, stop_timer;
	uv_signal_t sigterm, sigint;
	bool default_route, addr_set, stopping;
	uint32_t addr;                 /* configured on the TUN (host order) */
	uint64_t ppp_started, ppp_up_at;
	uint64_t ppp_ups, ppp_downs, rx_ip, tx_ip, drop_ip;
	enum ppp_down_reason last_down;
};

static const struct ppp_ops rlpc_ppp_ops;

static void ip4(uint32_t a, struct roam_ipaddr *o)
{
	uint32_t n = htonl(a);
	memset(o, 0, sizeof(*o));
	o->family = AF_INET;
	memcpy(&o->v4, &n, 4);
}

static void addr_fmt(uint32_t a, char *b, size_t n)
{
	snprintf(b, n, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

static void ppp_reset(struct rlpc *r)
{
	if (ppp_init(&r->ppp, &r->pcfg, &rlpc_ppp_ops, r) < 0)
		fatalx("ppp_init");
}

static void unconfigure(struct rlpc *r)
{
	struct roam_prefix p;
	if (!r->addr_set || !r->nl)
		return;
	memset(&p, 0, sizeof(p));
	ip4(r->addr, &p.addr);
	p.len = 32;
	(void)roam_nl_addr_del(r->nl, r->tun_ifindex, &p); /* its routes go with it */
	r->addr_set = false;
}

static void configure(struct rlpc *r, uint32_t addr)
{
	struct roam_prefix p;
	struct roam_nl_route rt;
	char b[16];
	int e;
	if (r->addr_set && r->addr == addr)
		return;
	unconfigure(r);
	memset(&p, 0, sizeof(p));
	ip4(addr, &p.addr);
	p.len = 32;
	if ((e = roam_nl_addr_add(r->nl, r->tun_ifindex, &p, ROAM_NL_ADDR_REPLACE)) < 0)
		log_warnx("address on TUN: %s", strerror(-e));
	r->addr = addr;
	r->addr_set = true;
	if (r->default_route) {
		memset(&rt, 0, sizeof(rt));
		rt.dst.addr.family = AF_INET;
		rt.oif = r->tun_ifindex;
		rt.prefsrc = p.addr;
		if ((e = roam_nl_route_replace(r->nl, &rt)) < 0)
			log_warnx("default route: %s", strerror(-e));
	}
	addr_fmt(addr, b, sizeof(b));
	log_info("address %s configured", b);
}

/* ---- PPP ---- */

static void ppp_output(void *ctx, uint16_t proto, const uint8_t *info, size_t len)
{
	struct rlpc *r = ctx;
	(void)access_client_send_ppp(&r->ac, proto, info, len);
}

static void ppp_event(void *ctx, const struct ppp_event *ev)
{
	struct rlpc *r = ctx;
	uint64_t now = uv_now(r->loop);
	switch (ev->type) {
	case PPP_EV_LINK_UP:
		/* The framing towards the LAC uses the ACCM the LNS asked for. */
		r->ac.hdlc.accm = ev->st->accm_send;
		break;
	case PPP_EV_AUTH_OK:
		log_info("authenticated");
		break;
	case PPP_EV_NETWORK_UP:
		r->ppp_ups++;
		r->ppp_up_at = now;
		log_info("PPP up in %llu ms", (unsigned long long)(now - r->ppp_started));
		configure(r, ev->st->addr_local);
		break;
	case PPP_EV_NETWORK_DOWN:
		break;
	case PPP_EV_LINK_DOWN:
		r->ppp_downs++;
		r->last_down = ev->reason;
		r->ac.hdlc.accm = PPP_HDLC_ACCM_DEFAULT;
		log_info("PPP down: %s", ppp_down_reason_str(ev->reason));
		unconfigure(r);
		r->ppp_up_at = 0;
		break;
	}
}

static const struct ppp_ops rlpc_ppp_ops = { .output = ppp_output, .event = ppp_event };

/* ---- access link ---- */

static void ac_tx(void *ctx, const struct roam_sockaddr *dst, const uint8_t *pkt, size_t len)
{
	struct rlpc *r = ctx;
	(void)roam_udp_send(r->udp, dst, pkt, len);
}

static void ac_attached(void *ctx, uint32_t link_id)
{
	struct rlpc *r = ctx;
	log_info("attached, link %08x", link_id);
	if (r->ppp.phase == PPP_PHASE_DEAD) {
		ppp_reset(r);
		r->ppp_started = uv_now(r->loop);
		ppp_start(&r->ppp, r->ppp_started);
	}
}

static void ac_lost(void *ctx, int cause)
{
	struct rlpc *r = ctx;
	log_info("access link lost (%s %d): discovery", cause < 0 ? "silence" : "DETACH cause",
		 cause);
	/* Without the handoff (next step) a new call means a new PPP negotiation. */
	if (r->ppp.phase != PPP_PHASE_DEAD)
		ppp_lower_down(&r->ppp, uv_now(r->loop));
}

static void ac_ppp_frame(void *ctx, uint16_t proto, const uint8_t *info, size_t len)
{
	struct rlpc *r = ctx;
	if (ppp_input(&r->ppp, proto, info, len, uv_now(r->loop)) == 1) {
		if (roam_tun_write(r->tun, info, len) < 0)
			r->drop_ip++;
		else
			r->rx_ip++;
	}
}

static void udp_rx(struct roam_udp *u, const struct roam_udp_pkt *pkt, void *arg)
{
	(void)u;
	struct rlpc *r = arg;
	access_client_input(&r->ac, pkt->data, pkt->len, &pkt->src, uv_now(r->loop));
}

static void tun_rx(struct roam_tun *t, const uint8_t *pkt, size_t len, void *arg)
{
	(void)t;
	struct rlpc *r = arg;
	if (len < 20 || (pkt[0] >> 4) != 4 || ppp_send_ip(&r->ppp, pkt, len) < 0)
		r->drop_ip++;
	else
		r->tx_ip++;
}

static void timer_cb(uv_timer_t *t)
{
	struct rlpc *r = t->data;
	uint64_t now = uv_now(r->loop);
	access_client_tick(&r->ac, now);
	if (r->ppp.phase != PPP_PHASE_DEAD && ppp_next_timeout(&r->ppp) <= now)
		ppp_tick(&r->ppp, now);
}

/* ---- control socket ---- */

static int cmd_status(void *arg, const struct json_value *args, struct json_writer *w,
		      char *err, size_t errlen)
{
	(void)args, (void)err, (void)errlen;
	struct rlpc *r = arg;
	char b[64];
	json_obj_begin(w);
	json_kv_str(w, "min", r->ac.conf.min);
	json_kv_str(w, "link", access_client_state_str(r->ac.state));
	snprintf(b, sizeof(b), "%08x", r->ac.link_id);
	json_kv_str(w, "link_id", b);
	json_kv_str(w, "ppp", ppp_phase_str(r->ppp.phase));
	json_kv_bool(w, "ppp_up", ppp_is_up(&r->ppp));
	addr_fmt(r->ppp.st.addr_local, b, sizeof(b));
	json_kv_str(w, "address", ppp_is_up(&r->ppp) ? b : "");
	addr_fmt(r->ppp.st.addr_peer, b, sizeof(b));
	json_kv_str(w, "peer_address", ppp_is_up(&r->ppp) ? b : "");
	json_kv_str(w, "auth", r->ppp.st.auth_proto == PPP_PROTO_PAP    ? "pap"
			       : r->ppp.st.auth_proto == PPP_PROTO_CHAP ? "chap"
									: "none");
	if (r->ppp_up_at)
		json_kv_uint(w, "ppp_setup_ms", r->ppp_up_at - r->ppp_started);
	json_kv_uint(w, "ppp_ups", r->ppp_ups);
	json_kv_uint(w, "ppp_downs", r->ppp_downs);
	json_kv_str(w, "last_down", ppp_down_reason_str(r->last_down));
	json_kv_uint(w, "rx_ip", r->rx_ip);
	json_kv_uint(w, "tx_ip", r->tx_ip);
	json_kv_uint(w, "drop_ip", r->drop_ip);
	json_kv_uint(w, "attach_sent", r->ac.stats.attach_sent);
	json_kv_uint(w, "attach_acked", r->ac.stats.attach_acked);
	json_kv_uint(w, "attach_nak", r->ac.stats.attach_nak);
	json_kv_uint(w, "last_nak_cause", r->ac.stats.last_nak_cause);
	json_kv_uint(w, "detach_rx", r->ac.stats.detach_rx);
	json_kv_uint(w, "lost_silent", r->ac.stats.lost_silent);
	json_kv_uint(w, "rx_lost", r->ac.stats.rx_lost);
	json_kv_uint(w, "rtt_ms", r->ac.stats.rtt_ms);
	json_kv_uint(w, "frames_bad", r->ac.stats.frames_bad);
	json_obj_end(w);
	return 0;
}

/* ---- lifecycle ---- */

static void close_walk(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

static void stop_cb(uv_timer_t *t)
{
	struct rlpc *r = t->data;
	uv_timer_stop(&r->timer);
	ctl_close(r->ctl);
	r->ctl = NULL;
	roam_udp_close(r->udp, NULL);
	roam_tun_close(r->tun, NULL);
	uv_walk(r->loop, close_walk, NULL);
}

static void signal_cb(uv_signal_t *s, int signum)
{
	struct rlpc *r = s->data;
	if (r->stopping)
		return;
	r->stopping = true;
	log_info("signal %d: DETACH", signum);
	access_client_detach(&r->ac, ACCESS_DETACH_NORMAL, uv_now(r->loop));
	unconfigure(r);
	/* Long enough for the repeated DETACH (100 ms). */
	uv_timer_start(&r->stop_timer, stop_cb, 150, 0);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: rlpc -m MIN -u USER (-p PASSWORD | -P FILE) [-l LAC[:PORT] | -g GROUP]\n"
		"            [-i CELL_IF] [-t TUN] [-s CTL_SOCKET] [-n NAI] [-A pap|chap|any] [-R] [-d]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static struct rlpc r;
	struct access_client_conf ac;
	const char *min = NULL, *user = NULL, *pass = NULL, *passfile = NULL, *lac = NULL;
	const char *group = ACCESS_GROUP, *cellif = NULL, *tunname = "rlp%d", *ctlpath = NULL;
	const char *nai = "";
	char pbuf[PPP_SECRET_MAX + 2];
	struct roam_udp_opts uo;
	struct roam_tun_opts to;
	int c, e;
	bool debug = false;
	unsigned auth = PPP_AUTH_PAP | PPP_AUTH_CHAP;

	r.default_route = true;
	while ((c = getopt(argc, argv, "m:u:p:P:l:g:i:t:s:n:A:Rdh")) != -1) {
		switch (c) {
		case 'm': min = optarg; break;
		case 'u': user = optarg; break;
		case 'p': pass = optarg; break;
		case 'P': passfile = optarg; break;
		case 'l': lac = optarg; break;
		case 'g': group = optarg; break;
		case 'i': cellif = optarg; break;
		case 't': tunname = optarg; break;
		case 's': ctlpath = optarg; break;
		case 'n': nai = optarg; break;
		case 'R': r.default_route = false; break;
		case 'A':
			auth = !strcmp(optarg, "pap") ? PPP_AUTH_PAP
			       : !strcmp(optarg, "chap") ? PPP_AUTH_CHAP
			       : !strcmp(optarg, "any") ? PPP_AUTH_PAP | PPP_AUTH_CHAP : 0;
			if (!auth)
				usage();
			break;
		case 'd': debug = true; break;
		default: usage();
		}
	}
	if (!min || !user || (!pass && !passfile) || optind != argc)
		usage();
	log_init("rlpc", 1, debug ? LOG_LVL_DEBUG : LOG_LVL_INFO);
	if (passfile) {
		FILE *f = fopen(passfile, "r");
		if (!f || !fgets(pbuf, sizeof(pbuf), f))
			fatal("%s", passfile);
		fclose(f);
		pbuf[strcspn(pbuf, "\r\n")] = 0;
		pass = pbuf;
	}
	if (strlen(user) > PPP_NAME_MAX || strlen(pass) > PPP_SECRET_MAX)
		fatalx("user or password too long");

	memset(&ac, 0, sizeof(ac));
	access_client_conf_default(&ac);
	snprintf(ac.min, sizeof(ac.min), "%s", min);
	snprintf(ac.nai, sizeof(ac.nai), "%s", nai);
	if (roam_sockaddr_parse(lac ? lac : group, ACCESS_PORT, &ac.target) < 0)
		fatalx("not an address: %s", lac ? lac : group);
	static const struct access_client_ops aops = { .tx = ac_tx,
						       .attached = ac_attached,
						       .lost = ac_lost,
						       .ppp_frame = ac_ppp_frame };
	if (access_client_init(&r.ac, &ac, &aops, &r) < 0)
		fatalx("MIN must be ten digits: %s", min);

	ppp_cfg_default(&r.pcfg, PPP_ROLE_PEER);
	r.pcfg.auth = auth;
	snprintf(r.pcfg.name, sizeof(r.pcfg.name), "%s", user);
	memcpy(r.pcfg.secret, pass, strlen(pass));
	r.pcfg.secret_len = strlen(pass);
	r.pcfg.echo_interval_ms = 0; /* the access keepalive watches the link */
	ppp_reset(&r);

	r.loop = uv_default_loop();
	memset(&uo, 0, sizeof(uo));
	struct roam_ipaddr any;
	memset(&any, 0, sizeof(any));
	any.family = AF_INET;
	roam_sockaddr_set(&uo.bind, &any, 0);
	if ((e = roam_udp_open(r.loop, &uo, udp_rx, &r, &r.udp)) < 0)
		fatalx("UDP: %s", strerror(-e));
	(void)roam_udp_mcast_ttl(r.udp, 1);
	if (cellif && (e = roam_udp_mcast_if(r.udp, cellif)) < 0)
		fatalx("multicast on %s: %s", cellif, strerror(-e));
	memset(&to, 0, sizeof(to));
	to.name = tunname;
	to.mtu = 1400;
	if ((e = roam_tun_open(r.loop, &to, tun_rx, &r, &r.tun)) < 0)
		fatalx("TUN %s: %s", tunname, strerror(-e));
	r.tun_ifindex = roam_tun_ifindex(r.tun);
	if ((e = roam_nl_open(1000, &r.nl)) < 0 ||
	    (e = roam_nl_link_set_up(r.nl, r.tun_ifindex, 1)) < 0)
		fatalx("netlink: %s", strerror(-e));
	if (ctlpath) {
		if ((e = ctl_open(&r.ctl, r.loop, ctlpath, 0)) < 0)
			fatalx("control socket %s: %s", ctlpath, strerror(-e));
		if (ctl_register(r.ctl, "status", "link, PPP state and address", cmd_status, &r) < 0)
			fatalx("ctl_register");
	}
	uv_timer_init(r.loop, &r.timer);
	r.timer.data = &r;
	uv_timer_init(r.loop, &r.stop_timer);
	r.stop_timer.data = &r;
	uv_signal_init(r.loop, &r.sigterm);
	r.sigterm.data = &r;
	uv_signal_start(&r.sigterm, signal_cb, SIGTERM);
	uv_signal_init(r.loop, &r.sigint);
	r.sigint.data = &r;
	uv_signal_start(&r.sigint, signal_cb, SIGINT);
	signal(SIGPIPE, SIG_IGN);

	log_info("MIN %s, user %s, TUN %s, attaching to %s", min, user, roam_tun_name(r.tun),
		 lac ? lac : group);
	access_client_start(&r.ac, uv_now(r.loop));
	uv_timer_start(&r.timer, timer_cb, 10, 10);
	uv_run(r.loop, UV_RUN_DEFAULT);
	roam_nl_close(r.nl);
	uv_loop_close(r.loop);
	explicit_bzero(&r.pcfg, sizeof(r.pcfg));
	return 0;
}
