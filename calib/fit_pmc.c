/*
 * fit_pmc: calibrating PMC weights against measured power (fit_pmc.h).
 *
 * Problem: the paper charges CPU energy as sum_i w_i * events_i with the
 * TSC weight giving the base power; the weights come from regressing
 * measured power on counter rates. Real counter sets are awkward: a
 * counter may never change (no variance), two counters may move together
 * (cache references and misses on a streaming kernel), and a short
 * calibration has few windows. Ordinary least squares then returns
 * negative, huge or NaN weights.
 *
 * Model: P(window) = P_idle + sum_i w_i * rate_i, rate_i = delta_i / dt
 * (events per second), P the window's mean measured power (W), so w_i is
 * in joules per event and P_idle in watts.
 *
 * Strategy:
 *  1. Screen columns over the rows being fitted, in the order given:
 *     no variance (relative standard deviation below 1e-12) -> dropped;
 *     collinear: the standardized column's residual after projecting on
 *     the kept columns (modified Gram-Schmidt, twice) keeps less than
 *     collinear_tol of its variance (1 - R^2 < tol, default 1e-6) ->
 *     dropped, naming the kept columns it correlates with; too few windows
 *     (n < kept + 2, so that one residual degree of freedom remains) ->
 *     the last kept columns are dropped. Each reason is reported; the
 *     variance inflation factor 1/(1 - R^2) of every kept column too.
 *  2. Non-negative regression with a free intercept on standardized
 *     columns (nnls.c): weights at 0 are reported as held by the bound.
 *  3. Validation: k-fold cross-validation over contiguous blocks of
 *     windows (default k = 5; contiguous because neighbouring windows are
 *     correlated, so random folds would flatter the model) and
 *     leave-one-run-out (train on the other runs, predict the held-out
 *     run); each next to the constant baseline that predicts the training
 *     mean. Screening is redone inside every fold.
 *
 * Parameters: kfold (5), collinear_tol (1e-6), window (0 = the log's
 * intervals; the CLI uses the coarser of meter period and interval).
 * Limits: CAL_MAX_FEAT columns, CAL_MAX_RUNS runs; O(n p^2) per fit.
 */
#include "calib/fit_pmc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calib/align.h"

#define DESIGN_INIT_CAP 512
#define REL_SD_MIN 1e-12       /* no variance below this sd / |mean| */
#define PARTNER_MIN_R 0.5      /* partners named in a collinearity message */
#define PARTNERS_NAMED 3

static const char *const STATUS_NAMES[] = {"fitted", "zero_bound", "dropped_no_variance",
					   "dropped_collinear", "dropped_too_few_windows"};

const char *cal_term_status_name(int status)
{
	if (status < 0 || status > CAL_TERM_TOO_FEW)
		return "?";
	return STATUS_NAMES[status];
}

void cal_scenario_name(const char *event, char *out, size_t cap)
{
	size_t k = 0;
	for (const char *p = event; *p && k + 1 < cap; p++) {
		char c = *p;
		int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			 c == '_' || c == '.' || c == '-';
		if (!ok)
			c = '_';
		if (c == '_' && (k == 0 || out[k - 1] == '_'))
			continue;
		out[k++] = c;
	}
	while (k > 0 && out[k - 1] == '_')
		k--;
	if (k == 0 && cap > 1)
		out[k++] = 'x';
	out[k] = '\0';
}

/* ---- design ------------------------------------------------------------------------ */

int cal_design_init(struct cal_design *D, const char *const *features, int p, struct jv_diag *d)
{
	memset(D, 0, sizeof *D);
	if (p < 1)
		return jv_diag_set(d, JV_EUSAGE, NULL, 0, "no counters to fit");
	if (p > CAL_MAX_FEAT)
		return jv_diag_set(d, JV_ELIMIT, NULL, 0, "more than %d counters to fit",
				   CAL_MAX_FEAT);
	for (int j = 0; j < p; j++) {
		if (strlen(features[j]) >= CAL_EVENT_MAX)
			return jv_diag_set(d, JV_ELIMIT, NULL, 0, "counter name too long '%.60s...'",
					   features[j]);
		for (int k = 0; k < j; k++)
			if (!strcmp(features[k], features[j]))
				return jv_diag_set(d, JV_EUSAGE, NULL, 0, "counter '%s' listed twice",
						   features[j]);
		snprintf(D->feat[j], CAL_EVENT_MAX, "%s", features[j]);
	}
	D->p = p;
	return 0;
}

