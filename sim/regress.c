/*
 * regress: theory of operation.
 *
 * Problem: a change to a controller (a gain, a period, a new law) makes
 * some points better and others worse. People need to see what got worse,
 * by how much compared to what they tolerate, sorted so the worst comes
 * first, and CI needs a non-zero exit status when anything got worse past
 * its threshold.
 *
 * Inputs: two sets of runs, each an SQLite run store (sweep, run --db,
 * db merge) or the metrics CSV of `joulevisor db export DB --metrics`
 * (run_id,scenario,seed,status,point_key,overrides,name,value,unit; how a
 * baseline is checked in, tests/regress/). Only runs with status
 * `complete` count. Runs are matched by point: scenario name, seed and
 * canonical overrides (sim/db.c); `--ignore-override KEY` drops KEY from
 * both sides' overrides before matching, to compare runs across a change
 * of that very option (candidate damp=0.5 against baseline damp=0.25).
 * When one side holds several runs of a point, the latest (highest id) is
 * compared and a note says so; two distinct points that collapse into one
 * after --ignore-override are an input error.
 *
 * Thresholds: rules `PATTERN BETTER [abs=X] [rel=Y%]`, first match wins,
 * the --thresholds file's rules before the built-in defaults (DEFAULTS[]
 * below, documented in docs/FORMATS.md). BETTER is lower, higher, zero
 * (signed error: |value| lower), equal (any change), info (shown, never a
 * regression) or ignore. The threshold is tol = max(abs, rel x |baseline|)
 * and the candidate regressed when it is worse than the baseline by more
 * than tol (strictly); it improved when better by more than tol. Settling
 * times (names containing `settling_time`) store -1 for "never settled":
 * that counts as infinitely long, so settling -> never is a regression of
 * infinite severity and never -> settling an improvement.
 *
 * Severity: worse / tol (infinite when tol is 0); a point or metric of the
 * baseline missing from the candidate is a regression of infinite severity
 * (unless --allow-missing). The table on stdout lists regressions first,
 * by severity, then improvements and changes within thresholds (all rows
 * with --all), then points and metrics only in the candidate.
 *
 * Report: --report FILE writes the same in Markdown, with the thresholds
 * used and, for the worst regressed control metrics (limit_VM_LOOP_*) of
 * up to REGRESS_MAX_FIGURES points when both inputs are databases, a
 * figure of the controller's measured power against time for baseline and
 * candidate (gnuplot, PNG beside the report; skipped with a note when
 * gnuplot is not on PATH or fails).
 *
 * Exit codes: 0 no regression, 3 a regression, 2 bad input (unreadable
 * file, bad thresholds, no common point), 1 runtime failure (report).
 */
#include "sim/regress.h"

#include <csv.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <math.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sim/db.h"

#define REGRESS_MAX_IGNORE 32
#define REGRESS_MAX_FIGURES 3
#define REGRESS_PATH_MAX 4096
#define REGRESS_CSV_COLS 9
#define REGRESS_SQLITE_MAGIC "SQLite format 3"

/* Built-in thresholds (after the file's rules; first match wins). */
static const struct rg_rule DEFAULTS[] = {
	{"*settling_time*", RG_LOWER, 0.2, 0.10, "default"},   /* s: one disk period */
	{"*_overshoot_pct", RG_LOWER, 1.0, 0.0, "default"},     /* percentage points */
	{"*_steady_state_error_pct", RG_ZERO, 0.5, 0.0, "default"},
	{"*_time_above_limit_s", RG_LOWER, 0.2, 0.10, "default"},
	{"*_violations", RG_LOWER, 1.0, 0.10, "default"},       /* control steps */
	{"*_throughput_loss_pct", RG_LOWER, 1.0, 0.0, "default"},
	{"accounting_error_*_pct", RG_LOWER, 0.01, 0.10, "default"},
	{"accounting_error_*", RG_LOWER, 1e-3, 0.10, "default"}, /* J */
	{"conservation_*", RG_LOWER, 1e-9, 0.0, "default"},
	{"*throughput*", RG_HIGHER, 0.0, 0.02, "default"},
	{"*_cpu_share", RG_HIGHER, 0.0, 0.02, "default"},
	{"duration_s", RG_EQUAL, 0.0, 0.0, "default"},
	{"*", RG_INFO, 0.0, 0.0, "default"},
};
#define N_DEFAULTS ((int)(sizeof DEFAULTS / sizeof DEFAULTS[0]))

static const char *const BETTER_NAMES[] = {"lower", "higher", "zero", "equal", "info", "ignore"};

/* ---- thresholds ---------------------------------------------------------------- */

static int parse_tol(const char *v, int rel, double *out)
{
	char *end;
	errno = 0;
	double x = strtod(v, &end);
	if (end == v || errno || !isfinite(x) || x < 0)
		return -1;
	if (rel && *end == '%') {
		x /= 100.0;
		end++;
	}
	if (*end)
		return -1;
	*out = x;
	return 0;
}

static int parse_rule_line(char *line, const char *path, long ln, struct rg_rule *r,
			   struct jv_diag *d)
{
	char *save = NULL, *tok[8];
	int nt = 0;
	for (char *t = strtok_r(line, " \t\r", &save); t && nt < 8; t = strtok_r(NULL, " \t\r", &save))
		tok[nt++] = t;
	if (nt < 2 || nt > 4)
		return jv_diag_set(d, JV_EPARSE, path, ln,
				   "expected 'PATTERN BETTER [abs=X] [rel=Y%%]', found %d field(s)", nt);
	memset(r, 0, sizeof *r);
	if (strlen(tok[0]) >= sizeof r->pattern)
		return jv_diag_set(d, JV_ELIMIT, path, ln, "pattern longer than %d characters",
				   REGRESS_PATTERN_MAX - 1);
	strcpy(r->pattern, tok[0]);
	int b;
	for (b = 0; b <= RG_IGNORE && strcmp(tok[1], BETTER_NAMES[b]) != 0; b++)
		;
	if (b > RG_IGNORE)
		return jv_diag_set(d, JV_EPARSE, path, ln,
				   "better: unknown direction '%s' (lower, higher, zero, equal, info, "
				   "ignore)",
				   tok[1]);
	r->better = (enum rg_better)b;
	for (int i = 2; i < nt; i++) {
		int rel = strncmp(tok[i], "rel=", 4) == 0;
		if (!rel && strncmp(tok[i], "abs=", 4) != 0)
			return jv_diag_set(d, JV_EPARSE, path, ln,
					   "unknown field '%s' (want abs=X or rel=Y%%)", tok[i]);
		if (parse_tol(tok[i] + 4, rel, rel ? &r->rel_tol : &r->abs_tol))
			return jv_diag_set(d, JV_ERANGE, path, ln,
					   "%s: want a non-negative number%s, found '%s'",
					   rel ? "rel" : "abs", rel ? " (or N%)" : "", tok[i] + 4);
	}
	snprintf(r->origin, sizeof r->origin, "%.40s:%ld", path, ln);
	return 0;
}

