/*
 * live: theory of operation.
 *
 * Problem: account the energy of real entities (a process tree, a cgroup,
 * libvirt/QEMU VMs) on the running Linux machine with the same core as
 * simulation and replay, show it as it happens, and make the result
 * reproducible with `joulevisor run`.
 *
 * Strategy ("the same core" by construction):
 *  1. Sources, each interval (default 100 ms, CLOCK_MONOTONIC): per
 *     entity, perf counter groups (traces/live_perf.c: task-clock always,
 *     hardware events where the machine has a PMU), or with --switches a
 *     context-switch sampler (a record at each switch-out), else
 *     /proc/PID/stat or the cgroup's CPU usage; block I/O from
 *     /proc/PID/io or the cgroup's io.stat / blkio.throttle statistics
 *     (traces/live_proc.c), mapped onto the machine's physical disks
 *     (/proc/diskstats order: disk0, disk1, ...).
 *  2. Recording: every sample is written at once as native traces in the
 *     record directory (--record DIR, else a temporary one): one
 *     `pmc-interval` file per entity (t_ns since the start, counter
 *     deltas) and one `blk-interval` file per entity (bytes and requests
 *     per disk), plus `live.ini`, a scenario that replays them in
 *     accounting mode with the session's CPU and disk parameters.
 *  3. Live table: each interval, the same CPU energy model
 *     (models/cpu_energy.h, weighted counters) turns the deltas into
 *     active power; the CPU baseline and disk idle power are split by the
 *     idle policies as the core does; disk active energy is bytes /
 *     nominal rate x (active - idle power). A tty gets a refreshing table,
 *     anything else CSV lines. --metrics-file and --listen export the same
 *     numbers in Prometheus text format.
 *  4. Accounting: at the end live.ini goes through run_main (sim/run.c),
 *     exactly as `joulevisor run REC/live.ini` would: the run directory,
 *     SQLite tables and matrix are the core's, and a replay of the
 *     recording reproduces them byte for byte (tests/scenarios/live.sh).
 *
 * Model without hardware counters (the fallback, stated in the output):
 * power = share of the CPU baseline + (busy - idle power) x utilization,
 * utilization from task-clock. It is the weighted model with one counter,
 * task_clock_ns, weighing (busy - idle) / 1e9 J per ns of CPU time; the
 * generated scenario has one CPU device (cpu0, the whole machine) at
 * 1 GHz whose TSC weighs ncpu x idle / 1e9 J per tick (the baseline), and
 * task_clock_ns as its `cycles` counter so the utilization idle policy
 * splits the baseline by CPU time.
 *
 * Parameters (defaults: the paper-2007 preset's machine): idle power per
 * CPU 36 W (12 nJ x 3 GHz), busy power per CPU 81 W (+ cycles 15 nJ x
 * 3 GHz), disk 3.6 W idle / 5.6 W active at 55 MB/s, CPU idle policy
 * utilization; --scenario FILE takes them from its [cpu] (tsc and cycles
 * weights, freq, a task_clock_ns weight, hardware counter weights by
 * name, idle_policy) and [disk]; --idle-power / --busy-power override.
 *
 * Enforcement (--enforce): each entity with a limit gets a cgroup in every
 * hierarchy (spawned commands and --pid processes are moved into one that
 * joulevisor creates; --cgroup entities use theirs): a CPU limit in watts
 * becomes a quota of limit / (active W per CPU-second measured in the
 * last interval) CPUs, a percentage a quota of that share of one CPU; a
 * disk limit in watts becomes limit / (active - idle) x nominal rate
 * bytes/s, a rate that rate, on every disk. traces/live_cgroup.c saves
 * each value and restores everything at the end, on SIGINT and SIGTERM.
 *
 * Limits: pid entities' disk bytes go to disk0 (/proc/PID/io has no
 * device); cgroup v1 throttle statistics count only devices with a rule;
 * the live table is the model evaluated per interval, the run directory
 * is the core's answer (they agree in totals).
 */
#include "sim/live.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/jv_err.h"
#include "base/units.h"
#include "models/cpu_energy.h"
#include "sim/run.h"
#include "sim/scenario.h"
#include "traces/live_cgroup.h"
#include "traces/live_energy.h"
#include "traces/live_perf.h"
#include "traces/live_proc.h"
#include "traces/trc.h"

#ifdef JV_HAVE_MICROHTTPD
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#endif

#define LIVE_DEFAULT_INTERVAL_NS 100000000LL /* 100 ms */
#define LIVE_MIN_INTERVAL_NS 10000000LL      /* 10 ms */
#define LIVE_MAX_INTERVAL_NS 3600000000000LL /* 1 h ([output] interval max) */
#define LIVE_MAX_POWER_RES_NS 1000000000LL   /* [output] power_resolution max */
#define LIVE_GRACE_NS 2000000000LL           /* SIGTERM, then SIGKILL after 2 s */
#define LIVE_MAX_ENTITIES 64
#define LIVE_DEFAULT_IDLE_W 36.0        /* per CPU: paper-2007, 12 nJ x 3 GHz */
#define LIVE_DEFAULT_ACTIVE_W 45.0      /* per busy CPU: cycles 15 nJ x 3 GHz */
#define LIVE_DEFAULT_DISK_IDLE_W 3.6    /* paper-2007 disk */
#define LIVE_DEFAULT_DISK_ACTIVE_W 5.6
#define LIVE_DEFAULT_DISK_RATE_BPS 55e6 /* 55 MB/s */
#define LIVE_FREQ_HZ 1e9                /* generated scenario: 1 tick = 1 ns */
#define LIVE_DRIVER "kernel"            /* the block layer, as a driver VM */
#define LIVE_PATH_MAX 4096
#define LIVE_TIDS_MAX 65536

enum ent_kind { ENT_SPAWN, ENT_PID, ENT_CGROUP };
enum cpu_src { CPU_PERF, CPU_SAMPLER, CPU_PROC_STAT, CPU_CGROUP_STAT, CPU_NONE };
enum io_src { IO_NONE, IO_PID, IO_CG_V1, IO_CG_V2 };

static const char *const CPU_SRC_NAMES[] = {"perf counters", "perf context-switch sampling",
					    "/proc/PID/stat", "cgroup CPU usage", "none"};
static const char *const IO_SRC_NAMES[] = {"none", "/proc/PID/io", "cgroup v1 blkio.throttle",
					   "cgroup v2 io.stat"};

struct tid_prev {
	uint32_t tid;
	int32_t cpu;
	uint64_t v[LPERF_N_EVENTS];
};

struct ent {
	char name[SCN_NAME_MAX];
	int kind;
	pid_t pid;
	char cgpath[LCG_PATH_MAX];
	char dir[LCG_N_NEEDS][LCG_PATH_MAX];
	int v2[LCG_N_NEEDS];
	int cpu_src, io_src;
	char cpu_why[256], io_why[256];
	struct lperf_group *grp;
	struct lperf_sampler *smp;
	struct tid_prev *tids;
	int ntids, captids;
	uint64_t cum[LPERF_N_EVENTS];     /* cumulative at the last record */
	uint64_t written[LPERF_N_EVENTS]; /* sampler: emitted so far */
	uint64_t iv[LPERF_N_EVENTS];      /* deltas of the current interval */
	int ev[LPERF_N_EVENTS], nctr;     /* trace columns (events) */
	uint64_t io_r[LPROC_MAX_DISKS], io_w[LPROC_MAX_DISKS];
	uint64_t io_rn[LPROC_MAX_DISKS], io_wn[LPROC_MAX_DISKS];
	uint64_t iv_r[LPROC_MAX_DISKS], iv_w[LPROC_MAX_DISKS];
	struct trc_writer *pw, *bw;
	int64_t last_t;
	uint64_t records, switch_records;
	/* limits */
	double cpu_limit_w, cpu_limit_cpus, disk_limit_w, disk_limit_bps;
	int has_cg; /* enforcement directories ready */
	double applied_cpus;
	uint64_t applied_bps;
	/* the live model */
	double e_cpu_active, e_cpu_idle, e_disk_active, e_disk_idle;
	double w_cpu, w_idle, w_disk;
	uint64_t tot_task_ns, tot_read_b, tot_write_b;
};

struct limit_arg {
	const char *name; /* NULL: every entity */
	const char *value;
	int disk;
};

struct opts {
	pid_t pids[LIVE_MAX_ENTITIES];
	int npids;
	const char *cgroups[LIVE_MAX_ENTITIES];
	int ncgroups;
	char **cmd;
	int vms;
	const char *name;
	int64_t interval_ns, duration_ns;
	const char *scenario, *out_dir, *db, *record, *metrics, *listen;
	int force, enforce, dry_run, switches, quiet;
	double idle_w, busy_w; /* < 0: not given */
	struct limit_arg lim[LIVE_MAX_ENTITIES];
	int nlim;
	const char *cmdline;
};

struct live {
	struct opts o;
	FILE *out, *err;
	int tty;
	struct ent ent[LIVE_MAX_ENTITIES];
	int n;
	int cpus[LPERF_MAX_CPUS], ncpu;
	struct lproc_disk disks[LPROC_MAX_DISKS];
	int ndisk;
	struct lcg_mounts mnt;
	int have_mnt;
	struct lcg_enf *enf;
	struct lenergy *energy;
	char energy_why[LENERGY_REASON_MAX * 2];
	double energy_j[LENERGY_MAX_DOMAINS], energy_prev_j;
	double energy_w;
	/* model */
	double idle_w, active_w; /* per CPU */
	double w[LPERF_N_EVENTS]; /* J per event */
	int fallback;
	char fallback_why[128];
	int policy, disk_policy;
	double disk_idle_w, disk_active_w, disk_rate_bps;
	struct cpu_energy model;
	double e_hyp_cpu, e_hyp_disk;
	/* session */
	int64_t t0_mono, last_tick_t;
	char recdir[LIVE_PATH_MAX];
	int rec_tmp;
	pid_t child;
	int child_status, child_done, child_reaped;
	struct rusage child_ru;
	uint64_t lost;
	int ticks;
	int hdr_done;
	/* metrics */
	pthread_mutex_t mx;
	char *metrics_text;
	void *httpd;
	int http_port;
	/* scratch for sampler records */
	struct lperf_sample *smp_buf;
	size_t nsmp, capsmp;
};

static volatile sig_atomic_t g_signal;

