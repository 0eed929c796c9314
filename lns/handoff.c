/* The LNS side of the L2TP handoff (docs/protocols/l2tp-handoff.md; seed 000, US
 * 2003/0224792, figures 5 and 6: the "connection table" of the tunnel endpoint server).
 *
 *   established call --CDN with Handoff Cause, authenticated tunnel--> parked (keyed by MIN)
 *   parked --hold_time--> released (address back to the pool, route removed)
 *   parked --ICRQ with Handoff Request (tunnel authenticated, MIN parked, old ids match)-->
 *          ICRP Handoff Accepted --ICCN whose Proxy Authen verifies--> resumed on the new
 *          session: PPP imported (not renegotiated), data Ns/Nr continued, buffered packets sent
 *
 * Every refusal (l2tp-handoff.md 2.4) is counted and logged and leaves the parked call as it
 * was.  Packets the TUN device delivers for a parked mobile are buffered (handoff.buffer) and
 * sent on resume, or dropped and counted.  The parked calls are kept in a snapshot
 * (roam/snapshot.h, kind "lnsd/1") written whenever they change, so they survive a restart;
 * deadlines are stored in wall-clock time. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lnsd.h"
#include "roam/clock.h"

#define LNSD_SNAP_KIND   "lnsd/1"
#define LNSD_SNAP_PARKED 1 /* record type: one parked call */

static const char *const reason_names[LNSD_HO_REASONS] = {
	"", "unknown MIN", "tunnel not authenticated", "old ids do not match", "disabled",
	"mobile authentication failed",
};
static const char *const reason_keys[LNSD_HO_REASONS] = {
	"", "handoffs_refused_unknown_min", "handoffs_refused_not_authenticated",
	"handoffs_refused_mismatch", "handoffs_refused_disabled", "handoffs_refused_mobile_auth",
};

