/* Daemon lifecycle: command line, pidfile, detaching, signals, standard control commands,
 * privilege drop (see roam/daemon.h). */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "roam/clock.h"
#include "roam/daemon.h"
#include "roam/log.h"

/* ---------------------------------------------------------------- command line */

void roam_args_usage(void *f, const char *name)
{
	fprintf((FILE *)f,
		"usage: %s [-dfhtV] [-c FILE] [-p PIDFILE]\n"
		"  -c FILE     configuration file (default %s/%s.yaml)\n"
		"  -f          stay in the foreground, log to stderr\n"
		"  -t          check the configuration and exit (0 valid, 1 invalid)\n"
		"  -p PIDFILE  pid file (default %s/%s.pid)\n"
		"  -d          debug logging\n"
		"  -h          this help\n"
		"  -V          print the version\n",
		name, ROAM_CONF_DIR, name, ROAM_RUN_DIR, name);
}

static int args_error(const char *name, const char *fmt, const char *what)
{
	fprintf(stderr, "%s: ", name);
	fprintf(stderr, fmt, what);
	fputc('\n', stderr);
	roam_args_usage(stderr, name);
	return -EINVAL;
}

static void print_version(const char *name)
{
	printf("%s (roam) %s\n", name, ROAM_VERSION);
}

int roam_args_parse(struct roam_args *a, const char *name, int argc, char *const argv[])
{
	memset(a, 0, sizeof(*a));
	snprintf(a->name, sizeof(a->name), "%s", name);
	snprintf(a->config, sizeof(a->config), "%s/%s.yaml", ROAM_CONF_DIR, a->name);
	snprintf(a->pidfile, sizeof(a->pidfile), "%s/%s.pid", ROAM_RUN_DIR, a->name);
	bool opts_done = false;
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		if (opts_done || arg[0] != '-' || arg[1] == 0)
			return args_error(a->name, "unexpected argument '%s'", arg);
		if (arg[1] == '-') {
			if (arg[2] == 0) {
				opts_done = true;
				continue;
			}
			if (strcmp(arg, "--help") == 0) {
				roam_args_usage(stdout, a->name);
				return ROAM_ARGS_EXIT;
			}
			if (strcmp(arg, "--version") == 0) {
				print_version(a->name);
				return ROAM_ARGS_EXIT;
			}
			return args_error(a->name, "unknown option '%s'", arg);
		}
		for (int j = 1; arg[j]; j++) {
			char opt[3] = { '-', arg[j], 0 };
			switch (arg[j]) {
			case 'f':
				a->foreground = true;
				break;
			case 't':
				a->check_only = true;
				break;
			case 'd':
				a->debug = true;
				break;
			case 'h':
				roam_args_usage(stdout, a->name);
				return ROAM_ARGS_EXIT;
			case 'V':
				print_version(a->name);
				return ROAM_ARGS_EXIT;
			case 'c':
			case 'p': {
				const char *val;
				if (arg[j + 1])
					val = &arg[j + 1];
				else if (i + 1 < argc)
					val = argv[++i];
				else
					return args_error(a->name, "option %s needs an argument", opt);
				if (!*val)
					return args_error(a->name, "option %s: empty argument", opt);
				char *dst = arg[j] == 'c' ? a->config : a->pidfile;
				if (strlen(val) >= ROAM_PATH_MAX)
					return args_error(a->name, "option %s: path too long", opt);
				snprintf(dst, ROAM_PATH_MAX, "%s", val);
				goto next;
			}
			default:
				return args_error(a->name, "unknown option '%s'", opt);
			}
		}
next:;
	}
	return ROAM_ARGS_RUN;
}

/* ---------------------------------------------------------------- pidfile */

