/* rtnetlink event parser (roam_nl_parse_event, roam/netlink.h): one netlink message per
 * input (header included).  The parser must never read outside the message, and a parsed
 * event must be consistent: a NUL-terminated interface name, a prefix length within its
 * family's address size, a known event type.  The input is also split into several messages
 * with NLMSG_NEXT-style alignment, as a receive buffer holding a batch would be. */
#include <errno.h>
#include <linux/netlink.h>
#include <sys/socket.h>

#include "fuzz.h"
#include "roam/netlink.h"

static void one(const uint8_t *msg, size_t len)
{
	struct roam_nl_event ev;
	memset(&ev, 0xa5, sizeof(ev));
	/* A private copy, so ASan sees any read past len. */
	uint8_t *b = malloc(len ? len : 1);
	if (!b)
		abort();
	memcpy(b, msg, len);
	int rc = roam_nl_parse_event(b, len, &ev);
	FUZZ_CHECK(rc == 0 || rc == -ENOENT || rc == -EBADMSG, "parse: %d", rc);
	if (rc == 0) {
		FUZZ_CHECK(memchr(ev.ifname, 0, sizeof(ev.ifname)) != NULL, "ifname not terminated");
		FUZZ_CHECK(ev.type == ROAM_NL_EV_LINK_NEW || ev.type == ROAM_NL_EV_LINK_DEL ||
		           ev.type == ROAM_NL_EV_ADDR_NEW || ev.type == ROAM_NL_EV_ADDR_DEL,
		           "event type %d", ev.type);
		if (ev.type == ROAM_NL_EV_ADDR_NEW || ev.type == ROAM_NL_EV_ADDR_DEL) {
			int fam = ev.addr.addr.family;
			FUZZ_CHECK(fam == AF_INET || fam == AF_INET6, "address family %d", fam);
			FUZZ_CHECK(ev.addr.len <= (fam == AF_INET ? 32 : 128), "prefix length %u",
			           ev.addr.len);
		} else {
			FUZZ_CHECK(ev.up == !!(ev.flags & 0x1), "up flag");
		}
	}
	free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_quiet();
	one(data, size);
	/* As a batch: each message's nlmsg_len (when sane) says where the next one starts. */
	size_t off = 0;
	for (int i = 0; i < 16 && off + NLMSG_HDRLEN <= size; i++) {
		struct nlmsghdr h;
		memcpy(&h, data + off, sizeof(h));
		if (h.nlmsg_len < NLMSG_HDRLEN || h.nlmsg_len > size - off)
			break;
		one(data + off, h.nlmsg_len);
		off += NLMSG_ALIGN(h.nlmsg_len);
	}
	return 0;
}
