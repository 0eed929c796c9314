/* rtnetlink by hand: requests with acknowledgements, link/address event subscription, and a
 * few sysctl helpers.  Netlink is host-endian: headers and attributes are copied in and out of
 * host structs with rbuf_get_bytes()/wbuf_put_bytes() (never cast onto the buffer). */
#include "roam/netlink.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_addr.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "roam/buf.h"

#define NL_RXBUF 65536
#define NL_REQBUF 512

/* --- message reading --- */

/* Splits the next netlink message off r: its header and its body. */
static int nl_next_msg(struct rbuf *r, struct nlmsghdr *h, struct rbuf *body)
{
	struct rbuf c = *r;
	if (rbuf_get_bytes(&c, h, sizeof(*h)) < 0)
		return -EBADMSG;
	if (h->nlmsg_len < sizeof(*h))
		return -EBADMSG;
	if (rbuf_sub(&c, h->nlmsg_len - sizeof(*h), body) < 0)
		return -EBADMSG;
	size_t pad = NLMSG_ALIGN(h->nlmsg_len) - h->nlmsg_len;
	if (pad > rbuf_left(&c))
		pad = rbuf_left(&c);
	rbuf_skip(&c, pad);
	*r = c;
	return 0;
}

/* Splits the next route attribute off r. */
static int nl_next_attr(struct rbuf *r, uint16_t *type, struct rbuf *payload)
{
	struct rbuf c = *r;
	struct rtattr a;
	if (rbuf_get_bytes(&c, &a, sizeof(a)) < 0)
		return -EBADMSG;
	if (a.rta_len < sizeof(a))
		return -EBADMSG;
	if (rbuf_sub(&c, a.rta_len - sizeof(a), payload) < 0)
		return -EBADMSG;
	size_t pad = RTA_ALIGN(a.rta_len) - a.rta_len;
	if (pad > rbuf_left(&c))
		pad = rbuf_left(&c);
	rbuf_skip(&c, pad);
	*type = a.rta_type & NLA_TYPE_MASK;
	*r = c;
	return 0;
}

static int attr_u32(struct rbuf *p, uint32_t *v)
{
	if (rbuf_left(p) != sizeof(*v))
		return -EBADMSG;
	return rbuf_get_bytes(p, v, sizeof(*v)) < 0 ? -EBADMSG : 0;
}

/* Copies a string attribute (NUL-terminated within its payload) into dst[n]. */
static int attr_str(struct rbuf *p, char *dst, size_t n)
{
	size_t len = rbuf_left(p);
	const uint8_t *s;
	if (len == 0 || rbuf_get_ptr(p, len, &s) < 0)
		return -EBADMSG;
	const uint8_t *nul = memchr(s, '\0', len);
	size_t sl = nul ? (size_t)(nul - s) : len;
	if (sl >= n)
		return -EBADMSG;
	memcpy(dst, s, sl);
	dst[sl] = '\0';
	return 0;
}

static int attr_addr(struct rbuf *p, int family, struct roam_ipaddr *a)
{
	size_t n = roam_ipaddr_family_len(family);
	uint8_t b[16];
	if (n == 0 || rbuf_left(p) != n || rbuf_get_bytes(p, b, n) < 0)
		return -EBADMSG;
	return roam_ipaddr_from_bytes(a, family, b);
}

static int parse_link(uint16_t type, struct rbuf *body, struct roam_nl_event *ev)
{
	struct ifinfomsg ifi;
	if (rbuf_get_bytes(body, &ifi, sizeof(ifi)) < 0)
		return -EBADMSG;
	ev->type = type == RTM_NEWLINK ? ROAM_NL_EV_LINK_NEW : ROAM_NL_EV_LINK_DEL;
	ev->ifindex = ifi.ifi_index;
	ev->flags = ifi.ifi_flags;
	ev->up = (ifi.ifi_flags & IFF_UP) != 0;
	ev->running = (ifi.ifi_flags & IFF_RUNNING) != 0;
	while (rbuf_left(body) > 0) {
		uint16_t at;
		struct rbuf p;
		if (nl_next_attr(body, &at, &p) < 0)
			return -EBADMSG;
		if (at == IFLA_IFNAME) {
			if (attr_str(&p, ev->ifname, sizeof(ev->ifname)) < 0)
				return -EBADMSG;
		} else if (at == IFLA_MTU) {
			uint32_t mtu;
			if (attr_u32(&p, &mtu) < 0)
				return -EBADMSG;
			ev->mtu = mtu;
		}
	}
	return 0;
}

