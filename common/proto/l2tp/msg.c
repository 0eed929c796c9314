/* L2TPv2 control messages and their AVPs (RFC 2661 4 and 6): decode into struct l2tp_msg,
 * encode back.  Hidden values go through hidden.c, the handoff AVPs through handoff.c. */
#include <errno.h>
#include <string.h>

#include "roam/l2tp.h"
#include "l2tp_int.h"

#define VAL_MAX (L2TP_AVP_MAX_LEN - L2TP_AVP_HDR_LEN)

/* Per IETF attribute: name, the M bit we send, whether RFC 2661 4.4 allows hiding it. */
static const struct avp_def {
	const char *name;
	uint8_t mbit, hideable;
} avp_defs[L2TP_AVP_IETF_MAX + 1] = {
	[L2TP_AVP_MESSAGE_TYPE] = { "Message Type", 1, 0 },
	[L2TP_AVP_RESULT_CODE] = { "Result Code", 1, 0 },
	[L2TP_AVP_PROTOCOL_VERSION] = { "Protocol Version", 1, 0 },
	[L2TP_AVP_FRAMING_CAP] = { "Framing Capabilities", 1, 1 },
	[L2TP_AVP_BEARER_CAP] = { "Bearer Capabilities", 1, 1 },
	[L2TP_AVP_TIE_BREAKER] = { "Tie Breaker", 0, 0 },
	[L2TP_AVP_FIRMWARE_REV] = { "Firmware Revision", 0, 1 },
	[L2TP_AVP_HOST_NAME] = { "Host Name", 1, 0 },
	[L2TP_AVP_VENDOR_NAME] = { "Vendor Name", 0, 1 },
	[L2TP_AVP_ASSIGNED_TUNNEL_ID] = { "Assigned Tunnel ID", 1, 1 },
	[L2TP_AVP_RECV_WINDOW_SIZE] = { "Receive Window Size", 1, 0 },
	[L2TP_AVP_CHALLENGE] = { "Challenge", 1, 1 },
	[L2TP_AVP_Q931_CAUSE] = { "Q.931 Cause Code", 1, 0 },
	[L2TP_AVP_CHALLENGE_RESPONSE] = { "Challenge Response", 1, 1 },
	[L2TP_AVP_ASSIGNED_SESSION_ID] = { "Assigned Session ID", 1, 1 },
	[L2TP_AVP_CALL_SERIAL] = { "Call Serial Number", 1, 0 },
	[L2TP_AVP_MIN_BPS] = { "Minimum BPS", 1, 1 },
	[L2TP_AVP_MAX_BPS] = { "Maximum BPS", 1, 1 },
	[L2TP_AVP_BEARER_TYPE] = { "Bearer Type", 1, 1 },
	[L2TP_AVP_FRAMING_TYPE] = { "Framing Type", 1, 1 },
	[L2TP_AVP_CALLED_NUMBER] = { "Called Number", 1, 1 },
	[L2TP_AVP_CALLING_NUMBER] = { "Calling Number", 1, 1 },
	[L2TP_AVP_SUB_ADDRESS] = { "Sub-Address", 1, 1 },
	[L2TP_AVP_TX_CONNECT_SPEED] = { "(Tx) Connect Speed", 1, 1 },
	[L2TP_AVP_PHYS_CHANNEL_ID] = { "Physical Channel ID", 0, 1 },
	[L2TP_AVP_INITIAL_RCVD_LCP] = { "Initial Received LCP CONFREQ", 0, 1 },
	[L2TP_AVP_LAST_SENT_LCP] = { "Last Sent LCP CONFREQ", 0, 1 },
	[L2TP_AVP_LAST_RCVD_LCP] = { "Last Received LCP CONFREQ", 0, 1 },
	[L2TP_AVP_PROXY_AUTH_TYPE] = { "Proxy Authen Type", 0, 1 },
	[L2TP_AVP_PROXY_AUTH_NAME] = { "Proxy Authen Name", 0, 1 },
	[L2TP_AVP_PROXY_AUTH_CHALLENGE] = { "Proxy Authen Challenge", 0, 1 },
	[L2TP_AVP_PROXY_AUTH_ID] = { "Proxy Authen ID", 0, 1 },
	[L2TP_AVP_PROXY_AUTH_RESPONSE] = { "Proxy Authen Response", 0, 1 },
	[L2TP_AVP_CALL_ERRORS] = { "Call Errors", 1, 1 },
	[L2TP_AVP_ACCM] = { "ACCM", 1, 1 },
	[L2TP_AVP_RANDOM_VECTOR] = { "Random Vector", 1, 0 },
	[L2TP_AVP_PRIVATE_GROUP_ID] = { "Private Group ID", 0, 1 },
	[L2TP_AVP_RX_CONNECT_SPEED] = { "Rx Connect Speed", 0, 1 },
	[L2TP_AVP_SEQUENCING_REQUIRED] = { "Sequencing Required", 1, 0 },
};

