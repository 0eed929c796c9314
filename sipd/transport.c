/* SIP transports (RFC 3261 18): UDP through roam/udp.h, TCP on libuv with message framing by
 * Content-Length (18.3), a size limit per message, a connection limit and an idle timeout.
 * IPv4 and IPv6 sockets are separate (v6only), one per configured listen address. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sipd.h"

/* ---- framing ---- */

static const uint8_t *find_hdr_end(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i + 3 < len; i++)
		if (p[i] == '\r' && p[i + 1] == '\n' && p[i + 2] == '\r' && p[i + 3] == '\n')
			return p + i;
	return NULL;
}

long sipd_tcp_frame(const uint8_t *buf, size_t len, size_t max, size_t *skip)
{
	size_t ws = 0;
	while (ws < len && (buf[ws] == '\r' || buf[ws] == '\n'))
		ws++;
	*skip = ws;
	const uint8_t *p = buf + ws;
	size_t n = len - ws;
	const uint8_t *end = find_hdr_end(p, n > max + 4 ? max + 4 : n);
	if (!end)
		return n > max ? -EMSGSIZE : 0;
	size_t hlen = (size_t)(end - p) + 4;
	/* Content-Length (or compact "l") at the start of a line: mandatory over TCP. */
	long clen = -1;
	for (size_t i = 0; i < hlen; i++) {
		if (i > 0 && p[i - 1] != '\n')
			continue;
		size_t nl = 0;
		if (hlen - i > 15 && strncasecmp((const char *)p + i, "content-length", 14) == 0)
			nl = 14;
		else if (hlen - i > 2 && (p[i] == 'l' || p[i] == 'L') &&
			 (p[i + 1] == ':' || p[i + 1] == ' ' || p[i + 1] == '\t'))
			nl = 1;
		if (!nl)
			continue;
		size_t j = i + nl;
		while (j < hlen && (p[j] == ' ' || p[j] == '\t'))
			j++;
		if (j >= hlen || p[j] != ':')
			continue;
		j++;
		while (j < hlen && (p[j] == ' ' || p[j] == '\t'))
			j++;
		long v = 0;
		size_t d = 0;
		while (j < hlen && isdigit(p[j]) && d < 9) {
			v = v * 10 + (p[j] - '0');
			j++;
			d++;
		}
		if (d == 0 || (j < hlen && isdigit(p[j])))
			return -EBADMSG;
		if (clen >= 0 && clen != v)
			return -EBADMSG; /* two different lengths */
		clen = v;
	}
	if (clen < 0)
		return -EBADMSG;
	if (hlen + (size_t)clen > max)
		return -EMSGSIZE;
	if (n < hlen + (size_t)clen)
		return 0;
	return (long)(hlen + (size_t)clen);
}

/* ---- UDP ---- */

static void udp_recv(struct roam_udp *u, const struct roam_udp_pkt *pkt, void *arg)
{
	struct sipd_udp_listener *l = arg;
	struct sipd *s = l->s;
	struct sipd_src src = { SIPD_TP_UDP, pkt->src, NULL };
	struct roam_sockaddr dst;
	struct wbuf out;
	wbuf_init(&out);
	if (sipd_handle(s, pkt->data, pkt->len, &src, uv_now(s->loop), &out, &dst) == 1) {
		if (roam_udp_send(u, &dst, out.buf, out.len) < 0)
			s->stats.tx_errors++;
		else
			s->stats.tx_messages++;
	}
	wbuf_free(&out);
}

/* ---- TCP ---- */

static void conn_closed(uv_handle_t *h)
{
	struct sipd_tcp_conn *c = h->data;
	if (--c->closing == 0) {
		free(c->pend);
		free(c->buf);
		free(c);
	}
}

static void conn_close(struct sipd_tcp_conn *c)
{
	if (c->closing)
		return;
	struct sipd *s = c->s;
	*c->pprev = c->next;
	if (c->next)
		c->next->pprev = c->pprev;
	s->nconns--;
	s->stats.tcp_closed++;
	c->closing = 2;
	uv_timer_stop(&c->idle);
	uv_close((uv_handle_t *)&c->idle, conn_closed);
	uv_close((uv_handle_t *)&c->handle, conn_closed);
}

static void idle_cb(uv_timer_t *t)
{
	struct sipd_tcp_conn *c = t->data;
	c->s->stats.tcp_idle_closed++;
	conn_close(c);
}

struct write_req {
	uv_write_t req;
	uv_buf_t buf;
};

static void write_done(uv_write_t *w, int status)
{
	struct write_req *wr = (struct write_req *)w;
	(void)status;
	free(wr->buf.base);
	free(wr);
}

