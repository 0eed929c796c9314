/* l2tpload: an L2TP control-plane load generator acting as LAC (RFC 2661) for bench/l2tp.sh,
 * built on the shared endpoint of common/proto/l2tp (roam/l2tp_tunnel.h: reliable delivery,
 * ZLB acknowledgements, retransmissions, timers), with its own initiator role.
 *
 * It opens --tunnels T control connections to the LNS (SCCRQ, SCCRP, SCCCN), at most --window
 * of them being set up at once, and on each established tunnel places --sessions S incoming
 * calls (ICRQ, ICRP, ICCN).  Once every call is up and every message acknowledged, it writes
 * --ready FILE and holds the calls (for the memory measurement) until SIGUSR1 or --hold
 * seconds, then tears everything down with StopCCN and waits for the acknowledgements.  No PPP
 * is run: data messages from the LNS (its LCP) are counted and dropped.  The result (set-ups
 * per second, set-up latency, failures, teardown time) is printed as JSON. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "roam/addr.h"
#include "roam/json.h"
#include "roam/l2tp.h"
#include "roam/l2tp_tunnel.h"
#include "roam/loadgen.h"
#include "roam/log.h"

enum { T_IDLE = 0, T_WAIT_REPLY = L2TP_TUN_SETUP, T_ESTABLISHED, T_CLOSING };
enum { S_IDLE = 0, S_WAIT_REPLY, S_ESTABLISHED };

#define CONNECT_SPEED 9600
#define LAT_MAX 200000 /* samples of session set-up latency kept */

struct opts {
	struct roam_sockaddr server;
	int have_server;
	uint32_t tunnels, sessions, window;
	double hold_s, timeout_s, setup_s;
	const char *ready, *json, *host_name;
};

struct ltunnel {
	struct l2tp_tunnel l; /* first */
	uint32_t up;          /* sessions established */
	bool counted;         /* done: all its sessions up, failed or gone */
};

struct lsession {
	struct l2tp_session s; /* first */
	uint64_t icrq_ms;
};

struct load {
	const struct opts *o;
	uv_loop_t *loop;
	struct l2tp_endpoint ep;
	struct l2tp_tunnel_conf tconf;
	uv_timer_t tick;
	uv_signal_t sig;
	uint32_t started, in_setup, tunnels_up, tunnels_failed;
	uint64_t sessions_up, sessions_failed, cdn_rx, stopccn_rx, data_rx, serial;
	uint64_t t0, t_tunnels, t_sessions, t_acked, t_hold, t_down;
	uint64_t t_last_tunnel, t_last_session; /* last successful SCCRP / ICRP */
	uint32_t *lat;        /* ICRQ -> ICRP, ms */
	size_t nlat;
	int phase;            /* 0 set-up, 1 holding, 2 tearing down, 3 done */
	bool release;
};

static const char *const tunnel_state_names[] = { "idle", "wait-ctl-reply", "established",
						  "closing" };
static const char *const session_state_names[] = { "idle", "wait-reply", "established" };

static struct load *load_of(void *arg)
{
	return arg;
}

static void tunnel_finished(struct load *l, struct ltunnel *t, bool ok)
{
	if (t->counted)
		return;
	t->counted = true;
	l->in_setup--;
	if (!ok)
		l->tunnels_failed++;
}

/* A tunnel is done with its set-up once none of its calls waits for ICRP. */
static void check_tunnel(struct load *l, struct l2tp_tunnel *t)
{
	for (const struct l2tp_session *s = t->sessions; s; s = s->next)
		if (s->state == S_WAIT_REPLY)
			return;
	tunnel_finished(l, (struct ltunnel *)(void *)t, ((struct ltunnel *)(void *)t)->up > 0);
}

static void send_icrq(struct load *l, struct l2tp_tunnel *t, uint64_t now)
{
	struct lsession *s = calloc(1, sizeof(*s));
	if (!s || !(s->s.id = l2tp_session_alloc_id(t)) || l2tp_session_add(t, &s->s) < 0) {
		free(s);
		l->sessions_failed++;
		return;
	}
	s->s.serial = (uint32_t)++l->serial;
	s->s.created = now;
	s->s.state = S_WAIT_REPLY;
	s->s.deadline = now + l->tconf.setup_timeout;
	s->icrq_ms = now;
	char min[16];
	snprintf(min, sizeof(min), "%" PRIu64, (uint64_t)(1000000000ull + l->serial));
	struct l2tp_msg *m = l2tp_ep_msg(&l->ep, L2TP_MSG_ICRQ, 0);
	m->avps = L2TP_AVP_BIT(L2TP_AVP_ASSIGNED_SESSION_ID) | L2TP_AVP_BIT(L2TP_AVP_CALL_SERIAL) |
		  L2TP_AVP_BIT(L2TP_AVP_BEARER_TYPE) | L2TP_AVP_BIT(L2TP_AVP_CALLING_NUMBER);
	m->assigned_session_id = s->s.id;
	m->call_serial = s->s.serial;
	m->bearer_type = L2TP_BEARER_DIGITAL;
	l2tp_bytes_str(&m->calling_number, min);
	if (l2tp_tunnel_send(t, m, now) < 0) {
		l->sessions_failed++;
		l2tp_session_free(&s->s);
	}
}

