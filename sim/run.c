/*
 * run: the `joulevisor run` pipeline (design §7 Outputs).
 *
 *   scenario -> scn_load -> machine (probe, run) -> sinks:
 *     series.csv and power.csv stream while the machine runs;
 *     matrix.csv, truth.csv, error.csv, summary.txt, scenario.resolved.ini
 *     and manifest.txt are written at the end;
 *   all inside a temporary directory renamed into place on success
 *   (sim/out.c), and with --db the same tables in one SQLite transaction.
 *
 * Exit codes (design §7): 0 success; 1 runtime failure (write error,
 * conservation violated: the outputs are still written so the violation
 * can be inspected, and summary.txt says so); 2 bad input (nothing is
 * written).
 */
#include "sim/run.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "models/idle_split.h"
#include "models/ledger.h"
#include "sim/db.h"
#include "sim/machine.h"
#include "sim/out.h"
#include "base/jv_signal.h"
#include "base/units.h"

#define RUN_DEFAULT_OUT "out"
#define RUN_PATH_MAX 4096

static const char *const MATRIX_COLS[] = {"consumer", "device", "via", "idle_j",
					  "active_j", "total_j", "mean_w"};
static const char *const SERIES_COLS[] = {"t_ns", "consumer", "device", "via", "idle_j",
					  "active_j"};
static const char *const POWER_COLS[] = {"t_ns", "device", "power_w"};
static const char *const ERROR_COLS[] = {"consumer", "device", "accounted_j", "true_j",
					 "error_j", "error_pct"};
static const char *const CONTROL_COLS[] = {"t_ns", "vm", "device", "limit_w", "measured_w",
					   "actuator", "actuator_value"};
static const char *const THROUGHPUT_COLS[] = {"t_ns", "consumer", "requests", "transferred_b",
					      "cpu_work_ns"};

#define RUN_SETTLE_WINDOW_NS 1000000000LL /* settling: 1 s means ... */
#define RUN_SETTLE_TOL 0.10               /* ... within +-10% of the limit */

/* One controller step kept for the summary's control metrics. */
struct ctl_step {
	int vm, disk; /* disk: 0 CPU loop, 1 disk loop */
	int64_t t_ns;
	double measured_w;
};

struct run_ctx {
	struct out_run *out;
	struct machine_cont_stats *prev_cont; /* per container, at the last snapshot */
	struct out_table *series, *power, *control, *throughput;
	const struct scn *s;
	struct machine *m;
	struct machine_vm_stats *prev; /* per VM, at the last snapshot */
	const char *const *dev_names;
	struct ctl_step *steps;
	size_t n_steps, cap_steps;
};

static int on_snapshot(void *vctx, int64_t t_ns, const struct ledger *acct,
		       const struct ledger *truth)
{
	struct run_ctx *x = vctx;
	(void)truth;
	int nc = ledger_n_consumers(acct), nd = ledger_n_devices(acct), nv = ledger_n_via(acct);
	for (int i = 0; i < x->s->n_vms; i++) {
		const struct machine_vm_stats *st = machine_vm_stats(x->m, i);
		struct machine_vm_stats *p = &x->prev[i];
		int rc = out_table_rowv(x->throughput, (int64_t)t_ns, x->s->vm[i].name,
					(int64_t)(st->requests - p->requests),
					(int64_t)(st->bytes - p->bytes),
					(int64_t)(st->cpu_ns - p->cpu_ns));
		if (rc)
			return rc;
		*p = *st;
	}
	for (int k = 0; k < x->s->n_containers; k++) {
		const struct machine_cont_stats *cs = machine_cont_stats(x->m, k);
		int rc = out_table_rowv(x->throughput, (int64_t)t_ns, x->s->container[k].name,
					(int64_t)(cs->requests - x->prev_cont[k].requests),
					(int64_t)(cs->bytes - x->prev_cont[k].bytes),
					(int64_t)(cs->cpu_ns - x->prev_cont[k].cpu_ns));
		if (rc)
			return rc;
		x->prev_cont[k] = *cs;
	}
	for (int c = 0; c < nc; c++)
		for (int dv = 0; dv < nd; dv++)
			for (int v = 0; v < nv; v++) {
				if (!ledger_cell_used(acct, c, dv, v))
					continue;
				int rc = out_table_rowv(x->series, (int64_t)t_ns,
							ledger_consumer_name(acct, c),
							ledger_device_name(acct, dv),
							ledger_via_name(acct, v),
							ledger_interval(acct, c, dv, v, LEDGER_IDLE),
							ledger_interval(acct, c, dv, v, LEDGER_ACTIVE));
				if (rc)
					return rc;
			}
	return 0;
}

