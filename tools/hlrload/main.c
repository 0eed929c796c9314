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
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "roam/addr.h"
#include "roam/auth.h"
#include "roam/hlr.h"
#include "roam/json.h"

#include "hlrload.h"

enum { EXIT_OK = 0, EXIT_ERR = 1, EXIT_USAGE = 2 };

#define RING_BITS 20                   /* outstanding requests tracked at most */
#define RING_SIZE (1u << RING_BITS)
#define HIST_US 1000000u               /* latency histogram: 1 us buckets up to 1 s */
#define BURST_MAX 64                   /* datagrams sent per loop turn at most */

struct opts {
	struct roam_sockaddr server;
	int have_server;
	uint32_t keys, first_key_id, block, per_key;
	struct roam_prefix prefix;
	uint64_t count;          /* 0: until duration */
	double duration_s;       /* 0: until count */
	double rate;             /* 0: as fast as the window allows */
	uint32_t window;
	unsigned query_pct;
	uint32_t lifetime;
	unsigned wait_ms;
	int print_hosts;
	int no_verify;
	const char *json;
};

/* One request in flight (ring indexed by the low bits of the sequence number). */
struct slot {
	uint64_t seq1;   /* sequence + 1; 0: free */
	uint64_t sent_ns;
	uint8_t type;
};

struct host {
	struct roam_key key;
	uint64_t last_ts; /* timestamps strictly increase per key (hlrd's replay window) */
};

