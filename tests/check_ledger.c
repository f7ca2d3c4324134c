/* check_ledger: tests of models/ledger.c (cells, totals, conservation). */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "models/ledger.h"

#define TOL_J 1e-12

/* consumers: hypervisor, unattributed, vm1, vm2, drv; devices cpu0, disk0;
 * via: direct, drv */
static const char *const cnames[] = {"hypervisor", "unattributed", "vm1", "vm2", "drv"};
static const char *const dnames[] = {"cpu0", "disk0"};
static const char *const vnames[] = {"direct", "drv"};
enum { NC = 5, ND = 2, NV = 2 };
enum { VM1 = LEDGER_FIRST_VM, VM2 = LEDGER_FIRST_VM + 1, DRV = LEDGER_FIRST_VM + 2 };
enum { CPU0 = 0, DISK0 = 1 };
enum { DIRECT = 0, VIA_DRV = 1 };

static struct ledger *mk(void)
{
	struct ledger *l = ledger_new(NC, cnames, ND, dnames, NV, vnames);
	ck_assert_ptr_nonnull(l);
	return l;
}

START_TEST(test_names_and_sizes)
{
	struct ledger *l = mk();
	ck_assert_int_eq(ledger_n_consumers(l), NC);
	ck_assert_int_eq(ledger_n_devices(l), ND);
	ck_assert_int_eq(ledger_n_via(l), NV);
	ck_assert_str_eq(ledger_consumer_name(l, LEDGER_HYPERVISOR), "hypervisor");
	ck_assert_str_eq(ledger_consumer_name(l, LEDGER_UNATTRIBUTED), "unattributed");
	ck_assert_str_eq(ledger_consumer_name(l, VM2), "vm2");
	ck_assert_str_eq(ledger_device_name(l, DISK0), "disk0");
	ck_assert_str_eq(ledger_via_name(l, DIRECT), "direct");
	ck_assert_str_eq(ledger_via_name(l, VIA_DRV), "drv");
	const struct ledger_conservation *cs = ledger_conservation(l);
	ck_assert_uint_eq(cs->checks, 0);
	ck_assert_uint_eq(cs->violations, 0);
	ck_assert_int_eq(cs->worst_device, -1);
	ledger_free(l);
}
END_TEST

/* One charge per row: every cell is addressed separately (no aliasing). */
static const struct {
	int c, dev, via, kind;
	double j;
} cell_cases[] = {
	{LEDGER_HYPERVISOR, CPU0, DIRECT, LEDGER_IDLE, 1.0},
	{LEDGER_HYPERVISOR, CPU0, DIRECT, LEDGER_ACTIVE, 2.0},
	{LEDGER_UNATTRIBUTED, DISK0, DIRECT, LEDGER_ACTIVE, -0.25},
	{VM1, CPU0, DIRECT, LEDGER_IDLE, 3.0},
	{VM1, CPU0, DIRECT, LEDGER_ACTIVE, 4.0},
	{VM1, CPU0, VIA_DRV, LEDGER_ACTIVE, 5.0},
	{VM1, DISK0, VIA_DRV, LEDGER_IDLE, 6.0},
	{VM1, DISK0, VIA_DRV, LEDGER_ACTIVE, 7.0},
	{VM2, DISK0, VIA_DRV, LEDGER_ACTIVE, 8.0},
	{DRV, CPU0, DIRECT, LEDGER_IDLE, 9.0},
};
#define N_CELL_CASES (int)(sizeof cell_cases / sizeof cell_cases[0])

START_TEST(test_charge_cells)
{
	struct ledger *l = mk();
	int i = _i;
	ledger_charge(l, cell_cases[i].c, cell_cases[i].dev, cell_cases[i].via,
		      cell_cases[i].kind, cell_cases[i].j);
	/* before the snapshot nothing is in interval or total */
	ck_assert_double_eq_tol(ledger_total(l, cell_cases[i].c, cell_cases[i].dev,
					     cell_cases[i].via, cell_cases[i].kind), 0.0, TOL_J);
	ledger_snapshot(l, 100);
	for (int c = 0; c < NC; c++)
		for (int d = 0; d < ND; d++)
			for (int v = 0; v < NV; v++) {
				int hit_cell = c == cell_cases[i].c && d == cell_cases[i].dev &&
					       v == cell_cases[i].via;
				ck_assert_int_eq(ledger_cell_used(l, c, d, v), hit_cell);
				for (int k = 0; k < 2; k++) {
					double want = hit_cell && k == cell_cases[i].kind
							      ? cell_cases[i].j
							      : 0.0;
					ck_assert_double_eq_tol(ledger_interval(l, c, d, v, k), want,
								TOL_J);
					ck_assert_double_eq_tol(ledger_total(l, c, d, v, k), want,
								TOL_J);
				}
			}
	ledger_free(l);
}
END_TEST

