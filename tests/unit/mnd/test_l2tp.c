/* mnd's l2tp section (mnd/conf.c, mnd/l2tp.c): enabling, defaults, cross-field checks. */
#include <criterion/criterion.h>
#include <string.h>

#include "mnd_fixture.h"

#define L2TP "l2tp:\n  min: \"3125550100\"\n  user: alice\n  radios: [radio0]\n"

Test(mnd_l2tp_conf, absent_section_disables)
{
	struct mnd_conf c;
	struct conf_errors e;
	load_ok("log_level: info\n", &c, &e);
	cr_assert_not(mnd_l2tp_module.enabled(&c));
	unload(&c, &e);
}

Test(mnd_l2tp_conf, defaults)
{
	struct mnd_conf c;
	struct conf_errors e;
	load_ok(L2TP "  password: wonderland\n", &c, &e);
	cr_assert(mnd_l2tp_module.enabled(&c));
	cr_assert_not(mnd_mip4_module.enabled(&c));
	cr_assert_str_eq(c.l2tp.min, "3125550100");
	cr_assert_str_eq(c.l2tp.ppp_user, "alice");
	cr_assert_eq(c.l2tp.password.len, 10);
	cr_assert_null(c.l2tp.password_file);
	cr_assert_str_eq(mnd_l2tp_auth_names[c.l2tp.auth], "any");
	cr_assert_str_eq(c.l2tp.nai, "");
	cr_assert_str_eq(c.l2tp.lac, "");
	cr_assert_str_eq(c.l2tp.group, "239.255.17.2");
	cr_assert_str_eq(c.l2tp.tun, "l2tp0");
	cr_assert(c.l2tp.default_route);
	cr_assert_eq(c.l2tp.notice_margin, 50);
	cr_assert_eq(c.l2tp.silence_margin, 200);
	cr_assert_eq(c.l2tp.nradios, 1);
	unload(&c, &e);
}

Test(mnd_l2tp_conf, all_keys)
{
	struct mnd_conf c;
	struct conf_errors e;
	load_ok(L2TP "  password_file: /etc/roam/mnd-l2tp.secret\n  auth: chap\n"
		"  nai: alice@example.net\n  lac: 192.0.2.1:17010\n  tun: ppp7\n"
		"  default_route: no\n  notice_margin: 0ms\n  silence_margin: 1s\n",
		&c, &e);
	cr_assert_str_eq(c.l2tp.password_file, "/etc/roam/mnd-l2tp.secret");
	cr_assert_eq(c.l2tp.password.len, 0);
	cr_assert_str_eq(mnd_l2tp_auth_names[c.l2tp.auth], "chap");
	cr_assert_str_eq(c.l2tp.lac, "192.0.2.1:17010");
	cr_assert_not(c.l2tp.default_route);
	cr_assert_eq(c.l2tp.notice_margin, 0);
	cr_assert_eq(c.l2tp.silence_margin, 1000);
	unload(&c, &e);
}

static void expect_error(const char *text, const char *needle)
{
	struct mnd_conf c;
	struct conf_errors e;
	cr_assert_lt(load(text, &c, &e), 0, "accepted: %s", text);
	if (!has_error(&e, needle))
		conf_errors_print(&e, stderr);
	cr_assert(has_error(&e, needle), "no error mentioning '%s'", needle);
	unload(&c, &e);
}

Test(mnd_l2tp_conf, errors)
{
	/* no password at all, or both */
	expect_error(L2TP, "password");
	expect_error(L2TP "  password: x\n  password_file: /etc/p\n", "password");
	/* MIN not ten digits */
	expect_error("l2tp:\n  min: \"31255501\"\n  user: a\n  password: x\n  radios: [r0]\n", "min");
	expect_error("l2tp:\n  min: \"312555010x\"\n  user: a\n  password: x\n  radios: [r0]\n",
		     "min");
	/* required keys */
	expect_error("l2tp:\n  min: \"3125550100\"\n  password: x\n  radios: [r0]\n", "user");
	expect_error("l2tp:\n  min: \"3125550100\"\n  user: a\n  password: x\n", "radios");
	/* radios */
	expect_error("l2tp:\n  min: \"3125550100\"\n  user: a\n  password: x\n  radios: [r0, r0]\n",
		     "twice");
	expect_error("l2tp:\n  min: \"3125550100\"\n  user: a\n  password: x\n"
		     "  radios: [a-very-long-interface-name]\n", "radios");
	/* discovery */
	expect_error(L2TP "  password: x\n  group: 10.0.0.1\n", "group");
	expect_error(L2TP "  password: x\n  lac: not-an-address\n", "lac");
	/* auth, unknown keys, a password longer than PPP allows */
	expect_error(L2TP "  password: x\n  auth: eap\n", "auth");
	expect_error(L2TP "  password: x\n  colour: blue\n", "colour");
	expect_error(L2TP "  password: 0123456789012345678901234567890123456789012345678901234567890123456789\n",
		     "password");
}
