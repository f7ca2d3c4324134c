/* check_sched_rr: tests of models/sched_rr.c (FIFO round-robin run queue). */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "models/sched.h"

#define N_SE 6

#define QUANTUM_NS 10000000 /* 10 ms */

static void mk(struct sched_rq *rq, struct sched_entity *se, int n)
{
	memset(rq, 0, sizeof *rq);
	rq->head = rq->tail = (struct sched_entity *)(uintptr_t)0x10; /* init must reset */
	rq->n = 77;
	rq->ops = &sched_rr;
	ck_assert_int_eq(rq->ops->init(rq, QUANTUM_NS), 0);
	memset(se, 0xa5, (size_t)n * sizeof *se); /* entity_init must reset */
	for (int i = 0; i < n; i++) {
		rq->ops->entity_init(rq, &se[i], 100);
		se[i].id = i;
	}
}

static void enq(struct sched_rq *rq, struct sched_entity *se)
{
	ck_assert_int_eq(rq->ops->enqueue(rq, se), 0);
}

/* Walk the list from head: it must have rq->n entries, end at tail, and
 * every entry must be flagged on_rq. */
static void check_rq(const struct sched_rq *rq)
{
	int n = 0;
	const struct sched_entity *last = NULL;
	for (const struct sched_entity *p = rq->head; p; p = p->next) {
		ck_assert_int_eq(p->on_rq, 1);
		last = p;
		ck_assert_int_le(++n, N_SE);
	}
	ck_assert_int_eq(n, rq->n);
	ck_assert_ptr_eq(rq->tail, last);
}

START_TEST(test_init_empty)
{
	struct sched_rq rq;
	struct sched_entity se[N_SE];
	mk(&rq, se, N_SE);
	ck_assert_ptr_null(rq.head);
	ck_assert_ptr_null(rq.tail);
	ck_assert_int_eq(rq.n, 0);
	ck_assert_ptr_null(rq.ops->pick_next(&rq));
	ck_assert_int_eq(rq.n, 0);
	ck_assert_int_eq(rq.quantum_ns, QUANTUM_NS);
	rq.ops->destroy(&rq);
}
END_TEST

static const struct {
	uint32_t tickets;
	uint64_t stride;
} ent_cases[] = {
	{1, SCHED_STRIDE1},
	{2, SCHED_STRIDE1 / 2},
	{100, SCHED_STRIDE1 / 100},
	{3, 1431655765ULL},
	{UINT32_MAX, 1},
	{0, SCHED_STRIDE1}, /* no tickets: treated as one, no division by 0 */
};
#define N_ENT (int)(sizeof ent_cases / sizeof ent_cases[0])

START_TEST(test_entity_init)
{
	int i = _i;
	struct sched_rq rq;
	struct sched_entity se;
	mk(&rq, &se, 1);
	memset(&se, 0xa5, sizeof se);
	rq.ops->entity_init(&rq, &se, ent_cases[i].tickets);
	ck_assert_uint_eq(se.tickets, ent_cases[i].tickets);
	ck_assert_uint_eq(se.stride, ent_cases[i].stride);
	ck_assert_uint_eq(se.pass, 0);
	ck_assert_int_eq(se.on_rq, 0);
	ck_assert_int_eq(se.sleeping, 0);
	ck_assert_ptr_null(se.next);
}
END_TEST

START_TEST(test_fifo_order)
{
	struct sched_rq rq;
	struct sched_entity se[N_SE];
	mk(&rq, se, N_SE);
	static const int order[] = {3, 0, 5, 1, 4, 2};
	for (int i = 0; i < N_SE; i++) {
		enq(&rq, &se[order[i]]);
		ck_assert_int_eq(se[order[i]].on_rq, 1);
		ck_assert_int_eq(rq.n, i + 1);
		check_rq(&rq);
	}
	for (int i = 0; i < N_SE; i++) {
		struct sched_entity *p = rq.ops->pick_next(&rq);
		ck_assert_ptr_nonnull(p);
		ck_assert_int_eq(p->id, order[i]);
		ck_assert_int_eq(p->on_rq, 0);
		ck_assert_ptr_null(p->next);
		ck_assert_int_eq(rq.n, N_SE - 1 - i);
		check_rq(&rq);
	}
	ck_assert_ptr_null(rq.ops->pick_next(&rq));
	ck_assert_ptr_null(rq.head);
	ck_assert_ptr_null(rq.tail);
}
END_TEST

