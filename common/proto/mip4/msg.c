/* Mobile IPv4 control messages and their extensions (RFC 5944 1.8, 3.3-3.5; RFC 3024,
 * RFC 4857, RFC 4988, draft-ietf-mobileip-optim; docs/protocols/mipv4.md sections 2-4). */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "roam/mip4.h"

enum mip4_layout mip4_msg_layout(uint8_t type)
{
	switch (type) {
	case MIP4_MSG_REG_REQUEST:
	case MIP4_MSG_REGIONAL_REQUEST:
	case MIP4_MSG_FBU:
		return MIP4_LAYOUT_REQUEST;
	case MIP4_MSG_REG_REPLY:
	case MIP4_MSG_REGIONAL_REPLY:
	case MIP4_MSG_FBACK:
		return MIP4_LAYOUT_REPLY;
	case MIP4_MSG_RO_WARNING:
		return MIP4_LAYOUT_RO_WARNING;
	case MIP4_MSG_RO_REQUEST:
		return MIP4_LAYOUT_RO_REQUEST;
	case MIP4_MSG_RO_UPDATE:
		return MIP4_LAYOUT_RO_UPDATE;
	case MIP4_MSG_RO_ACK:
		return MIP4_LAYOUT_RO_ACK;
	default:
		return MIP4_LAYOUT_NONE;
	}
}

int mip4_code_accepted(uint8_t code)
{
	return code == MIP4_CODE_ACCEPTED || code == MIP4_CODE_ACCEPTED_NO_SIMUL;
}

const char *mip4_msg_name(uint8_t type)
{
	switch (type) {
	case MIP4_MSG_REG_REQUEST: return "Registration Request";
	case MIP4_MSG_REG_REPLY: return "Registration Reply";
	case MIP4_MSG_REGIONAL_REQUEST: return "Regional Registration Request";
	case MIP4_MSG_REGIONAL_REPLY: return "Regional Registration Reply";
	case MIP4_MSG_FBU: return "Fast Binding Update";
	case MIP4_MSG_FBACK: return "Fast Binding Acknowledgment";
	case MIP4_MSG_RO_WARNING: return "Binding Warning";
	case MIP4_MSG_RO_REQUEST: return "Binding Request";
	case MIP4_MSG_RO_UPDATE: return "Binding Update";
	case MIP4_MSG_RO_ACK: return "Binding Acknowledge";
	default: return "unknown";
	}
}

const char *mip4_code_name(uint8_t code)
{
	switch (code) {
	case 0: return "accepted";
	case 1: return "accepted, simultaneous bindings unsupported";
	case 64: return "FA: reason unspecified";
	case 65: return "FA: administratively prohibited";
	case 66: return "FA: insufficient resources";
	case 67: return "FA: mobile node failed authentication";
	case 68: return "FA: home agent failed authentication";
	case 69: return "FA: requested lifetime too long";
	case 70: return "FA: poorly formed request";
	case 71: return "FA: poorly formed reply";
	case 72: return "FA: requested encapsulation unavailable";
	case 73: return "FA: VJ compression unavailable";
	case 74: return "FA: requested reverse tunnel unavailable";
	case 75: return "FA: reverse tunnel mandatory and T bit not set";
	case 76: return "FA: mobile node too distant";
	case 77: return "FA: invalid care-of address";
	case 78: return "FA: registration timeout";
	case 79: return "FA: delivery style not supported";
	case 80: return "FA: home network unreachable";
	case 81: return "FA: home agent host unreachable";
	case 82: return "FA: home agent port unreachable";
	case 88: return "FA: home agent unreachable";
	case 128: return "HA: reason unspecified";
	case 129: return "HA: administratively prohibited";
	case 130: return "HA: insufficient resources";
	case 131: return "HA: mobile node failed authentication";
	case 132: return "HA: foreign agent failed authentication";
	case 133: return "HA: registration Identification mismatch";
	case 134: return "HA: poorly formed request";
	case 135: return "HA: too many simultaneous mobility bindings";
	case 136: return "HA: unknown home agent address";
	case 137: return "HA: requested reverse tunnel unavailable";
	case 138: return "HA: reverse tunnel mandatory and T bit not set";
	case 139: return "HA: requested encapsulation unavailable";
	default: return "unknown";
	}
}

