/* L2TPv2 (RFC 2661) codec, shared by lacd and lnsd, plus roam's handoff extension
 * (docs/protocols/l2tp.md and docs/protocols/l2tp-handoff.md).
 *
 * - Header: control and data message headers (RFC 2661 3.1).
 * - Control messages: decoded into a host struct (struct l2tp_msg) holding every AVP roam uses;
 *   unrecognised AVPs are reported with their M bit so the caller applies RFC 2661 4.2.
 * - Hidden AVPs (RFC 2661 4.3), tunnel authentication (Challenge / Challenge Response, 4.4.3).
 * - The handoff extension: vendor-specific AVPs (M bit clear) and the USER_MOVED multicast
 *   message with HMAC-SHA256 and replay protection.
 * The reliable control channel is in roam/l2tp_ctrl.h.
 *
 * Values decoded from a packet are borrowed (struct l2tp_bytes points into the packet, or into
 * the message's own scratch area for hidden AVPs): they live as long as both the packet buffer
 * and the struct l2tp_msg.  All functions return 0 or a negative errno-style code. */
#ifndef ROAM_L2TP_H
#define ROAM_L2TP_H
#include <stddef.h>
#include <stdint.h>

#include "roam/auth.h"
#include "roam/buf.h"

#define L2TP_UDP_PORT 1701
#define L2TP_VERSION  2

/* Header flags word (RFC 2661 3.1). */
#define L2TP_HDR_T        0x8000 /* control message */
#define L2TP_HDR_L        0x4000 /* Length field present */
#define L2TP_HDR_S        0x0800 /* Ns/Nr present */
#define L2TP_HDR_O        0x0200 /* Offset Size present */
#define L2TP_HDR_P        0x0100 /* priority (data messages only) */
#define L2TP_HDR_VER_MASK 0x000f
#define L2TP_HDR_RESERVED 0x34f0 /* x bits: must be 0 on send, ignored on receipt */

#define L2TP_CTRL_HDR_LEN 12   /* flags, length, tunnel, session, Ns, Nr */
#define L2TP_CTRL_NS_OFF  8
#define L2TP_CTRL_NR_OFF  10
#define L2TP_AVP_HDR_LEN  6
#define L2TP_AVP_MAX_LEN  1023 /* 10-bit length field (RFC 2661 4.1) */

/* AVP flags word (RFC 2661 4.1). */
#define L2TP_AVP_M        0x8000
#define L2TP_AVP_H        0x4000
#define L2TP_AVP_RESERVED 0x3c00
#define L2TP_AVP_LEN_MASK 0x03ff

/* Control message types (RFC 2661 3.2). */
enum l2tp_msg_type {
	L2TP_MSG_ZLB = 0, /* pseudo type: a control message with no AVPs (RFC 2661 5.8) */
	L2TP_MSG_SCCRQ = 1,
	L2TP_MSG_SCCRP = 2,
	L2TP_MSG_SCCCN = 3,
	L2TP_MSG_STOPCCN = 4,
	L2TP_MSG_HELLO = 6,
	L2TP_MSG_OCRQ = 7,
	L2TP_MSG_OCRP = 8,
	L2TP_MSG_OCCN = 9,
	L2TP_MSG_ICRQ = 10,
	L2TP_MSG_ICRP = 11,
	L2TP_MSG_ICCN = 12,
	L2TP_MSG_CDN = 14,
	L2TP_MSG_WEN = 15,
	L2TP_MSG_SLI = 16,
};
#define L2TP_MSG_TYPE_MAX 16

