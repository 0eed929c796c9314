/* mnd: arguments, configuration, event loop, module lifecycle.  The mechanisms are modules
 * (mnd.h, struct mnd_module): each one with a section in mnd.yaml is started. */
#include <errno.h>
#include <string.h>

#include "mnd.h"
#include "roam/clock.h"
#include "roam/daemon_glue.h"

static const struct mnd_module *const mnd_modules[MND_NMODULES] = { &mnd_mip4_module,
								     &mnd_l2tp_module,
								     &mnd_sip_module };

static size_t enabled_count(const struct mnd_conf *c)
{
	size_t n = 0;
	for (size_t i = 0; i < MND_NMODULES; i++)
		if (mnd_modules[i]->enabled(c))
			n++;
	return n;
}

static int mnd_load(void *arg, const struct roam_args *args)
{
	struct mnd *m = arg;
	m->config_path = args->config;
	m->debug = args->debug;
	for (size_t i = 0; i < MND_NMODULES; i++)
		m->mods[i].mod = mnd_modules[i];
	if (mnd_conf_load(&m->conf, args->config, 1, NULL, 0) < 0)
		return -EINVAL;
	return roam_daemon_loaded(args, m->conf.log_level, "%zu module(s) enabled",
				  enabled_count(&m->conf));
}

static int mnd_setup(void *arg, uv_loop_t *loop, struct roam_daemon *d)
{
	struct mnd *m = arg;
	int r;
	m->loop = loop;
	m->daemon = d;
	m->started_wall = roam_wall_ms();
	if ((r = roam_nl_open(1000, &m->nl)) < 0) {
		log_warnx("netlink: %s", strerror(-r));
		return r;
	}
	if ((r = mnd_iface_open(m)) < 0)
		return r;
	if (enabled_count(&m->conf) == 0)
		log_warnx("no module section in %s: nothing to do", m->config_path);
	for (size_t i = 0; i < MND_NMODULES; i++) {
		struct mnd_module_slot *s = &m->mods[i];
		if (!s->mod->enabled(&m->conf))
			continue;
		if ((r = s->mod->start(m, &s->state)) < 0) {
			log_warnx("module %s: cannot start: %s", s->mod->name, strerror(-r));
			return r;
		}
		s->running = true;
	}
	log_info("started: %zu module(s)", enabled_count(&m->conf));
	return 0;
}

static int mnd_reload(void *arg, const char *config, char *err, size_t errlen)
{
	struct mnd *m = arg;
	struct mnd_conf nc, old;
	int r = mnd_conf_load(&nc, config, 0, err, errlen);
	if (r < 0)
		return r;
	roam_reload_needs_restart(strcmp(m->conf.control_socket, nc.control_socket) != 0,
				  "control_socket");
	old = m->conf;
	m->conf = nc;
	for (size_t i = 0; i < MND_NMODULES; i++) {
		struct mnd_module_slot *s = &m->mods[i];
		if (s->running != s->mod->enabled(&m->conf))
			log_warnx("reload: enabling / disabling %s takes effect at the next restart",
				  s->mod->name);
		if (s->running && s->mod->reload &&
		    (r = s->mod->reload(m, s->state, &old, err, errlen)) < 0) {
			mnd_conf_free(&m->conf);
			m->conf = old;
			return r;
		}
	}
	/* The running control socket path stays what it is. */
	ROAM_CONF_KEEP(&m->conf, &old, control_socket);
	mnd_conf_free(&old);
	if (!m->debug)
		log_setlevel((enum log_level)m->conf.log_level);
	return 0;
}

static void mnd_shutdown(void *arg)
{
	struct mnd *m = arg;
	log_info("shutting down");
	for (size_t i = MND_NMODULES; i-- > 0;) {
		struct mnd_module_slot *s = &m->mods[i];
		if (s->state && s->mod)
			s->mod->stop(m, s->state);
		s->running = false;
	}
	mnd_iface_close(m);
	m->ctl = NULL;
}

ROAM_DAEMON_ACCESSORS(mnd, struct mnd)

static void mnd_cleanup(void *arg)
{
	struct mnd *m = arg;
	for (size_t i = 0; i < MND_NMODULES; i++) {
		struct mnd_module_slot *s = &m->mods[i];
		if (s->state && s->mod && s->mod->free)
			s->mod->free(m, s->state);
		s->state = NULL;
	}
	roam_nl_close(m->nl);
	m->nl = NULL;
	mnd_conf_free(&m->conf);
}

int main(int argc, char **argv)
{
	struct mnd m;
	memset(&m, 0, sizeof(m));
	/* routes and addresses, raw ICMP, port 434 */
	const struct roam_daemon_desc desc = ROAM_DAEMON_DESC(mnd, &m, ROAM_CAPS_NET);
	return roam_daemon_main(argc, argv, &desc);
}
