/* What the RADIUS tests (tests/unit/common/test_radius.c, tests/unit/lacd/test_aaa.c) need to
 * build an Access-Accept naming L2TP tunnels: the four tagged attributes of one tunnel
 * (RFC 2868 3).  Header-only (static inline). */
#ifndef TEST_RADIUS_TUNNEL_H
#define TEST_RADIUS_TUNNEL_H
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "roam/radius.h"

/* The values of one tunnel's attributes: radius_pkt_add() borrows them, so they must live as
 * long as the packet. */
struct radius_tunnel_attrs {
	uint8_t type[4], medium[4], pref[4];
	uint8_t endpoint[1 + 64];
};

/* Adds to p, tagged tag: Tunnel-Type L2TP, Tunnel-Medium-Type IPv4 (1), Tunnel-Server-Endpoint
 * server and Tunnel-Preference pref, with their values in *a. */
static inline __attribute__((unused)) void
radius_add_l2tp_tunnel(struct radius_pkt *p, struct radius_tunnel_attrs *a, uint8_t tag,
		       const char *server, uint32_t pref)
{
	size_t n = strlen(server);
	cr_assert_lt(n, sizeof(a->endpoint));
	memcpy(a->type, (uint8_t[4]){ tag, 0, 0, RADIUS_TUNNEL_L2TP }, 4);
	memcpy(a->medium, (uint8_t[4]){ tag, 0, 0, 1 }, 4);
	memcpy(a->pref, (uint8_t[4]){ tag, (uint8_t)(pref >> 16), (uint8_t)(pref >> 8), (uint8_t)pref },
	       4);
	a->endpoint[0] = tag;
	memcpy(a->endpoint + 1, server, n);
	cr_assert_eq(radius_pkt_add(p, RADIUS_TUNNEL_TYPE, a->type, 4), 0);
	cr_assert_eq(radius_pkt_add(p, RADIUS_TUNNEL_MEDIUM_TYPE, a->medium, 4), 0);
	cr_assert_eq(radius_pkt_add(p, RADIUS_TUNNEL_SERVER_ENDPOINT, a->endpoint, 1 + n), 0);
	cr_assert_eq(radius_pkt_add(p, RADIUS_TUNNEL_PREFERENCE, a->pref, 4), 0);
}

#endif
