/* The libuv side of a SIP agent (roam/sip_ua.h): the SIP UDP socket, the 50 ms timer tick of
 * the UA's transactions, and per call a media socket with a send timer: the RTP stream the
 * agent sends to the peer's latest SDP address, and the statistics of the stream it receives. */
#include <errno.h>
#include <ifaddrs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roam/clock.h"
#include "roam/ctl.h"
#include "roam/log.h"
#include "roam/sip_ua.h"
#include "roam/udp.h"

#define SIP_AGENT_TICK_MS 50

struct sip_media {
	struct sip_agent *a;
	unsigned slot;
	struct roam_udp *u;
	uv_timer_t timer;
	bool timer_init, active;
	struct roam_sockaddr peer;
	struct roam_ipaddr src;      /* source kept after an accepted NAT continuity claim */
	uint16_t seq;
	uint32_t ts, ssrc;
	uint64_t tx, tx_errors, rx_bad, retargets;
	struct sip_rtp_rx rx;
	unsigned call_id;
};

struct sip_agent {
	uv_loop_t *loop;
	const struct sip_agent_conf *conf;
	struct sip_agent_hooks hooks;
	struct sip_ua *ua;
	struct roam_udp *sock;
	uv_timer_t tick;
	bool auto_called, closing;
	unsigned pending;            /* handles still closing */
	struct sip_media media[SIP_MAX_CALLS];
	struct { /* the last call that ended, for the record */
		bool valid;
		unsigned id;
		uint64_t tx, rx, lost, longest_gap_ms;
	} last;
	uint64_t calls_established, calls_ended, drop_sip_send;
};

static void agent_maybe_free(struct sip_agent *a)
{
	if (a->closing && a->pending == 0) {
		sip_ua_free(a->ua);
		free(a);
	}
}

static void on_handle_closed(uv_handle_t *h)
{
	struct sip_agent *a = h->data;
	a->pending--;
	agent_maybe_free(a);
}

static void on_udp_closed(struct roam_udp *u, void *arg)
{
	(void)u;
	struct sip_agent *a = arg;
	a->pending--;
	agent_maybe_free(a);
}

static void on_media_udp_closed(struct roam_udp *u, void *arg)
{
	(void)u;
	struct sip_media *md = arg;
	md->a->pending--;
	agent_maybe_free(md->a);
}

/* ---- media ---- */

static void media_send(uv_timer_t *t)
{
	struct sip_media *md = t->data;
	uint8_t buf[SIP_RTP_HDR + 1400];
	const struct sip_agent_conf *c = md->a->conf;
	if (!md->u || !md->peer.len)
		return;
	struct sip_rtp_hdr h = { .pt = SIP_RTP_PT_PCMU, .marker = md->tx == 0, .seq = md->seq,
				 .ts = md->ts, .ssrc = md->ssrc };
	int n = sip_rtp_encode(&h, c->media.payload_size, buf, sizeof(buf));
	if (n < 0)
		return;
	md->seq++;
	md->ts += (uint32_t)(8000 / c->media.rate);
	if ((md->src.family ? roam_udp_send_from(md->u, &md->peer, &md->src, 0, buf, (size_t)n)
			    : roam_udp_send(md->u, &md->peer, buf, (size_t)n)) == 0)
		md->tx++;
	else
		md->tx_errors++; /* no route for a moment during a move: the stream goes on */
}

static void media_recv(struct roam_udp *u, const struct roam_udp_pkt *p, void *arg)
{
	(void)u;
	struct sip_media *md = arg;
	struct sip_rtp_hdr h;
	size_t off;
	if (sip_rtp_decode(p->data, p->len, &h, &off) < 0) {
		md->rx_bad++;
		return;
	}
	sip_rtp_rx_account(&md->rx, &h, &p->src, roam_mono_ms());
}