int regress_parse_thresholds(const char *path, struct rg_rule **rules, int *n,
			     struct jv_diag *d)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	long ln = 0;
	int err = 0, cnt = 0, rcap = 0;
	struct rg_rule *v = NULL;
	*rules = NULL;
	*n = 0;
	if (!f)
		return jv_diag_set(d, errno == ENOENT ? JV_ENOENT : JV_EIO, path, 0,
				   "cannot open: %s", strerror(errno));
	while (getline(&line, &cap, f) >= 0) {
		ln++;
		line[strcspn(line, "#\n")] = '\0';
		if (!line[strspn(line, " \t\r")])
			continue;
		if (cnt == rcap) {
			rcap = rcap ? 2 * rcap : 16;
			struct rg_rule *p = realloc(v, (size_t)rcap * sizeof *p);
			if (!p) {
				err = jv_diag_set(d, JV_ENOMEM, path, 0, "out of memory");
				break;
			}
			v = p;
		}
		if ((err = parse_rule_line(line, path, ln, &v[cnt], d)))
			break;
		cnt++;
	}
	if (!err && ferror(f))
		err = jv_diag_set(d, JV_EIO, path, 0, "read error: %s", strerror(errno));
	free(line);
	fclose(f);
	if (err) {
		free(v);
		return err;
	}
	*rules = v;
	*n = cnt;
	return 0;
}

const struct rg_rule *regress_rule_for(const struct rg_rule *rules, int n, const char *metric)
{
	for (int i = 0; i < n; i++)
		if (fnmatch(rules[i].pattern, metric, 0) == 0)
			return &rules[i];
	for (int i = 0; i < N_DEFAULTS; i++)
		if (fnmatch(DEFAULTS[i].pattern, metric, 0) == 0)
			return &DEFAULTS[i];
	return &DEFAULTS[N_DEFAULTS - 1];
}

enum rg_verdict regress_compare(const struct rg_rule *r, const char *metric, double base,
				double cand, double *worse, double *tol)
{
	int never = strstr(metric, "settling_time") != NULL;
	double b = never && base < 0 ? INFINITY : base;
	double c = never && cand < 0 ? INFINITY : cand;
	double w;
	*tol = fmax(r->abs_tol, isfinite(b) ? r->rel_tol * fabs(b) : 0.0);
	if (b == c || (isinf(b) && isinf(c) && (b > 0) == (c > 0))) {
		*worse = 0;
		return RG_SAME;
	}
	switch (r->better) {
	case RG_LOWER:
		w = c - b;
		break;
	case RG_HIGHER:
		w = b - c;
		break;
	case RG_ZERO:
		w = fabs(c) - fabs(b);
		break;
	case RG_EQUAL:
		w = fabs(c - b);
		break;
	default:
		*worse = c - b;
		return RG_WITHIN;
	}
	*worse = w;
	if (w > *tol)
		return RG_REGRESSED;
	if (w < -*tol && r->better != RG_EQUAL)
		return RG_IMPROVED;
	return RG_WITHIN;
}

/* ---- run sets ---------------------------------------------------------------------- */

struct rg_metric {
	char *name, *unit;
	double value;
};

struct rg_run {
	int64_t id;
	char *scenario, *overrides, *key;
	uint64_t seed;
	struct rg_metric *m;
	int nm, cap;
	int dup; /* an older run of the same point (ignored) */
};

struct rg_set {
	const char *path;
	int is_db;
	struct rg_run *runs;
	int n, cap;
};

static void set_free(struct rg_set *s)
{
	for (int i = 0; i < s->n; i++) {
		struct rg_run *r = &s->runs[i];
		for (int k = 0; k < r->nm; k++) {
			free(r->m[k].name);
			free(r->m[k].unit);
		}
		free(r->m);
		free(r->scenario);
		free(r->overrides);
		free(r->key);
	}
	free(s->runs);
	memset(s, 0, sizeof *s);
}

static struct rg_run *add_run(struct rg_set *s, int64_t id, const char *scen, uint64_t seed,
			      const char *ov)
{
	if (s->n == s->cap) {
		int cap = s->cap ? 2 * s->cap : 64;
		struct rg_run *p = realloc(s->runs, (size_t)cap * sizeof *p);
		if (!p)
			return NULL;
		s->runs = p;
		s->cap = cap;
	}
	struct rg_run *r = &s->runs[s->n];
	memset(r, 0, sizeof *r);
	r->id = id;
	r->seed = seed;
	r->scenario = strdup(scen ? scen : "");
	r->overrides = strdup(ov ? ov : "");
	if (!r->scenario || !r->overrides) {
		free(r->scenario);
		free(r->overrides);
		return NULL;
	}
	s->n++;
	return r;
}

static int add_metric(struct rg_run *r, const char *name, double v, const char *unit)
{
	if (r->nm == r->cap) {
		int cap = r->cap ? 2 * r->cap : 32;
		struct rg_metric *p = realloc(r->m, (size_t)cap * sizeof *p);
		if (!p)
			return JV_ENOMEM;
		r->m = p;
		r->cap = cap;
	}
	r->m[r->nm].name = strdup(name);
	r->m[r->nm].unit = strdup(unit ? unit : "");
	r->m[r->nm].value = v;
	if (!r->m[r->nm].name || !r->m[r->nm].unit) {
		free(r->m[r->nm].name);
		free(r->m[r->nm].unit);
		return JV_ENOMEM;
	}
	r->nm++;
	return 0;
}

