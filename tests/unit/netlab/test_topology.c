/* netlab's topology parser: compose + x-roam keys into struct nl_topo, and errors that name
 * file:line:col. */
#include <criterion/criterion.h>
#include <string.h>

#include "../../../tools/netlab/netlab.h"

static const char *GOOD =
	"version: \"3.8\"\n"                                    /* 1 */
	"x-roam:\n"                                             /* 2 */
	"  name: unit\n"                                        /* 3 */
	"  ready_timeout: 3s\n"                                 /* 4 */
	"services:\n"                                           /* 5 */
	"  mn:\n"                                               /* 6 */
	"    command: \"mnd -c '/etc/roam/mnd.yaml' -d\"\n"     /* 7 */
	"    depends_on: [ar1]\n"                               /* 8 */
	"    environment: {A: b}\n"                             /* 9 */
	"    volumes: [\"./etc/mnd.yaml:/etc/roam/mnd.yaml:ro\"]\n" /* 10 */
	"    networks:\n"                                       /* 11 */
	"      cell1: {ipv4_address: 10.0.1.10, ipv6_address: \"2001:db8:1::10\"}\n" /* 12 */
	"      cell2: {ipv4_address: 10.0.2.10}\n"              /* 13 */
	"    x-roam:\n"                                         /* 14 */
	"      role: mobile\n"                                  /* 15 */
	"      ctl: /run/roam/mnd.sock\n"                       /* 16 */
	"      ready_timeout: 500ms\n"                          /* 17 */
	"      radio: {interface: wlan0, cells: [cell1, cell2], attach: cell2}\n" /* 18 */
	"      routes:\n"                                       /* 19 */
	"        - default via 10.0.1.1\n"                      /* 20 */
	"        - {to: \"2001:db8::/32\", via: \"2001:db8:1::1\", dev: wlan0}\n" /* 21 */
	"  ar1:\n"                                              /* 22 */
	"    command: [sleep, infinity]\n"                      /* 23 */
	"    sysctls: {net.ipv4.conf.all.rp_filter: \"0\"}\n"   /* 24 */
	"    networks:\n"                                       /* 25 */
	"      cell1: {ipv4_address: 10.0.1.1}\n"               /* 26 */
	"      cell2: {ipv4_address: 10.0.2.1}\n"               /* 27 */
	"      wan: {ipv4_address: 10.0.0.1}\n"                 /* 28 */
	"    x-roam:\n"                                         /* 29 */
	"      role: router\n"                                  /* 30 */
	"      ifnames: {wan: up0}\n"                           /* 31 */
	"      routes: [\"10.9.0.0/16 dev wan\"]\n"             /* 32 */
	"  cn:\n"                                               /* 33 */
	"    networks: [wan]\n"                                 /* 34 */
	"networks:\n"                                           /* 35 */
	"  wan:\n"                                              /* 36 */
	"    ipam: {config: [{subnet: 10.0.0.0/24}]}\n"         /* 37 */
	"    x-roam: {delay: 20ms, jitter: 500us, loss: 0.5%, rate: 10mbit, dup: 1%, reorder: 2%, seed: 7}\n"
	"  cell1:\n"
	"    ipam: {config: [{subnet: 10.0.1.0/24}, {subnet: \"2001:db8:1::/64\"}]}\n"
	"    x-roam: {radio: true}\n"
	"  cell2:\n"
	"    ipam: {config: [{subnet: 10.0.2.0/24}]}\n"
	"    x-roam: {radio: yes}\n";

