/*
 * machine_cpu: allocation, CPU charging and the CPU hot path (theory of operation).
 *
 * The per-quantum work of the simulated CPUs: the pools of work items and
 * requests, the charging helpers that route a CPU charge in the account and
 * truth ledgers, and the hot path (segments with struct seg_cache,
 * mach_cpu_advance, the PMC record at a context switch, dispatch and the
 * vCPUs' work FIFOs). Everything the machine does per quantum happens in
 * this file, so its callers and callees inline into each other (see
 * "Cost per quantum" in sim/machine.c).
 *
 * The CPU's loop (mach_cpu_event) runs quantum after quantum while the
 * next is due before every queued event: a quantum end of a cached guest
 * segment that switches vCPU records that segment at once (fused: the
 * PMC log's pend fields are never noted), and after such a quantum the
 * next is claimed against the queue's claim limit kept since the last
 * claim; a periodic event due first runs inside the loop (cpu_claim), in
 * the queue's order. docs/PERFORMANCE.md lists each step and its cost.
 *
 * The model: the theory of operation in sim/machine.c; the other files
 * of the machine: sim/machine_int.h.
 */
#include "sim/machine_int.h"

/* ---------------------------------------------------------------------- */
/* errors and pools                                                        */

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

struct work *mach_work_get(struct machine *m)
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

void mach_work_put(struct machine *m, struct work *w)
{
	w->next = m->free_work;
	m->free_work = w;
}

struct mreq *mach_req_get(struct machine *m)
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

void mach_req_put(struct machine *m, struct mreq *r)
{
	r->next = m->free_req;
	m->free_req = r;
}

/* ---------------------------------------------------------------------- */
/* charging helpers                                                        */

/* Route a CPU charge for VM vm (or -1: hypervisor) in the account ledger:
 * a driver VM's energy goes to its recursive pool. */
void mach_acct_cpu_charge(struct machine *m, int cpu, int vm, int kind, double j)
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

void mach_truth_cpu_charge(struct machine *m, int cpu, int vm, int kind, double j)
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
void mach_acct_cpu_idle(struct machine *m, struct mcpu *c, double idle_j)
{
	if (m->acct_split_guests && m->n_drivers > 0 && m->nvm > 0) {
		double share = idle_j / (double)m->nvm;
		for (int i = 0; i < m->n_drivers; i++)
			mach_acct_cpu_charge(m, c->idx, m->driver_list[i], LEDGER_IDLE, share);
		idle_split_add_idle(c->split_acct, idle_j - share * (double)m->n_drivers);
		return;
	}
	idle_split_add_idle(c->split_acct, idle_j);
}

/* ---------------------------------------------------------------------- */
/* CPUs                                                                    */

