/* sipd.yaml (sipd/conf.c): the example config loads, cross-field checks hold, and a credentials
 * file readable by others is refused. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../../sipd/sipd.h"

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f, "%s", path);
	char *buf = calloc(1, 1 << 16);
	size_t n = fread(buf, 1, (1 << 16) - 1, f);
	buf[n] = 0;
	fclose(f);
	return buf;
}

/* The shipped example, with its credentials file replaced by an inline user (a string load has
 * no directory to resolve file: against); every other key is checked as shipped.  The example
 * with its real credentials file is checked by tests/e2e/configs.sh (sipd -t). */
Test(conf, example_config_is_valid)
{
	char path[512];
	const char *me = __FILE__;
	size_t pre = strlen(me) - strlen("tests/unit/sipd/test_conf.c");
	snprintf(path, sizeof(path), "%.*setc/roam/sipd.yaml", (int)pre, me);
	char *text = slurp(path);
	char *p = strstr(text, "file:sipd.users");
	cr_assert_not_null(p, "the example names its credentials file");
	const char *inl = "\"u roam.example password=x\"";
	char *fixed = calloc(1, strlen(text) + 64);
	memcpy(fixed, text, (size_t)(p - text));
	strcat(fixed, inl);
	strcat(fixed, p + strlen("file:sipd.users"));
	struct sipd_conf c;
	char err[512] = "";
	cr_assert_eq(sipd_conf_load_string(&c, fixed, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(c.nlisten, 2);
	cr_assert_eq(roam_sockaddr_port(&c.listen[0]), 5060);
	cr_assert_eq(c.max_bindings, 1000000);
	cr_assert_eq(c.min_expires, 60000);
	cr_assert_eq(c.ndigest_algorithms, 2);
	cr_assert_eq(c.digest_algorithms[0], SIP_DIGEST_SHA256);
	sipd_conf_free(&c);
	free(fixed);
	free(text);
}

Test(conf, cross_field_errors)
{
	struct sipd_conf c;
	char err[512];
	const char *bad[] = {
		"authentication: true\n",                                 /* no credentials */
		"authentication: false\nmin_expires: 2h\n",               /* min > max */
		"authentication: false\ndefault_expires: 10s\n",          /* below min */
		"authentication: false\nudp: false\ntcp: false\n",
		"authentication: false\ndigest_algorithms: [md5, md5]\n",
		"credentials: \"alice\"\n",                               /* unparseable line */
		"authentication: false\nmax_contacts: 65\n",
		"authentication: false\nbogus: 1\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		cr_assert_lt(sipd_conf_load_string(&c, bad[i], err, sizeof(err)), 0, "row %zu", i);
		cr_assert(err[0], "row %zu has a message", i);
	}
}

Test(conf, readable_credentials_file_is_refused)
{
	char dir[] = "/tmp/sipd-conf-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	char users[600], yaml[700];
	snprintf(users, sizeof(users), "%s/users", dir);
	FILE *f = fopen(users, "w");
	fputs("alice roam.example password=secret1\n", f);
	fclose(f);
	chmod(users, 0644);
	snprintf(yaml, sizeof(yaml), "credentials: file:%s\n", users);
	struct sipd_conf c;
	char err[512] = "";
	cr_assert_lt(sipd_conf_load_string(&c, yaml, err, sizeof(err)), 0);
	chmod(users, 0600);
	cr_assert_eq(sipd_conf_load_string(&c, yaml, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(c.credentials.len, strlen("alice roam.example password=secret1"));
	sipd_conf_free(&c);
	unlink(users);
	rmdir(dir);
}

/* The proxy keys: routes (list of maps), their checks, authenticate_invite's dependency. */
Test(conf, proxy_keys)
{
	struct sipd_conf c;
	char err[256] = "";
	memset(&c, 0, sizeof(c));
	cr_assert_eq(sipd_conf_load_string(&c,
					   "authentication: false\nsnapshot: \"\"\n"
					   "advertise: \"192.0.2.1:5070\"\nrecord_route: false\n"
					   "routes:\n"
					   "  - {domain: a.example, next_hop: \"192.0.2.7\"}\n"
					   "  - {domain: b.example, next_hop: \"[2001:db8::7]:5080\", "
					   "transport: tcp}\n",
					   err, sizeof(err)),
		     0, "%s", err);
	cr_assert_eq(c.nroutes, 2);
	cr_assert_str_eq(c.routes[0].domain, "a.example");
	cr_assert_eq(roam_sockaddr_port(&c.routes[0].next_hop), 5060);
	cr_assert_eq(c.routes[0].transport, SIPD_TP_UDP);
	cr_assert_eq(roam_sockaddr_port(&c.routes[1].next_hop), 5080);
	cr_assert_eq(c.routes[1].transport, SIPD_TP_TCP);
	cr_assert_str_eq(c.advertise, "192.0.2.1:5070");
	cr_assert(!c.record_route);
	cr_assert(!c.authenticate_invite);
	cr_assert_eq(c.max_proxy_transactions, 65536);
	sipd_conf_free(&c);
	memset(&c, 0, sizeof(c));
	cr_assert_lt(sipd_conf_load_string(&c,
					   "authentication: false\nsnapshot: \"\"\nroutes:\n"
					   "  - {domain: a.example, next_hop: \"192.0.2.7\"}\n"
					   "  - {domain: A.example, next_hop: \"192.0.2.8\"}\n",
					   err, sizeof(err)),
		     0);
	cr_assert(strstr(err, "listed twice"), "%s", err);
	memset(&c, 0, sizeof(c));
	cr_assert_lt(sipd_conf_load_string(&c,
					   "authentication: false\nsnapshot: \"\"\nroutes:\n"
					   "  - {domain: a.example, next_hop: \"192.0.2.7\", transport: sctp}\n",
					   err, sizeof(err)),
		     0);
	memset(&c, 0, sizeof(c));
	cr_assert_lt(sipd_conf_load_string(&c,
					   "authentication: false\nsnapshot: \"\"\n"
					   "authenticate_invite: true\n",
					   err, sizeof(err)),
		     0);
	cr_assert(strstr(err, "authenticate_invite"), "%s", err);
}
