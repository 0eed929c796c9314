/* mnd's Mobile IPv4 state machine: discovery, registration, synchronized handoff (mip4_sm.h). */
#include <errno.h>
#include <string.h>

#include "mip4_sm.h"
#include "roam/buf.h"

#define DRR_WAIT_MS 10000u /* give up waiting for an old path's DRR after this */

const char *mip4_sm_state_name(enum mip4_sm_state s)
{
	switch (s) {
	case MIP4_SM_DISCOVER: return "discover";
	case MIP4_SM_REGISTERING: return "registering";
	case MIP4_SM_REGISTERED: return "registered";
	case MIP4_SM_AT_HOME: return "at-home";
	}
	return "unknown";
}

static uint64_t wall(const struct mip4_sm *sm, uint64_t now)
{
	return (uint64_t)((int64_t)now + sm->wall_off);
}

int mip4_sm_init(struct mip4_sm *sm, const struct mip4_sm_conf *conf,
		 const struct mip4_sm_out *out, int64_t wall_off, uint64_t now)
{
	if (!sm || !conf || conf->home.s_addr == 0 || conf->ha.s_addr == 0 ||
	    conf->mnha_key.len == 0 || (conf->has_mnfa && conf->mnfa_key.len == 0) ||
	    (conf->has_mngfa && conf->mngfa_key.len == 0))
		return -EINVAL;
	memset(sm, 0, sizeof(*sm));
	sm->conf = *conf;
	if (!sm->conf.retrans_ms)
		sm->conf.retrans_ms = 1000;
	if (sm->conf.retrans_max_ms < sm->conf.retrans_ms)
		sm->conf.retrans_max_ms = sm->conf.retrans_ms;
	if (!sm->conf.max_tries)
		sm->conf.max_tries = 5;
	if (!sm->conf.refresh_pct || sm->conf.refresh_pct > 95)
		sm->conf.refresh_pct = 80;
	if (out)
		sm->out = *out;
	sm->wall_off = wall_off;
	sm->state = MIP4_SM_DISCOVER;
	for (int i = 0; i < MIP4_SM_RADIOS; i++)
		sm->radio_up[i] = true;
	sm->next_sol = now; /* solicit at the first tick */
	return 0;
}

static bool radio_ok(int radio)
{
	return radio >= 0 && radio < MIP4_SM_RADIOS;
}

static void solicit_all(struct mip4_sm *sm, uint64_t now)
{
	for (int i = 0; i < MIP4_SM_RADIOS; i++)
		if (sm->radio_up[i] && sm->out.solicit) {
			sm->out.solicit(sm->out.arg, i);
			sm->stats.sol_tx++;
		}
	sm->next_sol = now + sm->conf.retrans_max_ms;
}

static int emit(struct mip4_sm *sm, int radio, struct in_addr dst, const void *buf, size_t len)
{
	if (!sm->out.send)
		return -ENOTCONN;
	return sm->out.send(sm->out.arg, radio, dst, buf, len);
}

/* Builds req_buf for the pending request with a fresh Identification and sends it. */
static void transmit(struct mip4_sm *sm, uint64_t now)
{
	struct mip4_msg m;
	struct wbuf w;
	memset(&m, 0, sizeof(m));
	m.type = sm->req_regional ? MIP4_MSG_REGIONAL_REQUEST : MIP4_MSG_REG_REQUEST;
	const struct mip4_sm_agent *ag = &sm->agent[sm->req.radio];
	if (sm->conf.reverse_tunnel && ag->valid && (ag->flags & MIP4_MA_T) && sm->req_lifetime)
		m.flags |= MIP4_REQ_T;
	m.lifetime = sm->req_lifetime;
	m.home = sm->conf.home;
	m.ha = sm->conf.ha;
	/* Regional (docs 8.5): the care-of address field is the local care-of address (the
	 * new FA), the GFA's address stays the one had knows. */
	m.coa = sm->req_regional ? sm->req.fa : sm->req.coa;
	m.id = mip4_id_next(wall(sm, now), sm->id_offset, sm->last_id);
	m.has_id = 1;
	sm->last_id = m.id;
	sm->prev_id = sm->tries > 1 ? sm->req_id : 0;
	sm->req_id = m.id;
	wbuf_init_fixed(&w, sm->req_buf, sizeof(sm->req_buf));
	int r = mip4_msg_encode(&w, &m);
	if (r == 0 && sm->req_regional)
		r = mip4_auth_append(&w, 0, MIP4_AUTH_MN_GFA, sm->conf.mngfa_spi,
				     &sm->conf.mngfa_key);
	else if (r == 0)
		r = mip4_auth_append(&w, 0, MIP4_AUTH_MN_HA, sm->conf.mnha_spi, &sm->conf.mnha_key);
	/* MN-FA only in 1 / 3 (docs 2.4): the GFA authenticates a regional request. */
	if (r == 0 && sm->conf.has_mnfa && !sm->req_regional &&
	    sm->req.fa.s_addr != sm->conf.ha.s_addr)
		r = mip4_auth_append(&w, 0, MIP4_AUTH_MN_FA, sm->conf.mnfa_spi, &sm->conf.mnfa_key);
	if (r < 0 || w.err) {
		sm->pending = false;
		return;
	}
	sm->req_len = w.len;
	sm->stats.req_tx++;
	if (sm->req_regional)
		sm->stats.regional_tx++;
	(void)emit(sm, sm->req.radio, sm->req.fa, sm->req_buf, sm->req_len);
	sm->next_tx = now + sm->interval;
}

