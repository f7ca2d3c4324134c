/*
 * live_perf: theory of operation.
 *
 * Problem: live mode needs each entity's CPU time and, where the machine
 * has a PMU, its hardware events, read every interval (default 100 ms)
 * without stopping the entity, on machines that lack some events.
 *
 * Strategy:
 *  - One perf counter group per target. The leader is task-clock, a
 *    software event present on every kernel, so a group always opens when
 *    perf_event_open works at all; members (context switches, page faults,
 *    migrations, cycles, instructions, LLC misses) are opened one at a
 *    time into the group and each failure is recorded with its errno
 *    (ENOENT/EOPNOTSUPP: no such event, e.g. no PMU; EACCES/EPERM:
 *    permission) while the rest go on.
 *  - A process: one group per existing thread (/proc/PID/task), each with
 *    inherit = 1 so threads and children created later are counted and
 *    added to the parent's values when they exit. A spawned command is
 *    opened before its execve with enable_on_exec.
 *  - A cgroup: one group per online CPU with pid = the cgroup directory's
 *    fd and PERF_FLAG_PID_CGROUP (per-CPU mode only), summed on read.
 *  - Reads: PERF_FORMAT_GROUP | TOTAL_TIME_ENABLED | TOTAL_TIME_RUNNING;
 *    a group that ran less than it was enabled (PMU multiplexing) is
 *    scaled by enabled / running (perf stat's estimate).
 *  - Context-switch sampling: a `context-switches` leader with
 *    sample_period = 1, sample_type TID | TIME | CPU | READ and
 *    use_clockid = CLOCK_MONOTONIC, task-clock (and others) as members,
 *    a ring buffer of LPERF_RING_PAGES pages. Inherited (child) events
 *    write into the parent's ring. PERF_SAMPLE_READ with inherit needs
 *    Linux 6.12 (values are then per thread); older kernels refuse it and
 *    the sampler falls back to the process's main thread only.
 *
 * Parameters: the event table below; LPERF_RING_PAGES (data pages of the
 * sampling ring, 64 x 4 KiB: ~10k switch samples between two reads).
 *
 * Limits: counts of threads that exist at open time but were missed by
 * the /proc scan (a race) are lost; per-thread groups of an existing
 * process cost one fd per thread and event. Scaled values are estimates.
 */
#include "traces/live_perf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define LPERF_RING_PAGES 64 /* data pages of the sampling ring (power of 2) */
#define LPERF_READ_WORDS (3 + LPERF_N_EVENTS) /* nr, enabled, running, values */

struct ev_def {
	const char *name, *perf_name;
	uint32_t type;
	uint64_t config;
	int hw;
};