void cal_design_free(struct cal_design *D)
{
	free(D->x);
	free(D->y);
	free(D->dt);
	free(D->t0);
	free(D->run);
	memset(D, 0, sizeof *D);
}

int cal_default_features(const struct cal_pmc_run *r, const char **names, int cap)
{
	int k = 0;
	for (int e = 0; e < r->n_ev && k < cap; e++)
		if (!r->is_energy[e])
			names[k++] = r->ev[e];
	return k;
}

static int design_grow(struct cal_design *D)
{
	size_t cap = D->cap ? 2 * D->cap : DESIGN_INIT_CAP;
	double *x = realloc(D->x, cap * (size_t)D->p * sizeof *x);
	if (!x)
		return JV_ENOMEM;
	D->x = x;
	double *y = realloc(D->y, cap * sizeof *y);
	if (!y)
		return JV_ENOMEM;
	D->y = y;
	double *dt = realloc(D->dt, cap * sizeof *dt);
	if (!dt)
		return JV_ENOMEM;
	D->dt = dt;
	double *t0 = realloc(D->t0, cap * sizeof *t0);
	if (!t0)
		return JV_ENOMEM;
	D->t0 = t0;
	int *run = realloc(D->run, cap * sizeof *run);
	if (!run)
		return JV_ENOMEM;
	D->run = run;
	D->cap = cap;
	return 0;
}

static int design_row(struct cal_design *D, const double *x, double y, double t0, double dt)
{
	if (D->n == D->cap && design_grow(D))
		return JV_ENOMEM;
	memcpy(D->x + D->n * (size_t)D->p, x, (size_t)D->p * sizeof *x);
	D->y[D->n] = y;
	D->t0[D->n] = t0;
	D->dt[D->n] = dt;
	D->run[D->n] = D->n_runs;
	D->n++;
	return 0;
}

static int resolve_features(struct cal_design *D, const struct cal_pmc_run *r, int *ev,
			    struct jv_diag *d)
{
	for (int j = 0; j < D->p; j++) {
		ev[j] = cal_pmc_event(r, D->feat[j]);
		if (ev[j] < 0) {
			char list[512] = "";
			size_t n = 0;
			for (int e = 0; e < r->n_ev && n + 1 < sizeof list; e++) {
				int w = snprintf(list + n, sizeof list - n, "%s%s", e ? ", " : "",
						 r->ev[e]);
				if (w > 0)
					n += (size_t)w;
			}
			return jv_diag_set(d, JV_EUNKNOWN, r->path, 0, "no counter '%s' (events: %s)",
					   D->feat[j], list);
		}
		if (r->is_energy[ev[j]])
			return jv_diag_set(d, JV_EUSAGE, r->path, 0,
					   "'%s' is an energy event, not a counter to weigh", D->feat[j]);
		if (D->n_runs == 0)
			snprintf(D->unit[j], CAL_UNIT_MAX, "%s", r->unit[ev[j]]);
		else if (strcmp(D->unit[j], r->unit[ev[j]]))
			return jv_diag_set(d, JV_EPARSE, r->path, 0,
					   "counter '%s' in unit '%s' here but '%s' in %s", D->feat[j],
					   r->unit[ev[j]], D->unit[j], D->run_name[0]);
	}
	return 0;
}

static int add_native(struct cal_design *D, const struct cal_pmc_run *r, const int *ev,
		      const struct cal_series *target, double offset_s)
{
	double x[CAL_MAX_FEAT];
	for (size_t i = 0; i < r->n; i++) {
		double dt = r->t1_s[i] - r->t0_s[i], cov;
		if (r->bad[i] || !(dt > 0)) {
			D->skipped[D->n_runs]++;
			continue;
		}
		double y = cal_series_mean(target, r->t0_s[i] + offset_s, r->t1_s[i] + offset_s, &cov);
		if (cov < CAL_MIN_COVERAGE) {
			D->skipped[D->n_runs]++;
			continue;
		}
		for (int j = 0; j < D->p; j++)
			x[j] = r->val[ev[j]][i] / dt;
		if (design_row(D, x, y, r->t0_s[i], dt))
			return JV_ENOMEM;
	}
	return 0;
}

