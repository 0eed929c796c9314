/* The protocol-independent core of the UDP and raw endpoints (udp.c, raw.c): socket, poll
 * handle, batched receive, pause/resume, close.  See netpriv.h. */
#include "netpriv.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

/* Rounds of recvmmsg per wakeup: bounds the time one busy socket holds the loop. */
#define NET_EP_MAX_ROUNDS 8

void net_ep_read(struct net_ep *e)
{
	for (int round = 0; round < NET_EP_MAX_ROUNDS && !e->closing; round++) {
		int n = net_rxbatch_recv(&e->rx, e->fd);
		if (n < 0) {
			if (n != -EAGAIN && n != -EWOULDBLOCK)
				(*e->rx_errors)++;
			return;
		}
		for (int i = 0; i < n && !e->closing; i++) {
			const struct mmsghdr *mm = &e->rx.msgs[i];
			if (mm->msg_hdr.msg_flags & MSG_TRUNC) {
				(*e->rx_truncated)++;
				continue;
			}
			e->deliver(e->owner, &mm->msg_hdr, net_rxbatch_buf(&e->rx, (unsigned)i),
				   mm->msg_len);
		}
		if ((unsigned)n < e->rx.n)
			return;
	}
}

static void ep_on_readable(uv_poll_t *h, int status, int events)
{
	struct net_ep *e = h->data;
	(void)events;
	if (status < 0) {
		(*e->rx_errors)++;
		return;
	}
	net_ep_read(e);
}

int net_ep_open(struct net_ep *e, uv_loop_t *loop, const struct net_ep_conf *c, void *owner)
{
	int rc;

	memset(e, 0, sizeof(*e));
	e->fd = -1;
	e->owner = owner;
	e->deliver = c->deliver;
	e->closed = c->closed;
	e->rx_errors = c->rx_errors;
	e->rx_truncated = c->rx_truncated;
	if ((rc = net_rxbatch_init(&e->rx, c->batch, c->bufsize, c->ctrlsize)) < 0)
		goto fail;
	e->fd = socket(c->family, c->type | SOCK_NONBLOCK | SOCK_CLOEXEC, c->protocol);
	if (e->fd < 0) {
		rc = -errno;
		goto fail_rx;
	}
	if (c->setup && (rc = c->setup(owner, e->fd, c->setup_arg)) < 0)
		goto fail_fd;
	if ((rc = uv_poll_init_socket(loop, &e->poll, e->fd)) < 0)
		goto fail_fd;
	e->poll.data = e;
	if ((rc = uv_poll_start(&e->poll, UV_READABLE, ep_on_readable)) < 0) {
		/* the handle is initialised: it must go through uv_close */
		net_ep_close(e);
		return rc;
	}
	e->polling = 1;
	return 0;

fail_fd:
	close(e->fd);
	e->fd = -1;
fail_rx:
	net_rxbatch_free(&e->rx);
fail:
	e->closed(owner); /* may free e */
	return rc;
}

static void ep_on_close(uv_handle_t *h)
{
	struct net_ep *e = h->data;
	close(e->fd);
	net_rxbatch_free(&e->rx);
	e->closed(e->owner); /* may free e */
}

void net_ep_close(struct net_ep *e)
{
	if (e->closing)
		return;
	e->closing = 1;
	uv_poll_stop(&e->poll);
	e->polling = 0;
	uv_close((uv_handle_t *)&e->poll, ep_on_close);
}

int net_ep_recv_stop(struct net_ep *e)
{
	if (e->closing)
		return -EBADF;
	if (!e->polling)
		return 0;
	int rc = uv_poll_stop(&e->poll);
	if (rc == 0)
		e->polling = 0;
	return rc;
}

int net_ep_recv_start(struct net_ep *e)
{
	if (e->closing)
		return -EBADF;
	if (e->polling)
		return 0;
	int rc = uv_poll_start(&e->poll, UV_READABLE, ep_on_readable);
	if (rc == 0)
		e->polling = 1;
	return rc;
}

int net_sendmsg(int fd, const struct msghdr *m, size_t len)
{
	ssize_t n;
	do {
		n = sendmsg(fd, m, MSG_DONTWAIT | MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if ((size_t)n != len)
		return -EMSGSIZE;
	return 0;
}

int net_sendto(int fd, const struct roam_sockaddr *to, int v4, const struct roam_ipaddr *src,
	       int ifindex, const void *data, size_t len)
{
	union {
		struct cmsghdr align;
		uint8_t buf[NET_PKTINFO_CMSG_SPACE];
	} ctrl;
	int clen = net_build_pktinfo(ctrl.buf, v4, src, ifindex);
	if (clen < 0)
		return clen;
	struct iovec iov = {.iov_base = (void *)data, .iov_len = len};
	struct msghdr m = {
		.msg_name = (void *)&to->sa,
		.msg_namelen = to->len,
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = clen ? ctrl.buf : NULL,
		.msg_controllen = (size_t)clen,
	};
	return net_sendmsg(fd, &m, len);
}
