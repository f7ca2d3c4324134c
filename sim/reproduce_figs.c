/*
 * reproduce_figs: build the CSV of each figure (5, 7, 8, 9) from its runs
 * and check it against the paper's numbers.
 *
 * What is reproduced and checked: the top of sim/reproduce.c; the
 * other files of reproduce: sim/reproduce_int.h.
 */
#include "sim/reproduce_int.h"

/* ---- Figure 5 ------------------------------------------------------------- */

/* the paper's matrix, in fig5.csv's row order: by device, disk first */
struct fig5_cell {
	const char *consumer, *device;
	double paper_idle_w, paper_active_w;
};
static const struct fig5_cell FIG5_CELLS[] = {
	{"vdisk1", "disk0", 3.0, 2.0},
	{"vdisk2", "disk0", 3.0, 3.0},
	{"vdisk1", "cpu0", 4.0, 4.0},
	{"vdisk2", "cpu0", 4.0, 6.0},
};
#define FIG5_HYP_IDLE_W 6.0
#define FIG5_HYP_ACTIVE_W 12.0

int repro_int_build_fig5(struct repro *r, struct jv_diag *d)
{
	const char *run = "fig5-matrix";
	struct run_out ro;
	struct plot_tab mx = {0};
	struct csv_out c = {0};
	int rc = repro_int_load_summary(r, run, &ro, d);
	if (!rc)
		rc = repro_int_load_csv(r, run, "matrix.csv", &mx, d);
	if (!rc)
		rc = repro_int_csv_open(r, FIG5, &c, d);
	for (size_t i = 0; !rc && i < sizeof FIG5_CELLS / sizeof FIG5_CELLS[0]; i++) {
		const struct fig5_cell *fc = &FIG5_CELLS[i];
		double idle = 0, active = 0;
		rc = repro_int_mx_w(&mx, fc->consumer, fc->device, FIG5_DRIVER, "idle_j", ro.dur_s, &idle, d);
		if (!rc)
			rc = repro_int_mx_w(&mx, fc->consumer, fc->device, FIG5_DRIVER, "active_j", ro.dur_s,
					    &active, d);
		if (rc)
			break;
		fprintf(c.f, "driver,%s,%s,", fc->consumer, fc->device);
		repro_int_csv_num(c.f, idle, 0);
		repro_int_csv_num(c.f, active, 1);
		const char *dev = strncmp(fc->device, "disk", 4) == 0 ? "disk" : "CPU (driver VM)";
		char what[160];
		snprintf(what, sizeof what, "%s, %s, idle", fc->consumer, dev);
		rc = repro_int_chk_abs(r, FIG5, what, fc->paper_idle_w, idle, "W", TOL_FIG5_W, d);
		snprintf(what, sizeof what, "%s, %s, active", fc->consumer, dev);
		if (!rc)
			rc = repro_int_chk_abs(r, FIG5, what, fc->paper_active_w, active, "W", TOL_FIG5_W, d);
	}
	double hi = 0, ha = 0;
	if (!rc)
		rc = plot_kv_num(&ro.sum, "vm_" FIG5_DRIVER "_hypervisor_view_cpu_idle_w", &hi, d);
	if (!rc)
		rc = plot_kv_num(&ro.sum, "vm_" FIG5_DRIVER "_hypervisor_view_cpu_active_w", &ha, d);
	if (!rc) {
		fprintf(c.f, "hypervisor,%s,cpu0,", FIG5_DRIVER);
		repro_int_csv_num(c.f, hi, 0);
		repro_int_csv_num(c.f, ha, 1);
		rc = repro_int_chk_abs(r, FIG5, "hypervisor's view of the driver VM's CPU, idle", FIG5_HYP_IDLE_W,
				       hi, "W", TOL_FIG5_W, d);
	}
	if (!rc)
		rc = repro_int_chk_abs(r, FIG5, "hypervisor's view of the driver VM's CPU, active",
				       FIG5_HYP_ACTIVE_W, ha, "W", TOL_FIG5_W, d);
	if (!rc)
		snprintf(r->setup[FIG5], sizeof r->setup[FIG5],
			 "Run `%s` (scenarios/fig5.ini): %g s, the illustration's own machine.", run,
			 ro.dur_s);
	int rc2 = repro_int_csv_close(&c, rc == 0, d);
	plot_tab_free(&mx);
	plot_tab_free(&ro.sum);
	return rc ? rc : rc2;
}

