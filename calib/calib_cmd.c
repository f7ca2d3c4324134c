/*
 * calib_cmd: `joulevisor calib pmc` and `calib disk` (calib_cmd.h).
 *
 * Problem: turning counter logs and power measurements into the numbers a
 * scenario needs, with enough evidence (standard errors, validation next
 * to a baseline, residuals) to judge them.
 *
 * calib pmc, step by step:
 *  1. Load every counter log (pmcdata.c); the counters to weigh are
 *     --counters or every non-energy event of the first log.
 *  2. The measured power per log: a RAPL energy event of the same log
 *     (--target-event, J per interval -> W), or a meter file per log
 *     (--meter, one --channel) aligned to the log by --offset, a sync
 *     pulse (--sync, --sync-at) and/or the lag search (--max-lag) against
 *     the rate of --align-event (default: an energy event of the log, else
 *     cycles, else the first counter).
 *  3. Windows: the log's intervals (RAPL) or --window (default: the
 *     coarser of the meter period and the log interval).
 *  4. Fit and validate (fit_pmc.c), write the directory through sim/out.h
 *     (built under a temporary name, renamed into place; --force replaces).
 * weights.csv holds one row per counter (renamed to scenario-safe names,
 * `uncore_imc/data_reads/` -> `uncore_imc_data_reads`, or --rename), and
 * with --tsc-freq the idle power as the TSC counter's weight
 * (P_idle / f J per tick), which is how the paper's accounting charges the
 * base power.
 *
 * calib disk: load the block trace (fit_disk.c), the power log (one
 * channel), align (offset / sync / lag search against the busy fraction),
 * fit, write disk.ini, disk_fit.csv, report.txt.
 *
 * Limits: one target channel; a meter per log; see fit_pmc.c and
 * fit_disk.c for the models' limits.
 */
#include "calib/calib_cmd.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "calib/align.h"
#include "calib/fit_disk.h"
#include "calib/pmcdata.h"
#include "sim/out.h"

#define CMD_SYNC_THRESHOLD 4.0
#define CMD_DISK_WINDOW_S 0.1
#define NS_PER_S 1e9

void cal_align_opts_init(struct cal_align_opts *a)
{
	memset(a, 0, sizeof *a);
	a->sync_threshold = CMD_SYNC_THRESHOLD;
	a->sync_edge = 1;
}

struct run_align {
	double offset_s, r;
	char method[32];
	double rate_hz;
	size_t samples;
};

static int fail(FILE *err, const struct jv_diag *d, int rc)
{
	fprintf(err, "joulevisor: %s\n", d->msg[0] ? d->msg : jv_strerror(rc));
	return jv_exit_code(d->err ? d->err : rc);
}

/* Offset of a meter against a reference series on the log's time base. */
static int align_meter(const struct cal_meter *m, const struct cal_series *meas,
		       const struct cal_series *ref, const struct cal_align_opts *al,
		       struct run_align *ra, struct jv_diag *d)
{
	ra->offset_s = al->offset_s;
	snprintf(ra->method, sizeof ra->method, "manual");
	if (al->use_sync) {
		double te;
		int rc = cal_align_sync(m, al->sync_threshold, al->sync_edge, &te, NULL, d);
		if (rc)
			return rc;
		ra->offset_s = te - al->sync_at_s;
		snprintf(ra->method, sizeof ra->method, "sync");
	}
	if (al->max_lag_s > 0) {
		struct cal_xcorr x;
		double step = m->period_s;
		if (ref->n >= 2)
			step = fmin(step, cal_series_median_step(ref));
		int rc = cal_align_xcorr(ref, meas, ra->offset_s, al->max_lag_s, step, &x, d);
		if (rc)
			return rc;
		ra->offset_s = x.offset_s;
		ra->r = x.r;
		snprintf(ra->method, sizeof ra->method, "%s", al->use_sync ? "sync+xcorr" : "xcorr");
	}
	return 0;
}

