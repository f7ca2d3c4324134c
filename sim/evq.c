/*
 * evq: the deterministic discrete-event queue (design §9, after libuv's
 * timer.c heap).
 *
 * Problem. The simulator advances by events: quantum ends, request
 * completions, manager periods, trace records. Two runs of one scenario
 * must produce byte-identical output, so events at the same instant must
 * always run in the same order, and the queue sits on the hot path of
 * every run (millions of events), so it must be fast and must not
 * allocate per event.
 *
 * Model. An intrusive binary min-heap of pointers to struct evq_event,
 * which the owner embeds in its own state. The key is (t_ns, seq): seq is
 * a 64-bit counter that evq_schedule() assigns afresh every time an event
 * is (re)queued, so keys are unique and ties on t_ns break by schedule
 * order, independent of heap shape or memory addresses. Each event keeps
 * its heap index (heap_idx) so evq_cancel() and evq_schedule() on a queued
 * event find it in O(1) and fix the heap in O(log n).
 *
 * Strategy.
 *  - Sift-up and sift-down move a "hole" instead of swapping: parents or
 *    children are shifted into the hole and the moving event is written
 *    once at the end, updating heap_idx of each moved event.
 *  - evq_pop() uses Floyd's bottom-up variant: the hole at the root is
 *    walked down to a leaf along the smaller child (one comparison per
 *    level instead of two), then the former last element is sifted up from
 *    there; it almost always belongs near the bottom.
 *  - Removal from the middle moves the last element into the hole and
 *    sifts it up or down as its key requires.
 *  - The array of pointers doubles when full and never shrinks, so once
 *    the queue has reached its high-water mark schedule/pop/cancel never
 *    allocate. Re-arming a periodic event in evq_run_until() reuses the
 *    slot its pop just freed, so it cannot fail.
 *  - evq_run_until() pops an event, sets now_ns to its time, re-arms it
 *    first if periodic (next time = firing time + period_ns, exact integer
 *    arithmetic, no drift) and then runs its callback. A callback may
 *    therefore schedule, move or cancel any event, itself included;
 *    cancelling a periodic event inside its own callback removes the
 *    re-armed firing and ends the periodicity. Events a callback schedules
 *    at the current time get a larger seq and run later in the same call.
 *    Inside a periodic event's callback ev->t_ns is therefore already the
 *    next firing; the current time is q->now_ns.
 *
 * Semantics worth knowing.
 *  - evq_schedule() makes the event one-shot (period_ns = 0), also when
 *    it moves a periodic event; use evq_schedule_periodic() to keep or
 *    change a period (libuv uv_timer_start() likewise always sets repeat).
 *  - evq_pop() never re-arms; the caller owns the event and its period.
 *  - evq_run_until() with until_ns < now_ns runs nothing and leaves
 *    now_ns alone: time never goes backwards. When a callback calls
 *    evq_stop(), the call returns before the next event and leaves now_ns
 *    at the time of the last event run (not until_ns). The stop flag is
 *    consumed on return; a stop requested outside a run makes the next
 *    evq_run_until() return 0 at once.
 *  - evq_destroy() marks every still-queued event idle so owners may reuse
 *    them with another queue.
 *  - evq_claim() (evq.h) lets a callback run its own next firing at once
 *    when that firing would be the next event popped anyway (strictly
 *    before every queued event, within the run's limit): the machine's CPU
 *    runs quantum after quantum this way between other events, with no
 *    heap traffic, and the order of events is unchanged.
 *
 * Programming errors are asserted, not reported: scheduling before now_ns,
 * a period <= 0, running an event without a callback, cancelling an event
 * queued in another queue. With NDEBUG the first two return JV_EINVAL
 * instead (the event is left untouched) and a NULL callback is skipped, so
 * a release build never corrupts the heap. The only runtime error is
 * JV_ENOMEM when the array cannot grow (the event is then left as it was).
 *
 * Parameters.
 *  - initial_cap: array slots allocated by evq_init(); 0 means
 *    EVQ_DEFAULT_CAP_EVENTS (64).
 *  - EVQ_MAX_EVENTS (2^31): most events queued at once; heap_idx is 32 bits
 *    and UINT32_MAX marks an idle event. More fails with JV_ENOMEM.
 *
 * Worked example. A at t=10, B at t=10, C at t=5 scheduled in that order
 * get seq 0, 1, 2 and pop as C(5), A(10), B(10). A periodic P at t=0 with
 * period 4 run until 9 fires at 0, 4, 8, is left queued at 12 and now_ns
 * ends at 9.
 *
 * Limits. Times are int64_t ns; a periodic event whose next firing would
 * overflow INT64_MAX is not re-armed (it becomes one-shot). Not thread
 * safe: one queue belongs to one single-threaded run. Cost per operation
 * is O(log n) pointer moves; keys are read through the pointers, so a very
 * large queue is bound by cache misses.
 */
#include "sim/evq.h"

#include <assert.h>
#include <stddef.h>
#include <stdlib.h>

#include "base/jv_err.h"

