/* mnd's Mobile IPv4 module: the sockets, timers, addresses and routes around the pure state
 * machine of mip4_sm.c.
 *
 * - UDP 434 on 0.0.0.0: requests go to the FA from the home address out of the radio
 *   (IP_PKTINFO), replies come back to the home address.
 * - One raw ICMP socket per radio (SO_BINDTODEVICE): advertisements in, solicitations out to
 *   224.0.0.2.
 * - With manage_routes (the default): the home address as a /32 on home_interface ("lo"), a
 *   link-scope /32 route to each FA heard on a radio, and the default route via the current FA
 *   on the current radio with the home address as preferred source; removed at stop. */
#include <errno.h>
#include <netinet/ip.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mnd.h"
#include "roam/clock.h"

#define MIP4_MAX_FA_ROUTES 8

struct mip4_radio {
	struct mnd_mip4 *mm;
	int index;
	char name[IFNAMSIZ];
	int ifindex;
	struct roam_raw *raw;
};

struct mnd_mip4 {
	struct mnd *m;
	struct mip4_sm sm;
	struct roam_udp *udp;
	struct mip4_radio radio[MND_MAX_RADIOS];
	size_t nradios;
	uv_timer_t timer, sol_timer;
	bool timers_init;
	int sol_radio;
	bool manage;
	struct roam_ipaddr home;
	int home_ifindex;
	bool home_added;
	bool have_default;
	struct { struct in_addr fa; int ifindex; } fa_routes[MIP4_MAX_FA_ROUTES];
	size_t nfa_routes;
	struct {
		uint64_t tx_errors, rx_adv_bad, route_errors, releases, path_changes;
	} stats;
	char cur_ifname[IFNAMSIZ];
	struct log_ratelimit tx_rl;
};

static struct in_addr v4(const struct roam_ipaddr *a)
{
	struct in_addr r = { 0 };
	size_t n = 0;
	const uint8_t *b = roam_ipaddr_bytes(a, &n);
	if (b && n == 4)
		memcpy(&r, b, 4);
	return r;
}

static uint64_t now_ms(void)
{
	return roam_mono_ms();
}

static void rearm(struct mnd_mip4 *mm);

static void on_timer(uv_timer_t *t)
{
	rearm(t->data);
}

/* Runs the machine's timers and arms the loop timer for the next deadline. */
static void rearm(struct mnd_mip4 *mm)
{
	uint64_t now = now_ms();
	uint64_t next = mip4_sm_tick(&mm->sm, now);
	if (!mm->timers_init)
		return;
	if (next == UINT64_MAX) {
		uv_timer_stop(&mm->timer);
		return;
	}
	uint64_t d = next > now ? next - now : 0;
	uv_timer_start(&mm->timer, on_timer, d, 0);
}

static const char *in4(struct in_addr a, char *b, size_t n)
{
	struct roam_ipaddr x;
	roam_ipaddr_set4(&x, a);
	return roam_ipaddr_fmt(&x, b, n);
}

static void fa_route(struct mnd_mip4 *mm, struct in_addr fa, int ifindex)
{
	if (!mm->manage || !mm->m->nl)
		return;
	for (size_t i = 0; i < mm->nfa_routes; i++)
		if (mm->fa_routes[i].fa.s_addr == fa.s_addr && mm->fa_routes[i].ifindex == ifindex)
			return;
	struct roam_nl_route rt;
	memset(&rt, 0, sizeof(rt));
	roam_ipaddr_set4(&rt.dst.addr, fa);
	rt.dst.len = 32;
	rt.oif = ifindex;
	rt.prefsrc = mm->home;
	int r = roam_nl_route_replace(mm->m->nl, &rt);
	if (r < 0) {
		char b[ROAM_ADDRSTRLEN];
		mm->stats.route_errors++;
		log_warnx("mip4: route to FA %s: %s", in4(fa, b, sizeof(b)), strerror(-r));
		return;
	}
	if (mm->nfa_routes < MIP4_MAX_FA_ROUTES) {
		mm->fa_routes[mm->nfa_routes].fa = fa;
		mm->fa_routes[mm->nfa_routes].ifindex = ifindex;
		mm->nfa_routes++;
	}
}

