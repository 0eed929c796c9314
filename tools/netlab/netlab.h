/* netlab: runs a docker-compose topology (etc/topologies/NAME.yml) in network namespaces, without
 * Docker.  See docs/netlab.md for the topology format (compose + x-roam keys) and the runtime
 * design (one namespace per service, a switch namespace holding one bridge per network, veth
 * pairs, linkem spliced into emulated links, a state file written before anything is made). */
#ifndef NETLAB_H
#define NETLAB_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "roam/addr.h"

#define NL_IFNAMSIZ 16        /* IFNAMSIZ, with the NUL */
#define NL_MAX_SERVICES 250   /* namespaces and interface names are numbered below 1000 */
#define NL_MAX_NETWORKS 250
#define NL_MAX_ERRORS 64      /* errors kept per load; more are counted, not stored */

/* ---- topology (topology.c) ---- */

/* Link emulation parameters of a network (x-roam delay/jitter/loss/rate/dup/reorder/seed).
 * The texts are kept as written (validated) and handed to linkem as they are. */
struct nl_emu {
	bool set;            /* any parameter given */
	char delay[32], jitter[32], loss[32], rate[32], dup[32], reorder[32];
	uint64_t delay_ns, jitter_ns;
	double loss_pct, dup_pct, reorder_pct;
	uint64_t rate_bps;
	bool has_seed;
	uint64_t seed;
};

struct nl_net {
	char *name;
	int line, col;
	bool has4, has6;
	struct roam_prefix subnet4, subnet6;
	bool radio;          /* x-roam radio: a cell mobiles move between */
	struct nl_emu emu;
	bool direct;         /* derived: emulated link of exactly 2 static attachments, no bridge */
};

/* One interface of a service.  A static attachment belongs to one network; a radio interface
 * (x-roam radio) can be attached to any of its cells, or to none. */
struct nl_iface {
	char ifname[NL_IFNAMSIZ];
	bool radio;
	int net;             /* static: the network index; radio: the cell attached at start, -1 */
	int *cells;          /* radio: network indices it may attach to */
	size_t ncells;
	/* addresses configured on the interface (for a radio: of every cell it lists) */
	struct roam_prefix *addrs;
	size_t naddrs;
};

struct nl_route {
	struct roam_prefix to;
	bool has_via;
	struct roam_ipaddr via;
	char dev[NL_IFNAMSIZ]; /* "" unless given (an interface or a network name, resolved) */
	int line, col;
};

struct nl_volume {
	char *src;           /* absolute path on this host */
	char *dst;           /* absolute path in the service */
	bool ro;
	bool is_dir;
};

struct nl_sysctl {
	char *key, *value;
};

struct nl_svc {
	char *name;
	int line, col;
	char **argv;         /* NULL-terminated; NULL when the service has no command */
	char **env;          /* NULL-terminated "K=V" list (compose environment), may be NULL */
	char *workdir;       /* compose working_dir, or NULL */
	struct nl_iface *ifs;
	size_t nifs;
	struct nl_route *routes;
	size_t nroutes;
	struct nl_volume *vols;
	size_t nvols;
	struct nl_sysctl *sysctls;
	size_t nsysctls;
	bool router;         /* x-roam role: router (forwarding on) */
	char role[32];
	char *ctl;           /* x-roam ctl: control socket path inside the service, or NULL */
	uint64_t ready_ms;   /* x-roam ready_timeout (default: the topology's) */
	int *deps;           /* depends_on, service indices */
	size_t ndeps;
};

struct nl_topo {
	char *file;          /* absolute path of the compose file */
	char *dir;           /* its directory (volume sources are relative to it) */
	char *name;          /* project name: x-roam name, or the file's base name */
	uint64_t ready_ms;   /* default wait for a ctl socket (x-roam ready_timeout; 10 s) */
	struct nl_net *nets;
	size_t nnets;
	struct nl_svc *svcs;
	size_t nsvcs;
	size_t *order;       /* start order (depends_on honoured, else file order) */
};

/* Error list of a load: each "file:line:col: message". */
struct nl_errs {
	char *msg[NL_MAX_ERRORS];
	size_t n;            /* stored */
	size_t total;        /* reported, stored or not */
};

/* Loads and validates a compose file.  On success returns 0 and *out (free with topo_free()).
 * On failure returns -EINVAL (or an I/O error) and every problem found is in errs (free with
 * nl_errs_free()); *out is NULL. */