/* ---- Figure 7 ------------------------------------------------------------- */

struct fig7_row {
	int64_t bs;
	double base, client_active, drv_idle, drv_active, disk_idle, disk_active, true_cpu,
		true_disk;
};

static int fig7_read(struct repro *r, const char *run, struct fig7_row *w, struct jv_diag *d)
{
	struct run_out ro;
	struct plot_tab mx = {0};
	double e_cpu = 0, e_disk = 0;
	int rc = repro_int_load_summary(r, run, &ro, d);
	if (!rc)
		rc = repro_int_load_csv(r, run, "matrix.csv", &mx, d);
	if (!rc)
		rc = repro_int_mx_w(&mx, "hypervisor", "cpu0", "direct", "idle_j+active_j", ro.dur_s, &w->base, d);
	if (!rc)
		rc = repro_int_mx_w(&mx, FIG7_CLIENT, "cpu0", "direct", "active_j", ro.dur_s, &w->client_active, d);
	if (!rc)
		rc = repro_int_mx_w(&mx, FIG7_CLIENT, "cpu0", FIG7_DRIVER, "idle_j", ro.dur_s, &w->drv_idle, d);
	if (!rc)
		rc = repro_int_mx_w(&mx, FIG7_CLIENT, "cpu0", FIG7_DRIVER, "active_j", ro.dur_s, &w->drv_active, d);
	if (!rc)
		rc = repro_int_mx_w(&mx, FIG7_CLIENT, "disk0", FIG7_DRIVER, "idle_j", ro.dur_s, &w->disk_idle, d);
	if (!rc)
		rc = repro_int_mx_w(&mx, FIG7_CLIENT, "disk0", FIG7_DRIVER, "active_j", ro.dur_s, &w->disk_active,
				    d);
	if (!rc)
		rc = plot_kv_num(&ro.sum, "device_cpu0_true_energy_j", &e_cpu, d);
	if (!rc)
		rc = plot_kv_num(&ro.sum, "device_disk0_true_energy_j", &e_disk, d);
	w->true_cpu = e_cpu / ro.dur_s;
	w->true_disk = e_disk / ro.dur_s;
	if (!rc && r->setup[FIG7][0] == '\0')
		snprintf(r->setup[FIG7], sizeof r->setup[FIG7],
			 "Runs `fig7-512B` .. `fig7-32KiB` (scenarios/fig7.ini, `paper-2007`, idle "
			 "policy `base`, `--set vm.client.block_size=...`): %g s each.",
			 ro.dur_s);
	plot_tab_free(&mx);
	plot_tab_free(&ro.sum);
	return rc;
}