static const char *const msg_names[L2TP_MSG_TYPE_MAX + 1] = {
	[L2TP_MSG_ZLB] = "ZLB",       [L2TP_MSG_SCCRQ] = "SCCRQ",   [L2TP_MSG_SCCRP] = "SCCRP",
	[L2TP_MSG_SCCCN] = "SCCCN",   [L2TP_MSG_STOPCCN] = "StopCCN", [L2TP_MSG_HELLO] = "HELLO",
	[L2TP_MSG_OCRQ] = "OCRQ",     [L2TP_MSG_OCRP] = "OCRP",     [L2TP_MSG_OCCN] = "OCCN",
	[L2TP_MSG_ICRQ] = "ICRQ",     [L2TP_MSG_ICRP] = "ICRP",     [L2TP_MSG_ICCN] = "ICCN",
	[L2TP_MSG_CDN] = "CDN",       [L2TP_MSG_WEN] = "WEN",       [L2TP_MSG_SLI] = "SLI",
};

/* Mandatory AVPs per message type (RFC 2661 section 6). */
#define B(t) L2TP_AVP_BIT(L2TP_AVP_##t)
static const uint64_t mandatory[L2TP_MSG_TYPE_MAX + 1] = {
	[L2TP_MSG_SCCRQ] = B(PROTOCOL_VERSION) | B(HOST_NAME) | B(FRAMING_CAP) | B(ASSIGNED_TUNNEL_ID),
	[L2TP_MSG_SCCRP] = B(PROTOCOL_VERSION) | B(FRAMING_CAP) | B(HOST_NAME) | B(ASSIGNED_TUNNEL_ID),
	[L2TP_MSG_STOPCCN] = B(ASSIGNED_TUNNEL_ID) | B(RESULT_CODE),
	[L2TP_MSG_OCRQ] = B(ASSIGNED_SESSION_ID) | B(CALL_SERIAL) | B(MIN_BPS) | B(MAX_BPS) |
	                  B(BEARER_TYPE) | B(FRAMING_TYPE) | B(CALLED_NUMBER),
	[L2TP_MSG_OCRP] = B(ASSIGNED_SESSION_ID),
	[L2TP_MSG_OCCN] = B(TX_CONNECT_SPEED) | B(FRAMING_TYPE),
	[L2TP_MSG_ICRQ] = B(ASSIGNED_SESSION_ID) | B(CALL_SERIAL),
	[L2TP_MSG_ICRP] = B(ASSIGNED_SESSION_ID),
	[L2TP_MSG_ICCN] = B(TX_CONNECT_SPEED) | B(FRAMING_TYPE),
	[L2TP_MSG_CDN] = B(RESULT_CODE) | B(ASSIGNED_SESSION_ID),
	[L2TP_MSG_WEN] = B(CALL_ERRORS),
	[L2TP_MSG_SLI] = B(ACCM),
};
#undef B

const char *l2tp_msg_name(uint16_t type)
{
	if (type <= L2TP_MSG_TYPE_MAX && msg_names[type])
		return msg_names[type];
	return "unknown";
}

const char *l2tp_avp_name(uint16_t type)
{
	if (type <= L2TP_AVP_IETF_MAX && avp_defs[type].name)
		return avp_defs[type].name;
	return "unknown";
}

void l2tp_bytes_set(struct l2tp_bytes *b, const void *p, size_t len)
{
	b->p = p;
	b->len = (uint16_t)(len > 0xffff ? 0xffff : len);
}

void l2tp_bytes_str(struct l2tp_bytes *b, const char *s)
{
	l2tp_bytes_set(b, s, s ? strlen(s) : 0);
}

