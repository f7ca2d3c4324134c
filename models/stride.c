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
 * The run queue holds the runnable entities that are not running, ordered
 * by (pass, id); pick_next removes the minimum, so the entity furthest
 * behind in virtual time runs next. Ties go to the smaller id; the idle
 * vCPU (id -1, any negative id) sorts after every real vCPU, so it only
 * gets what nobody else claims at equal pass. Ids on one run queue are
 * distinct, so the order is total and the pick does not depend on how the
 * queue is kept.
 *
 * Queue structure (pass groups, models/stride.h): with equal strides the
 * queued passes take one or two values (a round in progress: the entities
 * still to run at p, those that ran at p + stride), and they are queued in
 * id order. So entities of one pass form a group, a list in increasing
 * (unsigned) id order; the groups form a binary min-heap by (pass, first
 * member's id). An entity joins the group of the last insertion (the
 * hint) at its end when it has that pass and a larger id, else it starts
 * a group of its own; two groups may then share a pass, and the heap key
 * (pass, first id) still gives the exact order (a k-way merge of sorted
 * lists). The minimum is the root group's first member. rq->root_unique
 * notes that the root's pass is below every other group's (checked against
 * its two children after each heap operation), so taking the root's first
 * member leaves the root in place without a look at the heap. A quantum end
 * with equal tickets is then: the runner appends to the hint group, the
 * root's first member is unlinked, no heap operation; a group is created
 * and one removed once per round (N quanta). With distinct strides most
 * groups hold one entity and the structure is a heap of entities.
 *
 * Charging: charge(se, ran_ns) adds stride * ran_ns / quantum_ns to pass,
 * computed with a 128-bit product; the remainder of the division is kept in
 * se->pass_rem (units of 1/quantum_ns of a pass unit) and added to the next
 * charge, so the sum of many short runs advances pass exactly as one long
 * run would (a vCPU running 1 us bursts under a 10 ms quantum with stride
 * 4294 would otherwise advance by 0 and run for free).
 *
 * Virtual time of the queue (rq->global_pass): non-decreasing; raised to
 * the pass of every entity dispatched by pick_next (the queue minimum), and
 * after each charge to min(pass of the charged entity, queue minimum). With
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
 * global_pass. Cost: O(log g) per enqueue, dequeue, pick and stride change
 * (g live groups, g <= n queued entities), O(1) when no group is created
 * or emptied; O(1) per charge when the entity is not queued; at a quantum
 * end the machine's charge + enqueue + pick is one requeue_pick (the
 * running entity runs on, or trades places with the minimum: O(1) in the
 * common case above, else one heap operation, no allocation). Groups are
 * allocated in blocks on enqueue (the only allocation; at most one group
 * per queued entity, so later operations never allocate), doubling, and
 * freed at destroy.
 */
#include "models/stride.h"

#include <assert.h>
#include <stddef.h>
#include <stdlib.h>

#include "base/jv_err.h"

__extension__ typedef unsigned __int128 stride_u128;

#define STRIDE_EFF_MAX (1ULL << 56)   /* largest stride a charge uses */
#define PASS_ADVANCE_MAX (1ULL << 58) /* largest pass advance of one charge */
#define PASS_LEAD_MAX (1ULL << 60)    /* largest legitimate lead over global_pass */
#define GRP_BLOCK_MIN 16u             /* first group allocation, groups */

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

static inline uint64_t eff_stride(const struct sched_entity *se)
{
	uint64_t s = se->stride;
	if (s - 1 < STRIDE_EFF_MAX) /* 1 .. STRIDE_EFF_MAX, the usual */
		return s;
	return s == 0 ? 1 : STRIDE_EFF_MAX;
}

/* The order: (pass, id), negative ids (the idle vCPU) last, i.e. ids
 * compared unsigned. Groups by their first member. */
static inline int grp_before(const struct stride_grp *a, const struct stride_grp *b)
{
	if (a->pass != b->pass)
		return pass_lt(a->pass, b->pass);
	return a->hid < b->hid;
}