struct load {
	const struct opts *o;
	struct hlrload_plan plan;
	struct host *hosts;
	struct slot *ring;
	uint32_t *hist;           /* latency in us */
	uint64_t hist_over, lat_max_us, lat_sum_us;
	uint64_t seq;             /* next sequence number */
	uint64_t oldest;          /* every seq below is answered or given up */
	uint64_t outstanding;
	uint64_t sent, sent_update, sent_query;
	uint64_t answered, code_ok, code_no_mapping, code_not_authorized, code_no_resources,
		 code_other;
	uint64_t bad_reply, unmatched, timed_out, send_errors, refused;
	uint64_t t0_ns, last_send_ns, last_reply_ns;
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

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
static int build_request(struct load *l, uint64_t seq, uint8_t *buf, size_t cap, uint8_t *type)
{
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
	*type = m.type;
	return (int)w.len;
}

static void record_latency(struct load *l, uint64_t ns)
{
	uint64_t us = ns / 1000;
	if (us < HIST_US)
		l->hist[us]++;
	else
		l->hist_over++;
	if (us > l->lat_max_us)
		l->lat_max_us = us;
	l->lat_sum_us += us;
}

static void handle_reply(struct load *l, const uint8_t *b, size_t n, uint64_t t)
{
	struct hlr_msg m;
	if (hlr_decode(b, n, &m, NULL) < 0 ||
	    (m.type != HLR_UPDATE_ACK && m.type != HLR_QUERY_REPLY) ||
	    m.key_id < l->o->first_key_id || m.key_id - l->o->first_key_id >= l->o->keys) {
		l->bad_reply++;
		return;
	}
	if (!l->o->no_verify &&
	    hlr_verify(b, n, &l->hosts[m.key_id - l->o->first_key_id].key) != 0) {
		l->bad_reply++;
		return;
	}
	/* the txid is the low 32 bits of the sequence: find the pending request that has them */
	struct slot *s = &l->ring[m.txid & (RING_SIZE - 1)];
	if (!s->seq1 || (uint32_t)(s->seq1 - 1) != m.txid ||
	    s->type != (m.type == HLR_UPDATE_ACK ? HLR_UPDATE : HLR_QUERY) ||
	    m.key_id != l->o->first_key_id + (uint32_t)((s->seq1 - 1) % l->o->keys)) {
		l->unmatched++; /* late (given up already), duplicated or not ours */
		return;
	}
	record_latency(l, t - s->sent_ns);
	s->seq1 = 0;
	l->outstanding--;
	l->answered++;
	l->last_reply_ns = t;
	switch (m.code) {
	case HLR_CODE_OK: l->code_ok++; break;
	case HLR_CODE_NO_MAPPING: l->code_no_mapping++; break;
	case HLR_CODE_NOT_AUTHORIZED: l->code_not_authorized++; break;
	case HLR_CODE_NO_RESOURCES: l->code_no_resources++; break;
	default: l->code_other++; break;
	}
}

/* Gives up on requests older than wait_ms (or all pending ones when force). */
static void expire_old(struct load *l, uint64_t t, int force)
{
	uint64_t wait_ns = (uint64_t)l->o->wait_ms * 1000000ull;
	while (l->oldest < l->seq) {
		struct slot *s = &l->ring[l->oldest & (RING_SIZE - 1)];
		if (s->seq1 == l->oldest + 1) {
			if (!force && t - s->sent_ns < wait_ns)
				break;
			s->seq1 = 0;
			l->outstanding--;
			l->timed_out++;
		}
		l->oldest++;
	}
}

static int drain(struct load *l, int fd)
{
	uint8_t b[2048];
	for (int i = 0; i < 256; i++) {
		ssize_t n = recv(fd, b, sizeof(b), MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return 0;
			if (errno == ECONNREFUSED) { /* nobody listens (yet): counted, not fatal */
				l->refused++;
				continue;
			}
			fprintf(stderr, "hlrload: recv: %s\n", strerror(errno));
			return -errno;
		}
		handle_reply(l, b, (size_t)n, now_ns());
	}
	return 0;
}

static uint64_t percentile(const struct load *l, double p)
{
	return hlrload_percentile(l->hist, HIST_US, l->answered, p, l->lat_max_us);
}

static int run(struct load *l, int fd)
{
	const struct opts *o = l->o;
	uint8_t buf[HLR_MAX_MSG];
	uint64_t dur_ns = (uint64_t)(o->duration_s * 1e9);
	l->t0_ns = now_ns();
	for (;;) {
		uint64_t t = now_ns();
		int sending = (o->count == 0 || l->seq < o->count) && (dur_ns == 0 || t - l->t0_ns < dur_ns);
		if (!sending)
			break;
		expire_old(l, t, 0);
		uint64_t allowed;
		if (o->rate > 0) {
			/* request n is due at t0 + n / rate */
			uint64_t due = (uint64_t)((double)(t - l->t0_ns) * o->rate / 1e9) + 1;
			allowed = due > l->seq ? due - l->seq : 0;
		} else {
			allowed = l->outstanding < o->window ? o->window - l->outstanding : 0;
		}
		if (allowed > BURST_MAX)
			allowed = BURST_MAX;
		if (o->count && allowed > o->count - l->seq)
			allowed = o->count - l->seq;
		for (uint64_t i = 0; i < allowed; i++) {
			struct slot *s = &l->ring[l->seq & (RING_SIZE - 1)];
			if (s->seq1) { /* the ring is full of pending requests: oldest is lost */
				expire_old(l, t, 0);
				if (s->seq1) {
					s->seq1 = 0;
					l->outstanding--;
					l->timed_out++;
					if (l->oldest <= l->seq - RING_SIZE)
						l->oldest = l->seq - RING_SIZE + 1;
				}
			}
			uint8_t type;
			int n = build_request(l, l->seq, buf, sizeof(buf), &type);
			if (n < 0) {
				fprintf(stderr, "hlrload: encode: %s\n", strerror(-n));
				return n;
			}
			ssize_t w = send(fd, buf, (size_t)n, MSG_DONTWAIT);
			if (w < 0) {
				if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
					break; /* retried (with a fresh timestamp) on the next turn */
				if (errno == ECONNREFUSED) {
					l->refused++;
					break;
				}
				l->send_errors++;
				if (l->send_errors > 1000) {
					fprintf(stderr, "hlrload: send: %s\n", strerror(errno));
					return -errno;
				}
				break;
			}
			uint64_t ts = now_ns();
			s->seq1 = l->seq + 1;
			s->sent_ns = ts;
			s->type = type;
			l->seq++;
			l->sent++;
			if (type == HLR_UPDATE)
				l->sent_update++;
			else
				l->sent_query++;
			l->outstanding++;
			l->last_send_ns = ts;
		}
		/* wait for replies, or until the next request is due */
		uint64_t wait_ns = 1000000; /* window full: a reply wakes us up */
		if (o->rate > 0) {
			uint64_t next = l->t0_ns + (uint64_t)((double)l->seq * 1e9 / o->rate);
			uint64_t t2 = now_ns();
			wait_ns = next > t2 ? next - t2 : 0;
			if (wait_ns > 1000000)
				wait_ns = 1000000;
		} else if (l->outstanding < o->window) {
			wait_ns = 0;
		}
		struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)wait_ns };
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int r = ppoll(&p, 1, &ts, NULL);
		if (r < 0 && errno != EINTR) {
			fprintf(stderr, "hlrload: poll: %s\n", strerror(errno));
			return -errno;
		}
		if (r > 0 && drain(l, fd) < 0)
			return -EIO;
	}
	/* the tail: wait for the last replies */
	uint64_t end = now_ns() + (uint64_t)o->wait_ms * 1000000ull;
	while (l->outstanding > 0) {
		uint64_t t = now_ns();
		if (t >= end)
			break;
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int r = poll(&p, 1, 10);
		if (r > 0 && drain(l, fd) < 0)
			return -EIO;
	}
	expire_old(l, now_ns(), 1);
	return 0;
}

