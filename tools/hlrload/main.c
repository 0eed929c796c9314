/* hlrload: a load generator for hlrd (docs/protocols/hlr.md), built on the codec of
 * common/proto/hlr.  It simulates many hosts, each with its own key and its own block of
 * permanent addresses, and sends authenticated UPDATEs (optionally mixed with QUERYs) either at
 * a fixed rate or as fast as a window of outstanding requests allows.  Replies are decoded,
 * verified and matched to their request by transaction id; the result (requests/s answered,
 * loss, reply codes, latency percentiles) is printed as JSON.
 *
 * Keys are derived from the key id (not secret: a benchmark's keys); `hlrload --print-hosts`
 * writes the matching `hosts:` section of an hlrd config, so the daemon and the load agree.
 *
 * Host k (0-based) has key id first_key_id + k and may update the block
 * prefix + k * block .. + block - 1 (block a power of two).  Request i goes to host i % keys,
 * address (i / keys) % per_key of its block: consecutive requests come from different hosts, and
 * the first keys * per_key updates create that many distinct mappings. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "roam/addr.h"
#include "roam/auth.h"
#include "roam/hlr.h"
#include "roam/json.h"
#include "roam/loadgen.h"

#include "hlrload.h"

enum { TAG_UPDATE = 0, TAG_QUERY = 1 }; /* loadgen tags: sent_update, sent_query */

struct opts {
	struct loadgen_conf lg;  /* -s, --count, --duration, --rate, --window, --wait-ms, ... */
	uint32_t keys, first_key_id, block, per_key;
	struct roam_prefix prefix;
	unsigned query_pct;
	uint32_t lifetime;
	int print_hosts;
};

struct host {
	struct roam_key key;
	uint64_t last_ts; /* timestamps strictly increase per key (hlrd's replay window) */
};

struct load {
	const struct opts *o;
	struct hlrload_plan plan;
	struct host *hosts;
	struct loadgen g;
	uint64_t code_ok, code_no_mapping, code_not_authorized, code_no_resources, code_other;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: hlrload -s ADDR[:PORT] [options]\n"
		"       hlrload --print-hosts [--keys N --first-key-id ID --prefix P/LEN --block N]\n"
		"hosts and addresses:\n"
		"  --keys N            simulated hosts, one key each (default 1000)\n"
		"  --first-key-id ID   key id of the first host (default 1)\n"
		"  --prefix P/LEN      IPv4 prefix holding every host's block (default 100.64.0.0/12)\n"
		"  --block N           addresses per host block, a power of two (default 1024)\n"
		"  --per-key N         addresses each host updates, <= block (default 1)\n"
		"load:\n"
		"  --count N           requests to send (default: until --duration)\n"
		"  --duration S        seconds to send for (default 10 when no --count)\n"
		"  --rate PPS          requests per second (default 0: as fast as --window allows)\n"
		"  --window N          requests outstanding at most (default 256)\n"
		"  --query-pct P       percentage of QUERYs among the requests (default 0)\n"
		"  --lifetime S        lifetime asked in UPDATEs (default 3600)\n"
		"  --wait-ms MS        a request unanswered after this long is lost (default 1000)\n"
		"  --no-verify         do not check the replies' authenticators\n"
		"  --json FILE         write the result there (default -: stdout)\n"
		"Exit: 0 when the run completed (whatever the loss), 1 on errors, 2 on usage.\n");
}

static int print_hosts(const struct load *l)
{
	const struct opts *o = l->o;
	printf("hosts:\n");
	for (uint32_t k = 0; k < o->keys; k++) {
		uint8_t key[HLRLOAD_KEY_LEN];
		char a[ROAM_ADDRSTRLEN];
		struct roam_prefix b;
		hlrload_derive_key(o->first_key_id + k, key);
		hlrload_plan_block(&l->plan, k, &b);
		printf("  - name: load-%" PRIu32 "\n    key_id: %" PRIu32 "\n    key: ", k,
		       o->first_key_id + k);
		for (int i = 0; i < HLRLOAD_KEY_LEN; i++)
			printf("%02x", key[i]);
		printf("\n    addresses: [%s]\n", roam_prefix_fmt(&b, a, sizeof(a)));
	}
	return ferror(stdout) ? -EIO : 0;
}

