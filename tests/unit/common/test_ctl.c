/* Tests of the control socket (common/util/ctl.c) and the stats command (common/util/stats.c).
 * A server thread runs the libuv loop with ctl_open(); the test thread talks to it with
 * ctl_call() or with raw sockets. */
#include <criterion/criterion.h>
#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "roam/ctl.h"
#include "roam/log.h"
#include "roam/stats.h"

struct counters {
	uint64_t rx, tx, dropped;
};

struct srv {
	char dir[64];
	char path[100];
	uv_loop_t loop;
	uv_async_t stop;
	struct roam_ctl *ctl;
	pthread_t th;
	int calls;
	struct counters cnt;
	struct stats_table st;
};

static int h_echo(void *arg, const struct json_value *args, struct json_writer *w, char *err,
		  size_t errlen)
{
	struct srv *s = arg;
	(void)err, (void)errlen;
	s->calls++;
	json_write_value(w, args);
	return 0;
}

static int h_fail(void *arg, const struct json_value *args, struct json_writer *w, char *err,
		  size_t errlen)
{
	(void)arg, (void)args;
	json_int(w, 1); /* discarded */
	snprintf(err, errlen, "no such entry");
	return -ENOENT;
}

static int h_fail_silent(void *arg, const struct json_value *args, struct json_writer *w,
			 char *err, size_t errlen)
{
	(void)arg, (void)args, (void)w, (void)err, (void)errlen;
	return -EPERM;
}

static int h_two_values(void *arg, const struct json_value *args, struct json_writer *w,
			char *err, size_t errlen)
{
	(void)arg, (void)args, (void)err, (void)errlen;
	json_int(w, 1);
	json_int(w, 2);
	return 0;
}

static int h_nothing(void *arg, const struct json_value *args, struct json_writer *w, char *err,
		     size_t errlen)
{
	(void)arg, (void)args, (void)w, (void)err, (void)errlen;
	return 0;
}

static int h_big(void *arg, const struct json_value *args, struct json_writer *w, char *err,
		 size_t errlen)
{
	(void)arg, (void)args, (void)err, (void)errlen;
	json_arr_begin(w);
	for (int i = 0; i < 50000; i++)
		json_str(w, "0123456789abcdef0123456789abcdef");
	json_arr_end(w);
	return 0;
}

static int h_quit(void *arg, const struct json_value *args, struct json_writer *w, char *err,
		  size_t errlen)
{
	struct srv *s = arg;
	(void)args, (void)w, (void)err, (void)errlen;
	ctl_close(s->ctl);
	uv_close((uv_handle_t *)&s->stop, NULL);
	return 0;
}

static void on_stop(uv_async_t *a)
{
	struct srv *s = a->data;
	ctl_close(s->ctl);
	uv_close((uv_handle_t *)&s->stop, NULL);
}

static void *srv_thread(void *arg)
{
	struct srv *s = arg;
	uv_run(&s->loop, UV_RUN_DEFAULT);
	return NULL;
}

