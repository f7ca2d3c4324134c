/* check_stride: tests of models/stride.c (stride scheduling), driving the
 * class directly with a small simulated CPU: each step picks the next
 * entity, runs it for (at most) one quantum, charges it and re-enqueues it
 * if it is still runnable. The run queue's layout (pass groups,
 * models/stride.h) is checked after the steps, and test_reference drives
 * the class and a plain array reference with the same random operations. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/jv_err.h"
#include "models/sched.h"
#include "models/stride.h"

#define Q_NS 1000000LL        /* quantum: 1 ms */
#define S1 SCHED_STRIDE1
#define SEC_NS 1000000000LL
#define MAX_CLI 16

/* ---- queue helpers ---- */

static int64_t pdiff(uint64_t a, uint64_t b)
{
	uint64_t d = a - b;
	return d <= (uint64_t)INT64_MAX ? (int64_t)d : -(int64_t)(~d) - 1;
}

/* (pass, id) order with negative ids last, as the class documents. */
static int before(const struct sched_entity *a, const struct sched_entity *b)
{
	int64_t d = pdiff(a->pass, b->pass);
	return d ? d < 0 : (unsigned)a->id < (unsigned)b->id;
}

static int grp_before(const struct stride_grp *a, const struct stride_grp *b)
{
	int64_t d = pdiff(a->pass, b->pass);
	return d ? d < 0 : a->hid < b->hid;
}

/* The queue's layout (models/stride.h) is consistent: each live group a
 * non-empty list of queued members of its pass in increasing unsigned id
 * order, the groups a heap by (pass, first id), rq->n members in all,
 * the free list holding the other groups, root_unique true only when it
 * holds, the hint a live group or none. Returns NULL or what is wrong. */
static const char *queue_error(const struct sched_rq *rq)
{
	static char msg[160];
	uint32_t members = 0;
	if (rq->heap_n > rq->grp_total)
		return "more live groups than allocated";
	for (uint32_t i = 0; i < rq->heap_n; i++) {
		const struct stride_grp *g = rq->heap[i];
		if (g->heap_idx != i)
			return "a group's heap_idx is not its place";
		if (i && grp_before(g, rq->heap[(i - 1) / 2]))
			return "heap order broken";
		if (!g->head || g->head->prev || g->hid != (unsigned)g->head->id)
			return "group head, its prev or hid wrong";
		const struct sched_entity *prev = NULL;
		for (const struct sched_entity *e = g->head; e; prev = e, e = e->next) {
			members++;
			if (members > (uint32_t)rq->n)
				return "more members than rq->n (or a cycle)";
			if (e->grp != g || e->on_rq != 1 || e->pass != g->pass || e->prev != prev) {
				snprintf(msg, sizeof msg, "member id %d: grp/on_rq/pass/prev wrong", e->id);
				return msg;
			}
			if (prev && (unsigned)prev->id >= (unsigned)e->id)
				return "members out of id order";
		}
		if (g->tail != prev)
			return "group tail wrong";
	}
	if (members != (uint32_t)rq->n)
		return "rq->n is not the number of members";
	uint32_t nfree = 0;
	for (const struct stride_grp *g = rq->grp_free; g; g = g->next_free)
		if (++nfree > rq->grp_total)
			return "free list too long (or a cycle)";
	if (nfree + rq->heap_n != rq->grp_total)
		return "groups lost: free + live != allocated";
	if (rq->grp_total < (uint32_t)rq->n)
		return "fewer groups than queued entities";
	if (rq->root_unique)
		for (uint32_t i = 1; i < rq->heap_n; i++)
			if (pdiff(rq->heap[i]->pass, rq->heap[0]->pass) <= 0)
				return "root_unique set with another group at the root's pass";
	if (rq->hint && rq->hint->head) {
		const struct stride_grp *h = rq->hint;
		if (h->heap_idx >= rq->heap_n || rq->heap[h->heap_idx] != h)
			return "hint is not a live group";
	}
	return NULL;
}

static void check_heap(const struct sched_rq *rq)
{
	const char *err = queue_error(rq);
	if (err)
		ck_abort_msg("queue: %s", err);
}

static void mk_rq(struct sched_rq *rq)
{
	memset(rq, 0x5a, sizeof *rq); /* init must reset everything it uses */
	ck_assert_int_eq(sched_stride.init(rq, Q_NS), 0);
	rq->ops = &sched_stride;
}

static void enq(struct sched_rq *rq, struct sched_entity *se)
{
	int err = rq->ops->enqueue(rq, se);
	if (err)
		ck_abort_msg("enqueue: %d", err);
}

/* ---- the simulated CPU ---- */

struct cli {
	uint32_t tickets;
	int id;
	int64_t burst_ns;   /* CPU per pick (0: a full quantum) */
	int blocks;         /* blocks after each burst and wakes at once */
	int64_t sleep_at;   /* one sleep [sleep_at, wake_at) (sleep_at < 0: none) */
	int64_t wake_at;
	int bank;           /* wake with sleeping cleared (a class that banks) */
};

struct sim {
	struct sched_rq rq;
	struct sched_entity se[MAX_CLI];
	struct cli c[MAX_CLI];
	int n;
	int64_t now;
	int64_t ran[MAX_CLI];
	int asleep[MAX_CLI], slept[MAX_CLI];
	uint64_t steps;
};

static void sim_init(struct sim *s, const struct cli *c, int n, uint64_t global_pass)
{
	memset(s, 0, sizeof *s);
	mk_rq(&s->rq);
	s->rq.global_pass = global_pass;
	s->n = n;
	for (int i = 0; i < n; i++) {
		s->c[i] = c[i];
		if (!s->c[i].sleep_at && !s->c[i].wake_at)
			s->c[i].sleep_at = -1;
		memset(&s->se[i], 0xa5, sizeof s->se[i]);
		s->rq.ops->entity_init(&s->rq, &s->se[i], c[i].tickets);
		s->se[i].id = c[i].id;
		enq(&s->rq, &s->se[i]);
	}
	check_heap(&s->rq);
}

static int slot(const struct sim *s, const struct sched_entity *se)
{
	return (int)(se - s->se);
}

