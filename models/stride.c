/*
 * stride: theory of operation.
 *
 * Problem: share one physical CPU among the vCPUs pinned to it in
 * proportion to their tickets, deterministically, without letting a vCPU
 * that was blocked bank credit, and let the host energy manager make CPU
 * limits binding (paper §3.3.4): a per-CPU idle vCPU that halts for all the
 * time it gets starts with a minuscule share, and the manager lowers the
 * VMs' shares by adding a constant offset to their strides, so the idle
 * vCPU receives the rest.
 *
 * Model: Waldspurger & Weihl stride scheduling. An entity has
 *   tickets  its share, in [1, 1e6] (scenario default 100; 0 is taken as 1),
 *   stride   SCHED_STRIDE1 / tickets (SCHED_STRIDE1 = 2^32), which the
 *            manager may later change directly (then calls stride_changed),
 *   pass     its virtual time: it advances by stride for every quantum of
 *            CPU the entity used, pro rata for partial quanta.
 * The run queue holds the runnable entities that are not running in a
 * binary min-heap ordered by (pass, id); pick_next removes the minimum, so
 * the entity furthest behind in virtual time runs next. Ties go to the
 * smaller id; the idle vCPU (id -1, any negative id) sorts after every
 * real vCPU, so it only gets what nobody else claims at equal pass.
 *
 * Charging: charge(se, ran_ns) adds stride * ran_ns / quantum_ns to pass,
 * computed with a 128-bit product; the remainder of the division is kept in
 * se->pass_rem (units of 1/quantum_ns of a pass unit) and added to the next
 * charge, so the sum of many short runs advances pass exactly as one long
 * run would (a vCPU running 1 us bursts under a 10 ms quantum with stride
 * 4294 would otherwise advance by 0 and run for free).
 *
 * Virtual time of the queue (rq->global_pass): non-decreasing; raised to
 * the pass of every entity dispatched by pick_next (the heap minimum), and
 * after each charge to min(pass of the charged entity, heap minimum). With
 * the machine's order (charge, re-enqueue, pick) it is the minimum pass of
 * the runnable and running entities, i.e. the virtual time of the most
 * lagging competitor (CFS's min_vruntime).
 *
 * Work conservation without banked credit: an entity with nothing to run
 * leaves the queue (the machine sets se->sleeping when the running vCPU
 * blocks; dequeue of a queued entity sets it too). enqueue with sleeping
 * set lifts pass to max(pass, global_pass) and clears sleeping: time spent
 * asleep is not owed, while a pass still ahead of the queue (CPU consumed
 * beyond the share) is kept. An entity enqueued after its quantum expired
 * (sleeping == 0) keeps its pass. entity_init sets pass = global_pass and
 * sleeping = 1, so a new vCPU joins at the current virtual time.
 *
 * Stride changes (stride_changed) take effect from the next charge, as the
 * manager's offset is meant to. One exception: if the entity's lead over
 * global_pass exceeds its new (effective) stride, the lead is cut to one new
 * stride, so that lowering a stride that was huge lets the entity run again
 * within about one of its new turns instead of waiting out virtual time
 * charged at the old rate (Waldspurger scales the remaining lead by
 * new/old; capping at one new stride is the same for a lead of one old
 * stride and never later). No pass moves backwards below global_pass.
 *
 * Fixed-point precision: stride = floor(2^32 / tickets). With tickets <=
 * 1e6 the stride is >= 4294 (more than 12 bits); the truncation makes each
 * stride short by less than one unit, i.e. a relative error < 1/stride =
 * tickets / 2^32 <= 2.33e-4, and the realised ratio of two shares,
 * stride_j / stride_i, is off from t_i / t_j by a relative error
 * < 1/stride_i + 1/stride_j = (t_i + t_j) / 2^32 (<= 4.7e-4 at 1e6
 * tickets each; 4.7e-8 at the default 100). Pro-rata charges are exact up
 * to the carried remainder (< 1 pass unit at any time, never lost).
 *
 * Bounds (whole quanta, all entities runnable from equal passes): when i
 * is picked its pass is <= every other pass, so at any time
 * a_i * s_i <= a_j * s_j + s_i for every ordered pair, i.e.
 * a_i - a_j * t_i / t_j <= 1 quantum (no client ever leads another's
 * proportional allocation by more than one of its quanta), and summed over
 * j: -n * t_i / T < a_i - total * t_i / T <= 1 quantum (a_i CPU time of i,
 * T the sum of tickets, n the number of clients).
 *
 * Worked example: tickets 1:2:3:4 (ids 0..3), strides 4294967296,
 * 2147483648, 1431655765, 1073741824, all passes 0. The first ten quanta
 * run ids 0 1 2 3 3 2 1 3 2 3 (after them the passes are 2^32, 2^32,
 * 4294967295, 2^32: id 2 is one unit short because its stride was
 * truncated, a 2.3e-10 relative error) and the allocation is exactly
 * 1:2:3:4; the next ten repeat the pattern starting with id 2.
 *
 * Parameters: quantum_ns ([cpu] quantum, default 10 ms, given to init, > 0);
 * SCHED_STRIDE1 = 2^32; STRIDE_EFF_MAX below.
 *
 * Limits: passes are uint64 and wrap; they are compared by signed
 * difference, valid while every live pass is within 2^63 of global_pass.
 * To keep that, a charge uses min(stride, STRIDE_EFF_MAX = 2^56) (a share
 * 2^-24 of a one-ticket entity; larger strides behave as 2^56; a stride 0
 * behaves as 1) and advances pass by at most PASS_ADVANCE_MAX = 2^58 per
 * charge. An entity that wakes with a lead over global_pass beyond
 * PASS_LEAD_MAX = 2^60 (impossible after a legal charge) is taken as a
 * pass that wrapped while it slept (asleep for more than 2^63 units of
 * virtual time, e.g. > 2^31 quanta at one ticket in all) and joins at
 * global_pass. Cost: O(log n) per enqueue, dequeue, pick and stride change;
 * O(1) per charge when the entity is not queued; at a quantum end the
 * machine's charge + enqueue + pick is one requeue_pick (the running
 * entity runs on, or takes the heap minimum's place at the root with one
 * walk down: O(log n), no allocation). The heap grows by doubling
 * on enqueue (the only allocation) and never shrinks until destroy.
 */
