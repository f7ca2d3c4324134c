/*
 * calib_cmd: the work of `joulevisor calib pmc` and `joulevisor calib disk`
 * (argument parsing is in sim/cli_calib.c): load the inputs, align,
 * fit, validate and write the output directory.
 *
 * calib pmc writes DIR/weights.csv (`counter,weight_j`, loadable by a
 * scenario's [cpu] weights_file), calib_weights.csv (weights with
 * standard errors and status), calib_cv.csv (validation next to the
 * constant-power baseline), calib_fit.csv (per window: measured, fitted
 * and cross-validated power) and report.txt.
 * calib disk writes DIR/disk.ini ([disk] idle_power, active_power,
 * media_rate), disk_fit.csv (per window residuals) and report.txt.
 */
#ifndef JV_CAL_CALIB_CMD_H
#define JV_CAL_CALIB_CMD_H

#include <stdio.h>

#include "base/jv_err.h"
#include "calib/daq.h"
#include "calib/fit_pmc.h"

#define CAL_MAX_RENAMES 32

struct cal_align_opts {
	double offset_s;        /* meter time of the log's t = 0 */
	int use_sync;
	double sync_threshold;  /* default 4 */
	double sync_at_s;       /* log time of the sync edge */
	int sync_edge;          /* default 1 */
	double max_lag_s;       /* > 0: cross-correlation search */
};

struct cal_pmc_cmd {
	const char *pmc[CAL_MAX_RUNS];
	int n_pmc;
	const char *format;           /* counter log format, NULL = auto */
	const char *target_event;     /* RAPL energy event in the logs, e.g. energy-pkg */
	const char *meter[CAL_MAX_RUNS]; /* or one meter file per log */
	int n_meter;
	struct cal_meter_opts mo;     /* one channel: the power to fit */
	struct cal_align_opts al;
	const char *align_event;      /* reference for the lag search (default: an energy
				       * event of the log, else cycles, else the first counter) */
	const char *counters[CAL_MAX_FEAT];
	int n_counters;               /* 0: every non-energy event of the first log */
	double window_s;              /* 0: log intervals (RAPL) / coarser of meter and log */
	struct cal_fit_opts fit;
	double tsc_freq_hz;           /* > 0: write the idle power as the TSC weight */
	const char *tsc_counter;      /* default "tsc" */
	const char *rename_from[CAL_MAX_RENAMES], *rename_to[CAL_MAX_RENAMES];
	int n_rename;
	const char *out_dir;
	int force;
	int quiet;
	const char *command_line;
};

struct cal_disk_cmd {
	const char *blk;
	const char *blk_format;       /* NULL = auto */
	int disk;                     /* -1 = all */
	const char *meter;
	struct cal_meter_opts mo;
	struct cal_align_opts al;
	double window_s;              /* default 100 ms */
	const char *out_dir;
	int force;
	int quiet;
	const char *command_line;
};

void cal_align_opts_init(struct cal_align_opts *a);
/* Return a process exit code (0, 1, 2); messages to err, summary to out. */
int cal_pmc_cmd_run(const struct cal_pmc_cmd *c, FILE *out, FILE *err);
int cal_disk_cmd_run(const struct cal_disk_cmd *c, FILE *out, FILE *err);

#endif
