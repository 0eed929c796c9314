/* HLR client library (roam/hlr_client.h) against fake HLRs on loopback built from the codec:
 * updates to every server with retransmission and refresh, query failover, the null-mapping
 * cache, and replies that must be ignored (bad authenticator, wrong echoed timestamp). */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "roam/hlr_client.h"
#include "roam/udp.h"

enum fake_mode { FAKE_OK, FAKE_SILENT, FAKE_NOMAP, FAKE_BAD_AUTH, FAKE_BAD_TS, FAKE_REFUSE };

struct fake {
	struct roam_udp *u;
	struct roam_sockaddr addr;
	enum fake_mode mode;
	unsigned drop_first;   /* ignore this many requests first */
	unsigned rx, rx_update, rx_query, replies;
	uint32_t txids[64];
	uint64_t ts[64];
	struct roam_key key;
};

static struct roam_key test_key(void)
{
	struct roam_key k;
	cr_assert_eq(auth_key_from_hex(&k, AUTH_ALG_HMAC_SHA256,
				       "000102030405060708090a0b0c0d0e0f"), 0);
	return k;
}

static struct roam_ipaddr ip(const char *s)
{
	struct roam_ipaddr a;
	memset(&a, 0, sizeof(a));
	cr_assert_eq(roam_ipaddr_parse(s, &a), 0);
	return a;
}

static void fake_recv(struct roam_udp *u, const struct roam_udp_pkt *pkt, void *arg)
{
	struct fake *f = arg;
	struct hlr_msg m;
	cr_assert_eq(hlr_decode(pkt->data, pkt->len, &m, NULL), 0, "client sent a bad message");
	cr_assert_eq(hlr_verify(pkt->data, pkt->len, &f->key), 0, "client's MAC");
	if (f->rx < 64) {
		f->txids[f->rx] = m.txid;
		f->ts[f->rx] = m.timestamp;
	}
	f->rx++;
	if (m.type == HLR_UPDATE)
		f->rx_update++;
	else
		f->rx_query++;
	if (f->drop_first > 0) {
		f->drop_first--;
		return;
	}
	if (f->mode == FAKE_SILENT)
		return;
	struct hlr_msg r = { .txid = m.txid, .key_id = m.key_id, .timestamp = m.timestamp,
			     .present = HLR_HAS_PERM, .perm = m.perm };
	if (m.type == HLR_UPDATE) {
		r.type = HLR_UPDATE_ACK;
		if (f->mode == FAKE_REFUSE) {
			r.code = HLR_CODE_NOT_AUTHORIZED;
		} else {
			r.present |= HLR_HAS_LIFETIME;
			r.lifetime = m.lifetime;
		}
	} else if (f->mode == FAKE_NOMAP) {
		r.type = HLR_QUERY_REPLY;
		r.code = HLR_CODE_NO_MAPPING;
		r.present |= HLR_HAS_NEG_TTL;
		r.neg_ttl = 30;
	} else {
		r.type = HLR_QUERY_REPLY;
		r.present |= HLR_HAS_COA | HLR_HAS_LIFETIME;
		r.coa = ip("2001:db8:1::7");
		r.lifetime = 100;
	}
	if (f->mode == FAKE_BAD_TS)
		r.timestamp ^= 1;
	struct roam_key k = f->key;
	if (f->mode == FAKE_BAD_AUTH)
		k.bytes[3] ^= 1;
	uint8_t b[HLR_MAX_MSG];
	struct wbuf w;
	wbuf_init_fixed(&w, b, sizeof(b));
	cr_assert_eq(hlr_encode(&w, &r, &k), 0);
	roam_udp_send(u, &pkt->src, b, w.len);
	f->replies++;
}

static void fake_open(uv_loop_t *loop, struct fake *f, enum fake_mode mode)
{
	memset(f, 0, sizeof(*f));
	f->mode = mode;
	f->key = test_key();
	struct roam_udp_opts o;
	memset(&o, 0, sizeof(o));
	cr_assert_eq(roam_sockaddr_parse("127.0.0.1:0", 0, &o.bind), 0);
	cr_assert_eq(roam_udp_open(loop, &o, fake_recv, f, &f->u), 0);
	cr_assert_eq(roam_udp_local(f->u, &f->addr), 0);
}

static struct hlr_client *client_open(uv_loop_t *loop, struct fake *srv, size_t n)
{
	struct roam_sockaddr s[HLR_CLIENT_MAX_SERVERS];
	for (size_t i = 0; i < n; i++)
		s[i] = srv[i].addr;
	struct hlr_client_opts o = { .servers = s, .nservers = n, .key_id = 7, .key = test_key(),
				     .rto_initial_ms = 20, .rto_max_ms = 80, .query_tries = 2,
				     .refresh_pct = 50 };
	struct hlr_client *c;
	cr_assert_eq(hlr_client_open(&c, loop, &o), 0);
	return c;
}