static int fig7_checks(struct repro *r, const struct fig7_row *rows, int n, struct jv_diag *d)
{
	int rc = 0, mono = 1;
	char what[160], sz[32], t1[64], t2[64];
	for (int i = 0; !rc && i < n; i++) {
		const struct fig7_row *w = &rows[i];
		repro_int_fmt_size(w->bs, sz, sizeof sz);
		snprintf(what, sizeof what, "%s: base CPU power (hypervisor and VMM)", sz);
		rc = repro_int_chk_abs(r, FIG7, what, PAPER_BASE_CPU_W, w->base, "W", TOL_BASE_CPU_W, d);
		snprintf(what, sizeof what, "%s: driver VM's idle CPU power, charged to the client", sz);
		if (!rc)
			rc = repro_int_chk_abs(r, FIG7, what, PAPER_DRV_IDLE_CPU_W, w->drv_idle, "W",
					       TOL_DRV_IDLE_CPU_W, d);
		snprintf(what, sizeof what, "%s: disk idle power, charged to the client", sz);
		if (!rc)
			rc = repro_int_chk_abs(r, FIG7, what, PAPER_DISK_IDLE_W, w->disk_idle, "W", TOL_DISK_IDLE_W,
					       d);
		snprintf(what, sizeof what, "%s: disk active power (disk saturated)", sz);
		if (!rc)
			rc = repro_int_chk_abs(r, FIG7, what, PAPER_DISK_ACTIVE_W, w->disk_active, "W",
					       TOL_DISK_ACTIVE_W, d);
		snprintf(what, sizeof what, "%s: client's active CPU below the driver's", sz);
		snprintf(t1, sizeof t1, "%.3g W < %.3g W", w->client_active, w->drv_active);
		if (!rc)
			rc = repro_int_chk_bool(r, FIG7, what, "below", w->client_active < w->drv_active, t1, d);
		if (i > 0 && !(w->drv_active < rows[i - 1].drv_active))
			mono = 0;
	}
	if (rc || n == 0)
		return rc;
	if (rows[0].bs == FIG7_BS_MIN_B) {
		snprintf(t2, sizeof t2, "%g-%g W", DRV_ACTIVE_SMALL_LO_W, DRV_ACTIVE_SMALL_HI_W);
		rc = repro_int_chk_range(r, FIG7, "512B: driver VM's active CPU power", PAPER_DRV_ACTIVE_SMALL_W,
					 "about 9 W", rows[0].drv_active, "W", DRV_ACTIVE_SMALL_LO_W,
					 DRV_ACTIVE_SMALL_HI_W, t2, d);
		snprintf(t1, sizeof t1, "%.3g W > %.3g W", rows[0].drv_active, rows[0].disk_active);
		if (!rc)
			rc = repro_int_chk_bool(r, FIG7, "512B: driver's CPU cost above the disk's active power",
						"may exceed", rows[0].drv_active > rows[0].disk_active, t1, d);
	}
	if (!rc && rows[n - 1].bs == (int64_t)FIG7_BS_MIN_B << (FIG7_N_BS - 1)) {
		snprintf(t2, sizeof t2, "%g-%g W", DRV_ACTIVE_LARGE_LO_W, DRV_ACTIVE_LARGE_HI_W);
		rc = repro_int_chk_range(r, FIG7, "32KiB: driver VM's active CPU power", PAPER_DRV_ACTIVE_LARGE_W,
					 "about 1 W", rows[n - 1].drv_active, "W", DRV_ACTIVE_LARGE_LO_W,
					 DRV_ACTIVE_LARGE_HI_W, t2, d);
	}
	if (!rc) {
		snprintf(t1, sizeof t1, "%s (%.3g W to %.3g W)", mono ? "yes" : "no",
			 rows[0].drv_active, rows[n - 1].drv_active);
		rc = repro_int_chk_bool(r, FIG7, "driver VM's active CPU power falls with block size",
					"falls monotonically", mono, t1, d);
	}
	return rc;
}

int repro_int_build_fig7(struct repro *r, struct jv_diag *d)
{
	struct fig7_row rows[FIG7_N_BS];
	struct csv_out c = {0};
	int rc = repro_int_csv_open(r, FIG7, &c, d), n = 0;
	for (int k = 0; !rc && k < FIG7_N_BS; k++) {
		char sz[32], run[48];
		struct fig7_row *w = &rows[n];
		memset(w, 0, sizeof *w);
		w->bs = (int64_t)FIG7_BS_MIN_B << k;
		repro_int_fmt_size(w->bs, sz, sizeof sz);
		snprintf(run, sizeof run, "fig7-%s", sz);
		rc = fig7_read(r, run, w, d);
		if (rc)
			break;
		fprintf(c.f, "%" PRId64 ",", w->bs);
		repro_int_csv_num(c.f, w->base, 0);
		repro_int_csv_num(c.f, w->client_active, 0);
		repro_int_csv_num(c.f, w->drv_idle, 0);
		repro_int_csv_num(c.f, w->drv_active, 0);
		repro_int_csv_num(c.f, w->disk_idle, 0);
		repro_int_csv_num(c.f, w->disk_active, 0);
		repro_int_csv_num(c.f, w->true_cpu, 0);
		repro_int_csv_num(c.f, w->true_disk, 1);
		n++;
	}
	if (!rc)
		rc = fig7_checks(r, rows, n, d);
	int rc2 = repro_int_csv_close(&c, rc == 0, d);
	return rc ? rc : rc2;
}