/* One scheduling decision. Returns the slot that ran, -1 if the CPU idled. */
static int sim_step(struct sim *s)
{
	struct sched_rq *rq = &s->rq;
	for (int i = 0; i < s->n; i++) {
		struct cli *c = &s->c[i];
		if (c->sleep_at >= 0 && !s->slept[i] && s->now >= c->sleep_at) {
			rq->ops->dequeue(rq, &s->se[i]);
			if (s->se[i].on_rq || !s->se[i].sleeping)
				ck_abort_msg("dequeue did not mark sleeping");
			s->asleep[i] = s->slept[i] = 1;
		}
		if (s->asleep[i] && s->now >= c->wake_at) {
			s->asleep[i] = 0;
			if (c->bank)
				s->se[i].sleeping = 0;
			enq(rq, &s->se[i]);
		}
	}
	uint64_t g0 = rq->global_pass;
	struct sched_entity *se = rq->ops->pick_next(rq);
	if (pdiff(rq->global_pass, g0) < 0)
		ck_abort_msg("pick_next: global_pass went back");
	if (!se) {
		int64_t next = INT64_MAX;
		for (int i = 0; i < s->n; i++)
			if (s->asleep[i] && s->c[i].wake_at < next)
				next = s->c[i].wake_at;
		ck_assert_int_ne(next, INT64_MAX);
		s->now = next;
		return -1;
	}
	/* global_pass never overtakes a runnable entity (unless a client was
	 * made to bank credit). Hot loop: plain ifs, as every passing
	 * ck_assert costs a message to the parent process. */
	int banks = 0;
	for (int k = 0; k < s->n; k++)
		banks |= s->c[k].bank;
	if (!banks && pdiff(rq->global_pass, se->pass) > 0)
		ck_abort_msg("global_pass ahead of the picked entity");
	for (uint32_t k = 0; !banks && k < rq->heap_n; k++)
		if (pdiff(rq->heap[k]->pass, rq->global_pass) < 0) /* a group's pass is its members' */
			ck_abort_msg("global_pass ahead of a queued entity");
	int i = slot(s, se);
	int64_t run = s->c[i].burst_ns ? s->c[i].burst_ns : Q_NS;
	g0 = rq->global_pass;
	rq->ops->charge(rq, se, run);
	if (pdiff(rq->global_pass, g0) < 0 || se->pass_rem >= (uint64_t)Q_NS)
		ck_abort_msg("charge: global_pass went back or remainder >= quantum");
	s->ran[i] += run;
	s->now += run;
	s->steps++;
	if (s->c[i].blocks)
		se->sleeping = 1; /* the machine marks a vCPU that blocked */
	enq(rq, se);
	return i;
}

static void sim_until(struct sim *s, int64_t t_ns)
{
	while (s->now < t_ns)
		sim_step(s);
	check_heap(&s->rq);
}

static void sim_free(struct sim *s)
{
	s->rq.ops->destroy(&s->rq);
	ck_assert_ptr_null(s->rq.heap);
}

static double quanta(int64_t ns)
{
	return (double)ns / (double)Q_NS;
}

/* Waldspurger's bounds for always-runnable clients, whole quanta, equal
 * start passes, checked on the allocation a_i (in quanta):
 *   pairwise, every ordered pair: a_i - a_j * t_i / t_j <= 1 (+ truncation)
 *   absolute: -n * t_i / T <= a_i - total * t_i / T <= 1 (+ truncation)
 * The truncation allowance covers stride = floor(2^32 / t) (relative error
 * < t / 2^32 per stride); it is < 1e-5 quanta for the tables below but
 * keeps the 1e6-ticket case honest. */
static void check_bounds(const struct sim *s)
{
	double total = 0, tt = 0;
	for (int i = 0; i < s->n; i++) {
		total += quanta(s->ran[i]);
		tt += s->c[i].tickets;
	}
	for (int i = 0; i < s->n; i++) {
		double ti = s->c[i].tickets, ai = quanta(s->ran[i]);
		for (int j = 0; j < s->n; j++) {
			if (i == j)
				continue;
			double tj = s->c[j].tickets, aj = quanta(s->ran[j]);
			double tol = 1e-9 + aj * ti / tj * 2.0 * (ti + tj) / (double)S1;
			if (!(ai - aj * ti / tj <= 1.0 + tol))
				ck_abort_msg("step %llu: pair (%d,%d): a=%g,%g t=%g,%g", (unsigned long long)s->steps,
				      i, j, ai, aj, ti, tj);
		}
		double err = ai - total * ti / tt;
		double tol = 1e-9 + total * 2.0 * (double)s->n * 1e6 / (double)S1;
		if (!(err <= 1.0 + tol && err >= -(double)s->n * ti / tt - tol))
			ck_abort_msg("step %llu: client %d absolute error %g quanta", (unsigned long long)s->steps,
			      i, err);
		if (!(err < s->n && err > -s->n))
			ck_abort_msg("absolute error beyond n quanta");
	}
}

/* ---- tests ---- */

START_TEST(test_init)
{
	struct sched_rq rq;
	mk_rq(&rq);
	ck_assert_ptr_null(rq.heap);
	ck_assert_uint_eq(rq.heap_n, 0);
	ck_assert_int_eq(rq.n, 0);
	ck_assert_uint_eq(rq.global_pass, 0);
	ck_assert_int_eq(rq.quantum_ns, Q_NS);
	ck_assert_ptr_null(rq.ops->pick_next(&rq));
	rq.ops->destroy(&rq);
	rq.ops->destroy(&rq); /* idempotent */
	ck_assert_int_eq(sched_stride.init(&rq, 0), JV_EINVAL);
	ck_assert_int_eq(sched_stride.init(&rq, -5), JV_EINVAL);
	sched_stride.destroy(&rq);
}
END_TEST

static const struct {
	uint32_t tickets;
	uint64_t stride;
} ent_cases[] = {
	{1, S1},
	{2, S1 / 2},
	{3, 1431655765ULL},
	{4, S1 / 4},
	{100, 42949672ULL},
	{1000000, 4294ULL}, /* >= 12 bits of stride at the ticket maximum */
	{UINT32_MAX, 1},
	{0, S1}, /* no tickets: treated as one */
};
#define N_ENT (int)(sizeof ent_cases / sizeof ent_cases[0])

