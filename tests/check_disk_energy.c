/* check_disk_energy: tests of models/disk_service.c (true service time) and
 * models/disk_energy.c (the paper's disk accounting). */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "models/disk_energy.h"
#include "models/disk_service.h"

#define US_NS 1000
#define MS_NS 1000000
#define S_NS 1000000000LL
#define MB_PER_S 1e6

/* ------------------------------------------------------- disk_service */

static const struct {
	const char *name;
	double rate_bps;
	int64_t overhead_ns, size_b;
	int op;
	int64_t want_ns;
} svc_cases[] = {
	/* paper-2007: 54 us + 4096 B / 55 MB/s = 54000 + 74472.73 -> 128473 ns */
	{"4KiB-55MB/s-read", 55 * MB_PER_S, 54 * US_NS, 4096, 'R', 128473},
	{"4KiB-55MB/s-write", 55 * MB_PER_S, 54 * US_NS, 4096, 'W', 128473},
	{"4KiB-55MB/s-no-overhead", 55 * MB_PER_S, 0, 4096, 'R', 74473},
	{"zero-size", 55 * MB_PER_S, 54 * US_NS, 0, 'R', 54000},
	{"1MiB-100MB/s", 100 * MB_PER_S, 0, 1048576, 'R', 10485760},
	{"4KiB-50MB/s", 50 * MB_PER_S, 10, 4096, 'W', 81930},
	/* rounding to nearest: 1 B at 2 GB/s = 0.5 ns -> 1; 1 B at 3 GB/s = 0.33 -> 0 */
	{"half-ns-rounds-up", 2e9, 0, 1, 'R', 1},
	{"third-ns-rounds-down", 3e9, 0, 1, 'R', 0},
	{"two-thirds-rounds-up", 3e9, 0, 2, 'R', 1},
	/* large: 1 GiB at 55 MB/s = 19.5225786 s */
	{"1GiB-55MB/s", 55 * MB_PER_S, 54 * US_NS, 1073741824LL, 'R', 54000 + 19522578618LL},
};
#define N_SVC (int)(sizeof svc_cases / sizeof svc_cases[0])

START_TEST(test_service_linear)
{
	int i = _i;
	struct disk_service d = {
		.ops = &disk_service_linear,
		.media_rate_bps = svc_cases[i].rate_bps,
		.overhead_ns = svc_cases[i].overhead_ns,
	};
	int64_t got = disk_service_ns(&d, svc_cases[i].size_b, svc_cases[i].op);
	ck_assert_msg(got == svc_cases[i].want_ns, "%s: %lld ns, want %lld", svc_cases[i].name,
		      (long long)got, (long long)svc_cases[i].want_ns);
}
END_TEST

START_TEST(test_service_registry)
{
	ck_assert_ptr_eq(disk_service_models[0], &disk_service_linear);
	ck_assert_ptr_null(disk_service_models[1]);
	ck_assert_str_eq(disk_service_linear.name, "linear");
	ck_assert_ptr_nonnull(disk_service_linear.help);
}
END_TEST

/* -------------------------------------------------------- disk_energy */

#define IDLE_W 3.6
#define ACTIVE_W 5.6 /* P_a - P_i = 2 W */
#define NOMINAL_BPS (55 * MB_PER_S)
#define WINDOW 50

START_TEST(test_init)
{
	struct disk_energy e;
	memset(&e, 0xff, sizeof e);
	disk_energy_init(&e, IDLE_W, ACTIVE_W, NOMINAL_BPS, WINDOW);
	ck_assert_double_eq(e.idle_w, IDLE_W);
	ck_assert_double_eq(e.active_w, ACTIVE_W);
	ck_assert_double_eq(e.rate_bps, NOMINAL_BPS);
	ck_assert_int_eq(e.window, WINDOW);
	ck_assert_int_eq(e.in_window, 0);
	ck_assert_uint_eq(e.estimates, 0);
	/* a non-positive window is clamped to 1 */
	disk_energy_init(&e, IDLE_W, ACTIVE_W, NOMINAL_BPS, 0);
	ck_assert_int_eq(e.window, 1);
	disk_energy_init(&e, IDLE_W, ACTIVE_W, NOMINAL_BPS, -5);
	ck_assert_int_eq(e.window, 1);
}
END_TEST