static void on_signal(int sig)
{
	if (!g_signal)
		g_signal = sig;
}

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int pathf(char *buf, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int pathf(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, cap, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= cap) {
		buf[0] = '\0';
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------------- */
/* usage and options                                                        */

void live_usage(FILE *f)
{
	fputs("usage: joulevisor live [ENTITIES] [options] [-- COMMAND [ARGS...]]\n"
	      "\n"
	      "Account the energy of live entities with the same core as `run`, record\n"
	      "native traces, show a live table, optionally enforce limits via cgroups.\n"
	      "\n"
	      "entities (at least one; each becomes a VM of the accounting):\n"
	      "  -- COMMAND ...        spawn COMMAND and measure it (the session ends\n"
	      "                        when it exits)\n"
	      "  --name NAME           name of the spawned command's entity (default:\n"
	      "                        its base name)\n"
	      "  --pid PID             a running process and its future children\n"
	      "  --cgroup PATH         a cgroup (repeatable), hierarchy-relative or under a\n"
	      "                        cgroup mount\n"
	      "  --vms                 libvirt/QEMU scopes under machine.slice\n"
	      "options:\n"
	      "  --interval T          sampling interval (default 100ms, at least 10ms)\n"
	      "  --duration T          end after T (a spawned command gets SIGTERM, then\n"
	      "                        SIGKILL after 2 s)\n"
	      "  --switches            context-switch sampling (a record at each switch)\n"
	      "  --scenario FILE       CPU and disk parameters ([cpu] weights, idle_policy,\n"
	      "                        [disk]); limits of [vm NAME] sections\n"
	      "  --idle-power W        CPU baseline per CPU (default 36W)\n"
	      "  --busy-power W        power of one fully busy CPU (default 81W)\n"
	      "  -o, --output DIR      run directory (default out/<name>)\n"
	      "  --force               replace an existing run (and record) directory\n"
	      "  --db FILE             also write the run into an SQLite database\n"
	      "  --record DIR          keep the recording (traces + live.ini) in DIR\n"
	      "  --cpu-limit [NAME=]V  CPU limit: power (9W) or share of one CPU (20%)\n"
	      "  --disk-limit [NAME=]V disk limit: power (1W) or rate (1MiB/s)\n"
	      "  --enforce             apply the limits to real cgroups (restored on exit)\n"
	      "  --dry-run             with --enforce: log the writes, change nothing\n"
	      "  --metrics-file FILE   Prometheus text format, replaced each interval\n"
	      "  --listen ADDR:PORT    serve /metrics over HTTP (loopback only)\n"
	      "  -q, --quiet           no live table, no matrix\n"
	      "\n"
	      "exit codes: 0 success, 1 runtime failure (no CPU-time source), 2 usage or\n"
	      "input error, 130/143 after SIGINT/SIGTERM (everything restored)\n",
	      f);
}

static int usage_err(struct live *L, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int usage_err(struct live *L, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("joulevisor: live: ", L->err);
	vfprintf(L->err, fmt, ap);
	fputc('\n', L->err);
	va_end(ap);
	return 2;
}

static int parse_time_opt(struct live *L, const char *opt, const char *v, int64_t *ns)
{
	char why[UNITS_WHY_MAX];
	if (units_parse_time_ns(v, ns, why) || *ns < 0)
		return usage_err(L, "%s: %s '%s'", opt, *ns < 0 ? "negative time" : why, v);
	return 0;
}

static int parse_args(struct live *L, int argc, char **argv)
{
	struct opts *o = &L->o;
	o->interval_ns = LIVE_DEFAULT_INTERVAL_NS;
	o->idle_w = o->busy_w = -1.0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = NULL;
		const char *eq = strchr(a, '=');
		char key[64];
		if (a[0] == '-' && a[1] == '-' && eq && (size_t)(eq - a) < sizeof key) {
			memcpy(key, a, (size_t)(eq - a));
			key[eq - a] = '\0';
			v = eq + 1;
			a = key;
		}
#define VAL()                                                                   \
	do {                                                                    \
		if (!v) {                                                       \
			if (i + 1 >= argc)                                      \
				return usage_err(L, "option %s needs a value", a); \
			v = argv[++i];                                          \
		}                                                               \
	} while (0)
		if (!strcmp(a, "--")) {
			if (i + 1 >= argc)
				return usage_err(L, "'--' must be followed by a command");
			o->cmd = &argv[i + 1];
			break;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			live_usage(L->out);
			return 1;
		} else if (!strcmp(a, "--pid")) {
			VAL();
			char *end;
			long p = strtol(v, &end, 10);
			if (*end || p <= 0 || p > INT32_MAX)
				return usage_err(L, "--pid: not a process id '%s'", v);
			if (o->npids >= LIVE_MAX_ENTITIES)
				return usage_err(L, "too many --pid (max %d)", LIVE_MAX_ENTITIES);
			o->pids[o->npids++] = (pid_t)p;
		} else if (!strcmp(a, "--cgroup")) {
			VAL();
			if (o->ncgroups >= LIVE_MAX_ENTITIES)
				return usage_err(L, "too many --cgroup (max %d)", LIVE_MAX_ENTITIES);
			o->cgroups[o->ncgroups++] = v;
		} else if (!strcmp(a, "--vms")) {
			o->vms = 1;
		} else if (!strcmp(a, "--name")) {
			VAL();
			o->name = v;
		} else if (!strcmp(a, "--interval")) {
			VAL();
			if (parse_time_opt(L, a, v, &o->interval_ns))
				return 2;
			if (o->interval_ns < LIVE_MIN_INTERVAL_NS || o->interval_ns > LIVE_MAX_INTERVAL_NS)
				return usage_err(L, "--interval: '%s' out of range [10ms, 1h]", v);
		} else if (!strcmp(a, "--duration")) {
			VAL();
			if (parse_time_opt(L, a, v, &o->duration_ns))
				return 2;
			if (o->duration_ns == 0)
				return usage_err(L, "--duration: must be > 0, found '%s'", v);
		} else if (!strcmp(a, "--scenario")) {
			VAL();
			o->scenario = v;
		} else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
			VAL();
			o->out_dir = v;
		} else if (!strcmp(a, "--force") || !strcmp(a, "-f")) {
			o->force = 1;
		} else if (!strcmp(a, "--db")) {
			VAL();
			o->db = v;
		} else if (!strcmp(a, "--record")) {
			VAL();
			o->record = v;
		} else if (!strcmp(a, "--enforce")) {
			o->enforce = 1;
		} else if (!strcmp(a, "--dry-run")) {
			o->dry_run = 1;
		} else if (!strcmp(a, "--switches")) {
			o->switches = 1;
		} else if (!strcmp(a, "--metrics-file")) {
			VAL();
			o->metrics = v;
		} else if (!strcmp(a, "--listen")) {
			VAL();
			o->listen = v;
		} else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
			o->quiet = 1;
		} else if (!strcmp(a, "--idle-power") || !strcmp(a, "--busy-power")) {
			VAL();
			double w;
			char why[UNITS_WHY_MAX];
			if (units_parse_power_w(v, &w, why) || w < 0)
				return usage_err(L, "%s: %s '%s'", a, w < 0 ? "negative power" : why, v);
			*(a[2] == 'i' ? &o->idle_w : &o->busy_w) = w;
		} else if (!strcmp(a, "--cpu-limit") || !strcmp(a, "--disk-limit")) {
			VAL();
			if (o->nlim >= LIVE_MAX_ENTITIES)
				return usage_err(L, "too many limits (max %d)", LIVE_MAX_ENTITIES);
			struct limit_arg *l = &o->lim[o->nlim++];
			l->disk = a[2] == 'd';
			const char *e2 = strchr(v, '=');
			l->name = NULL;
			l->value = v;
			if (e2) {
				char *nm = (char *)v; /* argv strings are writable */
				nm[e2 - v] = '\0';
				l->name = nm;
				l->value = e2 + 1;
			}
		} else {
			return usage_err(L, "unknown option '%s' (see `joulevisor live --help`)", a);
		}
#undef VAL
	}
	if (!o->cmd && !o->npids && !o->ncgroups && !o->vms)
		return usage_err(L, "no entity: give --pid, --cgroup, --vms or -- COMMAND");
	if (o->dry_run && !o->enforce)
		return usage_err(L, "--dry-run applies to --enforce");
	if (o->name && !o->cmd)
		return usage_err(L, "--name names the spawned command (-- COMMAND)");
	return 0;
}

/* ---------------------------------------------------------------------- */
/* entities                                                                 */

static void sanitize_name(const char *in, char *out, size_t cap)
{
	size_t j = 0;
	for (const char *p = in; *p && j + 1 < cap && j < SCN_NAME_MAX - 1; p++) {
		char c = *p;
		int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			 c == '_' || c == '.' || c == '-';
		out[j++] = ok ? c : '_';
	}
	out[j] = '\0';
	if (!j || !strcmp(out, ".") || !strcmp(out, ".."))
		pathf(out, cap, "entity");
}

static int name_taken(const struct live *L, const char *nm)
{
	if (!strcmp(nm, "hypervisor") || !strcmp(nm, "unattributed") || !strcmp(nm, LIVE_DRIVER))
		return 1;
	for (int i = 0; i < L->n; i++)
		if (!strcmp(L->ent[i].name, nm))
			return 1;
	return 0;
}

static struct ent *ent_add(struct live *L, int kind, const char *base)
{
	if (L->n >= LIVE_MAX_ENTITIES)
		return NULL;
	struct ent *e = &L->ent[L->n];
	memset(e, 0, sizeof *e);
	e->kind = kind;
	char nm[SCN_NAME_MAX];
	sanitize_name(base, nm, sizeof nm);
	if (name_taken(L, nm)) {
		char try[SCN_NAME_MAX + 16];
		for (int k = 2;; k++) {
			snprintf(try, sizeof try, "%.50s-%d", nm, k);
			if (!name_taken(L, try))
				break;
		}
		pathf(nm, sizeof nm, "%s", try);
	}
	memcpy(e->name, nm, sizeof nm);
	L->n++;
	return e;
}

static void resolve_dirs(struct live *L, struct ent *e)
{
	for (int k = 0; k < LCG_N_NEEDS; k++)
		lcg_dir(&L->mnt, k, e->cgpath, e->dir[k], sizeof e->dir[k], &e->v2[k]);
}

/* ---------------------------------------------------------------------- */
/* sources                                                                  */

static unsigned wanted_events(void)
{
	return LPERF_ALL_EVENTS;
}

/* Open an entity's CPU source; returns 0 or 1 when it has none. */
static int open_cpu(struct live *L, struct ent *e, int before_exec)
{
	struct jv_diag d;
	jv_diag_clear(&d);
	e->cpu_src = CPU_NONE;
	if (e->kind != ENT_CGROUP) {
		if (L->o.switches &&
		    lperf_sampler_open(e->pid, L->cpus, L->ncpu, before_exec, wanted_events(), &e->smp,
				       &d) == 0) {
			e->cpu_src = CPU_SAMPLER;
			for (int ev = 0; ev < LPERF_N_EVENTS; ev++)
				if (lperf_sampler_has(e->smp, ev))
					e->ev[e->nctr++] = ev;
			return 0;
		}
		if (L->o.switches)
			pathf(e->cpu_why, sizeof e->cpu_why, "switch sampling: %s", d.msg);
		jv_diag_clear(&d);
		if (lperf_open_pid(e->pid, 1, before_exec, wanted_events(), &e->grp, &d) == 0) {
			e->cpu_src = CPU_PERF;
		} else {
			pathf(e->cpu_why, sizeof e->cpu_why, "%s", d.msg);
			uint64_t ns;
			jv_diag_clear(&d);
			if (lproc_pid_cpu_ns("/proc", e->pid, &ns, &d) == 0) {
				e->cpu_src = CPU_PROC_STAT;
				e->cum[LPERF_TASK_CLOCK] = ns;
			}
		}
	} else {
		if (e->dir[LCG_PERF][0] &&
		    lperf_open_cgroup(e->dir[LCG_PERF], L->cpus, L->ncpu, wanted_events(), &e->grp,
				      &d) == 0) {
			e->cpu_src = CPU_PERF;
		} else {
			pathf(e->cpu_why, sizeof e->cpu_why, "%s",
			      e->dir[LCG_PERF][0] ? d.msg : "no perf_event hierarchy has this cgroup");
			uint64_t ns;
			jv_diag_clear(&d);
			if (e->dir[LCG_CPUACCT][0] &&
			    lproc_cgroup_cpu_ns(e->dir[LCG_CPUACCT], e->v2[LCG_CPUACCT], &ns, &d) == 0) {
				e->cpu_src = CPU_CGROUP_STAT;
				e->cum[LPERF_TASK_CLOCK] = ns;
			}
		}
	}
	if (e->cpu_src == CPU_PERF) {
		for (int ev = 0; ev < LPERF_N_EVENTS; ev++)
			if (lperf_has(e->grp, ev))
				e->ev[e->nctr++] = ev;
	} else if (e->cpu_src != CPU_NONE) {
		e->ev[e->nctr++] = LPERF_TASK_CLOCK;
	}
	return e->cpu_src == CPU_NONE;
}