static int out_send(void *arg, int radio, struct in_addr dst, const void *buf, size_t len)
{
	struct mnd_mip4 *mm = arg;
	struct roam_sockaddr sa;
	struct roam_ipaddr d;
	if (radio < 0 || (size_t)radio >= mm->nradios || !mm->udp)
		return -EINVAL;
	fa_route(mm, dst, mm->radio[radio].ifindex);
	roam_ipaddr_set4(&d, dst);
	roam_sockaddr_set(&sa, &d, MIP4_UDP_PORT);
	int r = roam_udp_send_from(mm->udp, &sa, &mm->home, mm->radio[radio].ifindex, buf, len);
	if (r == -EADDRNOTAVAIL) /* home address not (yet) local: let the kernel choose */
		r = roam_udp_send_from(mm->udp, &sa, NULL, mm->radio[radio].ifindex, buf, len);
	if (r < 0) {
		char b[ROAM_ADDRSTRLEN];
		mm->stats.tx_errors++;
		log_rl_warnx(&mm->tx_rl, "mip4: send to %s on %s: %s", in4(dst, b, sizeof(b)),
			     mm->radio[radio].name, strerror(-r));
	}
	return r;
}

static void out_solicit(void *arg, int radio)
{
	struct mnd_mip4 *mm = arg;
	if (radio < 0 || (size_t)radio >= mm->nradios || !mm->radio[radio].raw)
		return;
	uint8_t buf[16];
	struct wbuf w;
	struct roam_ipaddr dst;
	wbuf_init_fixed(&w, buf, sizeof(buf));
	if (mip4_sol_encode(&w) < 0 || w.err)
		return;
	(void)roam_ipaddr_parse("224.0.0.2", &dst);
	if (roam_raw_send_from(mm->radio[radio].raw, &dst, NULL, mm->radio[radio].ifindex, buf,
			       w.len) < 0)
		mm->stats.tx_errors++;
}

static void out_path(void *arg, int radio, struct in_addr fa)
{
	struct mnd_mip4 *mm = arg;
	char b[ROAM_ADDRSTRLEN];
	mm->stats.path_changes++;
	struct roam_nl_route rt;
	memset(&rt, 0, sizeof(rt));
	rt.dst.addr.family = AF_INET;
	rt.dst.len = 0;
	if (radio < 0 || (size_t)radio >= mm->nradios) {
		log_info("mip4: no foreign path (%s)", mip4_sm_state_name(mm->sm.state));
		mm->cur_ifname[0] = 0;
		if (mm->manage && mm->have_default && mm->m->nl) {
			rt.gw.family = 0;
			(void)roam_nl_route_del(mm->m->nl, &rt);
			mm->have_default = false;
		}
		return;
	}
	snprintf(mm->cur_ifname, sizeof(mm->cur_ifname), "%s", mm->radio[radio].name);
	log_info("mip4: sending via FA %s on %s", in4(fa, b, sizeof(b)), mm->radio[radio].name);
	if (!mm->manage || !mm->m->nl)
		return;
	fa_route(mm, fa, mm->radio[radio].ifindex);
	roam_ipaddr_set4(&rt.gw, fa);
	rt.oif = mm->radio[radio].ifindex;
	rt.prefsrc = mm->home;
	int r = roam_nl_route_replace(mm->m->nl, &rt);
	if (r < 0) {
		mm->stats.route_errors++;
		log_warnx("mip4: default route via %s: %s", in4(fa, b, sizeof(b)), strerror(-r));
		return;
	}
	mm->have_default = true;
}

static void out_release(void *arg, int radio)
{
	struct mnd_mip4 *mm = arg;
	mm->stats.releases++;
	if (radio >= 0 && (size_t)radio < mm->nradios)
		log_info("mip4: old path on %s drained, link released", mm->radio[radio].name);
}

static void on_udp(struct roam_udp *u, const struct roam_udp_pkt *pkt, void *arg)
{
	struct mnd_mip4 *mm = arg;
	(void)u;
	int radio = 0;
	for (size_t i = 0; i < mm->nradios; i++)
		if (pkt->ifindex && mm->radio[i].ifindex == pkt->ifindex)
			radio = (int)i;
	mip4_sm_input(&mm->sm, radio, pkt->data, pkt->len, now_ms());
	rearm(mm);
}

