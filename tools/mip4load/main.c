/* mip4load: a Mobile IPv4 registration load generator for had (bench/had.sh), built on the codec
 * of common/proto/mip4.  It plays N mobiles with co-located care-of addresses registering
 * directly with the home agent (no foreign agent): authenticated Registration Requests
 * (MN-HA, HMAC-MD5, RFC 5944 3.5) either at a fixed rate or as fast as a window of outstanding
 * requests allows.  Replies are decoded, their MN-HA authenticator verified and matched to the
 * request by Identification; the result (registrations/s answered, loss, reply codes, latency
 * percentiles) is printed as JSON.
 *
 * Mobile i (0-based) has home address prefix + i and care-of address 198.18.0.0/15 + i
 * (RFC 2544 benchmarking range); mobiles share MN-HA security associations `per_sa` at a time
 * (had allows up to 64 home addresses per SA): mobile i uses SPI first_spi + i / per_sa, whose
 * key is derived from the SPI (a benchmark's keys, not secret).  `mip4load --print-mobiles`
 * writes the matching `mobiles:` section of a had config.
 *
 * Request seq goes to mobile seq % mobiles: the first `mobiles` requests create that many
 * bindings, the next ones refresh them.  Identifications are NTP timestamps (RFC 5944 5.7):
 * the current NTP second in the high 32 bits, the request's sequence number in the low 32
 * bits, so they strictly increase per SA (had's replay window) and identify the request in
 * the reply. */
#include <arpa/inet.h>
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
#include "roam/buf.h"
#include "roam/clock.h"
#include "roam/json.h"
#include "roam/mip4.h"

enum { EXIT_OK = 0, EXIT_ERR = 1, EXIT_USAGE = 2 };

#define RING_BITS 20                   /* outstanding requests tracked at most */
#define RING_SIZE (1u << RING_BITS)
#define HIST_US 1000000u               /* latency histogram: 1 us buckets up to 1 s */
#define BURST_MAX 64                   /* datagrams sent per loop turn at most */
#define KEY_LEN 16
#define MAX_PER_SA 64                  /* had.yaml: home addresses per SA */

struct opts {
	struct roam_sockaddr server;
	int have_server;
	struct in_addr ha;        /* Home Agent field; default: the server's address */
	int have_ha;
	uint32_t mobiles, first_mobile, per_sa, first_spi;
	struct roam_prefix prefix;
	uint64_t count;           /* 0: until duration */
	double duration_s;        /* 0: until count */
	double rate;              /* 0: as fast as the window allows */
	uint32_t window;
	uint32_t lifetime;
	unsigned wait_ms;
	uint64_t first_seq;       /* sequence number of the first request (--skip) */
	int print_mobiles;
	int no_verify;
	const char *json;
};

struct slot {
	uint64_t seq1;    /* sequence + 1; 0: free */
	uint64_t sent_ns;
};

struct load {
	const struct opts *o;
	struct roam_key *keys;    /* per SA */
	uint32_t nsas;
	uint32_t base;            /* first home address, host order */
	struct slot *ring;
	uint32_t *hist;
	uint64_t hist_over, lat_max_us, lat_sum_us;
	uint64_t seq, oldest, outstanding, sent, answered;
	uint64_t code_accepted, code_denied, first_denial, bad_reply, unmatched, timed_out,
		send_errors, refused;
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
		"usage: mip4load -s ADDR[:PORT] [options]\n"
		"       mip4load --print-mobiles [--mobiles N --per-sa K --first-spi SPI --prefix P/LEN]\n"
		"mobiles:\n"
		"  --mobiles N         simulated mobiles, one home address each (default 100000)\n"
		"  --first-mobile M    play mobiles M .. M+N-1 only (their SAs; default 0)\n"
		"  --per-sa K          mobiles sharing one MN-HA SA, 1..64 (default 64)\n"
		"  --first-spi SPI     SPI of the first SA (default 4096)\n"
		"  --prefix P/LEN      IPv4 prefix of the home addresses (default 10.64.0.0/10)\n"
		"  --ha ADDR           Home Agent field (default: the server's address)\n"
		"load:\n"
		"  --count N           requests to send (default: until --duration)\n"
		"  --duration S        seconds to send for (default 10 when no --count)\n"
		"  --skip N            start at request N (mobile N %% mobiles)\n"
		"  --rate PPS          requests per second (default 0: as fast as --window allows)\n"
		"  --window N          requests outstanding at most (default 64)\n"
		"  --lifetime S        lifetime asked, 1..65534 (default 1800)\n"
		"  --wait-ms MS        a request unanswered after this long is lost (default 1000)\n"
		"  --no-verify         do not check the replies' authenticators\n"
		"  --json FILE         write the result there (default -: stdout)\n"
		"Exit: 0 when the run completed (whatever the loss), 1 on errors, 2 on usage.\n");
}

