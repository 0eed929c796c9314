/* Namespaces and links: the switch namespace with one bridge per network, a veth pair per
 * attachment (host end in the service's namespace, switch end on the bridge), linkem spliced
 * into emulated links, addresses, routes and sysctls.  Configuration goes through iproute2's
 * `ip -n NS ...` (what an operator would type, and what they can re-run by hand). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "roam/clock.h"
#include "roam/log.h"
#include "netlab.h"

#define IP_MAX_ARGS 32

/* Runs argv (argv[0]: "ip" or "tc", looked for in the usual places first). */
static int run_ip(const char *const *argv, char *err, size_t errlen)
{
	static const char *const ip_paths[] = { "/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip",
						"/bin/ip", NULL };
	static const char *const tc_paths[] = { "/usr/sbin/tc", "/sbin/tc", "/usr/bin/tc",
						"/bin/tc", NULL };
	const char *const *paths = strcmp(argv[0], "tc") == 0 ? tc_paths : ip_paths;
	int pfd[2];
	pid_t pid;
	int status;
	char out[512];
	ssize_t n, got = 0;

	if (pipe2(pfd, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -errno;
	}
	pid = fork();
	if (pid < 0) {
		int e = errno;
		close(pfd[0]);
		close(pfd[1]);
		snprintf(err, errlen, "fork: %s", strerror(e));
		return -e;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
		}
		dup2(pfd[1], 2);
		for (const char *const *p = paths; *p; p++)
			execv(*p, (char *const *)argv);
		execvp(argv[0], (char *const *)argv);
		fprintf(stderr, "cannot run %s: %s", argv[0], strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	while (got < (ssize_t)sizeof(out) - 1 &&
	       (n = read(pfd[0], out + got, sizeof(out) - 1 - (size_t)got)) > 0)
		got += n;
	close(pfd[0]);
	out[got] = '\0';
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	while (got > 0 && (out[got - 1] == '\n' || out[got - 1] == ' '))
		out[--got] = '\0';
	{
		char cmd[256] = "";
		size_t l = 0;
		for (const char *const *a = argv; *a && l < sizeof(cmd) - 2; a++)
			l += (size_t)snprintf(cmd + l, sizeof(cmd) - l, "%s%s", a == argv ? "" : " ", *a);
		snprintf(err, errlen, "%s: %s", cmd, got ? out : "failed");
	}
	return -EIO;
}

int nl_ip(char *err, size_t errlen, const char *arg0, ...)
{
	const char *argv[IP_MAX_ARGS + 2];
	size_t n = 0;
	va_list ap;
	const char *a;

	argv[n++] = "ip";
	va_start(ap, arg0);
	for (a = arg0; a != NULL && n < IP_MAX_ARGS; a = va_arg(ap, const char *))
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	return run_ip(argv, err, errlen);
}

/* tc ARGS... in the switch namespace SW. */
static int nl_tc(char *err, size_t errlen, const char *sw, const char *arg0, ...)
{
	const char *argv[IP_MAX_ARGS + 4];
	size_t n = 0;
	va_list ap;
	const char *a;

	argv[n++] = "tc";
	argv[n++] = "-n";
	argv[n++] = sw;
	va_start(ap, arg0);
	for (a = arg0; a != NULL && n < IP_MAX_ARGS; a = va_arg(ap, const char *))
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	return run_ip(argv, err, errlen);
}

int nl_ns_exists(const char *ns)
{
	char path[512];
	struct stat st;
	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	return stat(path, &st) == 0;
}

int nl_ns_delete(const char *ns, char *err, size_t errlen)
{
	if (!nl_ns_exists(ns))
		return 0;
	return nl_ip(err, errlen, "netns", "delete", ns, NULL);
}

int nl_ns_sysctl(const char *ns, const char *key, const char *value, char *err, size_t errlen)
{
	char path[512];
	pid_t pid;
	int status;

	if (snprintf(path, sizeof(path), "/proc/sys/%s", key) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	for (char *c = path + 10; *c; c++)
		if (*c == '.')
			*c = '/';
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		char nsp[512];
		int fd;
		snprintf(nsp, sizeof(nsp), "/run/netns/%s", ns);
		if ((fd = open(nsp, O_RDONLY | O_CLOEXEC)) < 0 || setns(fd, CLONE_NEWNET) < 0)
			_exit(100 + (errno & 0x7f) % 100);
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			_exit(errno & 0x7f);
		if (write(fd, value, strlen(value)) != (ssize_t)strlen(value))
			_exit(errno & 0x7f);
		_exit(close(fd) < 0 ? (errno & 0x7f) : 0);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	{
		int code = WIFEXITED(status) ? WEXITSTATUS(status) : EIO;
		if (code >= 100)
			code -= 100;
		snprintf(err, errlen, "sysctl %s=%s in %s: %s", key, value, ns, strerror(code));
		return -(code ? code : EIO);
	}
}

static void svc_ns(const struct nl_run *r, size_t s, char *buf, size_t len)
{
	nl_ns_name(r->t, r->t->svcs[s].name, buf, len);
}

/* Starts one linkem between interfaces a and b of the switch namespace. */
static int record_linkem(void *arg, pid_t pid, unsigned long long start)
{
	void **a = arg;
	struct nl_run *r = a[0];
	const char *net = a[1];
	return state_add(&r->st, "linkem %s %d %llu", net, (int)pid, start);
}

/* Both directions emulated (a direct 2-host link), or only a->b (upstream: a bridged
 * attachment, a = the host's side; each frame then crosses exactly one emulated direction,
 * its sender's, on its way to any other host of the network). */
static int linkem_start(struct nl_run *r, size_t n, const char *a, const char *b, bool upstream,
			const char *tag, pid_t *pidp, char *err, size_t errlen)
{
	const struct nl_net *net = &r->t->nets[n];
	const struct nl_emu *e = &net->emu;
	const char *argv[32];
	size_t k = 0;
	char json[700], log[700], seed[32], exe[4200], names[6][24];
	size_t nn = 0;
	struct nl_spawn sp = { 0 };
	void *rec[2] = { r, net->name };

	snprintf(json, sizeof(json), "%s/linkem-%s%s%s.json", r->st.dir, net->name, tag[0] ? "-" : "",
		 tag);
	snprintf(log, sizeof(log), "%s/linkem-%s%s%s.log", r->st.dir, net->name, tag[0] ? "-" : "",
		 tag);
	/* The build's linkem first, whatever PATH holds. */
	snprintf(exe, sizeof(exe), "%s/linkem", r->bin);
	argv[k++] = access(exe, X_OK) == 0 ? exe : "linkem";
	argv[k++] = "-a";
	argv[k++] = a;
	argv[k++] = "-b";
	argv[k++] = b;
#define OPT(field, name)                                                                          \
	if (e->field[0]) {                                                                        \
		snprintf(names[nn], sizeof(names[nn]), "--%s%s", upstream ? "a2b-" : "", name);   \
		argv[k++] = names[nn++];                                                          \
		argv[k++] = e->field;                                                             \
	}
	OPT(delay, "delay");
	OPT(jitter, "jitter");
	OPT(loss, "loss");
	OPT(rate, "rate");
	OPT(dup, "dup");
	OPT(reorder, "reorder");
#undef OPT
	if (e->has_seed) {
		snprintf(seed, sizeof(seed), "%llu", (unsigned long long)e->seed);
		argv[k++] = "--seed";
		argv[k++] = seed;
	}
	argv[k++] = "--json";
	argv[k++] = json;
	/* An emulated wire is never descheduled: on a loaded machine (two cores running daemons,
	 * traffic generators and tshark) a linkem under ordinary scheduling would add delay, and
	 * after a long enough wait lose frames, that the emulated network does not have. */
	argv[k++] = "--realtime=10";
	argv[k] = NULL;

	sp.ns = r->sw;
	sp.argv = argv;
	sp.bin = r->bin;
	sp.log = log;
	sp.newsession = true;
	if (r->verbose)
		fprintf(stderr, "netlab: linkem %s: %s <-> %s\n", net->name, a, b);
	return proc_spawn(&sp, record_linkem, rec, pidp, err, errlen);
}

/* Counts the packet sockets of a namespace (through a process living in it). */
static int packet_sockets(pid_t pid)
{
	char path[64], line[512];
	FILE *f;
	int n = -1;

	snprintf(path, sizeof(path), "/proc/%d/net/packet", (int)pid);
	if ((f = fopen(path, "re")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f))
		n++;
	fclose(f);
	return n < 0 ? 0 : n;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int ns_create(struct nl_run *r, const char *ns, char *err, size_t errlen)
{
	int rc;

	if (nl_ns_exists(ns)) {
		snprintf(err, errlen, "namespace %s exists already (another run? try `netlab down "
			 "--all`, or `ip netns delete %s`)", ns, ns);
		return -EEXIST;
	}
	if ((rc = state_add(&r->st, "ns %s", ns)) < 0) {
		snprintf(err, errlen, "state file: %s", strerror(-rc));
		return rc;
	}
	if ((rc = nl_ip(err, errlen, "netns", "add", ns, NULL)) < 0)
		return rc;
	return nl_ip(err, errlen, "-n", ns, "link", "set", "lo", "up", NULL);
}

/* A radio (docs/netlab.md, Movement): the switch end vSiI of the mobile's radio is on no bridge.
 * Each cell C it may use has a port of its own on C's bridge, the veth pair ySiInC (enslaved)
 * ~ xSiInC.  vSiI's ingress redirects every frame to the current cell's xSiInC with one shared
 * mirred action (index radio_act()); xSiInC's ingress redirects to vSiI while the radio is on C.
 * A move replaces the action's target in one step, so no frame the mobile sends is ever without
 * a bridge (re-enslaving vSiI would leave it without one for a moment, and the frames sent in that
 * moment died in the switch). */
static void radio_port(size_t s, size_t i, int net, char kind, char *buf, size_t len)
{
	snprintf(buf, len, "%c%ui%un%u", kind, (unsigned)(s % 1000), (unsigned)(i % 100),
		 (unsigned)net % 1000);
}

static unsigned radio_act(size_t s, size_t i)
{
	return (unsigned)(1000 + s * 64 + i);
}

static int radio_setup(struct nl_run *r, size_t s, size_t i, char *err, size_t errlen)
{
	const struct nl_iface *f = &r->t->svcs[s].ifs[i];
	char swif[NL_IFNAMSIZ], x[NL_IFNAMSIZ], y[NL_IFNAMSIZ], br[NL_IFNAMSIZ], idx[16];
	int rc;

	nl_swif_name('v', s, i, swif, sizeof(swif));
	if ((rc = nl_tc(err, errlen, r->sw, "qdisc", "add", "dev", swif, "ingress", NULL)) < 0)
		return rc;
	for (size_t c = 0; c < f->ncells; c++) {
		radio_port(s, i, f->cells[c], 'x', x, sizeof(x));
		radio_port(s, i, f->cells[c], 'y', y, sizeof(y));
		nl_br_name((size_t)f->cells[c], br, sizeof(br));
		if ((rc = nl_ip(err, errlen, "-n", r->sw, "link", "add", x, "type", "veth", "peer",
				"name", y, NULL)) < 0 ||
		    (rc = nl_ip(err, errlen, "-n", r->sw, "link", "set", y, "master", br, "up",
				NULL)) < 0 ||
		    (rc = nl_ip(err, errlen, "-n", r->sw, "link", "set", x, "up", NULL)) < 0 ||
		    (rc = nl_tc(err, errlen, r->sw, "qdisc", "add", "dev", x, "ingress", NULL)) < 0)
			return rc;
	}
	if (f->ncells == 0)
		return 0;
	radio_port(s, i, f->cells[0], 'x', x, sizeof(x));
	snprintf(idx, sizeof(idx), "%u", radio_act(s, i));
	return nl_tc(err, errlen, r->sw, "filter", "add", "dev", swif, "ingress", "pref", "1",
		     "protocol", "all", "u32", "match", "u32", "0", "0", "action", "mirred", "egress",
		     "redirect", "dev", x, "index", idx, NULL);
}

int links_radio_set(struct nl_run *r, size_t s, size_t i, int net)
{
	char swif[NL_IFNAMSIZ], x[NL_IFNAMSIZ], err[512], idx[16];
	const char *cur = state_attached(&r->st, r->t->svcs[s].name, r->t->svcs[s].ifs[i].ifname);
	int old = cur[0] ? topo_net_find(r->t, cur) : -1;
	int rc = 0;

	nl_swif_name('v', s, i, swif, sizeof(swif));
	snprintf(idx, sizeof(idx), "%u", radio_act(s, i));
	if (net >= 0 && net != old) {
		/* The new cell's frames to the radio, then the radio's frames to the new cell (one
		 * atomic action replace), then the old cell no longer heard. */
		radio_port(s, i, net, 'x', x, sizeof(x));
		if ((rc = nl_tc(err, sizeof(err), r->sw, "filter", "add", "dev", x, "ingress", "pref",
				"1", "protocol", "all", "u32", "match", "u32", "0", "0", "action",
				"mirred", "egress", "redirect", "dev", swif, NULL)) < 0 ||
		    (rc = nl_tc(err, sizeof(err), r->sw, "actions", "replace", "action", "mirred",
				"egress", "redirect", "dev", x, "index", idx, NULL)) < 0)
			goto out;
	}
	if (old >= 0 && net != old) {
		radio_port(s, i, old, 'x', x, sizeof(x));
		if ((rc = nl_tc(err, sizeof(err), r->sw, "filter", "del", "dev", x, "ingress", "pref",
				"1", NULL)) < 0)
			goto out;
	}
	if (net < 0 || old < 0)
		rc = nl_ip(err, sizeof(err), "-n", r->sw, "link", "set", "dev", swif,
			   net >= 0 ? "up" : "down", NULL);
out:
	if (rc < 0) {
		fprintf(stderr, "netlab: %s\n", err);
		return rc;
	}
	return state_add(&r->st, "attach %s %s %s", r->t->svcs[s].name, r->t->svcs[s].ifs[i].ifname,
			 net >= 0 ? r->t->nets[net].name : "-");
}

int links_up(struct nl_run *r)
{
	struct nl_topo *t = r->t;
	char err[768], ns[256], swif[NL_IFNAMSIZ], br[NL_IFNAMSIZ], spl[NL_IFNAMSIZ],
		port[NL_IFNAMSIZ], ab[ROAM_ADDRSTRLEN];
	pid_t *linkems = calloc(t->nsvcs * 4 + t->nnets + 1, sizeof(pid_t));
	size_t nlinkem = 0;
	char (*direct_end)[NL_IFNAMSIZ] = calloc(t->nnets + 1, NL_IFNAMSIZ);
	int rc = 0;

#define CHECK(expr)                                                                               \
	do {                                                                                      \
		if ((rc = (expr)) < 0) {                                                          \
			fprintf(stderr, "netlab: %s\n", err);                                     \
			goto out;                                                                 \
		}                                                                                 \
	} while (0)

	if (linkems == NULL || direct_end == NULL)
		fatal("netlab: out of memory");
	/* The switch: no IPv6 on its ports (they must not talk on the segments themselves). */
	CHECK(ns_create(r, r->sw, err, sizeof(err)));
	CHECK(nl_ns_sysctl(r->sw, "net.ipv6.conf.all.disable_ipv6", "1", err, sizeof(err)));
	CHECK(nl_ns_sysctl(r->sw, "net.ipv6.conf.default.disable_ipv6", "1", err, sizeof(err)));
	for (size_t n = 0; n < t->nnets; n++) {
		if (t->nets[n].direct)
			continue;
		nl_br_name(n, br, sizeof(br));
		CHECK(nl_ip(err, sizeof(err), "-n", r->sw, "link", "add", br, "type", "bridge",
			    "stp_state", "0", "forward_delay", "0", "mcast_snooping", "0", NULL));
		CHECK(nl_ip(err, sizeof(err), "-n", r->sw, "link", "set", br, "up", NULL));
	}
	for (size_t oi = 0; oi < t->nsvcs; oi++) {
		size_t s = t->order[oi];
		struct nl_svc *svc = &t->svcs[s];

		svc_ns(r, s, ns, sizeof(ns));
		CHECK(ns_create(r, ns, err, sizeof(err)));
		/* Addresses usable at once (no duplicate address detection delay). */
		CHECK(nl_ns_sysctl(ns, "net.ipv6.conf.default.accept_dad", "0", err, sizeof(err)));
		CHECK(nl_ns_sysctl(ns, "net.ipv6.conf.all.accept_dad", "0", err, sizeof(err)));
		if (svc->router) {
			CHECK(nl_ns_sysctl(ns, "net.ipv4.ip_forward", "1", err, sizeof(err)));
			CHECK(nl_ns_sysctl(ns, "net.ipv6.conf.all.forwarding", "1", err, sizeof(err)));
		}
		for (size_t i = 0; i < svc->nifs; i++) {
			struct nl_iface *f = &svc->ifs[i];
			nl_swif_name('v', s, i, swif, sizeof(swif));
			CHECK(nl_ip(err, sizeof(err), "-n", r->sw, "link", "add", swif, "type", "veth",
				    "peer", "name", f->ifname, "netns", ns, NULL));
			for (size_t a = 0; a < f->naddrs; a++) {
				char pf[ROAM_ADDRSTRLEN + 8];
				snprintf(pf, sizeof(pf), "%s/%u",
					 roam_ipaddr_fmt(&f->addrs[a].addr, ab, sizeof(ab)),
					 f->addrs[a].len);
				CHECK(nl_ip(err, sizeof(err), "-n", ns, "addr", "add", pf, "dev", f->ifname,
					    f->addrs[a].addr.family == AF_INET6 ? "nodad" : NULL, NULL));
			}
			CHECK(nl_ip(err, sizeof(err), "-n", ns, "link", "set", f->ifname, "up", NULL));
			if (f->radio) {
				/* No frame larger than the MTU on the air: without this the mobile's TCP
				 * hands its veth 64 KiB segmentation-offload frames, which a
				 * user-space data plane reading the cell (fad) would get whole and
				 * could not forward.  Not fatal: a kernel without the feature has
				 * nothing to turn off. */
				if (nl_ip(err, sizeof(err), "netns", "exec", ns, "ethtool", "-K", f->ifname,
					  "tso", "off", "gso", "off", NULL) < 0)
					fprintf(stderr, "netlab: %s: segmentation offload stays on: %s\n",
						f->ifname, err);
				CHECK(radio_setup(r, s, i, err, sizeof(err)));
				CHECK(links_radio_set(r, s, i, f->net));
				continue;
			}
			const struct nl_net *net = &t->nets[f->net];
			if (net->direct) {
				CHECK(nl_ip(err, sizeof(err), "-n", r->sw, "link", "set", swif, "up", NULL));
				if (direct_end[f->net][0] == '\0') {
					snprintf(direct_end[f->net], NL_IFNAMSIZ, "%s", swif);
				} else {
					CHECK(linkem_start(r, (size_t)f->net, direct_end[f->net], swif, false, "",
							   &linkems[nlinkem], err, sizeof(err)));
					nlinkem++;
				}
				continue;
			}
			nl_br_name((size_t)f->net, br, sizeof(br));
			if (!net->emu.set) {
				CHECK(nl_ip(err, sizeof(err), "-n", r->sw, "link", "set", swif, "master", br,
					    "up", NULL));
				continue;
			}
			/* Emulated shared network: bridge - port ~ splice - linkem - swif ~ host. */
			nl_swif_name('l', s, i, spl, sizeof(spl));
			nl_swif_name('p', s, i, port, sizeof(port));
			CHECK(nl_ip(err, sizeof(err), "-n", r->sw, "link", "add", spl, "type", "veth",
				    "peer", "name", port, NULL));
			CHECK(nl_ip(err, sizeof(err), "-n", r->sw, "link", "set", port, "master", br, "up",
				    NULL));
			CHECK(nl_ip(err, sizeof(err), "-n", r->sw, "link", "set", spl, "up", NULL));
			CHECK(nl_ip(err, sizeof(err), "-n", r->sw, "link", "set", swif, "up", NULL));
			CHECK(linkem_start(r, (size_t)f->net, swif, spl, true, svc->name, &linkems[nlinkem],
					   err, sizeof(err)));
			nlinkem++;
		}
		for (size_t k = 0; k < svc->nsysctls; k++)
			CHECK(nl_ns_sysctl(ns, svc->sysctls[k].key, svc->sysctls[k].value, err,
					   sizeof(err)));
		for (size_t k = 0; k < svc->nroutes; k++) {
			const struct nl_route *rt = &svc->routes[k];
			char to[ROAM_ADDRSTRLEN + 8], via[ROAM_ADDRSTRLEN];
			const char *argv[16];
			size_t n = 0;
			roam_prefix_fmt(&rt->to, to, sizeof(to));
			argv[n++] = "ip";
			argv[n++] = "-n";
			argv[n++] = ns;
			argv[n++] = rt->to.addr.family == AF_INET6 ? "-6" : "-4";
			argv[n++] = "route";
			argv[n++] = "add";
			argv[n++] = to;
			if (rt->has_via) {
				argv[n++] = "via";
				argv[n++] = roam_ipaddr_fmt(&rt->via, via, sizeof(via));
			}
			if (rt->dev[0]) {
				argv[n++] = "dev";
				argv[n++] = rt->dev;
			}
			argv[n] = NULL;
			CHECK(run_ip(argv, err, sizeof(err)));
		}
	}
	/* Wait until every linkem has its two packet sockets open, so the first frames are not
	 * lost while they start (all of them live in the switch namespace). */
	if (nlinkem > 0) {
		uint64_t end = roam_mono_ms() + 3000;
		while (packet_sockets(linkems[0]) < (int)(2 * nlinkem) && roam_mono_ms() < end) {
			for (size_t k = 0; k < nlinkem; k++) {
				if (kill(linkems[k], 0) < 0 || waitpid(linkems[k], NULL, WNOHANG) ==
				    linkems[k]) {
					fprintf(stderr, "netlab: linkem (pid %d) exited at start; see %s/"
						"linkem-*.log\n", (int)linkems[k], r->st.dir);
					rc = -ECHILD;
					goto out;
				}
			}
			sleep_ms(10);
		}
		if (packet_sockets(linkems[0]) < (int)(2 * nlinkem))
			fprintf(stderr, "netlab: warning: linkem sockets not seen after 3 s\n");
	}
out:
#undef CHECK
	free(linkems);
	free(direct_end);
	return rc;
}