#include "models/sched.h"

#include <stddef.h>
#include <stdlib.h>

#include "base/jv_err.h"

__extension__ typedef unsigned __int128 stride_u128;

#define STRIDE_EFF_MAX (1ULL << 56)   /* largest stride a charge uses */
#define PASS_ADVANCE_MAX (1ULL << 58) /* largest pass advance of one charge */
#define PASS_LEAD_MAX (1ULL << 60)    /* largest legitimate lead over global_pass */
#define HEAP_CAP_MIN 16u              /* first heap allocation, entries */
#define HEAP_IDX_NONE UINT32_MAX      /* heap_idx of an entity not queued */

/* a - b as a signed distance on the pass circle (no implementation-defined
 * conversion). */
static int64_t pass_diff(uint64_t a, uint64_t b)
{
	uint64_t d = a - b;
	if (d <= (uint64_t)INT64_MAX)
		return (int64_t)d;
	return -(int64_t)(~d) - 1;
}

/* a before b on the pass circle: pass_diff(a, b) < 0, without the
 * conversion (a - b wraps to the upper half exactly when it is negative) */
static inline int pass_lt(uint64_t a, uint64_t b)
{
	return a - b > (uint64_t)INT64_MAX;
}

static inline uint64_t pass_max(uint64_t a, uint64_t b)
{
	return pass_lt(a, b) ? b : a;
}

static uint64_t eff_stride(const struct sched_entity *se)
{
	if (se->stride == 0)
		return 1;
	return se->stride > STRIDE_EFF_MAX ? STRIDE_EFF_MAX : se->stride;
}

/* Heap order: (pass, id), negative ids (the idle vCPU) last. */
static inline int se_before(const struct sched_entity *a, const struct sched_entity *b)
{
	if (a->pass != b->pass)
		return pass_lt(a->pass, b->pass);
	return (unsigned)a->id < (unsigned)b->id;
}

static void heap_set(struct sched_rq *rq, uint32_t i, struct sched_entity *se)
{
	rq->heap[i] = se;
	se->heap_idx = i;
}

static void sift_up(struct sched_rq *rq, uint32_t i)
{
	struct sched_entity *se = rq->heap[i];
	while (i > 0) {
		uint32_t parent = (i - 1) / 2;
		if (!se_before(se, rq->heap[parent]))
			break;
		heap_set(rq, i, rq->heap[parent]);
		i = parent;
	}
	heap_set(rq, i, se);
}

static void sift_down(struct sched_rq *rq, uint32_t i)
{
	struct sched_entity *se = rq->heap[i];
	for (;;) {
		uint32_t l = 2 * i + 1, best = i;
		const struct sched_entity *min = se;
		if (l < rq->heap_n && se_before(rq->heap[l], min)) {
			best = l;
			min = rq->heap[l];
		}
		if (l + 1 < rq->heap_n && se_before(rq->heap[l + 1], min))
			best = l + 1;
		if (best == i)
			break;
		heap_set(rq, i, rq->heap[best]);
		i = best;
	}
	heap_set(rq, i, se);
}