static int add_windows(struct cal_design *D, const struct cal_pmc_run *r, const int *ev,
		       const struct cal_series *target, double offset_s, double window_s)
{
	struct cal_series s[CAL_MAX_FEAT];
	int rc = 0, made = 0;
	for (; made < D->p && !rc; made++)
		rc = cal_pmc_rate_series(r, ev[made], &s[made]);
	double start = r->t0_s[0], end = r->t1_s[r->n - 1];
	size_t nw = end > start ? (size_t)floor((end - start) / window_s + 1e-9) : 0;
	double x[CAL_MAX_FEAT];
	for (size_t k = 0; k < nw && !rc; k++) {
		double a = start + (double)k * window_s, b = a + window_s, cov;
		int ok = 1;
		for (int j = 0; j < D->p && ok; j++) {
			x[j] = cal_series_mean(&s[j], a, b, &cov);
			ok = cov >= CAL_FULL_COVERAGE;
		}
		double y = cal_series_mean(target, a + offset_s, b + offset_s, &cov);
		if (!ok || cov < CAL_MIN_COVERAGE) {
			D->skipped[D->n_runs]++;
			continue;
		}
		rc = design_row(D, x, y, a, window_s);
	}
	for (int j = 0; j < made; j++)
		cal_series_free(&s[j]);
	return rc;
}

int cal_design_add_run(struct cal_design *D, const struct cal_pmc_run *r,
		       const struct cal_series *target, double offset_s, double window_s,
		       struct jv_diag *d)
{
	if (D->n_runs >= CAL_MAX_RUNS)
		return jv_diag_set(d, JV_ELIMIT, r->path, 0, "more than %d runs", CAL_MAX_RUNS);
	int ev[CAL_MAX_FEAT];
	int rc = resolve_features(D, r, ev, d);
	if (rc)
		return rc;
	snprintf(D->run_name[D->n_runs], CAL_RUN_NAME_MAX, "%s", r->name);
	for (int k = 0; k < D->n_runs; k++)
		if (!strcmp(D->run_name[k], r->name)) {
			snprintf(D->run_name[D->n_runs], CAL_RUN_NAME_MAX, "%.50s#%d", r->name,
				 D->n_runs + 1);
			break;
		}
	D->skipped[D->n_runs] = 0;
	rc = window_s > 0 ? add_windows(D, r, ev, target, offset_s, window_s)
			  : add_native(D, r, ev, target, offset_s);
	if (rc)
		return jv_diag_set(d, JV_ENOMEM, r->path, 0, "out of memory");
	D->n_runs++;
	return 0;
}

/* ---- screening and fitting ---------------------------------------------------------- */

struct rows {
	size_t n;
	int p;
	double *x, *y;
};

static int gather(const struct cal_design *D, const unsigned char *use, struct rows *R)
{
	size_t n = 0;
	for (size_t i = 0; i < D->n; i++)
		n += !use || use[i];
	R->n = n;
	R->p = D->p;
	R->x = malloc((n ? n : 1) * (size_t)D->p * sizeof *R->x);
	R->y = malloc((n ? n : 1) * sizeof *R->y);
	if (!R->x || !R->y)
		return JV_ENOMEM;
	size_t k = 0;
	for (size_t i = 0; i < D->n; i++) {
		if (use && !use[i])
			continue;
		memcpy(R->x + k * (size_t)D->p, D->x + i * (size_t)D->p,
		       (size_t)D->p * sizeof *R->x);
		R->y[k++] = D->y[i];
	}
	return 0;
}

static double dot(const double *a, const double *b, size_t n)
{
	double s = 0;
	for (size_t i = 0; i < n; i++)
		s += a[i] * b[i];
	return s;
}

static void name_partners(const struct cal_design *D, const double *Zs, const int *kept, int j,
			  size_t n, double frac, char *why)
{
	int idx[CAL_MAX_FEAT], m = 0;
	double r[CAL_MAX_FEAT];
	for (int k = 0; k < j; k++) {
		if (!kept[k])
			continue;
		r[k] = dot(Zs + (size_t)j * n, Zs + (size_t)k * n, n) / (double)n;
		if (fabs(r[k]) >= PARTNER_MIN_R)
			idx[m++] = k;
	}
	for (int a = 0; a < m; a++) /* sort by |r| descending */
		for (int b = a + 1; b < m; b++)
			if (fabs(r[idx[b]]) > fabs(r[idx[a]])) {
				int t = idx[a];
				idx[a] = idx[b];
				idx[b] = t;
			}
	size_t len = (size_t)snprintf(why, CAL_WHY_MAX, "collinear with ");
	if (m == 0)
		len += (size_t)snprintf(why + len, CAL_WHY_MAX - len, "a combination of the counters before it");
	for (int a = 0; a < m && a < PARTNERS_NAMED && len < CAL_WHY_MAX; a++)
		len += (size_t)snprintf(why + len, CAL_WHY_MAX - len, "%s%s (r = %.6f)", a ? ", " : "",
					D->feat[idx[a]], r[idx[a]]);
	if (len < CAL_WHY_MAX)
		snprintf(why + len, CAL_WHY_MAX - len, "; 1 - R^2 = %.3g", frac);
}

