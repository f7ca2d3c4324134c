/*
 * bench_disk: the disk path over a growing simulated time (issue 10,
 * benchmark 4).
 *
 * Problem: a simulator whose per-event cost grows with simulated time (a
 * growing queue, a list scanned per request, bins never emitted) cannot run
 * week-long traces; the events per second of wall time must not drop as
 * the run gets longer.
 *
 * Scenario (paper-2007 preset): one CPU with 1 ms quanta shared by four
 * cpu-hog guests, the disk driver VM (its request work and its background
 * activity, 8.2 us every 100 us) and a disk-stress guest issuing one 4 KiB
 * read after each 10 ms think time, i.e. a disk request every ~10 quanta
 * (its own CPU work waits for its turn on the CPU like any vCPU). Both
 * ledgers, the driver's recursive accounting and the disk rate estimator
 * run as in any simulation; no output sinks.
 *
 * Figures: events per second for 100 s and for 1000 s simulated (medians),
 * their ratio (target: the 1000 s figure within 10% of the 100 s one),
 * requests completed, and the machine's heap bytes at the end of each run.
 *
 * Usage: bench_disk [-s SHORT_S] [-l LONG_S] [-r REPS] [--only]
 *   defaults 100 and 1000 s simulated, 3 repetitions; --only runs the
 *   short one once (callgrind, --toggle-collect=bench_region_disk).
 */
#include "bench/bench_util.h"

#define DISK_DEFAULT_SHORT_S 100UL
#define DISK_DEFAULT_LONG_S 1000UL
#define DISK_DEFAULT_REPS 3UL
#define DISK_HOGS 4

static const char *const USAGE = "usage: bench_disk [-s SHORT_S] [-l LONG_S] [-r REPS] [--only]\n";

static void disk_scenario(char *buf, size_t cap, unsigned long seconds)
{
	buf[0] = '\0';
	bench_cat(buf, cap, "[global]\nduration = %lus\n[machine]\npreset = paper-2007\n"
		  "[cpu]\nquantum = 1ms\n[vm drv]\nkind = driver\n", seconds);
	for (int i = 0; i < DISK_HOGS; i++)
		bench_cat(buf, cap, "[vm hog%d]\nworkload = cpu-hog\n", i);
	bench_cat(buf, cap, "[vm client]\nworkload = disk-stress\nblock_size = 4KiB\n"
		  "op = read\nthink = 10ms\n");
}

struct disk_run {
	double wall_s;
	uint64_t events, requests;
	size_t heap_b;
};

__attribute__((noinline)) static void bench_region_disk(const struct scn *s, struct disk_run *o)
{
	struct machine *m = NULL;
	size_t h0 = bench_heap_bytes();
	o->wall_s = bench_run_machine("bench_disk", s, &m);
	o->heap_b = bench_heap_bytes() - h0;
	o->events = machine_stats(m)->events;
	o->requests = machine_vm_stats(m, 1 + DISK_HOGS)->requests;
	if (machine_stats(m)->conservation_violations) {
		fprintf(stderr, "bench_disk: conservation violated\n");
		exit(1);
	}
	machine_free(m);
}

int main(int argc, char **argv)
{
	unsigned long secs[2] = {DISK_DEFAULT_SHORT_S, DISK_DEFAULT_LONG_S};
	unsigned long reps = DISK_DEFAULT_REPS;
	int only = 0;
	for (int i = 1; i < argc; i++) {
		if (i + 1 < argc && strcmp(argv[i], "-s") == 0)
			secs[0] = bench_count(argv[++i], USAGE);
		else if (i + 1 < argc && strcmp(argv[i], "-l") == 0)
			secs[1] = bench_count(argv[++i], USAGE);
		else if (i + 1 < argc && strcmp(argv[i], "-r") == 0)
			reps = bench_count(argv[++i], USAGE);
		else if (strcmp(argv[i], "--only") == 0)
			only = 1;
		else {
			fprintf(stderr, "%s", USAGE);
			return 2;
		}
	}
	if (reps > BENCH_MAX_REPS) {
		fprintf(stderr, "%s", USAGE);
		return 2;
	}
	if (only)
		reps = 1;
	static char text[2][BENCH_SCN_TEXT_MAX_B];
	struct scn *s[2];
	for (int k = 0; k < 2; k++) {
		disk_scenario(text[k], sizeof text[k], secs[k]);
		s[k] = bench_scenario("bench_disk", text[k]);
	}
	double eps[2][BENCH_MAX_REPS];
	struct disk_run run[2] = {{0}};
	for (unsigned long r = 0; r < reps; r++)
		for (int k = 0; k < (only ? 1 : 2); k++) {
			bench_region_disk(s[k], &run[k]);
			eps[k][r] = (double)run[k].events / run[k].wall_s;
		}
	for (int k = 0; k < (only ? 1 : 2); k++) {
		const char *w = k ? "long" : "short";
		printf("disk_%s_seconds=%lu\ndisk_%s_events=%" PRIu64 "\ndisk_%s_requests=%" PRIu64
		       "\ndisk_%s_events_per_s=%.0f\ndisk_%s_heap_bytes=%zu\n",
		       w, secs[k], w, run[k].events, w, run[k].requests, w,
		       bench_median(eps[k], (int)reps), w, run[k].heap_b);
	}
	if (!only)
		printf("disk_long_to_short_ratio=%.3f\n",
		       bench_median(eps[1], (int)reps) / bench_median(eps[0], (int)reps));
	printf("disk_peak_rss_kib=%ld\n", bench_peak_rss_kib());
	scn_free(s[0]);
	scn_free(s[1]);
	return 0;
}
