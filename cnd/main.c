/* cnd: arguments, configuration, event loop, module lifecycle.  The mechanisms are modules
 * (roam/module.h): each one with a section in cnd.yaml is started. */
#include <errno.h>
#include <string.h>

#include "cnd.h"
#include "roam/clock.h"
#include "roam/daemon_glue.h"

static const struct roam_module *const cnd_modules[CND_NMODULES] = { &cnd_mip4_module,
								     &cnd_sip_module };

static int cnd_load(void *arg, const struct roam_args *args)
{
	struct cnd *c = arg;
	c->config_path = args->config;
	c->debug = args->debug;
	roam_modules_init(c->mods, cnd_modules, CND_NMODULES);
	if (cnd_conf_load(&c->conf, args->config, NULL, 1, NULL, 0) < 0)
		return -EINVAL;
	return roam_daemon_loaded(args, c->conf.log_level, "%zu module(s) enabled",
				  roam_modules_enabled(c->mods, CND_NMODULES, &c->conf));
}

static int cnd_setup(void *arg, uv_loop_t *loop, struct roam_daemon *d)
{
	struct cnd *c = arg;
	int r;
	c->loop = loop;
	c->daemon = d;
	c->started_wall = roam_wall_ms();
	size_t n = roam_modules_enabled(c->mods, CND_NMODULES, &c->conf);
	if (n == 0)
		log_warnx("no module section in %s: nothing to do", c->config_path);
	if ((r = roam_modules_start(c->mods, CND_NMODULES, c, &c->conf)) < 0)
		return r;
	log_info("started: %zu module(s)", n);
	return 0;
}

static int cnd_reload(void *arg, const char *config, char *err, size_t errlen)
{
	struct cnd *c = arg;
	struct cnd_conf nc, old;
	int r = cnd_conf_load(&nc, config, NULL, 0, err, errlen);
	if (r < 0)
		return r;
	roam_reload_needs_restart(strcmp(c->conf.control_socket, nc.control_socket) != 0,
				  "control_socket");
	old = c->conf;
	c->conf = nc;
	if ((r = roam_modules_reload(c->mods, CND_NMODULES, c, &c->conf, &old, err, errlen)) < 0) {
		cnd_conf_free(&c->conf);
		c->conf = old;
		return r;
	}
	/* The running control socket path stays what it is. */
	ROAM_CONF_KEEP(&c->conf, &old, control_socket);
	cnd_conf_free(&old);
	if (!c->debug)
		log_setlevel((enum log_level)c->conf.log_level);
	return 0;
}

static void cnd_shutdown(void *arg)
{
	struct cnd *c = arg;
	log_info("shutting down");
	roam_modules_stop(c->mods, CND_NMODULES, c);
	c->ctl = NULL;
}

ROAM_DAEMON_ACCESSORS(cnd, struct cnd)

static void cnd_cleanup(void *arg)
{
	struct cnd *c = arg;
	roam_modules_free(c->mods, CND_NMODULES, c);
	cnd_conf_free(&c->conf);
}

int main(int argc, char **argv)
{
	struct cnd c;
	memset(&c, 0, sizeof(c));
	/* keep_caps: routes into the TUN device, raw IP-in-IP, port 434 */
	const struct roam_daemon_desc desc = ROAM_DAEMON_DESC(cnd, &c, ROAM_CAPS_NET);
	return roam_daemon_main(argc, argv, &desc);
}