/* Cumulative I/O counters of an entity per disk; 0 or < 0. */
static int read_io(struct live *L, struct ent *e, uint64_t *r, uint64_t *w, uint64_t *rn,
		   uint64_t *wn)
{
	struct jv_diag d;
	jv_diag_clear(&d);
	memset(r, 0, LPROC_MAX_DISKS * sizeof *r);
	memset(w, 0, LPROC_MAX_DISKS * sizeof *w);
	memset(rn, 0, LPROC_MAX_DISKS * sizeof *rn);
	memset(wn, 0, LPROC_MAX_DISKS * sizeof *wn);
	if (e->io_src == IO_PID) {
		struct lproc_io io;
		int rc = lproc_pid_io("/proc", e->pid, &io, &d);
		if (rc)
			return rc;
		r[0] = io.read_b;
		w[0] = io.write_b;
		return 0;
	}
	if (e->io_src == IO_CG_V1 || e->io_src == IO_CG_V2) {
		struct lproc_devio dv[64];
		int n = 0;
		int rc = e->io_src == IO_CG_V2 ? lproc_cgroup_io_v2(e->dir[LCG_IO], dv, 64, &n, &d)
					       : lproc_cgroup_io_v1(e->dir[LCG_IO], dv, 64, &n, &d);
		if (rc)
			return rc;
		for (int i = 0; i < n; i++)
			for (int k = 0; k < L->ndisk; k++)
				if (L->disks[k].maj == dv[i].maj && L->disks[k].min == dv[i].min) {
					r[k] = dv[i].read_b;
					w[k] = dv[i].write_b;
					rn[k] = dv[i].reads;
					wn[k] = dv[i].writes;
				}
		return 0;
	}
	return 0;
}

static void open_io(struct live *L, struct ent *e)
{
	e->io_src = IO_NONE;
	if (L->ndisk == 0) {
		pathf(e->io_why, sizeof e->io_why, "no physical disk");
		return;
	}
	if (e->kind != ENT_CGROUP) {
		e->io_src = IO_PID;
	} else if (e->dir[LCG_IO][0]) {
		e->io_src = e->v2[LCG_IO] ? IO_CG_V2 : IO_CG_V1;
	} else {
		pathf(e->io_why, sizeof e->io_why, "no blkio/io hierarchy has this cgroup");
		return;
	}
	if (read_io(L, e, e->io_r, e->io_w, e->io_rn, e->io_wn)) {
		/* a held child has its file; a cgroup without statistics counts 0 */
		memset(e->io_r, 0, sizeof e->io_r);
		memset(e->io_w, 0, sizeof e->io_w);
	}
}

/* ---------------------------------------------------------------------- */
/* recording                                                                */

static int open_writers(struct live *L, struct ent *e, struct jv_diag *d)
{
	char path[LIVE_PATH_MAX];
	const char *names[LPERF_N_EVENTS];
	for (int i = 0; i < e->nctr; i++)
		names[i] = lperf_event_name(e->ev[i]);
	pathf(path, sizeof path, "%s/%s.pmc.csv", L->recdir, e->name);
	int rc = trc_writer_open(path, TRC_PMC_INTERVAL, names, e->nctr, &e->pw, d);
	if (rc)
		return rc;
	pathf(path, sizeof path, "%s/%s.blk.csv", L->recdir, e->name);
	return trc_writer_open(path, TRC_BLK_INTERVAL, NULL, 0, &e->bw, d);
}

static int write_pmci(struct ent *e, int64_t t_ns, const uint64_t *delta, struct jv_diag *d)
{
	struct trc_pmc_interval p;
	memset(&p, 0, sizeof p);
	if (t_ns < e->last_t)
		t_ns = e->last_t;
	p.t_ns = t_ns;
	for (int i = 0; i < e->nctr; i++) {
		p.delta[i] = delta[e->ev[i]];
		e->iv[e->ev[i]] += delta[e->ev[i]];
	}
	e->last_t = t_ns;
	e->records++;
	int rc = trc_write_pmci(e->pw, &p, e->name);
	if (rc)
		*d = *trc_writer_diag(e->pw);
	return rc;
}

/* The previous values of a thread's counters on one CPU: with inherited
 * per-CPU counters a sample reads the instance of the CPU it was taken on,
 * so a thread that migrates has one running value per CPU. */
static struct tid_prev *tid_slot(struct ent *e, uint32_t tid, int32_t cpu)
{
	for (int i = 0; i < e->ntids; i++)
		if (e->tids[i].tid == tid && e->tids[i].cpu == cpu)
			return &e->tids[i];
	if (e->ntids >= LIVE_TIDS_MAX)
		return NULL;
	if (e->ntids == e->captids) {
		int cap = e->captids ? 2 * e->captids : 16;
		struct tid_prev *n = realloc(e->tids, (size_t)cap * sizeof *n);
		if (!n)
			return NULL;
		e->tids = n;
		e->captids = cap;
	}
	struct tid_prev *s = &e->tids[e->ntids++];
	memset(s, 0, sizeof *s);
	s->tid = tid;
	s->cpu = cpu;
	return s;
}

static void collect_sample(void *ctx, const struct lperf_sample *smp)
{
	struct live *L = ctx;
	if (L->nsmp == L->capsmp) {
		size_t cap = L->capsmp ? 2 * L->capsmp : 1024;
		struct lperf_sample *n = realloc(L->smp_buf, cap * sizeof *n);
		if (!n)
			return; /* dropped: the interval record reconciles */
		L->smp_buf = n;
		L->capsmp = cap;
	}
	L->smp_buf[L->nsmp++] = *smp;
}

static int cmp_sample(const void *a, const void *b)
{
	const struct lperf_sample *x = a, *y = b;
	return (x->t_mono_ns > y->t_mono_ns) - (x->t_mono_ns < y->t_mono_ns);
}

/* Sampler: one record per switch-out since the last tick. */
static int sampler_records(struct live *L, struct ent *e, int64_t now_mono, struct jv_diag *d)
{
	L->nsmp = 0;
	uint64_t lost = 0;
	lperf_sampler_drain(e->smp, now_mono, collect_sample, L, &lost);
	L->lost += lost;
	qsort(L->smp_buf, L->nsmp, sizeof *L->smp_buf, cmp_sample);
	for (size_t i = 0; i < L->nsmp; i++) {
		const struct lperf_sample *s = &L->smp_buf[i];
		struct tid_prev *tp = tid_slot(e, s->tid, s->cpu);
		if (!tp)
			continue;
		uint64_t delta[LPERF_N_EVENTS];
		for (int ev = 0; ev < LPERF_N_EVENTS; ev++) {
			delta[ev] = s->val[ev] > tp->v[ev] ? s->val[ev] - tp->v[ev] : 0;
			tp->v[ev] = s->val[ev] > tp->v[ev] ? s->val[ev] : tp->v[ev];
			e->written[ev] += delta[ev];
		}
		int64_t t = s->t_mono_ns - L->t0_mono;
		int rc = write_pmci(e, t < 0 ? 0 : t, delta, d);
		if (rc)
			return rc;
		e->switch_records++;
	}
	return 0;
}

/* Sample one entity at t_ns (since the start): CPU record(s), I/O records. */
static int sample_entity(struct live *L, struct ent *e, int64_t t_ns, int64_t upto_mono,
			 int final, struct jv_diag *d)
{
	uint64_t cur[LPERF_N_EVENTS], delta[LPERF_N_EVENTS];
	memset(cur, 0, sizeof cur);
	memset(delta, 0, sizeof delta);
	memset(e->iv, 0, sizeof e->iv);
	int rc = 0;
	struct jv_diag dd;
	jv_diag_clear(&dd);
	switch (e->cpu_src) {
	case CPU_SAMPLER:
		/* records at the switches up to the tick; the counts since the
		 * last switch of each thread come with its next switch, and at
		 * the end of the session the remainder (total - recorded) */
		rc = sampler_records(L, e, upto_mono, d);
		if (rc)
			return rc;
		if (final && lperf_sampler_read(e->smp, cur, &dd) == 0)
			for (int ev = 0; ev < LPERF_N_EVENTS; ev++) {
				delta[ev] = cur[ev] > e->written[ev] ? cur[ev] - e->written[ev] : 0;
				e->written[ev] += delta[ev];
			}
		break;
	case CPU_PERF:
		if (lperf_read(e->grp, cur, NULL, &dd) == 0)
			for (int ev = 0; ev < LPERF_N_EVENTS; ev++) {
				delta[ev] = cur[ev] > e->cum[ev] ? cur[ev] - e->cum[ev] : 0;
				if (cur[ev] > e->cum[ev])
					e->cum[ev] = cur[ev];
			}
		break;
	case CPU_PROC_STAT:
	case CPU_CGROUP_STAT: {
		uint64_t ns = 0;
		int r2 = e->cpu_src == CPU_PROC_STAT
			? lproc_pid_cpu_ns("/proc", e->pid, &ns, &dd)
			: lproc_cgroup_cpu_ns(e->dir[LCG_CPUACCT], e->v2[LCG_CPUACCT], &ns, &dd);
		if (!r2 && ns > e->cum[LPERF_TASK_CLOCK]) {
			delta[LPERF_TASK_CLOCK] = ns - e->cum[LPERF_TASK_CLOCK];
			e->cum[LPERF_TASK_CLOCK] = ns;
		}
		break;
	}
	default:
		break;
	}
	rc = write_pmci(e, t_ns, delta, d);
	if (rc)
		return rc;
	/* block I/O: one record per disk */
	uint64_t r[LPROC_MAX_DISKS], w[LPROC_MAX_DISKS], rn[LPROC_MAX_DISKS], wn[LPROC_MAX_DISKS];
	int have_io = e->io_src != IO_NONE && read_io(L, e, r, w, rn, wn) == 0;
	for (int k = 0; k < L->ndisk; k++) {
		struct trc_blk_interval b;
		memset(&b, 0, sizeof b);
		b.t_ns = e->last_t;
		b.disk = k;
		if (have_io) {
			b.read_b = (int64_t)(r[k] > e->io_r[k] ? r[k] - e->io_r[k] : 0);
			b.write_b = (int64_t)(w[k] > e->io_w[k] ? w[k] - e->io_w[k] : 0);
			b.reads = (int64_t)(rn[k] > e->io_rn[k] ? rn[k] - e->io_rn[k] : 0);
			b.writes = (int64_t)(wn[k] > e->io_wn[k] ? wn[k] - e->io_wn[k] : 0);
			if (r[k] > e->io_r[k])
				e->io_r[k] = r[k];
			if (w[k] > e->io_w[k])
				e->io_w[k] = w[k];
			if (rn[k] > e->io_rn[k])
				e->io_rn[k] = rn[k];
			if (wn[k] > e->io_wn[k])
				e->io_wn[k] = wn[k];
		}
		e->iv_r[k] = (uint64_t)b.read_b;
		e->iv_w[k] = (uint64_t)b.write_b;
		e->tot_read_b += (uint64_t)b.read_b;
		e->tot_write_b += (uint64_t)b.write_b;
		rc = trc_write_blki(e->bw, &b, e->name);
		if (rc) {
			*d = *trc_writer_diag(e->bw);
			return rc;
		}
	}
	e->tot_task_ns += e->iv[LPERF_TASK_CLOCK];
	return 0;
}

