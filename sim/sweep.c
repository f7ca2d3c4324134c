/*
 * sweep: theory of operation.
 *
 * Problem: tuning a controller means running one scenario over many values
 * of a few options (gains, periods, limits) and seeds, then comparing the
 * control metrics. The runs are independent and deterministic; a sweep can
 * take hours, may be killed half-way, and may be spread over a cluster.
 *
 * Points: `--grid KEY=V1,V2,...` axes (keys in --set syntax, design §7)
 * form a cartesian product; `--random K --range KEY=LO:HI[:log]` adds K
 * samples of the ranges (uniform, or log-uniform with :log; integers when
 * both bounds are; a unit suffix such as `ms` is kept when both bounds
 * carry it), drawn from splitmix64 seeded by (--random-seed, sample, axis)
 * so every process draws the same values; `--seeds 1-5` multiplies by
 * global.seed values. Point i of grid x samples x seeds: the first grid
 * axis varies slowest, seeds fastest. A point is identified by its point
 * key, "SCENARIO seed=SEED KEY=VALUE ..." with the overrides sorted
 * (sim/db.c); points whose key repeats an earlier one (integer or rounded
 * samples) are run once, the first.
 *
 * Shards: `--shard K/N` keeps the points with i mod N == K - 1, a
 * deterministic slice that needs no coordination: N processes (a Slurm job
 * array, docs/slurm-sweep.sh) each write their own database and
 * `joulevisor db merge` combines them; shards merged equal one process.
 *
 * Workers: the parent validates everything first (the scenario with the
 * --set overrides, and each grid value and range bound alone: a bad key or
 * value is exit 2 before anything runs), reads the point keys already
 * complete in --db and skips them (resumption), then forks up to -j
 * workers, one per point. A worker runs run_main() into the point's run
 * directory OUT_DIR/<xxh64 of the point key> (--force: a directory left by
 * a killed worker is replaced) with its own temporary database
 * OUT_DIR/.<id>.rundb-PID (one left by a worker killed with its parent is
 * removed by the next sweep of that shard), computes the sweep metrics (below), then copies
 * the run, its tables (all but the bulky `power`, which stays in
 * power.csv) and the metrics into --db in one short BEGIN IMMEDIATE
 * transaction with run.overrides, run.point_key and run.out_dir set, and
 * removes the temporary database. Workers queue for the write lock (busy
 * timeout DB_BUSY_TIMEOUT_MS = 60 s); the simulation itself runs outside
 * any lock, so N workers run N simulations at once. The point key is
 * UNIQUE in the database: a point stored meanwhile by another process is
 * skipped, never duplicated.
 *
 * Failure: a worker killed at any moment (SIGKILL, OOM, node loss) leaves
 * the database as it was: its transaction was never committed and SQLite
 * rolls it back (WAL). The parent reports the point as failed and goes on;
 * the sweep exits 1 and a re-run of the same command runs exactly the
 * missing points. SIGINT/SIGTERM stop the launching of points, are passed
 * to the running workers and end the sweep with 130/143. Test hook:
 * JV_SWEEP_TEST_CRASH=N makes the N-th worker this process launches kill
 * itself with SIGKILL inside its copy transaction, just before COMMIT.
 *
 * Metrics stored per run, besides run_main's (limit_*_settling_time_s,
 * _overshoot_pct, _steady_state_error_pct, _throughput_loss_pct,
 * conservation_max_residual_j, duration_s):
 *   limit_VM_LOOP_settling_time_5pct_s  from summary.txt (-1: never)
 *   limit_VM_LOOP_time_above_limit_s    control steps with measured_w >
 *                                       1.1 x limit_w, times the loop period
 *   limit_VM_LOOP_violations            those steps
 *   accounting_error_max_abs_pct        max |error_pct| of error.csv
 *   accounting_error_max_abs_j          max |error_j| but `unattributed`
 *   vm_VM_throughput_bytes_per_s, vm_VM_cpu_share
 *   conservation_truth_max_residual_j, conservation_accounted_max_relative_residual
 * (LOOP is cpu or disk.)
 *
 * Progress: on a terminal, one line redrawn after each point (bar, done,
 * failed, elapsed, ETA from this session's mean point time and -j);
 * elsewhere one line per point (batch logs). Exit codes in sweep.h.
 *
 * Limits: a point is identified by text: `0.25` and `0.250` are different
 * points, and editing the scenario file does not invalidate points already
 * in the database (use a new --db). At most SWEEP_MAX_POINTS points.
 */
#define _XOPEN_SOURCE 700 /* nftw */

#include "sim/sweep.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "base/jv_signal.h"
#include "sim/db.h"
#include "sim/run.h"

#define SWEEP_DEFAULT_OUT "out/sweeps"
#define SWEEP_PATH_MAX 4096
#define SWEEP_DIR_MAX (SWEEP_PATH_MAX - 128) /* --out-dir, leaving room for point files */
#define SWEEP_MAX_VALUES 10000      /* values of one --grid axis */
#define SWEEP_ABOVE_LIMIT_FACTOR 1.1 /* a step "above the limit": > 1.1 x limit */
#define SWEEP_BAR_W 24               /* progress bar cells */
#define SWEEP_DIR_MODE 0777
#define SWEEP_NFTW_FDS 16
#define SWEEP_MAX_JOBS 1024

/* Worker exit codes (parent <- child). */
enum {
	CHILD_OK = 0,
	CHILD_RUNTIME = 1,
	CHILD_INPUT = 2,
	CHILD_VIOLATION = 10, /* stored; run_main exited 1 (conservation) */
	CHILD_DUP = 11,       /* another process stored the point meanwhile */
};

/* ---- small helpers -------------------------------------------------------- */

/* splitmix64 */
static uint64_t mix64(uint64_t x)
{
	x += 0x9E3779B97F4A7C15ull;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
	return x ^ (x >> 31);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int mkdir_p(const char *path)
{
	char buf[SWEEP_PATH_MAX];
	if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (char *s = buf + 1;; s++) {
		if (*s != '/' && *s)
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(buf, SWEEP_DIR_MODE) != 0 && errno != EEXIST)
			return -1;
		*s = c;
		if (!c)
			break;
	}
	struct stat st;
	if (stat(path, &st) != 0)
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}

static int rm_cb(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p) != 0 && errno != ENOENT ? -1 : 0;
}

static void remove_tree(const char *path)
{
	struct stat st;
	if (lstat(path, &st) == 0)
		nftw(path, rm_cb, SWEEP_NFTW_FDS, FTW_DEPTH | FTW_PHYS);
}

static void remove_db_files(const char *path)
{
	static const char *const sfx[] = {"", "-wal", "-shm", "-journal"};
	char p[SWEEP_PATH_MAX + 16];
	for (size_t i = 0; i < sizeof sfx / sizeof sfx[0]; i++) {
		snprintf(p, sizeof p, "%s%s", path, sfx[i]);
		unlink(p);
	}
}

/* ---- argument parsing ------------------------------------------------------ */

void sweep_axis_free(struct sweep_axis *a)
{
	free(a->buf);
	free(a->vals);
	memset(a, 0, sizeof *a);
}

void sweep_spec_free(struct sweep_spec *sp)
{
	for (int i = 0; i < sp->n_grid; i++)
		sweep_axis_free(&sp->grid[i]);
	for (int i = 0; i < sp->n_range; i++)
		sweep_axis_free(&sp->range[i]);
	free(sp->seeds);
	sp->seeds = NULL;
	sp->n_grid = sp->n_range = sp->n_seeds = 0;
}

