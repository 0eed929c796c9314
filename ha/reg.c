/* Registration Request processing at the home agent (RFC 5944 3.8; docs/protocols/mipv4.md 2, 3,
 * 5 and 8.1).
 *
 * Order (docs section 3): decode -> security association by SPI -> Identification check
 * (read-only) -> MN-HA authenticator -> FA-HA authenticator -> Identification commit -> the
 * request's own checks (home address bound to the SA, Home Agent field, flags) -> binding change
 * -> reply.  A forged request never moves the replay window and never touches a binding.
 *
 * Synchronized handoff (seed 002 figures 11-13, docs 8.1): when an accepted request moves an
 * existing binding to another care-of address and `synchronized` is on, the binding moves with
 * BINDING_MOVE_SYNC, the reply goes to the requester (the new FA), then a deregistration reply
 * (code 0, lifetime 0, Identification mip4_id_dereg(request)) is queued as a control item on the
 * old path's FIFO, behind whatever that FIFO holds, and the FIFO is drained at once: data items
 * through h->send_data (the data plane, dataplane.c: IP-in-IP to the old care-of address),
 * control items through the UDP 434 socket to the old care-of address, port 434.  Without a
 * data plane the FIFO holds nothing else, so the deregistration reply leaves immediately; a
 * send refused with -EAGAIN leaves the item at the head and the drain timer retries every
 * 10 ms, in order.  With `synchronized: false` the move is BINDING_MOVE_FLUSH and no
 * deregistration reply is sent (plain RFC 5944). */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "had.h"
#include "roam/clock.h"

static void drop(struct had *h, uint64_t *counter, const struct roam_sockaddr *src,
		 const char *why)
{
	char b[ROAM_ADDRSTRLEN];
	(*counter)++;
	log_rl_warnx(&h->drop_rl, "dropped datagram from %s: %s",
		     roam_sockaddr_fmt(src, b, sizeof(b)), why);
}

static int tx(struct had *h, const struct roam_sockaddr *dst, const void *data, size_t len)
{
	int r = h->send ? h->send(h->send_arg, dst, data, len) : -ENOTCONN;
	if (r < 0) {
		char b[ROAM_ADDRSTRLEN];
		h->stats.drop_tx_error++;
		log_rl_warnx(&h->drop_rl, "send to %s: %s", roam_sockaddr_fmt(dst, b, sizeof(b)),
			     strerror(-r));
	}
	return r;
}

/* Builds a Registration Reply into w: MN-HA authenticator under sa, FA-HA under fa (each may be
 * NULL). */
static int build_reply(struct had *h, struct wbuf *w, const struct mip4_msg *req, uint8_t code,
		       uint16_t lifetime, uint64_t id, const struct had_sa *sa,
		       const struct had_fa *fa)
{
	struct mip4_msg r;
	memset(&r, 0, sizeof(r));
	r.type = MIP4_MSG_REG_REPLY;
	r.code = code;
	r.lifetime = lifetime;
	r.home = req->home;
	/* 136 tells the mobile the right address (RFC 5944 3.8.3.2). */
	r.ha = code == MIP4_CODE_HA_UNKNOWN_HA ? h->conf.address.v4 : req->ha;
	r.id = id;
	r.has_id = 1;
	int rc = mip4_msg_encode(w, &r);
	if (rc == 0 && sa)
		rc = mip4_auth_append(w, 0, MIP4_AUTH_MN_HA, sa->spi, &sa->key);
	if (rc == 0 && fa)
		rc = mip4_auth_append(w, 0, MIP4_AUTH_FA_HA, fa->spi, &fa->key);
	return rc < 0 ? rc : (w->err ? -ENOBUFS : 0);
}

static void reply(struct had *h, const struct roam_sockaddr *dst, const struct mip4_msg *req,
		  uint8_t code, uint16_t lifetime, uint64_t id, const struct had_sa *sa,
		  const struct had_fa *fa)
{
	uint8_t buf[HAD_MAX_MSG];
	struct wbuf w;
	wbuf_init_fixed(&w, buf, sizeof(buf));
	if (build_reply(h, &w, req, code, lifetime, id, sa, fa) < 0) {
		h->stats.drop_tx_error++;
		return;
	}
	if (tx(h, dst, buf, w.len) == 0)
		h->stats.tx_replies++;
}

