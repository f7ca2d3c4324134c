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
 *    (mach_trace_fast_event in sim/machine_fast.c).
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
#include "sim/machine_int.h"

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
	evq_event_init(&t->ev, mach_trace_event, m);
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
		evq_event_init(&c->ev, mach_cpu_event, m);
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
		evq_event_init(&v->start_ev, mach_vm_start_event, m);
		evq_event_init(&v->stop_ev, mach_vm_stop_event, m);
		evq_event_init(&v->bg_ev, mach_bg_event, m);
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
		evq_event_init(&dk->ev, mach_disk_event, m);
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
			if (!mach_cont_is_disk(ct))
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
			evq_event_init(&v->gm_ev, mach_guest_period_event, m);
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
			rc = mach_trace_read_ahead(m, &m->tr[i], 0);
			if (rc < 0)
				return rc;
			if (rc > 0 && m->tr[i].mode == SCN_REPLAY_CLOSED &&
			    m->tr[i].rec.kind == TRC_BLK) {
				if (evq_schedule(&m->q, &m->tr[i].ev, m->tr[i].rec.u.blk.t_ns < m->end_ns
						 ? m->tr[i].rec.u.blk.t_ns : m->end_ns))
					return JV_ENOMEM;
			}
		}
	evq_event_init(&m->read_ev, mach_read_event, m);
	evq_event_init(&m->tick_ev, mach_tick_event, m);
	evq_event_init(&m->snap_ev, mach_snap_event, m);
	evq_event_init(&m->snap_now_ev, mach_snap_now_event, m);
	evq_event_init(&m->cpu_mgr_ev, mach_cpu_manager_event, m);
	evq_event_init(&m->disk_mgr_ev, mach_disk_manager_event, m);
	evq_event_init(&m->shape_ev, mach_shape_event, m);
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
	mach_trace_flush_all(m);
	if (m->interrupted && !(m->flags & MACHINE_PROBE))
		m->end_ns = m->q.now_ns; /* what is complete is kept */
	if (!m->err && m->end_ns > m->last_snap_ns)
		mach_snapshot(m, m->end_ns);
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
