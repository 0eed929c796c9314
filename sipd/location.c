/* The location service (RFC 3261 10.3): address-of-record -> contacts, each with its own expiry.
 *
 * One roam/table.h entry per AOR, keyed by the canonical AOR; its contacts hang off it in a
 * short list (at most max_contacts).  The AOR's table expiry is the earliest of its contacts'
 * expiries: when it fires the expired contacts are dropped and the AOR is re-armed for the next
 * one, or freed when none is left.  One table node and one bucket per AOR, one small allocation
 * per contact: about 250 bytes per binding (measured in tests/unit/sipd/test_location.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sipd.h"
#include "roam/clock.h"

static uint64_t aor_min_expiry(const struct sipd_aor *a)
{
	uint64_t m = 0;
	for (const struct sipd_contact *c = a->contacts; c; c = c->next)
		if (m == 0 || c->expires < m)
			m = c->expires;
	return m;
}

static void aor_free(struct sipd_aor *a)
{
	struct sipd_contact *c = a->contacts, *n;
	for (; c; c = n) {
		n = c->next;
		free(c);
	}
	free(a);
}

/* Drops the contacts of a due at now; returns how many. */
static size_t aor_prune(struct sipd_loc *l, struct sipd_aor *a, uint64_t now)
{
	size_t n = 0;
	for (struct sipd_contact **pc = &a->contacts; *pc;) {
		struct sipd_contact *c = *pc;
		if (c->expires <= now) {
			*pc = c->next;
			if (l->on_drop)
				l->on_drop(l->drop_arg, a->key, c, now);
			free(c);
			a->ncontacts--;
			l->nbindings--;
			n++;
		} else {
			pc = &c->next;
		}
	}
	return n;
}

struct expire_arg {
	struct sipd_loc *l;
	uint64_t now;
	size_t n;
};

static void aor_expired(struct table *t, struct table_node *node, void *arg)
{
	struct sipd_loc *l = arg;
	struct sipd_aor *a = table_entry(node, struct sipd_aor, node);
	/* Handed over when its earliest contact is due: contacts due by `now` of this expiry run go. */
	size_t n = aor_prune(l, a, l->now);
	if (l->expired)
		*l->expired += n;
	if (!a->contacts) {
		free(a);
		return;
	}
	if (table_insert(t, &a->node, a->key, a->keylen) < 0) {
		l->nbindings -= a->ncontacts;
		aor_free(a);
		return;
	}
	table_set_expiry(t, &a->node, aor_min_expiry(a));
}

static void aor_destroy_cb(struct table *t, struct table_node *node, void *arg)
{
	(void)t;
	(void)arg;
	aor_free(table_entry(node, struct sipd_aor, node));
}

int sipd_loc_init(struct sipd_loc *l, uint64_t now)
{
	memset(l, 0, sizeof(*l));
	int r = table_init(&l->t, aor_expired, aor_destroy_cb, l);
	if (r < 0)
		return r;
	l->now = now;
	table_expire(&l->t, now); /* start the wheel at now, not 0 */
	l->init = true;
	return 0;
}

void sipd_loc_destroy(struct sipd_loc *l)
{
	if (!l->init)
		return;
	table_destroy(&l->t);
	l->nbindings = 0;
	l->init = false;
}

struct sipd_aor *sipd_loc_find(struct sipd_loc *l, const char *aor)
{
	size_t n = strlen(aor);
	if (n == 0 || n > SIPD_AOR_MAX)
		return NULL;
	struct table_node *node = table_lookup(&l->t, aor, n);
	return node ? table_entry(node, struct sipd_aor, node) : NULL;
}

uint32_t sipd_contact_remaining(const struct sipd_contact *c, uint64_t now)
{
	if (c->expires <= now)
		return 0;
	uint64_t s = (c->expires - now + 999) / 1000;
	return s > UINT32_MAX ? UINT32_MAX : (uint32_t)s;
}

