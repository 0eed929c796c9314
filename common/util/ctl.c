/* Control socket server and client (see roam/ctl.h and docs/protocols/control.md). */
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "roam/clock.h"
#include "roam/ctl.h"
#include "roam/log.h"

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59
#endif

struct ctl_cmd {
	char name[CTL_MAX_NAME + 1];
	char *help;
	ctl_handler_fn fn;
	void *arg;
};

struct ctl_client {
	struct roam_ctl *ctl;
	struct ctl_client *next, *prev;
	uv_pipe_t pipe;
	uv_timer_t timer;
	uv_shutdown_t sreq;
	char *buf;            /* CTL_MAX_LINE + 1 bytes, allocated on first read */
	size_t len;
	int handles;          /* open libuv handles: freed when it drops to 0 */
	bool closing;         /* uv_close() called */
	bool finishing;       /* final reply queued, shutting down */
	bool paused;          /* reading stopped until the write queue drains */
	bool reading;         /* uv_read_start() in effect */
	pid_t pid;            /* peer, for logs */
	uid_t uid;
};

struct roam_ctl {
	uv_loop_t *loop;
	uv_pipe_t server;
	char *path;
	dev_t dev;
	ino_t ino;
	gid_t gid;            /* the socket file's group */
	uid_t euid;           /* ours */
	struct ctl_cmd *cmds;
	size_t ncmds, capcmds;
	struct ctl_client *clients;
	unsigned nclients;
	unsigned refs;        /* server handle + clients not yet freed */
	struct log_ratelimit rl;
	bool closing;
};

struct ctl_write {
	uv_write_t req;
	struct ctl_client *c;
	char *data;
};

static void client_close(struct ctl_client *c);
static void client_process(struct ctl_client *c);
static void client_read(struct ctl_client *c);

static void ctl_unref(struct roam_ctl *ctl)
{
	if (--ctl->refs > 0)
		return;
	for (size_t i = 0; i < ctl->ncmds; i++)
		free(ctl->cmds[i].help);
	free(ctl->cmds);
	free(ctl->path);
	free(ctl);
}

/* ---------------------------------------------------------------- replies */

static void put_error(struct wbuf *out, const char *msg)
{
	struct json_writer w;
	json_writer_init(&w, out);
	json_obj_begin(&w);
	json_kv_bool(&w, "ok", false);
	json_kv_str(&w, "error", msg);
	json_obj_end(&w);
	wbuf_put_u8(out, '\n');
}

static const struct ctl_cmd *find_cmd(const struct roam_ctl *ctl, const char *name)
{
	for (size_t i = 0; i < ctl->ncmds; i++)
		if (strcmp(ctl->cmds[i].name, name) == 0)
			return &ctl->cmds[i];
	return NULL;
}

static int cmd_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ctl_cmd *)a)->name, ((const struct ctl_cmd *)b)->name);
}

static int help_handler(void *arg, const struct json_value *args, struct json_writer *w, char *err,
			size_t errlen)
{
	const struct roam_ctl *ctl = arg;
	(void)args, (void)err, (void)errlen;
	json_arr_begin(w);
	for (size_t i = 0; i < ctl->ncmds; i++) {
		json_obj_begin(w);
		json_kv_str(w, "command", ctl->cmds[i].name);
		json_kv_str(w, "help", ctl->cmds[i].help);
		json_obj_end(w);
	}
	json_arr_end(w);
	return 0;
}