/* IETF attribute types, vendor 0 (RFC 2661 4.4). */
enum l2tp_avp_type {
	L2TP_AVP_MESSAGE_TYPE = 0,
	L2TP_AVP_RESULT_CODE = 1,
	L2TP_AVP_PROTOCOL_VERSION = 2,
	L2TP_AVP_FRAMING_CAP = 3,
	L2TP_AVP_BEARER_CAP = 4,
	L2TP_AVP_TIE_BREAKER = 5,
	L2TP_AVP_FIRMWARE_REV = 6,
	L2TP_AVP_HOST_NAME = 7,
	L2TP_AVP_VENDOR_NAME = 8,
	L2TP_AVP_ASSIGNED_TUNNEL_ID = 9,
	L2TP_AVP_RECV_WINDOW_SIZE = 10,
	L2TP_AVP_CHALLENGE = 11,
	L2TP_AVP_Q931_CAUSE = 12,
	L2TP_AVP_CHALLENGE_RESPONSE = 13,
	L2TP_AVP_ASSIGNED_SESSION_ID = 14,
	L2TP_AVP_CALL_SERIAL = 15,
	L2TP_AVP_MIN_BPS = 16,
	L2TP_AVP_MAX_BPS = 17,
	L2TP_AVP_BEARER_TYPE = 18,
	L2TP_AVP_FRAMING_TYPE = 19,
	L2TP_AVP_CALLED_NUMBER = 21,
	L2TP_AVP_CALLING_NUMBER = 22,
	L2TP_AVP_SUB_ADDRESS = 23,
	L2TP_AVP_TX_CONNECT_SPEED = 24,
	L2TP_AVP_PHYS_CHANNEL_ID = 25,
	L2TP_AVP_INITIAL_RCVD_LCP = 26,
	L2TP_AVP_LAST_SENT_LCP = 27,
	L2TP_AVP_LAST_RCVD_LCP = 28,
	L2TP_AVP_PROXY_AUTH_TYPE = 29,
	L2TP_AVP_PROXY_AUTH_NAME = 30,
	L2TP_AVP_PROXY_AUTH_CHALLENGE = 31,
	L2TP_AVP_PROXY_AUTH_ID = 32,
	L2TP_AVP_PROXY_AUTH_RESPONSE = 33,
	L2TP_AVP_CALL_ERRORS = 34,
	L2TP_AVP_ACCM = 35,
	L2TP_AVP_RANDOM_VECTOR = 36,
	L2TP_AVP_PRIVATE_GROUP_ID = 37,
	L2TP_AVP_RX_CONNECT_SPEED = 38,
	L2TP_AVP_SEQUENCING_REQUIRED = 39,
};
#define L2TP_AVP_IETF_MAX 39
#define L2TP_AVP_BIT(t) (1ULL << (t))

/* StopCCN result codes (RFC 2661 4.4.2). */
enum {
	L2TP_STOPCCN_CLEAR = 1,          /* general request to clear control connection */
	L2TP_STOPCCN_GENERAL_ERROR = 2,  /* see error code */
	L2TP_STOPCCN_ALREADY_EXISTS = 3,
	L2TP_STOPCCN_NOT_AUTHORIZED = 4,
	L2TP_STOPCCN_BAD_VERSION = 5,    /* error code: highest version supported */
	L2TP_STOPCCN_SHUTTING_DOWN = 6,
	L2TP_STOPCCN_FSM_ERROR = 7,
};
/* CDN result codes (RFC 2661 4.4.2). */
enum {
	L2TP_CDN_LOST_CARRIER = 1,
	L2TP_CDN_GENERAL_ERROR = 2,
	L2TP_CDN_ADMIN = 3,
	L2TP_CDN_NO_FACILITIES_TEMP = 4,
	L2TP_CDN_NO_FACILITIES_PERM = 5,
	L2TP_CDN_INVALID_DEST = 6,
	L2TP_CDN_NO_CARRIER = 7,
	L2TP_CDN_BUSY = 8,
	L2TP_CDN_NO_DIAL_TONE = 9,
	L2TP_CDN_TIMEOUT = 10,
	L2TP_CDN_NO_FRAMING = 11,
};
/* General error codes (RFC 2661 4.4.2). */
enum {
	L2TP_ERR_NONE = 0,
	L2TP_ERR_NO_CONTROL = 1,
	L2TP_ERR_LENGTH = 2,
	L2TP_ERR_RANGE = 3,
	L2TP_ERR_RESOURCES = 4,
	L2TP_ERR_SESSION_ID = 5,
	L2TP_ERR_VENDOR = 6,
	L2TP_ERR_TRY_ANOTHER = 7,
	L2TP_ERR_UNKNOWN_MANDATORY = 8,
};