static struct rg_run *find_run(struct rg_set *s, int64_t id)
{
	/* runs are added in increasing id order by both loaders */
	int lo = 0, hi = s->n - 1;
	while (lo <= hi) {
		int mid = (lo + hi) / 2;
		if (s->runs[mid].id == id)
			return &s->runs[mid];
		if (s->runs[mid].id < id)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return NULL;
}

static int load_db(struct rg_set *s, struct jv_diag *d)
{
	struct db *db;
	sqlite3_stmt *st = NULL;
	int err = db_open(s->path, DB_READ, &db, d), rc;
	if (err)
		return err;
	if (sqlite3_prepare_v2(db_sqlite(db),
			       "SELECT id, scenario_name, seed, overrides FROM run"
			       " WHERE status = 'complete' ORDER BY id",
			       -1, &st, NULL) != SQLITE_OK) {
		err = db_error(db, d, "reading runs");
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (!add_run(s, sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1),
			     (uint64_t)sqlite3_column_int64(st, 2),
			     (const char *)sqlite3_column_text(st, 3))) {
			err = jv_diag_set(d, JV_ENOMEM, s->path, 0, "out of memory");
			goto out;
		}
	if (rc != SQLITE_DONE) {
		err = db_error(db, d, "reading runs");
		goto out;
	}
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(db_sqlite(db),
			       "SELECT run_id, name, value, unit FROM metric ORDER BY run_id, rowid", -1,
			       &st, NULL) != SQLITE_OK) {
		st = NULL;
		err = db_error(db, d, "reading metrics");
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct rg_run *r = find_run(s, sqlite3_column_int64(st, 0));
		const char *name = (const char *)sqlite3_column_text(st, 1);
		if (!r || !name || sqlite3_column_type(st, 2) == SQLITE_NULL)
			continue; /* a run that is not complete, or a metric without value */
		if ((err = add_metric(r, name, sqlite3_column_double(st, 2),
				      (const char *)sqlite3_column_text(st, 3)))) {
			jv_diag_set(d, err, s->path, 0, "out of memory");
			goto out;
		}
	}
	if (rc != SQLITE_DONE)
		err = db_error(db, d, "reading metrics");
out:
	sqlite3_finalize(st);
	db_close(db);
	return err;
}

/* The metrics CSV, parsed with libcsv. */
struct csv_ctx {
	struct rg_set *s;
	struct jv_diag *d;
	char *f[REGRESS_CSV_COLS];
	int nf;
	long line;
	int err;
};

static const char *const CSV_HEADER[REGRESS_CSV_COLS] = {
	"run_id", "scenario", "seed", "status", "point_key", "overrides", "name", "value", "unit"};

static void csv_cb_field(void *data, size_t len, void *vctx)
{
	struct csv_ctx *x = vctx;
	(void)len;
	if (x->nf < REGRESS_CSV_COLS && !(x->f[x->nf] = strdup(data ? (const char *)data : "")))
		x->err = JV_ENOMEM;
	x->nf++;
}

static int csv_row(struct csv_ctx *x)
{
	x->line++;
	if (x->nf != REGRESS_CSV_COLS)
		return jv_diag_set(x->d, JV_EPARSE, x->s->path, x->line,
				   "expected %d fields, found %d", REGRESS_CSV_COLS, x->nf);
	if (x->line == 1) {
		for (int k = 0; k < REGRESS_CSV_COLS; k++)
			if (strcmp(x->f[k], CSV_HEADER[k]) != 0)
				return jv_diag_set(x->d, JV_EPARSE, x->s->path, 1,
						   "header: column %d: expected '%s', found '%s' (not "
						   "an SQLite database either)",
						   k + 1, CSV_HEADER[k], x->f[k]);
		return 0;
	}
	char *end;
	errno = 0;
	long long id = strtoll(x->f[0], &end, 10);
	if (errno || *end || end == x->f[0])
		return jv_diag_set(x->d, JV_EPARSE, x->s->path, x->line, "run_id: not an integer '%s'",
				   x->f[0]);
	unsigned long long seed = strtoull(x->f[2], &end, 10);
	if (errno || *end || end == x->f[2])
		return jv_diag_set(x->d, JV_EPARSE, x->s->path, x->line, "seed: not an integer '%s'",
				   x->f[2]);
	double v = strtod(x->f[7], &end);
	if (errno || *end || end == x->f[7] || !isfinite(v))
		return jv_diag_set(x->d, JV_EPARSE, x->s->path, x->line, "value: not a number '%s'",
				   x->f[7]);
	if (strcmp(x->f[3], "complete") != 0)
		return 0;
	struct rg_run *r = x->s->n ? &x->s->runs[x->s->n - 1] : NULL;
	if (!r || r->id != id) {
		if (r && id < r->id)
			return jv_diag_set(x->d, JV_EPARSE, x->s->path, x->line,
					   "run_id: rows must be ordered by run_id (%lld after %" PRId64
					   ")",
					   id, r->id);
		if (!(r = add_run(x->s, id, x->f[1], seed, x->f[5])))
			return jv_diag_set(x->d, JV_ENOMEM, x->s->path, 0, "out of memory");
	}
	if (add_metric(r, x->f[6], v, x->f[8]))
		return jv_diag_set(x->d, JV_ENOMEM, x->s->path, 0, "out of memory");
	return 0;
}

static void csv_cb_row(int c, void *vctx)
{
	struct csv_ctx *x = vctx;
	(void)c;
	if (!x->err && !x->d->err)
		x->err = x->err ? x->err : csv_row(x);
	for (int k = 0; k < REGRESS_CSV_COLS && k < x->nf; k++)
		free(x->f[k]);
	memset(x->f, 0, sizeof x->f);
	x->nf = 0;
}

