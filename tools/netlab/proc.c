/* Processes: starting a service's command inside its namespaces (network namespace by setns, a
 * private mount namespace with /sys remounted, the volumes bound and a private /run/roam), and
 * stopping them again by pid + start time so a reused pid is never killed. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "roam/clock.h"
#include "netlab.h"

extern char **environ;

/* Reads /proc/PID/stat: start time (field 22) and state (field 3).  0 if there is no such pid. */
static unsigned long long stat_read(pid_t pid, char *state)
{
	char path[64], buf[1024];
	int fd;
	ssize_t n;
	const char *p;
	unsigned long long start = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* comm may hold spaces and parentheses: fields resume after the last ')'. */
	if ((p = strrchr(buf, ')')) == NULL)
		return 0;
	p++;
	for (int field = 3; field <= 22; field++) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			return 0;
		if (field == 3 && state)
			*state = *p;
		if (field == 22)
			start = strtoull(p, NULL, 10);
		while (*p && *p != ' ')
			p++;
	}
	return start;
}

unsigned long long proc_starttime(pid_t pid)
{
	return stat_read(pid, NULL);
}

int proc_same(pid_t pid, unsigned long long start)
{
	char st = '?';
	unsigned long long s = stat_read(pid, &st);
	return s != 0 && s == start && st != 'Z' && st != 'X';
}

/* ---- the child's side ---- */

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
	va_list ap;
	size_t l;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	l = strlen(err);
	if (code)
		snprintf(err + l, errlen - l, ": %s", strerror(code));
	return code ? -code : -EINVAL;
}

static int bind_one(const char *src, const char *dst, bool ro, char *err, size_t errlen)
{
	if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL) < 0)
		return fail(err, errlen, errno, "bind %s on %s", src, dst);
	if (ro && mount(NULL, dst, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) < 0)
		return fail(err, errlen, errno, "read-only %s", dst);
	return 0;
}