/* Split "KEY=REST" into a->buf; returns REST or NULL (d set). */
static char *split_key(const char *opt, const char *arg, const char *want,
		       struct sweep_axis *a, struct jv_diag *d)
{
	memset(a, 0, sizeof *a);
	if (!(a->buf = strdup(arg))) {
		jv_diag_set(d, JV_ENOMEM, NULL, 0, "out of memory");
		return NULL;
	}
	char *eq = strchr(a->buf, '=');
	if (!eq || eq == a->buf || !eq[1]) {
		jv_diag_set(d, JV_EUSAGE, NULL, 0, "%s expects %s, got '%s'", opt, want, arg);
		sweep_axis_free(a);
		return NULL;
	}
	*eq = '\0';
	a->key = a->buf;
	return eq + 1;
}

int sweep_parse_grid(const char *arg, struct sweep_axis *a, struct jv_diag *d)
{
	char *list = split_key("--grid", arg, "KEY=V1,V2,...", a, d);
	if (!list)
		return d->err;
	int n = 1;
	for (const char *p = list; *p; p++)
		n += *p == ',';
	if (n > SWEEP_MAX_VALUES) {
		sweep_axis_free(a);
		return jv_diag_set(d, JV_ELIMIT, NULL, 0, "--grid %s: more than %d values",
				   arg, SWEEP_MAX_VALUES);
	}
	if (!(a->vals = calloc((size_t)n, sizeof *a->vals))) {
		sweep_axis_free(a);
		return jv_diag_set(d, JV_ENOMEM, NULL, 0, "out of memory");
	}
	for (char *s = list;;) {
		char *c = strchr(s, ',');
		if (c)
			*c = '\0';
		if (!*s) {
			int err = jv_diag_set(d, JV_EUSAGE, NULL, 0, "--grid %s: empty value", arg);
			sweep_axis_free(a);
			return err;
		}
		for (int j = 0; j < a->n_vals; j++)
			if (strcmp(a->vals[j], s) == 0) {
				int err = jv_diag_set(d, JV_EUSAGE, NULL, 0,
						      "--grid %s: value '%s' given twice", arg, s);
				sweep_axis_free(a);
				return err;
			}
		a->vals[a->n_vals++] = s;
		if (!c)
			break;
		s = c + 1;
	}
	return 0;
}

/* "12.5ms" -> 12.5, "ms"; integer when the number is only digits and a sign. */
static int parse_bound(const char *s, double *v, char *unit, size_t cap, int *integer)
{
	char *end;
	errno = 0;
	*v = strtod(s, &end);
	if (end == s || errno || !isfinite(*v) || (size_t)strlen(end) >= cap)
		return -1;
	*integer = 1;
	for (const char *p = s; p < end; p++)
		if (!(*p >= '0' && *p <= '9') && !(p == s && (*p == '-' || *p == '+')))
			*integer = 0;
	for (const char *p = end; *p; p++)
		if (*p == ' ' || *p == '\t')
			return -1;
	strcpy(unit, end);
	return 0;
}

int sweep_parse_range(const char *arg, struct sweep_axis *a, struct jv_diag *d)
{
	char *rest = split_key("--range", arg, "KEY=LO:HI[:log]", a, d);
	if (!rest)
		return d->err;
	char *hi = strchr(rest, ':');
	char *mode = hi ? strchr(hi + 1, ':') : NULL;
	char u2[sizeof a->unit];
	int i1, i2;
	double h;
	if (hi)
		*hi++ = '\0';
	if (mode)
		*mode++ = '\0';
	if (!hi || (mode && strcmp(mode, "log") != 0) ||
	    parse_bound(rest, &a->lo, a->unit, sizeof a->unit, &i1) ||
	    parse_bound(hi, &h, u2, sizeof u2, &i2)) {
		int err = jv_diag_set(d, JV_EUSAGE, NULL, 0,
				      "--range expects KEY=LO:HI[:log] with numbers LO <= HI (an "
				      "optional unit, the same on both), got '%s'",
				      arg);
		sweep_axis_free(a);
		return err;
	}
	a->hi = h;
	a->integer = i1 && i2;
	a->log = mode != NULL;
	const char *why = strcmp(a->unit, u2) != 0 ? "LO and HI have different units"
			  : a->lo > a->hi		 ? "LO is above HI"
			  : a->log && a->lo <= 0	 ? ":log needs LO > 0"
							 : NULL;
	if (why) {
		int err = jv_diag_set(d, JV_EUSAGE, NULL, 0, "--range %s: %s", arg, why);
		sweep_axis_free(a);
		return err;
	}
	return 0;
}

static int parse_u64(const char *s, const char *end, uint64_t *v)
{
	char buf[32];
	if (end - s <= 0 || end - s >= (long)sizeof buf)
		return -1;
	memcpy(buf, s, (size_t)(end - s));
	buf[end - s] = '\0';
	for (const char *p = buf; *p; p++)
		if (*p < '0' || *p > '9')
			return -1;
	char *e;
	errno = 0;
	unsigned long long x = strtoull(buf, &e, 10);
	if (errno || *e)
		return -1;
	*v = x;
	return 0;
}

int sweep_parse_seeds(const char *arg, uint64_t **seeds, int *n, struct jv_diag *d)
{
	uint64_t *v = NULL;
	int cap = 0, cnt = 0;
	const char *s = arg;
	*seeds = NULL;
	*n = 0;
	while (1) {
		const char *c = strchr(s, ',');
		const char *e = c ? c : s + strlen(s);
		const char *dash = memchr(s, '-', (size_t)(e - s));
		uint64_t lo, hi;
		if (dash ? parse_u64(s, dash, &lo) || parse_u64(dash + 1, e, &hi) || hi < lo
			 : parse_u64(s, e, &lo)) {
			free(v);
			return jv_diag_set(d, JV_EUSAGE, NULL, 0,
					   "--seeds expects N, FIRST-LAST or a comma list of them, "
					   "got '%s'",
					   arg);
		}
		if (!dash)
			hi = lo;
		if (hi - lo >= (uint64_t)SWEEP_MAX_SEEDS || cnt + (int)(hi - lo) + 1 > SWEEP_MAX_SEEDS) {
			free(v);
			return jv_diag_set(d, JV_ELIMIT, NULL, 0, "--seeds %s: more than %d seeds",
					   arg, SWEEP_MAX_SEEDS);
		}
		for (uint64_t x = lo;; x++) {
			for (int j = 0; j < cnt; j++)
				if (v[j] == x) {
					free(v);
					return jv_diag_set(d, JV_EUSAGE, NULL, 0,
							   "--seeds %s: seed %" PRIu64 " given twice",
							   arg, x);
				}
			if (cnt == cap) {
				cap = cap ? 2 * cap : 16;
				uint64_t *p = realloc(v, (size_t)cap * sizeof *p);
				if (!p) {
					free(v);
					return jv_diag_set(d, JV_ENOMEM, NULL, 0, "out of memory");
				}
				v = p;
			}
			v[cnt++] = x;
			if (x == hi)
				break;
		}
		if (!c)
			break;
		s = c + 1;
	}
	*seeds = v;
	*n = cnt;
	return 0;
}

int sweep_parse_shard(const char *arg, int *k, int *n, struct jv_diag *d)
{
	const char *slash = strchr(arg, '/');
	uint64_t a, b;
	if (!slash || parse_u64(arg, slash, &a) || parse_u64(slash + 1, slash + strlen(slash), &b) ||
	    a < 1 || a > b || b > SWEEP_MAX_POINTS)
		return jv_diag_set(d, JV_EUSAGE, NULL, 0,
				   "--shard expects K/N with 1 <= K <= N <= %d, got '%s'",
				   SWEEP_MAX_POINTS, arg);
	*k = (int)a;
	*n = (int)b;
	return 0;
}

/* ---- points ------------------------------------------------------------------ */

static const char *dup_key(const struct sweep_spec *sp)
{
	const char *keys[SWEEP_MAX_SET + 2 * SWEEP_MAX_AXES];
	int n = 0;
	for (int i = 0; i < sp->n_set && n < (int)(sizeof keys / sizeof keys[0]); i++)
		keys[n++] = sp->set[i].key;
	for (int i = 0; i < sp->n_grid; i++)
		keys[n++] = sp->grid[i].key;
	for (int i = 0; i < sp->n_range; i++)
		keys[n++] = sp->range[i].key;
	for (int i = 0; i < n; i++)
		for (int j = 0; j < i; j++)
			if (strcmp(keys[i], keys[j]) == 0)
				return keys[i];
	return NULL;
}

