/* Control commands of lnsd (lnsd(8) CONTROL COMMANDS): status (lifecycle module plus
 * lnsd_status), stats, tunnels, sessions, stop-tunnel, hangup. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lnsd.h"

struct count_ctx {
	uint64_t sessions, established, retransmits;
};

static int count_one(struct table_node *n, void *arg)
{
	struct count_ctx *c = arg;
	struct lnsd_tunnel *t = table_entry(n, struct lnsd_tunnel, node);
	c->sessions += t->nsessions;
	c->established += t->state == LNSD_T_ESTABLISHED;
	c->retransmits += t->ctrl.stats.tx_retransmits;
	return 0;
}

void lnsd_status(void *arg, struct json_writer *w)
{
	struct lnsd *h = arg;
	struct count_ctx c = { 0, 0, 0 };
	char b[ROAM_ADDRSTRLEN];
	table_foreach(&h->tunnels, count_one, &c);
	json_kv_str(w, "host_name", h->conf.host_name);
	json_kv_str(w, "listen", roam_ipaddr_fmt(&h->conf.listen, b, sizeof(b)));
	json_kv_uint(w, "port", h->conf.port);
	json_kv_uint(w, "tunnels", table_count(&h->tunnels));
	json_kv_uint(w, "tunnels_established", c.established);
	json_kv_uint(w, "sessions", table_count(&h->sessions));
	json_kv_uint(w, "peers", h->conf.npeers);
	json_kv_uint(w, "handoff_vendor_id", h->conf.handoff.vendor_id);
}

static const struct stats_def lnsd_stats_defs[] = {
#define S(f) STATS_DEF(struct lnsd_stats, f)
	S(rx_packets), S(rx_control), S(rx_zlb), S(rx_data),
	S(drop_malformed), S(drop_bad_version), S(drop_hidden_no_key), S(drop_unknown_tunnel),
	S(drop_wrong_peer), S(drop_not_sccrq), S(drop_unknown_session), S(drop_data_unhandled),
	S(drop_ctrl_nomem),
	S(rx_sccrq), S(rx_scccn), S(rx_stopccn), S(rx_hello), S(rx_icrq), S(rx_iccn), S(rx_cdn),
	S(rx_ocrq), S(rx_wen), S(rx_sli), S(rx_other), S(rx_unknown_ignored),
	S(tx_backlogged), S(tx_sccrp), S(tx_stopccn), S(tx_hello), S(tx_icrp), S(tx_cdn), S(tx_errors),
	S(tunnels_requested), S(tunnels_established), S(tunnels_authenticated),
	S(tunnels_refused_peer), S(tunnels_refused_auth), S(tunnels_refused_version),
	S(tunnels_refused_limit), S(tunnels_refused_malformed),
	S(tunnels_closed_by_peer), S(tunnels_closed_local), S(tunnels_timed_out), S(tunnels_freed),
	S(sessions_requested), S(sessions_established), S(sessions_refused),
	S(sessions_closed_by_peer), S(sessions_closed_local), S(sessions_timed_out),
	S(ocrq_refused), S(unknown_mandatory_avp), S(fsm_errors),
#undef S
};

/* stats: the counters, plus the live gauges and the control channels' retransmissions. */
static int cmd_stats(void *arg, const struct json_value *args, struct json_writer *w, char *err,
		     size_t errlen)
{
	(void)args, (void)err, (void)errlen;
	struct lnsd *h = arg;
	struct count_ctx c = { 0, 0, 0 };
	table_foreach(&h->tunnels, count_one, &c);
	json_obj_begin(w);
	for (size_t i = 0; i < STATS_COUNT(lnsd_stats_defs); i++)
		json_kv_uint(w, lnsd_stats_defs[i].name,
			     *(const uint64_t *)(const void *)((const char *)&h->stats +
							       lnsd_stats_defs[i].offset));
	json_kv_uint(w, "ctrl_retransmits", h->stats.ctrl_retransmits + c.retransmits);
	json_kv_uint(w, "ctrl_duplicates", h->stats.ctrl_duplicates);
	json_kv_uint(w, "tunnels", table_count(&h->tunnels));
	json_kv_uint(w, "tunnels_up", c.established);
	json_kv_uint(w, "sessions", table_count(&h->sessions));
	json_obj_end(w);
	return 0;
}

struct dump_ctx {
	struct json_writer *w;
	uint64_t now;
	int only; /* tunnel id, or -1 */
	bool sessions;
};

