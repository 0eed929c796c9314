/* Control commands of sipd (sipd(8) CONTROL COMMANDS): status (lifecycle module plus
 * sipd_status), stats, registrations [aor=], unregister aor=, save, transactions. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sipd.h"

#define S(f) STATS_DEF(struct sipd_stats, f)
const struct stats_def sipd_stats_defs[] = {
	S(rx_messages), S(rx_bytes), S(rx_requests), S(rx_register), S(rx_options),
	S(rx_other_methods), S(rx_retransmissions), S(drop_oversize), S(drop_unparseable),
	S(drop_response), S(drop_no_via), S(drop_ack), S(reply_200),
	S(reply_400), S(reply_401), S(reply_403), S(reply_405), S(reply_416), S(reply_420),
	S(reply_423), S(reply_481), S(reply_500), S(reply_501), S(reply_503), S(reply_other),
	S(tx_messages), S(tx_errors), S(auth_ok), S(auth_challenged), S(auth_failed),
	S(auth_stale), S(auth_replay), S(auth_unknown_user), S(auth_nonce_table_full),
	S(bindings_created), S(bindings_refreshed), S(bindings_removed), S(bindings_expired),
	S(wildcard_removals), S(cseq_out_of_order), S(registrations_ok), S(txn_cache_full),
	S(tcp_accepted), S(tcp_connected), S(tcp_refused), S(tcp_closed), S(tcp_idle_closed),
	S(tcp_framing_errors), S(keepalives), S(snapshot_saves), S(snapshot_failures),
	S(snapshot_loaded), S(snapshot_skipped),
	S(reply_100), S(reply_404), S(reply_407), S(reply_408), S(reply_480), S(reply_482),
	S(reply_483), S(reply_487), S(reply_502),
	S(proxy_rx_invite), S(proxy_rx_ack), S(proxy_rx_bye), S(proxy_rx_cancel),
	S(proxy_rx_options), S(proxy_rx_other),
	S(proxy_rx_1xx), S(proxy_rx_2xx), S(proxy_rx_3xx), S(proxy_rx_4xx), S(proxy_rx_5xx),
	S(proxy_rx_6xx),
	S(proxy_fwd_requests), S(proxy_fwd_responses), S(proxy_stateless_requests),
	S(proxy_stateless_responses), S(proxy_retransmissions), S(proxy_request_retransmissions),
	S(proxy_timeouts), S(proxy_cancels_sent), S(proxy_acks_sent), S(proxy_loops),
	S(proxy_spirals), S(proxy_txn_created), S(proxy_txn_freed),
	S(drop_proxy_stray_response), S(drop_proxy_send), S(drop_proxy_txn_full),
	S(drop_proxy_stray_ack), S(drop_proxy_bad_response),
	S(nat_claims), S(nat_claims_ok), S(nat_claims_refused_disabled),
	S(nat_claims_refused_unauthenticated), S(nat_claims_refused_bad_header),
	S(nat_claims_refused_not_yours), S(nat_claims_refused_limit),
	S(nat_pairs_installed), S(nat_pairs_removed), S(nat_pairs_reconciled),
	S(nat_install_failures),
	S(nat_peer_sent), S(nat_peer_acked), S(nat_peer_rejected), S(nat_peer_timeouts),
	S(nat_peer_retransmissions), S(nat_peer_received), S(nat_peer_refused_unknown_key),
	S(nat_peer_refused_bad_mac), S(nat_peer_refused_replay), S(nat_peer_refused_stale),
	S(nat_peer_refused_bad_body),
};
#undef S
const size_t sipd_stats_ndefs = STATS_COUNT(sipd_stats_defs);

void sipd_status(void *arg, struct json_writer *w)
{
	struct sipd *s = arg;
	char b[ROAM_ADDRSTRLEN];
	json_kv_uint(w, "aors", table_count(&s->loc.t));
	json_kv_uint(w, "bindings", s->loc.nbindings);
	json_kv_uint(w, "max_bindings", s->conf.max_bindings);
	json_kv_uint(w, "nonces", table_count(&s->digest.nonces));
	json_kv_uint(w, "transactions", table_count(&s->txns.t));
	json_kv_uint(w, "proxy_transactions", table_count(&s->proxy.txns));
	json_kv_uint(w, "tcp_connections", s->nconns);
	json_kv_str(w, "realm", s->conf.realm);
	json_kv_bool(w, "authentication", s->conf.authentication);
	json_key(w, "listen");
	json_arr_begin(w);
	for (size_t i = 0; i < s->nudp; i++) {
		struct roam_sockaddr sa;
		if (roam_udp_local(s->udp[i].udp, &sa) < 0)
			sa = s->udp[i].addr;
		char t[ROAM_ADDRSTRLEN + 8];
		snprintf(t, sizeof(t), "udp:%s", roam_sockaddr_fmt(&sa, b, sizeof(b)));
		json_str(w, t);
	}
	for (size_t i = 0; i < s->ntcp; i++) {
		char t[ROAM_ADDRSTRLEN + 8];
		snprintf(t, sizeof(t), "tcp:%s", roam_sockaddr_fmt(&s->tcp[i].addr, b, sizeof(b)));
		json_str(w, t);
	}
	json_arr_end(w);
	json_kv_str(w, "snapshot", s->conf.snapshot ? s->conf.snapshot : "");
}

struct dump_ctx {
	struct json_writer *w;
	uint64_t now;
};

static void dump_aor(struct json_writer *w, const struct sipd_aor *a, uint64_t now)
{
	char b[ROAM_ADDRSTRLEN];
	json_obj_begin(w);
	json_kv_str(w, "aor", a->key);
	json_key(w, "contacts");
	json_arr_begin(w);
	for (const struct sipd_contact *c = a->contacts; c; c = c->next) {
		json_obj_begin(w);
		json_kv_str(w, "uri", sipd_contact_uri(c));
		json_kv_uint(w, "expires", sipd_contact_remaining(c, now));
		json_kv_double(w, "q", c->q / 1000.0);
		json_kv_str(w, "call_id", sipd_contact_callid(c));
		json_kv_uint(w, "cseq", c->cseq);
		json_kv_str(w, "transport", c->transport == SIPD_TP_TCP ? "tcp" : "udp");
		struct roam_sockaddr sa;
		if (roam_sockaddr_set(&sa, &c->src, c->src_port) == 0)
			json_kv_str(w, "source", roam_sockaddr_fmt(&sa, b, sizeof(b)));
		json_kv_uint(w, "updated_ms", c->updated_wall);
		json_obj_end(w);
	}
	json_arr_end(w);
	json_obj_end(w);
}

static int dump_one(struct table_node *n, void *arg)
{
	struct dump_ctx *c = arg;
	dump_aor(c->w, table_entry(n, struct sipd_aor, node), c->now);
	return 0;
}

/* registrations [aor=sip:user@domain]: the location service as an array of AORs. */
static int cmd_registrations(void *arg, const struct json_value *args, struct json_writer *result,
			     char *err, size_t errlen)
{
	struct sipd *s = arg;
	const char *aor;
	int r = ctl_arg_str(args, "aor", "", &aor, err, errlen);
	if (r < 0)
		return r;
	uint64_t now = uv_now(s->loop);
	sipd_expire(s, now);
	json_arr_begin(result);
	if (*aor) {
		struct sipd_aor *a = sipd_loc_find(&s->loc, aor);
		if (a)
			dump_aor(result, a, now);
	} else {
		struct dump_ctx c = { result, now };
		table_foreach(&s->loc.t, dump_one, &c);
	}
	json_arr_end(result);
	return 0;
}

