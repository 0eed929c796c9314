/* The LAC's side of the access link (docs/protocols/access-link.md):
 *
 *   ATTACH (MIN) --> link created, call placed (session.c: tunnel, ICRQ/ICRP/ICCN), ATTACH-ACK
 *                    (MIN in the handoff table: ATTACH-ACK, CHAP re-challenge, handoff.c)
 *   KEEPALIVE    --> KEEPALIVE-ACK;  silence for the dead interval --> link lost (handoff.c)
 *   DETACH       --> link freed; cause 1 (moving): lost (handoff.c); else CDN 3
 *   DATA         --> HDLC-like frames decoded (ppp_hdlc_decode) --> L2TP data messages
 *   L2TP data    --> framed with the ACCM (ppp_hdlc_encode) --> DATA to the mobile
 *   call ended   --> DETACH cause 0 to the mobile
 *
 * A link is bound to the source address and port of its ATTACH and to its Link ID.  Like the
 * rest of lacd the state machine takes `now` and sends through h->acc.tx, so the unit tests
 * drive it on a fake clock without sockets.  A lost mobile (silence, DETACH moving, replaced
 * link) starts the handoff procedure (handoff.c: CDN with the handoff cause + USER_MOVED, or a
 * plain CDN with the extension off); an ATTACH whose MIN is in the handoff table gets a CHAP
 * re-challenge instead of a call, and the call (a handoff ICRQ) follows the Response. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lacd.h"
#include "roam/auth.h"

static void link_ikey(uint8_t *k, uint32_t id)
{
	k[0] = (uint8_t)(id >> 24);
	k[1] = (uint8_t)(id >> 16);
	k[2] = (uint8_t)(id >> 8);
	k[3] = (uint8_t)id;
}

static struct lacd_link *link_by_id(struct lacd *h, uint32_t id)
{
	uint8_t k[4];
	link_ikey(k, id);
	struct table_node *n = table_lookup(&h->acc.links, k, 4);
	return n ? table_entry(n, struct lacd_link, inode) : NULL;
}

struct lacd_link *lacd_link_by_min(struct lacd *h, const char *min)
{
	if (!h->acc.tables_ready)
		return NULL;
	struct table_node *n = table_lookup(&h->acc.by_min, min, strlen(min));
	return n ? table_entry(n, struct lacd_link, mnode) : NULL;
}

static void pending_free(struct lacd_link *l)
{
	while (l->pending) {
		struct lacd_frame *f = l->pending;
		l->pending = f->next;
		free(f);
	}
	l->pending_tail = &l->pending;
	l->npending = 0;
}

static void link_unlink(struct lacd *h, struct lacd_link *l)
{
	pending_free(l);
	if (table_node_linked(&l->inode))
		table_remove(&h->acc.links, &l->inode);
	if (table_node_linked(&l->mnode))
		table_remove(&h->acc.by_min, &l->mnode);
}

static void free_node(struct table *t, struct table_node *n, void *arg)
{
	(void)t;
	struct lacd *h = arg;
	struct lacd_link *l = table_entry(n, struct lacd_link, inode);
	if (table_node_linked(&l->mnode))
		table_remove(&h->acc.by_min, &l->mnode);
	pending_free(l);
	free(l);
}

int lacd_access_init(struct lacd *h)
{
	if (h->acc.tables_ready)
		return 0;
	if (table_init(&h->acc.links, NULL, free_node, h) < 0)
		return -ENOMEM;
	if (table_init(&h->acc.by_min, NULL, NULL, h) < 0) {
		table_destroy(&h->acc.links);
		return -ENOMEM;
	}
	h->acc.unknown_rl.burst = 10;
	h->acc.unknown_rl.interval_ms = 1000;
	h->acc.drop_rl.burst = 10;
	h->acc.drop_rl.interval_ms = 10000;
	h->acc.tables_ready = true;
	return 0;
}

void lacd_access_destroy(struct lacd *h)
{
	if (!h->acc.tables_ready)
		return;
	table_destroy(&h->acc.by_min);
	table_destroy(&h->acc.links);
	h->acc.tables_ready = false;
}

/* ---- sending ---- */