/* ---- Figure 8 ------------------------------------------------------------- */

struct fig8_vm {
	char name[64];
	double limit_w;
	double on_ns; /* < 0: never in force */
	double *drv_j, *bytes;
};

/* The guest VMs of a run, in summary order (`vm_NAME_kind: guest`). */
static int guest_vms(const struct plot_tab *sum, struct fig8_vm *vms, int *n, struct jv_diag *d)
{
	*n = 0;
	for (size_t i = 0; i < sum->n_rows; i++) {
		const char *k = sum->cells[2 * i], *v = sum->cells[2 * i + 1];
		size_t kl = strlen(k);
		if (strncmp(k, "vm_", 3) != 0 || kl < 9 || strcmp(k + kl - 5, "_kind") != 0 ||
		    strcmp(v, "guest") != 0)
			continue;
		if (*n >= REPRO_MAX_VMS)
			return jv_diag_set(d, JV_ELIMIT, sum->path, 0, "more than %d guest VMs",
					   REPRO_MAX_VMS);
		memset(&vms[*n], 0, sizeof vms[*n]);
		snprintf(vms[*n].name, sizeof vms[*n].name, "%.*s", (int)(kl - 8), k + 3);
		(*n)++;
	}
	if (*n == 0)
		return jv_diag_set(d, JV_EPARSE, sum->path, 0, "no guest VM (vm_NAME_kind: guest)");
	return 0;
}

static int vm_index(const struct fig8_vm *vms, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(vms[i].name, name) == 0)
			return i;
	return -1;
}

/* Sum column COL of rows of TABLE into per-second bins of the VMs, rows
 * filtered by consumer (and, when skip_direct, via != direct). */
static int fig8_bin(const struct plot_tab *t, const char *col, int skip_direct, struct fig8_vm *vms,
		    int n_vms, int n_bins, int which, struct jv_diag *d)
{
	int ct, cc, cv = -1, cx;
	int rc = plot_tab_col(t, "t_ns", &ct, d);
	if (!rc)
		rc = plot_tab_col(t, "consumer", &cc, d);
	if (!rc && skip_direct)
		rc = plot_tab_col(t, "via", &cv, d);
	if (!rc)
		rc = plot_tab_col(t, col, &cx, d);
	for (size_t i = 0; !rc && i < t->n_rows; i++) {
		int v = vm_index(vms, n_vms, plot_tab_cell(t, i, cc));
		if (v < 0 || (skip_direct && strcmp(plot_tab_cell(t, i, cv), "direct") == 0))
			continue;
		double tn = 0, x = 0;
		rc = plot_tab_num(t, i, ct, &tn, d);
		if (!rc)
			rc = plot_tab_num(t, i, cx, &x, d);
		if (rc)
			break;
		int64_t b = tn > 0 ? ((int64_t)tn - 1) / BIN_NS : 0;
		if (b >= n_bins)
			b = n_bins - 1;
		(which ? vms[v].bytes : vms[v].drv_j)[b] += x;
	}
	return rc;
}

static double bin_len_s(double dur_ns, int b)
{
	double len = (dur_ns - (double)b * (double)BIN_NS) / NS_PER_S;
	return len > 1.0 ? 1.0 : len;
}

/* Mean of X over the bins from t_from_ns on (whole bins), per second of bin. */
static double fig8_mean(const double *x, int n_bins, double dur_ns, double t_from_ns)
{
	double sum = 0, len = 0;
	for (int b = 0; b < n_bins; b++) {
		if ((double)b * (double)BIN_NS < t_from_ns)
			continue;
		double l = bin_len_s(dur_ns, b);
		sum += x[b];
		len += l;
	}
	return len > 0 ? sum / len : NAN;
}

