/*
 * compare_db: reading a run's model power from, and storing a comparison
 * into, a joulevisor SQLite run store (compare_db.h).
 *
 * Problem: runs written with `run --db` live in a database; compare must
 * read the run's power table (same columns as power.csv) and keep its
 * results next to the run. A repeated compare of the same run replaces the
 * previous one instead of adding duplicate rows.
 *
 * Strategy: open the existing file (never create one), check the schema
 * version (1 to the run writer's OUT_SQLITE_SCHEMA_VERSION: compare reads
 * only run.scenario_text, power and metric, which every version has) and
 * the run id, then in one BEGIN IMMEDIATE transaction
 * create the tables on first use (run_id INTEGER NOT NULL REFERENCES
 * run(id) ON DELETE CASCADE, then the CSV's columns; index on run_id), or
 * check an existing table has the same columns; delete the run's old
 * rows and `compare_*` metrics; insert; commit. Any failure rolls back.
 * busy_timeout as the run writer (10 s), foreign_keys on.
 *
 * Limits: the database must have been written by joulevisor; messages are "DB: what: sqlite's reason" (JV_EDB).
 */
#include "calib/compare_db.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/out_sqlite.h" /* OUT_SQLITE_SCHEMA_VERSION: the newest version we understand */

#define DB_BUSY_TIMEOUT_MS 10000
#define DB_SQL_MAX 4096

static int dberr(struct jv_diag *d, const char *db, sqlite3 *h, const char *what)
{
	return jv_diag_set(d, JV_EDB, db, 0, "%s: %s", what, h ? sqlite3_errmsg(h) : "out of memory");
}

static int open_db(const char *db, int flags, sqlite3 **out, struct jv_diag *d)
{
	sqlite3 *h = NULL;
	*out = NULL;
	if (sqlite3_open_v2(db, &h, flags, NULL) != SQLITE_OK) {
		int rc = jv_diag_set(d, JV_EDB, db, 0, "cannot open database: %s",
				     h ? sqlite3_errmsg(h) : "out of memory");
		sqlite3_close(h);
		return rc;
	}
	sqlite3_busy_timeout(h, DB_BUSY_TIMEOUT_MS);
	sqlite3_exec(h, "PRAGMA foreign_keys=ON", NULL, NULL, NULL);
	sqlite3_stmt *st = NULL;
	int rc = 0;
	if (sqlite3_prepare_v2(h, "SELECT version FROM schema_version", -1, &st, NULL) != SQLITE_OK) {
		const char *m = sqlite3_errmsg(h);
		if (strstr(m, "no such table"))
			rc = jv_diag_set(d, JV_EDB, db, 0,
					 "not a joulevisor run database (no schema_version table)");
		else if (strstr(m, "not a database") || strstr(m, "file is"))
			rc = jv_diag_set(d, JV_EDB, db, 0, "not an SQLite database");
		else
			rc = dberr(d, db, h, "reading the schema version");
	} else if (sqlite3_step(st) != SQLITE_ROW) {
		rc = jv_diag_set(d, JV_EDB, db, 0, "not a joulevisor run database (no schema version)");
	} else if (sqlite3_column_int(st, 0) < 1 ||
		   sqlite3_column_int(st, 0) > OUT_SQLITE_SCHEMA_VERSION) {
		rc = jv_diag_set(d, JV_EDB, db, 0,
				 "database schema version %d, this joulevisor reads versions 1 to %d",
				 sqlite3_column_int(st, 0), OUT_SQLITE_SCHEMA_VERSION);
	}
	sqlite3_finalize(st);
	if (rc) {
		sqlite3_close(h);
		return rc;
	}
	*out = h;
	return 0;
}

static int check_run(sqlite3 *h, const char *db, int64_t run_id, char **text, struct jv_diag *d)
{
	sqlite3_stmt *st = NULL;
	int rc = 0;
	if (sqlite3_prepare_v2(h, "SELECT scenario_text FROM run WHERE id = ?", -1, &st, NULL) !=
	    SQLITE_OK)
		return dberr(d, db, h, "reading the run");
	sqlite3_bind_int64(st, 1, run_id);
	int s = sqlite3_step(st);
	if (s == SQLITE_ROW) {
		if (text) {
			const unsigned char *t = sqlite3_column_text(st, 0);
			*text = strdup(t ? (const char *)t : "");
			if (!*text)
				rc = jv_diag_set(d, JV_ENOMEM, db, 0, "out of memory");
		}
	} else if (s == SQLITE_DONE) {
		rc = jv_diag_set(d, JV_EINVAL, db, 0, "no run with id %lld", (long long)run_id);
	} else {
		rc = dberr(d, db, h, "reading the run");
	}
	sqlite3_finalize(st);
	return rc;
}

