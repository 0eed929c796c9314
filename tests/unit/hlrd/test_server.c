/* hlrd's protocol handling (server.c) and mapping table (store.c) on a fake clock: every step of
 * docs/protocols/hlr.md section 6, each drop reason counted with the state untouched, expiry,
 * caps, deregistration, snapshots, and the replay window across a key rebuild (reload). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../../hlrd/hlrd.h"
#include "roam/clock.h"
#include "roam/hlr.h"

static struct hlrd h;
static struct roam_prefix pfx1[2], pfx2[1];
static struct hlrd_conf_host hosts[2];
static uint8_t key1[16], key2[16];
static uint64_t t0;   /* fake monotonic clock base */
static uint64_t ntp0; /* fake wall clock, NTP */
static char snap_path[64];

static struct roam_ipaddr ip(const char *s)
{
	struct roam_ipaddr a;
	memset(&a, 0, sizeof(a));
	cr_assert_eq(roam_ipaddr_parse(s, &a), 0, "%s", s);
	return a;
}

static void setup(void)
{
	memset(&h, 0, sizeof(h));
	for (int i = 0; i < 16; i++) {
		key1[i] = (uint8_t)i;
		key2[i] = (uint8_t)(0x80 + i);
	}
	cr_assert_eq(roam_prefix_parse("192.0.2.10", &pfx1[0]), 0);
	cr_assert_eq(roam_prefix_parse("2001:db8:10::/64", &pfx1[1]), 0);
	cr_assert_eq(roam_prefix_parse("198.51.100.0/24", &pfx2[0]), 0);
	hosts[0] = (struct hlrd_conf_host){ .key_id = 1, .key = { key1, 16 }, .addresses = pfx1,
					    .naddresses = 2 };
	hosts[1] = (struct hlrd_conf_host){ .key_id = 2, .key = { key2, 16 }, .addresses = pfx2,
					    .naddresses = 1 };
	h.conf.hosts = hosts;
	h.conf.nhosts = 2;
	h.conf.max_lifetime = 60000;
	h.conf.default_lifetime = 30000;
	h.conf.negative_ttl = 25000;
	h.conf.replay_tolerance = 7000;
	h.conf.max_entries = 3;
	snprintf(snap_path, sizeof(snap_path), "/tmp/test_hlrd_%d.snap", (int)getpid());
	h.conf.snapshot = snap_path;
	cr_assert_eq(hlrd_keys_build(&h), 0);
	cr_assert_eq(hlrd_store_init(&h), 0);
	t0 = roam_mono_ms();
	ntp0 = hlr_ntp_now();
}

static void teardown(void)
{
	hlrd_store_destroy(&h);
	hlrd_keys_free(&h);
	unlink(snap_path);
}

TestSuite(hlrd_server, .init = setup, .fini = teardown);

static struct roam_key key_of(uint32_t id)
{
	struct roam_key k;
	cr_assert_eq(auth_key_set(&k, AUTH_ALG_HMAC_SHA256, id == 2 ? key2 : key1, 16), 0);
	return k;
}

static uint32_t next_txid = 100;

/* Builds a request; ts_off_ms shifts its timestamp from the fake wall clock. */
static size_t req(uint8_t *b, uint8_t type, uint32_t key_id, const char *perm, const char *coa,
		  long lifetime, int64_t ts_off_ms)
{
	struct hlr_msg m = { .type = type, .txid = next_txid++, .key_id = key_id,
			     .present = HLR_HAS_PERM, .perm = ip(perm) };
	m.timestamp = ntp0 + (uint64_t)((int64_t)hlr_ntp_from_ms(llabs(ts_off_ms)) *
					(ts_off_ms < 0 ? -1 : 1));
	if (coa) {
		m.present |= HLR_HAS_COA;
		m.coa = ip(coa);
	}
	if (lifetime >= 0) {
		m.present |= HLR_HAS_LIFETIME;
		m.lifetime = (uint32_t)lifetime;
	}
	struct roam_key k = key_of(key_id);
	struct wbuf w;
	wbuf_init_fixed(&w, b, HLR_MAX_MSG);
	cr_assert_eq(hlr_encode(&w, &m, &k), 0);
	return w.len;
}

