/*
 * machine_int: the parts of the simulated host (sim/machine.h) shared by its
 * files; not installed, included only by sim/machine*.c. The model, its
 * parameters and limits: the theory of operation at the top of
 * sim/machine.c.
 *
 * Which file does what:
 *  - machine.c: the theory of operation, assembly of a machine from the
 *    scenario (VMs, CPUs, disks, traces, ledgers), the driver idle probe,
 *    the public API (machine_new/run/free and the statistics).
 *  - machine_cpu.c: pools of work items and requests, CPU charging in both
 *    ledgers, the CPU hot path (segments, advance, PMC record, dispatch,
 *    vCPU work).
 *  - machine_disk.c: disks, the driver VM's accounting, the shaper, the
 *    disk-stress clients.
 *  - machine_guest.c: energy-aware guests (resource containers), guest
 *    periods, VM start/stop, the driver's background work.
 *  - machine_trace.c: trace replay record by record.
 *  - machine_fast.c: the fast accounting replay of a pmc log.
 *  - machine_ctl.c: log reads, idle ticks and idle split flushes, the
 *    host-level energy manager, shaping, snapshots.
 *
 * Functions called from another file carry the prefix mach_ (internal to
 * the machine, declared only here: the public API is machine_*); their
 * prototypes below are grouped by the file that defines them. Small
 * helpers used by several files, or hot across files (trace_due,
 * check_interrupt), are static inline here; the hot path's
 * callers and callees share machine_cpu.c, so they still inline into each
 * other.
 */
#ifndef JV_MACHINE_INT_H
#define JV_MACHINE_INT_H

#include "sim/machine.h"

#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "models/cpu_energy.h"
#include "models/disk_energy.h"
#include "models/disk_service.h"
#include "models/guest_manager.h"
#include "models/host_manager.h"
#include "models/idle_split.h"
#include "models/recursive.h"
#include "models/sched.h"
#include "models/shaper.h"
#include "models/throttle.h"
#include "models/vpmc.h"
#include "base/jv_signal.h"
#include "sim/evq.h"
#include "sim/power.h"
#include "traces/trc.h"
#include "traces/trc_map.h"

#define NS_PER_S 1000000000LL
#define WORK_FOREVER INT64_MAX
#define WORK_CHUNK 256 /* work items allocated at once for trace replay */
#define REQ_CHUNK 64   /* trace requests allocated at once */
#define NC SCN_MAX_COUNTERS

struct machine;
struct work;
typedef void (*work_done_fn)(struct machine *m, struct work *w);

struct work {
	struct work *next;
	int64_t remaining_ns;
	const double *rates; /* events/s per counter, NULL for none */
	int client;          /* truth: vm index served (driver work), -1 own */
	work_done_fn done;
	void *ctx;
	int queued;
	double own_rates[NC]; /* storage for trace-derived rates */
};

/* A segment's counter advances and energies (weighted-PMC models), reused
 * while the same constant rates run for the same length, e.g. every whole
 * quantum of a cpu-hog: the very doubles a recomputation gives. Key: the
 * rates (only the scenario's, which do not change during a run; never a
 * work's own trace-derived rates), whether work ran, and the length. The
 * account's energies of a record of just that one segment are kept once
 * computed. One per vCPU (vCPUs are pinned) and one per CPU for halts. */
struct seg_cache {
	int valid, work, acct_valid;
	/* active_j != 0.0, acct_active_j != 0.0 (whether a cell is charged),
	 * kept with them so that the fast paths test a flag */
	int active_nz, acct_active_nz;
	const double *rates;
	int64_t dt;
	double ev[NC], idle_j, active_j, acct_idle_j, acct_active_j;
};

struct vcpu {
	struct seg_cache sc;
	struct sched_entity se;
	int vm, cpu;
	struct work *head, *tail;
	int running;
};

struct mcpu {
	int idx;
	struct sched_rq rq;
	struct vcpu *cur;
	int64_t seg_start_ns, slice_end_ns;
	struct evq_event ev;
	double pend[NC];
	int pend_segs;    /* segments advanced into pend since the last record */
	struct seg_cache *pend_sc; /* the cache of the last of them, NULL: none */
	/* pend is virtual: the log holds just one cached segment (pend_sc) and
	 * pend itself is still clear; pend_materialize writes it out for
	 * whoever reads pend, so a record per quantum touches no counters */
	int pend_virtual;
	struct seg_cache halt_sc;  /* halted segments */
	int64_t rec_start_ns;
	int rec_vm;
	struct idle_split *split_truth, *split_acct;
	/* per participant of split_truth / split_acct: its guest's idle cell on
	 * this CPU once charged (ledger_cell_cur), NULL before and for drivers */
	double **idle_cell_truth, **idle_cell_acct;
	/* the idle vCPU: halts for all the time the scheduler gives it */
	struct sched_entity idle_se;
	int idle_active;  /* on the run queue (a CPU limit is in force) */
	int idle_running; /* the idle vCPU holds the CPU (halted by choice) */
	int64_t run_start_ns; /* when the running entity got the CPU */
};