/* se (with its pass) before the first member of g */
static inline int se_before_grp(const struct sched_entity *se, const struct stride_grp *g)
{
	if (se->pass != g->pass)
		return pass_lt(se->pass, g->pass);
	return (unsigned)se->id < g->hid;
}

/* ---- the heap of groups ---- */

static inline void heap_set(struct sched_rq *rq, uint32_t i, struct stride_grp *g)
{
	rq->heap[i] = g;
	g->heap_idx = i;
}

/* Note whether the root group's pass is below its children's (then below
 * every other group's): the fast path of requeue_pick may then change the
 * root's first member without a look at the heap. Every heap operation
 * ends with it; the fast path keeps the root's pass. */
static inline void heap_note_root(struct sched_rq *rq)
{
	struct stride_grp **h = rq->heap;
	uint32_t n = rq->heap_n;
	rq->root_unique = (n < 2 || pass_lt(h[0]->pass, h[1]->pass)) &&
			  (n < 3 || pass_lt(h[0]->pass, h[2]->pass));
}

static void grp_sift_up(struct sched_rq *rq, uint32_t i)
{
	struct stride_grp *g = rq->heap[i];
	while (i > 0) {
		uint32_t parent = (i - 1) / 2;
		if (!grp_before(g, rq->heap[parent]))
			break;
		heap_set(rq, i, rq->heap[parent]);
		i = parent;
	}
	heap_set(rq, i, g);
	heap_note_root(rq);
}

static void grp_sift_down(struct sched_rq *rq, uint32_t i)
{
	struct stride_grp **h = rq->heap;
	struct stride_grp *g = h[i];
	uint32_t n = rq->heap_n;
	for (;;) {
		uint32_t l = 2 * i + 1, best = i;
		const struct stride_grp *min = g;
		if (l < n && grp_before(h[l], min)) {
			best = l;
			min = h[l];
		}
		if (l + 1 < n && grp_before(h[l + 1], min))
			best = l + 1;
		if (best == i)
			break;
		heap_set(rq, i, h[best]);
		i = best;
	}
	heap_set(rq, i, g);
	heap_note_root(rq);
}

/* Put g (not in the heap, or at the root itself) at the root's place
 * (Floyd): the hole at the root walks down to a leaf along the smaller
 * child (one comparison per level), then g sifts up from there. A group
 * of an entity that just used its quantum has the largest pass or nearly,
 * so it belongs near the bottom and rarely moves up. */
static void grp_replace_root(struct sched_rq *rq, struct stride_grp *g)
{
	struct stride_grp **h = rq->heap;
	uint32_t n = rq->heap_n, i = 0;
	for (;;) {
		uint32_t l = 2 * i + 1;
		if (l >= n)
			break;
		if (l + 1 < n && grp_before(h[l + 1], h[l]))
			l++;
		heap_set(rq, i, h[l]);
		i = l;
	}
	while (i > 0) {
		uint32_t parent = (i - 1) / 2;
		if (!grp_before(g, h[parent]))
			break;
		heap_set(rq, i, h[parent]);
		i = parent;
	}
	heap_set(rq, i, g);
	heap_note_root(rq);
}

/* Add g to the heap. A new group usually has the largest pass and stays
 * at the bottom: one comparison. */
static inline void grp_heap_push(struct sched_rq *rq, struct stride_grp *g)
{
	uint32_t i = rq->heap_n++;
	heap_set(rq, i, g);
	if (i > 0 && grp_before(g, rq->heap[(i - 1) / 2]))
		grp_sift_up(rq, i);
	else if (i <= 2)
		heap_note_root(rq); /* the root or a child of it changed */
}

/* The root removed with n <= 2 groups left in h[1 .. n]: the smaller
 * becomes the root without a walk. */
static inline __attribute__((always_inline)) void grp_root_of_few(struct sched_rq *rq,
								  struct stride_grp **h, uint32_t n)
{
	if (n == 2 && grp_before(h[2], h[1])) {
		heap_set(rq, 0, h[2]);
	} else if (n > 0) {
		heap_set(rq, 0, h[1]);
		if (n == 2)
			heap_set(rq, 1, h[2]);
	}
	heap_note_root(rq);
}

