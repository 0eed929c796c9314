/* mip4gen: sends one of every Mobile IPv4 control message roam sends (docs/protocols/mipv4.md),
 * encoded with the codec of common/proto/mip4 and authenticated with mip4_auth_append(), as
 * UDP datagrams to a port, for the tshark / Lua dissector test (tests/e2e/mip4-tshark.sh).
 * Registration Request / Reply (1, 3, with every extension of section 2.4 in the order of 2.5),
 * Regional Registration Request / Reply (18, 19), Fast Binding Update / Acknowledgment (20, 21)
 * and the route-optimization messages (240-243).  With --bad it sends instead a set of
 * deliberately malformed or non-conforming messages, each of which the dissector must flag.
 * Nothing is received: the datagrams only need to be captured. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "roam/auth.h"
#include "roam/buf.h"
#include "roam/clock.h"
#include "roam/mip4.h"

enum { EXIT_OK = 0, EXIT_ERR = 1, EXIT_USAGE = 2 };

/* SPIs of the security associations (256 and up: 0-255 are reserved, RFC 5944 3.5.1). */
#define SPI_MN_HA  0x1001
#define SPI_MN_FA  0x1002
#define SPI_FA_HA  0x1003
#define SPI_FA_FA  0x1004
#define SPI_MN_GFA 0x1005
#define SPI_MN_PAR 0x1006
#define SPI_RO     0x1007

static const char NAI[] = "mn1@roam.example";

struct gen {
	int fd;
	struct sockaddr_in dst;
	struct roam_key hmac;  /* hmac-md5 */
	struct roam_key kmd5;  /* keyed-md5 (RFC 2002), on MN-FA */
	struct in_addr home, ha, fa, nfa, gfa, cn;
	uint64_t id;
	int sent;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: mip4gen [-d ADDR] [-p PORT] [-l LPORT] [--bad]\n"
		"  Sends one of every Mobile IPv4 message roam sends (types 1, 3, 18-21, 240-243)\n"
		"  to ADDR:PORT over UDP (default 127.0.0.1:434) and prints one line per datagram.\n"
		"  -d ADDR     destination IPv4 address\n"
		"  -p PORT     destination UDP port\n"
		"  -l LPORT    source UDP port (default: any)\n"
		"  -b, --bad   send deliberately malformed / non-conforming messages instead\n"
		"  -h, --help  this text\n");
}

static int send_msg(struct gen *g, const struct wbuf *w, const char *what)
{
	if (w->err) {
		fprintf(stderr, "mip4gen: encoding %s: %s\n", what, strerror(-w->err));
		return w->err;
	}
	if (sendto(g->fd, w->buf, w->len, 0, (const struct sockaddr *)&g->dst, sizeof(g->dst)) < 0) {
		int e = errno;
		fprintf(stderr, "mip4gen: sendto %s: %s\n", what, strerror(e));
		return -e;
	}
	g->sent++;
	printf("%d type=%u len=%zu %s\n", g->sent, w->buf[0], w->len, what);
	return 0;
}

/* A message skeleton of type with the generator's addresses. */
static struct mip4_msg msg_of(struct gen *g, uint8_t type)
{
	struct mip4_msg m;

	memset(&m, 0, sizeof(m));
	m.type = type;
	m.home = g->home;
	m.ha = g->ha;
	m.id = g->id;
	m.has_id = 1;
	g->id += 0x100000000ull; /* one second later: every message its own Identification */
	return m;
}

/* Encodes m, appends the authentication extensions of kinds[] (terminated by -1) and an
 * optional tail of raw bytes (FA extensions written after the mobile's authenticator). */
