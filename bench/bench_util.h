/*
 * bench_util: what the benchmarks share (bench/ only; header-only).
 *
 * - timing: CPU seconds of the process (bench_now_s); the median of
 *   repeated runs;
 * - memory: heap bytes in use (glibc mallinfo2) and peak RSS (getrusage);
 * - scenarios: a scenario text written to a temporary file and loaded with
 *   scn_load(), so a benchmark runs exactly what `joulevisor run` runs;
 * - trace generation: a synthetic 1 kHz context-switch PMC log (`pmc`,
 *   cumulative counters, VMs round-robin on one CPU) written with the
 *   project's own writer (CSV, or binary for a ".jvt" path);
 * - output: one `key=value` line per figure on stdout (bench/run.sh reads
 *   them), details on stderr.
 *
 * Named constants carry their units; everything is static (one header,
 * several programs).
 */
#ifndef JV_BENCH_UTIL_H
#define JV_BENCH_UTIL_H

#include <fcntl.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "base/jv_err.h"
#include "sim/machine.h"
#include "sim/scenario.h"
#include "traces/trc.h"

#define BENCH_NS_PER_S 1000000000.0
#define BENCH_NS_PER_MS 1000000LL
#define BENCH_MAX_REPS 64
#define BENCH_SCN_TEXT_MAX_B (256 * 1024)
/* the synthetic PMC log: 1 kHz records at 3 GHz, eight counters */
#define BENCH_PMC_PERIOD_NS BENCH_NS_PER_MS
#define BENCH_PMC_TICKS_PER_PERIOD 3000000ULL
#define BENCH_PMC_N_COUNTERS 8

static const char *const bench_pmc_counters[BENCH_PMC_N_COUNTERS] = {
	"tsc", "cycles", "instructions", "l2_misses", "bus_accesses",
	"branches", "branch_misses", "l1d_misses",
};
/* [cpu] lines matching the synthetic log (the paper-2007 weights, and
 * small ones for the three extra counters) */
#define BENCH_PMC_CPU_SECTION                                                      \
	"[cpu]\n"                                                                  \
	"counters = tsc,cycles,instructions,l2_misses,bus_accesses,branches,"      \
	"branch_misses,l1d_misses\n"                                               \
	"weights = tsc:12nJ,cycles:15nJ,instructions:5nJ,l2_misses:100nJ,"         \
	"bus_accesses:50nJ,branches:1nJ,branch_misses:20nJ,l1d_misses:10nJ\n"

/* The benchmarks' clock: the process's CPU time (user + system, so the
 * kernel's read() copies count), which equals the wall time of these
 * single-threaded runs on an idle machine and ignores other load on a
 * shared one; JV_BENCH_WALL=1 selects CLOCK_MONOTONIC instead. */
