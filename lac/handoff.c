/* The LAC side of the handoff extension (docs/protocols/l2tp-handoff.md; seed 000 figures 4-6).
 *
 * Leaving (figure 5), when the access link of a mobile with an established call is lost:
 *   CDN (Result 1 lost carrier, Handoff Cause MOBILE_LOST, our Call State) --> LNS parks it
 *   USER_MOVED (MIN, ids, Call State, LNS, Hold Time, timestamp, HMAC) --> LAC group
 *   StopCCN when the tunnel carries no other session
 * Every LAC (this one too, for its own) keeps what it heard in its handoff table, keyed by MIN,
 * expiring at the Hold Time; a USER_MOVED is accepted only with a valid HMAC-SHA256 under a
 * group key (checked before any field is used) and a fresh timestamp from its sender (the
 * replay state moves only after the MAC verified).
 *
 * Arriving (figure 6), when a mobile attaches with a MIN in the table:
 *   CHAP Challenge to the mobile (its PPP is open: a re-challenge, RFC 1994 2) --> Response
 *   ICRQ (Calling Number = MIN, Handoff Request, Call State) on an authenticated tunnel
 *   ICRP Handoff Accepted --> ICCN with Proxy Authen (CHAP, RFC 2661 4.4.5); data resumes with
 *   the restored Ns/Nr; ICRP Handoff Refused (or none) --> plain ICCN: PPP renegotiates.
 * The mobile's CHAP Response is consumed here, never relayed to the LNS as data.
 *
 * No socket or clock is touched by the state machines (tests: fake clocks, h->ho.tx). */
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lacd.h"
#include "roam/clock.h"

#define LACD_HO_KEY_MIN 16 /* bytes of a group key at least */

/* ---- keys ---- */

static void key_err(char *err, size_t errlen, const char *cfg, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void key_err(char *err, size_t errlen, const char *cfg, const char *fmt, ...)
{
	char m[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "%s: key 'handoff.key_file': %s", cfg, m);
}

int lacd_ho_keys_load(struct lacd_conf *c, const char *cfgpath, char *err, size_t errlen)
{
	struct lacd_conf_handoff *ho = &c->handoff;
	char path[4096], buf[4097];
	struct stat st;
	size_t len = 0;
	int fd;

	ho->nkeys = 0;
	if (!ho->key_file || !ho->key_file[0])
		return 0;
	/* A relative path is relative to the config file's directory. */
	const char *slash = strrchr(cfgpath, '/');
	if (ho->key_file[0] != '/' && slash && strcmp(cfgpath, "<string>") != 0)
		snprintf(path, sizeof(path), "%.*s/%s", (int)(slash - cfgpath), cfgpath,
			 ho->key_file);
	else
		snprintf(path, sizeof(path), "%s", ho->key_file);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		key_err(err, errlen, cfgpath, "cannot open '%s'", path);
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		key_err(err, errlen, cfgpath, "'%s' is not a regular file", path);
		return -1;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		close(fd);
		key_err(err, errlen, cfgpath,
			"'%s' may be read or written by group or others (chmod 600)", path);
		return -1;
	}
	for (;;) {
		ssize_t r = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (r <= 0)
			break;
		len += (size_t)r;
		if (len == sizeof(buf) - 1)
			break;
	}
	close(fd);
	buf[len] = '\0';
	int rc = 0;
	unsigned lineno = 0;
	for (char *rest = buf, *line; (line = strsep(&rest, "\n"));) {
		char *p = line, *idstr, *hex, *end;
		lineno++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '#' || *p == '\r')
			continue;
		idstr = strtok_r(p, " \t\r", &end);
		hex = strtok_r(NULL, " \t\r", &end);
		char *junk = strtok_r(NULL, " \t\r", &end);
		char *e;
		unsigned long id = idstr ? strtoul(idstr, &e, 10) : 0;
		struct lacd_ho_key *k = &ho->keys[ho->nkeys];
		if (!idstr || !hex || junk || *e || e == idstr || id > 255) {
			key_err(err, errlen, cfgpath, "%s line %u: expected 'ID HEX' (ID 0..255)",
				path, lineno);
			rc = -1;
			break;
		}
		if (ho->nkeys == LACD_HO_KEYS_MAX) {
			key_err(err, errlen, cfgpath,
				"%s line %u: two keys at most (current, previous)", path, lineno);
			rc = -1;
			break;
		}
		if (auth_key_from_hex(&k->key, AUTH_ALG_HMAC_SHA256, hex) < 0 ||
		    k->key.len < LACD_HO_KEY_MIN) {
			key_err(err, errlen, cfgpath, "%s line %u: 16 to 64 bytes of hex", path,
				lineno);
			rc = -1;
			break;
		}
		if (ho->nkeys == 1 && ho->keys[0].id == id) {
			key_err(err, errlen, cfgpath, "%s line %u: key id used twice", path, lineno);
			rc = -1;
			break;
		}
		k->id = (uint8_t)id;
		ho->nkeys++;
	}
	explicit_bzero(buf, sizeof(buf));
	if (rc == 0 && ho->nkeys == 0) {
		key_err(err, errlen, cfgpath, "'%s' holds no key", path);
		rc = -1;
	}
	if (rc < 0) {
		for (size_t i = 0; i < LACD_HO_KEYS_MAX; i++)
			auth_key_wipe(&ho->keys[i].key);
		ho->nkeys = 0;
	}
	return rc;
}

static const struct roam_key *key_by_id(const struct lacd *h, uint8_t id)
{
	for (size_t i = 0; i < h->conf.handoff.nkeys; i++)
		if (h->conf.handoff.keys[i].id == id)
			return &h->conf.handoff.keys[i].key;
	return NULL;
}

/* ---- tables ---- */

static void entry_expired(struct table *t, struct table_node *n, void *arg)
{
	(void)t;
	struct lacd *h = arg;
	struct lacd_ho_entry *e = table_entry(n, struct lacd_ho_entry, node);
	h->ho.stats.table_expired++;
	log_debug("handoff table: MIN %s expired", e->min);
	free(e);
}