static int build(struct gen *g, struct wbuf *w, const struct mip4_msg *m, const int *kinds)
{
	static const uint32_t spi[MIP4_AUTH_KINDS] = {
		[MIP4_AUTH_MN_HA] = SPI_MN_HA, [MIP4_AUTH_MN_FA] = SPI_MN_FA,
		[MIP4_AUTH_FA_HA] = SPI_FA_HA, [MIP4_AUTH_RO] = SPI_RO,
		[MIP4_AUTH_FA_FA] = SPI_FA_FA, [MIP4_AUTH_MN_GFA] = SPI_MN_GFA,
		[MIP4_AUTH_MN_PAR] = SPI_MN_PAR,
	};
	int rc = mip4_msg_encode(w, m);

	for (; rc == 0 && kinds && *kinds >= 0; kinds++) {
		const struct roam_key *k = *kinds == MIP4_AUTH_MN_FA ? &g->kmd5 : &g->hmac;
		rc = mip4_auth_append(w, 0, (enum mip4_auth_kind)*kinds, spi[*kinds], k);
	}
	return rc;
}

static void put_addr_ext(struct wbuf *w, uint8_t type, struct in_addr a)
{
	wbuf_put_u8(w, type);
	wbuf_put_u8(w, 4);
	wbuf_put_bytes(w, &a, 4);
}

/* The FA's part of a relayed request: its address extensions, then its authenticator. */
static int fa_part(struct gen *g, struct wbuf *w, int gfa_ext, int hier_ext, int kind,
                   uint32_t spi)
{
	if (gfa_ext)
		put_addr_ext(w, MIP4_EXT_GFA_ADDR, g->gfa);
	if (hier_ext)
		put_addr_ext(w, MIP4_EXT_HIER_FA, g->fa);
	return mip4_auth_append(w, 0, (enum mip4_auth_kind)kind, spi, &g->hmac);
}

#define SEND(desc) do { \
		if (rc == 0) rc = send_msg(g, &w, desc); \
		else fprintf(stderr, "mip4gen: building %s: %s\n", desc, strerror(-rc)); \
		if (rc < 0) goto out; \
		wbuf_reset(&w); \
	} while (0)