static double fig8_mean_before(const double *x, int n_bins, double dur_ns, double t_to_ns)
{
	double sum = 0, len = 0;
	for (int b = 0; b < n_bins; b++) {
		if ((double)(b + 1) * (double)BIN_NS > t_to_ns)
			break;
		sum += x[b];
		len += bin_len_s(dur_ns, b);
	}
	return len > 0 ? sum / len : NAN;
}

static int fig8_checks(struct repro *r, struct fig8_vm *vms, int n_vms, int n_bins, double dur_ns,
		       struct jv_diag *d)
{
	static const struct {
		const char *vm;
		double paper_limit_w;
	} LIM[] = {{"client1", 1.0}, {"client2", 0.5}};
	double steady_from = -1, on = -1;
	int rc = 0;
	for (int i = 0; i < n_vms; i++)
		if (vms[i].on_ns >= 0 && (on < 0 || vms[i].on_ns > on))
			on = vms[i].on_ns;
	if (on >= 0)
		steady_from = on + (dur_ns - on) / 2;
	double tp_after[2] = {NAN, NAN}, tp_before[2] = {NAN, NAN};
	for (size_t k = 0; !rc && k < 2; k++) {
		int v = vm_index(vms, n_vms, LIM[k].vm);
		char what[160];
		if (v < 0)
			return jv_diag_set(d, JV_EPARSE, "fig8-limits", 0, "no VM '%s'", LIM[k].vm);
		double p = steady_from >= 0 ? fig8_mean(vms[v].drv_j, n_bins, dur_ns, steady_from) : NAN;
		snprintf(what, sizeof what,
			 "%s: driver's active power for it under its limit (steady state)", LIM[k].vm);
		rc = repro_int_chk_rel(r, FIG8, what, LIM[k].paper_limit_w, p, "W", TOL_FIG8_REL, d);
		if (steady_from >= 0)
			tp_after[k] = fig8_mean(vms[v].bytes, n_bins, dur_ns, steady_from);
		if (on >= 0)
			tp_before[k] = fig8_mean_before(vms[v].bytes, n_bins, dur_ns, on);
	}
	if (!rc)
		rc = repro_int_chk_range(r, FIG8, "throughput client1 : client2 before the limits", NAN,
					 "equal (same workload)", tp_before[0] / tp_before[1], "", EQUAL_LO,
					 EQUAL_HI, "0.9-1.1", d);
	if (!rc)
		rc = repro_int_chk_range(r, FIG8, "throughput client1 : client2 under the limits (steady state)",
					 2.0, "not stated; model: about 2", tp_after[0] / tp_after[1], "",
					 FIG8_RATIO_LO, FIG8_RATIO_HI, "1.6-2.4", d);
	return rc;
}

