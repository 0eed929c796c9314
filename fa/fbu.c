/* Fast Binding Update / Acknowledgment (RFC 4988 as docs/protocols/mipv4.md 2.1, 8.2, 8.3 use
 * them) for the synchronized handoff's Phases II and III.
 *
 * As the previous FA (the FBU's Home Agent field is one of our care-of addresses): the mobile's
 * MN-FA security association authenticates it (MN-PAR, 36/4); a mobile without one is a
 * stranger (dropped, counted); Identification within the tolerance and not seen before (checked,
 * then committed after the authenticator verified).  Accepted: the visitor's path moves to the
 * new care-of address with BINDING_MOVE_FORWARD (its queued items first), the visitor stays as
 * a forwarding entry until the FBU's lifetime ends, and the FBAck (code 0) goes to the new
 * care-of address, port 434, where the new FA relays it to the mobile.  Refusals (65, 67, 69,
 * 77) go back to the sender.
 *
 * As the new FA: an FBU from a mobile on a cell, addressed to another FA, is relayed there
 * unchanged; an FBAck for one of our visitors is relayed to the mobile. */
#include <errno.h>
#include <string.h>

#include "fad.h"

static void fback(struct fad *f, const struct mip4_msg *fbu, uint8_t code, uint16_t lifetime,
		  const struct roam_sockaddr *dst, const struct fad_mn_sa *sa)
{
	uint8_t buf[FAD_MAX_MSG];
	struct wbuf w;
	struct mip4_msg r;
	memset(&r, 0, sizeof(r));
	r.type = MIP4_MSG_FBACK;
	r.code = code;
	r.lifetime = lifetime;
	r.home = fbu->home;
	r.ha = fbu->ha;
	r.id = fbu->id;
	r.has_id = 1;
	wbuf_init_fixed(&w, buf, sizeof(buf));
	int rc = mip4_msg_encode(&w, &r);
	if (rc == 0 && sa)
		rc = mip4_auth_append(&w, 0, MIP4_AUTH_MN_PAR, sa->spi, &sa->key);
	if (rc < 0 || w.err) {
		f->stats.drop_tx_error++;
		return;
	}
	struct roam_ipaddr from;
	roam_ipaddr_set4(&from, fbu->ha);
	int r2 = f->send ? f->send(f->send_arg, dst, &from, 0, buf, w.len) : -ENOTCONN;
	if (r2 < 0) {
		f->stats.drop_tx_error++;
		return;
	}
	f->stats.fback_sent++;
	if (code != MIP4_CODE_ACCEPTED) {
		f->stats.fbu_refused++;
		if (code >= FAD_CODE_MIN && code < FAD_CODE_MIN + FAD_NCODES)
			f->stats.denied[code - FAD_CODE_MIN]++;
	}
}

static void drop(struct fad *f, uint64_t *counter, const struct roam_sockaddr *src,
		 const char *why)
{
	char b[ROAM_ADDRSTRLEN];
	(*counter)++;
	log_rl_warnx(&f->drop_rl, "dropped FBU/FBAck from %s: %s",
		     roam_sockaddr_fmt(src, b, sizeof(b)), why);
}