/* Handles one request line and appends exactly one reply line to out. */
static void dispatch(struct roam_ctl *ctl, const char *line, size_t len, struct wbuf *out)
{
	static const struct json_value empty_args = { .type = JSON_OBJECT };
	char err[256];
	struct json_value *req = NULL;
	int r = json_parse(line, len, &req, err, sizeof(err));
	if (r < 0) {
		char msg[300];
		snprintf(msg, sizeof(msg), "malformed request: %s", err);
		put_error(out, msg);
		return;
	}
	const char *name;
	const struct json_value *args;
	const struct ctl_cmd *cmd;
	if (req->type != JSON_OBJECT) {
		put_error(out, "malformed request: not a JSON object");
		goto done;
	}
	r = json_get_str(req, "cmd", &name);
	if (r == -ENOENT) {
		put_error(out, "malformed request: missing \"cmd\"");
		goto done;
	} else if (r < 0) {
		put_error(out, "malformed request: \"cmd\" must be a string");
		goto done;
	}
	args = json_get(req, "args");
	if (!args || args->type == JSON_NULL) {
		args = &empty_args;
	} else if (args->type != JSON_OBJECT) {
		put_error(out, "malformed request: \"args\" must be an object");
		goto done;
	}
	cmd = find_cmd(ctl, name);
	if (!cmd) {
		char msg[CTL_MAX_NAME + 64];
		snprintf(msg, sizeof(msg), "unknown command '%.*s' (try 'help')", CTL_MAX_NAME, name);
		put_error(out, msg);
		goto done;
	}

	struct wbuf res;
	struct json_writer w;
	wbuf_init(&res);
	json_writer_init(&w, &res);
	err[0] = 0;
	r = cmd->fn(cmd->arg, args, &w, err, sizeof(err));
	if (r < 0) {
		if (!err[0])
			snprintf(err, sizeof(err), "%s", strerror(-r));
		put_error(out, err);
	} else if (json_writer_err(&w) < 0 || w.values > 1) {
		log_warnx("ctl: command '%s' wrote an invalid result (%s)", cmd->name,
			  res.err ? strerror(-res.err) : "not exactly one JSON value");
		put_error(out, res.err == -ENOMEM ? "out of memory" : "internal error: invalid result");
	} else {
		wbuf_put_bytes(out, "{\"ok\":true,\"result\":", 20);
		if (w.values == 0)
			wbuf_put_bytes(out, "null", 4);
		else
			wbuf_put_bytes(out, res.buf, res.len);
		wbuf_put_bytes(out, "}\n", 2);
	}
	wbuf_free(&res);
done:
	json_free(req);
}

/* ---------------------------------------------------------------- clients */

static void client_handle_closed(uv_handle_t *h)
{
	struct ctl_client *c = h->data;
	if (--c->handles > 0)
		return;
	struct roam_ctl *ctl = c->ctl;
	if (c->prev)
		c->prev->next = c->next;
	else
		ctl->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	ctl->nclients--;
	free(c->buf);
	free(c);
	ctl_unref(ctl);
}

static void client_close(struct ctl_client *c)
{
	if (c->closing)
		return;
	c->closing = true;
	uv_timer_stop(&c->timer);
	uv_close((uv_handle_t *)&c->timer, client_handle_closed);
	uv_close((uv_handle_t *)&c->pipe, client_handle_closed);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
	(void)status;
	client_close(req->data);
}

/* The last reply is queued: stop reading, close once it is written. */
static void client_finish(struct ctl_client *c)
{
	if (c->closing || c->finishing)
		return;
	c->finishing = true;
	uv_read_stop((uv_stream_t *)&c->pipe);
	c->reading = false;
	c->sreq.data = c;
	if (uv_shutdown(&c->sreq, (uv_stream_t *)&c->pipe, on_shutdown) < 0)
		client_close(c);
}

static void on_write(uv_write_t *req, int status)
{
	struct ctl_write *wr = (struct ctl_write *)req;
	struct ctl_client *c = wr->c;
	free(wr->data);
	free(wr);
	if (status < 0) {
		if (status != UV_ECANCELED)
			log_debug("ctl: client pid %d: write: %s", (int)c->pid, uv_strerror(status));
		client_close(c);
		return;
	}
	if (c->paused && !c->closing && !c->finishing &&
	    uv_stream_get_write_queue_size((uv_stream_t *)&c->pipe) == 0) {
		c->paused = false;
		client_process(c);
	}
}

