/* TUN devices on a libuv loop. */
#include "roam/tun.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

struct roam_tun {
	uv_poll_t poll;             /* poll.data == this */
	int fd;
	int ifindex;
	int closing;
	int polling;
	unsigned batch;
	size_t bufsize;
	uint8_t *buf;
	char name[IFNAMSIZ];
	roam_tun_recv_cb recv_cb;
	roam_tun_close_cb close_cb;
	void *arg;
	struct roam_tun_stats stats;
};

static void tun_on_readable(uv_poll_t *h, int status, int events)
{
	struct roam_tun *t = h->data;
	(void)events;
	if (status < 0) {
		t->stats.rx_errors++;
		return;
	}
	for (unsigned i = 0; i < t->batch && !t->closing; i++) {
		ssize_t n = read(t->fd, t->buf, t->bufsize);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				t->stats.rx_errors++;
			return;
		}
		if (n == 0)
			return;
		t->stats.rx_packets++;
		t->stats.rx_bytes += (uint64_t)n;
		if (t->recv_cb)
			t->recv_cb(t, t->buf, (size_t)n, t->arg);
	}
}

int roam_tun_set_mtu(struct roam_tun *t, unsigned mtu)
{
	struct ifreq ifr;
	if (mtu < 68 || mtu > 65535)
		return -EINVAL;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, t->name, sizeof(ifr.ifr_name));
	ifr.ifr_mtu = (int)mtu;
	int rc = ioctl(s, SIOCSIFMTU, &ifr) < 0 ? -errno : 0;
	close(s);
	return rc;
}

int roam_tun_open(uv_loop_t *loop, const struct roam_tun_opts *opts, roam_tun_recv_cb recv_cb,
		  void *arg, struct roam_tun **out)
{
	struct ifreq ifr;
	int rc;

	*out = NULL;
	if (opts->name != NULL && strlen(opts->name) >= IFNAMSIZ)
		return -EINVAL;
	size_t bufsize = opts->bufsize ? opts->bufsize : ROAM_TUN_BUFSIZE_DEFAULT;
	if (bufsize < 68 || bufsize > 65535)
		return -EINVAL;
	struct roam_tun *t = calloc(1, sizeof(*t));
	if (t == NULL)
		return -ENOMEM;
	t->batch = opts->batch ? opts->batch : ROAM_TUN_BATCH_DEFAULT;
	t->bufsize = bufsize;
	t->recv_cb = recv_cb;
	t->arg = arg;
	t->buf = malloc(bufsize);
	if (t->buf == NULL) {
		rc = -ENOMEM;
		goto fail_free;
	}
	t->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (t->fd < 0) {
		rc = -errno;
		goto fail_free;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	if (opts->name != NULL && *opts->name != '\0')
		memcpy(ifr.ifr_name, opts->name, strlen(opts->name));
	if (ioctl(t->fd, TUNSETIFF, &ifr) < 0) {
		rc = -errno;
		goto fail_fd;
	}
	memcpy(t->name, ifr.ifr_name, IFNAMSIZ);
	t->name[IFNAMSIZ - 1] = '\0';
	t->ifindex = (int)if_nametoindex(t->name);
	if (t->ifindex == 0) {
		rc = -ENODEV;
		goto fail_fd;
	}
	if (opts->mtu && (rc = roam_tun_set_mtu(t, opts->mtu)) < 0)
		goto fail_fd;
	if ((rc = uv_poll_init(loop, &t->poll, t->fd)) < 0)
		goto fail_fd;
	t->poll.data = t;
	if ((rc = uv_poll_start(&t->poll, UV_READABLE, tun_on_readable)) < 0) {
		roam_tun_close(t, NULL);
		return rc;
	}
	t->polling = 1;
	*out = t;
	return 0;

fail_fd:
	close(t->fd);
fail_free:
	free(t->buf);
	free(t);
	return rc;
}

static void tun_on_close(uv_handle_t *h)
{
	struct roam_tun *t = h->data;
	close(t->fd);
	if (t->close_cb)
		t->close_cb(t, t->arg);
	free(t->buf);
	free(t);
}

void roam_tun_close(struct roam_tun *t, roam_tun_close_cb cb)
{
	if (t == NULL || t->closing)
		return;
	t->closing = 1;
	t->close_cb = cb;
	uv_poll_stop(&t->poll);
	t->polling = 0;
	uv_close((uv_handle_t *)&t->poll, tun_on_close);
}

const char *roam_tun_name(const struct roam_tun *t)
{
	return t->name;
}

int roam_tun_ifindex(const struct roam_tun *t)
{
	return t->ifindex;
}

int roam_tun_write(struct roam_tun *t, const void *pkt, size_t len)
{
	ssize_t n;
	if (t->closing)
		return -EBADF;
	do {
		n = write(t->fd, pkt, len);
	} while (n < 0 && errno == EINTR);
	if (n < 0 || (size_t)n != len) {
		t->stats.tx_errors++;
		return n < 0 ? -errno : -EMSGSIZE;
	}
	t->stats.tx_packets++;
	t->stats.tx_bytes += len;
	return 0;
}

int roam_tun_recv_stop(struct roam_tun *t)
{
	if (t->closing)
		return -EBADF;
	if (!t->polling)
		return 0;
	int rc = uv_poll_stop(&t->poll);
	if (rc == 0)
		t->polling = 0;
	return rc;
}

int roam_tun_recv_start(struct roam_tun *t)
{
	if (t->closing)
		return -EBADF;
	if (t->polling)
		return 0;
	int rc = uv_poll_start(&t->poll, UV_READABLE, tun_on_readable);
	if (rc == 0)
		t->polling = 1;
	return rc;
}

int roam_tun_fd(const struct roam_tun *t)
{
	return t->fd;
}

const struct roam_tun_stats *roam_tun_stats(const struct roam_tun *t)
{
	return &t->stats;
}