/* Everything but exec: namespaces, mounts, environment, stdio. */
static int child_setup(const struct nl_spawn *sp, char *err, size_t errlen)
{
	if (sp->ns != NULL) {
		char path[512];
		int fd;
		snprintf(path, sizeof(path), "/run/netns/%s", sp->ns);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			return fail(err, errlen, errno, "namespace %s", sp->ns);
		if (setns(fd, CLONE_NEWNET) < 0)
			return fail(err, errlen, errno, "setns %s", sp->ns);
		close(fd);
	}
	if (sp->mountns) {
		if (unshare(CLONE_NEWNS) < 0)
			return fail(err, errlen, errno, "unshare mount namespace");
		/* Nothing mounted here leaks back to the host. */
		if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
			return fail(err, errlen, errno, "make / a slave mount");
		/* /sys shows the interfaces of the namespace that mounts it (as `ip netns exec`). */
		if (umount2("/sys", MNT_DETACH) == 0)
			(void)mount("sysfs", "/sys", "sysfs", 0, NULL);
		if (sp->runroam != NULL) {
			int rc = bind_one(sp->runroam, "/run/roam", false, err, errlen);
			if (rc < 0)
				return rc;
		}
		for (size_t i = 0; i < sp->nvols; i++) {
			int rc = bind_one(sp->vols[i].src, sp->vols[i].dst, sp->vols[i].ro, err, errlen);
			if (rc < 0)
				return rc;
		}
	}
	if (sp->bin != NULL && sp->bin[0]) {
		const char *old = getenv("PATH");
		char *np;
		if (asprintf(&np, "%s:%s", sp->bin, old && old[0] ? old :
			     "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin") < 0)
			return fail(err, errlen, ENOMEM, "PATH");
		setenv("PATH", np, 1);
		setenv("ROAM_BIN", sp->bin, 1);
		free(np);
	}
	for (const char *const *e = sp->env; e && *e; e++) {
		const char *eq = strchr(*e, '=');
		char k[256];
		if (eq == NULL || (size_t)(eq - *e) >= sizeof(k))
			continue;
		snprintf(k, sizeof(k), "%.*s", (int)(eq - *e), *e);
		setenv(k, eq + 1, 1);
	}
	if (sp->workdir && chdir(sp->workdir) < 0)
		return fail(err, errlen, errno, "chdir %s", sp->workdir);
	if (sp->log != NULL) {
		int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
		int out = open(sp->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (in < 0 || out < 0)
			return fail(err, errlen, errno, "open %s", sp->log);
		if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
			return fail(err, errlen, errno, "dup2");
		close(in);
		close(out);
	}
	if (sp->newsession && setsid() < 0)
		return fail(err, errlen, errno, "setsid");
	return 0;
}

int proc_exec_here(const struct nl_spawn *sp, char *err, size_t errlen)
{
	int rc = child_setup(sp, err, errlen);
	if (rc < 0)
		return rc;
	execvp(sp->argv[0], (char *const *)sp->argv);
	return fail(err, errlen, errno, "exec %s", sp->argv[0]);
}

static ssize_t read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = read(fd, (char *)buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

int proc_spawn(const struct nl_spawn *sp, int (*record)(void *arg, pid_t pid,
		unsigned long long start), void *arg, pid_t *pidp, char *err, size_t errlen)
{
	int gate[2], rep[2];
	pid_t pid;
	char msg[512];
	ssize_t n;
	int rc;

	if (pipe2(gate, O_CLOEXEC) < 0)
		return fail(err, errlen, errno, "pipe");
	if (pipe2(rep, O_CLOEXEC) < 0) {
		rc = errno;
		close(gate[0]);
		close(gate[1]);
		return fail(err, errlen, rc, "pipe");
	}
	pid = fork();
	if (pid < 0) {
		rc = errno;
		close(gate[0]);
		close(gate[1]);
		close(rep[0]);
		close(rep[1]);
		return fail(err, errlen, rc, "fork");
	}
	if (pid == 0) {
		char c, cerr[480];
		close(gate[1]);
		close(rep[0]);
		signal(SIGPIPE, SIG_DFL);
		/* Wait until the parent has recorded us; EOF means it died first. */
		if (read_full(gate[0], &c, 1) != 1)
			_exit(1);
		close(gate[0]);
		cerr[0] = '\0';
		if (child_setup(sp, cerr, sizeof(cerr)) == 0) {
			execvp(sp->argv[0], (char *const *)sp->argv);
			fail(cerr, sizeof(cerr), errno, "exec %s", sp->argv[0]);
		}
		(void)!write(rep[1], cerr, strlen(cerr) + 1);
		_exit(127);
	}
	close(gate[0]);
	close(rep[1]);
	rc = record ? record(arg, pid, proc_starttime(pid)) : 0;
	if (rc < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		close(gate[1]);
		close(rep[0]);
		return fail(err, errlen, -rc, "record process in the state file");
	}
	(void)!write(gate[1], "g", 1);
	close(gate[1]);
	n = read_full(rep[0], msg, sizeof(msg) - 1);
	close(rep[0]);
	if (n > 0) {
		msg[n] = '\0';
		waitpid(pid, NULL, 0);
		snprintf(err, errlen, "%s", msg);
		return -ENOEXEC;
	}
	*pidp = pid;
	return 0;
}

/* Whether anything of rec's process group is still alive. */
static bool rec_alive(const struct nl_proc_rec *r)
{
	if (proc_same(r->pid, r->start))
		return true;
	if (proc_starttime(r->pid) != 0 && !proc_same(r->pid, r->start)) {
		char st = '?';
		stat_read(r->pid, &st);
		if (st != 'Z')
			return false; /* the pid now belongs to someone else: not ours */
	}
	/* Leader gone (or a zombie): its number cannot be reused while its group has members. */
	return kill(-r->pid, 0) == 0;
}

static void rec_signal(const struct nl_proc_rec *r, int sig)
{
	if (proc_same(r->pid, r->start)) {
		kill(-r->pid, sig);
		kill(r->pid, sig);
	} else if (proc_starttime(r->pid) == 0) {
		kill(-r->pid, sig);
	} else {
		char st = '?';
		stat_read(r->pid, &st);
		if (st == 'Z')
			kill(-r->pid, sig);
	}
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static bool any_alive(const struct nl_proc_rec *recs, size_t n)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		; /* our own children (a failed `up`) */
	for (size_t i = 0; i < n; i++)
		if (rec_alive(&recs[i]))
			return true;
	return false;
}

void proc_stop(const struct nl_proc_rec *recs, size_t n, unsigned grace_ms)
{
	uint64_t end;

	for (size_t i = n; i-- > 0;)
		rec_signal(&recs[i], SIGTERM);
	end = roam_mono_ms() + grace_ms;
	while (any_alive(recs, n) && roam_mono_ms() < end)
		sleep_ms(20);
	if (!any_alive(recs, n))
		return;
	for (size_t i = n; i-- > 0;)
		rec_signal(&recs[i], SIGKILL);
	end = roam_mono_ms() + 2000;
	while (any_alive(recs, n) && roam_mono_ms() < end)
		sleep_ms(20);
}

int proc_kill_netns(const char *ns)
{
	char path[512];
	struct stat nst;
	DIR *d;
	struct dirent *de;
	int count = 0;

	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	if (stat(path, &nst) < 0)
		return 0;
	if ((d = opendir("/proc")) == NULL)
		return -errno;
	while ((de = readdir(d)) != NULL) {
		struct stat pst;
		char p[300];
		pid_t pid;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = (pid_t)atoi(de->d_name);
		if (pid <= 1 || pid == getpid())
			continue;
		snprintf(p, sizeof(p), "/proc/%s/ns/net", de->d_name);
		if (stat(p, &pst) < 0)
			continue;
		if (pst.st_ino == nst.st_ino && pst.st_dev == nst.st_dev) {
			char st = '?';
			stat_read(pid, &st);
			if (st == 'Z' || st == 'X')
				continue; /* already dead, waiting for its parent */
			if (kill(pid, SIGKILL) == 0)
				count++;
		}
	}
	closedir(d);
	return count;
}