static void srv_start_mode(struct srv *s, unsigned mode)
{
	memset(s, 0, sizeof(*s));
	log_init("test", 1, LOG_LVL_WARN);
	signal(SIGPIPE, SIG_IGN);
	snprintf(s->dir, sizeof(s->dir), "/tmp/roam-ctl-XXXXXX");
	cr_assert_not_null(mkdtemp(s->dir));
	snprintf(s->path, sizeof(s->path), "%s/run/test.sock", s->dir); /* run/ is created */
	cr_assert_eq(uv_loop_init(&s->loop), 0);
	int r = ctl_open(&s->ctl, &s->loop, s->path, mode);
	cr_assert_eq(r, 0, "ctl_open: %s", strerror(-r));
	cr_assert_eq(ctl_register(s->ctl, "echo", "echo the arguments", h_echo, s), 0);
	cr_assert_eq(ctl_register(s->ctl, "fail", "fail with a message", h_fail, s), 0);
	cr_assert_eq(ctl_register(s->ctl, "fail-silent", "fail", h_fail_silent, s), 0);
	cr_assert_eq(ctl_register(s->ctl, "two", "bad handler", h_two_values, s), 0);
	cr_assert_eq(ctl_register(s->ctl, "nothing", "writes nothing", h_nothing, s), 0);
	cr_assert_eq(ctl_register(s->ctl, "big", "large reply", h_big, s), 0);
	cr_assert_eq(ctl_register(s->ctl, "quit", "close the ctl", h_quit, s), 0);
	static const struct stats_def defs[] = {
		STATS_DEF(struct counters, rx),
		STATS_DEF(struct counters, tx),
		STATS_NAMED("drops", struct counters, dropped),
	};
	s->cnt = (struct counters){ 5, 7, UINT64_MAX };
	s->st = (struct stats_table){ &s->cnt, defs, STATS_COUNT(defs) };
	cr_assert_eq(stats_register(s->ctl, &s->st), 0);
	cr_assert_eq(uv_async_init(&s->loop, &s->stop, on_stop), 0);
	s->stop.data = s;
	cr_assert_eq(pthread_create(&s->th, NULL, srv_thread, s), 0);
}

static void srv_start(struct srv *s)
{
	srv_start_mode(s, 0);
}

static void srv_join(struct srv *s)
{
	pthread_join(s->th, NULL);
	/* Everything was closed and freed: the loop has no handle left. */
	uv_run(&s->loop, UV_RUN_DEFAULT);
	cr_assert_eq(uv_loop_close(&s->loop), 0, "handles left open");
	struct stat st;
	cr_assert_eq(stat(s->path, &st), -1, "socket file not removed");
	char run[160];
	snprintf(run, sizeof(run), "%s/run", s->dir);
	rmdir(run);
	rmdir(s->dir);
}

static void srv_stop(struct srv *s)
{
	uv_async_send(&s->stop);
	srv_join(s);
}

static char *call(struct srv *s, const char *req)
{
	char *reply = NULL;
	int r = ctl_call(s->path, req, &reply, 5000);
	cr_assert_eq(r, 0, "ctl_call(%s): %s", req, strerror(-r));
	return reply;
}

#define EXPECT_CALL(s, req, expected)                  \
	do {                                           \
		char *rep_ = call(s, req);             \
		cr_assert_str_eq(rep_, expected);      \
		free(rep_);                            \
	} while (0)

static int raw_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	cr_assert_geq(fd, 0);
	struct timeval tv = { .tv_sec = 5 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "connect: %s",
		     strerror(errno));
	return fd;
}

static void raw_send(int fd, const char *data, size_t n)
{
	size_t off = 0;
	while (off < n) {
		ssize_t w = send(fd, data + off, n - off, MSG_NOSIGNAL);
		cr_assert_gt(w, 0, "send: %s", strerror(errno));
		off += (size_t)w;
	}
}

/* Reads one line (without the newline); NULL on EOF before a full line. */
static char *raw_line(int fd)
{
	size_t cap = 256, len = 0;
	char *buf = malloc(cap);
	for (;;) {
		char c;
		ssize_t n = recv(fd, &c, 1, 0);
		if (n <= 0) {
			free(buf);
			return NULL;
		}
		if (c == '\n')
			break;
		if (len + 1 >= cap)
			buf = realloc(buf, cap *= 2);
		buf[len++] = c;
	}
	buf[len] = 0;
	return buf;
}

/* The server closed: EOF, or ECONNRESET when it closed with our data still unread. */
static bool raw_eof(int fd)
{
	char c;
	ssize_t n = recv(fd, &c, 1, 0);
	return n == 0 || (n < 0 && errno == ECONNRESET);
}

