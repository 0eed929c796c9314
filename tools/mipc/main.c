/* mipc: a Mobile IPv4 registration client for tests and benchmarks (docs/protocols/mipv4.md),
 * built on the codec of common/proto/mip4.  It sends a Registration Request (RFC 5944 3.3) with
 * an MN-HA authenticator (and optionally FA-HA, playing a foreign agent), waits for the reply
 * and prints it decoded as one JSON object per line.  Options make it misbehave on purpose
 * (wrong key, unknown SPI, replayed bytes, stale Identification, garbage), wait for the
 * synchronized handoff's deregistration reply on the old care-of address, or send many
 * registrations at a rate and report replies per second (load generator).  Playing a mobile
 * behind a foreign agent (fad): -s names the FA's care-of address, --ha the home agent,
 * --mn-fa-spi / --mn-fa-key add the MN-FA authenticator, --lport fixes the source port (where
 * the old FA relays the deregistration reply), and `fbu` sends an RFC 4988 Fast Binding Update
 * with the MN-PAR authenticator and waits for the FBAck. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "roam/addr.h"
#include "roam/auth.h"
#include "roam/clock.h"
#include "roam/mip4.h"

enum { EXIT_OK = 0, EXIT_ERR = 1, EXIT_USAGE = 2, EXIT_TIMEOUT = 3, EXIT_DENIED = 4 };

static void usage(FILE *f)
{
	fprintf(f,
		"usage: mipc -s HA[:PORT] --spi N (-k HEXKEY | -K KEYFILE) [options] COMMAND\n"
		"commands:\n"
		"  register HOME COA LIFETIME   register HOME at COA for LIFETIME seconds\n"
		"  deregister HOME              lifetime 0, care-of address = HOME\n"
		"  fbu HOME PREV_FA NEW_COA LIFETIME\n"
		"                               RFC 4988 Fast Binding Update to the previous FA\n"
		"                               (via -s: the previous FA, or the new FA relaying it),\n"
		"                               MN-PAR authenticator under --mn-fa-spi/--mn-fa-key;\n"
		"                               waits for the FBAck\n"
		"options:\n"
		"  --alg ALG          hmac-md5 (default) or keyed-md5\n"
		"  --ha ADDR          Home Agent field (default: the server address)\n"
		"  --flags LIST       request flags, comma separated: S,B,D,M,G,T\n"
		"  -w MS              wait this long for a reply (default 2000)\n"
		"  --local ADDR       send from this address (e.g. to play a foreign agent)\n"
		"  --lport PORT       send from this UDP port (default: ephemeral)\n"
		"  --mn-fa-spi N --mn-fa-key HEX   add an MN-FA authenticator (registering via a\n"
		"                     foreign agent that has an SA with the mobile); also the\n"
		"                     MN-PAR key of fbu\n"
		"  --fa-spi N --fa-key HEX   add an FA-HA authenticator (as a foreign agent)\n"
		"  --wrong-key        sign with a corrupted key (expect 131)\n"
		"  --unknown-spi      use an SPI the home agent does not know (expect 131)\n"
		"  --replay           send the same bytes twice (the second: no reply)\n"
		"  --stale SECONDS    Identification SECONDS in the past (expect 133)\n"
		"  --garbage N        send N random bytes instead of a request (expect no reply)\n"
		"  --drr ADDR         also wait on ADDR:434 for the deregistration reply of the old\n"
		"                     path (synchronized handoff)\n"
		"  --count N          load: send N registrations (fresh Identification each)\n"
		"  --rate R           load: R requests per second (0: as fast as replies come)\n"
		"Prints one JSON object per reply (or {\"reply\":null} on timeout); with --count one\n"
		"summary object.  Exit: 0 accepted, 4 denied, 3 no reply, 1 error, 2 usage.\n");
}

struct opts {
	struct roam_sockaddr server;
	int have_server;
	uint32_t spi;
	int have_spi;
	struct roam_key key;
	int have_key;
	enum auth_alg alg;
	const char *keyhex, *keyfile;
	struct in_addr ha;
	int have_ha;
	uint8_t flags;
	int timeout_ms;
	struct roam_ipaddr local;
	uint32_t fa_spi;
	struct roam_key fa_key;
	int have_fa;
	const char *fa_keyhex;
	uint16_t lport;
	uint32_t mnfa_spi;
	struct roam_key mnfa_key;
	int have_mnfa;
	const char *mnfa_keyhex;
	int fbu;
	struct in_addr prev_fa;
	int wrong_key, unknown_spi, replay;
	long stale;
	long garbage;
	struct roam_ipaddr drr;
	long count;
	double rate;
};

static int parse_flags(const char *s, uint8_t *out)
{
	uint8_t f = 0;
	char buf[64];
	snprintf(buf, sizeof(buf), "%s", s);
	for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (!strcmp(t, "S")) f |= MIP4_REQ_S;
		else if (!strcmp(t, "B")) f |= MIP4_REQ_B;
		else if (!strcmp(t, "D")) f |= MIP4_REQ_D;
		else if (!strcmp(t, "M")) f |= MIP4_REQ_M;
		else if (!strcmp(t, "G")) f |= MIP4_REQ_G;
		else if (!strcmp(t, "T")) f |= MIP4_REQ_T;
		else return -EINVAL;
	}
	*out = f;
	return 0;
}

static int read_key_file(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -errno;
	size_t n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = 0;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
		buf[--n] = 0;
	return 0;
}

static int parse_in4(const char *s, struct in_addr *out)
{
	struct roam_ipaddr a;
	if (roam_ipaddr_parse(s, &a) < 0 || a.family != AF_INET)
		return -EINVAL;
	*out = a.v4;
	return 0;
}

static const char *in4_fmt(struct in_addr a, char *b, size_t n)
{
	struct roam_ipaddr x;
	roam_ipaddr_set4(&x, a);
	return roam_ipaddr_fmt(&x, b, n);
}

/* Builds a request into w. */
static int build_request(const struct opts *o, struct wbuf *w, struct in_addr home,
			 struct in_addr coa, uint16_t lifetime, uint64_t id)
{
	struct mip4_msg m;
	memset(&m, 0, sizeof(m));
	m.type = o->fbu ? MIP4_MSG_FBU : MIP4_MSG_REG_REQUEST;
	m.flags = o->flags;
	m.lifetime = lifetime;
	m.home = home;
	m.ha = o->fbu ? o->prev_fa : o->ha;
	m.coa = coa;
	m.id = id;
	m.has_id = 1;
	int r = mip4_msg_encode(w, &m);
	if (r < 0)
		return r;
	if (o->fbu) {
		struct roam_key pk = o->mnfa_key;
		if (o->wrong_key)
			pk.bytes[0] ^= 0x5a;
		if ((r = mip4_auth_append(w, 0, MIP4_AUTH_MN_PAR, o->mnfa_spi, &pk)) < 0)
			return r;
		return w->err ? -ENOBUFS : 0;
	}
	struct roam_key k = o->key;
	if (o->wrong_key)
		k.bytes[0] ^= 0x5a;
	uint32_t spi = o->unknown_spi ? o->spi ^ 0x80000000u : o->spi;
	if ((r = mip4_auth_append(w, 0, MIP4_AUTH_MN_HA, spi, &k)) < 0)
		return r;
	if (o->have_mnfa &&
	    (r = mip4_auth_append(w, 0, MIP4_AUTH_MN_FA, o->mnfa_spi, &o->mnfa_key)) < 0)
		return r;
	if (o->have_fa && (r = mip4_auth_append(w, 0, MIP4_AUTH_FA_HA, o->fa_spi, &o->fa_key)) < 0)
		return r;
	return w->err ? -ENOBUFS : 0;
}

