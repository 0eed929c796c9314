/* The mobile's PPP over the access link with a TUN device: roam/pppclient.h.  The core (access
 * client + PPP peer + what a move does to them) is pure; struct pppc adds the UDP socket, the
 * TUN device, the address and route through netlink, and the timers. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roam/log.h"
#include "roam/pppclient.h"
#include "roam/tun.h"
#include "roam/udp.h"

static void addr_fmt(uint32_t a, char *b, size_t n)
{
	snprintf(b, n, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

/* ======================= the core ======================================================= */

static const struct ppp_ops core_ppp_ops;

static void set_address(struct pppc_core *c, uint32_t addr)
{
	if (addr == c->addr)
		return;
	if (addr && c->addr)
		c->stats.address_changes++;
	c->addr = addr;
	if (c->ops.address)
		c->ops.address(c->ctx, addr);
}

static void ppp_output(void *ctx, uint16_t proto, const uint8_t *info, size_t len)
{
	struct pppc_core *c = ctx;
	if (access_client_send_ppp(&c->ac, proto, info, len) == -ENOTCONN)
		c->stats.drop_not_attached++;
}

static void ppp_event(void *ctx, const struct ppp_event *ev)
{
	struct pppc_core *c = ctx;
	switch (ev->type) {
	case PPP_EV_LINK_UP:
		/* LCP reached Opened: a negotiation from scratch (a resumed session never does). */
		c->stats.ppp_negotiations++;
		if (c->stats.ppp_negotiations > 1 && c->last_attach_at > c->ppp_started)
			c->ppp_started = c->last_attach_at; /* a renegotiation on a new link */
		/* The framing towards the LAC follows what the LNS asked for. */
		ppp_hdlc_tx_from_state(&c->ac.hdlc, ev->st);
		log_info("%sLCP opened (negotiation %llu)", c->prefix,
			 (unsigned long long)c->stats.ppp_negotiations);
		break;
	case PPP_EV_AUTH_OK:
		log_info("%sauthenticated", c->prefix);
		break;
	case PPP_EV_NETWORK_UP:
		c->stats.ppp_ups++;
		c->ppp_up_at = c->now;
		log_info("%sPPP up in %llu ms", c->prefix,
			 (unsigned long long)(c->ppp_up_at - c->ppp_started));
		set_address(c, ev->st->addr_local);
		break;
	case PPP_EV_NETWORK_DOWN:
		break;
	case PPP_EV_LINK_DOWN:
		c->stats.ppp_downs++;
		c->last_down = ev->reason;
		c->ac.hdlc.accm = PPP_HDLC_ACCM_DEFAULT;
		c->ac.hdlc.acfc = c->ac.hdlc.pfc = 0;
		log_info("%sPPP down: %s", c->prefix, ppp_down_reason_str(ev->reason));
		set_address(c, 0);
		c->ppp_up_at = 0;
		break;
	}
}

static const struct ppp_ops core_ppp_ops = { .output = ppp_output, .event = ppp_event };

static void ppp_fresh_start(struct pppc_core *c, uint64_t now)
{
	if (ppp_init(&c->ppp, &c->pcfg, &core_ppp_ops, c) < 0) {
		log_warnx("%sPPP configuration refused", c->prefix);
		return;
	}
	c->ppp_started = now;
	ppp_start(&c->ppp, now);
}

static void ac_tx(void *ctx, const struct roam_sockaddr *dst, const uint8_t *pkt, size_t len)
{
	struct pppc_core *c = ctx;
	c->ops.tx(c->ctx, dst, pkt, len);
}

static void ac_attached(void *ctx, uint32_t link_id)
{
	struct pppc_core *c = ctx;
	uint64_t now = c->now;
	char b[64];
	c->last_attach_at = now;
	log_info("%sattached to LAC %s, link %08x", c->prefix,
		 roam_sockaddr_fmt(&c->ac.lac, b, sizeof(b)), link_id);
	if (c->ppp.phase == PPP_PHASE_DEAD) {
		c->stats.attaches++;
		ppp_fresh_start(c, now);
	} else {
		/* PPP carries on: the new LAC either resumed the parked call (nothing to do, or
		 * a CHAP re-challenge to answer) or the LNS negotiates afresh (PPP answers its
		 * Configure-Request). */
		c->stats.reattaches++;
	}
}