static void send_msg(struct lacd *h, const struct roam_sockaddr *dst,
		     const struct roam_ipaddr *src, const struct access_msg *m)
{
	uint8_t pkt[ACCESS_HDR_LEN + ACCESS_DATA_MAX];
	struct wbuf w;
	wbuf_init_fixed(&w, pkt, sizeof(pkt));
	if (access_msg_encode(m, &w) < 0 || !h->acc.tx) {
		h->acc.stats.tx_errors++;
		return;
	}
	h->acc.tx(h->acc.tx_arg, dst, src, pkt, w.len);
}

static void link_send(struct lacd *h, struct lacd_link *l, struct access_msg *m)
{
	m->link_id = l->id;
	m->seq = l->tx_seq++;
	l->tx_msgs++;
	send_msg(h, &l->peer, &l->local, m);
}

static void queue_detach_repeat(struct lacd *h, const struct roam_sockaddr *dst,
				const struct roam_ipaddr *src, uint32_t link_id, uint32_t seq,
				uint16_t cause, uint64_t now)
{
	for (size_t i = 0; i < LACD_DETACH_REPEAT_MAX; i++) {
		struct lacd_detach_repeat *r = &h->acc.repeat[i];
		if (r->due)
			continue;
		r->dst = *dst;
		if (src)
			r->src = *src;
		else
			memset(&r->src, 0, sizeof(r->src));
		r->link_id = link_id;
		r->seq = seq;
		r->cause = cause;
		r->due = now + 100;
		return;
	}
	/* Every slot busy: the keepalive catches a lost DETACH. */
}

/* DETACH (sent twice, 100 ms apart) to a link's mobile; the link itself is not touched. */
static void link_send_detach(struct lacd *h, struct lacd_link *l, uint16_t cause, uint64_t now)
{
	struct access_msg m = { .type = ACCESS_DETACH, .cause = cause };
	link_send(h, l, &m);
	h->acc.stats.detach_tx++;
	queue_detach_repeat(h, &l->peer, &l->local, l->id, l->tx_seq++, cause, now);
}

/* ---- links ---- */

/* Frees l; its call, if any, is cleared with CDN result (0: the call is already gone). */
static void link_close(struct lacd *h, struct lacd_link *l, uint16_t result, uint64_t now)
{
	char min[ACCESS_MIN_LEN + 1];
	snprintf(min, sizeof(min), "%s", l->min);
	link_unlink(h, l); /* first: lacd_session_free must not find it any more */
	free(l);
	if (result && lacd_session_by_min(h, min))
		(void)lacd_hangup(h, min, result, now);
}

/* The mobile of l is lost: the handoff procedure (or a plain CDN) for its call. */
static void link_lost(struct lacd *h, struct lacd_link *l, uint64_t now)
{
	char min[ACCESS_MIN_LEN + 1];
	struct lacd_ppp_snoop sn = l->snoop;
	uint32_t accm_send = l->hdlc.accm, accm_recv = l->dec.accm;
	snprintf(min, sizeof(min), "%s", l->min);
	link_unlink(h, l);
	free(l);
	lacd_ho_mobile_lost(h, min, &sn, accm_send, accm_recv, now);
}

void lacd_access_call_gone(struct lacd *h, const char *min, uint64_t now)
{
	struct lacd_link *l = lacd_link_by_min(h, min);
	if (!l)
		return;
	if (h->acc.tx) { /* not at shutdown: the mobiles got DETACH cause 3 already */
		log_info("access link %08x (MIN %s): call ended, DETACH", l->id, l->min);
		link_send_detach(h, l, ACCESS_DETACH_NORMAL, now);
	}
	link_unlink(h, l);
	free(l);
}

static uint32_t link_alloc_id(struct lacd *h)
{
	for (int i = 0; i < 64; i++) {
		uint32_t id;
		if (auth_random(&id, sizeof(id)) < 0)
			return 0;
		if (id && !link_by_id(h, id))
			return id;
	}
	return 0;
}