static void on_raw(struct roam_raw *r, const struct roam_raw_pkt *pkt, void *arg)
{
	struct mip4_radio *rd = arg;
	struct mnd_mip4 *mm = rd->mm;
	struct mip4_adv a;
	(void)r;
	if (pkt->len < pkt->l3_hdrlen || pkt->src.family != AF_INET)
		return;
	const uint8_t *icmp = pkt->data + pkt->l3_hdrlen;
	size_t len = pkt->len - pkt->l3_hdrlen;
	if (len < 1 || icmp[0] != MIP4_ICMP_ADVERT)
		return;
	if (mip4_adv_decode(icmp, len, &a) < 0) {
		mm->stats.rx_adv_bad++;
		return;
	}
	mip4_sm_adv(&mm->sm, rd->index, v4(&pkt->src), &a, now_ms());
	rearm(mm);
}

static void on_sol_timer(uv_timer_t *t)
{
	struct mnd_mip4 *mm = t->data;
	out_solicit(mm, mm->sol_radio);
}

static int mip4_setup_home(struct mnd_mip4 *mm)
{
	const struct mnd_mip4_conf *c = &mm->m->conf.mip4;
	const struct mnd_iface *f = mnd_iface_by_name(mm->m, c->home_interface);
	int ifindex = f ? f->ifindex : 0;
	if (!ifindex && roam_nl_ifindex(c->home_interface, &ifindex) < 0) {
		log_warnx("mip4: home_interface %s does not exist", c->home_interface);
		return -ENODEV;
	}
	mm->home_ifindex = ifindex;
	struct roam_prefix p = { .addr = mm->home, .len = 32 };
	int r = roam_nl_addr_add(mm->m->nl, ifindex, &p, ROAM_NL_ADDR_REPLACE);
	if (r < 0) {
		log_warnx("mip4: home address on %s: %s", c->home_interface, strerror(-r));
		return r;
	}
	mm->home_added = true;
	return 0;
}

