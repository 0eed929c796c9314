/* Server-to-server notifications of the NAT continuity extension (docs/protocols/sip-mobility.md
 * 4.5; seed 004 step 390 and figure 3A for server 170): a MESSAGE with the option tag in Require,
 * a text body naming the address-of-record, the old and new address and a lifetime, and an
 * X-Roam-Peer-Auth header carrying HMAC-SHA256 under the secret shared with that peer over the
 * key id, a sequence number (the sender's wall-clock milliseconds, strictly increasing), the
 * Call-ID and the body.  The receiver checks the key, the MAC, the freshness of the sequence
 * number and a replay window, then installs (or removes) the pair on its own router.
 *
 * Sending is a small non-INVITE client transaction (RFC 3261 17.1.2): retransmitted from T1
 * doubling to T2 until a final response, given up after 64*T1. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <osipparser2/osip_parser.h>

#include "sipd.h"
#include "roam/auth.h"
#include "roam/clock.h"

int sipd_peer_mac(const struct conf_bytes *key, const char *keyid, uint64_t seq,
		  const char *callid, const char *body, size_t bodylen, char out[65])
{
	char head[512];
	int w = snprintf(head, sizeof(head), "%s/1\n%s\n%" PRIu64 "\n%s\n", SIPD_NAT_OPTION, keyid,
			 seq, callid);
	if (w < 0 || (size_t)w >= sizeof(head))
		return -EINVAL;
	struct auth_ctx ctx;
	struct roam_key k;
	uint8_t mac[AUTH_SHA256_LEN];
	/* HMAC takes any key length; roam_key holds at most AUTH_KEY_MAX bytes */
	struct iovec iov[2] = { { head, (size_t)w }, { (void *)body, bodylen } };
	(void)ctx;
	if (key->len == 0 || key->len > AUTH_KEY_MAX ||
	    auth_key_set(&k, AUTH_ALG_HMAC_SHA256, key->data, key->len) < 0)
		return -EINVAL;
	int r = auth_mac_iov(&k, iov, 2, mac);
	auth_key_wipe(&k);
	if (r < 0)
		return r;
	for (int i = 0; i < AUTH_SHA256_LEN; i++)
		snprintf(out + 2 * i, 3, "%02x", mac[i]);
	return 0;
}

static void hex_random(char *out, size_t bytes)
{
	uint8_t r[16];
	if (bytes > sizeof(r))
		bytes = sizeof(r);
	if (auth_random(r, bytes) < 0)
		memset(r, 0x3c, bytes);
	for (size_t i = 0; i < bytes; i++)
		snprintf(out + 2 * i, 3, "%02x", r[i]);
}

int sipd_peer_build(struct sipd *s, size_t peer, const char *branch, const char *body,
		    uint64_t seq, char **text, size_t *len)
{
	const struct sipd_nat_peer_conf *pc = &s->conf.nat_peers[peer];
	char me[300], to[ROAM_ADDRSTRLEN + 8], tag[17], cid[33], mac[65], callid[340];
	sipd_local_name(s, roam_sockaddr_family(&pc->address), me, sizeof(me));
	roam_sockaddr_fmt(&pc->address, to, sizeof(to));
	hex_random(tag, 8);
	hex_random(cid, 16);
	/* Call-ID host: our host without the port */
	char host[300];
	snprintf(host, sizeof(host), "%s", me);
	char *colon = strrchr(host, ':');
	if (colon && (host[0] != '[' || colon > strchr(host, ']')))
		*colon = 0;
	snprintf(callid, sizeof(callid), "%s@%s", cid, host);
	size_t bl = strlen(body);
	int r = sipd_peer_mac(&pc->secret, s->conf.nat_node, seq, callid, body, bl, mac);
	if (r < 0)
		return r;
	size_t cap = 1024 + bl + strlen(me) * 3;
	char *t = malloc(cap);
	if (!t)
		return -ENOMEM;
	int w = snprintf(t, cap,
			 "MESSAGE sip:%s SIP/2.0\r\n"
			 "Via: SIP/2.0/UDP %s;branch=%s;rport\r\n"
			 "Max-Forwards: 70\r\n"
			 "From: <sip:%s@%s>;tag=%s\r\n"
			 "To: <sip:%s>\r\n"
			 "Call-ID: %s\r\n"
			 "CSeq: 1 MESSAGE\r\n"
			 "Require: %s\r\n"
			 "%s: hmac-sha256 key=%s, seq=%" PRIu64 ", mac=%s\r\n"
			 "Content-Type: %s\r\n"
			 "User-Agent: roam-sipd/" ROAM_VERSION "\r\n"
			 "Content-Length: %zu\r\n\r\n%s",
			 to, me, branch, s->conf.nat_node, me, tag, to, callid, SIPD_NAT_OPTION,
			 SIPD_NAT_AUTH_HEADER, s->conf.nat_node, seq, mac, SIPD_NAT_CTYPE, bl, body);
	if (w < 0 || (size_t)w >= cap) {
		free(t);
		return -ENOSPC;
	}
	*text = t;
	*len = (size_t)w;
	return 0;
}

