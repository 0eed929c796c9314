/* The mobile's side of the access link: docs/protocols/access-link.md, roam/access_client.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "roam/access_client.h"
#include "roam/auth.h"

void access_client_conf_default(struct access_client_conf *conf)
{
	conf->attach_interval_ms = 1000;
	conf->attach_fast_tries = 5;
	conf->attach_max_ms = 8000;
	conf->nak_retry_ms = 8000;
	conf->silence_delay_ms = 0;
}

const char *access_client_state_str(int state)
{
	switch (state) {
	case ACCESS_CLIENT_IDLE:
		return "idle";
	case ACCESS_CLIENT_DISCOVERY:
		return "discovery";
	case ACCESS_CLIENT_ATTACHED:
		return "attached";
	}
	return "?";
}

int access_client_init(struct access_client *c, const struct access_client_conf *conf,
		       const struct access_client_ops *ops, void *ctx)
{
	if (access_min_valid(conf->min) < 0 || !memchr(conf->nai, 0, sizeof(conf->nai)) ||
	    !ops->tx || !conf->attach_interval_ms)
		return -EINVAL;
	memset(c, 0, sizeof(*c));
	c->conf = *conf;
	c->ops = *ops;
	c->ctx = ctx;
	c->hdlc.accm = PPP_HDLC_ACCM_DEFAULT;
	ppp_hdlc_dec_init(&c->dec, PPP_HDLC_BUF_MAX);
	c->dec.accm = 0;
	return 0;
}

static void send_msg(struct access_client *c, const struct roam_sockaddr *dst,
		     struct access_msg *m)
{
	uint8_t pkt[ACCESS_MSG_MAX + ACCESS_DATA_MAX];
	struct wbuf w;
	wbuf_init_fixed(&w, pkt, sizeof(pkt));
	if (access_msg_encode(m, &w) < 0)
		return;
	c->ops.tx(c->ctx, dst, pkt, w.len);
}

static void link_send(struct access_client *c, struct access_msg *m)
{
	m->link_id = c->link_id;
	m->seq = c->tx_seq++;
	send_msg(c, &c->lac, m);
}

static void send_attach(struct access_client *c, uint64_t now)
{
	struct access_msg m = { .type = ACCESS_ATTACH, .nonce = c->nonce };
	memcpy(m.min, c->conf.min, sizeof(m.min));
	m.nai_len = (uint8_t)strlen(c->conf.nai);
	memcpy(m.nai, c->conf.nai, m.nai_len + 1u);
	c->stats.attach_sent++;
	send_msg(c, &c->conf.target, &m);
	c->tries++;
	if (c->tries >= c->conf.attach_fast_tries) {
		/* A new attempt: new Nonce, the interval doubling. */
		if (auth_random(&c->nonce, sizeof(c->nonce)) < 0)
			c->nonce++;
		c->interval = c->interval * 2 > c->conf.attach_max_ms ? c->conf.attach_max_ms
								       : c->interval * 2;
	}
	c->next_attach = now + c->interval;
}

static void discovery(struct access_client *c, uint64_t now, uint64_t first_delay)
{
	c->state = ACCESS_CLIENT_DISCOVERY;
	c->link_id = 0;
	c->tries = 0;
	c->interval = c->conf.attach_interval_ms;
	if (auth_random(&c->nonce, sizeof(c->nonce)) < 0)
		c->nonce = (uint32_t)now;
	if (first_delay)
		c->next_attach = now + first_delay;
	else
		send_attach(c, now);
}

void access_client_start(struct access_client *c, uint64_t now)
{
	discovery(c, now, 0);
}

static void link_lost(struct access_client *c, int cause, uint64_t now)
{
	/* The LAC ended the call (CDN from the LNS, e.g. PPP authentication failed): do not
	 * hammer it, try again after the NAK back-off.  The LAC went silent: after
	 * silence_delay_ms (the old LAC, which finds the mobile silent at about the same time,
	 * then has told the LAC group: USER_MOVED).  Otherwise attach again at once. */
	discovery(c, now, cause == ACCESS_DETACH_NORMAL ? c->conf.nak_retry_ms
			  : cause < 0				  ? c->conf.silence_delay_ms
							  : 0);
	if (c->ops.lost)
		c->ops.lost(c->ctx, cause);
}

static void handle_data(struct access_client *c, const struct access_msg *m)
{
	const uint8_t *p = m->data;
	size_t left = m->data_len;
	struct ppp_hdlc_frame f;
	int r;
	c->stats.data_rx++;
	while ((r = ppp_hdlc_decode(&c->dec, &p, &left, &f)) != 0) {
		if (r < 0) {
			c->stats.frames_bad++;
			continue;
		}
		c->stats.frames_rx++;
		if (c->ops.ppp_frame)
			c->ops.ppp_frame(c->ctx, f.proto, f.info, f.info_len);
	}
}