static void dump_session(struct json_writer *w, const struct lnsd_session *s, uint64_t now)
{
	json_obj_begin(w);
	json_kv_uint(w, "tunnel", s->t->id);
	json_kv_uint(w, "session", s->id);
	json_kv_uint(w, "peer_tunnel", s->t->peer_id);
	json_kv_uint(w, "peer_session", s->peer_id);
	json_kv_str(w, "state", lnsd_session_state_name(s->state));
	json_kv_str(w, "calling", s->calling);
	json_kv_str(w, "called", s->called);
	json_kv_uint(w, "serial", s->serial);
	json_kv_uint(w, "tx_speed", s->tx_speed);
	json_kv_uint(w, "framing_type", s->framing_type);
	json_kv_bool(w, "seq_required", s->seq_required);
	json_kv_uint(w, "age_ms", now - s->created);
	json_kv_uint(w, "rx_data", s->rx_data);
	json_obj_end(w);
}

static int dump_one(struct table_node *n, void *arg)
{
	struct dump_ctx *c = arg;
	const struct lnsd_tunnel *t = table_entry(n, struct lnsd_tunnel, node);
	char b[ROAM_ADDRSTRLEN];
	if (c->only >= 0 && t->id != c->only)
		return 0;
	if (c->sessions) {
		for (const struct lnsd_session *s = t->sessions; s; s = s->next)
			dump_session(c->w, s, c->now);
		return 0;
	}
	struct json_writer *w = c->w;
	json_obj_begin(w);
	json_kv_uint(w, "tunnel", t->id);
	json_kv_uint(w, "peer_tunnel", t->peer_id);
	json_kv_str(w, "peer", roam_sockaddr_fmt(&t->peer, b, sizeof(b)));
	json_kv_str(w, "host_name", t->host_name);
	json_kv_str(w, "state", lnsd_tunnel_state_name(t->state));
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
	if (t->state == LNSD_T_CLOSING) {
		json_kv_uint(w, "stop_result", t->close_result);
		json_kv_bool(w, "stop_by_peer", t->stop_by_peer);
	}
	json_obj_end(w);
	return 0;
}

static int dump(struct lnsd *h, const struct json_value *args, struct json_writer *w, char *err,
		size_t errlen, bool sessions)
{
	int64_t only;
	int r = ctl_arg_int(args, "tunnel", -1, -1, 65535, &only, err, errlen);
	if (r < 0)
		return r;
	struct dump_ctx c = { w, h->loop ? uv_now(h->loop) : 0, (int)only, sessions };
	json_arr_begin(w);
	table_foreach(&h->tunnels, dump_one, &c);
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

/* stop-tunnel tunnel=ID: StopCCN (result 1). */
static int cmd_stop_tunnel(void *arg, const struct json_value *args, struct json_writer *w,
			   char *err, size_t errlen)
{
	struct lnsd *h = arg;
	int64_t id;
	int r = ctl_arg_int_req(args, "tunnel", 1, 65535, &id, err, errlen);
	if (r < 0)
		return r;
	if (lnsd_tunnel_stop_id(h, (uint16_t)id, uv_now(h->loop)) < 0) {
		snprintf(err, errlen, "no tunnel %lld", (long long)id);
		return -ENOENT;
	}
	lnsd_server_rearm(h);
	json_obj_begin(w);
	json_kv_uint(w, "stopped", (uint64_t)id);
	json_obj_end(w);
	return 0;
}

/* hangup tunnel=ID session=ID: CDN (result 3, administrative). */
static int cmd_hangup(void *arg, const struct json_value *args, struct json_writer *w, char *err,
		      size_t errlen)
{
	struct lnsd *h = arg;
	int64_t tid, sid;
	int r;
	if ((r = ctl_arg_int_req(args, "tunnel", 1, 65535, &tid, err, errlen)) < 0 ||
	    (r = ctl_arg_int_req(args, "session", 1, 65535, &sid, err, errlen)) < 0)
		return r;
	struct lnsd_session *s = lnsd_session_find(h, (uint16_t)tid, (uint16_t)sid);
	if (!s) {
		snprintf(err, errlen, "no session %lld on tunnel %lld", (long long)sid,
			 (long long)tid);
		return -ENOENT;
	}
	struct lnsd_tunnel *t = s->t;
	lnsd_session_close(s, L2TP_CDN_ADMIN, 0, "administrative", uv_now(h->loop));
	lnsd_tunnel_arm(t);
	lnsd_server_rearm(h);
	json_obj_begin(w);
	json_kv_uint(w, "hung_up", (uint64_t)sid);
	json_obj_end(w);
	return 0;
}

int lnsd_ctl_register(struct lnsd *h)
{
	if (ctl_register(h->ctl, "stats", "counters", cmd_stats, h) < 0 ||
	    ctl_register(h->ctl, "tunnels", "tunnels [tunnel=ID]", cmd_tunnels, h) < 0 ||
	    ctl_register(h->ctl, "sessions", "sessions [tunnel=ID]", cmd_sessions, h) < 0 ||
	    ctl_register(h->ctl, "stop-tunnel", "StopCCN: tunnel=ID", cmd_stop_tunnel, h) < 0 ||
	    ctl_register(h->ctl, "hangup", "CDN: tunnel=ID session=ID", cmd_hangup, h) < 0)
		return -1;
	return 0;
}
