/* sipd.yaml schema (sipd.yaml(5)). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sipd.h"

static const char *const sipd_algorithms[] = { "md5", "sha-256", NULL };
static const char *const sipd_log_levels[] = { "error", "warning", "info", "debug", NULL };
static const char *const sipd_transports[] = { "udp", "tcp", NULL };

static const struct conf_field sipd_route_fields[] = {
	CONF_STRING("domain", struct sipd_route, domain, .flags = CONF_F_REQUIRED, .umin = 1,
		    .umax = 253, .help = "Request-URI host this route applies to"),
	CONF_SOCKADDR("next_hop", struct sipd_route, next_hop, .flags = CONF_F_REQUIRED,
		      .port = 5060, .help = "address (and port, default 5060) of the next hop"),
	CONF_ENUM("transport", struct sipd_route, transport, sipd_transports, .dflt = "udp",
		  .help = "udp or tcp"),
};
static const struct conf_schema sipd_route_schema = CONF_SCHEMA(struct sipd_route,
								  sipd_route_fields);

static const struct conf_field sipd_nat_peer_fields[] = {
	CONF_STRING("name", struct sipd_nat_peer_conf, name, .flags = CONF_F_REQUIRED, .umin = 1,
		    .umax = 32, .help = "the peer's nat_node: the key id of its messages"),
	CONF_SOCKADDR("address", struct sipd_nat_peer_conf, address, .flags = CONF_F_REQUIRED,
		      .port = 5060, .help = "where the peer's sipd listens (UDP), port default 5060"),
	CONF_SECRET("secret", struct sipd_nat_peer_conf, secret, .flags = CONF_F_REQUIRED,
		    .umin = 16, .umax = 64, .help = "HMAC-SHA256 key shared with that peer (16-64 "
		    "bytes), normally file:/path"),
	CONF_BOOL("notify", struct sipd_nat_peer_conf, notify, .dflt = "true",
		  .help = "send this peer the moves of our mobiles"),
};
static const struct conf_schema sipd_nat_peer_schema = CONF_SCHEMA(struct sipd_nat_peer_conf,
								     sipd_nat_peer_fields);

static int sipd_conf_check(const void *obj, const char **key, char *msg, size_t msglen)
{
	const struct sipd_conf *c = obj;
	if (!c->udp && !c->tcp) {
		*key = "udp";
		snprintf(msg, msglen, "at least one of udp and tcp must be enabled");
		return -1;
	}
	if (c->min_expires > c->max_expires) {
		*key = "min_expires";
		snprintf(msg, msglen, "larger than max_expires");
		return -1;
	}
	if (c->default_expires < c->min_expires || c->default_expires > c->max_expires) {
		*key = "default_expires";
		snprintf(msg, msglen, "must lie between min_expires and max_expires");
		return -1;
	}
	if (c->ndigest_algorithms == 2 && c->digest_algorithms[0] == c->digest_algorithms[1]) {
		*key = "digest_algorithms";
		snprintf(msg, msglen, "an algorithm is listed twice");
		return -1;
	}
	if (c->authenticate_invite && !c->credentials.data) {
		*key = "authenticate_invite";
		snprintf(msg, msglen, "needs credentials");
		return -1;
	}
	for (size_t i = 0; i < c->nroutes; i++)
		for (size_t j = 0; j < i; j++)
			if (strcasecmp(c->routes[i].domain, c->routes[j].domain) == 0) {
				*key = "routes";
				snprintf(msg, msglen, "domain %s is listed twice", c->routes[i].domain);
				return -1;
			}
	if (c->nnat_peers > 0 && (!c->nat_node || !*c->nat_node)) {
		*key = "nat_node";
		snprintf(msg, msglen, "required with nat_peers");
		return -1;
	}
	for (size_t i = 0; i < c->nnat_peers; i++) {
		for (const char *p = c->nat_peers[i].name; *p; p++)
			if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.')) {
				*key = "nat_peers";
				snprintf(msg, msglen, "name %s: letters, digits, - _ . only",
					 c->nat_peers[i].name);
				return -1;
			}
		for (size_t j = 0; j < i; j++)
			if (strcmp(c->nat_peers[i].name, c->nat_peers[j].name) == 0) {
				*key = "nat_peers";
				snprintf(msg, msglen, "peer %s is listed twice", c->nat_peers[i].name);
				return -1;
			}
	}
	for (const char *p = c->nat_node ? c->nat_node : ""; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.')) {
			*key = "nat_node";
			snprintf(msg, msglen, "letters, digits, - _ . only");
			return -1;
		}
	if (c->authentication && !c->credentials.data) {
		*key = "credentials";
		snprintf(msg, msglen, "required when authentication is on");
		return -1;
	}
	if (c->authentication && c->credentials.data) {
		struct sipd_creds cs;
		char err[200] = "";
		if (sipd_creds_parse(&cs, (const char *)c->credentials.data, c->credentials.len, err,
				     sizeof(err)) < 0) {
			*key = "credentials";
			snprintf(msg, msglen, "%s", err[0] ? err : "cannot be parsed");
			return -1;
		}
		sipd_creds_free(&cs);
	}
	return 0;
}

static const struct conf_field sipd_fields[] = {
	CONF_LIST_OF("listen", struct sipd_conf, listen, nlisten,
		     CONF_ELEM(CONF_T_SOCKADDR, struct roam_sockaddr, .port = 5060),
		     .dflt = "[\"0.0.0.0:5060\", \"[::]:5060\"]", .umin = 1, .umax = SIPD_MAX_LISTEN,
		     .help = "addresses (and ports, default 5060) to listen on"),
	CONF_BOOL("udp", struct sipd_conf, udp, .dflt = "true", .help = "listen on UDP"),
	CONF_BOOL("tcp", struct sipd_conf, tcp, .dflt = "true", .help = "listen on TCP"),
	CONF_LIST_OF("domains", struct sipd_conf, domains, ndomains,
		     CONF_ELEM(CONF_T_STRING, char *, .umin = 1, .umax = 253), .dflt = "[]",
		     .umax = 1024, .help = "domains served; empty: any"),
	CONF_STRING("realm", struct sipd_conf, realm, .dflt = "roam", .umin = 1, .umax = 128,
		    .help = "digest realm"),
	CONF_BOOL("authentication", struct sipd_conf, authentication, .dflt = "true",
		  .help = "require digest authentication of REGISTER"),
	CONF_LIST_OF("digest_algorithms", struct sipd_conf, digest_algorithms, ndigest_algorithms,
		     CONF_ELEM(CONF_T_ENUM, int, .names = sipd_algorithms),
		     .dflt = "[sha-256, md5]", .umin = 1, .umax = 2,
		     .help = "challenges offered in a 401, in this order"),
	CONF_SECRET("credentials", struct sipd_conf, credentials, .umin = 1, .umax = 256u << 20,
		    .help = "credentials text, normally file:/path (see sipd.yaml(5))"),
	CONF_DURATION("nonce_lifetime", struct sipd_conf, nonce_lifetime, .dflt = "300s",
		      .umin = 1000, .umax = 86400000, .help = "nonces older than this are stale"),
	CONF_DURATION("min_expires", struct sipd_conf, min_expires, .dflt = "60s", .umin = 1000,
		      .umax = 86400000, .help = "shorter registrations get 423"),
	CONF_DURATION("max_expires", struct sipd_conf, max_expires, .dflt = "3600s", .umin = 1000,
		      .umax = 604800000, .help = "longer registrations are granted this"),
	CONF_DURATION("default_expires", struct sipd_conf, default_expires, .dflt = "3600s",
		      .umin = 1000, .umax = 604800000, .help = "when a REGISTER gives none"),
	CONF_UINT("max_contacts", struct sipd_conf, max_contacts, .dflt = "10", .umin = 1,
		  .umax = 64, .help = "bindings per address-of-record"),
	CONF_UINT("max_bindings", struct sipd_conf, max_bindings, .dflt = "1000000", .umin = 1,
		  .umax = 100000000, .help = "bindings in all"),
	CONF_UINT("max_nonces", struct sipd_conf, max_nonces, .dflt = "100000", .umin = 1,
		  .umax = 100000000, .help = "nonces in use with nc tracking"),
	CONF_UINT("max_transactions", struct sipd_conf, max_transactions, .dflt = "65536",
		  .umin = 1, .umax = 10000000, .help = "responses kept for retransmissions"),
	CONF_SIZE("max_message_size", struct sipd_conf, max_message_size, .dflt = "64KiB",
		  .umin = 1024, .umax = 65536, .help = "larger messages are dropped"),
	CONF_BOOL("authenticate_invite", struct sipd_conf, authenticate_invite, .dflt = "false",
		  .help = "challenge (407) INVITEs whose From is a user of a served domain"),
	CONF_BOOL("record_route", struct sipd_conf, record_route, .dflt = "true",
		  .help = "insert Record-Route in INVITE, SUBSCRIBE and REFER"),
	CONF_STRING("advertise", struct sipd_conf, advertise, .dflt = "", .umax = 260,
		    .help = "host[:port] put in Via and Record-Route; empty: the listen address"),
	CONF_LIST("routes", struct sipd_conf, routes, nroutes, &sipd_route_schema, .dflt = "[]",
		  .umax = 1024, .help = "static next hops for other domains"),
	CONF_UINT("max_proxy_transactions", struct sipd_conf, max_proxy_transactions,
		  .dflt = "65536", .umin = 1, .umax = 10000000,
		  .help = "proxy transactions in progress; more get 503"),
	CONF_UINT("tcp_max_connections", struct sipd_conf, tcp_max_connections, .dflt = "1024",
		  .umin = 1, .umax = 1000000, .help = "more TCP connections are refused"),
	CONF_DURATION("tcp_idle_timeout", struct sipd_conf, tcp_idle_timeout, .dflt = "300s",
		      .umin = 1000, .umax = 86400000, .help = "idle TCP connections are closed"),
	CONF_PATH("control_socket", struct sipd_conf, control_socket, .flags = CONF_F_ABSOLUTE,
		  .dflt = "/run/roam/sipd.sock", .help = "control socket path"),
	CONF_STRING("snapshot", struct sipd_conf, snapshot, .dflt = "/var/lib/roam/sipd.snap",
		    .umax = 4095, .help = "state file; empty string: no snapshots"),
	CONF_DURATION("snapshot_interval", struct sipd_conf, snapshot_interval, .dflt = "60s",
		      .umin = 1000, .umax = 86400000, .help = "how often the state file is written"),
	CONF_STRING("user", struct sipd_conf, user, .dflt = "", .umax = 64,
		    .help = "run as this user after start-up; empty: stay"),
	CONF_ENUM("log_level", struct sipd_conf, log_level, sipd_log_levels, .dflt = "info",
		  .help = "error, warning, info or debug"),
	CONF_BOOL("nat_continuity", struct sipd_conf, nat_continuity, .dflt = "false",
		  .help = "support x-roam-nat-continuity: translation pairs on the co-located router"),
	CONF_DURATION("nat_grace", struct sipd_conf, nat_grace, .dflt = "300s", .umin = 0,
		      .umax = 86400000,
		      .help = "a dropped binding's address stays claimable this long"),
	CONF_LIST_OF("nat_networks", struct sipd_conf, nat_networks, nnat_networks,
		     CONF_ELEM(CONF_T_PREFIX, struct roam_prefix), .dflt = "[]", .umax = 256,
		     .help = "networks of the co-located router: a NEW inside is the new-hop role"),
	CONF_STRING("nat_node", struct sipd_conf, nat_node, .dflt = "", .umax = 32,
		    .help = "our key id in peer messages"),
	CONF_LIST("nat_peers", struct sipd_conf, nat_peers, nnat_peers, &sipd_nat_peer_schema,
		  .dflt = "[]", .umax = 64, .help = "servers we exchange notifications with"),
	CONF_DURATION("nat_peer_window", struct sipd_conf, nat_peer_window, .dflt = "30s",
		      .umin = 1000, .umax = 3600000,
		      .help = "peer message timestamps must be within this of our clock"),
	CONF_UINT("nat_max_pairs", struct sipd_conf, nat_max_pairs, .dflt = "512", .umin = 1,
		  .umax = 4096, .help = "translation pairs installed at most"),
	CONF_STRING("nat_table_owner", struct sipd_conf, nat_table_owner, .dflt = "sipd",
		    .umin = 1, .umax = 32, .help = "nftables table inet roam_<owner>"),
};

const struct conf_schema sipd_conf_schema = CONF_SCHEMA(struct sipd_conf, sipd_fields,
							.check = sipd_conf_check);

int sipd_conf_load(struct sipd_conf *c, const char *path, int print, char *err, size_t errlen)
{
	return conf_load_report(path, NULL, &sipd_conf_schema, c,
				print ? CONF_REPORT_STDERR : CONF_REPORT_LOG, err, errlen);
}

int sipd_conf_load_string(struct sipd_conf *c, const char *text, char *err, size_t errlen)
{
	return conf_load_report("<test>", text, &sipd_conf_schema, c, CONF_REPORT_LOG, err, errlen);
}

void sipd_conf_free(struct sipd_conf *c)
{
	conf_free(&sipd_conf_schema, c);
}
