/*
 * bench_bin: read speed of the native binary trace format (fmt_bin.c).
 *
 * Writes a pmc trace of N records (VMS VM names, 4 CPUs) with the .jvt
 * writer, once with 1 counter (24-byte records, the "small pmc records" of
 * the target) and once with 8 counters (80 bytes, issue 10's replay
 * benchmark), then for each file measures, from the page cache:
 *   - plain:  a read(2) loop over the file in 1 MiB blocks that touches
 *             every record (sums its first counter), the machine's ceiling;
 *   - trc:    trc_open() + trc_next() to the end, every record decoded and
 *             checked (values, per-CPU time and counter order).
 * Each figure is the median of RUNS runs in CPU time (user + system, so
 * other load on a shared machine does not count); records/s and the ratio
 * trc/plain are printed on stdout, one line per record size.
 *
 * Usage: bench_bin [RECORDS [VMS [DIR]]]  (defaults 10000000, 64, /tmp)
 * Build without sanitizers, e.g. gcc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L
 *   -D_DEFAULT_SOURCE -I. with base/ and traces/ sources and -lm.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "traces/trc.h"

#define BENCH_RECORDS 10000000L
#define BENCH_VMS 64
#define BENCH_CPUS 4
#define BENCH_RUNS 5
#define BENCH_BLOCK_B (1024 * 1024)

/* CPU time of this process (user + system): the machine is shared and
 * noisy, and wall time would count the time other processes run. */
static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static int write_trace(const char *path, int n_ctr, long n, int vms)
{
	static const char *const names[] = { "cycles", "instructions", "llc_miss",
					     "br_miss", "l2_miss", "stalls",
					     "fp_ops", "mem_ops" };
	struct trc_writer *w;
	struct jv_diag d;
	jv_diag_clear(&d);
	if (trc_writer_open(path, TRC_PMC, names, n_ctr, &w, &d) < 0) {
		fprintf(stderr, "%s\n", d.msg);
		return -1;
	}
	char (*vm)[16] = malloc((size_t)vms * sizeof *vm);
	if (!vm)
		return -1;
	for (int i = 0; i < vms; i++)
		snprintf(vm[i], sizeof vm[i], "vm%d", i);
	uint64_t cum[BENCH_CPUS][8] = { { 0 } };
	for (long i = 0; i < n; i++) {
		int cpu = (int)(i % BENCH_CPUS);
		struct trc_pmc r = { .t_ns = i * 1000, .cpu = cpu };
		for (int k = 0; k < n_ctr; k++) {
			cum[cpu][k] += (uint64_t)(1000 + (i * 7 + k) % 5000);
			r.ctr[k] = cum[cpu][k];
		}
		if (trc_write_pmc(w, &r, vm[(i / BENCH_CPUS) % vms]) < 0)
			break;
	}
	free(vm);
	if (trc_writer_close(w, &d) < 0) {
		fprintf(stderr, "%s\n", d.msg);
		return -1;
	}
	return 0;
}

/* The ceiling: read(2) the file and touch each record's first counter. */
static double plain_loop(const char *path, size_t rec_b, long n, uint64_t *sum)
{
	static unsigned char buf[BENCH_BLOCK_B + 256];
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	double t0 = now_s();
	size_t have = 0;
	uint64_t s = 0;
	long seen = 0;
	ssize_t got;
	/* streams the bytes and loads 8 per record-sized step (the header and
	 * name entries shift the phase slightly; the work is the same) */
	while ((got = read(fd, buf + have, BENCH_BLOCK_B - have)) > 0) {
		size_t len = have + (size_t)got, i = 0;
		for (; i + rec_b <= len; i += rec_b) {
			uint64_t v;
			memcpy(&v, buf + i + 16, sizeof v);
			s += v;
			seen++;
		}
		have = len - i;
		memmove(buf, buf + i, have);
	}
	close(fd);
	double t = now_s() - t0;
	*sum = s + (uint64_t)seen;
	return seen >= n ? t : -1;
}

static double trc_loop(const char *path, long n, uint64_t *sum)
{
	struct trc_reader *r;
	struct jv_diag d;
	jv_diag_clear(&d);
	double t0 = now_s();
	if (trc_open(path, NULL, &r, &d) < 0) {
		fprintf(stderr, "%s\n", d.msg);
		return -1;
	}
	struct trc_record rec;
	uint64_t s = 0;
	long got = 0;
	int rc;
	while ((rc = trc_next(r, &rec, &d)) == 1) {
		s += rec.u.pmc.ctr[0];
		got++;
	}
	trc_close(r);
	double t = now_s() - t0;
	if (rc < 0 || got != n) {
		fprintf(stderr, "read %ld of %ld records: %s\n", got, n, d.msg);
		return -1;
	}
	*sum = s;
	return t;
}

static int bench(const char *dir, int n_ctr, long n, int vms)
{
	char path[512];
	snprintf(path, sizeof path, "%s/bench_bin_%d.jvt", dir, n_ctr);
	double tw = now_s();
	if (write_trace(path, n_ctr, n, vms) < 0)
		return -1;
	tw = now_s() - tw;
	size_t rec_b = 16 + 8 * (size_t)n_ctr;
	double tp[BENCH_RUNS], tt[BENCH_RUNS];
	uint64_t s1 = 0, s2 = 0;
	for (int i = 0; i < BENCH_RUNS; i++) {
		tp[i] = plain_loop(path, rec_b, n, &s1);
		tt[i] = trc_loop(path, n, &s2);
		if (tp[i] < 0 || tt[i] < 0)
			return -1;
	}
	qsort(tp, BENCH_RUNS, sizeof tp[0], cmp_double);
	qsort(tt, BENCH_RUNS, sizeof tt[0], cmp_double);
	double p = tp[BENCH_RUNS / 2], t = tt[BENCH_RUNS / 2];
	double rp = (double)n / p, rt = (double)n / t;
	fprintf(stderr, "%d counters: wrote %ld records (%zu B each) in %.2f s "
		"(%.1f M records/s); checksums %" PRIu64 " %" PRIu64 "\n",
		n_ctr, n, rec_b, tw, (double)n / tw / 1e6, s1, s2);
	printf("bin_read_pmc%d_records_per_s=%.0f plain_read_records_per_s=%.0f "
	       "ratio=%.2f record_b=%zu mb_per_s=%.0f\n", n_ctr, rt, rp, rt / rp,
	       rec_b, rt * (double)rec_b / 1e6);
	unlink(path);
	return 0;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : BENCH_RECORDS;
	int vms = argc > 2 ? atoi(argv[2]) : BENCH_VMS;
	const char *dir = argc > 3 ? argv[3] : "/tmp";
	if (n <= 0 || vms <= 0) {
		fprintf(stderr, "usage: bench_bin [RECORDS [VMS [DIR]]]\n");
		return 2;
	}
	if (bench(dir, 1, n, vms) < 0 || bench(dir, 8, n, vms) < 0)
		return 1;
	return 0;
}
