/*
 * reproduce: the paper's figures in one command.
 *
 * Problem: the first thing a researcher does with this tool is check that it
 * reproduces Stoess, Lang and Bellosa (USENIX ATC 2007). That takes eleven
 * runs of five scenarios, numbers pulled out of six kinds of output files
 * and compared with the paper's, and four figures.
 *
 * Strategy:
 *   1. Plan the runs of the chosen figures (bundled scenarios, found in
 *      JV_SOURCE_DIR/scenarios, then PREFIX/share/joulevisor/scenarios):
 *        fig5-matrix         fig5.ini
 *        fig7-512B..32KiB    fig7.ini with vm.client.block_size = 512 B x 2^k, k = 0..6
 *        fig8-limits         fig8.ini
 *        fig9-unaware/aware  fig9-unaware.ini, fig9-aware.ini
 *      --quick shortens them with overrides: Figure 7 runs of 3 s, Figure 8
 *      40 s with the limits from 15 s, Figure 9 10 s (Figure 5 is short).
 *   2. Run them into DIR/runs/<name>/ through run_main() (the `run`
 *      pipeline, quiet), each in its own forked worker process, at most
 *      `-j N` at a time; a worker's messages go to DIR/runs/<name>.log
 *      (removed when empty). Runs are independent and deterministic, so the
 *      order of completion changes nothing. A failed run fails the command,
 *      naming the run and quoting its log.
 *   3. Read the run outputs (plots/plot.h readers: every value asked for
 *      must be present), write DIR/figN.csv (columns in docs/FORMATS.md),
 *      and compare the paper's numbers with the tool's (the checks below).
 *   4. Render DIR/figN.png and .svg with plots/figN.gp; without gnuplot say
 *      so and go on.
 *   5. Write DIR/report.md: per figure, the figure and a table of paper
 *      value, tool value, difference and tolerance; print the checks out of
 *      tolerance on err and exit 1 when there is any.
 *
 * Checks (paper.md §3-§8; tolerances of issue 5 and the enforcement and guest
 * issues):
 *   Fig. 5   every cell of the driver's matrix (vdisk1: disk 3 + 2 W, CPU 4 + 4 W;
 *            vdisk2: disk 3 + 3 W, CPU 4 + 6 W) and the hypervisor's 6 + 12 W, +-0.3 W.
 *   Fig. 7   per block size: base CPU 36 +-0.5 W, driver idle CPU 8 +-0.5 W, disk idle
 *            3.5 +-0.2 W, disk active 2 +-0.3 W, client active CPU below the driver's;
 *            driver active CPU 7.5-10.5 W at 512 B and 0.5-1.5 W at 32 KiB, falling
 *            monotonically; the driver's CPU cost above the disk's at 512 B.
 *   Fig. 8   each client's driver active power held at its limit (1 W, 0.5 W) +-10%
 *            (mean over the second half of the limited period); throughput equal
 *            before the limits (0.9-1.1) and about 2:1 after (1.6-2.4, model-implied).
 *   Fig. 9   bzip2 alone over 50 W; unaware: VM held at 40 W +-5% (steady state),
 *            equal throughput +-10%; aware: 10 W and 30 W +-10%, VM at 40 W +-10%,
 *            throughput ratio 2.7-3.3, guest view above the truth by at most 2%.
 *   Periods  as configured: log read 20 ms, disk idle 50 ms, rate and driver
 *            prediction windows 50 requests (Fig. 7 runs), disk loop 200 ms
 *            (Fig. 8), CPU loop 100 ms and guest period 50 ms (Fig. 9).
 *
 * Limits: the VM names the checks use (client/drv, vdisk1/vdisk2,
 * client1/client2, guest) are those of the bundled scenarios; Figure 8 bins
 * the snapshot intervals (series.csv, throughput.csv) into seconds by their
 * end time, so the interval should divide 1 s (the scenario's is 100 ms).
 */
#include "sim/reproduce.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/jv_err.h"
#include "base/units.h"
#include "plots/plot.h"
#include "sim/run.h"
#include "sim/scenario.h"

#ifndef JV_VERSION
#define JV_VERSION "unknown"
#endif

#define REPRO_DEFAULT_OUT "out/reproduce"
#define REPRO_PATH_MAX PLOT_PATH_MAX
#define REPRO_MAX_RUNS 16
#define REPRO_MAX_OV 8
#define REPRO_OV_LEN 96
#define REPRO_MAX_APPS 8
#define REPRO_MAX_VMS 8
#define REPRO_MAX_BINS 100000    /* Figure 8: seconds per run */
#define REPRO_LOG_QUOTE_MAX 1200 /* bytes of a failed run's log quoted */
#define REPRO_PROGRESS_W 72      /* width of the progress line */
#define NS_PER_S 1e9
#define BIN_NS INT64_C(1000000000) /* Figure 8: one-second bins */

/* Figure 7: block sizes 512 B .. 32 KiB doubling */
#define FIG7_BS_MIN_B 512
#define FIG7_N_BS 7

/* names in the bundled scenarios */
#define FIG5_DRIVER "drv"
#define FIG7_CLIENT "client"
#define FIG7_DRIVER "drv"
#define FIG9_VM "guest"

/* the paper's numbers and the tolerances asserted (paper.md §3-§8) */
#define PAPER_BASE_CPU_W 36.0
#define TOL_BASE_CPU_W 0.5
#define PAPER_DRV_IDLE_CPU_W 8.0
#define TOL_DRV_IDLE_CPU_W 0.5
#define PAPER_DISK_IDLE_W 3.5
#define TOL_DISK_IDLE_W 0.2
#define PAPER_DISK_ACTIVE_W 2.0
#define TOL_DISK_ACTIVE_W 0.3
#define PAPER_DRV_ACTIVE_SMALL_W 9.0
#define DRV_ACTIVE_SMALL_LO_W 7.5
#define DRV_ACTIVE_SMALL_HI_W 10.5
#define PAPER_DRV_ACTIVE_LARGE_W 1.0
#define DRV_ACTIVE_LARGE_LO_W 0.5
#define DRV_ACTIVE_LARGE_HI_W 1.5
#define TOL_FIG5_W 0.3
#define TOL_FIG8_REL 0.10
#define FIG8_RATIO_LO 1.6
#define FIG8_RATIO_HI 2.4
#define EQUAL_LO 0.9
#define EQUAL_HI 1.1
#define PAPER_FIG9_VM_W 40.0
#define TOL_FIG9_UNAWARE_REL 0.05
#define TOL_FIG9_AWARE_REL 0.10
#define PAPER_FIG9_ALONE_MIN_W 50.0
#define FIG9_RATIO_LO 2.7
#define FIG9_RATIO_HI 3.3
#define FIG9_VIEW_ABOVE_MAX_REL 0.02

/* --quick */
#define QUICK_FIG7_DURATION "3s"
#define QUICK_FIG8_DURATION "40s"
#define QUICK_FIG8_LIMIT_FROM "15s"
#define QUICK_FIG9_DURATION "10s"

enum { FIG5, FIG7, FIG8, FIG9, N_FIGS };
static const char *const FIG_NAME[N_FIGS] = {"fig5", "fig7", "fig8", "fig9"};
static const char *const FIG_TITLE[N_FIGS] = {
	"Figure 5: recursive accounting, the driver's matrix (paper §3.3.3)",
	"Figure 7: disk accounting per block size (paper §4.1.1)",
	"Figure 8: disk power limits enforced by the host-level manager (paper §4.1.2)",
	"Figure 9: guest-level vs host-level CPU energy management (paper §4.2)",
};
static const char *const FIG_HEADER[N_FIGS] = {
	"view,consumer,device,idle_w,active_w",
	"block_size_b,base_cpu_w,client_cpu_active_w,driver_cpu_idle_w,driver_cpu_active_w,"
	"disk_idle_w,disk_active_w,true_cpu_w,true_disk_w",
	"t_s,vm,driver_active_w,limit_w,throughput_bytes_per_s",
	"guest,app,true_w,guest_view_w,host_view_w,throughput_rel",
};