static int on_control(void *vctx, int64_t t_ns, int vm, const char *dev, double limit_w,
		      double measured_w, const char *actuator, double value)
{
	struct run_ctx *x = vctx;
	if (x->n_steps == x->cap_steps) {
		size_t cap = x->cap_steps ? 2 * x->cap_steps : 256;
		struct ctl_step *n = realloc(x->steps, cap * sizeof *n);
		if (!n)
			return JV_ENOMEM;
		x->steps = n;
		x->cap_steps = cap;
	}
	x->steps[x->n_steps++] = (struct ctl_step){vm, strcmp(actuator, "budget") == 0, t_ns,
						   measured_w};
	return out_table_rowv(x->control, (int64_t)t_ns, x->s->vm[vm].name, dev, limit_w,
			      measured_w, actuator, value);
}

/* Control metrics of one limited VM and loop, from its steps after the
 * limit came into force: settling time (start of the first 1 s window from
 * which every 1 s mean stays within +-10% of the limit), overshoot (the
 * largest 1 s mean above the limit), steady-state error (mean over the
 * second half against the limit). */
struct ctl_metrics {
	int n;
	int64_t settling_ns; /* -1: never settled (within RUN_SETTLE_TOL) */
	int64_t settling5_ns; /* the same within 5% */
	double overshoot_pct, steady_error_pct, mean_after_w;
};

static void control_metrics(const struct run_ctx *x, int vm, int disk, double limit_w,
			    int64_t period_ns, int64_t on_ns, struct ctl_metrics *out)
{
	/* steps whose period lies after the limit came into force */
#define STEP_MATCHES(st) ((st).vm == vm && (st).disk == disk && (st).t_ns - period_ns >= on_ns)
	size_t n = 0;
	for (size_t i = 0; i < x->n_steps; i++)
		if (STEP_MATCHES(x->steps[i]))
			n++;
	*out = (struct ctl_metrics){.n = (int)n, .settling_ns = -1, .settling5_ns = -1};
	if (!n)
		return;
	double *w = malloc(n * sizeof *w);
	int64_t *t = malloc(n * sizeof *t);
	if (!w || !t) {
		free(w);
		free(t);
		return;
	}
	size_t k = 0;
	for (size_t i = 0; i < x->n_steps; i++)
		if (STEP_MATCHES(x->steps[i])) {
			w[k] = x->steps[i].measured_w;
			t[k] = x->steps[i].t_ns;
			k++;
		}
	size_t win = (size_t)(RUN_SETTLE_WINDOW_NS / period_ns);
	if (win < 1)
		win = 1;
	double over = 0.0;
	long settled_from = -1, settled5_from = -1;
	for (size_t j = 0; j + win <= n; j++) {
		double sum = 0;
		for (size_t q = j; q < j + win; q++)
			sum += w[q];
		double mean = sum / (double)win;
		double dev = (mean - limit_w) / limit_w;
		if (dev > over)
			over = dev;
		if (fabs(dev) <= RUN_SETTLE_TOL) {
			if (settled_from < 0)
				settled_from = (long)j;
		} else {
			settled_from = -1;
		}
		if (fabs(dev) <= RUN_SETTLE_TOL / 2) {
			if (settled5_from < 0)
				settled5_from = (long)j;
		} else {
			settled5_from = -1;
		}
	}
#undef STEP_MATCHES
	if (settled_from >= 0)
		out->settling_ns = t[settled_from] - period_ns - on_ns;
	if (settled5_from >= 0)
		out->settling5_ns = t[settled5_from] - period_ns - on_ns;
	out->overshoot_pct = 100.0 * over;
	double sum = 0;
	size_t half = n / 2;
	for (size_t q = half; q < n; q++)
		sum += w[q];
	out->mean_after_w = sum / (double)(n - half);
	out->steady_error_pct = 100.0 * (out->mean_after_w - limit_w) / limit_w;
	free(w);
	free(t);
}