static int ts_step; /* distinct timestamps for successive requests */

/* Sends a request at fake time t0 + at_ms and decodes the reply (returns 0 if dropped). */
static int ask(struct hlr_msg *rep, uint8_t type, uint32_t key_id, const char *perm,
	       const char *coa, long lifetime, uint64_t at_ms)
{
	uint8_t b[HLR_MAX_MSG], r[HLR_MAX_MSG];
	size_t n = req(b, type, key_id, perm, coa, lifetime, (int64_t)at_ms + ++ts_step);
	size_t rn = hlrd_handle(&h, b, n, NULL, t0 + at_ms, ntp0 + hlr_ntp_from_ms(at_ms), r);
	if (rn == 0)
		return 0;
	cr_assert_eq(hlr_decode(r, rn, rep, NULL), 0, "reply decodes");
	struct roam_key k = key_of(key_id);
	cr_assert_eq(hlr_verify(r, rn, &k), 0, "reply authenticated with the request's key");
	struct hlr_msg q;
	cr_assert_eq(hlr_decode(b, n, &q, NULL), 0);
	cr_assert_eq(rep->txid, q.txid);
	cr_assert_eq(rep->timestamp, q.timestamp, "timestamp echoed");
	cr_assert_eq(rep->key_id, key_id);
	return 1;
}

Test(hlrd_server, update_query_refresh)
{
	struct hlr_msg r;
	cr_assert(ask(&r, HLR_UPDATE, 1, "192.0.2.10", "198.51.100.7", 40, 0));
	cr_assert_eq(r.type, HLR_UPDATE_ACK);
	cr_assert_eq(r.code, HLR_CODE_OK);
	cr_assert_eq(r.lifetime, 40);
	cr_assert_eq(h.stats.mappings_created, 1);
	cr_assert(ask(&r, HLR_QUERY, 2, "192.0.2.10", NULL, -1, 10000));
	cr_assert_eq(r.type, HLR_QUERY_REPLY);
	cr_assert_eq(r.code, HLR_CODE_OK);
	cr_assert(roam_ipaddr_eq(&r.coa, &(struct roam_ipaddr){ 0 }) == 0);
	struct roam_ipaddr coa = ip("198.51.100.7");
	cr_assert(roam_ipaddr_eq(&r.coa, &coa));
	cr_assert_eq(r.lifetime, 30, "remaining lifetime");
	/* refresh at 30 s, new care-of (IPv6 for an IPv4 home) */
	cr_assert(ask(&r, HLR_UPDATE, 1, "192.0.2.10", "2001:db8:1::7", 40, 30000));
	cr_assert_eq(h.stats.mappings_refreshed, 1);
	hlrd_store_expire(&h, t0 + 50000); /* the first registration would have ended at 40 s */
	cr_assert(ask(&r, HLR_QUERY, 1, "192.0.2.10", NULL, -1, 50000));
	cr_assert_eq(r.code, HLR_CODE_OK);
	coa = ip("2001:db8:1::7");
	cr_assert(roam_ipaddr_eq(&r.coa, &coa));
	cr_assert_eq(r.lifetime, 20);
	struct hlrd_entry *e = hlrd_store_lookup(&h, &(struct roam_ipaddr){ 0 });
	cr_assert_null(e);
}