struct repro_run {
	char name[48];
	int fig;
	char scenario[REPRO_PATH_MAX];
	char ovk[REPRO_MAX_OV][REPRO_OV_LEN];
	char ovv[REPRO_MAX_OV][REPRO_OV_LEN];
	int n_ov;
	pid_t pid;
	int done;
	int exit_code; /* exit status, or -signal */
	double sim_s;
};

struct repro_check {
	int fig;
	char what[200];
	char paper[64];
	double paper_v; /* NAN: the paper gives no number for this */
	double tool_v;  /* NAN: a yes/no check, tool_txt says */
	char tool_txt[64];
	char unit[16];
	char tol[64];
	int ok;
};

struct repro {
	const struct repro_opts *o;
	FILE *out, *err;
	int progress;
	const char *dir;
	char scn_dir[REPRO_PATH_MAX];
	struct repro_run runs[REPRO_MAX_RUNS];
	int n_runs;
	struct repro_check *chk;
	int n_chk, cap_chk;
	char setup[N_FIGS][512];
	char fig_note[N_FIGS][512]; /* "" when the figure was rendered */
	int figs_done;
};

/* ---- small helpers ---------------------------------------------------------- */

static int path2(char *buf, size_t cap, const char *a, const char *b)
{
	int w = snprintf(buf, cap, "%s/%s", a, b);
	return w > 0 && (size_t)w < cap ? 0 : JV_ELIMIT;
}

static int run_file(const struct repro *r, const char *run, const char *file, char *buf,
		    size_t cap)
{
	int w = snprintf(buf, cap, "%s/runs/%s/%s", r->dir, run, file);
	return w > 0 && (size_t)w < cap ? 0 : JV_ELIMIT;
}

static int mkdir_p(const char *dir, struct jv_diag *d)
{
	char p[REPRO_PATH_MAX];
	if (snprintf(p, sizeof p, "%s", dir) >= (int)sizeof p)
		return jv_diag_set(d, JV_ELIMIT, dir, 0, "path too long");
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0777) != 0 && errno != EEXIST)
			return jv_diag_set(d, JV_EIO, p, 0, "cannot create: %s", strerror(errno));
		*s = '/';
	}
	if (mkdir(p, 0777) != 0 && errno != EEXIST)
		return jv_diag_set(d, JV_EIO, p, 0, "cannot create: %s", strerror(errno));
	struct stat st;
	if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode))
		return jv_diag_set(d, JV_EINVAL, p, 0, "not a directory");
	return 0;
}

static void fmt_size(int64_t b, char *buf, size_t cap)
{
	if (b < 1024)
		snprintf(buf, cap, "%" PRId64 "B", b);
	else
		snprintf(buf, cap, "%" PRId64 "KiB", b / 1024);
}

/* A number for the report: 4 significant digits, "-" for NAN. */
static const char *fmt_num(double v, char *buf, size_t cap)
{
	if (isnan(v))
		snprintf(buf, cap, "-");
	else
		snprintf(buf, cap, "%.4g", v);
	return buf;
}

/* ---- checks -------------------------------------------------------------- */

static struct repro_check *chk_new(struct repro *r, int fig, const char *what, struct jv_diag *d)
{
	if (r->n_chk == r->cap_chk) {
		int nc = r->cap_chk ? 2 * r->cap_chk : 64;
		struct repro_check *c = realloc(r->chk, (size_t)nc * sizeof *c);
		if (!c) {
			jv_diag_set(d, JV_ENOMEM, NULL, 0, "out of memory");
			return NULL;
		}
		r->chk = c;
		r->cap_chk = nc;
	}
	struct repro_check *c = &r->chk[r->n_chk++];
	memset(c, 0, sizeof *c);
	c->fig = fig;
	c->paper_v = NAN;
	c->tool_v = NAN;
	snprintf(c->what, sizeof c->what, "%s", what);
	return c;
}

/* tool within [lo, hi]; paper_v NAN when the paper states no number */
static int chk_range(struct repro *r, int fig, const char *what, double paper_v,
		     const char *paper_txt, double tool, const char *unit, double lo, double hi,
		     const char *tol, struct jv_diag *d)
{
	struct repro_check *c = chk_new(r, fig, what, d);
	if (!c)
		return JV_ENOMEM;
	c->paper_v = paper_v;
	c->tool_v = tool;
	snprintf(c->paper, sizeof c->paper, "%s", paper_txt);
	snprintf(c->unit, sizeof c->unit, "%s", unit);
	snprintf(c->tol, sizeof c->tol, "%s", tol);
	c->ok = isfinite(tool) && tool >= lo && tool <= hi;
	return 0;
}

/* paper value +- abs tolerance */
static int chk_abs(struct repro *r, int fig, const char *what, double paper_v, double tool,
		   const char *unit, double tol_abs, struct jv_diag *d)
{
	char p[64], t[64];
	snprintf(p, sizeof p, "%g %s", paper_v, unit);
	snprintf(t, sizeof t, "±%g %s", tol_abs, unit);
	return chk_range(r, fig, what, paper_v, p, tool, unit, paper_v - tol_abs, paper_v + tol_abs,
			 t, d);
}

/* paper value +- relative tolerance */
static int chk_rel(struct repro *r, int fig, const char *what, double paper_v, double tool,
		   const char *unit, double tol_rel, struct jv_diag *d)
{
	char p[64], t[64];
	snprintf(p, sizeof p, "%g %s", paper_v, unit);
	snprintf(t, sizeof t, "±%g%%", 100.0 * tol_rel);
	double lo = paper_v * (1.0 - tol_rel), hi = paper_v * (1.0 + tol_rel);
	return chk_range(r, fig, what, paper_v, p, tool, unit, lo, hi, t, d);
}

static int chk_bool(struct repro *r, int fig, const char *what, const char *paper_txt, int ok,
		    const char *tool_txt, struct jv_diag *d)
{
	struct repro_check *c = chk_new(r, fig, what, d);
	if (!c)
		return JV_ENOMEM;
	snprintf(c->paper, sizeof c->paper, "%s", paper_txt);
	snprintf(c->tool_txt, sizeof c->tool_txt, "%s", tool_txt);
	snprintf(c->tol, sizeof c->tol, "holds");
	c->ok = ok;
	return 0;
}

/* ---- reading run outputs -------------------------------------------------- */

struct run_out {
	struct plot_tab sum;
	double dur_ns, dur_s;
};

static int load_summary(struct repro *r, const char *run, struct run_out *ro, struct jv_diag *d)
{
	char p[REPRO_PATH_MAX];
	memset(ro, 0, sizeof *ro);
	if (run_file(r, run, "summary.txt", p, sizeof p))
		return jv_diag_set(d, JV_ELIMIT, run, 0, "path too long");
	int rc = plot_tab_load_kv(p, &ro->sum, d);
	if (!rc)
		rc = plot_kv_num(&ro->sum, "duration_ns", &ro->dur_ns, d);
	if (!rc && ro->dur_ns <= 0)
		rc = jv_diag_set(d, JV_EPARSE, p, 0, "duration_ns: must be > 0");
	ro->dur_s = ro->dur_ns / NS_PER_S;
	return rc;
}

static int load_csv(struct repro *r, const char *run, const char *file, struct plot_tab *t,
		    struct jv_diag *d)
{
	char p[REPRO_PATH_MAX];
	memset(t, 0, sizeof *t);
	if (run_file(r, run, file, p, sizeof p))
		return jv_diag_set(d, JV_ELIMIT, run, 0, "path too long");
	return plot_tab_load_csv(p, t, d);
}

