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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "roam/addr.h"
#include "roam/auth.h"
#include "roam/buf.h"
#include "roam/clock.h"
#include "roam/json.h"
#include "roam/loadgen.h"
#include "roam/mip4.h"


#define KEY_LEN 16
#define MAX_PER_SA 64                  /* had.yaml: home addresses per SA */

struct opts {
	struct loadgen_conf lg;   /* -s, --count, --duration, --skip, --rate, --window, ... */
	struct in_addr ha;        /* Home Agent field; default: the server's address */
	int have_ha;
	uint32_t mobiles, first_mobile, per_sa, first_spi;
	struct roam_prefix prefix;
	uint32_t lifetime;
	int print_mobiles;
};

struct load {
	const struct opts *o;
	struct roam_key *keys;    /* per SA */
	uint32_t nsas;
	uint32_t base;            /* first home address, host order */
	struct loadgen g;
	uint64_t code_accepted, code_denied, first_denial;
};

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

/* The benchmark key of an SPI (deterministic, not secret). */
static void derive_key(uint32_t spi, uint8_t out[KEY_LEN])
{
	loadgen_key_stream(0x6d69703420000000ull ^ spi, out, KEY_LEN);
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

static int build_request(void *arg, uint64_t seq, uint8_t *buf, size_t cap, uint8_t *tag)
{
	struct load *l = arg;
	const struct opts *o = l->o;
	uint32_t mob = o->first_mobile + (uint32_t)(seq % o->mobiles);
	uint32_t sa = mob / o->per_sa;
	struct mip4_msg m;
	(void)tag;
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

static void handle_reply(void *arg, const uint8_t *b, size_t n, uint64_t t)
{
	struct load *l = arg;
	const struct opts *o = l->o;
	struct mip4_msg m;
	if (mip4_msg_decode(b, n, &m) < 0 || m.type != MIP4_MSG_REG_REPLY) {
		l->g.bad_reply++;
		return;
	}
	uint32_t mob = ntohl(m.home.s_addr) - l->base;
	if (mob < o->first_mobile || mob - o->first_mobile >= o->mobiles) {
		l->g.bad_reply++;
		return;
	}
	uint32_t sa = mob / o->per_sa;
	if (!o->lg.no_verify && (!m.auth[MIP4_AUTH_MN_HA].present ||
				 m.auth[MIP4_AUTH_MN_HA].spi != o->first_spi + sa ||
				 mip4_auth_verify(b, &m, MIP4_AUTH_MN_HA, &l->keys[sa]) != 0)) {
		l->g.bad_reply++;
		return;
	}
	/* the low 32 bits of the Identification are the request's sequence number */
	struct loadgen_slot *s = loadgen_find(&l->g, (uint32_t)m.id);
	if (!s || o->first_mobile + (s->seq1 - 1) % o->mobiles != mob) {
		l->g.unmatched++;
		return;
	}
	loadgen_answered(&l->g, s, t);
	if (mip4_code_accepted(m.code)) {
		l->code_accepted++;
	} else {
		if (!l->code_denied)
			l->first_denial = m.code;
		l->code_denied++;
	}
}

static void json_fields(void *arg, struct json_writer *w, enum loadgen_json_at at)
{
	const struct load *l = arg;
	const struct opts *o = l->o;
	switch (at) {
	case LOADGEN_JSON_HEAD:
		json_kv_uint(w, "mobiles", o->mobiles);
		json_kv_uint(w, "sas", (o->first_mobile + o->mobiles - 1) / o->per_sa -
					       o->first_mobile / o->per_sa + 1); /* the SAs played */
		break;
	case LOADGEN_JSON_REPLIES:
		json_kv_uint(w, "code_accepted", l->code_accepted);
		json_kv_uint(w, "code_denied", l->code_denied);
		json_kv_uint(w, "first_denial_code", l->first_denial);
		break;
	default:
		break;
	}
}

static const struct loadgen_ops ops = {
	.build = build_request, .reply = handle_reply, .json = json_fields,
};

/* mip4load's own options (loadgen_parse_args()). */
static int tool_opt(void *arg, int c, const char *v)
{
	struct opts *o = arg;
	int r = 0;
	switch (c) {
	case 'n': r = loadgen_parse_u32(v, 1, 1u << 24, &o->mobiles); break;
	case 'm': r = loadgen_parse_u32(v, 0, 1u << 24, &o->first_mobile); break;
	case 'k': r = loadgen_parse_u32(v, 1, MAX_PER_SA, &o->per_sa); break;
	case 'F': r = loadgen_parse_u32(v, 256, UINT32_MAX - (1u << 24), &o->first_spi); break;
	case 'P':
		r = roam_prefix_parse(v, &o->prefix) < 0 || o->prefix.addr.family != AF_INET ? -EINVAL : 0;
		break;
	case 'A': r = inet_pton(AF_INET, v, &o->ha) != 1 ? -EINVAL : 0; o->have_ha = r == 0; break;
	case 'S': r = loadgen_parse_uint(v, 0, 1000000000000ull, &o->lg.first_seq); break;
	case 'L': r = loadgen_parse_u32(v, 1, 65534, &o->lifetime); break;
	case 'M': o->print_mobiles = 1; break;
	default: return 0;
	}
	return r < 0 ? -EINVAL : 1;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "mobiles", required_argument, NULL, 'n' }, { "first-mobile", required_argument, NULL, 'm' },
		{ "per-sa", required_argument, NULL, 'k' }, { "first-spi", required_argument, NULL, 'F' },
		{ "prefix", required_argument, NULL, 'P' }, { "ha", required_argument, NULL, 'A' },
		{ "skip", required_argument, NULL, 'S' }, { "lifetime", required_argument, NULL, 'L' },
		LOADGEN_LONG_OPTIONS,
		{ "print-mobiles", no_argument, NULL, 'M' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o;
	memset(&o, 0, sizeof(o));
	loadgen_conf_init(&o.lg, 64);
	o.lg.default_port = MIP4_UDP_PORT;
	o.lg.ipv4_only = true;
	o.mobiles = 100000;
	o.per_sa = MAX_PER_SA;
	o.first_spi = 4096;
	o.lifetime = 1800;
	if (roam_prefix_parse("10.64.0.0/10", &o.prefix) < 0)
		return LOADGEN_EXIT_ERR;
	int ex = loadgen_parse_args(&o.lg, "mip4load", argc, argv, lopts, tool_opt, &o, usage);
	if (ex >= 0)
		return ex;
	if (!o.print_mobiles && !o.lg.have_server) {
		usage(stderr);
		return LOADGEN_EXIT_USAGE;
	}
	if (o.prefix.len < 8 ||
	    (uint64_t)o.first_mobile + o.mobiles > (1u << (32 - o.prefix.len)) - 2 ||
	    o.prefix.len >= 31) {
		fprintf(stderr, "mip4load: --prefix /%u too small for %u mobiles\n", o.prefix.len,
			o.mobiles);
		return LOADGEN_EXIT_USAGE;
	}
	loadgen_conf_finish(&o.lg);
	if (!o.have_ha)
		o.ha = o.lg.server.sin.sin_addr;

	struct load l;
	memset(&l, 0, sizeof(l));
	l.o = &o;
	l.base = (ntohl(o.prefix.addr.v4.s_addr) & ~((1u << (32 - o.prefix.len)) - 1)) + 1;
	l.nsas = (o.first_mobile + o.mobiles + o.per_sa - 1) / o.per_sa; /* keys[] by SA index */
	if (o.print_mobiles)
		return print_mobiles(&l) < 0 ? LOADGEN_EXIT_ERR : LOADGEN_EXIT_OK;

	l.keys = calloc(l.nsas, sizeof(*l.keys));
	if (!l.keys || loadgen_init(&l.g, "mip4load", &o.lg, &ops, &l) < 0) {
		fprintf(stderr, "mip4load: out of memory\n");
		return LOADGEN_EXIT_ERR;
	}
	for (uint32_t s = 0; s < l.nsas; s++) {
		uint8_t key[KEY_LEN];
		derive_key(o.first_spi + s, key);
		if (auth_key_set(&l.keys[s], AUTH_ALG_HMAC_MD5, key, sizeof(key)) < 0) {
			fprintf(stderr, "mip4load: key setup failed\n");
			return LOADGEN_EXIT_ERR;
		}
	}
	int r = loadgen_execute(&l.g);
	for (uint32_t s = 0; s < l.nsas; s++)
		auth_key_wipe(&l.keys[s]);
	free(l.keys);
	loadgen_free(&l.g);
	return r < 0 ? LOADGEN_EXIT_ERR : LOADGEN_EXIT_OK;
}