static int make_parent_dir(const char *path)
{
	char dir[ROAM_PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = 0;
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static pid_t read_pid(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	long v = strtol(buf, NULL, 10);
	return v > 0 && v < 0x7fffffff ? (pid_t)v : 0;
}

int roam_pidfile_open(struct roam_pidfile *pf, const char *path, pid_t *holder)
{
	pf->fd = -1;
	if (holder)
		*holder = 0;
	if (!path || !*path)
		return -EINVAL;
	if (strlen(path) >= sizeof(pf->path))
		return -ENAMETOOLONG;
	snprintf(pf->path, sizeof(pf->path), "%s", path);
	int r = make_parent_dir(path);
	if (r < 0)
		return r;
	/* Lock, then make sure the locked file is still the one at path: an exiting instance may
	 * have removed it between our open and our lock. */
	for (int tries = 0; tries < 10; tries++) {
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (fd < 0)
			return -errno;
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			int e = errno;
			if (e == EWOULDBLOCK && holder)
				*holder = read_pid(fd);
			close(fd);
			return e == EWOULDBLOCK ? -EEXIST : -e;
		}
		struct stat a, b;
		if (fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
		    a.st_ino == b.st_ino) {
			pf->fd = fd;
			return 0;
		}
		close(fd);
	}
	return -EAGAIN;
}

int roam_pidfile_write(struct roam_pidfile *pf, pid_t pid)
{
	if (pf->fd < 0)
		return -EBADF;
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%d\n", (int)pid);
	if (ftruncate(pf->fd, 0) < 0)
		return -errno;
	ssize_t w = pwrite(pf->fd, buf, (size_t)n, 0);
	if (w < 0)
		return -errno;
	if (w != n)
		return -EIO;
	return 0;
}

void roam_pidfile_remove(struct roam_pidfile *pf)
{
	if (pf->fd < 0)
		return;
	struct stat a, b;
	if (fstat(pf->fd, &a) == 0 && stat(pf->path, &b) == 0 && a.st_dev == b.st_dev &&
	    a.st_ino == b.st_ino && unlink(pf->path) < 0) {
		/* After a privilege drop the run directory may not be ours: leave an empty,
		 * unlocked file, which the next start reuses. */
		log_debug("cannot remove pidfile %s: %s", pf->path, strerror(errno));
		if (ftruncate(pf->fd, 0) < 0)
			log_debug("cannot truncate pidfile %s: %s", pf->path, strerror(errno));
	}
	close(pf->fd);
	pf->fd = -1;
}

/* ---------------------------------------------------------------- lifecycle */

struct roam_daemon {
	uv_loop_t *loop;
	struct roam_args args;
	const char *ident;        /* the caller's args->name (borrowed) */
	struct roam_daemon_ops ops;
	struct roam_pidfile pf;
	uv_signal_t sig[3];       /* SIGHUP, SIGTERM, SIGINT */
	int nsig;                 /* initialised watchers not yet closed */
	int ready_fd;             /* pipe to the waiting parent, -1 */
	uint64_t start_mono, start_wall;
	bool stopping, closing, ready;
	unsigned reloads;         /* attempts */
	uint64_t reload_wall;     /* time of the last attempt (wall ms), 0 if none */
	int reload_rc;
	char reload_err[256];
};

static const int sig_nums[3] = { SIGHUP, SIGTERM, SIGINT };

/* Makes a relative path absolute (before chdir("/")). */
static void absolutize(char *path, size_t size)
{
	if (path[0] == '/')
		return;
	char cwd[ROAM_PATH_MAX];
	if (!getcwd(cwd, sizeof(cwd)))
		return;
	char tmp[ROAM_PATH_MAX];
	int n = snprintf(tmp, sizeof(tmp), "%s/%s", cwd, path);
	if (n > 0 && (size_t)n < sizeof(tmp) && (size_t)n < size)
		memcpy(path, tmp, (size_t)n + 1);
}

static void on_signal(uv_signal_t *h, int signum)
{
	struct roam_daemon *d = h->data;
	if (signum == SIGHUP) {
		char err[256];
		log_info("SIGHUP: reloading %s", d->args.config);
		roam_daemon_reload(d, err, sizeof(err));
		return;
	}
	if (d->stopping) {
		log_info("%s received again, already shutting down", strsignal(signum));
		return;
	}
	log_info("%s received, shutting down", strsignal(signum));
	roam_daemon_shutdown(d);
}

static void on_sig_closed(uv_handle_t *h)
{
	struct roam_daemon *d = h->data;
	if (--d->nsig == 0)
		free(d);
}

/* Double fork + setsid.  Only the grandchild returns (0); the original process waits on the
 * pipe for roam_daemon_ready() and exits. */
static int detach(struct roam_daemon *d)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(p[0]);
		close(p[1]);
		return -e;
	}
	if (pid > 0) {
		close(p[1]);
		waitpid(pid, NULL, 0); /* the intermediate child exits at once */
		char c;
		ssize_t n;
		while ((n = read(p[0], &c, 1)) < 0 && errno == EINTR)
			;
		if (n == 1)
			_exit(0);
		fprintf(stderr, "%s: start-up failed\n", d->ident);
		_exit(1);
	}
	close(p[0]);
	if (setsid() < 0)
		_exit(1);
	pid = fork();
	if (pid < 0)
		_exit(1);
	if (pid > 0)
		_exit(0);
	if (chdir("/") < 0)
		log_warn("chdir /");
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		if (null > STDERR_FILENO)
			close(null);
	}
	d->ready_fd = p[1];
	int r = uv_loop_fork(d->loop);
	if (r < 0)
		log_warnx("uv_loop_fork: %s", uv_strerror(r));
	return 0;
}

