/* RADIUS Access-Request client (RFC 2865 2, 2.5 and 3; RFC 5080 2.2.1; RFC 3579 3.2):
 *
 *   request --> Identifier allocated, random Request Authenticator, Message-Authenticator,
 *               sent to the current server
 *   no valid answer within timeout --> the same datagram again (same Identifier and
 *               authenticator), `retries` times; then the next server (failover, the client
 *               sticks to it for new requests); after every server: RADIUS_RESULT_TIMEOUT
 *   answer      --> matched by Identifier, source (a server the request went to), Response
 *               Authenticator and Message-Authenticator (required); Accept/Reject end it
 *
 * docs/protocols/radius.md. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "roam/auth.h"
#include "roam/radius.h"

int radius_client_init(struct radius_client *c, const struct radius_client_conf *conf)
{
	if (!conf->nservers || conf->nservers > RADIUS_SERVERS_MAX || !conf->secret_len ||
	    conf->secret_len > RADIUS_SECRET_MAX || !conf->tx || !conf->done ||
	    !conf->timeout_ms || conf->retries > 100)
		return -EINVAL;
	memset(c, 0, sizeof(*c));
	c->conf = *conf;
	uint8_t r;
	if (auth_random(&r, 1) == 0)
		c->next_id = r; /* RFC 5080 2.2.1: do not restart from a predictable value */
	return 0;
}

static void slot_free(struct radius_client *c, struct radius_req_slot *s)
{
	free(s->pkt);
	memset(s, 0, sizeof(*s));
	c->busy--;
}

/* Ends the request of s: the slot is freed first (done may start a new request). */
static void finish(struct radius_client *c, struct radius_req_slot *s, enum radius_result res,
		   const struct radius_pkt *resp)
{
	void *user = s->user;
	uint8_t auth[RADIUS_AUTH_LEN];
	memcpy(auth, s->auth, sizeof(auth));
	slot_free(c, s);
	c->conf.done(c->conf.arg, user, res, resp, auth);
}

void radius_client_destroy(struct radius_client *c)
{
	for (size_t i = 0; i < RADIUS_IDS; i++) {
		if (!c->slots[i].busy)
			continue;
		c->stats.cancelled++;
		finish(c, &c->slots[i], RADIUS_RESULT_CANCELLED, NULL);
	}
	explicit_bzero(c->conf.secret, sizeof(c->conf.secret));
}

static void transmit(struct radius_client *c, struct radius_req_slot *s, uint64_t now)
{
	s->tries++;
	s->sent_mask |= 1u << s->server;
	s->due = now + c->conf.timeout_ms;
	c->stats.transmissions++;
	c->conf.tx(c->conf.arg, &c->conf.servers[s->server], s->pkt, s->len);
}

int radius_client_request(struct radius_client *c, const struct radius_attr *attrs,
			  size_t nattrs, void *user, uint64_t now)
{
	struct radius_pkt *p;
	struct radius_req_slot *s = NULL;
	uint8_t hidden[RADIUS_PASSWORD_MAX];
	static const uint8_t zero[RADIUS_AUTH_LEN];
	struct wbuf w;
	size_t hlen;
	int r;

	if (c->busy == RADIUS_IDS)
		return -EAGAIN;
	uint8_t id = c->next_id;
	while (c->slots[id].busy) /* a free one exists: busy < 256 */
		id++;
	s = &c->slots[id];
	c->next_id = (uint8_t)(id + 1);
	if (!(p = calloc(1, sizeof(*p))))
		return -ENOMEM;
	p->code = RADIUS_ACCESS_REQUEST;
	p->id = id;
	if ((r = auth_random(p->authenticator, RADIUS_AUTH_LEN)) < 0)
		goto out;
	for (size_t i = 0; i < nattrs; i++) {
		const struct radius_attr *a = &attrs[i];
		if (a->type == RADIUS_MESSAGE_AUTHENTICATOR)
			continue; /* ours is added below */
		if (a->type == RADIUS_USER_PASSWORD) {
			r = radius_password_hide(c->conf.secret, c->conf.secret_len,
						 p->authenticator, a->value, a->len, hidden, &hlen);
			if (r < 0)
				goto out;
			r = radius_pkt_add(p, a->type, hidden, hlen);
		} else {
			r = radius_pkt_add(p, a->type, a->value, a->len);
		}
		if (r < 0)
			goto out;
	}
	/* RFC 3579 3.2: the Message-Authenticator, computed once the packet is complete. */
	if ((r = radius_pkt_add(p, RADIUS_MESSAGE_AUTHENTICATOR, zero, sizeof(zero))) < 0)
		goto out;
	wbuf_init(&w);
	if ((r = radius_pkt_encode(p, &w)) < 0 ||
	    (r = radius_msg_auth_sign(w.buf, w.len, NULL, c->conf.secret, c->conf.secret_len)) <
		    0) {
		wbuf_free(&w);
		goto out;
	}
	s->busy = true;
	c->busy++;
	s->pkt = w.buf; /* transferred */
	s->len = w.len;
	s->user = user;
	s->server = c->current;
	s->servers_tried = 1;
	memcpy(s->auth, p->authenticator, RADIUS_AUTH_LEN);
	c->stats.requests++;
	transmit(c, s, now);
	r = 0;
out:
	explicit_bzero(hidden, sizeof(hidden));
	free(p);
	return r;
}

