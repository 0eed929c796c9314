/* trafgen: command line.  See docs/man/trafgen.1. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "roam/log.h"
#include "trafgen.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: trafgen udp-send --to ADDR:PORT --rate PPS --duration S [--size BYTES]\n"
		"                        [--bind ADDR[:PORT]] [--flow N] [--json FILE]\n"
		"       trafgen udp-recv --bind ADDR:PORT [--duration S] [--grace S] [--json FILE]\n"
		"       trafgen udp --bind ADDR:PORT --to ADDR:PORT --rate PPS --duration S\n"
		"                   [--size BYTES] [--grace S] [--wait S] [--json FILE]\n"
		"       trafgen tcp-server --bind ADDR:PORT [--duration S] [--stall-ms MS]\n"
		"                          [--timeout S] [--json FILE]\n"
		"       trafgen tcp-client --to ADDR:PORT --rate BYTES_PER_S --duration S\n"
		"                          [--stall-ms MS] [--timeout S] [--key N] [--json FILE]\n"
		"  Every command also takes --realtime[=PRIO] (SCHED_FIFO, default 50).\n"
		"  S: seconds, or with a unit: 500ms, 2s.   --json -: JSON on stdout.\n"
		"  Without --json a short table is printed on stdout.\n");
}

/* Seconds: "2", "2.5", "2s", "500ms", "250us". */
static int parse_seconds(const char *s, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || !isfinite(v) || v < 0 || *s == '-')
		return -EINVAL;
	if (*end == 0 || strcasecmp(end, "s") == 0)
		;
	else if (strcasecmp(end, "ms") == 0)
		v /= 1e3;
	else if (strcasecmp(end, "us") == 0)
		v /= 1e6;
	else
		return -EINVAL;
	if (v > 7 * 86400.0)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_num(const char *s, double min, double max, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

enum { O_TO = 1, O_BIND, O_RATE, O_DURATION, O_SIZE, O_JSON, O_FLOW, O_GRACE, O_WAIT,
       O_STALL, O_TIMEOUT, O_KEY, O_REALTIME };

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "to", required_argument, NULL, O_TO },
		{ "bind", required_argument, NULL, O_BIND },
		{ "rate", required_argument, NULL, O_RATE },
		{ "duration", required_argument, NULL, O_DURATION },
		{ "size", required_argument, NULL, O_SIZE },
		{ "json", required_argument, NULL, O_JSON },
		{ "flow", required_argument, NULL, O_FLOW },
		{ "grace", required_argument, NULL, O_GRACE },
		{ "wait", required_argument, NULL, O_WAIT },
		{ "stall-ms", required_argument, NULL, O_STALL },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "key", required_argument, NULL, O_KEY },
		{ "realtime", optional_argument, NULL, O_REALTIME },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *cmd = argv[1];
	const char *to = NULL, *bind = NULL, *json = NULL;
	double rate = -1, duration = -1, size = 64, flow = -1, grace = 0.5, wait = 3, stall = 200,
	       timeout = 10, key = -1, rt_prio = 0;
	int c;
	log_init("trafgen", 1, LOG_LVL_INFO);
	optind = 2;
	while ((c = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		int bad = 0;
		switch (c) {
		case O_TO: to = optarg; break;
		case O_BIND: bind = optarg; break;
		case O_JSON: json = optarg; break;
		case O_RATE: bad = parse_num(optarg, 1e-3, 1e12, &rate); break;
		case O_DURATION: bad = parse_seconds(optarg, &duration); break;
		case O_SIZE: bad = parse_num(optarg, TG_DATA_LEN, TG_MAX_LEN, &size); break;
		case O_FLOW: bad = parse_num(optarg, 0, 4294967295.0, &flow); break;
		case O_GRACE: bad = parse_seconds(optarg, &grace); break;
		case O_WAIT: bad = parse_seconds(optarg, &wait); break;
		case O_STALL: bad = parse_num(optarg, 1, 3600e3, &stall); break;
		case O_TIMEOUT: bad = parse_seconds(optarg, &timeout); break;
		case O_KEY: bad = parse_num(optarg, 0, 9007199254740992.0, &key); break;
		case O_REALTIME:
			rt_prio = 50;
			if (optarg)
				bad = parse_num(optarg, 1, 99, &rt_prio);
			break;
		case 'v': log_setlevel(LOG_LVL_DEBUG); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
		if (bad) {
			fprintf(stderr, "trafgen: invalid value for --%s: '%s'\n",
				opts[c - 1].name, optarg);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "trafgen: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (rt_prio > 0) {
		/* precise pacing and receive timestamps on a loaded machine */
		struct sched_param sp = { .sched_priority = (int)rt_prio };
		if (sched_setscheduler(0, SCHED_FIFO, &sp) < 0)
			log_warn("--realtime: SCHED_FIFO %d", (int)rt_prio);
	}
#define NEED(cond, what)                                                        \
	do {                                                                    \
		if (!(cond)) {                                                  \
			fprintf(stderr, "trafgen %s: %s is required\n", cmd, what); \
			return 2;                                               \
		}                                                               \
	} while (0)

	if (strcmp(cmd, "udp-send") == 0 || strcmp(cmd, "udp-recv") == 0 ||
	    strcmp(cmd, "udp") == 0) {
		struct tg_udp_opts o = { 0 };
		o.mode = cmd[3] == 0 ? TG_UDP_BOTH : cmd[4] == 's' ? TG_UDP_SEND : TG_UDP_RECV;
		o.to = to;
		o.bind = bind;
		o.json = json;
		o.size = (size_t)size;
		o.grace_ns = (uint64_t)(grace * 1e9);
		o.wait_ns = (uint64_t)(wait * 1e9);
		o.duration_s = duration > 0 ? duration : 0;
		o.rate = rate;
		if (flow >= 0) {
			o.flow = (uint32_t)flow;
			o.flow_set = 1;
		}
		if (o.mode != TG_UDP_RECV) {
			NEED(to, "--to ADDR:PORT");
			NEED(rate > 0, "--rate PPS");
			NEED(duration > 0, "--duration S");
			if (rate > 1e6) {
				fprintf(stderr, "trafgen: --rate: at most 1000000 datagrams/s\n");
				return 2;
			}
		}
		if (o.mode != TG_UDP_SEND)
			NEED(bind, "--bind ADDR:PORT");
		return tg_udp_run(&o);
	}
	if (strcmp(cmd, "tcp-server") == 0 || strcmp(cmd, "tcp-client") == 0) {
		struct tg_tcp_opts o = { 0 };
		o.server = cmd[4] == 's';
		o.json = json;
		o.rate = rate;
		o.duration_s = duration > 0 ? duration : 0;
		o.stall_ns = (uint64_t)(stall * 1e6);
		o.timeout_ms = (uint64_t)ceil(timeout * 1e3);
		if (o.timeout_ms < 1)
			o.timeout_ms = 1;
		if (key >= 0) {
			o.key = (uint64_t)key;
			o.key_set = 1;
		}
		if (o.server) {
			NEED(bind, "--bind ADDR:PORT");
			o.addr = bind;
		} else {
			NEED(to, "--to ADDR:PORT");
			NEED(rate > 0, "--rate BYTES_PER_S");
			NEED(duration > 0, "--duration S");
			o.addr = to;
		}
		return tg_tcp_run(&o);
	}
	fprintf(stderr, "trafgen: unknown command '%s'\n", cmd);
	usage(stderr);
	return 2;
}
