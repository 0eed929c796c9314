/* Control commands of fad (fad(8) CONTROL COMMANDS): status (lifecycle + fad_status), stats,
 * visitors, forwarding, delete, save. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fad.h"
#include "roam/clock.h"
#include "roam/ctl_store.h"
#include "roam/snapshot_store.h"

static const char *in4(struct in_addr a, char *b, size_t n)
{
	struct roam_ipaddr x;
	roam_ipaddr_set4(&x, a);
	return roam_ipaddr_fmt(&x, b, n);
}

void fad_status(void *arg, struct json_writer *w)
{
	struct fad *f = arg;
	char b[ROAM_ADDRSTRLEN];
	struct roam_sockaddr sa;
	if (f->udp && roam_udp_local(f->udp, &sa) == 0)
		json_kv_str(w, "listen", roam_sockaddr_fmt(&sa, b, sizeof(b)));
	json_kv_uint(w, "visitors", f->store_ready ? fad_visitor_count(f) : 0);
	json_kv_uint(w, "max_visitors", f->conf.max_visitors);
	json_kv_bool(w, "synchronized", f->conf.synchronized);
	json_kv_uint(w, "max_lifetime_s", f->conf.max_lifetime / 1000);
	json_kv_uint(w, "home_agent_sas", f->nhas);
	json_kv_uint(w, "mobile_sas", f->nmns);
	json_kv_str(w, "snapshot", f->conf.snapshot ? f->conf.snapshot : "");
	json_kv_bool(w, "dataplane", f->dp.enabled);
	json_key(w, "cells");
	json_arr_begin(w);
	for (size_t i = 0; i < f->ncells; i++) {
		json_obj_begin(w);
		json_kv_str(w, "interface", f->cells[i].ifname);
		json_kv_str(w, "care_of", in4(f->cells[i].coa, b, sizeof(b)));
		json_kv_bool(w, "advertising", f->cells[i].adv.raw != NULL);
		json_kv_uint(w, "adv_seq", f->cells[i].adv.seq);
		json_kv_uint(w, "rx_requests", f->cells[i].rx_requests);
		json_obj_end(w);
	}
	json_arr_end(w);
}

struct dump_ctx {
	struct fad *f;
	struct json_writer *w;
	uint64_t now;
	int forwarding_only;
};

static int dump_one(struct binding *bd, void *arg)
{
	struct dump_ctx *c = arg;
	struct fad_visitor *v = bd->user;
	char b[ROAM_ADDRSTRLEN];
	if (!v || (c->forwarding_only && v->state != FAD_V_FORWARDING))
		return 0;
	struct json_writer *w = c->w;
	json_obj_begin(w);
	json_kv_str(w, "home", in4(v->home, b, sizeof(b)));
	if (c->forwarding_only) {
		json_kv_str(w, "old_care_of", in4(v->coa, b, sizeof(b)));
		json_kv_str(w, "new_care_of", in4(v->fwd_coa, b, sizeof(b)));
		json_kv_uint(w, "remaining", fad_visitor_remaining(v, c->now));
		json_kv_uint(w, "queued", bfifo_count(&bd->cur.fifo));
		json_kv_uint(w, "moved", bd->cur.fifo.st.moved_in);
		json_kv_uint(w, "forwarded", v->st.forwarded);
		json_obj_end(w);
		return 0;
	}
	json_kv_str(w, "home_agent", in4(v->ha, b, sizeof(b)));
	json_kv_str(w, "care_of", in4(v->coa, b, sizeof(b)));
	json_kv_str(w, "state", fad_vstate_name(v->state));
	json_kv_uint(w, "remaining", fad_visitor_remaining(v, c->now));
	json_kv_uint(w, "lifetime", v->granted);
	json_kv_str(w, "interface", v->cell >= 0 && (size_t)v->cell < c->f->ncells ?
					    c->f->cells[v->cell].ifname : "");
	json_kv_str(w, "mobile", roam_sockaddr_fmt(&v->mn, b, sizeof(b)));
	json_kv_bool(w, "reverse_tunnel", (v->flags & MIP4_REQ_T) != 0);
	json_kv_bool(w, "request_pending", v->pend.active);
	char idb[24];
	snprintf(idb, sizeof(idb), "%016llx", (unsigned long long)v->reg_id);
	json_kv_str(w, "last_id", idb);
	json_kv_uint(w, "queued", bfifo_count(&bd->cur.fifo));
	if (v->state == FAD_V_FORWARDING)
		json_kv_str(w, "forwarding_to", in4(v->fwd_coa, b, sizeof(b)));
	json_kv_bool(w, "route_installed", v->dp_route_ifindex > 0);
	json_kv_uint(w, "decapsulated", v->st.decapsulated);
	json_kv_uint(w, "delivered", v->st.delivered);
	json_kv_uint(w, "delivered_bytes", v->st.delivered_bytes);
	json_kv_uint(w, "held", v->st.held);
	json_kv_uint(w, "forwarded", v->st.forwarded);
	json_kv_uint(w, "reverse", v->st.reverse);
	json_kv_uint(w, "routed", v->st.routed);
	json_kv_uint(w, "dropped", v->st.dropped);
	json_obj_end(w);
	return 0;
}

static int dump(struct fad *f, struct json_writer *result, int fwd)
{
	uint64_t now = roam_mono_ms();
	fad_store_expire(f, now);
	struct dump_ctx c = { f, result, now, fwd };
	json_arr_begin(result);
	binding_foreach(&f->vl, dump_one, &c);
	json_arr_end(result);
	return 0;
}

static int cmd_visitors(void *arg, const struct json_value *args, struct json_writer *result,
			char *err, size_t errlen)
{
	(void)args;
	(void)err;
	(void)errlen;
	return dump(arg, result, 0);
}

static int cmd_forwarding(void *arg, const struct json_value *args, struct json_writer *result,
			  char *err, size_t errlen)
{
	(void)args;
	(void)err;
	(void)errlen;
	return dump(arg, result, 1);
}

static int remove_visitor(void *arg, const struct roam_ipaddr *home)
{
	struct fad *f = arg;
	struct fad_visitor *v = fad_visitor_find(f, home->v4);
	if (!v)
		return -ENOENT;
	fad_visitor_remove(f, v);
	f->stats.visitors_deleted++;
	fad_store_rearm(f, roam_mono_ms());
	return 0;
}

/* delete home=ADDR: removes one visitor (operator action). */
static int cmd_delete(void *arg, const struct json_value *args, struct json_writer *result,
		      char *err, size_t errlen)
{
	const struct ctl_delete d = { "home", AF_INET, "no visitor", "visitor", remove_visitor, arg };
	return ctl_delete_addr(&d, args, result, err, errlen);
}

