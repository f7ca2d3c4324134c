/* check_hotpath: the simulator's per-quantum shortcuts must be exactly the
 * general operations they replace.
 *  - sched_ops.requeue_pick (stride, rr) against charge + enqueue +
 *    pick_next on a twin run queue: the same entity picked at every step,
 *    the same passes, remainders and global pass, under random tickets,
 *    whole and partial quanta, blocking, waking and stride changes;
 *  - the same with short rounds of equal tickets (the round-end cases);
 *  - evq_claim: an event claimed instead of scheduled runs exactly when the
 *    queue would have popped it, and a claim is refused whenever another
 *    event (even at the same time), the run's limit or a stop is in the way;
 *    evq_claim_limit is the last time evq_claim accepts; periodic events
 *    run ahead of an event with a reserved seq (evq_run_root,
 *    evq_schedule_seq) keep the queue's order;
 *  - the snapshot's idle split loop (idle_split_begin/next/end) hands out
 *    exactly the documented parts (the same doubles) under every policy;
 *  - ledger_snapshot (used rows found eight flags at a time) gives each
 *    device the sum in (consumer, via, kind) order, bit for bit, and folds
 *    exactly the charged cells into the totals. */
#include <check.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/jv_err.h"
#include "models/idle_split.h"
#include "models/ledger.h"
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

/* The twins agree after step k. Plain compares, one assertion per step
 * (thousands of ck_assert calls per step made the suite slow under
 * valgrind); the message names the first difference. */
