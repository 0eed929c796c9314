/* Access-link codec: docs/protocols/access-link.md, "Message format" and "Sequence numbers". */
#include <errno.h>
#include <string.h>

#include "roam/access.h"

int access_min_valid(const char *min)
{
	if (!min)
		return -EINVAL;
	for (size_t i = 0; i < ACCESS_MIN_LEN; i++)
		if (min[i] < '0' || min[i] > '9')
			return -EINVAL;
	return min[ACCESS_MIN_LEN] == '\0' ? 0 : -EINVAL;
}

const char *access_type_name(unsigned type)
{
	switch (type) {
	case ACCESS_ATTACH:
		return "ATTACH";
	case ACCESS_ATTACH_ACK:
		return "ATTACH-ACK";
	case ACCESS_ATTACH_NAK:
		return "ATTACH-NAK";
	case ACCESS_DETACH:
		return "DETACH";
	case ACCESS_KEEPALIVE:
		return "KEEPALIVE";
	case ACCESS_KEEPALIVE_ACK:
		return "KEEPALIVE-ACK";
	case ACCESS_DATA:
		return "DATA";
	}
	return "unknown";
}

static int timers_valid(uint32_t keepalive_ms, uint32_t dead_ms)
{
	return keepalive_ms >= ACCESS_TIMER_MIN_MS && keepalive_ms <= ACCESS_TIMER_MAX_MS &&
	       dead_ms >= ACCESS_TIMER_MIN_MS && dead_ms <= ACCESS_TIMER_MAX_MS &&
	       (uint64_t)dead_ms >= 2 * (uint64_t)keepalive_ms;
}

int access_msg_check(const struct access_msg *m, const char **why)
{
	const char *dummy;
	if (!why)
		why = &dummy;
	switch (m->type) {
	case ACCESS_ATTACH:
		if (access_min_valid(m->min) < 0) {
			*why = "MIN is not ten digits";
			return -EINVAL;
		}
		if (memchr(m->nai, '\0', m->nai_len) || m->nai[m->nai_len] != '\0') {
			*why = "NAI length does not match its string";
			return -EINVAL;
		}
		return 0;
	case ACCESS_ATTACH_ACK:
		if (!timers_valid(m->keepalive_ms, m->dead_ms)) {
			*why = "keepalive/dead interval out of range";
			return -EINVAL;
		}
		return 0;
	case ACCESS_ATTACH_NAK:
	case ACCESS_DETACH:
	case ACCESS_KEEPALIVE:
	case ACCESS_KEEPALIVE_ACK:
		return 0;
	case ACCESS_DATA:
		if (m->data_len < 1 || m->data_len > ACCESS_DATA_MAX || !m->data) {
			*why = "DATA payload not 1..1400 octets";
			return -EINVAL;
		}
		return 0;
	}
	*why = "unknown message type";
	return -EINVAL;
}

int access_msg_encode(const struct access_msg *m, struct wbuf *w)
{
	int rc = access_msg_check(m, NULL);
	if (rc < 0)
		return rc;
	wbuf_put_u16(w, ACCESS_MAGIC);
	wbuf_put_u8(w, ACCESS_VERSION);
	wbuf_put_u8(w, m->type);
	wbuf_put_u32(w, m->link_id);
	wbuf_put_u32(w, m->seq);
	switch (m->type) {
	case ACCESS_ATTACH:
		wbuf_put_u32(w, m->nonce);
		wbuf_put_bytes(w, m->min, ACCESS_MIN_LEN);
		wbuf_put_u8(w, m->nai_len);
		wbuf_put_bytes(w, m->nai, m->nai_len);
		break;
	case ACCESS_ATTACH_ACK:
		wbuf_put_u32(w, m->nonce);
		wbuf_put_u32(w, m->keepalive_ms);
		wbuf_put_u32(w, m->dead_ms);
		break;
	case ACCESS_ATTACH_NAK:
		wbuf_put_u32(w, m->nonce);
		wbuf_put_u16(w, m->cause);
		break;
	case ACCESS_DETACH:
		wbuf_put_u16(w, m->cause);
		break;
	case ACCESS_KEEPALIVE:
	case ACCESS_KEEPALIVE_ACK:
		wbuf_put_u32(w, m->timestamp);
		break;
	case ACCESS_DATA:
		wbuf_put_bytes(w, m->data, m->data_len);
		break;
	}
	return w->err;
}

