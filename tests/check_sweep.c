/*
 * check_sweep: `joulevisor sweep` (sim/sweep.c): argument parsers, the
 * order of points, shards, random samples, and whole sweeps in process on
 * a tiny scenario: many workers without lost or duplicated runs,
 * resumption, a worker killed inside its transaction, shards merged equal
 * one process point for point, bad input before anything runs.
 */
#define _XOPEN_SOURCE 700 /* nftw, setenv */

#include <check.h>
#include <ftw.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/jv_err.h"
#include "sim/db.h"
#include "sim/sweep.h"

#define CK_TMP_PREFIX "check_sweep"
#include "check_tmpdir.h"

/* ---- parsers -------------------------------------------------------------------- */

START_TEST(test_parse_grid)
{
	struct sweep_axis a;
	struct jv_diag d;
	jv_diag_clear(&d);
	ck_assert_int_eq(sweep_parse_grid("manager.disk_period=100ms,200ms,400ms", &a, &d), 0);
	ck_assert_str_eq(a.key, "manager.disk_period");
	ck_assert_int_eq(a.n_vals, 3);
	ck_assert_str_eq(a.vals[2], "400ms");
	sweep_axis_free(&a);
	ck_assert_int_eq(sweep_parse_grid("k=only", &a, &d), 0);
	ck_assert_int_eq(a.n_vals, 1);
	sweep_axis_free(&a);
	static const struct {
		const char *arg, *msg;
	} bad[] = {
		{"novalue", "--grid expects KEY=V1,V2,..."},
		{"=1,2", "--grid expects KEY=V1,V2,..."},
		{"k=", "--grid expects KEY=V1,V2,..."},
		{"k=1,,2", "empty value"},
		{"k=1,2,", "empty value"},
		{"k=1,2,1", "value '1' given twice"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		jv_diag_clear(&d);
		ck_assert_int_eq(sweep_parse_grid(bad[i].arg, &a, &d), JV_EUSAGE);
		ck_assert_msg(strstr(d.msg, bad[i].msg) != NULL, "%s: %s", bad[i].arg, d.msg);
		ck_assert_ptr_null(a.buf);
	}
}
END_TEST

START_TEST(test_parse_range)
{
	static const struct {
		const char *arg;
		double lo, hi;
		int integer, log;
		const char *unit;
	} good[] = {
		{"manager.disk_gain_damp=0.1:0.9", 0.1, 0.9, 0, 0, ""},
		{"manager.disk_period=100ms:400ms", 100, 400, 1, 0, "ms"},
		{"manager.pi_ki=0.01:1:log", 0.01, 1, 0, 1, ""},
		{"manager.t_init=-5:5", -5, 5, 1, 0, ""},
		{"k=1e-3:2e-3", 1e-3, 2e-3, 0, 0, ""},
	};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		struct sweep_axis a;
		struct jv_diag d;
		jv_diag_clear(&d);
		ck_assert_msg(sweep_parse_range(good[i].arg, &a, &d) == 0, "%s: %s", good[i].arg, d.msg);
		ck_assert_double_eq(a.lo, good[i].lo);
		ck_assert_double_eq(a.hi, good[i].hi);
		ck_assert_int_eq(a.integer, good[i].integer);
		ck_assert_int_eq(a.log, good[i].log);
		ck_assert_str_eq(a.unit, good[i].unit);
		sweep_axis_free(&a);
	}
	static const struct {
		const char *arg, *msg;
	} bad[] = {
		{"k=1", "KEY=LO:HI[:log]"},
		{"k=a:b", "KEY=LO:HI[:log]"},
		{"k=1:2:lin", "KEY=LO:HI[:log]"},
		{"k=1ms:2s", "different units"},
		{"k=3:2", "LO is above HI"},
		{"k=0:2:log", ":log needs LO > 0"},
		{"k=1 ms:2 ms", "KEY=LO:HI[:log]"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct sweep_axis a;
		struct jv_diag d;
		jv_diag_clear(&d);
		ck_assert_int_eq(sweep_parse_range(bad[i].arg, &a, &d), JV_EUSAGE);
		ck_assert_msg(strstr(d.msg, bad[i].msg) != NULL, "%s: %s", bad[i].arg, d.msg);
	}
}
END_TEST

START_TEST(test_parse_seeds)
{
	static const struct {
		const char *arg;
		int n;
		uint64_t first, last;
	} good[] = {
		{"3", 1, 3, 3},
		{"1-5", 5, 1, 5},
		{"1,4,9", 3, 1, 9},
		{"1-3,10", 4, 1, 10},
		{"18446744073709551615", 1, 18446744073709551615ull, 18446744073709551615ull},
	};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		uint64_t *v;
		int n;
		struct jv_diag d;
		jv_diag_clear(&d);
		ck_assert_int_eq(sweep_parse_seeds(good[i].arg, &v, &n, &d), 0);
		ck_assert_int_eq(n, good[i].n);
		ck_assert_uint_eq(v[0], good[i].first);
		ck_assert_uint_eq(v[n - 1], good[i].last);
		free(v);
	}
	static const char *const bad[] = {"", "a", "5-1", "1,,2", "1-", "-3", "1,1", "1-3,2",
					  "1-20000", "99999999999999999999"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		uint64_t *v = (uint64_t *)1;
		int n;
		struct jv_diag d;
		jv_diag_clear(&d);
		ck_assert_msg(sweep_parse_seeds(bad[i], &v, &n, &d) != 0, "'%s' accepted", bad[i]);
		ck_assert_ptr_null(v);
	}
}
END_TEST

