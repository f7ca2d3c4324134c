/*
 * out_sqlite: the run store, many runs in one SQLite database (design §7).
 *
 * Problem: sweeps and regressions produce many runs whose tables must be
 * queried together, and a crashed or interrupted run must leave nothing
 * behind: a half-written run is worse than none.
 *
 * Strategy: one transaction per run. out_sqlite_open() opens or creates the
 * file, switches it to WAL (readers never block the writer), sets
 * busy_timeout and foreign_keys, then takes the write lock at once with
 * BEGIN IMMEDIATE, checks or creates the schema and inserts the `run` row
 * (status 'running'; nobody else ever sees that status, it only exists
 * inside the transaction). Each data table is created on first use with a
 * leading `run_id` column referencing run(id) ON DELETE CASCADE and an index
 * on run_id; an existing table must have exactly the same columns and types.
 * Rows go through one prepared INSERT per table with bound values; names are
 * validated identifiers (by sim/out.c) and still quoted. Commit sets the
 * final status and COMMITs; abort ROLLs BACK, which also drops any table or
 * schema created by this run.
 *
 * Schema (version OUT_SQLITE_SCHEMA_VERSION = 2, documented in
 * docs/FORMATS.md "SQLite run store"):
 *   schema_version(version INTEGER)            one row: 2
 *   run(id INTEGER PRIMARY KEY, scenario_name, scenario_file, scenario_text,
 *       seed INTEGER, command_line, tool_version, started_at TEXT (ISO 8601
 *       UTC), status TEXT CHECK(status IN ('running','complete','incomplete')),
 *       overrides TEXT, point_key TEXT UNIQUE, out_dir TEXT)
 *   metric(run_id -> run(id), name TEXT, value REAL, unit TEXT)
 *   <table>(run_id -> run(id), <columns> INTEGER|REAL|TEXT)
 * The three last `run` columns (version 2) identify a sweep point
 * (sim/sweep.c, sim/db.c fill them; a plain run fills overrides and out_dir
 * and leaves point_key NULL, so it may be stored more than once).
 *
 * Migrations: a version 1 database is migrated forward inside the run's
 * transaction (ALTER TABLE run ADD COLUMN x3, the unique index, version 2),
 * so a run that aborts leaves the file at version 1. Migrating never
 * rewrites data: a migrated file and a new one have the same columns in the
 * same order. out_sqlite_schema() does the same for the tools (sim/db.c).
 *
 * Parameters: busy timeout OUT_SQLITE_BUSY_TIMEOUT_MS = 10000 ms.
 *
 * Limits: the write lock is held for the whole run, so two runs writing the
 * same file at once serialize and the second fails after the busy timeout
 * (sweep workers write a private file each and copy the finished run into
 * the shared one in a short transaction, sim/sweep.c; shards merge). The seed
 * is a uint64_t stored in a signed INTEGER: seeds >= 2^63 read back negative
 * (same 64 bits). A file that is not a database gives "not an SQLite
 * database"; a database of a newer schema version is refused and left as
 * it was.
 */
#include "sim/out_sqlite.h"

#include <inttypes.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STR_(x) #x
#define STR(x) STR_(x)

struct out_sqlite {
	sqlite3 *h;
	char *path;
	int64_t run_id;
	int in_txn;
	sqlite3_stmt *metric_ins;
};

struct out_sqlite_table {
	struct out_sqlite *db;
	char *name;
	size_t ncols;
	char *types;
	sqlite3_stmt *ins;
};

/* A growable string for DDL built from validated identifiers. */
struct sbuf {
	char *s;
	size_t len, cap;
	int oom;
};

static void sb_add(struct sbuf *b, const char *s)
{
	size_t n = strlen(s);
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 128;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = realloc(b->s, cap);
		if (!p) {
			b->oom = 1;
			return;
		}
		b->s = p;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n + 1);
	b->len += n;
}

