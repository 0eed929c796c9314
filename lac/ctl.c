/* Control commands of lacd (lacd(8) CONTROL COMMANDS): status (lifecycle module plus
 * lacd_status), stats, call, hangup, links, handoffs (the handoff table); tunnels, sessions
 * and stop-tunnel are the shared endpoint's (roam/l2tp_tunnel.h).  call and hangup place and
 * clear calls without a mobile (tests). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lacd.h"

void lacd_status(void *arg, struct json_writer *w)
{
	struct lacd *h = arg;
	char b[ROAM_ADDRSTRLEN];
	json_kv_str(w, "host_name", h->conf.host_name);
	json_kv_str(w, "listen", roam_ipaddr_fmt(&h->conf.listen, b, sizeof(b)));
	json_kv_uint(w, "port", h->conf.port);
	l2tp_ep_status_json(&h->ep, w);
	json_kv_uint(w, "lns_entries", h->conf.nlns);
	json_kv_uint(w, "handoff_vendor_id", h->conf.handoff.vendor_id);
	json_kv_bool(w, "handoff", h->conf.handoff.enabled);
	json_kv_uint(w, "handoff_table", h->ho.ready ? table_count(&h->ho.table) : 0);
	json_kv_bool(w, "access", h->conf.access.enabled);
	json_kv_uint(w, "access_port", h->conf.access.port);
	json_kv_uint(w, "links", h->acc.tables_ready ? table_count(&h->acc.links) : 0);
}

static const struct stats_def lacd_stats_defs[] = {
#define S(f) STATS_DEF(struct lacd_stats, f)
	S(drop_tunnel_id_zero), S(tunnels_requested), S(tunnels_refused_by_peer),
	S(tunnels_closed_idle), S(calls_requested), S(calls_refused_no_lns),
	S(calls_refused_busy), S(calls_failed), S(sessions_established),
	S(sessions_closed_by_peer), S(sessions_closed_local),
#undef S
};

/* stats: the shared tunnel counters and gauges, then the LAC's own. */
static int cmd_stats(void *arg, const struct json_value *args, struct json_writer *w, char *err,
		     size_t errlen)
{
	(void)args, (void)err, (void)errlen;
	struct lacd *h = arg;
	json_obj_begin(w);
	l2tp_ep_stats_json(&h->ep, w);
	for (size_t i = 0; i < STATS_COUNT(lacd_stats_defs); i++)
		json_kv_uint(w, lacd_stats_defs[i].name,
			     *(const uint64_t *)(const void *)((const char *)&h->stats +
							       lacd_stats_defs[i].offset));
	lacd_access_stats_json(h, w);
	lacd_aaa_stats_json(h, w);
	lacd_ho_stats_json(h, w);
	json_obj_end(w);
	return 0;
}

/* handoffs: the handoff table (USER_MOVED heard, and our own), figure 4 "handoff table". */
static int cmd_handoffs(void *arg, const struct json_value *args, struct json_writer *w,
			char *err, size_t errlen)
{
	(void)args, (void)err, (void)errlen;
	struct lacd *h = arg;
	lacd_ho_table_json(h, w, uv_now(h->loop));
	return 0;
}

/* links: the attached mobiles. */
static int cmd_links(void *arg, const struct json_value *args, struct json_writer *w, char *err,
		     size_t errlen)
{
	(void)args, (void)err, (void)errlen;
	lacd_access_links_json(arg, w);
	return 0;
}

/* call MIN=DIGITS [lns=ADDR[:PORT]]: places an incoming call for the mobile. */
static int cmd_call(void *arg, const struct json_value *args, struct json_writer *w, char *err,
		    size_t errlen)
{
	struct lacd *h = arg;
	const char *min, *lns;
	struct roam_sockaddr sa;
	struct lacd_session *s;
	int r;
	if ((r = ctl_arg_str(args, "MIN", NULL, &min, err, errlen)) < 0 ||
	    (r = ctl_arg_str(args, "lns", "", &lns, err, errlen)) < 0)
		return r;
	if (*lns && roam_sockaddr_parse(lns, L2TP_UDP_PORT, &sa) < 0) {
		snprintf(err, errlen, "argument 'lns': not an address: %s", lns);
		return -EINVAL;
	}
	r = lacd_call(h, min, *lns ? &sa : NULL, uv_now(h->loop), &s);
	l2tp_ep_server_rearm(&h->ep);
	switch (r) {
	case 0:
		break;
	case -EINVAL:
		snprintf(err, errlen, "argument 'MIN': 1 to %d digits: %s", L2TP_MIN_MAX, min);
		return r;
	case -EEXIST:
		snprintf(err, errlen, "MIN %s already has a call", min);
		return r;
	case -EHOSTUNREACH:
		snprintf(err, errlen, "no LNS for MIN %s in the configuration", min);
		return r;
	default:
		snprintf(err, errlen, "cannot place the call: %s", strerror(-r));
		return r;
	}
	json_obj_begin(w);
	json_kv_str(w, "min", s->min);
	json_kv_uint(w, "tunnel", s->s.t->id);
	json_kv_uint(w, "session", s->s.id);
	json_kv_str(w, "state", l2tp_session_state_name(&h->ep, s->s.state));
	json_obj_end(w);
	return 0;
}

/* hangup MIN=DIGITS: CDN (result 3 unless result=N). */
static int cmd_hangup(void *arg, const struct json_value *args, struct json_writer *w, char *err,
		      size_t errlen)
{
	struct lacd *h = arg;
	const char *min;
	int64_t result;
	int r;
	if ((r = ctl_arg_str(args, "MIN", NULL, &min, err, errlen)) < 0 ||
	    (r = ctl_arg_int(args, "result", L2TP_CDN_ADMIN, 1, 11, &result, err, errlen)) < 0)
		return r;
	if (lacd_hangup(h, min, (uint16_t)result, uv_now(h->loop)) < 0) {
		snprintf(err, errlen, "no call for MIN %s", min);
		return -ENOENT;
	}
	l2tp_ep_server_rearm(&h->ep);
	json_obj_begin(w);
	json_kv_str(w, "hung_up", min);
	json_obj_end(w);
	return 0;
}

int lacd_ctl_register(struct lacd *h)
{
	if (ctl_register(h->ctl, "stats", "counters", cmd_stats, h) < 0 ||
	    l2tp_ep_ctl_register(&h->ep, h->ctl) < 0 ||
	    ctl_register(h->ctl, "call", "incoming call: MIN=DIGITS [lns=ADDR[:PORT]]", cmd_call,
			 h) < 0 ||
	    ctl_register(h->ctl, "links", "attached mobiles (access links)", cmd_links, h) < 0 ||
	    ctl_register(h->ctl, "hangup", "CDN: MIN=DIGITS [result=N]", cmd_hangup, h) < 0 ||
	    ctl_register(h->ctl, "handoffs", "handoff table (USER_MOVED received and sent)",
			 cmd_handoffs, h) < 0)
		return -1;
	return 0;
}