START_TEST(test_parse_shard)
{
	int k, n;
	struct jv_diag d;
	jv_diag_clear(&d);
	ck_assert_int_eq(sweep_parse_shard("1/1", &k, &n, &d), 0);
	ck_assert_int_eq(sweep_parse_shard("3/8", &k, &n, &d), 0);
	ck_assert_int_eq(k, 3);
	ck_assert_int_eq(n, 8);
	static const char *const bad[] = {"0/3", "4/3", "3", "a/b", "1/", "/2", "1/0", "-1/2"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		jv_diag_clear(&d);
		ck_assert_msg(sweep_parse_shard(bad[i], &k, &n, &d) == JV_EUSAGE, "'%s'", bad[i]);
		ck_assert_ptr_nonnull(strstr(d.msg, "K/N"));
	}
}
END_TEST

/* ---- points ---------------------------------------------------------------------- */

static void spec_grid(struct sweep_spec *sp, const char *const *grids, int n)
{
	struct jv_diag d;
	memset(sp, 0, sizeof *sp);
	sp->shard_k = sp->shard_n = 1;
	sp->random_seed = 1;
	for (int i = 0; i < n; i++) {
		jv_diag_clear(&d);
		ck_assert_int_eq(sweep_parse_grid(grids[i], &sp->grid[sp->n_grid++], &d), 0);
	}
}

static const char *ov_of(const struct sweep_point *p, const char *key)
{
	for (int i = 0; i < p->n_ov; i++)
		if (!strcmp(p->ov[i].key, key))
			return p->ov[i].value;
	return NULL;
}