static void start_request_ex(struct mip4_sm *sm, int radio, struct in_addr fa,
			     struct in_addr coa, uint16_t lifetime, bool regional, uint64_t now);

static void start_request(struct mip4_sm *sm, int radio, struct in_addr fa, struct in_addr coa,
			  uint16_t lifetime, uint64_t now)
{
	start_request_ex(sm, radio, fa, coa, lifetime, false, now);
}

/* regional: a Regional Registration Request (18) to the GFA of coa, via fa (docs 8.5). */
static void start_request_ex(struct mip4_sm *sm, int radio, struct in_addr fa,
			     struct in_addr coa, uint16_t lifetime, bool regional, uint64_t now)
{
	sm->pending = true;
	sm->req.valid = true;
	sm->req.radio = radio;
	sm->req.fa = fa;
	sm->req.coa = coa;
	sm->req_lifetime = lifetime;
	sm->req_regional = regional;
	sm->tries = 1;
	sm->drr_early = false;
	sm->interval = sm->conf.retrans_ms;
	if (sm->state == MIP4_SM_DISCOVER)
		sm->state = MIP4_SM_REGISTERING;
	transmit(sm, now);
}

static void send_fbu(struct mip4_sm *sm, int radio, struct in_addr ofa, struct in_addr ncoa,
		     uint64_t now)
{
	if (!sm->conf.has_mnfa)
		return; /* the old FA would refuse it (67): MN-PAR needs the MN-FA SA */
	uint8_t buf[256];
	struct mip4_msg m;
	struct wbuf w;
	memset(&m, 0, sizeof(m));
	m.type = MIP4_MSG_FBU;
	m.lifetime = sm->conf.fbu_lifetime_s ? sm->conf.fbu_lifetime_s : 5;
	m.home = sm->conf.home;
	m.ha = ofa;
	m.coa = ncoa;
	m.id = mip4_id_next(wall(sm, now), sm->id_offset, sm->last_id);
	m.has_id = 1;
	sm->last_id = m.id;
	wbuf_init_fixed(&w, buf, sizeof(buf));
	int r = mip4_msg_encode(&w, &m);
	if (r == 0)
		r = mip4_auth_append(&w, 0, MIP4_AUTH_MN_PAR, sm->conf.mnfa_spi, &sm->conf.mnfa_key);
	if (r < 0 || w.err)
		return;
	sm->fbu_pending = true;
	sm->fbu_id = m.id;
	sm->fbu_ofa = ofa;
	sm->stats.fbu_tx++;
	(void)emit(sm, radio, ofa, buf, w.len);
}

void mip4_sm_link(struct mip4_sm *sm, int radio, bool up, uint64_t now)
{
	if (!radio_ok(radio) || sm->radio_up[radio] == up)
		return;
	sm->radio_up[radio] = up;
	if (up) {
		if (sm->out.solicit) {
			sm->out.solicit(sm->out.arg, radio);
			sm->stats.sol_tx++;
		}
		return;
	}
	sm->agent[radio].valid = false;
	if (sm->old.valid && sm->old.radio == radio && sm->cur.radio != radio)
		sm->old.valid = false; /* nothing more can arrive there */
	if (sm->pending && sm->req.radio == radio)
		sm->pending = false;
	(void)now;
}