static void send_nak(struct lacd *h, const struct roam_sockaddr *src,
		     const struct roam_ipaddr *dst, uint32_t nonce, uint16_t cause)
{
	struct access_msg m = { .type = ACCESS_ATTACH_NAK, .nonce = nonce, .cause = cause };
	h->acc.stats.attach_refused++;
	send_msg(h, src, dst, &m);
}

static void send_ack(struct lacd *h, struct lacd_link *l)
{
	struct access_msg m = { .type = ACCESS_ATTACH_ACK,
				.nonce = l->nonce,
				.keepalive_ms = h->conf.access.keepalive_interval,
				.dead_ms = h->conf.access.dead_interval,
				.link_id = l->id,
				.seq = 0 };
	l->tx_msgs++;
	send_msg(h, &l->peer, &l->local, &m);
}

void lacd_access_attach(struct lacd *h, const struct access_msg *m,
			const struct roam_sockaddr *src, const struct roam_ipaddr *dst,
			const struct roam_sockaddr *lns, uint64_t now)
{
	struct lacd_link *old = lacd_link_by_min(h, m->min);
	struct lacd_session *s;
	int r;

	if (old && old->nonce == m->nonce && roam_sockaddr_eq(&old->peer, src)) {
		/* A retransmission: the same answer, same Link ID. */
		h->acc.stats.attach_duplicate++;
		send_ack(h, old);
		return;
	}
	if (old) {
		/* A new attempt replaces the old link, which is closed as lost. */
		log_info("access link %08x (MIN %s): replaced by a new ATTACH", old->id, old->min);
		h->acc.stats.links_replaced++;
		link_lost(h, old, now);
	}
	if (table_count(&h->acc.links) >= h->conf.access.max_links) {
		send_nak(h, src, dst, m->nonce, ACCESS_NAK_NO_RESOURCES);
		return;
	}
	struct lacd_link *l = calloc(1, sizeof(*l));
	if (!l || !(l->id = link_alloc_id(h))) {
		free(l);
		send_nak(h, src, dst, m->nonce, ACCESS_NAK_NO_RESOURCES);
		return;
	}
	snprintf(l->min, sizeof(l->min), "%s", m->min);
	snprintf(l->nai, sizeof(l->nai), "%s", m->nai);
	l->nonce = m->nonce;
	l->peer = *src;
	if (dst && !roam_ipaddr_is_multicast(dst))
		l->local = *dst;
	l->created = l->last_rx = now;
	l->tx_seq = 1; /* 0 is the ATTACH-ACK */
	l->pending_tail = &l->pending;
	access_seq_init(&l->rx);
	ppp_hdlc_dec_init(&l->dec, PPP_HDLC_BUF_MAX);
	l->dec.accm = 0; /* accept control characters unescaped: the mobile's ACCM is unknown */
	l->hdlc.accm = PPP_HDLC_ACCM_DEFAULT;
	link_ikey(l->ikey, l->id);

	/* The call: an existing one for this MIN without a link (a `call` command) is kept; a
	 * MIN in the handoff table is re-challenged first (its call follows the Response). */
	s = lacd_session_by_min(h, m->min);
	const struct lacd_ho_entry *ho = s ? NULL : lacd_ho_arrival(h, m->min, now);
	if (!s && !ho) {
		r = lacd_call(h, m->min, lns, now, &s);
		if (r < 0) {
			free(l);
			log_info("ATTACH from MIN %s refused: %s", m->min,
				 r == -EHOSTUNREACH ? "no LNS" : strerror(-r));
			send_nak(h, src, dst, m->nonce,
				 r == -EHOSTUNREACH ? ACCESS_NAK_NO_LNS
				 : r == -EINVAL	    ? ACCESS_NAK_MALFORMED
						    : ACCESS_NAK_NO_RESOURCES);
			return;
		}
	}
	if (s)
		s->s.data_seq = h->conf.access.data_sequencing;
	if (table_insert(&h->acc.links, &l->inode, l->ikey, 4) < 0) {
		free(l);
		(void)lacd_hangup(h, m->min, L2TP_CDN_NO_FACILITIES_TEMP, now);
		send_nak(h, src, dst, m->nonce, ACCESS_NAK_NO_RESOURCES);
		return;
	}
	if (table_insert(&h->acc.by_min, &l->mnode, l->min, strlen(l->min)) < 0) {
		link_close(h, l, L2TP_CDN_NO_FACILITIES_TEMP, now);
		send_nak(h, src, dst, m->nonce, ACCESS_NAK_NO_RESOURCES);
		return;
	}
	h->acc.stats.attach_acked++;
	if (ho) {
		log_info("access link %08x: MIN %s%s%s attached (handoff)", l->id, l->min,
			 l->nai[0] ? " NAI " : "", l->nai);
		send_ack(h, l);
		lacd_ho_challenge(h, l, ho, now);
		return;
	}
	log_info("access link %08x: MIN %s%s%s attached (call: tunnel %u session %u)", l->id,
		 l->min, l->nai[0] ? " NAI " : "", l->nai, s->s.t->id, s->s.id);
	send_ack(h, l);
}

