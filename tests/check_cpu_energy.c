/* check_cpu_energy: tests of models/cpu_energy.c (weighted-PMC model). */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "models/cpu_energy.h"

/* paper-2007 counters: tsc, cycles, instructions, l2_misses, bus_accesses */
enum { C_TSC, C_CYCLES, C_INSN, C_L2, C_BUS, N_PAPER };

static struct cpu_energy paper_model(void)
{
	struct cpu_energy m;
	memset(&m, 0, sizeof m);
	m.ops = &cpu_energy_weighted_pmc;
	m.n_counters = N_PAPER;
	m.tsc_index = C_TSC;
	m.weight_j[C_TSC] = 12e-9;
	m.weight_j[C_CYCLES] = 15e-9;
	m.weight_j[C_INSN] = 5e-9;
	m.weight_j[C_L2] = 100e-9;
	m.weight_j[C_BUS] = 50e-9;
	return m;
}

#define MS_NS 1000000

/* Periods of a known PMC log: counter advances and expected energies. */
static const struct {
	const char *name;
	int64_t dt_ns;
	double delta[N_PAPER];
	double idle_j, active_j;
} periods[] = {
	/* the theory-of-operation example: 1 ms at 3 GHz, 4e6 instructions */
	{"1ms-3GHz", MS_NS, {3e6, 3e6, 4e6, 0, 0}, 36e-3, 45e-3 + 20e-3},
	/* halted: only the TSC advances */
	{"halted", MS_NS, {3e6, 0, 0, 0, 0}, 36e-3, 0.0},
	/* memory-bound: misses and bus accesses */
	{"membound", 10 * MS_NS, {3e7, 3e7, 1e7, 1e5, 2e5},
	 0.36, 15e-9 * 3e7 + 5e-9 * 1e7 + 100e-9 * 1e5 + 50e-9 * 2e5},
	{"empty", 0, {0, 0, 0, 0, 0}, 0.0, 0.0},
	/* each non-TSC counter alone */
	{"cycles-only", 0, {0, 1e6, 0, 0, 0}, 0.0, 15e-3},
	{"insn-only", 0, {0, 0, 1e6, 0, 0}, 0.0, 5e-3},
	{"l2-only", 0, {0, 0, 0, 1e3, 0}, 0.0, 100e-6},
	{"bus-only", 0, {0, 0, 0, 0, 1e3}, 0.0, 50e-6},
};
#define N_PERIODS (int)(sizeof periods / sizeof periods[0])

START_TEST(test_weighted_periods)
{
	int i = _i;
	struct cpu_energy m = paper_model();
	double idle = -1, active = -1;
	cpu_energy_period(&m, periods[i].dt_ns, periods[i].delta, &idle, &active);
	ck_assert_msg(fabs(idle - periods[i].idle_j) <= 1e-12 * fmax(1, periods[i].idle_j),
		      "%s: idle %.15g want %.15g", periods[i].name, idle, periods[i].idle_j);
	ck_assert_msg(fabs(active - periods[i].active_j) <= 1e-12 * fmax(1, periods[i].active_j),
		      "%s: active %.15g want %.15g", periods[i].name, active, periods[i].active_j);
}
END_TEST

/* The baseline: 12 nJ per TSC tick at 3 GHz is 36 W, whatever runs. */
START_TEST(test_baseline_power)
{
	struct cpu_energy m = paper_model();
	double d[N_PAPER] = {3e9 * 0.1, 0, 0, 0, 0};
	double idle, active;
	cpu_energy_period(&m, 100 * MS_NS, d, &idle, &active);
	ck_assert_double_eq_tol(idle / 0.1, 36.0, 1e-9);
	ck_assert_double_eq_tol(active, 0.0, 1e-15);
}
END_TEST

/* The TSC counter is excluded from active energy wherever it sits. */
START_TEST(test_tsc_index_anywhere)
{
	struct cpu_energy m;
	memset(&m, 0, sizeof m);
	m.ops = &cpu_energy_weighted_pmc;
	m.n_counters = 3;
	m.weight_j[0] = 1.0;
	m.weight_j[1] = 10.0;
	m.weight_j[2] = 100.0;
	double d[3] = {1, 2, 3};
	static const struct {
		int tsc;
		double idle, active;
	} t[] = {
		{0, 1.0, 320.0},
		{1, 20.0, 301.0},
		{2, 300.0, 21.0},
		{-1, 0.0, 321.0}, /* no baseline counter: everything active */
	};
	for (size_t k = 0; k < sizeof t / sizeof t[0]; k++) {
		double idle = -1, active = -1;
		m.tsc_index = t[k].tsc;
		cpu_energy_period(&m, MS_NS, d, &idle, &active);
		ck_assert_msg(idle == t[k].idle && active == t[k].active,
			      "tsc %d: idle %g active %g, want %g %g", t[k].tsc, idle, active,
			      t[k].idle, t[k].active);
		/* total energy does not depend on where the TSC is */
		ck_assert_double_eq_tol(idle + active, 321.0, 1e-12);
	}
}
END_TEST