static int send_sccrq(struct load *l, struct l2tp_tunnel *t, uint64_t now)
{
	struct l2tp_msg *m = l2tp_tunnel_setup_msg(t, L2TP_MSG_SCCRQ, l->o->host_name,
						   L2TP_BEARER_DIGITAL | L2TP_BEARER_ANALOG);
	l2tp_bytes_str(&m->vendor_name, "roam l2tpload");
	return l2tp_tunnel_send(t, m, now);
}

/* Opens tunnels while fewer than --window are being set up. */
static void start_more(struct load *l)
{
	uint64_t now = uv_now(l->loop);
	while (l->phase == 0 && l->started < l->o->tunnels && l->in_setup < l->o->window) {
		struct l2tp_tunnel *t;
		l->started++;
		l->in_setup++;
		int r = l2tp_tunnel_new(&l->ep, sizeof(struct ltunnel), &l->o->server, NULL, 0, 0,
					NULL, 0, false, now, &t);
		if (r < 0) {
			l->in_setup--;
			l->tunnels_failed++;
			continue;
		}
		t->state = T_WAIT_REPLY;
		if (send_sccrq(l, t, now) < 0) {
			l2tp_tunnel_free(t);
			l->in_setup--;
			l->tunnels_failed++;
			continue;
		}
		l2tp_tunnel_arm(t);
		l2tp_tunnel_done(t);
	}
	l2tp_ep_server_rearm(&l->ep);
}

static void tunnel_msg(void *arg, struct l2tp_tunnel *t, const struct l2tp_msg *m, uint64_t now)
{
	struct load *l = load_of(arg);
	if (m->type != L2TP_MSG_SCCRP || t->state != T_WAIT_REPLY) {
		l->ep.stats.fsm_errors++;
		l2tp_tunnel_stop(t, L2TP_STOPCCN_FSM_ERROR, 0, "unexpected message", now);
		return;
	}
	l2tp_tunnel_set_host_name(t, m);
	t->peer_id = m->assigned_tunnel_id;
	l2tp_ctrl_set_peer(&t->ctrl, t->peer_id,
			   (m->avps & L2TP_AVP_BIT(L2TP_AVP_RECV_WINDOW_SIZE)) ? m->recv_window : 0);
	if (m->avps & L2TP_AVP_BIT(L2TP_AVP_CHALLENGE)) {
		l2tp_tunnel_stop(t, L2TP_STOPCCN_NOT_AUTHORIZED, 0, "no secret", now);
		return;
	}
	struct l2tp_msg *r = l2tp_ep_msg(&l->ep, L2TP_MSG_SCCCN, 0);
	if (l2tp_tunnel_send(t, r, now) < 0) {
		l2tp_tunnel_stop(t, L2TP_STOPCCN_GENERAL_ERROR, L2TP_ERR_RESOURCES, NULL, now);
		return;
	}
	l2tp_tunnel_established(t, now);
	l->tunnels_up++;
	l->t_last_tunnel = now;
	if (l->tunnels_up + l->tunnels_failed == l->o->tunnels)
		l->t_tunnels = now;
	for (uint32_t i = 0; i < l->o->sessions; i++)
		send_icrq(l, t, now);
	if (l->o->sessions == 0)
		tunnel_finished(l, (struct ltunnel *)(void *)t, true);
}

