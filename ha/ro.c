/* had's side of Mobile IPv4 route optimization (draft-ietf-mobileip-optim-09 under roam's type
 * numbers; docs/protocols/mipv4.md 4 and 8.4; seed 002 figures 18-24; had(8) "Route
 * optimization").
 *
 * - Binding Update (242) to the correspondents of a binding whenever a registration creates,
 *   refreshes or moves it (lifetime = the granted lifetime, CoA = the new care-of address) and
 *   with lifetime 0 when the mobile deregisters.  A binding's correspondents are the configured
 *   ones with `push` and those that asked (Binding Request) or were named by a Binding Warning.
 *   Each update carries I and an Identification (NTP timestamp, strictly increasing per
 *   correspondent), A when route_optimization.acknowledge is on, and the Route Optimization
 *   Authentication extension (35) under the HA-CN SA, last.
 * - Synchronized move (8.4): the deregistration reply had would queue behind its own data to the
 *   old care-of address rides in the first correspondent's update, in the RO relay extension
 *   (240: old care-of address + the reply's bytes); cnd queues it behind the data it already
 *   sent to the old care-of address and sends it to the old FA from there, so the mobile
 *   releases its old radio only once this correspondent's old path is drained.  Only one
 *   correspondent carries it (the first, in config order, of the binding's correspondents).
 * - Binding Request (241) from a configured correspondent (authenticated, Identification inside
 *   the tolerance and not replayed): answered with a Binding Update (remaining lifetime, or 0
 *   when there is no binding); the correspondent then gets the binding's later updates too.
 * - Binding Warning (240), not authenticated (it only triggers an authenticated update): for a
 *   bound home address and a configured correspondent as target, that correspondent gets an
 *   update and the later ones.
 * - Binding Acknowledge (243): counted (N separately); an unmatched one is counted too.
 * - Retransmission (route_optimization.acknowledge on): an update sent with A stays pending
 *   for its correspondent and home address until a Binding Acknowledge with its Identification
 *   arrives; it is re-sent after 1, 2 and 4 s (HAD_BU_RETX_*: four transmissions in all), each
 *   time with a fresh Identification (the correspondent's replay check would drop the old one),
 *   the lifetime reduced by the time passed, and the same relayed reply (the correspondent
 *   queues it behind its old path's data if the first never arrived, or forwards it at once if
 *   it did and only the acknowledge was lost).  A newer update for the same home address
 *   replaces the pending one; a Nack ends it (the correspondent refused: no use repeating). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "had.h"
#include "roam/clock.h"

static void ro_drop(struct had *h, uint64_t *counter, const struct roam_sockaddr *src,
		    const char *why)
{
	char b[ROAM_ADDRSTRLEN];
	(*counter)++;
	log_rl_warnx(&h->drop_rl, "route optimization: %s: %s",
		     roam_sockaddr_fmt(src, b, sizeof(b)), why);
}

void had_ro_free(struct had *h)
{
	for (size_t i = 0; i < h->ro.ncns; i++) {
		auth_key_wipe(&h->ro.cns[i].key);
		free(h->ro.cns[i].pend);
	}
	free(h->ro.cns);
	h->ro.cns = NULL;
	h->ro.ncns = 0;
}

int had_ro_build(struct had *h)
{
	const struct had_conf_ro *c = &h->conf.ro;
	struct had_cn *cns = calloc(c->ncns ? c->ncns : 1, sizeof(*cns));
	if (!cns)
		return -ENOMEM;
	uint64_t tol = (uint64_t)(h->conf.replay_tolerance / 1000) << 32;
	for (size_t i = 0; i < c->ncns; i++) {
		const struct had_conf_cn *f = &c->correspondents[i];
		struct had_cn *n = &cns[i];
		int r = mip4_sa_key_set(&n->key, f->algorithm, f->key.data, f->key.len);
		if (r < 0) {
			for (size_t j = 0; j < i; j++)
				auth_key_wipe(&cns[j].key);
			free(cns);
			return r;
		}
		n->addr = f->address;
		n->spi = f->spi;
		n->push = f->push;
		snprintf(n->name, sizeof(n->name), "%s", f->name && *f->name ? f->name : "cn");
		replay_ts_init(&n->replay, tol, REPLAY_TS_SLOTS);
		for (size_t j = 0; j < h->ro.ncns; j++) {
			const struct had_cn *o = &h->ro.cns[j];
			if (roam_ipaddr_eq(&o->addr, &n->addr) && o->spi == n->spi &&
			    o->key.alg == n->key.alg && o->key.len == n->key.len &&
			    memcmp(o->key.bytes, n->key.bytes, n->key.len) == 0) {
				n->replay = o->replay;
				n->replay.tolerance = tol;
				n->last_id = o->last_id;
				n->bu_sent = o->bu_sent;
				n->ba_rx = o->ba_rx;
				n->nack_rx = o->nack_rx;
				n->br_rx = o->br_rx;
				/* what it has not acknowledged yet is still owed */
				n->pend = o->pend;
				n->npend = o->npend;
				h->ro.cns[j].pend = NULL;
				h->ro.cns[j].npend = 0;
			}
		}
	}
	had_ro_free(h);
	h->ro.cns = cns;
	h->ro.ncns = c->ncns;
	return 0;
}

