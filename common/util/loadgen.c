/* The load generators' core (roam/loadgen.h): pacing, the window of outstanding requests,
 * reply matching, loss, latency percentiles and the JSON result. */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "roam/loadgen.h"

#define RING_MASK (LOADGEN_RING_SIZE - 1)

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- options ---- */

void loadgen_conf_init(struct loadgen_conf *c, uint32_t window)
{
	memset(c, 0, sizeof(*c));
	c->window = window;
	c->wait_ms = 1000;
	c->json = "-";
}

int loadgen_conf_opt(struct loadgen_conf *c, int opt, const char *arg)
{
	int r;
	switch (opt) {
	case 's':
		r = roam_sockaddr_parse(arg, c->default_port, &c->server);
		if (r == 0 && c->ipv4_only && c->server.sa.sa_family != AF_INET)
			r = -EINVAL;
		c->have_server = r == 0;
		break;
	case 'c': r = loadgen_parse_uint(arg, 1, 1000000000000ull, &c->count); break;
	case 'd': r = loadgen_parse_num(arg, 0.001, 86400, &c->duration_s); break;
	case 'r': r = loadgen_parse_num(arg, 0, 1e8, &c->rate); break;
	case 'W': r = loadgen_parse_u32(arg, 1, LOADGEN_RING_SIZE / 2, &c->window); break;
	case 'w': {
		uint32_t v;
		r = loadgen_parse_u32(arg, 1, 600000, &v);
		if (r == 0)
			c->wait_ms = v;
		break;
	}
	case 'V': c->no_verify = true; return 1;
	case 'j': c->json = arg; return 1;
	default: return 0;
	}
	return r < 0 ? -EINVAL : 1;
}

int loadgen_parse_args(struct loadgen_conf *c, const char *prog, int argc, char **argv,
		       const struct option *lopts,
		       int (*tool_opt)(void *ctx, int opt, const char *arg), void *ctx,
		       void (*usage)(FILE *f))
{
	int opt;
	while ((opt = getopt_long(argc, argv, "s:h", lopts, NULL)) != -1) {
		if (opt == 'h') {
			usage(stdout);
			return LOADGEN_EXIT_OK;
		}
		int r = opt == '?' ? 0 : loadgen_conf_opt(c, opt, optarg);
		if (r == 0 && opt != '?')
			r = tool_opt(ctx, opt, optarg);
		if (r < 0) {
			loadgen_bad_value(prog, lopts, opt, optarg);
			return LOADGEN_EXIT_USAGE;
		}
		if (r == 0) {
			usage(stderr);
			return LOADGEN_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return LOADGEN_EXIT_USAGE;
	}
	return -1;
}

void loadgen_conf_finish(struct loadgen_conf *c)
{
	if (c->count == 0 && c->duration_s == 0)
		c->duration_s = 10;
}

int loadgen_parse_num(const char *s, double min, double max, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= min && v <= max))
		return -EINVAL;
	*out = v;
	return 0;
}

int loadgen_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	double v;
	if (s[0] == '-' || loadgen_parse_num(s, (double)min, (double)max, &v) < 0 || v != floor(v))
		return -EINVAL;
	*out = (uint64_t)v;
	return 0;
}

int loadgen_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	uint64_t v;
	if (loadgen_parse_uint(s, min, max, &v) < 0)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

void loadgen_bad_value(const char *prog, const struct option *lopts, int opt, const char *arg)
{
	const char *name = "s";
	for (const struct option *lo = lopts; lo->name; lo++)
		if (lo->val == opt)
			name = lo->name;
	fprintf(stderr, "%s: bad value for %s%s: '%s'\n", prog, opt == 's' ? "-" : "--", name, arg);
}

/* ---- requests in flight ---- */

int loadgen_init(struct loadgen *g, const char *prog, const struct loadgen_conf *c,
		 const struct loadgen_ops *ops, void *ctx)
{
	memset(g, 0, sizeof(*g));
	g->prog = prog;
	g->c = c;
	g->ops = ops;
	g->ctx = ctx;
	g->seq = g->oldest = c->first_seq;
	g->end_seq = c->count ? c->first_seq + c->count : UINT64_MAX;
	g->ring = calloc(LOADGEN_RING_SIZE, sizeof(*g->ring));
	g->hist = calloc(LOADGEN_HIST_US, sizeof(*g->hist));
	if (!g->ring || !g->hist) {
		loadgen_free(g);
		return -ENOMEM;
	}
	return 0;
}