START_TEST(test_point_order)
{
	static const char *const g[] = {"a=1,2", "b=x,y,z"};
	static const struct scn_override set[] = {{"c", "7"}};
	struct sweep_spec sp;
	struct sweep_point p;
	struct jv_diag d;
	jv_diag_clear(&d);
	spec_grid(&sp, g, 2);
	sp.set = set;
	sp.n_set = 1;
	ck_assert_int_eq(sweep_parse_seeds("5-6", &sp.seeds, &sp.n_seeds, &d), 0);
	ck_assert_int_eq(sweep_check_spec(&sp, &d), 0);
	ck_assert_uint_eq(sweep_n_points(&sp), 12);
	/* first axis slowest, seeds fastest */
	static const char *const want[12][3] = {
		{"1", "x", "5"}, {"1", "x", "6"}, {"1", "y", "5"}, {"1", "y", "6"},
		{"1", "z", "5"}, {"1", "z", "6"}, {"2", "x", "5"}, {"2", "x", "6"},
		{"2", "y", "5"}, {"2", "y", "6"}, {"2", "z", "5"}, {"2", "z", "6"},
	};
	for (uint64_t i = 0; i < 12; i++) {
		sweep_point(&sp, i, &p);
		ck_assert_int_eq(p.n_ov, 4);
		ck_assert_str_eq(p.ov[0].key, "c"); /* --set first */
		ck_assert_str_eq(ov_of(&p, "a"), want[i][0]);
		ck_assert_str_eq(ov_of(&p, "b"), want[i][1]);
		ck_assert_str_eq(ov_of(&p, "global.seed"), want[i][2]);
	}
	sweep_spec_free(&sp);
}
END_TEST

START_TEST(test_shards_partition)
{
	static const char *const g[] = {"a=1,2,3,4,5,6,7", "b=1,2,3"};
	struct sweep_spec sp;
	spec_grid(&sp, g, 2);
	uint64_t n = sweep_n_points(&sp);
	ck_assert_uint_eq(n, 21);
	for (int shards = 1; shards <= 25; shards++) {
		int count[25] = {0};
		sp.shard_n = shards;
		for (uint64_t i = 0; i < n; i++) {
			int owners = 0;
			for (int k = 1; k <= shards; k++) {
				sp.shard_k = k;
				if (sweep_in_shard(&sp, i)) {
					owners++;
					count[k - 1]++;
				}
			}
			ck_assert_int_eq(owners, 1); /* every point in exactly one shard */
		}
		for (int k = 0; k < shards; k++) /* balanced */
			ck_assert_int_le(count[k] - (int)(n / (uint64_t)shards), 1);
	}
	sweep_spec_free(&sp);
}
END_TEST

START_TEST(test_random_samples)
{
	struct sweep_spec sp;
	struct sweep_point p, q;
	struct jv_diag d;
	jv_diag_clear(&d);
	spec_grid(&sp, NULL, 0);
	ck_assert_int_eq(sweep_parse_range("lin=0.25:0.75", &sp.range[0], &d), 0);
	ck_assert_int_eq(sweep_parse_range("per=100ms:400ms", &sp.range[1], &d), 0);
	ck_assert_int_eq(sweep_parse_range("ki=0.01:1:log", &sp.range[2], &d), 0);
	sp.n_range = 3;
	sp.n_random = 200;
	ck_assert_int_eq(sweep_check_spec(&sp, &d), 0);
	ck_assert_uint_eq(sweep_n_points(&sp), 200);
	double sum = 0, logsum = 0;
	int distinct_per = 0, seen[301] = {0};
	for (uint64_t i = 0; i < 200; i++) {
		sweep_point(&sp, i, &p);
		double lin = atof(ov_of(&p, "lin"));
		const char *per = ov_of(&p, "per");
		double ki = atof(ov_of(&p, "ki"));
		ck_assert(lin >= 0.25 && lin <= 0.75);
		ck_assert(ki >= 0.01 && ki <= 1.0);
		ck_assert_ptr_nonnull(strstr(per, "ms"));
		char *end;
		long ms = strtol(per, &end, 10);
		ck_assert_str_eq(end, "ms"); /* an integer with the unit */
		ck_assert(ms >= 100 && ms <= 400);
		distinct_per += !seen[ms - 100]++;
		sum += lin;
		logsum += log10(ki);
		/* deterministic: the same index gives the same values */
		sweep_point(&sp, i, &q);
		ck_assert_str_eq(ov_of(&q, "lin"), ov_of(&p, "lin"));
	}
	ck_assert_double_eq_tol(sum / 200, 0.5, 0.05);
	ck_assert_double_eq_tol(logsum / 200, -1.0, 0.2); /* log-uniform: mean exponent -1 */
	ck_assert_int_gt(distinct_per, 100);
	/* another --random-seed gives other values */
	sweep_point(&sp, 0, &p);
	sp.random_seed = 2;
	sweep_point(&sp, 0, &q);
	ck_assert_str_ne(ov_of(&p, "lin"), ov_of(&q, "lin"));
	sweep_spec_free(&sp);
}
END_TEST