/* Framing / bearer capability and type bits (RFC 2661 4.4.3, 4.4.5). */
#define L2TP_FRAMING_SYNC  0x00000001
#define L2TP_FRAMING_ASYNC 0x00000002
#define L2TP_BEARER_DIGITAL 0x00000001
#define L2TP_BEARER_ANALOG  0x00000002

/* Proxy Authen Type values (RFC 2661 4.4.5). */
enum {
	L2TP_PROXY_AUTH_TEXT = 1,
	L2TP_PROXY_AUTH_CHAP = 2,
	L2TP_PROXY_AUTH_PAP = 3,
	L2TP_PROXY_AUTH_NONE = 4,
	L2TP_PROXY_AUTH_MSCHAPV1 = 5,
};

/* ---- header --------------------------------------------------------------------------- */

/* A decoded (or to-be-encoded) message header.  Fields not flagged present are 0. */
struct l2tp_hdr {
	uint16_t flags;       /* T, L, S, O, P bits as on the wire (version bits excluded) */
	uint16_t length;      /* the Length field (L set) */
	uint16_t tunnel_id;
	uint16_t session_id;
	uint16_t ns, nr;      /* S set (in data messages Nr is reserved: sent 0, ignored) */
	uint16_t offset_size; /* O set: bytes of padding after the header */
	size_t hdr_len;       /* decode: bytes before the payload (AVPs or PPP frame), pad included */
	size_t msg_len;       /* decode: bytes of the whole message */
};

/* Decodes the header of a datagram of len bytes.  A control message must have T, L and S set
 * and O, P clear (RFC 2661 3.1); the Length field must equal len exactly.
 * Errors: -EPROTONOSUPPORT version is not 2 (RFC 2661 says: discard silently);
 * -EBADMSG truncated header, bad flag combination, Length mismatch, offset past the end. */
int l2tp_hdr_decode(const void *pkt, size_t len, struct l2tp_hdr *h);

/* Writes a data message header for a payload of payload_len bytes (flags from h: L, S, O, P;
 * T must be clear).  With L the Length field covers header, offset pad and payload.  The
 * offset pad is written as zeros.  Errors: -EINVAL (T set, too long), or w->err. */
int l2tp_data_hdr_encode(struct wbuf *w, const struct l2tp_hdr *h, size_t payload_len);

/* Sequence arithmetic modulo 2^16 (RFC 2661 5.8): a precedes b when b - a is in 1..32767. */
static inline int l2tp_seq_lt(uint16_t a, uint16_t b)
{
	uint16_t d = (uint16_t)(b - a);
	return d != 0 && d < 0x8000;
}

/* Data message sequence check (RFC 2661 5.8: data messages are not retransmitted).  ns is
 * accepted when it is the expected one or ahead of it (packets were lost: the gap is skipped);
 * *expected then becomes ns + 1.  Returns 0 when accepted, -EALREADY for a duplicate or late
 * packet (ns precedes *expected), which the caller drops. */
int l2tp_data_seq_accept(uint16_t *expected, uint16_t ns);

/* ---- AVPs and control messages -------------------------------------------------------- */

/* Borrowed bytes (into the packet, the message scratch, or on encode the caller's memory). */
struct l2tp_bytes {
	const uint8_t *p;
	uint16_t len;
};

