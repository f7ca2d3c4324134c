/*
 * fit_pmc: PMC power-model calibration, P = P_idle + sum_i w_i * rate_i.
 *
 * A design holds one row per window (a perf interval, or a fixed window
 * when the meter is coarser): counter rates (unit/s) and the measured mean
 * power (W) from RAPL energy or a meter, tagged with its run. The fit is a
 * non-negative regression (calib/nnls.h) after screening columns: no
 * variance, collinear with columns kept before it, and more columns than
 * the windows can identify are dropped, each with a reason; the weights
 * (J per event, or per byte / second for unit-carrying events) are never
 * NaN. Validation: k-fold (contiguous blocks) and leave-one-run-out, each
 * next to a constant-power baseline (the training mean).
 */
#ifndef JV_CAL_FIT_PMC_H
#define JV_CAL_FIT_PMC_H

#include <stddef.h>

#include "base/jv_err.h"
#include "calib/metrics.h"
#include "calib/nnls.h"
#include "calib/pmcdata.h"
#include "calib/series.h"

#define CAL_MAX_RUNS 64
#define CAL_WHY_MAX 192
#define CAL_DEFAULT_KFOLD 5
#define CAL_DEFAULT_COLLINEAR_TOL 1e-6 /* 1 - R^2 of a column on the ones before it */
#define CAL_MIN_WINDOWS 2
#define CAL_FULL_COVERAGE 0.999        /* counters must cover a window this much */

struct cal_design {
	int p;
	char feat[CAL_MAX_FEAT][CAL_EVENT_MAX]; /* event names as in the logs */
	char unit[CAL_MAX_FEAT][CAL_UNIT_MAX];  /* "" for events, "B", "s", ... */
	size_t n, cap;
	double *x;   /* n x p rates, unit per second */
	double *y;   /* n measured power, W */
	double *dt;  /* n window lengths, s */
	double *t0;  /* n window starts, model time, s */
	int *run;    /* n run index */
	int n_runs;
	char run_name[CAL_MAX_RUNS][CAL_RUN_NAME_MAX];
	size_t skipped[CAL_MAX_RUNS]; /* windows without full data */
};

/* features: event names (exact, or the NAME of `pmu/NAME/`); p >= 1. */
int cal_design_init(struct cal_design *D, const char *const *features, int p,
		    struct jv_diag *d);
void cal_design_free(struct cal_design *D);
/* Default features of a run: every event that is not an energy event.
 * Fills names (pointers into r) and returns their count. */
int cal_default_features(const struct cal_pmc_run *r, const char **names, int cap);
/* Add a run. target: measured power (W) on its own time base, where the
 * target's time = model time + offset_s. window_s = 0: the run's own
 * intervals; > 0: windows of that length from the run's first interval.
 * Windows lacking counter data (not counted, outside the log) or with the
 * target covering less than CAL_MIN_COVERAGE are skipped and counted. */
int cal_design_add_run(struct cal_design *D, const struct cal_pmc_run *r,
		       const struct cal_series *target, double offset_s, double window_s,
		       struct jv_diag *d);

enum cal_term_status {
	CAL_TERM_FITTED = 0,
	CAL_TERM_ZERO_BOUND,  /* fitted, held at 0 by the non-negativity constraint */
	CAL_TERM_NO_VARIANCE, /* dropped: constant over the windows */
	CAL_TERM_COLLINEAR,   /* dropped: a combination of columns kept before it */
	CAL_TERM_TOO_FEW,     /* dropped: not enough windows for this many columns */
};
const char *cal_term_status_name(int status);

struct cal_fit_opts {
	int kfold;            /* default CAL_DEFAULT_KFOLD; 0 = default, 1 = none */
	double collinear_tol; /* default CAL_DEFAULT_COLLINEAR_TOL */
};

struct cal_fit {
	int p;
	size_t n;
	double p_idle_w, se_idle_w;
	double w[CAL_MAX_FEAT], se[CAL_MAX_FEAT]; /* J per unit; 0 when dropped or at 0 */
	double vif[CAL_MAX_FEAT];                 /* 1 / (1 - R^2) on the columns before; 0 if dropped */
	int status[CAL_MAX_FEAT];
	char why[CAL_MAX_FEAT][CAL_WHY_MAX];
	int se_ok, r2_ok, dof;
	double r2, rss;
};

/* Fit on rows with use[i] != 0 (use NULL: all). JV_EEMPTY with d filled
 * when fewer than CAL_MIN_WINDOWS rows. */
int cal_fit_rows(const struct cal_design *D, const unsigned char *use,
		 const struct cal_fit_opts *o, struct cal_fit *f, struct jv_diag *d);
double cal_fit_predict(const struct cal_fit *f, const double *x);

struct cal_pmc_result {
	struct cal_fit fit;                 /* on every window */
	struct cal_metrics in_sample, in_sample_base;
	int k;                              /* folds used, 0 if none */
	struct cal_metrics kfold, kfold_base;
	int n_loro;                         /* runs held out, 0 with one run */
	int loro_run[CAL_MAX_RUNS];
	struct cal_metrics loro[CAL_MAX_RUNS], loro_base[CAL_MAX_RUNS];
	char loro_note[CAL_MAX_RUNS][CAL_WHY_MAX]; /* dropped columns of that fold */
	double *fitted;                     /* n in-sample predictions, W */
	double *cv_pred;                    /* n k-fold predictions, W (NULL if k = 0) */
};

/* Full fit, in-sample metrics, k-fold and leave-one-run-out validation. */
int cal_pmc_calibrate(const struct cal_design *D, const struct cal_fit_opts *o,
		      struct cal_pmc_result *res, struct jv_diag *d);
void cal_pmc_result_free(struct cal_pmc_result *res);

/* Counter name usable in a scenario ([A-Za-z0-9_.-]): other characters
 * become '_', runs of '_' collapse, leading/trailing '_' go:
 * `uncore_imc/data_reads/` -> `uncore_imc_data_reads`. */
void cal_scenario_name(const char *event, char *out, size_t cap);

#endif
