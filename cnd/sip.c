/* cnd module `sip`: the correspondent's SIP user agent (roam/sip_ua.h; sip-mobility.md part 3).
 * It registers its address-of-record, answers INVITE and re-INVITE (a mobile's re-INVITE after
 * a move carries its new address) and sends its RTP stream to the address of the latest SDP;
 * it can also call (`sip-call`, auto_call). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnd.h"

struct cnd_sip {
	struct cnd *c;
	struct sip_agent *agent;
};

static bool sip_enabled(const void *conf)
{
	return ((const struct cnd_conf *)conf)->sip.aor != NULL;
}

static int sip_start(void *d, void **state)
{
	struct cnd *c = d;
	struct cnd_sip *s = calloc(1, sizeof(*s));
	int r;
	if (!s)
		return -ENOMEM;
	s->c = c;
	if ((r = sip_agent_open(c->loop, &c->conf.sip, NULL, &s->agent)) < 0) {
		free(s);
		return r;
	}
	*state = s;
	return 0;
}

static void sip_stop(void *d, void *state)
{
	(void)d;
	struct cnd_sip *s = state;
	sip_agent_close(s->agent);
	s->agent = NULL;
}

static int sip_reload(void *d, void *state, const void *oldv, char *err, size_t errlen)
{
	const struct cnd *c = d;
	(void)state;
	return sip_agent_reload(&c->conf.sip, &((const struct cnd_conf *)oldv)->sip, err, errlen);
}

static void sip_status(void *d, void *state, struct json_writer *w)
{
	(void)d;
	struct cnd_sip *s = state;
	sip_agent_status(s->agent, w);
}

/* "sip", "sip-call", "sip-hangup" */
static int sip_ctl_register(void *d, void *state, struct roam_ctl *ctl)
{
	(void)d;
	struct cnd_sip *s = state;
	return sip_agent_ctl_register(s->agent, ctl);
}

static void sip_free(void *d, void *state)
{
	(void)d;
	free(state);
}

const struct roam_module cnd_sip_module = {
	.name = "sip",
	.enabled = sip_enabled,
	.start = sip_start,
	.stop = sip_stop,
	.reload = sip_reload,
	.ctl_register = sip_ctl_register,
	.status = sip_status,
	.free = sip_free,
};