/* Mean power (J / duration) of column COL ("idle_j", "active_j" or the sum
 * "idle_j+active_j") of the matrix-like row (consumer, device, via). */
static int mx_w(const struct plot_tab *t, const char *consumer, const char *device,
		const char *via, const char *col, double dur_s, double *out, struct jv_diag *d)
{
	int cc, cd, cv, ci, ca;
	int rc = plot_tab_col(t, "consumer", &cc, d);
	if (!rc)
		rc = plot_tab_col(t, "device", &cd, d);
	if (!rc)
		rc = plot_tab_col(t, "via", &cv, d);
	if (!rc)
		rc = plot_tab_col(t, "idle_j", &ci, d);
	if (!rc)
		rc = plot_tab_col(t, "active_j", &ca, d);
	if (rc)
		return rc;
	for (size_t i = 0; i < t->n_rows; i++) {
		if (strcmp(plot_tab_cell(t, i, cc), consumer) || strcmp(plot_tab_cell(t, i, cd), device) ||
		    strcmp(plot_tab_cell(t, i, cv), via))
			continue;
		double idle = 0, active = 0;
		rc = plot_tab_num(t, i, ci, &idle, d);
		if (!rc)
			rc = plot_tab_num(t, i, ca, &active, d);
		if (rc)
			return rc;
		if (strcmp(col, "idle_j") == 0)
			*out = idle / dur_s;
		else if (strcmp(col, "active_j") == 0)
			*out = active / dur_s;
		else
			*out = (idle + active) / dur_s;
		return 0;
	}
	return jv_diag_set(d, JV_EPARSE, t->path, 0,
			   "no row consumer=%s, device=%s, via=%s", consumer, device, via);
}

/* `[section] key = value` of a run's scenario.resolved.ini */
static int ini_value(struct repro *r, const char *run, const char *section, const char *key,
		     char *out, size_t cap, struct jv_diag *d)
{
	char p[REPRO_PATH_MAX];
	if (run_file(r, run, "scenario.resolved.ini", p, sizeof p))
		return jv_diag_set(d, JV_ELIMIT, run, 0, "path too long");
	FILE *f = fopen(p, "r");
	if (!f)
		return jv_diag_set(d, JV_ENOENT, p, 0, "cannot open: %s", strerror(errno));
	char line[1024], sec[1024] = "";
	int found = 0;
	while (!found && fgets(line, sizeof line, f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '[') {
			char *end = strchr(line, ']');
			if (end) {
				*end = '\0';
				snprintf(sec, sizeof sec, "%s", line + 1);
			}
			continue;
		}
		if (strcmp(sec, section) != 0)
			continue;
		char *eq = strstr(line, " = ");
		if (!eq)
			continue;
		*eq = '\0';
		if (strcmp(line, key) == 0) {
			snprintf(out, cap, "%s", eq + 3);
			found = 1;
		}
	}
	fclose(f);
	if (!found)
		return jv_diag_set(d, JV_EPARSE, p, 0, "missing [%s] %s", section, key);
	return 0;
}

static int ini_time_ns(struct repro *r, const char *run, const char *section, const char *key,
		       int64_t *out, struct jv_diag *d)
{
	char v[256], why[UNITS_WHY_MAX];
	int rc = ini_value(r, run, section, key, v, sizeof v, d);
	if (!rc && units_parse_time_ns(v, out, why))
		rc = jv_diag_set(d, JV_EPARSE, run, 0, "[%s] %s: %s", section, key, why);
	return rc;
}

static int ini_int(struct repro *r, const char *run, const char *section, const char *key,
		   int64_t *out, struct jv_diag *d)
{
	char v[256], why[UNITS_WHY_MAX];
	int rc = ini_value(r, run, section, key, v, sizeof v, d);
	if (!rc && units_parse_int64(v, out, why))
		rc = jv_diag_set(d, JV_EPARSE, run, 0, "[%s] %s: %s", section, key, why);
	return rc;
}

/* ---- writing figure CSVs (temporary file renamed into place) ------------- */

struct csv_out {
	FILE *f;
	char tmp[REPRO_PATH_MAX];
	char path[REPRO_PATH_MAX];
};

static int csv_open(struct repro *r, int fig, struct csv_out *c, struct jv_diag *d)
{
	char name[64];
	snprintf(name, sizeof name, "%s.csv", FIG_NAME[fig]);
	if (path2(c->path, sizeof c->path, r->dir, name))
		return jv_diag_set(d, JV_ELIMIT, r->dir, 0, "path too long");
	int w = snprintf(c->tmp, sizeof c->tmp, "%s/.%s.tmp-%ld", r->dir, name, (long)getpid());
	if (w < 0 || (size_t)w >= sizeof c->tmp)
		return jv_diag_set(d, JV_ELIMIT, r->dir, 0, "path too long");
	c->f = fopen(c->tmp, "w");
	if (!c->f)
		return jv_diag_set(d, JV_EIO, c->tmp, 0, "cannot create: %s", strerror(errno));
	fprintf(c->f, "%s\n", FIG_HEADER[fig]);
	return 0;
}

static int csv_close(struct csv_out *c, int ok, struct jv_diag *d)
{
	if (!c->f)
		return 0;
	int bad = ferror(c->f);
	bad |= fclose(c->f) != 0;
	c->f = NULL;
	if (!ok || bad) {
		unlink(c->tmp);
		return ok ? jv_diag_set(d, JV_EIO, c->path, 0, "write error") : 0;
	}
	if (rename(c->tmp, c->path) != 0) {
		int e = errno;
		unlink(c->tmp);
		return jv_diag_set(d, JV_EIO, c->path, 0, "cannot rename into place: %s", strerror(e));
	}
	return 0;
}

/* "%.10g" or empty for NAN (a value that does not apply) */
static void csv_num(FILE *f, double v, int last)
{
	if (!isnan(v))
		fprintf(f, "%.10g", v);
	fputc(last ? '\n' : ',', f);
}

/* ---- planning and running ------------------------------------------------- */

static int plan_add(struct repro *r, int fig, const char *name, const char *scn, struct jv_diag *d)
{
	if (r->n_runs >= REPRO_MAX_RUNS)
		return jv_diag_set(d, JV_ELIMIT, NULL, 0, "too many runs");
	struct repro_run *rn = &r->runs[r->n_runs++];
	memset(rn, 0, sizeof *rn);
	rn->fig = fig;
	snprintf(rn->name, sizeof rn->name, "%s", name);
	if (path2(rn->scenario, sizeof rn->scenario, r->scn_dir, scn))
		return jv_diag_set(d, JV_ELIMIT, r->scn_dir, 0, "path too long");
	if (access(rn->scenario, R_OK) != 0)
		return jv_diag_set(d, JV_ENOENT, rn->scenario, 0, "cannot read the bundled scenario: %s",
				   strerror(errno));
	return 0;
}

static void plan_ov(struct repro *r, const char *key, const char *value)
{
	struct repro_run *rn = &r->runs[r->n_runs - 1];
	if (rn->n_ov >= REPRO_MAX_OV)
		return; /* the plan below never gets there */
	snprintf(rn->ovk[rn->n_ov], REPRO_OV_LEN, "%s", key);
	snprintf(rn->ovv[rn->n_ov], REPRO_OV_LEN, "%s", value);
	rn->n_ov++;
}