static void media_start(struct sip_agent *a, struct sip_call *c)
{
	unsigned slot = 0;
	while (slot < SIP_MAX_CALLS && sip_ua_call_at(a->ua, slot) != c)
		slot++;
	if (slot == SIP_MAX_CALLS)
		return;
	struct sip_media *md = &a->media[slot];
	if (md->active)
		return;
	memset(&md->rx, 0, sizeof(md->rx));
	md->a = a;
	md->slot = slot;
	md->call_id = c->id;
	md->peer = c->peer_media;
	md->tx = md->tx_errors = md->rx_bad = md->retargets = 0;
	memset(&md->src, 0, sizeof(md->src));
	uint32_t rnd = (uint32_t)roam_mono_ms() ^ (uint32_t)(uintptr_t)md ^ c->id * 2654435761u;
	md->ssrc = rnd;
	md->seq = (uint16_t)(rnd >> 7);
	md->ts = rnd * 7;
	struct roam_udp_opts o = { .reuseaddr = 1 };
	struct roam_ipaddr any = { .family = AF_INET };
	/* a fixed address (a correspondent) is also the source; a mobile's follows its moves */
	roam_sockaddr_set(&o.bind, a->conf->address.family ? &a->conf->address : &any,
			  c->local_media_port);
	int r = roam_udp_open(a->loop, &o, media_recv, md, &md->u);
	if (r < 0) {
		log_warnx("sip: media port %u: %s", c->local_media_port, strerror(-r));
		md->u = NULL;
	}
	if (!md->timer_init) {
		uv_timer_init(a->loop, &md->timer);
		md->timer.data = md;
		md->timer_init = true;
	}
	uint64_t iv = 1000 / a->conf->media.rate;
	uv_timer_start(&md->timer, media_send, iv ? iv : 1, iv ? iv : 1);
	md->active = true;
	a->calls_established++;
}

static void media_stop(struct sip_agent *a, struct sip_call *c)
{
	for (unsigned i = 0; i < SIP_MAX_CALLS; i++) {
		struct sip_media *md = &a->media[i];
		if (!md->active || md->call_id != c->id)
			continue;
		a->last.valid = true;
		a->last.id = c->id;
		a->last.tx = md->tx;
		a->last.rx = md->rx.received;
		a->last.lost = sip_rtp_rx_lost(&md->rx);
		a->last.longest_gap_ms = md->rx.longest_gap_ms;
		uv_timer_stop(&md->timer);
		if (md->u) {
			a->pending++;
			roam_udp_close(md->u, on_media_udp_closed);
		}
		md->u = NULL;
		md->active = false;
		a->calls_ended++;
	}
}

/* ---- UA callbacks ---- */

static int io_send(void *arg, const struct roam_sockaddr *dst, const char *buf, size_t len)
{
	struct sip_agent *a = arg;
	int r = a->sock ? roam_udp_send(a->sock, dst, buf, len) : -EBADF;
	if (r < 0)
		a->drop_sip_send++;
	return r;
}

static void io_call_event(void *arg, struct sip_call *c, enum sip_call_event ev)
{
	struct sip_agent *a = arg;
	char b[ROAM_ADDRSTRLEN];
	switch (ev) {
	case SIP_CALL_EV_ESTABLISHED:
		log_info("sip: call %u %s %s established, media to %s", c->id,
			 c->outgoing ? "to" : "from", c->remote_uri,
			 roam_sockaddr_fmt(&c->peer_media, b, sizeof(b)));
		media_start(a, c);
		break;
	case SIP_CALL_EV_MEDIA:
		log_info("sip: call %u: peer media now at %s", c->id,
			 roam_sockaddr_fmt(&c->peer_media, b, sizeof(b)));
		for (unsigned i = 0; i < SIP_MAX_CALLS; i++)
			if (a->media[i].active && a->media[i].call_id == c->id) {
				a->media[i].peer = c->peer_media;
				a->media[i].retargets++;
			}
		break;
	case SIP_CALL_EV_ENDED:
		log_info("sip: call %u with %s ended", c->id, c->remote_uri);
		media_stop(a, c);
		break;
	}
}