START_TEST(test_charges_accumulate)
{
	struct ledger *l = mk();
	ledger_charge(l, VM1, CPU0, DIRECT, LEDGER_ACTIVE, 0.5);
	ledger_charge(l, VM1, CPU0, DIRECT, LEDGER_ACTIVE, 0.25);
	ledger_charge(l, VM1, CPU0, DIRECT, LEDGER_ACTIVE, 0.125);
	ledger_meter(l, CPU0, 0.875);
	ck_assert_int_eq(ledger_snapshot(l, 1), 0);
	ck_assert_double_eq_tol(ledger_interval(l, VM1, CPU0, DIRECT, LEDGER_ACTIVE), 0.875, TOL_J);
	ck_assert_double_eq_tol(ledger_interval(l, VM1, CPU0, DIRECT, LEDGER_IDLE), 0.0, TOL_J);
	ledger_free(l);
}
END_TEST

START_TEST(test_used_flag_sticky_and_zero_charge)
{
	struct ledger *l = mk();
	/* a zero charge does not make a row appear */
	ledger_charge(l, VM2, CPU0, DIRECT, LEDGER_IDLE, 0.0);
	ledger_snapshot(l, 1);
	ck_assert_int_eq(ledger_cell_used(l, VM2, CPU0, DIRECT), 0);
	ledger_charge(l, VM2, CPU0, DIRECT, LEDGER_IDLE, 1.0);
	ck_assert_int_eq(ledger_cell_used(l, VM2, CPU0, DIRECT), 1);
	ledger_meter(l, CPU0, 1.0);
	ledger_snapshot(l, 2);
	/* stays used in later intervals with no charge */
	ledger_snapshot(l, 3);
	ck_assert_int_eq(ledger_cell_used(l, VM2, CPU0, DIRECT), 1);
	ck_assert_double_eq_tol(ledger_interval(l, VM2, CPU0, DIRECT, LEDGER_IDLE), 0.0, TOL_J);
	ck_assert_double_eq_tol(ledger_total(l, VM2, CPU0, DIRECT, LEDGER_IDLE), 1.0, TOL_J);
	/* the other kind and other via of the same consumer/device */
	ck_assert_int_eq(ledger_cell_used(l, VM2, CPU0, VIA_DRV), 0);
	ck_assert_int_eq(ledger_cell_used(l, VM2, DISK0, DIRECT), 0);
	ledger_free(l);
}
END_TEST

START_TEST(test_conservation_passes)
{
	struct ledger *l = mk();
	/* design worked example: disk 3.6 W idle for 0.1 s, two clients 0.18 J each */
	ledger_charge(l, VM1, DISK0, VIA_DRV, LEDGER_IDLE, 0.18);
	ledger_charge(l, VM2, DISK0, VIA_DRV, LEDGER_IDLE, 0.18);
	ledger_meter(l, DISK0, 3.6 * 0.1);
	ledger_charge(l, VM1, CPU0, DIRECT, LEDGER_ACTIVE, 2.0);
	ledger_charge(l, LEDGER_HYPERVISOR, CPU0, DIRECT, LEDGER_IDLE, 3.6);
	ledger_meter(l, CPU0, 5.6);
	ck_assert_int_eq(ledger_snapshot(l, 100000000), 0);
	const struct ledger_conservation *cs = ledger_conservation(l);
	ck_assert_uint_eq(cs->checks, 2);
	ck_assert_uint_eq(cs->violations, 0);
	ck_assert(cs->max_residual_j < 1e-15);
	ck_assert(cs->max_rel_residual <= 1e-15);
	ck_assert_double_eq_tol(ledger_meter_total(l, DISK0), 0.36, TOL_J);
	ck_assert_double_eq_tol(ledger_meter_total(l, CPU0), 5.6, TOL_J);
	ledger_free(l);
}
END_TEST