static int load_csv(struct rg_set *s, FILE *f, struct jv_diag *d)
{
	struct csv_parser p;
	struct csv_ctx x = {.s = s, .d = d};
	char buf[65536];
	size_t n;
	if (csv_init(&p, CSV_STRICT | CSV_APPEND_NULL | CSV_STRICT_FINI) != 0)
		return jv_diag_set(d, JV_ENOMEM, s->path, 0, "out of memory");
	while (!x.err && !d->err && (n = fread(buf, 1, sizeof buf, f)) > 0)
		if (csv_parse(&p, buf, n, csv_cb_field, csv_cb_row, &x) != n && !d->err)
			jv_diag_set(d, JV_EPARSE, s->path, x.line + 1, "malformed CSV: %s",
				    csv_strerror(csv_error(&p)));
	if (!d->err && !x.err && csv_fini(&p, csv_cb_field, csv_cb_row, &x) != 0)
		jv_diag_set(d, JV_EPARSE, s->path, x.line + 1, "malformed CSV: %s",
			    csv_strerror(csv_error(&p)));
	for (int k = 0; k < REGRESS_CSV_COLS && k < x.nf; k++)
		free(x.f[k]);
	csv_free(&p);
	if (!d->err && x.err)
		jv_diag_set(d, x.err, s->path, 0, "%s", jv_strerror(x.err));
	if (!d->err && x.line == 0)
		jv_diag_set(d, JV_EEMPTY, s->path, 0,
			    "empty file: expected an SQLite run database or a metrics CSV");
	return d->err;
}

static int load_set(struct rg_set *s, const char *path, struct jv_diag *d)
{
	char magic[16] = {0};
	memset(s, 0, sizeof *s);
	s->path = path;
	FILE *f = fopen(path, "rb");
	if (!f)
		return jv_diag_set(d, errno == ENOENT ? JV_ENOENT : JV_EIO, path, 0,
				   "cannot open: %s", strerror(errno));
	size_t n = fread(magic, 1, sizeof magic, f);
	if (n == sizeof magic && memcmp(magic, REGRESS_SQLITE_MAGIC, sizeof REGRESS_SQLITE_MAGIC) == 0) {
		fclose(f);
		s->is_db = 1;
		return load_db(s, d);
	}
	rewind(f);
	int err = load_csv(s, f, d);
	fclose(f);
	return err;
}

/* Match keys (with --ignore-override), latest run of each point. */
static int cmp_run_key(const void *a, const void *b)
{
	const struct rg_run *x = a, *y = b;
	int c = strcmp(x->key, y->key);
	return c ? c : (x->id < y->id ? -1 : x->id > y->id);
}

static int key_set(struct rg_set *s, const char *const *ign, int n_ign, FILE *err,
		   struct jv_diag *d)
{
	for (int i = 0; i < s->n; i++) {
		char *canon;
		struct rg_run *r = &s->runs[i];
		if (db_canon_drop(r->overrides, ign, n_ign, &canon) ||
		    db_point_key(r->scenario, r->seed, canon, &r->key)) {
			free(canon);
			return jv_diag_set(d, JV_ENOMEM, s->path, 0, "out of memory");
		}
		free(canon);
	}
	if (s->n > 1)
		qsort(s->runs, (size_t)s->n, sizeof *s->runs, cmp_run_key);
	for (int i = 1; i < s->n; i++) {
		struct rg_run *a = &s->runs[i - 1], *b = &s->runs[i];
		if (strcmp(a->key, b->key) != 0)
			continue;
		if (n_ign && strcmp(a->overrides, b->overrides) != 0)
			return jv_diag_set(d, JV_EUSAGE, s->path, 0,
					   "runs %" PRId64 " and %" PRId64 " are different points ('%s' "
					   "and '%s') that match the same point after "
					   "--ignore-override",
					   a->id, b->id, a->overrides, b->overrides);
		a->dup = 1;
		fprintf(err, "joulevisor: regress: note: %s: more than one complete run of '%s'; "
			"comparing the latest (run %" PRId64 ")\n", s->path, b->key, b->id);
	}
	return 0;
}

static const struct rg_run *lookup(const struct rg_set *s, const char *key)
{
	int lo = 0, hi = s->n - 1, found = -1;
	while (lo <= hi) {
		int mid = (lo + hi) / 2;
		int c = strcmp(s->runs[mid].key, key);
		if (c == 0) {
			found = mid;
			lo = mid + 1; /* the latest of equal keys */
		} else if (c < 0) {
			lo = mid + 1;
		} else {
			hi = mid - 1;
		}
	}
	return found >= 0 ? &s->runs[found] : NULL;
}

static const struct rg_metric *metric_of(const struct rg_run *r, const char *name)
{
	for (int i = 0; i < r->nm; i++)
		if (strcmp(r->m[i].name, name) == 0)
			return &r->m[i];
	return NULL;
}

/* ---- comparison rows ---------------------------------------------------------------- */

enum row_kind { K_REGRESSED, K_MISSING_POINT, K_MISSING_METRIC, K_IMPROVED, K_WORSE, K_BETTER,
		K_CHANGED, K_SAME, K_NEW_POINT, K_NEW_METRIC };
static const char *const KIND_NAMES[] = {"REGRESSION", "MISSING", "MISSING", "improved",
					 "worse", "better", "changed", "same", "new", "new"};

struct row {
	enum row_kind kind;
	const struct rg_run *b, *c;
	const char *key, *metric, *unit;
	double base, cand, worse, tol, severity;
	const struct rg_rule *rule;
};

struct rows {
	struct row *v;
	size_t n, cap;
};

static int push(struct rows *rs, const struct row *r)
{
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? 2 * rs->cap : 256;
		struct row *p = realloc(rs->v, cap * sizeof *p);
		if (!p)
			return JV_ENOMEM;
		rs->v = p;
		rs->cap = cap;
	}
	rs->v[rs->n++] = *r;
	return 0;
}

static int kind_rank(enum row_kind k)
{
	return k == K_MISSING_POINT || k == K_MISSING_METRIC ? K_REGRESSED : (int)k;
}