static int send_valid(struct gen *g)
{
	struct wbuf w;
	struct mip4_msg m;
	int rc;
	static const int mn_ha[] = { MIP4_AUTH_MN_HA, -1 };
	static const int mn_ha_fa[] = { MIP4_AUTH_MN_HA, MIP4_AUTH_MN_FA, -1 };
	static const int mn_gfa[] = { MIP4_AUTH_MN_GFA, -1 };
	static const int mn_par[] = { MIP4_AUTH_MN_PAR, -1 };
	static const int ro[] = { MIP4_AUTH_RO, -1 };

	wbuf_init(&w);

	/* 1: mobile's request as relayed by an FA of a GFA region (every extension of 2.4). */
	m = msg_of(g, MIP4_MSG_REG_REQUEST);
	m.flags = MIP4_REQ_T;
	m.lifetime = 600;
	m.coa = g->gfa;
	m.exts = MIP4_HAS_NAI | MIP4_HAS_ENCAP_DELIVERY;
	m.nai = (const uint8_t *)NAI;
	m.nai_len = sizeof(NAI) - 1;
	rc = build(g, &w, &m, mn_ha_fa);
	if (rc == 0)
		rc = fa_part(g, &w, 1, 1, MIP4_AUTH_FA_HA, SPI_FA_HA);
	SEND("registration request (NAI, delivery style, MN-HA, MN-FA, GFA, HFA, FA-HA)");

	/* 3: accepted, with FA-HA; 133 resync; the synchronized handoff's deregistration reply. */
	m = msg_of(g, MIP4_MSG_REG_REPLY);
	m.lifetime = 600;
	rc = build(g, &w, &m, mn_ha);
	if (rc == 0)
		rc = mip4_auth_append(&w, 0, MIP4_AUTH_FA_HA, SPI_FA_HA, &g->hmac);
	SEND("registration reply accepted (MN-HA, FA-HA)");
	m = msg_of(g, MIP4_MSG_REG_REPLY);
	m.code = MIP4_CODE_HA_ID_MISMATCH;
	m.lifetime = 0;
	rc = build(g, &w, &m, mn_ha);
	SEND("registration reply 133");
	m = msg_of(g, MIP4_MSG_REG_REPLY);
	m.id = mip4_id_dereg(m.id);
	rc = build(g, &w, &m, mn_ha);
	SEND("deregistration reply (lifetime 0)");

	/* 18: mobile's regional request relayed by the new FA (HFA, FA-FA). */
	m = msg_of(g, MIP4_MSG_REGIONAL_REQUEST);
	m.lifetime = 300;
	m.coa = g->nfa;
	m.exts = MIP4_HAS_NAI;
	m.nai = (const uint8_t *)NAI;
	m.nai_len = sizeof(NAI) - 1;
	rc = build(g, &w, &m, mn_gfa);
	if (rc == 0)
		rc = fa_part(g, &w, 0, 1, MIP4_AUTH_FA_FA, SPI_FA_FA);
	SEND("regional registration request (NAI, MN-GFA, HFA, FA-FA)");

	/* 19: accepted (MN-GFA, FA-FA), the GFA's deregistration reply, an FA-range denial. */
	m = msg_of(g, MIP4_MSG_REGIONAL_REPLY);
	m.lifetime = 300;
	rc = build(g, &w, &m, mn_gfa);
	if (rc == 0)
		rc = mip4_auth_append(&w, 0, MIP4_AUTH_FA_FA, SPI_FA_FA, &g->hmac);
	SEND("regional registration reply accepted (MN-GFA, FA-FA)");
	m = msg_of(g, MIP4_MSG_REGIONAL_REPLY);
	m.id = mip4_id_dereg(m.id);
	rc = build(g, &w, &m, mn_gfa);
	SEND("regional deregistration reply (lifetime 0)");
	m = msg_of(g, MIP4_MSG_REGIONAL_REPLY);
	m.code = MIP4_CODE_FA_MN_AUTH;
	rc = build(g, &w, &m, mn_gfa);
	SEND("regional registration reply 67");

	/* 20 / 21: to the previous FA (Home Agent field = previous FA, CoA = new FA). */
	m = msg_of(g, MIP4_MSG_FBU);
	m.lifetime = 5;
	m.ha = g->fa;
	m.coa = g->nfa;
	rc = build(g, &w, &m, mn_par);
	SEND("fast binding update (MN-PAR)");
	m = msg_of(g, MIP4_MSG_FBACK);
	m.lifetime = 5;
	m.ha = g->fa;
	rc = build(g, &w, &m, mn_par);
	SEND("fast binding acknowledgment (MN-PAR)");
	m = msg_of(g, MIP4_MSG_FBACK);
	m.code = MIP4_CODE_FA_PROHIBITED;
	m.ha = g->fa;
	rc = build(g, &w, &m, mn_par);
	SEND("fast binding acknowledgment 65");

	/* 240-243: route optimization. */
	m = msg_of(g, MIP4_MSG_RO_WARNING);
	m.has_id = 0;
	m.id = 0;
	m.target = g->cn;
	rc = build(g, &w, &m, NULL);
	SEND("binding warning");
	m = msg_of(g, MIP4_MSG_RO_REQUEST);
	rc = build(g, &w, &m, ro);
	SEND("binding request (RO auth)");
	m = msg_of(g, MIP4_MSG_RO_UPDATE);
	m.flags = MIP4_BU_A | MIP4_BU_I;
	m.lifetime = 600;
	m.coa = g->fa;
	rc = build(g, &w, &m, ro);
	SEND("binding update (A, I, RO auth)");
	m = msg_of(g, MIP4_MSG_RO_UPDATE);
	m.flags = MIP4_BU_A | MIP4_BU_I;
	m.coa = g->fa;
	rc = build(g, &w, &m, ro);
	SEND("binding update deregistration (lifetime 0)");
	m = msg_of(g, MIP4_MSG_RO_ACK);
	rc = build(g, &w, &m, ro);
	SEND("binding acknowledge (RO auth)");
	m = msg_of(g, MIP4_MSG_RO_ACK);
	m.flags = MIP4_BA_N;
	rc = build(g, &w, &m, ro);
	SEND("binding acknowledge negative (N)");
out:
	wbuf_free(&w);
	return rc;
}

