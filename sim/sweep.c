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
 *
 * The files of sweep and which does what: sim/sweep_int.h.
 */
#include "sim/sweep_int.h"

/* ---- small helpers -------------------------------------------------------- */

/* splitmix64 */
uint64_t sweep_int_mix64(uint64_t x)
{
	x += 0x9E3779B97F4A7C15ull;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
	return x ^ (x >> 31);
}

double sweep_int_now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int sweep_int_mkdir_p(const char *path)
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

void sweep_int_remove_tree(const char *path)
{
	struct stat st;
	if (lstat(path, &st) == 0)
		nftw(path, rm_cb, SWEEP_NFTW_FDS, FTW_DEPTH | FTW_PHYS);
}

void sweep_int_remove_db_files(const char *path)
{
	static const char *const sfx[] = {"", "-wal", "-shm", "-journal"};
	char p[SWEEP_PATH_MAX + 16];
	for (size_t i = 0; i < sizeof sfx / sizeof sfx[0]; i++) {
		snprintf(p, sizeof p, "%s%s", path, sfx[i]);
		unlink(p);
	}
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
			if (sweep_int_parse_u64(v, e, &x) || (!is_seed && (x < 1 || x > SWEEP_MAX_POINTS))) {
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
