/*
 * check_db: the run store's tools (sim/db.c) and schema version 2 with its
 * migration from version 1 (sim/out_sqlite.c): point identity, opening
 * and migrating, copying runs, a writer killed inside its transaction, and
 * `joulevisor db ls|show|export|rm|merge|migrate` in process.
 */
#define _XOPEN_SOURCE 700 /* nftw */

#include <check.h>
#include <ftw.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/jv_err.h"
#include "sim/db.h"
#include "sim/out.h"
#include "sim/out_sqlite.h"
#include "sim/run.h"

#define CK_TMP_PREFIX "check_db"
#include "check_tmpdir.h"

static sqlite3 *raw_open(const char *path)
{
	sqlite3 *h = NULL;
	ck_assert_int_eq(sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL),
			 SQLITE_OK);
	return h;
}

static void raw_exec(sqlite3 *h, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(h, sql, NULL, NULL, &msg);
	ck_assert_msg(rc == SQLITE_OK, "%s: %s", sql, msg ? msg : "");
}

static int64_t q_int(const char *path, const char *sql)
{
	sqlite3 *h = raw_open(path);
	sqlite3_stmt *st;
	ck_assert_msg(sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql,
		      sqlite3_errmsg(h));
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	int64_t v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	return v;
}

static const char *q_text(const char *path, const char *sql)
{
	static char out[4096];
	sqlite3 *h = raw_open(path);
	sqlite3_stmt *st;
	ck_assert_msg(sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql,
		      sqlite3_errmsg(h));
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	const unsigned char *s = sqlite3_column_text(st, 0);
	snprintf(out, sizeof out, "%s", s ? (const char *)s : "(null)");
	sqlite3_finalize(st);
	sqlite3_close(h);
	return out;
}

/* The exact version 1 schema with one run and one metric. */
static void make_v1(const char *path)
{
	sqlite3 *h = raw_open(path);
	raw_exec(h, "CREATE TABLE schema_version(version INTEGER NOT NULL);"
		    "INSERT INTO schema_version VALUES(1);"
		    "CREATE TABLE run(id INTEGER PRIMARY KEY, scenario_name TEXT, scenario_file TEXT,"
		    " scenario_text TEXT, seed INTEGER, command_line TEXT, tool_version TEXT,"
		    " started_at TEXT,"
		    " status TEXT NOT NULL CHECK(status IN ('running','complete','incomplete')));"
		    "CREATE TABLE metric(run_id INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,"
		    " name TEXT NOT NULL, value REAL, unit TEXT);"
		    "CREATE INDEX metric_run_id_idx ON metric(run_id);"
		    "INSERT INTO run VALUES(1, 'fig8', 'f.ini', '[global]', 7, 'cmd', '0.1.0',"
		    " '2024-01-01T00:00:00Z', 'complete');"
		    "INSERT INTO metric VALUES(1, 'energy_j', 12.5, 'J');");
	sqlite3_close(h);
}

static const char RUN_COLS_SQL[] =
	"SELECT group_concat(name || ' ' || type, ',') FROM pragma_table_info('run')";

/* ---- point identity ----------------------------------------------------------- */

START_TEST(test_canon_overrides)
{
	static const struct {
		struct scn_override ov[4];
		int n;
		const char *want;
	} cases[] = {
		{{{"b.x", "1"}, {"a.y", "2"}}, 2, "a.y=2 b.x=1"},
		{{{"a", "1"}, {"global.seed", "9"}, {"a", "3"}}, 3, "a=3"}, /* last wins, no seed */
		{{{"vm.c.name", "a b%c"}}, 1, "vm.c.name=a%20b%25c"},
		{{{"k", "x\ny"}}, 1, "k=x%0Ay"},
		{{{"global.seed", "1"}}, 1, ""},
		{{{0}}, 0, ""},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *c = NULL;
		ck_assert_int_eq(db_canon_overrides(cases[i].ov, cases[i].n, &c), 0);
		ck_assert_msg(strcmp(c, cases[i].want) == 0, "case %zu: '%s' want '%s'", i, c,
			      cases[i].want);
		free(c);
	}
}
END_TEST

