/*
 * out_sqlite: the SQLite side of the run's sinks (private to sim/out.c,
 * but for the schema helpers at the end, which sim/db.c uses).
 *
 * One handle is one run in one database: out_sqlite_open() opens (or
 * creates) the file, checks the schema version, starts the run's
 * transaction (BEGIN IMMEDIATE) and inserts the `run` row with status
 * 'running'. Tables and metrics are written inside that transaction;
 * out_sqlite_commit() marks the run and commits, out_sqlite_abort() rolls
 * everything back. Both free the handle. Every table handle must be closed
 * (out_sqlite_table_close) before the run is committed or aborted.
 *
 * Table and column names must already be validated identifiers (sim/out.c
 * does it); they are still quoted in the SQL. Values are always bound.
 * Every error is JV_EDB (JV_ENOMEM for allocation) with d filled as
 * "DBFILE: what: reason".
 */
#ifndef JV_OUT_SQLITE_H
#define JV_OUT_SQLITE_H

#include <stddef.h>
#include <stdint.h>

#include "base/jv_err.h"
#include "sim/out.h"

/* The schema this code writes (table schema_version); older versions are
 * migrated forward when a run or a tool writes to the database. */
#define OUT_SQLITE_SCHEMA_VERSION 2
/* How long a writer waits for another run's transaction (PRAGMA busy_timeout). */
#define OUT_SQLITE_BUSY_TIMEOUT_MS 10000

struct out_sqlite;
struct out_sqlite_table;
struct sqlite3;

int out_sqlite_open(const char *path, const struct out_run_info *info,
		    struct out_sqlite **out, struct jv_diag *d);
int64_t out_sqlite_run_id(const struct out_sqlite *db);
/* Create the table on first use (or check an existing one's columns) and
 * prepare its INSERT. types: ncols chars of 'i', 'd', 's'. */
int out_sqlite_table_open(struct out_sqlite *db, const char *name,
			  const char *const *cols, const char *types, size_t ncols,
			  struct out_sqlite_table **out, struct jv_diag *d);
/* Insert one row; vals already validated (finite doubles, non-NULL strings). */
int out_sqlite_table_row(struct out_sqlite_table *t, const struct out_val *vals,
			 struct jv_diag *d);
/* Finalize the INSERT and free t (NULL is fine). */
void out_sqlite_table_close(struct out_sqlite_table *t);
int out_sqlite_metric(struct out_sqlite *db, const char *name, double value,
		      const char *unit, struct jv_diag *d);
/* Set the run's final status ("complete" or "incomplete") and COMMIT.
 * Frees db whatever happens; on failure the transaction is rolled back. */
int out_sqlite_commit(struct out_sqlite *db, const char *status, struct jv_diag *d);
/* ROLLBACK and free (NULL is fine). */
void out_sqlite_abort(struct out_sqlite *db);

/* For the run-store tools (sim/db.c), on their own connection h (path
 * names the file in messages):
 * out_sqlite_schema creates the schema in an empty database, migrates an
 * older version forward or checks the version (JV_EDB for a foreign or
 * newer database); call it inside a write transaction (BEGIN IMMEDIATE).
 * out_sqlite_schema_version only reads: *version is 0 for an empty
 * database, else 1 .. OUT_SQLITE_SCHEMA_VERSION (newer ones are JV_EDB). */
int out_sqlite_schema(struct sqlite3 *h, const char *path, struct jv_diag *d);
int out_sqlite_schema_version(struct sqlite3 *h, const char *path, int *version,
			      struct jv_diag *d);

#endif
