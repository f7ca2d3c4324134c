/*
 * check_nnls: Lawson-Hanson NNLS and the standardized non-negative
 * regression (calib/nnls.c).
 *
 * NNLS results are checked against a brute-force solver (every subset of
 * free columns, unconstrained least squares on the subset, keep feasible
 * ones, take the smallest residual), which is exact for small p. The
 * regression is checked against closed forms (simple linear regression
 * slope and standard error) and against known truth with a negative true
 * weight, constant columns and wildly different column scales.
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "calib/nnls.h"

static uint64_t rng_state;

static double urand(void)
{
	rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (double)(rng_state >> 11) / 9007199254740992.0;
}

static double nrand(void)
{
	double u = urand() + 1e-12, v = urand();
	return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

static double resid2(const double *A, size_t n, int p, const double *b, const double *x)
{
	double s = 0;
	for (size_t i = 0; i < n; i++) {
		double r = b[i];
		for (int j = 0; j < p; j++)
			r -= A[i * (size_t)p + (size_t)j] * x[j];
		s += r * r;
	}
	return s;
}

/* Solve normal equations on a subset by Gaussian elimination (p <= 5). */
static int ls_subset(const double *A, size_t n, int p, const double *b, unsigned mask, double *x)
{
	int idx[8], k = 0;
	for (int j = 0; j < p; j++) {
		x[j] = 0;
		if (mask & (1u << j))
			idx[k++] = j;
	}
	double M[8][9] = {{0}};
	for (int u = 0; u < k; u++) {
		for (int v = 0; v < k; v++)
			for (size_t i = 0; i < n; i++)
				M[u][v] += A[i * (size_t)p + (size_t)idx[u]] * A[i * (size_t)p + (size_t)idx[v]];
		for (size_t i = 0; i < n; i++)
			M[u][k] += A[i * (size_t)p + (size_t)idx[u]] * b[i];
	}
	for (int c = 0; c < k; c++) {
		int piv = c;
		for (int r = c + 1; r < k; r++)
			if (fabs(M[r][c]) > fabs(M[piv][c]))
				piv = r;
		if (fabs(M[piv][c]) < 1e-12)
			return 0;
		for (int q = 0; q <= k; q++) {
			double t = M[c][q];
			M[c][q] = M[piv][q];
			M[piv][q] = t;
		}
		for (int r = 0; r < k; r++) {
			if (r == c)
				continue;
			double f = M[r][c] / M[c][c];
			for (int q = 0; q <= k; q++)
				M[r][q] -= f * M[c][q];
		}
	}
	for (int u = 0; u < k; u++) {
		x[idx[u]] = M[u][k] / M[u][u];
		if (x[idx[u]] < 0)
			return 0;
	}
	return 1;
}

static double brute(const double *A, size_t n, int p, const double *b, double *best_x)
{
	double best = INFINITY, x[8];
	for (unsigned mask = 0; mask < (1u << p); mask++)
		if (ls_subset(A, n, p, b, mask, x)) {
			double r = resid2(A, n, p, b, x);
			if (r < best) {
				best = r;
				memcpy(best_x, x, (size_t)p * sizeof *x);
			}
		}
	return best;
}

START_TEST(nnls_small_known)
{
	/* A = [1 0; 0 1; 1 1], b = (2, -1, 1): x2 held at 0, x1 = 1.5 */
	double A[] = {1, 0, 0, 1, 1, 1}, b[] = {2, -1, 1}, x[2];
	ck_assert_int_eq(cal_nnls(A, 3, 2, b, x, NULL), 0);
	ck_assert_double_eq_tol(x[0], 1.5, 1e-12);
	ck_assert_double_eq_tol(x[1], 0.0, 1e-15);
}
END_TEST

