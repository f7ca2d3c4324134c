/* Tests for sim/evq.c: ordering, ties, cancel, move, periodic timers,
 * callbacks that change the queue, run bounds, stop, allocation. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/jv_err.h"
#include "sim/evq.h"

#define RANDOM_EVENTS 1000000u
#define RANDOM_TIME_RANGE_NS 1024u /* small: ties are frequent */
#define CANCEL_EVENTS 100000u
#define MODEL_OPS 200000u
#define MODEL_EVENTS 512u
#define TEST_SEED UINT64_C(0x9e3779b97f4a7c15)
#define LOG_MAX 64

/* ck_assert reports every passing check to the runner (a write per call),
 * far too slow for loops over a million events: check quietly there. */
#define FAST_ASSERT(expr)                                              \
	do {                                                           \
		if (!(expr))                                           \
			ck_abort_msg("%s:%d: assertion '%s' failed",   \
				     __FILE__, __LINE__, #expr);       \
	} while (0)

/* xorshift64: fixed seed, identical on every run */
static uint64_t rng_state;

static void rng_seed(uint64_t seed)
{
	rng_state = seed ? seed : 1;
}

static uint64_t rng_next(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	rng_state = x;
	return x;
}

static uint32_t rng_below(uint32_t n)
{
	return (uint32_t)(rng_next() % n);
}

/* Every slot points back at its event and no child precedes its parent. */
static void check_heap(const struct evq *q)
{
	uint32_t i;

	for (i = 0; i < q->n; i++) {
		const struct evq_event *ev = q->heap[i];

		FAST_ASSERT(ev->heap_idx == i);
		if (i > 0) {
			const struct evq_event *p = q->heap[(i - 1) / 2];

			FAST_ASSERT(p->t_ns < ev->t_ns ||
				    (p->t_ns == ev->t_ns && p->seq < ev->seq));
		}
	}
}

/* A callback that records which event ran and at what time. */
struct run_log {
	int n;
	int id[LOG_MAX];
	int64_t t_ns[LOG_MAX];
};

struct tagged {
	struct evq_event ev;
	int id;
	struct run_log *log;
};

static void log_cb(struct evq *q, struct evq_event *ev, void *arg)
{
	struct tagged *tg = arg;

	(void)ev;
	ck_assert_int_lt(tg->log->n, LOG_MAX);
	tg->log->id[tg->log->n] = tg->id;
	tg->log->t_ns[tg->log->n] = q->now_ns;
	tg->log->n++;
}

static void tagged_init(struct tagged *tg, int id, struct run_log *log)
{
	tg->id = id;
	tg->log = log;
	evq_event_init(&tg->ev, log_cb, tg);
}

/* Pop one event, checking it comes after the previous (t_ns, seq). */
static void pop_checked(struct evq *q, int64_t *last_t, uint64_t *last_seq,
			struct evq_event **out)
{
	struct evq_event *ev = evq_pop(q);

	FAST_ASSERT((ev) != NULL);
	FAST_ASSERT(!evq_is_queued(ev));
	FAST_ASSERT(ev->t_ns > *last_t ||
		    (ev->t_ns == *last_t && ev->seq > *last_seq));
	FAST_ASSERT(q->now_ns == ev->t_ns);
	*last_t = ev->t_ns;
	*last_seq = ev->seq;
	*out = ev;
}

START_TEST(test_empty)
{
	struct evq q;

	ck_assert_int_eq(evq_init(&q, 0), 0);
	ck_assert_ptr_null(evq_peek(&q));
	ck_assert_ptr_null(evq_pop(&q));
	ck_assert_int_eq(q.now_ns, 0);
	ck_assert_uint_eq(evq_run_until(&q, 100), 0);
	ck_assert_int_eq(q.now_ns, 100);
	ck_assert_ptr_null(evq_pop(&q));
	evq_destroy(&q);
}
END_TEST

START_TEST(test_random_million)
{
	struct evq q;
	struct evq_event *evs = calloc(RANDOM_EVENTS, sizeof(*evs));
	unsigned char *seen = calloc(RANDOM_EVENTS, 1);
	int64_t last_t = INT64_MIN;
	uint64_t last_seq = 0;
	uint32_t i;

	FAST_ASSERT((evs) != NULL);
	FAST_ASSERT((seen) != NULL);
	rng_seed(TEST_SEED);
	FAST_ASSERT(evq_init(&q, 16) == 0);
	for (i = 0; i < RANDOM_EVENTS; i++) {
		evq_event_init(&evs[i], NULL, NULL);
		FAST_ASSERT(evq_schedule(&q, &evs[i],
					 rng_below(RANDOM_TIME_RANGE_NS)) == 0);
	}
	FAST_ASSERT(q.n == RANDOM_EVENTS);
	FAST_ASSERT(q.cap >= RANDOM_EVENTS);
	check_heap(&q);
	for (i = 0; i < RANDOM_EVENTS; i++) {
		struct evq_event *ev;
		size_t k;

		pop_checked(&q, &last_t, &last_seq, &ev);
		k = (size_t)(ev - evs);
		FAST_ASSERT(k < RANDOM_EVENTS);
		FAST_ASSERT(seen[k] == 0);
		seen[k] = 1;
	}
	ck_assert_ptr_null(evq_pop(&q));
	FAST_ASSERT(last_t == RANDOM_TIME_RANGE_NS - 1);
	evq_destroy(&q);
	free(seen);
	free(evs);
}
END_TEST

/* Same-time events pop in schedule order whatever order times come in. */
static const struct {
	int n;
	int64_t t_ns[8];
	int order[8]; /* expected ids (index into t_ns) */
} tie_cases[] = {
	{ 4, { 7, 7, 7, 7 }, { 0, 1, 2, 3 } },
	{ 6, { 5, 3, 5, 3, 5, 1 }, { 5, 1, 3, 0, 2, 4 } },
	{ 5, { 9, 0, 9, 0, 0 }, { 1, 3, 4, 0, 2 } },
	{ 8, { 2, 1, 2, 1, 2, 1, 2, 1 }, { 1, 3, 5, 7, 0, 2, 4, 6 } },
	{ 1, { 0 }, { 0 } },
};

START_TEST(test_ties)
{
	const int c = _i;
	struct evq q;
	struct tagged ev[8];
	struct run_log log = { 0 };
	int i;

	ck_assert_int_eq(evq_init(&q, 1), 0);
	for (i = 0; i < tie_cases[c].n; i++) {
		tagged_init(&ev[i], i, &log);
		ck_assert_int_eq(evq_schedule(&q, &ev[i].ev,
					      tie_cases[c].t_ns[i]),
				 0);
	}
	ck_assert_uint_eq(evq_run_until(&q, 100), (uint64_t)tie_cases[c].n);
	ck_assert_int_eq(log.n, tie_cases[c].n);
	for (i = 0; i < tie_cases[c].n; i++) {
		ck_assert_int_eq(log.id[i], tie_cases[c].order[i]);
		ck_assert_int_eq(log.t_ns[i],
				 tie_cases[c].t_ns[tie_cases[c].order[i]]);
	}
	evq_destroy(&q);
}
END_TEST

START_TEST(test_cancel_middle)
{
	struct evq q;
	struct evq_event *evs = calloc(CANCEL_EVENTS, sizeof(*evs));
	uint32_t *perm = calloc(CANCEL_EVENTS, sizeof(*perm));
	unsigned char *cancelled = calloc(CANCEL_EVENTS, 1);
	unsigned char *seen = calloc(CANCEL_EVENTS, 1);
	int64_t last_t = INT64_MIN;
	uint64_t last_seq = 0;
	uint32_t i, popped = 0;

	FAST_ASSERT(evs && perm && cancelled && seen);
	rng_seed(TEST_SEED ^ 1);
	FAST_ASSERT(evq_init(&q, 0) == 0);
	for (i = 0; i < CANCEL_EVENTS; i++) {
		evq_event_init(&evs[i], NULL, NULL);
		FAST_ASSERT(evq_schedule(&q, &evs[i],
					 rng_below(RANDOM_TIME_RANGE_NS)) == 0);
		perm[i] = i;
	}
	for (i = CANCEL_EVENTS - 1; i > 0; i--) { /* Fisher-Yates */
		uint32_t j = rng_below(i + 1), tmp = perm[i];

		perm[i] = perm[j];
		perm[j] = tmp;
	}
	for (i = 0; i < CANCEL_EVENTS / 2; i++) {
		struct evq_event *ev = &evs[perm[i]];

		FAST_ASSERT(evq_is_queued(ev));
		evq_cancel(&q, ev);
		FAST_ASSERT(!evq_is_queued(ev));
		evq_cancel(&q, ev); /* idle: no-op */
		cancelled[perm[i]] = 1;
		if (i % 4096 == 0)
			check_heap(&q);
	}
	FAST_ASSERT(q.n == CANCEL_EVENTS - CANCEL_EVENTS / 2);
	check_heap(&q);
	while (q.n) {
		struct evq_event *ev;
		size_t k;

		pop_checked(&q, &last_t, &last_seq, &ev);
		k = (size_t)(ev - evs);
		FAST_ASSERT(cancelled[k] == 0);
		FAST_ASSERT(seen[k] == 0);
		seen[k] = 1;
		popped++;
	}
	FAST_ASSERT(popped == CANCEL_EVENTS - CANCEL_EVENTS / 2);
	evq_destroy(&q);
	free(seen);
	free(cancelled);
	free(perm);
	free(evs);
}
END_TEST

START_TEST(test_reschedule_moves)
{
	struct evq q;
	struct tagged ev[4];
	struct run_log log = { 0 };
	int i;

	ck_assert_int_eq(evq_init(&q, 0), 0);
	for (i = 0; i < 4; i++) {
		tagged_init(&ev[i], i, &log);
		ck_assert_int_eq(evq_schedule(&q, &ev[i].ev, 10 * (i + 1)), 0);
	}
	/* 0@10 1@20 2@30 3@40: move 0 later (to 30, after 2 by seq), 3
	 * earlier (to 5); a queued move keeps the count. */
	ck_assert_int_eq(evq_schedule(&q, &ev[0].ev, 30), 0);
	ck_assert_int_eq(evq_schedule(&q, &ev[3].ev, 5), 0);
	ck_assert_uint_eq(q.n, 4);
	check_heap(&q);
	ck_assert_ptr_eq(evq_peek(&q), &ev[3].ev);
	ck_assert_uint_eq(evq_run_until(&q, 100), 4);
	ck_assert_int_eq(log.id[0], 3);
	ck_assert_int_eq(log.id[1], 1);
	ck_assert_int_eq(log.id[2], 2);
	ck_assert_int_eq(log.id[3], 0);
	ck_assert_int_eq(log.t_ns[3], 30);
	evq_destroy(&q);
}
END_TEST

/* Random schedule/move/cancel/pop against a linear-scan reference. */
START_TEST(test_model_random_ops)
{
	struct evq q;
	struct evq_event ev[MODEL_EVENTS];
	uint32_t op, i;

	rng_seed(TEST_SEED ^ 2);
	FAST_ASSERT(evq_init(&q, 1) == 0);
	for (i = 0; i < MODEL_EVENTS; i++)
		evq_event_init(&ev[i], NULL, NULL);
	for (op = 0; op < MODEL_OPS; op++) {
		uint32_t k = rng_below(MODEL_EVENTS), r = rng_below(10);
		const struct evq_event *want = NULL;

		if (r < 5) {
			int64_t t = q.now_ns + rng_below(64);

			FAST_ASSERT(evq_schedule(&q, &ev[k], t) == 0);
			FAST_ASSERT(ev[k].t_ns == t);
		} else if (r < 7) {
			evq_cancel(&q, &ev[k]);
			FAST_ASSERT(!evq_is_queued(&ev[k]));
			continue;
		}
		for (i = 0; i < MODEL_EVENTS; i++) {
			const struct evq_event *e = &ev[i];

			if (!evq_is_queued(e))
				continue;
			if (!want || e->t_ns < want->t_ns ||
			    (e->t_ns == want->t_ns && e->seq < want->seq))
				want = e;
		}
		FAST_ASSERT((evq_peek(&q)) == (want));
		if (r >= 7 && want)
			FAST_ASSERT((evq_pop(&q)) == (want));
		if (op % 1024 == 0)
			check_heap(&q);
	}
	check_heap(&q);
	evq_destroy(&q);
	for (i = 0; i < MODEL_EVENTS; i++)
		FAST_ASSERT(!evq_is_queued(&ev[i]));
}
END_TEST

/* Periodic timer: fires at t, t+p, ...; cancel in its callback stops it. */
struct periodic {
	struct evq_event ev;
	int fired;
	int stop_after;
	int64_t t_ns[LOG_MAX];
	int64_t next_seen[LOG_MAX];
	int queued_in_cb[LOG_MAX];
};

static void periodic_cb(struct evq *q, struct evq_event *ev, void *arg)
{
	struct periodic *p = arg;

	ck_assert_int_lt(p->fired, LOG_MAX);
	p->t_ns[p->fired] = q->now_ns;
	p->next_seen[p->fired] = ev->t_ns;
	p->queued_in_cb[p->fired] = evq_is_queued(ev);
	p->fired++;
	if (p->fired == p->stop_after)
		evq_cancel(q, ev);
}

START_TEST(test_periodic_exact_and_cancel_in_cb)
{
	const int64_t start_ns = 1000, period_ns = 333;
	struct evq q;
	struct periodic p = { .stop_after = 7 };
	int k;

	ck_assert_int_eq(evq_init(&q, 0), 0);
	evq_event_init(&p.ev, periodic_cb, &p);
	ck_assert_int_eq(evq_schedule_periodic(&q, &p.ev, start_ns, period_ns),
			 0);
	/* uneven steps cut through firings; none may be missed or doubled */
	ck_assert_uint_eq(evq_run_until(&q, start_ns - 1), 0);
	ck_assert_uint_eq(evq_run_until(&q, start_ns), 1);
	ck_assert_uint_eq(evq_run_until(&q, start_ns + 2 * period_ns - 1), 1);
	ck_assert_uint_eq(evq_run_until(&q, start_ns + 3 * period_ns), 2);
	ck_assert_int_eq(p.fired, 4);
	ck_assert(evq_is_queued(&p.ev));
	ck_assert_uint_eq(evq_run_until(&q, INT64_C(1) << 40), 3);
	ck_assert_int_eq(p.fired, 7);
	for (k = 0; k < p.fired; k++) {
		ck_assert_int_eq(p.t_ns[k], start_ns + k * period_ns);
		/* re-armed before the callback ran */
		ck_assert_int_eq(p.queued_in_cb[k], 1);
		ck_assert_int_eq(p.next_seen[k], start_ns + (k + 1) * period_ns);
	}
	ck_assert(!evq_is_queued(&p.ev));
	ck_assert_int_eq(p.ev.period_ns, 0);
	ck_assert_uint_eq(q.n, 0);
	evq_destroy(&q);
}
END_TEST

START_TEST(test_periodic_cancel_outside_and_pop_no_rearm)
{
	struct evq q;
	struct periodic p = { .stop_after = -1 };
	struct evq_event *ev;

	ck_assert_int_eq(evq_init(&q, 0), 0);
	evq_event_init(&p.ev, periodic_cb, &p);
	ck_assert_int_eq(evq_schedule_periodic(&q, &p.ev, 0, 10), 0);
	ck_assert_uint_eq(evq_run_until(&q, 25), 3);
	evq_cancel(&q, &p.ev);
	ck_assert_int_eq(p.ev.period_ns, 0);
	ck_assert_uint_eq(evq_run_until(&q, 100), 0);
	ck_assert_int_eq(p.fired, 3);
	/* evq_pop hands periodic events back without re-arming */
	ck_assert_int_eq(evq_schedule_periodic(&q, &p.ev, 100, 10), 0);
	ev = evq_pop(&q);
	ck_assert_ptr_eq(ev, &p.ev);
	ck_assert(!evq_is_queued(ev));
	ck_assert_int_eq(ev->period_ns, 10);
	ck_assert_uint_eq(q.n, 0);
	evq_destroy(&q);
}
END_TEST

START_TEST(test_periodic_overflow_not_rearmed)
{
	struct evq q;
	struct periodic p = { .stop_after = -1 };

	ck_assert_int_eq(evq_init(&q, 0), 0);
	evq_event_init(&p.ev, periodic_cb, &p);
	ck_assert_int_eq(evq_schedule_periodic(&q, &p.ev, INT64_MAX - 5, 10),
			 0);
	ck_assert_uint_eq(evq_run_until(&q, INT64_MAX), 1);
	ck_assert(!evq_is_queued(&p.ev));
	ck_assert_int_eq(p.ev.period_ns, 0);
	ck_assert_int_eq(q.now_ns, INT64_MAX);
	evq_destroy(&q);
}
END_TEST

/* Callback that queues three more events at the current time; those run
 * in the same evq_run_until, after what was already due at that time. */
struct spawner {
	struct tagged self;
	struct tagged kids[3];
};

static void spawn_cb(struct evq *q, struct evq_event *ev, void *arg)
{
	struct spawner *s = arg;
	int i;

	log_cb(q, ev, &s->self);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(evq_schedule(q, &s->kids[i].ev, q->now_ns), 0);
}

START_TEST(test_callback_schedules_now)
{
	struct evq q;
	struct spawner s;
	struct tagged same, later;
	struct run_log log = { 0 };
	int i;

	ck_assert_int_eq(evq_init(&q, 1), 0);
	s.self.id = 0;
	s.self.log = &log;
	evq_event_init(&s.self.ev, spawn_cb, &s);
	for (i = 0; i < 3; i++)
		tagged_init(&s.kids[i], 10 + i, &log);
	tagged_init(&same, 1, &log);
	tagged_init(&later, 2, &log);
	ck_assert_int_eq(evq_schedule(&q, &s.self.ev, 50), 0);
	ck_assert_int_eq(evq_schedule(&q, &same.ev, 50), 0);
	ck_assert_int_eq(evq_schedule(&q, &later.ev, 51), 0);
	ck_assert_uint_eq(evq_run_until(&q, 50), 5);
	ck_assert_int_eq(log.n, 5);
	ck_assert_int_eq(log.id[0], 0);
	ck_assert_int_eq(log.id[1], 1);
	ck_assert_int_eq(log.id[2], 10);
	ck_assert_int_eq(log.id[3], 11);
	ck_assert_int_eq(log.id[4], 12);
	for (i = 0; i < 5; i++)
		ck_assert_int_eq(log.t_ns[i], 50);
	ck_assert_ptr_eq(evq_peek(&q), &later.ev);
	evq_destroy(&q);
}
END_TEST

/* A callback cancels another due event and moves a third one. */
struct meddler {
	struct tagged self;
	struct evq_event *victim;
	struct evq_event *moved;
};

static void meddle_cb(struct evq *q, struct evq_event *ev, void *arg)
{
	struct meddler *m = arg;

	log_cb(q, ev, &m->self);
	evq_cancel(q, m->victim);
	ck_assert_int_eq(evq_schedule(q, m->moved, q->now_ns + 100), 0);
}

START_TEST(test_callback_cancels_and_moves_others)
{
	struct evq q;
	struct meddler m;
	struct tagged victim, moved;
	struct run_log log = { 0 };

	ck_assert_int_eq(evq_init(&q, 0), 0);
	m.self.id = 0;
	m.self.log = &log;
	evq_event_init(&m.self.ev, meddle_cb, &m);
	tagged_init(&victim, 1, &log);
	tagged_init(&moved, 2, &log);
	m.victim = &victim.ev;
	m.moved = &moved.ev;
	ck_assert_int_eq(evq_schedule(&q, &m.self.ev, 10), 0);
	ck_assert_int_eq(evq_schedule(&q, &victim.ev, 10), 0);
	ck_assert_int_eq(evq_schedule(&q, &moved.ev, 11), 0);
	ck_assert_uint_eq(evq_run_until(&q, 1000), 2);
	ck_assert_int_eq(log.id[0], 0);
	ck_assert_int_eq(log.id[1], 2);
	ck_assert_int_eq(log.t_ns[1], 110);
	ck_assert(!evq_is_queued(&victim.ev));
	evq_destroy(&q);
}
END_TEST

/* An event that re-schedules itself; evq_schedule turns a periodic event
 * into a one-shot. */
struct chain {
	struct evq_event ev;
	int fired;
	int64_t t_ns[LOG_MAX];
};

static void chain_cb(struct evq *q, struct evq_event *ev, void *arg)
{
	struct chain *c = arg;

	c->t_ns[c->fired++] = q->now_ns;
	if (c->fired < 4)
		ck_assert_int_eq(evq_schedule(q, ev, q->now_ns + 7), 0);
}

START_TEST(test_self_reschedule)
{
	struct evq q;
	struct chain c = { .fired = 0 };
	int k;

	ck_assert_int_eq(evq_init(&q, 0), 0);
	evq_event_init(&c.ev, chain_cb, &c);
	/* periodic with period 1000, but the callback re-schedules itself
	 * one-shot at +7, which drops the period */
	ck_assert_int_eq(evq_schedule_periodic(&q, &c.ev, 3, 1000), 0);
	ck_assert_uint_eq(evq_run_until(&q, 10000), 4);
	for (k = 0; k < 4; k++)
		ck_assert_int_eq(c.t_ns[k], 3 + 7 * k);
	ck_assert(!evq_is_queued(&c.ev));
	ck_assert_int_eq(c.ev.period_ns, 0);
	evq_destroy(&q);
}
END_TEST

START_TEST(test_run_until_bounds)
{
	struct evq q;
	struct tagged ev[3];
	struct run_log log = { 0 };
	int i;

	ck_assert_int_eq(evq_init(&q, 0), 0);
	for (i = 0; i < 3; i++) {
		tagged_init(&ev[i], i, &log);
		ck_assert_int_eq(evq_schedule(&q, &ev[i].ev, 10 * (i + 1)), 0);
	}
	ck_assert_uint_eq(evq_run_until(&q, 20), 2); /* inclusive bound */
	ck_assert_int_eq(q.now_ns, 20);
	ck_assert(evq_is_queued(&ev[2].ev));
	ck_assert_uint_eq(evq_run_until(&q, 25), 0);
	ck_assert_int_eq(q.now_ns, 25);
	ck_assert_uint_eq(evq_run_until(&q, 5), 0); /* never backwards */
	ck_assert_int_eq(q.now_ns, 25);
	ck_assert_uint_eq(evq_run_until(&q, 29), 0);
	ck_assert_int_eq(log.n, 2);
	ck_assert_uint_eq(evq_run_until(&q, 30), 1);
	ck_assert_int_eq(log.t_ns[2], 30);
	evq_destroy(&q);
}
END_TEST

static void stop_cb(struct evq *q, struct evq_event *ev, void *arg)
{
	log_cb(q, ev, arg);
	evq_stop(q);
}

START_TEST(test_stop)
{
	struct evq q;
	struct tagged a, b, c;
	struct run_log log = { 0 };

	ck_assert_int_eq(evq_init(&q, 0), 0);
	tagged_init(&a, 0, &log);
	tagged_init(&b, 1, &log);
	tagged_init(&c, 2, &log);
	b.ev.cb = stop_cb;
	ck_assert_int_eq(evq_schedule(&q, &a.ev, 10), 0);
	ck_assert_int_eq(evq_schedule(&q, &b.ev, 20), 0);
	ck_assert_int_eq(evq_schedule(&q, &c.ev, 20), 0);
	ck_assert_uint_eq(evq_run_until(&q, 100), 2);
	ck_assert_int_eq(q.now_ns, 20); /* not advanced to until */
	ck_assert(evq_is_queued(&c.ev));
	/* the flag is consumed: the next run goes on */
	ck_assert_uint_eq(evq_run_until(&q, 100), 1);
	ck_assert_int_eq(q.now_ns, 100);
	/* a stop outside a run ends the next run before any event */
	ck_assert_int_eq(evq_schedule(&q, &a.ev, 150), 0);
	evq_stop(&q);
	ck_assert_uint_eq(evq_run_until(&q, 200), 0);
	ck_assert_int_eq(q.now_ns, 100);
	ck_assert_uint_eq(evq_run_until(&q, 200), 1);
	ck_assert_int_eq(log.n, 4);
	evq_destroy(&q);
}
END_TEST

START_TEST(test_no_alloc_after_warmup)
{
	enum { WARM_EVENTS = 5000, ROUNDS = 20 };
	struct evq q;
	struct evq_event *evs = calloc(WARM_EVENTS, sizeof(*evs));
	struct evq_event **heap;
	uint32_t cap, i;
	int r;

	FAST_ASSERT((evs) != NULL);
	rng_seed(TEST_SEED ^ 3);
	FAST_ASSERT(evq_init(&q, 1) == 0);
	for (i = 0; i < WARM_EVENTS; i++) {
		evq_event_init(&evs[i], NULL, NULL);
		FAST_ASSERT(evq_schedule(&q, &evs[i], rng_below(100)) == 0);
	}
	cap = q.cap;
	heap = q.heap;
	FAST_ASSERT(cap == 8192); /* 1 doubled up to >= 5000 */
	for (r = 0; r < ROUNDS; r++) {
		while (q.n > (uint32_t)(r % 3) * 100)
			FAST_ASSERT((evq_pop(&q)) != NULL);
		for (i = 0; i < WARM_EVENTS; i++) {
			if (evq_is_queued(&evs[i]))
				continue;
			FAST_ASSERT(evq_schedule(&q, &evs[i],
						 q.now_ns + rng_below(100)) == 0);
		}
		FAST_ASSERT(q.n == WARM_EVENTS);
		FAST_ASSERT(q.cap == cap);
		FAST_ASSERT(q.heap == heap);
	}
	evq_destroy(&q);
	free(evs);
}
END_TEST

START_TEST(test_destroy_marks_idle)
{
	struct evq q;
	struct evq_event a, b;

	ck_assert_int_eq(evq_init(&q, 0), 0);
	evq_event_init(&a, NULL, NULL);
	evq_event_init(&b, NULL, NULL);
	ck_assert_int_eq(evq_schedule(&q, &a, 1), 0);
	ck_assert_int_eq(evq_schedule(&q, &b, 2), 0);
	evq_destroy(&q);
	ck_assert(!evq_is_queued(&a));
	ck_assert(!evq_is_queued(&b));
	ck_assert_ptr_null(q.heap);
	/* reusable with a new queue */
	ck_assert_int_eq(evq_init(&q, 0), 0);
	ck_assert_int_eq(evq_schedule(&q, &b, 0), 0);
	ck_assert_ptr_eq(evq_pop(&q), &b);
	evq_destroy(&q);
}
END_TEST

#ifndef NDEBUG
/* Programming errors are asserted (abort) in debug builds. The test runs
 * in a forked child; silence assert's message there. */
static void quiet_stderr(void)
{
	ck_assert_ptr_nonnull(freopen("/dev/null", "w", stderr));
}

START_TEST(test_schedule_in_past_asserts)
{
	struct evq q;
	struct evq_event ev;

	ck_assert_int_eq(evq_init(&q, 0), 0);
	evq_event_init(&ev, NULL, NULL);
	evq_run_until(&q, 100);
	quiet_stderr();
	evq_schedule(&q, &ev, 99);
}
END_TEST

START_TEST(test_zero_period_asserts)
{
	struct evq q;
	struct evq_event ev;

	ck_assert_int_eq(evq_init(&q, 0), 0);
	evq_event_init(&ev, NULL, NULL);
	quiet_stderr();
	evq_schedule_periodic(&q, &ev, 10, 0);
}
END_TEST
#else
/* With NDEBUG the same misuse returns JV_EINVAL and changes nothing. */
START_TEST(test_misuse_einval)
{
	struct evq q;
	struct evq_event ev;

	ck_assert_int_eq(evq_init(&q, 0), 0);
	evq_event_init(&ev, NULL, NULL);
	evq_run_until(&q, 100);
	ck_assert_int_eq(evq_schedule(&q, &ev, 99), JV_EINVAL);
	ck_assert_int_eq(evq_schedule_periodic(&q, &ev, 100, 0), JV_EINVAL);
	ck_assert_int_eq(evq_schedule_periodic(&q, &ev, 100, -5), JV_EINVAL);
	ck_assert(!evq_is_queued(&ev));
	ck_assert_uint_eq(q.n, 0);
	evq_destroy(&q);
}
END_TEST
#endif

static Suite *evq_suite(void)
{
	Suite *s = suite_create("evq");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_random_million);
	tcase_add_loop_test(tc, test_ties, 0,
			    (int)(sizeof(tie_cases) / sizeof(tie_cases[0])));
	tcase_add_test(tc, test_cancel_middle);
	tcase_add_test(tc, test_reschedule_moves);
	tcase_add_test(tc, test_model_random_ops);
	tcase_add_test(tc, test_periodic_exact_and_cancel_in_cb);
	tcase_add_test(tc, test_periodic_cancel_outside_and_pop_no_rearm);
	tcase_add_test(tc, test_periodic_overflow_not_rearmed);
	tcase_add_test(tc, test_callback_schedules_now);
	tcase_add_test(tc, test_callback_cancels_and_moves_others);
	tcase_add_test(tc, test_self_reschedule);
	tcase_add_test(tc, test_run_until_bounds);
	tcase_add_test(tc, test_stop);
	tcase_add_test(tc, test_no_alloc_after_warmup);
	tcase_add_test(tc, test_destroy_marks_idle);
#ifndef NDEBUG
	/* an abort needs a forked test process; skip under CK_FORK=no */
	if (!getenv("CK_FORK") || strcmp(getenv("CK_FORK"), "no") != 0) {
		tcase_add_test_raise_signal(tc, test_schedule_in_past_asserts,
					    SIGABRT);
		tcase_add_test_raise_signal(tc, test_zero_period_asserts,
					    SIGABRT);
	}
#else
	tcase_add_test(tc, test_misuse_einval);
#endif
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(evq_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
