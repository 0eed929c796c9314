/* rlpc: a test mobile for the L2TP data path.  It attaches to a LAC over the emulated access
 * link (docs/protocols/access-link.md), runs the peer side of PPP with a user and password,
 * configures the negotiated address on its own TUN device with a default route, and forwards
 * IPv4 between the TUN device and PPP: all of that is the shared PPP client
 * (common/proto/access/pppclient.c, roam/pppclient.h) that mnd's L2TP module also uses; rlpc
 * is its command line, with PPP restarting on every new access link (a standard client, no
 * handoff).  It runs until SIGTERM/SIGINT (then DETACH) and answers `status` on a control
 * socket.
 *
 *   rlpc -m MIN -u USER -p PASSWORD [-P PASSWORD_FILE] [-l LAC[:PORT] | -g GROUP]
 *        [-i CELL_IF] [-t TUN] [-s CTL_SOCKET] [-n NAI] [-A pap|chap|any] [-R] [-d]
 *
 * -R: no default route.  Exit: 0 after a signal, 1 on a start-up error, 2 usage. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roam/ctl.h"
#include "roam/json.h"
#include "roam/log.h"
#include "roam/netlink.h"
#include "roam/pppclient.h"

struct rlpc {
	uv_loop_t *loop;
	struct pppc *pc;
	struct roam_nl *nl;
	struct roam_ctl *ctl;
	uv_signal_t sigterm, sigint;
	bool stopping;
};

static int cmd_status(void *arg, const struct json_value *args, struct json_writer *w,
		      char *err, size_t errlen)
{
	(void)args, (void)err, (void)errlen;
	struct rlpc *r = arg;
	json_obj_begin(w);
	pppc_status_json(r->pc, w);
	json_obj_end(w);
	return 0;
}

static void close_walk(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

static void signal_cb(uv_signal_t *s, int signum)
{
	struct rlpc *r = s->data;
	if (r->stopping)
		return;
	r->stopping = true;
	log_info("signal %d: DETACH", signum);
	ctl_close(r->ctl);
	r->ctl = NULL;
	pppc_close(r->pc); /* DETACH (repeated after 100 ms), then its handles close */
	r->pc = NULL;
	uv_close((uv_handle_t *)&r->sigterm, NULL);
	uv_close((uv_handle_t *)&r->sigint, NULL);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: rlpc -m MIN -u USER (-p PASSWORD | -P FILE) [-l LAC[:PORT] | -g GROUP]\n"
		"            [-i CELL_IF] [-t TUN] [-s CTL_SOCKET] [-n NAI] [-A pap|chap|any] [-R] [-d]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static struct rlpc r;
	struct pppc_conf pc;
	const char *min = NULL, *user = NULL, *pass = NULL, *passfile = NULL, *lac = NULL;
	const char *group = ACCESS_GROUP, *ctlpath = NULL, *nai = "";
	char pbuf[PPP_SECRET_MAX + 2];
	int c, e;
	bool debug = false;
	unsigned auth = PPP_AUTH_PAP | PPP_AUTH_CHAP;

	memset(&pc, 0, sizeof(pc));
	pc.tun_name = "rlp%d";
	pc.default_route = true;
	while ((c = getopt(argc, argv, "m:u:p:P:l:g:i:t:s:n:A:Rdh")) != -1) {
		switch (c) {
		case 'm': min = optarg; break;
		case 'u': user = optarg; break;
		case 'p': pass = optarg; break;
		case 'P': passfile = optarg; break;
		case 'l': lac = optarg; break;
		case 'g': group = optarg; break;
		case 'i': pc.radio = optarg; break;
		case 't': pc.tun_name = optarg; break;
		case 's': ctlpath = optarg; break;
		case 'n': nai = optarg; break;
		case 'R': pc.default_route = false; break;
		case 'A':
			auth = !strcmp(optarg, "pap") ? PPP_AUTH_PAP
			       : !strcmp(optarg, "chap") ? PPP_AUTH_CHAP
			       : !strcmp(optarg, "any") ? PPP_AUTH_PAP | PPP_AUTH_CHAP : 0;
			if (!auth)
				usage();
			break;
		case 'd': debug = true; break;
		default: usage();
		}
	}
	if (!min || !user || (!pass && !passfile) || optind != argc)
		usage();
	log_init("rlpc", 1, debug ? LOG_LVL_DEBUG : LOG_LVL_INFO);
	if (passfile) {
		FILE *f = fopen(passfile, "r");
		if (!f || !fgets(pbuf, sizeof(pbuf), f))
			fatal("%s", passfile);
		fclose(f);
		pbuf[strcspn(pbuf, "\r\n")] = 0;
		pass = pbuf;
	}
	if (strlen(user) > PPP_NAME_MAX || strlen(pass) > PPP_SECRET_MAX)
		fatalx("user or password too long");

	access_client_conf_default(&pc.ac);
	snprintf(pc.ac.min, sizeof(pc.ac.min), "%s", min);
	snprintf(pc.ac.nai, sizeof(pc.ac.nai), "%s", nai);
	if (roam_sockaddr_parse(lac ? lac : group, ACCESS_PORT, &pc.ac.target) < 0)
		fatalx("not an address: %s", lac ? lac : group);
	ppp_cfg_default(&pc.ppp, PPP_ROLE_PEER);
	pc.ppp.auth = auth;
	snprintf(pc.ppp.name, sizeof(pc.ppp.name), "%s", user);
	memcpy(pc.ppp.secret, pass, strlen(pass));
	pc.ppp.secret_len = strlen(pass);
	pc.ppp.echo_interval_ms = 0; /* the access keepalive watches the link */
	pc.keep_ppp = false;         /* a standard client: a new link is a new PPP session */

	r.loop = uv_default_loop();
	if ((e = roam_nl_open(1000, &r.nl)) < 0)
		fatalx("netlink: %s", strerror(-e));
	if ((e = pppc_open(r.loop, &pc, r.nl, &r.pc)) < 0)
		fatalx("%s", e == -EINVAL ? "MIN must be ten digits (or NAI / PPP settings refused)"
					  : strerror(-e));
	explicit_bzero(&pc.ppp, sizeof(pc.ppp));
	explicit_bzero(pbuf, sizeof(pbuf));
	if (ctlpath) {
		if ((e = ctl_open(&r.ctl, r.loop, ctlpath, 0)) < 0)
			fatalx("control socket %s: %s", ctlpath, strerror(-e));
		if (ctl_register(r.ctl, "status", "link, PPP state and address", cmd_status, &r) < 0)
			fatalx("ctl_register");
	}
	uv_signal_init(r.loop, &r.sigterm);
	r.sigterm.data = &r;
	uv_signal_start(&r.sigterm, signal_cb, SIGTERM);
	uv_signal_init(r.loop, &r.sigint);
	r.sigint.data = &r;
	uv_signal_start(&r.sigint, signal_cb, SIGINT);
	signal(SIGPIPE, SIG_IGN);

	log_info("MIN %s, user %s, attaching to %s", min, user, lac ? lac : group);
	pppc_start(r.pc);
	uv_run(r.loop, UV_RUN_DEFAULT);
	uv_walk(r.loop, close_walk, NULL);
	uv_run(r.loop, UV_RUN_DEFAULT);
	roam_nl_close(r.nl);
	uv_loop_close(r.loop);
	return 0;
}
