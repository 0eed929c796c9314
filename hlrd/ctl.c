/* Control commands of hlrd (hlrd(8) CONTROL COMMANDS): status (from the lifecycle module plus
 * hlrd_status), stats, dump, delete, flush, save. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hlrd.h"
#include "roam/clock.h"

void hlrd_status(void *arg, struct json_writer *w)
{
	struct hlrd *h = arg;
	char b[ROAM_ADDRSTRLEN];
	json_kv_uint(w, "mappings", table_count(&h->table));
	json_kv_uint(w, "max_entries", h->conf.max_entries);
	json_kv_uint(w, "hosts", h->nkeys);
	json_key(w, "listen");
	json_arr_begin(w);
	for (size_t i = 0; i < h->nlisteners; i++) {
		struct roam_sockaddr sa;
		if (roam_udp_local(h->listeners[i].udp, &sa) < 0)
			sa = h->listeners[i].addr;
		json_str(w, roam_sockaddr_fmt(&sa, b, sizeof(b)));
	}
	json_arr_end(w);
	json_kv_str(w, "snapshot", h->conf.snapshot ? h->conf.snapshot : "");
	json_kv_uint(w, "max_lifetime_s", h->conf.max_lifetime / 1000);
	json_kv_uint(w, "default_lifetime_s", h->conf.default_lifetime / 1000);
	json_kv_uint(w, "replay_tolerance_ms", h->conf.replay_tolerance);
}

struct dump_ctx {
	struct json_writer *w;
	uint64_t now;
	const struct roam_ipaddr *only;
};

static int dump_one(struct table_node *n, void *arg)
{
	struct dump_ctx *c = arg;
	const struct hlrd_entry *e = table_entry(n, struct hlrd_entry, node);
	char b[ROAM_ADDRSTRLEN];
	if (c->only && !roam_ipaddr_eq(c->only, &e->perm))
		return 0;
	json_obj_begin(c->w);
	json_kv_str(c->w, "permanent", roam_ipaddr_fmt(&e->perm, b, sizeof(b)));
	json_kv_str(c->w, "care_of", roam_ipaddr_fmt(&e->coa, b, sizeof(b)));
	json_kv_uint(c->w, "remaining", hlrd_entry_remaining(e, c->now));
	json_kv_uint(c->w, "granted", e->granted);
	json_kv_uint(c->w, "key_id", e->key_id);
	json_kv_uint(c->w, "updated_ms", e->updated_wall);
	json_obj_end(c->w);
	return 0;
}

/* dump [permanent=ADDR]: the mapping table as an array of objects. */
static int cmd_dump(void *arg, const struct json_value *args, struct json_writer *result,
		    char *err, size_t errlen)
{
	struct hlrd *h = arg;
	const char *s;
	struct roam_ipaddr only;
	int r = ctl_arg_str(args, "permanent", "", &s, err, errlen);
	if (r < 0)
		return r;
	if (*s && roam_ipaddr_parse(s, &only) < 0) {
		snprintf(err, errlen, "argument 'permanent': not an address: %s", s);
		return -EINVAL;
	}
	uint64_t now = uv_now(h->loop);
	hlrd_store_expire(h, now);
	struct dump_ctx c = { result, now, *s ? &only : NULL };
	json_arr_begin(result);
	table_foreach(&h->table, dump_one, &c);
	json_arr_end(result);
	return 0;
}

/* delete permanent=ADDR: removes one mapping (operator action). */
static int cmd_delete(void *arg, const struct json_value *args, struct json_writer *result,
		      char *err, size_t errlen)
{
	struct hlrd *h = arg;
	const char *s;
	struct roam_ipaddr a;
	int r = ctl_arg_str(args, "permanent", NULL, &s, err, errlen);
	if (r < 0)
		return r;
	if (roam_ipaddr_parse(s, &a) < 0) {
		snprintf(err, errlen, "argument 'permanent': not an address: %s", s);
		return -EINVAL;
	}
	if (!hlrd_store_delete(h, &a)) {
		snprintf(err, errlen, "no mapping for %s", s);
		return -ENOENT;
	}
	h->stats.mappings_deleted++;
	log_info("mapping of %s deleted by the operator", s);
	json_obj_begin(result);
	json_kv_uint(result, "deleted", 1);
	json_obj_end(result);
	return 0;
}