START_TEST(nnls_unconstrained_interior)
{
	/* positive LS solution: NNLS must equal it */
	double A[] = {1, 0, 0, 1, 1, 1, 2, 1}, b[] = {1, 2, 3.1, 3.9}, x[2], xb[2];
	ck_assert_int_eq(cal_nnls(A, 4, 2, b, x, NULL), 0);
	brute(A, 4, 2, b, xb);
	ck_assert_double_eq_tol(x[0], xb[0], 1e-10);
	ck_assert_double_eq_tol(x[1], xb[1], 1e-10);
	ck_assert(x[0] > 0 && x[1] > 0);
}
END_TEST

/* Table: random problems of several shapes against brute force. */
static const struct {
	size_t n;
	int p;
	double neg_bias; /* shift of b to force active constraints */
} RANDOM_CASES[] = {
	{6, 2, 0.0}, {10, 3, -0.5}, {20, 4, 0.3}, {8, 5, -1.0}, {50, 5, 0.0}, {5, 5, 0.2},
};

START_TEST(nnls_random_vs_brute)
{
	rng_state = 12345u + (uint64_t)_i;
	size_t n = RANDOM_CASES[_i].n;
	int p = RANDOM_CASES[_i].p;
	for (int rep = 0; rep < 40; rep++) {
		double A[50 * 5], b[50], x[5], xb[5];
		for (size_t i = 0; i < n * (size_t)p; i++)
			A[i] = nrand();
		for (size_t i = 0; i < n; i++)
			b[i] = nrand() + RANDOM_CASES[_i].neg_bias;
		ck_assert_int_eq(cal_nnls(A, n, p, b, x, NULL), 0);
		double rb = brute(A, n, p, b, xb), rx = resid2(A, n, p, b, x);
		for (int j = 0; j < p; j++)
			ck_assert(x[j] >= 0.0);
		ck_assert_msg(rx <= rb * (1 + 1e-9) + 1e-12, "case %d rep %d: %g > brute %g", _i, rep,
			      rx, rb);
	}
}
END_TEST

START_TEST(nnls_rejects_bad_input)
{
	double A[] = {1, NAN}, b[] = {1}, x[2];
	ck_assert_int_eq(cal_nnls(A, 1, 2, b, x, NULL), JV_EINVAL);
	ck_assert_int_eq(cal_nnls(A, 0, 2, b, x, NULL), JV_EINVAL);
	ck_assert_int_eq(cal_nnls(A, 1, 0, b, x, NULL), JV_EINVAL);
}
END_TEST

START_TEST(nnreg_simple_regression_se)
{
	/* y = a + b x: slope and its standard error have closed forms */
	double x[] = {1, 2, 3, 4, 5, 6}, y[] = {1.1, 1.9, 3.2, 3.9, 5.1, 6.2};
	struct cal_nnreg r;
	ck_assert_int_eq(cal_nnreg_fit(x, 6, 1, y, &r), 0);
	double sxx = 17.5, mx = 3.5, my = 0, sxy = 0;
	for (int i = 0; i < 6; i++)
		my += y[i] / 6;
	for (int i = 0; i < 6; i++)
		sxy += (x[i] - mx) * (y[i] - my);
	double slope = sxy / sxx, icpt = my - slope * mx, rss = 0;
	for (int i = 0; i < 6; i++)
		rss += pow(y[i] - icpt - slope * x[i], 2);
	double s2 = rss / 4;
	ck_assert_double_eq_tol(r.w[0], slope, 1e-12);
	ck_assert_double_eq_tol(r.b0, icpt, 1e-12);
	ck_assert_int_eq(r.se_ok, 1);
	ck_assert_double_eq_tol(r.se[0], sqrt(s2 / sxx), 1e-12);
	ck_assert_double_eq_tol(r.se_b0, sqrt(s2 * (1.0 / 6 + mx * mx / sxx)), 1e-12);
	ck_assert_int_eq(r.dof, 4);
	ck_assert(r.r2 > 0.99 && r.r2 <= 1.0);
}
END_TEST

