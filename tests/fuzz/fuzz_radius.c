/* RADIUS codec and client (roam/radius.h, docs/protocols/radius.md): radius_pkt_decode on
 * arbitrary bytes; a decoded packet re-encodes to exactly its Length octets; the tunnel
 * attributes, the password unhiding and the authenticator checks never fail other than with
 * their documented errors; and the bytes are fed, as an answer, to a client with one pending
 * request (whose Identifier is patched in so that the matching path is reached): the client
 * must drop it (it cannot carry the right authenticators) and keep the request pending. */
#include <errno.h>

#include "fuzz.h"
#include "roam/radius.h"

#define SECRET "xyzzy5461"

static int ndone;

static void tx(void *arg, const struct roam_sockaddr *dst, const uint8_t *pkt, size_t len)
{
	(void)arg, (void)dst;
	FUZZ_CHECK(len >= RADIUS_HDR_LEN && len <= RADIUS_MAX_LEN, "request of %zu octets", len);
	static struct radius_pkt p;
	FUZZ_CHECK(radius_pkt_decode(pkt, len, &p, NULL) == 0, "our request does not decode");
}

static void done(void *arg, void *user, enum radius_result res, const struct radius_pkt *resp,
		 const uint8_t *req_auth)
{
	(void)arg, (void)user, (void)resp, (void)req_auth;
	if (res != RADIUS_RESULT_CANCELLED)
		ndone++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct radius_pkt p, q;
	static struct radius_tunnel t[RADIUS_TUNNELS_MAX];
	static const uint8_t auth[RADIUS_AUTH_LEN] = { 1, 2, 3 };
	const uint8_t *s = (const uint8_t *)SECRET;
	size_t slen = sizeof(SECRET) - 1, n;
	uint8_t pw[256], mac[RADIUS_AUTH_LEN];
	int r;

	fuzz_quiet();
	r = radius_pkt_decode(data, size, &p, NULL);
	FUZZ_CHECK(r == 0 || r == -EMSGSIZE || r == -EBADMSG || r == -E2BIG, "decode: %d", r);
	if (r == 0) {
		uint8_t out[RADIUS_MAX_LEN];
		struct wbuf w;
		wbuf_init_fixed(&w, out, sizeof(out));
		FUZZ_CHECK(radius_pkt_encode(&p, &w) == 0, "decoded packet does not encode");
		FUZZ_CHECK(fuzz_eq(out, w.len, data, p.length), "re-encoding differs");
		FUZZ_CHECK(radius_pkt_decode(out, w.len, &q, NULL) == 0 && q.nattrs == p.nattrs,
			   "re-encoded packet decodes differently");
		r = radius_tunnels(&p, s, slen, auth, t, RADIUS_TUNNELS_MAX, &n);
		FUZZ_CHECK(r == 0 || r == -EBADMSG, "radius_tunnels: %d", r);
		FUZZ_CHECK(r < 0 || n <= RADIUS_TUNNELS_MAX, "too many tunnels");
		const struct radius_attr *a = radius_pkt_find(&p, RADIUS_USER_PASSWORD);
		if (a) {
			r = radius_password_unhide(s, slen, p.authenticator, a->value, a->len, pw, &n);
			FUZZ_CHECK(r == 0 || r == -EBADMSG, "unhide: %d", r);
			FUZZ_CHECK(r < 0 || n <= a->len, "unhidden longer than hidden");
		}
		r = radius_msg_auth(data, p.length, auth, s, slen, mac);
		FUZZ_CHECK(r == 0 || r == -ENOENT || r == -EBADMSG, "msg_auth: %d", r);
	}
	r = radius_response_verify(data, size, auth, s, slen, true);
	FUZZ_CHECK(r == 0 || r == -EBADMSG || r == -EPERM, "verify: %d", r);

	/* The client: one request pending, the input as an answer from its server. */
	static struct radius_client c;
	struct radius_client_conf conf;
	memset(&conf, 0, sizeof(conf));
	if (roam_sockaddr_parse("192.0.2.50", RADIUS_PORT, &conf.servers[0]) < 0)
		abort();
	conf.nservers = 1;
	memcpy(conf.secret, SECRET, slen);
	conf.secret_len = slen;
	conf.timeout_ms = 1000;
	conf.retries = 1;
	conf.tx = tx;
	conf.done = done;
	FUZZ_CHECK(radius_client_init(&c, &conf) == 0, "client init");
	static const struct radius_attr req[] = {
		{ RADIUS_CALLING_STATION_ID, 10, (const uint8_t *)"3125550100" },
		{ RADIUS_USER_PASSWORD, 4, (const uint8_t *)"roam" },
	};
	int user;
	FUZZ_CHECK(radius_client_request(&c, req, 2, &user, 0) == 0, "request");
	ndone = 0;
	if (size >= 2 && size <= RADIUS_MAX_LEN) {
		uint8_t copy[RADIUS_MAX_LEN];
		memcpy(copy, data, size);
		for (size_t i = 0; i < RADIUS_IDS; i++)
			if (c.slots[i].busy)
				copy[1] = (uint8_t)i;
		radius_client_input(&c, copy, size, &conf.servers[0], 10);
	}
	radius_client_input(&c, data, size, &conf.servers[0], 10);
	FUZZ_CHECK(ndone == 0 && c.busy == 1, "a forged answer was taken");
	for (uint64_t now = 1010; now <= 3010; now += 1000) /* a retransmission, then timeout */
		radius_client_run(&c, now);
	FUZZ_CHECK(ndone == 1 && c.busy == 0, "the request did not time out");
	radius_client_destroy(&c);
	return 0;
}