/* The benchmark key of an SPI: a SplitMix64 stream (deterministic, not secret). */
static void derive_key(uint32_t spi, uint8_t out[KEY_LEN])
{
	uint64_t x = 0x6d69703420000000ull ^ spi;
	for (int i = 0; i < KEY_LEN; i += 8) {
		uint64_t z = (x += 0x9e3779b97f4a7c15ull);
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		z ^= z >> 31;
		memcpy(out + i, &z, 8);
	}
}

static struct in_addr home_of(const struct load *l, uint32_t mobile)
{
	return (struct in_addr){ htonl(l->base + mobile) };
}

static int print_mobiles(const struct load *l)
{
	const struct opts *o = l->o;
	printf("mobiles:\n");
	uint32_t end = o->first_mobile + o->mobiles;
	for (uint32_t s = o->first_mobile / o->per_sa; s * o->per_sa < end; s++) {
		uint8_t key[KEY_LEN];
		uint32_t m0 = s * o->per_sa < o->first_mobile ? o->first_mobile : s * o->per_sa;
		derive_key(o->first_spi + s, key);
		printf("  - name: load-%" PRIu32 "\n    spi: %" PRIu32 "\n    key: ", s, o->first_spi + s);
		for (int i = 0; i < KEY_LEN; i++)
			printf("%02x", key[i]);
		printf("\n    home: [");
		for (uint32_t m = m0; m < (s + 1) * o->per_sa && m < end; m++) {
			char a[INET_ADDRSTRLEN];
			struct in_addr h = home_of(l, m);
			printf("%s%s", m == m0 ? "" : ",", inet_ntop(AF_INET, &h, a, sizeof(a)));
		}
		printf("]\n");
	}
	return ferror(stdout) ? -EIO : 0;
}

static int build_request(struct load *l, uint64_t seq, uint8_t *buf, size_t cap)
{
	const struct opts *o = l->o;
	uint32_t mob = o->first_mobile + (uint32_t)(seq % o->mobiles);
	uint32_t sa = mob / o->per_sa;
	struct mip4_msg m;
	memset(&m, 0, sizeof(m));
	m.type = MIP4_MSG_REG_REQUEST;
	m.flags = MIP4_REQ_T; /* reverse tunnelling (had's default reverse_tunnel: on) */
	m.lifetime = (uint16_t)o->lifetime;
	m.home = home_of(l, mob);
	m.ha = o->ha;
	m.coa.s_addr = htonl(0xc6120001u + mob % 0x1fffd);
	uint64_t ntp = auth_ntp_from_unix_ms(roam_wall_ms());
	m.id = (ntp & 0xffffffff00000000ull) | (uint32_t)seq;
	m.has_id = 1;
	struct wbuf w;
	wbuf_init_fixed(&w, buf, cap);
	int r = mip4_msg_encode(&w, &m);
	if (r == 0)
		r = mip4_auth_append(&w, 0, MIP4_AUTH_MN_HA, o->first_spi + sa, &l->keys[sa]);
	if (r == 0 && w.err)
		r = -ENOBUFS;
	return r < 0 ? r : (int)w.len;
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
	const struct opts *o = l->o;
	struct mip4_msg m;
	if (mip4_msg_decode(b, n, &m) < 0 || m.type != MIP4_MSG_REG_REPLY) {
		l->bad_reply++;
		return;
	}
	uint32_t mob = ntohl(m.home.s_addr) - l->base;
	if (mob < o->first_mobile || mob - o->first_mobile >= o->mobiles) {
		l->bad_reply++;
		return;
	}
	uint32_t sa = mob / o->per_sa;
	if (!o->no_verify && (!m.auth[MIP4_AUTH_MN_HA].present ||
			      m.auth[MIP4_AUTH_MN_HA].spi != o->first_spi + sa ||
			      mip4_auth_verify(b, &m, MIP4_AUTH_MN_HA, &l->keys[sa]) != 0)) {
		l->bad_reply++;
		return;
	}
	uint32_t low = (uint32_t)m.id;
	struct slot *s = &l->ring[low & (RING_SIZE - 1)];
	if (!s->seq1 || (uint32_t)(s->seq1 - 1) != low || o->first_mobile + (s->seq1 - 1) % o->mobiles != mob) {
		l->unmatched++;
		return;
	}
	record_latency(l, t - s->sent_ns);
	s->seq1 = 0;
	l->outstanding--;
	l->answered++;
	l->last_reply_ns = t;
	if (mip4_code_accepted(m.code)) {
		l->code_accepted++;
	} else {
		if (!l->code_denied)
			l->first_denial = m.code;
		l->code_denied++;
	}
}

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
			if (errno == ECONNREFUSED) {
				l->refused++;
				continue;
			}
			fprintf(stderr, "mip4load: recv: %s\n", strerror(errno));
			return -errno;
		}
		handle_reply(l, b, (size_t)n, now_ns());
	}
	return 0;
}