static void io_natc(void *arg, unsigned server, const struct roam_ipaddr *old,
		    const struct roam_ipaddr *new_addr, enum sip_natc_result res)
{
	struct sip_agent *a = arg;
	(void)server;
	/* the sessions of before the move keep the old address (sip-mobility.md 4): their media
	 * goes on from it (the mobile keeps it as a local address) */
	for (unsigned i = 0; res == SIP_NATC_ACCEPTED && i < SIP_MAX_CALLS; i++)
		if (a->media[i].active && !a->media[i].src.family)
			a->media[i].src = *old;
	if (a->hooks.natc_result)
		a->hooks.natc_result(a->hooks.arg, old, new_addr, res);
}

static const struct sip_ua_io agent_io = {
	.send = io_send,
	.call_event = io_call_event,
	.natc_result = io_natc,
};

static void on_sip(struct roam_udp *u, const struct roam_udp_pkt *p, void *arg)
{
	(void)u;
	struct sip_agent *a = arg;
	sip_ua_input(a->ua, p->data, p->len, &p->src, roam_mono_ms());
}

static void on_tick(uv_timer_t *t)
{
	struct sip_agent *a = t->data;
	uint64_t now = roam_mono_ms();
	sip_ua_tick(a->ua, now);
	if (a->conf->auto_call[0] && !a->auto_called && sip_ua_address(a->ua)) {
		struct sip_reg_info ri;
		sip_ua_reg_info(a->ua, 0, &ri);
		if (sip_ua_nservers(a->ua) == 0 || ri.state == SIP_REG_OK) {
			char err[128];
			a->auto_called = true;
			if (sip_agent_call(a, a->conf->auto_call, err, sizeof(err)) < 0)
				log_warnx("sip: auto_call %s: %s", a->conf->auto_call, err);
		}
	}
}

/* ---- API ---- */

int sip_agent_open(uv_loop_t *loop, const struct sip_agent_conf *conf,
		   const struct sip_agent_hooks *hooks, struct sip_agent **out)
{
	struct sip_agent *a = calloc(1, sizeof(*a));
	int r;
	if (!a)
		return -ENOMEM;
	a->loop = loop;
	a->conf = conf;
	if (hooks)
		a->hooks = *hooks;
	struct sip_ua_params p = {
		.aor = conf->aor,
		.user = conf->user,
		.password = conf->password.len ? (const char *)conf->password.data : NULL,
		.servers = conf->servers,
		.nservers = conf->nservers,
		.sip_port = (uint16_t)conf->local_port,
		.media_port = (uint16_t)conf->media.port,
		.expires = (uint32_t)conf->expires,
		.nat_continuity = conf->nat_continuity,
		.io = &agent_io,
		.arg = a,
	};
	if ((r = sip_ua_new(&p, &a->ua)) < 0) {
		free(a);
		return r;
	}
	struct roam_udp_opts o = { .reuseaddr = 1 };
	struct roam_ipaddr any = { .family = AF_INET };
	roam_sockaddr_set(&o.bind, conf->address.family ? &conf->address : &any,
			  (uint16_t)conf->local_port);
	if ((r = roam_udp_open(loop, &o, on_sip, a, &a->sock)) < 0) {
		sip_ua_free(a->ua);
		free(a);
		return r;
	}
	uv_timer_init(loop, &a->tick);
	a->tick.data = a;
	uv_timer_start(&a->tick, on_tick, SIP_AGENT_TICK_MS, SIP_AGENT_TICK_MS);
	if (conf->address.family) {
		sip_agent_set_address(a, &conf->address);
	} else if (conf->interface[0]) {
		/* the interface's first IPv4 address now; mnd follows its changes afterwards */
		struct ifaddrs *ifa = NULL;
		if (getifaddrs(&ifa) == 0) {
			for (struct ifaddrs *p2 = ifa; p2; p2 = p2->ifa_next) {
				struct roam_sockaddr sa;
				struct roam_ipaddr ip;
				uint16_t port;
				if (!p2->ifa_addr || p2->ifa_addr->sa_family != AF_INET ||
				    strcmp(p2->ifa_name, conf->interface) != 0 ||
				    roam_sockaddr_from(&sa, p2->ifa_addr, sizeof(struct sockaddr_in)) < 0 ||
				    roam_sockaddr_addr(&sa, &ip, &port) < 0)
					continue;
				sip_agent_set_address(a, &ip);
				break;
			}
			freeifaddrs(ifa);
		}
	}
	*out = a;
	return 0;
}