/* Queues the reply in `out` (taken over) on the client. */
static int client_send(struct ctl_client *c, struct wbuf *out)
{
	if (out->err) {
		wbuf_free(out);
		wbuf_init(out);
		put_error(out, "out of memory");
		if (out->err) {
			wbuf_free(out);
			return -ENOMEM;
		}
	}
	struct ctl_write *wr = malloc(sizeof(*wr));
	if (!wr) {
		wbuf_free(out);
		return -ENOMEM;
	}
	wr->c = c;
	wr->data = (char *)out->buf;
	uv_buf_t b = uv_buf_init(wr->data, (unsigned)out->len);
	int r = uv_write(&wr->req, (uv_stream_t *)&c->pipe, &b, 1, on_write);
	if (r < 0) {
		free(wr->data);
		free(wr);
		return r;
	}
	return 0;
}

static void client_send_error(struct ctl_client *c, const char *msg)
{
	struct wbuf out;
	wbuf_init(&out);
	put_error(&out, msg);
	if (client_send(c, &out) < 0)
		client_close(c);
}

/* Handles the complete lines in the buffer, one at a time, stopping while a reply waits in the
 * write queue (so a client that does not read cannot make us buffer without bound). */
static void client_process(struct ctl_client *c)
{
	while (!c->closing && !c->finishing && !c->paused) {
		char *nl = c->len ? memchr(c->buf, '\n', c->len) : NULL;
		if (!nl) {
			if (c->len > CTL_MAX_LINE) {
				char msg[80];
				snprintf(msg, sizeof(msg), "request line too long (limit %d bytes)",
					 CTL_MAX_LINE);
				log_rl_warnx(&c->ctl->rl, "ctl: client pid %d: request line too long",
					     (int)c->pid);
				client_send_error(c, msg);
				client_finish(c);
				return;
			}
			break;
		}
		size_t linelen = (size_t)(nl - c->buf);
		size_t l = linelen;
		if (l && c->buf[l - 1] == '\r')
			l--;
		size_t ws = 0;
		while (ws < l && (c->buf[ws] == ' ' || c->buf[ws] == '\t'))
			ws++;
		if (ws < l) {
			struct wbuf out;
			wbuf_init(&out);
			dispatch(c->ctl, c->buf, l, &out);
			if (c->closing || c->finishing) { /* the handler closed the ctl */
				wbuf_free(&out);
				return;
			}
			if (client_send(c, &out) < 0) {
				client_close(c);
				return;
			}
		}
		memmove(c->buf, c->buf + linelen + 1, c->len - linelen - 1);
		c->len -= linelen + 1;
		if (uv_stream_get_write_queue_size((uv_stream_t *)&c->pipe) > 0) {
			c->paused = true;
			uv_read_stop((uv_stream_t *)&c->pipe);
			c->reading = false;
			return;
		}
	}
	if (!c->closing && !c->finishing && !c->paused)
		client_read(c);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct ctl_client *c = h->data;
	(void)suggested;
	if (!c->buf)
		c->buf = malloc(CTL_MAX_LINE + 1);
	if (!c->buf || c->len >= CTL_MAX_LINE + 1) {
		*buf = uv_buf_init(NULL, 0);
		return;
	}
	*buf = uv_buf_init(c->buf + c->len, (unsigned)(CTL_MAX_LINE + 1 - c->len));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct ctl_client *c = s->data;
	(void)buf;
	if (nread == UV_ENOBUFS) {
		client_close(c);
		return;
	}
	if (nread < 0) {
		if (nread != UV_EOF)
			log_debug("ctl: client pid %d: read: %s", (int)c->pid,
				  uv_strerror((int)nread));
		client_close(c);
		return;
	}
	if (nread == 0)
		return;
	c->len += (size_t)nread;
	uv_timer_again(&c->timer);
	client_process(c);
}