/* ---- calib pmc ------------------------------------------------------------------------ */

struct pmc_job {
	const struct cal_pmc_cmd *c;
	struct cal_pmc_run *run[CAL_MAX_RUNS];
	struct run_align ra[CAL_MAX_RUNS];
	struct cal_design D;
	struct cal_pmc_result res;
	double window_s;
	char target[256];
	char out_name[CAL_MAX_FEAT][CAL_EVENT_MAX];
	struct jv_diag d;
};

static int reference_event(const struct cal_pmc_run *r, const char *want)
{
	if (want)
		return cal_pmc_event(r, want);
	for (int e = 0; e < r->n_ev; e++) /* the package energy tracks the whole CPU */
		if (r->is_energy[e] && strstr(r->ev[e], "pkg"))
			return e;
	for (int e = 0; e < r->n_ev; e++)
		if (r->is_energy[e])
			return e;
	int e = cal_pmc_event(r, "cycles");
	return e >= 0 ? e : 0;
}

static double median_interval(const struct cal_pmc_run *r)
{
	struct cal_series s;
	cal_series_init(&s);
	double m = 0.0;
	if (!cal_series_from_samples(&s, r->t1_s, r->t1_s, r->n, 0.0))
		m = cal_series_median_step(&s);
	cal_series_free(&s);
	return m > 0 ? m : (r->n ? r->t1_s[r->n - 1] - r->t0_s[0] : 0.0);
}

static int add_rapl_run(struct pmc_job *j, int i)
{
	struct cal_pmc_run *r = j->run[i];
	int ev = cal_pmc_event(r, j->c->target_event);
	if (ev < 0)
		return jv_diag_set(&j->d, JV_EUNKNOWN, r->path, 0,
				   "--target-event: no event '%s' in this log", j->c->target_event);
	if (!r->is_energy[ev])
		return jv_diag_set(&j->d, JV_EUSAGE, r->path, 0,
				   "--target-event: '%s' is not an energy event (unit '%s', need Joules)",
				   r->ev[ev], r->unit[ev]);
	if (i == 0)
		snprintf(j->target, sizeof j->target, "RAPL energy event %s (J per interval -> W)",
			 r->ev[ev]);
	struct cal_series s;
	int rc = cal_pmc_rate_series(r, ev, &s);
	if (rc)
		return jv_diag_set(&j->d, rc, r->path, 0, "out of memory");
	snprintf(j->ra[i].method, sizeof j->ra[i].method, "same log");
	rc = cal_design_add_run(&j->D, r, &s, 0.0, j->window_s, &j->d);
	cal_series_free(&s);
	return rc;
}

static int add_meter_run(struct pmc_job *j, int i)
{
	const struct cal_pmc_cmd *c = j->c;
	struct cal_pmc_run *r = j->run[i];
	struct cal_meter *m;
	int rc = cal_meter_load(c->meter[i], &c->mo, &m, &j->d);
	if (rc)
		return rc;
	struct cal_series ms, ref;
	cal_series_init(&ref);
	if (cal_meter_series(m, 0, &ms)) {
		cal_meter_free(m);
		return jv_diag_set(&j->d, JV_ENOMEM, NULL, 0, "out of memory");
	}
	j->ra[i].rate_hz = m->rate_hz;
	j->ra[i].samples = m->n;
	if (i == 0)
		snprintf(j->target, sizeof j->target, "meter channel %s = %s", m->ch_name[0],
			 c->mo.ch[0].expr);
	int ev = reference_event(r, c->align_event);
	if (ev < 0)
		rc = jv_diag_set(&j->d, JV_EUNKNOWN, r->path, 0, "--align-event: no event '%s'",
				 c->align_event);
	if (!rc && cal_pmc_rate_series(r, ev, &ref))
		rc = jv_diag_set(&j->d, JV_ENOMEM, NULL, 0, "out of memory");
	if (!rc)
		rc = align_meter(m, &ms, &ref, &c->al, &j->ra[i], &j->d);
	if (!rc) {
		double w = j->window_s;
		if (!(w > 0))
			w = fmax(m->period_s, median_interval(r));
		rc = cal_design_add_run(&j->D, r, &ms, j->ra[i].offset_s, w, &j->d);
		if (i == 0 && !(j->window_s > 0))
			j->window_s = -w; /* remember the automatic choice for the report */
	}
	cal_series_free(&ms);
	cal_series_free(&ref);
	cal_meter_free(m);
	return rc;
}