/* Replace the root with se (Floyd): the hole at the root walks down to a
 * leaf along the smaller child (one comparison per level), then se sifts
 * up from there. An entity that just used its quantum has the largest
 * pass or nearly, so it belongs near the bottom and rarely moves up. */
static void replace_root(struct sched_rq *rq, struct sched_entity *se)
{
	struct sched_entity **h = rq->heap;
	uint32_t n = rq->heap_n, i = 0;
	for (;;) {
		uint32_t l = 2 * i + 1;
		if (l >= n)
			break;
		if (l + 1 < n && se_before(h[l + 1], h[l]))
			l++;
		heap_set(rq, i, h[l]);
		i = l;
	}
	while (i > 0) {
		uint32_t parent = (i - 1) / 2;
		if (!se_before(se, h[parent]))
			break;
		heap_set(rq, i, h[parent]);
		i = parent;
	}
	heap_set(rq, i, se);
}

/* Restore the heap after the key of the entry at i changed either way. */
static void heap_fix(struct sched_rq *rq, uint32_t i)
{
	if (i > 0 && se_before(rq->heap[i], rq->heap[(i - 1) / 2]))
		sift_up(rq, i);
	else
		sift_down(rq, i);
}

static void heap_remove(struct sched_rq *rq, struct sched_entity *se)
{
	uint32_t i = se->heap_idx;
	struct sched_entity *last = rq->heap[--rq->heap_n];
	if (last != se) {
		heap_set(rq, i, last);
		heap_fix(rq, i);
	}
	se->heap_idx = HEAP_IDX_NONE;
	se->on_rq = 0;
	rq->n = (int)rq->heap_n;
}

static int heap_reserve(struct sched_rq *rq)
{
	if (rq->heap_n < rq->heap_cap)
		return 0;
	if (rq->heap_cap > UINT32_MAX / 2)
		return JV_ENOMEM;
	uint32_t cap = rq->heap_cap ? rq->heap_cap * 2 : HEAP_CAP_MIN;
	struct sched_entity **h = realloc(rq->heap, (size_t)cap * sizeof *h);
	if (!h)
		return JV_ENOMEM;
	rq->heap = h;
	rq->heap_cap = cap;
	return 0;
}

static int stride_init(struct sched_rq *rq, int64_t quantum_ns)
{
	rq->head = rq->tail = NULL;
	rq->n = 0;
	rq->heap = NULL;
	rq->heap_n = rq->heap_cap = 0;
	rq->global_pass = 0;
	rq->quantum_ns = quantum_ns;
	return quantum_ns > 0 ? 0 : JV_EINVAL;
}

static void stride_destroy(struct sched_rq *rq)
{
	free(rq->heap);
	rq->heap = NULL;
	rq->heap_n = rq->heap_cap = 0;
	rq->n = 0;
}

static void stride_entity_init(struct sched_rq *rq, struct sched_entity *se, uint32_t tickets)
{
	if (tickets == 0)
		tickets = 1;
	se->next = NULL;
	se->tickets = tickets;
	se->on_rq = 0;
	se->stride = SCHED_STRIDE1 / tickets;
	se->pass = rq->global_pass;
	se->pass_rem = 0;
	se->heap_idx = HEAP_IDX_NONE;
	se->sleeping = 1; /* has not run: joins at the virtual time of its first enqueue */
}

/* An entity that slept rejoins at the queue's virtual time (no banked
 * credit), keeping a lead it earned by running. */
static void wake_pass(struct sched_rq *rq, struct sched_entity *se)
{
	if (se->sleeping) {
		if (pass_diff(se->pass, rq->global_pass) > (int64_t)PASS_LEAD_MAX)
			se->pass = rq->global_pass; /* wrapped while asleep */
		else
			se->pass = pass_max(se->pass, rq->global_pass);
		se->sleeping = 0;
	}
}

static int stride_enqueue(struct sched_rq *rq, struct sched_entity *se)
{
	if (se->on_rq)
		return 0;
	int err = heap_reserve(rq);
	if (err)
		return err;
	wake_pass(rq, se);
	se->on_rq = 1;
	rq->heap_n++;
	rq->n = (int)rq->heap_n;
	heap_set(rq, rq->heap_n - 1, se);
	sift_up(rq, rq->heap_n - 1);
	return 0;
}

static void stride_dequeue(struct sched_rq *rq, struct sched_entity *se)
{
	if (!se->on_rq)
		return;
	heap_remove(rq, se);
	se->sleeping = 1; /* left the queue without using its turn */
}

static struct sched_entity *stride_pick_next(struct sched_rq *rq)
{
	if (rq->heap_n == 0)
		return NULL;
	struct sched_entity *se = rq->heap[0];
	heap_remove(rq, se);
	rq->global_pass = pass_max(rq->global_pass, se->pass);
	return se;
}