START_TEST(test_entity_init)
{
	struct sched_rq rq;
	struct sched_entity se;
	mk_rq(&rq);
	rq.global_pass = 123456789;
	memset(&se, 0xa5, sizeof se);
	se.id = 3;
	rq.ops->entity_init(&rq, &se, ent_cases[_i].tickets);
	ck_assert_uint_eq(se.stride, ent_cases[_i].stride);
	ck_assert_uint_eq(se.tickets, ent_cases[_i].tickets ? ent_cases[_i].tickets : 1);
	ck_assert_uint_eq(se.pass, 123456789);
	ck_assert_uint_eq(se.pass_rem, 0);
	ck_assert_int_eq(se.on_rq, 0);
	ck_assert_int_eq(se.sleeping, 1);
	ck_assert_int_eq(se.id, 3); /* the owner's */
	ck_assert_ptr_null(se.next);
	rq.ops->destroy(&rq);
}
END_TEST

/* Fairness: always-runnable clients, 10 s of 1 ms quanta, the bounds
 * checked after every quantum. */
static const struct {
	uint32_t tickets[MAX_CLI];
	int n;
} fair_cases[] = {
	{{1, 2, 3, 4}, 4},
	{{100, 100, 100, 100, 100}, 5},
	{{3, 5, 7}, 3},
	{{1, 1000, 1000000}, 3},
	{{50, 100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 51200, 102400}, 12},
};
#define N_FAIR (int)(sizeof fair_cases / sizeof fair_cases[0])

START_TEST(test_fairness)
{
	struct sim s;
	struct cli c[MAX_CLI];
	memset(c, 0, sizeof c);
	for (int i = 0; i < fair_cases[_i].n; i++) {
		c[i].tickets = fair_cases[_i].tickets[i];
		c[i].id = i;
	}
	sim_init(&s, c, fair_cases[_i].n, 0);
	while (s.now < 10 * SEC_NS) {
		sim_step(&s);
		check_bounds(&s);
	}
	check_heap(&s.rq);
	sim_free(&s);
}
END_TEST

/* Tickets 1:2:3:4 over 10 s: 1000/2000/3000/4000 quanta (+-1), and the
 * first ten quanta as the theory comment's worked example states. */
START_TEST(test_fairness_1234)
{
	static const int first[] = {0, 1, 2, 3, 3, 2, 1, 3, 2, 3};
	struct sim s;
	struct cli c[4];
	memset(c, 0, sizeof c);
	for (int i = 0; i < 4; i++) {
		c[i].tickets = (uint32_t)i + 1;
		c[i].id = i;
	}
	sim_init(&s, c, 4, 0);
	for (int k = 0; k < 10; k++)
		ck_assert_int_eq(sim_step(&s), first[k]);
	ck_assert_uint_eq(s.se[0].pass, S1);
	ck_assert_uint_eq(s.se[1].pass, S1);
	ck_assert_uint_eq(s.se[2].pass, S1 - 1);
	ck_assert_uint_eq(s.se[3].pass, S1);
	ck_assert_int_eq(sim_step(&s), 2);
	sim_until(&s, 10 * SEC_NS);
	for (int i = 0; i < 4; i++) {
		int64_t want = (i + 1) * 1000 * Q_NS;
		ck_assert_msg(llabs(s.ran[i] - want) <= Q_NS, "client %d ran %g quanta", i,
			      quanta(s.ran[i]));
	}
	sim_free(&s);
}
END_TEST

/* Charging is pro rata with the remainder carried: n charges of ran_ns
 * advance pass by exactly floor(stride * n * ran_ns / quantum). */
static const struct {
	uint32_t tickets;
	int64_t ran_ns;
	int count;
} charge_cases[] = {
	{100, Q_NS / 2, 1},     /* half a quantum: half a stride */
	{100, Q_NS, 3},         /* whole quanta */
	{3, 333333, 3},         /* thirds that do not divide */
	{1000000, 1000, 10000}, /* 1 us bursts at stride 4294: 0.0043 units each */
	{1000000, 1, 5000000},  /* 1 ns charges */
	{7, 999999, 1001},
	{1, 3 * Q_NS / 4, 5},
};
#define N_CHARGE (int)(sizeof charge_cases / sizeof charge_cases[0])

START_TEST(test_charge_pro_rata)
{
	struct sched_rq rq;
	struct sched_entity se;
	mk_rq(&rq);
	memset(&se, 0, sizeof se);
	rq.ops->entity_init(&rq, &se, charge_cases[_i].tickets);
	uint64_t p0 = se.pass;
	for (int k = 0; k < charge_cases[_i].count; k++) {
		rq.ops->charge(&rq, &se, charge_cases[_i].ran_ns);
		if (se.pass_rem >= (uint64_t)Q_NS)
			ck_abort_msg("remainder >= quantum");
	}
	__extension__ unsigned __int128 want =
		(unsigned __int128)se.stride * (uint64_t)charge_cases[_i].ran_ns *
		(uint64_t)charge_cases[_i].count / (uint64_t)Q_NS;
	ck_assert_uint_eq(se.pass - p0, (uint64_t)want);
	ck_assert_uint_lt(se.pass_rem, (uint64_t)Q_NS);
	/* global_pass follows the only entity */
	ck_assert_uint_eq(rq.global_pass, se.pass);
	rq.ops->destroy(&rq);
}
END_TEST

START_TEST(test_charge_limits)
{
	struct sched_rq rq;
	struct sched_entity se;
	mk_rq(&rq);
	memset(&se, 0, sizeof se);
	rq.ops->entity_init(&rq, &se, 100);
	rq.ops->charge(&rq, &se, 0);
	rq.ops->charge(&rq, &se, -Q_NS);
	ck_assert_uint_eq(se.pass, 0);
	se.stride = 0; /* behaves as 1 */
	rq.ops->charge(&rq, &se, Q_NS);
	ck_assert_uint_eq(se.pass, 1);
	se.stride = UINT64_MAX; /* clamped to 2^56 */
	rq.ops->charge(&rq, &se, Q_NS);
	ck_assert_uint_eq(se.pass, 1 + (1ULL << 56));
	rq.ops->charge(&rq, &se, 8 * Q_NS); /* 2^59: advance capped at 2^58 */
	ck_assert_uint_eq(se.pass, 1 + (1ULL << 56) + (1ULL << 58));
	ck_assert_uint_eq(se.pass_rem, 0);
	rq.ops->destroy(&rq);
}
END_TEST

