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
	CONF_BOOL("enabled", struct lacd_conf_handoff, enabled, .dflt = "no",
		  .help = "CDN with the handoff cause + USER_MOVED; resume handed-off calls"),
	CONF_ADDR("group", struct lacd_conf_handoff, group, .dflt = L2TP_UM_GROUP_DEFAULT,
		  .help = "the LAC group (IPv4 multicast) USER_MOVED is sent to"),
	CONF_UINT("port", struct lacd_conf_handoff, port, .dflt = "17011", .umin = 1,
		  .umax = 65535, .help = "UDP port of USER_MOVED"),
	CONF_STRING("interface", struct lacd_conf_handoff, interface, .dflt = "", .umax = 15,
		    .help = "LAC-facing interface: the group is joined and sent there"),
	CONF_ADDR("address", struct lacd_conf_handoff, address, .dflt = "0.0.0.0",
		  .help = "our LAC Address in USER_MOVED; 0.0.0.0: the interface's"),
	CONF_UINT("ttl", struct lacd_conf_handoff, ttl, .dflt = "1", .umin = 1, .umax = 255,
		  .help = "multicast TTL of USER_MOVED"),
	CONF_DURATION("hold_time", struct lacd_conf_handoff, hold_time, .dflt = "30s",
		      .umin = 1000, .umax = 65535000,
		      .help = "Hold Time told in USER_MOVED (the LNS's park time)"),
	CONF_DURATION("challenge_timeout", struct lacd_conf_handoff, challenge_timeout,
		      .dflt = "1s", .umin = 100, .umax = 60000,
		      .help = "CHAP re-challenge of an arriving mobile repeated after this"),
	CONF_UINT("challenge_retries", struct lacd_conf_handoff, challenge_retries, .dflt = "3",
		  .umin = 0, .umax = 20, .help = "re-challenges before a fresh call instead"),
	CONF_PATH("key_file", struct lacd_conf_handoff, key_file,
		  .help = "LAC group keys: lines 'ID HEX' (current first, previous second); 0600"),
};

static int lacd_handoff_check(const void *obj, const char **key, char *msg, size_t msglen)
{
	const struct lacd_conf_handoff *c = obj;
	if (c->group.family != AF_INET || !roam_ipaddr_is_multicast(&c->group)) {
		*key = "group";
		snprintf(msg, msglen, "an IPv4 multicast address");
		return -1;
	}
	if (c->address.family != AF_INET) {
		*key = "address";
		snprintf(msg, msglen, "an IPv4 address");
		return -1;
	}
	if (c->enabled && (!c->key_file || !c->key_file[0])) {
		*key = "key_file";
		snprintf(msg, msglen, "required when the handoff is enabled");
		return -1;
	}
	return 0;
}

static const struct conf_schema lacd_handoff_schema = CONF_SCHEMA(struct lacd_conf_handoff,
								  lacd_handoff_fields,
								  .check = lacd_handoff_check);

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

/* radius: (aaa.c, docs/protocols/radius.md) */
static const struct conf_field lacd_radius_fields[] = {
	CONF_LIST_OF("servers", struct lacd_conf_radius, servers, nservers,
		     CONF_ELEM(CONF_T_SOCKADDR, struct roam_sockaddr, .port = RADIUS_PORT),
		     .dflt = "[]", .umax = RADIUS_SERVERS_MAX,
		     .help = "RADIUS servers host[:port] (1812), tried in order; none: static table"),
	CONF_SECRET("secret", struct lacd_conf_radius, secret, .umin = 1,
		    .umax = RADIUS_SECRET_MAX,
		    .help = "shared secret, inline or file:/path (mode 0600)"),
	CONF_SECRET("password", struct lacd_conf_radius, password, .umin = 1,
		    .umax = RADIUS_PASSWORD_MAX,
		    .help = "User-Password sent for every mobile; absent: none"),
	CONF_STRING("nas_identifier", struct lacd_conf_radius, nas_identifier, .dflt = "",
		    .umax = RADIUS_ATTR_VALUE_MAX, .help = "NAS-Identifier; empty: host_name"),
	CONF_ADDR("nas_ip_address", struct lacd_conf_radius, nas_ip_address,
		  .help = "NAS-IP-Address (IPv4) and source address of the requests"),
	CONF_DURATION("timeout", struct lacd_conf_radius, timeout, .dflt = "1s", .umin = 100,
		      .umax = 60000, .help = "wait this long for an answer before retransmitting"),
	CONF_UINT("retries", struct lacd_conf_radius, retries, .dflt = "2", .umin = 0,
		  .umax = 10, .help = "retransmissions per server before the next one"),
};

static int lacd_radius_check(const void *obj, const char **key, char *msg, size_t msglen)
{
	const struct lacd_conf_radius *r = obj;
	if (r->nservers && !r->secret.len) {
		*key = "secret";
		snprintf(msg, msglen, "required with servers");
		return -1;
	}
	if (r->nas_ip_address.family && r->nas_ip_address.family != AF_INET) {
		*key = "nas_ip_address";
		snprintf(msg, msglen, "an IPv4 address (NAS-IP-Address)");
		return -1;
	}
	return 0;
}

static const struct conf_schema lacd_radius_schema = CONF_SCHEMA(struct lacd_conf_radius,
								 lacd_radius_fields,
								 .check = lacd_radius_check);

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
	CONF_MAP("radius", struct lacd_conf, radius, &lacd_radius_schema,
		 .help = "the LNS of a MIN from RADIUS (docs/protocols/radius.md)"),
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

/* After the schema: the handoff group keys (handoff.c).  On error c is freed. */
static int lacd_conf_keys(struct lacd_conf *c, const char *path, int print, char *err,
			  size_t errlen)
{
	char e[512];
	if (lacd_ho_keys_load(c, path, e, sizeof(e)) == 0)
		return 0;
	if (print)
		fprintf(stderr, "%s\n", e);
	else
		log_warnx("%s", e);
	if (err && errlen)
		snprintf(err, errlen, "%s", e);
	lacd_conf_free(c);
	return -EINVAL;
}

int lacd_conf_load(struct lacd_conf *c, const char *path, int print, char *err, size_t errlen)
{
	int r = conf_load_report(path, NULL, &lacd_conf_schema, c,
				 print ? CONF_REPORT_STDERR : CONF_REPORT_LOG, err, errlen);
	return r < 0 ? r : lacd_conf_keys(c, path, print, err, errlen);
}

int lacd_conf_load_string(struct lacd_conf *c, const char *text, char *err, size_t errlen)
{
	int r = conf_load_report("<string>", text, &lacd_conf_schema, c, CONF_REPORT_LOG, err,
				 errlen);
	return r < 0 ? r : lacd_conf_keys(c, "<string>", 0, err, errlen);
}

void lacd_conf_free(struct lacd_conf *c)
{
	for (size_t i = 0; i < LACD_HO_KEYS_MAX; i++)
		auth_key_wipe(&c->handoff.keys[i].key);
	c->handoff.nkeys = 0;
	conf_free(&lacd_conf_schema, c);
}