static void stride_charge(struct sched_rq *rq, struct sched_entity *se, int64_t ran_ns)
{
	if (ran_ns == rq->quantum_ns && !se->on_rq) {
		/* a whole quantum: (stride * q + rem) / q = stride, remainder rem
		 * (rem < q), and stride <= STRIDE_EFF_MAX < PASS_ADVANCE_MAX: the
		 * general computation below gives exactly this */
		se->pass += eff_stride(se);
	} else if (ran_ns > 0) {
		uint64_t q = (uint64_t)rq->quantum_ns;
		stride_u128 num = (stride_u128)eff_stride(se) * (uint64_t)ran_ns + se->pass_rem;
		stride_u128 adv;
		uint64_t rem;
		if ((uint64_t)(num >> 64) == 0) {
			/* the usual case: a 64-bit division (the 128-bit one is a
			 * libgcc call ten times slower), same quotient and remainder */
			adv = (uint64_t)num / q;
			rem = (uint64_t)num % q;
		} else {
			adv = num / q;
			rem = (uint64_t)(num % q);
		}
		if (adv > PASS_ADVANCE_MAX) {
			se->pass += PASS_ADVANCE_MAX;
			se->pass_rem = 0;
		} else {
			se->pass += (uint64_t)adv;
			se->pass_rem = rem;
		}
		if (se->on_rq)
			heap_fix(rq, se->heap_idx);
	}
	uint64_t lo = se->pass;
	if (rq->heap_n && pass_lt(rq->heap[0]->pass, lo))
		lo = rq->heap[0]->pass;
	rq->global_pass = pass_max(rq->global_pass, lo);
}

/* charge, enqueue, pick_next in one step: se (running, so not queued)
 * runs on when it sorts before the heap's minimum; otherwise it takes the
 * minimum's place at the root (replace_root: one walk down instead of a
 * sift-up and a pop). The pick is the minimum of the same set under the
 * same total order (pass, id), so it is the entity the three calls would
 * pick. stride_requeue_pick below is the whole-quantum case inline. */
static struct sched_entity *requeue_pick_slow(struct sched_rq *rq, struct sched_entity *se,
					      int64_t ran_ns)
{
	if (se->on_rq) { /* not the running entity after all: the general way */
		stride_charge(rq, se, ran_ns);
		return stride_pick_next(rq);
	}
	stride_charge(rq, se, ran_ns);
	wake_pass(rq, se);
	struct sched_entity *top = rq->heap_n ? rq->heap[0] : NULL;
	if (!top || se_before(se, top)) {
		rq->global_pass = pass_max(rq->global_pass, se->pass);
		return se;
	}
	top->heap_idx = HEAP_IDX_NONE;
	top->on_rq = 0;
	se->on_rq = 1;
	replace_root(rq, se);
	rq->global_pass = pass_max(rq->global_pass, top->pass);
	return top;
}

static struct sched_entity *stride_requeue_pick(struct sched_rq *rq, struct sched_entity *se,
						int64_t ran_ns)
{
	if (se->on_rq || se->sleeping || ran_ns != rq->quantum_ns || rq->heap_n == 0)
		return requeue_pick_slow(rq, se, ran_ns);
	/* a whole quantum: stride_charge's result (see there), then the pick */
	uint64_t pass = se->pass + eff_stride(se);
	se->pass = pass;
	struct sched_entity *top = rq->heap[0];
	if (se_before(se, top)) {
		/* charge: global_pass = max(gp, min(pass, top)) = max(gp, pass);
		 * pick: max(gp, pass) again */
		rq->global_pass = pass_max(rq->global_pass, pass);
		return se;
	}
	/* charge: max(gp, top->pass) (top is before se); pick: the same */
	rq->global_pass = pass_max(rq->global_pass, top->pass);
	top->heap_idx = HEAP_IDX_NONE;
	top->on_rq = 0;
	se->on_rq = 1;
	replace_root(rq, se);
	return top;
}

static void stride_stride_changed(struct sched_rq *rq, struct sched_entity *se)
{
	uint64_t s = eff_stride(se);
	if (pass_diff(se->pass, rq->global_pass) <= (int64_t)s)
		return;
	se->pass = rq->global_pass + s;
	if (se->on_rq)
		sift_up(rq, se->heap_idx);
}

const struct sched_ops sched_stride = {
	.name = "stride",
	.help = "stride scheduling: CPU shares in proportion to tickets (the paper's)",
	.init = stride_init,
	.destroy = stride_destroy,
	.entity_init = stride_entity_init,
	.enqueue = stride_enqueue,
	.dequeue = stride_dequeue,
	.pick_next = stride_pick_next,
	.charge = stride_charge,
	.stride_changed = stride_stride_changed,
	.requeue_pick = stride_requeue_pick,
};