/* Encodes request seq into buf; returns its length or a negative code. */
static int build_request(void *arg, uint64_t seq, uint8_t *buf, size_t cap, uint8_t *tag)
{
	struct load *l = arg;
	const struct opts *o = l->o;
	uint32_t k;
	struct hlr_msg m;
	memset(&m, 0, sizeof(m));
	hlrload_plan_request(&l->plan, seq, &k, &m.perm);
	struct host *h = &l->hosts[k];
	/* a cheap deterministic spread for the query mix: the same sequence gives the same type */
	uint64_t mix = (seq * 0x9e3779b97f4a7c15ull) >> 32;
	m.type = (o->query_pct && (mix % 100) < o->query_pct) ? HLR_QUERY : HLR_UPDATE;
	m.txid = (uint32_t)seq;
	m.key_id = o->first_key_id + k;
	uint64_t ts = hlr_ntp_now();
	if (ts <= h->last_ts)
		ts = h->last_ts + 1;
	h->last_ts = ts;
	m.timestamp = ts;
	m.present = HLR_HAS_PERM;
	if (m.type == HLR_UPDATE) {
		m.present |= HLR_HAS_COA | HLR_HAS_LIFETIME;
		m.coa.family = AF_INET;
		/* care-of addresses from 198.18.0.0/15 (benchmarking range, RFC 2544) */
		m.coa.v4.s_addr = htonl(0xc6120001u + (uint32_t)(seq % 0x1fffd));
		m.lifetime = o->lifetime;
	}
	struct wbuf w;
	wbuf_init_fixed(&w, buf, cap);
	int r = hlr_encode(&w, &m, &h->key);
	if (r < 0)
		return r;
	*tag = m.type == HLR_UPDATE ? TAG_UPDATE : TAG_QUERY;
	return (int)w.len;
}

static void handle_reply(void *arg, const uint8_t *b, size_t n, uint64_t t)
{
	struct load *l = arg;
	const struct opts *o = l->o;
	struct hlr_msg m;
	if (hlr_decode(b, n, &m, NULL) < 0 ||
	    (m.type != HLR_UPDATE_ACK && m.type != HLR_QUERY_REPLY) ||
	    m.key_id < o->first_key_id || m.key_id - o->first_key_id >= o->keys) {
		l->g.bad_reply++;
		return;
	}
	if (!o->lg.no_verify &&
	    hlr_verify(b, n, &l->hosts[m.key_id - o->first_key_id].key) != 0) {
		l->g.bad_reply++;
		return;
	}
	/* the txid is the low 32 bits of the sequence: find the pending request that has them */
	struct loadgen_slot *s = loadgen_find(&l->g, m.txid);
	if (!s || s->tag != (m.type == HLR_UPDATE_ACK ? TAG_UPDATE : TAG_QUERY) ||
	    m.key_id != o->first_key_id + (uint32_t)((s->seq1 - 1) % o->keys)) {
		l->g.unmatched++; /* late (given up already), duplicated or not ours */
		return;
	}
	loadgen_answered(&l->g, s, t);
	switch (m.code) {
	case HLR_CODE_OK: l->code_ok++; break;
	case HLR_CODE_NO_MAPPING: l->code_no_mapping++; break;
	case HLR_CODE_NOT_AUTHORIZED: l->code_not_authorized++; break;
	case HLR_CODE_NO_RESOURCES: l->code_no_resources++; break;
	default: l->code_other++; break;
	}
}

static void json_fields(void *arg, struct json_writer *w, enum loadgen_json_at at)
{
	const struct load *l = arg;
	const struct opts *o = l->o;
	switch (at) {
	case LOADGEN_JSON_HEAD:
		json_kv_uint(w, "keys", o->keys);
		json_kv_uint(w, "addresses", (uint64_t)o->keys * o->per_key);
		break;
	case LOADGEN_JSON_LOAD:
		json_kv_uint(w, "query_pct", o->query_pct);
		break;
	case LOADGEN_JSON_SENT:
		json_kv_uint(w, "sent_update", l->g.sent_tag[TAG_UPDATE]);
		json_kv_uint(w, "sent_query", l->g.sent_tag[TAG_QUERY]);
		break;
	case LOADGEN_JSON_REPLIES:
		json_kv_uint(w, "code_ok", l->code_ok);
		json_kv_uint(w, "code_no_mapping", l->code_no_mapping);
		json_kv_uint(w, "code_not_authorized", l->code_not_authorized);
		json_kv_uint(w, "code_no_resources", l->code_no_resources);
		json_kv_uint(w, "code_other", l->code_other);
		break;
	}
}