/* ---------------------------------------------------------------------- */
/* the model (live table, metrics)                                          */

static void model_setup(struct live *L, const struct scn *s, int have_hw[LPERF_N_EVENTS])
{
	L->idle_w = LIVE_DEFAULT_IDLE_W;
	L->active_w = LIVE_DEFAULT_ACTIVE_W;
	L->policy = SCN_IDLE_UTILIZATION;
	L->disk_policy = SCN_IDLE_EQUAL;
	L->disk_idle_w = LIVE_DEFAULT_DISK_IDLE_W;
	L->disk_active_w = LIVE_DEFAULT_DISK_ACTIVE_W;
	L->disk_rate_bps = LIVE_DEFAULT_DISK_RATE_BPS;
	memset(L->w, 0, sizeof L->w);
	double task_w = -1.0; /* J per ns from a task_clock_ns weight */
	if (s) {
		const struct scn_cpu *c = &s->cpu;
		L->idle_w = c->tsc_index >= 0 ? c->weight_j[c->tsc_index] * c->freq_hz : 0.0;
		L->active_w = c->cycles_index >= 0 ? c->weight_j[c->cycles_index] * c->freq_hz : 0.0;
		L->policy = c->idle_policy;
		L->disk_policy = s->disk.idle_policy;
		L->disk_idle_w = s->disk.idle_power_w;
		L->disk_active_w = s->disk.active_power_w;
		L->disk_rate_bps = s->disk.nominal_rate_bps > 0 ? s->disk.nominal_rate_bps
								: s->disk.media_rate_bps;
		for (int ev = 0; ev < LPERF_N_EVENTS; ev++) {
			int k = scn_counter_index(s, lperf_event_name(ev));
			if (k < 0)
				continue;
			if (ev == LPERF_TASK_CLOCK)
				task_w = c->weight_j[k];
			else if (lperf_event_is_hw(ev) && have_hw[ev])
				L->w[ev] = c->weight_j[k];
		}
	}
	if (L->o.idle_w >= 0)
		L->idle_w = L->o.idle_w;
	if (L->o.busy_w >= 0) {
		L->active_w = L->o.busy_w - L->idle_w;
		if (L->active_w < 0)
			L->active_w = 0;
		task_w = -1.0;
	}
	int hw = 0;
	for (int ev = 0; ev < LPERF_N_EVENTS; ev++)
		if (lperf_event_is_hw(ev) && L->w[ev] > 0)
			hw = 1;
	L->fallback = !hw;
	if (L->fallback) {
		L->w[LPERF_TASK_CLOCK] = task_w >= 0 ? task_w : L->active_w / LIVE_FREQ_HZ;
		L->active_w = L->w[LPERF_TASK_CLOCK] * LIVE_FREQ_HZ;
		pathf(L->fallback_why, sizeof L->fallback_why, "%s",
		      have_hw[LPERF_CYCLES] ? "no weight for the hardware counters"
					    : "no hardware counters");
	}
	L->model.ops = &cpu_energy_weighted_pmc;
	L->model.n_counters = LPERF_N_EVENTS;
	L->model.tsc_index = -1;
	for (int ev = 0; ev < LPERF_N_EVENTS; ev++)
		L->model.weight_j[ev] = L->w[ev];
}

static void split(int policy, const double *by_busy, const double *by_active, int n,
		  int extra, double pot, double *share, double *rest)
{
	double sum = 0;
	*rest = 0;
	for (int i = 0; i < n; i++)
		share[i] = 0;
	switch (policy) {
	case SCN_IDLE_EQUAL:
		for (int i = 0; i < n; i++)
			share[i] = pot / (double)(n + extra);
		*rest = pot * (double)extra / (double)(n + extra);
		return;
	case SCN_IDLE_UTILIZATION:
	case SCN_IDLE_PROPORTIONAL: {
		const double *by = policy == SCN_IDLE_UTILIZATION ? by_busy : by_active;
		for (int i = 0; i < n; i++)
			sum += by[i];
		if (sum <= 0) {
			*rest = pot;
			return;
		}
		for (int i = 0; i < n; i++)
			share[i] = pot * by[i] / sum;
		return;
	}
	default:
		*rest = pot;
	}
}

static void model_interval(struct live *L, double dt_s)
{
	int n = L->n;
	double busy[LIVE_MAX_ENTITIES] = {0}, act[LIVE_MAX_ENTITIES] = {0},
	       dbusy[LIVE_MAX_ENTITIES] = {0}, dact[LIVE_MAX_ENTITIES] = {0},
	       share[LIVE_MAX_ENTITIES] = {0}, rest = 0;
	for (int i = 0; i < n; i++) {
		struct ent *e = &L->ent[i];
		double delta[CPU_ENERGY_MAX_COUNTERS] = {0};
		for (int ev = 0; ev < LPERF_N_EVENTS; ev++)
			delta[ev] = (double)e->iv[ev];
		double idle_j, active_j;
		cpu_energy_period(&L->model, (int64_t)(dt_s * 1e9), delta, &idle_j, &active_j);
		busy[i] = (double)e->iv[LPERF_TASK_CLOCK];
		act[i] = active_j;
		double bytes = 0;
		for (int k = 0; k < L->ndisk; k++)
			bytes += (double)(e->iv_r[k] + e->iv_w[k]);
		dbusy[i] = L->disk_rate_bps > 0 ? bytes / L->disk_rate_bps : 0;
		dact[i] = dbusy[i] * (L->disk_active_w - L->disk_idle_w);
		e->e_cpu_active += act[i];
		e->e_disk_active += dact[i];
	}
	double base_j = (double)L->ncpu * L->idle_w * dt_s;
	split(L->policy, busy, act, n, 1 /* the kernel driver VM */, base_j, share, &rest);
	/* the driver VM's equal share stays unattributed; the core books it so */
	L->e_hyp_cpu += rest;
	for (int i = 0; i < n; i++) {
		struct ent *e = &L->ent[i];
		e->e_cpu_idle += share[i];
		e->w_cpu = dt_s > 0 ? act[i] / dt_s : 0;
		e->w_idle = dt_s > 0 ? share[i] / dt_s : 0;
	}
	double disk_idle_j = (double)L->ndisk * L->disk_idle_w * dt_s;
	split(L->disk_policy, dbusy, dact, n, 0, disk_idle_j, share, &rest);
	L->e_hyp_disk += rest;
	for (int i = 0; i < n; i++) {
		struct ent *e = &L->ent[i];
		e->e_disk_idle += share[i];
		e->w_idle += dt_s > 0 ? share[i] / dt_s : 0;
		e->w_disk = dt_s > 0 ? dact[i] / dt_s : 0;
	}
}

/* ---------------------------------------------------------------------- */
/* output: table, CSV lines, metrics                                        */

static void fmt_limit(const struct ent *e, char *buf, size_t cap)
{
	char a[48] = "", b[48] = "";
	if (e->cpu_limit_w > 0)
		snprintf(a, sizeof a, "cpu %.3gW", e->cpu_limit_w);
	else if (e->cpu_limit_cpus > 0)
		snprintf(a, sizeof a, "cpu %.3g%%", 100.0 * e->cpu_limit_cpus);
	if (e->disk_limit_w > 0)
		snprintf(b, sizeof b, "disk %.3gW", e->disk_limit_w);
	else if (e->disk_limit_bps > 0)
		snprintf(b, sizeof b, "disk %.3gMiB/s", e->disk_limit_bps / 1048576.0);
	pathf(buf, cap, "%s%s%s", a, a[0] && b[0] ? " " : "", b[0] || a[0] ? b : "-");
}

static void fmt_throttle(const struct live *L, const struct ent *e, char *buf, size_t cap)
{
	char a[48] = "", b[48] = "";
	if (e->applied_cpus > 0)
		snprintf(a, sizeof a, "%.3g CPU", e->applied_cpus);
	if (e->applied_bps > 0)
		snprintf(b, sizeof b, "%.3gMiB/s", (double)e->applied_bps / 1048576.0);
	pathf(buf, cap, "%s%s%s%s", a, a[0] && b[0] ? " " : "", b,
	      !a[0] && !b[0] ? "-" : L->o.dry_run ? " (dry-run)" : "");
}

static void print_tick(struct live *L, int64_t t_ns)
{
	if (L->o.quiet)
		return;
	char lim[96], thr[96];
	double t_s = (double)t_ns * 1e-9;
	if (L->tty) {
		fputs("\033[H\033[J", L->out);
		fprintf(L->out, "joulevisor live  t=%.1fs  interval %.0fms  model: %s",
			t_s, (double)L->o.interval_ns * 1e-6,
			L->fallback ? "fallback (task-clock)" : "weighted counters");
		if (L->energy)
			fprintf(L->out, "  measured %.1fW", L->energy_w);
		fputc('\n', L->out);
		fprintf(L->out, "%-20s %9s %9s %9s %9s  %-20s %s\n", "entity", "cpu_w", "disk_w",
			"idle_w", "total_w", "limit", "throttle");
		for (int i = 0; i < L->n; i++) {
			struct ent *e = &L->ent[i];
			fmt_limit(e, lim, sizeof lim);
			fmt_throttle(L, e, thr, sizeof thr);
			fprintf(L->out, "%-20s %9.3f %9.3f %9.3f %9.3f  %-20s %s\n", e->name, e->w_cpu,
				e->w_disk, e->w_idle, e->w_cpu + e->w_disk + e->w_idle, lim, thr);
		}
		fflush(L->out);
		return;
	}
	if (!L->hdr_done) {
		fprintf(L->out, "t_s,entity,cpu_w,disk_w,idle_w,total_w,limit,throttle\n");
		L->hdr_done = 1;
	}
	for (int i = 0; i < L->n; i++) {
		struct ent *e = &L->ent[i];
		fmt_limit(e, lim, sizeof lim);
		fmt_throttle(L, e, thr, sizeof thr);
		fprintf(L->out, "%.3f,%s,%.6g,%.6g,%.6g,%.6g,%s,%s\n", t_s, e->name, e->w_cpu,
			e->w_disk, e->w_idle, e->w_cpu + e->w_disk + e->w_idle, lim, thr);
	}
	fflush(L->out);
}

static char *metrics_render(const struct live *L)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	fprintf(f, "# HELP joulevisor_energy_joules_total Energy charged to a consumer on a device "
		   "since the live session started.\n");
	fprintf(f, "# TYPE joulevisor_energy_joules_total counter\n");
