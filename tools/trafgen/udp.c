/* UDP runners: udp-send, udp-recv and udp (both at once on one socket).  One loop: ppoll with
 * a nanosecond timeout up to the next transmission deadline; deadlines are absolute
 * (start + i / rate), so a late wake-up sends every datagram that is due in one burst and the
 * average rate stays exact. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "roam/addr.h"
#include "roam/log.h"
#include "trafgen.h"

#define UDP_BATCH 64
#define UDP_RXBUF 128 /* only the header is decoded: longer datagrams are read truncated */
#define UDP_ENDS 3
#define UDP_END_SPACING_NS 20000000ull

struct udp_run {
	const struct tg_udp_opts *o;
	int fd, sfd;
	struct roam_sockaddr to;
	int send, recv;
	uint32_t flow;
	/* sender */
	uint64_t start_ns, total, next_i, tx_sent, tx_errors;
	double ns_per_pkt;
	int ends_sent;
	uint64_t next_end_ns, send_done_ns;
	uint8_t *txbuf;
	/* receiver */
	struct tg_rx rx;
	uint64_t rx_start_ns;
	uint8_t rxbuf[UDP_BATCH][UDP_RXBUF];
};

static int sock_open(struct udp_run *u, int *family)
{
	const struct tg_udp_opts *o = u->o;
	struct roam_sockaddr b;
	memset(&b, 0, sizeof(b));
	*family = 0;
	if (o->to) {
		if (roam_sockaddr_parse(o->to, 0, &u->to) < 0 || !roam_sockaddr_family(&u->to)) {
			log_warnx("--to: not an ADDR:PORT: '%s'", o->to);
			return -EINVAL;
		}
		uint16_t port = 0;
		struct roam_ipaddr a;
		roam_sockaddr_addr(&u->to, &a, &port);
		if (!port) {
			log_warnx("--to: a port is needed: '%s'", o->to);
			return -EINVAL;
		}
		*family = roam_sockaddr_family(&u->to);
	}
	if (o->bind) {
		if (roam_sockaddr_parse(o->bind, 0, &b) < 0) {
			log_warnx("--bind: not an ADDR[:PORT]: '%s'", o->bind);
			return -EINVAL;
		}
		if (*family && roam_sockaddr_family(&b) != *family) {
			log_warnx("--bind and --to are of different address families");
			return -EINVAL;
		}
		*family = roam_sockaddr_family(&b);
	}
	int fd = socket(*family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_warn("socket");
		return -errno;
	}
	int sz = 8 << 20;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	if (o->bind) {
		int one = 1;
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, &b.sa, b.len) < 0) {
			int e = errno;
			log_warn("bind %s", o->bind);
			close(fd);
			return -e;
		}
	}
	u->fd = fd;
	return 0;
}

/* Sends every datagram due at now (at most one batch per call). */
static void send_due(struct udp_run *u, uint64_t now)
{
	struct mmsghdr msg[UDP_BATCH];
	struct iovec iov[UDP_BATCH];
	size_t size = u->o->size;
	int n = 0;
	while (n < UDP_BATCH && u->next_i < u->total &&
	       u->start_ns + (uint64_t)((double)u->next_i * u->ns_per_pkt) <= now) {
		struct wbuf w;
		uint8_t *slot = u->txbuf + (size_t)n * size;
		struct tg_pkt p = { .type = TG_DATA, .flow = u->flow, .seq = u->next_i,
				    .send_ns = tg_now_ns() };
		wbuf_init_fixed(&w, slot, size);
		if (tg_pkt_encode(&p, size, &w) < 0)
			fatalx("datagram encoding failed"); /* size was checked: a bug */
		iov[n] = (struct iovec){ slot, w.len };
		memset(&msg[n], 0, sizeof(msg[n]));
		msg[n].msg_hdr.msg_iov = &iov[n];
		msg[n].msg_hdr.msg_iovlen = 1;
		msg[n].msg_hdr.msg_name = &u->to.sa;
		msg[n].msg_hdr.msg_namelen = u->to.len;
		n++;
		u->next_i++;
	}
	int done = 0;
	while (done < n) {
		int r = sendmmsg(u->fd, msg + done, (unsigned)(n - done), 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			/* no route during a handoff, a full buffer...: the datagram is lost (its
			 * sequence number is spent, so the receiver counts it) */
			u->tx_errors++;
			done++;
			continue;
		}
		done += r;
	}
	u->tx_sent += (uint64_t)n;
}