static void entry_free(struct table *t, struct table_node *n, void *arg)
{
	(void)t, (void)arg;
	free(table_entry(n, struct lacd_ho_entry, node));
}

static void sender_free(struct table *t, struct table_node *n, void *arg)
{
	(void)t, (void)arg;
	free(table_entry(n, struct lacd_ho_sender, node));
}

void lacd_ho_apply_conf(struct lacd *h)
{
	h->ho.vendor = h->conf.handoff.enabled ? h->conf.handoff.vendor_id : 0;
	if (h->conf.handoff.address.family == AF_INET &&
	    h->conf.handoff.address.v4.s_addr != 0)
		h->ho.lac_addr = ntohl(h->conf.handoff.address.v4.s_addr);
}

int lacd_ho_init(struct lacd *h)
{
	if (h->ho.ready)
		return 0;
	if (table_init(&h->ho.table, entry_expired, entry_free, h) < 0)
		return -ENOMEM;
	if (table_init(&h->ho.senders, NULL, sender_free, h) < 0) {
		table_destroy(&h->ho.table);
		return -ENOMEM;
	}
	if (!h->ho.wall_ms)
		h->ho.wall_ms = roam_wall_ms;
	h->ho.rl.burst = 10;
	h->ho.rl.interval_ms = 10000;
	h->ho.ready = true;
	lacd_ho_apply_conf(h);
	return 0;
}

void lacd_ho_destroy(struct lacd *h)
{
	if (!h->ho.ready)
		return;
	table_destroy(&h->ho.table);
	table_destroy(&h->ho.senders);
	h->ho.ready = false;
}

struct lacd_ho_entry *lacd_ho_lookup(struct lacd *h, const char *min, uint64_t now)
{
	if (!h->ho.ready)
		return NULL;
	table_expire(&h->ho.table, now);
	struct table_node *n = table_lookup(&h->ho.table, min, strlen(min));
	return n ? table_entry(n, struct lacd_ho_entry, node) : NULL;
}

static void entry_remove(struct lacd *h, const char *min)
{
	struct table_node *n = h->ho.ready ? table_lookup(&h->ho.table, min, strlen(min)) : NULL;
	if (n) {
		table_remove(&h->ho.table, n);
		free(table_entry(n, struct lacd_ho_entry, node));
	}
}

/* Stores um (authenticated and fresh, or our own) under its MIN for its Hold Time, unless the
 * table holds a newer one for that MIN (1). */
static int entry_store(struct lacd *h, const struct l2tp_user_moved *um, bool own, uint64_t now)
{
	struct table_node *n = table_lookup(&h->ho.table, um->min, strlen(um->min));
	struct lacd_ho_entry *e;
	if (n) {
		e = table_entry(n, struct lacd_ho_entry, node);
		/* The newest USER_MOVED for a MIN wins, whichever LAC sent it (LAC clocks are
		 * NTP-synchronised): a late, older one never replaces what the table knows, and
		 * our own entry goes as soon as another LAC reports the mobile leaving it. */
		if (e->um.timestamp_ms > um->timestamp_ms) {
			h->ho.stats.um_older++;
			return 1;
		}
		if (e->own && !own)
			h->ho.stats.own_superseded++;
		h->ho.stats.um_replaced++;
	} else {
		if (table_count(&h->ho.table) >= 1000000)
			return -ENOSPC;
		if (!(e = calloc(1, sizeof(*e))))
			return -ENOMEM;
		snprintf(e->min, sizeof(e->min), "%s", um->min);
		if (table_insert(&h->ho.table, &e->node, e->min, strlen(e->min)) < 0) {
			free(e);
			return -ENOMEM;
		}
	}
	e->um = *um;
	e->stored = now;
	e->own = own;
	table_set_expiry(&h->ho.table, &e->node, now + (uint64_t)um->hold_s * 1000);
	return 0;
}

/* ---- leaving (figure 5) ---- */

void lacd_ho_call_state(const struct lacd_session *s, const struct lacd_ppp_snoop *sn,
			uint32_t accm_send, uint32_t accm_recv, struct l2tp_call_state *cs)
{
	static const struct lacd_ppp_snoop none;
	if (!sn)
		sn = &none;
	memset(cs, 0, sizeof(*cs));
	cs->data_ns = s->s.data_ns;
	cs->data_nr = s->s.data_nr;
	bool lcp = sn->lcp_ack_up && sn->lcp_ack_down;
	bool ipcp = sn->ipcp_ack_up && sn->ipcp_ack_down;
	if (lcp)
		cs->ppp_flags |= L2TP_PPP_LCP_OPENED;
	if (sn->auth_done)
		cs->ppp_flags |= L2TP_PPP_AUTH_DONE;
	if (ipcp)
		cs->ppp_flags |= L2TP_PPP_IPCP_OPENED;
	if (s->s.data_seq)
		cs->ppp_flags |= L2TP_PPP_DATA_SEQ;
	if (ipcp || (lcp && (sn->auth_done || !sn->auth_proto)))
		cs->ppp_phase = 3; /* network */
	else if (lcp)
		cs->ppp_phase = 2; /* authenticate */
	else
		cs->ppp_phase = 1; /* establish */
	cs->mru = sn->mru ? sn->mru : 1500;
	cs->accm_send = accm_send;
	cs->accm_recv = accm_recv;
	cs->auth_proto = sn->auth_proto;
	cs->mobile_addr = sn->mobile_addr;
}

static void log_um(struct lacd *h, uint64_t now, const char *fmt, const char *a, uint32_t src)
{
	uint32_t suppressed;
	if (!log_rl_allow(&h->ho.rl, now, &suppressed))
		return;
	log_warnx("USER_MOVED from %u.%u.%u.%u: %s%s (%u more not logged)", src >> 24,
		  (src >> 16) & 0xff, (src >> 8) & 0xff, src & 0xff, fmt, a, suppressed);
}

