/* Registration relay of the foreign agent (RFC 5944 3.7.2, 3.7.3; docs/protocols/mipv4.md 2, 3
 * and 8.1).
 *
 * Request from a mobile on a cell: decode -> cell -> MN-FA authenticator (when an SA exists,
 * or required) -> the FA's own checks (flags, lifetime, care-of address, home agent, capacity)
 * -> pending entry in the visitor list -> relayed to the home agent with everything after the
 * MN-HA extension removed and the FA-HA authenticator appended when an SA with that home agent
 * is configured (3.7.2.1).  A check failing answers the mobile with the FA code (64-88).
 *
 * Reply from a home agent: decode -> FA-HA authenticator when configured (else the reply is
 * silently discarded, 3.7.3.1) -> visitor and Identification match -> visitor state -> relayed
 * to the mobile (after the MN-HA extension: the FA's MN-FA authenticator when configured)
 * through the visitor's FIFO.  The synchronized handoff's deregistration reply (lifetime 0,
 * Identification mip4_id_dereg of the accepted registration's) is relayed the same way, behind
 * whatever the FIFO holds, and the visitor is removed once it has left. */
#include <errno.h>
#include <string.h>

#include "fad.h"
#include "roam/clock.h"

static void drop(struct fad *f, uint64_t *counter, const struct roam_sockaddr *src,
		 const char *why)
{
	char b[ROAM_ADDRSTRLEN];
	(*counter)++;
	log_rl_warnx(&f->drop_rl, "dropped datagram from %s: %s",
		     roam_sockaddr_fmt(src, b, sizeof(b)), why);
}

static int tx(struct fad *f, const struct roam_sockaddr *dst, const struct in_addr *src,
	      int ifindex, const void *data, size_t len)
{
	struct roam_ipaddr s;
	memset(&s, 0, sizeof(s));
	if (src && src->s_addr)
		roam_ipaddr_set4(&s, *src);
	int r = f->send ? f->send(f->send_arg, dst, &s, ifindex, data, len) : -ENOTCONN;
	if (r < 0 && r != -EAGAIN) {
		char b[ROAM_ADDRSTRLEN];
		f->stats.drop_tx_error++;
		log_rl_warnx(&f->drop_rl, "send to %s: %s", roam_sockaddr_fmt(dst, b, sizeof(b)),
			     strerror(-r));
	}
	return r;
}

static const struct fad_cell *cell_of(const struct fad *f, int cell)
{
	return cell >= 0 && (size_t)cell < f->ncells ? &f->cells[cell] : NULL;
}

/* Sends to the mobile at mn on cell (source: the cell's care-of address, out of the cell's
 * interface: the home address is not routed here). */
int fad_send_mobile(struct fad *f, const struct roam_sockaddr *mn, int cell, const void *data,
		    size_t len)
{
	const struct fad_cell *c = cell_of(f, cell);
	return tx(f, mn, c ? &c->coa : NULL, c ? c->ifindex : 0, data, len);
}

static void count_denial(struct fad *f, uint8_t code)
{
	if (code >= FAD_CODE_MIN && code < FAD_CODE_MIN + FAD_NCODES)
		f->stats.denied[code - FAD_CODE_MIN]++;
}

void fad_deny(struct fad *f, const struct mip4_msg *req, const struct roam_sockaddr *mn,
	      int cell, uint8_t code)
{
	uint8_t buf[FAD_MAX_MSG];
	struct wbuf w;
	struct mip4_msg r;
	char b1[ROAM_ADDRSTRLEN], b2[ROAM_ADDRSTRLEN];
	struct roam_ipaddr home;
	count_denial(f, code);
	roam_ipaddr_set4(&home, req->home);
	log_rl_warnx(&f->drop_rl, "registration of %s from %s denied: %u %s",
		     roam_ipaddr_fmt(&home, b1, sizeof(b1)), roam_sockaddr_fmt(mn, b2, sizeof(b2)),
		     code, mip4_code_name(code));
	memset(&r, 0, sizeof(r));
	r.type = req->type == MIP4_MSG_REGIONAL_REQUEST ? MIP4_MSG_REGIONAL_REPLY :
							      MIP4_MSG_REG_REPLY;
	r.code = code;
	r.home = req->home;
	r.ha = req->ha;
	r.id = req->id;
	r.has_id = 1;
	wbuf_init_fixed(&w, buf, sizeof(buf));
	int rc = mip4_msg_encode(&w, &r);
	/* MN-FA on the FA's own replies when an SA exists (RFC 5944 3.7.2.3); never after a
	 * failed MN-FA check (the mobile may hold another key). */
	struct fad_mn_sa *sa = r.type == MIP4_MSG_REG_REPLY ? fad_mn_find(f, req->home) : NULL;
	if (rc == 0 && sa && code != MIP4_CODE_FA_MN_AUTH)
		rc = mip4_auth_append(&w, 0, MIP4_AUTH_MN_FA, sa->spi, &sa->key);
	if (rc < 0 || w.err) {
		f->stats.drop_tx_error++;
		return;
	}
	fad_send_mobile(f, mn, cell, buf, w.len);
}

