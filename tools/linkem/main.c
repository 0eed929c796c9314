/* linkem: forwards every frame between two interfaces (AF_PACKET, promiscuous) and impairs each
 * direction: loss, duplication, delay with jitter, reordering, rate limiting.  Single-threaded:
 * one epoll loop, the release queue scheduled with an absolute CLOCK_MONOTONIC timerfd
 * (nanosecond resolution), receives batched with recvmmsg, sends with sendmmsg.
 * Stats go to --json FILE on SIGTERM/SIGINT and to stdout on SIGUSR1. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "linkem.h"
#include "roam/buf.h"
#include "roam/json.h"
#include "roam/log.h"

#define LK_BATCH 32
#define LK_FRAME_MAX (65536 + 256)
#define LK_RX_ROUNDS 8 /* batches per wake-up per port, so neither side starves the other */

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

struct lk_port {
	const char *name;
	int ifindex;
	int fd;
	uint64_t kernel_drops; /* frames the kernel could not queue on fd (PACKET_STATISTICS) */
};

struct linkem {
	struct lk_port port[2]; /* 0: a, 1: b */
	struct lk_dir dir[2];   /* 0: a2b (frames received on a), 1: b2a */
	int vnet;               /* frames carry a struct virtio_net_hdr (GSO/checksum metadata) */
	int epfd, tfd, sfd;
	uint64_t seed;
	const char *json;
	uint64_t start_ns;
	uint64_t armed; /* absolute time the timer is armed for, 0 when disarmed */
	uint64_t ignored_outgoing, truncated, rx_errors;
	uint64_t tx_errors[2];
	struct log_ratelimit rl;
	/* receive batch */
	uint8_t *rxbuf;
	struct mmsghdr rxmsg[LK_BATCH];
	struct iovec rxiov[LK_BATCH];
	struct sockaddr_ll rxaddr[LK_BATCH];
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- options ---- */

enum { K_DELAY, K_JITTER, K_LOSS, K_RATE, K_DUP, K_REORDER, K_REORDER_GAP, K_QUEUE, K_LIMIT, NK };
static const char *const key_names[NK] = { "delay", "jitter",      "loss",  "rate", "dup",
					   "reorder", "reorder-gap", "queue", "limit" };
enum { O_SEED = 1, O_JSON, O_REALTIME, O_KEYS = 1000 };

static void usage(FILE *f)
{
	fprintf(f,
		"usage: linkem -a IFACE -b IFACE [--delay D] [--jitter D] [--loss P%%] [--rate R]\n"
		"              [--dup P%%] [--reorder P%%] [--reorder-gap D] [--queue N] [--limit N]\n"
		"              [--a2b-OPTION V] [--b2a-OPTION V] [--seed N] [--json FILE]\n"
		"              [--realtime[=PRIO]] [-v|-q]\n"
		"  D: 20ms, 500us, 1s, 250ns   P: 1%%, 0.5%%   R: 10mbit, 512kbit, 1gbit, 9600bit\n"
		"  Options without a direction apply to both; --a2b-X/--b2a-X override one.\n"
		"  SIGUSR1 prints stats as JSON; SIGTERM/SIGINT writes them to --json FILE and exits.\n");
}

static int apply_key(struct lk_params *p, int k, const char *v)
{
	uint64_t u;
	char *end;
	unsigned long n;
	switch (k) {
	case K_DELAY: return lk_parse_duration(v, &p->delay_ns);
	case K_JITTER: return lk_parse_duration(v, &p->jitter_ns);
	case K_REORDER_GAP: return lk_parse_duration(v, &p->reorder_gap_ns);
	case K_LOSS: return lk_parse_percent(v, &p->loss);
	case K_DUP: return lk_parse_percent(v, &p->dup);
	case K_REORDER: return lk_parse_percent(v, &p->reorder);
	case K_RATE:
		if (lk_parse_rate(v, &u))
			return -EINVAL;
		p->rate_bps = u;
		return 0;
	case K_QUEUE:
	case K_LIMIT:
		errno = 0;
		n = strtoul(v, &end, 10);
		if (errno || end == v || *end || n < 1 || n > 10000000 || *v == '-')
			return -EINVAL;
		if (k == K_QUEUE)
			p->queue_limit = (uint32_t)n;
		else
			p->limit = (uint32_t)n;
		return 0;
	}
	return -EINVAL;
}

/* ---- stats ---- */

static void json_dir(struct json_writer *w, const char *name, const struct lk_dir *d,
		     uint64_t tx_errors, uint64_t kernel_drops)
{
	const struct lk_stats *s = &d->st;
	const struct lk_params *p = &d->p;
	json_key(w, name);
	json_obj_begin(w);
	json_kv_uint(w, "frames_in", s->frames_in);
	json_kv_uint(w, "frames_out", s->frames_out);
	json_kv_uint(w, "bytes_in", s->bytes_in);
	json_kv_uint(w, "bytes_out", s->bytes_out);
	json_kv_uint(w, "dropped",
		     s->dropped_loss + s->dropped_queue + s->dropped_limit + tx_errors +
			     kernel_drops);
	json_kv_uint(w, "dropped_loss", s->dropped_loss);
	json_kv_uint(w, "dropped_queue", s->dropped_queue);
	json_kv_uint(w, "dropped_limit", s->dropped_limit);
	json_kv_uint(w, "dropped_tx", tx_errors);
	json_kv_uint(w, "dropped_kernel", kernel_drops);
	json_kv_uint(w, "duplicated", s->duplicated);
	json_kv_uint(w, "reordered", s->reordered);
	json_kv_uint(w, "queue_hw", s->queue_hw);
	json_kv_uint(w, "held_hw", s->held_hw);
	json_kv_uint(w, "held", d->n);
	json_key(w, "params");
	json_obj_begin(w);
	json_kv_double(w, "delay_us", (double)p->delay_ns / 1e3);
	json_kv_double(w, "jitter_us", (double)p->jitter_ns / 1e3);
	json_kv_double(w, "loss_pct", p->loss * 100);
	json_kv_double(w, "dup_pct", p->dup * 100);
	json_kv_double(w, "reorder_pct", p->reorder * 100);
	json_kv_double(w, "reorder_gap_us", (double)p->reorder_gap_ns / 1e3);
	json_kv_uint(w, "rate_bps", p->rate_bps);
	json_kv_uint(w, "queue", p->queue_limit);
	json_kv_uint(w, "limit", p->limit);
	json_obj_end(w);
	json_obj_end(w);
}

/* Adds the frames the kernel dropped for want of room on each port's socket since the last
 * call (a starved linkem: the emulated wire lost them, not the emulation) to the counters. */
static void port_kernel_drops(struct linkem *lk)
{
	for (int i = 0; i < 2; i++) {
		struct tpacket_stats ts;
		socklen_t len = sizeof(ts);
		if (lk->port[i].fd >= 0 &&
		    getsockopt(lk->port[i].fd, SOL_PACKET, PACKET_STATISTICS, &ts, &len) == 0)
			lk->port[i].kernel_drops += ts.tp_drops;
	}
}

/* Renders the stats as one JSON line into b (growable). */
static int render_stats(struct linkem *lk, struct wbuf *b)
{
	port_kernel_drops(lk);
	struct json_writer w;
	json_writer_init(&w, b);
	json_obj_begin(&w);
	json_kv_str(&w, "a", lk->port[0].name);
	json_kv_str(&w, "b", lk->port[1].name);
	json_kv_uint(&w, "seed", lk->seed);
	json_kv_uint(&w, "uptime_ms", (now_ns() - lk->start_ns) / 1000000);
	json_kv_bool(&w, "vnet_hdr", lk->vnet);
	json_kv_uint(&w, "ignored_outgoing", lk->ignored_outgoing);
	json_kv_uint(&w, "truncated", lk->truncated);
	json_kv_uint(&w, "rx_errors", lk->rx_errors);
	json_dir(&w, "a2b", &lk->dir[0], lk->tx_errors[0], lk->port[0].kernel_drops);
	json_dir(&w, "b2a", &lk->dir[1], lk->tx_errors[1], lk->port[1].kernel_drops);
	json_obj_end(&w);
	wbuf_put_u8(b, '\n');
	int rc = json_writer_err(&w);
	return rc ? rc : b->err;
}

static int write_all(FILE *f, const struct wbuf *b)
{
	return fwrite(b->buf, 1, b->len, f) == b->len && fflush(f) == 0 ? 0 : -EIO;
}

/* Writes the stats to path ("-": stdout): FILE.tmp then rename, so a reader never sees half a
 * file. */
static int write_stats_file(struct linkem *lk, const char *path)
{
	struct wbuf b;
	wbuf_init(&b);
	int rc = render_stats(lk, &b);
	if (rc < 0)
		goto out;
	if (strcmp(path, "-") == 0) {
		rc = write_all(stdout, &b);
		goto out;
	}
	char tmp[4096];
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
		rc = -ENAMETOOLONG;
		goto out;
	}
	FILE *f = fopen(tmp, "w");
	if (!f) {
		rc = -errno;
		goto out;
	}
	rc = write_all(f, &b);
	if (fclose(f) != 0 && rc == 0)
		rc = -EIO;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc < 0)
		unlink(tmp);