static struct sipd_contact *contact_find(struct sipd_aor *a, const char *uri)
{
	for (struct sipd_contact *c = a->contacts; c; c = c->next)
		if (strcmp(sipd_contact_uri(c), uri) == 0)
			return c;
	return NULL;
}

static struct sipd_contact *contact_new(const char *uri, const char *callid)
{
	size_t ul = strlen(uri), cl = strlen(callid);
	if (ul == 0 || ul > SIPD_URI_MAX || cl > SIPD_CALLID_MAX)
		return NULL;
	struct sipd_contact *c = calloc(1, sizeof(*c) + ul + 1 + cl + 1);
	if (!c)
		return NULL;
	c->urilen = (uint16_t)ul;
	c->callidlen = (uint8_t)cl;
	memcpy(c->data, uri, ul + 1);
	memcpy(c->data + ul + 1, callid, cl + 1);
	return c;
}

static void contact_set(struct sipd_contact *c, const struct sipd_binding_req *b,
			const struct sipd_reg_meta *m, uint64_t now)
{
	c->expires = now + (uint64_t)b->expires_s * 1000;
	c->cseq = m->cseq;
	c->q = b->has_q ? b->q : 1000;
	c->has_q = b->has_q;
	c->transport = m->transport;
	c->src = m->src;
	c->src_port = m->src_port;
	c->updated_wall = roam_wall_ms();
}

static void aor_rearm(struct sipd_loc *l, struct sipd_aor *a)
{
	table_set_expiry(&l->t, &a->node, aor_min_expiry(a));
}

static void aor_unlink_free(struct sipd_loc *l, struct sipd_aor *a)
{
	for (const struct sipd_contact *c = a->contacts; c && l->on_drop; c = c->next)
		l->on_drop(l->drop_arg, a->key, c, l->now);
	l->nbindings -= a->ncontacts;
	table_remove(&l->t, &a->node);
	aor_free(a);
}

