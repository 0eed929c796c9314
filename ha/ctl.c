/* Control commands of had (had(8) CONTROL COMMANDS): status (lifecycle + had_status), stats,
 * bindings, delete, save. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "had.h"
#include "roam/clock.h"
#include "roam/ctl_store.h"
#include "roam/snapshot_store.h"

void had_status(void *arg, struct json_writer *w)
{
	struct had *h = arg;
	char b[ROAM_ADDRSTRLEN];
	struct roam_sockaddr sa;
	json_kv_str(w, "address", roam_ipaddr_fmt(&h->conf.address, b, sizeof(b)));
	if (h->udp && roam_udp_local(h->udp, &sa) == 0)
		json_kv_str(w, "listen", roam_sockaddr_fmt(&sa, b, sizeof(b)));
	json_kv_uint(w, "bindings", binding_count(&h->bc));
	json_kv_uint(w, "max_bindings", h->conf.max_bindings);
	json_kv_uint(w, "mobile_sas", h->nsas);
	json_kv_uint(w, "fa_sas", h->nfas);
	json_kv_bool(w, "synchronized", h->conf.synchronized);
	json_kv_uint(w, "max_lifetime_s", h->conf.max_lifetime / 1000);
	json_kv_uint(w, "replay_tolerance_s", h->conf.replay_tolerance / 1000);
	json_kv_bool(w, "advertising", h->adv.raw != NULL);
	json_kv_bool(w, "dataplane", h->dp.enabled);
	if (h->dp.enabled) {
		json_kv_str(w, "tunnel_source", roam_ipaddr_fmt(&h->dp.source, b, sizeof(b)));
		json_kv_str(w, "tun", h->conf.dataplane.tun);
		json_kv_str(w, "home_interface", h->conf.dataplane.interface);
	}
	json_kv_str(w, "snapshot", h->conf.snapshot ? h->conf.snapshot : "");
	had_ro_status(h, w); /* ro.c */
}

struct dump_ctx {
	struct json_writer *w;
	uint64_t now;
	bool sync;
};

static int dump_one(struct binding *bd, void *arg)
{
	struct dump_ctx *c = arg;
	char b[ROAM_ADDRSTRLEN];
	json_obj_begin(c->w);
	json_kv_str(c->w, "home", roam_ipaddr_fmt(&bd->home, b, sizeof(b)));
	json_kv_str(c->w, "care_of", roam_ipaddr_fmt(&bd->cur.coa, b, sizeof(b)));
	json_kv_uint(c->w, "remaining", binding_remaining(bd, c->now));
	json_kv_uint(c->w, "lifetime", bd->lifetime_s);
	json_kv_uint(c->w, "spi", had_binding_spi(bd));
	json_kv_str(c->w, "mode", c->sync ? "sync" : "plain");
	json_kv_bool(c->w, "reverse_tunnel", (bd->flags & MIP4_REQ_T) != 0);
	json_kv_uint(c->w, "moves", bd->moves);
	char idb[24];
	snprintf(idb, sizeof(idb), "%016llx", (unsigned long long)bd->last_id);
	json_kv_str(c->w, "last_id", idb);
	const struct had_bstats *st = had_binding_stats(bd);
	if (st) {
		json_kv_uint(c->w, "tunnelled", st->tunnelled);
		json_kv_uint(c->w, "tunnelled_bytes", st->tunnelled_bytes);
		json_kv_uint(c->w, "reverse", st->reverse);
		json_kv_uint(c->w, "reverse_bytes", st->reverse_bytes);
		json_kv_uint(c->w, "queued_total", st->queued);
		json_kv_uint(c->w, "dropped", st->dropped);
		json_kv_bool(c->w, "installed", ((const struct had_binding *)bd->user)->installed);
	}
	binding_path_json(c->w, "path", &bd->cur);
	if (bd->old.coa.family)
		binding_path_json(c->w, "old_path", &bd->old);
	json_obj_end(c->w);
	return 0;
}

/* bindings: the binding cache as an array. */
static int cmd_bindings(void *arg, const struct json_value *args, struct json_writer *result,
			char *err, size_t errlen)
{
	(void)args;
	(void)err;
	(void)errlen;
	struct had *h = arg;
	uint64_t now = roam_mono_ms();
	had_store_expire(h, now);
	struct dump_ctx c = { result, now, h->conf.synchronized };
	json_arr_begin(result);
	binding_foreach(&h->bc, dump_one, &c);
	json_arr_end(result);
	return 0;
}