START_TEST(test_point_key_and_drop)
{
	char *k = NULL, *c = NULL;
	ck_assert_int_eq(db_point_key("fig8", 18446744073709551615ull, "a=1 b=2", &k), 0);
	ck_assert_str_eq(k, "fig8 seed=18446744073709551615 a=1 b=2");
	free(k);
	ck_assert_int_eq(db_point_key("x y", 3, "", &k), 0);
	ck_assert_str_eq(k, "x%20y seed=3");
	free(k);
	static const char *const drop1[] = {"b"};
	ck_assert_int_eq(db_canon_drop("a=1 b=2 bb=3", drop1, 1, &c), 0);
	ck_assert_str_eq(c, "a=1 bb=3");
	free(c);
	static const char *const drop2[] = {"a", "bb", "zz"};
	ck_assert_int_eq(db_canon_drop("a=1 b=2 bb=3", drop2, 3, &c), 0);
	ck_assert_str_eq(c, "b=2");
	free(c);
	static const char *const drop3[] = {"x y"}; /* compared in escaped form */
	ck_assert_int_eq(db_canon_drop("x%20y=1 z=2", drop3, 1, &c), 0);
	ck_assert_str_eq(c, "z=2");
	free(c);
	ck_assert_int_eq(db_canon_drop("", drop1, 1, &c), 0);
	ck_assert_str_eq(c, "");
	free(c);
}
END_TEST

/* ---- schema and migration ---------------------------------------------------- */

