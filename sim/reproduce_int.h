/*
 * reproduce_int: the parts of `joulevisor reproduce` (sim/reproduce.h)
 * shared by its files; not installed, included only by sim/reproduce*.c.
 * What is reproduced and checked: the top of sim/reproduce.c.
 *
 * Which file does what:
 *  - reproduce.c: what is reproduced and checked, the figure tables,
 *    small helpers, finding the scenarios, repro_main and the command line.
 *  - reproduce_run.c: planning the runs and running them in parallel
 *    child processes, with progress and failed-run reports.
 *  - reproduce_io.c: reading a run's outputs (summary, CSV tables, the
 *    resolved scenario) and writing figure CSVs.
 *  - reproduce_figs.c: building each figure's CSV (5, 7, 8, 9) and its
 *    checks against the paper.
 *  - reproduce_report.c: the checks list, the manager periods as
 *    configured, rendering the figures and writing report.md.
 *
 * Functions and tables used by another file carry the prefix repro_int_
 * (they are internal to reproduce and declared only here); their
 * prototypes below are grouped by the file that defines them.
 */
#ifndef JV_REPRODUCE_INT_H
#define JV_REPRODUCE_INT_H

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

struct run_out {
	struct plot_tab sum;
	double dur_ns, dur_s;
};

struct csv_out {
	FILE *f;
	char tmp[REPRO_PATH_MAX];
	char path[REPRO_PATH_MAX];
};

/* reproduce.c */
extern const char *const repro_int_fig_name[N_FIGS];
extern const char *const repro_int_fig_title[N_FIGS];
extern const char *const repro_int_fig_header[N_FIGS];
int repro_int_path2(char *buf, size_t cap, const char *a, const char *b);
int repro_int_run_file(const struct repro *r, const char *run, const char *file, char *buf,
		       size_t cap);
void repro_int_fmt_size(int64_t b, char *buf, size_t cap);
const char *repro_int_fmt_num(double v, char *buf, size_t cap);

/* reproduce_run.c */
int repro_int_plan(struct repro *r, unsigned figs, struct jv_diag *d);
int repro_int_run_all(struct repro *r, int jobs, struct jv_diag *d);

/* reproduce_io.c */
int repro_int_load_summary(struct repro *r, const char *run, struct run_out *ro, struct jv_diag *d);
int repro_int_load_csv(struct repro *r, const char *run, const char *file, struct plot_tab *t,
		       struct jv_diag *d);
int repro_int_mx_w(const struct plot_tab *t, const char *consumer, const char *device,
		   const char *via, const char *col, double dur_s, double *out, struct jv_diag *d);
int repro_int_ini_time_ns(struct repro *r, const char *run, const char *section, const char *key,
			  int64_t *out, struct jv_diag *d);
int repro_int_ini_int(struct repro *r, const char *run, const char *section, const char *key,
		      int64_t *out, struct jv_diag *d);
int repro_int_csv_open(struct repro *r, int fig, struct csv_out *c, struct jv_diag *d);
int repro_int_csv_close(struct csv_out *c, int ok, struct jv_diag *d);
void repro_int_csv_num(FILE *f, double v, int last);

/* reproduce_figs.c */
int repro_int_build_fig5(struct repro *r, struct jv_diag *d);
int repro_int_build_fig7(struct repro *r, struct jv_diag *d);
int repro_int_build_fig8(struct repro *r, struct jv_diag *d);
int repro_int_build_fig9(struct repro *r, struct jv_diag *d);

/* reproduce_report.c */
int repro_int_chk_range(struct repro *r, int fig, const char *what, double paper_v,
			const char *paper_txt, double tool, const char *unit, double lo, double hi,
			const char *tol, struct jv_diag *d);
int repro_int_chk_abs(struct repro *r, int fig, const char *what, double paper_v, double tool,
		      const char *unit, double tol_abs, struct jv_diag *d);
int repro_int_chk_rel(struct repro *r, int fig, const char *what, double paper_v, double tool,
		      const char *unit, double tol_rel, struct jv_diag *d);
int repro_int_chk_bool(struct repro *r, int fig, const char *what, const char *paper_txt, int ok,
		       const char *tool_txt, struct jv_diag *d);
int repro_int_periods(struct repro *r, unsigned figs, struct jv_diag *d);
int repro_int_render(struct repro *r, unsigned figs, const struct plot_env *env, struct jv_diag *d);
int repro_int_write_report(struct repro *r, unsigned figs, int n_bad, struct jv_diag *d);

#endif /* JV_REPRODUCE_INT_H */