/* Append "ident suffix" as one quoted identifier, embedded quotes doubled. */
static void sb_ident2(struct sbuf *b, const char *id, const char *suffix)
{
	sb_add(b, "\"");
	for (int part = 0; part < 2; part++) {
		for (const char *p = part ? suffix : id; *p; p++) {
			char c[2] = { *p, '\0' };
			sb_add(b, *p == '"' ? "\"\"" : c);
		}
	}
	sb_add(b, "\"");
}

static void sb_ident(struct sbuf *b, const char *id)
{
	sb_ident2(b, id, "");
}

static const char *sql_type(char t)
{
	switch (t) {
	case OUT_INT:
		return "INTEGER";
	case OUT_DBL:
		return "REAL";
	default:
		return "TEXT";
	}
}

/* Fill d from the connection's last error ("FILE: what: reason"). */
static int db_err(struct out_sqlite *db, struct jv_diag *d, const char *what)
{
	int code = sqlite3_errcode(db->h) & 0xff;
	if (code == SQLITE_NOTADB)
		return jv_diag_set(d, JV_EDB, db->path, 0, "not an SQLite database");
	if (code == SQLITE_NOMEM)
		return jv_diag_set(d, JV_ENOMEM, db->path, 0, "%s: out of memory", what);
	return jv_diag_set(d, JV_EDB, db->path, 0, "%s: %s", what, sqlite3_errmsg(db->h));
}