int sweep_check_spec(const struct sweep_spec *sp, struct jv_diag *d)
{
	const char *k = dup_key(sp);
	if (k)
		return jv_diag_set(d, JV_EUSAGE, NULL, 0,
				   "key '%s' is given more than once (--set, --grid, --range)", k);
	if (sp->n_seeds) {
		for (int i = 0; i < sp->n_set; i++)
			if (!strcmp(sp->set[i].key, "global.seed"))
				return jv_diag_set(d, JV_EUSAGE, NULL, 0,
						   "--seeds and --set global.seed exclude each other");
		for (int i = 0; i < sp->n_grid; i++)
			if (!strcmp(sp->grid[i].key, "global.seed"))
				return jv_diag_set(d, JV_EUSAGE, NULL, 0,
						   "--seeds and --grid global.seed exclude each other");
	}
	if ((sp->n_random > 0) != (sp->n_range > 0))
		return jv_diag_set(d, JV_EUSAGE, NULL, 0,
				   "--random K and --range KEY=LO:HI go together");
	if (sp->shard_n < 1 || sp->shard_k < 1 || sp->shard_k > sp->shard_n)
		return jv_diag_set(d, JV_EUSAGE, NULL, 0, "bad shard %d/%d", sp->shard_k,
				   sp->shard_n);
	uint64_t n = sweep_n_points(sp);
	if (n == 0)
		return jv_diag_set(d, JV_ELIMIT, NULL, 0, "more than %d points in the sweep",
				   SWEEP_MAX_POINTS);
	return 0;
}

uint64_t sweep_n_points(const struct sweep_spec *sp)
{
	uint64_t n = 1;
	for (int i = 0; i < sp->n_grid; i++) {
		n *= (uint64_t)sp->grid[i].n_vals;
		if (n > SWEEP_MAX_POINTS)
			return 0;
	}
	n *= (uint64_t)(sp->n_random > 0 ? sp->n_random : 1);
	if (n > SWEEP_MAX_POINTS)
		return 0;
	n *= (uint64_t)(sp->n_seeds > 0 ? sp->n_seeds : 1);
	return n > SWEEP_MAX_POINTS ? 0 : n;
}

int sweep_in_shard(const struct sweep_spec *sp, uint64_t i)
{
	return sp->shard_n <= 1 || i % (uint64_t)sp->shard_n == (uint64_t)(sp->shard_k - 1);
}

static void sample_value(const struct sweep_axis *a, uint64_t rnd, char *out, size_t cap)
{
	double u = (double)(rnd >> 11) * 0x1.0p-53; /* [0, 1) */
	double v;
	if (a->log)
		v = exp(log(a->lo) + u * (log(a->integer ? a->hi + 1 : a->hi) - log(a->lo)));
	else
		v = a->lo + u * (a->integer ? a->hi - a->lo + 1 : a->hi - a->lo);
	if (a->integer) {
		double f = floor(v);
		if (f > a->hi)
			f = a->hi;
		if (f < a->lo)
			f = a->lo;
		snprintf(out, cap, "%.0f%s", f, a->unit);
	} else {
		snprintf(out, cap, "%.6g%s", v, a->unit);
	}
}

void sweep_point(const struct sweep_spec *sp, uint64_t i, struct sweep_point *p)
{
	uint64_t n_s = (uint64_t)(sp->n_seeds > 0 ? sp->n_seeds : 1);
	uint64_t n_r = (uint64_t)(sp->n_random > 0 ? sp->n_random : 1);
	uint64_t si = i % n_s, rest = i / n_s;
	uint64_t ri = rest % n_r;
	int gidx[SWEEP_MAX_AXES];
	rest /= n_r;
	for (int a = sp->n_grid - 1; a >= 0; a--) {
		gidx[a] = (int)(rest % (uint64_t)sp->grid[a].n_vals);
		rest /= (uint64_t)sp->grid[a].n_vals;
	}
	p->index = i;
	p->n_ov = 0;
	for (int k = 0; k < sp->n_set && p->n_ov < SWEEP_MAX_SET; k++)
		p->ov[p->n_ov++] = sp->set[k];
	for (int a = 0; a < sp->n_grid; a++)
		p->ov[p->n_ov++] = (struct scn_override){sp->grid[a].key, sp->grid[a].vals[gidx[a]]};
	if (sp->n_random > 0)
		for (int r = 0; r < sp->n_range; r++) {
			uint64_t rnd = mix64(mix64(sp->random_seed) ^
					     mix64(ri * SWEEP_MAX_AXES + (uint64_t)r + 1));
			sample_value(&sp->range[r], rnd, p->text[r], sizeof p->text[r]);
			p->ov[p->n_ov++] = (struct scn_override){sp->range[r].key, p->text[r]};
		}
	if (sp->n_seeds > 0) {
		snprintf(p->text[SWEEP_MAX_AXES], sizeof p->text[0], "%" PRIu64, sp->seeds[si]);
		p->ov[p->n_ov++] = (struct scn_override){"global.seed", p->text[SWEEP_MAX_AXES]};
	}
}

/* ---- the plan: every point of the sweep, this shard's, their state ---------- */

struct plan_pt {
	uint64_t index;
	char *key, *canon;
	char id[17];   /* xxh64 of the key: the run directory name */
	int dup;       /* repeats an earlier point */
	int complete;  /* already in the database */
};

struct plan {
	char *scenario_name;
	uint64_t base_seed;
	struct plan_pt *pt; /* this shard's points, index order */
	size_t n, n_total, n_dup_total;
};

static void plan_free(struct plan *pl)
{
	for (size_t i = 0; i < pl->n; i++) {
		free(pl->pt[i].key);
		free(pl->pt[i].canon);
	}
	free(pl->pt);
	free(pl->scenario_name);
	memset(pl, 0, sizeof *pl);
}

/* qsort has no context argument; plan_build is not reentrant anyway (one
 * sweep per process). */
static char **sort_keys;

static int cmp_index_by_key(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	int c = strcmp(sort_keys[x], sort_keys[y]);
	return c ? c : (x < y ? -1 : x > y);
}

/* Load the scenario with ov; on error d holds "WHAT: <scenario message>". */
static int try_load(const char *scenario, const struct scn_override *ov, int n, const char *what,
		    struct scn **out, struct jv_diag *d)
{
	struct jv_diag ld;
	jv_diag_clear(&ld);
	struct scn *s = NULL;
	int err = scn_load(scenario, ov, n, &s, &ld);
	if (err) {
		if (what)
			return jv_diag_set(d, err, NULL, 0, "%s: %s", what, ld.msg);
		*d = ld;
		return err;
	}
	if (out)
		*out = s;
	else
		scn_free(s);
	return 0;
}

/* Every grid value and range bound alone on top of --set. */
static int validate_values(const struct sweep_spec *sp, struct jv_diag *d)
{
	struct scn_override ov[SWEEP_MAX_SET + 1];
	char what[256], bound[SWEEP_VALUE_MAX];
	int n = 0, err;
	for (int i = 0; i < sp->n_set && n < SWEEP_MAX_SET; i++)
		ov[n++] = sp->set[i];
	for (int a = 0; a < sp->n_grid; a++)
		for (int v = 0; v < sp->grid[a].n_vals; v++) {
			ov[n] = (struct scn_override){sp->grid[a].key, sp->grid[a].vals[v]};
			snprintf(what, sizeof what, "--grid %s=%s", sp->grid[a].key, sp->grid[a].vals[v]);
			if ((err = try_load(sp->scenario, ov, n + 1, what, NULL, d)))
				return err;
		}
	for (int r = 0; r < sp->n_range; r++)
		for (int b = 0; b < 2; b++) {
			const struct sweep_axis *ax = &sp->range[r];
			double x = b ? ax->hi : ax->lo;
			if (ax->integer)
				snprintf(bound, sizeof bound, "%.0f%s", x, ax->unit);
			else
				snprintf(bound, sizeof bound, "%.6g%s", x, ax->unit);
			ov[n] = (struct scn_override){ax->key, bound};
			snprintf(what, sizeof what, "--range %s (bound %s)", ax->key, bound);
			if ((err = try_load(sp->scenario, ov, n + 1, what, NULL, d)))
				return err;
		}
	return 0;
}