/* The access link went away (cause: DETACH cause, -1 silence or carrier). */
static void link_gone(struct pppc_core *c, int cause, uint64_t now)
{
	c->stats.links_lost++;
	if ((!c->keep_ppp || cause == ACCESS_DETACH_NORMAL) && c->ppp.phase != PPP_PHASE_DEAD)
		ppp_lower_down(&c->ppp, now);
}

static void ac_lost(void *ctx, int cause)
{
	struct pppc_core *c = ctx;
	log_info("%saccess link lost (%s %d): discovery%s", c->prefix,
		 cause < 0 ? "silence" : "DETACH cause", cause,
		 c->keep_ppp && cause != ACCESS_DETACH_NORMAL ? ", PPP kept" : "");
	link_gone(c, cause, c->now);
}

static void ac_ppp_frame(void *ctx, uint16_t proto, const uint8_t *info, size_t len)
{
	struct pppc_core *c = ctx;
	if (ppp_input(&c->ppp, proto, info, len, c->now) == 1) {
		c->stats.rx_ip++;
		if (c->ops.ip_in)
			c->ops.ip_in(c->ctx, info, len);
	}
}

int pppc_core_init(struct pppc_core *c, const struct pppc_conf *conf,
		   const struct pppc_core_ops *ops, void *ctx)
{
	static const struct access_client_ops aops = { .tx = ac_tx,
						       .attached = ac_attached,
						       .lost = ac_lost,
						       .ppp_frame = ac_ppp_frame };
	memset(c, 0, sizeof(*c));
	if (conf->ppp.role != PPP_ROLE_PEER || !ops->tx)
		return -EINVAL;
	c->keep_ppp = conf->keep_ppp;
	snprintf(c->prefix, sizeof(c->prefix), "%s", conf->log_prefix ? conf->log_prefix : "");
	c->pcfg = conf->ppp;
	c->ops = *ops;
	c->ctx = ctx;
	if (access_client_init(&c->ac, &conf->ac, &aops, c) < 0 ||
	    ppp_init(&c->ppp, &c->pcfg, &core_ppp_ops, c) < 0) {
		explicit_bzero(&c->pcfg, sizeof(c->pcfg));
		return -EINVAL;
	}
	return 0;
}

void pppc_core_start(struct pppc_core *c, uint64_t now)
{
	c->now = now;
	if (!c->carrier_down)
		access_client_start(&c->ac, now);
}

void pppc_core_input(struct pppc_core *c, const uint8_t *pkt, size_t len,
		     const struct roam_sockaddr *src, uint64_t now)
{
	c->now = now;
	access_client_input(&c->ac, pkt, len, src, now);
}

int pppc_core_send_ip(struct pppc_core *c, const uint8_t *pkt, size_t len)
{
	int r;
	if (len < 20 || (pkt[0] >> 4) != 4)
		r = -EINVAL;
	else
		r = ppp_send_ip(&c->ppp, pkt, len);
	if (r < 0)
		c->stats.drop_ip++;
	else
		c->stats.tx_ip++;
	return r;
}

void pppc_core_tick(struct pppc_core *c, uint64_t now)
{
	c->now = now;
	access_client_tick(&c->ac, now);
	if (c->ppp.phase != PPP_PHASE_DEAD && ppp_next_timeout(&c->ppp) <= now)
		ppp_tick(&c->ppp, now);
}

uint64_t pppc_core_next_timeout(const struct pppc_core *c)
{
	uint64_t t = access_client_next_timeout(&c->ac);
	if (c->ppp.phase != PPP_PHASE_DEAD) {
		uint64_t p = ppp_next_timeout(&c->ppp);
		if (p < t)
			t = p;
	}
	return t;
}