static int exec(struct out_sqlite *db, const char *sql, const char *what,
		struct jv_diag *d)
{
	if (sqlite3_exec(db->h, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_err(db, d, what);
	return 0;
}

/* Run a one-row query; *has_row is 1 when a row was produced (the statement is
 * returned for reading the row; the caller finalizes it). */
static int query(struct out_sqlite *db, const char *sql, const char *bind_text,
		 sqlite3_stmt **st, int *has_row, const char *what, struct jv_diag *d)
{
	*st = NULL;
	if (sqlite3_prepare_v2(db->h, sql, -1, st, NULL) != SQLITE_OK)
		return db_err(db, d, what);
	int rc = SQLITE_OK;
	if (bind_text && sqlite3_bind_text(*st, 1, bind_text, -1, SQLITE_TRANSIENT) != SQLITE_OK)
		goto fail;
	rc = sqlite3_step(*st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		goto fail;
	*has_row = rc == SQLITE_ROW;
	return 0;
fail:
	rc = db_err(db, d, what);
	sqlite3_finalize(*st);
	*st = NULL;
	return rc;
}

static int set_pragmas(struct out_sqlite *db, struct jv_diag *d)
{
	sqlite3_stmt *st;
	int row, err;
	if (sqlite3_busy_timeout(db->h, OUT_SQLITE_BUSY_TIMEOUT_MS) != SQLITE_OK)
		return db_err(db, d, "busy_timeout");
	err = query(db, "PRAGMA journal_mode=WAL", NULL, &st, &row, "journal_mode", d);
	if (err)
		return err;
	const unsigned char *mode = row ? sqlite3_column_text(st, 0) : NULL;
	if (!mode || strcmp((const char *)mode, "wal") != 0)
		jv_warn(db->path, 0, "cannot switch the database to WAL mode (journal_mode is %s)",
			mode ? (const char *)mode : "unknown");
	sqlite3_finalize(st);
	return exec(db, "PRAGMA foreign_keys=ON", "foreign_keys", d);
}

static const char SCHEMA_SQL[] =
	"CREATE TABLE schema_version(version INTEGER NOT NULL);"
	"INSERT INTO schema_version VALUES(" STR(OUT_SQLITE_SCHEMA_VERSION) ");"
	"CREATE TABLE run(id INTEGER PRIMARY KEY, scenario_name TEXT, scenario_file TEXT,"
	" scenario_text TEXT, seed INTEGER, command_line TEXT, tool_version TEXT,"
	" started_at TEXT,"
	" status TEXT NOT NULL CHECK(status IN ('running','complete','incomplete')),"
	" overrides TEXT, point_key TEXT, out_dir TEXT);"
	"CREATE UNIQUE INDEX run_point_key_idx ON run(point_key);"
	"CREATE TABLE metric(run_id INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,"
	" name TEXT NOT NULL, value REAL, unit TEXT);"
	"CREATE INDEX metric_run_id_idx ON metric(run_id);";

/* Forward migrations: MIGRATE_SQL[v] takes a database from version v to
 * v + 1 (same end state as SCHEMA_SQL, columns in the same order). */
static const char *const MIGRATE_SQL[OUT_SQLITE_SCHEMA_VERSION] = {
	[1] = "ALTER TABLE run ADD COLUMN overrides TEXT;"
	      "ALTER TABLE run ADD COLUMN point_key TEXT;"
	      "ALTER TABLE run ADD COLUMN out_dir TEXT;"
	      "CREATE UNIQUE INDEX run_point_key_idx ON run(point_key);"
	      "UPDATE schema_version SET version = 2;",
};

/* The schema version of an existing database: 0 when empty (no objects). */
static int read_version(struct out_sqlite *db, int64_t *version, struct jv_diag *d)
{
	sqlite3_stmt *st;
	int row, err;
	err = query(db, "SELECT count(*) FROM sqlite_master", NULL, &st, &row, "reading schema", d);
	if (err)
		return err;
	int64_t nobj = row ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	*version = 0;
	if (nobj == 0)
		return 0;
	err = query(db, "SELECT 1 FROM sqlite_master WHERE type='table' AND name='schema_version'",
		    NULL, &st, &row, "reading schema", d);
	if (err)
		return err;
	sqlite3_finalize(st);
	if (!row)
		return jv_diag_set(d, JV_EDB, db->path, 0,
				   "not a joulevisor run database (no schema_version table)");
	err = query(db, "SELECT version, typeof(version), (SELECT count(*) FROM schema_version)"
			" FROM schema_version",
		    NULL, &st, &row, "reading schema_version", d);
	if (err)
		return err;
	int ok = row && sqlite3_column_int64(st, 2) == 1 &&
		 strcmp((const char *)sqlite3_column_text(st, 1), "integer") == 0;
	int64_t v = ok ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	if (!ok || v < 1)
		return jv_diag_set(d, JV_EDB, db->path, 0,
				   "malformed schema_version table (want one integer row >= 1)");
	if (v > OUT_SQLITE_SCHEMA_VERSION)
		return jv_diag_set(d, JV_EDB, db->path, 0,
				   "database schema version %" PRId64 ", this joulevisor writes "
				   "version %d",
				   v, OUT_SQLITE_SCHEMA_VERSION);
	*version = v;
	return 0;
}

/* Create the schema in an empty database, migrate an older one forward,
 * or check the version. Inside the caller's write transaction. */
static int check_schema(struct out_sqlite *db, struct jv_diag *d)
{
	int64_t v;
	int err = read_version(db, &v, d);
	if (err)
		return err;
	if (v == 0)
		return exec(db, SCHEMA_SQL, "creating schema", d);
	for (; v < OUT_SQLITE_SCHEMA_VERSION; v++)
		if ((err = exec(db, MIGRATE_SQL[v], "migrating the schema", d)))
			return err;
	return 0;
}

int out_sqlite_schema(struct sqlite3 *h, const char *path, struct jv_diag *d)
{
	struct out_sqlite db = { .h = h, .path = (char *)path };
	return check_schema(&db, d);
}

int out_sqlite_schema_version(struct sqlite3 *h, const char *path, int *version,
			      struct jv_diag *d)
{
	struct out_sqlite db = { .h = h, .path = (char *)path };
	int64_t v = 0;
	int err = read_version(&db, &v, d);
	*version = (int)v;
	return err;
}

static int bind_text_or_null(sqlite3_stmt *st, int i, const char *s)
{
	return s ? sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, i);
}

static int insert_run(struct out_sqlite *db, const struct out_run_info *info,
		      struct jv_diag *d)
{
	static const struct out_run_info none;
	sqlite3_stmt *st = NULL;
	char started[32];
	time_t now = time(NULL);
	struct tm tm;
	if (!info)
		info = &none;
	if (!gmtime_r(&now, &tm) || !strftime(started, sizeof started, "%Y-%m-%dT%H:%M:%SZ", &tm))
		strcpy(started, "1970-01-01T00:00:00Z");
	if (sqlite3_prepare_v2(db->h,
			       "INSERT INTO run(scenario_name, scenario_file, scenario_text, seed,"
			       " command_line, tool_version, started_at, status, overrides, out_dir)"
			       " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, 'running', ?8, ?9)",
			       -1, &st, NULL) != SQLITE_OK)
		goto fail;
	if (bind_text_or_null(st, 1, info->scenario_name) ||
	    bind_text_or_null(st, 2, info->scenario_file) ||
	    bind_text_or_null(st, 3, info->scenario_text) ||
	    sqlite3_bind_int64(st, 4, (int64_t)info->seed) ||
	    bind_text_or_null(st, 5, info->command_line) ||
	    bind_text_or_null(st, 6, info->tool_version) ||
	    bind_text_or_null(st, 7, started) ||
	    bind_text_or_null(st, 8, info->overrides) ||
	    bind_text_or_null(st, 9, info->out_dir) || sqlite3_step(st) != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(st);
	db->run_id = sqlite3_last_insert_rowid(db->h);
	return 0;
fail:;
	int err = db_err(db, d, "inserting the run row");
	sqlite3_finalize(st);
	return err;
}

int out_sqlite_open(const char *path, const struct out_run_info *info,
		    struct out_sqlite **out, struct jv_diag *d)
{
	int err;
	*out = NULL;
	struct out_sqlite *db = calloc(1, sizeof *db);
	if (!db || !(db->path = strdup(path))) {
		free(db);
		return jv_diag_set(d, JV_ENOMEM, path, 0, "out of memory");
	}
	/* NOMUTEX: the connection belongs to this run and to one thread */
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
	if (sqlite3_open_v2(path, &db->h, flags, NULL) != SQLITE_OK) {
		err = db->h ? db_err(db, d, "cannot open database")
			    : jv_diag_set(d, JV_ENOMEM, path, 0, "out of memory");
		goto fail;
	}
	sqlite3_extended_result_codes(db->h, 1);
	if ((err = set_pragmas(db, d)))
		goto fail;
	if ((err = exec(db, "BEGIN IMMEDIATE", "starting the run's transaction", d)))
		goto fail;
	db->in_txn = 1;
	if ((err = check_schema(db, d)) || (err = insert_run(db, info, d)))
		goto fail;
	*out = db;
	return 0;
fail:
	out_sqlite_abort(db);
	return err;
}

int64_t out_sqlite_run_id(const struct out_sqlite *db)
{
	return db ? db->run_id : 0;
}

/* Compare an existing table's columns with ours; JV_EDB naming both. */
static int check_columns(struct out_sqlite *db, const char *name, const char *const *cols,
			 const char *types, size_t ncols, struct jv_diag *d)
{
	struct sbuf q = { 0 }, have = { 0 }, want = { 0 };
	sqlite3_stmt *st = NULL;
	size_t i = 0;
	int match = 1, err = 0, rc;
	sb_add(&q, "PRAGMA table_info(");
	sb_ident(&q, name);
	sb_add(&q, ")");
	sb_add(&want, "run_id INTEGER");
	for (size_t k = 0; k < ncols; k++) {
		sb_add(&want, ", ");
		sb_add(&want, cols[k]);
		sb_add(&want, " ");
		sb_add(&want, sql_type(types[k]));
	}
	if (q.oom || want.oom) {
		err = jv_diag_set(d, JV_ENOMEM, db->path, 0, "out of memory");
		goto out;
	}
	if (sqlite3_prepare_v2(db->h, q.s, -1, &st, NULL) != SQLITE_OK) {
		err = db_err(db, d, "reading table columns");
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *cn = (const char *)sqlite3_column_text(st, 1);
		const char *ct = (const char *)sqlite3_column_text(st, 2);
		cn = cn ? cn : "";
		ct = ct ? ct : "";
		sb_add(&have, i ? ", " : "");
		sb_add(&have, cn);
		sb_add(&have, *ct ? " " : "");
		sb_add(&have, ct);
		const char *wn = i == 0 ? "run_id" : i <= ncols ? cols[i - 1] : NULL;
		const char *wt = i == 0 ? "INTEGER" : i <= ncols ? sql_type(types[i - 1]) : NULL;
		if (!wn || strcmp(cn, wn) != 0 || strcmp(ct, wt) != 0)
			match = 0;
		i++;
	}
	if (rc != SQLITE_DONE) {
		err = db_err(db, d, "reading table columns");
		goto out;
	}
	if (have.oom) {
		err = jv_diag_set(d, JV_ENOMEM, db->path, 0, "out of memory");
		goto out;
	}
	if (!match || i != ncols + 1)
		err = jv_diag_set(d, JV_EDB, db->path, 0,
				  "table '%s' has columns (%s) but this run writes (%s)", name,
				  have.s ? have.s : "", want.s);
out:
	sqlite3_finalize(st);
	free(q.s);
	free(have.s);
	free(want.s);
	return err;
}

static int create_table(struct out_sqlite *db, const char *name, const char *const *cols,
			const char *types, size_t ncols, struct jv_diag *d)
{
	struct sbuf q = { 0 };
	int err;
	sb_add(&q, "CREATE TABLE ");
	sb_ident(&q, name);
	sb_add(&q, "(run_id INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE");
	for (size_t k = 0; k < ncols; k++) {
		sb_add(&q, ", ");
		sb_ident(&q, cols[k]);
		sb_add(&q, " ");
		sb_add(&q, sql_type(types[k]));
	}
	sb_add(&q, ");CREATE INDEX IF NOT EXISTS ");
	sb_ident2(&q, name, "_run_id_idx");
	sb_add(&q, " ON ");
	sb_ident(&q, name);
	sb_add(&q, "(run_id)");
	if (q.oom) {
		free(q.s);
		return jv_diag_set(d, JV_ENOMEM, db->path, 0, "out of memory");
	}
	err = exec(db, q.s, "creating a table", d);
	free(q.s);
	return err;
}

static int prepare_insert(struct out_sqlite_table *t, const char *const *cols,
			  struct jv_diag *d)
{
	struct sbuf q = { 0 };
	sb_add(&q, "INSERT INTO ");
	sb_ident(&q, t->name);
	sb_add(&q, "(run_id");
	for (size_t k = 0; k < t->ncols; k++) {
		sb_add(&q, ", ");
		sb_ident(&q, cols[k]);
	}
	sb_add(&q, ") VALUES(?");
	for (size_t k = 0; k < t->ncols; k++)
		sb_add(&q, ", ?");
	sb_add(&q, ")");
	if (q.oom) {
		free(q.s);
		return jv_diag_set(d, JV_ENOMEM, t->db->path, 0, "out of memory");
	}
	int rc = sqlite3_prepare_v2(t->db->h, q.s, -1, &t->ins, NULL);
	free(q.s);
	if (rc != SQLITE_OK || sqlite3_bind_int64(t->ins, 1, t->db->run_id) != SQLITE_OK)
		return db_err(t->db, d, "preparing an insert");
	return 0;
}

int out_sqlite_table_open(struct out_sqlite *db, const char *name,
			  const char *const *cols, const char *types, size_t ncols,
			  struct out_sqlite_table **out, struct jv_diag *d)
{
	sqlite3_stmt *st;
	int row, err;
	*out = NULL;
	struct out_sqlite_table *t = calloc(1, sizeof *t);
	if (!t || !(t->name = strdup(name)) || !(t->types = strdup(types))) {
		err = jv_diag_set(d, JV_ENOMEM, db->path, 0, "out of memory");
		goto fail;
	}
	t->db = db;
	t->ncols = ncols;
	err = query(db, "SELECT 1 FROM sqlite_master WHERE name = ?1 COLLATE NOCASE", name, &st,
		    &row, "reading schema", d);
	if (err)
		goto fail;
	sqlite3_finalize(st);
	err = row ? check_columns(db, name, cols, types, ncols, d)
		  : create_table(db, name, cols, types, ncols, d);
	if (err || (err = prepare_insert(t, cols, d)))
		goto fail;
	*out = t;
	return 0;
fail:
	out_sqlite_table_close(t);
	return err;
}

int out_sqlite_table_row(struct out_sqlite_table *t, const struct out_val *vals,
			 struct jv_diag *d)
{
	sqlite3_stmt *st = t->ins;
	int rc = SQLITE_OK;
	for (size_t k = 0; k < t->ncols && rc == SQLITE_OK; k++) {
		int i = (int)k + 2;
		switch (t->types[k]) {
		case OUT_INT:
			rc = sqlite3_bind_int64(st, i, vals[k].v.i);
			break;
		case OUT_DBL:
			rc = sqlite3_bind_double(st, i, vals[k].v.d);
			break;
		default:
			rc = sqlite3_bind_text(st, i, vals[k].v.s, -1, SQLITE_TRANSIENT);
			break;
		}
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		char what[96];
		snprintf(what, sizeof what, "inserting into table '%s'", t->name);
		return db_err(t->db, d, what);
	}
	return 0;
}

void out_sqlite_table_close(struct out_sqlite_table *t)
{
	if (!t)
		return;
	sqlite3_finalize(t->ins);
	free(t->name);
	free(t->types);
	free(t);
}

int out_sqlite_metric(struct out_sqlite *db, const char *name, double value,
		      const char *unit, struct jv_diag *d)
{
	if (!db->metric_ins &&
	    sqlite3_prepare_v2(db->h,
			       "INSERT INTO metric(run_id, name, value, unit) VALUES(?1, ?2, ?3, ?4)",
			       -1, &db->metric_ins, NULL) != SQLITE_OK)
		return db_err(db, d, "preparing a metric insert");
	sqlite3_stmt *st = db->metric_ins;
	int rc = SQLITE_OK;
	if (sqlite3_bind_int64(st, 1, db->run_id) ||
	    sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT) ||
	    sqlite3_bind_double(st, 3, value) || bind_text_or_null(st, 4, unit))
		rc = SQLITE_ERROR;
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return db_err(db, d, "inserting a metric");
	return 0;
}

static void db_free(struct out_sqlite *db)
{
	sqlite3_finalize(db->metric_ins);
	sqlite3_close_v2(db->h);
	free(db->path);
	free(db);
}

int out_sqlite_commit(struct out_sqlite *db, const char *status, struct jv_diag *d)
{
	sqlite3_stmt *st = NULL;
	int err = 0;
	if (sqlite3_prepare_v2(db->h, "UPDATE run SET status = ?1 WHERE id = ?2", -1, &st, NULL) !=
		    SQLITE_OK ||
	    sqlite3_bind_text(st, 1, status, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, db->run_id) != SQLITE_OK || sqlite3_step(st) != SQLITE_DONE) {
		err = db_err(db, d, "setting the run's status");
		sqlite3_finalize(st);
		out_sqlite_abort(db);
		return err;
	}
	sqlite3_finalize(st);
	if ((err = exec(db, "COMMIT", "committing the run", d))) {
		out_sqlite_abort(db);
		return err;
	}
	db->in_txn = 0;
	db_free(db);
	return 0;
}

void out_sqlite_abort(struct out_sqlite *db)
{
	if (!db)
		return;
	if (db->in_txn && sqlite3_get_autocommit(db->h) == 0)
		sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
	db_free(db);
}