int radius_client_cancel(struct radius_client *c, void *user)
{
	for (size_t i = 0; i < RADIUS_IDS; i++)
		if (c->slots[i].busy && c->slots[i].user == user) {
			slot_free(c, &c->slots[i]);
			c->stats.cancelled++;
			return 0;
		}
	return -ENOENT;
}

void radius_client_input(struct radius_client *c, const uint8_t *pkt, size_t len,
			 const struct roam_sockaddr *src, uint64_t now)
{
	struct radius_pkt *p = NULL;
	struct radius_req_slot *s;
	size_t srv;
	int r;
	(void)now;

	c->stats.rx_packets++;
	if (!(p = malloc(sizeof(*p))) || radius_pkt_decode(pkt, len, p, NULL) < 0) {
		c->stats.drop_malformed++;
		goto drop;
	}
	if (p->code != RADIUS_ACCESS_ACCEPT && p->code != RADIUS_ACCESS_REJECT &&
	    p->code != RADIUS_ACCESS_CHALLENGE) {
		c->stats.drop_bad_code++;
		goto drop;
	}
	s = &c->slots[p->id];
	if (!s->busy) {
		c->stats.drop_unknown_id++;
		goto drop;
	}
	for (srv = 0; srv < c->conf.nservers; srv++)
		if ((s->sent_mask & (1u << srv)) && roam_sockaddr_eq(&c->conf.servers[srv], src))
			break;
	if (srv == c->conf.nservers) {
		c->stats.drop_wrong_source++;
		goto drop;
	}
	r = radius_response_verify(pkt, p->length, s->auth, c->conf.secret, c->conf.secret_len,
				   true);
	if (r == -EPERM) {
		c->stats.drop_bad_msg_auth++;
		goto drop;
	}
	if (r < 0) {
		c->stats.drop_bad_authenticator++;
		goto drop;
	}
	enum radius_result res = RADIUS_RESULT_REJECT;
	if (p->code == RADIUS_ACCESS_ACCEPT) {
		c->stats.accepts++;
		res = RADIUS_RESULT_ACCEPT;
	} else if (p->code == RADIUS_ACCESS_REJECT) {
		c->stats.rejects++;
	} else {
		/* RFC 2865 4.4: a NAS without challenge support treats it as a Reject. */
		c->stats.challenges++;
	}
	finish(c, s, res, p);
drop:
	free(p);
}

void radius_client_run(struct radius_client *c, uint64_t now)
{
	for (size_t i = 0; i < RADIUS_IDS; i++) {
		struct radius_req_slot *s = &c->slots[i];
		if (!s->busy || s->due > now)
			continue;
		if (s->tries <= c->conf.retries) {
			c->stats.retransmissions++;
			transmit(c, s, now);
			continue;
		}
		if (s->servers_tried < c->conf.nservers) {
			/* Failover: the server did not answer; new requests go to the next one. */
			s->server = (uint8_t)((s->server + 1) % c->conf.nservers);
			s->servers_tried++;
			s->tries = 0;
			if (c->current != s->server) {
				c->current = s->server;
				c->stats.failovers++;
			}
			transmit(c, s, now);
			continue;
		}
		c->stats.timeouts++;
		finish(c, s, RADIUS_RESULT_TIMEOUT, NULL);
	}
}

uint64_t radius_client_next(const struct radius_client *c)
{
	uint64_t next = UINT64_MAX;
	if (!c->busy)
		return next;
	for (size_t i = 0; i < RADIUS_IDS; i++)
		if (c->slots[i].busy && c->slots[i].due < next)
			next = c->slots[i].due;
	return next;
}
