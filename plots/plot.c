/*
 * plot: gnuplot figures of run directories, and readers of the tool's own
 * output files.
 *
 * Problem: a run directory is a set of tidy CSV tables; people want to look
 * at them. The figures are gnuplot templates (plots/NAME.gp) fed with the CSV
 * files unchanged; this file finds gnuplot and the templates, works out the
 * few facts a template cannot (which devices, VMs and limits a run has, its
 * duration), and runs gnuplot once per output format.
 *
 * Strategy:
 *   - gnuplot is looked up on PATH (an executable regular file named
 *     `gnuplot`); the templates in JV_SOURCE_DIR/plots, then in
 *     PREFIX/share/joulevisor/plots next to the executable. When either is
 *     missing nothing fails: callers say plainly that figures were skipped
 *     and why (plot_env.why).
 *   - A template gets gnuplot variables on the command line: `in` (the CSV
 *     file), `out` (the output file; the extension picks the terminal: svg,
 *     else pngcairo when available, else png) and per template lists such as
 *     `devs='cpu0 disk0'` that it iterates with `for [x in list]`.
 *     gnuplot's messages go to a temporary file and become the error text
 *     when it exits non-zero.
 *   - The readers load a whole CSV (or `key: value`) file into one buffer
 *     and split it in place. Large tables (power.csv at 1 ms, series.csv)
 *     are only scanned in a streaming pass for their distinct keys.
 *
 * `joulevisor plot RUNDIR [-o OUTDIR]` renders, into OUTDIR (default RUNDIR):
 *   power.{png,svg}     true device power over time (power.csv), binned to
 *                       about PLOT_POWER_BINS points per device
 *   vm_power.{png,svg}  accounted power per consumer and device over time
 *                       (series.csv: idle + active over all `via`, / interval)
 *   matrix.{png,svg}    the matrix (matrix.csv): idle + active mean power
 *                       stacked per consumer, device and via
 *   control.{png,svg}   measured power, limits and actuator values of the
 *                       energy manager (control.csv), when it has rows
 * Exit: 0 (also when gnuplot is missing: the message says the figures were
 * skipped), 1 when gnuplot fails, 2 for usage or unreadable inputs.
 *
 * Limits: at most PLOT_MAX_SERIES distinct series per figure (more are
 * reported and left out of the figure); values must not contain spaces or
 * quotes (true of VM, container and device names).
 */
#include "plots/plot.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef JV_SOURCE_DIR
#define JV_SOURCE_DIR "."
#endif

#define PLOT_FILE_MAX_B (1024L * 1024 * 1024) /* whole-file loads: 1 GiB */
#define PLOT_MAX_SERIES 32
#define PLOT_LIST_MAX 4096                /* a gnuplot word list */
#define PLOT_VARS_MAX (3 * PLOT_PATH_MAX + 2 * PLOT_LIST_MAX)
#define PLOT_POWER_BINS 500               /* points per device in power.png */
#define PLOT_ERRTEXT_MAX 700              /* gnuplot's messages kept in a diag */
#define NS_PER_S 1e9

/* ---- readers ------------------------------------------------------------ */

static int read_whole(const char *path, char **out, struct jv_diag *d)
{
	*out = NULL;
	FILE *f = fopen(path, "rb");
	if (!f)
		return jv_diag_set(d, errno == ENOENT ? JV_ENOENT : JV_EIO, path, 0,
				   "cannot open: %s", strerror(errno));
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap + 1);
	if (!buf) {
		fclose(f);
		return jv_diag_set(d, JV_ENOMEM, path, 0, "out of memory");
	}
	for (;;) {
		if (n == cap) {
			if (cap >= (size_t)PLOT_FILE_MAX_B) {
				free(buf);
				fclose(f);
				return jv_diag_set(d, JV_ELIMIT, path, 0, "file larger than %ld bytes",
						   PLOT_FILE_MAX_B);
			}
			char *nb = realloc(buf, 2 * cap + 1);
			if (!nb) {
				free(buf);
				fclose(f);
				return jv_diag_set(d, JV_ENOMEM, path, 0, "out of memory");
			}
			buf = nb;
			cap *= 2;
		}
		size_t r = fread(buf + n, 1, cap - n, f);
		n += r;
		if (r == 0)
			break;
	}
	int bad = ferror(f);
	fclose(f);
	if (bad) {
		free(buf);
		return jv_diag_set(d, JV_EIO, path, 0, "read error");
	}
	buf[n] = '\0';
	if (memchr(buf, '\0', n)) {
		free(buf);
		return jv_diag_set(d, JV_EPARSE, path, 0, "NUL byte in file");
	}
	*out = buf;
	return 0;
}

