/* SIP user agent core (roam/sip_ua.h): the first byte picks the part.
 *   0: sip_ua_input on a UA that has a registration, an outgoing call ringing and an answered
 *      incoming call (so that responses, in-dialog requests and ACKs meet live state), then its
 *      timers for 40 s of fake time; nothing a peer sends may crash it or leave a call slot
 *      half-made.
 *   1: sip_sdp_parse; a success names a family and a port, and sip_sdp_build of that address
 *      parses back to the same media address.
 *   2: sip_rtp_decode; a success re-encodes (no CSRC, no extension) to the same 12 bytes, and
 *      the receive statistics take it. */
#include <errno.h>

#include "fuzz.h"
#include "roam/sip_ua.h"

static int f_send(void *arg, const struct roam_sockaddr *dst, const char *buf, size_t len)
{
	(void)arg, (void)dst, (void)buf, (void)len;
	return 0;
}

static void f_event(void *arg, struct sip_call *c, enum sip_call_event ev)
{
	(void)arg, (void)c, (void)ev;
}

static const struct sip_ua_io io = { .send = f_send, .call_event = f_event };

static const char INVITE[] =
	"INVITE sip:mn@10.0.1.10:5060 SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKf1\r\n"
	"Record-Route: <sip:192.0.2.1:5060;lr>\r\n"
	"From: <sip:cn@roam.example>;tag=cntag\r\nTo: <sip:mn@roam.example>\r\n"
	"Call-ID: fz@10.0.3.2\r\nCSeq: 7 INVITE\r\nContact: <sip:cn@10.0.3.2:5060>\r\n"
	"Content-Type: application/sdp\r\nContent-Length: 56\r\n\r\n"
	"v=0\r\nc=IN IP4 10.0.3.2\r\nt=0 0\r\nm=audio 20000 RTP/AVP 0\r\n";

static void fuzz_ua(const uint8_t *d, size_t n)
{
	struct roam_sockaddr srv, src;
	struct sip_ua *ua;
	struct roam_ipaddr a;
	struct sip_call *c;
	roam_sockaddr_parse("192.0.2.1:5060", 5060, &srv);
	src = srv;
	struct sip_ua_params p = { .aor = "sip:mn@roam.example", .password = "pw",
				   .servers = &srv, .nservers = 1, .expires = 60,
				   .nat_continuity = true, .io = &io };
	FUZZ_CHECK(sip_ua_new(&p, &ua) == 0, "sip_ua_new");
	roam_ipaddr_parse("10.0.1.10", &a);
	sip_ua_set_address(ua, &a, 0);
	sip_ua_register(ua, 60, 0);
	FUZZ_CHECK(sip_ua_call(ua, "sip:cn@roam.example", 0, &c) == 0, "sip_ua_call");
	sip_ua_input(ua, INVITE, sizeof(INVITE) - 1, &src, 0);
	/* the input, whole and as two datagrams */
	sip_ua_input(ua, d, n, &src, 10);
	sip_ua_input(ua, d, n / 2, &src, 20);
	sip_ua_input(ua, d + n / 2, n - n / 2, &src, 30);
	roam_ipaddr_parse("10.0.2.10", &a);
	sip_ua_set_address(ua, &a, 100);
	sip_ua_input(ua, d, n, &src, 200);
	for (uint64_t t = 250; t < 40000; t += 250)
		sip_ua_tick(ua, t);
	for (unsigned i = 0; i < SIP_MAX_CALLS; i++) {
		struct sip_call *k = sip_ua_call_at(ua, i);
		FUZZ_CHECK(!k || k->state == SIP_CALL_CALLING || k->state == SIP_CALL_CONFIRMED,
			   "call slot %u in state %d", i, (int)(k ? k->state : 0));
	}
	sip_ua_free(ua);
}

static void fuzz_sdp(const uint8_t *d, size_t n)
{
	struct roam_sockaddr m, m2;
	struct roam_ipaddr a;
	uint16_t port;
	char b[512];
	if (sip_sdp_parse((const char *)d, n, &m) < 0)
		return;
	FUZZ_CHECK(roam_sockaddr_addr(&m, &a, &port) == 0, "media address unusable");
	int len = sip_sdp_build(b, sizeof(b), &a, port, 1, 1);
	FUZZ_CHECK(len > 0, "build");
	FUZZ_CHECK(sip_sdp_parse(b, (size_t)len, &m2) == 0 && roam_sockaddr_eq(&m, &m2),
		   "built SDP does not parse back");
}

static void fuzz_rtp(const uint8_t *d, size_t n)
{
	struct sip_rtp_hdr h;
	struct sip_rtp_rx rx = { 0 };
	struct roam_sockaddr src = { 0 };
	size_t off;
	uint8_t b[SIP_RTP_HDR];
	if (sip_rtp_decode(d, n, &h, &off) < 0)
		return;
	FUZZ_CHECK(off >= SIP_RTP_HDR && off <= n, "payload offset %zu of %zu", off, n);
	if ((d[0] & 0x3f) == 0) {
		FUZZ_CHECK(sip_rtp_encode(&h, 0, b, sizeof(b)) == SIP_RTP_HDR &&
			   memcmp(b, d, SIP_RTP_HDR) == 0, "header round trip");
	}
	sip_rtp_rx_account(&rx, &h, &src, 1);
	sip_rtp_rx_account(&rx, &h, &src, 2);
	FUZZ_CHECK(rx.received == 2 && sip_rtp_rx_lost(&rx) == 0, "one packet twice");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int quiet;
	if (!quiet) {
		log_setlevel(LOG_LVL_ERR);
		quiet = 1;
	}
	if (size < 1 || size > 8192)
		return 0;
	switch (data[0] % 3) {
	case 0: fuzz_ua(data + 1, size - 1); break;
	case 1: fuzz_sdp(data + 1, size - 1); break;
	default: fuzz_rtp(data + 1, size - 1); break;
	}
	return 0;
}