static int cmp_row(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	int kx = kind_rank(x->kind), ky = kind_rank(y->kind);
	if (kx != ky)
		return kx < ky ? -1 : 1;
	double sx = x->severity, sy = y->severity;
	if (kx == K_IMPROVED || kx == K_BETTER) { /* most improved first */
		sx = -sx;
		sy = -sy;
	}
	if (sx != sy)
		return sx > sy ? -1 : 1;
	int c = strcmp(x->key, y->key);
	return c ? c : strcmp(x->metric ? x->metric : "", y->metric ? y->metric : "");
}

static double severity(double worse, double tol)
{
	if (worse == 0)
		return 0;
	if (tol > 0 && isfinite(worse))
		return worse / tol;
	return worse > 0 ? INFINITY : -INFINITY;
}

static int compare_runs(const struct rg_run *b, const struct rg_run *c, const struct rg_rule *rules,
			int nrules, int allow_missing, struct rows *rs)
{
	for (int i = 0; i < b->nm; i++) {
		const struct rg_metric *bm = &b->m[i];
		const struct rg_rule *rule = regress_rule_for(rules, nrules, bm->name);
		if (rule->better == RG_IGNORE)
			continue;
		const struct rg_metric *cm = metric_of(c, bm->name);
		struct row r = {.b = b, .c = c, .key = b->key, .metric = bm->name, .unit = bm->unit,
				.base = bm->value, .rule = rule};
		if (!cm) {
			r.kind = allow_missing ? K_CHANGED : K_MISSING_METRIC;
			r.severity = allow_missing ? 0 : INFINITY;
			r.cand = NAN;
		} else {
			r.cand = cm->value;
			enum rg_verdict v = regress_compare(rule, bm->name, bm->value, cm->value,
							    &r.worse, &r.tol);
			r.severity = severity(r.worse, r.tol);
			r.kind = v == RG_SAME	     ? K_SAME
				 : v == RG_REGRESSED ? K_REGRESSED
				 : v == RG_IMPROVED  ? K_IMPROVED
				 : rule->better == RG_INFO ? K_CHANGED
				 : r.worse > 0		   ? K_WORSE
							   : K_BETTER;
		}
		if (push(rs, &r))
			return JV_ENOMEM;
	}
	for (int i = 0; i < c->nm; i++)
		if (!metric_of(b, c->m[i].name) &&
		    regress_rule_for(rules, nrules, c->m[i].name)->better != RG_IGNORE) {
			struct row r = {.kind = K_NEW_METRIC, .b = b, .c = c, .key = c->key,
					.metric = c->m[i].name, .unit = c->m[i].unit,
					.base = NAN, .cand = c->m[i].value};
			if (push(rs, &r))
				return JV_ENOMEM;
		}
	return 0;
}

struct summary {
	size_t matched, only_base, only_cand, compared, regressed, improved, within;
};

static int compare_sets(const struct rg_set *bs, const struct rg_set *cs,
			const struct rg_rule *rules, int nrules, int allow_missing, struct rows *rs,
			struct summary *sum)
{
	for (int i = 0; i < bs->n; i++) {
		const struct rg_run *b = &bs->runs[i];
		if (b->dup)
			continue;
		const struct rg_run *c = lookup(cs, b->key);
		if (!c) {
			sum->only_base++;
			struct row r = {.kind = allow_missing ? K_CHANGED : K_MISSING_POINT, .b = b,
					.key = b->key, .severity = allow_missing ? 0 : INFINITY,
					.base = NAN, .cand = NAN};
			if (push(rs, &r))
				return JV_ENOMEM;
			continue;
		}
		sum->matched++;
		if (compare_runs(b, c, rules, nrules, allow_missing, rs))
			return JV_ENOMEM;
	}
	for (int i = 0; i < cs->n; i++)
		if (!cs->runs[i].dup && !lookup(bs, cs->runs[i].key)) {
			sum->only_cand++;
			struct row r = {.kind = K_NEW_POINT, .c = &cs->runs[i], .key = cs->runs[i].key,
					.base = NAN, .cand = NAN};
			if (push(rs, &r))
				return JV_ENOMEM;
		}
	for (size_t i = 0; i < rs->n; i++) {
		enum row_kind k = rs->v[i].kind;
		sum->compared += rs->v[i].metric && k != K_NEW_METRIC && k != K_MISSING_METRIC;
		sum->regressed += k == K_REGRESSED || k == K_MISSING_POINT || k == K_MISSING_METRIC;
		sum->improved += k == K_IMPROVED;
		sum->within += k == K_WORSE || k == K_BETTER || k == K_CHANGED;
	}
	if (rs->n > 1)
		qsort(rs->v, rs->n, sizeof *rs->v, cmp_row);
	return 0;
}

/* ---- output --------------------------------------------------------------------------- */

static void fmt_val(char *buf, size_t cap, const char *metric, double v)
{
	if (isnan(v))
		snprintf(buf, cap, "-");
	else if (metric && strstr(metric, "settling_time") && v < 0)
		snprintf(buf, cap, "never");
	else
		snprintf(buf, cap, "%.6g", v);
}

static void fmt_change(char *buf, size_t cap, const struct row *r)
{
	if (isnan(r->base) || isnan(r->cand)) {
		snprintf(buf, cap, "-");
		return;
	}
	int never = r->metric && strstr(r->metric, "settling_time") && (r->base < 0 || r->cand < 0);
	if (never) {
		snprintf(buf, cap, "%s", r->cand < 0 && r->base < 0 ? "0" : r->cand < 0 ? "-> never" : "<- never");
		return;
	}
	double dv = r->cand - r->base;
	if (r->base != 0)
		snprintf(buf, cap, "%+.4g (%+.3g%%)", dv, 100.0 * dv / fabs(r->base));
	else
		snprintf(buf, cap, "%+.4g", dv);
}

static void fmt_tol(char *buf, size_t cap, const struct row *r)
{
	if (!r->rule || !r->metric || r->kind == K_MISSING_METRIC)
		snprintf(buf, cap, "-");
	else
		snprintf(buf, cap, "%s %.3g%s%s", BETTER_NAMES[r->rule->better], r->tol,
			 r->unit && *r->unit ? " " : "", r->unit ? r->unit : "");
}