/* Screening: kept[j] = 1 for columns to fit. */
static int screen(const struct cal_design *D, const struct rows *R, double tol, int *kept,
		  struct cal_fit *f)
{
	size_t n = R->n;
	int p = R->p;
	double *Zs = malloc((size_t)p * n * sizeof *Zs), *Q = malloc((size_t)p * n * sizeof *Q);
	double *res = malloc(n * sizeof *res);
	if (!Zs || !Q || !res) {
		free(Zs);
		free(Q);
		free(res);
		return JV_ENOMEM;
	}
	int nq = 0;
	for (int j = 0; j < p; j++) {
		double m = 0, v = 0;
		for (size_t i = 0; i < n; i++)
			m += R->x[i * (size_t)p + (size_t)j];
		m /= (double)n;
		for (size_t i = 0; i < n; i++)
			v += pow(R->x[i * (size_t)p + (size_t)j] - m, 2);
		double sd = sqrt(v / (double)n);
		kept[j] = 0;
		f->vif[j] = 0;
		if (!(sd > REL_SD_MIN * fabs(m)) || !(sd > 0)) {
			f->status[j] = CAL_TERM_NO_VARIANCE;
			snprintf(f->why[j], CAL_WHY_MAX, "no variance (constant at %.6g %s/s)", m,
				 D->unit[j][0] ? D->unit[j] : "events");
			continue;
		}
		double *z = Zs + (size_t)j * n;
		for (size_t i = 0; i < n; i++)
			z[i] = (R->x[i * (size_t)p + (size_t)j] - m) / sd;
		memcpy(res, z, n * sizeof *res);
		for (int pass = 0; pass < 2; pass++)
			for (int q = 0; q < nq; q++) {
				double c = dot(Q + (size_t)q * n, res, n);
				for (size_t i = 0; i < n; i++)
					res[i] -= c * Q[(size_t)q * n + i];
			}
		double frac = dot(res, res, n) / (double)n;
		if (frac < tol) {
			f->status[j] = CAL_TERM_COLLINEAR;
			name_partners(D, Zs, kept, j, n, frac, f->why[j]);
			continue;
		}
		double norm = sqrt(dot(res, res, n));
		for (size_t i = 0; i < n; i++)
			Q[(size_t)nq * n + i] = res[i] / norm;
		nq++;
		kept[j] = 1;
		f->vif[j] = 1.0 / frac;
	}
	int nk = nq;
	for (int j = p - 1; j >= 0 && n < (size_t)nk + 2; j--)
		if (kept[j]) {
			kept[j] = 0;
			f->vif[j] = 0;
			f->status[j] = CAL_TERM_TOO_FEW;
			snprintf(f->why[j], CAL_WHY_MAX,
				 "too few windows (%zu) for %d counters and the idle power", n, nq);
			nk--;
		}
	free(Zs);
	free(Q);
	free(res);
	return 0;
}