Test(ctl, registered_command)
{
	struct srv s;
	srv_start(&s);
	EXPECT_CALL(&s, "{\"cmd\":\"echo\",\"args\":{\"a\":1,\"b\":\"x\",\"c\":[true,null]}}",
		    "{\"ok\":true,\"result\":{\"a\":1,\"b\":\"x\",\"c\":[true,null]}}");
	/* args optional (an empty object), and null counts as absent; newline already there. */
	EXPECT_CALL(&s, "{\"cmd\":\"echo\"}\n", "{\"ok\":true,\"result\":{}}");
	EXPECT_CALL(&s, "{\"args\":null,\"cmd\":\"echo\"}", "{\"ok\":true,\"result\":{}}");
	EXPECT_CALL(&s, "{\"cmd\":\"nothing\"}", "{\"ok\":true,\"result\":null}");
	EXPECT_CALL(&s, "{\"cmd\":\"stats\"}",
		    "{\"ok\":true,\"result\":{\"rx\":5,\"tx\":7,\"drops\":18446744073709551615}}");
	srv_stop(&s);
	cr_assert_eq(s.calls, 3);
}

Test(ctl, help_lists_commands_sorted)
{
	struct srv s;
	srv_start(&s);
	char *rep = call(&s, "{\"cmd\":\"help\"}");
	struct json_value *v;
	cr_assert_eq(json_parse(rep, strlen(rep), &v, NULL, 0), 0);
	const struct json_value *res = json_get(v, "result");
	cr_assert_eq(json_array_len(res), 9);
	const char *prev = "";
	bool saw_echo = false;
	for (size_t i = 0; i < json_array_len(res); i++) {
		const char *name, *help;
		cr_assert_eq(json_get_str(json_array_at(res, i), "command", &name), 0);
		cr_assert_eq(json_get_str(json_array_at(res, i), "help", &help), 0);
		cr_assert_gt(strcmp(name, prev), 0, "not sorted at %s", name);
		prev = name;
		if (strcmp(name, "echo") == 0) {
			saw_echo = true;
			cr_assert_str_eq(help, "echo the arguments");
		}
	}
	cr_assert(saw_echo);
	json_free(v);
	free(rep);
	srv_stop(&s);
}

Test(ctl, errors)
{
	struct srv s;
	srv_start(&s);
	EXPECT_CALL(&s, "{\"cmd\":\"nope\"}",
		    "{\"ok\":false,\"error\":\"unknown command 'nope' (try 'help')\"}");
	EXPECT_CALL(&s, "{\"cmd\":\"fail\"}", "{\"ok\":false,\"error\":\"no such entry\"}");
	EXPECT_CALL(&s, "{\"cmd\":\"fail-silent\"}",
		    "{\"ok\":false,\"error\":\"Operation not permitted\"}");
	EXPECT_CALL(&s, "{\"cmd\":\"two\"}",
		    "{\"ok\":false,\"error\":\"internal error: invalid result\"}");
	EXPECT_CALL(&s, "{\"cmd\":\"echo\",\"args\":[1]}",
		    "{\"ok\":false,\"error\":\"malformed request: \\\"args\\\" must be an object\"}");
	EXPECT_CALL(&s, "{\"args\":{}}",
		    "{\"ok\":false,\"error\":\"malformed request: missing \\\"cmd\\\"\"}");
	EXPECT_CALL(&s, "{\"cmd\":7}",
		    "{\"ok\":false,\"error\":\"malformed request: \\\"cmd\\\" must be a string\"}");
	EXPECT_CALL(&s, "[1]", "{\"ok\":false,\"error\":\"malformed request: not a JSON object\"}");
	EXPECT_CALL(&s, "{\"cmd\":\"echo\"",
		    "{\"ok\":false,\"error\":\"malformed request: line 1 col 14: unterminated "
		    "object\"}");
	EXPECT_CALL(&s, "garbage\x01\xff",
		    "{\"ok\":false,\"error\":\"malformed request: line 1 col 1: unexpected "
		    "character 'g'\"}");
	srv_stop(&s);
	cr_assert_eq(s.calls, 0);
}

