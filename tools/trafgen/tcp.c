/* TCP runners: tcp-server (accepts one connection, verifies the pattern byte by byte) and
 * tcp-client (streams the pattern at a rate).  A dead path is detected by TCP_USER_TIMEOUT and
 * keepalive probes within --timeout.  At the end the client half-closes; the server answers
 * with the number of bytes it verified (u64, network order) and closes. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <linux/sockios.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "roam/addr.h"
#include "roam/log.h"
#include "trafgen.h"

#define TCP_CHUNK 65536

struct tcp_run {
	const struct tg_tcp_opts *o;
	int fd, lfd, sfd;
	uint64_t key;
	uint64_t start_ns, end_ns;
	uint64_t bytes_sent;     /* client: pattern bytes written; server: bytes received */
	uint64_t bytes_acked;    /* client */
	uint64_t bytes_verified; /* server: checked; client: as reported by the server */
	int connected, survived, completed, interrupted;
	char error[256];
	struct tg_stalls st;
	uint8_t buf[TCP_CHUNK];
};

static void fail(struct tcp_run *t, const char *what, int err)
{
	if (!t->survived)
		return; /* keep the first error */
	t->survived = 0;
	if (err)
		snprintf(t->error, sizeof(t->error), "%s: %s", what, strerror(err));
	else
		snprintf(t->error, sizeof(t->error), "%s", what);
}

static void set_liveness(int fd, uint64_t timeout_ms)
{
	unsigned int ut = (unsigned int)timeout_ms;
	int one = 1, idle = 1, intvl = 1;
	int cnt = (int)((timeout_ms + 999) / 1000);
	if (cnt < 1)
		cnt = 1;
	if (setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ut, sizeof(ut)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle)) < 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl)) < 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt)) < 0)
		log_warn("TCP liveness options");
}

static int sock_error(int fd)
{
	int e = 0;
	socklen_t l = sizeof(e);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &l) < 0)
		return errno;
	return e;
}