static void client_read(struct ctl_client *c)
{
	if (c->reading)
		return;
	int r = uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read);
	if (r < 0) {
		log_warnx("ctl: read_start: %s", uv_strerror(r));
		client_close(c);
		return;
	}
	c->reading = true;
}

static void on_idle(uv_timer_t *t)
{
	struct ctl_client *c = t->data;
	log_debug("ctl: client pid %d idle for %d s, closing", (int)c->pid, CTL_IDLE_MS / 1000);
	client_close(c);
}

/* Is the peer allowed: root, our own uid, or a member of the socket's group? */
static bool peer_allowed(struct roam_ctl *ctl, int fd, pid_t *pid, uid_t *uid)
{
	struct ucred cred;
	socklen_t sl = sizeof(cred);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &sl) < 0 || sl != sizeof(cred)) {
		log_warn("ctl: SO_PEERCRED");
		return false;
	}
	*pid = cred.pid;
	*uid = cred.uid;
	if (cred.uid == 0 || cred.uid == ctl->euid || cred.gid == ctl->gid)
		return true;
	gid_t groups[256];
	sl = sizeof(groups);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &sl) == 0) {
		for (size_t i = 0; i < sl / sizeof(gid_t); i++)
			if (groups[i] == ctl->gid)
				return true;
	}
	return false;
}

static void on_connection(uv_stream_t *server, int status)
{
	struct roam_ctl *ctl = server->data;
	if (status < 0) {
		log_warnx("ctl: accept: %s", uv_strerror(status));
		return;
	}
	if (ctl->closing)
		return;
	struct ctl_client *c = calloc(1, sizeof(*c));
	if (!c) {
		/* libuv holds the pending connection and accepts no other until it is taken. */
		log_warnx("ctl: out of memory accepting a client");
		return;
	}
	c->ctl = ctl;
	uv_pipe_init(ctl->loop, &c->pipe, 0);
	uv_timer_init(ctl->loop, &c->timer);
	c->pipe.data = c;
	c->timer.data = c;
	c->handles = 2;
	c->next = ctl->clients;
	if (c->next)
		c->next->prev = c;
	ctl->clients = c;
	ctl->nclients++;
	ctl->refs++;
	int r = uv_accept(server, (uv_stream_t *)&c->pipe);
	if (r < 0) {
		log_warnx("ctl: accept: %s", uv_strerror(r));
		client_close(c);
		return;
	}
	uv_os_fd_t fd;
	if (uv_fileno((uv_handle_t *)&c->pipe, &fd) < 0 || !peer_allowed(ctl, fd, &c->pid, &c->uid)) {
		log_warnx("ctl: %s: connection from pid %d uid %u refused (not root, uid %u or a "
			  "member of group %u)", ctl->path, (int)c->pid, (unsigned)c->uid,
			  (unsigned)ctl->euid, (unsigned)ctl->gid);
		client_send_error(c, "permission denied");
		client_finish(c);
		return;
	}
	if (ctl->nclients > CTL_MAX_CLIENTS) {
		log_warnx("ctl: %s: too many clients (%d), refusing pid %d", ctl->path,
			  CTL_MAX_CLIENTS, (int)c->pid);
		client_send_error(c, "too many clients");
		client_finish(c);
		return;
	}
	log_debug("ctl: client pid %d uid %u connected", (int)c->pid, (unsigned)c->uid);
	uv_timer_start(&c->timer, on_idle, CTL_IDLE_MS, CTL_IDLE_MS);
	client_read(c);
}

/* ---------------------------------------------------------------- server */

/* Is somebody listening on the socket at path?  0: nobody (stale), 1: yes, <0: error. */
static int probe_socket(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	int r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	int e = errno;
	close(fd);
	if (r == 0 || e == EAGAIN || e == EINPROGRESS)
		return 1; /* accepted, or backlog full: alive either way */
	if (e == ECONNREFUSED || e == ENOENT)
		return 0;
	return -e;
}

