/* Tests of roam/conf.h: every field type with good and bad values, defaults, required and
 * unknown keys with their positions, nested and list paths, all errors reported at once,
 * secret files, and the caller's struct left untouched on failure. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "roam/conf.h"

struct peer {
	char *name;
	struct roam_sockaddr addr;
	struct conf_bytes key;
	uint32_t weight;
};

struct tunnel {
	uint64_t hello_interval;
	uint32_t retries;
	bool enabled;
};

struct cfg {
	bool debug;
	int64_t offset;
	int16_t small;
	int32_t above;
	uint16_t port;
	uint8_t ttl;
	uint64_t timeout;
	uint32_t short_timeout;
	uint64_t bufsize;
	uint32_t bufsize32;
	char *name;
	char *state_dir;
	char *rel_path;
	int mode;
	struct roam_ipaddr addr;
	struct roam_ipaddr addr4;
	struct roam_ipaddr addr6;
	struct roam_prefix pool;
	struct roam_prefix net;
	struct roam_sockaddr listen;
	struct conf_bytes spi_key;
	struct conf_bytes password;
	struct conf_bytes hexsecret;
	struct tunnel tunnel;
	struct peer *peers;
	size_t npeers;
	struct roam_ipaddr *dns;
	size_t ndns;
	char **tags;
	size_t ntags;
};

static const char *const modes[] = { "fast", "safe", "paranoid", NULL };

static int tunnel_check(const void *obj, const char **key, char *msg, size_t msglen)
{
	const struct tunnel *t = obj;
	if (t->enabled && t->retries == 0) {
		*key = "retries";
		snprintf(msg, msglen, "must be at least 1 when the tunnel is enabled");
		return -1;
	}
	return 0;
}

static const struct conf_field tunnel_fields[] = {
	CONF_DURATION("hello_interval", struct tunnel, hello_interval, .dflt = "60s", .umin = 1000,
	              .umax = 3600000, .help = "HELLO period"),
	CONF_UINT("retries", struct tunnel, retries, .dflt = "5", .umax = 100),
	CONF_BOOL("enabled", struct tunnel, enabled, .dflt = "false"),
};
static const struct conf_schema tunnel_schema = CONF_SCHEMA(struct tunnel, tunnel_fields,
                                                            .check = tunnel_check);

static const struct conf_field peer_fields[] = {
	CONF_STRING("name", struct peer, name, .flags = CONF_F_REQUIRED, .umax = 16),
	CONF_SOCKADDR("addr", struct peer, addr, .flags = CONF_F_REQUIRED, .port = 434),
	CONF_SECRET("key", struct peer, key, .flags = CONF_F_HEX, .umin = 16, .umax = 16),
	CONF_UINT("weight", struct peer, weight, .dflt = "1", .umin = 1, .umax = 10),
};
static const struct conf_schema peer_schema = CONF_SCHEMA(struct peer, peer_fields);

static const struct conf_field cfg_fields[] = {
	CONF_BOOL("debug", struct cfg, debug, .dflt = "no"),
	CONF_INT("offset", struct cfg, offset, .min = -100, .max = 100, .dflt = "-3"),
	CONF_INT("small", struct cfg, small),
	CONF_INT("above", struct cfg, above, .min = 10),
	CONF_UINT("port", struct cfg, port, .dflt = "434", .umin = 1),
	CONF_UINT("ttl", struct cfg, ttl, .dflt = "64"),
	CONF_DURATION("timeout", struct cfg, timeout, .dflt = "5m"),
	CONF_DURATION("short_timeout", struct cfg, short_timeout, .dflt = "250ms", .umin = 100,
	              .umax = 10000),
	CONF_SIZE("bufsize", struct cfg, bufsize, .dflt = "64KiB", .umax = 16 << 20),
	CONF_SIZE("bufsize32", struct cfg, bufsize32),
	CONF_STRING("name", struct cfg, name, .flags = CONF_F_REQUIRED, .umax = 8),
	CONF_PATH("state_dir", struct cfg, state_dir, .flags = CONF_F_ABSOLUTE,
	          .dflt = "/var/lib/roam"),
	CONF_PATH("rel_path", struct cfg, rel_path),
	CONF_ENUM("mode", struct cfg, mode, modes, .dflt = "safe"),
	CONF_ADDR("addr", struct cfg, addr, .dflt = "::1"),
	CONF_ADDR("addr4", struct cfg, addr4, .flags = CONF_F_V4),
	CONF_ADDR("addr6", struct cfg, addr6, .flags = CONF_F_V6),
	CONF_PREFIX("pool", struct cfg, pool, .dflt = "10.0.0.0/8"),
	CONF_PREFIX("net", struct cfg, net, .flags = CONF_F_NO_HOST_BITS),
	CONF_SOCKADDR("listen", struct cfg, listen, .dflt = "[2001:db8::1]:7000", .port = 434),
	CONF_HEX("spi_key", struct cfg, spi_key, .umin = 4, .umax = 8),
	CONF_SECRET("password", struct cfg, password),
	CONF_SECRET("hexsecret", struct cfg, hexsecret, .flags = CONF_F_HEX),
	CONF_MAP("tunnel", struct cfg, tunnel, &tunnel_schema),
	CONF_LIST("peers", struct cfg, peers, npeers, &peer_schema, .umax = 4),
	CONF_LIST_OF("dns", struct cfg, dns, ndns, CONF_ELEM(CONF_T_ADDR, struct roam_ipaddr),
	             .umax = 3),
	CONF_LIST_OF("tags", struct cfg, tags, ntags, CONF_ELEM(CONF_T_STRING, char *),
	             .dflt = "[alpha, beta]"),
};
static const struct conf_schema cfg_schema = CONF_SCHEMA(struct cfg, cfg_fields);

static char *addr_str(const struct roam_ipaddr *a, char *buf, size_t len)
{
	inet_ntop(a->family, a->family == AF_INET ? (const void *)&a->v4 : (const void *)&a->v6, buf,
	          (socklen_t)len);
	return buf;
}

/* Loads text that must succeed. */
static void load_good(const char *text, struct cfg *c)
{
	struct conf_errors e = { 0 };
	memset(c, 0, sizeof(*c));
	int rc = conf_load_string("t.yaml", text, &cfg_schema, c, &e);
	if (rc != 0)
		conf_errors_print(&e, stderr);
	cr_assert_eq(rc, 0);
	cr_assert_eq(e.count, 0);
	conf_errors_free(&e);
}