const char *mip4_auth_name(enum mip4_auth_kind kind)
{
	static const char *const names[MIP4_AUTH_KINDS] = {
		"MN-HA", "MN-FA", "FA-HA", "RO", "FA-FA", "MN-GFA", "MN-PAR",
	};
	if ((unsigned)kind >= MIP4_AUTH_KINDS)
		return "unknown";
	return names[kind];
}

/* Extension type (and generalized subtype) of an authentication kind. */
static int auth_ext_type(enum mip4_auth_kind kind, uint8_t *type, uint8_t *subtype)
{
	*subtype = 0;
	switch (kind) {
	case MIP4_AUTH_MN_HA: *type = MIP4_EXT_MN_HA_AUTH; return 0;
	case MIP4_AUTH_MN_FA: *type = MIP4_EXT_MN_FA_AUTH; return 0;
	case MIP4_AUTH_FA_HA: *type = MIP4_EXT_FA_HA_AUTH; return 0;
	case MIP4_AUTH_RO: *type = MIP4_EXT_RO_AUTH; return 0;
	case MIP4_AUTH_FA_FA: *type = MIP4_EXT_GEN_AUTH; *subtype = MIP4_GEN_FA_FA; return 0;
	case MIP4_AUTH_MN_GFA: *type = MIP4_EXT_GEN_AUTH; *subtype = MIP4_GEN_MN_GFA; return 0;
	case MIP4_AUTH_MN_PAR: *type = MIP4_EXT_GEN_AUTH; *subtype = MIP4_GEN_MN_PAR; return 0;
	default: return -EINVAL;
	}
}

static int get_addr(struct rbuf *r, struct in_addr *a)
{
	uint32_t v;
	if (rbuf_get_u32(r, &v) < 0)
		return -1;
	a->s_addr = htonl(v);
	return 0;
}

static void put_addr(struct wbuf *w, struct in_addr a)
{
	wbuf_put_u32(w, ntohl(a.s_addr));
}

/* Fixed part of each layout. */
static int decode_fixed(struct rbuf *r, struct mip4_msg *m)
{
	uint16_t u16;

	switch (mip4_msg_layout(m->type)) {
	case MIP4_LAYOUT_REQUEST:
		if (rbuf_get_u8(r, &m->flags) < 0 || rbuf_get_u16(r, &m->lifetime) < 0 ||
		    get_addr(r, &m->home) < 0 || get_addr(r, &m->ha) < 0 ||
		    get_addr(r, &m->coa) < 0 || rbuf_get_u64(r, &m->id) < 0)
			return -EBADMSG;
		m->has_id = 1;
		return 0;
	case MIP4_LAYOUT_REPLY:
		if (rbuf_get_u8(r, &m->code) < 0 || rbuf_get_u16(r, &m->lifetime) < 0 ||
		    get_addr(r, &m->home) < 0 || get_addr(r, &m->ha) < 0 ||
		    rbuf_get_u64(r, &m->id) < 0)
			return -EBADMSG;
		m->has_id = 1;
		return 0;
	case MIP4_LAYOUT_RO_WARNING:
		if (rbuf_skip(r, 3) < 0 || get_addr(r, &m->home) < 0 ||
		    get_addr(r, &m->target) < 0)
			return -EBADMSG;
		return 0;
	case MIP4_LAYOUT_RO_REQUEST:
		if (rbuf_skip(r, 3) < 0 || get_addr(r, &m->home) < 0 ||
		    rbuf_get_u64(r, &m->id) < 0)
			return -EBADMSG;
		m->has_id = 1;
		return 0;
	case MIP4_LAYOUT_RO_UPDATE:
		if (rbuf_get_u8(r, &m->flags) < 0 ||
		    rbuf_get_u16(r, &m->lifetime) < 0 || get_addr(r, &m->home) < 0 ||
		    get_addr(r, &m->coa) < 0)
			return -EBADMSG;
		if (m->flags & MIP4_BU_I) {
			if (rbuf_get_u64(r, &m->id) < 0)
				return -EBADMSG;
			m->has_id = 1;
		}
		return 0;
	case MIP4_LAYOUT_RO_ACK:
		if (rbuf_get_u8(r, &m->flags) < 0 || rbuf_get_u16(r, &u16) < 0 ||
		    get_addr(r, &m->home) < 0 || rbuf_get_u64(r, &m->id) < 0)
			return -EBADMSG;
		m->has_id = 1;
		return 0;
	default:
		return -EPROTONOSUPPORT;
	}
}