int roam_daemon_start(struct roam_daemon **out, uv_loop_t *loop, const struct roam_args *args,
		      const struct roam_daemon_ops *ops)
{
	*out = NULL;
	struct roam_daemon *d = calloc(1, sizeof(*d));
	if (!d) {
		log_warnx("out of memory");
		return -ENOMEM;
	}
	d->loop = loop;
	d->args = *args;
	d->ident = args->name;
	d->ops = *ops;
	d->ready_fd = -1;
	d->pf.fd = -1;
	if (!d->args.foreground) {
		absolutize(d->args.config, sizeof(d->args.config));
		absolutize(d->args.pidfile, sizeof(d->args.pidfile));
	}
	if (d->args.debug)
		log_setlevel(LOG_LVL_DEBUG);

	pid_t holder;
	int r = roam_pidfile_open(&d->pf, d->args.pidfile, &holder);
	if (r == -EEXIST) {
		if (holder)
			log_warnx("already running (pid %d holds %s)", (int)holder, d->args.pidfile);
		else
			log_warnx("already running (%s is locked)", d->args.pidfile);
		free(d);
		return r;
	}
	if (r < 0) {
		log_warnx("pidfile %s: %s", d->args.pidfile, strerror(-r));
		free(d);
		return r;
	}
	if (!d->args.foreground) {
		r = detach(d);
		if (r < 0) {
			log_warnx("cannot detach: %s", strerror(-r));
			roam_pidfile_remove(&d->pf);
			free(d);
			return r;
		}
	}
	r = roam_pidfile_write(&d->pf, getpid());
	if (r < 0)
		log_warnx("cannot write pidfile %s: %s", d->args.pidfile, strerror(-r));

	signal(SIGPIPE, SIG_IGN);
	for (int i = 0; i < 3; i++) {
		r = uv_signal_init(loop, &d->sig[i]);
		if (r == 0) {
			d->sig[i].data = d;
			d->nsig++;
			r = uv_signal_start(&d->sig[i], on_signal, sig_nums[i]);
		}
		if (r < 0) {
			log_warnx("signal watcher: %s", uv_strerror(r));
			roam_daemon_close(d); /* frees d, now or in the close callbacks */
			return r;
		}
	}
	d->start_mono = roam_mono_ms();
	d->start_wall = roam_wall_ms();
	log_info("%s %s starting (pid %d, config %s)", d->ident, ROAM_VERSION, (int)getpid(),
		 d->args.config);
	*out = d;
	return 0;
}

void roam_daemon_ready(struct roam_daemon *d)
{
	if (!d || d->ready)
		return;
	d->ready = true;
	if (d->ready_fd >= 0) {
		char c = 'R';
		if (write(d->ready_fd, &c, 1) != 1)
			log_warn("ready pipe");
		close(d->ready_fd);
		d->ready_fd = -1;
	}
	if (!d->args.foreground) {
		log_init(d->ident, 0, log_getlevel());
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (null >= 0) {
			dup2(null, STDERR_FILENO);
			if (null > STDERR_FILENO)
				close(null);
		}
	}
	log_info("ready");
}