/* Loads text that must fail with exactly the given error lines (in order). */
static void load_bad(const char *text, const char *const *expect, size_t n)
{
	struct conf_errors e = { 0 };
	struct cfg c;
	memset(&c, 0xA5, sizeof(c));
	struct cfg saved = c;
	int rc = conf_load_string("t.yaml", text, &cfg_schema, &c, &e);
	cr_assert_eq(rc, -EINVAL, "rc %d for:\n%s", rc, text);
	cr_assert_eq(memcmp(&c, &saved, sizeof(c)), 0, "out was modified");
	for (size_t i = 0; i < e.count && i < n; i++)
		cr_expect(strcmp(e.v[i].text, expect[i]) == 0, "error %zu for:\n%s\ngot:    %s\nwanted: %s",
		          i, text, e.v[i].text, expect[i]);
	if (e.count != n)
		conf_errors_print(&e, stderr);
	cr_assert_eq(e.count, n, "%zu errors, expected %zu", e.count, n);
	conf_errors_free(&e);
}

static void load_bad1(const char *text, const char *expect)
{
	load_bad(text, &expect, 1);
}

Test(conf, every_type_good)
{
	struct cfg c;
	load_good("debug: yes\n"
	          "offset: -100\n"
	          "small: -32768\n"
	          "above: 2147483647\n"
	          "port: 65535\n"
	          "ttl: 255\n"
	          "timeout: 1d\n"
	          "short_timeout: 10s\n"
	          "bufsize: 1MiB\n"
	          "bufsize32: 4096\n"
	          "name: \"yes\"\n"
	          "state_dir: /run/roam\n"
	          "rel_path: x/y\n"
	          "mode: paranoid\n"
	          "addr: 2001:db8::5\n"
	          "addr4: 192.0.2.1\n"
	          "addr6: '::1'\n"
	          "pool: 10.1.2.3/24\n"
	          "net: 2001:db8::/32\n"
	          "listen: 192.0.2.7\n"
	          "spi_key: hex:DEADbeef\n"
	          "password: s3cret\n"
	          "hexsecret: \"0x0102\"\n"
	          "tunnel:\n"
	          "  hello_interval: 30s\n"
	          "  retries: 3\n"
	          "  enabled: on\n"
	          "peers:\n"
	          "  - name: a\n"
	          "    addr: '[2001:db8::2]:1701'\n"
	          "    key: 00112233445566778899aabbccddeeff\n"
	          "  - name: b\n"
	          "    addr: 198.51.100.1\n"
	          "    weight: 10\n"
	          "dns: [192.0.2.53, 2001:db8::53]\n"
	          "tags: []\n",
	          &c);
	char b[64];
	cr_assert(c.debug);
	cr_assert_eq(c.offset, -100);
	cr_assert_eq(c.small, -32768);
	cr_assert_eq(c.above, INT32_MAX);
	cr_assert_eq(c.port, 65535);
	cr_assert_eq(c.ttl, 255);
	cr_assert_eq(c.timeout, 86400000ull);
	cr_assert_eq(c.short_timeout, 10000);
	cr_assert_eq(c.bufsize, 1 << 20);
	cr_assert_eq(c.bufsize32, 4096);
	cr_assert_str_eq(c.name, "yes");
	cr_assert_str_eq(c.state_dir, "/run/roam");
	cr_assert_str_eq(c.rel_path, "x/y");
	cr_assert_eq(c.mode, 2);
	cr_assert_eq(c.addr.family, AF_INET6);
	cr_assert_str_eq(addr_str(&c.addr, b, sizeof(b)), "2001:db8::5");
	cr_assert_str_eq(addr_str(&c.addr4, b, sizeof(b)), "192.0.2.1");
	cr_assert_str_eq(addr_str(&c.addr6, b, sizeof(b)), "::1");
	cr_assert_str_eq(addr_str(&c.pool.addr, b, sizeof(b)), "10.1.2.3");
	cr_assert_eq(c.pool.len, 24);
	cr_assert_eq(c.net.len, 32);
	cr_assert_eq(c.listen.sa.sa_family, AF_INET);
	cr_assert_eq(ntohs(c.listen.sin.sin_port), 434); /* the field's default port */
	cr_assert_eq(c.spi_key.len, 4);
	cr_assert_eq(memcmp(c.spi_key.data, "\xde\xad\xbe\xef", 4), 0);
	cr_assert_eq(c.password.len, 6);
	cr_assert_str_eq((char *)c.password.data, "s3cret");
	cr_assert_eq(c.hexsecret.len, 2);
	cr_assert_eq(c.hexsecret.data[1], 2);
	cr_assert_eq(c.tunnel.hello_interval, 30000);
	cr_assert_eq(c.tunnel.retries, 3);
	cr_assert(c.tunnel.enabled);
	cr_assert_eq(c.npeers, 2);
	cr_assert_str_eq(c.peers[0].name, "a");
	cr_assert_eq(c.peers[0].addr.sa.sa_family, AF_INET6);
	cr_assert_eq(ntohs(c.peers[0].addr.sin6.sin6_port), 1701);
	cr_assert_eq(c.peers[0].key.len, 16);
	cr_assert_eq(c.peers[0].key.data[15], 0xff);
	cr_assert_eq(c.peers[0].weight, 1);
	cr_assert_eq(c.peers[1].weight, 10);
	cr_assert_eq(ntohs(c.peers[1].addr.sin.sin_port), 434);
	cr_assert_null(c.peers[1].key.data);
	cr_assert_eq(c.ndns, 2);
	cr_assert_eq(c.dns[0].family, AF_INET);
	cr_assert_eq(c.dns[1].family, AF_INET6);
	cr_assert_eq(c.ntags, 0);
	cr_assert_null(c.tags);
	conf_free(&cfg_schema, &c);
	cr_assert_null(c.name);
	cr_assert_null(c.peers);
	cr_assert_eq(c.npeers, 0);
	conf_free(&cfg_schema, &c); /* twice is fine */
}

