/* Interface table from a netlink monitor (links and IPv4 addresses), shared by mnd's modules:
 * every event updates the table, then goes to each running module's on_link_event. */
#include <errno.h>
#include <string.h>

#include "mnd.h"

static struct mnd_iface *slot(struct mnd *m, int ifindex, bool create)
{
	struct mnd_iface *free_slot = NULL;
	for (size_t i = 0; i < MND_MAX_IFACES; i++) {
		if (m->ifaces[i].present && m->ifaces[i].ifindex == ifindex)
			return &m->ifaces[i];
		if (!m->ifaces[i].present && !free_slot)
			free_slot = &m->ifaces[i];
	}
	if (!create || !free_slot)
		return NULL;
	memset(free_slot, 0, sizeof(*free_slot));
	free_slot->present = true;
	free_slot->ifindex = ifindex;
	return free_slot;
}

static void on_event(struct roam_nl_mon *mon, const struct roam_nl_event *ev, void *arg)
{
	struct mnd *m = arg;
	(void)mon;
	m->stats.link_events++;
	switch (ev->type) {
	case ROAM_NL_EV_LINK_NEW: {
		struct mnd_iface *f = slot(m, ev->ifindex, true);
		if (!f) {
			log_warnx("interface table full (%d): %s ignored", MND_MAX_IFACES,
				     ev->ifname);
			break;
		}
		snprintf(f->name, sizeof(f->name), "%s", ev->ifname);
		f->up = ev->up;
		f->running = ev->running;
		break;
	}
	case ROAM_NL_EV_LINK_DEL: {
		struct mnd_iface *f = slot(m, ev->ifindex, false);
		if (f)
			f->present = false;
		break;
	}
	case ROAM_NL_EV_OVERRUN:
		log_warnx("netlink monitor overrun: resynchronising");
		(void)roam_nl_mon_dump(m->mon);
		break;
	default:
		break;
	}
	for (size_t i = 0; i < MND_NMODULES; i++) {
		struct mnd_module_slot *s = &m->mods[i];
		if (s->running && s->mod->on_link_event)
			s->mod->on_link_event(m, s->state, ev);
	}
}

int mnd_iface_open(struct mnd *m)
{
	int r = roam_nl_mon_open(m->loop, ROAM_NL_MON_LINK | ROAM_NL_MON_IPV4_ADDR, on_event, m,
				 &m->mon);
	if (r < 0) {
		log_warnx("netlink monitor: %s", strerror(-r));
		return r;
	}
	r = roam_nl_mon_dump(m->mon);
	if (r < 0)
		log_warnx("netlink dump: %s", strerror(-r));
	/* The initial table, synchronously, so that modules find their interfaces at start. */
	struct if_nameindex *ni = if_nameindex();
	if (ni) {
		for (struct if_nameindex *p = ni; p->if_index; p++) {
			struct mnd_iface *f = slot(m, (int)p->if_index, true);
			if (!f)
				break;
			snprintf(f->name, sizeof(f->name), "%s", p->if_name);
			struct roam_nl_link l;
			if (m->nl && roam_nl_link_get(m->nl, (int)p->if_index, &l) == 0) {
				f->up = l.flags & IFF_UP;
				f->running = l.flags & IFF_RUNNING;
			}
		}
		if_freenameindex(ni);
	}
	return 0;
}

void mnd_iface_close(struct mnd *m)
{
	if (m->mon)
		roam_nl_mon_close(m->mon, NULL);
	m->mon = NULL;
}

const struct mnd_iface *mnd_iface_by_name(const struct mnd *m, const char *name)
{
	for (size_t i = 0; i < MND_MAX_IFACES; i++)
		if (m->ifaces[i].present && strcmp(m->ifaces[i].name, name) == 0)
			return &m->ifaces[i];
	return NULL;
}

const struct mnd_iface *mnd_iface_by_index(const struct mnd *m, int ifindex)
{
	for (size_t i = 0; i < MND_MAX_IFACES; i++)
		if (m->ifaces[i].present && m->ifaces[i].ifindex == ifindex)
			return &m->ifaces[i];
	return NULL;
}