/* Runs the loop until *flag becomes non-zero or ~5 s passed (a generous sanity bound). */
static void run_until(uv_loop_t *loop, const int *flag)
{
	uint64_t end = uv_now(loop) + 5000;
	while (!*flag && uv_now(loop) < end)
		uv_run(loop, UV_RUN_ONCE);
	cr_assert(*flag, "timed out waiting");
}

static void teardown(uv_loop_t *loop, struct hlr_client *c, struct fake *f, size_t n)
{
	hlr_client_close(c);
	for (size_t i = 0; i < n; i++)
		roam_udp_close(f[i].u, NULL);
	uv_run(loop, UV_RUN_DEFAULT);
	cr_assert_eq(uv_loop_close(loop), 0);
}

struct upd_log {
	int n, codes[16];
	size_t servers[16];
	uint32_t granted[16];
	int done;
	int want;
};

static void upd_cb(void *arg, const struct hlr_update_result *r)
{
	struct upd_log *l = arg;
	if (l->n < 16) {
		l->codes[l->n] = r->code;
		l->servers[l->n] = r->server;
		l->granted[l->n] = r->granted;
	}
	l->n++;
	if (l->n >= l->want)
		l->done = 1;
}

Test(hlr_client, update_every_server_with_retransmission_and_refresh)
{
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct fake f[2];
	fake_open(&loop, &f[0], FAKE_OK);
	fake_open(&loop, &f[1], FAKE_OK);
	f[1].drop_first = 2; /* the second HLR loses the first two transmissions */
	struct hlr_client *c = client_open(&loop, f, 2);
	struct upd_log l = { .want = 2 };
	struct roam_ipaddr perm = ip("192.0.2.10"), coa = ip("198.51.100.7");
	cr_assert_eq(hlr_client_update(c, &perm, &coa, 1, upd_cb, &l), 0);
	run_until(&loop, &l.done);
	cr_assert_eq(l.codes[0], HLR_CODE_OK);
	cr_assert_eq(l.codes[1], HLR_CODE_OK);
	cr_assert_eq(l.granted[0], 1);
	cr_assert_eq(f[0].rx_update, 1);
	cr_assert_eq(f[1].rx_update, 3, "retransmitted until acknowledged");
	/* one transaction: same txid, every transmission a fresh timestamp */
	cr_assert_eq(f[1].txids[0], f[1].txids[2]);
	cr_assert_neq(f[1].ts[0], f[1].ts[1]);
	cr_assert_neq(f[1].ts[1], f[1].ts[2]);
	/* refresh at 50% of the 1 s lifetime: a new transaction to each server */
	l.want = 4;
	l.done = 0;
	run_until(&loop, &l.done);
	cr_assert_eq(f[0].rx_update, 2);
	cr_assert_neq(f[0].txids[0], f[0].txids[1], "a refresh is a new transaction");
	teardown(&loop, c, f, 2);
}

Test(hlr_client, refused_update_is_not_retried)
{
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct fake f[1];
	fake_open(&loop, &f[0], FAKE_REFUSE);
	struct hlr_client *c = client_open(&loop, f, 1);
	struct upd_log l = { .want = 1 };
	struct roam_ipaddr perm = ip("192.0.2.10"), coa = ip("198.51.100.7");
	cr_assert_eq(hlr_client_update(c, &perm, &coa, 1, upd_cb, &l), 0);
	run_until(&loop, &l.done);
	cr_assert_eq(l.codes[0], HLR_CODE_NOT_AUTHORIZED);
	/* well past the refresh point: nothing more was sent */
	uint64_t end = uv_now(&loop) + 700;
	while (uv_now(&loop) < end)
		uv_run(&loop, UV_RUN_NOWAIT);
	cr_assert_eq(f[0].rx_update, 1);
	teardown(&loop, c, f, 1);
}

Test(hlr_client, deregistration_gives_up)
{
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct fake f[1];
	fake_open(&loop, &f[0], FAKE_SILENT);
	struct hlr_client *c = client_open(&loop, f, 1);
	struct upd_log l = { .want = 1 };
	struct roam_ipaddr perm = ip("192.0.2.10");
	cr_assert_eq(hlr_client_update(c, &perm, &perm, 0, upd_cb, &l), 0);
	run_until(&loop, &l.done);
	cr_assert_eq(l.codes[0], -ETIMEDOUT);
	cr_assert_eq(f[0].rx_update, 2, "query_tries transmissions");
	cr_assert_eq(hlr_client_forget(c, &perm), 0, "forgotten after giving up");
	teardown(&loop, c, f, 1);
}

struct q_log {
	int done, status;
	struct hlr_mapping m;
};

static void q_cb(void *arg, int status, const struct hlr_mapping *m)
{
	struct q_log *l = arg;
	l->status = status;
	if (m)
		l->m = *m;
	l->done = 1;
}