struct l2tp_result {
	uint16_t result;
	uint16_t error;          /* valid when has_error */
	uint8_t has_error;
	struct l2tp_bytes msg;   /* optional human-readable message */
};

struct l2tp_q931 {
	uint16_t cause;
	uint8_t msg;
	struct l2tp_bytes advisory;
};

struct l2tp_call_errors {
	uint32_t crc, framing, hw_overruns, buf_overruns, timeouts, alignment;
};

/* An AVP the codec did not recognise (or a vendor AVP of a vendor it was not told about). */
struct l2tp_avp_raw {
	uint16_t vendor, type;
	uint8_t mandatory, hidden;
	uint16_t reserved;     /* the reserved flag bits as received (L2TP_AVP_RESERVED mask):
	                        * kept so a relayed AVP keeps its meaning (RFC 2661 4.1) */
	struct l2tp_bytes val; /* still encrypted when hidden */
};
#define L2TP_MAX_UNKNOWN 16

/* ---- handoff extension (docs/protocols/l2tp-handoff.md) ------------------------------- */

#define L2TP_HO_VENDOR_DEFAULT 32473 /* RFC 5612 documentation enterprise number */
#define L2TP_MIN_MAX           15    /* a MIN / IMSI: 1..15 ASCII digits */

/* Vendor attribute types under the configured vendor id. */
enum {
	L2TP_HO_AVP_CAUSE = 1,    /* CDN */
	L2TP_HO_AVP_REQUEST = 2,  /* ICRQ */
	L2TP_HO_AVP_ACCEPTED = 3, /* ICRP */
	L2TP_HO_AVP_REFUSED = 4,  /* ICRP, or CDN */
	L2TP_HO_AVP_CALL_STATE = 5,
};
#define L2TP_HO_AVP_MAX 5
#define L2TP_HO_BIT(t) (1U << (t))

/* Handoff cause (in the Handoff Cause AVP). */
enum {
	L2TP_HO_CAUSE_MOBILE_LOST = 1, /* the access link to the mobile was lost: park the call */
};
/* Handoff refusal reasons (in the Handoff Refused AVP). */
enum {
	L2TP_HO_REFUSE_UNKNOWN_MIN = 1,     /* nothing parked for this MIN (or hold time over) */
	L2TP_HO_REFUSE_NOT_AUTHENTICATED = 2, /* tunnel without challenge authentication */
	L2TP_HO_REFUSE_MISMATCH = 3,        /* old tunnel/call ids do not match the parked call */
	L2TP_HO_REFUSE_DISABLED = 4,        /* extension switched off at the LNS */
	L2TP_HO_REFUSE_MOBILE_AUTH = 5,     /* the mobile's credentials did not verify */
};

/* PPP state summary bits (struct l2tp_call_state.ppp_flags). */
#define L2TP_PPP_LCP_OPENED  0x01
#define L2TP_PPP_AUTH_DONE   0x02
#define L2TP_PPP_IPCP_OPENED 0x04
#define L2TP_PPP_DATA_SEQ    0x08 /* data messages carry Ns (S bit) */

/* The call state moved between control connections (24 bytes on the wire). */
struct l2tp_call_state {
	uint16_t data_ns;     /* next data Ns this side sends */
	uint16_t data_nr;     /* next data Ns this side expects from its peer */
	uint8_t ppp_phase;    /* RFC 1661 phase: 0 dead .. 4 terminate */
	uint8_t ppp_flags;    /* L2TP_PPP_* */
	uint16_t mru;         /* negotiated MRU */
	uint32_t accm_send, accm_recv; /* async control character maps (HDLC framing at the LAC) */
	uint16_t auth_proto;  /* PPP protocol of the authentication used: 0xc023 PAP, 0xc223 CHAP */
	uint32_t mobile_addr; /* the mobile's IPCP address, host byte order (0: none) */
};
#define L2TP_CALL_STATE_LEN 24

