/*
 * compare_db: the SQLite side of `joulevisor compare --db DB --run ID`:
 * read a run's power table and scenario text, and store the comparison
 * (tables `compare` and `compare_metrics`, and `compare_*` metrics) for
 * that run, replacing an earlier comparison of the same run, in one
 * transaction. Schema conventions as in docs/FORMATS.md (run_id column
 * referencing run(id) ON DELETE CASCADE, an index on run_id).
 */
#ifndef JV_CAL_COMPARE_DB_H
#define JV_CAL_COMPARE_DB_H

#include <stddef.h>
#include <stdint.h>

#include "base/jv_err.h"

/* Row callback for the power table: returns 0 or a JV_E* code to stop. */
typedef int (*cal_power_row_fn)(void *ctx, int64_t t_ns, const char *device, double power_w);

/* Read every power row of run_id in order, and the run's scenario text
 * (malloc'd, "" if NULL in the db; caller frees). */
int cal_db_read_power(const char *db, int64_t run_id, cal_power_row_fn fn, void *ctx,
		      char **scenario_text, struct jv_diag *d);

/* One value of a row to store: type 'i', 'd', 's' or 'n' (NULL). */
struct cal_db_val {
	char type;
	int64_t i;
	double d;
	const char *s;
};

struct cal_db_table {
	const char *name;
	int ncols;
	const char *const *cols;
	const char *types;         /* 'i' INTEGER, 'd' REAL, 's' TEXT per column */
	size_t nrows;
	/* fill row r into vals[0..ncols) */
	void (*row)(void *ctx, size_t r, struct cal_db_val *vals);
	void *ctx;
};

struct cal_db_metric {
	char name[128];
	double value;
	const char *unit;
};

/* Replace the comparison of run_id: tables and metrics (names starting
 * with `compare_`) in one transaction. */
int cal_db_write_compare(const char *db, int64_t run_id, const struct cal_db_table *tables,
			 int ntables, const struct cal_db_metric *metrics, size_t nmetrics,
			 struct jv_diag *d);

#endif