static int parse_addr(uint16_t type, struct rbuf *body, struct roam_nl_event *ev)
{
	struct ifaddrmsg ifa;
	struct roam_ipaddr local, address;
	if (rbuf_get_bytes(body, &ifa, sizeof(ifa)) < 0)
		return -EBADMSG;
	if (ifa.ifa_family != AF_INET && ifa.ifa_family != AF_INET6)
		return -ENOENT;
	if (ifa.ifa_prefixlen > roam_ipaddr_family_len(ifa.ifa_family) * 8)
		return -EBADMSG;
	memset(&local, 0, sizeof(local));
	memset(&address, 0, sizeof(address));
	ev->type = type == RTM_NEWADDR ? ROAM_NL_EV_ADDR_NEW : ROAM_NL_EV_ADDR_DEL;
	ev->ifindex = (int)ifa.ifa_index;
	ev->addr_flags = ifa.ifa_flags;
	while (rbuf_left(body) > 0) {
		uint16_t at;
		struct rbuf p;
		if (nl_next_attr(body, &at, &p) < 0)
			return -EBADMSG;
		switch (at) {
		case IFA_LOCAL:
			if (attr_addr(&p, ifa.ifa_family, &local) < 0)
				return -EBADMSG;
			break;
		case IFA_ADDRESS:
			if (attr_addr(&p, ifa.ifa_family, &address) < 0)
				return -EBADMSG;
			break;
		case IFA_LABEL:
			if (attr_str(&p, ev->ifname, sizeof(ev->ifname)) < 0)
				return -EBADMSG;
			break;
		case IFA_FLAGS: {
			uint32_t f;
			if (attr_u32(&p, &f) < 0)
				return -EBADMSG;
			ev->addr_flags = f;
			break;
		}
		default:
			break;
		}
	}
	const struct roam_ipaddr *a = local.family ? &local : &address;
	if (a->family == 0)
		return -EBADMSG;
	return roam_prefix_set(&ev->addr, a, ifa.ifa_prefixlen) < 0 ? -EBADMSG : 0;
}

int roam_nl_parse_event(const void *msg, size_t len, struct roam_nl_event *ev)
{
	struct rbuf r, body;
	struct nlmsghdr h;

	memset(ev, 0, sizeof(*ev));
	rbuf_init(&r, msg, len);
	if (nl_next_msg(&r, &h, &body) < 0)
		return -EBADMSG;
	switch (h.nlmsg_type) {
	case RTM_NEWLINK:
	case RTM_DELLINK:
		return parse_link(h.nlmsg_type, &body, ev);
	case RTM_NEWADDR:
	case RTM_DELADDR:
		return parse_addr(h.nlmsg_type, &body, ev);
	default:
		return -ENOENT;
	}
}

/* --- message writing --- */

struct nl_req {
	union {
		struct nlmsghdr align;
		uint8_t buf[NL_REQBUF];
	} u;
	struct wbuf w;
};

static void nl_req_begin(struct nl_req *q, uint16_t type, uint16_t flags, const void *body,
			 size_t len)
{
	struct nlmsghdr h;
	memset(&h, 0, sizeof(h));
	h.nlmsg_type = type;
	h.nlmsg_flags = flags;
	wbuf_init_fixed(&q->w, q->u.buf, sizeof(q->u.buf));
	wbuf_put_bytes(&q->w, &h, sizeof(h));
	wbuf_put_bytes(&q->w, body, len);
	wbuf_put_zero(&q->w, NLMSG_ALIGN(len) - len);
}

static void nl_put_attr(struct nl_req *q, uint16_t type, const void *data, size_t len)
{
	struct rtattr a;
	a.rta_type = type;
	a.rta_len = (unsigned short)RTA_LENGTH(len);
	wbuf_put_bytes(&q->w, &a, sizeof(a));
	wbuf_put_bytes(&q->w, data, len);
	wbuf_put_zero(&q->w, RTA_ALIGN(len) - len);
}

