/* mnd's L2TP module: the mobile's side of an L2TP call (seed 000, US 2003/0224792).  The
 * mobile attaches to a LAC over the emulated access link of its cell, runs the peer side of
 * PPP over it and puts the address IPCP gives it on its own TUN device: all of that is the
 * shared PPP client (roam/pppclient.h) with keep_ppp on.  What this module adds is the moves:
 *
 *   - l2-notice link-going-down (netlab `move --notice`): DETACH cause 1 (moving) to the old
 *     LAC at once, which starts the handoff there (CDN with the handoff cause, USER_MOVED), and
 *     discovery again in_ms + notice_margin later, from the new cell;
 *   - l2-notice link-down / the radio losing its carrier: the access link is gone; discovery
 *     when the carrier (or a link-up notice) is back;
 *   - keepalive silence: the access client goes back to discovery by itself, silence_margin
 *     later (the old LAC finds the mobile silent at about the same time and must have sent
 *     its USER_MOVED before the new LAC sees the ATTACH).
 *
 * In every case PPP is kept: on the new LAC the call is either resumed (the handoff; PPP
 * answers the LAC's CHAP re-challenge if there is one) or the LNS negotiates afresh (standard
 * behaviour; PPP follows its Configure-Request and the address may change). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mnd.h"
#include "roam/pppclient.h"

struct mnd_l2tp {
	struct mnd *m;
	struct pppc *pc;
	size_t cur_radio;
	struct {
		uint64_t notices, carrier_lost, carrier_back, radio_switches;
	} stats;
};

/* Reads the password file: refused if group or others may read or write it. */
static int read_password_file(const char *path, uint8_t *out, size_t *len)
{
	char buf[PPP_SECRET_MAX + 2];
	struct stat st;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || (st.st_mode & 077)) {
		close(fd);
		return -EPERM;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return -EIO;
	buf[n] = 0;
	buf[strcspn(buf, "\r\n")] = 0;
	*len = strlen(buf);
	if (*len == 0 || *len > PPP_SECRET_MAX) {
		explicit_bzero(buf, sizeof(buf));
		return -EINVAL;
	}
	memcpy(out, buf, *len);
	explicit_bzero(buf, sizeof(buf));
	return 0;
}

static bool radio_running(const struct mnd *m, const char *name)
{
	const struct mnd_iface *f = mnd_iface_by_name(m, name);
	return f && f->running;
}

