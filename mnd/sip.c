/* mnd module `sip`: SIP terminal mobility (seed 001 [71]-[77], sip-mobility.md part 3).  The
 * mobile's user agent (roam/sip_ua.h) takes its contact address from the configured interface;
 * when the netlink monitor reports that this care-of address changed, the UA re-REGISTERs with
 * every server and re-INVITEs every peer with the new address in Contact and SDP.  With
 * nat_continuity the REGISTER after a move claims the previous address (part 4); when the
 * registrar accepts, the mobile installs the reverse rewrite (roam/nft.h, ROAM_NFT_GUARD,
 * docs/nat-rules.md) so that the sessions of before the move keep the old address; a 420 (or
 * any refusal) falls back to the re-INVITEs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mnd.h"
#include "roam/nft.h"

struct mnd_sip {
	struct mnd *m;
	struct sip_agent *agent;
	struct mnd_sip_addrs addrs;
	struct roam_nft *nft;
	bool pair_installed, old_added;
	struct roam_prefix old_on_lo;
	uint64_t address_changes, natc_installed, natc_install_errors;
};

static bool sip_enabled(const struct mnd_conf *c)
{
	return c->sip.aor != NULL;
}

bool mnd_sip_track(struct mnd_sip_addrs *t, const struct roam_nl_event *ev)
{
	size_t i = 0;
	if (ev->addr.addr.family != AF_INET ||
	    (ev->type != ROAM_NL_EV_ADDR_NEW && ev->type != ROAM_NL_EV_ADDR_DEL))
		return false;
	while (i < t->n && !roam_ipaddr_eq(&t->a[i], &ev->addr.addr))
		i++;
	if (ev->type == ROAM_NL_EV_ADDR_NEW) {
		if (i < t->n) /* a refresh of one we know */
			return false;
		if (t->n == MND_SIP_MAX_ADDRS) {
			memmove(t->a, t->a + 1, sizeof(t->a[0]) * (MND_SIP_MAX_ADDRS - 1));
			t->n--;
		}
		t->a[t->n++] = ev->addr.addr; /* the newest address is the care-of address */
		return true;
	}
	if (i == t->n)
		return false;
	memmove(t->a + i, t->a + i + 1, sizeof(t->a[0]) * (t->n - i - 1));
	t->n--;
	return true;
}

static void sip_on_link_event(struct mnd *m, void *state, const struct roam_nl_event *ev)
{
	struct mnd_sip *s = state;
	const struct sip_agent_conf *c = &m->conf.sip;
	if (c->address.family || !c->interface[0])
		return;
	if (ev->type != ROAM_NL_EV_ADDR_NEW && ev->type != ROAM_NL_EV_ADDR_DEL)
		return;
	const struct mnd_iface *f = mnd_iface_by_index(m, ev->ifindex);
	const char *name = f ? f->name : ev->ifname;
	if (strcmp(name, c->interface) != 0)
		return;
	if (!mnd_sip_track(&s->addrs, ev))
		return;
	s->address_changes++;
	sip_agent_set_address(s->agent, s->addrs.n ? &s->addrs.a[s->addrs.n - 1] : NULL);
}

/* The registrar took the claim: the reverse pair on the mobile (old = NEW, new = OLD, with the
 * socket guard), and OLD kept as a local address so that the old sessions' packets, rewritten
 * back to OLD, are delivered (docs/nat-rules.md, "The guard"). */
