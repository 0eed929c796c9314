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
	const struct cnd_conf *old = oldv;
	(void)state;
	if (strcmp(c->conf.sip.aor, old->sip.aor) != 0 ||
	    c->conf.sip.local_port != old->sip.local_port) {
		snprintf(err, errlen, "sip: aor and local_port changes need a restart");
		return -EINVAL;
	}
	/* the running agent keeps its servers, credentials and media ports */
	log_info("reload: sip section changes other than media.rate and auto_call take effect at "
		 "the next restart");
	return 0;
}

static void sip_status(void *d, void *state, struct json_writer *w)
{
	(void)d;
	struct cnd_sip *s = state;
	sip_agent_status(s->agent, w);
}

static int cmd_sip(void *arg, const struct json_value *args, struct json_writer *w, char *err,
		   size_t errlen)
{
	struct cnd_sip *s = arg;
	(void)args, (void)err, (void)errlen;
	json_obj_begin(w);
	sip_agent_status(s->agent, w);
	json_obj_end(w);
	return 0;
}

static int cmd_call(void *arg, const struct json_value *args, struct json_writer *w, char *err,
		    size_t errlen)
{
	struct cnd_sip *s = arg;
	const char *uri;
	int r;
	if ((r = ctl_arg_str(args, "uri", NULL, &uri, err, errlen)) < 0)
		return r;
	if ((r = sip_agent_call(s->agent, uri, err, errlen)) < 0)
		return r;
	json_obj_begin(w);
	json_kv_int(w, "call", r);
	json_obj_end(w);
	return 0;
}

static int cmd_hangup(void *arg, const struct json_value *args, struct json_writer *w,
		      char *err, size_t errlen)
{
	struct cnd_sip *s = arg;
	int64_t id;
	int r;
	if ((r = ctl_arg_int_req(args, "call", 1, UINT32_MAX, &id, err, errlen)) < 0)
		return r;
	if ((r = sip_agent_hangup(s->agent, (unsigned)id, err, errlen)) < 0)
		return r;
	json_obj_begin(w);
	json_kv_int(w, "call", id);
	json_obj_end(w);
	return 0;
}

static int sip_ctl_register(void *d, void *state, struct roam_ctl *ctl)
{
	(void)d;
	int r;
	if ((r = ctl_register(ctl, "sip", "SIP agent: registrations, calls, media, counters",
			      cmd_sip, state)) < 0 ||
	    (r = ctl_register(ctl, "sip-call", "SIP: call {uri}", cmd_call, state)) < 0 ||
	    (r = ctl_register(ctl, "sip-hangup", "SIP: hang up {call: id}", cmd_hangup, state)) < 0)
		return r;
	return 0;
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
