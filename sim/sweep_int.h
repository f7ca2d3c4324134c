/*
 * sweep_int: the parts of `joulevisor sweep` (sim/sweep.h) shared by its
 * files; not installed, included only by sim/sweep*.c, before any other
 * header (it defines _XOPEN_SOURCE for nftw). The theory of operation: the
 * top of sim/sweep.c.
 *
 * Which file does what:
 *  - sweep.c: the theory of operation, small helpers (hash mixing, time,
 *    directories), the command line (sweep_cli).
 *  - sweep_spec.c: parsing --grid, --range, --seeds and --shard; the
 *    points of a spec (count, shard membership, the i-th point).
 *  - sweep_plan.c: the plan: every point of the sweep and this shard's,
 *    their keys, duplicates and state in the database.
 *  - sweep_point.c: one point in a worker process: run it, derive its
 *    metrics, store it.
 *  - sweep_pool.c: the parent: the worker pool, progress, sweep_run.
 *
 * Functions called from another file carry the prefix sweep_int_ (they are
 * internal to sweep and declared only here); their prototypes below are
 * grouped by the file that defines them.
 */
#ifndef JV_SWEEP_INT_H
#define JV_SWEEP_INT_H

#define _XOPEN_SOURCE 700 /* nftw */

#include "sim/sweep.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "base/jv_signal.h"
#include "sim/db.h"
#include "sim/run.h"

#define SWEEP_DEFAULT_OUT "out/sweeps"
#define SWEEP_PATH_MAX 4096
#define SWEEP_DIR_MAX (SWEEP_PATH_MAX - 128) /* --out-dir, leaving room for point files */
#define SWEEP_MAX_VALUES 10000      /* values of one --grid axis */
#define SWEEP_ABOVE_LIMIT_FACTOR 1.1 /* a step "above the limit": > 1.1 x limit */
#define SWEEP_BAR_W 24               /* progress bar cells */
#define SWEEP_DIR_MODE 0777
#define SWEEP_NFTW_FDS 16
#define SWEEP_MAX_JOBS 1024

/* Worker exit codes (parent <- child). */
enum {
	CHILD_OK = 0,
	CHILD_RUNTIME = 1,
	CHILD_INPUT = 2,
	CHILD_VIOLATION = 10, /* stored; run_main exited 1 (conservation) */
	CHILD_DUP = 11,       /* another process stored the point meanwhile */
};

struct plan_pt {
	uint64_t index;
	char *key, *canon;
	char id[17];   /* xxh64 of the key: the run directory name */
	int dup;       /* repeats an earlier point */
	int complete;  /* already in the database */
};

struct plan {
	char *scenario_name;
	uint64_t base_seed;
	struct plan_pt *pt; /* this shard's points, index order */
	size_t n, n_total, n_dup_total;
};

struct worker_ctx {
	const struct sweep_opts *o;
	const char *out_dir;
	int crash; /* test hook: SIGKILL before COMMIT */
};

/* sweep.c */
uint64_t sweep_int_mix64(uint64_t x);
double sweep_int_now_s(void);
int sweep_int_mkdir_p(const char *path);
void sweep_int_remove_tree(const char *path);
void sweep_int_remove_db_files(const char *path);

/* sweep_spec.c */
int sweep_int_parse_u64(const char *s, const char *end, uint64_t *v);

/* sweep_plan.c */
void sweep_int_plan_free(struct plan *pl);
int sweep_int_try_load(const char *scenario, const struct scn_override *ov, int n, const char *what,
		       struct scn **out, struct jv_diag *d);
int sweep_int_plan_build(const struct sweep_spec *sp, struct plan *pl, struct jv_diag *d);
int sweep_int_plan_mark_complete(struct plan *pl, struct db *db, struct jv_diag *d);

/* sweep_point.c */
void sweep_int_tmp_db_path(const char *out_dir, const char *id, long pid, char *buf, size_t cap);
int sweep_int_run_point(const struct worker_ctx *w, const struct plan_pt *q, FILE *err);

#endif /* JV_SWEEP_INT_H */
