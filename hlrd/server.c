/* The HLR protocol at the server: docs/protocols/hlr.md section 6, step by step.  Every
 * datagram either passes all checks and is answered, or leaves through the one drop path of
 * hlrd_handle(), which counts the reason and logs it rate-limited. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hlrd.h"
#include "roam/hlr.h"

/* ---- keys ---- */

int hlrd_keys_build(struct hlrd *h)
{
	struct hlrd_key *nk = NULL;
	size_t n = h->conf.nhosts;
	uint64_t tol = hlr_ntp_from_ms(h->conf.replay_tolerance);
	if (n > 0) {
		nk = calloc(n, sizeof(*nk));
		if (!nk)
			return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		const struct hlrd_conf_host *ch = &h->conf.hosts[i];
		struct hlrd_key *k = &nk[i];
		k->key_id = ch->key_id;
		snprintf(k->name, sizeof(k->name), "%s", ch->name ? ch->name : "");
		int r = auth_key_set(&k->key, AUTH_ALG_HMAC_SHA256, ch->key.data, ch->key.len);
		if (r < 0) {
			for (size_t j = 0; j <= i; j++)
				auth_key_wipe(&nk[j].key);
			free(nk);
			return r;
		}
		k->addresses = ch->addresses;
		k->naddresses = ch->naddresses;
		replay_ts_init(&k->replay, tol, REPLAY_TS_SLOTS);
		/* A reload must not reopen the replay window of an unchanged key: requests accepted
		 * before the reload would be accepted again. */
		const struct hlrd_key *old = hlrd_key_find(h, k->key_id);
		if (old && old->key.len == k->key.len &&
		    auth_equal(old->key.bytes, k->key.bytes, k->key.len)) {
			k->replay = old->replay;
			k->replay.tolerance = tol;
		}
	}
	hlrd_keys_free(h);
	h->keys = nk;
	h->nkeys = n;
	return 0;
}

void hlrd_keys_free(struct hlrd *h)
{
	for (size_t i = 0; i < h->nkeys; i++)
		auth_key_wipe(&h->keys[i].key);
	free(h->keys);
	h->keys = NULL;
	h->nkeys = 0;
}

struct hlrd_key *hlrd_key_find(struct hlrd *h, uint32_t key_id)
{
	for (size_t i = 0; i < h->nkeys; i++)
		if (h->keys[i].key_id == key_id)
			return &h->keys[i];
	return NULL;
}

int hlrd_key_may_update(const struct hlrd_key *k, const struct roam_ipaddr *a)
{
	for (size_t i = 0; i < k->naddresses; i++)
		if (roam_prefix_contains(&k->addresses[i], a))
			return 1;
	return 0;
}

/* ---- one request ---- */

enum hlrd_drop {
	DROP_MALFORMED,
	DROP_NOT_REQUEST,
	DROP_UNKNOWN_KEY,
	DROP_BAD_AUTH,
	DROP_STALE,
	DROP_REPLAY,
};

static uint64_t *drop_counter(struct hlrd *h, enum hlrd_drop d)
{
	switch (d) {
	case DROP_MALFORMED: return &h->stats.drop_malformed;
	case DROP_NOT_REQUEST: return &h->stats.drop_not_request;
	case DROP_UNKNOWN_KEY: return &h->stats.drop_unknown_key;
	case DROP_BAD_AUTH: return &h->stats.drop_bad_auth;
	case DROP_STALE: return &h->stats.drop_stale;
	case DROP_REPLAY: break;
	}
	return &h->stats.drop_replay;
}

static const char *const drop_names[] = {
	[DROP_MALFORMED] = "malformed", [DROP_NOT_REQUEST] = "not a request",
	[DROP_UNKNOWN_KEY] = "unknown key id", [DROP_BAD_AUTH] = "bad authenticator",
	[DROP_STALE] = "stale timestamp", [DROP_REPLAY] = "replayed timestamp",
};