static int cpu_dispatch(struct machine *m, struct mcpu *c, int64_t now,
			struct seg_cache *fused);

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
 * materializes it before reading pend, see mach_cpu_advance). */
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
				sc->active_nz = active_j != 0.0;
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
			else if (!owner->is_driver) /* mach_truth_cpu_charge's common case */
				charge_cell(m->truth, &owner->truth_cell, owner->consumer, c->idx,
					    active_j);
			else
				mach_truth_cpu_charge(m, c->idx, v->vm, LEDGER_ACTIVE, active_j);
		} else {
			mach_truth_cpu_charge(m, c->idx, -1, LEDGER_ACTIVE, active_j);
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
static inline int cpu_advance_fast_q(struct machine *m, struct mcpu *c, int64_t now,
				     int defer_pend);

static inline int cpu_advance_fast(struct machine *m, struct mcpu *c, int64_t now)
{
	return cpu_advance_fast_q(m, c, now, 0);
}

/* The log holds just the cached segment sc since the record (pend_virtual):
 * what cpu_advance_fast notes, and mach_cpu_event notes late (below). */
static inline void pend_note_one(struct mcpu *c, struct seg_cache *sc)
{
	c->pend_virtual = 1;
	c->pend_segs = 1;
	c->pend_sc = sc;
}

/* cpu_advance_fast; with defer_pend the caller notes the pend fields
 * itself (pend_note_one with the vCPU's cache) unless a record of just
 * this segment follows at once (cpu_record_fused). */
static inline int cpu_advance_fast_q(struct machine *m, struct mcpu *c, int64_t now,
				     int defer_pend)
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
	if (!defer_pend)
		pend_note_one(c, sc);
	double idle_j = sc->idle_j, active_j = sc->active_j;
	ledger_meter(m->truth, dev_cpu(c->idx), idle_j + active_j);
	idle_split_add_idle(c->split_truth, idle_j);
	idle_split_add_use(c->split_truth, v->vm, dt, active_j);
	if (sc->active_nz) /* active_j != 0.0 */
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
inline void mach_cpu_advance(struct machine *m, struct mcpu *c, int64_t now)
{
	if (now > c->seg_start_ns)
		cpu_advance_seg(m, c, now);
	pend_materialize(c, m->n_ctr);
}

/* mach_cpu_record's common case, inline: the record of one cached segment of
 * a guest, whose account energies are known, accounted right after it
 * (m->cpu_fast). The same updates as mach_cpu_record; 0 when the case does not
 * apply (then nothing changed). */
static inline void cpu_record_one(struct machine *m, struct mcpu *c, int64_t now,
				  const struct seg_cache *one, struct mvm *v);

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
	c->pend_virtual = 0;
	c->pend_segs = 0;
	cpu_record_one(m, c, now, one, v);
	return 1;
}

/* cpu_record_fast right after cpu_advance_fast_q(..., defer_pend = 1)
 * advanced CPU c to now by the cached segment sc of its running guest (no
 * record since: rec_vm is that guest, c->cur unchanged), with the pend
 * fields not yet noted: they would be noted and cleared again, so only
 * pend_sc is set (as the pair leaves it). 0 when the account energies are
 * not cached (then the caller notes the pend fields and records the
 * general way). */
static inline int cpu_record_fused(struct machine *m, struct mcpu *c, int64_t now,
				   struct seg_cache *sc)
{
	struct mvm *v = &m->vm[c->rec_vm];
	if (!sc->acct_valid || !v->acct_cell)
		return 0;
	assert(c->pend_segs == 0 && !c->pend_virtual && now == c->seg_start_ns &&
	       now > c->rec_start_ns && !v->is_driver && c->cur && c->cur->vm == c->rec_vm);
	c->pend_sc = sc;
	cpu_record_one(m, c, now, sc, v);
	return 1;
}

/* The accounting of a record of the one cached segment 'one' of guest v
 * (cpu_record_fast, cpu_record_fused): the same updates as mach_cpu_record. */
static inline void cpu_record_one(struct machine *m, struct mcpu *c, int64_t now,
				  const struct seg_cache *one, struct mvm *v)
{
	double idle_j = one->acct_idle_j, active_j = one->acct_active_j;
	ledger_meter(m->acct, dev_cpu(c->idx), idle_j + active_j);
	idle_split_add_idle(c->split_acct, idle_j);
	idle_split_add_use(c->split_acct, c->rec_vm, now - c->rec_start_ns, active_j);
	if (one->acct_active_nz) { /* active_j != 0.0 */
		v->st.hv_cpu_active_j += active_j;
		*v->acct_cell += active_j;
		v->meas_cpu_j += active_j;
	}
	c->rec_start_ns = now;
	c->rec_vm = c->cur ? c->cur->vm : -1;
	m->st.pmc_records++;
}

static void cpu_record_seg(struct machine *m, struct mcpu *c, int64_t now);

/* Log one PMC record for the period since the last one and account it.
 * The periodic callers (the log read, the snapshot) come at a quantum's
 * end of a cached segment, just before the CPU's own event: the fast
 * segment and record apply there as in mach_cpu_event. */
void mach_cpu_record(struct machine *m, struct mcpu *c, int64_t now)
{
	if (now > c->seg_start_ns && !cpu_advance_fast(m, c, now))
		cpu_advance_seg(m, c, now);
	if (!cpu_record_fast(m, c, now))
		cpu_record_seg(m, c, now);
}