/* Messages each of which breaks one rule of the document. */
static int send_bad(struct gen *g)
{
	struct wbuf w;
	struct mip4_msg m;
	int rc;
	static const int mn_gfa[] = { MIP4_AUTH_MN_GFA, -1 };
	static const int mn_par[] = { MIP4_AUTH_MN_PAR, -1 };
	static const int ro[] = { MIP4_AUTH_RO, -1 };

	wbuf_init(&w);

	m = msg_of(g, MIP4_MSG_FBU);
	m.lifetime = 5;
	m.ha = g->fa;
	m.coa = g->nfa;
	rc = build(g, &w, &m, NULL);
	SEND("bad: fast binding update without MN-PAR");

	m = msg_of(g, MIP4_MSG_REGIONAL_REQUEST);
	m.lifetime = 300;
	m.coa = g->nfa;
	rc = build(g, &w, &m, mn_gfa);
	if (rc == 0)
		w.len -= 3; /* cut inside the authenticator */
	SEND("bad: regional request with a truncated extension");

	m = msg_of(g, MIP4_MSG_RO_UPDATE);
	m.flags = MIP4_BU_A | MIP4_BU_I;
	m.lifetime = 600;
	m.coa = g->fa;
	rc = build(g, &w, &m, ro);
	put_addr_ext(&w, MIP4_EXT_HIER_FA, g->fa);
	SEND("bad: binding update with an extension after the RO authenticator");

	m = msg_of(g, MIP4_MSG_FBACK);
	m.ha = g->fa;
	rc = build(g, &w, &m, mn_par);
	wbuf_put_u8(&w, 38); /* CVSE: must-understand, unknown to roam */
	wbuf_put_u8(&w, 0);
	SEND("bad: fast binding acknowledgment with a must-understand extension 38");

	m = msg_of(g, MIP4_MSG_RO_ACK);
	rc = build(g, &w, &m, ro);
	if (rc == 0)
		w.buf[2] = 0x5a; /* reserved byte */
	SEND("bad: binding acknowledge with reserved bits set (authenticator now stale too)");

	m = msg_of(g, MIP4_MSG_REGIONAL_REPLY);
	m.code = 200;
	rc = build(g, &w, &m, mn_gfa);
	SEND("bad: regional reply with an undefined code");

	m = msg_of(g, MIP4_MSG_RO_REQUEST);
	rc = build(g, &w, &m, ro);
	if (rc == 0)
		rc = mip4_auth_append(&w, 0, MIP4_AUTH_RO, SPI_RO, &g->hmac);
	SEND("bad: binding request with two RO authenticators");

	m = msg_of(g, MIP4_MSG_REGIONAL_REQUEST);
	m.lifetime = 300;
	m.coa = g->nfa;
	rc = build(g, &w, &m, mn_gfa);
	wbuf_put_u8(&w, MIP4_EXT_GEN_AUTH); /* subtype 1 (MN-AAA): not supported by roam */
	wbuf_put_u8(&w, MIP4_GEN_MN_AAA);
	wbuf_put_u16(&w, 20);
	wbuf_put_u32(&w, 0x2000);
	wbuf_put_zero(&w, 16);
	SEND("bad: regional request with generalized authentication subtype 1");

	m = msg_of(g, MIP4_MSG_FBU);
	m.lifetime = 5;
	m.ha = g->fa;
	m.coa = g->nfa;
	rc = mip4_msg_encode(&w, &m);
	if (rc == 0)
		rc = mip4_auth_append(&w, 0, MIP4_AUTH_MN_PAR, 100, &g->hmac);
	SEND("bad: fast binding update with reserved SPI 100");

	m = msg_of(g, MIP4_MSG_RO_REQUEST);
	rc = mip4_msg_encode(&w, &m);
	wbuf_put_u8(&w, MIP4_EXT_RO_AUTH); /* 8-byte authenticator: not 128 bits */
	wbuf_put_u8(&w, 12);
	wbuf_put_u32(&w, SPI_RO);
	wbuf_put_zero(&w, 8);
	SEND("bad: binding request with a short authenticator");

	m = msg_of(g, MIP4_MSG_FBU);
	m.flags = MIP4_REQ_x;
	m.lifetime = 5;
	m.ha = g->fa;
	m.coa = g->nfa;
	rc = build(g, &w, &m, mn_par);
	SEND("bad: fast binding update with a reserved flag set");

	m = msg_of(g, MIP4_MSG_RO_WARNING);
	m.target = g->cn;
	rc = mip4_msg_encode(&w, &m);
	if (rc == 0)
		w.len -= 2; /* fixed part cut short */
	SEND("bad: binding warning shorter than its fixed part");
out:
	wbuf_free(&w);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "bad", no_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const uint8_t key[16] = { 0x6d, 0x69, 0x70, 0x34, 0x67, 0x65, 0x6e, 0x2d,
	                                 0x74, 0x65, 0x73, 0x74, 0x2d, 0x6b, 0x65, 0x79 };
	struct gen g;
	const char *dst = "127.0.0.1";
	long port = MIP4_UDP_PORT, lport = 0;
	int bad = 0, c, rc;
	char *end;

	memset(&g, 0, sizeof(g));
	while ((c = getopt_long(argc, argv, "d:p:l:bh", lopts, NULL)) != -1) {
		switch (c) {
		case 'd': dst = optarg; break;
		case 'p':
		case 'l':
			errno = 0;
			long v = strtol(optarg, &end, 10);
			if (errno || *end || v < (c == 'p' ? 1 : 0) || v > 65535) {
				fprintf(stderr, "mip4gen: bad port '%s'\n", optarg);
				return EXIT_USAGE;
			}
			if (c == 'p')
				port = v;
			else
				lport = v;
			break;
		case 'b': bad = 1; break;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	g.dst.sin_family = AF_INET;
	g.dst.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, dst, &g.dst.sin_addr) != 1) {
		fprintf(stderr, "mip4gen: bad IPv4 address '%s'\n", dst);
		return EXIT_USAGE;
	}
	if (auth_key_set(&g.hmac, AUTH_ALG_HMAC_MD5, key, sizeof(key)) < 0 ||
	    auth_key_set(&g.kmd5, AUTH_ALG_KEYED_MD5, key, sizeof(key)) < 0) {
		fprintf(stderr, "mip4gen: cannot set up the keys\n");
		return EXIT_ERR;
	}
	inet_pton(AF_INET, "192.0.2.10", &g.home);
	inet_pton(AF_INET, "192.0.2.1", &g.ha);
	inet_pton(AF_INET, "198.51.100.1", &g.fa);
	inet_pton(AF_INET, "198.51.100.2", &g.nfa);
	inet_pton(AF_INET, "203.0.113.1", &g.gfa);
	inet_pton(AF_INET, "192.0.2.50", &g.cn);
	g.id = mip4_id_next(roam_wall_ms(), 0, 0);

	g.fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (g.fd < 0) {
		fprintf(stderr, "mip4gen: socket: %s\n", strerror(errno));
		return EXIT_ERR;
	}
	if (lport) {
		struct sockaddr_in src = { .sin_family = AF_INET, .sin_port = htons((uint16_t)lport) };
		if (bind(g.fd, (struct sockaddr *)&src, sizeof(src)) < 0) {
			fprintf(stderr, "mip4gen: bind port %ld: %s\n", lport, strerror(errno));
			close(g.fd);
			return EXIT_ERR;
		}
	}
	rc = bad ? send_bad(&g) : send_valid(&g);
	close(g.fd);
	auth_key_wipe(&g.hmac);
	auth_key_wipe(&g.kmd5);
	return rc < 0 ? EXIT_ERR : EXIT_OK;
}
