/* PPP in user space (docs/protocols/ppp.md): RFC 1661 (LCP and the option negotiation
 * automaton), RFC 1334 PAP, RFC 1994 CHAP-MD5, RFC 1332 IPCP with RFC 1877 DNS, and RFC 1662
 * HDLC-like framing.  One implementation for both ends: the authenticator ("server", lnsd)
 * and the peer ("client", mnd).
 *
 * struct ppp is a pure state machine: no sockets, no clock reads.  The owner
 *   - calls ppp_start() when the carrier is up (access link attached, L2TP session set up);
 *   - feeds every received PPP frame (protocol + information field, address/control and
 *     framing removed: ppp_frame_parse / ppp_hdlc_decode do that) to ppp_input();
 *   - calls ppp_tick() at ppp_next_timeout() (or later) for the restart timers, the
 *     authentication timers and the echo keepalive;
 *   - gets every frame to transmit through ops.output and state changes through ops.event.
 * Callbacks run inside ppp_start/_input/_tick/_close/_lower_down; they must not free the
 * struct ppp (defer it until the call returns; after PPP_EV_LINK_DOWN it is dead anyway).
 * All addresses are IPv4 in host byte order; 0 means "none". */
#ifndef ROAM_PPP_H
#define ROAM_PPP_H
#include <stddef.h>
#include <stdint.h>

#include "roam/buf.h"

/* ---- Protocol numbers (RFC 1661 2, IANA PPP DLL protocol numbers) ---------------------- */
#define PPP_PROTO_IP   0x0021 /* RFC 1332 */
#define PPP_PROTO_IPV6 0x0057
#define PPP_PROTO_IPCP 0x8021 /* RFC 1332 */
#define PPP_PROTO_LCP  0xc021 /* RFC 1661 */
#define PPP_PROTO_PAP  0xc023 /* RFC 1334 */
#define PPP_PROTO_CHAP 0xc223 /* RFC 1994 */

/* Control protocol codes (RFC 1661 5; IPCP uses 1..7 only, RFC 1332 2) */
#define PPP_CONFREQ 1
#define PPP_CONFACK 2
#define PPP_CONFNAK 3
#define PPP_CONFREJ 4
#define PPP_TERMREQ 5
#define PPP_TERMACK 6
#define PPP_CODEREJ 7
#define PPP_PROTREJ 8  /* LCP only, RFC 1661 5.7 */
#define PPP_ECHOREQ 9  /* LCP only, RFC 1661 5.8 */
#define PPP_ECHOREP 10
#define PPP_DISCREQ 11

/* LCP options (RFC 1661 6, RFC 1662 7.1) */
#define PPP_LCP_MRU   1
#define PPP_LCP_ACCM  2 /* RFC 1662 7.1 */
#define PPP_LCP_AUTH  3
#define PPP_LCP_QUAL  4 /* not supported: rejected */
#define PPP_LCP_MAGIC 5
#define PPP_LCP_PFC   7
#define PPP_LCP_ACFC  8

/* IPCP options (RFC 1332 3, RFC 1877 1) */
#define PPP_IPCP_ADDRS    1   /* deprecated IP-Addresses: rejected */
#define PPP_IPCP_COMP     2   /* IP-Compression-Protocol (VJ): rejected */
#define PPP_IPCP_ADDR     3
#define PPP_IPCP_DNS1     129 /* RFC 1877 */
#define PPP_IPCP_NBNS1    130 /* rejected */
#define PPP_IPCP_DNS2     131
#define PPP_IPCP_NBNS2    132 /* rejected */

/* PAP codes (RFC 1334 2.2) and CHAP codes (RFC 1994 4) */
#define PPP_PAP_REQ   1
#define PPP_PAP_ACK   2
#define PPP_PAP_NAK   3
#define PPP_CHAP_CHALLENGE 1
#define PPP_CHAP_RESPONSE  2
#define PPP_CHAP_SUCCESS   3
#define PPP_CHAP_FAILURE   4
#define PPP_CHAP_MD5       5 /* Algorithm field of the Authentication-Protocol option */

