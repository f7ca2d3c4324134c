/*
 * sched: CPU schedulers behind an ops table (Linux sched_class style).
 *
 * The machine keeps one run queue per physical CPU holding the runnable
 * vCPUs that are not running. On every decision point it asks the class
 * for the next vCPU (pick_next removes it), reports how long the previous
 * one ran (charge) and puts a still-runnable one back (enqueue).
 * The idle (halting) vCPU is not on the run queue: a CPU with an empty
 * queue halts. Classes: `rr` (round-robin, quantum-based; the default
 * until the stride scheduler lands).
 */
#ifndef JV_SCHED_H
#define JV_SCHED_H

#include <stdint.h>

struct sched_entity {
	struct sched_entity *next; /* run-queue link */
	int id;                    /* vCPU index (owner's) */
	uint32_t tickets;
	int on_rq;
};

struct sched_rq {
	const struct sched_ops *ops;
	struct sched_entity *head, *tail;
	int n;
};

struct sched_ops {
	const char *name;
	const char *help;
	void (*init)(struct sched_rq *rq);
	void (*enqueue)(struct sched_rq *rq, struct sched_entity *se);
	struct sched_entity *(*pick_next)(struct sched_rq *rq);
	void (*charge)(struct sched_rq *rq, struct sched_entity *se, int64_t ran_ns);
};

extern const struct sched_ops sched_rr;
extern const struct sched_ops *const sched_classes[]; /* NULL-terminated */
const struct sched_ops *sched_lookup(const char *name);

#endif