int l2tp_bytes_to_str(const struct l2tp_bytes *b, char *dst, size_t n)
{
	size_t len = b->len;

	if (n == 0)
		return -ENAMETOOLONG;
	if (len && memchr(b->p, 0, len)) {
		dst[0] = 0;
		return -EINVAL;
	}
	if (len >= n) {
		memcpy(dst, b->p, n - 1);
		dst[n - 1] = 0;
		return -ENAMETOOLONG;
	}
	if (len)
		memcpy(dst, b->p, len);
	dst[len] = 0;
	return 0;
}

int l2tp_msg_check(const struct l2tp_msg *m, int *missing)
{
	uint64_t need;

	*missing = -1;
	if (m->type > L2TP_MSG_TYPE_MAX)
		return 0;
	need = mandatory[m->type];
	for (int t = 0; t <= L2TP_AVP_IETF_MAX; t++) {
		if ((need & L2TP_AVP_BIT(t)) && !(m->avps & L2TP_AVP_BIT(t))) {
			*missing = t;
			return -EBADMSG;
		}
	}
	return 0;
}

/* ---- decode ---------------------------------------------------------------------------- */

static int get_u32_exact(const uint8_t *v, size_t n, uint32_t *out)
{
	struct rbuf r;
	if (n != 4)
		return -EBADMSG;
	rbuf_init(&r, v, n);
	return rbuf_get_u32(&r, out) < 0 ? -EBADMSG : 0;
}

static int get_u16_exact(const uint8_t *v, size_t n, uint16_t *out)
{
	struct rbuf r;
	if (n != 2)
		return -EBADMSG;
	rbuf_init(&r, v, n);
	return rbuf_get_u16(&r, out) < 0 ? -EBADMSG : 0;
}