struct mvm;

struct mreq {
	struct shaper_item sh; /* the driver's per-client ring */
	struct work drv_work, cl_work;
	struct evq_event ev;
	struct mvm *vm;
	int64_t size_b, offset_b;
	int op, disk;
	int64_t submit_ns, start_ns, acc_from_ns, latency_ns;
	int64_t think_ns;
	struct mreq *next; /* disk FIFO or free list */
	int from_trace;
	struct mtrace *trace;
	/* the para-virtual reply: what the request cost, as the driver accounts it */
	double cost_disk_j, cost_cpu_j;
	struct mcont *cont;  /* the container that issued it, NULL: the VM's own */
	int64_t cl_left_ns;  /* container: client CPU work still to run */
};

struct mdisk {
	int idx, dev;
	struct disk_service svc;
	struct disk_energy acct;
	struct mreq *qh, *qt, *busy;
	struct evq_event ev;
	int64_t power_since_ns;     /* power sampler: reported up to */
	int64_t truth_idle_since_ns;
	int64_t acct_meter_since_ns;
	int64_t last_tick_ns;
	double pending_unattr_j;
	int via;                     /* via of the first driver using it */
	int n_part;
	int *part_vm;                /* participant -> vm */
	struct idle_split *split_truth, *split_acct;
};

struct mtrace {
	struct trc_reader *r;
	const char *path;
	int kind, mode;
	int native;                 /* a native format (records name scenario VMs) */
	int n_ctr;                  /* trc_n_counters(r), cached for the record path */
	int has_cyc;                /* it records the scenario's cycles counter */
	int owner_vm;               /* section that named it, -1 for pmc_log */
	int ctr_map[TRC_MAX_COUNTERS]; /* trace counter -> scenario counter */
	int *vm_map;                /* reader vm -> scenario vm (-2 unresolved) */
	int vm_map_cap;
	struct trc_record rec;      /* the record read ahead */
	int have;
	struct evq_event ev;
	/* pmc: per-cpu previous cumulative record */
	int64_t prev_t[SCN_MAX_CPUS];
	uint64_t prev_ctr[SCN_MAX_CPUS][TRC_MAX_COUNTERS];
	int have_prev[SCN_MAX_CPUS];
	/* closed mode chain */
	int64_t closed_ready_ns;
	/* the fast accounting replay of a pmc log (mach_trace_fast_event) */
	int fast;                   /* its records go through mach_trace_fast_event */
	int deferred;               /* sums are flushed at snapshots only */
	int cyc_src;                /* trace counter giving the busy time, -1 none */
	struct trc_pmc_batch fb;    /* the records read ahead */
	size_t fi;                  /* the next of them */
	struct pmc_cell *cells;     /* ncpu x (nvm + 1) sums, [cpu][vm + 1] */
	int *dirty;                 /* cells with records since the last flush */
	int n_dirty;
	/* with power.csv: per CPU the power bin [lo, hi) its summed records lie
	 * in, and where the first of them starts (-1: none summed) */
	int power;
	int64_t bin_lo[SCN_MAX_CPUS], bin_hi[SCN_MAX_CPUS], acc_lo[SCN_MAX_CPUS];
};

/* A (cpu, vm) cell of the fast replay: what its records since the last
 * flush add up to (counter advances, time, busy time, records). */
struct pmc_cell {
	uint64_t ctr[TRC_MAX_COUNTERS];
	int64_t span_ns, busy_ns;
	uint64_t n;
};

/* llround(x) for x >= 0, without the libm call: exact, since the fraction
 * x - trunc(x) of a double is exact. */
static inline int64_t mach_fast_llround(double x)
{
	if (!(x < 9.0e18))
		return (int64_t)llround(x);
	int64_t b = (int64_t)x;
	return b + (x - (double)b >= 0.5);
}

/* the fast replay's busy-time bounds: y (1 +- 2^-46) */
#define MACH_FAST_BUSY_UP (1.0 + 0x1p-46)
#define MACH_FAST_BUSY_DOWN (1.0 - 0x1p-46)