/* ATTACH: with RADIUS (aaa.c) the LNS is looked up first, lacd_access_attach follows. */
static void handle_attach(struct lacd *h, const struct access_msg *m,
			  const struct roam_sockaddr *src, const struct roam_ipaddr *dst,
			  uint64_t now)
{
	h->acc.stats.attach_rx++;
	if (!lacd_aaa_attach(h, m, src, dst, now))
		lacd_access_attach(h, m, src, dst, NULL, now);
}

void lacd_access_send_nak(struct lacd *h, const struct roam_sockaddr *dst,
			  const struct roam_ipaddr *src, uint32_t nonce, uint16_t cause)
{
	send_nak(h, dst, src, nonce, cause);
}

/* DATA from the mobile: every complete frame goes to the LNS as a data message. */
static void handle_data(struct lacd *h, struct lacd_link *l, const struct access_msg *m,
			uint64_t now)
{
	const uint8_t *p = m->data;
	size_t left = m->data_len;
	struct ppp_hdlc_frame f;
	uint8_t frame[4 + PPP_HDLC_BUF_MAX];
	int r;
	(void)now;

	h->acc.stats.data_rx++;
	while ((r = ppp_hdlc_decode(&l->dec, &p, &left, &f)) != 0) {
		if (r < 0) {
			h->acc.stats.drop_frame_bad++;
			continue;
		}
		/* Handoff arrival: the CHAP Response to our re-challenge stays here. */
		if (l->ho_challenging && lacd_ho_link_frame(h, l, f.proto, f.info, f.info_len, now))
			continue;
		lacd_ppp_snoop(&l->snoop, true, f.proto, f.info, f.info_len);
		struct lacd_session *s = lacd_session_by_min(h, l->min);
		/* RFC 2661: the PPP frame without flags, stuffing and FCS; address and control
		 * fields are sent (as xl2tpd and pppd expect). */
		struct wbuf w;
		wbuf_init_fixed(&w, frame, sizeof(frame));
		ppp_frame_hdr_encode(&w, f.proto, 0, 0);
		wbuf_put_bytes(&w, f.info, f.info_len);
		if (!w.err && ((s && s->s.state != LACD_S_ESTABLISHED) || (!s && l->ho_challenging)) &&
		    l->npending < LACD_PENDING_MAX) {
			/* The call is being set up: keep the frame for ICCN (a few only; PPP
			 * retransmits anyway, but this saves a restart interval). */
			struct lacd_frame *q = malloc(sizeof(*q) + w.len);
			if (q) {
				q->next = NULL;
				q->len = w.len;
				memcpy(q->buf, frame, w.len);
				*l->pending_tail = q;
				l->pending_tail = &q->next;
				l->npending++;
				h->acc.stats.frames_queued++;
				continue;
			}
		}
		if (w.err || !s || s->s.state != LACD_S_ESTABLISHED ||
		    l2tp_session_send_data(&s->s, frame, w.len) < 0) {
			h->acc.stats.drop_frame_no_call++;
			continue;
		}
		l->frames_up++;
		h->acc.stats.frames_to_lns++;
	}
}

