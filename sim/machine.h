/*
 * machine: the simulated host assembled from a scenario (design §2, §5):
 * physical CPUs with a scheduler and the hypervisor's PMC log, vCPUs of
 * guest and driver VMs, disks served by driver VMs, workloads and trace
 * sources, and the two ledgers (truth and account).
 */
#ifndef JV_MACHINE_H
#define JV_MACHINE_H

#include <stdint.h>

#include "base/jv_err.h"
#include "models/ledger.h"
#include "sim/scenario.h"

struct machine;

/* What the runner receives while the machine runs. Any callback returning
 * non-zero stops the run with that error. */
struct machine_sink {
	void *ctx;
	/* after each ledger snapshot (interval ending at t_ns) */
	int (*snapshot)(void *ctx, int64_t t_ns, const struct ledger *acct,
			const struct ledger *truth);
	/* one power.csv row */
	int (*power_row)(void *ctx, int64_t t_ns, int device, double power_w);
	/* one controller step of the host-level energy manager (control.csv) */
	int (*control)(void *ctx, int64_t t_ns, int vm, const char *device, double limit_w,
		       double measured_w, const char *actuator, double actuator_value);
};

enum machine_flags {
	MACHINE_PROBE = 1, /* driver-idle probe: guests' workloads do not run */
	/* a pmc_log replayed in accounting mode takes the record-by-record
	 * path, not the batched one (tests compare the two) */
	MACHINE_NO_FAST_REPLAY = 2,
};

struct machine_vm_stats {
	uint64_t requests;      /* disk requests completed */
	int64_t bytes;          /* bytes transferred */
	int64_t cpu_ns;         /* CPU time the VM's vCPU ran */
	/* at the moment each limit came into force (-1: never) */
	int64_t cpu_limit_on_ns, disk_limit_on_ns;
	double cpu_active_j_at_on;  /* accounted active CPU energy until then */
	double drv_active_j_at_on;  /* driver's active energy for the VM until then */
	int64_t cpu_ns_at_on, bytes_at_on;
	/* totals the manager measures */
	double cpu_active_j, drv_active_j;
	/* the hypervisor's own view of the VM's CPU energy (before a driver
	 * passes it on): idle share and active, J */
	double hv_cpu_idle_j, hv_cpu_active_j;
};

/* A resource container: the guest's own view (virtual PMCs, accounting
 * weights) and the truth (true weights), idle = the TSC-weighted baseline
 * while it ran. */
struct machine_cont_stats {
	int64_t cpu_ns;
	double guest_idle_j, guest_active_j;
	double true_idle_j, true_active_j;
	/* The disk path (paper §3.4): requests a disk-stress container issued
	 * through its guest's virtual disk, and what they cost on the driver's
	 * CPU (drv_*) and on the disk (disk_*). Guest view: the costs the
	 * replies carried plus the container's part of its VM's idle shares;
	 * truth: the requests' true busy energy and true driver work plus its
	 * part of the VM's true idle shares. */
	uint64_t requests;      /* completed */
	int64_t bytes;
	double guest_drv_idle_j, guest_drv_active_j, guest_disk_idle_j, guest_disk_active_j;
	double true_drv_idle_j, true_drv_active_j, true_disk_idle_j, true_disk_active_j;
};

struct machine_stats {
	uint64_t events;        /* discrete events run */
	uint64_t pmc_records;   /* PMC log records accounted */
	uint64_t trace_records; /* records read from trace files */
	uint64_t trace_stopped; /* traces with records after the duration (not read) */
	uint64_t snapshots;
	uint64_t conservation_violations;
};

int machine_new(const struct scn *s, int flags, const struct machine_sink *sink,
		struct machine **out, struct jv_diag *d);
/* Run from 0 to global.duration. Returns 0, a sink's error, or a negative
 * JV_E* code with d filled (bad trace record, out of memory). */
int machine_run(struct machine *m, struct jv_diag *d);
void machine_free(struct machine *m);

const struct ledger *machine_acct(const struct machine *m);
/* The simulated time the run reached: the duration, or less when a
 * SIGINT/SIGTERM stopped it (machine_interrupted). */
int64_t machine_end_ns(const struct machine *m);
int machine_interrupted(const struct machine *m);
/* NULL when the run has no complete truth (accounting-mode replays). */
const struct ledger *machine_truth(const struct machine *m);
const char *machine_no_truth_reason(const struct machine *m);
const struct machine_stats *machine_stats(const struct machine *m);
const struct machine_vm_stats *machine_vm_stats(const struct machine *m, int vm);
/* Consumer index of VM i in the ledgers. */
static inline int machine_consumer(int vm) { return LEDGER_FIRST_VM + vm; }
/* The driver idle CPU power the accounting used (after an auto probe). */
double machine_driver_idle_w(const struct machine *m, int vm);
const struct machine_cont_stats *machine_cont_stats(const struct machine *m, int container);
/* The para-virtual electricity meter of client VM vm for a device: the
 * costs its driver reported in replies plus the idle shares it charged. */
double machine_meter_j(const struct machine *m, int vm, int device);
/* The guest manager's budget for the container (W; 0 when not energy-aware,
 * INFINITY when unlimited). */
double machine_cont_budget_w(const struct machine *m, int container);
/* Accounting internals for the summary. */
uint64_t machine_rate_estimates(const struct machine *m, int disk);
double machine_rate_estimate_bps(const struct machine *m, int disk);

#endif
