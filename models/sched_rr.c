/*
 * sched_rr: theory of operation.
 *
 * Problem: time-share a CPU among runnable vCPUs without priorities.
 *
 * Model: a FIFO run queue. A vCPU runs until its quantum ([cpu] quantum,
 * default 10 ms, L4's timeslice) expires or it blocks; a vCPU whose
 * quantum expired while still runnable goes to the tail. A vCPU that wakes
 * joins the tail and waits for the running one's quantum (no preemption on
 * wake-up). Work-conserving: the CPU halts only when the queue is empty.
 *
 * Worked example: two always-runnable vCPUs with 10 ms quanta alternate
 * every 10 ms and each gets 50% of the CPU.
 *
 * Limits: no shares; the stride scheduler (models/stride.c) adds them.
 */
#include "models/sched.h"

#include <assert.h>
#include <stddef.h>
#include <string.h>

static int rr_init(struct sched_rq *rq, int64_t quantum_ns)
{
	rq->head = rq->tail = NULL;
	rq->n = 0;
	rq->quantum_ns = quantum_ns;
	return 0;
}

static void rr_destroy(struct sched_rq *rq) { (void)rq; }

static void rr_entity_init(struct sched_rq *rq, struct sched_entity *se, uint32_t tickets)
{
	(void)rq;
	se->tickets = tickets;
	se->stride = tickets ? SCHED_STRIDE1 / tickets : SCHED_STRIDE1;
	se->pass = 0;
	se->on_rq = 0;
	se->sleeping = 0;
	se->next = NULL;
}

static void rr_dequeue(struct sched_rq *rq, struct sched_entity *se)
{
	if (!se->on_rq)
		return;
	struct sched_entity **pp = &rq->head, *prev = NULL;
	while (*pp && *pp != se) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	if (!*pp)
		return;
	*pp = se->next;
	if (rq->tail == se)
		rq->tail = prev;
	se->next = NULL;
	se->on_rq = 0;
	rq->n--;
}

static void rr_stride_changed(struct sched_rq *rq, struct sched_entity *se)
{
	(void)rq;
	(void)se;
}

static int rr_enqueue(struct sched_rq *rq, struct sched_entity *se)
{
	assert(!se->on_rq);
	se->next = NULL;
	se->on_rq = 1;
	if (rq->tail)
		rq->tail->next = se;
	else
		rq->head = se;
	rq->tail = se;
	rq->n++;
	se->sleeping = 0;
	return 0;
}

static struct sched_entity *rr_pick_next(struct sched_rq *rq)
{
	struct sched_entity *se = rq->head;
	if (!se)
		return NULL;
	rq->head = se->next;
	if (!rq->head)
		rq->tail = NULL;
	se->next = NULL;
	se->on_rq = 0;
	rq->n--;
	return se;
}

static void rr_charge(struct sched_rq *rq, struct sched_entity *se, int64_t ran_ns)
{
	(void)rq;
	(void)se;
	(void)ran_ns;
}

/* enqueue at the tail and pick the head: se runs on when it is alone */
static struct sched_entity *rr_requeue_pick(struct sched_rq *rq, struct sched_entity *se,
					    int64_t ran_ns)
{
	(void)ran_ns;
	if (!rq->head) {
		se->sleeping = 0;
		return se;
	}
	rr_enqueue(rq, se);
	return rr_pick_next(rq);
}

const struct sched_ops sched_rr = {
	.name = "rr",
	.help = "round-robin with a fixed quantum",
	.init = rr_init,
	.destroy = rr_destroy,
	.entity_init = rr_entity_init,
	.enqueue = rr_enqueue,
	.dequeue = rr_dequeue,
	.pick_next = rr_pick_next,
	.charge = rr_charge,
	.stride_changed = rr_stride_changed,
	.requeue_pick = rr_requeue_pick,
};

const struct sched_ops *const sched_classes[] = {&sched_rr, &sched_stride, NULL};

const struct sched_ops *sched_lookup(const char *name)
{
	for (int i = 0; sched_classes[i]; i++)
		if (strcmp(sched_classes[i]->name, name) == 0)
			return sched_classes[i];
	return NULL;
}