/* Counters beyond n_counters are ignored (weights set, deltas garbage). */
START_TEST(test_only_n_counters)
{
	struct cpu_energy m = paper_model();
	m.n_counters = 2; /* tsc, cycles */
	double d[N_PAPER] = {3e6, 3e6, 4e6, 1e9, 1e9};
	double idle, active;
	cpu_energy_period(&m, MS_NS, d, &idle, &active);
	ck_assert_double_eq_tol(idle, 36e-3, 1e-15);
	ck_assert_double_eq_tol(active, 45e-3, 1e-15);
}
END_TEST

/* Linear: two half periods add up to the whole. */
START_TEST(test_linear_in_counters)
{
	struct cpu_energy m = paper_model();
	double a[N_PAPER] = {1.5e6, 1.5e6, 1e6, 300, 700};
	double b[N_PAPER] = {1.5e6, 1.2e6, 3e6, 100, 50};
	double ab[N_PAPER];
	for (int i = 0; i < N_PAPER; i++)
		ab[i] = a[i] + b[i];
	double ia, aa, ib, abb, iab, aab;
	cpu_energy_period(&m, MS_NS / 2, a, &ia, &aa);
	cpu_energy_period(&m, MS_NS / 2, b, &ib, &abb);
	cpu_energy_period(&m, MS_NS, ab, &iab, &aab);
	ck_assert_double_eq_tol(ia + ib, iab, 1e-15);
	ck_assert_double_eq_tol(aa + abb, aab, 1e-15);
}
END_TEST

START_TEST(test_null_model)
{
	struct cpu_energy m = paper_model();
	m.ops = &cpu_energy_null;
	double d[N_PAPER] = {3e6, 3e6, 4e6, 1e3, 1e3};
	double idle = -1, active = -1;
	cpu_energy_period(&m, MS_NS, d, &idle, &active);
	ck_assert_double_eq(idle, 0.0);
	ck_assert_double_eq(active, 0.0);
}
END_TEST

static const struct {
	const char *name;
	const struct cpu_energy_ops *want;
} lookups[] = {
	{"weighted-pmc", &cpu_energy_weighted_pmc},
	{"null", &cpu_energy_null},
	{"", NULL},
	{"weighted", NULL},
	{"Weighted-PMC", NULL},
	{"weighted-pmc ", NULL},
	{"nul", NULL},
};
#define N_LOOKUPS (int)(sizeof lookups / sizeof lookups[0])

START_TEST(test_lookup)
{
	int i = _i;
	ck_assert_ptr_eq(cpu_energy_lookup(lookups[i].name), lookups[i].want);
}
END_TEST

START_TEST(test_registry)
{
	int n = 0, has_default = 0;
	for (; cpu_energy_models[n]; n++) {
		ck_assert_ptr_nonnull(cpu_energy_models[n]->name);
		ck_assert_ptr_nonnull(cpu_energy_models[n]->help);
		ck_assert_ptr_nonnull(cpu_energy_models[n]->period);
		ck_assert_ptr_eq(cpu_energy_lookup(cpu_energy_models[n]->name), cpu_energy_models[n]);
		if (cpu_energy_models[n] == &cpu_energy_weighted_pmc)
			has_default = 1;
	}
	ck_assert_int_eq(n, 2);
	ck_assert_int_eq(has_default, 1);
	ck_assert_ptr_eq(cpu_energy_models[0], &cpu_energy_weighted_pmc);
}
END_TEST

static Suite *cpu_energy_suite(void)
{
	Suite *s = suite_create("cpu_energy");
	TCase *tc = tcase_create("core");
	tcase_add_loop_test(tc, test_weighted_periods, 0, N_PERIODS);
	tcase_add_test(tc, test_baseline_power);
	tcase_add_test(tc, test_tsc_index_anywhere);
	tcase_add_test(tc, test_only_n_counters);
	tcase_add_test(tc, test_linear_in_counters);
	tcase_add_test(tc, test_null_model);
	tcase_add_loop_test(tc, test_lookup, 0, N_LOOKUPS);
	tcase_add_test(tc, test_registry);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(cpu_energy_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
