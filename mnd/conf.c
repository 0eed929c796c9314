/* mnd.yaml schema (mnd.yaml(5)): top-level keys plus one optional section per module. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mnd.h"
#include "roam/access.h"
#include "roam/auth.h"
#include "roam/ppp.h"

static const char *const mnd_log_levels[] = { "error", "warning", "info", "debug", NULL };

static const struct conf_field mnd_neigh_fields[] = {
	CONF_STRING("network", struct mnd_neigh_conf, network, .flags = CONF_F_REQUIRED, .umin = 1,
		    .umax = 31, .help = "network (cell) name as netlab's l2-notice \"to\" gives it"),
	CONF_ADDR("foreign_agent", struct mnd_neigh_conf, fa, .flags = CONF_F_REQUIRED | CONF_F_V4,
		  .help = "that cell's foreign agent (its care-of address)"),
};
static const struct conf_schema mnd_neigh_schema = CONF_SCHEMA(struct mnd_neigh_conf,
							       mnd_neigh_fields);

static int mip4_check(const void *obj, const char **key, char *msg, size_t msglen)
{
	const struct mnd_mip4_conf *c = obj;
	if (c->home.family == 0)
		return 0;
	if (c->nradios == 0) {
		*key = "radios";
		snprintf(msg, msglen, "at least one radio interface");
		return -1;
	}
	for (size_t i = 0; i < c->nradios; i++) {
		if (strlen(c->radios[i]) == 0 || strlen(c->radios[i]) >= IFNAMSIZ) {
			*key = "radios";
			snprintf(msg, msglen, "radios[%zu]: interface names have 1-%d characters", i,
				 IFNAMSIZ - 1);
			return -1;
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(c->radios[i], c->radios[j]) == 0) {
				*key = "radios";
				snprintf(msg, msglen, "radio %s listed twice", c->radios[i]);
				return -1;
			}
	}
	if ((c->fa_spi != 0) != (c->fa_key.len != 0)) {
		*key = "fa_spi";
		snprintf(msg, msglen, "fa_spi and fa_key go together");
		return -1;
	}
	if ((c->gfa_spi != 0) != (c->gfa_key.len != 0)) {
		*key = "gfa_spi";
		snprintf(msg, msglen, "gfa_spi and gfa_key go together");
		return -1;
	}
	if (c->retransmit_max < c->retransmit) {
		*key = "retransmit_max";
		snprintf(msg, msglen, "smaller than retransmit");
		return -1;
	}
	if (strlen(c->home_interface) >= IFNAMSIZ) {
		*key = "home_interface";
		snprintf(msg, msglen, "interface names have at most %d characters", IFNAMSIZ - 1);
		return -1;
	}
	return 0;
}

/* Every key but home_address has a default or is optional; home_address, home_agent, spi,
 * key and radios are required once the section is there. */
