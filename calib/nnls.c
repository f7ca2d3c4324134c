/*
 * nnls: Lawson-Hanson non-negative least squares and the standardized
 * non-negative regression of calib/ (nnls.h).
 *
 * Problem: PMC power-model weights (joules per event) and the disk's
 * active-minus-idle power are physically non-negative, but ordinary least
 * squares on correlated counters happily returns negative weights that
 * predict nonsense outside the training data. GSL has no NNLS.
 *
 * Model: minimize ||A x - b|| subject to x >= 0 (Lawson & Hanson, "Solving
 * Least Squares Problems", 1974, ch. 23). Strategy: an active set Z (held
 * at 0) and a passive set P (free). Start with everything in Z; repeatedly
 * move to P the column with the largest gradient w = A'(b - Ax); solve the
 * unconstrained problem on P with GSL (gsl_multifit_linear, SVD); if some
 * passive variable would go non-positive, step from x towards the solution
 * only as far as feasibility allows and return the variables that hit 0 to
 * Z; stop when no column of Z has a positive gradient (the KKT conditions
 * hold). At most 3p outer iterations (the method converges in finitely
 * many; the cap guards against rounding loops).
 *
 * Regression: y = b0 + X w. Centring X and y eliminates the free
 * intercept exactly; scaling each column to unit standard deviation makes
 * the gradient test and the tolerance independent of the counters' units
 * (cycles ~1e9/s next to misses ~1e5/s) and conditions the subproblems.
 * Weights are scaled back; b0 = mean(y) - sum w_j mean(x_j). Standard
 * errors: OLS covariance s^2 (D'D)^-1 on D = [1, Z_P] (s^2 = RSS / (n - 1
 * - |P|)), transformed to the original units; a weight at the bound has no
 * standard error (it is reported as held at 0, se = 0).
 *
 * Limits: p <= CAL_MAX_FEAT; the caller screens collinear and constant
 * columns first (fit_pmc.c) so that |P| < n; a column with zero variance
 * is held at 0 here as well. GSL's error handler is switched off during
 * the calls and restored.
 */
#include "calib/nnls.h"

#include <float.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_multifit.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NNLS_ITER_FACTOR 3   /* outer iterations <= 3 p (+ slack) */
#define NNLS_TOL_FACTOR 1e3  /* gradient tolerance: factor x eps x scale */

/* z = LS solution on the passive columns (0 elsewhere). */
static int solve_passive(const double *A, size_t n, int p, const double *b, const int *P,
			 double *z)
{
	int k = 0, idx[CAL_MAX_FEAT];
	for (int j = 0; j < p; j++) {
		z[j] = 0.0;
		if (P[j])
			idx[k++] = j;
	}
	if (k == 0)
		return 0;
	if ((size_t)k > n)
		return JV_EINVAL;
	gsl_matrix *M = gsl_matrix_alloc(n, (size_t)k);
	gsl_vector *y = gsl_vector_alloc(n), *c = gsl_vector_alloc((size_t)k);
	gsl_matrix *cov = gsl_matrix_alloc((size_t)k, (size_t)k);
	gsl_multifit_linear_workspace *ws = gsl_multifit_linear_alloc(n, (size_t)k);
	int rc = JV_ENOMEM;
	if (M && y && c && cov && ws) {
		for (size_t i = 0; i < n; i++) {
			for (int q = 0; q < k; q++)
				gsl_matrix_set(M, i, (size_t)q, A[i * (size_t)p + (size_t)idx[q]]);
			gsl_vector_set(y, i, b[i]);
		}
		double chisq;
		rc = gsl_multifit_linear(M, y, c, cov, &chisq, ws) ? JV_EINVAL : 0;
		for (int q = 0; q < k && !rc; q++) {
			z[idx[q]] = gsl_vector_get(c, (size_t)q);
			if (!isfinite(z[idx[q]]))
				rc = JV_EINVAL;
		}
	}
	gsl_multifit_linear_free(ws);
	gsl_matrix_free(cov);
	gsl_vector_free(c);
	gsl_vector_free(y);
	gsl_matrix_free(M);
	return rc;
}

/* w = A'(b - A x) */
static void gradient(const double *A, size_t n, int p, const double *b, const double *x,
		     double *w)
{
	for (int j = 0; j < p; j++)
		w[j] = 0.0;
	for (size_t i = 0; i < n; i++) {
		double r = b[i];
		for (int j = 0; j < p; j++)
			r -= A[i * (size_t)p + (size_t)j] * x[j];
		for (int j = 0; j < p; j++)
			w[j] += A[i * (size_t)p + (size_t)j] * r;
	}
}