/* Residuals around the 1e-9 relative tolerance; meter 1 J on disk0. */
static const struct {
	double cells_j, meter_j;
	int bad;
} tol_cases[] = {
	{1.0, 1.0, 0},
	{1.0 + 0.5e-9, 1.0, 0},
	{1.0 - 0.5e-9, 1.0, 0},
	{1.0 + 2e-9, 1.0, 1},
	{1.0 - 2e-9, 1.0, 1},
	{1.1, 1.0, 1},
	{0.0, 1.0, 1},
	{1.0, 0.0, 1},
	{0.0, 0.0, 0},
	{1e-13, 0.0, 0},  /* below the absolute floor */
	{1e-11, 0.0, 1},
	{1000.0, 1000.0 + 0.5e-6, 0},
	{1000.0, 1000.0 + 2e-6, 1},
};
#define N_TOL_CASES (int)(sizeof tol_cases / sizeof tol_cases[0])

START_TEST(test_conservation_tolerance)
{
	int i = _i;
	struct ledger *l = mk();
	if (tol_cases[i].cells_j != 0.0)
		ledger_charge(l, VM1, DISK0, VIA_DRV, LEDGER_ACTIVE, tol_cases[i].cells_j);
	ledger_meter(l, DISK0, tol_cases[i].meter_j);
	int bad = ledger_snapshot(l, 777);
	ck_assert_msg(bad == tol_cases[i].bad, "case %d: cells %.12g meter %.12g: bad %d want %d",
		      i, tol_cases[i].cells_j, tol_cases[i].meter_j, bad, tol_cases[i].bad);
	const struct ledger_conservation *cs = ledger_conservation(l);
	ck_assert_uint_eq(cs->checks, 2);
	ck_assert_uint_eq(cs->violations, (uint64_t)tol_cases[i].bad);
	double res = fabs(tol_cases[i].cells_j - tol_cases[i].meter_j);
	ck_assert_double_eq_tol(cs->max_residual_j, res, 1e-15 * fmax(1.0, tol_cases[i].meter_j));
	if (res > 0) {
		ck_assert_int_eq(cs->worst_device, DISK0);
		ck_assert_int_eq(cs->worst_t_ns, 777);
	}
	ledger_free(l);
}
END_TEST

START_TEST(test_violation_records_worst)
{
	struct ledger *l = mk();
	/* t=10: cpu0 off by 0.1 J */
	ledger_charge(l, VM1, CPU0, DIRECT, LEDGER_ACTIVE, 1.0);
	ledger_meter(l, CPU0, 1.1);
	ledger_meter(l, DISK0, 0.0);
	ck_assert_int_eq(ledger_snapshot(l, 10), 1);
	/* t=20: both off; disk0 by 0.5 J (the worst), cpu0 by 0.2 J */
	ledger_charge(l, VM1, CPU0, DIRECT, LEDGER_ACTIVE, 1.0);
	ledger_meter(l, CPU0, 1.2);
	ledger_charge(l, VM2, DISK0, VIA_DRV, LEDGER_ACTIVE, 2.0);
	ledger_meter(l, DISK0, 1.5);
	ck_assert_int_eq(ledger_snapshot(l, 20), 2);
	/* t=30: conserves; smaller residuals do not replace the worst */
	ledger_charge(l, VM1, CPU0, DIRECT, LEDGER_ACTIVE, 1.0);
	ledger_meter(l, CPU0, 1.0);
	ck_assert_int_eq(ledger_snapshot(l, 30), 0);
	const struct ledger_conservation *cs = ledger_conservation(l);
	ck_assert_uint_eq(cs->checks, 6);
	ck_assert_uint_eq(cs->violations, 3);
	ck_assert_double_eq_tol(cs->max_residual_j, 0.5, 1e-12);
	ck_assert_int_eq(cs->worst_t_ns, 20);
	ck_assert_int_eq(cs->worst_device, DISK0);
	/* relative: 0.5 / max(1.5, 2.0) = 0.25 */
	ck_assert_double_eq_tol(cs->max_rel_residual, 0.25, 1e-12);
	ledger_free(l);
}
END_TEST

