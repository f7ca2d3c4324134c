/*
 * live_perf: CPU counters of live entities through perf_event_open(2).
 *
 * A counter group per entity: a process tree (pid with `inherit`) or a
 * cgroup (one group per online CPU, PERF_FLAG_PID_CGROUP, summed). The
 * leader is task-clock (a software event every kernel has); the members
 * are opened one by one, so a missing hardware event (ENOENT without a
 * PMU, EACCES without permission) leaves the others working. Reads use
 * the group format with time enabled/running and scale each value by
 * enabled/running when the PMU multiplexed the group.
 *
 * Optional context-switch sampling: a `context-switches` leader with
 * sample_period = 1 and PERF_SAMPLE_READ, timestamps on CLOCK_MONOTONIC,
 * so a record (the group's cumulative values) arrives each time the
 * entity is switched out, as the paper's hypervisor logs at every switch.
 */
#ifndef JV_LIVE_PERF_H
#define JV_LIVE_PERF_H

#include <stdint.h>
#include <sys/types.h>

#include "base/jv_err.h"

/* Events joulevisor knows, in this order; names are trace counter names. */
enum lperf_ev {
	LPERF_TASK_CLOCK = 0, /* task_clock_ns: CPU time, ns (software; the leader) */
	LPERF_CTX_SWITCHES,   /* context_switches (software) */
	LPERF_PAGE_FAULTS,    /* page_faults (software) */
	LPERF_CPU_MIGRATIONS, /* cpu_migrations (software) */
	LPERF_CYCLES,         /* cycles (hardware) */
	LPERF_INSTRUCTIONS,   /* instructions (hardware) */
	LPERF_LLC_MISSES,     /* llc_misses: cache-misses (hardware) */
	LPERF_N_EVENTS
};

#define LPERF_ALL_EVENTS ((1u << LPERF_N_EVENTS) - 1u)
#define LPERF_MAX_CPUS 1024

const char *lperf_event_name(int ev);   /* "task_clock_ns", ... */
const char *lperf_event_perf_name(int ev); /* perf's name: "task-clock", ... */
int lperf_event_is_hw(int ev);

struct lperf_group;

/* Count the process pid (its threads, and with inherit its future
 * children). enable_on_exec: counting starts at pid's next execve (for a
 * spawned command held before exec), else at once. events: bit mask of
 * enum lperf_ev; task-clock is always opened (the leader). Fails only
 * when the leader cannot be opened (d filled with the errno's reason). */
int lperf_open_pid(pid_t pid, int inherit, int enable_on_exec, unsigned events,
		   struct lperf_group **out, struct jv_diag *d);
/* Count the cgroup whose directory (in the hierarchy that has perf_event)
 * is dir, one group per CPU in cpus[0..ncpu). */
int lperf_open_cgroup(const char *dir, const int *cpus, int ncpu, unsigned events,
		      struct lperf_group **out, struct jv_diag *d);
/* errno of an event that could not be opened (0 if it is counting). */
int lperf_event_errno(const struct lperf_group *g, int ev);
int lperf_has(const struct lperf_group *g, int ev);
/* Cumulative values of every event (0 for events not counting), scaled by
 * time enabled / running; per-CPU groups are summed. *multiplexed (may be
 * NULL) is set when some group ran less than it was enabled. */
int lperf_read(struct lperf_group *g, uint64_t val[LPERF_N_EVENTS], int *multiplexed,
	       struct jv_diag *d);
/* Values of each CPU's group (cgroup groups only): val[cpu_i][ev]. */
int lperf_read_percpu(struct lperf_group *g, uint64_t (*val)[LPERF_N_EVENTS],
		      struct jv_diag *d);
int lperf_n_groups(const struct lperf_group *g);
void lperf_close(struct lperf_group *g);

/* Context-switch sampler of one process: one ring per CPU in cpus[] with
 * inherit (threads and children; needs PERF_SAMPLE_READ with inherit,
 * Linux >= 6.12, where sample values are per thread), else one ring for
 * the process's main thread only. Members: task-clock and whatever else
 * of events opens. */
struct lperf_sampler;
struct lperf_sample {
	int64_t t_mono_ns; /* CLOCK_MONOTONIC time of the switch */
	int32_t cpu;
	uint32_t pid, tid;
	uint64_t val[LPERF_N_EVENTS]; /* cumulative group values (unscaled) */
};
int lperf_sampler_open(pid_t pid, const int *cpus, int ncpu, int enable_on_exec,
		       unsigned events, struct lperf_sampler **out, struct jv_diag *d);
int lperf_sampler_inherits(const struct lperf_sampler *s);
int lperf_sampler_has(const struct lperf_sampler *s, int ev);
/* Hand every sample in the ring with t_mono_ns <= upto_ns to fn, in ring
 * order; later ones stay for the next call. Returns the number handed
 * over, or < 0. *lost counts samples the kernel dropped (ring full). */
int lperf_sampler_drain(struct lperf_sampler *s, int64_t upto_ns,
			void (*fn)(void *ctx, const struct lperf_sample *smp), void *ctx,
			uint64_t *lost);
/* Cumulative values now (a read of the sampler's group). */
int lperf_sampler_read(struct lperf_sampler *s, uint64_t val[LPERF_N_EVENTS],
		       struct jv_diag *d);
void lperf_sampler_close(struct lperf_sampler *s);

#endif