struct l2tp_ho_cause {
	uint16_t cause;
	char min[L2TP_MIN_MAX + 1];
};
struct l2tp_ho_request {
	uint16_t old_tunnel_id, old_session_id; /* the old LAC's ids (its Assigned ... IDs) */
	char min[L2TP_MIN_MAX + 1];
};
struct l2tp_ho_accepted {
	uint16_t old_tunnel_id, old_session_id;
};
struct l2tp_ho_refused {
	uint16_t reason;
};

/* A control message.  `avps` has L2TP_AVP_BIT(t) set for each IETF AVP present; `ho_avps`
 * has L2TP_HO_BIT(t) for each handoff AVP present.  On encode, the same bits select what is
 * written; fields of absent AVPs are ignored. */
struct l2tp_msg {
	/* header */
	uint16_t tunnel_id, session_id, ns, nr;
	/* Message Type AVP (L2TP_MSG_ZLB when the message has no AVP) */
	uint16_t type;
	uint8_t type_mandatory; /* the M bit of the Message Type AVP (RFC 2661 4.4.1) */
	uint64_t avps;

	struct l2tp_result result;
	uint8_t proto_ver, proto_rev;
	uint32_t framing_cap, bearer_cap;
	uint8_t tie_breaker[8];
	uint16_t firmware_rev;
	struct l2tp_bytes host_name, vendor_name;
	uint16_t assigned_tunnel_id;
	uint16_t recv_window;
	struct l2tp_bytes challenge;
	struct l2tp_q931 q931;
	uint8_t challenge_response[16];
	uint16_t assigned_session_id;
	uint32_t call_serial, min_bps, max_bps, bearer_type, framing_type;
	struct l2tp_bytes called_number, calling_number, sub_address;
	uint32_t tx_connect_speed, phys_channel_id, rx_connect_speed;
	struct l2tp_bytes initial_rcvd_lcp, last_sent_lcp, last_rcvd_lcp;
	uint16_t proxy_auth_type;
	struct l2tp_bytes proxy_auth_name, proxy_auth_challenge, proxy_auth_response;
	uint8_t proxy_auth_id;
	struct l2tp_call_errors call_errors;
	uint32_t accm_send, accm_recv;
	struct l2tp_bytes random_vector, private_group_id;

	/* handoff extension */
	uint32_t ho_avps;
	struct l2tp_ho_cause ho_cause;
	struct l2tp_ho_request ho_request;
	struct l2tp_ho_accepted ho_accepted;
	struct l2tp_ho_refused ho_refused;
	struct l2tp_call_state ho_state;

	/* decode: unrecognised AVPs in order (the first L2TP_MAX_UNKNOWN); encode: raw AVPs
	 * appended after the known ones, written as given (not hidden). */
	struct l2tp_avp_raw unknown[L2TP_MAX_UNKNOWN];
	uint8_t n_unknown;
	uint16_t n_unknown_total;  /* including those beyond L2TP_MAX_UNKNOWN */
	int16_t unknown_mandatory; /* index into unknown[] of the first with M set, or -1; when
	                            * that one was beyond the array: L2TP_MAX_UNKNOWN */
	/* decode: on -EBADMSG, the attribute type at fault (-1: header or AVP framing) */
	int bad_attr;
	/* decode: storage for decrypted hidden values */
	uint8_t scratch[2048];
	size_t scratch_used;
};

/* Decoding and encoding options. */
struct l2tp_codec_opts {
	const uint8_t *secret;   /* tunnel shared secret (hidden AVPs); may be NULL */
	size_t secret_len;
	uint16_t ho_vendor;      /* handoff extension vendor id; 0: extension off (its AVPs are
	                          * then unknown AVPs with M clear) */
	/* encode only: hide the IETF AVPs whose bit is set (L2TP_AVP_BIT; only those RFC 2661
	 * allows to be hidden); needs secret and a random vector of rv_len (1..64) bytes from
	 * the caller (auth_random), sent as a Random Vector AVP before the first hidden one. */
	uint64_t hide;
	const uint8_t *rv;
	size_t rv_len;
};

