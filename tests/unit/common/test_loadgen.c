/* The load generators' core (common/util/loadgen.c): rate pacing and the window on a fake clock,
 * loss by timeout and by a full ring, reply matching, latency percentiles, option parsing, the
 * JSON result, the key stream, and a whole run over a socketpair with an echoing peer. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include "roam/loadgen.h"

#define MS 1000000ull /* ns */

static int build_none(void *ctx, uint64_t seq, uint8_t *buf, size_t cap, uint8_t *tag)
{
	(void)ctx, (void)seq, (void)buf, (void)cap, (void)tag;
	return -EINVAL;
}

static void reply_none(void *ctx, const uint8_t *b, size_t n, uint64_t now)
{
	(void)ctx, (void)b, (void)n, (void)now;
}

static const struct loadgen_ops no_ops = { .build = build_none, .reply = reply_none };

/* The generator under test: each test sets the options in c, then calls go(). */
static struct loadgen_conf c;
static struct loadgen g;

static void fx_init(void)
{
}

static void fx_fini(void)
{
}

TestSuite(loadgen, .init = fx_init, .fini = fx_fini);

/* Starts the run at t0 = 1 s (of the fake clock): returns t0. */
static uint64_t go(void)
{
	cr_assert_eq(loadgen_init(&g, "test", &c, &no_ops, NULL), 0);
	loadgen_start(&g, 1000 * MS);
	return g.t0_ns;
}

Test(loadgen, rate_paces_requests_from_t0)
{
	c.rate = 1000; /* one request per ms */
	c.duration_s = 10;
	uint64_t t0 = go();
	cr_assert_eq(loadgen_allowed(&g, t0), 1, "request 0 is due at t0");
	loadgen_sent(&g, 0, t0);
	cr_assert_eq(loadgen_allowed(&g, t0), 0);
	cr_assert_eq(loadgen_wait_ns(&g, t0), 1 * MS, "request 1 is due at t0 + 1 ms");
	cr_assert_eq(loadgen_wait_ns(&g, t0 + MS / 4), 3 * MS / 4);
	/* 10.5 ms later, requests 1..10 are due */
	cr_assert_eq(loadgen_allowed(&g, t0 + 10 * MS + MS / 2), 10);
	for (int i = 0; i < 10; i++)
		loadgen_sent(&g, 0, t0 + 10 * MS + MS / 2);
	cr_assert_eq(loadgen_allowed(&g, t0 + 10 * MS + MS / 2), 0);
	cr_assert_eq(loadgen_wait_ns(&g, t0 + 10 * MS + MS / 2), MS / 2);
	/* late by a second: at most a burst, and the window does not matter when paced */
	cr_assert_eq(loadgen_allowed(&g, t0 + 1000 * MS), LOADGEN_BURST_MAX);
	cr_assert_eq(g.outstanding, 11);
	/* a slow rate waits at most 1 ms per turn */
	c.rate = 10;
	cr_assert_eq(loadgen_wait_ns(&g, t0 + 10 * MS), 1 * MS);
}

Test(loadgen, rate_counts_from_the_first_sequence_number)
{
	c.rate = 1000;
	c.first_seq = 5000; /* --skip */
	c.count = 3;
	go();
	cr_assert_eq(g.seq, 5000);
	cr_assert_eq(loadgen_allowed(&g, g.t0_ns), 1);
	/* the count caps what is due */
	cr_assert_eq(loadgen_allowed(&g, g.t0_ns + 50 * MS), 3);
	for (int i = 0; i < 3; i++) {
		cr_assert(loadgen_sending(&g, g.t0_ns));
		loadgen_sent(&g, 0, g.t0_ns);
	}
	cr_assert_eq(g.seq, 5003);
	cr_assert_not(loadgen_sending(&g, g.t0_ns), "count reached");
	cr_assert_eq(loadgen_allowed(&g, g.t0_ns + 50 * MS), 0);
}