static void send_user_moved(struct lacd *h, struct l2tp_user_moved *um, uint64_t now)
{
	uint8_t pkt[L2TP_UM_LEN_MIN + L2TP_MIN_MAX];
	struct wbuf w;
	const struct lacd_ho_key *k = &h->conf.handoff.keys[0];
	uint64_t ts = h->ho.wall_ms();
	if (ts <= h->ho.last_ts)
		ts = h->ho.last_ts + 1; /* strictly increasing per sender */
	h->ho.last_ts = ts;
	um->timestamp_ms = ts;
	um->key_id = k->id;
	um->lac_addr = h->ho.lac_addr;
	wbuf_init_fixed(&w, pkt, sizeof(pkt));
	if (!h->conf.handoff.nkeys || l2tp_um_encode(&w, um, &k->key) < 0 || !h->ho.tx) {
		h->ho.stats.um_tx_errors++;
		log_warnx("USER_MOVED for MIN %s not sent (no key or no socket)", um->min);
	} else {
		h->ho.tx(h->ho.tx_arg, pkt, w.len);
		h->ho.stats.um_sent++;
	}
	/* Ours too: the mobile may come back here. */
	(void)entry_store(h, um, true, now);
}

void lacd_ho_mobile_lost(struct lacd *h, const char *min, const struct lacd_ppp_snoop *snoop,
			 uint32_t accm_send, uint32_t accm_recv, uint64_t now)
{
	struct lacd_session *s = lacd_session_by_min(h, min);
	struct roam_ipaddr lns;
	uint16_t lns_port = 0;
	char b[ROAM_ADDRSTRLEN];

	if (!s)
		return;
	struct l2tp_tunnel *t = s->s.t;
	memset(&lns, 0, sizeof(lns));
	roam_sockaddr_addr(&t->peer, &lns, &lns_port);
	if (!h->conf.handoff.enabled || !h->ho.vendor || s->s.state != LACD_S_ESTABLISHED ||
	    lns.family != AF_INET) {
		/* The standard behaviour: the call is cleared, PPP will renegotiate. */
		h->ho.stats.plain_cdn++;
		(void)lacd_hangup(h, min, L2TP_CDN_LOST_CARRIER, now);
		return;
	}
	h->ep.now = now;
	struct l2tp_user_moved um;
	memset(&um, 0, sizeof(um));
	lacd_ho_call_state(s, snoop, accm_send, accm_recv, &um.state);
	snprintf(um.min, sizeof(um.min), "%s", min);
	um.lns_addr = ntohl(lns.v4.s_addr);
	um.lns_port = lns_port;
	um.old_tunnel_id = t->id;
	um.old_session_id = s->s.id;
	um.peer_tunnel_id = t->peer_id;
	um.peer_session_id = s->s.peer_id;
	um.hold_s = (uint16_t)(h->conf.handoff.hold_time / 1000);

	/* CDN: Result 1 (what a standard LNS sees) plus Handoff Cause and Call State. */
	struct l2tp_msg *m = l2tp_ep_msg(&h->ep, L2TP_MSG_CDN, s->s.peer_id);
	m->avps = L2TP_AVP_BIT(L2TP_AVP_RESULT_CODE) | L2TP_AVP_BIT(L2TP_AVP_ASSIGNED_SESSION_ID);
	m->assigned_session_id = s->s.id;
	l2tp_result_set(&m->result, L2TP_CDN_LOST_CARRIER, 0, NULL);
	m->ho_avps = L2TP_HO_BIT(L2TP_HO_AVP_CAUSE) | L2TP_HO_BIT(L2TP_HO_AVP_CALL_STATE);
	m->ho_cause.cause = L2TP_HO_CAUSE_MOBILE_LOST;
	snprintf(m->ho_cause.min, sizeof(m->ho_cause.min), "%s", min);
	m->ho_state = um.state;
	log_info("tunnel %u session %u (MIN %s): mobile lost, CDN handoff (data Ns %u Nr %u) "
		 "to %s, USER_MOVED to the LAC group", t->id, s->s.id, min, um.state.data_ns,
		 um.state.data_nr, roam_sockaddr_fmt(&t->peer, b, sizeof(b)));
	(void)l2tp_tunnel_send(t, m, now);
	h->stats.sessions_closed_local++;
	h->ho.stats.handoffs_sent++;
	l2tp_session_free(&s->s);

	send_user_moved(h, &um, now);

	/* StopCCN when the tunnel has no other session (figure 5, 342). */
	if (t->nsessions == 0 && t->state == LACD_T_ESTABLISHED)
		l2tp_tunnel_stop(t, L2TP_STOPCCN_CLEAR, 0, "mobile handed off", now);
	else
		lacd_tunnel_session_gone(t, now);
	l2tp_tunnel_done(t);
}

/* ---- USER_MOVED received ---- */

static struct lacd_ho_sender *sender_get(struct lacd *h, uint32_t addr)
{
	uint8_t k[4] = { (uint8_t)(addr >> 24), (uint8_t)(addr >> 16), (uint8_t)(addr >> 8),
			 (uint8_t)addr };
	struct table_node *n = table_lookup(&h->ho.senders, k, 4);
	if (n)
		return table_entry(n, struct lacd_ho_sender, node);
	if (table_count(&h->ho.senders) >= LACD_HO_SENDERS_MAX)
		return NULL;
	struct lacd_ho_sender *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	memcpy(s->key, k, 4);
	replay_ts_init(&s->rt, L2TP_UM_REPLAY_TOLERANCE_MS, 4);
	if (table_insert(&h->ho.senders, &s->node, s->key, 4) < 0) {
		free(s);
		return NULL;
	}
	return s;
}