/* The release of a radio waiting for the upstream guard, now. */
static void release_flush(struct mip4_sm *sm)
{
	if (!sm->rel_pending)
		return;
	sm->rel_pending = false;
	if (sm->out.release)
		sm->out.release(sm->out.arg, sm->rel_radio);
}

/* The old path is done with downstream (its DRR arrived, or we gave up on it).  Its radio is
 * released once release_guard_ms have passed since the sending path left it: what the mobile
 * handed to that radio just before the switch is still on its way out (transmit queue, driver),
 * and releasing the link at once would lose it.  A DRR arriving with the reply (nothing was
 * queued on the old path) would otherwise release it in the same instant as the switch. */
static void release_old(struct mip4_sm *sm, uint64_t now)
{
	if (sm->old.valid && sm->old.radio != sm->cur.radio && sm->out.release) {
		if (sm->rel_pending && sm->rel_radio != sm->old.radio)
			release_flush(sm);
		uint64_t at = sm->switched_at + sm->conf.release_guard_ms;
		sm->rel_pending = true;
		sm->rel_radio = sm->old.radio;
		sm->rel_at = at;
		if (now >= at)
			release_flush(sm);
	}
	sm->old.valid = false;
	sm->old_req_id = 0;
}

void mip4_sm_adv(struct mip4_sm *sm, int radio, struct in_addr src, const struct mip4_adv *a,
		 uint64_t now)
{
	if (!radio_ok(radio) || !a->has_ma) {
		sm->stats.adv_ignored++;
		return;
	}
	sm->stats.adv_rx++;
	struct mip4_sm_agent *ag = &sm->agent[radio];
	bool home = (a->flags & MIP4_MA_H) && src.s_addr == sm->conf.ha.s_addr;
	bool foreign = (a->flags & MIP4_MA_F) && a->n_coa > 0 && !(a->flags & MIP4_MA_B);
	if (!home && !foreign) {
		sm->stats.adv_ignored++;
		return;
	}
	bool fresh = !ag->valid || ag->addr.s_addr != src.s_addr || a->seq < ag->seq;
	ag->valid = true;
	ag->addr = src;
	ag->coa = home ? src : a->coa[0];
	ag->seq = a->seq;
	ag->flags = a->flags;
	ag->reg_lifetime = a->reg_lifetime;
	ag->home = home;
	ag->expires = now + (uint64_t)a->lifetime * 1000u;
	if (home) {
		if (sm->state == MIP4_SM_AT_HOME || (sm->pending && sm->req_lifetime == 0))
			return;
		/* Back home: deregister directly with the HA (RFC 5944 3.6.1.2). */
		struct in_addr coa = sm->conf.home;
		start_request(sm, radio, src, coa, 0, now);
		return;
	}
	if (sm->rereg_cur && sm->cur.valid && sm->cur.radio == radio &&
	    sm->cur.fa.s_addr == src.s_addr) {
		sm->rereg_cur = false; /* back: register with it anew (it ends its forwarding) */
		start_request(sm, radio, src, ag->coa, sm->conf.lifetime_s, now);
		return;
	}
	if (!fresh && (sm->cur.valid || sm->pending))
		return;
	/* In a GFA region (I flag) every FA advertises the GFA's address: the FA itself (the
	 * advertisement's source, the local care-of address) tells them apart. */
	bool region = (a->flags & MIP4_MA_I) != 0;
	if (sm->cur.valid && sm->cur.coa.s_addr == ag->coa.s_addr &&
	    (!region || sm->cur.fa.s_addr == src.s_addr))
		return; /* our FA, restarted or heard again */
	if (sm->pending && sm->req.coa.s_addr == ag->coa.s_addr &&
	    (!region || sm->req.fa.s_addr == src.s_addr))
		return;
	/* A move inside the region whose GFA holds our binding: regional registration with
	 * the GFA (RFC 4857; had sees nothing of it). */
	bool regional = region && sm->conf.has_mngfa && sm->cur.valid &&
			sm->state == MIP4_SM_REGISTERED && sm->cur.coa.s_addr == ag->coa.s_addr;
	uint16_t life = sm->conf.lifetime_s;
	if (a->reg_lifetime && a->reg_lifetime < life)
		life = a->reg_lifetime;
	/* Phase III: the FBU asked before the move could not name the new FA: send it via nFA. */
	if (sm->fbu_pending && sm->fbu_id == 0 && sm->conf.synchronize)
		send_fbu(sm, radio, sm->fbu_ofa, ag->coa, now);
	start_request_ex(sm, radio, src, ag->coa, life, regional, now);
}

