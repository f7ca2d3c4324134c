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
 * vm) cell, and a cell's sums are charged with trace_cpu_charge() when the
 * state they feed is next observed. Everything a record is charged with is
 * linear in the advances, the span and the busy time (the weighted-PMC
 * model, meter, idle pot, idle-split weights, CPU time, the driver's share
 * under the `equal` policy), so charging the sums gives the per-record
 * result up to the order of floating-point additions (about 1e-15
 * relative); the busy time is rounded per record as trace_cpu_account
 * does, so CPU times are equal to the nanosecond. Records come from the
 * reader in batches (trc_next_pmc_batch: checked runs of raw records in
 * its buffer), and those due before the next queued event run in one loop
 * with no event queue operation (as trace_event does record by record).
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
	double d = (double)dc, y = d * ns_per_cycle;
	double whole = (double)(int64_t)y, frac = y - whole; /* both exact */
	if (y < 0x1p47 && fabs(frac - 0.5) > y * 0x1p-48)
		return (int64_t)whole + (frac > 0.5);
	return fast_llround(d / freq_hz * 1e9);
}

/* Whether t takes the fast path; allocates its cells (first read-ahead). */
int trace_fast_setup(struct machine *m, struct mtrace *t)
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

/* Charge t's cells and clear them. */
static void trace_flush(struct machine *m, struct mtrace *t)
{
	int cw = m->nvm + 1;
	double adv[NC] = {0}, idle[SCN_MAX_CPUS] = {0}, active[SCN_MAX_CPUS] = {0};
	char used[SCN_MAX_CPUS] = {0};
	for (int k = 0; k < t->n_dirty; k++) {
		int idx = t->dirty[k];
		struct pmc_cell *c = &t->cells[idx];
		int cpu = idx / cw, vm = idx % cw - 1;
		for (int i = 0; i < t->n_ctr; i++) /* the same entries every time */
			if (t->ctr_map[i] >= 0)
				adv[t->ctr_map[i]] = (double)c->ctr[i];
		double idle_j, active_j;
		trace_cpu_charge(m, cpu, vm, c->span_ns, adv,
				 t->cyc_src >= 0 ? c->busy_ns : c->span_ns, &idle_j, &active_j);
		idle[cpu] += idle_j;
		active[cpu] += active_j;
		used[cpu] = 1;
		m->st.pmc_records += c->n;
		memset(c, 0, sizeof *c);
	}
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
void trace_flush_all(struct machine *m)
{
	for (int i = 0; i < m->ntr; i++)
		if (m->tr[i].n_dirty)
			trace_flush(m, &m->tr[i]);
}

/* Read the next batch when the last one is used up: 1 a record pending,
 * 0 at the end, < 0 on error (the run fails). */
static int trace_fast_fetch(struct machine *m, struct mtrace *t)
{
	if (t->fi < t->fb.n)
		return 1;
	int rc = trc_next_pmc_batch(t->r, &t->fb, m->d);
	t->fi = 0;
	t->have = rc > 0;
	if (rc <= 0)
		t->fb.n = 0;
	if (rc < 0)
		fail(m, rc);
	return rc;
}

/* Queue the pending record at its time, as trace_read_ahead does. */
static int trace_fast_schedule(struct machine *m, struct mtrace *t)
{
	const unsigned char *p = t->fb.rec + t->fi * t->fb.rec_b;
	int64_t at = (int64_t)trc_ld64(p + 8);
	int due = trace_due(m, t, at, t->fb.line0 + (long)t->fi * t->fb.line_step);
	if (due)
		return due;
	if (evq_schedule(&m->q, &t->ev, at))
		fail(m, JV_ENOMEM);
	return 1;
}

/* trace_read_ahead() of a fast trace (before the run). */
int trace_fast_ahead(struct machine *m, struct mtrace *t)
{
	int rc = trace_fast_fetch(m, t);
	return rc <= 0 ? rc : trace_fast_schedule(m, t);
}

/* Run the batch's records from i on while they are due before lim (the
 * first one unconditionally: its event is running): each adds its counter
 * advances, span and busy time to its (cpu, vm) cell. Returns the index
 * reached; *stop on an error (the run fails). n_ctr is a constant in each
 * copy trace_fast_run() dispatches to, so the counter loops unroll. */
static inline __attribute__((always_inline)) size_t
fast_run(struct machine *m, struct mtrace *t, const int n_ctr, size_t i, int64_t *now_ns,
	 int64_t lim, uint64_t *ran, int *stop)
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
		if (done && (at < now || at >= lim))
			break;
		now = at;
		done++;
		uint32_t rvm = trc_ld32(p), cpu = trc_ld32(p + 4);
		int vm = rvm < (uint32_t)t->vm_map_cap ? t->vm_map[rvm] : -2;
		if (__builtin_expect(vm == -2, 0) &&
		    (vm = trace_vm(m, t, (int)rvm, t->fb.line0 + (long)i * t->fb.line_step)) < -1) {
			*stop = 1;
			break;
		}
		if (__builtin_expect(cpu >= ncpu, 0)) {
			jv_diag_set(m->d, JV_ERANGE, t->path, t->fb.line0 + (long)i * t->fb.line_step,
				    "cpu: cpu %" PRIu32 " but the scenario has %d CPU(s)", cpu,
				    m->ncpu);
			fail(m, JV_ERANGE);
			*stop = 1;
			break;
		}
		uint64_t *prev = t->prev_ctr[cpu];
		const unsigned char *ctr = p + 16;
		if (__builtin_expect(!t->have_prev[cpu], 0)) {
			t->have_prev[cpu] = 1;
			t->prev_t[cpu] = at;
			for (int k = 0; k < n_ctr; k++)
				prev[k] = trc_ld64(ctr + 8 * k);
			continue;
		}
		if (t->power) {
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
			fast_u64x2 v, pv, sum;
			memcpy(&v, ctr + 8 * k, sizeof v);
			memcpy(&pv, prev + k, sizeof pv);
			memcpy(&sum, c->ctr + k, sizeof sum);
			sum += v - pv;
			memcpy(c->ctr + k, &sum, sizeof sum);
			memcpy(prev + k, &v, sizeof v);
		}
		if (n_ctr & 1) {
			uint64_t v = trc_ld64(ctr + 8 * (n_ctr - 1));
			c->ctr[n_ctr - 1] += v - prev[n_ctr - 1];
			prev[n_ctr - 1] = v;
		}
#else
		uint64_t d[TRC_MAX_COUNTERS];
#pragma GCC unroll 16
		for (int k = 0; k < n_ctr; k++)
			d[k] = trc_ld64(ctr + 8 * k) - prev[k];
#pragma GCC unroll 16
		for (int k = 0; k < n_ctr; k++)
			prev[k] = trc_ld64(ctr + 8 * k);
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
		return fast_run(m, t, N, i, now_ns, lim, ran, stop);

/* fast_run() with the trace's counter count as a constant. */
static size_t trace_fast_run(struct machine *m, struct mtrace *t, size_t i, int64_t *now_ns,
			     int64_t lim, uint64_t *ran, int *stop)
{
	switch (t->n_ctr) {
	FAST_RUN_CASE(1) FAST_RUN_CASE(2) FAST_RUN_CASE(3) FAST_RUN_CASE(4)
	FAST_RUN_CASE(5) FAST_RUN_CASE(6) FAST_RUN_CASE(7) FAST_RUN_CASE(8)
	FAST_RUN_CASE(9) FAST_RUN_CASE(10) FAST_RUN_CASE(11) FAST_RUN_CASE(12)
	FAST_RUN_CASE(13) FAST_RUN_CASE(14) FAST_RUN_CASE(15)
	default:
		return fast_run(m, t, TRC_MAX_COUNTERS, i, now_ns, lim, ran, stop);
	}
}

/* A fast trace's event: its pending record is due now; it and every
 * following record due strictly before the next queued event (and not
 * after the run's end) are added to their cells. */
void trace_fast_event(struct machine *m, struct mtrace *t)
{
	int64_t now = m->q.now_ns;
	int64_t lim = m->q.stop ? now : m->q.n ? m->q.heap[0]->t_ns : INT64_MAX;
	if (lim > m->end_ns)
		lim = m->end_ns + 1;
	uint64_t ran = 0;
	int stop = 0;
	for (;;) {
		t->fi = trace_fast_run(m, t, t->fi, &now, lim, &ran, &stop);
		if (stop || t->fi < t->fb.n)
			break;
		if (trace_fast_fetch(m, t) <= 0) {
			stop = 1;
			break;
		}
	}
	m->q.now_ns = now;
	m->st.trace_records += ran;
	m->st.events += ran ? ran - 1 : 0; /* each counts as the event it would have been */
	if (!stop)
		trace_fast_schedule(m, t);
	if (!t->deferred)
		trace_flush(m, t);
}