static void fmt_sev(char *buf, size_t cap, const struct row *r)
{
	if (r->kind == K_SAME || r->kind == K_NEW_POINT || r->kind == K_NEW_METRIC ||
	    r->kind == K_CHANGED)
		snprintf(buf, cap, "-");
	else if (isinf(r->severity))
		snprintf(buf, cap, "%sinf", r->severity < 0 ? "-" : "");
	else
		snprintf(buf, cap, "%.3g", r->severity);
}

static int shown(const struct row *r, int all)
{
	return all || r->kind != K_SAME;
}

static void print_table(FILE *out, const struct rows *rs, int all)
{
	char bv[32], cv[32], ch[48], tl[64], sv[16];
	fprintf(out, "%-10s %8s  %-44s %12s %12s %-22s %-18s %s\n", "status", "severity", "metric",
		"baseline", "candidate", "change", "threshold", "point");
	for (size_t i = 0; i < rs->n; i++) {
		const struct row *r = &rs->v[i];
		if (!shown(r, all))
			continue;
		fmt_val(bv, sizeof bv, r->metric, r->base);
		fmt_val(cv, sizeof cv, r->metric, r->cand);
		fmt_change(ch, sizeof ch, r);
		fmt_tol(tl, sizeof tl, r);
		fmt_sev(sv, sizeof sv, r);
		fprintf(out, "%-10s %8s  %-44s %12s %12s %-22s %-18s %s\n", KIND_NAMES[r->kind], sv,
			r->metric ? r->metric : (r->kind == K_NEW_POINT ? "(point only in candidate)"
									: "(point not in candidate)"),
			bv, cv, ch, tl, r->key);
	}
}

/* Markdown table cell: | and newlines escaped. */
static void md_cell(FILE *f, const char *s)
{
	fputs("| ", f);
	for (; s && *s; s++) {
		if (*s == '|')
			fputs("\\|", f);
		else if (*s == '\n')
			fputc(' ', f);
		else
			fputc(*s, f);
	}
	fputc(' ', f);
}

static void md_rows(FILE *f, const struct rows *rs, const char *title, int k1, int k2, int k3)
{
	size_t n = 0;
	char bv[32], cv[32], ch[48], tl[64], sv[16];
	for (size_t i = 0; i < rs->n; i++)
		n += (int)rs->v[i].kind == k1 || (int)rs->v[i].kind == k2 || (int)rs->v[i].kind == k3;
	fprintf(f, "\n## %s (%zu)\n\n", title, n);
	if (!n)
		return;
	fputs("| status | severity | metric | baseline | candidate | change | threshold | point |\n"
	      "|---|---:|---|---:|---:|---|---|---|\n",
	      f);
	for (size_t i = 0; i < rs->n; i++) {
		const struct row *r = &rs->v[i];
		if ((int)r->kind != k1 && (int)r->kind != k2 && (int)r->kind != k3)
			continue;
		fmt_val(bv, sizeof bv, r->metric, r->base);
		fmt_val(cv, sizeof cv, r->metric, r->cand);
		fmt_change(ch, sizeof ch, r);
		fmt_tol(tl, sizeof tl, r);
		fmt_sev(sv, sizeof sv, r);
		md_cell(f, KIND_NAMES[r->kind]);
		md_cell(f, sv);
		md_cell(f, r->metric ? r->metric : "(whole point)");
		md_cell(f, bv);
		md_cell(f, cv);
		md_cell(f, ch);
		md_cell(f, tl);
		md_cell(f, r->key);
		fputs("|\n", f);
	}
}

/* gnuplot on PATH, "" when missing. */
static void find_gnuplot(char *out, size_t cap)
{
	const char *path = getenv("PATH");
	*out = '\0';
	while (path && *path) {
		size_t len = strcspn(path, ":");
		char cand[REGRESS_PATH_MAX];
		snprintf(cand, sizeof cand, "%.*s/gnuplot", (int)len, path);
		if (len && access(cand, X_OK) == 0) {
			snprintf(out, cap, "%s", cand);
			return;
		}
		path += len + (path[len] == ':');
	}
}

/* "limit_VM_LOOP_..." -> vm, actuator; 0 when it is a control metric. */
static int control_of(const char *metric, char *vm, size_t cap, const char **actuator)
{
	if (strncmp(metric, "limit_", 6) != 0)
		return -1;
	const char *s = metric + 6;
	for (const char *p = s; (p = strchr(p, '_')); p++) {
		int disk = strncmp(p, "_disk_", 6) == 0, cpu = strncmp(p, "_cpu_", 5) == 0;
		if ((disk || cpu) && (size_t)(p - s) < cap && p > s) {
			snprintf(vm, cap, "%.*s", (int)(p - s), s);
			*actuator = disk ? "budget" : "stride";
			/* keep looking for the last match: a VM name may hold _disk_ */
		}
	}
	return *vm ? 0 : -1;
}

