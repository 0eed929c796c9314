/* The emulated access link between a mobile and its LAC (docs/protocols/access-link.md):
 * ATTACH, ATTACH-ACK/NAK, DETACH, KEEPALIVE/ACK and DATA (HDLC-like framed PPP) over UDP.
 * This is the codec and the per-link sequence-number check; the LAC side lives in lac/access.c. */
#ifndef ROAM_ACCESS_H
#define ROAM_ACCESS_H
#include <stddef.h>
#include <stdint.h>

#include "roam/buf.h"

#define ACCESS_MAGIC 0x524c /* "RL" */
#define ACCESS_VERSION 1
#define ACCESS_PORT 17010              /* the LAC's listening port */
#define ACCESS_GROUP "239.255.17.2"    /* the all-LACs group (RFC 2365 admin scope) */
#define ACCESS_HDR_LEN 12
#define ACCESS_MIN_LEN 10              /* exactly ten ASCII digits */
#define ACCESS_NAI_MAX 253
#define ACCESS_DATA_MAX 1400           /* DATA payload, octets after stuffing */
#define ACCESS_MSG_MAX (ACCESS_HDR_LEN + 15 + ACCESS_NAI_MAX)
#define ACCESS_TIMER_MIN_MS 100        /* keepalive/dead interval range */
#define ACCESS_TIMER_MAX_MS 60000

/* Message types (access-link.md, "Message format"). */
enum access_type {
	ACCESS_ATTACH = 1,
	ACCESS_ATTACH_ACK = 2,
	ACCESS_ATTACH_NAK = 3,
	ACCESS_DETACH = 4,
	ACCESS_KEEPALIVE = 5,
	ACCESS_KEEPALIVE_ACK = 6,
	ACCESS_DATA = 7,
};

/* ATTACH-NAK causes. */
enum access_nak_cause {
	ACCESS_NAK_NO_RESOURCES = 1,
	ACCESS_NAK_MALFORMED = 2,
	ACCESS_NAK_NO_LNS = 3,
	ACCESS_NAK_PROHIBITED = 4,
	ACCESS_NAK_VERSION = 5,
};

/* DETACH causes. */
enum access_detach_cause {
	ACCESS_DETACH_NORMAL = 0,
	ACCESS_DETACH_MOVING = 1,
	ACCESS_DETACH_UNKNOWN_LINK = 2,
	ACCESS_DETACH_SHUTDOWN = 3,
};

/* One decoded message.  Only the fields of `type` are meaningful; `data` borrows from the
 * decoded packet (valid as long as the packet buffer). */
struct access_msg {
	uint8_t version;   /* decode: as received; encode: always ACCESS_VERSION */
	uint8_t type;      /* enum access_type */
	uint32_t link_id;
	uint32_t seq;
	uint32_t nonce;                  /* ATTACH, ATTACH-ACK, ATTACH-NAK */
	char min[ACCESS_MIN_LEN + 1];    /* ATTACH, NUL-terminated */
	uint8_t nai_len;                 /* ATTACH, 0 when absent */
	char nai[ACCESS_NAI_MAX + 1];    /* ATTACH, NUL-terminated */
	uint32_t keepalive_ms, dead_ms;  /* ATTACH-ACK */
	uint16_t cause;                  /* ATTACH-NAK, DETACH */
	uint32_t timestamp;              /* KEEPALIVE, KEEPALIVE-ACK */
	const uint8_t *data;             /* DATA: framed PPP octets, borrowed */
	size_t data_len;                 /* DATA: 1..ACCESS_DATA_MAX */
};

/* Checks that a MIN is exactly ten ASCII digits (NUL-terminated string).  Returns 0 or -EINVAL. */
int access_min_valid(const char *min);

/* Checks a message's fields against the rules of its type (MIN, NAI, timer range and ratio,
 * DATA length).  On error returns -EINVAL and, if why is not NULL, a static reason. */
int access_msg_check(const struct access_msg *m, const char **why);

/* Appends the encoding of m to w (checked with access_msg_check first).  Returns 0, -EINVAL for
 * an invalid message (nothing written), or w's sticky error. */
int access_msg_encode(const struct access_msg *m, struct wbuf *w);

/* Decodes one UDP payload into m (zeroed first).  Returns 0 or:
 *   -EBADMSG          truncated header, bad magic, or a payload length wrong for the type;
 *   -EPROTONOSUPPORT  version != 1: m->type is set and, for an ATTACH long enough, m->nonce,
 *                     so the LAC can answer ATTACH-NAK cause 5;
 *   -ENOMSG           unknown type;
 *   -EINVAL           well-formed but invalid field (MIN not ten digits, NAI with NUL, timer out
 *                     of range): for ATTACH, m->nonce is set so the LAC can answer cause 2.
 * If why is not NULL it receives a static reason on error.  Nothing is allocated. */
int access_msg_decode(const void *pkt, size_t len, struct access_msg *m, const char **why);

/* Name of a message type ("ATTACH" ...), "unknown" otherwise. */
const char *access_type_name(unsigned type);

/* Receive sequence check of one link direction (access-link.md, "Sequence numbers"). */
struct access_seq {
	uint32_t next;      /* next expected number */
	uint64_t rx_lost;   /* messages skipped over */
	uint64_t rx_late;   /* duplicates and late, reordered messages */
};

/* Resets the expected number to 0 (a new link). */
void access_seq_init(struct access_seq *s);

/* Accounts for a received sequence number.  Returns 1 when it is the expected one or ahead
 * (accepted; the gap is added to rx_lost), 0 when it is behind (a duplicate or late message;
 * rx_late is incremented and the caller drops DATA and KEEPALIVE). */
int access_seq_accept(struct access_seq *s, uint32_t seq);

#endif
