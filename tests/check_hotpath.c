/* check_hotpath: the simulator's per-quantum shortcuts must be exactly the
 * general operations they replace.
 *  - sched_ops.requeue_pick (stride, rr) against charge + enqueue +
 *    pick_next on a twin run queue: the same entity picked at every step,
 *    the same passes, remainders and global pass, under random tickets,
 *    whole and partial quanta, blocking, waking and stride changes;
 *  - evq_claim: an event claimed instead of scheduled runs exactly when the
 *    queue would have popped it, and a claim is refused whenever another
 *    event (even at the same time), the run's limit or a stop is in the way. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/jv_err.h"
#include "models/sched.h"
#include "sim/evq.h"

#define Q_NS 1000000LL /* quantum: 1 ms */
#define N_ENT 12       /* entities per queue, the idle one included */
#define N_STEPS 3000
#define N_SEEDS 4

/* ---- requeue_pick ---- */

struct twin {
	struct sched_rq rq;
	struct sched_entity se[N_ENT];
	int runnable[N_ENT];
	struct sched_entity *cur;
};

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void twin_init(struct twin *t, const struct sched_ops *ops, const uint32_t *tickets)
{
	memset(t, 0, sizeof *t);
	t->rq.ops = ops;
	ck_assert_int_eq(ops->init(&t->rq, Q_NS), 0);
	for (int i = 0; i < N_ENT; i++) {
		ops->entity_init(&t->rq, &t->se[i], tickets[i]);
		t->se[i].id = i == N_ENT - 1 ? -1 : i; /* the last one plays the idle vCPU */
		t->runnable[i] = 1;
		ck_assert_int_eq(ops->enqueue(&t->rq, &t->se[i]), 0);
	}
	t->cur = ops->pick_next(&t->rq);
}

static int idx(const struct twin *t, const struct sched_entity *se)
{
	return se ? (int)(se - t->se) : -1;
}

/* One decision point: the running entity ran ran_ns; when it stays
 * runnable, fast uses requeue_pick and the other twin the three calls. */
static void step(struct twin *t, int fast, int64_t ran_ns, int blocks)
{
	const struct sched_ops *ops = t->rq.ops;
	struct sched_entity *se = t->cur;
	if (!se) {
		t->cur = ops->pick_next(&t->rq);
		return;
	}
	if (blocks) {
		ops->charge(&t->rq, se, ran_ns);
		se->sleeping = 1;
		t->runnable[idx(t, se)] = 0;
		t->cur = ops->pick_next(&t->rq);
	} else if (fast) {
		t->cur = ops->requeue_pick(&t->rq, se, ran_ns);
	} else {
		ops->charge(&t->rq, se, ran_ns);
		ck_assert_int_eq(ops->enqueue(&t->rq, se), 0);
		t->cur = ops->pick_next(&t->rq);
	}
}

static void same(const struct twin *a, const struct twin *b, int k)
{
	ck_assert_msg(idx(a, a->cur) == idx(b, b->cur), "step %d: picked %d vs %d", k,
		      idx(a, a->cur), idx(b, b->cur));
	ck_assert_uint_eq(a->rq.global_pass, b->rq.global_pass);
	ck_assert_int_eq(a->rq.n, b->rq.n);
	for (int i = 0; i < N_ENT; i++) {
		ck_assert_uint_eq(a->se[i].pass, b->se[i].pass);
		ck_assert_uint_eq(a->se[i].pass_rem, b->se[i].pass_rem);
		ck_assert_int_eq(a->se[i].on_rq, b->se[i].on_rq);
		ck_assert_int_eq(a->se[i].sleeping, b->se[i].sleeping);
	}
}

static void run_twins(const struct sched_ops *ops, int seed)
{
	uint64_t s = 0x9e3779b97f4a7c15ULL * (uint64_t)(seed + 1);
	uint32_t tickets[N_ENT];
	for (int i = 0; i < N_ENT; i++)
		tickets[i] = seed % 2 ? 100 : (uint32_t)(1 + rnd(&s) % 1000); /* equal or random */
	tickets[N_ENT - 1] = 1;
	static struct twin a, b;
	twin_init(&a, ops, tickets);
	twin_init(&b, ops, tickets);
	int picks_differ = 0;
	for (int k = 0; k < N_STEPS; k++) {
		uint64_t r = rnd(&s);
		/* mostly whole quanta, some partial ones, some blocking */
		int64_t ran = r % 8 ? Q_NS : (int64_t)(1 + (r >> 8) % Q_NS);
		int blocks = (r >> 40) % 50 == 0;
		struct sched_entity *before_a = a.cur;
		step(&a, 1, ran, blocks);
		step(&b, 0, ran, blocks);
		picks_differ += a.cur != before_a;
		/* wake a blocked entity now and then */
		int w = (int)((r >> 20) % N_ENT);
		if (!a.runnable[w] && (r >> 30) % 4 == 0) {
			a.runnable[w] = b.runnable[w] = 1;
			ck_assert_int_eq(ops->enqueue(&a.rq, &a.se[w]), 0);
			ck_assert_int_eq(ops->enqueue(&b.rq, &b.se[w]), 0);
		}
		/* the manager changes a stride now and then */
		if ((r >> 50) % 200 == 0) {
			int e = (int)((r >> 10) % N_ENT);
			uint64_t st = a.se[e].stride + (1ULL << 26);
			a.se[e].stride = b.se[e].stride = st;
			ops->stride_changed(&a.rq, &a.se[e]);
			ops->stride_changed(&b.rq, &b.se[e]);
		}
		same(&a, &b, k);
	}
	ck_assert_int_gt(picks_differ, N_STEPS / 10); /* the schedule did move on */
	ops->destroy(&a.rq);
	ops->destroy(&b.rq);
}