/* Control steps of one run into the data file as a gnuplot block. */
static int dump_control(const char *dbpath, int64_t id, const char *vm, const char *act, FILE *f)
{
	struct db *db;
	struct jv_diag d;
	sqlite3_stmt *st = NULL;
	int n = 0;
	jv_diag_clear(&d);
	if (db_open(dbpath, DB_READ, &db, &d))
		return 0;
	if (sqlite3_prepare_v2(db_sqlite(db),
			       "SELECT t_ns, measured_w, limit_w FROM control WHERE run_id = ?1 AND"
			       " vm = ?2 AND actuator = ?3 ORDER BY rowid",
			       -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_text(st, 2, vm, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 3, act, -1, SQLITE_STATIC);
		while (sqlite3_step(st) == SQLITE_ROW) {
			fprintf(f, "%.9g %.9g %.9g\n", (double)sqlite3_column_int64(st, 0) * 1e-9,
				sqlite3_column_double(st, 1), sqlite3_column_double(st, 2));
			n++;
		}
	}
	sqlite3_finalize(st);
	db_close(db);
	return n;
}

static int run_gnuplot(const char *gnuplot, const char *script)
{
	int fd[2];
	if (pipe(fd) != 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0) {
		close(fd[0]);
		close(fd[1]);
		return -1;
	}
	if (pid == 0) {
		dup2(fd[0], 0);
		close(fd[0]);
		close(fd[1]);
		int null = open("/dev/null", O_WRONLY);
		if (null >= 0) {
			dup2(null, 1);
			dup2(null, 2);
		}
		execl(gnuplot, "gnuplot", (char *)NULL);
		_exit(127);
	}
	close(fd[0]);
	size_t len = strlen(script), off = 0;
	while (off < len) {
		ssize_t w = write(fd[1], script + off, len - off);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	close(fd[1]);
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static void quote_gp(const char *s, char *out, size_t cap)
{
	size_t n = 0;
	if (cap < 3) {
		*out = '\0';
		return;
	}
	out[n++] = '\'';
	for (; *s && n + 3 < cap; s++) {
		if (*s == '\'')
			out[n++] = '\'';
		out[n++] = *s;
	}
	out[n++] = '\'';
	out[n] = '\0';
}

/* Figures of the worst regressed control metrics; notes what was skipped. */
static void md_figures(FILE *f, const char *report, const struct rows *rs,
		       const struct rg_set *bs, const struct rg_set *cs)
{
	char gnuplot[REGRESS_PATH_MAX];
	fprintf(f, "\n## Figures\n\n");
	if (!bs->is_db || !cs->is_db) {
		fprintf(f, "Skipped: figures need both inputs as databases (a metrics CSV has no "
			   "control series).\n");
		return;
	}
	find_gnuplot(gnuplot, sizeof gnuplot);
	if (!*gnuplot) {
		fprintf(f, "Skipped: gnuplot is not on PATH.\n");
		return;
	}
	int made = 0;
	const struct rg_run *done[REGRESS_MAX_FIGURES];
	for (size_t i = 0; i < rs->n && made < REGRESS_MAX_FIGURES; i++) {
		const struct row *r = &rs->v[i];
		char vm[128] = "", dat[REGRESS_PATH_MAX], png[REGRESS_PATH_MAX];
		const char *act = "budget";
		if (r->kind != K_REGRESSED || !r->metric ||
		    control_of(r->metric, vm, sizeof vm, &act) != 0)
			continue;
		int seen = 0;
		for (int k = 0; k < made; k++)
			seen |= done[k] == r->b;
		if (seen)
			continue;
		snprintf(dat, sizeof dat, "%s-fig%d.dat", report, made + 1);
		snprintf(png, sizeof png, "%s-fig%d.png", report, made + 1);
		FILE *df = fopen(dat, "w");
		if (!df)
			continue;
		int nb = dump_control(bs->path, r->b->id, vm, act, df);
		fputs("\n\n", df);
		int nc = dump_control(cs->path, r->c->id, vm, act, df);
		fclose(df);
		if (!nb || !nc) {
			unlink(dat);
			continue;
		}
		char qd[REGRESS_PATH_MAX + 8], qp[REGRESS_PATH_MAX + 8], script[4 * REGRESS_PATH_MAX];
		quote_gp(dat, qd, sizeof qd);
		quote_gp(png, qp, sizeof qp);
		snprintf(script, sizeof script,
			 "set terminal pngcairo size 900,420\nset output %s\n"
			 "set xlabel 'time (s)'\nset ylabel 'measured power (W)'\nset key top right\n"
			 "set title '%s: %s loop (%s)' noenhanced\n"
			 "plot %s index 0 using 1:2 with lines title 'baseline',"
			 " '' index 1 using 1:2 with lines title 'candidate',"
			 " '' index 0 using 1:3 with lines dashtype 2 title 'limit'\n",
			 qp, vm, strcmp(act, "budget") ? "cpu" : "disk", r->metric, qd);
		if (run_gnuplot(gnuplot, script) != 0) {
			fprintf(f, "Skipped a figure: gnuplot failed for %s.\n", r->metric);
			unlink(png);
			continue;
		}
		const char *base = strrchr(png, '/');
		fprintf(f, "![%s at %s](%s)\n\n", r->metric, r->key, base ? base + 1 : png);
		done[made++] = r->b;
	}
	if (!made)
		fprintf(f, "No regressed control metric to plot.\n");
}

static int write_report(const char *path, const struct rows *rs, const struct summary *sum,
			const struct rg_set *bs, const struct rg_set *cs, const char *thr,
			const struct rg_rule *rules, int nrules, struct jv_diag *d)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return jv_diag_set(d, JV_EIO, path, 0, "cannot create: %s", strerror(errno));
	fprintf(f, "# joulevisor regress report\n\n");
	fprintf(f, "- baseline: `%s` (%d complete run(s))\n", bs->path, bs->n);
	fprintf(f, "- candidate: `%s` (%d complete run(s))\n", cs->path, cs->n);
	fprintf(f, "- thresholds: %s\n", thr ? thr : "built-in defaults");
	fprintf(f, "- points: %zu matched, %zu only in the baseline, %zu only in the candidate\n",
		sum->matched, sum->only_base, sum->only_cand);
	fprintf(f, "- metrics compared: %zu\n", sum->compared);
	fprintf(f, "- result: %s\n",
		sum->regressed ? "**REGRESSION**" : "no regression past the thresholds");
	fprintf(f, "- %zu regression(s), %zu improvement(s), %zu change(s) within thresholds\n",
		sum->regressed, sum->improved, sum->within);
	md_rows(f, rs, "Regressions", K_REGRESSED, K_MISSING_POINT, K_MISSING_METRIC);
	md_rows(f, rs, "Improvements", K_IMPROVED, K_IMPROVED, K_IMPROVED);
	md_rows(f, rs, "Changes within thresholds", K_WORSE, K_BETTER, K_CHANGED);
	md_rows(f, rs, "Only in the candidate", K_NEW_POINT, K_NEW_METRIC, K_NEW_METRIC);
	md_figures(f, path, rs, bs, cs);
	fprintf(f, "\n## Thresholds\n\nFirst match wins; tolerance = max(abs, rel x |baseline|).\n\n"
		   "| pattern | better | abs | rel | from |\n|---|---|---:|---:|---|\n");
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < (pass ? N_DEFAULTS : nrules); i++) {
			const struct rg_rule *r = pass ? &DEFAULTS[i] : &rules[i];
			char a[32], b[32];
			snprintf(a, sizeof a, "%g", r->abs_tol);
			snprintf(b, sizeof b, "%g%%", 100 * r->rel_tol);
			md_cell(f, r->pattern);
			md_cell(f, BETTER_NAMES[r->better]);
			md_cell(f, a);
			md_cell(f, b);
			md_cell(f, r->origin);
			fputs("|\n", f);
		}
	int bad = ferror(f);
	if (fclose(f) != 0 || bad)
		return jv_diag_set(d, JV_EIO, path, 0, "write failed: %s", strerror(errno ? errno : EIO));
	return 0;
}

/* ---- CLI -------------------------------------------------------------------------------- */

static void usage(FILE *f)
{
	fputs("usage: joulevisor regress --baseline BASE --candidate CAND [--thresholds FILE]\n"
	      "                          [--report FILE.md] [--ignore-override KEY]...\n"
	      "                          [--allow-missing] [--all]\n"
	      "\n"
	      "Compare the metrics of the candidate runs with the baseline, point by point\n"
	      "(scenario, seed and overrides). BASE and CAND are run databases (sweep,\n"
	      "run --db, db merge) or metrics CSV files (`joulevisor db export DB --metrics`).\n"
	      "\n"
	      "  --thresholds FILE      rules `PATTERN BETTER [abs=X] [rel=Y%]` before the\n"
	      "                         built-in ones (BETTER: lower higher zero equal info ignore)\n"
	      "  --report FILE.md       write a Markdown report (figures need gnuplot)\n"
	      "  --ignore-override KEY  match points regardless of KEY (compare across a change\n"
	      "                         of that option)\n"
	      "  --allow-missing        a baseline point or metric absent from the candidate\n"
	      "                         is not a regression\n"
	      "  --all                  list unchanged metrics too\n"
	      "\n"
	      "exit: 0 no regression, 3 regression, 1 runtime failure, 2 bad input\n",
	      f);
}

int regress_cli(int argc, char **argv, FILE *out, FILE *err)
{
	const char *base = NULL, *cand = NULL, *thr = NULL, *report = NULL;
	const char *ign[REGRESS_MAX_IGNORE];
	int n_ign = 0, all = 0, allow_missing = 0, rc = 2, nrules = 0;
	struct rg_rule *rules = NULL;
	struct rg_set bs = {0}, cs = {0};
	struct rows rs = {0};
	struct summary sum = {0};
	struct jv_diag d;
	jv_diag_clear(&d);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int takes = !strcmp(a, "--baseline") || !strcmp(a, "--candidate") ||
			    !strcmp(a, "--thresholds") || !strcmp(a, "--report") ||
			    !strcmp(a, "--ignore-override");
		if (takes && i + 1 >= argc) {
			fprintf(err, "joulevisor: regress: option %s needs a value\n", a);
			return 2;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(out);
			return 0;
		} else if (!strcmp(a, "--baseline")) {
			base = argv[++i];
		} else if (!strcmp(a, "--candidate")) {
			cand = argv[++i];
		} else if (!strcmp(a, "--thresholds")) {
			thr = argv[++i];
		} else if (!strcmp(a, "--report")) {
			report = argv[++i];
		} else if (!strcmp(a, "--ignore-override")) {
			if (n_ign == REGRESS_MAX_IGNORE) {
				fprintf(err, "joulevisor: regress: more than %d --ignore-override\n",
					REGRESS_MAX_IGNORE);
				return 2;
			}
			ign[n_ign++] = argv[++i];
		} else if (!strcmp(a, "--all")) {
			all = 1;
		} else if (!strcmp(a, "--allow-missing")) {
			allow_missing = 1;
		} else {
			fprintf(err, "joulevisor: regress: unexpected argument '%s' (see `joulevisor "
				"regress --help`)\n", a);
			return 2;
		}
	}
	if (!base || !cand) {
		fprintf(err, "joulevisor: regress: --baseline and --candidate are required\n");
		return 2;
	}
	if ((thr && regress_parse_thresholds(thr, &rules, &nrules, &d)) || load_set(&bs, base, &d) ||
	    load_set(&cs, cand, &d) || key_set(&bs, ign, n_ign, err, &d) ||
	    key_set(&cs, ign, n_ign, err, &d))
		goto fail;
	if (compare_sets(&bs, &cs, rules, nrules, allow_missing, &rs, &sum)) {
		jv_diag_set(&d, JV_ENOMEM, NULL, 0, "out of memory");
		goto fail;
	}
	if (sum.matched == 0) {
		jv_diag_set(&d, JV_EINVAL, NULL, 0,
			    "no point of %s (%d run(s)) is in %s (%d run(s)): nothing to compare",
			    base, bs.n, cand, cs.n);
		goto fail;
	}
	print_table(out, &rs, all);
	fprintf(out,
		"regress: %zu point(s) matched (%zu only in the baseline, %zu only in the "
		"candidate), %zu metric(s) compared: %zu regression(s), %zu improvement(s), %zu "
		"change(s) within thresholds\n",
		sum.matched, sum.only_base, sum.only_cand, sum.compared, sum.regressed, sum.improved,
		sum.within);
	if (report && write_report(report, &rs, &sum, &bs, &cs, thr, rules, nrules, &d)) {
		fprintf(err, "joulevisor: %s\n", d.msg);
		rc = 1;
		goto out;
	}
	fprintf(out, "regress: %s\n", sum.regressed ? "REGRESSION" : "ok");
	rc = sum.regressed ? 3 : 0;
	goto out;
fail:
	fprintf(err, "joulevisor: regress: %s\n", d.msg);
	rc = jv_exit_code(d.err);
	if (rc == 1 && d.err != JV_ENOMEM && d.err != JV_EIO)
		rc = 2;
out:
	free(rs.v);
	free(rules);
	set_free(&bs);
	set_free(&cs);
	return rc;
}
