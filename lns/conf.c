/* lnsd.yaml schema (lnsd.yaml(5)). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lnsd.h"

static const char *const lnsd_log_levels[] = { "error", "warning", "info", "debug", NULL };

static const struct conf_field lnsd_peer_fields[] = {
	CONF_ADDR("address", struct lnsd_conf_peer, address,
		  .help = "the LAC's address (absent: any address, host_name must match)"),
	CONF_STRING("host_name", struct lnsd_conf_peer, host_name, .umin = 1,
		    .umax = LNSD_HOST_NAME_MAX,
		    .help = "the LAC's Host Name AVP (absent: any, address must match)"),
	CONF_SECRET("secret", struct lnsd_conf_peer, secret, .umin = 1, .umax = LNSD_SECRET_MAX,
		    .help = "tunnel secret (inline or file:/path); absent: no authentication"),
	CONF_BOOL("hide_avps", struct lnsd_conf_peer, hide_avps, .dflt = "no",
		  .help = "hide the AVPs RFC 2661 allows to be hidden (needs secret)"),
};

static int lnsd_peer_check(const void *obj, const char **key, char *msg, size_t msglen)
{
	const struct lnsd_conf_peer *p = obj;
	if (!p->address.family && !(p->host_name && *p->host_name)) {
		*key = "address";
		snprintf(msg, msglen, "a peer needs an address, a host_name, or both");
		return -1;
	}
	if (p->hide_avps && !p->secret.len) {
		*key = "hide_avps";
		snprintf(msg, msglen, "hiding AVPs needs a secret");
		return -1;
	}
	return 0;
}

static const struct conf_schema lnsd_peer_schema = CONF_SCHEMA(struct lnsd_conf_peer,
							       lnsd_peer_fields,
							       .check = lnsd_peer_check);

static const struct conf_field lnsd_tunnel_fields[] = {
	L2TP_TUNNEL_CONF_FIELDS("SCCRQ..SCCCN and ICRQ..ICCN must complete within this",
				"4096"),
};

static const struct conf_schema lnsd_tunnel_schema = CONF_SCHEMA(struct l2tp_tunnel_conf,
								 lnsd_tunnel_fields);


static const struct conf_field lnsd_handoff_fields[] = {
	CONF_UINT("vendor_id", struct lnsd_conf_handoff, vendor_id, .dflt = "32473", .umin = 1,
		  .umax = 65535, .help = "Vendor ID of the handoff extension AVPs"),
};

static const struct conf_schema lnsd_handoff_schema = CONF_SCHEMA(struct lnsd_conf_handoff,
								  lnsd_handoff_fields);

static const struct conf_field lnsd_fields[] = {
	CONF_ADDR("listen", struct lnsd_conf, listen, .dflt = "0.0.0.0",
		  .help = "address to listen on (\"::\": IPv6 and IPv4)"),
	CONF_UINT("port", struct lnsd_conf, port, .dflt = "1701", .umin = 1, .umax = 65535,
		  .help = "UDP port"),
	CONF_STRING("host_name", struct lnsd_conf, host_name, .dflt = "lnsd", .umin = 1,
		    .umax = LNSD_HOST_NAME_MAX, .help = "our Host Name AVP"),
	CONF_PATH("control_socket", struct lnsd_conf, control_socket, .flags = CONF_F_ABSOLUTE,
		  .dflt = "/run/roam/lnsd.sock", .help = "control socket path"),
	CONF_STRING("user", struct lnsd_conf, user, .dflt = "", .umax = 64,
		    .help = "run as this user after start-up; empty: stay"),
	CONF_ENUM("log_level", struct lnsd_conf, log_level, lnsd_log_levels, .dflt = "info",
		  .help = "error, warning, info or debug"),
	CONF_BOOL("accept_any", struct lnsd_conf, accept_any, .dflt = "no",
		  .help = "accept tunnels from unlisted peers, without authentication"),
	CONF_MAP("tunnel", struct lnsd_conf, tunnel, &lnsd_tunnel_schema,
		 .help = "control connection parameters"),
	CONF_LIST("peers", struct lnsd_conf, peers, npeers, &lnsd_peer_schema, .dflt = "[]",
		  .umax = 10000, .help = "LACs allowed to set up tunnels"),
	CONF_MAP("handoff", struct lnsd_conf, handoff, &lnsd_handoff_schema,
		 .help = "the handoff extension (docs/protocols/l2tp-handoff.md)"),
};

const struct conf_schema lnsd_conf_schema = CONF_SCHEMA(struct lnsd_conf, lnsd_fields);

int lnsd_conf_load(struct lnsd_conf *c, const char *path, int print, char *err, size_t errlen)
{
	return conf_load_report(path, NULL, &lnsd_conf_schema, c,
				print ? CONF_REPORT_STDERR : CONF_REPORT_LOG, err, errlen);
}

int lnsd_conf_load_string(struct lnsd_conf *c, const char *text, char *err, size_t errlen)
{
	return conf_load_report("<string>", text, &lnsd_conf_schema, c, CONF_REPORT_LOG, err,
				errlen);
}

void lnsd_conf_free(struct lnsd_conf *c)
{
	conf_free(&lnsd_conf_schema, c);
}