/* Round-robin: pick, run a quantum, put back at the tail. Three always-
 * runnable vCPUs take turns 0 1 2 0 1 2 ... */
START_TEST(test_round_robin_rotation)
{
	struct sched_rq rq;
	struct sched_entity se[N_SE];
	mk(&rq, se, 3);
	for (int i = 0; i < 3; i++)
		enq(&rq, &se[i]);
	int runs[3] = {0, 0, 0};
	for (int q = 0; q < 30; q++) {
		struct sched_entity *p = rq.ops->pick_next(&rq);
		ck_assert_ptr_nonnull(p);
		ck_assert_int_eq(p->id, q % 3);
		rq.ops->charge(&rq, p, 10000000);
		runs[p->id]++;
		enq(&rq, p);
		check_rq(&rq);
	}
	ck_assert_int_eq(runs[0], 10);
	ck_assert_int_eq(runs[1], 10);
	ck_assert_int_eq(runs[2], 10);
}
END_TEST

/* A vCPU that blocks leaves the queue; one that wakes joins at the tail
 * (behind everyone already waiting). Script: e = enqueue id, d = dequeue
 * id (blocked while waiting; a no-op when not queued), p = pick and expect
 * id ('-': queue empty). */
static const struct {
	const char *name;
	const char *script; /* pairs: op, id digit */
} scripts[] = {
	{"wake-joins-tail", "e0e1p0e2e0p1p2p0p-"},
	{"drain-and-refill", "e4p4p-e4e5p4p5p-"},
	{"interleaved", "e0e1e2p0e3p1e0p2p3p0p-"},
	{"single", "e2p2e2p2p-"},
	{"dequeue-head", "e0e1e2d0p1p2p-"},
	{"dequeue-middle", "e0e1e2d1p0p2p-"},
	{"dequeue-tail-then-enqueue", "e0e1e2d2e3p0p1p3p-"},
	{"dequeue-only", "e5d5p-e5p5p-"},
	{"dequeue-not-queued", "e0d1d1p0d0p-"},
	{"dequeue-rejoin-tail", "e0e1e2d0e0p1p2p0p-"},
};
#define N_SCRIPTS (int)(sizeof scripts / sizeof scripts[0])

START_TEST(test_scripts)
{
	int i = _i;
	struct sched_rq rq;
	struct sched_entity se[N_SE];
	mk(&rq, se, N_SE);
	const char *s = scripts[i].script;
	for (int step = 0; s[0] && s[1]; s += 2, step++) {
		if (s[0] == 'e') {
			struct sched_entity *p = &se[s[1] - '0'];
			ck_assert_int_eq(p->on_rq, 0);
			enq(&rq, p);
			ck_assert_int_eq(p->on_rq, 1);
		} else if (s[0] == 'd') {
			struct sched_entity *p = &se[s[1] - '0'];
			int was = p->on_rq, n = rq.n;
			rq.ops->dequeue(&rq, p);
			ck_assert_int_eq(p->on_rq, 0);
			ck_assert_ptr_null(p->next);
			ck_assert_int_eq(rq.n, was ? n - 1 : n);
		} else {
			struct sched_entity *p = rq.ops->pick_next(&rq);
			if (s[1] == '-') {
				ck_assert_msg(p == NULL, "%s step %d: got %d, want empty",
					      scripts[i].name, step, p ? p->id : -1);
			} else {
				ck_assert_msg(p && p->id == s[1] - '0', "%s step %d: got %d want %c",
					      scripts[i].name, step, p ? p->id : -1, s[1]);
				ck_assert_int_eq(p->on_rq, 0);
			}
		}
		check_rq(&rq);
	}
}
END_TEST

