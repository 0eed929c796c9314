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
	CONF_BOOL("enabled", struct lnsd_conf_handoff, enabled, .dflt = "yes",
		  .help = "park calls the LAC hands off and resume them on the next LAC's tunnel"),
	CONF_DURATION("hold_time", struct lnsd_conf_handoff, hold_time, .dflt = "30s",
		      .umin = 1000, .umax = 3600000, .help = "how long a parked call is kept"),
	/* Sized for the handoff time: the park lasts from the CDN to the resume (about
	 * 200 ms in etc/topologies/l2tp-handoff.yml, a tunnel set-up and two round trips over
	 * the core), so the default covers about 1 s at 4,000 packets/s, bounded in bytes. */
	CONF_UINT("buffer", struct lnsd_conf_handoff, buffer, .dflt = "4096", .umin = 0,
		  .umax = 65536, .help = "packets for a parked mobile kept and sent on resume; "
					 "0: dropped (counted)"),
	CONF_SIZE("buffer_bytes", struct lnsd_conf_handoff, buffer_bytes, .dflt = "2MiB",
		  .umin = 0, .umax = 64u << 20,
		  .help = "bytes of IP packets kept per parked call at most (with buffer)"),
	CONF_DURATION("resend_window", struct lnsd_conf_handoff, resend_window, .dflt = "250ms",
		      .umin = 0, .umax = 5000,
		      .help = "sent packets kept this long; those the old LAC did not receive "
			      "before its handoff CDN are sent again on resume (0: none)"),
	CONF_UINT("resume_rate", struct lnsd_conf_handoff, resume_rate, .dflt = "8000",
		  .umin = 100, .umax = 10000000,
		  .help = "packets/s at most of the buffered packets sent on resume (on top of "
			  "the mobile's own traffic, which queues behind them)"),
	/* A string rather than a path: the empty string (the default, so that test and demo
	 * instances sharing a host never read each other's file) disables snapshots; the
	 * installed lnsd.yaml sets /var/lib/roam/lnsd.snap. */
	CONF_STRING("snapshot", struct lnsd_conf_handoff, snapshot, .dflt = "", .umax = 4095,
		    .help = "state file of the parked calls; empty string: not kept"),
	CONF_DURATION("snapshot_interval", struct lnsd_conf_handoff, snapshot_interval,
		      .dflt = "10s", .umin = 1000, .umax = 3600000,
		      .help = "period of the snapshot save (written only when parked calls "
			      "changed)"),
};

static const struct conf_schema lnsd_handoff_schema = CONF_SCHEMA(struct lnsd_conf_handoff,
								  lnsd_handoff_fields);

static const char *const lnsd_auth_names[] = { "none", "pap", "chap", "any", NULL };

static const struct conf_field lnsd_ppp_fields[] = {
	CONF_BOOL("enabled", struct lnsd_conf_ppp, enabled, .dflt = "no",
		  .help = "terminate the mobiles' PPP here (needs a TUN device)"),
	CONF_ENUM("auth", struct lnsd_conf_ppp, auth, lnsd_auth_names, .dflt = "any",
		  .help = "authentication demanded: none, pap, chap or any (CHAP preferred)"),
	CONF_SECRET("credentials", struct lnsd_conf_ppp, credentials, .umax = 1048576,
		    .help = "\"name secret\" lines for PAP/CHAP (inline or file:/path)"),
	CONF_STRING("name", struct lnsd_conf_ppp, name, .dflt = "lnsd", .umin = 1,
		    .umax = PPP_NAME_MAX, .help = "our CHAP name"),
	CONF_ADDR("local_address", struct lnsd_conf_ppp, local_address, .dflt = "10.64.0.1",
		  .help = "our IPCP address (also put on the TUN device)"),
	CONF_PREFIX("pool", struct lnsd_conf_ppp, pool, .dflt = "10.64.0.0/24",
		    .help = "IPv4 addresses handed out by IPCP (prefix length 16..30)"),
	CONF_ADDR("dns1", struct lnsd_conf_ppp, dns1, .help = "primary DNS server handed out"),
	CONF_ADDR("dns2", struct lnsd_conf_ppp, dns2, .help = "secondary DNS server handed out"),
	CONF_STRING("tun", struct lnsd_conf_ppp, tun, .dflt = "lns0", .umin = 1, .umax = 15,
		    .help = "TUN device name"),
	CONF_UINT("mtu", struct lnsd_conf_ppp, mtu, .dflt = "1400", .umin = 576, .umax = 4096,
		  .help = "MTU of the TUN device"),
	CONF_DURATION("echo_interval", struct lnsd_conf_ppp, echo_interval, .dflt = "10s",
		      .umin = 0, .umax = 3600000, .help = "LCP Echo-Request period; 0: none"),
};

static int lnsd_ppp_check(const void *obj, const char **key, char *msg, size_t msglen)
{
	const struct lnsd_conf_ppp *p = obj;
	if (p->pool.addr.family != AF_INET || p->pool.len < 16 || p->pool.len > 30) {
		*key = "pool";
		snprintf(msg, msglen, "an IPv4 prefix of length 16..30");
		return -1;
	}
	if (p->local_address.family != AF_INET) {
		*key = "local_address";
		snprintf(msg, msglen, "an IPv4 address");
		return -1;
	}
	if (p->enabled && p->auth != LNSD_AUTH_NONE && !p->credentials.len) {
		*key = "credentials";
		snprintf(msg, msglen, "authentication needs credentials");
		return -1;
	}
	return 0;
}

static const struct conf_schema lnsd_ppp_schema = CONF_SCHEMA(struct lnsd_conf_ppp,
							      lnsd_ppp_fields,
							      .check = lnsd_ppp_check);

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
	CONF_MAP("ppp", struct lnsd_conf, ppp, &lnsd_ppp_schema,
		 .help = "PPP termination (docs/protocols/ppp.md)"),
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
