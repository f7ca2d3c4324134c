/*
 * series: piecewise-constant series, window means and sums (series.h).
 *
 * Problem: a model (1 ms rows), a DAQ (2048 Hz), a wall meter (1 Hz) and
 * perf intervals (100 ms) must be compared on common windows without
 * inventing data: every value is a segment [t0, t1) and a window takes the
 * overlap-weighted mean of what it covers, reporting the covered fraction.
 *
 * Strategy: segments are kept sorted by start; resampling walks windows and
 * segments together (two pointers), so n windows over m segments cost
 * O(n + m) when segments do not overlap much (they never do in practice:
 * each source produces consecutive segments). A binary search finds the
 * first segment of a single window.
 *
 * Limits: times are doubles in seconds (sub-nanosecond resolution over
 * days); overlapping segments are summed by overlap, as a sampled signal
 * would never produce them.
 */
#include "calib/series.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SERIES_INIT_CAP 256

void cal_series_init(struct cal_series *s)
{
	memset(s, 0, sizeof *s);
}

void cal_series_free(struct cal_series *s)
{
	free(s->t0_s);
	free(s->t1_s);
	free(s->v);
	cal_series_init(s);
}

static int grow(struct cal_series *s)
{
	size_t cap = s->cap ? 2 * s->cap : SERIES_INIT_CAP;
	double *a = realloc(s->t0_s, cap * sizeof *a);
	if (!a)
		return JV_ENOMEM;
	s->t0_s = a;
	double *b = realloc(s->t1_s, cap * sizeof *b);
	if (!b)
		return JV_ENOMEM;
	s->t1_s = b;
	double *c = realloc(s->v, cap * sizeof *c);
	if (!c)
		return JV_ENOMEM;
	s->v = c;
	s->cap = cap;
	return 0;
}

int cal_series_add(struct cal_series *s, double t0_s, double t1_s, double v)
{
	if (!isfinite(t0_s) || !isfinite(t1_s) || !isfinite(v) || t1_s < t0_s)
		return JV_EINVAL;
	if (s->n && t0_s < s->t0_s[s->n - 1])
		return JV_EINVAL;
	if (s->n == s->cap && grow(s))
		return JV_ENOMEM;
	s->t0_s[s->n] = t0_s;
	s->t1_s[s->n] = t1_s;
	s->v[s->n] = v;
	s->n++;
	return 0;
}

int cal_series_from_samples(struct cal_series *s, const double *t_s, const double *v, size_t n,
			    double last_dt_s)
{
	for (size_t i = 0; i < n; i++) {
		double t1 = i + 1 < n ? t_s[i + 1] : t_s[i] + last_dt_s;
		int rc = cal_series_add(s, t_s[i], t1, v[i]);
		if (rc)
			return rc;
	}
	return 0;
}

double cal_series_start(const struct cal_series *s)
{
	return s->n ? s->t0_s[0] : 0.0;
}

double cal_series_end(const struct cal_series *s)
{
	double e = 0.0;
	for (size_t i = 0; i < s->n; i++)
		if (i == 0 || s->t1_s[i] > e)
			e = s->t1_s[i];
	return e;
}

/* First segment whose end is after t (segments ends are non-decreasing in
 * practice; a linear fix-up handles the rare exception). */
static size_t first_after(const struct cal_series *s, double t)
{
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->t1_s[mid] <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	while (lo > 0 && s->t1_s[lo - 1] > t)
		lo--;
	return lo;
}

double cal_series_mean(const struct cal_series *s, double a_s, double b_s, double *cov)
{
	double sum = 0.0, covered = 0.0;
	for (size_t i = first_after(s, a_s); i < s->n && s->t0_s[i] < b_s; i++) {
		double lo = fmax(a_s, s->t0_s[i]), hi = fmin(b_s, s->t1_s[i]);
		if (hi > lo) {
			sum += s->v[i] * (hi - lo);
			covered += hi - lo;
		}
	}
	double w = b_s - a_s;
	if (cov)
		*cov = w > 0 ? fmin(1.0, covered / w) : 0.0;
	return covered > 0 ? sum / covered : 0.0;
}

void cal_series_resample(const struct cal_series *s, double shift_s, double start_s,
			 double step_s, size_t n, double *mean, double *cov)
{
	size_t i = n ? first_after(s, start_s + shift_s) : 0;
	for (size_t k = 0; k < n; k++) {
		double a = start_s + (double)k * step_s + shift_s, b = a + step_s;
		while (i < s->n && s->t1_s[i] <= a)
			i++;
		double sum = 0.0, covered = 0.0;
		for (size_t j = i; j < s->n && s->t0_s[j] < b; j++) {
			double lo = fmax(a, s->t0_s[j]), hi = fmin(b, s->t1_s[j]);
			if (hi > lo) {
				sum += s->v[j] * (hi - lo);
				covered += hi - lo;
			}
		}
		mean[k] = covered > 0 ? sum / covered : 0.0;
		if (cov)
			cov[k] = step_s > 0 ? fmin(1.0, covered / step_s) : 0.0;
	}
}

/* Value of s at time t (segment containing t), advancing *i. */
static int value_at(const struct cal_series *s, size_t *i, double t, double *v)
{
	while (*i < s->n && s->t1_s[*i] <= t)
		(*i)++;
	if (*i < s->n && s->t0_s[*i] <= t && t < s->t1_s[*i]) {
		*v = s->v[*i];
		return 1;
	}
	return 0;
}

static double next_break(const struct cal_series *s, size_t i, double t)
{
	double nb = INFINITY;
	for (size_t j = i; j < s->n && j < i + 2; j++) {
		if (s->t0_s[j] > t)
			nb = fmin(nb, s->t0_s[j]);
		if (s->t1_s[j] > t)
			nb = fmin(nb, s->t1_s[j]);
	}
	return nb;
}

int cal_series_sum(const struct cal_series *a, const struct cal_series *b,
		   struct cal_series *out)
{
	cal_series_init(out);
	if (!a->n || !b->n)
		return 0;
	size_t i = 0, j = 0;
	double t = fmax(a->t0_s[0], b->t0_s[0]);
	double end = fmin(cal_series_end(a), cal_series_end(b));
	while (t < end) {
		double va, vb;
		int ha = value_at(a, &i, t, &va), hb = value_at(b, &j, t, &vb);
		double nt = fmin(next_break(a, i, t), next_break(b, j, t));
		if (!isfinite(nt) || nt <= t)
			break;
		nt = fmin(nt, end);
		if (ha && hb) {
			int rc = cal_series_add(out, t, nt, va + vb);
			if (rc)
				return rc;
		}
		t = nt;
	}
	return 0;
}

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return (a > b) - (a < b);
}

double cal_series_median_step(const struct cal_series *s)
{
	if (s->n < 2)
		return 0.0;
	double *d = malloc((s->n - 1) * sizeof *d);
	if (!d)
		return s->t0_s[1] - s->t0_s[0];
	for (size_t i = 0; i + 1 < s->n; i++)
		d[i] = s->t0_s[i + 1] - s->t0_s[i];
	qsort(d, s->n - 1, sizeof *d, cmp_double);
	double m = d[(s->n - 1) / 2];
	free(d);
	return m;
}