out:
	wbuf_free(&b);
	return rc;
}

/* ---- sockets ---- */

static int port_open(struct lk_port *pt, int vnet)
{
	pt->ifindex = (int)if_nametoindex(pt->name);
	if (!pt->ifindex)
		return -errno;
	/* protocol 0 until bound, so nothing from other interfaces is queued meanwhile */
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int one = 1, sz = 8 << 20;
	if (vnet && setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) < 0)
		goto fail;
	/* our own transmissions must never come back in (kernel >= 4.20; the pkttype check in
	 * the receive path covers older ones) */
	(void)setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
	(void)setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_protocol = htons(ETH_P_ALL),
				   .sll_ifindex = pt->ifindex };
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		goto fail;
	struct packet_mreq mr = { .mr_ifindex = pt->ifindex, .mr_type = PACKET_MR_PROMISC };
	if (setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)) < 0)
		goto fail;
	pt->fd = fd;
	return 0;
fail:;
	int e = errno;
	close(fd);
	return -e;
}

/* ---- data path ---- */

static void port_rx(struct linkem *lk, int side)
{
	struct lk_port *pt = &lk->port[side];
	struct lk_dir *d = &lk->dir[side];
	size_t hdr = lk->vnet ? sizeof(struct virtio_net_hdr) : 0;
	for (int round = 0; round < LK_RX_ROUNDS; round++) {
		for (int i = 0; i < LK_BATCH; i++) {
			lk->rxmsg[i].msg_hdr.msg_namelen = sizeof(lk->rxaddr[i]);
			lk->rxmsg[i].msg_hdr.msg_flags = 0;
		}
		int n = recvmmsg(pt->fd, lk->rxmsg, LK_BATCH, MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			/* ENETDOWN and friends while a link is down or moved: not fatal */
			lk->rx_errors++;
			log_rl_warnx(&lk->rl, "receive on %s: %s", pt->name, strerror(errno));
			return;
		}
		uint64_t now = now_ns();
		for (int i = 0; i < n; i++) {
			struct msghdr *mh = &lk->rxmsg[i].msg_hdr;
			uint32_t len = lk->rxmsg[i].msg_len;
			if (lk->rxaddr[i].sll_pkttype == PACKET_OUTGOING) {
				lk->ignored_outgoing++;
				continue;
			}
			if ((mh->msg_flags & MSG_TRUNC) || len > LK_FRAME_MAX || len < hdr) {
				lk->truncated++;
				continue;
			}
			int v = lk_dir_input(d, now, lk->rxiov[i].iov_base, len, (uint32_t)(len - hdr));
			(void)v;
		}
		if (n < LK_BATCH)
			return;
	}
}

