/*
 * machine: theory of operation.
 *
 * Problem: reproduce, event by event, what a hypervisor host with a disk
 * driver VM does (paper §3), and keep two ledgers of where each joule went:
 * the *truth* (the simulator knows which request every nanosecond of CPU
 * and disk time served) and the *account* (what the paper's mechanisms
 * charge: PMC-weighted context-switch periods, the transfer-rate estimate,
 * the driver's per-request prediction).
 *
 * Model:
 *  - CPUs. Each physical CPU runs one vCPU at a time, chosen by a scheduler
 *    class (models/sched.h) on a fixed quantum; with nothing runnable it
 *    halts (the idle vCPU). A vCPU executes a FIFO of work items (CPU time
 *    with event rates). While code runs, the counters advance at the work's
 *    rates (`cycles` at the clock rate); the TSC always advances at the
 *    clock rate. Counter advances accumulate per CPU and are logged as one
 *    PMC record at every context switch and whenever the energy manager
 *    reads the log ([cpu] read_period, 20 ms), as the paper's hypervisor
 *    does; the record is accounted by the CPU energy model to the VM that
 *    ran (a driver VM's share goes to its recursive pool).
 *  - Truth CPU: every segment of constant rates is charged with the true
 *    weights: the TSC part to the idle pot (split by the idle policy at each
 *    snapshot), the rest to the owner VM, or for driver work done for a
 *    request to the client via the driver.
 *  - Disk path: a client submits a request to its driver VM; the driver's
 *    vCPU does req_cpu (+ per KiB) of work, then the disk serves requests
 *    FIFO for overhead + size / media_rate; at completion the driver
 *    accounts the request (models/disk_energy.h, models/recursive.h) and
 *    replies. Idle disk energy and the driver's idle CPU are charged every
 *    disk idle period (50 ms) over the driver's clients.
 *  - Guests with resource containers (paper §3.4): the guest's scheduler
 *    runs its containers' slices on its vCPU and charges each slice from
 *    virtual PMCs at the container switch. A disk-stress container's
 *    client CPU runs in its own slices (ready work preempts a CPU
 *    container's slice, which resumes afterwards); its requests then go
 *    through the guest's virtual disk like the VM's own (the host sees
 *    only the VM). The reply's cost (the driver's disk estimate and CPU
 *    prediction) is charged to the issuing container, in the guest's view
 *    and budget; the truth charges the request's true busy energy and
 *    driver work; the VM's idle shares are split over its containers in
 *    proportion to their active cost per device.
 *  - Snapshots every [output] interval: all CPUs log a record, idle pots
 *    are split, the driver's undistributed CPU energy and not-yet-charged
 *    disk idle energy are booked as `unattributed`, and both ledgers check
 *    conservation (design §6).
 *  - Traces: `pmc` logs ([cpu] pmc_log) and per-VM `pmc-interval`/`blk`
 *    traces are streamed (one record ahead) and replayed in `accounting`
 *    mode (charged as recorded; the truth ledger is then incomplete and
 *    omitted) or `open`/`closed` mode (submitted into the simulated machine).
 *    A pmc_log in accounting mode is read in batches and its records summed
 *    per (CPU, VM), the sums charged when the ledgers are next looked at
 *    (trace_fast_event, "the fast accounting replay" below).
 *
 * Parameters: the scenario (sim/scenario.h); defaults from the preset.
 *
 * Worked example: one disk-stress client with 4 KiB reads on paper-2007:
 * client work 3 us, driver work 7 us, disk 128.5 us: one request every
 * ~139 us; the disk is busy 93% of the time (1.85 W active on top of 3.6 W
 * idle) and the driver's request work costs ~77 W x 7 us per request.
 *
 * Cost per quantum (the hot path, docs/PERFORMANCE.md): a CPU whose next
 * decision point is before every queued event runs it at once in its own
 * event (evq_claim; the order of events is unchanged); the scheduler
 * charges, requeues and picks in one step (requeue_pick); a segment of
 * scenario rates with the same length as the vCPU's last one reuses that
 * segment's counter advances and energies (struct seg_cache: the same
 * doubles), and the record of just that segment its account energies, so
 * the PMC log stays virtual (pend_virtual) until something reads it; the
 * common case of both runs inline (cpu_advance_fast, cpu_record_fast) and
 * charges the guest's ledger cells through pointers kept for it. Every
 * ledger, idle split and statistic receives the same additions in the
 * same order as the general path, so results are bit-identical.
 *
 * Limits: one queue per disk, FIFO; no preemption on wake-up (a woken vCPU
 * waits for the running quantum); vCPUs are pinned to CPU (vm index mod
 * count). Memory is O(VMs + queue depth), independent of run and trace
 * length.
 */
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
	/* the fast accounting replay of a pmc log (trace_fast_event) */
	int fast;                   /* its records go through trace_fast_event */
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
/* errors and pools                                                        */

static void fail(struct machine *m, int err)
{
	if (!m->err)
		m->err = err;
	evq_stop(&m->q);
}

static void *chunk_alloc(struct machine *m, size_t size)
{
	if (m->nchunks == m->chunk_cap) {
		int cap = m->chunk_cap ? 2 * m->chunk_cap : 16;
		void **nc = realloc(m->chunks, (size_t)cap * sizeof *nc);
		if (!nc)
			return NULL;
		m->chunks = nc;
		m->chunk_cap = cap;
	}
	void *p = calloc(1, size);
	if (p)
		m->chunks[m->nchunks++] = p;
	return p;
}

static struct work *work_get(struct machine *m)
{
	if (!m->free_work) {
		struct work *c = chunk_alloc(m, WORK_CHUNK * sizeof *c);
		if (!c)
			return NULL;
		for (int i = 0; i < WORK_CHUNK; i++) {
			c[i].next = m->free_work;
			m->free_work = &c[i];
		}
	}
	struct work *w = m->free_work;
	m->free_work = w->next;
	memset(w, 0, sizeof *w);
	w->client = -1;
	return w;
}

static void work_put(struct machine *m, struct work *w)
{
	w->next = m->free_work;
	m->free_work = w;
}

static struct mreq *req_get(struct machine *m)
{
	if (!m->free_req) {
		struct mreq *c = chunk_alloc(m, REQ_CHUNK * sizeof *c);
		if (!c)
			return NULL;
		for (int i = 0; i < REQ_CHUNK; i++) {
			c[i].next = m->free_req;
			m->free_req = &c[i];
		}
	}
	struct mreq *r = m->free_req;
	m->free_req = r->next;
	memset(r, 0, sizeof *r);
	r->drv_work.client = -1;
	r->cl_work.client = -1;
	r->ev.heap_idx = EVQ_NOT_QUEUED;
	return r;
}

static void req_put(struct machine *m, struct mreq *r)
{
	r->next = m->free_req;
	m->free_req = r;
}

/* ---------------------------------------------------------------------- */
/* charging helpers                                                        */

static int dev_cpu(int cpu) { return cpu; }
static int dev_disk(const struct machine *m, int disk) { return m->ncpu + disk; }

/* Route a CPU charge for VM vm (or -1: hypervisor) in the account ledger:
 * a driver VM's energy goes to its recursive pool. */
static void acct_cpu_charge(struct machine *m, int cpu, int vm, int kind, double j)
{
	if (j == 0.0)
		return;
	if (vm < 0) {
		ledger_charge(m->acct, LEDGER_HYPERVISOR, dev_cpu(cpu), 0, kind, j);
		return;
	}
	struct mvm *v = &m->vm[vm];
	if (kind == LEDGER_IDLE)
		v->st.hv_cpu_idle_j += j;
	else
		v->st.hv_cpu_active_j += j;
	if (v->is_driver && cpu != v->vcpu.cpu) {
		/* a share of another CPU's baseline: the driver runs (and passes
		 * on) only on its own CPU, so it keeps this one */
		ledger_charge(m->acct, v->consumer, dev_cpu(cpu), 0, kind, j);
		return;
	}
	if (v->is_driver) {
		v->probe_pool_j += j;
		if (v->n_clients > 0)
			recursive_pool_add(&v->rec, j);
		else
			v->acct_pool_j[kind] += j;
		return;
	}
	ledger_charge(m->acct, v->consumer, dev_cpu(cpu), 0, kind, j);
	if (kind == LEDGER_ACTIVE)
		v->meas_cpu_j += j;
}

static void truth_cpu_charge(struct machine *m, int cpu, int vm, int kind, double j)
{
	if (j == 0.0 || !m->truth)
		return;
	if (vm < 0) {
		ledger_charge(m->truth, LEDGER_HYPERVISOR, dev_cpu(cpu), 0, kind, j);
		return;
	}
	struct mvm *v = &m->vm[vm];
	if (v->is_driver && cpu == v->vcpu.cpu) {
		v->truth_pool_j[kind] += j;
		return;
	}
	ledger_charge(m->truth, v->consumer, dev_cpu(cpu), 0, kind, j);
}

/* The idle (TSC) energy of one accounted PMC period. Under the `equal`
 * policy a driver VM's share (idle / VMs) goes to its pool at once, so the
 * driver's per-request prediction sees a smooth stream (paper: the driver
 * queries its energy every 50 requests); the guests' shares are split at
 * the snapshot, which gives the same totals at O(1) per record. Other
 * policies need the whole interval and split everything at the snapshot. */
static void acct_cpu_idle(struct machine *m, struct mcpu *c, double idle_j)
{
	if (m->acct_split_guests && m->n_drivers > 0 && m->nvm > 0) {
		double share = idle_j / (double)m->nvm;
		for (int i = 0; i < m->n_drivers; i++)
			acct_cpu_charge(m, c->idx, m->driver_list[i], LEDGER_IDLE, share);
		idle_split_add_idle(c->split_acct, idle_j - share * (double)m->n_drivers);
		return;
	}
	idle_split_add_idle(c->split_acct, idle_j);
}

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

/* ---------------------------------------------------------------------- */
/* CPUs                                                                    */

static void cpu_dispatch(struct machine *m, struct mcpu *c, int64_t now);

/* The counter advances ev of a segment of sec seconds (ticks TSC ticks)
 * of work w (NULL: halted) and their energy under the weighted-PMC weights
 * wt: the values and the order of additions of energy_period (the cycles
 * counter counts ticks while work runs, the TSC always, the others at the
 * work's rates). */
static inline void seg_counters(const struct machine *m, const struct work *w, double sec,
				double ticks, const double *wt, double *ev, double *idle_j,
				double *active_j)
{
	const double *r = w ? w->rates : NULL;
	int n = m->n_ctr, tsc = m->tsc, cyc = w ? m->cyc : -1;
	double act = 0.0;
	for (int k = 0; k < n; k++) {
		double x = k == tsc || k == cyc ? ticks : r ? r[k] * sec : 0.0;
		ev[k] = x;
		if (k != tsc)
			act += wt[k] * x;
	}
	*idle_j = tsc >= 0 ? wt[tsc] * ticks : 0.0;
	*active_j = act;
}

/* pend while it is virtual (one cached segment since the last record, see
 * struct mcpu) written out: 0.0 + the segment's advances, as adding them
 * to the cleared log gives. */
static inline void pend_materialize(struct mcpu *c, int n)
{
	if (!c->pend_virtual)
		return;
	for (int k = 0; k < n; k++)
		c->pend[k] += c->pend_sc->ev[k];
	c->pend_virtual = 0;
}

/* A guest's active CPU energy in its cell (consumer, cpu, direct, active)
 * of ledger l through the cell pointer *cell kept for it: ledger_charge. */
static inline void charge_cell(struct ledger *l, double **cell, int consumer, int cpu,
			       double j)
{
	if (j == 0.0)
		return;
	if (!*cell)
		*cell = ledger_cell_cur(l, consumer, dev_cpu(cpu), 0, LEDGER_ACTIVE);
	**cell += j;
}

/* Account [seg_start, now) on CPU c: counters, truth energy, power. The
 * counter advances go to the log pend, possibly virtually (the caller
 * materializes it before reading pend, see cpu_advance). */
static void cpu_advance_seg(struct machine *m, struct mcpu *c, int64_t now)
{
	int64_t dt = now - c->seg_start_ns;
	struct vcpu *v = c->cur;
	struct work *w = v ? v->head : NULL;
	double idle_j, active_j;
	struct seg_cache *sc = NULL;
	int n = m->n_ctr;
	if (m->weighted) {
		const double *r = w ? w->rates : NULL;
		if (!w || r != w->own_rates)
			sc = v ? &v->sc : &c->halt_sc;
		if (!sc || !sc->valid || sc->rates != r || sc->dt != dt || sc->work != (w != NULL)) {
			double ev[NC];
			pend_materialize(c, n); /* before its segment's cache is reused */
			seg_counters(m, w, (double)dt * 1e-9, m->freq_hz * ((double)dt * 1e-9),
				     m->model_truth.weight_j, ev, &idle_j, &active_j);
			if (!sc) {
				for (int k = 0; k < n; k++)
					c->pend[k] += ev[k];
			} else {
				memcpy(sc->ev, ev, sizeof ev);
				sc->idle_j = idle_j;
				sc->active_j = active_j;
				sc->rates = r;
				sc->dt = dt;
				sc->work = w != NULL;
				sc->valid = 1;
				sc->acct_valid = 0;
			}
		} else {
			idle_j = sc->idle_j;
			active_j = sc->active_j;
		}
		if (sc) {
			if (c->pend_segs == 0) {
				c->pend_virtual = 1; /* the log is clear: it is just this segment */
			} else {
				pend_materialize(c, n);
				for (int k = 0; k < n; k++)
					c->pend[k] += sc->ev[k];
			}
		}
	} else {
		double sec = (double)dt * 1e-9;
		double ticks = m->freq_hz * sec;
		double ev[NC];
		for (int k = 0; k < n; k++)
			ev[k] = w && w->rates ? w->rates[k] * sec : 0.0;
		if (w && m->cyc >= 0)
			ev[m->cyc] = ticks;
		if (m->tsc >= 0)
			ev[m->tsc] = ticks;
		pend_materialize(c, n);
		for (int k = 0; k < n; k++)
			c->pend[k] += ev[k];
		energy_period(&m->model_truth, dt, ev, &idle_j, &active_j);
	}
	c->pend_segs++;
	c->pend_sc = sc;
	if (m->truth) {
		ledger_meter(m->truth, dev_cpu(c->idx), idle_j + active_j);
		idle_split_add_idle(c->split_truth, idle_j);
		if (v) {
			idle_split_add_use(c->split_truth, v->vm, dt, active_j);
			struct mvm *owner = &m->vm[v->vm];
			if (w && w->client >= 0)
				ledger_charge(m->truth, m->vm[w->client].consumer, dev_cpu(c->idx),
					      owner->via, LEDGER_ACTIVE, active_j);
			else if (!owner->is_driver) /* truth_cpu_charge's common case */
				charge_cell(m->truth, &owner->truth_cell, owner->consumer, c->idx,
					    active_j);
			else
				truth_cpu_charge(m, c->idx, v->vm, LEDGER_ACTIVE, active_j);
		} else {
			truth_cpu_charge(m, c->idx, -1, LEDGER_ACTIVE, active_j);
		}
	}
	if (m->sink.power_row)
		power_sampler_add(m->power, dev_cpu(c->idx), c->seg_start_ns, now, idle_j + active_j);
	if (v) {
		m->vm[v->vm].st.cpu_ns += dt;
		if (w && w->remaining_ns != WORK_FOREVER)
			w->remaining_ns -= dt;
	}
	c->seg_start_ns = now;
}

/* cpu_advance_seg's common case, inline with few registers: a guest's
 * work of scenario rates runs a segment whose counters and energies are
 * cached, right after a record, with no power sink, virtual PMCs or driver
 * routing in play (m->cpu_fast). The same updates as cpu_advance_seg; 0
 * when the case does not apply (then nothing changed). */
static inline int cpu_advance_fast(struct machine *m, struct mcpu *c, int64_t now)
{
	struct vcpu *v = c->cur;
	struct work *w = v ? v->head : NULL;
	if (!m->cpu_fast || !w || c->pend_segs != 0)
		return 0;
	struct seg_cache *sc = &v->sc;
	int64_t dt = now - c->seg_start_ns;
	/* a valid cache holds scenario rates, never a work's own_rates, and
	 * only guests get a cell pointer */
	if (!sc->valid || sc->rates != w->rates || sc->dt != dt || !sc->work || w->client >= 0)
		return 0;
	struct mvm *owner = &m->vm[v->vm];
	if (!owner->truth_cell)
		return 0;
	c->pend_virtual = 1;
	c->pend_segs = 1;
	c->pend_sc = sc;
	double idle_j = sc->idle_j, active_j = sc->active_j;
	ledger_meter(m->truth, dev_cpu(c->idx), idle_j + active_j);
	idle_split_add_idle(c->split_truth, idle_j);
	idle_split_add_use(c->split_truth, v->vm, dt, active_j);
	if (active_j != 0.0)
		*owner->truth_cell += active_j;
	owner->st.cpu_ns += dt;
	if (w->remaining_ns != WORK_FOREVER)
		w->remaining_ns -= dt;
	c->seg_start_ns = now;
	return 1;
}

/* Account CPU c up to now, with its log pend written out (for readers of
 * pend). Most calls find nothing to account (a record right after the
 * event that advanced the CPU): that is tested before the call. */
static inline void cpu_advance(struct machine *m, struct mcpu *c, int64_t now)
{
	if (now > c->seg_start_ns)
		cpu_advance_seg(m, c, now);
	pend_materialize(c, m->n_ctr);
}