START_TEST(test_signed_unattributed_conserves)
{
	struct ledger *l = mk();
	/* the estimators overcharged the clients by 0.3 J */
	ledger_charge(l, VM1, DISK0, VIA_DRV, LEDGER_ACTIVE, 1.0);
	ledger_charge(l, VM2, DISK0, VIA_DRV, LEDGER_ACTIVE, 0.8);
	ledger_charge(l, LEDGER_UNATTRIBUTED, DISK0, DIRECT, LEDGER_ACTIVE, -0.3);
	ledger_meter(l, DISK0, 1.5);
	ck_assert_int_eq(ledger_snapshot(l, 5), 0);
	ck_assert_uint_eq(ledger_conservation(l)->violations, 0);
	ck_assert_int_eq(ledger_cell_used(l, LEDGER_UNATTRIBUTED, DISK0, DIRECT), 1);
	ck_assert_double_eq_tol(ledger_total(l, LEDGER_UNATTRIBUTED, DISK0, DIRECT, LEDGER_ACTIVE),
				-0.3, TOL_J);
	/* without the negative cell the same interval violates */
	ledger_charge(l, VM1, DISK0, VIA_DRV, LEDGER_ACTIVE, 1.0);
	ledger_charge(l, VM2, DISK0, VIA_DRV, LEDGER_ACTIVE, 0.8);
	ledger_meter(l, DISK0, 1.5);
	ck_assert_int_eq(ledger_snapshot(l, 6), 1);
	ledger_free(l);
}
END_TEST

START_TEST(test_totals_are_sum_of_intervals)
{
	struct ledger *l = mk();
	double sum_iv[2] = {0, 0}, sum_meter = 0;
	for (int s = 1; s <= 7; s++) {
		double a = 0.1 * s, b = 0.01 * s * s;
		ledger_charge(l, VM1, CPU0, DIRECT, LEDGER_ACTIVE, a);
		ledger_charge(l, VM1, CPU0, DIRECT, LEDGER_IDLE, b);
		ledger_meter(l, CPU0, a + b);
		ck_assert_int_eq(ledger_snapshot(l, s * 100), 0);
		ck_assert_double_eq_tol(ledger_interval(l, VM1, CPU0, DIRECT, LEDGER_ACTIVE), a,
					TOL_J);
		ck_assert_double_eq_tol(ledger_interval(l, VM1, CPU0, DIRECT, LEDGER_IDLE), b,
					TOL_J);
		sum_iv[LEDGER_ACTIVE] += ledger_interval(l, VM1, CPU0, DIRECT, LEDGER_ACTIVE);
		sum_iv[LEDGER_IDLE] += ledger_interval(l, VM1, CPU0, DIRECT, LEDGER_IDLE);
		sum_meter += a + b;
		ck_assert_double_eq_tol(ledger_total(l, VM1, CPU0, DIRECT, LEDGER_ACTIVE),
					sum_iv[LEDGER_ACTIVE], TOL_J);
		ck_assert_double_eq_tol(ledger_total(l, VM1, CPU0, DIRECT, LEDGER_IDLE),
					sum_iv[LEDGER_IDLE], TOL_J);
		ck_assert_double_eq_tol(ledger_meter_total(l, CPU0), sum_meter, TOL_J);
	}
	/* an empty interval reports zero and leaves the totals */
	ck_assert_int_eq(ledger_snapshot(l, 800), 0);
	ck_assert_double_eq_tol(ledger_interval(l, VM1, CPU0, DIRECT, LEDGER_ACTIVE), 0.0, TOL_J);
	ck_assert_double_eq_tol(ledger_total(l, VM1, CPU0, DIRECT, LEDGER_ACTIVE), 2.8, TOL_J);
	ck_assert_double_eq_tol(ledger_total(l, VM1, CPU0, DIRECT, LEDGER_IDLE), 1.4, TOL_J);
	ledger_free(l);
}
END_TEST

START_TEST(test_total_cd)
{
	struct ledger *l = mk();
	ledger_charge(l, VM1, DISK0, DIRECT, LEDGER_IDLE, 1.0);
	ledger_charge(l, VM1, DISK0, DIRECT, LEDGER_ACTIVE, 2.0);
	ledger_charge(l, VM1, DISK0, VIA_DRV, LEDGER_IDLE, 4.0);
	ledger_charge(l, VM1, DISK0, VIA_DRV, LEDGER_ACTIVE, 8.0);
	/* must not be counted: other consumer, other device */
	ledger_charge(l, VM2, DISK0, VIA_DRV, LEDGER_ACTIVE, 16.0);
	ledger_charge(l, VM1, CPU0, VIA_DRV, LEDGER_ACTIVE, 32.0);
	ledger_meter(l, DISK0, 31.0);
	ledger_meter(l, CPU0, 32.0);
	ck_assert_int_eq(ledger_snapshot(l, 1), 0);
	ck_assert_double_eq_tol(ledger_total_cd(l, VM1, DISK0), 15.0, TOL_J);
	ck_assert_double_eq_tol(ledger_total_cd(l, VM2, DISK0), 16.0, TOL_J);
	ck_assert_double_eq_tol(ledger_total_cd(l, VM1, CPU0), 32.0, TOL_J);
	ck_assert_double_eq_tol(ledger_total_cd(l, DRV, CPU0), 0.0, TOL_J);
	/* a second interval adds */
	ledger_charge(l, VM1, DISK0, VIA_DRV, LEDGER_ACTIVE, 0.5);
	ledger_meter(l, DISK0, 0.5);
	ck_assert_int_eq(ledger_snapshot(l, 2), 0);
	ck_assert_double_eq_tol(ledger_total_cd(l, VM1, DISK0), 15.5, TOL_J);
	ledger_free(l);
}
END_TEST

