/* Stateless address translation between a mobile's old and new address (seed 004, figures 2,
 * 3A, 3B), over libnftables.  Rule layout, priorities and the reasons: docs/nat-rules.md.
 *
 * One nftables table per owner ("inet roam_<owner>", e.g. roam_sipd) with two base chains:
 *   pre  type filter hook prerouting priority raw (-300)   forwarded and received packets
 *   out  type route  hook output     priority raw (-300)   locally generated packets (re-routed)
 * A pair (old, new) installs payload rewrites (ip/ip6 daddr set, ip/ip6 saddr set; the kernel
 * fixes the IP and TCP/UDP checksums) followed by notrack, every rule carrying the pair's tag as
 * its comment, so the pairs can be listed back from the kernel, removed one by one, and
 * reconciled after a restart.  Optionally a host route for the old address (protocol
 * ROAM_NFT_RTPROT) delivers it into the new network (seed step 240).
 *
 * Commands are generated text run through nft_run_cmd_from_buffer(); each call is one nftables
 * transaction (all rules of a pair or none).  Failures return a negative errno-style code and
 * leave libnftables' message in roam_nft_error().  Acts in the caller's network namespace; needs
 * CAP_NET_ADMIN.  Link with -lnftables (pkg-config --libs libnftables). */
#ifndef ROAM_NFT_H
#define ROAM_NFT_H
#include <stddef.h>

#include "roam/addr.h"

#define ROAM_NFT_OWNER_MAX 32   /* owner: 1..32 of [a-z0-9_] */
#define ROAM_NFT_TAG_MAX 64     /* tag: 1..63 of [A-Za-z0-9._:@+-], with its NUL */
#define ROAM_NFT_ERR_MAX 512
/* rtm_protocol of the host routes installed for pairs (unassigned in iproute2's rt_protos). */
#define ROAM_NFT_RTPROT 176

/* What a pair rewrites (seed section 6). */
#define ROAM_NFT_DST 0x1    /* packets to OLD: daddr := NEW (pre and out chains) */
#define ROAM_NFT_SRC 0x2    /* packets from NEW: saddr := OLD (pre and out chains) */
/* With ROAM_NFT_DST, on a host only: a packet to OLD that a local socket bound to exactly OLD
 * takes (a session started at OLD) is left alone (nft "socket wildcard 0" in prerouting).  For
 * the mobile's own side, where the pair is installed reversed (old = its new address). */
#define ROAM_NFT_GUARD 0x4
#define ROAM_NFT_ALL (ROAM_NFT_DST | ROAM_NFT_SRC | ROAM_NFT_GUARD)

struct roam_nft_pair {
	char tag[ROAM_NFT_TAG_MAX]; /* which binding created the rules */
	struct roam_ipaddr old;     /* same family as new */
	struct roam_ipaddr new;
	unsigned flags;             /* ROAM_NFT_* */
	/* Add only (roam_nft_list() leaves them zero): a host route for old (/32 or /128) through
	 * route_oif and/or route_gw; neither set: no route. */
	int route_oif;
	struct roam_ipaddr route_gw;
};

struct roam_nft;

/* Opens the owner's table, creating table and chains if missing; existing rules are kept (a
 * restarted owner reconciles them with roam_nft_reconcile()).  Errors: -EINVAL (owner), -ENOMEM,
 * -EPERM / -EIO (libnftables refused; *out is NULL and the message is logged at warn level). */
int roam_nft_open(const char *owner, struct roam_nft **out);
/* Frees the handle; the kernel table and routes stay (for a restart).  NULL is a no-op. */
void roam_nft_close(struct roam_nft *t);
/* Removes every pair's route and deletes the table, then frees the handle (even on error).
 * Returns 0 or the first error. */
int roam_nft_destroy(struct roam_nft *t);

/* Installs a pair in one transaction (and its route first, if asked; the route is replaced if it
 * exists, and removed again if the rules fail).  Errors: -EINVAL (tag, families, equal or
 * unspecified/multicast addresses, flags), -EEXIST (the tag, or a pair with the same old or new
 * address, is installed), -EIO/-EPERM (libnftables), route errors from roam_nl_route_replace(). */
int roam_nft_pair_add(struct roam_nft *t, const struct roam_nft_pair *p);
/* Removes the rules with this tag (one transaction) and the ROAM_NFT_RTPROT host route of the
 * pair's old address if there is one.  -ENOENT if no rule carries the tag. */
int roam_nft_pair_del(struct roam_nft *t, const char *tag);
/* Removes every pair (rules and routes); the table and chains stay. */
int roam_nft_flush(struct roam_nft *t);

/* The pairs installed in the kernel table, parsed from libnftables' JSON output: *out is a
 * malloc'ed array the caller frees (NULL when *n is 0).  Rules of our table that are not ours
 * (no or unknown comment) are ignored.  Errors: -EIO, -ENOMEM, -E2BIG (listing over
 * JSON_MAX_INPUT), -EBADMSG (unexpected JSON). */
int roam_nft_list(struct roam_nft *t, struct roam_nft_pair **out, size_t *n);

/* Called per installed pair (borrowed); nonzero keeps it. */
typedef int (*roam_nft_keep_cb)(const struct roam_nft_pair *p, void *arg);
/* After a restart: removes every installed pair keep() does not want.  *removed (may be NULL)
 * counts them.  Returns 0 or the first error (it goes on with the others). */
int roam_nft_reconcile(struct roam_nft *t, roam_nft_keep_cb keep, void *arg, size_t *removed);

/* The message of the last failure ("" if none), borrowed from t. */
const char *roam_nft_error(const struct roam_nft *t);
/* The table's name ("roam_sipd"), borrowed from t. */
const char *roam_nft_table(const struct roam_nft *t);
/* 0 if tag is a valid tag, else -EINVAL. */
int roam_nft_tag_check(const char *tag);

#endif
