/* The module table sequence of modular daemons (roam/module.h). */
#include <errno.h>
#include <string.h>

#include "roam/log.h"
#include "roam/module.h"

void roam_modules_init(struct roam_module_slot *slots, const struct roam_module *const *mods,
		       size_t n)
{
	for (size_t i = 0; i < n; i++) {
		slots[i].mod = mods[i];
		slots[i].state = NULL;
		slots[i].running = false;
	}
}

size_t roam_modules_enabled(const struct roam_module_slot *slots, size_t n, const void *conf)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (slots[i].mod && slots[i].mod->enabled(conf))
			k++;
	return k;
}

int roam_modules_start(struct roam_module_slot *slots, size_t n, void *d, const void *conf)
{
	for (size_t i = 0; i < n; i++) {
		struct roam_module_slot *s = &slots[i];
		if (!s->mod || !s->mod->enabled(conf))
			continue;
		int r = s->mod->start(d, &s->state);
		if (r < 0) {
			log_warnx("module %s: cannot start: %s", s->mod->name, strerror(-r));
			return r;
		}
		s->running = true;
	}
	return 0;
}

int roam_modules_reload(struct roam_module_slot *slots, size_t n, void *d, const void *conf,
			const void *old, char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		struct roam_module_slot *s = &slots[i];
		if (!s->mod)
			continue;
		if (s->running != s->mod->enabled(conf))
			log_warnx("reload: enabling / disabling %s takes effect at the next restart",
				  s->mod->name);
		if (s->running && s->mod->reload) {
			int r = s->mod->reload(d, s->state, old, err, errlen);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

void roam_modules_stop(struct roam_module_slot *slots, size_t n, void *d)
{
	for (size_t i = n; i-- > 0;) {
		struct roam_module_slot *s = &slots[i];
		if (s->state && s->mod)
			s->mod->stop(d, s->state);
		s->running = false;
	}
}

void roam_modules_free(struct roam_module_slot *slots, size_t n, void *d)
{
	for (size_t i = 0; i < n; i++) {
		struct roam_module_slot *s = &slots[i];
		if (s->state && s->mod && s->mod->free)
			s->mod->free(d, s->state);
		s->state = NULL;
	}
}

int roam_modules_ctl_register(struct roam_module_slot *slots, size_t n, void *d,
			      struct roam_ctl *ctl)
{
	for (size_t i = 0; i < n; i++) {
		struct roam_module_slot *s = &slots[i];
		if (s->running && s->mod->ctl_register) {
			int r = s->mod->ctl_register(d, s->state, ctl);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

void roam_modules_status(const struct roam_module_slot *slots, size_t n, void *d,
			 struct json_writer *w)
{
	json_key(w, "modules");
	json_obj_begin(w);
	for (size_t i = 0; i < n; i++) {
		const struct roam_module_slot *s = &slots[i];
		json_key(w, s->mod ? s->mod->name : "?");
		json_obj_begin(w);
		json_kv_bool(w, "enabled", s->running);
		if (s->running && s->mod->status)
			s->mod->status(d, s->state, w);
		json_obj_end(w);
	}
	json_obj_end(w);
}
