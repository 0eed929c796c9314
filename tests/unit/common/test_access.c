/* Access-link codec (docs/protocols/access-link.md): byte vectors, every truncation, bad magic,
 * version and lengths, the sequence-number check. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "roam/access.h"

/* ATTACH nonce 0x1a2b3c4d, MIN 3125550100, NAI "a@b" (the doc's example, with a short NAI). */
static const uint8_t v_attach[] = {
	0x52, 0x4c, 0x01, 0x01, 0, 0, 0, 0, 0, 0, 0, 0,                    /* header */
	0x1a, 0x2b, 0x3c, 0x4d,                                             /* nonce */
	'3', '1', '2', '5', '5', '5', '0', '1', '0', '0',                   /* MIN */
	0x03, 'a', '@', 'b',                                                /* NAI */
};
/* ATTACH-ACK link 7, seq 0, 1000 ms / 3000 ms. */
static const uint8_t v_ack[] = {
	0x52, 0x4c, 0x01, 0x02, 0, 0, 0, 7, 0, 0, 0, 0,
	0x1a, 0x2b, 0x3c, 0x4d, 0, 0, 0x03, 0xe8, 0, 0, 0x0b, 0xb8,
};
static const uint8_t v_nak[] = {
	0x52, 0x4c, 0x01, 0x03, 0, 0, 0, 0, 0, 0, 0, 0, 0x1a, 0x2b, 0x3c, 0x4d, 0x00, 0x03,
};
static const uint8_t v_detach[] = {
	0x52, 0x4c, 0x01, 0x04, 0, 0, 0, 7, 0, 0, 0, 9, 0x00, 0x01,
};
static const uint8_t v_keepalive[] = {
	0x52, 0x4c, 0x01, 0x05, 0, 0, 0, 7, 0xff, 0xff, 0xff, 0xff, 0x01, 0x02, 0x03, 0x04,
};
static const uint8_t v_data[] = {
	0x52, 0x4c, 0x01, 0x07, 0, 0, 0, 7, 0, 0, 0, 1, 0x7e, 0xff, 0x7d, 0x23, 0xc0, 0x21, 0x7e,
};

struct vec {
	const uint8_t *b;
	size_t len;
};
static const struct vec all[] = {
	{ v_attach, sizeof(v_attach) }, { v_ack, sizeof(v_ack) },
	{ v_nak, sizeof(v_nak) },       { v_detach, sizeof(v_detach) },
	{ v_keepalive, sizeof(v_keepalive) }, { v_data, sizeof(v_data) },
};

static void reencode_equals(const struct access_msg *m, const uint8_t *b, size_t len)
{
	uint8_t out[ACCESS_HDR_LEN + ACCESS_DATA_MAX];
	struct wbuf w;
	wbuf_init_fixed(&w, out, sizeof(out));
	cr_assert_eq(access_msg_encode(m, &w), 0);
	cr_assert_eq(w.len, len);
	cr_assert(memcmp(out, b, len) == 0, "re-encoding differs from the vector");
}

Test(access, attach_vector)
{
	struct access_msg m;
	cr_assert_eq(access_msg_decode(v_attach, sizeof(v_attach), &m, NULL), 0);
	cr_assert_eq(m.type, ACCESS_ATTACH);
	cr_assert_eq(m.link_id, 0);
	cr_assert_eq(m.nonce, 0x1a2b3c4d);
	cr_assert_str_eq(m.min, "3125550100");
	cr_assert_eq(m.nai_len, 3);
	cr_assert_str_eq(m.nai, "a@b");
	reencode_equals(&m, v_attach, sizeof(v_attach));
}

Test(access, attach_without_nai)
{
	uint8_t b[27];
	struct access_msg m;
	memcpy(b, v_attach, 26);
	b[26] = 0;
	cr_assert_eq(access_msg_decode(b, sizeof(b), &m, NULL), 0);
	cr_assert_eq(m.nai_len, 0);
	cr_assert_str_eq(m.nai, "");
	reencode_equals(&m, b, sizeof(b));
}

Test(access, other_vectors)
{
	struct access_msg m;
	cr_assert_eq(access_msg_decode(v_ack, sizeof(v_ack), &m, NULL), 0);
	cr_assert_eq(m.type, ACCESS_ATTACH_ACK);
	cr_assert_eq(m.link_id, 7);
	cr_assert_eq(m.keepalive_ms, 1000);
	cr_assert_eq(m.dead_ms, 3000);
	reencode_equals(&m, v_ack, sizeof(v_ack));

	cr_assert_eq(access_msg_decode(v_nak, sizeof(v_nak), &m, NULL), 0);
	cr_assert_eq(m.cause, ACCESS_NAK_NO_LNS);
	cr_assert_eq(m.nonce, 0x1a2b3c4d);
	reencode_equals(&m, v_nak, sizeof(v_nak));

	cr_assert_eq(access_msg_decode(v_detach, sizeof(v_detach), &m, NULL), 0);
	cr_assert_eq(m.cause, ACCESS_DETACH_MOVING);
	cr_assert_eq(m.seq, 9);
	reencode_equals(&m, v_detach, sizeof(v_detach));

	cr_assert_eq(access_msg_decode(v_keepalive, sizeof(v_keepalive), &m, NULL), 0);
	cr_assert_eq(m.timestamp, 0x01020304);
	cr_assert_eq(m.seq, 0xffffffffu);
	reencode_equals(&m, v_keepalive, sizeof(v_keepalive));

	cr_assert_eq(access_msg_decode(v_data, sizeof(v_data), &m, NULL), 0);
	cr_assert_eq(m.data_len, 7);
	cr_assert_eq(m.data, v_data + 12, "DATA borrows the packet");
	reencode_equals(&m, v_data, sizeof(v_data));
}