int sipd_loc_update(struct sipd_loc *l, const char *aor, const struct sipd_binding_req *reqs,
		    size_t n, bool wildcard, const struct sipd_reg_meta *meta, uint64_t now,
		    uint32_t max_contacts, uint32_t max_bindings, unsigned *created,
		    unsigned *refreshed, unsigned *removed)
{
	unsigned cr = 0, rf = 0, rm = 0;
	size_t alen = strlen(aor);
	if (alen == 0 || alen > SIPD_AOR_MAX || strlen(meta->callid) > SIPD_CALLID_MAX)
		return -EINVAL;
	struct sipd_aor *a = sipd_loc_find(l, aor);
	/* Pass 1: check everything (10.3 step 7: a CSeq that is not higher for the same Call-ID
	 * aborts the whole request) and count what the AOR will hold. */
	if (wildcard) {
		if (a)
			for (struct sipd_contact *c = a->contacts; c; c = c->next)
				if (strcmp(sipd_contact_callid(c), meta->callid) == 0 &&
				    meta->cseq <= c->cseq)
					return -EALREADY;
	} else {
		long count = a ? a->ncontacts : 0;
		size_t adds = 0;
		for (size_t i = 0; i < n; i++) {
			size_t ul = strlen(reqs[i].uri);
			if (ul == 0 || ul > SIPD_URI_MAX)
				return -EINVAL;
			/* the same URI twice in one request: the later one wins, counted once */
			bool dup = false;
			for (size_t j = 0; j < i; j++)
				if (strcmp(reqs[j].uri, reqs[i].uri) == 0)
					dup = true;
			struct sipd_contact *c = a ? contact_find(a, reqs[i].uri) : NULL;
			if (c && strcmp(sipd_contact_callid(c), meta->callid) == 0 &&
			    meta->cseq <= c->cseq)
				return -EALREADY;
			if (dup)
				continue;
			if (c && reqs[i].expires_s == 0)
				count--;
			else if (!c && reqs[i].expires_s > 0) {
				count++;
				adds++;
			}
		}
		if (count > (long)max_contacts)
			return -EMLINK;
		if (adds > 0 && l->nbindings + adds > max_bindings)
			return -ENOSPC;
	}
	/* Pass 2: apply.  Allocate first so that a failure leaves the state untouched. */
	if (!a && !wildcard) {
		bool any = false;
		for (size_t i = 0; i < n; i++)
			any |= reqs[i].expires_s > 0;
		if (!any)
			goto out; /* removing from an AOR with no bindings: nothing to do */
		a = calloc(1, sizeof(*a) + alen + 1);
		if (!a)
			return -ENOMEM;
		memcpy(a->key, aor, alen + 1);
		a->keylen = (uint8_t)alen;
		int r = table_insert(&l->t, &a->node, a->key, a->keylen);
		if (r < 0) {
			free(a);
			return r;
		}
	}
	if (!a)
		goto out;
	if (wildcard) {
		rm = a->ncontacts;
		aor_unlink_free(l, a);
		goto out;
	}
	struct sipd_contact *fresh[64] = { 0 };
	size_t nfresh = 0;
	for (size_t i = 0; i < n; i++) {
		if (reqs[i].expires_s == 0 || contact_find(a, reqs[i].uri))
			continue;
		bool dup = false;
		for (size_t j = 0; j < nfresh; j++)
			if (strcmp(sipd_contact_uri(fresh[j]), reqs[i].uri) == 0)
				dup = true;
		if (dup)
			continue;
		if (nfresh == sizeof(fresh) / sizeof(fresh[0]) ||
		    !(fresh[nfresh] = contact_new(reqs[i].uri, meta->callid))) {
			for (size_t j = 0; j < nfresh; j++)
				free(fresh[j]);
			if (!a->contacts)
				aor_unlink_free(l, a);
			return -ENOMEM;
		}
		contact_set(fresh[nfresh], &reqs[i], meta, now);
		nfresh++;
	}
	for (size_t i = 0; i < n; i++) {
		struct sipd_contact *c = contact_find(a, reqs[i].uri);
		bool isfresh = false;
		for (size_t j = 0; j < nfresh && c; j++)
			isfresh |= fresh[j] == c;
		if (!c || isfresh)
			continue;
		if (reqs[i].expires_s == 0) {
			for (struct sipd_contact **pc = &a->contacts; *pc; pc = &(*pc)->next)
				if (*pc == c) {
					*pc = c->next;
					break;
				}
			if (l->on_drop)
				l->on_drop(l->drop_arg, a->key, c, now);
			free(c);
			a->ncontacts--;
			l->nbindings--;
			rm++;
			continue;
		}
		/* A new Call-ID replaces the stored one (a UA that rebooted). */
		if (strcmp(sipd_contact_callid(c), meta->callid) != 0) {
			struct sipd_contact *nc = contact_new(reqs[i].uri, meta->callid);
			if (!nc)
				continue; /* keep the old binding: refreshed next time */
			for (struct sipd_contact **pc = &a->contacts; *pc; pc = &(*pc)->next)
				if (*pc == c) {
					nc->next = c->next;
					*pc = nc;
					break;
				}
			free(c);
			c = nc;
		}
		contact_set(c, &reqs[i], meta, now);
		rf++;
	}
	/* Apply later duplicates' parameters to fresh contacts, then link them. */
	for (size_t j = 0; j < nfresh; j++) {
		for (size_t i = 0; i < n; i++)
			if (strcmp(reqs[i].uri, sipd_contact_uri(fresh[j])) == 0) {
				if (reqs[i].expires_s > 0)
					contact_set(fresh[j], &reqs[i], meta, now);
			}
		fresh[j]->next = a->contacts;
		a->contacts = fresh[j];
		a->ncontacts++;
		l->nbindings++;
		cr++;
	}
	if (!a->contacts)
		aor_unlink_free(l, a);
	else
		aor_rearm(l, a);
out:
	if (created)
		*created = cr;
	if (refreshed)
		*refreshed = rf;
	if (removed)
		*removed = rm;
	return 0;
}