void sip_agent_set_address(struct sip_agent *a, const struct roam_ipaddr *addr)
{
	bool first = sip_ua_address(a->ua) == NULL;
	sip_ua_set_address(a->ua, addr, roam_mono_ms());
	/* the first address (or one after an outage with nothing registered yet): register */
	if (first && addr && addr->family) {
		struct sip_reg_info ri;
		sip_ua_reg_info(a->ua, 0, &ri);
		if (ri.state != SIP_REG_OK)
			sip_ua_register(a->ua, (uint32_t)a->conf->expires, roam_mono_ms());
	}
}

struct sip_ua *sip_agent_ua(struct sip_agent *a)
{
	return a->ua;
}

int sip_agent_call(struct sip_agent *a, const char *uri, char *err, size_t errlen)
{
	struct sip_call *c;
	int r = sip_ua_call(a->ua, uri, roam_mono_ms(), &c);
	if (r < 0) {
		snprintf(err, errlen, "%s", r == -EAGAIN ? "no address yet"
				  : r == -EBUSY    ? "call table full"
						   : "not a sip: URI the agent can reach");
		return r;
	}
	log_info("sip: calling %s (call %u)", uri, c->id);
	return (int)c->id;
}

int sip_agent_hangup(struct sip_agent *a, unsigned id, char *err, size_t errlen)
{
	struct sip_call *c = sip_ua_call_by_id(a->ua, id);
	if (!c) {
		snprintf(err, errlen, "no call %u", id);
		return -ENOENT;
	}
	return sip_ua_hangup(a->ua, c, roam_mono_ms());
}

void sip_agent_close(struct sip_agent *a)
{
	if (!a || a->closing)
		return;
	uint64_t now = roam_mono_ms();
	for (unsigned i = 0; i < SIP_MAX_CALLS; i++) {
		struct sip_call *c = sip_ua_call_at(a->ua, i);
		if (c)
			(void)sip_ua_hangup(a->ua, c, now);
	}
	if (sip_ua_address(a->ua))
		sip_ua_register(a->ua, 0, now); /* deregister, best effort (no waiting) */
	a->closing = true;
	uv_timer_stop(&a->tick);
	a->pending++;
	uv_close((uv_handle_t *)&a->tick, on_handle_closed);
	for (unsigned i = 0; i < SIP_MAX_CALLS; i++) {
		struct sip_media *md = &a->media[i];
		if (md->u) {
			a->pending++;
			roam_udp_close(md->u, on_media_udp_closed);
			md->u = NULL;
		}
		if (md->timer_init) {
			uv_timer_stop(&md->timer);
			md->timer.data = a;
			a->pending++;
			uv_close((uv_handle_t *)&md->timer, on_handle_closed);
		}
	}
	a->pending++;
	roam_udp_close(a->sock, on_udp_closed);
	a->sock = NULL;
}

static const char *reg_state_name(enum sip_reg_state s)
{
	switch (s) {
	case SIP_REG_PENDING: return "registering";
	case SIP_REG_OK: return "registered";
	case SIP_REG_FAILED: return "failed";
	default: return "idle";
	}
}

