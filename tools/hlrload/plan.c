/* hlrload's plan: which host sends request n, with which key, for which address. */
#include <errno.h>
#include <string.h>

#include "hlrload.h"

static int log2_exact(uint32_t v)
{
	if (v == 0 || (v & (v - 1)))
		return -1;
	int n = 0;
	while (v >>= 1)
		n++;
	return n;
}

int hlrload_plan_init(struct hlrload_plan *p, uint32_t keys, uint32_t first_key_id,
		      const struct roam_prefix *prefix, uint32_t block, uint32_t per_key,
		      const char **why)
{
	const char *w = NULL;
	int bits = log2_exact(block);
	if (keys < 1 || keys > HLRLOAD_MAX_KEYS)
		w = "keys out of range";
	else if (first_key_id < 1 || (uint64_t)first_key_id + keys - 1 > UINT32_MAX)
		w = "key ids out of range";
	else if (bits < 0)
		w = "block is not a power of two";
	else if (per_key < 1 || per_key > block)
		w = "per-key addresses exceed the block";
	else if (!prefix || prefix->addr.family != AF_INET || prefix->len > 32)
		w = "the prefix must be IPv4";
	else if ((uint64_t)keys * block > (1ull << (32 - prefix->len)))
		w = "the blocks do not fit in the prefix";
	if (w) {
		if (why)
			*why = w;
		return -EINVAL;
	}
	memset(p, 0, sizeof(*p));
	p->keys = keys;
	p->first_key_id = first_key_id;
	p->block = block;
	p->per_key = per_key;
	p->block_len = 32u - (unsigned)bits;
	uint32_t mask = prefix->len == 0 ? 0 : 0xffffffffu << (32 - prefix->len);
	p->base4 = ntohl(prefix->addr.v4.s_addr) & mask;
	return 0;
}

void hlrload_plan_request(const struct hlrload_plan *p, uint64_t seq, uint32_t *host,
			  struct roam_ipaddr *perm)
{
	uint32_t k = (uint32_t)(seq % p->keys);
	uint32_t s = (uint32_t)((seq / p->keys) % p->per_key);
	*host = k;
	memset(perm, 0, sizeof(*perm));
	perm->family = AF_INET;
	perm->v4.s_addr = htonl(p->base4 + k * p->block + s);
}

void hlrload_plan_block(const struct hlrload_plan *p, uint32_t host, struct roam_prefix *out)
{
	memset(out, 0, sizeof(*out));
	out->addr.family = AF_INET;
	out->addr.v4.s_addr = htonl(p->base4 + host * p->block);
	out->len = (uint8_t)p->block_len;
}

void hlrload_derive_key(uint32_t key_id, uint8_t out[HLRLOAD_KEY_LEN])
{
	loadgen_key_stream(0x726f616d2d686c72ull ^ key_id, out, HLRLOAD_KEY_LEN); /* "roam-hlr" */
}
