/* mnd's `sip` module (mnd/sip.c): the care-of address it follows from the netlink events of its
 * interface (the newest IPv4 address; a deleted one falls back to the one before), and the
 * `sip:` section of mnd.yaml (defaults, required keys, checks, errors with their position). */
#include <criterion/criterion.h>
#include <string.h>

#include "mnd_fixture.h"

static struct roam_nl_event ev(enum roam_nl_event_type type, const char *addr)
{
	struct roam_nl_event e;
	memset(&e, 0, sizeof(e));
	e.type = type;
	e.ifindex = 2;
	cr_assert_eq(roam_ipaddr_parse(addr, &e.addr.addr), 0);
	e.addr.len = strchr(addr, ':') ? 64 : 24;
	return e;
}

static const char *cur(const struct mnd_sip_addrs *t, char *b, size_t n)
{
	return t->n ? roam_ipaddr_fmt(&t->a[t->n - 1], b, n) : "-";
}

Test(mnd_sip, care_of_address_follows_the_interface)
{
	struct mnd_sip_addrs t = { 0 };
	char b[64];
	struct roam_nl_event e = ev(ROAM_NL_EV_ADDR_NEW, "10.0.1.10");
	cr_assert(mnd_sip_track(&t, &e));
	cr_assert_str_eq(cur(&t, b, sizeof(b)), "10.0.1.10");
	cr_assert_not(mnd_sip_track(&t, &e), "a repeated NEWADDR is no change");
	e = ev(ROAM_NL_EV_ADDR_NEW, "10.0.2.10"); /* make before break: the new one wins */
	cr_assert(mnd_sip_track(&t, &e));
	cr_assert_str_eq(cur(&t, b, sizeof(b)), "10.0.2.10");
	e = ev(ROAM_NL_EV_ADDR_DEL, "10.0.1.10");
	cr_assert(mnd_sip_track(&t, &e));
	cr_assert_str_eq(cur(&t, b, sizeof(b)), "10.0.2.10");
	e = ev(ROAM_NL_EV_ADDR_DEL, "10.0.9.9"); /* not ours */
	cr_assert_not(mnd_sip_track(&t, &e));
	e = ev(ROAM_NL_EV_ADDR_NEW, "2001:db8::1"); /* IPv6: not the SIP agent's */
	cr_assert_not(mnd_sip_track(&t, &e));
	e = ev(ROAM_NL_EV_ADDR_DEL, "10.0.2.10"); /* break before make: no address */
	cr_assert(mnd_sip_track(&t, &e));
	cr_assert_eq(t.n, 0);
	for (int i = 0; i < 20; i++) { /* more than the table holds: the oldest go */
		char a[32];
		snprintf(a, sizeof(a), "10.0.3.%d", i + 1);
		e = ev(ROAM_NL_EV_ADDR_NEW, a);
		cr_assert(mnd_sip_track(&t, &e));
	}
	cr_assert_eq(t.n, MND_SIP_MAX_ADDRS);
	cr_assert_str_eq(cur(&t, b, sizeof(b)), "10.0.3.20");
	e = ev(ROAM_NL_EV_LINK_NEW, "10.0.3.20");
	cr_assert_not(mnd_sip_track(&t, &e));
}

Test(mnd_sip, conf_defaults_and_enable)
{
	struct mnd_conf c;
	struct conf_errors e;
	load_ok("log_level: info\n", &c, &e);
	cr_assert_not(mnd_sip_module.enabled(&c));
	unload(&c, &e);
	load_ok("sip:\n  aor: sip:mn@roam.example\n  servers: [192.0.2.1, \"192.0.2.2:5070\"]\n"
		"  interface: radio0\n", &c, &e);
	cr_assert(mnd_sip_module.enabled(&c));
	cr_assert_eq(c.sip.nservers, 2);
	cr_assert_eq(roam_sockaddr_port(&c.sip.servers[0]), 5060);
	cr_assert_eq(roam_sockaddr_port(&c.sip.servers[1]), 5070);
	cr_assert_eq(c.sip.local_port, 5060);
	cr_assert_eq(c.sip.expires, 3600);
	cr_assert_not(c.sip.nat_continuity);
	cr_assert_eq(c.sip.media.port, 16384);
	cr_assert_eq(c.sip.media.rate, 50);
	cr_assert_eq(c.sip.media.payload_size, 160);
	cr_assert_eq(c.sip.password.len, 0);
	unload(&c, &e);
}

Test(mnd_sip, conf_errors)
{
	struct mnd_conf c;
	struct conf_errors e;
	cr_assert_lt(load("sip:\n  interface: radio0\n", &c, &e), 0);
	cr_assert(has_error(&e, "aor"));
	conf_errors_free(&e);
	cr_assert_lt(load("sip:\n  aor: sip:noat.example\n", &c, &e), 0);
	cr_assert(has_error(&e, "t.yaml:2:"), "position of the error");
	cr_assert(has_error(&e, "sip:user@domain"));
	conf_errors_free(&e);
	cr_assert_lt(load("sip:\n  aor: sip:mn@x\n  media: {port: 16385}\n", &c, &e), 0);
	cr_assert(has_error(&e, "even"));
	conf_errors_free(&e);
	cr_assert_lt(load("sip:\n  aor: sip:mn@x\n  auto_call: tel:123\n", &c, &e), 0);
	cr_assert(has_error(&e, "auto_call"));
	conf_errors_free(&e);
	cr_assert_lt(load("sip:\n  aor: sip:mn@x\n  servers: [a, b, c, d, e]\n", &c, &e), 0);
	conf_errors_free(&e);
	cr_assert_lt(load("sip:\n  aor: sip:mn@x\n  bogus: 1\n", &c, &e), 0);
	cr_assert(has_error(&e, "bogus"));
	conf_errors_free(&e);
}