static int fit_gathered(const struct cal_design *D, const struct rows *R,
			const struct cal_fit_opts *o, struct cal_fit *f)
{
	memset(f, 0, sizeof *f);
	f->p = D->p;
	f->n = R->n;
	double tol = o && o->collinear_tol > 0 ? o->collinear_tol : CAL_DEFAULT_COLLINEAR_TOL;
	int kept[CAL_MAX_FEAT], idx[CAL_MAX_FEAT], k = 0;
	int rc = screen(D, R, tol, kept, f);
	if (rc)
		return rc;
	for (int j = 0; j < D->p; j++)
		if (kept[j])
			idx[k++] = j;
	double *X = malloc(R->n * (size_t)(k ? k : 1) * sizeof *X);
	if (!X)
		return JV_ENOMEM;
	for (size_t i = 0; i < R->n; i++)
		for (int q = 0; q < k; q++)
			X[i * (size_t)k + (size_t)q] = R->x[i * (size_t)D->p + (size_t)idx[q]];
	struct cal_nnreg reg;
	rc = cal_nnreg_fit(X, R->n, k, R->y, &reg);
	free(X);
	if (rc)
		return rc;
	f->p_idle_w = reg.b0;
	f->se_idle_w = reg.se_b0;
	f->se_ok = reg.se_ok;
	f->r2 = reg.r2;
	f->r2_ok = reg.r2_ok;
	f->rss = reg.rss;
	f->dof = reg.dof;
	for (int q = 0; q < k; q++) {
		int j = idx[q];
		f->w[j] = reg.w[q];
		f->se[j] = reg.se_ok ? reg.se[q] : 0.0;
		f->status[j] = reg.at_bound[q] ? CAL_TERM_ZERO_BOUND : CAL_TERM_FITTED;
		if (reg.at_bound[q])
			snprintf(f->why[j], CAL_WHY_MAX,
				 "held at 0 by the non-negativity bound (an unconstrained fit wants it negative)");
	}
	return 0;
}

int cal_fit_rows(const struct cal_design *D, const unsigned char *use,
		 const struct cal_fit_opts *o, struct cal_fit *f, struct jv_diag *d)
{
	struct rows R = {0};
	int rc = gather(D, use, &R);
	if (!rc && R.n < CAL_MIN_WINDOWS)
		rc = jv_diag_set(d, JV_EEMPTY, NULL, 0,
				 "too few windows with counter and power data (%zu, at least %d needed)",
				 R.n, CAL_MIN_WINDOWS);
	else if (!rc)
		rc = fit_gathered(D, &R, o, f);
	if (rc == JV_ENOMEM)
		jv_diag_set(d, rc, NULL, 0, "out of memory");
	else if (rc && !d->err)
		jv_diag_set(d, rc, NULL, 0, "fit failed: %s", jv_strerror(rc));
	free(R.x);
	free(R.y);
	return rc;
}

double cal_fit_predict(const struct cal_fit *f, const double *x)
{
	double s = f->p_idle_w;
	for (int j = 0; j < f->p; j++)
		s += f->w[j] * x[j];
	return s;
}

/* ---- validation ---------------------------------------------------------------------- */

static double mean_of(const struct cal_design *D, const unsigned char *use)
{
	double s = 0;
	size_t n = 0;
	for (size_t i = 0; i < D->n; i++)
		if (use[i]) {
			s += D->y[i];
			n++;
		}
	return n ? s / (double)n : 0.0;
}

/* metrics of pred vs y over rows with sel[i] */
static int metrics_on(const struct cal_design *D, const double *pred, const unsigned char *sel,
		      struct cal_metrics *m)
{
	size_t n = 0;
	for (size_t i = 0; i < D->n; i++)
		n += sel[i] != 0;
	double *a = malloc((n ? n : 1) * sizeof *a), *b = malloc((n ? n : 1) * sizeof *b);
	double *w = malloc((n ? n : 1) * sizeof *w);
	if (!a || !b || !w) {
		free(a);
		free(b);
		free(w);
		return JV_ENOMEM;
	}
	size_t k = 0;
	for (size_t i = 0; i < D->n; i++)
		if (sel[i]) {
			a[k] = pred[i];
			b[k] = D->y[i];
			w[k++] = D->dt[i];
		}
	cal_metrics_compute(a, b, w, n, m);
	free(a);
	free(b);
	free(w);
	return 0;
}

static void dropped_note(const struct cal_design *D, const struct cal_fit *f, char *note)
{
	size_t len = 0;
	note[0] = '\0';
	for (int j = 0; j < D->p && len < CAL_WHY_MAX; j++)
		if (f->status[j] >= CAL_TERM_NO_VARIANCE)
			len += (size_t)snprintf(note + len, CAL_WHY_MAX - len, "%s%s: %s",
						len ? "; " : "dropped ", D->feat[j],
						cal_term_status_name(f->status[j]));
}