static const struct ev_def EVS[LPERF_N_EVENTS] = {
	[LPERF_TASK_CLOCK] = {"task_clock_ns", "task-clock", PERF_TYPE_SOFTWARE,
			      PERF_COUNT_SW_TASK_CLOCK, 0},
	[LPERF_CTX_SWITCHES] = {"context_switches", "context-switches", PERF_TYPE_SOFTWARE,
				PERF_COUNT_SW_CONTEXT_SWITCHES, 0},
	[LPERF_PAGE_FAULTS] = {"page_faults", "page-faults", PERF_TYPE_SOFTWARE,
			       PERF_COUNT_SW_PAGE_FAULTS, 0},
	[LPERF_CPU_MIGRATIONS] = {"cpu_migrations", "cpu-migrations", PERF_TYPE_SOFTWARE,
				  PERF_COUNT_SW_CPU_MIGRATIONS, 0},
	[LPERF_CYCLES] = {"cycles", "cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES, 1},
	[LPERF_INSTRUCTIONS] = {"instructions", "instructions", PERF_TYPE_HARDWARE,
				PERF_COUNT_HW_INSTRUCTIONS, 1},
	[LPERF_LLC_MISSES] = {"llc_misses", "cache-misses", PERF_TYPE_HARDWARE,
			      PERF_COUNT_HW_CACHE_MISSES, 1},
};

const char *lperf_event_name(int ev)
{
	return ev >= 0 && ev < LPERF_N_EVENTS ? EVS[ev].name : "?";
}

const char *lperf_event_perf_name(int ev)
{
	return ev >= 0 && ev < LPERF_N_EVENTS ? EVS[ev].perf_name : "?";
}

int lperf_event_is_hw(int ev)
{
	return ev >= 0 && ev < LPERF_N_EVENTS && EVS[ev].hw;
}

static int sys_perf_open(struct perf_event_attr *a, pid_t pid, int cpu, int group,
			 unsigned long flags)
{
	return (int)syscall(SYS_perf_event_open, a, pid, cpu, group, flags | PERF_FLAG_FD_CLOEXEC);
}

static const char *errno_reason(int e)
{
	switch (e) {
	case ENOENT:
	case EOPNOTSUPP:
		return "no such event on this machine (no PMU?)";
	case EACCES:
	case EPERM:
		return "permission denied (needs CAP_PERFMON or perf_event_paranoid <= 1)";
	case ESRCH:
		return "no such process";
	case EBADF:
		return "not a cgroup of the perf_event hierarchy";
	case EMFILE:
	case ENFILE:
		return "too many open files";
	default:
		return strerror(e);
	}
}

/* ---------------------------------------------------------------------- */
/* counting groups                                                          */

struct one_group {
	int fd[LPERF_N_EVENTS]; /* -1 where not open */
	int slot[LPERF_N_EVENTS]; /* position in the group read, -1 if not open */
	int n;                  /* members opened (incl. leader) */
};

struct lperf_group {
	int ng;
	struct one_group *g;
	int err[LPERF_N_EVENTS]; /* errno of the first failure per event */
	int have[LPERF_N_EVENTS];
};

static void attr_init(struct perf_event_attr *a, int ev, int leader, int inherit,
		      int enable_on_exec)
{
	memset(a, 0, sizeof *a);
	a->size = sizeof *a;
	a->type = EVS[ev].type;
	a->config = EVS[ev].config;
	a->read_format = PERF_FORMAT_GROUP | PERF_FORMAT_TOTAL_TIME_ENABLED |
			 PERF_FORMAT_TOTAL_TIME_RUNNING;
	a->inherit = inherit ? 1 : 0;
	if (leader && enable_on_exec) {
		a->disabled = 1;
		a->enable_on_exec = 1;
	}
}

/* Open one group on (pid, cpu, flags): leader task-clock, then members. */
static int group_open(struct lperf_group *lg, struct one_group *g, pid_t pid, int cpu,
		      unsigned long flags, int inherit, int enable_on_exec, unsigned events)
{
	struct perf_event_attr a;
	for (int i = 0; i < LPERF_N_EVENTS; i++)
		g->fd[i] = g->slot[i] = -1;
	g->n = 0;
	attr_init(&a, LPERF_TASK_CLOCK, 1, inherit, enable_on_exec);
	int lfd = sys_perf_open(&a, pid, cpu, -1, flags);
	if (lfd < 0) {
		lg->err[LPERF_TASK_CLOCK] = errno;
		return -errno;
	}
	g->fd[LPERF_TASK_CLOCK] = lfd;
	g->slot[LPERF_TASK_CLOCK] = g->n++;
	for (int ev = 1; ev < LPERF_N_EVENTS; ev++) {
		if (!(events & (1u << ev)))
			continue;
		attr_init(&a, ev, 0, inherit, enable_on_exec);
		int fd = sys_perf_open(&a, pid, cpu, lfd, flags);
		if (fd < 0) {
			if (!lg->err[ev])
				lg->err[ev] = errno;
			continue;
		}
		g->fd[ev] = fd;
		g->slot[ev] = g->n++;
	}
	return 0;
}

static void group_close(struct one_group *g)
{
	for (int i = LPERF_N_EVENTS - 1; i >= 0; i--)
		if (g->fd[i] >= 0)
			close(g->fd[i]);
}

static struct lperf_group *lg_new(int ng)
{
	struct lperf_group *lg = calloc(1, sizeof *lg);
	if (!lg)
		return NULL;
	lg->g = calloc((size_t)(ng > 0 ? ng : 1), sizeof *lg->g);
	if (!lg->g) {
		free(lg);
		return NULL;
	}
	for (int i = 0; i < (ng > 0 ? ng : 1); i++)
		for (int e = 0; e < LPERF_N_EVENTS; e++)
			lg->g[i].fd[e] = -1;
	return lg;
}

/* An event counts when every group has it (groups are read together). */
static void lg_finish(struct lperf_group *lg)
{
	for (int e = 0; e < LPERF_N_EVENTS; e++) {
		int all = lg->ng > 0;
		for (int i = 0; i < lg->ng; i++)
			if (lg->g[i].fd[e] < 0)
				all = 0;
		lg->have[e] = all;
		if (all)
			lg->err[e] = 0;
		else if (!lg->err[e])
			lg->err[e] = ENOENT;
	}
}

static int list_tids(pid_t pid, pid_t **out, int *n)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
	DIR *dir = opendir(path);
	*out = NULL;
	*n = 0;
	if (!dir)
		return -errno;
	int cap = 0;
	struct dirent *de;
	while ((de = readdir(dir))) {
		char *end;
		long t = strtol(de->d_name, &end, 10);
		if (*end || t <= 0)
			continue;
		if (*n == cap) {
			cap = cap ? 2 * cap : 16;
			pid_t *nt = realloc(*out, (size_t)cap * sizeof *nt);
			if (!nt) {
				closedir(dir);
				return -ENOMEM;
			}
			*out = nt;
		}
		(*out)[(*n)++] = (pid_t)t;
	}
	closedir(dir);
	return 0;
}

