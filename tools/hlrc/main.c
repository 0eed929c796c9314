/* hlrc: a test client for the HLR protocol (docs/protocols/hlr.md), built on the codec of
 * common/proto/hlr.  It sends one request, waits for the reply and prints it as JSON; options
 * make it misbehave on purpose (wrong key, replayed bytes, garbage, skewed clock) for tests.
 * The daemon's control socket is roamctl's business, not this tool's. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "roam/addr.h"
#include "roam/auth.h"
#include "roam/hlr.h"
#include "roam/json.h"

enum { EXIT_OK = 0, EXIT_ERR = 1, EXIT_USAGE = 2, EXIT_TIMEOUT = 3, EXIT_REFUSED = 4 };

static void usage(FILE *f)
{
	fprintf(f,
		"usage: hlrc -s ADDR[:PORT] -i KEYID (-k HEXKEY | -K KEYFILE) [options] COMMAND\n"
		"       hlrc -s ADDR[:PORT] [options] (--garbage N | --send FILE)\n"
		"commands:\n"
		"  update PERM COA LIFETIME   register PERM -> COA (LIFETIME seconds, '-' = server default)\n"
		"  query PERM                 ask for the mapping of PERM\n"
		"  raw HEX                    send these bytes as they are\n"
		"options:\n"
		"  -w MS               wait this long for a reply (default 2000)\n"
		"  --wrong-key         sign with a corrupted key (expect no reply)\n"
		"  --replay            send the same bytes twice (the second must get no reply)\n"
		"  --garbage N         send N random bytes instead of a request\n"
		"  --skew SECONDS      shift the request timestamp (negative: in the past)\n"
		"  --txid N            transaction id (default random)\n"
		"  --save FILE         also write the request bytes to FILE\n"
		"  --send FILE         send the bytes of FILE (as saved by --save) instead\n"
		"Prints one JSON object per datagram sent.  Exit: 0 reply OK/NO-MAPPING, 4 reply with\n"
		"an error code, 3 no reply, 1 error, 2 usage.\n");
}

struct opts {
	struct roam_sockaddr server;
	int have_server;
	uint32_t key_id;
	struct roam_key key;
	int have_key;
	int timeout_ms;
	int wrong_key, replay;
	long garbage;
	long skew;
	uint32_t txid;
	int have_txid;
	const char *save, *send;
};

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

static int hex_to_bytes(const char *hex, uint8_t *out, size_t cap, size_t *n)
{
	*n = 0;
	for (const char *p = hex; *p;) {
		if (*p == ' ' || *p == ':' || *p == '\n') {
			p++;
			continue;
		}
		unsigned v;
		if (!p[1] || sscanf(p, "%2x", &v) != 1 || *n >= cap)
			return -EINVAL;
		out[(*n)++] = (uint8_t)v;
		p += 2;
	}
	return 0;
}

static void print_reply(const uint8_t *b, size_t n, const struct opts *o, const struct hlr_msg *req,
			int *rc)
{
	struct wbuf out;
	struct json_writer w;
	struct hlr_msg m;
	const char *why = NULL;
	char a[ROAM_ADDRSTRLEN];
	wbuf_init(&out);
	json_writer_init(&w, &out);
	json_obj_begin(&w);
	json_kv_uint(&w, "bytes", n);
	if (hlr_decode(b, n, &m, &why) < 0) {
		json_kv_str(&w, "error", "malformed reply");
		json_kv_str(&w, "reason", why);
		*rc = EXIT_ERR;
	} else {
		int verified = hlr_verify(b, n, &o->key) == 0;
		int matches = req && m.txid == req->txid && m.timestamp == req->timestamp &&
			      m.key_id == req->key_id;
		json_kv_str(&w, "type", hlr_type_name(m.type));
		json_kv_uint(&w, "code", m.code);
		json_kv_str(&w, "code_name", hlr_code_name(m.code));
		json_kv_uint(&w, "txid", m.txid);
		json_kv_uint(&w, "key_id", m.key_id);
		json_kv_uint(&w, "timestamp", m.timestamp);
		json_kv_bool(&w, "verified", verified);
		json_kv_bool(&w, "matches_request", matches);
		if (m.present & HLR_HAS_PERM)
			json_kv_str(&w, "permanent", roam_ipaddr_fmt(&m.perm, a, sizeof(a)));
		if (m.present & HLR_HAS_COA)
			json_kv_str(&w, "care_of", roam_ipaddr_fmt(&m.coa, a, sizeof(a)));
		if (m.present & HLR_HAS_LIFETIME)
			json_kv_uint(&w, "lifetime", m.lifetime);
		if (m.present & HLR_HAS_NEG_TTL)
			json_kv_uint(&w, "negative_ttl", m.neg_ttl);
		if (!verified || (req && !matches))
			*rc = EXIT_ERR;
		else
			*rc = (m.code == HLR_CODE_OK || m.code == HLR_CODE_NO_MAPPING) ? EXIT_OK
										 : EXIT_REFUSED;
	}
	json_obj_end(&w);
	printf("%s\n", wbuf_str(&out));
	wbuf_free(&out);
}

static int exchange(int fd, const struct opts *o, const uint8_t *b, size_t n,
		    const struct hlr_msg *req)
{
	if (sendto(fd, b, n, 0, &o->server.sa, o->server.len) < 0) {
		fprintf(stderr, "hlrc: send: %s\n", strerror(errno));
		return EXIT_ERR;
	}
	struct pollfd p = { .fd = fd, .events = POLLIN };
	for (;;) {
		int r = poll(&p, 1, o->timeout_ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			printf("{\"error\":\"timeout\",\"sent_bytes\":%zu}\n", n);
			return EXIT_TIMEOUT;
		}
		uint8_t rb[2048];
		ssize_t got = recv(fd, rb, sizeof(rb), 0);
		if (got < 0) {
			if (errno == ECONNREFUSED) {
				printf("{\"error\":\"connection refused\"}\n");
				return EXIT_TIMEOUT;
			}
			fprintf(stderr, "hlrc: recv: %s\n", strerror(errno));
			return EXIT_ERR;
		}
		int rc;
		print_reply(rb, (size_t)got, o, req, &rc);
		return rc;
	}
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "wrong-key", no_argument, NULL, 'W' }, { "replay", no_argument, NULL, 'R' },
		{ "garbage", required_argument, NULL, 'G' }, { "skew", required_argument, NULL, 'S' },
		{ "txid", required_argument, NULL, 'T' }, { "save", required_argument, NULL, 'O' },
		{ "send", required_argument, NULL, 'I' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o;
	const char *hexkey = NULL, *keyfile = NULL;
	char keybuf[512];
	int c;
	memset(&o, 0, sizeof(o));
	o.timeout_ms = 2000;
	while ((c = getopt_long(argc, argv, "+s:i:k:K:w:h", lopts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (roam_sockaddr_parse(optarg, HLR_PORT, &o.server) < 0) {
				fprintf(stderr, "hlrc: bad server address '%s'\n", optarg);
				return EXIT_USAGE;
			}
			o.have_server = 1;
			break;
		case 'i': o.key_id = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'k': hexkey = optarg; break;
		case 'K': keyfile = optarg; break;
		case 'w': o.timeout_ms = atoi(optarg); break;
		case 'W': o.wrong_key = 1; break;
		case 'R': o.replay = 1; break;
		case 'G': o.garbage = atol(optarg); break;
		case 'S': o.skew = atol(optarg); break;
		case 'T': o.txid = (uint32_t)strtoul(optarg, NULL, 0); o.have_txid = 1; break;
		case 'O': o.save = optarg; break;
		case 'I': o.send = optarg; break;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (keyfile) {
		int r = read_key_file(keyfile, keybuf, sizeof(keybuf));
		if (r < 0) {
			fprintf(stderr, "hlrc: %s: %s\n", keyfile, strerror(-r));
			return EXIT_ERR;
		}
		hexkey = keybuf;
	}
	/* --send and --garbage need no command; a key is only needed to sign and to verify. */
	int canned = o.send || o.garbage > 0;
	if (!o.have_server || (optind >= argc && !canned)) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (hexkey && auth_key_from_hex(&o.key, AUTH_ALG_HMAC_SHA256, hexkey) < 0) {
		fprintf(stderr, "hlrc: the key must be 1-%d bytes of hex\n", AUTH_KEY_MAX);
		return EXIT_USAGE;
	}
	const char *cmd = optind < argc ? argv[optind] : "";
	char **av = argv + optind + 1;
	int ac = optind < argc ? argc - optind - 1 : 0;

	uint8_t buf[4096];
	size_t n = 0;
	struct hlr_msg req;
	int have_req = 0;
	memset(&req, 0, sizeof(req));
	if (o.send) {
		int fd = open(o.send, O_RDONLY);
		ssize_t got = fd < 0 ? -1 : read(fd, buf, sizeof(buf));
		if (fd >= 0)
			close(fd);
		if (got < 0) {
			fprintf(stderr, "hlrc: %s: %s\n", o.send, strerror(errno));
			return EXIT_ERR;
		}
		n = (size_t)got;
		have_req = hlr_decode(buf, n, &req, NULL) == 0;
	} else if (o.garbage > 0) {
		if ((size_t)o.garbage > sizeof(buf) || auth_random(buf, (size_t)o.garbage) < 0) {
			fprintf(stderr, "hlrc: garbage of 1..%zu bytes\n", sizeof(buf));
			return EXIT_USAGE;
		}
		n = (size_t)o.garbage;
	} else if (strcmp(cmd, "raw") == 0) {
		if (ac != 1 || hex_to_bytes(av[0], buf, sizeof(buf), &n) < 0) {
			fprintf(stderr, "hlrc: raw needs one hex string\n");
			return EXIT_USAGE;
		}
	} else if (((strcmp(cmd, "update") == 0 && ac == 3) ||
		    (strcmp(cmd, "query") == 0 && ac == 1)) && !hexkey) {
		fprintf(stderr, "hlrc: %s needs a key (-k or -K)\n", cmd);
		return EXIT_USAGE;
	} else if ((strcmp(cmd, "update") == 0 && ac == 3) || (strcmp(cmd, "query") == 0 && ac == 1)) {
		req.type = cmd[0] == 'u' ? HLR_UPDATE : HLR_QUERY;
		req.key_id = o.key_id;
		if (!o.have_txid)
			auth_random(&o.txid, sizeof(o.txid));
		req.txid = o.txid;
		req.timestamp = hlr_ntp_now() + (uint64_t)((int64_t)o.skew * 4294967296LL);
		req.present = HLR_HAS_PERM;
		if (roam_ipaddr_parse(av[0], &req.perm) < 0) {
			fprintf(stderr, "hlrc: bad address '%s'\n", av[0]);
			return EXIT_USAGE;
		}
		if (req.type == HLR_UPDATE) {
			req.present |= HLR_HAS_COA;
			if (roam_ipaddr_parse(av[1], &req.coa) < 0) {
				fprintf(stderr, "hlrc: bad address '%s'\n", av[1]);
				return EXIT_USAGE;
			}
			if (strcmp(av[2], "-") != 0) {
				req.present |= HLR_HAS_LIFETIME;
				req.lifetime = (uint32_t)strtoul(av[2], NULL, 10);
			}
		}
		struct roam_key k = o.key;
		if (o.wrong_key)
			k.bytes[0] ^= 0x5a;
		struct wbuf w;
		wbuf_init_fixed(&w, buf, sizeof(buf));
		int r = hlr_encode(&w, &req, &k);
		if (r < 0) {
			fprintf(stderr, "hlrc: encode: %s\n", strerror(-r));
			return EXIT_ERR;
		}
		n = w.len;
		have_req = 1;
	} else {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (o.save) {
		int fd = open(o.save, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || write(fd, buf, n) != (ssize_t)n) {
			fprintf(stderr, "hlrc: %s: %s\n", o.save, strerror(errno));
			return EXIT_ERR;
		}
		close(fd);
	}

	int fd = socket(o.server.sa.sa_family, SOCK_DGRAM, 0);
	if (fd < 0 || connect(fd, &o.server.sa, o.server.len) < 0) {
		fprintf(stderr, "hlrc: socket: %s\n", strerror(errno));
		return EXIT_ERR;
	}
	int rc = exchange(fd, &o, buf, n, have_req ? &req : NULL);
	if (o.replay) {
		/* The same bytes again: a correct server drops them as replayed (timeout). */
		int rc2 = exchange(fd, &o, buf, n, have_req ? &req : NULL);
		rc = rc2 == EXIT_TIMEOUT ? rc : EXIT_ERR;
		if (rc2 != EXIT_TIMEOUT)
			fprintf(stderr, "hlrc: the replayed request was answered\n");
	}
	close(fd);
	return rc;
}