/* ---- the visitor's FIFO ---- */

struct drain_ctx {
	struct fad *f;
	struct fad_visitor *v;
	bool held;                  /* stopped at data held for a pending registration */
};

static int drain_send(const struct bfifo_item *it, void *arg)
{
	struct drain_ctx *c = arg;
	struct fad *f = c->f;
	struct fad_visitor *v = c->v;
	int ctrl = it->kind == BFIFO_CTRL;
	int r;
	if (v->anticipated) {
		/* Announced by an FBAck, not on our cell yet: hold everything (docs 8.3). */
		c->held = true;
		return -EAGAIN;
	}
	if (v->state == FAD_V_PENDING && !ctrl && !v->remove_when_drained) {
		/* Registration relayed, not answered: hold the data until the reply (docs
		 * 8.1, the new care-of address pitfall). */
		c->held = true;
		return -EAGAIN;
	}
	if (v->state == FAD_V_FORWARDING || !ctrl) {
		/* Data towards the mobile, or anything re-tunnelled to the new care-of address:
		 * the data plane's job. */
		if (!f->send_data) {
			f->stats.drop_no_dataplane++;
			return -ENOTCONN;
		}
		r = f->send_data(f->send_data_arg, v, it->data, it->len, ctrl);
		if (r == 0 && ctrl)
			f->stats.drr_forwarded++;
		return r == -EAGAIN ? -EAGAIN : (r < 0 ? -EIO : 0);
	}
	r = fad_send_mobile(f, &v->mn, v->cell, it->data, it->len);
	if (r == 0)
		f->stats.relayed_replies++;
	return r == -EAGAIN ? -EAGAIN : (r < 0 ? -EIO : 0);
}

static void drain_timer_cb(uv_timer_t *t)
{
	fad_drain_all(t->data);
}

static void drain_later(struct fad *f)
{
	if (f->loop && !uv_is_closing((uv_handle_t *)&f->drain_timer) &&
	    !uv_is_active((uv_handle_t *)&f->drain_timer))
		uv_timer_start(&f->drain_timer, drain_timer_cb, 10, 0);
}

static int drain_one(struct fad *f, struct fad_visitor *v)
{
	struct drain_ctx c = { f, v, false };
	bfifo_drain(&v->b->cur.fifo, drain_send, &c, 0);
	if (c.held)
		return 0; /* drained again when the reply arrives */
	if (bfifo_count(&v->b->cur.fifo))
		return 1;
	if (v->remove_when_drained) {
		v->remove_when_drained = false;
		if (v->state == FAD_V_FORWARDING) {
			/* Forwarding continues until its own expiry. */
		} else if (!v->pend.active) {
			fad_dp_visitor_departed(f, v, roam_mono_ms());
			fad_visitor_remove(f, v);
		} else {
			v->state = FAD_V_PENDING; /* a new request is on its way */
			v->reg_expires = 0;
		}
	}
	return 0;
}

int fad_drain(struct fad *f, struct fad_visitor *v)
{
	int r = drain_one(f, v);
	if (r)
		drain_later(f);
	return r;
}

struct drain_all_ctx {
	struct fad *f;
	size_t pending;
};

static int drain_walk(struct binding *b, void *arg)
{
	struct drain_all_ctx *c = arg;
	if (b->user && bfifo_count(&b->cur.fifo))
		c->pending += (size_t)drain_one(c->f, b->user);
	return 0;
}

size_t fad_drain_all(struct fad *f)
{
	struct drain_all_ctx c = { f, 0 };
	binding_foreach(&f->vl, drain_walk, &c);
	c.pending += fad_gfa_drain_all(f); /* gateway-FA role (gfa.c) */
	if (c.pending)
		drain_later(f);
	return c.pending;
}