static int plan(struct repro *r, unsigned figs, struct jv_diag *d)
{
	int q = r->o->quick, rc = 0;
	if (figs & REPRO_FIG5)
		rc = plan_add(r, FIG5, "fig5-matrix", "fig5.ini", d);
	for (int k = 0; !rc && (figs & REPRO_FIG7) && k < FIG7_N_BS; k++) {
		char sz[32], name[48], val[48];
		fmt_size((int64_t)FIG7_BS_MIN_B << k, sz, sizeof sz);
		snprintf(name, sizeof name, "fig7-%s", sz);
		snprintf(val, sizeof val, "%" PRId64 "B", (int64_t)FIG7_BS_MIN_B << k);
		rc = plan_add(r, FIG7, name, "fig7.ini", d);
		if (!rc) {
			plan_ov(r, "vm." FIG7_CLIENT ".block_size", val);
			if (q)
				plan_ov(r, "global.duration", QUICK_FIG7_DURATION);
		}
	}
	if (!rc && (figs & REPRO_FIG8)) {
		rc = plan_add(r, FIG8, "fig8-limits", "fig8.ini", d);
		if (!rc && q) {
			plan_ov(r, "global.duration", QUICK_FIG8_DURATION);
			plan_ov(r, "vm.client1.limit_from", QUICK_FIG8_LIMIT_FROM);
			plan_ov(r, "vm.client2.limit_from", QUICK_FIG8_LIMIT_FROM);
		}
	}
	if (!rc && (figs & REPRO_FIG9)) {
		rc = plan_add(r, FIG9, "fig9-unaware", "fig9-unaware.ini", d);
		if (!rc && q)
			plan_ov(r, "global.duration", QUICK_FIG9_DURATION);
		if (!rc)
			rc = plan_add(r, FIG9, "fig9-aware", "fig9-aware.ini", d);
		if (!rc && q)
			plan_ov(r, "global.duration", QUICK_FIG9_DURATION);
	}
	return rc;
}

/* The worker: one run through run_main, its messages into the run's log. */
static void child_run(struct repro *r, struct repro_run *rn)
{
	char rundir[REPRO_PATH_MAX], log[REPRO_PATH_MAX], cmd[4096];
	struct scn_override ov[REPRO_MAX_OV];
	snprintf(rundir, sizeof rundir, "%s/runs/%s", r->dir, rn->name);
	snprintf(log, sizeof log, "%s/runs/%s.log", r->dir, rn->name);
	int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0666);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		close(fd);
	}
	int n = snprintf(cmd, sizeof cmd, "joulevisor run %s -o %s --force -q", rn->scenario, rundir);
	for (int i = 0; i < rn->n_ov; i++) {
		ov[i].key = rn->ovk[i];
		ov[i].value = rn->ovv[i];
		if (n > 0 && (size_t)n < sizeof cmd)
			n += snprintf(cmd + n, sizeof cmd - (size_t)n, " --set %s=%s", rn->ovk[i],
				      rn->ovv[i]);
	}
	struct run_opts o = {
		.scenario = rn->scenario,
		.out_dir = rundir,
		.force = 1,
		.quiet = 1,
		.ov = ov,
		.n_ov = rn->n_ov,
		.command_line = cmd,
	};
	int rc = run_main(&o, stdout, stderr);
	fflush(stdout);
	fflush(stderr);
	_exit(rc);
}

static int spawn(struct repro *r, struct repro_run *rn, struct jv_diag *d)
{
	fflush(r->out);
	fflush(r->err);
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0)
		return jv_diag_set(d, JV_EIO, rn->name, 0, "cannot start a worker: %s", strerror(errno));
	if (pid == 0)
		child_run(r, rn);
	rn->pid = pid;
	return 0;
}

/* After a run: its simulated time (progress) and its log (removed when empty). */
static void run_done(struct repro *r, struct repro_run *rn)
{
	char log[REPRO_PATH_MAX];
	snprintf(log, sizeof log, "%s/runs/%s.log", r->dir, rn->name);
	struct stat st;
	if (rn->exit_code == 0 && stat(log, &st) == 0 && st.st_size == 0)
		unlink(log);
	if (rn->exit_code == 0) {
		struct run_out ro;
		struct jv_diag d;
		jv_diag_clear(&d);
		if (load_summary(r, rn->name, &ro, &d) == 0)
			rn->sim_s = ro.dur_s;
		plot_tab_free(&ro.sum);
	}
}

static void report_failed_run(struct repro *r, const struct repro_run *rn)
{
	char log[REPRO_PATH_MAX], text[REPRO_LOG_QUOTE_MAX];
	snprintf(log, sizeof log, "%s/runs/%s.log", r->dir, rn->name);
	size_t n = 0;
	FILE *f = fopen(log, "r");
	if (f) {
		n = fread(text, 1, sizeof text - 1, f);
		fclose(f);
	}
	text[n] = '\0';
	while (n && text[n - 1] == '\n')
		text[--n] = '\0';
	if (rn->exit_code >= 0)
		fprintf(r->err, "joulevisor: reproduce: run %s failed (exit %d; log %s)%s%s\n", rn->name,
			rn->exit_code, log, n ? ":\n" : "", text);
	else
		fprintf(r->err, "joulevisor: reproduce: run %s was killed by signal %d (log %s)%s%s\n",
			rn->name, -rn->exit_code, log, n ? ":\n" : "", text);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int run_all(struct repro *r, int jobs, struct jv_diag *d)
{
	int next = 0, running = 0, done = 0, failed = 0, rc = 0;
	double t0 = now_s(), sim = 0;
	if (r->progress)
		fprintf(r->err, "reproduce: %d runs, %d workers, into %s/runs\n", r->n_runs, jobs, r->dir);
	while (done < r->n_runs) {
		while (!rc && running < jobs && next < r->n_runs) {
			rc = spawn(r, &r->runs[next], d);
			if (rc)
				break;
			if (r->progress) {
				char msg[2 * REPRO_PROGRESS_W + 64];
				snprintf(msg, sizeof msg, "reproduce: [%d/%d] started %s", done, r->n_runs,
					 r->runs[next].name);
				fprintf(r->err, "\r%-*s", REPRO_PROGRESS_W, msg);
			}
			next++;
			running++;
		}
		if (running == 0)
			break;
		int st = 0;
		pid_t pid = waitpid(-1, &st, 0);
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			rc = jv_diag_set(d, JV_EIO, NULL, 0, "waiting for the workers: %s", strerror(errno));
			break;
		}
		struct repro_run *rn = NULL;
		for (int i = 0; i < r->n_runs; i++)
			if (r->runs[i].pid == pid && !r->runs[i].done)
				rn = &r->runs[i];
		if (!rn)
			continue; /* not one of ours */
		running--;
		done++;
		rn->done = 1;
		rn->exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
		run_done(r, rn);
		if (rn->exit_code != 0)
			failed++;
		sim += rn->sim_s;
		if (r->progress) {
			double dt = now_s() - t0;
			char msg[2 * REPRO_PROGRESS_W + 64];
			snprintf(msg, sizeof msg, "reproduce: [%d/%d] done %s, %.0f s simulated, %.0f s/s",
				 done, r->n_runs, rn->name, sim, dt > 0 ? sim / dt : 0.0);
			fprintf(r->err, "\r%-*s", REPRO_PROGRESS_W, msg);
		}
	}
	if (r->progress)
		fputc('\n', r->err);
	for (int i = 0; i < r->n_runs; i++)
		if (r->runs[i].done && r->runs[i].exit_code != 0)
			report_failed_run(r, &r->runs[i]);
	if (!rc && failed)
		rc = jv_diag_set(d, JV_EINVARIANT, NULL, 0, "%d of %d runs failed", failed, r->n_runs);
	return rc;
}

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