static int mip4_start(struct mnd *m, void **state)
{
	const struct mnd_mip4_conf *c = &m->conf.mip4;
	struct mnd_mip4 *mm = calloc(1, sizeof(*mm));
	int r;
	if (!mm)
		return -ENOMEM;
	*state = mm;
	mm->m = m;
	mm->tx_rl.burst = 10;
	mm->tx_rl.interval_ms = 1000;
	mm->manage = c->manage_routes;
	mm->home = c->home;

	struct mip4_sm_conf sc;
	memset(&sc, 0, sizeof(sc));
	sc.home = v4(&c->home);
	sc.ha = v4(&c->home_agent);
	sc.mnha_spi = (uint32_t)c->spi;
	if ((r = mip4_sa_key_set(&sc.mnha_key, (int)c->algorithm, c->key.data, c->key.len)) < 0) {
		log_warnx("mip4: MN-HA key: %s", strerror(-r));
		return r;
	}
	if (c->fa_spi) {
		sc.has_mnfa = true;
		sc.mnfa_spi = (uint32_t)c->fa_spi;
		if ((r = mip4_sa_key_set(&sc.mnfa_key, (int)c->fa_algorithm, c->fa_key.data,
					 c->fa_key.len)) < 0) {
			log_warnx("mip4: MN-FA key: %s", strerror(-r));
			return r;
		}
	}
	if (c->gfa_spi) {
		sc.has_mngfa = true;
		sc.mngfa_spi = (uint32_t)c->gfa_spi;
		if ((r = mip4_sa_key_set(&sc.mngfa_key, (int)c->gfa_algorithm, c->gfa_key.data,
					 c->gfa_key.len)) < 0) {
			log_warnx("mip4: MN-GFA key: %s", strerror(-r));
			return r;
		}
	}
	sc.lifetime_s = (uint16_t)(c->lifetime / 1000);
	sc.retrans_ms = (unsigned)c->retransmit;
	sc.retrans_max_ms = (unsigned)c->retransmit_max;
	sc.max_tries = (unsigned)c->max_tries;
	sc.refresh_pct = (unsigned)c->refresh_pct;
	sc.fbu_lifetime_s = (uint16_t)(c->fbu_lifetime / 1000);
	sc.release_guard_ms = (unsigned)c->release_guard;
	sc.synchronize = c->synchronize;
	sc.reverse_tunnel = c->reverse_tunnel;
	for (size_t i = 0; i < c->nneighbours && i < 8; i++) {
		snprintf(sc.neigh[i].network, sizeof(sc.neigh[i].network), "%s",
			 c->neighbours[i].network);
		sc.neigh[i].fa = v4(&c->neighbours[i].fa);
		sc.nneigh++;
	}
	const struct mip4_sm_out out = { out_send, out_solicit, out_path, out_release, mm };
	uint64_t now = now_ms();
	r = mip4_sm_init(&mm->sm, &sc, &out, (int64_t)roam_wall_ms() - (int64_t)now, now);
	auth_key_wipe(&sc.mnha_key);
	auth_key_wipe(&sc.mnfa_key);
	auth_key_wipe(&sc.mngfa_key);
	if (r < 0) {
		log_warnx("mip4: %s", strerror(-r));
		return r;
	}

	if (mm->manage && (r = mip4_setup_home(mm)) < 0)
		return r;

	struct roam_udp_opts uo;
	memset(&uo, 0, sizeof(uo));
	struct roam_ipaddr any;
	(void)roam_ipaddr_parse("0.0.0.0", &any);
	roam_sockaddr_set(&uo.bind, &any, MIP4_UDP_PORT);
	uo.reuseaddr = 1;
	if ((r = roam_udp_open(m->loop, &uo, on_udp, mm, &mm->udp)) < 0) {
		log_warnx("mip4: UDP port %d: %s", MIP4_UDP_PORT, strerror(-r));
		return r;
	}
	for (size_t i = 0; i < c->nradios; i++) {
		struct mip4_radio *rd = &mm->radio[i];
		rd->mm = mm;
		rd->index = (int)i;
		snprintf(rd->name, sizeof(rd->name), "%s", c->radios[i]);
		const struct mnd_iface *f = mnd_iface_by_name(m, rd->name);
		if (f)
			rd->ifindex = f->ifindex;
		else if (roam_nl_ifindex(rd->name, &rd->ifindex) < 0) {
			log_warnx("mip4: radio %s does not exist", rd->name);
			return -ENODEV;
		}
		struct roam_raw_opts ro;
		memset(&ro, 0, sizeof(ro));
		ro.family = AF_INET;
		ro.protocol = IPPROTO_ICMP;
		ro.device = rd->name;
		if ((r = roam_raw_open(m->loop, &ro, on_raw, rd, &rd->raw)) < 0) {
			log_warnx("mip4: ICMP socket on %s: %s", rd->name, strerror(-r));
			return r;
		}
		const uint8_t types[] = { MIP4_ICMP_ADVERT };
		(void)roam_raw_icmp_filter(rd->raw, types, 1);
		(void)roam_raw_mcast_if(rd->raw, rd->name);
		mm->nradios++;
		if (f)
			mip4_sm_link(&mm->sm, (int)i, f->running, now);
	}
	uv_timer_init(m->loop, &mm->timer);
	uv_timer_init(m->loop, &mm->sol_timer);
	mm->timer.data = mm;
	mm->sol_timer.data = mm;
	mm->timers_init = true;
	rearm(mm);
	char b[ROAM_ADDRSTRLEN];
	log_info("mip4: home address %s, %zu radio(s), synchronized handoff %s",
		 roam_ipaddr_fmt(&mm->home, b, sizeof(b)), mm->nradios,
		 c->synchronize ? "on" : "off");
	return 0;
}

static void mip4_stop(struct mnd *m, void *state)
{
	struct mnd_mip4 *mm = state;
	if (!mm)
		return;
	if (mm->udp)
		mip4_sm_stop(&mm->sm, now_ms());
	if (mm->timers_init) {
		uv_close((uv_handle_t *)&mm->timer, NULL);
		uv_close((uv_handle_t *)&mm->sol_timer, NULL);
		mm->timers_init = false;
	}
	roam_udp_close(mm->udp, NULL);
	mm->udp = NULL;
	for (size_t i = 0; i < MND_MAX_RADIOS; i++) {
		roam_raw_close(mm->radio[i].raw, NULL);
		mm->radio[i].raw = NULL;
	}
	if (m->nl) {
		struct roam_nl_route rt;
		if (mm->have_default) {
			memset(&rt, 0, sizeof(rt));
			rt.dst.addr.family = AF_INET;
			(void)roam_nl_route_del(m->nl, &rt);
			mm->have_default = false;
		}
		for (size_t i = 0; i < mm->nfa_routes; i++) {
			memset(&rt, 0, sizeof(rt));
			roam_ipaddr_set4(&rt.dst.addr, mm->fa_routes[i].fa);
			rt.dst.len = 32;
			rt.oif = mm->fa_routes[i].ifindex;
			(void)roam_nl_route_del(m->nl, &rt);
		}
		mm->nfa_routes = 0;
		if (mm->home_added) {
			struct roam_prefix p = { .addr = mm->home, .len = 32 };
			(void)roam_nl_addr_del(m->nl, mm->home_ifindex, &p);
			mm->home_added = false;
		}
	}
}

