/*
 * align: sync-pulse edges and cross-correlation lag search (align.h).
 *
 * Problem: a meter's clock starts when someone pressed a button; the model
 * (or the PMC log) starts when the workload did. Before any comparison or
 * fit, the meter's samples must be put on the model's time base to within
 * a sample.
 *
 * Sync pulse: the meter records a marker (a serial DTR line, a GPIO) on a
 * channel; the Nth sample rising above the threshold is the edge, and the
 * user says at which model time it happened (default 0).
 *
 * Cross-correlation: both series are resampled onto a common grid of step
 * h (window means, so a 1 ms model and a 2048 Hz DAQ compare fairly), and
 * for each lag L the Pearson correlation over the windows both cover (at
 * least CAL_MIN_COVERAGE) is computed; the lag with the largest r wins.
 * Two passes keep it cheap: a coarse pass with h = 2 max_lag / 512 over the
 * whole range, then a pass at the fine step (the meter period) over +-2
 * coarse steps around the coarse best; a parabola through the three r
 * values around the fine best gives a sub-step estimate. Cost: grid points
 * x lags, about 512 x span/h_coarse + 5 h_coarse/h_fine x span/h_fine.
 *
 * Parameters: max_lag (no default here; the CLI's --max-lag), the fine
 * step (the meter's period, at least span / CAL_XCORR_MAX_POINTS).
 *
 * Limits: a periodic signal correlates at every multiple of its period;
 * keep max_lag below half the period or start from a sync pulse. A narrow
 * peak can fall between coarse lags when the signal has no structure
 * slower than the coarse step (rare for power traces, which have phases).
 */
#include "calib/align.h"

#include <math.h>
#include <stdlib.h>

int cal_align_sync(const struct cal_meter *m, double threshold, int edge, double *t_edge_s,
		   size_t *index, struct jv_diag *d)
{
	if (!m->sync)
		return jv_diag_set(d, JV_EINVAL, m->path, 0, "no sync channel (use --sync EXPRESSION)");
	if (edge < 1)
		edge = 1;
	double lo = m->sync[0], hi = m->sync[0];
	int seen = 0;
	for (size_t i = 1; i < m->n; i++) {
		lo = fmin(lo, m->sync[i]);
		hi = fmax(hi, m->sync[i]);
		if (m->sync[i - 1] <= threshold && m->sync[i] > threshold && ++seen == edge) {
			*t_edge_s = m->t_s[i];
			if (index)
				*index = i;
			return 0;
		}
	}
	return jv_diag_set(d, JV_EEMPTY, m->path, 0,
			   "sync channel: %s rising edge through %g (found %d; the channel spans %g .. %g%s)",
			   edge == 1 ? "no" : "not enough", threshold, seen, lo, hi,
			   m->sync[0] > threshold ? ", and starts above the threshold" : "");
}

double cal_pearson(const double *x, const double *y, size_t n)
{
	if (n < 2)
		return 0.0;
	double mx = 0, my = 0;
	for (size_t i = 0; i < n; i++) {
		mx += x[i];
		my += y[i];
	}
	mx /= (double)n;
	my /= (double)n;
	double sxy = 0, sxx = 0, syy = 0;
	for (size_t i = 0; i < n; i++) {
		double a = x[i] - mx, b = y[i] - my;
		sxy += a * b;
		sxx += a * a;
		syy += b * b;
	}
	if (!(sxx > 0) || !(syy > 0))
		return 0.0;
	double r = sxy / sqrt(sxx * syy);
	return fmax(-1.0, fmin(1.0, r));
}

struct grid {
	double *rv, *rc, *mv, *mc;
	size_t n, nl;
};

static void grid_free(struct grid *g)
{
	free(g->rv);
	free(g->rc);
	free(g->mv);
	free(g->mc);
}

/* r at lag index l, and number of points; returns 0 if not enough overlap
 * or no variance. */
static int corr_at(const struct grid *g, size_t l, size_t min_pts, double *r, size_t *pts)
{
	double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0, x0 = 0, y0 = 0;
	size_t n = 0;
	for (size_t k = 0; k < g->n; k++) {
		if (g->rc[k] < CAL_MIN_COVERAGE || g->mc[k + l] < CAL_MIN_COVERAGE)
			continue;
		if (n == 0) {
			x0 = g->rv[k];
			y0 = g->mv[k + l];
		}
		double x = g->rv[k] - x0, y = g->mv[k + l] - y0;
		sx += x;
		sy += y;
		sxx += x * x;
		syy += y * y;
		sxy += x * y;
		n++;
	}
	if (n < min_pts)
		return 0;
	double dn = (double)n;
	double vx = sxx - sx * sx / dn, vy = syy - sy * sy / dn, cxy = sxy - sx * sy / dn;
	if (!(vx > 1e-12 * (sxx + 1e-300)) || !(vy > 1e-12 * (syy + 1e-300)))
		return 0;
	*r = fmax(-1.0, fmin(1.0, cxy / sqrt(vx * vy)));
	*pts = n;
	return 1;
}

