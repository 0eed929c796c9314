/* Mobile IPv4 codec (docs/protocols/mipv4.md), shared by had, fad (FA and GFA), mnd and cnd.
 *
 * - Control messages on UDP 434 (RFC 5944 1.8, 3.3, 3.4): Registration Request / Reply, the
 *   Regional Registration Request / Reply of RFC 4857, the Fast Binding Update / Acknowledgment
 *   of RFC 4988 (both pairs use the Registration Request / Reply layout with their own type),
 *   and the four route-optimization messages of draft-ietf-mobileip-optim under roam's type
 *   numbers (MIP4_RO_*, chosen outside IANA's registry: see the document, section 4).
 * - Extensions (RFC 5944 3.5): authentication (MN-HA 32, MN-FA 33, FA-HA 34, route
 *   optimization 35, generalized 36 with subtypes FA-FA, MN-GFA, MN-PAR), NAI 131,
 *   Encapsulating Delivery Style 130 (RFC 3024), GFA IP Address 46 and Hierarchical FA 140
 *   (RFC 4857).  Unknown extensions: type < 128 makes the message -ENOTSUP (RFC 5944 1.8:
 *   silently discard), type >= 128 is skipped and counted.
 * - Authenticators (RFC 5944 3.5.1): computed over the UDP payload up to and including the
 *   SPI of the authentication extension, HMAC-MD5 by default, RFC 2002 keyed-MD5
 *   (prefix+suffix) per security association; MACs come from roam/auth.h.
 * - Identification (RFC 5944 5.7, timestamps only): tolerance check, the resynchronising
 *   value of a code-133 reply, the mobile's clock offset, and roam's deregistration-reply
 *   Identification for the synchronized handoff.
 * - Agent Advertisement / Solicitation (RFC 5944 2.1, RFC 1256): ICMP type 9 with the
 *   Mobility Agent Advertisement (16), Prefix-Lengths (19) and padding (0) extensions;
 *   ICMP type 10.  The ICMP checksum is computed / verified here.
 *
 * Addresses are struct in_addr (network byte order).  Values decoded from a packet are
 * borrowed: pointers (NAI, authenticators) point into the packet and live as long as it.
 * All functions return 0 or a negative errno-style code. */
#ifndef ROAM_MIP4_H
#define ROAM_MIP4_H
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#include "roam/auth.h"
#include "roam/buf.h"

#define MIP4_UDP_PORT 434

/* Message types (IANA "Mobile IP Message Types"; RO_* are roam's, docs section 4). */
enum mip4_msg_type {
	MIP4_MSG_REG_REQUEST = 1,       /* RFC 5944 3.3 */
	MIP4_MSG_REG_REPLY = 3,         /* RFC 5944 3.4 */
	MIP4_MSG_REGIONAL_REQUEST = 18, /* RFC 4857 */
	MIP4_MSG_REGIONAL_REPLY = 19,   /* RFC 4857 */
	MIP4_MSG_FBU = 20,              /* RFC 4988 Fast Binding Update */
	MIP4_MSG_FBACK = 21,            /* RFC 4988 Fast Binding Acknowledgment */
	MIP4_MSG_RO_WARNING = 240,      /* draft-ietf-mobileip-optim Binding Warning (was 16) */
	MIP4_MSG_RO_REQUEST = 241,      /* Binding Request (was 17) */
	MIP4_MSG_RO_UPDATE = 242,       /* Binding Update (was 18) */
	MIP4_MSG_RO_ACK = 243,          /* Binding Acknowledge (was 19) */
};

/* Layout families. */
enum mip4_layout {
	MIP4_LAYOUT_NONE = 0,
	MIP4_LAYOUT_REQUEST,    /* type, flags, lifetime, home, HA, CoA, id (24 bytes) */
	MIP4_LAYOUT_REPLY,      /* type, code, lifetime, home, HA, id (20 bytes) */
	MIP4_LAYOUT_RO_WARNING, /* type, 3 reserved, home, target (12 bytes) */
	MIP4_LAYOUT_RO_REQUEST, /* type, 3 reserved, home, id (16 bytes) */
	MIP4_LAYOUT_RO_UPDATE,  /* type, flags (A I M G + 4 reserved bits), lifetime, home, CoA, [id] (12/20 bytes) */
	MIP4_LAYOUT_RO_ACK,     /* type, flags(N), 2 reserved, home, id (16 bytes) */
};
/* Layout of a message type, MIP4_LAYOUT_NONE for a type roam does not speak. */
enum mip4_layout mip4_msg_layout(uint8_t type);