Test(loadgen, duration_ends_sending)
{
	loadgen_conf_finish(&c);
	cr_assert_eq(c.duration_s, 10, "neither count nor duration: 10 s");
	c.duration_s = 2;
	go();
	cr_assert(loadgen_sending(&g, g.t0_ns + 1999 * MS));
	cr_assert_not(loadgen_sending(&g, g.t0_ns + 2000 * MS));
}

Test(loadgen, window_bounds_outstanding_requests)
{
	c.window = 4;
	c.count = 100;
	uint64_t t = go();
	cr_assert_eq(loadgen_allowed(&g, t), 4);
	cr_assert_eq(loadgen_wait_ns(&g, t), 0, "room in the window: no wait");
	for (int i = 0; i < 4; i++)
		loadgen_sent(&g, 0, t);
	cr_assert_eq(loadgen_allowed(&g, t + 5 * MS), 0);
	cr_assert_eq(loadgen_wait_ns(&g, t), 1 * MS, "window full: wait for a reply");
	struct loadgen_slot *s = loadgen_find(&g, 2);
	cr_assert_not_null(s);
	loadgen_answered(&g, s, t + 3 * MS);
	cr_assert_eq(loadgen_allowed(&g, t + 3 * MS), 1);
	cr_assert_eq(g.outstanding, 3);
	/* a large window is still sent a burst at a time */
	c.window = 1000;
	cr_assert_eq(loadgen_allowed(&g, t), LOADGEN_BURST_MAX);
}

Test(loadgen, replies_match_pending_requests_once)
{
	uint64_t t = go();
	loadgen_sent(&g, 1, t);
	loadgen_sent(&g, 2, t);
	cr_assert_eq(g.sent_tag[1], 1);
	cr_assert_eq(g.sent_tag[2], 1);
	cr_assert_null(loadgen_find(&g, 2), "never sent");
	cr_assert_null(loadgen_find(&g, 1 + LOADGEN_RING_SIZE), "same slot, other sequence");
	struct loadgen_slot *s = loadgen_find(&g, 1);
	cr_assert_not_null(s);
	cr_assert_eq(s->seq1, 2);
	cr_assert_eq(s->tag, 2);
	loadgen_answered(&g, s, t + 1500 * 1000); /* 1.5 ms */
	cr_assert_null(loadgen_find(&g, 1), "answered already");
	cr_assert_eq(g.answered, 1);
	cr_assert_eq(g.outstanding, 1);
	cr_assert_eq(g.hist[1500], 1);
	cr_assert_eq(g.lat_max_us, 1500);
	cr_assert_eq(g.last_reply_ns, t + 1500 * 1000);
	/* over a second: beyond the histogram */
	loadgen_answered(&g, loadgen_find(&g, 0), t + 2000 * MS);
	cr_assert_eq(g.hist_over, 1);
	cr_assert_eq(g.lat_max_us, 2000000);
	cr_assert_eq(g.lat_sum_us, 2001500);
}

Test(loadgen, unanswered_requests_expire_after_wait_ms)
{
	c.wait_ms = 1000;
	uint64_t t = go();
	loadgen_sent(&g, 0, t);
	loadgen_sent(&g, 0, t);
	loadgen_sent(&g, 0, t + 500 * MS);
	loadgen_answered(&g, loadgen_find(&g, 1), t + 10 * MS);
	loadgen_expire(&g, t + 999 * MS, false);
	cr_assert_eq(g.timed_out, 0);
	loadgen_expire(&g, t + 1000 * MS, false);
	cr_assert_eq(g.timed_out, 1, "request 0 lost, 1 answered");
	cr_assert_eq(g.oldest, 2);
	cr_assert_eq(g.outstanding, 1);
	cr_assert_null(loadgen_find(&g, 0), "a late reply is unmatched");
	cr_assert_not_null(loadgen_find(&g, 2));
	loadgen_expire(&g, t + 1001 * MS, true);
	cr_assert_eq(g.timed_out, 2, "the end of the run gives up on the rest");
	cr_assert_eq(g.outstanding, 0);
	cr_assert_eq(g.oldest, g.seq);
}