static void session_msg(void *arg, struct l2tp_tunnel *t, struct l2tp_session *s,
			const struct l2tp_msg *m, uint64_t now)
{
	struct load *l = load_of(arg);
	struct ltunnel *lt = (struct ltunnel *)(void *)t;
	if (!s) {
		l->ep.stats.drop_unknown_session++;
		return;
	}
	struct lsession *ls = (struct lsession *)(void *)s;
	switch (m->type) {
	case L2TP_MSG_ICRP: {
		if (s->state != S_WAIT_REPLY) {
			l->ep.stats.fsm_errors++;
			return;
		}
		s->peer_id = m->assigned_session_id;
		struct l2tp_msg *r = l2tp_ep_msg(&l->ep, L2TP_MSG_ICCN, s->peer_id);
		r->avps = L2TP_AVP_BIT(L2TP_AVP_TX_CONNECT_SPEED) |
			  L2TP_AVP_BIT(L2TP_AVP_FRAMING_TYPE);
		r->tx_connect_speed = CONNECT_SPEED;
		r->framing_type = L2TP_FRAMING_ASYNC;
		if (l2tp_tunnel_send(t, r, now) < 0) {
			l->sessions_failed++;
			l2tp_session_free(s);
			break;
		}
		s->state = S_ESTABLISHED;
		s->established = now;
		s->deadline = 0;
		l->sessions_up++;
		l->t_last_session = now;
		lt->up++;
		if (l->nlat < LAT_MAX)
			l->lat[l->nlat++] = (uint32_t)(now - ls->icrq_ms);
		break;
	}
	case L2TP_MSG_CDN:
		l->cdn_rx++;
		if (s->state != S_ESTABLISHED)
			l->sessions_failed++;
		l2tp_session_free(s);
		break;
	default:
		break; /* WEN, SLI */
	}
	check_tunnel(l, t);
	start_more(l);
}

static void session_close(void *arg, struct l2tp_session *s, uint16_t result, uint16_t error,
			  const char *msg, uint64_t now)
{
	struct load *l = load_of(arg);
	struct l2tp_tunnel *t = s->t;
	if (s->peer_id)
		l2tp_session_send_cdn(t, s->id, s->peer_id, result, error, msg, now);
	if (s->state != S_ESTABLISHED)
		l->sessions_failed++;
	l2tp_session_free(s);
	check_tunnel(l, t);
}

static void session_free(void *arg, struct l2tp_session *s)
{
	(void)arg;
	free(s);
}

static void tunnel_closing(void *arg, struct l2tp_tunnel *t)
{
	struct load *l = load_of(arg);
	if (t->stop_by_peer)
		l->stopccn_rx++;
	if (l->phase == 0) {
		for (const struct l2tp_session *s = t->sessions; s; s = s->next)
			if (s->state != S_ESTABLISHED)
				l->sessions_failed++;
		if (t->state != T_ESTABLISHED && t->state != T_CLOSING)
			l->tunnels_failed++;
		tunnel_finished(l, (struct ltunnel *)(void *)t, t->state == T_ESTABLISHED);
	}
}

static void session_data(void *arg, struct l2tp_session *s, const uint8_t *ppp, size_t len,
			 uint64_t now)
{
	(void)s, (void)ppp, (void)len, (void)now;
	load_of(arg)->data_rx++;
}

static const char *new_tunnel(void *arg, const uint8_t *pkt, size_t len,
			      const struct roam_sockaddr *src, const struct roam_ipaddr *dst,
			      uint64_t now, struct l2tp_tunnel **out)
{
	(void)arg, (void)pkt, (void)len, (void)src, (void)dst, (void)now, (void)out;
	return "tunnel id 0 (l2tpload accepts no SCCRQ)";
}

static const struct l2tp_endpoint_ops ops = {
	.new_tunnel = new_tunnel,
	.tunnel_msg = tunnel_msg,
	.session_msg = session_msg,
	.session_close = session_close,
	.session_free = session_free,
	.session_data = session_data,
	.tunnel_closing = tunnel_closing,
	.session_setup_msg = "ICRP",
	.tunnel_states = tunnel_state_names,
	.session_states = session_state_names,
	.nsession_states = S_ESTABLISHED + 1,
};

static void write_ready(struct load *l)
{
	if (!l->o->ready)
		return;
	FILE *f = fopen(l->o->ready, "w");
	if (f) {
		/* calls held now (established, not cleared by the LNS since) */
		fprintf(f, "%zu\n", table_count(&l->ep.sessions));
		fclose(f);
	}
}

