/* lacd.yaml schema (lacd.yaml(5)) and the static MIN -> LNS table. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lacd.h"

static const char *const lacd_log_levels[] = { "error", "warning", "info", "debug", NULL };

static const struct conf_field lacd_lns_fields[] = {
	CONF_STRING("min", struct lacd_conf_lns, min, .flags = CONF_F_REQUIRED, .umin = 1,
		    .umax = L2TP_MIN_MAX + 1,
		    .help = "MIN (digits), a prefix ending in '*', or '*' for any"),
	CONF_ADDR("address", struct lacd_conf_lns, address, .flags = CONF_F_REQUIRED,
		  .help = "the LNS's address"),
	CONF_UINT("port", struct lacd_conf_lns, port, .dflt = "1701", .umin = 1, .umax = 65535,
		  .help = "the LNS's UDP port"),
	CONF_SECRET("secret", struct lacd_conf_lns, secret, .umin = 1, .umax = LACD_SECRET_MAX,
		    .help = "tunnel secret (inline or file:/path); absent: no authentication"),
	CONF_BOOL("hide_avps", struct lacd_conf_lns, hide_avps, .dflt = "no",
		  .help = "hide the AVPs RFC 2661 allows to be hidden (needs secret)"),
};

static int lacd_lns_check(const void *obj, const char **key, char *msg, size_t msglen)
{
	const struct lacd_conf_lns *l = obj;
	size_t n = strlen(l->min);
	for (size_t i = 0; i < n; i++)
		if (!(l->min[i] >= '0' && l->min[i] <= '9') && !(l->min[i] == '*' && i == n - 1)) {
			*key = "min";
			snprintf(msg, msglen, "'%s': digits, optionally ending in '*'", l->min);
			return -1;
		}
	if (l->min[n - 1] != '*' && n > L2TP_MIN_MAX) {
		*key = "min";
		snprintf(msg, msglen, "a MIN has at most %d digits", L2TP_MIN_MAX);
		return -1;
	}
	if (l->hide_avps && !l->secret.len) {
		*key = "hide_avps";
		snprintf(msg, msglen, "hiding AVPs needs a secret");
		return -1;
	}
	return 0;
}

static const struct conf_schema lacd_lns_schema = CONF_SCHEMA(struct lacd_conf_lns,
							      lacd_lns_fields,
							      .check = lacd_lns_check);

static const struct conf_field lacd_tunnel_fields[] = {
	L2TP_TUNNEL_CONF_FIELDS("SCCRQ..SCCRP and ICRQ..ICRP must complete within this",
				"1024"),
	CONF_DURATION("idle_timeout", struct l2tp_tunnel_conf, idle_timeout, .dflt = "10s",
		      .umin = 0, .umax = 86400000,
		      .help = "a tunnel whose last session ended is closed after this"),
};

static const struct conf_schema lacd_tunnel_schema = CONF_SCHEMA(struct l2tp_tunnel_conf,
								 lacd_tunnel_fields);

static const struct conf_field lacd_handoff_fields[] = {
	CONF_UINT("vendor_id", struct lacd_conf_handoff, vendor_id, .dflt = "32473", .umin = 1,
		  .umax = 65535, .help = "Vendor ID of the handoff extension AVPs"),
};

static const struct conf_schema lacd_handoff_schema = CONF_SCHEMA(struct lacd_conf_handoff,
								  lacd_handoff_fields);

static const struct conf_field lacd_access_fields[] = {
	CONF_BOOL("enabled", struct lacd_conf_access, enabled, .dflt = "yes",
		  .help = "listen for mobiles (docs/protocols/access-link.md)"),
	CONF_ADDR("listen", struct lacd_conf_access, listen, .dflt = "0.0.0.0",
		  .help = "IPv4 address to listen on"),
	CONF_UINT("port", struct lacd_conf_access, port, .dflt = "17010", .umin = 1,
		  .umax = 65535, .help = "UDP port of the access link"),
	CONF_STRING("interface", struct lacd_conf_access, interface, .dflt = "", .umax = 15,
		    .help = "the cell interface: the all-LACs group is joined there; empty: no"),
	CONF_ADDR("group", struct lacd_conf_access, group, .dflt = ACCESS_GROUP,
		  .help = "the all-LACs multicast group mobiles send ATTACH to"),
	CONF_DURATION("keepalive_interval", struct lacd_conf_access, keepalive_interval,
		      .dflt = "1s", .umin = ACCESS_TIMER_MIN_MS, .umax = ACCESS_TIMER_MAX_MS,
		      .help = "the mobile sends KEEPALIVE this often (told in ATTACH-ACK)"),
	CONF_DURATION("dead_interval", struct lacd_conf_access, dead_interval, .dflt = "3s",
		      .umin = ACCESS_TIMER_MIN_MS, .umax = ACCESS_TIMER_MAX_MS,
		      .help = "a mobile silent this long is lost (at least 2 x keepalive)"),
	CONF_BOOL("data_sequencing", struct lacd_conf_access, data_sequencing, .dflt = "yes",
		  .help = "send L2TP data messages with sequence numbers (RFC 2661 5.8)"),
	CONF_UINT("max_links", struct lacd_conf_access, max_links, .dflt = "65535", .umin = 1,
		  .umax = 1000000, .help = "mobiles attached at most"),
};

static int lacd_access_check(const void *obj, const char **key, char *msg, size_t msglen)
{
	const struct lacd_conf_access *a = obj;
	if ((uint64_t)a->dead_interval < 2 * (uint64_t)a->keepalive_interval) {
		*key = "dead_interval";
		snprintf(msg, msglen, "must be at least twice keepalive_interval");
		return -1;
	}
	if (a->listen.family != AF_INET) {
		*key = "listen";
		snprintf(msg, msglen, "the access link is IPv4");
		return -1;
	}
	if (a->group.family != AF_INET || !roam_ipaddr_is_multicast(&a->group)) {
		*key = "group";
		snprintf(msg, msglen, "an IPv4 multicast address");
		return -1;
	}
	return 0;
}

static const struct conf_schema lacd_access_schema = CONF_SCHEMA(struct lacd_conf_access,
								 lacd_access_fields,
								 .check = lacd_access_check);

static const struct conf_field lacd_fields[] = {
	CONF_ADDR("listen", struct lacd_conf, listen, .dflt = "0.0.0.0",
		  .help = "address to send from and listen on (\"::\": IPv6 and IPv4)"),
	CONF_UINT("port", struct lacd_conf, port, .dflt = "1701", .umin = 1, .umax = 65535,
		  .help = "UDP port"),
	CONF_STRING("host_name", struct lacd_conf, host_name, .dflt = "lacd", .umin = 1,
		    .umax = LACD_HOST_NAME_MAX, .help = "our Host Name AVP"),
	CONF_PATH("control_socket", struct lacd_conf, control_socket, .flags = CONF_F_ABSOLUTE,
		  .dflt = "/run/roam/lacd.sock", .help = "control socket path"),
	CONF_STRING("user", struct lacd_conf, user, .dflt = "", .umax = 64,
		    .help = "run as this user after start-up; empty: stay"),
	CONF_ENUM("log_level", struct lacd_conf, log_level, lacd_log_levels, .dflt = "info",
		  .help = "error, warning, info or debug"),
	CONF_MAP("tunnel", struct lacd_conf, tunnel, &lacd_tunnel_schema,
		 .help = "control connection parameters"),
	CONF_LIST("lns", struct lacd_conf, lns, nlns, &lacd_lns_schema, .dflt = "[]",
		  .umax = 100000, .help = "static MIN -> LNS table"),
	CONF_MAP("handoff", struct lacd_conf, handoff, &lacd_handoff_schema,
		 .help = "the handoff extension (docs/protocols/l2tp-handoff.md)"),
	CONF_MAP("access", struct lacd_conf, access, &lacd_access_schema,
		 .help = "the access link to the mobiles (docs/protocols/access-link.md)"),
};

const struct conf_schema lacd_conf_schema = CONF_SCHEMA(struct lacd_conf, lacd_fields);

const struct lacd_conf_lns *lacd_conf_route(const struct lacd_conf *c, const char *min)
{
	const struct lacd_conf_lns *best = NULL;
	size_t best_len = 0;
	for (size_t i = 0; i < c->nlns; i++) {
		const struct lacd_conf_lns *l = &c->lns[i];
		size_t n = strlen(l->min);
		if (l->min[n - 1] != '*') {
			if (strcmp(l->min, min) == 0)
				return l; /* exact beats any prefix */
			continue;
		}
		if (strncmp(l->min, min, n - 1) == 0 && (!best || n - 1 > best_len)) {
			best = l;
			best_len = n - 1;
		}
	}
	return best;
}

int lacd_conf_load(struct lacd_conf *c, const char *path, int print, char *err, size_t errlen)
{
	return conf_load_report(path, NULL, &lacd_conf_schema, c,
				print ? CONF_REPORT_STDERR : CONF_REPORT_LOG, err, errlen);
}

int lacd_conf_load_string(struct lacd_conf *c, const char *text, char *err, size_t errlen)
{
	return conf_load_report("<string>", text, &lacd_conf_schema, c, CONF_REPORT_LOG, err,
				errlen);
}

void lacd_conf_free(struct lacd_conf *c)
{
	conf_free(&lacd_conf_schema, c);
}
