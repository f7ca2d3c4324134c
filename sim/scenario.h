/*
 * scenario: loading, validating and printing scenario files (design §7).
 *
 * A scenario is an INI file (fio-like). One option table (scenario_opts.c)
 * drives parsing, defaults, validation, `--set` overrides, `joulevisor help
 * scenario` and scenario.resolved.ini. Precedence, lowest first:
 *   option default < machine preset (`[machine] preset`) < file < --set.
 *
 * Sections: [global] [machine] [cpu] [disk] [vm NAME] [container VM/NAME]
 * [manager] [output]. Override keys: `section.key`, `vm.NAME.key`,
 * `container.VM/NAME.key`.
 *
 * The loaded scenario is plain data (struct scn). Every path in it is
 * already resolved relative to the file that named it.
 */
#ifndef JV_SCENARIO_H
#define JV_SCENARIO_H

#include <stdint.h>
#include <stdio.h>

#include "base/jv_err.h"

#define SCN_NAME_MAX 64       /* VM and container names, incl. NUL */
#define SCN_MAX_VMS 256
#define SCN_MAX_CONTAINERS 256
#define SCN_MAX_COUNTERS 16   /* PMC counters incl. the TSC */
#define SCN_MAX_TRACES 16     /* trace files per VM */
#define SCN_MAX_INCLUDE_DEPTH 16
#define SCN_MAX_CPUS 64
#define SCN_MAX_DISKS 16

enum scn_vm_kind { SCN_VM_GUEST = 0, SCN_VM_DRIVER = 1 };

enum scn_workload {
	SCN_WL_NONE = 0,
	SCN_WL_CPU_HOG,     /* always runnable, events at `events` rates */
	SCN_WL_DISK_STRESS, /* closed loop: client CPU work, then one request */
	SCN_WL_TRACE,       /* the VM's `trace` files drive it */
};

enum scn_idle_policy {
	SCN_IDLE_EQUAL = 0,    /* split equally over the VMs (paper's code) */
	SCN_IDLE_UTILIZATION,  /* in proportion to device time (paper's text) */
	SCN_IDLE_PROPORTIONAL, /* in proportion to active energy */
	SCN_IDLE_BASE,         /* kept on `hypervisor` */
};

enum scn_replay_mode {
	SCN_REPLAY_ACCOUNTING = 0, /* charge records as recorded */
	SCN_REPLAY_OPEN,           /* submit at recorded times; queues form */
	SCN_REPLAY_CLOSED,         /* keep recorded think times */
};

enum scn_op { SCN_OP_READ = 0, SCN_OP_WRITE = 1 };

enum scn_sched { SCN_SCHED_RR = 0, SCN_SCHED_STRIDE = 1 };

enum scn_ctrl { SCN_CTRL_PAPER = 0, SCN_CTRL_PI = 1 };

/* Event rates per second of CPU time while a piece of work runs, indexed
 * like scn_cpu.counter[] (the TSC and `cycles` entries are ignored: the
 * TSC always advances at cpu.freq_hz, `cycles` at freq_hz while running). */
struct scn_rates {
	double per_s[SCN_MAX_COUNTERS];
};

struct scn_global {
	char name[SCN_NAME_MAX]; /* default: file name without .ini */
	int64_t duration_ns;     /* default 10s, range (0, 1000 days] */
	uint64_t seed;           /* default 1 */
	int replay_mode;         /* default mode for traces (scn_replay_mode) */
};

struct scn_machine {
	char preset[SCN_NAME_MAX]; /* "paper-2007" (default) or "none" */
};

struct scn_cpu {
	int count;            /* physical CPUs, default 1 */
	int64_t quantum_ns;   /* default 10ms (L4 timeslice) */
	int scheduler;        /* scn_sched */
	double freq_hz;       /* TSC and unhalted-cycle rate */
	int n_counters;       /* counter[0..n) */
	char counter[SCN_MAX_COUNTERS][SCN_NAME_MAX];
	double weight_j[SCN_MAX_COUNTERS];      /* accounting weights, J/event */
	double true_weight_j[SCN_MAX_COUNTERS]; /* truth model; default = weight_j */
	char *weights_file;   /* NULL or path: `name,weight_j` CSV overriding weights */
	int tsc_index;        /* index of `tsc_counter` in counter[] */
	int cycles_index;     /* index of `cycles_counter`, -1 if absent */
	int idle_policy;      /* scn_idle_policy, default equal */
	int64_t read_period_ns; /* manager reads the PMC log, default 20ms */
	char *pmc_log;        /* NULL or a `pmc` (per-switch) log to replay */
};

struct scn_disk {
	int count;               /* default 1 */
	double idle_power_w;     /* default from preset */
	double active_power_w;
	double media_rate_bps;   /* truth: transfer rate of the medium */
	int64_t overhead_ns;     /* truth: per-request command/positioning time */
	double nominal_rate_bps; /* accounting's rate before the first window; default media_rate */
	int rate_window;         /* requests per transfer-rate estimate, default 50 */
	int64_t idle_period_ns;  /* idle charged every 50ms */
	int idle_policy;         /* scn_idle_policy over the driver's clients, default equal */
};