/* A client that runs only half quanta and blocks (waking at once) is
 * charged half a stride per run, so it is picked twice as often as an
 * equal-ticket client using whole quanta: equal CPU time. */
START_TEST(test_partial_quanta)
{
	struct sim s;
	struct cli c[2] = {
		{.tickets = 100, .id = 0, .burst_ns = Q_NS / 2, .blocks = 1},
		{.tickets = 100, .id = 1},
	};
	sim_init(&s, c, 2, 0);
	uint64_t p = s.se[0].pass;
	ck_assert_int_eq(sim_step(&s), 0);
	ck_assert_uint_eq(s.se[0].pass - p, s.se[0].stride / 2);
	int picks0 = 1, picks1 = 0;
	while (s.now < 10 * SEC_NS) {
		if (sim_step(&s) == 0)
			picks0++;
		else
			picks1++;
		if (llabs(s.ran[0] - s.ran[1]) > Q_NS)
			ck_abort_msg("partial: |a0 - a1| = %lld ns", llabs(s.ran[0] - s.ran[1]));
	}
	ck_assert_int_le(abs(picks0 - 2 * picks1), 2);
	ck_assert_int_le(llabs(s.ran[0] - 5 * SEC_NS), Q_NS);
	sim_free(&s);
}
END_TEST

/* No banked credit: three equal clients; client 2 sleeps over [1 s, 2 s).
 * Over [2 s, 5 s) it gets its third (like a control that never slept),
 * not a catch-up burst; a class that banked (sleeping cleared on wake) is
 * shown to be detectable: client 2 would get ~1.33 s. */
static int64_t window_after_sleep(int sleeps, int bank)
{
	struct sim s;
	struct cli c[3] = {
		{.tickets = 100, .id = 0},
		{.tickets = 100, .id = 1},
		{.tickets = 100, .id = 2, .sleep_at = -1},
	};
	if (sleeps) {
		c[2].sleep_at = SEC_NS;
		c[2].wake_at = 2 * SEC_NS;
		c[2].bank = bank;
	}
	sim_init(&s, c, 3, 0);
	sim_until(&s, 2 * SEC_NS);
	if (sleeps)
		ck_assert_int_le(llabs(s.ran[2] - SEC_NS / 3), Q_NS);
	int64_t before_ns = s.ran[2];
	sim_until(&s, 5 * SEC_NS);
	int64_t w = s.ran[2] - before_ns;
	sim_free(&s);
	return w;
}

START_TEST(test_no_banked_credit)
{
	int64_t ctl = window_after_sleep(0, 0);
	int64_t slept = window_after_sleep(1, 0);
	int64_t banked = window_after_sleep(1, 1);
	ck_assert_int_le(llabs(ctl - SEC_NS), 2 * Q_NS);
	ck_assert_int_le(llabs(slept - ctl), 2 * Q_NS);
	ck_assert_int_le(slept, SEC_NS + Q_NS);
	ck_assert_int_gt(banked, SEC_NS + SEC_NS / 4);
}
END_TEST

/* Wake-up: a sleeping entity's pass becomes max(pass, global_pass); a
 * non-sleeping one keeps its pass. */
static const struct {
	uint64_t pass, global;
	int sleeping;
	uint64_t want;
} wake_cases[] = {
	{10, 20, 1, 20},
	{30, 20, 1, 30}, /* still ahead: debt kept */
	{10, 20, 0, 10}, /* quantum expired: keeps its pass */
	{UINT64_MAX - 100, 5, 1, 5}, /* behind across the wrap */
	{3, UINT64_MAX - 1, 1, 3},   /* ahead across the wrap */
	{5 + (1ULL << 62), 5, 1, 5}, /* implausible lead: wrapped while asleep */
	{5 + (1ULL << 59), 5, 1, 5 + (1ULL << 59)},
};
#define N_WAKE (int)(sizeof wake_cases / sizeof wake_cases[0])

START_TEST(test_wake)
{
	struct sched_rq rq;
	struct sched_entity se;
	mk_rq(&rq);
	memset(&se, 0, sizeof se);
	rq.ops->entity_init(&rq, &se, 100);
	rq.global_pass = wake_cases[_i].global;
	se.pass = wake_cases[_i].pass;
	se.sleeping = wake_cases[_i].sleeping;
	enq(&rq, &se);
	ck_assert_uint_eq(se.pass, wake_cases[_i].want);
	ck_assert_int_eq(se.sleeping, 0);
	ck_assert_int_eq(se.on_rq, 1);
	enq(&rq, &se); /* already queued: no-op */
	ck_assert_int_eq(rq.n, 1);
	ck_assert_ptr_eq(rq.ops->pick_next(&rq), &se);
	ck_assert_int_eq(se.on_rq, 0);
	ck_assert_ptr_null(rq.ops->pick_next(&rq));
	rq.ops->destroy(&rq);
}
END_TEST

/* Changing the stride by an offset: A and B have 100 tickets; after 1 s
 * A's stride is multiplied by num/den (an offset added or subtracted);
 * over the next 4 s the CPU splits in the inverse ratio of the strides. */
static const struct {
	uint64_t num, den;
} stride_cases[] = {
	{2, 1}, /* doubling A's stride halves its share relative to B */
	{4, 1},
	{1, 2}, /* subtracting half: A gets twice B's share */
	{3, 2},
};
#define N_STRIDE (int)(sizeof stride_cases / sizeof stride_cases[0])

START_TEST(test_stride_changed)
{
	struct sim s;
	struct cli c[2] = {{.tickets = 100, .id = 0}, {.tickets = 100, .id = 1}};
	sim_init(&s, c, 2, 0);
	sim_until(&s, SEC_NS);
	int64_t a0 = s.ran[0], b0 = s.ran[1];
	ck_assert_int_le(llabs(a0 - b0), Q_NS);
	uint64_t st = s.se[0].stride;
	uint64_t ns = st * stride_cases[_i].num / stride_cases[_i].den;
	s.se[0].stride = ns; /* the manager adds (or subtracts) ns - st */
	s.rq.ops->stride_changed(&s.rq, &s.se[0]);
	check_heap(&s.rq);
	sim_until(&s, 5 * SEC_NS);
	double a = quanta(s.ran[0] - a0), b = quanta(s.ran[1] - b0);
	double want_a = 4000.0 * (double)st / (double)(st + ns);
	ck_assert_msg(a - want_a <= 2.0 && want_a - a <= 2.0, "A got %g quanta, want %g", a, want_a);
	ck_assert_double_eq_tol(a + b, 4000.0, 1e-9);
	sim_free(&s);
}
END_TEST