static struct had_cn *cn_by_addr(struct had *h, struct in_addr a, size_t *idx)
{
	for (size_t i = 0; i < h->ro.ncns; i++)
		if (h->ro.cns[i].addr.family == AF_INET && h->ro.cns[i].addr.v4.s_addr == a.s_addr) {
			if (idx)
				*idx = i;
			return &h->ro.cns[i];
		}
	return NULL;
}

static bool is_cn_of(const struct had *h, const struct binding *b, size_t i)
{
	const struct had_binding *hb = b ? b->user : NULL;
	return h->ro.cns[i].push || (hb && i < 64 && (hb->ro_requested & (1ULL << i)));
}

static void mark_requested(struct binding *b, size_t i)
{
	struct had_binding *hb = b->user;
	if (hb && i < 64)
		hb->ro_requested |= 1ULL << i;
}

static void rearm(struct had *h, uint64_t ntp_now);

static struct had_bu_pending *pend_find(struct had_cn *cn, struct in_addr home)
{
	for (size_t i = 0; i < cn->npend; i++)
		if (cn->pend[i].home.s_addr == home.s_addr)
			return &cn->pend[i];
	return NULL;
}

static void pend_remove(struct had_cn *cn, struct had_bu_pending *p)
{
	size_t i = (size_t)(p - cn->pend);
	memmove(p, p + 1, (cn->npend - i - 1) * sizeof(*p));
	cn->npend--;
}

/* Remembers the update just sent with A (id) until it is acknowledged. */
static void pend_note(struct had *h, struct had_cn *cn, struct in_addr home, struct in_addr coa,
		      uint16_t lifetime, const void *relay, size_t relay_len,
		      struct in_addr relay_dst, uint64_t id, uint64_t ntp_now)
{
	struct had_bu_pending *p = pend_find(cn, home);
	if (!p) {
		if (!cn->pend) {
			cn->pend = calloc(HAD_BU_PENDING_MAX, sizeof(*cn->pend));
			if (!cn->pend)
				return;
		}
		if (cn->npend == HAD_BU_PENDING_MAX) {
			pend_remove(cn, &cn->pend[0]); /* the oldest */
			h->ro.st.bu_pending_evicted++;
		}
		p = &cn->pend[cn->npend++];
	}
	uint64_t ms = auth_ntp_to_unix_ms(ntp_now);
	memset(p, 0, sizeof(*p));
	p->home = home;
	p->coa = coa;
	p->lifetime = lifetime;
	p->relay_dst = relay_dst;
	if (relay && relay_len <= MIP4_RO_RELAY_MAX) {
		memcpy(p->relay, relay, relay_len);
		p->relay_len = (uint8_t)relay_len;
	}
	p->tries = 1;
	p->id = id;
	p->first_ms = ms;
	p->interval_ms = HAD_BU_RETX_FIRST_MS;
	p->next_ms = ms + p->interval_ms;
	rearm(h, ntp_now);
}

/* Encodes and sends one Binding Update to cn; relay (may be NULL) rides in the relay
 * extension.  The Identification used in *id. */