#define PPP_MRU_DEFAULT 1500
#define PPP_MRU_MIN     128  /* smallest peer MRU we accept; a smaller one is Nak'ed to this */
#define PPP_MRU_MAX     4096 /* largest MRU we offer or honour */
#define PPP_PKT_MAX     (PPP_MRU_MAX) /* largest control packet we build */
#define PPP_NAME_MAX    63   /* PAP Peer-ID / CHAP Name */
#define PPP_SECRET_MAX  64
#define PPP_CHAP_CHALLENGE_LEN 16

/* ---- Control packet and option codecs ------------------------------------------------ */

/* A control packet (LCP, IPCP, PAP, CHAP: Code, Identifier, Length, Data).  data borrowed. */
struct ppp_cp {
	uint8_t code, id;
	const uint8_t *data; /* Length - 4 bytes */
	size_t len;
};
/* Decodes the header.  Octets beyond Length are padding (RFC 1661 5) and ignored.
 * -EBADMSG: fewer than 4 bytes, Length < 4 or Length > len. */
int ppp_cp_decode(const uint8_t *p, size_t len, struct ppp_cp *cp);
/* Writes code, id, Length and data.  Errors: -EMSGSIZE (longer than 65535), or w->err. */
int ppp_cp_encode(struct wbuf *w, uint8_t code, uint8_t id, const void *data, size_t len);

/* One option of a Configure-* list (type, length, value: value borrowed). */
struct ppp_opt {
	uint8_t type;
	const uint8_t *val;
	uint8_t len; /* value bytes (option Length - 2) */
};
/* Next option from an option list.  1: *o filled; 0: end of list; -EBADMSG: an option with
 * Length < 2 or running past the list (the whole list is malformed). */
int ppp_opt_next(struct rbuf *r, struct ppp_opt *o);
/* Checks a whole option list: 0, or -EBADMSG. */
int ppp_opts_check(const uint8_t *p, size_t len);

/* LCP options as a host struct (codec for tests, logging and our own requests).  `has` holds
 * PPP_OPT_BIT(type) for each option present; encode writes them in ascending type order. */
#define PPP_OPT_BIT(t) (1u << (t))
struct ppp_lcp_opts {
	uint32_t has;
	uint16_t mru;
	uint32_t accm;
	uint16_t auth_proto; /* PPP_PROTO_PAP or PPP_PROTO_CHAP */
	uint8_t auth_alg;    /* CHAP: algorithm (5 = MD5); 0 for PAP */
	uint32_t magic;
};
/* Decodes an LCP option list.  -EBADMSG: malformed list, wrong length for a known option,
 * an unknown option or one listed twice; -ENOTSUP: an authentication protocol other than PAP
 * or CHAP (any algorithm is decoded into auth_alg). */
int ppp_lcp_opts_decode(const uint8_t *p, size_t len, struct ppp_lcp_opts *o);
int ppp_lcp_opts_encode(struct wbuf *w, const struct ppp_lcp_opts *o);

/* IPCP options (IP-Address, primary and secondary DNS). */
struct ppp_ipcp_opts {
	uint32_t has; /* PPP_IPCP_BIT_* */
	uint32_t addr, dns1, dns2;
};
#define PPP_IPCP_BIT_ADDR 0x1
#define PPP_IPCP_BIT_DNS1 0x2
#define PPP_IPCP_BIT_DNS2 0x4
/* -EBADMSG: malformed, a known option of the wrong length or listed twice, an unknown one. */
int ppp_ipcp_opts_decode(const uint8_t *p, size_t len, struct ppp_ipcp_opts *o);
int ppp_ipcp_opts_encode(struct wbuf *w, const struct ppp_ipcp_opts *o);

/* PAP packet (RFC 1334 2.2): Authenticate-Request carries peer_id and passwd, Ack and Nak
 * carry msg.  Pointers borrowed. */
struct ppp_pap {
	uint8_t code, id;
	const uint8_t *peer_id, *passwd, *msg;
	uint8_t peer_id_len, passwd_len, msg_len;
};
/* Decodes a whole PAP packet (header included).  -EBADMSG: malformed or a length field
 * running past the packet; -ENOTSUP: unknown code. */
