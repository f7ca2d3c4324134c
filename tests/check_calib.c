/*
 * check_calib: measurement import, alignment, PMC and disk calibration and
 * model-vs-meter comparison (calib/).
 *
 * Real data (tests/fixtures/real/paired/, a Haswell i5 desktop measured by
 * perf stat with RAPL, a 1 Hz WattsUp wall meter and a 2048 Hz DAQ at once):
 * every file type imports with the right sample counts, units and time
 * bases; weights fitted on two runs predict the third (every combination)
 * against RAPL package power and against the wall meter, next to the
 * constant-power baseline, with finite results; a fit on all three runs
 * with k-fold cross-validation beats the baseline; a model power series is
 * compared with the DAQ's CPU channel aligned by the sync pulse.
 *
 * Synthetic data with known truth: PMC weights within 2% from perf-format
 * logs with noise; a meter lag recovered within one sample by the
 * correlation search and by the sync pulse; disk idle/active power and
 * transfer rate within 2%. Plus ill-conditioned fits (collinear, constant,
 * too few windows: dropped with reasons, never NaN), meter-format edge
 * cases and error messages with FILE:LINE, and the SQLite path of compare.
 */
#define _XOPEN_SOURCE 700 /* nftw */

#include <check.h>
#include <math.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "calib/align.h"
#include "calib/compare.h"
#include "calib/daq.h"
#include "calib/fit_disk.h"
#include "calib/fit_pmc.h"
#include "calib/pmcdata.h"
#include "sim/out.h"
#include "traces/trc.h"

#define PAIRED JV_FIXTURES "/real/paired/"
#define CPU_EXPR "(c2-0.5)/0.133*12 + (c3-0.5)/0.133*12"
#define DRAM_EXPR "c1/303/0.0033*1.517"
#define DAQ_HZ 2048.0

#define CK_TMP_PREFIX "check_calib"
#include "check_tmpdir.h"

static uint64_t rng;

static double urand(void)
{
	rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
	return (double)(rng >> 11) / 9007199254740992.0;
}