#define MIP4_REQUEST_LEN 24
#define MIP4_REPLY_LEN   20

/* Registration Request flags (RFC 5944 3.3; T: RFC 3024). */
#define MIP4_REQ_S 0x80 /* simultaneous bindings */
#define MIP4_REQ_B 0x40 /* broadcast datagrams */
#define MIP4_REQ_D 0x20 /* decapsulation by the mobile (co-located CoA) */
#define MIP4_REQ_M 0x10 /* minimal encapsulation */
#define MIP4_REQ_G 0x08 /* GRE encapsulation */
#define MIP4_REQ_r 0x04 /* reserved: sent 0, ignored */
#define MIP4_REQ_T 0x02 /* reverse tunnelling requested */
#define MIP4_REQ_x 0x01 /* reserved: sent 0, ignored */
#define MIP4_REQ_RESERVED (MIP4_REQ_r | MIP4_REQ_x)

/* Route-optimization Binding Update flags (draft-ietf-mobileip-optim 4.3). */
#define MIP4_BU_A 0x80 /* acknowledge requested */
#define MIP4_BU_I 0x40 /* Identification present */
#define MIP4_BU_M 0x20 /* minimal encapsulation */
#define MIP4_BU_G 0x10 /* GRE encapsulation */
#define MIP4_BU_RESERVED 0x0f
/* Binding Acknowledge flag. */
#define MIP4_BA_N 0x80 /* negative acknowledgement */

/* Reply codes (RFC 5944 3.4, RFC 3024 4.3 / 4.4). */
enum mip4_code {
	MIP4_CODE_ACCEPTED = 0,
	MIP4_CODE_ACCEPTED_NO_SIMUL = 1,
	/* denied by the foreign agent */
	MIP4_CODE_FA_UNSPECIFIED = 64,
	MIP4_CODE_FA_PROHIBITED = 65,
	MIP4_CODE_FA_RESOURCES = 66,
	MIP4_CODE_FA_MN_AUTH = 67,
	MIP4_CODE_FA_HA_AUTH = 68,
	MIP4_CODE_FA_LIFETIME = 69,
	MIP4_CODE_FA_BAD_REQUEST = 70,
	MIP4_CODE_FA_BAD_REPLY = 71,
	MIP4_CODE_FA_ENCAP = 72,
	MIP4_CODE_FA_VJ = 73,
	MIP4_CODE_FA_RT_UNAVAIL = 74,
	MIP4_CODE_FA_RT_MANDATORY = 75,
	MIP4_CODE_FA_TOO_DISTANT = 76,
	MIP4_CODE_FA_INVALID_COA = 77,
	MIP4_CODE_FA_TIMEOUT = 78,
	MIP4_CODE_FA_DELIVERY_STYLE = 79,
	MIP4_CODE_FA_HOME_NET_UNREACH = 80,
	MIP4_CODE_FA_HA_HOST_UNREACH = 81,
	MIP4_CODE_FA_HA_PORT_UNREACH = 82,
	MIP4_CODE_FA_HA_UNREACH = 88,
	/* denied by the home agent */
	MIP4_CODE_HA_UNSPECIFIED = 128,
	MIP4_CODE_HA_PROHIBITED = 129,
	MIP4_CODE_HA_RESOURCES = 130,
	MIP4_CODE_HA_MN_AUTH = 131,
	MIP4_CODE_HA_FA_AUTH = 132,
	MIP4_CODE_HA_ID_MISMATCH = 133,
	MIP4_CODE_HA_BAD_REQUEST = 134,
	MIP4_CODE_HA_TOO_MANY = 135,
	MIP4_CODE_HA_UNKNOWN_HA = 136,
	MIP4_CODE_HA_RT_UNAVAIL = 137,
	MIP4_CODE_HA_RT_MANDATORY = 138,
	MIP4_CODE_HA_ENCAP = 139,
};
/* 1 for codes 0 and 1. */
int mip4_code_accepted(uint8_t code);