int lperf_open_pid(pid_t pid, int inherit, int enable_on_exec, unsigned events,
		   struct lperf_group **out, struct jv_diag *d)
{
	*out = NULL;
	pid_t *tids = NULL;
	int nt = 0;
	int rc = enable_on_exec ? 0 : list_tids(pid, &tids, &nt);
	if (rc || nt == 0) {
		free(tids);
		tids = NULL;
		nt = 1; /* the process itself (or a held child before exec) */
	}
	struct lperf_group *lg = lg_new(nt);
	if (!lg) {
		free(tids);
		return jv_diag_set(d, JV_ENOMEM, NULL, 0, "out of memory");
	}
	for (int i = 0; i < nt; i++) {
		pid_t t = tids ? tids[i] : pid;
		rc = group_open(lg, &lg->g[lg->ng], t, -1, 0, inherit, enable_on_exec, events);
		if (rc == -ESRCH && tids)
			continue; /* the thread exited meanwhile */
		if (rc) {
			int e = -rc;
			free(tids);
			lperf_close(lg);
			return jv_diag_set(d, e == ESRCH ? JV_ENOENT : JV_EIO, NULL, 0,
					   "pid %d: perf_event_open(task-clock): %s (%s)", (int)pid,
					   strerror(e), errno_reason(e));
		}
		lg->ng++;
	}
	free(tids);
	if (lg->ng == 0) {
		lperf_close(lg);
		return jv_diag_set(d, JV_ENOENT, NULL, 0, "pid %d: no such process", (int)pid);
	}
	lg_finish(lg);
	*out = lg;
	return 0;
}

int lperf_open_cgroup(const char *dir, const int *cpus, int ncpu, unsigned events,
		      struct lperf_group **out, struct jv_diag *d)
{
	*out = NULL;
	int cfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cfd < 0)
		return jv_diag_set(d, JV_ENOENT, dir, 0, "cannot open the cgroup: %s",
				   strerror(errno));
	struct lperf_group *lg = lg_new(ncpu);
	if (!lg) {
		close(cfd);
		return jv_diag_set(d, JV_ENOMEM, NULL, 0, "out of memory");
	}
	for (int i = 0; i < ncpu; i++) {
		int rc = group_open(lg, &lg->g[i], cfd, cpus[i], PERF_FLAG_PID_CGROUP, 0, 0, events);
		if (rc) {
			int e = -rc;
			close(cfd);
			lperf_close(lg);
			return jv_diag_set(d, JV_EIO, dir, 0,
					   "perf_event_open(task-clock, cgroup, cpu %d): %s (%s)",
					   cpus[i], strerror(e), errno_reason(e));
		}
		lg->ng++;
	}
	close(cfd);
	lg_finish(lg);
	*out = lg;
	return 0;
}

int lperf_event_errno(const struct lperf_group *g, int ev)
{
	return ev >= 0 && ev < LPERF_N_EVENTS ? g->err[ev] : EINVAL;
}

int lperf_has(const struct lperf_group *g, int ev)
{
	return ev >= 0 && ev < LPERF_N_EVENTS && g->have[ev];
}

int lperf_n_groups(const struct lperf_group *g)
{
	return g->ng;
}