static int auth_kind_of(uint8_t type, uint8_t subtype)
{
	switch (type) {
	case MIP4_EXT_MN_HA_AUTH: return MIP4_AUTH_MN_HA;
	case MIP4_EXT_MN_FA_AUTH: return MIP4_AUTH_MN_FA;
	case MIP4_EXT_FA_HA_AUTH: return MIP4_AUTH_FA_HA;
	case MIP4_EXT_RO_AUTH: return MIP4_AUTH_RO;
	case MIP4_EXT_GEN_AUTH:
		switch (subtype) {
		case MIP4_GEN_FA_FA: return MIP4_AUTH_FA_FA;
		case MIP4_GEN_MN_GFA: return MIP4_AUTH_MN_GFA;
		case MIP4_GEN_MN_PAR: return MIP4_AUTH_MN_PAR;
		default: return -1;
		}
	default:
		return -1;
	}
}

/* Records an address-valued extension (4 bytes). */
static int ext_addr(struct rbuf *v, uint32_t bit, struct mip4_msg *m, struct in_addr *dst)
{
	if ((m->exts & bit) || rbuf_left(v) != 4)
		return -EBADMSG;
	get_addr(v, dst);
	m->exts |= bit;
	return 0;
}

int mip4_msg_decode(const void *pkt, size_t len, struct mip4_msg *m)
{
	struct rbuf r;
	int rc;
	int protect_seen = 0; /* the MN-HA (or RO) authenticator has been passed */

	memset(m, 0, sizeof(*m));
	m->bad_ext = -1;
	rbuf_init(&r, pkt, len);
	if (rbuf_get_u8(&r, &m->type) < 0)
		return -EBADMSG;
	rc = decode_fixed(&r, m);
	if (rc < 0)
		return rc;

	while (rbuf_left(&r) > 0) {
		size_t ext_off = rbuf_offset(&r, pkt);
		uint8_t type, subtype = 0, l8;
		uint16_t elen;
		struct rbuf v;
		int kind;
		uint32_t bit = 0;

		if (rbuf_get_u8(&r, &type) < 0)
			goto bad;
		if (type == MIP4_EXT_GEN_AUTH) {
			if (rbuf_get_u8(&r, &subtype) < 0 || rbuf_get_u16(&r, &elen) < 0)
				goto bad_type;
		} else {
			if (rbuf_get_u8(&r, &l8) < 0)
				goto bad_type;
			elen = l8;
		}
		if (rbuf_sub(&r, elen, &v) < 0)
			goto bad_type;

		kind = auth_kind_of(type, subtype);
		if (kind >= 0) {
			struct mip4_auth *a = &m->auth[kind];
			if (a->present || elen < 4 || elen - 4 > 255)
				goto bad_type;
			rbuf_get_u32(&v, &a->spi);
			a->covered = rbuf_offset(&v, pkt);
			a->mac_len = (uint8_t)(elen - 4);
			rbuf_get_ptr(&v, a->mac_len, &a->mac);
			a->ext_off = ext_off;
			a->present = 1;
			if (kind == MIP4_AUTH_MN_HA || kind == MIP4_AUTH_RO ||
			    kind == MIP4_AUTH_MN_GFA || kind == MIP4_AUTH_MN_PAR)
				protect_seen = 1;
			continue;
		}
		switch (type) {
		case MIP4_EXT_NAI:
			if ((m->exts & MIP4_HAS_NAI) || elen == 0)
				goto bad_type;
			rbuf_get_ptr(&v, elen, &m->nai);
			m->nai_len = (uint8_t)elen;
			bit = MIP4_HAS_NAI;
			break;
		case MIP4_EXT_ENCAP_DELIVERY:
			if ((m->exts & MIP4_HAS_ENCAP_DELIVERY) || elen != 0)
				goto bad_type;
			bit = MIP4_HAS_ENCAP_DELIVERY;
			break;
		case MIP4_EXT_GFA_ADDR:
			if (ext_addr(&v, MIP4_HAS_GFA_ADDR, m, &m->gfa_addr) < 0)
				goto bad_type;
			bit = MIP4_HAS_GFA_ADDR;
			break;
		case MIP4_EXT_HIER_FA:
			if (ext_addr(&v, MIP4_HAS_HIER_FA, m, &m->hier_fa) < 0)
				goto bad_type;
			bit = MIP4_HAS_HIER_FA;
			break;
		case MIP4_EXT_RO_RELAY:
			if ((m->exts & MIP4_HAS_RO_RELAY) || elen < 5)
				goto bad_type;
			get_addr(&v, &m->relay_dst);
			m->relay_len = (uint8_t)(elen - 4);
			rbuf_get_ptr(&v, m->relay_len, &m->relay);
			bit = MIP4_HAS_RO_RELAY;
			break;
		default:
			if (type < 128) {
				m->bad_ext = type;
				return -ENOTSUP;
			}
			m->n_skipped++;
			continue;
		}
		m->exts |= bit;
		if (protect_seen)
			m->exts_late |= bit;
		continue;
bad_type:
		m->bad_ext = type;
		return -EBADMSG;
	}
	m->len = len;
	return 0;
bad:
	return -EBADMSG;
}