void pppc_core_moving(struct pppc_core *c, uint64_t now)
{
	bool was = c->ac.state == ACCESS_CLIENT_ATTACHED;
	c->now = now;
	c->stats.moves++;
	access_client_detach(&c->ac, ACCESS_DETACH_MOVING, now); /* also stops a discovery */
	if (was)
		link_gone(c, ACCESS_DETACH_MOVING, now);
}

bool pppc_core_carrier(struct pppc_core *c, bool up, uint64_t now)
{
	c->now = now;
	if (up == !c->carrier_down)
		return false;
	c->carrier_down = !up;
	if (!up) {
		bool was = c->ac.state == ACCESS_CLIENT_ATTACHED;
		log_info("%sradio carrier lost", c->prefix);
		access_client_detach(&c->ac, ACCESS_DETACH_MOVING, now); /* lost anyway */
		if (was)
			link_gone(c, -1, now);
	} else {
		log_info("%sradio carrier back: discovery", c->prefix);
		if (c->ac.state != ACCESS_CLIENT_ATTACHED)
			access_client_start(&c->ac, now);
	}
	return true;
}

void pppc_core_stop(struct pppc_core *c, uint64_t now)
{
	c->now = now;
	access_client_detach(&c->ac, ACCESS_DETACH_NORMAL, now);
	set_address(c, 0);
}

void pppc_core_status_json(const struct pppc_core *c, struct json_writer *w)
{
	const struct pppc_stats *s = &c->stats;
	const struct access_client_stats *a = &c->ac.stats;
	char b[64];
	json_kv_str(w, "min", c->ac.conf.min);
	json_kv_str(w, "link", access_client_state_str(c->ac.state));
	snprintf(b, sizeof(b), "%08x", c->ac.link_id);
	json_kv_str(w, "link_id", b);
	json_kv_str(w, "lac", c->ac.state == ACCESS_CLIENT_ATTACHED
				      ? roam_sockaddr_fmt(&c->ac.lac, b, sizeof(b)) : "");
	json_kv_str(w, "ppp", ppp_phase_str(c->ppp.phase));
	json_kv_bool(w, "ppp_up", ppp_is_up(&c->ppp));
	addr_fmt(c->addr, b, sizeof(b));
	json_kv_str(w, "address", c->addr ? b : "");
	addr_fmt(c->ppp.st.addr_peer, b, sizeof(b));
	json_kv_str(w, "peer_address", ppp_is_up(&c->ppp) ? b : "");
	json_kv_str(w, "auth", c->ppp.st.auth_proto == PPP_PROTO_PAP    ? "pap"
			       : c->ppp.st.auth_proto == PPP_PROTO_CHAP ? "chap"
									: "none");
	if (c->ppp_up_at >= c->ppp_started && c->ppp_up_at)
		json_kv_uint(w, "ppp_setup_ms", c->ppp_up_at - c->ppp_started);
	json_kv_str(w, "last_down", ppp_down_reason_str(c->last_down));
	json_kv_uint(w, "ppp_negotiations", s->ppp_negotiations);
	json_kv_uint(w, "ppp_ups", s->ppp_ups);
	json_kv_uint(w, "ppp_downs", s->ppp_downs);
	json_kv_uint(w, "attaches", s->attaches);
	json_kv_uint(w, "reattaches", s->reattaches);
	json_kv_uint(w, "links_lost", s->links_lost);
	json_kv_uint(w, "moves", s->moves);
	json_kv_uint(w, "address_changes", s->address_changes);
	json_kv_uint(w, "rx_ip", s->rx_ip);
	json_kv_uint(w, "tx_ip", s->tx_ip);
	json_kv_uint(w, "drop_ip", s->drop_ip);
	json_kv_uint(w, "drop_not_attached", s->drop_not_attached);
	json_kv_uint(w, "addr_errors", s->addr_errors);
	json_kv_uint(w, "attach_sent", a->attach_sent);
	json_kv_uint(w, "attach_acked", a->attach_acked);
	json_kv_uint(w, "attach_nak", a->attach_nak);
	json_kv_uint(w, "last_nak_cause", a->last_nak_cause);
	json_kv_uint(w, "detach_rx", a->detach_rx);
	json_kv_uint(w, "lost_silent", a->lost_silent);
	json_kv_uint(w, "rx_lost", a->rx_lost);
	json_kv_uint(w, "rtt_ms", a->rtt_ms);
	json_kv_uint(w, "frames_bad", a->frames_bad);
}