static uint64_t percentile(const struct load *l, double p)
{
	if (!l->answered)
		return 0;
	uint64_t need = (uint64_t)((double)l->answered * p / 100.0 + 0.999999), acc = 0;
	if (need == 0)
		need = 1;
	for (uint32_t i = 0; i < HIST_US; i++) {
		acc += l->hist[i];
		if (acc >= need)
			return i;
	}
	return l->lat_max_us;
}

static int run(struct load *l, int fd)
{
	const struct opts *o = l->o;
	uint8_t buf[512];
	uint64_t dur_ns = (uint64_t)(o->duration_s * 1e9);
	uint64_t end_seq = o->count ? o->first_seq + o->count : UINT64_MAX;
	l->seq = l->oldest = o->first_seq;
	l->t0_ns = now_ns();
	for (;;) {
		uint64_t t = now_ns();
		if (l->seq >= end_seq || (dur_ns && t - l->t0_ns >= dur_ns))
			break;
		expire_old(l, t, 0);
		uint64_t allowed, sent_here = l->seq - o->first_seq;
		if (o->rate > 0) {
			uint64_t due = (uint64_t)((double)(t - l->t0_ns) * o->rate / 1e9) + 1;
			allowed = due > sent_here ? due - sent_here : 0;
		} else {
			allowed = l->outstanding < o->window ? o->window - l->outstanding : 0;
		}
		if (allowed > BURST_MAX)
			allowed = BURST_MAX;
		if (allowed > end_seq - l->seq)
			allowed = end_seq - l->seq;
		for (uint64_t i = 0; i < allowed; i++) {
			struct slot *s = &l->ring[l->seq & (RING_SIZE - 1)];
			if (s->seq1) {
				expire_old(l, t, 0);
				if (s->seq1) {
					s->seq1 = 0;
					l->outstanding--;
					l->timed_out++;
					if (l->oldest + RING_SIZE <= l->seq)
						l->oldest = l->seq - RING_SIZE + 1;
				}
			}
			int n = build_request(l, l->seq, buf, sizeof(buf));
			if (n < 0) {
				fprintf(stderr, "mip4load: encode: %s\n", strerror(-n));
				return n;
			}
			ssize_t w = send(fd, buf, (size_t)n, MSG_DONTWAIT);
			if (w < 0) {
				if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
					break;
				if (errno == ECONNREFUSED) {
					l->refused++;
					break;
				}
				if (++l->send_errors > 1000) {
					fprintf(stderr, "mip4load: send: %s\n", strerror(errno));
					return -errno;
				}
				break;
			}
			uint64_t ts = now_ns();
			s->seq1 = l->seq + 1;
			s->sent_ns = ts;
			l->seq++;
			l->sent++;
			l->outstanding++;
			l->last_send_ns = ts;
		}
		uint64_t wait_ns = 1000000;
		if (o->rate > 0) {
			uint64_t next = l->t0_ns +
					(uint64_t)((double)(l->seq - o->first_seq) * 1e9 / o->rate);
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
			fprintf(stderr, "mip4load: poll: %s\n", strerror(errno));
			return -errno;
		}
		if (r > 0 && drain(l, fd) < 0)
			return -EIO;
	}
	uint64_t end = now_ns() + (uint64_t)o->wait_ms * 1000000ull;
	while (l->outstanding > 0 && now_ns() < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 10) > 0 && drain(l, fd) < 0)
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
	json_kv_uint(&w, "mobiles", o->mobiles);
	json_kv_uint(&w, "sas", (o->first_mobile + o->mobiles - 1) / o->per_sa -
				    o->first_mobile / o->per_sa + 1); /* the SAs played */
	json_kv_double(&w, "target_rate_per_s", o->rate);
	json_kv_uint(&w, "window", o->window);
	json_kv_uint(&w, "sent", l->sent);
	json_kv_uint(&w, "answered", l->answered);
	json_kv_uint(&w, "lost", l->timed_out);
	json_kv_double(&w, "loss_pct", l->sent ? 100.0 * (double)l->timed_out / (double)l->sent : 0);
	json_kv_uint(&w, "code_accepted", l->code_accepted);
	json_kv_uint(&w, "code_denied", l->code_denied);
	json_kv_uint(&w, "first_denial_code", l->first_denial);
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
		fprintf(stderr, "mip4load: %s: %s\n", o->json, strerror(e));
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

