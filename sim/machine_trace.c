/*
 * machine_trace: trace replay record by record (theory of operation).
 *
 * Per-VM pmc-interval and blk traces and a [cpu] pmc_log, streamed one
 * record ahead: in `accounting` mode each record is charged as recorded
 * (mach_trace_cpu_account, trace_blki_account), in `open`/`closed` mode it is
 * submitted into the simulated machine. A pmc_log in accounting mode goes
 * the fast way instead (sim/machine_fast.c) unless that is not possible.
 *
 * The model: the theory of operation in sim/machine.c; the other files
 * of the machine: sim/machine_int.h.
 */
#include "sim/machine_int.h"

/* ---------------------------------------------------------------------- */
/* trace replay                                                            */

int mach_trace_vm(struct machine *m, struct mtrace *t, int rvm, long line)
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
	struct work *w = mach_work_get(m);
	if (!w) {
		fail(m, JV_ENOMEM);
		return;
	}
	for (int k = 0; k < m->s->cpu.n_counters; k++)
		w->own_rates[k] = adv[k] / ((double)run_ns * 1e-9);
	w->rates = w->own_rates;
	w->remaining_ns = run_ns;
	w->done = mach_work_put;
	mach_vcpu_add_work(m, &v->vcpu, w);
}

/* Charge counter advances adv (scenario counters) over span_ns on cpu to
 * vm (-1: the hypervisor), busy_ns of it running: the energy (*idle_j,
 * *active_j), the idle split's weights, the VM's CPU time, its active
 * energy; mach_trace_cpu_meter() then books the CPU's meter and idle pot. All
 * linear in adv, span and busy, so the fast replay charges sums of
 * records with them (and one meter and idle call per CPU for its cells). */
void mach_trace_cpu_charge(struct machine *m, int cpu, int vm, int64_t span_ns,
		      const double *adv, int64_t busy_ns, double *idle_j, double *active_j)
{
	energy_period(&m->model_acct, span_ns, adv, idle_j, active_j);
	if (vm >= 0) {
		if (!m->acct_split_guests)
			idle_split_add_use(m->cpu[cpu].split_acct, vm, busy_ns, *active_j);
		m->vm[vm].st.cpu_ns += busy_ns;
	}
	mach_acct_cpu_charge(m, cpu, vm, LEDGER_ACTIVE, *active_j);
}

void mach_trace_cpu_meter(struct machine *m, int cpu, double idle_j, double active_j)
{
	ledger_meter(m->acct, dev_cpu(cpu), idle_j + active_j);
	mach_acct_cpu_idle(m, &m->cpu[cpu], idle_j);
}

/* Accounting-mode CPU record: charge the advances to the VM as recorded. */
void mach_trace_cpu_account(struct machine *m, struct mtrace *t, int cpu, int vm,
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
	mach_trace_cpu_charge(m, cpu, vm, span_ns, adv, busy, &idle_j, &active_j);
	mach_trace_cpu_meter(m, cpu, idle_j, active_j);
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
	mach_driver_account(m, dk, r->vm, r->size_b, r->latency_ns, m->q.now_ns, r);
	mach_req_put(m, r);
}

void mach_trace_closed_submit(struct machine *m, struct mtrace *t)
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
	int vm = mach_trace_vm(m, t, b->vm, rec->line);
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
 * mach_trace_event). */
static int trace_record(struct machine *m, struct mtrace *t)
{
	int64_t now = m->q.now_ns;
	struct trc_record *rec = &t->rec;
	m->st.trace_records++;
	if (rec->kind == TRC_PMC) {
		struct trc_pmc *p = &rec->u.pmc;
		int vm = mach_trace_vm(m, t, p->vm, rec->line);
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
				mach_trace_cpu_account(m, t, cpu, vm, span, delta, 1);
			else
				trace_cpu_work(m, t, vm, span, delta);
		}
		t->have_prev[cpu] = 1;
		t->prev_t[cpu] = p->t_ns;
		memcpy(t->prev_ctr[cpu], p->ctr, sizeof p->ctr);
	} else if (rec->kind == TRC_PMC_INTERVAL) {
		struct trc_pmc_interval *p = &rec->u.pmci;
		int vm = mach_trace_vm(m, t, p->vm, rec->line);
		if (vm < 0)
			return 0;
		int cpu = m->vm[vm].vcpu.cpu;
		/* the interval of this VM: since its previous record (0 at first) */
		int64_t span = p->t_ns - m->vm[vm].pmci_prev_ns;
		m->vm[vm].pmci_prev_ns = p->t_ns;
		if (t->mode == SCN_REPLAY_ACCOUNTING)
			mach_trace_cpu_account(m, t, cpu, vm, span, p->delta, 0);
		else
			trace_cpu_work(m, t, vm, span, p->delta);
	} else if (rec->kind == TRC_BLK_INTERVAL) {
		trace_blki_account(m, t, rec);
	} else if (rec->kind == TRC_BLK) {
		struct trc_blk *b = &rec->u.blk;
		int vm = mach_trace_vm(m, t, b->vm, rec->line);
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
		struct mreq *r = mach_req_get(m);
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
			mach_request_submit(m, r);
		}
	}
	int64_t cur_t = rec->kind == TRC_PMC ? rec->u.pmc.t_ns
		: rec->kind == TRC_PMC_INTERVAL ? rec->u.pmci.t_ns
		: rec->kind == TRC_BLK ? rec->u.blk.t_ns : rec->u.blki.t_ns;
	int64_t cur_end = rec->kind == TRC_BLK && rec->u.blk.latency_ns >= 0
		? cur_t + rec->u.blk.latency_ns : cur_t;
	int rc = mach_trace_read_ahead(m, t, 1);
	if (rc <= 0)
		return 0;
	if (t->mode == SCN_REPLAY_CLOSED && t->rec.kind == TRC_BLK) {
		/* keep the recorded think time: gap after the previous completion */
		int64_t think = t->rec.u.blk.t_ns - cur_end;
		t->rec.u.blk.latency_ns = think > 0 ? think : 0;
		return 0; /* submitted by mach_client_next after the completion */
	}
	(void)cur_t;
	return rc == 2;
}

/* A trace record's event. The next record, when it is due before every
 * queued event, runs at once in this loop: the queue would have popped it
 * next anyway (its key would be the smallest), so the order of events is
 * unchanged and the queue's push and pop are saved per record. */
void mach_trace_event(struct evq *q, struct evq_event *ev, void *arg)
{
	struct machine *m = arg;
	struct mtrace *t = (struct mtrace *)((char *)ev - offsetof(struct mtrace, ev));
	(void)q;
	if (t->fast) {
		mach_trace_fast_event(m, t);
		return;
	}
	while (trace_record(m, t))
		m->st.events++; /* it counts as the event it would have been */
}

/* Read the next record and schedule it (open/accounting). Returns 1 if a
 * record is pending, 0 at EOF, < 0 on error. With run_now (from the
 * record's own event), a record due strictly before every queued event,
 * with the run going on, is not queued: the clock moves to it and 2 is
 * returned for the caller to run it at once, exactly when the queue would
 * have. */
int mach_trace_read_ahead(struct machine *m, struct mtrace *t, int run_now)
{
	if (!run_now && mach_trace_fast_setup(m, t))
		return mach_trace_fast_ahead(m, t);
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