Test(conf, defaults)
{
	struct cfg c;
	load_good("name: x\n", &c);
	char b[64];
	cr_assert_not(c.debug);
	cr_assert_eq(c.offset, -3);
	cr_assert_eq(c.small, 0);
	cr_assert_eq(c.port, 434);
	cr_assert_eq(c.ttl, 64);
	cr_assert_eq(c.timeout, 300000);
	cr_assert_eq(c.short_timeout, 250);
	cr_assert_eq(c.bufsize, 65536);
	cr_assert_str_eq(c.state_dir, "/var/lib/roam");
	cr_assert_null(c.rel_path);
	cr_assert_eq(c.mode, 1);
	cr_assert_str_eq(addr_str(&c.addr, b, sizeof(b)), "::1");
	cr_assert_eq(c.addr4.family, 0);
	cr_assert_eq(c.pool.len, 8);
	cr_assert_eq(c.listen.sa.sa_family, AF_INET6);
	cr_assert_eq(ntohs(c.listen.sin6.sin6_port), 7000);
	cr_assert_null(c.spi_key.data);
	cr_assert_null(c.password.data);
	/* An absent map gets its fields' defaults. */
	cr_assert_eq(c.tunnel.hello_interval, 60000);
	cr_assert_eq(c.tunnel.retries, 5);
	cr_assert_not(c.tunnel.enabled);
	cr_assert_eq(c.npeers, 0);
	cr_assert_null(c.peers);
	cr_assert_eq(c.ntags, 2);
	cr_assert_str_eq(c.tags[0], "alpha");
	cr_assert_str_eq(c.tags[1], "beta");
	conf_free(&cfg_schema, &c);
}

Test(conf, null_values_count_as_absent)
{
	struct cfg c;
	load_good("name: x\nport:\ntunnel:\npeers: ~\ntimeout: null\n", &c);
	cr_assert_eq(c.port, 434);
	cr_assert_eq(c.timeout, 300000);
	cr_assert_eq(c.tunnel.retries, 5);
	cr_assert_eq(c.npeers, 0);
	conf_free(&cfg_schema, &c);
	load_bad1("name:\n", "t.yaml:1:1: key 'name': missing value");
}

struct bad_case {
	const char *yaml;
	const char *error;
};