/* llround(D), D = (double)dc / freq_hz * 1e9, the busy time
 * mach_trace_cpu_account computes, without its division on the common
 * path (machine_fast.c; tests/check_replay_fast.c compares the two on
 * random and edge inputs). y = d * ns_per_cycle (d = (double)dc,
 * ns_per_cycle = 1e9 / freq_hz) and D are each d * 1e9 / freq_hz with two
 * roundings of relative error 2^-53 each, so |D - y| <= 2^-51 y. For
 * y < 2^47: a = fl(fl(y UP) + 0.5) and b = fl(fl(y DOWN) + 0.5) bound
 * D + 0.5 strictly when y >= 1/4 (the products are y (1 +- 2^-46) within
 * 2^-53 relative, the additions err by at most 2^-53 (y + 1.5) < 2^-50 y,
 * and the margin to D + 0.5 is at least y (2^-46 - 2^-51 - 2^-53)), so
 * trunc(a) == trunc(b) == r gives r <= b < D + 0.5 < a < r + 1: llround(D)
 * (halves away from zero, D >= 0) is r. For y < 1/4, D < 1/2 and a < 1:
 * both are 0. Otherwise (a half-integer too close, or y >= 2^47) D is
 * computed as written. */
static inline int64_t mach_fast_busy_ns(uint64_t dc, double freq_hz, double ns_per_cycle)
{
	/* below 2^63 (always in a raw run): the signed conversion, one
	 * instruction, gives the same double */
	double d = (int64_t)dc >= 0 ? (double)(int64_t)dc : (double)dc;
	double y = d * ns_per_cycle;
	if (y < 0x1p47) {
		int64_t hi = (int64_t)(y * MACH_FAST_BUSY_UP + 0.5);
		int64_t lo = (int64_t)(y * MACH_FAST_BUSY_DOWN + 0.5);
		if (hi == lo)
			return hi;
	}
	return mach_fast_llround(d / freq_hz * 1e9);
}

/* A resource container of a guest (paper §3.4). */
struct mcont {
	int idx;                  /* scenario container index */
	const struct scn_container *cfg;
	struct machine_cont_stats st;
	double last_power_w;      /* guest view, from the last slice */
	/* disk-stress: queue_depth request slots; the ones whose client CPU
	 * work waits for a slice (FIFO), the ones held while throttled */
	struct mreq *reqs;
	struct mreq *cpu_qh, *cpu_qt;
	struct mreq *parked;
	/* active cost charged since the VM's last idle share, per view (0
	 * guest, 1 truth) and path device (0 driver CPU, 1 disk): the weights
	 * of the guest's idle split */
	double idle_w8[2][2];
};

struct mvm {
	int idx;
	const struct scn_vm *cfg;
	/* its cells (consumer, own CPU, direct, active) in truth and account,
	 * found at the first charge (the per-quantum path) */
	double *truth_cell, *acct_cell;
	struct vcpu vcpu;
	int consumer, via, is_driver;
	/* driver */
	struct recursive rec;
	int n_clients;
	int *clients;
	struct idle_split *cli_split_truth, *cli_split_acct;
	double truth_pool_j[2];
	double acct_pool_j[2]; /* only when the driver has no clients */
	double probe_pool_j;
	struct work bg[2];
	struct evq_event bg_ev;
	double idle_w;
	/* guest */
	struct mreq *reqs;
	struct work hog;
	struct evq_event start_ev, stop_ev;
	int64_t next_offset;
	int stopped;
	struct machine_vm_stats st;
	struct mvm *driver;
	struct mdisk *disk;
	int client_slot;        /* index among its driver's clients */
	int64_t pmci_prev_ns;   /* end of its last pmc-interval record */
	struct shaper shaper;   /* driver: per-client request rings */
	/* host-level energy manager */
	double meas_cpu_j;      /* accounted active CPU energy, direct */
	double meas_drv_j;      /* active energy the driver spent for it */
	double last_cpu_j, last_drv_j;
	int cpu_on, disk_on;    /* limits in force */
	struct hm_cpu hm_cpu;
	struct hm_disk hm_disk;
	/* the para-virtual electricity meter: energy the driver reported per
	 * device (request costs in replies, idle shares), indexed by device */
	double *meter_j;
	/* guest with resource containers */
	int n_cont;
	struct mcont *cont;
	int cur_cont;              /* container of the slice in flight, -1 none */
	int rr_cont;               /* round-robin position */
	struct work slice;         /* the guest scheduler's current slice */
	int64_t slice_len_ns;
	int rr_disk;               /* round-robin position among disk containers */
	int pre_cont;              /* CPU container preempted by disk work, -1 none */
	int64_t pre_left_ns;       /* what was left of its slice */
	double slice_v0[NC];       /* virtual PMCs at the slice's start */
	struct guest_manager gm;   /* energy-aware guests */
	struct evq_event gm_ev;
	double guest_rate;         /* guest seconds per host second */
};

