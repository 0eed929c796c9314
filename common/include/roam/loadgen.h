/* The core of the request/reply load generators of bench/ (tools/hlrload, tools/mip4load): one
 * UDP socket, requests numbered by a 64-bit sequence, sent either at a fixed rate (request n is
 * due at t0 + n / rate) or as fast as a window of outstanding requests allows, at most
 * LOADGEN_BURST_MAX per loop turn; replies matched to their request by the low 32 bits of the
 * sequence (which the tool puts in the request's transaction id); a request unanswered after
 * wait_ms is lost; latency kept in a histogram of 1 us buckets up to 1 s; the result written as
 * one JSON object.  The tool supplies the protocol through struct loadgen_ops: how request n is
 * encoded, how a reply is decoded and verified, and its own JSON fields.
 *
 * Also the pieces every load generator (tools/l2tpload as well) shares: number parsing for
 * options, the "bad value" message, writing a JSON result to a file or stdout, percentiles of
 * sorted samples, and the deterministic benchmark key stream.
 *
 * Everything but loadgen_run() and loadgen_connect() is pure (times are passed in, monotonic
 * nanoseconds), so tests drive it on a fake clock. */
#ifndef ROAM_LOADGEN_H
#define ROAM_LOADGEN_H
#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "roam/addr.h"
#include "roam/buf.h"
#include "roam/json.h"

#define LOADGEN_RING_BITS 20                    /* outstanding requests tracked at most */
#define LOADGEN_RING_SIZE (1u << LOADGEN_RING_BITS)
#define LOADGEN_HIST_US 1000000u                /* latency histogram: 1 us buckets up to 1 s */
#define LOADGEN_BURST_MAX 64                    /* datagrams sent per loop turn at most */
#define LOADGEN_MSG_MAX 2048                    /* largest request or reply */
#define LOADGEN_TAGS 4                          /* request kinds counted apart (sent_tag[]) */

/* Exit statuses of every load generator. */
enum { LOADGEN_EXIT_OK = 0, LOADGEN_EXIT_ERR = 1, LOADGEN_EXIT_USAGE = 2 };

/* The options every request/reply generator has (-s, --count, --duration, --rate, --window,
 * --wait-ms, --no-verify, --json; the tool adds its own). */
struct loadgen_conf {
	uint16_t default_port;   /* of -s (set before parsing) */
	bool ipv4_only;          /* -s must be IPv4 (set before parsing) */
	struct roam_sockaddr server;
	bool have_server;
	uint64_t count;          /* requests to send; 0: until duration */
	uint64_t first_seq;      /* sequence number of the first request (mip4load --skip) */
	double duration_s;       /* 0: until count */
	double rate;             /* requests per second; 0: as fast as the window allows */
	uint32_t window;         /* requests outstanding at most (window mode) */
	unsigned wait_ms;        /* a request unanswered after this long is lost */
	bool no_verify;          /* the tool skips checking the replies' authenticators */
	const char *json;        /* result file, "-": stdout (borrowed) */
};

/* getopt_long entries of the common options (their values are the letters
 * loadgen_conf_opt() handles: c d r W w V j). */
#define LOADGEN_LONG_OPTIONS                                                                      \
	{ "count", required_argument, NULL, 'c' }, { "duration", required_argument, NULL, 'd' },  \
	{ "rate", required_argument, NULL, 'r' }, { "window", required_argument, NULL, 'W' },     \
	{ "wait-ms", required_argument, NULL, 'w' }, { "no-verify", no_argument, NULL, 'V' },      \
	{ "json", required_argument, NULL, 'j' }

/* Defaults: the given window, wait_ms 1000, json "-", everything else 0. */
void loadgen_conf_init(struct loadgen_conf *c, uint32_t window);
/* Applies common option `opt` (-s or a LOADGEN_LONG_OPTIONS letter) with argument `arg`
 * (borrowed; kept for --json): 1 when it was one (and its value good), 0 when `opt` is not a
 * common option, -EINVAL on a bad value. */