/* Parses IETF attribute t (one with an avp_defs entry).  0 or -EBADMSG. */
static int ietf_parse(struct l2tp_msg *m, uint16_t t, const uint8_t *v, size_t n)
{
	struct rbuf r;
	struct l2tp_bytes bytes = { v, (uint16_t)n };
	uint16_t u16;

	rbuf_init(&r, v, n);
	switch (t) {
	case L2TP_AVP_RESULT_CODE:
		/* Result Code (2) [Error Code (2) [Error Message]] (RFC 2661 4.4.2) */
		if (n < 2 || n == 3)
			return -EBADMSG;
		rbuf_get_u16(&r, &m->result.result);
		m->result.has_error = 0;
		m->result.error = 0;
		m->result.msg = (struct l2tp_bytes){ 0 };
		if (n >= 4) {
			rbuf_get_u16(&r, &m->result.error);
			m->result.has_error = 1;
			m->result.msg = (struct l2tp_bytes){ r.p, (uint16_t)rbuf_left(&r) };
		}
		return 0;
	case L2TP_AVP_PROTOCOL_VERSION:
		if (n != 2)
			return -EBADMSG;
		m->proto_ver = v[0];
		m->proto_rev = v[1];
		return 0;
	case L2TP_AVP_FRAMING_CAP:
		return get_u32_exact(v, n, &m->framing_cap);
	case L2TP_AVP_BEARER_CAP:
		return get_u32_exact(v, n, &m->bearer_cap);
	case L2TP_AVP_TIE_BREAKER:
		if (n != 8)
			return -EBADMSG;
		memcpy(m->tie_breaker, v, 8);
		return 0;
	case L2TP_AVP_FIRMWARE_REV:
		return get_u16_exact(v, n, &m->firmware_rev);
	case L2TP_AVP_HOST_NAME:
		if (n < 1) /* RFC 2661 4.4.3: at least one octet */
			return -EBADMSG;
		m->host_name = bytes;
		return 0;
	case L2TP_AVP_VENDOR_NAME:
		m->vendor_name = bytes;
		return 0;
	case L2TP_AVP_ASSIGNED_TUNNEL_ID:
		if (get_u16_exact(v, n, &u16) < 0 || u16 == 0) /* non-zero (4.4.3) */
			return -EBADMSG;
		m->assigned_tunnel_id = u16;
		return 0;
	case L2TP_AVP_RECV_WINDOW_SIZE:
		if (get_u16_exact(v, n, &u16) < 0 || u16 == 0)
			return -EBADMSG;
		m->recv_window = u16;
		return 0;
	case L2TP_AVP_CHALLENGE:
		if (n < 1)
			return -EBADMSG;
		m->challenge = bytes;
		return 0;
	case L2TP_AVP_Q931_CAUSE:
		if (n < 3)
			return -EBADMSG;
		rbuf_get_u16(&r, &m->q931.cause);
		rbuf_get_u8(&r, &m->q931.msg);
		m->q931.advisory = (struct l2tp_bytes){ r.p, (uint16_t)rbuf_left(&r) };
		return 0;
	case L2TP_AVP_CHALLENGE_RESPONSE:
		if (n != 16)
			return -EBADMSG;
		memcpy(m->challenge_response, v, 16);
		return 0;
	case L2TP_AVP_ASSIGNED_SESSION_ID:
		if (get_u16_exact(v, n, &u16) < 0 || u16 == 0)
			return -EBADMSG;
		m->assigned_session_id = u16;
		return 0;
	case L2TP_AVP_CALL_SERIAL:
		return get_u32_exact(v, n, &m->call_serial);
	case L2TP_AVP_MIN_BPS:
		return get_u32_exact(v, n, &m->min_bps);
	case L2TP_AVP_MAX_BPS:
		return get_u32_exact(v, n, &m->max_bps);
	case L2TP_AVP_BEARER_TYPE:
		return get_u32_exact(v, n, &m->bearer_type);
	case L2TP_AVP_FRAMING_TYPE:
		return get_u32_exact(v, n, &m->framing_type);
	case L2TP_AVP_CALLED_NUMBER:
		m->called_number = bytes;
		return 0;
	case L2TP_AVP_CALLING_NUMBER:
		m->calling_number = bytes;
		return 0;
	case L2TP_AVP_SUB_ADDRESS:
		m->sub_address = bytes;
		return 0;
	case L2TP_AVP_TX_CONNECT_SPEED:
		return get_u32_exact(v, n, &m->tx_connect_speed);
	case L2TP_AVP_PHYS_CHANNEL_ID:
		return get_u32_exact(v, n, &m->phys_channel_id);
	case L2TP_AVP_INITIAL_RCVD_LCP:
		m->initial_rcvd_lcp = bytes;
		return 0;
	case L2TP_AVP_LAST_SENT_LCP:
		m->last_sent_lcp = bytes;
		return 0;
	case L2TP_AVP_LAST_RCVD_LCP:
		m->last_rcvd_lcp = bytes;
		return 0;
	case L2TP_AVP_PROXY_AUTH_TYPE:
		return get_u16_exact(v, n, &m->proxy_auth_type);
	case L2TP_AVP_PROXY_AUTH_NAME:
		m->proxy_auth_name = bytes;
		return 0;
	case L2TP_AVP_PROXY_AUTH_CHALLENGE:
		m->proxy_auth_challenge = bytes;
		return 0;
	case L2TP_AVP_PROXY_AUTH_ID:
		/* reserved octet + ID octet (RFC 2661 4.4.5) */
		if (n != 2)
			return -EBADMSG;
		m->proxy_auth_id = v[1];
		return 0;
	case L2TP_AVP_PROXY_AUTH_RESPONSE:
		m->proxy_auth_response = bytes;
		return 0;
	case L2TP_AVP_CALL_ERRORS:
		/* reserved (2) + six 32-bit counters (RFC 2661 4.4.6) */
		if (n != 26)
			return -EBADMSG;
		rbuf_skip(&r, 2);
		rbuf_get_u32(&r, &m->call_errors.crc);
		rbuf_get_u32(&r, &m->call_errors.framing);
		rbuf_get_u32(&r, &m->call_errors.hw_overruns);
		rbuf_get_u32(&r, &m->call_errors.buf_overruns);
		rbuf_get_u32(&r, &m->call_errors.timeouts);
		rbuf_get_u32(&r, &m->call_errors.alignment);
		return 0;
	case L2TP_AVP_ACCM:
		/* reserved (2) + Send ACCM (4) + Receive ACCM (4) (RFC 2661 4.4.6) */
		if (n != 10)
			return -EBADMSG;
		rbuf_skip(&r, 2);
		rbuf_get_u32(&r, &m->accm_send);
		rbuf_get_u32(&r, &m->accm_recv);
		return 0;
	case L2TP_AVP_RANDOM_VECTOR:
		if (n < 1)
			return -EBADMSG;
		m->random_vector = bytes;
		return 0;
	case L2TP_AVP_PRIVATE_GROUP_ID:
		m->private_group_id = bytes;
		return 0;
	case L2TP_AVP_RX_CONNECT_SPEED:
		return get_u32_exact(v, n, &m->rx_connect_speed);
	case L2TP_AVP_SEQUENCING_REQUIRED:
		return n == 0 ? 0 : -EBADMSG;
	default:
		return -EBADMSG; /* not reached: the caller checks avp_defs */
	}
}