Test(hlrd_server, expiry_then_no_mapping)
{
	struct hlr_msg r;
	cr_assert(ask(&r, HLR_UPDATE, 1, "2001:db8:10::5", "192.0.2.99", 5, 0));
	cr_assert_eq(table_count(&h.table), 1);
	hlrd_store_expire(&h, t0 + 4999);
	cr_assert_eq(table_count(&h.table), 1);
	hlrd_store_expire(&h, t0 + 5000);
	cr_assert_eq(table_count(&h.table), 0);
	cr_assert_eq(h.stats.mappings_expired, 1);
	cr_assert(ask(&r, HLR_QUERY, 1, "2001:db8:10::5", NULL, -1, 6000));
	cr_assert_eq(r.code, HLR_CODE_NO_MAPPING);
	cr_assert_eq(r.neg_ttl, 25);
	cr_assert_eq(r.present, HLR_HAS_PERM | HLR_HAS_NEG_TTL);
	/* not yet expired by the timer but past its time: still no mapping */
	cr_assert(ask(&r, HLR_UPDATE, 1, "2001:db8:10::5", "192.0.2.99", 5, 7000));
	cr_assert(ask(&r, HLR_QUERY, 1, "2001:db8:10::5", NULL, -1, 12001));
	cr_assert_eq(r.code, HLR_CODE_NO_MAPPING);
}

Test(hlrd_server, lifetime_capped_default_and_deregistration)
{
	struct hlr_msg r;
	cr_assert(ask(&r, HLR_UPDATE, 2, "198.51.100.1", "192.0.2.1", 100000, 0));
	cr_assert_eq(r.code, HLR_CODE_OK, "a long lifetime is not an error");
	cr_assert_eq(r.lifetime, 60);
	cr_assert_eq(h.stats.lifetimes_capped, 1);
	cr_assert(ask(&r, HLR_UPDATE, 2, "198.51.100.2", "192.0.2.1", -1, 0));
	cr_assert_eq(r.lifetime, 30, "default lifetime");
	cr_assert(ask(&r, HLR_UPDATE, 2, "198.51.100.1", "198.51.100.1", 0, 100));
	cr_assert_eq(r.code, HLR_CODE_OK);
	cr_assert_eq(r.lifetime, 0);
	cr_assert_eq(h.stats.deregistrations, 1);
	cr_assert_eq(table_count(&h.table), 1);
	cr_assert(ask(&r, HLR_QUERY, 2, "198.51.100.1", NULL, -1, 200));
	cr_assert_eq(r.code, HLR_CODE_NO_MAPPING);
	/* deregistering what is not there is still OK */
	cr_assert(ask(&r, HLR_UPDATE, 2, "198.51.100.9", "198.51.100.9", 0, 300));
	cr_assert_eq(r.code, HLR_CODE_OK);
}

Test(hlrd_server, not_authorized_and_bad_address)
{
	struct hlr_msg r;
	cr_assert(ask(&r, HLR_UPDATE, 2, "198.51.100.1", "192.0.2.1", 10, 0));
	cr_assert(ask(&r, HLR_UPDATE, 1, "198.51.100.1", "203.0.113.66", 10, 10));
	cr_assert_eq(r.code, HLR_CODE_NOT_AUTHORIZED);
	cr_assert_eq(r.present, HLR_HAS_PERM);
	cr_assert_eq(h.stats.reply_not_authorized, 1);
	struct roam_ipaddr p = ip("198.51.100.1"), coa = ip("192.0.2.1");
	struct hlrd_entry *e = hlrd_store_lookup(&h, &p);
	cr_assert_not_null(e);
	cr_assert(roam_ipaddr_eq(&e->coa, &coa), "someone else's mapping untouched");
	cr_assert_eq(e->key_id, 2);
	cr_assert(ask(&r, HLR_UPDATE, 1, "192.0.2.10", "224.0.0.1", 10, 20));
	cr_assert_eq(r.code, HLR_CODE_BAD_ADDRESS);
	cr_assert(ask(&r, HLR_UPDATE, 1, "2001:db8:10::1", "fe80::1", 10, 30));
	cr_assert_eq(r.code, HLR_CODE_BAD_ADDRESS);
	cr_assert(ask(&r, HLR_QUERY, 1, "0.0.0.0", NULL, -1, 40));
	cr_assert_eq(r.code, HLR_CODE_BAD_ADDRESS);
	cr_assert_eq(table_count(&h.table), 1);
}