/* cpu_record's common case, inline: the record of one cached segment of
 * a guest, whose account energies are known, accounted right after it
 * (m->cpu_fast). The same updates as cpu_record; 0 when the case does not
 * apply (then nothing changed). */
static inline int cpu_record_fast(struct machine *m, struct mcpu *c, int64_t now)
{
	/* pend_virtual: one cached segment since the record, which ended at
	 * seg_start_ns, so now > rec_start_ns; only guests get a cell pointer */
	struct seg_cache *one = c->pend_sc;
	if (!m->cpu_fast || !c->pend_virtual || !one->acct_valid || now != c->seg_start_ns ||
	    c->rec_vm < 0)
		return 0;
	struct mvm *v = &m->vm[c->rec_vm];
	if (!v->acct_cell)
		return 0;
	assert(c->pend_segs == 1 && now > c->rec_start_ns && !v->is_driver);
	double idle_j = one->acct_idle_j, active_j = one->acct_active_j;
	c->pend_virtual = 0;
	c->pend_segs = 0;
	ledger_meter(m->acct, dev_cpu(c->idx), idle_j + active_j);
	idle_split_add_idle(c->split_acct, idle_j);
	idle_split_add_use(c->split_acct, c->rec_vm, now - c->rec_start_ns, active_j);
	if (active_j != 0.0) {
		v->st.hv_cpu_active_j += active_j;
		*v->acct_cell += active_j;
		v->meas_cpu_j += active_j;
	}
	c->rec_start_ns = now;
	c->rec_vm = c->cur ? c->cur->vm : -1;
	m->st.pmc_records++;
	return 1;
}

/* Log one PMC record for the period since the last one and account it. */
static void cpu_record(struct machine *m, struct mcpu *c, int64_t now)
{
	if (now > c->seg_start_ns)
		cpu_advance_seg(m, c, now);
	int64_t dt = now - c->rec_start_ns;
	if (dt <= 0)
		return;
	int n = m->n_ctr;
	if (m->vpmc_used) {
		pend_materialize(c, n);
		vpmc_log(&m->vpmc, c->rec_vm, c->pend);
	}
	double idle_j, active_j;
	/* a record of one cached segment: the log is 0.0 + that segment's
	 * advances, the same doubles every time, and so is their energy */
	struct seg_cache *one = c->pend_segs == 1 ? c->pend_sc : NULL;
	if (one && one->acct_valid) {
		idle_j = one->acct_idle_j;
		active_j = one->acct_active_j;
	} else if (m->weighted) {
		/* energy_period's arithmetic */
		pend_materialize(c, n);
		const double *wt = m->model_acct.weight_j;
		int tsc = m->tsc;
		double act = 0.0;
		idle_j = tsc >= 0 ? wt[tsc] * c->pend[tsc] : 0.0;
		for (int k = 0; k < n; k++)
			if (k != tsc)
				act += wt[k] * c->pend[k];
		active_j = act;
		if (one) {
			one->acct_idle_j = idle_j;
			one->acct_active_j = active_j;
			one->acct_valid = 1;
		}
	} else {
		energy_period(&m->model_acct, dt, c->pend, &idle_j, &active_j);
	}
	if (c->pend_virtual)
		c->pend_virtual = 0; /* pend itself is still clear */
	else
		memset(c->pend, 0, sizeof c->pend);
	c->pend_segs = 0;
	ledger_meter(m->acct, dev_cpu(c->idx), idle_j + active_j);
	if (m->acct_split_guests && m->n_drivers > 0 && m->nvm > 0)
		acct_cpu_idle(m, c, idle_j);
	else
		idle_split_add_idle(c->split_acct, idle_j); /* acct_cpu_idle's common case */
	if (c->rec_vm >= 0) /* a no-op under the equal policy (acct_split_guests) */
		idle_split_add_use(c->split_acct, c->rec_vm, dt, active_j);
	struct mvm *v = c->rec_vm >= 0 ? &m->vm[c->rec_vm] : NULL;
	if (v && !v->is_driver) {
		/* acct_cpu_charge's common case: a guest's active energy */
		if (active_j != 0.0) {
			v->st.hv_cpu_active_j += active_j;
			charge_cell(m->acct, &v->acct_cell, v->consumer, c->idx, active_j);
			v->meas_cpu_j += active_j;
		}
	} else {
		acct_cpu_charge(m, c->idx, c->rec_vm, LEDGER_ACTIVE, active_j);
	}
	c->rec_start_ns = now;
	c->rec_vm = c->cur ? c->cur->vm : -1;
	m->st.pmc_records++;
}

/* When CPU c's next decision point is due, or -1 when it halts. */
static int64_t cpu_next_ns(const struct mcpu *c, int64_t now)
{
	int64_t t;
	if (c->cur) {
		t = c->slice_end_ns;
		const struct work *w = c->cur->head;
		if (w->remaining_ns != WORK_FOREVER && now + w->remaining_ns < t)
			t = now + w->remaining_ns;
	} else if (c->idle_running) {
		t = c->slice_end_ns;
	} else {
		return -1;
	}
	return t < now ? now : t;
}

/* Pop finished work of the running vCPU (calls done handlers). */
static void vcpu_reap(struct machine *m, struct vcpu *v)
{
	while (v->head && v->head->remaining_ns <= 0) {
		struct work *w = v->head;
		v->head = w->next;
		if (!v->head)
			v->tail = NULL;
		w->next = NULL;
		w->queued = 0;
		if (w->done)
			w->done(m, w);
	}
}

/* A CPU's decision point. The next one, when it is due before every
 * queued event, runs at once in this loop (evq_claim): the queue would
 * have popped it next, so the order of events is unchanged, and a CPU
 * between periodic events runs quantum after quantum without a push and
 * pop per quantum. */
static void cpu_event(struct evq *q, struct evq_event *ev, void *arg)
{
	struct machine *m = arg;
	struct mcpu *c = (struct mcpu *)((char *)ev - offsetof(struct mcpu, ev));
	int64_t now = q->now_ns;
	for (;;) {
		if (now > c->seg_start_ns && !cpu_advance_fast(m, c, now))
			cpu_advance_seg(m, c, now); /* pend may stay virtual */
		if (c->cur)
			vcpu_reap(m, c->cur);
		cpu_dispatch(m, c, now);
		int64_t t = cpu_next_ns(c, now);
		if (t < 0) {
			evq_cancel(q, &c->ev);
			return;
		}
		if (evq_is_queued(&c->ev) || !evq_claim(q, t, m->end_ns)) {
			if (evq_schedule(q, &c->ev, t))
				fail(m, JV_ENOMEM);
			return;
		}
		m->st.events++; /* it counts as the event it would have been */
		now = t;
	}
}

static void rq_enqueue(struct machine *m, struct mcpu *c, struct sched_entity *se)
{
	if (c->rq.ops->enqueue(&c->rq, se))
		fail(m, JV_ENOMEM);
}

/* A decision point on CPU c: the running entity's quantum ended, it
 * blocked, or the CPU was halted and work arrived. The scheduler class
 * picks among the runnable vCPUs and, while CPU limits are in force, the
 * idle vCPU; a change of vCPU is a context switch and logs a PMC record.
 * The caller schedules the CPU's next decision point (cpu_next_ns). */
static void cpu_dispatch(struct machine *m, struct mcpu *c, int64_t now)
{
	struct vcpu *prev = c->cur;
	int prev_idle = c->idle_running;
	int prev_runnable = prev && prev->head;
	if ((prev_runnable || prev_idle) && now < c->slice_end_ns)
		return;
	const struct sched_ops *ops = c->rq.ops;
	struct sched_entity *se;
	if (prev_runnable || (prev_idle && c->idle_active)) {
		/* the quantum ended and the entity stays runnable: charge,
		 * enqueue and pick in one step */
		se = ops->requeue_pick(&c->rq, prev ? &prev->se : &c->idle_se,
				       now - c->run_start_ns);
	} else {
		if (prev || prev_idle)
			ops->charge(&c->rq, prev ? &prev->se : &c->idle_se, now - c->run_start_ns);
		if (prev)
			prev->se.sleeping = 1; /* blocked: no credit is banked */
		se = ops->pick_next(&c->rq);
	}
	/* a vCPU's entity is its se (the idle vCPU's id is negative) */
	struct vcpu *next = se && se->id >= 0
		? (struct vcpu *)((char *)se - offsetof(struct vcpu, se)) : NULL;
	int next_idle = se && se->id < 0;
	if (next != prev || next_idle != prev_idle) {
		if (!cpu_record_fast(m, c, now))
			cpu_record(m, c, now); /* context switch: log the PMC record */
		if (prev)
			prev->running = 0;
		c->cur = next;
		if (next)
			next->running = 1;
		c->rec_vm = next ? next->vm : -1;
	}
	c->idle_running = next_idle;
	if (se) {
		c->slice_end_ns = now + m->quantum_ns;
		c->run_start_ns = now;
	}
}

/* Append work to a vCPU; wakes it if it was idle. */
static void vcpu_add_work(struct machine *m, struct vcpu *v, struct work *w)
{
	w->next = NULL;
	w->queued = 1;
	int was_empty = v->head == NULL;
	if (v->tail)
		v->tail->next = w;
	else
		v->head = w;
	v->tail = w;
	if (!was_empty || v->running)
		return;
	struct mcpu *c = &m->cpu[v->cpu];
	rq_enqueue(m, c, &v->se);
	/* a halted CPU wakes at once; one the idle vCPU holds waits for its quantum */
	if (!c->cur && !c->idle_running && !evq_is_queued(&c->ev)) {
		if (evq_schedule(&m->q, &c->ev, m->q.now_ns))
			fail(m, JV_ENOMEM);
	}
}

/* Make a running or queued piece of work end now (workload stop). */
static void work_cancel(struct machine *m, struct vcpu *v, struct work *w)
{
	if (!w->queued)
		return;
	struct mcpu *c = &m->cpu[v->cpu];
	if (c->cur == v && v->head == w) {
		cpu_advance(m, c, m->q.now_ns);
		w->remaining_ns = 0;
		if (evq_schedule(&m->q, &c->ev, m->q.now_ns))
			fail(m, JV_ENOMEM);
	} else {
		w->remaining_ns = 0;
	}
}

/* ---------------------------------------------------------------------- */
/* disks and the driver                                                    */

static void disk_start_next(struct machine *m, struct mdisk *dk);
static void client_next(struct machine *m, struct mreq *r);

static void disk_power_to(struct machine *m, struct mdisk *dk, int64_t now)
{
	if (now <= dk->power_since_ns)
		return;
	if (m->sink.power_row) {
		double p = dk->busy ? dk->acct.active_w : dk->acct.idle_w;
		power_sampler_add(m->power, dev_disk(m, dk->idx), dk->power_since_ns, now,
				  p * (double)(now - dk->power_since_ns) * 1e-9);
	}
	dk->power_since_ns = now;
}

/* Truth: charge the in-flight request's busy time up to now. */
static void disk_truth_busy(struct machine *m, struct mdisk *dk, int64_t now)
{
	struct mreq *r = dk->busy;
	if (!r || now <= r->acc_from_ns)
		return;
	int64_t dt = now - r->acc_from_ns;
	double j = (dk->acct.active_w - dk->acct.idle_w) * (double)dt * 1e-9;
	if (m->truth) {
		ledger_meter(m->truth, dev_disk(m, dk->idx), j);
		ledger_charge(m->truth, r->vm->consumer, dev_disk(m, dk->idx),
			      r->vm->driver ? r->vm->driver->via : 0, LEDGER_ACTIVE, j);
		int p = -1;
		for (int i = 0; i < dk->n_part; i++)
			if (dk->part_vm[i] == r->vm->idx)
				p = i;
		idle_split_add_use(dk->split_truth, p, dt, j);
	}
	r->acc_from_ns = now;
}

static void disk_submit(struct machine *m, struct mreq *r)
{
	struct mdisk *dk = &m->disk[r->disk];
	r->next = NULL;
	if (dk->qt)
		dk->qt->next = r;
	else
		dk->qh = r;
	dk->qt = r;
	if (!dk->busy)
		disk_start_next(m, dk);
}

static void drv_work_done(struct machine *m, struct work *w)
{
	struct mreq *r = w->ctx;
	disk_submit(m, r);
}

/* Account a completed request in the driver: disk access energy with the
 * estimated rate, the recursive CPU charge; the difference between the
 * measured busy energy and the estimate is booked as unattributed. */
static void driver_account(struct machine *m, struct mdisk *dk, struct mvm *cl,
			   int64_t size_b, int64_t busy_ns, int64_t now, struct mreq *r)
{
	int ddev = dev_disk(m, dk->idx);
	struct mvm *drv = cl->driver;
	int via = drv ? drv->via : 0;
	double measured = (dk->acct.active_w - dk->acct.idle_w) * (double)busy_ns * 1e-9;
	double est = disk_energy_complete(&dk->acct, size_b, busy_ns);
	ledger_meter(m->acct, ddev, measured);
	ledger_charge(m->acct, cl->consumer, ddev, via, LEDGER_ACTIVE, est);
	ledger_charge(m->acct, LEDGER_UNATTRIBUTED, ddev, via, LEDGER_ACTIVE, measured - est);
	int p = -1;
	for (int i = 0; i < dk->n_part; i++)
		if (dk->part_vm[i] == cl->idx)
			p = i;
	idle_split_add_use(dk->split_acct, p, busy_ns, est);
	if (drv && drv->n_clients > 0) {
		double e = recursive_request_done(&drv->rec, now);
		ledger_charge(m->acct, cl->consumer, dev_cpu(drv->vcpu.cpu), via, LEDGER_ACTIVE, e);
		cl->meas_drv_j += e;
		r->cost_cpu_j = e;
		cl->meter_j[dev_cpu(drv->vcpu.cpu)] += e; /* the reply carries its cost */
	}
	cl->meas_drv_j += est;
	r->cost_disk_j = est;
	cl->meter_j[ddev] += est;
	cl->st.requests++;
	cl->st.bytes += size_b;
}

static void disk_event(struct evq *q, struct evq_event *ev, void *arg)
{
	struct machine *m = arg;
	struct mdisk *dk = (struct mdisk *)((char *)ev - offsetof(struct mdisk, ev));
	int64_t now = q->now_ns;
	struct mreq *r = dk->busy;
	disk_truth_busy(m, dk, now);
	disk_power_to(m, dk, now);
	dk->busy = NULL;
	driver_account(m, dk, r->vm, r->size_b, now - r->start_ns, now, r);
	disk_start_next(m, dk);
	client_next(m, r);
}

static void disk_start_next(struct machine *m, struct mdisk *dk)
{
	struct mreq *r = dk->qh;
	if (!r)
		return;
	int64_t now = m->q.now_ns;
	dk->qh = r->next;
	if (!dk->qh)
		dk->qt = NULL;
	disk_power_to(m, dk, now);
	dk->busy = r;
	r->start_ns = now;
	r->acc_from_ns = now;
	int64_t svc = disk_service_ns(&dk->svc, r->size_b, r->op);
	if (evq_schedule(&m->q, &dk->ev, now + svc))
		fail(m, JV_ENOMEM);
}

static void request_process(struct machine *m, struct mreq *r);

/* A client hands a request to its driver VM; the shaper lets it through
 * now or keeps it in the client's ring until a later budget. */
static void request_submit(struct machine *m, struct mreq *r)
{
	struct mvm *drv = r->vm->driver;
	r->submit_ns = m->q.now_ns;
	if (shaper_submit(&drv->shaper, r->vm->client_slot, &r->sh))
		request_process(m, r);
}

static void shaper_release(void *ctx, int client, struct shaper_item *it)
{
	(void)client;
	request_process(ctx, (struct mreq *)((char *)it - offsetof(struct mreq, sh)));
}

/* The driver works on a request: its CPU work, then the disk. */
static void request_process(struct machine *m, struct mreq *r)
{
	struct mvm *drv = r->vm->driver;
	const struct scn_vm *dc = drv->cfg;
	struct work *w = &r->drv_work;
	w->remaining_ns = dc->req_cpu_ns + (int64_t)llround((double)dc->req_cpu_ns_per_kib *
							     (double)r->size_b / 1024.0);
	w->rates = dc->req_events.per_s;
	w->client = r->vm->idx;
	w->done = drv_work_done;
	w->ctx = r;
	if (w->remaining_ns <= 0) {
		disk_submit(m, r);
		return;
	}
	vcpu_add_work(m, &drv->vcpu, w);
}

/* ---------------------------------------------------------------------- */
/* disk-stress workload (closed loop, queue depth slots)                   */

static void client_work_done(struct machine *m, struct work *w)
{
	struct mreq *r = w->ctx;
	struct mvm *v = r->vm;
	if (v->stopped || m->q.now_ns >= v->cfg->stop_ns)
		return;
	r->size_b = v->cfg->block_size_b;
	r->op = v->cfg->op;
	r->offset_b = v->next_offset;
	v->next_offset += r->size_b;
	request_submit(m, r);
}

static void cont_issue(struct machine *m, struct mreq *r);
static void cont_reply(struct machine *m, struct mreq *r);

static void client_issue(struct machine *m, struct mreq *r)
{
	struct mvm *v = r->vm;
	if (r->cont) {
		cont_issue(m, r);
		return;
	}
	if (v->stopped || m->q.now_ns >= v->cfg->stop_ns)
		return;
	struct work *w = &r->cl_work;
	w->remaining_ns = v->cfg->client_cpu_ns;
	w->rates = v->cfg->events.per_s;
	w->client = -1;
	w->done = client_work_done;
	w->ctx = r;
	if (w->remaining_ns <= 0) {
		client_work_done(m, w);
		return;
	}
	vcpu_add_work(m, &v->vcpu, w);
}