/* The theory-of-operation example: 4 KiB requests busy 128473 ns each. */
START_TEST(test_first_window_nominal_then_estimate)
{
	struct disk_energy e;
	disk_energy_init(&e, IDLE_W, ACTIVE_W, NOMINAL_BPS, WINDOW);
	const int64_t size = 4096, busy = 128473;
	const double at_nominal = 4096.0 / NOMINAL_BPS * 2.0; /* 148.9 uJ */
	for (int i = 1; i <= WINDOW; i++) {
		double j = disk_energy_complete(&e, size, busy);
		ck_assert_msg(fabs(j - at_nominal) <= 1e-15, "request %d: %.9g J want %.9g", i, j,
			      at_nominal);
		if (i < WINDOW) {
			ck_assert_uint_eq(e.estimates, 0);
			ck_assert_double_eq(e.rate_bps, NOMINAL_BPS);
			ck_assert_int_eq(e.in_window, i);
		}
	}
	ck_assert_double_eq_tol(at_nominal, 148.945e-6, 1e-9);
	/* exactly `window` completions: rate = bytes / busy of that window */
	ck_assert_uint_eq(e.estimates, 1);
	ck_assert_int_eq(e.in_window, 0);
	double want_rate = 4096.0 / (128473e-9);
	ck_assert_double_eq_tol(e.rate_bps, want_rate, 1e-6);
	ck_assert_double_eq_tol(e.rate_bps / MB_PER_S, 31.882, 1e-3);
	/* from the 51st on, each request is charged exactly its busy time */
	double j51 = disk_energy_complete(&e, size, busy);
	ck_assert_double_eq_tol(j51, 128473e-9 * 2.0, 1e-15);
	ck_assert_double_eq_tol(j51, 256.946e-6, 1e-9);
}
END_TEST

/* The estimate is total bytes over total busy time of the window (mixed
 * sizes), and each window replaces the previous one's estimate. */
START_TEST(test_window_mixed_sizes)
{
	struct disk_energy e;
	disk_energy_init(&e, 1.0, 3.0, 100 * MB_PER_S, 4);
	/* window 1: 1000 B in 10 us, 3000 B in 20 us, 0 B in 5 us, 6000 B in 65 us */
	disk_energy_complete(&e, 1000, 10 * US_NS);
	disk_energy_complete(&e, 3000, 20 * US_NS);
	disk_energy_complete(&e, 0, 5 * US_NS);
	ck_assert_double_eq(e.rate_bps, 100 * MB_PER_S);
	disk_energy_complete(&e, 6000, 65 * US_NS);
	ck_assert_double_eq_tol(e.rate_bps, 10000.0 / 100e-6, 1e-3); /* 100 MB/s */
	/* window 2 at 50 MB/s: the charges use window 1's estimate */
	for (int i = 0; i < 4; i++) {
		double j = disk_energy_complete(&e, 5000, 100 * US_NS);
		ck_assert_double_eq_tol(j, 5000.0 / 100e6 * 2.0, 1e-15);
	}
	ck_assert_double_eq_tol(e.rate_bps, 50 * MB_PER_S, 1e-3);
	ck_assert_uint_eq(e.estimates, 2);
	/* window 3 is charged at 50 MB/s */
	ck_assert_double_eq_tol(disk_energy_complete(&e, 5000, 1), 5000.0 / 50e6 * 2.0, 1e-15);
	ck_assert_uint_eq(e.estimates, 2);
	ck_assert_int_eq(e.in_window, 1);
}
END_TEST