void loadgen_free(struct loadgen *g)
{
	free(g->ring);
	free(g->hist);
	g->ring = NULL;
	g->hist = NULL;
}

void loadgen_start(struct loadgen *g, uint64_t now)
{
	g->t0_ns = now;
}

bool loadgen_sending(const struct loadgen *g, uint64_t now)
{
	uint64_t dur_ns = (uint64_t)(g->c->duration_s * 1e9);
	return g->seq < g->end_seq && (dur_ns == 0 || now - g->t0_ns < dur_ns);
}

uint64_t loadgen_allowed(const struct loadgen *g, uint64_t now)
{
	const struct loadgen_conf *c = g->c;
	uint64_t allowed, sent_here = g->seq - c->first_seq;
	if (c->rate > 0) {
		/* request n is due at t0 + n / rate */
		uint64_t due = (uint64_t)((double)(now - g->t0_ns) * c->rate / 1e9) + 1;
		allowed = due > sent_here ? due - sent_here : 0;
	} else {
		allowed = g->outstanding < c->window ? c->window - g->outstanding : 0;
	}
	if (allowed > LOADGEN_BURST_MAX)
		allowed = LOADGEN_BURST_MAX;
	if (allowed > g->end_seq - g->seq)
		allowed = g->end_seq - g->seq;
	return allowed;
}

uint64_t loadgen_wait_ns(const struct loadgen *g, uint64_t now)
{
	const struct loadgen_conf *c = g->c;
	if (c->rate > 0) {
		uint64_t next = g->t0_ns + (uint64_t)((double)(g->seq - c->first_seq) * 1e9 / c->rate);
		uint64_t wait = next > now ? next - now : 0;
		return wait > 1000000 ? 1000000 : wait;
	}
	return g->outstanding < c->window ? 0 : 1000000; /* window full: a reply wakes us up */
}

void loadgen_expire(struct loadgen *g, uint64_t now, bool force)
{
	uint64_t wait_ns = (uint64_t)g->c->wait_ms * 1000000ull;
	while (g->oldest < g->seq) {
		struct loadgen_slot *s = &g->ring[g->oldest & RING_MASK];
		if (s->seq1 == g->oldest + 1) {
			if (!force && now - s->sent_ns < wait_ns)
				break;
			s->seq1 = 0;
			g->outstanding--;
			g->timed_out++;
		}
		g->oldest++;
	}
}

void loadgen_make_room(struct loadgen *g, uint64_t now)
{
	struct loadgen_slot *s = &g->ring[g->seq & RING_MASK];
	if (!s->seq1)
		return;
	loadgen_expire(g, now, false);
	if (s->seq1) { /* the ring is full of pending requests: the oldest is lost */
		s->seq1 = 0;
		g->outstanding--;
		g->timed_out++;
		if (g->oldest + LOADGEN_RING_SIZE <= g->seq)
			g->oldest = g->seq - LOADGEN_RING_SIZE + 1;
	}
}

void loadgen_sent(struct loadgen *g, uint8_t tag, uint64_t now)
{
	struct loadgen_slot *s = &g->ring[g->seq & RING_MASK];
	s->seq1 = g->seq + 1;
	s->sent_ns = now;
	s->tag = tag;
	g->seq++;
	g->sent++;
	g->sent_tag[tag % LOADGEN_TAGS]++;
	g->outstanding++;
	g->last_send_ns = now;
}

struct loadgen_slot *loadgen_find(struct loadgen *g, uint32_t seq_low)
{
	struct loadgen_slot *s = &g->ring[seq_low & RING_MASK];
	if (!s->seq1 || (uint32_t)(s->seq1 - 1) != seq_low)
		return NULL;
	return s;
}

void loadgen_record_latency(struct loadgen *g, uint64_t ns)
{
	uint64_t us = ns / 1000;
	if (us < LOADGEN_HIST_US)
		g->hist[us]++;
	else
		g->hist_over++;
	if (us > g->lat_max_us)
		g->lat_max_us = us;
	g->lat_sum_us += us;
}

void loadgen_answered(struct loadgen *g, struct loadgen_slot *s, uint64_t now)
{
	loadgen_record_latency(g, now - s->sent_ns);
	s->seq1 = 0;
	g->outstanding--;
	g->answered++;
	g->last_reply_ns = now;
}

/* ---- percentiles ---- */