/* One pass: offsets lo + l*h for l in [0, nl). */
static int pass(const struct cal_series *ref, const struct cal_series *meas, double lo, double h,
		size_t nl, size_t *best_l, double *rs, struct cal_xcorr *out)
{
	struct grid g = {0};
	double r0 = cal_series_start(ref), r1 = cal_series_end(ref);
	g.n = (size_t)floor((r1 - r0) / h);
	g.nl = nl;
	if (g.n < CAL_XCORR_MIN_POINTS)
		return JV_EINVAL;
	g.rv = malloc(g.n * sizeof *g.rv);
	g.rc = malloc(g.n * sizeof *g.rc);
	g.mv = malloc((g.n + nl) * sizeof *g.mv);
	g.mc = malloc((g.n + nl) * sizeof *g.mc);
	if (!g.rv || !g.rc || !g.mv || !g.mc) {
		grid_free(&g);
		return JV_ENOMEM;
	}
	cal_series_resample(ref, 0.0, r0, h, g.n, g.rv, g.rc);
	cal_series_resample(meas, lo, r0, h, g.n + nl, g.mv, g.mc);
	double mspan = (cal_series_end(meas) - cal_series_start(meas)) / h;
	size_t min_pts = (size_t)fmax(CAL_XCORR_MIN_POINTS, 0.5 * fmin((double)g.n, mspan));
	int found = 0;
	double best = -2.0;
	for (size_t l = 0; l < nl; l++) {
		double r;
		size_t pts;
		rs[l] = -2.0;
		if (!corr_at(&g, l, min_pts, &r, &pts))
			continue;
		rs[l] = r;
		if (r > best) {
			best = r;
			*best_l = l;
			out->r = r;
			out->points = pts;
			found = 1;
		}
	}
	grid_free(&g);
	return found ? 0 : JV_EINVAL;
}

int cal_align_xcorr(const struct cal_series *ref, const struct cal_series *meas, double center_s,
		    double max_lag_s, double fine_step_s, struct cal_xcorr *out, struct jv_diag *d)
{
	*out = (struct cal_xcorr){.offset_s = center_s};
	if (!ref->n || !meas->n)
		return jv_diag_set(d, JV_EINVAL, NULL, 0, "lag search: an empty series");
	double span = cal_series_end(ref) - cal_series_start(ref);
	if (!(max_lag_s >= 0) || !isfinite(max_lag_s) || !(span > 0))
		return jv_diag_set(d, JV_EINVAL, NULL, 0, "lag search: bad range");
	double fine = fmax(fine_step_s, span / CAL_XCORR_MAX_POINTS);
	if (!(fine > 0))
		fine = span / 1000.0;
	double coarse = fmax(fine, 2.0 * max_lag_s / CAL_XCORR_COARSE_LAGS);
	double lo = center_s - max_lag_s, hi = center_s + max_lag_s;
	size_t nl = (size_t)floor((hi - lo) / coarse + 1e-9) + 1;
	double *rs = malloc(nl * sizeof *rs);
	if (!rs)
		return jv_diag_set(d, JV_ENOMEM, NULL, 0, "out of memory");
	size_t bl = 0;
	int rc = pass(ref, meas, lo, coarse, nl, &bl, rs, out);
	double best = lo + (double)bl * coarse, step = coarse;
	if (!rc && coarse > fine * 1.5) {
		double flo = fmax(lo, best - 2.0 * coarse), fhi = fmin(hi, best + 2.0 * coarse);
		size_t fnl = (size_t)floor((fhi - flo) / fine + 1e-9) + 1;
		size_t fbl = 0;
		struct cal_xcorr fo = *out;
		double *frs = malloc(fnl * sizeof *frs);
		if (frs && pass(ref, meas, flo, fine, fnl, &fbl, frs, &fo) == 0) {
			*out = fo;
			best = flo + (double)fbl * fine;
			step = fine;
			bl = fbl;
			nl = fnl;
			free(rs);
			rs = frs;
		} else {
			free(frs);
		}
	}
	if (rc) {
		free(rs);
		if (rc == JV_ENOMEM)
			return jv_diag_set(d, rc, NULL, 0, "out of memory");
		return jv_diag_set(d, JV_EINVAL, NULL, 0,
				   "lag search: model and meter never overlap by enough (or one has no variance) "
				   "for offsets %g .. %g s",
				   center_s - max_lag_s, center_s + max_lag_s);
	}
	/* parabolic peak interpolation between neighbours */
	double off = best;
	if (bl > 0 && bl + 1 < nl && rs[bl - 1] > -2.0 && rs[bl + 1] > -2.0) {
		double a = rs[bl - 1], b = rs[bl], c = rs[bl + 1];
		double den = a - 2.0 * b + c;
		if (den < 0) {
			double dx = 0.5 * (a - c) / den;
			if (fabs(dx) <= 1.0)
				off += dx * step;
		}
	}
	free(rs);
	out->offset_s = off;
	out->step_s = step;
	out->at_edge = fabs(off - (center_s - max_lag_s)) < step ||
		       fabs(off - (center_s + max_lag_s)) < step;
	return 0;
}
