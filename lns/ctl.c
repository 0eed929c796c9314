/* Control commands of lnsd (lnsd(8) CONTROL COMMANDS): status (lifecycle module plus
 * lnsd_status), stats, hangup; tunnels, sessions and stop-tunnel are the shared endpoint's
 * (roam/l2tp_tunnel.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lnsd.h"

void lnsd_status(void *arg, struct json_writer *w)
{
	struct lnsd *h = arg;
	char b[ROAM_ADDRSTRLEN];
	json_kv_str(w, "host_name", h->conf.host_name);
	json_kv_str(w, "listen", roam_ipaddr_fmt(&h->conf.listen, b, sizeof(b)));
	json_kv_uint(w, "port", h->conf.port);
	l2tp_ep_status_json(&h->ep, w);
	json_kv_uint(w, "peers", h->conf.npeers);
	json_kv_uint(w, "handoff_vendor_id", h->conf.handoff.vendor_id);
	lnsd_handoff_status_json(h, w);
}

static const struct stats_def lnsd_stats_defs[] = {
#define S(f) STATS_DEF(struct lnsd_stats, f)
	S(drop_not_sccrq), S(tunnels_requested), S(tunnels_refused_peer),
	S(tunnels_refused_version), S(tunnels_refused_limit), S(tunnels_refused_malformed),
	S(sessions_requested), S(sessions_established), S(sessions_refused),
	S(sessions_closed_by_peer), S(sessions_closed_local),
#undef S
};

/* stats: the shared tunnel counters and gauges, then the LNS's own. */
static int cmd_stats(void *arg, const struct json_value *args, struct json_writer *w, char *err,
		     size_t errlen)
{
	(void)args, (void)err, (void)errlen;
	struct lnsd *h = arg;
	json_obj_begin(w);
	l2tp_ep_stats_json(&h->ep, w);
	for (size_t i = 0; i < STATS_COUNT(lnsd_stats_defs); i++)
		json_kv_uint(w, lnsd_stats_defs[i].name,
			     *(const uint64_t *)(const void *)((const char *)&h->stats +
							       lnsd_stats_defs[i].offset));
	/* lnsd(8)'s name for the shared tunnels_auth_failed (SCCRQ without Challenge, SCCCN
	 * with a wrong or missing response). */
	json_kv_uint(w, "tunnels_refused_auth", h->ep.stats.tunnels_auth_failed);
	lnsd_ppp_stats_json(h, w);
	lnsd_handoff_stats_json(h, w);
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
	struct l2tp_session *s = l2tp_session_find(&h->ep, (uint16_t)tid, (uint16_t)sid);
	if (!s) {
		snprintf(err, errlen, "no session %lld on tunnel %lld", (long long)sid,
			 (long long)tid);
		return -ENOENT;
	}
	struct l2tp_tunnel *t = s->t;
	h->ep.now = uv_now(h->loop);
	lnsd_session_close(h, s, L2TP_CDN_ADMIN, 0, "administrative", h->ep.now);
	l2tp_tunnel_done(t);
	l2tp_ep_server_rearm(&h->ep);
	json_obj_begin(w);
	json_kv_uint(w, "hung_up", (uint64_t)sid);
	json_obj_end(w);
	return 0;
}

int lnsd_ctl_register(struct lnsd *h)
{
	if (ctl_register(h->ctl, "stats", "counters", cmd_stats, h) < 0 ||
	    l2tp_ep_ctl_register(&h->ep, h->ctl) < 0 ||
	    ctl_register(h->ctl, "hangup", "CDN: tunnel=ID session=ID", cmd_hangup, h) < 0 ||
	    lnsd_handoff_ctl_register(h) < 0)
		return -1;
	return 0;
}
