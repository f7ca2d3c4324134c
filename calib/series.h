/*
 * series: piecewise-constant time series and their resampling to windows.
 *
 * Every signal calib/ handles (a model's power.csv rows, meter samples,
 * per-interval counter rates, RAPL energy per interval) is a list of
 * segments [t0, t1) with a constant value, times in seconds on the
 * series' own time base. A window mean is the overlap-weighted mean of the
 * segments the window covers; coverage is the covered fraction of the
 * window (gaps count as uncovered, never as zero).
 */
#ifndef JV_CAL_SERIES_H
#define JV_CAL_SERIES_H

#include <stddef.h>

#include "base/jv_err.h"

struct cal_series {
	size_t n, cap;
	double *t0_s, *t1_s, *v; /* segments, t0 non-decreasing, t0 <= t1 */
};

void cal_series_init(struct cal_series *s);
void cal_series_free(struct cal_series *s);
/* Append segment [t0, t1) with value v; t0 must be >= the previous t0.
 * Returns 0 or JV_ENOMEM / JV_EINVAL (t1 < t0, out of order, non-finite). */
int cal_series_add(struct cal_series *s, double t0_s, double t1_s, double v);
/* Segments from point samples held until the next sample: sample i covers
 * [t[i], t[i+1]), the last one [t[n-1], t[n-1] + last_dt_s). */
int cal_series_from_samples(struct cal_series *s, const double *t_s, const double *v, size_t n,
			    double last_dt_s);
/* First start and last end (0 and 0 when empty). */
double cal_series_start(const struct cal_series *s);
double cal_series_end(const struct cal_series *s);
/* Mean over n windows [start + k*step - shift, start + (k+1)*step - shift)
 * of the series (so a series whose time t corresponds to t - shift on the
 * window time base). mean[k] and cov[k] (coverage fraction 0..1, may be
 * NULL) filled; mean[k] = 0 where cov[k] == 0. O(n + segments). */
void cal_series_resample(const struct cal_series *s, double shift_s, double start_s,
			 double step_s, size_t n, double *mean, double *cov);
/* Mean and coverage over one window [a, b) of the series' own time base. */
double cal_series_mean(const struct cal_series *s, double a_s, double b_s, double *cov);
/* out = a + b where both cover (segments at every breakpoint of either). */
int cal_series_sum(const struct cal_series *a, const struct cal_series *b,
		   struct cal_series *out);
/* Median distance between successive segment starts (0 when n < 2). */
double cal_series_median_step(const struct cal_series *s);

#endif