void access_client_input(struct access_client *c, const uint8_t *pkt, size_t len,
			 const struct roam_sockaddr *src, uint64_t now)
{
	struct access_msg m;
	if (access_msg_decode(pkt, len, &m, NULL) < 0) {
		c->stats.drop_malformed++;
		return;
	}
	switch (m.type) {
	case ACCESS_ATTACH_ACK:
		if (c->state != ACCESS_CLIENT_DISCOVERY || m.nonce != c->nonce) {
			c->stats.drop_stale_nonce++;
			return;
		}
		c->state = ACCESS_CLIENT_ATTACHED;
		c->lac = *src;
		c->link_id = m.link_id;
		c->tx_seq = 0;
		access_seq_init(&c->rx);
		(void)access_seq_accept(&c->rx, m.seq);
		c->keepalive_ms = m.keepalive_ms;
		c->dead_ms = m.dead_ms;
		c->last_rx = c->attached_at = now;
		c->next_keepalive = now; /* at once: the first KEEPALIVE measures the RTT */
		ppp_hdlc_dec_init(&c->dec, PPP_HDLC_BUF_MAX);
		c->dec.accm = 0;
		c->stats.attach_acked++;
		if (c->ops.attached)
			c->ops.attached(c->ctx, c->link_id);
		return;
	case ACCESS_ATTACH_NAK:
		if (c->state != ACCESS_CLIENT_DISCOVERY || m.nonce != c->nonce) {
			c->stats.drop_stale_nonce++;
			return;
		}
		c->stats.attach_nak++;
		c->stats.last_nak_cause = m.cause;
		discovery(c, now, c->conf.nak_retry_ms);
		return;
	case ACCESS_ATTACH:
		c->stats.drop_foreign++;
		return;
	}
	/* Link messages: only from our LAC, for our link. */
	if (c->state != ACCESS_CLIENT_ATTACHED || m.link_id != c->link_id ||
	    !roam_sockaddr_eq(src, &c->lac)) {
		c->stats.drop_foreign++;
		return;
	}
	uint64_t lost = c->rx.rx_lost;
	if (!access_seq_accept(&c->rx, m.seq) && m.type != ACCESS_DETACH) {
		c->stats.drop_late++;
		return;
	}
	c->stats.rx_lost += c->rx.rx_lost - lost;
	c->last_rx = now;
	switch (m.type) {
	case ACCESS_DETACH:
		c->stats.detach_rx++;
		c->stats.last_detach_cause = m.cause;
		link_lost(c, m.cause, now);
		break;
	case ACCESS_KEEPALIVE_ACK:
		c->stats.keepalive_acked++;
		c->stats.rtt_ms = (uint32_t)now - m.timestamp;
		break;
	case ACCESS_DATA:
		handle_data(c, &m);
		break;
	default:
		c->stats.drop_foreign++; /* KEEPALIVE: only a LAC receives it */
		break;
	}
}

void access_client_tick(struct access_client *c, uint64_t now)
{
	if (c->detach_due && c->detach_due <= now) {
		struct access_msg m = { .type = ACCESS_DETACH, .link_id = c->detach_link,
					.seq = c->detach_seq, .cause = c->detach_cause };
		send_msg(c, &c->detach_dst, &m);
		c->detach_due = 0;
	}
	switch (c->state) {
	case ACCESS_CLIENT_DISCOVERY:
		if (c->next_attach <= now)
			send_attach(c, now);
		break;
	case ACCESS_CLIENT_ATTACHED:
		if (now - c->last_rx >= c->dead_ms) {
			c->stats.lost_silent++;
			link_lost(c, -1, now);
			break;
		}
		if (c->next_keepalive <= now) {
			struct access_msg m = { .type = ACCESS_KEEPALIVE, .timestamp = (uint32_t)now };
			c->stats.keepalive_sent++;
			link_send(c, &m);
			c->next_keepalive = now + c->keepalive_ms;
		}
		break;
	}
}

uint64_t access_client_next_timeout(const struct access_client *c)
{
	uint64_t t = UINT64_MAX;
	if (c->detach_due)
		t = c->detach_due;
	if (c->state == ACCESS_CLIENT_DISCOVERY && c->next_attach < t)
		t = c->next_attach;
	if (c->state == ACCESS_CLIENT_ATTACHED) {
		if (c->next_keepalive < t)
			t = c->next_keepalive;
		if (c->last_rx + c->dead_ms < t)
			t = c->last_rx + c->dead_ms;
	}
	return t;
}

int access_client_send_ppp(struct access_client *c, uint16_t proto, const uint8_t *info,
			   size_t len)
{
	uint8_t out[2 * PPP_HDLC_BUF_MAX + 8];
	struct wbuf w;
	if (c->state != ACCESS_CLIENT_ATTACHED)
		return -ENOTCONN;
	if (len > PPP_MRU_MAX)
		return -EMSGSIZE;
	wbuf_init_fixed(&w, out, sizeof(out));
	if (ppp_hdlc_encode(&w, &c->hdlc, proto, info, len) < 0)
		return -EMSGSIZE;
	for (size_t off = 0; off < w.len; off += ACCESS_DATA_MAX) {
		size_t n = w.len - off < ACCESS_DATA_MAX ? w.len - off : ACCESS_DATA_MAX;
		struct access_msg m = { .type = ACCESS_DATA, .data = out + off, .data_len = n };
		link_send(c, &m);
		c->stats.data_tx++;
	}
	return 0;
}

void access_client_detach(struct access_client *c, uint16_t cause, uint64_t now)
{
	if (c->state == ACCESS_CLIENT_ATTACHED) {
		struct access_msg m = { .type = ACCESS_DETACH, .cause = cause };
		link_send(c, &m);
		c->detach_due = now + 100;
		c->detach_link = c->link_id;
		c->detach_seq = c->tx_seq++;
		c->detach_cause = cause;
		c->detach_dst = c->lac;
	}
	c->state = ACCESS_CLIENT_IDLE;
	c->link_id = 0;
}