Test(hlrd_server, table_full)
{
	struct hlr_msg r;
	cr_assert(ask(&r, HLR_UPDATE, 2, "198.51.100.1", "192.0.2.1", 10, 0));
	cr_assert(ask(&r, HLR_UPDATE, 2, "198.51.100.2", "192.0.2.1", 10, 0));
	cr_assert(ask(&r, HLR_UPDATE, 2, "198.51.100.3", "192.0.2.1", 10, 0));
	cr_assert(ask(&r, HLR_UPDATE, 2, "198.51.100.4", "192.0.2.1", 10, 0));
	cr_assert_eq(r.code, HLR_CODE_NO_RESOURCES);
	cr_assert(ask(&r, HLR_UPDATE, 2, "198.51.100.3", "192.0.2.2", 10, 0));
	cr_assert_eq(r.code, HLR_CODE_OK, "refreshing an existing entry still works");
}

/* The drop path: nothing answered, the reason counted, the table untouched. */
static void expect_drop(const uint8_t *b, size_t n, const uint64_t *counter, uint64_t ntp_now)
{
	uint8_t r[HLR_MAX_MSG];
	uint64_t before = *counter;
	size_t cnt = table_count(&h.table);
	cr_assert_eq(hlrd_handle(&h, b, n, NULL, t0, ntp_now, r), 0, "answered");
	cr_assert_eq(*counter, before + 1, "not counted");
	cr_assert_eq(table_count(&h.table), cnt);
}

Test(hlrd_server, drops)
{
	uint8_t b[HLR_MAX_MSG + 100];
	size_t n;
	/* unknown key id */
	n = req(b, HLR_UPDATE, 1, "192.0.2.10", "198.51.100.7", 10, 1);
	b[15] = 9;
	expect_drop(b, n, &h.stats.drop_unknown_key, ntp0);
	/* bad authenticator (key 2's bytes under key id 1) */
	n = req(b, HLR_UPDATE, 2, "192.0.2.10", "198.51.100.7", 10, 2);
	b[15] = 1;
	expect_drop(b, n, &h.stats.drop_bad_auth, ntp0);
	/* stale: 8 s old, and 8 s in the future */
	n = req(b, HLR_UPDATE, 1, "192.0.2.10", "198.51.100.7", 10, -8000);
	expect_drop(b, n, &h.stats.drop_stale, ntp0);
	n = req(b, HLR_UPDATE, 1, "192.0.2.10", "198.51.100.7", 10, 8000);
	expect_drop(b, n, &h.stats.drop_stale, ntp0);
	/* replay: accepted once, then dropped */
	n = req(b, HLR_UPDATE, 1, "192.0.2.10", "198.51.100.7", 10, 3);
	uint8_t r[HLR_MAX_MSG];
	cr_assert_gt(hlrd_handle(&h, b, n, NULL, t0, ntp0, r), 0);
	cr_assert_eq(table_count(&h.table), 1);
	expect_drop(b, n, &h.stats.drop_replay, ntp0);
	/* malformed: garbage, truncated, oversized, trailing bytes */
	memset(b, 0xa5, sizeof(b));
	expect_drop(b, 100, &h.stats.drop_malformed, ntp0);
	expect_drop(b, 3, &h.stats.drop_malformed, ntp0);
	n = req(b, HLR_QUERY, 1, "192.0.2.10", NULL, -1, 4);
	expect_drop(b, n - 1, &h.stats.drop_malformed, ntp0);
	expect_drop(b, n + 1, &h.stats.drop_malformed, ntp0);
	expect_drop(b, HLR_MAX_MSG + 1, &h.stats.drop_malformed, ntp0);
	/* a reply sent to the server */
	struct hlr_msg m = { .type = HLR_UPDATE_ACK, .key_id = 1, .timestamp = ntp0,
			     .present = HLR_HAS_PERM | HLR_HAS_LIFETIME, .perm = ip("192.0.2.10") };
	struct roam_key k = key_of(1);
	struct wbuf w;
	wbuf_init_fixed(&w, b, HLR_MAX_MSG);
	cr_assert_eq(hlr_encode(&w, &m, &k), 0);
	expect_drop(b, w.len, &h.stats.drop_not_request, ntp0);
	cr_assert_eq(h.stats.accepted_update, 1);
}