/* Remove the root. With at most two groups left (the common case: the
 * groups of this round's and the next round's pass, and the idle vCPU's)
 * the smaller becomes the root without a walk. */
static inline void grp_remove_root(struct sched_rq *rq)
{
	struct stride_grp **h = rq->heap;
	uint32_t n = --rq->heap_n; /* the rest are h[1 .. n] */
	if (n > 2) {
		grp_replace_root(rq, h[n]);
		return;
	}
	grp_root_of_few(rq, h, n);
}

static void grp_heap_remove(struct sched_rq *rq, struct stride_grp *g)
{
	uint32_t i = g->heap_idx;
	if (i == 0) {
		grp_remove_root(rq);
		return;
	}
	struct stride_grp *last = rq->heap[--rq->heap_n];
	if (last == g) {
		heap_note_root(rq);
		return;
	}
	heap_set(rq, i, last);
	if (grp_before(last, rq->heap[(i - 1) / 2]))
		grp_sift_up(rq, i);
	else
		grp_sift_down(rq, i);
}

/* ---- groups ---- */

/* The hint when there is none: a group no entity can join (its last
 * member's id is the largest unsigned id), read but never written. */
static struct sched_entity hint_none_tail = {.id = -1};
static struct stride_grp hint_none = {.tail = &hint_none_tail};

/* Allocate groups so that one more entity can be queued: a group per
 * queued entity at most, so grp_total > n leaves a free group for any
 * insertion, and removal-then-insertion (charge, requeue_pick) never
 * needs more. The heap array has a slot per group. */
static int grp_reserve(struct sched_rq *rq)
{
	if ((uint32_t)rq->n < rq->grp_total)
		return 0;
	if (rq->grp_total > UINT32_MAX / 2)
		return JV_ENOMEM;
	uint32_t add = rq->grp_total ? rq->grp_total : GRP_BLOCK_MIN;
	struct stride_grp **h = realloc(rq->heap, (size_t)(rq->grp_total + add) * sizeof *h);
	if (!h)
		return JV_ENOMEM;
	rq->heap = h;
	struct stride_grp_block *b = malloc(sizeof *b + (size_t)add * sizeof b->g[0]);
	if (!b)
		return JV_ENOMEM; /* the larger heap array stays, harmless */
	b->next = rq->grp_blocks;
	b->n = add;
	rq->grp_blocks = b;
	for (uint32_t i = add; i-- > 0;) {
		b->g[i].head = b->g[i].tail = NULL;
		b->g[i].next_free = rq->grp_free;
		rq->grp_free = &b->g[i];
	}
	rq->grp_total += add;
	return 0;
}

static inline struct stride_grp *grp_get(struct sched_rq *rq)
{
	struct stride_grp *g = rq->grp_free;
	assert(g); /* grp_reserve keeps one per queued entity */
	rq->grp_free = g->next_free;
	return g;
}

static inline void grp_put(struct sched_rq *rq, struct stride_grp *g)
{
	g->head = g->tail = NULL;
	g->next_free = rq->grp_free;
	rq->grp_free = g;
	if (rq->hint == g)
		rq->hint = &hint_none;
}

/* ---- the queue of entities ---- */

/* g holds se alone (its pass, its id as the group's first). */
static inline void grp_set_single(struct stride_grp *g, struct sched_entity *se)
{
	g->pass = se->pass;
	g->head = g->tail = se;
	g->hid = (unsigned)se->id;
	se->prev = NULL;
	se->next = NULL;
	se->grp = g;
}

/* se joins a group of its own (q_insert's uncommon case). */
static inline void q_insert_new(struct sched_rq *rq, struct sched_entity *se)
{
	struct stride_grp *g = grp_get(rq);
	grp_set_single(g, se);
	grp_heap_push(rq, g);
	rq->hint = g;
}