/* Prints a reply as JSON; returns its code, or -1 when it does not decode. */
static int print_reply(const struct opts *o, const uint8_t *p, size_t n, uint64_t req_id,
		       const char *via)
{
	struct mip4_msg m;
	char b1[ROAM_ADDRSTRLEN], b2[ROAM_ADDRSTRLEN];
	int r = mip4_msg_decode(p, n, &m);
	if (r < 0) {
		printf("{\"via\":\"%s\",\"reply\":{\"error\":\"%s\",\"len\":%zu}}\n", via,
		       strerror(-r), n);
		return -1;
	}
	const char *mnha = "absent";
	if (m.auth[MIP4_AUTH_MN_HA].present)
		mnha = mip4_auth_verify(p, &m, MIP4_AUTH_MN_HA, &o->key) == 0 ? "valid" : "invalid";
	const char *faha = "absent";
	if (m.auth[MIP4_AUTH_FA_HA].present)
		faha = o->have_fa ? (mip4_auth_verify(p, &m, MIP4_AUTH_FA_HA, &o->fa_key) == 0 ?
					     "valid" : "invalid") : "present";
	const char *mnfa = "absent";
	enum mip4_auth_kind fk = m.type == MIP4_MSG_FBACK ? MIP4_AUTH_MN_PAR : MIP4_AUTH_MN_FA;
	if (m.auth[fk].present)
		mnfa = o->have_mnfa ? (mip4_auth_verify(p, &m, fk, &o->mnfa_key) == 0 ? "valid"
										    : "invalid")
				    : "present";
	printf("{\"via\":\"%s\",\"reply\":{\"mn_fa\":\"%s\",\"type\":%u,\"type_name\":\"%s\",\"code\":%u,"
	       "\"code_name\":\"%s\",\"accepted\":%s,\"lifetime\":%u,\"home\":\"%s\",\"ha\":\"%s\","
	       "\"id\":\"%016llx\",\"request_id\":\"%016llx\",\"id_match\":%d,\"mn_ha\":\"%s\","
	       "\"mn_ha_spi\":%u,\"fa_ha\":\"%s\",\"len\":%zu}}\n",
	       via, mnfa, m.type, mip4_msg_name(m.type), m.code, mip4_code_name(m.code),
	       mip4_code_accepted(m.code) ? "true" : "false", m.lifetime,
	       in4_fmt(m.home, b1, sizeof(b1)), in4_fmt(m.ha, b2, sizeof(b2)),
	       (unsigned long long)m.id, (unsigned long long)req_id, mip4_id_match(m.id, req_id),
	       mnha, m.auth[MIP4_AUTH_MN_HA].spi, faha, n);
	fflush(stdout);
	return m.code;
}

