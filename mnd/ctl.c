/* Control commands of mnd (mnd(8) CONTROL COMMANDS): status (lifecycle + every module),
 * stats, l2-notice (netlab's `move --notice`), interfaces, and each module's own commands. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mnd.h"

void mnd_status(void *arg, struct json_writer *w)
{
	struct mnd *m = arg;
	json_key(w, "modules");
	json_obj_begin(w);
	for (size_t i = 0; i < MND_NMODULES; i++) {
		struct mnd_module_slot *s = &m->mods[i];
		json_key(w, s->mod ? s->mod->name : "?");
		json_obj_begin(w);
		json_kv_bool(w, "enabled", s->running);
		if (s->running && s->mod->status)
			s->mod->status(m, s->state, w);
		json_obj_end(w);
	}
	json_obj_end(w);
}

static int cmd_stats(void *arg, const struct json_value *args, struct json_writer *w, char *err,
		     size_t errlen)
{
	struct mnd *m = arg;
	(void)args, (void)err, (void)errlen;
	json_obj_begin(w);
	json_kv_uint(w, "link_events", m->stats.link_events);
	json_kv_uint(w, "l2_notices", m->stats.l2_notices);
	json_kv_uint(w, "l2_bad", m->stats.l2_bad);
	mnd_status(m, w);
	json_obj_end(w);
	return 0;
}

int mnd_l2_dispatch(struct mnd *m, const struct mnd_l2_notice *n, char *err, size_t errlen)
{
	int first = 0;
	m->stats.l2_notices++;
	for (size_t i = 0; i < MND_NMODULES; i++) {
		struct mnd_module_slot *s = &m->mods[i];
		if (!s->running || !s->mod->on_l2_notice)
			continue;
		int r = s->mod->on_l2_notice(m, s->state, n, err, errlen);
		if (r < 0 && first == 0)
			first = r;
	}
	if (first < 0)
		m->stats.l2_bad++;
	return first;
}

static int cmd_l2_notice(void *arg, const struct json_value *args, struct json_writer *w,
			 char *err, size_t errlen)
{
	struct mnd *m = arg;
	struct mnd_l2_notice n = { .in_ms = -1 };
	int r;
	if ((r = ctl_arg_str(args, "event", NULL, &n.event, err, errlen)) < 0)
		return r;
	if (strcmp(n.event, "link-going-down") != 0 && strcmp(n.event, "link-down") != 0 &&
	    strcmp(n.event, "link-up") != 0) {
		snprintf(err, errlen, "unknown event '%s' (link-going-down, link-down, link-up)",
			 n.event);
		m->stats.l2_bad++;
		return -EINVAL;
	}
	if ((r = ctl_arg_int(args, "in_ms", -1, -1, 3600000, &n.in_ms, err, errlen)) < 0)
		return r;
	if ((r = ctl_arg_str(args, "to", "", &n.to, err, errlen)) < 0)
		return r;
	if (!n.to[0])
		n.to = NULL;
	if ((r = ctl_arg_str(args, "interface", "", &n.ifname, err, errlen)) < 0)
		return r;
	if (!n.ifname[0])
		n.ifname = NULL;
	log_info("l2-notice %s%s%s%s", n.event, n.to ? " to " : "", n.to ? n.to : "",
		 n.ifname ? " (interface given)" : "");
	if ((r = mnd_l2_dispatch(m, &n, err, errlen)) < 0)
		return r;
	json_obj_begin(w);
	json_kv_str(w, "event", n.event);
	json_obj_end(w);
	return 0;
}

static int cmd_interfaces(void *arg, const struct json_value *args, struct json_writer *w,
			  char *err, size_t errlen)
{
	struct mnd *m = arg;
	(void)args, (void)err, (void)errlen;
	json_arr_begin(w);
	for (size_t i = 0; i < MND_MAX_IFACES; i++) {
		const struct mnd_iface *f = &m->ifaces[i];
		if (!f->present)
			continue;
		json_obj_begin(w);
		json_kv_str(w, "name", f->name);
		json_kv_int(w, "ifindex", f->ifindex);
		json_kv_bool(w, "up", f->up);
		json_kv_bool(w, "running", f->running);
		json_obj_end(w);
	}
	json_arr_end(w);
	return 0;
}

int mnd_ctl_register(struct mnd *m)
{
	int r;
	if ((r = ctl_register(m->ctl, "stats", "daemon and module counters", cmd_stats, m)) < 0 ||
	    (r = ctl_register(m->ctl, "l2-notice",
			      "Layer-2 notice {event: link-going-down|link-down|link-up, in_ms, to, "
			      "interface}", cmd_l2_notice, m)) < 0 ||
	    (r = ctl_register(m->ctl, "interfaces", "interfaces seen by the netlink monitor",
			      cmd_interfaces, m)) < 0)
		return r;
	for (size_t i = 0; i < MND_NMODULES; i++) {
		struct mnd_module_slot *s = &m->mods[i];
		if (s->running && s->mod->ctl_register &&
		    (r = s->mod->ctl_register(m, s->state, m->ctl)) < 0)
			return r;
	}
	return 0;
}