int ppp_pap_decode(const uint8_t *p, size_t len, struct ppp_pap *pap);
int ppp_pap_encode(struct wbuf *w, const struct ppp_pap *pap);

/* CHAP packet (RFC 1994 4): Challenge/Response carry value and name, Success/Failure msg. */
struct ppp_chap {
	uint8_t code, id;
	const uint8_t *value, *name, *msg;
	uint8_t value_len;
	size_t name_len, msg_len;
};
/* -EBADMSG: malformed (Value-Size 0 or past the end); -ENOTSUP: unknown code. */
int ppp_chap_decode(const uint8_t *p, size_t len, struct ppp_chap *chap);
int ppp_chap_encode(struct wbuf *w, const struct ppp_chap *chap);
/* CHAP-MD5 response (RFC 1994 4.1): MD5(Identifier || secret || challenge).  -EIO. */
int ppp_chap_md5(uint8_t id, const void *secret, size_t secret_len, const void *challenge,
                 size_t challenge_len, uint8_t out[16]);

/* Address/control and protocol fields of a PPP frame without HDLC framing (as carried in an
 * L2TP data message or left by ppp_hdlc_decode).  parse: the 0xff 0x03 prefix is optional
 * (ACFC), a one-byte protocol is accepted (PFC); -EBADMSG for a frame too short, a bad
 * control byte, or an invalid protocol number (RFC 1661 2: low bit of the high byte clear,
 * of the low byte set).  The information field is borrowed. */
int ppp_frame_parse(const uint8_t *p, size_t len, uint16_t *proto, const uint8_t **info,
                    size_t *info_len);
/* Writes address/control (unless acfc) and protocol (one byte if pfc and it fits).  LCP is
 * always written uncompressed (RFC 1661 6.5, 6.6). */
void ppp_frame_hdr_encode(struct wbuf *w, uint16_t proto, int acfc, int pfc);

/* ---- HDLC-like framing (RFC 1662) ------------------------------------------------------ */

#define PPP_HDLC_FLAG   0x7e
#define PPP_HDLC_ESCAPE 0x7d
#define PPP_HDLC_XOR    0x20
#define PPP_FCS16_INIT  0xffff
#define PPP_FCS16_GOOD  0xf0b8
#define PPP_HDLC_ACCM_DEFAULT 0xffffffffu
#define PPP_HDLC_MAX_DEFAULT (PPP_MRU_DEFAULT + 8) /* ff 03, protocol, info, FCS */
#define PPP_HDLC_BUF_MAX (PPP_MRU_MAX + 8)

/* FCS-16 (RFC 1662 C.2) over len bytes, continuing from fcs (start with PPP_FCS16_INIT). */
uint16_t ppp_fcs16(uint16_t fcs, const void *data, size_t len);

/* Transmit parameters: the ACCM the peer asked for and whether address/control and protocol
 * field compression were negotiated (ppp_hdlc_tx_from_state() fills them in). */
struct ppp_hdlc_tx {
	uint32_t accm;
	int acfc, pfc;
};
/* Frames one PPP packet: flag, address/control, protocol, info, FCS-16, flag, with 0x7e,
 * 0x7d and the control characters of accm escaped.  LCP packets with codes 1..7 are sent with
 * the default ACCM and no compression (RFC 1662 7.1, RFC 1661 6.5/6.6).  Appends to w.
 * Errors: w->err. */
int ppp_hdlc_encode(struct wbuf *w, const struct ppp_hdlc_tx *tx, uint16_t proto,
                    const void *info, size_t info_len);

/* Streaming decoder: keep one per link; frames may be split across datagrams and several may
 * share one. */