static int build_fig5(struct repro *r, struct jv_diag *d)
{
	const char *run = "fig5-matrix";
	struct run_out ro;
	struct plot_tab mx = {0};
	struct csv_out c = {0};
	int rc = load_summary(r, run, &ro, d);
	if (!rc)
		rc = load_csv(r, run, "matrix.csv", &mx, d);
	if (!rc)
		rc = csv_open(r, FIG5, &c, d);
	for (size_t i = 0; !rc && i < sizeof FIG5_CELLS / sizeof FIG5_CELLS[0]; i++) {
		const struct fig5_cell *fc = &FIG5_CELLS[i];
		double idle = 0, active = 0;
		rc = mx_w(&mx, fc->consumer, fc->device, FIG5_DRIVER, "idle_j", ro.dur_s, &idle, d);
		if (!rc)
			rc = mx_w(&mx, fc->consumer, fc->device, FIG5_DRIVER, "active_j", ro.dur_s,
				  &active, d);
		if (rc)
			break;
		fprintf(c.f, "driver,%s,%s,", fc->consumer, fc->device);
		csv_num(c.f, idle, 0);
		csv_num(c.f, active, 1);
		const char *dev = strncmp(fc->device, "disk", 4) == 0 ? "disk" : "CPU (driver VM)";
		char what[160];
		snprintf(what, sizeof what, "%s, %s, idle", fc->consumer, dev);
		rc = chk_abs(r, FIG5, what, fc->paper_idle_w, idle, "W", TOL_FIG5_W, d);
		snprintf(what, sizeof what, "%s, %s, active", fc->consumer, dev);
		if (!rc)
			rc = chk_abs(r, FIG5, what, fc->paper_active_w, active, "W", TOL_FIG5_W, d);
	}
	double hi = 0, ha = 0;
	if (!rc)
		rc = plot_kv_num(&ro.sum, "vm_" FIG5_DRIVER "_hypervisor_view_cpu_idle_w", &hi, d);
	if (!rc)
		rc = plot_kv_num(&ro.sum, "vm_" FIG5_DRIVER "_hypervisor_view_cpu_active_w", &ha, d);
	if (!rc) {
		fprintf(c.f, "hypervisor,%s,cpu0,", FIG5_DRIVER);
		csv_num(c.f, hi, 0);
		csv_num(c.f, ha, 1);
		rc = chk_abs(r, FIG5, "hypervisor's view of the driver VM's CPU, idle", FIG5_HYP_IDLE_W,
			     hi, "W", TOL_FIG5_W, d);
	}
	if (!rc)
		rc = chk_abs(r, FIG5, "hypervisor's view of the driver VM's CPU, active",
			     FIG5_HYP_ACTIVE_W, ha, "W", TOL_FIG5_W, d);
	if (!rc)
		snprintf(r->setup[FIG5], sizeof r->setup[FIG5],
			 "Run `%s` (scenarios/fig5.ini): %g s, the illustration's own machine.", run,
			 ro.dur_s);
	int rc2 = csv_close(&c, rc == 0, d);
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
	int rc = load_summary(r, run, &ro, d);
	if (!rc)
		rc = load_csv(r, run, "matrix.csv", &mx, d);
	if (!rc)
		rc = mx_w(&mx, "hypervisor", "cpu0", "direct", "idle_j+active_j", ro.dur_s, &w->base, d);
	if (!rc)
		rc = mx_w(&mx, FIG7_CLIENT, "cpu0", "direct", "active_j", ro.dur_s, &w->client_active, d);
	if (!rc)
		rc = mx_w(&mx, FIG7_CLIENT, "cpu0", FIG7_DRIVER, "idle_j", ro.dur_s, &w->drv_idle, d);
	if (!rc)
		rc = mx_w(&mx, FIG7_CLIENT, "cpu0", FIG7_DRIVER, "active_j", ro.dur_s, &w->drv_active, d);
	if (!rc)
		rc = mx_w(&mx, FIG7_CLIENT, "disk0", FIG7_DRIVER, "idle_j", ro.dur_s, &w->disk_idle, d);
	if (!rc)
		rc = mx_w(&mx, FIG7_CLIENT, "disk0", FIG7_DRIVER, "active_j", ro.dur_s, &w->disk_active,
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
		fmt_size(w->bs, sz, sizeof sz);
		snprintf(what, sizeof what, "%s: base CPU power (hypervisor and VMM)", sz);
		rc = chk_abs(r, FIG7, what, PAPER_BASE_CPU_W, w->base, "W", TOL_BASE_CPU_W, d);
		snprintf(what, sizeof what, "%s: driver VM's idle CPU power, charged to the client", sz);
		if (!rc)
			rc = chk_abs(r, FIG7, what, PAPER_DRV_IDLE_CPU_W, w->drv_idle, "W",
				     TOL_DRV_IDLE_CPU_W, d);
		snprintf(what, sizeof what, "%s: disk idle power, charged to the client", sz);
		if (!rc)
			rc = chk_abs(r, FIG7, what, PAPER_DISK_IDLE_W, w->disk_idle, "W", TOL_DISK_IDLE_W,
				     d);
		snprintf(what, sizeof what, "%s: disk active power (disk saturated)", sz);
		if (!rc)
			rc = chk_abs(r, FIG7, what, PAPER_DISK_ACTIVE_W, w->disk_active, "W",
				     TOL_DISK_ACTIVE_W, d);
		snprintf(what, sizeof what, "%s: client's active CPU below the driver's", sz);
		snprintf(t1, sizeof t1, "%.3g W < %.3g W", w->client_active, w->drv_active);
		if (!rc)
			rc = chk_bool(r, FIG7, what, "below", w->client_active < w->drv_active, t1, d);
		if (i > 0 && !(w->drv_active < rows[i - 1].drv_active))
			mono = 0;
	}
	if (rc || n == 0)
		return rc;
	if (rows[0].bs == FIG7_BS_MIN_B) {
		snprintf(t2, sizeof t2, "%g-%g W", DRV_ACTIVE_SMALL_LO_W, DRV_ACTIVE_SMALL_HI_W);
		rc = chk_range(r, FIG7, "512B: driver VM's active CPU power", PAPER_DRV_ACTIVE_SMALL_W,
			       "about 9 W", rows[0].drv_active, "W", DRV_ACTIVE_SMALL_LO_W,
			       DRV_ACTIVE_SMALL_HI_W, t2, d);
		snprintf(t1, sizeof t1, "%.3g W > %.3g W", rows[0].drv_active, rows[0].disk_active);
		if (!rc)
			rc = chk_bool(r, FIG7, "512B: driver's CPU cost above the disk's active power",
				      "may exceed", rows[0].drv_active > rows[0].disk_active, t1, d);
	}
	if (!rc && rows[n - 1].bs == (int64_t)FIG7_BS_MIN_B << (FIG7_N_BS - 1)) {
		snprintf(t2, sizeof t2, "%g-%g W", DRV_ACTIVE_LARGE_LO_W, DRV_ACTIVE_LARGE_HI_W);
		rc = chk_range(r, FIG7, "32KiB: driver VM's active CPU power", PAPER_DRV_ACTIVE_LARGE_W,
			       "about 1 W", rows[n - 1].drv_active, "W", DRV_ACTIVE_LARGE_LO_W,
			       DRV_ACTIVE_LARGE_HI_W, t2, d);
	}
	if (!rc) {
		snprintf(t1, sizeof t1, "%s (%.3g W to %.3g W)", mono ? "yes" : "no",
			 rows[0].drv_active, rows[n - 1].drv_active);
		rc = chk_bool(r, FIG7, "driver VM's active CPU power falls with block size",
			      "falls monotonically", mono, t1, d);
	}
	return rc;
}