static void think_event(struct evq *q, struct evq_event *ev, void *arg)
{
	struct machine *m = arg;
	struct mreq *r = (struct mreq *)((char *)ev - offsetof(struct mreq, ev));
	(void)q;
	client_issue(m, r);
}

static void trace_closed_submit(struct machine *m, struct mtrace *t);

/* After a completion: the next step of whoever issued the request. */
static void client_next(struct machine *m, struct mreq *r)
{
	if (r->from_trace) {
		struct mtrace *t = r->trace;
		req_put(m, r);
		if (t && t->mode == SCN_REPLAY_CLOSED)
			trace_closed_submit(m, t);
		return;
	}
	int64_t think = r->vm->cfg->think_ns;
	if (r->cont) { /* the reply's cost goes to the container that issued it */
		cont_reply(m, r);
		think = r->cont->cfg->think_ns;
	}
	if (think > 0) {
		evq_event_init(&r->ev, think_event, m);
		if (evq_schedule(&m->q, &r->ev, m->q.now_ns + think))
			fail(m, JV_ENOMEM);
		return;
	}
	client_issue(m, r);
}

/* ---------------------------------------------------------------------- */
/* energy-aware guests: resource containers on the guest's vCPU            */

static void guest_schedule(struct machine *m, struct mvm *v);

/* The guest's virtual PMCs now (logged periods plus the live advance). */
static void guest_vpmc(struct machine *m, struct mvm *v, double *out)
{
	struct mcpu *c = &m->cpu[v->vcpu.cpu];
	const double *live = NULL;
	if (c->cur == &v->vcpu) {
		cpu_advance(m, c, m->q.now_ns);
		live = c->pend;
	}
	vpmc_read(&m->vpmc, v->idx, live, out);
}

static int cont_is_disk(const struct mcont *ct)
{
	return ct->cfg->workload == SCN_WL_DISK_STRESS;
}

static int cont_throttled(const struct mvm *v, int i)
{
	return v->cfg->energy_aware && v->gm.c[i].throttled;
}

static void cont_submit(struct machine *m, struct mreq *r);

/* A container switch: charge the slice that ended (guest view from the
 * virtual PMCs, truth from the true weights), then pick the next. A disk
 * container's slice ran client CPU work of its oldest waiting request;
 * when that work is done the request goes to the virtual disk. */
static void guest_slice_done(struct machine *m, struct work *w)
{
	struct mvm *v = w->ctx;
	struct mcont *ct = &v->cont[v->cur_cont];
	double now_v[NC], d[NC];
	guest_vpmc(m, v, now_v);
	for (int k = 0; k < m->s->cpu.n_counters; k++)
		d[k] = now_v[k] - v->slice_v0[k];
	int64_t ran = v->slice_len_ns - (w->remaining_ns > 0 ? w->remaining_ns : 0);
	double gi, ga, ti, ta;
	cpu_energy_period(&m->model_acct, ran, d, &gi, &ga);
	/* truth: the slice's true events, from its rates and run time */
	double ev[NC];
	double sec = (double)ran * 1e-9;
	for (int k = 0; k < m->s->cpu.n_counters; k++)
		ev[k] = k == m->tsc || k == m->cyc ? m->freq_hz * sec
			: ct->cfg->events.per_s[k] * sec;
	cpu_energy_period(&m->model_truth, ran, ev, &ti, &ta);
	ct->st.guest_idle_j += gi;
	ct->st.guest_active_j += ga;
	ct->st.true_idle_j += ti;
	ct->st.true_active_j += ta;
	ct->st.cpu_ns += ran;
	if (ran > 0)
		ct->last_power_w = ga / (sec * v->guest_rate);
	if (v->cfg->energy_aware)
		gm_charge(&v->gm, v->cur_cont, ga);
	v->cur_cont = -1;
	struct mreq *r = ct->cpu_qh;
	if (cont_is_disk(ct) && r) {
		r->cl_left_ns -= ran;
		if (r->cl_left_ns <= 0) {
			ct->cpu_qh = r->next;
			if (!ct->cpu_qh)
				ct->cpu_qt = NULL;
			r->next = NULL;
			cont_submit(m, r);
		}
	}
	guest_schedule(m, v);
}

/* Start a slice of container i of at most len ns; an energy-aware guest
 * shortens it to the time the container's budget lasts at its power. */
static void guest_start_slice(struct machine *m, struct mvm *v, int i, int64_t len)
{
	struct mcont *ct = &v->cont[i];
	if (v->cfg->energy_aware) {
		double p = ct->last_power_w;
		if (p <= 0) { /* first slice: the guest's view of the app's power */
			double ii, aa, ev[NC] = {0};
			for (int q = 0; q < m->s->cpu.n_counters; q++)
				ev[q] = q == m->tsc || q == m->cyc ? m->freq_hz
					: ct->cfg->events.per_s[q];
			cpu_energy_period(&m->model_acct, NS_PER_S, ev, &ii, &aa);
			p = aa / v->guest_rate;
		}
		double left = gm_time_left_ns(&v->gm, i, p); /* guest ns */
		if (left >= 0) {
			int64_t host_left = (int64_t)ceil(left / v->guest_rate);
			if (host_left < len)
				len = host_left > 0 ? host_left : 1;
		}
	}
	v->cur_cont = i;
	v->slice.client = -1;
	v->slice.remaining_ns = len;
	v->slice_len_ns = len;
	v->slice.rates = ct->cfg->events.per_s;
	v->slice.done = guest_slice_done;
	v->slice.ctx = v;
	guest_vpmc(m, v, v->slice_v0);
	vcpu_add_work(m, &v->vcpu, &v->slice);
}

/* The guest scheduler: a disk container whose request waits for its client
 * CPU work runs first (an I/O-bound task woken by its completion), one
 * request's work per slice; then a CPU container that such work preempted
 * resumes the rest of its slice; else the CPU containers take quantum
 * slices round-robin. A throttled container gets no slice. */
static void guest_schedule(struct machine *m, struct mvm *v)
{
	if (v->cur_cont >= 0 || v->stopped || m->q.now_ns >= v->cfg->stop_ns)
		return;
	int64_t q = v->cfg->guest_quantum_ns;
	for (int k = 1; k <= v->n_cont; k++) {
		int i = (v->rr_disk + k) % v->n_cont;
		struct mcont *ct = &v->cont[i];
		if (!cont_is_disk(ct) || !ct->cpu_qh || cont_throttled(v, i))
			continue;
		v->rr_disk = i;
		guest_start_slice(m, v, i, ct->cpu_qh->cl_left_ns < q ? ct->cpu_qh->cl_left_ns : q);
		return;
	}
	if (v->pre_cont >= 0) {
		int i = v->pre_cont;
		v->pre_cont = -1;
		if (!cont_throttled(v, i) && v->pre_left_ns > 0) {
			guest_start_slice(m, v, i, v->pre_left_ns);
			return;
		}
	}
	for (int k = 1; k <= v->n_cont; k++) {
		int i = (v->rr_cont + k) % v->n_cont; /* round-robin from the last */
		struct mcont *ct = &v->cont[i];
		if (ct->cfg->workload != SCN_WL_CPU_HOG)
			continue;
		if (cont_throttled(v, i))
			continue;
		v->rr_cont = i;
		guest_start_slice(m, v, i, q);
		return;
	}
}

/* Client CPU work arrived for disk container ct: a CPU container's slice
 * in flight is preempted (charged for what it ran; it resumes the rest
 * after the disk work). */
static void guest_wake(struct machine *m, struct mvm *v, struct mcont *ct)
{
	int i = (int)(ct - v->cont);
	if (cont_throttled(v, i))
		return;
	if (v->cur_cont < 0) {
		guest_schedule(m, v);
		return;
	}
	if (cont_is_disk(&v->cont[v->cur_cont]))
		return; /* the guest picks the waiting work after this slice */
	struct work *w = &v->slice;
	struct mcpu *c = &m->cpu[v->vcpu.cpu];
	int running = c->cur == &v->vcpu && v->vcpu.head == w;
	if (running)
		cpu_advance(m, c, m->q.now_ns);
	int64_t left = w->remaining_ns > 0 ? w->remaining_ns : 0;
	v->pre_cont = v->cur_cont;
	v->pre_left_ns = left;
	v->slice_len_ns -= left; /* what it ran */
	w->remaining_ns = 0;
	/* running: it ends now; waiting for the CPU: as soon as the vCPU runs */
	if (running && evq_schedule(&m->q, &c->ev, m->q.now_ns))
		fail(m, JV_ENOMEM);
}

/* A disk container's request slot is ready to issue: it waits for its
 * client CPU work in a slice (held while the container is throttled). */
static void cont_issue(struct machine *m, struct mreq *r)
{
	struct mvm *v = r->vm;
	struct mcont *ct = r->cont;
	if (v->stopped || m->q.now_ns >= v->cfg->stop_ns)
		return;
	if (cont_throttled(v, (int)(ct - v->cont))) {
		r->next = ct->parked; /* no new request until the refresh */
		ct->parked = r;
		return;
	}
	r->cl_left_ns = ct->cfg->client_cpu_ns;
	if (r->cl_left_ns <= 0) {
		cont_submit(m, r);
		return;
	}
	r->next = NULL;
	if (ct->cpu_qt)
		ct->cpu_qt->next = r;
	else
		ct->cpu_qh = r;
	ct->cpu_qt = r;
	guest_wake(m, v, ct);
}

/* The client work is done: the request goes through the guest's virtual
 * disk to its driver VM like any of the VM's requests (host view: the VM). */
static void cont_submit(struct machine *m, struct mreq *r)
{
	struct mvm *v = r->vm;
	const struct scn_container *c = r->cont->cfg;
	if (v->stopped || m->q.now_ns >= v->cfg->stop_ns)
		return; /* as a disk-stress VM: nothing new after its stop */
	r->size_b = c->block_size_b;
	r->op = c->op;
	r->offset_b = v->next_offset;
	v->next_offset += r->size_b;
	r->cost_disk_j = r->cost_cpu_j = 0.0;
	request_submit(m, r);
}

/* The true active energy of the driver's work for a request of size_b:
 * the work request_process queues, at the true weights. */
static double drv_work_true_j(const struct machine *m, const struct mvm *drv, int64_t size_b)
{
	const struct scn_vm *dc = drv->cfg;
	int64_t ns = dc->req_cpu_ns + (int64_t)llround((double)dc->req_cpu_ns_per_kib *
						       (double)size_b / 1024.0);
	if (ns <= 0)
		return 0.0;
	double sec = (double)ns * 1e-9, ev[NC], idle_j, active_j;
	for (int k = 0; k < m->s->cpu.n_counters; k++)
		ev[k] = k == m->tsc || k == m->cyc ? m->freq_hz * sec : dc->req_events.per_s[k] * sec;
	energy_period(&m->model_truth, ns, ev, &idle_j, &active_j);
	return active_j;
}

/* The reply reached the guest: charge its cost (the driver's estimate of
 * the disk access and its per-request CPU prediction) to the container
 * that issued the request, in the guest's view and its budget; the truth
 * gets the request's true busy energy and true driver work. */
static void cont_reply(struct machine *m, struct mreq *r)
{
	struct mvm *v = r->vm;
	struct mcont *ct = r->cont;
	const struct mdisk *dk = &m->disk[r->disk];
	double t_disk = (dk->acct.active_w - dk->acct.idle_w) * (double)(m->q.now_ns - r->start_ns) *
			1e-9;
	double t_drv = drv_work_true_j(m, v->driver, r->size_b);
	ct->st.requests++;
	ct->st.bytes += r->size_b;
	ct->st.guest_drv_active_j += r->cost_cpu_j;
	ct->st.guest_disk_active_j += r->cost_disk_j;
	ct->st.true_drv_active_j += t_drv;
	ct->st.true_disk_active_j += t_disk;
	ct->idle_w8[0][0] += r->cost_cpu_j;
	ct->idle_w8[0][1] += r->cost_disk_j;
	ct->idle_w8[1][0] += t_drv;
	ct->idle_w8[1][1] += t_disk;
	if (v->cfg->energy_aware)
		gm_charge(&v->gm, (int)(ct - v->cont), r->cost_cpu_j + r->cost_disk_j);
}

/* Guest v received an idle share j of a device on its disk path (its
 * driver's CPU or its disk; view 0: the account, 1: the truth). The guest
 * splits it over its containers in proportion to the active cost each was
 * charged on that device since the last share; equally over its disk
 * containers when none was (over all its containers when it has none), so
 * the containers' shares add up to the VM's. */
static void cont_idle_share(struct machine *m, struct mvm *v, int dev, int view, double j)
{
	if (v->n_cont == 0 || !v->driver)
		return;
	int path = dev == dev_disk(m, v->cfg->disk) ? 1 : 0;
	double sum = 0.0;
	int n_disk = 0, last = -1;
	for (int i = 0; i < v->n_cont; i++) {
		sum += v->cont[i].idle_w8[view][path];
		n_disk += cont_is_disk(&v->cont[i]);
	}
	for (int i = 0; i < v->n_cont; i++)
		if (sum > 0 ? v->cont[i].idle_w8[view][path] > 0
			    : !n_disk || cont_is_disk(&v->cont[i]))
			last = i;
	double left = j;
	for (int i = 0; i <= last; i++) {
		struct mcont *ct = &v->cont[i];
		double part;
		if (i == last)
			part = left; /* the remainder: the parts add up to j exactly */
		else if (sum > 0)
			part = j * (ct->idle_w8[view][path] / sum);
		else
			part = !n_disk ? j / v->n_cont : cont_is_disk(ct) ? j / n_disk : 0.0;
		left -= part;
		double *to = view ? (path ? &ct->st.true_disk_idle_j : &ct->st.true_drv_idle_j)
				  : (path ? &ct->st.guest_disk_idle_j : &ct->st.guest_drv_idle_j);
		*to += part;
	}
	for (int i = 0; i < v->n_cont; i++)
		v->cont[i].idle_w8[view][path] = 0.0;
}

/* A guest period: resolve the budgets against the VM-wide limits in force
 * (active CPU plus disk-path power), refill them, and let held requests go. */
static void guest_period_event(struct evq *q, struct evq_event *ev, void *arg)
{
	struct machine *m = arg;
	struct mvm *v = (struct mvm *)((char *)ev - offsetof(struct mvm, gm_ev));
	(void)q;
	gm_resolve(&v->gm, (v->cpu_on ? v->cfg->cpu_limit_w : 0.0) +
		   (v->disk_on ? v->cfg->disk_limit_w : 0.0));
	gm_refresh(&v->gm);
	for (int i = 0; i < v->n_cont; i++) {
		struct mcont *ct = &v->cont[i];
		struct mreq *r = ct->parked;
		ct->parked = NULL;
		while (r) {
			struct mreq *next = r->next;
			cont_issue(m, r);
			r = next;
		}
	}
	guest_schedule(m, v);
}

static void vm_start_event(struct evq *q, struct evq_event *ev, void *arg)
{
	struct machine *m = arg;
	struct mvm *v = (struct mvm *)((char *)ev - offsetof(struct mvm, start_ev));
	(void)q;
	if (v->cfg->workload == SCN_WL_CPU_HOG) {
		v->hog.remaining_ns = WORK_FOREVER;
		v->hog.rates = v->cfg->events.per_s;
		v->hog.client = -1;
		vcpu_add_work(m, &v->vcpu, &v->hog);
	} else if (v->cfg->workload == SCN_WL_DISK_STRESS) {
		for (int i = 0; i < v->cfg->queue_depth; i++)
			client_issue(m, &v->reqs[i]);
	} else if (v->n_cont > 0) {
		for (int i = 0; i < v->n_cont; i++)
			if (cont_is_disk(&v->cont[i]))
				for (int k = 0; k < v->cont[i].cfg->queue_depth; k++)
					cont_issue(m, &v->cont[i].reqs[k]);
		guest_schedule(m, v);
	}
}

static void vm_stop_event(struct evq *q, struct evq_event *ev, void *arg)
{
	struct machine *m = arg;
	struct mvm *v = (struct mvm *)((char *)ev - offsetof(struct mvm, stop_ev));
	(void)q;
	v->stopped = 1;
	if (v->cfg->workload == SCN_WL_CPU_HOG)
		work_cancel(m, &v->vcpu, &v->hog);
	/* a container slice in flight ends normally; no new one starts */
}

/* Driver background: bg_duty of every bg_period, as one work item. */
static void bg_done(struct machine *m, struct work *w) { (void)m; (void)w; }

static void bg_event(struct evq *q, struct evq_event *ev, void *arg)
{
	struct machine *m = arg;
	struct mvm *v = (struct mvm *)((char *)ev - offsetof(struct mvm, bg_ev));
	(void)q;
	int64_t chunk = (int64_t)llround(v->cfg->bg_duty * (double)v->cfg->bg_period_ns);
	if (chunk <= 0)
		return;
	for (int i = 0; i < 2; i++) {
		struct work *w = &v->bg[i];
		/* extend a queued item that is not running */
		if (w->queued && !(v->vcpu.running && v->vcpu.head == w)) {
			w->remaining_ns += chunk;
			return;
		}
	}
	for (int i = 0; i < 2; i++) {
		struct work *w = &v->bg[i];
		if (!w->queued) {
			w->remaining_ns = chunk;
			w->rates = v->cfg->bg_events.per_s;
			w->client = -1;
			w->done = bg_done;
			vcpu_add_work(m, &v->vcpu, w);
			return;
		}
	}
}

/* ---------------------------------------------------------------------- */
/* trace replay                                                            */