static double nrand(void)
{
	double u = urand() + 1e-12, v = urand();
	return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

static void metrics_finite(const struct cal_metrics *m)
{
	ck_assert(isfinite(m->mae_w) && isfinite(m->rmse_w) && isfinite(m->mape_pct) &&
		  isfinite(m->energy_error_pct) && isfinite(m->corr) && isfinite(m->predicted_j) &&
		  isfinite(m->measured_j));
}

/* Meter options with the one channel name = expr; the time base is the
 * caller's. */
static void meter_one(struct cal_meter_opts *o, const char *name, const char *expr)
{
	cal_meter_opts_init(o);
	o->n_channels = 1;
	strcpy(o->ch[0].name, name);
	o->ch[0].expr = expr;
}

/* Compare options: the meter daq at rate_hz with the one channel
 * name = expr. */
static void compare_one(struct cal_compare_opts *o, const char *daq, double rate_hz,
			const char *name, const char *expr)
{
	cal_compare_opts_init(o);
	o->daq = daq;
	meter_one(&o->meter, name, expr);
	o->meter.rate_hz = rate_hz;
}

/* ---- real data: import ------------------------------------------------------------ */

static const struct {
	const char *file;
	size_t intervals;
	double last_end_s;
	double first_cycles;
	double first_reads_b; /* 2.214966 MiB etc. */
	double first_pkg_j;
} PERF[] = {
	{"stream.perf", 129, 12.950573, 6069889, 2.214966 * 1048576, 0.267768},
	{"sleep.perf", 100, 10.0, 0, 0, 0},
	{"hpl_mkl.perf", 257, 25.7, 0, 0, 0},
};

START_TEST(real_import_perf)
{
	struct cal_pmc_run *r;
	struct jv_diag d = {0};
	char path[512];
	snprintf(path, sizeof path, PAIRED "%s", PERF[_i].file);
	ck_assert_msg(cal_pmc_load(path, NULL, &r, &d) == 0, "%s", d.msg);
	ck_assert_str_eq(r->format, "perf-stat");
	ck_assert_uint_eq(r->n, PERF[_i].intervals);
	ck_assert_int_eq(r->n_ev, 9);
	ck_assert_uint_eq(r->n_bad, 0);
	ck_assert_double_eq(r->t0_s[0], 0.0);
	ck_assert_double_eq_tol(r->t1_s[r->n - 1], PERF[_i].last_end_s, 0.15);
	for (size_t i = 1; i < r->n; i++)
		ck_assert(r->t0_s[i] == r->t1_s[i - 1] && r->t1_s[i] > r->t0_s[i]);
	int cyc = cal_pmc_event(r, "cycles"), rd = cal_pmc_event(r, "uncore_imc/data_reads/");
	int pkg = cal_pmc_event(r, "energy-pkg"), ram = cal_pmc_event(r, "energy-ram");
	ck_assert(cyc >= 0 && rd >= 0 && pkg >= 0 && ram >= 0);
	ck_assert_str_eq(r->ev[pkg], "power/energy-pkg/");
	ck_assert_str_eq(r->unit[cyc], "");
	ck_assert_str_eq(r->unit[rd], "B");
	ck_assert_str_eq(r->unit[pkg], "J");
	ck_assert(r->is_energy[pkg] && r->is_energy[ram] && !r->is_energy[cyc]);
	int energies = 0;
	for (int e = 0; e < r->n_ev; e++)
		energies += r->is_energy[e];
	ck_assert_int_eq(energies, 3);
	if (PERF[_i].first_cycles > 0) {
		ck_assert_double_eq(r->val[cyc][0], PERF[_i].first_cycles);
		ck_assert_double_eq_tol(r->val[rd][0], PERF[_i].first_reads_b, 1e-3);
		ck_assert_double_eq_tol(r->val[pkg][0], PERF[_i].first_pkg_j, 1e-12);
	}
	cal_pmc_free(r);
}
END_TEST

/* traces/fmt_perf_stat.c (integers, units in counter names) imported into a
 * native pmc-interval log reads back as the same numbers as calib's own
 * perf reader. */
START_TEST(real_perf_via_trace_import)
{
	char path[512];
	snprintf(path, sizeof path, PAIRED "%s", PERF[_i].file);
	struct trc_reader *tr;
	struct jv_diag d = {0};
	ck_assert_msg(trc_open(path, "perf-stat", &tr, &d) == 0, "%s", d.msg);
	const char *names[TRC_MAX_COUNTERS];
	int nc = trc_n_counters(tr);
	for (int i = 0; i < nc; i++)
		names[i] = trc_counter_name(tr, i);
	struct trc_writer *w;
	ck_assert_int_eq(trc_writer_open(at("native.csv"), TRC_PMC_INTERVAL, names, nc, &w, &d), 0);
	struct trc_record rec;
	while (trc_next(tr, &rec, &d) == 1)
		ck_assert_int_eq(trc_write_pmci(w, &rec.u.pmci, trc_vm_name(tr, rec.u.pmci.vm)), 0);
	ck_assert_msg(d.err == 0, "%s", d.msg);
	ck_assert_int_eq(trc_writer_close(w, &d), 0);
	trc_close(tr);
	struct cal_pmc_run *a, *b;
	ck_assert_int_eq(cal_pmc_load(path, NULL, &a, &d), 0);
	ck_assert_msg(cal_pmc_load(at("native.csv"), NULL, &b, &d) == 0, "%s", d.msg);
	ck_assert_str_eq(b->format, "pmc-interval");
	ck_assert_uint_eq(a->n, b->n);
	ck_assert_int_eq(a->n_ev, b->n_ev);
	for (int e = 0; e < a->n_ev; e++) {
		ck_assert_str_eq(a->ev[e], b->ev[e]);
		ck_assert_str_eq(a->unit[e], b->unit[e]);
		ck_assert_int_eq(a->is_energy[e], b->is_energy[e]);
		for (size_t i = 0; i < a->n; i++) {
			double x = a->val[e][i], y = b->val[e][i];
			/* the trace keeps integers: bytes are rounded to 1 B */
			double tol = 1e-6 * fabs(x) + (b->unit[e][0] == 'B' ? 1.0 : 1e-9);
			ck_assert_msg(fabs(x - y) <= tol, "%s[%zu]: %.9g vs %.9g", a->ev[e], i, x, y);
		}
	}
	for (size_t i = 0; i < a->n; i++)
		ck_assert(fabs(a->t1_s[i] - b->t1_s[i]) < 1e-9);
	cal_pmc_free(a);
	cal_pmc_free(b);
}
END_TEST

static const struct {
	const char *file;
	size_t samples;
	double first_w, origin_epoch_s;
} WUP[] = {
	{"stream.wup", 25, 25.6, 1440080999},
	{"sleep.wup", 16, 0, 0},
	{"hpl_mkl.wup", 102, 0, 0},
};

static void wup_opts(struct cal_meter_opts *o)
{
	cal_meter_opts_init(o);
	o->time_col = "c1";
	o->time_unit = CAL_TIME_EPOCH;
	o->n_channels = 3;
	strcpy(o->ch[0].name, "wall");
	o->ch[0].expr = "c2";
	strcpy(o->ch[1].name, "volts");
	o->ch[1].expr = "c3";
	strcpy(o->ch[2].name, "va");
	o->ch[2].expr = "c3 * c4 / 100"; /* amps x 100, inferred upstream */
}

START_TEST(real_import_wup)
{
	struct cal_meter_opts o;
	wup_opts(&o);
	struct cal_meter *m;
	struct jv_diag d = {0};
	char path[512];
	snprintf(path, sizeof path, PAIRED "%s", WUP[_i].file);
	ck_assert_msg(cal_meter_load(path, &o, &m, &d) == 0, "%s", d.msg);
	ck_assert_uint_eq(m->n, WUP[_i].samples);
	ck_assert_int_eq(m->has_header, 0);
	ck_assert_int_eq(m->delim, ',');
	ck_assert_int_eq(m->n_cols, 19);
	ck_assert_double_eq_tol(m->rate_hz, 1.0, 1e-9);
	ck_assert_double_eq(m->t_s[0], 0.0);
	/* field 3 read as amps x 100 (inferred upstream): V x A matches W on average */
	double va = 0, w = 0;
	for (size_t i = 0; i < m->n; i++) {
		va += m->v[2][i];
		w += m->v[0][i];
	}
	ck_assert(va / w > 0.95 && va / w < 1.05);
	if (WUP[_i].first_w > 0) {
		ck_assert_double_eq(m->v[0][0], WUP[_i].first_w);
		ck_assert_double_eq(m->t_origin_s, WUP[_i].origin_epoch_s);
	}
	for (size_t i = 0; i < m->n; i++) {
		ck_assert(m->v[0][i] > 20 && m->v[0][i] < 120);   /* a desktop at the wall */
		ck_assert(m->v[1][i] > 110 && m->v[1][i] < 130);  /* US mains */
		if (i)
			ck_assert(m->t_s[i] > m->t_s[i - 1]);
	}
	cal_meter_free(m);
}
END_TEST

static const struct {
	const char *file;
	size_t samples;
	size_t sync_index;
} DAQ[] = {
	{"stream.daq", 32000, 4822},
	{"sleep.daq", 25600, 4777},
	{"hpl_mkl.daq", 57600, 3807},
};

static void daq_opts(struct cal_meter_opts *o)
{
	cal_meter_opts_init(o);
	o->rate_hz = DAQ_HZ;
	o->n_channels = 2;
	strcpy(o->ch[0].name, "cpu");
	o->ch[0].expr = CPU_EXPR;
	strcpy(o->ch[1].name, "dram");
	o->ch[1].expr = DRAM_EXPR;
	o->sync_expr = "c4";
}

START_TEST(real_import_daq)
{
	struct cal_meter_opts o;
	daq_opts(&o);
	struct cal_meter *m;
	struct jv_diag d = {0};
	char path[512];
	snprintf(path, sizeof path, PAIRED "%s", DAQ[_i].file);
	ck_assert_msg(cal_meter_load(path, &o, &m, &d) == 0, "%s", d.msg);
	ck_assert_uint_eq(m->n, DAQ[_i].samples);
	ck_assert_int_eq(m->n_cols, 4); /* the trailing comma is not a column */
	ck_assert_double_eq(m->rate_hz, DAQ_HZ);
	ck_assert_double_eq_tol(m->t_s[m->n - 1], (double)(DAQ[_i].samples - 1) / DAQ_HZ, 1e-12);
	double cpu = 0, dram = 0;
	for (size_t i = 0; i < m->n; i++) {
		cpu += m->v[0][i] / (double)m->n;
		dram += m->v[1][i] / (double)m->n;
	}
	ck_assert(cpu > 2 && cpu < 80);  /* watts on a desktop CPU rail */
	ck_assert(dram > 0.3 && dram < 10);
	double te;
	size_t idx;
	ck_assert_int_eq(cal_align_sync(m, 4.0, 1, &te, &idx, &d), 0);
	ck_assert_uint_eq(idx, DAQ[_i].sync_index);
	ck_assert_double_eq(te, (double)DAQ[_i].sync_index / DAQ_HZ);
	/* stream's DTR line pulses twice, the others once */
	jv_diag_clear(&d);
	int second = cal_align_sync(m, 4.0, 2, &te, &idx, &d);
	ck_assert_int_eq(second == 0, _i == 0);
	cal_meter_free(m);
}
END_TEST

/* ---- real data: calibration ------------------------------------------------------- */

static const char *const RUNS[] = {"stream", "sleep", "hpl_mkl"};

static void load_runs(struct cal_pmc_run **r)
{
	struct jv_diag d = {0};
	for (int i = 0; i < 3; i++) {
		char p[512];
		snprintf(p, sizeof p, PAIRED "%s.perf", RUNS[i]);
		ck_assert_msg(cal_pmc_load(p, NULL, &r[i], &d) == 0, "%s", d.msg);
	}
}

/* The three paired runs into r and a design on their default counters;
 * returns the number of counters. */
static int paired_design(struct cal_pmc_run **r, struct cal_design *D)
{
	load_runs(r);
	const char *feat[CAL_MAX_FEAT];
	int p = cal_default_features(r[0], feat, CAL_MAX_FEAT);
	struct jv_diag d = {0};
	ck_assert_int_eq(cal_design_init(D, feat, p, &d), 0);
	return p;
}

/* The runs r[0..3) added to D against their own RAPL package power. */
static void add_pkg_runs(struct cal_design *D, struct cal_pmc_run **r)
{
	struct jv_diag d = {0};
	for (int i = 0; i < 3; i++) {
		struct cal_series s;
		ck_assert_int_eq(cal_pmc_rate_series(r[i], cal_pmc_event(r[i], "energy-pkg"), &s), 0);
		ck_assert_msg(cal_design_add_run(D, r[i], &s, 0.0, 0.0, &d) == 0, "%s", d.msg);
		cal_series_free(&s);
	}
}

static void free_runs(struct cal_design *D, struct cal_pmc_run **r)
{
	cal_design_free(D);
	for (int i = 0; i < 3; i++)
		cal_pmc_free(r[i]);
}

static void print_result(const char *what, const struct cal_design *D,
			 const struct cal_pmc_result *res)
{
	printf("%s: P_idle %.3f W, R^2 %.4f, %zu windows\n", what, res->fit.p_idle_w, res->fit.r2,
	       D->n);
	printf("  %-22s %8s %8s %8s %9s | %8s %8s %9s\n", "validation", "MAE_W", "RMSE_W",
	       "MAPE_%", "energy_%", "base_MAE", "base_RMS", "base_en_%");
	printf("  %-22s %8.3f %8.3f %8.2f %+9.2f | %8.3f %8.3f %+9.2f\n", "5-fold", res->kfold.mae_w,
	       res->kfold.rmse_w, res->kfold.mape_pct, res->kfold.energy_error_pct,
	       res->kfold_base.mae_w, res->kfold_base.rmse_w, res->kfold_base.energy_error_pct);
	for (int q = 0; q < res->n_loro; q++) {
		const struct cal_metrics *m = &res->loro[q], *b = &res->loro_base[q];
		char lab[96];
		snprintf(lab, sizeof lab, "held out %s", D->run_name[res->loro_run[q]]);
		printf("  %-22s %8.3f %8.3f %8.2f %+9.2f | %8.3f %8.3f %+9.2f\n", lab, m->mae_w,
		       m->rmse_w, m->mape_pct, m->energy_error_pct, b->mae_w, b->rmse_w,
		       b->energy_error_pct);
	}
}

static void check_validation(const struct cal_design *D, const struct cal_pmc_result *res)
{
	ck_assert(isfinite(res->fit.p_idle_w) && isfinite(res->fit.se_idle_w));
	for (int j = 0; j < D->p; j++) {
		ck_assert(isfinite(res->fit.w[j]) && res->fit.w[j] >= 0);
		ck_assert(isfinite(res->fit.se[j]));
	}
	metrics_finite(&res->in_sample);
	ck_assert_int_eq(res->k, CAL_DEFAULT_KFOLD);
	metrics_finite(&res->kfold);
	metrics_finite(&res->kfold_base);
	/* the model beats the constant baseline under cross-validation */
	ck_assert(res->kfold.rmse_w < res->kfold_base.rmse_w);
	ck_assert(res->kfold.mae_w < res->kfold_base.mae_w);
	ck_assert(res->kfold.mape_pct < res->kfold_base.mape_pct);
	/* every two-runs-predict-the-third combination, finite */
	ck_assert_int_eq(res->n_loro, 3);
	for (int q = 0; q < 3; q++) {
		ck_assert_int_eq(res->loro_run[q], q);
		ck_assert(res->loro[q].n > 0);
		metrics_finite(&res->loro[q]);
		metrics_finite(&res->loro_base[q]);
	}
	for (size_t i = 0; i < D->n; i++)
		ck_assert(isfinite(res->fitted[i]) && isfinite(res->cv_pred[i]));
}

START_TEST(real_calib_vs_rapl)
{
	struct cal_pmc_run *r[3];
	struct cal_design D;
	int p = paired_design(r, &D);
	ck_assert_int_eq(p, 6);
	add_pkg_runs(&D, r);
	ck_assert_uint_eq(D.n, 129 + 100 + 257);
	struct jv_diag d = {0};
	struct cal_pmc_result res;
	struct cal_fit_opts o = {0};
	ck_assert_msg(cal_pmc_calibrate(&D, &o, &res, &d) == 0, "%s", d.msg);
	print_result("vs RAPL package power", &D, &res);
	check_validation(&D, &res);
	ck_assert(res.fit.r2_ok && res.fit.r2 > 0.9);
	/* RAPL package idle power of a Haswell desktop: a few watts */
	ck_assert(res.fit.p_idle_w > 1 && res.fit.p_idle_w < 15);
	/* at least one weight held by the bound is reported as such, with se 0 */
	for (int j = 0; j < p; j++)
		if (res.fit.status[j] == CAL_TERM_ZERO_BOUND)
			ck_assert(res.fit.w[j] == 0 && res.fit.se[j] == 0 && strstr(res.fit.why[j], "bound"));
	cal_pmc_result_free(&res);
	free_runs(&D, r);
}
END_TEST

START_TEST(real_calib_vs_wall)
{
	struct cal_pmc_run *r[3];
	struct cal_design D;
	paired_design(r, &D);
	struct jv_diag d = {0};
	for (int i = 0; i < 3; i++) {
		struct cal_meter_opts o;
		meter_one(&o, "wall", "c2");
		o.time_col = "c1";
		o.time_unit = CAL_TIME_EPOCH;
		char path[512];
		snprintf(path, sizeof path, PAIRED "%s.wup", RUNS[i]);
		struct cal_meter *m;
		ck_assert_msg(cal_meter_load(path, &o, &m, &d) == 0, "%s", d.msg);
		struct cal_series ms, ref;
		ck_assert_int_eq(cal_meter_series(m, 0, &ms), 0);
		ck_assert_int_eq(cal_pmc_rate_series(r[i], cal_pmc_event(r[i], "energy-pkg"), &ref), 0);
		struct cal_xcorr x;
		ck_assert_msg(cal_align_xcorr(&ref, &ms, 0.0, 15.0, 0.1, &x, &d) == 0, "%s", d.msg);
		/* the wall meter was started before perf: a positive offset */
		ck_assert(x.offset_s > 0 && x.offset_s < 15 && !x.at_edge);
		if (i != 1) /* the idle run has little to correlate */
			ck_assert(x.r > 0.7);
		printf("wall meter %s: offset %.3f s, r %.3f\n", RUNS[i], x.offset_s, x.r);
		ck_assert_msg(cal_design_add_run(&D, r[i], &ms, x.offset_s, 1.0, &d) == 0, "%s", d.msg);
		cal_series_free(&ms);
		cal_series_free(&ref);
		cal_meter_free(m);
	}
	ck_assert(D.n >= 40);
	struct cal_pmc_result res;
	struct cal_fit_opts o = {0};
	ck_assert_msg(cal_pmc_calibrate(&D, &o, &res, &d) == 0, "%s", d.msg);
	print_result("vs wall meter (1 s windows)", &D, &res);
	check_validation(&D, &res);
	/* the whole desktop idles at about 25 W at the wall */
	ck_assert(res.fit.p_idle_w > 15 && res.fit.p_idle_w < 40);
	cal_pmc_result_free(&res);
	free_runs(&D, r);
}
END_TEST

/* A run directory whose power.csv is the RAPL-calibrated model of stream. */
static void model_run_dir(const char *dir)
{
	struct cal_pmc_run *r[3];
	struct cal_design D;
	paired_design(r, &D);
	add_pkg_runs(&D, r);
	struct cal_fit f;
	struct jv_diag d = {0};
	ck_assert_int_eq(cal_fit_rows(&D, NULL, NULL, &f, &d), 0);
	ck_assert_int_eq(mkdir(dir, 0777), 0);
	char path[600];
	snprintf(path, sizeof path, "%s/power.csv", dir);
	FILE *out = fopen(path, "w");
	ck_assert_ptr_nonnull(out);
	fprintf(out, "t_ns,device,power_w\n");
	for (size_t i = 0; i < D.n; i++)
		if (D.run[i] == 0)
			fprintf(out, "%lld,cpu0,%.10g\n", llround(D.t0[i] * 1e9),
				cal_fit_predict(&f, D.x + i * (size_t)D.p));
	ck_assert_int_eq(fclose(out), 0);
	free_runs(&D, r);
}

START_TEST(real_compare_daq_sync)
{
	const char *dir = at("stream-run");
	model_run_dir(dir);
	static struct cal_compare_opts o;
	compare_one(&o, PAIRED "stream.daq", DAQ_HZ, "cpu", CPU_EXPR);
	o.run_dir = dir;
	o.meter.sync_expr = "c4";
	o.use_sync = 1;
	o.no_plot = 1;
	struct cal_compare_result res;
	struct jv_diag d = {0};
	/* the sync pulse alone: offset = edge time */
	ck_assert_msg(cal_compare(&o, &res, NULL, &d) == 0, "%s", d.msg);
	ck_assert_str_eq(res.method, "sync");
	ck_assert_double_eq(res.offset_s, 4822.0 / DAQ_HZ);
	ck_assert_double_eq(res.rate_hz, DAQ_HZ);
	ck_assert_uint_eq(res.samples, 32000);
	ck_assert_str_eq(res.ch[0].devices, "cpu0");
	ck_assert(res.ch[0].windows >= 100);
	metrics_finite(&res.ch[0].run);
	double r_sync = res.ch[0].run.corr;
	/* the pulse marks the benchmark start, about 1 s into the perf log:
	 * --sync-at and a lag search around it find a much better fit */
	o.sync_at_s = 1.0;
	o.max_lag_s = 0.5;
	jv_diag_clear(&d);
	ck_assert_msg(cal_compare(&o, &res, NULL, &d) == 0, "%s", d.msg);
	ck_assert_str_eq(res.method, "sync+xcorr");
	ck_assert(res.xcorr_r > 0.9);
	ck_assert(res.ch[0].run.corr > 0.9 && res.ch[0].run.corr > r_sync);
	ck_assert(fabs(res.offset_s - (4822.0 / DAQ_HZ - 1.0)) < 0.1);
	metrics_finite(&res.ch[0].run);
	ck_assert(fabs(res.ch[0].run.energy_error_pct) < 30);
	printf("DAQ CPU rail vs RAPL-calibrated model (stream): offset %.4f s, r %.3f, MAE %.3f W, "
	       "energy error %+.2f %%\n",
	       res.offset_s, res.ch[0].run.corr, res.ch[0].run.mae_w, res.ch[0].run.energy_error_pct);
	/* outputs */
	char line[256];
	FILE *f = fopen(at("stream-run/compare.csv"), "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
	ck_assert_str_eq(line, "t_ns,channel,model_w,measured_w\n");
	size_t rows = 0;
	while (fgets(line, sizeof line, f))
		rows++;
	fclose(f);
	ck_assert_uint_eq(rows, res.ch[0].windows);
	f = fopen(at("stream-run/compare_metrics.csv"), "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
	ck_assert(!strncmp(line, "channel,scope,name,start_ns,end_ns,windows,model_j,measured_j,mae_w", 66));
	ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
	ck_assert(!strncmp(line, "cpu,run,run,", 12));
	fclose(f);
	ck_assert_int_eq(access(at("stream-run/compare_summary.txt"), R_OK), 0);
	ck_assert_int_eq(access(at("stream-run/compare.gp"), R_OK), 0);
}
END_TEST

/* ---- synthetic truth ------------------------------------------------------------------ */

static const double TRUE_W[3] = {1.2e-9, 0.6e-9, 4e-8};
#define TRUE_IDLE_W 6.0

static void synth_perf(const char *path, int run, int n)
{
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "# started on a synthetic machine\n\n");
	double t = 0;
	double level = 0.2 + 0.6 * urand();
	for (int i = 0; i < n; i++) {
		if (urand() < 0.1)
			level = 0.1 + 0.9 * urand();
		double dt = 0.1 + 0.0005 * urand();
		t += dt;
		double r[3] = {3e9 * level * (0.9 + 0.2 * urand()),
			       2e9 * (0.2 + 0.8 * urand()) * (run == 1 ? 0.5 : 1.0),
			       5e7 * urand() * urand()};
		double p = TRUE_IDLE_W;
		for (int k = 0; k < 3; k++)
			p += TRUE_W[k] * r[k];
		p *= 1.0 + 0.003 * nrand();
		fprintf(f, "%16.9f,%.0f,,cycles,%d,100.00\n", t, r[0] * dt, 100000000);
		fprintf(f, "%16.9f,%.0f,,instructions,%d,100.00,,\n", t, r[1] * dt, 100000000);
		fprintf(f, "%16.9f,%.0f,,cache-misses,%d,100.00\n", t, r[2] * dt, 100000000);
		fprintf(f, "%16.9f,%.6f,Joules,power/energy-pkg/,%d,100.00\n", t, p * dt, 100000000);
	}
	ck_assert_int_eq(fclose(f), 0);
}

START_TEST(synth_weights_within_2pct)
{
	rng = 2024;
	struct cal_pmc_run *r[3];
	struct jv_diag d = {0};
	const char *feat[] = {"cycles", "instructions", "cache-misses"};
	struct cal_design D;
	ck_assert_int_eq(cal_design_init(&D, feat, 3, &d), 0);
	for (int i = 0; i < 3; i++) {
		char name[32];
		snprintf(name, sizeof name, "synth%d.perf", i);
		synth_perf(at(name), i, 150 + 50 * i);
		ck_assert_msg(cal_pmc_load(at(name), "perf-stat", &r[i], &d) == 0, "%s", d.msg);
		ck_assert_uint_eq(r[i]->n, (size_t)(150 + 50 * i));
		struct cal_series s;
		ck_assert_int_eq(cal_pmc_rate_series(r[i], cal_pmc_event(r[i], "energy-pkg"), &s), 0);
		ck_assert_int_eq(cal_design_add_run(&D, r[i], &s, 0.0, 0.0, &d), 0);
		cal_series_free(&s);
	}
	struct cal_pmc_result res;
	ck_assert_msg(cal_pmc_calibrate(&D, NULL, &res, &d) == 0, "%s", d.msg);
	for (int k = 0; k < 3; k++) {
		ck_assert_int_eq(res.fit.status[k], CAL_TERM_FITTED);
		ck_assert_msg(fabs(res.fit.w[k] / TRUE_W[k] - 1) < 0.02, "w[%d] = %g, truth %g", k,
			      res.fit.w[k], TRUE_W[k]);
		/* the truth lies within a few standard errors */
		ck_assert(fabs(res.fit.w[k] - TRUE_W[k]) < 5 * res.fit.se[k] + 1e-3 * TRUE_W[k]);
	}
	ck_assert(fabs(res.fit.p_idle_w / TRUE_IDLE_W - 1) < 0.02);
	ck_assert(res.kfold.rmse_w < 0.2 * res.kfold_base.rmse_w);
	for (int q = 0; q < res.n_loro; q++)
		ck_assert(fabs(res.loro[q].energy_error_pct) < 2);
	cal_pmc_result_free(&res);
	free_runs(&D, r);
}
END_TEST

#define SYN_RES_NS 1000000LL /* model rows: 1 ms */
#define SYN_SPAN_MS 6000
#define SYN_METER_HZ 1000.0
#define SYN_IDLE_W 5.0

/* Random-step model power (a run with phases) at 1 ms rows. */
static double *synth_model(const char *dir)
{
	double *p = malloc(SYN_SPAN_MS * sizeof *p);
	ck_assert_ptr_nonnull(p);
	double level = 20;
	int left = 0;
	for (int i = 0; i < SYN_SPAN_MS; i++) {
		if (left-- <= 0) {
			level = 5 + 35 * urand();
			left = 20 + (int)(280 * urand());
		}
		p[i] = level;
	}
	ck_assert_int_eq(mkdir(dir, 0777), 0);
	char path[600];
	snprintf(path, sizeof path, "%s/power.csv", dir);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "t_ns,device,power_w\n");
	for (int i = 0; i < SYN_SPAN_MS; i++) {
		fprintf(f, "%lld,cpu0,%.6f\n", (long long)i * SYN_RES_NS, 0.75 * p[i]);
		fprintf(f, "%lld,cpu1,%.6f\n", (long long)i * SYN_RES_NS, 0.25 * p[i]);
	}
	ck_assert_int_eq(fclose(f), 0);
	snprintf(path, sizeof path, "%s/scenario.resolved.ini", dir);
	spit(path, "[global]\nduration = 6s\n[vm a]\nworkload = cpu-hog\nstart = 0ns\nstop = 4s\n"
			 "[vm b]\nworkload = cpu-hog\nstart = 2s\nstop = 0ns\n[vm drv]\nworkload = none\n");
	return p;
}

/* Meter of the model power shifted by lag_s (meter time = model time +
 * lag), 1 kHz, noise, with a sync pulse at model time 0. */
static void synth_meter(const char *path, const double *p, double lag_s, int n)
{
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "# synthetic meter, 1 kHz\npower_w;sync_v\n");
	for (int i = 0; i < n; i++) {
		double t = (double)i / SYN_METER_HZ - lag_s; /* model time of sample i */
		double a = t, b = t + 1.0 / SYN_METER_HZ, e = 0;
		for (int k = (int)floor(a * 1000); k <= (int)floor(b * 1000); k++) {
			double lo = fmax(a, k / 1000.0), hi = fmin(b, (k + 1) / 1000.0);
			if (hi > lo)
				e += (k >= 0 && k < SYN_SPAN_MS ? p[k] : SYN_IDLE_W) * (hi - lo);
		}
		double w = e * SYN_METER_HZ + 0.5 * nrand();
		fprintf(f, "%.5f;%s\n", w, t >= 0 && t < 0.05 ? "5.1" : "-5.1");
	}
	ck_assert_int_eq(fclose(f), 0);
}

