/* fad.yaml schema (conf.c) and the SA / cell tables built from it (sa.c). */
#include <criterion/criterion.h>
#include <string.h>

#include "../../../fa/fad.h"

static const char *base =
	"cells:\n"
	"  - interface: cell0\n"
	"    care_of: 198.51.100.1\n";

static int load(const char *text, struct fad_conf *c, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	return fad_conf_load_string(c, text, err, errlen);
}

Test(fad_conf, defaults)
{
	struct fad_conf c;
	char err[256] = "";
	cr_assert_eq(load(base, &c, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(c.port, 434);
	cr_assert_eq(c.max_lifetime, 1800000);
	cr_assert_eq(c.relay_timeout, 7000);
	cr_assert_eq(c.fbu_max_lifetime, 10000);
	cr_assert_eq(c.replay_tolerance, 7000);
	cr_assert_eq(c.max_visitors, 10000);
	cr_assert(c.synchronized);
	cr_assert(!c.require_mn_fa);
	cr_assert(!c.known_home_agents_only);
	cr_assert_eq(c.reverse_tunnel, FAD_RT_ON);
	cr_assert(c.advert.enabled);
	cr_assert_eq(c.advert.interval, 1000);
	cr_assert_eq(c.ncells, 1);
	cr_assert_eq(c.nhas, 0);
	cr_assert_eq(c.nmobiles, 0);
	cr_assert_str_eq(c.control_socket, "/run/roam/fad.sock");
	fad_conf_free(&c);
}

Test(fad_conf, errors)
{
	struct fad_conf c;
	char err[256];
	const char *bad[] = {
		"cells: []\n",                                              /* at least one cell */
		"max_visitors: 5\n",                                        /* cells required */
		"cells:\n  - interface: a\n    care_of: 10.0.0.1\n  - interface: a\n    care_of: 10.0.0.2\n",
		"cells:\n  - interface: a\n    care_of: 2001:db8::1\n",      /* IPv4 only */
		"cells:\n  - interface: a\n    care_of: 10.0.0.1\nhome_agents:\n  - address: 10.0.0.9\n    spi: 255\n    key: 00\n",
		"cells:\n  - interface: a\n    care_of: 10.0.0.1\nmobiles:\n  - home: 10.1.0.1\n    spi: 300\n    key: 0011\n  - home: 10.1.0.1\n    spi: 301\n    key: 0011\n",
		"cells:\n  - interface: a\n    care_of: 10.0.0.1\nreverse_tunnel: maybe\n",
		"cells:\n  - interface: a\n    care_of: 10.0.0.1\nbogus: 1\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		cr_assert_lt(load(bad[i], &c, err, sizeof(err)), 0, "case %zu accepted", i);
		cr_assert_neq(err[0], '\0', "case %zu: no message", i);
	}
}

Test(fad_conf, sas_and_cells)
{
	struct fad f;
	char err[256] = "";
	memset(&f, 0, sizeof(f));
	cr_assert_eq(load("cells:\n"
			  "  - interface: c0\n    care_of: 10.0.0.1\n"
			  "  - interface: c1\n    care_of: 10.0.1.1\n"
			  "home_agents:\n  - address: 10.9.0.1\n    spi: 3000\n    key: 0011\n"
			  "mobiles:\n  - home: 10.1.0.1\n    spi: 4000\n    key: 2233\n"
			  "    algorithm: keyed-md5\n",
			  &f.conf, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(fad_sa_build(&f), 0);
	cr_assert_eq(fad_cells_build(&f, 0), 0);
	struct in_addr a;
	a.s_addr = htonl(0x0a090001);
	cr_assert_not_null(fad_ha_find(&f, a));
	cr_assert_eq(fad_ha_find(&f, a)->spi, 3000);
	a.s_addr = htonl(0x0a010001);
	cr_assert_not_null(fad_mn_find(&f, a));
	cr_assert_eq(fad_mn_find(&f, a)->key.alg, AUTH_ALG_KEYED_MD5);
	a.s_addr = htonl(0x0a010002);
	cr_assert_null(fad_mn_find(&f, a));
	a.s_addr = htonl(0x0a000101);
	cr_assert_eq(fad_cell_by_coa(&f, a), 1);
	f.cells[0].ifindex = 5;
	f.cells[1].ifindex = 6;
	cr_assert_eq(fad_cell_by_ifindex(&f, 6), 1);
	cr_assert_eq(fad_cell_by_ifindex(&f, 7), -1);
	cr_assert_eq(fad_cell_by_ifindex(&f, 0), -1, "ambiguous with two cells");
	/* Reload keeps the FBU replay state of an unchanged SA. */
	f.mns[0].replay.used = 1;
	f.mns[0].replay.recent[0] = 42;
	cr_assert_eq(fad_sa_build(&f), 0);
	cr_assert_eq(f.mns[0].replay.used, 1);
	cr_assert_eq(f.mns[0].replay.recent[0], 42);
	fad_sa_free(&f);
	fad_cells_free(&f);
	fad_conf_free(&f.conf);
}