void lacd_ho_input(struct lacd *h, const uint8_t *pkt, size_t len, uint32_t src, uint64_t now)
{
	struct l2tp_user_moved um;
	const struct roam_key *key;
	const char *why;
	int r;

	h->ho.stats.um_rx++;
	if (!h->ho.ready || !h->conf.handoff.enabled)
		return;
	if (h->ho.lac_addr && src == h->ho.lac_addr) {
		h->ho.stats.um_own++; /* our own, looped back: not logged */
		return;
	}
	if (len < 7) {
		h->ho.stats.um_malformed++;
		why = "malformed";
		goto drop;
	}
	if (!(key = key_by_id(h, pkt[6]))) {
		h->ho.stats.um_unknown_key++;
		why = "unknown key id";
		goto drop;
	}
	/* Decoding verifies the HMAC (constant time) before any field is used. */
	r = l2tp_um_decode(pkt, len, key, &um);
	if (r == -EACCES) {
		h->ho.stats.um_bad_mac++;
		why = "bad HMAC";
		goto drop;
	}
	if (r < 0 || um.hold_s == 0 || um.lns_addr == 0 || um.lns_port == 0) {
		h->ho.stats.um_malformed++;
		why = "malformed";
		goto drop;
	}
	if (h->ho.lac_addr && um.lac_addr == h->ho.lac_addr) {
		h->ho.stats.um_own++;
		return;
	}
	struct lacd_ho_sender *snd = sender_get(h, um.lac_addr);
	if (!snd) {
		h->ho.stats.um_table_full++;
		why = "too many senders";
		goto drop;
	}
	/* Committed only now: the MAC verified, so a forgery cannot move the window. */
	r = l2tp_um_replay_accept(&snd->rt, &um, h->ho.wall_ms());
	if (r == -ERANGE) {
		h->ho.stats.um_stale++;
		why = "timestamp outside +-30 s (clock skew or old)";
		goto drop;
	}
	if (r < 0) {
		h->ho.stats.um_replayed++;
		why = "replayed";
		goto drop;
	}
	if ((r = entry_store(h, &um, false, now)) < 0) {
		h->ho.stats.um_table_full++;
		why = "handoff table full";
		goto drop;
	}
	if (r == 1) {
		log_debug("USER_MOVED: MIN %s: older than the handoff table's entry, ignored",
			  um.min);
		return;
	}
	h->ho.stats.um_accepted++;
	log_info("USER_MOVED: MIN %s left LAC %u.%u.%u.%u (its tunnel %u session %u), LNS "
		 "%u.%u.%u.%u, kept %u s", um.min, um.lac_addr >> 24, (um.lac_addr >> 16) & 0xff,
		 (um.lac_addr >> 8) & 0xff, um.lac_addr & 0xff, um.old_tunnel_id,
		 um.old_session_id, um.lns_addr >> 24, (um.lns_addr >> 16) & 0xff,
		 (um.lns_addr >> 8) & 0xff, um.lns_addr & 0xff, um.hold_s);
	return;
drop:
	log_um(h, now, "dropped: ", why, src);
}

/* ---- arriving (figure 6) ---- */

/* The configured tunnel secret for the LNS at a (NULL: none). */
static const struct lacd_conf_lns *lns_entry(const struct lacd *h, const struct roam_ipaddr *a,
					     uint16_t port)
{
	for (size_t i = 0; i < h->conf.nlns; i++)
		if (roam_ipaddr_eq(&h->conf.lns[i].address, a) && h->conf.lns[i].port == port)
			return &h->conf.lns[i];
	return NULL;
}

static void um_lns(const struct l2tp_user_moved *um, struct roam_ipaddr *a,
		   struct roam_sockaddr *sa)
{
	struct in_addr v4 = { .s_addr = htonl(um->lns_addr) };
	roam_ipaddr_set4(a, v4);
	roam_sockaddr_set(sa, a, um->lns_port);
}

struct lacd_ho_entry *lacd_ho_arrival(struct lacd *h, const char *min, uint64_t now)
{
	struct roam_ipaddr a;
	struct roam_sockaddr sa;
	if (!h->conf.handoff.enabled || !h->ho.vendor)
		return NULL;
	struct lacd_ho_entry *e = lacd_ho_lookup(h, min, now);
	if (!e)
		return NULL;
	h->ho.stats.arrivals++;
	if (e->um.state.auth_proto != PPP_PROTO_CHAP) {
		/* Only CHAP can be asked for again (PAP is the peer's to start). */
		log_info("MIN %s: handed off without CHAP: fresh call", min);
		h->ho.stats.fallback_not_chap++;
		h->ho.stats.fallback_calls++;
		entry_remove(h, min);
		return NULL;
	}
	um_lns(&e->um, &a, &sa);
	const struct lacd_conf_lns *l = lns_entry(h, &a, e->um.lns_port);
	if (!l || !l->secret.len) {
		/* The LNS honours a handoff only on an authenticated tunnel. */
		log_info("MIN %s: no tunnel secret for the LNS of its parked call: fresh call",
			 min);
		h->ho.stats.fallback_no_secret++;
		h->ho.stats.fallback_calls++;
		entry_remove(h, min);
		return NULL;
	}
	return e;
}

static void send_challenge(struct lacd *h, struct lacd_link *l, uint64_t now)
{
	uint8_t buf[4 + 1 + PPP_CHAP_CHALLENGE_LEN + LACD_HOST_NAME_MAX];
	struct wbuf w;
	struct ppp_chap c = { .code = PPP_CHAP_CHALLENGE };
	/* A new Identifier and value every time (RFC 1994 4.1). */
	if (auth_random(l->ho.challenge, sizeof(l->ho.challenge)) < 0)
		return; /* retried at the next timeout */
	l->ho.chap_id = (uint8_t)(l->ho.chap_id + 1 + (l->ho.challenge[0] & 0x0f));
	c.id = l->ho.chap_id;
	c.value = l->ho.challenge;
	c.value_len = sizeof(l->ho.challenge);
	c.name = (const uint8_t *)h->conf.host_name;
	c.name_len = strlen(h->conf.host_name);
	wbuf_init_fixed(&w, buf, sizeof(buf));
	if (ppp_chap_encode(&w, &c) < 0)
		return;
	lacd_access_send_ppp(h, l, PPP_PROTO_CHAP, buf, w.len);
	h->ho.stats.chap_challenges++;
	l->ho_tries++;
	l->ho_due = now + h->conf.handoff.challenge_timeout;
}