START_TEST(test_check_spec)
{
	static const struct scn_override seedset[] = {{"global.seed", "4"}};
	static const struct scn_override kset[] = {{"a", "4"}};
	struct sweep_spec sp;
	struct jv_diag d;
	static const char *const g[] = {"a=1,2"};
	spec_grid(&sp, g, 1);
	sp.set = kset;
	sp.n_set = 1;
	jv_diag_clear(&d);
	ck_assert_int_eq(sweep_check_spec(&sp, &d), JV_EUSAGE);
	ck_assert_ptr_nonnull(strstr(d.msg, "key 'a' is given more than once"));
	sp.set = seedset;
	ck_assert_int_eq(sweep_parse_seeds("1-2", &sp.seeds, &sp.n_seeds, &d), 0);
	jv_diag_clear(&d);
	ck_assert_int_eq(sweep_check_spec(&sp, &d), JV_EUSAGE);
	ck_assert_ptr_nonnull(strstr(d.msg, "--seeds and --set global.seed"));
	sp.n_set = 0;
	sp.n_random = 3;
	jv_diag_clear(&d);
	ck_assert_int_eq(sweep_check_spec(&sp, &d), JV_EUSAGE);
	ck_assert_ptr_nonnull(strstr(d.msg, "--random K and --range"));
	sp.n_random = 0;
	jv_diag_clear(&d);
	ck_assert_int_eq(sweep_check_spec(&sp, &d), 0);
	/* too many points */
	static const char *const big[] = {"a=1,2,3,4,5,6,7,8,9,10", "b=1,2,3,4,5,6,7,8,9,10",
					  "c=1,2,3,4,5,6,7,8,9,10", "d=1,2,3,4,5,6,7,8,9,10",
					  "e=1,2,3,4,5,6,7,8,9,10", "f=1,2"};
	sweep_spec_free(&sp);
	spec_grid(&sp, big, 5);
	jv_diag_clear(&d);
	ck_assert_int_eq(sweep_check_spec(&sp, &d), 0); /* 100000: the limit itself */
	sweep_spec_free(&sp);
	spec_grid(&sp, big, 6);
	jv_diag_clear(&d);
	ck_assert_int_eq(sweep_check_spec(&sp, &d), JV_ELIMIT);
	sweep_spec_free(&sp);
}
END_TEST

/* ---- whole sweeps ------------------------------------------------------------------- */

static const char TINY_INI[] = "[global]\nduration = 600ms\n"
			       "[vm drv]\nkind = driver\n"
			       "[vm c]\nworkload = disk-stress\ndisk_limit = 1W\nlimit_from = 100ms\n";

static void write_tiny(void)
{
	FILE *f = fopen(at("tiny.ini"), "w");
	ck_assert_ptr_nonnull(f);
	fputs(TINY_INI, f);
	fclose(f);
}

/* A sweep of tiny.ini over grids and seeds into db (quiet); exit code. */
static int sweep(const char *db, const char *const *grids, int ngrid, const char *seeds, int jobs,
		 int shard_k, int shard_n, const char *out_dir)
{
	struct sweep_opts o = {0};
	struct jv_diag d;
	jv_diag_clear(&d);
	spec_grid(&o.spec, grids, ngrid);
	o.spec.scenario = at("tiny.ini");
	o.spec.shard_k = shard_k;
	o.spec.shard_n = shard_n;
	if (seeds)
		ck_assert_int_eq(sweep_parse_seeds(seeds, &o.spec.seeds, &o.spec.n_seeds, &d), 0);
	o.db = db;
	o.out_dir = out_dir;
	o.jobs = jobs;
	o.quiet = 1;
	o.command_line = "check_sweep";
	FILE *out = fopen("/dev/null", "w"), *err = tmpfile();
	int rc = sweep_run(&o, out, err);
	fclose(out);
	fclose(err);
	sweep_spec_free(&o.spec);
	return rc;
}

