/*
 * machine_ctl: periodic events: log reads, idle ticks, managers, snapshots (theory of operation).
 *
 * What runs on a timer: the energy manager's log reads ([cpu]
 * read_period), the disk idle tick (driver idle energy over the clients),
 * the idle split flushes, the host-level energy manager (CPU and disk
 * limits) and the shaper's period, and the snapshot at every [output]
 * interval with its conservation check.
 *
 * The model: the theory of operation in sim/machine.c; the other files
 * of the machine: sim/machine_int.h.
 */
#include "sim/machine_int.h"

/* ---------------------------------------------------------------------- */
/* periodic: manager log reads, idle ticks, snapshots                      */

void mach_read_event(struct evq *q, struct evq_event *ev, void *arg)
{
	struct machine *m = arg;
	(void)ev;
	if (check_interrupt(m))
		return;
	if (m->cpu_replayed)
		return;
	for (int i = 0; i < m->ncpu; i++)
		mach_cpu_record(m, &m->cpu[i], q->now_ns);
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
			mach_truth_cpu_charge(x->m, x->cpu, who, LEDGER_IDLE, j);
		else
			mach_acct_cpu_charge(x->m, x->cpu, who, LEDGER_IDLE, j);
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
		mach_cont_idle_share(x->m, v, x->dev, x->l == x->m->truth, j);
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

void mach_tick_event(struct evq *q, struct evq_event *ev, void *arg)
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

void mach_cpu_manager_event(struct evq *q, struct evq_event *ev, void *arg)
{
	struct machine *m = arg;
	const struct scn_manager *mg = &m->s->manager;
	int64_t now = q->now_ns;
	(void)ev;
	/* the log is read first, so the last period is fully accounted */
	if (!m->cpu_replayed)
		for (int i = 0; i < m->ncpu; i++)
			mach_cpu_record(m, &m->cpu[i], now);
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
				mach_rq_enqueue(m, c, &c->idle_se);
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

void mach_disk_manager_event(struct evq *q, struct evq_event *ev, void *arg)
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

void mach_shape_event(struct evq *q, struct evq_event *ev, void *arg)
{
	struct machine *m = arg;
	(void)q;
	(void)ev;
	for (int i = 0; i < m->nvm; i++)
		if (m->vm[i].is_driver)
			shaper_refresh(&m->vm[i].shaper, mach_shaper_release, m);
}

static int emit_power(void *ctx, int64_t t, int dev, double w)
{
	struct machine *m = ctx;
	return m->sink.power_row(m->sink.ctx, t, dev, w);
}

void mach_snapshot(struct machine *m, int64_t now)
{
	int64_t span = now - m->last_snap_ns;
	mach_trace_flush_all(m); /* the fast replay's sums (mach_trace_fast_event) */
	/* 1. CPUs: log and account up to now */
	if (!m->cpu_replayed)
		for (int i = 0; i < m->ncpu; i++)
			mach_cpu_record(m, &m->cpu[i], now);
	else if (m->sink.power_row)
		for (int i = 0; i < m->ncpu; i++)
			power_sampler_add(m->power, dev_cpu(i), now, now, 0.0);
	/* 2. disks */
	for (int i = 0; i < m->ndisk; i++) {
		struct mdisk *dk = &m->disk[i];
		int ddev = dev_disk(m, i);
		mach_disk_truth_busy(m, dk, now);
		mach_disk_power_to(m, dk, now);
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
void mach_snap_now_event(struct evq *q, struct evq_event *ev, void *arg)
{
	struct machine *m = arg;
	(void)ev;
	if (q->now_ns > m->last_snap_ns && q->now_ns < m->end_ns)
		mach_snapshot(m, q->now_ns);
	check_interrupt(m);
}

void mach_snap_event(struct evq *q, struct evq_event *ev, void *arg)
{
	struct machine *m = arg;
	(void)ev;
	if (evq_schedule(q, &m->snap_now_ev, q->now_ns))
		fail(m, JV_ENOMEM);
}