static void accepted(struct mip4_sm *sm, const struct mip4_msg *m, uint64_t id, uint64_t now)
{
	sm->pending = false;
	sm->stats.reply_ok++;
	if (sm->req_lifetime == 0) {
		sm->state = MIP4_SM_AT_HOME;
		sm->old = sm->cur;
		sm->cur.valid = false;
		if (sm->out.path)
			sm->out.path(sm->out.arg, -1, sm->req.fa);
		release_old(sm, now);
		return;
	}
	bool moved = sm->cur.valid && (sm->cur.coa.s_addr != sm->req.coa.s_addr ||
				       (sm->req_regional && sm->cur.fa.s_addr != sm->req.fa.s_addr));
	if (sm->req_regional)
		sm->stats.regional_ok++;
	bool first = !sm->cur.valid;
	if (moved) {
		sm->stats.handoffs++;
		if (sm->old.valid)
			release_old(sm, now); /* a second move before the first DRR */
		sm->old = sm->cur;
		sm->old_req_id = id;
		sm->old_deadline = now + DRR_WAIT_MS;
	}
	sm->cur = sm->req;
	sm->state = MIP4_SM_REGISTERED;
	sm->granted_s = m->lifetime;
	uint64_t life_ms = (uint64_t)m->lifetime * 1000u;
	sm->binding_expires = m->lifetime == 0xffff ? UINT64_MAX : now + life_ms;
	sm->refresh_at = m->lifetime == 0xffff ? UINT64_MAX
					       : now + life_ms * sm->conf.refresh_pct / 100u;
	if (moved || first)
		sm->switched_at = now;
	if ((moved || first) && sm->out.path)
		sm->out.path(sm->out.arg, sm->cur.radio, sm->cur.fa);
	if (moved && (!sm->conf.synchronize || sm->drr_early))
		release_old(sm, now);
	sm->drr_early = false;
}

static void input_reply(struct mip4_sm *sm, const uint8_t *pkt, const struct mip4_msg *m,
			uint64_t now)
{
	if (m->home.s_addr != sm->conf.home.s_addr || m->ha.s_addr != sm->conf.ha.s_addr) {
		sm->stats.drop_unexpected++;
		return;
	}
	int mp = sm->pending ? mip4_id_match(m->id, sm->req_id) : 0;
	uint64_t rid = sm->req_id;
	if (sm->pending && mp == 0 && sm->prev_id) { /* reply to the previous transmission */
		mp = mip4_id_match(m->id, sm->prev_id);
		rid = sm->prev_id;
	}
	int mo = sm->old.valid ? mip4_id_match(m->id, sm->old_req_id) : 0;
	bool fa_denial = m->code >= 64 && m->code < 128;
	/* A Regional Registration Reply (19) carries MN-GFA (docs 8.5), a reply (3) MN-HA. */
	bool regional = m->type == MIP4_MSG_REGIONAL_REPLY;
	enum mip4_auth_kind kind = regional ? MIP4_AUTH_MN_GFA : MIP4_AUTH_MN_HA;
	const struct mip4_auth *au = &m->auth[kind];
	bool auth_ok = au->present &&
		       au->spi == (regional ? sm->conf.mngfa_spi : sm->conf.mnha_spi) &&
		       mip4_auth_verify(pkt, m, kind, regional ? &sm->conf.mngfa_key :
								 &sm->conf.mnha_key) == 0;
	if (!auth_ok && !(fa_denial && !au->present && mp == 1)) {
		sm->stats.drop_auth++;
		return;
	}
	if (mp == 1) {
		if (m->code == MIP4_CODE_HA_ID_MISMATCH && !regional) {
			sm->stats.resync_133++;
			sm->id_offset += mip4_id_resync_offset(m->id, rid);
			sm->tries = 1;
			sm->interval = sm->conf.retrans_ms;
			transmit(sm, now);
			return;
		}
		if (mip4_code_accepted(m->code)) {
			accepted(sm, m, rid, now);
			return;
		}
		sm->stats.reply_denied++;
		sm->pending = false;
		if (!sm->cur.valid)
			sm->state = MIP4_SM_DISCOVER;
		sm->next_sol = now + sm->conf.retrans_max_ms;
		return;
	}
	if (mo == 2 && m->lifetime == 0 && mip4_code_accepted(m->code)) {
		sm->stats.drr_rx++;
		release_old(sm, now);
		return;
	}
	if (mp == 2 && m->lifetime == 0 && mip4_code_accepted(m->code) && sm->cur.valid) {
		/* The DRR overtook the reply (e.g. forwarded by the old FA): remember it. */
		sm->stats.drr_rx++;
		sm->drr_early = true;
		return;
	}
	sm->stats.drop_id++;
}