/* ho asks for the parked call e describes. */
static void ho_take(struct lacd_ho_call *ho, const struct lacd_ho_entry *e)
{
	ho->old_tunnel_id = e->um.old_tunnel_id;
	ho->old_session_id = e->um.old_session_id;
	ho->cs = e->um.state;
	ho->um_ts = e->um.timestamp_ms;
	ho->um_lac = e->um.lac_addr;
}

/* The table's entry for min when it is newer than the USER_MOVED ho was made from (heard
 * while the handoff was under way: the call moved on from the LAC ho names). */
static struct lacd_ho_entry *newer_entry(struct lacd *h, const char *min,
					 const struct lacd_ho_call *ho, uint64_t now)
{
	struct lacd_ho_entry *e = lacd_ho_lookup(h, min, now);
	return e && e->um.timestamp_ms > ho->um_ts ? e : NULL;
}

void lacd_ho_challenge(struct lacd *h, struct lacd_link *l, const struct lacd_ho_entry *e,
		       uint64_t now)
{
	struct roam_ipaddr a;
	memset(&l->ho, 0, sizeof(l->ho));
	ho_take(&l->ho, e);
	um_lns(&e->um, &a, &l->ho_lns);
	/* What the old LAC learnt of the mobile's PPP is ours now: this LAC never sees that
	 * negotiation, and passes the summary on at the next handoff. */
	const struct l2tp_call_state *cs = &e->um.state;
	memset(&l->snoop, 0, sizeof(l->snoop));
	l->snoop.auth_proto = cs->auth_proto;
	l->snoop.mru = cs->mru;
	l->snoop.mobile_addr = cs->mobile_addr;
	l->snoop.lcp_ack_up = l->snoop.lcp_ack_down = (cs->ppp_flags & L2TP_PPP_LCP_OPENED) != 0;
	l->snoop.ipcp_ack_up = l->snoop.ipcp_ack_down = (cs->ppp_flags & L2TP_PPP_IPCP_OPENED) != 0;
	l->snoop.auth_done = (cs->ppp_flags & L2TP_PPP_AUTH_DONE) != 0;
	/* Frame as the mobile's PPP negotiated (its LCP is open). */
	l->hdlc.accm = e->um.state.accm_send;
	l->dec.accm = e->um.state.accm_recv;
	l->ho_challenging = true;
	l->ho_tries = 0;
	auth_random(&l->ho.chap_id, 1);
	log_info("access link %08x (MIN %s): handed off from another LAC (its tunnel %u session "
		 "%u): CHAP re-challenge", l->id, l->min, l->ho.old_tunnel_id,
		 l->ho.old_session_id);
	send_challenge(h, l, now);
}

/* The challenge phase is over without a usable answer: a fresh call. */
static void arrival_fallback(struct lacd *h, struct lacd_link *l, uint64_t now)
{
	l->ho_challenging = false;
	h->ho.stats.fallback_calls++;
	if (lacd_call_ho(h, l->min, NULL, NULL, now, NULL) < 0 &&
	    lacd_call_ho(h, l->min, &l->ho_lns, NULL, now, NULL) < 0)
		log_warnx("access link %08x (MIN %s): fresh call not placed", l->id, l->min);
}

int lacd_ho_link_frame(struct lacd *h, struct lacd_link *l, uint16_t proto,
		       const uint8_t *info, size_t len, uint64_t now)
{
	struct ppp_chap c;
	if (proto != PPP_PROTO_CHAP)
		return 0;
	if (ppp_chap_decode(info, len, &c) < 0 || c.code != PPP_CHAP_RESPONSE ||
	    c.id != l->ho.chap_id || c.value_len != 16 || c.name_len > PPP_NAME_MAX ||
	    memchr(c.name, 0, c.name_len)) {
		h->ho.stats.chap_bad_response++;
		return 1; /* consumed all the same: CHAP is between the mobile and us now */
	}
	h->ho.stats.chap_responses++;
	memcpy(l->ho.response, c.value, 16);
	memcpy(l->ho.name, c.name, c.name_len);
	l->ho.name[c.name_len] = '\0';
	l->ho_challenging = false;
	log_info("access link %08x (MIN %s): CHAP Response from '%s': ICRQ handoff", l->id, l->min,
		 l->ho.name);
	struct lacd_ho_call ho = l->ho;
	ho.state = LACD_HO_REQUESTED;
	if (lacd_call_ho(h, l->min, &l->ho_lns, &ho, now, NULL) < 0)
		arrival_fallback(h, l, now);
	return 1;
}

struct chal_walk {
	uint64_t now;
	struct lacd_link *due[64];
	size_t n;
};

static int chal_cb(struct table_node *n, void *arg)
{
	struct chal_walk *wk = arg;
	struct lacd_link *l = table_entry(n, struct lacd_link, inode);
	if (l->ho_challenging && l->ho_due <= wk->now && wk->n < 64)
		wk->due[wk->n++] = l;
	return wk->n == 64;
}

void lacd_ho_run_timers(struct lacd *h, uint64_t now)
{
	struct chal_walk wk = { .now = now };
	if (!h->ho.ready)
		return;
	table_expire(&h->ho.table, now);
	if (!h->acc.tables_ready)
		return;
	table_foreach(&h->acc.links, chal_cb, &wk);
	for (size_t i = 0; i < wk.n; i++) {
		struct lacd_link *l = wk.due[i];
		if (l->ho_tries <= h->conf.handoff.challenge_retries) {
			send_challenge(h, l, now);
			continue;
		}
		log_info("access link %08x (MIN %s): no CHAP Response: fresh call", l->id, l->min);
		h->ho.stats.fallback_chap_timeout++;
		entry_remove(h, l->min);
		arrival_fallback(h, l, now);
	}
}