static int trace_read_ahead(struct machine *m, struct mtrace *t, int run_now);
static int trace_fast_setup(struct machine *m, struct mtrace *t);
static int trace_fast_ahead(struct machine *m, struct mtrace *t);
static void trace_fast_event(struct machine *m, struct mtrace *t);
static void trace_flush_all(struct machine *m);

static int trace_vm(struct machine *m, struct mtrace *t, int rvm, long line)
{
	if (rvm >= t->vm_map_cap) {
		int cap = t->vm_map_cap ? t->vm_map_cap : 16;
		while (cap <= rvm)
			cap *= 2;
		int *nm = realloc(t->vm_map, (size_t)cap * sizeof *nm);
		if (!nm) {
			fail(m, JV_ENOMEM);
			return -3;
		}
		for (int i = t->vm_map_cap; i < cap; i++)
			nm[i] = -2;
		t->vm_map = nm;
		t->vm_map_cap = cap;
	}
	if (t->vm_map[rvm] != -2)
		return t->vm_map[rvm];
	const char *name = trc_vm_name(t->r, rvm);
	const char *attrs = trc_vm_attrs(t->r, rvm);
	int idx = -2, any_rule = 0;
	/* 1. [vm] match rules, in scenario order */
	for (int i = 0; i < m->nvm && idx == -2; i++) {
		if (!m->s->vm[i].match[0])
			continue;
		any_rule = 1;
		struct trc_map_rule rule;
		char why[160];
		if (trc_map_parse(m->s->vm[i].match, i, &rule, why) == 0 &&
		    trc_map_matches(&rule, name, attrs))
			idx = i;
	}
	/* 2. a VM of that name; the idle vCPU of a PMC log */
	if (idx == -2) {
		int byname = scn_vm_index(m->s, name);
		idx = byname >= 0 ? byname : -2;
	}
	if (idx == -2 && t->kind == TRC_PMC &&
	    (strcmp(name, "idle") == 0 || strcmp(name, "hypervisor") == 0))
		idx = -1;
	/* 3. a foreign trace without mapping rules belongs to the VM naming it */
	if (idx < -1 && !any_rule && !t->native && t->owner_vm >= 0)
		idx = t->owner_vm;
	if (idx < -1) {
		if (t->native || any_rule)
			jv_diag_set(m->d, JV_EUNKNOWN, t->path, line,
				    "vm: unknown VM '%s'%s%s%s (not a [vm] section of the scenario, "
				    "and no [vm] match rule takes it)", name, attrs[0] ? " [" : "",
				    attrs, attrs[0] ? "]" : "");
		else
			jv_diag_set(m->d, JV_EUNKNOWN, t->path, line, "vm: record of '%s' has no VM",
				    name);
		fail(m, JV_EUNKNOWN);
		return -3;
	}
	t->vm_map[rvm] = idx;
	return idx;
}

/* CPU work for a VM derived from counter advances (open-mode replay). */
static void trace_cpu_work(struct machine *m, struct mtrace *t, int vm, int64_t span_ns,
			   const uint64_t *delta)
{
	if (vm < 0)
		return;
	struct mvm *v = &m->vm[vm];
	double adv[NC] = {0};
	for (int i = 0; i < t->n_ctr; i++)
		if (t->ctr_map[i] >= 0)
			adv[t->ctr_map[i]] = (double)delta[i];
	int64_t run_ns = span_ns;
	if (m->cyc >= 0 && adv[m->cyc] > 0)
		run_ns = (int64_t)llround(adv[m->cyc] / m->freq_hz * 1e9);
	if (run_ns <= 0)
		return;
	struct work *w = work_get(m);
	if (!w) {
		fail(m, JV_ENOMEM);
		return;
	}
	for (int k = 0; k < m->s->cpu.n_counters; k++)
		w->own_rates[k] = adv[k] / ((double)run_ns * 1e-9);
	w->rates = w->own_rates;
	w->remaining_ns = run_ns;
	w->done = work_put;
	vcpu_add_work(m, &v->vcpu, w);
}

/* Charge counter advances adv (scenario counters) over span_ns on cpu to
 * vm (-1: the hypervisor), busy_ns of it running: the energy (*idle_j,
 * *active_j), the idle split's weights, the VM's CPU time, its active
 * energy; trace_cpu_meter() then books the CPU's meter and idle pot. All
 * linear in adv, span and busy, so the fast replay charges sums of
 * records with them (and one meter and idle call per CPU for its cells). */
static void trace_cpu_charge(struct machine *m, int cpu, int vm, int64_t span_ns,
			     const double *adv, int64_t busy_ns, double *idle_j, double *active_j)
{
	energy_period(&m->model_acct, span_ns, adv, idle_j, active_j);
	if (vm >= 0) {
		if (!m->acct_split_guests)
			idle_split_add_use(m->cpu[cpu].split_acct, vm, busy_ns, *active_j);
		m->vm[vm].st.cpu_ns += busy_ns;
	}
	acct_cpu_charge(m, cpu, vm, LEDGER_ACTIVE, *active_j);
}

static void trace_cpu_meter(struct machine *m, int cpu, double idle_j, double active_j)
{
	ledger_meter(m->acct, dev_cpu(cpu), idle_j + active_j);
	acct_cpu_idle(m, &m->cpu[cpu], idle_j);
}

/* Accounting-mode CPU record: charge the advances to the VM as recorded. */
static void trace_cpu_account(struct machine *m, struct mtrace *t, int cpu, int vm,
			      int64_t span_ns, const uint64_t *delta, int with_tsc)
{
	double adv[NC] = {0};
	for (int i = 0; i < t->n_ctr; i++)
		if (t->ctr_map[i] >= 0)
			adv[t->ctr_map[i]] = (double)delta[i];
	if (!with_tsc && m->tsc >= 0)
		adv[m->tsc] = 0.0; /* the machine's own TSC gives the baseline */
	/* busy time from the cycles counter when the trace records it (a zero
	 * advance is an idle period), else the whole span */
	int64_t busy = span_ns;
	if (vm >= 0 && t->has_cyc)
		busy = (int64_t)llround(adv[m->cyc] / m->freq_hz * 1e9);
	double idle_j, active_j;
	trace_cpu_charge(m, cpu, vm, span_ns, adv, busy, &idle_j, &active_j);
	trace_cpu_meter(m, cpu, idle_j, active_j);
	if (m->sink.power_row && m->cpu_replayed)
		power_sampler_add(m->power, dev_cpu(cpu), t->prev_t[cpu], t->prev_t[cpu] + span_ns,
				  idle_j + active_j);
	m->st.pmc_records++;
}

static void trace_blk_complete(struct evq *q, struct evq_event *ev, void *arg)
{
	struct machine *m = arg;
	struct mreq *r = (struct mreq *)((char *)ev - offsetof(struct mreq, ev));
	(void)q;
	struct mdisk *dk = &m->disk[r->disk];
	driver_account(m, dk, r->vm, r->size_b, r->latency_ns, m->q.now_ns, r);
	req_put(m, r);
}

static void trace_closed_submit(struct machine *m, struct mtrace *t)
{
	/* the next record waits for its think time after this completion */
	if (!t->have)
		return;
	int64_t at = m->q.now_ns + t->rec.u.blk.latency_ns; /* think, stored there */
	if (at < m->q.now_ns)
		at = m->q.now_ns;
	if (evq_schedule(&m->q, &t->ev, at))
		fail(m, JV_ENOMEM);
}

/* Accounting-mode blk-interval record (aggregate statistics, e.g. live
 * mode's cgroup or /proc I/O counters): the bytes moved, at the scenario's
 * nominal rate, are device time at (active - idle) power, charged to the VM
 * (via its driver, if it has one) and metered on the disk. */
static void trace_blki_account(struct machine *m, struct mtrace *t, const struct trc_record *rec)
{
	const struct trc_blk_interval *b = &rec->u.blki;
	int vm = trace_vm(m, t, b->vm, rec->line);
	if (vm < 0)
		return;
	if (b->disk >= m->ndisk) {
		jv_diag_set(m->d, JV_ERANGE, t->path, rec->line,
			    "disk: disk%d but the scenario has %d disk(s)", b->disk, m->ndisk);
		fail(m, JV_ERANGE);
		return;
	}
	struct mvm *v = &m->vm[vm];
	struct mdisk *dk = &m->disk[b->disk];
	int64_t bytes = b->read_b + b->write_b;
	double rate = m->s->disk.nominal_rate_bps > 0 ? m->s->disk.nominal_rate_bps
						       : dk->acct.rate_bps;
	double busy_s = rate > 0 ? (double)bytes / rate : 0.0;
	double j = busy_s * (dk->acct.active_w - dk->acct.idle_w);
	v->st.requests += (uint64_t)(b->reads + b->writes);
	v->st.bytes += bytes;
	if (j == 0.0)
		return;
	int ddev = dev_disk(m, dk->idx);
	ledger_meter(m->acct, ddev, j);
	ledger_charge(m->acct, v->consumer, ddev, v->driver ? v->driver->via : 0, LEDGER_ACTIVE, j);
	int p = -1;
	for (int i = 0; i < dk->n_part; i++)
		if (dk->part_vm[i] == v->idx)
			p = i;
	idle_split_add_use(dk->split_acct, p, (int64_t)llround(busy_s * 1e9), j);
}

/* Run the record read ahead; 1 when the next one is due now (see
 * trace_event). */
static int trace_record(struct machine *m, struct mtrace *t)
{
	int64_t now = m->q.now_ns;
	struct trc_record *rec = &t->rec;
	m->st.trace_records++;
	if (rec->kind == TRC_PMC) {
		struct trc_pmc *p = &rec->u.pmc;
		int vm = trace_vm(m, t, p->vm, rec->line);
		if (vm < -1)
			return 0;
		int cpu = p->cpu;
		if (cpu >= m->ncpu) {
			jv_diag_set(m->d, JV_ERANGE, t->path, rec->line,
				    "cpu: cpu %d but the scenario has %d CPU(s)", cpu, m->ncpu);
			fail(m, JV_ERANGE);
			return 0;
		}
		if (t->have_prev[cpu]) {
			uint64_t delta[TRC_MAX_COUNTERS];
			for (int i = 0; i < t->n_ctr; i++)
				delta[i] = p->ctr[i] - t->prev_ctr[cpu][i];
			int64_t span = p->t_ns - t->prev_t[cpu];
			if (t->mode == SCN_REPLAY_ACCOUNTING)
				trace_cpu_account(m, t, cpu, vm, span, delta, 1);
			else
				trace_cpu_work(m, t, vm, span, delta);
		}
		t->have_prev[cpu] = 1;
		t->prev_t[cpu] = p->t_ns;
		memcpy(t->prev_ctr[cpu], p->ctr, sizeof p->ctr);
	} else if (rec->kind == TRC_PMC_INTERVAL) {
		struct trc_pmc_interval *p = &rec->u.pmci;
		int vm = trace_vm(m, t, p->vm, rec->line);
		if (vm < 0)
			return 0;
		int cpu = m->vm[vm].vcpu.cpu;
		/* the interval of this VM: since its previous record (0 at first) */
		int64_t span = p->t_ns - m->vm[vm].pmci_prev_ns;
		m->vm[vm].pmci_prev_ns = p->t_ns;
		if (t->mode == SCN_REPLAY_ACCOUNTING)
			trace_cpu_account(m, t, cpu, vm, span, p->delta, 0);
		else
			trace_cpu_work(m, t, vm, span, p->delta);
	} else if (rec->kind == TRC_BLK_INTERVAL) {
		trace_blki_account(m, t, rec);
	} else if (rec->kind == TRC_BLK) {
		struct trc_blk *b = &rec->u.blk;
		int vm = trace_vm(m, t, b->vm, rec->line);
		if (vm < 0)
			return 0;
		struct mvm *v = &m->vm[vm];
		if (b->disk >= m->ndisk) {
			jv_diag_set(m->d, JV_ERANGE, t->path, rec->line,
				    "disk: disk%d but the scenario has %d disk(s)", b->disk, m->ndisk);
			fail(m, JV_ERANGE);
			return 0;
		}
		if (t->mode != SCN_REPLAY_ACCOUNTING && !v->driver) {
			jv_diag_set(m->d, JV_EINVAL, t->path, rec->line,
				    "vm: VM '%s' has no driver VM to serve its requests", v->cfg->name);
			fail(m, JV_EINVAL);
			return 0;
		}
		struct mreq *r = req_get(m);
		if (!r) {
			fail(m, JV_ENOMEM);
			return 0;
		}
		r->vm = v;
		r->size_b = b->size_b;
		r->offset_b = b->offset_b;
		r->op = b->op;
		r->disk = b->disk;
		r->from_trace = 1;
		r->trace = t;
		if (t->mode == SCN_REPLAY_ACCOUNTING) {
			struct mdisk *dk = &m->disk[r->disk];
			r->latency_ns = b->latency_ns >= 0
				? b->latency_ns
				: (int64_t)llround((double)b->size_b * 1e9 / dk->acct.rate_bps);
			evq_event_init(&r->ev, trace_blk_complete, m);
			if (evq_schedule(&m->q, &r->ev, now + r->latency_ns))
				fail(m, JV_ENOMEM);
		} else {
			request_submit(m, r);
		}
	}
	int64_t cur_t = rec->kind == TRC_PMC ? rec->u.pmc.t_ns
		: rec->kind == TRC_PMC_INTERVAL ? rec->u.pmci.t_ns
		: rec->kind == TRC_BLK ? rec->u.blk.t_ns : rec->u.blki.t_ns;
	int64_t cur_end = rec->kind == TRC_BLK && rec->u.blk.latency_ns >= 0
		? cur_t + rec->u.blk.latency_ns : cur_t;
	int rc = trace_read_ahead(m, t, 1);
	if (rc <= 0)
		return 0;
	if (t->mode == SCN_REPLAY_CLOSED && t->rec.kind == TRC_BLK) {
		/* keep the recorded think time: gap after the previous completion */
		int64_t think = t->rec.u.blk.t_ns - cur_end;
		t->rec.u.blk.latency_ns = think > 0 ? think : 0;
		return 0; /* submitted by client_next after the completion */
	}
	(void)cur_t;
	return rc == 2;
}

/* A trace record's event. The next record, when it is due before every
 * queued event, runs at once in this loop: the queue would have popped it
 * next anyway (its key would be the smallest), so the order of events is
 * unchanged and the queue's push and pop are saved per record. */
static void trace_event(struct evq *q, struct evq_event *ev, void *arg)
{
	struct machine *m = arg;
	struct mtrace *t = (struct mtrace *)((char *)ev - offsetof(struct mtrace, ev));
	(void)q;
	if (t->fast) {
		trace_fast_event(m, t);
		return;
	}
	while (trace_record(m, t))
		m->st.events++; /* it counts as the event it would have been */
}

/* A record read ahead, due at `at` (line: its line or record number):
 * JV_EORDER (the run failed) when it lies before the simulated time, 1
 * when it lies beyond the run's duration (reading stops there), else 0. */
static int trace_due(struct machine *m, struct mtrace *t, int64_t at, long line)
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

/* Read the next record and schedule it (open/accounting). Returns 1 if a
 * record is pending, 0 at EOF, < 0 on error. With run_now (from the
 * record's own event), a record due strictly before every queued event,
 * with the run going on, is not queued: the clock moves to it and 2 is
 * returned for the caller to run it at once, exactly when the queue would
 * have. */
static int trace_read_ahead(struct machine *m, struct mtrace *t, int run_now)
{
	if (!run_now && trace_fast_setup(m, t))
		return trace_fast_ahead(m, t);
	int rc = trc_next(t->r, &t->rec, m->d);
	if (rc < 0) {
		fail(m, rc);
		t->have = 0;
		return rc;
	}
	t->have = rc;
	if (!rc)
		return 0;
	int64_t at = 0;
	switch (t->rec.kind) {
	case TRC_PMC: at = t->rec.u.pmc.t_ns; break;
	case TRC_PMC_INTERVAL: at = t->rec.u.pmci.t_ns; break;
	case TRC_BLK: at = t->rec.u.blk.t_ns; break;
	default: at = t->rec.u.blki.t_ns; break;
	}
	if (t->mode == SCN_REPLAY_CLOSED && t->rec.kind == TRC_BLK)
		return 1; /* scheduled by the caller's completion chain */
	int due = trace_due(m, t, at, t->rec.line);
	if (due)
		return due;
	if (run_now && !m->q.stop && (m->q.n == 0 || at < m->q.heap[0]->t_ns)) {
		m->q.now_ns = at; /* as evq_pop would set it */
		return 2;
	}
	if (evq_schedule(&m->q, &t->ev, at))
		fail(m, JV_ENOMEM);
	return 1;
}


/* ---- the fast accounting replay of a pmc log (issue 10) ----------------
 *
 * A `[cpu] pmc_log` replayed in accounting mode spends, per record, only
 * what the record itself demands: the counter advances since the CPU's
 * previous record (and the busy time they imply) are added up per (cpu,
 * vm) cell, and a cell's sums are charged with trace_cpu_charge() when the
 * state they feed is next observed. Everything a record is charged with is
 * linear in the advances, the span and the busy time (the weighted-PMC
 * model, meter, idle pot, idle-split weights, CPU time, the driver's share
 * under the `equal` policy), so charging the sums gives the per-record
 * result up to the order of floating-point additions (about 1e-15
 * relative); the busy time is rounded per record as trace_cpu_account
 * does, so CPU times are equal to the nanosecond. Records come from the
 * reader in runs of raw records in its buffer (trc_next_pmc_raw), which
 * fast_run checks as it uses them (the reader's checks given the CPU's
 * previous record: the counter test works on the advances it adds up), the
 * reader's own checks taking over at the first record that fails; those
 * due before the next queued event run in one loop with no event queue
 * operation (as trace_event does record by record), and a log read event
 * in between (which does nothing here but look for a stop request) runs
 * inline without ending the run.
 *
 * When the sums are flushed: in a machine whose only other events are the
 * log reads (which do nothing when the CPU is replayed), snapshots and disk
 * ticks (which touch no CPU state) - no driver VM, no energy limits, no
 * guest with containers, no other trace - at each snapshot and at the end
 * of the run (`deferred`, trace_flush_all); in any other machine at the
 * end of every run of records, before any other event can look. Not taken
 * (the record-by-record path serves): a CPU model other than weighted-PMC
 * (not linear), MACHINE_NO_FAST_REPLAY (tests compare the two paths). With a
 * power.csv sink the sums of a CPU are kept within one power bin (charged
 * when a record of the CPU leaves it), and a record spanning bins or of no
 * length is charged alone, so every bin gets what it gets record by
 * record. */