struct ppp_hdlc_stats {
	uint64_t frames, bad_fcs, too_long, too_short, aborted, bad_header, dropped_ctrl;
};
struct ppp_hdlc_dec {
	uint32_t accm;   /* receive ACCM: unescaped control chars in it are dropped (RFC 1662 7.1) */
	size_t max;      /* largest frame kept, before un-stuffing FCS included (<= buffer) */
	size_t len;
	int escaped, discarding;
	struct ppp_hdlc_stats stats;
	uint8_t buf[PPP_HDLC_BUF_MAX];
};
/* max 0: PPP_HDLC_MAX_DEFAULT; clamped to PPP_HDLC_BUF_MAX. */
void ppp_hdlc_dec_init(struct ppp_hdlc_dec *d, size_t max);
/* A decoded frame; info borrowed from the decoder until the next call. */
struct ppp_hdlc_frame {
	uint16_t proto;
	const uint8_t *info;
	size_t info_len;
};
/* Consumes input from *data and *len (advanced past what was used) until a frame completes.
 * Returns 1: *f is a good frame; 0: the input is exhausted (a partial frame is kept for the
 * next datagram); -EBADMSG: a frame with a bad FCS was dropped; -EMSGSIZE: an overlong frame
 * was dropped (the rest of it up to the next flag is skipped); -EPROTO: a frame with a bad
 * address/control or protocol field, or shorter than 4 bytes, was dropped.  After an error
 * call again with the remaining input.  Empty frames (back-to-back flags) are skipped. */
int ppp_hdlc_decode(struct ppp_hdlc_dec *d, const uint8_t **data, size_t *len,
                    struct ppp_hdlc_frame *f);

/* ---- The PPP link -------------------------------------------------------------------- */

enum ppp_role {
	PPP_ROLE_PEER = 0,      /* client: authenticates itself, gets its address (mnd) */
	PPP_ROLE_AUTHENTICATOR, /* server: demands authentication, assigns the address (lnsd) */
};

enum ppp_phase { /* RFC 1661 3.2; values as in the L2TP handoff call state */
	PPP_PHASE_DEAD = 0,
	PPP_PHASE_ESTABLISH,
	PPP_PHASE_AUTHENTICATE,
	PPP_PHASE_NETWORK,
	PPP_PHASE_TERMINATE,
};

enum ppp_fsm_state { /* RFC 1661 4.2 */
	PPP_ST_INITIAL = 0,
	PPP_ST_STARTING,
	PPP_ST_CLOSED,
	PPP_ST_STOPPED,
	PPP_ST_CLOSING,
	PPP_ST_STOPPING,
	PPP_ST_REQ_SENT,
	PPP_ST_ACK_RCVD,
	PPP_ST_ACK_SENT,
	PPP_ST_OPENED,
};

#define PPP_AUTH_PAP  0x1
#define PPP_AUTH_CHAP 0x2 /* CHAP with MD5 */

enum ppp_down_reason {
	PPP_DOWN_NONE = 0,
	PPP_DOWN_ADMIN,          /* ppp_close() */
	PPP_DOWN_PEER,           /* the peer sent Terminate-Request */
	PPP_DOWN_CARRIER,        /* ppp_lower_down() */
	PPP_DOWN_TIMEOUT,        /* LCP did not converge within Max-Configure requests */
	PPP_DOWN_NEGOTIATION,    /* no acceptable options (e.g. the peer refused to authenticate) */
	PPP_DOWN_AUTH_FAILED,    /* wrong credentials (either side) */
	PPP_DOWN_AUTH_TIMEOUT,   /* authentication did not complete in time */
	PPP_DOWN_LOOPBACK,       /* looped-back link detected by magic number */
	PPP_DOWN_ECHO_TIMEOUT,   /* echo keepalive: echo_failures requests unanswered */
	PPP_DOWN_PROTO_REJECTED, /* the peer rejected LCP or a protocol we require */
	PPP_DOWN_NO_ADDRESS,     /* authenticator: get_peer_addr refused */
	PPP_DOWN_IPCP_FAILED,    /* IPCP finished without opening */
};
/* Short text for logs ("echo timeout"); never NULL. */
const char *ppp_down_reason_str(enum ppp_down_reason r);
const char *ppp_phase_str(enum ppp_phase p);
const char *ppp_fsm_state_str(enum ppp_fsm_state s);