/* se joins the hint group if it may: same pass, a larger id. */
static inline int q_append(struct sched_rq *rq, struct sched_entity *se)
{
	struct stride_grp *g = rq->hint;
	struct sched_entity *t = g->tail;
	if (g->pass != se->pass || (unsigned)se->id <= (unsigned)t->id)
		return 0;
	se->prev = t;
	se->next = NULL;
	se->grp = g;
	t->next = se;
	g->tail = se;
	return 1;
}

/* Queue se (not queued, its pass final). It joins the group of the last
 * insertion when it has the same pass and a larger id (the common case:
 * equal strides queue up in id order), else a group of its own. */
static inline void q_insert(struct sched_rq *rq, struct sched_entity *se)
{
	if (!q_append(rq, se))
		q_insert_new(rq, se);
	se->on_rq = 1;
	rq->n++;
}

/* Take se (queued) out of its group; the group leaves the heap when it
 * empties, and moves down when its first member changes. */
static void q_remove(struct sched_rq *rq, struct sched_entity *se)
{
	struct stride_grp *g = se->grp;
	if (se->next)
		se->next->prev = se->prev;
	else
		g->tail = se->prev;
	if (se->prev) {
		se->prev->next = se->next;
	} else if (se->next) {
		g->head = se->next;
		g->hid = (unsigned)se->next->id;
		grp_sift_down(rq, g->heap_idx);
	} else {
		grp_heap_remove(rq, g);
		grp_put(rq, g);
	}
	se->next = se->prev = NULL;
	se->grp = NULL;
	se->on_rq = 0;
	rq->n--;
}

/* The minimum (the first member of the heap's root group), removed;
 * rq->n > 0. */
static struct sched_entity *q_pop(struct sched_rq *rq)
{
	struct stride_grp *g = rq->heap[0];
	struct sched_entity *se = g->head, *nx = se->next;
	if (nx) {
		nx->prev = NULL;
		g->head = nx;
		g->hid = (unsigned)nx->id;
		grp_sift_down(rq, 0);
	} else {
		grp_heap_remove(rq, g);
		grp_put(rq, g);
	}
	se->next = NULL;
	se->grp = NULL;
	se->on_rq = 0;
	rq->n--;
	return se;
}

/* The root group's first member changed (same pass, larger id): it
 * moves down only if another group has the same pass. */
static inline void q_root_changed(struct sched_rq *rq)
{
	if (!rq->root_unique)
		grp_sift_down(rq, 0);
}

/* requeue_pick's exchange: se (running, not queued, its pass charged and
 * not before the minimum: top, the first member of the root group g,
 * followed by nx) is queued and the minimum is taken out, in one step
 * (top keeps its stale group links, read only while queued): when the minimum's group empties and se starts a group of its
 * own, that group takes the old one's place in the heap. global_pass is
 * raised to the minimum's pass (charge and pick both give that). */
static struct sched_entity *q_exchange(struct sched_rq *rq, struct sched_entity *se,
				       struct stride_grp *g, struct sched_entity *top,
				       struct sched_entity *nx)
{
	rq->global_pass = pass_max(rq->global_pass, g->pass);
	top->on_rq = 0;
	se->on_rq = 1;
	if (nx) {
		nx->prev = NULL;
		g->head = nx;
		g->hid = (unsigned)nx->id;
		q_root_changed(rq);
		if (!q_append(rq, se))
			q_insert_new(rq, se);
		return top;
	}
	if (rq->hint != g && q_append(rq, se)) { /* g leaves the root */
		grp_remove_root(rq);
		grp_put(rq, g);
		return top;
	}
	grp_set_single(g, se);
	grp_replace_root(rq, g);
	rq->hint = g;
	return top;
}

/* Tail-call helpers of q_exchange_round: the rare heap walks, returning
 * the pick so that nothing is live across the call (no saved registers on
 * the common paths). */
__attribute__((noinline)) static struct sched_entity *
grp_sift_up_ret(struct sched_rq *rq, uint32_t i, struct sched_entity *top)
{
	grp_sift_up(rq, i);
	return top;
}