static void print_control_summary(FILE *f, struct out_run *out, const struct run_ctx *x)
{
	const struct scn *s = x->s;
	int64_t dur = machine_end_ns(x->m);
	for (int i = 0; i < s->n_vms; i++) {
		const struct scn_vm *v = &s->vm[i];
		const struct machine_vm_stats *st = machine_vm_stats(x->m, i);
		for (int disk = 0; disk < 2; disk++) {
			double limit = disk ? v->disk_limit_w : v->cpu_limit_w;
			int64_t on = disk ? st->disk_limit_on_ns : st->cpu_limit_on_ns;
			if (limit <= 0)
				continue;
			char key[160];
			snprintf(key, sizeof key, "limit_%s_%s", v->name, disk ? "disk" : "cpu");
			fprintf(f, "%s_limit_w: %.10g\n", key, limit);
			if (on < 0) {
				fprintf(f, "%s_in_force: no (the run ended before limit_from)\n", key);
				continue;
			}
			int64_t period = disk ? s->manager.disk_period_ns : s->manager.cpu_period_ns;
			struct ctl_metrics cm;
			control_metrics(x, i, disk, limit, period, on, &cm);
			double before_j = disk ? st->drv_active_j_at_on : st->cpu_active_j_at_on;
			double before_w = on > 0 ? before_j / ((double)on * 1e-9) : 0.0;
			double tp_before = 0, tp_after = 0;
			if (disk) {
				tp_before = on > 0 ? (double)st->bytes_at_on / ((double)on * 1e-9) : 0;
				tp_after = (double)(st->bytes - st->bytes_at_on) / ((double)(dur - on) * 1e-9);
			} else {
				tp_before = on > 0 ? (double)st->cpu_ns_at_on / (double)on : 0;
				tp_after = (double)(st->cpu_ns - st->cpu_ns_at_on) / (double)(dur - on);
			}
			double loss = tp_before > 0 ? 100.0 * (1.0 - tp_after / tp_before) : 0.0;
			fprintf(f, "%s_in_force_from_ns: %" PRId64 "\n", key, on);
			fprintf(f, "%s_mean_before_w: %.10g\n", key, before_w);
			fprintf(f, "%s_mean_after_w: %.10g\n", key, cm.mean_after_w);
			fprintf(f, "%s_settling_time_ns: %" PRId64 "%s\n", key, cm.settling_ns,
				cm.settling_ns < 0 ? " (never settled within 10%)" : "");
			fprintf(f, "%s_settling_time_5pct_ns: %" PRId64 "%s\n", key, cm.settling5_ns,
				cm.settling5_ns < 0 ? " (never settled within 5%)" : "");
			fprintf(f, "%s_overshoot_pct: %.6g\n", key, cm.overshoot_pct);
			fprintf(f, "%s_steady_state_error_pct: %.6g\n", key, cm.steady_error_pct);
			fprintf(f, "%s_throughput_before_%s: %.10g\n", key,
				disk ? "bytes_per_s" : "cpu_share", tp_before);
			fprintf(f, "%s_throughput_after_%s: %.10g\n", key,
				disk ? "bytes_per_s" : "cpu_share", tp_after);
			fprintf(f, "%s_throughput_loss_pct: %.6g\n", key, loss);
			char name[200];
			snprintf(name, sizeof name, "%s_settling_time_s", key);
			out_run_metric(out, name, cm.settling_ns < 0 ? -1.0 : (double)cm.settling_ns * 1e-9, "s");
			snprintf(name, sizeof name, "%s_steady_state_error_pct", key);
			out_run_metric(out, name, cm.steady_error_pct, "%");
			snprintf(name, sizeof name, "%s_overshoot_pct", key);
			out_run_metric(out, name, cm.overshoot_pct, "%");
			snprintf(name, sizeof name, "%s_throughput_loss_pct", key);
			out_run_metric(out, name, loss, "%");
		}
	}
}

static int on_power(void *vctx, int64_t t_ns, int dev, double w)
{
	struct run_ctx *x = vctx;
	return out_table_rowv(x->power, (int64_t)t_ns, x->dev_names[dev], w);
}

static int write_matrix(struct out_run *out, const char *name, const struct ledger *l,
			double dur_s)
{
	struct out_table *t;
	int rc = out_table_open(out, name, MATRIX_COLS, "sssdddd", &t);
	if (rc)
		return rc;
	int nc = ledger_n_consumers(l), nd = ledger_n_devices(l), nv = ledger_n_via(l);
	for (int c = 0; c < nc && !rc; c++)
		for (int dv = 0; dv < nd && !rc; dv++)
			for (int v = 0; v < nv && !rc; v++) {
				if (!ledger_cell_used(l, c, dv, v))
					continue;
				double i = ledger_total(l, c, dv, v, LEDGER_IDLE);
				double a = ledger_total(l, c, dv, v, LEDGER_ACTIVE);
				rc = out_table_rowv(t, ledger_consumer_name(l, c),
						    ledger_device_name(l, dv), ledger_via_name(l, v),
						    i, a, i + a, (i + a) / dur_s);
			}
	if (!rc)
		rc = out_table_close(t);
	return rc;
}

