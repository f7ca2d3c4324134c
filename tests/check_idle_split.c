/* check_idle_split: tests of models/idle_split.c (idle policies). */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "models/idle_split.h"

#define MAXP 8
#define TOL_J 1e-12

/* Collects the charges of a flush; slot 0 is the base consumer (-1). */
struct got {
	double j[MAXP + 1];
	int calls[MAXP + 1];
	int n_calls;
	double sum;     /* in call order */
	int bad_who;    /* a who outside [-1, MAXP) */
};

static void collect(void *ctx, int who, double joules)
{
	struct got *g = ctx;
	if (who < -1 || who >= MAXP) {
		g->bad_who = 1;
		return;
	}
	g->j[who + 1] += joules;
	g->calls[who + 1]++;
	g->n_calls++;
	g->sum += joules;
}

struct use {
	int who;
	int64_t busy_ns;
	double active_j;
};

static const struct {
	const char *name;
	int policy;
	int n;
	double pot;
	struct use use[4];
	int n_use;
	double want[MAXP + 1]; /* [0] = base, [1 + i] = participant i */
} cases[] = {
	/* equal: pot / n over all participants, used or not */
	{"equal-2", IDLE_EQUAL, 2, 3.6, {{0, 30000000, 1}, {1, 10000000, 1}}, 2, {0, 1.8, 1.8}},
	{"equal-3-no-use", IDLE_EQUAL, 3, 0.9, {{0, 0, 0}}, 0, {0, 0.3, 0.3, 0.3}},
	{"equal-4-one-user", IDLE_EQUAL, 4, 1.0, {{2, 5, 1}}, 1, {0, 0.25, 0.25, 0.25, 0.25}},
	{"equal-0-part", IDLE_EQUAL, 0, 2.5, {{0, 0, 0}}, 0, {2.5}},
	/* utilization: by busy time (design worked example) */
	{"util-30-10", IDLE_UTILIZATION, 2, 3.6, {{0, 30000000, 0}, {1, 10000000, 0}}, 2,
	 {0, 2.7, 0.9}},
	{"util-ignores-energy", IDLE_UTILIZATION, 2, 1.0, {{0, 1, 100.0}, {1, 3, 1.0}}, 2,
	 {0, 0.25, 0.75}},
	{"util-idle-participant", IDLE_UTILIZATION, 3, 6.0, {{0, 1, 0}, {2, 2, 0}}, 2,
	 {0, 2.0, 0.0, 4.0}},
	{"util-accumulates", IDLE_UTILIZATION, 2, 4.0, {{0, 1, 0}, {1, 1, 0}, {0, 2, 0}}, 3,
	 {0, 3.0, 1.0}},
	{"util-no-use", IDLE_UTILIZATION, 2, 1.5, {{0, 0, 5.0}}, 1, {1.5, 0, 0}},
	{"util-0-part", IDLE_UTILIZATION, 0, 1.5, {{0, 7, 5.0}}, 1, {1.5}},
	/* proportional: by active energy */
	{"prop-1-3", IDLE_PROPORTIONAL, 2, 2.0, {{0, 100, 1.0}, {1, 1, 3.0}}, 2, {0, 0.5, 1.5}},
	{"prop-three", IDLE_PROPORTIONAL, 3, 1.0, {{0, 0, 0.2}, {1, 0, 0.3}, {2, 0, 0.5}}, 3,
	 {0, 0.2, 0.3, 0.5}},
	{"prop-no-energy", IDLE_PROPORTIONAL, 2, 0.7, {{0, 1000, 0.0}}, 1, {0.7, 0, 0}},
	/* base: everything to -1 */
	{"base", IDLE_BASE, 3, 4.2, {{0, 1, 1}, {1, 2, 2}}, 2, {4.2, 0, 0, 0}},
	{"base-0-part", IDLE_BASE, 0, 4.2, {{0, 0, 0}}, 0, {4.2}},
	/* use by an out-of-range participant is ignored */
	{"util-who-out-of-range", IDLE_UTILIZATION, 2, 1.0,
	 {{-1, 1000, 9.0}, {2, 1000, 9.0}, {1, 10, 0}, {99, 5, 1}}, 4, {0, 0, 1.0}},
	{"util-only-out-of-range", IDLE_UTILIZATION, 2, 1.0, {{-1, 1000, 9.0}, {2, 1000, 9.0}},
	 2, {1.0, 0, 0}},
	{"prop-who-out-of-range", IDLE_PROPORTIONAL, 2, 1.0, {{5, 1, 9.0}, {0, 1, 1.0}}, 2,
	 {0, 1.0, 0}},
};
#define N_CASES (int)(sizeof cases / sizeof cases[0])