/* Negotiated state: everything needed to resume an opened session elsewhere without a single
 * packet exchanged (ppp_state_export / ppp_state_import).  Plain value type. */
struct ppp_state {
	uint8_t role;          /* enum ppp_role */
	uint8_t phase;         /* enum ppp_phase */
	uint16_t mru_recv;     /* MRU we announced: largest frame we receive */
	uint16_t mru_send;     /* the peer's MRU: largest frame we send */
	uint32_t accm_recv;    /* ACCM we asked the peer to use towards us */
	uint32_t accm_send;    /* ACCM the peer asked us to use */
	uint32_t magic_local, magic_peer; /* 0: not negotiated */
	uint8_t pfc_send, acfc_send, pfc_recv, acfc_recv;
	uint16_t auth_proto;   /* PPP_PROTO_PAP, PPP_PROTO_CHAP, or 0 (none) */
	uint8_t authenticated; /* authentication completed (or none was required) */
	uint8_t ipcp_opened;
	char peer_name[PPP_NAME_MAX + 1]; /* authenticated name ("" without authentication) */
	uint32_t addr_local, addr_peer;
	uint32_t dns1, dns2;
	uint8_t lcp_next_id, ipcp_next_id; /* identifiers to continue with */
};

/* Serialised struct ppp_state (docs/protocols/ppp.md "Negotiated state, serialised"): what
 * lnsd stores for a parked call in its snapshot.  Version 1, 45 octets + the peer name. */
#define PPP_STATE_VERSION 1
#define PPP_STATE_ENC_MIN 45
#define PPP_STATE_ENC_MAX (PPP_STATE_ENC_MIN + PPP_NAME_MAX)
/* Appends st to w.  -EINVAL (a field out of range: role, phase, a flag not 0/1, name not
 * terminated within PPP_NAME_MAX), or w->err. */
int ppp_state_encode(struct wbuf *w, const struct ppp_state *st);
/* Decodes exactly the bytes of r into *st (zeroed first).  -EBADMSG: short, trailing bytes,
 * unknown version, role, phase or flag bits, name with a NUL byte. */
int ppp_state_decode(struct rbuf *r, struct ppp_state *st);

/* Transmit framing parameters from a negotiated state. */
void ppp_hdlc_tx_from_state(struct ppp_hdlc_tx *tx, const struct ppp_state *st);

struct ppp_cfg {
	enum ppp_role role;
	uint16_t mru;            /* our MRU (default 1500; option sent only when different) */
	uint32_t accm;           /* ACCM we ask for (default 0xffffffff: option not sent) */
	uint8_t want_pfc, want_acfc;   /* request PFC / ACFC (default no) */
	uint8_t allow_pfc, allow_acfc; /* accept the peer's request (default yes) */
	unsigned auth;           /* authenticator: PPP_AUTH_* demanded (CHAP preferred);
	                            0 = no authentication.  Peer: the protocols we accept. */
	char name[PPP_NAME_MAX + 1];    /* peer: our PAP/CHAP name; authenticator: CHAP name */
	uint8_t secret[PPP_SECRET_MAX]; /* peer: our password / CHAP secret */
	size_t secret_len;
	uint32_t local_addr;     /* authenticator: our address (0: not sent);
	                            peer: the address we ask for (0: ask to be given one) */
	uint32_t dns1, dns2;     /* authenticator: DNS servers handed out (0: none, rejected) */
	uint8_t want_dns;        /* peer: ask for DNS servers (RFC 1877) */
	uint32_t restart_ms;     /* restart timer (RFC 1661 4.6: 3 s) */
	uint32_t max_configure;  /* 10 */
	uint32_t max_terminate;  /* 2 */
	uint32_t max_failure;    /* 5: Configure-Naks before rejecting instead */
	uint32_t auth_timeout_ms;  /* waiting for the other side's first auth packet: 30 s */
	uint32_t echo_interval_ms; /* 0: no keepalive (default 10 s) */
	uint32_t echo_failures;    /* unanswered Echo-Requests before the link is down: 3 */
	uint32_t max_loops;        /* magic-number collisions before "looped back": 5 */
};
/* Fills cfg with the defaults above for role. */
void ppp_cfg_default(struct ppp_cfg *cfg, enum ppp_role role);