Test(access, truncation_at_every_offset)
{
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		for (size_t n = 0; n < all[i].len; n++) {
			struct access_msg m;
			int rc = access_msg_decode(all[i].b, n, &m, NULL);
			/* A DATA message cut after at least one payload octet is still a valid
			 * (shorter) DATA message: the stream decoder handles any split. */
			if (all[i].b == v_data && n > ACCESS_HDR_LEN) {
				cr_assert_eq(rc, 0);
				cr_assert_eq(m.data_len, n - ACCESS_HDR_LEN);
				continue;
			}
			cr_assert_eq(rc, -EBADMSG, "vector %zu cut at %zu: rc %d", i, n, rc);
		}
	}
}

Test(access, trailing_octet_is_a_bad_length)
{
	uint8_t b[64];
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		struct access_msg m;
		if (all[i].b == v_data)
			continue;
		memcpy(b, all[i].b, all[i].len);
		b[all[i].len] = 0;
		cr_assert_eq(access_msg_decode(b, all[i].len + 1, &m, NULL), -EBADMSG, "vector %zu", i);
	}
}

Test(access, bad_magic_version_type)
{
	uint8_t b[sizeof(v_attach)];
	struct access_msg m;
	const char *why = NULL;
	memcpy(b, v_attach, sizeof(b));
	b[1] = 0x4d;
	cr_assert_eq(access_msg_decode(b, sizeof(b), &m, &why), -EBADMSG);
	cr_assert_str_eq(why, "bad magic");

	memcpy(b, v_attach, sizeof(b));
	b[2] = 2;
	cr_assert_eq(access_msg_decode(b, sizeof(b), &m, NULL), -EPROTONOSUPPORT);
	cr_assert_eq(m.type, ACCESS_ATTACH);
	cr_assert_eq(m.nonce, 0x1a2b3c4d, "nonce recovered for the NAK cause 5");

	memcpy(b, v_attach, sizeof(b));
	b[3] = 8;
	cr_assert_eq(access_msg_decode(b, sizeof(b), &m, NULL), -ENOMSG);
	b[3] = 0;
	cr_assert_eq(access_msg_decode(b, sizeof(b), &m, NULL), -ENOMSG);
}

Test(access, bad_min_and_nai)
{
	uint8_t b[sizeof(v_attach)];
	struct access_msg m;
	memcpy(b, v_attach, sizeof(b));
	b[16 + 4] = 'x';
	cr_assert_eq(access_msg_decode(b, sizeof(b), &m, NULL), -EINVAL);
	cr_assert_eq(m.nonce, 0x1a2b3c4d, "nonce recovered for the NAK cause 2");
	b[16 + 4] = '\0';
	cr_assert_eq(access_msg_decode(b, sizeof(b), &m, NULL), -EINVAL);

	memcpy(b, v_attach, sizeof(b));
	b[28] = '\0'; /* NUL inside the NAI */
	cr_assert_eq(access_msg_decode(b, sizeof(b), &m, NULL), -EINVAL);

	memcpy(b, v_attach, sizeof(b));
	b[26] = 4; /* NAI Length larger than what follows */
	cr_assert_eq(access_msg_decode(b, sizeof(b), &m, NULL), -EBADMSG);
	b[26] = 2; /* smaller */
	cr_assert_eq(access_msg_decode(b, sizeof(b), &m, NULL), -EBADMSG);
}

Test(access, nai_length_254_refused)
{
	uint8_t b[ACCESS_HDR_LEN + 15 + 254];
	struct access_msg m;
	memcpy(b, v_attach, 26);
	b[26] = 254;
	memset(b + 27, 'n', 254);
	cr_assert_eq(access_msg_decode(b, sizeof(b), &m, NULL), -EINVAL);
	b[26] = 253;
	cr_assert_eq(access_msg_decode(b, sizeof(b) - 1, &m, NULL), 0);
	cr_assert_eq(strlen(m.nai), 253);
}

