/* linkem argument parsers: durations, percentages, rates (see linkem.h). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "linkem.h"

struct unit {
	const char *name;
	double mult;
};

/* Parses a non-negative decimal number followed by one of units (or nothing: dflt). */
static int parse_scaled(const char *s, const struct unit *units, double dflt, double max,
			double *out)
{
	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return -EINVAL;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || !isfinite(v) || v < 0)
		return -EINVAL;
	double mult = dflt;
	if (*end) {
		mult = -1;
		for (const struct unit *u = units; u->name; u++)
			if (strcasecmp(end, u->name) == 0) {
				mult = u->mult;
				break;
			}
		if (mult < 0)
			return -EINVAL;
	}
	v *= mult;
	if (v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int lk_parse_duration(const char *s, uint64_t *ns)
{
	static const struct unit u[] = { { "ns", 1 }, { "us", 1e3 }, { "ms", 1e6 }, { "s", 1e9 },
					 { NULL, 0 } };
	double v;
	/* at most one hour: more is a typo */
	int rc = parse_scaled(s, u, 1e6, 3600e9, &v);
	if (rc)
		return rc;
	*ns = (uint64_t)llround(v);
	return 0;
}

int lk_parse_percent(const char *s, double *p)
{
	static const struct unit u[] = { { "%", 1 }, { NULL, 0 } };
	double v;
	int rc = parse_scaled(s, u, 1, 100, &v);
	if (rc)
		return rc;
	*p = v / 100.0;
	return 0;
}

int lk_parse_rate(const char *s, uint64_t *bps)
{
	static const struct unit u[] = { { "bit", 1 },    { "kbit", 1e3 }, { "mbit", 1e6 },
					 { "gbit", 1e9 }, { "bps", 8 },    { "kbps", 8e3 },
					 { "mbps", 8e6 }, { "gbps", 8e9 }, { NULL, 0 } };
	double v;
	int rc = parse_scaled(s, u, 1, 1e12, &v);
	if (rc)
		return rc;
	if (v != 0 && v < 1) /* 0 means unlimited */
		return -EINVAL;
	*bps = (uint64_t)llround(v);
	return 0;
}
