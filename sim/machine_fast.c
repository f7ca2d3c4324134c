/*
 * machine_fast: the fast accounting replay of a pmc log (theory of operation).
 *
 * The records of a [cpu] pmc_log replayed in accounting mode, read in
 * batches and summed per (CPU, VM) cell, the sums charged when the ledgers
 * are next looked at; the comment below describes it in full. The block
 * below is the one that was in sim/machine.c, unchanged but for the
 * linkage of its four entry points.
 *
 * The model: the theory of operation in sim/machine.c; the other files
 * of the machine: sim/machine_int.h.
 */
#include "sim/machine_int.h"

/* ---- the fast accounting replay of a pmc log (issue 10) ----------------
 *
 * A `[cpu] pmc_log` replayed in accounting mode spends, per record, only
 * what the record itself demands: the counter advances since the CPU's
 * previous record (and the busy time they imply) are added up per (cpu,
 * vm) cell, and a cell's sums are charged with mach_trace_cpu_charge() when the
 * state they feed is next observed. Everything a record is charged with is
 * linear in the advances, the span and the busy time (the weighted-PMC
 * model, meter, idle pot, idle-split weights, CPU time, the driver's share
 * under the `equal` policy), so charging the sums gives the per-record
 * result up to the order of floating-point additions (about 1e-15
 * relative); the busy time is rounded per record as mach_trace_cpu_account
 * does, so CPU times are equal to the nanosecond. Records come from the
 * reader in runs of raw records in its buffer (trc_next_pmc_raw), which
 * fast_run checks as it uses them (the reader's checks given the CPU's
 * previous record: the counter test works on the advances it adds up), the
 * reader's own checks taking over at the first record that fails; those
 * due before the next queued event run in one loop with no event queue
 * operation (as mach_trace_event does record by record), and a log read event
 * in between (which does nothing here but look for a stop request) runs
 * inline without ending the run, as does a disk idle tick when the sums
 * wait for the snapshot (it charges disk cells only).
 *
 * When the sums are flushed: in a machine whose only other events are the
 * log reads (which do nothing when the CPU is replayed), snapshots and disk
 * ticks (which touch no CPU state) - no driver VM, no energy limits, no
 * guest with containers, no other trace - at each snapshot and at the end
 * of the run (`deferred`, mach_trace_flush_all); in any other machine at the
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

/* Whether t takes the fast path; allocates its cells (first read-ahead). */
int mach_trace_fast_setup(struct machine *m, struct mtrace *t)
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
			t->cyc_src = i; /* the last one, as in mach_trace_cpu_account */
	int other = m->n_drivers > 0 || m->any_cpu_limit || m->any_disk_limit || m->ntr != 1;
	for (int i = 0; i < m->nvm && !other; i++)
		other = m->vm[i].n_cont > 0;
	t->deferred = !other;
	t->fast = 1;
	return 1;
}

/* The weighted-PMC active energy of a cell's sums: the n terms in the
 * model's order (n a constant in flush_active's cases: the loop unrolls). */
static inline __attribute__((always_inline)) double
flush_terms(const double *tw, const int *tsrc, const uint64_t *ctr, const int n)
{
	double active_j = 0.0;
#pragma GCC unroll 16
	for (int i = 0; i < n; i++)
		active_j += tw[i] * (double)ctr[tsrc[i]];
	return active_j;
}

static double flush_active(const double *tw, const int *tsrc, const uint64_t *ctr, int n)
{
	switch (n) {
	case 0: return 0.0;
	case 5: return flush_terms(tw, tsrc, ctr, 5);
	case 6: return flush_terms(tw, tsrc, ctr, 6);
	case 7: return flush_terms(tw, tsrc, ctr, 7);
	case 8: return flush_terms(tw, tsrc, ctr, 8);
	default: {
		double active_j = 0.0;
		for (int i = 0; i < n; i++)
			active_j += tw[i] * (double)ctr[tsrc[i]];
		return active_j;
	}
	}
}

/* Charge t's cells and clear them. Per cell this is mach_trace_cpu_charge()
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
		double active_j = flush_active(tw, tsrc, c->ctr, n_terms);
		double idle_j = e->tsc_index < 0 ? 0.0
			: iw * (isrc >= 0 ? (double)c->ctr[isrc] : 0.0);
		int64_t busy_ns = t->cyc_src >= 0 ? c->busy_ns : c->span_ns;
		/* the rest of mach_trace_cpu_charge() */
		if (vm >= 0) {
			if (!m->acct_split_guests)
				idle_split_add_use(m->cpu[cpu].split_acct, vm, busy_ns, active_j);
			m->vm[vm].st.cpu_ns += busy_ns;
		}
		mach_acct_cpu_charge(m, cpu, vm, LEDGER_ACTIVE, active_j);
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
			mach_trace_cpu_meter(m, cpu, idle[cpu], active[cpu]);
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
 * charged alone by mach_trace_cpu_account (1, prev updated). */
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
	mach_trace_cpu_account(m, t, cpu, vm, at - p0, delta, 1);
	t->prev_t[cpu] = at;
	return 1;
}

/* The snapshot's and the run end's hook: every fast trace's sums. */
void mach_trace_flush_all(struct machine *m)
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

/* Queue the pending record at its time, as mach_trace_read_ahead does (ok: it
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

/* mach_trace_read_ahead() of a fast trace (before the run). */
int mach_trace_fast_ahead(struct machine *m, struct mtrace *t)
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
			    (vm = mach_trace_vm(m, t, (int)rvm,
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
		/* the cell's busy time: from the cycles counter when the trace
		 * has it (a guest's cell: the hypervisor's has none), else the
		 * span (trace_flush reads only the one it uses) */
		if (cyc_src >= 0) {
			if (vm >= 0) {
				uint64_t dc = trc_ld64(ctr + 8 * cyc_src) - prev[cyc_src];
				c->busy_ns += mach_fast_busy_ns(dc, freq_hz, ns_per_cycle);
			}
		} else {
			c->span_ns += at - t->prev_t[cpu];
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


/* The log read event (mach_read_event), when it is the next queued event and
 * the pending record (at or after it) would run right after it: with the
 * CPU replayed it only looks for a stop request, which no record's sums
 * depend on, so it runs here, in the order the queue would run it (re-armed
 * first, as evq_run_until does, then its work), and the run of records
 * goes on. So does the disk idle tick (mach_tick_event) of a deferred
 * trace: it charges the disks' idle energy (disk cells, which no record
 * touches; no driver VM in such a machine) and the sums are not charged
 * before the next snapshot anyway. 1 when it ran and the run may go on
 * (*now moved to its time), 0 when the run ends here (another event is
 * next, or a stop request). */
static int trace_fast_read_inline(struct machine *m, struct mtrace *t, int64_t *now, int ok)
{
	struct evq_event *re = m->q.n ? m->q.heap[0] : NULL;
	int tick = re == &m->tick_ev && t->deferred;
	if (m->q.stop || !re || (re != &m->read_ev && !tick) || re->period_ns <= 0 ||
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
	if (tick) {
		mach_tick_event(&m->q, re, m);
		return !m->q.stop;
	}
	return !check_interrupt(m);
}

/* A fast trace's event: its pending record is due now; it and every
 * following record due strictly before the next queued event (and not
 * after the run's end) are added to their cells. A log read event in
 * between runs inline (trace_fast_read_inline). */
void mach_trace_fast_event(struct machine *m, struct mtrace *t)
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