static int make_parent(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = 0;
	struct stat st;
	if (stat(dir, &st) == 0)
		return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
	if (errno != ENOENT)
		return -errno;
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static void on_server_closed(uv_handle_t *h)
{
	ctl_unref(h->data);
}

int ctl_open(struct roam_ctl **out, uv_loop_t *loop, const char *path, unsigned mode)
{
	struct sockaddr_un sa;
	*out = NULL;
	if (!path || !*path)
		return -EINVAL;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_warnx("ctl: socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	if (mode == 0)
		mode = CTL_DEFAULT_MODE;
	int r = make_parent(path);
	if (r < 0) {
		log_warnx("ctl: cannot create the directory of %s: %s", path, strerror(-r));
		return r;
	}
	struct stat st;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			log_warnx("ctl: %s exists and is not a socket; not removing it", path);
			return -EEXIST;
		}
		r = probe_socket(path);
		if (r == 1) {
			log_warnx("ctl: %s: another daemon is answering on it", path);
			return -EADDRINUSE;
		}
		if (r < 0) {
			log_warnx("ctl: %s: cannot probe the existing socket: %s", path, strerror(-r));
			return r;
		}
		if (unlink(path) < 0 && errno != ENOENT) {
			r = -errno;
			log_warn("ctl: cannot remove stale socket %s", path);
			return r;
		}
		log_info("ctl: removed stale socket %s", path);
	}

	struct roam_ctl *ctl = calloc(1, sizeof(*ctl));
	if (!ctl)
		return -ENOMEM;
	ctl->path = strdup(path);
	if (!ctl->path) {
		free(ctl);
		return -ENOMEM;
	}
	ctl->loop = loop;
	ctl->euid = geteuid();
	ctl->refs = 1;
	r = ctl_register(ctl, "help", "list the commands with their help text", help_handler, ctl);
	if (r < 0) {
		ctl_unref(ctl);
		return r;
	}
	r = uv_pipe_init(loop, &ctl->server, 0);
	if (r < 0) {
		ctl_unref(ctl);
		return r;
	}
	ctl->server.data = ctl;
	const char *what = "bind";
	r = uv_pipe_bind(&ctl->server, path);
	if (r == 0) {
		what = "chmod";
		/* The socket briefly has the umask's mode between bind and chmod; the peer
		 * credential check covers that window. */
		if (chmod(path, mode) < 0 || stat(path, &st) < 0) {
			r = -errno;
		} else {
			ctl->dev = st.st_dev;
			ctl->ino = st.st_ino;
			ctl->gid = st.st_gid;
			what = "listen";
			r = uv_listen((uv_stream_t *)&ctl->server, 16, on_connection);
		}
		if (r < 0)
			unlink(path);
	}
	if (r < 0) {
		log_warnx("ctl: %s %s: %s", what, path, uv_strerror(r));
		ctl->closing = true;
		uv_close((uv_handle_t *)&ctl->server, on_server_closed);
		return r;
	}
	log_debug("ctl: listening on %s (mode %04o)", path, mode);
	*out = ctl;
	return 0;
}

int ctl_register(struct roam_ctl *ctl, const char *name, const char *help, ctl_handler_fn fn,
		 void *arg)
{
	if (!ctl || !name || !*name || strlen(name) > CTL_MAX_NAME || !fn)
		return -EINVAL;
	if (find_cmd(ctl, name))
		return -EEXIST;
	if (ctl->ncmds == ctl->capcmds) {
		size_t nc = ctl->capcmds ? ctl->capcmds * 2 : 16;
		struct ctl_cmd *n = realloc(ctl->cmds, nc * sizeof(*n));
		if (!n)
			return -ENOMEM;
		ctl->cmds = n;
		ctl->capcmds = nc;
	}
	struct ctl_cmd *c = &ctl->cmds[ctl->ncmds];
	memset(c, 0, sizeof(*c));
	c->help = strdup(help ? help : "");
	if (!c->help)
		return -ENOMEM;
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->fn = fn;
	c->arg = arg;
	ctl->ncmds++;
	qsort(ctl->cmds, ctl->ncmds, sizeof(*ctl->cmds), cmd_cmp);
	return 0;
}