/* Lowering a stride that was huge takes effect at once: the entity's lead
 * is cut to one new stride instead of being worked off at the new rate. */
START_TEST(test_stride_lowered_promptly)
{
	struct sim s;
	struct cli c[2] = {{.tickets = 100, .id = 0}, {.tickets = 100, .id = 1}};
	sim_init(&s, c, 2, 0);
	uint64_t st = s.se[0].stride;
	s.se[0].stride = st * 10000; /* throttled hard */
	s.rq.ops->stride_changed(&s.rq, &s.se[0]);
	sim_until(&s, SEC_NS);
	ck_assert_int_le(s.ran[0], 2 * Q_NS);
	ck_assert_int_gt(pdiff(s.se[0].pass, s.rq.global_pass), (int64_t)(100 * st));
	s.se[0].stride = st; /* limit lifted */
	s.rq.ops->stride_changed(&s.rq, &s.se[0]);
	check_heap(&s.rq);
	ck_assert_int_le(pdiff(s.se[0].pass, s.rq.global_pass), (int64_t)st);
	int64_t a0 = s.ran[0];
	sim_until(&s, SEC_NS + 3 * Q_NS);
	ck_assert_int_ge(s.ran[0] - a0, Q_NS);
	/* raising the stride does not move the pass */
	uint64_t p = s.se[1].pass;
	s.se[1].stride = st * 3;
	s.rq.ops->stride_changed(&s.rq, &s.se[1]);
	ck_assert_uint_eq(s.se[1].pass, p);
	sim_free(&s);
}
END_TEST

/* The idle vCPU (id -1, one ticket) among n clients with 100 tickets gets
 * 1/(1 + 100 n) of the CPU; when the manager raises the clients' strides
 * to n * 2^32 * f / (1 - f) the idle vCPU gets the fraction f (the paper's
 * way to make limits binding). */
static const struct {
	int n;
	double f;
} idle_cases[] = {
	{1, 0.4},
	{3, 0.4},
	{3, 0.9},
	{8, 0.5},
};
#define N_IDLE (int)(sizeof idle_cases / sizeof idle_cases[0])

START_TEST(test_idle_entity)
{
	int n = idle_cases[_i].n;
	double f = idle_cases[_i].f;
	struct sim s;
	struct cli c[MAX_CLI];
	memset(c, 0, sizeof c);
	c[0].tickets = 1;
	c[0].id = -1;
	for (int i = 1; i <= n; i++) {
		c[i].tickets = 100;
		c[i].id = i - 1;
	}
	sim_init(&s, c, n + 1, 0);
	sim_until(&s, 10 * SEC_NS);
	double want = 10000.0 / (1.0 + 100.0 * n);
	ck_assert_msg(quanta(s.ran[0]) - want <= 1.0 && want - quanta(s.ran[0]) <= 1.0,
		      "idle got %g quanta, want %g", quanta(s.ran[0]), want);
	int64_t i0 = s.ran[0];
	uint64_t sc = (uint64_t)((double)n * (double)S1 * f / (1.0 - f));
	for (int i = 1; i <= n; i++) {
		s.se[i].stride += sc - s.se[i].stride; /* the manager's offset */
		s.rq.ops->stride_changed(&s.rq, &s.se[i]);
	}
	check_heap(&s.rq);
	sim_until(&s, 20 * SEC_NS);
	double got = quanta(s.ran[0] - i0), want2 = 10000.0 * f;
	ck_assert_msg(got - want2 <= n + 1.0 && want2 - got <= n + 1.0,
		      "idle got %g quanta after raising strides, want %g", got, want2);
	sim_free(&s);
}
END_TEST

/* Equal passes pick by id, the idle vCPU (-1) last; a lower pass wins
 * over any id. */
START_TEST(test_ties)
{
	static const int ids[] = {5, -1, 2, 0, 7, 3};
	static const int want[] = {0, 2, 3, 5, 7, -1};
	struct sched_rq rq;
	struct sched_entity se[6];
	mk_rq(&rq);
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 6; i++) {
			rq.ops->entity_init(&rq, &se[i], 100);
			se[i].id = ids[i];
			se[i].pass = 1000;
			se[i].sleeping = 0;
		}
		if (round == 1)
			se[1].pass = 999; /* idle vCPU one unit behind: it goes first */
		for (int i = 0; i < 6; i++)
			enq(&rq, &se[(i * 5 + round) % 6]);
		check_heap(&rq);
		if (round == 1)
			ck_assert_int_eq(rq.ops->pick_next(&rq)->id, -1);
		for (int k = 0; k < 6 - round; k++) {
			struct sched_entity *p = rq.ops->pick_next(&rq);
			ck_assert_ptr_nonnull(p);
			ck_assert_int_eq(p->id, want[k]);
			check_heap(&rq);
		}
		ck_assert_ptr_null(rq.ops->pick_next(&rq));
	}
	rq.ops->destroy(&rq);
}
END_TEST

/* Dequeue of entity _i from a queue of 9 with distinct passes: the queue
 * stays valid and the rest come out in pass order. */
#define N_DQ 9
START_TEST(test_dequeue)
{
	static const uint64_t passes[N_DQ] = {50, 10, 80, 30, 70, 20, 90, 40, 60};
	struct sched_rq rq;
	struct sched_entity se[N_DQ];
	mk_rq(&rq);
	for (int i = 0; i < N_DQ; i++) {
		rq.ops->entity_init(&rq, &se[i], 100);
		se[i].id = i;
		se[i].pass = passes[i];
		se[i].sleeping = 0;
		enq(&rq, &se[i]);
	}
	check_heap(&rq);
	rq.ops->dequeue(&rq, &se[_i]);
	ck_assert_int_eq(se[_i].on_rq, 0);
	ck_assert_int_eq(se[_i].sleeping, 1);
	ck_assert_int_eq(rq.n, N_DQ - 1);
	check_heap(&rq);
	rq.ops->dequeue(&rq, &se[_i]); /* not queued: no-op */
	ck_assert_int_eq(rq.n, N_DQ - 1);
	uint64_t last = 0;
	for (int k = 0; k < N_DQ - 1; k++) {
		struct sched_entity *p = rq.ops->pick_next(&rq);
		ck_assert_ptr_nonnull(p);
		ck_assert_ptr_ne(p, &se[_i]);
		ck_assert_uint_gt(p->pass, last);
		last = p->pass;
		check_heap(&rq);
	}
	ck_assert_ptr_null(rq.ops->pick_next(&rq));
	rq.ops->destroy(&rq);
}
END_TEST

