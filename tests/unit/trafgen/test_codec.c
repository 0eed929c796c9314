/* trafgen wire formats: byte vectors, round trips, truncation at every offset, bad fields. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "../../../tools/trafgen/trafgen.h"

static const uint8_t data_vec[TG_DATA_LEN] = {
	0x52, 0x4d, 0x54, 0x47,                         /* "RMTG" */
	0x01, 0x01, 0x00, 0x00,                         /* version 1, DATA, flags */
	0xde, 0xad, 0xbe, 0xef,                         /* flow */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x03, /* seq 0x10203 */
	0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x07, /* send_ns */
};
static const uint8_t end_vec[TG_END_LEN] = {
	0x52, 0x4d, 0x54, 0x47, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* seq 0 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09, /* send_ns */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x86, 0xa0, /* total 100000 */
};

Test(codec, data_vector)
{
	struct tg_pkt p;
	cr_assert_eq(tg_pkt_decode(data_vec, sizeof(data_vec), &p), 0);
	cr_assert_eq(p.type, TG_DATA);
	cr_assert_eq(p.flow, 0xdeadbeef);
	cr_assert_eq(p.seq, 0x10203);
	cr_assert_eq(p.send_ns, 0x10000000007ull);
	uint8_t out[64];
	struct wbuf w;
	wbuf_init_fixed(&w, out, sizeof(out));
	cr_assert_eq(tg_pkt_encode(&p, TG_DATA_LEN, &w), 0);
	cr_assert_eq(w.len, TG_DATA_LEN);
	cr_assert_eq(memcmp(out, data_vec, TG_DATA_LEN), 0);
	for (size_t n = 0; n < sizeof(data_vec); n++)
		cr_assert_eq(tg_pkt_decode(data_vec, n, &p), -EMSGSIZE, "truncated at %zu", n);
}

Test(codec, end_vector)
{
	struct tg_pkt p;
	cr_assert_eq(tg_pkt_decode(end_vec, sizeof(end_vec), &p), 0);
	cr_assert_eq(p.type, TG_END);
	cr_assert_eq(p.flow, 5);
	cr_assert_eq(p.total, 100000);
	cr_assert_eq(p.send_ns, 9);
	uint8_t out[64];
	struct wbuf w;
	wbuf_init_fixed(&w, out, sizeof(out));
	cr_assert_eq(tg_pkt_encode(&p, 0, &w), 0); /* size below minimum: minimum */
	cr_assert_eq(w.len, TG_END_LEN);
	cr_assert_eq(memcmp(out, end_vec, TG_END_LEN), 0);
	for (size_t n = 0; n < sizeof(end_vec); n++)
		cr_assert_eq(tg_pkt_decode(end_vec, n, &p), -EMSGSIZE, "truncated at %zu", n);
}

Test(codec, padding_and_limits)
{
	struct tg_pkt p = { .type = TG_DATA, .flow = 1, .seq = 2, .send_ns = 3 }, q;
	struct wbuf w;
	wbuf_init(&w);
	cr_assert_eq(tg_pkt_encode(&p, 1400, &w), 0);
	cr_assert_eq(w.len, 1400);
	for (size_t i = TG_DATA_LEN; i < 1400; i++)
		cr_assert_eq(w.buf[i], 0);
	cr_assert_eq(tg_pkt_decode(w.buf, w.len, &q), 0);
	cr_assert_eq(q.seq, 2);
	wbuf_reset(&w);
	cr_assert_eq(tg_pkt_encode(&p, TG_MAX_LEN + 1, &w), -EINVAL);
	p.type = 9;
	cr_assert_eq(tg_pkt_encode(&p, 100, &w), -EINVAL);
	wbuf_free(&w);
	/* fixed buffer too small */
	uint8_t small[20];
	p.type = TG_DATA;
	wbuf_init_fixed(&w, small, sizeof(small));
	cr_assert_eq(tg_pkt_encode(&p, 64, &w), -ENOSPC);
}

Test(codec, bad_fields)
{
	uint8_t b[TG_END_LEN];
	struct tg_pkt p;
	memcpy(b, data_vec, sizeof(data_vec));
	b[0] ^= 1;
	cr_assert_eq(tg_pkt_decode(b, sizeof(data_vec), &p), -EBADMSG);
	memcpy(b, data_vec, sizeof(data_vec));
	b[4] = 2;
	cr_assert_eq(tg_pkt_decode(b, sizeof(data_vec), &p), -EBADMSG);
	memcpy(b, data_vec, sizeof(data_vec));
	b[5] = 3;
	cr_assert_eq(tg_pkt_decode(b, sizeof(data_vec), &p), -EBADMSG);
	/* a DATA-sized datagram claiming END is short */
	memcpy(b, data_vec, sizeof(data_vec));
	b[5] = TG_END;
	cr_assert_eq(tg_pkt_decode(b, sizeof(data_vec), &p), -EMSGSIZE);
}

Test(codec, tcp_header)
{
	static const uint8_t v[TG_TCP_HDR_LEN] = { 0x52, 0x4d, 0x54, 0x43, 1, 0, 0, 0,
						    0,    0,    0,    0,    0, 0, 0x12, 0x34 };
	uint64_t key;
	cr_assert_eq(tg_tcp_hdr_decode(v, sizeof(v), &key), 0);
	cr_assert_eq(key, 0x1234);
	uint8_t out[TG_TCP_HDR_LEN];
	struct wbuf w;
	wbuf_init_fixed(&w, out, sizeof(out));
	cr_assert_eq(tg_tcp_hdr_encode(0x1234, &w), 0);
	cr_assert_eq(memcmp(out, v, sizeof(v)), 0);
	for (size_t n = 0; n < sizeof(v); n++)
		cr_assert_eq(tg_tcp_hdr_decode(v, n, &key), -EMSGSIZE);
	memcpy(out, v, sizeof(v));
	out[3] = 0x47; /* the UDP magic */
	cr_assert_eq(tg_tcp_hdr_decode(out, sizeof(out), &key), -EBADMSG);
}
