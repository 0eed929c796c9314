/* hlrd.yaml schema (hlrd/conf.c, hlrd.yaml(5)): defaults, the example file, and the errors. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../../hlrd/hlrd.h"

static int load(const char *text, struct hlrd_conf *c, struct conf_errors *e)
{
	memset(c, 0, sizeof(*c));
	conf_errors_init(e);
	return conf_load_string("t.yaml", text, &hlrd_conf_schema, c, e);
}

static int has_error(const struct conf_errors *e, const char *needle)
{
	for (size_t i = 0; i < e->count; i++)
		if (strstr(e->v[i].text, needle))
			return 1;
	return 0;
}

Test(hlrd_conf, defaults)
{
	struct hlrd_conf c;
	struct conf_errors e;
	cr_assert_eq(load("hosts:\n  - key_id: 1\n    key: 000102030405060708090a0b0c0d0e0f\n", &c, &e),
		     0);
	cr_assert_eq(c.port, 7460);
	cr_assert_eq(c.nlisten, 2);
	cr_assert_eq(c.listen[0].family, AF_INET);
	cr_assert_eq(c.listen[1].family, AF_INET6);
	cr_assert_str_eq(c.control_socket, "/run/roam/hlrd.sock");
	cr_assert_str_eq(c.snapshot, "/var/lib/roam/hlrd.snap");
	cr_assert_eq(c.snapshot_interval, 60000);
	cr_assert_eq(c.default_lifetime, 300000);
	cr_assert_eq(c.max_lifetime, 3600000);
	cr_assert_eq(c.negative_ttl, 30000);
	cr_assert_eq(c.replay_tolerance, 7000);
	cr_assert_eq(c.log_level, 2);
	cr_assert_eq(c.hosts[0].key.len, 16);
	cr_assert_eq(c.hosts[0].naddresses, 0);
	hlrd_conf_free(&c);
	conf_errors_free(&e);
}

Test(hlrd_conf, example_file_is_valid)
{
	struct hlrd_conf c;
	struct conf_errors e;
	memset(&c, 0, sizeof(c));
	conf_errors_init(&e);
	int r = conf_load("etc/roam/hlrd.yaml", &hlrd_conf_schema, &c, &e);
	if (r < 0)
		conf_errors_print(&e, stderr);
	cr_assert_eq(r, 0, "etc/roam/hlrd.yaml (run from the top of the tree)");
	cr_assert_eq(c.nhosts, 3);
	cr_assert_eq(c.hosts[1].naddresses, 1);
	hlrd_conf_free(&c);
	conf_errors_free(&e);
}

Test(hlrd_conf, errors_name_the_key)
{
	struct hlrd_conf c;
	struct conf_errors e;
	const char *text = "port: 70000\n"
			   "max_lifetime: 10\n"
			   "listen: [192.0.2.300]\n"
			   "hosts:\n"
			   "  - key_id: 1\n"
			   "    key: 0001\n"
			   "    algorithm: md5\n"
			   "  - key_id: 1\n"
			   "    key: 000102030405060708090a0b0c0d0e0f\n"
			   "    addresses: [10.0.0.0/33]\n"
			   "    colour: blue\n";
	cr_assert_eq(load(text, &c, &e), -EINVAL);
	cr_assert(has_error(&e, "t.yaml:1:7: key 'port'"));
	cr_assert(has_error(&e, "key 'max_lifetime'"), "bare number without a unit");
	cr_assert(has_error(&e, "t.yaml:3:"));
	cr_assert(has_error(&e, "key 'hosts[0].key'"), "too short");
	cr_assert(has_error(&e, "key 'hosts[0].algorithm'"));
	cr_assert(has_error(&e, "key 'hosts[1].addresses[0]'"));
	cr_assert(has_error(&e, "t.yaml:11:5: key 'hosts[1].colour'"));
	conf_errors_free(&e);
}

Test(hlrd_conf, duplicate_key_ids_and_required_hosts)
{
	struct hlrd_conf c;
	struct conf_errors e;
	cr_assert_eq(load("hosts:\n  - key_id: 5\n    key: 000102030405060708090a0b0c0d0e0f\n"
			  "  - key_id: 5\n    key: 101102030405060708090a0b0c0d0e0f\n",
			  &c, &e),
		     -EINVAL);
	cr_assert(has_error(&e, "key_id 5 used by hosts[0] and hosts[1]"));
	conf_errors_free(&e);
	cr_assert_eq(load("port: 7460\n", &c, &e), -EINVAL);
	cr_assert(has_error(&e, "hosts"));
	conf_errors_free(&e);
}

Test(hlrd_conf, secret_file)
{
	char dir[] = "/tmp/test_hlrd_conf.XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	char path[128], text[256];
	snprintf(path, sizeof(path), "%s/k.hex", dir);
	FILE *f = fopen(path, "w");
	fputs("000102030405060708090a0b0c0d0e0f\n", f);
	fclose(f);
	snprintf(text, sizeof(text), "hosts:\n  - key_id: 1\n    key: file:%s\n", path);
	struct hlrd_conf c;
	struct conf_errors e;
	chmod(path, 0644);
	cr_assert_eq(load(text, &c, &e), -EINVAL, "a world-readable key file is refused");
	conf_errors_free(&e);
	chmod(path, 0600);
	cr_assert_eq(load(text, &c, &e), 0);
	cr_assert_eq(c.hosts[0].key.len, 16);
	cr_assert_eq(c.hosts[0].key.data[15], 0x0f);
	hlrd_conf_free(&c);
	conf_errors_free(&e);
	unlink(path);
	rmdir(dir);
}
