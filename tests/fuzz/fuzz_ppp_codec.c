/* PPP control packet and option codecs (roam/ppp.h), all run on the same bytes:
 *  - ppp_cp_decode: re-encoding code, id and data must give the first Length bytes back;
 *  - ppp_opts_check and the ppp_opt_next walk must agree;
 *  - ppp_lcp_opts_decode / ppp_ipcp_opts_decode (on the bytes and on a decoded packet's data):
 *    encode, decode again to the same struct, encode again to the same bytes;
 *  - ppp_pap_decode / ppp_chap_decode: the same round trip;
 *  - ppp_frame_parse: the header re-encoded with the compression the frame used, followed by
 *    the information field, must parse to the same protocol and information. */
#include <errno.h>

#include "fuzz.h"
#include "roam/ppp.h"

static void lcp_opts(const uint8_t *p, size_t len)
{
	struct ppp_lcp_opts o, o2;
	struct wbuf w1, w2;
	memset(&o, 0, sizeof(o));
	int rc = ppp_lcp_opts_decode(p, len, &o);
	FUZZ_CHECK(rc == 0 || rc == -EBADMSG || rc == -ENOTSUP, "lcp decode: %d", rc);
	if (rc != 0)
		return;
	wbuf_init(&w1);
	FUZZ_CHECK(ppp_lcp_opts_encode(&w1, &o) == 0, "lcp encode of decoded options");
	memset(&o2, 0, sizeof(o2));
	rc = ppp_lcp_opts_decode(w1.buf, w1.len, &o2);
	FUZZ_CHECK(rc == 0, "re-encoded lcp options do not decode: %d", rc);
	FUZZ_CHECK(o.has == o2.has, "lcp option set changed");
	if (o.has & PPP_OPT_BIT(PPP_LCP_MRU))
		FUZZ_CHECK(o.mru == o2.mru, "mru changed");
	if (o.has & PPP_OPT_BIT(PPP_LCP_ACCM))
		FUZZ_CHECK(o.accm == o2.accm, "accm changed");
	if (o.has & PPP_OPT_BIT(PPP_LCP_AUTH))
		FUZZ_CHECK(o.auth_proto == o2.auth_proto && o.auth_alg == o2.auth_alg, "auth changed");
	if (o.has & PPP_OPT_BIT(PPP_LCP_MAGIC))
		FUZZ_CHECK(o.magic == o2.magic, "magic changed");
	wbuf_init(&w2);
	FUZZ_CHECK(ppp_lcp_opts_encode(&w2, &o2) == 0, "second lcp encode");
	FUZZ_CHECK(fuzz_eq(w1.buf, w1.len, w2.buf, w2.len), "lcp not stable");
	/* Options are written in ascending type order, so a sorted list comes back unchanged. */
	if (w1.len == len) {
		int sorted = 1, last = -1;
		struct rbuf r;
		struct ppp_opt op;
		rbuf_init(&r, p, len);
		while (ppp_opt_next(&r, &op) == 1) {
			sorted &= op.type > last;
			last = op.type;
		}
		if (sorted && !(o.has & PPP_OPT_BIT(PPP_LCP_AUTH)))
			FUZZ_CHECK(fuzz_eq(w1.buf, w1.len, p, len), "sorted lcp options re-encode differently");
	}
	wbuf_free(&w1);
	wbuf_free(&w2);
}

static void ipcp_opts(const uint8_t *p, size_t len)
{
	struct ppp_ipcp_opts o, o2;
	struct wbuf w1, w2;
	memset(&o, 0, sizeof(o));
	int rc = ppp_ipcp_opts_decode(p, len, &o);
	FUZZ_CHECK(rc == 0 || rc == -EBADMSG, "ipcp decode: %d", rc);
	if (rc != 0)
		return;
	wbuf_init(&w1);
	FUZZ_CHECK(ppp_ipcp_opts_encode(&w1, &o) == 0, "ipcp encode of decoded options");
	memset(&o2, 0, sizeof(o2));
	FUZZ_CHECK(ppp_ipcp_opts_decode(w1.buf, w1.len, &o2) == 0, "re-encoded ipcp do not decode");
	FUZZ_CHECK(o.has == o2.has && (!(o.has & PPP_IPCP_BIT_ADDR) || o.addr == o2.addr) &&
	           (!(o.has & PPP_IPCP_BIT_DNS1) || o.dns1 == o2.dns1) &&
	           (!(o.has & PPP_IPCP_BIT_DNS2) || o.dns2 == o2.dns2), "ipcp options changed");
	wbuf_init(&w2);
	FUZZ_CHECK(ppp_ipcp_opts_encode(&w2, &o2) == 0, "second ipcp encode");
	FUZZ_CHECK(fuzz_eq(w1.buf, w1.len, w2.buf, w2.len), "ipcp not stable");
	wbuf_free(&w1);
	wbuf_free(&w2);
}

