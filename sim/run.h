/*
 * run: `joulevisor run`: load a scenario, simulate/replay it on the
 * machine, write the run directory (and SQLite run), print the matrix.
 */
#ifndef JV_RUN_H
#define JV_RUN_H

#include <stdio.h>

#include "base/jv_err.h"
#include "sim/scenario.h"

struct run_opts {
	const char *scenario;     /* path or "-" */
	const char *out_dir;      /* NULL: out/<scenario name> */
	const char *db;           /* NULL or SQLite file */
	int force;
	int parse_only;
	int quiet;                /* no matrix on stdout */
	const struct scn_override *ov;
	int n_ov;
	const char *command_line; /* for manifest.txt */
	int mark_incomplete;      /* store the db run as `incomplete` (a live session
				   * stopped by a signal) */
};

/* Returns a process exit code (0, 1, 2) and prints diagnostics. */
int run_main(const struct run_opts *o, FILE *out, FILE *err);

#endif