static void deny(struct had *h, const struct roam_sockaddr *src, const struct mip4_msg *req,
		 uint8_t code, uint64_t id, const struct had_sa *sa, const struct had_fa *fa)
{
	char b1[ROAM_ADDRSTRLEN], b2[ROAM_ADDRSTRLEN];
	struct roam_ipaddr home;
	if (code >= 128 && code < 128 + HAD_NCODES)
		h->stats.denied[code - 128]++;
	roam_ipaddr_set4(&home, req->home);
	log_rl_warnx(&h->drop_rl, "registration of %s from %s denied: %u %s",
		     roam_ipaddr_fmt(&home, b1, sizeof(b1)), roam_sockaddr_fmt(src, b2, sizeof(b2)),
		     code, mip4_code_name(code));
	reply(h, src, req, code, 0, id, sa, fa);
}

struct drain_ctx {
	struct had *h;
	struct roam_sockaddr dst;
};

static int drain_send(const struct bfifo_item *it, void *arg)
{
	struct drain_ctx *c = arg;
	struct had *h = c->h;
	int r;
	if (it->kind == BFIFO_DATA) {
		if (!h->send_data) {
			h->stats.drop_no_dataplane++;
			return -ENOTCONN; /* dropped, the drain goes on */
		}
		struct roam_sockaddr d = c->dst;
		roam_sockaddr_set_port(&d, 0);
		r = h->send_data(h->send_data_arg, &d, it->data, it->len);
		return r == -EAGAIN ? -EAGAIN : (r < 0 ? -EIO : 0);
	}
	/* Control items (the deregistration reply) go out on the UDP 434 socket; drr_delay (a
	 * test knob) holds them at the head of the old path to make the reply late (docs 8.2). */
	if (h->conf.drr_delay && it->enq_ms + h->conf.drr_delay > roam_mono_ms())
		return -EAGAIN;
	r = tx(h, &c->dst, it->data, it->len);
	if (r == 0)
		h->stats.drr_sent++;
	else if (r != -EAGAIN)
		h->stats.drr_failed++;
	return r == -EAGAIN ? -EAGAIN : (r < 0 ? -EIO : 0);
}

static int drain_one(struct had *h, struct binding *b)
{
	if (!b->old.coa.family)
		return 0;
	struct drain_ctx c = { .h = h };
	roam_sockaddr_set(&c.dst, &b->old.coa, MIP4_UDP_PORT);
	bfifo_drain(&b->old.fifo, drain_send, &c, 0);
	if (bfifo_count(&b->old.fifo) == 0) {
		binding_old_release(b);
		return 0;
	}
	return 1;
}

static void drain_timer_cb(uv_timer_t *t)
{
	had_drain_all(t->data);
}

/* The socket refused (-EAGAIN): try again shortly, in FIFO order. */
static void drain_later(struct had *h)
{
	if (h->loop && !uv_is_closing((uv_handle_t *)&h->drain_timer) &&
	    !uv_is_active((uv_handle_t *)&h->drain_timer))
		uv_timer_start(&h->drain_timer, drain_timer_cb, 10, 0);
}

void had_drain_old(struct had *h, struct binding *b)
{
	if (drain_one(h, b))
		drain_later(h);
}

struct drain_all_ctx {
	struct had *h;
	size_t pending;
};

static int drain_walk(struct binding *b, void *arg)
{
	struct drain_all_ctx *c = arg;
	c->pending += (size_t)drain_one(c->h, b);
	return 0;
}

size_t had_drain_all(struct had *h)
{
	struct drain_all_ctx c = { h, 0 };
	binding_foreach(&h->bc, drain_walk, &c);
	if (c.pending)
		drain_later(h);
	return c.pending;
}

/* Queues the deregistration reply for the old path of b (docs 5.3, 8.1). */
static void queue_drr(struct had *h, struct binding *b, const struct mip4_msg *req,
		      const struct had_sa *sa, uint64_t ntp_now)
{
	uint8_t buf[HAD_MAX_MSG];
	struct wbuf w;
	wbuf_init_fixed(&w, buf, sizeof(buf));
	const struct had_fa *ofa = b->old.coa.family == AF_INET ? had_fa_find(h, b->old.coa.v4)
								 : NULL;
	if (build_reply(h, &w, req, MIP4_CODE_ACCEPTED, 0, mip4_id_dereg(req->id), sa, ofa) < 0) {
		h->stats.drr_failed++;
		had_ro_update(h, b, NULL, 0, b->old.coa.v4, ntp_now);
		return;
	}
	/* Route optimized (ro.c, docs 8.4): a correspondent relays it behind its own data. */
	if (had_ro_update(h, b, buf, w.len, b->old.coa.v4, ntp_now) > 0)
		return;
	if (bfifo_push(&b->old.fifo, BFIFO_CTRL, buf, w.len, b->cur.since_ms) < 0) {
		h->stats.drr_failed++;
		return;
	}
	h->stats.drr_queued++;
}