/* Many entities: the queue grows past its first allocation and stays
 * valid through random enqueue/dequeue/pick. */
START_TEST(test_heap_growth)
{
	enum { N = 1000 };
	struct sched_entity *se = calloc(N, sizeof *se);
	ck_assert_ptr_nonnull(se);
	struct sched_rq rq;
	mk_rq(&rq);
	uint64_t x = 88172645463325252ULL;
	for (int i = 0; i < N; i++) {
		rq.ops->entity_init(&rq, &se[i], 100);
		se[i].id = i;
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		se[i].pass = x % 5000;
		se[i].sleeping = 0;
		enq(&rq, &se[i]);
	}
	check_heap(&rq);
	ck_assert_uint_ge(rq.grp_total, N);
	for (int i = 0; i < N; i += 3)
		rq.ops->dequeue(&rq, &se[i]);
	check_heap(&rq);
	struct sched_entity *prev = NULL;
	int got = 0;
	for (struct sched_entity *p; (p = rq.ops->pick_next(&rq)); prev = p, got++) {
		ck_assert_int_ne(p->id % 3, 0);
		if (prev)
			ck_assert(before(prev, p));
	}
	ck_assert_int_eq(got, N - (N + 2) / 3);
	rq.ops->destroy(&rq);
	free(se);
}
END_TEST

/* Passes near UINT64_MAX: ordering across the wrap and fairness while the
 * passes cross zero. */
START_TEST(test_wrap)
{
	struct sched_rq rq;
	struct sched_entity a, b;
	mk_rq(&rq);
	rq.global_pass = UINT64_MAX - 20;
	rq.ops->entity_init(&rq, &a, 100);
	rq.ops->entity_init(&rq, &b, 100);
	a.id = 1;
	b.id = 0;
	a.sleeping = b.sleeping = 0;
	a.pass = UINT64_MAX - 10;
	b.pass = 5; /* 16 units after a */
	enq(&rq, &b);
	enq(&rq, &a);
	ck_assert_ptr_eq(rq.ops->pick_next(&rq), &a);
	ck_assert_uint_eq(rq.global_pass, UINT64_MAX - 10);
	ck_assert_ptr_eq(rq.ops->pick_next(&rq), &b);
	ck_assert_uint_eq(rq.global_pass, 5);
	rq.ops->destroy(&rq);

	struct sim s;
	struct cli c[4];
	memset(c, 0, sizeof c);
	for (int i = 0; i < 4; i++) {
		c[i].tickets = (uint32_t)i + 1;
		c[i].id = i;
	}
	sim_init(&s, c, 4, UINT64_MAX - 5 * S1);
	ck_assert_uint_eq(s.se[0].pass, UINT64_MAX - 5 * S1);
	while (s.now < SEC_NS) {
		sim_step(&s);
		check_bounds(&s);
	}
	ck_assert_uint_lt(s.rq.global_pass, 1000 * S1); /* it did wrap */
	for (int i = 0; i < 4; i++)
		ck_assert_int_le(llabs(s.ran[i] - (i + 1) * 100 * Q_NS), Q_NS);
	sim_free(&s);
}
END_TEST

/* ---- the class against a reference ----
 *
 * A reference run queue with the documented semantics in the plainest
 * form: an array scanned for the minimum of (pass, unsigned id) at every
 * pick, the same pass arithmetic (charge, wake-up, stride change, global
 * pass). The class and the reference are driven by the same random
 * operations: quantum ends (requeue_pick, whole and partial quanta),
 * blocking (charge, then pick_next), wake-ups, leaves (dequeue), joins of
 * new entities, stride changes, charges of a queued entity; after every
 * operation the entity picked, every pass, remainder, on_rq and sleeping
 * flag, global_pass and n must be equal, and every few operations the
 * queue's layout is checked. One assertion per case, on the first
 * difference. */

#define REF_MAX 160

struct ref {
	uint64_t pass[REF_MAX], rem[REF_MAX], stride[REF_MAX];
	int id[REF_MAX], on_rq[REF_MAX], sleeping[REF_MAX];
	uint64_t gp;
	int n;       /* entities */
	int queued;
};

static uint64_t ref_eff(uint64_t st)
{
	return st == 0 ? 1 : st > (1ULL << 56) ? 1ULL << 56 : st;
}

static uint64_t ref_max(uint64_t a, uint64_t b)
{
	return pdiff(a, b) < 0 ? b : a;
}

static int ref_before(const struct ref *r, int a, int b)
{
	int64_t d = pdiff(r->pass[a], r->pass[b]);
	return d ? d < 0 : (unsigned)r->id[a] < (unsigned)r->id[b];
}

static int ref_min(const struct ref *r)
{
	int best = -1;
	for (int i = 0; i < r->n; i++)
		if (r->on_rq[i] && (best < 0 || ref_before(r, i, best)))
			best = i;
	return best;
}

static int ref_pick(struct ref *r)
{
	int i = ref_min(r);
	if (i < 0)
		return -1;
	r->on_rq[i] = 0;
	r->queued--;
	r->gp = ref_max(r->gp, r->pass[i]);
	return i;
}

static void ref_charge(struct ref *r, int i, int64_t ran_ns)
{
	if (ran_ns > 0) {
		__extension__ unsigned __int128 num =
			(unsigned __int128)ref_eff(r->stride[i]) * (uint64_t)ran_ns + r->rem[i];
		__extension__ unsigned __int128 adv = num / (uint64_t)Q_NS;
		if (adv > (1ULL << 58)) {
			r->pass[i] += 1ULL << 58;
			r->rem[i] = 0;
		} else {
			r->pass[i] += (uint64_t)adv;
			r->rem[i] = (uint64_t)(num % (uint64_t)Q_NS);
		}
	}
	uint64_t lo = r->pass[i];
	int m = ref_min(r);
	if (m >= 0 && pdiff(r->pass[m], lo) < 0)
		lo = r->pass[m];
	r->gp = ref_max(r->gp, lo);
}