uint64_t loadgen_percentile(const uint32_t *hist, size_t n, uint64_t total, double p,
			    uint64_t over_value)
{
	if (total == 0)
		return 0;
	/* the rank, rounded up; what floating point adds below 1e-6 is noise (99.9% of 1000
	 * is 999, not 999.0000000000001 rounded up) */
	uint64_t want = (uint64_t)((double)total * p / 100.0 + 0.999999), acc = 0;
	if (want == 0)
		want = 1;
	for (size_t v = 0; v < n; v++) {
		acc += hist[v];
		if (acc >= want)
			return v;
	}
	return over_value;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

void loadgen_samples_sort(uint32_t *v, size_t n)
{
	if (n)
		qsort(v, n, sizeof(*v), cmp_u32);
}

uint32_t loadgen_samples_percentile(const uint32_t *sorted, size_t n, double p)
{
	if (!n)
		return 0;
	return sorted[(size_t)((double)(n - 1) * p / 100.0 + 0.5)];
}

/* ---- the run ---- */

int loadgen_connect(const struct loadgen *g)
{
	const struct roam_sockaddr *sa = &g->c->server;
	int fd = socket(sa->sa.sa_family, SOCK_DGRAM, 0);
	if (fd < 0 || connect(fd, &sa->sa, sa->len) < 0) {
		int e = errno;
		fprintf(stderr, "%s: socket: %s\n", g->prog, strerror(e));
		if (fd >= 0)
			close(fd);
		return -e;
	}
	int sz = 4 << 20;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	return fd;
}

static int drain(struct loadgen *g, int fd)
{
	uint8_t b[LOADGEN_MSG_MAX];
	for (int i = 0; i < 256; i++) {
		ssize_t n = recv(fd, b, sizeof(b), MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return 0;
			if (errno == ECONNREFUSED) { /* nobody listens (yet): counted, not fatal */
				g->refused++;
				continue;
			}
			fprintf(stderr, "%s: recv: %s\n", g->prog, strerror(errno));
			return -errno;
		}
		g->ops->reply(g->ctx, b, (size_t)n, now_ns());
	}
	return 0;
}

/* Sends what is allowed at t: 0, or a negative errno when the run must stop. */
static int send_burst(struct loadgen *g, int fd, uint64_t t)
{
	uint8_t buf[LOADGEN_MSG_MAX];
	uint64_t allowed = loadgen_allowed(g, t);
	for (uint64_t i = 0; i < allowed; i++) {
		loadgen_make_room(g, t);
		uint8_t tag = 0;
		int n = g->ops->build(g->ctx, g->seq, buf, sizeof(buf), &tag);
		if (n < 0) {
			fprintf(stderr, "%s: encode: %s\n", g->prog, strerror(-n));
			return n;
		}
		if (send(fd, buf, (size_t)n, MSG_DONTWAIT) < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
				return 0; /* retried (built afresh) on the next turn */
			if (errno == ECONNREFUSED) {
				g->refused++;
				return 0;
			}
			if (++g->send_errors > 1000) {
				fprintf(stderr, "%s: send: %s\n", g->prog, strerror(errno));
				return -errno;
			}
			return 0;
		}
		loadgen_sent(g, tag, now_ns());
	}
	return 0;
}

int loadgen_run(struct loadgen *g, int fd)
{
	loadgen_start(g, now_ns());
	for (;;) {
		uint64_t t = now_ns();
		if (!loadgen_sending(g, t))
			break;
		loadgen_expire(g, t, false);
		int r = send_burst(g, fd, t);
		if (r < 0)
			return r;
		/* wait for replies, or until the next request is due */
		uint64_t wait_ns = loadgen_wait_ns(g, now_ns());
		struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)wait_ns };
		struct pollfd p = { .fd = fd, .events = POLLIN };
		r = ppoll(&p, 1, &ts, NULL);
		if (r < 0 && errno != EINTR) {
			fprintf(stderr, "%s: poll: %s\n", g->prog, strerror(errno));
			return -errno;
		}
		if (r > 0 && drain(g, fd) < 0)
			return -EIO;
	}
	/* the tail: wait for the last replies */
	uint64_t end = now_ns() + (uint64_t)g->c->wait_ms * 1000000ull;
	while (g->outstanding > 0 && now_ns() < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 10) > 0 && drain(g, fd) < 0)
			return -EIO;
	}
	loadgen_expire(g, now_ns(), true);
	return 0;
}

