/* cnd.yaml schema (cnd.yaml(5)): top-level keys plus one optional section per module. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cnd.h"
#include "roam/mip4_agent.h"
#include "roam/mip4_sa_conf.h"

static const char *const cnd_log_levels[] = { "error", "warning", "info", "debug", NULL };

/* ---- mip4 ---- */

static const struct conf_field cnd_ha_fields[] = {
	MIP4_SA_PEER_CONF_FIELDS(struct cnd_ha_conf,
				 "the home agent's address (source of its Binding Updates)", 16),
};
static const struct conf_schema cnd_ha_schema = CONF_SCHEMA(struct cnd_ha_conf, cnd_ha_fields);

static const struct conf_field cnd_dataplane_fields[] = {
	CONF_BOOL("enabled", struct cnd_dataplane_conf, enabled, .dflt = "true",
		  .help = "tunnel traffic for bound home addresses to the care-of address"),
	CONF_STRING("tun", struct cnd_dataplane_conf, tun, .dflt = "roamcn0", .umin = 1, .umax = 15,
		    .help = "TUN device the bound home addresses are routed into"),
	CONF_UINT("tun_mtu", struct cnd_dataplane_conf, tun_mtu, .dflt = "1480", .umin = 576,
		  .umax = 65515, .help = "MTU of the TUN device (path MTU minus 20)"),
	CONF_UINT("ttl", struct cnd_dataplane_conf, ttl, .dflt = "64", .umin = 1, .umax = 255,
		  .help = "outer TTL"),
};
static const struct conf_schema cnd_dataplane_schema = CONF_SCHEMA(struct cnd_dataplane_conf,
								   cnd_dataplane_fields);

static int mip4_check(const void *obj, const char **key, char *msg, size_t msglen)
{
	const struct cnd_mip4_conf *c = obj;
	if (c->address.family == 0)
		return 0;
	return mip4_sa_conf_unique_spi(c->home_agents, c->nhome_agents, sizeof(*c->home_agents),
				       offsetof(struct cnd_ha_conf, spi), "home_agents", "", key,
				       msg, msglen);
}

static const struct conf_field cnd_mip4_fields[] = {
	CONF_ADDR("address", struct cnd_mip4_conf, address, .flags = CONF_F_REQUIRED | CONF_F_V4,
		  .help = "this correspondent's address (tunnel source)"),
	CONF_ADDR("listen", struct cnd_mip4_conf, listen, .flags = CONF_F_V4, .dflt = "0.0.0.0",
		  .help = "address the UDP socket binds"),
	CONF_UINT("port", struct cnd_mip4_conf, port, .dflt = "434", .umin = 1, .umax = 65535,
		  .help = "UDP port"),
	CONF_DURATION("replay_tolerance", struct cnd_mip4_conf, replay_tolerance, .dflt = "7s",
		      .umin = 1000, .umax = 3600000, .help = "Identification tolerance"),
	CONF_DURATION("max_lifetime", struct cnd_mip4_conf, max_lifetime, .dflt = "600s",
		      .umin = 1000, .umax = 65534000, .help = "longest binding kept"),
	CONF_UINT("max_bindings", struct cnd_mip4_conf, max_bindings, .dflt = "10000", .umin = 1,
		  .umax = 10000000, .help = "binding cache capacity"),
	CONF_UINT("fifo_items", struct cnd_mip4_conf, fifo_items, .dflt = "1024", .umin = 1,
		  .umax = 1000000, .help = "bound of each binding path's FIFO"),
	CONF_UINT("request_percent", struct cnd_mip4_conf, request_pct, .dflt = "80", .umin = 0,
		  .umax = 95, .help = "Binding Request at this share of the lifetime; 0: never"),
	CONF_BOOL("synchronize", struct cnd_mip4_conf, synchronize, .dflt = "true",
		  .help = "old path drains, the relayed deregistration reply behind it"),
	CONF_MAP("dataplane", struct cnd_mip4_conf, dataplane, &cnd_dataplane_schema,
		 .help = "user-space IP-in-IP tunnelling"),
	CONF_LIST("home_agents", struct cnd_mip4_conf, home_agents, nhome_agents, &cnd_ha_schema,
		  .flags = CONF_F_REQUIRED, .umin = 1, .umax = 100000,
		  .help = "HA-CN security associations"),
};
static const struct conf_schema cnd_mip4_schema = CONF_SCHEMA(struct cnd_mip4_conf,
							      cnd_mip4_fields, .check = mip4_check);

/* ---- top level ---- */

static const struct conf_field cnd_fields[] = {
	CONF_PATH("control_socket", struct cnd_conf, control_socket, .flags = CONF_F_ABSOLUTE,
		  .dflt = "/run/roam/cnd.sock", .help = "control socket path"),
	CONF_STRING("user", struct cnd_conf, user, .dflt = "", .umax = 64,
		    .help = "run as this user after start-up; empty: stay"),
	CONF_ENUM("log_level", struct cnd_conf, log_level, cnd_log_levels, .dflt = "info",
		  .help = "error, warning, info or debug"),
	CONF_MAP("mip4", struct cnd_conf, mip4, &cnd_mip4_schema,
		 .help = "Mobile IPv4 route optimization module; absent: disabled"),
	CONF_MAP("sip", struct cnd_conf, sip, &sip_agent_conf_schema,
		 .help = "SIP user agent module (answers INVITE and re-INVITE); absent: disabled"),
};

const struct conf_schema cnd_conf_schema = CONF_SCHEMA(struct cnd_conf, cnd_fields);

int cnd_conf_load(struct cnd_conf *c, const char *path, const char *text, int print, char *err,
		  size_t errlen)
{
	return conf_load_report(path, text, &cnd_conf_schema, c,
				print ? CONF_REPORT_STDERR : CONF_REPORT_LOG, err, errlen);
}

void cnd_conf_free(struct cnd_conf *c)
{
	conf_free(&cnd_conf_schema, c);
}
