/*
 * align: putting a meter's time base onto the model's.
 *
 * Convention used everywhere in calib/: the offset is the meter time of
 * the model's t = 0, i.e. meter time = model time + offset. Three ways:
 * a manual offset; a sync pulse (the Nth rising edge of a sync channel
 * above a threshold happens at a known model time); or the lag that
 * maximizes the Pearson correlation between model and meter within
 * +-max_lag of a starting offset (which may come from the other two).
 */
#ifndef JV_CAL_ALIGN_H
#define JV_CAL_ALIGN_H

#include <stddef.h>

#include "base/jv_err.h"
#include "calib/daq.h"
#include "calib/series.h"

#define CAL_XCORR_COARSE_LAGS 512     /* lags of the coarse search */
#define CAL_XCORR_MAX_POINTS 2000000  /* grid points of one correlation */
#define CAL_XCORR_MIN_POINTS 8        /* fewest overlapping windows for an r */
#define CAL_MIN_COVERAGE 0.9          /* a window counts when covered this much */

/* Time (meter time base, seconds) and sample index of the edge-th (1-based)
 * rising edge of the meter's sync channel through threshold: a sample
 * above threshold after one at or below it. JV_EINVAL/JV_EEMPTY with d
 * filled when there is no sync channel or no such edge. */
int cal_align_sync(const struct cal_meter *m, double threshold, int edge, double *t_edge_s,
		   size_t *index, struct jv_diag *d);

struct cal_xcorr {
	double offset_s; /* best offset (meter time of model t = 0) */
	double r;        /* Pearson correlation there */
	size_t points;   /* windows in the correlation */
	double step_s;   /* lag resolution of the final search */
	int at_edge;     /* 1 if the best lag is at +-max_lag */
};

/* Lag search: offsets in [center - max_lag, center + max_lag]; fine_step_s
 * is the finest lag step (e.g. the meter's sample period). A coarse pass
 * over CAL_XCORR_COARSE_LAGS lags is refined at fine_step_s around its
 * best, with parabolic interpolation of the peak. JV_EINVAL with d filled
 * if the series never overlap by enough or have no variance. */
int cal_align_xcorr(const struct cal_series *ref, const struct cal_series *meas, double center_s,
		    double max_lag_s, double fine_step_s, struct cal_xcorr *out, struct jv_diag *d);

/* Pearson correlation of x and y (n values); 0 when either is constant. */
double cal_pearson(const double *x, const double *y, size_t n);

#endif
