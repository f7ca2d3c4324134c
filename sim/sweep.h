/*
 * sweep: `joulevisor sweep`: run one scenario over a grid (and/or random
 * samples) of option values and seeds, with local worker processes or as
 * one shard of a cluster job, into an SQLite run store, resumably.
 * Theory of operation at the top of sim/sweep.c; formats in
 * docs/FORMATS.md "Sweeps and regression".
 */
#ifndef JV_SWEEP_H
#define JV_SWEEP_H

#include <stdint.h>
#include <stdio.h>

#include "base/jv_err.h"
#include "sim/scenario.h"

#define SWEEP_MAX_AXES 32        /* --grid plus --range keys */
#define SWEEP_MAX_SET 128        /* --set overrides */
#define SWEEP_MAX_OV (SWEEP_MAX_SET + SWEEP_MAX_AXES + 1)
#define SWEEP_MAX_POINTS 100000  /* points of one sweep (all shards) */
#define SWEEP_MAX_SEEDS 10000
#define SWEEP_VALUE_MAX 48       /* a sampled value or a seed, as text */

/* One --grid KEY=V1,V2,... or --range KEY=LO:HI[:log]. */
struct sweep_axis {
	char *buf;        /* owned copy of the argument; key and vals point into it */
	const char *key;
	int n_vals;       /* grid */
	char **vals;
	double lo, hi;    /* range: numbers without their unit */
	int integer, log; /* range: integer values (LO and HI integers); log-uniform */
	char unit[16];    /* range: the unit suffix both bounds carry ("" none) */
};

struct sweep_spec {
	const char *scenario;
	const struct scn_override *set; /* applied to every point */
	int n_set;
	struct sweep_axis grid[SWEEP_MAX_AXES];
	int n_grid;
	struct sweep_axis range[SWEEP_MAX_AXES];
	int n_range;
	int n_random;         /* --random K: samples of the ranges (0: none) */
	uint64_t random_seed; /* --random-seed, default 1 */
	uint64_t *seeds;      /* --seeds, NULL: the scenario's own */
	int n_seeds;
	int shard_k, shard_n; /* --shard K/N, default 1/1 */
};

/* The overrides of one point: spec->set, one per grid axis, one per range
 * (when sampling), then global.seed (with --seeds). */
struct sweep_point {
	uint64_t index;
	int n_ov;
	struct scn_override ov[SWEEP_MAX_OV];
	char text[SWEEP_MAX_AXES + 1][SWEEP_VALUE_MAX]; /* sampled values, the seed */
};

/* Argument parsers; d says what is wrong ("--grid: ..."). */
int sweep_parse_grid(const char *arg, struct sweep_axis *a, struct jv_diag *d);
int sweep_parse_range(const char *arg, struct sweep_axis *a, struct jv_diag *d);
/* "3", "1-5", "1,4,9", "1-3,10" */
int sweep_parse_seeds(const char *arg, uint64_t **seeds, int *n, struct jv_diag *d);
/* "K/N" with 1 <= K <= N */
int sweep_parse_shard(const char *arg, int *k, int *n, struct jv_diag *d);
void sweep_axis_free(struct sweep_axis *a);
void sweep_spec_free(struct sweep_spec *sp); /* axes and seeds, not set */

/* Keys unique over --set, --grid and --range, --random with --range, the
 * number of points within SWEEP_MAX_POINTS. */
int sweep_check_spec(const struct sweep_spec *sp, struct jv_diag *d);
/* Points of the whole sweep (every shard): grid x samples x seeds. */
uint64_t sweep_n_points(const struct sweep_spec *sp);
/* Point i (0 .. n-1): the first grid axis varies slowest, seeds fastest. */
void sweep_point(const struct sweep_spec *sp, uint64_t i, struct sweep_point *p);
/* Does point i belong to this shard? (i mod N == K - 1) */
int sweep_in_shard(const struct sweep_spec *sp, uint64_t i);

struct sweep_opts {
	struct sweep_spec spec;
	const char *db;           /* required unless list */
	const char *out_dir;      /* NULL: out/sweeps/<scenario name> */
	int jobs;                 /* worker processes, >= 1 */
	int list;                 /* print the shard's points and their state, run nothing */
	int quiet;                /* no progress */
	int discard_dirs;         /* remove a point's run directory once stored */
	const char *command_line; /* stored with each run */
};

/* Run the sweep; returns a process exit code: 0 every point stored, 1 a
 * point failed (rerun to retry) or violated conservation, 2 bad input,
 * 130/143 interrupted. */
int sweep_run(const struct sweep_opts *o, FILE *out, FILE *err);

/* `joulevisor sweep ...` */
int sweep_cli(int argc, char **argv, FILE *out, FILE *err);

#endif