Test(loadgen, a_full_ring_gives_up_on_the_oldest)
{
	c.wait_ms = 600000;
	uint64_t t = go();
	for (uint32_t i = 0; i < LOADGEN_RING_SIZE; i++) {
		loadgen_make_room(&g, t);
		loadgen_sent(&g, 0, t);
	}
	cr_assert_eq(g.timed_out, 0);
	cr_assert_eq(g.outstanding, LOADGEN_RING_SIZE);
	loadgen_make_room(&g, t + MS);
	cr_assert_eq(g.timed_out, 1);
	cr_assert_eq(g.oldest, 1);
	loadgen_sent(&g, 0, t + MS);
	cr_assert_null(loadgen_find(&g, 0));
	struct loadgen_slot *s = loadgen_find(&g, LOADGEN_RING_SIZE);
	cr_assert_not_null(s);
	cr_assert_eq(s->seq1 - 1, LOADGEN_RING_SIZE);
	cr_assert_eq(g.outstanding, LOADGEN_RING_SIZE);
}

/* The rank is ceil(total * p / 100) exactly, at least 1: checked against integer arithmetic on
 * one sample per bucket (so the value found is the rank - 1) for every total up to 3000. */
Test(loadgen, histogram_percentiles_are_nearest_ranks)
{
	static const unsigned permille[] = { 0, 1, 10, 250, 500, 900, 990, 999, 1000 };
	enum { N = 3000 };
	uint32_t *h = calloc(N, sizeof(*h));
	cr_assert_not_null(h);
	cr_assert_eq(loadgen_percentile(h, N, 0, 50, 7), 0, "no samples");
	for (uint64_t total = 1; total <= N; total++) {
		h[total - 1] = 1;
		for (size_t i = 0; i < sizeof(permille) / sizeof(permille[0]); i++) {
			uint64_t rank = (total * permille[i] + 999) / 1000;
			if (rank == 0)
				rank = 1;
			uint64_t got = loadgen_percentile(h, N, total, permille[i] / 10.0, 7);
			cr_assert_eq(got, rank - 1, "total %llu, p %.1f: %llu, want %llu",
				     (unsigned long long)total, permille[i] / 10.0,
				     (unsigned long long)got, (unsigned long long)(rank - 1));
		}
	}
	/* samples the histogram does not hold (over a second) give over_value */
	cr_assert_eq(loadgen_percentile(h, N, N + 2, 100, 4242), 4242);
	cr_assert_eq(loadgen_percentile(h, N, N + 2, 99.9, 4242), N - 2); /* rank 2999 */
	free(h);
}

Test(loadgen, sample_percentiles)
{
	uint32_t v[100];
	for (uint32_t i = 0; i < 100; i++)
		v[i] = 100 - i; /* 100 .. 1 */
	loadgen_samples_sort(v, 100);
	for (uint32_t i = 0; i < 100; i++)
		cr_assert_eq(v[i], i + 1);
	cr_assert_eq(loadgen_samples_percentile(v, 100, 50), 51); /* rank round(49.5) */
	cr_assert_eq(loadgen_samples_percentile(v, 100, 99), 99); /* rank round(98.01) */
	cr_assert_eq(loadgen_samples_percentile(v, 100, 100), 100);
	cr_assert_eq(loadgen_samples_percentile(v, 100, 0), 1);
	cr_assert_eq(loadgen_samples_percentile(v, 1, 99), 1);
	cr_assert_eq(loadgen_samples_percentile(v, 0, 50), 0, "no samples");
	loadgen_samples_sort(NULL, 0);
}