static void input_fback(struct mip4_sm *sm, const uint8_t *pkt, const struct mip4_msg *m)
{
	if (!sm->fbu_pending || m->id != sm->fbu_id || m->home.s_addr != sm->conf.home.s_addr) {
		sm->stats.drop_id++;
		return;
	}
	const struct mip4_auth *au = &m->auth[MIP4_AUTH_MN_PAR];
	bool ok = sm->conf.has_mnfa && au->present && au->spi == sm->conf.mnfa_spi &&
		  mip4_auth_verify(pkt, m, MIP4_AUTH_MN_PAR, &sm->conf.mnfa_key) == 0;
	if (!ok) {
		sm->stats.drop_auth++;
		return;
	}
	sm->fbu_pending = false;
	if (mip4_code_accepted(m->code))
		sm->stats.fback_rx++;
	else
		sm->stats.fback_denied++;
}

void mip4_sm_input(struct mip4_sm *sm, int radio, const void *pkt, size_t len, uint64_t now)
{
	struct mip4_msg m;
	(void)radio;
	if (mip4_msg_decode(pkt, len, &m) < 0) {
		sm->stats.drop_malformed++;
		return;
	}
	if (m.type == MIP4_MSG_REG_REPLY ||
	    (m.type == MIP4_MSG_REGIONAL_REPLY && sm->conf.has_mngfa))
		input_reply(sm, pkt, &m, now);
	else if (m.type == MIP4_MSG_FBACK)
		input_fback(sm, pkt, &m);
	else
		sm->stats.drop_unexpected++;
}

static const struct in_addr *neigh_fa(const struct mip4_sm *sm, const char *network)
{
	if (!network)
		return NULL;
	for (size_t i = 0; i < sm->conf.nneigh; i++)
		if (strcmp(sm->conf.neigh[i].network, network) == 0)
			return &sm->conf.neigh[i].fa;
	return NULL;
}

int mip4_sm_l2_notice(struct mip4_sm *sm, int radio, const char *event, const char *to,
		      uint64_t now)
{
	if (!radio_ok(radio) || !event)
		return -EINVAL;
	sm->stats.l2_notices++;
	if (strcmp(event, "link-up") == 0) {
		sm->radio_up[radio] = false;
		mip4_sm_link(sm, radio, true, now);
		return 0;
	}
	if (strcmp(event, "link-down") == 0) {
		mip4_sm_link(sm, radio, false, now);
		return 0;
	}
	if (strcmp(event, "link-going-down") != 0)
		return -EINVAL;
	if (!sm->conf.synchronize)
		return 0;
	if (sm->old.valid && sm->old.radio == radio && sm->cur.valid && sm->cur.radio != radio) {
		/* Phase II: the DRR is late; the old FA forwards the rest to the new care-of. */
		send_fbu(sm, radio, sm->old.fa, sm->cur.coa, now);
		return 0;
	}
	if (sm->cur.valid && sm->cur.radio == radio) {
		/* Phase III: single radio about to move.  A previous move's old path still waiting
		 * for its DRR is given up: that FA forwards to us, and we leave it behind now. */
		if (sm->old.valid && sm->old.radio == radio)
			release_old(sm, now);
		const struct in_addr *nfa = neigh_fa(sm, to);
		if (nfa && nfa->s_addr == sm->cur.fa.s_addr && sm->pending &&
		    sm->req.radio == radio && sm->req.fa.s_addr != sm->cur.fa.s_addr) {
			/* Back to the FA we are still registered with, the registration via the
			 * cell we leave not yet answered (moves in quick succession): no FBU (it
			 * would name that FA itself), the request is given up, and the FA is asked
			 * anew once heard: it is forwarding to the other one and must take us back. */
			sm->pending = false;
			sm->rereg_cur = true;
			sm->stats.l2_pingpong++;
			if (sm->out.solicit) {
				sm->out.solicit(sm->out.arg, radio);
				sm->stats.sol_tx++;
			}
			return 0;
		}
		if (nfa) {
			send_fbu(sm, radio, sm->cur.fa, *nfa, now);
		} else if (sm->conf.has_mnfa) {
			/* Unknown new FA: send the FBU via it as soon as it is heard. */
			sm->fbu_pending = true;
			sm->fbu_id = 0;
			sm->fbu_ofa = sm->cur.fa;
		}
		if (sm->out.solicit) {
			sm->out.solicit(sm->out.arg, radio); /* answered once on the new cell */
			sm->stats.sol_tx++;
		}
	}
	return 0;
}