START_TEST(test_policy_cases)
{
	int i = _i;
	struct idle_split *s = idle_split_new(cases[i].n, cases[i].policy);
	ck_assert_ptr_nonnull(s);
	idle_split_add_idle(s, cases[i].pot);
	for (int u = 0; u < cases[i].n_use; u++)
		idle_split_add_use(s, cases[i].use[u].who, cases[i].use[u].busy_ns,
				   cases[i].use[u].active_j);
	ck_assert_double_eq(idle_split_pot(s), cases[i].pot);
	struct got g;
	memset(&g, 0, sizeof g);
	double pot = idle_split_flush(s, collect, &g);
	ck_assert_double_eq(pot, cases[i].pot);
	ck_assert_int_eq(g.bad_who, 0);
	for (int k = 0; k <= cases[i].n; k++)
		ck_assert_msg(fabs(g.j[k] - cases[i].want[k]) <= TOL_J,
			      "%s: who %d got %.15g want %.15g", cases[i].name, k - 1, g.j[k],
			      cases[i].want[k]);
	for (int k = 0; k <= cases[i].n; k++)
		ck_assert_msg(g.calls[k] <= 1, "%s: who %d charged %d times", cases[i].name, k - 1,
			      g.calls[k]);
	ck_assert_msg(g.sum == cases[i].pot, "%s: parts add to %.17g, pot %.17g", cases[i].name,
		      g.sum, cases[i].pot);
	ck_assert_double_eq(idle_split_pot(s), 0.0);
	idle_split_free(s);
}
END_TEST

START_TEST(test_accumulated_pot)
{
	struct idle_split *s = idle_split_new(2, IDLE_UTILIZATION);
	idle_split_add_idle(s, 1.0);
	idle_split_add_use(s, 0, 10, 0);
	idle_split_add_idle(s, 2.0);
	idle_split_add_use(s, 1, 20, 0);
	ck_assert_double_eq_tol(idle_split_pot(s), 3.0, TOL_J);
	struct got g;
	memset(&g, 0, sizeof g);
	ck_assert_double_eq_tol(idle_split_flush(s, collect, &g), 3.0, TOL_J);
	ck_assert_double_eq_tol(g.j[1], 1.0, TOL_J);
	ck_assert_double_eq_tol(g.j[2], 2.0, TOL_J);
	idle_split_free(s);
}
END_TEST

START_TEST(test_reset_after_flush)
{
	for (int policy = IDLE_EQUAL; policy <= IDLE_BASE; policy++) {
		struct idle_split *s = idle_split_new(2, policy);
		struct got g;
		idle_split_add_idle(s, 5.0);
		idle_split_add_use(s, 0, 1000, 10.0);
		memset(&g, 0, sizeof g);
		idle_split_flush(s, collect, &g);
		ck_assert_double_eq(idle_split_pot(s), 0.0);
		/* nothing left: a second flush charges nothing and returns 0 */
		memset(&g, 0, sizeof g);
		ck_assert_double_eq(idle_split_flush(s, collect, &g), 0.0);
		ck_assert_int_eq(g.n_calls, 0);
		/* the previous interval's use is forgotten: only vm1 used it now */
		idle_split_add_idle(s, 1.0);
		idle_split_add_use(s, 1, 10, 1.0);
		memset(&g, 0, sizeof g);
		ck_assert_double_eq(idle_split_flush(s, collect, &g), 1.0);
		double want0 = policy == IDLE_EQUAL ? 0.5 : 0.0;
		double want1 = policy == IDLE_EQUAL ? 0.5 : policy == IDLE_BASE ? 0.0 : 1.0;
		double wantb = policy == IDLE_BASE ? 1.0 : 0.0;
		ck_assert_msg(fabs(g.j[1] - want0) <= TOL_J && fabs(g.j[2] - want1) <= TOL_J &&
				      fabs(g.j[0] - wantb) <= TOL_J,
			      "policy %s: got base %g, 0: %g, 1: %g", idle_policy_name(policy),
			      g.j[0], g.j[1], g.j[2]);
		idle_split_free(s);
	}
}
END_TEST