/* guest_matrix.csv (view = 0: each energy-aware guest's own view, mean
 * power over the guest's clock) and guest_truth.csv (view = 1: the truth per
 * container of every guest with containers). Containers run on their VM's
 * CPU; idle_j is the TSC-weighted baseline while the container ran. A
 * container with a disk path (disk-stress, or a part of its VM's idle
 * shares) has two more rows via the driver: the driver's CPU and the disk,
 * from the costs the replies carried and the idle shares. */
static int write_guest_table(struct out_run *out, const struct scn *s, const struct machine *m,
			     int truth)
{
	struct out_table *t;
	int rc = out_table_open(out, truth ? "guest_truth" : "guest_matrix", MATRIX_COLS,
				"sssdddd", &t);
	if (rc)
		return rc;
	for (int k = 0; k < s->n_containers && !rc; k++) {
		const struct scn_container *c = &s->container[k];
		const struct scn_vm *v = &s->vm[c->vm];
		if (!truth && !v->energy_aware)
			continue;
		const struct machine_cont_stats *cs = machine_cont_stats(m, k);
		double i = truth ? cs->true_idle_j : cs->guest_idle_j;
		double a = truth ? cs->true_active_j : cs->guest_active_j;
		double dur_s = (double)machine_end_ns(m) * 1e-9;
		if (!truth)
			dur_s *= 1.0 + v->clock_drift_ppm * 1e-6; /* the guest's clock */
		char dev[16];
		snprintf(dev, sizeof dev, "cpu%d", c->vm % s->cpu.count);
		rc = out_table_rowv(t, c->name, dev, "direct", i, a, i + a, (i + a) / dur_s);
		int drv = v->driver_idx;
		if (rc || drv < 0 || (c->workload != SCN_WL_DISK_STRESS && cs->guest_drv_idle_j == 0 &&
				      cs->guest_disk_idle_j == 0 && cs->true_drv_idle_j == 0 &&
				      cs->true_disk_idle_j == 0))
			continue;
		double di = truth ? cs->true_drv_idle_j : cs->guest_drv_idle_j;
		double da = truth ? cs->true_drv_active_j : cs->guest_drv_active_j;
		snprintf(dev, sizeof dev, "cpu%d", drv % s->cpu.count);
		rc = out_table_rowv(t, c->name, dev, s->vm[drv].name, di, da, di + da,
				    (di + da) / dur_s);
		if (rc)
			break;
		di = truth ? cs->true_disk_idle_j : cs->guest_disk_idle_j;
		da = truth ? cs->true_disk_active_j : cs->guest_disk_active_j;
		snprintf(dev, sizeof dev, "disk%d", v->disk);
		rc = out_table_rowv(t, c->name, dev, s->vm[drv].name, di, da, di + da,
				    (di + da) / dur_s);
	}
	if (!rc)
		rc = out_table_close(t);
	return rc;
}

static int consumer_device_used(const struct ledger *l, int c, int dv)
{
	for (int v = 0; v < ledger_n_via(l); v++)
		if (ledger_cell_used(l, c, dv, v))
			return 1;
	return 0;
}

static int write_error(struct out_run *out, const struct ledger *acct, const struct ledger *truth)
{
	struct out_table *t;
	int rc = out_table_open(out, "error", ERROR_COLS, "ssddds", &t);
	if (rc)
		return rc;
	int nc = ledger_n_consumers(acct), nd = ledger_n_devices(acct);
	for (int c = 0; c < nc && !rc; c++)
		for (int dv = 0; dv < nd && !rc; dv++) {
			if (!consumer_device_used(acct, c, dv) && !consumer_device_used(truth, c, dv))
				continue;
			double a = ledger_total_cd(acct, c, dv), tr = ledger_total_cd(truth, c, dv);
			double e = a - tr;
			char pct[32] = "";
			if (tr != 0.0)
				snprintf(pct, sizeof pct, "%.6g", 100.0 * e / tr);
			rc = out_table_rowv(t, ledger_consumer_name(acct, c),
					    ledger_device_name(acct, dv), a, tr, e, pct);
		}
	if (!rc)
		rc = out_table_close(t);
	return rc;
}