/* Split s at the next '\n' (removing a '\r' before it); returns the next line. */
static char *cut_line(char *s)
{
	char *nl = strchr(s, '\n');
	char *next = NULL;
	if (nl) {
		*nl = '\0';
		next = nl + 1;
	}
	size_t n = strlen(s);
	if (n && s[n - 1] == '\r')
		s[n - 1] = '\0';
	return next;
}

static int count_fields(const char *s)
{
	int n = 1;
	for (; *s; s++)
		if (*s == ',')
			n++;
	return n;
}

static void split_fields(char *s, char **out)
{
	int i = 0;
	out[i++] = s;
	for (; *s; s++)
		if (*s == ',') {
			*s = '\0';
			out[i++] = s + 1;
		}
}

static int tab_grow(struct plot_tab *t, size_t *cap, struct jv_diag *d)
{
	if (t->n_rows < *cap)
		return 0;
	size_t nc = *cap ? 2 * *cap : 256;
	char **cells = realloc(t->cells, nc * (size_t)t->n_cols * sizeof *cells);
	if (!cells)
		return jv_diag_set(d, JV_ENOMEM, t->path, 0, "out of memory");
	t->cells = cells;
	long *lines = realloc(t->lines, nc * sizeof *lines);
	if (!lines)
		return jv_diag_set(d, JV_ENOMEM, t->path, 0, "out of memory");
	t->lines = lines;
	*cap = nc;
	return 0;
}

static int tab_begin(const char *path, struct plot_tab *t, struct jv_diag *d)
{
	memset(t, 0, sizeof *t);
	t->path = strdup(path);
	if (!t->path)
		return jv_diag_set(d, JV_ENOMEM, path, 0, "out of memory");
	return read_whole(path, &t->buf, d);
}

int plot_tab_load_csv(const char *path, struct plot_tab *t, struct jv_diag *d)
{
	int rc = tab_begin(path, t, d);
	if (rc)
		goto fail;
	char *line = t->buf;
	char *next = cut_line(line);
	if (!line[0]) {
		rc = jv_diag_set(d, JV_EEMPTY, path, 0, "empty file: expected a header row");
		goto fail;
	}
	t->n_cols = count_fields(line);
	t->cols = malloc((size_t)t->n_cols * sizeof *t->cols);
	if (!t->cols) {
		rc = jv_diag_set(d, JV_ENOMEM, path, 0, "out of memory");
		goto fail;
	}
	split_fields(line, t->cols);
	size_t cap = 0;
	for (long lineno = 2; next && *next; lineno++) {
		line = next;
		next = cut_line(line);
		int nf = count_fields(line);
		if (nf != t->n_cols) {
			rc = jv_diag_set(d, JV_EPARSE, path, lineno, "expected %d fields, found %d",
					 t->n_cols, nf);
			goto fail;
		}
		rc = tab_grow(t, &cap, d);
		if (rc)
			goto fail;
		split_fields(line, t->cells + t->n_rows * (size_t)t->n_cols);
		t->lines[t->n_rows++] = lineno;
	}
	return 0;
fail:
	plot_tab_free(t);
	return rc;
}