static int remove_binding(void *arg, const struct roam_ipaddr *home)
{
	struct had *h = arg;
	struct binding *b = binding_lookup(&h->bc, home);
	if (!b)
		return -ENOENT;
	had_binding_remove(h, b);
	h->stats.bindings_deleted++;
	had_store_rearm(h, roam_mono_ms());
	return 0;
}

/* delete home=ADDR: removes one binding (operator action). */
static int cmd_delete(void *arg, const struct json_value *args, struct json_writer *result,
		      char *err, size_t errlen)
{
	const struct ctl_delete d = { "home", 0, "no binding for", "binding of", remove_binding, arg };
	return ctl_delete_addr(&d, args, result, err, errlen);
}

/* save: writes the snapshot now. */
static int cmd_save(void *arg, const struct json_value *args, struct json_writer *result,
		    char *err, size_t errlen)
{
	(void)args;
	struct had *h = arg;
	int r = snap_save_command(&h->snap, h->conf.snapshot, had_store_save, h, err, errlen);
	if (r < 0)
		return r;
	json_obj_begin(result);
	json_kv_uint(result, "bindings", binding_count(&h->bc));
	json_obj_end(result);
	return 0;
}

#define S(f) STATS_DEF(struct had_stats, f)
#define D(c) STATS_NAMED("denied_" #c, struct had_stats, denied[(c) - 128])
static const struct stats_def had_stats_defs[] = {
	S(rx_packets), S(rx_request), S(rx_reply), S(rx_regional), S(rx_fbu), S(rx_ro),
	S(rx_unknown_type), S(accepted), S(created), S(refreshed), S(moved), S(deregistered),
	S(simultaneous), S(lifetimes_capped),
	D(128), D(129), D(130), D(131), D(132), D(133), D(134), D(135), D(136), D(137), D(138),
	D(139),
	S(unknown_spi), S(mn_auth_failed), S(fa_auth_failed), S(foreign_home),
	S(drop_malformed), S(drop_must_understand), S(drop_not_request), S(drop_replay),
	S(drop_tx_error), S(drr_queued), S(drr_sent), S(drr_failed), S(drop_no_dataplane), S(tx_replies),
	S(bindings_expired), S(bindings_deleted),
	STATS_NAMED("adv_sent", struct had_stats, adv.sent),
	STATS_NAMED("adv_solicited", struct had_stats, adv.solicited),
	STATS_NAMED("sol_received", struct had_stats, adv.sol_received),
	STATS_NAMED("sol_malformed", struct had_stats, adv.sol_malformed),
	STATS_NAMED("adv_tx_errors", struct had_stats, adv.tx_errors),
	S(snapshot_saves), S(snapshot_failures), S(snapshot_loaded),
	S(dp_rx_packets), S(dp_rx_bytes), S(dp_tunnelled), S(dp_tunnelled_bytes), S(dp_queued),
	S(dp_drop_no_binding), S(dp_drop_not_ipv4), S(dp_drop_malformed), S(dp_drop_full),
	S(dp_drop_ttl), S(dp_drop_loop), S(dp_drop_too_big), S(dp_drop_tx_error), S(dp_tx_eagain),
	S(rt_rx_packets), S(rt_rx_bytes), S(rt_drop_malformed), S(rt_drop_unknown_coa),
	S(rt_drop_spoofed), S(rt_drop_not_ipip), S(rt_drop_off), S(rt_drop_tx_error), S(dp_installs),
	S(dp_install_failures), S(dp_removals), S(dp_garp_sent),
	S(snapshot_skipped),
};

int had_ctl_register(struct had *h)
{
	h->stats_table = (struct stats_table){ &h->stats, had_stats_defs,
					       STATS_COUNT(had_stats_defs) };
	if (stats_register(h->ctl, &h->stats_table) < 0 ||
	    ctl_register(h->ctl, "bindings", "binding cache: home, care_of, remaining, spi, mode",
			 cmd_bindings, h) < 0 ||
	    ctl_register(h->ctl, "delete", "delete home=ADDR: remove a binding", cmd_delete, h) < 0 ||
	    ctl_register(h->ctl, "save", "write the binding snapshot now", cmd_save, h) < 0)
		return -1;
	return 0;
}
