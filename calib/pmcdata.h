/*
 * pmcdata: per-interval counter deltas for calibration, in doubles.
 *
 * Sources: `perf stat -x, -I MS` CSV (6 to 8 fields; the -A per-CPU and
 * -G per-cgroup variants are summed; `<not counted>` / `<not supported>`
 * flag the interval) and the native `# joulevisor pmc-interval v1` trace
 * (through traces/trc.h, summed over VMs; counter names "EVENT (nJ)" etc.
 * written by `trace import --from perf-stat` are turned back into EVENT in
 * J). Why a reader beside traces/fmt_perf_stat.c: a `<not counted>` value
 * must take its interval out of the fit (the trace reader yields 0 and
 * only counts skipped values), and values keep their fractions and units
 * without suffixed names. Both agree on real files (tests/check_calib.c).
 * Units are normalized: perf `Joules` -> J (an energy event), `MiB` ->
 * bytes, `msec` -> s, empty -> events.
 */
#ifndef JV_CAL_PMCDATA_H
#define JV_CAL_PMCDATA_H

#include <stddef.h>

#include "base/jv_err.h"
#include "calib/series.h"

#define CAL_MAX_EVENTS 32
#define CAL_EVENT_MAX 128
#define CAL_UNIT_MAX 16
#define CAL_RUN_NAME_MAX 64

struct cal_pmc_run {
	char *path;
	char name[CAL_RUN_NAME_MAX];  /* file name without directory and extension */
	const char *format;           /* "perf-stat" or "pmc-interval" */
	size_t n;                     /* intervals */
	double *t0_s, *t1_s;          /* interval bounds */
	int n_ev;
	char ev[CAL_MAX_EVENTS][CAL_EVENT_MAX];
	char unit[CAL_MAX_EVENTS][CAL_UNIT_MAX]; /* "" (events), "J", "B", "s" or perf's */
	int is_energy[CAL_MAX_EVENTS];
	double *val[CAL_MAX_EVENTS];  /* delta per interval, in unit */
	unsigned char *bad;           /* per interval: 1 if an event was not counted */
	size_t n_bad;
	int groups;                   /* CPUs or cgroups summed per event (1 if none) */
	long lines;                   /* lines read */
};

/* format: NULL/"auto", "perf-stat" or "pmc-interval". Returns 0 or a
 * negative JV_E* code with d filled as "FILE:LINE: reason". */
int cal_pmc_load(const char *path, const char *format, struct cal_pmc_run **out,
		 struct jv_diag *d);
void cal_pmc_free(struct cal_pmc_run *r);
/* Index of an event by exact name, or by the name inside `pmu/NAME/`
 * (`energy-pkg` finds `power/energy-pkg/`); -1 if absent. */
int cal_pmc_event(const struct cal_pmc_run *r, const char *name);
/* Event ev as a series of rates (unit per second; watts for energy), one
 * segment per good interval. */
int cal_pmc_rate_series(const struct cal_pmc_run *r, int ev, struct cal_series *out);

#endif