static void add_unknown(struct l2tp_msg *m, uint16_t vendor, uint16_t type, int mbit, int hbit,
                        uint16_t reserved, const uint8_t *v, size_t n)
{
	if (mbit && m->unknown_mandatory < 0)
		m->unknown_mandatory = (int16_t)(m->n_unknown < L2TP_MAX_UNKNOWN ? m->n_unknown
		                                                               : L2TP_MAX_UNKNOWN);
	if (m->n_unknown < L2TP_MAX_UNKNOWN) {
		m->unknown[m->n_unknown++] = (struct l2tp_avp_raw){
			.vendor = vendor, .type = type, .mandatory = (uint8_t)mbit,
			.hidden = (uint8_t)hbit, .reserved = reserved & L2TP_AVP_RESERVED,
			.val = { v, (uint16_t)n },
		};
	}
	if (m->n_unknown_total < UINT16_MAX)
		m->n_unknown_total++;
}

int l2tp_msg_decode(const void *pkt, size_t len, const struct l2tp_codec_opts *opts,
                    struct l2tp_msg *m)
{
	static const struct l2tp_codec_opts none;
	struct l2tp_hdr h;
	struct rbuf r;
	const uint8_t *rv = NULL;
	size_t rv_len = 0;
	int first = 1, rc;

	if (!opts)
		opts = &none;
	memset(m, 0, offsetof(struct l2tp_msg, scratch));
	m->unknown_mandatory = -1;
	m->bad_attr = -1;
	m->scratch_used = 0;
	if ((rc = l2tp_hdr_decode(pkt, len, &h)) < 0)
		return rc;
	if (!(h.flags & L2TP_HDR_T))
		return -EBADMSG;
	m->tunnel_id = h.tunnel_id;
	m->session_id = h.session_id;
	m->ns = h.ns;
	m->nr = h.nr;
	m->type = L2TP_MSG_ZLB;
	rbuf_init(&r, (const uint8_t *)pkt + h.hdr_len, h.msg_len - h.hdr_len);

	while (rbuf_left(&r) > 0) {
		uint16_t fl, vendor, type, alen;
		const uint8_t *v;
		size_t n;
		int mbit, hbit;

		if (rbuf_get_u16(&r, &fl) < 0 || rbuf_get_u16(&r, &vendor) < 0 ||
		    rbuf_get_u16(&r, &type) < 0)
			return -EBADMSG;
		alen = fl & L2TP_AVP_LEN_MASK;
		m->bad_attr = type;
		if (alen < L2TP_AVP_HDR_LEN || rbuf_get_ptr(&r, alen - L2TP_AVP_HDR_LEN, &v) < 0)
			return -EBADMSG;
		n = alen - L2TP_AVP_HDR_LEN;
		mbit = !!(fl & L2TP_AVP_M);
		hbit = !!(fl & L2TP_AVP_H);

		if (first) {
			/* RFC 2661 4.4.1: the Message Type AVP comes first and is never hidden. */
			uint16_t mt;
			if (vendor != 0 || type != L2TP_AVP_MESSAGE_TYPE || hbit ||
			    get_u16_exact(v, n, &mt) < 0 || mt == 0)
				return -EBADMSG;
			m->type = mt;
			m->type_mandatory = (uint8_t)mbit;
			m->avps |= L2TP_AVP_BIT(L2TP_AVP_MESSAGE_TYPE);
			first = 0;
			continue;
		}
		int ietf = vendor == 0 && type <= L2TP_AVP_IETF_MAX && avp_defs[type].name;
		int ours = vendor != 0 && vendor == opts->ho_vendor && type >= 1 &&
		           type <= L2TP_HO_AVP_MAX;
		if (vendor == 0 && type == L2TP_AVP_MESSAGE_TYPE)
			return -EBADMSG; /* a second Message Type */
		if ((fl & L2TP_AVP_RESERVED) || (!ietf && !ours)) {
			/* Unrecognised, or reserved bits set (a format we do not know, RFC 2661
			 * 4.1): reported with its M bit, value left as it is (even if hidden). */
			add_unknown(m, vendor, type, mbit, hbit, fl & L2TP_AVP_RESERVED, v, n);
			continue;
		}
		if (hbit) {
			/* RFC 2661 4.3: Original Length (2) + value + padding, hidden under the secret
			 * and the most recent Random Vector. */
			uint8_t *plain;
			size_t orig;
			if (!opts->secret || !rv)
				return -ENOKEY;
			if (n < 2)
				return -EBADMSG;
			if (n > sizeof(m->scratch) - m->scratch_used)
				return -EMSGSIZE;
			plain = m->scratch + m->scratch_used;
			if ((rc = l2tp_hidden_decrypt(type, opts->secret, opts->secret_len, rv, rv_len, v,
			                              plain, n)) < 0)
				return rc;
			m->scratch_used += n;
			orig = ((size_t)plain[0] << 8) | plain[1];
			if (orig > n - 2)
				return -EBADMSG; /* wrong secret, or corrupted */
			v = plain + 2;
			n = orig;
		}
		if (ietf) {
			if ((rc = ietf_parse(m, type, v, n)) < 0)
				return rc;
			m->avps |= L2TP_AVP_BIT(type);
			if (type == L2TP_AVP_RANDOM_VECTOR) {
				rv = v;
				rv_len = n;
			}
		} else if ((rc = l2tp_ho_parse(m, type, v, n)) < 0) {
			return rc;
		}
	}
	m->bad_attr = -1;
	return 0;
}