static int encode_fixed(struct wbuf *w, const struct mip4_msg *m)
{
	wbuf_put_u8(w, m->type);
	switch (mip4_msg_layout(m->type)) {
	case MIP4_LAYOUT_REQUEST:
		wbuf_put_u8(w, m->flags);
		wbuf_put_u16(w, m->lifetime);
		put_addr(w, m->home);
		put_addr(w, m->ha);
		put_addr(w, m->coa);
		wbuf_put_u64(w, m->id);
		return 0;
	case MIP4_LAYOUT_REPLY:
		wbuf_put_u8(w, m->code);
		wbuf_put_u16(w, m->lifetime);
		put_addr(w, m->home);
		put_addr(w, m->ha);
		wbuf_put_u64(w, m->id);
		return 0;
	case MIP4_LAYOUT_RO_WARNING:
		wbuf_put_zero(w, 3);
		put_addr(w, m->home);
		put_addr(w, m->target);
		return 0;
	case MIP4_LAYOUT_RO_REQUEST:
		wbuf_put_zero(w, 3);
		put_addr(w, m->home);
		wbuf_put_u64(w, m->id);
		return 0;
	case MIP4_LAYOUT_RO_UPDATE:
		wbuf_put_u8(w, m->flags);
		wbuf_put_u16(w, m->lifetime);
		put_addr(w, m->home);
		put_addr(w, m->coa);
		if (m->flags & MIP4_BU_I)
			wbuf_put_u64(w, m->id);
		return 0;
	case MIP4_LAYOUT_RO_ACK:
		wbuf_put_u8(w, m->flags);
		wbuf_put_u16(w, 0);
		put_addr(w, m->home);
		wbuf_put_u64(w, m->id);
		return 0;
	default:
		return -EINVAL;
	}
}

static void put_auth_hdr(struct wbuf *w, uint8_t type, uint8_t subtype, size_t mac_len,
                         uint32_t spi)
{
	wbuf_put_u8(w, type);
	if (type == MIP4_EXT_GEN_AUTH) {
		wbuf_put_u8(w, subtype);
		wbuf_put_u16(w, (uint16_t)(4 + mac_len));
	} else {
		wbuf_put_u8(w, (uint8_t)(4 + mac_len));
	}
	wbuf_put_u32(w, spi);
}