void fad_to_mobile(struct fad *f, struct fad_visitor *v, const void *data, size_t len,
		      uint64_t now)
{
	if (bfifo_push(&v->b->cur.fifo, BFIFO_CTRL, data, len, now) < 0) {
		f->stats.drop_tx_error++;
		return;
	}
	fad_drain(f, v);
}

/* ---- Registration Request from a mobile ---- */

static void request_input(struct fad *f, const uint8_t *data, struct mip4_msg *m,
			  int dec, const struct roam_sockaddr *src, int cell, uint64_t now)
{
	const struct fad_cell *cl = &f->cells[cell];
	f->cells[cell].rx_requests++;
	if (dec == -EBADMSG) {
		/* 70 only when the fixed part named the mobile. */
		if (m->bad_ext >= 0 && m->home.s_addr)
			fad_deny(f, m, src, cell, MIP4_CODE_FA_BAD_REQUEST);
		else
			drop(f, &f->stats.drop_malformed, src, "malformed request");
		return;
	}
	/* Mobile-Foreign authentication (3.7.2.2); not carried in a regional request (docs
	 * 2.4: MN-GFA authenticates it, at the GFA). */
	struct fad_mn_sa *sa = m->type == MIP4_MSG_REG_REQUEST ? fad_mn_find(f, m->home) : NULL;
	if (m->type != MIP4_MSG_REG_REQUEST) {
		/* MN-FA is for 1 / 3 only */
	} else if (sa) {
		if (!m->auth[MIP4_AUTH_MN_FA].present || m->auth[MIP4_AUTH_MN_FA].spi != sa->spi ||
		    mip4_auth_verify(data, m, MIP4_AUTH_MN_FA, &sa->key) < 0) {
			fad_deny(f, m, src, cell, MIP4_CODE_FA_MN_AUTH);
			return;
		}
	} else if (f->conf.require_mn_fa) {
		fad_deny(f, m, src, cell, MIP4_CODE_FA_MN_AUTH);
		return;
	}
	/* In a GFA region every request goes to the GFA (docs 8.5): a Regional Registration
	 * Request (18) carries MN-GFA, a home registration (1) MN-HA. */
	bool regional = m->type == MIP4_MSG_REGIONAL_REQUEST;
	bool to_gfa = f->region.enabled;
	size_t keep;
	if (mip4_auth_end(m, regional ? MIP4_AUTH_MN_GFA : MIP4_AUTH_MN_HA, &keep) < 0) {
		/* Without MN-HA the home agent cannot authenticate it (3.3 requires it), without
		 * MN-GFA the GFA cannot. */
		fad_deny(f, m, src, cell, MIP4_CODE_FA_BAD_REQUEST);
		return;
	}
	if (m->flags & (MIP4_REQ_M | MIP4_REQ_G)) {
		fad_deny(f, m, src, cell, MIP4_CODE_FA_ENCAP);
		return;
	}
	if ((m->flags & MIP4_REQ_T) && f->conf.reverse_tunnel == FAD_RT_OFF) {
		fad_deny(f, m, src, cell, MIP4_CODE_FA_RT_UNAVAIL);
		return;
	}
	if (!(m->flags & MIP4_REQ_T) && m->lifetime && f->conf.reverse_tunnel == FAD_RT_MANDATORY) {
		fad_deny(f, m, src, cell, MIP4_CODE_FA_RT_MANDATORY);
		return;
	}
	if (m->lifetime > f->conf.max_lifetime / 1000) {
		fad_deny(f, m, src, cell, MIP4_CODE_FA_LIFETIME);
		return;
	}
	/* A deregistration may carry the home address as care-of address (3.6.1.1). */
	if (m->lifetime && fad_cell_by_coa(f, m->coa) < 0 &&
	    !(to_gfa && !regional && m->coa.s_addr == f->region.gfa.s_addr)) {
		fad_deny(f, m, src, cell, MIP4_CODE_FA_INVALID_COA);
		return;
	}
	if (m->ha.s_addr == 0 || m->ha.s_addr == INADDR_BROADCAST ||
	    m->home.s_addr == 0 || m->home.s_addr == INADDR_BROADCAST) {
		/* Dynamic home agent / home address discovery is not supported. */
		fad_deny(f, m, src, cell, MIP4_CODE_FA_PROHIBITED);
		return;
	}
	struct fad_ha_sa *hsa = to_gfa ? NULL : fad_ha_find(f, m->ha);
	if (!fad_ha_find(f, m->ha) && f->conf.known_home_agents_only) {
		fad_deny(f, m, src, cell, MIP4_CODE_FA_PROHIBITED);
		return;
	}
	struct fad_visitor *v = fad_visitor_find(f, m->home);
	if (!v) {
		int r = fad_visitor_new(f, m->home, now, &v);
		if (r < 0) {
			fad_deny(f, m, src, cell, MIP4_CODE_FA_RESOURCES);
			return;
		}
	}
	/* Relay: keep the message up to the MN-HA extension, add FA-HA (3.7.2.1). */
	uint8_t out[FAD_MAX_MSG];
	struct wbuf w;
	wbuf_init_fixed(&w, out, sizeof(out));
	wbuf_put_bytes(&w, data, keep);
	if (to_gfa) {
		/* Towards the GFA (RFC 4857 4.1, 4.2): Hierarchical FA (our address on the cell,
		 * the local care-of address), in a home registration the GFA IP Address before
		 * it, then FA-FA instead of FA-HA (docs 2.4, 2.5). */
		if (!regional) {
			wbuf_put_u8(&w, MIP4_EXT_GFA_ADDR);
			wbuf_put_u8(&w, 4);
			wbuf_put_bytes(&w, &f->region.gfa, 4);
		}
		wbuf_put_u8(&w, MIP4_EXT_HIER_FA);
		wbuf_put_u8(&w, 4);
		wbuf_put_bytes(&w, &cl->coa, 4);
		if (mip4_auth_append(&w, 0, MIP4_AUTH_FA_FA, f->region.spi, &f->region.key) < 0)
			w.err = -EIO;
	}
	if (hsa && mip4_auth_append(&w, 0, MIP4_AUTH_FA_HA, hsa->spi, &hsa->key) < 0) {
		f->stats.drop_tx_error++;
		if (v->state == FAD_V_PENDING && !v->pend.active)
			fad_visitor_remove(f, v);
		return;
	}
	if (w.err) {
		f->stats.drop_tx_error++;
		if (v->state == FAD_V_PENDING && !v->pend.active)
			fad_visitor_remove(f, v);
		return;
	}
	if (v->pend.active)
		f->stats.pending_replaced++;
	if (v->state == FAD_V_FORWARDING && m->lifetime)
		fad_visitor_return(f, v, now); /* back on our cell: forwarding to it would loop */
	if (v->anticipated) {
		/* The announced mobile has arrived: what was held for it goes out from now on. */
		v->anticipated = false;
		f->stats.anticipated_arrived++;
	}
	v->pend.active = true;
	v->pend.id = m->id;
	v->pend.lifetime = m->lifetime;
	v->pend.flags = m->flags;
	v->pend.ha = m->ha;
	v->pend.coa = m->coa;
	v->pend.mn = *src;
	v->pend.cell = cell;
	v->pend.deadline = now + f->conf.relay_timeout;
	if (v->state == FAD_V_PENDING) {
		v->cell = cell;
		v->mn = *src;
		v->ha = m->ha;
		v->coa = m->coa;
	}
	fad_visitor_schedule(f, v, now);
	struct roam_sockaddr dst;
	struct roam_ipaddr ha;
	roam_ipaddr_set4(&ha, to_gfa ? f->region.gfa : m->ha);
	roam_sockaddr_set(&dst, &ha, MIP4_UDP_PORT);
	/* From the care-of address: the home agent knows the FA (and its FA-HA SA) by it.  The
	 * GFA knows us by our address on the cell (Hierarchical FA). */
	struct in_addr from = m->lifetime && !to_gfa ? m->coa : cl->coa;
	if (tx(f, &dst, &from, 0, out, w.len) == 0) {
		f->stats.relayed_requests++;
		if (m->lifetime == 0)
			f->stats.relayed_deregistrations++;
		if (to_gfa && regional)
			f->stats.region_regional_relayed++;
		else if (to_gfa)
			f->stats.region_home_relayed++;
	}
	if (bfifo_count(&v->b->cur.fifo))
		fad_drain(f, v); /* e.g. the FBAck held for it while anticipated */
}

