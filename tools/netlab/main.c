/* netlab: network namespace topologies from docker-compose files.  Argument parsing and
 * dispatch only; the commands are in cmd.c. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "roam/log.h"
#include "netlab.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: netlab [-p NAME] [--bin DIR] [--grace MS] [--keep-logs] [-v] COMMAND ...\n"
		"  up FILE                          make the topology and start its services\n"
		"  down [FILE | --all]              remove a run (or every run) completely\n"
		"  exec SERVICE CMD [ARG...]        run a command in a service's namespaces\n"
		"  ps                               list the run's processes and radio attachments\n"
		"  move MOBILE --to NET [--notice MS]  hand the mobile's radio over to cell NET\n"
		"  attach MOBILE NET                attach a (second) radio to cell NET\n"
		"  detach MOBILE NET                detach the radio on cell NET\n"
		"  addr SERVICE NET [-4|-6]         print the service's address on NET\n"
		"  ctl SERVICE                      print the service's control socket path\n"
		"  check FILE...                    parse and validate topology files\n"
		"Runs live in $NETLAB_RUNDIR (default /run/roam-netlab)/NAME; NAME is x-roam name or\n"
		"the file's base name.  See netlab(1) and docs/netlab.md.\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "project", required_argument, NULL, 'p' },
		{ "bin", required_argument, NULL, 'b' },
		{ "grace", required_argument, NULL, 'g' },
		{ "keep-logs", no_argument, NULL, 'k' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct {
		const char *name;
		int (*fn)(const struct nl_opts *, int, char **);
		int root;
	} cmds[] = {
		{ "up", cmd_up, 1 },         { "down", cmd_down, 1 },   { "exec", cmd_exec, 1 },
		{ "ps", cmd_ps, 0 },         { "move", cmd_move, 1 },   { "attach", cmd_attach, 1 },
		{ "detach", cmd_detach, 1 }, { "addr", cmd_addr, 0 },   { "ctl", cmd_ctl, 0 },
		{ "check", cmd_check, 0 },
	};
	struct nl_opts o = { .grace_ms = 3000 };
	int c;

	log_init("netlab", 1, LOG_LVL_INFO);
	while ((c = getopt_long(argc, argv, "+p:b:g:kvh", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			o.project = optarg;
			break;
		case 'b':
			o.bin = optarg;
			break;
		case 'g': {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*end || v < 0 || v > 600000) {
				fprintf(stderr, "netlab: --grace: milliseconds\n");
				return 2;
			}
			o.grace_ms = (unsigned)v;
			break;
		}
		case 'k':
			o.keep_logs = true;
			break;
		case 'v':
			o.verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[optind], cmds[i].name) != 0)
			continue;
		if (cmds[i].root && geteuid() != 0) {
			fprintf(stderr, "netlab %s: must run as root (network namespaces)\n", cmds[i].name);
			return 1;
		}
		return cmds[i].fn(&o, argc - optind, argv + optind);
	}
	fprintf(stderr, "netlab: unknown command '%s'\n", argv[optind]);
	usage(stderr);
	return 2;
}
