/* HLR protocol codec (docs/protocols/hlr.md): UPDATE, UPDATE-ACK, QUERY, QUERY-REPLY between
 * host agents and the home location register (seed 001, [56]-[62]).
 *
 * A message is decoded into struct hlr_msg (host form) by hlr_decode(), which checks the whole
 * structure (header, attribute walk, per-type rules) but not the authenticator: that needs the
 * key named by the Key ID, so the receiver looks the key up and calls hlr_verify().
 * hlr_encode() writes a complete message, authenticator included.  No allocation. */
#ifndef ROAM_HLR_H
#define ROAM_HLR_H
#include <stddef.h>
#include <stdint.h>

#include "roam/addr.h"
#include "roam/auth.h"
#include "roam/buf.h"

#define HLR_VERSION 1
#define HLR_PORT 7460       /* default UDP port (hlr.md section 1) */
#define HLR_HDR_LEN 24      /* fixed header */
#define HLR_AUTH_LEN 32     /* HMAC-SHA256 authenticator */
#define HLR_MIN_MSG (HLR_HDR_LEN + HLR_AUTH_LEN)
#define HLR_MAX_MSG 512     /* largest valid message (hlr.md section 1) */

/* Message types (hlr.md section 4). */
enum hlr_type {
	HLR_UPDATE = 1,
	HLR_UPDATE_ACK = 2,
	HLR_QUERY = 3,
	HLR_QUERY_REPLY = 4,
};

/* Attribute types (hlr.md section 3). */
enum hlr_attr {
	HLR_ATTR_PERMANENT_ADDRESS = 1,
	HLR_ATTR_CARE_OF_ADDRESS = 2,
	HLR_ATTR_LIFETIME = 3,
	HLR_ATTR_NEGATIVE_TTL = 4,
	HLR_ATTR_OPTIONAL_MIN = 128, /* 128..255: skipped when unknown */
};

/* Address families of the address attributes (IANA Address Family Numbers). */
#define HLR_AF_IPV4 1
#define HLR_AF_IPV6 2

/* Codes (hlr.md section 5).  Codes >= 128 are drop reasons, never sent. */
enum hlr_code {
	HLR_CODE_OK = 0,
	HLR_CODE_NO_MAPPING = 1,
	HLR_CODE_NOT_AUTHORIZED = 64,
	HLR_CODE_BAD_ADDRESS = 65,
	HLR_CODE_NO_RESOURCES = 66,
	HLR_CODE_MALFORMED = 128,
	HLR_CODE_UNKNOWN_KEY = 129,
	HLR_CODE_BAD_AUTH = 130,
	HLR_CODE_STALE = 131,
	HLR_CODE_REPLAYED = 132,
};

/* hlr_msg.present bits: which attributes the message carries. */
#define HLR_HAS_PERM     0x01u
#define HLR_HAS_COA      0x02u
#define HLR_HAS_LIFETIME 0x04u
#define HLR_HAS_NEG_TTL  0x08u

/* A message in host form.  Zero-initialise, then fill. */
struct hlr_msg {
	uint8_t type;          /* enum hlr_type */
	uint8_t flags;         /* none defined; kept as received */
	uint8_t code;          /* enum hlr_code; 0 in requests */
	uint32_t txid;
	uint32_t key_id;
	uint64_t timestamp;    /* NTP 64-bit */
	unsigned present;      /* HLR_HAS_* */
	struct roam_ipaddr perm;
	struct roam_ipaddr coa;
	uint32_t lifetime;     /* seconds: requested / granted / remaining */
	uint32_t neg_ttl;      /* seconds */
};

/* Checks m against the rules of its type (required, allowed and forbidden attributes, the code,
 * the address families).  Returns 0 or -EINVAL with a static reason in *why (may be NULL). */
int hlr_msg_check(const struct hlr_msg *m, const char **why);

/* Appends the encoded message, authenticated with key (which must be HMAC-SHA256), to w.
 * m and key are borrowed.  Errors: -EINVAL (hlr_msg_check fails, or a bad key), -EMSGSIZE (over
 * HLR_MAX_MSG; cannot happen with the defined attributes), the wbuf's error (-ENOMEM/-ENOSPC),
 * -EIO (libcrypto).  On error w may hold a partial message: discard it. */
int hlr_encode(struct wbuf *w, const struct hlr_msg *m, const struct roam_key *key);

/* Decodes len bytes at buf (borrowed) into *m: header, attribute walk that must end exactly at
 * the authenticator, per-type rules.  Unknown optional attributes (type >= 128) are skipped.
 * The authenticator is NOT checked (see hlr_verify).  Returns 0, or -EBADMSG with a static
 * reason in *why (may be NULL), e.g. "bad version", "length mismatch", "duplicate attribute". */
int hlr_decode(const void *buf, size_t len, struct hlr_msg *m, const char **why);

/* Verifies the authenticator of an encoded message (len bytes at buf, at least HLR_MIN_MSG)
 * under key, in constant time.  0 when it matches; -EBADMSG when not; -EINVAL (short message,
 * bad key); -EIO (libcrypto). */
int hlr_verify(const void *buf, size_t len, const struct roam_key *key);

/* 1 if a can be a permanent address (coa = 0) or a care-of address (coa = 1): not unspecified,
 * not multicast, not 255.255.255.255; a care-of address may not be IPv6 link-local either. */
int hlr_addr_usable(const struct roam_ipaddr *a, int coa);

/* The current wall-clock time as an NTP 64-bit timestamp (nanosecond resolution). */
uint64_t hlr_ntp_now(void);
/* Tolerance of seconds.milliseconds in NTP units, for replay_ts_init(). */
uint64_t hlr_ntp_from_ms(uint64_t ms);

/* Names for logs and JSON: "UPDATE", "UPDATE-ACK", ...; "NOT-AUTHORIZED", ...; "unknown" for
 * other values.  hlr_code_stat() gives the lower_snake_case form ("not_authorized"). */
const char *hlr_type_name(unsigned type);
const char *hlr_code_name(unsigned code);
const char *hlr_code_stat(unsigned code);

#endif