/* ---- Registration Reply from a home agent ---- */

/* The reply as relayed to the mobile: up to the MN-HA extension (or the fixed part and the
 * home agent's extensions before FA-HA), plus the FA's MN-FA authenticator when configured. */
static int build_relayed_reply(struct fad *f, const uint8_t *data, size_t len,
			       const struct mip4_msg *m, uint8_t *out, size_t outlen, size_t *n)
{
	size_t keep;
	enum mip4_auth_kind fa_kind = m->auth[MIP4_AUTH_FA_FA].present ? MIP4_AUTH_FA_FA :
									  MIP4_AUTH_FA_HA;
	if (mip4_auth_end(m, m->type == MIP4_MSG_REGIONAL_REPLY ? MIP4_AUTH_MN_GFA :
								   MIP4_AUTH_MN_HA, &keep) < 0)
		keep = m->auth[fa_kind].present ? m->auth[fa_kind].ext_off : len;
	struct wbuf w;
	wbuf_init_fixed(&w, out, outlen);
	wbuf_put_bytes(&w, data, keep);
	/* MN-FA in 3 only (docs 2.4). */
	struct fad_mn_sa *sa = m->type == MIP4_MSG_REG_REPLY ? fad_mn_find(f, m->home) : NULL;
	if (sa && mip4_auth_append(&w, 0, MIP4_AUTH_MN_FA, sa->spi, &sa->key) < 0)
		return -EIO;
	if (w.err)
		return -ENOBUFS;
	*n = w.len;
	return 0;
}

