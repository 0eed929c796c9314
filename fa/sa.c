/* Security associations of the foreign agent (RFC 5944 3.5; docs/protocols/mipv4.md 9): FA-HA
 * per home agent address, MN-FA per mobile home address (also used as the MN-PAR association
 * of the mobile's Fast Binding Updates, RFC 4988).  And the cell table. */
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include "fad.h"

void fad_sa_free(struct fad *f)
{
	for (size_t i = 0; i < f->nhas; i++)
		auth_key_wipe(&f->has[i].key);
	for (size_t i = 0; i < f->nmns; i++)
		auth_key_wipe(&f->mns[i].key);
	auth_key_wipe(&f->region.key);
	f->region.enabled = false;
	free(f->has);
	free(f->mns);
	f->has = NULL;
	f->mns = NULL;
	f->nhas = f->nmns = 0;
}

int fad_sa_build(struct fad *f)
{
	const struct fad_conf *c = &f->conf;
	struct fad_ha_sa *has = calloc(c->nhas ? c->nhas : 1, sizeof(*has));
	struct fad_mn_sa *mns = calloc(c->nmobiles ? c->nmobiles : 1, sizeof(*mns));
	if (!has || !mns) {
		free(has);
		free(mns);
		return -ENOMEM;
	}
	uint64_t tol = (uint64_t)(c->replay_tolerance / 1000) << 32;
	for (size_t i = 0; i < c->nhas; i++) {
		const struct fad_conf_ha *h = &c->home_agents[i];
		if (mip4_sa_key_set(&has[i].key, h->algorithm, h->key.data, h->key.len) < 0)
			goto bad;
		has[i].addr = h->address.v4;
		has[i].spi = h->spi;
		snprintf(has[i].name, sizeof(has[i].name), "%s", h->name && *h->name ? h->name : "-");
	}
	for (size_t i = 0; i < c->nmobiles; i++) {
		const struct fad_conf_mobile *m = &c->mobiles[i];
		struct fad_mn_sa *s = &mns[i];
		if (mip4_sa_key_set(&s->key, m->algorithm, m->key.data, m->key.len) < 0)
			goto bad;
		s->home = m->home.v4;
		s->spi = m->spi;
		snprintf(s->name, sizeof(s->name), "%s", m->name && *m->name ? m->name : "-");
		replay_ts_init(&s->replay, tol, REPLAY_TS_SLOTS);
		struct fad_mn_sa *old = fad_mn_find(f, s->home);
		if (old && old->spi == s->spi && old->key.alg == s->key.alg &&
		    old->key.len == s->key.len && memcmp(old->key.bytes, s->key.bytes, s->key.len) == 0) {
			s->replay = old->replay;
			s->replay.tolerance = tol;
		}
	}
	/* Lower-FA role: the FA-FA SA with the region's GFA. */
	struct roam_key rkey;
	memset(&rkey, 0, sizeof(rkey));
	bool region = c->region.gfa.family == AF_INET;
	if (region && mip4_sa_key_set(&rkey, c->region.algorithm, c->region.key.data,
				      c->region.key.len) < 0)
		goto bad;
	fad_sa_free(f);
	f->region.enabled = region;
	f->region.gfa = region ? c->region.gfa.v4 : (struct in_addr){ 0 };
	f->region.spi = c->region.spi;
	f->region.key = rkey;
	f->has = has;
	f->nhas = c->nhas;
	f->mns = mns;
	f->nmns = c->nmobiles;
	return 0;
bad:
	for (size_t i = 0; i < c->nhas; i++)
		auth_key_wipe(&has[i].key);
	for (size_t i = 0; i < c->nmobiles; i++)
		auth_key_wipe(&mns[i].key);
	free(has);
	free(mns);
	return -EINVAL;
}

struct fad_ha_sa *fad_ha_find(struct fad *f, struct in_addr ha)
{
	for (size_t i = 0; i < f->nhas; i++)
		if (f->has[i].addr.s_addr == ha.s_addr)
			return &f->has[i];
	return NULL;
}

struct fad_mn_sa *fad_mn_find(struct fad *f, struct in_addr home)
{
	for (size_t i = 0; i < f->nmns; i++)
		if (f->mns[i].home.s_addr == home.s_addr)
			return &f->mns[i];
	return NULL;
}

int fad_cells_build(struct fad *f, int resolve)
{
	const struct fad_conf *c = &f->conf;
	struct fad_cell *cells = calloc(c->ncells ? c->ncells : 1, sizeof(*cells));
	if (!cells)
		return -ENOMEM;
	for (size_t i = 0; i < c->ncells; i++) {
		struct fad_cell *cl = &cells[i];
		cl->fad = f;
		cl->index = (int)i;
		snprintf(cl->ifname, sizeof(cl->ifname), "%s", c->cells[i].interface);
		cl->coa = c->cells[i].care_of.v4;
		if (resolve) {
			cl->ifindex = (int)if_nametoindex(cl->ifname);
			if (cl->ifindex == 0) {
				log_warnx("cells[%zu]: interface %s: no such interface", i, cl->ifname);
				free(cells);
				return -ENODEV;
			}
		}
	}
	f->cells = cells;
	f->ncells = c->ncells;
	return 0;
}

void fad_cells_free(struct fad *f)
{
	free(f->cells);
	f->cells = NULL;
	f->ncells = 0;
}

int fad_cell_by_ifindex(const struct fad *f, int ifindex)
{
	for (size_t i = 0; i < f->ncells; i++)
		if (f->cells[i].ifindex && f->cells[i].ifindex == ifindex)
			return (int)i;
	/* Unit tests (no interfaces) and kernels that do not say: one cell is unambiguous. */
	if (f->ncells == 1 && (ifindex == 0 || f->cells[0].ifindex == 0))
		return 0;
	return -1;
}

int fad_cell_by_coa(const struct fad *f, struct in_addr a)
{
	for (size_t i = 0; i < f->ncells; i++)
		if (f->cells[i].coa.s_addr == a.s_addr)
			return (int)i;
	return -1;
}