START_TEST(test_use_without_pot_charges_nothing)
{
	struct idle_split *s = idle_split_new(2, IDLE_UTILIZATION);
	struct got g;
	memset(&g, 0, sizeof g);
	idle_split_add_use(s, 0, 1000, 1.0);
	ck_assert_double_eq(idle_split_flush(s, collect, &g), 0.0);
	ck_assert_int_eq(g.n_calls, 0);
	/* and that use does not leak into the next interval */
	idle_split_add_idle(s, 2.0);
	idle_split_add_use(s, 1, 1, 0);
	memset(&g, 0, sizeof g);
	idle_split_flush(s, collect, &g);
	ck_assert_double_eq_tol(g.j[1], 0.0, TOL_J);
	ck_assert_double_eq_tol(g.j[2], 2.0, TOL_J);
	idle_split_free(s);
}
END_TEST

/* xorshift64* */
static uint64_t rng_next(uint64_t *st)
{
	uint64_t x = *st;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*st = x;
	return x * 2685821657736338717ULL;
}

static double rng_unit(uint64_t *st) { return (double)(rng_next(st) >> 11) * 0x1.0p-53; }

/* Random pots and uses: the parts always add up to the pot and are within
 * rounding of the policy's exact share. */
START_TEST(test_parts_add_up_random)
{
	uint64_t seed = 12345;
	for (int trial = 0; trial < 20000; trial++) {
		int policy = (int)(rng_next(&seed) % 4);
		int n = 1 + (int)(rng_next(&seed) % MAXP);
		struct idle_split *s = idle_split_new(n, policy);
		double pot = pow(10.0, -6.0 + 8.0 * rng_unit(&seed));
		double busy[MAXP] = {0}, act[MAXP] = {0}, bsum = 0, asum = 0;
		idle_split_add_idle(s, pot);
		int n_use = (int)(rng_next(&seed) % 12);
		for (int u = 0; u < n_use; u++) {
			int who = (int)(rng_next(&seed) % (uint64_t)n);
			int64_t b = (int64_t)(rng_next(&seed) % 10000000);
			double a = rng_unit(&seed) * 3.0;
			idle_split_add_use(s, who, b, a);
			busy[who] += (double)b;
			act[who] += a;
			bsum += (double)b;
			asum += a;
		}
		struct got g;
		memset(&g, 0, sizeof g);
		ck_assert_double_eq(idle_split_flush(s, collect, &g), pot);
		ck_assert_msg(fabs(g.sum - pot) <= 1e-12 * pot,
			      "trial %d policy %d n %d: sum %.17g pot %.17g", trial, policy, n,
			      g.sum, pot);
		for (int k = 0; k < n; k++) {
			double want;
			if (policy == IDLE_EQUAL)
				want = pot / n;
			else if (policy == IDLE_UTILIZATION)
				want = bsum > 0 ? pot * busy[k] / bsum : 0.0;
			else if (policy == IDLE_PROPORTIONAL)
				want = asum > 0 ? pot * act[k] / asum : 0.0;
			else
				want = 0.0;
			ck_assert_msg(fabs(g.j[k + 1] - want) <= 1e-12 * pot,
				      "trial %d policy %d: part %d %.17g want %.17g", trial, policy,
				      k, g.j[k + 1], want);
		}
		idle_split_free(s);
	}
}
END_TEST

START_TEST(test_policy_names)
{
	ck_assert_str_eq(idle_policy_name(IDLE_EQUAL), "equal");
	ck_assert_str_eq(idle_policy_name(IDLE_UTILIZATION), "utilization");
	ck_assert_str_eq(idle_policy_name(IDLE_PROPORTIONAL), "proportional");
	ck_assert_str_eq(idle_policy_name(IDLE_BASE), "base");
	ck_assert_str_eq(idle_policy_name(4), "?");
	ck_assert_str_eq(idle_policy_name(-1), "?");
}
END_TEST

static Suite *idle_split_suite(void)
{
	Suite *s = suite_create("idle_split");
	TCase *tc = tcase_create("core");
	tcase_add_loop_test(tc, test_policy_cases, 0, N_CASES);
	tcase_add_test(tc, test_accumulated_pot);
	tcase_add_test(tc, test_reset_after_flush);
	tcase_add_test(tc, test_use_without_pot_charges_nothing);
	tcase_add_test(tc, test_parts_add_up_random);
	tcase_add_test(tc, test_policy_names);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(idle_split_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