/* Inner loop: keep the passive set feasible. Returns 0 or an error. */
static int inner(const double *A, size_t n, int p, const double *b, int *P, double *x)
{
	double z[CAL_MAX_FEAT];
	for (int guard = 0; guard <= p + 1; guard++) {
		int rc = solve_passive(A, n, p, b, P, z);
		if (rc)
			return rc;
		int feasible = 1;
		for (int j = 0; j < p; j++)
			if (P[j] && z[j] <= 0.0)
				feasible = 0;
		if (feasible) {
			memcpy(x, z, (size_t)p * sizeof *x);
			return 0;
		}
		double alpha = 1.0;
		int jmin = -1;
		for (int j = 0; j < p; j++)
			if (P[j] && z[j] <= 0.0) {
				double den = x[j] - z[j];
				double a = den > 0 ? x[j] / den : 0.0;
				if (jmin < 0 || a < alpha) {
					alpha = a;
					jmin = j;
				}
			}
		for (int j = 0; j < p; j++) {
			if (!P[j])
				continue;
			x[j] += alpha * (z[j] - x[j]);
			if (j == jmin || x[j] <= 0.0) {
				x[j] = 0.0;
				P[j] = 0;
			}
		}
	}
	return 0;
}

static int check_input(const double *A, size_t n, int p, const double *b)
{
	if (n < 1 || p < 1 || p > CAL_MAX_FEAT)
		return JV_EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (!isfinite(b[i]))
			return JV_EINVAL;
		for (int j = 0; j < p; j++)
			if (!isfinite(A[i * (size_t)p + (size_t)j]))
				return JV_EINVAL;
	}
	return 0;
}

int cal_nnls(const double *A, size_t n, int p, const double *b, double *x, int *iters)
{
	int rc = check_input(A, n, p, b);
	if (rc)
		return rc;
	gsl_error_handler_t *old = gsl_set_error_handler_off();
	int P[CAL_MAX_FEAT] = {0}, banned[CAL_MAX_FEAT] = {0};
	double w[CAL_MAX_FEAT], scale = 0.0;
	for (int j = 0; j < p; j++)
		x[j] = 0.0;
	for (size_t i = 0; i < n; i++)
		for (int j = 0; j < p; j++)
			scale = fmax(scale, fabs(A[i * (size_t)p + (size_t)j]) * fabs(b[i]));
	double tol = NNLS_TOL_FACTOR * DBL_EPSILON * scale * (double)n;
	int it = 0, npass = 0;
	for (; it < NNLS_ITER_FACTOR * p + 2; it++) {
		gradient(A, n, p, b, x, w);
		int t = -1;
		for (int j = 0; j < p; j++)
			if (!P[j] && !banned[j] && w[j] > tol && (t < 0 || w[j] > w[t]))
				t = j;
		if (t < 0 || (size_t)(npass + 1) > n)
			break;
		P[t] = 1;
		double before[CAL_MAX_FEAT];
		memcpy(before, x, (size_t)p * sizeof *x);
		if ((rc = inner(A, n, p, b, P, x)))
			break;
		/* rounding: the new column came straight back to 0; do not retry it */
		if (!P[t] && !memcmp(before, x, (size_t)p * sizeof *x))
			banned[t] = 1;
		else
			memset(banned, 0, sizeof banned);
		npass = 0;
		for (int j = 0; j < p; j++)
			npass += P[j];
	}
	gsl_set_error_handler(old);
	if (iters)
		*iters = it;
	for (int j = 0; j < p && !rc; j++)
		if (!isfinite(x[j]) || x[j] < 0)
			x[j] = 0.0;
	return rc;
}

/* ---- standardized regression ------------------------------------------------- */

static void column_stats(const double *X, size_t n, int p, double *mean, double *sd)
{
	for (int j = 0; j < p; j++) {
		double m = 0.0, v = 0.0;
		for (size_t i = 0; i < n; i++)
			m += X[i * (size_t)p + (size_t)j];
		m /= (double)n;
		for (size_t i = 0; i < n; i++) {
			double e = X[i * (size_t)p + (size_t)j] - m;
			v += e * e;
		}
		mean[j] = m;
		sd[j] = sqrt(v / (double)n);
		/* relative test: a column constant up to rounding has no variance */
		if (!(sd[j] > 1e-12 * fabs(m)) || !isfinite(sd[j]))
			sd[j] = 0.0;
	}
}