static int transmit_bu(struct had *h, struct had_cn *cn, struct in_addr home, struct in_addr coa,
		       uint16_t lifetime, const void *relay, size_t relay_len,
		       struct in_addr relay_dst, uint64_t ntp_now, uint64_t *id)
{
	uint8_t buf[HAD_MAX_MSG];
	struct wbuf w;
	struct mip4_msg u;
	memset(&u, 0, sizeof(u));
	u.type = MIP4_MSG_RO_UPDATE;
	u.flags = MIP4_BU_I | (h->conf.ro.acknowledge ? MIP4_BU_A : 0);
	u.lifetime = lifetime;
	u.home = home;
	u.coa = coa;
	u.id = mip4_id_next(auth_ntp_to_unix_ms(ntp_now), 0, cn->last_id);
	u.has_id = 1;
	if (relay) {
		if (relay_len == 0 || relay_len > MIP4_RO_RELAY_MAX)
			return -EMSGSIZE;
		u.exts |= MIP4_HAS_RO_RELAY;
		u.relay = relay;
		u.relay_len = (uint8_t)relay_len;
		u.relay_dst = relay_dst;
	}
	wbuf_init_fixed(&w, buf, sizeof(buf));
	if (mip4_msg_encode(&w, &u) < 0 ||
	    mip4_auth_append(&w, 0, MIP4_AUTH_RO, cn->spi, &cn->key) < 0 || w.err) {
		h->ro.st.tx_error++;
		return -EINVAL;
	}
	struct roam_sockaddr dst;
	roam_sockaddr_set(&dst, &cn->addr, MIP4_UDP_PORT);
	int r = h->send ? h->send(h->send_arg, &dst, buf, w.len) : -ENOTCONN;
	if (r < 0) {
		h->ro.st.tx_error++;
		return r;
	}
	cn->last_id = u.id;
	cn->bu_sent++;
	h->ro.st.bu_sent++;
	if (lifetime == 0)
		h->ro.st.bu_dereg_sent++;
	*id = u.id;
	return 0;
}

/* Sends one Binding Update to cn, pending until acknowledged when we ask for that. */
static int send_bu(struct had *h, struct had_cn *cn, struct in_addr home, struct in_addr coa,
		   uint16_t lifetime, const void *relay, size_t relay_len, struct in_addr relay_dst,
		   uint64_t ntp_now)
{
	uint64_t id = 0;
	int r = transmit_bu(h, cn, home, coa, lifetime, relay, relay_len, relay_dst, ntp_now, &id);
	if (r == 0 && h->conf.ro.acknowledge)
		pend_note(h, cn, home, coa, lifetime, relay, relay_len, relay_dst, id, ntp_now);
	return r;
}

uint64_t had_ro_tick(struct had *h, uint64_t ntp_now)
{
	uint64_t ms = auth_ntp_to_unix_ms(ntp_now), next = UINT64_MAX;
	char b[ROAM_ADDRSTRLEN];
	for (size_t i = 0; i < h->ro.ncns; i++) {
		struct had_cn *cn = &h->ro.cns[i];
		for (size_t k = 0; k < cn->npend;) {
			struct had_bu_pending *p = &cn->pend[k];
			if (p->next_ms > ms) {
				if (p->next_ms < next)
					next = p->next_ms;
				k++;
				continue;
			}
			uint64_t gone_s = (ms - p->first_ms) / 1000;
			if (p->tries >= HAD_BU_RETX_TRIES ||
			    (p->lifetime && p->lifetime != 0xffff && gone_s >= p->lifetime)) {
				struct roam_ipaddr a;
				roam_ipaddr_set4(&a, p->home);
				log_rl_warnx(&h->drop_rl,
					     "route optimization: %s never acknowledged the update for %s",
					     cn->name, roam_ipaddr_fmt(&a, b, sizeof(b)));
				h->ro.st.bu_given_up++;
				pend_remove(cn, p);
				continue;
			}
			uint16_t life = p->lifetime;
			if (life && life != 0xffff)
				life = (uint16_t)(life - gone_s);
			uint64_t id = 0;
			if (transmit_bu(h, cn, p->home, p->coa, life, p->relay_len ? p->relay : NULL,
					p->relay_len, p->relay_dst, ntp_now, &id) == 0)
				p->id = id;
			h->ro.st.bu_retx++;
			p->tries++;
			p->interval_ms *= 2;
			p->next_ms = ms + p->interval_ms;
			if (p->next_ms < next)
				next = p->next_ms;
			k++;
		}
	}
	return next;
}

static void timer_cb(uv_timer_t *t)
{
	struct had *h = t->data;
	rearm(h, auth_ntp_from_unix_ms(roam_wall_ms()));
}

/* Runs what is due and arms the timer for the next retransmission (with a loop). */
static void rearm(struct had *h, uint64_t ntp_now)
{
	if (!h->loop)
		return;
	uint64_t ms = auth_ntp_to_unix_ms(ntp_now);
	uint64_t next = had_ro_tick(h, ntp_now);
	if (!h->ro.timer_init) {
		if (next == UINT64_MAX)
			return;
		uv_timer_init(h->loop, &h->ro.timer);
		h->ro.timer.data = h;
		h->ro.timer_init = true;
	}
	if (uv_is_closing((uv_handle_t *)&h->ro.timer))
		return;
	if (next == UINT64_MAX)
		uv_timer_stop(&h->ro.timer);
	else
		uv_timer_start(&h->ro.timer, timer_cb, next > ms ? next - ms : 0, 0);
}