Test(hlr_client, query_moves_to_next_server_and_caches)
{
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct fake f[2];
	fake_open(&loop, &f[0], FAKE_SILENT);
	fake_open(&loop, &f[1], FAKE_OK);
	struct hlr_client *c = client_open(&loop, f, 2);
	struct q_log l = { 0 };
	struct hlr_mapping out;
	struct roam_ipaddr perm = ip("192.0.2.10");
	cr_assert_eq(hlr_client_query(c, &perm, &out, q_cb, &l), 0);
	run_until(&loop, &l.done);
	cr_assert_eq(l.status, 0);
	cr_assert(l.m.found);
	cr_assert_eq(l.m.server, 1);
	struct roam_ipaddr coa = ip("2001:db8:1::7");
	cr_assert(roam_ipaddr_eq(&l.m.coa, &coa));
	cr_assert_eq(f[0].rx_query, 2, "first server tried query_tries times");
	cr_assert_eq(f[1].rx_query, 1);
	/* cached: answered without sending (capped by cache_max_s, 60 s by default) */
	cr_assert_eq(hlr_client_query(c, &perm, &out, q_cb, &l), 1);
	cr_assert(out.found);
	cr_assert_eq(out.server, -1);
	cr_assert_leq(out.lifetime, 60);
	cr_assert_eq(f[1].rx_query, 1);
	hlr_client_cache_flush(c, NULL);
	cr_assert_eq(hlr_client_cache_lookup(c, &perm, &out), 0);
	teardown(&loop, c, f, 2);
}

Test(hlr_client, null_mapping_cached)
{
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct fake f[1];
	fake_open(&loop, &f[0], FAKE_NOMAP);
	struct hlr_client *c = client_open(&loop, f, 1);
	struct q_log l = { 0 };
	struct hlr_mapping out;
	struct roam_ipaddr perm = ip("203.0.113.5");
	cr_assert_eq(hlr_client_query(c, &perm, &out, q_cb, &l), 0);
	run_until(&loop, &l.done);
	cr_assert_eq(l.status, 0);
	cr_assert_not(l.m.found);
	cr_assert_eq(l.m.lifetime, 30);
	cr_assert_eq(hlr_client_query(c, &perm, &out, q_cb, &l), 1);
	cr_assert_not(out.found);
	cr_assert_eq(hlr_client_stats(c)->cache_hits, 1);
	teardown(&loop, c, f, 1);
}

static void bad_reply_ignored(enum fake_mode mode)
{
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct fake f[1];
	fake_open(&loop, &f[0], mode);
	struct hlr_client *c = client_open(&loop, f, 1);
	struct q_log l = { 0 };
	struct roam_ipaddr perm = ip("192.0.2.10");
	cr_assert_eq(hlr_client_query(c, &perm, NULL, q_cb, &l), 0);
	run_until(&loop, &l.done);
	cr_assert_eq(l.status, -ETIMEDOUT, "a bad reply was accepted");
	cr_assert_eq(f[0].replies, 2);
	const struct hlr_client_stats *st = hlr_client_stats(c);
	if (mode == FAKE_BAD_AUTH)
		cr_assert_eq(st->drop_bad_auth, 2);
	else
		cr_assert_eq(st->drop_unexpected, 2);
	cr_assert_eq(st->rx_accepted, 0);
	teardown(&loop, c, f, 1);
}

Test(hlr_client, reply_with_bad_authenticator_ignored) { bad_reply_ignored(FAKE_BAD_AUTH); }
Test(hlr_client, reply_with_wrong_timestamp_ignored) { bad_reply_ignored(FAKE_BAD_TS); }

Test(hlr_client, close_cancels_pending_queries)
{
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct fake f[1];
	fake_open(&loop, &f[0], FAKE_SILENT);
	struct hlr_client *c = client_open(&loop, f, 1);
	struct q_log l = { 0 };
	struct roam_ipaddr perm = ip("192.0.2.10");
	cr_assert_eq(hlr_client_query(c, &perm, NULL, q_cb, &l), 0);
	hlr_client_close(c);
	cr_assert(l.done);
	cr_assert_eq(l.status, -ECANCELED);
	roam_udp_close(f[0].u, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	cr_assert_eq(uv_loop_close(&loop), 0);
}

Test(hlr_client, rejects_bad_arguments)
{
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct hlr_client *c;
	struct hlr_client_opts o = { .nservers = 0, .key = test_key() };
	cr_assert_eq(hlr_client_open(&c, &loop, &o), -EINVAL);
	struct fake f[1];
	fake_open(&loop, &f[0], FAKE_OK);
	c = client_open(&loop, f, 1);
	struct roam_ipaddr any = ip("0.0.0.0"), perm = ip("192.0.2.1");
	cr_assert_eq(hlr_client_update(c, &any, &perm, 10, NULL, NULL), -EINVAL);
	cr_assert_eq(hlr_client_update(c, &perm, &any, 10, NULL, NULL), -EINVAL);
	cr_assert_eq(hlr_client_query(c, &any, NULL, NULL, NULL), -EINVAL);
	teardown(&loop, c, f, 1);
}
