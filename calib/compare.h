/*
 * compare: a run's model power against a power meter (DAQ) log.
 *
 * `joulevisor compare RUNDIR --daq FILE` (or `--db DB --run ID`): the
 * model is the run's power.csv (t_ns,device,power_w); each meter channel
 * is matched to model devices (a device name, `cpu` = every cpuN, `disk`
 * = every diskN, `total` = all, or --model NAME=DEV+DEV); meter and model
 * are aligned (manual offset, sync pulse, cross-correlation), resampled to
 * common windows and compared per channel over the run, per phase and per
 * window. Outputs beside the run: compare.csv, compare_metrics.csv,
 * compare_summary.txt, compare.gp and compare.svg (when gnuplot exists).
 */
#ifndef JV_CAL_COMPARE_H
#define JV_CAL_COMPARE_H

#include <stdint.h>
#include <stdio.h>

#include "base/jv_err.h"
#include "calib/daq.h"
#include "calib/metrics.h"

#define CAL_MAX_PHASES 64
#define CAL_DEFAULT_WINDOW_S 0.1
#define CAL_TRANSIENT_MIN_HZ 350.0 /* meters below this miss CPU transients */
#define CAL_MAP_MAX 256

struct cal_phase {
	char name[CAL_NAME_MAX];
	double start_s, end_s; /* model time */
};

struct cal_model_map {
	char channel[CAL_NAME_MAX];
	char devices[CAL_MAP_MAX]; /* DEV+DEV+..., group names cpu, disk, total allowed */
};

struct cal_compare_opts {
	const char *run_dir;     /* model: RUN_DIR/power.csv; outputs there */
	const char *db;          /* or the run's power table in an SQLite run store */
	int64_t run_id;
	const char *out_dir;     /* db mode: also write the files here (NULL: db only) */
	const char *daq;         /* meter file */
	struct cal_meter_opts meter;
	double offset_s;         /* meter time of the model's t = 0 (manual) */
	int use_sync;            /* align on the sync channel's edge */
	double sync_threshold;   /* default 4 (volts of a DTR/TTL marker) */
	double sync_at_s;        /* model time of the edge, default 0 */
	int sync_edge;           /* which rising edge, default 1 */
	double max_lag_s;        /* > 0: cross-correlation search around the offset */
	const char *align_channel; /* channel used for the search (default: the first) */
	double window_s;         /* default CAL_DEFAULT_WINDOW_S */
	int n_phases;
	struct cal_phase phase[CAL_MAX_PHASES];
	int n_maps;
	struct cal_model_map map[CAL_MAX_CHANNELS];
	int no_plot;
	const char *gnuplot;     /* gnuplot command, default "gnuplot" */
};

struct cal_compare_channel {
	char name[CAL_NAME_MAX];
	char devices[CAL_MAP_MAX];
	struct cal_metrics run;
	size_t windows, skipped;
};

struct cal_compare_result {
	double rate_hz;          /* meter sample rate */
	size_t samples;
	double offset_s;         /* chosen offset (meter time of model t = 0) */
	char method[32];         /* manual, sync, xcorr, sync+xcorr, manual+xcorr */
	double sync_edge_s;      /* meter time of the sync edge (sync methods) */
	double xcorr_r;          /* correlation at the chosen lag (xcorr methods) */
	int xcorr_at_edge;
	double window_s;
	double model_start_s, model_end_s;
	int n_ch;
	struct cal_compare_channel ch[CAL_MAX_CHANNELS];
	int n_phases;
	int transient_warning;   /* meter rate below CAL_TRANSIENT_MIN_HZ */
	int plot;                /* 1 figure written, 0 skipped (no gnuplot / --no-plot), -1 failed */
	char out_dir[1024];      /* where the files went ("" for db only) */
};

void cal_compare_opts_init(struct cal_compare_opts *o);
/* Parse "NAME=START:END" (times with units, e.g. warmup=0s:2s). */
int cal_phase_parse(const char *text, struct cal_phase *ph, struct jv_diag *d);
/* Parse "NAME=DEV+DEV". */
int cal_map_parse(const char *text, struct cal_model_map *m, struct jv_diag *d);

/* Run the comparison and write the outputs. Messages for people (sample
 * rate, warnings, the figure's fate) go to msg (may be NULL). Returns 0 or
 * a negative JV_E* code with d filled. */
int cal_compare(const struct cal_compare_opts *o, struct cal_compare_result *res, FILE *msg,
		struct jv_diag *d);
/* The text summary (also written as compare_summary.txt). */
void cal_compare_print(const struct cal_compare_result *res, FILE *f);

#endif
