/* Shared fixture of had's unit tests (test_reg.c, test_ro.c, test_dataplane.c): a had loaded
 * from a config text with its UDP 434 hook faked, as main() sets it up but without sockets or a
 * loop (addresses and messages: ../common/mip4_fixture.h).  Header-only (static inline). */
#ifndef HAD_FIXTURE_H
#define HAD_FIXTURE_H

#include <criterion/criterion.h>
#include <stdbool.h>
#include <string.h>

#include "../../../ha/had.h"
#include "../common/mip4_fixture.h"

/* The config text, the security associations, the correspondents of route optimization when
 * ro, the binding store, send as the UDP 434 hook and a drop log limit loose enough never to
 * hide a drop. */
static inline void hx_had_init(struct had *h, const char *text, uint64_t now, had_send_fn send,
			       bool ro)
{
	memset(h, 0, sizeof(*h));
	char err[256] = "";
	cr_assert_eq(had_conf_load_string(&h->conf, text, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(had_sa_build(h), 0);
	if (ro)
		cr_assert_eq(had_ro_build(h), 0);
	cr_assert_eq(had_store_init(h, now), 0);
	h->send = send;
	h->drop_rl.burst = 1000;
	h->drop_rl.interval_ms = 1;
}

static inline void hx_had_fini(struct had *h)
{
	had_store_destroy(h);
	if (h->dp.txbuf) /* had_dp_init_ops() was called */
		had_dp_close(h);
	had_sa_free(h);
	if (h->ro.cns) /* had_ro_build() was called */
		had_ro_free(h);
	had_conf_free(&h->conf);
}

#endif
