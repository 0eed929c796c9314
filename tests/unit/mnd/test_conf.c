/* mnd.yaml schema (mnd/conf.c): module sections enable modules, defaults, cross-field checks. */
#include <criterion/criterion.h>
#include <string.h>

#include "mnd_fixture.h"

#define MIP4 "mip4:\n  home_address: 10.0.0.10\n  home_agent: 10.0.0.1\n  spi: 1000\n" \
	     "  key: 00112233445566778899aabbccddeeff\n"

Test(mnd_conf, no_section_disables_mip4)
{
	struct mnd_conf c;
	struct conf_errors e;
	load_ok("log_level: debug\n", &c, &e);
	cr_assert_eq(c.mip4.home.family, 0);
	cr_assert_str_eq(c.control_socket, "/run/roam/mnd.sock");
	cr_assert_not(mnd_mip4_module.enabled(&c));
	unload(&c, &e);
}

Test(mnd_conf, defaults)
{
	struct mnd_conf c;
	struct conf_errors e;
	load_ok(MIP4 "  radios: [radio0, radio1]\n", &c, &e);
	cr_assert(mnd_mip4_module.enabled(&c));
	cr_assert_eq(c.mip4.nradios, 2);
	cr_assert_str_eq(c.mip4.radios[1], "radio1");
	cr_assert_str_eq(c.mip4.home_interface, "lo");
	cr_assert_eq(c.mip4.lifetime, 300000);
	cr_assert_eq(c.mip4.retransmit, 1000);
	cr_assert_eq(c.mip4.retransmit_max, 8000);
	cr_assert_eq(c.mip4.max_tries, 5);
	cr_assert_eq(c.mip4.refresh_pct, 80);
	cr_assert_eq(c.mip4.fbu_lifetime, 5000);
	cr_assert(c.mip4.synchronize);
	cr_assert(c.mip4.manage_routes);
	cr_assert_not(c.mip4.reverse_tunnel);
	cr_assert_eq(c.mip4.fa_spi, 0);
	cr_assert_eq(c.mip4.key.len, 16);
	unload(&c, &e);
}

Test(mnd_conf, errors)
{
	struct mnd_conf c;
	struct conf_errors e;
	cr_assert_lt(load("mip4:\n  radios: [a]\n", &c, &e), 0);
	cr_assert(has_error(&e, "mip4.home_address"));
	cr_assert(has_error(&e, "mip4.spi"));
	conf_errors_free(&e);
	cr_assert_lt(load(MIP4 "  radios: [a, a]\n", &c, &e), 0);
	cr_assert(has_error(&e, "listed twice"));
	conf_errors_free(&e);
	cr_assert_lt(load(MIP4 "  radios: [a, b, c]\n", &c, &e), 0);
	conf_errors_free(&e);
	cr_assert_lt(load(MIP4 "  radios: [a]\n  fa_spi: 4000\n", &c, &e), 0);
	cr_assert(has_error(&e, "fa_spi and fa_key"));
	conf_errors_free(&e);
	cr_assert_lt(load(MIP4 "  radios: [a]\n  retransmit: 5s\n  retransmit_max: 1s\n", &c, &e),
		     0);
	cr_assert(has_error(&e, "retransmit_max"));
	conf_errors_free(&e);
	cr_assert_lt(load(MIP4 "  radios: [a]\n  neighbours:\n    - network: cell2\n", &c, &e), 0);
	cr_assert(has_error(&e, "foreign_agent"));
	conf_errors_free(&e);
}