struct machine {
	const struct scn *s;
	int flags;
	struct machine_sink sink;
	struct evq q;
	int ncpu, ndisk, nvm, ndev, nvia;
	struct mcpu cpu[SCN_MAX_CPUS];
	struct mdisk disk[SCN_MAX_DISKS];
	struct mvm *vm;
	struct ledger *acct, *truth;
	int has_truth;
	char no_truth_reason[256];
	int cpu_replayed;   /* pmc_log in accounting mode: no simulated CPU */
	int n_drivers, n_guests;
	int *driver_list;   /* vm indices of driver VMs */
	int *guest_list;    /* vm indices of guest VMs */
	int acct_split_guests; /* equal policy: drivers get their share per record */
	struct cpu_energy model_acct, model_truth;
	double freq_hz;
	int tsc, cyc;
	int n_ctr;          /* [cpu] counters */
	int weighted;       /* both CPU models are weighted-PMC (inline arithmetic) */
	int cpu_fast;       /* cpu_advance_fast and cpu_record_fast may apply */
	int64_t quantum_ns;
	struct power_sampler *power;
	struct evq_event snap_ev, snap_now_ev, read_ev, tick_ev, end_ev;
	struct evq_event cpu_mgr_ev, disk_mgr_ev, shape_ev;
	int any_cpu_limit, any_disk_limit;
	int64_t last_snap_ns;
	int64_t end_ns;
	int interrupted;    /* a SIGINT/SIGTERM stopped the run at last_snap_ns */
	int err;
	struct jv_diag *d;
	struct machine_stats st;
	/* names for the ledgers */
	const char **cname, **dname, **vname;
	char (*dname_buf)[16];
	/* trace sources */
	int ntr;
	struct mtrace *tr;
	struct vpmc vpmc;   /* virtual PMCs of every VM */
	int vpmc_used;      /* a guest with containers reads them */
	/* pools */
	struct work *free_work;
	struct mreq *free_req;
	void **chunks;
	int nchunks, chunk_cap;
};

/* ---------------------------------------------------------------------- */
/* helpers every file uses                                                 */

/* A stop request (SIGINT/SIGTERM) ends the run at the current time. */
static inline int check_interrupt(struct machine *m)
{
	if (!m->interrupted && jv_signal_pending()) {
		m->interrupted = 1;
		evq_stop(&m->q);
	}
	return m->interrupted;
}

static inline void fail(struct machine *m, int err)
{
	if (!m->err)
		m->err = err;
	evq_stop(&m->q);
}

static inline int dev_cpu(int cpu) { return cpu; }
static inline int dev_disk(const struct machine *m, int disk) { return m->ncpu + disk; }

/* The energy of one period. The machine's CPU models are weighted-PMC
 * (assemble sets them); that model is computed here inline with the very
 * arithmetic of models/cpu_energy.c (same terms in the same order, so the
 * same doubles), which spares the hottest path an indirect call. Any other
 * model goes through its ops table. */
static inline void energy_period(const struct cpu_energy *e, int64_t dt_ns,
				 const double *delta, double *idle_j, double *active_j)
{
	if (e->ops != &cpu_energy_weighted_pmc) {
		cpu_energy_period(e, dt_ns, delta, idle_j, active_j);
		return;
	}
	double act = 0.0;
	for (int i = 0; i < e->n_counters; i++)
		if (i != e->tsc_index)
			act += e->weight_j[i] * delta[i];
	*idle_j = e->tsc_index >= 0 ? e->weight_j[e->tsc_index] * delta[e->tsc_index] : 0.0;
	*active_j = act;
}

/* A record read ahead, due at `at` (line: its line or record number):
 * JV_EORDER (the run failed) when it lies before the simulated time, 1
 * when it lies beyond the run's duration (reading stops there), else 0. */
static inline int trace_due(struct machine *m, struct mtrace *t, int64_t at, long line)
{
	if (at < m->q.now_ns) {
		jv_diag_set(m->d, JV_EORDER, t->path, line,
			    "t_ns: record at %" PRId64 " ns is before the simulated time %" PRId64
			    " ns (traces must be in time order)", at, m->q.now_ns);
		fail(m, JV_EORDER);
		return JV_EORDER;
	}
	if (at > m->end_ns) {
		m->st.trace_stopped++; /* reading stops at the run's duration */
		return 1;
	}
	return 0;
}