#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/* two u64 counters (the records' layout is little-endian: loaded as is) */
typedef uint64_t fast_u64x2 __attribute__((vector_size(16)));
#define FAST_U64X2 1
#endif

/* have_prev of a fast trace's CPU: 0 no record yet, else whether its
 * previous counters are all below 2^63 (what the raw test assumes) */
#define FAST_PREV_LOW 1
#define FAST_PREV_HIGH 2

/* llround(x) for x >= 0, without the libm call: exact, since the fraction
 * x - trunc(x) of a double is exact. */
static inline int64_t fast_llround(double x)
{
	if (!(x < 9.0e18))
		return (int64_t)llround(x);
	int64_t b = (int64_t)x;
	return b + (x - (double)b >= 0.5);
}

/* llround(dc / freq_hz * 1e9), the busy time trace_cpu_account computes,
 * without its division on the common path: y = dc * ns_per_cycle (1e9 /
 * freq_hz) is within 2^-51 y of the exact expression x (two roundings
 * each), so both round alike unless a half-integer lies within that
 * distance of y; then, or for y >= 2^47, x is computed as written. */
static inline int64_t fast_busy_ns(uint64_t dc, double freq_hz, double ns_per_cycle)
{
	/* below 2^63 (always in a raw run): the signed conversion, one
	 * instruction, gives the same double */
	double d = (int64_t)dc >= 0 ? (double)(int64_t)dc : (double)dc;
	double y = d * ns_per_cycle;
	double whole = (double)(int64_t)y, frac = y - whole; /* both exact */
	if (y < 0x1p47 && fabs(frac - 0.5) > y * 0x1p-48)
		return (int64_t)whole + (frac > 0.5);
	return fast_llround(d / freq_hz * 1e9);
}

/* Whether t takes the fast path; allocates its cells (first read-ahead). */
static int trace_fast_setup(struct machine *m, struct mtrace *t)
{
	if (t->kind != TRC_PMC || t->mode != SCN_REPLAY_ACCOUNTING || !m->cpu_replayed ||
	    (m->flags & MACHINE_NO_FAST_REPLAY) || m->model_acct.ops != &cpu_energy_weighted_pmc ||
	    (m->sink.power_row && !m->power))
		return 0;
	t->power = m->sink.power_row != NULL;
	for (int i = 0; i < SCN_MAX_CPUS; i++)
		t->acc_lo[i] = -1;
	size_t n_cells = (size_t)m->ncpu * (size_t)(m->nvm + 1);
	t->cells = calloc(n_cells, sizeof *t->cells);
	t->dirty = malloc(n_cells * sizeof *t->dirty);
	if (!t->cells || !t->dirty) {
		free(t->cells);
		free(t->dirty);
		t->cells = NULL;
		t->dirty = NULL;
		return 0; /* the record-by-record path needs no memory */
	}
	t->cyc_src = -1;
	for (int i = 0; i < t->n_ctr; i++)
		if (m->cyc >= 0 && t->ctr_map[i] == m->cyc)
			t->cyc_src = i; /* the last one, as in trace_cpu_account */
	int other = m->n_drivers > 0 || m->any_cpu_limit || m->any_disk_limit || m->ntr != 1;
	for (int i = 0; i < m->nvm && !other; i++)
		other = m->vm[i].n_cont > 0;
	t->deferred = !other;
	t->fast = 1;
	return 1;
}

/* Charge t's cells and clear them. Per cell this is trace_cpu_charge()
 * with its energy_period() (weighted-PMC, which the fast path requires)
 * computed from the cell's sums directly: only the scenario counters the
 * trace has (the others' advances are 0 and add +0.0 or -0.0, which leave
 * a sum as it is) in the model's order, so the same doubles; the mapping
 * and the weights are looked up once per flush, not per cell. */
static void trace_flush(struct machine *m, struct mtrace *t)
{
	const struct cpu_energy *e = &m->model_acct;
	int cw = m->nvm + 1, n_ctr = t->n_ctr;
	double idle[SCN_MAX_CPUS] = {0}, active[SCN_MAX_CPUS] = {0};
	char used[SCN_MAX_CPUS] = {0};
	int src_of[NC]; /* scenario counter -> trace counter (the last one) */
	for (int j = 0; j < NC; j++)
		src_of[j] = -1;
	for (int i = 0; i < n_ctr; i++)
		if (t->ctr_map[i] >= 0)
			src_of[t->ctr_map[i]] = i;
	int tsrc[NC], n_terms = 0;
	double tw[NC];
	for (int j = 0; j < e->n_counters; j++)
		if (j != e->tsc_index && src_of[j] >= 0) {
			tsrc[n_terms] = src_of[j];
			tw[n_terms++] = e->weight_j[j];
		}
	int isrc = e->tsc_index >= 0 ? src_of[e->tsc_index] : -1;
	double iw = e->tsc_index >= 0 ? e->weight_j[e->tsc_index] : 0.0;
	uint64_t records = 0;
	for (int k = 0; k < t->n_dirty; k++) {
		int idx = t->dirty[k];
		struct pmc_cell *c = &t->cells[idx];
		int cpu = idx / cw, vm = idx % cw - 1;
		double active_j = 0.0;
		for (int i = 0; i < n_terms; i++)
			active_j += tw[i] * (double)c->ctr[tsrc[i]];
		double idle_j = e->tsc_index < 0 ? 0.0
			: iw * (isrc >= 0 ? (double)c->ctr[isrc] : 0.0);
		int64_t busy_ns = t->cyc_src >= 0 ? c->busy_ns : c->span_ns;
		/* the rest of trace_cpu_charge() */
		if (vm >= 0) {
			if (!m->acct_split_guests)
				idle_split_add_use(m->cpu[cpu].split_acct, vm, busy_ns, active_j);
			m->vm[vm].st.cpu_ns += busy_ns;
		}
		acct_cpu_charge(m, cpu, vm, LEDGER_ACTIVE, active_j);
		idle[cpu] += idle_j;
		active[cpu] += active_j;
		used[cpu] = 1;
		records += c->n;
		/* only the counters the trace has were summed */
		if (n_ctr <= 8)
			memset(c->ctr, 0, 8 * sizeof c->ctr[0]);
		else
			memset(c->ctr, 0, sizeof c->ctr);
		c->span_ns = c->busy_ns = 0;
		c->n = 0;
	}
	m->st.pmc_records += records;
	t->n_dirty = 0;
	for (int cpu = 0; cpu < m->ncpu; cpu++)
		if (used[cpu]) {
			trace_cpu_meter(m, cpu, idle[cpu], active[cpu]);
			if (t->power && t->acc_lo[cpu] >= 0)
				/* all within one power bin: the bin gets the sum */
				power_sampler_add(m->power, dev_cpu(cpu), t->acc_lo[cpu],
						  t->prev_t[cpu], idle[cpu] + active[cpu]);
			t->acc_lo[cpu] = -1;
		}
}

/* With power.csv, a record of cpu from prev_t to at that is not inside
 * the power bin of the CPU's summed records: the sums are charged first
 * (their bin is complete as far as they go); a record inside one bin then
 * starts summing there (0), one spanning bins or of no length (the
 * sampler spreads it over the bins, or drops it, by its own interval) is
 * charged alone by trace_cpu_account (1, prev updated). */
__attribute__((cold, noinline)) static int trace_fast_power_edge(struct machine *m,
								struct mtrace *t, int cpu,
								int vm, const unsigned char *ctr,
								int64_t at)
{
	trace_flush(m, t);
	int64_t p0 = t->prev_t[cpu], res = m->s->output.power_resolution_ns;
	if (at > p0 && p0 / res == (at - 1) / res) {
		t->bin_lo[cpu] = p0 / res * res;
		t->bin_hi[cpu] = t->bin_lo[cpu] + res;
		return 0;
	}
	uint64_t delta[TRC_MAX_COUNTERS];
	uint64_t *prev = t->prev_ctr[cpu];
	for (int k = 0; k < t->n_ctr; k++) {
		uint64_t v = trc_ld64(ctr + 8 * k);
		delta[k] = v - prev[k];
		prev[k] = v;
	}
	trace_cpu_account(m, t, cpu, vm, at - p0, delta, 1);
	t->prev_t[cpu] = at;
	return 1;
}

/* The snapshot's and the run end's hook: every fast trace's sums. */
static void trace_flush_all(struct machine *m)
{
	for (int i = 0; i < m->ntr; i++)
		if (m->tr[i].n_dirty)
			trace_flush(m, &m->tr[i]);
}

/* Read the next batch when the last one is used up, or (force) from the
 * pending record on, which then takes the reader's checks: 1 a record
 * pending, 0 at the end, < 0 on error (the run fails). The records before
 * the pending one are taken (trc_pmc_done). */
static int trace_fast_fetch(struct machine *m, struct mtrace *t, int force)
{
	if (t->fi < t->fb.n && !force)
		return 1;
	trc_pmc_done(t->r, &t->fb, t->fi);
	int rc = trc_next_pmc_raw(t->r, &t->fb, m->d);
	t->fi = 0;
	t->have = rc > 0;
	if (rc <= 0) {
		t->fb.n = 0;
		t->fb.raw = 0;
	}
	if (rc < 0)
		fail(m, rc);
	return rc;
}

/* The test a record of a raw (unchecked) run must pass to be taken
 * without the reader's checks (trc_next_pmc_raw's contract): a VM seen
 * before, a CPU of the scenario with a record before, time and counters
 * not before that record's. The counters compare as in fast_run: v - prev,
 * v and prev below 2^63 (anything else the reader checks exactly). */
static int trace_fast_raw_ok(struct machine *m, struct mtrace *t, const unsigned char *p)
{
	uint32_t rvm = trc_ld32(p), cpu = trc_ld32(p + 4);
	int64_t at = (int64_t)trc_ld64(p + 8);
	if (rvm >= (uint32_t)t->vm_map_cap || t->vm_map[rvm] == -2 || cpu >= (uint32_t)m->ncpu ||
	    t->have_prev[cpu] != FAST_PREV_LOW || at < t->prev_t[cpu])
		return 0;
	uint64_t any = 0;
	for (int k = 0; k < t->n_ctr; k++) {
		uint64_t v = trc_ld64(p + 16 + 8 * k), pv = t->prev_ctr[cpu][k];
		any |= (v - pv) | v | pv;
	}
	return !(any >> 63);
}

/* Make the pending record one the reader checked or the raw test passes
 * (ok: it did, in fast_run): 1 a record pending, 0 at the end, < 0 on
 * error. */
static int trace_fast_pending(struct machine *m, struct mtrace *t, int ok)
{
	while (t->fb.raw && !ok && !trace_fast_raw_ok(m, t, t->fb.rec + t->fi * t->fb.rec_b)) {
		int rc = trace_fast_fetch(m, t, 1);
		if (rc <= 0)
			return rc;
	}
	return 1;
}

/* Queue the pending record at its time, as trace_read_ahead does (ok: it
 * passed the raw test). */
static int trace_fast_schedule(struct machine *m, struct mtrace *t, int ok)
{
	int rc = trace_fast_pending(m, t, ok);
	if (rc <= 0)
		return rc;
	const unsigned char *p = t->fb.rec + t->fi * t->fb.rec_b;
	int64_t at = (int64_t)trc_ld64(p + 8);
	int due = trace_due(m, t, at, t->fb.line0 + (long)t->fi * t->fb.line_step);
	if (due) {
		trc_pmc_done(t->r, &t->fb, t->fi); /* reading stops here */
		return due;
	}
	if (evq_schedule(&m->q, &t->ev, at))
		fail(m, JV_ENOMEM);
	return 1;
}

/* trace_read_ahead() of a fast trace (before the run). */
static int trace_fast_ahead(struct machine *m, struct mtrace *t)
{
	int rc = trace_fast_fetch(m, t, 0);
	return rc <= 0 ? rc : trace_fast_schedule(m, t, 0);
}

/* Run the batch's records from i on while they are due before lim (the
 * first one unconditionally: its event is running): each adds its counter
 * advances, span and busy time to its (cpu, vm) cell. Returns the index
 * reached; *stop on an error (the run fails). n_ctr is a constant in each
 * copy trace_fast_run() dispatches to, so the counter loops unroll. With
 * raw (an unchecked run, trc_next_pmc_raw), each record first passes
 * trace_fast_raw_ok()'s test here, fused with its use (the advances are
 * the differences the counter test computes); at the first that does not
 * the run ends with *need, and the reader checks that record. A raw
 * record's time is tested against the run's clock (now: the latest record
 * taken, of any CPU), which is at or after its CPU's previous record: one
 * test for the reader's per-CPU order and the machine's global one (a
 * record failing it goes to the reader, which reports the first, or hands
 * it back checked for trace_due to report the second). power: 0 when the
 * trace has no power.csv sums (a constant in the copies without them). */
static inline __attribute__((always_inline)) size_t
fast_run(struct machine *m, struct mtrace *t, const int n_ctr, const int raw, const int power,
	 size_t i, int64_t *now_ns, int64_t lim, uint64_t *ran, int *stop, int *need)
{
	const unsigned char *base = t->fb.rec;
	const size_t n = t->fb.n, rec_b = t->fb.rec_b;
	const int cyc_src = t->cyc_src, cw = m->nvm + 1;
	const uint32_t ncpu = (uint32_t)m->ncpu;
	const double freq_hz = m->freq_hz, ns_per_cycle = 1e9 / m->freq_hz;
	int64_t now = *now_ns;
	uint64_t done = *ran;
	for (; i < n; i++) {
		const unsigned char *p = base + i * rec_b;
		int64_t at = (int64_t)trc_ld64(p + 8);
		uint32_t rvm = trc_ld32(p), cpu = trc_ld32(p + 4);
		int vm = rvm < (uint32_t)t->vm_map_cap ? t->vm_map[rvm] : -2;
		const unsigned char *ctr = p + 16;
#ifdef FAST_U64X2
		fast_u64x2 v[TRC_MAX_COUNTERS / 2], d[TRC_MAX_COUNTERS / 2];
#else
		uint64_t v[TRC_MAX_COUNTERS], d[TRC_MAX_COUNTERS];
#endif
		if (raw) {
			/* have_prev 1: the CPU's previous counters are all below
			 * 2^63 (FAST_PREV_LOW), so v >= prev for v below 2^63 is
			 * the top bit of v - prev clear */
			if (vm == -2 || cpu >= ncpu || t->have_prev[cpu] != FAST_PREV_LOW || at < now) {
				*need = 1;
				break;
			}
			const uint64_t *prev = t->prev_ctr[cpu];
#ifdef FAST_U64X2
			fast_u64x2 acc = {0, 0};
#pragma GCC unroll 8
			for (int k = 0; k + 1 < n_ctr; k += 2) {
				fast_u64x2 pv;
				memcpy(&v[k / 2], ctr + 8 * k, sizeof v[0]);
				memcpy(&pv, prev + k, sizeof pv);
				d[k / 2] = v[k / 2] - pv;
				acc |= d[k / 2] | v[k / 2];
			}
			uint64_t any = acc[0] | acc[1];
			if (n_ctr & 1) {
				uint64_t v1 = trc_ld64(ctr + 8 * (n_ctr - 1)), pv = prev[n_ctr - 1];
				any |= (v1 - pv) | v1;
			}
#else
			uint64_t any = 0;
#pragma GCC unroll 16
			for (int k = 0; k < n_ctr; k++) {
				v[k] = trc_ld64(ctr + 8 * k);
				d[k] = v[k] - prev[k];
				any |= d[k] | v[k];
			}
#endif
			if (any >> 63) {
				*need = 1;
				break;
			}
		}
		if (raw ? done && at >= lim : done && (at < now || at >= lim))
			break;
		now = at;
		done++;
		if (!raw) {
			if (__builtin_expect(vm == -2, 0) &&
			    (vm = trace_vm(m, t, (int)rvm,
					   t->fb.line0 + (long)i * t->fb.line_step)) < -1) {
				*stop = 1;
				break;
			}
			if (__builtin_expect(cpu >= ncpu, 0)) {
				jv_diag_set(m->d, JV_ERANGE, t->path,
					    t->fb.line0 + (long)i * t->fb.line_step,
					    "cpu: cpu %" PRIu32 " but the scenario has %d CPU(s)", cpu,
					    m->ncpu);
				fail(m, JV_ERANGE);
				*stop = 1;
				break;
			}
		}
		uint64_t *prev = t->prev_ctr[cpu];
		if (!raw) { /* the CPU's counters from now on: below 2^63 or not */
			uint64_t top = 0;
			for (int k = 0; k < n_ctr; k++)
				top |= trc_ld64(ctr + 8 * k);
			int had = t->have_prev[cpu];
			t->have_prev[cpu] = top >> 63 ? FAST_PREV_HIGH : FAST_PREV_LOW;
			if (__builtin_expect(!had, 0)) {
				t->prev_t[cpu] = at;
				for (int k = 0; k < n_ctr; k++)
					prev[k] = trc_ld64(ctr + 8 * k);
				continue;
			}
		}
		if (power && t->power) {
			int64_t p0 = t->prev_t[cpu];
			if (!(p0 >= t->bin_lo[cpu] && at <= t->bin_hi[cpu] && at > p0) &&
			    trace_fast_power_edge(m, t, (int)cpu, vm, ctr, at))
				continue;
			if (t->acc_lo[cpu] < 0)
				t->acc_lo[cpu] = p0;
		}
		int idx = (int)cpu * cw + vm + 1;
		struct pmc_cell *c = &t->cells[idx];
		if (c->n++ == 0)
			t->dirty[t->n_dirty++] = idx;
		if (cyc_src >= 0 && vm >= 0) {
			uint64_t dc = trc_ld64(ctr + 8 * cyc_src) - prev[cyc_src];
			c->busy_ns += fast_busy_ns(dc, freq_hz, ns_per_cycle);
		}
#ifdef FAST_U64X2
		/* two counters at a time (SSE2 on x86-64, NEON on arm64) */
#pragma GCC unroll 8
		for (int k = 0; k + 1 < n_ctr; k += 2) {
			fast_u64x2 sum;
			if (!raw) {
				fast_u64x2 pv;
				memcpy(&v[k / 2], ctr + 8 * k, sizeof v[0]);
				memcpy(&pv, prev + k, sizeof pv);
				d[k / 2] = v[k / 2] - pv;
			}
			memcpy(&sum, c->ctr + k, sizeof sum);
			sum += d[k / 2];
			memcpy(c->ctr + k, &sum, sizeof sum);
			memcpy(prev + k, &v[k / 2], sizeof v[0]);
		}
		if (n_ctr & 1) {
			uint64_t v1 = trc_ld64(ctr + 8 * (n_ctr - 1));
			c->ctr[n_ctr - 1] += v1 - prev[n_ctr - 1];
			prev[n_ctr - 1] = v1;
		}
#else
		if (!raw) {
#pragma GCC unroll 16
			for (int k = 0; k < n_ctr; k++) {
				v[k] = trc_ld64(ctr + 8 * k);
				d[k] = v[k] - prev[k];
			}
		}
#pragma GCC unroll 16
		for (int k = 0; k < n_ctr; k++)
			prev[k] = v[k];
#pragma GCC unroll 16
		for (int k = 0; k < n_ctr; k++)
			c->ctr[k] += d[k];
#endif
		c->span_ns += at - t->prev_t[cpu];
		t->prev_t[cpu] = at;
	}
	*now_ns = now;
	*ran = done;
	return i;
}