/* UPDATE (hlr.md 4.1, 6 steps 10-12): fills the reply's code and lifetime. */
static void do_update(struct hlrd *h, const struct hlrd_key *k, const struct hlr_msg *m,
		      uint64_t now, struct hlr_msg *rep)
{
	char pb[ROAM_ADDRSTRLEN], cb[ROAM_ADDRSTRLEN];
	h->stats.accepted_update++;
	if (!hlr_addr_usable(&m->perm, 0) || !hlr_addr_usable(&m->coa, 1)) {
		rep->code = HLR_CODE_BAD_ADDRESS;
		h->stats.reply_bad_address++;
		return;
	}
	if (!hlrd_key_may_update(k, &m->perm)) {
		rep->code = HLR_CODE_NOT_AUTHORIZED;
		h->stats.reply_not_authorized++;
		log_rl_warnx(&h->drop_rl, "key %u may not update %s: refused", k->key_id,
			     roam_ipaddr_fmt(&m->perm, pb, sizeof(pb)));
		return;
	}
	uint32_t max_s = h->conf.max_lifetime / 1000;
	uint32_t want = (m->present & HLR_HAS_LIFETIME) ? m->lifetime
							: h->conf.default_lifetime / 1000;
	uint32_t granted = want;
	if (granted > max_s) {
		granted = max_s; /* not an error: the cap is granted (hlr.md 4.2) */
		h->stats.lifetimes_capped++;
	}
	if (granted == 0) {
		hlrd_store_delete(h, &m->perm);
		h->stats.deregistrations++;
		log_debug("deregistered %s (key %u)", roam_ipaddr_fmt(&m->perm, pb, sizeof(pb)),
			  k->key_id);
	} else {
		int created = 0;
		int r = hlrd_store_set(h, &m->perm, &m->coa, granted, k->key_id, now, &created);
		if (r < 0) {
			rep->code = HLR_CODE_NO_RESOURCES;
			h->stats.reply_no_resources++;
			log_rl_warnx(&h->drop_rl, "mapping table full (%u entries): update of %s refused",
				     h->conf.max_entries, roam_ipaddr_fmt(&m->perm, pb, sizeof(pb)));
			return;
		}
		if (created)
			h->stats.mappings_created++;
		else
			h->stats.mappings_refreshed++;
		log_debug("%s %s -> %s for %us (key %u)", created ? "registered" : "refreshed",
			  roam_ipaddr_fmt(&m->perm, pb, sizeof(pb)),
			  roam_ipaddr_fmt(&m->coa, cb, sizeof(cb)), granted, k->key_id);
	}
	rep->code = HLR_CODE_OK;
	rep->present |= HLR_HAS_LIFETIME;
	rep->lifetime = granted;
}

/* QUERY (hlr.md 4.3-4.4). */
static void do_query(struct hlrd *h, const struct hlr_msg *m, uint64_t now, struct hlr_msg *rep)
{
	h->stats.accepted_query++;
	if (!hlr_addr_usable(&m->perm, 0)) {
		rep->code = HLR_CODE_BAD_ADDRESS;
		h->stats.reply_bad_address++;
		return;
	}
	struct hlrd_entry *e = hlrd_store_lookup(h, &m->perm);
	uint32_t left = e ? hlrd_entry_remaining(e, now) : 0;
	if (left == 0) {
		rep->code = HLR_CODE_NO_MAPPING;
		rep->present |= HLR_HAS_NEG_TTL;
		rep->neg_ttl = h->conf.negative_ttl / 1000;
		h->stats.queries_no_mapping++;
		return;
	}
	rep->code = HLR_CODE_OK;
	rep->present |= HLR_HAS_COA | HLR_HAS_LIFETIME;
	rep->coa = e->coa;
	rep->lifetime = left;
	h->stats.queries_found++;
}