int roam_daemon_reload(struct roam_daemon *d, char *err, size_t errlen)
{
	int r;
	err[0] = 0;
	if (!d->ops.reload) {
		snprintf(err, errlen, "reload not supported");
		r = -ENOTSUP;
	} else {
		r = d->ops.reload(d->ops.arg, d->args.config, err, errlen);
		if (r < 0 && !err[0])
			snprintf(err, errlen, "%s", strerror(-r));
	}
	d->reloads++;
	d->reload_wall = roam_wall_ms();
	d->reload_rc = r;
	snprintf(d->reload_err, sizeof(d->reload_err), "%s", r < 0 ? err : "");
	if (r < 0)
		log_warnx("reload of %s failed, keeping the running configuration: %s",
			  d->args.config, err);
	else
		log_info("configuration reloaded from %s", d->args.config);
	return r;
}

void roam_daemon_shutdown(struct roam_daemon *d)
{
	if (d->stopping)
		return;
	d->stopping = true;
	/* The watchers stay active (a second signal is only logged) but no longer keep the loop
	 * alive: uv_run() returns once the daemon has closed its own handles. */
	for (int i = 0; i < 3; i++)
		if (!d->closing)
			uv_unref((uv_handle_t *)&d->sig[i]);
	if (d->ops.shutdown)
		d->ops.shutdown(d->ops.arg);
}

bool roam_daemon_stopping(const struct roam_daemon *d)
{
	return d->stopping;
}

void roam_daemon_close(struct roam_daemon *d)
{
	if (!d || d->closing)
		return;
	d->closing = true;
	roam_pidfile_remove(&d->pf);
	if (d->ready_fd >= 0) {
		close(d->ready_fd); /* never got ready: the waiting parent exits 1 */
		d->ready_fd = -1;
	}
	int n = d->nsig;
	for (int i = 0; i < n; i++)
		uv_close((uv_handle_t *)&d->sig[i], on_sig_closed);
	if (n == 0)
		free(d);
}

/* ---------------------------------------------------------------- control commands */

static void put_time(struct json_writer *w, const char *key, uint64_t wall_ms)
{
	time_t t = (time_t)(wall_ms / 1000);
	struct tm tm;
	char buf[40];
	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_kv_str(w, key, buf);
}

static const char *level_name(enum log_level l)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	return (unsigned)l < 4 ? names[l] : "?";
}

static int cmd_status(void *arg, const struct json_value *args, struct json_writer *w, char *err,
		      size_t errlen)
{
	struct roam_daemon *d = arg;
	(void)args, (void)err, (void)errlen;
	json_obj_begin(w);
	json_kv_str(w, "daemon", d->ident);
	json_kv_str(w, "version", ROAM_VERSION);
	json_kv_int(w, "pid", getpid());
	json_kv_uint(w, "uptime_s", (roam_mono_ms() - d->start_mono) / 1000);
	put_time(w, "started", d->start_wall);
	json_kv_str(w, "config", d->args.config);
	json_kv_str(w, "pidfile", d->args.pidfile);
	json_kv_str(w, "log_level", level_name(log_getlevel()));
	json_kv_str(w, "state", d->stopping ? "stopping" : "running");
	json_kv_uint(w, "reloads", d->reloads);
	json_key(w, "last_reload");
	if (d->reloads == 0) {
		json_null(w);
	} else {
		json_obj_begin(w);
		put_time(w, "time", d->reload_wall);
		json_kv_bool(w, "ok", d->reload_rc == 0);
		if (d->reload_rc < 0)
			json_kv_str(w, "error", d->reload_err);
		json_obj_end(w);
	}
	if (d->ops.status)
		d->ops.status(d->ops.arg, w);
	json_obj_end(w);
	return 0;
}