/* ======================= the client: sockets, TUN, timers ================================ */

struct pppc {
	uv_loop_t *loop;
	struct pppc_core core;
	char radio[IFNAMSIZ], tun_name[IFNAMSIZ];
	bool default_route;
	struct roam_udp *udp;
	struct roam_tun *tun;
	int tun_ifindex;
	struct roam_nl *nl;             /* borrowed */
	uv_timer_t timer;               /* the core's timers */
	uv_timer_t move_timer;          /* discovery after a move */
	uv_timer_t stop_timer;          /* closing: the repeated DETACH first */
	int handles_open;
	bool closing, addr_set;
	uint32_t addr;                  /* on the TUN device (host order) */
	struct log_ratelimit rl;
};

static void rearm(struct pppc *c);

static void ip4(uint32_t a, struct roam_ipaddr *o)
{
	struct in_addr n = { .s_addr = htonl(a) };
	memset(o, 0, sizeof(*o));
	roam_ipaddr_set4(o, n);
}

static void unconfigure(struct pppc *c)
{
	struct roam_prefix p;
	if (!c->addr_set)
		return;
	memset(&p, 0, sizeof(p));
	ip4(c->addr, &p.addr);
	p.len = 32;
	(void)roam_nl_addr_del(c->nl, c->tun_ifindex, &p); /* its routes go with it */
	c->addr_set = false;
}

static void configure(struct pppc *c, uint32_t addr)
{
	struct roam_prefix p;
	struct roam_nl_route rt;
	char b[16];
	int e;
	unconfigure(c);
	if (!addr)
		return;
	memset(&p, 0, sizeof(p));
	ip4(addr, &p.addr);
	p.len = 32;
	if ((e = roam_nl_addr_add(c->nl, c->tun_ifindex, &p, ROAM_NL_ADDR_REPLACE)) < 0) {
		c->core.stats.addr_errors++;
		log_warnx("%saddress on %s: %s", c->core.prefix, c->tun_name, strerror(-e));
	}
	c->addr = addr;
	c->addr_set = true;
	if (c->default_route) {
		memset(&rt, 0, sizeof(rt));
		rt.dst.addr.family = AF_INET;
		rt.oif = c->tun_ifindex;
		rt.prefsrc = p.addr;
		if ((e = roam_nl_route_replace(c->nl, &rt)) < 0) {
			c->core.stats.addr_errors++;
			log_warnx("%sdefault route: %s", c->core.prefix, strerror(-e));
		}
	}
	addr_fmt(addr, b, sizeof(b));
	log_info("%saddress %s configured on %s", c->core.prefix, b, c->tun_name);
}

static void shell_tx(void *ctx, const struct roam_sockaddr *dst, const uint8_t *pkt, size_t len)
{
	struct pppc *c = ctx;
	int e = roam_udp_send(c->udp, dst, pkt, len);
	if (e < 0)
		log_rl_warnx(&c->rl, "%saccess link send: %s", c->core.prefix, strerror(-e));
}

static void shell_ip_in(void *ctx, const uint8_t *pkt, size_t len)
{
	struct pppc *c = ctx;
	if (roam_tun_write(c->tun, pkt, len) < 0)
		c->core.stats.drop_ip++;
}

static void shell_address(void *ctx, uint32_t addr)
{
	configure(ctx, addr);
}

static void udp_rx(struct roam_udp *u, const struct roam_udp_pkt *pkt, void *arg)
{
	(void)u;
	struct pppc *c = arg;
	if (c->closing)
		return;
	pppc_core_input(&c->core, pkt->data, pkt->len, &pkt->src, uv_now(c->loop));
	rearm(c);
}

