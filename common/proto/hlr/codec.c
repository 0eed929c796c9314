/* HLR protocol codec: docs/protocols/hlr.md sections 2-5. */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "roam/hlr.h"

/* Per-type attribute rules (hlr.md section 4): `always` must be present whatever the code,
 * `ok` must be present when the code is OK and absent otherwise, `nomap` likewise for
 * NO-MAPPING, `optional` may be present. */
struct hlr_rule {
	unsigned always, ok, nomap, optional;
	int request;
};

static const struct hlr_rule *hlr_rule_of(unsigned type)
{
	static const struct hlr_rule rules[] = {
		[HLR_UPDATE] = { HLR_HAS_PERM | HLR_HAS_COA, 0, 0, HLR_HAS_LIFETIME, 1 },
		[HLR_UPDATE_ACK] = { HLR_HAS_PERM, HLR_HAS_LIFETIME, 0, 0, 0 },
		[HLR_QUERY] = { HLR_HAS_PERM, 0, 0, 0, 1 },
		[HLR_QUERY_REPLY] = { HLR_HAS_PERM, HLR_HAS_COA | HLR_HAS_LIFETIME, HLR_HAS_NEG_TTL,
				      0, 0 },
	};
	if (type < HLR_UPDATE || type > HLR_QUERY_REPLY)
		return NULL;
	return &rules[type];
}

static int code_valid_for(unsigned type, unsigned code)
{
	switch (type) {
	case HLR_UPDATE:
	case HLR_QUERY:
		return code == HLR_CODE_OK;
	case HLR_UPDATE_ACK:
		return code == HLR_CODE_OK || code == HLR_CODE_NOT_AUTHORIZED ||
		       code == HLR_CODE_BAD_ADDRESS || code == HLR_CODE_NO_RESOURCES;
	case HLR_QUERY_REPLY:
		return code == HLR_CODE_OK || code == HLR_CODE_NO_MAPPING ||
		       code == HLR_CODE_BAD_ADDRESS;
	}
	return 0;
}

static int addr_family_ok(const struct roam_ipaddr *a)
{
	return a->family == AF_INET || a->family == AF_INET6;
}

int hlr_msg_check(const struct hlr_msg *m, const char **why)
{
	const char *dummy;
	if (!why)
		why = &dummy;
	const struct hlr_rule *r = hlr_rule_of(m->type);
	if (!r) {
		*why = "unknown message type";
		return -EINVAL;
	}
	if (!code_valid_for(m->type, m->code)) {
		*why = r->request ? "non-zero code in a request" : "code not valid for this type";
		return -EINVAL;
	}
	unsigned need = r->always, allowed = r->always | r->optional;
	if (m->code == HLR_CODE_OK)
		need |= r->ok;
	else if (m->code == HLR_CODE_NO_MAPPING)
		need |= r->nomap;
	allowed |= need;
	if ((m->present & need) != need) {
		*why = "missing required attribute";
		return -EINVAL;
	}
	if (m->present & ~allowed) {
		*why = "attribute not allowed in this message";
		return -EINVAL;
	}
	if (((m->present & HLR_HAS_PERM) && !addr_family_ok(&m->perm)) ||
	    ((m->present & HLR_HAS_COA) && !addr_family_ok(&m->coa))) {
		*why = "bad address family";
		return -EINVAL;
	}
	return 0;
}

static void put_addr(struct wbuf *w, uint8_t type, const struct roam_ipaddr *a)
{
	size_t n;
	const uint8_t *b = roam_ipaddr_bytes(a, &n);
	wbuf_put_u8(w, type);
	wbuf_put_u8(w, (uint8_t)(1 + n));
	wbuf_put_u8(w, a->family == AF_INET ? HLR_AF_IPV4 : HLR_AF_IPV6);
	wbuf_put_bytes(w, b, n);
}

static void put_u32_attr(struct wbuf *w, uint8_t type, uint32_t v)
{
	wbuf_put_u8(w, type);
	wbuf_put_u8(w, 4);
	wbuf_put_u32(w, v);
}