#define FAST_RUN_CASE(N)                                                       \
	case N:                                                                \
		return !raw ? fast_run(m, t, N, 0, 1, i, now_ns, lim, ran, stop, need) \
		       : t->power ? fast_run(m, t, N, 1, 1, i, now_ns, lim, ran, stop, need) \
				  : fast_run(m, t, N, 1, 0, i, now_ns, lim, ran, stop, need);

/* fast_run() with the trace's counter count, the run's kind and (raw runs)
 * whether there are power.csv sums as constants. */
static size_t trace_fast_run(struct machine *m, struct mtrace *t, size_t i, int64_t *now_ns,
			     int64_t lim, uint64_t *ran, int *stop, int *need)
{
	const int raw = t->fb.raw;
	switch (t->n_ctr) {
	FAST_RUN_CASE(1) FAST_RUN_CASE(2) FAST_RUN_CASE(3) FAST_RUN_CASE(4)
	FAST_RUN_CASE(5) FAST_RUN_CASE(6) FAST_RUN_CASE(7) FAST_RUN_CASE(8)
	FAST_RUN_CASE(9) FAST_RUN_CASE(10) FAST_RUN_CASE(11) FAST_RUN_CASE(12)
	FAST_RUN_CASE(13) FAST_RUN_CASE(14) FAST_RUN_CASE(15)
	default:
		return raw ? fast_run(m, t, TRC_MAX_COUNTERS, 1, 1, i, now_ns, lim, ran, stop, need)
			   : fast_run(m, t, TRC_MAX_COUNTERS, 0, 1, i, now_ns, lim, ran, stop, need);
	}
}

/* Where a run of records stops: at the next queued event, or after the
 * run's end. */
static inline int64_t trace_fast_lim(struct machine *m, int64_t now)
{
	int64_t lim = m->q.stop ? now : m->q.n ? m->q.heap[0]->t_ns : INT64_MAX;
	return lim > m->end_ns ? m->end_ns + 1 : lim;
}

static int check_interrupt(struct machine *m);

/* The log read event (read_event), when it is the next queued event and
 * the pending record (at or after it) would run right after it: with the
 * CPU replayed it only looks for a stop request, which no record's sums
 * depend on, so it runs here, in the order the queue would run it (re-armed
 * first, as evq_run_until does, then its work), and the run of records
 * goes on. 1 when it ran and the run may go on (*now moved to its time),
 * 0 when the run ends here (another event is next, or a stop request). */
static int trace_fast_read_inline(struct machine *m, struct mtrace *t, int64_t *now, int ok)
{
	struct evq_event *re = &m->read_ev;
	if (m->q.stop || !m->q.n || m->q.heap[0] != re || re->period_ns <= 0 ||
	    re->t_ns > m->end_ns || re->t_ns > INT64_MAX - re->period_ns)
		return 0;
	const unsigned char *p = t->fb.rec + t->fi * t->fb.rec_b;
	if (t->fb.raw && !ok && !trace_fast_raw_ok(m, t, p))
		return 0; /* the reader checks it first (trace_fast_schedule) */
	if ((int64_t)trc_ld64(p + 8) < re->t_ns)
		return 0; /* out of order: trace_due reports it */
	*now = m->q.now_ns = re->t_ns;
	if (evq_schedule_periodic(&m->q, re, re->t_ns + re->period_ns, re->period_ns))
		return 0; /* cannot happen (it is queued): the queue runs it */
	m->st.events++;
	return !check_interrupt(m);
}

/* A fast trace's event: its pending record is due now; it and every
 * following record due strictly before the next queued event (and not
 * after the run's end) are added to their cells. A log read event in
 * between runs inline (trace_fast_read_inline). */
static void trace_fast_event(struct machine *m, struct mtrace *t)
{
	int64_t now = m->q.now_ns;
	int64_t lim = trace_fast_lim(m, now);
	uint64_t ran = 0;
	int stop = 0;
	for (;;) {
		int need = 0;
		t->fi = trace_fast_run(m, t, t->fi, &now, lim, &ran, &stop, &need);
		if (stop)
			break;
		if (need) { /* the reader checks the record where the raw run stopped */
			if (trace_fast_fetch(m, t, 1) <= 0) {
				stop = 1;
				break;
			}
			continue;
		}
		if (t->fi < t->fb.n) {
			/* a raw run's pending record passed its test in fast_run */
			if (!trace_fast_read_inline(m, t, &now, 1))
				break;
			lim = trace_fast_lim(m, now);
			continue;
		}
		if (trace_fast_fetch(m, t, 0) <= 0) {
			stop = 1;
			break;
		}
	}
	m->q.now_ns = now;
	m->st.trace_records += ran;
	m->st.events += ran ? ran - 1 : 0; /* each counts as the event it would have been */
	if (!stop)
		trace_fast_schedule(m, t, t->fi < t->fb.n);
	if (!t->deferred)
		trace_flush(m, t);
}

/* ---------------------------------------------------------------------- */
/* periodic: manager log reads, idle ticks, snapshots                      */

/* A stop request (SIGINT/SIGTERM) ends the run at the current time. */
static int check_interrupt(struct machine *m)
{
	if (!m->interrupted && jv_signal_pending()) {
		m->interrupted = 1;
		evq_stop(&m->q);
	}
	return m->interrupted;
}

static void read_event(struct evq *q, struct evq_event *ev, void *arg)
{
	struct machine *m = arg;
	(void)ev;
	if (check_interrupt(m))
		return;
	if (m->cpu_replayed)
		return;
	for (int i = 0; i < m->ncpu; i++)
		cpu_record(m, &m->cpu[i], q->now_ns);
}

struct split_ctx {
	struct machine *m;
	struct ledger *l;
	int dev, via, kind;
	const int *map;     /* participant -> vm */
	int truth;          /* CPU splits: route drivers to pools */
	int cpu;
};

static void split_charge(void *vctx, int who, double j)
{
	struct split_ctx *x = vctx;
	if (x->cpu >= 0) { /* CPU split over VMs (map: participant -> vm) */
		if (who >= 0 && x->map)
			who = x->map[who];
		struct mvm *v = who >= 0 ? &x->m->vm[who] : NULL;
		if (v && !v->is_driver && j != 0.0) {
			/* {truth,acct}_cpu_charge's common case: a guest's idle share */
			if (x->truth) {
				ledger_charge(x->m->truth, v->consumer, dev_cpu(x->cpu), 0, LEDGER_IDLE, j);
			} else {
				v->st.hv_cpu_idle_j += j;
				ledger_charge(x->m->acct, v->consumer, dev_cpu(x->cpu), 0, LEDGER_IDLE, j);
			}
			return;
		}
		if (x->truth)
			truth_cpu_charge(x->m, x->cpu, who, LEDGER_IDLE, j);
		else
			acct_cpu_charge(x->m, x->cpu, who, LEDGER_IDLE, j);
		return;
	}
	if (who < 0) {
		ledger_charge(x->l, LEDGER_HYPERVISOR, x->dev, 0, x->kind, j);
		return;
	}
	struct mvm *v = &x->m->vm[x->map[who]];
	ledger_charge(x->l, v->consumer, x->dev, x->via, x->kind, j);
	if (x->l == x->m->acct)
		v->meter_j[x->dev] += j; /* idle shares reach the client's meter too */
	if (v->n_cont > 0) /* and, in the guest, its containers */
		cont_idle_share(x->m, v, x->dev, x->l == x->m->truth, j);
}

/* idle_split_flush(s, split_charge, x) for a CPU split (x->cpu >= 0) in
 * one loop: a guest's non-zero share (the common case) is added to its
 * idle cell, found once (cells: per participant, see struct mcpu), anything
 * else goes through split_charge; same charges in the same order. */
static void cpu_idle_flush(struct idle_split *s, struct split_ctx *x, double **cells)
{
	struct idle_split_iter it;
	switch (idle_split_begin(s, &it)) {
	case IDLE_SPLIT_BASE:
		split_charge(x, -1, it.pot);
		break;
	case IDLE_SPLIT_PARTS: {
		struct machine *m = x->m;
		struct ledger *l = x->truth ? m->truth : m->acct;
		double j;
		for (int who; (who = idle_split_next(&it, &j)) >= 0;) {
			if (j == 0.0) {
				split_charge(x, who, j);
				continue;
			}
			int vi = x->map ? x->map[who] : who;
			double *cell = cells[who];
			if (!cell) {
				const struct mvm *v = &m->vm[vi];
				if (v->is_driver) {
					split_charge(x, who, j);
					continue;
				}
				/* marks the cell used, as ledger_charge of j != 0 does */
				cell = cells[who] = ledger_cell_cur(l, v->consumer, dev_cpu(x->cpu), 0,
								    LEDGER_IDLE);
			}
			if (!x->truth)
				m->vm[vi].st.hv_cpu_idle_j += j;
			*cell += j;
		}
		break;
	}
	default:
		break;
	}
	idle_split_end(s);
}

static void tick_event(struct evq *q, struct evq_event *ev, void *arg)
{
	struct machine *m = arg;
	int64_t now = q->now_ns;
	(void)ev;
	/* disk idle energy over the clients (paper: every 50 ms) */
	for (int i = 0; i < m->ndisk; i++) {
		struct mdisk *dk = &m->disk[i];
		double e = disk_energy_idle(&dk->acct, now - dk->last_tick_ns);
		dk->last_tick_ns = now;
		idle_split_add_idle(dk->split_acct, e);
		struct split_ctx x = {m, m->acct, dev_disk(m, i), dk->via, LEDGER_IDLE,
				      dk->part_vm, 0, -1};
		idle_split_flush(dk->split_acct, split_charge, &x);
		if (dk->pending_unattr_j != 0.0) {
			ledger_charge(m->acct, LEDGER_UNATTRIBUTED, dev_disk(m, i), dk->via,
				      LEDGER_IDLE, -dk->pending_unattr_j);
			dk->pending_unattr_j = 0.0;
		}
	}
	/* the driver's idle CPU over its clients (driver_list: the drivers in
	 * VM order) */
	for (int d = 0; d < m->n_drivers; d++) {
		struct mvm *v = &m->vm[m->driver_list[d]];
		if (v->n_clients == 0)
			continue;
		double e = recursive_idle_due(&v->rec, now);
		idle_split_add_idle(v->cli_split_acct, e);
		struct split_ctx x = {m, m->acct, dev_cpu(v->vcpu.cpu), v->via, LEDGER_IDLE,
				      v->clients, 0, -1};
		idle_split_flush(v->cli_split_acct, split_charge, &x);
	}
}

/* ---------------------------------------------------------------------- */
/* the host-level energy manager                                           */

static int control_row(struct machine *m, int vm, const char *dev, double limit_w,
		       double measured_w, const char *actuator, double value)
{
	if (!m->sink.control)
		return 0;
	int rc = m->sink.control(m->sink.ctx, m->q.now_ns, vm, dev, limit_w, measured_w,
				 actuator, value);
	if (rc)
		fail(m, rc);
	return rc;
}

static void cpu_manager_event(struct evq *q, struct evq_event *ev, void *arg)
{
	struct machine *m = arg;
	const struct scn_manager *mg = &m->s->manager;
	int64_t now = q->now_ns;
	(void)ev;
	/* the log is read first, so the last period is fully accounted */
	if (!m->cpu_replayed)
		for (int i = 0; i < m->ncpu; i++)
			cpu_record(m, &m->cpu[i], now);
	for (int i = 0; i < m->nvm; i++) {
		struct mvm *v = &m->vm[i];
		double e = v->meas_cpu_j - v->last_cpu_j;
		v->last_cpu_j = v->meas_cpu_j;
		if (v->cfg->cpu_limit_w <= 0 || now < v->cfg->limit_from_ns)
			continue;
		struct mcpu *c = &m->cpu[v->vcpu.cpu];
		double measured_w = e / ((double)mg->cpu_period_ns * 1e-9);
		if (!v->cpu_on) {
			v->cpu_on = 1;
			v->st.cpu_limit_on_ns = now;
			v->st.cpu_active_j_at_on = v->meas_cpu_j;
			v->st.cpu_ns_at_on = v->st.cpu_ns;
			v->hm_cpu.limit_w = v->cfg->cpu_limit_w;
			v->hm_cpu.base_stride = v->vcpu.se.stride;
			v->hm_cpu.offset = mg->cpu_offset;
			if (measured_w < v->cfg->cpu_limit_w)
				jv_warn(v->cfg->file, v->cfg->line,
					"[vm %s] cpu_limit %gW cannot bind: the VM used %.3gW of "
					"active CPU power before the limit", v->cfg->name,
					v->cfg->cpu_limit_w, measured_w);
			if (!c->idle_active) {
				c->idle_active = 1;
				rq_enqueue(m, c, &c->idle_se);
				if (!c->cur && !c->idle_running && !evq_is_queued(&c->ev) &&
				    evq_schedule(&m->q, &c->ev, now))
					fail(m, JV_ENOMEM);
			}
		}
		uint64_t st = hm_cpu_step(&v->hm_cpu, v->vcpu.se.stride, e, mg->cpu_period_ns);
		if (st != v->vcpu.se.stride) {
			v->vcpu.se.stride = st;
			c->rq.ops->stride_changed(&c->rq, &v->vcpu.se);
		}
		control_row(m, i, m->dname[dev_cpu(c->idx)], v->cfg->cpu_limit_w, measured_w,
			    "stride", (double)st);
	}
}

static void disk_manager_event(struct evq *q, struct evq_event *ev, void *arg)
{
	struct machine *m = arg;
	const struct scn_manager *mg = &m->s->manager;
	int64_t now = q->now_ns;
	(void)ev;
	for (int i = 0; i < m->nvm; i++) {
		struct mvm *v = &m->vm[i];
		double e = v->meas_drv_j - v->last_drv_j;
		v->last_drv_j = v->meas_drv_j;
		if (v->cfg->disk_limit_w <= 0 || !v->driver || now < v->cfg->limit_from_ns)
			continue;
		double measured_w = e / ((double)mg->disk_period_ns * 1e-9);
		if (!v->disk_on) {
			v->disk_on = 1;
			v->st.disk_limit_on_ns = now;
			v->st.drv_active_j_at_on = v->meas_drv_j;
			v->st.bytes_at_on = v->st.bytes;
			uint64_t reqs = v->st.requests;
			double per_req = reqs ? v->meas_drv_j / (double)reqs : 0.0;
			double el = v->cfg->disk_limit_w * (double)mg->shaping_period_ns * 1e-9;
			if (measured_w < v->cfg->disk_limit_w)
				jv_warn(v->cfg->file, v->cfg->line,
					"[vm %s] disk_limit %gW cannot bind: the driver spent %.3gW "
					"of active power for it before the limit", v->cfg->name,
					v->cfg->disk_limit_w, measured_w);
			if (per_req > 0 && el < per_req)
				jv_warn(v->cfg->file, v->cfg->line,
					"[vm %s] disk_limit %gW cannot be met: one request costs "
					"%.3g J, more than the %.3g J a shaping period allows",
					v->cfg->name, v->cfg->disk_limit_w, per_req, el);
			shaper_limit(&v->driver->shaper, v->client_slot, v->hm_disk.ctl.t);
		}
		double t = hm_disk_step(&v->hm_disk, e, mg->disk_period_ns);
		shaper_set_budget(&v->driver->shaper, v->client_slot, t);
		control_row(m, i, m->dname[dev_disk(m, v->cfg->disk)], v->cfg->disk_limit_w,
			    measured_w, "budget", t);
	}
}

