/* sipd's state outside the event loop: set-up and tear-down of the tables, libosip2's parser,
 * the digest secret and credentials; expiry of everything soft; the snapshot save.  Kept apart
 * from main.c so the unit tests drive the same code without sockets. */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include <osipparser2/osip_parser.h>

#include "sipd.h"

static void osip_trace_quiet(const char *fi, int li, osip_trace_level_t level, const char *chfr,
			     va_list ap)
{
	(void)fi;
	(void)li;
	(void)level;
	(void)chfr;
	(void)ap; /* libosip2's own messages: our drop path logs the outcome instead */
}

int sipd_core_init(struct sipd *s, uint64_t now)
{
	int r;
	char err[256] = "";
	parser_init();
	osip_trace_initialize_func(END_TRACE_LEVEL, osip_trace_quiet);
	for (int l = 0; l < END_TRACE_LEVEL; l++)
		osip_trace_disable_level((osip_trace_level_t)l);
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