int mip4_msg_encode(struct wbuf *w, const struct mip4_msg *m)
{
	int rc = encode_fixed(w, m);
	if (rc < 0)
		return rc;
	if (m->exts & MIP4_HAS_NAI) {
		if (m->nai_len == 0 || !m->nai)
			return -EINVAL;
		wbuf_put_u8(w, MIP4_EXT_NAI);
		wbuf_put_u8(w, m->nai_len);
		wbuf_put_bytes(w, m->nai, m->nai_len);
	}
	if (m->exts & MIP4_HAS_ENCAP_DELIVERY) {
		wbuf_put_u8(w, MIP4_EXT_ENCAP_DELIVERY);
		wbuf_put_u8(w, 0);
	}
	if (m->exts & MIP4_HAS_RO_RELAY) {
		if (m->relay_len == 0 || m->relay_len > MIP4_RO_RELAY_MAX || !m->relay)
			return -EINVAL;
		wbuf_put_u8(w, MIP4_EXT_RO_RELAY);
		wbuf_put_u8(w, (uint8_t)(4 + m->relay_len));
		put_addr(w, m->relay_dst);
		wbuf_put_bytes(w, m->relay, m->relay_len);
	}
	/* The mobile's authenticator protects what precedes it; the FA's extensions follow it
	 * (and the MN-FA one), before the FA's own authenticator (RFC 5944 3.6.1.3, 3.7.2.1). */
	static const enum mip4_auth_kind order[] = {
		MIP4_AUTH_MN_HA, MIP4_AUTH_RO, MIP4_AUTH_MN_GFA, MIP4_AUTH_MN_PAR,
		MIP4_AUTH_MN_FA, MIP4_AUTH_FA_HA, MIP4_AUTH_FA_FA,
	};
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		enum mip4_auth_kind k = order[i];
		const struct mip4_auth *a = &m->auth[k];
		uint8_t type, subtype;
		if (k == MIP4_AUTH_FA_HA) {
			if (m->exts & MIP4_HAS_GFA_ADDR) {
				wbuf_put_u8(w, MIP4_EXT_GFA_ADDR);
				wbuf_put_u8(w, 4);
				put_addr(w, m->gfa_addr);
			}
			if (m->exts & MIP4_HAS_HIER_FA) {
				wbuf_put_u8(w, MIP4_EXT_HIER_FA);
				wbuf_put_u8(w, 4);
				put_addr(w, m->hier_fa);
			}
		}
		if (!a->present)
			continue;
		if (a->mac_len && !a->mac)
			return -EINVAL;
		auth_ext_type(k, &type, &subtype);
		put_auth_hdr(w, type, subtype, a->mac_len, a->spi);
		wbuf_put_bytes(w, a->mac, a->mac_len);
	}
	return w->err;
}

int mip4_auth_append(struct wbuf *w, size_t msg_off, enum mip4_auth_kind kind, uint32_t spi,
                     const struct roam_key *key)
{
	uint8_t type, subtype, mac[AUTH_MAC_MAX];
	size_t mac_len;
	int rc;

	if (auth_ext_type(kind, &type, &subtype) < 0 || !key)
		return -EINVAL;
	mac_len = auth_mac_len(key->alg);
	if (mac_len == 0)
		return -EINVAL;
	put_auth_hdr(w, type, subtype, mac_len, spi);
	if (w->err)
		return w->err;
	if (msg_off > w->len)
		return -EINVAL;
	rc = auth_mac(key, w->buf + msg_off, w->len - msg_off, mac);
	if (rc < 0)
		return rc;
	wbuf_put_bytes(w, mac, mac_len);
	return w->err;
}

int mip4_auth_verify(const void *pkt, const struct mip4_msg *m, enum mip4_auth_kind kind,
                     const struct roam_key *key)
{
	const struct mip4_auth *a;

	if ((unsigned)kind >= MIP4_AUTH_KINDS || !key)
		return -EINVAL;
	a = &m->auth[kind];
	if (!a->present)
		return -ENOENT;
	return auth_mac_verify(key, pkt, a->covered, a->mac, a->mac_len);
}

int mip4_auth_end(const struct mip4_msg *m, enum mip4_auth_kind kind, size_t *keep)
{
	const struct mip4_auth *a;

	if ((unsigned)kind >= MIP4_AUTH_KINDS)
		return -EINVAL;
	a = &m->auth[kind];
	if (!a->present)
		return -ENOENT;
	*keep = a->covered + a->mac_len;
	return 0;
}