static void shape_event(struct evq *q, struct evq_event *ev, void *arg)
{
	struct machine *m = arg;
	(void)q;
	(void)ev;
	for (int i = 0; i < m->nvm; i++)
		if (m->vm[i].is_driver)
			shaper_refresh(&m->vm[i].shaper, shaper_release, m);
}

static int emit_power(void *ctx, int64_t t, int dev, double w)
{
	struct machine *m = ctx;
	return m->sink.power_row(m->sink.ctx, t, dev, w);
}

static void snapshot(struct machine *m, int64_t now)
{
	int64_t span = now - m->last_snap_ns;
	trace_flush_all(m); /* the fast replay's sums (trace_fast_event) */
	/* 1. CPUs: log and account up to now */
	if (!m->cpu_replayed)
		for (int i = 0; i < m->ncpu; i++)
			cpu_record(m, &m->cpu[i], now);
	else if (m->sink.power_row)
		for (int i = 0; i < m->ncpu; i++)
			power_sampler_add(m->power, dev_cpu(i), now, now, 0.0);
	/* 2. disks */
	for (int i = 0; i < m->ndisk; i++) {
		struct mdisk *dk = &m->disk[i];
		int ddev = dev_disk(m, i);
		disk_truth_busy(m, dk, now);
		disk_power_to(m, dk, now);
		if (m->truth) {
			double idle = disk_energy_idle(&dk->acct, now - dk->truth_idle_since_ns);
			dk->truth_idle_since_ns = now;
			ledger_meter(m->truth, ddev, idle);
			idle_split_add_idle(dk->split_truth, idle);
			struct split_ctx x = {m, m->truth, ddev, dk->via, LEDGER_IDLE, dk->part_vm, 0, -1};
			idle_split_flush(dk->split_truth, split_charge, &x);
		}
		ledger_meter(m->acct, ddev, disk_energy_idle(&dk->acct, now - dk->acct_meter_since_ns));
		dk->acct_meter_since_ns = now;
		double pending = disk_energy_idle(&dk->acct, now - dk->last_tick_ns);
		ledger_charge(m->acct, LEDGER_UNATTRIBUTED, ddev, dk->via, LEDGER_IDLE,
			      pending - dk->pending_unattr_j);
		dk->pending_unattr_j = pending;
	}
	/* 3. CPU idle splits */
	for (int i = 0; i < m->ncpu; i++) {
		struct mcpu *c = &m->cpu[i];
		struct split_ctx xa = {m, m->acct, dev_cpu(i), 0, LEDGER_IDLE,
				       m->acct_split_guests ? m->guest_list : NULL, 0, i};
		cpu_idle_flush(c->split_acct, &xa, c->idle_cell_acct);
		if (m->truth) {
			struct split_ctx xt = {m, m->truth, dev_cpu(i), 0, LEDGER_IDLE, NULL, 1, i};
			cpu_idle_flush(c->split_truth, &xt, c->idle_cell_truth);
		}
	}
	/* 4. drivers (driver_list: in VM order): pass on or book what is left */
	for (int d = 0; d < m->n_drivers; d++) {
		struct mvm *v = &m->vm[m->driver_list[d]];
		int cdev = dev_cpu(v->vcpu.cpu);
		if (v->n_clients > 0) {
			double res = recursive_interval_residual(&v->rec);
			ledger_charge(m->acct, LEDGER_UNATTRIBUTED, cdev, v->via, LEDGER_ACTIVE, res);
			if (m->truth) {
				idle_split_add_idle(v->cli_split_truth,
						    v->truth_pool_j[0] + v->truth_pool_j[1]);
				struct split_ctx x = {m, m->truth, cdev, v->via, LEDGER_IDLE,
						      v->clients, 0, -1};
				idle_split_flush(v->cli_split_truth, split_charge, &x);
			}
		} else {
			for (int k = 0; k < 2; k++) {
				ledger_charge(m->acct, v->consumer, cdev, 0, k, v->acct_pool_j[k]);
				if (m->truth)
					ledger_charge(m->truth, v->consumer, cdev, 0, k, v->truth_pool_j[k]);
				v->acct_pool_j[k] = 0.0;
			}
		}
		v->truth_pool_j[0] = v->truth_pool_j[1] = 0.0;
	}
	/* 5. conservation */
	int bad = ledger_snapshot(m->acct, now);
	if (m->truth)
		bad += ledger_snapshot(m->truth, now);
	m->st.conservation_violations += (uint64_t)bad;
	m->st.snapshots++;
	m->last_snap_ns = now;
	(void)span;
	if (m->sink.snapshot) {
		int rc = m->sink.snapshot(m->sink.ctx, now, m->acct, m->truth);
		if (rc) {
			fail(m, rc);
			return;
		}
	}
	if (m->sink.power_row) {
		int rc = power_sampler_emit(m->power, now, emit_power, m);
		if (rc)
			fail(m, rc);
	}
}

/* The snapshot itself runs after every event already queued for the same
 * instant (periodic ticks, manager steps), so that an interval's charges
 * are complete when it is checked and written. */
static void snap_now_event(struct evq *q, struct evq_event *ev, void *arg)
{
	struct machine *m = arg;
	(void)ev;
	if (q->now_ns > m->last_snap_ns && q->now_ns < m->end_ns)
		snapshot(m, q->now_ns);
	check_interrupt(m);
}

static void snap_event(struct evq *q, struct evq_event *ev, void *arg)
{
	struct machine *m = arg;
	(void)ev;
	if (evq_schedule(q, &m->snap_now_ev, q->now_ns))
		fail(m, JV_ENOMEM);
}

/* ---------------------------------------------------------------------- */
/* assembly                                                                */

static int open_trace(struct machine *m, struct mtrace *t, const char *path, int owner,
		      int mode, struct jv_diag *d)
{
	struct trc_open_opts oo = {0};
	const char *fmt = "auto";
	if (owner >= 0) {
		oo.time_unit_ns = m->s->vm[owner].trace_time_unit_ns;
		fmt = m->s->vm[owner].trace_format;
	}
	int rc = trc_open_opts(path, fmt, &oo, &t->r, d);
	if (rc)
		return rc;
	static const char *const natives[] = {"pmc", "pmc-interval", "blk", "blk-interval", "bin"};
	for (size_t i = 0; i < sizeof natives / sizeof natives[0]; i++)
		if (strcmp(trc_format_name(t->r), natives[i]) == 0)
			t->native = 1;
	t->path = path;
	t->n_ctr = trc_n_counters(t->r);
	t->kind = trc_kind(t->r);
	t->mode = mode;
	t->owner_vm = owner;
	evq_event_init(&t->ev, trace_event, m);
	if (t->kind == TRC_BLK_INTERVAL && mode != SCN_REPLAY_ACCOUNTING)
		return jv_diag_set(d, JV_EINVAL, path, 0,
				   "blk-interval traces are aggregate statistics and cannot be "
				   "replayed request by request (use a blk trace, or "
				   "trace_mode = accounting)");
	if (owner < 0 && t->kind != TRC_PMC)
		return jv_diag_set(d, JV_EINVAL, path, 0,
				   "[cpu] pmc_log must be a `pmc` log, this is a `%s` trace",
				   trc_kind_name(t->kind));
	if (owner >= 0 && t->kind == TRC_PMC)
		return jv_diag_set(d, JV_EINVAL, path, 0,
				   "a per-switch `pmc` log describes the whole CPU: give it as "
				   "[cpu] pmc_log, not as a VM's trace");
	for (int i = 0; i < trc_n_counters(t->r); i++) {
		const char *cn = trc_counter_name(t->r, i);
		t->ctr_map[i] = scn_counter_index(m->s, cn);
		if (t->ctr_map[i] < 0)
			return jv_diag_set(d, JV_EUNKNOWN, path, 2,
					   "counter '%s' is not one of the scenario's [cpu] counters",
					   cn);
		t->has_cyc |= m->cyc >= 0 && t->ctr_map[i] == m->cyc;
	}
	return 0;
}

static int assemble_traces(struct machine *m, struct jv_diag *d)
{
	const struct scn *s = m->s;
	int n = s->cpu.pmc_log ? 1 : 0;
	for (int i = 0; i < s->n_vms; i++)
		n += s->vm[i].n_traces;
	if (n == 0)
		return 0;
	m->tr = calloc((size_t)n, sizeof *m->tr);
	if (!m->tr)
		return JV_ENOMEM;
	int k = 0, rc;
	if (s->cpu.pmc_log) {
		int mode = s->global.replay_mode;
		rc = open_trace(m, &m->tr[k], s->cpu.pmc_log, -1, mode, d);
		m->ntr = ++k;
		if (rc)
			return rc;
		if (mode == SCN_REPLAY_ACCOUNTING) {
			m->cpu_replayed = 1;
			for (int i = 0; i < s->n_vms; i++)
				if (s->vm[i].workload == SCN_WL_CPU_HOG ||
				    s->vm[i].workload == SCN_WL_DISK_STRESS ||
				    (s->vm[i].kind == SCN_VM_DRIVER && s->vm[i].bg_duty > 0))
					return jv_diag_set(d, JV_EINVAL, s->vm[i].file, s->vm[i].line,
							   "[vm %s]: the CPU is replayed from [cpu] pmc_log "
							   "in accounting mode, so VMs cannot run simulated "
							   "CPU work (workload, driver bg_duty)",
							   s->vm[i].name);
		}
	}
	for (int i = 0; i < s->n_vms; i++)
		for (int j = 0; j < s->vm[i].n_traces; j++) {
			rc = open_trace(m, &m->tr[k], s->vm[i].trace[j], i, s->vm[i].trace_mode, d);
			m->ntr = ++k;
			if (rc)
				return rc;
			if (m->cpu_replayed && m->tr[k - 1].mode != SCN_REPLAY_ACCOUNTING &&
			    m->tr[k - 1].kind != TRC_BLK)
				return jv_diag_set(d, JV_EINVAL, s->vm[i].trace[j], 0,
						   "open/closed CPU replay needs the simulated CPU, "
						   "but [cpu] pmc_log replays it in accounting mode");
			if (m->cpu_replayed && m->tr[k - 1].mode != SCN_REPLAY_ACCOUNTING &&
			    s->vm[s->vm[i].driver_idx >= 0 ? s->vm[i].driver_idx : i].req_cpu_ns > 0)
				return jv_diag_set(d, JV_EINVAL, s->vm[i].trace[j], 0,
						   "open/closed block replay runs driver CPU work, but "
						   "[cpu] pmc_log replays the CPU in accounting mode "
						   "(use trace_mode = accounting)");
		}
	for (int i = 0; i < m->ntr; i++)
		if (m->tr[i].mode == SCN_REPLAY_ACCOUNTING) {
			m->has_truth = 0;
			snprintf(m->no_truth_reason, sizeof m->no_truth_reason,
				 "%s is replayed in accounting mode: the records are charged as "
				 "recorded, so there is no simulated truth to compare with",
				 m->tr[i].path);
			break;
		}
	return 0;
}