static int l2tp_start(struct mnd *m, void **state)
{
	const struct mnd_l2tp_conf *c = &m->conf.l2tp;
	struct mnd_l2tp *ml = calloc(1, sizeof(*ml));
	struct pppc_conf pc;
	int r;
	if (!ml)
		return -ENOMEM;
	*state = ml;
	ml->m = m;

	memset(&pc, 0, sizeof(pc));
	access_client_conf_default(&pc.ac);
	snprintf(pc.ac.min, sizeof(pc.ac.min), "%s", c->min);
	snprintf(pc.ac.nai, sizeof(pc.ac.nai), "%s", c->nai);
	if (roam_sockaddr_parse(c->lac[0] ? c->lac : c->group, ACCESS_PORT, &pc.ac.target) < 0)
		return -EINVAL; /* checked by the schema */
	ppp_cfg_default(&pc.ppp, PPP_ROLE_PEER);
	pc.ppp.auth = c->auth == 1 ? PPP_AUTH_PAP : c->auth == 2 ? PPP_AUTH_CHAP
								 : PPP_AUTH_PAP | PPP_AUTH_CHAP;
	snprintf(pc.ppp.name, sizeof(pc.ppp.name), "%s", c->ppp_user);
	if (c->password.len) {
		memcpy(pc.ppp.secret, c->password.data, c->password.len);
		pc.ppp.secret_len = c->password.len;
	} else if ((r = read_password_file(c->password_file, pc.ppp.secret,
					   &pc.ppp.secret_len)) < 0) {
		log_warnx("l2tp: password_file %s: %s", c->password_file,
			  r == -EPERM ? "readable by group or others (chmod 600)" : strerror(-r));
		return r;
	}
	/* After the LAC's silence, let the old LAC (which finds us silent at about the same
	 * time) send its USER_MOVED before the new LAC sees our ATTACH. */
	pc.ac.silence_delay_ms = (uint32_t)c->silence_margin;
	pc.ppp.echo_interval_ms = 0; /* the access keepalive watches the link */
	/* Start on the first radio with a carrier (the first one when none has). */
	for (size_t i = 0; i < c->nradios; i++)
		if (radio_running(m, c->radios[i])) {
			ml->cur_radio = i;
			break;
		}
	pc.radio = c->radios[ml->cur_radio];
	pc.tun_name = c->tun;
	pc.default_route = c->default_route;
	pc.keep_ppp = true;
	pc.log_prefix = "l2tp: ";
	if (!mnd_iface_by_name(m, pc.radio)) {
		int ifindex;
		if (roam_nl_ifindex(pc.radio, &ifindex) < 0) {
			log_warnx("l2tp: radio %s does not exist", pc.radio);
			explicit_bzero(&pc.ppp, sizeof(pc.ppp));
			return -ENODEV;
		}
	}
	r = pppc_open(m->loop, &pc, m->nl, &ml->pc);
	explicit_bzero(&pc.ppp, sizeof(pc.ppp));
	if (r < 0) {
		log_warnx("l2tp: %s", strerror(-r));
		return r;
	}
	log_info("l2tp: MIN %s, user %s, radio %s, TUN %s, attaching to %s", c->min, c->ppp_user,
		 c->radios[ml->cur_radio], c->tun, c->lac[0] ? c->lac : c->group);
	pppc_start(ml->pc);
	return 0;
}

static void l2tp_stop(struct mnd *m, void *state)
{
	struct mnd_l2tp *ml = state;
	(void)m;
	if (!ml)
		return;
	pppc_close(ml->pc); /* DETACH, address removed; freed when its handles are closed */
	ml->pc = NULL;
}

static void l2tp_free(struct mnd *m, void *state)
{
	(void)m;
	free(state);
}

static bool l2tp_enabled(const struct mnd_conf *c)
{
	return c->l2tp.min != NULL;
}

static int l2tp_reload(struct mnd *m, void *state, const struct mnd_conf *old, char *err,
		       size_t errlen)
{
	(void)state, (void)old, (void)err, (void)errlen;
	if (l2tp_enabled(&m->conf))
		log_warnx("reload: l2tp changes take effect at the next restart");
	return 0;
}

static int radio_index(const struct mnd *m, const char *name)
{
	const struct mnd_l2tp_conf *c = &m->conf.l2tp;
	for (size_t i = 0; i < c->nradios; i++)
		if (strcmp(c->radios[i], name) == 0)
			return (int)i;
	return -1;
}

/* The current radio lost or regained its carrier; with two radios, ATTACH goes out of one that
 * has a carrier. */
static void radio_state(struct mnd_l2tp *ml, size_t i, bool running)
{
	const struct mnd_l2tp_conf *c = &ml->m->conf.l2tp;
	if (i != ml->cur_radio) {
		if (running && !radio_running(ml->m, c->radios[ml->cur_radio]) &&
		    pppc_set_radio(ml->pc, c->radios[i]) == 0) {
			ml->cur_radio = i;
			ml->stats.radio_switches++;
			if (pppc_carrier(ml->pc, true))
				ml->stats.carrier_back++;
		}
		return;
	}
	if (!running) {
		for (size_t j = 0; j < c->nradios; j++)
			if (j != i && radio_running(ml->m, c->radios[j]) &&
			    pppc_set_radio(ml->pc, c->radios[j]) == 0) {
				ml->cur_radio = j;
				ml->stats.radio_switches++;
				pppc_moving(ml->pc, 0);
				return;
			}
		if (pppc_carrier(ml->pc, false))
			ml->stats.carrier_lost++;
	} else if (pppc_carrier(ml->pc, true)) {
		ml->stats.carrier_back++;
	}
}