void lacd_ho_icrq(struct lacd *h, struct lacd_session *s, struct l2tp_msg *m)
{
	/* A newer USER_MOVED heard since the challenge (the mobile was here, left, and the LAC
	 * it went to handed it off again): ask for the call where it is parked now. */
	struct lacd_ho_entry *e = newer_entry(h, s->min, &s->ho, h->ep.now);
	struct roam_ipaddr lns;
	uint16_t port = 0;
	memset(&lns, 0, sizeof(lns));
	roam_sockaddr_addr(&s->s.t->peer, &lns, &port);
	if (e && lns.family == AF_INET && ntohl(lns.v4.s_addr) == e->um.lns_addr &&
	    port == e->um.lns_port) {
		log_info("session %u (MIN %s): a newer USER_MOVED (LAC %08x ids %u/%u) replaces the "
			 "one of LAC %08x", s->s.id, s->min, e->um.lac_addr, e->um.old_tunnel_id,
			 e->um.old_session_id, s->ho.um_lac);
		ho_take(&s->ho, e);
	}
	m->ho_avps |= L2TP_HO_BIT(L2TP_HO_AVP_REQUEST) | L2TP_HO_BIT(L2TP_HO_AVP_CALL_STATE);
	m->ho_request.old_tunnel_id = s->ho.old_tunnel_id;
	m->ho_request.old_session_id = s->ho.old_session_id;
	snprintf(m->ho_request.min, sizeof(m->ho_request.min), "%s", s->min);
	m->ho_state = s->ho.cs;
	h->ho.stats.handoffs_requested++;
}

bool lacd_ho_icrp(struct lacd *h, struct lacd_session *s, const struct l2tp_msg *m,
		  struct l2tp_msg *r)
{
	struct lacd_ho_entry *e = lacd_ho_lookup(h, s->min, h->ep.now);
	bool newer = e && e->um.timestamp_ms > s->ho.um_ts;
	if ((m->ho_avps & L2TP_HO_BIT(L2TP_HO_AVP_ACCEPTED)) &&
	    m->ho_accepted.old_tunnel_id == s->ho.old_tunnel_id &&
	    m->ho_accepted.old_session_id == s->ho.old_session_id) {
		if (e)
			entry_remove(h, s->min); /* the call is here now */
		/* Proxy Authen (RFC 2661 4.4.5): the mobile's CHAP on the new access link. */
		r->avps |= L2TP_AVP_BIT(L2TP_AVP_PROXY_AUTH_TYPE) |
			   L2TP_AVP_BIT(L2TP_AVP_PROXY_AUTH_NAME) |
			   L2TP_AVP_BIT(L2TP_AVP_PROXY_AUTH_CHALLENGE) |
			   L2TP_AVP_BIT(L2TP_AVP_PROXY_AUTH_ID) |
			   L2TP_AVP_BIT(L2TP_AVP_PROXY_AUTH_RESPONSE);
		r->proxy_auth_type = L2TP_PROXY_AUTH_CHAP;
		l2tp_bytes_str(&r->proxy_auth_name, s->ho.name);
		l2tp_bytes_set(&r->proxy_auth_challenge, s->ho.challenge, sizeof(s->ho.challenge));
		r->proxy_auth_id = s->ho.chap_id;
		l2tp_bytes_set(&r->proxy_auth_response, s->ho.response, sizeof(s->ho.response));
		/* The data channel goes on where it stopped: the LNS's restored state says what
		 * it sends next and expects next (the old LAC's view when it says nothing). */
		if (m->ho_avps & L2TP_HO_BIT(L2TP_HO_AVP_CALL_STATE)) {
			s->s.data_ns = m->ho_state.data_nr;
			s->s.data_nr = m->ho_state.data_ns;
			/* the framing towards the mobile as the LNS's PPP negotiated it */
			s->ho.cs.accm_send = m->ho_state.accm_send;
			s->ho.cs.accm_recv = m->ho_state.accm_recv;
		} else {
			s->s.data_ns = s->ho.cs.data_ns;
			s->s.data_nr = s->ho.cs.data_nr;
		}
		if (s->ho.cs.ppp_flags & L2TP_PPP_DATA_SEQ)
			s->s.data_seq = true;
		if (s->s.data_seq)
			r->avps |= L2TP_AVP_BIT(L2TP_AVP_SEQUENCING_REQUIRED);
		s->ho.state = LACD_HO_RESUMED;
		h->ho.stats.handoffs_accepted++;
		return true;
	}
	unsigned reason = (m->ho_avps & L2TP_HO_BIT(L2TP_HO_AVP_REFUSED)) ? m->ho_refused.reason
									   : 0;
	if (reason >= LACD_HO_REFUSE_MAX)
		reason = 0;
	h->ho.stats.handoffs_refused++;
	h->ho.stats.refused[reason]++;
	/* The entry asked with is stale (ours, say, after the mobile went A -> B -> A): dropped.
	 * A newer one heard meanwhile is kept, and asked with when the LNS did not know the call
	 * under the old ids (unknown MIN, mismatch): the call moved on while we asked. */
	if (e && !newer)
		entry_remove(h, s->min);
	if (newer && (reason == L2TP_HO_REFUSE_UNKNOWN_MIN || reason == L2TP_HO_REFUSE_MISMATCH)) {
		log_info("session %u (MIN %s): handoff refused by the LNS (reason %u), a newer "
			 "USER_MOVED is known: asking again with it", s->s.id, s->min, reason);
		h->ho.stats.handoffs_retried++;
		s->ho.state = LACD_HO_RETRY;
		return false;
	}
	log_info("session %u (MIN %s): handoff refused by the LNS (reason %u): fresh call, PPP "
		 "renegotiates", s->s.id, s->min, reason);
	h->ho.stats.fallback_refused++;
	h->ho.stats.fallback_calls++;
	s->ho.state = LACD_HO_NONE;
	return false;
}