static void on_tick(uv_timer_t *tm)
{
	struct load *l = tm->data;
	uint64_t now = uv_now(l->loop);
	if (now - l->t0 > (uint64_t)(l->o->timeout_s * 1000) && l->phase < 2) {
		fprintf(stderr, "l2tpload: timeout in phase %d\n", l->phase);
		l->phase = 1;
		l->release = true;
	}
	switch (l->phase) {
	case 0:
		start_more(l);
		if (l->started == l->o->tunnels && l->in_setup == 0) {
			if (!l->t_sessions)
				l->t_sessions = now;
			/* every message acknowledged; or a slow LNS still owes acknowledgements
			 * (or keeps clearing calls) 5 s after the last set-up ended */
			if (l2tp_ep_all_idle(&l->ep) || now - l->t_sessions > 5000) {
				l->t_acked = l2tp_ep_all_idle(&l->ep) ? now : 0;
				l->t_hold = now;
				l->phase = 1;
				write_ready(l);
			}
		}
		break;
	case 1:
		if (l->release || now - l->t_hold >= (uint64_t)(l->o->hold_s * 1000)) {
			l->phase = 2;
			l->t_hold = now;
			l->ep.stopping = true;
			l2tp_ep_stop_all(&l->ep, L2TP_STOPCCN_CLEAR, now);
			l2tp_ep_server_rearm(&l->ep);
		}
		break;
	case 2:
		if (l2tp_ep_all_idle(&l->ep) || now - l->t_hold > 30000) {
			l->t_down = now;
			l->phase = 3;
			uv_stop(l->loop);
		}
		break;
	}
}

static void on_signal(uv_signal_t *s, int signum)
{
	(void)signum;
	struct load *l = s->data;
	l->release = true;
}