static void tun_rx(struct roam_tun *t, const uint8_t *pkt, size_t len, void *arg)
{
	(void)t;
	struct pppc *c = arg;
	if (!c->closing)
		(void)pppc_core_send_ip(&c->core, pkt, len);
}

static void timer_cb(uv_timer_t *t)
{
	struct pppc *c = t->data;
	pppc_core_tick(&c->core, uv_now(c->loop));
	rearm(c);
}

static void rearm(struct pppc *c)
{
	uint64_t now = uv_now(c->loop), t;
	if (c->closing)
		return;
	t = pppc_core_next_timeout(&c->core);
	if (t == UINT64_MAX) {
		uv_timer_stop(&c->timer);
		return;
	}
	uv_timer_start(&c->timer, timer_cb, t > now ? t - now : 0, 0);
}

static void move_cb(uv_timer_t *t)
{
	struct pppc *c = t->data;
	if (c->closing)
		return;
	pppc_core_start(&c->core, uv_now(c->loop));
	rearm(c);
}

static void handle_closed(struct pppc *c)
{
	if (--c->handles_open == 0) {
		explicit_bzero(&c->core.pcfg, sizeof(c->core.pcfg));
		explicit_bzero(&c->core.ppp.cfg, sizeof(c->core.ppp.cfg));
		free(c);
	}
}

static void uv_closed(uv_handle_t *h)
{
	handle_closed(h->data);
}

static void udp_closed(struct roam_udp *u, void *arg)
{
	(void)u;
	handle_closed(arg);
}

static void tun_closed(struct roam_tun *t, void *arg)
{
	(void)t;
	handle_closed(arg);
}

static void close_all(struct pppc *c)
{
	uv_close((uv_handle_t *)&c->timer, uv_closed);
	uv_close((uv_handle_t *)&c->move_timer, uv_closed);
	uv_close((uv_handle_t *)&c->stop_timer, uv_closed);
	roam_udp_close(c->udp, udp_closed);
	roam_tun_close(c->tun, tun_closed);
	c->udp = NULL;
	c->tun = NULL;
}

static void stop_cb(uv_timer_t *t)
{
	struct pppc *c = t->data;
	access_client_tick(&c->core.ac, uv_now(c->loop)); /* the repeated DETACH */
	close_all(c);
}

int pppc_open(uv_loop_t *loop, const struct pppc_conf *conf, struct roam_nl *nl,
	      struct pppc **out)
{
	static const struct pppc_core_ops ops = { .tx = shell_tx,
						  .ip_in = shell_ip_in,
						  .address = shell_address };
	struct roam_udp_opts uo;
	struct roam_tun_opts to;
	struct roam_ipaddr any;
	struct pppc *c;
	int e;
	*out = NULL;
	if (!conf->tun_name || !nl || strlen(conf->tun_name) >= IFNAMSIZ ||
	    (conf->radio && strlen(conf->radio) >= IFNAMSIZ))
		return -EINVAL;
	if (!(c = calloc(1, sizeof(*c))))
		return -ENOMEM;
	c->loop = loop;
	c->nl = nl;
	c->default_route = conf->default_route;
	snprintf(c->tun_name, sizeof(c->tun_name), "%s", conf->tun_name);
	snprintf(c->radio, sizeof(c->radio), "%s", conf->radio ? conf->radio : "");
	c->rl.burst = 5;
	c->rl.interval_ms = 1000;
	if (pppc_core_init(&c->core, conf, &ops, c) < 0) {
		free(c);
		return -EINVAL;
	}

