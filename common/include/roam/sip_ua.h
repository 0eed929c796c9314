/* SIP user agent core shared by mnd and cnd (docs/protocols/sip-mobility.md part 3; sipd uses
 * its digest functions and sip_parser_init): RFC 3261
 * registration with digest (MD5, SHA-256 per RFC 8760) and refresh, INVITE / 200 / ACK as
 * caller and callee, re-INVITE with a new Contact and SDP when the agent's address changes,
 * BYE, UDP transactions with the timers of RFC 3261 17; plus the media the agent owns: an
 * RTP (RFC 3550) stream each way with receive statistics.
 *
 * Three layers:
 *   - sip_ua: the signalling state machines, without I/O: it is handed datagrams and `now`
 *     (monotonic ms) and sends through a callback, so unit tests drive it on a fake clock with
 *     a fake transport.  libosip2 parses every message received and builds the responses.
 *   - sip_rtp_*: the RTP header codec and the receive statistics (sans I/O as well).
 *   - sip_agent: the libuv glue of a daemon module: the SIP UDP socket, the timer tick, one
 *     media socket and send timer per call, JSON status and counters.
 *
 * Config: struct sip_agent_conf, schema sip_agent_conf_schema (a `sip:` section of mnd.yaml and
 * cnd.yaml, mnd.yaml(5) / cnd.yaml(5)).
 *
 * Link with -losipparser2. */
#ifndef ROAM_SIP_UA_H
#define ROAM_SIP_UA_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "roam/addr.h"
#include "roam/conf.h"
#include "roam/ctl.h"
#include "roam/json.h"

/* RFC 3261 17.1.1.1 and table 4 */
#define SIP_T1_MS 500
#define SIP_T2_MS 4000
#define SIP_T4_MS 5000
#define SIP_MAX_SERVERS 4
#define SIP_MAX_CALLS 8
#define SIP_MAX_TXN 32
/* docs/protocols/sip-mobility.md 4.2 */
#define SIP_NATC_TAG "x-roam-nat-continuity"
#define SIP_NATC_HEADER "X-Roam-Previous-Contact"

/* ---- configuration (common/proto/sip/conf.c) ---- */

struct sip_agent_media_conf {
	uint64_t port;          /* first local RTP port; call i uses port + 2 i */
	uint64_t rate;          /* packets per second sent */
	uint64_t payload_size;  /* RTP payload bytes */
};

struct sip_agent_conf {
	char *aor;              /* "sip:user@domain"; NULL: section absent */
	char *user;             /* digest user name; default: the AOR's user part */
	struct conf_bytes password;
	struct roam_sockaddr *servers; /* registrars; servers[0] is also the outbound proxy */
	size_t nservers;
	char *interface;        /* interface whose IPv4 address is the contact; "" any */
	struct roam_ipaddr address;    /* fixed contact address (family 0: from interface) */
	uint64_t local_port;
	uint64_t expires;       /* s */
	bool nat_continuity;    /* mnd only (sip-mobility.md part 4) */
	char *auto_call;        /* URI called once registered; "" none */
	struct sip_agent_media_conf media;
};

extern const struct conf_schema sip_agent_conf_schema;

/* ---- digest (common/proto/sip/digest.c) ---- */

enum sip_digest_alg { SIP_DIGEST_MD5 = 0, SIP_DIGEST_SHA256 = 1 };

/* Lower-case hex of H(text) (32 or 64 digits + NUL).  Returns 0 or -EIO. */
int sip_digest_hex(enum sip_digest_alg alg, const char *text, size_t len, char out[65]);
/* HA1 = H(user:realm:password) as hex (RFC 2617 3.2.2.2).  Returns 0 or -EIO / -ENOMEM. */
int sip_digest_ha1(enum sip_digest_alg alg, const char *user, const char *realm,
		   const char *password, char out[65]);
/* The request-digest from a hex HA1 (a registrar's stored one): HA2 = H(method:uri), with qop:
 * H(HA1:nonce:nc:cnonce:qop:HA2), without (qop NULL, RFC 2069): H(HA1:nonce:HA2). */
int sip_digest_response_ha1(enum sip_digest_alg alg, const char *ha1, const char *nonce,
			    const char *nc, const char *cnonce, const char *qop,
			    const char *method, const char *uri, char out[65]);