static int scenario_names(struct pmc_job *j)
{
	const struct cal_pmc_cmd *c = j->c;
	for (int f = 0; f < j->D.p; f++) {
		const char *ren = NULL;
		for (int k = 0; k < c->n_rename; k++)
			if (!strcmp(c->rename_from[k], j->D.feat[f]))
				ren = c->rename_to[k];
		if (ren)
			snprintf(j->out_name[f], CAL_EVENT_MAX, "%s", ren);
		else
			cal_scenario_name(j->D.feat[f], j->out_name[f], CAL_EVENT_MAX);
		for (int g = 0; g < f; g++)
			if (!strcmp(j->out_name[g], j->out_name[f]))
				return jv_diag_set(&j->d, JV_EUSAGE, NULL, 0,
						   "counters '%s' and '%s' both become '%s' in weights.csv; "
						   "use --rename EVENT=NAME", j->D.feat[g], j->D.feat[f],
						   j->out_name[f]);
	}
	return 0;
}

static int load_pmc_inputs(struct pmc_job *j)
{
	const struct cal_pmc_cmd *c = j->c;
	if (c->n_pmc < 1)
		return jv_diag_set(&j->d, JV_EUSAGE, NULL, 0, "no counter log (--pmc FILE)");
	if (!c->target_event == !c->n_meter)
		return jv_diag_set(&j->d, JV_EUSAGE, NULL, 0,
				   c->target_event ? "give either --target-event or --meter, not both"
						   : "no measured power: give --target-event EVENT (RAPL energy in the logs) or --meter FILE per log");
	if (c->n_meter && c->n_meter != c->n_pmc)
		return jv_diag_set(&j->d, JV_EUSAGE, NULL, 0,
				   "%d counter logs but %d meter files (one --meter per --pmc, in order)",
				   c->n_pmc, c->n_meter);
	if (c->n_meter && c->mo.n_channels != 1)
		return jv_diag_set(&j->d, JV_EUSAGE, NULL, 0,
				   "give exactly one --channel NAME=EXPRESSION (the power to fit)");
	for (int i = 0; i < c->n_pmc; i++) {
		int rc = cal_pmc_load(c->pmc[i], c->format, &j->run[i], &j->d);
		if (rc)
			return rc;
	}
	const char *feat[CAL_MAX_FEAT];
	int p = c->n_counters;
	if (p)
		memcpy(feat, c->counters, (size_t)p * sizeof *feat);
	else
		p = cal_default_features(j->run[0], feat, CAL_MAX_FEAT);
	int rc = cal_design_init(&j->D, feat, p, &j->d);
	j->window_s = c->window_s;
	for (int i = 0; i < c->n_pmc && !rc; i++)
		rc = c->target_event ? add_rapl_run(j, i) : add_meter_run(j, i);
	return rc ? rc : scenario_names(j);
}

static const char *opt_str(char *buf, size_t cap, int ok, double v)
{
	if (!ok)
		return "";
	snprintf(buf, cap, "%.10g", v);
	return buf;
}