static void count_ha_code(struct fad *f, uint8_t code)
{
	if (mip4_code_accepted(code))
		return;
	if (code >= 128 && code < 128 + FAD_HA_NCODES)
		f->stats.ha_denied[code - 128]++;
	else
		f->stats.ha_denied_other++;
}

static void reply_input(struct fad *f, const uint8_t *data, size_t len, struct mip4_msg *m,
			int dec, const struct roam_sockaddr *src, uint64_t now)
{
	/* Two sockets: the data the home agent tunnelled before this reply may still wait in the
	 * raw socket.  Take it first, so that a deregistration reply stays behind it (docs 8.1). */
	if (f->dp.enabled)
		roam_tunnel_rx_now(&f->dp.tn);
	struct roam_ipaddr sip;
	struct in_addr from = { 0 };
	if (roam_sockaddr_addr(src, &sip, NULL) == 0 && sip.family == AF_INET)
		from = sip.v4;
	/* In a GFA region the replies come from the GFA with FA-FA (docs 8.5). */
	bool from_gfa = f->region.enabled && from.s_addr == f->region.gfa.s_addr;
	if (f->region.enabled && !from_gfa) {
		/* Our requests went to the GFA: only it answers. */
		drop(f, &f->stats.drop_from_stranger, src, "reply in a region not from our GFA");
		return;
	}
	struct fad_ha_sa *hsa = from_gfa ? NULL : fad_ha_find(f, from);
	if (!hsa && !from_gfa)
		hsa = fad_ha_find(f, m->ha);
	struct fad_visitor *v = dec == 0 || (dec == -EBADMSG && m->bad_ext >= 0) ?
					fad_visitor_find(f, m->home) : NULL;
	if (dec == -EBADMSG) {
		/* 71 to the mobile, only when its pending request is identified and no FA-HA SA
		 * would have had to vouch for the reply (3.7.3.1). */
		if (v && v->pend.active && !hsa && !from_gfa &&
		    mip4_id_match(m->id, v->pend.id) == 1) {
			struct mip4_msg req = *m;
			req.ha = v->pend.ha;
			req.id = v->pend.id;
			v->pend.active = false;
			fad_deny(f, &req, &v->pend.mn, v->pend.cell, MIP4_CODE_FA_BAD_REPLY);
			if (v->state == FAD_V_PENDING)
				fad_visitor_remove(f, v);
			else
				fad_visitor_schedule(f, v, now);
			return;
		}
		drop(f, &f->stats.drop_malformed, src, "malformed reply");
		return;
	}
	if (hsa) {
		if (!m->auth[MIP4_AUTH_FA_HA].present || m->auth[MIP4_AUTH_FA_HA].spi != hsa->spi ||
		    mip4_auth_verify(data, m, MIP4_AUTH_FA_HA, &hsa->key) < 0) {
			/* Silently discarded and logged (3.7.3.1). */
			drop(f, &f->stats.drop_ha_auth, src, "FA-HA authentication of the reply failed");
			return;
		}
	}
	if (from_gfa) {
		if (!m->auth[MIP4_AUTH_FA_FA].present ||
		    m->auth[MIP4_AUTH_FA_FA].spi != f->region.spi ||
		    mip4_auth_verify(data, m, MIP4_AUTH_FA_FA, &f->region.key) < 0) {
			drop(f, &f->stats.region_drop_fa_auth, src,
			     "FA-FA authentication of the GFA's reply failed");
			return;
		}
		f->stats.region_replies++;
	}
	if (!v) {
		drop(f, &f->stats.drop_unknown_visitor, src, "reply for a mobile that is no visitor");
		return;
	}
	uint8_t out[FAD_MAX_MSG];
	size_t n;
	char hb[ROAM_ADDRSTRLEN];
	struct roam_ipaddr home;
	roam_ipaddr_set4(&home, m->home);
	roam_ipaddr_fmt(&home, hb, sizeof(hb));

	if (v->pend.active && mip4_id_match(m->id, v->pend.id) == 1) {
		if (build_relayed_reply(f, data, len, m, out, sizeof(out), &n) < 0) {
			f->stats.drop_tx_error++;
			return;
		}
		struct fad_pending p = v->pend;
		v->pend.active = false;
		count_ha_code(f, m->code);
		int was_registered = v->state == FAD_V_REGISTERED;
		if (!mip4_code_accepted(m->code)) {
			/* Denied: relayed; a visitor that was not registered is dropped with
			 * whatever was queued for it. */
			log_info("registration of %s denied by the home agent: %u %s", hb, m->code,
				 mip4_code_name(m->code));
			v->mn = p.mn;
			v->cell = p.cell;
			if (!was_registered && v->state != FAD_V_FORWARDING) {
				bfifo_flush(&v->b->cur.fifo);
				v->remove_when_drained = true;
			}
		} else if (p.lifetime == 0 || m->lifetime == 0) {
			/* Deregistration accepted: relay, then the visitor goes (3.7.3.2). */
			f->stats.deregistered++;
			log_info("%s deregistered", hb);
			v->mn = p.mn;
			v->cell = p.cell;
			v->remove_when_drained = true;
		} else {
			uint16_t granted = m->lifetime;
			if (granted > p.lifetime)
				granted = p.lifetime; /* never longer than asked (3.7.3.2) */
			if (v->state == FAD_V_FORWARDING) {
				/* The mobile came back: deliver on the cell again. */
				struct roam_ipaddr h;
				roam_ipaddr_set4(&h, v->home);
				binding_move(&f->vl, v->b, &h, now, BINDING_MOVE_FORWARD);
				was_registered = 0;
			}
			v->state = FAD_V_REGISTERED;
			v->ha = p.ha;
			v->coa = p.coa;
			v->mn = p.mn;
			v->cell = p.cell;
			v->flags = p.flags;
			v->granted = granted;
			v->reg_id = p.id;
			v->reg_expires = granted == 0xffff ? now + (uint64_t)f->conf.max_lifetime :
							     now + (uint64_t)granted * 1000;
			if (was_registered)
				f->stats.refreshed++;
			else
				f->stats.registered++;
			log_debug("%s registered via %s for %us", hb, f->cells[p.cell].ifname,
				  granted);
		}
		fad_visitor_schedule(f, v, now);
		fad_dp_release_up(f, v); /* what the mobile sent while this was pending */
		fad_to_mobile(f, v, out, n, now);
		return;
	}
	/* The deregistration reply carries mip4_id_dereg() of the request the mobile sent via
	 * its new FA, which we never saw: it is recognised as an accepted reply with lifetime 0
	 * from the visitor's home agent (FA-HA verified above when configured) with an
	 * Identification newer than the registration it ends (timestamps, RFC 5944 5.7). */
	if ((v->state == FAD_V_REGISTERED || v->state == FAD_V_FORWARDING) && m->lifetime == 0 &&
	    mip4_code_accepted(m->code) && m->ha.s_addr == v->ha.s_addr && m->id > v->reg_id &&
	    mip4_id_match(m->id, v->reg_id) != 1) {
		/* The synchronized handoff's deregistration reply (docs 8.1): relayed in order
		 * behind the data queued for the mobile; the visitor goes once it has left. */
		f->stats.drr_received++;
		if (build_relayed_reply(f, data, len, m, out, sizeof(out), &n) < 0) {
			f->stats.drop_tx_error++;
			return;
		}
		log_info("deregistration reply for %s (moved on): relayed behind %zu queued items",
			 hb, bfifo_count(&v->b->cur.fifo));
		if (v->state == FAD_V_REGISTERED)
			f->stats.drr_relayed++;
		v->remove_when_drained = true;
		fad_to_mobile(f, v, out, n, now);
		return;
	}
	drop(f, &f->stats.drop_unmatched_reply, src, "reply matches no pending request");
}