int topo_load(const char *path, struct nl_topo **out, struct nl_errs *errs);
/* Same from text (name is what messages call the file; dir is the base for volume paths). */
int topo_load_string(const char *name, const char *dir, const char *text, struct nl_topo **out,
		     struct nl_errs *errs);
void topo_free(struct nl_topo *t);
void nl_errs_free(struct nl_errs *e);
void nl_errs_print(const struct nl_errs *e);

/* Lookups: index or -1. */
int topo_net_find(const struct nl_topo *t, const char *name);
int topo_svc_find(const struct nl_topo *t, const char *name);
/* The interface of service s attached to (or able to attach to) network n, or NULL. */
const struct nl_iface *topo_iface_for(const struct nl_svc *s, int n);

/* Parsers of x-roam values (exposed for tests).  0 or -EINVAL. */
int nl_parse_duration(const char *s, uint64_t *ns);
int nl_parse_percent(const char *s, double *pct);
int nl_parse_rate(const char *s, uint64_t *bps);
/* Splits a command string like a POSIX shell without expansion (quotes, backslashes), as compose
 * does with a string `command`.  *argv is NULL-terminated, malloc'd (free with nl_strv_free). */
int nl_shell_split(const char *s, char ***argv);
void nl_strv_free(char **v);

/* ---- names (topology.c) ---- */
/* Namespace of a service: "<project>-<service>"; of the switch: "<project>-sw". */
void nl_ns_name(const struct nl_topo *t, const char *svc, char *buf, size_t len);
void nl_sw_name(const struct nl_topo *t, char *buf, size_t len);
/* Switch-side names: bridge of network n "br<n>"; the switch end of service s's interface i
 * "v<s>i<i>"; the splice pair of an emulated bridged attachment "l<s>i<i>" / "p<s>i<i>". */
void nl_br_name(size_t n, char *buf, size_t len);
void nl_swif_name(char kind, size_t s, size_t i, char *buf, size_t len);

/* ---- state (state.c) ---- */

/* Everything a run made, recorded before it is made.  The file is append-only text, one record
 * a line, each written with O_APPEND and fdatasync'd:
 *   topology PATH | bin DIR | ns NAME | mkdir PATH | mkfile PATH |
 *   proc SVC PID STARTTIME | linkem NET PID STARTTIME | attach SVC IFACE NET|- | up-done
 * Later records win for the same attachment. */
struct nl_proc_rec {
	char kind[8];        /* "proc" or "linkem" */
	char name[128];      /* service or network */
	pid_t pid;
	unsigned long long start;
};

struct nl_state {
	char dir[512];       /* run directory */
	int fd;              /* state file, or -1 */
	char topology[4096];
	char bin[4096];
	char **ns;           size_t nns;
	char **mkdirs;       size_t nmkdirs;
	char **mkfiles;      size_t nmkfiles;
	struct nl_proc_rec *procs; size_t nprocs;
	struct { char svc[128], ifname[NL_IFNAMSIZ], net[128]; } *att;
	size_t natt;
	bool up_done;
};

/* Base directory of runs: $NETLAB_RUNDIR or /run/roam-netlab. */
const char *nl_run_base(void);
/* Creates RUNDIR (mode 0755, also its parent) and a fresh state file; -EEXIST if a state file
 * is there already (a run with that name is up). */