enum ppp_event_type {
	PPP_EV_LINK_UP = 1,  /* LCP opened */
	PPP_EV_AUTH_OK,      /* authenticator: peer authenticated (st->peer_name); peer: we were */
	PPP_EV_NETWORK_UP,   /* IPCP opened: st->addr_local/addr_peer/dns1/dns2 */
	PPP_EV_NETWORK_DOWN, /* IPCP left the opened state */
	PPP_EV_LINK_DOWN,    /* the session is over (reason); the ppp is Dead */
};
struct ppp_event {
	enum ppp_event_type type;
	enum ppp_down_reason reason;  /* PPP_EV_LINK_DOWN */
	const struct ppp_state *st;   /* borrowed: the negotiated state */
};

struct ppp;
struct ppp_ops {
	/* Transmit one PPP packet (protocol + information; borrowed for the call). */
	void (*output)(void *ctx, uint16_t proto, const uint8_t *info, size_t len);
	void (*event)(void *ctx, const struct ppp_event *ev);
	/* Authenticator: copies the secret shared with `name` into secret[PPP_SECRET_MAX] and its
	 * length into *len; 0, or -ENOENT (unknown name).  Used for CHAP, and for PAP when
	 * pap_verify is NULL (constant-time compare). */
	int (*get_secret)(void *ctx, const char *name, uint8_t *secret, size_t *len);
	/* Authenticator, optional: 0 accepts the PAP name/password, <0 refuses. */
	int (*pap_verify)(void *ctx, const char *name, const uint8_t *passwd, size_t len);
	/* Authenticator: the address to offer the peer, given its authenticated name and the
	 * address it asked for (0: none).  Called once per IPCP negotiation.  0 and *addr, or <0
	 * (the link is terminated with PPP_DOWN_NO_ADDRESS). */
	int (*get_peer_addr)(void *ctx, const char *name, uint32_t requested, uint32_t *addr);
	/* Optional random source (magic numbers, CHAP challenges): 0 or <0.  NULL: auth_random. */
	int (*random)(void *ctx, void *buf, size_t len);
};

struct ppp_stats {
	uint64_t rx_frames, tx_frames, rx_ip, tx_ip;
	uint64_t rx_malformed;     /* bad length or option list: silently discarded */
	uint64_t rx_bad_id;        /* reply that matches no request */
	uint64_t rx_unexpected;    /* valid packet not acceptable in the current state/phase */
	uint64_t rx_unknown_proto; /* answered with Protocol-Reject */
	uint64_t rx_unknown_code;  /* answered with Code-Reject */
	uint64_t echo_sent, echo_replies, loops_detected, auth_failures, retransmits;
};

/* The RFC 1661 option negotiation automaton shared by LCP and IPCP (one per protocol). */
struct ppp_fsm_ops; /* private to common/proto/ppp */
struct ppp_fsm {
	struct ppp *ppp;
	const struct ppp_fsm_ops *ops;
	uint16_t proto;
	enum ppp_fsm_state state;
	uint8_t id;          /* identifier of our current Configure-Request */
	uint8_t next_id;
	uint8_t term_id;
	uint32_t restart;    /* restart counter */
	uint64_t timer;      /* restart timer due time, 0 when stopped */
	uint32_t naks_sent;  /* since our last Configure-Ack (Max-Failure) */
	uint8_t req[PPP_PKT_MAX];  /* options of our last Configure-Request */
	size_t req_len;
	int req_valid;
};

struct ppp {
	struct ppp_cfg cfg;
	struct ppp_ops ops;
	void *ctx;
	enum ppp_phase phase;
	struct ppp_fsm lcp, ipcp;
	struct ppp_state st;        /* negotiated values (valid in the opened states) */
	enum ppp_down_reason reason; /* why the link is going down */
	enum ppp_down_reason pending_close; /* close requested from inside a callback */
	uint8_t down_reported;              /* LINK_DOWN emitted since the last start/LINK_UP */

