/* Control commands of the shared L2TP tunnel (lacd(8), lnsd(8) CONTROL COMMANDS): the
 * counters and gauges, "tunnels", "sessions" and "stop-tunnel".  See roam/l2tp_tunnel.h. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "roam/ctl.h"
#include "roam/l2tp_tunnel.h"
#include "roam/stats.h"

static const struct stats_def ep_stats_defs[] = {
#define S(f) STATS_DEF(struct l2tp_ep_stats, f)
	S(rx_packets), S(rx_control), S(rx_zlb), S(rx_data),
	S(drop_malformed), S(drop_bad_version), S(drop_hidden_no_key), S(drop_unknown_tunnel),
	S(drop_wrong_peer), S(drop_unknown_session), S(drop_data_unhandled), S(drop_ctrl_nomem),
	S(rx_unknown_ignored), S(rx_other), S(tx_backlogged), S(tx_errors),
	S(tunnels_established), S(tunnels_authenticated), S(tunnels_auth_failed),
	S(tunnels_closed_by_peer), S(tunnels_closed_local), S(tunnels_timed_out),
	S(tunnels_freed), S(sessions_timed_out), S(ocrq_refused), S(unknown_mandatory_avp),
	S(fsm_errors),
#undef S
};

struct count_ctx {
	uint64_t established, retransmits, duplicates, out_of_order;
};

static int count_one(struct table_node *n, void *arg)
{
	struct count_ctx *c = arg;
	const struct l2tp_tunnel *t = table_entry(n, struct l2tp_tunnel, node);
	c->established += t->state == L2TP_TUN_ESTABLISHED;
	c->retransmits += t->ctrl.stats.tx_retransmits;
	c->duplicates += t->ctrl.stats.rx_duplicate;
	c->out_of_order += t->ctrl.stats.rx_queued;
	return 0;
}

static void msg_counters(struct json_writer *w, const char *dir, const uint64_t *v)
{
	char key[32];
	for (uint16_t type = 1; type <= L2TP_MSG_SLI; type++) {
		const char *name = l2tp_msg_name(type);
		if (strcmp(name, "unknown") == 0)
			continue;
		int n = snprintf(key, sizeof(key), "%s_", dir);
		for (size_t i = 0; name[i] && (size_t)n + 1 < sizeof(key); i++)
			key[n++] = (char)tolower((unsigned char)name[i]);
		key[n] = 0;
		json_kv_uint(w, key, v[type]);
	}
}

void l2tp_ep_stats_json(const struct l2tp_endpoint *ep, struct json_writer *w)
{
	struct count_ctx c = { 0, 0, 0, 0 };
	table_foreach((struct table *)&ep->tunnels, count_one, &c);
	for (size_t i = 0; i < STATS_COUNT(ep_stats_defs); i++)
		json_kv_uint(w, ep_stats_defs[i].name,
			     *(const uint64_t *)(const void *)((const char *)&ep->stats +
							       ep_stats_defs[i].offset));
	msg_counters(w, "rx", ep->stats.rx_msg);
	msg_counters(w, "tx", ep->stats.tx_msg);
	/* the channels' counters: of freed tunnels plus the live ones */
	json_kv_uint(w, "ctrl_retransmits", ep->stats.ctrl_retransmits + c.retransmits);
	json_kv_uint(w, "ctrl_duplicates", ep->stats.ctrl_duplicates + c.duplicates);
	json_kv_uint(w, "ctrl_out_of_order", ep->stats.ctrl_out_of_order + c.out_of_order);
	json_kv_uint(w, "tunnels", table_count(&ep->tunnels));
	json_kv_uint(w, "tunnels_up", c.established);
	json_kv_uint(w, "sessions", table_count(&ep->sessions));
}

void l2tp_ep_status_json(struct l2tp_endpoint *ep, struct json_writer *w)
{
	struct count_ctx c = { 0, 0, 0, 0 };
	table_foreach(&ep->tunnels, count_one, &c);
	json_kv_uint(w, "tunnels", table_count(&ep->tunnels));
	json_kv_uint(w, "tunnels_established", c.established);
	json_kv_uint(w, "sessions", table_count(&ep->sessions));
}

struct dump_ctx {
	struct l2tp_endpoint *ep;
	struct json_writer *w;
	uint64_t now;
	int only; /* tunnel id, or -1 */
	bool sessions;
};

static void dump_session(struct dump_ctx *c, const struct l2tp_session *s)
{
	struct json_writer *w = c->w;
	json_obj_begin(w);
	json_kv_uint(w, "tunnel", s->t->id);
	json_kv_uint(w, "session", s->id);
	json_kv_uint(w, "peer_tunnel", s->t->peer_id);
	json_kv_uint(w, "peer_session", s->peer_id);
	json_kv_str(w, "state", l2tp_session_state_name(c->ep, s->state));
	json_kv_uint(w, "serial", s->serial);
	json_kv_uint(w, "age_ms", c->now - s->created);
	json_kv_uint(w, "rx_data", s->rx_data);
	if (c->ep->ops->dump_session)
		c->ep->ops->dump_session(c->ep->role, w, s);
	json_obj_end(w);
}

