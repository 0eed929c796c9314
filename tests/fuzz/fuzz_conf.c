/* Config loader (conf_load_string, roam/conf.h) with a small schema covering every field type:
 * nested map with a cross-field check, list of maps, list of scalars, enum, addresses,
 * prefixes, socket addresses, durations, sizes, hex and secrets.  On success the struct is
 * checked against the schema's promises (ranges, lengths, counts) and freed twice (conf_free
 * is safe twice); on failure the output struct must be untouched and every error must have
 * its text.  Inputs naming a secret file ("file:") are skipped: the loader would read it. */
#include <errno.h>
#include <stdbool.h>

#include "fuzz.h"
#include "roam/conf.h"

struct peer {
	char *name;
	struct roam_sockaddr addr;
	struct conf_bytes key;
	uint32_t weight;
};

struct tunnel {
	uint64_t hello;
	uint32_t retries;
	bool enabled;
};

struct cfg {
	bool debug;
	int16_t offset;
	uint16_t port;
	uint32_t timeout;
	uint64_t bufsize;
	char *name;
	char *dir;
	int mode;
	struct roam_ipaddr addr;
	struct roam_ipaddr addr4;
	struct roam_prefix pool;
	struct roam_sockaddr listen;
	struct conf_bytes spi;
	struct conf_bytes password;
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
	CONF_DURATION("hello", struct tunnel, hello, .dflt = "60s", .umin = 1000, .umax = 3600000),
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
	CONF_UINT("port", struct cfg, port, .dflt = "434", .umin = 1),
	CONF_DURATION("timeout", struct cfg, timeout, .dflt = "250ms", .umin = 100, .umax = 10000),
	CONF_SIZE("bufsize", struct cfg, bufsize, .dflt = "64KiB", .umax = 16 << 20),
	CONF_STRING("name", struct cfg, name, .flags = CONF_F_REQUIRED, .umax = 8),
	CONF_PATH("dir", struct cfg, dir, .flags = CONF_F_ABSOLUTE, .dflt = "/var/lib/roam"),
	CONF_ENUM("mode", struct cfg, mode, modes, .dflt = "safe"),
	CONF_ADDR("addr", struct cfg, addr, .dflt = "::1"),
	CONF_ADDR("addr4", struct cfg, addr4, .flags = CONF_F_V4),
	CONF_PREFIX("pool", struct cfg, pool, .dflt = "10.0.0.0/8", .flags = CONF_F_NO_HOST_BITS),
	CONF_SOCKADDR("listen", struct cfg, listen, .dflt = "[2001:db8::1]:7000", .port = 434),
	CONF_HEX("spi", struct cfg, spi, .umin = 4, .umax = 8),
	CONF_SECRET("password", struct cfg, password),
	CONF_MAP("tunnel", struct cfg, tunnel, &tunnel_schema),
	CONF_LIST("peers", struct cfg, peers, npeers, &peer_schema, .umax = 4),
	CONF_LIST_OF("dns", struct cfg, dns, ndns, CONF_ELEM(CONF_T_ADDR, struct roam_ipaddr),
	             .umax = 3),
	CONF_LIST_OF("tags", struct cfg, tags, ntags, CONF_ELEM(CONF_T_STRING, char *),
	             .dflt = "[alpha, beta]"),
};
static const struct conf_schema cfg_schema = CONF_SCHEMA(struct cfg, cfg_fields);

static void check_loaded(const struct cfg *c)
{
	FUZZ_CHECK(c->offset >= -100 && c->offset <= 100, "offset %d", c->offset);
	FUZZ_CHECK(c->port >= 1, "port 0");
	FUZZ_CHECK(c->timeout >= 100 && c->timeout <= 10000, "timeout %u", c->timeout);
	FUZZ_CHECK(c->bufsize <= 16 << 20, "bufsize");
	FUZZ_CHECK(c->name && strlen(c->name) <= 8, "name");
	FUZZ_CHECK(c->dir && c->dir[0] == '/', "dir");
	FUZZ_CHECK(c->mode >= 0 && c->mode <= 2, "mode %d", c->mode);
	FUZZ_CHECK(c->addr4.family == 0 || c->addr4.family == AF_INET, "addr4 family");
	FUZZ_CHECK(!c->spi.data || (c->spi.len >= 4 && c->spi.len <= 8), "spi length");
	FUZZ_CHECK(c->tunnel.hello >= 1000 && c->tunnel.hello <= 3600000, "hello");
	FUZZ_CHECK(!c->tunnel.enabled || c->tunnel.retries >= 1, "check() not applied");
	FUZZ_CHECK(c->npeers <= 4 && (c->npeers == 0 || c->peers), "peers");
	for (size_t i = 0; i < c->npeers; i++) {
		FUZZ_CHECK(c->peers[i].name && strlen(c->peers[i].name) <= 16, "peer name");
		FUZZ_CHECK(c->peers[i].weight >= 1 && c->peers[i].weight <= 10, "peer weight");
		FUZZ_CHECK(!c->peers[i].key.data || c->peers[i].key.len == 16, "peer key");
		FUZZ_CHECK(c->peers[i].addr.len > 0, "peer addr");
	}
	FUZZ_CHECK(c->ndns <= 3, "dns count");
	for (size_t i = 0; i < c->ntags; i++)
		FUZZ_CHECK(c->tags[i] != NULL, "tag %zu", i);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cfg c, zero;
	struct conf_errors e;

	fuzz_quiet();
	if (size > 65536 || memmem(data, size, "ile:", 4) || memchr(data, '\\', size))
		return 0;
	char *text = malloc(size + 1);
	if (!text)
		abort();
	memcpy(text, data, size);
	text[size] = 0;
	memset(&c, 0, sizeof(c));
	conf_errors_init(&e);
	int rc = conf_load_string("fuzz.yaml", text, &cfg_schema, &c, &e);
	if (rc == 0) {
		FUZZ_CHECK(e.count == 0, "success with %zu errors", e.count);
		check_loaded(&c);
		conf_free(&cfg_schema, &c);
		conf_free(&cfg_schema, &c);
	} else {
		FUZZ_CHECK(rc == -EINVAL || rc == -ENOMEM, "load: %d", rc);
		FUZZ_CHECK(memcmp(&c, &zero, sizeof(c)) == 0, "output touched on failure");
		FUZZ_CHECK(rc != -EINVAL || e.count > 0 || e.dropped > 0, "-EINVAL without errors");
		for (size_t i = 0; i < e.count; i++)
			FUZZ_CHECK(e.v[i].text && e.v[i].msg, "error %zu without text", i);
	}
	conf_errors_free(&e);
	free(text);
	return 0;
}