Test(topology, good_file_every_key)
{
	struct nl_topo *t = NULL;
	struct nl_errs e = { 0 };
	int rc = topo_load_string("good.yml", "/top", GOOD, &t, &e);
	for (size_t i = 0; i < e.n; i++)
		cr_log_error("%s", e.msg[i]);
	cr_assert_eq(rc, 0);
	cr_assert_str_eq(t->name, "unit");
	cr_assert_eq(t->ready_ms, 3000);
	cr_assert_eq(t->nsvcs, 3);
	cr_assert_eq(t->nnets, 3);

	const struct nl_net *wan = &t->nets[topo_net_find(t, "wan")];
	cr_assert(wan->emu.set);
	cr_assert_eq(wan->emu.delay_ns, 20000000ull);
	cr_assert_str_eq(wan->emu.delay, "20ms");
	cr_assert_eq(wan->emu.jitter_ns, 500000ull);
	cr_assert_float_eq(wan->emu.loss_pct, 0.5, 1e-9);
	cr_assert_eq(wan->emu.rate_bps, 10000000ull);
	cr_assert_float_eq(wan->emu.dup_pct, 1.0, 1e-9);
	cr_assert_float_eq(wan->emu.reorder_pct, 2.0, 1e-9);
	cr_assert(wan->emu.has_seed);
	cr_assert_eq(wan->emu.seed, 7);
	cr_assert(wan->direct, "2 static attachments: linkem directly between them");
	cr_assert(!wan->radio);
	cr_assert(t->nets[topo_net_find(t, "cell1")].radio);
	cr_assert(t->nets[topo_net_find(t, "cell2")].radio);
	cr_assert(t->nets[topo_net_find(t, "cell1")].has6);

	const struct nl_svc *mn = &t->svcs[topo_svc_find(t, "mn")];
	cr_assert_str_eq(mn->argv[0], "mnd");
	cr_assert_str_eq(mn->argv[1], "-c");
	cr_assert_str_eq(mn->argv[2], "/etc/roam/mnd.yaml");
	cr_assert_str_eq(mn->argv[3], "-d");
	cr_assert_null(mn->argv[4]);
	cr_assert_str_eq(mn->env[0], "A=b");
	cr_assert_eq(mn->nvols, 1);
	cr_assert_str_eq(mn->vols[0].src, "/top/etc/mnd.yaml");
	cr_assert_str_eq(mn->vols[0].dst, "/etc/roam/mnd.yaml");
	cr_assert(mn->vols[0].ro);
	cr_assert_str_eq(mn->ctl, "/run/roam/mnd.sock");
	cr_assert_eq(mn->ready_ms, 500);
	cr_assert_str_eq(mn->role, "mobile");
	cr_assert(!mn->router);
	cr_assert_eq(mn->nifs, 1, "both cells share the one radio interface");
	cr_assert(mn->ifs[0].radio);
	cr_assert_str_eq(mn->ifs[0].ifname, "wlan0");
	cr_assert_eq(mn->ifs[0].ncells, 2);
	cr_assert_eq(mn->ifs[0].net, topo_net_find(t, "cell2"));
	cr_assert_eq(mn->ifs[0].naddrs, 3);
	cr_assert_eq(mn->nroutes, 2);
	cr_assert_eq(mn->routes[0].to.len, 0);
	cr_assert_eq(mn->routes[0].to.addr.family, AF_INET);
	cr_assert(mn->routes[0].has_via);
	cr_assert_eq(mn->routes[1].to.addr.family, AF_INET6);
	cr_assert_eq(mn->routes[1].to.len, 32);
	cr_assert_str_eq(mn->routes[1].dev, "wlan0");

	const struct nl_svc *ar = &t->svcs[topo_svc_find(t, "ar1")];
	cr_assert(ar->router);
	cr_assert_eq(ar->nifs, 3);
	cr_assert_str_eq(ar->ifs[0].ifname, "eth-cell1");
	cr_assert_str_eq(ar->ifs[2].ifname, "up0");
	cr_assert_str_eq(ar->routes[0].dev, "up0", "a network name as dev means its interface");
	cr_assert_str_eq(ar->sysctls[0].key, "net.ipv4.conf.all.rp_filter");
	cr_assert_str_eq(ar->sysctls[0].value, "0");
	cr_assert_eq(ar->ready_ms, 3000);

	const struct nl_svc *cn = &t->svcs[topo_svc_find(t, "cn")];
	cr_assert_null(cn->argv);
	cr_assert_eq(cn->nifs, 1);
	cr_assert_eq(cn->ifs[0].naddrs, 0);

	/* depends_on: ar1 starts before mn */
	size_t pos_mn = 99, pos_ar = 99;
	for (size_t i = 0; i < t->nsvcs; i++) {
		if (t->order[i] == (size_t)topo_svc_find(t, "mn"))
			pos_mn = i;
		if (t->order[i] == (size_t)topo_svc_find(t, "ar1"))
			pos_ar = i;
	}
	cr_assert_lt(pos_ar, pos_mn);
	topo_free(t);
	nl_errs_free(&e);
}

/* Loads text that must fail and checks that some error contains `want`. */
static void bad(const char *text, const char *want)
{
	struct nl_topo *t = NULL;
	struct nl_errs e = { 0 };
	int rc = topo_load_string("bad.yml", "/top", text, &t, &e);
	bool found = false;
	cr_assert_lt(rc, 0, "accepted a bad file (wanted: %s)", want);
	cr_assert_null(t);
	for (size_t i = 0; i < e.n; i++) {
		found |= strstr(e.msg[i], want) != NULL;
		cr_assert(strncmp(e.msg[i], "bad.yml:", 8) == 0, "error without file: %s", e.msg[i]);
	}
	if (!found)
		for (size_t i = 0; i < e.n; i++)
			cr_log_error("got: %s", e.msg[i]);
	cr_assert(found, "no error containing '%s'", want);
	nl_errs_free(&e);
}

