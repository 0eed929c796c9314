/* lnsd's PPP termination (lns/ppp.c) on a fake clock, no sockets and no TUN: a scripted LAC
 * (../common/l2tp_peer.h) sets up a call; a real PPP peer (common/proto/ppp, the mobile's
 * side) talks to lnsd through L2TP data messages; what lnsd writes to its TUN is captured. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "../../../lns/lnsd.h"
#include "roam/auth.h"

static struct lnsd h;
#include "lnsd_mobile.h"

static void data_check(const struct l2tp_hdr *hd, uint16_t proto, const uint8_t *info,
		       size_t ilen)
{
	(void)proto, (void)info, (void)ilen;
	cr_assert_eq(hd->tunnel_id, 77);
}

static void setup_auth(const char *auth)
{
	char yaml[1024];
	snprintf(yaml, sizeof(yaml),
		 "peers:\n  - address: 192.0.2.1\n"
		 "ppp:\n  enabled: yes\n  auth: %s\n"
		 "  credentials: \"# users\\nalice wonderland\\nbob  builder \\n\"\n"
		 "  local_address: 10.64.0.1\n  pool: 10.64.0.0/29\n  echo_interval: 0s\n",
		 auth);
	cr_assert_eq(lnsd_start(yaml), 0);
	cr_assert_eq(h.ncreds, 2);
	peer_reset(&h.ep, "192.0.2.1:1701", 2000000);
	ndq = dq_read = 0;
	tun_len = tun_count = 0;
}

static void teardown(void)
{
	lnsd_core_destroy(&h);
	lnsd_conf_free(&h.conf);
}

/* Tunnel without authentication, then ICRQ/ICCN: lnsd starts PPP. */
static struct lnsd_session *call(uint16_t lsid)
{
	peer_sccrq("lac1", 77);
	feed();
	cr_assert_eq(last(), L2TP_MSG_SCCRP);
	tid = r.assigned_tunnel_id;
	msg_init(L2TP_MSG_SCCCN, 0);
	feed();
	peer_icrq(lsid, "3125550100");
	lns_sid = peer_call(lsid);
	struct lnsd_session *s = lnsd_session_of(l2tp_session_find(&h.ep, tid, lns_sid));
	cr_assert_not_null(s);
	cr_assert_not_null(s->ppp, "PPP started at ICCN");
	cr_assert_gt(ndq, 0, "LCP Configure-Request sent");
	return s;
}

static size_t ip_packet(uint8_t *p, uint32_t src, uint32_t dst)
{
	memset(p, 0, 28);
	p[0] = 0x45;
	p[3] = 28;
	p[8] = 64;
	p[9] = 17;
	src = htonl(src);
	dst = htonl(dst);
	memcpy(p + 12, &src, 4);
	memcpy(p + 16, &dst, 4);
	return 28;
}

Test(lnsd_ppp, pap_up_address_and_ip_both_ways, .fini = teardown)
{
	setup_auth("pap");
	struct lnsd_session *s = call(11);
	mob_init("alice", "wonderland");
	ppp_start(&mob, now);
	pump();
	cr_assert(mob_up, "the mobile's IPCP opened");
	cr_assert(ppp_is_up(s->ppp));
	cr_assert_eq(s->ppp->st.auth_proto, PPP_PROTO_PAP);
	cr_assert_str_eq(s->ppp->st.peer_name, "alice");
	cr_assert_eq(s->addr, 0x0a400002, "first free pool address");
	cr_assert_eq(mob.st.addr_local, 0x0a400002);
	cr_assert_eq(mob.st.addr_peer, 0x0a400001);
	cr_assert(s->s.data_seq, "the LAC sends Ns: lnsd too");

	/* Mobile -> TUN. */
	uint8_t pkt[64];
	size_t n = ip_packet(pkt, 0x0a400002, 0xc6336401);
	cr_assert_eq(ppp_send_ip(&mob, pkt, n), 0);
	pump();
	cr_assert_eq(tun_count, 1);
	cr_assert_eq(tun_len, n);
	cr_assert(memcmp(tun_last, pkt, n) == 0);
	/* A spoofed source is dropped. */
	n = ip_packet(pkt, 0x0a400003, 0xc6336401);
	cr_assert_eq(ppp_send_ip(&mob, pkt, n), 0);
	pump();
	cr_assert_eq(tun_count, 1);
	cr_assert_eq(h.pstats.drop_spoofed, 1);
	/* TUN -> mobile, and to an address nobody has. */
	n = ip_packet(pkt, 0xc6336401, 0x0a400002);
	lnsd_ppp_from_tun(&h, pkt, n);
	pump();
	cr_assert_eq(mob_rx_ip, 1);
	n = ip_packet(pkt, 0xc6336401, 0x0a400005);
	lnsd_ppp_from_tun(&h, pkt, n);
	cr_assert_eq(h.pstats.drop_tun_no_session, 1);

	/* The LAC clears the call: the address goes back to the pool. */
	cr_assert_eq(h.pool.used, 1);
	msg_init(L2TP_MSG_CDN, lns_sid);
	m.avps = L2TP_AVP_BIT(L2TP_AVP_RESULT_CODE) | L2TP_AVP_BIT(L2TP_AVP_ASSIGNED_SESSION_ID);
	m.result.result = L2TP_CDN_ADMIN;
	m.assigned_session_id = 11;
	feed();
	cr_assert_eq(h.pool.used, 0);
	cr_assert_eq(h.pstats.addr_released, 1);
}

