/* fad.yaml schema (fad.yaml(5)). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fad.h"
#include "roam/mip4_sa_conf.h"
#include "roam/snapshot_store.h"

static const char *const fad_rt_names[] = { "off", "on", "mandatory", NULL };
static const char *const fad_log_levels[] = { "error", "warning", "info", "debug", NULL };

static const struct conf_field fad_cell_fields[] = {
	CONF_STRING("interface", struct fad_conf_cell, interface, .flags = CONF_F_REQUIRED,
		    .umax = 15, .help = "cell link interface"),
	CONF_ADDR("care_of", struct fad_conf_cell, care_of, .flags = CONF_F_REQUIRED | CONF_F_V4,
		  .help = "care-of address advertised on this cell (an address of fad)"),
};
static const struct conf_schema fad_cell_schema = CONF_SCHEMA(struct fad_conf_cell,
							      fad_cell_fields);

/* FA-HA (home_agents) and FA-FA (gfa.foreign_agents) SAs. */
static const struct conf_field fad_ha_fields[] = {
	MIP4_SA_PEER_CONF_FIELDS(struct fad_conf_ha, "the peer agent's address", 1),
};
static const struct conf_schema fad_ha_schema = CONF_SCHEMA(struct fad_conf_ha, fad_ha_fields);

/* MN-FA (and MN-PAR: mobiles) and MN-GFA (gfa.mobiles) SAs. */
static const struct conf_field fad_mobile_fields[] = {
	CONF_STRING("name", struct fad_conf_mobile, name, .umax = 63, .help = "label for logs"),
	CONF_ADDR("home", struct fad_conf_mobile, home, .flags = CONF_F_REQUIRED | CONF_F_V4,
		  .help = "the mobile's home address"),
	MIP4_SA_CONF_FIELDS(struct fad_conf_mobile, 1),
};
static const struct conf_schema fad_mobile_schema = CONF_SCHEMA(struct fad_conf_mobile,
								fad_mobile_fields);

static const struct conf_field fad_advert_fields[] = {
	CONF_BOOL("enabled", struct fad_conf_advert, enabled, .dflt = "true",
		  .help = "send agent advertisements on the cells"),
	CONF_DURATION("interval", struct fad_conf_advert, interval, .dflt = "1s", .umin = 100,
		      .umax = 3600000, .help = "advertisement period (jittered +-25%)"),
	CONF_DURATION("lifetime", struct fad_conf_advert, lifetime, .dflt = "3s", .umin = 1000,
		      .umax = 65535000, .help = "ICMP advertisement lifetime"),
};
static const struct conf_schema fad_advert_schema = CONF_SCHEMA(struct fad_conf_advert,
								fad_advert_fields);

static const struct conf_field fad_dataplane_fields[] = {
	CONF_BOOL("enabled", struct fad_conf_dataplane, enabled, .dflt = "false",
		  .help = "user-space data plane: decapsulate, deliver, forward, reverse-tunnel"),
	CONF_STRING("tun", struct fad_conf_dataplane, tun, .dflt = "roamfa0", .umin = 1,
		    .umax = 15, .help = "TUN device decapsulated packets are written into"),
	CONF_UINT("tun_mtu", struct fad_conf_dataplane, tun_mtu, .dflt = "1500", .umin = 576,
		  .umax = 65535, .help = "MTU of the TUN device"),
	CONF_UINT("ttl", struct fad_conf_dataplane, ttl, .dflt = "64", .umin = 1, .umax = 255,
		  .help = "outer TTL of the tunnels fad sends (reverse, forwarding)"),
	CONF_UINT("pending_items", struct fad_conf_dataplane, pending_items, .dflt = "256",
		  .umin = 1, .umax = 1000000,
		  .help = "data held per visitor while its registration is pending"),
	CONF_BOOL("capture_cells", struct fad_conf_dataplane, capture_cells, .dflt = "true",
		  .help = "read the mobiles' packets on the cells (forwarding off there)"),
	CONF_BOOL("any_tunnel_source", struct fad_conf_dataplane, any_tunnel_source,
		  .dflt = "true",
		  .help = "accept a visitor's tunnelled data from any source (a previous FA)"),
};
static const struct conf_schema fad_dataplane_schema = CONF_SCHEMA(struct fad_conf_dataplane,
								   fad_dataplane_fields);