static void send_end(struct udp_run *u, uint64_t now)
{
	uint8_t buf[TG_END_LEN];
	struct wbuf w;
	struct tg_pkt p = { .type = TG_END, .flow = u->flow, .send_ns = now, .total = u->total };
	wbuf_init_fixed(&w, buf, sizeof(buf));
	if (tg_pkt_encode(&p, TG_END_LEN, &w) < 0)
		fatalx("END encoding failed");
	if (sendto(u->fd, buf, w.len, 0, &u->to.sa, u->to.len) < 0)
		u->tx_errors++;
	u->ends_sent++;
	u->next_end_ns = now + UDP_END_SPACING_NS;
	if (u->ends_sent == UDP_ENDS)
		u->send_done_ns = now;
}

static void recv_all(struct udp_run *u)
{
	struct mmsghdr msg[UDP_BATCH];
	struct iovec iov[UDP_BATCH];
	for (int round = 0; round < 16; round++) {
		for (int i = 0; i < UDP_BATCH; i++) {
			iov[i] = (struct iovec){ u->rxbuf[i], UDP_RXBUF };
			memset(&msg[i], 0, sizeof(msg[i]));
			msg[i].msg_hdr.msg_iov = &iov[i];
			msg[i].msg_hdr.msg_iovlen = 1;
		}
		int n = recvmmsg(u->fd, msg, UDP_BATCH, MSG_DONTWAIT, NULL);
		if (n < 0) {
			/* ICMP errors reported on the socket (port unreachable while the peer is not
			 * up yet) are not fatal */
			return;
		}
		uint64_t now = tg_now_ns();
		for (int i = 0; i < n; i++) {
			struct tg_pkt p;
			size_t len = msg[i].msg_len < UDP_RXBUF ? msg[i].msg_len : UDP_RXBUF;
			if (tg_pkt_decode(u->rxbuf[i], len, &p) < 0) {
				tg_rx_garbage(&u->rx);
				continue;
			}
			tg_rx_packet(&u->rx, now, &p);
		}
		if (n < UDP_BATCH)
			return;
	}
}

static int finished(const struct udp_run *u, uint64_t now, uint64_t *wake)
{
	const struct tg_udp_opts *o = u->o;
	uint64_t t = UINT64_MAX;
	int send_done = !u->send || u->ends_sent == UDP_ENDS;
	if (u->send && !send_done) {
		if (u->next_i < u->total)
			t = u->start_ns + (uint64_t)((double)u->next_i * u->ns_per_pkt);
		else
			t = u->next_end_ns;
	}
	if (!u->recv) {
		*wake = t;
		return send_done;
	}
	if (send_done) {
		if (u->rx.end_seen) {
			uint64_t e = u->rx.end_ns + o->grace_ns;
			if (now >= e)
				return 1;
			t = e < t ? e : t;
		}
		if (u->send) {
			uint64_t e = u->send_done_ns + o->wait_ns;
			if (now >= e)
				return 1;
			t = e < t ? e : t;
		}
	}
	if (o->mode == TG_UDP_RECV && o->duration_s > 0) {
		uint64_t e = u->rx_start_ns + (uint64_t)(o->duration_s * 1e9);
		if (now >= e)
			return 1;
		t = e < t ? e : t;
	}
	*wake = t;
	return 0;
}

static void json_send(struct json_writer *w, const void *arg)
{
	const struct udp_run *u = arg;
	json_obj_begin(w);
	json_kv_str(w, "mode", "udp-send");
	json_kv_uint(w, "sent", u->tx_sent);
	json_kv_uint(w, "send_errors", u->tx_errors);
	json_kv_uint(w, "flow", u->flow);
	json_kv_double(w, "rate", u->o->rate);
	json_kv_uint(w, "size", u->o->size);
	json_kv_double(w, "duration_ms",
		       round((double)(u->send_done_ns - u->start_ns) / 1e3) / 1e3);
	json_obj_end(w);
}

static void json_recv(struct json_writer *w, const void *arg)
{
	const struct udp_run *u = arg;
	json_obj_begin(w);
	tg_rx_json(&u->rx, w);
	if (u->send) {
		json_kv_uint(w, "tx_sent", u->tx_sent);
		json_kv_uint(w, "tx_errors", u->tx_errors);
		json_kv_uint(w, "tx_flow", u->flow);
	}
	json_obj_end(w);
}