START_TEST(nnreg_negative_truth_held_at_zero)
{
	/* y = 10 + 3e-9 c - 2e-6 m + noise; scales 1e9 and 1e5 */
	rng_state = 7;
	enum { N = 200 };
	static double X[N * 3], y[N];
	for (int i = 0; i < N; i++) {
		X[i * 3] = 1e9 * (1 + urand());
		X[i * 3 + 1] = 1e5 * urand();
		X[i * 3 + 2] = 1e3 * urand();
		y[i] = 10 + 3e-9 * X[i * 3] - 2e-6 * X[i * 3 + 1] + 4e-3 * X[i * 3 + 2] +
		       0.01 * nrand();
	}
	struct cal_nnreg r;
	ck_assert_int_eq(cal_nnreg_fit(X, N, 3, y, &r), 0);
	ck_assert_int_eq(r.at_bound[1], 1);
	ck_assert_double_eq(r.w[1], 0.0);
	ck_assert_double_eq(r.se[1], 0.0);
	ck_assert_int_eq(r.at_bound[0], 0);
	ck_assert_int_eq(r.at_bound[2], 0);
	ck_assert_double_eq_tol(r.w[0], 3e-9, 3e-9 * 0.02);
	ck_assert_double_eq_tol(r.w[2], 4e-3, 4e-3 * 0.02);
	ck_assert(isfinite(r.se[0]) && r.se[0] > 0);
	ck_assert(isfinite(r.b0) && isfinite(r.se_b0));
}
END_TEST

START_TEST(nnreg_constant_column_and_tiny_n)
{
	double X[] = {5, 1, 5, 2, 5, 3}, y[] = {2, 4, 6};
	struct cal_nnreg r;
	ck_assert_int_eq(cal_nnreg_fit(X, 3, 2, y, &r), 0);
	ck_assert_int_eq(r.at_bound[0], 1);
	ck_assert_double_eq_tol(r.w[1], 2.0, 1e-12);
	ck_assert_double_eq_tol(r.b0, 0.0, 1e-12);
	ck_assert(isfinite(r.se[1]) && isfinite(r.se_b0));
	/* one row: no residual dof, no standard errors, nothing NaN */
	double X1[] = {1, 2}, y1[] = {3};
	ck_assert_int_eq(cal_nnreg_fit(X1, 1, 2, y1, &r), 0);
	ck_assert_int_eq(r.se_ok, 0);
	ck_assert_double_eq_tol(r.b0, 3.0, 1e-12);
	ck_assert(isfinite(r.r2) && isfinite(r.w[0]) && isfinite(r.w[1]));
	ck_assert_int_eq(r.r2_ok, 0);
}
END_TEST

START_TEST(nnreg_constant_target)
{
	double X[] = {1, 2, 3, 4}, y[] = {7, 7, 7, 7};
	struct cal_nnreg r;
	ck_assert_int_eq(cal_nnreg_fit(X, 4, 1, y, &r), 0);
	ck_assert_double_eq_tol(r.b0, 7.0, 1e-12);
	ck_assert_double_eq(r.w[0], 0.0);
	ck_assert_int_eq(r.r2_ok, 0);
	ck_assert(isfinite(r.r2));
}
END_TEST

static Suite *nnls_suite(void)
{
	Suite *s = suite_create("nnls");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, nnls_small_known);
	tcase_add_test(tc, nnls_unconstrained_interior);
	tcase_add_loop_test(tc, nnls_random_vs_brute, 0,
			    (int)(sizeof RANDOM_CASES / sizeof *RANDOM_CASES));
	tcase_add_test(tc, nnls_rejects_bad_input);
	tcase_add_test(tc, nnreg_simple_regression_se);
	tcase_add_test(tc, nnreg_negative_truth_held_at_zero);
	tcase_add_test(tc, nnreg_constant_column_and_tiny_n);
	tcase_add_test(tc, nnreg_constant_target);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(nnls_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