static const struct conf_field mnd_mip4_fields[] = {
	CONF_ADDR("home_address", struct mnd_mip4_conf, home, .flags = CONF_F_REQUIRED | CONF_F_V4,
		  .help = "the mobile's permanent address"),
	CONF_ADDR("home_agent", struct mnd_mip4_conf, home_agent,
		  .flags = CONF_F_REQUIRED | CONF_F_V4, .help = "its home agent"),
	CONF_UINT("spi", struct mnd_mip4_conf, spi, .flags = CONF_F_REQUIRED, .umin = 256,
		  .umax = UINT32_MAX, .help = "MN-HA security parameter index (256 and up)"),
	CONF_SECRET("key", struct mnd_mip4_conf, key, .flags = CONF_F_REQUIRED | CONF_F_HEX,
		    .umin = 16, .umax = AUTH_KEY_MAX, .help = "MN-HA key, hex, inline or file:/path"),
	CONF_ENUM("algorithm", struct mnd_mip4_conf, algorithm, mip4_sa_algorithms,
		  .dflt = "hmac-md5", .help = "hmac-md5 (RFC 5944) or keyed-md5 (RFC 2002)"),
	CONF_UINT("fa_spi", struct mnd_mip4_conf, fa_spi, .umin = 0, .umax = UINT32_MAX,
		  .help = "MN-FA SPI (also authenticates the FBU); absent: no MN-FA SA"),
	CONF_SECRET("fa_key", struct mnd_mip4_conf, fa_key, .flags = CONF_F_HEX, .umin = 16,
		    .umax = AUTH_KEY_MAX, .help = "MN-FA key, hex"),
	CONF_ENUM("fa_algorithm", struct mnd_mip4_conf, fa_algorithm, mip4_sa_algorithms,
		  .dflt = "hmac-md5", .help = "MN-FA algorithm"),
	CONF_UINT("gfa_spi", struct mnd_mip4_conf, gfa_spi, .umin = 0, .umax = UINT32_MAX,
		  .help = "MN-GFA SPI (regional registrations in a GFA region); absent: none"),
	CONF_SECRET("gfa_key", struct mnd_mip4_conf, gfa_key, .flags = CONF_F_HEX, .umin = 16,
		    .umax = AUTH_KEY_MAX, .help = "MN-GFA key, hex"),
	CONF_ENUM("gfa_algorithm", struct mnd_mip4_conf, gfa_algorithm, mip4_sa_algorithms,
		  .dflt = "hmac-md5", .help = "MN-GFA algorithm"),
	CONF_LIST_OF("radios", struct mnd_mip4_conf, radios, nradios,
		     CONF_ELEM(CONF_T_STRING, char *), .flags = CONF_F_REQUIRED, .umin = 1,
		     .umax = MND_MAX_RADIOS, .help = "radio interfaces (1 or 2)"),
	CONF_STRING("home_interface", struct mnd_mip4_conf, home_interface, .dflt = "lo",
		    .umin = 1, .umax = 15, .help = "interface carrying the home address (/32)"),
	CONF_BOOL("manage_routes", struct mnd_mip4_conf, manage_routes, .dflt = "true",
		  .help = "set the home address and the default route via the current FA"),
	CONF_DURATION("lifetime", struct mnd_mip4_conf, lifetime, .dflt = "300s", .umin = 1000,
		      .umax = 65534000, .help = "registration lifetime asked for"),
	CONF_DURATION("retransmit", struct mnd_mip4_conf, retransmit, .dflt = "1s", .umin = 10,
		      .umax = 60000, .help = "first retransmission interval (doubles)"),
	CONF_DURATION("retransmit_max", struct mnd_mip4_conf, retransmit_max, .dflt = "8s",
		      .umin = 10, .umax = 600000, .help = "longest retransmission interval"),
	CONF_UINT("max_tries", struct mnd_mip4_conf, max_tries, .dflt = "5", .umin = 1,
		  .umax = 100, .help = "transmissions of a request before soliciting again"),
	CONF_UINT("refresh_percent", struct mnd_mip4_conf, refresh_pct, .dflt = "80", .umin = 10,
		  .umax = 95, .help = "re-register when this share of the lifetime has passed"),
	CONF_DURATION("fbu_lifetime", struct mnd_mip4_conf, fbu_lifetime, .dflt = "5s",
		      .umin = 1000, .umax = 600000, .help = "forwarding asked of the old FA"),
	CONF_DURATION("release_guard", struct mnd_mip4_conf, release_guard, .dflt = "100ms",
		      .umax = 10000, .help = "an old radio is released no sooner after the switch"),
	CONF_BOOL("synchronize", struct mnd_mip4_conf, synchronize, .dflt = "true",
		  .help = "synchronized handoff (false: plain RFC 5944)"),
	CONF_BOOL("reverse_tunnel", struct mnd_mip4_conf, reverse_tunnel, .dflt = "false",
		  .help = "ask for reverse tunnelling (T) where advertised"),
	CONF_LIST("neighbours", struct mnd_mip4_conf, neighbours, nneighbours, &mnd_neigh_schema,
		  .dflt = "[]", .umax = MND_MAX_NEIGH,
		  .help = "FA of each cell, for the single-radio FBU before the move"),
};
static const struct conf_schema mnd_mip4_schema = CONF_SCHEMA(struct mnd_mip4_conf,
							      mnd_mip4_fields,
							      .check = mip4_check);

const char *const mnd_l2tp_auth_names[] = { "any", "pap", "chap", NULL };

static int l2tp_check(const void *obj, const char **key, char *msg, size_t msglen)
{
	const struct mnd_l2tp_conf *c = obj;
	if (!c->min)
		return 0;
	if (access_min_valid(c->min) < 0) {
		*key = "min";
		snprintf(msg, msglen, "exactly %d digits", ACCESS_MIN_LEN);
		return -1;
	}
	if ((c->password.len != 0) == (c->password_file != NULL)) {
		*key = "password";
		snprintf(msg, msglen, "one of password and password_file");
		return -1;
	}
	for (size_t i = 0; i < c->nradios; i++) {
		if (strlen(c->radios[i]) == 0 || strlen(c->radios[i]) >= IFNAMSIZ) {
			*key = "radios";
			snprintf(msg, msglen, "radios[%zu]: interface names have 1-%d characters", i,
				 IFNAMSIZ - 1);
			return -1;
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(c->radios[i], c->radios[j]) == 0) {
				*key = "radios";
				snprintf(msg, msglen, "radio %s listed twice", c->radios[i]);
				return -1;
			}
	}
	struct roam_sockaddr sa;
	if (c->lac[0] && roam_sockaddr_parse(c->lac, ACCESS_PORT, &sa) < 0) {
		*key = "lac";
		snprintf(msg, msglen, "not an ADDRESS[:PORT]: %s", c->lac);
		return -1;
	}
	struct roam_ipaddr g;
	if (roam_ipaddr_parse(c->group, &g) < 0 || g.family != AF_INET ||
	    !roam_ipaddr_is_multicast(&g)) {
		*key = "group";
		snprintf(msg, msglen, "not an IPv4 multicast address: %s", c->group);
		return -1;
	}
	return 0;
}