void lacd_access_call_up(struct lacd *h, const char *min, bool resumed)
{
	struct lacd_link *l = lacd_link_by_min(h, min);
	struct lacd_session *s = lacd_session_by_min(h, min);
	if (!l || !s)
		return;
	if (resumed) {
		/* The verdict on our re-challenge (RFC 1994 4.2): the LNS took the mobile's
		 * Response (ICCN Proxy Authen) for its parked call. */
		uint8_t buf[16];
		struct wbuf w;
		struct ppp_chap c = { .code = PPP_CHAP_SUCCESS, .id = s->ho.chap_id,
				      .msg = (const uint8_t *)"Welcome back", .msg_len = 12 };
		wbuf_init_fixed(&w, buf, sizeof(buf));
		if (ppp_chap_encode(&w, &c) == 0)
			lacd_access_send_ppp(h, l, PPP_PROTO_CHAP, buf, w.len);
		l->hdlc.accm = s->ho.cs.accm_send;
		l->dec.accm = s->ho.cs.accm_recv;
	}
	for (struct lacd_frame *f = l->pending; f; f = f->next) {
		if (l2tp_session_send_data(&s->s, f->buf, f->len) < 0) {
			h->acc.stats.drop_frame_no_call++;
			continue;
		}
		l->frames_up++;
		h->acc.stats.frames_to_lns++;
	}
	pending_free(l);
}

/* Frames one PPP packet towards l's mobile; false when it cannot be framed. */
static bool link_send_ppp(struct lacd *h, struct lacd_link *l, uint16_t proto,
			  const uint8_t *info, size_t info_len)
{
	uint8_t out[2 * PPP_HDLC_BUF_MAX + 8];
	struct wbuf w;
	wbuf_init_fixed(&w, out, sizeof(out));
	if (info_len > PPP_MRU_MAX || ppp_hdlc_encode(&w, &l->hdlc, proto, info, info_len) < 0)
		return false;
	/* Split after stuffing into DATA messages of at most 1400 octets. */
	for (size_t off = 0; off < w.len; off += ACCESS_DATA_MAX) {
		size_t n = w.len - off < ACCESS_DATA_MAX ? w.len - off : ACCESS_DATA_MAX;
		struct access_msg m = { .type = ACCESS_DATA, .data = out + off, .data_len = n };
		link_send(h, l, &m);
		h->acc.stats.data_tx++;
	}
	l->frames_down++;
	return true;
}

void lacd_access_send_ppp(struct lacd *h, struct lacd_link *l, uint16_t proto,
			  const uint8_t *info, size_t len)
{
	if (!link_send_ppp(h, l, proto, info, len))
		h->acc.stats.drop_frame_unframed++;
}

void lacd_access_session_data(void *arg, struct l2tp_session *ls, const uint8_t *ppp,
			      size_t len, uint64_t now)
{
	struct lacd *h = arg;
	struct lacd_session *s = lacd_session_of(ls);
	struct lacd_link *l = lacd_link_by_min(h, s->min);
	uint16_t proto;
	const uint8_t *info;
	size_t info_len;
	(void)now;

	h->acc.stats.frames_from_lns++;
	if (!l) {
		h->acc.stats.drop_frame_no_call++;
		return;
	}
	if (ppp_frame_parse(ppp, len, &proto, &info, &info_len) < 0 ||
	    !link_send_ppp(h, l, proto, info, info_len)) {
		h->acc.stats.drop_frame_unframed++;
		return;
	}
	lacd_ppp_snoop(&l->snoop, false, proto, info, info_len);
}

void lacd_access_set_accm(struct lacd *h, const char *min, uint32_t send_accm,
			  uint32_t recv_accm)
{
	struct lacd_link *l = lacd_link_by_min(h, min);
	if (!l)
		return;
	l->hdlc.accm = send_accm;
	l->dec.accm = recv_accm;
	log_debug("access link %08x: ACCM send %08x recv %08x", l->id, send_accm, recv_accm);
}