/* Polls fd for ev and the signal fd; returns revents of fd, 0 on timeout, -1 on a signal. */
static int wait_fd(struct tcp_run *t, int fd, short ev, int timeout_ms)
{
	struct pollfd p[2] = { { t->sfd, POLLIN, 0 }, { fd, ev, 0 } };
	int n = poll(p, 2, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -1;
	if (p[0].revents & POLLIN) {
		t->interrupted = 1;
		return -1;
	}
	return p[1].revents;
}

static uint64_t deadline(const struct tcp_run *t)
{
	return t->o->duration_s > 0 ? t->start_ns + (uint64_t)(t->o->duration_s * 1e9)
				    : UINT64_MAX;
}

static int ms_until(uint64_t now, uint64_t when, int cap)
{
	if (when == UINT64_MAX)
		return cap;
	if (when <= now)
		return 0;
	uint64_t ms = (when - now + 999999) / 1000000;
	return ms < (uint64_t)cap ? (int)ms : cap;
}

/* ---- client ---- */

static void client_acks(struct tcp_run *t, uint64_t now)
{
	int outq = 0;
	if (ioctl(t->fd, SIOCOUTQ, &outq) < 0)
		return;
	uint64_t total = t->bytes_sent + TG_TCP_HDR_LEN;
	uint64_t acked = total > (uint64_t)outq ? total - (uint64_t)outq : 0;
	acked = acked > TG_TCP_HDR_LEN ? acked - TG_TCP_HDR_LEN : 0;
	if (acked > t->bytes_acked) {
		t->bytes_acked = acked;
		tg_stalls_progress(&t->st, now);
	}
	tg_stalls_waiting(&t->st, outq > 0, now);
}

static void client_run(struct tcp_run *t)
{
	const struct tg_tcp_opts *o = t->o;
	struct roam_sockaddr to;
	if (roam_sockaddr_parse(o->addr, 0, &to) < 0) {
		fail(t, "bad --to address", 0);
		return;
	}
	t->fd = socket(roam_sockaddr_family(&to), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (t->fd < 0) {
		fail(t, "socket", errno);
		return;
	}
	set_liveness(t->fd, o->timeout_ms);
	if (connect(t->fd, &to.sa, to.len) < 0 && errno != EINPROGRESS) {
		fail(t, "connect", errno);
		return;
	}
	int r = wait_fd(t, t->fd, POLLOUT, (int)o->timeout_ms);
	if (r < 0)
		return;
	if (r == 0) {
		fail(t, "connect", ETIMEDOUT);
		return;
	}
	int e = sock_error(t->fd);
	if (e) {
		fail(t, "connect", e);
		return;
	}
	t->connected = 1;
	struct wbuf w;
	uint8_t hdr[TG_TCP_HDR_LEN];
	wbuf_init_fixed(&w, hdr, sizeof(hdr));
	tg_tcp_hdr_encode(t->key, &w);
	if (send(t->fd, hdr, w.len, MSG_NOSIGNAL) != (ssize_t)w.len) {
		fail(t, "send", errno);
		return;
	}
	uint64_t now = tg_now_ns(), start = now;
	t->start_ns = now;
	tg_stalls_init(&t->st, o->stall_ns, now);
	uint64_t end = deadline(t);
	double forfeited = 0; /* credit older than 1 s is not caught up */
	for (;;) {
		now = tg_now_ns();
		client_acks(t, now);
		if (now >= end)
			break;
		double target = o->rate * (double)(now - start) / 1e9 - forfeited;
		if (target - (double)t->bytes_sent > o->rate) {
			forfeited += target - (double)t->bytes_sent - o->rate;
			target = (double)t->bytes_sent + o->rate;
		}
		uint64_t credit = target > (double)t->bytes_sent
					  ? (uint64_t)(target - (double)t->bytes_sent) : 0;
		short ev = POLLIN;
		if (credit > 0) {
			size_t n = credit < TCP_CHUNK ? (size_t)credit : TCP_CHUNK;
			tg_pattern_fill(t->key, t->bytes_sent, t->buf, n);
			ssize_t s = send(t->fd, t->buf, n, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (s > 0) {
				t->bytes_sent += (uint64_t)s;
				continue;
			}
			if (s < 0 && errno != EAGAIN && errno != EINTR) {
				fail(t, "send", errno);
				return;
			}
			ev |= POLLOUT;
		}
		int timeout = ev & POLLOUT ? 10 : 5;
		r = wait_fd(t, t->fd, ev, ms_until(now, end, timeout));
		if (r < 0)
			return;
		if (r & (POLLERR | POLLHUP)) {
			e = sock_error(t->fd);
			fail(t, "connection", e ? e : ECONNRESET);
			return;
		}
		if (r & POLLIN) {
			ssize_t n = recv(t->fd, t->buf, sizeof(t->buf), MSG_DONTWAIT);
			if (n == 0) {
				fail(t, "connection closed by the server before the end", 0);
				return;
			}
			if (n < 0 && errno != EAGAIN) {
				fail(t, "recv", errno);
				return;
			}
		}
	}
	/* half-close, then wait for the server's count */
	if (shutdown(t->fd, SHUT_WR) < 0) {
		fail(t, "shutdown", errno);
		return;
	}
	uint8_t cnt[8];
	size_t got = 0;
	uint64_t give_up = tg_now_ns() + (o->timeout_ms + 5000) * 1000000ull;
	while (got < sizeof(cnt)) {
		now = tg_now_ns();
		client_acks(t, now);
		if (now >= give_up) {
			fail(t, "no byte count from the server", ETIMEDOUT);
			return;
		}
		r = wait_fd(t, t->fd, POLLIN, 10);
		if (r < 0)
			return;
		if (!r)
			continue;
		ssize_t n = recv(t->fd, cnt + got, sizeof(cnt) - got, MSG_DONTWAIT);
		if (n == 0) {
			fail(t, "connection closed by the server without a byte count", 0);
			return;
		}
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			fail(t, "recv", errno);
			return;
		}
		got += (size_t)n;
	}
	struct rbuf rb;
	rbuf_init(&rb, cnt, sizeof(cnt));
	rbuf_get_u64(&rb, &t->bytes_verified);
	client_acks(t, tg_now_ns());
	t->completed = 1;
	if (t->bytes_verified != t->bytes_sent) {
		char m[128];
		snprintf(m, sizeof(m), "server verified %" PRIu64 " of %" PRIu64 " bytes",
			 t->bytes_verified, t->bytes_sent);
		fail(t, m, 0);
	}
}

/* ---- server ---- */

static void server_run(struct tcp_run *t)
{
	const struct tg_tcp_opts *o = t->o;
	struct roam_sockaddr b;
	if (roam_sockaddr_parse(o->addr, 0, &b) < 0) {
		fail(t, "bad --bind address", 0);
		return;
	}
	t->lfd = socket(roam_sockaddr_family(&b), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (t->lfd < 0) {
		fail(t, "socket", errno);
		return;
	}
	int one = 1;
	(void)setsockopt(t->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(t->lfd, &b.sa, b.len) < 0) {
		fail(t, "bind", errno);
		return;
	}
	if (listen(t->lfd, 1) < 0) {
		fail(t, "listen", errno);
		return;
	}
	uint64_t end = deadline(t);
	for (;;) {
		uint64_t now = tg_now_ns();
		if (now >= end) {
			fail(t, "no connection", ETIMEDOUT);
			return;
		}
		int r = wait_fd(t, t->lfd, POLLIN, ms_until(now, end, 1000));
		if (r < 0)
			return;
		if (!r)
			continue;
		t->fd = accept4(t->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (t->fd >= 0)
			break;
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
			fail(t, "accept", errno);
			return;
		}
	}
	close(t->lfd);
	t->lfd = -1;
	t->connected = 1;
	set_liveness(t->fd, o->timeout_ms);
	uint64_t now = tg_now_ns();
	tg_stalls_init(&t->st, o->stall_ns, now);
	tg_stalls_waiting(&t->st, 1, now);
	uint8_t hdr[TG_TCP_HDR_LEN];
	size_t hlen = 0;
	for (;;) {
		now = tg_now_ns();
		if (now >= end)
			return; /* still alive at the end of the run */
		int r = wait_fd(t, t->fd, POLLIN, ms_until(now, end, 1000));
		if (r < 0)
			return;
		if (!r)
			continue;
		ssize_t n = recv(t->fd, t->buf, sizeof(t->buf), MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			fail(t, "recv", errno);
			return;
		}
		now = tg_now_ns();
		if (n == 0)
			break;
		tg_stalls_progress(&t->st, now);
		size_t off = 0;
		if (hlen < TG_TCP_HDR_LEN) {
			size_t k = TG_TCP_HDR_LEN - hlen < (size_t)n ? TG_TCP_HDR_LEN - hlen
								     : (size_t)n;
			memcpy(hdr + hlen, t->buf, k);
			hlen += k;
			off = k;
			if (hlen == TG_TCP_HDR_LEN && tg_tcp_hdr_decode(hdr, hlen, &t->key) < 0) {
				fail(t, "not a trafgen stream (bad header)", 0);
				return;
			}
		}
		size_t len = (size_t)n - off;
		size_t ok = tg_pattern_check(t->key, t->bytes_sent, t->buf + off, len);
		t->bytes_sent += len;
		t->bytes_verified += ok;
		if (ok != len) {
			char m[128];
			snprintf(m, sizeof(m), "corrupted stream at byte %" PRIu64,
				 t->bytes_verified);
			fail(t, m, 0);
			return;
		}
	}
	tg_stalls_waiting(&t->st, 0, now);
	if (hlen < TG_TCP_HDR_LEN) {
		fail(t, "connection closed before the stream header", 0);
		return;
	}
	uint8_t cnt[8];
	struct wbuf w;
	wbuf_init_fixed(&w, cnt, sizeof(cnt));
	wbuf_put_u64(&w, t->bytes_verified);
	if (send(t->fd, cnt, sizeof(cnt), MSG_NOSIGNAL) != (ssize_t)sizeof(cnt)) {
		fail(t, "send", errno);
		return;
	}
	t->completed = 1;
}

static void json_tcp(struct json_writer *w, const void *arg)
{
	const struct tcp_run *t = arg;
	json_obj_begin(w);
	json_kv_str(w, "mode", "tcp");
	json_kv_str(w, "role", t->o->server ? "server" : "client");
	json_kv_uint(w, "bytes_sent", t->bytes_sent);
	if (!t->o->server)
		json_kv_uint(w, "bytes_acked", t->bytes_acked);
	json_kv_uint(w, "bytes_verified", t->bytes_verified);
	tg_stalls_json(&t->st, w);
	json_kv_bool(w, "survived", t->survived);
	json_kv_str(w, "error", t->survived ? NULL : t->error);
	json_kv_bool(w, "connected", t->connected);
	json_kv_bool(w, "completed", t->completed);
	json_kv_bool(w, "interrupted", t->interrupted);
	json_kv_double(w, "duration_ms", round((double)(t->end_ns - t->start_ns) / 1e3) / 1e3);
	json_obj_end(w);
}

int tg_tcp_run(const struct tg_tcp_opts *o)
{
	struct tcp_run *t = calloc(1, sizeof(*t));
	if (!t)
		fatalx("out of memory");
	t->o = o;
	t->fd = t->lfd = -1;
	t->survived = 1;
	t->key = o->key;
	if (!o->key_set && getrandom(&t->key, sizeof(t->key), 0) != sizeof(t->key))
		t->key = tg_now_ns() ^ (uint64_t)getpid();
	sigset_t ss;
	sigemptyset(&ss);
	sigaddset(&ss, SIGINT);
	sigaddset(&ss, SIGTERM);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	signal(SIGPIPE, SIG_IGN);
	t->sfd = signalfd(-1, &ss, SFD_NONBLOCK | SFD_CLOEXEC);
	if (t->sfd < 0)
		fatal("signalfd");
	t->start_ns = tg_now_ns();
	tg_stalls_init(&t->st, o->stall_ns, t->start_ns);
	if (o->server)
		server_run(t);
	else
		client_run(t);
	t->end_ns = tg_now_ns();
	tg_stalls_finish(&t->st, t->end_ns);
	if (!t->connected && t->survived)
		fail(t, t->interrupted ? "interrupted before a connection" : "no connection", 0);
	int rc = 0;
	if (o->json) {
		int wr = tg_write_json(o->json, json_tcp, t);
		if (wr < 0) {
			errno = -wr;
			log_warn("writing %s", o->json);
			rc = 1;
		}
	} else {
		printf("tcp %-6s %-12s %-14s %-7s %-12s %-9s %s\n", o->server ? "server" : "client",
		       "bytes_sent", "bytes_verified", "stalls", "max_stall_ms", "survived", "error");
		printf("           %-12" PRIu64 " %-14" PRIu64 " %-7" PRIu64 " %-12.3f %-9s %s\n",
		       t->bytes_sent, t->bytes_verified, t->st.count, (double)t->st.max_ns / 1e6,
		       t->survived ? "yes" : "no", t->survived ? "-" : t->error);
	}
	if (t->fd >= 0)
		close(t->fd);
	if (t->lfd >= 0)
		close(t->lfd);
	close(t->sfd);
	free(t);
	return rc;
}