int loadgen_conf_opt(struct loadgen_conf *c, int opt, const char *arg);
/* Parses the command line with getopt_long (short options -s ADDR and -h, long options lopts):
 * the common options into *c, the others through tool_opt(ctx, letter, arg), which returns as
 * loadgen_conf_opt() does.  -1 when the options are good and there is no other argument;
 * otherwise the exit status, after printing what is due: usage(stdout) for -h/--help, the
 * "bad value" message for a bad value, usage(stderr) for anything else. */
int loadgen_parse_args(struct loadgen_conf *c, const char *prog, int argc, char **argv,
		       const struct option *lopts,
		       int (*tool_opt)(void *ctx, int opt, const char *arg), void *ctx,
		       void (*usage)(FILE *f));
/* After parsing: neither --count nor --duration means 10 seconds. */
void loadgen_conf_finish(struct loadgen_conf *c);

/* Parses a number (strtod syntax) within [min, max]: 0 or -EINVAL (also NaN, trailing text). */
int loadgen_parse_num(const char *s, double min, double max, double *out);
/* The same for a whole number ("1e6" accepted, "1.5" and "-1" refused). */
int loadgen_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out);
int loadgen_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out);
/* Prints "PROG: bad value for --NAME: 'ARG'" (-s for 's') to stderr; NAME is found in lopts by
 * the option's value `opt`. */
void loadgen_bad_value(const char *prog, const struct option *lopts, int opt, const char *arg);

/* One request in flight; ring[seq % LOADGEN_RING_SIZE]. */
struct loadgen_slot {
	uint64_t seq1;           /* sequence + 1; 0: free */
	uint64_t sent_ns;
	uint8_t tag;             /* what build() said the request was */
};

/* Where the tool's own JSON fields go in the result object. */
enum loadgen_json_at {
	LOADGEN_JSON_HEAD,       /* after "server" */
	LOADGEN_JSON_LOAD,       /* after "target_rate_per_s", "window" */
	LOADGEN_JSON_SENT,       /* after "sent" */
	LOADGEN_JSON_REPLIES,    /* after "answered", "lost", "loss_pct" (the reply codes) */
};

struct loadgen_ops {
	/* Encodes request seq into buf[cap]: its length, or a negative errno (fatal: the run
	 * stops).  *tag (< LOADGEN_TAGS; 0 if untouched) is kept with the request and counted in
	 * sent_tag[] once it is sent.  Called again for the same seq when a send would block. */
	int (*build)(void *ctx, uint64_t seq, uint8_t *buf, size_t cap, uint8_t *tag);
	/* One datagram received at now_ns (borrowed for the call): decode and verify it, then
	 * loadgen_find() + loadgen_answered(), or count bad_reply / unmatched. */
	void (*reply)(void *ctx, const uint8_t *b, size_t n, uint64_t now_ns);
	/* The tool's fields at `at` (may be NULL). */
	void (*json)(void *ctx, struct json_writer *w, enum loadgen_json_at at);
};

struct loadgen {
	const char *prog;                 /* for messages (borrowed) */
	const struct loadgen_conf *c;     /* borrowed */
	const struct loadgen_ops *ops;    /* borrowed */
	void *ctx;                        /* the tool's, handed to ops */
	struct loadgen_slot *ring;        /* owned, LOADGEN_RING_SIZE */
	uint32_t *hist;                   /* owned, LOADGEN_HIST_US: latency in us */
	uint64_t hist_over, lat_max_us, lat_sum_us;
	uint64_t seq;                     /* next sequence number */
	uint64_t end_seq;                 /* first_seq + count, or UINT64_MAX */
	uint64_t oldest;                  /* every seq below is answered or given up */
	uint64_t outstanding;
	uint64_t sent, sent_tag[LOADGEN_TAGS], answered;
	uint64_t timed_out, bad_reply, unmatched, send_errors, refused;
	uint64_t t0_ns, last_send_ns, last_reply_ns;
};

/* Sets up g for a run (borrowing prog, c, ops) and allocates its ring and histogram: 0 or
 * -ENOMEM.  Counters are zero; the sequence starts at c->first_seq. */
int loadgen_init(struct loadgen *g, const char *prog, const struct loadgen_conf *c,
		 const struct loadgen_ops *ops, void *ctx);