Test(lnsd_ppp, chap_up, .fini = teardown)
{
	setup_auth("chap");
	struct lnsd_session *s = call(12);
	mob_init("bob", "builder");
	ppp_start(&mob, now);
	pump();
	cr_assert(mob_up);
	cr_assert_eq(s->ppp->st.auth_proto, PPP_PROTO_CHAP);
	cr_assert_str_eq(s->ppp->st.peer_name, "bob");
	cr_assert_neq(s->addr, 0);
	cr_assert_eq(h.pstats.auth_ok, 1);
}

Test(lnsd_ppp, wrong_password_refused_and_call_cleared, .fini = teardown)
{
	setup_auth("any");
	call(13);
	mob_init("alice", "looking-glass");
	ppp_start(&mob, now);
	unsigned before = nout;
	pump();
	cr_assert_not(mob_up);
	cr_assert_eq(h.pstats.auth_failed, 1);
	cr_assert_eq(h.pstats.addr_assigned, 0, "no address without authentication");
	cr_assert_eq(h.pool.used, 0);
	cr_assert_eq(count(L2TP_MSG_CDN, before), 1, "the call is cleared");
	cr_assert_null(l2tp_session_find(&h.ep, tid, lns_sid));
}

Test(lnsd_ppp, credentials_checked_and_reloaded)
{
	char err[256];
	struct lnsd_conf nc;
	memset(&h, 0, sizeof(h));
	cr_assert_eq(lnsd_conf_load_string(&h.conf,
					   "control_socket: /tmp/x.sock\n"
					   "ppp:\n  enabled: yes\n  credentials: \"alice\\n\"\n",
					   err, sizeof(err)),
		     0, "%s", err);
	h.ep.tx = l2tp_tx;
	cr_assert_eq(lnsd_core_init(&h), -EINVAL, "a line without a secret");
	lnsd_conf_free(&h.conf);

	setup_auth("pap");
	cr_assert_eq(lnsd_conf_load_string(&nc,
					   "control_socket: /tmp/x.sock\n"
					   "ppp:\n  enabled: yes\n  credentials: \"dave x\\nerin y\\nfrank z\"\n",
					   err, sizeof(err)),
		     0, "%s", err);
	cr_assert_eq(lnsd_ppp_reload(&h, &nc), 0);
	cr_assert_eq(h.ncreds, 3);
	cr_assert_str_eq(h.creds[2].name, "frank");
	lnsd_conf_free(&nc);
	cr_assert_eq(lnsd_conf_load_string(&nc,
					   "control_socket: /tmp/x.sock\n"
					   "ppp:\n  enabled: yes\n  credentials: \"gina\\n\"\n",
					   err, sizeof(err)),
		     0, "%s", err);
	cr_assert_eq(lnsd_ppp_reload(&h, &nc), -EINVAL);
	cr_assert_eq(h.ncreds, 3, "kept on error");
	lnsd_conf_free(&nc);
	teardown();
}