int repro_int_build_fig8(struct repro *r, struct jv_diag *d)
{
	const char *run = "fig8-limits";
	struct run_out ro;
	struct plot_tab series = {0}, tp = {0};
	struct fig8_vm vms[REPRO_MAX_VMS];
	struct csv_out c = {0};
	int n_vms = 0, n_bins = 0;
	memset(vms, 0, sizeof vms);
	int rc = repro_int_load_summary(r, run, &ro, d);
	if (!rc)
		rc = guest_vms(&ro.sum, vms, &n_vms, d);
	if (!rc) {
		double nb = ceil(ro.dur_ns / (double)BIN_NS);
		if (nb > REPRO_MAX_BINS)
			rc = jv_diag_set(d, JV_ELIMIT, run, 0, "run longer than %d s", REPRO_MAX_BINS);
		n_bins = (int)nb;
	}
	for (int i = 0; !rc && i < n_vms; i++) {
		char key[160];
		vms[i].on_ns = -1;
		snprintf(key, sizeof key, "limit_%s_disk_limit_w", vms[i].name);
		if (plot_kv_str(&ro.sum, key)) {
			rc = plot_kv_num(&ro.sum, key, &vms[i].limit_w, d);
			snprintf(key, sizeof key, "limit_%s_disk_in_force_from_ns", vms[i].name);
			if (!rc && plot_kv_str(&ro.sum, key))
				rc = plot_kv_num(&ro.sum, key, &vms[i].on_ns, d);
		}
		vms[i].drv_j = calloc((size_t)n_bins, sizeof(double));
		vms[i].bytes = calloc((size_t)n_bins, sizeof(double));
		if (!rc && (!vms[i].drv_j || !vms[i].bytes))
			rc = jv_diag_set(d, JV_ENOMEM, NULL, 0, "out of memory");
	}
	if (!rc)
		rc = repro_int_load_csv(r, run, "series.csv", &series, d);
	if (!rc)
		rc = repro_int_load_csv(r, run, "throughput.csv", &tp, d);
	if (!rc)
		rc = fig8_bin(&series, "active_j", 1, vms, n_vms, n_bins, 0, d);
	if (!rc)
		rc = fig8_bin(&tp, "transferred_b", 0, vms, n_vms, n_bins, 1, d);
	if (!rc)
		rc = repro_int_csv_open(r, FIG8, &c, d);
	for (int i = 0; !rc && i < n_vms; i++)
		for (int b = 0; b < n_bins; b++) {
			double len = bin_len_s(ro.dur_ns, b);
			int in_force = vms[i].on_ns >= 0 && (double)b * (double)BIN_NS >= vms[i].on_ns;
			fprintf(c.f, "%d,%s,", b, vms[i].name);
			repro_int_csv_num(c.f, vms[i].drv_j[b] / len, 0);
			repro_int_csv_num(c.f, in_force ? vms[i].limit_w : 0.0, 0);
			repro_int_csv_num(c.f, vms[i].bytes[b] / len, 1);
		}
	if (!rc)
		rc = fig8_checks(r, vms, n_vms, n_bins, ro.dur_ns, d);
	if (!rc) {
		double on = -1;
		for (int i = 0; i < n_vms; i++)
			if (vms[i].on_ns >= 0)
				on = vms[i].on_ns;
		snprintf(r->setup[FIG8], sizeof r->setup[FIG8],
			 "Run `%s` (scenarios/fig8.ini): %g s, limits in force from %g s (paper: a run "
			 "of about 2 minutes, limits set about 45 s in). Steady state: the second half "
			 "of the limited period.",
			 run, ro.dur_s, on / NS_PER_S);
	}
	int rc2 = repro_int_csv_close(&c, rc == 0, d);
	for (int i = 0; i < REPRO_MAX_VMS; i++) {
		free(vms[i].drv_j);
		free(vms[i].bytes);
	}
	plot_tab_free(&series);
	plot_tab_free(&tp);
	plot_tab_free(&ro.sum);
	return rc ? rc : rc2;
}

/* ---- Figure 9 ------------------------------------------------------------- */

struct fig9_app {
	char name[64];
	double true_w, view_w, rel;
};

struct fig9_guest {
	struct fig9_app app[REPRO_MAX_APPS];
	int n_app;
	double vm_true_w, vm_host_w, vm_rel;
	double mean_before_w, mean_after_w;
};