bool lacd_ho_retry(struct lacd *h, struct lacd_session *s, struct lacd_ho_call *ho,
		   struct roam_sockaddr *lns, uint64_t now)
{
	struct roam_ipaddr a;
	struct lacd_ho_entry *e = newer_entry(h, s->min, &s->ho, now);
	if (!e) {
		h->ho.stats.fallback_refused++;
		h->ho.stats.fallback_calls++;
		s->ho.state = LACD_HO_NONE;
		return false;
	}
	*ho = s->ho;
	ho_take(ho, e);
	ho->state = LACD_HO_REQUESTED;
	um_lns(&e->um, &a, lns);
	return true;
}

bool lacd_ho_cdn(struct lacd *h, struct lacd_session *s, const struct l2tp_msg *m)
{
	if (s->ho.state != LACD_HO_RESUMED || !(m->ho_avps & L2TP_HO_BIT(L2TP_HO_AVP_REFUSED)))
		return false;
	unsigned reason = m->ho_refused.reason < LACD_HO_REFUSE_MAX ? m->ho_refused.reason : 0;
	log_info("session %u (MIN %s): handoff refused at ICCN (reason %u): fresh call", s->s.id,
		 s->min, reason);
	h->ho.stats.handoffs_refused++;
	h->ho.stats.refused[reason]++;
	h->ho.stats.fallback_refused++;
	h->ho.stats.fallback_calls++;
	return lacd_link_by_min(h, s->min) != NULL;
}

/* ---- PPP snooping ---- */

void lacd_ppp_snoop(struct lacd_ppp_snoop *sn, bool up, uint16_t proto, const uint8_t *info,
		    size_t len)
{
	struct ppp_cp cp;
	struct rbuf r;
	struct ppp_opt o;

	if (proto != PPP_PROTO_LCP && proto != PPP_PROTO_IPCP && proto != PPP_PROTO_CHAP &&
	    proto != PPP_PROTO_PAP)
		return;
	if (ppp_cp_decode(info, len, &cp) < 0)
		return;
	switch (proto) {
	case PPP_PROTO_LCP:
		if (cp.code == PPP_TERMREQ ||
		    (cp.code == PPP_CONFREQ && sn->lcp_ack_up && sn->lcp_ack_down)) {
			memset(sn, 0, sizeof(*sn)); /* renegotiation: start over */
			break;
		}
		if (cp.code != PPP_CONFACK)
			break;
		rbuf_init(&r, cp.data, cp.len);
		while (ppp_opt_next(&r, &o) == 1) {
			if (up && o.type == PPP_LCP_AUTH && o.len >= 2)
				sn->auth_proto = (uint16_t)(o.val[0] << 8 | o.val[1]);
			if (!up && o.type == PPP_LCP_MRU && o.len == 2)
				sn->mru = (uint16_t)(o.val[0] << 8 | o.val[1]);
		}
		if (up)
			sn->lcp_ack_up = true;
		else
			sn->lcp_ack_down = true;
		break;
	case PPP_PROTO_IPCP:
		if (cp.code != PPP_CONFACK)
			break;
		if (up) {
			sn->ipcp_ack_up = true;
			break;
		}
		rbuf_init(&r, cp.data, cp.len);
		while (ppp_opt_next(&r, &o) == 1)
			if (o.type == PPP_IPCP_ADDR && o.len == 4)
				sn->mobile_addr = (uint32_t)o.val[0] << 24 | (uint32_t)o.val[1] << 16 |
						  (uint32_t)o.val[2] << 8 | o.val[3];
		sn->ipcp_ack_down = true;
		break;
	case PPP_PROTO_CHAP:
		if (!up && cp.code == PPP_CHAP_SUCCESS)
			sn->auth_done = true;
		break;
	case PPP_PROTO_PAP:
		if (!up && cp.code == PPP_PAP_ACK)
			sn->auth_done = true;
		break;
	}
}

/* ---- socket glue ---- */

static void ho_udp_tx(void *arg, const uint8_t *pkt, size_t len)
{
	struct lacd *h = arg;
	struct roam_sockaddr dst;
	roam_sockaddr_set(&dst, &h->conf.handoff.group, h->conf.handoff.port);
	if (!h->ho.udp || roam_udp_send(h->ho.udp, &dst, pkt, len) < 0)
		h->ho.stats.um_tx_errors++;
}

static void ho_udp_rx(struct roam_udp *u, const struct roam_udp_pkt *pkt, void *arg)
{
	(void)u;
	struct lacd *h = arg;
	struct roam_ipaddr a;
	uint16_t port;
	uint32_t src = 0;
	memset(&a, 0, sizeof(a));
	roam_sockaddr_addr(&pkt->src, &a, &port);
	if (a.family == AF_INET)
		src = ntohl(a.v4.s_addr);
	lacd_ho_input(h, pkt->data, pkt->len, src, uv_now(h->loop));
}

/* The IPv4 address of ifname (0: none). */
static uint32_t if_addr4(const char *ifname)
{
	struct ifaddrs *ifa, *i;
	uint32_t a = 0;
	if (getifaddrs(&ifa) < 0)
		return 0;
	for (i = ifa; i; i = i->ifa_next)
		if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET &&
		    strcmp(i->ifa_name, ifname) == 0) {
			a = ntohl(((const struct sockaddr_in *)(const void *)i->ifa_addr)
					  ->sin_addr.s_addr);
			break;
		}
	freeifaddrs(ifa);
	return a;
}