/* Each row: "name: x\n" + yaml, one error. */
static const struct bad_case bad_values[] = {
	{ "debug: maybe", "t.yaml:2:8: key 'debug': expected a boolean (true/false), got 'maybe'" },
	{ "debug: 'yes'", "t.yaml:2:8: key 'debug': expected a boolean (true/false), got a quoted string" },
	{ "debug: [1]", "t.yaml:2:8: key 'debug': expected a boolean (true/false), got a sequence" },
	{ "offset: 101", "t.yaml:2:9: key 'offset': out of range (-100-100)" },
	{ "offset: abc", "t.yaml:2:9: key 'offset': expected an integer, got 'abc'" },
	{ "offset: \"5\"", "t.yaml:2:9: key 'offset': expected an integer, got a quoted string" },
	{ "offset: 1.5", "t.yaml:2:9: key 'offset': expected an integer, got '1.5'" },
	{ "offset: 010", "t.yaml:2:9: key 'offset': ambiguous leading zero in '010' (write 0o10 for octal)" },
	{ "small: 32768", "t.yaml:2:8: key 'small': out of range (-32768-32767)" },
	{ "small: 99999999999999999999", "t.yaml:2:8: key 'small': out of range (-32768-32767)" },
	{ "above: 9", "t.yaml:2:8: key 'above': out of range (10-2147483647)" },
	{ "port: 0", "t.yaml:2:7: key 'port': out of range (1-65535)" },
	{ "port: 65536", "t.yaml:2:7: key 'port': out of range (1-65535)" },
	{ "port: -1", "t.yaml:2:7: key 'port': out of range (1-65535)" },
	{ "port: {a: 1}", "t.yaml:2:7: key 'port': expected an integer, got a map" },
	{ "ttl: 256", "t.yaml:2:6: key 'ttl': out of range (0-255)" },
	{ "timeout: 30", "t.yaml:2:10: key 'timeout': duration needs a unit (e.g. 30ms or 30s)" },
	{ "timeout: 30 sec", "t.yaml:2:10: key 'timeout': invalid duration '30 sec' (use e.g. 250ms, 30s, 5m, 1h, 1d)" },
	{ "timeout: 1h30m", "t.yaml:2:10: key 'timeout': invalid duration '1h30m' (use e.g. 250ms, 30s, 5m, 1h, 1d)" },
	{ "timeout: -5s", "t.yaml:2:10: key 'timeout': invalid duration '-5s' (use e.g. 250ms, 30s, 5m, 1h, 1d)" },
	{ "timeout: 99999999999999999999d", "t.yaml:2:10: key 'timeout': out of range (0ms-max)" },
	{ "short_timeout: 99ms", "t.yaml:2:16: key 'short_timeout': out of range (100ms-10s)" },
	{ "short_timeout: 11s", "t.yaml:2:16: key 'short_timeout': out of range (100ms-10s)" },
	{ "bufsize: 17MiB", "t.yaml:2:10: key 'bufsize': out of range (0-16MiB)" },
	{ "bufsize: 1 MB x", "t.yaml:2:10: key 'bufsize': invalid size '1 MB x' (use e.g. 4096, 64KiB, 1MiB)" },
	{ "bufsize: 1KB", "t.yaml:2:10: key 'bufsize': invalid size '1KB' (use e.g. 4096, 64KiB, 1MiB)" },
	{ "bufsize32: 4GiB", "t.yaml:2:12: key 'bufsize32': out of range (0-4294967295)" },
	{ "state_dir: relative/dir", "t.yaml:2:12: key 'state_dir': must be an absolute path, got 'relative/dir'" },
	{ "state_dir: ''", "t.yaml:2:12: key 'state_dir': must not be empty" },
	{ "mode: turbo", "t.yaml:2:7: key 'mode': invalid value 'turbo' (allowed: fast, safe, paranoid)" },
	{ "mode: [fast]", "t.yaml:2:7: key 'mode': expected a name, got a sequence" },
	{ "addr: 192.0.2.256", "t.yaml:2:7: key 'addr': invalid IP address '192.0.2.256'" },
	{ "addr: example.com", "t.yaml:2:7: key 'addr': invalid IP address 'example.com'" },
	{ "addr4: 2001:db8::1", "t.yaml:2:8: key 'addr4': expected an IPv4 address, got '2001:db8::1'" },
	{ "addr6: 192.0.2.1", "t.yaml:2:8: key 'addr6': expected an IPv6 address, got '192.0.2.1'" },
	{ "pool: 10.0.0.0/33", "t.yaml:2:7: key 'pool': invalid prefix '10.0.0.0/33' (use e.g. 10.0.0.0/8 or 2001:db8::/32)" },
	{ "net: 10.1.2.3/24", "t.yaml:2:6: key 'net': host bits set in '10.1.2.3/24' (did you mean 10.1.2.0/24?)" },
	{ "listen: 192.0.2.1:70000", "t.yaml:2:9: key 'listen': invalid socket address '192.0.2.1:70000' (use e.g. 192.0.2.1:434 or [2001:db8::1]:434)" },
	{ "listen: '[2001:db8::1'", "t.yaml:2:9: key 'listen': invalid socket address '[2001:db8::1' (use e.g. 192.0.2.1:434 or [2001:db8::1]:434)" },
	{ "spi_key: hex:0011223", "t.yaml:2:10: key 'spi_key': invalid hex bytes: odd number of hex digits" },
	{ "spi_key: 0011zz33", "t.yaml:2:10: key 'spi_key': invalid hex bytes: not a hex digit" },
	{ "spi_key: '001122'", "t.yaml:2:10: key 'spi_key': too short (3 bytes, min 4)" },
	{ "spi_key: 001122334455667788", "t.yaml:2:10: key 'spi_key': too long (9 bytes, max 8)" },
	{ "password: ''", "t.yaml:2:11: key 'password': must not be empty" },
	{ "hexsecret: nothex", "t.yaml:2:12: key 'hexsecret': invalid hex secret: not a hex digit" },
	{ "hexsecret: abc", "t.yaml:2:12: key 'hexsecret': invalid hex secret: odd number of hex digits" },
	{ "tunnel: 5", "t.yaml:2:9: key 'tunnel': expected a map, got a scalar" },
	{ "tunnel: {hello_interval: 2h}", "t.yaml:2:26: key 'tunnel.hello_interval': out of range (1s-1h)" },
	{ "tunnel: {enabled: true, retries: 0}", "t.yaml:2:25: key 'tunnel.retries': must be at least 1 when the tunnel is enabled" },
	{ "peers: {}", "t.yaml:2:8: key 'peers': expected a sequence, got a map" },
	{ "peers: [{name: a, addr: 192.0.2.1, key: 0011}]", "t.yaml:2:41: key 'peers[0].key': too short (2 bytes, min 16)" },
	{ "peers: [{name: a, addr: 192.0.2.1}, {name: b}]", "t.yaml:2:37: key 'peers[1].addr': required key missing" },
	{ "peers: [{name: a, addr: 192.0.2.1}, ~]", "t.yaml:2:37: key 'peers[1]': missing value" },
	{ "peers: [{name: a, addr: 192.0.2.1}, 7]", "t.yaml:2:37: key 'peers[1]': expected a map, got a scalar" },
	{ "peers: [{name: a, addr: 192.0.2.1, weight: 11}]", "t.yaml:2:44: key 'peers[0].weight': out of range (1-10)" },
	{ "peers: [{name: abcdefghijklmnopq, addr: 192.0.2.1}]", "t.yaml:2:16: key 'peers[0].name': too long (17 bytes, max 16)" },
	{ "peers: [{name: a, addr: 192.0.2.1, wieght: 2}]", "t.yaml:2:36: key 'peers[0].wieght': unknown key (did you mean 'weight'?)" },
	{ "peers: [{}, {}, {}, {}, {}]", "t.yaml:2:8: key 'peers': too many items (5, max 4)" },
	{ "dns: [192.0.2.1, nope]", "t.yaml:2:18: key 'dns[1]': invalid IP address 'nope'" },
	{ "dns: 192.0.2.1", "t.yaml:2:6: key 'dns': expected a sequence, got a scalar" },
	{ "tags: [a, [b]]", "t.yaml:2:11: key 'tags[1]': expected a string, got a sequence" },
	{ "colour: red", "t.yaml:2:1: key 'colour': unknown key" },
	{ "mdoe: fast", "t.yaml:2:1: key 'mdoe': unknown key (did you mean 'mode'?)" },
	{ "name: y", "t.yaml:2:1: key 'name': duplicate key (first at 1:1)" },
	{ "bad: [", "t.yaml:3:1: did not find expected node content (while parsing a flow node at 3:1)" },
};

