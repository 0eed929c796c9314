/* Shared fixture of fad's unit tests (test_gfa.c, test_region.c, test_relay.c, test_dataplane.c,
 * test_ro.c): address parsing, a fad loaded from a config text with its transmit hooks faked,
 * and the capture of what it sends on UDP 434 (addresses and messages: ../common/mip4_fixture.h).
 * Header-only (static inline): each test binary links one test file and fad's objects. */
#ifndef FAD_FIXTURE_H
#define FAD_FIXTURE_H

#include <criterion/criterion.h>
#include <string.h>

#include "../../../fa/fad.h"
#include "../common/mip4_fixture.h"

/* The keys (HMAC-MD5, hex) the tests configure. */
#define MNHA "00112233445566778899aabbccddeeff"
#define FAHA "0123456789abcdef0123456789abcdef"
#define MNFA "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf"
#define MNGFA "0f0e0d0c0b0a09080706050403020100"
#define FAFA1 "11111111111111111111111111111111"
#define FAFA2 "22222222222222222222222222222222"
#define WRONG "deadbeefdeadbeefdeadbeefdeadbeef"

/* Config texts.  They name the addresses HA, HOME, GFA, FA1, FA2, COA0 and COA1, which the test
 * file defines before it uses them. */

/* A GFA at GFA (cell up0) for the mobile HOME (MN-GFA SPI 5000) and the lower FAs FA1 (FA-FA
 * SPI 6001) and FA2 (6002); top: more top-level keys, gfa_extra: more keys of gfa:. */
#define FX_GFA_CONF(top, gfa_extra)                                                            \
	"snapshot: \"\"\n" top "cells:\n"                                                      \
	"  - interface: up0\n"                                                                \
	"    care_of: " GFA "\n"                                                              \
	"home_agents:\n"                                                                      \
	"  - address: " HA "\n"                                                               \
	"    spi: 3000\n"                                                                     \
	"    key: " FAHA "\n"                                                                 \
	"gfa:\n"                                                                              \
	"  enabled: true\n"                                                                   \
	"  address: " GFA "\n" gfa_extra "  mobiles:\n"                                        \
	"    - home: " HOME "\n"                                                              \
	"      spi: 5000\n"                                                                   \
	"      key: " MNGFA "\n"                                                              \
	"  foreign_agents:\n"                                                                 \
	"    - address: " FA1 "\n"                                                            \
	"      spi: 6001\n"                                                                   \
	"      key: " FAFA1 "\n"                                                              \
	"    - address: " FA2 "\n"                                                            \
	"      spi: 6002\n"                                                                   \
	"      key: " FAFA2 "\n"

/* The end of a plain FA's config: cells cell0 (COA0) and cell1 (COA1), the home agent HA
 * (FA-HA SPI 3000), the mobile HOME (MN-FA SPI 4000). */
#define FX_FA_CELLS_HA_MN                                                                      \
	"cells:\n"                                                                            \
	"  - interface: cell0\n"                                                              \
	"    care_of: " COA0 "\n"                                                             \
	"  - interface: cell1\n"                                                              \
	"    care_of: " COA1 "\n"                                                             \
	"home_agents:\n"                                                                      \
	"  - address: " HA "\n"                                                               \
	"    spi: 3000\n"                                                                     \
	"    key: " FAHA "\n"                                                                 \
	"mobiles:\n"                                                                          \
	"  - home: " HOME "\n"                                                                \
	"    spi: 4000\n"                                                                     \
	"    key: " MNFA "\n"

/* The keys above into the variables given (NULL: not wanted). */
static inline void fx_keys(struct roam_key *mnha, struct roam_key *faha, struct roam_key *mnfa,
			   struct roam_key *mngfa, struct roam_key *fafa1, struct roam_key *fafa2,
			   struct roam_key *wrong)
{
	struct {
		struct roam_key *k;
		const char *hex;
	} want[] = { { mnha, MNHA },   { faha, FAHA },   { mnfa, MNFA }, { mngfa, MNGFA },
		     { fafa1, FAFA1 }, { fafa2, FAFA2 }, { wrong, WRONG } };
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (want[i].k)
			*want[i].k = fx_key(want[i].hex);
}

/* One UDP 434 datagram fad sent. */
struct fx_sent {
	struct roam_sockaddr dst;
	struct roam_ipaddr src;     /* family 0: the kernel's choice */
	int ifindex;
	uint8_t data[FAD_MAX_MSG];
	size_t len;
};

/* Appends a datagram to sent[*n] (at most max). */
static inline void fx_record(struct fx_sent *sent, int *n, int max,
			     const struct roam_sockaddr *dst, const struct roam_ipaddr *src,
			     int ifindex, const void *data, size_t len)
{
	cr_assert_lt(*n, max);
	cr_assert_leq(len, sizeof(sent[0].data));
	struct fx_sent *s = &sent[*n];
	memset(s, 0, sizeof(*s));
	s->dst = *dst;
	if (src)
		s->src = *src;
	s->ifindex = ifindex;
	memcpy(s->data, data, len);
	s->len = len;
	(*n)++;
}

/* fad loaded from a config text, as main() sets it up but without sockets or a loop:
 * security associations, cells (ifindex ifindex_base + i when ifindex_base > 0), the visitor
 * store, the GFA role (a no-op when gfa.enabled is off), send as the UDP 434 hook, and a drop
 * log limit loose enough never to hide a drop. */
static inline void fx_fad_init(struct fad *f, const char *text, uint64_t now, int ifindex_base,
			       fad_send_fn send, void *send_arg)
{
	memset(f, 0, sizeof(*f));
	char err[256] = "";
	cr_assert_eq(fad_conf_load_string(&f->conf, text, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(fad_sa_build(f), 0);
	cr_assert_eq(fad_cells_build(f, 0), 0);
	if (ifindex_base > 0)
		for (size_t i = 0; i < f->ncells; i++)
			f->cells[i].ifindex = (int)i + ifindex_base;
	cr_assert_eq(fad_store_init(f, now), 0);
	cr_assert_eq(fad_gfa_init(f), 0);
	f->send = send;
	f->send_arg = send_arg;
	f->drop_rl.burst = 1000;
	f->drop_rl.interval_ms = 1;
}

static inline void fx_fad_fini(struct fad *f)
{
	fad_gfa_free(f);
	fad_store_destroy(f);
	if (f->dp.txbuf) /* fad_dp_init_ops() was called */
		fad_dp_close(f);
	fad_sa_free(f);
	fad_cells_free(f);
	fad_conf_free(&f->conf);
}

/* fad receives p on UDP 434 from src ("addr[:port]") on ifindex at monotonic now (ms); the NTP
 * clock runs with it from ntp0 at now0. */
static inline void fx_input(struct fad *f, const uint8_t *p, size_t n, const char *src,
			    int ifindex, uint64_t now, uint64_t now0, uint64_t ntp0)
{
	struct roam_sockaddr s = sa(src);
	fad_input(f, p, n, &s, ifindex, now, ntp0 + ((now - now0) / 1000 << 32));
}

static inline void fx_decode(const struct fx_sent *s, struct mip4_msg *m)
{
	cr_assert_eq(mip4_msg_decode(s->data, s->len, m), 0);
}

#endif
