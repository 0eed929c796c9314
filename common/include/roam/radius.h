/* RADIUS (RFC 2865) with the tunnel attributes of RFC 2868 and the Message-Authenticator of
 * RFC 3579: the codec and an Access-Request client.  docs/protocols/radius.md says what roam
 * uses of it.
 *
 * Codec: a packet decodes into struct radius_pkt, whose attributes are views borrowed into the
 * packet bytes (valid as long as those); radius_pkt_encode() writes the same struct back
 * (decode, encode: same bytes).  The cryptographic parts are separate functions: User-Password
 * hiding (RFC 2865 5.2), Tunnel-Password salt encryption (RFC 2868 3.5), the Response
 * Authenticator (RFC 2865 3) and the Message-Authenticator (RFC 3579 3.2), all over the shared
 * secret, with MD5 and HMAC-MD5 from roam/auth.h.
 *
 * Client: struct radius_client sends Access-Requests to one of several servers, retransmits
 * them (same Identifier, same Request Authenticator) every `timeout` ms, `retries` times, then
 * fails over to the next server, and matches answers by Identifier, source address and
 * Response Authenticator (and Message-Authenticator, required).  It never touches a socket or
 * a clock: datagrams go out through conf.tx, `now` (monotonic ms) is passed in, so unit tests
 * run it on a fake clock.
 *
 * Functions return 0 or a negative errno-style code unless stated otherwise. */
#ifndef ROAM_RADIUS_H
#define ROAM_RADIUS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "roam/addr.h"
#include "roam/buf.h"

#define RADIUS_PORT 1812           /* RFC 2865 3: authentication */
#define RADIUS_HDR_LEN 20          /* Code, Identifier, Length, Authenticator */
#define RADIUS_AUTH_LEN 16         /* Request/Response Authenticator, Message-Authenticator */
#define RADIUS_MIN_LEN 20          /* RFC 2865 3 */
#define RADIUS_MAX_LEN 4096        /* RFC 2865 3 */
#define RADIUS_ATTR_VALUE_MAX 253  /* Length octet counts type and length */
#define RADIUS_PKT_ATTRS_MAX 128   /* attributes kept per decoded packet */
#define RADIUS_PASSWORD_MAX 128    /* RFC 2865 5.2 */
#define RADIUS_TUNNEL_TAG_MAX 0x1f /* RFC 2868 3.1: tags 0x01..0x1F */
#define RADIUS_SECRET_MAX 128

/* Codes, RFC 2865 3 / 4. */
enum radius_code {
	RADIUS_ACCESS_REQUEST = 1,
	RADIUS_ACCESS_ACCEPT = 2,
	RADIUS_ACCESS_REJECT = 3,
	RADIUS_ACCESS_CHALLENGE = 11,
};

/* Attribute types: RFC 2865 5, RFC 2868 3, RFC 3579 3.2. */
enum radius_attr_type {
	RADIUS_USER_NAME = 1,              /* RFC 2865 5.1, text */
	RADIUS_USER_PASSWORD = 2,          /* RFC 2865 5.2, hidden */
	RADIUS_NAS_IP_ADDRESS = 4,         /* RFC 2865 5.4, address */
	RADIUS_SERVICE_TYPE = 6,           /* RFC 2865 5.6, integer */
	RADIUS_FRAMED_PROTOCOL = 7,        /* RFC 2865 5.7, integer */
	RADIUS_REPLY_MESSAGE = 18,         /* RFC 2865 5.18, text */
	RADIUS_STATE = 24,                 /* RFC 2865 5.24 */
	RADIUS_CALLING_STATION_ID = 31,    /* RFC 2865 5.31: the MIN */
	RADIUS_NAS_IDENTIFIER = 32,        /* RFC 2865 5.32, text */
	RADIUS_PROXY_STATE = 33,           /* RFC 2865 5.33 */
	RADIUS_NAS_PORT_TYPE = 61,         /* RFC 2865 5.41, integer */
	RADIUS_TUNNEL_TYPE = 64,           /* RFC 2868 3.1, tagged integer */
	RADIUS_TUNNEL_MEDIUM_TYPE = 65,    /* RFC 2868 3.2, tagged integer */
	RADIUS_TUNNEL_CLIENT_ENDPOINT = 66,/* RFC 2868 3.3, tagged string */
	RADIUS_TUNNEL_SERVER_ENDPOINT = 67,/* RFC 2868 3.4, tagged string */
	RADIUS_TUNNEL_PASSWORD = 69,       /* RFC 2868 3.5, tag + salt + encrypted */
	RADIUS_MESSAGE_AUTHENTICATOR = 80, /* RFC 3579 3.2, 16 octets */
	RADIUS_TUNNEL_ASSIGNMENT_ID = 82,  /* RFC 2868 3.7, tagged string */
	RADIUS_TUNNEL_PREFERENCE = 83,     /* RFC 2868 3.8, tagged integer */
};