static int peer_send(struct sipd *s, const struct sipd_dest *d, const char *text, size_t len)
{
	if (!s->send)
		return -ENOTCONN;
	int r = s->send(s, d, (const uint8_t *)text, len);
	if (r < 0)
		s->stats.tx_errors++;
	else
		s->stats.tx_messages++;
	return r;
}

void sipd_peer_notify(struct sipd *s, const char *aor, const struct roam_ipaddr *old,
		      const struct roam_ipaddr *new, uint32_t expires_s, uint64_t now)
{
	struct sipd_nat *n = &s->nat;
	char o[ROAM_ADDRSTRLEN], nw[ROAM_ADDRSTRLEN], body[SIPD_AOR_MAX + 200];
	snprintf(body, sizeof(body), "aor=%s\r\nold=%s\r\nnew=%s\r\nexpires=%u\r\n", aor,
		 roam_ipaddr_fmt(old, o, sizeof(o)), roam_ipaddr_fmt(new, nw, sizeof(nw)),
		 expires_s);
	for (size_t i = 0; i < s->conf.nnat_peers; i++) {
		if (!s->conf.nat_peers[i].notify)
			continue;
		struct sipd_nat_out *slot = NULL;
		for (size_t j = 0; j < SIPD_NAT_PEER_PENDING && !slot; j++)
			if (!n->out[j].used)
				slot = &n->out[j];
		if (!slot) {
			s->stats.nat_peer_timeouts++;
			log_warnx("nat: too many peer notifications pending; %s not told", aor);
			continue;
		}
		uint64_t seq = roam_wall_ms();
		if (seq <= n->last_seq)
			seq = n->last_seq + 1;
		n->last_seq = seq;
		char branch[SIPD_BRANCH_MAX];
		snprintf(branch, sizeof(branch), "%s%" PRIx64 ".%" PRIx64, SIPD_NAT_PEER_BRANCH,
			 n->started_wall & 0xffffffffu, ++n->branch_ctr);
		char *text = NULL;
		size_t len = 0;
		if (sipd_peer_build(s, i, branch, body, seq, &text, &len) < 0) {
			s->stats.tx_errors++;
			continue;
		}
		memset(slot, 0, sizeof(*slot));
		slot->used = true;
		snprintf(slot->branch, sizeof(slot->branch), "%s", branch);
		slot->dst.transport = SIPD_TP_UDP;
		slot->dst.addr = s->conf.nat_peers[i].address;
		slot->text = text;
		slot->len = len;
		slot->interval = SIPD_T1;
		slot->next_tx = now + SIPD_T1;
		slot->deadline = now + 64 * SIPD_T1;
		s->stats.nat_peer_sent++;
		log_info("nat: telling peer %s: %s %s -> %s for %us", s->conf.nat_peers[i].name, aor,
			 o, nw, expires_s);
		peer_send(s, &slot->dst, text, len);
	}
}

static void out_free(struct sipd_nat_out *o)
{
	free(o->text);
	memset(o, 0, sizeof(*o));
}

