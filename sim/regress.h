/*
 * regress: `joulevisor regress`: compare the metrics of a candidate set of
 * runs with a baseline, point by point, with per-metric thresholds, and
 * fail (exit 3) when anything got worse past its threshold. Theory of
 * operation at the top of sim/regress.c; the thresholds file format in
 * docs/FORMATS.md "Sweeps and regression".
 */
#ifndef JV_REGRESS_H
#define JV_REGRESS_H

#include <stdio.h>

#include "base/jv_err.h"

#define REGRESS_PATTERN_MAX 128

/* Which way is better for a metric. */
enum rg_better {
	RG_LOWER,  /* errors, settling time, overshoot, violations, loss, residuals */
	RG_HIGHER, /* throughput */
	RG_ZERO,   /* signed errors: closer to zero (|value|) */
	RG_EQUAL,  /* any change past the threshold is a regression */
	RG_INFO,   /* changes are shown, never a regression */
	RG_IGNORE, /* not compared */
};

struct rg_rule {
	char pattern[REGRESS_PATTERN_MAX]; /* fnmatch(3) glob over metric names */
	enum rg_better better;
	double abs_tol;   /* in the metric's unit, >= 0 */
	double rel_tol;   /* fraction of |baseline|, >= 0 */
	char origin[64];  /* "FILE:LINE" or "default" */
};

enum rg_verdict {
	RG_SAME,       /* no change */
	RG_WITHIN,     /* changed, within the threshold (worse, better or info) */
	RG_REGRESSED,  /* worse by more than the threshold */
	RG_IMPROVED,   /* better by more than the threshold */
};

/* Read a thresholds file: lines `PATTERN BETTER [abs=X] [rel=Y[%]]`,
 * `#` comments. *rules is malloc'd. Errors are "FILE:LINE: ..." (JV_EPARSE
 * etc.). */
int regress_parse_thresholds(const char *path, struct rg_rule **rules, int *n,
			     struct jv_diag *d);
/* The first rule of rules[] matching the metric, else the first built-in
 * default that does (the last default, `*`, matches everything). */
const struct rg_rule *regress_rule_for(const struct rg_rule *rules, int n, const char *metric);
/* Compare one metric: *worse is how much worse the candidate is (negative:
 * better; in the metric's unit; +-INFINITY when a settling time turns to
 * or from "never", stored as -1), *tol the threshold max(abs, rel x
 * |base|). */
enum rg_verdict regress_compare(const struct rg_rule *r, const char *metric, double base,
				double cand, double *worse, double *tol);

/* `joulevisor regress ...`: 0 no regression, 3 regression, 1 runtime
 * failure, 2 bad input. */
int regress_cli(int argc, char **argv, FILE *out, FILE *err);

#endif