/* Read one group, scaled; returns 0, 1 if multiplexed, or < 0. */
static int group_read(const struct one_group *g, uint64_t val[LPERF_N_EVENTS])
{
	uint64_t buf[LPERF_READ_WORDS];
	ssize_t n = read(g->fd[LPERF_TASK_CLOCK], buf, sizeof buf);
	if (n < (ssize_t)(3 * sizeof(uint64_t)))
		return n < 0 ? -errno : -EIO;
	uint64_t nr = buf[0], en = buf[1], run = buf[2];
	if (nr > LPERF_N_EVENTS || (size_t)n < (3 + nr) * sizeof(uint64_t))
		return -EIO;
	int mux = run > 0 && run < en;
	for (int e = 0; e < LPERF_N_EVENTS; e++) {
		if (g->slot[e] < 0 || (uint64_t)g->slot[e] >= nr) {
			val[e] = 0;
			continue;
		}
		uint64_t v = buf[3 + g->slot[e]];
		if (mux)
			v = (uint64_t)((double)v * (double)en / (double)run + 0.5);
		else if (run == 0 && en > 0)
			v = 0; /* never scheduled */
		val[e] = v;
	}
	return mux;
}

int lperf_read(struct lperf_group *lg, uint64_t val[LPERF_N_EVENTS], int *multiplexed,
	       struct jv_diag *d)
{
	memset(val, 0, LPERF_N_EVENTS * sizeof val[0]);
	int mux = 0;
	for (int i = 0; i < lg->ng; i++) {
		uint64_t v[LPERF_N_EVENTS];
		int rc = group_read(&lg->g[i], v);
		if (rc < 0)
			return jv_diag_set(d, JV_EIO, NULL, 0, "reading perf counters: %s",
					   strerror(-rc));
		mux |= rc;
		for (int e = 0; e < LPERF_N_EVENTS; e++)
			if (lg->have[e])
				val[e] += v[e];
	}
	if (multiplexed)
		*multiplexed = mux;
	return 0;
}

int lperf_read_percpu(struct lperf_group *lg, uint64_t (*val)[LPERF_N_EVENTS],
		      struct jv_diag *d)
{
	for (int i = 0; i < lg->ng; i++) {
		int rc = group_read(&lg->g[i], val[i]);
		if (rc < 0)
			return jv_diag_set(d, JV_EIO, NULL, 0, "reading perf counters: %s",
					   strerror(-rc));
	}
	return 0;
}

void lperf_close(struct lperf_group *lg)
{
	if (!lg)
		return;
	for (int i = 0; i < lg->ng; i++)
		group_close(&lg->g[i]);
	free(lg->g);
	free(lg);
}

/* ---------------------------------------------------------------------- */
/* context-switch sampler                                                   */

enum { SMP_LEADER = LPERF_N_EVENTS }; /* fd index of the context-switch leader */

struct smp_ring {
	int fd[LPERF_N_EVENTS + 1];
	void *ring;
};

struct lperf_sampler {
	int nr;                   /* rings: one per CPU (inherit) or one (cpu -1) */
	struct smp_ring *r;
	int slot[LPERF_N_EVENTS]; /* position in the group read (leader 0) */
	int inherit;
	size_t ring_len, page;
	uint64_t lost;
};

static void sampler_attr(struct perf_event_attr *a, uint32_t type, uint64_t config,
			 int leader, int inherit, int enable_on_exec)
{
	memset(a, 0, sizeof *a);
	a->size = sizeof *a;
	a->type = type;
	a->config = config;
	a->read_format = PERF_FORMAT_GROUP | PERF_FORMAT_TOTAL_TIME_ENABLED |
			 PERF_FORMAT_TOTAL_TIME_RUNNING;
	a->inherit = inherit ? 1 : 0;
	a->use_clockid = 1; /* a group must use one clock: members too */
	a->clockid = CLOCK_MONOTONIC;
	if (leader) {
		a->sample_period = 1;
		a->sample_type = PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_CPU |
				 PERF_SAMPLE_READ;
		a->wakeup_events = 1;
		if (enable_on_exec) {
			a->disabled = 1;
			a->enable_on_exec = 1;
		}
	}
}

static void ring_close(struct lperf_sampler *s, struct smp_ring *r)
{
	if (r->ring && r->ring != MAP_FAILED)
		munmap(r->ring, s->ring_len);
	r->ring = NULL;
	for (int i = 0; i <= LPERF_N_EVENTS; i++)
		if (r->fd[i] >= 0) {
			close(r->fd[i]);
			r->fd[i] = -1;
		}
}

