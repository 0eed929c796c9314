/* The `sip:` section of mnd.yaml and cnd.yaml (mnd.yaml(5), cnd.yaml(5)). */
#include <stdio.h>
#include <string.h>

#include "roam/sip_ua.h"

static int sip_conf_check(const void *obj, const char **key, char *msg, size_t msglen)
{
	const struct sip_agent_conf *c = obj;
	if (!c->aor)
		return 0;
	const char *at = strchr(c->aor, '@');
	if (strncmp(c->aor, "sip:", 4) != 0 || !at || at == c->aor + 4 || !at[1] ||
	    strpbrk(c->aor, " <>;\"")) {
		*key = "aor";
		snprintf(msg, msglen, "not a sip:user@domain address-of-record");
		return -1;
	}
	if (c->auto_call[0] && strncmp(c->auto_call, "sip:", 4) != 0) {
		*key = "auto_call";
		snprintf(msg, msglen, "not a sip: URI");
		return -1;
	}
	if (c->media.port + 2 * SIP_MAX_CALLS > 65535 || (c->media.port & 1)) {
		*key = "media.port";
		snprintf(msg, msglen, "an even port, at most %d", 65535 - 2 * SIP_MAX_CALLS);
		return -1;
	}
	if (strlen(c->interface) >= 16) {
		*key = "interface";
		snprintf(msg, msglen, "interface names have at most 15 characters");
		return -1;
	}
	return 0;
}

static const struct conf_field sip_media_fields[] = {
	CONF_UINT("port", struct sip_agent_media_conf, port, .dflt = "16384", .umin = 1024,
		  .umax = 65534, .help = "first RTP port (even); call i uses port + 2i"),
	CONF_UINT("rate", struct sip_agent_media_conf, rate, .dflt = "50", .umin = 1,
		  .umax = 1000, .help = "RTP packets per second sent"),
	CONF_UINT("payload_size", struct sip_agent_media_conf, payload_size, .dflt = "160",
		  .umin = 0, .umax = 1400, .help = "RTP payload bytes"),
};
static const struct conf_schema sip_media_schema = CONF_SCHEMA(struct sip_agent_media_conf,
							       sip_media_fields);

static const struct conf_field sip_agent_fields[] = {
	CONF_STRING("aor", struct sip_agent_conf, aor, .flags = CONF_F_REQUIRED, .umin = 7,
		    .umax = 120, .help = "address-of-record, sip:user@domain"),
	CONF_STRING("user", struct sip_agent_conf, user, .dflt = "", .umax = 64,
		    .help = "digest user name; empty: the AOR's user part"),
	CONF_SECRET("password", struct sip_agent_conf, password, .umin = 1, .umax = 128,
		    .help = "digest password, inline or file:/path; absent: no credentials"),
	CONF_LIST_OF("servers", struct sip_agent_conf, servers, nservers,
		     CONF_ELEM(CONF_T_SOCKADDR, struct roam_sockaddr, .port = 5060),
		     .dflt = "[]", .umax = SIP_MAX_SERVERS,
		     .help = "registrars (address[:port]); the first is also the outbound proxy"),
	CONF_STRING("interface", struct sip_agent_conf, interface, .dflt = "", .umax = 15,
		    .help = "interface whose IPv4 address is the contact address"),
	CONF_ADDR("address", struct sip_agent_conf, address, .flags = CONF_F_V4,
		  .help = "fixed contact address (instead of interface)"),
	CONF_UINT("local_port", struct sip_agent_conf, local_port, .dflt = "5060", .umin = 1,
		  .umax = 65535, .help = "local SIP UDP port"),
	CONF_UINT("expires", struct sip_agent_conf, expires, .dflt = "3600", .umin = 10,
		  .umax = 86400, .help = "registration lifetime asked for, seconds"),
	CONF_BOOL("nat_continuity", struct sip_agent_conf, nat_continuity, .dflt = "false",
		  .help = "claim the previous address on re-REGISTER (sip-mobility.md part 4)"),
	CONF_STRING("auto_call", struct sip_agent_conf, auto_call, .dflt = "", .umax = 200,
		    .help = "URI to call once registered; empty: none"),
	CONF_MAP("media", struct sip_agent_conf, media, &sip_media_schema,
		 .help = "the RTP stream the agent sends and receives"),
};

const struct conf_schema sip_agent_conf_schema = CONF_SCHEMA(struct sip_agent_conf,
							     sip_agent_fields,
							     .check = sip_conf_check);