static void addr_str(uint32_t a, char *b, size_t n)
{
	snprintf(b, n, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

static void pkts_free(struct lnsd *h, struct lnsd_parked *p)
{
	while (p->pkts) {
		struct lnsd_pkt *k = p->pkts;
		p->pkts = k->next;
		h->hstats.park_discarded++;
		free(k);
	}
	p->pkts_tail = &p->pkts;
	p->npkts = 0;
	p->pkts_bytes = 0;
}

/* Unlinks p and frees it; release: its address goes back to the pool and its route away. */
static void parked_free(struct lnsd *h, struct lnsd_parked *p, bool release)
{
	if (table_node_linked(&p->node))
		table_remove(&h->parked, &p->node);
	if (table_node_linked(&p->anode))
		table_remove(&h->parked_by_addr, &p->anode);
	if (release)
		lnsd_ppp_addr_drop(h, p->addr, p->route);
	pkts_free(h, p);
	explicit_bzero(&p->ppp, sizeof(p->ppp));
	free(p);
}

static void changed(struct lnsd *h)
{
	h->ho_dirty = true;
	if (!h->conf.handoff.snapshot || !*h->conf.handoff.snapshot)
		return;
	if (h->snap.started)
		snap_timer_save_now(&h->snap);
	else
		lnsd_handoff_save(h);
}

static void expire_cb(struct table *t, struct table_node *n, void *arg)
{
	(void)t;
	struct lnsd *h = arg;
	struct lnsd_parked *p = table_entry(n, struct lnsd_parked, node);
	char b[16];
	addr_str(p->addr, b, sizeof(b));
	log_info("MIN %s (%s, %s): hold time over, parked call released (%u packets dropped)",
		 p->min, p->ppp.peer_name, b, p->npkts);
	h->hstats.park_expired++;
	parked_free(h, p, true);
	changed(h);
}

static void free_cb(struct table *t, struct table_node *n, void *arg)
{
	(void)t;
	/* shutdown or tests: the address is not given back (the snapshot keeps the call) */
	parked_free(arg, table_entry(n, struct lnsd_parked, node), false);
}

int lnsd_handoff_init(struct lnsd *h)
{
	int r;
	if (h->ho_ready)
		return 0;
	if ((r = table_init(&h->parked, expire_cb, free_cb, h)) < 0)
		return r;
	if ((r = table_init(&h->parked_by_addr, NULL, NULL, h)) < 0) {
		table_destroy(&h->parked);
		return r;
	}
	h->ho_ready = true;
	return 0;
}

void lnsd_handoff_destroy(struct lnsd *h)
{
	if (!h->ho_ready)
		return;
	table_destroy(&h->parked_by_addr); /* unlinks only */
	table_destroy(&h->parked);         /* frees */
	h->ho_ready = false;
}

static struct lnsd_parked *find(struct lnsd *h, const char *min)
{
	struct table_node *n = h->ho_ready ? table_lookup(&h->parked, min, strlen(min)) : NULL;
	return n ? table_entry(n, struct lnsd_parked, node) : NULL;
}

/* Links p (min, addr and expires set), replacing a call parked under the same MIN. */
static int park_insert(struct lnsd *h, struct lnsd_parked *p)
{
	struct lnsd_parked *old = find(h, p->min);
	int r;
	if (old) {
		log_info("MIN %s: parked again, the previous parked call is released", p->min);
		h->hstats.park_replaced++;
		parked_free(h, old, true);
	}
	p->pkts_tail = &p->pkts;
	if ((r = table_insert(&h->parked, &p->node, p->min, strlen(p->min))) < 0)
		return r;
	table_set_expiry(&h->parked, &p->node, p->expires);
	uint32_t n = htonl(p->addr);
	memcpy(p->akey, &n, 4);
	if ((r = table_insert(&h->parked_by_addr, &p->anode, p->akey, 4)) < 0) {
		table_remove(&h->parked, &p->node);
		return r;
	}
	return 0;
}

static bool seq_ahead(uint16_t a, uint16_t b) /* a after b (RFC 2661 5.8 arithmetic) */
{
	uint16_t d = (uint16_t)(a - b);
	return d != 0 && d < 0x8000;
}

/* ---- what was sent lately (handoff.resend_window) ---- */

static void recent_pop(struct lnsd_session *s)
{
	struct lnsd_pkt *k = s->recent;
	s->recent = k->next;
	if (!s->recent)
		s->recent_tail = &s->recent;
	s->nrecent--;
	s->recent_bytes -= k->len;
	free(k);
}

void lnsd_handoff_session_free(struct lnsd *h, struct lnsd_session *s)
{
	while (s->recent)
		recent_pop(s);
	while (s->backlog) {
		struct lnsd_pkt *k = s->backlog;
		s->backlog = k->next;
		h->hstats.park_discarded++;
		free(k);
	}
	s->backlog_tail = &s->backlog;
	s->nbacklog = 0;
	s->backlog_bytes = 0;
}

static bool keeps_recent(const struct lnsd *h, const struct lnsd_session *s)
{
	return h->conf.handoff.enabled && h->conf.handoff.resend_window && h->ho_ready &&
	       s->s.data_seq && s->calling[0] && l2tp_min_valid(s->calling) == 0;
}

/* k (len set) sent with data Ns ns at now: kept in s's recent list, or freed. */
static void recent_push(struct lnsd *h, struct lnsd_session *s, struct lnsd_pkt *k, uint16_t ns,
			uint64_t now)
{
	const struct lnsd_conf_handoff *c = &h->conf.handoff;
	if (!s->recent_tail)
		s->recent_tail = &s->recent;
	/* Bounded like the park buffer it may end in: time, packets, bytes. */
	while (s->recent && (s->recent->sent + c->resend_window < now || s->nrecent >= c->buffer ||
			     s->recent_bytes + k->len > c->buffer_bytes))
		recent_pop(s);
	if (s->nrecent >= c->buffer || k->len > c->buffer_bytes) {
		free(k);
		return;
	}
	k->next = NULL;
	k->sent = now;
	k->ns = ns;
	*s->recent_tail = k;
	s->recent_tail = &k->next;
	s->nrecent++;
	s->recent_bytes += k->len;
}

void lnsd_handoff_sent(struct lnsd *h, struct lnsd_session *s, uint16_t ns, const uint8_t *pkt,
		       size_t len, uint64_t now)
{
	if (!keeps_recent(h, s))
		return;
	struct lnsd_pkt *k = malloc(sizeof(*k) + len);
	if (!k)
		return;
	k->len = len;
	memcpy(k->data, pkt, len);
	recent_push(h, s, k, ns, now);
}

/* ---- a resumed call's backlog, paced (handoff.resume_rate) ---- */

int lnsd_handoff_backlog_add(struct lnsd *h, struct lnsd_session *s, const uint8_t *pkt,
			     size_t len)
{
	struct lnsd_pkt *k = NULL;
	if (s->nbacklog >= h->conf.handoff.buffer ||
	    s->backlog_bytes + len > h->conf.handoff.buffer_bytes ||
	    !(k = malloc(sizeof(*k) + len))) {
		h->hstats.park_dropped++;
		return 1;
	}
	k->next = NULL;
	k->len = len;
	memcpy(k->data, pkt, len);
	*s->backlog_tail = k;
	s->backlog_tail = &k->next;
	s->nbacklog++;
	s->backlog_bytes += len;
	h->hstats.park_buffered++;
	return 1;
}

struct drain_walk {
	struct lnsd *h;
	uint64_t now;
	uint32_t budget;
	bool left;
};

static int drain_cb(struct table_node *n, void *arg)
{
	struct drain_walk *wk = arg;
	struct lnsd *h = wk->h;
	struct lnsd_session *s = (struct lnsd_session *)(void *)table_entry(n, struct l2tp_session,
									     node);
	for (uint32_t i = 0; s->backlog && i < wk->budget; i++) {
		struct lnsd_pkt *k = s->backlog;
		s->backlog = k->next;
		if (!s->backlog)
			s->backlog_tail = &s->backlog;
		s->nbacklog--;
		s->backlog_bytes -= k->len;
		uint16_t ns = s->s.data_ns;
		if (s->ppp && ppp_send_ip(s->ppp, k->data, k->len) == 0) {
			s->tx_ip++;
			h->pstats.tx_ip++;
			h->hstats.park_flushed++;
			if (keeps_recent(h, s)) {
				recent_push(h, s, k, ns, wk->now);
				continue;
			}
		} else {
			h->pstats.drop_send++;
		}
		free(k);
	}
	if (s->backlog)
		wk->left = true;
	return 0;
}

bool lnsd_handoff_drain(struct lnsd *h, uint64_t now)
{
	struct drain_walk wk = { h, now, 0, false };
	uint64_t el = now > h->drain_last ? now - h->drain_last : 1;
	uint64_t budget = el * h->conf.handoff.resume_rate / 1000;
	h->drain_last = now;
	wk.budget = budget < 1 ? 1 : budget > 4096 ? 4096 : (uint32_t)budget;
	if (!h->ep.tables_ready)
		return false;
	table_foreach(&h->ep.sessions, drain_cb, &wk);
	return wk.left;
}

/* The packets sent from Ns nr on (what the old LAC had not received when it sent its handoff
 * CDN: lost in flight) go first into p's buffer, in order. */
static uint32_t recent_to_parked(struct lnsd *h, struct lnsd_session *s, uint16_t nr,
				 struct lnsd_parked *p)
{
	uint32_t n = 0;
	while (s->recent) {
		struct lnsd_pkt *k = s->recent;
		if ((uint16_t)(k->ns - nr) >= 0x8000 || p->npkts >= h->conf.handoff.buffer ||
		    p->pkts_bytes + k->len > h->conf.handoff.buffer_bytes) {
			recent_pop(s); /* received by the old LAC (or no room) */
			continue;
		}
		s->recent = k->next;
		if (!s->recent)
			s->recent_tail = &s->recent;
		s->nrecent--;
		s->recent_bytes -= k->len;
		k->next = NULL;
		*p->pkts_tail = k;
		p->pkts_tail = &k->next;
		p->npkts++;
		p->pkts_bytes += k->len;
		n++;
	}
	h->hstats.park_resent += n;
	return n;
}

/* ---- leaving: CDN with the Handoff Cause (seed figure 5) ---- */

int lnsd_handoff_cdn(struct lnsd *h, struct lnsd_session *s, const struct l2tp_msg *m,
		     uint64_t now)
{
	struct l2tp_tunnel *t = s->s.t;
	const char *why = NULL;
	char b[16];

	if (!(m->ho_avps & L2TP_HO_BIT(L2TP_HO_AVP_CAUSE)))
		return 0;
	h->hstats.handoff_cdn++;
	if (!h->conf.handoff.enabled || !h->ho_ready)
		why = "handoff disabled";
	else if (m->ho_cause.cause != L2TP_HO_CAUSE_MOBILE_LOST)
		why = "unknown handoff cause";
	else if (!t->authenticated)
		why = "tunnel not authenticated";
	else if (l2tp_min_valid(s->calling) < 0)
		why = "the call's Calling Number is not a MIN";
	else if (strcmp(m->ho_cause.min, s->calling) != 0)
		why = "Handoff Cause MIN differs from the call's Calling Number";
	else if (s->s.state != LNSD_S_ESTABLISHED || !s->ppp || s->ppp_dead ||
		 !ppp_is_up(s->ppp))
		why = "PPP not up";
	struct lnsd_parked *p = why ? NULL : calloc(1, sizeof(*p));
	if (!why && !p)
		why = "out of memory";
	if (why) {
		h->hstats.park_refused++;
		log_info("tunnel %u session %u (MIN %s): handoff CDN, call not parked: %s", t->id,
			 s->s.id, *s->calling ? s->calling : "-", why);
		return 0;
	}
	memcpy(p->min, s->calling, strlen(s->calling) + 1); /* valid MIN: fits */
	p->old_tunnel_id = t->peer_id;
	p->old_session_id = s->s.peer_id;
	p->lns_tunnel_id = t->id;
	p->lns_session_id = s->s.id;
	snprintf(p->lac, sizeof(p->lac), "%s", t->host_name);
	snprintf(p->called, sizeof(p->called), "%s", s->called);
	p->data_seq = s->s.data_seq;
	p->data_ns = s->s.data_ns;
	p->data_nr = s->s.data_nr;
	/* Data the old LAC sent that never arrived: the new LAC continues after it. */
	if ((m->ho_avps & L2TP_HO_BIT(L2TP_HO_AVP_CALL_STATE)) &&
	    seq_ahead(m->ho_state.data_ns, p->data_nr))
		p->data_nr = m->ho_state.data_ns;
	if (lnsd_ppp_park(h, s, p) < 0) {
		free(p);
		h->hstats.park_refused++;
		log_info("tunnel %u session %u (MIN %s): handoff CDN, call not parked: PPP not up",
			 t->id, s->s.id, s->calling);
		return 0;
	}
	p->parked_wall = roam_wall_ms();
	p->expires = now + h->conf.handoff.hold_time;
	if (park_insert(h, p) < 0) {
		lnsd_ppp_addr_drop(h, p->addr, p->route);
		parked_free(h, p, false);
		h->hstats.park_refused++;
		return 0;
	}
	h->hstats.handoffs_parked++;
	/* What we sent that the old LAC had not received when it sent the CDN (its Data Nr):
	 * in flight towards it, dropped there.  Sent again on resume, before anything newer. */
	uint32_t resent = 0;
	if ((m->ho_avps & L2TP_HO_BIT(L2TP_HO_AVP_CALL_STATE)) && s->s.data_seq)
		resent = recent_to_parked(h, s, m->ho_state.data_nr, p);
	/* then what a previous handoff left unsent (never sent: after all of those) */
	while (s->backlog && p->npkts < h->conf.handoff.buffer &&
	       p->pkts_bytes + s->backlog->len <= h->conf.handoff.buffer_bytes) {
		struct lnsd_pkt *k = s->backlog;
		s->backlog = k->next;
		s->nbacklog--;
		s->backlog_bytes -= k->len;
		k->next = NULL;
		*p->pkts_tail = k;
		p->pkts_tail = &k->next;
		p->npkts++;
		p->pkts_bytes += k->len;
	}
	lnsd_handoff_session_free(h, s);
	addr_str(p->addr, b, sizeof(b));
	log_info("tunnel %u session %u (MIN %s, %s, %s): handoff, call parked for %u ms "
		 "(LAC %s ids %u/%u, data Ns %u Nr %u, %u packets in flight to the LAC kept)",
		 t->id, s->s.id, p->min, p->ppp.peer_name, b, h->conf.handoff.hold_time, p->lac,
		 p->old_tunnel_id, p->old_session_id, p->data_ns, p->data_nr, resent);
	changed(h);
	return 1;
}

/* ---- arriving: ICRQ with Handoff Request, ICCN (seed figure 6) ---- */

static void refused(struct lnsd *h, struct l2tp_tunnel *t, const char *min, int reason)
{
	h->hstats.handoffs_refused++;
	h->hstats.refused[reason]++;
	log_warnx("tunnel %u (%s): handoff of MIN %s refused: %s", t->id, t->host_name,
		  *min ? min : "-", reason_names[reason]);
}

static void call_state_of(const struct lnsd_parked *p, uint16_t nr, struct l2tp_call_state *cs)
{
	memset(cs, 0, sizeof(*cs));
	cs->data_ns = p->data_ns;
	cs->data_nr = nr;
	cs->ppp_phase = PPP_PHASE_NETWORK;
	cs->ppp_flags = L2TP_PPP_LCP_OPENED | L2TP_PPP_AUTH_DONE | L2TP_PPP_IPCP_OPENED |
			(p->data_seq ? L2TP_PPP_DATA_SEQ : 0);
	cs->mru = p->ppp.mru_send;
	cs->accm_send = p->ppp.accm_send;
	cs->accm_recv = p->ppp.accm_recv;
	cs->auth_proto = p->ppp.auth_proto;
	cs->mobile_addr = p->addr;
}

void lnsd_handoff_icrq(struct lnsd *h, struct lnsd_session *s, const struct l2tp_msg *m,
		       struct l2tp_msg *r, uint64_t now)
{
	struct l2tp_tunnel *t = s->s.t;
	const struct l2tp_ho_request *q = &m->ho_request;
	struct lnsd_parked *p = NULL;
	int reason = 0;

	if (!(m->ho_avps & L2TP_HO_BIT(L2TP_HO_AVP_REQUEST)))
		return;
	h->hstats.handoffs_requested++;
	/* The order of l2tp-handoff.md 3 and 5: who asks, then what. */
	if (!h->conf.handoff.enabled || !h->ho_ready)
		reason = L2TP_HO_REFUSE_DISABLED;
	else if (!t->authenticated)
		reason = L2TP_HO_REFUSE_NOT_AUTHENTICATED;
	else if (!(p = find(h, q->min)) || p->expires <= now)
		reason = L2TP_HO_REFUSE_UNKNOWN_MIN;
	else if (p->old_tunnel_id != q->old_tunnel_id || p->old_session_id != q->old_session_id ||
		 (*s->calling && strcmp(s->calling, q->min) != 0))
		reason = L2TP_HO_REFUSE_MISMATCH;
	if (reason) {
		refused(h, t, q->min, reason);
		r->ho_avps |= L2TP_HO_BIT(L2TP_HO_AVP_REFUSED);
		r->ho_refused.reason = (uint16_t)reason;
		return;
	}
	s->ho_pending = true;
	snprintf(s->ho_min, sizeof(s->ho_min), "%s", q->min);
	s->ho_old_tunnel = q->old_tunnel_id;
	s->ho_old_session = q->old_session_id;
	s->ho_has_nr = (m->ho_avps & L2TP_HO_BIT(L2TP_HO_AVP_CALL_STATE)) != 0;
	s->ho_nr = s->ho_has_nr ? m->ho_state.data_ns : p->data_nr;
	h->hstats.handoffs_accepted++;
	r->ho_avps |= L2TP_HO_BIT(L2TP_HO_AVP_ACCEPTED) | L2TP_HO_BIT(L2TP_HO_AVP_CALL_STATE);
	r->ho_accepted.old_tunnel_id = q->old_tunnel_id;
	r->ho_accepted.old_session_id = q->old_session_id;
	call_state_of(p, s->ho_nr, &r->ho_state);
	log_info("tunnel %u session %u: handoff of MIN %s accepted (from LAC %s ids %u/%u), "
		 "waiting for ICCN", t->id, s->s.id, q->min, p->lac, q->old_tunnel_id,
		 q->old_session_id);
}

/* A refusal after ICRP: CDN Result 2 Error 6 with Handoff Refused; s is freed. */
static void refuse_cdn(struct lnsd *h, struct lnsd_session *s, int reason, uint64_t now)
{
	struct l2tp_tunnel *t = s->s.t;
	refused(h, t, s->ho_min, reason);
	struct l2tp_msg *c = l2tp_ep_msg(&h->ep, L2TP_MSG_CDN, s->s.peer_id);
	c->avps = L2TP_AVP_BIT(L2TP_AVP_RESULT_CODE) | L2TP_AVP_BIT(L2TP_AVP_ASSIGNED_SESSION_ID);
	c->assigned_session_id = s->s.id;
	l2tp_result_set(&c->result, L2TP_CDN_GENERAL_ERROR, L2TP_ERR_VENDOR, "handoff refused");
	c->ho_avps = L2TP_HO_BIT(L2TP_HO_AVP_REFUSED);
	c->ho_refused.reason = (uint16_t)reason;
	l2tp_tunnel_send(t, c, now);
	h->stats.sessions_closed_local++;
	l2tp_session_free(&s->s);
}

int lnsd_handoff_iccn(struct lnsd *h, struct lnsd_session *s, const struct l2tp_msg *m,
		      uint64_t now)
{
	char b[16];
	int r;
	if (!s->ho_pending)
		return 1;
	s->ho_pending = false;
	struct lnsd_parked *p = find(h, s->ho_min);
	if (!p || p->expires <= now) {
		refuse_cdn(h, s, L2TP_HO_REFUSE_UNKNOWN_MIN, now);
		return -EACCES;
	}
	if (p->old_tunnel_id != s->ho_old_tunnel || p->old_session_id != s->ho_old_session) {
		refuse_cdn(h, s, L2TP_HO_REFUSE_MISMATCH, now); /* parked again meanwhile */
		return -EACCES;
	}
	/* The mobile proves its identity on the new access link (Proxy Authen, RFC 2661 4.4.5).
	 * A call that was never authenticated (ppp.auth none) has nothing to prove. */
	if (p->ppp.auth_proto &&
	    (r = lnsd_ppp_verify_proxy(h, p->ppp.peer_name, p->ppp.auth_proto, m)) < 0) {
		refuse_cdn(h, s, L2TP_HO_REFUSE_MOBILE_AUTH, now);
		return -EACCES;
	}
	h->ep.now = now;
	if ((r = lnsd_ppp_resume(h, s, p, now)) < 0) {
		log_warnx("session %u: MIN %s: cannot resume: %s", s->s.id, p->min, strerror(-r));
		lnsd_session_close(h, &s->s, L2TP_CDN_NO_FACILITIES_TEMP, L2TP_ERR_RESOURCES,
				   "cannot resume the parked call", now);
		return -EACCES;
	}
	s->ho_resumed = true;
	s->s.data_seq = p->data_seq || s->seq_required;
	s->s.data_ns = p->data_ns;
	s->s.data_nr = s->ho_nr;
	/* What the kernel routed to the mobile meanwhile, in order, before anything newer (which
	 * queues behind it), paced at handoff.resume_rate: a burst of hundreds of packets at
	 * once would overflow the socket buffers of the LAC and of the mobile's access link. */
	uint32_t flushed = p->npkts;
	if (p->pkts) {
		if (!s->backlog_tail)
			s->backlog_tail = &s->backlog;
		*s->backlog_tail = p->pkts;
		s->backlog_tail = p->pkts_tail;
		s->nbacklog += p->npkts;
		s->backlog_bytes += p->pkts_bytes;
		p->pkts = NULL;
		p->pkts_tail = &p->pkts;
		p->npkts = 0;
		p->pkts_bytes = 0;
	}
	h->hstats.handoffs_resumed++;
	addr_str(s->addr, b, sizeof(b));
	log_info("tunnel %u session %u (MIN %s, %s, %s): handoff from LAC %s resumed after %llu ms, "
		 "PPP not renegotiated, data Ns %u Nr %u, %u buffered packets to send",
		 s->s.t->id, s->s.id, p->min, p->ppp.peer_name, b, p->lac,
		 (unsigned long long)(roam_wall_ms() - p->parked_wall), s->s.data_ns, s->s.data_nr,
		 flushed);
	parked_free(h, p, false); /* the address and route now belong to s */
	changed(h);
	if (s->backlog)
		lnsd_ppp_drain_arm(h);
	return 0;
}

/* ---- data for a parked mobile ---- */

int lnsd_handoff_from_tun(struct lnsd *h, const uint8_t *pkt, size_t len)
{
	if (!h->ho_ready || len < 20)
		return 0;
	struct table_node *n = table_lookup(&h->parked_by_addr, pkt + 16, 4);
	if (!n)
		return 0;
	struct lnsd_parked *p = table_entry(n, struct lnsd_parked, anode);
	struct lnsd_pkt *k = NULL;
	if (p->npkts >= h->conf.handoff.buffer ||
	    p->pkts_bytes + len > h->conf.handoff.buffer_bytes ||
	    !(k = malloc(sizeof(*k) + len))) {
		h->hstats.park_dropped++;
		p->pkts_dropped++;
		return 1;
	}
	k->next = NULL;
	k->len = len;
	memcpy(k->data, pkt, len);
	*p->pkts_tail = k;
	p->pkts_tail = &k->next;
	p->npkts++;
	p->pkts_bytes += len;
	h->hstats.park_buffered++;
	return 1;
}

void lnsd_handoff_run_timers(struct lnsd *h, uint64_t now)
{
	if (h->ho_ready)
		table_expire(&h->parked, now);
}

/* ---- snapshot ---- */

static void put_str8(struct wbuf *w, const char *s)
{
	size_t n = strlen(s);
	wbuf_put_u8(w, (uint8_t)n);
	wbuf_put_bytes(w, s, n);
}

static int get_str8(struct rbuf *r, char *dst, size_t size)
{
	uint8_t n;
	if (rbuf_get_u8(r, &n) < 0 || n >= size || rbuf_get_bytes(r, dst, n) < 0 ||
	    memchr(dst, 0, n))
		return -EBADMSG;
	dst[n] = 0;
	return 0;
}

/* Record layout (lnsd(8) FILES): MIN (u8 length + digits), old tunnel id, old session id,
 * our tunnel id, our session id (u16 each), address (u32), flags (u8: 0x01 data sequencing),
 * data Ns, data Nr (u16), parked at and expires (u64 wall ms), LAC host name and called number
 * (u8 length + bytes), PPP state (u16 length + ppp_state_encode). */
int lnsd_parked_encode(struct wbuf *w, const struct lnsd_parked *p, uint64_t expires_wall)
{
	if (l2tp_min_valid(p->min) < 0 || strlen(p->lac) > 255 || strlen(p->called) > 255)
		return -EINVAL;
	put_str8(w, p->min);
	wbuf_put_u16(w, p->old_tunnel_id);
	wbuf_put_u16(w, p->old_session_id);
	wbuf_put_u16(w, p->lns_tunnel_id);
	wbuf_put_u16(w, p->lns_session_id);
	wbuf_put_u32(w, p->addr);
	wbuf_put_u8(w, p->data_seq ? 1 : 0);
	wbuf_put_u16(w, p->data_ns);
	wbuf_put_u16(w, p->data_nr);
	wbuf_put_u64(w, p->parked_wall);
	wbuf_put_u64(w, expires_wall);
	put_str8(w, p->lac);
	put_str8(w, p->called);
	size_t at = wbuf_reserve(w, 2);
	size_t before = w->len;
	int r = ppp_state_encode(w, &p->ppp);
	if (r < 0)
		return r;
	wbuf_patch_u16(w, at, (uint16_t)(w->len - before));
	return w->err ? w->err : 0;
}

int lnsd_parked_decode(struct rbuf *r, struct lnsd_parked *p, uint64_t *expires_wall)
{
	uint8_t flags;
	uint16_t plen;
	struct rbuf sub;
	memset(p, 0, sizeof(*p));
	if (get_str8(r, p->min, sizeof(p->min)) < 0 || l2tp_min_valid(p->min) < 0 ||
	    rbuf_get_u16(r, &p->old_tunnel_id) < 0 || rbuf_get_u16(r, &p->old_session_id) < 0 ||
	    rbuf_get_u16(r, &p->lns_tunnel_id) < 0 || rbuf_get_u16(r, &p->lns_session_id) < 0 ||
	    rbuf_get_u32(r, &p->addr) < 0 || rbuf_get_u8(r, &flags) < 0 || (flags & ~1u) ||
	    rbuf_get_u16(r, &p->data_ns) < 0 || rbuf_get_u16(r, &p->data_nr) < 0 ||
	    rbuf_get_u64(r, &p->parked_wall) < 0 || rbuf_get_u64(r, expires_wall) < 0 ||
	    get_str8(r, p->lac, sizeof(p->lac)) < 0 ||
	    get_str8(r, p->called, sizeof(p->called)) < 0 || rbuf_get_u16(r, &plen) < 0 ||
	    rbuf_sub(r, plen, &sub) < 0 || ppp_state_decode(&sub, &p->ppp) < 0 ||
	    rbuf_left(r) != 0)
		goto bad;
	p->data_seq = flags & 1;
	/* only what can be resumed: an opened call of ours with an address */
	if (!p->addr || p->ppp.role != PPP_ROLE_AUTHENTICATOR ||
	    p->ppp.phase != PPP_PHASE_NETWORK || !p->ppp.ipcp_opened || !p->ppp.authenticated)
		goto bad;
	return 0;
bad:
	memset(p, 0, sizeof(*p));
	return -EBADMSG;
}

struct save_ctx {
	struct snap_writer *w;
	uint64_t mono, wall;
	int err;
};

static int save_one(struct table_node *n, void *arg)
{
	struct save_ctx *c = arg;
	const struct lnsd_parked *p = table_entry(n, struct lnsd_parked, node);
	uint8_t buf[256 + PPP_STATE_ENC_MAX + 512];
	struct wbuf w;
	uint64_t left = p->expires > c->mono ? p->expires - c->mono : 0;
	wbuf_init_fixed(&w, buf, sizeof(buf));
	int r = lnsd_parked_encode(&w, p, c->wall + left);
	if (r == 0)
		r = snap_put(c->w, LNSD_SNAP_PARKED, buf, w.len);
	explicit_bzero(buf, sizeof(buf));
	if (r < 0) {
		c->err = r;
		return 1;
	}
	return 0;
}

int lnsd_handoff_save(void *arg)
{
	struct lnsd *h = arg;
	const char *path = h->conf.handoff.snapshot;
	if (!path || !*path || !h->ho_ready || !h->ho_dirty)
		return 0;
	struct save_ctx c = { NULL, h->loop ? uv_now(h->loop) : h->ep.now, roam_wall_ms(), 0 };
	int r = snap_writer_open(&c.w, path, LNSD_SNAP_KIND);
	if (r < 0)
		goto fail;
	table_foreach(&h->parked, save_one, &c);
	if (c.err < 0) {
		snap_abort(c.w);
		r = c.err;
		goto fail;
	}
	if ((r = snap_commit(c.w)) < 0)
		goto fail;
	h->ho_dirty = false;
	h->hstats.snapshot_saves++;
	return 0;
fail:
	h->hstats.snapshot_failures++;
	log_warnx("snapshot %s: %s", path, strerror(-r));
	return r;
}

struct load_ctx {
	struct lnsd *h;
	uint64_t now, wall;
};

static int load_one(void *arg, uint16_t type, struct rbuf *body)
{
	struct load_ctx *c = arg;
	struct lnsd *h = c->h;
	uint64_t expires_wall;
	char b[16];
	struct lnsd_parked *p;
	if (type != LNSD_SNAP_PARKED || !(p = malloc(sizeof(*p)))) {
		h->hstats.snapshot_skipped++;
		return 0;
	}
	if (lnsd_parked_decode(body, p, &expires_wall) < 0 || expires_wall <= c->wall ||
	    find(h, p->min)) {
		h->hstats.snapshot_skipped++; /* malformed, expired while we were down, twice */
		free(p);
		return 0;
	}
	uint64_t left = expires_wall - c->wall;
	if (left > h->conf.handoff.hold_time)
		left = h->conf.handoff.hold_time; /* never longer than the (new) hold time */
	addr_str(p->addr, b, sizeof(b));
	if (lnsd_ppp_addr_claim(h, p->addr, &p->route) < 0) {
		log_warnx("snapshot: MIN %s: address %s not in the pool or taken: not restored",
			  p->min, b);
		h->hstats.snapshot_skipped++;
		free(p);
		return 0;
	}
	p->expires = c->now + left;
	if (park_insert(h, p) < 0) {
		lnsd_ppp_addr_drop(h, p->addr, p->route);
		parked_free(h, p, false);
		h->hstats.snapshot_skipped++;
		return 0;
	}
	h->hstats.park_restored++;
	log_info("snapshot: MIN %s (%s, %s) parked again for %llu ms", p->min, p->ppp.peer_name, b,
		 (unsigned long long)left);
	return 0;
}

int lnsd_handoff_load(struct lnsd *h, uint64_t now)
{
	const char *path = h->conf.handoff.snapshot;
	if (!path || !*path || !h->ho_ready)
		return 0;
	if (!h->ppp_ready) {
		log_info("snapshot %s: PPP termination off, parked calls not restored", path);
		return 0;
	}
	struct load_ctx c = { h, now, roam_wall_ms() };
	struct snap_info info;
	int r = snap_load(path, LNSD_SNAP_KIND, load_one, &c, &info);
	if (r == -ENOENT)
		return 0;
	if (r < 0) {
		log_warnx("snapshot %s: %s; no parked call restored", path, strerror(-r));
		return 0;
	}
	/* rewrite the file when something was dropped from it */
	h->ho_dirty = h->hstats.snapshot_skipped > 0;
	log_info("snapshot %s: %llu parked calls restored, %llu expired or skipped", path,
		 (unsigned long long)h->hstats.park_restored,
		 (unsigned long long)h->hstats.snapshot_skipped);
	return 0;
}

int lnsd_handoff_snap_start(struct lnsd *h)
{
	return snap_timer_configure(&h->snap, h->loop, h->conf.handoff.snapshot,
				    h->conf.handoff.snapshot_interval, lnsd_handoff_save, h);
}

/* ---- control ---- */

void lnsd_handoff_stats_json(struct lnsd *h, struct json_writer *w)
{
	const struct lnsd_ho_stats *s = &h->hstats;
#define K(f) json_kv_uint(w, #f, s->f)
	K(handoff_cdn), K(handoffs_parked), K(park_refused), K(park_replaced), K(park_expired);
	K(park_restored), K(park_buffered), K(park_dropped), K(park_flushed), K(park_discarded);
	K(park_resent);
	K(handoffs_requested), K(handoffs_accepted), K(handoffs_resumed), K(handoffs_refused);
	K(snapshot_saves), K(snapshot_failures), K(snapshot_skipped);
#undef K
	for (int i = 1; i < LNSD_HO_REASONS; i++)
		json_kv_uint(w, reason_keys[i], s->refused[i]);
	json_kv_uint(w, "parked", h->ho_ready ? table_count(&h->parked) : 0);
}

void lnsd_handoff_status_json(struct lnsd *h, struct json_writer *w)
{
	json_kv_bool(w, "handoff_enabled", h->conf.handoff.enabled);
	json_kv_uint(w, "handoff_hold_time_ms", h->conf.handoff.hold_time);
	json_kv_uint(w, "parked", h->ho_ready ? table_count(&h->parked) : 0);
}

struct dump_ctx {
	struct json_writer *w;
	uint64_t now;
};

static int dump_one(struct table_node *n, void *arg)
{
	struct dump_ctx *c = arg;
	const struct lnsd_parked *p = table_entry(n, struct lnsd_parked, node);
	struct json_writer *w = c->w;
	char b[16];
	addr_str(p->addr, b, sizeof(b));
	json_obj_begin(w);
	json_kv_str(w, "min", p->min);
	json_kv_str(w, "user", p->ppp.peer_name);
	json_kv_str(w, "auth", p->ppp.auth_proto == PPP_PROTO_PAP    ? "pap"
			       : p->ppp.auth_proto == PPP_PROTO_CHAP ? "chap"
								     : "none");
	json_kv_str(w, "address", b);
	json_kv_str(w, "lac", p->lac);
	json_kv_uint(w, "old_tunnel_id", p->old_tunnel_id);
	json_kv_uint(w, "old_session_id", p->old_session_id);
	json_kv_uint(w, "tunnel", p->lns_tunnel_id);
	json_kv_uint(w, "session", p->lns_session_id);
	json_kv_uint(w, "data_ns", p->data_ns);
	json_kv_uint(w, "data_nr", p->data_nr);
	json_kv_bool(w, "data_seq", p->data_seq);
	json_kv_uint(w, "mru", p->ppp.mru_send);
	json_kv_uint(w, "remaining_ms", p->expires > c->now ? p->expires - c->now : 0);
	json_kv_uint(w, "buffered", p->npkts);
	json_kv_uint(w, "dropped", p->pkts_dropped);
	json_obj_end(w);
	return 0;
}

void lnsd_handoff_dump_json(struct lnsd *h, struct json_writer *w, uint64_t now)
{
	struct dump_ctx c = { w, now };
	json_obj_begin(w);
	json_key(w, "parked");
	json_arr_begin(w);
	if (h->ho_ready)
		table_foreach(&h->parked, dump_one, &c);
	json_arr_end(w);
	json_obj_end(w);
}

/* parked: the parked calls. */
static int cmd_parked(void *arg, const struct json_value *args, struct json_writer *w,
		      char *err, size_t errlen)
{
	(void)args, (void)err, (void)errlen;
	struct lnsd *h = arg;
	lnsd_handoff_dump_json(h, w, h->loop ? uv_now(h->loop) : h->ep.now);
	return 0;
}

int lnsd_handoff_ctl_register(struct lnsd *h)
{
	return ctl_register(h->ctl, "parked", "calls parked by a handoff, waiting for the next LAC",
			    cmd_parked, h);
}