/* OLS covariance on [1, Z_P]; fills se, se_b0. */
static void standard_errors(const double *Z, size_t n, int p, const double *yc, const double *v,
			    const double *mean, const double *sd, struct cal_nnreg *r)
{
	int k = 0, idx[CAL_MAX_FEAT];
	for (int j = 0; j < p; j++)
		if (v[j] > 0)
			idx[k++] = j;
	r->dof = (int)n - 1 - k;
	if (r->dof < 1)
		return;
	gsl_matrix *D = gsl_matrix_alloc(n, (size_t)k + 1);
	gsl_vector *y = gsl_vector_alloc(n), *c = gsl_vector_alloc((size_t)k + 1);
	gsl_matrix *cov = gsl_matrix_alloc((size_t)k + 1, (size_t)k + 1);
	gsl_multifit_linear_workspace *ws = gsl_multifit_linear_alloc(n, (size_t)k + 1);
	double chisq;
	if (D && y && c && cov && ws) {
		for (size_t i = 0; i < n; i++) {
			gsl_matrix_set(D, i, 0, 1.0);
			for (int q = 0; q < k; q++)
				gsl_matrix_set(D, i, (size_t)q + 1, Z[i * (size_t)p + (size_t)idx[q]]);
			gsl_vector_set(y, i, yc[i]);
		}
		if (gsl_multifit_linear(D, y, c, cov, &chisq, ws) == 0) {
			/* b0 = c0 + mean(y) - sum_j (m_j/sd_j) v_j : a = (1, -m_j/sd_j) */
			double a[CAL_MAX_FEAT + 1], var_b0 = 0.0;
			a[0] = 1.0;
			for (int q = 0; q < k; q++)
				a[q + 1] = -mean[idx[q]] / sd[idx[q]];
			for (int u = 0; u <= k; u++)
				for (int q = 0; q <= k; q++)
					var_b0 += a[u] * a[q] * gsl_matrix_get(cov, (size_t)u, (size_t)q);
			int ok = isfinite(var_b0) && var_b0 >= 0;
			for (int q = 0; q < k && ok; q++) {
				double vq = gsl_matrix_get(cov, (size_t)q + 1, (size_t)q + 1);
				ok = isfinite(vq) && vq >= 0;
				if (ok)
					r->se[idx[q]] = sqrt(vq) / sd[idx[q]];
			}
			if (ok) {
				r->se_b0 = sqrt(var_b0);
				r->se_ok = 1;
			} else {
				memset(r->se, 0, sizeof r->se);
			}
		}
	}
	gsl_multifit_linear_free(ws);
	gsl_matrix_free(cov);
	gsl_vector_free(c);
	gsl_vector_free(y);
	gsl_matrix_free(D);
}

int cal_nnreg_fit(const double *X, size_t n, int p, const double *y, struct cal_nnreg *r)
{
	memset(r, 0, sizeof *r);
	r->p = p;
	r->n = n;
	if (n < 1 || p < 0 || p > CAL_MAX_FEAT)
		return JV_EINVAL;
	double mean[CAL_MAX_FEAT] = {0}, sd[CAL_MAX_FEAT] = {0}, v[CAL_MAX_FEAT] = {0};
	double ym = 0.0;
	for (size_t i = 0; i < n; i++) {
		if (!isfinite(y[i]))
			return JV_EINVAL;
		ym += y[i];
	}
	ym /= (double)n;
	int pp = p > 0 ? p : 1;
	double *Z = calloc(n * (size_t)pp, sizeof *Z), *yc = malloc(n * sizeof *yc);
	if (!Z || !yc) {
		free(Z);
		free(yc);
		return JV_ENOMEM;
	}
	int rc = 0;
	if (p > 0) {
		if ((rc = check_input(X, n, p, y)))
			goto done;
		column_stats(X, n, p, mean, sd);
		for (size_t i = 0; i < n; i++)
			for (int j = 0; j < p; j++)
				Z[i * (size_t)p + (size_t)j] =
					sd[j] > 0 ? (X[i * (size_t)p + (size_t)j] - mean[j]) / sd[j] : 0.0;
	}
	for (size_t i = 0; i < n; i++)
		yc[i] = y[i] - ym;
	if (p > 0 && (rc = cal_nnls(Z, n, p, yc, v, &r->iterations)))
		goto done;
	r->b0 = ym;
	for (int j = 0; j < p; j++) {
		r->w[j] = sd[j] > 0 && v[j] > 0 ? v[j] / sd[j] : 0.0;
		r->std_w[j] = r->w[j] * sd[j];
		r->at_bound[j] = !(r->w[j] > 0);
		r->b0 -= r->w[j] * mean[j];
	}
	for (size_t i = 0; i < n; i++) {
		double e = y[i] - (p > 0 ? cal_nnreg_predict(r, X + i * (size_t)p) : r->b0);
		r->rss += e * e;
		r->tss += yc[i] * yc[i];
	}
	r->r2_ok = r->tss > 1e-24 * (1.0 + ym * ym) * (double)n;
	r->r2 = r->r2_ok ? 1.0 - r->rss / r->tss : 0.0;
	r->dof = (int)n - 1;
	{
		gsl_error_handler_t *old = gsl_set_error_handler_off();
		for (int j = 0; j < p; j++)
			v[j] = r->w[j] > 0 ? v[j] : 0.0;
		standard_errors(Z, n, p, yc, v, mean, sd, r);
		gsl_set_error_handler(old);
	}
	if (!r->se_ok && r->dof >= 1 && p == 0) {
		/* intercept only: se of the mean */
		r->se_b0 = sqrt(r->rss / (double)(n - 1) / (double)n);
		r->se_ok = isfinite(r->se_b0);
	}
	if (!isfinite(r->b0) || !isfinite(r->rss))
		rc = JV_EINVAL;
done:
	free(Z);
	free(yc);
	return rc;
}

double cal_nnreg_predict(const struct cal_nnreg *r, const double *x)
{
	double s = r->b0;
	for (int j = 0; j < r->p; j++)
		s += r->w[j] * x[j];
	return s;
}
