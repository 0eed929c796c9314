/* nftctl: the stateless old/new translation pairs of roam/nft.h from the command line (for
 * tests and for inspecting what an owner such as sipd installed).  See usage(). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roam/netlink.h"
#include "roam/nft.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: nftctl [-o OWNER] open          create the table roam_OWNER (default owner: nftctl)\n"
		"       nftctl [-o OWNER] add TAG OLD NEW [--dst] [--src] [--guard]\n"
		"                                [--route-dev IF] [--route-via GW]\n"
		"                                   install a pair (default: --dst --src)\n"
		"       nftctl [-o OWNER] del TAG\n"
		"       nftctl [-o OWNER] list          one line per pair: TAG OLD NEW FLAGS\n"
		"       nftctl [-o OWNER] flush         remove every pair, keep the table\n"
		"       nftctl [-o OWNER] destroy       remove every pair and the table\n");
}

static void flags_fmt(unsigned f, char *b, size_t len)
{
	snprintf(b, len, "%s%s%s", f & ROAM_NFT_DST ? "dst," : "", f & ROAM_NFT_SRC ? "src," : "",
		 f & ROAM_NFT_GUARD ? "guard," : "");
	size_t n = strlen(b);
	if (n)
		b[n - 1] = 0;
}

static int cmd_add(struct roam_nft *t, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dst", no_argument, NULL, 'd' }, { "src", no_argument, NULL, 's' },
		{ "guard", no_argument, NULL, 'g' }, { "route-dev", required_argument, NULL, 'r' },
		{ "route-via", required_argument, NULL, 'v' }, { NULL, 0, NULL, 0 },
	};
	struct roam_nft_pair p;
	memset(&p, 0, sizeof(p));
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': p.flags |= ROAM_NFT_DST; break;
		case 's': p.flags |= ROAM_NFT_SRC; break;
		case 'g': p.flags |= ROAM_NFT_GUARD; break;
		case 'r':
			if (roam_nl_ifindex(optarg, &p.route_oif) < 0) {
				fprintf(stderr, "nftctl: no interface %s\n", optarg);
				return 1;
			}
			break;
		case 'v':
			if (roam_ipaddr_parse(optarg, &p.route_gw) < 0) {
				fprintf(stderr, "nftctl: bad gateway %s\n", optarg);
				return 2;
			}
			break;
		default: usage(stderr); return 2;
		}
	}
	if (argc - optind != 3) {
		usage(stderr);
		return 2;
	}
	if (strlen(argv[optind]) >= sizeof(p.tag) ||
	    roam_ipaddr_parse(argv[optind + 1], &p.old) < 0 ||
	    roam_ipaddr_parse(argv[optind + 2], &p.new) < 0) {
		fprintf(stderr, "nftctl: bad tag or address\n");
		return 2;
	}
	snprintf(p.tag, sizeof(p.tag), "%s", argv[optind]);
	if (!(p.flags & (ROAM_NFT_DST | ROAM_NFT_SRC)))
		p.flags |= ROAM_NFT_DST | ROAM_NFT_SRC;
	int rc = roam_nft_pair_add(t, &p);
	if (rc < 0) {
		fprintf(stderr, "nftctl: add %s: %s: %s\n", p.tag, strerror(-rc), roam_nft_error(t));
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *owner = "nftctl";
	int i = 1;
	if (i + 1 < argc && strcmp(argv[i], "-o") == 0) {
		owner = argv[i + 1];
		i += 2;
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[i];
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0) {
		usage(stdout);
		return 0;
	}
	struct roam_nft *t;
	int rc = roam_nft_open(owner, &t);
	if (rc < 0) {
		fprintf(stderr, "nftctl: open %s: %s\n", owner, strerror(-rc));
		return 1;
	}
	int ret = 0;
	if (strcmp(cmd, "open") == 0) {
		roam_nft_close(t);
		return 0;
	} else if (strcmp(cmd, "add") == 0) {
		ret = cmd_add(t, argc - i, argv + i);
	} else if (strcmp(cmd, "del") == 0 && i + 2 == argc) {
		rc = roam_nft_pair_del(t, argv[i + 1]);
		if (rc < 0) {
			fprintf(stderr, "nftctl: del %s: %s: %s\n", argv[i + 1], strerror(-rc),
				roam_nft_error(t));
			ret = 1;
		}
	} else if (strcmp(cmd, "list") == 0 && i + 1 == argc) {
		struct roam_nft_pair *v;
		size_t n;
		rc = roam_nft_list(t, &v, &n);
		if (rc < 0) {
			fprintf(stderr, "nftctl: list: %s: %s\n", strerror(-rc), roam_nft_error(t));
			ret = 1;
		}
		for (size_t k = 0; rc == 0 && k < n; k++) {
			char o[ROAM_ADDRSTRLEN], w[ROAM_ADDRSTRLEN], f[32];
			flags_fmt(v[k].flags, f, sizeof(f));
			printf("%s %s %s %s\n", v[k].tag, roam_ipaddr_fmt(&v[k].old, o, sizeof(o)),
			       roam_ipaddr_fmt(&v[k].new, w, sizeof(w)), f);
		}
		if (rc == 0)
			free(v);
	} else if (strcmp(cmd, "flush") == 0 && i + 1 == argc) {
		rc = roam_nft_flush(t);
		if (rc < 0) {
			fprintf(stderr, "nftctl: flush: %s: %s\n", strerror(-rc), roam_nft_error(t));
			ret = 1;
		}
	} else if (strcmp(cmd, "destroy") == 0 && i + 1 == argc) {
		rc = roam_nft_destroy(t);
		if (rc < 0) {
			fprintf(stderr, "nftctl: destroy %s: %s\n", owner, strerror(-rc));
			return 1;
		}
		return 0;
	} else {
		usage(stderr);
		ret = 2;
	}
	roam_nft_close(t);
	return ret;
}
