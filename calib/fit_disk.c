/*
 * fit_disk: disk idle power, active power and transfer rate (fit_disk.h).
 *
 * Problem: the paper accounts disk energy with two powers (idle, and
 * active while transferring) and a transfer rate that turns a request's
 * size into its transfer time; a user has a block trace with completion
 * times and a power log of the disk and wants those three numbers.
 *
 * Model: within a window of length W, the disk is busy for a fraction u
 * (from the trace: the union of [submission, completion) of every request,
 * so queued requests do not count twice); its mean power is
 *   P = P_idle + (P_active - P_idle) * u.
 * The transfer rate is the paper's estimator over the whole trace: bytes
 * transferred / busy time. With it, u = bytes in the window / (rate * W)
 * is what the accounting will compute later.
 *
 * Strategy: busy intervals are merged in submission order (completions may
 * come out of order with queueing); busy fraction per window by resampling
 * a 0/1 series; P regressed on u by the non-negative regression of nnls.c
 * (slope >= 0: active power is never below idle power). Standard errors:
 * se(P_idle) from the regression; P_active = mean(P) + slope (1 - mean(u))
 * whose variance is s^2/n + (1 - mean u)^2 se(slope)^2 (mean and slope are
 * uncorrelated in least squares). Residuals per window are kept.
 *
 * Parameters: window (the CLI's --window, default 100 ms), offset (power
 * time minus trace time, from --offset or the lag search).
 * Limits: one disk at a time (--disk); requests without a completion time
 * are skipped and counted; windows with less than CAL_MIN_COVERAGE power
 * data are skipped and counted. Needs variation in u to separate the two
 * powers (a trace that keeps the disk always busy or always idle gives
 * only one of them; the report says so through se and R^2).
 */
#include "calib/fit_disk.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "calib/align.h"
#include "calib/nnls.h"
#include "traces/trc.h"

#define NS_S 1e-9

static int add_busy(struct cal_disk_trace *t, double *cur_s, double *cur_e, int *open, double s,
		    double e)
{
	if (*open && s <= *cur_e) {
		if (e > *cur_e)
			*cur_e = e;
		return 0;
	}
	int rc = 0;
	if (*open) {
		size_t n = t->busy.n;
		if (n && t->busy.t1_s[n - 1] < *cur_s)
			rc = cal_series_add(&t->busy, t->busy.t1_s[n - 1], *cur_s, 0.0);
		if (!rc)
			rc = cal_series_add(&t->busy, *cur_s, *cur_e, 1.0);
		t->busy_s += *cur_e - *cur_s;
	}
	*cur_s = s;
	*cur_e = e;
	*open = 1;
	return rc;
}

int cal_disk_trace_load(const char *path, const char *format, int disk,
			struct cal_disk_trace *t, struct jv_diag *d)
{
	memset(t, 0, sizeof *t);
	cal_series_init(&t->busy);
	struct trc_reader *r;
	int rc = trc_open(path, format && strcmp(format, "auto") ? format : NULL, &r, d);
	if (rc)
		return rc;
	if (trc_kind(r) != TRC_BLK) {
		rc = jv_diag_set(d, JV_EPARSE, path, 0,
				 "a block trace with one record per request is needed (this is a %s trace)",
				 trc_kind_name(trc_kind(r)));
		trc_close(r);
		return rc;
	}
	if (!(t->path = strdup(path))) {
		trc_close(r);
		return jv_diag_set(d, JV_ENOMEM, path, 0, "out of memory");
	}
	struct trc_record rec;
	double cs = 0, ce = 0;
	int open = 0, first = 1;
	while ((rc = trc_next(r, &rec, d)) == 1) {
		const struct trc_blk *b = &rec.u.blk;
		if (disk >= 0 && b->disk != disk) {
			t->other_disk++;
			continue;
		}
		if (b->latency_ns < 0) {
			t->no_latency++;
			continue;
		}
		double s = (double)b->t_ns * NS_S, e = s + (double)b->latency_ns * NS_S;
		if (first) {
			t->t_first_s = s;
			first = 0;
		}
		if (e > t->t_last_s)
			t->t_last_s = e;
		t->requests++;
		t->bytes += (double)b->size_b;
		if ((rc = add_busy(t, &cs, &ce, &open, s, e)))
			break;
	}
	trc_close(r);
	if (rc == 0 && open)
		rc = add_busy(t, &cs, &ce, &open, INFINITY, INFINITY) ? JV_ENOMEM : 0;
	if (rc == 0 && t->busy.n && t->busy.t1_s[t->busy.n - 1] < t->t_last_s)
		rc = cal_series_add(&t->busy, t->busy.t1_s[t->busy.n - 1], t->t_last_s, 0.0);
	if (rc == JV_ENOMEM || rc == JV_EINVAL)
		jv_diag_set(d, rc, path, 0, "%s", jv_strerror(rc));
	if (!rc && t->requests == 0)
		rc = jv_diag_set(d, JV_EEMPTY, path, 0,
				 "no request with a completion time (latency_ns) on %s (%zu without, %zu on other disks)",
				 disk >= 0 ? "this disk" : "any disk", t->no_latency, t->other_disk);
	if (!rc && !(t->busy_s > 0))
		rc = jv_diag_set(d, JV_EEMPTY, path, 0, "requests have zero service time: no transfer rate");
	if (rc)
		cal_disk_trace_free(t);
	return rc;
}