#define EMIT(cons, dev, via, kind, v)                                                    \
	fprintf(f, "joulevisor_energy_joules_total{consumer=\"%s\",device=\"%s\",via=\"%s\"," \
		   "kind=\"%s\"} %.10g\n", cons, dev, via, kind, v)
	for (int i = 0; i < L->n; i++) {
		const struct ent *e = &L->ent[i];
		EMIT(e->name, "cpu0", "direct", "idle", e->e_cpu_idle);
		EMIT(e->name, "cpu0", "direct", "active", e->e_cpu_active);
		if (L->ndisk) {
			EMIT(e->name, "disk", LIVE_DRIVER, "idle", e->e_disk_idle);
			EMIT(e->name, "disk", LIVE_DRIVER, "active", e->e_disk_active);
		}
	}
	EMIT("hypervisor", "cpu0", "direct", "idle", L->e_hyp_cpu);
	if (L->ndisk)
		EMIT("hypervisor", "disk", "direct", "idle", L->e_hyp_disk);
#undef EMIT
	fprintf(f, "# HELP joulevisor_power_watts Mean power of a consumer on a device over the "
		   "last interval.\n");
	fprintf(f, "# TYPE joulevisor_power_watts gauge\n");
	for (int i = 0; i < L->n; i++) {
		const struct ent *e = &L->ent[i];
		fprintf(f, "joulevisor_power_watts{consumer=\"%s\",device=\"cpu0\"} %.10g\n", e->name,
			e->w_cpu + e->w_idle);
		if (L->ndisk)
			fprintf(f, "joulevisor_power_watts{consumer=\"%s\",device=\"disk\"} %.10g\n",
				e->name, e->w_disk);
	}
	if (L->energy) {
		fprintf(f, "# HELP joulevisor_measured_energy_joules_total Energy measured by %s.\n",
			lenergy_source(L->energy));
		fprintf(f, "# TYPE joulevisor_measured_energy_joules_total counter\n");
		for (int k = 0; k < lenergy_n_domains(L->energy); k++)
			fprintf(f, "joulevisor_measured_energy_joules_total{domain=\"%s\"} %.10g\n",
				lenergy_domain_name(L->energy, k), L->energy_j[k]);
	}
	fprintf(f, "# HELP joulevisor_live_intervals_total Sampling intervals so far.\n");
	fprintf(f, "# TYPE joulevisor_live_intervals_total counter\n");
	fprintf(f, "joulevisor_live_intervals_total %d\n", L->ticks);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

static int metrics_publish(struct live *L, struct jv_diag *d)
{
	if (!L->o.metrics && !L->httpd)
		return 0;
	char *text = metrics_render(L);
	if (!text)
		return jv_diag_set(d, JV_ENOMEM, NULL, 0, "out of memory");
	if (L->o.metrics) {
		char tmp[LIVE_PATH_MAX];
		pathf(tmp, sizeof tmp, "%s.tmp-%d", L->o.metrics, (int)getpid());
		FILE *f = fopen(tmp, "w");
		int ok = f && fputs(text, f) >= 0;
		if (f && fclose(f))
			ok = 0;
		if (!ok || rename(tmp, L->o.metrics)) {
			int e = errno;
			unlink(tmp);
			free(text);
			return jv_diag_set(d, JV_EIO, L->o.metrics, 0, "cannot write: %s", strerror(e));
		}
	}
	pthread_mutex_lock(&L->mx);
	free(L->metrics_text);
	L->metrics_text = text;
	pthread_mutex_unlock(&L->mx);
	return 0;
}

#ifdef JV_HAVE_MICROHTTPD
static enum MHD_Result http_answer(void *cls, struct MHD_Connection *c, const char *url,
				   const char *method, const char *version, const char *upload,
				   size_t *upload_size, void **con_cls)
{
	struct live *L = cls;
	(void)version;
	(void)upload;
	(void)upload_size;
	(void)con_cls;
	int ok = strcmp(method, "GET") == 0 && strcmp(url, "/metrics") == 0;
	pthread_mutex_lock(&L->mx);
	const char *body = ok ? (L->metrics_text ? L->metrics_text : "") : "not found: try /metrics\n";
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body,
								 MHD_RESPMEM_MUST_COPY);
	pthread_mutex_unlock(&L->mx);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", ok ? "text/plain; version=0.0.4" : "text/plain");
	enum MHD_Result rc = MHD_queue_response(c, ok ? MHD_HTTP_OK : MHD_HTTP_NOT_FOUND, r);
	MHD_destroy_response(r);
	return rc;
}
#endif

static int http_start(struct live *L, struct jv_diag *d)
{
	if (!L->o.listen)
		return 0;
#ifndef JV_HAVE_MICROHTTPD
	return jv_diag_set(d, JV_EUSAGE, NULL, 0,
			   "--listen: this joulevisor was built without libmicrohttpd "
			   "(apt-get install libmicrohttpd-dev, then rebuild)");
#else
	char host[256];
	const char *a = L->o.listen;
	const char *colon = strrchr(a, ':');
	if (!colon || colon == a || !colon[1])
		return jv_diag_set(d, JV_EUSAGE, NULL, 0, "--listen: expected ADDR:PORT, got '%s'", a);
	size_t hl = (size_t)(colon - a);
	if (hl >= sizeof host)
		hl = sizeof host - 1;
	memcpy(host, a, hl);
	host[hl] = '\0';
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (*end || port < 0 || port > 65535)
		return jv_diag_set(d, JV_EUSAGE, NULL, 0, "--listen: bad port '%s'", colon + 1);
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	if (!strcmp(host, "localhost"))
		snprintf(host, sizeof host, "127.0.0.1");
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1 ||
	    (ntohl(sa.sin_addr.s_addr) >> 24) != 127)
		return jv_diag_set(d, JV_EUSAGE, NULL, 0,
				   "--listen: '%s' is not a loopback IPv4 address (127.x.x.x or "
				   "localhost): /metrics is served on loopback only", host);
	struct MHD_Daemon *dm = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, (uint16_t)port,
						 NULL, NULL, http_answer, L, MHD_OPTION_SOCK_ADDR,
						 (struct sockaddr *)&sa, MHD_OPTION_END);
	if (!dm)
		return jv_diag_set(d, JV_EIO, NULL, 0, "--listen: cannot listen on %s: %s", a,
				   strerror(errno));
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(dm, MHD_DAEMON_INFO_BIND_PORT);
	L->http_port = info ? (int)info->port : (int)port;
	L->httpd = dm;
	fprintf(L->err, "joulevisor: live: serving http://%s:%d/metrics\n", host, L->http_port);
	fflush(L->err);
	return 0;
#endif
}

static void http_stop(struct live *L)
{
#ifdef JV_HAVE_MICROHTTPD
	if (L->httpd)
		MHD_stop_daemon(L->httpd);
#endif
	L->httpd = NULL;
}

/* ---------------------------------------------------------------------- */
/* capability table                                                         */

static const char *errno_name(int e)
{
	switch (e) {
	case 0: return "ok";
	case ENOENT: return "ENOENT";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case EACCES: return "EACCES";
	case EPERM: return "EPERM";
	case EINVAL: return "EINVAL";
	case ESRCH: return "ESRCH";
	default: return "error";
	}
}

