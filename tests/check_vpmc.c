/* check_vpmc: a guest's virtual counter advance equals the sum of the
 * advances of the periods it ran, for any interleaving. */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "models/vpmc.h"

static uint64_t rng = 0x9E3779B97F4A7C15ULL;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

START_TEST(test_worked_example)
{
	struct vpmc v;
	ck_assert_int_eq(vpmc_init(&v, 2, 1), 0);
	double a1 = 10, b = 5, a2 = 3, live = 2, out;
	vpmc_log(&v, 0, &a1);
	vpmc_log(&v, 1, &b);
	vpmc_log(&v, 0, &a2);
	vpmc_log(&v, -1, &b); /* halted periods belong to nobody */
	vpmc_read(&v, 0, NULL, &out);
	ck_assert_double_eq(out, 13);
	vpmc_read(&v, 1, NULL, &out);
	ck_assert_double_eq(out, 5);
	vpmc_read(&v, 0, &live, &out);
	ck_assert_double_eq(out, 15);
	vpmc_free(&v);
}
END_TEST

START_TEST(test_random_schedules)
{
	enum { VMS = 7, CTR = 5, PERIODS = 20000 };
	for (int round = 0; round < 20; round++) {
		struct vpmc v;
		ck_assert_int_eq(vpmc_init(&v, VMS, CTR), 0);
		double phys[CTR] = {0};           /* the physical counters */
		double ran_sum[VMS][CTR];         /* reference: sums of own periods */
		memset(ran_sum, 0, sizeof ran_sum);
		double last_read[VMS][CTR];
		memset(last_read, 0, sizeof last_read);
		for (int p = 0; p < PERIODS; p++) {
			int vm = (int)(rnd() % (VMS + 1)) - 1; /* -1: halted */
			double d[CTR];
			for (int k = 0; k < CTR; k++) {
				d[k] = (double)(rnd() % 100000);
				phys[k] += d[k];
				if (vm >= 0)
					ran_sum[vm][k] += d[k];
			}
			vpmc_log(&v, vm, d);
			/* a guest reads its counters at a random moment */
			int g = (int)(rnd() % VMS);
			double now[CTR];
			vpmc_read(&v, g, NULL, now);
			for (int k = 0; k < CTR; k++) {
				/* plain compares, an assertion only on a failure: four
				 * million passing ck_asserts made this test take
				 * minutes under valgrind */
				if (now[k] != ran_sum[g][k])
					ck_abort_msg("round %d period %d vm %d counter %d: virtual %.17g, "
						     "own periods %.17g", round, p, g, k, now[k],
						     ran_sum[g][k]);
				/* virtual counters never go backwards */
				if (now[k] < last_read[g][k])
					ck_abort_msg("round %d period %d vm %d counter %d: went back "
						     "from %.17g to %.17g", round, p, g, k,
						     last_read[g][k], now[k]);
				last_read[g][k] = now[k];
			}
		}
		/* virtual counters of all VMs never exceed the physical ones */
		for (int k = 0; k < CTR; k++) {
			double s = 0;
			for (int g = 0; g < VMS; g++) {
				double now[CTR];
				vpmc_read(&v, g, NULL, now);
				s += now[k];
			}
			ck_assert(s <= phys[k]);
		}
		vpmc_free(&v);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vpmc");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_worked_example);
	tcase_add_test(tc, test_random_schedules);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int f = srunner_ntests_failed(sr);
	srunner_free(sr);
	return f ? 1 : 0;
}