Test(ctl, many_requests_on_one_connection)
{
	struct srv s;
	srv_start(&s);
	int fd = raw_connect(s.path);
	/* Three requests in one write, with CRLF, blank lines and a malformed one between. */
	const char *batch = "{\"cmd\":\"echo\",\"args\":{\"n\":1}}\r\n\n   \n"
			    "not json\n"
			    "{\"cmd\":\"echo\",\"args\":{\"n\":2}}\n";
	raw_send(fd, batch, strlen(batch));
	char *l;
	cr_assert_str_eq(l = raw_line(fd), "{\"ok\":true,\"result\":{\"n\":1}}");
	free(l);
	l = raw_line(fd);
	cr_assert_not_null(l);
	cr_assert(strstr(l, "\"ok\":false"), "%s", l);
	free(l);
	cr_assert_str_eq(l = raw_line(fd), "{\"ok\":true,\"result\":{\"n\":2}}");
	free(l);
	/* A request split byte by byte. */
	const char *req = "{\"cmd\":\"echo\",\"args\":{\"n\":3}}\n";
	for (size_t i = 0; req[i]; i++) {
		raw_send(fd, req + i, 1);
		usleep(200);
	}
	cr_assert_str_eq(l = raw_line(fd), "{\"ok\":true,\"result\":{\"n\":3}}");
	free(l);
	close(fd);
	srv_stop(&s);
	cr_assert_eq(s.calls, 3);
}

Test(ctl, pipelined_requests_without_reading)
{
	/* The client writes many requests before reading any reply (some replies are large):
	 * every reply arrives, in order. */
	struct srv s;
	srv_start(&s);
	int fd = raw_connect(s.path);
	enum { N = 300 };
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		for (int i = 0; i < N; i++) {
			char req[128];
			int n = i % 50 == 0 ? snprintf(req, sizeof(req), "{\"cmd\":\"big\"}\n")
					    : snprintf(req, sizeof(req),
						       "{\"cmd\":\"echo\",\"args\":{\"i\":%d}}\n", i);
			if (send(fd, req, (size_t)n, MSG_NOSIGNAL) != n)
				_exit(1);
		}
		_exit(0);
	}
	for (int i = 0; i < N; i++) {
		char *l = raw_line(fd);
		cr_assert_not_null(l, "reply %d missing", i);
		if (i % 50 == 0) {
			cr_assert_gt(strlen(l), 1000000);
		} else {
			char exp[128];
			snprintf(exp, sizeof(exp), "{\"ok\":true,\"result\":{\"i\":%d}}", i);
			cr_assert_str_eq(l, exp);
		}
		free(l);
	}
	int st;
	waitpid(pid, &st, 0);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(fd);
	srv_stop(&s);
}

Test(ctl, oversized_line_gets_error_then_close)
{
	struct srv s;
	srv_start(&s);
	int fd = raw_connect(s.path);
	/* A valid request first, then a line over the limit. */
	const char *req = "{\"cmd\":\"echo\"}\n";
	raw_send(fd, req, strlen(req));
	char *l = raw_line(fd);
	cr_assert_str_eq(l, "{\"ok\":true,\"result\":{}}");
	free(l);
	size_t n = CTL_MAX_LINE + 100;
	char *big = malloc(n);
	memset(big, 'x', n);
	raw_send(fd, big, n);
	free(big);
	l = raw_line(fd);
	cr_assert_not_null(l);
	cr_assert_str_eq(l, "{\"ok\":false,\"error\":\"request line too long (limit 65536 "
			    "bytes)\"}");
	free(l);
	cr_assert(raw_eof(fd));
	close(fd);
	/* A line of exactly the limit is still handled (here: malformed, but answered). */
	fd = raw_connect(s.path);
	big = malloc(CTL_MAX_LINE + 1);
	memset(big, ' ', CTL_MAX_LINE);
	memcpy(big, "{\"cmd\":\"echo\"}", 14);
	big[CTL_MAX_LINE] = '\n';
	raw_send(fd, big, CTL_MAX_LINE + 1);
	free(big);
	l = raw_line(fd);
	cr_assert_str_eq(l, "{\"ok\":true,\"result\":{}}");
	free(l);
	close(fd);
	srv_stop(&s);
}