Test(loadgen, common_options)
{
	loadgen_conf_init(&c, 256);
	cr_assert_eq(c.window, 256);
	cr_assert_eq(c.wait_ms, 1000);
	cr_assert_str_eq(c.json, "-");
	cr_assert_eq(loadgen_conf_opt(&c, 'c', "1e6"), 1);
	cr_assert_eq(c.count, 1000000);
	cr_assert_eq(loadgen_conf_opt(&c, 'c', "1.5"), -EINVAL);
	cr_assert_eq(loadgen_conf_opt(&c, 'c', "0"), -EINVAL);
	cr_assert_eq(c.count, 1000000, "a bad value changes nothing");
	cr_assert_eq(loadgen_conf_opt(&c, 'd', "0.5"), 1);
	cr_assert_eq(c.duration_s, 0.5);
	cr_assert_eq(loadgen_conf_opt(&c, 'd', "0"), -EINVAL);
	cr_assert_eq(loadgen_conf_opt(&c, 'r', "10000"), 1);
	cr_assert_eq(c.rate, 10000);
	cr_assert_eq(loadgen_conf_opt(&c, 'r', "nan"), -EINVAL);
	cr_assert_eq(loadgen_conf_opt(&c, 'r', "-1"), -EINVAL);
	cr_assert_eq(loadgen_conf_opt(&c, 'W', "64"), 1);
	cr_assert_eq(c.window, 64);
	cr_assert_eq(loadgen_conf_opt(&c, 'W', "0"), -EINVAL);
	cr_assert_eq(loadgen_conf_opt(&c, 'W', "1000000"), -EINVAL, "more than half the ring");
	cr_assert_eq(loadgen_conf_opt(&c, 'w', "2000"), 1);
	cr_assert_eq(c.wait_ms, 2000);
	cr_assert_eq(loadgen_conf_opt(&c, 'w', "600001"), -EINVAL);
	cr_assert_eq(loadgen_conf_opt(&c, 'V', NULL), 1);
	cr_assert(c.no_verify);
	cr_assert_eq(loadgen_conf_opt(&c, 'j', "out.json"), 1);
	cr_assert_str_eq(c.json, "out.json");
	cr_assert_eq(loadgen_conf_opt(&c, 'x', "1"), 0, "not a common option");
	loadgen_conf_finish(&c);
	cr_assert_eq(c.duration_s, 0.5, "an explicit duration stays");
}

static int usage_out, usage_err;

static void fake_usage(FILE *f)
{
	if (f == stdout)
		usage_out++;
	else
		usage_err++;
}

struct fake_opts {
	uint32_t keys;
	int flag;
};

static int fake_opt(void *ctx, int opt, const char *arg)
{
	struct fake_opts *o = ctx;
	switch (opt) {
	case 'k': return loadgen_parse_u32(arg, 1, 100, &o->keys) < 0 ? -EINVAL : 1;
	case 'F': o->flag = 1; return 1;
	default: return 0;
	}
}

/* argv from a space-separated line (at most 15 words, 127 characters) */
static int args(const char *line, char **argv, char *buf)
{
	int n = 0;
	strcpy(buf, line);
	argv[n++] = "test";
	for (char *t = strtok(buf, " "); t && n < 15; t = strtok(NULL, " "))
		argv[n++] = t;
	argv[n] = NULL;
	optind = 1;
	opterr = 0;
	usage_out = usage_err = 0;
	return n;
}

