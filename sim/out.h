/*
 * out: the run's sinks: a run directory of tidy CSV tables and text files,
 * and optionally the same tables in an SQLite database (design §7).
 *
 * Nothing is ever half-written: the run directory is built under a
 * temporary name beside its final name (DIR.tmp-XXXXXX) and renamed into
 * place by out_run_commit(); an existing DIR is replaced only with force.
 * SQLite tables are written in one transaction per run (WAL mode),
 * committed by out_run_commit() after the directory; out_run_abort()
 * removes the temporary directory and rolls the transaction back.
 *
 * Tables are declared with typed columns and fed row by row; each table
 * goes to DIR/<name>.csv and, with a database, to an SQLite table of the
 * same name with a leading `run_id` column. Doubles are printed with %.10g
 * (deterministic; byte-identical for identical runs).
 */
#ifndef JV_OUT_H
#define JV_OUT_H

#include <stdint.h>
#include <stdio.h>

#include "base/jv_err.h"

struct out_run;
struct out_table;

enum out_type { OUT_INT = 'i', OUT_DBL = 'd', OUT_STR = 's' };

struct out_val {
	union {
		int64_t i;
		double d;
		const char *s;
	} v;
};

struct out_run_info {
	const char *scenario_name;
	const char *scenario_file;
	const char *scenario_text; /* resolved scenario, stored in the db */
	uint64_t seed;
	const char *command_line;
	const char *tool_version;
	const char *overrides; /* canonical --set overrides (db_canon_overrides), or NULL */
	const char *out_dir;   /* the run directory, or NULL */
};

/* Create the run: dir (final path), force (replace an existing dir),
 * db (NULL or SQLite file path; created if missing). */
int out_run_open(const char *dir, int force, const char *db,
		 const struct out_run_info *info, struct out_run **out,
		 struct jv_diag *d);
/* Declare a table. types: one char per column ('i', 'd', 's'). */
int out_table_open(struct out_run *r, const char *name, const char *const *cols,
		   const char *types, struct out_table **out);
/* out_table_open with flags: OUT_TABLE_NO_DB writes the CSV file only,
 * even when the run has a database (for bulky tables such as power.csv). */
#define OUT_TABLE_NO_DB 1u
int out_table_open_ex(struct out_run *r, const char *name, const char *const *cols,
		      const char *types, unsigned flags, struct out_table **out);
/* Append a row; vals[i] matches types[i]. */
int out_table_row(struct out_table *t, const struct out_val *vals);
/* Convenience: printf-free row from variadic args in column order:
 * int64_t for 'i', double for 'd', const char * for 's'. */
int out_table_rowv(struct out_table *t, ...);
int out_table_close(struct out_table *t);
/* A plain text file in the run directory (summary.txt, manifest.txt ...);
 * close with fclose() before out_run_commit. Returns NULL on error. */
FILE *out_run_fopen(struct out_run *r, const char *name);
/* Store a key/value metric in the db `metric` table (no-op without db). */
int out_run_metric(struct out_run *r, const char *name, double value, const char *unit);
/* Final directory path and the db run id (0 without db). */
const char *out_run_dir(const struct out_run *r);
int64_t out_run_id(const struct out_run *r);
/* The run's first error (err == 0 if none). Errors are sticky: once any
 * call on the run failed, later calls return that error and
 * out_run_commit fails with it. Use it for the message of a failed
 * out_table_open/out_table_row/out_run_fopen/out_run_metric. */
const struct jv_diag *out_run_diag(const struct out_run *r);
/* Commit the db run row with status 'incomplete' instead of 'complete'
 * (e.g. a live run stopped by a signal whose data is still wanted). */
int out_run_mark_incomplete(struct out_run *r);
/* Flush everything, rename the directory into place, commit the db.
 * Frees r. Returns 0 or JV_EIO/JV_EDB with d filled (and aborts). */
int out_run_commit(struct out_run *r, struct jv_diag *d);
/* Remove the temporary directory and roll back. Frees r. */
void out_run_abort(struct out_run *r);

/* manifest.txt helper: xxHash64 of a file's content, and its size.
 * Returns 0 or JV_ENOENT/JV_EIO. */
int out_file_hash(const char *path, uint64_t *hash, uint64_t *size);

#endif