static int cmd_reload(void *arg, const struct json_value *args, struct json_writer *w, char *err,
		      size_t errlen)
{
	struct roam_daemon *d = arg;
	(void)args;
	char why[200];
	int r = roam_daemon_reload(d, why, sizeof(why));
	if (r < 0) {
		snprintf(err, errlen, "reload failed, keeping the running configuration: %s", why);
		return r;
	}
	json_obj_begin(w);
	json_kv_bool(w, "reloaded", true);
	json_kv_str(w, "config", d->args.config);
	json_obj_end(w);
	return 0;
}

static int cmd_log_level(void *arg, const struct json_value *args, struct json_writer *w,
			 char *err, size_t errlen)
{
	(void)arg;
	const char *lvl;
	int r = ctl_arg_str(args, "level", "", &lvl, err, errlen);
	if (r < 0)
		return r;
	enum log_level prev = log_getlevel();
	if (*lvl) {
		int l = log_level_parse(lvl);
		if (l < 0) {
			snprintf(err, errlen, "unknown level '%s' (error, warning, info, debug)",
				 lvl);
			return -EINVAL;
		}
		log_setlevel((enum log_level)l);
		if ((enum log_level)l != prev)
			log_info("log level changed from %s to %s", level_name(prev),
				 level_name((enum log_level)l));
	}
	json_obj_begin(w);
	json_kv_str(w, "level", level_name(log_getlevel()));
	if (*lvl)
		json_kv_str(w, "previous", level_name(prev));
	json_obj_end(w);
	return 0;
}

int roam_daemon_register_ctl(struct roam_daemon *d, struct roam_ctl *ctl)
{
	int r = ctl_register(ctl, "status", "daemon name, version, pid, uptime, config, last reload",
			     cmd_status, d);
	if (r == 0)
		r = ctl_register(ctl, "reload", "reload the configuration file (as SIGHUP)",
				 cmd_reload, d);
	if (r == 0)
		r = ctl_register(ctl, "log-level",
				 "show the log level, or set it: level=error|warning|info|debug",
				 cmd_log_level, d);
	return r;
}

/* ---------------------------------------------------------------- privileges */

int roam_daemon_drop_privs(const char *user, uint64_t keep_caps)
{
	if (!user || !*user)
		user = "roam";
	if (geteuid() != 0) {
		log_debug("not running as root: no privileges to drop");
		return 0;
	}
	struct passwd pw, *res = NULL;
	char buf[4096];
	int r = getpwnam_r(user, &pw, buf, sizeof(buf), &res);
	if (r != 0 || !res) {
		log_warnx("user '%s' does not exist; staying root", user);
		return 0;
	}
	if (pw.pw_uid == 0) {
		log_debug("user '%s' is root: no privileges to drop", user);
		return 0;
	}
	if (prctl(PR_SET_KEEPCAPS, 1L, 0L, 0L, 0L) < 0) {
		r = -errno;
		log_warn("prctl(PR_SET_KEEPCAPS)");
		return r;
	}
	if (initgroups(user, pw.pw_gid) < 0 && setgroups(1, &pw.pw_gid) < 0) {
		r = -errno;
		log_warn("setgroups");
		return r;
	}
	if (setresgid(pw.pw_gid, pw.pw_gid, pw.pw_gid) < 0) {
		r = -errno;
		log_warn("setresgid(%u)", (unsigned)pw.pw_gid);
		return r;
	}
	if (setresuid(pw.pw_uid, pw.pw_uid, pw.pw_uid) < 0) {
		r = -errno;
		log_warn("setresuid(%u)", (unsigned)pw.pw_uid);
		return r;
	}
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	memset(data, 0, sizeof(data));
	data[0].permitted = data[0].effective = (uint32_t)keep_caps;
	data[1].permitted = data[1].effective = (uint32_t)(keep_caps >> 32);
	if (syscall(SYS_capset, &hdr, data) < 0) {
		r = -errno;
		log_warn("capset");
		return r;
	}
	if (prctl(PR_SET_KEEPCAPS, 0L, 0L, 0L, 0L) < 0)
		log_warn("prctl(PR_SET_KEEPCAPS, 0)");
	/* Paranoia: getting root back must be impossible now. */
	if (setuid(0) == 0) {
		log_warnx("privilege drop failed: could regain root");
		return -EPERM;
	}
	log_info("running as user %s (uid %u, gid %u), capabilities 0x%llx", user,
		 (unsigned)pw.pw_uid, (unsigned)pw.pw_gid, (unsigned long long)keep_caps);
	return 0;
}

