/* Agent advertisements on the home link (RFC 5944 2.1, 2.3; docs/protocols/mipv4.md 6): an
 * ICMP Router Advertisement (code 16, one router address: the home agent) with the Mobility
 * Agent Advertisement extension (H set, T when reverse tunnelling is on), sent to 224.0.0.1 with
 * TTL 1 every advert.interval (+-25 % jitter) and unicast in answer to an Agent Solicitation. */
#include <errno.h>
#include <net/if.h>
#include <string.h>

#include "had.h"

static uint32_t rng_next(uint32_t *s)
{
	uint32_t x = *s ? *s : 0x2545f491u;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*s = x;
	return x;
}

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
	a.seq = h->adv_seq;
	uint32_t reg = h->conf.max_lifetime / 1000;
	a.reg_lifetime = (uint16_t)(reg > 0xfffe ? 0xfffe : reg);
	a.flags = MIP4_MA_H | (h->conf.reverse_tunnel != HAD_RT_OFF ? MIP4_MA_T : 0);
	a.n_coa = 0;
	return mip4_adv_encode(w, &a);
}

/* The sequence number after a send: 0 after (re)start, wrapping to 256 (RFC 5944 2.1.1). */
static void seq_advance(struct had *h)
{
	h->adv_seq = h->adv_seq == 0xffff ? 256 : (uint16_t)(h->adv_seq + 1);
}

static int adv_send(struct had *h, const struct roam_ipaddr *dst)
{
	uint8_t buf[256];
	struct wbuf w;
	wbuf_init_fixed(&w, buf, sizeof(buf));
	int r = had_adv_build(h, &w);
	if (r < 0)
		return r;
	r = roam_raw_send_from(h->raw, dst, NULL, h->adv_ifindex, buf, w.len);
	if (r < 0) {
		log_rl_warnx(&h->drop_rl, "advertisement on %s: %s", h->conf.advert.interface,
			     strerror(-r));
		return r;
	}
	seq_advance(h);
	h->adv_count++;
	return 0;
}

static void adv_timer_cb(uv_timer_t *t)
{
	struct had *h = t->data;
	struct roam_ipaddr all;
	memset(&all, 0, sizeof(all));
	all.family = AF_INET;
	all.v4.s_addr = htonl(0xe0000001); /* 224.0.0.1 */
	if (adv_send(h, &all) == 0)
		h->stats.adv_sent++;
	uint64_t iv = h->conf.advert.interval;
	uint64_t span = iv / 2;
	uint64_t d = iv - iv / 4 + (span ? rng_next(&h->rng) % (span + 1) : 0);
	uv_timer_start(&h->adv_timer, adv_timer_cb, d, 0);
}

static void adv_recv(struct roam_raw *r, const struct roam_raw_pkt *pkt, void *arg)
{
	(void)r;
	struct had *h = arg;
	if (pkt->len <= pkt->l3_hdrlen)
		return;
	const uint8_t *icmp = pkt->data + pkt->l3_hdrlen;
	size_t len = pkt->len - pkt->l3_hdrlen;
	if (len < 1 || icmp[0] != MIP4_ICMP_SOLICIT)
		return;
	if (pkt->ifindex && h->adv_ifindex && pkt->ifindex != h->adv_ifindex)
		return;
	h->stats.sol_received++;
	if (mip4_sol_decode(icmp, len) < 0) {
		h->stats.sol_malformed++;
		return;
	}
	/* Unicast to the solicitor; a solicitation from 0.0.0.0 gets the multicast one. */
	struct roam_ipaddr dst = pkt->src;
	if (roam_ipaddr_is_any(&dst)) {
		memset(&dst, 0, sizeof(dst));
		dst.family = AF_INET;
		dst.v4.s_addr = htonl(0xe0000001);
	}
	if (adv_send(h, &dst) == 0)
		h->stats.adv_solicited++;
}

int had_adv_open(struct had *h)
{
	const struct had_conf_advert *c = &h->conf.advert;
	if (!c->enabled)
		return 0;
	h->adv_ifindex = (int)if_nametoindex(c->interface);
	if (h->adv_ifindex == 0) {
		log_warnx("advert.interface %s: no such interface", c->interface);
		return -ENODEV;
	}
	struct roam_raw_opts o;
	memset(&o, 0, sizeof(o));
	o.family = AF_INET;
	o.protocol = IPPROTO_ICMP;
	o.device = c->interface;
	int r = roam_raw_open(h->loop, &o, adv_recv, h, &h->raw);
	if (r < 0) {
		log_warnx("advertisement socket on %s: %s", c->interface, strerror(-r));
		return r;
	}
	uint8_t types[] = { MIP4_ICMP_SOLICIT };
	struct roam_ipaddr grp;
	memset(&grp, 0, sizeof(grp));
	grp.family = AF_INET;
	grp.v4.s_addr = htonl(0xe0000002); /* 224.0.0.2: all routers */
	if ((r = roam_raw_icmp_filter(h->raw, types, 1)) < 0 ||
	    (r = roam_raw_set_hoplimit(h->raw, 1)) < 0 ||
	    (r = roam_raw_mcast_if(h->raw, c->interface)) < 0 ||
	    (r = roam_raw_mcast_loop(h->raw, 0)) < 0) {
		log_warnx("advertisement socket on %s: %s", c->interface, strerror(-r));
		roam_raw_close(h->raw, NULL);
		h->raw = NULL;
		return r;
	}
	if ((r = roam_raw_mcast_join(h->raw, &grp, c->interface)) < 0)
		log_warnx("advertisements: cannot join 224.0.0.2 on %s: %s (solicitations to "
			  "the group are not seen)", c->interface, strerror(-r));
	auth_random(&h->rng, sizeof(h->rng));
	uv_timer_init(h->loop, &h->adv_timer);
	h->adv_timer.data = h;
	h->adv_started = 1;
	uv_timer_start(&h->adv_timer, adv_timer_cb, 0, 0);
	return 0;
}

void had_adv_reconf(struct had *h)
{
	/* A new interval applies from the next advertisement (adv_timer_cb reads the config). */
	(void)h;
}

void had_adv_close(struct had *h)
{
	if (h->adv_started) {
		uv_timer_stop(&h->adv_timer);
		uv_close((uv_handle_t *)&h->adv_timer, NULL);
		h->adv_started = 0;
	}
	if (h->raw) {
		roam_raw_close(h->raw, NULL);
		h->raw = NULL;
	}
}