/* A window with no busy time keeps the previous estimate (no division by 0). */
START_TEST(test_window_zero_busy_keeps_rate)
{
	struct disk_energy e;
	disk_energy_init(&e, 1.0, 3.0, 100 * MB_PER_S, 2);
	disk_energy_complete(&e, 4096, 0);
	disk_energy_complete(&e, 4096, 0);
	ck_assert_double_eq(e.rate_bps, 100 * MB_PER_S);
	ck_assert(isfinite(e.rate_bps));
	ck_assert_int_eq(e.in_window, 0);
	/* and the next window estimates normally */
	disk_energy_complete(&e, 1000, 10 * US_NS);
	disk_energy_complete(&e, 1000, 10 * US_NS);
	ck_assert_double_eq_tol(e.rate_bps, 2000.0 / 20e-6, 1e-3);
}
END_TEST

/* The estimates counter increments once per window, nowhere else. */
START_TEST(test_estimates_once_per_window)
{
	static const int windows[] = {1, 2, 7, 50};
	for (size_t w = 0; w < sizeof windows / sizeof windows[0]; w++) {
		struct disk_energy e;
		disk_energy_init(&e, IDLE_W, ACTIVE_W, NOMINAL_BPS, windows[w]);
		for (int i = 1; i <= 10 * windows[w] + 3; i++) {
			disk_energy_complete(&e, 4096, 128473);
			ck_assert_uint_eq(e.estimates, (uint64_t)(i / windows[w]));
			ck_assert_int_eq(e.in_window, i % windows[w]);
		}
	}
}
END_TEST

/* Analytic case (the issue): one client, fixed transfer rate, no overhead,
 * nominal = media rate, size / rate a whole number of ns. Every request is
 * charged size / rate * (Pa - Pi); the access energy over n requests is
 * n * size / rate * (Pa - Pi), and idle energy over T is Pi * T. */
static const struct {
	double rate_bps;
	int64_t size_b;
	int n;
	int window;
} analytic[] = {
	{50 * MB_PER_S, 4096, 1000, 50},     /* 81920 ns per request */
	{100 * MB_PER_S, 1048576, 137, 50},  /* 10485760 ns */
	{64 * MB_PER_S, 65536, 500, 7},      /* 1024000 ns */
	{50 * MB_PER_S, 4096, 49, 50},       /* never leaves the first window */
};
#define N_ANALYTIC (int)(sizeof analytic / sizeof analytic[0])

START_TEST(test_analytic_fixed_rate)
{
	int i = _i;
	struct disk_service svc = {.ops = &disk_service_linear,
				   .media_rate_bps = analytic[i].rate_bps, .overhead_ns = 0};
	struct disk_energy e;
	disk_energy_init(&e, IDLE_W, ACTIVE_W, analytic[i].rate_bps, analytic[i].window);
	double access = 0.0;
	int64_t t = 0;
	const double per_req = (double)analytic[i].size_b / analytic[i].rate_bps * 2.0;
	for (int r = 0; r < analytic[i].n; r++) {
		int64_t busy = disk_service_ns(&svc, analytic[i].size_b, 'R');
		ck_assert_double_eq_tol((double)busy * 1e-9,
					(double)analytic[i].size_b / analytic[i].rate_bps, 1e-15);
		double j = disk_energy_complete(&e, analytic[i].size_b, busy);
		ck_assert_msg(fabs(j - per_req) <= 1e-12 * per_req, "case %d request %d: %.17g vs %.17g",
			      i, r, j, per_req);
		access += j;
		t += busy;
	}
	ck_assert_double_eq_tol(access, analytic[i].n * per_req, 1e-12 * analytic[i].n * per_req);
	/* the rate estimate equals the media rate */
	ck_assert_double_eq_tol(e.rate_bps, analytic[i].rate_bps, 1e-9 * analytic[i].rate_bps);
	ck_assert_uint_eq(e.estimates, (uint64_t)(analytic[i].n / analytic[i].window));
	/* total energy over the busy span T: Pi * T + access = Pa * T */
	double idle = disk_energy_idle(&e, t);
	ck_assert_double_eq_tol(idle, IDLE_W * (double)t * 1e-9, 1e-15);
	ck_assert_double_eq_tol(idle + access, ACTIVE_W * (double)t * 1e-9,
				1e-12 * ACTIVE_W * (double)t * 1e-9);
}
END_TEST