/* A synthetic run in dir and its meter.csv (lag_s, n samples) from the
 * random seed; the model power (free it). */
static double *synth_pair(uint64_t seed, const char *dir, double lag_s, int n)
{
	rng = seed;
	double *p = synth_model(at(dir));
	synth_meter(at("meter.csv"), p, lag_s, n);
	return p;
}

static const double LAGS_S[] = {0.8373, 0.25, 1.4012};

START_TEST(synth_lag_within_one_sample)
{
	char dir[64];
	snprintf(dir, sizeof dir, "run%d", _i);
	double lag = LAGS_S[_i];
	double *p = synth_pair(99 + (uint64_t)_i, dir, lag, SYN_SPAN_MS + 2000);
	static struct cal_compare_opts o;
	compare_one(&o, at("meter.csv"), SYN_METER_HZ, "cpu", "power_w");
	o.run_dir = at(dir);
	o.max_lag_s = 1.6;
	o.no_plot = 1;
	struct cal_compare_result res;
	struct jv_diag d = {0};
	ck_assert_msg(cal_compare(&o, &res, NULL, &d) == 0, "%s", d.msg);
	ck_assert_str_eq(res.method, "xcorr");
	ck_assert_msg(fabs(res.offset_s - lag) <= 1.0 / SYN_METER_HZ, "lag %g, truth %g",
		      res.offset_s, lag);
	ck_assert_str_eq(res.ch[0].devices, "cpu0+cpu1");
	ck_assert(res.ch[0].run.corr > 0.99);
	ck_assert(fabs(res.ch[0].run.energy_error_pct) < 1);
	ck_assert(res.ch[0].run.mae_w < 0.5);
	ck_assert(res.transient_warning == 0);
	/* phases from the scenario: a, a+b, b */
	ck_assert_int_eq(res.n_phases, 3);
	/* the sync pulse: within one sample too */
	o.max_lag_s = 0;
	o.use_sync = 1;
	o.meter.sync_expr = "sync_v";
	o.sync_threshold = 4.0;
	jv_diag_clear(&d);
	ck_assert_msg(cal_compare(&o, &res, NULL, &d) == 0, "%s", d.msg);
	ck_assert_msg(fabs(res.offset_s - lag) <= 1.0 / SYN_METER_HZ, "sync lag %g, truth %g",
		      res.offset_s, lag);
	free(p);
}
END_TEST