static void pap(const uint8_t *p, size_t len)
{
	struct ppp_pap a, b;
	struct wbuf w1, w2;
	memset(&a, 0, sizeof(a));
	int rc = ppp_pap_decode(p, len, &a);
	FUZZ_CHECK(rc == 0 || rc == -EBADMSG || rc == -ENOTSUP, "pap decode: %d", rc);
	if (rc != 0)
		return;
	wbuf_init(&w1);
	FUZZ_CHECK(ppp_pap_encode(&w1, &a) == 0, "pap encode of a decoded packet");
	memset(&b, 0, sizeof(b));
	FUZZ_CHECK(ppp_pap_decode(w1.buf, w1.len, &b) == 0, "re-encoded pap does not decode");
	FUZZ_CHECK(a.code == b.code && a.id == b.id, "pap header changed");
	if (a.code == PPP_PAP_REQ)
		FUZZ_CHECK(fuzz_eq(a.peer_id, a.peer_id_len, b.peer_id, b.peer_id_len) &&
		           fuzz_eq(a.passwd, a.passwd_len, b.passwd, b.passwd_len),
		           "pap request changed");
	else
		FUZZ_CHECK(fuzz_eq(a.msg, a.msg_len, b.msg, b.msg_len), "pap message changed");
	wbuf_init(&w2);
	FUZZ_CHECK(ppp_pap_encode(&w2, &b) == 0, "second pap encode");
	FUZZ_CHECK(fuzz_eq(w1.buf, w1.len, w2.buf, w2.len), "pap not stable");
	wbuf_free(&w1);
	wbuf_free(&w2);
}

static void chap(const uint8_t *p, size_t len)
{
	struct ppp_chap a, b;
	struct wbuf w1, w2;
	memset(&a, 0, sizeof(a));
	int rc = ppp_chap_decode(p, len, &a);
	FUZZ_CHECK(rc == 0 || rc == -EBADMSG || rc == -ENOTSUP, "chap decode: %d", rc);
	if (rc != 0)
		return;
	wbuf_init(&w1);
	FUZZ_CHECK(ppp_chap_encode(&w1, &a) == 0, "chap encode of a decoded packet");
	memset(&b, 0, sizeof(b));
	FUZZ_CHECK(ppp_chap_decode(w1.buf, w1.len, &b) == 0, "re-encoded chap does not decode");
	FUZZ_CHECK(a.code == b.code && a.id == b.id, "chap header changed");
	if (a.code == PPP_CHAP_CHALLENGE || a.code == PPP_CHAP_RESPONSE)
		FUZZ_CHECK(fuzz_eq(a.value, a.value_len, b.value, b.value_len) &&
		           fuzz_eq(a.name, a.name_len, b.name, b.name_len),
		           "chap challenge/response changed");
	else
		FUZZ_CHECK(fuzz_eq(a.msg, a.msg_len, b.msg, b.msg_len), "chap message changed");
	wbuf_init(&w2);
	FUZZ_CHECK(ppp_chap_encode(&w2, &b) == 0, "second chap encode");
	FUZZ_CHECK(fuzz_eq(w1.buf, w1.len, w2.buf, w2.len), "chap not stable");
	wbuf_free(&w1);
	wbuf_free(&w2);
}

static void frame(const uint8_t *p, size_t len)
{
	uint16_t proto, proto2;
	const uint8_t *info, *info2;
	size_t ilen, ilen2;
	if (ppp_frame_parse(p, len, &proto, &info, &ilen) != 0)
		return;
	FUZZ_CHECK(info >= p && info + ilen == p + len, "information field outside the frame");
	int acfc = !(len >= 2 && p[0] == 0xff && p[1] == 0x03);
	int pfc = (info - p) - (acfc ? 0 : 2) == 1;
	struct wbuf w;
	wbuf_init(&w);
	ppp_frame_hdr_encode(&w, proto, acfc, pfc);
	wbuf_put_bytes(&w, info, ilen);
	FUZZ_CHECK(w.err == 0, "wbuf %d", w.err);
	FUZZ_CHECK(ppp_frame_parse(w.buf, w.len, &proto2, &info2, &ilen2) == 0,
	           "re-encoded frame does not parse");
	FUZZ_CHECK(proto == proto2 && fuzz_eq(info, ilen, info2, ilen2),
	           "frame changed: proto %04x/%04x", proto, proto2);
	wbuf_free(&w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ppp_cp cp;
	fuzz_quiet();

	if (ppp_cp_decode(data, size, &cp) == 0) {
		FUZZ_CHECK(cp.len + 4 <= size, "cp data past the packet");
		struct wbuf w;
		wbuf_init(&w);
		FUZZ_CHECK(ppp_cp_encode(&w, cp.code, cp.id, cp.data, cp.len) == 0, "cp encode");
		FUZZ_CHECK(w.len == cp.len + 4 && memcmp(w.buf, data, w.len) == 0,
		           "cp re-encodes differently");
		wbuf_free(&w);
		if (cp.code >= PPP_CONFREQ && cp.code <= PPP_CONFREJ) {
			lcp_opts(cp.data, cp.len);
			ipcp_opts(cp.data, cp.len);
		}
	}

	struct rbuf r;
	struct ppp_opt o;
	int n, walk_ok;
	rbuf_init(&r, data, size);
	while ((n = ppp_opt_next(&r, &o)) == 1)
		FUZZ_CHECK(o.val >= data && o.val + o.len <= data + size, "option value outside");
	walk_ok = n == 0;
	FUZZ_CHECK((ppp_opts_check(data, size) == 0) == walk_ok, "ppp_opts_check disagrees");

	lcp_opts(data, size);
	ipcp_opts(data, size);
	pap(data, size);
	chap(data, size);
	frame(data, size);
	return 0;
}