static int build_fig7(struct repro *r, struct jv_diag *d)
{
	struct fig7_row rows[FIG7_N_BS];
	struct csv_out c = {0};
	int rc = csv_open(r, FIG7, &c, d), n = 0;
	for (int k = 0; !rc && k < FIG7_N_BS; k++) {
		char sz[32], run[48];
		struct fig7_row *w = &rows[n];
		memset(w, 0, sizeof *w);
		w->bs = (int64_t)FIG7_BS_MIN_B << k;
		fmt_size(w->bs, sz, sizeof sz);
		snprintf(run, sizeof run, "fig7-%s", sz);
		rc = fig7_read(r, run, w, d);
		if (rc)
			break;
		fprintf(c.f, "%" PRId64 ",", w->bs);
		csv_num(c.f, w->base, 0);
		csv_num(c.f, w->client_active, 0);
		csv_num(c.f, w->drv_idle, 0);
		csv_num(c.f, w->drv_active, 0);
		csv_num(c.f, w->disk_idle, 0);
		csv_num(c.f, w->disk_active, 0);
		csv_num(c.f, w->true_cpu, 0);
		csv_num(c.f, w->true_disk, 1);
		n++;
	}
	if (!rc)
		rc = fig7_checks(r, rows, n, d);
	int rc2 = csv_close(&c, rc == 0, d);
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
		rc = chk_rel(r, FIG8, what, LIM[k].paper_limit_w, p, "W", TOL_FIG8_REL, d);
		if (steady_from >= 0)
			tp_after[k] = fig8_mean(vms[v].bytes, n_bins, dur_ns, steady_from);
		if (on >= 0)
			tp_before[k] = fig8_mean_before(vms[v].bytes, n_bins, dur_ns, on);
	}
	if (!rc)
		rc = chk_range(r, FIG8, "throughput client1 : client2 before the limits", NAN,
			       "equal (same workload)", tp_before[0] / tp_before[1], "", EQUAL_LO,
			       EQUAL_HI, "0.9-1.1", d);
	if (!rc)
		rc = chk_range(r, FIG8, "throughput client1 : client2 under the limits (steady state)",
			       2.0, "not stated; model: about 2", tp_after[0] / tp_after[1], "",
			       FIG8_RATIO_LO, FIG8_RATIO_HI, "1.6-2.4", d);
	return rc;
}

static int build_fig8(struct repro *r, struct jv_diag *d)
{
	const char *run = "fig8-limits";
	struct run_out ro;
	struct plot_tab series = {0}, tp = {0};
	struct fig8_vm vms[REPRO_MAX_VMS];
	struct csv_out c = {0};
	int n_vms = 0, n_bins = 0;
	memset(vms, 0, sizeof vms);
	int rc = load_summary(r, run, &ro, d);
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
		rc = load_csv(r, run, "series.csv", &series, d);
	if (!rc)
		rc = load_csv(r, run, "throughput.csv", &tp, d);
	if (!rc)
		rc = fig8_bin(&series, "active_j", 1, vms, n_vms, n_bins, 0, d);
	if (!rc)
		rc = fig8_bin(&tp, "transferred_b", 0, vms, n_vms, n_bins, 1, d);
	if (!rc)
		rc = csv_open(r, FIG8, &c, d);
	for (int i = 0; !rc && i < n_vms; i++)
		for (int b = 0; b < n_bins; b++) {
			double len = bin_len_s(ro.dur_ns, b);
			int in_force = vms[i].on_ns >= 0 && (double)b * (double)BIN_NS >= vms[i].on_ns;
			fprintf(c.f, "%d,%s,", b, vms[i].name);
			csv_num(c.f, vms[i].drv_j[b] / len, 0);
			csv_num(c.f, in_force ? vms[i].limit_w : 0.0, 0);
			csv_num(c.f, vms[i].bytes[b] / len, 1);
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
	int rc2 = csv_close(&c, rc == 0, d);
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
	int rc = load_summary(r, run, &ro, d);
	if (!rc)
		rc = load_csv(r, run, "matrix.csv", &mx, d);
	if (!rc)
		rc = load_csv(r, run, "truth.csv", &tr, d);
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
		rc = mx_w(&tr, FIG9_VM, "cpu0", "direct", "active_j", ro.dur_s, &g->vm_true_w, d);
	if (!rc)
		rc = mx_w(&mx, FIG9_VM, "cpu0", "direct", "active_j", ro.dur_s, &g->vm_host_w, d);
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
	int rc = chk_range(r, FIG9, "bzip2 alone, unconstrained: active CPU power", NAN,
			   "over 50 W", un->mean_before_w, "W", PAPER_FIG9_ALONE_MIN_W, INFINITY, t, d);
	if (!rc)
		rc = chk_rel(r, FIG9, "unaware guest: VM's active CPU power under the host's limit",
			     PAPER_FIG9_VM_W, un->mean_after_w, "W", TOL_FIG9_UNAWARE_REL, d);
	if (!rc)
		rc = chk_range(r, FIG9, "unaware guest: throughput bzip2-a : bzip2-b", NAN,
			       "equal loss", ua->rel / ub->rel, "", EQUAL_LO, EQUAL_HI, "0.9-1.1", d);
	if (!rc)
		rc = chk_rel(r, FIG9, "aware guest: bzip2-a true active CPU power (budget 10 W)", 10.0,
			     aa->true_w, "W", TOL_FIG9_AWARE_REL, d);
	if (!rc)
		rc = chk_rel(r, FIG9, "aware guest: bzip2-b true active CPU power (budget 30 W)", 30.0,
			     ab->true_w, "W", TOL_FIG9_AWARE_REL, d);
	if (!rc)
		rc = chk_rel(r, FIG9, "aware guest: VM's active CPU power under the host's limit",
			     PAPER_FIG9_VM_W, aw->mean_after_w, "W", TOL_FIG9_AWARE_REL, d);
	if (!rc)
		rc = chk_range(r, FIG9, "aware guest: throughput bzip2-b : bzip2-a", 3.0,
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
		rc = chk_range(r, FIG9, what, NAN, "slightly above", 100.0 * rel, "%", 1e-12,
			       100.0 * FIG9_VIEW_ABOVE_MAX_REL, tol, d);
	}
	return rc;
}

static void fig9_rows(FILE *f, const char *guest, const struct fig9_guest *g)
{
	for (int i = 0; i < g->n_app; i++) {
		fprintf(f, "%s,%s,", guest, g->app[i].name);
		csv_num(f, g->app[i].true_w, 0);
		csv_num(f, g->app[i].view_w, 0);
		csv_num(f, NAN, 0);
		csv_num(f, g->app[i].rel, 1);
	}
	fprintf(f, "%s,vm,", guest);
	csv_num(f, g->vm_true_w, 0);
	csv_num(f, NAN, 0);
	csv_num(f, g->vm_host_w, 0);
	csv_num(f, g->vm_rel, 1);
}

static int build_fig9(struct repro *r, struct jv_diag *d)
{
	struct fig9_guest un, aw;
	struct csv_out c = {0};
	int rc = fig9_read(r, "fig9-unaware", 0, &un, d);
	if (!rc)
		rc = fig9_read(r, "fig9-aware", 1, &aw, d);
	if (!rc)
		rc = csv_open(r, FIG9, &c, d);
	if (!rc) {
		fig9_rows(c.f, "unaware", &un);
		fig9_rows(c.f, "aware", &aw);
		rc = fig9_checks(r, &un, &aw, d);
	}
	int rc2 = csv_close(&c, rc == 0, d);
	return rc ? rc : rc2;
}

/* ---- the manager periods as configured ------------------------------------ */

static int chk_period(struct repro *r, int fig, const char *run, const char *section,
		      const char *key, double paper_ms, const char *what, struct jv_diag *d)
{
	int64_t ns = 0;
	int rc = ini_time_ns(r, run, section, key, &ns, d);
	char p[64];
	snprintf(p, sizeof p, "%g ms", paper_ms);
	if (!rc)
		rc = chk_range(r, fig, what, paper_ms, p, (double)ns / 1e6, "ms", paper_ms, paper_ms,
			       "as configured", d);
	return rc;
}

static int chk_window(struct repro *r, int fig, const char *run, const char *section,
		      const char *key, double paper_n, const char *what, struct jv_diag *d)
{
	int64_t n = 0;
	int rc = ini_int(r, run, section, key, &n, d);
	char p[64];
	snprintf(p, sizeof p, "%g requests", paper_n);
	if (!rc)
		rc = chk_range(r, fig, what, paper_n, p, (double)n, "requests", paper_n, paper_n,
			       "as configured", d);
	return rc;
}

static int periods(struct repro *r, unsigned figs, struct jv_diag *d)
{
	int rc = 0;
	const char *r7 = "fig7-4KiB";
	if (figs & REPRO_FIG7) {
		rc = chk_period(r, FIG7, r7, "cpu", "read_period", 20,
				"energy manager reads the PMC log every (§3.3.1, §4)", d);
		if (!rc)
			rc = chk_period(r, FIG7, r7, "disk", "idle_period", 50,
					"disk idle energy charged every (§3.3.2)", d);
		if (!rc)
			rc = chk_window(r, FIG7, r7, "disk", "rate_window", 50,
					"disk transfer rate recomputed every (§3.2.2)", d);
		if (!rc)
			rc = chk_window(r, FIG7, r7, "vm " FIG7_DRIVER, "predict_window", 50,
					"driver's CPU cost per request re-estimated every (§3.3.3)", d);
	}
	if (!rc && (figs & REPRO_FIG8))
		rc = chk_period(r, FIG8, "fig8-limits", "manager", "disk_period", 200,
				"host manager's disk loop period (§3.3.6)", d);
	if (!rc && (figs & REPRO_FIG9))
		rc = chk_period(r, FIG9, "fig9-aware", "manager", "cpu_period", 100,
				"host manager's CPU loop period (§3.3.6)", d);
	if (!rc && (figs & REPRO_FIG9))
		rc = chk_period(r, FIG9, "fig9-aware", "vm " FIG9_VM, "guest_period", 50,
				"guest's container budget period (§3.4)", d);
	return rc;
}

/* ---- figures and report --------------------------------------------------- */

static int render(struct repro *r, unsigned figs, const struct plot_env *env, struct jv_diag *d)
{
	for (int f = 0; f < N_FIGS; f++) {
		if (!(figs & (1u << f)))
			continue;
		if (env->why[0]) {
			snprintf(r->fig_note[f], sizeof r->fig_note[f], "figure skipped: %.400s", env->why);
			continue;
		}
		char tmpl[32], csv[64], in[REPRO_PATH_MAX], base[REPRO_PATH_MAX], vars[256] = "";
		snprintf(tmpl, sizeof tmpl, "%s.gp", FIG_NAME[f]);
		snprintf(csv, sizeof csv, "%s.csv", FIG_NAME[f]);
		if (path2(in, sizeof in, r->dir, csv) || path2(base, sizeof base, r->dir, FIG_NAME[f]))
			return jv_diag_set(d, JV_ELIMIT, r->dir, 0, "path too long");
		if (f == FIG8)
			snprintf(vars, sizeof vars, "vms='client1 client2'");
		int rc = plot_render(env, tmpl, in, vars, base, d);
		if (rc)
			return rc;
		fprintf(r->out, "%s.png %s.svg\n", base, base);
		r->figs_done++;
	}
	return 0;
}

static void md_escape_pipe(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			fputc('\\', f);
		fputc(*s, f);
	}
}

