/* Control commands over a daemon's table of entries keyed by an address (fad's visitors, had's
 * bindings, hlrd's mappings): the address argument and the operator's "delete KEY=ADDR". */
#ifndef ROAM_CTL_STORE_H
#define ROAM_CTL_STORE_H
#include <stddef.h>

#include "roam/addr.h"
#include "roam/ctl.h"
#include "roam/json.h"

/* Required address argument `key`: family AF_INET or AF_INET6 accepts only that family, 0 either.
 * Returns 0 with the address in *out and the argument's text (borrowed from args) in *text, or
 * a negative code with the message in err: ctl_arg_str's, or -EINVAL "argument 'KEY': not an
 * address: TEXT" ("not an IPv4 address" / "not an IPv6 address" with a family). */
int ctl_arg_addr(const struct json_value *args, const char *key, int family,
		 struct roam_ipaddr *out, const char **text, char *err, size_t errlen);

/* The "delete KEY=ADDR" command. */
struct ctl_delete {
	const char *key;     /* argument name ("home") */
	int family;          /* as for ctl_arg_addr */
	const char *missing; /* error for an address with no entry: "MISSING ADDR" ("no visitor") */
	const char *what;    /* log line on success: "WHAT ADDR deleted by the operator" */
	/* Removes the entry of a (borrowed): 0, or -ENOENT when there is none, or another
	 * negative code (its strerror is the reply). */
	int (*remove)(void *arg, const struct roam_ipaddr *a);
	void *arg;
};

/* Runs the command for a handler (same arguments and result as ctl_handler_fn): parses the
 * address, calls d->remove, logs, replies {"deleted": "ADDR"}. */
int ctl_delete_addr(const struct ctl_delete *d, const struct json_value *args,
		    struct json_writer *result, char *err, size_t errlen);

#endif