uint64_t mip4_sm_tick(struct mip4_sm *sm, uint64_t now)
{
	uint64_t next = UINT64_MAX;
	if (sm->pending && now >= sm->next_tx) {
		if (sm->tries >= sm->conf.max_tries) {
			sm->stats.req_timeouts++;
			sm->pending = false;
			if (!sm->cur.valid && sm->state != MIP4_SM_AT_HOME) {
				sm->state = MIP4_SM_DISCOVER;
				solicit_all(sm, now);
			}
		} else {
			sm->tries++;
			sm->stats.retrans++;
			sm->interval = sm->interval * 2 > sm->conf.retrans_max_ms
					       ? sm->conf.retrans_max_ms : sm->interval * 2;
			transmit(sm, now);
		}
	}
	if (sm->cur.valid && now >= sm->binding_expires) {
		sm->cur.valid = false;
		sm->state = MIP4_SM_DISCOVER;
		if (sm->out.path)
			sm->out.path(sm->out.arg, -1, sm->cur.fa);
		solicit_all(sm, now);
	}
	if (sm->cur.valid && !sm->pending && now >= sm->refresh_at)
		start_request(sm, sm->cur.radio, sm->cur.fa, sm->cur.coa, sm->conf.lifetime_s, now);
	for (int i = 0; i < MIP4_SM_RADIOS; i++) {
		struct mip4_sm_agent *ag = &sm->agent[i];
		if (ag->valid && now >= ag->expires) {
			ag->valid = false;
			sm->stats.agent_lost++;
			if (sm->radio_up[i] && sm->out.solicit) {
				sm->out.solicit(sm->out.arg, i);
				sm->stats.sol_tx++;
			}
		}
		if (ag->valid && ag->expires < next)
			next = ag->expires;
	}
	if (sm->old.valid && now >= sm->old_deadline)
		release_old(sm, now);
	if (sm->state == MIP4_SM_DISCOVER && !sm->pending && now >= sm->next_sol)
		solicit_all(sm, now);
	if (sm->pending && sm->next_tx < next)
		next = sm->next_tx;
	if (sm->cur.valid) {
		if (!sm->pending && sm->refresh_at < next)
			next = sm->refresh_at;
		if (sm->binding_expires < next)
			next = sm->binding_expires;
	}
	if (sm->old.valid && sm->old_deadline < next)
		next = sm->old_deadline;
	if (sm->rel_pending && now >= sm->rel_at)
		release_flush(sm);
	if (sm->rel_pending && sm->rel_at < next)
		next = sm->rel_at;
	if (sm->state == MIP4_SM_DISCOVER && !sm->pending && sm->next_sol < next)
		next = sm->next_sol;
	return next;
}

void mip4_sm_stop(struct mip4_sm *sm, uint64_t now)
{
	if (!sm->cur.valid)
		return;
	struct mip4_sm_path p = sm->cur;
	start_request(sm, p.radio, p.fa, p.coa, 0, now);
	sm->pending = false; /* not waiting: the daemon is exiting */
}
