/* The netlab commands: up, down, exec, ps, move, attach, detach, addr, ctl, check. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "roam/clock.h"
#include "roam/ctl.h"
#include "roam/json.h"
#include "roam/log.h"
#include "netlab.h"

#define DEFAULT_GRACE_MS 3000

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void bin_dir(const struct nl_opts *o, char *buf, size_t len)
{
	const char *e = getenv("ROAM_BIN");
	char exe[PATH_MAX];
	ssize_t n;

	if (o->bin != NULL) {
		if (realpath(o->bin, exe) != NULL)
			snprintf(buf, len, "%s", exe);
		else
			snprintf(buf, len, "%s", o->bin);
		return;
	}
	if (e != NULL && e[0]) {
		snprintf(buf, len, "%s", e);
		return;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		*strrchr(exe, '/') = '\0';
		snprintf(buf, len, "%s", exe);
	} else {
		buf[0] = '\0';
	}
}

void nl_ctl_path(const struct nl_run *r, const struct nl_svc *s, char *buf, size_t len)
{
	if (s->ctl == NULL)
		buf[0] = '\0';
	else if (strncmp(s->ctl, "/run/roam/", 10) == 0)
		snprintf(buf, len, "%s/%s/run/%s", r->st.dir, s->name, s->ctl + 10);
	else
		snprintf(buf, len, "%s", s->ctl);
}

static void print_tail(const char *path, size_t lines)
{
	FILE *f = fopen(path, "re");
	char *buf;
	long sz;
	size_t n, seen = 0;

	if (f == NULL) {
		fprintf(stderr, "  (no log %s)\n", path);
		return;
	}
	fseek(f, 0, SEEK_END);
	sz = ftell(f);
	if (sz > 8192)
		fseek(f, sz - 8192, SEEK_SET);
	else
		fseek(f, 0, SEEK_SET);
	buf = calloc(8193, 1);
	if (buf == NULL) {
		fclose(f);
		return;
	}
	n = fread(buf, 1, 8192, f);
	fclose(f);
	buf[n] = '\0';
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	for (size_t i = n; i-- > 0;) {
		if (buf[i] == '\n' && ++seen == lines) {
			memmove(buf, buf + i + 1, n - i);
			break;
		}
	}
	fprintf(stderr, "--- last lines of %s:\n%s\n---\n", path, buf[0] ? buf : "(empty)");
	free(buf);
}

/* ---- finding a run ---- */

static int list_runs(char ***out, size_t *n)
{
	DIR *d = opendir(nl_run_base());
	struct dirent *de;

	*out = NULL;
	*n = 0;
	if (d == NULL)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d)) != NULL) {
		char p[PATH_MAX];
		struct stat st;
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s/state", nl_run_base(), de->d_name);
		if (stat(p, &st) < 0)
			continue;
		char **nv = realloc(*out, (*n + 1) * sizeof(char *));
		if (nv == NULL)
			fatal("netlab: out of memory");
		*out = nv;
		nv[(*n)++] = strdup(de->d_name);
	}
	closedir(d);
	return 0;
}

/* The project a command acts on: -p NAME, else the project of FILE (if given), else the only
 * run there is. */
static int pick_project(const struct nl_opts *o, const char *file, char *name, size_t len)
{
	char **runs;
	size_t n;

	if (o->project != NULL) {
		snprintf(name, len, "%s", o->project);
		return 0;
	}
	if (file != NULL) {
		struct nl_topo *t;
		struct nl_errs e = { 0 };
		if (topo_load(file, &t, &e) < 0) {
			nl_errs_print(&e);
			nl_errs_free(&e);
			return -EINVAL;
		}
		snprintf(name, len, "%s", t->name);
		topo_free(t);
		return 0;
	}
	if (list_runs(&runs, &n) < 0 || n == 0) {
		fprintf(stderr, "netlab: no run is up (in %s)\n", nl_run_base());
		free(runs);
		return -ENOENT;
	}
	if (n > 1) {
		fprintf(stderr, "netlab: %zu runs are up; say which with -p NAME:", n);
		for (size_t i = 0; i < n; i++)
			fprintf(stderr, " %s", runs[i]);
		fprintf(stderr, "\n");
	} else {
		snprintf(name, len, "%s", runs[0]);
	}
	for (size_t i = 0; i < n; i++)
		free(runs[i]);
	free(runs);
	return n > 1 ? -EINVAL : 0;
}

