/*
 * daq: power-meter / DAQ log import for `joulevisor compare` and `calib`.
 *
 * Any delimited text file (libcsv): any delimiter (auto-detected from the
 * first data line among , ; TAB and white space, or given), optional header
 * (auto-detected: a first row that is not all numbers), comment lines
 * (starting with '#' by default), blank lines, CRLF, a UTF-8 BOM, trailing
 * delimiters (`0.43,0.52,0.52,-5.12,`) and Python bytes literals as numbers
 * (`b'04988'`). Time comes from a column (s, ms, us, ns, Unix epoch seconds
 * or ISO 8601) or from the sample index and a rate. Channels are
 * expressions over columns (calib/expr.h), e.g. a CPU 12 V rail measured by
 * two Hall sensors: `cpu=(c2-0.5)/0.133*12 + (c3-0.5)/0.133*12`.
 */
#ifndef JV_CAL_DAQ_H
#define JV_CAL_DAQ_H

#include <stddef.h>

#include "base/jv_err.h"
#include "calib/series.h"

#define CAL_MAX_CHANNELS 16
#define CAL_NAME_MAX 64
#define CAL_LINE_MAX_B (1 << 20) /* longest accepted line */

enum cal_time_unit {
	CAL_TIME_S = 0,
	CAL_TIME_MS,
	CAL_TIME_US,
	CAL_TIME_NS,
	CAL_TIME_EPOCH, /* Unix seconds; times become relative to the first sample */
	CAL_TIME_ISO,   /* ISO 8601 date-time; relative to the first sample */
};

struct cal_channel_def {
	char name[CAL_NAME_MAX];
	const char *expr;
};

struct cal_meter_opts {
	int delim;            /* 0: auto; ',' ';' '\t', ' ' (runs of white space) or any byte */
	int header;           /* -1 auto (default), 0 none, 1 first row is a header */
	int comment;          /* comment line prefix, default '#'; 0: none */
	const char *time_col; /* column name or cN; NULL: index / rate_hz */
	int time_unit;        /* cal_time_unit of time_col, default seconds */
	double rate_hz;       /* sample rate when there is no time column */
	int n_channels;
	struct cal_channel_def ch[CAL_MAX_CHANNELS];
	const char *sync_expr; /* NULL or the sync-pulse channel's expression */
	int energy;            /* 1: channels are cumulative energy (J); power = its rate */
};

struct cal_meter {
	char *path;
	size_t n;          /* samples */
	double *t_s;       /* sample times in seconds (relative for epoch/ISO) */
	/* source lines, as runs: sample i >= line_run_first[r] of run r is on
	 * line line_run_line[r] + (i - line_run_first[r]); see cal_meter_line() */
	size_t n_line_runs;
	size_t *line_run_first;
	long *line_run_line;
	int n_ch;
	char ch_name[CAL_MAX_CHANNELS][CAL_NAME_MAX];
	double *v[CAL_MAX_CHANNELS];
	double *sync;      /* sync channel values, NULL without sync_expr */
	double *samples;   /* the block that holds t_s, v[] and sync */
	double rate_hz;    /* given, or 1 / median sample spacing */
	double period_s;   /* 1 / rate_hz */
	double t_origin_s; /* epoch seconds of t = 0 for epoch/ISO times, else 0 */
	int n_cols;        /* fields of the first data row */
	int has_header;
	int delim;         /* delimiter used */
};

void cal_meter_opts_init(struct cal_meter_opts *o);
/* Parse "NAME=EXPR" into a channel definition (expr points into text). */
int cal_channel_parse(const char *text, struct cal_channel_def *ch, struct jv_diag *d);
/* Parse a time-unit name: s ms us ns epoch iso. Returns 0 or JV_EUNKNOWN. */
int cal_time_unit_parse(const char *name, int *unit);
const char *cal_time_unit_name(int unit);

/* Load a meter file. Returns 0 or a negative JV_E* code with d filled as
 * "FILE:LINE: what: reason". At least one channel (or a sync channel) is
 * required and at least 2 samples. */
int cal_meter_load(const char *path, const struct cal_meter_opts *o, struct cal_meter **out,
		   struct jv_diag *d);
void cal_meter_free(struct cal_meter *m);
/* A number field as the importer reads it: an optional b'...' wrapper,
 * blanks around, sign, decimal digits with an optional '.', an optional
 * exponent; no nan, inf or hex, at most 127 characters. Returns 1 with
 * *out set to exactly strtod()'s value, else 0. */
int cal_parse_number(const char *s, size_t n, double *out);
/* Its fast path (Clinger): [+-]digits[.digits][(e|E)[+-]digits] with at
 * most 19 digits, a mantissa <= 2^53 and a power of ten within 1e+-22,
 * which one double multiply or divide gives exactly as strtod() does.
 * Returns 1 with *out set, 0 when the text is not of that form (the caller
 * then needs the general parser). */
int cal_parse_number_fast(const char *s, size_t n, double *out);
/* Source line of sample i (i < m->n). */
long cal_meter_line(const struct cal_meter *m, size_t i);
/* Channel index by name, -1 if absent. */
int cal_meter_channel(const struct cal_meter *m, const char *name);
/* Channel ch as a step series (sample i covers [t_i, t_{i+1}), the last
 * one a period long); ch = -1 gives the sync channel. */
int cal_meter_series(const struct cal_meter *m, int ch, struct cal_series *out);

#endif
