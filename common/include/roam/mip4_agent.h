/* Mobile IPv4 agent advertisement sender, shared by had (home link) and fad (each cell link):
 * RFC 5944 2.3, docs/protocols/mipv4.md 6.
 *
 * One struct mip4_advertiser per interface: a raw ICMP socket bound to the interface (joined
 * to 224.0.0.2 for solicitations, TTL 1, no multicast loopback), a timer that sends the
 * advertisement to 224.0.0.1 every interval with +-25 % jitter, and the answer to an Agent
 * Solicitation (unicast to the solicitor; multicast for a solicitation from 0.0.0.0).  The
 * daemon builds the message itself (build callback, given the sequence number to use), so the
 * flags can change at run time (busy bit).  The sequence number starts at 0 and wraps to 256
 * (RFC 5944 2.1.1: mip4_adv_seq_next).
 *
 * Lifetime: the caller owns the struct (zeroed before mip4_advertiser_open); close it with
 * mip4_advertiser_close() before its memory goes away or the loop is closed.  Errors are
 * negative errno-style codes. */
#ifndef ROAM_MIP4_AGENT_H
#define ROAM_MIP4_AGENT_H
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "roam/auth.h"
#include "roam/buf.h"
#include "roam/log.h"
#include "roam/raw.h"

/* Counters; several advertisers may share one (a daemon-wide total). */
struct mip4_adv_counters {
	uint64_t sent;          /* periodic advertisements sent */
	uint64_t solicited;     /* advertisements sent in answer to a solicitation */
	uint64_t sol_received;  /* solicitations received */
	uint64_t sol_malformed; /* of which malformed (ignored) */
	uint64_t tx_errors;     /* advertisements the socket refused */
};

/* Encodes the advertisement (ICMP message with checksum, e.g. mip4_adv_encode) with sequence
 * number seq into w.  Returns 0 or a negative errno (nothing is sent). */
typedef int (*mip4_adv_build_fn)(void *arg, uint16_t seq, struct wbuf *w);

struct mip4_advertiser {
	uv_loop_t *loop;
	struct roam_raw *raw;
	uv_timer_t timer;
	int started;                 /* timer initialised */
	char ifname[16];
	int ifindex;
	uint32_t interval_ms;        /* may be changed at run time: applies from the next one */
	uint16_t seq;                /* sequence number of the next advertisement */
	uint32_t rng;
	mip4_adv_build_fn build;
	void *arg;
	struct mip4_adv_counters *cnt; /* never NULL after open (own counters if none given) */
	struct mip4_adv_counters own;
	struct log_ratelimit rl;
};

/* The sequence number after seq: +1, wrapping from 0xffff to 256 (RFC 5944 2.1.1). */
uint16_t mip4_adv_seq_next(uint16_t seq);

/* Opens the socket on ifname and starts advertising at once, then every interval_ms.
 * cnt may be NULL (a->own is used).  -ENODEV: no such interface; -EPERM without CAP_NET_RAW;
 * other -errno from the socket options.  On error nothing stays open. */
int mip4_advertiser_open(struct mip4_advertiser *a, uv_loop_t *loop, const char *ifname,
			 uint32_t interval_ms, mip4_adv_build_fn build, void *arg,
			 struct mip4_adv_counters *cnt);
/* Sends one advertisement now to dst (NULL: 224.0.0.1) and advances the sequence number.
 * 0 or -errno (counted in tx_errors). */
int mip4_advertiser_send(struct mip4_advertiser *a, const struct roam_ipaddr *dst);
/* Stops the timer and closes the socket; safe on a never-opened (zeroed) struct and twice. */
void mip4_advertiser_close(struct mip4_advertiser *a);

/* ---- security association keys in agent configs ----
 * The "algorithm" enum of had.yaml / fad.yaml SAs: index 0 "hmac-md5" (RFC 5944 default),
 * 1 "keyed-md5" (RFC 2002 prefix+suffix); NULL-terminated for CONF_ENUM. */
extern const char *const mip4_sa_algorithms[];
/* The auth_alg of a mip4_sa_algorithms index (anything else: HMAC-MD5). */
enum auth_alg mip4_sa_alg(int index);
/* Sets k from a config SA: algorithm index and key bytes (borrowed).  -EINVAL: bad key. */
int mip4_sa_key_set(struct roam_key *k, int alg_index, const void *key, size_t len);

#endif