int plot_tab_load_kv(const char *path, struct plot_tab *t, struct jv_diag *d)
{
	int rc = tab_begin(path, t, d);
	if (rc)
		goto fail;
	static char key_s[] = "key", value_s[] = "value";
	t->n_cols = 2;
	t->cols = malloc(2 * sizeof *t->cols);
	if (!t->cols) {
		rc = jv_diag_set(d, JV_ENOMEM, path, 0, "out of memory");
		goto fail;
	}
	t->cols[0] = key_s;
	t->cols[1] = value_s;
	size_t cap = 0;
	char *next = t->buf;
	for (long lineno = 1; next && *next; lineno++) {
		char *line = next;
		next = cut_line(line);
		if (line[0] == '#' || line[strspn(line, " \t")] == '\0')
			continue;
		char *sep = strstr(line, ": ");
		if (!sep) {
			size_t n = strlen(line);
			if (n && line[n - 1] == ':') { /* "key:" with an empty value */
				sep = line + n - 1;
			} else {
				rc = jv_diag_set(d, JV_EPARSE, path, lineno,
						 "expected 'key: value', found '%.60s'", line);
				goto fail;
			}
		}
		*sep = '\0';
		rc = tab_grow(t, &cap, d);
		if (rc)
			goto fail;
		char **row = t->cells + t->n_rows * 2;
		row[0] = line;
		row[1] = sep[1] ? sep + 2 : sep + 1;
		t->lines[t->n_rows++] = lineno;
	}
	return 0;
fail:
	plot_tab_free(t);
	return rc;
}

void plot_tab_free(struct plot_tab *t)
{
	if (!t)
		return;
	free(t->cols); /* the names point into buf or at static strings */
	free(t->cells);
	free(t->lines);
	free(t->buf);
	free(t->path);
	memset(t, 0, sizeof *t);
}

int plot_tab_col(const struct plot_tab *t, const char *name, int *col, struct jv_diag *d)
{
	for (int i = 0; i < t->n_cols; i++)
		if (strcmp(t->cols[i], name) == 0) {
			*col = i;
			return 0;
		}
	*col = -1;
	return jv_diag_set(d, JV_EPARSE, t->path, 1, "missing column '%s'", name);
}

const char *plot_tab_cell(const struct plot_tab *t, size_t row, int col)
{
	if (row >= t->n_rows || col < 0 || col >= t->n_cols)
		return NULL;
	return t->cells[row * (size_t)t->n_cols + (size_t)col];
}

static int parse_num(const char *s, double *out, int allow_suffix)
{
	if (!s || !*s)
		return -1;
	char *end = NULL;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || errno == ERANGE)
		return -1;
	if (*end && !(allow_suffix && *end == ' '))
		return -1;
	if (v != v || v > 1e308 || v < -1e308)
		return -1;
	*out = v;
	return 0;
}

int plot_tab_num(const struct plot_tab *t, size_t row, int col, double *out, struct jv_diag *d)
{
	const char *s = plot_tab_cell(t, row, col);
	if (!s)
		return jv_diag_set(d, JV_EINVAL, t->path, 0, "no cell at row %zu column %d", row, col);
	if (!*s)
		return jv_diag_set(d, JV_EPARSE, t->path, t->lines[row], "%s: empty value",
				   t->cols[col]);
	if (parse_num(s, out, 0))
		return jv_diag_set(d, JV_EPARSE, t->path, t->lines[row], "%s: not a number '%.60s'",
				   t->cols[col], s);
	return 0;
}

const char *plot_kv_str(const struct plot_tab *t, const char *key)
{
	for (size_t i = 0; i < t->n_rows; i++)
		if (strcmp(t->cells[2 * i], key) == 0)
			return t->cells[2 * i + 1];
	return NULL;
}

int plot_kv_num(const struct plot_tab *t, const char *key, double *out, struct jv_diag *d)
{
	for (size_t i = 0; i < t->n_rows; i++) {
		if (strcmp(t->cells[2 * i], key) != 0)
			continue;
		const char *v = t->cells[2 * i + 1];
		if (parse_num(v, out, 1))
			return jv_diag_set(d, JV_EPARSE, t->path, t->lines[i],
					   "%s: not a number '%.60s'", key, v);
		return 0;
	}
	return jv_diag_set(d, JV_EPARSE, t->path, 0, "missing key '%s'", key);
}

