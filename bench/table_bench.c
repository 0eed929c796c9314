/* table_bench: throughput and memory of the soft-state table (roam/table.h) at N entries.
 *
 *   table_bench [-n ENTRIES] [--seed N] [--json FILE]
 *
 * In one fresh process (so that the RSS delta is the table's and its entries' own):
 *   1. inserts N entries, each calloc'ed like a daemon's (a 17-byte address key, as hlrd's
 *      roam_ipaddr_key, plus a 32-byte payload), timing table_insert alone;
 *   2. RSS delta (VmRSS of /proc/self/status) / N = bytes per entry, allocator overhead included;
 *   3. N lookups of present keys in a shuffled order, then N lookups of absent keys;
 *   4. arms every entry with an expiry spread over 60 s (table_set_expiry), then expires them
 *      all with table_expire stepping a fake clock 1 ms at a time (the expiry callback frees
 *      the entry, as a daemon's would).
 * Prints one JSON object with the figures. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "roam/json.h"
#include "roam/table.h"

#define KEY_LEN 17
#define SPREAD_MS 60000u

struct bench_entry {
	struct table_node node;
	uint8_t key[KEY_LEN];
	uint8_t payload[32]; /* stands for a mapping's care-of address, lifetime, key id... */
};

struct bench {
	size_t expired;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* VmRSS in bytes, or -1. */
static long long rss_bytes(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long long kb = -1;
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %lld kB", &kb) == 1)
			break;
	fclose(f);
	return kb < 0 ? -1 : kb * 1024;
}

/* xorshift64*: a deterministic stream for keys and shuffles. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

static void make_key(uint8_t key[KEY_LEN], uint64_t i, int absent)
{
	/* family byte then an IPv6-sized address; absent keys differ in the family byte */
	memset(key, 0, KEY_LEN);
	key[0] = absent ? 2 : 10;
	for (int b = 0; b < 8; b++)
		key[KEY_LEN - 1 - b] = (uint8_t)(i >> (8 * b));
	key[1] = 0x20;
	key[2] = 0x01;
}

static void on_expire(struct table *t, struct table_node *n, void *arg)
{
	(void)t;
	((struct bench *)arg)->expired++;
	free(table_entry(n, struct bench_entry, node));
}