/* Sends every frame due at `now`, in batches. */
static void flush_dir(struct linkem *lk, int side, uint64_t now)
{
	struct lk_dir *d = &lk->dir[side];
	struct lk_port *out = &lk->port[!side];
	struct lk_frame *fr[LK_BATCH];
	struct mmsghdr msg[LK_BATCH];
	struct iovec iov[LK_BATCH];
	for (;;) {
		int n = 0;
		while (n < LK_BATCH && (fr[n] = lk_dir_pop(d, now)) != NULL) {
			iov[n].iov_base = fr[n]->data;
			iov[n].iov_len = fr[n]->len;
			memset(&msg[n], 0, sizeof(msg[n]));
			msg[n].msg_hdr.msg_iov = &iov[n];
			msg[n].msg_hdr.msg_iovlen = 1;
			n++;
		}
		if (n == 0)
			return;
		int sent = 0;
		while (sent < n) {
			int r = sendmmsg(out->fd, msg + sent, (unsigned)(n - sent), MSG_DONTWAIT);
			if (r < 0) {
				if (errno == EINTR)
					continue;
				/* the frame at the head failed (EMSGSIZE, ENOBUFS, ENETDOWN...):
				 * count it as lost on the wire and go on with the rest */
				lk->tx_errors[side]++;
				log_rl_warnx(&lk->rl, "send on %s: %s", out->name, strerror(errno));
				sent++;
				continue;
			}
			sent += r;
		}
		for (int i = 0; i < n; i++)
			free(fr[i]);
		if (n < LK_BATCH)
			return;
	}
}