static inline double bench_now_s(void)
{
	static int wall = -1;
	struct timespec ts;
	if (wall < 0)
		wall = getenv("JV_BENCH_WALL") && strcmp(getenv("JV_BENCH_WALL"), "1") == 0;
	clock_gettime(wall ? CLOCK_MONOTONIC : CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / BENCH_NS_PER_S;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Median of n values (sorts v). */
static inline double bench_median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, bench_cmp_double);
	return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Heap bytes in use now (small blocks and mmap()ed ones). */
static inline size_t bench_heap_bytes(void)
{
	struct mallinfo2 mi = mallinfo2();
	return mi.uordblks + mi.hblkhd;
}

static inline long bench_peak_rss_kib(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static inline void bench_fail(const char *prog, const char *what, const struct jv_diag *d)
{
	fprintf(stderr, "%s: %s: %s\n", prog, what, d && d->err ? d->msg : "failed");
	exit(1);
}

/* A positive count from argv, or exit 2 with the usage. */
static inline unsigned long bench_count(const char *s, const char *usage)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	if (!*s || *end || v == 0) {
		fprintf(stderr, "%s", usage);
		exit(2);
	}
	return v;
}

/* Write text to a fresh temporary file; returns its path (static buffer
 * per call site is the caller's: out must hold 64 bytes). */
static inline void bench_write_tmp(const char *text, const char *suffix, char *out, size_t out_b)
{
	const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	snprintf(out, out_b, "%s/jvbench-XXXXXX%s", dir, suffix);
	int fd = mkstemps(out, (int)strlen(suffix));
	size_t n = strlen(text);
	if (fd < 0 || write(fd, text, n) != (ssize_t)n || close(fd) != 0) {
		fprintf(stderr, "bench: cannot write %s\n", out);
		exit(1);
	}
}

/* Load a scenario given as text (written to a temporary file, removed
 * again). Exits on error. */
static inline struct scn *bench_scenario(const char *prog, const char *text)
{
	char path[512];
	struct jv_diag d;
	struct scn *s = NULL;
	jv_diag_clear(&d);
	bench_write_tmp(text, ".ini", path, sizeof path);
	int rc = scn_load(path, NULL, 0, &s, &d);
	unlink(path);
	if (rc)
		bench_fail(prog, "scenario", &d);
	return s;
}

/* Append printf-style text to a scenario buffer. */
static inline void bench_cat(char *buf, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static inline void bench_cat(char *buf, size_t cap, const char *fmt, ...)
{
	size_t n = strlen(buf);
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(buf + n, cap - n, fmt, ap);
	va_end(ap);
	if (k < 0 || (size_t)k >= cap - n) {
		fprintf(stderr, "bench: scenario text too long\n");
		exit(1);
	}
}

/* The synthetic context-switch log: one record per period on cpu 0, VMs
 * round-robin (vm i = "v<i>"), cumulative counters advancing at the paper's
 * guest rates with a small per-VM variation (so nothing is constant). */
static inline void bench_pmc_record(uint64_t i, int n_vms, uint64_t *ctr, struct trc_pmc *p)
{
	int vm = (int)(i % (uint64_t)n_vms);
	uint64_t tick = BENCH_PMC_TICKS_PER_PERIOD;
	uint64_t vary = (uint64_t)vm * 1000u + (i & 1023u);
	ctr[0] += tick;                    /* tsc */
	ctr[1] += tick - vary;             /* cycles (a little halt) */
	ctr[2] += 4 * tick / 3 + vary;     /* instructions */
	ctr[3] += 20000 + vary;            /* l2_misses */
	ctr[4] += 50000 + 2 * vary;        /* bus_accesses */
	ctr[5] += tick / 5;                /* branches */
	ctr[6] += tick / 500 + vary / 8;   /* branch_misses */
	ctr[7] += tick / 50;               /* l1d_misses */
	memset(p, 0, sizeof *p);
	p->t_ns = (int64_t)((i + 1) * (uint64_t)BENCH_PMC_PERIOD_NS);
	p->cpu = 0;
	memcpy(p->ctr, ctr, BENCH_PMC_N_COUNTERS * sizeof *ctr);
	(void)vm;
}

/* Write the synthetic log of n records over n_vms VMs to path (CSV, or
 * binary when path ends in ".jvt"). Exits on error. */
static inline void bench_write_pmc_log(const char *prog, const char *path, uint64_t n, int n_vms)
{
	struct trc_writer *w = NULL;
	struct jv_diag d;
	jv_diag_clear(&d);
	if (trc_writer_open(path, TRC_PMC, bench_pmc_counters, BENCH_PMC_N_COUNTERS, &w, &d))
		bench_fail(prog, "trace writer", &d);
	uint64_t ctr[BENCH_PMC_N_COUNTERS] = {0};
	char name[16];
	for (uint64_t i = 0; i < n; i++) {
		struct trc_pmc p;
		bench_pmc_record(i, n_vms, ctr, &p);
		snprintf(name, sizeof name, "v%d", (int)(i % (uint64_t)n_vms));
		if (trc_write_pmc(w, &p, name)) {
			trc_writer_close(w, &d);
			bench_fail(prog, "writing the trace", &d);
		}
	}
	if (trc_writer_close(w, &d))
		bench_fail(prog, "closing the trace", &d);
}

/* A scenario replaying a PMC log in accounting mode on one CPU with
 * n_vms VMs v0.. (the hypervisor's accounting, no simulated CPU). The
 * snapshot interval is the default (100 ms). */
static inline void bench_replay_scenario(char *buf, size_t cap, const char *log, int n_vms,
				  int64_t duration_ns)
{
	buf[0] = '\0';
	bench_cat(buf, cap, "[global]\nduration = %" PRId64 "ns\nreplay_mode = accounting\n",
		  duration_ns);
	bench_cat(buf, cap, BENCH_PMC_CPU_SECTION "pmc_log = %s\n", log);
	for (int i = 0; i < n_vms; i++)
		bench_cat(buf, cap, "[vm v%d]\n", i);
}

/* Run a machine for scenario s with no sinks (the core only). Returns
 * the wall time in seconds; *out (if not NULL) keeps the machine for the
 * caller to inspect and free. */
static inline double bench_run_machine(const char *prog, const struct scn *s, struct machine **out)
{
	struct machine *m = NULL;
	struct machine_sink sink = {0};
	struct jv_diag d;
	jv_diag_clear(&d);
	double t0 = bench_now_s();
	if (machine_new(s, 0, &sink, &m, &d))
		bench_fail(prog, "machine_new", &d);
	if (machine_run(m, &d))
		bench_fail(prog, "machine_run", &d);
	double dt = bench_now_s() - t0;
	if (out)
		*out = m;
	else
		machine_free(m);
	return dt;
}

/* Read a whole file with read(2) once, to put it in the page cache. */
static inline void bench_warm_file(const char *path)
{
	static char buf[1 << 20];
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return;
	while (read(fd, buf, sizeof buf) > 0)
		;
	close(fd);
}

static inline long long bench_file_size(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	fseek(f, 0, SEEK_END);
	long long n = ftell(f);
	fclose(f);
	return n;
}

#endif
