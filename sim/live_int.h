/*
 * live_int: the parts of `joulevisor live` (sim/live.h) shared by its
 * files; not installed, included only by sim/live*.c. The theory of
 * operation: the top of sim/live.c.
 *
 * Which file does what:
 *  - live.c: the theory of operation, signals, clocks and paths, and the
 *    session (entities, the loop of ticks, the end, live_main).
 *  - live_opts.c: usage and the command line's options.
 *  - live_src.c: entities and their CPU and I/O sources, the capability
 *    table.
 *  - live_rec.c: recording: sampling the entities into trace files, and
 *    the generated scenario that replays them.
 *  - live_model.c: the model evaluated per interval and the live output
 *    (table, CSV lines, metrics, the HTTP endpoint).
 *  - live_enforce.c: limits enforced through cgroups.
 *  - live_spawn.c: the spawned command (held until its sources are open).
 *
 * Functions and tables used by another file carry the prefix live_int_
 * (they are internal to live and declared only here); their prototypes
 * below are grouped by the file that defines them.
 */
#ifndef JV_LIVE_INT_H
#define JV_LIVE_INT_H

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

struct spawn {
	pid_t pid;
	int go_w, st_r;
};

/* live.c */
int64_t live_int_mono_ns(void);

/* live_opts.c */
int live_int_usage_err(struct live *L, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int live_int_parse_args(struct live *L, int argc, char **argv);

/* live_src.c */
void live_int_sanitize_name(const char *in, char *out, size_t cap);
struct ent *live_int_ent_add(struct live *L, int kind, const char *base);
void live_int_resolve_dirs(struct live *L, struct ent *e);
int live_int_open_cpu(struct live *L, struct ent *e, int before_exec);
int live_int_read_io(struct live *L, struct ent *e, uint64_t *r, uint64_t *w, uint64_t *rn,
		     uint64_t *wn);
void live_int_open_io(struct live *L, struct ent *e);
void live_int_capability_table(struct live *L, int have_hw[LPERF_N_EVENTS]);

/* live_rec.c */
int live_int_open_writers(struct live *L, struct ent *e, struct jv_diag *d);
int live_int_sample_entity(struct live *L, struct ent *e, int64_t t_ns, int64_t upto_mono,
			   int final, struct jv_diag *d);
int live_int_write_scenario(struct live *L, int64_t dur_ns, const int used[LPERF_N_EVENTS],
			    char *path, size_t cap, struct jv_diag *d);

/* live_model.c */
void live_int_model_setup(struct live *L, const struct scn *s, int have_hw[LPERF_N_EVENTS]);
void live_int_model_interval(struct live *L, double dt_s);
void live_int_print_tick(struct live *L, int64_t t_ns);
int live_int_metrics_publish(struct live *L, struct jv_diag *d);
int live_int_http_start(struct live *L, struct jv_diag *d);
void live_int_http_stop(struct live *L);

/* live_enforce.c */
int live_int_setup_limits(struct live *L, const struct scn *s);
int live_int_enforce_prepare(struct live *L, struct ent *e, struct jv_diag *d);
int live_int_enforce_apply(struct live *L, struct ent *e, int first, struct jv_diag *d);

/* live_spawn.c */
int live_int_spawn_hold(struct live *L, char **cmd, struct spawn *sp, struct jv_diag *d);
int live_int_spawn_release(struct spawn *sp, const char *cmd, struct jv_diag *d);
int live_int_child_exited(struct live *L);
void live_int_child_reap(struct live *L);
void live_int_child_stop(struct live *L);

#endif /* JV_LIVE_INT_H */