START_TEST(test_create_v2)
{
	struct db *db;
	struct jv_diag d;
	jv_diag_clear(&d);
	ck_assert_int_eq(db_open(at("n.db"), DB_CREATE, &db, &d), 0);
	ck_assert_int_eq(db_found_version(db), 0);
	db_close(db);
	ck_assert_int_eq(q_int(at("n.db"), "SELECT version FROM schema_version"), 2);
	ck_assert_str_eq(q_text(at("n.db"), RUN_COLS_SQL),
			 "id INTEGER,scenario_name TEXT,scenario_file TEXT,scenario_text TEXT,"
			 "seed INTEGER,command_line TEXT,tool_version TEXT,started_at TEXT,"
			 "status TEXT,overrides TEXT,point_key TEXT,out_dir TEXT");
	ck_assert_str_eq(q_text(at("n.db"), "PRAGMA journal_mode"), "wal");
	/* point keys are unique; NULL keys (plain runs) are not */
	sqlite3 *h = raw_open(at("n.db"));
	raw_exec(h, "INSERT INTO run(status, point_key) VALUES('complete', 'p');"
		    "INSERT INTO run(status) VALUES('complete');"
		    "INSERT INTO run(status) VALUES('complete');");
	ck_assert_int_ne(sqlite3_exec(h, "INSERT INTO run(status, point_key) VALUES('complete', 'p')",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(h);
}
END_TEST

START_TEST(test_migrate_v1)
{
	struct db *db;
	struct jv_diag d;
	jv_diag_clear(&d);
	make_v1(at("old.db"));
	/* reading leaves the file alone */
	ck_assert_int_eq(db_open(at("old.db"), DB_READ, &db, &d), 0);
	ck_assert_int_eq(db_found_version(db), 1);
	sqlite3_stmt *st;
	ck_assert_int_eq(sqlite3_prepare_v2(db_sqlite(db),
					    "SELECT point_key IS NULL, scenario_name FROM run", -1,
					    &st, NULL),
			 SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	ck_assert_int_eq(sqlite3_column_int(st, 0), 1);
	sqlite3_finalize(st);
	db_close(db);
	ck_assert_int_eq(q_int(at("old.db"), "SELECT version FROM schema_version"), 1);

	/* a write migrates: same columns as a new file, data kept */
	ck_assert_int_eq(db_open(at("old.db"), DB_WRITE, &db, &d), 0);
	ck_assert_int_eq(db_found_version(db), 1);
	db_close(db);
	ck_assert_int_eq(db_open(at("new.db"), DB_CREATE, &db, &d), 0);
	db_close(db);
	char want[1024];
	snprintf(want, sizeof want, "%s", q_text(at("new.db"), RUN_COLS_SQL));
	ck_assert_str_eq(q_text(at("old.db"), RUN_COLS_SQL), want);
	ck_assert_int_eq(q_int(at("old.db"), "SELECT version FROM schema_version"), 2);
	ck_assert_int_eq(q_int(at("old.db"), "SELECT seed FROM run WHERE id = 1"), 7);
	ck_assert_int_eq(q_int(at("old.db"), "SELECT count(*) FROM metric WHERE value = 12.5"), 1);
	ck_assert_int_eq(q_int(at("old.db"), "SELECT count(*) FROM sqlite_master WHERE name = "
					     "'run_point_key_idx'"),
			 1);
}
END_TEST

/* A run (out.c) on a version 1 file migrates it inside the run's
 * transaction: an aborted run leaves version 1. */
START_TEST(test_run_migrates_in_its_transaction)
{
	struct out_run *r = NULL;
	struct jv_diag d;
	jv_diag_clear(&d);
	make_v1(at("old.db"));
	ck_assert_int_eq(out_run_open(at("run1"), 0, at("old.db"), NULL, &r, &d), 0);
	out_run_abort(r);
	ck_assert_int_eq(q_int(at("old.db"), "SELECT version FROM schema_version"), 1);
	ck_assert_int_eq(out_run_open(at("run1"), 0, at("old.db"), NULL, &r, &d), 0);
	ck_assert_int_eq(out_run_commit(r, &d), 0);
	ck_assert_int_eq(q_int(at("old.db"), "SELECT version FROM schema_version"), 2);
	ck_assert_int_eq(q_int(at("old.db"), "SELECT count(*) FROM run"), 2);
}
END_TEST

START_TEST(test_open_errors)
{
	static const struct {
		const char *setup_sql; /* NULL: garbage text; "" : nothing (missing file) */
		enum db_mode mode;
		int err;
		const char *msg;
	} cases[] = {
		{"", DB_READ, JV_ENOENT, "cannot open database: No such file or directory"},
		{"", DB_WRITE, JV_ENOENT, "cannot open database: No such file or directory"},
		{NULL, DB_READ, JV_EDB, "not an SQLite database"},
		{NULL, DB_CREATE, JV_EDB, "not an SQLite database"},
		{"CREATE TABLE t(x)", DB_READ, JV_EDB, "no schema_version table"},
		{"CREATE TABLE schema_version(version INTEGER); INSERT INTO schema_version VALUES(3)",
		 DB_WRITE, JV_EDB, "database schema version 3, this joulevisor writes version 2"},
		{"CREATE TABLE schema_version(version INTEGER)", DB_READ, JV_EDB,
		 "malformed schema_version"},
		{"PRAGMA user_version = 1", DB_READ, JV_EDB, "it is empty"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char name[32];
		snprintf(name, sizeof name, "e%zu.db", i);
		const char *p = at(name);
		if (!cases[i].setup_sql)
			spit(p, "this is not a database, just some text that is long enough........"
				"..............................................................");
		else if (*cases[i].setup_sql) {
			sqlite3 *h = raw_open(p);
			raw_exec(h, cases[i].setup_sql);
			sqlite3_close(h);
		}
		struct db *db = (struct db *)1;
		struct jv_diag d;
		jv_diag_clear(&d);
		ck_assert_int_eq(db_open(p, cases[i].mode, &db, &d), cases[i].err);
		ck_assert_ptr_null(db);
		ck_assert_msg(strstr(d.msg, cases[i].msg) != NULL, "case %zu: '%s'", i, d.msg);
		ck_assert_msg(strncmp(d.msg, p, strlen(p)) == 0, "case %zu: no file name: %s", i, d.msg);
	}
}
END_TEST

/* ---- real runs ------------------------------------------------------------------- */

static const char TINY_INI[] = "[global]\nduration = 1s\n"
			       "[vm drv]\nkind = driver\n"
			       "[vm c]\nworkload = disk-stress\ndisk_limit = 1W\nlimit_from = 0.2s\n";

/* run_main of the tiny scenario with one override into dir and db. */
static void run_tiny(const char *dir, const char *db, const char *key, const char *val)
{
	struct scn_override ov = {key, val};
	struct run_opts o = {.scenario = at("tiny.ini"), .out_dir = dir, .db = db, .force = 1,
			     .quiet = 1, .ov = key ? &ov : NULL, .n_ov = key ? 1 : 0};
	FILE *devnull = fopen("/dev/null", "w");
	ck_assert_int_eq(run_main(&o, devnull, stderr), 0);
	fclose(devnull);
}

/* Split "a b c" into argv and run db_cli; output in *out (static). */
static int db_cmd(const char *line, const char **out_text, const char **err_text)
{
	static char *ob, *eb;
	static char buf[4096];
	char *argv[64];
	int argc = 0;
	size_t ol = 0, el = 0;
	free(ob);
	free(eb);
	ob = eb = NULL;
	snprintf(buf, sizeof buf, "%s", line);
	for (char *t = strtok(buf, " "); t && argc < 63; t = strtok(NULL, " "))
		argv[argc++] = t;
	argv[argc] = NULL;
	FILE *o = open_memstream(&ob, &ol), *e = open_memstream(&eb, &el);
	int rc = db_cli(argc, argv, o, e);
	fclose(o);
	fclose(e);
	if (out_text)
		*out_text = ob;
	if (err_text)
		*err_text = eb;
	return rc;
}

START_TEST(test_export_equals_run_dir)
{
	const char *out, *err;
	char cmd[1024];
	spit(at("tiny.ini"), TINY_INI);
	run_tiny(at("r1"), at("runs.db"), NULL, NULL);
	snprintf(cmd, sizeof cmd, "db export %s 1 -o %s", at("runs.db"), at("exp"));
	ck_assert_int_eq(db_cmd(cmd, &out, &err), 0);
	static const char *const tables[] = {"series", "control", "throughput", "matrix",
					     "truth", "error", "power"};
	for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
		char a[64], b[64];
		snprintf(a, sizeof a, "r1/%s.csv", tables[i]);
		snprintf(b, sizeof b, "exp/%s.csv", tables[i]);
		char *x = slurp(at(a)), *y = slurp(at(b));
		ck_assert_msg(strcmp(x, y) == 0, "%s differs", tables[i]);
		free(x);
		free(y);
	}
	char *x = slurp(at("r1/scenario.resolved.ini")), *y = slurp(at("exp/scenario.resolved.ini"));
	ck_assert_str_eq(x, y);
	free(x);
	free(y);
	/* the directory exists now: refused */
	ck_assert_int_eq(db_cmd(cmd, &out, &err), 2);
	ck_assert_ptr_nonnull(strstr(err, "choose another with -o"));
	snprintf(cmd, sizeof cmd, "db export %s 9 -o %s", at("runs.db"), at("exp9"));
	ck_assert_int_eq(db_cmd(cmd, &out, &err), 2);
	ck_assert_ptr_nonnull(strstr(err, "no run 9"));
}
END_TEST

START_TEST(test_ls_show_rm)
{
	const char *out, *err;
	char cmd[1024];
	spit(at("tiny.ini"), TINY_INI);
	run_tiny(at("r1"), at("runs.db"), NULL, NULL);
	run_tiny(at("r2"), at("runs.db"), "manager.disk_controller", "pi");
	run_tiny(at("r3"), at("runs.db"), "vm.c.disk_limit", "2W");
	snprintf(cmd, sizeof cmd, "db ls %s", at("runs.db"));
	ck_assert_int_eq(db_cmd(cmd, &out, &err), 0);
	ck_assert_ptr_nonnull(strstr(out, "settle_s"));
	ck_assert_ptr_nonnull(strstr(out, "3 run(s)"));
	snprintf(cmd, sizeof cmd, "db show %s 2", at("runs.db"));
	ck_assert_int_eq(db_cmd(cmd, &out, &err), 0);
	ck_assert_ptr_nonnull(strstr(out, "limit_c_disk_settling_time_s"));
	ck_assert_ptr_nonnull(strstr(out, "series="));
	ck_assert_ptr_null(strstr(out, "scenario_text:"));

	int64_t series = q_int(at("runs.db"), "SELECT count(*) FROM series");
	int64_t s2 = q_int(at("runs.db"), "SELECT count(*) FROM series WHERE run_id = 2");
	ck_assert_int_gt(s2, 0);
	snprintf(cmd, sizeof cmd, "db rm %s 2", at("runs.db"));
	ck_assert_int_eq(db_cmd(cmd, &out, &err), 0);
	ck_assert_ptr_nonnull(strstr(out, "removed 1 run(s)"));
	ck_assert_int_eq(q_int(at("runs.db"), "SELECT count(*) FROM series"), series - s2);
	ck_assert_int_eq(q_int(at("runs.db"), "SELECT count(*) FROM metric WHERE run_id = 2"), 0);
	ck_assert_int_eq(q_int(at("runs.db"), "SELECT count(*) FROM power WHERE run_id = 2"), 0);
	/* an unknown id removes nothing at all, even with a good one beside it */
	snprintf(cmd, sizeof cmd, "db rm %s 1 2", at("runs.db"));
	ck_assert_int_eq(db_cmd(cmd, &out, &err), 2);
	ck_assert_ptr_nonnull(strstr(err, "no run 2"));
	ck_assert_int_eq(q_int(at("runs.db"), "SELECT count(*) FROM run"), 2);
	snprintf(cmd, sizeof cmd, "db rm %s 1-3", at("runs.db"));
	ck_assert_int_eq(db_cmd(cmd, &out, &err), 0);
	ck_assert_int_eq(q_int(at("runs.db"), "SELECT count(*) FROM run"), 0);
	snprintf(cmd, sizeof cmd, "db rm %s 3-1", at("runs.db"));
	ck_assert_int_eq(db_cmd(cmd, &out, &err), 2);
	snprintf(cmd, sizeof cmd, "db show %s x", at("runs.db"));
	ck_assert_int_eq(db_cmd(cmd, &out, &err), 2);
	ck_assert_int_eq(db_cmd("db frobnicate x", &out, &err), 2);
	ck_assert_int_eq(db_cmd("db --help", &out, &err), 0);
	ck_assert_ptr_nonnull(strstr(out, "merge"));
}
END_TEST

/* Give run id of path a point key (as a sweep does). */
static void set_key(const char *path, int id, const char *key)
{
	sqlite3 *h = raw_open(path);
	sqlite3_stmt *st;
	ck_assert_int_eq(sqlite3_prepare_v2(h, "UPDATE run SET point_key = ?1 WHERE id = ?2", -1,
					    &st, NULL),
			 SQLITE_OK);
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, id);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	sqlite3_close(h);
}

START_TEST(test_merge)
{
	const char *out, *err;
	char cmd[2048];
	spit(at("tiny.ini"), TINY_INI);
	run_tiny(at("a1"), at("a.db"), NULL, NULL);
	run_tiny(at("a2"), at("a.db"), "manager.disk_controller", "pi");
	run_tiny(at("b1"), at("b.db"), "vm.c.disk_limit", "2W");
	set_key(at("a.db"), 1, "k1");
	set_key(at("a.db"), 2, "k2");
	set_key(at("b.db"), 1, "k3");
	snprintf(cmd, sizeof cmd, "db merge %s %s %s", at("m.db"), at("a.db"), at("b.db"));
	ck_assert_int_eq(db_cmd(cmd, &out, &err), 0);
	ck_assert_ptr_nonnull(strstr(out, "merged 3 run(s) from 2 database(s)"));
	ck_assert_int_eq(q_int(at("m.db"), "SELECT count(*) FROM run"), 3);
	ck_assert_str_eq(q_text(at("m.db"), "SELECT group_concat(point_key) FROM run"), "k1,k2,k3");
	/* every row came along, in order */
	ck_assert_int_eq(q_int(at("m.db"), "SELECT count(*) FROM series"),
			 q_int(at("a.db"), "SELECT count(*) FROM series") +
				 q_int(at("b.db"), "SELECT count(*) FROM series"));
	ck_assert_int_eq(q_int(at("m.db"), "SELECT count(*) FROM power WHERE run_id = 3"),
			 q_int(at("b.db"), "SELECT count(*) FROM power WHERE run_id = 1"));
	ck_assert_int_eq(q_int(at("m.db"), "SELECT sum(measured_w) FROM control WHERE run_id = 3") ==
				 q_int(at("b.db"), "SELECT sum(measured_w) FROM control"),
			 1);

	/* again: every point is a duplicate; nothing changes */
	ck_assert_int_eq(db_cmd(cmd, &out, &err), 2);
	ck_assert_ptr_nonnull(strstr(err, "3 duplicate point(s)"));
	ck_assert_ptr_nonnull(strstr(err, "k2:"));
	ck_assert_int_eq(q_int(at("m.db"), "SELECT count(*) FROM run"), 3);
	/* the same input twice, the output as input */
	snprintf(cmd, sizeof cmd, "db merge %s %s %s", at("m2.db"), at("a.db"), at("a.db"));
	ck_assert_int_eq(db_cmd(cmd, &out, &err), 2);
	ck_assert_ptr_nonnull(strstr(err, "given twice"));
	snprintf(cmd, sizeof cmd, "db merge %s %s", at("m.db"), at("m.db"));
	ck_assert_int_eq(db_cmd(cmd, &out, &err), 2);
	/* another schema version is refused */
	make_v1(at("v1.db"));
	snprintf(cmd, sizeof cmd, "db merge %s %s", at("m3.db"), at("v1.db"));
	ck_assert_int_eq(db_cmd(cmd, &out, &err), 2);
	ck_assert_ptr_nonnull(strstr(err, "schema version 1, but merge writes version 2"));
	snprintf(cmd, sizeof cmd, "db migrate %s", at("v1.db"));
	ck_assert_int_eq(db_cmd(cmd, &out, &err), 0);
	ck_assert_ptr_nonnull(strstr(out, "schema version 1 -> 2"));
	snprintf(cmd, sizeof cmd, "db merge %s %s", at("m3.db"), at("v1.db"));
	ck_assert_int_eq(db_cmd(cmd, &out, &err), 0);
	/* tables with other columns are refused, the whole merge rolled back */
	sqlite3 *h = raw_open(at("c.db"));
	raw_exec(h, "CREATE TABLE schema_version(version INTEGER NOT NULL);"
		    "INSERT INTO schema_version VALUES(2);"
		    "CREATE TABLE run(id INTEGER PRIMARY KEY, scenario_name TEXT, scenario_file TEXT,"
		    " scenario_text TEXT, seed INTEGER, command_line TEXT, tool_version TEXT,"
		    " started_at TEXT, status TEXT NOT NULL, overrides TEXT, point_key TEXT,"
		    " out_dir TEXT);"
		    "CREATE TABLE metric(run_id INTEGER NOT NULL, name TEXT NOT NULL, value REAL,"
		    " unit TEXT);"
		    "CREATE TABLE series(run_id INTEGER NOT NULL, t_ns REAL);"
		    "INSERT INTO run(status, point_key) VALUES('complete', 'k9');"
		    "INSERT INTO series VALUES(1, 1.5);");
	sqlite3_close(h);
	snprintf(cmd, sizeof cmd, "db merge %s %s %s", at("m4.db"), at("a.db"), at("c.db"));
	ck_assert_int_eq(db_cmd(cmd, &out, &err), 2);
	ck_assert_ptr_nonnull(strstr(err, "table 'series' has columns"));
	ck_assert_int_eq(q_int(at("m4.db"), "SELECT count(*) FROM run"), 0);
}
END_TEST

/* A writer killed (SIGKILL) inside its transaction: the file is intact,
 * nothing of its work is visible, the lock is free. */
START_TEST(test_killed_writer_rolls_back)
{
	struct db *db;
	struct jv_diag d;
	jv_diag_clear(&d);
	spit(at("tiny.ini"), TINY_INI);
	run_tiny(at("r1"), at("src.db"), NULL, NULL);
	ck_assert_int_eq(db_open(at("dst.db"), DB_CREATE, &db, &d), 0);
	db_close(db);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct db *dst, *src;
		struct db_copy *c;
		int64_t id;
		struct jv_diag cd;
		jv_diag_clear(&cd);
		if (db_open(at("dst.db"), DB_WRITE, &dst, &cd) || db_open(at("src.db"), DB_READ, &src, &cd) ||
		    db_begin(dst, &cd) || db_copy_open(dst, src, 0, &c, &cd))
			_exit(3);
		for (int i = 0; i < 20; i++) {
			char key[16];
			snprintf(key, sizeof key, "p%d", i);
			struct db_run_meta m = {.point_key = key};
			if (db_copy_run(c, 1, &m, &id, &cd))
				_exit(4);
		}
		raise(SIGKILL);
		_exit(5);
	}
	int st;
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	ck_assert_str_eq(q_text(at("dst.db"), "PRAGMA integrity_check"), "ok");
	ck_assert_int_eq(q_int(at("dst.db"), "SELECT count(*) FROM run"), 0);
	ck_assert_int_eq(q_int(at("dst.db"), "SELECT count(*) FROM sqlite_master WHERE name = 'series'"),
			 0);
	/* and the next writer gets the lock at once */
	struct db *dst, *src;
	struct db_copy *c;
	int64_t id;
	ck_assert_int_eq(db_open(at("dst.db"), DB_WRITE, &dst, &d), 0);
	ck_assert_int_eq(db_open(at("src.db"), DB_READ, &src, &d), 0);
	ck_assert_int_eq(db_begin(dst, &d), 0);
	ck_assert_int_eq(db_copy_open(dst, src, DB_COPY_SKIP_POWER, &c, &d), 0);
	struct db_run_meta m = {.point_key = "p0", .overrides = "a=1", .out_dir = "d"};
	ck_assert_int_eq(db_copy_run(c, 1, &m, &id, &d), 0);
	ck_assert_int_eq(id, 1);
	ck_assert_int_eq(db_copy_run(c, 1, &m, &id, &d), JV_EEXIST);
	ck_assert_ptr_nonnull(strstr(d.msg, "point 'p0' is already in the database (run 1)"));
	db_copy_close(c);
	jv_diag_clear(&d);
	ck_assert_int_eq(db_commit(dst, &d), 0);
	db_close(dst);
	db_close(src);
	ck_assert_int_eq(q_int(at("dst.db"), "SELECT count(*) FROM run"), 1);
	ck_assert_str_eq(q_text(at("dst.db"), "SELECT overrides || ' ' || out_dir FROM run"), "a=1 d");
	ck_assert_int_eq(q_int(at("dst.db"), "SELECT count(*) FROM sqlite_master WHERE name = 'power'"),
			 0);
	ck_assert_int_eq(q_int(at("dst.db"), "SELECT count(*) FROM series"),
			 q_int(at("src.db"), "SELECT count(*) FROM series"));
}
END_TEST

START_TEST(test_metrics_csv_export)
{
	const char *out, *err;
	char cmd[1024];
	spit(at("tiny.ini"), TINY_INI);
	run_tiny(at("r1"), at("runs.db"), NULL, NULL);
	struct db *db;
	struct jv_diag d;
	jv_diag_clear(&d);
	ck_assert_int_eq(db_open(at("runs.db"), DB_WRITE, &db, &d), 0);
	ck_assert_int_eq(db_add_metric(db, 1, "x,\"y\"", 1.0 / 3.0, NULL, &d), 0);
	ck_assert_int_eq(db_add_metric(db, 1, "bad", 1.0 / 0.0, "J", &d), JV_EINVAL);
	db_close(db);
	snprintf(cmd, sizeof cmd, "db export %s --metrics", at("runs.db"));
	ck_assert_int_eq(db_cmd(cmd, &out, &err), 0);
	ck_assert(strncmp(out, "run_id,scenario,seed,status,point_key,overrides,name,value,unit\n",
			  64) == 0);
	/* full precision and RFC 4180 quoting */
	ck_assert_ptr_nonnull(strstr(out, ",\"x,\"\"y\"\"\",0.33333333333333331,\n"));
	ck_assert_ptr_nonnull(strstr(out, ",complete,,,duration_s,1,s\n"));
	ck_assert_ptr_nonnull(strstr(out, "\n1,tiny,"));
}
END_TEST

static Suite *db_suite(void)
{
	Suite *s = suite_create("db");
	TCase *tc = tcase_create("db");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_canon_overrides);
	tcase_add_test(tc, test_point_key_and_drop);
	tcase_add_test(tc, test_create_v2);
	tcase_add_test(tc, test_migrate_v1);
	tcase_add_test(tc, test_run_migrates_in_its_transaction);
	tcase_add_test(tc, test_open_errors);
	tcase_add_test(tc, test_export_equals_run_dir);
	tcase_add_test(tc, test_ls_show_rm);
	tcase_add_test(tc, test_merge);
	tcase_add_test(tc, test_killed_writer_rolls_back);
	tcase_add_test(tc, test_metrics_csv_export);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(db_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