START_TEST(test_requeue_pick_stride) { run_twins(&sched_stride, _i); }
END_TEST

START_TEST(test_requeue_pick_rr) { run_twins(&sched_rr, _i); }
END_TEST

/* Alone on the queue, the running entity runs on; with equal tickets the
 * next one in (pass, id) order takes over. */
START_TEST(test_requeue_pick_basic)
{
	struct sched_rq rq = {.ops = &sched_stride};
	struct sched_entity e[2];
	ck_assert_int_eq(sched_stride.init(&rq, Q_NS), 0);
	for (int i = 0; i < 2; i++) {
		sched_stride.entity_init(&rq, &e[i], 100);
		e[i].id = i;
	}
	ck_assert_int_eq(sched_stride.enqueue(&rq, &e[0]), 0);
	struct sched_entity *cur = sched_stride.pick_next(&rq);
	ck_assert_ptr_eq(cur, &e[0]);
	ck_assert_ptr_eq(sched_stride.requeue_pick(&rq, cur, Q_NS), &e[0]);
	ck_assert_uint_eq(e[0].pass, SCHED_STRIDE1 / 100);
	ck_assert_int_eq(rq.n, 0);
	ck_assert_int_eq(sched_stride.enqueue(&rq, &e[1]), 0); /* joins at global_pass */
	ck_assert_ptr_eq(sched_stride.requeue_pick(&rq, cur, Q_NS), &e[1]);
	ck_assert_int_eq(e[0].on_rq, 1);
	ck_assert_int_eq(e[1].on_rq, 0);
	ck_assert_int_eq(rq.n, 1);
	sched_stride.destroy(&rq);
}
END_TEST

/* ---- evq_claim ---- */

static int fired[8];
static int n_fired;
static void note(struct evq *q, struct evq_event *ev, void *arg)
{
	(void)q;
	(void)ev;
	fired[n_fired++] = (int)(intptr_t)arg;
}

START_TEST(test_claim)
{
	struct evq q;
	struct evq_event a, b;
	ck_assert_int_eq(evq_init(&q, 0), 0);
	evq_event_init(&a, note, (void *)(intptr_t)1);
	evq_event_init(&b, note, (void *)(intptr_t)2);
	/* empty queue: claimable within the limit and not in the past */
	ck_assert_int_eq(evq_claim(&q, 5, 10), 1);
	ck_assert_int_eq(q.now_ns, 5);
	ck_assert_int_eq(evq_claim(&q, 4, 10), 0); /* the past */
	ck_assert_int_eq(evq_claim(&q, 11, 10), 0); /* beyond the run's limit */
	ck_assert_int_eq(q.now_ns, 5);
	/* a queued event at 8: before it yes, at or after it no */
	ck_assert_int_eq(evq_schedule(&q, &a, 8), 0);
	ck_assert_int_eq(evq_claim(&q, 7, 10), 1);
	ck_assert_int_eq(q.now_ns, 7);
	ck_assert_int_eq(evq_claim(&q, 8, 10), 0); /* a was scheduled first: it goes first */
	ck_assert_int_eq(evq_claim(&q, 9, 10), 0);
	ck_assert_int_eq(q.now_ns, 7);
	/* a pending stop refuses every claim */
	evq_stop(&q);
	ck_assert_int_eq(evq_claim(&q, 7, 10), 0);
	ck_assert_uint_eq(evq_run_until(&q, 10), 0); /* consumes the stop */
	ck_assert_int_eq(evq_claim(&q, 7, 10), 1);
	/* what is left runs in order */
	ck_assert_int_eq(evq_schedule(&q, &b, 8), 0);
	n_fired = 0;
	ck_assert_uint_eq(evq_run_until(&q, 10), 2);
	ck_assert_int_eq(n_fired, 2);
	ck_assert_int_eq(fired[0], 1);
	ck_assert_int_eq(fired[1], 2);
	evq_destroy(&q);
}
END_TEST

static Suite *hotpath_suite(void)
{
	Suite *s = suite_create("hotpath");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_requeue_pick_stride, 0, N_SEEDS);
	tcase_add_loop_test(tc, test_requeue_pick_rr, 0, N_SEEDS);
	tcase_add_test(tc, test_requeue_pick_basic);
	tcase_add_test(tc, test_claim);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(hotpath_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
