/*
 * evq: the deterministic discrete-event queue (design §9, libuv timer.c).
 *
 * An intrusive binary min-heap ordered by (t_ns, seq): seq is a counter the
 * queue assigns at schedule time, so events at the same instant pop in the
 * order they were scheduled, on every run. Events are embedded in their
 * owner (no allocation per event); the heap array grows by doubling and is
 * never shrunk, so the hot path (schedule/pop/cancel) does not allocate once
 * the queue has reached its high-water mark.
 *
 * Periodic timers re-arm themselves when popped by evq_run_until(): the next
 * firing is at t + period (exact integer ns, no drift).
 */
#ifndef JV_EVQ_H
#define JV_EVQ_H

#include <stdint.h>

struct evq;
struct evq_event;

typedef void (*evq_cb)(struct evq *q, struct evq_event *ev, void *arg);

struct evq_event {
	int64_t t_ns;      /* firing time */
	uint64_t seq;      /* tie-breaker, assigned by evq_schedule */
	int64_t period_ns; /* > 0: periodic */
	uint32_t heap_idx; /* position in the heap, EVQ_NOT_QUEUED when idle */
	evq_cb cb;
	void *arg;
};

#define EVQ_NOT_QUEUED UINT32_MAX

struct evq {
	struct evq_event **heap;
	uint32_t n, cap;
	uint64_t next_seq;
	int64_t now_ns; /* time of the event being run / last popped */
	int stop;       /* set by evq_stop() */
};

/* Initialise an empty queue at time 0. Returns 0 or JV_ENOMEM. */
int evq_init(struct evq *q, uint32_t initial_cap);
void evq_destroy(struct evq *q);

/* Prepare an event for use (not queued). */
void evq_event_init(struct evq_event *ev, evq_cb cb, void *arg);

/* Queue ev at absolute time t_ns (>= q->now_ns, asserted). If ev is already
 * queued it is moved. Returns 0 or JV_ENOMEM. */
int evq_schedule(struct evq *q, struct evq_event *ev, int64_t t_ns);
/* Queue ev first at t_ns, then every period_ns (> 0). */
int evq_schedule_periodic(struct evq *q, struct evq_event *ev, int64_t t_ns,
			  int64_t period_ns);
/* Remove ev if queued; a no-op otherwise. Also ends periodicity. */
void evq_cancel(struct evq *q, struct evq_event *ev);
static inline int evq_is_queued(const struct evq_event *ev)
{
	return ev->heap_idx != EVQ_NOT_QUEUED;
}

/* Earliest event without removing it, or NULL. */
struct evq_event *evq_peek(const struct evq *q);
/* Remove and return the earliest event, advancing now_ns; NULL if empty.
 * Periodic events are NOT re-armed by evq_pop (the caller owns them). */
struct evq_event *evq_pop(struct evq *q);

/* Pop and run events with t_ns <= until_ns in order (re-arming periodic
 * ones before their callback runs), then set now_ns = until_ns. Stops
 * early if a callback calls evq_stop(). Returns the number of events run. */
uint64_t evq_run_until(struct evq *q, int64_t until_ns);
void evq_stop(struct evq *q);
/* One step of evq_run_until (q->n > 0, the caller checked stop and time):
 * pop the earliest event (re-arming a periodic one), set now_ns to its
 * time and run its callback. */
void evq_run_root(struct evq *q);

/* Take the seq an evq_schedule now would give, for an event the owner
 * may schedule later as if it had been scheduled now (evq_schedule_seq):
 * events scheduled in between come after it at the same time. */
static inline uint64_t evq_reserve_seq(struct evq *q)
{
	return q->next_seq++;
}
/* evq_schedule with a seq taken by evq_reserve_seq (unused otherwise). */
int evq_schedule_seq(struct evq *q, struct evq_event *ev, int64_t t_ns, uint64_t seq);

/* The owner's fast path: inside a callback of evq_run_until(q, until_ns),
 * may an event that is not queued run at t_ns now, without a push and a
 * pop? Yes when the queue would pop it next: t_ns is strictly before every
 * queued event (one queued at the same time was scheduled earlier and goes
 * first), within until_ns, not in the past, and no stop is pending. Then
 * now_ns becomes t_ns (as evq_pop would set it) and the caller runs the
 * event itself, counting it as run; otherwise nothing changes and the
 * caller schedules it. The order of events is the same either way. */
static inline int evq_claim(struct evq *q, int64_t t_ns, int64_t until_ns)
{
	if (q->stop || t_ns > until_ns || t_ns < q->now_ns ||
	    (q->n && q->heap[0]->t_ns <= t_ns))
		return 0;
	q->now_ns = t_ns;
	return 1;
}

/* The latest t_ns at which evq_claim(q, t_ns, until_ns) would succeed now
 * for any t_ns from now_ns on (INT64_MIN: none): until_ns, or just before
 * the earliest queued event. It holds while the queue is unchanged (no
 * event scheduled, cancelled or popped, no stop), so an owner that knows
 * nothing touched the queue may claim t_ns in [now_ns, limit] by setting
 * now_ns = t_ns itself, as evq_claim would. */
static inline int64_t evq_claim_limit(const struct evq *q, int64_t until_ns)
{
	if (q->stop)
		return INT64_MIN;
	if (q->n && q->heap[0]->t_ns <= until_ns)
		return q->heap[0]->t_ns - 1;
	return until_ns;
}

#endif
