/* roam's L2TP handoff extension (docs/protocols/l2tp-handoff.md): vendor-specific AVPs with
 * the M bit clear on standard messages (the seed's HANDOFF cause code, TUNNEL_HANDOFF_REQUEST
 * and TUNNEL_HANDOFF_RESPONSE, figures 5 and 6), and the USER_MOVED multicast message. */
#include <errno.h>
#include <string.h>

#include "roam/l2tp.h"
#include "l2tp_int.h"

int l2tp_min_valid(const char *min)
{
	size_t n;

	if (!min)
		return -EINVAL;
	n = strnlen(min, L2TP_MIN_MAX + 1);
	if (n < 1 || n > L2TP_MIN_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (min[i] < '0' || min[i] > '9')
			return -EINVAL;
	return 0;
}

/* Reads the rest of r as a MIN into dst. */
static int get_min(struct rbuf *r, size_t n, char dst[L2TP_MIN_MAX + 1])
{
	if (n < 1 || n > L2TP_MIN_MAX || rbuf_get_bytes(r, dst, n) < 0)
		return -EBADMSG;
	dst[n] = 0;
	/* every byte must be a digit: a NUL inside would hide the rest from the check */
	return strlen(dst) != n || l2tp_min_valid(dst) < 0 ? -EBADMSG : 0;
}

void l2tp_call_state_put(struct wbuf *w, const struct l2tp_call_state *s)
{
	wbuf_put_u16(w, s->data_ns);
	wbuf_put_u16(w, s->data_nr);
	wbuf_put_u8(w, s->ppp_phase);
	wbuf_put_u8(w, s->ppp_flags);
	wbuf_put_u16(w, s->mru);
	wbuf_put_u32(w, s->accm_send);
	wbuf_put_u32(w, s->accm_recv);
	wbuf_put_u16(w, s->auth_proto);
	wbuf_put_u16(w, 0); /* reserved */
	wbuf_put_u32(w, s->mobile_addr);
}

int l2tp_call_state_get(struct rbuf *r, struct l2tp_call_state *s)
{
	uint16_t reserved;

	if (rbuf_get_u16(r, &s->data_ns) < 0 || rbuf_get_u16(r, &s->data_nr) < 0 ||
	    rbuf_get_u8(r, &s->ppp_phase) < 0 || rbuf_get_u8(r, &s->ppp_flags) < 0 ||
	    rbuf_get_u16(r, &s->mru) < 0 || rbuf_get_u32(r, &s->accm_send) < 0 ||
	    rbuf_get_u32(r, &s->accm_recv) < 0 || rbuf_get_u16(r, &s->auth_proto) < 0 ||
	    rbuf_get_u16(r, &reserved) < 0 || rbuf_get_u32(r, &s->mobile_addr) < 0)
		return -EBADMSG;
	if (s->ppp_phase > 4)
		return -EBADMSG;
	return 0;
}

int l2tp_ho_parse(struct l2tp_msg *m, uint16_t type, const uint8_t *v, size_t n)
{
	struct rbuf r;
	uint16_t reserved;

	rbuf_init(&r, v, n);
	switch (type) {
	case L2TP_HO_AVP_CAUSE:
		/* Cause (2), Reserved (2), MIN (1..15) */
		if (n < 5 || rbuf_get_u16(&r, &m->ho_cause.cause) < 0 ||
		    rbuf_get_u16(&r, &reserved) < 0 || get_min(&r, n - 4, m->ho_cause.min) < 0)
			return -EBADMSG;
		break;
	case L2TP_HO_AVP_REQUEST:
		/* Reserved (2), Old Tunnel ID (2), Old Session ID (2), MIN (1..15) */
		if (n < 7 || rbuf_get_u16(&r, &reserved) < 0 ||
		    rbuf_get_u16(&r, &m->ho_request.old_tunnel_id) < 0 ||
		    rbuf_get_u16(&r, &m->ho_request.old_session_id) < 0 ||
		    get_min(&r, n - 6, m->ho_request.min) < 0)
			return -EBADMSG;
		break;
	case L2TP_HO_AVP_ACCEPTED:
		/* Reserved (2), Old Tunnel ID (2), Old Session ID (2) */
		if (n != 6 || rbuf_get_u16(&r, &reserved) < 0 ||
		    rbuf_get_u16(&r, &m->ho_accepted.old_tunnel_id) < 0 ||
		    rbuf_get_u16(&r, &m->ho_accepted.old_session_id) < 0)
			return -EBADMSG;
		break;
	case L2TP_HO_AVP_REFUSED:
		/* Reason (2), Reserved (2) */
		if (n != 4 || rbuf_get_u16(&r, &m->ho_refused.reason) < 0)
			return -EBADMSG;
		break;
	case L2TP_HO_AVP_CALL_STATE:
		if (n != L2TP_CALL_STATE_LEN || l2tp_call_state_get(&r, &m->ho_state) < 0)
			return -EBADMSG;
		break;
	default:
		return 1;
	}
	m->ho_avps |= L2TP_HO_BIT(type);
	return 0;
}

int l2tp_ho_write(const struct l2tp_msg *m, uint16_t type, struct wbuf *w)
{
	switch (type) {
	case L2TP_HO_AVP_CAUSE:
		if (l2tp_min_valid(m->ho_cause.min) < 0)
			return -EINVAL;
		wbuf_put_u16(w, m->ho_cause.cause);
		wbuf_put_u16(w, 0);
		wbuf_put_bytes(w, m->ho_cause.min, strlen(m->ho_cause.min));
		break;
	case L2TP_HO_AVP_REQUEST:
		if (l2tp_min_valid(m->ho_request.min) < 0)
			return -EINVAL;
		wbuf_put_u16(w, 0);
		wbuf_put_u16(w, m->ho_request.old_tunnel_id);
		wbuf_put_u16(w, m->ho_request.old_session_id);
		wbuf_put_bytes(w, m->ho_request.min, strlen(m->ho_request.min));
		break;
	case L2TP_HO_AVP_ACCEPTED:
		wbuf_put_u16(w, 0);
		wbuf_put_u16(w, m->ho_accepted.old_tunnel_id);
		wbuf_put_u16(w, m->ho_accepted.old_session_id);
		break;
	case L2TP_HO_AVP_REFUSED:
		wbuf_put_u16(w, m->ho_refused.reason);
		wbuf_put_u16(w, 0);
		break;
	case L2TP_HO_AVP_CALL_STATE:
		if (m->ho_state.ppp_phase > 4)
			return -EINVAL;
		l2tp_call_state_put(w, &m->ho_state);
		break;
	default:
		return -EINVAL;
	}
	return w->err;
}

/* ---- USER_MOVED ------------------------------------------------------------------------- */

int l2tp_um_encode(struct wbuf *w, const struct l2tp_user_moved *um, const struct roam_key *key)
{
	uint8_t mac[AUTH_MAC_MAX];
	size_t start = w->len, minlen;
	int rc;

	if (!key || key->alg != AUTH_ALG_HMAC_SHA256 || l2tp_min_valid(um->min) < 0 ||
	    um->state.ppp_phase > 4)
		return -EINVAL;
	minlen = strlen(um->min);
	wbuf_put_u16(w, L2TP_UM_MAGIC);
	wbuf_put_u8(w, L2TP_UM_VERSION);
	wbuf_put_u8(w, L2TP_UM_TYPE_USER_MOVED);
	wbuf_put_u16(w, (uint16_t)(64 + minlen + AUTH_SHA256_LEN));
	wbuf_put_u8(w, um->key_id);
	wbuf_put_u8(w, (uint8_t)minlen);
	wbuf_put_u64(w, um->timestamp_ms);
	wbuf_put_u32(w, um->lac_addr);
	wbuf_put_u32(w, um->lns_addr);
	wbuf_put_u16(w, um->lns_port);
	wbuf_put_u16(w, um->old_tunnel_id);
	wbuf_put_u16(w, um->old_session_id);
	wbuf_put_u16(w, um->peer_tunnel_id);
	wbuf_put_u16(w, um->peer_session_id);
	wbuf_put_u16(w, um->hold_s);
	wbuf_put_u32(w, 0); /* reserved */
	l2tp_call_state_put(w, &um->state);
	wbuf_put_bytes(w, um->min, minlen);
	if (w->err)
		return w->err;
	if ((rc = auth_mac(key, w->buf + start, w->len - start, mac)) < 0)
		return rc;
	wbuf_put_bytes(w, mac, AUTH_SHA256_LEN);
	return w->err;
}

int l2tp_um_decode(const void *pkt, size_t len, const struct roam_key *key,
                   struct l2tp_user_moved *um)
{
	struct rbuf r;
	uint16_t magic, total;
	uint8_t ver, type, minlen;
	uint32_t reserved;
	const uint8_t *mac;
	int rc;

	memset(um, 0, sizeof(*um));
	if (!key || key->alg != AUTH_ALG_HMAC_SHA256)
		return -EINVAL;
	rbuf_init(&r, pkt, len);
	if (len < L2TP_UM_LEN_MIN || rbuf_get_u16(&r, &magic) < 0 || magic != L2TP_UM_MAGIC ||
	    rbuf_get_u8(&r, &ver) < 0 || ver != L2TP_UM_VERSION || rbuf_get_u8(&r, &type) < 0 ||
	    type != L2TP_UM_TYPE_USER_MOVED || rbuf_get_u16(&r, &total) < 0 || total != len ||
	    rbuf_get_u8(&r, &um->key_id) < 0 || rbuf_get_u8(&r, &minlen) < 0 ||
	    minlen < 1 || minlen > L2TP_MIN_MAX ||
	    len != (size_t)64 + minlen + AUTH_SHA256_LEN)
		return -EBADMSG;
	/* Authenticate before trusting any field further. */
	mac = (const uint8_t *)pkt + len - AUTH_SHA256_LEN;
	rc = auth_mac_verify(key, pkt, len - AUTH_SHA256_LEN, mac, AUTH_SHA256_LEN);
	if (rc == -EBADMSG)
		return -EACCES;
	if (rc < 0)
		return rc;
	if (rbuf_get_u64(&r, &um->timestamp_ms) < 0 || rbuf_get_u32(&r, &um->lac_addr) < 0 ||
	    rbuf_get_u32(&r, &um->lns_addr) < 0 || rbuf_get_u16(&r, &um->lns_port) < 0 ||
	    rbuf_get_u16(&r, &um->old_tunnel_id) < 0 || rbuf_get_u16(&r, &um->old_session_id) < 0 ||
	    rbuf_get_u16(&r, &um->peer_tunnel_id) < 0 ||
	    rbuf_get_u16(&r, &um->peer_session_id) < 0 || rbuf_get_u16(&r, &um->hold_s) < 0 ||
	    rbuf_get_u32(&r, &reserved) < 0 || l2tp_call_state_get(&r, &um->state) < 0 ||
	    get_min(&r, minlen, um->min) < 0 || rbuf_left(&r) != AUTH_SHA256_LEN)
		goto bad;
	return 0;
bad:
	memset(um, 0, sizeof(*um));
	return -EBADMSG;
}

int l2tp_um_replay_accept(struct replay_ts *r, const struct l2tp_user_moved *um,
                          uint64_t now_wall_ms)
{
	int rc = replay_ts_check(r, um->timestamp_ms, now_wall_ms);
	if (rc < 0)
		return rc;
	return replay_ts_commit(r, um->timestamp_ms, now_wall_ms);
}