static int plan_build(const struct sweep_spec *sp, struct plan *pl, struct jv_diag *d)
{
	struct scn *s = NULL;
	struct sweep_point *p = malloc(sizeof *p);
	char **keys = NULL;
	int err;
	memset(pl, 0, sizeof *pl);
	if (!p)
		return jv_diag_set(d, JV_ENOMEM, NULL, 0, "out of memory");
	if ((err = try_load(sp->scenario, sp->set, sp->n_set, NULL, &s, d)))
		goto out;
	pl->base_seed = s->global.seed;
	pl->scenario_name = strdup(s->global.name);
	scn_free(s);
	if (!pl->scenario_name) {
		err = jv_diag_set(d, JV_ENOMEM, NULL, 0, "out of memory");
		goto out;
	}
	if ((err = validate_values(sp, d)))
		goto out;
	pl->n_total = sweep_n_points(sp);
	keys = calloc(pl->n_total, sizeof *keys);
	pl->pt = calloc(pl->n_total, sizeof *pl->pt);
	if (!keys || !pl->pt) {
		err = jv_diag_set(d, JV_ENOMEM, NULL, 0, "out of memory");
		goto out;
	}
	/* keys of every point (all shards): a repeat is dropped everywhere */
	for (uint64_t i = 0; i < pl->n_total; i++) {
		char *canon;
		sweep_point(sp, i, p);
		uint64_t seed = sp->n_seeds ? sp->seeds[i % (uint64_t)sp->n_seeds] : pl->base_seed;
		if (db_canon_overrides(p->ov, p->n_ov, &canon) ||
		    db_point_key(pl->scenario_name, seed, canon, &keys[i])) {
			free(canon);
			err = jv_diag_set(d, JV_ENOMEM, NULL, 0, "out of memory");
			goto out;
		}
		if (sweep_in_shard(sp, i)) {
			struct plan_pt *q = &pl->pt[pl->n++];
			q->index = i;
			q->canon = canon;
			q->key = strdup(keys[i]);
			if (!q->key) {
				err = jv_diag_set(d, JV_ENOMEM, NULL, 0, "out of memory");
				goto out;
			}
			snprintf(q->id, sizeof q->id, "%016" PRIx64,
				 (uint64_t)XXH64(q->key, strlen(q->key), 0));
		} else {
			free(canon);
		}
	}
	/* repeats: sort indices by (key, index), mark all but the first of a key */
	uint64_t *order = malloc(pl->n_total * sizeof *order);
	char *repeat = calloc(pl->n_total, 1);
	if (!order || !repeat) {
		free(order);
		free(repeat);
		err = jv_diag_set(d, JV_ENOMEM, NULL, 0, "out of memory");
		goto out;
	}
	for (uint64_t i = 0; i < pl->n_total; i++)
		order[i] = i;
	sort_keys = keys;
	qsort(order, pl->n_total, sizeof *order, cmp_index_by_key);
	sort_keys = NULL;
	for (uint64_t i = 1; i < pl->n_total; i++)
		if (strcmp(keys[order[i]], keys[order[i - 1]]) == 0) {
			repeat[order[i]] = 1;
			pl->n_dup_total++;
		}
	for (size_t k = 0; k < pl->n; k++)
		pl->pt[k].dup = repeat[pl->pt[k].index];
	free(order);
	free(repeat);
out:
	if (keys)
		for (uint64_t i = 0; i < pl->n_total; i++)
			free(keys[i]);
	free(keys);
	free(p);
	return err;
}

/* Mark the points already complete in the database. */
static int plan_mark_complete(struct plan *pl, struct db *db, struct jv_diag *d)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db_sqlite(db),
			       "SELECT status FROM run WHERE point_key = ?1", -1, &st, NULL) != SQLITE_OK)
		return db_error(db, d, "reading runs");
	for (size_t i = 0; i < pl->n; i++) {
		sqlite3_reset(st);
		if (sqlite3_bind_text(st, 1, pl->pt[i].key, -1, SQLITE_TRANSIENT) != SQLITE_OK) {
			sqlite3_finalize(st);
			return db_error(db, d, "reading runs");
		}
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			pl->pt[i].complete =
				strcmp((const char *)sqlite3_column_text(st, 0), "complete") == 0;
		else if (rc != SQLITE_DONE) {
			sqlite3_finalize(st);
			return db_error(db, d, "reading runs");
		}
	}
	sqlite3_finalize(st);
	return 0;
}

/* ---- one point (in a worker process) ----------------------------------------- */

/* summary.txt as key/value pairs */
struct kv {
	char *buf;
	char **key, **val;
	int n;
};

static void kv_free(struct kv *kv)
{
	free(kv->buf);
	free(kv->key);
	free(kv->val);
	memset(kv, 0, sizeof *kv);
}

static int kv_load(const char *path, struct kv *kv)
{
	memset(kv, 0, sizeof *kv);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t cap = 0, len = 0;
	char tmp[4096];
	size_t r;
	while ((r = fread(tmp, 1, sizeof tmp, f)) > 0) {
		if (len + r + 1 > cap) {
			cap = (len + r + 1) * 2;
			char *p = realloc(kv->buf, cap);
			if (!p) {
				fclose(f);
				kv_free(kv);
				return -1;
			}
			kv->buf = p;
		}
		memcpy(kv->buf + len, tmp, r);
		len += r;
	}
	fclose(f);
	if (!kv->buf)
		return 0;
	kv->buf[len] = '\0';
	int lines = 1;
	for (size_t i = 0; i < len; i++)
		lines += kv->buf[i] == '\n';
	kv->key = calloc((size_t)lines, sizeof *kv->key);
	kv->val = calloc((size_t)lines, sizeof *kv->val);
	if (!kv->key || !kv->val) {
		kv_free(kv);
		return -1;
	}
	for (char *s = kv->buf; s && *s;) {
		char *nl = strchr(s, '\n');
		if (nl)
			*nl = '\0';
		char *sep = strstr(s, ": ");
		if (*s != '#' && sep) {
			*sep = '\0';
			kv->key[kv->n] = s;
			kv->val[kv->n] = sep + 2;
			kv->n++;
		}
		s = nl ? nl + 1 : NULL;
	}
	return 0;
}

/* The leading number of KEY's value; 0 when found. */
static int kv_num(const struct kv *kv, const char *key, double *v)
{
	for (int i = 0; i < kv->n; i++)
		if (strcmp(kv->key[i], key) == 0) {
			char *end;
			*v = strtod(kv->val[i], &end);
			return end == kv->val[i] || !isfinite(*v) ? -1 : 0;
		}
	return -1;
}

struct metric_list {
	int n, cap;
	struct {
		char name[200];
		double value;
		const char *unit;
	} *m;
};

static void ml_add(struct metric_list *ml, const char *name, double value, const char *unit)
{
	if (!isfinite(value))
		return;
	if (ml->n == ml->cap) {
		int cap = ml->cap ? 2 * ml->cap : 32;
		void *p = realloc(ml->m, (size_t)cap * sizeof *ml->m);
		if (!p)
			return; /* the copy fails later on its own allocation */
		ml->m = p;
		ml->cap = cap;
	}
	snprintf(ml->m[ml->n].name, sizeof ml->m[ml->n].name, "%s", name);
	ml->m[ml->n].value = value;
	ml->m[ml->n].unit = unit;
	ml->n++;
}

