/* What the mnd unit tests share: an mnd.yaml text loaded through the schema (mnd/conf.c) and a
 * search of its errors (test_conf.c, test_l2tp.c, test_sip.c); the fake world of the Mobile IPv4
 * state machine, which records what it sends and calls (test_mip4.c, test_mip4_region.c). */
#ifndef TEST_MND_FIXTURE_H
#define TEST_MND_FIXTURE_H
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "../../../mnd/mnd.h"
#include "../common/mip4_fixture.h"

#define MND_FIXTURE_UNUSED __attribute__((unused))

/* Loads text (file name "t.yaml") into *c; e collects the errors.  Returns as conf_load_string. */
static MND_FIXTURE_UNUSED int load(const char *text, struct mnd_conf *c, struct conf_errors *e)
{
	memset(c, 0, sizeof(*c));
	conf_errors_init(e);
	return conf_load_string("t.yaml", text, &mnd_conf_schema, c, e);
}

/* load() that must succeed: the errors are printed before the test fails. */
static MND_FIXTURE_UNUSED void load_ok(const char *text, struct mnd_conf *c, struct conf_errors *e)
{
	int r = load(text, c, e);
	if (r != 0)
		conf_errors_print(e, stderr);
	cr_assert_eq(r, 0, "%s", text);
}

/* Frees what load() filled. */
static MND_FIXTURE_UNUSED void unload(struct mnd_conf *c, struct conf_errors *e)
{
	mnd_conf_free(c);
	conf_errors_free(e);
}

/* true when one of the errors contains needle. */
static MND_FIXTURE_UNUSED bool has_error(const struct conf_errors *e, const char *needle)
{
	for (size_t i = 0; i < e->count; i++)
		if (strstr(e->v[i].text, needle))
			return true;
	return false;
}

/* ---- Mobile IPv4 state machine (mnd/mip4_sm.c) on fake sockets ---- */

/* One message the state machine sent, decoded. */
struct sm_sent {
	int radio;
	struct in_addr dst;
	uint8_t data[256];
	size_t len;
	struct mip4_msg m;
};

/* What the state machine did through its mip4_sm_out hooks. */
struct sm_world {
	struct sm_sent sent[32];
	int max;                    /* sent[] entries the test allows */
	int nsent, nsol[2], npath, nrel;
	int last_path_radio, last_rel; /* -2: never called */
	struct in_addr last_path_fa;
};

static MND_FIXTURE_UNUSED struct in_addr A(const char *s)
{
	struct in_addr a;
	cr_assert_eq(inet_pton(AF_INET, s, &a), 1, "address %s", s);
	return a;
}

static MND_FIXTURE_UNUSED void sm_world_reset(struct sm_world *w, int max)
{
	cr_assert_leq(max, (int)(sizeof(w->sent) / sizeof(w->sent[0])));
	memset(w, 0, sizeof(*w));
	w->max = max;
	w->last_path_radio = w->last_rel = -2;
}

static MND_FIXTURE_UNUSED int sm_fake_send(void *arg, int radio, struct in_addr dst,
					   const void *buf, size_t len)
{
	struct sm_world *w = arg;
	cr_assert_lt(w->nsent, w->max);
	cr_assert_leq(len, sizeof(w->sent[0].data));
	struct sm_sent *s = &w->sent[w->nsent++];
	s->radio = radio;
	s->dst = dst;
	memcpy(s->data, buf, len);
	s->len = len;
	cr_assert_eq(mip4_msg_decode(s->data, len, &s->m), 0);
	return 0;
}

static MND_FIXTURE_UNUSED void sm_fake_sol(void *arg, int radio)
{
	struct sm_world *w = arg;
	w->nsol[radio]++;
}

static MND_FIXTURE_UNUSED void sm_fake_path(void *arg, int radio, struct in_addr fa)
{
	struct sm_world *w = arg;
	w->npath++;
	w->last_path_radio = radio;
	w->last_path_fa = fa;
}

static MND_FIXTURE_UNUSED void sm_fake_rel(void *arg, int radio)
{
	struct sm_world *w = arg;
	w->nrel++;
	w->last_rel = radio;
}

/* The hooks that record into w. */
static MND_FIXTURE_UNUSED struct mip4_sm_out sm_world_out(struct sm_world *w)
{
	struct mip4_sm_out o = { sm_fake_send, sm_fake_sol, sm_fake_path, sm_fake_rel, w };
	return o;
}

/* What both state machine tests configure: the mobile home with its home agent ha (MN-HA SPI
 * 1000), an MN-FA SA (SPI 4000) when has_mnfa, 300 s registrations retransmitted from 1 s up to
 * 8 s, 4 tries.  The rest is zero. */
static MND_FIXTURE_UNUSED void sm_conf_base(struct mip4_sm_conf *c, const char *home,
					    const char *ha, const struct roam_key *mnha,
					    bool has_mnfa, const struct roam_key *mnfa)
{
	memset(c, 0, sizeof(*c));
	c->home = A(home);
	c->ha = A(ha);
	c->mnha_spi = 1000;
	c->mnha_key = *mnha;
	c->has_mnfa = has_mnfa;
	c->mnfa_spi = 4000;
	c->mnfa_key = *mnfa;
	c->lifetime_s = 300;
	c->retrans_ms = 1000;
	c->retrans_max_ms = 8000;
	c->max_tries = 4;
}

/* An Agent Advertisement from the FA fa on radio (flags, care-of address coa, sequence seq,
 * lifetime 3 s, registrations up to 600 s) reaches the state machine at now. */
static MND_FIXTURE_UNUSED void sm_adv(struct mip4_sm *sm, int radio, const char *fa,
				      const char *coa, uint16_t flags, uint16_t seq, uint64_t now)
{
	struct mip4_adv a;
	memset(&a, 0, sizeof(a));
	a.lifetime = 3;
	a.has_ma = 1;
	a.seq = seq;
	a.reg_lifetime = 600;
	a.flags = flags;
	a.n_coa = 1;
	a.coa[0] = A(coa);
	mip4_sm_adv(sm, radio, A(fa), &a, now);
}

#endif