int hlr_encode(struct wbuf *w, const struct hlr_msg *m, const struct roam_key *key)
{
	if (!key || key->alg != AUTH_ALG_HMAC_SHA256)
		return -EINVAL;
	if (hlr_msg_check(m, NULL) < 0)
		return -EINVAL;
	if (w->err)
		return w->err;
	size_t start = w->len;
	wbuf_put_u8(w, HLR_VERSION);
	wbuf_put_u8(w, m->type);
	size_t len_off = wbuf_reserve(w, 2);
	wbuf_put_u8(w, m->flags);
	wbuf_put_u8(w, m->code);
	wbuf_put_u16(w, 0);
	wbuf_put_u32(w, m->txid);
	wbuf_put_u32(w, m->key_id);
	wbuf_put_u64(w, m->timestamp);
	/* Ascending attribute type order (hlr.md section 3). */
	if (m->present & HLR_HAS_PERM)
		put_addr(w, HLR_ATTR_PERMANENT_ADDRESS, &m->perm);
	if (m->present & HLR_HAS_COA)
		put_addr(w, HLR_ATTR_CARE_OF_ADDRESS, &m->coa);
	if (m->present & HLR_HAS_LIFETIME)
		put_u32_attr(w, HLR_ATTR_LIFETIME, m->lifetime);
	if (m->present & HLR_HAS_NEG_TTL)
		put_u32_attr(w, HLR_ATTR_NEGATIVE_TTL, m->neg_ttl);
	if (w->err)
		return w->err;
	size_t total = w->len - start + HLR_AUTH_LEN;
	if (total > HLR_MAX_MSG)
		return -EMSGSIZE;
	wbuf_patch_u16(w, len_off, (uint16_t)total);
	if (w->err)
		return w->err;
	uint8_t mac[AUTH_MAC_MAX];
	int r = auth_mac(key, w->buf + start, w->len - start, mac);
	if (r < 0)
		return r;
	wbuf_put_bytes(w, mac, HLR_AUTH_LEN);
	return w->err;
}

static int get_addr(struct rbuf *v, struct roam_ipaddr *a, const char **why)
{
	uint8_t fam;
	uint8_t bytes[16];
	if (rbuf_get_u8(v, &fam) < 0) {
		*why = "empty address attribute";
		return -EBADMSG;
	}
	size_t n = rbuf_left(v);
	int family;
	if (fam == HLR_AF_IPV4 && n == 4)
		family = AF_INET;
	else if (fam == HLR_AF_IPV6 && n == 16)
		family = AF_INET6;
	else {
		*why = (fam == HLR_AF_IPV4 || fam == HLR_AF_IPV6) ? "address length mismatch"
								   : "unknown address family";
		return -EBADMSG;
	}
	if (rbuf_get_bytes(v, bytes, n) < 0) {
		*why = "short address";
		return -EBADMSG;
	}
	memset(a, 0, sizeof(*a));
	roam_ipaddr_from_bytes(a, family, bytes);
	return 0;
}

static int get_u32_value(struct rbuf *v, uint32_t *out, const char **why)
{
	if (rbuf_left(v) != 4 || rbuf_get_u32(v, out) < 0) {
		*why = "bad integer attribute length";
		return -EBADMSG;
	}
	return 0;
}

int hlr_decode(const void *buf, size_t len, struct hlr_msg *m, const char **why)
{
	const char *dummy;
	if (!why)
		why = &dummy;
	memset(m, 0, sizeof(*m));
	if (len < HLR_MIN_MSG) {
		*why = "too short";
		return -EBADMSG;
	}
	if (len > HLR_MAX_MSG) {
		*why = "too long";
		return -EBADMSG;
	}
	struct rbuf r;
	rbuf_init(&r, buf, len);
	uint8_t version, type;
	uint16_t length, reserved;
	/* The length check above guarantees the header is there; each get is still checked. */
	if (rbuf_get_u8(&r, &version) < 0 || rbuf_get_u8(&r, &type) < 0 ||
	    rbuf_get_u16(&r, &length) < 0 || rbuf_get_u8(&r, &m->flags) < 0 ||
	    rbuf_get_u8(&r, &m->code) < 0 || rbuf_get_u16(&r, &reserved) < 0 ||
	    rbuf_get_u32(&r, &m->txid) < 0 || rbuf_get_u32(&r, &m->key_id) < 0 ||
	    rbuf_get_u64(&r, &m->timestamp) < 0) {
		*why = "truncated header";
		return -EBADMSG;
	}
	if (version != HLR_VERSION) {
		*why = "bad version";
		return -EBADMSG;
	}
	if (!hlr_rule_of(type)) {
		*why = "unknown message type";
		return -EBADMSG;
	}
	m->type = type;
	if (length != len) {
		*why = "length mismatch";
		return -EBADMSG;
	}
	struct rbuf attrs;
	if (rbuf_sub(&r, rbuf_left(&r) - HLR_AUTH_LEN, &attrs) < 0) {
		*why = "truncated";
		return -EBADMSG;
	}
	while (rbuf_left(&attrs) > 0) {
		uint8_t at, al;
		struct rbuf v;
		if (rbuf_get_u8(&attrs, &at) < 0 || rbuf_get_u8(&attrs, &al) < 0) {
			*why = "truncated attribute header";
			return -EBADMSG;
		}
		if (rbuf_sub(&attrs, al, &v) < 0) {
			*why = "attribute runs past the authenticator";
			return -EBADMSG;
		}
		unsigned bit;
		switch (at) {
		case HLR_ATTR_PERMANENT_ADDRESS: bit = HLR_HAS_PERM; break;
		case HLR_ATTR_CARE_OF_ADDRESS: bit = HLR_HAS_COA; break;
		case HLR_ATTR_LIFETIME: bit = HLR_HAS_LIFETIME; break;
		case HLR_ATTR_NEGATIVE_TTL: bit = HLR_HAS_NEG_TTL; break;
		default:
			if (at >= HLR_ATTR_OPTIONAL_MIN)
				continue; /* optional, unknown: skipped */
			*why = "unknown attribute";
			return -EBADMSG;
		}
		if (m->present & bit) {
			*why = "duplicate attribute";
			return -EBADMSG;
		}
		int e;
		switch (at) {
		case HLR_ATTR_PERMANENT_ADDRESS: e = get_addr(&v, &m->perm, why); break;
		case HLR_ATTR_CARE_OF_ADDRESS: e = get_addr(&v, &m->coa, why); break;
		case HLR_ATTR_LIFETIME: e = get_u32_value(&v, &m->lifetime, why); break;
		default: e = get_u32_value(&v, &m->neg_ttl, why); break;
		}
		if (e < 0)
			return e;
		m->present |= bit;
	}
	if (rbuf_left(&r) != HLR_AUTH_LEN) {
		*why = "length mismatch";
		return -EBADMSG;
	}
	if (hlr_msg_check(m, why) < 0)
		return -EBADMSG;
	return 0;
}