static void cap_row(FILE *f, const char *what, const char *status, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void cap_row(FILE *f, const char *what, const char *status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(f, "  %-26s %-12s ", what, status);
	vfprintf(f, fmt, ap);
	fputc('\n', f);
	va_end(ap);
}

static void capability_table(struct live *L, int have_hw[LPERF_N_EVENTS])
{
	FILE *f = L->err;
	char buf[64] = "?";
	FILE *p = fopen("/proc/sys/kernel/perf_event_paranoid", "r");
	if (p) {
		if (!fgets(buf, sizeof buf, p))
			buf[0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		fclose(p);
	}
	fprintf(f, "joulevisor: live: capabilities of this machine\n");
	cap_row(f, "source", "status", "detail");
	struct jv_diag d;
	jv_diag_clear(&d);
	struct lperf_group *g = NULL;
	int rc = lperf_open_pid(getpid(), 0, 0, LPERF_ALL_EVENTS, &g, &d);
	cap_row(f, "perf_event_open", rc ? "unavailable" : "ok",
		"perf_event_paranoid=%s, euid %d%s", buf, (int)geteuid(), rc ? d.msg : "");
	for (int ev = 0; ev < LPERF_N_EVENTS; ev++) {
		int e = g ? lperf_event_errno(g, ev) : EACCES;
		have_hw[ev] = g && lperf_has(g, ev);
		char what[64];
		snprintf(what, sizeof what, "%s (%s)", lperf_event_perf_name(ev),
			 lperf_event_is_hw(ev) ? "hw" : "sw");
		cap_row(f, what, e ? "unavailable" : "ok", "%s%s%s", e ? errno_name(e) : "counting",
			e ? ": " : "",
			e == ENOENT || e == EOPNOTSUPP ? "no such event (no PMU)"
			: e == EACCES || e == EPERM    ? "permission denied"
			: e                            ? strerror(e)
						       : "");
	}
	lperf_close(g);
	struct lperf_sampler *s = NULL;
	jv_diag_clear(&d);
	rc = lperf_sampler_open(getpid(), L->cpus, L->ncpu, 0, 1u << LPERF_TASK_CLOCK, &s, &d);
	cap_row(f, "context-switch sampling", rc ? "unavailable" : "ok", "%s",
		rc ? d.msg
		   : lperf_sampler_inherits(s) ? "per-CPU rings, inherited (PERF_SAMPLE_READ)"
					       : "main thread only (no inherit with SAMPLE_READ)");
	lperf_sampler_close(s);
	cap_row(f, "libpfm4 event names", "unavailable", "not built in (symbolic names: %s)",
		"perf's generic events only");
	if (L->have_mnt) {
		for (int k = 0; k < LCG_N_NEEDS; k++) {
			const char *base = L->mnt.v1[k][0] ? L->mnt.v1[k]
					 : L->mnt.v2_has[k] ? L->mnt.v2 : "";
			char what[64];
			snprintf(what, sizeof what, "cgroup %s", lcg_need_name(k));
			cap_row(f, what, base[0] ? "ok" : "unavailable", "%s%s%s",
				base[0] ? (L->mnt.v1[k][0] ? "v1 " : "v2 ") : "no hierarchy", base,
				k == LCG_IO && L->mnt.v1[k][0]
					? " (statistics only for devices with a throttle rule)"
					: "");
		}
	} else {
		cap_row(f, "cgroups", "unavailable", "cannot read /proc/self/mountinfo");
	}
	if (L->ndisk) {
		char list[512] = "";
		size_t n = 0;
		for (int k = 0; k < L->ndisk && n < sizeof list; k++) {
			int w = snprintf(list + n, sizeof list - n, "%sdisk%d=%s (%u:%u)", k ? ", " : "",
					 k, L->disks[k].name, L->disks[k].maj, L->disks[k].min);
			if (w > 0)
				n += (size_t)w;
		}
		cap_row(f, "disks (/proc/diskstats)", "ok", "%s", list);
	} else {
		cap_row(f, "disks (/proc/diskstats)", "unavailable", "no physical disk");
	}
	cap_row(f, "process I/O (/proc/PID/io)", access("/proc/self/io", R_OK) ? "unavailable" : "ok",
		"storage-layer bytes per process (to disk0)");
	if (L->energy)
		cap_row(f, "measured energy", "ok", "%s (%d domain(s))", lenergy_source(L->energy),
			lenergy_n_domains(L->energy));
	else
		cap_row(f, "measured energy", "unavailable", "measured energy unavailable: %s",
			L->energy_why);
#ifdef JV_HAVE_MICROHTTPD
	cap_row(f, "http /metrics", "ok", "libmicrohttpd (--listen)");
#else
	cap_row(f, "http /metrics", "unavailable", "built without libmicrohttpd");
#endif
	cap_row(f, "enforcement", L->o.enforce ? "on" : "off", "%s",
		!L->o.enforce ? "--enforce applies limits to cgroups"
		: L->o.dry_run ? "dry-run: writes are logged, not done"
			       : "cpu and io limits written, restored at exit");
	fflush(f);
}

/* ---------------------------------------------------------------------- */
/* enforcement                                                              */

static int parse_limit(struct live *L, const struct limit_arg *l, struct ent *e)
{
	char why[UNITS_WHY_MAX];
	const char *v = l->value;
	size_t n = strlen(v);
	if (!l->disk) {
		if (n && v[n - 1] == '%') {
			char tmp[64];
			double pct;
			pathf(tmp, sizeof tmp, "%.*s", (int)(n - 1), v);
			if (units_parse_double(tmp, &pct, why) || pct <= 0)
				return usage_err(L, "--cpu-limit: expected a power or a percentage, got '%s'", v);
			e->cpu_limit_cpus = pct / 100.0;
			e->cpu_limit_w = 0;
			return 0;
		}
		double w;
		if (units_parse_power_w(v, &w, why) || w <= 0)
			return usage_err(L, "--cpu-limit: %s '%s'", w <= 0 ? "must be > 0" : why, v);
		e->cpu_limit_w = w;
		e->cpu_limit_cpus = 0;
		return 0;
	}
	double w, bps;
	if (units_parse_power_w(v, &w, NULL) == 0 && w > 0 && strchr(v, 'W')) {
		e->disk_limit_w = w;
		e->disk_limit_bps = 0;
		return 0;
	}
	if (units_parse_rate_bps(v, &bps, why) || bps <= 0)
		return usage_err(L, "--disk-limit: expected a power (W) or a rate (B/s), got '%s'", v);
	e->disk_limit_bps = bps;
	e->disk_limit_w = 0;
	return 0;
}

static int setup_limits(struct live *L, const struct scn *s)
{
	for (int i = 0; i < L->n; i++) {
		struct ent *e = &L->ent[i];
		int k = s ? scn_vm_index(s, e->name) : -1;
		if (k >= 0) {
			e->cpu_limit_w = s->vm[k].cpu_limit_w;
			e->disk_limit_w = s->vm[k].disk_limit_w;
		}
	}
	for (int j = 0; j < L->o.nlim; j++) {
		const struct limit_arg *l = &L->o.lim[j];
		int found = 0;
		for (int i = 0; i < L->n; i++) {
			if (l->name && strcmp(l->name, L->ent[i].name))
				continue;
			found = 1;
			if (parse_limit(L, l, &L->ent[i]))
				return 2;
		}
		if (!found)
			return usage_err(L, "%s: no entity named '%s'",
					 l->disk ? "--disk-limit" : "--cpu-limit", l->name);
	}
	return 0;
}

static int has_limit(const struct ent *e)
{
	return e->cpu_limit_w > 0 || e->cpu_limit_cpus > 0 || e->disk_limit_w > 0 ||
	       e->disk_limit_bps > 0;
}

/* Directories for enforcement: a cgroup of joulevisor's own for processes. */
static int enforce_prepare(struct live *L, struct ent *e, struct jv_diag *d)
{
	if (!L->o.enforce || !has_limit(e))
		return 0;
	if (!L->have_mnt)
		return jv_diag_set(d, JV_EINVAL, NULL, 0, "--enforce: no cgroup hierarchy found");
	if (e->kind != ENT_CGROUP) {
		char path[LCG_PATH_MAX];
		pathf(path, sizeof path, "/joulevisor-live-%d-%s", (int)getpid(), e->name);
		int rc = lcg_create(L->enf, &L->mnt, path, d);
		if (!rc)
			rc = lcg_attach(L->enf, &L->mnt, path, e->pid, "/proc", d);
		if (rc)
			return rc;
		memcpy(e->cgpath, path, sizeof path);
		resolve_dirs(L, e);
	}
	e->has_cg = 1;
	return 0;
}

static int enforce_apply(struct live *L, struct ent *e, int first, struct jv_diag *d)
{
	if (!L->o.enforce || !e->has_cg)
		return 0;
	int rc = 0;
	double cpus = 0;
	if (e->cpu_limit_cpus > 0) {
		cpus = first ? e->cpu_limit_cpus : 0;
	} else if (e->cpu_limit_w > 0) {
		double w_per_cpu = L->active_w;
		double ns = (double)e->iv[LPERF_TASK_CLOCK];
		if (!first && ns > 0 && e->w_cpu > 0) {
			double dt_s = (double)L->o.interval_ns * 1e-9;
			w_per_cpu = e->w_cpu * dt_s / (ns * 1e-9);
		}
		if (w_per_cpu > 0)
			cpus = e->cpu_limit_w / w_per_cpu;
		if (cpus > L->ncpu)
			cpus = L->ncpu;
		if (!first && fabs(cpus - e->applied_cpus) <= 0.01 * e->applied_cpus)
			cpus = 0; /* no change worth a write */
	}
	if (cpus > 0) {
		if (!e->dir[LCG_CPU][0] && !L->o.dry_run)
			return jv_diag_set(d, JV_EINVAL, e->name, 0,
					   "--enforce: no cpu hierarchy has this entity's cgroup");
		rc = lcg_set_cpu(L->enf, e->dir[LCG_CPU][0] ? e->dir[LCG_CPU] : "(cpu)",
				 e->v2[LCG_CPU], cpus, 0, d);
		if (rc)
			return rc;
		e->applied_cpus = cpus;
	}
	if (first && (e->disk_limit_w > 0 || e->disk_limit_bps > 0)) {
		double bps = e->disk_limit_bps;
		if (e->disk_limit_w > 0) {
			double dw = L->disk_active_w - L->disk_idle_w;
			bps = dw > 0 ? e->disk_limit_w / dw * L->disk_rate_bps : 0;
		}
		if (bps >= 1 && !e->dir[LCG_IO][0] && !L->o.dry_run)
			return jv_diag_set(d, JV_EINVAL, e->name, 0,
					   "--enforce: no blkio/io hierarchy has this entity's cgroup");
		for (int k = 0; k < L->ndisk && bps >= 1; k++) {
			rc = lcg_set_io(L->enf, e->dir[LCG_IO][0] ? e->dir[LCG_IO] : "(io)",
					e->v2[LCG_IO], L->disks[k].maj, L->disks[k].min,
					(uint64_t)bps, (uint64_t)bps, d);
			if (rc)
				return rc;
		}
		e->applied_bps = (uint64_t)bps;
	}
	return 0;
}

/* ---------------------------------------------------------------------- */
/* the spawned command                                                      */

struct spawn {
	pid_t pid;
	int go_w, st_r;
};

static int spawn_hold(struct live *L, char **cmd, struct spawn *sp, struct jv_diag *d)
{
	int go[2], st[2];
	if (pipe(go))
		return jv_diag_set(d, JV_EIO, NULL, 0, "pipe: %s", strerror(errno));
	if (pipe(st)) {
		close(go[0]);
		close(go[1]);
		return jv_diag_set(d, JV_EIO, NULL, 0, "pipe: %s", strerror(errno));
	}
	for (int i = 0; i < 2; i++) {
		fcntl(go[i], F_SETFD, FD_CLOEXEC);
		fcntl(st[i], F_SETFD, FD_CLOEXEC);
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return jv_diag_set(d, JV_EIO, NULL, 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		close(go[1]);
		close(st[0]);
		setpgid(0, 0);
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = SIG_DFL;
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		char c;
		if (read(go[0], &c, 1) != 1)
			_exit(127);
		execvp(cmd[0], cmd);
		int e = errno;
		if (write(st[1], &e, sizeof e) < 0)
			_exit(127);
		_exit(127);
	}
	close(go[0]);
	close(st[1]);
	setpgid(pid, pid);
	sp->pid = pid;
	sp->go_w = go[1];
	sp->st_r = st[0];
	L->child = pid;
	return 0;
}

static int spawn_release(struct spawn *sp, const char *cmd, struct jv_diag *d)
{
	char c = 'g';
	int rc = 0;
	if (write(sp->go_w, &c, 1) != 1)
		rc = jv_diag_set(d, JV_EIO, NULL, 0, "starting '%s': %s", cmd, strerror(errno));
	close(sp->go_w);
	int e = 0;
	ssize_t n = read(sp->st_r, &e, sizeof e);
	close(sp->st_r);
	if (!rc && n == (ssize_t)sizeof e)
		rc = jv_diag_set(d, e == ENOENT ? JV_ENOENT : JV_EIO, NULL, 0, "cannot run '%s': %s",
				 cmd, strerror(e));
	return rc;
}

static int child_exited(struct live *L)
{
	if (!L->child || L->child_done)
		return L->child_done;
	siginfo_t si;
	memset(&si, 0, sizeof si);
	if (waitid(P_PID, L->child, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == L->child)
		L->child_done = 1;
	return L->child_done;
}

static void child_reap(struct live *L)
{
	if (!L->child || L->child_reaped)
		return;
	int st = 0;
	if (wait4(L->child, &st, 0, &L->child_ru) == L->child) {
		L->child_status = st;
		L->child_reaped = 1;
	}
}

/* SIGTERM to the command's process group, SIGKILL after the grace period. */
static void child_stop(struct live *L)
{
	if (!L->child || child_exited(L))
		return;
	kill(-L->child, SIGTERM);
	kill(L->child, SIGTERM);
	int64_t until = mono_ns() + LIVE_GRACE_NS;
	while (!child_exited(L) && mono_ns() < until) {
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	if (!child_exited(L)) {
		kill(-L->child, SIGKILL);
		kill(L->child, SIGKILL);
		while (!child_exited(L)) {
			struct timespec ts = {0, 5 * 1000 * 1000};
			nanosleep(&ts, NULL);
		}
	}
}

/* ---------------------------------------------------------------------- */
/* the generated scenario                                                   */

static int write_scenario(struct live *L, int64_t dur_ns, const int used[LPERF_N_EVENTS],
			  char *path, size_t cap, struct jv_diag *d)
{
	char tmp[LIVE_PATH_MAX];
	pathf(path, cap, "%s/live.ini", L->recdir);
	pathf(tmp, sizeof tmp, "%s/.live.ini.tmp-%d", L->recdir, (int)getpid());
	FILE *f = fopen(tmp, "w");
	if (!f)
		return jv_diag_set(d, JV_EIO, tmp, 0, "cannot create: %s", strerror(errno));
	static const char *const pol[] = {"equal", "utilization", "proportional", "base"};
	char name[SCN_NAME_MAX];
	sanitize_name(L->o.name ? L->o.name : L->n == 1 ? L->ent[0].name : "live", name, sizeof name);
	int64_t power_res = L->o.interval_ns < LIVE_MAX_POWER_RES_NS ? L->o.interval_ns
								     : LIVE_MAX_POWER_RES_NS;
	fprintf(f, "; generated by `joulevisor live`: replays the session's recording in\n"
		   "; accounting mode with the session's CPU and disk parameters.\n"
		   "; `joulevisor run live.ini` reproduces the live run's accounting.\n");
	fprintf(f, "; cpu model: %s (%d CPU(s) as one device cpu0)\n",
		L->fallback ? "fallback: baseline share + (busy - idle) x utilization from task-clock"
			    : "weighted hardware counters",
		L->ncpu);
	fprintf(f, "[global]\nname = %s\nduration = %" PRId64 "ns\nreplay_mode = accounting\n",
		name, dur_ns);
	fprintf(f, "[machine]\npreset = none\n");
	fprintf(f, "[cpu]\ncount = 1\nfreq = 1GHz\ncounters = tsc");
	for (int ev = 0; ev < LPERF_N_EVENTS; ev++)
		if (used[ev])
			fprintf(f, ",%s", lperf_event_name(ev));
	fprintf(f, "\ntsc_counter = tsc\ncycles_counter = task_clock_ns\n");
	fprintf(f, "weights = tsc:%.17gJ", (double)L->ncpu * L->idle_w / LIVE_FREQ_HZ);
	for (int ev = 0; ev < LPERF_N_EVENTS; ev++)
		if (used[ev])
			fprintf(f, ",%s:%.17gJ", lperf_event_name(ev), L->w[ev]);
	fprintf(f, "\nidle_policy = %s\n", pol[L->policy & 3]);
	fprintf(f, "[disk]\ncount = %d\nidle_power = %.17gW\nactive_power = %.17gW\n"
		   "media_rate = %.17gB/s\nnominal_rate = %.17gB/s\nidle_policy = %s\n",
		L->ndisk > 0 ? L->ndisk : 1, L->ndisk > 0 ? L->disk_idle_w : 0.0,
		L->ndisk > 0 ? L->disk_active_w : 0.0, L->disk_rate_bps, L->disk_rate_bps,
		pol[L->disk_policy & 3]);
	fprintf(f, "[output]\ninterval = %" PRId64 "ns\npower_resolution = %" PRId64 "ns\n",
		L->o.interval_ns, power_res);
	fprintf(f, "; the block layer plays the driver VM (via = %s)\n", LIVE_DRIVER);
	fprintf(f, "[vm %s]\nkind = driver\nidle_cpu_power = 0W\n", LIVE_DRIVER);
	for (int i = 0; i < L->n; i++) {
		const struct ent *e = &L->ent[i];
		fprintf(f, "[vm %s]\ntrace_mode = accounting\ntrace = %s.pmc.csv\ntrace = %s.blk.csv\n",
			e->name, e->name, e->name);
	}
	int bad = ferror(f);
	if (fclose(f) || bad || rename(tmp, path)) {
		int e = errno;
		unlink(tmp);
		return jv_diag_set(d, JV_EIO, path, 0, "cannot write: %s", strerror(e));
	}
	return 0;
}

/* ---------------------------------------------------------------------- */
/* the session                                                              */

static int prepare_recdir(struct live *L, struct jv_diag *d)
{
	if (!L->o.record) {
		const char *tmpdir = getenv("TMPDIR");
		pathf(L->recdir, sizeof L->recdir, "%s/joulevisor-live-XXXXXX",
		      tmpdir && tmpdir[0] ? tmpdir : "/tmp");
		if (!mkdtemp(L->recdir))
			return jv_diag_set(d, JV_EIO, L->recdir, 0, "cannot create: %s", strerror(errno));
		L->rec_tmp = 1;
		return 0;
	}
	pathf(L->recdir, sizeof L->recdir, "%s", L->o.record);
	if (mkdir(L->recdir, 0755) == 0)
		return 0;
	if (errno != EEXIST)
		return jv_diag_set(d, JV_EIO, L->recdir, 0, "cannot create: %s", strerror(errno));
	char probe[LIVE_PATH_MAX];
	pathf(probe, sizeof probe, "%s/live.ini", L->recdir);
	if (!access(probe, F_OK) && !L->o.force)
		return jv_diag_set(d, JV_EEXIST, L->recdir, 0,
				   "already holds a recording (use --force to replace it)");
	return 0;
}

static void remove_recdir(struct live *L)
{
	char path[LIVE_PATH_MAX];
	for (int i = 0; i < L->n; i++) {
		pathf(path, sizeof path, "%s/%s.pmc.csv", L->recdir, L->ent[i].name);
		unlink(path);
		pathf(path, sizeof path, "%s/%s.blk.csv", L->recdir, L->ent[i].name);
		unlink(path);
	}
	pathf(path, sizeof path, "%s/live.ini", L->recdir);
	unlink(path);
	rmdir(L->recdir);
}

static int add_entities(struct live *L, struct spawn *sp, struct jv_diag *d)
{
	struct opts *o = &L->o;
	if (o->cmd) {
		const char *base = strrchr(o->cmd[0], '/');
		struct ent *e = ent_add(L, ENT_SPAWN, o->name ? o->name : base ? base + 1 : o->cmd[0]);
		if (!e)
			return jv_diag_set(d, JV_ELIMIT, NULL, 0, "too many entities");
		int rc = spawn_hold(L, o->cmd, sp, d);
		if (rc)
			return rc;
		e->pid = sp->pid;
	}
	for (int i = 0; i < o->npids; i++) {
		char comm[64];
		lproc_comm("/proc", o->pids[i], comm, sizeof comm);
		if (!comm[0] || kill(o->pids[i], 0) != 0)
			return jv_diag_set(d, JV_ENOENT, NULL, 0, "--pid %d: no such process",
					   (int)o->pids[i]);
		struct ent *e = ent_add(L, ENT_PID, comm);
		if (!e)
			return jv_diag_set(d, JV_ELIMIT, NULL, 0, "too many entities");
		e->pid = o->pids[i];
	}
	for (int i = 0; i < o->ncgroups; i++) {
		if (!L->have_mnt)
			return jv_diag_set(d, JV_ENOENT, NULL, 0, "--cgroup: no cgroup mount found");
		char cg[LCG_PATH_MAX];
		lcg_normalize(&L->mnt, o->cgroups[i], cg, sizeof cg);
		const char *base = strrchr(cg, '/');
		char nm[SCN_NAME_MAX];
		pathf(nm, sizeof nm, "%s", base && base[1] ? base + 1 : "root");
		char *dot = strstr(nm, ".scope");
		if (!dot)
			dot = strstr(nm, ".slice");
		if (dot && dot != nm)
			*dot = '\0';
		struct ent *e = ent_add(L, ENT_CGROUP, nm);
		if (!e)
			return jv_diag_set(d, JV_ELIMIT, NULL, 0, "too many entities");
		memcpy(e->cgpath, cg, sizeof cg);
		resolve_dirs(L, e);
		int any = 0;
		for (int k = 0; k < LCG_N_NEEDS; k++)
			any |= e->dir[k][0] != 0;
		if (!any)
			return jv_diag_set(d, JV_ENOENT, o->cgroups[i], 0,
					   "no cgroup of that path in any hierarchy");
	}
	if (o->vms) {
		char (*paths)[LCG_PATH_MAX] = calloc(LIVE_MAX_ENTITIES, sizeof *paths);
		char (*names)[64] = calloc(LIVE_MAX_ENTITIES, sizeof *names);
		int n = paths && names && L->have_mnt
			? lcg_find_vms(&L->mnt, paths, names, LIVE_MAX_ENTITIES) : 0;
		if (n == 0)
			fprintf(L->err, "joulevisor: live: --vms: no libvirt/QEMU scope "
					"(machine-qemu*.scope) under machine.slice\n");
		for (int i = 0; i < n; i++) {
			struct ent *e = ent_add(L, ENT_CGROUP, names[i]);
			if (!e)
				break;
			memcpy(e->cgpath, paths[i], sizeof e->cgpath);
			resolve_dirs(L, e);
		}
		free(paths);
		free(names);
	}
	return 0;
}

static void print_entities(struct live *L)
{
	char ibuf[32];
	fprintf(L->err, "joulevisor: live: %d entit%s, %d CPU(s), interval %s, recording in %s\n",
		L->n, L->n == 1 ? "y" : "ies", L->ncpu, units_fmt_time_ns(L->o.interval_ns, ibuf),
		L->recdir);
	for (int i = 0; i < L->n; i++) {
		const struct ent *e = &L->ent[i];
		static const char *const kinds[] = {"command", "pid", "cgroup"};
		fprintf(L->err, "  %-16s %-7s %-24s cpu: %s%s%s; io: %s%s%s\n", e->name,
			kinds[e->kind], e->kind == ENT_CGROUP ? e->cgpath : "",
			CPU_SRC_NAMES[e->cpu_src], e->cpu_why[0] && e->cpu_src != CPU_PERF &&
			e->cpu_src != CPU_SAMPLER ? " (perf: " : "",
			e->cpu_why[0] && e->cpu_src != CPU_PERF && e->cpu_src != CPU_SAMPLER ? e->cpu_why
											   : "",
			IO_SRC_NAMES[e->io_src], e->io_why[0] ? " " : "", e->io_why);
	}
	if (L->fallback)
		fprintf(L->err, "joulevisor: live: cpu model: fallback (%s): power = share of the "
				"baseline + (busy - idle) x utilization from task-clock; idle %.4g W x "
				"%d CPU(s), busy %.4g W per CPU (%.4g nJ per ns of CPU time)\n",
			L->fallback_why, L->idle_w, L->ncpu, L->idle_w + L->active_w,
			L->w[LPERF_TASK_CLOCK] * 1e9);
	else
		fprintf(L->err, "joulevisor: live: cpu model: weighted hardware counters "
				"(models/cpu_energy.h), baseline %.4g W x %d CPU(s)\n",
			L->idle_w, L->ncpu);
	fflush(L->err);
}

/* One sample of every entity. Regular ticks are labelled with their
 * nominal time t_nominal (a multiple of the interval: the replay's
 * snapshots fall on the same boundaries); the final one (t_nominal < 0)
 * with the actual time. */
static int tick(struct live *L, int64_t t_nominal, struct jv_diag *d)
{
	int64_t now = mono_ns();
	int final = t_nominal < 0;
	int64_t t = final ? now - L->t0_mono : t_nominal;
	if (t <= L->last_tick_t)
		t = L->last_tick_t + 1;
	int64_t upto = final ? now : L->t0_mono + t;
	for (int i = 0; i < L->n; i++) {
		int rc = sample_entity(L, &L->ent[i], t, upto, final, d);
		if (rc)
			return rc;
		if (L->ent[i].last_t > t)
			t = L->ent[i].last_t;
	}
	double dt_s = (double)(t - L->last_tick_t) * 1e-9;
	L->last_tick_t = t;
	L->ticks++;
	model_interval(L, dt_s);
	if (L->energy) {
		struct jv_diag ed;
		jv_diag_clear(&ed);
		if (lenergy_read(L->energy, L->energy_j, &ed) == 0) {
			double tot = 0;
			for (int k = 0; k < lenergy_n_domains(L->energy); k++)
				tot += L->energy_j[k];
			L->energy_w = dt_s > 0 ? (tot - L->energy_prev_j) / dt_s : 0;
			L->energy_prev_j = tot;
		}
	}
	for (int i = 0; i < L->n; i++) {
		int rc = enforce_apply(L, &L->ent[i], 0, d);
		if (rc)
			return rc;
	}
	print_tick(L, t);
	return metrics_publish(L, d);
}

static void sleep_until(int64_t t_mono)
{
	struct timespec ts = {(time_t)(t_mono / 1000000000LL), (long)(t_mono % 1000000000LL)};
	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL); /* EINTR: a signal */
}

static int run_loop(struct live *L, struct jv_diag *d)
{
	int64_t next = L->t0_mono + L->o.interval_ns;
	int64_t end = L->o.duration_ns > 0 ? L->t0_mono + L->o.duration_ns : INT64_MAX;
	for (;;) {
		int64_t wake = next < end ? next : end;
		while (!g_signal && !child_exited(L) && mono_ns() < wake) {
			/* wake early to notice the child's exit */
			int64_t step = mono_ns() + 20000000LL;
			sleep_until(step < wake ? step : wake);
		}
		int64_t now = mono_ns();
		if (now >= next && next <= end) {
			/* every boundary passed gets its record (a missed one, after an
			 * overrun, is merged into the latest) so the replay's snapshot
			 * intervals each hold one */
			while (next + L->o.interval_ns <= now && next + L->o.interval_ns <= end)
				next += L->o.interval_ns;
			int rc = tick(L, next - L->t0_mono, d);
			if (rc)
				return rc;
			next += L->o.interval_ns;
		}
		if (g_signal || child_exited(L) || now >= end)
			break;
	}
	child_stop(L);
	return tick(L, -1, d); /* the final sample: up to now */
}

static void close_all(struct live *L)
{
	for (int i = 0; i < L->n; i++) {
		struct ent *e = &L->ent[i];
		lperf_close(e->grp);
		e->grp = NULL;
		lperf_sampler_close(e->smp);
		e->smp = NULL;
		trc_writer_abort(e->pw);
		trc_writer_abort(e->bw);
		e->pw = e->bw = NULL;
		free(e->tids);
		e->tids = NULL;
	}
}

static int finish_writers(struct live *L, struct jv_diag *d)
{
	int rc = 0;
	for (int i = 0; i < L->n; i++) {
		struct ent *e = &L->ent[i];
		if (e->pw) {
			int r = trc_writer_close(e->pw, d);
			e->pw = NULL;
			rc = rc ? rc : r;
		}
		if (e->bw) {
			int r = trc_writer_close(e->bw, d);
			e->bw = NULL;
			rc = rc ? rc : r;
		}
	}
	return rc;
}

static void print_end(struct live *L)
{
	fprintf(L->err, "joulevisor: live: %d interval(s), %.3f s", L->ticks,
		(double)L->last_tick_t * 1e-9);
	if (L->lost)
		fprintf(L->err, ", %" PRIu64 " switch sample(s) lost (ring full)", L->lost);
	fputc('\n', L->err);
	for (int i = 0; i < L->n; i++) {
		const struct ent *e = &L->ent[i];
		fprintf(L->err, "  %-16s cpu %.3f s, read %" PRIu64 " B, written %" PRIu64
				" B, %" PRIu64 " record(s)%s",
			e->name, (double)e->tot_task_ns * 1e-9, e->tot_read_b, e->tot_write_b,
			e->records, "");
		if (e->cpu_src == CPU_SAMPLER)
			fprintf(L->err, ", %" PRIu64 " at context switches", e->switch_records);
		fputc('\n', L->err);
	}
	if (L->child_reaped) {
		double ru = (double)(L->child_ru.ru_utime.tv_sec + L->child_ru.ru_stime.tv_sec) +
			    (double)(L->child_ru.ru_utime.tv_usec + L->child_ru.ru_stime.tv_usec) * 1e-6;
		if (WIFEXITED(L->child_status))
			fprintf(L->err, "joulevisor: live: command exited with status %d (rusage "
					"cpu %.3f s)\n", WEXITSTATUS(L->child_status), ru);
		else if (WIFSIGNALED(L->child_status))
			fprintf(L->err, "joulevisor: live: command killed by signal %d (rusage cpu "
					"%.3f s)\n", WTERMSIG(L->child_status), ru);
	}
	fflush(L->err);
}

static int live_session(struct live *L, struct jv_diag *d)
{
	struct scn *s = NULL;
	struct spawn sp = {0, -1, -1};
	int rc = 0, have_hw[LPERF_N_EVENTS] = {0};
	char scen_path[LIVE_PATH_MAX] = "";
	/* the machine */
	rc = lproc_online_cpus("/sys", L->cpus, LPERF_MAX_CPUS, &L->ncpu, d);
	if (rc)
		return rc;
	if (lproc_disks("/proc", "/sys", L->disks, LPROC_MAX_DISKS, &L->ndisk, d)) {
		jv_diag_clear(d);
		L->ndisk = 0;
	}
	struct jv_diag md;
	jv_diag_clear(&md);
	L->have_mnt = lcg_mounts_scan("/proc/self/mountinfo", "", &L->mnt, &md) == 0;
	if (lenergy_open("/sys", &L->energy, L->energy_why, sizeof L->energy_why))
		L->energy = NULL;
	if (L->o.scenario) {
		rc = scn_load(L->o.scenario, NULL, 0, &s, d);
		if (rc)
			return rc;
	}
	rc = lcg_enf_new(L->o.dry_run, L->err, &L->enf);
	if (rc)
		goto out;
	capability_table(L, have_hw);
	model_setup(L, s, have_hw);
	rc = prepare_recdir(L, d);
	if (rc)
		goto out;
	rc = add_entities(L, &sp, d);
	if (rc)
		goto out;
	if (L->n == 0) {
		rc = jv_diag_set(d, JV_EIO, NULL, 0, "no entity to measure: no CPU-time source at all");
		goto out;
	}
	if (setup_limits(L, s)) {
		rc = JV_EUSAGE;
		d->err = JV_EUSAGE; /* message already printed */
		goto out;
	}
	for (int i = 0; i < L->n; i++) {
		struct ent *e = &L->ent[i];
		rc = enforce_prepare(L, e, d);
		if (rc)
			goto out;
		if (open_cpu(L, e, e->kind == ENT_SPAWN)) {
			rc = jv_diag_set(d, JV_EIO, NULL, 0,
					 "%s: no CPU-time source at all (%s)", e->name, e->cpu_why);
			goto out;
		}
		open_io(L, e);
		rc = open_writers(L, e, d);
		if (rc)
			goto out;
	}
	print_entities(L);
	rc = http_start(L, d);
	if (rc)
		goto out;
	for (int i = 0; i < L->n; i++) {
		rc = enforce_apply(L, &L->ent[i], 1, d);
		if (rc)
			goto out;
	}
	L->t0_mono = mono_ns();
	if (sp.pid) {
		rc = spawn_release(&sp, L->o.cmd[0], d);
		sp.pid = 0;
		if (rc)
			goto out;
	}
	rc = metrics_publish(L, d);
	if (!rc)
		rc = run_loop(L, d);
	child_reap(L);
	if (rc)
		goto out;
	print_end(L);
	rc = finish_writers(L, d);
	if (rc)
		goto out;
	int used[LPERF_N_EVENTS] = {0};
	for (int i = 0; i < L->n; i++)
		for (int k = 0; k < L->ent[i].nctr; k++)
			used[L->ent[i].ev[k]] = 1;
	used[LPERF_TASK_CLOCK] = 1;
	rc = write_scenario(L, L->last_tick_t, used, scen_path, sizeof scen_path, d);
out:
	if (sp.pid) { /* never released: kill the held child */
		close(sp.go_w);
		close(sp.st_r);
	}
	if (L->child && !L->child_done) {
		child_stop(L);
	}
	child_reap(L);
	http_stop(L);
	close_all(L);
	struct jv_diag rd;
	jv_diag_clear(&rd);
	if (lcg_restore(L->enf, &rd) && !rc) {
		*d = rd;
		rc = rd.err;
	} else if (rd.err) {
		fprintf(L->err, "joulevisor: live: %s\n", rd.msg);
	}
	if (!rc && L->enf && lcg_n_writes(L->enf))
		fprintf(L->err, "joulevisor: live: enforcement: %d write(s)%s, every value "
				"restored\n", lcg_n_writes(L->enf), L->o.dry_run ? " logged" : "");
	scn_free(s);
	if (rc)
		return rc;
	/* the accounting: the core on the recording */
	struct run_opts ro = {0};
	char outbuf[LIVE_PATH_MAX];
	ro.scenario = scen_path;
	if (L->o.out_dir) {
		ro.out_dir = L->o.out_dir;
	} else {
		char name[SCN_NAME_MAX];
		sanitize_name(L->o.name ? L->o.name : L->n == 1 ? L->ent[0].name : "live", name,
			      sizeof name);
		pathf(outbuf, sizeof outbuf, "out/%s", name);
		ro.out_dir = outbuf;
	}
	ro.db = L->o.db;
	ro.force = L->o.force;
	ro.quiet = L->o.quiet;
	ro.command_line = L->o.cmdline;
	ro.mark_incomplete = g_signal != 0; /* a session cut short by a signal */
	if (L->rec_tmp)
		fprintf(L->err, "joulevisor: live: accounting the recording with the core "
				"(not kept: use --record DIR to keep it)\n");
	else
		fprintf(L->err, "joulevisor: live: accounting the recording with the core; "
				"`joulevisor run %s` reproduces it\n", scen_path);
	int ec = run_main(&ro, L->out, L->err);
	return ec ? -1000 - ec : 0; /* an exit code from run_main */
}

int live_main(int argc, char **argv, FILE *out, FILE *err, const char *cmdline)
{
	struct live *L = calloc(1, sizeof *L);
	if (!L) {
		fprintf(err, "joulevisor: live: out of memory\n");
		return 1;
	}
	L->out = out;
	L->err = err;
	L->tty = isatty(fileno(out));
	L->o.cmdline = cmdline;
	pthread_mutex_init(&L->mx, NULL);
	int ec = parse_args(L, argc, argv);
	if (ec) {
		ec = ec == 1 ? 0 : ec;
		goto done;
	}
	struct sigaction sa, old_int, old_term;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	g_signal = 0;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	struct jv_diag d;
	jv_diag_clear(&d);
	int rc = live_session(L, &d);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	if (rc <= -1000) {
		ec = -rc - 1000;
	} else if (rc) {
		if (d.msg[0])
			fprintf(err, "joulevisor: live: %s\n", d.msg);
		ec = jv_exit_code(rc);
		if (strstr(d.msg, "no CPU-time source"))
			ec = 1;
	}
	if (L->rec_tmp)
		remove_recdir(L);
	if (g_signal) {
		fprintf(err, "joulevisor: live: stopped by %s; everything restored\n",
			g_signal == SIGINT ? "SIGINT" : "SIGTERM");
		ec = g_signal == SIGINT ? 130 : 143;
	}
done:
	free(L->metrics_text);
	free(L->smp_buf);
	lenergy_close(L->energy);
	lcg_enf_free(L->enf);
	pthread_mutex_destroy(&L->mx);
	free(L);
	return ec;
}