/* ---------------------------------------------------------------------- */
/* functions called across files, by the file that defines them           */

/* machine_cpu.c */
struct work *mach_work_get(struct machine *m);
void mach_work_put(struct machine *m, struct work *w);
struct mreq *mach_req_get(struct machine *m);
void mach_req_put(struct machine *m, struct mreq *r);
void mach_acct_cpu_charge(struct machine *m, int cpu, int vm, int kind, double j);
void mach_truth_cpu_charge(struct machine *m, int cpu, int vm, int kind, double j);
void mach_acct_cpu_idle(struct machine *m, struct mcpu *c, double idle_j);
void mach_cpu_advance(struct machine *m, struct mcpu *c, int64_t now);
void mach_cpu_record(struct machine *m, struct mcpu *c, int64_t now);
void mach_cpu_event(struct evq *q, struct evq_event *ev, void *arg);
void mach_rq_enqueue(struct machine *m, struct mcpu *c, struct sched_entity *se);
void mach_vcpu_add_work(struct machine *m, struct vcpu *v, struct work *w);
void mach_work_cancel(struct machine *m, struct vcpu *v, struct work *w);

/* machine_disk.c */
void mach_disk_power_to(struct machine *m, struct mdisk *dk, int64_t now);
void mach_disk_truth_busy(struct machine *m, struct mdisk *dk, int64_t now);
void mach_driver_account(struct machine *m, struct mdisk *dk, struct mvm *cl,
		    int64_t size_b, int64_t busy_ns, int64_t now, struct mreq *r);
void mach_disk_event(struct evq *q, struct evq_event *ev, void *arg);
void mach_request_submit(struct machine *m, struct mreq *r);
void mach_shaper_release(void *ctx, int client, struct shaper_item *it);
void mach_request_process(struct machine *m, struct mreq *r);
void mach_client_issue(struct machine *m, struct mreq *r);
void mach_client_next(struct machine *m, struct mreq *r);

/* machine_guest.c */
int mach_cont_is_disk(const struct mcont *ct);
void mach_cont_issue(struct machine *m, struct mreq *r);
void mach_cont_reply(struct machine *m, struct mreq *r);
void mach_cont_idle_share(struct machine *m, struct mvm *v, int dev, int view, double j);
void mach_guest_period_event(struct evq *q, struct evq_event *ev, void *arg);
void mach_vm_start_event(struct evq *q, struct evq_event *ev, void *arg);
void mach_vm_stop_event(struct evq *q, struct evq_event *ev, void *arg);
void mach_bg_event(struct evq *q, struct evq_event *ev, void *arg);

/* machine_trace.c */
int mach_trace_vm(struct machine *m, struct mtrace *t, int rvm, long line);
void mach_trace_cpu_charge(struct machine *m, int cpu, int vm, int64_t span_ns,
		      const double *adv, int64_t busy_ns, double *idle_j, double *active_j);
void mach_trace_cpu_meter(struct machine *m, int cpu, double idle_j, double active_j);
void mach_trace_cpu_account(struct machine *m, struct mtrace *t, int cpu, int vm,
		       int64_t span_ns, const uint64_t *delta, int with_tsc);
void mach_trace_closed_submit(struct machine *m, struct mtrace *t);
void mach_trace_event(struct evq *q, struct evq_event *ev, void *arg);
int mach_trace_read_ahead(struct machine *m, struct mtrace *t, int run_now);

/* machine_fast.c */
int mach_trace_fast_setup(struct machine *m, struct mtrace *t);
void mach_trace_flush_all(struct machine *m);
int mach_trace_fast_ahead(struct machine *m, struct mtrace *t);
void mach_trace_fast_event(struct machine *m, struct mtrace *t);

/* machine_ctl.c */
void mach_read_event(struct evq *q, struct evq_event *ev, void *arg);
void mach_tick_event(struct evq *q, struct evq_event *ev, void *arg);
void mach_cpu_manager_event(struct evq *q, struct evq_event *ev, void *arg);
void mach_disk_manager_event(struct evq *q, struct evq_event *ev, void *arg);
void mach_shape_event(struct evq *q, struct evq_event *ev, void *arg);
void mach_snapshot(struct machine *m, int64_t now);
void mach_snap_now_event(struct evq *q, struct evq_event *ev, void *arg);
void mach_snap_event(struct evq *q, struct evq_event *ev, void *arg);

#endif
