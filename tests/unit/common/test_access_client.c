/* The mobile's side of the access link (roam/access_client.h) on a fake clock: ATTACH
 * retransmission and Nonce change, answers to stale attempts, keepalive and the LAC's loss,
 * PPP framing both ways, DETACH and NAK back-off. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "roam/access_client.h"

static struct access_client c;
static struct {
	uint8_t buf[ACCESS_HDR_LEN + ACCESS_DATA_MAX];
	size_t len;
	struct roam_sockaddr dst;
} out[64];
static unsigned nout;
static int attached, lost_cause = 99, frames;
static uint16_t frame_proto;
static size_t frame_len;
static struct roam_sockaddr lac, group, evil;
static struct access_msg m;

static void tx(void *ctx, const struct roam_sockaddr *dst, const uint8_t *pkt, size_t len)
{
	(void)ctx;
	cr_assert_lt(nout, 64);
	memcpy(out[nout].buf, pkt, len);
	out[nout].len = len;
	out[nout].dst = *dst;
	nout++;
}
static void on_attached(void *ctx, uint32_t id)
{
	(void)ctx, (void)id;
	attached++;
}
static void on_lost(void *ctx, int cause)
{
	(void)ctx;
	lost_cause = cause;
}
static void on_frame(void *ctx, uint16_t proto, const uint8_t *info, size_t len)
{
	(void)ctx, (void)info;
	frames++;
	frame_proto = proto;
	frame_len = len;
}

static unsigned got(unsigned i)
{
	cr_assert_lt(i, nout);
	cr_assert_eq(access_msg_decode(out[i].buf, out[i].len, &m, NULL), 0);
	return m.type;
}

static void feed(struct access_msg *msg, const struct roam_sockaddr *src, uint64_t now)
{
	uint8_t b[ACCESS_HDR_LEN + ACCESS_DATA_MAX];
	struct wbuf w;
	wbuf_init_fixed(&w, b, sizeof(b));
	cr_assert_eq(access_msg_encode(msg, &w), 0);
	access_client_input(&c, b, w.len, src, now);
}

static void setup(void)
{
	struct access_client_conf conf;
	static const struct access_client_ops ops = { .tx = tx,
						      .attached = on_attached,
						      .lost = on_lost,
						      .ppp_frame = on_frame };
	memset(&conf, 0, sizeof(conf));
	access_client_conf_default(&conf);
	memcpy(conf.min, "3125550100", 11);
	cr_assert_eq(roam_sockaddr_parse("239.255.17.2:17010", 0, &group), 0);
	cr_assert_eq(roam_sockaddr_parse("192.0.2.1:17010", 0, &lac), 0);
	cr_assert_eq(roam_sockaddr_parse("192.0.2.66:17010", 0, &evil), 0);
	conf.target = group;
	cr_assert_eq(access_client_init(&c, &conf, &ops, NULL), 0);
	nout = 0;
	attached = frames = 0;
	lost_cause = 99;
}

TestSuite(access_client, .init = setup);

Test(access_client, init_refuses_bad_min)
{
	struct access_client_conf conf;
	struct access_client_ops ops = { .tx = tx };
	memset(&conf, 0, sizeof(conf));
	access_client_conf_default(&conf);
	memcpy(conf.min, "31255", 6);
	cr_assert_eq(access_client_init(&c, &conf, &ops, NULL), -EINVAL);
}

/* Attaches at now 1000 and returns the ACK's link id 7. */
static void attach(void)
{
	access_client_start(&c, 1000);
	cr_assert_eq(got(nout - 1), ACCESS_ATTACH);
	cr_assert(roam_sockaddr_eq(&out[nout - 1].dst, &group));
	struct access_msg a = { .type = ACCESS_ATTACH_ACK, .nonce = m.nonce, .link_id = 7,
				.keepalive_ms = 1000, .dead_ms = 3000 };
	feed(&a, &lac, 1010);
	cr_assert_eq(attached, 1);
	cr_assert_eq(c.state, ACCESS_CLIENT_ATTACHED);
}

Test(access_client, attach_retransmission_and_new_nonce)
{
	access_client_start(&c, 0);
	cr_assert_eq(got(0), ACCESS_ATTACH);
	cr_assert_str_eq(m.min, "3125550100");
	uint32_t n0 = m.nonce;
	for (unsigned i = 1; i < 5; i++) {
		access_client_tick(&c, i * 1000 - 1);
		cr_assert_eq(nout, i, "not before 1 s");
		access_client_tick(&c, i * 1000);
		cr_assert_eq(got(i), ACCESS_ATTACH);
		cr_assert_eq(m.nonce, n0, "same Nonce for the first 5");
	}
	/* The 5th went out at 4 s; then a new Nonce, 2 s later. */
	access_client_tick(&c, 5999);
	cr_assert_eq(nout, 5);
	access_client_tick(&c, 6000);
	cr_assert_eq(got(5), ACCESS_ATTACH);
	cr_assert_neq(m.nonce, n0);
	/* An answer to the old attempt is not taken. */
	struct access_msg a = { .type = ACCESS_ATTACH_ACK, .nonce = n0, .link_id = 7,
				.keepalive_ms = 1000, .dead_ms = 3000 };
	feed(&a, &lac, 6001);
	cr_assert_eq(attached, 0);
	cr_assert_eq(c.stats.drop_stale_nonce, 1);
}

