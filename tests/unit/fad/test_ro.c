/* fad's Binding Warning (fa/ro.c; docs/protocols/mipv4.md 4): tunnelled traffic for a home
 * address that is no visitor, from a sender that is no home agent of ours, makes fad send a
 * Binding Warning (240: home, target = sender) to each configured home agent, at most once per
 * second per (home, sender); nothing when binding_warnings is off or the sender is a home agent. */
#include <criterion/criterion.h>
#include <string.h>

#include "fad_fixture.h"

static struct fad f;
static struct fad_ha_sa has[2];
static struct fx_sent sent[8];
static int nsent;

static int fake_send(void *arg, const struct roam_sockaddr *dst, const struct roam_ipaddr *src,
		     int ifindex, const void *data, size_t len)
{
	(void)arg;
	fx_record(sent, &nsent, 8, dst, src, ifindex, data, len);
	return 0;
}

static void setup(void)
{
	memset(&f, 0, sizeof(f));
	memset(has, 0, sizeof(has));
	has[0].addr = a4("10.0.0.1");
	has[1].addr = a4("10.0.0.2");
	f.has = has;
	f.nhas = 2;
	f.send = fake_send;
	f.conf.binding_warnings = true;
	nsent = 0;
}

TestSuite(fad_ro, .init = setup);

Test(fad_ro, warning_to_every_home_agent)
{
	fad_ro_warn(&f, a4("10.0.0.100"), a4("10.0.0.10"), 5000);
	cr_assert_eq(nsent, 2);
	for (int i = 0; i < 2; i++) {
		struct roam_ipaddr a;
		uint16_t port;
		cr_assert_eq(roam_sockaddr_addr(&sent[i].dst, &a, &port), 0);
		cr_assert_eq(a.v4.s_addr, has[i].addr.s_addr);
		cr_assert_eq(port, 434);
		struct mip4_msg m;
		cr_assert_eq(mip4_msg_decode(sent[i].data, sent[i].len, &m), 0);
		cr_assert_eq(m.type, MIP4_MSG_RO_WARNING);
		cr_assert_eq(m.home.s_addr, a4("10.0.0.100").s_addr);
		cr_assert_eq(m.target.s_addr, a4("10.0.0.10").s_addr);
		cr_assert_eq(sent[i].len, 12);
	}
	cr_assert_eq(f.stats.ro_warnings_sent, 2);
}

Test(fad_ro, once_per_second_per_pair)
{
	fad_ro_warn(&f, a4("10.0.0.100"), a4("10.0.0.10"), 5000);
	fad_ro_warn(&f, a4("10.0.0.100"), a4("10.0.0.10"), 5999);
	cr_assert_eq(nsent, 2);
	cr_assert_eq(f.stats.ro_warnings_suppressed, 1);
	fad_ro_warn(&f, a4("10.0.0.100"), a4("10.0.0.11"), 5999); /* another sender */
	cr_assert_eq(nsent, 4);
	fad_ro_warn(&f, a4("10.0.0.100"), a4("10.0.0.10"), 6000);
	cr_assert_eq(nsent, 6);
}

Test(fad_ro, off_or_from_a_home_agent)
{
	fad_ro_warn(&f, a4("10.0.0.100"), a4("10.0.0.2"), 5000);
	cr_assert_eq(nsent, 0, "a home agent's late packet");
	f.conf.binding_warnings = false;
	fad_ro_warn(&f, a4("10.0.0.100"), a4("10.0.0.10"), 5000);
	cr_assert_eq(nsent, 0);
	cr_assert_eq(f.stats.ro_warnings_sent, 0);
}
