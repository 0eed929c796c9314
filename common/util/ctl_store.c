/* Control commands over address-keyed tables (roam/ctl_store.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "roam/ctl_store.h"
#include "roam/log.h"

int ctl_arg_addr(const struct json_value *args, const char *key, int family,
		 struct roam_ipaddr *out, const char **text, char *err, size_t errlen)
{
	int r = ctl_arg_str(args, key, NULL, text, err, errlen);
	if (r < 0)
		return r;
	if (roam_ipaddr_parse(*text, out) < 0 || (family && out->family != family)) {
		snprintf(err, errlen, "argument '%s': not an %saddress: %s", key,
			 family == AF_INET ? "IPv4 " : family == AF_INET6 ? "IPv6 " : "", *text);
		return -EINVAL;
	}
	return 0;
}

int ctl_delete_addr(const struct ctl_delete *d, const struct json_value *args,
		    struct json_writer *result, char *err, size_t errlen)
{
	const char *s;
	struct roam_ipaddr a;
	int r = ctl_arg_addr(args, d->key, d->family, &a, &s, err, errlen);
	if (r < 0)
		return r;
	r = d->remove(d->arg, &a);
	if (r == -ENOENT)
		snprintf(err, errlen, "%s %s", d->missing, s);
	if (r < 0)
		return r;
	log_info("%s %s deleted by the operator", d->what, s);
	json_obj_begin(result);
	json_kv_str(result, "deleted", s);
	json_obj_end(result);
	return 0;
}
