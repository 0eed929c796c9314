/* hlrload's private types: the plan that maps a request number to a simulated host, its key
 * and the permanent address it updates (the run itself is the shared core of roam/loadgen.h).
 * No I/O here, so that the unit tests (tests/unit/hlrload/) can check it. */
#ifndef HLRLOAD_H
#define HLRLOAD_H
#include <stddef.h>
#include <stdint.h>

#include "roam/addr.h"
#include "roam/loadgen.h"

#define HLRLOAD_KEY_LEN 32
#define HLRLOAD_MAX_KEYS (1u << 20)

/* Host k (0-based) has key id first_key_id + k and owns the block prefix + k * block, of
 * `block` addresses (a power of two); it updates the first per_key addresses of it. */
struct hlrload_plan {
	uint32_t keys, first_key_id, block, per_key;
	uint32_t base4;       /* the prefix's first address, host order */
	unsigned block_len;   /* prefix length of one block */
};

/* Checks and fills *p: keys 1..HLRLOAD_MAX_KEYS, first_key_id >= 1 with room for every key id,
 * block a power of two, per_key 1..block, prefix IPv4 and large enough for keys * block.
 * -EINVAL with a static reason in *why (may be NULL). */
int hlrload_plan_init(struct hlrload_plan *p, uint32_t keys, uint32_t first_key_id,
		      const struct roam_prefix *prefix, uint32_t block, uint32_t per_key,
		      const char **why);
/* Request seq goes to host seq % keys, address (seq / keys) % per_key of its block: consecutive
 * requests come from different hosts; the first keys * per_key requests name distinct
 * addresses.  *host gets the host index, *perm the permanent address. */
void hlrload_plan_request(const struct hlrload_plan *p, uint64_t seq, uint32_t *host,
			  struct roam_ipaddr *perm);
/* The block of host k as a prefix (what its key may update in hlrd's config). */
void hlrload_plan_block(const struct hlrload_plan *p, uint32_t host, struct roam_prefix *out);
/* The benchmark key of a key id (deterministic, not secret): a SplitMix64 stream. */
void hlrload_derive_key(uint32_t key_id, uint8_t out[HLRLOAD_KEY_LEN]);

/* Latency percentiles: loadgen_percentile() of the shared load-generator core (the name is
 * kept for tests/unit/hlrload). */
static inline uint64_t hlrload_percentile(const uint32_t *hist, size_t n, uint64_t total, double p,
					  uint64_t over_value)
{
	return loadgen_percentile(hist, n, total, p, over_value);
}

#endif