/* Idle energy P_i * dt; the paper's 50 ms idle period at 3.6 W is 0.18 J. */
static const struct {
	double idle_w;
	int64_t dt_ns;
	double want_j;
} idle_cases[] = {
	{3.6, 50 * MS_NS, 0.18},
	{3.6, 0, 0.0},
	{3.6, 1, 3.6e-9},
	{7.0, S_NS, 7.0},
	{0.0, S_NS, 0.0},
	{3.6, 3600LL * S_NS, 12960.0},
};
#define N_IDLE (int)(sizeof idle_cases / sizeof idle_cases[0])

START_TEST(test_idle)
{
	int i = _i;
	struct disk_energy e;
	disk_energy_init(&e, idle_cases[i].idle_w, 10.0, NOMINAL_BPS, WINDOW);
	ck_assert_double_eq_tol(disk_energy_idle(&e, idle_cases[i].dt_ns), idle_cases[i].want_j,
				1e-12 * fmax(1.0, idle_cases[i].want_j));
	/* idle does not disturb the estimator */
	ck_assert_int_eq(e.in_window, 0);
	ck_assert_uint_eq(e.estimates, 0);
}
END_TEST

/* With the paper-2007 service model (54 us overhead ignored by the
 * accounting) the first window undercharges by overhead * (Pa - Pi) per
 * request; every later window charges the busy time exactly. */
START_TEST(test_overhead_error_first_window_only)
{
	struct disk_service svc = {.ops = &disk_service_linear, .media_rate_bps = NOMINAL_BPS,
				   .overhead_ns = 54 * US_NS};
	struct disk_energy e;
	disk_energy_init(&e, IDLE_W, ACTIVE_W, NOMINAL_BPS, WINDOW);
	double acc = 0.0, truth = 0.0;
	for (int r = 0; r < 10 * WINDOW; r++) {
		int64_t busy = disk_service_ns(&svc, 4096, 'R');
		acc += disk_energy_complete(&e, 4096, busy);
		truth += (double)busy * 1e-9 * (ACTIVE_W - IDLE_W);
	}
	/* 50 x (128.473 us - 74.4727 us) x 2 W = 50 x 108 uJ */
	double short_first = WINDOW * (128473e-9 - 4096.0 / NOMINAL_BPS) * 2.0;
	ck_assert_double_eq_tol(truth - acc, short_first, 1e-9 * short_first);
	ck_assert_double_eq_tol(short_first, 5.4e-3, 1e-7);
}
END_TEST

static Suite *disk_suite(void)
{
	Suite *s = suite_create("disk_energy");
	TCase *tc = tcase_create("disk_service");
	tcase_add_loop_test(tc, test_service_linear, 0, N_SVC);
	tcase_add_test(tc, test_service_registry);
	suite_add_tcase(s, tc);
	tc = tcase_create("disk_energy");
	tcase_add_test(tc, test_init);
	tcase_add_test(tc, test_first_window_nominal_then_estimate);
	tcase_add_test(tc, test_window_mixed_sizes);
	tcase_add_test(tc, test_window_zero_busy_keeps_rate);
	tcase_add_test(tc, test_estimates_once_per_window);
	tcase_add_loop_test(tc, test_analytic_fixed_rate, 0, N_ANALYTIC);
	tcase_add_loop_test(tc, test_idle, 0, N_IDLE);
	tcase_add_test(tc, test_overhead_error_first_window_only);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(disk_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