void had_reg_input(struct had *h, const uint8_t *data, size_t len,
		   const struct roam_sockaddr *src, uint64_t now, uint64_t ntp_now)
{
	struct mip4_msg m;
	h->stats.rx_packets++;
	int r = mip4_msg_decode(data, len, &m);
	if (r == 0 || r == -ENOTSUP) {
		switch (m.type) {
		case MIP4_MSG_REG_REQUEST: h->stats.rx_request++; break;
		case MIP4_MSG_REG_REPLY: h->stats.rx_reply++; break;
		case MIP4_MSG_REGIONAL_REQUEST:
		case MIP4_MSG_REGIONAL_REPLY: h->stats.rx_regional++; break;
		case MIP4_MSG_FBU:
		case MIP4_MSG_FBACK: h->stats.rx_fbu++; break;
		default: h->stats.rx_ro++; break;
		}
	}
	if (r == -EPROTONOSUPPORT) {
		h->stats.rx_unknown_type++;
		drop(h, &h->stats.drop_not_request, src, "unknown message type");
		return;
	}
	if (r == -ENOTSUP) {
		/* RFC 5944 1.8: silently discard on an unknown must-understand extension. */
		drop(h, &h->stats.drop_must_understand, src, "unknown extension < 128");
		return;
	}
	if (r < 0) {
		drop(h, &h->stats.drop_malformed, src, "malformed");
		return;
	}
	if (mip4_msg_layout(m.type) >= MIP4_LAYOUT_RO_WARNING) {
		had_ro_input(h, data, len, &m, src, now, ntp_now); /* route optimization, ro.c */
		return;
	}
	if (m.type != MIP4_MSG_REG_REQUEST) {
		drop(h, &h->stats.drop_not_request, src, mip4_msg_name(m.type));
		return;
	}

	/* Mobile-Home authentication (3.8.2.1): SA by SPI. */
	struct had_sa *sa = m.auth[MIP4_AUTH_MN_HA].present ?
				    had_sa_find(h, m.auth[MIP4_AUTH_MN_HA].spi) : NULL;
	if (!sa) {
		h->stats.unknown_spi++;
		deny(h, src, &m, MIP4_CODE_HA_MN_AUTH, m.id, NULL, NULL);
		return;
	}
	unsigned tol_s = h->conf.replay_tolerance / 1000;
	int id_bad = mip4_id_check(m.id, ntp_now, tol_s);
	int replay = id_bad == 0 ? replay_ts_check(&sa->replay, m.id, ntp_now) : 0;
	if (mip4_auth_verify(data, &m, MIP4_AUTH_MN_HA, &sa->key) < 0) {
		h->stats.mn_auth_failed++;
		deny(h, src, &m, MIP4_CODE_HA_MN_AUTH, m.id, sa, NULL);
		return;
	}
	/* Foreign-Home authentication (3.8.2.2) when the sender is a configured FA. */
	struct roam_ipaddr srcip;
	struct had_fa *fa = NULL;
	if (roam_sockaddr_addr(src, &srcip, NULL) == 0 && srcip.family == AF_INET)
		fa = had_fa_find(h, srcip.v4);
	if (fa) {
		if (!m.auth[MIP4_AUTH_FA_HA].present || m.auth[MIP4_AUTH_FA_HA].spi != fa->spi ||
		    mip4_auth_verify(data, &m, MIP4_AUTH_FA_HA, &fa->key) < 0) {
			h->stats.fa_auth_failed++;
			deny(h, src, &m, MIP4_CODE_HA_FA_AUTH, m.id, sa, NULL);
			return;
		}
	}
	if (id_bad) {
		/* Authentic but outside the tolerance: resynchronise (5.7, docs 5.1). */
		deny(h, src, &m, MIP4_CODE_HA_ID_MISMATCH, mip4_id_resync(m.id, ntp_now), sa, fa);
		return;
	}
	if (replay) {
		/* Already seen within the tolerance: no reply (docs 2.3). */
		drop(h, &h->stats.drop_replay, src, "replayed identification");
		return;
	}
	replay_ts_commit(&sa->replay, m.id, ntp_now);

	if (!had_sa_has_home(sa, m.home)) {
		h->stats.foreign_home++;
		deny(h, src, &m, MIP4_CODE_HA_PROHIBITED, m.id, sa, fa);
		return;
	}
	if (m.ha.s_addr != h->conf.address.v4.s_addr) {
		deny(h, src, &m, MIP4_CODE_HA_UNKNOWN_HA, m.id, sa, fa);
		return;
	}
	if (m.flags & MIP4_REQ_D) {
		deny(h, src, &m, MIP4_CODE_HA_PROHIBITED, m.id, sa, fa);
		return;
	}
	if (m.flags & (MIP4_REQ_M | MIP4_REQ_G)) {
		deny(h, src, &m, MIP4_CODE_HA_ENCAP, m.id, sa, fa);
		return;
	}
	if ((m.flags & MIP4_REQ_T) && (m.exts_late & MIP4_HAS_ENCAP_DELIVERY)) {
		/* The delivery style the request depends on is not covered by MN-HA. */
		deny(h, src, &m, MIP4_CODE_HA_BAD_REQUEST, m.id, sa, fa);
		return;
	}
	if ((m.flags & MIP4_REQ_T) && h->conf.reverse_tunnel == HAD_RT_OFF) {
		deny(h, src, &m, MIP4_CODE_HA_RT_UNAVAIL, m.id, sa, fa);
		return;
	}
	if (!(m.flags & MIP4_REQ_T) && h->conf.reverse_tunnel == HAD_RT_MANDATORY) {
		deny(h, src, &m, MIP4_CODE_HA_RT_MANDATORY, m.id, sa, fa);
		return;
	}

	struct roam_ipaddr home, coa;
	roam_ipaddr_set4(&home, m.home);
	roam_ipaddr_set4(&coa, m.coa);
	struct binding *b = binding_lookup(&h->bc, &home);
	char hb[ROAM_ADDRSTRLEN], cb[ROAM_ADDRSTRLEN];
	uint8_t code = (m.flags & MIP4_REQ_S) ? MIP4_CODE_ACCEPTED_NO_SIMUL : MIP4_CODE_ACCEPTED;
	if (code == MIP4_CODE_ACCEPTED_NO_SIMUL)
		h->stats.simultaneous++;

	/* Deregistration (3.8.3.1): lifetime 0, or the mobile is at home (care-of = home). */
	if (m.lifetime == 0 || m.coa.s_addr == m.home.s_addr) {
		/* With S set, lifetime 0 for another care-of address leaves the binding alone. */
		if (b && !((m.flags & MIP4_REQ_S) && !roam_ipaddr_eq(&b->cur.coa, &coa) &&
			   m.coa.s_addr != m.home.s_addr)) {
			had_ro_dereg(h, b, ntp_now); /* ro.c */
			had_binding_remove(h, b);
			h->stats.deregistered++;
			log_info("%s deregistered", roam_ipaddr_fmt(&home, hb, sizeof(hb)));
		}
		h->stats.accepted++;
		reply(h, src, &m, code, 0, m.id, sa, fa);
		had_store_rearm(h, now);
		return;
	}

	uint16_t granted = m.lifetime;
	uint32_t max_s = h->conf.max_lifetime / 1000;
	if (granted > max_s) {
		granted = (uint16_t)max_s;
		h->stats.lifetimes_capped++;
	}
	if (!b && binding_count(&h->bc) >= h->conf.max_bindings) {
		deny(h, src, &m, MIP4_CODE_HA_RESOURCES, m.id, sa, fa);
		return;
	}
	int existed = b != NULL;
	int moving = b && !roam_ipaddr_eq(&b->cur.coa, &coa);
	enum binding_move_mode mode = h->conf.synchronized ? BINDING_MOVE_SYNC : BINDING_MOVE_FLUSH;
	r = binding_update(&h->bc, &home, &coa, granted, now, mode, &b);
	if (r < 0) {
		deny(h, src, &m, r == -ENOMEM ? MIP4_CODE_HA_RESOURCES : MIP4_CODE_HA_UNSPECIFIED,
		     m.id, sa, fa);
		return;
	}
	if (had_binding_attach(h, b, sa->spi) < 0) {
		if (!existed)
			had_binding_remove(h, b);
		deny(h, src, &m, MIP4_CODE_HA_RESOURCES, m.id, sa, fa);
		return;
	}
	b->last_id = m.id;
	b->flags = m.flags;
	h->stats.accepted++;
	if (!existed)
		h->stats.created++;
	else if (moving)
		h->stats.moved++;
	else
		h->stats.refreshed++;
	log_debug("%s at %s for %us (%s)", roam_ipaddr_fmt(&home, hb, sizeof(hb)),
		  roam_ipaddr_fmt(&coa, cb, sizeof(cb)), granted,
		  !existed ? "new" : moving ? "moved" : "refresh");
	reply(h, src, &m, code, granted, m.id, sa, fa);
	if (moving && h->conf.synchronized && b->old.coa.family) {
		queue_drr(h, b, &m, sa, ntp_now); /* also updates the correspondents (ro.c) */
		had_drain_old(h, b);
	} else {
		had_ro_update(h, b, NULL, 0, (struct in_addr){ 0 }, ntp_now); /* ro.c */
	}
	had_store_rearm(h, now);
}