/* xorshift64*: deterministic across platforms */
static uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 2685821657736338717ULL;
}

static double rng_unit(uint64_t *s) { return (double)(rng_next(s) >> 11) * 0x1.0p-53; }

START_TEST(test_random_long_run_conserves)
{
	enum { N_CHARGES = 100000, SNAP_EVERY = 1000 };
	struct ledger *l = mk();
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	double want_tot[NC][ND][NV][2];
	double meter_tot[ND] = {0, 0};
	memset(want_tot, 0, sizeof want_tot);
	int64_t t = 0;
	int bad = 0;
	for (int i = 1; i <= N_CHARGES; i++) {
		int c = (int)(rng_next(&seed) % NC);
		int d = (int)(rng_next(&seed) % ND);
		int v = (int)(rng_next(&seed) % NV);
		int k = (int)(rng_next(&seed) % 2);
		/* magnitudes from 1 uJ to 10 J; unattributed signed */
		double j = pow(10.0, -6.0 + 7.0 * rng_unit(&seed));
		if (c == LEDGER_UNATTRIBUTED && (rng_next(&seed) & 1))
			j = -j;
		ledger_charge(l, c, d, v, k, j);
		ledger_meter(l, d, j);
		want_tot[c][d][v][k] += j;
		meter_tot[d] += j;
		if (i % SNAP_EVERY == 0) {
			t += 100000000;
			bad += ledger_snapshot(l, t);
		}
	}
	const struct ledger_conservation *cs = ledger_conservation(l);
	ck_assert_int_eq(bad, 0);
	ck_assert_uint_eq(cs->violations, 0);
	ck_assert_uint_eq(cs->checks, (uint64_t)(N_CHARGES / SNAP_EVERY) * ND);
	ck_assert_msg(cs->max_rel_residual < 1e-9, "max rel residual %g", cs->max_rel_residual);
	for (int d = 0; d < ND; d++) {
		double cells = 0;
		for (int c = 0; c < NC; c++) {
			cells += ledger_total_cd(l, c, d);
			for (int v = 0; v < NV; v++)
				for (int k = 0; k < 2; k++)
					ck_assert_double_eq_tol(ledger_total(l, c, d, v, k),
								want_tot[c][d][v][k],
								1e-9 * fabs(want_tot[c][d][v][k]) +
									1e-12);
		}
		ck_assert_double_eq_tol(ledger_meter_total(l, d), meter_tot[d], 1e-9 * meter_tot[d]);
		ck_assert_msg(fabs(cells - ledger_meter_total(l, d)) < 1e-9 * meter_tot[d],
			      "device %d: cells %.17g meter %.17g", d, cells,
			      ledger_meter_total(l, d));
	}
	ledger_free(l);
}
END_TEST

static Suite *ledger_suite(void)
{
	Suite *s = suite_create("ledger");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_names_and_sizes);
	tcase_add_loop_test(tc, test_charge_cells, 0, N_CELL_CASES);
	tcase_add_test(tc, test_charges_accumulate);
	tcase_add_test(tc, test_used_flag_sticky_and_zero_charge);
	tcase_add_test(tc, test_conservation_passes);
	tcase_add_loop_test(tc, test_conservation_tolerance, 0, N_TOL_CASES);
	tcase_add_test(tc, test_violation_records_worst);
	tcase_add_test(tc, test_signed_unattributed_conserves);
	tcase_add_test(tc, test_totals_are_sum_of_intervals);
	tcase_add_test(tc, test_total_cd);
	tcase_add_test(tc, test_random_long_run_conserves);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ledger_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