/* Steps above SWEEP_ABOVE_LIMIT_FACTOR x limit per limited VM and loop. */
static int metrics_control(struct db *tmp, int64_t run_id, const struct scn *s,
			   const struct kv *kv, struct metric_list *ml, struct jv_diag *d)
{
	sqlite3_stmt *st = NULL;
	/* the steps whose period lies after the limit came into force, as
	 * run.c's control metrics count them */
	if (sqlite3_prepare_v2(db_sqlite(tmp),
			       "SELECT count(*), coalesce(sum(measured_w > limit_w * ?3), 0) FROM control"
			       " WHERE run_id = ?1 AND vm = ?2 AND actuator = ?4 AND t_ns - ?5 >= ?6",
			       -1, &st, NULL) != SQLITE_OK) {
		/* no control table: no limit was ever in force */
		return 0;
	}
	for (int i = 0; i < s->n_vms; i++)
		for (int disk = 0; disk < 2; disk++) {
			double limit = disk ? s->vm[i].disk_limit_w : s->vm[i].cpu_limit_w;
			char key[256];
			double on_ns;
			snprintf(key, sizeof key, "limit_%s_%s_in_force_from_ns", s->vm[i].name,
				 disk ? "disk" : "cpu");
			if (limit <= 0 || kv_num(kv, key, &on_ns))
				continue; /* no limit, or never in force */
			int64_t period_ns = disk ? s->manager.disk_period_ns : s->manager.cpu_period_ns;
			sqlite3_reset(st);
			sqlite3_bind_int64(st, 5, period_ns);
			sqlite3_bind_int64(st, 6, (int64_t)on_ns);
			sqlite3_bind_int64(st, 1, run_id);
			sqlite3_bind_text(st, 2, s->vm[i].name, -1, SQLITE_TRANSIENT);
			sqlite3_bind_double(st, 3, SWEEP_ABOVE_LIMIT_FACTOR);
			sqlite3_bind_text(st, 4, disk ? "budget" : "stride", -1, SQLITE_STATIC);
			if (sqlite3_step(st) != SQLITE_ROW) {
				int err = db_error(tmp, d, "reading control steps");
				sqlite3_finalize(st);
				return err;
			}
			int64_t steps = sqlite3_column_int64(st, 0);
			int64_t above = sqlite3_column_int64(st, 1);
			if (steps == 0)
				continue;
			double period_s = (double)period_ns * 1e-9;
			char name[200];
			snprintf(name, sizeof name, "limit_%s_%s_time_above_limit_s", s->vm[i].name,
				 disk ? "disk" : "cpu");
			ml_add(ml, name, (double)above * period_s, "s");
			snprintf(name, sizeof name, "limit_%s_%s_violations", s->vm[i].name,
				 disk ? "disk" : "cpu");
			ml_add(ml, name, (double)above, "steps");
		}
	sqlite3_finalize(st);
	return 0;
}

static int metrics_error(struct db *tmp, int64_t run_id, struct metric_list *ml,
			 struct jv_diag *d)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db_sqlite(tmp),
			       "SELECT consumer, error_j, error_pct FROM error WHERE run_id = ?1", -1,
			       &st, NULL) != SQLITE_OK)
		return 0; /* no truth, no error table */
	sqlite3_bind_int64(st, 1, run_id);
	double max_pct = -1, max_j = -1;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *who = (const char *)sqlite3_column_text(st, 0);
		const char *pct = (const char *)sqlite3_column_text(st, 2);
		if (pct && *pct && fabs(atof(pct)) > max_pct)
			max_pct = fabs(atof(pct));
		if (who && strcmp(who, "unattributed") != 0 &&
		    fabs(sqlite3_column_double(st, 1)) > max_j)
			max_j = fabs(sqlite3_column_double(st, 1));
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_error(tmp, d, "reading the error table");
	if (max_pct >= 0)
		ml_add(ml, "accounting_error_max_abs_pct", max_pct, "%");
	if (max_j >= 0)
		ml_add(ml, "accounting_error_max_abs_j", max_j, "J");
	return 0;
}

static void metrics_summary(const struct kv *kvp, const struct scn *s, struct metric_list *ml)
{
	char key[256], name[256];
	const struct kv kv = *kvp;
	double v;
	double dur = (double)s->global.duration_ns;
	for (int i = 0; i < s->n_vms; i++) {
		const char *vm = s->vm[i].name;
		for (int disk = 0; disk < 2; disk++) {
			snprintf(key, sizeof key, "limit_%s_%s_settling_time_5pct_ns", vm,
				 disk ? "disk" : "cpu");
			snprintf(name, sizeof name, "limit_%s_%s_settling_time_5pct_s", vm,
				 disk ? "disk" : "cpu");
			if (!kv_num(&kv, key, &v))
				ml_add(ml, name, v < 0 ? -1.0 : v * 1e-9, "s");
		}
		snprintf(key, sizeof key, "vm_%s_throughput_bytes_per_s", vm);
		if (s->vm[i].kind != SCN_VM_DRIVER && !kv_num(&kv, key, &v))
			ml_add(ml, key, v, "B/s");
		snprintf(key, sizeof key, "vm_%s_cpu_ns", vm);
		snprintf(name, sizeof name, "vm_%s_cpu_share", vm);
		if (!kv_num(&kv, key, &v) && dur > 0)
			ml_add(ml, name, v / dur, "1");
	}
	if (!kv_num(&kv, "conservation_truth_max_residual_j", &v))
		ml_add(ml, "conservation_truth_max_residual_j", v, "J");
	if (!kv_num(&kv, "conservation_accounted_max_relative_residual", &v))
		ml_add(ml, "conservation_accounted_max_relative_residual", v, "1");
}

struct worker_ctx {
	const struct sweep_opts *o;
	const char *out_dir;
	int crash; /* test hook: SIGKILL before COMMIT */
};

static void tmp_db_path(const char *out_dir, const char *id, long pid, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s/.%s.rundb-%ld", out_dir, id, pid);
}

/* Copy the run of tmp into the sweep's database with the sweep metrics. */
static int store_point(const struct worker_ctx *w, const struct plan_pt *q, struct db *tmp,
		       int64_t src_id, const char *dir, const struct metric_list *ml,
		       struct jv_diag *d)
{
	struct db *db = NULL;
	struct db_copy *c = NULL;
	int64_t new_id;
	int err;
	/* synchronous=NORMAL: in WAL mode still atomic and consistent after a
	 * crash; a power loss may lose the last commits, and a re-run redoes them */
	if ((err = db_open(w->o->db, DB_WRITE, &db, d)) ||
	    (sqlite3_exec(db_sqlite(db), "PRAGMA synchronous=NORMAL", NULL, NULL, NULL) !=
		     SQLITE_OK &&
	     (err = db_error(db, d, "synchronous"))) ||
	    (err = db_begin(db, d)) ||
	    (err = db_copy_open(db, tmp, DB_COPY_SKIP_POWER, &c, d)))
		goto out;
	struct db_run_meta meta = {.overrides = q->canon, .point_key = q->key, .out_dir = dir};
	if ((err = db_copy_run(c, src_id, &meta, &new_id, d)))
		goto out;
	for (int i = 0; i < ml->n && !err; i++)
		err = db_add_metric(db, new_id, ml->m[i].name, ml->m[i].value, ml->m[i].unit, d);
	if (err)
		goto out;
	if (w->crash)
		raise(SIGKILL);
	db_copy_close(c);
	c = NULL;
	err = db_commit(db, d);
out:
	db_copy_close(c);
	db_close(db); /* rolls back what was not committed */
	return err;
}