static int assemble(struct machine *m, struct jv_diag *d)
{
	const struct scn *s = m->s;
	m->ncpu = s->cpu.count;
	m->ndisk = s->disk.count;
	m->nvm = s->n_vms;
	m->ndev = m->ncpu + m->ndisk;
	m->freq_hz = s->cpu.freq_hz;
	m->tsc = s->cpu.tsc_index;
	m->cyc = s->cpu.cycles_index;
	m->quantum_ns = s->cpu.quantum_ns;
	m->end_ns = s->global.duration_ns;
	m->has_truth = 1;
	m->d = d;

	m->model_acct.ops = &cpu_energy_weighted_pmc;
	m->model_acct.n_counters = s->cpu.n_counters;
	m->model_acct.tsc_index = s->cpu.tsc_index;
	memcpy(m->model_acct.weight_j, s->cpu.weight_j, sizeof m->model_acct.weight_j);
	m->model_truth = m->model_acct;
	memcpy(m->model_truth.weight_j, s->cpu.true_weight_j, sizeof m->model_truth.weight_j);
	m->n_ctr = s->cpu.n_counters;
	m->weighted = m->model_acct.ops == &cpu_energy_weighted_pmc &&
		      m->model_truth.ops == &cpu_energy_weighted_pmc;

	m->vm = calloc((size_t)(m->nvm > 0 ? m->nvm : 1), sizeof *m->vm);
	m->cname = calloc((size_t)m->nvm + LEDGER_FIRST_VM, sizeof *m->cname);
	m->dname = calloc((size_t)m->ndev, sizeof *m->dname);
	m->dname_buf = calloc((size_t)m->ndev, sizeof *m->dname_buf);
	m->vname = calloc((size_t)m->nvm + 1, sizeof *m->vname);
	if (!m->vm || !m->cname || !m->dname || !m->dname_buf || !m->vname)
		return JV_ENOMEM;
	m->cname[LEDGER_HYPERVISOR] = "hypervisor";
	m->cname[LEDGER_UNATTRIBUTED] = "unattributed";
	m->vname[0] = "direct";
	m->nvia = 1;
	for (int i = 0; i < m->ncpu; i++) {
		snprintf(m->dname_buf[i], sizeof m->dname_buf[i], "cpu%d", i);
		m->dname[i] = m->dname_buf[i];
	}
	for (int i = 0; i < m->ndisk; i++) {
		snprintf(m->dname_buf[m->ncpu + i], sizeof m->dname_buf[0], "disk%d", i);
		m->dname[m->ncpu + i] = m->dname_buf[m->ncpu + i];
	}

	if (evq_init(&m->q, 1024))
		return JV_ENOMEM;
	m->driver_list = calloc((size_t)(m->nvm > 0 ? m->nvm : 1), sizeof(int));
	m->guest_list = calloc((size_t)(m->nvm > 0 ? m->nvm : 1), sizeof(int));
	if (!m->driver_list || !m->guest_list)
		return JV_ENOMEM;
	for (int i = 0; i < m->nvm; i++) {
		if (s->vm[i].kind == SCN_VM_DRIVER)
			m->driver_list[m->n_drivers++] = i;
		else
			m->guest_list[m->n_guests++] = i;
	}
	m->acct_split_guests = s->cpu.idle_policy == SCN_IDLE_EQUAL;
	const struct sched_ops *so =
		s->cpu.scheduler == SCN_SCHED_STRIDE ? &sched_stride : &sched_rr;
	for (int i = 0; i < m->ncpu; i++) {
		struct mcpu *c = &m->cpu[i];
		c->idx = i;
		c->rq.ops = so;
		if (so->init(&c->rq, m->quantum_ns))
			return JV_ENOMEM;
		so->entity_init(&c->rq, &c->idle_se, s->manager.idle_tickets);
		c->idle_se.id = -1;
		c->rec_vm = -1;
		evq_event_init(&c->ev, cpu_event, m);
		c->split_truth = idle_split_new(m->nvm, s->cpu.idle_policy);
		c->split_acct = idle_split_new(m->acct_split_guests ? m->n_guests : m->nvm,
					       s->cpu.idle_policy);
		if (!c->split_truth || !c->split_acct)
			return JV_ENOMEM;
		c->idle_cell_truth = calloc(m->nvm > 0 ? (size_t)m->nvm : 1, sizeof(double *));
		c->idle_cell_acct = calloc(m->nvm > 0 ? (size_t)m->nvm : 1, sizeof(double *));
		if (!c->idle_cell_truth || !c->idle_cell_acct)
			return JV_ENOMEM;
	}
	for (int i = 0; i < m->nvm; i++) {
		struct mvm *v = &m->vm[i];
		v->idx = i;
		v->cfg = &s->vm[i];
		v->consumer = LEDGER_FIRST_VM + i;
		m->cname[v->consumer] = v->cfg->name;
		v->is_driver = v->cfg->kind == SCN_VM_DRIVER;
		v->vcpu.vm = i;
		v->vcpu.cpu = i % m->ncpu;
		v->st.cpu_limit_on_ns = v->st.disk_limit_on_ns = -1;
		v->vcpu.se.id = i;
		m->cpu[v->vcpu.cpu].rq.ops->entity_init(&m->cpu[v->vcpu.cpu].rq, &v->vcpu.se,
							 v->cfg->tickets);
		if (v->is_driver) {
			v->via = m->nvia;
			m->vname[m->nvia++] = v->cfg->name;
		}
		evq_event_init(&v->start_ev, vm_start_event, m);
		evq_event_init(&v->stop_ev, vm_stop_event, m);
		evq_event_init(&v->bg_ev, bg_event, m);
	}
	/* clients of each driver */
	for (int i = 0; i < m->nvm; i++) {
		struct mvm *v = &m->vm[i];
		if (!v->is_driver && v->cfg->driver_idx >= 0)
			v->driver = &m->vm[v->cfg->driver_idx];
	}
	for (int i = 0; i < m->nvm; i++) {
		struct mvm *v = &m->vm[i];
		if (!v->is_driver)
			continue;
		v->clients = calloc((size_t)m->nvm, sizeof(int));
		if (!v->clients)
			return JV_ENOMEM;
		for (int j = 0; j < m->nvm; j++)
			if (m->vm[j].driver == v)
				v->clients[v->n_clients++] = j;
		if (shaper_init(&v->shaper, v->n_clients))
			return JV_ENOMEM;
		for (int k = 0; k < v->n_clients; k++)
			m->vm[v->clients[k]].client_slot = k;
		v->cli_split_truth = idle_split_new(v->n_clients, s->disk.idle_policy);
		v->cli_split_acct = idle_split_new(v->n_clients, s->disk.idle_policy);
		if (!v->cli_split_truth || !v->cli_split_acct)
			return JV_ENOMEM;
		v->idle_w = v->cfg->idle_cpu_auto ? 0.0 : v->cfg->idle_cpu_w;
		recursive_init(&v->rec, v->idle_w, v->cfg->predict_window, 0);
		for (int k = 0; k < 2; k++)
			v->bg[k].client = -1;
	}
	for (int i = 0; i < m->ndisk; i++) {
		struct mdisk *dk = &m->disk[i];
		dk->idx = i;
		dk->dev = dev_disk(m, i);
		dk->svc.ops = &disk_service_linear;
		dk->svc.media_rate_bps = s->disk.media_rate_bps;
		dk->svc.overhead_ns = s->disk.overhead_ns;
		disk_energy_init(&dk->acct, s->disk.idle_power_w, s->disk.active_power_w,
				 s->disk.nominal_rate_bps, s->disk.rate_window);
		evq_event_init(&dk->ev, disk_event, m);
		dk->part_vm = calloc((size_t)(m->nvm > 0 ? m->nvm : 1), sizeof(int));
		if (!dk->part_vm)
			return JV_ENOMEM;
		for (int j = 0; j < m->nvm; j++)
			if (m->vm[j].driver && m->vm[j].cfg->disk == i) {
				dk->part_vm[dk->n_part++] = j;
				if (!dk->via)
					dk->via = m->vm[j].driver->via;
			}
		dk->split_truth = idle_split_new(dk->n_part, s->disk.idle_policy);
		dk->split_acct = idle_split_new(dk->n_part, s->disk.idle_policy);
		if (!dk->split_truth || !dk->split_acct)
			return JV_ENOMEM;
	}
	if (vpmc_init(&m->vpmc, m->nvm, s->cpu.n_counters))
		return JV_ENOMEM;
	for (int i = 0; i < m->nvm; i++) {
		struct mvm *v = &m->vm[i];
		v->cur_cont = -1;
		v->rr_cont = -1;
		v->rr_disk = -1;
		v->pre_cont = -1;
		v->guest_rate = 1.0 + v->cfg->clock_drift_ppm * 1e-6;
		v->meter_j = calloc((size_t)m->ndev, sizeof(double));
		if (!v->meter_j)
			return JV_ENOMEM;
		if (v->cfg->n_containers > 0) {
			m->vpmc_used = 1;
			v->cont = calloc((size_t)v->cfg->n_containers, sizeof *v->cont);
			if (!v->cont || gm_init(&v->gm, v->cfg->n_containers,
						(double)v->cfg->guest_period_ns * 1e-9))
				return JV_ENOMEM;
			for (int k = 0; k < s->n_containers; k++)
				if (s->container[k].vm == i) {
					struct mcont *ct = &v->cont[v->n_cont];
					ct->idx = k;
					ct->cfg = &s->container[k];
					v->gm.c[v->n_cont].limit_w = ct->cfg->power_limit_w;
					v->gm.c[v->n_cont].share = ct->cfg->share;
					v->n_cont++;
				}
			gm_resolve(&v->gm, 0.0);
			gm_refresh(&v->gm);
		}
	}
	for (int i = 0; i < m->nvm; i++) {
		struct mvm *v = &m->vm[i];
		v->disk = &m->disk[v->cfg->disk];
		if (v->cfg->cpu_limit_w > 0)
			m->any_cpu_limit = 1;
		if (v->cfg->disk_limit_w > 0 && v->driver) {
			m->any_disk_limit = 1;
			const struct scn_manager *mg = &s->manager;
			struct throttle_cfg tc = {
				.t_init = mg->t_init, .t_min = mg->t_min, .t_max = mg->t_max,
				.gain_damp = mg->disk_gain_damp, .gain_amp = mg->disk_gain_amp,
				.kp = mg->pi_kp, .ki = mg->pi_ki,
			};
			v->hm_disk.limit_w = v->cfg->disk_limit_w;
			if (throttle_init(&v->hm_disk.ctl, mg->disk_controller == SCN_CTRL_PI
					  ? &throttle_pi : &throttle_paper, &tc))
				return jv_diag_set(d, JV_EINVAL, v->cfg->file, v->cfg->line,
						   "[manager] invalid throttle controller settings");
		}
	}

	int rc = assemble_traces(m, d);
	if (rc)
		return rc;
	if (m->cpu_replayed && m->has_truth) {
		m->has_truth = 0;
		snprintf(m->no_truth_reason, sizeof m->no_truth_reason,
			 "the CPU is replayed from a PMC log in accounting mode");
	}

	m->acct = ledger_new(m->nvm + LEDGER_FIRST_VM, m->cname, m->ndev, m->dname, m->nvia,
			     m->vname);
	if (!m->acct)
		return JV_ENOMEM;
	if (m->has_truth) {
		m->truth = ledger_new(m->nvm + LEDGER_FIRST_VM, m->cname, m->ndev, m->dname,
				      m->nvia, m->vname);
		if (!m->truth)
			return JV_ENOMEM;
	}
	/* the CPU's inline paths: weighted-PMC arithmetic, a truth ledger, no
	 * power rows, no virtual PMCs, CPU idle not routed to drivers per record */
	m->cpu_fast = m->weighted && m->truth && !m->sink.power_row && !m->vpmc_used &&
		      !(m->acct_split_guests && m->n_drivers > 0 && m->nvm > 0);
	if (m->sink.power_row) {
		m->power = power_sampler_new(m->ndev, s->output.power_resolution_ns);
		if (!m->power)
			return JV_ENOMEM;
	}
	/* workloads */
	for (int i = 0; i < m->nvm; i++) {
		struct mvm *v = &m->vm[i];
		const struct scn_vm *c = v->cfg;
		if (v->is_driver) {
			if (c->bg_duty > 0 && c->bg_period_ns > 0 &&
			    evq_schedule_periodic(&m->q, &v->bg_ev, 0, c->bg_period_ns))
				return JV_ENOMEM;
			continue;
		}
		if (m->flags & MACHINE_PROBE)
			continue;
		if (c->workload == SCN_WL_DISK_STRESS) {
			if (!v->driver)
				return jv_diag_set(d, JV_EINVAL, c->file, c->line,
						   "[vm %s] does disk I/O but has no driver VM", c->name);
			v->reqs = calloc((size_t)c->queue_depth, sizeof *v->reqs);
			if (!v->reqs)
				return JV_ENOMEM;
			for (int k = 0; k < c->queue_depth; k++) {
				v->reqs[k].vm = v;
				v->reqs[k].disk = c->disk;
				v->reqs[k].ev.heap_idx = EVQ_NOT_QUEUED;
			}
		}
		for (int k = 0; k < v->n_cont; k++) {
			struct mcont *ct = &v->cont[k];
			if (!cont_is_disk(ct))
				continue;
			if (!v->driver)
				return jv_diag_set(d, JV_EINVAL, c->file, c->line,
						   "[container %s] does disk I/O but guest %s has "
						   "no driver VM", ct->cfg->name, c->name);
			ct->reqs = calloc((size_t)ct->cfg->queue_depth, sizeof *ct->reqs);
			if (!ct->reqs)
				return JV_ENOMEM;
			for (int q = 0; q < ct->cfg->queue_depth; q++) {
				ct->reqs[q].vm = v;
				ct->reqs[q].cont = ct;
				ct->reqs[q].disk = c->disk;
				ct->reqs[q].ev.heap_idx = EVQ_NOT_QUEUED;
			}
		}
		if (v->n_cont > 0 && c->energy_aware) {
			/* the guest's period, in host time */
			int64_t per = (int64_t)llround((double)c->guest_period_ns / v->guest_rate);
			evq_event_init(&v->gm_ev, guest_period_event, m);
			if (evq_schedule_periodic(&m->q, &v->gm_ev, per, per))
				return JV_ENOMEM;
		}
		if ((c->workload == SCN_WL_CPU_HOG || c->workload == SCN_WL_DISK_STRESS ||
		     v->n_cont > 0) &&
		    c->start_ns < m->end_ns) {
			if (evq_schedule(&m->q, &v->start_ev, c->start_ns))
				return JV_ENOMEM;
			if (c->stop_ns < m->end_ns && evq_schedule(&m->q, &v->stop_ev, c->stop_ns))
				return JV_ENOMEM;
		}
	}
	if (!(m->flags & MACHINE_PROBE))
		for (int i = 0; i < m->ntr; i++) {
			rc = trace_read_ahead(m, &m->tr[i], 0);
			if (rc < 0)
				return rc;
			if (rc > 0 && m->tr[i].mode == SCN_REPLAY_CLOSED &&
			    m->tr[i].rec.kind == TRC_BLK) {
				if (evq_schedule(&m->q, &m->tr[i].ev, m->tr[i].rec.u.blk.t_ns < m->end_ns
						 ? m->tr[i].rec.u.blk.t_ns : m->end_ns))
					return JV_ENOMEM;
			}
		}
	evq_event_init(&m->read_ev, read_event, m);
	evq_event_init(&m->tick_ev, tick_event, m);
	evq_event_init(&m->snap_ev, snap_event, m);
	evq_event_init(&m->snap_now_ev, snap_now_event, m);
	evq_event_init(&m->cpu_mgr_ev, cpu_manager_event, m);
	evq_event_init(&m->disk_mgr_ev, disk_manager_event, m);
	evq_event_init(&m->shape_ev, shape_event, m);
	if (!(m->flags & MACHINE_PROBE)) {
		const struct scn_manager *mg = &s->manager;
		if (m->any_cpu_limit &&
		    evq_schedule_periodic(&m->q, &m->cpu_mgr_ev, mg->cpu_period_ns, mg->cpu_period_ns))
			return JV_ENOMEM;
		if (m->any_disk_limit &&
		    (evq_schedule_periodic(&m->q, &m->disk_mgr_ev, mg->disk_period_ns,
					   mg->disk_period_ns) ||
		     evq_schedule_periodic(&m->q, &m->shape_ev, mg->shaping_period_ns,
					   mg->shaping_period_ns)))
			return JV_ENOMEM;
	}
	if (evq_schedule_periodic(&m->q, &m->read_ev, s->cpu.read_period_ns, s->cpu.read_period_ns) ||
	    evq_schedule_periodic(&m->q, &m->tick_ev, s->disk.idle_period_ns, s->disk.idle_period_ns) ||
	    evq_schedule_periodic(&m->q, &m->snap_ev, s->output.interval_ns, s->output.interval_ns))
		return JV_ENOMEM;
	return 0;
}

static int probe_driver_idle(const struct scn *s, struct machine *m, struct jv_diag *d)
{
	int need = 0;
	for (int i = 0; i < s->n_vms; i++)
		if (s->vm[i].kind == SCN_VM_DRIVER && s->vm[i].idle_cpu_auto)
			need = 1;
	if (!need)
		return 0;
	/* the probe: the same machine, no client workloads, no traces */
	struct scn *ps = malloc(sizeof *ps);
	if (!ps)
		return JV_ENOMEM;
	memcpy(ps, s, sizeof *ps);
	ps->cpu.pmc_log = NULL;
	int64_t probe = 0;
	for (int i = 0; i < ps->n_vms; i++) {
		ps->vm[i].n_traces = 0;
		if (ps->vm[i].kind == SCN_VM_DRIVER && ps->vm[i].idle_probe_ns > probe)
			probe = ps->vm[i].idle_probe_ns;
	}
	ps->global.duration_ns = probe;
	struct machine_sink none = {0};
	struct machine *pm = NULL;
	int rc = machine_new(ps, MACHINE_PROBE, &none, &pm, d);
	if (!rc)
		rc = machine_run(pm, d);
	if (!rc)
		for (int i = 0; i < s->n_vms; i++) {
			struct mvm *v = &m->vm[i];
			if (v->is_driver && v->cfg->idle_cpu_auto) {
				v->idle_w = pm->vm[i].probe_pool_j / ((double)probe * 1e-9);
				v->rec.idle_w = v->idle_w;
			}
		}
	machine_free(pm);
	free(ps);
	return rc;
}

int machine_new(const struct scn *s, int flags, const struct machine_sink *sink,
		struct machine **out, struct jv_diag *d)
{
	*out = NULL;
	struct machine *m = calloc(1, sizeof *m);
	if (!m)
		return jv_diag_set(d, JV_ENOMEM, NULL, 0, "out of memory");
	m->s = s;
	m->flags = flags;
	if (sink)
		m->sink = *sink;
	int rc = assemble(m, d);
	if (!rc && !(flags & MACHINE_PROBE) && !m->cpu_replayed)
		rc = probe_driver_idle(s, m, d);
	if (rc) {
		if (!d->err)
			jv_diag_set(d, rc, s->file, 0, "cannot assemble the machine: %s",
				    jv_strerror(rc));
		machine_free(m);
		return rc;
	}
	*out = m;
	return 0;
}

int machine_run(struct machine *m, struct jv_diag *d)
{
	m->d = d;
	m->st.events += evq_run_until(&m->q, m->end_ns);
	trace_flush_all(m);
	if (m->interrupted && !(m->flags & MACHINE_PROBE))
		m->end_ns = m->q.now_ns; /* what is complete is kept */
	if (!m->err && m->end_ns > m->last_snap_ns)
		snapshot(m, m->end_ns);
	if (m->err && !d->err)
		jv_diag_set(d, m->err, m->s->file, 0, "run failed: %s", jv_strerror(m->err));
	return m->err;
}

void machine_free(struct machine *m)
{
	if (!m)
		return;
	evq_destroy(&m->q); /* first: it touches the events still queued */
	for (int i = 0; i < m->ncpu; i++) {
		if (m->cpu[i].rq.ops)
			m->cpu[i].rq.ops->destroy(&m->cpu[i].rq);
		idle_split_free(m->cpu[i].split_truth);
		idle_split_free(m->cpu[i].split_acct);
		free(m->cpu[i].idle_cell_truth);
		free(m->cpu[i].idle_cell_acct);
	}
	for (int i = 0; i < m->ndisk; i++) {
		free(m->disk[i].part_vm);
		idle_split_free(m->disk[i].split_truth);
		idle_split_free(m->disk[i].split_acct);
	}
	if (m->vm)
		for (int i = 0; i < m->nvm; i++) {
			free(m->vm[i].clients);
			for (int k = 0; k < m->vm[i].n_cont; k++)
				free(m->vm[i].cont[k].reqs);
			free(m->vm[i].cont);
			free(m->vm[i].meter_j);
			gm_free(&m->vm[i].gm);
			shaper_destroy(&m->vm[i].shaper);
			free(m->vm[i].reqs);
			idle_split_free(m->vm[i].cli_split_truth);
			idle_split_free(m->vm[i].cli_split_acct);
		}
	for (int i = 0; i < m->ntr; i++) {
		if (m->tr[i].r)
			trc_close(m->tr[i].r);
		free(m->tr[i].vm_map);
		free(m->tr[i].cells);
		free(m->tr[i].dirty);
	}
	free(m->tr);
	free(m->driver_list);
	vpmc_free(&m->vpmc);
	free(m->guest_list);
	for (int i = 0; i < m->nchunks; i++)
		free(m->chunks[i]);
	free(m->chunks);
	ledger_free(m->acct);
	ledger_free(m->truth);
	power_sampler_free(m->power);
	free(m->vm);
	free(m->cname);
	free(m->dname);
	free(m->dname_buf);
	free(m->vname);
	free(m);
}

const struct ledger *machine_acct(const struct machine *m) { return m->acct; }
int64_t machine_end_ns(const struct machine *m) { return m->end_ns; }
int machine_interrupted(const struct machine *m) { return m->interrupted; }
const struct ledger *machine_truth(const struct machine *m) { return m->truth; }
const char *machine_no_truth_reason(const struct machine *m) { return m->no_truth_reason; }
const struct machine_stats *machine_stats(const struct machine *m) { return &m->st; }
const struct machine_vm_stats *machine_vm_stats(const struct machine *m, int vm)
{
	struct mvm *v = &m->vm[vm];
	v->st.cpu_active_j = v->meas_cpu_j;
	v->st.drv_active_j = v->meas_drv_j;
	return &v->st;
}
double machine_driver_idle_w(const struct machine *m, int vm) { return m->vm[vm].idle_w; }

double machine_meter_j(const struct machine *m, int vm, int device)
{
	return m->vm[vm].meter_j[device];
}

const struct machine_cont_stats *machine_cont_stats(const struct machine *m, int container)
{
	int vm = m->s->container[container].vm;
	const struct mvm *v = &m->vm[vm];
	for (int i = 0; i < v->n_cont; i++)
		if (v->cont[i].idx == container)
			return &v->cont[i].st;
	return NULL;
}

double machine_cont_budget_w(const struct machine *m, int container)
{
	int vm = m->s->container[container].vm;
	const struct mvm *v = &m->vm[vm];
	for (int i = 0; i < v->n_cont; i++)
		if (v->cont[i].idx == container)
			return v->cfg->energy_aware ? v->gm.c[i].budget_w : 0.0;
	return 0.0;
}
uint64_t machine_rate_estimates(const struct machine *m, int disk)
{
	return m->disk[disk].acct.estimates;
}
double machine_rate_estimate_bps(const struct machine *m, int disk)
{
	return m->disk[disk].acct.rate_bps;
}