Test(conf, bad_values)
{
	for (size_t i = 0; i < sizeof(bad_values) / sizeof(bad_values[0]); i++) {
		char text[512];
		snprintf(text, sizeof(text), "name: x\n%s\n", bad_values[i].yaml);
		load_bad1(text, bad_values[i].error);
	}
}

Test(conf, the_peers_required_key_is_positioned_at_its_map)
{
	/* A peer without its required keys, in block style: the map starts at the first key. */
	const char *const expect[] = {
		"t.yaml:4:5: key 'peers[0].addr': required key missing",
		"t.yaml:6:5: key 'peers[1].name': required key missing",
	};
	load_bad("name: x\n"
	         "peers:\n"
	         "  -\n"
	         "    name: a\n"
	         "  -\n"
	         "    addr: 192.0.2.1\n",
	         expect, 2);
}

Test(conf, missing_required_at_top)
{
	load_bad1("debug: true\n", "t.yaml:1:1: key 'name': required key missing");
	load_bad1("", "t.yaml:1:1: key 'name': required key missing");
	load_bad1("# nothing\n", "t.yaml:1:1: key 'name': required key missing");
	load_bad1("- a\n", "t.yaml:1:1: expected a map at the top level, got a sequence");
}

Test(conf, all_errors_together)
{
	/* Sorted by position, whatever order the schema checks them in. */
	const char *const expect[] = {
		"t.yaml:1:1: key 'name': required key missing",
		"t.yaml:1:8: key 'debug': expected a boolean (true/false), got 'maybe'",
		"t.yaml:2:1: key 'colour': unknown key",
		"t.yaml:3:7: key 'port': out of range (1-65535)",
		"t.yaml:5:12: key 'tunnel.retries': out of range (0-100)",
		"t.yaml:6:19: key 'tunnel.hello_interval': out of range (1s-1h)",
		"t.yaml:7:3: key 'tunnel.retries': duplicate key (first at 5:3)",
		"t.yaml:10:11: key 'peers[0].addr': invalid socket address 'x' (use e.g. 192.0.2.1:434 or [2001:db8::1]:434)",
		"t.yaml:12:5: key 'peers[1].name': required key missing",
		"t.yaml:12:12: key 'peers[1].addr': invalid socket address 'x' (use e.g. 192.0.2.1:434 or [2001:db8::1]:434)",
	};
	load_bad("debug: maybe\n"
	         "colour: red\n"
	         "port: 0\n"
	         "tunnel:\n"
	         "  retries: 101\n"
	         "  hello_interval: 0ms\n"
	         "  retries: 1\n"
	         "peers:\n"
	         "  - name: a\n"
	         "    addr: x\n"
	         "    weight: 2\n"
	         "  - {addr: x}\n",
	         expect, sizeof(expect) / sizeof(expect[0]));
}