Test(ctl, client_limit)
{
	struct srv s;
	srv_start(&s);
	int fds[CTL_MAX_CLIENTS];
	const char *req = "{\"cmd\":\"echo\"}\n";
	for (int i = 0; i < CTL_MAX_CLIENTS; i++) {
		fds[i] = raw_connect(s.path);
		raw_send(fds[i], req, strlen(req));
		char *l = raw_line(fds[i]);
		cr_assert_str_eq(l, "{\"ok\":true,\"result\":{}}", "client %d", i);
		free(l);
	}
	int extra = raw_connect(s.path);
	char *l = raw_line(extra);
	cr_assert_str_eq(l, "{\"ok\":false,\"error\":\"too many clients\"}");
	free(l);
	cr_assert(raw_eof(extra));
	close(extra);
	/* Once one leaves, a new client is served. */
	close(fds[0]);
	char *rep = NULL;
	int r = -1;
	for (int tries = 0; tries < 100 && r != 0; tries++) {
		free(rep);
		rep = NULL;
		r = ctl_call(s.path, req, &rep, 2000);
		if (r == 0 && strstr(rep, "too many"))
			r = -EAGAIN;
		if (r != 0)
			usleep(10000);
	}
	cr_assert_eq(r, 0);
	cr_assert_str_eq(rep, "{\"ok\":true,\"result\":{}}");
	free(rep);
	for (int i = 1; i < CTL_MAX_CLIENTS; i++)
		close(fds[i]);
	srv_stop(&s);
}

Test(ctl, close_from_handler_and_with_clients_connected)
{
	struct srv s;
	srv_start(&s);
	int idle = raw_connect(s.path); /* stays connected: ctl_close must close it */
	const char *req = "{\"cmd\":\"echo\"}\n";
	raw_send(idle, req, strlen(req));
	free(raw_line(idle));
	char *rep = NULL;
	int r = ctl_call(s.path, "{\"cmd\":\"quit\"}", &rep, 5000);
	cr_assert_eq(r, -ECONNRESET, "got %d %s", r, rep ? rep : "");
	srv_join(&s); /* the loop ended by itself: every handle was closed */
	cr_assert(raw_eof(idle));
	close(idle);
}