static void print_conservation(FILE *f, const char *which, const struct ledger *l)
{
	const struct ledger_conservation *c = ledger_conservation(l);
	fprintf(f, "conservation_%s_checks: %" PRIu64 "\n", which, c->checks);
	fprintf(f, "conservation_%s_violations: %" PRIu64 "\n", which, c->violations);
	fprintf(f, "conservation_%s_max_residual_j: %.3g\n", which, c->max_residual_j);
	fprintf(f, "conservation_%s_max_relative_residual: %.3g\n", which, c->max_rel_residual);
}

static int write_summary(struct out_run *out, const struct scn *s, const struct machine *m,
			 const struct run_ctx *x)
{
	FILE *f = out_run_fopen(out, "summary.txt");
	if (!f)
		return out_run_diag(out)->err ? out_run_diag(out)->err : JV_EIO;
	const struct ledger *acct = machine_acct(m), *truth = machine_truth(m);
	const struct machine_stats *st = machine_stats(m);
	double dur_s = (double)machine_end_ns(m) * 1e-9;
	char buf[32];
	fprintf(f, "# joulevisor run summary\n");
	fprintf(f, "scenario: %s\n", s->global.name);
	fprintf(f, "duration_ns: %" PRId64 "\n", machine_end_ns(m));
	if (machine_interrupted(m))
		fprintf(f, "interrupted: yes (stopped by a signal at %" PRId64 " ns of %" PRId64
			" ns; everything up to then is complete)\n", machine_end_ns(m),
			s->global.duration_ns);
	fprintf(f, "seed: %" PRIu64 "\n", s->global.seed);
	fprintf(f, "interval_ns: %" PRId64 "\n", s->output.interval_ns);
	fprintf(f, "cpu_idle_policy: %s\n", idle_policy_name(s->cpu.idle_policy));
	fprintf(f, "disk_idle_policy: %s\n", idle_policy_name(s->disk.idle_policy));
	fprintf(f, "events: %" PRIu64 "\n", st->events);
	fprintf(f, "pmc_records: %" PRIu64 "\n", st->pmc_records);
	fprintf(f, "trace_records: %" PRIu64 "\n", st->trace_records);
	fprintf(f, "traces_cut_at_duration: %" PRIu64 "%s\n", st->trace_stopped,
		st->trace_stopped ? " (records after the run's duration were not replayed)" : "");
	fprintf(f, "snapshots: %" PRIu64 "\n", st->snapshots);
	fprintf(f, "truth: %s\n", truth ? "yes" : "no");
	if (!truth)
		fprintf(f, "truth_missing_reason: %s\n", machine_no_truth_reason(m));
	print_conservation(f, "accounted", acct);
	if (truth)
		print_conservation(f, "truth", truth);
	fprintf(f, "conservation: %s\n", st->conservation_violations ? "VIOLATED" : "ok");
	for (int dv = 0; dv < ledger_n_devices(acct); dv++) {
		fprintf(f, "device_%s_accounted_energy_j: %.10g\n", ledger_device_name(acct, dv),
			ledger_meter_total(acct, dv));
		if (truth)
			fprintf(f, "device_%s_true_energy_j: %.10g\n", ledger_device_name(acct, dv),
				ledger_meter_total(truth, dv));
		fprintf(f, "device_%s_accounted_mean_w: %.10g\n", ledger_device_name(acct, dv),
			ledger_meter_total(acct, dv) / dur_s);
	}
	for (int i = 0; i < s->disk.count; i++)
		fprintf(f, "disk%d_rate_estimates: %" PRIu64 "\ndisk%d_rate_estimate_bytes_per_s: %.10g\n",
			i, machine_rate_estimates(m, i), i, machine_rate_estimate_bps(m, i));
	for (int i = 0; i < s->n_vms; i++) {
		const struct machine_vm_stats *vs = machine_vm_stats(m, i);
		const char *n = s->vm[i].name;
		fprintf(f, "vm_%s_kind: %s\n", n, s->vm[i].kind == SCN_VM_DRIVER ? "driver" : "guest");
		fprintf(f, "vm_%s_cpu_ns: %" PRId64 "\n", n, vs->cpu_ns);
		fprintf(f, "vm_%s_requests: %" PRIu64 "\n", n, vs->requests);
		fprintf(f, "vm_%s_bytes: %" PRId64 "\n", n, vs->bytes);
		fprintf(f, "vm_%s_throughput_bytes_per_s: %.10g\n", n, (double)vs->bytes / dur_s);
		fprintf(f, "vm_%s_hypervisor_view_cpu_idle_w: %.10g\n", n, vs->hv_cpu_idle_j / dur_s);
		fprintf(f, "vm_%s_hypervisor_view_cpu_active_w: %.10g\n", n,
			vs->hv_cpu_active_j / dur_s);
		if (s->vm[i].kind == SCN_VM_DRIVER)
			fprintf(f, "vm_%s_idle_cpu_w: %.10g (%s)\n", n, machine_driver_idle_w(m, i),
				s->vm[i].idle_cpu_auto ? "auto: measured by a no-client probe" : "given");
	}
	(void)buf;
	for (int k = 0; k < s->n_containers; k++) {
		const struct scn_container *c = &s->container[k];
		const struct scn_vm *v = &s->vm[c->vm];
		const struct machine_cont_stats *cs = machine_cont_stats(m, k);
		double gdur = dur_s * (1.0 + v->clock_drift_ppm * 1e-6);
		/* active power: its CPU slices, plus for a disk container what
		 * its requests cost on the driver's CPU and the disk */
		double t_path = cs->true_drv_active_j + cs->true_disk_active_j;
		double g_path = cs->guest_drv_active_j + cs->guest_disk_active_j;
		int disk = c->workload == SCN_WL_DISK_STRESS;
		fprintf(f, "container_%s_cpu_ns: %" PRId64 "\n", c->name, cs->cpu_ns);
		fprintf(f, "container_%s_cpu_share: %.10g\n", c->name,
			(double)cs->cpu_ns * 1e-9 / dur_s);
		fprintf(f, "container_%s_true_active_w: %.10g\n", c->name,
			(cs->true_active_j + t_path) / dur_s);
		if (disk) {
			fprintf(f, "container_%s_requests: %" PRIu64 "\n", c->name, cs->requests);
			fprintf(f, "container_%s_bytes: %" PRId64 "\n", c->name, cs->bytes);
			fprintf(f, "container_%s_throughput_bytes_per_s: %.10g\n", c->name,
				(double)cs->bytes / dur_s);
			fprintf(f, "container_%s_true_cpu_active_w: %.10g\n", c->name,
				cs->true_active_j / dur_s);
			fprintf(f, "container_%s_true_disk_path_active_w: %.10g\n", c->name,
				t_path / dur_s);
		}
		if (v->energy_aware) {
			fprintf(f, "container_%s_guest_view_active_w: %.10g\n", c->name,
				(cs->guest_active_j + g_path) / gdur);
			if (disk)
				fprintf(f, "container_%s_guest_view_disk_path_active_w: %.10g\n",
					c->name, g_path / gdur);
			fprintf(f, "container_%s_budget_w: %.10g\n", c->name,
				machine_cont_budget_w(m, k));
		}
	}
	print_control_summary(f, out, x);
	if (fclose(f))
		return JV_EIO;
	return 0;
}

