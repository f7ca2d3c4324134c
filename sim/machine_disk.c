/*
 * machine_disk: disks, the driver VM and the disk-stress clients (theory of operation).
 *
 * A request's way through the host: a client submits it to its driver VM
 * (through the driver's shaper ring), the driver's vCPU does its work, the
 * disk serves its FIFO, and at completion the driver accounts the request
 * (mach_driver_account) and replies; the disk-stress client's closed loop of
 * queue_depth request slots with think time.
 *
 * The model: the theory of operation in sim/machine.c; the other files
 * of the machine: sim/machine_int.h.
 */
#include "sim/machine_int.h"

/* ---------------------------------------------------------------------- */
/* disks and the driver                                                    */

static void disk_start_next(struct machine *m, struct mdisk *dk);

void mach_disk_power_to(struct machine *m, struct mdisk *dk, int64_t now)
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
void mach_disk_truth_busy(struct machine *m, struct mdisk *dk, int64_t now)
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
void mach_driver_account(struct machine *m, struct mdisk *dk, struct mvm *cl,
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

void mach_disk_event(struct evq *q, struct evq_event *ev, void *arg)
{
	struct machine *m = arg;
	struct mdisk *dk = (struct mdisk *)((char *)ev - offsetof(struct mdisk, ev));
	int64_t now = q->now_ns;
	struct mreq *r = dk->busy;
	mach_disk_truth_busy(m, dk, now);
	mach_disk_power_to(m, dk, now);
	dk->busy = NULL;
	mach_driver_account(m, dk, r->vm, r->size_b, now - r->start_ns, now, r);
	disk_start_next(m, dk);
	mach_client_next(m, r);
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
	mach_disk_power_to(m, dk, now);
	dk->busy = r;
	r->start_ns = now;
	r->acc_from_ns = now;
	int64_t svc = disk_service_ns(&dk->svc, r->size_b, r->op);
	if (evq_schedule(&m->q, &dk->ev, now + svc))
		fail(m, JV_ENOMEM);
}

/* A client hands a request to its driver VM; the shaper lets it through
 * now or keeps it in the client's ring until a later budget. */
void mach_request_submit(struct machine *m, struct mreq *r)
{
	struct mvm *drv = r->vm->driver;
	r->submit_ns = m->q.now_ns;
	if (shaper_submit(&drv->shaper, r->vm->client_slot, &r->sh))
		mach_request_process(m, r);
}

void mach_shaper_release(void *ctx, int client, struct shaper_item *it)
{
	(void)client;
	mach_request_process(ctx, (struct mreq *)((char *)it - offsetof(struct mreq, sh)));
}

/* The driver works on a request: its CPU work, then the disk. */
void mach_request_process(struct machine *m, struct mreq *r)
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
	mach_vcpu_add_work(m, &drv->vcpu, w);
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
	mach_request_submit(m, r);
}

void mach_client_issue(struct machine *m, struct mreq *r)
{
	struct mvm *v = r->vm;
	if (r->cont) {
		mach_cont_issue(m, r);
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
	mach_vcpu_add_work(m, &v->vcpu, w);
}

static void think_event(struct evq *q, struct evq_event *ev, void *arg)
{
	struct machine *m = arg;
	struct mreq *r = (struct mreq *)((char *)ev - offsetof(struct mreq, ev));
	(void)q;
	mach_client_issue(m, r);
}

/* After a completion: the next step of whoever issued the request. */
void mach_client_next(struct machine *m, struct mreq *r)
{
	if (r->from_trace) {
		struct mtrace *t = r->trace;
		mach_req_put(m, r);
		if (t && t->mode == SCN_REPLAY_CLOSED)
			mach_trace_closed_submit(m, t);
		return;
	}
	int64_t think = r->vm->cfg->think_ns;
	if (r->cont) { /* the reply's cost goes to the container that issued it */
		mach_cont_reply(m, r);
		think = r->cont->cfg->think_ns;
	}
	if (think > 0) {
		evq_event_init(&r->ev, think_event, m);
		if (evq_schedule(&m->q, &r->ev, m->q.now_ns + think))
			fail(m, JV_ENOMEM);
		return;
	}
	mach_client_issue(m, r);
}

