/*
 * db: the run store's tools (`joulevisor db ls|show|export|rm|merge|migrate`)
 * and what sweeps (sim/sweep.c) and regressions (sim/regress.c) share with
 * them: opening a run database, the identity of a sweep point, copying runs
 * from one database into another. The schema itself is sim/out_sqlite.c's
 * (docs/FORMATS.md "SQLite run store" and "Sweeps and regression").
 */
#ifndef JV_DB_H
#define JV_DB_H

#include <stdint.h>
#include <stdio.h>

#include "base/jv_err.h"
#include "sim/scenario.h"

/* How long a tool's connection waits for another writer (busy_timeout):
 * sweep workers queue behind each other's short copy transactions. */
#define DB_BUSY_TIMEOUT_MS 60000

struct sqlite3;
struct db;

enum db_mode {
	DB_READ,   /* must exist; version 1 is read through a compatibility view */
	DB_WRITE,  /* must exist; an older schema is migrated forward */
	DB_CREATE, /* created when missing (not its directory); migrated forward */
};

/* Open a run database. Errors: JV_ENOENT (missing file), JV_EDB (not a
 * database, foreign or newer schema, locked, ...), d says "FILE: why". */
int db_open(const char *path, enum db_mode mode, struct db **out, struct jv_diag *d);
/* Close (rolls back an open transaction); NULL is fine. */
void db_close(struct db *db);
struct sqlite3 *db_sqlite(const struct db *db);
const char *db_path(const struct db *db);
/* The schema version the file had when opened (before any migration). */
int db_found_version(const struct db *db);

/* Write transactions: BEGIN IMMEDIATE / COMMIT / ROLLBACK. */
int db_begin(struct db *db, struct jv_diag *d);
int db_commit(struct db *db, struct jv_diag *d);
void db_rollback(struct db *db);
/* Fill d from the connection's last error as "FILE: what: reason". */
int db_error(const struct db *db, struct jv_diag *d, const char *what);

/* Point identity (run.overrides and run.point_key):
 * canonical overrides are the KEY=VALUE pairs sorted by key (byte order),
 * the last of a repeated key kept, global.seed left out, joined by single
 * spaces; space, '%' and control bytes are written %XX. The point key is
 * "SCENARIO seed=SEED" followed by " " and the canonical overrides when
 * there are any. *out is malloc'd. Return 0 or JV_ENOMEM. */
int db_canon_overrides(const struct scn_override *ov, int n, char **out);
int db_point_key(const char *scenario, uint64_t seed, const char *canon, char **out);
/* The canonical overrides without the given keys (for comparing points
 * across a change of those keys). */
int db_canon_drop(const char *canon, const char *const *keys, int n_keys, char **out);

/* Copying runs from src to dst (sweep workers, merge). db_copy_open finds
 * src's run tables (every table but run and schema_version; each must
 * start with run_id) and creates the missing ones in dst or checks that
 * dst's have the same columns and types; call it inside dst's write
 * transaction. db_copy_run copies one run: its `run` row (meta fields that
 * are not NULL replace the source's) and its rows of every table in rowid
 * order; *new_id is its id in dst. A point key already in dst is JV_EEXIST
 * ("DST: point 'KEY' is already in the database (run N)"). */
struct db_copy;
struct db_run_meta {
	const char *overrides, *point_key, *out_dir;
};
#define DB_COPY_SKIP_POWER 1u /* leave the bulky `power` table out */
int db_copy_open(struct db *dst, struct db *src, unsigned flags, struct db_copy **out,
		 struct jv_diag *d);
int db_copy_run(struct db_copy *c, int64_t src_id, const struct db_run_meta *meta,
		int64_t *new_id, struct jv_diag *d);
void db_copy_close(struct db_copy *c);

/* Insert one metric row (value must be finite). */
int db_add_metric(struct db *db, int64_t run_id, const char *name, double value,
		  const char *unit, struct jv_diag *d);

/* RFC 4180 CSV field as the run directory writes it: quoted only when it
 * holds a comma, quote, CR or LF (quote_empty: "" for an empty string). */
int db_csv_field(FILE *f, const char *s, int quote_empty);

/* `joulevisor db ...`: returns a process exit code (design §7). */
int db_cli(int argc, char **argv, FILE *out, FILE *err);

#endif
