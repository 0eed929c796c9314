/* A daemon's table of optional modules (one per mechanism), each enabled by the presence of its
 * section in the daemon's config: the start / reload / stop / status / free sequence every
 * modular daemon (cnd; mnd's is the model) runs over its table, written once.
 *
 * A module is a struct roam_module with callbacks taking the daemon's state as `void *d` and its
 * config as `const void *conf` (the daemon casts back).  A daemon keeps an array of
 * struct roam_module_slot, one per module, and calls the roam_modules_* functions on it.
 * No global state; pointers are borrowed. */
#ifndef ROAM_MODULE_H
#define ROAM_MODULE_H
#include <stdbool.h>
#include <stddef.h>

#include "roam/ctl.h"
#include "roam/json.h"

struct roam_module {
	const char *name;  /* config section and control command prefix */
	/* true when the module's section is in conf (required) */
	bool (*enabled)(const void *conf);
	/* Opens the module's sockets and timers; *state is the module's own (required). */
	int (*start)(void *d, void **state);
	/* Releases what it set up and closes its handles (required). */
	void (*stop)(void *d, void *state);
	/* The daemon's new config is in place (the previous one in old): apply or refuse (err). */
	int (*reload)(void *d, void *state, const void *old, char *err, size_t errlen);
	int (*ctl_register)(void *d, void *state, struct roam_ctl *ctl);
	/* Members of the module's object in "status" / "stats". */
	void (*status)(void *d, void *state, struct json_writer *w);
	/* Frees the state after the loop ended. */
	void (*free)(void *d, void *state);
};

struct roam_module_slot {
	const struct roam_module *mod;
	void *state;
	bool running;
};

/* Fills slots[i].mod from mods (n entries), clearing state and running. */
void roam_modules_init(struct roam_module_slot *slots, const struct roam_module *const *mods,
		       size_t n);
/* How many modules conf enables. */
size_t roam_modules_enabled(const struct roam_module_slot *slots, size_t n, const void *conf);
/* Starts every enabled module in order; the first failure is logged and returned (modules
 * already started stay running: the daemon's shutdown stops them). */
int roam_modules_start(struct roam_module_slot *slots, size_t n, void *d, const void *conf);
/* Gives every running module the new config (already in place; old is the previous one).
 * Warns that enabling / disabling a module waits for a restart.  Stops at the first refusal
 * (err set) and returns it: the caller puts the old config back. */
int roam_modules_reload(struct roam_module_slot *slots, size_t n, void *d, const void *conf,
			const void *old, char *err, size_t errlen);
/* Stops the started modules in reverse order. */
void roam_modules_stop(struct roam_module_slot *slots, size_t n, void *d);
/* Frees every module's state (after the loop). */
void roam_modules_free(struct roam_module_slot *slots, size_t n, void *d);
/* Registers every running module's control commands. */
int roam_modules_ctl_register(struct roam_module_slot *slots, size_t n, void *d,
			      struct roam_ctl *ctl);
/* Writes "modules": { NAME: { "enabled": bool, ...module status } ... } into an open object. */
void roam_modules_status(const struct roam_module_slot *slots, size_t n, void *d,
			 struct json_writer *w);

#endif