/* ---- encode ---------------------------------------------------------------------------- */

/* Writes the value of IETF attribute t from m into v. */
static void ietf_write(const struct l2tp_msg *m, int t, struct wbuf *v)
{
	switch (t) {
	case L2TP_AVP_RESULT_CODE:
		wbuf_put_u16(v, m->result.result);
		if (m->result.has_error || m->result.msg.len) {
			wbuf_put_u16(v, m->result.error);
			wbuf_put_bytes(v, m->result.msg.p, m->result.msg.len);
		}
		break;
	case L2TP_AVP_PROTOCOL_VERSION:
		wbuf_put_u8(v, m->proto_ver);
		wbuf_put_u8(v, m->proto_rev);
		break;
	case L2TP_AVP_FRAMING_CAP: wbuf_put_u32(v, m->framing_cap); break;
	case L2TP_AVP_BEARER_CAP: wbuf_put_u32(v, m->bearer_cap); break;
	case L2TP_AVP_TIE_BREAKER: wbuf_put_bytes(v, m->tie_breaker, 8); break;
	case L2TP_AVP_FIRMWARE_REV: wbuf_put_u16(v, m->firmware_rev); break;
	case L2TP_AVP_HOST_NAME: wbuf_put_bytes(v, m->host_name.p, m->host_name.len); break;
	case L2TP_AVP_VENDOR_NAME: wbuf_put_bytes(v, m->vendor_name.p, m->vendor_name.len); break;
	case L2TP_AVP_ASSIGNED_TUNNEL_ID: wbuf_put_u16(v, m->assigned_tunnel_id); break;
	case L2TP_AVP_RECV_WINDOW_SIZE: wbuf_put_u16(v, m->recv_window); break;
	case L2TP_AVP_CHALLENGE: wbuf_put_bytes(v, m->challenge.p, m->challenge.len); break;
	case L2TP_AVP_Q931_CAUSE:
		wbuf_put_u16(v, m->q931.cause);
		wbuf_put_u8(v, m->q931.msg);
		wbuf_put_bytes(v, m->q931.advisory.p, m->q931.advisory.len);
		break;
	case L2TP_AVP_CHALLENGE_RESPONSE: wbuf_put_bytes(v, m->challenge_response, 16); break;
	case L2TP_AVP_ASSIGNED_SESSION_ID: wbuf_put_u16(v, m->assigned_session_id); break;
	case L2TP_AVP_CALL_SERIAL: wbuf_put_u32(v, m->call_serial); break;
	case L2TP_AVP_MIN_BPS: wbuf_put_u32(v, m->min_bps); break;
	case L2TP_AVP_MAX_BPS: wbuf_put_u32(v, m->max_bps); break;
	case L2TP_AVP_BEARER_TYPE: wbuf_put_u32(v, m->bearer_type); break;
	case L2TP_AVP_FRAMING_TYPE: wbuf_put_u32(v, m->framing_type); break;
	case L2TP_AVP_CALLED_NUMBER:
		wbuf_put_bytes(v, m->called_number.p, m->called_number.len);
		break;
	case L2TP_AVP_CALLING_NUMBER:
		wbuf_put_bytes(v, m->calling_number.p, m->calling_number.len);
		break;
	case L2TP_AVP_SUB_ADDRESS: wbuf_put_bytes(v, m->sub_address.p, m->sub_address.len); break;
	case L2TP_AVP_TX_CONNECT_SPEED: wbuf_put_u32(v, m->tx_connect_speed); break;
	case L2TP_AVP_PHYS_CHANNEL_ID: wbuf_put_u32(v, m->phys_channel_id); break;
	case L2TP_AVP_INITIAL_RCVD_LCP:
		wbuf_put_bytes(v, m->initial_rcvd_lcp.p, m->initial_rcvd_lcp.len);
		break;
	case L2TP_AVP_LAST_SENT_LCP:
		wbuf_put_bytes(v, m->last_sent_lcp.p, m->last_sent_lcp.len);
		break;
	case L2TP_AVP_LAST_RCVD_LCP:
		wbuf_put_bytes(v, m->last_rcvd_lcp.p, m->last_rcvd_lcp.len);
		break;
	case L2TP_AVP_PROXY_AUTH_TYPE: wbuf_put_u16(v, m->proxy_auth_type); break;
	case L2TP_AVP_PROXY_AUTH_NAME:
		wbuf_put_bytes(v, m->proxy_auth_name.p, m->proxy_auth_name.len);
		break;
	case L2TP_AVP_PROXY_AUTH_CHALLENGE:
		wbuf_put_bytes(v, m->proxy_auth_challenge.p, m->proxy_auth_challenge.len);
		break;
	case L2TP_AVP_PROXY_AUTH_ID:
		wbuf_put_u8(v, 0);
		wbuf_put_u8(v, m->proxy_auth_id);
		break;
	case L2TP_AVP_PROXY_AUTH_RESPONSE:
		wbuf_put_bytes(v, m->proxy_auth_response.p, m->proxy_auth_response.len);
		break;
	case L2TP_AVP_CALL_ERRORS:
		wbuf_put_u16(v, 0);
		wbuf_put_u32(v, m->call_errors.crc);
		wbuf_put_u32(v, m->call_errors.framing);
		wbuf_put_u32(v, m->call_errors.hw_overruns);
		wbuf_put_u32(v, m->call_errors.buf_overruns);
		wbuf_put_u32(v, m->call_errors.timeouts);
		wbuf_put_u32(v, m->call_errors.alignment);
		break;
	case L2TP_AVP_ACCM:
		wbuf_put_u16(v, 0);
		wbuf_put_u32(v, m->accm_send);
		wbuf_put_u32(v, m->accm_recv);
		break;
	case L2TP_AVP_RANDOM_VECTOR:
		wbuf_put_bytes(v, m->random_vector.p, m->random_vector.len);
		break;
	case L2TP_AVP_PRIVATE_GROUP_ID:
		wbuf_put_bytes(v, m->private_group_id.p, m->private_group_id.len);
		break;
	case L2TP_AVP_RX_CONNECT_SPEED: wbuf_put_u32(v, m->rx_connect_speed); break;
	case L2TP_AVP_SEQUENCING_REQUIRED: break;
	default: break;
	}
}