static void ref_enqueue(struct ref *r, int i)
{
	if (r->on_rq[i])
		return;
	if (r->sleeping[i]) {
		if (pdiff(r->pass[i], r->gp) > (int64_t)(1ULL << 60))
			r->pass[i] = r->gp;
		else
			r->pass[i] = ref_max(r->pass[i], r->gp);
		r->sleeping[i] = 0;
	}
	r->on_rq[i] = 1;
	r->queued++;
}

static void ref_stride_changed(struct ref *r, int i)
{
	uint64_t st = ref_eff(r->stride[i]);
	if (pdiff(r->pass[i], r->gp) > (int64_t)st)
		r->pass[i] = r->gp + st;
}

static const struct {
	int n;           /* entities at the start */
	int tickets;     /* 0 equal, 1 three classes, 2 random 1..1e6, 3 random 50..150 */
	int ids;         /* 0 in order, 1 shuffled, 2 shuffled with the idle vCPU (-1) */
	int churn;       /* per mille of operations other than a quantum end */
	uint64_t gp;     /* global_pass at the start */
	int steps;
} ref_cases[] = {
	{4, 0, 0, 0, 0, 4000},      /* the benchmark's shape: equal tickets, no churn */
	{64, 0, 2, 0, 0, 6000},
	{5, 0, 2, 20, 0, 6000},
	{16, 1, 1, 50, 0, 8000},
	{3, 2, 2, 100, 0, 6000},
	{40, 2, 1, 30, 0, 8000},
	{12, 3, 2, 200, 0, 8000},
	{1, 0, 0, 300, 0, 3000},
	{8, 1, 2, 400, UINT64_MAX - (1ULL << 36), 8000}, /* passes wrap */
	{100, 0, 1, 100, 0, 6000},
	{20, 1, 0, 600, 0, 8000},
};
#define N_REF (int)(sizeof ref_cases / sizeof ref_cases[0])

struct refsim {
	struct sched_rq rq;
	struct sched_entity se[REF_MAX];
	struct ref r;
	int cur;     /* running entity, -1 none */
	char err[200];
};