static void mip4_free(struct mnd *m, void *state)
{
	(void)m;
	struct mnd_mip4 *mm = state;
	if (mm)
		auth_key_wipe(&mm->sm.conf.mnha_key), auth_key_wipe(&mm->sm.conf.mnfa_key),
			auth_key_wipe(&mm->sm.conf.mngfa_key);
	free(mm);
}

static bool mip4_enabled(const struct mnd_conf *c)
{
	return c->mip4.home.family != 0;
}

static int mip4_reload(struct mnd *m, void *state, const struct mnd_conf *old, char *err,
		       size_t errlen)
{
	(void)state, (void)err, (void)errlen;
	if (!mip4_enabled(&m->conf) || !roam_ipaddr_eq(&m->conf.mip4.home, &old->mip4.home))
		log_warnx("reload: mip4 changes take effect at the next restart");
	return 0;
}

static void mip4_on_link(struct mnd *m, void *state, const struct roam_nl_event *ev)
{
	struct mnd_mip4 *mm = state;
	(void)m;
	if (ev->type != ROAM_NL_EV_LINK_NEW && ev->type != ROAM_NL_EV_LINK_DEL)
		return;
	for (size_t i = 0; i < mm->nradios; i++)
		if (mm->radio[i].ifindex == ev->ifindex) {
			bool up = ev->type == ROAM_NL_EV_LINK_NEW && ev->running;
			mip4_sm_link(&mm->sm, (int)i, up, now_ms());
			rearm(mm);
		}
}

static int mip4_on_l2(struct mnd *m, void *state, const struct mnd_l2_notice *n, char *err,
		      size_t errlen)
{
	struct mnd_mip4 *mm = state;
	(void)m;
	int radio = -1;
	if (n->ifname) {
		for (size_t i = 0; i < mm->nradios; i++)
			if (strcmp(mm->radio[i].name, n->ifname) == 0)
				radio = (int)i;
		if (radio < 0) {
			snprintf(err, errlen, "mip4: %s is not a radio", n->ifname);
			return -ENODEV;
		}
	} else if (mm->sm.old.valid) {
		radio = mm->sm.old.radio; /* Phase II: the old link is the one going */
	} else if (mm->sm.cur.valid) {
		radio = mm->sm.cur.radio;
	} else {
		radio = 0;
	}
	int r = mip4_sm_l2_notice(&mm->sm, radio, n->event, n->to, now_ms());
	if (r < 0) {
		snprintf(err, errlen, "mip4: bad notice");
		return r;
	}
	if (strcmp(n->event, "link-going-down") == 0 && mm->timers_init) {
		/* Solicit right after the announced move so the new FA answers at once. */
		mm->sol_radio = radio;
		uint64_t d = (n->in_ms > 0 ? (uint64_t)n->in_ms : 0) + 50;
		uv_timer_start(&mm->sol_timer, on_sol_timer, d, 0);
	}
	rearm(mm);
	return 0;
}