void fad_fbu_input(struct fad *f, const uint8_t *data, size_t len, const struct mip4_msg *m,
		   const struct roam_sockaddr *src, int cell, uint64_t now, uint64_t ntp_now)
{
	if (fad_cell_by_coa(f, m->ha) < 0) {
		/* For another (the previous) FA: relay it when a mobile of ours sent it. */
		if (cell < 0 || m->ha.s_addr == 0) {
			drop(f, &f->stats.fbu_stranger, src, "FBU for another agent, not from a cell");
			return;
		}
		struct roam_sockaddr dst;
		struct roam_ipaddr pa;
		roam_ipaddr_set4(&pa, m->ha);
		roam_sockaddr_set(&dst, &pa, MIP4_UDP_PORT);
		struct roam_ipaddr from;
		roam_ipaddr_set4(&from, f->cells[cell].coa);
		if (f->send && f->send(f->send_arg, &dst, &from, 0, data, len) == 0)
			f->stats.fbu_relayed++;
		else
			f->stats.drop_tx_error++;
		/* Remember the sender: the FBAck comes back through us (docs 8.2). */
		struct fad_visitor *nv = fad_visitor_find(f, m->home);
		if (nv && nv->state != FAD_V_FORWARDING) {
			nv->prev_fa = m->ha; /* its forwarded traffic is accepted (dataplane.c) */
			nv->has_fbu_mn = true;
			nv->fbu_mn = *src;
			nv->fbu_cell = cell;
		}
		return;
	}
	struct fad_mn_sa *sa = fad_mn_find(f, m->home);
	if (!sa) {
		drop(f, &f->stats.fbu_stranger, src, "FBU from a mobile without a security association");
		return;
	}
	unsigned tol_s = f->conf.replay_tolerance / 1000;
	int id_bad = mip4_id_check(m->id, ntp_now, tol_s);
	int replay = id_bad == 0 ? replay_ts_check(&sa->replay, m->id, ntp_now) : 0;
	if (!m->auth[MIP4_AUTH_MN_PAR].present || m->auth[MIP4_AUTH_MN_PAR].spi != sa->spi ||
	    mip4_auth_verify(data, m, MIP4_AUTH_MN_PAR, &sa->key) < 0) {
		fback(f, m, MIP4_CODE_FA_MN_AUTH, 0, src, NULL);
		return;
	}
	if (id_bad || replay) {
		drop(f, &f->stats.fbu_replay, src, id_bad ? "Identification outside the tolerance"
							  : "replayed Identification");
		return;
	}
	replay_ts_commit(&sa->replay, m->id, ntp_now);
	struct fad_visitor *v = fad_visitor_find(f, m->home);
	if (!v || v->state == FAD_V_PENDING || !f->conf.synchronized) {
		fback(f, m, MIP4_CODE_FA_PROHIBITED, 0, src, sa);
		return;
	}
	if (m->lifetime > f->conf.fbu_max_lifetime / 1000) {
		fback(f, m, MIP4_CODE_FA_LIFETIME, 0, src, sa);
		return;
	}
	char hb[ROAM_ADDRSTRLEN], cb[ROAM_ADDRSTRLEN];
	struct roam_ipaddr home, ncoa;
	roam_ipaddr_set4(&home, m->home);
	roam_ipaddr_set4(&ncoa, m->coa);
	roam_ipaddr_fmt(&home, hb, sizeof(hb));
	roam_ipaddr_fmt(&ncoa, cb, sizeof(cb));
	if (m->lifetime == 0) {
		/* Cancels forwarding. */
		if (v->state == FAD_V_FORWARDING) {
			f->stats.fbu_cancelled++;
			log_info("forwarding of %s cancelled by the mobile", hb);
			fad_visitor_remove(f, v);
		}
		fback(f, m, MIP4_CODE_ACCEPTED, 0, src, sa);
		return;
	}
	if (m->coa.s_addr == 0 || m->coa.s_addr == INADDR_BROADCAST ||
	    m->coa.s_addr == m->home.s_addr || fad_cell_by_coa(f, m->coa) >= 0) {
		fback(f, m, MIP4_CODE_FA_INVALID_COA, 0, src, sa);
		return;
	}
	if (!roam_ipaddr_eq(&v->b->cur.coa, &ncoa))
		binding_move(&f->vl, v->b, &ncoa, now, BINDING_MOVE_FORWARD);
	v->state = FAD_V_FORWARDING;
	v->fwd_coa = m->coa;
	v->fwd_expires = now + (uint64_t)m->lifetime * 1000;
	v->fbu_id = m->id;
	v->anticipated = false;
	f->stats.fbu_accepted++;
	log_info("%s moved to %s: forwarding for %us", hb, cb, m->lifetime);
	fad_visitor_schedule(f, v, now);
	/* The FBAck first: the new FA learns from it that the mobile is coming (anticipated
	 * visitor) before the forwarded data reaches it. */
	struct roam_sockaddr dst;
	roam_sockaddr_set(&dst, &ncoa, MIP4_UDP_PORT);
	fback(f, m, MIP4_CODE_ACCEPTED, m->lifetime, &dst, sa);
	fad_drain(f, v);
}