void cal_disk_trace_free(struct cal_disk_trace *t)
{
	free(t->path);
	cal_series_free(&t->busy);
	t->path = NULL;
}

static int alloc_windows(struct cal_disk_fit *f, size_t n)
{
	f->t0_s = malloc((n ? n : 1) * sizeof *f->t0_s);
	f->busy_frac = malloc((n ? n : 1) * sizeof *f->busy_frac);
	f->measured_w = malloc((n ? n : 1) * sizeof *f->measured_w);
	f->fitted_w = malloc((n ? n : 1) * sizeof *f->fitted_w);
	return f->t0_s && f->busy_frac && f->measured_w && f->fitted_w ? 0 : JV_ENOMEM;
}

static void residuals(struct cal_disk_fit *f)
{
	double se = 0, ae = 0, mx = 0;
	for (size_t i = 0; i < f->n; i++) {
		f->fitted_w[i] = f->idle_w + (f->active_w - f->idle_w) * f->busy_frac[i];
		double e = f->measured_w[i] - f->fitted_w[i];
		se += e * e;
		ae += fabs(e);
		mx = fmax(mx, fabs(e));
	}
	f->rmse_w = f->n ? sqrt(se / (double)f->n) : 0.0;
	f->mae_w = f->n ? ae / (double)f->n : 0.0;
	f->max_abs_residual_w = mx;
}

int cal_disk_fit(const struct cal_disk_trace *t, const struct cal_series *power,
		 double offset_s, double window_s, struct cal_disk_fit *f, struct jv_diag *d)
{
	memset(f, 0, sizeof *f);
	if (!(window_s > 0))
		return jv_diag_set(d, JV_EUSAGE, NULL, 0, "window must be > 0");
	double start = cal_series_start(&t->busy), end = cal_series_end(&t->busy);
	size_t nw = end > start ? (size_t)floor((end - start) / window_s + 1e-9) : 0;
	if (alloc_windows(f, nw)) {
		cal_disk_fit_free(f);
		return jv_diag_set(d, JV_ENOMEM, NULL, 0, "out of memory");
	}
	for (size_t k = 0; k < nw; k++) {
		double a = start + (double)k * window_s, cb, cp;
		double u = cal_series_mean(&t->busy, a, a + window_s, &cb);
		double p = cal_series_mean(power, a + offset_s, a + window_s + offset_s, &cp);
		if (cb < CAL_MIN_COVERAGE || cp < CAL_MIN_COVERAGE) {
			f->skipped++;
			continue;
		}
		f->t0_s[f->n] = a;
		f->busy_frac[f->n] = u;
		f->measured_w[f->n++] = p;
	}
	f->rate_bps = t->bytes / t->busy_s;
	if (f->n < 3) {
		cal_disk_fit_free(f);
		return jv_diag_set(d, JV_EEMPTY, NULL, 0,
				   "too few windows with both trace and power data (%zu, at least 3); "
				   "check --offset and --window", f->n);
	}
	struct cal_nnreg r;
	int rc = cal_nnreg_fit(f->busy_frac, f->n, 1, f->measured_w, &r);
	if (rc) {
		cal_disk_fit_free(f);
		return jv_diag_set(d, rc, NULL, 0, "disk fit failed: %s", jv_strerror(rc));
	}
	double umean = 0;
	for (size_t i = 0; i < f->n; i++) {
		umean += f->busy_frac[i] / (double)f->n;
	}
	f->idle_w = r.b0;
	f->active_w = r.b0 + r.w[0];
	f->active_at_bound = r.at_bound[0];
	f->r2 = r.r2;
	f->r2_ok = r.r2_ok;
	f->se_ok = r.se_ok;
	if (r.se_ok) {
		double s2 = r.rss / (double)(f->n - 2);
		f->se_idle_w = r.se_b0;
		f->se_active_w = sqrt(s2 / (double)f->n + pow(1.0 - umean, 2) * r.se[0] * r.se[0]);
	}
	residuals(f);
	return 0;
}

void cal_disk_fit_free(struct cal_disk_fit *f)
{
	free(f->t0_s);
	free(f->busy_frac);
	free(f->measured_w);
	free(f->fitted_w);
	f->t0_s = f->busy_frac = f->measured_w = f->fitted_w = NULL;
}