static void mip4_status(struct mnd *m, void *state, struct json_writer *w)
{
	struct mnd_mip4 *mm = state;
	const struct mip4_sm *sm = &mm->sm;
	char b[ROAM_ADDRSTRLEN];
	uint64_t now = now_ms();
	(void)m;
	json_kv_str(w, "state", mip4_sm_state_name(sm->state));
	json_kv_str(w, "home_address", roam_ipaddr_fmt(&mm->home, b, sizeof(b)));
	json_kv_str(w, "home_agent", in4(sm->conf.ha, b, sizeof(b)));
	json_kv_bool(w, "synchronize", sm->conf.synchronize);
	if (sm->cur.valid) {
		json_kv_str(w, "foreign_agent", in4(sm->cur.fa, b, sizeof(b)));
		json_kv_str(w, "care_of", in4(sm->cur.coa, b, sizeof(b)));
		json_kv_str(w, "radio", mm->radio[sm->cur.radio].name);
		json_kv_uint(w, "lifetime_granted_s", sm->granted_s);
		json_kv_uint(w, "lifetime_left_s", sm->binding_expires == UINT64_MAX ? 65535
					       : sm->binding_expires > now
					       ? (sm->binding_expires - now) / 1000 : 0);
	}
	if (sm->old.valid) {
		json_kv_str(w, "old_foreign_agent", in4(sm->old.fa, b, sizeof(b)));
		json_kv_str(w, "old_radio", mm->radio[sm->old.radio].name);
	}
	json_kv_bool(w, "registering", sm->pending);
	json_key(w, "counters");
	json_obj_begin(w);
	json_kv_uint(w, "adv_rx", sm->stats.adv_rx);
	json_kv_uint(w, "adv_ignored", sm->stats.adv_ignored);
	json_kv_uint(w, "adv_bad", mm->stats.rx_adv_bad);
	json_kv_uint(w, "solicitations", sm->stats.sol_tx);
	json_kv_uint(w, "requests", sm->stats.req_tx);
	json_kv_uint(w, "retransmissions", sm->stats.retrans);
	json_kv_uint(w, "request_timeouts", sm->stats.req_timeouts);
	json_kv_uint(w, "replies_ok", sm->stats.reply_ok);
	json_kv_uint(w, "replies_denied", sm->stats.reply_denied);
	json_kv_uint(w, "resync_133", sm->stats.resync_133);
	json_kv_uint(w, "handoffs", sm->stats.handoffs);
	json_kv_uint(w, "dereg_replies", sm->stats.drr_rx);
	json_kv_uint(w, "regional_requests", sm->stats.regional_tx);
	json_kv_uint(w, "regional_replies_ok", sm->stats.regional_ok);
	json_kv_uint(w, "fbu_sent", sm->stats.fbu_tx);
	json_kv_uint(w, "fback_rx", sm->stats.fback_rx);
	json_kv_uint(w, "fback_denied", sm->stats.fback_denied);
	json_kv_uint(w, "drop_auth", sm->stats.drop_auth);
	json_kv_uint(w, "drop_id", sm->stats.drop_id);
	json_kv_uint(w, "drop_malformed", sm->stats.drop_malformed);
	json_kv_uint(w, "drop_unexpected", sm->stats.drop_unexpected);
	json_kv_uint(w, "l2_notices", sm->stats.l2_notices);
	json_kv_uint(w, "agent_lost", sm->stats.agent_lost);
	json_kv_uint(w, "l2_pingpong", sm->stats.l2_pingpong);
	json_kv_uint(w, "links_released", mm->stats.releases);
	json_kv_uint(w, "path_changes", mm->stats.path_changes);
	json_kv_uint(w, "tx_errors", mm->stats.tx_errors);
	json_kv_uint(w, "route_errors", mm->stats.route_errors);
	json_obj_end(w);
}

static int cmd_mip4(void *arg, const struct json_value *args, struct json_writer *w, char *err,
		    size_t errlen)
{
	struct mnd_mip4 *mm = arg;
	(void)args, (void)err, (void)errlen;
	json_obj_begin(w);
	mip4_status(mm->m, mm, w);
	json_obj_end(w);
	return 0;
}

static int mip4_ctl(struct mnd *m, void *state, struct roam_ctl *ctl)
{
	(void)m;
	return ctl_register(ctl, "mip4", "Mobile IPv4: state, current FA / care-of, lifetime, "
			    "handoffs, deregistration replies, FBUs", cmd_mip4, state);
}

const struct mnd_module mnd_mip4_module = {
	.name = "mip4",
	.enabled = mip4_enabled,
	.start = mip4_start,
	.stop = mip4_stop,
	.reload = mip4_reload,
	.on_link_event = mip4_on_link,
	.on_l2_notice = mip4_on_l2,
	.ctl_register = mip4_ctl,
	.status = mip4_status,
	.free = mip4_free,
};
