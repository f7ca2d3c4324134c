/*
 * stride: the run queue's pass groups (models/stride.c has the theory of
 * operation). The class itself is reached through sched_stride
 * (models/sched.h); this header shows the queue's layout to its tests.
 *
 * The queued entities are kept in groups: every member of a group has the
 * group's pass, members are linked (sched_entity next/prev) in increasing
 * (unsigned) id order. The live groups form a binary min-heap
 * (sched_rq heap, heap_n) ordered by (pass, id of the first member); two
 * groups may share a pass (their members then interleave by id, and the
 * heap key keeps the order exact). Groups are allocated in blocks on
 * enqueue and recycled through sched_rq grp_free; destroy frees the blocks.
 */
#ifndef JV_STRIDE_H
#define JV_STRIDE_H

#include <stdint.h>

#include "models/sched.h"

struct stride_grp {
	uint64_t pass;               /* the pass of every member */
	struct sched_entity *head;   /* first member (smallest unsigned id) */
	struct sched_entity *tail;   /* last member (largest unsigned id) */
	uint32_t hid;                /* (unsigned) head->id: the heap key with pass */
	uint32_t heap_idx;           /* position in sched_rq heap */
	struct stride_grp *next_free; /* free list link while not live */
};

struct stride_grp_block {
	struct stride_grp_block *next;
	uint32_t n;                  /* groups in g[] */
	struct stride_grp g[];
};

#endif
