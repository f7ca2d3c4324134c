/* check_guest_manager: budget resolution, refresh and preemption; nested
 * budgets never let the containers together exceed the VM's limit. */
#include <check.h>
#include <math.h>
#include <stdint.h>

#include "models/guest_manager.h"

START_TEST(test_paper_split)
{
	struct guest_manager g;
	ck_assert_int_eq(gm_init(&g, 2, 0.05), 0);
	g.c[0].limit_w = 10;
	g.c[1].limit_w = 30;
	gm_resolve(&g, 40);
	gm_refresh(&g);
	ck_assert_double_eq_tol(g.c[0].left_j, 0.5, 1e-12);
	ck_assert_double_eq_tol(g.c[1].left_j, 1.5, 1e-12);
	/* 69.5 W for 7.2 ms spends 0.5 J: preempted */
	ck_assert_double_eq_tol(gm_time_left_ns(&g, 0, 69.5), 0.5 / 69.5 * 1e9, 1e-3);
	ck_assert_int_eq(gm_charge(&g, 0, 0.3), 0);
	ck_assert_int_eq(gm_charge(&g, 0, 0.2), 1);
	ck_assert_int_eq(g.c[0].throttled, 1);
	ck_assert_int_eq(g.c[1].throttled, 0);
	gm_refresh(&g);
	ck_assert_int_eq(g.c[0].throttled, 0);
	gm_free(&g);
}
END_TEST

START_TEST(test_shares_and_remainder)
{
	struct guest_manager g;
	ck_assert_int_eq(gm_init(&g, 3, 0.05), 0);
	g.c[0].share = 0.5;  /* 20 W of 40 */
	g.c[1].limit_w = 5;  /* 5 W */
	/* c[2]: neither: the remaining 15 W */
	gm_resolve(&g, 40);
	ck_assert_double_eq_tol(g.c[0].budget_w, 20, 1e-12);
	ck_assert_double_eq_tol(g.c[1].budget_w, 5, 1e-12);
	ck_assert_double_eq_tol(g.c[2].budget_w, 15, 1e-12);
	/* without a VM limit only explicit limits apply */
	gm_resolve(&g, 0);
	ck_assert(isinf(g.c[0].budget_w));
	ck_assert_double_eq_tol(g.c[1].budget_w, 5, 1e-12);
	ck_assert(isinf(g.c[2].budget_w));
	gm_refresh(&g);
	ck_assert_int_eq(gm_charge(&g, 2, 1e9), 0); /* unlimited never throttles */
	ck_assert_double_eq(gm_time_left_ns(&g, 2, 50), -1.0);
	gm_free(&g);
}
END_TEST

static uint64_t rng = 12345;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

START_TEST(test_nested_never_exceed)
{
	for (int round = 0; round < 10000; round++) {
		int n = 1 + (int)(rnd() % 8);
		struct guest_manager g;
		ck_assert_int_eq(gm_init(&g, n, 0.05), 0);
		double vm = (double)(1 + rnd() % 100);
		for (int i = 0; i < n; i++) {
			switch (rnd() % 3) {
			case 0: g.c[i].limit_w = (double)(rnd() % 80); break;
			case 1: g.c[i].share = (double)(rnd() % 100) / 100.0; break;
			default: break;
			}
		}
		gm_resolve(&g, vm);
		double sum = 0;
		for (int i = 0; i < n; i++) {
			ck_assert(isfinite(g.c[i].budget_w));
			ck_assert(g.c[i].budget_w >= 0);
			sum += g.c[i].budget_w;
		}
		ck_assert_msg(sum <= vm * (1 + 1e-12), "round %d: %g > %g", round, sum, vm);
		/* and what the containers may spend in a period stays within it */
		gm_refresh(&g);
		double spend = 0;
		for (int i = 0; i < n; i++)
			spend += g.c[i].left_j;
		ck_assert(spend <= vm * 0.05 * (1 + 1e-12));
		gm_free(&g);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("guest_manager");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_paper_split);
	tcase_add_test(tc, test_shares_and_remainder);
	tcase_add_test(tc, test_nested_never_exceed);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int f = srunner_ntests_failed(sr);
	srunner_free(sr);
	return f ? 1 : 0;
}