static int write_json(const struct load *l)
{
	const struct opts *o = l->o;
	struct wbuf out;
	struct json_writer w;
	double send_s = l->sent ? (double)(l->last_send_ns - l->t0_ns) / 1e9 : 0;
	uint64_t end = l->last_reply_ns > l->last_send_ns ? l->last_reply_ns : l->last_send_ns;
	double active_s = l->sent ? (double)(end - l->t0_ns) / 1e9 : 0;
	char a[ROAM_ADDRSTRLEN];
	wbuf_init(&out);
	json_writer_init(&w, &out);
	json_obj_begin(&w);
	json_kv_str(&w, "server", roam_sockaddr_fmt(&o->server, a, sizeof(a)));
	json_kv_uint(&w, "keys", o->keys);
	json_kv_uint(&w, "addresses", (uint64_t)o->keys * o->per_key);
	json_kv_double(&w, "target_rate_per_s", o->rate);
	json_kv_uint(&w, "window", o->window);
	json_kv_uint(&w, "query_pct", o->query_pct);
	json_kv_uint(&w, "sent", l->sent);
	json_kv_uint(&w, "sent_update", l->sent_update);
	json_kv_uint(&w, "sent_query", l->sent_query);
	json_kv_uint(&w, "answered", l->answered);
	json_kv_uint(&w, "lost", l->timed_out);
	json_kv_double(&w, "loss_pct", l->sent ? 100.0 * (double)l->timed_out / (double)l->sent : 0);
	json_kv_uint(&w, "code_ok", l->code_ok);
	json_kv_uint(&w, "code_no_mapping", l->code_no_mapping);
	json_kv_uint(&w, "code_not_authorized", l->code_not_authorized);
	json_kv_uint(&w, "code_no_resources", l->code_no_resources);
	json_kv_uint(&w, "code_other", l->code_other);
	json_kv_uint(&w, "bad_replies", l->bad_reply);
	json_kv_uint(&w, "late_or_unmatched", l->unmatched);
	json_kv_uint(&w, "refused", l->refused);
	json_kv_uint(&w, "send_errors", l->send_errors);
	json_kv_double(&w, "send_duration_s", send_s);
	json_kv_double(&w, "active_duration_s", active_s);
	json_kv_double(&w, "sent_per_s", send_s > 0 ? (double)l->sent / send_s : 0);
	json_kv_double(&w, "answered_per_s", active_s > 0 ? (double)l->answered / active_s : 0);
	json_key(&w, "latency_us");
	json_obj_begin(&w);
	json_kv_double(&w, "mean", l->answered ? (double)l->lat_sum_us / (double)l->answered : 0);
	json_kv_uint(&w, "p50", percentile(l, 50));
	json_kv_uint(&w, "p90", percentile(l, 90));
	json_kv_uint(&w, "p99", percentile(l, 99));
	json_kv_uint(&w, "p999", percentile(l, 99.9));
	json_kv_uint(&w, "max", l->lat_max_us);
	json_kv_uint(&w, "over_1s", l->hist_over);
	json_obj_end(&w);
	json_obj_end(&w);
	if (json_writer_err(&w) || out.err) {
		wbuf_free(&out);
		return -ENOMEM;
	}
	FILE *f = stdout;
	if (o->json && strcmp(o->json, "-") != 0 && !(f = fopen(o->json, "w"))) {
		int e = errno;
		fprintf(stderr, "hlrload: %s: %s\n", o->json, strerror(e));
		wbuf_free(&out);
		return -e;
	}
	fprintf(f, "%s\n", wbuf_str(&out));
	int bad = ferror(f);
	if (f != stdout)
		bad |= fclose(f);
	wbuf_free(&out);
	return bad ? -EIO : 0;
}

static int parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < min || v > max)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