Test(conf, out_untouched_and_reload)
{
	struct conf_errors e = { 0 };
	struct cfg cur;
	memset(&cur, 0, sizeof(cur));
	cr_assert_eq(conf_load_string("a.yaml", "name: one\nport: 1\n", &cfg_schema, &cur, &e), 0);
	struct cfg before = cur;
	/* A bad reload leaves the running config alone. */
	cr_assert_eq(conf_load_string("a.yaml", "name: two\nport: 0\n", &cfg_schema, &cur, &e),
	             -EINVAL);
	cr_assert_eq(memcmp(&before, &cur, sizeof(cur)), 0);
	cr_assert_str_eq(cur.name, "one");
	cr_assert_eq(e.count, 1);
	conf_errors_free(&e);
	cr_assert_eq(e.count, 0);
	/* A good one replaces it: the documented swap. */
	struct cfg next;
	cr_assert_eq(conf_load_string("a.yaml", "name: two\nport: 2\n", &cfg_schema, &next, &e), 0);
	conf_free(&cfg_schema, &cur);
	cur = next;
	cr_assert_str_eq(cur.name, "two");
	conf_free(&cfg_schema, &cur);
}

Test(conf, errors_print_and_null_errs)
{
	struct conf_errors e = { 0 };
	struct cfg c;
	cr_assert_eq(conf_load_string(NULL, "port: 0\n", &cfg_schema, &c, &e), -EINVAL);
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	conf_errors_print(&e, fp);
	fclose(fp);
	cr_assert_str_eq(buf, "<string>:1:1: key 'name': required key missing\n"
	                      "<string>:1:7: key 'port': out of range (1-65535)\n");
	free(buf);
	cr_assert_eq(e.v[1].line, 1);
	cr_assert_eq(e.v[1].col, 7);
	cr_assert_str_eq(e.v[1].path, "port");
	cr_assert_str_eq(e.v[1].msg, "out of range (1-65535)");
	conf_errors_free(&e);
	/* errs may be NULL: the result still says what happened. */
	cr_assert_eq(conf_load_string(NULL, "port: 0\n", &cfg_schema, &c, NULL), -EINVAL);
}

Test(conf, too_many_errors_are_counted)
{
	char *text = malloc(200 * 16);
	size_t n = (size_t)sprintf(text, "name: x\n");
	for (int i = 0; i < 150; i++)
		n += (size_t)sprintf(text + n, "k%d: 1\n", i);
	struct conf_errors e = { 0 };
	struct cfg c;
	cr_assert_eq(conf_load_string("t.yaml", text, &cfg_schema, &c, &e), -EINVAL);
	cr_assert_eq(e.count, CONF_MAX_ERRORS);
	cr_assert_eq(e.dropped, 50);
	conf_errors_free(&e);
	free(text);
}

/* ---- files and secrets ---- */

struct tmpdir {
	char path[64];
};

static void write_file(const char *dir, const char *name, const char *text, mode_t mode)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	cr_assert_eq(fchmod(fd, mode), 0);
	close(fd);
}

static void rm_dir(const char *dir)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

Test(conf, secret_files)
{
	char dir[] = "/tmp/roam-test-conf-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	write_file(dir, "pw", "hunter2\n", 0600);
	write_file(dir, "pw-open", "hunter2\n", 0640);
	write_file(dir, "key", "00112233445566778899aabbccddeeff\r\n", 0400);
	char cfgtext[512];
	snprintf(cfgtext, sizeof(cfgtext),
	         "name: x\npassword: file:pw\npeers:\n  - name: p\n    addr: 192.0.2.1\n"
	         "    key: file:%s/key\n", dir);
	write_file(dir, "good.yaml", cfgtext, 0644);

	char path[256];
	snprintf(path, sizeof(path), "%s/good.yaml", dir);
	struct conf_errors e = { 0 };
	struct cfg c;
	memset(&c, 0, sizeof(c));
	int rc = conf_load(path, &cfg_schema, &c, &e);
	conf_errors_print(&e, stderr);
	cr_assert_eq(rc, 0);
	cr_assert_eq(c.password.len, 7); /* newline stripped, relative to the config's directory */
	cr_assert_str_eq((char *)c.password.data, "hunter2");
	cr_assert_eq(c.peers[0].key.len, 16);
	cr_assert_eq(c.peers[0].key.data[1], 0x11);
	conf_free(&cfg_schema, &c);

	/* Group-readable, missing, and a directory: each refused, naming the file. */
	snprintf(cfgtext, sizeof(cfgtext),
	         "name: x\npassword: file:pw-open\nhexsecret: file:nope\n"
	         "peers:\n  - name: p\n    addr: 192.0.2.1\n    key: \"file:%s\"\n", dir);
	write_file(dir, "bad.yaml", cfgtext, 0644);
	snprintf(path, sizeof(path), "%s/bad.yaml", dir);
	memset(&c, 0x5A, sizeof(c));
	struct cfg saved = c;
	cr_assert_eq(conf_load(path, &cfg_schema, &c, &e), -EINVAL);
	cr_assert_eq(memcmp(&c, &saved, sizeof(c)), 0);
	cr_assert_eq(e.count, 3);
	char expect[512];
	snprintf(expect, sizeof(expect),
	         "%s:2:11: key 'password': secret file '%s/pw-open' is readable or writable by "
	         "group or others (mode 0640; chmod 600 it)", path, dir);
	cr_assert_str_eq(e.v[0].text, expect);
	snprintf(expect, sizeof(expect),
	         "%s:3:12: key 'hexsecret': cannot read secret file '%s/nope': No such file or "
	         "directory", path, dir);
	cr_assert_str_eq(e.v[1].text, expect);
	snprintf(expect, sizeof(expect),
	         "%s:7:10: key 'peers[0].key': secret file '%s' is not a regular file", path, dir);
	cr_assert_str_eq(e.v[2].text, expect);
	conf_errors_free(&e);

	/* The config file itself missing. */
	snprintf(path, sizeof(path), "%s/none.yaml", dir);
	cr_assert_eq(conf_load(path, &cfg_schema, &c, &e), -ENOENT);
	cr_assert_eq(e.count, 1);
	snprintf(expect, sizeof(expect), "%s: No such file or directory", path);
	cr_assert_str_eq(e.v[0].text, expect);
	cr_assert_eq(e.v[0].line, 0);
	conf_errors_free(&e);
	rm_dir(dir);
}