static int write_weights(struct out_run *o, struct pmc_job *j)
{
	static const char *const cols[] = {"counter", "weight_j"};
	struct out_table *t;
	int rc = out_table_open_ex(o, "weights", cols, "sd", OUT_TABLE_NO_DB, &t);
	for (int f = 0; f < j->D.p && !rc; f++)
		rc = out_table_rowv(t, j->out_name[f], j->res.fit.w[f]);
	if (!rc && j->c->tsc_freq_hz > 0)
		rc = out_table_rowv(t, j->c->tsc_counter ? j->c->tsc_counter : "tsc",
				    fmax(0.0, j->res.fit.p_idle_w) / j->c->tsc_freq_hz);
	return rc ? rc : out_table_close(t);
}

static int write_weight_details(struct out_run *o, struct pmc_job *j)
{
	static const char *const cols[] = {"counter", "event", "event_unit", "weight_j", "se_j",
					   "std_weight_w", "vif", "status", "reason"};
	struct out_table *t;
	int rc = out_table_open_ex(o, "calib_weights", cols, "sssdsdsss", OUT_TABLE_NO_DB, &t);
	const struct cal_fit *f = &j->res.fit;
	for (int k = 0; k < j->D.p && !rc; k++) {
		char se[32], vif[32];
		double sd = 0, m = 0;
		for (size_t i = 0; i < j->D.n; i++)
			m += j->D.x[i * (size_t)j->D.p + (size_t)k] / (double)j->D.n;
		for (size_t i = 0; i < j->D.n; i++)
			sd += pow(j->D.x[i * (size_t)j->D.p + (size_t)k] - m, 2) / (double)j->D.n;
		int fitted = f->status[k] <= CAL_TERM_ZERO_BOUND;
		rc = out_table_rowv(t, j->out_name[k], j->D.feat[k],
				    j->D.unit[k][0] ? j->D.unit[k] : "event", f->w[k],
				    opt_str(se, sizeof se, f->se_ok && f->status[k] == CAL_TERM_FITTED, f->se[k]),
				    f->w[k] * sqrt(sd), opt_str(vif, sizeof vif, fitted, f->vif[k]),
				    cal_term_status_name(f->status[k]), f->why[k]);
	}
	return rc ? rc : out_table_close(t);
}

static int cv_row(struct out_table *t, const char *scheme, const char *held,
		  const struct cal_metrics *m, const struct cal_metrics *b)
{
	char s[6][32];
	return out_table_rowv(t, scheme, held, (int64_t)m->n, m->mae_w, m->rmse_w,
			      opt_str(s[0], 32, m->mape_ok, m->mape_pct),
			      opt_str(s[1], 32, m->energy_ok, m->energy_error_pct),
			      opt_str(s[2], 32, m->corr_ok, m->corr), b->mae_w, b->rmse_w,
			      opt_str(s[3], 32, b->mape_ok, b->mape_pct),
			      opt_str(s[4], 32, b->energy_ok, b->energy_error_pct));
}

static int write_cv(struct out_run *o, struct pmc_job *j)
{
	static const char *const cols[] = {
		"scheme", "held_out", "windows", "mae_w", "rmse_w", "mape_pct",
		"energy_error_pct", "correlation", "baseline_mae_w", "baseline_rmse_w",
		"baseline_mape_pct", "baseline_energy_error_pct"};
	struct out_table *t;
	int rc = out_table_open_ex(o, "calib_cv", cols, "ssiddsssddss", OUT_TABLE_NO_DB, &t);
	const struct cal_pmc_result *r = &j->res;
	if (!rc)
		rc = cv_row(t, "in_sample", "", &r->in_sample, &r->in_sample_base);
	if (!rc && r->k) {
		char name[32];
		snprintf(name, sizeof name, "%d-fold", r->k);
		rc = cv_row(t, "kfold", name, &r->kfold, &r->kfold_base);
	}
	for (int q = 0; q < r->n_loro && !rc; q++)
		rc = cv_row(t, "leave_one_run_out", j->D.run_name[r->loro_run[q]], &r->loro[q],
			    &r->loro_base[q]);
	return rc ? rc : out_table_close(t);
}