__attribute__((noinline)) static struct sched_entity *
grp_replace_root_ret(struct sched_rq *rq, struct stride_grp *g, struct sched_entity *top)
{
	grp_replace_root(rq, g);
	return top;
}

/* q_exchange for the two cases that end every round of equal tickets
 * (stride_requeue_pick's calls), the same updates in a form with no call
 * on their paths: the runner starts the group of the next pass (the root
 * keeps members and stays unique: the new group is pushed at the bottom),
 * or the root group's last member is picked while the runner joins the
 * hint group (the root group leaves the heap). Anything else is
 * q_exchange itself. */
__attribute__((noinline)) static struct sched_entity *
q_exchange_round(struct sched_rq *rq, struct sched_entity *se,
					     struct stride_grp *g, struct sched_entity *top,
					     struct sched_entity *nx)
{
	struct stride_grp *hg = rq->hint;
	int joins = hg->pass == se->pass && (unsigned)se->id > (unsigned)hg->tail->id;
	if (nx ? !rq->root_unique || joins : hg == g || !joins)
		return q_exchange(rq, se, g, top, nx);
	rq->global_pass = pass_max(rq->global_pass, g->pass);
	top->on_rq = 0;
	se->on_rq = 1;
	struct stride_grp **h = rq->heap;
	if (nx) { /* q_root_changed: the root is unique, it stays */
		nx->prev = NULL;
		g->head = nx;
		g->hid = (unsigned)nx->id;
		/* q_insert_new */
		struct stride_grp *ng = grp_get(rq);
		grp_set_single(ng, se);
		rq->hint = ng;
		/* grp_heap_push */
		uint32_t i = rq->heap_n++;
		heap_set(rq, i, ng);
		if (grp_before(ng, h[(i - 1) / 2])) /* i > 0: the root is there */
			return grp_sift_up_ret(rq, i, top);
		if (i <= 2)
			heap_note_root(rq);
		return top;
	}
	/* q_append to the hint group */
	struct sched_entity *t = hg->tail;
	se->prev = t;
	se->next = NULL;
	se->grp = hg;
	t->next = se;
	hg->tail = se;
	/* grp_remove_root, grp_put (hg != g: the hint stays) */
	g->head = g->tail = NULL;
	g->next_free = rq->grp_free;
	rq->grp_free = g;
	uint32_t n = --rq->heap_n; /* the rest are h[1 .. n] */
	if (n > 2)
		return grp_replace_root_ret(rq, h[n], top);
	grp_root_of_few(rq, h, n);
	return top;
}

/* ---- the class ---- */

static int stride_init(struct sched_rq *rq, int64_t quantum_ns)
{
	rq->head = rq->tail = NULL;
	rq->n = 0;
	rq->heap = NULL;
	rq->heap_n = rq->grp_total = 0;
	rq->grp_free = NULL;
	rq->grp_blocks = NULL;
	rq->hint = &hint_none;
	rq->root_unique = 1;
	rq->global_pass = 0;
	rq->quantum_ns = quantum_ns;
	return quantum_ns > 0 ? 0 : JV_EINVAL;
}

static void stride_destroy(struct sched_rq *rq)
{
	while (rq->grp_blocks) {
		struct stride_grp_block *b = rq->grp_blocks;
		rq->grp_blocks = b->next;
		free(b);
	}
	free(rq->heap);
	rq->heap = NULL;
	rq->heap_n = rq->grp_total = 0;
	rq->grp_free = NULL;
	rq->hint = &hint_none;
	rq->n = 0;
}

static void stride_entity_init(struct sched_rq *rq, struct sched_entity *se, uint32_t tickets)
{
	if (tickets == 0)
		tickets = 1;
	se->next = se->prev = NULL;
	se->grp = NULL;
	se->tickets = tickets;
	se->on_rq = 0;
	se->stride = SCHED_STRIDE1 / tickets;
	se->pass = rq->global_pass;
	se->pass_rem = 0;
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
	int err = grp_reserve(rq);
	if (err)
		return err;
	wake_pass(rq, se);
	q_insert(rq, se);
	return 0;
}

