/* Agent advertisements on the home link (RFC 5944 2.1, 2.3; docs/protocols/mipv4.md 6): an
 * ICMP Router Advertisement (code 16, one router address: the home agent) with the Mobility
 * Agent Advertisement extension (H set, T when reverse tunnelling is on), sent to 224.0.0.1 with
 * TTL 1 every advert.interval (+-25 % jitter) and unicast in answer to an Agent Solicitation.
 * The socket, timer and solicitation handling are the shared roam/mip4_agent.h advertiser. */
#include <errno.h>
#include <string.h>

#include "had.h"

int had_adv_build(struct had *h, struct wbuf *w)
{
	struct mip4_adv a;
	memset(&a, 0, sizeof(a));
	a.code = MIP4_ADV_CODE_MOBILE_ONLY;
	a.lifetime = (uint16_t)(h->conf.advert.lifetime / 1000);
	a.n_routers = 1;
	a.routers[0].addr = h->conf.address.v4;
	a.routers[0].pref = 0;
	a.has_ma = 1;
	a.seq = h->adv.seq;
	uint32_t reg = h->conf.max_lifetime / 1000;
	a.reg_lifetime = (uint16_t)(reg > 0xfffe ? 0xfffe : reg);
	a.flags = MIP4_MA_H | (h->conf.reverse_tunnel != HAD_RT_OFF ? MIP4_MA_T : 0);
	a.n_coa = 0;
	return mip4_adv_encode(w, &a);
}

static int adv_build_cb(void *arg, uint16_t seq, struct wbuf *w)
{
	struct had *h = arg;
	h->adv.seq = seq;
	return had_adv_build(h, w);
}

int had_adv_open(struct had *h)
{
	const struct had_conf_advert *c = &h->conf.advert;
	if (!c->enabled)
		return 0;
	int r = mip4_advertiser_open(&h->adv, h->loop, c->interface, c->interval, adv_build_cb, h,
				     &h->stats.adv);
	if (r < 0)
		log_warnx("advertisements on %s: %s", c->interface, strerror(-r));
	return r;
}

void had_adv_reconf(struct had *h)
{
	/* A new interval applies from the next advertisement. */
	h->adv.interval_ms = h->conf.advert.interval;
}

void had_adv_close(struct had *h)
{
	mip4_advertiser_close(&h->adv);
}