	/* LCP: what we request / what the peer may still be asked for */
	struct ppp_lcp_opts lcp_want; /* our next Configure-Request */
	uint16_t auth_want;           /* authenticator: protocol we ask for */
	unsigned auth_tried;          /* authenticator: PPP_AUTH_* refused by the peer */
	uint32_t loops;
	/* IPCP */
	struct ppp_ipcp_opts ipcp_want;
	int peer_addr_known;          /* authenticator: get_peer_addr answered */
	/* authentication */
	int auth_running, auth_local_done, auth_peer_done;
	uint8_t auth_id;
	uint32_t auth_tries;
	uint64_t auth_timer;
	uint8_t challenge[PPP_CHAP_CHALLENGE_LEN];
	int chap_succeeded;           /* authenticator: Success sent (repeat on duplicates) */
	uint8_t chap_success_id;
	/* keepalive */
	uint64_t echo_due;
	uint32_t echo_pending;
	uint8_t echo_id;
	int echo_rejected;
	struct ppp_stats stats;
};

/* Initialises p (dead, nothing sent).  cfg and ops are copied, ctx is borrowed.  One struct
 * ppp serves one session: after PPP_EV_LINK_DOWN, ppp_init it again for the next one.
 * -EINVAL: an MRU outside PPP_MRU_MIN..PPP_MRU_MAX, a name not NUL-terminated within
 * PPP_NAME_MAX, secret_len > PPP_SECRET_MAX, no output callback, an authenticator demanding
 * CHAP without get_secret or PAP without get_secret/pap_verify, or without get_peer_addr. */
int ppp_init(struct ppp *p, const struct ppp_cfg *cfg, const struct ppp_ops *ops, void *ctx);

/* Lower layer up + administrative Open: LCP sends its first Configure-Request. */
void ppp_start(struct ppp *p, uint64_t now);
/* Administrative Close: Terminate-Request, then PPP_EV_LINK_DOWN(reason) when acknowledged
 * or after Max-Terminate.  reason PPP_DOWN_NONE means PPP_DOWN_ADMIN. */
void ppp_close(struct ppp *p, enum ppp_down_reason reason, uint64_t now);
/* The carrier is gone: everything goes down at once, PPP_EV_LINK_DOWN(PPP_DOWN_CARRIER). */
void ppp_lower_down(struct ppp *p, uint64_t now);

/* One received PPP frame (protocol and information field, borrowed).  Returns 1 when it is an
 * IPv4 packet for the owner to forward (IPCP opened), 0 when consumed (control traffic, or
 * answered with Protocol-Reject), -EBADMSG when discarded as malformed, -ENOTCONN when
 * discarded because the protocol is not up (RFC 1661 3.4, 3.5).  Never fatal. */
int ppp_input(struct ppp *p, uint16_t proto, const uint8_t *info, size_t len, uint64_t now);
/* Sends an IPv4 packet through ops.output.  -ENOTCONN (IPCP not opened), -EMSGSIZE (larger
 * than the peer's MRU). */
int ppp_send_ip(struct ppp *p, const uint8_t *pkt, size_t len);

/* Runs the timers due at now (restart, authentication, echo). */
void ppp_tick(struct ppp *p, uint64_t now);
/* Earliest time ppp_tick has something to do, or UINT64_MAX. */
uint64_t ppp_next_timeout(const struct ppp *p);

/* 1 when LCP, authentication and IPCP are all complete. */
int ppp_is_up(const struct ppp *p);

/* Copies the negotiated state of an opened session.  -ENOTCONN when not ppp_is_up(). */
int ppp_state_export(const struct ppp *p, struct ppp_state *st);
/* Makes a freshly initialised p (same role as st) an opened session with st's negotiated
 * values, without sending anything or raising events; echo keepalive restarts at now.
 * -EINVAL: st inconsistent (role differs from cfg, not opened, MRU out of range, name not
 * terminated); -EBUSY: p was already started. */
int ppp_state_import(struct ppp *p, const struct ppp_state *st, uint64_t now);

#endif