/* mach_cpu_record's general case. */
static void cpu_record_seg(struct machine *m, struct mcpu *c, int64_t now)
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
			one->acct_active_nz = active_j != 0.0;
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
		mach_acct_cpu_idle(m, c, idle_j);
	else
		idle_split_add_idle(c->split_acct, idle_j); /* mach_acct_cpu_idle's common case */
	if (c->rec_vm >= 0) /* a no-op under the equal policy (acct_split_guests) */
		idle_split_add_use(c->split_acct, c->rec_vm, dt, active_j);
	struct mvm *v = c->rec_vm >= 0 ? &m->vm[c->rec_vm] : NULL;
	if (v && !v->is_driver) {
		/* mach_acct_cpu_charge's common case: a guest's active energy */
		if (active_j != 0.0) {
			v->st.hv_cpu_active_j += active_j;
			charge_cell(m->acct, &v->acct_cell, v->consumer, c->idx, active_j);
			v->meas_cpu_j += active_j;
		}
	} else {
		mach_acct_cpu_charge(m, c->idx, c->rec_vm, LEDGER_ACTIVE, active_j);
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

/* Claim CPU c's next decision point t (evq_claim: 1, the caller runs it
 * now) or schedule c's event at t (0). The queue would pop every event
 * before (t, the seq c's event would get now) first; when such an event
 * is periodic (the log read, the snapshot, the manager, the disk tick) and
 * the earliest, it runs here instead (evq_run_root: re-armed, then its
 * callback, as evq_run_until would), c's seq reserved at the first one so
 * that events its callback schedules at t still come after c's; then the
 * claim is tried again. The order of events is unchanged, without a push
 * and pop of c's event around each periodic one. A callback that moves
 * c's event (work arriving) leaves it where it put it. */
static int cpu_claim(struct machine *m, struct mcpu *c, int64_t t)
{
	struct evq *q = &m->q;
	uint64_t seq = 0;
	int have_seq = 0;
	if (!evq_is_queued(&c->ev)) {
		for (;;) {
			if (evq_claim(q, t, m->end_ns))
				return 1;
			const struct evq_event *r = q->n ? q->heap[0] : NULL;
			if (q->stop || t > m->end_ns || !r || r->period_ns <= 0 || r->t_ns > t ||
			    (have_seq && r->t_ns == t && r->seq > seq))
				break;
			if (!have_seq) {
				seq = evq_reserve_seq(q);
				have_seq = 1;
			}
			evq_run_root(q);
			m->st.events++;
			if (evq_is_queued(&c->ev))
				return 0; /* a callback moved it */
		}
	}
	if (have_seq ? evq_schedule_seq(q, &c->ev, t, seq) : evq_schedule(q, &c->ev, t))
		fail(m, JV_ENOMEM);
	return 0;
}

/* A CPU's decision point. The next one, when it is due before every
 * queued event, runs at once in this loop (evq_claim): the queue would
 * have popped it next, so the order of events is unchanged, and a CPU
 * between periodic events runs quantum after quantum without a push and
 * pop per quantum. */
void mach_cpu_event(struct evq *q, struct evq_event *ev, void *arg)
{
	struct machine *m = arg;
	struct mcpu *c = (struct mcpu *)((char *)ev - offsetof(struct mcpu, ev));
	int64_t now = q->now_ns;
	/* after a claim, the last time a next quantum may be claimed at while
	 * only fused quanta ran (they touch no event: evq_claim_limit) */
	int64_t claim_lim = INT64_MIN;
	for (;;) {
		/* fused: the running guest's cached segment was accounted with
		 * its pend fields left to cpu_dispatch (a record of it at once
		 * then needs none of them) */
		struct seg_cache *fused = NULL;
		if (now > c->seg_start_ns) {
			if (cpu_advance_fast_q(m, c, now, 1))
				fused = &c->cur->sc;
			else
				cpu_advance_seg(m, c, now); /* pend may stay virtual */
		}
		if (c->cur && c->cur->head && c->cur->head->remaining_ns <= 0) {
			if (fused) /* the done handlers may read the log */
				pend_note_one(c, fused);
			fused = NULL;
			vcpu_reap(m, c->cur);
		}
		int pure = cpu_dispatch(m, c, now, fused) && fused;
		int64_t t = cpu_next_ns(c, now);
		if (pure && t <= claim_lim) {
			/* nothing but a fused quantum ran since the last claim
			 * (no event scheduled, no stop, c->ev not queued), and
			 * t >= now = q->now_ns: evq_claim would succeed */
			assert(t >= 0 && !evq_is_queued(&c->ev) &&
			       evq_claim_limit(q, m->end_ns) == claim_lim);
			q->now_ns = t;
		} else {
			if (t < 0) {
				evq_cancel(q, &c->ev);
				return;
			}
			if (!cpu_claim(m, c, t))
				return;
			claim_lim = evq_claim_limit(q, m->end_ns);
		}
		m->st.events++; /* it counts as the event it would have been */
		now = t;
	}
}

void mach_rq_enqueue(struct machine *m, struct mcpu *c, struct sched_entity *se)
{
	if (c->rq.ops->enqueue(&c->rq, se))
		fail(m, JV_ENOMEM);
}

/* A decision point on CPU c: the running entity's quantum ended, it
 * blocked, or the CPU was halted and work arrived. The scheduler class
 * picks among the runnable vCPUs and, while CPU limits are in force, the
 * idle vCPU; a change of vCPU is a context switch and logs a PMC record.
 * The caller schedules the CPU's next decision point (cpu_next_ns).
 * fused: see mach_cpu_event (the pend fields are noted here unless a
 * fused record consumes them). Returns 0 when a general record ran (its
 * accounting may reach code that touches events), else 1. */
static int cpu_dispatch(struct machine *m, struct mcpu *c, int64_t now,
			struct seg_cache *fused)
{
	int pure = 1;
	struct vcpu *prev = c->cur;
	int prev_idle = c->idle_running;
	int prev_runnable = prev && prev->head;
	if ((prev_runnable || prev_idle) && now < c->slice_end_ns) {
		if (fused)
			pend_note_one(c, fused);
		return 1;
	}
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
		/* context switch: log the PMC record */
		if (fused) {
			if (!cpu_record_fused(m, c, now, fused)) {
				pend_note_one(c, fused);
				cpu_record_seg(m, c, now);
				pure = 0;
			}
		} else if (!cpu_record_fast(m, c, now)) {
			cpu_record_seg(m, c, now);
			pure = 0;
		}
		if (prev)
			prev->running = 0;
		c->cur = next;
		if (next)
			next->running = 1;
		c->rec_vm = next ? next->vm : -1;
	} else if (fused) {
		pend_note_one(c, fused);
	}
	c->idle_running = next_idle;
	if (se) {
		c->slice_end_ns = now + m->quantum_ns;
		c->run_start_ns = now;
	}
	return pure;
}

/* Append work to a vCPU; wakes it if it was idle. */
void mach_vcpu_add_work(struct machine *m, struct vcpu *v, struct work *w)
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
	mach_rq_enqueue(m, c, &v->se);
	/* a halted CPU wakes at once; one the idle vCPU holds waits for its quantum */
	if (!c->cur && !c->idle_running && !evq_is_queued(&c->ev)) {
		if (evq_schedule(&m->q, &c->ev, m->q.now_ns))
			fail(m, JV_ENOMEM);
	}
}

/* Make a running or queued piece of work end now (workload stop). */
void mach_work_cancel(struct machine *m, struct vcpu *v, struct work *w)
{
	if (!w->queued)
		return;
	struct mcpu *c = &m->cpu[v->cpu];
	if (c->cur == v && v->head == w) {
		mach_cpu_advance(m, c, m->q.now_ns);
		w->remaining_ns = 0;
		if (evq_schedule(&m->q, &c->ev, m->q.now_ns))
			fail(m, JV_ENOMEM);
	} else {
		w->remaining_ns = 0;
	}
}