/* Extension types of port-434 messages (IANA "Extensions to Mobile IP Registration
 * Messages"; 35 from draft-ietf-mobileip-optim). */
enum mip4_ext_type {
	MIP4_EXT_MN_HA_AUTH = 32,   /* RFC 5944 3.5.2 */
	MIP4_EXT_MN_FA_AUTH = 33,   /* RFC 5944 3.5.3 */
	MIP4_EXT_FA_HA_AUTH = 34,   /* RFC 5944 3.5.4 */
	MIP4_EXT_RO_AUTH = 35,      /* draft-ietf-mobileip-optim 5 */
	MIP4_EXT_GEN_AUTH = 36,     /* RFC 3012 generalized authentication, 16-bit length */
	MIP4_EXT_GFA_ADDR = 46,     /* RFC 4857 GFA IP Address */
	MIP4_EXT_ENCAP_DELIVERY = 130, /* RFC 3024 3.3 Encapsulating Delivery Style */
	MIP4_EXT_NAI = 131,         /* RFC 2794 Mobile Node NAI */
	MIP4_EXT_HIER_FA = 140,     /* RFC 4857 Hierarchical Foreign Agent */
	MIP4_EXT_RO_RELAY = 240,    /* roam: message to relay behind the data (Binding Update
	                             * from the HA; docs/protocols/mipv4.md 4, 8.4), skippable */
};
/* Generalized authentication subtypes (IANA "Generalized Authentication Extension"). */
enum {
	MIP4_GEN_MN_AAA = 1, /* RFC 3012: not supported (the extension is then unknown) */
	MIP4_GEN_FA_FA = 2,  /* RFC 4857 */
	MIP4_GEN_MN_GFA = 3, /* RFC 4857 */
	MIP4_GEN_MN_PAR = 4, /* RFC 4988 */
};

/* Authentication extensions roam knows, as an index. */
enum mip4_auth_kind {
	MIP4_AUTH_MN_HA = 0,
	MIP4_AUTH_MN_FA,
	MIP4_AUTH_FA_HA,
	MIP4_AUTH_RO,     /* route optimization (HA <-> CN, MN <-> CN) */
	MIP4_AUTH_FA_FA,  /* generalized, subtype 2 */
	MIP4_AUTH_MN_GFA, /* generalized, subtype 3 */
	MIP4_AUTH_MN_PAR, /* generalized, subtype 4 (FBU to the old FA) */
	MIP4_AUTH_KINDS
};
const char *mip4_auth_name(enum mip4_auth_kind kind);

/* One authentication extension as decoded (or to be encoded verbatim). */
struct mip4_auth {
	uint8_t present;
	uint32_t spi;
	const uint8_t *mac;  /* borrowed */
	uint8_t mac_len;
	size_t ext_off;      /* decode: offset of the extension's Type byte */
	size_t covered;      /* decode: bytes the authenticator covers (offset of the MAC) */
};

#define MIP4_NAI_MAX 255

/* Bits of struct mip4_msg.exts. */
#define MIP4_HAS_NAI            0x01
#define MIP4_HAS_ENCAP_DELIVERY 0x02
#define MIP4_HAS_GFA_ADDR       0x04
#define MIP4_HAS_HIER_FA        0x08
#define MIP4_HAS_RO_RELAY       0x10 /* relay_dst, relay, relay_len */

#define MIP4_RO_RELAY_MAX 251 /* bytes of the relayed message (extension length - 4) */

/* A decoded (or to-be-encoded) control message.  Fields a layout does not carry are 0. */
struct mip4_msg {
	uint8_t type;
	uint8_t flags;            /* request / BU / BA flags */
	uint8_t code;             /* replies */
	uint16_t lifetime;        /* seconds; 0 = deregistration; 0xffff = infinity */
	struct in_addr home;      /* home address */
	struct in_addr ha;        /* home agent (FBU/FBAck: the old FA; regional: the HA) */
	struct in_addr coa;       /* care-of address (request layouts, BU) */
	struct in_addr target;    /* Binding Warning: the correspondent */
	uint64_t id;              /* Identification */
	uint8_t has_id;           /* 1 except in a Binding Update without I, and Warning */