static int write_manifest(struct out_run *out, const struct scn *s, const char *cmdline)
{
	FILE *f = out_run_fopen(out, "manifest.txt");
	if (!f)
		return out_run_diag(out)->err ? out_run_diag(out)->err : JV_EIO;
	fprintf(f, "tool: joulevisor %s\n", JV_VERSION);
	fprintf(f, "seed: %" PRIu64 "\n", s->global.seed);
	fprintf(f, "command: %s\n", cmdline ? cmdline : "");
	fprintf(f, "# input files: size_b xxh64 path\n");
	for (int i = 0; i < s->n_inputs; i++) {
		uint64_t h = 0, sz = 0;
		if (strcmp(s->input[i], "-") == 0) {
			fprintf(f, "input: - - %s\n", "(stdin)");
			continue;
		}
		if (out_file_hash(s->input[i], &h, &sz) == 0)
			fprintf(f, "input: %" PRIu64 " %016" PRIx64 " %s\n", sz, h, s->input[i]);
		else
			fprintf(f, "input: - - %s (unreadable at the end of the run)\n", s->input[i]);
	}
	if (fclose(f))
		return JV_EIO;
	return 0;
}

static int write_resolved_file(struct out_run *out, const struct scn *s)
{
	FILE *f = out_run_fopen(out, "scenario.resolved.ini");
	if (!f)
		return out_run_diag(out)->err ? out_run_diag(out)->err : JV_EIO;
	int rc = scn_write_resolved(s, f);
	if (fclose(f) && !rc)
		rc = JV_EIO;
	return rc;
}

static char *resolved_text(const struct scn *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	scn_write_resolved(s, f);
	fclose(f);
	return buf;
}

