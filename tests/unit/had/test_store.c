/* had's binding snapshots (store.c): a round trip keeps home, care-of address, SPI, flags, the
 * last Identification and the remaining lifetime; bindings that expired while had was down are
 * dropped; the remaining lifetime is capped by the (possibly lowered) max_lifetime; a corrupt
 * file starts an empty cache. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../../../ha/had.h"
#include "roam/clock.h"

static char path[64];
static uint64_t now0 = 7000000;

static void init(struct had *h, const char *extra)
{
	char text[1024];
	snprintf(text, sizeof(text),
		 "address: 192.0.2.1\nsnapshot: %s\nmax_lifetime: 1000s\n%s"
		 "mobiles:\n  - spi: 1000\n    key: 0011\n"
		 "    home: [192.0.2.10, 192.0.2.11, 192.0.2.12]\n", path, extra);
	memset(h, 0, sizeof(*h));
	cr_assert_eq(had_conf_load_string(&h->conf, text, NULL, 0), 0);
	cr_assert_eq(had_sa_build(h), 0);
	cr_assert_eq(had_store_init(h, now0), 0);
}

static void fini(struct had *h)
{
	had_store_destroy(h);
	had_sa_free(h);
	had_conf_free(&h->conf);
}

static struct roam_ipaddr ip(const char *s)
{
	struct roam_ipaddr a;
	memset(&a, 0, sizeof(a));
	cr_assert_eq(roam_ipaddr_parse(s, &a), 0);
	return a;
}

static struct binding *add(struct had *h, const char *home, const char *coa, uint16_t life,
			   uint64_t id, uint32_t flags)
{
	struct roam_ipaddr a = ip(home), c = ip(coa);
	struct binding *b;
	cr_assert_eq(binding_update(&h->bc, &a, &c, life, now0, BINDING_MOVE_SYNC, &b), 0);
	b->last_id = id;
	b->flags = flags;
	cr_assert_eq(had_binding_attach(h, b, 1000), 0);
	return b;
}

static void setup(void)
{
	snprintf(path, sizeof(path), "/tmp/test_had_%d.snap", (int)getpid());
	unlink(path);
}

static void teardown(void)
{
	unlink(path);
}

TestSuite(store, .init = setup, .fini = teardown);

/* had_store_save uses the real clocks; had_store_load takes them as arguments, so the test
 * loads with "wall = now + elapsed" to simulate downtime. */
Test(store, round_trip_keeps_remaining_lifetime)
{
	struct had h;
	init(&h, "");
	now0 = roam_mono_ms();
	binding_expire(&h.bc, now0);
	add(&h, "192.0.2.10", "198.51.100.7", 600, 0x1122334455667788ULL, MIP4_REQ_T);
	add(&h, "192.0.2.11", "198.51.100.8", 5, 42, 0);
	cr_assert_eq(had_store_save(&h), 0);
	cr_assert_eq(h.stats.snapshot_saves, 1);
	fini(&h);

	struct had g;
	init(&g, "");
	uint64_t wall = roam_wall_ms() + 100000; /* 100 s later */
	uint64_t mono = 123456789;
	cr_assert_eq(had_store_load(&g, wall, mono), 0);
	cr_assert_eq(binding_count(&g.bc), 1, "the 5 s binding expired while down");
	cr_assert_eq(g.stats.snapshot_loaded, 1);
	cr_assert_eq(g.stats.snapshot_skipped, 1);
	struct roam_ipaddr home = ip("192.0.2.10"), coa = ip("198.51.100.7");
	struct binding *b = binding_lookup(&g.bc, &home);
	cr_assert_not_null(b);
	cr_assert(roam_ipaddr_eq(&b->cur.coa, &coa));
	cr_assert_eq(b->last_id, 0x1122334455667788ULL);
	cr_assert_eq(b->flags, MIP4_REQ_T);
	cr_assert_eq(had_binding_spi(b), 1000);
	uint16_t left = binding_remaining(b, mono);
	cr_assert(left >= 495 && left <= 500, "remaining %u", left);
	/* and it expires at its old time, not a fresh lifetime */
	binding_expire(&g.bc, mono + 501000);
	cr_assert_eq(binding_count(&g.bc), 0);
	fini(&g);
}

Test(store, load_caps_remaining_lifetime)
{
	struct had h;
	init(&h, "");
	now0 = roam_mono_ms();
	binding_expire(&h.bc, now0);
	add(&h, "192.0.2.12", "198.51.100.9", 900, 1, 0);
	cr_assert_eq(had_store_save(&h), 0);
	fini(&h);
	struct had g;
	init(&g, "");
	g.conf.max_lifetime = 60000;
	cr_assert_eq(had_store_load(&g, roam_wall_ms(), 1000), 0);
	struct roam_ipaddr home = ip("192.0.2.12");
	struct binding *b = binding_lookup(&g.bc, &home);
	cr_assert_not_null(b);
	cr_assert_leq(binding_remaining(b, 1000), 60);
	fini(&g);
}

Test(store, corrupt_file_starts_empty)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("ROAMSNAP garbage", f);
	fclose(f);
	struct had g;
	init(&g, "");
	cr_assert_lt(had_store_load(&g, roam_wall_ms(), 1000), 0);
	cr_assert_eq(binding_count(&g.bc), 0);
	fini(&g);
}

Test(store, no_file_is_a_first_start)
{
	struct had g;
	init(&g, "");
	cr_assert_eq(had_store_load(&g, roam_wall_ms(), 1000), 0);
	cr_assert_eq(binding_count(&g.bc), 0);
	fini(&g);
}