size_t sipd_loc_remove_aor(struct sipd_loc *l, const char *aor)
{
	struct sipd_aor *a = sipd_loc_find(l, aor);
	if (!a)
		return 0;
	size_t n = a->ncontacts;
	aor_unlink_free(l, a);
	return n;
}

struct cap_ctx {
	struct sipd_loc *l;
	uint64_t limit;
};

static int cap_aor(struct table_node *node, void *arg)
{
	struct cap_ctx *cc = arg;
	struct sipd_aor *a = table_entry(node, struct sipd_aor, node);
	bool changed = false;
	for (struct sipd_contact *c = a->contacts; c; c = c->next)
		if (c->expires > cc->limit) {
			c->expires = cc->limit;
			changed = true;
		}
	if (changed)
		aor_rearm(cc->l, a);
	return 0;
}

void sipd_loc_cap(struct sipd_loc *l, uint64_t max_ms, uint64_t now)
{
	struct cap_ctx cc = { l, now + max_ms };
	table_foreach(&l->t, cap_aor, &cc);
}

size_t sipd_loc_expire(struct sipd_loc *l, uint64_t now)
{
	size_t before = l->nbindings;
	if (now > l->now)
		l->now = now;
	table_expire(&l->t, now);
	return before - l->nbindings;
}

/* ---- snapshots: record SIPD_SNAP_CONTACT =
 *   u8 aorlen, aor; u16 urilen, uri; u8 callidlen, callid; u32 cseq; u16 q; u8 has_q;
 *   u8 transport; u8 family (4|6) + 16 address bytes; u16 port;
 *   u64 expires (wall ms); u64 updated (wall ms) ---- */

struct save_ctx {
	struct snap_writer *w;
	int err;
};

static int save_aor(struct table_node *node, void *arg)
{
	struct save_ctx *sc = arg;
	const struct sipd_aor *a = table_entry(node, struct sipd_aor, node);
	for (const struct sipd_contact *c = a->contacts; c; c = c->next) {
		uint8_t buf[64 + SIPD_AOR_MAX + SIPD_URI_MAX + SIPD_CALLID_MAX];
		uint8_t key[ROAM_IPADDR_KEYLEN];
		struct wbuf w;
		wbuf_init_fixed(&w, buf, sizeof(buf));
		wbuf_put_u8(&w, a->keylen);
		wbuf_put_bytes(&w, a->key, a->keylen);
		wbuf_put_u16(&w, c->urilen);
		wbuf_put_bytes(&w, sipd_contact_uri(c), c->urilen);
		wbuf_put_u8(&w, c->callidlen);
		wbuf_put_bytes(&w, sipd_contact_callid(c), c->callidlen);
		wbuf_put_u32(&w, c->cseq);
		wbuf_put_u16(&w, c->q);
		wbuf_put_u8(&w, c->has_q);
		wbuf_put_u8(&w, c->transport);
		roam_ipaddr_key(&c->src, key);
		wbuf_put_bytes(&w, key, sizeof(key));
		wbuf_put_u16(&w, c->src_port);
		wbuf_put_u64(&w, roam_mono_to_wall(c->expires));
		wbuf_put_u64(&w, c->updated_wall);
		if (w.err) {
			sc->err = w.err;
			return 1;
		}
		int r = snap_put(sc->w, SIPD_SNAP_CONTACT, buf, w.len);
		if (r < 0) {
			sc->err = r;
			return 1;
		}
	}
	return 0;
}

int sipd_loc_save(struct sipd_loc *l, const char *path)
{
	struct save_ctx sc = { NULL, 0 };
	int r = snap_writer_open(&sc.w, path, SIPD_SNAP_KIND);
	if (r < 0)
		return r;
	table_foreach(&l->t, save_aor, &sc);
	if (sc.err < 0) {
		snap_abort(sc.w);
		return sc.err;
	}
	return snap_commit(sc.w);
}