/* Opens a run that is up: its state and its topology. */
static int run_open(const struct nl_opts *o, struct nl_run *r)
{
	char name[256], dir[PATH_MAX];
	struct nl_errs e = { 0 };
	int rc;

	memset(r, 0, sizeof(*r));
	r->st.fd = -1;
	if ((rc = pick_project(o, NULL, name, sizeof(name))) < 0)
		return rc;
	snprintf(dir, sizeof(dir), "%s/%s", nl_run_base(), name);
	if ((rc = state_open(&r->st, dir)) < 0) {
		fprintf(stderr, "netlab: no run '%s' (%s/state: %s)\n", name, dir, strerror(-rc));
		return rc;
	}
	if ((rc = topo_load(r->st.topology, &r->t, &e)) < 0) {
		fprintf(stderr, "netlab: cannot reload the topology of run '%s':\n", name);
		nl_errs_print(&e);
		nl_errs_free(&e);
		state_close(&r->st);
		return rc;
	}
	/* The run's name is the project it was started as (-p may have overridden the file's). */
	free(r->t->name);
	if ((r->t->name = strdup(name)) == NULL)
		fatal("netlab: out of memory");
	snprintf(r->bin, sizeof(r->bin), "%s", r->st.bin);
	nl_sw_name(r->t, r->sw, sizeof(r->sw));
	r->verbose = o->verbose;
	r->grace_ms = o->grace_ms;
	return 0;
}

static void run_close(struct nl_run *r)
{
	state_close(&r->st);
	topo_free(r->t);
	r->t = NULL;
}

/* ---- down ---- */

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	if (remove(path) < 0 && errno != ENOENT)
		fprintf(stderr, "netlab: remove %s: %s\n", path, strerror(errno));
	return 0;
}

static int rm_keep_logs(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	const char *b = path + ftw->base;
	size_t l = strlen(b);
	(void)sb;
	if (ftw->level == 0)
		return 0;
	if (flag == FTW_F && ftw->level == 1 &&
	    ((l > 4 && strcmp(b + l - 4, ".log") == 0) || (l > 5 && strcmp(b + l - 5, ".json") == 0)))
		return 0;
	if (flag == FTW_DP)
		(void)rmdir(path);
	else
		(void)remove(path);
	return 0;
}