#define NET_HDR "version: \"3.8\"\nservices:\n  a:\n    networks: [n]\nnetworks:\n  n:\n"

Test(topology, bad_network_keys)
{
	bad(NET_HDR "    x-roam: {dealy: 5ms}\n", "bad.yml:7:14: networks.n: unknown x-roam key 'dealy'");
	bad(NET_HDR "    x-roam: {delay: 5}\n", "bad.yml:7:21: networks.n.x-roam.delay: bad duration '5'");
	bad(NET_HDR "    x-roam: {delay: 5 ms}\n", "bad duration '5 ms'");
	bad(NET_HDR "    x-roam: {jitter: -1ms}\n", "bad.yml:7:22: networks.n.x-roam.jitter: bad duration");
	bad(NET_HDR "    x-roam: {loss: 5}\n", "bad.yml:7:20: networks.n.x-roam.loss: bad percentage '5'");
	bad(NET_HDR "    x-roam: {loss: 101%}\n", "bad percentage '101%'");
	bad(NET_HDR "    x-roam: {dup: x%}\n", "networks.n.x-roam.dup: bad percentage");
	bad(NET_HDR "    x-roam: {reorder: 1%%}\n", "networks.n.x-roam.reorder: bad percentage");
	bad(NET_HDR "    x-roam: {rate: 10mbps}\n", "bad.yml:7:20: networks.n.x-roam.rate: bad rate '10mbps'");
	bad(NET_HDR "    x-roam: {rate: 0bit}\n", "bad rate '0bit'");
	bad(NET_HDR "    x-roam: {seed: -3}\n", "networks.n.x-roam.seed: expected a non-negative integer");
	bad(NET_HDR "    x-roam: {radio: maybe}\n", "networks.n.x-roam.radio: expected true or false");
	bad(NET_HDR "    x-roam: {radio: true, delay: 1ms}\n", "link emulation on a radio cell");
	bad(NET_HDR "    ipam: {config: [{subnet: 10.0.0.1/24}]}\n", "bad.yml:7:30: networks.n: subnet '10.0.0.1/24' has host bits");
	bad(NET_HDR "    ipam: {config: [{subnet: 10.0.0.0}]}\n", "bad subnet '10.0.0.0'");
}

#define SVC_HDR "version: \"3.8\"\nnetworks:\n  n:\n    ipam: {config: [{subnet: 10.0.0.0/24}]}\n" \
	"  c:\n    x-roam: {radio: true}\n    ipam: {config: [{subnet: 10.0.9.0/24}]}\nservices:\n  a:\n"

Test(topology, bad_service_keys)
{
	bad(SVC_HDR "    networks: {n: {ipv4_address: 10.0.1.5}}\n",
	    "bad.yml:10:34: services.a: address 10.0.1.5 is outside network 'n' (10.0.0.0/24)");
	bad(SVC_HDR "    networks: {n: {ipv4_address: 10.0.0.300}}\n", "bad IPv4 address '10.0.0.300'");
	bad(SVC_HDR "    networks: {n: {ipv6_address: \"2001:db8::1\"}}\n", "network 'n' has no IPv6 subnet");
	bad(SVC_HDR "    networks: [m]\n", "bad.yml:10:16: services.a: undefined network 'm'");
	bad(SVC_HDR "    networks: {m: {}}\n", "bad.yml:10:16: services.a: undefined network 'm'");
	bad(SVC_HDR "    x-roam: {rolle: router}\n", "bad.yml:10:14: services.a: unknown x-roam key 'rolle'");
	bad(SVC_HDR "    x-roam: {ctl: relative.sock}\n", "services.a.x-roam.ctl: expected an absolute");
	bad(SVC_HDR "    x-roam: {ready_timeout: soon}\n", "services.a.x-roam.ready_timeout: bad duration 'soon'");
	bad(SVC_HDR "    x-roam: {routes: [\"10.1.0.0/16 over 10.0.0.1\"]}\n", "unknown word 'over'");
	bad(SVC_HDR "    x-roam: {routes: [\"10.1.0.0/16 via 10.0.0\"]}\n", "bad gateway address '10.0.0'");
	bad(SVC_HDR "    x-roam: {routes: [\"10.1.0.0/16\"]}\n", "a route needs 'via' or 'dev'");
	bad(SVC_HDR "    x-roam: {routes: [{to: 10.1.0.0/16, via: \"2001:db8::1\"}]}\n", "different families");
	bad(SVC_HDR "    x-roam: {routes: [{to: 10.1.0.0/16, gw: 10.0.0.1}]}\n", "unknown key 'gw'");
	bad(SVC_HDR "    networks: [n]\n    x-roam: {routes: [\"10.1.0.0/16 dev nope\"]}\n", "unknown device 'nope'");
	bad(SVC_HDR "    networks: [n]\n    x-roam: {radio: {cells: [n]}}\n", "network 'n' is not a radio cell");
	bad(SVC_HDR "    networks: [n]\n    x-roam: {radio: {cells: [c]}}\n", "cell 'c' is not in the service's networks");
	bad(SVC_HDR "    networks: [c]\n    x-roam: {radio: {cells: [c], attach: n}}\n", "attach 'n' is not one of its cells");
	bad(SVC_HDR "    networks: [c]\n    x-roam: {radio: {cells: [c], band: 5}}\n", "unknown key 'band'");
	bad(SVC_HDR "    networks: [n]\n    x-roam: {ifnames: {n: averyveryverylongname}}\n", "bad interface name");
	bad(SVC_HDR "    depends_on: [b]\n", "services.a.depends_on: undefined service 'b'");
	bad(SVC_HDR "    depends_on: [b]\n  b:\n    depends_on: [a]\n", "dependency cycle");
	bad(SVC_HDR "    networks: {n: {ipv4_address: 10.0.0.5}}\n  b:\n    networks: {n: {ipv4_address: 10.0.0.5}}\n",
	    "address 10.0.0.5 is also used by service 'a'");
	bad(SVC_HDR "    volumes: [\"data:/var/lib/x\"]\n", "named volume 'data' not supported");
	bad(SVC_HDR "    volumes: [\"./x:/y:rx\"]\n", "mode 'rx' not supported");
	bad(SVC_HDR "    sysctls: {kernel.pid_max: \"1\"}\n", "only net.* sysctls");
	bad(SVC_HDR "    network_mode: host\n", "network_mode 'host' not supported");
	bad(SVC_HDR "    command: \"echo 'unterminated\"\n", "unbalanced quotes");
	bad("version: \"3.8\"\nx-roam: {nmae: x}\nservices: {a: {}}\n", "bad.yml:2:10: unknown x-roam key 'nmae'");
	bad("version: \"3.8\"\nservices: {}\n", "services: expected a map of at least one service");
	bad("version: \"2.4\"\nservices: {a: {}}\n", "netlab reads compose format 3.x");
	bad("services:\n  a: {\n", "bad.yml:");
}

