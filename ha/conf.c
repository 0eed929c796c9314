/* had.yaml schema (had.yaml(5)). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "had.h"
#include "roam/mip4_sa_conf.h"
#include "roam/snapshot_store.h"

static const char *const had_rt_names[] = { "off", "on", "mandatory", NULL };
static const char *const had_log_levels[] = { "error", "warning", "info", "debug", NULL };

static const struct conf_field had_mobile_fields[] = {
	CONF_STRING("name", struct had_conf_mobile, name, .umax = 63, .help = "label for logs"),
	MIP4_SA_CONF_FIELDS(struct had_conf_mobile, 1),
	CONF_LIST_OF("home", struct had_conf_mobile, home, nhome,
		     CONF_ELEM(CONF_T_ADDR, struct roam_ipaddr, .flags = CONF_F_V4),
		     .flags = CONF_F_REQUIRED, .umin = 1, .umax = 64,
		     .help = "home addresses this SA may register"),
};
static const struct conf_schema had_mobile_schema = CONF_SCHEMA(struct had_conf_mobile,
								had_mobile_fields);

static const struct conf_field had_fa_fields[] = {
	MIP4_SA_PEER_CONF_FIELDS(struct had_conf_fa, "the foreign agent's address", 1),
};
static const struct conf_schema had_fa_schema = CONF_SCHEMA(struct had_conf_fa, had_fa_fields);

static const struct conf_field had_advert_fields[] = {
	CONF_BOOL("enabled", struct had_conf_advert, enabled, .dflt = "false",
		  .help = "send agent advertisements on the home link"),
	CONF_STRING("interface", struct had_conf_advert, interface, .dflt = "", .umax = 15,
		    .help = "home link interface"),
	CONF_DURATION("interval", struct had_conf_advert, interval, .dflt = "1s", .umin = 100,
		      .umax = 3600000, .help = "advertisement period (jittered +-25%)"),
	CONF_DURATION("lifetime", struct had_conf_advert, lifetime, .dflt = "3s", .umin = 1000,
		      .umax = 65535000, .help = "ICMP advertisement lifetime"),
};
static const struct conf_schema had_advert_schema = CONF_SCHEMA(struct had_conf_advert,
								had_advert_fields);

static const struct conf_field had_dataplane_fields[] = {
	CONF_BOOL("enabled", struct had_conf_dataplane, enabled, .dflt = "false",
		  .help = "tunnel bound home addresses (TUN capture, IP-in-IP, reverse tunnel)"),
	CONF_STRING("tun", struct had_conf_dataplane, tun, .dflt = "roamha0", .umin = 1, .umax = 15,
		    .help = "TUN device capturing the traffic for bound home addresses"),
	CONF_UINT("tun_mtu", struct had_conf_dataplane, tun_mtu, .dflt = "1480", .umin = 576,
		  .umax = 65515, .help = "MTU of the TUN device (path MTU minus 20)"),
	CONF_STRING("interface", struct had_conf_dataplane, interface, .dflt = "", .umax = 15,
		    .help = "home link: proxy ARP for the bound home addresses; empty: none"),
	CONF_ADDR("source", struct had_conf_dataplane, source, .flags = CONF_F_V4,
		  .dflt = "0.0.0.0", .help = "tunnel source; 0.0.0.0: the home agent address"),
	CONF_UINT("ttl", struct had_conf_dataplane, ttl, .dflt = "64", .umin = 1, .umax = 255,
		  .help = "outer TTL"),
	CONF_BOOL("gratuitous_arp", struct had_conf_dataplane, gratuitous_arp, .dflt = "true",
		  .help = "gratuitous ARP on the home link for a new binding"),
};
static const struct conf_schema had_dataplane_schema = CONF_SCHEMA(struct had_conf_dataplane,
								   had_dataplane_fields);

static const struct conf_field had_cn_fields[] = {
	MIP4_SA_PEER_CONF_FIELDS(struct had_conf_cn, "the correspondent (runs cnd)", 1),
	CONF_BOOL("push", struct had_conf_cn, push, .dflt = "true",
		  .help = "Binding Updates for every binding; false: once it asked"),
};
static const struct conf_schema had_cn_schema = CONF_SCHEMA(struct had_conf_cn, had_cn_fields);

static const struct conf_field had_ro_fields[] = {
	CONF_BOOL("acknowledge", struct had_conf_ro, acknowledge, .dflt = "true",
		  .help = "ask for a Binding Acknowledge (A)"),
	CONF_BOOL("relay_dereg", struct had_conf_ro, relay_dereg, .dflt = "true",
		  .help = "synchronized move: the deregistration reply goes through the correspondent"),
	CONF_LIST("correspondents", struct had_conf_ro, correspondents, ncns, &had_cn_schema,
		  .dflt = "[]", .umax = HAD_RO_MAX_CN, .help = "HA-CN security associations"),
};
static const struct conf_schema had_ro_schema = CONF_SCHEMA(struct had_conf_ro, had_ro_fields);

static int had_conf_check(const void *obj, const char **key, char *msg, size_t msglen)
{
	const struct had_conf *c = obj;
	if (mip4_sa_conf_unique_spi(c->mobiles, c->nmobiles, sizeof(*c->mobiles),
				    offsetof(struct had_conf_mobile, spi), "mobiles", "mobiles", key,
				    msg, msglen) < 0 ||
	    mip4_sa_conf_unique_addr(c->foreign_agents, c->nfas, sizeof(*c->foreign_agents),
				     offsetof(struct had_conf_fa, address), "foreign_agents",
				     "address", key, msg, msglen) < 0)
		return -1;
	if (c->advert.enabled && (!c->advert.interface || !*c->advert.interface)) {
		*key = "advert";
		snprintf(msg, msglen, "advert.enabled needs advert.interface");
		return -1;
	}
	return 0;
}

static const struct conf_field had_fields[] = {
	CONF_ADDR("address", struct had_conf, address, .flags = CONF_F_REQUIRED | CONF_F_V4,
		  .help = "home agent address (the Home Agent field of registrations)"),
	CONF_ADDR("listen", struct had_conf, listen, .flags = CONF_F_V4, .dflt = "0.0.0.0",
		  .help = "address the UDP socket binds"),
	CONF_UINT("port", struct had_conf, port, .dflt = "434", .umin = 1, .umax = 65535,
		  .help = "UDP port"),
	CONF_PATH("control_socket", struct had_conf, control_socket, .flags = CONF_F_ABSOLUTE,
		  .dflt = "/run/roam/had.sock", .help = "control socket path"),
	SNAP_CONF_FIELDS(struct had_conf, "/var/lib/roam/had.snap", "30s"),
	CONF_DURATION("max_lifetime", struct had_conf, max_lifetime, .dflt = "1800s",
		      .umin = 1000, .umax = 65534000, .help = "longest lifetime granted"),
	CONF_DURATION("replay_tolerance", struct had_conf, replay_tolerance, .dflt = "7s",
		      .umin = 1000, .umax = 3600000, .help = "Identification tolerance"),
	CONF_UINT("max_bindings", struct had_conf, max_bindings, .dflt = "100000", .umin = 1,
		  .umax = 10000000, .help = "binding cache capacity (130 beyond)"),
	CONF_BOOL("synchronized", struct had_conf, synchronized, .dflt = "true",
		  .help = "synchronized handoff (false: plain RFC 5944)"),
	CONF_DURATION("drr_delay", struct had_conf, drr_delay, .dflt = "0ms", .umax = 60000,
		      .help = "test knob: hold the deregistration reply (a late reply, Phase II)"),
	CONF_ENUM("reverse_tunnel", struct had_conf, reverse_tunnel, had_rt_names, .dflt = "on",
		  .help = "off (137 on T), on, mandatory (138 without T)"),
	CONF_UINT("fifo_items", struct had_conf, fifo_items, .dflt = "1024", .umin = 1,
		  .umax = 1000000, .help = "bound of each binding path's FIFO"),
	CONF_MAP("advert", struct had_conf, advert, &had_advert_schema,
		 .help = "agent advertisements"),
	CONF_MAP("dataplane", struct had_conf, dataplane, &had_dataplane_schema,
		 .help = "user-space data plane (IP-in-IP tunnelling)"),
	CONF_STRING("user", struct had_conf, user, .dflt = "", .umax = 64,
		    .help = "run as this user after start-up; empty: stay"),
	CONF_ENUM("log_level", struct had_conf, log_level, had_log_levels, .dflt = "info",
		  .help = "error, warning, info or debug"),
	CONF_LIST("mobiles", struct had_conf, mobiles, nmobiles, &had_mobile_schema,
		  .flags = CONF_F_REQUIRED, .umin = 1, .umax = 1000000,
		  .help = "MN-HA security associations"),
	CONF_LIST("foreign_agents", struct had_conf, foreign_agents, nfas, &had_fa_schema,
		  .dflt = "[]", .umax = 100000, .help = "FA-HA security associations"),
	CONF_MAP("route_optimization", struct had_conf, ro, &had_ro_schema,
		 .help = "Binding Updates to correspondents running cnd"),
};

const struct conf_schema had_conf_schema = CONF_SCHEMA(struct had_conf, had_fields,
						       .check = had_conf_check);

int had_conf_load(struct had_conf *c, const char *path, int print, char *err, size_t errlen)
{
	return conf_load_report(path, NULL, &had_conf_schema, c,
				print ? CONF_REPORT_STDERR : CONF_REPORT_LOG, err, errlen);
}

int had_conf_load_string(struct had_conf *c, const char *text, char *err, size_t errlen)
{
	return conf_load_report("had.yaml", text, &had_conf_schema, c, CONF_REPORT_LOG, err, errlen);
}

void had_conf_free(struct had_conf *c)
{
	conf_free(&had_conf_schema, c);
}
