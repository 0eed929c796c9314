/* Binding Warning (route optimization, docs/protocols/mipv4.md 4 and 8.4; draft-ietf-mobileip-
 * optim-09 under roam's type 240): an IP-in-IP datagram reaches one of our care-of addresses for
 * a home address that is no visitor (any more), from a sender that is not a home agent of ours:
 * a correspondent with a stale binding.  fad tells the home agents it has an FA-HA SA with
 * (it no longer knows which one served the mobile): Binding Warning, Home Address = the inner
 * destination, Target = the outer source.  The home agent that binds the address answers the
 * correspondent with a Binding Update; the others count and ignore it.  Not authenticated (it only
 * triggers an authenticated update); at most one per (home address, sender) per second.  Off
 * unless binding_warnings is set (fad.yaml(5)): a previous FA forwarding after an FBU is such a
 * sender too, and only a deployment with correspondents running cnd gains from it. */
#include <string.h>

#include "fad.h"

#define RO_WARN_INTERVAL_MS 1000

void fad_ro_warn(struct fad *f, struct in_addr home, struct in_addr sender, uint64_t now)
{
	if (!f->conf.binding_warnings || f->nhas == 0 || fad_ha_find(f, sender))
		return; /* nobody to tell, or a home agent's own late packet */
	for (size_t i = 0; i < FAD_RO_WARNED; i++) {
		const struct fad_ro_warned *w = &f->ro_warned[i];
		if (w->home.s_addr == home.s_addr && w->sender.s_addr == sender.s_addr &&
		    w->at && now < w->at + RO_WARN_INTERVAL_MS) {
			f->stats.ro_warnings_suppressed++;
			return;
		}
	}
	struct fad_ro_warned *slot = &f->ro_warned[f->ro_warned_next++ % FAD_RO_WARNED];
	slot->home = home;
	slot->sender = sender;
	slot->at = now ? now : 1;
	uint8_t buf[64];
	struct wbuf wb;
	struct mip4_msg m;
	memset(&m, 0, sizeof(m));
	m.type = MIP4_MSG_RO_WARNING;
	m.home = home;
	m.target = sender;
	wbuf_init_fixed(&wb, buf, sizeof(buf));
	if (mip4_msg_encode(&wb, &m) < 0 || wb.err)
		return;
	struct roam_ipaddr none;
	memset(&none, 0, sizeof(none));
	for (size_t i = 0; i < f->nhas; i++) {
		struct roam_ipaddr a;
		struct roam_sockaddr dst;
		roam_ipaddr_set4(&a, f->has[i].addr);
		roam_sockaddr_set(&dst, &a, MIP4_UDP_PORT);
		if (f->send && f->send(f->send_arg, &dst, &none, 0, buf, wb.len) == 0)
			f->stats.ro_warnings_sent++;
		else
			f->stats.drop_tx_error++;
	}
}
