/*
 * machine_guest: energy-aware guests, VM start/stop and background work (theory of operation).
 *
 * The guest's scheduler for resource containers (paper §3.4): slices on
 * the guest's vCPU charged from virtual PMCs, a disk-stress container's
 * requests through the guest's virtual disk and its replies' costs, the
 * guest's idle shares over its containers, the guest energy manager's
 * period; the VMs' start and stop events and the driver's background work.
 *
 * The model: the theory of operation in sim/machine.c; the other files
 * of the machine: sim/machine_int.h.
 */
#include "sim/machine_int.h"

/* ---------------------------------------------------------------------- */
/* energy-aware guests: resource containers on the guest's vCPU            */

static void guest_schedule(struct machine *m, struct mvm *v);

/* The guest's virtual PMCs now (logged periods plus the live advance). */
static void guest_vpmc(struct machine *m, struct mvm *v, double *out)
{
	struct mcpu *c = &m->cpu[v->vcpu.cpu];
	const double *live = NULL;
	if (c->cur == &v->vcpu) {
		mach_cpu_advance(m, c, m->q.now_ns);
		live = c->pend;
	}
	vpmc_read(&m->vpmc, v->idx, live, out);
}

int mach_cont_is_disk(const struct mcont *ct)
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
	if (mach_cont_is_disk(ct) && r) {
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
	mach_vcpu_add_work(m, &v->vcpu, &v->slice);
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
		if (!mach_cont_is_disk(ct) || !ct->cpu_qh || cont_throttled(v, i))
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
	if (mach_cont_is_disk(&v->cont[v->cur_cont]))
		return; /* the guest picks the waiting work after this slice */
	struct work *w = &v->slice;
	struct mcpu *c = &m->cpu[v->vcpu.cpu];
	int running = c->cur == &v->vcpu && v->vcpu.head == w;
	if (running)
		mach_cpu_advance(m, c, m->q.now_ns);
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
void mach_cont_issue(struct machine *m, struct mreq *r)
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
	mach_request_submit(m, r);
}

/* The true active energy of the driver's work for a request of size_b:
 * the work mach_request_process queues, at the true weights. */
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
void mach_cont_reply(struct machine *m, struct mreq *r)
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
void mach_cont_idle_share(struct machine *m, struct mvm *v, int dev, int view, double j)
{
	if (v->n_cont == 0 || !v->driver)
		return;
	int path = dev == dev_disk(m, v->cfg->disk) ? 1 : 0;
	double sum = 0.0;
	int n_disk = 0, last = -1;
	for (int i = 0; i < v->n_cont; i++) {
		sum += v->cont[i].idle_w8[view][path];
		n_disk += mach_cont_is_disk(&v->cont[i]);
	}
	for (int i = 0; i < v->n_cont; i++)
		if (sum > 0 ? v->cont[i].idle_w8[view][path] > 0
			    : !n_disk || mach_cont_is_disk(&v->cont[i]))
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
			part = !n_disk ? j / v->n_cont : mach_cont_is_disk(ct) ? j / n_disk : 0.0;
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
void mach_guest_period_event(struct evq *q, struct evq_event *ev, void *arg)
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
			mach_cont_issue(m, r);
			r = next;
		}
	}
	guest_schedule(m, v);
}

void mach_vm_start_event(struct evq *q, struct evq_event *ev, void *arg)
{
	struct machine *m = arg;
	struct mvm *v = (struct mvm *)((char *)ev - offsetof(struct mvm, start_ev));
	(void)q;
	if (v->cfg->workload == SCN_WL_CPU_HOG) {
		v->hog.remaining_ns = WORK_FOREVER;
		v->hog.rates = v->cfg->events.per_s;
		v->hog.client = -1;
		mach_vcpu_add_work(m, &v->vcpu, &v->hog);
	} else if (v->cfg->workload == SCN_WL_DISK_STRESS) {
		for (int i = 0; i < v->cfg->queue_depth; i++)
			mach_client_issue(m, &v->reqs[i]);
	} else if (v->n_cont > 0) {
		for (int i = 0; i < v->n_cont; i++)
			if (mach_cont_is_disk(&v->cont[i]))
				for (int k = 0; k < v->cont[i].cfg->queue_depth; k++)
					mach_cont_issue(m, &v->cont[i].reqs[k]);
		guest_schedule(m, v);
	}
}

void mach_vm_stop_event(struct evq *q, struct evq_event *ev, void *arg)
{
	struct machine *m = arg;
	struct mvm *v = (struct mvm *)((char *)ev - offsetof(struct mvm, stop_ev));
	(void)q;
	v->stopped = 1;
	if (v->cfg->workload == SCN_WL_CPU_HOG)
		mach_work_cancel(m, &v->vcpu, &v->hog);
	/* a container slice in flight ends normally; no new one starts */
}

/* Driver background: bg_duty of every bg_period, as one work item. */
static void bg_done(struct machine *m, struct work *w) { (void)m; (void)w; }

void mach_bg_event(struct evq *q, struct evq_event *ev, void *arg)
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
			mach_vcpu_add_work(m, &v->vcpu, w);
			return;
		}
	}
}

