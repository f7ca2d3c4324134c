/*
 * nnls: non-negative least squares (Lawson-Hanson active set on GSL's
 * linear least squares) and the regression calib/ fits with it:
 * y = b0 + sum_j w_j x_j with every w_j >= 0 and b0 free.
 */
#ifndef JV_CAL_NNLS_H
#define JV_CAL_NNLS_H

#include <stddef.h>

#include "base/jv_err.h"

#define CAL_MAX_FEAT 32 /* columns of one regression */

/* x = argmin ||A x - b||_2 subject to x >= 0. A is n x p row-major
 * (n >= 1, 1 <= p <= CAL_MAX_FEAT); x has p entries. Returns 0, JV_EINVAL
 * (bad sizes or non-finite input) or JV_ENOMEM. *iters (may be NULL): outer
 * iterations used. */
int cal_nnls(const double *A, size_t n, int p, const double *b, double *x, int *iters);

struct cal_nnreg {
	int p;                        /* columns */
	size_t n;                     /* rows */
	double b0;                    /* free intercept (units of y) */
	double w[CAL_MAX_FEAT];       /* weights, >= 0 (units of y per unit of x) */
	int at_bound[CAL_MAX_FEAT];   /* 1: held at 0 by the constraint */
	double se_b0, se[CAL_MAX_FEAT]; /* standard errors; se = 0 at the bound */
	int se_ok;                    /* 0 when the residual degrees of freedom are 0 */
	double std_w[CAL_MAX_FEAT];   /* weight x column standard deviation (units of y) */
	double rss, tss, r2;          /* r2 = 1 - rss/tss; 0 when tss == 0 */
	int r2_ok;                    /* 0 when y has no variance */
	int dof;                      /* n - 1 - number of weights off the bound */
	int iterations;
};

/* Fit y = b0 + X w, w >= 0, b0 free. X is n x p row-major. Columns are
 * centred and scaled to unit standard deviation before the NNLS (the
 * intercept then drops out: b0 = mean(y) - sum w_j mean(x_j)); a column
 * with no variance is held at 0 (at_bound). Standard errors come from the
 * ordinary least squares covariance of the final unconstrained set
 * (intercept and weights off the bound). Every output is finite. Needs
 * n >= 1; returns 0, JV_EINVAL or JV_ENOMEM. */
int cal_nnreg_fit(const double *X, size_t n, int p, const double *y, struct cal_nnreg *out);
/* b0 + sum w_j x_j */
double cal_nnreg_predict(const struct cal_nnreg *r, const double *x);

#endif