	uint32_t exts;            /* MIP4_HAS_* */
	uint32_t exts_late;       /* MIP4_HAS_* of those that came after the sender's own
	                           * authenticator (MN-HA, RO, MN-GFA or MN-PAR), so are not
	                           * protected by it (docs 3.3) */
	const uint8_t *nai;       /* borrowed */
	uint8_t nai_len;
	struct in_addr gfa_addr;
	struct in_addr hier_fa;
	struct in_addr relay_dst; /* RO relay extension (240): where to send relay (UDP 434) */
	const uint8_t *relay;     /* borrowed: the message to relay, 1..MIP4_RO_RELAY_MAX bytes */
	uint8_t relay_len;
	struct mip4_auth auth[MIP4_AUTH_KINDS];

	uint16_t n_skipped;       /* decode: unknown skippable (>= 128) extensions ignored */
	int bad_ext;              /* decode: on -EBADMSG/-ENOTSUP the extension type at fault,
	                           * -1 for the fixed part */
	size_t len;               /* decode: bytes of the message */
};

/* Decodes a whole UDP payload.  Extensions must fill the payload exactly.
 * -EPROTONOSUPPORT: a message type roam does not speak (m->type is set);
 * -EBADMSG: truncated, bad extension length, duplicate extension, extension that does not
 *   fit the message;
 * -ENOTSUP: an unknown extension with type < 128 (RFC 5944 1.8: discard silently). */
int mip4_msg_decode(const void *pkt, size_t len, struct mip4_msg *m);

/* Encodes m: fixed part, then NAI, Encapsulating Delivery Style, GFA address, Hierarchical
 * FA, then the authentication extensions present in m->auth (written verbatim, in kind
 * order; use mip4_auth_append() to compute them instead).
 * -EINVAL: unknown type, NAI empty or too long; or w->err. */
int mip4_msg_encode(struct wbuf *w, const struct mip4_msg *m);

/* Appends an authentication extension of kind with spi, the authenticator computed under
 * key over w's bytes from msg_off (the message's first byte) to the end, plus the
 * extension's own header and SPI (RFC 5944 3.5.1).  key is borrowed.
 * -EINVAL: bad kind / key; -EIO: libcrypto; or w->err. */
int mip4_auth_append(struct wbuf *w, size_t msg_off, enum mip4_auth_kind kind, uint32_t spi,
                     const struct roam_key *key);

/* Verifies the authentication extension of kind in m (decoded from pkt) under key.
 * 0: valid; -ENOENT: absent; -EBADMSG: authenticator wrong (or of the wrong length);
 * -EINVAL / -EIO as auth_mac_verify. */
int mip4_auth_verify(const void *pkt, const struct mip4_msg *m, enum mip4_auth_kind kind,
                     const struct roam_key *key);

/* Bytes of pkt to keep when relaying up to and including the extension of kind (an FA
 * drops what follows the MN-HA extension before adding its FA-HA one, RFC 5944 3.7.2.1).
 * -ENOENT when absent. */
int mip4_auth_end(const struct mip4_msg *m, enum mip4_auth_kind kind, size_t *keep);

/* Names for logs; never NULL. */
const char *mip4_msg_name(uint8_t type);
const char *mip4_code_name(uint8_t code);

/* ---- Identification (RFC 5944 5.7, timestamps) ----------------------------------------- */

#define MIP4_ID_TOLERANCE_S 7 /* default replay tolerance, seconds */

/* Identification for a request sent at Unix time now_ms, corrected by the mobile's offset
 * (mip4_id_resync_offset); the NTP fraction makes consecutive values distinct.
 * It is at least last + 2 so that roam's deregistration-reply Identification of the
 * previous request (last + 1 in the low word) can never be reused (docs 5.3). */
uint64_t mip4_id_next(uint64_t now_ms, int64_t offset, uint64_t last);
/* Checks a request's Identification against the receiver's NTP time now_ntp:
 * 0 when |id - now| <= tolerance_s seconds; -ERANGE otherwise (reply 133 then). */
int mip4_id_check(uint64_t id, uint64_t now_ntp, unsigned tolerance_s);
/* Identification of a code-133 reply: the receiver's NTP seconds in the high 32 bits, the
 * request's low 32 bits (RFC 5944 5.7). */