/* ---- roam_daemon_main ---- */

/* The lifecycle's callbacks while roam_daemon_main runs a daemon: the daemon's own, plus the
 * control socket, which roam_daemon_main owns. */
struct daemon_main {
	const struct roam_daemon_desc *desc;
	struct roam_ctl *ctl;
};

static int main_reload(void *arg, const char *config, char *err, size_t errlen)
{
	struct daemon_main *m = arg;
	return m->desc->ops.reload(m->desc->ops.arg, config, err, errlen);
}

static void main_shutdown(void *arg)
{
	struct daemon_main *m = arg;
	if (m->desc->ops.shutdown)
		m->desc->ops.shutdown(m->desc->ops.arg);
	ctl_close(m->ctl);
	m->ctl = NULL;
}

static void main_status(void *arg, struct json_writer *w)
{
	struct daemon_main *m = arg;
	m->desc->ops.status(m->desc->ops.arg, w);
}

int roam_daemon_main(int argc, char **argv, const struct roam_daemon_desc *desc)
{
	struct roam_args args;
	void *arg = desc->ops.arg;
	int r = roam_args_parse(&args, desc->name, argc, argv);
	if (r != ROAM_ARGS_RUN)
		return r == ROAM_ARGS_EXIT ? 0 : 2;
	log_init(desc->name, 1, args.debug ? LOG_LVL_DEBUG : LOG_LVL_INFO);
	if (desc->load(arg, &args) < 0) {
		if (desc->cleanup)
			desc->cleanup(arg);
		return 1;
	}
	if (args.check_only) {
		if (desc->cleanup)
			desc->cleanup(arg);
		return 0;
	}

	uv_loop_t loop;
	if ((r = uv_loop_init(&loop)) < 0) {
		log_warnx("cannot initialise the event loop: %s", uv_strerror(r));
		if (desc->cleanup)
			desc->cleanup(arg);
		return 1;
	}
	struct daemon_main m = { .desc = desc };
	struct roam_daemon_ops ops = {
		.reload = desc->ops.reload ? main_reload : NULL,
		.shutdown = main_shutdown,
		.status = desc->ops.status ? main_status : NULL,
		.arg = &m,
	};
	struct roam_daemon *d;
	if (roam_daemon_start(&d, &loop, &args, &ops) < 0) {
		uv_run(&loop, UV_RUN_NOWAIT);
		uv_loop_close(&loop);
		if (desc->cleanup)
			desc->cleanup(arg);
		return 1;
	}
	int rc = 1;
	if (desc->setup && desc->setup(arg, &loop, d) < 0)
		goto out;
	const char *path = desc->ctl_path(arg);
	if ((r = ctl_open(&m.ctl, &loop, path, 0)) < 0) {
		log_warnx("control socket %s: %s", path, strerror(-r));
		goto out;
	}
	if (roam_daemon_register_ctl(d, m.ctl) < 0 ||
	    (desc->ctl_register && desc->ctl_register(arg, m.ctl) < 0)) {
		log_warnx("cannot register the control commands");
		goto out;
	}
	const char *user = desc->user ? desc->user(arg) : NULL;
	if (user && *user && roam_daemon_drop_privs(user, desc->keep_caps) < 0)
		goto out;
	roam_daemon_ready(d);
	uv_run(&loop, UV_RUN_DEFAULT);
	rc = 0;
out:
	if (rc != 0)
		roam_daemon_shutdown(d);
	roam_daemon_close(d);
	uv_run(&loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&loop) != 0)
		log_warnx("event loop closed with handles still open");
	if (desc->cleanup)
		desc->cleanup(arg);
	return rc;
}