int loadgen_execute(struct loadgen *g)
{
	int fd = loadgen_connect(g);
	if (fd < 0)
		return fd;
	int r = loadgen_run(g, fd);
	close(fd);
	return r < 0 ? r : loadgen_write_result(g);
}

/* ---- the result ---- */

static void tool_fields(const struct loadgen *g, struct json_writer *w, enum loadgen_json_at at)
{
	if (g->ops->json)
		g->ops->json(g->ctx, w, at);
}

static uint64_t pct(const struct loadgen *g, double p)
{
	return loadgen_percentile(g->hist, LOADGEN_HIST_US, g->answered, p, g->lat_max_us);
}

int loadgen_write_result(const struct loadgen *g)
{
	const struct loadgen_conf *c = g->c;
	struct wbuf out;
	struct json_writer w;
	double send_s = g->sent ? (double)(g->last_send_ns - g->t0_ns) / 1e9 : 0;
	uint64_t end = g->last_reply_ns > g->last_send_ns ? g->last_reply_ns : g->last_send_ns;
	double active_s = g->sent ? (double)(end - g->t0_ns) / 1e9 : 0;
	char a[ROAM_ADDRSTRLEN];
	wbuf_init(&out);
	json_writer_init(&w, &out);
	json_obj_begin(&w);
	json_kv_str(&w, "server", roam_sockaddr_fmt(&c->server, a, sizeof(a)));
	tool_fields(g, &w, LOADGEN_JSON_HEAD);
	json_kv_double(&w, "target_rate_per_s", c->rate);
	json_kv_uint(&w, "window", c->window);
	tool_fields(g, &w, LOADGEN_JSON_LOAD);
	json_kv_uint(&w, "sent", g->sent);
	tool_fields(g, &w, LOADGEN_JSON_SENT);
	json_kv_uint(&w, "answered", g->answered);
	json_kv_uint(&w, "lost", g->timed_out);
	json_kv_double(&w, "loss_pct", g->sent ? 100.0 * (double)g->timed_out / (double)g->sent : 0);
	tool_fields(g, &w, LOADGEN_JSON_REPLIES);
	json_kv_uint(&w, "bad_replies", g->bad_reply);
	json_kv_uint(&w, "late_or_unmatched", g->unmatched);
	json_kv_uint(&w, "refused", g->refused);
	json_kv_uint(&w, "send_errors", g->send_errors);
	json_kv_double(&w, "send_duration_s", send_s);
	json_kv_double(&w, "active_duration_s", active_s);
	json_kv_double(&w, "sent_per_s", send_s > 0 ? (double)g->sent / send_s : 0);
	json_kv_double(&w, "answered_per_s", active_s > 0 ? (double)g->answered / active_s : 0);
	json_key(&w, "latency_us");
	json_obj_begin(&w);
	json_kv_double(&w, "mean", g->answered ? (double)g->lat_sum_us / (double)g->answered : 0);
	json_kv_uint(&w, "p50", pct(g, 50));
	json_kv_uint(&w, "p90", pct(g, 90));
	json_kv_uint(&w, "p99", pct(g, 99));
	json_kv_uint(&w, "p999", pct(g, 99.9));
	json_kv_uint(&w, "max", g->lat_max_us);
	json_kv_uint(&w, "over_1s", g->hist_over);
	json_obj_end(&w);
	json_obj_end(&w);
	return loadgen_json_output(g->prog, c->json, &out, &w);
}

int loadgen_json_output(const char *prog, const char *path, struct wbuf *out,
			const struct json_writer *w)
{
	if (json_writer_err(w) || out->err) {
		wbuf_free(out);
		return -ENOMEM;
	}
	FILE *f = stdout;
	if (path && strcmp(path, "-") != 0 && !(f = fopen(path, "w"))) {
		int e = errno;
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(e));
		wbuf_free(out);
		return -e;
	}
	fprintf(f, "%s\n", wbuf_str(out));
	int bad = ferror(f);
	if (f != stdout)
		bad |= fclose(f);
	wbuf_free(out);
	return bad ? -EIO : 0;
}

/* ---- keys ---- */

void loadgen_key_stream(uint64_t seed, uint8_t *out, size_t len)
{
	uint64_t x = seed;
	for (size_t i = 0; i < len; i += 8) {
		uint64_t z = (x += 0x9e3779b97f4a7c15ull);
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		z ^= z >> 31;
		for (size_t j = 0; j < 8 && i + j < len; j++)
			out[i + j] = (uint8_t)(z >> (8 * j));
	}
}