void ctl_close(struct roam_ctl *ctl)
{
	if (!ctl || ctl->closing)
		return;
	ctl->closing = true;
	struct stat st;
	if (stat(ctl->path, &st) == 0 && st.st_dev == ctl->dev && st.st_ino == ctl->ino &&
	    unlink(ctl->path) < 0)
		log_debug("ctl: cannot remove %s: %s", ctl->path, strerror(errno));
	for (struct ctl_client *c = ctl->clients; c; c = c->next)
		client_close(c);
	uv_close((uv_handle_t *)&ctl->server, on_server_closed);
}

const char *ctl_path(const struct roam_ctl *ctl)
{
	return ctl->path;
}

unsigned ctl_nclients(const struct roam_ctl *ctl)
{
	return ctl->nclients;
}

/* ---------------------------------------------------------------- argument helpers */

int ctl_arg_str(const struct json_value *args, const char *key, const char *def, const char **out,
		char *err, size_t errlen)
{
	const struct json_value *v = json_get(args, key);
	if (!v || v->type == JSON_NULL) {
		if (!def) {
			snprintf(err, errlen, "missing argument '%s'", key);
			return -ENOENT;
		}
		*out = def;
		return 0;
	}
	if (v->type == JSON_STRING || v->type == JSON_NUMBER) {
		*out = v->str;
		return 0;
	}
	snprintf(err, errlen, "argument '%s' must be a string, not %s", key,
		 json_type_name(v->type));
	return -EINVAL;
}

static int arg_int(const struct json_value *v, const char *key, int64_t min, int64_t max,
		   int64_t *out, char *err, size_t errlen)
{
	int64_t x;
	if (v->type == JSON_NUMBER && v->is_int) {
		x = v->integer;
	} else if (v->type == JSON_STRING && v->str_len > 0) {
		char *end;
		errno = 0;
		long long ll = strtoll(v->str, &end, 10);
		if (*end || errno) {
			snprintf(err, errlen, "argument '%s' must be an integer", key);
			return -EINVAL;
		}
		x = ll;
	} else {
		snprintf(err, errlen, "argument '%s' must be an integer", key);
		return -EINVAL;
	}
	if (x < min || x > max) {
		snprintf(err, errlen, "argument '%s' out of range (%" PRId64 "-%" PRId64 ")", key,
			 min, max);
		return -ERANGE;
	}
	*out = x;
	return 0;
}

int ctl_arg_int(const struct json_value *args, const char *key, int64_t def, int64_t min,
		int64_t max, int64_t *out, char *err, size_t errlen)
{
	const struct json_value *v = json_get(args, key);
	if (!v || v->type == JSON_NULL) {
		*out = def;
		return 0;
	}
	return arg_int(v, key, min, max, out, err, errlen);
}

int ctl_arg_int_req(const struct json_value *args, const char *key, int64_t min, int64_t max,
		    int64_t *out, char *err, size_t errlen)
{
	const struct json_value *v = json_get(args, key);
	if (!v || v->type == JSON_NULL) {
		snprintf(err, errlen, "missing argument '%s'", key);
		return -ENOENT;
	}
	return arg_int(v, key, min, max, out, err, errlen);
}

int ctl_arg_bool(const struct json_value *args, const char *key, bool def, bool *out, char *err,
		 size_t errlen)
{
	const struct json_value *v = json_get(args, key);
	if (!v || v->type == JSON_NULL) {
		*out = def;
		return 0;
	}
	if (v->type == JSON_BOOL) {
		*out = v->boolean;
		return 0;
	}
	if (v->type == JSON_NUMBER && v->is_int && (v->integer == 0 || v->integer == 1)) {
		*out = v->integer == 1;
		return 0;
	}
	if (v->type == JSON_STRING) {
		static const char *const yes[] = { "true", "yes", "on", "1" };
		static const char *const no[] = { "false", "no", "off", "0" };
		for (size_t i = 0; i < 4; i++) {
			if (strcasecmp(v->str, yes[i]) == 0) {
				*out = true;
				return 0;
			}
			if (strcasecmp(v->str, no[i]) == 0) {
				*out = false;
				return 0;
			}
		}
	}
	snprintf(err, errlen, "argument '%s' must be true or false", key);
	return -EINVAL;
}