static const struct conf_field fad_gfa_fields[] = {
	CONF_BOOL("enabled", struct fad_conf_gfa, enabled, .dflt = "false",
		  .help = "gateway-FA role: answer regional registrations (RFC 4857)"),
	CONF_ADDR("address", struct fad_conf_gfa, address, .flags = CONF_F_V4,
		  .dflt = "0.0.0.0", .help = "the GFA's address (tunnel source, replies)"),
	CONF_DURATION("max_lifetime", struct fad_conf_gfa, max_lifetime, .dflt = "300s",
		      .umin = 1000, .umax = 65534000,
		      .help = "longest regional registration (69 above)"),
	CONF_LIST("mobiles", struct fad_conf_gfa, mobiles, nmobiles, &fad_mobile_schema,
		  .dflt = "[]", .umax = 1000000, .help = "MN-GFA security associations"),
	CONF_LIST("foreign_agents", struct fad_conf_gfa, foreign_agents, nfas,
		  &fad_ha_schema, .dflt = "[]", .umax = 100000,
		  .help = "FA-FA security associations of the region's foreign agents"),
};
static const struct conf_schema fad_gfa_schema = CONF_SCHEMA(struct fad_conf_gfa,
							     fad_gfa_fields);

static const struct conf_field fad_region_fields[] = {
	CONF_ADDR("gfa", struct fad_conf_region, gfa, .flags = CONF_F_REQUIRED | CONF_F_V4,
		  .help = "the GFA's address (advertised as care-of address, I flag)"),
	MIP4_SA_CONF_FIELDS(struct fad_conf_region, 1),
};
static const struct conf_schema fad_region_schema = CONF_SCHEMA(struct fad_conf_region,
								fad_region_fields);

static int fad_conf_check(const void *obj, const char **key, char *msg, size_t msglen)
{
	const struct fad_conf *c = obj;
	for (size_t i = 0; i < c->ncells; i++)
		for (size_t j = 0; j < i; j++) {
			if (strcmp(c->cells[i].interface, c->cells[j].interface) == 0) {
				*key = "cells";
				snprintf(msg, msglen, "cells[%zu] and cells[%zu] use interface %s", j,
					 i, c->cells[i].interface);
				return -1;
			}
		}
	if (mip4_sa_conf_unique_addr(c->home_agents, c->nhas, sizeof(*c->home_agents),
				     offsetof(struct fad_conf_ha, address), "home_agents", "address",
				     key, msg, msglen) < 0 ||
	    mip4_sa_conf_unique_addr(c->mobiles, c->nmobiles, sizeof(*c->mobiles),
				     offsetof(struct fad_conf_mobile, home), "mobiles",
				     "home address", key, msg, msglen) < 0)
		return -1;
	if (c->max_lifetime / 1000 > 0xfffe) {
		*key = "max_lifetime";
		snprintf(msg, msglen, "at most 65534s");
		return -1;
	}
	return 0;
}