#define RADIUS_SERVICE_FRAMED 2        /* Service-Type, RFC 2865 5.6 */
#define RADIUS_FRAMED_PPP 1            /* Framed-Protocol, RFC 2865 5.7 */
#define RADIUS_NAS_PORT_WIRELESS_OTHER 18 /* NAS-Port-Type, RFC 2865 5.41 */
#define RADIUS_TUNNEL_L2TP 3           /* Tunnel-Type, RFC 2868 3.1 */
#define RADIUS_MEDIUM_IPV4 1           /* Tunnel-Medium-Type, RFC 2868 3.2 */
#define RADIUS_MEDIUM_IPV6 2

/* One attribute: a view of its value (borrowed). */
struct radius_attr {
	uint8_t type;
	uint8_t len;                   /* value length, 0..253 */
	const uint8_t *value;
};

struct radius_pkt {
	uint8_t code;
	uint8_t id;
	uint16_t length;               /* decode: the Length field; encode: ignored (computed) */
	uint8_t authenticator[RADIUS_AUTH_LEN];
	struct radius_attr attrs[RADIUS_PKT_ATTRS_MAX];
	size_t nattrs;
};

/* Decodes a datagram (borrowed; the attribute views point into it).  Octets after Length are
 * padding (RFC 2865 3) and ignored.  Errors: -EMSGSIZE (shorter than 20 octets, Length < 20,
 * > 4096 or beyond the datagram), -EBADMSG (an attribute shorter than 2 octets or running past
 * Length: the walk must consume the packet exactly), -E2BIG (more than RADIUS_PKT_ATTRS_MAX
 * attributes).  *why (may be NULL) names the reason. */
int radius_pkt_decode(const uint8_t *pkt, size_t len, struct radius_pkt *out, const char **why);
/* Writes p (header with the computed Length, then the attributes in order).  Returns 0, or
 * -EINVAL (an attribute longer than 253 octets), -EMSGSIZE (over 4096), or the wbuf error. */
int radius_pkt_encode(const struct radius_pkt *p, struct wbuf *w);
/* The first attribute of type t, or NULL. */
const struct radius_attr *radius_pkt_find(const struct radius_pkt *p, uint8_t t);
/* Appends an attribute view (value borrowed) to p.  -E2BIG, -EINVAL (len > 253). */
int radius_pkt_add(struct radius_pkt *p, uint8_t type, const void *value, size_t len);
/* An integer attribute's value (4 octets).  -EBADMSG when the length is not 4. */
int radius_attr_u32(const struct radius_attr *a, uint32_t *v);

/* ---- Tagged attributes (RFC 2868 3) ---- */

/* Splits a tagged attribute's value: integer attributes (Tunnel-Type, -Medium-Type,
 * -Preference): 1 tag octet + 3 value octets; string attributes: a first octet 0x00..0x1F is
 * the tag, anything above is the first octet of the string (untagged, tag 0).  Tunnel-Password
 * always carries its tag.  Errors: -EBADMSG (integer not 4 octets, empty string). */
int radius_tagged_u32(const struct radius_attr *a, uint8_t *tag, uint32_t *v);
int radius_tagged_str(const struct radius_attr *a, uint8_t *tag, const uint8_t **s, size_t *len);

/* ---- Hiding (RFC 2865 5.2, RFC 2868 3.5) ---- */

/* User-Password: pw (1..128 octets) padded with zeros to a multiple of 16 and XORed with
 * MD5(secret + authenticator), MD5(secret + c1), ...  out must hold 128 octets; *outlen is the
 * padded length.  -EINVAL (pw empty or over 128, secret empty), -EIO. */
int radius_password_hide(const uint8_t *secret, size_t slen, const uint8_t auth[RADIUS_AUTH_LEN],
			 const uint8_t *pw, size_t pwlen, uint8_t *out, size_t *outlen);
/* The reverse; trailing zero padding removed.  -EBADMSG (length not 16..128 multiple of 16). */
int radius_password_unhide(const uint8_t *secret, size_t slen,
			   const uint8_t auth[RADIUS_AUTH_LEN], const uint8_t *in, size_t inlen,
			   uint8_t *pw, size_t *pwlen);