#define FAIL(code, reason)                                                                        \
	do {                                                                                      \
		*why = (reason);                                                                  \
		return (code);                                                                    \
	} while (0)

int access_msg_decode(const void *pkt, size_t len, struct access_msg *m, const char **why)
{
	const char *dummy;
	struct rbuf r;
	uint16_t magic;
	if (!why)
		why = &dummy;
	memset(m, 0, sizeof(*m));
	rbuf_init(&r, pkt, len);
	if (rbuf_get_u16(&r, &magic) < 0 || rbuf_get_u8(&r, &m->version) < 0 ||
	    rbuf_get_u8(&r, &m->type) < 0 || rbuf_get_u32(&r, &m->link_id) < 0 ||
	    rbuf_get_u32(&r, &m->seq) < 0)
		FAIL(-EBADMSG, "truncated header");
	if (magic != ACCESS_MAGIC)
		FAIL(-EBADMSG, "bad magic");
	size_t plen = rbuf_left(&r);
	if (m->version != ACCESS_VERSION) {
		/* Recover the Nonce of an ATTACH so that the LAC can refuse it (cause 5). */
		if (m->type == ACCESS_ATTACH)
			(void)rbuf_get_u32(&r, &m->nonce);
		FAIL(-EPROTONOSUPPORT, "unsupported version");
	}
	switch (m->type) {
	case ACCESS_ATTACH: {
		if (plen < 15)
			FAIL(-EBADMSG, "ATTACH too short");
		(void)rbuf_get_u32(&r, &m->nonce);
		(void)rbuf_get_bytes(&r, m->min, ACCESS_MIN_LEN);
		(void)rbuf_get_u8(&r, &m->nai_len);
		if (plen != 15u + m->nai_len)
			FAIL(-EBADMSG, "ATTACH length does not match NAI Length");
		if (m->nai_len > ACCESS_NAI_MAX)
			FAIL(-EINVAL, "NAI too long");
		(void)rbuf_get_bytes(&r, m->nai, m->nai_len);
		if (access_min_valid(m->min) < 0)
			FAIL(-EINVAL, "MIN is not ten digits");
		if (memchr(m->nai, '\0', m->nai_len))
			FAIL(-EINVAL, "NAI contains NUL");
		return 0;
	}
	case ACCESS_ATTACH_ACK:
		if (plen != 12)
			FAIL(-EBADMSG, "ATTACH-ACK length not 12");
		(void)rbuf_get_u32(&r, &m->nonce);
		(void)rbuf_get_u32(&r, &m->keepalive_ms);
		(void)rbuf_get_u32(&r, &m->dead_ms);
		if (!timers_valid(m->keepalive_ms, m->dead_ms))
			FAIL(-EINVAL, "keepalive/dead interval out of range");
		return 0;
	case ACCESS_ATTACH_NAK:
		if (plen != 6)
			FAIL(-EBADMSG, "ATTACH-NAK length not 6");
		(void)rbuf_get_u32(&r, &m->nonce);
		(void)rbuf_get_u16(&r, &m->cause);
		return 0;
	case ACCESS_DETACH:
		if (plen != 2)
			FAIL(-EBADMSG, "DETACH length not 2");
		(void)rbuf_get_u16(&r, &m->cause);
		return 0;
	case ACCESS_KEEPALIVE:
	case ACCESS_KEEPALIVE_ACK:
		if (plen != 4)
			FAIL(-EBADMSG, "KEEPALIVE length not 4");
		(void)rbuf_get_u32(&r, &m->timestamp);
		return 0;
	case ACCESS_DATA:
		if (plen < 1 || plen > ACCESS_DATA_MAX)
			FAIL(-EBADMSG, "DATA payload not 1..1400 octets");
		m->data_len = plen;
		(void)rbuf_get_ptr(&r, plen, &m->data);
		return 0;
	}
	FAIL(-ENOMSG, "unknown type");
}

void access_seq_init(struct access_seq *s)
{
	memset(s, 0, sizeof(*s));
}

int access_seq_accept(struct access_seq *s, uint32_t seq)
{
	uint32_t d = seq - s->next;
	if (d >= 0x80000000u) {
		s->rx_late++;
		return 0;
	}
	s->rx_lost += d;
	s->next = seq + 1;
	return 1;
}