static void conn_send(struct sipd_tcp_conn *c, const uint8_t *data, size_t len)
{
	if (c->connecting) {
		uint8_t *np = realloc(c->pend, c->pendlen + len);
		if (!np) {
			c->s->stats.tx_errors++;
			return;
		}
		memcpy(np + c->pendlen, data, len);
		c->pend = np;
		c->pendlen += len;
		return;
	}
	struct write_req *wr = calloc(1, sizeof(*wr));
	char *copy = malloc(len);
	if (!wr || !copy) {
		free(wr);
		free(copy);
		c->s->stats.tx_errors++;
		return;
	}
	memcpy(copy, data, len);
	wr->buf = uv_buf_init(copy, (unsigned)len);
	if (uv_write(&wr->req, (uv_stream_t *)&c->handle, &wr->buf, 1, write_done) < 0) {
		free(copy);
		free(wr);
		c->s->stats.tx_errors++;
		return;
	}
	c->s->stats.tx_messages++;
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct sipd_tcp_conn *c = h->data;
	(void)suggested;
	size_t want = c->s->conf.max_message_size + 4096;
	if (c->cap < want) {
		uint8_t *nb = realloc(c->buf, want);
		if (!nb) {
			*buf = uv_buf_init(NULL, 0);
			return;
		}
		c->buf = nb;
		c->cap = want;
	}
	*buf = uv_buf_init((char *)c->buf + c->len, (unsigned)(c->cap - c->len));
}

static void read_cb(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
	struct sipd_tcp_conn *c = st->data;
	struct sipd *s = c->s;
	(void)buf;
	if (nread < 0) {
		conn_close(c);
		return;
	}
	c->len += (size_t)nread;
	uv_timer_again(&c->idle);
	for (;;) {
		size_t skip = 0;
		long m = sipd_tcp_frame(c->buf, c->len, s->conf.max_message_size, &skip);
		if (m < 0) {
			/* No way to resynchronise a stream: count, log, close (18.3). */
			char b[ROAM_ADDRSTRLEN];
			s->stats.tcp_framing_errors++;
			if (m == -EMSGSIZE)
				s->stats.drop_oversize++;
			log_rl_warnx(&s->drop_rl, "closing TCP connection from %s: %s",
				     roam_sockaddr_fmt(&c->peer, b, sizeof(b)),
				     m == -EMSGSIZE ? "message too large" : "bad Content-Length");
			conn_close(c);
			return;
		}
		if (skip >= 4 && m == 0) {
			/* RFC 5626 3.5.1 double-CRLF ping: answer a single CRLF pong. */
			s->stats.keepalives++;
			conn_send(c, (const uint8_t *)"\r\n", 2);
		}
		if (m == 0) {
			if (skip) {
				memmove(c->buf, c->buf + skip, c->len - skip);
				c->len -= skip;
			}
			return;
		}
		struct sipd_src src = { SIPD_TP_TCP, c->peer, c };
		struct roam_sockaddr dst;
		struct wbuf out;
		wbuf_init(&out);
		if (sipd_handle(s, c->buf + skip, (size_t)m, &src, uv_now(s->loop), &out, &dst) == 1)
			conn_send(c, out.buf, out.len);
		wbuf_free(&out);
		size_t used = skip + (size_t)m;
		memmove(c->buf, c->buf + used, c->len - used);
		c->len -= used;
	}
}

static struct sipd_tcp_conn *conn_new(struct sipd *s)
{
	struct sipd_tcp_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->s = s;
	uv_tcp_init(s->loop, &c->handle);
	uv_timer_init(s->loop, &c->idle);
	c->handle.data = c;
	c->idle.data = c;
	c->next = s->conns;
	if (s->conns)
		s->conns->pprev = &c->next;
	s->conns = c;
	c->pprev = &s->conns;
	s->nconns++;
	return c;
}

static void accept_cb(uv_stream_t *server, int status)
{
	struct sipd_tcp_listener *l = server->data;
	struct sipd *s = l->s;
	if (status < 0)
		return;
	struct sipd_tcp_conn *c = conn_new(s);
	if (!c)
		return;
	if (uv_accept(server, (uv_stream_t *)&c->handle) < 0) {
		conn_close(c);
		return;
	}
	if (s->nconns > s->conf.tcp_max_connections) {
		s->stats.tcp_refused++;
		conn_close(c);
		return;
	}
	struct sockaddr_storage ss;
	int sl = sizeof(ss);
	if (uv_tcp_getpeername(&c->handle, (struct sockaddr *)&ss, &sl) == 0)
		roam_sockaddr_from(&c->peer, (struct sockaddr *)&ss, (socklen_t)sl);
	roam_sockaddr_unmap(&c->peer);
	s->stats.tcp_accepted++;
	uv_timer_start(&c->idle, idle_cb, s->conf.tcp_idle_timeout, s->conf.tcp_idle_timeout);
	if (uv_read_start((uv_stream_t *)&c->handle, alloc_cb, read_cb) < 0)
		conn_close(c);
}

struct connect_req {
	uv_connect_t req;
	struct sipd_tcp_conn *c;
};