size_t hlrd_handle(struct hlrd *h, const uint8_t *data, size_t len, const struct roam_sockaddr *src,
		   uint64_t now, uint64_t ntp_now, uint8_t *reply)
{
	struct hlr_msg m;
	const char *why = NULL;
	enum hlrd_drop reason;
	struct hlrd_key *k;
	int r;

	h->stats.rx_packets++;
	if (hlr_decode(data, len, &m, &why) < 0) {
		reason = DROP_MALFORMED;
		goto drop;
	}
	if (m.type != HLR_UPDATE && m.type != HLR_QUERY) {
		reason = DROP_NOT_REQUEST;
		why = hlr_type_name(m.type);
		goto drop;
	}
	if (m.type == HLR_UPDATE)
		h->stats.rx_update++;
	else
		h->stats.rx_query++;
	k = hlrd_key_find(h, m.key_id);
	if (!k) {
		reason = DROP_UNKNOWN_KEY;
		why = NULL;
		goto drop;
	}
	if (hlr_verify(data, len, &k->key) < 0) {
		reason = DROP_BAD_AUTH;
		why = NULL;
		goto drop;
	}
	r = replay_ts_check(&k->replay, m.timestamp, ntp_now);
	if (r == -ERANGE) {
		reason = DROP_STALE;
		why = "outside the tolerance";
		goto drop;
	}
	if (r < 0) {
		reason = DROP_REPLAY;
		why = r == -EALREADY ? "seen before" : "older than the window";
		goto drop;
	}
	/* Only an authenticated message moves the window (hlr.md 6 step 9). */
	replay_ts_commit(&k->replay, m.timestamp, ntp_now);

	struct hlr_msg rep = {
		.type = m.type == HLR_UPDATE ? HLR_UPDATE_ACK : HLR_QUERY_REPLY,
		.txid = m.txid,
		.key_id = m.key_id,
		.timestamp = m.timestamp,
		.present = HLR_HAS_PERM,
		.perm = m.perm,
	};
	if (m.type == HLR_UPDATE)
		do_update(h, k, &m, now, &rep);
	else
		do_query(h, &m, now, &rep);

	struct wbuf w;
	wbuf_init_fixed(&w, reply, HLR_MAX_MSG);
	r = hlr_encode(&w, &rep, &k->key);
	if (r < 0) {
		/* Our own message: a bug, not the peer's fault; still nothing fatal. */
		h->stats.tx_errors++;
		log_rl_warnx(&h->drop_rl, "cannot encode %s: %s", hlr_type_name(rep.type),
			     strerror(-r));
		return 0;
	}
	return w.len;

drop:
	(*drop_counter(h, reason))++;
	{
		char sb[ROAM_ADDRSTRLEN];
		log_rl_warnx(&h->drop_rl, "drop %zu bytes from %s: %s%s%s", len,
			     src ? roam_sockaddr_fmt(src, sb, sizeof(sb)) : "?", drop_names[reason],
			     why ? ": " : "", why ? why : "");
	}
	return 0;
}

/* ---- sockets ---- */

static void hlrd_recv(struct roam_udp *u, const struct roam_udp_pkt *pkt, void *arg)
{
	struct hlrd_listener *l = arg;
	struct hlrd *h = l->h;
	uint8_t reply[HLR_MAX_MSG];
	size_t n = hlrd_handle(h, pkt->data, pkt->len, &pkt->src, uv_now(h->loop), hlr_ntp_now(),
			       reply);
	if (n == 0)
		return;
	const struct roam_ipaddr *from = pkt->dst.family ? &pkt->dst : NULL;
	if (roam_udp_send_from(u, &pkt->src, from, 0, reply, n) < 0) {
		h->stats.tx_errors++;
		char sb[ROAM_ADDRSTRLEN];
		log_rl_warnx(&h->drop_rl, "cannot send reply to %s",
			     roam_sockaddr_fmt(&pkt->src, sb, sizeof(sb)));
		return;
	}
	if (reply[1] == HLR_UPDATE_ACK)
		h->stats.tx_update_ack++;
	else
		h->stats.tx_query_reply++;
}

int hlrd_server_open(struct hlrd *h)
{
	for (size_t i = 0; i < h->conf.nlisten && i < HLRD_MAX_LISTEN; i++) {
		struct hlrd_listener *l = &h->listeners[i];
		struct roam_udp_opts o;
		char b[ROAM_ADDRSTRLEN];
		memset(&o, 0, sizeof(o));
		roam_sockaddr_set(&o.bind, &h->conf.listen[i], h->conf.port);
		/* No SO_REUSEADDR: on UDP it would let a second instance share the port. */
		o.dualstack = 0;
		/* Larger than HLR_MAX_MSG so that oversized datagrams reach the decoder and are
		 * counted as malformed like any other bad input. */
		o.bufsize = 2048;
		l->h = h;
		l->addr = o.bind;
		int r = roam_udp_open(h->loop, &o, hlrd_recv, l, &l->udp);
		if (r < 0) {
			log_warnx("listen %s: %s", roam_sockaddr_fmt(&o.bind, b, sizeof(b)),
				  strerror(-r));
			return r;
		}
		h->nlisteners = i + 1;
		log_info("listening on %s", roam_sockaddr_fmt(&o.bind, b, sizeof(b)));
	}
	return 0;
}

void hlrd_server_close(struct hlrd *h)
{
	for (size_t i = 0; i < h->nlisteners; i++) {
		roam_udp_close(h->listeners[i].udp, NULL);
		h->listeners[i].udp = NULL;
	}
	h->nlisteners = 0;
}