int state_create(struct nl_state *st, const char *rundir);
/* Reads an existing state file (and keeps it open for appending).  -ENOENT if none. */
int state_open(struct nl_state *st, const char *rundir);
/* Appends one record (printf-style) durably.  Also updates the in-memory view. */
int state_add(struct nl_state *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void state_close(struct nl_state *st);
/* The current cell of a mobile's radio interface ("" if detached / unknown). */
const char *state_attached(const struct nl_state *st, const char *svc, const char *ifname);

/* ---- processes (proc.c) ---- */

/* Start time of pid (field 22 of /proc/PID/stat, clock ticks since boot); 0 if no such pid. */
unsigned long long proc_starttime(pid_t pid);
/* 1 if pid is alive and still the process that had start time `start`. */
int proc_same(pid_t pid, unsigned long long start);

struct nl_spawn {
	const char *ns;       /* network namespace name (NULL: stay) */
	const char *const *argv;
	const char *const *env;  /* extra "K=V" entries, may be NULL */
	const char *bin;      /* prepended to PATH (may be NULL) */
	const char *log;      /* stdout+stderr appended here (NULL: inherit) */
	const char *workdir;
	bool mountns;         /* private mount namespace: /sys remounted, binds below */
	const struct nl_volume *vols;
	size_t nvols;
	const char *runroam;  /* bound onto /run/roam in the mount namespace (may be NULL) */
	bool newsession;      /* setsid(): its own process group */
	bool foreground;      /* exec in this process (netlab exec): never returns on success */
};

/* Forks and execs a command as described.  `record` is called in the parent with the child's
 * pid and start time before the child is allowed to exec (the child waits on a pipe), so the
 * process is in the state file before it runs anything; if record fails, the child is killed.
 * Returns 0 with *pid, or a negative code with a message in err (exec failures are reported:
 * the child sends its errno back through a close-on-exec pipe). */
int proc_spawn(const struct nl_spawn *sp, int (*record)(void *arg, pid_t pid,
		unsigned long long start), void *arg, pid_t *pid, char *err, size_t errlen);
/* Sets up the calling process as proc_spawn's child would, then execs (netlab exec). */
int proc_exec_here(const struct nl_spawn *sp, char *err, size_t errlen);
/* Stops the processes of recs (SIGTERM to each process group whose leader is still the recorded
 * process, or whose leader is gone; then SIGKILL after grace_ms). */
void proc_stop(const struct nl_proc_rec *recs, size_t n, unsigned grace_ms);
/* Kills (SIGKILL) every process whose network namespace is the named one; returns how many. */
int proc_kill_netns(const char *ns);

/* ---- namespaces and links (links.c) ---- */

/* Runs `ip` with the given arguments (NULL-terminated); 0, or -EIO with ip's stderr in err. */
int nl_ip(char *err, size_t errlen, const char *arg0, ...) __attribute__((sentinel));
/* Writes a sysctl inside a namespace (key dotted, e.g. "net.ipv4.ip_forward"). */
int nl_ns_sysctl(const char *ns, const char *key, const char *value, char *err, size_t errlen);
/* 1 if /run/netns/NAME exists. */
int nl_ns_exists(const char *ns);
int nl_ns_delete(const char *ns, char *err, size_t errlen);

struct nl_run;
/* Creates the switch namespace content, then for each service its namespace, interfaces,
 * addresses, routes, sysctls (recording namespaces in the state first). */
int links_up(struct nl_run *r);
/* Attaches (net >= 0) or detaches (net < 0) a mobile's radio interface. */
int links_radio_set(struct nl_run *r, size_t svc, size_t ifidx, int net);

/* ---- the run (cmd.c) ---- */
struct nl_run {
	struct nl_topo *t;
	struct nl_state st;
	char bin[4096];
	char sw[256];
	unsigned grace_ms;
	bool verbose;
};

/* Path of service s's control socket as seen from outside its mount namespace (a path under
 * /run/roam/ lives in RUNDIR/<service>/run/). */
void nl_ctl_path(const struct nl_run *r, const struct nl_svc *s, char *buf, size_t len);

/* Global options of the command line. */
struct nl_opts {
	const char *project;  /* -p NAME, or NULL */
	const char *bin;      /* --bin DIR, or NULL ($ROAM_BIN, else netlab's own directory) */
	unsigned grace_ms;    /* --grace: SIGTERM to SIGKILL */
	bool verbose;
	bool keep_logs;       /* down: keep RUNDIR's logs and JSON files */
};

/* The commands (cmd.c); argv[0] is the command name.  Each returns the exit status. */
int cmd_up(const struct nl_opts *o, int argc, char **argv);
int cmd_down(const struct nl_opts *o, int argc, char **argv);
int cmd_exec(const struct nl_opts *o, int argc, char **argv);
int cmd_ps(const struct nl_opts *o, int argc, char **argv);
int cmd_move(const struct nl_opts *o, int argc, char **argv);
int cmd_attach(const struct nl_opts *o, int argc, char **argv);
int cmd_detach(const struct nl_opts *o, int argc, char **argv);
int cmd_addr(const struct nl_opts *o, int argc, char **argv);
int cmd_ctl(const struct nl_opts *o, int argc, char **argv);
int cmd_check(const struct nl_opts *o, int argc, char **argv);

#endif