/* Writes one AVP; hides the value when hide is set (opts->secret and rv checked by caller). */
static int put_avp(struct wbuf *w, uint16_t vendor, uint16_t type, int mbit, int hide,
                   const uint8_t *val, size_t n, const struct l2tp_codec_opts *opts)
{
	uint16_t fl = mbit ? L2TP_AVP_M : 0;

	if (!hide) {
		if (n > VAL_MAX)
			return -EINVAL;
		wbuf_put_u16(w, (uint16_t)(fl | (L2TP_AVP_HDR_LEN + n)));
		wbuf_put_u16(w, vendor);
		wbuf_put_u16(w, type);
		wbuf_put_bytes(w, val, n);
		return w->err;
	}
	/* Hidden: Original Length + value, no padding (docs/protocols/l2tp.md). */
	uint8_t plain[VAL_MAX], ct[VAL_MAX];
	int rc;
	if (n + 2 > VAL_MAX)
		return -EINVAL;
	plain[0] = (uint8_t)(n >> 8);
	plain[1] = (uint8_t)n;
	if (n)
		memcpy(plain + 2, val, n);
	if ((rc = l2tp_hidden_encrypt(type, opts->secret, opts->secret_len, opts->rv, opts->rv_len,
	                              plain, ct, n + 2)) < 0)
		return rc;
	wbuf_put_u16(w, (uint16_t)(fl | L2TP_AVP_H | (L2TP_AVP_HDR_LEN + n + 2)));
	wbuf_put_u16(w, vendor);
	wbuf_put_u16(w, type);
	wbuf_put_bytes(w, ct, n + 2);
	return w->err;
}

