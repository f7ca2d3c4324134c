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

#include <stddef.h>
#include <string.h>

static void rr_init(struct sched_rq *rq)
{
	rq->head = rq->tail = NULL;
	rq->n = 0;
}

static void rr_enqueue(struct sched_rq *rq, struct sched_entity *se)
{
	se->next = NULL;
	se->on_rq = 1;
	if (rq->tail)
		rq->tail->next = se;
	else
		rq->head = se;
	rq->tail = se;
	rq->n++;
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

const struct sched_ops sched_rr = {
	.name = "rr",
	.help = "round-robin with a fixed quantum",
	.init = rr_init,
	.enqueue = rr_enqueue,
	.pick_next = rr_pick_next,
	.charge = rr_charge,
};

const struct sched_ops *const sched_classes[] = {&sched_rr, NULL};

const struct sched_ops *sched_lookup(const char *name)
{
	for (int i = 0; sched_classes[i]; i++)
		if (strcmp(sched_classes[i]->name, name) == 0)
			return sched_classes[i];
	return NULL;
}