Test(access_client, keepalive_data_and_loss)
{
	attach();
	access_client_tick(&c, 1010);
	cr_assert_eq(got(nout - 1), ACCESS_KEEPALIVE);
	cr_assert_eq(m.link_id, 7);
	cr_assert_eq(m.seq, 0);
	cr_assert(roam_sockaddr_eq(&out[nout - 1].dst, &lac), "unicast once attached");
	struct access_msg k = { .type = ACCESS_KEEPALIVE_ACK, .link_id = 7, .seq = 1,
				.timestamp = 1010 };
	feed(&k, &lac, 1050);
	cr_assert_eq(c.stats.rtt_ms, 40);

	/* A PPP frame split over two DATA messages, one message lost in between. */
	uint8_t fr[64];
	struct wbuf w;
	struct ppp_hdlc_tx htx = { .accm = PPP_HDLC_ACCM_DEFAULT };
	static const uint8_t lcp[] = { 1, 1, 0, 4 };
	wbuf_init_fixed(&w, fr, sizeof(fr));
	cr_assert_eq(ppp_hdlc_encode(&w, &htx, PPP_PROTO_LCP, lcp, sizeof(lcp)), 0);
	struct access_msg d = { .type = ACCESS_DATA, .link_id = 7, .seq = 2, .data = fr,
				.data_len = 3 };
	feed(&d, &lac, 1100);
	d.seq = 4;
	d.data = fr + 3;
	d.data_len = w.len - 3;
	feed(&d, &lac, 1100);
	cr_assert_eq(frames, 1);
	cr_assert_eq(frame_proto, PPP_PROTO_LCP);
	cr_assert_eq(frame_len, 4);
	cr_assert_eq(c.stats.rx_lost, 1);
	/* A duplicate is dropped; a message from elsewhere too. */
	feed(&d, &lac, 1100);
	cr_assert_eq(c.stats.drop_late, 1);
	d.seq = 5;
	feed(&d, &evil, 1100);
	cr_assert_eq(c.stats.drop_foreign, 1);

	/* Sending PPP: framed into DATA. */
	unsigned before = nout;
	cr_assert_eq(access_client_send_ppp(&c, PPP_PROTO_LCP, lcp, sizeof(lcp)), 0);
	cr_assert_eq(got(before), ACCESS_DATA);
	cr_assert_eq(m.data_len, w.len);
	cr_assert(memcmp(m.data, fr, w.len) == 0);

	/* Silence for 3 s: the LAC is lost, discovery again at once. */
	access_client_tick(&c, 4099);
	cr_assert_eq(lost_cause, 99);
	before = nout;
	access_client_tick(&c, 4100);
	cr_assert_eq(lost_cause, -1);
	cr_assert_eq(c.state, ACCESS_CLIENT_DISCOVERY);
	cr_assert_eq(got(nout - 1), ACCESS_ATTACH);
	cr_assert_eq(access_client_send_ppp(&c, PPP_PROTO_LCP, lcp, sizeof(lcp)), -ENOTCONN);
}

Test(access_client, detach_normal_backs_off_and_nak_too)
{
	attach();
	struct access_msg d = { .type = ACCESS_DETACH, .link_id = 7, .seq = 1, .cause = 0 };
	unsigned before = nout;
	feed(&d, &lac, 2000);
	cr_assert_eq(lost_cause, 0);
	cr_assert_eq(nout, before, "the call ended: no ATTACH at once");
	access_client_tick(&c, 9999);
	cr_assert_eq(nout, before);
	access_client_tick(&c, 10000);
	cr_assert_eq(got(nout - 1), ACCESS_ATTACH);
	struct access_msg n = { .type = ACCESS_ATTACH_NAK, .nonce = m.nonce, .cause = 3 };
	feed(&n, &lac, 10010);
	cr_assert_eq(c.stats.attach_nak, 1);
	cr_assert_eq(c.stats.last_nak_cause, 3);
	before = nout;
	access_client_tick(&c, 18009);
	cr_assert_eq(nout, before, "8 s after a NAK");
	access_client_tick(&c, 18010);
	cr_assert_eq(got(nout - 1), ACCESS_ATTACH);
}

Test(access_client, detach_sent_twice)
{
	attach();
	unsigned before = nout;
	access_client_detach(&c, ACCESS_DETACH_NORMAL, 3000);
	cr_assert_eq(got(before), ACCESS_DETACH);
	uint32_t s1 = m.seq;
	access_client_tick(&c, 3099);
	cr_assert_eq(nout, before + 1);
	access_client_tick(&c, 3100);
	cr_assert_eq(got(before + 1), ACCESS_DETACH);
	cr_assert_eq(m.seq, s1 + 1);
	cr_assert_eq(c.state, ACCESS_CLIENT_IDLE);
	access_client_tick(&c, 100000);
	cr_assert_eq(nout, before + 2, "idle: nothing more");
}
