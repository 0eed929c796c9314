/* The streaming HDLC-like framing decoder (roam/ppp.h, RFC 1662).  The first input byte picks
 * a chunk size and a receive ACCM; the rest is a byte stream.  Properties:
 *  - decoding the stream in one call sequence and in chunks of the chosen size gives the same
 *    sequence of results (good frames with their content, and each error code);
 *  - every good frame, re-framed with ppp_hdlc_encode (default ACCM, no compression, and again
 *    with a fuzzed ACCM and compression), decodes to the same protocol and information;
 *  - the decoder never reports a frame larger than its maximum. */
#include <errno.h>

#include "fuzz.h"
#include "roam/ppp.h"

#define MAX_EVENTS 256

struct ev {
	int rc;
	uint16_t proto;
	size_t info_len;
	uint32_t crc; /* cheap fingerprint of the information field */
};

static uint32_t fp(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static void reframe(const struct ppp_hdlc_tx *tx, const struct ppp_hdlc_frame *f)
{
	static struct ppp_hdlc_dec d;
	struct ppp_hdlc_frame g;
	struct wbuf w;
	const uint8_t *p;
	size_t n;
	int rc;

	wbuf_init(&w);
	FUZZ_CHECK(ppp_hdlc_encode(&w, tx, f->proto, f->info, f->info_len) == 0, "hdlc encode");
	ppp_hdlc_dec_init(&d, PPP_HDLC_BUF_MAX);
	d.accm = 0; /* the transmitter may leave control characters outside its ACCM unescaped */
	p = w.buf;
	n = w.len;
	rc = ppp_hdlc_decode(&d, &p, &n, &g);
	FUZZ_CHECK(rc == 1, "re-framed frame (proto %04x, %zu bytes, accm %08x acfc %d pfc %d) "
	           "does not decode: %d", f->proto, f->info_len, tx->accm, tx->acfc, tx->pfc, rc);
	FUZZ_CHECK(g.proto == f->proto && fuzz_eq(g.info, g.info_len, f->info, f->info_len),
	           "re-framed frame differs (proto %04x/%04x)", f->proto, g.proto);
	wbuf_free(&w);
}

static size_t run(const uint8_t *data, size_t size, size_t chunk, uint32_t accm, size_t max,
                  struct ev *evs, const uint8_t *txp)
{
	static struct ppp_hdlc_dec d;
	size_t nev = 0;

	ppp_hdlc_dec_init(&d, max);
	d.accm = accm;
	for (size_t off = 0; off < size;) {
		size_t take = size - off < chunk ? size - off : chunk;
		const uint8_t *p = data + off;
		size_t n = take;
		off += take;
		for (;;) {
			struct ppp_hdlc_frame f;
			int rc = ppp_hdlc_decode(&d, &p, &n, &f);
			FUZZ_CHECK(rc == 1 || rc == 0 || rc == -EBADMSG || rc == -EMSGSIZE ||
			           rc == -EPROTO, "hdlc decode: %d", rc);
			if (rc == 0) {
				FUZZ_CHECK(n == 0, "returned 0 with %zu bytes left", n);
				break;
			}
			if (nev < MAX_EVENTS) {
				evs[nev] = (struct ev){ rc, 0, 0, 0 };
				if (rc == 1) {
					FUZZ_CHECK(f.info_len <= d.max, "frame of %zu over max %zu",
					           f.info_len, d.max);
					evs[nev].proto = f.proto;
					evs[nev].info_len = f.info_len;
					evs[nev].crc = fp(f.info, f.info_len);
				}
			}
			nev++;
			if (rc == 1 && txp) {
				struct ppp_hdlc_tx tx = { PPP_HDLC_ACCM_DEFAULT, 0, 0 };
				reframe(&tx, &f);
				tx.accm = (uint32_t)txp[0] << 24 | (uint32_t)txp[1] << 16 | txp[2] << 8 |
				          txp[3];
				tx.acfc = txp[0] & 1;
				tx.pfc = txp[1] & 1;
				reframe(&tx, &f);
			}
		}
	}
	return nev;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ev a[MAX_EVENTS], b[MAX_EVENTS];
	fuzz_quiet();
	if (size < 2)
		return 0;
	size_t chunk = (data[0] & 0x1f) + 1;
	uint32_t accm = (data[0] & 0x20) ? 0 : PPP_HDLC_ACCM_DEFAULT;
	size_t max = (data[0] & 0x40) ? 64 : 0;
	uint8_t txp[4] = { data[1], data[0], data[1] ^ 0x5a, data[0] ^ 0xa5 };
	data += 2;
	size -= 2;

	size_t na = run(data, size, size ? size : 1, accm, max, a, txp);
	size_t nb = run(data, size, chunk, accm, max, b, NULL);
	FUZZ_CHECK(na == nb, "%zu results in one piece, %zu in chunks of %zu", na, nb, chunk);
	for (size_t i = 0; i < na && i < MAX_EVENTS; i++)
		FUZZ_CHECK(a[i].rc == b[i].rc && a[i].proto == b[i].proto &&
		           a[i].info_len == b[i].info_len && a[i].crc == b[i].crc,
		           "result %zu differs with chunks of %zu: %d/%d", i, chunk, a[i].rc, b[i].rc);
	return 0;
}