/* Print the per-VM matrix for people: mean power per cell. */
static void print_matrix(FILE *f, const struct scn *s, const struct machine *m, const char *dir)
{
	const struct ledger *l = machine_acct(m), *tr = machine_truth(m);
	double dur_s = (double)machine_end_ns(m) * 1e-9;
	char dbuf[32];
	fprintf(f, "joulevisor: %s: %s simulated, outputs in %s\n", s->global.name,
		units_fmt_time_ns(machine_end_ns(m), dbuf), dir);
	fprintf(f, "%-16s %-7s %-10s %10s %10s %12s%s\n", "consumer", "device", "via", "idle_w",
		"active_w", "total_j", tr ? "     true_j" : "");
	for (int c = 0; c < ledger_n_consumers(l); c++)
		for (int dv = 0; dv < ledger_n_devices(l); dv++)
			for (int v = 0; v < ledger_n_via(l); v++) {
				if (!ledger_cell_used(l, c, dv, v))
					continue;
				double i = ledger_total(l, c, dv, v, LEDGER_IDLE);
				double a = ledger_total(l, c, dv, v, LEDGER_ACTIVE);
				fprintf(f, "%-16s %-7s %-10s %10.3f %10.3f %12.3f", ledger_consumer_name(l, c),
					ledger_device_name(l, dv), ledger_via_name(l, v), i / dur_s,
					a / dur_s, i + a);
				if (tr)
					fprintf(f, " %11.3f", ledger_total(tr, c, dv, v, LEDGER_IDLE) +
							      ledger_total(tr, c, dv, v, LEDGER_ACTIVE));
				fputc('\n', f);
			}
	const struct ledger_conservation *cons = ledger_conservation(l);
	fprintf(f, "conservation: max residual %.3g J over %" PRIu64 " device-intervals%s\n",
		cons->max_residual_j, cons->checks, cons->violations ? " (VIOLATED)" : "");
}