/* A secret file may hold what its field allows (a credentials file of many users), at least
 * 64 KiB, and no more. */
struct bigcfg {
	struct conf_bytes big;
	struct conf_bytes small;
};
static const struct conf_field big_fields[] = {
	CONF_SECRET("big", struct bigcfg, big, .umax = 1u << 20),
	CONF_SECRET("small", struct bigcfg, small),
};
static const struct conf_schema big_schema = CONF_SCHEMA(struct bigcfg, big_fields);

Test(conf, secret_file_size_follows_the_field)
{
	char dir[] = "/tmp/roam-test-conf-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	size_t n = 200000;
	char *text = malloc(n + 1);
	cr_assert_not_null(text);
	memset(text, 'a', n);
	text[n] = 0;
	write_file(dir, "big", text, 0600);
	write_file(dir, "ok.yaml", "big: file:big\nsmall: x\n", 0644);
	write_file(dir, "bad.yaml", "big: x\nsmall: file:big\n", 0644);
	char path[256];
	snprintf(path, sizeof(path), "%s/ok.yaml", dir);
	struct conf_errors e = { 0 };
	struct bigcfg c;
	memset(&c, 0, sizeof(c));
	cr_assert_eq(conf_load(path, &big_schema, &c, &e), 0);
	cr_assert_eq(c.big.len, n);
	cr_assert_eq(c.big.data[n - 1], 'a');
	conf_free(&big_schema, &c);

	snprintf(path, sizeof(path), "%s/bad.yaml", dir);
	memset(&c, 0, sizeof(c));
	cr_assert_eq(conf_load(path, &big_schema, &c, &e), -EINVAL);
	cr_assert_eq(e.count, 1);
	cr_assert(strstr(e.v[0].text, "is too large (max 65536 bytes)") != NULL, "%s", e.v[0].text);
	conf_errors_free(&e);
	free(text);
	rm_dir(dir);
}

/* ---- schema bugs ---- */

struct small {
	uint32_t d;
	int e;
	char **l;
	size_t nl;
};
static const char *const ab[] = { "a", "b", NULL };
static const struct conf_field bad_default_fields[] = {
	CONF_DURATION("d", struct small, d, .dflt = "5"),
	CONF_ENUM("e", struct small, e, ab, .dflt = "c"),
	CONF_LIST_OF("l", struct small, l, nl, CONF_ELEM(CONF_T_STRING, char *), .dflt = "[a, [b]"),
};
static const struct conf_schema bad_default_schema = CONF_SCHEMA(struct small,
                                                                 bad_default_fields);

Test(conf, bad_defaults_are_reported)
{
	struct conf_errors e = { 0 };
	struct small s;
	cr_assert_eq(conf_load_string("t.yaml", "", &bad_default_schema, &s, &e), -EINVAL);
	cr_assert_eq(e.count, 3);
	cr_assert_str_eq(e.v[0].text, "t.yaml: key 'd': schema bug: invalid default '5': duration "
	                              "needs a unit (e.g. 5ms or 5s)");
	cr_assert_str_eq(e.v[1].text, "t.yaml: key 'e': schema bug: invalid default 'c': invalid "
	                              "value 'c' (allowed: a, b)");
	cr_assert(strstr(e.v[2].text, "t.yaml: key 'l': schema bug: invalid default '[a, [b]'") ==
	          e.v[2].text, "%s", e.v[2].text);
	conf_errors_free(&e);
}

struct wrong {
	int b; /* not a bool */
};
static const struct conf_field wrong_fields[] = {
	CONF_BOOL("b", struct wrong, b),
};
static const struct conf_schema wrong_schema = CONF_SCHEMA(struct wrong, wrong_fields);

Test(conf, member_size_mismatch_is_a_schema_bug)
{
	struct conf_errors e = { 0 };
	struct wrong w;
	cr_assert_eq(conf_load_string("t.yaml", "b: true\n", &wrong_schema, &w, &e), -EINVAL);
	cr_assert_eq(e.count, 1);
	cr_assert(strstr(e.v[0].text, "schema bug in struct wrong") != NULL, "%s", e.v[0].text);
	conf_errors_free(&e);
}