struct load_ctx {
	struct sipd_loc *l;
	uint64_t max_ms, loaded, skipped;
};

static int get_str(struct rbuf *r, size_t len, size_t max, char *out)
{
	if (len == 0 || len > max || rbuf_get_bytes(r, out, len) < 0 || memchr(out, 0, len))
		return -1;
	out[len] = 0;
	return 0;
}

static int load_one(void *arg, uint16_t type, struct rbuf *body)
{
	struct load_ctx *lc = arg;
	char aor[SIPD_AOR_MAX + 1], uri[SIPD_URI_MAX + 1], callid[SIPD_CALLID_MAX + 1];
	uint8_t alen, clen, has_q, tp, fam, ab[16];
	uint16_t ulen, q, port;
	uint32_t cseq;
	uint64_t exp_wall, upd_wall;
	struct roam_ipaddr src;
	if (type != SIPD_SNAP_CONTACT)
		goto skip;
	if (rbuf_get_u8(body, &alen) < 0 || get_str(body, alen, SIPD_AOR_MAX, aor) < 0 ||
	    rbuf_get_u16(body, &ulen) < 0 || get_str(body, ulen, SIPD_URI_MAX, uri) < 0 ||
	    rbuf_get_u8(body, &clen) < 0 ||
	    (clen > 0 && get_str(body, clen, SIPD_CALLID_MAX, callid) < 0) ||
	    rbuf_get_u32(body, &cseq) < 0 || rbuf_get_u16(body, &q) < 0 ||
	    rbuf_get_u8(body, &has_q) < 0 || rbuf_get_u8(body, &tp) < 0 ||
	    rbuf_get_u8(body, &fam) < 0 || rbuf_get_bytes(body, ab, 16) < 0 ||
	    rbuf_get_u16(body, &port) < 0 || rbuf_get_u64(body, &exp_wall) < 0 ||
	    rbuf_get_u64(body, &upd_wall) < 0 || rbuf_left(body) != 0 || q > 1000 || tp > 1)
		goto skip;
	if (clen == 0)
		callid[0] = 0;
	memset(&src, 0, sizeof(src));
	if (fam == 4)
		roam_ipaddr_from_bytes(&src, AF_INET, ab);
	else if (fam == 6)
		roam_ipaddr_from_bytes(&src, AF_INET6, ab);
	uint64_t wall = roam_wall_ms();
	if (exp_wall <= wall)
		goto skip; /* expired while we were down */
	uint64_t left = exp_wall - wall;
	if (left > lc->max_ms)
		left = lc->max_ms;
	uint64_t now = roam_mono_ms();
	struct sipd_binding_req b = { uri, (uint32_t)((left + 999) / 1000), q, has_q };
	struct sipd_reg_meta m = { callid, cseq, tp, src, port };
	struct sipd_aor *a = sipd_loc_find(lc->l, aor);
	if (a && contact_find(a, uri))
		goto skip; /* duplicate record */
	/* Bypass the CSeq check and limits: the snapshot held what was valid before. */
	if (sipd_loc_update(lc->l, aor, &b, 1, false, &m, now, UINT32_MAX, UINT32_MAX, NULL, NULL,
			    NULL) < 0)
		goto skip;
	a = sipd_loc_find(lc->l, aor);
	struct sipd_contact *c = a ? contact_find(a, uri) : NULL;
	if (c) {
		c->expires = now + left;
		c->updated_wall = upd_wall;
		aor_rearm(lc->l, a);
	}
	lc->loaded++;
	return 0;
skip:
	lc->skipped++;
	return 0;
}

int sipd_loc_load(struct sipd_loc *l, const char *path, uint64_t max_ms, uint64_t *loaded,
		  uint64_t *skipped)
{
	struct load_ctx lc = { l, max_ms, 0, 0 };
	int r = snap_load(path, SIPD_SNAP_KIND, load_one, &lc, NULL);
	if (loaded)
		*loaded = lc.loaded;
	if (skipped)
		*skipped = lc.skipped;
	return r;
}
