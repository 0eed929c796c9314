/* The L2TP reliable control channel (roam/l2tp_ctrl.h) driven by a fuzzed script.  Each step
 * takes an opcode byte:
 *   0  raw datagram: length byte, bytes -> l2tp_ctrl_input
 *   1  synthesised control message: Ns and Nr as small offsets from the channel's own
 *      counters (so the window logic is reached), a few AVP bytes -> l2tp_ctrl_input
 *   2  synthesised ZLB acknowledging up to an offset -> l2tp_ctrl_input
 *   3  a message of ours -> l2tp_ctrl_send
 *   4  advance the fake clock (16-bit ms) and l2tp_ctrl_tick
 *   5  l2tp_ctrl_set_peer (window byte)
 *   6  l2tp_ctrl_send_zlb
 * Properties checked: every datagram the channel transmits is a valid control header for the
 * peer's tunnel; messages are delivered exactly once and in order (Ns 0, 1, 2, ...), each a
 * valid control message; the queues stay within their bounds. */
#include <errno.h>

#include "fuzz.h"
#include "roam/l2tp.h"
#include "roam/l2tp_ctrl.h"

struct harness {
	struct l2tp_ctrl c;
	uint16_t next_deliver; /* Ns the next delivered message must carry */
	uint16_t peer_tunnel;
};

static void h_send(void *ctx, const uint8_t *pkt, size_t len)
{
	struct harness *h = ctx;
	struct l2tp_hdr hd;
	int rc = l2tp_hdr_decode(pkt, len, &hd);
	FUZZ_CHECK(rc == 0 && (hd.flags & L2TP_HDR_T), "transmitted an invalid header (%d)", rc);
	FUZZ_CHECK(hd.tunnel_id == h->peer_tunnel, "transmitted to tunnel %u, peer is %u",
	           hd.tunnel_id, h->peer_tunnel);
}

static void h_deliver(void *ctx, const uint8_t *pkt, size_t len)
{
	struct harness *h = ctx;
	struct l2tp_hdr hd;
	int rc = l2tp_hdr_decode(pkt, len, &hd);
	FUZZ_CHECK(rc == 0 && (hd.flags & L2TP_HDR_T), "delivered an invalid message (%d)", rc);
	FUZZ_CHECK(hd.hdr_len < hd.msg_len, "delivered a ZLB");
	FUZZ_CHECK(hd.ns == h->next_deliver, "delivered Ns %u, expected %u", hd.ns,
	           h->next_deliver);
	h->next_deliver++;
}

static size_t ctrl_msg(uint8_t *b, uint16_t tunnel, uint16_t ns, uint16_t nr,
                       const uint8_t *avps, size_t n)
{
	size_t len = L2TP_CTRL_HDR_LEN + n;
	b[0] = 0xc8;
	b[1] = 0x02;
	b[2] = (uint8_t)(len >> 8);
	b[3] = (uint8_t)len;
	b[4] = (uint8_t)(tunnel >> 8);
	b[5] = (uint8_t)tunnel;
	b[6] = b[7] = 0;
	b[8] = (uint8_t)(ns >> 8);
	b[9] = (uint8_t)ns;
	b[10] = (uint8_t)(nr >> 8);
	b[11] = (uint8_t)nr;
	if (n)
		memcpy(b + L2TP_CTRL_HDR_LEN, avps, n);
	return len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t hello[] = { 0x80, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x06 };
	struct fuzz_in in = { data, size };
	struct harness h;
	struct l2tp_ctrl_cfg cfg;
	uint64_t now = 1000;
	uint8_t b[300];
	const uint8_t *p;
	size_t n, len;
	int rc;

	fuzz_quiet();
	memset(&h, 0, sizeof(h));
	l2tp_ctrl_cfg_default(&cfg);
	cfg.recv_window = (uint16_t)(fuzz_u8(&in) % 20); /* 0 and > 16 exercise the clamping */
	cfg.max_retries = (uint8_t)(fuzz_u8(&in) % 8);
	h.peer_tunnel = 7;
	l2tp_ctrl_init(&h.c, &cfg, h_send, h_deliver, &h, now);
	l2tp_ctrl_set_peer(&h.c, h.peer_tunnel, 4);

	for (int steps = 0; in.left && steps < 2000; steps++) {
		uint8_t op = fuzz_u8(&in) % 7;
		switch (op) {
		case 0:
			p = fuzz_bytes(&in, fuzz_u8(&in), &n);
			rc = l2tp_ctrl_input(&h.c, p, n, now);
			FUZZ_CHECK(rc == 0 || rc == -EBADMSG || rc == -EPROTONOSUPPORT ||
			           rc == -ENOMEM, "input: %d", rc);
			break;
		case 1: {
			int8_t dns = (int8_t)fuzz_u8(&in), dnr = (int8_t)fuzz_u8(&in);
			p = fuzz_bytes(&in, fuzz_u8(&in) % 64, &n);
			if (!n) {
				p = hello;
				n = sizeof(hello);
			}
			len = ctrl_msg(b, 0, (uint16_t)(h.c.nr + dns),
			               (uint16_t)(h.c.ns_next + dnr), p, n);
			rc = l2tp_ctrl_input(&h.c, b, len, now);
			FUZZ_CHECK(rc == 0 || rc == -ENOMEM, "input of a valid message: %d", rc);
			break;
		}
		case 2: {
			int8_t dnr = (int8_t)fuzz_u8(&in);
			len = ctrl_msg(b, 0, h.c.nr, (uint16_t)(h.c.ns_next + dnr), NULL, 0);
			rc = l2tp_ctrl_input(&h.c, b, len, now);
			FUZZ_CHECK(rc == 0, "input of a ZLB: %d", rc);
			break;
		}
		case 3:
			len = ctrl_msg(b, h.peer_tunnel, 0, 0, hello, sizeof(hello));
			rc = l2tp_ctrl_send(&h.c, b, len, now);
			FUZZ_CHECK(rc == 0 || rc == -ENOBUFS || rc == -EPIPE, "send: %d", rc);
			FUZZ_CHECK(rc != -EPIPE || h.c.failed, "-EPIPE while not failed");
			break;
		case 4:
			now += fuzz_u16(&in);
			rc = l2tp_ctrl_tick(&h.c, now);
			FUZZ_CHECK(rc == 0 || (rc == -ETIMEDOUT && h.c.failed), "tick: %d", rc);
			FUZZ_CHECK(l2tp_ctrl_next_timeout(&h.c) == UINT64_MAX ||
			           l2tp_ctrl_next_timeout(&h.c) > now || h.c.failed,
			           "a timer due at %llu is still due after tick at %llu",
			           (unsigned long long)l2tp_ctrl_next_timeout(&h.c),
			           (unsigned long long)now);
			break;
		case 5:
			l2tp_ctrl_set_peer(&h.c, h.peer_tunnel, fuzz_u8(&in));
			break;
		case 6:
			l2tp_ctrl_send_zlb(&h.c);
			break;
		}
		FUZZ_CHECK(h.c.tx_count <= L2TP_CTRL_TXQ_MAX, "tx_count %u", h.c.tx_count);
		FUZZ_CHECK(h.c.nr == h.next_deliver, "nr %u but %u delivered", h.c.nr, h.next_deliver);
		(void)l2tp_ctrl_idle(&h.c);
		(void)l2tp_ctrl_hello_due(&h.c, now, 60000);
	}
	l2tp_ctrl_free(&h.c);
	l2tp_ctrl_free(&h.c);
	return 0;
}
