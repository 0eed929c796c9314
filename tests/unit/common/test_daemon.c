/* Tests of the daemon lifecycle (common/util/daemon.c): argument parsing, pidfile, signals and
 * the standard control commands. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "roam/daemon.h"
#include "roam/log.h"

static int parse(struct roam_args *a, const char *line)
{
	char *copy = strdup(line);
	char *argv[32];
	int argc = 0;
	argv[argc++] = "hlrd";
	for (char *t = strtok(copy, " "); t && argc < 31; t = strtok(NULL, " "))
		argv[argc++] = t;
	argv[argc] = NULL;
	int r = roam_args_parse(a, "hlrd", argc, argv);
	free(copy);
	return r;
}

Test(daemon_args, defaults)
{
	struct roam_args a;
	cr_assert_eq(parse(&a, ""), ROAM_ARGS_RUN);
	cr_assert_str_eq(a.name, "hlrd");
	cr_assert_str_eq(a.config, "/etc/roam/hlrd.yaml");
	cr_assert_str_eq(a.pidfile, "/run/roam/hlrd.pid");
	cr_assert(!a.foreground && !a.check_only && !a.debug);
}

Test(daemon_args, options)
{
	struct roam_args a;
	cr_assert_eq(parse(&a, "-c /tmp/x.yaml -f -t -p /tmp/x.pid -d"), ROAM_ARGS_RUN);
	cr_assert_str_eq(a.config, "/tmp/x.yaml");
	cr_assert_str_eq(a.pidfile, "/tmp/x.pid");
	cr_assert(a.foreground && a.check_only && a.debug);
	/* Bundled flags, attached values, value after a bundle. */
	cr_assert_eq(parse(&a, "-fdc conf.yaml -p/run/p.pid"), ROAM_ARGS_RUN);
	cr_assert(a.foreground && a.debug && !a.check_only);
	cr_assert_str_eq(a.config, "conf.yaml");
	cr_assert_str_eq(a.pidfile, "/run/p.pid");
	cr_assert_eq(parse(&a, "-cfoo.yaml --"), ROAM_ARGS_RUN);
	cr_assert_str_eq(a.config, "foo.yaml");
	/* The last of repeated options wins. */
	cr_assert_eq(parse(&a, "-c a -c b"), ROAM_ARGS_RUN);
	cr_assert_str_eq(a.config, "b");
}

Test(daemon_args, help_and_version, .init = cr_redirect_stdout)
{
	struct roam_args a;
	cr_assert_eq(parse(&a, "-h"), ROAM_ARGS_EXIT);
	cr_assert_eq(parse(&a, "-f --help"), ROAM_ARGS_EXIT);
	cr_assert_eq(parse(&a, "-V"), ROAM_ARGS_EXIT);
	fflush(stdout);
	cr_assert_stdout_neq_str("");
}

Test(daemon_args, version_text, .init = cr_redirect_stdout)
{
	struct roam_args a;
	cr_assert_eq(parse(&a, "--version"), ROAM_ARGS_EXIT);
	fflush(stdout);
	cr_assert_stdout_eq_str("hlrd (roam) " ROAM_VERSION "\n");
}