static void stride_dequeue(struct sched_rq *rq, struct sched_entity *se)
{
	if (!se->on_rq)
		return;
	q_remove(rq, se);
	se->sleeping = 1; /* left the queue without using its turn */
}

static struct sched_entity *stride_pick_next(struct sched_rq *rq)
{
	if (rq->n == 0)
		return NULL;
	struct sched_entity *se = q_pop(rq);
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
		if (se->on_rq) { /* its group has the old pass: move it */
			q_remove(rq, se);
			q_insert(rq, se);
		}
	}
	uint64_t lo = se->pass;
	if (rq->heap_n && pass_lt(rq->heap[0]->pass, lo))
		lo = rq->heap[0]->pass;
	rq->global_pass = pass_max(rq->global_pass, lo);
}

/* charge, enqueue, pick_next in one step: se (running, so not queued)
 * runs on when it sorts before the queue's minimum; otherwise the two
 * trade places (q_exchange). The pick is the minimum of the same set
 * under the same total order (pass, id), so it is the entity the three
 * calls would pick. stride_requeue_pick below is the whole-quantum case
 * inline. */
/* (not inline: the fast path below then needs no saved registers) */
__attribute__((noinline)) static struct sched_entity *
requeue_pick_slow(struct sched_rq *rq, struct sched_entity *se, int64_t ran_ns)
{
	if (se->on_rq) { /* not the running entity after all: the general way */
		stride_charge(rq, se, ran_ns);
		return stride_pick_next(rq);
	}
	stride_charge(rq, se, ran_ns);
	wake_pass(rq, se);
	if (rq->n == 0 || se_before_grp(se, rq->heap[0])) {
		rq->global_pass = pass_max(rq->global_pass, se->pass);
		return se;
	}
	struct stride_grp *g = rq->heap[0];
	return q_exchange(rq, se, g, g->head, g->head->next);
}

static struct sched_entity *stride_requeue_pick(struct sched_rq *rq, struct sched_entity *se,
						int64_t ran_ns)
{
	if (se->on_rq || se->sleeping || ran_ns != rq->quantum_ns || rq->n == 0)
		return requeue_pick_slow(rq, se, ran_ns);
	/* a whole quantum: stride_charge's result (see there), then the pick */
	uint64_t pass = se->pass + eff_stride(se);
	se->pass = pass;
	/* The common case inline (q_exchange's first branch): se joins the
	 * hint group at its end, and the minimum's group keeps members and
	 * its pass below every other group's, so it stays at the root. se is
	 * then not before the minimum: the hint group is the root (se comes
	 * after its last member) or has a larger pass than the root. */
	struct stride_grp *g = rq->heap[0], *hg = rq->hint;
	struct sched_entity *top = g->head, *nx = top->next, *t = hg->tail;
	if (!nx || !rq->root_unique || hg->pass != pass ||
	    (unsigned)se->id <= (unsigned)t->id) {
		if (se_before_grp(se, g)) {
			/* charge: global_pass = max(gp, min(pass, top)) =
			 * max(gp, pass); pick: max(gp, pass) again */
			rq->global_pass = pass_max(rq->global_pass, pass);
			return se;
		}
		return q_exchange_round(rq, se, g, top, nx);
	}
	/* charge: max(gp, top's pass) (top is before se); pick: the same */
	rq->global_pass = pass_max(rq->global_pass, g->pass);
	top->on_rq = 0;
	nx->prev = NULL;
	g->head = nx;
	g->hid = (unsigned)nx->id;
	se->on_rq = 1;
	se->prev = t;
	se->next = NULL;
	se->grp = hg;
	t->next = se;
	hg->tail = se;
	return top;
}

static void stride_stride_changed(struct sched_rq *rq, struct sched_entity *se)
{
	uint64_t s = eff_stride(se);
	if (pass_diff(se->pass, rq->global_pass) <= (int64_t)s)
		return;
	se->pass = rq->global_pass + s;
	if (se->on_rq) {
		q_remove(rq, se);
		q_insert(rq, se);
	}
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