static void nl_put_u32(struct nl_req *q, uint16_t type, uint32_t v)
{
	nl_put_attr(q, type, &v, sizeof(v));
}

static void nl_put_addr(struct nl_req *q, uint16_t type, const struct roam_ipaddr *a)
{
	size_t n;
	const uint8_t *p = roam_ipaddr_bytes(a, &n);
	nl_put_attr(q, type, p, n);
}

/* Patches the header's length and sequence number; returns the length or w.err. */
static int nl_req_end(struct nl_req *q, uint32_t seq)
{
	if (q->w.err)
		return q->w.err;
	struct nlmsghdr h;
	memcpy(&h, q->u.buf, sizeof(h));
	h.nlmsg_len = (uint32_t)q->w.len;
	h.nlmsg_seq = seq;
	wbuf_patch_bytes(&q->w, 0, &h, sizeof(h));
	return q->w.err ? q->w.err : (int)q->w.len;
}

/* --- synchronous requests --- */

struct roam_nl {
	int fd;
	uint32_t seq;
	uint32_t portid;
	uint8_t *rx;
};

int roam_nl_open(unsigned timeout_ms, struct roam_nl **out)
{
	struct sockaddr_nl sa;
	socklen_t slen = sizeof(sa);
	int rc;

	*out = NULL;
	struct roam_nl *nl = calloc(1, sizeof(*nl));
	if (nl == NULL)
		return -ENOMEM;
	nl->rx = malloc(NL_RXBUF);
	if (nl->rx == NULL) {
		free(nl);
		return -ENOMEM;
	}
	nl->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (nl->fd < 0) {
		rc = -errno;
		goto fail;
	}
	if (timeout_ms == 0)
		timeout_ms = 5000;
	struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
	if (setsockopt(nl->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		rc = -errno;
		goto fail_fd;
	}
	/* extended acks are not needed; errors come as errno */
	memset(&sa, 0, sizeof(sa));
	sa.nl_family = AF_NETLINK;
	if (bind(nl->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(nl->fd, (struct sockaddr *)&sa, &slen) < 0) {
		rc = -errno;
		goto fail_fd;
	}
	nl->portid = sa.nl_pid;
	nl->seq = (uint32_t)time(NULL);
	*out = nl;
	return 0;
fail_fd:
	close(nl->fd);
fail:
	free(nl->rx);
	free(nl);
	return rc;
}

void roam_nl_close(struct roam_nl *nl)
{
	if (nl == NULL)
		return;
	close(nl->fd);
	free(nl->rx);
	free(nl);
}

typedef int (*nl_reply_fn)(uint16_t type, struct rbuf *body, void *arg);

/* Sends the request and reads until its acknowledgement (or NLMSG_DONE).  Replies of other
 * types are handed to fn. */
static int nl_transact(struct roam_nl *nl, struct nl_req *q, nl_reply_fn fn, void *arg)
{
	uint32_t seq = ++nl->seq;
	int len = nl_req_end(q, seq);
	if (len < 0)
		return len;
	struct sockaddr_nl to = {.nl_family = AF_NETLINK};
	ssize_t n;
	do {
		n = sendto(nl->fd, q->u.buf, (size_t)len, 0, (struct sockaddr *)&to, sizeof(to));
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	int result = 0;
	for (;;) {
		do {
			n = recv(nl->fd, nl->rx, NL_RXBUF, 0);
		} while (n < 0 && errno == EINTR);
		if (n < 0)
			return (errno == EAGAIN || errno == EWOULDBLOCK) ? -ETIMEDOUT : -errno;
		struct rbuf r;
		rbuf_init(&r, nl->rx, (size_t)n);
		while (rbuf_left(&r) > 0) {
			struct nlmsghdr h;
			struct rbuf body;
			if (nl_next_msg(&r, &h, &body) < 0)
				return -EBADMSG;
			if (h.nlmsg_seq != seq || h.nlmsg_pid != nl->portid)
				continue; /* a stale reply to an earlier, timed-out request */
			if (h.nlmsg_type == NLMSG_ERROR) {
				int32_t err;
				if (rbuf_get_bytes(&body, &err, sizeof(err)) < 0)
					return -EBADMSG;
				return result < 0 ? result : err;
			}
			if (h.nlmsg_type == NLMSG_DONE)
				return result;
			if (fn != NULL && result == 0)
				result = fn(h.nlmsg_type, &body, arg);
		}
	}
}

int roam_nl_ifindex(const char *name, int *ifindex)
{
	unsigned idx = if_nametoindex(name);
	if (idx == 0)
		return -ENODEV;
	*ifindex = (int)idx;
	return 0;
}

static int link_reply(uint16_t type, struct rbuf *body, void *arg)
{
	struct roam_nl_link *l = arg;
	struct rbuf b = *body;
	struct ifinfomsg ifi;
	struct roam_nl_event ev;
	if (type != RTM_NEWLINK)
		return 0;
	if (rbuf_get_bytes(&b, &ifi, sizeof(ifi)) < 0)
		return -EBADMSG;
	memset(&ev, 0, sizeof(ev));
	b = *body;
	if (parse_link(type, &b, &ev) < 0)
		return -EBADMSG;
	l->ifindex = ev.ifindex;
	memcpy(l->name, ev.ifname, sizeof(l->name));
	l->flags = ev.flags;
	l->mtu = ev.mtu;
	l->type = ifi.ifi_type;
	return 0;
}

int roam_nl_link_get(struct roam_nl *nl, int ifindex, struct roam_nl_link *out)
{
	struct nl_req q;
	struct ifinfomsg ifi;
	memset(&ifi, 0, sizeof(ifi));
	memset(out, 0, sizeof(*out));
	if (ifindex <= 0)
		return -ENODEV;
	ifi.ifi_family = AF_UNSPEC;
	ifi.ifi_index = ifindex;
	nl_req_begin(&q, RTM_GETLINK, NLM_F_REQUEST | NLM_F_ACK, &ifi, sizeof(ifi));
	int rc = nl_transact(nl, &q, link_reply, out);
	if (rc == 0 && out->ifindex != ifindex)
		return -ENODEV;
	return rc;
}

static int link_change(struct roam_nl *nl, int ifindex, int up, unsigned change, int mtu)
{
	struct nl_req q;
	struct ifinfomsg ifi;
	memset(&ifi, 0, sizeof(ifi));
	if (ifindex <= 0)
		return -ENODEV;
	ifi.ifi_family = AF_UNSPEC;
	ifi.ifi_index = ifindex;
	ifi.ifi_flags = up ? IFF_UP : 0;
	ifi.ifi_change = change;
	nl_req_begin(&q, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, &ifi, sizeof(ifi));
	if (mtu > 0)
		nl_put_u32(&q, IFLA_MTU, (uint32_t)mtu);
	return nl_transact(nl, &q, NULL, NULL);
}

int roam_nl_link_set_up(struct roam_nl *nl, int ifindex, int up)
{
	return link_change(nl, ifindex, up, IFF_UP, 0);
}

int roam_nl_link_set_mtu(struct roam_nl *nl, int ifindex, unsigned mtu)
{
	if (mtu == 0 || mtu > 0x7fffffff)
		return -EINVAL;
	return link_change(nl, ifindex, 0, 0, (int)mtu);
}

static int addr_req(struct roam_nl *nl, uint16_t type, uint16_t flags, int ifindex,
		    const struct roam_prefix *p, unsigned aflags)
{
	struct nl_req q;
	struct ifaddrmsg ifa;
	size_t alen = roam_ipaddr_family_len(p->addr.family);
	if (alen == 0)
		return -EAFNOSUPPORT;
	if (p->len > alen * 8)
		return -EINVAL;
	if (ifindex <= 0)
		return -ENODEV;
	memset(&ifa, 0, sizeof(ifa));
	ifa.ifa_family = (uint8_t)p->addr.family;
	ifa.ifa_prefixlen = p->len;
	ifa.ifa_flags = (aflags & ROAM_NL_ADDR_NODAD) ? IFA_F_NODAD : 0;
	ifa.ifa_scope = RT_SCOPE_UNIVERSE;
	ifa.ifa_index = (uint32_t)ifindex;
	nl_req_begin(&q, type, flags, &ifa, sizeof(ifa));
	nl_put_addr(&q, IFA_LOCAL, &p->addr);
	nl_put_addr(&q, IFA_ADDRESS, &p->addr);
	if (type == RTM_NEWADDR && p->addr.family == AF_INET && p->len < 31) {
		struct roam_ipaddr brd = p->addr;
		uint32_t host = p->len == 0 ? 0xffffffffu : (0xffffffffu >> p->len);
		brd.v4.s_addr |= htonl(host);
		nl_put_addr(&q, IFA_BROADCAST, &brd);
	}
	if (type == RTM_NEWADDR && (aflags & ROAM_NL_ADDR_NODAD))
		nl_put_u32(&q, IFA_FLAGS, IFA_F_NODAD);
	return nl_transact(nl, &q, NULL, NULL);
}

int roam_nl_addr_add(struct roam_nl *nl, int ifindex, const struct roam_prefix *addr,
		     unsigned flags)
{
	uint16_t f = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE;
	f |= (flags & ROAM_NL_ADDR_REPLACE) ? NLM_F_REPLACE : NLM_F_EXCL;
	return addr_req(nl, RTM_NEWADDR, f, ifindex, addr, flags);
}

int roam_nl_addr_del(struct roam_nl *nl, int ifindex, const struct roam_prefix *addr)
{
	return addr_req(nl, RTM_DELADDR, NLM_F_REQUEST | NLM_F_ACK, ifindex, addr, 0);
}

static int route_req(struct roam_nl *nl, uint16_t type, uint16_t flags,
		     const struct roam_nl_route *rt)
{
	struct nl_req q;
	struct rtmsg m;
	int fam = rt->dst.addr.family;
	size_t alen = roam_ipaddr_family_len(fam);
	if (alen == 0)
		return -EAFNOSUPPORT;
	if (rt->dst.len > alen * 8)
		return -EINVAL;
	if ((rt->gw.family && rt->gw.family != fam) ||
	    (rt->prefsrc.family && rt->prefsrc.family != fam))
		return -EINVAL;
	struct roam_prefix dst = rt->dst;
	roam_prefix_mask(&dst);
	memset(&m, 0, sizeof(m));
	m.rtm_family = (uint8_t)fam;
	m.rtm_dst_len = dst.len;
	uint32_t table = rt->table ? rt->table : RT_TABLE_MAIN;
	m.rtm_table = table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
	if (type == RTM_DELROUTE) {
		m.rtm_scope = RT_SCOPE_NOWHERE;
		m.rtm_protocol = rt->protocol;
		m.rtm_type = rt->type;
	} else {
		m.rtm_protocol = rt->protocol ? rt->protocol : RTPROT_STATIC;
		m.rtm_type = rt->type ? rt->type : RTN_UNICAST;
		m.rtm_scope = (m.rtm_type == RTN_UNICAST && rt->gw.family == 0 && rt->oif != 0)
				      ? RT_SCOPE_LINK
				      : RT_SCOPE_UNIVERSE;
	}
	nl_req_begin(&q, type, flags, &m, sizeof(m));
	if (dst.len > 0)
		nl_put_addr(&q, RTA_DST, &dst.addr);
	if (rt->gw.family)
		nl_put_addr(&q, RTA_GATEWAY, &rt->gw);
	if (rt->prefsrc.family)
		nl_put_addr(&q, RTA_PREFSRC, &rt->prefsrc);
	if (rt->oif > 0)
		nl_put_u32(&q, RTA_OIF, (uint32_t)rt->oif);
	if (rt->metric)
		nl_put_u32(&q, RTA_PRIORITY, rt->metric);
	nl_put_u32(&q, RTA_TABLE, table);
	return nl_transact(nl, &q, NULL, NULL);
}

int roam_nl_route_add(struct roam_nl *nl, const struct roam_nl_route *rt)
{
	return route_req(nl, RTM_NEWROUTE, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
			 rt);
}

int roam_nl_route_replace(struct roam_nl *nl, const struct roam_nl_route *rt)
{
	return route_req(nl, RTM_NEWROUTE,
			 NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE, rt);
}

int roam_nl_route_del(struct roam_nl *nl, const struct roam_nl_route *rt)
{
	return route_req(nl, RTM_DELROUTE, NLM_F_REQUEST | NLM_F_ACK, rt);
}

static int neigh_proxy(struct roam_nl *nl, uint16_t type, uint16_t flags, int ifindex,
		       const struct roam_ipaddr *addr)
{
	struct nl_req q;
	struct ndmsg nd;
	if (roam_ipaddr_family_len(addr->family) == 0)
		return -EAFNOSUPPORT;
	if (ifindex <= 0)
		return -ENODEV;
	memset(&nd, 0, sizeof(nd));
	nd.ndm_family = (uint8_t)addr->family;
	nd.ndm_ifindex = ifindex;
	nd.ndm_state = NUD_PERMANENT;
	nd.ndm_flags = NTF_PROXY;
	nl_req_begin(&q, type, flags, &nd, sizeof(nd));
	nl_put_addr(&q, NDA_DST, addr);
	return nl_transact(nl, &q, NULL, NULL);
}

int roam_nl_neigh_proxy_add(struct roam_nl *nl, int ifindex, const struct roam_ipaddr *addr)
{
	return neigh_proxy(nl, RTM_NEWNEIGH, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE,
			   ifindex, addr);
}

int roam_nl_neigh_proxy_del(struct roam_nl *nl, int ifindex, const struct roam_ipaddr *addr)
{
	return neigh_proxy(nl, RTM_DELNEIGH, NLM_F_REQUEST | NLM_F_ACK, ifindex, addr);
}

/* --- sysctl --- */

static int sysctl_path(const char *key, char *path, size_t len)
{
	if (key == NULL || *key == '\0' || strstr(key, "..") != NULL || key[0] == '/')
		return -EINVAL;
	int n = snprintf(path, len, "/proc/sys/%s", key);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	if (strchr(key, '/') == NULL)
		for (char *c = path + strlen("/proc/sys/"); *c; c++)
			if (*c == '.')
				*c = '/';
	return 0;
}

int roam_sysctl_set(const char *key, const char *value)
{
	char path[256];
	int rc = sysctl_path(key, path, sizeof(path));
	if (rc < 0)
		return rc;
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t len = strlen(value);
	ssize_t n = write(fd, value, len);
	rc = n < 0 ? -errno : (size_t)n != len ? -EIO : 0;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	return rc;
}

int roam_sysctl_get(const char *key, char *buf, size_t len)
{
	char path[256];
	if (len == 0)
		return -EINVAL;
	int rc = sysctl_path(key, path, sizeof(path));
	if (rc < 0)
		return rc;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, len - 1);
	rc = n < 0 ? -errno : 0;
	close(fd);
	if (rc < 0)
		return rc;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

static int sysctl_if(const char *fmt, const char *ifname, int on)
{
	char key[128];
	if (ifname == NULL || *ifname == '\0' || strchr(ifname, '/') != NULL ||
	    strlen(ifname) >= IFNAMSIZ)
		return -EINVAL;
	snprintf(key, sizeof(key), fmt, ifname);
	return roam_sysctl_set(key, on ? "1" : "0");
}

int roam_sysctl_forwarding(int family, const char *ifname, int on)
{
	if (family == AF_INET)
		return sysctl_if("net/ipv4/conf/%s/forwarding", ifname, on);
	if (family == AF_INET6)
		return sysctl_if("net/ipv6/conf/%s/forwarding", ifname, on);
	return -EAFNOSUPPORT;
}

int roam_sysctl_proxy_arp(const char *ifname, int on)
{
	return sysctl_if("net/ipv4/conf/%s/proxy_arp", ifname, on);
}

int roam_sysctl_proxy_ndp(const char *ifname, int on)
{
	return sysctl_if("net/ipv6/conf/%s/proxy_ndp", ifname, on);
}

/* --- event monitor --- */

enum { DUMP_NONE, DUMP_LINKS, DUMP_ADDRS };

struct roam_nl_mon {
	uv_poll_t poll;             /* poll.data == this */
	int fd;
	unsigned groups;
	int closing;
	int dump;                   /* DUMP_* stage */
	uint32_t seq, dump_seq, portid;
	roam_nl_event_cb cb;
	roam_nl_mon_close_cb close_cb;
	void *arg;
	struct roam_nl_mon_stats stats;
	uint8_t *rx;
};

static int mon_send_dump(struct roam_nl_mon *m, uint16_t type)
{
	struct nl_req q;
	struct sockaddr_nl to = {.nl_family = AF_NETLINK};
	if (type == RTM_GETLINK) {
		struct ifinfomsg ifi;
		memset(&ifi, 0, sizeof(ifi));
		ifi.ifi_family = AF_UNSPEC;
		nl_req_begin(&q, type, NLM_F_REQUEST | NLM_F_DUMP, &ifi, sizeof(ifi));
	} else {
		struct ifaddrmsg ifa;
		memset(&ifa, 0, sizeof(ifa));
		unsigned both = ROAM_NL_MON_IPV4_ADDR | ROAM_NL_MON_IPV6_ADDR;
		if ((m->groups & both) == ROAM_NL_MON_IPV4_ADDR)
			ifa.ifa_family = AF_INET;
		else if ((m->groups & both) == ROAM_NL_MON_IPV6_ADDR)
			ifa.ifa_family = AF_INET6;
		nl_req_begin(&q, type, NLM_F_REQUEST | NLM_F_DUMP, &ifa, sizeof(ifa));
	}
	m->dump_seq = ++m->seq;
	int len = nl_req_end(&q, m->dump_seq);
	if (len < 0)
		return len;
	if (sendto(m->fd, q.u.buf, (size_t)len, 0, (struct sockaddr *)&to, sizeof(to)) < 0)
		return -errno;
	return 0;
}

static void mon_emit(struct roam_nl_mon *m, enum roam_nl_event_type type)
{
	struct roam_nl_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	m->cb(m, &ev, m->arg);
}

/* The dump stage after the current one finished. */
static void mon_dump_next(struct roam_nl_mon *m)
{
	if (m->dump == DUMP_LINKS && (m->groups & (ROAM_NL_MON_IPV4_ADDR | ROAM_NL_MON_IPV6_ADDR))) {
		if (mon_send_dump(m, RTM_GETADDR) == 0) {
			m->dump = DUMP_ADDRS;
			return;
		}
	}
	m->dump = DUMP_NONE;
	mon_emit(m, ROAM_NL_EV_DUMP_DONE);
}

static void mon_handle(struct roam_nl_mon *m, const uint8_t *buf, size_t len)
{
	struct rbuf r;
	rbuf_init(&r, buf, len);
	while (rbuf_left(&r) > 0 && !m->closing) {
		const uint8_t *start = r.p;
		struct nlmsghdr h;
		struct rbuf body;
		if (nl_next_msg(&r, &h, &body) < 0) {
			m->stats.malformed++;
			return;
		}
		int ours = m->dump != DUMP_NONE && h.nlmsg_seq == m->dump_seq &&
			   h.nlmsg_pid == m->portid;
		if (h.nlmsg_type == NLMSG_DONE || h.nlmsg_type == NLMSG_ERROR) {
			if (ours)
				mon_dump_next(m);
			continue;
		}
		struct roam_nl_event ev;
		int rc = roam_nl_parse_event(start, h.nlmsg_len, &ev);
		if (rc == -ENOENT)
			continue;
		if (rc < 0) {
			m->stats.malformed++;
			continue;
		}
		if ((ev.type == ROAM_NL_EV_LINK_NEW || ev.type == ROAM_NL_EV_LINK_DEL) &&
		    !(m->groups & ROAM_NL_MON_LINK))
			continue;
		if (ev.type == ROAM_NL_EV_ADDR_NEW || ev.type == ROAM_NL_EV_ADDR_DEL) {
			unsigned g = ev.addr.addr.family == AF_INET ? ROAM_NL_MON_IPV4_ADDR
								    : ROAM_NL_MON_IPV6_ADDR;
			if (!(m->groups & g))
				continue;
		}
		m->stats.events++;
		m->cb(m, &ev, m->arg);
	}
}

static void mon_on_readable(uv_poll_t *h, int status, int events)
{
	struct roam_nl_mon *m = h->data;
	(void)events;
	if (status < 0)
		return;
	for (int i = 0; i < 64 && !m->closing; i++) {
		ssize_t n = recv(m->fd, m->rx, NL_RXBUF, MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				m->stats.overruns++;
				mon_emit(m, ROAM_NL_EV_OVERRUN);
				continue;
			}
			return;
		}
		if ((size_t)n > NL_RXBUF) {
			m->stats.malformed++;
			continue;
		}
		mon_handle(m, m->rx, (size_t)n);
	}
}

int roam_nl_mon_open(uv_loop_t *loop, unsigned groups, roam_nl_event_cb cb, void *arg,
		     struct roam_nl_mon **out)
{
	struct sockaddr_nl sa;
	socklen_t slen = sizeof(sa);
	int rc;

	*out = NULL;
	unsigned all = ROAM_NL_MON_LINK | ROAM_NL_MON_IPV4_ADDR | ROAM_NL_MON_IPV6_ADDR;
	if ((groups & all) == 0 || (groups & ~all) != 0 || cb == NULL)
		return -EINVAL;
	struct roam_nl_mon *m = calloc(1, sizeof(*m));
	if (m == NULL)
		return -ENOMEM;
	m->rx = malloc(NL_RXBUF);
	if (m->rx == NULL) {
		free(m);
		return -ENOMEM;
	}
	m->groups = groups;
	m->cb = cb;
	m->arg = arg;
	m->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (m->fd < 0) {
		rc = -errno;
		goto fail;
	}
	memset(&sa, 0, sizeof(sa));
	sa.nl_family = AF_NETLINK;
	if (groups & ROAM_NL_MON_LINK)
		sa.nl_groups |= RTMGRP_LINK;
	if (groups & ROAM_NL_MON_IPV4_ADDR)
		sa.nl_groups |= RTMGRP_IPV4_IFADDR;
	if (groups & ROAM_NL_MON_IPV6_ADDR)
		sa.nl_groups |= RTMGRP_IPV6_IFADDR;
	if (bind(m->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(m->fd, (struct sockaddr *)&sa, &slen) < 0) {
		rc = -errno;
		goto fail_fd;
	}
	m->portid = sa.nl_pid;
	int rcvbuf = 1 << 20;
	setsockopt(m->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)); /* best effort */
	if ((rc = uv_poll_init_socket(loop, &m->poll, m->fd)) < 0)
		goto fail_fd;
	m->poll.data = m;
	if ((rc = uv_poll_start(&m->poll, UV_READABLE, mon_on_readable)) < 0) {
		roam_nl_mon_close(m, NULL);
		return rc;
	}
	*out = m;
	return 0;
fail_fd:
	close(m->fd);
fail:
	free(m->rx);
	free(m);
	return rc;
}

int roam_nl_mon_dump(struct roam_nl_mon *m)
{
	if (m->closing)
		return -EBADF;
	if (m->dump != DUMP_NONE)
		return -EBUSY;
	int rc;
	if (m->groups & ROAM_NL_MON_LINK) {
		if ((rc = mon_send_dump(m, RTM_GETLINK)) < 0)
			return rc;
		m->dump = DUMP_LINKS;
	} else {
		if ((rc = mon_send_dump(m, RTM_GETADDR)) < 0)
			return rc;
		m->dump = DUMP_ADDRS;
	}
	return 0;
}

static void mon_on_close(uv_handle_t *h)
{
	struct roam_nl_mon *m = h->data;
	close(m->fd);
	if (m->close_cb)
		m->close_cb(m, m->arg);
	free(m->rx);
	free(m);
}

void roam_nl_mon_close(struct roam_nl_mon *m, roam_nl_mon_close_cb cb)
{
	if (m == NULL || m->closing)
		return;
	m->closing = 1;
	m->close_cb = cb;
	uv_poll_stop(&m->poll);
	uv_close((uv_handle_t *)&m->poll, mon_on_close);
}

const struct roam_nl_mon_stats *roam_nl_mon_stats(const struct roam_nl_mon *m)
{
	return &m->stats;
}