/* ---- gnuplot -------------------------------------------------------------- */

static int is_exec_file(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0;
}

static int find_on_path(const char *name, char *out, size_t cap)
{
	const char *path = getenv("PATH");
	if (!path)
		return -1;
	while (*path) {
		size_t n = strcspn(path, ":");
		char cand[PLOT_PATH_MAX];
		int w;
		if (n == 0)
			w = snprintf(cand, sizeof cand, "./%s", name);
		else
			w = snprintf(cand, sizeof cand, "%.*s/%s", (int)n, path, name);
		if (w > 0 && (size_t)w < sizeof cand && (size_t)w < cap && is_exec_file(cand)) {
			memcpy(out, cand, (size_t)w + 1);
			return 0;
		}
		path += n;
		if (*path == ':')
			path++;
	}
	return -1;
}

static int has_file(const char *dir, const char *file)
{
	char p[PLOT_PATH_MAX];
	int w = snprintf(p, sizeof p, "%s/%s", dir, file);
	return w > 0 && (size_t)w < sizeof p && access(p, R_OK) == 0;
}

int plot_data_dir(const char *sub, const char *probe, char *out, size_t cap)
{
	char cand[PLOT_PATH_MAX];
	int w = snprintf(cand, sizeof cand, "%s/%s", JV_SOURCE_DIR, sub);
	if (w > 0 && (size_t)w < sizeof cand && (size_t)w < cap && has_file(cand, probe)) {
		memcpy(out, cand, (size_t)w + 1);
		return 0;
	}
	char exe[PLOT_PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0)
		return JV_ENOENT;
	exe[n] = '\0';
	/* PREFIX/bin/joulevisor -> PREFIX/share/joulevisor/SUB */
	for (int up = 0; up < 2; up++) {
		char *slash = strrchr(exe, '/');
		if (!slash)
			return JV_ENOENT;
		*slash = '\0';
	}
	w = snprintf(cand, sizeof cand, "%s/share/joulevisor/%s", exe[0] ? exe : "", sub);
	if (w > 0 && (size_t)w < sizeof cand && (size_t)w < cap && has_file(cand, probe)) {
		memcpy(out, cand, (size_t)w + 1);
		return 0;
	}
	return JV_ENOENT;
}

void plot_env_init(struct plot_env *e)
{
	memset(e, 0, sizeof *e);
	if (find_on_path("gnuplot", e->gnuplot, sizeof e->gnuplot) != 0) {
		e->gnuplot[0] = '\0';
		snprintf(e->why, sizeof e->why,
			 "gnuplot was not found on PATH (install it, e.g. `apt-get install gnuplot-nox`)");
		return;
	}
	if (plot_data_dir("plots", "fig7.gp", e->tmpl_dir, sizeof e->tmpl_dir) != 0) {
		e->tmpl_dir[0] = '\0';
		snprintf(e->why, sizeof e->why,
			 "the gnuplot templates (plots/*.gp) were found neither in %s/plots nor in "
			 "share/joulevisor/plots beside the executable",
			 JV_SOURCE_DIR);
	}
}

char *plot_gp_quote(const char *s, char *buf, size_t cap)
{
	size_t n = 0;
	if (cap < 3)
		return NULL;
	buf[n++] = '\'';
	for (; *s; s++) {
		size_t need = *s == '\'' ? 2 : 1;
		if (n + need + 2 > cap)
			return NULL;
		buf[n++] = *s;
		if (*s == '\'')
			buf[n++] = '\'';
	}
	buf[n++] = '\'';
	buf[n] = '\0';
	return buf;
}