START_TEST(compare_phases_and_metrics_rows)
{
	double *p = synth_pair(5, "run", 0.5, SYN_SPAN_MS + 1000);
	static struct cal_compare_opts o;
	compare_one(&o, at("meter.csv"), SYN_METER_HZ, "total", "c1");
	o.run_dir = at("run");
	o.offset_s = 0.5;
	o.window_s = 0.5;
	struct jv_diag d = {0};
	ck_assert_int_eq(cal_phase_parse("warm=0s:1s", &o.phase[0], &d), 0);
	ck_assert_int_eq(cal_phase_parse("rest=1s:6s", &o.phase[1], &d), 0);
	o.n_phases = 2;
	o.gnuplot = "/nonexistent/gnuplot"; /* the figure is skipped, not an error */
	struct cal_compare_result res;
	FILE *msg = tmpfile();
	ck_assert_msg(cal_compare(&o, &res, msg, &d) == 0, "%s", d.msg);
	ck_assert_int_eq(res.plot, 0);
	rewind(msg);
	char line[512];
	int said = 0;
	while (fgets(line, sizeof line, msg))
		said |= strstr(line, "gnuplot not found: figure skipped") != NULL;
	fclose(msg);
	ck_assert(said);
	ck_assert_str_eq(res.method, "manual");
	ck_assert_uint_eq(res.ch[0].windows, 12);
	FILE *f = fopen(at("run/compare_metrics.csv"), "r");
	ck_assert_ptr_nonnull(f);
	int run = 0, phase = 0, window = 0;
	while (fgets(line, sizeof line, f)) {
		run += !strncmp(line, "total,run,", 10);
		phase += !strncmp(line, "total,phase,", 12);
		window += !strncmp(line, "total,window,", 13);
		if (!strncmp(line, "total,phase,warm,0,1000000000,2,", 32))
			phase += 100;
	}
	fclose(f);
	ck_assert_int_eq(run, 1);
	ck_assert_int_eq(phase, 102);
	ck_assert_int_eq(window, 12);
	ck_assert_int_eq(access(at("run/compare.svg"), F_OK), -1);
	free(p);
}
END_TEST

