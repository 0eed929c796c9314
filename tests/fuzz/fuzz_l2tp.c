/* L2TP codec (roam/l2tp.h) on one datagram:
 *  - l2tp_hdr_decode; a data message header is re-encoded with l2tp_data_hdr_encode and must
 *    decode to the same fields;
 *  - l2tp_msg_decode with the unit tests' tunnel secret and the handoff extension on (hidden
 *    AVPs, vendor AVPs); a decoded message is re-encoded (l2tp_msg_encode must accept it),
 *    decoded again and encoded again: the two encodings must be identical;
 *  - the clear encoding is encoded once more hiding every AVP RFC 2661 allows to hide, and
 *    that must decode (through l2tp_hidden_decrypt) back to the clear encoding;
 *  - l2tp_msg_check and the name functions on whatever decoded. */
#include <errno.h>

#include "fuzz.h"
#include "roam/l2tp.h"

static const uint8_t secret[] = "tunnel-secret";
#define SECRET_LEN (sizeof(secret) - 1)
static const uint8_t rv[16] = { 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
	                        0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f };


/* Large: kept off the stack. */
static struct l2tp_msg m1, m2, m3;

static void data_header(const uint8_t *data, size_t size)
{
	struct l2tp_hdr h, h2;
	if (l2tp_hdr_decode(data, size, &h) != 0 || (h.flags & L2TP_HDR_T))
		return;
	FUZZ_CHECK(h.hdr_len <= size && h.msg_len == size, "header lengths out of the datagram");
	size_t payload = h.msg_len - h.hdr_len;
	struct wbuf w;
	wbuf_init(&w);
	int rc = l2tp_data_hdr_encode(&w, &h, payload);
	FUZZ_CHECK(rc == 0, "l2tp_data_hdr_encode of a decoded header: %d", rc);
	wbuf_put_bytes(&w, data + h.hdr_len, payload);
	FUZZ_CHECK(w.err == 0, "wbuf error %d", w.err);
	rc = l2tp_hdr_decode(w.buf, w.len, &h2);
	FUZZ_CHECK(rc == 0, "re-encoded data header does not decode: %d", rc);
	FUZZ_CHECK(h.flags == h2.flags && h.tunnel_id == h2.tunnel_id &&
	           h.session_id == h2.session_id && h.offset_size == h2.offset_size &&
	           h.hdr_len == h2.hdr_len && h.msg_len == h2.msg_len,
	           "data header changed across a round trip");
	if (h.flags & L2TP_HDR_S)
		FUZZ_CHECK(h.ns == h2.ns, "Ns changed");
	if (h.flags & L2TP_HDR_L)
		FUZZ_CHECK(h.length == h2.length, "Length changed");
	FUZZ_CHECK(memcmp(w.buf + h2.hdr_len, data + h.hdr_len, payload) == 0, "payload moved");
	wbuf_free(&w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct l2tp_codec_opts o = { .secret = secret, .secret_len = SECRET_LEN,
		                     .ho_vendor = L2TP_HO_VENDOR_DEFAULT };
	struct wbuf w1, w2, w3;
	int rc, missing;

	fuzz_quiet();
	data_header(data, size);

	rc = l2tp_msg_decode(data, size, &o, &m1);
	if (rc != 0)
		return 0;
	(void)l2tp_msg_check(&m1, &missing);
	(void)l2tp_msg_name(m1.type);
	for (uint8_t i = 0; i < m1.n_unknown && i < L2TP_MAX_UNKNOWN; i++)
		(void)l2tp_avp_name(m1.unknown[i].type);
	FUZZ_CHECK(m1.n_unknown <= L2TP_MAX_UNKNOWN, "n_unknown %u", m1.n_unknown);
	FUZZ_CHECK(m1.scratch_used <= sizeof(m1.scratch), "scratch_used %zu", m1.scratch_used);

	/* The Random Vector only matters for hidden AVPs, which decode in the clear. */
	m1.avps &= ~L2TP_AVP_BIT(L2TP_AVP_RANDOM_VECTOR);
	wbuf_init(&w1);
	rc = l2tp_msg_encode(&w1, &m1, &o);
	FUZZ_CHECK(rc == 0, "l2tp_msg_encode of a decoded %s: %d", l2tp_msg_name(m1.type), rc);
	rc = l2tp_msg_decode(w1.buf, w1.len, &o, &m2);
	FUZZ_CHECK(rc == 0, "re-encoded message does not decode: %d (attr %d)", rc, m2.bad_attr);
	FUZZ_CHECK((m1.type == m2.type && m1.avps == m2.avps && m1.ho_avps == m2.ho_avps &&
	           m1.tunnel_id == m2.tunnel_id && m1.session_id == m2.session_id &&
	           m1.ns == m2.ns && m1.nr == m2.nr && m1.n_unknown == m2.n_unknown),
	           "message changed across a round trip (avps %llx/%llx ho %x/%x unknown %u/%u)",
	           (unsigned long long)m1.avps, (unsigned long long)m2.avps, m1.ho_avps,
	           m2.ho_avps, m1.n_unknown, m2.n_unknown);
	wbuf_init(&w2);
	rc = l2tp_msg_encode(&w2, &m2, &o);
	FUZZ_CHECK(rc == 0, "second encode: %d", rc);
	FUZZ_CHECK((fuzz_eq(w1.buf, w1.len, w2.buf, w2.len)),
	           "encoding not stable (%zu vs %zu bytes)", w1.len, w2.len);

	/* Hidden AVPs: hide everything hideable, reveal, compare with the clear encoding. */
	if (m2.type != L2TP_MSG_ZLB) {
		struct l2tp_codec_opts oh = o;
		oh.hide = ~0ULL;
		oh.rv = rv;
		oh.rv_len = sizeof(rv);
		wbuf_init(&w3);
		rc = l2tp_msg_encode(&w3, &m2, &oh);
		if (rc == 0) {
			rc = l2tp_msg_decode(w3.buf, w3.len, &o, &m3);
			FUZZ_CHECK(rc == 0, "hidden encoding does not decode: %d (attr %d)", rc,
			           m3.bad_attr);
			m3.avps &= ~L2TP_AVP_BIT(L2TP_AVP_RANDOM_VECTOR);
			wbuf_reset(&w2);
			rc = l2tp_msg_encode(&w2, &m3, &o);
			FUZZ_CHECK(rc == 0, "encode of a revealed message: %d", rc);
			FUZZ_CHECK(fuzz_eq(w1.buf, w1.len, w2.buf, w2.len),
			           "hide/reveal round trip differs (%zu vs %zu bytes)", w1.len, w2.len);
		} else {
			/* hiding adds 2 length bytes, padding and an RV AVP: only size may fail */
			FUZZ_CHECK(rc == -EINVAL, "hidden encode: %d", rc);
		}
		wbuf_free(&w3);
	}
	wbuf_free(&w1);
	wbuf_free(&w2);
	return 0;
}