void sipd_peer_timers(struct sipd *s, uint64_t now)
{
	for (size_t j = 0; j < SIPD_NAT_PEER_PENDING; j++) {
		struct sipd_nat_out *o = &s->nat.out[j];
		if (!o->used)
			continue;
		if (now >= o->deadline) {
			s->stats.nat_peer_timeouts++;
			log_warnx("nat: peer notification %s: no answer", o->branch);
			out_free(o);
			continue;
		}
		if (now >= o->next_tx) {
			s->stats.nat_peer_retransmissions++;
			peer_send(s, &o->dst, o->text, o->len);
			o->interval = o->interval * 2 > SIPD_T2 ? SIPD_T2 : o->interval * 2;
			o->next_tx = now + o->interval;
		}
	}
}

int sipd_peer_response(struct sipd *s, osip_message_t *msg, uint64_t now)
{
	osip_via_t *via = NULL;
	osip_generic_param_t *br = NULL;
	if (osip_message_get_via(msg, 0, &via) < 0 || !via ||
	    osip_via_param_get_byname(via, "branch", &br) != 0 || !br || !br->gvalue ||
	    strncmp(br->gvalue, SIPD_NAT_PEER_BRANCH, strlen(SIPD_NAT_PEER_BRANCH)) != 0)
		return 0;
	int code = osip_message_get_status_code(msg);
	for (size_t j = 0; j < SIPD_NAT_PEER_PENDING; j++) {
		struct sipd_nat_out *o = &s->nat.out[j];
		if (!o->used || strcmp(o->branch, br->gvalue) != 0)
			continue;
		if (code < 200) {
			o->interval = SIPD_T2; /* proceeding: Timer E at T2 */
			o->next_tx = now + SIPD_T2;
		} else {
			if (code < 300) {
				s->stats.nat_peer_acked++;
			} else {
				s->stats.nat_peer_rejected++;
				log_warnx("nat: peer refused notification %s: %d %s", o->branch, code,
					  msg->reason_phrase ? msg->reason_phrase : "");
			}
			out_free(o);
		}
		break;
	}
	return 1; /* ours, matched or a late retransmission */
}

/* ---- receiving ---- */

/* X-Roam-Peer-Auth: hmac-sha256 key=ID, seq=N, mac=HEX */
static int auth_parse(const char *v, char *key, size_t keylen, uint64_t *seq, char mac[65])
{
	bool hk = false, hs = false, hm = false;
	while (*v == ' ')
		v++;
	if (strncasecmp(v, "hmac-sha256", 11) != 0 || (v[11] != ' ' && v[11] != '\t'))
		return -EINVAL;
	v += 11;
	while (*v) {
		while (*v == ' ' || *v == '\t' || *v == ',')
			v++;
		if (!*v)
			break;
		const char *eq = strchr(v, '=');
		if (!eq)
			return -EINVAL;
		size_t nl = (size_t)(eq - v);
		const char *val = eq + 1;
		size_t vl = strcspn(val, " \t,");
		if (vl == 0)
			return -EINVAL;
		if (nl == 3 && strncasecmp(v, "key", 3) == 0 && !hk) {
			if (vl >= keylen)
				return -EINVAL;
			memcpy(key, val, vl);
			key[vl] = 0;
			hk = true;
		} else if (nl == 3 && strncasecmp(v, "seq", 3) == 0 && !hs) {
			if (vl > 19)
				return -EINVAL;
			uint64_t x = 0;
			for (size_t i = 0; i < vl; i++) {
				if (!isdigit((unsigned char)val[i]))
					return -EINVAL;
				x = x * 10 + (uint64_t)(val[i] - '0');
			}
			*seq = x;
			hs = true;
		} else if (nl == 3 && strncasecmp(v, "mac", 3) == 0 && !hm) {
			if (vl != 64)
				return -EINVAL;
			for (size_t i = 0; i < vl; i++)
				if (!isxdigit((unsigned char)val[i]))
					return -EINVAL;
			for (size_t i = 0; i < vl; i++)
				mac[i] = (char)tolower((unsigned char)val[i]);
			mac[64] = 0;
			hm = true;
		} else {
			return -EINVAL;
		}
		v = val + vl;
	}
	return hk && hs && hm ? 0 : -EINVAL;
}