/* Tunnel-Password value (after the tag): Salt (2 octets, high bit set) + encrypted (Data-Length
 * octet + password + zero padding to a multiple of 16), the key stream MD5(secret + request
 * authenticator + salt), MD5(secret + c1), ...  out must hold 2 + 256 octets.  pwlen 0..240.
 * -EINVAL (salt without high bit, pwlen > 240, secret empty). */
int radius_tunnel_password_encrypt(const uint8_t *secret, size_t slen,
				   const uint8_t req_auth[RADIUS_AUTH_LEN], uint16_t salt,
				   const uint8_t *pw, size_t pwlen, uint8_t *out, size_t *outlen);
/* value: Salt + encrypted, as after radius_tagged_str() would give for a non-tag octet (i.e.
 * the attribute value without its tag).  pw must hold 255 octets.  -EBADMSG (too short, not a
 * multiple of 16, salt high bit clear, Data-Length past the end). */
int radius_tunnel_password_decrypt(const uint8_t *secret, size_t slen,
				   const uint8_t req_auth[RADIUS_AUTH_LEN], const uint8_t *value,
				   size_t vlen, uint8_t *pw, size_t *pwlen);

/* ---- Authenticators ---- */

/* Response Authenticator: MD5(Code + Identifier + Length + Request Authenticator + Attributes
 * + secret) over an encoded response pkt[len] (its own authenticator field is ignored). */
int radius_response_auth(const uint8_t *pkt, size_t len, const uint8_t req_auth[RADIUS_AUTH_LEN],
			 const uint8_t *secret, size_t slen, uint8_t out[RADIUS_AUTH_LEN]);
/* Message-Authenticator (RFC 3579 3.2): HMAC-MD5 under the secret over the packet with the
 * attribute's value zeroed; for a response, with the Request Authenticator in the
 * authenticator field (req_auth non-NULL).  pkt must contain exactly one
 * Message-Authenticator; -ENOENT none, -EBADMSG malformed or several. */
int radius_msg_auth(const uint8_t *pkt, size_t len, const uint8_t *req_auth,
		    const uint8_t *secret, size_t slen, uint8_t out[RADIUS_AUTH_LEN]);
/* Fills in an encoded packet's Message-Authenticator (present, zeroed or not): request
 * (req_auth NULL) or response.  Errors as radius_msg_auth. */
int radius_msg_auth_sign(uint8_t *pkt, size_t len, const uint8_t *req_auth,
			 const uint8_t *secret, size_t slen);
/* Signs an encoded response: Message-Authenticator (if the packet has one), then the Response
 * Authenticator into octets 4..19.  For servers and tests. */
int radius_response_sign(uint8_t *pkt, size_t len, const uint8_t req_auth[RADIUS_AUTH_LEN],
			 const uint8_t *secret, size_t slen);
/* Verifies an answer to a request whose authenticator was req_auth: the Response
 * Authenticator, then the Message-Authenticator.  0 when both are right; -EBADMSG (bad
 * Response Authenticator or malformed), -EPERM (Message-Authenticator wrong, or missing while
 * require_msg_auth). */
int radius_response_verify(const uint8_t *pkt, size_t len, const uint8_t req_auth[RADIUS_AUTH_LEN],
			   const uint8_t *secret, size_t slen, bool require_msg_auth);

/* ---- Tunnels of an Access-Accept (RFC 2868 3) ---- */

#define RADIUS_TUNNELS_MAX 8
#define RADIUS_ENDPOINT_MAX 253
/* The tunnel attributes sharing one tag. */
struct radius_tunnel {
	uint8_t tag;
	uint32_t type, medium;         /* 0: absent */
	uint32_t preference;           /* UINT32_MAX: absent (sorted last) */
	char server_endpoint[RADIUS_ENDPOINT_MAX + 1]; /* "" absent; NUL-terminated */
	uint8_t password[256];
	size_t password_len;
	bool has_password;
};

/* Groups the tunnel attributes of an Access-Accept by tag and sorts the groups by
 * Tunnel-Preference, lowest first (groups without one last, in order of appearance).
 * Tunnel-Password is decrypted with secret and req_auth.  *n gets the number of groups (at
 * most max).  -EBADMSG: a malformed tunnel attribute (wrong length, endpoint with a NUL, a
 * Tunnel-Password that does not decrypt). */