/* Decodes a whole control message (header and AVPs) of len bytes into m (zeroed first).
 * ZLB: m->type = L2TP_MSG_ZLB.  The first AVP must be a Message Type AVP (RFC 2661 4.4.1).
 * Every AVP is length-checked; a message with a framing error is refused as a whole.
 * Known AVPs in messages where RFC 2661 does not list them are accepted (the caller checks
 * with l2tp_msg_check()).  A hidden AVP needs opts->secret and a preceding Random Vector.
 * Errors: -EPROTONOSUPPORT (version), -EBADMSG (malformed: m->bad_attr says which AVP),
 * -ENOKEY (a hidden AVP without secret or Random Vector), -EMSGSIZE (hidden values exceed
 * the scratch area).  opts may be NULL. */
int l2tp_msg_decode(const void *pkt, size_t len, const struct l2tp_codec_opts *opts,
                    struct l2tp_msg *m);

/* Encodes m as a control message (header with T, L, S; Length patched at the end) into w.
 * Writes the Message Type AVP first, then the Random Vector when hiding, then the IETF AVPs
 * flagged in m->avps in attribute order, then the handoff AVPs (needs opts->ho_vendor), then
 * m->unknown[0..n_unknown).  m->type == L2TP_MSG_ZLB writes a header only.
 * Errors: -EINVAL (a value too long for an AVP, hiding without secret/rv, handoff AVP without
 * vendor, message over 65535 bytes), or w->err. */
int l2tp_msg_encode(struct wbuf *w, const struct l2tp_msg *m, const struct l2tp_codec_opts *opts);

/* Checks that m carries the AVPs RFC 2661 section 6 makes mandatory for its type.
 * Returns 0, or -EBADMSG with *missing set to the first missing attribute type. */
int l2tp_msg_check(const struct l2tp_msg *m, int *missing);

/* Names for logs ("SCCRQ", "Host Name"; "unknown" otherwise).  Never NULL. */
const char *l2tp_msg_name(uint16_t type);
const char *l2tp_avp_name(uint16_t type);

/* Helpers to fill a struct l2tp_msg for encoding from C strings / buffers (borrowed). */
void l2tp_bytes_set(struct l2tp_bytes *b, const void *p, size_t len);
void l2tp_bytes_str(struct l2tp_bytes *b, const char *s);
/* Copies b into dst (size n) as a NUL-terminated string; -ENAMETOOLONG if it does not fit
 * (dst then holds a truncated copy), -EINVAL if b contains a NUL byte. */
int l2tp_bytes_to_str(const struct l2tp_bytes *b, char *dst, size_t n);

/* ---- hidden AVPs and tunnel authentication (RFC 2661 4.3, 4.4.3) ---------------------- */

/* Hides (or reveals: the operation is its own inverse only with the chained MD5 recomputed,
 * so two functions) an AVP value.  hide: in = Original Length (2 bytes) + value + padding,
 * written to out (same length n).  b1 = MD5(attr type (2 bytes) + secret + RV), c1 = p1 ^ b1,
 * bi = MD5(secret + c(i-1)), ci = pi ^ bi, 16-byte blocks, the last one possibly short.
 * Errors: -EINVAL (NULL secret with secret_len > 0, rv_len 0), -EIO (MD5). */
int l2tp_hidden_encrypt(uint16_t attr, const uint8_t *secret, size_t secret_len,
                        const uint8_t *rv, size_t rv_len, const uint8_t *in, uint8_t *out,
                        size_t n);
int l2tp_hidden_decrypt(uint16_t attr, const uint8_t *secret, size_t secret_len,
                        const uint8_t *rv, size_t rv_len, const uint8_t *in, uint8_t *out,
                        size_t n);

