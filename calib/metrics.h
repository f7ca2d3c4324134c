/*
 * metrics: agreement between a predicted (model) and a measured power
 * series over the same windows: MAE, RMSE, MAPE, energy error and Pearson
 * correlation. Undefined values (MAPE with all-zero measurements, energy
 * error with zero measured energy, correlation of a constant or of fewer
 * than 2 windows) are flagged, never NaN.
 */
#ifndef JV_CAL_METRICS_H
#define JV_CAL_METRICS_H

#include <stddef.h>

struct cal_metrics {
	size_t n;               /* windows */
	double mae_w, rmse_w;   /* mean absolute / root mean square error */
	double mape_pct;        /* mean |error| / |measured|, windows with measured != 0 */
	double energy_error_pct;/* (predicted - measured energy) / measured energy */
	double corr;            /* Pearson r */
	double predicted_j, measured_j;
	double bias_w;          /* mean (predicted - measured) */
	int mape_ok, energy_ok, corr_ok;
};

/* pred, meas in W; dt in s (NULL: every window weighs 1 s). */
void cal_metrics_compute(const double *pred, const double *meas, const double *dt, size_t n,
			 struct cal_metrics *m);

#endif