int cal_db_read_power(const char *db, int64_t run_id, cal_power_row_fn fn, void *ctx,
		      char **scenario_text, struct jv_diag *d)
{
	sqlite3 *h;
	*scenario_text = NULL;
	int rc = open_db(db, SQLITE_OPEN_READONLY, &h, d);
	if (rc)
		return rc;
	if ((rc = check_run(h, db, run_id, scenario_text, d)))
		goto done;
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(h, "SELECT t_ns, device, power_w FROM power WHERE run_id = ? ORDER BY rowid",
			       -1, &st, NULL) != SQLITE_OK) {
		rc = dberr(d, db, h, "reading the power table");
		goto done;
	}
	sqlite3_bind_int64(st, 1, run_id);
	int s = SQLITE_DONE;
	while (!rc && (s = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *dev = sqlite3_column_text(st, 1);
		rc = fn(ctx, sqlite3_column_int64(st, 0), dev ? (const char *)dev : "",
			sqlite3_column_double(st, 2));
	}
	if (!rc && s != SQLITE_DONE)
		rc = dberr(d, db, h, "reading the power table");
	sqlite3_finalize(st);
done:
	sqlite3_close(h);
	if (rc) {
		free(*scenario_text);
		*scenario_text = NULL;
	}
	return rc;
}

static const char *sql_type(char t)
{
	return t == 'i' ? "INTEGER" : t == 'd' ? "REAL" : "TEXT";
}

/* Create table t or check its columns. */
static int ensure_table(sqlite3 *h, const char *db, const struct cal_db_table *t,
			struct jv_diag *d)
{
	char sql[DB_SQL_MAX];
	sqlite3_stmt *st = NULL;
	snprintf(sql, sizeof sql, "PRAGMA table_info(\"%s\")", t->name);
	if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK)
		return dberr(d, db, h, "inspecting tables");
	int k = 0, same = 1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 1);
		const char *type = (const char *)sqlite3_column_text(st, 2);
		const char *wn = k == 0 ? "run_id" : k - 1 < t->ncols ? t->cols[k - 1] : NULL;
		const char *wt = k == 0 ? "INTEGER" : k - 1 < t->ncols ? sql_type(t->types[k - 1]) : NULL;
		if (!wn || !name || !type || strcmp(name, wn) || strcmp(type, wt))
			same = 0;
		k++;
	}
	sqlite3_finalize(st);
	if (k > 0) {
		if (!same || k != t->ncols + 1)
			return jv_diag_set(d, JV_EDB, db, 0,
					   "table '%s' exists with other columns than this joulevisor writes",
					   t->name);
		return 0;
	}
	size_t n = (size_t)snprintf(sql, sizeof sql,
				    "CREATE TABLE \"%s\"(run_id INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE",
				    t->name);
	for (int c = 0; c < t->ncols && n < sizeof sql; c++)
		n += (size_t)snprintf(sql + n, sizeof sql - n, ", \"%s\" %s", t->cols[c],
				      sql_type(t->types[c]));
	if (n < sizeof sql)
		snprintf(sql + n, sizeof sql - n, ")");
	if (sqlite3_exec(h, sql, NULL, NULL, NULL) != SQLITE_OK)
		return dberr(d, db, h, "creating a table");
	snprintf(sql, sizeof sql, "CREATE INDEX \"%s_run_id_idx\" ON \"%s\"(run_id)", t->name,
		 t->name);
	if (sqlite3_exec(h, sql, NULL, NULL, NULL) != SQLITE_OK)
		return dberr(d, db, h, "creating an index");
	return 0;
}