/* The RFC 2617 / RFC 8760 request-digest of a client: sip_digest_ha1 then
 * sip_digest_response_ha1 (HA1 wiped afterwards). */
int sip_digest_response(enum sip_digest_alg alg, const char *user, const char *realm,
			const char *password, const char *nonce, const char *nc,
			const char *cnonce, const char *qop, const char *method, const char *uri,
			char out[65]);

/* ---- SDP (common/proto/sip/sdp.c) ---- */

/* Writes a one-audio-stream offer/answer (RFC 4566/3264): c= addr, m=audio port RTP/AVP 0.
 * Returns the length written, or -ENOSPC. */
int sip_sdp_build(char *buf, size_t len, const struct roam_ipaddr *addr, uint16_t port,
		  uint64_t sess_id, uint64_t version);
/* Reads the connection address (session- or media-level c=) and the first audio port.
 * -EBADMSG when either is missing or malformed. */
int sip_sdp_parse(const char *body, size_t len, struct roam_sockaddr *media);

/* ---- RTP (common/proto/sip/rtp.c; RFC 3550 5.1) ---- */

#define SIP_RTP_HDR 12
#define SIP_RTP_PT_PCMU 0

struct sip_rtp_hdr {
	uint8_t pt;
	bool marker;
	uint16_t seq;
	uint32_t ts, ssrc;
};

/* Encodes the 12-byte fixed header (V=2, no padding, extension or CSRC) then payload_len
 * bytes of 0xff.  Returns the length or -ENOSPC. */
int sip_rtp_encode(const struct sip_rtp_hdr *h, size_t payload_len, uint8_t *buf, size_t len);
/* Decodes the fixed header (skipping CSRCs and an extension); -EBADMSG unless V=2 and the
 * header fits.  *payload_off is the payload's offset. */
int sip_rtp_decode(const uint8_t *buf, size_t len, struct sip_rtp_hdr *h, size_t *payload_off);

/* Receive statistics of one stream. */
struct sip_rtp_rx {
	bool started;
	uint32_t ssrc;
	uint16_t max_seq;
	uint32_t cycles;          /* sequence number wraps, << 16 */
	uint32_t base_seq;
	uint64_t received;
	uint64_t last_ms;         /* arrival of the last packet */
	uint64_t longest_gap_ms;  /* longest time between two packets */
	uint64_t gap_end_ms;      /* when that gap ended */
	uint64_t reordered;       /* late or duplicate packets */
	struct roam_sockaddr from;/* source of the last packet */
};

/* Accounts one packet received at now from src (borrowed).  A new SSRC restarts the sequence
 * accounting but keeps the counters. */
void sip_rtp_rx_account(struct sip_rtp_rx *s, const struct sip_rtp_hdr *h,
			const struct roam_sockaddr *src, uint64_t now);
/* Packets expected minus received (0 if negative). */
uint64_t sip_rtp_rx_lost(const struct sip_rtp_rx *s);

/* ---- UA core (common/proto/sip/ua.c) ---- */

enum sip_call_state {
	SIP_CALL_IDLE = 0,
	SIP_CALL_CALLING,      /* INVITE sent, no final yet */
	SIP_CALL_CONFIRMED,    /* 2xx / ACK */
	SIP_CALL_TERMINATED,
};

enum sip_call_event {
	SIP_CALL_EV_ESTABLISHED, /* media target known, start streaming */
	SIP_CALL_EV_MEDIA,       /* peer's media address changed (re-INVITE either way) */
	SIP_CALL_EV_ENDED,       /* BYE, failure, timeout: the slot is freed after the callback */
};

enum sip_reg_state { SIP_REG_IDLE = 0, SIP_REG_PENDING, SIP_REG_OK, SIP_REG_FAILED };

/* Result of a NAT continuity claim (sip-mobility.md 4): accepted (200 with the header echoed),
 * or refused / not supported (420, 403, anything else). */
enum sip_natc_result { SIP_NATC_ACCEPTED, SIP_NATC_REFUSED };