/* unregister aor=sip:user@domain: removes every binding of the AOR (operator action). */
static int cmd_unregister(void *arg, const struct json_value *args, struct json_writer *result,
			  char *err, size_t errlen)
{
	struct sipd *s = arg;
	const char *aor;
	int r = ctl_arg_str(args, "aor", NULL, &aor, err, errlen);
	if (r < 0)
		return r;
	size_t n = sipd_loc_remove_aor(&s->loc, aor);
	s->stats.bindings_removed += n;
	if (s->nat.npairs)
		sipd_nat_sync(s, aor, uv_now(s->loop)); /* its translation pairs go too */
	json_obj_begin(result);
	json_kv_uint(result, "removed", n);
	json_obj_end(result);
	return 0;
}

/* save: writes the snapshot now. */
static int cmd_save(void *arg, const struct json_value *args, struct json_writer *result,
		    char *err, size_t errlen)
{
	struct sipd *s = arg;
	(void)args;
	if (!s->conf.snapshot || !*s->conf.snapshot) {
		snprintf(err, errlen, "no snapshot file configured");
		return -ENOENT;
	}
	int r = s->snap.started ? snap_timer_save_now(&s->snap) : sipd_save(s);
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", s->conf.snapshot, strerror(-r));
		return r;
	}
	json_obj_begin(result);
	json_kv_uint(result, "bindings", s->loc.nbindings);
	json_obj_end(result);
	return 0;
}

