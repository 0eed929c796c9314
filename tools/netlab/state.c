/* Run state: RUNDIR/state, an append-only journal of everything a run made, each record written
 * and synced BEFORE the thing it names is created, so that `netlab down` can remove everything
 * even after netlab itself crashed or was killed half-way through `up`. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "roam/log.h"
#include "netlab.h"

#define STATE_MAGIC "netlab-state 1"

const char *nl_run_base(void)
{
	const char *e = getenv("NETLAB_RUNDIR");
	return e && e[0] ? e : "/run/roam-netlab";
}

static void strv_push(char ***v, size_t *n, const char *s)
{
	char **nv = realloc(*v, (*n + 1) * sizeof(char *));
	char *d = strdup(s);
	if (nv == NULL || d == NULL)
		fatal("netlab: out of memory");
	*v = nv;
	nv[(*n)++] = d;
}

/* Applies one record to the in-memory view.  Unknown or malformed lines are ignored (a line
 * cut short by a crash is the only way to get one). */
static void state_apply(struct nl_state *st, const char *line)
{
	char a[128], b[128], c[128], k[8], f[NL_IFNAMSIZ];
	long long pid;
	unsigned long long start;

	if (strncmp(line, "topology ", 9) == 0) {
		snprintf(st->topology, sizeof(st->topology), "%s", line + 9);
	} else if (strncmp(line, "bin ", 4) == 0) {
		snprintf(st->bin, sizeof(st->bin), "%s", line + 4);
	} else if (strncmp(line, "ns ", 3) == 0) {
		strv_push(&st->ns, &st->nns, line + 3);
	} else if (strncmp(line, "mkdir ", 6) == 0) {
		strv_push(&st->mkdirs, &st->nmkdirs, line + 6);
	} else if (strncmp(line, "mkfile ", 7) == 0) {
		strv_push(&st->mkfiles, &st->nmkfiles, line + 7);
	} else if (strcmp(line, "up-done") == 0) {
		st->up_done = true;
	} else if (sscanf(line, "%7s %127s %lld %llu", k, b, &pid, &start) == 4 &&
		   (strcmp(k, "proc") == 0 || strcmp(k, "linkem") == 0) && pid > 1) {
		struct nl_proc_rec *np = realloc(st->procs, (st->nprocs + 1) * sizeof(*np));
		if (np == NULL)
			fatal("netlab: out of memory");
		st->procs = np;
		memset(&np[st->nprocs], 0, sizeof(*np));
		snprintf(np[st->nprocs].kind, sizeof(np->kind), "%s", k);
		snprintf(np[st->nprocs].name, sizeof(np->name), "%s", b);
		np[st->nprocs].pid = (pid_t)pid;
		np[st->nprocs].start = start;
		st->nprocs++;
	} else if (sscanf(line, "attach %127s %15s %127s", a, f, c) == 3) {
		size_t i;
		for (i = 0; i < st->natt; i++)
			if (strcmp(st->att[i].svc, a) == 0 && strcmp(st->att[i].ifname, f) == 0)
				break;
		if (i == st->natt) {
			void *na = realloc(st->att, (st->natt + 1) * sizeof(*st->att));
			if (na == NULL)
				fatal("netlab: out of memory");
			st->att = na;
			memset(&st->att[i], 0, sizeof(*st->att));
			st->natt++;
		}
		snprintf(st->att[i].svc, sizeof(st->att[i].svc), "%s", a);
		snprintf(st->att[i].ifname, sizeof(st->att[i].ifname), "%s", f);
		snprintf(st->att[i].net, sizeof(st->att[i].net), "%s", strcmp(c, "-") ? c : "");
	}
}

static int mkdir_p(const char *path, mode_t mode)
{
	char buf[512];
	size_t l = strlen(path);

	if (l >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, l + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int state_create(struct nl_state *st, const char *rundir)
{
	char path[600];
	int rc;

	memset(st, 0, sizeof(*st));
	st->fd = -1;
	if (strlen(rundir) >= sizeof(st->dir))
		return -ENAMETOOLONG;
	snprintf(st->dir, sizeof(st->dir), "%s", rundir);
	if ((rc = mkdir_p(rundir, 0755)) < 0)
		return rc;
	snprintf(path, sizeof(path), "%s/state", rundir);
	st->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
	if (st->fd < 0)
		return -errno;
	return state_add(st, "%s", STATE_MAGIC);
}

int state_open(struct nl_state *st, const char *rundir)
{
	char path[600];
	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	bool first = true;

	memset(st, 0, sizeof(*st));
	st->fd = -1;
	if (strlen(rundir) >= sizeof(st->dir))
		return -ENAMETOOLONG;
	snprintf(st->dir, sizeof(st->dir), "%s", rundir);
	snprintf(path, sizeof(path), "%s/state", rundir);
	st->fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (st->fd < 0)
		return -errno;
	f = fopen(path, "re");
	if (f == NULL) {
		int rc = -errno;
		close(st->fd);
		st->fd = -1;
		return rc;
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] != '\n')
			break; /* a record cut short: ignore it */
		line[n - 1] = '\0';
		if (first && strcmp(line, STATE_MAGIC) != 0) {
			free(line);
			fclose(f);
			close(st->fd);
			st->fd = -1;
			return -EINVAL;
		}
		first = false;
		state_apply(st, line);
	}
	free(line);
	fclose(f);
	return 0;
}

int state_add(struct nl_state *st, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf) - 1 || strchr(buf, '\n'))
		return -EINVAL;
	if (strcmp(buf, STATE_MAGIC) != 0)
		state_apply(st, buf);
	buf[n++] = '\n';
	if (st->fd < 0)
		return -EBADF;
	if (write(st->fd, buf, (size_t)n) != n)
		return errno ? -errno : -EIO;
	if (fdatasync(st->fd) < 0)
		return -errno;
	return 0;
}

const char *state_attached(const struct nl_state *st, const char *svc, const char *ifname)
{
	for (size_t i = 0; i < st->natt; i++)
		if (strcmp(st->att[i].svc, svc) == 0 && strcmp(st->att[i].ifname, ifname) == 0)
			return st->att[i].net;
	return "";
}

void state_close(struct nl_state *st)
{
	if (st->fd >= 0)
		close(st->fd);
	st->fd = -1;
	for (size_t i = 0; i < st->nns; i++)
		free(st->ns[i]);
	for (size_t i = 0; i < st->nmkdirs; i++)
		free(st->mkdirs[i]);
	for (size_t i = 0; i < st->nmkfiles; i++)
		free(st->mkfiles[i]);
	free(st->ns);
	free(st->mkdirs);
	free(st->mkfiles);
	free(st->procs);
	free(st->att);
	st->ns = st->mkdirs = st->mkfiles = NULL;
	st->procs = NULL;
	st->att = NULL;
	st->nns = st->nmkdirs = st->nmkfiles = st->nprocs = st->natt = 0;
}