static void l2tp_on_link(struct mnd *m, void *state, const struct roam_nl_event *ev)
{
	struct mnd_l2tp *ml = state;
	const struct mnd_iface *f;
	int i;
	if (!ml->pc || (ev->type != ROAM_NL_EV_LINK_NEW && ev->type != ROAM_NL_EV_LINK_DEL))
		return;
	if (!(f = mnd_iface_by_index(m, ev->ifindex)) || (i = radio_index(m, f->name)) < 0)
		return;
	radio_state(ml, (size_t)i, ev->type == ROAM_NL_EV_LINK_NEW && ev->running);
}

static int l2tp_on_l2(struct mnd *m, void *state, const struct mnd_l2_notice *n, char *err,
		      size_t errlen)
{
	struct mnd_l2tp *ml = state;
	size_t i = ml->cur_radio;
	if (!ml->pc)
		return 0;
	if (n->ifname) {
		int k = radio_index(m, n->ifname);
		if (k < 0) {
			/* Another module's interface (mip4): not ours to refuse. */
			return 0;
		}
		i = (size_t)k;
	}
	ml->stats.notices++;
	if (i != ml->cur_radio)
		return 0; /* a notice about the radio we are not using */
	if (strcmp(n->event, "link-going-down") == 0) {
		uint64_t d = (n->in_ms > 0 ? (uint64_t)n->in_ms : 0) + m->conf.l2tp.notice_margin;
		pppc_moving(ml->pc, d);
	} else if (strcmp(n->event, "link-down") == 0) {
		if (pppc_carrier(ml->pc, false))
			ml->stats.carrier_lost++;
	} else if (strcmp(n->event, "link-up") == 0) {
		if (pppc_carrier(ml->pc, true))
			ml->stats.carrier_back++;
	} else {
		snprintf(err, errlen, "l2tp: unknown event %s", n->event);
		return -EINVAL;
	}
	return 0;
}

static void l2tp_status(struct mnd *m, void *state, struct json_writer *w)
{
	struct mnd_l2tp *ml = state;
	(void)m;
	if (!ml->pc)
		return;
	pppc_status_json(ml->pc, w);
	json_kv_uint(w, "l2_notices", ml->stats.notices);
	json_kv_uint(w, "carrier_lost", ml->stats.carrier_lost);
	json_kv_uint(w, "carrier_back", ml->stats.carrier_back);
	json_kv_uint(w, "radio_switches", ml->stats.radio_switches);
}

static int cmd_l2tp(void *arg, const struct json_value *args, struct json_writer *w, char *err,
		    size_t errlen)
{
	struct mnd_l2tp *ml = arg;
	(void)args, (void)err, (void)errlen;
	json_obj_begin(w);
	l2tp_status(ml->m, ml, w);
	json_obj_end(w);
	return 0;
}

static int l2tp_ctl(struct mnd *m, void *state, struct roam_ctl *ctl)
{
	(void)m;
	return ctl_register(ctl, "l2tp", "L2TP access: link, current LAC, PPP state, address, "
			    "ppp_negotiations, attaches, reattaches", cmd_l2tp, state);
}

const struct mnd_module mnd_l2tp_module = {
	.name = "l2tp",
	.enabled = l2tp_enabled,
	.start = l2tp_start,
	.stop = l2tp_stop,
	.reload = l2tp_reload,
	.on_link_event = l2tp_on_link,
	.on_l2_notice = l2tp_on_l2,
	.ctl_register = l2tp_ctl,
	.status = l2tp_status,
	.free = l2tp_free,
};
