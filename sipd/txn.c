/* Non-INVITE server transactions, the part a registrar needs (RFC 3261 17.2.2, 17.2.3): a
 * retransmitted request (same top Via branch, sent-by and method) is answered with the response
 * already sent, without being processed again, for Timer J = 64*T1 = 32 s after it was sent.
 * Otherwise a REGISTER retransmitted over UDP would be refused by the CSeq rule of 10.3 step 7.
 * Requests without an RFC 3261 branch (magic cookie z9hG4bK) are not matched. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <osipparser2/osip_parser.h>

#include "sipd.h"
#include "txn.h"

static void txn_free_cb(struct table *t, struct table_node *n, void *arg)
{
	(void)t;
	(void)arg;
	struct sipd_txn *x = table_entry(n, struct sipd_txn, node);
	free(x->resp);
	free(x);
}

int sipd_txns_init(struct sipd_txns *x, uint64_t now)
{
	memset(x, 0, sizeof(*x));
	int r = table_init(&x->t, txn_free_cb, txn_free_cb, NULL);
	if (r < 0)
		return r;
	table_expire(&x->t, now);
	x->init = true;
	return 0;
}

void sipd_txns_destroy(struct sipd_txns *x)
{
	if (x->init)
		table_destroy(&x->t);
	x->init = false;
}

int sipd_txn_key(struct osip_message *msg, char *key, size_t *len)
{
	osip_via_t *via = NULL;
	osip_generic_param_t *br = NULL;
	if (osip_message_get_via(msg, 0, &via) < 0 || !via || !via->host)
		return -ENOENT;
	osip_via_param_get_byname(via, "branch", &br);
	if (!br || !br->gvalue || strncmp(br->gvalue, "z9hG4bK", 7) != 0)
		return -ENOENT;
	const char *port = via->port ? via->port : "";
	size_t bl = strlen(br->gvalue), hl = strlen(via->host), pl = strlen(port),
	       ml = strlen(msg->sip_method);
	size_t n = bl + 1 + hl + 1 + pl + 1 + ml;
	if (n > TABLE_KEY_MAX)
		return -ENAMETOOLONG;
	char *p = key;
	memcpy(p, br->gvalue, bl + 1);
	p += bl + 1;
	memcpy(p, via->host, hl);
	p += hl;
	*p++ = ':';
	memcpy(p, port, pl + 1);
	p += pl + 1;
	memcpy(p, msg->sip_method, ml);
	*len = n;
	return 0;
}

const struct sipd_txn *sipd_txn_find(struct sipd_txns *x, const char *key, size_t len)
{
	struct table_node *n = table_lookup(&x->t, key, len);
	return n ? table_entry(n, struct sipd_txn, node) : NULL;
}

int sipd_txn_store(struct sipd_txns *x, const char *key, size_t len, const void *resp,
		   size_t resplen, uint64_t expires, uint32_t max)
{
	if (table_count(&x->t) >= max)
		return -ENOSPC;
	if (resplen > UINT16_MAX || len > TABLE_KEY_MAX)
		return -EMSGSIZE;
	struct sipd_txn *t = calloc(1, sizeof(*t) + len);
	if (!t)
		return -ENOMEM;
	t->resp = malloc(resplen);
	if (!t->resp) {
		free(t);
		return -ENOMEM;
	}
	memcpy(t->resp, resp, resplen);
	t->resplen = (uint16_t)resplen;
	memcpy(t->key, key, len);
	t->keylen = (uint8_t)len;
	int r = table_insert(&x->t, &t->node, t->key, t->keylen);
	if (r < 0) {
		free(t->resp);
		free(t);
		return r;
	}
	table_set_expiry(&x->t, &t->node, expires);
	return 0;
}