static void write_check_row(FILE *f, const struct repro_check *c)
{
	char tool[160], diff[64], b[64];
	if (!isnan(c->tool_v))
		snprintf(tool, sizeof tool, "%s%s%s", fmt_num(c->tool_v, b, sizeof b),
			 c->unit[0] ? " " : "", c->unit);
	else if (c->tool_txt[0])
		snprintf(tool, sizeof tool, "%s", c->tool_txt);
	else
		snprintf(tool, sizeof tool, "missing");
	if (!isnan(c->paper_v) && !isnan(c->tool_v))
		snprintf(diff, sizeof diff, "%+.3g%s%s", c->tool_v - c->paper_v, c->unit[0] ? " " : "",
			 c->unit);
	else
		snprintf(diff, sizeof diff, "-");
	fputs("| ", f);
	md_escape_pipe(f, c->what);
	fputs(" | ", f);
	md_escape_pipe(f, c->paper);
	fprintf(f, " | %s | %s | %s | %s |\n", tool, diff, c->tol, c->ok ? "yes" : "**NO**");
}

static int write_report(struct repro *r, unsigned figs, int n_bad, struct jv_diag *d)
{
	char path[REPRO_PATH_MAX], tmp[REPRO_PATH_MAX];
	if (path2(path, sizeof path, r->dir, "report.md"))
		return jv_diag_set(d, JV_ELIMIT, r->dir, 0, "path too long");
	snprintf(tmp, sizeof tmp, "%s/.report.md.tmp-%ld", r->dir, (long)getpid());
	FILE *f = fopen(tmp, "w");
	if (!f)
		return jv_diag_set(d, JV_EIO, tmp, 0, "cannot create: %s", strerror(errno));
	fprintf(f,
		"# joulevisor reproduces Stoess, Lang, Bellosa (USENIX ATC 2007)\n\n"
		"joulevisor %s, `joulevisor reproduce%s%s%s%s%s`%s.\n\n"
		"**%d of %d checks within tolerance.** Each row: the paper's number (paper.md "
		"§3-§8), the tool's, the difference (tool − paper) and the tolerance asserted. Where "
		"the paper states no number the row says what the paper says or what its model "
		"implies. The runs are in `runs/`, the figures' data in `figN.csv` (columns in "
		"docs/FORMATS.md).\n",
		JV_VERSION, (figs & REPRO_FIG5) && figs != REPRO_ALL ? " fig5" : "",
		(figs & REPRO_FIG7) && figs != REPRO_ALL ? " fig7" : "",
		(figs & REPRO_FIG8) && figs != REPRO_ALL ? " fig8" : "",
		(figs & REPRO_FIG9) && figs != REPRO_ALL ? " fig9" : "", figs == REPRO_ALL ? " all" : "",
		r->o->quick ? " with `--quick` (shortened runs, same checks)" : " (full durations)",
		r->n_chk - n_bad, r->n_chk);
	for (int fig = 0; fig < N_FIGS; fig++) {
		if (!(figs & (1u << fig)))
			continue;
		fprintf(f, "\n## %s\n\n", FIG_TITLE[fig]);
		if (r->fig_note[fig][0])
			fprintf(f, "(%s)\n\n", r->fig_note[fig]);
		else
			fprintf(f, "![%s](%s.png)\n\n", FIG_TITLE[fig], FIG_NAME[fig]);
		if (r->setup[fig][0])
			fprintf(f, "%s Data: [%s.csv](%s.csv).\n\n", r->setup[fig], FIG_NAME[fig],
				FIG_NAME[fig]);
		fputs("| quantity | paper | joulevisor | difference | tolerance | within |\n"
		      "|---|---|---|---|---|---|\n",
		      f);
		for (int i = 0; i < r->n_chk; i++)
			if (r->chk[i].fig == fig)
				write_check_row(f, &r->chk[i]);
	}
	int bad = ferror(f);
	bad |= fclose(f) != 0;
	if (bad || rename(tmp, path) != 0) {
		unlink(tmp);
		return jv_diag_set(d, JV_EIO, path, 0, "cannot write: %s", strerror(errno));
	}
	return 0;
}

/* ---- main ------------------------------------------------------------------ */