Test(ctl, socket_mode_and_access)
{
	struct srv s;
	srv_start(&s);
	struct stat st;
	cr_assert_eq(stat(s.path, &st), 0);
	cr_assert(S_ISSOCK(st.st_mode));
	cr_assert_eq(st.st_mode & 07777, 0660);
	cr_assert_str_eq(ctl_path(s.ctl), s.path);
	srv_stop(&s);

	srv_start_mode(&s, 0600);
	cr_assert_eq(stat(s.path, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0600);
	srv_stop(&s);
}

Test(ctl, peer_credentials_checked)
{
	if (geteuid() != 0)
		cr_skip_test("needs root to become another user");
	struct srv s;
	srv_start_mode(&s, 0666); /* the file mode lets anyone connect: the check must refuse */
	chmod(s.dir, 0755);
	char runpath[160];
	snprintf(runpath, sizeof(runpath), "%s/run", s.dir);
	chmod(runpath, 0755);
	int p[2];
	cr_assert_eq(pipe(p), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		close(p[0]);
		if (setgroups(0, NULL) < 0 || setresgid(54321, 54321, 54321) < 0 ||
		    setresuid(54321, 54321, 54321) < 0)
			_exit(2);
		char *rep = NULL;
		int r = ctl_call(s.path, "{\"cmd\":\"echo\"}", &rep, 5000);
		char out[256];
		int n = snprintf(out, sizeof(out), "%d %s", r, rep ? rep : "");
		if (write(p[1], out, (size_t)n) != n)
			_exit(3);
		_exit(0);
	}
	close(p[1]);
	char buf[256] = { 0 };
	ssize_t n = read(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
	int st;
	waitpid(pid, &st, 0);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %d", st);
	cr_assert_gt(n, 0);
	cr_assert_str_eq(buf, "0 {\"ok\":false,\"error\":\"permission denied\"}");
	srv_stop(&s);
	cr_assert_eq(s.calls, 0);
}

Test(ctl, stale_live_and_foreign_files)
{
	log_init("test", 1, LOG_LVL_ERR);
	char dir[] = "/tmp/roam-ctl-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	char path[100];
	snprintf(path, sizeof(path), "%s/d.sock", dir);
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct roam_ctl *a = NULL, *b = NULL;

	/* A regular file is never removed. */
	FILE *f = fopen(path, "w");
	fclose(f);
	cr_assert_eq(ctl_open(&a, &loop, path, 0), -EEXIST);
	cr_assert_null(a);
	unlink(path);

	/* Stale socket (bound, nobody listening): removed and replaced. */
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	char *rep = NULL;
	cr_assert_eq(ctl_call(path, "{}", &rep, 1000), -ECONNREFUSED);
	cr_assert_eq(ctl_open(&a, &loop, path, 0), 0);

	/* Live: a second instance refuses to start, and leaves the first one's socket. */
	cr_assert_eq(ctl_open(&b, &loop, path, 0), -EADDRINUSE);
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);

	/* Registration rules. */
	cr_assert_eq(ctl_register(a, "help", "x", h_nothing, NULL), -EEXIST);
	cr_assert_eq(ctl_register(a, "", "x", h_nothing, NULL), -EINVAL);
	cr_assert_eq(ctl_register(a, "x", "x", NULL, NULL), -EINVAL);
	char longname[CTL_MAX_NAME + 2];
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	cr_assert_eq(ctl_register(a, longname, "x", h_nothing, NULL), -EINVAL);
	cr_assert_eq(ctl_register(a, "ok", NULL, h_nothing, NULL), 0);
	cr_assert_eq(ctl_register(a, "ok", NULL, h_nothing, NULL), -EEXIST);

	ctl_close(a);
	ctl_close(a); /* twice is fine */
	uv_run(&loop, UV_RUN_DEFAULT);
	cr_assert_eq(stat(path, &st), -1);
	cr_assert_eq(uv_loop_close(&loop), 0);

	/* Path too long, missing socket. */
	char lp[200];
	memset(lp, 'a', sizeof(lp) - 1);
	lp[0] = '/';
	lp[sizeof(lp) - 1] = 0;
	cr_assert_eq(ctl_open(&a, &loop, lp, 0), -ENAMETOOLONG);
	cr_assert_eq(ctl_call(lp, "{}", &rep, 1000), -ENAMETOOLONG);
	cr_assert_eq(ctl_call(path, "{}", &rep, 1000), -ENOENT);
	cr_assert_null(rep);
	rmdir(dir);
}

Test(ctl, call_timeout_and_bad_request)
{
	char dir[] = "/tmp/roam-ctl-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	char path[100];
	snprintf(path, sizeof(path), "%s/mute.sock", dir);
	/* A listener that never answers. */
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(listen(fd, 4), 0);
	char *rep = NULL;
	cr_assert_eq(ctl_call(path, "{\"cmd\":\"status\"}", &rep, 200), -ETIMEDOUT);
	cr_assert_null(rep);
	cr_assert_eq(ctl_call(path, "{\"cmd\":\n\"status\"}", &rep, 200), -EINVAL);
	close(fd);
	unlink(path);
	rmdir(dir);
}

Test(ctl, arg_helpers)
{
	struct json_value *a;
	const char *doc = "{\"s\":\"x\",\"n\":42,\"ns\":\"-7\",\"big\":99999,\"b\":true,"
			  "\"bs\":\"off\",\"b1\":1,\"arr\":[],\"nul\":null,\"bad\":\"4x\"}";
	cr_assert_eq(json_parse(doc, strlen(doc), &a, NULL, 0), 0);
	char err[128];
	const char *s;
	int64_t i;
	bool b;
	cr_assert_eq(ctl_arg_str(a, "s", NULL, &s, err, sizeof(err)), 0);
	cr_assert_str_eq(s, "x");
	cr_assert_eq(ctl_arg_str(a, "n", NULL, &s, err, sizeof(err)), 0);
	cr_assert_str_eq(s, "42");
	cr_assert_eq(ctl_arg_str(a, "none", "dflt", &s, err, sizeof(err)), 0);
	cr_assert_str_eq(s, "dflt");
	cr_assert_eq(ctl_arg_str(a, "nul", "dflt", &s, err, sizeof(err)), 0);
	cr_assert_str_eq(s, "dflt");
	cr_assert_eq(ctl_arg_str(a, "none", NULL, &s, err, sizeof(err)), -ENOENT);
	cr_assert_str_eq(err, "missing argument 'none'");
	cr_assert_eq(ctl_arg_str(a, "arr", NULL, &s, err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(err, "argument 'arr' must be a string, not array");

	cr_assert_eq(ctl_arg_int(a, "n", 0, 0, 100, &i, err, sizeof(err)), 0);
	cr_assert_eq(i, 42);
	cr_assert_eq(ctl_arg_int(a, "ns", 0, -10, 10, &i, err, sizeof(err)), 0);
	cr_assert_eq(i, -7);
	cr_assert_eq(ctl_arg_int(a, "none", 5, 0, 10, &i, err, sizeof(err)), 0);
	cr_assert_eq(i, 5);
	cr_assert_eq(ctl_arg_int(a, "big", 0, 0, 100, &i, err, sizeof(err)), -ERANGE);
	cr_assert_str_eq(err, "argument 'big' out of range (0-100)");
	cr_assert_eq(ctl_arg_int(a, "bad", 0, 0, 100, &i, err, sizeof(err)), -EINVAL);
	cr_assert_eq(ctl_arg_int(a, "s", 0, 0, 100, &i, err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(err, "argument 's' must be an integer");
	cr_assert_eq(ctl_arg_int_req(a, "none", 0, 10, &i, err, sizeof(err)), -ENOENT);
	cr_assert_eq(ctl_arg_int_req(a, "n", 0, 100, &i, err, sizeof(err)), 0);
	cr_assert_eq(i, 42);

	cr_assert_eq(ctl_arg_bool(a, "b", false, &b, err, sizeof(err)), 0);
	cr_assert(b);
	cr_assert_eq(ctl_arg_bool(a, "bs", true, &b, err, sizeof(err)), 0);
	cr_assert(!b);
	cr_assert_eq(ctl_arg_bool(a, "b1", false, &b, err, sizeof(err)), 0);
	cr_assert(b);
	cr_assert_eq(ctl_arg_bool(a, "none", true, &b, err, sizeof(err)), 0);
	cr_assert(b);
	cr_assert_eq(ctl_arg_bool(a, "n", false, &b, err, sizeof(err)), -EINVAL);
	cr_assert_eq(ctl_arg_bool(a, "s", false, &b, err, sizeof(err)), -EINVAL);
	json_free(a);
}

Test(stats, write)
{
	struct counters c = { 1, 2, 3 };
	static const struct stats_def defs[] = {
		STATS_DEF(struct counters, dropped),
		STATS_DEF(struct counters, rx),
	};
	struct stats_table t = { &c, defs, STATS_COUNT(defs) };
	struct wbuf b;
	struct json_writer w;
	wbuf_init(&b);
	json_writer_init(&w, &b);
	stats_write(&w, &t);
	cr_assert_eq(json_writer_err(&w), 0);
	cr_assert_str_eq(wbuf_str(&b), "{\"dropped\":3,\"rx\":1}");
	wbuf_free(&b);
}
