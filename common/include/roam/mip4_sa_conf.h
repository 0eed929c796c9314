/* Mobile IPv4 security associations in agent configs (fad.yaml, had.yaml, cnd.yaml): one schema
 * fragment for the keys every SA has, and the uniqueness checks the daemons run on SA lists.
 *
 * An SA is a map with
 *	spi:       256 .. 2^32-1, required (0-255 are reserved, RFC 5944 1.6)
 *	key:       a secret in hex, inline or "file:/path" (roam/conf.h CONF_T_SECRET, CONF_F_HEX),
 *	           required, key_min .. AUTH_KEY_MAX bytes
 *	algorithm: "hmac-md5" (RFC 5944, the default) or "keyed-md5" (RFC 2002), an index into
 *	           mip4_sa_algorithms
 * and, for an SA with a peer agent (FA-HA, FA-FA, HA-CN), a label and the peer's address:
 *	name:      label for logs, at most 63 bytes
 *	address:   the peer's IPv4 address, required
 * The daemon's struct T holds them in members of the same names: `uint32_t spi; struct
 * conf_bytes key; int (or unsigned) algorithm;` and for a peer `char *name; struct roam_ipaddr
 * address;`.  The fragments expand to struct conf_field initialisers, to be placed in the
 * daemon's field array among its own fields:
 *	static const struct conf_field had_fa_fields[] = {
 *		MIP4_SA_PEER_CONF_FIELDS(struct had_conf_fa, "the foreign agent's address", 1),
 *	};
 * The role (MN-HA, FA-HA, ...) is named by the help text of the list holding the SAs. */
#ifndef ROAM_MIP4_SA_CONF_H
#define ROAM_MIP4_SA_CONF_H
#include <stddef.h>
#include <stdint.h>

#include "roam/auth.h"
#include "roam/conf.h"
#include "roam/mip4_agent.h"

/* spi, key (at least key_min bytes), algorithm. */
#define MIP4_SA_CONF_FIELDS(T, key_min)                                                    \
	CONF_UINT("spi", T, spi, .flags = CONF_F_REQUIRED, .umin = 256, .umax = UINT32_MAX,       \
		  .help = "SPI of the security association (256 and up)"),                        \
	CONF_SECRET("key", T, key, .flags = CONF_F_REQUIRED | CONF_F_HEX, .umin = (key_min),      \
		    .umax = AUTH_KEY_MAX, .help = "hex key, inline or file:/path"),               \
	CONF_ENUM("algorithm", T, algorithm, mip4_sa_algorithms, .dflt = "hmac-md5",              \
		  .help = "hmac-md5 (RFC 5944) or keyed-md5 (RFC 2002)")

/* name, address (help: what the peer is), then the SA fields. */
#define MIP4_SA_PEER_CONF_FIELDS(T, address_help, key_min)                                 \
	CONF_STRING("name", T, name, .umax = 63, .help = "label for logs"),                        \
	CONF_ADDR("address", T, address, .flags = CONF_F_REQUIRED | CONF_F_V4,                    \
		  .help = (address_help)),                                                        \
	MIP4_SA_CONF_FIELDS(T, key_min)

/* Uniqueness checks for a conf_schema .check (same arguments key, msg, msglen).  base points to
 * n elements of size bytes (a CONF_LIST array named list in the map, borrowed); off is
 * offsetof() the member compared.  On the first repeat (elements i < j, in the order j, then i)
 * *key = list, a message is written and -1 returned; else 0. */
/* The uint32_t member (an SPI): "spi N used by LIST[i] and AGAIN[j]" (again: list, or "" for
 * the short "LIST[i] and [j]"). */
int mip4_sa_conf_unique_spi(const void *base, size_t n, size_t size, size_t off, const char *list,
			    const char *again, const char **key, char *msg, size_t msglen);
/* The struct roam_ipaddr member (roam_ipaddr_eq): "LIST[i] and [j] have the same WHAT". */
int mip4_sa_conf_unique_addr(const void *base, size_t n, size_t size, size_t off,
			     const char *list, const char *what, const char **key, char *msg,
			     size_t msglen);

#endif