static int find_scenarios(struct repro *r, struct jv_diag *d)
{
	if (r->o->scenario_dir) {
		snprintf(r->scn_dir, sizeof r->scn_dir, "%s", r->o->scenario_dir);
		return 0;
	}
	if (plot_data_dir("scenarios", "fig5.ini", r->scn_dir, sizeof r->scn_dir) == 0)
		return 0;
	return jv_diag_set(d, JV_ENOENT, NULL, 0,
			   "the bundled scenarios were found neither in %s/scenarios nor in "
			   "share/joulevisor/scenarios beside the executable (use --scenarios DIR)",
			   JV_SOURCE_DIR);
}

static int build_all(struct repro *r, unsigned figs, struct jv_diag *d)
{
	static int (*const BUILD[N_FIGS])(struct repro *, struct jv_diag *) = {
		build_fig5, build_fig7, build_fig8, build_fig9};
	for (int f = 0; f < N_FIGS; f++) {
		if (!(figs & (1u << f)))
			continue;
		int rc = BUILD[f](r, d);
		if (rc)
			return rc;
		fprintf(r->out, "%s/%s.csv\n", r->dir, FIG_NAME[f]);
	}
	return periods(r, figs, d);
}

int repro_main(const struct repro_opts *o, FILE *out, FILE *err)
{
	struct repro *r = calloc(1, sizeof *r);
	struct jv_diag d;
	jv_diag_clear(&d);
	if (!r) {
		fprintf(err, "joulevisor: reproduce: out of memory\n");
		return 1;
	}
	unsigned figs = o->figs ? o->figs : REPRO_ALL;
	r->o = o;
	r->out = out;
	r->err = err;
	r->dir = o->out_dir ? o->out_dir : REPRO_DEFAULT_OUT;
	r->progress = o->progress < 0 ? isatty(fileno(err)) : o->progress;
	int jobs = o->jobs;
	if (jobs <= 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		jobs = n > 0 ? (int)n : 1;
	}
	int rc = find_scenarios(r, &d);
	if (!rc)
		rc = plan(r, figs, &d);
	char runs[REPRO_PATH_MAX];
	if (!rc && path2(runs, sizeof runs, r->dir, "runs"))
		rc = jv_diag_set(&d, JV_ELIMIT, r->dir, 0, "path too long");
	if (!rc)
		rc = mkdir_p(runs, &d);
	if (!rc && !o->no_run)
		rc = run_all(r, jobs, &d);
	if (!rc)
		rc = build_all(r, figs, &d);
	struct plot_env env;
	plot_env_init(&env);
	if (!rc)
		rc = render(r, figs, &env, &d);
	int n_bad = 0;
	for (int i = 0; i < r->n_chk; i++)
		n_bad += !r->chk[i].ok;
	if (!rc)
		rc = write_report(r, figs, n_bad, &d);
	int code = 0;
	if (rc) {
		fprintf(err, "joulevisor: reproduce: %s\n", d.msg);
		code = rc == JV_EINVARIANT || rc == JV_EIO || rc == JV_ENOMEM ? 1 : jv_exit_code(rc);
		goto done;
	}
	if (env.why[0])
		fprintf(err, "joulevisor: reproduce: figures skipped: %s; the CSV files and the "
			     "report were written\n",
			env.why);
	fprintf(out, "%s/report.md: %d of %d checks within tolerance\n", r->dir, r->n_chk - n_bad,
		r->n_chk);
	for (int i = 0; i < r->n_chk; i++) {
		const struct repro_check *c = &r->chk[i];
		if (c->ok)
			continue;
		char b[64];
		fprintf(err, "joulevisor: reproduce: out of tolerance: %s: %s: %s%s%s (paper %s, tolerance %s)\n",
			FIG_NAME[c->fig], c->what,
			isnan(c->tool_v) ? c->tool_txt : fmt_num(c->tool_v, b, sizeof b),
			isnan(c->tool_v) || !c->unit[0] ? "" : " ", isnan(c->tool_v) ? "" : c->unit,
			c->paper, c->tol);
	}
	code = n_bad ? 1 : 0;
done:
	free(r->chk);
	free(r);
	return code;
}

static void repro_usage(FILE *f)
{
	fputs("usage: joulevisor reproduce [fig5|fig7|fig8|fig9|all]... [-o DIR] [-j N] [--quick]\n"
	      "                            [--no-run] [--scenarios DIR]\n"
	      "\n"
	      "Run the bundled scenarios of the paper's figures (Stoess, Lang, Bellosa, USENIX\n"
	      "ATC 2007), write DIR/figN.csv, render DIR/figN.png and .svg with gnuplot and\n"
	      "write DIR/report.md: every number the paper states against the tool's.\n"
	      "\n"
	      "  fig5|fig7|fig8|fig9|all  figures to reproduce (default all)\n"
	      "  -o, --output DIR  output directory (default " REPRO_DEFAULT_OUT "); runs go to\n"
	      "                    DIR/runs/<figN>-<variant>/\n"
	      "  -j, --jobs N      runs in parallel (default: the number of CPUs)\n"
	      "  --quick           shorter runs, same checks (for tests)\n"
	      "  --no-run          rebuild figures and report from the runs in DIR/runs\n"
	      "  --scenarios DIR   take the scenarios from DIR instead of the bundled ones\n"
	      "\n"
	      "Exit: 0 every check within tolerance; 1 a run failed or a check is out of\n"
	      "tolerance (the failing rows are printed); 2 usage error. Without gnuplot the\n"
	      "CSV files and the report are still written and the figures skipped.\n",
	      f);
}

int repro_cli(int argc, char **argv, FILE *out, FILE *err)
{
	struct repro_opts o = {.progress = -1};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *val = NULL;
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			repro_usage(out);
			return 0;
		}
		if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0 || strcmp(a, "-j") == 0 ||
		    strcmp(a, "--jobs") == 0 || strcmp(a, "--scenarios") == 0) {
			if (i + 1 >= argc) {
				fprintf(err, "joulevisor: reproduce: option %s needs a value\n", a);
				return 2;
			}
			val = argv[++i];
		} else if (strncmp(a, "--output=", 9) == 0 || strncmp(a, "--jobs=", 7) == 0 ||
			   strncmp(a, "--scenarios=", 12) == 0) {
			val = strchr(a, '=') + 1;
		} else if (strncmp(a, "-j", 2) == 0 && a[2]) {
			val = a + 2;
		}
		if (val && (a[1] == 'o' || strncmp(a, "--output", 8) == 0)) {
			o.out_dir = val;
		} else if (val && (a[1] == 'j' || strncmp(a, "--jobs", 6) == 0)) {
			int64_t n = 0;
			if (units_parse_int64(val, &n, NULL) || n < 1 || n > 1024) {
				fprintf(err, "joulevisor: reproduce: %s: expected a number of jobs 1..1024, got '%s'\n",
					a, val);
				return 2;
			}
			o.jobs = (int)n;
		} else if (val) {
			o.scenario_dir = val;
		} else if (strcmp(a, "--quick") == 0) {
			o.quick = 1;
		} else if (strcmp(a, "--no-run") == 0) {
			o.no_run = 1;
		} else if (a[0] == '-' && a[1] != '\0') {
			fprintf(err, "joulevisor: reproduce: unknown option '%s' (see `joulevisor reproduce --help`)\n",
				a);
			return 2;
		} else if (strcmp(a, "all") == 0) {
			o.figs |= REPRO_ALL;
		} else if (strcmp(a, "fig5") == 0) {
			o.figs |= REPRO_FIG5;
		} else if (strcmp(a, "fig7") == 0) {
			o.figs |= REPRO_FIG7;
		} else if (strcmp(a, "fig8") == 0) {
			o.figs |= REPRO_FIG8;
		} else if (strcmp(a, "fig9") == 0) {
			o.figs |= REPRO_FIG9;
		} else {
			fprintf(err, "joulevisor: reproduce: unknown figure '%s' (fig5, fig7, fig8, fig9, all)\n",
				a);
			return 2;
		}
	}
	return repro_main(&o, out, err);
}