static void connect_cb(uv_connect_t *req, int status)
{
	struct connect_req *cr = (struct connect_req *)req;
	struct sipd_tcp_conn *c = cr->c;
	free(cr);
	c->connecting = false;
	if (status < 0 || c->closing) {
		char b[ROAM_ADDRSTRLEN];
		if (!c->closing) {
			log_rl_warnx(&c->s->drop_rl, "TCP connection to %s: %s",
				     roam_sockaddr_fmt(&c->peer, b, sizeof(b)), uv_strerror(status));
			c->s->stats.tx_errors++;
			conn_close(c);
		}
		return;
	}
	c->s->stats.tcp_connected++;
	uv_timer_start(&c->idle, idle_cb, c->s->conf.tcp_idle_timeout, c->s->conf.tcp_idle_timeout);
	if (uv_read_start((uv_stream_t *)&c->handle, alloc_cb, read_cb) < 0) {
		conn_close(c);
		return;
	}
	if (c->pendlen) {
		uint8_t *p = c->pend;
		size_t n = c->pendlen;
		c->pend = NULL;
		c->pendlen = 0;
		conn_send(c, p, n);
		free(p);
	}
}

int sipd_transport_send(struct sipd *s, const struct sipd_dest *d, const uint8_t *data,
			size_t len)
{
	int fam = roam_sockaddr_family(&d->addr);
	if (d->transport == SIPD_TP_UDP) {
		for (size_t i = 0; i < s->nudp; i++)
			if (roam_sockaddr_family(&s->udp[i].addr) == fam)
				return roam_udp_send(s->udp[i].udp, &d->addr, data, len) < 0 ? -EIO : 0;
		return -EAFNOSUPPORT;
	}
	for (struct sipd_tcp_conn *c = s->conns; c; c = c->next)
		if (!c->closing && roam_sockaddr_eq(&c->peer, &d->addr)) {
			conn_send(c, data, len);
			return 0;
		}
	if (s->nconns >= s->conf.tcp_max_connections)
		return -EMFILE;
	struct sipd_tcp_conn *c = conn_new(s);
	struct connect_req *cr = calloc(1, sizeof(*cr));
	if (!c || !cr) {
		free(cr);
		if (c)
			conn_close(c);
		return -ENOMEM;
	}
	c->peer = d->addr;
	c->connecting = true;
	cr->c = c;
	if (uv_tcp_connect(&cr->req, &c->handle, &d->addr.sa, connect_cb) < 0) {
		free(cr);
		c->connecting = false;
		conn_close(c);
		return -EIO;
	}
	conn_send(c, data, len); /* queued until connected */
	return 0;
}

int sipd_transport_open(struct sipd *s)
{
	char b[ROAM_ADDRSTRLEN];
	for (size_t i = 0; i < s->conf.nlisten && i < SIPD_MAX_LISTEN; i++) {
		const struct roam_sockaddr *a = &s->conf.listen[i];
		if (s->conf.udp) {
			struct sipd_udp_listener *l = &s->udp[s->nudp];
			struct roam_udp_opts o;
			memset(&o, 0, sizeof(o));
			o.bind = *a;
			o.dualstack = 0;
			o.bufsize = SIPD_UDP_MAX + 1; /* bigger than any datagram: see max_message_size */
			if (o.bufsize > 65535)
				o.bufsize = 65535;
			o.rcvbuf = 4 << 20;
			l->s = s;
			l->addr = *a;
			int r = roam_udp_open(s->loop, &o, udp_recv, l, &l->udp);
			if (r < 0) {
				log_warnx("udp %s: %s", roam_sockaddr_fmt(a, b, sizeof(b)), strerror(-r));
				return r;
			}
			s->nudp++;
		}
		if (s->conf.tcp) {
			struct sipd_tcp_listener *l = &s->tcp[s->ntcp];
			l->s = s;
			l->addr = *a;
			uv_tcp_init(s->loop, &l->handle);
			l->handle.data = l;
			l->open = true;
			s->ntcp++;
			unsigned flags = roam_sockaddr_family(a) == AF_INET6 ? UV_TCP_IPV6ONLY : 0;
			int r = uv_tcp_bind(&l->handle, &a->sa, flags);
			if (r == 0)
				r = uv_listen((uv_stream_t *)&l->handle, 128, accept_cb);
			if (r < 0) {
				log_warnx("tcp %s: %s", roam_sockaddr_fmt(a, b, sizeof(b)),
					  uv_strerror(r));
				return -EADDRINUSE;
			}
		}
	}
	return 0;
}

void sipd_transport_close(struct sipd *s)
{
	for (size_t i = 0; i < s->nudp; i++)
		roam_udp_close(s->udp[i].udp, NULL);
	s->nudp = 0;
	for (size_t i = 0; i < s->ntcp; i++)
		if (s->tcp[i].open && !uv_is_closing((uv_handle_t *)&s->tcp[i].handle))
			uv_close((uv_handle_t *)&s->tcp[i].handle, NULL);
	s->ntcp = 0;
	while (s->conns)
		conn_close(s->conns);
}