static int dump_one(struct table_node *n, void *arg)
{
	struct dump_ctx *c = arg;
	const struct l2tp_tunnel *t = table_entry(n, struct l2tp_tunnel, node);
	char b[ROAM_ADDRSTRLEN];
	if (c->only >= 0 && t->id != c->only)
		return 0;
	if (c->sessions) {
		for (const struct l2tp_session *s = t->sessions; s; s = s->next)
			dump_session(c, s);
		return 0;
	}
	struct json_writer *w = c->w;
	json_obj_begin(w);
	json_kv_uint(w, "tunnel", t->id);
	json_kv_uint(w, "peer_tunnel", t->peer_id);
	json_kv_str(w, "peer", roam_sockaddr_fmt(&t->peer, b, sizeof(b)));
	json_kv_str(w, "host_name", t->host_name);
	json_kv_str(w, "state", l2tp_tunnel_state_name(c->ep, t->state));
	json_kv_bool(w, "authenticated", t->authenticated);
	json_kv_bool(w, "hidden_avps", t->hide);
	json_kv_uint(w, "sessions", t->nsessions);
	json_kv_uint(w, "age_ms", c->now - t->created);
	json_kv_uint(w, "ns", t->ctrl.ns_next);
	json_kv_uint(w, "nr", t->ctrl.nr);
	json_kv_uint(w, "peer_window", t->ctrl.peer_window);
	json_kv_bool(w, "idle", !t->backlog && l2tp_ctrl_idle(&t->ctrl)); /* all acknowledged */
	json_kv_uint(w, "backlog", t->nbacklog);
	json_kv_uint(w, "tx_msgs", t->ctrl.stats.tx_msgs);
	json_kv_uint(w, "tx_retransmits", t->ctrl.stats.tx_retransmits);
	json_kv_uint(w, "tx_zlb", t->ctrl.stats.tx_zlb);
	json_kv_uint(w, "rx_msgs", t->ctrl.stats.rx_msgs);
	json_kv_uint(w, "rx_duplicate", t->ctrl.stats.rx_duplicate);
	json_kv_uint(w, "rx_queued", t->ctrl.stats.rx_queued);
	if (t->state == L2TP_TUN_CLOSING) {
		json_kv_uint(w, "stop_result", t->close_result);
		json_kv_bool(w, "stop_by_peer", t->stop_by_peer);
	}
	json_obj_end(w);
	return 0;
}

static int dump(struct l2tp_endpoint *ep, const struct json_value *args, struct json_writer *w,
		char *err, size_t errlen, bool sessions)
{
	int64_t only;
	int r = ctl_arg_int(args, "tunnel", -1, -1, 65535, &only, err, errlen);
	if (r < 0)
		return r;
	struct dump_ctx c = { ep, w, ep->loop ? uv_now(ep->loop) : ep->now, (int)only, sessions };
	json_arr_begin(w);
	table_foreach(&ep->tunnels, dump_one, &c);
	json_arr_end(w);
	return 0;
}

static int cmd_tunnels(void *arg, const struct json_value *args, struct json_writer *w, char *err,
		       size_t errlen)
{
	return dump(arg, args, w, err, errlen, false);
}

static int cmd_sessions(void *arg, const struct json_value *args, struct json_writer *w,
			char *err, size_t errlen)
{
	return dump(arg, args, w, err, errlen, true);
}

/* stop-tunnel tunnel=ID: StopCCN (result 1), its calls are cleared. */
static int cmd_stop_tunnel(void *arg, const struct json_value *args, struct json_writer *w,
			   char *err, size_t errlen)
{
	struct l2tp_endpoint *ep = arg;
	int64_t id;
	int r = ctl_arg_int_req(args, "tunnel", 1, 65535, &id, err, errlen);
	if (r < 0)
		return r;
	if (l2tp_tunnel_stop_id(ep, (uint16_t)id, ep->loop ? uv_now(ep->loop) : ep->now) < 0) {
		snprintf(err, errlen, "no tunnel %lld", (long long)id);
		return -ENOENT;
	}
	l2tp_ep_server_rearm(ep);
	json_obj_begin(w);
	json_kv_uint(w, "stopped", (uint64_t)id);
	json_obj_end(w);
	return 0;
}

int l2tp_ep_ctl_register(struct l2tp_endpoint *ep, struct roam_ctl *ctl)
{
	if (ctl_register(ctl, "tunnels", "tunnels [tunnel=ID]", cmd_tunnels, ep) < 0 ||
	    ctl_register(ctl, "sessions", "sessions [tunnel=ID]", cmd_sessions, ep) < 0 ||
	    ctl_register(ctl, "stop-tunnel", "StopCCN: tunnel=ID", cmd_stop_tunnel, ep) < 0)
		return -1;
	return 0;
}
