/* hlrd.yaml schema (hlrd.yaml(5)). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hlrd.h"
#include "roam/hlr.h"
#include "roam/snapshot_store.h"

static const char *const hlrd_algorithms[] = { "hmac-sha256", NULL };
static const char *const hlrd_log_levels[] = { "error", "warning", "info", "debug", NULL };

static const struct conf_field hlrd_host_fields[] = {
	CONF_STRING("name", struct hlrd_conf_host, name, .umax = 63,
		    .help = "label for logs and dumps"),
	CONF_UINT("key_id", struct hlrd_conf_host, key_id, .flags = CONF_F_REQUIRED, .umin = 1,
		  .umax = UINT32_MAX, .help = "Key ID carried in this host's messages"),
	CONF_SECRET("key", struct hlrd_conf_host, key, .flags = CONF_F_REQUIRED | CONF_F_HEX,
		    .umin = 16, .umax = AUTH_KEY_MAX,
		    .help = "hex key (16-64 bytes), inline or file:/path"),
	CONF_ENUM("algorithm", struct hlrd_conf_host, algorithm, hlrd_algorithms,
		  .dflt = "hmac-sha256", .help = "authenticator algorithm"),
	CONF_LIST_OF("addresses", struct hlrd_conf_host, addresses, naddresses,
		     CONF_ELEM(CONF_T_PREFIX, struct roam_prefix), .dflt = "[]", .umax = 1024,
		     .help = "permanent addresses or prefixes this key may update"),
};

static const struct conf_schema hlrd_host_schema = CONF_SCHEMA(struct hlrd_conf_host,
							       hlrd_host_fields);

static int hlrd_conf_check(const void *obj, const char **key, char *msg, size_t msglen)
{
	const struct hlrd_conf *c = obj;
	for (size_t i = 0; i < c->nhosts; i++)
		for (size_t j = 0; j < i; j++)
			if (c->hosts[i].key_id == c->hosts[j].key_id) {
				*key = "hosts";
				snprintf(msg, msglen, "key_id %u used by hosts[%zu] and hosts[%zu]",
					 c->hosts[i].key_id, j, i);
				return -1;
			}
	if (c->nlisten > HLRD_MAX_LISTEN) {
		*key = "listen";
		snprintf(msg, msglen, "at most %d addresses", HLRD_MAX_LISTEN);
		return -1;
	}
	return 0;
}

/* Lifetimes are whole seconds on the wire: ranges in ms, 1 s .. 1 day (seconds fit in u32). */
static const struct conf_field hlrd_fields[] = {
	CONF_LIST_OF("listen", struct hlrd_conf, listen, nlisten,
		     CONF_ELEM(CONF_T_ADDR, struct roam_ipaddr), .dflt = "[0.0.0.0, \"::\"]",
		     .umin = 1, .umax = HLRD_MAX_LISTEN, .help = "addresses to listen on"),
	CONF_UINT("port", struct hlrd_conf, port, .dflt = "7460", .umin = 1, .umax = 65535,
		  .help = "UDP port"),
	CONF_PATH("control_socket", struct hlrd_conf, control_socket, .flags = CONF_F_ABSOLUTE,
		  .dflt = "/run/roam/hlrd.sock", .help = "control socket path"),
	SNAP_CONF_FIELDS(struct hlrd_conf, "/var/lib/roam/hlrd.snap", "60s"),
	CONF_DURATION("default_lifetime", struct hlrd_conf, default_lifetime, .dflt = "300s",
		      .umin = 1000, .umax = 86400000, .help = "lifetime when UPDATE has none"),
	CONF_DURATION("max_lifetime", struct hlrd_conf, max_lifetime, .dflt = "3600s",
		      .umin = 1000, .umax = 86400000, .help = "longer requests are granted this"),
	CONF_DURATION("negative_ttl", struct hlrd_conf, negative_ttl, .dflt = "30s",
		      .umin = 0, .umax = 86400000, .help = "suggested caching of 'no mapping'"),
	CONF_DURATION("replay_tolerance", struct hlrd_conf, replay_tolerance, .dflt = "7s",
		      .umin = 100, .umax = 3600000, .help = "accepted clock difference"),
	CONF_UINT("max_entries", struct hlrd_conf, max_entries, .dflt = "1000000", .umin = 1,
		  .umax = 100000000, .help = "mapping table capacity"),
	CONF_STRING("user", struct hlrd_conf, user, .dflt = "", .umax = 64,
		    .help = "run as this user after start-up; empty: stay"),
	CONF_ENUM("log_level", struct hlrd_conf, log_level, hlrd_log_levels, .dflt = "info",
		  .help = "error, warning, info or debug"),
	CONF_LIST("hosts", struct hlrd_conf, hosts, nhosts, &hlrd_host_schema,
		  .flags = CONF_F_REQUIRED, .umin = 1, .umax = 100000,
		  .help = "host keys and the addresses they may update"),
};

const struct conf_schema hlrd_conf_schema = CONF_SCHEMA(struct hlrd_conf, hlrd_fields,
							.check = hlrd_conf_check);

int hlrd_conf_load(struct hlrd_conf *c, const char *path, int print, char *err, size_t errlen)
{
	return conf_load_report(path, NULL, &hlrd_conf_schema, c,
				print ? CONF_REPORT_STDERR : CONF_REPORT_LOG, err, errlen);
}

void hlrd_conf_free(struct hlrd_conf *c)
{
	conf_free(&hlrd_conf_schema, c);
}