START_TEST(synth_disk_within_2pct)
{
	rng = 77;
	const double rate = 80e6, idle = 4.0, active = 7.5;
	FILE *f = fopen(at("disk.csv"), "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "# joulevisor blk v1\nt_ns,vm,op,offset_b,size_b,latency_ns\n");
	enum { MS = 20000 };
	static double busy[MS];
	memset(busy, 0, sizeof busy);
	long long t = 5000000; /* 5 ms */
	while (t < (long long)(MS - 200) * 1000000LL) {
		long long size = 65536LL * (1 + (long long)(15 * urand()));
		long long lat = llround((double)size / rate * 1e9);
		fprintf(f, "%lld,vm0,R,0,%lld,%lld\n", t, size, lat);
		for (long long ns = t; ns < t + lat; ns += 1000)
			busy[ns / 1000000] += 1000e-9 * 1000; /* fraction of that ms */
		t += lat + (long long)(urand() < 0.3 ? 2e8 * urand() : 1e6 * urand());
	}
	ck_assert_int_eq(fclose(f), 0);
	f = fopen(at("dpower.csv"), "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "time_ms,mW\n");
	for (int i = 0; i < MS; i++)
		fprintf(f, "%d,%.3f\n", i, 1000 * (idle + (active - idle) * fmin(1, busy[i]) + 0.05 * nrand()));
	ck_assert_int_eq(fclose(f), 0);
	struct cal_disk_trace tr;
	struct jv_diag d = {0};
	ck_assert_msg(cal_disk_trace_load(at("disk.csv"), NULL, -1, &tr, &d) == 0, "%s", d.msg);
	ck_assert(fabs(tr.bytes / tr.busy_s / rate - 1) < 0.001);
	struct cal_meter_opts o;
	meter_one(&o, "disk", "mW / 1000");
	o.time_col = "time_ms";
	o.time_unit = CAL_TIME_MS;
	struct cal_meter *m;
	ck_assert_msg(cal_meter_load(at("dpower.csv"), &o, &m, &d) == 0, "%s", d.msg);
	struct cal_series ps;
	ck_assert_int_eq(cal_meter_series(m, 0, &ps), 0);
	struct cal_disk_fit fit;
	ck_assert_msg(cal_disk_fit(&tr, &ps, 0.0, 0.1, &fit, &d) == 0, "%s", d.msg);
	ck_assert_msg(fabs(fit.idle_w / idle - 1) < 0.02, "idle %g", fit.idle_w);
	ck_assert_msg(fabs(fit.active_w / active - 1) < 0.02, "active %g", fit.active_w);
	ck_assert(fabs(fit.rate_bps / rate - 1) < 0.02);
	ck_assert(fit.se_ok && fit.se_idle_w > 0 && fit.se_active_w > 0);
	ck_assert(fit.r2 > 0.95 && fit.rmse_w < 0.1 && isfinite(fit.max_abs_residual_w));
	/* the lag search against the busy fraction finds a shifted power log */
	struct cal_xcorr x;
	ck_assert_int_eq(cal_align_xcorr(&tr.busy, &ps, 0.0, 0.5, 0.001, &x, &d), 0);
	ck_assert(fabs(x.offset_s) <= 0.001);
	cal_disk_fit_free(&fit);
	cal_series_free(&ps);
	cal_meter_free(m);
	cal_disk_trace_free(&tr);
}
END_TEST

/* ---- ill-conditioned fits ----------------------------------------------------------------- */

static void design_from(struct cal_design *D, const char *const *feat, int p, const double *x,
			const double *y, size_t n)
{
	struct jv_diag d = {0};
	ck_assert_int_eq(cal_design_init(D, feat, p, &d), 0);
	D->x = malloc(n * (size_t)p * sizeof *D->x);
	D->y = malloc(n * sizeof *D->y);
	D->dt = malloc(n * sizeof *D->dt);
	D->t0 = malloc(n * sizeof *D->t0);
	D->run = calloc(n, sizeof *D->run);
	memcpy(D->x, x, n * (size_t)p * sizeof *x);
	memcpy(D->y, y, n * sizeof *y);
	for (size_t i = 0; i < n; i++) {
		D->dt[i] = 0.1;
		D->t0[i] = 0.1 * (double)i;
	}
	D->n = D->cap = n;
	D->n_runs = 1;
	strcpy(D->run_name[0], "r");
}

START_TEST(ill_collinear_constant_too_few)
{
	rng = 3;
	enum { N = 60 };
	static double x[N * 4], y[N];
	for (int i = 0; i < N; i++) {
		double a = urand(), b = urand();
		x[i * 4] = 1e9 * a;
		x[i * 4 + 1] = 2e9 * a;     /* exactly 2 x cycles */
		x[i * 4 + 2] = 12345;       /* constant */
		x[i * 4 + 3] = 1e6 * b;
		y[i] = 5 + 1e-9 * x[i * 4] + 3e-6 * x[i * 4 + 3] + 0.01 * nrand();
	}
	const char *feat[] = {"cycles", "ref-cycles", "const", "misses"};
	struct cal_design D;
	design_from(&D, feat, 4, x, y, N);
	struct cal_fit f;
	struct jv_diag d = {0};
	ck_assert_int_eq(cal_fit_rows(&D, NULL, NULL, &f, &d), 0);
	ck_assert_int_eq(f.status[0], CAL_TERM_FITTED);
	ck_assert_int_eq(f.status[1], CAL_TERM_COLLINEAR);
	ck_assert_msg(strstr(f.why[1], "collinear with cycles (r = 1.000000)"), "%s", f.why[1]);
	ck_assert_int_eq(f.status[2], CAL_TERM_NO_VARIANCE);
	ck_assert_msg(strstr(f.why[2], "no variance (constant at 12345"), "%s", f.why[2]);
	ck_assert_int_eq(f.status[3], CAL_TERM_FITTED);
	ck_assert(fabs(f.w[0] / 1e-9 - 1) < 0.02 && fabs(f.w[3] / 3e-6 - 1) < 0.02);
	for (int j = 0; j < 4; j++)
		ck_assert(isfinite(f.w[j]) && isfinite(f.se[j]) && isfinite(f.vif[j]));
	ck_assert(f.w[1] == 0 && f.w[2] == 0);
	cal_design_free(&D);
	/* 4 windows for 3 varying counters: one must go, with the reason */
	static const double x4[] = {1, 5, 2, 1, 2, 3, 1, 4, 3, 1, 2, 9, 4, 7, 1, 1};
	static const double y4[] = {10, 11, 12, 14};
	const char *feat4[] = {"a", "b", "c", "d"};
	design_from(&D, feat4, 4, x4, y4, 4);
	jv_diag_clear(&d);
	ck_assert_int_eq(cal_fit_rows(&D, NULL, NULL, &f, &d), 0);
	int too_few = 0;
	for (int j = 0; j < 4; j++) {
		ck_assert(isfinite(f.w[j]) && isfinite(f.se[j]));
		if (f.status[j] == CAL_TERM_TOO_FEW) {
			too_few++;
			ck_assert(strstr(f.why[j], "too few windows (4)"));
		}
	}
	ck_assert(too_few >= 1);
	ck_assert(isfinite(f.p_idle_w) && isfinite(f.r2));
	/* a single window: a clear error, not a fit */
	jv_diag_clear(&d);
	D.n = 1;
	ck_assert_int_eq(cal_fit_rows(&D, NULL, NULL, &f, &d), JV_EEMPTY);
	ck_assert(strstr(d.msg, "too few windows"));
	D.n = 4;
	/* k-fold on 4 windows degrades gracefully */
	struct cal_pmc_result res;
	jv_diag_clear(&d);
	ck_assert_int_eq(cal_pmc_calibrate(&D, NULL, &res, &d), 0);
	ck_assert_int_eq(res.k, 4); /* k = n: leave-one-window-out */
	metrics_finite(&res.in_sample);
	metrics_finite(&res.kfold);
	cal_pmc_result_free(&res);
	cal_design_free(&D);
}
END_TEST

/* ---- meter formats and errors ----------------------------------------------------------- */

static const struct {
	const char *text;
	const char *time_col;
	int unit;
	double rate;
	const char *expr;
	size_t n;
	double v0, t1; /* first value, second time */
	int header, delim;
} FORMATS[] = {
	/* header, ms time, CRLF, comments, blank lines */
	{"# meter\r\ntime_ms,volts,amps\r\n\r\n0,12,0.5\r\n10,12,1\r\n", "time_ms", CAL_TIME_MS, 0,
	 "volts*amps", 2, 6, 0.01, 1, ','},
	/* semicolons, ISO times with zone, fractional seconds */
	{"ts;p\n2023-11-04 23:16:59.5+05:30;3\n2023-11-04T17:47:00Z;4\n", "ts", CAL_TIME_ISO, 0,
	 "p", 2, 3, 0.5, 1, ';'},
	/* white space separated (runs of blanks), headerless, index time */
	{"1  2 3\n4 5   6\n", NULL, 0, 10, "c3-c1", 2, 2, 0.1, 0, ' '},
	/* tab separated: a header name may hold spaces */
	{"a b\tc\n1\t2\n3\t4\n", NULL, 0, 10, "\"a b\"+c", 2, 3, 0.1, 1, '\t'},
	/* tabs, Python bytes literals (SmartPower), quoted header name */
	{"t\tch1-watt_mW\n0\tb'03277'\n1\tb'03300'\n", "t", CAL_TIME_S, 0, "\"ch1-watt_mW\"/1000",
	 2, 3.277, 1, 1, '\t'},
	/* trailing commas, ns time, BOM */
	{"\xEF\xBB\xBFt,a,\n1000000000,1,\n1500000000,2,\n", "t", CAL_TIME_NS, 0, "a", 2, 1, 0.5, 1,
	 ','},
	/* us time, epoch-like large values */
	{"us,w\n5,1\n7,2\n", "us", CAL_TIME_US, 0, "w*2", 2, 2, 2e-6, 1, ','},
};

START_TEST(meter_formats)
{
	spit(at("m.csv"), FORMATS[_i].text);
	struct cal_meter_opts o;
	meter_one(&o, "x", FORMATS[_i].expr);
	o.time_col = FORMATS[_i].time_col;
	o.time_unit = FORMATS[_i].unit;
	o.rate_hz = FORMATS[_i].rate;
	struct cal_meter *m;
	struct jv_diag d = {0};
	ck_assert_msg(cal_meter_load(at("m.csv"), &o, &m, &d) == 0, "case %d: %s", _i, d.msg);
	ck_assert_uint_eq(m->n, FORMATS[_i].n);
	ck_assert_double_eq_tol(m->v[0][0], FORMATS[_i].v0, 1e-12);
	ck_assert_double_eq_tol(m->t_s[0], (FORMATS[_i].unit == CAL_TIME_NS ? 1.0 : 0.0) +
						   (FORMATS[_i].unit == CAL_TIME_US ? 5e-6 : 0.0), 1e-15);
	ck_assert_double_eq_tol(m->t_s[1] - m->t_s[0], FORMATS[_i].t1, 1e-9);
	ck_assert_int_eq(m->has_header, FORMATS[_i].header);
	ck_assert_int_eq(m->delim, FORMATS[_i].delim);
	cal_meter_free(m);
}
END_TEST

static const struct {
	const char *text;
	const char *expr;
	const char *time_col;
	int err;
	const char *frag;
} METER_ERRORS[] = {
	{"a,b\n1,2\n3,x\n", "a+b", NULL, JV_EPARSE, "m.csv:3: column 2 'b': not a number 'x'"},
	{"a,b\n1,2\n3\n", "a+b", NULL, JV_EPARSE, "m.csv:3: expected at least 2 fields, found 1"},
	{"t,a\n2,1\n1,1\n", "a", "t", JV_EORDER, "m.csv:3: time goes backwards"},
	{"a,b\n1,0\n1,0\n", "a/b", NULL, JV_ERANGE, "m.csv:2: --channel x: value is not finite"},
	{"a,b\n1,2\n", "a+zz", NULL, JV_EUNKNOWN, "unknown column 'zz'"},
	{"a,b\n1,2\n", "a", "tt", JV_EUNKNOWN, "--time: no column 'tt'"},
	{"# only a comment\n", "a", NULL, JV_EEMPTY, "0 data rows"},
	{"a\n1\n", "a", NULL, JV_EEMPTY, "1 data row: at least 2 samples"},
	{"a,b\n1,nan\n2,3\n", "b", NULL, JV_EPARSE, "not a number 'nan'"},
	{"a,b\n1,0x10\n2,3\n", "b", NULL, JV_EPARSE, "not a number '0x10'"},
};

START_TEST(meter_errors)
{
	spit(at("m.csv"), METER_ERRORS[_i].text);
	struct cal_meter_opts o;
	meter_one(&o, "x", METER_ERRORS[_i].expr);
	o.time_col = METER_ERRORS[_i].time_col;
	o.rate_hz = o.time_col ? 0 : 100;
	struct cal_meter *m = NULL;
	struct jv_diag d = {0};
	ck_assert_int_eq(cal_meter_load(at("m.csv"), &o, &m, &d), METER_ERRORS[_i].err);
	ck_assert_ptr_null(m);
	ck_assert_msg(strstr(d.msg, METER_ERRORS[_i].frag), "case %d: '%s' lacks '%s'", _i, d.msg,
		      METER_ERRORS[_i].frag);
}
END_TEST

START_TEST(meter_usage_errors)
{
	struct cal_meter_opts o;
	cal_meter_opts_init(&o);
	struct cal_meter *m;
	struct jv_diag d = {0};
	spit(at("m.csv"), "1,2\n3,4\n");
	ck_assert_int_eq(cal_meter_load(at("m.csv"), &o, &m, &d), JV_EUSAGE); /* no channel */
	o.n_channels = 1;
	strcpy(o.ch[0].name, "x");
	o.ch[0].expr = "c1";
	jv_diag_clear(&d);
	ck_assert_int_eq(cal_meter_load(at("m.csv"), &o, &m, &d), JV_EUSAGE); /* no time base */
	ck_assert(strstr(d.msg, "--rate"));
	o.rate_hz = 10;
	jv_diag_clear(&d);
	ck_assert_int_eq(cal_meter_load(at("missing.csv"), &o, &m, &d), JV_ENOENT);
	struct cal_channel_def ch;
	jv_diag_clear(&d);
	ck_assert_int_eq(cal_channel_parse("=c1", &ch, &d), JV_EUSAGE);
	jv_diag_clear(&d);
	ck_assert_int_eq(cal_channel_parse("a b=c1", &ch, &d), JV_EUSAGE);
	jv_diag_clear(&d);
	ck_assert_int_eq(cal_channel_parse("cpu=(c2-0.5)", &ch, &d), 0);
	ck_assert_str_eq(ch.name, "cpu");
	ck_assert_str_eq(ch.expr, "(c2-0.5)");
	/* sync without an edge */
	spit(at("s.csv"), "1,-5\n2,-5\n3,-5\n");
	o.sync_expr = "c2";
	jv_diag_clear(&d);
	ck_assert_int_eq(cal_meter_load(at("s.csv"), &o, &m, &d), 0);
	double te;
	ck_assert_int_eq(cal_align_sync(m, 4.0, 1, &te, NULL, &d), JV_EEMPTY);
	ck_assert_msg(strstr(d.msg, "no rising edge through 4"), "%s", d.msg);
	cal_meter_free(m);
}
END_TEST

START_TEST(meter_cumulative_energy)
{
	spit(at("e.csv"), "t,joules\n0,100\n1,110\n3,150\n");
	struct cal_meter_opts o;
	meter_one(&o, "w", "joules");
	o.time_col = "t";
	o.energy = 1;
	struct cal_meter *m;
	struct jv_diag d = {0};
	ck_assert_msg(cal_meter_load(at("e.csv"), &o, &m, &d) == 0, "%s", d.msg);
	ck_assert_double_eq(m->v[0][0], 10.0);
	ck_assert_double_eq(m->v[0][1], 20.0);
	ck_assert_double_eq(m->v[0][2], 20.0);
	cal_meter_free(m);
	spit(at("e.csv"), "t,joules\n0,100\n1,90\n");
	ck_assert_int_eq(cal_meter_load(at("e.csv"), &o, &m, &d), JV_EORDER);
	ck_assert_msg(strstr(d.msg, "e.csv:3: --channel w: cumulative energy goes backwards"), "%s",
		      d.msg);
}
END_TEST

static const struct {
	const char *text;
	int err;
	const char *frag;
} PERF_ERRORS[] = {
	{"0.1,5,,cycles,1,100.00\n0.1,6,,instr,1,100.00\n0.2,5,,cycles,1,100.00\n", JV_EPARSE,
	 "p.perf:3: interval ending at 0.2 s lacks event 'instr'"},
	{"0.2,5,,cycles,1,100.00\n0.1,6,,cycles,1,100.00\n", JV_EORDER,
	 "p.perf:2: time goes backwards"},
	{"0.1,abc,,cycles,1,100.00\n", JV_EPARSE, "p.perf:1: cycles: not a non-negative number 'abc'"},
	{"0.1,5,cycles\n", JV_EPARSE, "p.perf:1: expected 6 to 8 fields"},
	{"x,5,,cycles,1,100.00\n", JV_EPARSE, "p.perf:1: time: not a number 'x'"},
	{"# nothing\n", JV_EEMPTY, "no intervals"},
	{"0.1,5,,a,1,100\n0.2,5,,a,1,100\n0.2,1,,b,1,100\n", JV_EPARSE, "event 'b' not in the first interval"},
};

START_TEST(perf_errors)
{
	spit(at("p.perf"), PERF_ERRORS[_i].text);
	struct cal_pmc_run *r = NULL;
	struct jv_diag d = {0};
	ck_assert_int_eq(cal_pmc_load(at("p.perf"), NULL, &r, &d), PERF_ERRORS[_i].err);
	ck_assert_ptr_null(r);
	ck_assert_msg(strstr(d.msg, PERF_ERRORS[_i].frag), "case %d: '%s' lacks '%s'", _i, d.msg,
		      PERF_ERRORS[_i].frag);
}
END_TEST

START_TEST(perf_variants_and_native)
{
	/* -A per-CPU rows are summed; <not counted> flags the interval; 8 fields */
	spit(at("a.perf"),
		   "# started on x\n"
		   "     0.100,CPU0,10,,cycles,100,100.00,,\n"
		   "     0.100,CPU1,15,,cycles,100,100.00,,\n"
		   "     0.100,CPU0,1.5,msec,cpu-clock,100,100.00,1.0,CPUs utilized\n"
		   "     0.100,CPU1,1.5,msec,cpu-clock,100,100.00,1.0,CPUs utilized\n"
		   "     0.200,CPU0,<not counted>,,cycles,0,0.00,,\n"
		   "     0.200,CPU1,7,,cycles,100,100.00,,\n"
		   "     0.200,CPU0,1,msec,cpu-clock,100,100.00,,\n"
		   "     0.200,CPU1,1,msec,cpu-clock,100,100.00,,\n");
	struct cal_pmc_run *r;
	struct jv_diag d = {0};
	ck_assert_msg(cal_pmc_load(at("a.perf"), NULL, &r, &d) == 0, "%s", d.msg);
	ck_assert_uint_eq(r->n, 2);
	ck_assert_int_eq(r->groups, 2);
	ck_assert_double_eq(r->val[0][0], 25);
	ck_assert_str_eq(r->unit[1], "s");
	ck_assert_double_eq_tol(r->val[1][0], 3e-3, 1e-15);
	ck_assert_uint_eq(r->n_bad, 1);
	ck_assert_int_eq(r->bad[1], 1);
	struct cal_series s;
	ck_assert_int_eq(cal_pmc_rate_series(r, 0, &s), 0);
	ck_assert_uint_eq(s.n, 1); /* the bad interval is not data */
	ck_assert_double_eq_tol(s.v[0], 250.0, 1e-9);
	cal_series_free(&s);
	cal_pmc_free(r);
	/* native pmc-interval: summed over VMs */
	spit(at("n.csv"), "# joulevisor pmc-interval v1\nt_ns,vm,cycles,instr\n"
				"100000000,a,10,20\n100000000,b,5,5\n200000000,a,1,2\n");
	jv_diag_clear(&d);
	ck_assert_msg(cal_pmc_load(at("n.csv"), NULL, &r, &d) == 0, "%s", d.msg);
	ck_assert_str_eq(r->format, "pmc-interval");
	ck_assert_uint_eq(r->n, 2);
	ck_assert_double_eq(r->val[0][0], 15);
	ck_assert_double_eq(r->val[1][0], 25);
	ck_assert_double_eq_tol(r->t0_s[0], 0.0, 1e-12);
	cal_pmc_free(r);
	char name[64];
	cal_scenario_name("uncore_imc/data_reads/", name, sizeof name);
	ck_assert_str_eq(name, "uncore_imc_data_reads");
	cal_scenario_name("cpu/event=0x3c,umask=0x0/", name, sizeof name);
	ck_assert_str_eq(name, "cpu_event_0x3c_umask_0x0");
}
END_TEST

START_TEST(compare_errors)
{
	double *p = synth_pair(8, "run", 0.0, 3000);
	static struct cal_compare_opts o;
	compare_one(&o, at("meter.csv"), SYN_METER_HZ, "gpu", "c1");
	o.run_dir = at("run");
	o.no_plot = 1;
	struct cal_compare_result res;
	struct jv_diag d = {0};
	ck_assert_int_eq(cal_compare(&o, &res, NULL, &d), JV_EUNKNOWN);
	ck_assert_msg(strstr(d.msg, "channel 'gpu': no model device 'gpu' (devices: cpu0, cpu1;"), "%s",
		      d.msg);
	/* --model maps it */
	ck_assert_int_eq(cal_map_parse("gpu=cpu1", &o.map[0], &d), 0);
	o.n_maps = 1;
	jv_diag_clear(&d);
	ck_assert_msg(cal_compare(&o, &res, NULL, &d) == 0, "%s", d.msg);
	ck_assert_str_eq(res.ch[0].devices, "cpu1");
	/* no overlap */
	o.offset_s = 100;
	jv_diag_clear(&d);
	ck_assert_int_eq(cal_compare(&o, &res, NULL, &d), JV_EEMPTY);
	ck_assert(strstr(d.msg, "never overlap"));
	/* not a run directory */
	o.offset_s = 0;
	o.run_dir = at("nope");
	jv_diag_clear(&d);
	ck_assert_int_eq(cal_compare(&o, &res, NULL, &d), JV_ENOENT);
	ck_assert(strstr(d.msg, "power.csv: cannot open"));
	/* bad phase */
	jv_diag_clear(&d);
	struct cal_phase ph;
	ck_assert_int_eq(cal_phase_parse("x=2s:1s", &ph, &d), JV_ERANGE);
	jv_diag_clear(&d);
	ck_assert_int_eq(cal_phase_parse("x=2s", &ph, &d), JV_EUSAGE);
	free(p);
}
END_TEST

/* ---- SQLite --------------------------------------------------------------------------- */

START_TEST(compare_db_roundtrip)
{
	double *p = synth_pair(11, "run", 0.3, SYN_SPAN_MS + 500);
	/* a run in a database with a power table */
	struct out_run_info info = {.scenario_name = "syn", .scenario_file = "syn.ini",
				    .scenario_text = "[global]\nduration = 6s\n", .seed = 1,
				    .command_line = "test", .tool_version = "test"};
	struct out_run *run;
	struct jv_diag d = {0};
	ck_assert_msg(out_run_open(at("dbrun"), 0, at("runs.db"), &info, &run, &d) == 0, "%s", d.msg);
	static const char *const cols[] = {"t_ns", "device", "power_w"};
	struct out_table *t;
	ck_assert_int_eq(out_table_open(run, "power", cols, "isd", &t), 0);
	for (int i = 0; i < SYN_SPAN_MS; i++)
		ck_assert_int_eq(out_table_rowv(t, (int64_t)i * SYN_RES_NS, "cpu0", p[i]), 0);
	ck_assert_int_eq(out_table_close(t), 0);
	ck_assert_int_eq(out_run_commit(run, &d), 0);
	static struct cal_compare_opts o;
	compare_one(&o, at("meter.csv"), SYN_METER_HZ, "cpu", "power_w");
	o.db = at("runs.db");
	o.run_id = 1;
	o.out_dir = at("dbout");
	o.max_lag_s = 0.5;
	o.no_plot = 1;
	struct cal_compare_result res;
	for (int rep = 0; rep < 2; rep++) { /* a second compare replaces the first */
		jv_diag_clear(&d);
		ck_assert_msg(cal_compare(&o, &res, NULL, &d) == 0, "%s", d.msg);
	}
	ck_assert(fabs(res.offset_s - 0.3) <= 0.001);
	ck_assert_int_eq(access(at("dbout/compare.csv"), R_OK), 0);
	sqlite3 *h;
	ck_assert_int_eq(sqlite3_open(at("runs.db"), &h), SQLITE_OK);
	sqlite3_stmt *st;
	ck_assert_int_eq(sqlite3_prepare_v2(h, "SELECT COUNT(*) FROM compare WHERE run_id = 1", -1,
					    &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	ck_assert_int_eq(sqlite3_column_int64(st, 0), (int64_t)res.ch[0].windows);
	sqlite3_finalize(st);
	ck_assert_int_eq(sqlite3_prepare_v2(h, "SELECT value FROM metric WHERE run_id = 1 AND name = "
					       "'compare_cpu_rmse_w'", -1, &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	ck_assert_double_eq_tol(sqlite3_column_double(st, 0), res.ch[0].run.rmse_w, 1e-12);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_DONE); /* not duplicated */
	sqlite3_finalize(st);
	ck_assert_int_eq(sqlite3_prepare_v2(h, "SELECT correlation FROM compare_metrics WHERE run_id = 1 "
					       "AND scope = 'window' LIMIT 1", -1, &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	ck_assert_int_eq(sqlite3_column_type(st, 0), SQLITE_NULL); /* undefined is NULL, not NaN */
	sqlite3_finalize(st);
	sqlite3_close(h);
	/* an unknown run id */
	o.run_id = 7;
	jv_diag_clear(&d);
	ck_assert_int_eq(cal_compare(&o, &res, NULL, &d), JV_EINVAL);
	ck_assert(strstr(d.msg, "no run with id 7"));
	free(p);
}
END_TEST

static Suite *calib_suite(void)
{
	Suite *s = suite_create("calib");
	TCase *real = tcase_create("real");
	tcase_add_checked_fixture(real, setup, teardown);
	tcase_set_timeout(real, 120);
	tcase_add_loop_test(real, real_import_perf, 0, 3);
	tcase_add_loop_test(real, real_perf_via_trace_import, 0, 3);
	tcase_add_loop_test(real, real_import_wup, 0, 3);
	/* JV_TEST_QUICK (the memcheck runs): one DAQ file instead of three */
	tcase_add_loop_test(real, real_import_daq, 0, getenv("JV_TEST_QUICK") ? 1 : 3);
	tcase_add_test(real, real_calib_vs_rapl);
	tcase_add_test(real, real_calib_vs_wall);
	tcase_add_test(real, real_compare_daq_sync);
	suite_add_tcase(s, real);
	TCase *syn = tcase_create("synthetic");
	tcase_add_checked_fixture(syn, setup, teardown);
	tcase_set_timeout(syn, 120);
	tcase_add_test(syn, synth_weights_within_2pct);
	tcase_add_loop_test(syn, synth_lag_within_one_sample, 0,
			    (int)(sizeof LAGS_S / sizeof *LAGS_S));
	tcase_add_test(syn, compare_phases_and_metrics_rows);
	tcase_add_test(syn, synth_disk_within_2pct);
	tcase_add_test(syn, ill_collinear_constant_too_few);
	tcase_add_test(syn, compare_db_roundtrip);
	suite_add_tcase(s, syn);
	TCase *in = tcase_create("input");
	tcase_add_checked_fixture(in, setup, teardown);
	tcase_add_loop_test(in, meter_formats, 0, (int)(sizeof FORMATS / sizeof *FORMATS));
	tcase_add_loop_test(in, meter_errors, 0, (int)(sizeof METER_ERRORS / sizeof *METER_ERRORS));
	tcase_add_test(in, meter_usage_errors);
	tcase_add_test(in, meter_cumulative_energy);
	tcase_add_loop_test(in, perf_errors, 0, (int)(sizeof PERF_ERRORS / sizeof *PERF_ERRORS));
	tcase_add_test(in, perf_variants_and_native);
	tcase_add_test(in, compare_errors);
	suite_add_tcase(s, in);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(calib_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