/* Run gnuplot with one -e string and the template; 0 when it exits 0. */
static int run_gnuplot(const struct plot_env *e, const char *vars, const char *tmpl_path,
		       struct jv_diag *d)
{
	FILE *log = tmpfile();
	if (!log)
		return jv_diag_set(d, JV_EIO, NULL, 0, "cannot create a temporary file: %s",
				   strerror(errno));
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		fclose(log);
		return jv_diag_set(d, JV_EIO, NULL, 0, "cannot start gnuplot: %s", strerror(errno));
	}
	if (pid == 0) {
		int fd = fileno(log);
		int nul = open("/dev/null", O_RDONLY);
		if (nul >= 0)
			dup2(nul, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		char *argv[] = {"gnuplot", "-e", (char *)vars, (char *)tmpl_path, NULL};
		execv(e->gnuplot, argv);
		dprintf(2, "cannot run %s: %s\n", e->gnuplot, strerror(errno));
		_exit(127);
	}
	int st = 0;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR) {
			fclose(log);
			return jv_diag_set(d, JV_EIO, NULL, 0, "waiting for gnuplot: %s",
					   strerror(errno));
		}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		fclose(log);
		return 0;
	}
	char text[PLOT_ERRTEXT_MAX];
	rewind(log);
	size_t n = fread(text, 1, sizeof text - 1, log);
	text[n] = '\0';
	while (n && (text[n - 1] == '\n' || text[n - 1] == ' '))
		text[--n] = '\0';
	fclose(log);
	if (WIFEXITED(st))
		return jv_diag_set(d, JV_EIO, tmpl_path, 0, "gnuplot exited with status %d: %s",
				   WEXITSTATUS(st), text);
	return jv_diag_set(d, JV_EIO, tmpl_path, 0, "gnuplot killed by signal %d: %s",
			   WTERMSIG(st), text);
}