static int arm_timer(struct linkem *lk)
{
	uint64_t t = lk_dir_next(&lk->dir[0]), t1 = lk_dir_next(&lk->dir[1]);
	if (t1 < t)
		t = t1;
	if (t == UINT64_MAX) {
		if (!lk->armed)
			return 0;
		t = 0; /* disarm */
	} else if (t == lk->armed) {
		return 0;
	} else if (t == 0) {
		t = 1; /* zero would disarm */
	}
	struct itimerspec its = { .it_value = { .tv_sec = (time_t)(t / 1000000000ull),
						.tv_nsec = (long)(t % 1000000000ull) } };
	if (timerfd_settime(lk->tfd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
		return -errno;
	lk->armed = t;
	return 0;
}

static int run(struct linkem *lk)
{
	struct epoll_event ev[8];
	for (;;) {
		int n = epoll_wait(lk->epfd, ev, 8, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_warn("epoll_wait");
			return 1;
		}
		for (int i = 0; i < n; i++) {
			int fd = ev[i].data.fd;
			if (fd == lk->port[0].fd) {
				port_rx(lk, 0);
			} else if (fd == lk->port[1].fd) {
				port_rx(lk, 1);
			} else if (fd == lk->tfd) {
				uint64_t exp;
				if (read(lk->tfd, &exp, sizeof(exp)) < 0 && errno != EAGAIN)
					log_warn("timerfd read");
				lk->armed = 0;
			} else if (fd == lk->sfd) {
				struct signalfd_siginfo si;
				while (read(lk->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
					if (si.ssi_signo == SIGUSR1) {
						if (write_stats_file(lk, "-") < 0)
							log_warnx("cannot print stats");
						continue;
					}
					log_info("signal %u: exiting", si.ssi_signo);
					return 0;
				}
			}
		}
		uint64_t now = now_ns();
		flush_dir(lk, 0, now);
		flush_dir(lk, 1, now);
		int rc = arm_timer(lk);
		if (rc < 0) {
			errno = -rc;
			log_warn("timerfd_settime");
			return 1;
		}
	}
}

int main(int argc, char **argv)
{
	struct linkem lk;
	memset(&lk, 0, sizeof(lk));
	lk.port[0].fd = lk.port[1].fd = lk.epfd = lk.tfd = lk.sfd = -1;
	enum log_level lvl = LOG_LVL_INFO;
	const char *vals[3][NK] = { { 0 } }; /* [both, a2b, b2a][key] */
	int have_seed = 0, rt_prio = 0;

	struct option opts[3 * NK + 8];
	char names[3][NK][32];
	int no = 0;
	for (int v = 0; v < 3; v++)
		for (int k = 0; k < NK; k++) {
			snprintf(names[v][k], sizeof(names[v][k]), "%s%s",
				 v == 0 ? "" : v == 1 ? "a2b-" : "b2a-", key_names[k]);
			opts[no++] = (struct option){ names[v][k], required_argument, NULL,
						      O_KEYS + v * 100 + k };
		}
	opts[no++] = (struct option){ "seed", required_argument, NULL, O_SEED };
	opts[no++] = (struct option){ "json", required_argument, NULL, O_JSON };
	opts[no++] = (struct option){ "realtime", optional_argument, NULL, O_REALTIME };
	opts[no++] = (struct option){ "verbose", no_argument, NULL, 'v' };
	opts[no++] = (struct option){ "quiet", no_argument, NULL, 'q' };
	opts[no++] = (struct option){ "help", no_argument, NULL, 'h' };
	opts[no++] = (struct option){ NULL, 0, NULL, 0 };

	int c;
	char *end;
	while ((c = getopt_long(argc, argv, "a:b:vqh", opts, NULL)) != -1) {
		switch (c) {
		case 'a': lk.port[0].name = optarg; break;
		case 'b': lk.port[1].name = optarg; break;
		case 'v': lvl = LOG_LVL_DEBUG; break;
		case 'q': lvl = LOG_LVL_WARN; break;
		case 'h': usage(stdout); return 0;
		case O_JSON: lk.json = optarg; break;
		case O_REALTIME:
			rt_prio = 50;
			if (optarg) {
				errno = 0;
				long v = strtol(optarg, &end, 10);
				if (errno || end == optarg || *end || v < 1 || v > 99) {
					fprintf(stderr, "linkem: --realtime: priority 1-99\n");
					return 2;
				}
				rt_prio = (int)v;
			}
			break;
		case O_SEED:
			errno = 0;
			lk.seed = strtoull(optarg, &end, 0);
			if (errno || end == optarg || *end || *optarg == '-') {
				fprintf(stderr, "linkem: --seed: not a number: '%s'\n", optarg);
				return 2;
			}
			have_seed = 1;
			break;
		default:
			if (c >= O_KEYS && c < O_KEYS + 300) {
				vals[(c - O_KEYS) / 100][(c - O_KEYS) % 100] = optarg;
				break;
			}
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || !lk.port[0].name || !lk.port[1].name) {
		usage(stderr);
		return 2;
	}
	if (strcmp(lk.port[0].name, lk.port[1].name) == 0) {
		fprintf(stderr, "linkem: -a and -b must be different interfaces\n");
		return 2;
	}
	log_init("linkem", 1, lvl);

	struct lk_params par[2];
	for (int dir = 0; dir < 2; dir++) {
		lk_params_default(&par[dir]);
		for (int v = 0; v < 3; v++) {
			if (v != 0 && v != dir + 1)
				continue;
			for (int k = 0; k < NK; k++) {
				if (!vals[v][k] || apply_key(&par[dir], k, vals[v][k]) == 0)
					continue;
				fprintf(stderr, "linkem: --%s: invalid value '%s'\n", names[v][k],
					vals[v][k]);
				return 2;
			}
		}
	}
	if (!have_seed && getrandom(&lk.seed, sizeof(lk.seed), 0) != sizeof(lk.seed))
		lk.seed = (uint64_t)now_ns() ^ (uint64_t)getpid();
	for (int dir = 0; dir < 2; dir++)
		if (lk_dir_init(&lk.dir[dir], &par[dir], lk.seed * 2 + (uint64_t)dir) < 0)
			fatalx("out of memory");

	/* timers: nanosecond wake-ups, not the default 50 us slack */
	(void)prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	/* on a loaded machine, ordinary scheduling adds milliseconds to the release times */
	if (rt_prio) {
		struct sched_param sp = { .sched_priority = rt_prio };
		if (sched_setscheduler(0, SCHED_FIFO, &sp) < 0)
			log_warn("--realtime: SCHED_FIFO %d", rt_prio);
	}

	sigset_t ss;
	sigemptyset(&ss);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigaddset(&ss, SIGUSR1);
	sigaddset(&ss, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &ss, NULL) < 0)
		fatal("sigprocmask");
	signal(SIGPIPE, SIG_IGN);

	/* GSO/checksum metadata is carried across (PACKET_VNET_HDR) so that segmentation
	 * offloads of the end hosts survive the trip; without it, fall back to plain frames */
	lk.vnet = 1;
	for (int i = 0; i < 2; i++) {
		int rc = port_open(&lk.port[i], lk.vnet);
		if (lk.vnet && (rc == -EINVAL || rc == -ENOPROTOOPT)) {
			if (i == 1) {
				close(lk.port[0].fd);
				lk.port[0].fd = -1;
			}
			lk.vnet = 0;
			log_info("PACKET_VNET_HDR unavailable: forwarding plain frames");
			i = -1;
			continue;
		}
		if (rc < 0) {
			errno = -rc;
			fatal("interface %s", lk.port[i].name);
		}
	}
	lk.rxbuf = malloc((size_t)LK_BATCH * LK_FRAME_MAX);
	if (!lk.rxbuf)
		fatalx("out of memory");
	for (int i = 0; i < LK_BATCH; i++) {
		lk.rxiov[i].iov_base = lk.rxbuf + (size_t)i * LK_FRAME_MAX;
		lk.rxiov[i].iov_len = LK_FRAME_MAX;
		lk.rxmsg[i].msg_hdr.msg_iov = &lk.rxiov[i];
		lk.rxmsg[i].msg_hdr.msg_iovlen = 1;
		lk.rxmsg[i].msg_hdr.msg_name = &lk.rxaddr[i];
	}
	lk.epfd = epoll_create1(EPOLL_CLOEXEC);
	lk.tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	lk.sfd = signalfd(-1, &ss, SFD_NONBLOCK | SFD_CLOEXEC);
	if (lk.epfd < 0 || lk.tfd < 0 || lk.sfd < 0)
		fatal("epoll/timerfd/signalfd");
	int fds[4] = { lk.port[0].fd, lk.port[1].fd, lk.tfd, lk.sfd };
	for (int i = 0; i < 4; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.fd = fds[i] };
		if (epoll_ctl(lk.epfd, EPOLL_CTL_ADD, fds[i], &ev) < 0)
			fatal("epoll_ctl");
	}
	lk.start_ns = now_ns();
	log_info("forwarding %s <-> %s (seed %" PRIu64 ", %s)", lk.port[0].name, lk.port[1].name,
		 lk.seed, lk.vnet ? "vnet header" : "plain frames");

	int rc = run(&lk);
	if (lk.json) {
		int wr = write_stats_file(&lk, lk.json);
		if (wr < 0) {
			errno = -wr;
			log_warn("writing %s", lk.json);
			rc = 1;
		}
	}
	for (int i = 0; i < 2; i++) {
		lk_dir_free(&lk.dir[i]);
		close(lk.port[i].fd);
	}
	close(lk.epfd);
	close(lk.tfd);
	close(lk.sfd);
	free(lk.rxbuf);
	return rc;
}