#define EVQ_DEFAULT_CAP_EVENTS 64u
#define EVQ_MAX_EVENTS (UINT32_C(1) << 31)

/* (t_ns, seq) strictly before; seq is unique, so this is a total order. */
static inline int evq_before(const struct evq_event *a,
			     const struct evq_event *b)
{
	if (a->t_ns != b->t_ns)
		return a->t_ns < b->t_ns;
	return a->seq < b->seq;
}

static inline void evq_put(struct evq_event **heap, uint32_t idx,
			   struct evq_event *ev)
{
	heap[idx] = ev;
	ev->heap_idx = idx;
}

/* Move the hole at idx up until ev fits there, then store ev. */
static void evq_sift_up(struct evq *q, uint32_t idx, struct evq_event *ev)
{
	struct evq_event **heap = q->heap;

	while (idx > 0) {
		uint32_t parent = (idx - 1) / 2;

		if (!evq_before(ev, heap[parent]))
			break;
		evq_put(heap, idx, heap[parent]);
		idx = parent;
	}
	evq_put(heap, idx, ev);
}

/* Move the hole at idx down until ev fits there, then store ev. */
static void evq_sift_down(struct evq *q, uint32_t idx, struct evq_event *ev)
{
	struct evq_event **heap = q->heap;
	uint32_t n = q->n;

	for (;;) {
		uint64_t child = 2 * (uint64_t)idx + 1;

		if (child >= n)
			break;
		if (child + 1 < n && evq_before(heap[child + 1], heap[child]))
			child++;
		if (!evq_before(heap[child], ev))
			break;
		evq_put(heap, idx, heap[child]);
		idx = (uint32_t)child;
	}
	evq_put(heap, idx, ev);
}

/* Fill the hole at idx with ev, moving it whichever way its key needs. */
static void evq_fix(struct evq *q, uint32_t idx, struct evq_event *ev)
{
	if (idx > 0 && evq_before(ev, q->heap[(idx - 1) / 2]))
		evq_sift_up(q, idx, ev);
	else
		evq_sift_down(q, idx, ev);
}

/* The root, given a later key, moved to its place (Floyd's way: walk
 * the root hole to a leaf along the smaller child, then sift ev up from
 * there): a re-armed periodic event belongs near the bottom. */
static void evq_replace_root(struct evq *q, struct evq_event *ev)
{
	struct evq_event **heap = q->heap;
	uint32_t n = q->n;
	uint32_t idx = 0;

	for (;;) {
		uint64_t child = 2 * (uint64_t)idx + 1;

		if (child >= n)
			break;
		if (child + 1 < n && evq_before(heap[child + 1], heap[child]))
			child++;
		evq_put(heap, idx, heap[child]);
		idx = (uint32_t)child;
	}
	evq_sift_up(q, idx, ev);
}

/* Floyd's pop: the former last element replaces the root. */
static void evq_remove_root(struct evq *q)
{
	uint32_t n = --q->n;

	if (n > 0)
		evq_replace_root(q, q->heap[n]);
}

/* Remove the queued event at idx from the heap. */
static void evq_remove_at(struct evq *q, uint32_t idx)
{
	struct evq_event *last;

	if (idx == 0) {
		evq_remove_root(q);
		return;
	}
	last = q->heap[--q->n];
	if (idx != q->n)
		evq_fix(q, idx, last);
}

static int evq_grow(struct evq *q)
{
	struct evq_event **heap;
	uint32_t cap;

	if (q->cap >= EVQ_MAX_EVENTS)
		return JV_ENOMEM;
	cap = q->cap * 2;
	if (cap > EVQ_MAX_EVENTS)
		cap = EVQ_MAX_EVENTS;
	heap = realloc(q->heap, (size_t)cap * sizeof(*heap));
	if (!heap)
		return JV_ENOMEM;
	q->heap = heap;
	q->cap = cap;
	return 0;
}

int evq_init(struct evq *q, uint32_t initial_cap)
{
	if (initial_cap == 0)
		initial_cap = EVQ_DEFAULT_CAP_EVENTS;
	q->heap = NULL;
	q->n = 0;
	q->cap = 0;
	q->next_seq = 0;
	q->now_ns = 0;
	q->stop = 0;
	if (initial_cap > EVQ_MAX_EVENTS)
		return JV_ENOMEM;
	q->heap = malloc((size_t)initial_cap * sizeof(*q->heap));
	if (!q->heap)
		return JV_ENOMEM;
	q->cap = initial_cap;
	return 0;
}

void evq_destroy(struct evq *q)
{
	uint32_t i;

	for (i = 0; i < q->n; i++)
		q->heap[i]->heap_idx = EVQ_NOT_QUEUED;
	free(q->heap);
	q->heap = NULL;
	q->n = 0;
	q->cap = 0;
}

void evq_event_init(struct evq_event *ev, evq_cb cb, void *arg)
{
	ev->t_ns = 0;
	ev->seq = 0;
	ev->period_ns = 0;
	ev->heap_idx = EVQ_NOT_QUEUED;
	ev->cb = cb;
	ev->arg = arg;
}

