/*
 * fit_disk: the paper's two-state disk power model from a block trace with
 * completion times and a power log: idle power, active power (while
 * transferring) and the transfer rate.
 */
#ifndef JV_CAL_FIT_DISK_H
#define JV_CAL_FIT_DISK_H

#include <stddef.h>
#include <stdint.h>

#include "base/jv_err.h"
#include "calib/series.h"

/* Busy periods of a disk from a block trace (a request is in service from
 * submission to completion; overlapping requests merge). */
struct cal_disk_trace {
	char *path;
	struct cal_series busy;   /* value 1 while busy, 0 between, over the trace span */
	double busy_s;            /* total busy time */
	double bytes;             /* bytes of requests with a completion time */
	size_t requests;          /* requests used */
	size_t no_latency;        /* requests without a completion time (skipped) */
	size_t other_disk;        /* requests on other disks (skipped) */
	double t_first_s, t_last_s;
};

/* format: NULL/"auto" or a trace format name (traces/trc.h); disk: index
 * to keep, -1 for all. JV_EEMPTY when no request has a completion time. */
int cal_disk_trace_load(const char *path, const char *format, int disk,
			struct cal_disk_trace *t, struct jv_diag *d);
void cal_disk_trace_free(struct cal_disk_trace *t);

struct cal_disk_fit {
	double idle_w, se_idle_w;      /* P_idle */
	double active_w, se_active_w;  /* P_active = P_idle + slope */
	int active_at_bound;           /* slope held at 0: no power rise with activity */
	int se_ok;
	double rate_bps;               /* bytes / busy time */
	double r2;
	int r2_ok;
	double rmse_w, max_abs_residual_w, mae_w;
	size_t n;                      /* windows */
	size_t skipped;                /* windows without power coverage */
	double *t0_s, *busy_frac, *measured_w, *fitted_w; /* per window, n entries */
};

/* Fit over windows of window_s on the trace's time base; power: the power
 * log with power time = trace time + offset_s. */
int cal_disk_fit(const struct cal_disk_trace *t, const struct cal_series *power,
		 double offset_s, double window_s, struct cal_disk_fit *f, struct jv_diag *d);
void cal_disk_fit_free(struct cal_disk_fit *f);

#endif
