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

struct stride_grp;       /* models/stride.h */
struct stride_grp_block;

struct sched_entity {
	struct sched_entity *next; /* run-queue link (rr FIFO; stride: its pass group) */
	int id;                    /* vCPU index (owner's, distinct on a run queue); -1 idle */
	uint32_t tickets;
	int on_rq;
	/* stride scheduling (models/stride.c); ignored by rr */
	int sleeping;              /* left the run queue without using its turn */
	uint64_t stride;           /* SCHED_STRIDE1 / tickets, adjustable by the manager */
	uint64_t pass;             /* virtual time of the entity */
	uint64_t pass_rem;         /* charge remainder, in 1/quantum_ns of a pass unit */
	struct sched_entity *prev; /* previous member of its pass group (while queued) */
	struct stride_grp *grp;    /* its pass group (while queued) */
};

/* Fixed-point stride scale: stride = SCHED_STRIDE1 / tickets. */
#define SCHED_STRIDE1 (1ULL << 32)
#define SCHED_MAX_ENTITIES 4096

struct sched_rq {
	const struct sched_ops *ops;
	struct sched_entity *head, *tail; /* rr FIFO */
	int n;
	/* stride (models/stride.h): queued entities in pass groups */
	struct stride_grp **heap;         /* min-heap of the live groups by (pass, first id) */
	uint32_t heap_n;                  /* live groups */
	uint32_t grp_total;               /* groups allocated (live + free), heap capacity */
	struct stride_grp *grp_free;      /* free groups */
	struct stride_grp_block *grp_blocks; /* the allocations, freed by destroy */
	struct stride_grp *hint;          /* the group the last insertion went to */
	int root_unique;                  /* no other group has the root group's pass */
	uint64_t global_pass;             /* pass of the run queue (virtual time) */
	int64_t quantum_ns;               /* pass advances stride per quantum of CPU */
};

struct sched_ops {
	const char *name;
	const char *help;
	/* Prepare an empty run queue; returns 0 or JV_ENOMEM. */
	int (*init)(struct sched_rq *rq, int64_t quantum_ns);
	void (*destroy)(struct sched_rq *rq);
	/* Set up an entity with its tickets (stride = SCHED_STRIDE1 / tickets). */
	void (*entity_init)(struct sched_rq *rq, struct sched_entity *se, uint32_t tickets);
	/* Make se runnable. If se->sleeping (it blocked since it last ran or
	 * was picked), it rejoins without banked credit. Returns 0 or JV_ENOMEM. */
	int (*enqueue)(struct sched_rq *rq, struct sched_entity *se);
	/* Remove se from the run queue if it is on it (e.g. it blocked). */
	void (*dequeue)(struct sched_rq *rq, struct sched_entity *se);
	/* Remove and return the next entity to run, NULL if empty. */
	struct sched_entity *(*pick_next)(struct sched_rq *rq);
	/* se ran for ran_ns (of at most one quantum): advance its pass. */
	void (*charge)(struct sched_rq *rq, struct sched_entity *se, int64_t ran_ns);
	/* The manager changed se->stride (takes effect from the next charge). */
	void (*stride_changed)(struct sched_rq *rq, struct sched_entity *se);
	/* The running se (not on the queue) ran ran_ns and stays runnable:
	 * exactly charge(se, ran_ns), enqueue(se), pick_next() in one step (the
	 * machine's every quantum end); returns the entity picked, se itself
	 * when it runs on. Never allocates, never fails. */
	struct sched_entity *(*requeue_pick)(struct sched_rq *rq, struct sched_entity *se,
					     int64_t ran_ns);
};

extern const struct sched_ops sched_rr;
extern const struct sched_ops sched_stride;
extern const struct sched_ops *const sched_classes[]; /* NULL-terminated */
const struct sched_ops *sched_lookup(const char *name);

#endif