void fad_visitor_return(struct fad *f, struct fad_visitor *v, uint64_t now)
{
	if (v->state != FAD_V_FORWARDING)
		return;
	struct roam_ipaddr h;
	char hb[ROAM_ADDRSTRLEN];
	roam_ipaddr_set4(&h, v->home);
	/* Whatever was still queued for the other FA is the mobile's: back onto our path. */
	binding_move(&f->vl, v->b, &h, now, BINDING_MOVE_FORWARD);
	v->state = FAD_V_PENDING;
	v->reg_expires = 0;
	v->fwd_coa.s_addr = 0;
	v->remove_when_drained = false;
	if (!v->pend.active) {
		v->anticipated = true;
		v->anticipate_expires = now + (f->conf.relay_timeout > f->conf.fbu_max_lifetime ?
						       f->conf.relay_timeout : f->conf.fbu_max_lifetime);
	}
	f->stats.forwarding_returned++;
	log_info("%s is coming back: forwarding ended", roam_ipaddr_fmt(&h, hb, sizeof(hb)));
	fad_visitor_schedule(f, v, now);
}

/* An FBAck for a mobile we do not serve yet: the previous FA accepted its FBU naming our
 * care-of address (docs 8.3, Phase III).  Trusted only when the mobile's MN-PAR authenticator
 * verifies under our own SA with it and we may serve it; then the visitor is created
 * anticipated: the FBAck and the data the previous FA forwards are held until the mobile's
 * request arrives on a cell. */
static struct fad_visitor *anticipate(struct fad *f, const uint8_t *data,
				      const struct mip4_msg *m, const struct roam_sockaddr *src,
				      uint64_t now)
{
	struct fad_mn_sa *sa = fad_mn_find(f, m->home);
	struct roam_ipaddr sip;
	struct fad_visitor *v;
	if (!f->conf.synchronized || !f->send_data || m->code != MIP4_CODE_ACCEPTED ||
	    m->lifetime == 0 || !sa || !m->auth[MIP4_AUTH_MN_PAR].present ||
	    m->auth[MIP4_AUTH_MN_PAR].spi != sa->spi ||
	    mip4_auth_verify(data, m, MIP4_AUTH_MN_PAR, &sa->key) < 0 ||
	    roam_sockaddr_addr(src, &sip, NULL) < 0 || sip.family != AF_INET ||
	    sip.v4.s_addr != m->ha.s_addr || fad_cell_by_coa(f, m->ha) >= 0) {
		f->stats.anticipated_refused++;
		return NULL;
	}
	if (fad_visitor_new(f, m->home, now, &v) < 0) {
		f->stats.anticipated_refused++;
		return NULL;
	}
	v->anticipated = true;
	v->prev_fa = m->ha;
	uint64_t hold = (uint64_t)m->lifetime * 1000;
	if (hold < f->conf.relay_timeout)
		hold = f->conf.relay_timeout;
	v->anticipate_expires = now + hold;
	f->stats.anticipated++;
	fad_visitor_schedule(f, v, now);
	return v;
}

void fad_fback_input(struct fad *f, const uint8_t *data, size_t len, const struct mip4_msg *m,
		     const struct roam_sockaddr *src, uint64_t now)
{
	struct fad_visitor *v = fad_visitor_find(f, m->home);
	if (v && v->state == FAD_V_FORWARDING && m->ha.s_addr == v->fwd_coa.s_addr &&
	    m->code == MIP4_CODE_ACCEPTED) {
		/* The FA we forward to now forwards to us: the mobile comes back (A->B->A). */
		fad_visitor_return(f, v, now);
		v->has_fbu_mn = false;
	}
	if (!v)
		v = anticipate(f, data, m, src, now);
	if (!v || v->state == FAD_V_FORWARDING) {
		drop(f, &f->stats.fback_unknown, src, "FBAck for a mobile that is no visitor");
		return;
	}
	/* The mobile verifies the MN-PAR authenticator: relayed unchanged, to where the FBU came
	 * from when we relayed it, else to the mobile's registration address. */
	if (v->has_fbu_mn) {
		v->has_fbu_mn = false;
		if (fad_send_mobile(f, &v->fbu_mn, v->fbu_cell, data, len) == 0)
			f->stats.fback_relayed++;
		return;
	}
	f->stats.fback_relayed++;
	fad_to_mobile(f, v, data, len, now);
}