static int write_fit_rows(struct out_run *o, struct pmc_job *j)
{
	static const char *const cols[] = {"run", "t_ns", "window_s", "measured_w", "fitted_w",
					   "kfold_w"};
	struct out_table *t;
	int rc = out_table_open_ex(o, "calib_fit", cols, "siddds", OUT_TABLE_NO_DB, &t);
	for (size_t i = 0; i < j->D.n && !rc; i++) {
		char cv[32];
		rc = out_table_rowv(t, j->D.run_name[j->D.run[i]], (int64_t)llround(j->D.t0[i] * NS_PER_S),
				    j->D.dt[i], j->D.y[i], j->res.fitted[i],
				    opt_str(cv, sizeof cv, j->res.cv_pred != NULL,
					    j->res.cv_pred ? j->res.cv_pred[i] : 0));
	}
	return rc ? rc : out_table_close(t);
}

static void print_metrics(FILE *f, const char *label, const struct cal_metrics *m)
{
	fprintf(f, "  %-28s windows %4zu  MAE %8.3f W  RMSE %8.3f W", label, m->n, m->mae_w,
		m->rmse_w);
	if (m->mape_ok)
		fprintf(f, "  MAPE %7.2f %%", m->mape_pct);
	if (m->energy_ok)
		fprintf(f, "  energy %+8.2f %%", m->energy_error_pct);
	if (m->corr_ok)
		fprintf(f, "  r %.3f", m->corr);
	fputc('\n', f);
}