/* Challenge Response (RFC 2661 4.4.3): MD5(msg_type byte + secret + challenge), where
 * msg_type is L2TP_MSG_SCCRP (2) for the response in an SCCRP, L2TP_MSG_SCCCN (3) in SCCCN. */
int l2tp_challenge_response(uint8_t msg_type, const uint8_t *secret, size_t secret_len,
                            const uint8_t *challenge, size_t challenge_len,
                            uint8_t out[AUTH_MD5_LEN]);
/* Verifies a received response in constant time: 0, or -EACCES on mismatch (-EIO on MD5). */
int l2tp_challenge_verify(uint8_t msg_type, const uint8_t *secret, size_t secret_len,
                          const uint8_t *challenge, size_t challenge_len,
                          const uint8_t response[AUTH_MD5_LEN]);

/* ---- USER_MOVED (docs/protocols/l2tp-handoff.md) -------------------------------------- */

#define L2TP_UM_GROUP_DEFAULT "239.255.17.1" /* RFC 2365 IPv4 Local Scope */
#define L2TP_UM_PORT_DEFAULT  17011
#define L2TP_UM_MAGIC   0x524d /* "RM" */
#define L2TP_UM_VERSION 1
#define L2TP_UM_TYPE_USER_MOVED 1
#define L2TP_UM_LEN_MIN (40 + L2TP_CALL_STATE_LEN + 1 + AUTH_SHA256_LEN)
#define L2TP_UM_REPLAY_TOLERANCE_MS 30000

struct l2tp_user_moved {
	uint8_t key_id;           /* selects the group key (rotation) */
	uint64_t timestamp_ms;    /* sender's wall clock, strictly increasing per sender */
	uint32_t lac_addr;        /* sender (old LAC), IPv4 host byte order */
	uint32_t lns_addr;        /* the LNS holding the parked call, IPv4 host byte order */
	uint16_t lns_port;        /* the LNS's UDP port (1701) */
	uint16_t old_tunnel_id;   /* the old LAC's Assigned Tunnel ID */
	uint16_t old_session_id;  /* the old LAC's Assigned Session ID */
	uint16_t peer_tunnel_id;  /* the LNS's tunnel id of the old tunnel */
	uint16_t peer_session_id; /* the LNS's session id of the old call */
	uint16_t hold_s;          /* how long the LNS parks the call (hint for the table expiry) */
	struct l2tp_call_state state;
	char min[L2TP_MIN_MAX + 1];
};

/* Encodes um and appends HMAC-SHA256 under key (key->alg must be AUTH_ALG_HMAC_SHA256).
 * Errors: -EINVAL (bad MIN, bad key), -EIO, or w->err. */
int l2tp_um_encode(struct wbuf *w, const struct l2tp_user_moved *um, const struct roam_key *key);
/* Decodes a USER_MOVED datagram and verifies its HMAC (constant time) under key.  Does not
 * touch replay state (see l2tp_um_replay_accept).  Errors: -EBADMSG (malformed, bad magic,
 * version or type), -EACCES (HMAC mismatch), -EINVAL (bad key), -EIO. */
int l2tp_um_decode(const void *pkt, size_t len, const struct roam_key *key,
                   struct l2tp_user_moved *um);
/* Replay protection for an authenticated USER_MOVED, one struct replay_ts per sending LAC
 * (keyed by um->lac_addr; replay_ts_init(r, L2TP_UM_REPLAY_TOLERANCE_MS, 4)).  now_wall_ms:
 * roam_wall_ms().  0: accepted and recorded; -ERANGE, -EALREADY, -ESTALE as replay_ts_check. */
int l2tp_um_replay_accept(struct replay_ts *r, const struct l2tp_user_moved *um,
                          uint64_t now_wall_ms);

/* Validates a MIN: 1..15 ASCII digits.  0 or -EINVAL. */
int l2tp_min_valid(const char *min);

#endif