static int fig9_read(struct repro *r, const char *run, int aware, struct fig9_guest *g,
		     struct jv_diag *d)
{
	struct run_out ro;
	struct plot_tab mx = {0}, tr = {0};
	const char *prefix = "container_" FIG9_VM "/";
	size_t pl = strlen(prefix);
	double vm_ns = 0;
	memset(g, 0, sizeof *g);
	int rc = repro_int_load_summary(r, run, &ro, d);
	if (!rc)
		rc = repro_int_load_csv(r, run, "matrix.csv", &mx, d);
	if (!rc)
		rc = repro_int_load_csv(r, run, "truth.csv", &tr, d);
	for (size_t i = 0; !rc && i < ro.sum.n_rows; i++) {
		const char *k = ro.sum.cells[2 * i];
		size_t kl = strlen(k);
		if (strncmp(k, prefix, pl) != 0 || kl < pl + 8 || strcmp(k + kl - 7, "_cpu_ns") != 0)
			continue;
		if (g->n_app >= REPRO_MAX_APPS) {
			rc = jv_diag_set(d, JV_ELIMIT, ro.sum.path, 0, "more than %d containers",
					 REPRO_MAX_APPS);
			break;
		}
		struct fig9_app *a = &g->app[g->n_app++];
		char key[200];
		double ns = 0;
		snprintf(a->name, sizeof a->name, "%.*s", (int)(kl - pl - 7), k + pl);
		a->view_w = NAN;
		rc = plot_kv_num(&ro.sum, k, &ns, d);
		a->rel = ns / ro.dur_ns;
		snprintf(key, sizeof key, "%s%s_true_active_w", prefix, a->name);
		if (!rc)
			rc = plot_kv_num(&ro.sum, key, &a->true_w, d);
		snprintf(key, sizeof key, "%s%s_guest_view_active_w", prefix, a->name);
		if (!rc && aware)
			rc = plot_kv_num(&ro.sum, key, &a->view_w, d);
	}
	if (!rc && g->n_app == 0)
		rc = jv_diag_set(d, JV_EPARSE, ro.sum.path, 0, "no container of VM '%s'", FIG9_VM);
	if (!rc)
		rc = repro_int_mx_w(&tr, FIG9_VM, "cpu0", "direct", "active_j", ro.dur_s, &g->vm_true_w, d);
	if (!rc)
		rc = repro_int_mx_w(&mx, FIG9_VM, "cpu0", "direct", "active_j", ro.dur_s, &g->vm_host_w, d);
	if (!rc)
		rc = plot_kv_num(&ro.sum, "vm_" FIG9_VM "_cpu_ns", &vm_ns, d);
	g->vm_rel = vm_ns / ro.dur_ns;
	if (!rc)
		rc = plot_kv_num(&ro.sum, "limit_" FIG9_VM "_cpu_mean_before_w", &g->mean_before_w, d);
	if (!rc)
		rc = plot_kv_num(&ro.sum, "limit_" FIG9_VM "_cpu_mean_after_w", &g->mean_after_w, d);
	if (!rc && !aware)
		snprintf(r->setup[FIG9], sizeof r->setup[FIG9],
			 "Runs `fig9-unaware` and `fig9-aware` (scenarios/fig9-*.ini): %g s each. "
			 "`throughput_rel`: CPU time over the run's duration (alone and unconstrained "
			 "= 1). The VM's power checks use the host manager's steady state (mean of the "
			 "second half of its periods, `limit_guest_cpu_mean_after_w`).",
			 ro.dur_s);
	plot_tab_free(&mx);
	plot_tab_free(&tr);
	plot_tab_free(&ro.sum);
	return rc;
}

static const struct fig9_app *app_named(const struct fig9_guest *g, const char *name)
{
	for (int i = 0; i < g->n_app; i++)
		if (strcmp(g->app[i].name, name) == 0)
			return &g->app[i];
	return NULL;
}