static void pmc_report(FILE *f, struct pmc_job *j)
{
	const struct cal_pmc_cmd *c = j->c;
	const struct cal_fit *fit = &j->res.fit;
	fprintf(f, "# joulevisor calib pmc report\n");
	fprintf(f, "model: P = P_idle + sum_i w_i * rate_i (non-negative weights, standardized columns)\n");
	fprintf(f, "target: %s\n", j->target);
	if (j->window_s > 0)
		fprintf(f, "windows: %g s\n", j->window_s);
	else if (j->window_s < 0)
		fprintf(f, "windows: %g s (the coarser of meter period and log interval)\n", -j->window_s);
	else
		fprintf(f, "windows: the logs' own intervals\n");
	for (int i = 0; i < j->D.n_runs; i++) {
		size_t n = 0;
		for (size_t k = 0; k < j->D.n; k++)
			n += j->D.run[k] == i;
		fprintf(f, "run %s: %s, %zu intervals, %zu windows used, %zu skipped", j->D.run_name[i],
			j->run[i]->path, j->run[i]->n, n, j->D.skipped[i]);
		if (c->n_meter)
			fprintf(f, "; meter %s: %zu samples at %.4g Hz, alignment %s, offset %.6g s%s",
				c->meter[i], j->ra[i].samples, j->ra[i].rate_hz, j->ra[i].method,
				j->ra[i].offset_s, "");
		if (strstr(j->ra[i].method, "xcorr"))
			fprintf(f, " (r = %.3f)", j->ra[i].r);
		fputc('\n', f);
	}
	fprintf(f, "windows_used: %zu\n", j->D.n);
	fprintf(f, "p_idle_w: %.6g", fit->p_idle_w);
	if (fit->se_ok)
		fprintf(f, " +- %.3g (one standard error)", fit->se_idle_w);
	fputc('\n', f);
	fprintf(f, "weights (J per event unit; +- one standard error):\n");
	for (int k = 0; k < j->D.p; k++) {
		const char *u = j->D.unit[k][0] ? j->D.unit[k] : "event";
		fprintf(f, "  %-28s %-22s %.6g J/%s", j->out_name[k], j->D.feat[k], fit->w[k], u);
		if (fit->status[k] == CAL_TERM_FITTED && fit->se_ok)
			fprintf(f, " +- %.3g", fit->se[k]);
		if (fit->status[k] <= CAL_TERM_ZERO_BOUND)
			fprintf(f, "  [VIF %.3g]", fit->vif[k]);
		fprintf(f, "  %s%s%s\n", cal_term_status_name(fit->status[k]), fit->why[k][0] ? ": " : "",
			fit->why[k]);
	}
	if (fit->r2_ok)
		fprintf(f, "r2: %.6f\n", fit->r2);
	else
		fprintf(f, "r2: n/a (the measured power has no variance)\n");
	fprintf(f, "errors (model next to the constant baseline = training mean power):\n");
	print_metrics(f, "in-sample", &j->res.in_sample);
	print_metrics(f, "in-sample baseline", &j->res.in_sample_base);
	if (j->res.k) {
		char lab[64];
		snprintf(lab, sizeof lab, "%d-fold CV", j->res.k);
		print_metrics(f, lab, &j->res.kfold);
		snprintf(lab, sizeof lab, "%d-fold CV baseline", j->res.k);
		print_metrics(f, lab, &j->res.kfold_base);
	} else {
		fprintf(f, "  k-fold CV: not run (too few windows or --kfold 1)\n");
	}
	for (int q = 0; q < j->res.n_loro; q++) {
		char lab[96];
		snprintf(lab, sizeof lab, "held out %s", j->D.run_name[j->res.loro_run[q]]);
		print_metrics(f, lab, &j->res.loro[q]);
		snprintf(lab, sizeof lab, "held out %s baseline", j->D.run_name[j->res.loro_run[q]]);
		print_metrics(f, lab, &j->res.loro_base[q]);
		if (j->res.loro_note[q][0])
			fprintf(f, "    (%s)\n", j->res.loro_note[q]);
	}
	fprintf(f, "weights file: weights.csv (scenario: [cpu] weights_file = PATH; the scenario's "
		   "counters must carry these names)\n");
	if (fit->p_idle_w < 0)
		fprintf(f, "warning: P_idle is negative (%.6g W): the intercept is not a physical idle "
			   "power here (the windows do not reach idle); the TSC weight is written as 0\n",
			fit->p_idle_w);
	if (c->tsc_freq_hz > 0)
		fprintf(f, "tsc: %s weight = P_idle / %.6g Hz = %.6g J per tick (set [cpu] freq to the same)\n",
			c->tsc_counter ? c->tsc_counter : "tsc", c->tsc_freq_hz,
			fmax(0.0, fit->p_idle_w) / c->tsc_freq_hz);
	else
		fprintf(f, "note: P_idle is not in weights.csv: pass --tsc-freq (the scenario's cpu.freq) "
			   "to write it as the TSC counter's weight\n");
}

static int write_pmc_outputs(struct pmc_job *j)
{
	const struct cal_pmc_cmd *c = j->c;
	struct out_run_info info = {.scenario_name = "calib", .scenario_file = "",
				    .scenario_text = "", .command_line = c->command_line ? c->command_line : "",
				    .tool_version = JV_VERSION};
	struct out_run *o;
	int rc = out_run_open(c->out_dir, c->force, NULL, &info, &o, &j->d);
	if (rc)
		return rc;
	if (!(rc = write_weights(o, j)) && !(rc = write_weight_details(o, j)) &&
	    !(rc = write_cv(o, j)))
		rc = write_fit_rows(o, j);
	FILE *f = rc ? NULL : out_run_fopen(o, "report.txt");
	if (f) {
		pmc_report(f, j);
		fclose(f);
	}
	if (rc || !f) {
		j->d = *out_run_diag(o);
		if (!j->d.err)
			jv_diag_set(&j->d, rc ? rc : JV_EIO, c->out_dir, 0, "cannot write the outputs");
		out_run_abort(o);
		return j->d.err;
	}
	return out_run_commit(o, &j->d);
}