/* Removes everything a run recorded.  Works from the state file alone. */
static int do_down(const char *rundir, unsigned grace_ms, bool keep_logs, bool verbose)
{
	struct nl_state st;
	char err[512];
	int rc, bad = 0;
	bool keep_placeholders = false;

	rc = state_open(&st, rundir);
	if (rc == -ENOENT) {
		fprintf(stderr, "netlab: %s: no state file, nothing to remove\n", rundir);
		return 0;
	}
	if (rc < 0) {
		fprintf(stderr, "netlab: %s/state: %s\n", rundir, strerror(-rc));
		return rc;
	}
	if (verbose)
		fprintf(stderr, "netlab: down %s: %zu processes, %zu namespaces\n", rundir, st.nprocs,
			st.nns);
	proc_stop(st.procs, st.nprocs, grace_ms);
	/* Anything still running in one of our namespaces (netlab exec, a child the service
	 * forked into another group, a process started by a crashed `up`) goes too. */
	for (size_t i = st.nns; i-- > 0;) {
		for (int round = 0; round < 50 && proc_kill_netns(st.ns[i]) > 0; round++)
			sleep_ms(20);
		if (nl_ns_delete(st.ns[i], err, sizeof(err)) < 0) {
			fprintf(stderr, "netlab: %s\n", err);
			bad = 1;
		}
	}
	/* Placeholders (mount points netlab had to create) may be in use by another run's
	 * services (removing a directory detaches the mounts on it in every namespace): leave
	 * them while any other run is up. */
	{
		char **runs;
		size_t n = 0, others = 0;
		const char *me = strrchr(rundir, '/');
		if (list_runs(&runs, &n) == 0) {
			for (size_t i = 0; i < n; i++) {
				others += !me || strcmp(runs[i], me + 1) != 0;
				free(runs[i]);
			}
			free(runs);
		}
		if (others > 0 && (st.nmkfiles || st.nmkdirs)) {
			fprintf(stderr, "netlab: other runs are up: leaving the mount points made for "
				"this one (%s...)\n", st.nmkdirs ? st.mkdirs[0] : st.mkfiles[0]);
			keep_placeholders = true;
		}
	}
	for (size_t i = keep_placeholders ? 0 : st.nmkfiles; i-- > 0;) {
		struct stat sb;
		if (lstat(st.mkfiles[i], &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size == 0)
			(void)unlink(st.mkfiles[i]);
	}
	for (size_t i = keep_placeholders ? 0 : st.nmkdirs; i-- > 0;)
		(void)rmdir(st.mkdirs[i]);
	state_close(&st);
	nftw(rundir, keep_logs ? rm_keep_logs : rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	if (keep_logs) {
		char p[PATH_MAX];
		snprintf(p, sizeof(p), "%s/state", rundir);
		(void)unlink(p);
	}
	(void)rmdir(nl_run_base()); /* only if no run is left */
	return bad ? -EIO : 0;
}

int cmd_down(const struct nl_opts *o, int argc, char **argv)
{
	char name[256], dir[PATH_MAX];
	int rc = 0;

	if (argc > 2) {
		fprintf(stderr, "usage: netlab down [FILE | --all]\n");
		return 2;
	}
	if (argc == 2 && strcmp(argv[1], "--all") == 0) {
		char **runs;
		size_t n;
		if (list_runs(&runs, &n) < 0)
			return 1;
		for (size_t i = 0; i < n; i++) {
			snprintf(dir, sizeof(dir), "%s/%s", nl_run_base(), runs[i]);
			if (do_down(dir, o->grace_ms, o->keep_logs, o->verbose) < 0)
				rc = 1;
			else
				printf("netlab: %s is down\n", runs[i]);
			free(runs[i]);
		}
		free(runs);
		return rc;
	}
	if (pick_project(o, argc == 2 ? argv[1] : NULL, name, sizeof(name)) < 0)
		return 1;
	snprintf(dir, sizeof(dir), "%s/%s", nl_run_base(), name);
	if (do_down(dir, o->grace_ms, o->keep_logs, o->verbose) < 0)
		return 1;
	printf("netlab: %s is down\n", name);
	return 0;
}

/* ---- up ---- */

struct rec_arg {
	struct nl_run *r;
	const char *svc;
};

static int record_proc(void *arg, pid_t pid, unsigned long long start)
{
	struct rec_arg *a = arg;
	return state_add(&a->r->st, "proc %s %d %llu", a->svc, (int)pid, start);
}

/* Makes sure path exists as a mount point of the right kind, creating (and recording) what is
 * missing: the parents as directories, the last component as a file or a directory. */
static int ensure_mountpoint(struct nl_run *r, const char *path, bool dir)
{
	char buf[PATH_MAX];
	struct stat st;
	int rc, fd;

	if (stat(path, &st) == 0)
		return (S_ISDIR(st.st_mode) == dir) ? 0 : -ENOTDIR;
	if (strlen(path) >= sizeof(buf))
		return -ENAMETOOLONG;
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (stat(buf, &st) < 0) {
			if ((rc = state_add(&r->st, "mkdir %s", buf)) < 0)
				return rc;
			if (mkdir(buf, 0755) < 0 && errno != EEXIST)
				return -errno;
		}
		*p = '/';
	}
	if (dir) {
		if ((rc = state_add(&r->st, "mkdir %s", path)) < 0)
			return rc;
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			return -errno;
		return 0;
	}
	if ((rc = state_add(&r->st, "mkfile %s", path)) < 0)
		return rc;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return errno == EEXIST ? 0 : -errno;
	close(fd);
	return 0;
}

static void svc_spawn_desc(struct nl_run *r, const struct nl_svc *s, struct nl_spawn *sp,
			   char *ns, size_t nslen, char *runroam, size_t rrlen, char *log,
			   size_t loglen)
{
	nl_ns_name(r->t, s->name, ns, nslen);
	snprintf(runroam, rrlen, "%s/%s/run", r->st.dir, s->name);
	snprintf(log, loglen, "%s/%s.log", r->st.dir, s->name);
	memset(sp, 0, sizeof(*sp));
	sp->ns = ns;
	sp->argv = (const char *const *)s->argv;
	sp->env = (const char *const *)s->env;
	sp->bin = r->bin;
	sp->workdir = s->workdir;
	sp->mountns = true;
	sp->vols = s->vols;
	sp->nvols = s->nvols;
	sp->runroam = runroam;
}

/* Prepares a service's mount points (volume targets, /run/roam) and its private run dir. */
static int svc_prepare(struct nl_run *r, struct nl_svc *s)
{
	char p[PATH_MAX];
	int rc;

	snprintf(p, sizeof(p), "%s/%s", r->st.dir, s->name);
	if (mkdir(p, 0755) < 0 && errno != EEXIST)
		return -errno;
	snprintf(p, sizeof(p), "%s/%s/run", r->st.dir, s->name);
	if (mkdir(p, 0755) < 0 && errno != EEXIST)
		return -errno;
	if ((rc = ensure_mountpoint(r, "/run/roam", true)) < 0) {
		fprintf(stderr, "netlab: /run/roam: %s\n", strerror(-rc));
		return rc;
	}
	for (size_t i = 0; i < s->nvols; i++) {
		struct stat st;
		if (stat(s->vols[i].src, &st) < 0) {
			fprintf(stderr, "netlab: service %s: volume source %s: %s\n", s->name,
				s->vols[i].src, strerror(errno));
			return -errno;
		}
		s->vols[i].is_dir = S_ISDIR(st.st_mode);
		if ((rc = ensure_mountpoint(r, s->vols[i].dst, s->vols[i].is_dir)) < 0) {
			fprintf(stderr, "netlab: service %s: volume target %s: %s\n", s->name,
				s->vols[i].dst, strerror(-rc));
			return rc;
		}
	}
	return 0;
}

/* Polls the service's control socket with {"cmd":"status"} until it answers ok. */
static int wait_ready(struct nl_run *r, const struct nl_svc *s, pid_t pid, unsigned long long st)
{
	char path[PATH_MAX];
	uint64_t end = roam_mono_ms() + s->ready_ms;
	int last = 0;
	char why[256] = "no answer";

	nl_ctl_path(r, s, path, sizeof(path));
	for (;;) {
		char *reply = NULL;
		int rc = ctl_call(path, "{\"cmd\":\"status\"}", &reply, 1000);
		if (rc == 0) {
			struct json_value *v = NULL;
			bool ok = false;
			if (json_parse(reply, strlen(reply), &v, NULL, 0) == 0 &&
			    json_get_bool(v, "ok", &ok) == 0 && ok) {
				json_free(v);
				free(reply);
				return 0;
			}
			snprintf(why, sizeof(why), "status answered: %.200s", reply);
			json_free(v);
			free(reply);
		} else {
			last = rc;
			snprintf(why, sizeof(why), "%.160s: %s", path, strerror(-last));
		}
		if (!proc_same(pid, st)) {
			fprintf(stderr, "netlab: service %s exited before its control socket answered\n",
				s->name);
			return -ECHILD;
		}
		if (roam_mono_ms() >= end) {
			fprintf(stderr, "netlab: service %s not ready after %llu ms (%s)\n", s->name,
				(unsigned long long)s->ready_ms, why);
			return -ETIMEDOUT;
		}
		sleep_ms(50);
	}
}

static int up_services(struct nl_run *r)
{
	for (size_t oi = 0; oi < r->t->nsvcs; oi++) {
		struct nl_svc *s = &r->t->svcs[r->t->order[oi]];
		struct nl_spawn sp;
		char ns[256], runroam[PATH_MAX], log[PATH_MAX], err[600];
		struct rec_arg ra = { r, s->name };
		pid_t pid;
		int rc;

		if ((rc = svc_prepare(r, s)) < 0)
			return rc;
		if (s->argv == NULL)
			continue;
		svc_spawn_desc(r, s, &sp, ns, sizeof(ns), runroam, sizeof(runroam), log, sizeof(log));
		sp.log = log;
		sp.newsession = true;
		if (r->verbose)
			fprintf(stderr, "netlab: start %s: %s\n", s->name, s->argv[0]);
		if ((rc = proc_spawn(&sp, record_proc, &ra, &pid, err, sizeof(err))) < 0) {
			fprintf(stderr, "netlab: service %s: %s\n", s->name, err);
			return rc;
		}
		if (s->ctl != NULL) {
			unsigned long long st = proc_starttime(pid);
			if ((rc = wait_ready(r, s, pid, st)) < 0) {
				waitpid(pid, NULL, WNOHANG);
				print_tail(log, 20);
				return rc;
			}
		}
	}
	return 0;
}

int cmd_up(const struct nl_opts *o, int argc, char **argv)
{
	struct nl_run r;
	struct nl_errs e = { 0 };
	char dir[PATH_MAX];
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: netlab up FILE\n");
		return 2;
	}
	memset(&r, 0, sizeof(r));
	r.st.fd = -1;
	if (topo_load(argv[1], &r.t, &e) < 0) {
		nl_errs_print(&e);
		nl_errs_free(&e);
		return 2;
	}
	if (o->project != NULL) {
		free(r.t->name);
		r.t->name = strdup(o->project);
		if (r.t->name == NULL)
			fatal("netlab: out of memory");
	}
	snprintf(dir, sizeof(dir), "%s/%s", nl_run_base(), r.t->name);
	rc = state_create(&r.st, dir);
	if (rc == -EEXIST) {
		fprintf(stderr, "netlab: run '%s' is up already (%s/state); `netlab down -p %s` "
			"first\n", r.t->name, dir, r.t->name);
		topo_free(r.t);
		return 1;
	}
	if (rc < 0) {
		fprintf(stderr, "netlab: %s: %s\n", dir, strerror(-rc));
		topo_free(r.t);
		return 1;
	}
	bin_dir(o, r.bin, sizeof(r.bin));
	nl_sw_name(r.t, r.sw, sizeof(r.sw));
	r.verbose = o->verbose;
	r.grace_ms = o->grace_ms;
	if ((rc = state_add(&r.st, "topology %s", r.t->file)) < 0 ||
	    (rc = state_add(&r.st, "bin %s", r.bin)) < 0) {
		fprintf(stderr, "netlab: state file: %s\n", strerror(-rc));
		goto fail;
	}
	if ((rc = links_up(&r)) < 0)
		goto fail;
	if ((rc = up_services(&r)) < 0)
		goto fail;
	state_add(&r.st, "up-done");
	printf("netlab: %s is up (%zu services, %zu networks; run dir %s)\n", r.t->name, r.t->nsvcs,
	       r.t->nnets, dir);
	state_close(&r.st);
	topo_free(r.t);
	return 0;
fail:
	fprintf(stderr, "netlab: up failed; removing what was made\n");
	state_close(&r.st);
	do_down(dir, o->grace_ms, true, o->verbose);
	fprintf(stderr, "netlab: logs kept in %s\n", dir);
	topo_free(r.t);
	return 1;
}