void sip_agent_status(struct sip_agent *a, struct json_writer *w)
{
	char b[ROAM_ADDRSTRLEN];
	const struct roam_ipaddr *ad = sip_ua_address(a->ua);
	uint64_t now = roam_mono_ms();
	json_kv_str(w, "aor", a->conf->aor);
	json_kv_str(w, "address", ad ? roam_ipaddr_fmt(ad, b, sizeof(b)) : "");
	json_key(w, "registrations");
	json_arr_begin(w);
	for (unsigned i = 0; i < sip_ua_nservers(a->ua); i++) {
		struct sip_reg_info ri;
		sip_ua_reg_info(a->ua, i, &ri);
		json_obj_begin(w);
		json_kv_str(w, "server", roam_sockaddr_fmt(&ri.server, b, sizeof(b)));
		json_kv_str(w, "state", reg_state_name(ri.state));
		json_kv_int(w, "last_code", ri.last_code);
		json_kv_uint(w, "expires", ri.expires);
		json_obj_end(w);
	}
	json_arr_end(w);
	json_key(w, "calls");
	json_arr_begin(w);
	for (unsigned i = 0; i < SIP_MAX_CALLS; i++) {
		struct sip_call *c = sip_ua_call_at(a->ua, i);
		if (!c)
			continue;
		struct sip_media *md = &a->media[i];
		json_obj_begin(w);
		json_kv_uint(w, "id", c->id);
		json_kv_str(w, "state", sip_call_state_name(c->state));
		json_kv_str(w, "direction", c->outgoing ? "outgoing" : "incoming");
		json_kv_str(w, "remote", c->remote_uri);
		json_kv_str(w, "remote_target", c->remote_target);
		json_kv_str(w, "call_id", c->call_id);
		json_key(w, "route");
		json_arr_begin(w);
		for (unsigned k = 0; k < c->nroute; k++)
			json_str(w, c->route[k]);
		json_arr_end(w);
		json_kv_str(w, "peer_media", c->peer_media.len ?
			    roam_sockaddr_fmt(&c->peer_media, b, sizeof(b)) : "");
		json_kv_uint(w, "local_media_port", c->local_media_port);
		json_kv_uint(w, "reinvites_sent", c->reinvites_sent);
		json_kv_uint(w, "reinvites_received", c->reinvites_rcvd);
		if (md->active && md->call_id == c->id) {
			json_key(w, "media");
			json_obj_begin(w);
			json_kv_uint(w, "tx", md->tx);
			json_kv_uint(w, "tx_errors", md->tx_errors);
			json_kv_uint(w, "rx", md->rx.received);
			json_kv_uint(w, "lost", sip_rtp_rx_lost(&md->rx));
			json_kv_uint(w, "reordered", md->rx.reordered);
			json_kv_uint(w, "rx_bad", md->rx_bad);
			json_kv_uint(w, "longest_gap_ms", md->rx.longest_gap_ms);
			json_kv_uint(w, "since_last_rx_ms",
				     md->rx.received ? now - md->rx.last_ms : 0);
			json_kv_str(w, "rx_from", md->rx.from.len ?
				    roam_sockaddr_fmt(&md->rx.from, b, sizeof(b)) : "");
			json_kv_str(w, "tx_to", md->peer.len ?
				    roam_sockaddr_fmt(&md->peer, b, sizeof(b)) : "");
			json_kv_uint(w, "retargets", md->retargets);
			json_obj_end(w);
		}
		json_obj_end(w);
	}
	json_arr_end(w);
	if (a->last.valid) {
		json_key(w, "last_call");
		json_obj_begin(w);
		json_kv_uint(w, "id", a->last.id);
		json_kv_uint(w, "tx", a->last.tx);
		json_kv_uint(w, "rx", a->last.rx);
		json_kv_uint(w, "lost", a->last.lost);
		json_kv_uint(w, "longest_gap_ms", a->last.longest_gap_ms);
		json_obj_end(w);
	}
	const struct sip_ua_stats *s = sip_ua_stats(a->ua);
	json_key(w, "counters");
	json_obj_begin(w);
#define K(f) json_kv_uint(w, #f, s->f)
	K(rx_messages); K(tx_messages); K(tx_register); K(rx_register_ok);
	K(rx_register_challenge); K(register_failures); K(tx_invite); K(tx_reinvite);
	K(rx_invite); K(rx_reinvite); K(tx_bye); K(rx_bye); K(tx_ack); K(rx_ack);
	K(retransmissions); K(timeouts); K(moves); K(natc_accepted); K(natc_refused);
	K(drop_unparseable); K(drop_stray_response); K(drop_no_dialog); K(drop_bad_request);
#undef K
	json_kv_uint(w, "calls_established", a->calls_established);
	json_kv_uint(w, "calls_ended", a->calls_ended);
	json_kv_uint(w, "drop_sip_send", a->drop_sip_send);
	json_obj_end(w);
	if (a->hooks.status)
		a->hooks.status(a->hooks.arg, w);
}