int cal_pmc_cmd_run(const struct cal_pmc_cmd *c, FILE *out, FILE *err)
{
	static struct pmc_job j; /* large; one job at a time */
	memset(&j, 0, sizeof j);
	j.c = c;
	int rc = load_pmc_inputs(&j);
	if (!rc)
		rc = cal_pmc_calibrate(&j.D, &c->fit, &j.res, &j.d);
	if (!rc)
		rc = write_pmc_outputs(&j);
	if (!rc && !c->quiet) {
		pmc_report(out, &j);
		fprintf(out, "outputs: %s (weights.csv calib_weights.csv calib_cv.csv calib_fit.csv report.txt)\n",
			c->out_dir);
	}
	int code = rc ? fail(err, &j.d, rc) : 0;
	cal_pmc_result_free(&j.res);
	cal_design_free(&j.D);
	for (int i = 0; i < CAL_MAX_RUNS; i++)
		cal_pmc_free(j.run[i]);
	memset(&j, 0, sizeof j);
	return code;
}

/* ---- calib disk ------------------------------------------------------------------------ */

static void disk_report(FILE *f, const struct cal_disk_cmd *c, const struct cal_disk_trace *t,
			const struct cal_meter *m, const struct run_align *ra,
			const struct cal_disk_fit *fit, double w)
{
	fprintf(f, "# joulevisor calib disk report\n");
	fprintf(f, "model: P = P_idle + (P_active - P_idle) * busy_fraction; rate = bytes / busy time\n");
	fprintf(f, "trace: %s: %zu requests with completion times (%zu without, skipped; %zu on other disks)\n",
		c->blk, t->requests, t->no_latency, t->other_disk);
	fprintf(f, "trace_busy_s: %.6g\ntrace_bytes: %.0f\n", t->busy_s, t->bytes);
	fprintf(f, "power log: %s: %zu samples at %.4g Hz, channel %s = %s\n", c->meter, m->n,
		m->rate_hz, m->ch_name[0], c->mo.ch[0].expr);
	fprintf(f, "alignment: %s, offset %.6g s", ra->method, ra->offset_s);
	if (strstr(ra->method, "xcorr"))
		fprintf(f, " (r = %.3f)", ra->r);
	fprintf(f, "\nwindows: %zu of %g s (%zu skipped without power data)\n", fit->n, w,
		fit->skipped);
	fprintf(f, "idle_power_w: %.6g", fit->idle_w);
	if (fit->se_ok)
		fprintf(f, " +- %.3g", fit->se_idle_w);
	fprintf(f, "\nactive_power_w: %.6g", fit->active_w);
	if (fit->se_ok)
		fprintf(f, " +- %.3g", fit->se_active_w);
	if (fit->active_at_bound)
		fprintf(f, " (held at idle power: power does not rise with activity)");
	fprintf(f, "\nmedia_rate_bytes_per_s: %.6g\n", fit->rate_bps);
	if (fit->r2_ok)
		fprintf(f, "r2: %.6f\n", fit->r2);
	else
		fprintf(f, "r2: n/a (the measured power has no variance)\n");
	fprintf(f, "residual_rmse_w: %.6g\nresidual_mae_w: %.6g\nresidual_max_abs_w: %.6g\n",
		fit->rmse_w, fit->mae_w, fit->max_abs_residual_w);
	fprintf(f, "scenario snippet: disk.ini ([disk] idle_power, active_power, media_rate)\n");
}