int plot_render(const struct plot_env *e, const char *tmpl, const char *in_csv,
		const char *vars, const char *out_base, struct jv_diag *d)
{
	static const char *const EXTS[] = {"png", "svg"};
	if (!e->gnuplot[0] || !e->tmpl_dir[0])
		return jv_diag_set(d, JV_EINVAL, NULL, 0, "figures skipped: %s", e->why);
	char tpath[PLOT_PATH_MAX];
	int w = snprintf(tpath, sizeof tpath, "%s/%s", e->tmpl_dir, tmpl);
	if (w < 0 || (size_t)w >= sizeof tpath)
		return jv_diag_set(d, JV_ELIMIT, tmpl, 0, "path too long");
	for (size_t i = 0; i < sizeof EXTS / sizeof EXTS[0]; i++) {
		char outp[PLOT_PATH_MAX], qin[PLOT_PATH_MAX], qout[PLOT_PATH_MAX];
		char *all = malloc(PLOT_VARS_MAX);
		if (!all)
			return jv_diag_set(d, JV_ENOMEM, NULL, 0, "out of memory");
		w = snprintf(outp, sizeof outp, "%s.%s", out_base, EXTS[i]);
		int ok = w > 0 && (size_t)w < sizeof outp && plot_gp_quote(in_csv, qin, sizeof qin) &&
			 plot_gp_quote(outp, qout, sizeof qout);
		if (ok) {
			w = snprintf(all, PLOT_VARS_MAX, "in=%s; out=%s; %s", qin, qout,
				     vars ? vars : "");
			ok = w > 0 && w < PLOT_VARS_MAX;
		}
		if (!ok) {
			free(all);
			return jv_diag_set(d, JV_ELIMIT, out_base, 0, "path too long for gnuplot");
		}
		int rc = run_gnuplot(e, all, tpath, d);
		free(all);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- `joulevisor plot` ------------------------------------------------- */

/* Distinct values of columns A (and B, joined as "a:b") of a CSV file,
 * streamed; returned as a space separated word list. */
struct distinct {
	char list[PLOT_LIST_MAX];
	int n;
	int dropped;
	size_t rows;
	double dt_min_ns; /* smallest step between successive t_ns values; 0: none */
};

static int distinct_add(struct distinct *ds, const char *key)
{
	size_t kl = strlen(key);
	const char *p = ds->list;
	while (*p) {
		size_t n = strcspn(p, " ");
		if (n == kl && memcmp(p, key, kl) == 0)
			return 0;
		p += n;
		if (*p == ' ')
			p++;
	}
	size_t used = strlen(ds->list);
	if (ds->n >= PLOT_MAX_SERIES || used + kl + 2 > sizeof ds->list) {
		ds->dropped++;
		return 0;
	}
	snprintf(ds->list + used, sizeof ds->list - used, "%s%s", used ? " " : "", key);
	ds->n++;
	return 0;
}

static int csv_distinct(const char *path, const char *ca, const char *cb, struct distinct *ds,
			struct jv_diag *d)
{
	memset(ds, 0, sizeof *ds);
	FILE *f = fopen(path, "r");
	if (!f)
		return jv_diag_set(d, errno == ENOENT ? JV_ENOENT : JV_EIO, path, 0,
				   "cannot open: %s", strerror(errno));
	char *line = NULL;
	size_t cap = 0;
	char **fields = NULL;
	int rc = 0, ia = -1, ib = -1, it = -1, nf = 0;
	long lineno = 0;
	double t_prev = -1;
	ssize_t len;
	while ((len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (lineno > 1 && len == 0)
			continue;
		int n = count_fields(line);
		if (lineno == 1) {
			nf = n;
			fields = malloc((size_t)nf * sizeof *fields);
			if (!fields) {
				rc = jv_diag_set(d, JV_ENOMEM, path, 0, "out of memory");
				break;
			}
		} else if (n != nf) {
			rc = jv_diag_set(d, JV_EPARSE, path, lineno, "expected %d fields, found %d",
					 nf, n);
			break;
		}
		split_fields(line, fields);
		if (lineno == 1) {
			for (int i = 0; i < nf; i++) {
				if (strcmp(fields[i], ca) == 0)
					ia = i;
				if (cb && strcmp(fields[i], cb) == 0)
					ib = i;
				if (strcmp(fields[i], "t_ns") == 0)
					it = i;
			}
			if (ia < 0 || (cb && ib < 0)) {
				rc = jv_diag_set(d, JV_EPARSE, path, 1, "missing column '%s'",
						 ia < 0 ? ca : cb);
				break;
			}
			continue;
		}
		char key[256];
		if (cb)
			snprintf(key, sizeof key, "%s:%s", fields[ia], fields[ib]);
		else
			snprintf(key, sizeof key, "%s", fields[ia]);
		if (strpbrk(key, " '\"")) {
			rc = jv_diag_set(d, JV_EPARSE, path, lineno, "unexpected name '%.60s'", key);
			break;
		}
		distinct_add(ds, key);
		ds->rows++;
		double t = it >= 0 ? strtod(fields[it], NULL) : -1;
		if (t_prev >= 0 && t > t_prev && (ds->dt_min_ns == 0 || t - t_prev < ds->dt_min_ns))
			ds->dt_min_ns = t - t_prev;
		if (t >= 0)
			t_prev = t;
	}
	if (!rc && lineno == 0)
		rc = jv_diag_set(d, JV_EEMPTY, path, 0, "empty file: expected a header row");
	if (!rc && ferror(f))
		rc = jv_diag_set(d, JV_EIO, path, 0, "read error");
	free(fields);
	free(line);
	fclose(f);
	return rc;
}

static void plot_usage(FILE *f)
{
	fputs("usage: joulevisor plot RUNDIR [-o OUTDIR]\n"
	      "\n"
	      "Render the standard figures of a run directory with gnuplot, as PNG and SVG:\n"
	      "  power       true device power over time (power.csv)\n"
	      "  vm_power    accounted power per consumer and device over time (series.csv)\n"
	      "  matrix      idle and active mean power per consumer, device and via (matrix.csv)\n"
	      "  control     the energy manager's measured power, limits and actuators\n"
	      "              (control.csv, when a limit was in force)\n"
	      "\n"
	      "  -o, --output OUTDIR  where the figures go (default RUNDIR)\n"
	      "\n"
	      "Without gnuplot on PATH nothing is rendered; the message says so (exit 0).\n",
	      f);
}

struct plot_job {
	const char *rundir, *outdir;
	const struct plot_env *env;
	FILE *out, *err;
	int rendered;
};

static int job_path(char *buf, size_t cap, const char *dir, const char *file)
{
	int w = snprintf(buf, cap, "%s/%s", dir, file);
	return w > 0 && (size_t)w < cap ? 0 : -1;
}

static int render_one(struct plot_job *j, const char *tmpl, const char *csv, const char *vars,
		      const char *name, struct jv_diag *d)
{
	char in[PLOT_PATH_MAX], base[PLOT_PATH_MAX];
	if (job_path(in, sizeof in, j->rundir, csv) || job_path(base, sizeof base, j->outdir, name))
		return jv_diag_set(d, JV_ELIMIT, j->rundir, 0, "path too long");
	int rc = plot_render(j->env, tmpl, in, vars, base, d);
	if (!rc) {
		fprintf(j->out, "%s.png %s.svg\n", base, base);
		j->rendered++;
	}
	return rc;
}

static void note_dropped(struct plot_job *j, const char *csv, const struct distinct *ds)
{
	if (ds->dropped)
		fprintf(j->err,
			"joulevisor: plot: %s/%s: %d more series than the %d a figure shows were "
			"left out\n",
			j->rundir, csv, ds->dropped, PLOT_MAX_SERIES);
}

static int plot_run_dir(struct plot_job *j, struct jv_diag *d)
{
	char p[PLOT_PATH_MAX];
	struct plot_tab sum = {0};
	char vars[2 * PLOT_LIST_MAX + 256];
	struct distinct ds;
	if (job_path(p, sizeof p, j->rundir, "summary.txt"))
		return jv_diag_set(d, JV_ELIMIT, j->rundir, 0, "path too long");
	int rc = plot_tab_load_kv(p, &sum, d);
	double dur_ns = 0, interval_ns = 0;
	if (!rc)
		rc = plot_kv_num(&sum, "duration_ns", &dur_ns, d);
	if (!rc)
		rc = plot_kv_num(&sum, "interval_ns", &interval_ns, d);
	plot_tab_free(&sum);
	if (rc)
		return rc;
	if (dur_ns <= 0 || interval_ns <= 0)
		return jv_diag_set(d, JV_EPARSE, p, 0, "duration_ns and interval_ns must be > 0");
	double dur_s = dur_ns / NS_PER_S;

	/* power.csv: devices */
	if (job_path(p, sizeof p, j->rundir, "power.csv"))
		return jv_diag_set(d, JV_ELIMIT, j->rundir, 0, "path too long");
	rc = csv_distinct(p, "device", NULL, &ds, d);
	if (rc)
		return rc;
	note_dropped(j, "power.csv", &ds);
	/* bins of a whole number of samples, about PLOT_POWER_BINS of them */
	double res_ns = ds.dt_min_ns > 0 ? ds.dt_min_ns : dur_ns;
	double per_bin = floor(dur_ns / PLOT_POWER_BINS / res_ns + 0.5);
	snprintf(vars, sizeof vars, "devs='%s'; res_s=%.9g; bin_s=%.9g", ds.list, res_ns / NS_PER_S,
		 (per_bin < 1 ? 1 : per_bin) * res_ns / NS_PER_S);
	if (ds.rows && (rc = render_one(j, "run_power.gp", "power.csv", vars, "power", d)))
		return rc;

	/* series.csv: consumer:device */
	if (job_path(p, sizeof p, j->rundir, "series.csv"))
		return jv_diag_set(d, JV_ELIMIT, j->rundir, 0, "path too long");
	rc = csv_distinct(p, "consumer", "device", &ds, d);
	if (rc)
		return rc;
	note_dropped(j, "series.csv", &ds);
	per_bin = floor(dur_ns / PLOT_POWER_BINS / interval_ns + 0.5);
	snprintf(vars, sizeof vars, "keys='%s'; interval_s=%.9g; bin_s=%.9g", ds.list,
		 interval_ns / NS_PER_S, (per_bin < 1 ? 1 : per_bin) * interval_ns / NS_PER_S);
	if (ds.rows && (rc = render_one(j, "run_vm_power.gp", "series.csv", vars, "vm_power", d)))
		return rc;

	/* matrix.csv */
	if (job_path(p, sizeof p, j->rundir, "matrix.csv"))
		return jv_diag_set(d, JV_ELIMIT, j->rundir, 0, "path too long");
	rc = csv_distinct(p, "consumer", "device", &ds, d);
	if (rc)
		return rc;
	snprintf(vars, sizeof vars, "dur_s=%.9g; nrows=%zu", dur_s, ds.rows);
	if (ds.rows && (rc = render_one(j, "run_matrix.gp", "matrix.csv", vars, "matrix", d)))
		return rc;

	/* control.csv: vm:device, only when a limit was in force */
	if (job_path(p, sizeof p, j->rundir, "control.csv"))
		return jv_diag_set(d, JV_ELIMIT, j->rundir, 0, "path too long");
	rc = csv_distinct(p, "vm", "device", &ds, d);
	if (rc == JV_ENOENT) { /* older run directories have no control.csv */
		fprintf(j->err, "joulevisor: plot: %s: no control.csv, no controller figure\n",
			j->rundir);
		return 0;
	}
	if (rc)
		return rc;
	note_dropped(j, "control.csv", &ds);
	snprintf(vars, sizeof vars, "keys='%s'; dur_s=%.9g", ds.list, dur_s);
	if (ds.rows && (rc = render_one(j, "run_control.gp", "control.csv", vars, "control", d)))
		return rc;
	if (!ds.rows)
		fprintf(j->out, "%s/control.csv: no limit was in force, no controller figure\n",
			j->rundir);
	return 0;
}

int plot_cli(int argc, char **argv, FILE *out, FILE *err)
{
	const char *rundir = NULL, *outdir = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			plot_usage(out);
			return 0;
		} else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
			if (i + 1 >= argc) {
				fprintf(err, "joulevisor: plot: option %s needs a value\n", a);
				return 2;
			}
			outdir = argv[++i];
		} else if (strncmp(a, "--output=", 9) == 0) {
			outdir = a + 9;
		} else if (a[0] == '-' && a[1] != '\0') {
			fprintf(err, "joulevisor: plot: unknown option '%s' (see `joulevisor plot --help`)\n",
				a);
			return 2;
		} else if (!rundir) {
			rundir = a;
		} else {
			fprintf(err, "joulevisor: plot: more than one run directory ('%s', '%s')\n",
				rundir, a);
			return 2;
		}
	}
	if (!rundir) {
		fprintf(err, "joulevisor: plot: no run directory given\n");
		plot_usage(err);
		return 2;
	}
	struct stat st;
	if (stat(rundir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		fprintf(err, "joulevisor: plot: %s: not a run directory\n", rundir);
		return 2;
	}
	if (!outdir)
		outdir = rundir;
	struct plot_env env;
	plot_env_init(&env);
	if (env.why[0]) {
		fprintf(err, "joulevisor: plot: figures skipped: %s\n", env.why);
		return 0;
	}
	if (mkdir(outdir, 0777) != 0 && errno != EEXIST) {
		fprintf(err, "joulevisor: plot: %s: cannot create: %s\n", outdir, strerror(errno));
		return 1;
	}
	struct plot_job j = {rundir, outdir, &env, out, err, 0};
	struct jv_diag d;
	jv_diag_clear(&d);
	int rc = plot_run_dir(&j, &d);
	if (rc) {
		fprintf(err, "joulevisor: plot: %s\n", d.msg);
		return d.err == JV_EIO ? 1 : jv_exit_code(rc);
	}
	return 0;
}