Test(conf, load_node_from_a_subtree)
{
	struct ydoc *d = NULL;
	char err[128];
	const char *text = "other: 1\nsvc:\n  retries: 7\n";
	cr_assert_eq(ynode_load_string("c.yaml", text, strlen(text), &d, err, sizeof(err)), 0);
	struct tunnel t;
	struct conf_errors e = { 0 };
	cr_assert_eq(conf_load_node(ynode_map_get(ydoc_root(d), "svc"), "c.yaml", NULL,
	                            &tunnel_schema, &t, &e), 0);
	cr_assert_eq(t.retries, 7);
	cr_assert_eq(t.hello_interval, 60000);
	ydoc_free(d);
}

/* ---- value parsers ---- */

Test(conf, parsers)
{
	uint64_t v;
	cr_assert_eq(conf_parse_duration("250ms", &v), 0);
	cr_assert_eq(v, 250);
	cr_assert_eq(conf_parse_duration("5m", &v), 0);
	cr_assert_eq(v, 300000);
	cr_assert_eq(conf_parse_duration("1h", &v), 0);
	cr_assert_eq(v, 3600000);
	cr_assert_eq(conf_parse_duration("30", &v), -EINVAL);
	cr_assert_eq(conf_parse_duration("", &v), -EINVAL);
	cr_assert_eq(conf_parse_duration("s", &v), -EINVAL);
	cr_assert_eq(conf_parse_duration("1.5s", &v), -EINVAL);
	cr_assert_eq(conf_parse_duration("213503982334601d", &v), -ERANGE);
	cr_assert_eq(conf_parse_size("64KiB", &v), 0);
	cr_assert_eq(v, 65536);
	cr_assert_eq(conf_parse_size("10MB", &v), 0);
	cr_assert_eq(v, 10000000);
	cr_assert_eq(conf_parse_size("123", &v), 0);
	cr_assert_eq(v, 123);
	cr_assert_eq(conf_parse_size("16777216TiB", &v), -ERANGE);
	cr_assert_eq(conf_parse_size("1 GiB", &v), 0);
	cr_assert_eq(v, 1ull << 30);
	char b[32];
	cr_assert_str_eq(conf_fmt_duration(0, b, sizeof(b)), "0ms");
	cr_assert_str_eq(conf_fmt_duration(1500, b, sizeof(b)), "1500ms");
	cr_assert_str_eq(conf_fmt_duration(30000, b, sizeof(b)), "30s");
	cr_assert_str_eq(conf_fmt_duration(7200000, b, sizeof(b)), "2h");
	cr_assert_str_eq(conf_fmt_duration(86400000, b, sizeof(b)), "1d");
}

Test(conf, anchors_and_merge_keys_in_lists)
{
	struct cfg c;
	load_good("name: x\n"
	          "peers:\n"
	          "  - &p\n"
	          "    name: lac1\n"
	          "    addr: 192.0.2.10\n"
	          "    weight: 2\n"
	          "  - <<: *p\n"
	          "    name: lac2\n"
	          "dns: &d [192.0.2.53]\n",
	          &c);
	cr_assert_eq(c.npeers, 2);
	cr_assert_str_eq(c.peers[1].name, "lac2");
	cr_assert_eq(c.peers[1].weight, 2);
	cr_assert_eq(c.peers[1].addr.sa.sa_family, AF_INET);
	cr_assert_eq(c.ndns, 1);
	conf_free(&cfg_schema, &c);
	/* An error inside merged content is reported where it is written (the anchor), once for
	 * each place that uses it. */
	const char *const expect[] = {
		"t.yaml:3:47: key 'peers[0].weight': out of range (1-10)",
		"t.yaml:3:47: key 'peers[1].weight': out of range (1-10)",
	};
	load_bad("name: x\n"
	         "peers:\n"
	         "  - &p {name: lac1, addr: 192.0.2.10, weight: 20}\n"
	         "  - {<<: *p, name: lac2}\n",
	         expect, 2);
}

/* The daemons' loader: the first error for the control socket's reply, *out untouched. */
Test(conf, load_report_gives_the_first_error_and_keeps_out)
{
	struct cfg c;
	memset(&c, 0x5a, sizeof(c));
	char err[256] = "";
	int r = conf_load_report("d.yaml", "name: x\nport: 0\nttl: 999\n", &cfg_schema, &c,
				 CONF_REPORT_LOG, err, sizeof(err));
	cr_assert_eq(r, -EINVAL);
	cr_assert(strncmp(err, "d.yaml:2:7: key 'port'", 22) == 0, "err: %s", err);
	cr_assert_eq(((unsigned char *)&c)[0], 0x5a, "out must be untouched on failure");
	r = conf_load_report("/nonexistent/d.yaml", NULL, &cfg_schema, &c, CONF_REPORT_LOG, err,
			     sizeof(err));
	cr_assert_eq(r, -ENOENT);
	cr_assert(strstr(err, "/nonexistent/d.yaml") != NULL, "err: %s", err);
	r = conf_load_report("d.yaml", "name: x\n", &cfg_schema, &c, CONF_REPORT_STDERR, err,
			     sizeof(err));
	cr_assert_eq(r, 0);
	cr_assert_str_eq(c.name, "x");
	conf_free(&cfg_schema, &c);
}