static int write_disk_outputs(const struct cal_disk_cmd *c, const struct cal_disk_trace *t,
			      const struct cal_meter *m, const struct run_align *ra,
			      const struct cal_disk_fit *fit, double w, struct jv_diag *d)
{
	struct out_run_info info = {.scenario_name = "calib", .scenario_file = "",
				    .scenario_text = "", .command_line = c->command_line ? c->command_line : "",
				    .tool_version = JV_VERSION};
	struct out_run *o;
	int rc = out_run_open(c->out_dir, c->force, NULL, &info, &o, d);
	if (rc)
		return rc;
	static const char *const cols[] = {"t_ns", "busy_fraction", "measured_w", "fitted_w",
					   "residual_w"};
	struct out_table *tb;
	rc = out_table_open_ex(o, "disk_fit", cols, "idddd", OUT_TABLE_NO_DB, &tb);
	for (size_t i = 0; i < fit->n && !rc; i++)
		rc = out_table_rowv(tb, (int64_t)llround(fit->t0_s[i] * NS_PER_S), fit->busy_frac[i],
				    fit->measured_w[i], fit->fitted_w[i],
				    fit->measured_w[i] - fit->fitted_w[i]);
	if (!rc)
		rc = out_table_close(tb);
	FILE *ini = rc ? NULL : out_run_fopen(o, "disk.ini");
	if (ini) {
		fprintf(ini, "; calibrated by joulevisor calib disk from %s and %s\n[disk]\n"
			     "idle_power = %.6gW\nactive_power = %.6gW\nmedia_rate = %.6gB/s\n",
			c->blk, c->meter, fmax(0.0, fit->idle_w), fmax(0.0, fmax(fit->idle_w, fit->active_w)),
			fit->rate_bps);
		fclose(ini);
	}
	FILE *rep = ini ? out_run_fopen(o, "report.txt") : NULL;
	if (rep) {
		disk_report(rep, c, t, m, ra, fit, w);
		fclose(rep);
	}
	if (rc || !ini || !rep) {
		*d = *out_run_diag(o);
		if (!d->err)
			jv_diag_set(d, rc ? rc : JV_EIO, c->out_dir, 0, "cannot write the outputs");
		out_run_abort(o);
		return d->err;
	}
	return out_run_commit(o, d);
}

int cal_disk_cmd_run(const struct cal_disk_cmd *c, FILE *out, FILE *err)
{
	struct jv_diag d = {0};
	struct cal_disk_trace t;
	struct cal_meter *m = NULL;
	struct cal_series ps;
	struct cal_disk_fit fit = {0};
	struct run_align ra = {0};
	cal_series_init(&ps);
	double w = c->window_s > 0 ? c->window_s : CMD_DISK_WINDOW_S;
	int rc;
	if (!c->blk || !c->meter) {
		rc = jv_diag_set(&d, JV_EUSAGE, NULL, 0, "calib disk needs --blk FILE and --meter FILE");
		return fail(err, &d, rc);
	}
	if (c->mo.n_channels != 1) {
		rc = jv_diag_set(&d, JV_EUSAGE, NULL, 0,
				 "give exactly one --channel NAME=EXPRESSION (the disk's power)");
		return fail(err, &d, rc);
	}
	rc = cal_disk_trace_load(c->blk, c->blk_format, c->disk, &t, &d);
	if (rc)
		return fail(err, &d, rc);
	rc = cal_meter_load(c->meter, &c->mo, &m, &d);
	if (!rc && cal_meter_series(m, 0, &ps))
		rc = jv_diag_set(&d, JV_ENOMEM, NULL, 0, "out of memory");
	if (!rc)
		rc = align_meter(m, &ps, &t.busy, &c->al, &ra, &d);
	if (!rc)
		rc = cal_disk_fit(&t, &ps, ra.offset_s, w, &fit, &d);
	if (!rc)
		rc = write_disk_outputs(c, &t, m, &ra, &fit, w, &d);
	if (!rc && !c->quiet) {
		disk_report(out, c, &t, m, &ra, &fit, w);
		fprintf(out, "outputs: %s (disk.ini disk_fit.csv report.txt)\n", c->out_dir);
	}
	int code = rc ? fail(err, &d, rc) : 0;
	cal_disk_fit_free(&fit);
	cal_series_free(&ps);
	cal_meter_free(m);
	cal_disk_trace_free(&t);
	return code;
}
