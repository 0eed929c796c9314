/* Security associations: MN-HA per SPI with the home addresses bound to it, FA-HA per foreign
 * agent address (RFC 5944 3.5, docs/protocols/mipv4.md 9).  Replay state is per MN-HA SA and
 * survives a reload when the SA's SPI, algorithm and key are unchanged. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "had.h"

void had_sa_free(struct had *h)
{
	for (size_t i = 0; i < h->nsas; i++)
		auth_key_wipe(&h->sas[i].key);
	for (size_t i = 0; i < h->nfas; i++)
		auth_key_wipe(&h->fas[i].key);
	free(h->sas);
	free(h->fas);
	h->sas = NULL;
	h->fas = NULL;
	h->nsas = h->nfas = 0;
}

int had_sa_build(struct had *h)
{
	const struct had_conf *c = &h->conf;
	struct had_sa *sas = calloc(c->nmobiles ? c->nmobiles : 1, sizeof(*sas));
	struct had_fa *fas = calloc(c->nfas ? c->nfas : 1, sizeof(*fas));
	if (!sas || !fas) {
		free(sas);
		free(fas);
		return -ENOMEM;
	}
	uint64_t tol = (uint64_t)(c->replay_tolerance / 1000) << 32;
	for (size_t i = 0; i < c->nmobiles; i++) {
		const struct had_conf_mobile *m = &c->mobiles[i];
		struct had_sa *s = &sas[i];
		int r = mip4_sa_key_set(&s->key, m->algorithm, m->key.data, m->key.len);
		if (r < 0)
			goto bad;
		s->spi = m->spi;
		snprintf(s->name, sizeof(s->name), "%s", m->name && *m->name ? m->name : "-");
		s->home = m->home;
		s->nhome = m->nhome;
		replay_ts_init(&s->replay, tol, REPLAY_TS_SLOTS);
		struct had_sa *old = had_sa_find(h, m->spi);
		if (old && old->key.alg == s->key.alg && old->key.len == s->key.len &&
		    memcmp(old->key.bytes, s->key.bytes, s->key.len) == 0) {
			s->replay = old->replay;
			s->replay.tolerance = tol;
		}
	}
	for (size_t i = 0; i < c->nfas; i++) {
		const struct had_conf_fa *f = &c->foreign_agents[i];
		int r = mip4_sa_key_set(&fas[i].key, f->algorithm, f->key.data, f->key.len);
		if (r < 0)
			goto bad;
		fas[i].addr = f->address;
		fas[i].spi = f->spi;
		snprintf(fas[i].name, sizeof(fas[i].name), "%s", f->name && *f->name ? f->name : "-");
	}
	had_sa_free(h);
	h->sas = sas;
	h->nsas = c->nmobiles;
	h->fas = fas;
	h->nfas = c->nfas;
	return 0;
bad:
	for (size_t i = 0; i < c->nmobiles; i++)
		auth_key_wipe(&sas[i].key);
	for (size_t i = 0; i < c->nfas; i++)
		auth_key_wipe(&fas[i].key);
	free(sas);
	free(fas);
	return -EINVAL;
}

struct had_sa *had_sa_find(struct had *h, uint32_t spi)
{
	for (size_t i = 0; i < h->nsas; i++)
		if (h->sas[i].spi == spi)
			return &h->sas[i];
	return NULL;
}

int had_sa_has_home(const struct had_sa *sa, struct in_addr a)
{
	for (size_t i = 0; i < sa->nhome; i++)
		if (sa->home[i].family == AF_INET && sa->home[i].v4.s_addr == a.s_addr)
			return 1;
	return 0;
}

struct had_fa *had_fa_find(struct had *h, struct in_addr a)
{
	for (size_t i = 0; i < h->nfas; i++)
		if (h->fas[i].addr.v4.s_addr == a.s_addr)
			return &h->fas[i];
	return NULL;
}