/* flush: removes every mapping. */
static int cmd_flush(void *arg, const struct json_value *args, struct json_writer *result,
		     char *err, size_t errlen)
{
	(void)args;
	(void)err;
	(void)errlen;
	struct hlrd *h = arg;
	size_t n = hlrd_store_flush(h);
	h->stats.mappings_deleted += n;
	log_info("%zu mappings flushed by the operator", n);
	json_obj_begin(result);
	json_kv_uint(result, "deleted", n);
	json_obj_end(result);
	return 0;
}

/* save: writes the snapshot now. */
static int cmd_save(void *arg, const struct json_value *args, struct json_writer *result,
		    char *err, size_t errlen)
{
	(void)args;
	struct hlrd *h = arg;
	if (!h->conf.snapshot || !*h->conf.snapshot) {
		snprintf(err, errlen, "no snapshot file configured");
		return -ENOENT;
	}
	int r = h->snap.started ? snap_timer_save_now(&h->snap) : hlrd_store_save(h);
	if (r < 0) {
		snprintf(err, errlen, "snapshot %s: %s", h->conf.snapshot, strerror(-r));
		return r;
	}
	json_obj_begin(result);
	json_kv_str(result, "snapshot", h->conf.snapshot);
	json_kv_uint(result, "mappings", table_count(&h->table));
	json_obj_end(result);
	return 0;
}

static const struct stats_def hlrd_stats_defs[] = {
	STATS_DEF(struct hlrd_stats, rx_packets),
	STATS_DEF(struct hlrd_stats, rx_update),
	STATS_DEF(struct hlrd_stats, rx_query),
	STATS_DEF(struct hlrd_stats, accepted_update),
	STATS_DEF(struct hlrd_stats, accepted_query),
	STATS_DEF(struct hlrd_stats, drop_malformed),
	STATS_DEF(struct hlrd_stats, drop_not_request),
	STATS_DEF(struct hlrd_stats, drop_unknown_key),
	STATS_DEF(struct hlrd_stats, drop_bad_auth),
	STATS_DEF(struct hlrd_stats, drop_stale),
	STATS_DEF(struct hlrd_stats, drop_replay),
	STATS_DEF(struct hlrd_stats, reply_not_authorized),
	STATS_DEF(struct hlrd_stats, reply_bad_address),
	STATS_DEF(struct hlrd_stats, reply_no_resources),
	STATS_DEF(struct hlrd_stats, tx_update_ack),
	STATS_DEF(struct hlrd_stats, tx_query_reply),
	STATS_DEF(struct hlrd_stats, tx_errors),
	STATS_DEF(struct hlrd_stats, mappings_created),
	STATS_DEF(struct hlrd_stats, mappings_refreshed),
	STATS_DEF(struct hlrd_stats, deregistrations),
	STATS_DEF(struct hlrd_stats, lifetimes_capped),
	STATS_DEF(struct hlrd_stats, queries_found),
	STATS_DEF(struct hlrd_stats, queries_no_mapping),
	STATS_DEF(struct hlrd_stats, mappings_expired),
	STATS_DEF(struct hlrd_stats, mappings_deleted),
	STATS_DEF(struct hlrd_stats, snapshot_saves),
	STATS_DEF(struct hlrd_stats, snapshot_failures),
	STATS_DEF(struct hlrd_stats, snapshot_loaded),
	STATS_DEF(struct hlrd_stats, snapshot_skipped),
};

int hlrd_ctl_register(struct hlrd *h)
{
	int r;
	h->stats_table = (struct stats_table){ &h->stats, hlrd_stats_defs,
					       STATS_COUNT(hlrd_stats_defs) };
	if ((r = stats_register(h->ctl, &h->stats_table)) < 0 ||
	    (r = ctl_register(h->ctl, "dump", "mapping table [permanent=ADDR]", cmd_dump, h)) < 0 ||
	    (r = ctl_register(h->ctl, "delete", "remove one mapping: permanent=ADDR", cmd_delete,
			      h)) < 0 ||
	    (r = ctl_register(h->ctl, "flush", "remove every mapping", cmd_flush, h)) < 0 ||
	    (r = ctl_register(h->ctl, "save", "write the snapshot now", cmd_save, h)) < 0)
		return r;
	return 0;
}