Test(access, ack_timers_checked)
{
	uint8_t b[sizeof(v_ack)];
	struct access_msg m;
	memcpy(b, v_ack, sizeof(b));
	b[23] = 0xb7; /* dead 2999 > 2 x 1000: still valid */
	cr_assert_eq(access_msg_decode(b, sizeof(b), &m, NULL), 0);
	b[22] = 0x07;
	b[23] = 0xcf; /* dead 1999 < 2 x keepalive */
	cr_assert_eq(access_msg_decode(b, sizeof(b), &m, NULL), -EINVAL);
	memcpy(b, v_ack, sizeof(b));
	b[18] = 0;
	b[19] = 99; /* keepalive 99 ms */
	cr_assert_eq(access_msg_decode(b, sizeof(b), &m, NULL), -EINVAL);
	memcpy(b, v_ack, sizeof(b));
	b[21] = 0x01; /* dead 65536 + 3000 ms > 60 s */
	cr_assert_eq(access_msg_decode(b, sizeof(b), &m, NULL), -EINVAL);
}

Test(access, data_lengths)
{
	uint8_t b[ACCESS_HDR_LEN + ACCESS_DATA_MAX + 1];
	struct access_msg m;
	memset(b, 0x7e, sizeof(b));
	memcpy(b, v_data, ACCESS_HDR_LEN);
	cr_assert_eq(access_msg_decode(b, ACCESS_HDR_LEN, &m, NULL), -EBADMSG, "empty DATA");
	cr_assert_eq(access_msg_decode(b, sizeof(b) - 1, &m, NULL), 0);
	cr_assert_eq(m.data_len, ACCESS_DATA_MAX);
	cr_assert_eq(access_msg_decode(b, sizeof(b), &m, NULL), -EBADMSG, "1401 octets");
}

Test(access, encode_refuses_invalid)
{
	struct access_msg m = { .type = ACCESS_ATTACH, .min = "31255501" };
	struct wbuf w;
	wbuf_init(&w);
	cr_assert_eq(access_msg_encode(&m, &w), -EINVAL);
	cr_assert_eq(w.len, 0, "nothing written");
	memcpy(m.min, "3125550100", 11);
	m.nai_len = 2; /* but nai is "" */
	cr_assert_eq(access_msg_encode(&m, &w), -EINVAL);
	m.nai_len = 0;
	cr_assert_eq(access_msg_encode(&m, &w), 0);
	cr_assert_eq(w.len, ACCESS_HDR_LEN + 15);
	wbuf_reset(&w);
	struct access_msg d = { .type = ACCESS_DATA };
	cr_assert_eq(access_msg_encode(&d, &w), -EINVAL);
	struct access_msg a = { .type = ACCESS_ATTACH_ACK, .keepalive_ms = 1000, .dead_ms = 1500 };
	cr_assert_eq(access_msg_encode(&a, &w), -EINVAL);
	struct access_msg u = { .type = 9 };
	cr_assert_eq(access_msg_encode(&u, &w), -EINVAL);
	wbuf_free(&w);
}

Test(access, encode_into_a_short_buffer_fails)
{
	uint8_t out[10];
	struct wbuf w;
	struct access_msg m = { .type = ACCESS_KEEPALIVE, .timestamp = 1 };
	wbuf_init_fixed(&w, out, sizeof(out));
	cr_assert_eq(access_msg_encode(&m, &w), -ENOSPC);
}

Test(access, min_valid)
{
	cr_assert_eq(access_min_valid("0123456789"), 0);
	cr_assert_eq(access_min_valid("012345678"), -EINVAL);
	cr_assert_eq(access_min_valid("01234567890"), -EINVAL);
	cr_assert_eq(access_min_valid("01234a6789"), -EINVAL);
	cr_assert_eq(access_min_valid(NULL), -EINVAL);
}

Test(access, sequence_numbers)
{
	struct access_seq s;
	access_seq_init(&s);
	cr_assert_eq(access_seq_accept(&s, 0), 1);
	cr_assert_eq(access_seq_accept(&s, 1), 1);
	cr_assert_eq(access_seq_accept(&s, 1), 0, "duplicate");
	cr_assert_eq(s.rx_late, 1);
	cr_assert_eq(access_seq_accept(&s, 5), 1, "ahead: 3 lost");
	cr_assert_eq(s.rx_lost, 3);
	cr_assert_eq(access_seq_accept(&s, 3), 0, "late, reordered");
	cr_assert_eq(s.rx_late, 2);
	cr_assert_eq(s.next, 6);
	/* wrap-around */
	s.next = 0xfffffffeu;
	cr_assert_eq(access_seq_accept(&s, 0xffffffffu), 1);
	cr_assert_eq(s.rx_lost, 4);
	cr_assert_eq(access_seq_accept(&s, 0), 1);
	cr_assert_eq(access_seq_accept(&s, 0xffffffffu), 0);
	cr_assert_eq(s.next, 1);
	/* 2^31 ahead counts as behind */
	cr_assert_eq(access_seq_accept(&s, 0x80000001u), 0);
}
