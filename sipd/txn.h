/* Server transaction matching (txn.c), private to sipd. */
#ifndef SIPD_TXN_H
#define SIPD_TXN_H
#include <stddef.h>
#include <stdint.h>

#include "sipd.h"

#define SIPD_TXN_TIMER_J 32000 /* 64 * T1 ms: how long a response is kept for retransmissions */

/* The transaction key of a request: top Via branch, sent-by and method (RFC 3261 17.2.3), into
 * key (TABLE_KEY_MAX bytes).  -ENOENT without an RFC 3261 branch, -ENAMETOOLONG. */
int sipd_txn_key(struct osip_message *msg, char *key, size_t *len);
const struct sipd_txn *sipd_txn_find(struct sipd_txns *x, const char *key, size_t len);
/* Keeps a copy of resp under key until expires (monotonic ms).  -ENOSPC at max entries,
 * -EEXIST, -ENOMEM, -EMSGSIZE. */
int sipd_txn_store(struct sipd_txns *x, const char *key, size_t len, const void *resp,
		   size_t resplen, uint64_t expires, uint32_t max);
#endif