static int parse_double(const char *s, double min, double max, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= min && v <= max))
		return -EINVAL;
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "keys", required_argument, NULL, 'n' }, { "first-key-id", required_argument, NULL, 'F' },
		{ "prefix", required_argument, NULL, 'P' }, { "block", required_argument, NULL, 'B' },
		{ "per-key", required_argument, NULL, 'a' }, { "count", required_argument, NULL, 'c' },
		{ "duration", required_argument, NULL, 'd' }, { "rate", required_argument, NULL, 'r' },
		{ "window", required_argument, NULL, 'W' }, { "query-pct", required_argument, NULL, 'q' },
		{ "lifetime", required_argument, NULL, 'L' }, { "wait-ms", required_argument, NULL, 'w' },
		{ "no-verify", no_argument, NULL, 'V' }, { "json", required_argument, NULL, 'j' },
		{ "print-hosts", no_argument, NULL, 'H' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o;
	uint32_t u;
	int c;
	memset(&o, 0, sizeof(o));
	o.keys = 1000;
	o.first_key_id = 1;
	o.block = 1024;
	o.per_key = 1;
	o.window = 256;
	o.lifetime = 3600;
	o.wait_ms = 1000;
	o.json = "-";
	if (roam_prefix_parse("100.64.0.0/12", &o.prefix) < 0)
		return EXIT_ERR;
	while ((c = getopt_long(argc, argv, "s:h", lopts, NULL)) != -1) {
		int bad = 0;
		switch (c) {
		case 's':
			bad = roam_sockaddr_parse(optarg, HLR_PORT, &o.server) < 0;
			o.have_server = !bad;
			break;
		case 'n': bad = parse_u32(optarg, 1, HLRLOAD_MAX_KEYS, &o.keys) < 0; break;
		case 'F': bad = parse_u32(optarg, 1, UINT32_MAX, &o.first_key_id) < 0; break;
		case 'P':
			bad = roam_prefix_parse(optarg, &o.prefix) < 0 || o.prefix.addr.family != AF_INET;
			break;
		case 'B': bad = parse_u32(optarg, 1, 1u << 24, &o.block) < 0; break;
		case 'a': bad = parse_u32(optarg, 1, 1u << 24, &o.per_key) < 0; break;
		case 'c': {
			double v;
			bad = parse_double(optarg, 1, 1e12, &v) < 0;
			o.count = (uint64_t)v;
			break;
		}
		case 'd': bad = parse_double(optarg, 0.001, 86400, &o.duration_s) < 0; break;
		case 'r': bad = parse_double(optarg, 0, 1e8, &o.rate) < 0; break;
		case 'W': bad = parse_u32(optarg, 1, RING_SIZE / 2, &o.window) < 0; break;
		case 'q': bad = parse_u32(optarg, 0, 100, &u) < 0; o.query_pct = u; break;
		case 'L': bad = parse_u32(optarg, 0, 86400, &o.lifetime) < 0; break;
		case 'w': bad = parse_u32(optarg, 1, 600000, &u) < 0; o.wait_ms = u; break;
		case 'V': o.no_verify = 1; break;
		case 'j': o.json = optarg; break;
		case 'H': o.print_hosts = 1; break;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
		if (bad) {
			const char *name = "s";
			for (const struct option *lo = lopts; lo->name; lo++)
				if (lo->val == c)
					name = lo->name;
			fprintf(stderr, "hlrload: bad value for %s%s: '%s'\n", c == 's' ? "-" : "--",
				name, optarg);
			return EXIT_USAGE;
		}
	}
	if (optind < argc || (!o.print_hosts && !o.have_server)) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (o.count == 0 && o.duration_s == 0)
		o.duration_s = 10;

	struct load l;
	memset(&l, 0, sizeof(l));
	l.o = &o;
	const char *why;
	if (hlrload_plan_init(&l.plan, o.keys, o.first_key_id, &o.prefix, o.block, o.per_key,
			      &why) < 0) {
		fprintf(stderr, "hlrload: %s (--keys %u --block %u --per-key %u --prefix /%u)\n", why,
			o.keys, o.block, o.per_key, o.prefix.len);
		return EXIT_USAGE;
	}
	if (o.print_hosts)
		return print_hosts(&l) < 0 ? EXIT_ERR : EXIT_OK;

	l.hosts = calloc(o.keys, sizeof(*l.hosts));
	l.ring = calloc(RING_SIZE, sizeof(*l.ring));
	l.hist = calloc(HIST_US, sizeof(*l.hist));
	if (!l.hosts || !l.ring || !l.hist) {
		fprintf(stderr, "hlrload: out of memory\n");
		return EXIT_ERR;
	}
	for (uint32_t k = 0; k < o.keys; k++) {
		uint8_t key[HLRLOAD_KEY_LEN];
		hlrload_derive_key(o.first_key_id + k, key);
		if (auth_key_set(&l.hosts[k].key, AUTH_ALG_HMAC_SHA256, key, sizeof(key)) < 0) {
			fprintf(stderr, "hlrload: key setup failed\n");
			return EXIT_ERR;
		}
	}
	int fd = socket(o.server.sa.sa_family, SOCK_DGRAM, 0);
	if (fd < 0 || connect(fd, &o.server.sa, o.server.len) < 0) {
		fprintf(stderr, "hlrload: socket: %s\n", strerror(errno));
		return EXIT_ERR;
	}
	int sz = 4 << 20;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	int r = run(&l, fd);
	close(fd);
	if (r == 0)
		r = write_json(&l);
	for (uint32_t k = 0; k < o.keys; k++)
		auth_key_wipe(&l.hosts[k].key);
	free(l.hosts);
	free(l.ring);
	free(l.hist);
	return r < 0 ? EXIT_ERR : EXIT_OK;
}