/* min, user, radios and one of password / password_file are required once the section is
 * there. */
static const struct conf_field mnd_l2tp_fields[] = {
	CONF_STRING("min", struct mnd_l2tp_conf, min, .flags = CONF_F_REQUIRED, .umin = 1,
		    .umax = 15, .help = "Mobile Identification Number, ten digits"),
	CONF_STRING("nai", struct mnd_l2tp_conf, nai, .dflt = "", .umax = ACCESS_NAI_MAX,
		    .help = "Network Access Identifier sent in ATTACH (user@realm); empty: none"),
	CONF_STRING("user", struct mnd_l2tp_conf, ppp_user, .flags = CONF_F_REQUIRED, .umin = 1,
		    .umax = PPP_NAME_MAX, .help = "PPP name (PAP Peer-ID / CHAP Name)"),
	CONF_SECRET("password", struct mnd_l2tp_conf, password, .umin = 1, .umax = PPP_SECRET_MAX,
		    .help = "PPP password / CHAP secret, inline or file:/path"),
	CONF_PATH("password_file", struct mnd_l2tp_conf, password_file,
		  .help = "file holding the password (mode 0600); instead of password"),
	CONF_ENUM("auth", struct mnd_l2tp_conf, auth, mnd_l2tp_auth_names, .dflt = "any",
		  .help = "authentication accepted: any, pap or chap"),
	CONF_LIST_OF("radios", struct mnd_l2tp_conf, radios, nradios,
		     CONF_ELEM(CONF_T_STRING, char *), .flags = CONF_F_REQUIRED, .umin = 1,
		     .umax = MND_MAX_RADIOS, .help = "radio interfaces to the cells (1 or 2)"),
	CONF_STRING("lac", struct mnd_l2tp_conf, lac, .dflt = "", .umax = 63,
		    .help = "a LAC ADDRESS[:PORT] instead of discovery by the group"),
	CONF_STRING("group", struct mnd_l2tp_conf, group, .dflt = ACCESS_GROUP, .umin = 7,
		    .umax = 15, .help = "the all-LACs group of the discovery"),
	CONF_STRING("tun", struct mnd_l2tp_conf, tun, .dflt = "l2tp0", .umin = 1, .umax = 15,
		    .help = "TUN device carrying the PPP address"),
	CONF_BOOL("default_route", struct mnd_l2tp_conf, default_route, .dflt = "true",
		  .help = "default route through the TUN device"),
	CONF_DURATION("notice_margin", struct mnd_l2tp_conf, notice_margin, .dflt = "50ms",
		      .umin = 0, .umax = 10000,
		      .help = "after a link-going-down notice's in_ms, wait this long to ATTACH"),
	CONF_DURATION("silence_margin", struct mnd_l2tp_conf, silence_margin, .dflt = "200ms",
		      .umin = 0, .umax = 10000,
		      .help = "after the LAC went silent, wait this long to ATTACH"),
};
static const struct conf_schema mnd_l2tp_schema = CONF_SCHEMA(struct mnd_l2tp_conf,
							      mnd_l2tp_fields,
							      .check = l2tp_check);

static const struct conf_field mnd_fields[] = {
	CONF_PATH("control_socket", struct mnd_conf, control_socket, .flags = CONF_F_ABSOLUTE,
		  .dflt = "/run/roam/mnd.sock", .help = "control socket path"),
	CONF_STRING("user", struct mnd_conf, user, .dflt = "", .umax = 64,
		    .help = "run as this user after start-up; empty: stay"),
	CONF_ENUM("log_level", struct mnd_conf, log_level, mnd_log_levels, .dflt = "info",
		  .help = "error, warning, info or debug"),
	CONF_MAP("mip4", struct mnd_conf, mip4, &mnd_mip4_schema,
		 .help = "Mobile IPv4 module; absent: disabled"),
	CONF_MAP("l2tp", struct mnd_conf, l2tp, &mnd_l2tp_schema,
		 .help = "L2TP access module (PPP over the access link); absent: disabled"),
	CONF_MAP("sip", struct mnd_conf, sip, &sip_agent_conf_schema,
		 .help = "SIP terminal mobility module (re-REGISTER, re-INVITE); absent: disabled"),
};

const struct conf_schema mnd_conf_schema = CONF_SCHEMA(struct mnd_conf, mnd_fields);

int mnd_conf_load(struct mnd_conf *c, const char *path, int print, char *err, size_t errlen)
{
	return conf_load_report(path, NULL, &mnd_conf_schema, c,
				print ? CONF_REPORT_STDERR : CONF_REPORT_LOG, err, errlen);
}

void mnd_conf_free(struct mnd_conf *c)
{
	conf_free(&mnd_conf_schema, c);
}