static void log_drop(struct lacd *h, const struct roam_sockaddr *src, size_t len,
		     const char *why, uint64_t now)
{
	uint32_t suppressed;
	struct roam_ipaddr a;
	uint16_t port = 0;
	char b[ROAM_ADDRSTRLEN];
	if (!log_rl_allow(&h->acc.drop_rl, now, &suppressed))
		return;
	memset(&a, 0, sizeof(a));
	roam_sockaddr_addr(src, &a, &port);
	log_warnx("access: drop %zu bytes from %s:%u: %s (%u more not logged)", len,
		  roam_ipaddr_fmt(&a, b, sizeof(b)), port, why, suppressed);
}

void lacd_access_input(struct lacd *h, const uint8_t *pkt, size_t len,
		       const struct roam_sockaddr *src, const struct roam_ipaddr *dst,
		       uint64_t now)
{
	struct access_msg m;
	const char *why = NULL;
	struct lacd_link *l;
	int r;

	h->acc.stats.rx_packets++;
	h->ep.now = now;
	r = access_msg_decode(pkt, len, &m, &why);
	if (r == -EPROTONOSUPPORT) {
		h->acc.stats.drop_bad_version++;
		if (m.type == ACCESS_ATTACH && len >= ACCESS_HDR_LEN + 4)
			send_nak(h, src, dst, m.nonce, ACCESS_NAK_VERSION);
		goto drop;
	}
	if (r == -EINVAL && m.type == ACCESS_ATTACH) {
		h->acc.stats.drop_malformed++;
		send_nak(h, src, dst, m.nonce, ACCESS_NAK_MALFORMED);
		goto drop;
	}
	if (r == -ENOMSG) {
		h->acc.stats.drop_unknown_type++;
		goto drop;
	}
	if (r < 0) {
		h->acc.stats.drop_malformed++;
		goto drop;
	}
	if (m.type == ACCESS_ATTACH) {
		handle_attach(h, &m, src, dst, now);
		goto done;
	}
	if (m.type == ACCESS_ATTACH_ACK || m.type == ACCESS_ATTACH_NAK ||
	    m.type == ACCESS_KEEPALIVE_ACK) {
		h->acc.stats.drop_not_for_lac++;
		why = "a message only a LAC sends";
		goto drop;
	}
	l = link_by_id(h, m.link_id);
	if (!l) {
		h->acc.stats.drop_unknown_link++;
		why = "unknown link";
		/* Tell the mobile to attach again (rate-limited; never answer a DETACH). */
		if (m.type != ACCESS_DETACH && log_rl_allow(&h->acc.unknown_rl, now, NULL)) {
			struct access_msg d = { .type = ACCESS_DETACH, .link_id = m.link_id,
						.cause = ACCESS_DETACH_UNKNOWN_LINK };
			h->acc.stats.detach_tx++;
			send_msg(h, src, dst, &d);
		}
		goto drop;
	}
	if (!roam_sockaddr_eq(&l->peer, src)) {
		h->acc.stats.drop_wrong_source++;
		why = "link bound to another source";
		goto drop;
	}
	uint64_t lost_before = l->rx.rx_lost;
	if (!access_seq_accept(&l->rx, m.seq) && m.type != ACCESS_DETACH) {
		h->acc.stats.drop_late++;
		return; /* duplicates are normal on a radio link: not logged */
	}
	h->acc.stats.rx_lost += l->rx.rx_lost - lost_before;
	l->last_rx = now;
	l->rx_msgs++;
	switch (m.type) {
	case ACCESS_KEEPALIVE: {
		struct access_msg a = { .type = ACCESS_KEEPALIVE_ACK, .timestamp = m.timestamp };
		h->acc.stats.keepalive_rx++;
		link_send(h, l, &a);
		break;
	}
	case ACCESS_DETACH:
		h->acc.stats.detach_rx++;
		log_info("access link %08x (MIN %s): DETACH cause %u", l->id, l->min, m.cause);
		if (m.cause == ACCESS_DETACH_MOVING) /* as a loss, at once */
			link_lost(h, l, now);
		else
			link_close(h, l, L2TP_CDN_ADMIN, now);
		break;
	case ACCESS_DATA:
		handle_data(h, l, &m, now);
		break;
	}
done:
	l2tp_ep_server_rearm(&h->ep);
	return;
drop:
	log_drop(h, src, len, why ? why : "malformed", now);
}

