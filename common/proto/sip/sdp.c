/* The SDP of roam's SIP agents (RFC 4566, offer/answer RFC 3264): one audio stream, PCMU. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roam/sip_ua.h"

int sip_sdp_build(char *buf, size_t len, const struct roam_ipaddr *addr, uint16_t port,
		  uint64_t sess_id, uint64_t version)
{
	char a[ROAM_ADDRSTRLEN];
	const char *fam = addr->family == AF_INET6 ? "IP6" : "IP4";
	roam_ipaddr_fmt(addr, a, sizeof(a));
	int n = snprintf(buf, len,
			 "v=0\r\n"
			 "o=roam %" PRIu64 " %" PRIu64 " IN %s %s\r\n"
			 "s=roam\r\n"
			 "c=IN %s %s\r\n"
			 "t=0 0\r\n"
			 "m=audio %u RTP/AVP 0\r\n"
			 "a=rtpmap:0 PCMU/8000\r\n"
			 "a=sendrecv\r\n",
			 sess_id, version, fam, a, fam, a, (unsigned)port);
	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	return n;
}

/* "c=IN IP4 addr" (a multicast TTL suffix "/ttl" is cut) */
static int parse_c(const char *v, size_t n, struct roam_ipaddr *out)
{
	char tmp[80];
	if (n >= sizeof(tmp))
		return -EBADMSG;
	memcpy(tmp, v, n);
	tmp[n] = 0;
	char *sp1 = NULL, *net = strtok_r(tmp, " ", &sp1), *fam = strtok_r(NULL, " ", &sp1),
	     *addr = strtok_r(NULL, " ", &sp1);
	if (!net || !fam || !addr || strcmp(net, "IN") != 0)
		return -EBADMSG;
	char *slash = strchr(addr, '/');
	if (slash)
		*slash = 0;
	if (roam_ipaddr_parse(addr, out) < 0)
		return -EBADMSG;
	if ((strcmp(fam, "IP4") == 0) != (out->family == AF_INET))
		return -EBADMSG;
	return 0;
}

int sip_sdp_parse(const char *body, size_t len, struct roam_sockaddr *media)
{
	struct roam_ipaddr sess = { 0 }, med = { 0 };
	long port = -1;
	bool in_audio = false, audio_seen = false;
	size_t i = 0;
	while (i < len) {
		size_t e = i;
		while (e < len && body[e] != '\n' && body[e] != '\r')
			e++;
		const char *l = body + i;
		size_t n = e - i;
		if (n >= 2 && l[1] == '=') {
			if (l[0] == 'm') {
				in_audio = false;
				if (!audio_seen && n > 8 && strncmp(l + 2, "audio ", 6) == 0) {
					char num[8] = { 0 };
					size_t k = 0;
					for (size_t j = 8; j < n && l[j] >= '0' && l[j] <= '9' &&
					     k < sizeof(num) - 1; j++)
						num[k++] = l[j];
					if (k == 0)
						return -EBADMSG;
					port = strtol(num, NULL, 10);
					if (port < 0 || port > 65535)
						return -EBADMSG;
					in_audio = audio_seen = true;
				}
			} else if (l[0] == 'c') {
				struct roam_ipaddr a;
				if (parse_c(l + 2, n - 2, &a) < 0)
					return -EBADMSG;
				if (in_audio)
					med = a;
				else if (!audio_seen)
					sess = a;
			}
		}
		i = e;
		while (i < len && (body[i] == '\r' || body[i] == '\n'))
			i++;
	}
	if (!audio_seen || port < 0)
		return -EBADMSG;
	const struct roam_ipaddr *a = med.family ? &med : &sess;
	if (!a->family)
		return -EBADMSG;
	return roam_sockaddr_set(media, a, (uint16_t)port);
}