static int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end); /* accepts 1e6 */
	if (errno || end == s || *end || s[0] == '-' || v < (double)min || v > (double)max)
		return -EINVAL;
	*out = (uint64_t)v;
	return 0;
}

static int parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	uint64_t v;
	if (parse_u64(s, min, max, &v) < 0)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "mobiles", required_argument, NULL, 'n' }, { "first-mobile", required_argument, NULL, 'm' }, { "per-sa", required_argument, NULL, 'k' },
		{ "first-spi", required_argument, NULL, 'F' }, { "prefix", required_argument, NULL, 'P' },
		{ "ha", required_argument, NULL, 'A' }, { "count", required_argument, NULL, 'c' },
		{ "duration", required_argument, NULL, 'd' }, { "skip", required_argument, NULL, 'S' },
		{ "rate", required_argument, NULL, 'r' }, { "window", required_argument, NULL, 'W' },
		{ "lifetime", required_argument, NULL, 'L' }, { "wait-ms", required_argument, NULL, 'w' },
		{ "no-verify", no_argument, NULL, 'V' }, { "json", required_argument, NULL, 'j' },
		{ "print-mobiles", no_argument, NULL, 'M' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o;
	uint32_t u;
	int c;
	memset(&o, 0, sizeof(o));
	o.mobiles = 100000;
	o.per_sa = MAX_PER_SA;
	o.first_spi = 4096;
	o.window = 64;
	o.lifetime = 1800;
	o.wait_ms = 1000;
	o.json = "-";
	if (roam_prefix_parse("10.64.0.0/10", &o.prefix) < 0)
		return EXIT_ERR;
	while ((c = getopt_long(argc, argv, "s:h", lopts, NULL)) != -1) {
		int bad = 0;
		switch (c) {
		case 's':
			bad = roam_sockaddr_parse(optarg, MIP4_UDP_PORT, &o.server) < 0 ||
			      o.server.sa.sa_family != AF_INET;
			o.have_server = !bad;
			break;
		case 'n': bad = parse_u32(optarg, 1, 1u << 24, &o.mobiles) < 0; break;
		case 'm': bad = parse_u32(optarg, 0, 1u << 24, &o.first_mobile) < 0; break;
		case 'k': bad = parse_u32(optarg, 1, MAX_PER_SA, &o.per_sa) < 0; break;
		case 'F': bad = parse_u32(optarg, 256, UINT32_MAX - (1u << 24), &o.first_spi) < 0; break;
		case 'P':
			bad = roam_prefix_parse(optarg, &o.prefix) < 0 || o.prefix.addr.family != AF_INET;
			break;
		case 'A': bad = inet_pton(AF_INET, optarg, &o.ha) != 1; o.have_ha = !bad; break;
		case 'c': bad = parse_u64(optarg, 1, 1e12, &o.count) < 0; break;
		case 'S': bad = parse_u64(optarg, 0, 1e12, &o.first_seq) < 0; break;
		case 'd': {
			char *end;
			o.duration_s = strtod(optarg, &end);
			bad = end == optarg || *end || !(o.duration_s > 0 && o.duration_s <= 86400);
			break;
		}
		case 'r': {
			char *end;
			o.rate = strtod(optarg, &end);
			bad = end == optarg || *end || !(o.rate >= 0 && o.rate <= 1e8);
			break;
		}
		case 'W': bad = parse_u32(optarg, 1, RING_SIZE / 2, &o.window) < 0; break;
		case 'L': bad = parse_u32(optarg, 1, 65534, &o.lifetime) < 0; break;
		case 'w': bad = parse_u32(optarg, 1, 600000, &u) < 0; o.wait_ms = u; break;
		case 'V': o.no_verify = 1; break;
		case 'j': o.json = optarg; break;
		case 'M': o.print_mobiles = 1; break;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
		if (bad) {
			fprintf(stderr, "mip4load: bad value for option: '%s'\n", optarg);
			return EXIT_USAGE;
		}
	}
	if (optind < argc || (!o.print_mobiles && !o.have_server)) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (o.prefix.len < 8 ||
	    (uint64_t)o.first_mobile + o.mobiles > (1u << (32 - o.prefix.len)) - 2 ||
	    o.prefix.len >= 31) {
		fprintf(stderr, "mip4load: --prefix /%u too small for %u mobiles\n", o.prefix.len,
			o.mobiles);
		return EXIT_USAGE;
	}
	if (o.count == 0 && o.duration_s == 0)
		o.duration_s = 10;
	if (!o.have_ha)
		o.ha = o.server.sin.sin_addr;

	struct load l;
	memset(&l, 0, sizeof(l));
	l.o = &o;
	l.base = (ntohl(o.prefix.addr.v4.s_addr) & ~((1u << (32 - o.prefix.len)) - 1)) + 1;
	l.nsas = (o.first_mobile + o.mobiles + o.per_sa - 1) / o.per_sa; /* keys[] by SA index */
	if (o.print_mobiles)
		return print_mobiles(&l) < 0 ? EXIT_ERR : EXIT_OK;

	l.keys = calloc(l.nsas, sizeof(*l.keys));
	l.ring = calloc(RING_SIZE, sizeof(*l.ring));
	l.hist = calloc(HIST_US, sizeof(*l.hist));
	if (!l.keys || !l.ring || !l.hist) {
		fprintf(stderr, "mip4load: out of memory\n");
		return EXIT_ERR;
	}
	for (uint32_t s = 0; s < l.nsas; s++) {
		uint8_t key[KEY_LEN];
		derive_key(o.first_spi + s, key);
		if (auth_key_set(&l.keys[s], AUTH_ALG_HMAC_MD5, key, sizeof(key)) < 0) {
			fprintf(stderr, "mip4load: key setup failed\n");
			return EXIT_ERR;
		}
	}
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || connect(fd, &o.server.sa, o.server.len) < 0) {
		fprintf(stderr, "mip4load: socket: %s\n", strerror(errno));
		return EXIT_ERR;
	}
	int sz = 4 << 20;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	int r = run(&l, fd);
	close(fd);
	if (r == 0)
		r = write_json(&l);
	for (uint32_t s = 0; s < l.nsas; s++)
		auth_key_wipe(&l.keys[s]);
	free(l.keys);
	free(l.ring);
	free(l.hist);
	return r < 0 ? EXIT_ERR : EXIT_OK;
}