/* An entity flagged on_rq that is not on this queue is left alone. */
START_TEST(test_dequeue_foreign)
{
	struct sched_rq rq, other;
	struct sched_entity se[N_SE];
	mk(&rq, se, N_SE);
	memset(&other, 0, sizeof other);
	other.ops = &sched_rr;
	ck_assert_int_eq(other.ops->init(&other, QUANTUM_NS), 0);
	enq(&rq, &se[0]);
	enq(&other, &se[1]);
	rq.ops->dequeue(&rq, &se[1]);
	ck_assert_int_eq(rq.n, 1);
	ck_assert_int_eq(se[1].on_rq, 1);
	check_rq(&rq);
	check_rq(&other);
}
END_TEST

/* enqueue makes a sleeping entity runnable again. */
START_TEST(test_enqueue_clears_sleeping)
{
	struct sched_rq rq;
	struct sched_entity se[N_SE];
	mk(&rq, se, 1);
	se[0].sleeping = 1;
	enq(&rq, &se[0]);
	ck_assert_int_eq(se[0].sleeping, 0);
	ck_assert_ptr_eq(rq.ops->pick_next(&rq), &se[0]);
}
END_TEST

/* charge and stride_changed are no-ops for rr: it changes neither the order nor the entity. */
START_TEST(test_charge_no_effect)
{
	struct sched_rq rq;
	struct sched_entity se[N_SE];
	mk(&rq, se, 2);
	enq(&rq, &se[0]);
	enq(&rq, &se[1]);
	struct sched_entity copy = se[1];
	rq.ops->charge(&rq, &se[1], 123456789);
	se[1].stride /= 2;
	copy.stride = se[1].stride;
	rq.ops->stride_changed(&rq, &se[1]);
	ck_assert_int_eq(memcmp(&se[1], &copy, sizeof copy), 0);
	ck_assert_ptr_eq(rq.head, &se[0]);
	ck_assert_int_eq(rq.ops->pick_next(&rq)->id, 0);
	ck_assert_int_eq(rq.ops->pick_next(&rq)->id, 1);
}
END_TEST

static const struct {
	const char *name;
	const struct sched_ops *want;
} lookups[] = {
	{"rr", &sched_rr},
	{"RR", NULL},
	{"", NULL},
	{"r", NULL},
	{"rr ", NULL},
};
#define N_LOOKUPS (int)(sizeof lookups / sizeof lookups[0])

START_TEST(test_lookup)
{
	int i = _i;
	ck_assert_ptr_eq(sched_lookup(lookups[i].name), lookups[i].want);
}
END_TEST

START_TEST(test_registry)
{
	int n = 0;
	for (; sched_classes[n]; n++) {
		const struct sched_ops *o = sched_classes[n];
		ck_assert_ptr_nonnull(o->name);
		ck_assert_ptr_nonnull(o->help);
		ck_assert_ptr_nonnull(o->init);
		ck_assert_ptr_nonnull(o->destroy);
		ck_assert_ptr_nonnull(o->entity_init);
		ck_assert_ptr_nonnull(o->enqueue);
		ck_assert_ptr_nonnull(o->dequeue);
		ck_assert_ptr_nonnull(o->pick_next);
		ck_assert_ptr_nonnull(o->charge);
		ck_assert_ptr_nonnull(o->stride_changed);
		ck_assert_ptr_eq(sched_lookup(o->name), o);
	}
	ck_assert_int_ge(n, 1);
	ck_assert_ptr_eq(sched_classes[0], &sched_rr);
	ck_assert_str_eq(sched_rr.name, "rr");
}
END_TEST

static Suite *sched_rr_suite(void)
{
	Suite *s = suite_create("sched_rr");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_init_empty);
	tcase_add_loop_test(tc, test_entity_init, 0, N_ENT);
	tcase_add_test(tc, test_fifo_order);
	tcase_add_test(tc, test_round_robin_rotation);
	tcase_add_loop_test(tc, test_scripts, 0, N_SCRIPTS);
	tcase_add_test(tc, test_dequeue_foreign);
	tcase_add_test(tc, test_enqueue_clears_sleeping);
	tcase_add_test(tc, test_charge_no_effect);
	tcase_add_loop_test(tc, test_lookup, 0, N_LOOKUPS);
	tcase_add_test(tc, test_registry);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(sched_rr_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