static int64_t q_int(const char *path, const char *sql)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *st;
	ck_assert_int_eq(sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	ck_assert_msg(sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql,
		      sqlite3_errmsg(h));
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	int64_t v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	return v;
}

static const char *const GRID[] = {"manager.disk_controller=paper,pi",
				   "vm.c.disk_limit=0.5W,1W,1.5W,2W"};

static void assert_consistent(const char *db, int64_t runs)
{
	ck_assert_int_eq(q_int(db, "SELECT count(*) FROM run"), runs);
	ck_assert_int_eq(q_int(db, "SELECT count(DISTINCT point_key) FROM run"), runs);
	ck_assert_int_eq(q_int(db, "SELECT count(*) FROM run WHERE status <> 'complete'"), 0);
	ck_assert_int_eq(q_int(db, "SELECT count(*) FROM series WHERE run_id NOT IN "
				   "(SELECT id FROM run)"),
			 0);
	ck_assert_int_eq(q_int(db, "SELECT count(*) FROM metric WHERE run_id NOT IN "
				   "(SELECT id FROM run)"),
			 0);
	ck_assert_int_eq(q_int(db, "SELECT count(*) FROM run r WHERE (SELECT count(*) FROM "
				   "control c WHERE c.run_id = r.id) = 0"),
			 0);
	ck_assert_int_eq(q_int(db, "SELECT count(*) FROM run r WHERE NOT EXISTS (SELECT 1 FROM "
				   "metric m WHERE m.run_id = r.id AND m.name = "
				   "'limit_c_disk_time_above_limit_s')"),
			 0);
}

START_TEST(test_many_workers_resume)
{
	write_tiny();
	/* 24 points, 8 workers on one database */
	ck_assert_int_eq(sweep(at("s.db"), GRID, 2, "1-3", 8, 1, 1, at("out")), 0);
	assert_consistent(at("s.db"), 24);
	ck_assert_int_eq(q_int(at("s.db"), "SELECT count(*) FROM sqlite_master WHERE name='power'"),
			 0);
	ck_assert_int_eq(q_int(at("s.db"), "SELECT count(*) FROM run WHERE out_dir LIKE '%/out/%' "
					   "AND overrides LIKE 'manager.disk_controller=%' AND "
					   "point_key LIKE 'tiny seed=_ manager.disk_controller=%'"),
			 24);
	/* a re-run finds everything complete; a wider grid runs only the new points */
	ck_assert_int_eq(sweep(at("s.db"), GRID, 2, "1-3", 8, 1, 1, at("out")), 0);
	assert_consistent(at("s.db"), 24);
	int64_t max_id = q_int(at("s.db"), "SELECT max(id) FROM run");
	ck_assert_int_eq(max_id, 24);
	ck_assert_int_eq(sweep(at("s.db"), GRID, 2, "1-4", 4, 1, 1, at("out")), 0);
	assert_consistent(at("s.db"), 32);
	/* no temporary database left behind */
	ck_assert_int_eq(system("ls -a out 2>/dev/null | grep -q rundb") == 0, 0);
	char cmd[PATH_LEN + 64];
	snprintf(cmd, sizeof cmd, "ls -a %s | grep -q rundb", at("out"));
	ck_assert_int_ne(system(cmd), 0);
}
END_TEST