Test(loadgen, command_line)
{
	static const struct option lopts[] = {
		{ "keys", required_argument, NULL, 'k' }, { "flag", no_argument, NULL, 'F' },
		LOADGEN_LONG_OPTIONS, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	struct fake_opts o = { 0 };
	char *argv[16], buf[128];
	int argc;
	c.default_port = 7460;
	argc = args("-s 127.0.0.1 --keys 7 --count 1e3 --flag --window 8 --json x.json", argv, buf);
	cr_assert_eq(loadgen_parse_args(&c, "test", argc, argv, lopts, fake_opt, &o, fake_usage), -1);
	cr_assert(c.have_server);
	cr_assert_eq(c.server.sin.sin_port, htons(7460), "the default port");
	cr_assert_eq(o.keys, 7);
	cr_assert_eq(o.flag, 1);
	cr_assert_eq(c.count, 1000);
	cr_assert_eq(c.window, 8);
	cr_assert_str_eq(c.json, "x.json");
	cr_assert_eq(usage_out + usage_err, 0);
	argc = args("--keys 101", argv, buf);
	cr_assert_eq(loadgen_parse_args(&c, "test", argc, argv, lopts, fake_opt, &o, fake_usage),
		     LOADGEN_EXIT_USAGE, "a bad value of the tool's");
	cr_assert_eq(usage_out + usage_err, 0, "a bad value prints no usage");
	argc = args("--rate -5", argv, buf);
	cr_assert_eq(loadgen_parse_args(&c, "test", argc, argv, lopts, fake_opt, &o, fake_usage),
		     LOADGEN_EXIT_USAGE, "a bad common value");
	argc = args("--bogus", argv, buf);
	cr_assert_eq(loadgen_parse_args(&c, "test", argc, argv, lopts, fake_opt, &o, fake_usage),
		     LOADGEN_EXIT_USAGE);
	cr_assert_eq(usage_err, 1);
	argc = args("--count 5 stray", argv, buf);
	cr_assert_eq(loadgen_parse_args(&c, "test", argc, argv, lopts, fake_opt, &o, fake_usage),
		     LOADGEN_EXIT_USAGE);
	cr_assert_eq(usage_err, 1);
	argc = args("--help", argv, buf);
	cr_assert_eq(loadgen_parse_args(&c, "test", argc, argv, lopts, fake_opt, &o, fake_usage),
		     LOADGEN_EXIT_OK);
	cr_assert_eq(usage_out, 1);
	c.ipv4_only = true;
	argc = args("-s [::1]:9", argv, buf);
	cr_assert_eq(loadgen_parse_args(&c, "test", argc, argv, lopts, fake_opt, &o, fake_usage),
		     LOADGEN_EXIT_USAGE, "IPv6 where IPv4 is required");
	cr_assert_not(c.have_server);
}

Test(loadgen, number_parsing)
{
	uint64_t v;
	uint32_t u;
	double d;
	cr_assert_eq(loadgen_parse_uint("42", 0, 100, &v), 0);
	cr_assert_eq(v, 42);
	cr_assert_eq(loadgen_parse_uint("1e12", 0, 1000000000000ull, &v), 0);
	cr_assert_eq(v, 1000000000000ull);
	cr_assert_eq(loadgen_parse_u32("4294967295", 0, UINT32_MAX, &u), 0);
	cr_assert_eq(u, UINT32_MAX);
	const char *bad[] = { "", "-1", "-0", "12abc", "nan", "inf", "101", "2.5", "0x" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(loadgen_parse_uint(bad[i], 0, 100, &v), -EINVAL, "'%s' accepted", bad[i]);
	cr_assert_eq(loadgen_parse_num("0.25", 0, 1, &d), 0);
	cr_assert_eq(d, 0.25);
	cr_assert_eq(loadgen_parse_num("1e999", 0, INFINITY, &d), -EINVAL, "overflow");
	cr_assert_eq(loadgen_parse_num("1 ", 0, 2, &d), -EINVAL, "trailing text");
}

Test(loadgen, key_stream_is_splitmix64)
{
	/* SplitMix64 from state 0 starts 0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4 */
	static const uint8_t want[16] = { 0xaf, 0xcd, 0x1d, 0x7b, 0x39, 0xa8, 0x20, 0xe2,
					  0xf4, 0x65, 0xb9, 0xa1, 0x6a, 0x9e, 0x78, 0x6e };
	uint8_t k[32], k2[16], k3[5];
	loadgen_key_stream(0, k, sizeof(k));
	cr_assert_arr_eq(k, want, sizeof(want));
	loadgen_key_stream(0, k2, sizeof(k2));
	cr_assert_arr_eq(k, k2, sizeof(k2), "a shorter key is a prefix");
	loadgen_key_stream(0, k3, sizeof(k3));
	cr_assert_arr_eq(k, k3, sizeof(k3));
	loadgen_key_stream(1, k2, sizeof(k2));
	cr_assert_arr_neq(k, k2, sizeof(k2));
}

/* ---- JSON result ---- */

struct fake_tool {
	int calls[4];
};

static void tool_json(void *ctx, struct json_writer *w, enum loadgen_json_at at)
{
	struct fake_tool *f = ctx;
	static const char *const names[] = { "at_head", "at_load", "at_sent", "at_replies" };
	f->calls[at]++;
	json_kv_uint(w, names[at], (uint64_t)at);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f);
	static char buf[8192];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	return buf;
}

Test(loadgen, result_has_the_fields_in_order)
{
	static const struct loadgen_ops ops = { .build = build_none, .reply = reply_none,
						.json = tool_json };
	struct fake_tool tool = { { 0 } };
	char path[] = "/tmp/test_loadgen.XXXXXX";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	close(fd);
	c.window = 8;
	c.json = path;
	c.rate = 5000;
	cr_assert_eq(roam_sockaddr_parse("127.0.0.1:7460", 0, &c.server), 0);
	cr_assert_eq(loadgen_init(&g, "test", &c, &ops, &tool), 0);
	loadgen_start(&g, 0);
	for (int i = 0; i < 4; i++)
		loadgen_sent(&g, 0, (uint64_t)(i + 1) * 250 * MS); /* last at 1 s */
	for (uint32_t i = 0; i < 3; i++)
		loadgen_answered(&g, loadgen_find(&g, i), (uint64_t)(i + 1) * 250 * MS + 100000);
	loadgen_expire(&g, 2000 * MS, true);
	g.bad_reply = 5;
	cr_assert_eq(loadgen_write_result(&g), 0);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(tool.calls[i], 1);
	const char *text = slurp(path);
	unlink(path);
	static const char *const order[] = {
		"\"server\"", "\"at_head\"", "\"target_rate_per_s\"", "\"window\"", "\"at_load\"",
		"\"sent\"", "\"at_sent\"", "\"answered\"", "\"lost\"", "\"loss_pct\"", "\"at_replies\"",
		"\"bad_replies\"", "\"late_or_unmatched\"", "\"refused\"", "\"send_errors\"",
		"\"send_duration_s\"", "\"active_duration_s\"", "\"sent_per_s\"", "\"answered_per_s\"",
		"\"latency_us\"", "\"mean\"", "\"p50\"", "\"p90\"", "\"p99\"", "\"p999\"", "\"max\"",
		"\"over_1s\"",
	};
	const char *at = text;
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		const char *p = strstr(at, order[i]);
		cr_assert_not_null(p, "%s missing or out of order in %s", order[i], text);
		at = p;
	}
	struct json_value *v;
	cr_assert_eq(json_parse(text, strlen(text), &v, NULL, 0), 0, "%s", text);
	int64_t n;
	double d;
	const char *s;
	cr_assert_eq(json_get_str(v, "server", &s), 0);
	cr_assert_str_eq(s, "127.0.0.1:7460");
	cr_assert_eq(json_get_int64(v, "sent", &n), 0);
	cr_assert_eq(n, 4);
	cr_assert_eq(json_get_int64(v, "answered", &n), 0);
	cr_assert_eq(n, 3);
	cr_assert_eq(json_get_int64(v, "lost", &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(json_get_double(v, "loss_pct", &d), 0);
	cr_assert_float_eq(d, 25.0, 1e-9);
	cr_assert_eq(json_get_int64(v, "bad_replies", &n), 0);
	cr_assert_eq(n, 5);
	cr_assert_eq(json_get_double(v, "send_duration_s", &d), 0);
	cr_assert_float_eq(d, 1.0, 1e-9);
	cr_assert_eq(json_get_double(v, "active_duration_s", &d), 0);
	cr_assert_float_eq(d, 1.0, 1e-9, "the last send was after the last reply");
	cr_assert_eq(json_get_double(v, "answered_per_s", &d), 0);
	cr_assert_float_eq(d, 3.0, 1e-9);
	const struct json_value *lat = json_get(v, "latency_us");
	cr_assert_not_null(lat);
	cr_assert_eq(json_get_int64(lat, "p50", &n), 0);
	cr_assert_eq(n, 100);
	cr_assert_eq(json_get_int64(lat, "max", &n), 0);
	cr_assert_eq(n, 100);
	json_free(v);
	loadgen_free(&g);
	loadgen_free(&g); /* safe twice */
}

Test(loadgen, json_output_reports_an_unwritable_file)
{
	struct wbuf out;
	struct json_writer w;
	wbuf_init(&out);
	json_writer_init(&w, &out);
	json_obj_begin(&w);
	json_obj_end(&w);
	cr_assert_eq(loadgen_json_output("test", "/nonexistent/dir/x.json", &out, &w), -ENOENT);
	wbuf_init(&out);
	json_writer_init(&w, &out);
	json_obj_begin(&w); /* left open: a writer error */
	cr_assert_eq(loadgen_json_output("test", "-", &out, &w), -ENOMEM);
}

/* ---- a whole run: the peer echoes every request but those whose sequence is a multiple of
 * 10; requests carry their sequence number (8 bytes) ---- */

struct echo {
	int fd;
	unsigned got;
};

static void *echo_main(void *arg)
{
	struct echo *e = arg;
	uint8_t b[64];
	ssize_t n;
	while ((n = recv(e->fd, b, sizeof(b), 0)) > 0) {
		uint64_t seq;
		memcpy(&seq, b, sizeof(seq));
		e->got++;
		if (seq % 10 != 0)
			(void)send(e->fd, b, (size_t)n, 0);
	}
	return NULL;
}

struct counter {
	struct loadgen *g;
	uint64_t replies;
};

static int build_seq(void *ctx, uint64_t seq, uint8_t *buf, size_t cap, uint8_t *tag)
{
	(void)ctx;
	cr_assert_geq(cap, sizeof(seq));
	memcpy(buf, &seq, sizeof(seq));
	*tag = (uint8_t)(seq & 1);
	return (int)sizeof(seq);
}

static void reply_seq(void *ctx, const uint8_t *b, size_t n, uint64_t now)
{
	struct counter *cnt = ctx;
	uint64_t seq;
	cr_assert_eq(n, sizeof(seq));
	memcpy(&seq, b, sizeof(seq));
	cnt->replies++;
	struct loadgen_slot *s = loadgen_find(cnt->g, (uint32_t)seq);
	if (!s) {
		cnt->g->unmatched++;
		return;
	}
	loadgen_answered(cnt->g, s, now);
}

Test(loadgen, run_against_an_echoing_peer, .timeout = 60)
{
	static const struct loadgen_ops ops = { .build = build_seq, .reply = reply_seq };
	int sv[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
	struct echo e = { .fd = sv[1] };
	pthread_t th;
	cr_assert_eq(pthread_create(&th, NULL, echo_main, &e), 0);
	struct counter cnt = { .g = &g };
	c.window = 8;
	c.count = 500;
	c.first_seq = 1000;
	c.wait_ms = 200;
	cr_assert_eq(loadgen_init(&g, "test", &c, &ops, &cnt), 0);
	cr_assert_eq(loadgen_run(&g, sv[0]), 0);
	shutdown(sv[1], SHUT_RDWR);
	pthread_join(th, NULL);
	close(sv[0]);
	close(sv[1]);
	cr_assert_eq(g.sent, 500);
	cr_assert_eq(e.got, 500);
	cr_assert_eq(g.sent_tag[0], 250);
	cr_assert_eq(g.sent_tag[1], 250);
	cr_assert_eq(g.answered, 450, "every echoed request answered");
	cr_assert_eq(g.timed_out, 50, "every tenth lost");
	cr_assert_eq(g.unmatched, 0);
	cr_assert_eq(g.outstanding, 0);
	cr_assert_eq(g.seq, 1500);
	cr_assert_leq(g.last_send_ns, g.last_reply_ns);
	uint64_t total = 0;
	for (uint32_t i = 0; i < LOADGEN_HIST_US; i++)
		total += g.hist[i];
	cr_assert_eq(total + g.hist_over, 450);
}