static int write_json(struct load *l)
{
	const struct opts *o = l->o;
	struct wbuf out;
	struct json_writer w;
	char a[ROAM_ADDRSTRLEN];
	/* rates over the time to the last successful set-up: calls that fail by timing out
	 * (counted apart) do not stretch them */
	double ts = l->t_last_tunnel > l->t0 ? (double)(l->t_last_tunnel - l->t0) / 1e3 : 0;
	double ss = l->t_last_session > l->t0 ? (double)(l->t_last_session - l->t0) / 1e3 : 0;
	double es = l->t_sessions > l->t0 ? (double)(l->t_sessions - l->t0) / 1e3 : 0;
	double as = l->t_acked > l->t0 ? (double)(l->t_acked - l->t0) / 1e3 : 0;
	double ds = l->t_down > l->t_hold ? (double)(l->t_down - l->t_hold) / 1e3 : 0;
	loadgen_samples_sort(l->lat, l->nlat);
	wbuf_init(&out);
	json_writer_init(&w, &out);
	json_obj_begin(&w);
	json_kv_str(&w, "server", roam_sockaddr_fmt(&o->server, a, sizeof(a)));
	json_kv_uint(&w, "tunnels", o->tunnels);
	json_kv_uint(&w, "sessions_per_tunnel", o->sessions);
	json_kv_uint(&w, "window", o->window);
	json_kv_uint(&w, "tunnels_established", l->tunnels_up);
	json_kv_uint(&w, "tunnels_failed", l->tunnels_failed);
	json_kv_uint(&w, "sessions_established", l->sessions_up);
	json_kv_uint(&w, "sessions_failed", l->sessions_failed);
	json_kv_uint(&w, "cdn_received", l->cdn_rx);
	json_kv_uint(&w, "stopccn_received", l->stopccn_rx);
	json_kv_uint(&w, "data_received", l->data_rx);
	json_kv_uint(&w, "retransmits", l->ep.stats.ctrl_retransmits);
	json_kv_double(&w, "tunnels_up_s", ts);
	json_kv_double(&w, "sessions_up_s", ss);
	json_kv_double(&w, "setup_end_s", es);
	json_kv_double(&w, "all_acked_s", as);
	json_kv_double(&w, "tunnels_per_s", ts > 0 ? l->tunnels_up / ts : 0);
	json_kv_double(&w, "sessions_per_s", ss > 0 ? (double)l->sessions_up / ss : 0);
	json_kv_double(&w, "teardown_s", ds);
	json_key(&w, "session_setup_ms");
	json_obj_begin(&w);
	json_kv_uint(&w, "p50", loadgen_samples_percentile(l->lat, l->nlat, 50));
	json_kv_uint(&w, "p99", loadgen_samples_percentile(l->lat, l->nlat, 99));
	json_kv_uint(&w, "max", l->nlat ? l->lat[l->nlat - 1] : 0);
	json_obj_end(&w);
	json_obj_end(&w);
	return loadgen_json_output("l2tpload", o->json, &out, &w);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: l2tpload -s ADDR[:PORT] [options]\n"
		"  --tunnels T     control connections to open (default 100)\n"
		"  --sessions S    calls per tunnel (default 1)\n"
		"  --window W      tunnels being set up at once at most (default 64)\n"
		"  --hold S        seconds the calls are held before teardown (default 0)\n"
		"  --ready FILE    written once every call is up and acknowledged\n"
		"  --timeout S     give up on the whole run after this (default 120)\n"
		"  --setup-timeout S  a tunnel or call not up after this fails (default 20)\n"
		"  --host-name N   our Host Name AVP (default l2tpload)\n"
		"  --json FILE     result (default -: stdout)\n"
		"SIGUSR1 ends the hold.  Exit: 0 when the run completed, 1 on errors, 2 on usage.\n");
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "tunnels", required_argument, NULL, 'T' }, { "sessions", required_argument, NULL, 'S' },
		{ "window", required_argument, NULL, 'W' }, { "hold", required_argument, NULL, 'H' },
		{ "ready", required_argument, NULL, 'R' }, { "timeout", required_argument, NULL, 'O' },
		{ "host-name", required_argument, NULL, 'N' }, { "setup-timeout", required_argument, NULL, 'U' }, { "json", required_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	struct opts o = { .tunnels = 100, .sessions = 1, .window = 64, .timeout_s = 120, .setup_s = 20,
			  .json = "-", .host_name = "l2tpload" };
	int c;
	while ((c = getopt_long(argc, argv, "s:h", lopts, NULL)) != -1) {
		int bad = 0;
		switch (c) {
		case 's':
			bad = roam_sockaddr_parse(optarg, L2TP_UDP_PORT, &o.server) < 0;
			o.have_server = !bad;
			break;
		case 'T': bad = loadgen_parse_u32(optarg, 1, 60000, &o.tunnels) < 0; break;
		case 'S': bad = loadgen_parse_u32(optarg, 0, 60000, &o.sessions) < 0; break;
		case 'W': bad = loadgen_parse_u32(optarg, 1, 60000, &o.window) < 0; break;
		case 'H': bad = loadgen_parse_num(optarg, 0, 3600, &o.hold_s) < 0; break;
		case 'O': bad = loadgen_parse_num(optarg, 1, 3600, &o.timeout_s) < 0; break;
		case 'U': bad = loadgen_parse_num(optarg, 1, 600, &o.setup_s) < 0; break;
		case 'R': o.ready = optarg; break;
		case 'N': o.host_name = optarg; break;
		case 'j': o.json = optarg; break;
		case 'h': usage(stdout); return LOADGEN_EXIT_OK;
		default: usage(stderr); return LOADGEN_EXIT_USAGE;
		}
		if (bad) {
			loadgen_bad_value("l2tpload", lopts, c, optarg);
			return LOADGEN_EXIT_USAGE;
		}
	}
	if (optind < argc || !o.have_server) {
		usage(stderr);
		return LOADGEN_EXIT_USAGE;
	}
	log_init("l2tpload", 1, LOG_LVL_WARN);

	static struct load l; /* large (the endpoint's scratch messages) */
	l.o = &o;
	l.loop = uv_default_loop();
	l.tconf = (struct l2tp_tunnel_conf){
		.hello_interval = 60000, .receive_window = 64, .retransmit_initial = 1000,
		.retransmit_max = 8000, .max_retries = 5, .linger = 1000,
		.setup_timeout = (uint32_t)(o.setup_s * 1000),
		.idle_timeout = 0, .max_tunnels = 65535, .max_sessions = 65535,
	};
	l.lat = calloc(LAT_MAX, sizeof(*l.lat));
	struct roam_ipaddr any;
	memset(&any, 0, sizeof(any));
	roam_ipaddr_set4(&any, (struct in_addr){ 0 });
	if (o.server.sa.sa_family == AF_INET6)
		roam_ipaddr_parse("::", &any);
	if (!l.lat || l2tp_ep_init_role(&l.ep, &ops, &l, &l.tconf, NULL, true) < 0 ||
	    l2tp_ep_server_open(&l.ep, l.loop, &any, 0) < 0) {
		fprintf(stderr, "l2tpload: cannot set up the endpoint\n");
		return LOADGEN_EXIT_ERR;
	}
	uv_timer_init(l.loop, &l.tick);
	l.tick.data = &l;
	uv_signal_init(l.loop, &l.sig);
	l.sig.data = &l;
	uv_signal_start(&l.sig, on_signal, SIGUSR1);
	uv_update_time(l.loop);
	l.t0 = uv_now(l.loop);
	start_more(&l);
	uv_timer_start(&l.tick, on_tick, 1, 1);
	uv_run(l.loop, UV_RUN_DEFAULT);
	int r = write_json(&l);
	uv_timer_stop(&l.tick);
	uv_close((uv_handle_t *)&l.tick, NULL);
	uv_close((uv_handle_t *)&l.sig, NULL);
	l2tp_ep_server_close(&l.ep);
	l2tp_ep_destroy(&l.ep);
	uv_run(l.loop, UV_RUN_NOWAIT);
	free(l.lat);
	return r < 0 ? LOADGEN_EXIT_ERR : LOADGEN_EXIT_OK;
}