static int kfold(const struct cal_design *D, const struct cal_fit_opts *o,
		 struct cal_pmc_result *res, unsigned char *use, double *base, struct jv_diag *d)
{
	int k = o && o->kfold ? o->kfold : CAL_DEFAULT_KFOLD;
	if ((size_t)k > D->n)
		k = (int)D->n;
	if (k < 2 || D->n < 2 * CAL_MIN_WINDOWS)
		return 0;
	res->cv_pred = malloc(D->n * sizeof *res->cv_pred);
	if (!res->cv_pred)
		return jv_diag_set(d, JV_ENOMEM, NULL, 0, "out of memory");
	for (int fo = 0; fo < k; fo++) {
		size_t a = D->n * (size_t)fo / (size_t)k, b = D->n * (size_t)(fo + 1) / (size_t)k;
		for (size_t i = 0; i < D->n; i++)
			use[i] = i < a || i >= b;
		struct cal_fit f;
		int rc = cal_fit_rows(D, use, o, &f, d);
		if (rc)
			return rc;
		double m = mean_of(D, use);
		for (size_t i = a; i < b; i++) {
			res->cv_pred[i] = cal_fit_predict(&f, D->x + i * (size_t)D->p);
			base[i] = m;
		}
	}
	memset(use, 1, D->n);
	res->k = k;
	if (metrics_on(D, res->cv_pred, use, &res->kfold) || metrics_on(D, base, use, &res->kfold_base))
		return jv_diag_set(d, JV_ENOMEM, NULL, 0, "out of memory");
	return 0;
}

static int leave_one_run_out(const struct cal_design *D, const struct cal_fit_opts *o,
			     struct cal_pmc_result *res, unsigned char *use, double *pred,
			     double *base, struct jv_diag *d)
{
	if (D->n_runs < 2)
		return 0;
	for (int r = 0; r < D->n_runs; r++) {
		size_t held = 0, train = 0;
		for (size_t i = 0; i < D->n; i++) {
			use[i] = D->run[i] != r;
			held += !use[i];
			train += use[i];
		}
		if (!held || train < CAL_MIN_WINDOWS)
			continue;
		struct cal_fit f;
		int rc = cal_fit_rows(D, use, o, &f, d);
		if (rc)
			return rc;
		double m = mean_of(D, use);
		for (size_t i = 0; i < D->n; i++) {
			pred[i] = cal_fit_predict(&f, D->x + i * (size_t)D->p);
			base[i] = m;
			use[i] = !use[i];
		}
		int q = res->n_loro++;
		res->loro_run[q] = r;
		dropped_note(D, &f, res->loro_note[q]);
		if (metrics_on(D, pred, use, &res->loro[q]) ||
		    metrics_on(D, base, use, &res->loro_base[q]))
			return jv_diag_set(d, JV_ENOMEM, NULL, 0, "out of memory");
	}
	return 0;
}

int cal_pmc_calibrate(const struct cal_design *D, const struct cal_fit_opts *o,
		      struct cal_pmc_result *res, struct jv_diag *d)
{
	memset(res, 0, sizeof *res);
	int rc = cal_fit_rows(D, NULL, o, &res->fit, d);
	if (rc)
		return rc;
	unsigned char *use = malloc(D->n);
	double *base = malloc(D->n * sizeof *base), *pred = malloc(D->n * sizeof *pred);
	res->fitted = malloc(D->n * sizeof *res->fitted);
	if (!use || !base || !pred || !res->fitted) {
		rc = jv_diag_set(d, JV_ENOMEM, NULL, 0, "out of memory");
		goto done;
	}
	memset(use, 1, D->n);
	double m = mean_of(D, use);
	for (size_t i = 0; i < D->n; i++) {
		res->fitted[i] = cal_fit_predict(&res->fit, D->x + i * (size_t)D->p);
		base[i] = m;
	}
	if (metrics_on(D, res->fitted, use, &res->in_sample) ||
	    metrics_on(D, base, use, &res->in_sample_base)) {
		rc = jv_diag_set(d, JV_ENOMEM, NULL, 0, "out of memory");
		goto done;
	}
	if ((rc = kfold(D, o, res, use, base, d)))
		goto done;
	rc = leave_one_run_out(D, o, res, use, pred, base, d);
done:
	free(use);
	free(base);
	free(pred);
	if (rc)
		cal_pmc_result_free(res);
	return rc;
}

void cal_pmc_result_free(struct cal_pmc_result *res)
{
	free(res->fitted);
	free(res->cv_pred);
	res->fitted = NULL;
	res->cv_pred = NULL;
}