/* Frees what loadgen_init() allocated; safe twice. */
void loadgen_free(struct loadgen *g);
/* Starts the clock: the run's t0 (pacing and durations count from it). */
void loadgen_start(struct loadgen *g, uint64_t now_ns);

/* Whether requests are still to be sent at now_ns (count and duration not reached). */
bool loadgen_sending(const struct loadgen *g, uint64_t now_ns);
/* How many requests may be sent at now_ns: those due by the rate (request n at t0 + n / rate,
 * n counted from first_seq), or the room left in the window; at most LOADGEN_BURST_MAX and
 * what is left of the count. */
uint64_t loadgen_allowed(const struct loadgen *g, uint64_t now_ns);
/* How long to wait for replies before the next turn: until the next request is due (rate),
 * 0 while the window has room, at most 1 ms. */
uint64_t loadgen_wait_ns(const struct loadgen *g, uint64_t now_ns);
/* Gives up on requests sent wait_ms or more before now_ns (on every pending one when force):
 * each is counted in timed_out. */
void loadgen_expire(struct loadgen *g, uint64_t now_ns, bool force);
/* Frees the ring slot of the next request: when it still holds a pending request
 * LOADGEN_RING_SIZE older, that one expires (or is given up as lost if still young). */
void loadgen_make_room(struct loadgen *g, uint64_t now_ns);
/* Records request g->seq, tagged `tag`, as sent at now_ns and moves on to the next. */
void loadgen_sent(struct loadgen *g, uint8_t tag, uint64_t now_ns);
/* The pending request whose sequence number has these low 32 bits, or NULL (never sent, answered
 * or given up already).  Its sequence number is seq1 - 1. */
struct loadgen_slot *loadgen_find(struct loadgen *g, uint32_t seq_low);
/* Request s (from loadgen_find()) is answered at now_ns: its latency is recorded, its slot freed. */
void loadgen_answered(struct loadgen *g, struct loadgen_slot *s, uint64_t now_ns);
/* Records one latency sample of ns nanoseconds. */
void loadgen_record_latency(struct loadgen *g, uint64_t ns);

/* The smallest bucket value v such that at least p percent of the `total` samples counted in
 * hist[0..n) are <= v (at least one sample); samples beyond the histogram give `over_value`.
 * 0 when total is 0. */
uint64_t loadgen_percentile(const uint32_t *hist, size_t n, uint64_t total, double p,
			    uint64_t over_value);
/* Sorts samples ascending. */
void loadgen_samples_sort(uint32_t *v, size_t n);
/* The sample at rank round((n - 1) * p / 100) of sorted samples; 0 when n is 0. */
uint32_t loadgen_samples_percentile(const uint32_t *sorted, size_t n, double p);

/* Opens a UDP socket connected to c->server with 4 MiB socket buffers: the fd, or a negative
 * errno (reported on stderr). */
int loadgen_connect(const struct loadgen *g);
/* The whole run: loadgen_connect(), loadgen_run(), loadgen_write_result().  0 or a negative
 * errno (reported on stderr). */
int loadgen_execute(struct loadgen *g);
/* Runs the load on fd (a connected datagram socket; borrowed): sends until count or duration,
 * receives replies through ops->reply, then waits up to wait_ms for the last replies and gives
 * up on the rest.  0, or a negative errno on a fatal error (reported on stderr). */
int loadgen_run(struct loadgen *g, int fd);
/* Writes the result to c->json: server, the tool's fields, rate and window, requests sent,
 * answered and lost, loss_pct, bad and unmatched replies, refusals, send errors, durations,
 * rates and latency_us {mean, p50, p90, p99, p999, max, over_1s}.  0 or a negative errno. */
int loadgen_write_result(const struct loadgen *g);

/* Writes the JSON text of w (in *out, freed here) and a newline to `path` ("-" or NULL:
 * stdout): 0, -ENOMEM when the writer failed, or the file's error (reported on stderr). */
int loadgen_json_output(const char *prog, const char *path, struct wbuf *out,
			const struct json_writer *w);

/* A benchmark key (deterministic, not secret): len bytes of the SplitMix64 stream of `seed`,
 * each 64-bit word little-endian. */
void loadgen_key_stream(uint64_t seed, uint8_t *out, size_t len);

#endif
