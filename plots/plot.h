/*
 * plot: figures from run outputs with gnuplot (`joulevisor plot`, and the
 * figures of `joulevisor reproduce`), and the small readers of the tool's own
 * output files that figure builders need.
 *
 * The readers take the tool's own CSV (header row, comma separated, no
 * quoting, every row the header's width) and `key: value` text files
 * (summary.txt, manifest.txt). Every value a caller asks for must be there:
 * a missing column, key or empty number is an error naming FILE:LINE.
 */
#ifndef JV_PLOT_H
#define JV_PLOT_H

#include <stddef.h>
#include <stdio.h>

#include "base/jv_err.h"

#define PLOT_PATH_MAX 4096

/* A CSV file (or a `key: value` file as two columns key,value) in memory. */
struct plot_tab {
	char *path;
	char *buf;
	int n_cols;
	char **cols;   /* header names */
	size_t n_rows;
	char **cells;  /* row-major n_rows x n_cols, pointing into buf */
	long *lines;   /* file line number of each row */
};

/* Load a whole CSV file; checks every row has the header's field count. */
int plot_tab_load_csv(const char *path, struct plot_tab *t, struct jv_diag *d);
/* Load a `key: value` file (`#` comments and blank lines skipped). */
int plot_tab_load_kv(const char *path, struct plot_tab *t, struct jv_diag *d);
void plot_tab_free(struct plot_tab *t);
/* Column index of NAME; error "FILE: missing column 'NAME'" when absent. */
int plot_tab_col(const struct plot_tab *t, const char *name, int *col, struct jv_diag *d);
const char *plot_tab_cell(const struct plot_tab *t, size_t row, int col);
/* The cell as a number; error "FILE:LINE: COLUMN: ..." when empty or not a number. */
int plot_tab_num(const struct plot_tab *t, size_t row, int col, double *out, struct jv_diag *d);
/* `key: value` files: the value of KEY (NULL when absent) and as a number
 * (the leading number of the value: "7.995 (auto: ...)" gives 7.995). */
const char *plot_kv_str(const struct plot_tab *t, const char *key);
int plot_kv_num(const struct plot_tab *t, const char *key, double *out, struct jv_diag *d);

/* Where figures come from: gnuplot on PATH and the *.gp templates. */
struct plot_env {
	char gnuplot[PLOT_PATH_MAX];  /* gnuplot executable, "" when missing */
	char tmpl_dir[PLOT_PATH_MAX]; /* directory of the templates, "" when missing */
	char why[PLOT_PATH_MAX + 128]; /* why figures are skipped; "" when they are not */
};

/* Find gnuplot (PATH) and the templates (JV_SOURCE_DIR/plots, then
 * PREFIX/share/joulevisor/plots beside the executable). Never fails:
 * e->why says what is missing. */
void plot_env_init(struct plot_env *e);

/* A bundled data directory (SUB = "scenarios" or "plots") that holds PROBE:
 * JV_SOURCE_DIR/SUB, then PREFIX/share/joulevisor/SUB with PREFIX the
 * executable's directory's parent. Returns 0 or JV_ENOENT. */
int plot_data_dir(const char *sub, const char *probe, char *out, size_t cap);

/* Render TEMPLATE (a file name in e->tmpl_dir) into OUT_BASE.png and
 * OUT_BASE.svg: runs `gnuplot -e "in='IN'; out='...'; VARS" TEMPLATE`
 * (VARS: more gnuplot assignments, may be NULL). On failure the diag holds
 * gnuplot's messages. */
int plot_render(const struct plot_env *e, const char *tmpl, const char *in_csv,
		const char *vars, const char *out_base, struct jv_diag *d);

/* Quote S as a gnuplot single-quoted string into BUF ('' for a quote).
 * Returns BUF, or NULL when it does not fit. */
char *plot_gp_quote(const char *s, char *buf, size_t cap);

/* `joulevisor plot RUNDIR [-o OUTDIR]`: returns a process exit code. */
int plot_cli(int argc, char **argv, FILE *out, FILE *err);

#endif