static const struct conf_field fad_fields[] = {
	CONF_ADDR("listen", struct fad_conf, listen, .flags = CONF_F_V4, .dflt = "0.0.0.0",
		  .help = "address the UDP socket binds (must receive from the cells and the HAs)"),
	CONF_UINT("port", struct fad_conf, port, .dflt = "434", .umin = 1, .umax = 65535,
		  .help = "UDP port"),
	CONF_PATH("control_socket", struct fad_conf, control_socket, .flags = CONF_F_ABSOLUTE,
		  .dflt = "/run/roam/fad.sock", .help = "control socket path"),
	SNAP_CONF_FIELDS(struct fad_conf, "/var/lib/roam/fad.snap", "30s"),
	CONF_DURATION("max_lifetime", struct fad_conf, max_lifetime, .dflt = "1800s",
		      .umin = 1000, .umax = 65534000,
		      .help = "registration lifetime advertised; longer requests get 69"),
	CONF_DURATION("relay_timeout", struct fad_conf, relay_timeout, .dflt = "7s", .umin = 100,
		      .umax = 600000, .help = "pending registration without reply: 78"),
	CONF_DURATION("fbu_max_lifetime", struct fad_conf, fbu_max_lifetime, .dflt = "10s",
		      .umin = 1000, .umax = 3600000, .help = "longest FBU forwarding time (69 above)"),
	CONF_DURATION("replay_tolerance", struct fad_conf, replay_tolerance, .dflt = "7s",
		      .umin = 1000, .umax = 3600000, .help = "FBU Identification tolerance"),
	CONF_UINT("max_visitors", struct fad_conf, max_visitors, .dflt = "10000", .umin = 1,
		  .umax = 10000000, .help = "visitor list capacity (66 and busy bit beyond)"),
	CONF_BOOL("synchronized", struct fad_conf, synchronized, .dflt = "true",
		  .help = "synchronized handoff: accept FBUs (false: plain RFC 5944)"),
	CONF_BOOL("require_mn_fa", struct fad_conf, require_mn_fa, .dflt = "false",
		  .help = "deny (67) mobiles without an MN-FA security association"),
	CONF_BOOL("known_home_agents_only", struct fad_conf, known_home_agents_only,
		  .dflt = "false", .help = "deny (65) registrations to unconfigured home agents"),
	CONF_BOOL("binding_warnings", struct fad_conf, binding_warnings, .dflt = "false",
		  .help = "Binding Warning to the home agents for tunnelled traffic to no visitor"),
	CONF_ENUM("reverse_tunnel", struct fad_conf, reverse_tunnel, fad_rt_names, .dflt = "on",
		  .help = "off (74 on T), on, mandatory (75 without T)"),
	CONF_UINT("fifo_items", struct fad_conf, fifo_items, .dflt = "1024", .umin = 1,
		  .umax = 1000000, .help = "bound of each visitor's FIFO"),
	CONF_MAP("advert", struct fad_conf, advert, &fad_advert_schema,
		 .help = "agent advertisements"),
	CONF_MAP("dataplane", struct fad_conf, dataplane, &fad_dataplane_schema,
		 .help = "user-space data plane"),
	CONF_STRING("user", struct fad_conf, user, .dflt = "", .umax = 64,
		    .help = "run as this user after start-up; empty: stay"),
	CONF_ENUM("log_level", struct fad_conf, log_level, fad_log_levels, .dflt = "info",
		  .help = "error, warning, info or debug"),
	CONF_LIST("cells", struct fad_conf, cells, ncells, &fad_cell_schema,
		  .flags = CONF_F_REQUIRED, .umin = 1, .umax = FAD_MAX_CELLS,
		  .help = "cell interfaces with their care-of address"),
	CONF_LIST("home_agents", struct fad_conf, home_agents, nhas, &fad_ha_schema,
		  .dflt = "[]", .umax = 100000, .help = "FA-HA security associations"),
	CONF_LIST("mobiles", struct fad_conf, mobiles, nmobiles, &fad_mobile_schema,
		  .dflt = "[]", .umax = 1000000, .help = "MN-FA security associations"),
	CONF_MAP("gfa", struct fad_conf, gfa, &fad_gfa_schema,
		 .help = "gateway-FA role (regional registration, RFC 4857)"),
	CONF_MAP("region", struct fad_conf, region, &fad_region_schema,
		 .help = "lower-FA role: the GFA of this FA's region (RFC 4857)"),
};

const struct conf_schema fad_conf_schema = CONF_SCHEMA(struct fad_conf, fad_fields,
						       .check = fad_conf_check);

int fad_conf_load(struct fad_conf *c, const char *path, int print, char *err, size_t errlen)
{
	return conf_load_report(path, NULL, &fad_conf_schema, c,
				print ? CONF_REPORT_STDERR : CONF_REPORT_LOG, err, errlen);
}

int fad_conf_load_string(struct fad_conf *c, const char *text, char *err, size_t errlen)
{
	return conf_load_report("fad.yaml", text, &fad_conf_schema, c, CONF_REPORT_LOG, err, errlen);
}

void fad_conf_free(struct fad_conf *c)
{
	conf_free(&fad_conf_schema, c);
}