struct peer_body {
	char aor[SIPD_AOR_MAX + 1];
	struct roam_ipaddr old, new;
	uint32_t expires;
};

/* The body: lines "aor=", "old=", "new=", "expires=" (CRLF or LF), each exactly once; other
 * keys are ignored (later versions may add some). */
static int body_parse(const char *b, size_t len, struct peer_body *pb)
{
	unsigned seen = 0;
	size_t i = 0;
	while (i < len) {
		size_t e = i;
		while (e < len && b[e] != '\n')
			e++;
		size_t l = e - i;
		if (l && b[i + l - 1] == '\r')
			l--;
		char line[SIPD_AOR_MAX + 16];
		if (l >= sizeof(line))
			return -EINVAL;
		memcpy(line, b + i, l);
		line[l] = 0;
		i = e + 1;
		if (l == 0)
			continue;
		char *eq = strchr(line, '=');
		if (!eq)
			return -EINVAL;
		*eq = 0;
		const char *v = eq + 1;
		unsigned bit = 0;
		if (strcmp(line, "aor") == 0) {
			bit = 1;
			if (!*v || strlen(v) > SIPD_AOR_MAX || strncmp(v, "sip", 3) != 0)
				return -EINVAL;
			strcpy(pb->aor, v);
		} else if (strcmp(line, "old") == 0) {
			bit = 2;
			if (roam_ipaddr_parse(v, &pb->old) < 0)
				return -EINVAL;
		} else if (strcmp(line, "new") == 0) {
			bit = 4;
			if (roam_ipaddr_parse(v, &pb->new) < 0)
				return -EINVAL;
		} else if (strcmp(line, "expires") == 0) {
			bit = 8;
			if (!*v || strlen(v) > 10)
				return -EINVAL;
			unsigned long long x = 0;
			for (const char *p = v; *p; p++) {
				if (!isdigit((unsigned char)*p))
					return -EINVAL;
				x = x * 10 + (unsigned)(*p - '0');
			}
			pb->expires = x > UINT32_MAX ? UINT32_MAX : (uint32_t)x;
		}
		if (bit & seen)
			return -EINVAL;
		seen |= bit;
	}
	return seen == 15 ? 0 : -EINVAL;
}

