/* Agent advertisement sender shared by the Mobile IPv4 agents (roam/mip4_agent.h; RFC 5944
 * 2.3, RFC 1256; docs/protocols/mipv4.md 6).  Moved here from had so that had and fad share
 * one implementation. */
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "roam/auth.h"
#include "roam/mip4.h"
#include "roam/mip4_agent.h"

#define ALL_SYSTEMS 0xe0000001u /* 224.0.0.1 */
#define ALL_ROUTERS 0xe0000002u /* 224.0.0.2 */

uint16_t mip4_adv_seq_next(uint16_t seq)
{
	return seq == 0xffff ? 256 : (uint16_t)(seq + 1);
}

static uint32_t rng_next(uint32_t *s)
{
	uint32_t x = *s ? *s : 0x2545f491u;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*s = x;
	return x;
}

static void set4(struct roam_ipaddr *a, uint32_t host_order)
{
	memset(a, 0, sizeof(*a));
	a->family = AF_INET;
	a->v4.s_addr = htonl(host_order);
}

int mip4_advertiser_send(struct mip4_advertiser *a, const struct roam_ipaddr *dst)
{
	uint8_t buf[256];
	struct wbuf w;
	struct roam_ipaddr all;
	if (!a->raw)
		return -ENOTCONN;
	if (!dst) {
		set4(&all, ALL_SYSTEMS);
		dst = &all;
	}
	wbuf_init_fixed(&w, buf, sizeof(buf));
	int r = a->build(a->arg, a->seq, &w);
	if (r == 0 && w.err)
		r = -ENOBUFS;
	if (r == 0)
		r = roam_raw_send_from(a->raw, dst, NULL, a->ifindex, buf, w.len);
	if (r < 0) {
		a->cnt->tx_errors++;
		log_rl_warnx(&a->rl, "advertisement on %s: %s", a->ifname, strerror(-r));
		return r;
	}
	a->seq = mip4_adv_seq_next(a->seq);
	return 0;
}

static void timer_cb(uv_timer_t *t)
{
	struct mip4_advertiser *a = t->data;
	if (mip4_advertiser_send(a, NULL) == 0)
		a->cnt->sent++;
	uint64_t iv = a->interval_ms;
	uint64_t span = iv / 2;
	uint64_t d = iv - iv / 4 + (span ? rng_next(&a->rng) % (span + 1) : 0);
	uv_timer_start(&a->timer, timer_cb, d, 0);
}

static void recv_cb(struct roam_raw *r, const struct roam_raw_pkt *pkt, void *arg)
{
	(void)r;
	struct mip4_advertiser *a = arg;
	if (pkt->len <= pkt->l3_hdrlen)
		return;
	const uint8_t *icmp = pkt->data + pkt->l3_hdrlen;
	size_t len = pkt->len - pkt->l3_hdrlen;
	if (icmp[0] != MIP4_ICMP_SOLICIT)
		return;
	if (pkt->ifindex && a->ifindex && pkt->ifindex != a->ifindex)
		return;
	a->cnt->sol_received++;
	if (mip4_sol_decode(icmp, len) < 0) {
		a->cnt->sol_malformed++;
		return;
	}
	/* Unicast to the solicitor; a solicitation from 0.0.0.0 gets the multicast one. */
	struct roam_ipaddr dst = pkt->src;
	if (roam_ipaddr_is_any(&dst))
		set4(&dst, ALL_SYSTEMS);
	if (mip4_advertiser_send(a, &dst) == 0)
		a->cnt->solicited++;
}

int mip4_advertiser_open(struct mip4_advertiser *a, uv_loop_t *loop, const char *ifname,
			 uint32_t interval_ms, mip4_adv_build_fn build, void *arg,
			 struct mip4_adv_counters *cnt)
{
	if (!loop || !ifname || !*ifname || strlen(ifname) >= sizeof(a->ifname) || !build ||
	    !interval_ms)
		return -EINVAL;
	a->loop = loop;
	snprintf(a->ifname, sizeof(a->ifname), "%s", ifname);
	a->interval_ms = interval_ms;
	a->build = build;
	a->arg = arg;
	a->cnt = cnt ? cnt : &a->own;
	a->seq = 0;
	a->rl.burst = 10;
	a->rl.interval_ms = 1000;
	a->ifindex = (int)if_nametoindex(ifname);
	if (a->ifindex == 0)
		return -ENODEV;
	struct roam_raw_opts o;
	memset(&o, 0, sizeof(o));
	o.family = AF_INET;
	o.protocol = IPPROTO_ICMP;
	o.device = ifname;
	int r = roam_raw_open(loop, &o, recv_cb, a, &a->raw);
	if (r < 0) {
		a->raw = NULL;
		return r;
	}
	uint8_t types[] = { MIP4_ICMP_SOLICIT };
	struct roam_ipaddr grp;
	set4(&grp, ALL_ROUTERS);
	if ((r = roam_raw_icmp_filter(a->raw, types, 1)) < 0 ||
	    (r = roam_raw_set_hoplimit(a->raw, 1)) < 0 ||
	    (r = roam_raw_mcast_if(a->raw, ifname)) < 0 ||
	    (r = roam_raw_mcast_loop(a->raw, 0)) < 0) {
		roam_raw_close(a->raw, NULL);
		a->raw = NULL;
		return r;
	}
	if ((r = roam_raw_mcast_join(a->raw, &grp, ifname)) < 0)
		log_warnx("advertisements: cannot join 224.0.0.2 on %s: %s (solicitations to "
			  "the group are not seen)", ifname, strerror(-r));
	auth_random(&a->rng, sizeof(a->rng));
	uv_timer_init(loop, &a->timer);
	a->timer.data = a;
	a->started = 1;
	uv_timer_start(&a->timer, timer_cb, 0, 0);
	return 0;
}

void mip4_advertiser_close(struct mip4_advertiser *a)
{
	if (a->started) {
		uv_timer_stop(&a->timer);
		uv_close((uv_handle_t *)&a->timer, NULL);
		a->started = 0;
	}
	if (a->raw) {
		roam_raw_close(a->raw, NULL);
		a->raw = NULL;
	}
}

const char *const mip4_sa_algorithms[] = { "hmac-md5", "keyed-md5", NULL };

enum auth_alg mip4_sa_alg(int index)
{
	return index == 1 ? AUTH_ALG_KEYED_MD5 : AUTH_ALG_HMAC_MD5;
}

int mip4_sa_key_set(struct roam_key *k, int alg_index, const void *key, size_t len)
{
	return auth_key_set(k, mip4_sa_alg(alg_index), key, len) < 0 ? -EINVAL : 0;
}