/* Open one ring's group on (pid, cpu) and map it; *err = errno on failure. */
static int ring_open(struct lperf_sampler *s, struct smp_ring *r, pid_t pid, int cpu,
		     int inherit, int enable_on_exec, unsigned events, int *err)
{
	struct perf_event_attr a;
	int slot[LPERF_N_EVENTS], n = 1;
	for (int i = 0; i <= LPERF_N_EVENTS; i++)
		r->fd[i] = -1;
	for (int i = 0; i < LPERF_N_EVENTS; i++)
		slot[i] = -1;
	sampler_attr(&a, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CONTEXT_SWITCHES, 1, inherit,
		     enable_on_exec);
	int lfd = sys_perf_open(&a, pid, cpu, -1, 0);
	if (lfd < 0) {
		*err = errno;
		return -1;
	}
	r->fd[SMP_LEADER] = lfd;
	slot[LPERF_CTX_SWITCHES] = 0; /* the leader counts the switches */
	events |= 1u << LPERF_TASK_CLOCK;
	for (int ev = 0; ev < LPERF_N_EVENTS; ev++) {
		if (!(events & (1u << ev)) || ev == LPERF_CTX_SWITCHES)
			continue;
		sampler_attr(&a, EVS[ev].type, EVS[ev].config, 0, inherit, 0);
		int fd = sys_perf_open(&a, pid, cpu, lfd, 0);
		if (fd < 0) {
			if (ev == LPERF_TASK_CLOCK) {
				*err = errno;
				return -1;
			}
			continue;
		}
		r->fd[ev] = fd;
		slot[ev] = n++;
	}
	r->ring = mmap(NULL, s->ring_len, PROT_READ | PROT_WRITE, MAP_SHARED, lfd, 0);
	if (r->ring == MAP_FAILED) {
		*err = errno;
		r->ring = NULL;
		return -1;
	}
	if (s->nr == 0)
		memcpy(s->slot, slot, sizeof slot);
	else if (memcmp(s->slot, slot, sizeof slot) != 0) {
		*err = EINVAL; /* rings must read alike */
		return -1;
	}
	return 0;
}

static void sampler_rings_close(struct lperf_sampler *s)
{
	for (int i = 0; i < s->nr; i++)
		ring_close(s, &s->r[i]);
	s->nr = 0;
}

int lperf_sampler_open(pid_t pid, const int *cpus, int ncpu, int enable_on_exec,
		       unsigned events, struct lperf_sampler **out, struct jv_diag *d)
{
	*out = NULL;
	struct lperf_sampler *s = calloc(1, sizeof *s);
	if (s)
		s->r = calloc((size_t)(ncpu > 0 ? ncpu : 1), sizeof *s->r);
	if (!s || !s->r) {
		if (s)
			free(s);
		return jv_diag_set(d, JV_ENOMEM, NULL, 0, "out of memory");
	}
	s->page = (size_t)sysconf(_SC_PAGESIZE);
	s->ring_len = (1 + LPERF_RING_PAGES) * s->page;
	int err = 0, ok = 1;
	/* inherited: one ring per CPU (the kernel maps no inherited cpu -1 event) */
	for (int i = 0; i < ncpu && ok; i++) {
		if (ring_open(s, &s->r[i], pid, cpus[i], 1, enable_on_exec, events, &err)) {
			ring_close(s, &s->r[i]);
			ok = 0;
		} else {
			s->nr++;
		}
	}
	s->inherit = ok && ncpu > 0;
	if (!s->inherit) {
		sampler_rings_close(s);
		if (ring_open(s, &s->r[0], pid, -1, 0, enable_on_exec, events, &err)) {
			ring_close(s, &s->r[0]);
			free(s->r);
			free(s);
			return jv_diag_set(d, JV_EIO, NULL, 0,
					   "pid %d: context-switch sampling: %s (%s)", (int)pid,
					   strerror(err), errno_reason(err));
		}
		s->nr = 1;
	}
	*out = s;
	return 0;
}

int lperf_sampler_inherits(const struct lperf_sampler *s)
{
	return s->inherit;
}

int lperf_sampler_has(const struct lperf_sampler *s, int ev)
{
	return ev >= 0 && ev < LPERF_N_EVENTS && s->slot[ev] >= 0;
}