/* Waits up to timeout_ms for a datagram on fd; returns its length, 0 on timeout, -errno. */
static ssize_t wait_dgram(int fd, uint8_t *buf, size_t len, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int r = poll(&pfd, 1, timeout_ms);
	if (r < 0)
		return -errno;
	if (r == 0)
		return 0;
	ssize_t n = recv(fd, buf, len, 0);
	return n < 0 ? -errno : n;
}

static int open_sock(const struct opts *o, const struct roam_ipaddr *bind_addr, uint16_t port)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return -errno;
	if (bind_addr && bind_addr->family) {
		struct roam_sockaddr sa;
		int one = 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		roam_sockaddr_set(&sa, bind_addr, port);
		if (bind(fd, &sa.sa, sa.len) < 0) {
			int e = -errno;
			close(fd);
			return e;
		}
	}
	(void)o;
	return fd;
}

static uint64_t next_id(long stale, uint64_t *last)
{
	uint64_t now = roam_wall_ms();
	int64_t off = -(int64_t)stale * 1000;
	uint64_t id = mip4_id_next((uint64_t)((int64_t)now + off), 0, *last);
	*last = id;
	return id;
}

static int run_load(const struct opts *o, int fd, struct in_addr home, struct in_addr coa,
		    uint16_t lifetime)
{
	uint8_t buf[512], rbuf[2048];
	uint64_t last = 0, t0 = roam_mono_ms();
	long sent = 0, replies = 0, accepted = 0, denied = 0;
	double interval_ms = o->rate > 0 ? 1000.0 / o->rate : 0;
	while (sent < o->count) {
		struct wbuf w;
		wbuf_init_fixed(&w, buf, sizeof(buf));
		if (build_request(o, &w, home, coa, lifetime, next_id(o->stale, &last)) < 0)
			return EXIT_ERR;
		if (sendto(fd, buf, w.len, 0, &o->server.sa, o->server.len) < 0) {
			fprintf(stderr, "mipc: send: %s\n", strerror(errno));
			return EXIT_ERR;
		}
		sent++;
		/* Collect replies until the next send is due (rate) or one reply (closed loop). */
		for (;;) {
			int wait;
			if (interval_ms > 0) {
				double due = (double)t0 + interval_ms * (double)sent;
				double nowf = (double)roam_mono_ms();
				wait = due > nowf ? (int)(due - nowf) : 0;
			} else {
				wait = o->timeout_ms;
			}
			ssize_t n = wait_dgram(fd, rbuf, sizeof(rbuf), wait);
			if (n <= 0)
				break;
			struct mip4_msg m;
			if (mip4_msg_decode(rbuf, (size_t)n, &m) == 0 && m.type == MIP4_MSG_REG_REPLY) {
				replies++;
				if (mip4_code_accepted(m.code))
					accepted++;
				else
					denied++;
			}
			if (interval_ms <= 0)
				break;
		}
	}
	/* Late replies. */
	for (;;) {
		ssize_t n = wait_dgram(fd, rbuf, sizeof(rbuf), replies < sent ? o->timeout_ms : 0);
		if (n <= 0)
			break;
		struct mip4_msg m;
		if (mip4_msg_decode(rbuf, (size_t)n, &m) == 0 && m.type == MIP4_MSG_REG_REPLY) {
			replies++;
			if (mip4_code_accepted(m.code))
				accepted++;
			else
				denied++;
		}
	}
	uint64_t el = roam_mono_ms() - t0;
	printf("{\"sent\":%ld,\"replies\":%ld,\"accepted\":%ld,\"denied\":%ld,\"elapsed_ms\":%llu,"
	       "\"replies_per_s\":%.1f}\n",
	       sent, replies, accepted, denied, (unsigned long long)el,
	       el ? (double)replies * 1000.0 / (double)el : 0.0);
	return replies == sent ? EXIT_OK : EXIT_TIMEOUT;
}