Test(topology, errors_are_all_reported)
{
	struct nl_topo *t = NULL;
	struct nl_errs e = { 0 };
	int rc = topo_load_string("bad.yml", "/", NET_HDR "    x-roam: {delay: x, loss: y, rate: z}\n",
				  &t, &e);
	cr_assert_lt(rc, 0);
	cr_assert_eq(e.total, 3);
	nl_errs_free(&e);
}

Test(topology, value_parsers)
{
	uint64_t v;
	double d;
	char **argv;

	cr_assert_eq(nl_parse_duration("1.5ms", &v), 0);
	cr_assert_eq(v, 1500000);
	cr_assert_eq(nl_parse_duration("2s", &v), 0);
	cr_assert_eq(v, 2000000000ull);
	cr_assert_eq(nl_parse_duration("0", &v), 0);
	cr_assert_eq(v, 0);
	cr_assert_lt(nl_parse_duration("10", &v), 0);
	cr_assert_lt(nl_parse_duration("ms", &v), 0);
	cr_assert_lt(nl_parse_duration("1h", &v), 0);
	cr_assert_eq(nl_parse_percent("0.01%", &d), 0);
	cr_assert_float_eq(d, 0.01, 1e-12);
	cr_assert_lt(nl_parse_percent("100.1%", &d), 0);
	cr_assert_eq(nl_parse_rate("1.5gbit", &v), 0);
	cr_assert_eq(v, 1500000000ull);
	cr_assert_lt(nl_parse_rate("10", &v), 0);
	cr_assert_eq(nl_shell_split("a 'b c' \"d\\\"e\" f\\ g", &argv), 0);
	cr_assert_str_eq(argv[0], "a");
	cr_assert_str_eq(argv[1], "b c");
	cr_assert_str_eq(argv[2], "d\"e");
	cr_assert_str_eq(argv[3], "f g");
	cr_assert_null(argv[4]);
	nl_strv_free(argv);
	cr_assert_lt(nl_shell_split("   ", &argv), 0);
	cr_assert_lt(nl_shell_split("a \"b", &argv), 0);
}

Test(topology, names)
{
	struct nl_topo t = { .name = "tour" };
	char b[64];
	nl_ns_name(&t, "mn", b, sizeof(b));
	cr_assert_str_eq(b, "tour-mn");
	nl_sw_name(&t, b, sizeof(b));
	cr_assert_str_eq(b, "tour-sw");
	nl_swif_name('v', 12, 3, b, sizeof(b));
	cr_assert_str_eq(b, "v12i3");
}