struct scn_vm {
	char name[SCN_NAME_MAX];
	int kind;                /* scn_vm_kind */
	char driver[SCN_NAME_MAX]; /* guest: driver VM serving its disk ("" = the only one) */
	int driver_idx;          /* resolved index into scn.vm[], -1 if none */
	int disk;                /* disk index this VM's requests go to, default 0 */
	int workload;            /* scn_workload */
	struct scn_rates events; /* rates of the VM's own CPU work */
	int64_t start_ns, stop_ns; /* workload active in [start, stop); stop default = duration */
	/* disk-stress */
	int64_t block_size_b;    /* default 4KiB */
	int op;                  /* scn_op */
	int queue_depth;         /* default 1 */
	int64_t client_cpu_ns;   /* client CPU work per request */
	int64_t think_ns;        /* pause after each completion, default 0 */
	/* traces */
	int n_traces;
	char *trace[SCN_MAX_TRACES];
	int trace_mode;          /* scn_replay_mode; default global.replay_mode */
	char trace_format[SCN_NAME_MAX]; /* reader of the VM's traces, default "auto" */
	int64_t trace_time_unit_ns; /* time unit of headerless formats, 0 = the format's */
	char match[256];         /* KEY=VALUE[,...]: records this VM takes from any trace */
	uint32_t tickets;        /* scheduler share, default 100 */
	/* host-level energy manager (paper §3.3.6) */
	double cpu_limit_w;      /* active CPU power the VM may consume directly; 0 none */
	double disk_limit_w;     /* active power the driver may spend for it; 0 none */
	int64_t limit_from_ns;   /* limits take effect at this time, default 0 */
	/* energy-aware guest (paper §3.4): resource containers */
	int energy_aware;        /* 1: the guest manager splits its limits over containers */
	double clock_drift_ppm;  /* guest clock rate vs host: guest = host x (1 + ppm/1e6) */
	int64_t guest_period_ns; /* guest manager budget period, default 50ms */
	int64_t guest_quantum_ns;/* guest scheduler slice among containers, default 10ms */
	int n_containers;        /* containers of this VM (set by the loader) */
	/* driver VMs */
	int64_t req_cpu_ns;      /* driver CPU work per request (fixed part) */
	int64_t req_cpu_ns_per_kib; /* plus this per KiB of request size */
	struct scn_rates req_events; /* rates while doing request work */
	double bg_duty;          /* background CPU: fraction of time, [0, 1) */
	int64_t bg_period_ns;    /* background work arrives once a period */
	struct scn_rates bg_events;
	int idle_cpu_auto;       /* 1: idle_cpu_w measured by a no-client probe */
	double idle_cpu_w;       /* driver's own idle CPU power estimate */
	int64_t idle_probe_ns;   /* length of the no-client probe, default 1s */
	int predict_window;      /* requests per CPU-cost prediction, default 50 */
	int line;                /* line of the [vm] header, for messages */
	char *file;              /* file of the [vm] header */
};

struct scn_container {
	char name[2 * SCN_NAME_MAX]; /* "VM/NAME" */
	int vm;                      /* index into scn.vm[] */
	int workload;                /* none, cpu-hog or disk-stress */
	struct scn_rates events;
	double power_limit_w;        /* 0 = none */
	double share;                /* 0 = none */
	/* disk-stress: the [vm] keys of the same names, through the VM's
	 * virtual disk and driver */
	int64_t block_size_b;
	int op;
	int queue_depth;
	int64_t client_cpu_ns;       /* in the container's slice on the guest vCPU */
	int64_t think_ns;
};

struct scn_manager {
	int64_t cpu_period_ns;     /* CPU loop, default 100ms */
	int64_t disk_period_ns;    /* disk loop, default 200ms */
	int64_t shaping_period_ns; /* budget refresh, 0 = disk_period */
	uint64_t cpu_offset;       /* stride units added/subtracted per step */
	uint32_t idle_tickets;     /* the idle vCPU's tickets (minuscule share) */
	int disk_controller;       /* scn_ctrl, default paper */
	double disk_gain_damp;     /* paper: 1/4 */
	double disk_gain_amp;      /* paper: 4/3 */
	double pi_kp, pi_ki;       /* PI controller gains */
	double t_init, t_min, t_max; /* throttle factor: requests per shaping period */
};

struct scn_output {
	int64_t interval_ns;         /* ledger snapshot interval, default 100ms */
	int64_t power_resolution_ns; /* power.csv row width, default 1ms */
};

struct scn {
	char *file;                  /* the top scenario file as given */
	struct scn_global global;
	struct scn_machine machine;
	struct scn_cpu cpu;
	struct scn_disk disk;
	struct scn_manager manager;
	struct scn_output output;
	int n_vms;
	struct scn_vm vm[SCN_MAX_VMS];
	int n_containers;
	struct scn_container container[SCN_MAX_CONTAINERS];
	/* every input file read (scenario, includes, traces, weights), for
	 * manifest.txt, in first-use order */
	int n_inputs;
	char *input[64];
};

/* One --set KEY=VALUE override. */
struct scn_override {
	const char *key;   /* "cpu.quantum", "vm.client.block_size", ... */
	const char *value;
};

/* Load FILE (or "-" for stdin) with its includes, apply the preset, the
 * file's values and the overrides, then validate. On error returns a
 * negative JV_E* code with d->msg as "FILE:LINE: [section] key: reason".
 * *out is allocated; free with scn_free(). */
int scn_load(const char *file, const struct scn_override *ov, int n_ov,
	     struct scn **out, struct jv_diag *d);
void scn_free(struct scn *s);

/* Write every option after defaults, preset, file and overrides, in table
 * order, as a loadable INI file (scenario.resolved.ini). */
int scn_write_resolved(const struct scn *s, FILE *f);

/* `joulevisor help scenario`: every option with type, default, range,
 * allowed values and help. */
void scn_print_help(FILE *f);

/* Index of the VM called name, or -1. */
int scn_vm_index(const struct scn *s, const char *name);
/* Index of a counter in s->cpu.counter[], or -1. */
int scn_counter_index(const struct scn *s, const char *name);

#endif