static void ring_copy(const struct lperf_sampler *s, const struct smp_ring *r, uint64_t off,
		      void *dst, size_t len)
{
	size_t size = LPERF_RING_PAGES * s->page;
	const char *data = (const char *)r->ring + s->page;
	size_t o = (size_t)(off % size);
	size_t first = len < size - o ? len : size - o;
	memcpy(dst, data + o, first);
	if (first < len)
		memcpy((char *)dst + first, data, len - first);
}

#define LPERF_MAX_RECORD_B 4096

static int ring_drain(struct lperf_sampler *s, struct smp_ring *r, int64_t upto_ns,
		      void (*fn)(void *ctx, const struct lperf_sample *smp), void *ctx)
{
	struct perf_event_mmap_page *mp = r->ring;
	uint64_t head = __atomic_load_n(&mp->data_head, __ATOMIC_ACQUIRE);
	uint64_t tail = mp->data_tail;
	int n = 0;
	while (tail < head) {
		struct perf_event_header h;
		ring_copy(s, r, tail, &h, sizeof h);
		if (h.size < sizeof h || h.size > LPERF_MAX_RECORD_B) {
			tail = head; /* corrupt: drop the rest */
			break;
		}
		uint64_t rec[LPERF_MAX_RECORD_B / sizeof(uint64_t)];
		ring_copy(s, r, tail, rec, h.size);
		if (h.type == PERF_RECORD_SAMPLE) {
			const uint64_t *p = &rec[1]; /* after the 8-byte header */
			struct lperf_sample smp;
			memset(&smp, 0, sizeof smp);
			uint32_t pt[2], cr[2];
			memcpy(pt, &p[0], sizeof pt);
			memcpy(cr, &p[2], sizeof cr);
			smp.pid = pt[0];
			smp.tid = pt[1];
			smp.t_mono_ns = (int64_t)p[1];
			smp.cpu = (int32_t)cr[0];
			uint64_t nr = p[3];
			if (smp.t_mono_ns > upto_ns)
				break; /* later: keep for the next drain */
			if (nr <= LPERF_N_EVENTS && (7 + nr) * sizeof(uint64_t) <= h.size) {
				for (int e = 0; e < LPERF_N_EVENTS; e++)
					if (s->slot[e] >= 0 && (uint64_t)s->slot[e] < nr)
						smp.val[e] = p[6 + s->slot[e]];
				fn(ctx, &smp);
				n++;
			}
		} else if (h.type == PERF_RECORD_LOST && h.size >= 3 * sizeof(uint64_t)) {
			s->lost += rec[2]; /* header, id, lost */
		}
		tail += h.size;
	}
	__atomic_store_n(&mp->data_tail, tail, __ATOMIC_RELEASE);
	return n;
}

int lperf_sampler_drain(struct lperf_sampler *s, int64_t upto_ns,
			void (*fn)(void *ctx, const struct lperf_sample *smp), void *ctx,
			uint64_t *lost)
{
	int n = 0;
	for (int i = 0; i < s->nr; i++)
		n += ring_drain(s, &s->r[i], upto_ns, fn, ctx);
	if (lost)
		*lost = s->lost;
	return n;
}

int lperf_sampler_read(struct lperf_sampler *s, uint64_t val[LPERF_N_EVENTS],
		       struct jv_diag *d)
{
	memset(val, 0, LPERF_N_EVENTS * sizeof val[0]);
	for (int i = 0; i < s->nr; i++) {
		uint64_t buf[LPERF_READ_WORDS];
		ssize_t n = read(s->r[i].fd[SMP_LEADER], buf, sizeof buf);
		if (n < (ssize_t)(3 * sizeof(uint64_t)))
			return jv_diag_set(d, JV_EIO, NULL, 0,
					   "reading the sampler's counters: %s",
					   n < 0 ? strerror(errno) : "short read");
		uint64_t nr = buf[0];
		for (int e = 0; e < LPERF_N_EVENTS; e++)
			if (s->slot[e] >= 0 && (uint64_t)s->slot[e] < nr &&
			    (size_t)n >= (4 + (size_t)s->slot[e]) * sizeof(uint64_t))
				val[e] += buf[3 + s->slot[e]];
	}
	return 0;
}

void lperf_sampler_close(struct lperf_sampler *s)
{
	if (!s)
		return;
	sampler_rings_close(s);
	free(s->r);
	free(s);
}