int lacd_ho_open(struct lacd *h, uv_loop_t *loop)
{
	const struct lacd_conf_handoff *c = &h->conf.handoff;
	struct roam_udp_opts o;
	struct roam_ipaddr any;
	char b[ROAM_ADDRSTRLEN];
	int r;

	if (!c->enabled)
		return 0;
	memset(&o, 0, sizeof(o));
	memset(&any, 0, sizeof(any));
	any.family = AF_INET;
	roam_sockaddr_set(&o.bind, &any, c->port);
	o.reuseaddr = 1;
	if ((r = roam_udp_open(loop, &o, ho_udp_rx, h, &h->ho.udp)) < 0) {
		log_warnx("handoff: cannot listen on port %u: %s", c->port, strerror(-r));
		return r;
	}
	const char *ifn = c->interface[0] ? c->interface : NULL;
	if ((r = roam_udp_mcast_join(h->ho.udp, &c->group, ifn)) < 0) {
		log_warnx("handoff: cannot join %s%s%s: %s",
			  roam_ipaddr_fmt(&c->group, b, sizeof(b)), ifn ? " on " : "",
			  ifn ? ifn : "", strerror(-r));
		lacd_ho_close(h);
		return r;
	}
	if (ifn)
		(void)roam_udp_mcast_if(h->ho.udp, ifn);
	(void)roam_udp_mcast_ttl(h->ho.udp, c->ttl);
	(void)roam_udp_mcast_loop(h->ho.udp, 0);
	if (!h->ho.lac_addr && ifn)
		h->ho.lac_addr = if_addr4(ifn);
	if (!h->ho.lac_addr)
		log_warnx("handoff: no LAC Address (set handoff.address or handoff.interface)");
	h->ho.tx = ho_udp_tx;
	h->ho.tx_arg = h;
	log_info("handoff: LAC group %s port %u%s%s, %zu key(s), hold time %u s",
		 roam_ipaddr_fmt(&c->group, b, sizeof(b)), c->port, ifn ? " on " : "",
		 ifn ? ifn : "", c->nkeys, c->hold_time / 1000);
	return 0;
}

void lacd_ho_close(struct lacd *h)
{
	if (h->ho.udp) {
		roam_udp_close(h->ho.udp, NULL);
		h->ho.udp = NULL;
	}
	h->ho.tx = NULL;
}

/* ---- control commands ---- */

struct table_walk_json {
	struct json_writer *w;
	uint64_t now;
};

static void fmt4(uint32_t a, char *b, size_t n)
{
	snprintf(b, n, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
}

static int entry_json_cb(struct table_node *n, void *arg)
{
	struct table_walk_json *wk = arg;
	struct json_writer *w = wk->w;
	const struct lacd_ho_entry *e = table_entry(n, struct lacd_ho_entry, node);
	char b[32];
	uint64_t exp = table_node_expiry(n);
	json_obj_begin(w);
	json_kv_str(w, "min", e->min);
	fmt4(e->um.lac_addr, b, sizeof(b));
	json_kv_str(w, "lac", b);
	json_kv_bool(w, "own", e->own);
	fmt4(e->um.lns_addr, b, sizeof(b));
	json_kv_str(w, "lns", b);
	json_kv_uint(w, "lns_port", e->um.lns_port);
	json_kv_uint(w, "old_tunnel", e->um.old_tunnel_id);
	json_kv_uint(w, "old_session", e->um.old_session_id);
	json_kv_uint(w, "lns_tunnel", e->um.peer_tunnel_id);
	json_kv_uint(w, "lns_session", e->um.peer_session_id);
	json_kv_uint(w, "data_ns", e->um.state.data_ns);
	json_kv_uint(w, "data_nr", e->um.state.data_nr);
	json_kv_uint(w, "ppp_phase", e->um.state.ppp_phase);
	json_kv_uint(w, "ppp_flags", e->um.state.ppp_flags);
	json_kv_str(w, "auth", e->um.state.auth_proto == PPP_PROTO_CHAP  ? "chap"
			       : e->um.state.auth_proto == PPP_PROTO_PAP ? "pap"
									 : "none");
	fmt4(e->um.state.mobile_addr, b, sizeof(b));
	json_kv_str(w, "mobile_address", b);
	json_kv_uint(w, "hold_s", e->um.hold_s);
	json_kv_uint(w, "key_id", e->um.key_id);
	json_kv_uint(w, "timestamp_ms", e->um.timestamp_ms);
	json_kv_uint(w, "expires_in_ms", exp > wk->now ? exp - wk->now : 0);
	json_obj_end(w);
	return 0;
}

void lacd_ho_table_json(struct lacd *h, struct json_writer *w, uint64_t now)
{
	struct table_walk_json wk = { .w = w, .now = now };
	json_arr_begin(w);
	if (h->ho.ready) {
		table_expire(&h->ho.table, now);
		table_foreach(&h->ho.table, entry_json_cb, &wk);
	}
	json_arr_end(w);
}

void lacd_ho_stats_json(struct lacd *h, struct json_writer *w)
{
	static const char *const reasons[LACD_HO_REFUSE_MAX] = {
		"no_answer", "unknown_min", "not_authenticated", "mismatch", "disabled",
		"mobile_auth",
	};
	const struct lacd_ho_stats *s = &h->ho.stats;
	char k[64];
#define K(f) json_kv_uint(w, #f, s->f)
	K(handoffs_sent), K(plain_cdn), K(um_sent), K(um_tx_errors), K(um_rx), K(um_accepted);
	K(um_bad_mac), K(um_replayed), K(um_stale), K(um_malformed), K(um_own), K(um_unknown_key);
	K(um_table_full), K(um_replaced), K(um_older), K(own_superseded), K(table_expired);
	K(arrivals), K(chap_challenges);
	K(chap_responses), K(chap_bad_response), K(handoffs_requested), K(handoffs_accepted);
	K(handoffs_refused), K(handoffs_retried), K(fallback_calls), K(fallback_not_chap);
	K(fallback_no_secret);
	K(fallback_chap_timeout), K(fallback_refused);
#undef K
	for (size_t i = 0; i < LACD_HO_REFUSE_MAX; i++) {
		snprintf(k, sizeof(k), "handoffs_refused_%s", reasons[i]);
		json_kv_uint(w, k, s->refused[i]);
	}
	json_kv_uint(w, "handoff_table", h->ho.ready ? table_count(&h->ho.table) : 0);
}