START_TEST(test_killed_worker_resume)
{
	write_tiny();
	setenv("JV_SWEEP_TEST_CRASH", "3", 1);
	ck_assert_int_eq(sweep(at("k.db"), GRID, 2, "1-2", 4, 1, 1, at("out")), 1);
	unsetenv("JV_SWEEP_TEST_CRASH");
	assert_consistent(at("k.db"), 15);
	sqlite3 *h = NULL;
	sqlite3_stmt *st;
	ck_assert_int_eq(sqlite3_open_v2(at("k.db"), &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(h, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	ck_assert_str_eq((const char *)sqlite3_column_text(st, 0), "ok");
	sqlite3_finalize(st);
	sqlite3_close(h);
	/* the re-run runs exactly the lost point */
	ck_assert_int_eq(sweep(at("k.db"), GRID, 2, "1-2", 4, 1, 1, at("out")), 0);
	assert_consistent(at("k.db"), 16);
	ck_assert_int_eq(q_int(at("k.db"), "SELECT max(id) FROM run"), 16);
}
END_TEST

/* Metrics of every point as one text, ordered by point key. */
static char *metric_text(const char *db)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *st;
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	ck_assert_int_eq(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(h,
					    "SELECT r.point_key, r.overrides, r.seed, m.name, m.value,"
					    " m.unit FROM run r JOIN metric m ON m.run_id = r.id"
					    " ORDER BY r.point_key, m.name",
					    -1, &st, NULL),
			 SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW)
		fprintf(m, "%s|%s|%lld|%s|%.17g|%s\n", sqlite3_column_text(st, 0),
			sqlite3_column_text(st, 1), (long long)sqlite3_column_int64(st, 2),
			sqlite3_column_text(st, 3), sqlite3_column_double(st, 4),
			sqlite3_column_text(st, 5));
	sqlite3_finalize(st);
	sqlite3_close(h);
	fclose(m);
	return buf;
}

START_TEST(test_shards_merge_equal_single)
{
	write_tiny();
	ck_assert_int_eq(sweep(at("one.db"), GRID, 2, "1-2", 3, 1, 1, at("out1")), 0);
	char shard[3][PATH_LEN];
	for (int k = 1; k <= 3; k++) {
		char name[32];
		snprintf(name, sizeof name, "shard%d.db", k);
		snprintf(shard[k - 1], sizeof shard[0], "%s", at(name));
		ck_assert_int_eq(sweep(shard[k - 1], GRID, 2, "1-2", 2, k, 3, at("outs")), 0);
		ck_assert_int_ge(q_int(shard[k - 1], "SELECT count(*) FROM run"), 5);
	}
	char *argv[] = {"db", "merge", (char *)at("merged.db"), shard[0], shard[1], shard[2], NULL};
	FILE *devnull = fopen("/dev/null", "w");
	ck_assert_int_eq(db_cli(6, argv, devnull, devnull), 0);
	fclose(devnull);
	assert_consistent(at("merged.db"), 16);
	char *a = metric_text(at("one.db")), *b = metric_text(at("merged.db"));
	ck_assert_int_gt(strlen(a), 1000);
	ck_assert_str_eq(a, b);
	free(a);
	free(b);
	/* the data tables too, point for point */
	ck_assert_int_eq(q_int(at("one.db"), "SELECT count(*) FROM series"),
			 q_int(at("merged.db"), "SELECT count(*) FROM series"));
}
END_TEST

START_TEST(test_bad_input_runs_nothing)
{
	write_tiny();
	static const char *const bad_key[] = {"manager.no_such_option=1,2"};
	ck_assert_int_eq(sweep(at("b.db"), bad_key, 1, NULL, 2, 1, 1, at("out")), 2);
	static const char *const bad_val[] = {"manager.disk_controller=paper,fuzzy"};
	ck_assert_int_eq(sweep(at("b.db"), bad_val, 1, NULL, 2, 1, 1, at("out")), 2);
	ck_assert_int_ne(access(at("out"), F_OK), 0); /* nothing ran */
	/* the database is not even created */
	ck_assert_int_ne(access(at("b.db"), F_OK), 0);
}
END_TEST

START_TEST(test_cli_list_and_usage)
{
	write_tiny();
	char *buf = NULL;
	size_t len = 0;
	char db[PATH_LEN], sc[PATH_LEN];
	snprintf(db, sizeof db, "%s", at("l.db"));
	snprintf(sc, sizeof sc, "%s", at("tiny.ini"));
	char *argv[] = {"sweep", sc, "--grid", (char[]){"manager.disk_controller=paper,pi"},
			"--seeds", (char[]){"1-3"}, "--shard", (char[]){"2/2"}, "--list", NULL};
	FILE *out = open_memstream(&buf, &len), *err = tmpfile();
	ck_assert_int_eq(sweep_cli(9, argv, out, err), 0);
	fclose(out);
	/* shard 2/2 holds the odd indices of 6 */
	ck_assert_str_eq(buf + strlen(buf) - strlen("tiny seed=3 manager.disk_controller=pi\n"),
			 "tiny seed=3 manager.disk_controller=pi\n");
	ck_assert_ptr_nonnull(strstr(buf, "1\ttodo\t"));
	ck_assert_ptr_null(strstr(buf, "\n2\t"));
	ck_assert_ptr_nonnull(strstr(buf, "\n5\ttodo\t"));
	free(buf);
	char *nodb[] = {"sweep", sc, NULL};
	ck_assert_int_eq(sweep_cli(2, nodb, err, err), 2);
	char *bad[] = {"sweep", sc, "--db", db, "--frob", NULL};
	ck_assert_int_eq(sweep_cli(5, bad, err, err), 2);
	char *badj[] = {"sweep", sc, "--db", db, "-j", (char[]){"0"}, NULL};
	ck_assert_int_eq(sweep_cli(6, badj, err, err), 2);
	fclose(err);
	ck_assert_int_ne(access(db, F_OK), 0);
}
END_TEST

START_TEST(test_repeated_samples_run_once)
{
	write_tiny();
	struct sweep_opts o = {0};
	struct jv_diag d;
	jv_diag_clear(&d);
	spec_grid(&o.spec, NULL, 0);
	o.spec.scenario = at("tiny.ini");
	/* 8 samples of an integer range of 2 values: only 2 distinct points */
	ck_assert_int_eq(sweep_parse_range("manager.t_init=50:51", &o.spec.range[0], &d), 0);
	o.spec.n_range = 1;
	o.spec.n_random = 8;
	o.db = at("r.db");
	o.out_dir = at("out");
	o.jobs = 4;
	o.quiet = 1;
	FILE *out = fopen("/dev/null", "w"), *err = tmpfile();
	ck_assert_int_eq(sweep_run(&o, out, err), 0);
	fclose(out);
	fclose(err);
	sweep_spec_free(&o.spec);
	ck_assert_int_eq(q_int(at("r.db"), "SELECT count(*) FROM run"), 2);
}
END_TEST

static Suite *sweep_suite(void)
{
	Suite *s = suite_create("sweep");
	TCase *tc = tcase_create("parse");
	tcase_add_test(tc, test_parse_grid);
	tcase_add_test(tc, test_parse_range);
	tcase_add_test(tc, test_parse_seeds);
	tcase_add_test(tc, test_parse_shard);
	tcase_add_test(tc, test_point_order);
	tcase_add_test(tc, test_shards_partition);
	tcase_add_test(tc, test_random_samples);
	tcase_add_test(tc, test_check_spec);
	suite_add_tcase(s, tc);
	TCase *tr = tcase_create("run");
	tcase_add_checked_fixture(tr, setup, teardown);
	tcase_set_timeout(tr, 300);
	tcase_add_test(tr, test_many_workers_resume);
	tcase_add_test(tr, test_killed_worker_resume);
	tcase_add_test(tr, test_shards_merge_equal_single);
	tcase_add_test(tr, test_bad_input_runs_nothing);
	tcase_add_test(tr, test_cli_list_and_usage);
	tcase_add_test(tr, test_repeated_samples_run_once);
	suite_add_tcase(s, tr);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(sweep_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