static void print_table(const struct udp_run *u)
{
	if (u->send)
		printf("udp send   %" PRIu64 " datagrams of %zu bytes at %g/s, %" PRIu64
		       " send errors\n",
		       u->tx_sent, u->o->size, u->o->rate, u->tx_errors);
	if (!u->recv)
		return;
	struct tg_rx_report r;
	tg_rx_report(&u->rx, &r);
	printf("udp recv   %-10s %-10s %-8s %-6s %-7s %-10s %-10s %s\n", "sent", "received", "lost",
	       "dup", "reord", "max_gap_ms", "gap_at_ms", "latency ms min/avg/max/p99");
	printf("           %-10" PRIu64 " %-10" PRIu64 " %-8" PRIu64 " %-6" PRIu64 " %-7" PRIu64
	       " %-10.3f %-10.3f %.3f/%.3f/%.3f/%.3f%s\n",
	       r.sent, r.received, r.lost, r.duplicated, r.reordered, r.max_gap_ms,
	       r.max_gap_at_ms, r.lat_min_ms, r.lat_avg_ms, r.lat_max_ms, r.lat_p99_ms,
	       r.end_seen ? "" : "  (no END seen)");
}

int tg_udp_run(const struct tg_udp_opts *o)
{
	struct udp_run *u = calloc(1, sizeof(*u));
	if (!u)
		fatalx("out of memory");
	u->o = o;
	u->fd = u->sfd = -1;
	u->send = o->mode != TG_UDP_RECV;
	u->recv = o->mode != TG_UDP_SEND;
	int rc = 1, family;
	if (tg_rx_init(&u->rx) < 0)
		fatalx("out of memory");
	if (sock_open(u, &family) < 0)
		goto out;
	if (u->send) {
		u->txbuf = malloc((size_t)UDP_BATCH * o->size);
		if (!u->txbuf)
			fatalx("out of memory");
		u->flow = o->flow;
		if (!o->flow_set && getrandom(&u->flow, sizeof(u->flow), 0) != sizeof(u->flow))
			u->flow = (uint32_t)(tg_now_ns() ^ (uint64_t)getpid());
		u->total = (uint64_t)floor(o->rate * o->duration_s + 1e-9);
		u->ns_per_pkt = 1e9 / o->rate;
	}
	sigset_t ss;
	sigemptyset(&ss);
	sigaddset(&ss, SIGINT);
	sigaddset(&ss, SIGTERM);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	u->sfd = signalfd(-1, &ss, SFD_NONBLOCK | SFD_CLOEXEC);
	if (u->sfd < 0)
		fatal("signalfd");
	(void)prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);

	uint64_t now = tg_now_ns();
	u->start_ns = u->rx_start_ns = now;
	u->next_end_ns = now;
	int interrupted = 0;
	for (;;) {
		now = tg_now_ns();
		if (u->send) {
			while (u->next_i < u->total &&
			       u->start_ns + (uint64_t)((double)u->next_i * u->ns_per_pkt) <= now) {
				send_due(u, now);
				now = tg_now_ns();
			}
			if (u->next_i == u->total && u->ends_sent < UDP_ENDS && now >= u->next_end_ns)
				send_end(u, now);
		}
		uint64_t wake;
		if (finished(u, now, &wake))
			break;
		struct pollfd pfd[2] = { { u->sfd, POLLIN, 0 }, { u->fd, u->recv ? POLLIN : 0, 0 } };
		struct timespec ts, *tsp = NULL;
		if (wake != UINT64_MAX) {
			uint64_t d = wake > now ? wake - now : 0;
			ts = (struct timespec){ (time_t)(d / 1000000000ull), (long)(d % 1000000000ull) };
			tsp = &ts;
		}
		int n = ppoll(pfd, 2, tsp, NULL);
		if (n < 0 && errno != EINTR) {
			log_warn("ppoll");
			goto out;
		}
		if (n > 0 && (pfd[0].revents & POLLIN)) {
			interrupted = 1;
			break;
		}
		if (n > 0 && (pfd[1].revents & (POLLIN | POLLERR)))
			recv_all(u);
	}
	if (u->recv) {
		recv_all(u);
		tg_rx_finish(&u->rx, tg_now_ns());
	}
	if (u->send && !u->send_done_ns)
		u->send_done_ns = tg_now_ns();
	if (o->json) {
		int wr = tg_write_json(o->json, u->recv ? json_recv : json_send, u);
		if (wr < 0) {
			errno = -wr;
			log_warn("writing %s", o->json);
			goto out;
		}
	} else {
		print_table(u);
	}
	rc = 0;
	(void)interrupted;
out:
	if (u->fd >= 0)
		close(u->fd);
	if (u->sfd >= 0)
		close(u->sfd);
	tg_rx_free(&u->rx);
	free(u->txbuf);
	free(u);
	return rc;
}