	memset(&uo, 0, sizeof(uo));
	memset(&any, 0, sizeof(any));
	any.family = AF_INET;
	roam_sockaddr_set(&uo.bind, &any, 0);
	if ((e = roam_udp_open(loop, &uo, udp_rx, c, &c->udp)) < 0)
		goto fail;
	c->handles_open++;
	(void)roam_udp_mcast_ttl(c->udp, 1);
	if (c->radio[0] && (e = roam_udp_mcast_if(c->udp, c->radio)) < 0)
		goto fail;
	memset(&to, 0, sizeof(to));
	to.name = c->tun_name;
	to.mtu = conf->tun_mtu ? conf->tun_mtu : 1400;
	if ((e = roam_tun_open(loop, &to, tun_rx, c, &c->tun)) < 0)
		goto fail;
	c->handles_open++;
	snprintf(c->tun_name, sizeof(c->tun_name), "%s", roam_tun_name(c->tun));
	c->tun_ifindex = roam_tun_ifindex(c->tun);
	if ((e = roam_nl_link_set_up(nl, c->tun_ifindex, 1)) < 0)
		goto fail;
	uv_timer_init(loop, &c->timer);
	uv_timer_init(loop, &c->move_timer);
	uv_timer_init(loop, &c->stop_timer);
	c->timer.data = c->move_timer.data = c->stop_timer.data = c;
	c->handles_open += 3;
	*out = c;
	return 0;
fail:
	c->closing = true;
	explicit_bzero(&c->core.pcfg, sizeof(c->core.pcfg));
	explicit_bzero(&c->core.ppp.cfg, sizeof(c->core.ppp.cfg));
	if (!c->handles_open) {
		free(c);
		return e;
	}
	/* freed by the last close callback */
	roam_udp_close(c->udp, udp_closed);
	roam_tun_close(c->tun, tun_closed);
	return e;
}

void pppc_start(struct pppc *c)
{
	pppc_core_start(&c->core, uv_now(c->loop));
	rearm(c);
}

void pppc_moving(struct pppc *c, uint64_t delay_ms)
{
	if (c->closing)
		return;
	pppc_core_moving(&c->core, uv_now(c->loop));
	log_info("%smoving: DETACH (moving), discovery in %llu ms", c->core.prefix,
		 (unsigned long long)delay_ms);
	uv_timer_start(&c->move_timer, move_cb, delay_ms, 0);
	rearm(c);
}

bool pppc_carrier(struct pppc *c, bool up)
{
	if (c->closing)
		return false;
	if (up)
		uv_timer_stop(&c->move_timer);
	bool r = pppc_core_carrier(&c->core, up, uv_now(c->loop));
	rearm(c);
	return r;
}

int pppc_set_radio(struct pppc *c, const char *radio)
{
	int e;
	if (!radio || strlen(radio) >= sizeof(c->radio))
		return -EINVAL;
	if (strcmp(radio, c->radio) == 0)
		return 0;
	if ((e = roam_udp_mcast_if(c->udp, radio)) < 0)
		return e;
	snprintf(c->radio, sizeof(c->radio), "%s", radio);
	log_info("%sATTACH now goes out of %s", c->core.prefix, radio);
	return 0;
}

void pppc_close(struct pppc *c)
{
	if (!c || c->closing)
		return;
	bool attached = c->core.ac.state == ACCESS_CLIENT_ATTACHED;
	pppc_core_stop(&c->core, uv_now(c->loop)); /* DETACH, address removed */
	c->closing = true;
	uv_timer_stop(&c->timer);
	uv_timer_stop(&c->move_timer);
	if (attached) {
		/* Long enough for the repeated DETACH (100 ms). */
		uv_timer_start(&c->stop_timer, stop_cb, 110, 0);
		return;
	}
	close_all(c);
}

const struct pppc_stats *pppc_stats(const struct pppc *c)
{
	return &c->core.stats;
}

bool pppc_ppp_up(const struct pppc *c)
{
	return ppp_is_up(&c->core.ppp);
}

uint32_t pppc_address(const struct pppc *c)
{
	return c->addr_set ? c->addr : 0;
}

void pppc_status_json(const struct pppc *c, struct json_writer *w)
{
	pppc_core_status_json(&c->core, w);
	json_kv_str(w, "radio", c->radio);
	json_kv_str(w, "tun", c->tun_name);
}