static int fig9_checks(struct repro *r, const struct fig9_guest *un, const struct fig9_guest *aw,
		       struct jv_diag *d)
{
	const struct fig9_app *ua = app_named(un, "bzip2-a"), *ub = app_named(un, "bzip2-b");
	const struct fig9_app *aa = app_named(aw, "bzip2-a"), *ab = app_named(aw, "bzip2-b");
	if (!ua || !ub || !aa || !ab)
		return jv_diag_set(d, JV_EPARSE, "fig9", 0,
				   "the Figure 9 runs need containers bzip2-a and bzip2-b");
	char t[64];
	snprintf(t, sizeof t, "> %g W", PAPER_FIG9_ALONE_MIN_W);
	int rc = repro_int_chk_range(r, FIG9, "bzip2 alone, unconstrained: active CPU power", NAN,
				     "over 50 W", un->mean_before_w, "W", PAPER_FIG9_ALONE_MIN_W, INFINITY, t, d);
	if (!rc)
		rc = repro_int_chk_rel(r, FIG9, "unaware guest: VM's active CPU power under the host's limit",
				       PAPER_FIG9_VM_W, un->mean_after_w, "W", TOL_FIG9_UNAWARE_REL, d);
	if (!rc)
		rc = repro_int_chk_range(r, FIG9, "unaware guest: throughput bzip2-a : bzip2-b", NAN,
					 "equal loss", ua->rel / ub->rel, "", EQUAL_LO, EQUAL_HI, "0.9-1.1", d);
	if (!rc)
		rc = repro_int_chk_rel(r, FIG9, "aware guest: bzip2-a true active CPU power (budget 10 W)", 10.0,
				       aa->true_w, "W", TOL_FIG9_AWARE_REL, d);
	if (!rc)
		rc = repro_int_chk_rel(r, FIG9, "aware guest: bzip2-b true active CPU power (budget 30 W)", 30.0,
				       ab->true_w, "W", TOL_FIG9_AWARE_REL, d);
	if (!rc)
		rc = repro_int_chk_rel(r, FIG9, "aware guest: VM's active CPU power under the host's limit",
				       PAPER_FIG9_VM_W, aw->mean_after_w, "W", TOL_FIG9_AWARE_REL, d);
	if (!rc)
		rc = repro_int_chk_range(r, FIG9, "aware guest: throughput bzip2-b : bzip2-a", 3.0,
					 "not stated; model: about 3", ab->rel / aa->rel, "", FIG9_RATIO_LO,
					 FIG9_RATIO_HI, "2.7-3.3", d);
	const struct fig9_app *apps[2] = {aa, ab};
	for (int i = 0; !rc && i < 2; i++) {
		char what[160], tol[64];
		snprintf(what, sizeof what,
			 "aware guest: %s, guest's view above the truth (view / true - 1)",
			 apps[i]->name);
		snprintf(tol, sizeof tol, "0-%g%%", 100.0 * FIG9_VIEW_ABOVE_MAX_REL);
		double rel = apps[i]->view_w / apps[i]->true_w - 1.0;
		rc = repro_int_chk_range(r, FIG9, what, NAN, "slightly above", 100.0 * rel, "%", 1e-12,
					 100.0 * FIG9_VIEW_ABOVE_MAX_REL, tol, d);
	}
	return rc;
}

static void fig9_rows(FILE *f, const char *guest, const struct fig9_guest *g)
{
	for (int i = 0; i < g->n_app; i++) {
		fprintf(f, "%s,%s,", guest, g->app[i].name);
		repro_int_csv_num(f, g->app[i].true_w, 0);
		repro_int_csv_num(f, g->app[i].view_w, 0);
		repro_int_csv_num(f, NAN, 0);
		repro_int_csv_num(f, g->app[i].rel, 1);
	}
	fprintf(f, "%s,vm,", guest);
	repro_int_csv_num(f, g->vm_true_w, 0);
	repro_int_csv_num(f, NAN, 0);
	repro_int_csv_num(f, g->vm_host_w, 0);
	repro_int_csv_num(f, g->vm_rel, 1);
}

int repro_int_build_fig9(struct repro *r, struct jv_diag *d)
{
	struct fig9_guest un, aw;
	struct csv_out c = {0};
	int rc = fig9_read(r, "fig9-unaware", 0, &un, d);
	if (!rc)
		rc = fig9_read(r, "fig9-aware", 1, &aw, d);
	if (!rc)
		rc = repro_int_csv_open(r, FIG9, &c, d);
	if (!rc) {
		fig9_rows(c.f, "unaware", &un);
		fig9_rows(c.f, "aware", &aw);
		rc = fig9_checks(r, &un, &aw, d);
	}
	int rc2 = repro_int_csv_close(&c, rc == 0, d);
	return rc ? rc : rc2;
}