struct dead_walk {
	uint64_t now, dead;
	struct lacd_link *lost[64];
	size_t n;
};

static int dead_cb(struct table_node *n, void *arg)
{
	struct dead_walk *wk = arg;
	struct lacd_link *l = table_entry(n, struct lacd_link, inode);
	if (wk->now - l->last_rx >= wk->dead && wk->n < 64)
		wk->lost[wk->n++] = l;
	return wk->n == 64;
}

void lacd_access_run_timers(struct lacd *h, uint64_t now)
{
	struct dead_walk wk;

	h->ep.now = now;
	for (size_t i = 0; i < LACD_DETACH_REPEAT_MAX; i++) {
		struct lacd_detach_repeat *r = &h->acc.repeat[i];
		if (!r->due || r->due > now)
			continue;
		struct access_msg m = { .type = ACCESS_DETACH, .link_id = r->link_id,
					.seq = r->seq, .cause = r->cause };
		send_msg(h, &r->dst, r->src.family ? &r->src : NULL, &m);
		r->due = 0;
	}
	if (!h->acc.tables_ready)
		return;
	/* Links silent for the dead interval: collected in batches, then closed (the walk must
	 * not see the table change under it). */
	do {
		wk.now = now;
		wk.dead = h->conf.access.dead_interval;
		wk.n = 0;
		table_foreach(&h->acc.links, dead_cb, &wk);
		for (size_t i = 0; i < wk.n; i++) {
			struct lacd_link *l = wk.lost[i];
			h->acc.stats.links_lost++;
			log_info("access link %08x (MIN %s): mobile lost (silent for %llu ms), CDN",
				 l->id, l->min, (unsigned long long)(now - l->last_rx));
			link_lost(h, l, now); /* the handoff procedure, or a plain CDN */
		}
	} while (wk.n == 64);
	lacd_ho_run_timers(h, now);
}

/* ---- socket glue ---- */

static void udp_tx(void *arg, const struct roam_sockaddr *dst, const struct roam_ipaddr *src,
		   const uint8_t *pkt, size_t len)
{
	struct lacd *h = arg;
	if (!h->acc.udp || roam_udp_send_from(h->acc.udp, dst, src, 0, pkt, len) < 0)
		h->acc.stats.tx_errors++;
}

static void udp_rx(struct roam_udp *u, const struct roam_udp_pkt *pkt, void *arg)
{
	(void)u;
	struct lacd *h = arg;
	lacd_access_input(h, pkt->data, pkt->len, &pkt->src, pkt->dst.family ? &pkt->dst : NULL,
			  uv_now(h->loop));
}

static void timer_cb(uv_timer_t *t)
{
	struct lacd *h = t->data;
	lacd_access_run_timers(h, uv_now(h->loop));
	l2tp_ep_server_rearm(&h->ep);
}

int lacd_access_open(struct lacd *h, uv_loop_t *loop)
{
	const struct lacd_conf_access *c = &h->conf.access;
	struct roam_udp_opts o;
	char b[ROAM_ADDRSTRLEN];
	int r;

	if (!c->enabled)
		return 0;
	memset(&o, 0, sizeof(o));
	roam_sockaddr_set(&o.bind, &c->listen, c->port);
	o.reuseaddr = 1;
	if ((r = roam_udp_open(loop, &o, udp_rx, h, &h->acc.udp)) < 0) {
		log_warnx("access: cannot listen on %s port %u: %s",
			  roam_ipaddr_fmt(&c->listen, b, sizeof(b)), c->port, strerror(-r));
		return r;
	}
	if (c->interface[0]) {
		if ((r = roam_udp_mcast_join(h->acc.udp, &c->group, c->interface)) < 0) {
			log_warnx("access: cannot join %s on %s: %s",
				  roam_ipaddr_fmt(&c->group, b, sizeof(b)), c->interface,
				  strerror(-r));
			lacd_access_close(h);
			return r;
		}
		(void)roam_udp_mcast_if(h->acc.udp, c->interface);
	}
	h->acc.tx = udp_tx;
	h->acc.tx_arg = h;
	uv_timer_init(loop, &h->acc.timer);
	h->acc.timer.data = h;
	h->acc.timer_ready = true;
	/* A tenth of the keepalive interval: the dead interval is detected within that. */
	uint64_t tick = c->keepalive_interval / 10 ? c->keepalive_interval / 10 : 10;
	uv_timer_start(&h->acc.timer, timer_cb, tick, tick);
	log_info("access link on %s port %u%s%s", roam_ipaddr_fmt(&c->listen, b, sizeof(b)),
		 c->port, c->interface[0] ? ", group on " : "", c->interface);
	return 0;
}