int hlr_verify(const void *buf, size_t len, const struct roam_key *key)
{
	if (!key || key->alg != AUTH_ALG_HMAC_SHA256 || len < HLR_MIN_MSG)
		return -EINVAL;
	const uint8_t *b = buf;
	return auth_mac_verify(key, b, len - HLR_AUTH_LEN, b + len - HLR_AUTH_LEN, HLR_AUTH_LEN);
}

int hlr_addr_usable(const struct roam_ipaddr *a, int coa)
{
	if (a->family != AF_INET && a->family != AF_INET6)
		return 0;
	if (roam_ipaddr_is_any(a) || roam_ipaddr_is_multicast(a))
		return 0;
	if (a->family == AF_INET && a->v4.s_addr == 0xffffffffu)
		return 0;
	if (coa && roam_ipaddr_is_linklocal(a))
		return 0;
	return 1;
}

uint64_t hlr_ntp_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t sec = (uint64_t)ts.tv_sec + AUTH_NTP_UNIX_OFFSET;
	uint64_t frac = ((uint64_t)ts.tv_nsec << 32) / 1000000000u;
	return (sec << 32) | frac;
}

uint64_t hlr_ntp_from_ms(uint64_t ms)
{
	return ((ms / 1000) << 32) | (((ms % 1000) << 32) / 1000);
}

const char *hlr_type_name(unsigned type)
{
	switch (type) {
	case HLR_UPDATE: return "UPDATE";
	case HLR_UPDATE_ACK: return "UPDATE-ACK";
	case HLR_QUERY: return "QUERY";
	case HLR_QUERY_REPLY: return "QUERY-REPLY";
	}
	return "unknown";
}

static const struct {
	unsigned code;
	const char *name, *stat;
} hlr_codes[] = {
	{ HLR_CODE_OK, "OK", "ok" },
	{ HLR_CODE_NO_MAPPING, "NO-MAPPING", "no_mapping" },
	{ HLR_CODE_NOT_AUTHORIZED, "NOT-AUTHORIZED", "not_authorized" },
	{ HLR_CODE_BAD_ADDRESS, "BAD-ADDRESS", "bad_address" },
	{ HLR_CODE_NO_RESOURCES, "NO-RESOURCES", "no_resources" },
	{ HLR_CODE_MALFORMED, "MALFORMED", "malformed" },
	{ HLR_CODE_UNKNOWN_KEY, "UNKNOWN-KEY", "unknown_key" },
	{ HLR_CODE_BAD_AUTH, "BAD-AUTHENTICATOR", "bad_auth" },
	{ HLR_CODE_STALE, "STALE-TIMESTAMP", "stale" },
	{ HLR_CODE_REPLAYED, "REPLAYED", "replay" },
};

const char *hlr_code_name(unsigned code)
{
	for (size_t i = 0; i < sizeof(hlr_codes) / sizeof(hlr_codes[0]); i++)
		if (hlr_codes[i].code == code)
			return hlr_codes[i].name;
	return "unknown";
}

const char *hlr_code_stat(unsigned code)
{
	for (size_t i = 0; i < sizeof(hlr_codes) / sizeof(hlr_codes[0]); i++)
		if (hlr_codes[i].code == code)
			return hlr_codes[i].stat;
	return "unknown";
}