void had_ro_close(struct had *h)
{
	if (h->ro.timer_init && !uv_is_closing((uv_handle_t *)&h->ro.timer)) {
		uv_timer_stop(&h->ro.timer);
		uv_close((uv_handle_t *)&h->ro.timer, NULL);
	}
}

int had_ro_update(struct had *h, struct binding *b, const void *drr, size_t drr_len,
		  struct in_addr drr_dst, uint64_t ntp_now)
{
	int relayed = 0;
	if (b->home.family != AF_INET || b->cur.coa.family != AF_INET)
		return 0;
	for (size_t i = 0; i < h->ro.ncns; i++) {
		if (!is_cn_of(h, b, i))
			continue;
		bool carry = drr && !relayed && h->conf.ro.relay_dereg;
		int r = send_bu(h, &h->ro.cns[i], b->home.v4, b->cur.coa.v4, b->lifetime_s,
				carry ? drr : NULL, drr_len, drr_dst, ntp_now);
		if (r == 0 && carry) {
			relayed = 1;
			h->ro.st.drr_relayed++;
		}
	}
	return relayed;
}

void had_ro_dereg(struct had *h, struct binding *b, uint64_t ntp_now)
{
	if (b->home.family != AF_INET)
		return;
	for (size_t i = 0; i < h->ro.ncns; i++)
		if (is_cn_of(h, b, i))
			send_bu(h, &h->ro.cns[i], b->home.v4, b->home.v4, 0, NULL, 0,
				(struct in_addr){ 0 }, ntp_now);
}

/* Binding Request (241) from a correspondent. */
static void request_input(struct had *h, const uint8_t *data, size_t len,
			  const struct mip4_msg *m, const struct roam_sockaddr *src, uint64_t now,
			  uint64_t ntp_now)
{
	struct roam_ipaddr sip, home;
	size_t idx = 0;
	h->ro.st.br_rx++;
	struct had_cn *cn = roam_sockaddr_addr(src, &sip, NULL) == 0 && sip.family == AF_INET ?
				    cn_by_addr(h, sip.v4, &idx) : NULL;
	if (!cn) {
		ro_drop(h, &h->ro.st.drop_unknown_cn, src, "Binding Request from a stranger");
		return;
	}
	const struct mip4_auth *a = &m->auth[MIP4_AUTH_RO];
	if (!a->present || a->spi != cn->spi || a->covered + a->mac_len != len) {
		ro_drop(h, &h->ro.st.drop_no_auth, src, "Binding Request without its RO authenticator");
		return;
	}
	if (mip4_id_check(m->id, ntp_now, h->conf.replay_tolerance / 1000) != 0) {
		ro_drop(h, &h->ro.st.drop_id_window, src, "Identification outside the tolerance");
		return;
	}
	if (replay_ts_check(&cn->replay, m->id, ntp_now) < 0) {
		ro_drop(h, &h->ro.st.drop_replay, src, "replayed Binding Request");
		return;
	}
	if (mip4_auth_verify(data, m, MIP4_AUTH_RO, &cn->key) < 0) {
		ro_drop(h, &h->ro.st.drop_auth_failed, src, "RO authentication failed");
		return;
	}
	replay_ts_commit(&cn->replay, m->id, ntp_now);
	cn->br_rx++;
	roam_ipaddr_set4(&home, m->home);
	struct binding *b = binding_lookup(&h->bc, &home);
	h->ro.st.br_answered++;
	if (!b) {
		h->ro.st.drop_no_binding++;
		send_bu(h, cn, m->home, m->home, 0, NULL, 0, (struct in_addr){ 0 }, ntp_now);
		return;
	}
	mark_requested(b, idx);
	send_bu(h, cn, m->home, b->cur.coa.v4, binding_remaining(b, now), NULL, 0,
		(struct in_addr){ 0 }, ntp_now);
}