void sipd_peer_rx(struct sipd *s, struct sipd_req *r)
{
	osip_message_t *m = r->msg;
	osip_header_t *h = NULL;
	char key[64], mac[65], expect[65], callid[SIPD_CALLID_MAX + 1];
	uint64_t seq = 0;
	size_t pi;
	s->stats.nat_peer_received++;
	if (osip_message_header_get_byname(m, SIPD_NAT_AUTH_HEADER, 0, &h) < 0 || !h ||
	    !h->hvalue || auth_parse(h->hvalue, key, sizeof(key), &seq, mac) < 0) {
		s->stats.nat_peer_refused_bad_mac++;
		sipd_respond(s, r, 403, "Peer Authentication Required", NULL);
		return;
	}
	for (pi = 0; pi < s->conf.nnat_peers; pi++)
		if (strcmp(s->conf.nat_peers[pi].name, key) == 0)
			break;
	if (pi == s->conf.nnat_peers) {
		s->stats.nat_peer_refused_unknown_key++;
		sipd_respond(s, r, 403, "Unknown Peer", NULL);
		return;
	}
	osip_body_t *body = NULL;
	const char *bt = "";
	size_t bl = 0;
	if (osip_message_get_body(m, 0, &body) >= 0 && body && body->body) {
		bt = body->body;
		bl = body->length;
	}
	if (m->call_id->host)
		snprintf(callid, sizeof(callid), "%s@%s", m->call_id->number, m->call_id->host);
	else
		snprintf(callid, sizeof(callid), "%s", m->call_id->number);
	if (sipd_peer_mac(&s->conf.nat_peers[pi].secret, key, seq, callid, bt, bl, expect) < 0 ||
	    !auth_equal(expect, mac, 64)) {
		s->stats.nat_peer_refused_bad_mac++;
		log_warnx("nat: peer message claiming key %s: bad MAC", key);
		sipd_respond(s, r, 403, "Bad Peer MAC", NULL);
		return;
	}
	/* Freshness: within the window of our clock, and not made before we started (a message
	 * recorded before a restart cannot be replayed into the new process's empty window). */
	uint64_t wall = roam_wall_ms();
	if (seq + s->conf.nat_peer_window < wall || seq > wall + s->conf.nat_peer_window ||
	    seq + 1000 < s->nat.started_wall) {
		s->stats.nat_peer_refused_stale++;
		sipd_respond(s, r, 403, "Stale Peer Message", NULL);
		return;
	}
	struct replay_seq *rs = NULL;
	for (size_t i = 0; i < s->nat.npeer_seq && !rs; i++)
		if (strcmp(s->nat.peer_seq[i].name, key) == 0)
			rs = &s->nat.peer_seq[i].seq;
	if (!rs) { /* the first message of this peer (a reload may add peers) */
		struct sipd_nat_peer_seq *ns = realloc(s->nat.peer_seq,
						       (s->nat.npeer_seq + 1) * sizeof(*ns));
		if (!ns) {
			sipd_respond(s, r, 500, NULL, NULL);
			return;
		}
		s->nat.peer_seq = ns;
		memset(&ns[s->nat.npeer_seq], 0, sizeof(*ns));
		snprintf(ns[s->nat.npeer_seq].name, sizeof(ns->name), "%s", key);
		replay_seq_init(&ns[s->nat.npeer_seq].seq, 0);
		rs = &ns[s->nat.npeer_seq++].seq;
	}
	if (replay_seq_check(rs, seq) != 0) {
		s->stats.nat_peer_refused_replay++;
		log_warnx("nat: peer %s: replayed message (seq %" PRIu64 ")", key, seq);
		sipd_respond(s, r, 403, "Replayed Peer Message", NULL);
		return;
	}
	replay_seq_commit(rs, seq);
	struct peer_body pb;
	memset(&pb, 0, sizeof(pb));
	osip_content_type_t *ct = osip_message_get_content_type(m);
	char ctype[128] = "";
	if (ct && ct->type && ct->subtype)
		snprintf(ctype, sizeof(ctype), "%s/%s", ct->type, ct->subtype);
	if (strcasecmp(ctype, SIPD_NAT_CTYPE) != 0 || body_parse(bt, bl, &pb) < 0 ||
	    pb.old.family != pb.new.family || roam_ipaddr_eq(&pb.old, &pb.new)) {
		s->stats.nat_peer_refused_bad_body++;
		sipd_respond(s, r, 400, "Bad Notification Body", NULL);
		return;
	}
	char tag[ROAM_NFT_TAG_MAX];
	sipd_nat_peer_tag(key, pb.aor, &pb.old, tag);
	if (pb.expires == 0) {
		sipd_nat_remove(s, tag, r->now);
		sipd_respond(s, r, 200, NULL, NULL);
		return;
	}
	struct sipd_nat_pair p;
	memset(&p, 0, sizeof(p));
	memcpy(p.tag, tag, sizeof(tag));
	p.origin = SIPD_NAT_PEER;
	p.old = pb.old;
	p.new = pb.new;
	uint64_t life = (uint64_t)pb.expires * 1000;
	if (life > s->conf.max_expires)
		life = s->conf.max_expires;
	p.expires = r->now + life;
	snprintf(p.aor, sizeof(p.aor), "%s", pb.aor);
	snprintf(p.peer, sizeof(p.peer), "%s", key);
	int e = sipd_nat_install(s, &p);
	if (e == -EINVAL) {
		s->stats.nat_peer_refused_bad_body++;
		sipd_respond(s, r, 400, "Bad Notification Body", NULL);
	} else if (e < 0) {
		const char *hs[] = { "Retry-After: 60", NULL };
		sipd_respond(s, r, 503, "Cannot Install Translation", hs);
	} else {
		sipd_respond(s, r, 200, NULL, NULL);
	}
}