static int cmd_save(void *arg, const struct json_value *args, struct json_writer *result,
		    char *err, size_t errlen)
{
	(void)args;
	struct fad *f = arg;
	int r = snap_save_command(&f->snap, f->conf.snapshot, fad_store_save, f, err, errlen);
	if (r < 0)
		return r;
	json_obj_begin(result);
	json_kv_uint(result, "visitors", fad_visitor_count(f));
	json_obj_end(result);
	return 0;
}

#define S(x) STATS_DEF(struct fad_stats, x)
#define D(c) STATS_NAMED("denied_" #c, struct fad_stats, denied[(c) - FAD_CODE_MIN])
#define H(c) STATS_NAMED("ha_denied_" #c, struct fad_stats, ha_denied[(c) - 128])
static const struct stats_def fad_stats_defs[] = {
	S(rx_packets), S(rx_request), S(rx_reply), S(rx_fbu), S(rx_fback), S(rx_regional),
	S(rx_ro), S(rx_unknown_type),
	S(relayed_requests), S(relayed_replies), S(relayed_deregistrations), S(registered),
	S(refreshed), S(deregistered),
	D(64), D(65), D(66), D(67), D(68), D(69), D(70), D(71), D(72), D(73), D(74), D(75), D(76),
	D(77), D(78), D(79), D(80), D(81), D(82), D(88),
	H(128), H(129), H(130), H(131), H(132), H(133), H(134), H(135), H(136), H(137), H(138),
	H(139), S(ha_denied_other),
	S(drop_malformed), S(drop_must_understand), S(drop_not_cell), S(drop_unknown_visitor),
	S(drop_unmatched_reply), S(drop_ha_auth), S(drop_from_stranger), S(drop_tx_error),
	S(drop_no_dataplane),
	S(pending_timeouts), S(pending_replaced),
	S(drr_received), S(drr_relayed), S(drr_forwarded),
	S(fbu_accepted), S(fbu_refused), S(fbu_stranger), S(fbu_replay), S(fbu_relayed),
	S(fbu_cancelled), S(fback_sent), S(fback_relayed), S(fback_unknown),
	S(anticipated), S(anticipated_arrived), S(anticipated_expired), S(anticipated_refused),
	S(forwarding_returned),
	S(visitors_expired), S(visitors_deleted), S(forwarding_expired),
	STATS_NAMED("adv_sent", struct fad_stats, adv.sent),
	STATS_NAMED("adv_solicited", struct fad_stats, adv.solicited),
	STATS_NAMED("sol_received", struct fad_stats, adv.sol_received),
	STATS_NAMED("sol_malformed", struct fad_stats, adv.sol_malformed),
	STATS_NAMED("adv_tx_errors", struct fad_stats, adv.tx_errors),
	S(snapshot_saves), S(snapshot_failures), S(snapshot_loaded), S(snapshot_skipped),
	S(dp_rx_tunnel), S(dp_rx_tunnel_bytes), S(dp_queued), S(dp_held), S(dp_delivered),
	S(dp_up_held), S(dp_up_released), S(dp_drop_up_full), S(dp_routed_departed),
	S(dp_delivered_bytes), S(dp_forwarded), S(dp_forwarded_bytes), S(dp_forwarded_ctrl),
	S(dp_rx_cell), S(dp_reverse), S(dp_reverse_bytes), S(dp_routed),
	S(dp_drop_not_ipip), S(dp_drop_malformed), S(dp_drop_not_for_us), S(dp_drop_no_visitor),
	S(dp_drop_bad_source), S(dp_drop_pending_full), S(dp_drop_full), S(dp_drop_ttl),
	S(dp_drop_too_big), S(dp_drop_tx_error), S(dp_drop_cell_stranger), S(dp_drop_cell_state),
	S(dp_drop_cell_kernel), S(dp_drop_up_flushed),
	S(dp_tx_eagain), S(dp_installs), S(dp_install_failures), S(dp_removals),
	S(gfa_home_bound), S(gfa_regional_accepted), S(gfa_regional_denied),
	S(gfa_regional_deregistered), S(gfa_dual_replies), S(gfa_drr_sent), S(gfa_drr_failed),
	S(gfa_tunnelled), S(gfa_tunnelled_bytes), S(gfa_drop_fa_auth), S(gfa_drop_fa_unknown),
	S(gfa_drop_mn_auth), S(gfa_drop_replay), S(gfa_drop_no_binding), S(gfa_drop_tx),
	S(gfa_drop_full), S(gfa_home_relayed), S(gfa_home_replies), S(gfa_home_drop_ha_auth),
	S(gfa_home_timeouts),
	S(region_home_relayed), S(region_regional_relayed), S(region_replies),
	S(region_drop_fa_auth),
	S(ro_warnings_sent), S(ro_warnings_suppressed),
};

int fad_ctl_register(struct fad *f)
{
	f->stats_table = (struct stats_table){ &f->stats, fad_stats_defs,
					       STATS_COUNT(fad_stats_defs) };
	if (stats_register(f->ctl, &f->stats_table) < 0 ||
	    ctl_register(f->ctl, "visitors",
			 "visitor list: home, home_agent, state, remaining, interface", cmd_visitors,
			 f) < 0 ||
	    ctl_register(f->ctl, "forwarding", "FBU forwarding entries: home, old/new care-of",
			 cmd_forwarding, f) < 0 ||
	    ctl_register(f->ctl, "delete", "delete home=ADDR: remove a visitor", cmd_delete, f) < 0 ||
	    ctl_register(f->ctl, "save", "write the visitor snapshot now", cmd_save, f) < 0)
		return -1;
	return 0;
}
