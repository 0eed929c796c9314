/* Agent advertisements on each cell (RFC 5944 2.1, 2.3; docs/protocols/mipv4.md 6): an ICMP
 * Router Advertisement (code 16, one router address: the cell's care-of address) with the
 * Mobility Agent Advertisement extension: F and R set, B when the visitor list is full, T when
 * reverse tunnelling is offered, the registration lifetime fad accepts and the cell's care-of
 * address (in a GFA region: I and the GFA's address).  Socket, timer and solicitations: the shared roam/mip4_agent.h advertiser. */
#include <errno.h>
#include <string.h>

#include "fad.h"

int fad_adv_build(struct fad *f, int cell, uint16_t seq, struct wbuf *w)
{
	if (cell < 0 || (size_t)cell >= f->ncells)
		return -EINVAL;
	struct mip4_adv a;
	memset(&a, 0, sizeof(a));
	a.code = MIP4_ADV_CODE_MOBILE_ONLY;
	a.lifetime = (uint16_t)(f->conf.advert.lifetime / 1000);
	a.n_routers = 1;
	a.routers[0].addr = f->cells[cell].coa;
	a.routers[0].pref = 0;
	a.has_ma = 1;
	a.seq = seq;
	uint32_t reg = f->conf.max_lifetime / 1000;
	a.reg_lifetime = (uint16_t)(reg > 0xfffe ? 0xfffe : reg);
	a.flags = MIP4_MA_F | MIP4_MA_R;
	if (f->conf.reverse_tunnel != FAD_RT_OFF)
		a.flags |= MIP4_MA_T;
	if (f->store_ready && fad_visitor_count(f) >= f->conf.max_visitors)
		a.flags |= MIP4_MA_B;
	a.n_coa = 1;
	a.coa[0] = f->cells[cell].coa;
	if (f->region.enabled) {
		/* In a GFA region (RFC 4857 4.3; docs 6, 8.5): I, the GFA's address as care-of
		 * address; the router address stays the cell's (the mobile's local care-of
		 * address in its regional requests). */
		a.flags |= MIP4_MA_I;
		a.coa[0] = f->region.gfa;
	}
	return mip4_adv_encode(w, &a);
}

static int build_cb(void *arg, uint16_t seq, struct wbuf *w)
{
	struct fad_cell *c = arg;
	return fad_adv_build(c->fad, c->index, seq, w);
}

int fad_adv_open(struct fad *f)
{
	if (!f->conf.advert.enabled)
		return 0;
	for (size_t i = 0; i < f->ncells; i++) {
		int r = mip4_advertiser_open(&f->cells[i].adv, f->loop, f->cells[i].ifname,
					     f->conf.advert.interval, build_cb, &f->cells[i],
					     &f->stats.adv);
		if (r < 0) {
			log_warnx("advertisements on %s: %s", f->cells[i].ifname, strerror(-r));
			return r;
		}
	}
	return 0;
}

void fad_adv_reconf(struct fad *f)
{
	for (size_t i = 0; i < f->ncells; i++)
		f->cells[i].adv.interval_ms = f->conf.advert.interval;
}

void fad_adv_close(struct fad *f)
{
	for (size_t i = 0; i < f->ncells; i++)
		mip4_advertiser_close(&f->cells[i].adv);
}