static int bind_row(sqlite3_stmt *st, int64_t run_id, const struct cal_db_val *v, int ncols)
{
	sqlite3_bind_int64(st, 1, run_id);
	for (int c = 0; c < ncols; c++) {
		int k = c + 2;
		switch (v[c].type) {
		case 'i':
			sqlite3_bind_int64(st, k, v[c].i);
			break;
		case 'd':
			sqlite3_bind_double(st, k, v[c].d);
			break;
		case 's':
			sqlite3_bind_text(st, k, v[c].s, -1, SQLITE_TRANSIENT);
			break;
		default:
			sqlite3_bind_null(st, k);
			break;
		}
	}
	return sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
}

static int write_table(sqlite3 *h, const char *db, int64_t run_id, const struct cal_db_table *t,
		       struct jv_diag *d)
{
	int rc = ensure_table(h, db, t, d);
	if (rc)
		return rc;
	char sql[DB_SQL_MAX];
	snprintf(sql, sizeof sql, "DELETE FROM \"%s\" WHERE run_id = %lld", t->name,
		 (long long)run_id);
	if (sqlite3_exec(h, sql, NULL, NULL, NULL) != SQLITE_OK)
		return dberr(d, db, h, "removing an earlier comparison");
	size_t n = (size_t)snprintf(sql, sizeof sql, "INSERT INTO \"%s\" VALUES(?", t->name);
	for (int c = 0; c < t->ncols && n < sizeof sql; c++)
		n += (size_t)snprintf(sql + n, sizeof sql - n, ",?");
	if (n < sizeof sql)
		snprintf(sql + n, sizeof sql - n, ")");
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK)
		return dberr(d, db, h, "preparing an insert");
	struct cal_db_val *v = calloc((size_t)t->ncols, sizeof *v);
	if (!v) {
		sqlite3_finalize(st);
		return jv_diag_set(d, JV_ENOMEM, db, 0, "out of memory");
	}
	for (size_t r = 0; r < t->nrows && !rc; r++) {
		t->row(t->ctx, r, v);
		if (bind_row(st, run_id, v, t->ncols))
			rc = dberr(d, db, h, "inserting a row");
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
	free(v);
	sqlite3_finalize(st);
	return rc;
}

static int write_metrics(sqlite3 *h, const char *db, int64_t run_id,
			 const struct cal_db_metric *m, size_t n, struct jv_diag *d)
{
	char sql[256];
	snprintf(sql, sizeof sql,
		 "DELETE FROM metric WHERE run_id = %lld AND name LIKE 'compare\\_%%' ESCAPE '\\'",
		 (long long)run_id);
	if (sqlite3_exec(h, sql, NULL, NULL, NULL) != SQLITE_OK)
		return dberr(d, db, h, "removing earlier compare metrics");
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(h, "INSERT INTO metric(run_id, name, value, unit) VALUES(?,?,?,?)", -1,
			       &st, NULL) != SQLITE_OK)
		return dberr(d, db, h, "preparing the metrics");
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		sqlite3_bind_int64(st, 1, run_id);
		sqlite3_bind_text(st, 2, m[i].name, -1, SQLITE_TRANSIENT);
		sqlite3_bind_double(st, 3, m[i].value);
		if (m[i].unit)
			sqlite3_bind_text(st, 4, m[i].unit, -1, SQLITE_TRANSIENT);
		else
			sqlite3_bind_null(st, 4);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = dberr(d, db, h, "inserting a metric");
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return rc;
}

int cal_db_write_compare(const char *db, int64_t run_id, const struct cal_db_table *tables,
			 int ntables, const struct cal_db_metric *metrics, size_t nmetrics,
			 struct jv_diag *d)
{
	sqlite3 *h;
	int rc = open_db(db, SQLITE_OPEN_READWRITE, &h, d);
	if (rc)
		return rc;
	if (sqlite3_exec(h, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		rc = dberr(d, db, h, "starting the transaction");
		sqlite3_close(h);
		return rc;
	}
	rc = check_run(h, db, run_id, NULL, d);
	for (int t = 0; t < ntables && !rc; t++)
		rc = write_table(h, db, run_id, &tables[t], d);
	if (!rc)
		rc = write_metrics(h, db, run_id, metrics, nmetrics, d);
	if (!rc && sqlite3_exec(h, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		rc = dberr(d, db, h, "committing the comparison");
	if (rc)
		sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(h);
	return rc;
}
