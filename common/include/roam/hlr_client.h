/* HLR client (docs/protocols/hlr.md sections 7-8) on a libuv loop, for the host agents: the
 * mobile side (mnd) registers its permanent -> care-of mapping with every configured HLR and
 * keeps it refreshed; the correspondent side (cnd) asks the HLRs in order and caches the answer,
 * including "no mapping" (the null mapping of seed 001 [62]).
 *
 * - Updates: hlr_client_update() sends an UPDATE to every server; each server is retried on
 *   its own with exponential backoff (every retransmission a fresh message: new timestamp, same
 *   transaction id) until it acknowledges, and refreshed at refresh_pct of the granted lifetime.
 *   A server answering with an error code is not retried (the callback reports the code).
 *   Lifetime 0 deregisters: sent to every server, retried query_tries times, then forgotten.
 * - Queries: hlr_client_query() answers from the cache when it can, else asks the first server,
 *   moving to the next after query_tries unanswered transmissions; the first valid reply wins.
 * - Replies are accepted only when they decode, carry our key id, a transaction id and echoed
 *   timestamp of an outstanding request to that very server, the echoed permanent address, and
 *   a valid authenticator; anything else is dropped and counted.
 *
 * Lifetime: hlr_client_open() allocates; hlr_client_close() cancels everything (pending query
 * callbacks run with -ECANCELED), closes the handles and frees the client in their close
 * callbacks (run the loop afterwards).  Not thread-safe; one loop. */
#ifndef ROAM_HLR_CLIENT_H
#define ROAM_HLR_CLIENT_H
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "roam/addr.h"
#include "roam/auth.h"
#include "roam/hlr.h"

#define HLR_CLIENT_MAX_SERVERS 8

struct hlr_client;

struct hlr_client_opts {
	const struct roam_sockaddr *servers; /* copied; 1..HLR_CLIENT_MAX_SERVERS, in query order */
	size_t nservers;
	uint32_t key_id;
	struct roam_key key;                 /* copied; must be HMAC-SHA256 */
	uint32_t rto_initial_ms;             /* 0: 1000 */
	uint32_t rto_max_ms;                 /* 0: 16000 */
	unsigned query_tries;                /* transmissions per server (and per deregistration); 0: 3 */
	unsigned refresh_pct;                /* 1..99 of the granted lifetime; 0: 80 */
	uint32_t cache_max_s;                /* longest a result is cached; 0: 60 */
	size_t cache_max;                    /* cached results at most; 0: 4096 */
};

/* Outcome of an UPDATE at one server. */
struct hlr_update_result {
	size_t server;                /* index in opts.servers */
	const struct roam_ipaddr *perm;
	int code;                     /* enum hlr_code of the ACK; -ETIMEDOUT: a deregistration
	                               * got no answer from this server */
	uint32_t granted;             /* seconds (code 0) */
};
typedef void (*hlr_update_cb)(void *arg, const struct hlr_update_result *r);

/* A mapping as answered (or cached).  found = 0 is the null mapping. */
struct hlr_mapping {
	struct roam_ipaddr perm;
	struct roam_ipaddr coa;       /* family 0 when !found */
	int found;
	uint32_t lifetime;            /* seconds left as of the answer (found) or negative TTL */
	int server;                   /* index of the answering server; -1 from the cache */
};
/* status: 0 (m valid: found or null mapping), -ETIMEDOUT (no server answered),
 * -ECANCELED (client closed), or another negative error; m is NULL unless status is 0.
 * m is borrowed for the call. */
typedef void (*hlr_query_cb)(void *arg, int status, const struct hlr_mapping *m);

struct hlr_client_stats {
	uint64_t tx_update, tx_query, tx_errors;
	uint64_t rx_packets, rx_accepted;
	uint64_t drop_malformed, drop_unexpected, drop_bad_auth; /* unexpected: no matching request */
	uint64_t query_timeouts, cache_hits, cache_misses;
};

/* Creates the client: opens one UDP socket per address family of the servers (ephemeral port).
 * Errors: -EINVAL (no or too many servers, bad key), -ENOMEM, socket errors. */
int hlr_client_open(struct hlr_client **out, uv_loop_t *loop, const struct hlr_client_opts *opts);
/* See the lifetime note above.  NULL and a second call are no-ops. */
void hlr_client_close(struct hlr_client *c);

/* Registers perm -> coa for lifetime_s seconds (0: deregister) with every server, replacing any
 * registration of perm (its transactions are abandoned).  cb (may be NULL) is called for each
 * server's answer, and again after each refresh.  perm/coa are copied; arg is borrowed.
 * Errors: -EINVAL (unusable address), -ENOMEM. */
int hlr_client_update(struct hlr_client *c, const struct roam_ipaddr *perm,
		      const struct roam_ipaddr *coa, uint32_t lifetime_s, hlr_update_cb cb,
		      void *arg);
/* Forgets the registration of perm locally (no deregistration is sent).  1 if there was one. */
int hlr_client_forget(struct hlr_client *c, const struct roam_ipaddr *perm);

/* Looks perm up.  Returns 1 with *out filled from the cache (cb not called); 0 when a query was
 * started (cb will be called exactly once); or -EINVAL / -ENOMEM.  Concurrent queries for the
 * same address are not merged. */
int hlr_client_query(struct hlr_client *c, const struct roam_ipaddr *perm, struct hlr_mapping *out,
		     hlr_query_cb cb, void *arg);
/* Cache only: 1 with *out, or 0. */
int hlr_client_cache_lookup(struct hlr_client *c, const struct roam_ipaddr *perm,
			    struct hlr_mapping *out);
/* Drops the cached result for perm (NULL: all). */
void hlr_client_cache_flush(struct hlr_client *c, const struct roam_ipaddr *perm);

/* Counters (borrowed, live). */
const struct hlr_client_stats *hlr_client_stats(const struct hlr_client *c);

#endif