static void sip_natc_result(void *arg, const struct roam_ipaddr *old,
			    const struct roam_ipaddr *new_addr, enum sip_natc_result res)
{
	struct mnd_sip *s = arg;
	char b1[ROAM_ADDRSTRLEN], b2[ROAM_ADDRSTRLEN];
	if (res != SIP_NATC_ACCEPTED) {
		log_info("sip: NAT continuity not available for %s: re-INVITE instead",
			 roam_ipaddr_fmt(old, b1, sizeof(b1)));
		return;
	}
	int r;
	if (!s->nft && (r = roam_nft_open("mnd", &s->nft)) < 0) {
		log_warnx("sip: nft: %s", strerror(-r));
		s->natc_install_errors++;
		return;
	}
	if (s->pair_installed) {
		(void)roam_nft_pair_del(s->nft, "sip-natc");
		s->pair_installed = false;
	}
	struct roam_nft_pair p = { .old = *new_addr, .new = *old,
				   .flags = ROAM_NFT_DST | ROAM_NFT_GUARD };
	snprintf(p.tag, sizeof(p.tag), "sip-natc");
	if ((r = roam_nft_pair_add(s->nft, &p)) < 0) {
		log_warnx("sip: reverse rewrite %s -> %s: %s (%s)",
			  roam_ipaddr_fmt(new_addr, b1, sizeof(b1)), roam_ipaddr_fmt(old, b2, sizeof(b2)),
			  strerror(-r), roam_nft_error(s->nft));
		s->natc_install_errors++;
		return;
	}
	s->pair_installed = true;
	s->natc_installed++;
	int lo;
	struct roam_prefix pf = { .addr = *old, .len = 32 };
	if (!s->old_added && roam_nl_ifindex("lo", &lo) == 0 &&
	    roam_nl_addr_add(s->m->nl, lo, &pf, 0) == 0) {
		s->old_added = true;
		s->old_on_lo = pf;
	}
	log_info("sip: NAT continuity: %s kept for the sessions of before the move",
		 roam_ipaddr_fmt(old, b1, sizeof(b1)));
}

/* after the agent's members in "sip" and the module status */
static void sip_status_extra(void *arg, struct json_writer *w)
{
	struct mnd_sip *s = arg;
	json_kv_uint(w, "address_changes", s->address_changes);
	json_kv_bool(w, "natc_rewrite", s->pair_installed);
	json_kv_uint(w, "natc_installed", s->natc_installed);
	json_kv_uint(w, "natc_install_errors", s->natc_install_errors);
}

static int sip_start(struct mnd *m, void **state)
{
	struct mnd_sip *s = calloc(1, sizeof(*s));
	int r;
	if (!s)
		return -ENOMEM;
	s->m = m;
	struct sip_agent_hooks h = { .natc_result = sip_natc_result, .status = sip_status_extra,
				     .arg = s };
	if ((r = sip_agent_open(m->loop, &m->conf.sip, &h, &s->agent)) < 0) {
		free(s);
		return r;
	}
	/* the interface's addresses arrive with the monitor's dump (on_link_event) */
	*state = s;
	return 0;
}

static void sip_stop(struct mnd *m, void *state)
{
	struct mnd_sip *s = state;
	if (s->nft) {
		(void)roam_nft_destroy(s->nft);
		s->nft = NULL;
	}
	if (s->old_added) {
		int lo;
		if (roam_nl_ifindex("lo", &lo) == 0)
			(void)roam_nl_addr_del(m->nl, lo, &s->old_on_lo);
		s->old_added = false;
	}
	sip_agent_close(s->agent);
	s->agent = NULL;
}

static int sip_reload(struct mnd *m, void *state, const struct mnd_conf *old, char *err,
		      size_t errlen)
{
	(void)state;
	return sip_agent_reload(&m->conf.sip, &old->sip, err, errlen);
}

static void sip_free(struct mnd *m, void *state)
{
	(void)m;
	free(state);
}

static void sip_status(struct mnd *m, void *state, struct json_writer *w)
{
	(void)m;
	struct mnd_sip *s = state;
	sip_agent_status(s->agent, w); /* with sip_status_extra's members */
}

/* "sip", "sip-call", "sip-hangup" */
static int sip_ctl_register(struct mnd *m, void *state, struct roam_ctl *ctl)
{
	(void)m;
	struct mnd_sip *s = state;
	return sip_agent_ctl_register(s->agent, ctl);
}

const struct mnd_module mnd_sip_module = {
	.name = "sip",
	.enabled = sip_enabled,
	.start = sip_start,
	.stop = sip_stop,
	.reload = sip_reload,
	.on_link_event = sip_on_link_event,
	.ctl_register = sip_ctl_register,
	.status = sip_status,
	.free = sip_free,
};