/* ---- what every daemon module around an agent does the same way ---- */

int sip_agent_reload(const struct sip_agent_conf *c, const struct sip_agent_conf *old, char *err,
		     size_t errlen)
{
	/* the agent borrows its config: a changed sip section waits for a restart */
	if (!c->aor) { /* the section is gone: keep the running config (the caller restores it) */
		snprintf(err, errlen, "sip: removing the sip section needs a restart");
		return -EINVAL;
	}
	if (strcmp(c->aor, old->aor) != 0 || c->local_port != old->local_port) {
		snprintf(err, errlen, "sip: aor and local_port changes need a restart");
		return -EINVAL;
	}
	/* the running agent keeps its servers, credentials and media ports */
	log_info("reload: sip section changes other than media.rate and auto_call take effect at "
		 "the next restart");
	return 0;
}

static int cmd_sip(void *arg, const struct json_value *args, struct json_writer *w, char *err,
		   size_t errlen)
{
	(void)args, (void)err, (void)errlen;
	json_obj_begin(w);
	sip_agent_status(arg, w);
	json_obj_end(w);
	return 0;
}

static int cmd_call(void *arg, const struct json_value *args, struct json_writer *w, char *err,
		    size_t errlen)
{
	const char *uri;
	int r;
	if ((r = ctl_arg_str(args, "uri", NULL, &uri, err, errlen)) < 0)
		return r;
	if ((r = sip_agent_call(arg, uri, err, errlen)) < 0)
		return r;
	json_obj_begin(w);
	json_kv_int(w, "call", r);
	json_obj_end(w);
	return 0;
}

static int cmd_hangup(void *arg, const struct json_value *args, struct json_writer *w,
		      char *err, size_t errlen)
{
	int64_t id;
	int r;
	if ((r = ctl_arg_int_req(args, "call", 1, UINT32_MAX, &id, err, errlen)) < 0)
		return r;
	if ((r = sip_agent_hangup(arg, (unsigned)id, err, errlen)) < 0)
		return r;
	json_obj_begin(w);
	json_kv_int(w, "call", id);
	json_obj_end(w);
	return 0;
}

int sip_agent_ctl_register(struct sip_agent *a, struct roam_ctl *ctl)
{
	int r;
	if ((r = ctl_register(ctl, "sip", "SIP agent: registrations, calls, media, counters",
			      cmd_sip, a)) < 0 ||
	    (r = ctl_register(ctl, "sip-call", "SIP: call {uri}", cmd_call, a)) < 0 ||
	    (r = ctl_register(ctl, "sip-hangup", "SIP: hang up {call: id}", cmd_hangup, a)) < 0)
		return r;
	return 0;
}