/* ---- exec, ps, addr, ctl, check ---- */

int cmd_exec(const struct nl_opts *o, int argc, char **argv)
{
	struct nl_run r;
	struct nl_spawn sp;
	char ns[256], runroam[PATH_MAX], log[PATH_MAX], err[600];
	int si;

	if (argc < 3) {
		fprintf(stderr, "usage: netlab exec SERVICE COMMAND [ARG...]\n");
		return 2;
	}
	if (run_open(o, &r) < 0)
		return 1;
	if ((si = topo_svc_find(r.t, argv[1])) < 0) {
		fprintf(stderr, "netlab: no service '%s' in %s\n", argv[1], r.t->file);
		run_close(&r);
		return 1;
	}
	svc_spawn_desc(&r, &r.t->svcs[si], &sp, ns, sizeof(ns), runroam, sizeof(runroam), log,
		       sizeof(log));
	sp.argv = (const char *const *)&argv[2];
	state_close(&r.st);
	proc_exec_here(&sp, err, sizeof(err));
	fprintf(stderr, "netlab: %s\n", err);
	return 127;
}

static void cmdline(pid_t pid, char *buf, size_t len)
{
	char p[64];
	int fd;
	ssize_t n;

	buf[0] = '\0';
	snprintf(p, sizeof(p), "/proc/%d/cmdline", (int)pid);
	if ((fd = open(p, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	for (ssize_t i = 0; i < n - 1; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
}

int cmd_ps(const struct nl_opts *o, int argc, char **argv)
{
	struct nl_run r;
	(void)argv;

	if (argc != 1) {
		fprintf(stderr, "usage: netlab ps\n");
		return 2;
	}
	if (run_open(o, &r) < 0)
		return 1;
	printf("%-12s %-8s %-8s %s\n", "SERVICE", "PID", "STATE", "COMMAND");
	for (size_t oi = 0; oi < r.t->nsvcs; oi++) {
		const struct nl_svc *s = &r.t->svcs[r.t->order[oi]];
		const struct nl_proc_rec *rec = NULL;
		char cl[200];
		for (size_t i = 0; i < r.st.nprocs; i++)
			if (strcmp(r.st.procs[i].kind, "proc") == 0 &&
			    strcmp(r.st.procs[i].name, s->name) == 0)
				rec = &r.st.procs[i];
		if (rec == NULL) {
			printf("%-12s %-8s %-8s %s\n", s->name, "-", s->argv ? "not-started" : "-",
			       s->argv ? s->argv[0] : "(no command)");
			continue;
		}
		bool alive = proc_same(rec->pid, rec->start);
		if (alive)
			cmdline(rec->pid, cl, sizeof(cl));
		else
			snprintf(cl, sizeof(cl), "%s", s->argv ? s->argv[0] : "");
		printf("%-12s %-8d %-8s %s\n", s->name, (int)rec->pid, alive ? "running" : "exited", cl);
	}
	for (size_t i = 0; i < r.st.nprocs; i++) {
		const struct nl_proc_rec *rec = &r.st.procs[i];
		char nm[160], cl[200];
		bool alive;
		if (strcmp(rec->kind, "linkem") != 0)
			continue;
		alive = proc_same(rec->pid, rec->start);
		snprintf(nm, sizeof(nm), "[%s]", rec->name);
		cl[0] = '\0';
		if (alive)
			cmdline(rec->pid, cl, sizeof(cl));
		printf("%-12s %-8d %-8s %s\n", nm, (int)rec->pid, alive ? "running" : "exited",
		       alive ? cl : "linkem");
	}
	for (size_t i = 0; i < r.st.natt; i++)
		printf("radio: %s %s -> %s\n", r.st.att[i].svc, r.st.att[i].ifname,
		       r.st.att[i].net[0] ? r.st.att[i].net : "(detached)");
	run_close(&r);
	return 0;
}

int cmd_addr(const struct nl_opts *o, int argc, char **argv)
{
	struct nl_run r;
	int family = AF_INET, si, ni;
	const struct nl_iface *f;
	int rc = 1;

	if (argc == 4 && (strcmp(argv[3], "-6") == 0 || strcmp(argv[3], "-4") == 0))
		family = argv[3][1] == '6' ? AF_INET6 : AF_INET;
	else if (argc != 3) {
		fprintf(stderr, "usage: netlab addr SERVICE NETWORK [-4|-6]\n");
		return 2;
	}
	if (run_open(o, &r) < 0)
		return 1;
	si = topo_svc_find(r.t, argv[1]);
	ni = topo_net_find(r.t, argv[2]);
	if (si < 0 || ni < 0) {
		fprintf(stderr, "netlab: no %s '%s'\n", si < 0 ? "service" : "network",
			si < 0 ? argv[1] : argv[2]);
		goto out;
	}
	f = topo_iface_for(&r.t->svcs[si], ni);
	if (f == NULL) {
		fprintf(stderr, "netlab: %s is not on %s\n", argv[1], argv[2]);
		goto out;
	}
	for (size_t a = 0; a < f->naddrs; a++) {
		const struct nl_net *net = &r.t->nets[ni];
		const struct roam_prefix *sub = family == AF_INET ? &net->subnet4 : &net->subnet6;
		char b[ROAM_ADDRSTRLEN];
		if (f->addrs[a].addr.family == family && roam_prefix_contains(sub, &f->addrs[a].addr)) {
			printf("%s\n", roam_ipaddr_fmt(&f->addrs[a].addr, b, sizeof(b)));
			rc = 0;
			goto out;
		}
	}
	fprintf(stderr, "netlab: %s has no IPv%c address on %s\n", argv[1],
		family == AF_INET ? '4' : '6', argv[2]);
out:
	run_close(&r);
	return rc;
}

int cmd_ctl(const struct nl_opts *o, int argc, char **argv)
{
	struct nl_run r;
	int si, rc = 1;
	char p[PATH_MAX];

	if (argc != 2) {
		fprintf(stderr, "usage: netlab ctl SERVICE\n");
		return 2;
	}
	if (run_open(o, &r) < 0)
		return 1;
	if ((si = topo_svc_find(r.t, argv[1])) < 0)
		fprintf(stderr, "netlab: no service '%s'\n", argv[1]);
	else if (r.t->svcs[si].ctl == NULL)
		fprintf(stderr, "netlab: service %s has no x-roam ctl\n", argv[1]);
	else {
		nl_ctl_path(&r, &r.t->svcs[si], p, sizeof(p));
		printf("%s\n", p);
		rc = 0;
	}
	run_close(&r);
	return rc;
}

int cmd_check(const struct nl_opts *o, int argc, char **argv)
{
	int rc = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: netlab check FILE...\n");
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		struct nl_topo *t;
		struct nl_errs e = { 0 };
		if (topo_load(argv[i], &t, &e) < 0) {
			nl_errs_print(&e);
			nl_errs_free(&e);
			rc = 1;
			continue;
		}
		printf("%s: ok (project %s, %zu services, %zu networks)\n", argv[i], t->name, t->nsvcs,
		       t->nnets);
		if (o->verbose) {
			for (size_t k = 0; k < t->nsvcs; k++) {
				const struct nl_svc *s = &t->svcs[t->order[k]];
				printf("  service %s%s%s:", s->name, s->router ? " (router)" : "",
				       s->ctl ? " ctl" : "");
				for (size_t f = 0; f < s->nifs; f++)
					printf(" %s%s", s->ifs[f].ifname, s->ifs[f].radio ? "(radio)" : "");
				printf("\n");
			}
		}
		topo_free(t);
	}
	return rc;
}

/* ---- movement ---- */

static int find_mobile(struct nl_run *r, const char *svc, const char *net, int *si, int *ni,
		       size_t *fi)
{
	*si = topo_svc_find(r->t, svc);
	*ni = topo_net_find(r->t, net);
	if (*si < 0) {
		fprintf(stderr, "netlab: no service '%s'\n", svc);
		return -ENOENT;
	}
	if (*ni < 0) {
		fprintf(stderr, "netlab: no network '%s'\n", net);
		return -ENOENT;
	}
	const struct nl_svc *s = &r->t->svcs[*si];
	for (size_t i = 0; i < s->nifs; i++) {
		for (size_t c = 0; s->ifs[i].radio && c < s->ifs[i].ncells; c++) {
			if (s->ifs[i].cells[c] == *ni) {
				*fi = i;
				return 0;
			}
		}
	}
	fprintf(stderr, "netlab: %s has no radio that can attach to %s (x-roam radio cells)\n", svc,
		net);
	return -EINVAL;
}

static int send_notice(struct nl_run *r, const struct nl_svc *s, long ms, const char *to)
{
	char path[PATH_MAX], req[512];
	char *reply = NULL;
	int rc;

	nl_ctl_path(r, s, path, sizeof(path));
	snprintf(req, sizeof(req),
		 "{\"cmd\":\"l2-notice\",\"args\":{\"event\":\"link-going-down\",\"in_ms\":%ld,"
		 "\"to\":\"%s\"}}", ms, to);
	rc = ctl_call(path, req, &reply, 2000);
	if (rc < 0) {
		fprintf(stderr, "netlab: warning: l2-notice to %s (%s): %s\n", s->name, path,
			strerror(-rc));
		return rc;
	}
	{
		struct json_value *v = NULL;
		bool ok = false;
		if (json_parse(reply, strlen(reply), &v, NULL, 0) < 0 ||
		    json_get_bool(v, "ok", &ok) < 0 || !ok)
			fprintf(stderr, "netlab: warning: %s answered the l2-notice with %s\n", s->name,
				reply);
		json_free(v);
	}
	free(reply);
	return 0;
}

int cmd_move(const struct nl_opts *o, int argc, char **argv)
{
	struct nl_run r;
	const char *mobile = NULL, *to = NULL;
	long notice = -1;
	int si, ni, rc = 1;
	size_t fi;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--to") == 0 && i + 1 < argc)
			to = argv[++i];
		else if (strcmp(argv[i], "--notice") == 0 && i + 1 < argc) {
			char *end;
			notice = strtol(argv[++i], &end, 10);
			if (*end != '\0' || notice < 0 || notice > 600000) {
				fprintf(stderr, "netlab: --notice: milliseconds (0 to 600000)\n");
				return 2;
			}
		} else if (argv[i][0] != '-' && mobile == NULL)
			mobile = argv[i];
		else {
			fprintf(stderr, "usage: netlab move MOBILE --to NETWORK [--notice MS]\n");
			return 2;
		}
	}
	if (mobile == NULL || to == NULL) {
		fprintf(stderr, "usage: netlab move MOBILE --to NETWORK [--notice MS]\n");
		return 2;
	}
	if (run_open(o, &r) < 0)
		return 1;
	if (find_mobile(&r, mobile, to, &si, &ni, &fi) < 0)
		goto out;
	const struct nl_svc *s = &r.t->svcs[si];
	char cur[128];
	snprintf(cur, sizeof(cur), "%s", state_attached(&r.st, s->name, s->ifs[fi].ifname));
	if (strcmp(cur, to) == 0) {
		fprintf(stderr, "netlab: %s %s is on %s already\n", mobile, s->ifs[fi].ifname, to);
		rc = 0;
		goto out;
	}
	if (notice >= 0) {
		if (s->ctl == NULL) {
			fprintf(stderr, "netlab: --notice: service %s has no x-roam ctl\n", mobile);
			goto out;
		}
		send_notice(&r, s, notice, to);
		sleep_ms((unsigned)notice);
	}
	if (links_radio_set(&r, (size_t)si, fi, ni) < 0)
		goto out;
	printf("netlab: %s %s: %s -> %s\n", mobile, s->ifs[fi].ifname, cur[0] ? cur : "(detached)",
	       to);
	rc = 0;
out:
	run_close(&r);
	return rc;
}

static int attach_detach(const struct nl_opts *o, int argc, char **argv, bool attach)
{
	struct nl_run r;
	int si, ni, rc = 1;
	size_t fi;

	if (argc != 3) {
		fprintf(stderr, "usage: netlab %s MOBILE NETWORK\n", attach ? "attach" : "detach");
		return 2;
	}
	if (run_open(o, &r) < 0)
		return 1;
	if (find_mobile(&r, argv[1], argv[2], &si, &ni, &fi) < 0)
		goto out;
	const struct nl_svc *s = &r.t->svcs[si];
	const char *cur = state_attached(&r.st, s->name, s->ifs[fi].ifname);
	if (attach && cur[0] != '\0') {
		fprintf(stderr, "netlab: %s %s is attached to %s; use `netlab move` or detach it "
			"first\n", argv[1], s->ifs[fi].ifname, cur);
		goto out;
	}
	if (!attach && strcmp(cur, argv[2]) != 0) {
		fprintf(stderr, "netlab: %s %s is not attached to %s\n", argv[1], s->ifs[fi].ifname,
			argv[2]);
		goto out;
	}
	if (links_radio_set(&r, (size_t)si, fi, attach ? ni : -1) < 0)
		goto out;
	printf("netlab: %s %s %s %s\n", argv[1], s->ifs[fi].ifname, attach ? "attached to" :
	       "detached from", argv[2]);
	rc = 0;
out:
	run_close(&r);
	return rc;
}

int cmd_attach(const struct nl_opts *o, int argc, char **argv)
{
	return attach_detach(o, argc, argv, true);
}

int cmd_detach(const struct nl_opts *o, int argc, char **argv)
{
	return attach_detach(o, argc, argv, false);
}