Test(daemon_args, bad, .init = cr_redirect_stderr)
{
	struct roam_args a;
	const char *bad[] = { "-c", "-p", "-x", "-fz", "--bogus", "extra", "-f extra", "-- -f",
			      "-", "-c -f" /* "-f" taken as the file: fine */ };
	for (size_t i = 0; i + 1 < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(parse(&a, bad[i]), -EINVAL, "'%s' accepted", bad[i]);
	cr_assert_eq(parse(&a, "-c -f"), ROAM_ARGS_RUN);
	cr_assert_str_eq(a.config, "-f");
	char *argv[] = { "hlrd", "-c", "", NULL };
	cr_assert_eq(roam_args_parse(&a, "hlrd", 3, argv), -EINVAL);
	char *longp = malloc(ROAM_PATH_MAX + 10);
	memset(longp, 'a', ROAM_PATH_MAX + 9);
	longp[ROAM_PATH_MAX + 9] = 0;
	char *argv2[] = { "hlrd", "-c", longp, NULL };
	cr_assert_eq(roam_args_parse(&a, "hlrd", 3, argv2), -EINVAL);
	free(longp);
	fflush(stderr);
	/* The usage message is printed. */
	cr_assert_stderr_neq_str("");
}

static void tmpdir(char *dir, size_t n)
{
	snprintf(dir, n, "/tmp/roam-daemon-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static char *slurp(const char *path)
{
	static char buf[64];
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return NULL;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n < 0 ? 0 : n] = 0;
	return buf;
}

Test(pidfile, lock_write_remove)
{
	char dir[64], path[128];
	tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/sub/d.pid", dir); /* sub/ gets created */
	struct roam_pidfile a, b;
	pid_t holder = -1;
	cr_assert_eq(roam_pidfile_open(&a, path, &holder), 0);
	cr_assert_eq(holder, 0);
	cr_assert_eq(roam_pidfile_write(&a, 4242), 0);
	cr_assert_str_eq(slurp(path), "4242\n");
	cr_assert_eq(roam_pidfile_write(&a, 17), 0); /* replaces, no leftovers */
	cr_assert_str_eq(slurp(path), "17\n");
	/* A second instance is refused and told who holds it. */
	cr_assert_eq(roam_pidfile_open(&b, path, &holder), -EEXIST);
	cr_assert_eq(holder, 17);
	cr_assert_eq(b.fd, -1);
	roam_pidfile_remove(&a);
	roam_pidfile_remove(&a); /* twice is fine */
	cr_assert_null(slurp(path));
	cr_assert_eq(roam_pidfile_open(&b, path, NULL), 0);
	roam_pidfile_remove(&b);
	char sub[140];
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	rmdir(sub);
	rmdir(dir);
}

Test(pidfile, stale_file_is_reused)
{
	char dir[64], path[128];
	tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/d.pid", dir);
	FILE *f = fopen(path, "w");
	fprintf(f, "99999999\n");
	fclose(f);
	struct roam_pidfile a;
	cr_assert_eq(roam_pidfile_open(&a, path, NULL), 0);
	cr_assert_eq(roam_pidfile_write(&a, getpid()), 0);
	char exp[32];
	snprintf(exp, sizeof(exp), "%d\n", (int)getpid());
	cr_assert_str_eq(slurp(path), exp);
	roam_pidfile_remove(&a);
	rmdir(dir);
}

Test(pidfile, held_by_another_process)
{
	char dir[64], path[128];
	tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/d.pid", dir);
	int ready[2], go[2];
	cr_assert_eq(pipe(ready), 0);
	cr_assert_eq(pipe(go), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct roam_pidfile c;
		if (roam_pidfile_open(&c, path, NULL) < 0 || roam_pidfile_write(&c, getpid()) < 0)
			_exit(1);
		char x = 'r';
		if (write(ready[1], &x, 1) != 1)
			_exit(1);
		if (read(go[0], &x, 1) < 0) /* until the parent says, or dies */
			_exit(1);
		_exit(0); /* dies without removing the file: stale */
	}
	char x;
	cr_assert_eq(read(ready[0], &x, 1), 1);
	struct roam_pidfile a;
	pid_t holder = 0;
	cr_assert_eq(roam_pidfile_open(&a, path, &holder), -EEXIST);
	cr_assert_eq(holder, pid);
	cr_assert_eq(write(go[1], "g", 1), 1);
	int st;
	waitpid(pid, &st, 0);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* The holder died: its file is stale and taken over. */
	cr_assert_eq(roam_pidfile_open(&a, path, &holder), 0);
	roam_pidfile_remove(&a);
	rmdir(dir);
}

/* ---- lifecycle in the foreground: signals, reload, status, log-level ---- */

struct app {
	uv_loop_t loop;
	struct roam_daemon *d;
	struct roam_ctl *ctl;
	uv_timer_t timer;
	int reloads, shutdowns, step;
	bool reload_fails;
	char sock[128];
	char status[4096];
	char reload_reply[512], level_reply[512];
};

static int app_reload(void *arg, const char *config, char *err, size_t errlen)
{
	struct app *a = arg;
	a->reloads++;
	if (a->reload_fails) {
		snprintf(err, errlen, "%s:3:1: key 'x': unknown key", config);
		return -EINVAL;
	}
	return 0;
}

static void app_shutdown(void *arg)
{
	struct app *a = arg;
	a->shutdowns++;
	ctl_close(a->ctl);
	uv_close((uv_handle_t *)&a->timer, NULL);
}

static void app_status(void *arg, struct json_writer *w)
{
	struct app *a = arg;
	json_kv_int(w, "reload_calls", a->reloads);
}

struct call_arg {
	const char *path, *req;
	char *out;
	size_t outlen;
	pthread_t th;
};

static void *call_thread(void *p)
{
	struct call_arg *c = p;
	char *rep = NULL;
	int r = ctl_call(c->path, c->req, &rep, 5000);
	snprintf(c->out, c->outlen, "%s", r == 0 ? rep : "CALL FAILED");
	free(rep);
	return NULL;
}

/* Runs a ctl_call from a thread while the loop turns. */
static void loop_call(struct app *a, const char *req, char *out, size_t outlen)
{
	struct call_arg c = { a->sock, req, out, outlen, 0 };
	out[0] = 0;
	cr_assert_eq(pthread_create(&c.th, NULL, call_thread, &c), 0);
	while (!out[0])
		uv_run(&a->loop, UV_RUN_NOWAIT), usleep(1000);
	pthread_join(c.th, NULL);
}

static void on_step(uv_timer_t *t)
{
	struct app *a = t->data;
	switch (a->step++) {
	case 0:
		raise(SIGHUP); /* reload OK */
		break;
	case 1:
		a->reload_fails = true;
		loop_call(a, "{\"cmd\":\"reload\"}", a->reload_reply, sizeof(a->reload_reply));
		break;
	case 2:
		loop_call(a, "{\"cmd\":\"log-level\",\"args\":{\"level\":\"debug\"}}", a->level_reply,
			  sizeof(a->level_reply));
		loop_call(a, "{\"cmd\":\"status\"}", a->status, sizeof(a->status));
		break;
	case 3:
		raise(SIGTERM);
		raise(SIGINT); /* the second signal is only logged: shutdown runs once */
		break;
	}
}

Test(daemon, foreground_lifecycle)
{
	struct app a;
	memset(&a, 0, sizeof(a));
	log_init("hlrd", 1, LOG_LVL_WARN);
	char dir[64];
	tmpdir(dir, sizeof(dir));
	char argv_c[128], argv_p[128];
	snprintf(argv_c, sizeof(argv_c), "%s/hlrd.yaml", dir);
	snprintf(argv_p, sizeof(argv_p), "%s/hlrd.pid", dir);
	snprintf(a.sock, sizeof(a.sock), "%s/hlrd.sock", dir);
	char *argv[] = { "hlrd", "-f", "-c", argv_c, "-p", argv_p, NULL };
	struct roam_args args;
	cr_assert_eq(roam_args_parse(&args, "hlrd", 6, argv), ROAM_ARGS_RUN);
	cr_assert_eq(uv_loop_init(&a.loop), 0);
	struct roam_daemon_ops ops = { .reload = app_reload, .shutdown = app_shutdown,
				       .status = app_status, .arg = &a };
	cr_assert_eq(roam_daemon_start(&a.d, &a.loop, &args, &ops), 0);
	char exp[32];
	snprintf(exp, sizeof(exp), "%d\n", (int)getpid());
	cr_assert_str_eq(slurp(argv_p), exp);
	/* A second instance with the same pidfile refuses to start. */
	struct roam_daemon *d2 = NULL;
	uv_loop_t loop2;
	uv_loop_init(&loop2);
	cr_assert_eq(roam_daemon_start(&d2, &loop2, &args, &ops), -EEXIST);
	cr_assert_null(d2);
	cr_assert_eq(uv_loop_close(&loop2), 0);

	cr_assert_eq(ctl_open(&a.ctl, &a.loop, a.sock, 0), 0);
	cr_assert_eq(roam_daemon_register_ctl(a.d, a.ctl), 0);
	cr_assert_eq(roam_daemon_drop_privs("roam-no-such-user-xyz", ROAM_CAPS_NET), 0);
	roam_daemon_ready(a.d);
	roam_daemon_ready(a.d);
	uv_timer_init(&a.loop, &a.timer);
	a.timer.data = &a;
	uv_timer_start(&a.timer, on_step, 10, 20);
	uv_run(&a.loop, UV_RUN_DEFAULT); /* returns once shutdown closed ctl and timer */
	cr_assert(roam_daemon_stopping(a.d));
	roam_daemon_close(a.d);
	roam_daemon_close(a.d);
	uv_run(&a.loop, UV_RUN_DEFAULT);
	cr_assert_eq(uv_loop_close(&a.loop), 0);

	cr_assert_eq(a.reloads, 2);
	cr_assert_eq(a.shutdowns, 1);
	char want[512];
	snprintf(want, sizeof(want),
		 "{\"ok\":false,\"error\":\"reload failed, keeping the running configuration: "
		 "%s:3:1: key 'x': unknown key\"}", argv_c);
	cr_assert_str_eq(a.reload_reply, want);
	cr_assert_str_eq(a.level_reply,
			 "{\"ok\":true,\"result\":{\"level\":\"debug\",\"previous\":\"warning\"}}");

	struct json_value *v;
	cr_assert_eq(json_parse(a.status, strlen(a.status), &v, NULL, 0), 0, "%s", a.status);
	const struct json_value *r = json_get(v, "result");
	const char *s;
	int64_t i;
	bool b;
	cr_assert_eq(json_get_str(r, "daemon", &s), 0);
	cr_assert_str_eq(s, "hlrd");
	cr_assert_eq(json_get_str(r, "version", &s), 0);
	cr_assert_str_eq(s, ROAM_VERSION);
	cr_assert_eq(json_get_int64(r, "pid", &i), 0);
	cr_assert_eq(i, getpid());
	cr_assert_eq(json_get_int64(r, "uptime_s", &i), 0);
	cr_assert(i >= 0 && i < 60);
	cr_assert_eq(json_get_str(r, "config", &s), 0);
	cr_assert_str_eq(s, argv_c);
	cr_assert_eq(json_get_str(r, "log_level", &s), 0);
	cr_assert_str_eq(s, "debug");
	cr_assert_eq(json_get_str(r, "state", &s), 0);
	cr_assert_str_eq(s, "running");
	cr_assert_eq(json_get_int64(r, "reloads", &i), 0);
	cr_assert_eq(i, 2);
	cr_assert_eq(json_get_int64(r, "reload_calls", &i), 0); /* the daemon's own member */
	cr_assert_eq(i, 2);
	const struct json_value *lr = json_get(r, "last_reload");
	cr_assert_eq(json_get_bool(lr, "ok", &b), 0);
	cr_assert(!b);
	cr_assert_eq(json_get_str(lr, "error", &s), 0);
	cr_assert(strstr(s, "unknown key"));
	cr_assert_eq(json_get_str(lr, "time", &s), 0);
	json_free(v);

	struct stat st;
	cr_assert_eq(stat(argv_p, &st), -1, "pidfile left behind");
	cr_assert_eq(stat(a.sock, &st), -1, "socket left behind");
	rmdir(dir);
}

Test(daemon, drop_privs_noop_cases)
{
	/* A missing user keeps root (warns); an unprivileged process has nothing to drop. */
	log_init("test", 1, LOG_LVL_ERR);
	cr_assert_eq(roam_daemon_drop_privs("roam-no-such-user-xyz", ROAM_CAPS_NET), 0);
	cr_assert_eq(geteuid(), getuid());
}

Test(daemon, drop_privs_to_nobody)
{
	if (geteuid() != 0)
		cr_skip_test("needs root");
	log_init("test", 1, LOG_LVL_ERR);
	cr_assert_eq(roam_daemon_drop_privs("nobody", ROAM_CAPS_NET), 0);
	cr_assert_neq(geteuid(), 0);
	cr_assert_neq(getuid(), 0);
	cr_assert_eq(setuid(0), -1); /* no way back */
	/* Exactly the listed capabilities remain. */
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	unsigned long long eff = ~0ULL, prm = ~0ULL;
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "CapEff: %llx", &eff);
		sscanf(line, "CapPrm: %llx", &prm);
	}
	fclose(f);
	cr_assert_eq(eff, ROAM_CAPS_NET, "CapEff %llx", eff);
	cr_assert_eq(prm, ROAM_CAPS_NET, "CapPrm %llx", prm);
}