Test(hlrd_server, forged_packet_does_not_move_replay_window)
{
	uint8_t b[HLR_MAX_MSG], r[HLR_MAX_MSG];
	size_t n = req(b, HLR_QUERY, 1, "192.0.2.10", NULL, -1, 5);
	uint8_t forged[HLR_MAX_MSG];
	memcpy(forged, b, n);
	forged[n - 1] ^= 1;
	expect_drop(forged, n, &h.stats.drop_bad_auth, ntp0);
	cr_assert_gt(hlrd_handle(&h, b, n, NULL, t0, ntp0, r), 0, "genuine one still accepted");
}

Test(hlrd_server, reload_keeps_replay_window_of_unchanged_keys)
{
	uint8_t b[HLR_MAX_MSG], r[HLR_MAX_MSG];
	size_t n = req(b, HLR_QUERY, 1, "192.0.2.10", NULL, -1, 6);
	cr_assert_gt(hlrd_handle(&h, b, n, NULL, t0, ntp0, r), 0);
	cr_assert_eq(hlrd_keys_build(&h), 0); /* as a reload does */
	expect_drop(b, n, &h.stats.drop_replay, ntp0);
}

Test(hlrd_server, snapshot_roundtrip)
{
	struct hlr_msg r;
	uint64_t now = roam_mono_ms();
	t0 = now;
	cr_assert(ask(&r, HLR_UPDATE, 1, "192.0.2.10", "198.51.100.7", 50, 0));
	cr_assert(ask(&r, HLR_UPDATE, 1, "2001:db8:10::1", "2001:db8:99::1", 50, 0));
	/* this one expires before the restart */
	cr_assert(ask(&r, HLR_UPDATE, 2, "198.51.100.3", "192.0.2.3", 1, 0));
	struct hlrd_entry *e = hlrd_store_lookup(&h, &(struct roam_ipaddr){ .family = AF_INET,
									   .v4 = { 0 } });
	cr_assert_null(e);
	struct roam_ipaddr p3 = ip("198.51.100.3");
	e = hlrd_store_lookup(&h, &p3);
	cr_assert_not_null(e);
	e->expires = roam_mono_ms() + 20;
	cr_assert_eq(hlrd_store_save(&h), 0);
	cr_assert_eq(h.stats.snapshot_saves, 1);
	usleep(50000);

	hlrd_store_destroy(&h);
	memset(&h.stats, 0, sizeof(h.stats));
	cr_assert_eq(hlrd_store_init(&h), 0);
	cr_assert_eq(hlrd_store_load(&h), 0);
	cr_assert_eq(h.stats.snapshot_loaded, 2);
	cr_assert_eq(h.stats.snapshot_skipped, 1);
	cr_assert_eq(table_count(&h.table), 2);
	struct roam_ipaddr p = ip("2001:db8:10::1"), coa = ip("2001:db8:99::1");
	e = hlrd_store_lookup(&h, &p);
	cr_assert_not_null(e);
	cr_assert(roam_ipaddr_eq(&e->coa, &coa));
	cr_assert_eq(e->key_id, 1);
	uint32_t left = hlrd_entry_remaining(e, roam_mono_ms());
	cr_assert(left >= 45 && left <= 50, "remaining lifetime kept: %u", left);
}

Test(hlrd_server, cap_after_reload)
{
	struct hlr_msg r;
	cr_assert(ask(&r, HLR_UPDATE, 1, "192.0.2.10", "198.51.100.7", 60, 0));
	hlrd_store_cap(&h, 10, t0 + 1000);
	struct roam_ipaddr p = ip("192.0.2.10");
	cr_assert_eq(hlrd_entry_remaining(hlrd_store_lookup(&h, &p), t0 + 1000), 10);
}