uint64_t mip4_id_resync(uint64_t request_id, uint64_t now_ntp);
/* Offset the mobile adds to its clock after an authenticated 133 reply whose low 32 bits
 * match its request: (reply high 32 bits - request high 32 bits) seconds, in NTP units. */
int64_t mip4_id_resync_offset(uint64_t reply_id, uint64_t request_id);
/* roam's deregistration reply for the synchronized handoff: the request's Identification
 * with the low 32 bits incremented (no carry). */
uint64_t mip4_id_dereg(uint64_t request_id);
/* 1 when reply_id answers request_id (low 32 bits equal), 2 when it is the deregistration
 * reply of that request (mip4_id_dereg), 0 otherwise. */
int mip4_id_match(uint64_t reply_id, uint64_t request_id);

/* ---- Agent Advertisement / Solicitation (RFC 5944 2.1, RFC 1256) ------------------------ */

#define MIP4_ICMP_ADVERT  9
#define MIP4_ICMP_SOLICIT 10
#define MIP4_ADV_CODE_NORMAL     0
#define MIP4_ADV_CODE_MOBILE_ONLY 16 /* does not route common traffic (RFC 5944 2.1) */
#define MIP4_ADV_EXT_PAD    0
#define MIP4_ADV_EXT_MA     16
#define MIP4_ADV_EXT_PREFIX 19

/* Mobility Agent Advertisement flags (16 bits on the wire). */
#define MIP4_MA_R 0x8000 /* registration required */
#define MIP4_MA_B 0x4000 /* busy */
#define MIP4_MA_H 0x2000 /* home agent */
#define MIP4_MA_F 0x1000 /* foreign agent */
#define MIP4_MA_M 0x0800 /* minimal encapsulation */
#define MIP4_MA_G 0x0400 /* GRE */
#define MIP4_MA_r 0x0200 /* reserved, sent 0 */
#define MIP4_MA_T 0x0100 /* reverse tunnelling (RFC 3024) */
#define MIP4_MA_U 0x0080 /* UDP tunnelling (RFC 3519) */
#define MIP4_MA_X 0x0040 /* revocation (RFC 3543) */
#define MIP4_MA_I 0x0020 /* regional registration (RFC 4857) */
#define MIP4_MA_RESERVED 0x021f

#define MIP4_ADV_MAX_ROUTERS 8
#define MIP4_ADV_MAX_COA     8

struct mip4_adv_router {
	struct in_addr addr;
	int32_t pref;
};

struct mip4_adv {
	uint8_t code;
	uint16_t lifetime;                     /* ICMP advertisement lifetime, seconds */
	uint8_t n_routers;
	struct mip4_adv_router routers[MIP4_ADV_MAX_ROUTERS];
	uint8_t has_ma;                        /* Mobility Agent Advertisement present */
	uint16_t seq;
	uint16_t reg_lifetime;
	uint16_t flags;                        /* MIP4_MA_* */
	uint8_t n_coa;
	struct in_addr coa[MIP4_ADV_MAX_COA];
	uint8_t n_prefix;                      /* Prefix-Lengths extension (0: absent) */
	uint8_t prefix_len[MIP4_ADV_MAX_ROUTERS];
	uint16_t n_skipped;                    /* decode: skippable unknown extensions */
	uint8_t n_pad;                         /* decode: one-byte padding extensions */
};

/* Decodes an ICMP Router Advertisement (the ICMP message, IP header excluded), checksum
 * verified.  -EBADMSG: truncated, bad checksum, address entry size != 2, more routers or
 * care-of addresses than the arrays hold, bad extension length, duplicate extension;
 * -ENOTSUP: unknown extension type < 128; -EPROTONOSUPPORT: not ICMP type 9. */
int mip4_adv_decode(const void *icmp, size_t len, struct mip4_adv *a);
/* Encodes a with the checksum computed; the Prefix-Lengths extension when n_prefix > 0.
 * -EINVAL: counts out of range; or w->err. */
int mip4_adv_encode(struct wbuf *w, const struct mip4_adv *a);
/* Agent Solicitation = ICMP Router Solicitation (type 10, code 0, 4 reserved bytes).
 * decode: -EBADMSG (short, checksum, code != 0), -EPROTONOSUPPORT (other type). */
int mip4_sol_decode(const void *icmp, size_t len);
int mip4_sol_encode(struct wbuf *w);

#endif
