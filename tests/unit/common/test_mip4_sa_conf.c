/* Tests of roam/mip4_sa_conf.h: the SA schema fragment (keys, ranges, default, secret files,
 * errors at file:line:col) and the uniqueness checks with their messages. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "roam/mip4_sa_conf.h"

struct peer_sa {
	char *name;
	struct roam_ipaddr address;
	uint32_t spi;
	struct conf_bytes key;
	unsigned algorithm;
};

struct mobile_sa {
	struct roam_ipaddr home;
	uint32_t spi;
	struct conf_bytes key;
	int algorithm;
};

struct cfg {
	struct peer_sa *peers;
	size_t npeers;
	struct mobile_sa *mobiles;
	size_t nmobiles;
};

static const struct conf_field peer_fields[] = {
	MIP4_SA_PEER_CONF_FIELDS(struct peer_sa, "the peer", 16),
};
static const struct conf_schema peer_schema = CONF_SCHEMA(struct peer_sa, peer_fields);

static const struct conf_field mobile_fields[] = {
	CONF_ADDR("home", struct mobile_sa, home, .flags = CONF_F_REQUIRED | CONF_F_V4),
	MIP4_SA_CONF_FIELDS(struct mobile_sa, 1),
};
static const struct conf_schema mobile_schema = CONF_SCHEMA(struct mobile_sa, mobile_fields);

static int check(const void *obj, const char **key, char *msg, size_t msglen)
{
	const struct cfg *c = obj;
	if (mip4_sa_conf_unique_spi(c->mobiles, c->nmobiles, sizeof(*c->mobiles),
				    offsetof(struct mobile_sa, spi), "mobiles", "mobiles", key, msg,
				    msglen) < 0 ||
	    mip4_sa_conf_unique_spi(c->peers, c->npeers, sizeof(*c->peers),
				    offsetof(struct peer_sa, spi), "peers", "", key, msg, msglen) < 0)
		return -1;
	return mip4_sa_conf_unique_addr(c->peers, c->npeers, sizeof(*c->peers),
					offsetof(struct peer_sa, address), "peers", "address", key,
					msg, msglen);
}

static const struct conf_field fields[] = {
	CONF_LIST("peers", struct cfg, peers, npeers, &peer_schema, .dflt = "[]"),
	CONF_LIST("mobiles", struct cfg, mobiles, nmobiles, &mobile_schema, .dflt = "[]"),
};
static const struct conf_schema schema = CONF_SCHEMA(struct cfg, fields, .check = check);

#define KEY16 "00112233445566778899aabbccddeeff"

/* Loads text, which must fail; returns every error line of it, joined (static buffer). */
static const char *errors_of(const char *text)
{
	static char all[4096];
	struct cfg c = { 0 };
	struct conf_errors e = { 0 };
	cr_assert_eq(conf_load_string("t.yaml", text, &schema, &c, &e), -EINVAL, "%s", text);
	cr_assert_null(c.peers, "untouched on error");
	size_t n = 0;
	all[0] = 0;
	for (size_t k = 0; k < e.count && n < sizeof(all); k++)
		n += (size_t)snprintf(all + n, sizeof(all) - n, "%s\n", e.v[k].text);
	conf_errors_free(&e);
	return all;
}

Test(mip4_sa_conf, loads_with_default_algorithm)
{
	struct cfg c = { 0 };
	struct conf_errors e = { 0 };
	cr_assert_eq(conf_load_string("t.yaml",
				      "peers:\n  - name: ha1\n    address: 192.0.2.1\n    spi: 256\n"
				      "    key: " KEY16 "\n    algorithm: keyed-md5\n"
				      "mobiles:\n  - home: 10.0.0.1\n    spi: 4294967295\n    key: 0a\n",
				      &schema, &c, &e), 0);
	cr_assert_eq(c.npeers, 1);
	cr_assert_str_eq(c.peers[0].name, "ha1");
	cr_assert_eq(c.peers[0].spi, 256);
	cr_assert_eq(c.peers[0].key.len, 16);
	cr_assert_eq(c.peers[0].key.data[15], 0xff);
	cr_assert_eq(c.peers[0].algorithm, 1);
	cr_assert_eq(mip4_sa_alg((int)c.peers[0].algorithm), AUTH_ALG_KEYED_MD5);
	cr_assert_eq(c.nmobiles, 1);
	cr_assert_eq(c.mobiles[0].spi, UINT32_MAX);
	cr_assert_eq(c.mobiles[0].key.len, 1);
	cr_assert_eq(c.mobiles[0].algorithm, 0, "hmac-md5 by default");
	conf_free(&schema, &c);
	conf_errors_free(&e);
}

Test(mip4_sa_conf, bad_values_at_their_line)
{
	const char *all = errors_of("peers:\n  - address: 2001:db8::1\n    spi: 255\n    key: 0011\n"
				    "    algorithm: sha1\n"
				    "mobiles:\n  - home: 10.0.0.1\n    key: zz\n");
	cr_assert(strstr(all, "t.yaml:2:14: key 'peers[0].address'"), "%s", all);
	cr_assert(strstr(all, "t.yaml:3:10: key 'peers[0].spi': out of range"), "%s", all);
	cr_assert(strstr(all, "t.yaml:4:10: key 'peers[0].key'"), "16 bytes at least: %s", all);
	cr_assert(strstr(all, "t.yaml:5:16: key 'peers[0].algorithm'"), "%s", all);
	cr_assert(strstr(all, "key 'mobiles[0].spi': required key missing"), "%s", all);
	cr_assert(strstr(all, "t.yaml:8:10: key 'mobiles[0].key'"), "%s", all);
}

#define PEER(a, spi) "  - {address: " a ", spi: " spi ", key: " KEY16 "}\n"
#define MOBILE(h, spi) "  - {home: " h ", spi: " spi ", key: 01}\n"

static const struct {
	const char *yaml, *error;
} repeats[] = {
	{ "mobiles:\n" MOBILE("10.0.0.1", "300") MOBILE("10.0.0.2", "301") MOBILE("10.0.0.3", "300"),
	  "t.yaml:1:1: key 'mobiles': spi 300 used by mobiles[0] and mobiles[2]\n" },
	{ "peers:\n" PEER("192.0.2.1", "300") PEER("192.0.2.2", "300"),
	  "t.yaml:1:1: key 'peers': spi 300 used by peers[0] and [1]\n" },
	{ "peers:\n" PEER("192.0.2.1", "300") PEER("192.0.2.2", "301") PEER("192.0.2.1", "302"),
	  "t.yaml:1:1: key 'peers': peers[0] and [2] have the same address\n" },
};

Test(mip4_sa_conf, repeated_spi_and_address)
{
	for (size_t k = 0; k < sizeof(repeats) / sizeof(repeats[0]); k++)
		cr_assert_str_eq(errors_of(repeats[k].yaml), repeats[k].error);
	struct cfg c = { 0 };
	cr_assert_eq(conf_load_string("t.yaml",
				      "peers:\n" PEER("192.0.2.1", "300") PEER("192.0.2.2", "301")
				      "mobiles:\n" MOBILE("10.0.0.1", "300") MOBILE("10.0.0.2", "301"),
				      &schema, &c, NULL), 0, "distinct: accepted");
	cr_assert_eq(c.npeers + c.nmobiles, 4);
	conf_free(&schema, &c);
}