static const struct loadgen_ops ops = {
	.build = build_request, .reply = handle_reply, .json = json_fields,
};

/* hlrload's own options (loadgen_parse_args()). */
static int tool_opt(void *arg, int c, const char *v)
{
	struct opts *o = arg;
	uint32_t u;
	int r = 0;
	switch (c) {
	case 'n': r = loadgen_parse_u32(v, 1, HLRLOAD_MAX_KEYS, &o->keys); break;
	case 'F': r = loadgen_parse_u32(v, 1, UINT32_MAX, &o->first_key_id); break;
	case 'P':
		r = roam_prefix_parse(v, &o->prefix) < 0 || o->prefix.addr.family != AF_INET ? -EINVAL : 0;
		break;
	case 'B': r = loadgen_parse_u32(v, 1, 1u << 24, &o->block); break;
	case 'a': r = loadgen_parse_u32(v, 1, 1u << 24, &o->per_key); break;
	case 'q': r = loadgen_parse_u32(v, 0, 100, &u); o->query_pct = u; break;
	case 'L': r = loadgen_parse_u32(v, 0, 86400, &o->lifetime); break;
	case 'H': o->print_hosts = 1; break;
	default: return 0;
	}
	return r < 0 ? -EINVAL : 1;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "keys", required_argument, NULL, 'n' }, { "first-key-id", required_argument, NULL, 'F' },
		{ "prefix", required_argument, NULL, 'P' }, { "block", required_argument, NULL, 'B' },
		{ "per-key", required_argument, NULL, 'a' }, { "query-pct", required_argument, NULL, 'q' },
		{ "lifetime", required_argument, NULL, 'L' }, LOADGEN_LONG_OPTIONS,
		{ "print-hosts", no_argument, NULL, 'H' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o;
	memset(&o, 0, sizeof(o));
	loadgen_conf_init(&o.lg, 256);
	o.lg.default_port = HLR_PORT;
	o.keys = 1000;
	o.first_key_id = 1;
	o.block = 1024;
	o.per_key = 1;
	o.lifetime = 3600;
	if (roam_prefix_parse("100.64.0.0/12", &o.prefix) < 0)
		return LOADGEN_EXIT_ERR;
	int ex = loadgen_parse_args(&o.lg, "hlrload", argc, argv, lopts, tool_opt, &o, usage);
	if (ex >= 0)
		return ex;
	if (!o.print_hosts && !o.lg.have_server) {
		usage(stderr);
		return LOADGEN_EXIT_USAGE;
	}
	loadgen_conf_finish(&o.lg);

	struct load l;
	memset(&l, 0, sizeof(l));
	l.o = &o;
	const char *why;
	if (hlrload_plan_init(&l.plan, o.keys, o.first_key_id, &o.prefix, o.block, o.per_key,
			      &why) < 0) {
		fprintf(stderr, "hlrload: %s (--keys %u --block %u --per-key %u --prefix /%u)\n", why,
			o.keys, o.block, o.per_key, o.prefix.len);
		return LOADGEN_EXIT_USAGE;
	}
	if (o.print_hosts)
		return print_hosts(&l) < 0 ? LOADGEN_EXIT_ERR : LOADGEN_EXIT_OK;

	l.hosts = calloc(o.keys, sizeof(*l.hosts));
	if (!l.hosts || loadgen_init(&l.g, "hlrload", &o.lg, &ops, &l) < 0) {
		fprintf(stderr, "hlrload: out of memory\n");
		return LOADGEN_EXIT_ERR;
	}
	for (uint32_t k = 0; k < o.keys; k++) {
		uint8_t key[HLRLOAD_KEY_LEN];
		hlrload_derive_key(o.first_key_id + k, key);
		if (auth_key_set(&l.hosts[k].key, AUTH_ALG_HMAC_SHA256, key, sizeof(key)) < 0) {
			fprintf(stderr, "hlrload: key setup failed\n");
			return LOADGEN_EXIT_ERR;
		}
	}
	int r = loadgen_execute(&l.g);
	for (uint32_t k = 0; k < o.keys; k++)
		auth_key_wipe(&l.hosts[k].key);
	free(l.hosts);
	loadgen_free(&l.g);
	return r < 0 ? LOADGEN_EXIT_ERR : LOADGEN_EXIT_OK;
}