int main(int argc, char **argv)
{
	struct opts o;
	memset(&o, 0, sizeof(o));
	o.timeout_ms = 2000;
	o.alg = AUTH_ALG_HMAC_MD5;
	enum { O_SPI = 256, O_ALG, O_HA, O_FLAGS, O_LOCAL, O_FASPI, O_FAKEY, O_WRONG, O_UNKSPI,
	       O_REPLAY, O_STALE, O_GARBAGE, O_DRR, O_COUNT, O_RATE, O_LPORT, O_MNFASPI,
	       O_MNFAKEY };
	static const struct option lo[] = {
		{ "spi", required_argument, NULL, O_SPI },
		{ "alg", required_argument, NULL, O_ALG },
		{ "ha", required_argument, NULL, O_HA },
		{ "flags", required_argument, NULL, O_FLAGS },
		{ "local", required_argument, NULL, O_LOCAL },
		{ "fa-spi", required_argument, NULL, O_FASPI },
		{ "fa-key", required_argument, NULL, O_FAKEY },
		{ "wrong-key", no_argument, NULL, O_WRONG },
		{ "unknown-spi", no_argument, NULL, O_UNKSPI },
		{ "replay", no_argument, NULL, O_REPLAY },
		{ "stale", required_argument, NULL, O_STALE },
		{ "garbage", required_argument, NULL, O_GARBAGE },
		{ "drr", required_argument, NULL, O_DRR },
		{ "count", required_argument, NULL, O_COUNT },
		{ "rate", required_argument, NULL, O_RATE },
		{ "lport", required_argument, NULL, O_LPORT },
		{ "mn-fa-spi", required_argument, NULL, O_MNFASPI },
		{ "mn-fa-key", required_argument, NULL, O_MNFAKEY },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	char *end;
	while ((c = getopt_long(argc, argv, "s:k:K:w:h", lo, NULL)) != -1) {
		switch (c) {
		case 's':
			if (roam_sockaddr_parse(optarg, MIP4_UDP_PORT, &o.server) < 0 ||
			    roam_sockaddr_family(&o.server) != AF_INET) {
				fprintf(stderr, "mipc: -s: not an IPv4 address[:port]: %s\n", optarg);
				return EXIT_USAGE;
			}
			o.have_server = 1;
			break;
		case 'k': o.keyhex = optarg; break;
		case 'K': o.keyfile = optarg; break;
		case 'w':
			o.timeout_ms = (int)strtol(optarg, &end, 10);
			if (*end || o.timeout_ms < 0) {
				fprintf(stderr, "mipc: -w: not a number of ms: %s\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case O_SPI: {
			unsigned long v = strtoul(optarg, &end, 0);
			if (*end || v > UINT32_MAX) {
				fprintf(stderr, "mipc: --spi: bad value %s\n", optarg);
				return EXIT_USAGE;
			}
			o.spi = (uint32_t)v;
			o.have_spi = 1;
			break;
		}
		case O_ALG:
			if (strcmp(optarg, "hmac-md5") && strcmp(optarg, "keyed-md5")) {
				fprintf(stderr, "mipc: --alg: hmac-md5 or keyed-md5\n");
				return EXIT_USAGE;
			}
			auth_alg_parse(optarg, &o.alg);
			break;
		case O_HA:
			if (parse_in4(optarg, &o.ha) < 0) {
				fprintf(stderr, "mipc: --ha: not an IPv4 address: %s\n", optarg);
				return EXIT_USAGE;
			}
			o.have_ha = 1;
			break;
		case O_FLAGS:
			if (parse_flags(optarg, &o.flags) < 0) {
				fprintf(stderr, "mipc: --flags: S,B,D,M,G,T: %s\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case O_LOCAL:
			if (roam_ipaddr_parse(optarg, &o.local) < 0 || o.local.family != AF_INET) {
				fprintf(stderr, "mipc: --local: not an IPv4 address: %s\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case O_FASPI: o.fa_spi = (uint32_t)strtoul(optarg, NULL, 0); break;
		case O_FAKEY: o.fa_keyhex = optarg; break;
		case O_WRONG: o.wrong_key = 1; break;
		case O_UNKSPI: o.unknown_spi = 1; break;
		case O_REPLAY: o.replay = 1; break;
		case O_STALE: o.stale = strtol(optarg, NULL, 10); break;
		case O_GARBAGE:
			o.garbage = strtol(optarg, &end, 10);
			if (*end || o.garbage < 1 || o.garbage > 1400) {
				fprintf(stderr, "mipc: --garbage: 1..1400 bytes\n");
				return EXIT_USAGE;
			}
			break;
		case O_DRR:
			if (roam_ipaddr_parse(optarg, &o.drr) < 0 || o.drr.family != AF_INET) {
				fprintf(stderr, "mipc: --drr: not an IPv4 address: %s\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case O_COUNT: o.count = strtol(optarg, NULL, 10); break;
		case O_RATE: o.rate = strtod(optarg, NULL); break;
		case O_LPORT: {
			unsigned long v = strtoul(optarg, &end, 10);
			if (*end || v < 1 || v > 65535) {
				fprintf(stderr, "mipc: --lport: 1..65535\n");
				return EXIT_USAGE;
			}
			o.lport = (uint16_t)v;
			break;
		}
		case O_MNFASPI: o.mnfa_spi = (uint32_t)strtoul(optarg, NULL, 0); break;
		case O_MNFAKEY: o.mnfa_keyhex = optarg; break;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (!o.have_server) {
		usage(stderr);
		return EXIT_USAGE;
	}
	struct roam_ipaddr any4;
	memset(&any4, 0, sizeof(any4));
	any4.family = AF_INET;
	int fd = open_sock(&o, o.local.family ? &o.local : (o.lport ? &any4 : NULL), o.lport);
	if (fd < 0) {
		fprintf(stderr, "mipc: socket: %s\n", strerror(-fd));
		return EXIT_ERR;
	}
	uint8_t buf[2048];
	if (o.garbage) {
		uint8_t g[1400];
		auth_random(g, (size_t)o.garbage);
		g[0] = MIP4_MSG_REG_REQUEST; /* looks like a request, is not one */
		if (sendto(fd, g, (size_t)o.garbage, 0, &o.server.sa, o.server.len) < 0) {
			fprintf(stderr, "mipc: send: %s\n", strerror(errno));
			return EXIT_ERR;
		}
		ssize_t n = wait_dgram(fd, buf, sizeof(buf), o.timeout_ms);
		if (n <= 0) {
			printf("{\"via\":\"ha\",\"reply\":null}\n");
			return EXIT_TIMEOUT;
		}
		return print_reply(&o, buf, (size_t)n, 0, "ha") == 0 ? EXIT_OK : EXIT_DENIED;
	}
	if (!o.have_spi || (!o.keyhex && !o.keyfile) || optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	char keytext[512];
	const char *kh = o.keyhex;
	if (o.keyfile) {
		int r = read_key_file(o.keyfile, keytext, sizeof(keytext));
		if (r < 0) {
			fprintf(stderr, "mipc: %s: %s\n", o.keyfile, strerror(-r));
			return EXIT_ERR;
		}
		kh = keytext;
	}
	if (auth_key_from_hex(&o.key, o.alg, kh) < 0) {
		fprintf(stderr, "mipc: key: not a hex key of 1-%d bytes\n", AUTH_KEY_MAX);
		return EXIT_USAGE;
	}
	if (o.fa_keyhex) {
		if (auth_key_from_hex(&o.fa_key, AUTH_ALG_HMAC_MD5, o.fa_keyhex) < 0 || !o.fa_spi) {
			fprintf(stderr, "mipc: --fa-key/--fa-spi: bad key or SPI\n");
			return EXIT_USAGE;
		}
		o.have_fa = 1;
	}
	if (o.mnfa_keyhex) {
		if (auth_key_from_hex(&o.mnfa_key, AUTH_ALG_HMAC_MD5, o.mnfa_keyhex) < 0 ||
		    o.mnfa_spi < 256) {
			fprintf(stderr, "mipc: --mn-fa-key/--mn-fa-spi: bad key or SPI\n");
			return EXIT_USAGE;
		}
		o.have_mnfa = 1;
	}
	if (!o.have_ha)
		o.ha = o.server.sin.sin_addr;

	const char *cmd = argv[optind];
	struct in_addr home, coa;
	uint16_t lifetime;
	if (!strcmp(cmd, "register") && argc - optind == 4) {
		long l = strtol(argv[optind + 3], &end, 10);
		if (parse_in4(argv[optind + 1], &home) < 0 || parse_in4(argv[optind + 2], &coa) < 0 ||
		    *end || l < 0 || l > 65535) {
			fprintf(stderr, "mipc: register HOME COA LIFETIME (0-65535)\n");
			return EXIT_USAGE;
		}
		lifetime = (uint16_t)l;
	} else if (!strcmp(cmd, "deregister") && argc - optind == 2) {
		if (parse_in4(argv[optind + 1], &home) < 0) {
			fprintf(stderr, "mipc: deregister HOME\n");
			return EXIT_USAGE;
		}
		coa = home;
		lifetime = 0;
	} else if (!strcmp(cmd, "fbu") && argc - optind == 5) {
		long l = strtol(argv[optind + 4], &end, 10);
		if (parse_in4(argv[optind + 1], &home) < 0 ||
		    parse_in4(argv[optind + 2], &o.prev_fa) < 0 ||
		    parse_in4(argv[optind + 3], &coa) < 0 || *end || l < 0 || l > 65535 ||
		    !o.have_mnfa) {
			fprintf(stderr, "mipc: fbu HOME PREV_FA NEW_COA LIFETIME (needs --mn-fa-spi "
					"and --mn-fa-key)\n");
			return EXIT_USAGE;
		}
		lifetime = (uint16_t)l;
		o.fbu = 1;
	} else {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (o.count > 0)
		return run_load(&o, fd, home, coa, lifetime);

	int drr_fd = -1;
	if (o.drr.family) {
		drr_fd = open_sock(&o, &o.drr, MIP4_UDP_PORT);
		if (drr_fd < 0) {
			fprintf(stderr, "mipc: --drr: bind port 434: %s\n", strerror(-drr_fd));
			return EXIT_ERR;
		}
	}
	uint64_t last = 0, id = next_id(o.stale, &last);
	uint8_t req[512];
	struct wbuf w;
	wbuf_init_fixed(&w, req, sizeof(req));
	if (build_request(&o, &w, home, coa, lifetime, id) < 0) {
		fprintf(stderr, "mipc: cannot encode the request\n");
		return EXIT_ERR;
	}
	int rc = EXIT_TIMEOUT;
	for (int round = 0; round < (o.replay ? 2 : 1); round++) {
		if (sendto(fd, req, w.len, 0, &o.server.sa, o.server.len) < 0) {
			fprintf(stderr, "mipc: send: %s\n", strerror(errno));
			return EXIT_ERR;
		}
		ssize_t n = wait_dgram(fd, buf, sizeof(buf), o.timeout_ms);
		if (n < 0) {
			fprintf(stderr, "mipc: receive: %s\n", strerror((int)-n));
			return EXIT_ERR;
		}
		if (n == 0) {
			printf("{\"via\":\"ha\",\"round\":%d,\"reply\":null}\n", round + 1);
			fflush(stdout);
			if (round == 0)
				rc = EXIT_TIMEOUT;
			continue;
		}
		int code = print_reply(&o, buf, (size_t)n, id, "ha");
		if (round == 0)
			rc = code < 0 ? EXIT_ERR : mip4_code_accepted((uint8_t)code) ? EXIT_OK
										: EXIT_DENIED;
		else
			rc = EXIT_ERR; /* the replay was answered */
	}
	if (drr_fd >= 0) {
		ssize_t n = wait_dgram(drr_fd, buf, sizeof(buf), o.timeout_ms);
		if (n > 0)
			print_reply(&o, buf, (size_t)n, id, "old_coa");
		else
			printf("{\"via\":\"old_coa\",\"reply\":null}\n");
		close(drr_fd);
	}
	close(fd);
	return rc;
}