int radius_tunnels(const struct radius_pkt *p, const uint8_t *secret, size_t slen,
		   const uint8_t req_auth[RADIUS_AUTH_LEN], struct radius_tunnel *out, size_t max,
		   size_t *n);

/* ---- Client (Access-Request, RFC 2865 2 and 2.5; RFC 5080 2.2.1) ---- */

#define RADIUS_SERVERS_MAX 8
#define RADIUS_IDS 256

enum radius_result {
	RADIUS_RESULT_ACCEPT = 1,
	RADIUS_RESULT_REJECT,      /* Access-Reject, or Access-Challenge (not supported) */
	RADIUS_RESULT_TIMEOUT,     /* no valid answer from any server */
	RADIUS_RESULT_CANCELLED,   /* radius_client_cancel / destroy */
};

struct radius_client;

/* Sends one datagram to a server (called from radius_client_request and _run). */
typedef void (*radius_tx_fn)(void *arg, const struct roam_sockaddr *dst, const uint8_t *pkt,
			     size_t len);
/* A request finished.  resp (borrowed for the call) is the decoded, verified answer for
 * ACCEPT and REJECT, NULL otherwise; req_auth is the request's authenticator (for
 * Tunnel-Password).  The request's slot is free again when this runs. */
typedef void (*radius_done_fn)(void *arg, void *user, enum radius_result res,
			       const struct radius_pkt *resp, const uint8_t *req_auth);

struct radius_client_conf {
	struct roam_sockaddr servers[RADIUS_SERVERS_MAX];
	size_t nservers;
	uint8_t secret[RADIUS_SECRET_MAX];
	size_t secret_len;
	uint32_t timeout_ms;       /* per transmission */
	uint32_t retries;          /* retransmissions per server (0: one transmission) */
	radius_tx_fn tx;
	radius_done_fn done;
	void *arg;
};

struct radius_client_stats {
	uint64_t requests, transmissions, retransmissions, failovers;
	uint64_t accepts, rejects, challenges, timeouts, cancelled;
	uint64_t rx_packets, drop_malformed, drop_bad_code, drop_unknown_id, drop_wrong_source,
		drop_bad_authenticator, drop_bad_msg_auth;
};

struct radius_req_slot {
	bool busy;
	uint8_t server;            /* index of the server currently tried */
	uint8_t tries;             /* transmissions to that server */
	uint8_t servers_tried;
	uint32_t sent_mask;        /* servers this request went to (answers accepted from them) */
	uint64_t due;              /* next retransmission or failover */
	uint8_t auth[RADIUS_AUTH_LEN];
	uint8_t *pkt;              /* the encoded request (owned) */
	size_t len;
	void *user;
};

struct radius_client {
	struct radius_client_conf conf;
	struct radius_req_slot slots[RADIUS_IDS];
	uint8_t next_id;
	uint8_t current;           /* the server new requests go to (moves on failover) */
	size_t busy;
	struct radius_client_stats stats;
};

/* Initialises c with a copy of conf.  -EINVAL (no server, too many, empty secret, no tx or
 * done callback, timeout 0). */
int radius_client_init(struct radius_client *c, const struct radius_client_conf *conf);
/* Cancels every pending request (done with RADIUS_RESULT_CANCELLED) and frees them. */
void radius_client_destroy(struct radius_client *c);
/* Builds an Access-Request from attrs (borrowed; a User-Password in clear is hidden here, no
 * Message-Authenticator: the client adds it), with a new Identifier and random Request
 * Authenticator, sends it to the current server and remembers it for retransmission.  user is
 * handed back to done.  -EAGAIN (256 requests pending), -EINVAL (bad attribute), -ENOMEM,
 * -EIO (random). */
int radius_client_request(struct radius_client *c, const struct radius_attr *attrs,
			  size_t nattrs, void *user, uint64_t now);
/* Forgets the pending request of user (done is not called).  -ENOENT. */
int radius_client_cancel(struct radius_client *c, void *user);
/* An answer from src (borrowed).  Never fails: drops are counted in stats. */
void radius_client_input(struct radius_client *c, const uint8_t *pkt, size_t len,
			 const struct roam_sockaddr *src, uint64_t now);
/* Retransmissions, failovers and timeouts due at now. */
void radius_client_run(struct radius_client *c, uint64_t now);
/* The earliest time radius_client_run has something to do; UINT64_MAX when idle. */
uint64_t radius_client_next(const struct radius_client *c);

#endif