/* Binding Warning (240): home is bound elsewhere than where target is sending. */
static void warning_input(struct had *h, const struct mip4_msg *m,
			  const struct roam_sockaddr *src, uint64_t now, uint64_t ntp_now)
{
	struct roam_ipaddr home;
	size_t idx = 0;
	h->ro.st.bw_rx++;
	struct had_cn *cn = cn_by_addr(h, m->target, &idx);
	if (!cn) {
		ro_drop(h, &h->ro.st.drop_unknown_cn, src, "Binding Warning names a stranger");
		return;
	}
	roam_ipaddr_set4(&home, m->home);
	struct binding *b = binding_lookup(&h->bc, &home);
	if (!b) {
		ro_drop(h, &h->ro.st.drop_no_binding, src, "Binding Warning for an unbound address");
		return;
	}
	mark_requested(b, idx);
	h->ro.st.bw_answered++;
	send_bu(h, cn, m->home, b->cur.coa.v4, binding_remaining(b, now), NULL, 0,
		(struct in_addr){ 0 }, ntp_now);
}

static void ack_input(struct had *h, const uint8_t *data, const struct mip4_msg *m,
		      const struct roam_sockaddr *src)
{
	struct roam_ipaddr sip;
	h->ro.st.ba_rx++;
	struct had_cn *cn = roam_sockaddr_addr(src, &sip, NULL) == 0 && sip.family == AF_INET ?
				    cn_by_addr(h, sip.v4, NULL) : NULL;
	if (!cn) {
		ro_drop(h, &h->ro.st.drop_unknown_cn, src, "Binding Acknowledge from a stranger");
		return;
	}
	const struct mip4_auth *a = &m->auth[MIP4_AUTH_RO];
	if (!a->present || a->spi != cn->spi || mip4_auth_verify(data, m, MIP4_AUTH_RO,
								 &cn->key) < 0) {
		ro_drop(h, &h->ro.st.drop_auth_failed, src, "Binding Acknowledge not authentic");
		return;
	}
	struct had_bu_pending *p = pend_find(cn, m->home);
	if (p && p->id == m->id)
		pend_remove(cn, p); /* acknowledged (a Nack too: repeating would not help) */
	else if (m->id != cn->last_id)
		h->ro.st.ba_unmatched++; /* an older update's: fine, counted */
	cn->ba_rx++;
	if (m->flags & MIP4_BA_N) {
		cn->nack_rx++;
		h->ro.st.ba_nack++;
	}
}

void had_ro_input(struct had *h, const uint8_t *data, size_t len, const struct mip4_msg *m,
		  const struct roam_sockaddr *src, uint64_t now, uint64_t ntp_now)
{
	switch (m->type) {
	case MIP4_MSG_RO_REQUEST:
		request_input(h, data, len, m, src, now, ntp_now);
		break;
	case MIP4_MSG_RO_WARNING:
		warning_input(h, m, src, now, ntp_now);
		break;
	case MIP4_MSG_RO_ACK:
		ack_input(h, data, m, src);
		break;
	default:
		ro_drop(h, &h->stats.drop_not_request, src, mip4_msg_name(m->type));
		break;
	}
}

#define ST(k) json_kv_uint(w, #k, h->ro.st.k)
void had_ro_status(struct had *h, struct json_writer *w)
{
	char b[ROAM_ADDRSTRLEN];
	json_key(w, "route_optimization");
	json_obj_begin(w);
	json_kv_bool(w, "relay_dereg", h->conf.ro.relay_dereg);
	json_kv_bool(w, "acknowledge", h->conf.ro.acknowledge);
	ST(bu_sent); ST(bu_dereg_sent); ST(drr_relayed); ST(tx_error);
	ST(ba_rx); ST(ba_nack); ST(ba_unmatched);
	ST(bu_retx); ST(bu_given_up); ST(bu_pending_evicted);
	ST(br_rx); ST(br_answered); ST(bw_rx); ST(bw_answered);
	ST(drop_unknown_cn); ST(drop_no_auth); ST(drop_auth_failed); ST(drop_replay);
	ST(drop_id_window); ST(drop_no_binding);
	json_key(w, "correspondents");
	json_arr_begin(w);
	for (size_t i = 0; i < h->ro.ncns; i++) {
		const struct had_cn *c = &h->ro.cns[i];
		json_obj_begin(w);
		json_kv_str(w, "name", c->name);
		json_kv_str(w, "address", roam_ipaddr_fmt(&c->addr, b, sizeof(b)));
		json_kv_bool(w, "push", c->push);
		json_kv_uint(w, "bu_sent", c->bu_sent);
		json_kv_uint(w, "ba_rx", c->ba_rx);
		json_kv_uint(w, "nack_rx", c->nack_rx);
		json_kv_uint(w, "br_rx", c->br_rx);
		json_kv_uint(w, "unacknowledged", c->npend);
		json_obj_end(w);
	}
	json_arr_end(w);
	json_obj_end(w);
}
#undef ST