static uint64_t xs(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static uint32_t ref_tickets(int mode, uint64_t *x)
{
	static const uint32_t classes[] = {50, 100, 200};
	switch (mode) {
	case 0: return 100;
	case 1: return classes[xs(x) % 3];
	case 2: return (uint32_t)(1 + xs(x) % 1000000);
	default: return (uint32_t)(50 + xs(x) % 101);
	}
}

/* A new entity i with the given id and tickets, enqueued in both. */
static void ref_join(struct refsim *t, int i, int id, uint32_t tickets)
{
	struct sched_entity *se = &t->se[i];
	memset(se, 0xa5, sizeof *se);
	t->rq.ops->entity_init(&t->rq, se, tickets);
	se->id = id;
	t->r.pass[i] = t->r.gp;
	t->r.rem[i] = 0;
	t->r.stride[i] = se->stride;
	t->r.id[i] = id;
	t->r.on_rq[i] = 0;
	t->r.sleeping[i] = 1;
	t->r.n = i + 1 > t->r.n ? i + 1 : t->r.n;
	if (t->rq.ops->enqueue(&t->rq, se))
		snprintf(t->err, sizeof t->err, "enqueue failed");
	ref_enqueue(&t->r, i);
}

/* The first difference between the class and the reference, in t->err. */
static int ref_same(struct refsim *t, int got, int want, int step, const char *op)
{
	if (t->err[0])
		return 0;
	if (got != want) {
		snprintf(t->err, sizeof t->err, "step %d (%s): picked %d, reference %d", step, op,
			 got, want);
		return 0;
	}
	if (t->rq.global_pass != t->r.gp || t->rq.n != t->r.queued) {
		snprintf(t->err, sizeof t->err, "step %d (%s): global_pass or n differ", step, op);
		return 0;
	}
	for (int i = 0; i < t->r.n; i++) {
		const struct sched_entity *e = &t->se[i];
		if (e->pass != t->r.pass[i] || e->pass_rem != t->r.rem[i] ||
		    e->on_rq != t->r.on_rq[i] || e->sleeping != t->r.sleeping[i]) {
			snprintf(t->err, sizeof t->err, "step %d (%s): entity %d differs", step,
				 op, i);
			return 0;
		}
	}
	return 1;
}

START_TEST(test_reference)
{
	static struct refsim t; /* large: not on the stack */
	memset(&t, 0, sizeof t);
	uint64_t x = 0x2545f4914f6cdd1dULL + (uint64_t)_i * 0x9e3779b97f4a7c15ULL;
	int n0 = ref_cases[_i].n, mode = ref_cases[_i].tickets;
	mk_rq(&t.rq);
	t.rq.global_pass = t.r.gp = ref_cases[_i].gp;
	/* distinct ids: 0..REF_MAX-1, shuffled or not, -1 for entity 0 in mode 2 */
	int ids[REF_MAX];
	for (int i = 0; i < REF_MAX; i++)
		ids[i] = i;
	if (ref_cases[_i].ids)
		for (int i = REF_MAX - 1; i > 0; i--) {
			int j = (int)(xs(&x) % (uint64_t)(i + 1)), tmp = ids[i];
			ids[i] = ids[j];
			ids[j] = tmp;
		}
	if (ref_cases[_i].ids == 2)
		ids[0] = -1;
	for (int i = 0; i < n0; i++)
		ref_join(&t, i, ids[i], i == 0 && ids[0] < 0 ? 1 : ref_tickets(mode, &x));
	t.cur = -1;
	const char *op = "start";
	int ok = ref_same(&t, 0, 0, 0, op), checks = 0;
	for (int k = 1; ok && k <= ref_cases[_i].steps; k++) {
		uint64_t r = xs(&x);
		int what = (int)(r % 1000) < ref_cases[_i].churn ? (int)((r >> 10) % 7) : -1;
		int64_t ran = (r >> 20) % 5 ? Q_NS : (int64_t)((r >> 24) % (2 * Q_NS));
		int got = -2, want = -2;
		int e = (int)((r >> 40) % (uint64_t)t.r.n);
		struct sched_entity *p;
		switch (what) {
		case 0: /* the running entity blocks */
		case 1:
			op = "block";
			if (t.cur < 0)
				break;
			t.rq.ops->charge(&t.rq, &t.se[t.cur], ran);
			ref_charge(&t.r, t.cur, ran);
			t.se[t.cur].sleeping = t.r.sleeping[t.cur] = 1;
			p = t.rq.ops->pick_next(&t.rq);
			got = p ? (int)(p - t.se) : -1;
			want = t.cur = ref_pick(&t.r);
			break;
		case 2: /* a sleeping entity wakes (or a queued one is enqueued again) */
			op = "wake";
			if (e == t.cur)
				break;
			if (t.rq.ops->enqueue(&t.rq, &t.se[e]))
				snprintf(t.err, sizeof t.err, "enqueue failed");
			ref_enqueue(&t.r, e);
			break;
		case 3: /* a queued entity leaves */
			op = "dequeue";
			if (e == t.cur)
				break;
			t.rq.ops->dequeue(&t.rq, &t.se[e]);
			if (t.r.on_rq[e]) {
				t.r.on_rq[e] = 0;
				t.r.queued--;
				t.r.sleeping[e] = 1;
			}
			break;
		case 4: { /* the manager changes a stride */
			op = "stride";
			static const uint64_t mul[] = {1, 2, 3, 1, 1};
			static const uint64_t div[] = {2, 1, 1, 1000, 1};
			int m = (int)((r >> 50) % 5);
			uint64_t st = t.se[e].stride * mul[m] / div[m] + (m == 4 ? (1ULL << 30) : 0);
			t.se[e].stride = t.r.stride[e] = st;
			t.rq.ops->stride_changed(&t.rq, &t.se[e]);
			ref_stride_changed(&t.r, e);
			break;
		}
		case 5: /* a new entity joins */
			op = "join";
			if (t.r.n < REF_MAX)
				ref_join(&t, t.r.n, ids[t.r.n], ref_tickets(mode, &x));
			break;
		case 6: /* a queued entity is charged (allowed, unusual) */
			op = "charge queued";
			if (e == t.cur || !t.r.on_rq[e])
				break;
			t.rq.ops->charge(&t.rq, &t.se[e], ran);
			ref_charge(&t.r, e, ran);
			break;
		default: /* a quantum end */
			op = "quantum end";
			if (t.cur < 0) {
				p = t.rq.ops->pick_next(&t.rq);
				got = p ? (int)(p - t.se) : -1;
				want = t.cur = ref_pick(&t.r);
				break;
			}
			p = t.rq.ops->requeue_pick(&t.rq, &t.se[t.cur], ran);
			got = (int)(p - t.se);
			ref_charge(&t.r, t.cur, ran);
			ref_enqueue(&t.r, t.cur);
			want = t.cur = ref_pick(&t.r);
			break;
		}
		ok = ref_same(&t, got, want, k, op);
		if (ok && k % 16 == 0) {
			const char *qe = queue_error(&t.rq);
			checks++;
			if (qe)
				snprintf(t.err, sizeof t.err, "step %d (%s): queue: %s", k, op, qe);
			ok = !qe;
		}
	}
	ck_assert_msg(ok && checks > 0, "reference case %d: %s", _i, t.err);
	t.rq.ops->destroy(&t.rq);
}
END_TEST

static const struct {
	const char *name;
	const struct sched_ops *want;
} lookups[] = {
	{"stride", &sched_stride},
	{"rr", &sched_rr},
	{"Stride", NULL},
	{"strid", NULL},
	{"", NULL},
};
#define N_LOOKUPS (int)(sizeof lookups / sizeof lookups[0])

START_TEST(test_lookup)
{
	ck_assert_ptr_eq(sched_lookup(lookups[_i].name), lookups[_i].want);
}
END_TEST

START_TEST(test_registered)
{
	int found = 0;
	for (int i = 0; sched_classes[i]; i++)
		found += sched_classes[i] == &sched_stride;
	ck_assert_int_eq(found, 1);
	ck_assert_str_eq(sched_stride.name, "stride");
	ck_assert_ptr_nonnull(sched_stride.help);
	ck_assert_ptr_nonnull(sched_stride.init);
	ck_assert_ptr_nonnull(sched_stride.destroy);
	ck_assert_ptr_nonnull(sched_stride.entity_init);
	ck_assert_ptr_nonnull(sched_stride.enqueue);
	ck_assert_ptr_nonnull(sched_stride.dequeue);
	ck_assert_ptr_nonnull(sched_stride.pick_next);
	ck_assert_ptr_nonnull(sched_stride.charge);
	ck_assert_ptr_nonnull(sched_stride.stride_changed);
}
END_TEST

static Suite *stride_suite(void)
{
	Suite *s = suite_create("stride");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_init);
	tcase_add_loop_test(tc, test_entity_init, 0, N_ENT);
	tcase_add_loop_test(tc, test_fairness, 0, N_FAIR);
	tcase_add_test(tc, test_fairness_1234);
	tcase_add_loop_test(tc, test_charge_pro_rata, 0, N_CHARGE);
	tcase_add_test(tc, test_charge_limits);
	tcase_add_test(tc, test_partial_quanta);
	tcase_add_test(tc, test_no_banked_credit);
	tcase_add_loop_test(tc, test_wake, 0, N_WAKE);
	tcase_add_loop_test(tc, test_stride_changed, 0, N_STRIDE);
	tcase_add_test(tc, test_stride_lowered_promptly);
	tcase_add_loop_test(tc, test_idle_entity, 0, N_IDLE);
	tcase_add_test(tc, test_ties);
	tcase_add_loop_test(tc, test_dequeue, 0, N_DQ);
	tcase_add_test(tc, test_heap_growth);
	tcase_add_test(tc, test_wrap);
	tcase_add_loop_test(tc, test_reference, 0, N_REF);
	tcase_add_loop_test(tc, test_lookup, 0, N_LOOKUPS);
	tcase_add_test(tc, test_registered);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(stride_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