static int run_point(const struct worker_ctx *w, const struct plan_pt *q, FILE *err)
{
	const struct sweep_spec *sp = &w->o->spec;
	struct sweep_point *p = malloc(sizeof *p);
	char dir[SWEEP_DIR_MAX + 32], tmpdb[SWEEP_DIR_MAX + 64];
	char *cap_out = NULL, *cap_err = NULL;
	size_t lo = 0, le = 0;
	struct jv_diag d;
	struct db *tmp = NULL;
	struct scn *s = NULL;
	struct metric_list ml = {0};
	struct kv kv = {0};
	int rc;
	jv_diag_clear(&d);
	if (!p)
		return CHILD_RUNTIME;
	sweep_point(sp, q->index, p);
	snprintf(dir, sizeof dir, "%s/%s", w->out_dir, q->id);
	tmp_db_path(w->out_dir, q->id, (long)getpid(), tmpdb, sizeof tmpdb);
	remove_db_files(tmpdb);
	struct run_opts ro = {.scenario = sp->scenario, .out_dir = dir, .db = tmpdb, .force = 1,
			      .quiet = 1, .ov = p->ov, .n_ov = p->n_ov,
			      .command_line = w->o->command_line};
	FILE *mo = open_memstream(&cap_out, &lo), *me = open_memstream(&cap_err, &le);
	if (!mo || !me) {
		rc = CHILD_RUNTIME;
		jv_diag_set(&d, JV_ENOMEM, NULL, 0, "out of memory");
		goto out;
	}
	rc = run_main(&ro, mo, me);
	fclose(mo);
	fclose(me);
	mo = me = NULL;
	if (rc != 0 && rc != 1) {
		rc = rc == 2 ? CHILD_INPUT : CHILD_RUNTIME;
		goto out;
	}
	int64_t src_id = 0;
	if (db_open(tmpdb, DB_READ, &tmp, &d) == 0) {
		sqlite3_stmt *st = NULL;
		if (sqlite3_prepare_v2(db_sqlite(tmp), "SELECT max(id) FROM run", -1, &st, NULL) ==
			    SQLITE_OK &&
		    sqlite3_step(st) == SQLITE_ROW)
			src_id = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	if (src_id <= 0) {
		if (!d.err)
			jv_diag_set(&d, JV_EIO, tmpdb, 0, "the run stored nothing");
		rc = CHILD_RUNTIME;
		goto out;
	}
	int violated = rc == 1;
	char sum_path[sizeof dir + 16];
	snprintf(sum_path, sizeof sum_path, "%s/summary.txt", dir);
	if (kv_load(sum_path, &kv)) {
		rc = CHILD_RUNTIME;
		jv_diag_set(&d, JV_EIO, sum_path, 0, "cannot read the run's summary");
		goto out;
	}
	if (try_load(sp->scenario, p->ov, p->n_ov, NULL, &s, &d) ||
	    metrics_control(tmp, src_id, s, &kv, &ml, &d) || metrics_error(tmp, src_id, &ml, &d)) {
		rc = CHILD_RUNTIME;
		goto out;
	}
	metrics_summary(&kv, s, &ml);
	int serr = store_point(w, q, tmp, src_id, dir, &ml, &d);
	if (serr == JV_EEXIST) {
		rc = CHILD_DUP;
		jv_diag_clear(&d);
	} else if (serr) {
		rc = CHILD_RUNTIME;
	} else {
		rc = violated ? CHILD_VIOLATION : CHILD_OK;
		if (w->o->discard_dirs)
			remove_tree(dir);
	}
out:
	if (mo)
		fclose(mo);
	if (me)
		fclose(me);
	db_close(tmp);
	remove_db_files(tmpdb);
	if (rc != CHILD_OK && rc != CHILD_DUP) {
		/* one write: lines of parallel workers do not interleave */
		char *msg = NULL;
		size_t ml_len = 0;
		FILE *m = open_memstream(&msg, &ml_len);
		if (m) {
			fprintf(m, "%sjoulevisor: sweep: point %s: %s\n", isatty(fileno(err)) ? "\r\033[K" : "",
				q->key, rc == CHILD_VIOLATION ? "stored, but energy conservation was violated"
							      : "failed");
			if (cap_err && *cap_err)
				fputs(cap_err, m);
			if (d.err)
				fprintf(m, "joulevisor: %s\n", d.msg);
			fclose(m);
			fputs(msg, err);
			fflush(err);
		}
		free(msg);
	}
	scn_free(s);
	kv_free(&kv);
	free(ml.m);
	free(cap_out);
	free(cap_err);
	free(p);
	return rc;
}

/* ---- the parent: worker pool, progress ---------------------------------------- */

struct slot {
	pid_t pid;
	size_t pt;
	double t0;
};

struct tally {
	size_t todo, done, ok, failed, violated, dup;
	double t_start, busy_s;
};

static void fmt_dur(double s, char *buf, size_t cap)
{
	long t = (long)(s + 0.5);
	if (t >= 3600)
		snprintf(buf, cap, "%ldh%02ldm", t / 3600, t / 60 % 60);
	else if (t >= 60)
		snprintf(buf, cap, "%ldm%02lds", t / 60, t % 60);
	else
		snprintf(buf, cap, "%lds", t);
}

static void draw_bar(FILE *err, const struct tally *t, int jobs)
{
	char bar[SWEEP_BAR_W + 1], el[32], eta[32];
	size_t fill = t->todo ? t->done * SWEEP_BAR_W / t->todo : SWEEP_BAR_W;
	for (size_t i = 0; i < SWEEP_BAR_W; i++)
		bar[i] = i < fill ? '#' : '-';
	bar[SWEEP_BAR_W] = '\0';
	double elapsed = now_s() - t->t_start;
	fmt_dur(elapsed, el, sizeof el);
	if (t->done > 0 && t->done < t->todo) {
		double per = t->busy_s / (double)t->done; /* seconds of one worker per point */
		size_t left = t->todo - t->done;
		fmt_dur(per * (double)left / (double)(jobs < (int)left ? jobs : (int)left), eta,
			sizeof eta);
	} else {
		snprintf(eta, sizeof eta, t->done ? "0s" : "?");
	}
	fprintf(err, "\r\033[Ksweep [%s] %zu/%zu %3d%%", bar, t->done, t->todo,
		t->todo ? (int)(100 * t->done / t->todo) : 100);
	if (t->failed)
		fprintf(err, " %zu failed", t->failed);
	fprintf(err, " elapsed %s ETA %s", el, eta);
	fflush(err);
}

static void account(struct tally *t, const struct plan_pt *q, int status, double secs,
		    const struct sweep_opts *o, const char *out_dir, pid_t pid, FILE *err,
		    int tty)
{
	const char *what = "ok";
	t->done++;
	t->busy_s += secs;
	if (WIFEXITED(status)) {
		switch (WEXITSTATUS(status)) {
		case CHILD_OK:
			t->ok++;
			break;
		case CHILD_VIOLATION:
			t->violated++;
			what = "stored, conservation violated";
			break;
		case CHILD_DUP:
			t->dup++;
			what = "already stored by another process";
			break;
		default:
			t->failed++;
			what = "FAILED";
			break;
		}
	} else {
		char tmpdb[SWEEP_DIR_MAX + 64];
		t->failed++;
		what = "FAILED";
		fprintf(err, "%sjoulevisor: sweep: point %s: worker killed by signal %d%s\n",
			tty ? "\r\033[K" : "", q->key, WIFSIGNALED(status) ? WTERMSIG(status) : 0,
			"; the database is unchanged for this point, rerun to retry it");
		tmp_db_path(out_dir, q->id, (long)pid, tmpdb, sizeof tmpdb);
		remove_db_files(tmpdb);
	}
	if (o->quiet)
		return;
	if (tty)
		draw_bar(err, t, o->jobs);
	else
		fprintf(err, "sweep: [%zu/%zu] %s (%.2f s) %s\n", t->done, t->todo, what, secs, q->key);
}

static void stop_workers(struct slot *slots, int jobs, int sig)
{
	for (int i = 0; i < jobs; i++)
		if (slots[i].pid > 0)
			kill(slots[i].pid, sig);
}

static int run_pool(const struct sweep_opts *o, struct plan *pl, const char *out_dir,
		    struct tally *t, FILE *err)
{
	struct slot *slots = calloc((size_t)o->jobs, sizeof *slots);
	const char *crash_env = getenv("JV_SWEEP_TEST_CRASH");
	long crash_at = crash_env ? atol(crash_env) : 0, launched = 0;
	int tty = isatty(fileno(err)), running = 0, stop = 0;
	size_t next = 0;
	if (!slots)
		return JV_ENOMEM;
	jv_signal_install();
	if (!o->quiet && tty)
		draw_bar(err, t, o->jobs);
	for (;;) {
		while (!stop && running < o->jobs && next < pl->n) {
			struct plan_pt *q = &pl->pt[next];
			if (q->dup || q->complete) {
				next++;
				continue;
			}
			int s = 0;
			while (slots[s].pid > 0)
				s++;
			fflush(stdout);
			fflush(err);
			launched++;
			pid_t pid = fork();
			if (pid < 0) {
				fprintf(err, "joulevisor: sweep: cannot start a worker: %s\n",
					strerror(errno));
				stop = -1;
				break;
			}
			if (pid == 0) {
				signal(SIGINT, SIG_DFL);
				signal(SIGTERM, SIG_DFL);
				free(slots); /* the parent's; leak checkers run in workers too */
				struct worker_ctx w = {o, out_dir, crash_at == launched};
				int rc = run_point(&w, q, err);
				fflush(NULL);
				_exit(rc);
			}
			slots[s] = (struct slot){pid, next, now_s()};
			running++;
			next++;
		}
		if (running == 0)
			break;
		int status;
		pid_t pid = waitpid(-1, &status, 0);
		if (pid < 0) {
			if (errno == EINTR) {
				if (jv_signal_pending() && !stop) {
					stop = jv_signal_pending();
					stop_workers(slots, o->jobs, SIGTERM);
				}
				continue;
			}
			break; /* ECHILD: nothing left */
		}
		for (int s = 0; s < o->jobs; s++)
			if (slots[s].pid == pid) {
				account(t, &pl->pt[slots[s].pt], status, now_s() - slots[s].t0, o,
					out_dir, pid, err, tty);
				slots[s].pid = 0;
				running--;
			}
		if (jv_signal_pending() && !stop) {
			stop = jv_signal_pending();
			stop_workers(slots, o->jobs, SIGTERM);
		}
	}
	free(slots);
	if (!o->quiet && tty)
		fprintf(err, "\r\033[K");
	return stop > 0 ? jv_signal_exit_code(stop) : stop < 0 ? 1 : 0;
}

static int cmp_id(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Temporary databases left by workers killed with the whole sweep
 * (".<id>.rundb-PID"): removed for the points of this shard, which no other
 * process runs (shards are disjoint). */
static void remove_stale_tmp(const struct plan *pl, const char *out_dir)
{
	static const char tag[] = ".rundb-";
	DIR *dir = opendir(out_dir);
	char **ids = malloc((pl->n ? pl->n : 1) * sizeof *ids);
	size_t n = 0;
	struct dirent *e;
	if (!dir || !ids)
		goto out;
	for (size_t i = 0; i < pl->n; i++)
		if (!pl->pt[i].dup)
			ids[n++] = (char *)pl->pt[i].id;
	qsort(ids, n, sizeof *ids, cmp_id);
	while ((e = readdir(dir))) {
		char id[17], path[SWEEP_DIR_MAX + 300];
		const char *dot = e->d_name;
		if (dot[0] != '.' || strlen(dot) < 1 + 16 + sizeof tag - 1 ||
		    strncmp(dot + 17, tag, sizeof tag - 1) != 0)
			continue;
		memcpy(id, dot + 1, 16);
		id[16] = '\0';
		char *key = id;
		if (!bsearch(&key, ids, n, sizeof *ids, cmp_id))
			continue;
		snprintf(path, sizeof path, "%s/%s", out_dir, e->d_name);
		unlink(path);
	}
out:
	if (dir)
		closedir(dir);
	free(ids);
}

static int list_points(const struct plan *pl, FILE *out)
{
	for (size_t i = 0; i < pl->n; i++)
		fprintf(out, "%" PRIu64 "\t%s\t%s\t%s\n", pl->pt[i].index,
			pl->pt[i].dup ? "repeat" : pl->pt[i].complete ? "complete" : "todo",
			pl->pt[i].id, pl->pt[i].key);
	return 0;
}

int sweep_run(const struct sweep_opts *o, FILE *out, FILE *err)
{
	struct jv_diag d;
	struct plan pl;
	struct db *db = NULL;
	char out_dir[SWEEP_DIR_MAX];
	int rc = 0;
	jv_diag_clear(&d);
	memset(&pl, 0, sizeof pl);
	if (sweep_check_spec(&o->spec, &d) || plan_build(&o->spec, &pl, &d)) {
		fprintf(err, "joulevisor: sweep: %s\n", d.msg);
		plan_free(&pl);
		return jv_exit_code(d.err);
	}
	if (o->db) {
		struct stat st;
		int exists = stat(o->db, &st) == 0;
		if ((!o->list || exists) &&
		    (db_open(o->db, o->list ? DB_READ : DB_CREATE, &db, &d) ||
		     plan_mark_complete(&pl, db, &d))) {
			fprintf(err, "joulevisor: %s\n", d.msg);
			rc = jv_exit_code(d.err);
			goto out;
		}
		db_close(db);
		db = NULL;
	}
	if (o->list) {
		rc = list_points(&pl, out);
		goto out;
	}
	if (o->out_dir)
		snprintf(out_dir, sizeof out_dir, "%s", o->out_dir);
	else
		snprintf(out_dir, sizeof out_dir, "%s/%s", SWEEP_DEFAULT_OUT, pl.scenario_name);
	if (o->out_dir && strlen(o->out_dir) >= SWEEP_DIR_MAX) {
		fprintf(err, "joulevisor: sweep: --out-dir: longer than %d characters\n",
			SWEEP_DIR_MAX - 1);
		rc = 2;
		goto out;
	}
	if (mkdir_p(out_dir) != 0) {
		fprintf(err, "joulevisor: %s: cannot create directory: %s\n", out_dir, strerror(errno));
		rc = 1;
		goto out;
	}
	struct tally t = {.t_start = now_s()};
	size_t skipped = 0, repeats = 0;
	for (size_t i = 0; i < pl.n; i++) {
		repeats += pl.pt[i].dup;
		skipped += !pl.pt[i].dup && pl.pt[i].complete;
	}
	t.todo = pl.n - skipped - repeats;
	remove_stale_tmp(&pl, out_dir);
	int prc = run_pool(o, &pl, out_dir, &t, err);
	fprintf(out,
		"sweep: %s: %zu point(s) in shard %d/%d of %zu: %zu run, %zu already complete",
		pl.scenario_name, pl.n - repeats, o->spec.shard_k, o->spec.shard_n,
		(size_t)(pl.n_total - pl.n_dup_total), t.ok + t.violated, skipped + t.dup);
	if (repeats)
		fprintf(out, ", %zu repeated sample(s) run once", repeats);
	fprintf(out, ", %zu failed (%.1f s); database %s, run directories in %s\n", t.failed,
		now_s() - t.t_start, o->db, out_dir);
	if (t.violated)
		fprintf(err, "joulevisor: sweep: %zu point(s) violated energy conservation "
			"(stored; see their summary.txt)\n", t.violated);
	if (prc > 1)
		fprintf(err, "joulevisor: sweep: interrupted; %zu point(s) not run: rerun the same "
			"command to resume\n", t.todo - t.done);
	else if (t.failed)
		fprintf(err, "joulevisor: sweep: %zu point(s) failed: rerun the same command to "
			"retry them\n", t.failed);
	rc = prc ? prc : (t.failed || t.violated) ? 1 : 0;
out:
	db_close(db);
	plan_free(&pl);
	return rc;
}

/* ---- CLI ------------------------------------------------------------------------ */

static void usage(FILE *f)
{
	fputs("usage: joulevisor sweep SCENARIO --db FILE [--grid KEY=V1,V2,...]...\n"
	      "                        [--set KEY=VALUE]... [--seeds LIST]\n"
	      "                        [--random K --range KEY=LO:HI[:log]... [--random-seed S]]\n"
	      "                        [-j N] [--shard K/N] [--out-dir DIR] [--discard-dirs]\n"
	      "                        [--list] [-q]\n"
	      "\n"
	      "Run SCENARIO at every point of the grid (cartesian product of the --grid\n"
	      "axes, times K random samples of the --range keys, times the seeds) and store\n"
	      "each run with its control and accounting metrics in the database FILE.\n"
	      "A re-run skips the points already complete in FILE (resumption).\n"
	      "\n"
	      "  --grid KEY=V1,V2   values of one option (KEY as for run --set)\n"
	      "  --set KEY=VALUE    an override for every point\n"
	      "  --seeds LIST       global.seed values: 3, 1-5, 1,4,9\n"
	      "  --random K         K random samples of the --range keys (uniform; :log for\n"
	      "                     log-uniform; integers when both bounds are integers)\n"
	      "  --random-seed S    seed of the samples (default 1)\n"
	      "  -j, --jobs N       worker processes (default: the number of CPUs)\n"
	      "  --shard K/N        run only the K-th of N deterministic slices (cluster jobs;\n"
	      "                     merge the databases with `joulevisor db merge`)\n"
	      "  --out-dir DIR      run directories (default out/sweeps/<scenario name>), one\n"
	      "                     per point, named by the hash of its point key\n"
	      "  --discard-dirs     remove a point's run directory once it is stored\n"
	      "  --list             print the points of this shard (index, state, directory,\n"
	      "                     point key) and run nothing\n"
	      "  -q, --quiet        no progress output\n"
	      "\n"
	      "exit: 0 every point stored, 1 a point failed (rerun to retry), 2 bad input,\n"
	      "130/143 interrupted\n",
	      f);
}

static void join_cmdline(int argc, char **argv, char *buf, size_t cap)
{
	size_t n = (size_t)snprintf(buf, cap, "joulevisor");
	for (int i = 0; i < argc && n + 1 < cap; i++)
		n += (size_t)snprintf(buf + n, cap - n, " %s", argv[i]);
}

int sweep_cli(int argc, char **argv, FILE *out, FILE *err)
{
	struct sweep_opts o = {.spec = {.shard_k = 1, .shard_n = 1, .random_seed = 1}};
	struct scn_override set[SWEEP_MAX_SET];
	struct jv_diag d;
	char cmdline[8192];
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int rc = 2;
	jv_diag_clear(&d);
	o.jobs = ncpu > 0 ? (int)(ncpu < SWEEP_MAX_JOBS ? ncpu : SWEEP_MAX_JOBS) : 1;
	o.spec.set = set;
	join_cmdline(argc, argv, cmdline, sizeof cmdline);
	o.command_line = cmdline;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = NULL;
		int takes = !strcmp(a, "--grid") || !strcmp(a, "--set") || !strcmp(a, "--seeds") ||
			    !strcmp(a, "--random") || !strcmp(a, "--range") ||
			    !strcmp(a, "--random-seed") || !strcmp(a, "-j") || !strcmp(a, "--jobs") ||
			    !strcmp(a, "--shard") || !strcmp(a, "--out-dir") || !strcmp(a, "--db");
		if (takes) {
			if (i + 1 >= argc) {
				fprintf(err, "joulevisor: sweep: option %s needs a value\n", a);
				goto out;
			}
			v = argv[++i];
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(out);
			rc = 0;
			goto out;
		} else if (!strcmp(a, "--grid")) {
			if (o.spec.n_grid + o.spec.n_range >= SWEEP_MAX_AXES) {
				jv_diag_set(&d, JV_ELIMIT, NULL, 0, "more than %d --grid/--range keys",
					    SWEEP_MAX_AXES);
				break;
			}
			if (sweep_parse_grid(v, &o.spec.grid[o.spec.n_grid], &d))
				break;
			o.spec.n_grid++;
		} else if (!strcmp(a, "--range")) {
			if (o.spec.n_grid + o.spec.n_range >= SWEEP_MAX_AXES) {
				jv_diag_set(&d, JV_ELIMIT, NULL, 0, "more than %d --grid/--range keys",
					    SWEEP_MAX_AXES);
				break;
			}
			if (sweep_parse_range(v, &o.spec.range[o.spec.n_range], &d))
				break;
			o.spec.n_range++;
		} else if (!strcmp(a, "--set")) {
			char *eq = strchr(v, '=');
			if (!eq || eq == v) {
				jv_diag_set(&d, JV_EUSAGE, NULL, 0, "--set expects KEY=VALUE, got '%s'", v);
				break;
			}
			if (o.spec.n_set >= SWEEP_MAX_SET) {
				jv_diag_set(&d, JV_ELIMIT, NULL, 0, "more than %d --set", SWEEP_MAX_SET);
				break;
			}
			*eq = '\0'; /* argv strings are writable */
			set[o.spec.n_set++] = (struct scn_override){v, eq + 1};
		} else if (!strcmp(a, "--seeds")) {
			free(o.spec.seeds);
			if (sweep_parse_seeds(v, &o.spec.seeds, &o.spec.n_seeds, &d))
				break;
		} else if (!strcmp(a, "--random") || !strcmp(a, "--random-seed") ||
			   !strcmp(a, "-j") || !strcmp(a, "--jobs")) {
			uint64_t x;
			const char *e = v + strlen(v);
			int is_seed = !strcmp(a, "--random-seed");
			if (parse_u64(v, e, &x) || (!is_seed && (x < 1 || x > SWEEP_MAX_POINTS))) {
				jv_diag_set(&d, JV_EUSAGE, NULL, 0, "%s expects %s, got '%s'", a,
					    is_seed ? "an unsigned integer" : "a positive integer", v);
				break;
			}
			if (is_seed)
				o.spec.random_seed = x;
			else if (!strcmp(a, "--random"))
				o.spec.n_random = (int)x;
			else
				o.jobs = (int)(x < SWEEP_MAX_JOBS ? x : SWEEP_MAX_JOBS);
		} else if (!strcmp(a, "--shard")) {
			if (sweep_parse_shard(v, &o.spec.shard_k, &o.spec.shard_n, &d))
				break;
		} else if (!strcmp(a, "--out-dir")) {
			o.out_dir = v;
		} else if (!strcmp(a, "--db")) {
			o.db = v;
		} else if (!strcmp(a, "--discard-dirs")) {
			o.discard_dirs = 1;
		} else if (!strcmp(a, "--list")) {
			o.list = 1;
		} else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
			o.quiet = 1;
		} else if (a[0] == '-' && a[1]) {
			jv_diag_set(&d, JV_EUSAGE, NULL, 0,
				    "unknown option '%s' (see `joulevisor sweep --help`)", a);
			break;
		} else if (!o.spec.scenario) {
			o.spec.scenario = a;
		} else {
			jv_diag_set(&d, JV_EUSAGE, NULL, 0, "more than one scenario ('%s', '%s')",
				    o.spec.scenario, a);
			break;
		}
	}
	if (!d.err && !o.spec.scenario)
		jv_diag_set(&d, JV_EUSAGE, NULL, 0, "no scenario given");
	if (!d.err && !o.db && !o.list)
		jv_diag_set(&d, JV_EUSAGE, NULL, 0, "--db FILE is required");
	if (d.err) {
		fprintf(err, "joulevisor: sweep: %s\n", d.msg);
		rc = jv_exit_code(d.err);
		goto out;
	}
	rc = sweep_run(&o, out, err);
out:
	sweep_spec_free(&o.spec);
	return rc;
}