static int detach_all_cb(struct table_node *n, void *arg)
{
	struct lacd *h = arg;
	struct lacd_link *l = table_entry(n, struct lacd_link, inode);
	struct access_msg m = { .type = ACCESS_DETACH, .cause = ACCESS_DETACH_SHUTDOWN };
	link_send(h, l, &m);
	h->acc.stats.detach_tx++;
	return 0;
}

void lacd_access_close(struct lacd *h)
{
	if (h->acc.udp && h->acc.tables_ready)
		table_foreach(&h->acc.links, detach_all_cb, h);
	if (h->acc.timer_ready) {
		uv_timer_stop(&h->acc.timer);
		uv_close((uv_handle_t *)&h->acc.timer, NULL);
		h->acc.timer_ready = false;
	}
	if (h->acc.udp) {
		roam_udp_close(h->acc.udp, NULL);
		h->acc.udp = NULL;
	}
	h->acc.tx = NULL;
}

/* ---- control commands ---- */

static int link_json_cb(struct table_node *n, void *arg)
{
	struct json_writer *w = arg;
	struct lacd_link *l = table_entry(n, struct lacd_link, inode);
	char b[ROAM_ADDRSTRLEN];
	struct roam_ipaddr a;
	uint16_t port = 0;
	memset(&a, 0, sizeof(a));
	roam_sockaddr_addr(&l->peer, &a, &port);
	json_obj_begin(w);
	snprintf(b, sizeof(b), "%08x", l->id);
	json_kv_str(w, "link", b);
	json_kv_str(w, "min", l->min);
	json_kv_str(w, "nai", l->nai);
	json_kv_str(w, "peer", roam_ipaddr_fmt(&a, b, sizeof(b)));
	json_kv_uint(w, "port", port);
	json_kv_uint(w, "rx_msgs", l->rx_msgs);
	json_kv_uint(w, "tx_msgs", l->tx_msgs);
	json_kv_uint(w, "rx_lost", l->rx.rx_lost);
	json_kv_uint(w, "rx_late", l->rx.rx_late);
	json_kv_uint(w, "frames_up", l->frames_up);
	json_kv_uint(w, "frames_down", l->frames_down);
	json_kv_uint(w, "bad_fcs", l->dec.stats.bad_fcs);
	json_obj_end(w);
	return 0;
}

void lacd_access_links_json(struct lacd *h, struct json_writer *w)
{
	json_arr_begin(w);
	if (h->acc.tables_ready)
		table_foreach(&h->acc.links, link_json_cb, w);
	json_arr_end(w);
}

void lacd_access_stats_json(struct lacd *h, struct json_writer *w)
{
	const struct lacd_access_stats *s = &h->acc.stats;
#define K(f) json_kv_uint(w, "access_" #f, s->f)
	K(rx_packets), K(drop_malformed), K(drop_bad_version), K(drop_unknown_type);
	K(drop_unknown_link), K(drop_wrong_source), K(drop_late), K(drop_not_for_lac);
	K(rx_lost), K(attach_rx), K(attach_duplicate), K(attach_acked), K(attach_refused);
	K(links_replaced), K(links_lost), K(detach_rx), K(detach_tx), K(keepalive_rx);
	K(data_rx), K(data_tx), K(frames_to_lns), K(frames_from_lns), K(drop_frame_no_call);
	K(drop_frame_bad), K(drop_frame_unframed), K(frames_queued), K(tx_errors);
#undef K
}