struct sip_call {
	bool used;
	unsigned id;                  /* stable number for control commands */
	enum sip_call_state state;
	bool outgoing;
	char call_id[96];
	char local_tag[24], remote_tag[64];
	char local_uri[128], remote_uri[256]; /* From / To of the dialog (our side first) */
	char remote_target[256];      /* peer's Contact URI */
	char route[4][256];           /* route set, in the order the requests carry it */
	unsigned nroute;
	uint32_t local_cseq, remote_cseq;
	uint16_t local_media_port;
	struct roam_sockaddr peer_media;  /* from the peer's latest SDP */
	uint64_t sdp_version;
	uint64_t sdp_sess;
	unsigned reinvites_sent, reinvites_rcvd;
	bool reinvite_pending;        /* our re-INVITE not answered yet */
	bool reinvite_again;          /* address changed again meanwhile */
	int auth_tries;
	char last_ack[1024];          /* for re-ACKing a retransmitted 2xx */
	size_t last_ack_len;
	uint32_t acked_cseq;
	struct roam_sockaddr ack_dst;
	uint64_t started_ms, established_ms;
};

struct sip_ua_stats {
	uint64_t rx_messages, tx_messages;
	uint64_t tx_register, rx_register_ok, rx_register_challenge, register_failures;
	uint64_t tx_invite, tx_reinvite, rx_invite, rx_reinvite;
	uint64_t tx_bye, rx_bye, tx_ack, rx_ack;
	uint64_t retransmissions, timeouts;
	uint64_t moves, natc_accepted, natc_refused;
	uint64_t drop_unparseable, drop_stray_response, drop_no_dialog, drop_bad_request;
};

/* What the UA calls back (arg is sip_ua_params.arg). */
struct sip_ua_io {
	/* Sends one datagram; the buffer is borrowed.  Returns 0 or -errno (counted, no retry
	 * beyond the transaction timers). */
	int (*send)(void *arg, const struct roam_sockaddr *dst, const char *buf, size_t len);
	/* A call changed (the call is borrowed; on ENDED it is freed after the callback). */
	void (*call_event)(void *arg, struct sip_call *c, enum sip_call_event ev);
	/* The answer to a REGISTER carrying a NAT continuity claim; may be NULL. */
	void (*natc_result)(void *arg, unsigned server, const struct roam_ipaddr *old,
			    const struct roam_ipaddr *new_addr, enum sip_natc_result res);
};

struct sip_ua_params {
	const char *aor;              /* copied */
	const char *user;             /* NULL: user part of aor */
	const char *password;         /* copied; NULL: no credentials */
	const struct roam_sockaddr *servers;
	size_t nservers;              /* 0..SIP_MAX_SERVERS; servers[0] is the outbound proxy */
	uint16_t sip_port;            /* our port in Via and Contact */
	uint16_t media_port;          /* call i gets media_port + 2 i */
	uint32_t expires;             /* s */
	bool nat_continuity;
	const struct sip_ua_io *io;
	void *arg;
};

struct sip_ua;

/* libosip2's parser_init() once per process, with its own trace messages silenced (the callers
 * count and log their drops).  sip_ua_new() calls it. */
void sip_parser_init(void);

struct sip_reg_info {
	enum sip_reg_state state;
	int last_code;
	uint32_t expires;             /* granted, s */
	uint64_t registered_ms;       /* last 200 */
	struct roam_sockaddr server;
};

/* Creates a UA (not yet registered).  -EINVAL for a malformed AOR or too many servers,
 * -ENOMEM.  Calls sip_parser_init(). */
int sip_ua_new(const struct sip_ua_params *p, struct sip_ua **out);
void sip_ua_free(struct sip_ua *ua);          /* NULL is a no-op */

/* Sets the agent's address (contact, Via, SDP).  The first call only records it; a change
 * afterwards is a move: every server is re-registered (with the NAT continuity claim when
 * enabled) and every confirmed call re-INVITEd (at once without NAT continuity; after the
 * registrar refused the claim with it).  An unset address (family 0) suspends sending. */
void sip_ua_set_address(struct sip_ua *ua, const struct roam_ipaddr *a, uint64_t now);
const struct roam_ipaddr *sip_ua_address(const struct sip_ua *ua);
/* Registers with every server (expires 0: deregisters).  Refreshes follow by themselves. */
void sip_ua_register(struct sip_ua *ua, uint32_t expires, uint64_t now);
/* Calls uri (copied) through servers[0] (or directly when there is no server).  Returns the
 * call (borrowed), -EBUSY (table full), -EINVAL (uri), -EAGAIN (no address yet). */