/* ---------------------------------------------------------------- client */

static int remaining_ms(uint64_t deadline)
{
	uint64_t now = roam_mono_ms();
	return now >= deadline ? 0 : (int)(deadline - now);
}

static int wait_fd(int fd, short events, uint64_t deadline)
{
	for (;;) {
		int ms = remaining_ms(deadline);
		if (ms == 0)
			return -ETIMEDOUT;
		struct pollfd pfd = { .fd = fd, .events = events };
		int r = poll(&pfd, 1, ms);
		if (r > 0)
			return 0;
		if (r == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

int ctl_call(const char *path, const char *request_json, char **reply_out, int timeout_ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	*reply_out = NULL;
	if (!path || !request_json)
		return -EINVAL;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	size_t reqlen = strlen(request_json);
	const char *nl = memchr(request_json, '\n', reqlen);
	if (nl && nl != request_json + reqlen - 1)
		return -EINVAL;
	if (timeout_ms <= 0)
		timeout_ms = 5000;
	uint64_t deadline = roam_mono_ms() + (uint64_t)timeout_ms;
	memcpy(sa.sun_path, path, strlen(path) + 1);

	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* A Unix stream connect blocks only while the listen backlog is full; SO_SNDTIMEO
	 * bounds that wait. */
	struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	int r;
	while ((r = connect(fd, (struct sockaddr *)&sa, sizeof(sa))) < 0 && errno == EINTR)
		;
	if (r < 0) {
		r = (errno == EAGAIN || errno == EINPROGRESS) ? -ETIMEDOUT : -errno;
		close(fd);
		return r;
	}

	/* Send the request (and a newline if it has none). */
	struct wbuf req;
	wbuf_init(&req);
	wbuf_put_bytes(&req, request_json, reqlen);
	if (!nl)
		wbuf_put_u8(&req, '\n');
	if (req.err) {
		close(fd);
		wbuf_free(&req);
		return -ENOMEM;
	}
	size_t off = 0;
	while (off < req.len) {
		r = wait_fd(fd, POLLOUT, deadline);
		if (r < 0)
			goto out;
		ssize_t n = send(fd, req.buf + off, req.len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			if (errno == EPIPE || errno == ECONNRESET)
				break; /* the server may have replied (refusal) before closing */
			r = -errno;
			goto out;
		}
		off += (size_t)n;
	}

	/* Read one reply line. */
	struct wbuf rep;
	wbuf_init(&rep);
	for (;;) {
		r = wait_fd(fd, POLLIN, deadline);
		if (r < 0)
			break;
		char tmp[16384];
		ssize_t n = recv(fd, tmp, sizeof(tmp), MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			r = -errno;
			break;
		}
		if (n == 0) {
			r = -ECONNRESET;
			break;
		}
		char *e = memchr(tmp, '\n', (size_t)n);
		size_t take = e ? (size_t)(e - tmp) : (size_t)n;
		if (rep.len + take > CTL_MAX_REPLY) {
			r = -EMSGSIZE;
			break;
		}
		wbuf_put_bytes(&rep, tmp, take);
		if (rep.err) {
			r = -ENOMEM;
			break;
		}
		if (e) {
			wbuf_put_u8(&rep, 0);
			if (rep.err) {
				r = -ENOMEM;
				break;
			}
			*reply_out = (char *)rep.buf; /* transferred to the caller */
			r = 0;
			goto out;
		}
	}
	wbuf_free(&rep);
out:
	wbuf_free(&req);
	close(fd);
	return r;
}