void fad_input(struct fad *f, const uint8_t *data, size_t len, const struct roam_sockaddr *src,
	       int ifindex, uint64_t now, uint64_t ntp_now)
{
	struct mip4_msg m;
	f->stats.rx_packets++;
	int r = mip4_msg_decode(data, len, &m);
	if (r == 0 || r == -ENOTSUP || (r == -EBADMSG && m.bad_ext >= 0)) {
		switch (m.type) {
		case MIP4_MSG_REG_REQUEST: f->stats.rx_request++; break;
		case MIP4_MSG_REG_REPLY: f->stats.rx_reply++; break;
		case MIP4_MSG_FBU: f->stats.rx_fbu++; break;
		case MIP4_MSG_FBACK: f->stats.rx_fback++; break;
		case MIP4_MSG_REGIONAL_REQUEST:
		case MIP4_MSG_REGIONAL_REPLY: f->stats.rx_regional++; break;
		default: f->stats.rx_ro++; break;
		}
	}
	if (r == -EPROTONOSUPPORT) {
		f->stats.rx_unknown_type++;
		drop(f, &f->stats.drop_malformed, src, "unknown message type");
		return;
	}
	if (r == -ENOTSUP) {
		/* RFC 5944 1.8: silently discard on an unknown must-understand extension. */
		drop(f, &f->stats.drop_must_understand, src, "unknown extension < 128");
		return;
	}
	if (r < 0 && !(r == -EBADMSG && m.bad_ext >= 0)) {
		drop(f, &f->stats.drop_malformed, src, "malformed");
		return;
	}
	int cell = fad_cell_by_ifindex(f, ifindex);
	switch (m.type) {
	case MIP4_MSG_REG_REQUEST:
		if (f->gfa.enabled && r == 0 && m.auth[MIP4_AUTH_FA_FA].present &&
		    fad_gfa_home_request(f, data, len, &m, src, now))
			return; /* a lower FA's relay to the GFA (gfa.c); mobiles send no FA-FA */
		if (cell < 0) {
			drop(f, &f->stats.drop_not_cell, src, "registration request not from a cell");
			return;
		}
		request_input(f, data, &m, r, src, cell, now);
		return;
	case MIP4_MSG_REG_REPLY:
		if (f->gfa.enabled && r == 0 && fad_gfa_home_reply(f, data, len, &m, src, now))
			return; /* answers a home registration the GFA relayed (gfa.c) */
		reply_input(f, data, len, &m, r, src, now);
		return;
	case MIP4_MSG_FBU:
		if (r < 0) {
			drop(f, &f->stats.drop_malformed, src, "malformed FBU");
			return;
		}
		fad_fbu_input(f, data, len, &m, src, cell, now, ntp_now);
		return;
	case MIP4_MSG_FBACK:
		if (r < 0) {
			drop(f, &f->stats.drop_malformed, src, "malformed FBAck");
			return;
		}
		fad_fback_input(f, data, len, &m, src, now);
		return;
	case MIP4_MSG_REGIONAL_REQUEST:
		if (f->gfa.enabled && r == 0) {
			fad_gfa_regional_input(f, data, len, &m, src, now, ntp_now); /* gfa.c */
			return;
		}
		if (f->region.enabled && cell >= 0) {
			request_input(f, data, &m, r, src, cell, now); /* relayed to the GFA */
			return;
		}
		drop(f, &f->stats.drop_from_stranger, src, mip4_msg_name(m.type));
		return;
	case MIP4_MSG_REGIONAL_REPLY:
		if (f->region.enabled) {
			reply_input(f, data, len, &m, r, src, now); /* from the GFA */
			return;
		}
		drop(f, &f->stats.drop_from_stranger, src, mip4_msg_name(m.type));
		return;
	default:
		/* Route optimization: not for a foreign agent. */
		drop(f, &f->stats.drop_from_stranger, src, mip4_msg_name(m.type));
		return;
	}
}
