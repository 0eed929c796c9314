/* sipd's state outside the event loop: set-up and tear-down of the tables, libosip2's parser,
 * the digest secret and credentials; expiry of everything soft; the snapshot save.  Kept apart
 * from main.c so the unit tests drive the same code without sockets. */
#include <errno.h>
#include <string.h>

#include "sipd.h"

int sipd_core_init(struct sipd *s, uint64_t now)
{
	int r;
	char err[256] = "";
	sip_parser_init(); /* libosip2's own messages silenced: our drop path logs the outcome */
	if ((r = sipd_digest_init(&s->digest)) < 0)
		return r;
	if ((r = sipd_loc_init(&s->loc, now)) < 0)
		return r;
	s->loc.expired = &s->stats.bindings_expired;
	if ((r = sipd_txns_init(&s->txns, now)) < 0)
		return r;
	if ((r = sipd_proxy_init(&s->proxy, now)) < 0)
		return r;
	if ((r = sipd_nat_init(s, NULL, now)) < 0)
		return r;
	if (s->conf.credentials.data) {
		r = sipd_creds_parse(&s->creds, (const char *)s->conf.credentials.data,
				     s->conf.credentials.len, err, sizeof(err));
		if (r < 0) {
			log_warnx("%s", err);
			return r;
		}
	}
	if (!s->drop_rl.burst) {
		s->drop_rl.burst = 10;
		s->drop_rl.interval_ms = 1000;
	}
	return 0;
}

void sipd_core_destroy(struct sipd *s)
{
	sipd_nat_destroy(s);
	sipd_proxy_destroy(&s->proxy);
	sipd_txns_destroy(&s->txns);
	sipd_loc_destroy(&s->loc);
	sipd_digest_destroy(&s->digest);
	sipd_creds_free(&s->creds);
}

void sipd_expire(struct sipd *s, uint64_t now)
{
	sipd_loc_expire(&s->loc, now);
	if (s->nat.npairs)
		sipd_nat_sync(s, NULL, now); /* pairs of expired bindings go */
	table_expire(&s->nat.hist, now);
	table_expire(&s->digest.nonces, now);
	table_expire(&s->txns.t, now);
}

int sipd_save(void *arg)
{
	struct sipd *s = arg;
	if (!s->conf.snapshot || !*s->conf.snapshot)
		return 0;
	int r = sipd_loc_save(&s->loc, s->conf.snapshot);
	if (r < 0) {
		s->stats.snapshot_failures++;
		log_warnx("snapshot %s: %s", s->conf.snapshot, strerror(-r));
		return r;
	}
	s->stats.snapshot_saves++;
	return 0;
}