static void same(const struct twin *a, const struct twin *b, int k)
{
	ck_assert_msg(idx(a, a->cur) == idx(b, b->cur), "step %d: picked %d vs %d", k,
		      idx(a, a->cur), idx(b, b->cur));
	ck_assert_msg(a->rq.global_pass == b->rq.global_pass && a->rq.n == b->rq.n,
		      "step %d: queue global_pass/n differ", k);
	for (int i = 0; i < N_ENT; i++) {
		const struct sched_entity *x = &a->se[i], *y = &b->se[i];
		if (x->pass != y->pass || x->pass_rem != y->pass_rem || x->on_rq != y->on_rq ||
		    x->sleeping != y->sleeping)
			ck_abort_msg("step %d: entity %d differs (pass %" PRIu64 "/%" PRIu64
				     ", on_rq %d/%d, sleeping %d/%d)", k, i, (uint64_t)x->pass,
				     (uint64_t)y->pass, x->on_rq, y->on_rq, x->sleeping, y->sleeping);
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

/* Short rounds of equal tickets (the stride class's round-end cases,
 * q_exchange_round): k entities of one ticket count, whole quanta only,
 * with or without the idle entity queued (its own ticket count). */
static void run_rounds(int k, int idle_tickets)
{
	const struct sched_ops *ops = &sched_stride;
	static struct twin t[2];
	for (int j = 0; j < 2; j++) {
		memset(&t[j], 0, sizeof t[j]);
		t[j].rq.ops = ops;
		ck_assert_int_eq(ops->init(&t[j].rq, Q_NS), 0);
		for (int i = 0; i < N_ENT; i++) {
			int idle = i == N_ENT - 1;
			ops->entity_init(&t[j].rq, &t[j].se[i],
					 idle ? (uint32_t)(idle_tickets ? idle_tickets : 1) : 100);
			t[j].se[i].id = idle ? -1 : i;
			t[j].runnable[i] = i < k || (idle && idle_tickets);
			if (t[j].runnable[i])
				ck_assert_int_eq(ops->enqueue(&t[j].rq, &t[j].se[i]), 0);
		}
		t[j].cur = ops->pick_next(&t[j].rq);
	}
	for (int step_k = 0; step_k < 40 * (k + 1); step_k++) {
		step(&t[0], 1, Q_NS, 0);
		step(&t[1], 0, Q_NS, 0);
		same(&t[0], &t[1], step_k);
	}
	ops->destroy(&t[0].rq);
	ops->destroy(&t[1].rq);
}

START_TEST(test_requeue_pick_rounds)
{
	static const int idle_tickets[] = {0, 1, 100, 400};
	for (int k = 1; k <= 6; k++)
		for (int i = 0; i < 4; i++)
			run_rounds(k, idle_tickets[i]);
}
END_TEST

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

/* evq_claim_limit: the last time evq_claim accepts, over queue states */
START_TEST(test_claim_limit)
{
	struct evq q;
	struct evq_event e[4];
	ck_assert_int_eq(evq_init(&q, 0), 0);
	for (int i = 0; i < 4; i++)
		evq_event_init(&e[i], note, (void *)(intptr_t)i);
	q.now_ns = 10;
	int bad = 0;
	for (int state = 0; state < 6; state++) {
		if (state == 1)
			ck_assert_int_eq(evq_schedule(&q, &e[0], 30), 0);
		if (state == 2)
			ck_assert_int_eq(evq_schedule(&q, &e[1], 15), 0);
		if (state == 3)
			ck_assert_int_eq(evq_schedule(&q, &e[2], 10), 0); /* at now */
		if (state == 4)
			evq_cancel(&q, &e[2]);
		if (state == 5)
			evq_stop(&q);
		for (int64_t until = 5; until < 40; until += 7) {
			int64_t lim = evq_claim_limit(&q, until), last = INT64_MIN;
			for (int64_t t = 10; t < 45; t++) {
				int64_t now = q.now_ns;
				if (evq_claim(&q, t, until))
					last = t;
				q.now_ns = now;
			}
			/* every t in [now, lim] is claimable, none after */
			bad += lim < 10 ? last != INT64_MIN : last != lim;
		}
	}
	ck_assert_msg(bad == 0, "evq_claim_limit disagrees with evq_claim %d times", bad);
	evq_destroy(&q);
}
END_TEST

/* The CPU loop's inline periodic events (mach_cpu_event's cpu_claim):
 * running the earliest periodic events itself (evq_run_root) before an
 * owner event X due at t, with X's seq reserved first, then scheduling X
 * with that seq (evq_schedule_seq), runs every event in the order the
 * queue gives when X is scheduled at once. The periodic callbacks
 * schedule a one-shot at their own time and at t now and then. */
#define RR_EV 6
struct rr_case {
	struct evq q;
	struct evq_event per[RR_EV], shot[RR_EV], x;
	int log[256], n_log;
	int64_t x_t;
};

static void rr_note(struct evq *q, struct evq_event *ev, void *arg);

static struct rr_case *rr_of(struct evq *q)
{
	return (struct rr_case *)((char *)q - offsetof(struct rr_case, q));
}

static void rr_note(struct evq *q, struct evq_event *ev, void *arg)
{
	struct rr_case *c = rr_of(q);
	int id = (int)(intptr_t)arg;
	(void)ev;
	if (c->n_log < 256)
		c->log[c->n_log++] = id;
	if (id < RR_EV && (q->now_ns / 3 + id) % 4 == 0) { /* a periodic one adds a shot */
		struct evq_event *s = &c->shot[id];
		if (!evq_is_queued(s))
			ck_assert_int_eq(evq_schedule(q, s, id % 2 || c->x_t < q->now_ns
							       ? q->now_ns : c->x_t), 0);
	}
}

static void rr_init(struct rr_case *c, int64_t x_t)
{
	memset(c, 0, sizeof *c);
	ck_assert_int_eq(evq_init(&c->q, 0), 0);
	c->x_t = x_t;
	for (int i = 0; i < RR_EV; i++) {
		evq_event_init(&c->per[i], rr_note, (void *)(intptr_t)i);
		evq_event_init(&c->shot[i], rr_note, (void *)(intptr_t)(100 + i));
		ck_assert_int_eq(evq_schedule_periodic(&c->q, &c->per[i], 2 + i, 3 + i % 3), 0);
	}
	evq_event_init(&c->x, rr_note, (void *)(intptr_t)99);
}

START_TEST(test_run_root_reserved)
{
	int bad = 0;
	for (int64_t t = 2; t < 30; t++) {
		static struct rr_case a, b;
		rr_init(&a, t);
		rr_init(&b, t);
		/* a: X scheduled at once */
		ck_assert_int_eq(evq_schedule(&a.q, &a.x, t), 0);
		evq_run_until(&a.q, 40);
		/* b: periodic roots before (t, seq) run first, then X */
		uint64_t seq = evq_reserve_seq(&b.q);
		int ran = 0;
		while (b.q.n && b.q.heap[0]->period_ns > 0 &&
		       (b.q.heap[0]->t_ns < t || (b.q.heap[0]->t_ns == t && b.q.heap[0]->seq < seq))) {
			evq_run_root(&b.q);
			ran++;
		}
		ck_assert_int_eq(evq_schedule_seq(&b.q, &b.x, t, seq), 0);
		evq_run_until(&b.q, 40);
		bad += a.n_log != b.n_log || memcmp(a.log, b.log, sizeof a.log) != 0;
		bad += t > 2 && ran == 0; /* the case under test did happen */
		evq_destroy(&a.q);
		evq_destroy(&b.q);
	}
	ck_assert_msg(bad == 0, "inline periodic events changed the order (%d cases)", bad);
}
END_TEST

/* ---- idle split loop ---- */

#define SPLIT_N 9

/* The split as documented (design §5): weights w (NULL: all 1), the last
 * participant with a weight > 0 takes pot minus what the others got. */
static int ref_split(double pot, const double *w, double wsum, int n, int *who, double *part)
{
	int last = -1, k = 0;
	for (int i = 0; i < n; i++)
		if (!w || w[i] > 0)
			last = i;
	double given = 0.0;
	for (int i = 0; i < n; i++) {
		double wi = w ? w[i] : 1.0;
		if (wi <= 0)
			continue;
		double p = i == last ? pot - given : pot * (wi / wsum);
		given += p;
		who[k] = i;
		part[k++] = p;
	}
	return k;
}

START_TEST(test_idle_split_iter)
{
	uint64_t seed = 99 + (uint64_t)_i;
	for (int round = 0; round < 200; round++) {
		int policy = (int)(rnd(&seed) % 4), n = (int)(rnd(&seed) % (SPLIT_N + 1));
		struct idle_split *s = idle_split_new(n, policy);
		ck_assert_ptr_nonnull(s);
		double pot = (double)(rnd(&seed) % 100000) / 7.0, busy[SPLIT_N] = {0},
		       act[SPLIT_N] = {0}, bsum = 0.0, asum = 0.0;
		idle_split_add_idle(s, pot);
		for (int i = 0; i < n; i++) {
			if (rnd(&seed) % 3 == 0)
				continue; /* no use at all: weight 0 */
			int64_t b = (int64_t)(rnd(&seed) % 1000000);
			double a = (double)(rnd(&seed) % 1000) / 3.0;
			idle_split_add_use(s, i, b, a);
			busy[i] += (double)b;
			act[i] += a;
			bsum += (double)b;
			asum += a;
		}
		int who[SPLIT_N], rwho[SPLIT_N], k = 0, rk = -1;
		double part[SPLIT_N], rpart[SPLIT_N];
		const double *w = NULL;
		double wsum = (double)n;
		if (policy == IDLE_UTILIZATION && bsum > 0)
			w = busy, wsum = bsum;
		else if (policy == IDLE_PROPORTIONAL && asum > 0)
			w = act, wsum = asum;
		int base = policy == IDLE_BASE || (policy == IDLE_EQUAL && n == 0) ||
			   (policy == IDLE_UTILIZATION && !(bsum > 0)) ||
			   (policy == IDLE_PROPORTIONAL && !(asum > 0));
		struct idle_split_iter it;
		int how = idle_split_begin(s, &it);
		if (pot == 0.0) {
			ck_assert_int_eq(how, IDLE_SPLIT_NONE);
		} else if (base) {
			ck_assert_int_eq(how, IDLE_SPLIT_BASE);
			ck_assert(it.pot == pot);
		} else {
			ck_assert_int_eq(how, IDLE_SPLIT_PARTS);
			rk = ref_split(pot, w, wsum, n, rwho, rpart);
			double j;
			for (int i; (i = idle_split_next(&it, &j)) >= 0;) {
				ck_assert_int_lt(k, SPLIT_N);
				who[k] = i;
				part[k++] = j;
			}
			ck_assert_int_eq(k, rk);
			for (int i = 0; i < k; i++) {
				ck_assert_int_eq(who[i], rwho[i]);
				if (memcmp(&part[i], &rpart[i], sizeof part[i]) != 0)
					ck_abort_msg("round %d part %d: %a, documented %a", round, i,
						     part[i], rpart[i]);
			}
		}
		idle_split_end(s);
		ck_assert(idle_split_pot(s) == 0.0);
		idle_split_free(s);
	}
}
END_TEST

/* ---- ledger snapshot ---- */

#define L_NC 13 /* rows 13 * 3 * 2 = 78: not a whole number of 8-flag words */
#define L_ND 3
#define L_NV 2

START_TEST(test_ledger_snapshot_rows)
{
	static const char *const cn[L_NC] = {"a", "b", "c", "d", "e", "f", "g",
					     "h", "i", "j", "k", "l", "m"};
	static const char *const dn[L_ND] = {"d0", "d1", "d2"};
	static const char *const vn[L_NV] = {"direct", "v1"};
	struct ledger *l = ledger_new(L_NC, cn, L_ND, dn, L_NV, vn);
	ck_assert_ptr_nonnull(l);
	static double cur[L_NC][L_ND][L_NV][2], tot[L_NC][L_ND][L_NV][2];
	memset(tot, 0, sizeof tot);
	uint64_t seed = 7;
	for (int snap = 0; snap < 20; snap++) {
		memset(cur, 0, sizeof cur);
		for (int k = 0; k < 40; k++) {
			int c = (int)(rnd(&seed) % L_NC), d = (int)(rnd(&seed) % L_ND);
			int v = (int)(rnd(&seed) % L_NV), kind = (int)(rnd(&seed) % 2);
			if (c > 2 && c < 9 && snap < 10)
				continue; /* whole words of unused rows for a while */
			double j = ((double)(rnd(&seed) % 20001) - 10000.0) / 9.0;
			ledger_charge(l, c, d, v, kind, j);
			cur[c][d][v][kind] += j;
		}
		double sum[L_ND];
		for (int d = 0; d < L_ND; d++) {
			sum[d] = 0.0;
			for (int c = 0; c < L_NC; c++)
				for (int v = 0; v < L_NV; v++)
					sum[d] = sum[d] + cur[c][d][v][0] + cur[c][d][v][1];
			ledger_meter(l, d, sum[d]);
		}
		ck_assert_int_eq(ledger_snapshot(l, snap), 0);
		for (int d = 0; d < L_ND; d++)
			if (memcmp(&l->dev_sum[d], &sum[d], sizeof sum[d]) != 0)
				ck_abort_msg("snapshot %d device %d: %a, in order %a", snap, d,
					     l->dev_sum[d], sum[d]);
		for (int c = 0; c < L_NC; c++)
			for (int d = 0; d < L_ND; d++)
				for (int v = 0; v < L_NV; v++)
					for (int kind = 0; kind < 2; kind++) {
						tot[c][d][v][kind] += cur[c][d][v][kind];
						ck_assert(ledger_interval(l, c, d, v, kind) ==
							  cur[c][d][v][kind]);
						ck_assert(ledger_total(l, c, d, v, kind) ==
							  tot[c][d][v][kind]);
					}
	}
	ck_assert_uint_eq(ledger_conservation(l)->violations, 0);
	ledger_free(l);
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
	tcase_add_test(tc, test_claim_limit);
	tcase_add_test(tc, test_run_root_reserved);
	tcase_add_test(tc, test_requeue_pick_rounds);
	tcase_add_loop_test(tc, test_idle_split_iter, 0, N_SEEDS);
	tcase_add_test(tc, test_ledger_snapshot_rows);
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