static void on_free(struct table *t, struct table_node *n, void *arg)
{
	(void)t;
	(void)arg;
	free(table_entry(n, struct bench_entry, node));
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "entries", required_argument, NULL, 'n' }, { "seed", required_argument, NULL, 's' },
		{ "json", required_argument, NULL, 'j' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	size_t n = 100000;
	uint64_t seed = 1;
	const char *json = "-";
	int c;
	while ((c = getopt_long(argc, argv, "n:h", lopts, NULL)) != -1) {
		char *end;
		switch (c) {
		case 'n':
			errno = 0;
			n = (size_t)strtod(optarg, &end);
			if (errno || *end || n < 1 || n > 100000000) {
				fprintf(stderr, "table_bench: -n: 1..100000000 entries\n");
				return 2;
			}
			break;
		case 's': seed = strtoull(optarg, NULL, 0) | 1; break;
		case 'j': json = optarg; break;
		case 'h':
			printf("usage: table_bench [-n ENTRIES] [--seed N] [--json FILE]\n");
			return 0;
		default: return 2;
		}
	}

	struct bench b = { 0 };
	struct table t;
	struct bench_entry **ents = calloc(n, sizeof(*ents));
	size_t *order = calloc(n, sizeof(*order));
	if (!ents || !order) {
		fprintf(stderr, "table_bench: out of memory\n");
		return 1;
	}
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	uint64_t s = seed * 0x9e3779b97f4a7c15ull;
	for (size_t i = n - 1; i > 0; i--) { /* Fisher-Yates */
		size_t j = (size_t)(rnd(&s) % (i + 1));
		size_t x = order[i];
		order[i] = order[j];
		order[j] = x;
	}
	int r = table_init(&t, on_expire, on_free, &b);
	if (r < 0) {
		fprintf(stderr, "table_bench: table_init: %s\n", strerror(-r));
		return 1;
	}
	/* the bookkeeping arrays are touched before the baseline, so they are not counted */
	long long rss0 = rss_bytes();

	/* 1. inserts: the entries are allocated and keyed first, then table_insert is timed alone */
	for (size_t i = 0; i < n; i++) {
		if (!(ents[i] = calloc(1, sizeof(*ents[i])))) {
			fprintf(stderr, "table_bench: out of memory at %zu entries\n", i);
			return 1;
		}
		make_key(ents[i]->key, i, 0);
	}
	double a = now_s();
	for (size_t i = 0; i < n; i++) {
		if ((r = table_insert(&t, &ents[i]->node, ents[i]->key, KEY_LEN)) < 0) {
			fprintf(stderr, "table_bench: insert %zu: %s\n", i, strerror(-r));
			return 1;
		}
	}
	double t_ins = now_s() - a;
	long long rss1 = rss_bytes();
	size_t tmem = table_memory(&t);

	/* 3. lookups, present keys in a shuffled order */
	uint8_t key[KEY_LEN];
	size_t found = 0;
	a = now_s();
	for (size_t i = 0; i < n; i++) {
		make_key(key, order[i], 0);
		struct table_node *nd = table_lookup(&t, key, KEY_LEN);
		found += nd == &ents[order[i]]->node;
	}
	double t_hit = now_s() - a;
	size_t misses = 0;
	a = now_s();
	for (size_t i = 0; i < n; i++) {
		make_key(key, order[i], 1);
		misses += table_lookup(&t, key, KEY_LEN) == NULL;
	}
	double t_miss = now_s() - a;
	if (found != n || misses != n) {
		fprintf(stderr, "table_bench: lookups wrong: %zu of %zu found, %zu misses\n", found, n,
			misses);
		return 1;
	}

	/* 4. expiry */
	uint64_t base = 1000000;
	a = now_s();
	for (size_t i = 0; i < n; i++) {
		uint64_t when = base + 1 + rnd(&s) % SPREAD_MS;
		if ((r = table_set_expiry(&t, &ents[i]->node, when)) < 0) {
			fprintf(stderr, "table_bench: set_expiry: %s\n", strerror(-r));
			return 1;
		}
	}
	double t_arm = now_s() - a;
	table_expire(&t, base);
	a = now_s();
	for (uint64_t now = base + 1; now <= base + SPREAD_MS; now++)
		table_expire(&t, now);
	double t_exp = now_s() - a;
	if (b.expired != n || table_count(&t) != 0) {
		fprintf(stderr, "table_bench: %zu of %zu expired, %zu left\n", b.expired, n,
			table_count(&t));
		return 1;
	}
	table_destroy(&t);

	struct wbuf out;
	struct json_writer w;
	wbuf_init(&out);
	json_writer_init(&w, &out);
	json_obj_begin(&w);
	json_kv_uint(&w, "entries", n);
	json_kv_uint(&w, "entry_struct_bytes", sizeof(struct bench_entry));
	json_kv_uint(&w, "node_bytes", sizeof(struct table_node));
	json_kv_double(&w, "inserts_per_s", (double)n / t_ins);
	json_kv_double(&w, "lookups_hit_per_s", (double)n / t_hit);
	json_kv_double(&w, "lookups_miss_per_s", (double)n / t_miss);
	json_kv_double(&w, "set_expiry_per_s", (double)n / t_arm);
	json_kv_double(&w, "expiries_per_s", (double)n / t_exp);
	json_kv_uint(&w, "expire_clock_steps", SPREAD_MS);
	json_kv_int(&w, "rss_delta_bytes", rss1 - rss0);
	json_kv_double(&w, "bytes_per_entry", (double)(rss1 - rss0) / (double)n);
	json_kv_double(&w, "table_bytes_per_entry", (double)tmem / (double)n);
	json_obj_end(&w);
	FILE *f = strcmp(json, "-") == 0 ? stdout : fopen(json, "w");
	if (!f || json_writer_err(&w) || out.err) {
		fprintf(stderr, "table_bench: cannot write %s\n", json);
		return 1;
	}
	fprintf(f, "%s\n", wbuf_str(&out));
	if (f != stdout)
		fclose(f);
	wbuf_free(&out);
	free(ents);
	free(order);
	return 0;
}