/* transactions: the proxy's server transactions with their branches. */
static int cmd_transactions(void *arg, const struct json_value *args, struct json_writer *result,
			    char *err, size_t errlen)
{
	struct sipd *s = arg;
	(void)args;
	(void)err;
	(void)errlen;
	sipd_proxy_dump(s, result, uv_now(s->loop));
	return 0;
}

/* nat: the translation pairs sipd installed (NAT continuity, sip-mobility.md 4). */
static int cmd_nat(void *arg, const struct json_value *args, struct json_writer *result,
		   char *err, size_t errlen)
{
	struct sipd *s = arg;
	(void)args;
	(void)err;
	(void)errlen;
	uint64_t now = uv_now(s->loop);
	char b[ROAM_ADDRSTRLEN];
	json_arr_begin(result);
	for (size_t i = 0; i < s->nat.npairs; i++) {
		const struct sipd_nat_pair *p = &s->nat.pairs[i];
		json_obj_begin(result);
		json_kv_str(result, "tag", p->tag);
		json_kv_str(result, "origin", p->origin == SIPD_NAT_LOCAL ? "binding" : "peer");
		json_kv_str(result, "role", p->role == SIPD_NAT_ROLE_NEW_HOP ? "new-hop" : "cn-hop");
		json_kv_str(result, "old", roam_ipaddr_fmt(&p->old, b, sizeof(b)));
		json_kv_str(result, "new", roam_ipaddr_fmt(&p->new, b, sizeof(b)));
		json_kv_str(result, "aor", p->aor);
		if (p->origin == SIPD_NAT_LOCAL)
			json_kv_str(result, "contact", p->uri);
		else
			json_kv_str(result, "peer", p->peer);
		json_kv_uint(result, "expires", p->expires > now ? (p->expires - now + 999) / 1000 : 0);
		json_obj_end(result);
	}
	json_arr_end(result);
	return 0;
}

int sipd_ctl_register(struct sipd *s)
{
	s->stats_table = (struct stats_table){ &s->stats, sipd_stats_defs, sipd_stats_ndefs };
	if (stats_register(s->ctl, &s->stats_table) < 0 ||
	    ctl_register(s->ctl, "registrations", "the location service [aor=sip:user@domain]",
			 cmd_registrations, s) < 0 ||
	    ctl_register(s->ctl, "unregister", "remove every binding of aor=sip:user@domain",
			 cmd_unregister, s) < 0 ||
	    ctl_register(s->ctl, "save", "write the snapshot now", cmd_save, s) < 0 ||
	    ctl_register(s->ctl, "transactions", "the proxy transactions and their branches",
			 cmd_transactions, s) < 0 ||
	    ctl_register(s->ctl, "nat", "the NAT continuity translation pairs installed",
			 cmd_nat, s) < 0)
		return -1;
	return 0;
}