int run_main(const struct run_opts *o, FILE *out, FILE *err)
{
	struct jv_diag d;
	jv_diag_clear(&d);
	struct scn *s = NULL;
	struct out_run *run = NULL;
	struct machine *m = NULL;
	char *text = NULL, *canon = NULL;
	char dirbuf[RUN_PATH_MAX];
	struct run_ctx x = {0};
	int rc = scn_load(o->scenario, o->ov, o->n_ov, &s, &d);
	if (rc)
		goto fail;
	if (o->parse_only) {
		scn_write_resolved(s, out);
		scn_free(s);
		return 0;
	}
	const char *dir = o->out_dir;
	if (!dir) {
		snprintf(dirbuf, sizeof dirbuf, "%s/%s", RUN_DEFAULT_OUT, s->global.name);
		dir = dirbuf;
	}
	text = resolved_text(s);
	if (o->db && db_canon_overrides(o->ov, o->n_ov, &canon)) {
		rc = jv_diag_set(&d, JV_ENOMEM, NULL, 0, "out of memory");
		goto fail;
	}
	struct out_run_info info = {
		.scenario_name = s->global.name,
		.scenario_file = o->scenario,
		.scenario_text = text ? text : "",
		.seed = s->global.seed,
		.command_line = o->command_line ? o->command_line : "",
		.tool_version = JV_VERSION,
		.overrides = canon,
		.out_dir = dir,
	};
	rc = out_run_open(dir, o->force, o->db, &info, &run, &d);
	if (rc)
		goto fail;
	x.out = run;
	x.s = s;
	x.prev = calloc((size_t)(s->n_vms > 0 ? s->n_vms : 1), sizeof *x.prev);
	x.prev_cont = calloc((size_t)(s->n_containers > 0 ? s->n_containers : 1),
			     sizeof *x.prev_cont);
	if (!x.prev || !x.prev_cont) {
		rc = jv_diag_set(&d, JV_ENOMEM, NULL, 0, "out of memory");
		goto fail;
	}
	rc = out_table_open(run, "series", SERIES_COLS, "isssdd", &x.series);
	if (!rc)
		rc = out_table_open(run, "power", POWER_COLS, "isd", &x.power);
	if (!rc)
		rc = out_table_open(run, "control", CONTROL_COLS, "issddsd", &x.control);
	if (!rc)
		rc = out_table_open(run, "throughput", THROUGHPUT_COLS, "isiii", &x.throughput);
	if (rc) {
		d = *out_run_diag(run);
		goto fail;
	}
	/* device names: cpu0.., disk0.. */
	char (*dn)[16] = calloc((size_t)(s->cpu.count + s->disk.count), sizeof *dn);
	const char **dnp = calloc((size_t)(s->cpu.count + s->disk.count), sizeof *dnp);
	if (!dn || !dnp) {
		free(dn);
		free(dnp);
		rc = jv_diag_set(&d, JV_ENOMEM, NULL, 0, "out of memory");
		goto fail;
	}
	for (int i = 0; i < s->cpu.count; i++)
		snprintf(dn[i], sizeof dn[i], "cpu%d", i);
	for (int i = 0; i < s->disk.count; i++)
		snprintf(dn[s->cpu.count + i], sizeof dn[0], "disk%d", i);
	for (int i = 0; i < s->cpu.count + s->disk.count; i++)
		dnp[i] = dn[i];
	x.dev_names = dnp;
	struct machine_sink sink = {.ctx = &x, .snapshot = on_snapshot, .power_row = on_power,
				    .control = on_control};
	jv_signal_install();
	rc = machine_new(s, 0, &sink, &m, &d);
	x.m = m;
	if (!rc)
		rc = machine_run(m, &d);
	if (rc) {
		free(dn);
		free(dnp);
		if (run && out_run_diag(run)->err && !d.err)
			d = *out_run_diag(run);
		goto fail;
	}
	double dur_s = (double)machine_end_ns(m) * 1e-9;
	rc = out_table_close(x.series);
	if (!rc)
		rc = out_table_close(x.power);
	if (!rc)
		rc = out_table_close(x.control);
	if (!rc)
		rc = out_table_close(x.throughput);
	if (!rc)
		rc = write_matrix(run, "matrix", machine_acct(m), dur_s);
	if (!rc && machine_truth(m))
		rc = write_matrix(run, "truth", machine_truth(m), dur_s);
	if (!rc && machine_truth(m))
		rc = write_error(run, machine_acct(m), machine_truth(m));
	if (!rc && s->n_containers > 0)
		rc = write_guest_table(run, s, m, 1);
	if (!rc && s->n_containers > 0)
		rc = write_guest_table(run, s, m, 0);
	if (!rc)
		rc = write_summary(run, s, m, &x);
	if (!rc)
		rc = write_resolved_file(run, s);
	if (!rc)
		rc = write_manifest(run, s, o->command_line);
	if (!rc) {
		const struct ledger_conservation *c = ledger_conservation(machine_acct(m));
		out_run_metric(run, "conservation_max_residual_j", c->max_residual_j, "J");
		out_run_metric(run, "duration_s", dur_s, "s");
	}
	free(dn);
	free(dnp);
	if (rc) {
		if (out_run_diag(run)->err)
			d = *out_run_diag(run);
		else
			jv_diag_set(&d, rc, dir, 0, "cannot write the outputs: %s", jv_strerror(rc));
		goto fail;
	}
	uint64_t viol = machine_stats(m)->conservation_violations;
	int interrupted = machine_interrupted(m);
	if (interrupted || o->mark_incomplete)
		out_run_mark_incomplete(run);
	char final_dir[RUN_PATH_MAX];
	snprintf(final_dir, sizeof final_dir, "%s", out_run_dir(run));
	rc = out_run_commit(run, &d);
	run = NULL;
	if (rc)
		goto fail;
	if (!o->quiet)
		print_matrix(out, s, m, final_dir);
	if (interrupted) {
		int sig = jv_signal_pending();
		fprintf(err, "joulevisor: %s: interrupted by signal %d at %.3f s simulated; "
			"outputs up to then in %s (marked incomplete)\n", o->scenario, sig,
			(double)machine_end_ns(m) * 1e-9, final_dir);
		rc = jv_signal_exit_code(sig);
	} else if (viol) {
		fprintf(err, "joulevisor: %s: energy conservation violated in %" PRIu64
			" device-interval(s); see %s/summary.txt\n", o->scenario, viol, final_dir);
		rc = 1;
	}
	machine_free(m);
	scn_free(s);
	free(text);
	free(canon);
	free(x.prev);
	free(x.prev_cont);
	free(x.steps);
	return rc;
fail:
	free(x.prev);
	free(x.prev_cont);
	free(x.steps);
	if (run)
		out_run_abort(run);
	machine_free(m);
	scn_free(s);
	free(text);
	free(canon);
	if (!d.err)
		jv_diag_set(&d, rc, o->scenario, 0, "%s", jv_strerror(rc));
	fprintf(err, "joulevisor: %s\n", d.msg);
	return jv_exit_code(d.err ? d.err : rc);
}