/* Give ev the key (t_ns, next seq) and put it where it belongs. */
static int evq_place_seq(struct evq *q, struct evq_event *ev, int64_t t_ns, uint64_t seq);

static int evq_place(struct evq *q, struct evq_event *ev, int64_t t_ns)
{
	return evq_place_seq(q, ev, t_ns, q->next_seq++);
}

/* Queue (or move) ev at (t_ns, seq). */
static int evq_place_seq(struct evq *q, struct evq_event *ev, int64_t t_ns, uint64_t seq)
{
	if (evq_is_queued(ev)) {
		uint32_t idx = ev->heap_idx;

		assert(idx < q->n && q->heap[idx] == ev);
		ev->t_ns = t_ns;
		ev->seq = seq;
		evq_fix(q, idx, ev);
		return 0;
	}
	if (q->n == q->cap) {
		int err = evq_grow(q);

		if (err)
			return err;
	}
	ev->t_ns = t_ns;
	ev->seq = seq;
	q->n++;
	evq_sift_up(q, q->n - 1, ev);
	return 0;
}

int evq_schedule(struct evq *q, struct evq_event *ev, int64_t t_ns)
{
	int err;

	assert(t_ns >= q->now_ns && "evq_schedule: time in the past");
	if (t_ns < q->now_ns)
		return JV_EINVAL;
	err = evq_place(q, ev, t_ns);
	if (!err)
		ev->period_ns = 0;
	return err;
}

int evq_schedule_seq(struct evq *q, struct evq_event *ev, int64_t t_ns, uint64_t seq)
{
	int err;

	assert(t_ns >= q->now_ns && "evq_schedule_seq: time in the past");
	assert(seq < q->next_seq && "evq_schedule_seq: seq not reserved");
	if (t_ns < q->now_ns)
		return JV_EINVAL;
	err = evq_place_seq(q, ev, t_ns, seq);
	if (!err)
		ev->period_ns = 0;
	return err;
}

int evq_schedule_periodic(struct evq *q, struct evq_event *ev, int64_t t_ns,
			  int64_t period_ns)
{
	int err;

	assert(t_ns >= q->now_ns && "evq_schedule_periodic: time in the past");
	assert(period_ns > 0 && "evq_schedule_periodic: period <= 0");
	if (t_ns < q->now_ns || period_ns <= 0)
		return JV_EINVAL;
	err = evq_place(q, ev, t_ns);
	if (!err)
		ev->period_ns = period_ns;
	return err;
}

void evq_cancel(struct evq *q, struct evq_event *ev)
{
	ev->period_ns = 0;
	if (!evq_is_queued(ev))
		return;
	assert(ev->heap_idx < q->n && q->heap[ev->heap_idx] == ev);
	evq_remove_at(q, ev->heap_idx);
	ev->heap_idx = EVQ_NOT_QUEUED;
}

struct evq_event *evq_peek(const struct evq *q)
{
	return q->n ? q->heap[0] : NULL;
}

struct evq_event *evq_pop(struct evq *q)
{
	struct evq_event *ev;

	if (q->n == 0)
		return NULL;
	ev = q->heap[0];
	evq_remove_root(q);
	ev->heap_idx = EVQ_NOT_QUEUED;
	q->now_ns = ev->t_ns;
	return ev;
}

/* Re-arm a periodic event just popped at ev->t_ns; its slot is free, so
 * this cannot allocate or fail. */
static void evq_rearm(struct evq *q, struct evq_event *ev)
{
	int err;

	if (ev->t_ns > INT64_MAX - ev->period_ns) {
		ev->period_ns = 0;
		return;
	}
	err = evq_place(q, ev, ev->t_ns + ev->period_ns);
	assert(err == 0);
	(void)err;
}

uint64_t evq_run_until(struct evq *q, int64_t until_ns)
{
	uint64_t ran = 0;

	while (!q->stop && q->n && q->heap[0]->t_ns <= until_ns) {
		evq_run_root(q);
		ran++;
	}
	if (!q->stop && until_ns > q->now_ns)
		q->now_ns = until_ns;
	q->stop = 0;
	return ran;
}

void evq_run_root(struct evq *q)
{
	struct evq_event *ev = q->heap[0];

	assert(q->n > 0);
	if (ev->period_ns > 0 && ev->t_ns <= INT64_MAX - ev->period_ns) {
		/* pop and re-arm in one step: the root takes its next time
		 * and a new seq and moves down (the same queued set and keys
		 * as evq_pop + evq_rearm, so the same order of events) */
		q->now_ns = ev->t_ns;
		ev->t_ns += ev->period_ns;
		ev->seq = q->next_seq++;
		evq_replace_root(q, ev);
	} else {
		evq_pop(q);
		if (ev->period_ns > 0)
			evq_rearm(q, ev);
	}
	assert(ev->cb && "evq_run_until: event without callback");
	if (ev->cb)
		ev->cb(q, ev, ev->arg);
}

void evq_stop(struct evq *q)
{
	q->stop = 1;
}