int sip_ua_call(struct sip_ua *ua, const char *uri, uint64_t now, struct sip_call **out);
/* Sends BYE (confirmed) or gives up (calling: the call ends when the INVITE ends). */
int sip_ua_hangup(struct sip_ua *ua, struct sip_call *c, uint64_t now);
/* Sends a re-INVITE with the current Contact and SDP. */
int sip_ua_reinvite(struct sip_ua *ua, struct sip_call *c, uint64_t now);
/* One datagram from src (both borrowed).  Never fails: bad input is counted and dropped. */
void sip_ua_input(struct sip_ua *ua, const void *data, size_t len,
		  const struct roam_sockaddr *src, uint64_t now);
/* Runs the timers due at now; call at least every 50 ms. */
void sip_ua_tick(struct sip_ua *ua, uint64_t now);

const struct sip_ua_stats *sip_ua_stats(const struct sip_ua *ua);
size_t sip_ua_nservers(const struct sip_ua *ua);
void sip_ua_reg_info(const struct sip_ua *ua, unsigned server, struct sip_reg_info *out);
/* Call slot i (0..SIP_MAX_CALLS-1) or NULL if unused. */
struct sip_call *sip_ua_call_at(struct sip_ua *ua, unsigned i);
struct sip_call *sip_ua_call_by_id(struct sip_ua *ua, unsigned id);
const char *sip_call_state_name(enum sip_call_state s);

/* ---- agent: the libuv glue (common/proto/sip/agent.c) ---- */

struct sip_agent;

struct sip_agent_hooks {
	/* NAT continuity outcome (mnd installs or skips its rewrite); may be NULL. */
	void (*natc_result)(void *arg, const struct roam_ipaddr *old,
			    const struct roam_ipaddr *new_addr, enum sip_natc_result res);
	/* Members the daemon adds after sip_agent_status's own (mnd's rewrite counters); may be
	 * NULL. */
	void (*status)(void *arg, struct json_writer *w);
	void *arg;
};

/* Opens the SIP socket (0.0.0.0:local_port) and the tick timer; conf is borrowed for the
 * agent's lifetime.  The agent registers once it has an address (sip_agent_set_address, or
 * conf->address).  Errors: -errno of the socket, -EINVAL, -ENOMEM. */
int sip_agent_open(uv_loop_t *loop, const struct sip_agent_conf *conf,
		   const struct sip_agent_hooks *hooks, struct sip_agent **out);
/* Deregisters (best effort), hangs up, closes every handle; frees in the close callbacks. */
void sip_agent_close(struct sip_agent *a);
void sip_agent_set_address(struct sip_agent *a, const struct roam_ipaddr *addr);
struct sip_ua *sip_agent_ua(struct sip_agent *a);
int sip_agent_call(struct sip_agent *a, const char *uri, char *err, size_t errlen);
int sip_agent_hangup(struct sip_agent *a, unsigned id, char *err, size_t errlen);
/* Members "aor", "address", "registrations" [..], "calls" [.. with media stats], "last_call",
 * "counters", then the hooks' status members. */
void sip_agent_status(struct sip_agent *a, struct json_writer *w);

/* The glue a daemon's sip module shares (mnd, cnd; mnd(8) / cnd(8) CONTROL COMMANDS). */

/* A reload with the new section c (old: the running one, both borrowed): -EINVAL with a message
 * in err when the AOR or local_port changed or the section is gone (c->aor NULL: they need a
 * restart); otherwise 0, logging that the other changes wait for the next restart (the running
 * agent borrows its config). */
int sip_agent_reload(const struct sip_agent_conf *c, const struct sip_agent_conf *old, char *err,
		     size_t errlen);
/* Registers the control commands "sip" (sip_agent_status as an object), "sip-call" {uri}
 * (-> {"call": id}) and "sip-hangup" {call} on ctl; a is borrowed by ctl (close the agent only
 * when the ctl no longer runs commands: at shutdown).  Errors as ctl_register. */
int sip_agent_ctl_register(struct sip_agent *a, struct roam_ctl *ctl);

#endif