int l2tp_msg_encode(struct wbuf *w, const struct l2tp_msg *m, const struct l2tp_codec_opts *opts)
{
	static const struct l2tp_codec_opts none;
	uint8_t vbuf[VAL_MAX + 1];
	struct wbuf v;
	size_t start = w->len, len_off;
	int rc, hiding;

	if (!opts)
		opts = &none;
	hiding = opts->hide != 0;
	if (hiding && (!opts->secret || !opts->rv || opts->rv_len == 0 || opts->rv_len > 64))
		return -EINVAL;
	wbuf_put_u16(w, L2TP_HDR_T | L2TP_HDR_L | L2TP_HDR_S | L2TP_VERSION);
	len_off = wbuf_reserve(w, 2);
	wbuf_put_u16(w, m->tunnel_id);
	wbuf_put_u16(w, m->session_id);
	wbuf_put_u16(w, m->ns);
	wbuf_put_u16(w, m->nr);
	if (w->err)
		return w->err;
	if (m->type != L2TP_MSG_ZLB) {
		uint8_t mt[2] = { (uint8_t)(m->type >> 8), (uint8_t)m->type };
		if ((rc = put_avp(w, 0, L2TP_AVP_MESSAGE_TYPE, 1, 0, mt, 2, opts)) < 0)
			return rc;
		if (hiding && (rc = put_avp(w, 0, L2TP_AVP_RANDOM_VECTOR, 1, 0, opts->rv,
		                            opts->rv_len, opts)) < 0)
			return rc;
		for (int t = 1; t <= L2TP_AVP_IETF_MAX; t++) {
			if (!(m->avps & L2TP_AVP_BIT(t)) || !avp_defs[t].name)
				continue;
			if (hiding && t == L2TP_AVP_RANDOM_VECTOR)
				continue; /* written above */
			wbuf_init_fixed(&v, vbuf, sizeof(vbuf));
			ietf_write(m, t, &v);
			if (v.err)
				return -EINVAL;
			int hide = hiding && avp_defs[t].hideable && (opts->hide & L2TP_AVP_BIT(t));
			if ((rc = put_avp(w, 0, (uint16_t)t, avp_defs[t].mbit, hide, vbuf, v.len,
			                  opts)) < 0)
				return rc;
		}
		if (m->ho_avps) {
			if (!opts->ho_vendor)
				return -EINVAL;
			for (int t = 1; t <= L2TP_HO_AVP_MAX; t++) {
				if (!(m->ho_avps & L2TP_HO_BIT(t)))
					continue;
				wbuf_init_fixed(&v, vbuf, sizeof(vbuf));
				if ((rc = l2tp_ho_write(m, (uint16_t)t, &v)) < 0)
					return rc;
				/* M bit clear: an RFC 2661 peer ignores the extension (4.2) */
				if ((rc = put_avp(w, opts->ho_vendor, (uint16_t)t, 0, 0, vbuf, v.len,
				                  opts)) < 0)
					return rc;
			}
		}
		for (unsigned i = 0; i < m->n_unknown && i < L2TP_MAX_UNKNOWN; i++) {
			const struct l2tp_avp_raw *a = &m->unknown[i];
			if (a->val.len > VAL_MAX)
				return -EINVAL;
			wbuf_put_u16(w, (uint16_t)((a->mandatory ? L2TP_AVP_M : 0) |
			                           (a->hidden ? L2TP_AVP_H : 0) |
			                           (a->reserved & L2TP_AVP_RESERVED) |
			                           (L2TP_AVP_HDR_LEN + a->val.len)));
			wbuf_put_u16(w, a->vendor);
			wbuf_put_u16(w, a->type);
			wbuf_put_bytes(w, a->val.p, a->val.len);
		}
	}
	if (w->err)
		return w->err;
	if (w->len - start > 0xffff)
		return -EINVAL;
	wbuf_patch_u16(w, len_off, (uint16_t)(w->len - start));
	return w->err;
}
