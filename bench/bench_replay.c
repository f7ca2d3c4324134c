/*
 * bench_replay: binary PMC-log accounting replay (issue 10, benchmark 1).
 *
 * Problem: researchers replay hours of 1 kHz PMC logs; the hypervisor's
 * accounting of a native binary log must run close to the speed at which
 * the machine can merely read the file.
 *
 * What it measures, on one synthetic log (bench_util.h: a context-switch
 * `pmc` log with 8 cumulative counters, VMs round-robin on cpu 0, one
 * record per ms, written in the native binary form with the project's
 * writer), each region repeated and the median taken, regions interleaved
 * so that machine noise hits them alike:
 *   read_loop   the reference: a plain read(2) loop over the same file
 *               (1 MiB buffer) that loads one 8-byte field per record;
 *   reader      trc_open + trc_next over the file (decode and all checks);
 *   batch       trc_open + trc_next_pmc_batch over the file: the same
 *               checks, the records handed out in place (what the replay
 *               reads through);
 *   ceiling     a minimal fused loop over the same file (read(2) into the
 *               same 1 MiB buffer; per record: vm and cpu loaded and masked
 *               into range, sums[cpu][vm][k] += v[k] - prev[cpu][k] and
 *               prev[cpu][k] = v[k] for the 8 counters, name and end
 *               entries skipped; no other check): what any accounting
 *               replay costs at least;
 *   replay      the whole accounting replay: a scenario with `[cpu]
 *               pmc_log` in accounting mode and the VMs, run by the machine
 *               (event queue, snapshots every 100 ms with conservation
 *               checks, the CPU energy model, idle split, ledger) with no
 *               output sinks.
 * Figures: records per second of each; ratios replay / read_loop and
 * ceiling / read_loop.
 *
 * Usage: bench_replay [-n RECORDS] [-v VMS] [-r REPS] [-d DIR] [--only REGION]
 *   defaults 10000000 records, 4 VMs, 5 repetitions, $TMPDIR or /tmp;
 *   --only runs one region once (for callgrind's --toggle-collect=bench_region_*);
 *   -k keeps the trace file (its path goes to stderr); -f FILE replays a
 *   log kept before (same -n and -v) instead of writing one.
 * Output (stdout): key=value lines; the trace file is removed at the end.
 */
#include "bench/bench_util.h"

#define REPLAY_DEFAULT_RECORDS 10000000UL
#define REPLAY_DEFAULT_VMS 4UL
#define REPLAY_DEFAULT_REPS 5UL
#define REPLAY_READ_BUF_B (1 << 20)
/* the ceiling loop's sums: cpu masked to 0..3, vm to 0..255 (-v <= 256) */
#define REPLAY_CEIL_CPUS 4
#define REPLAY_CEIL_VMS 256
/* binary format: header_b at byte 24 of the header; a name entry is
 * 0xFFFFFFFF, u32 len, len bytes; the end entry 0xFFFFFFFE (24 bytes) */
#define REPLAY_HDR_B_OFF 24
#define REPLAY_ENTRY_NAME 0xFFFFFFFFu
#define REPLAY_ENTRY_END 0xFFFFFFFEu

static const char *const USAGE =
	"usage: bench_replay [-n RECORDS] [-v VMS] [-r REPS] [-d DIR] "
	"[--only read_loop|reader|batch|ceiling|replay] [-k] [-f FILE]\n";

/* The reference: read(2) the file in 1 MiB chunks and load one 8-byte
 * field per record-sized stride (what any consumer must at least do). */
__attribute__((noinline)) static uint64_t bench_region_read_loop(const char *path,
								 size_t rec_b,
								 uint64_t *records)
{
	static unsigned char buf[REPLAY_READ_BUF_B];
	int fd = open(path, O_RDONLY);
	uint64_t sum = 0, n = 0;
	size_t carry = 0;
	ssize_t got;
	if (fd < 0) {
		perror(path);
		exit(1);
	}
	while ((got = read(fd, buf + carry, sizeof buf - carry)) > 0) {
		size_t have = carry + (size_t)got, off = 0;
		for (; off + rec_b <= have; off += rec_b, n++) {
			uint64_t v;
			memcpy(&v, buf + off + 8, sizeof v);
			sum += v;
		}
		carry = have - off;
		memmove(buf, buf + off, carry);
	}
	close(fd);
	*records = n;
	return sum;
}

/* The log opened for the reader regions (exits on failure). */
static struct trc_reader *replay_open(const char *path, struct jv_diag *d)
{
	struct trc_reader *r = NULL;
	jv_diag_clear(d);
	if (trc_open(path, "auto", &r, d))
		bench_fail("bench_replay", "trc_open", d);
	return r;
}

/* A reader region's end: rc of its last call (what), then close. */
static void replay_close(struct trc_reader *r, int rc, const char *what, const struct jv_diag *d)
{
	if (rc < 0)
		bench_fail("bench_replay", what, d);
	trc_close(r);
}

__attribute__((noinline)) static uint64_t bench_region_reader(const char *path,
							      uint64_t *records)
{
	struct trc_record rec;
	struct jv_diag d;
	struct trc_reader *r = replay_open(path, &d);
	uint64_t sum = 0, n = 0;
	int rc;
	while ((rc = trc_next(r, &rec, &d)) > 0) {
		sum += (uint64_t)rec.u.pmc.t_ns;
		n++;
	}
	replay_close(r, rc, "trc_next", &d);
	*records = n;
	return sum;
}

__attribute__((noinline)) static uint64_t bench_region_batch(const char *path,
							     uint64_t *records)
{
	struct trc_pmc_batch b;
	struct jv_diag d;
	struct trc_reader *r = replay_open(path, &d);
	uint64_t sum = 0, n = 0;
	int rc;
	while ((rc = trc_next_pmc_batch(r, &b, &d)) > 0) {
		for (size_t i = 0; i < b.n; i++)
			sum += trc_ld64(b.rec + i * b.rec_b + 8);
		n += b.n;
	}
	replay_close(r, rc, "trc_next_pmc_batch", &d);
	*records = n;
	return sum;
}

/* The ceiling: the minimal fused accounting loop (no checks but the entry
 * kind: a name entry is skipped, the end entry ends the loop). */
__attribute__((noinline)) static uint64_t bench_region_ceiling(const char *path,
							       uint64_t *records)
{
	static unsigned char buf[REPLAY_READ_BUF_B];
	static uint64_t sums[REPLAY_CEIL_CPUS][REPLAY_CEIL_VMS][BENCH_PMC_N_COUNTERS];
	static uint64_t prev[REPLAY_CEIL_CPUS][BENCH_PMC_N_COUNTERS];
	const size_t rec_b = 16 + 8 * BENCH_PMC_N_COUNTERS;
	int fd = open(path, O_RDONLY);
	uint64_t n = 0;
	size_t carry = 0, skip = 0;
	ssize_t got;
	int head = 1, end = 0;
	if (fd < 0) {
		perror(path);
		exit(1);
	}
	memset(sums, 0, sizeof sums);
	memset(prev, 0, sizeof prev);
	while (!end && (got = read(fd, buf + carry, sizeof buf - carry)) > 0) {
		size_t have = carry + (size_t)got, off = 0;
		if (head) { /* the header: skip header_b bytes */
			uint32_t hb;
			if (have < REPLAY_HDR_B_OFF + 4) {
				carry = have;
				continue;
			}
			memcpy(&hb, buf + REPLAY_HDR_B_OFF, sizeof hb);
			skip = hb;
			head = 0;
		}
		if (skip) {
			size_t k = skip < have ? skip : have;
			off += k;
			skip -= k;
		}
		while (off + rec_b <= have) {
			const unsigned char *r = buf + off;
			uint32_t vm, cpu;
			memcpy(&vm, r, sizeof vm);
			if (__builtin_expect(vm >= REPLAY_ENTRY_END, 0)) {
				uint32_t len;
				if (vm == REPLAY_ENTRY_END) {
					end = 1;
					break;
				}
				memcpy(&len, r + 4, sizeof len);
				off += 8 + len;
				continue;
			}
			memcpy(&cpu, r + 4, sizeof cpu);
			cpu &= REPLAY_CEIL_CPUS - 1;
			vm &= REPLAY_CEIL_VMS - 1;
			uint64_t *s = sums[cpu][vm], *pv = prev[cpu];
			for (int k = 0; k < BENCH_PMC_N_COUNTERS; k++) {
				uint64_t v;
				memcpy(&v, r + 16 + 8 * k, sizeof v);
				s[k] += v - pv[k];
				pv[k] = v;
			}
			off += rec_b;
			n++;
		}
		if (off > have) { /* a name entry's bytes run past the buffer */
			skip = off - have;
			off = have;
		}
		carry = have - off;
		memmove(buf, buf + off, carry);
	}
	close(fd);
	*records = n;
	uint64_t sum = 0;
	for (int c = 0; c < REPLAY_CEIL_CPUS; c++)
		for (int v = 0; v < REPLAY_CEIL_VMS; v++)
			sum += sums[c][v][0];
	return sum;
}

__attribute__((noinline)) static double bench_region_replay(const struct scn *s,
							    uint64_t *records)
{
	struct machine *m = NULL;
	double dt = bench_run_machine("bench_replay", s, &m);
	*records = machine_stats(m)->pmc_records;
	if (machine_stats(m)->conservation_violations) {
		fprintf(stderr, "bench_replay: conservation violated\n");
		exit(1);
	}
	machine_free(m);
	return dt;
}

int main(int argc, char **argv)
{
	unsigned long n = REPLAY_DEFAULT_RECORDS, vms = REPLAY_DEFAULT_VMS;
	unsigned long reps = REPLAY_DEFAULT_REPS;
	const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", *only = NULL;
	int keep = 0;
	const char *given = NULL;
	for (int i = 1; i < argc; i++) {
		if (i + 1 < argc && strcmp(argv[i], "-n") == 0)
			n = bench_count(argv[++i], USAGE);
		else if (i + 1 < argc && strcmp(argv[i], "-v") == 0)
			vms = bench_count(argv[++i], USAGE);
		else if (i + 1 < argc && strcmp(argv[i], "-r") == 0)
			reps = bench_count(argv[++i], USAGE);
		else if (i + 1 < argc && strcmp(argv[i], "-d") == 0)
			dir = argv[++i];
		else if (i + 1 < argc && strcmp(argv[i], "--only") == 0)
			only = argv[++i];
		else if (strcmp(argv[i], "-k") == 0)
			keep = 1;
		else if (i + 1 < argc && strcmp(argv[i], "-f") == 0)
			given = argv[++i];
		else {
			fprintf(stderr, "%s", USAGE);
			return 2;
		}
	}
	if (reps > BENCH_MAX_REPS || vms > 256) {
		fprintf(stderr, "%s", USAGE);
		return 2;
	}
	if (only)
		reps = 1;
	char path[512];
	snprintf(path, sizeof path, "%s/jvbench-replay-%d.jvt", dir, (int)getpid());
	double t0 = bench_now_s();
	if (given) {
		snprintf(path, sizeof path, "%s", given);
		keep = 1;
	} else {
		bench_write_pmc_log("bench_replay", path, n, (int)vms);
	}
	long long size_b = bench_file_size(path);
	fprintf(stderr, "bench_replay: wrote %lu records (%lld bytes) in %.2f s\n", n, size_b,
		bench_now_s() - t0);
	static char text[BENCH_SCN_TEXT_MAX_B];
	bench_replay_scenario(text, sizeof text, path, (int)vms,
			      (int64_t)n * BENCH_PMC_PERIOD_NS);
	struct scn *s = bench_scenario("bench_replay", text);
	size_t rec_b = 16 + 8 * BENCH_PMC_N_COUNTERS;
	double t_ref[BENCH_MAX_REPS], t_rd[BENCH_MAX_REPS], t_rp[BENCH_MAX_REPS];
	double t_bt[BENCH_MAX_REPS], t_ce[BENCH_MAX_REPS];
	uint64_t n_ref = 0, n_rd = 0, n_rp = 0, n_bt = 0, n_ce = 0, sink = 0;
	bench_warm_file(path);
	for (unsigned long k = 0; k < reps; k++) {
		double t;
		if (!only || strcmp(only, "read_loop") == 0) {
			t = bench_now_s();
			sink += bench_region_read_loop(path, rec_b, &n_ref);
			t_ref[k] = bench_now_s() - t;
		}
		if (!only || strcmp(only, "reader") == 0) {
			t = bench_now_s();
			sink += bench_region_reader(path, &n_rd);
			t_rd[k] = bench_now_s() - t;
		}
		if (!only || strcmp(only, "batch") == 0) {
			t = bench_now_s();
			sink += bench_region_batch(path, &n_bt);
			t_bt[k] = bench_now_s() - t;
		}
		if (!only || strcmp(only, "ceiling") == 0) {
			t = bench_now_s();
			sink += bench_region_ceiling(path, &n_ce);
			t_ce[k] = bench_now_s() - t;
		}
		if (!only || strcmp(only, "replay") == 0)
			t_rp[k] = bench_region_replay(s, &n_rp);
	}
	scn_free(s);
	if (keep)
		fprintf(stderr, "bench_replay: kept %s\n", path);
	else
		unlink(path);
	printf("replay_vms=%lu\nreplay_records=%lu\nreplay_file_bytes=%lld\n", vms, n, size_b);
	if (!only || strcmp(only, "read_loop") == 0)
		printf("replay_read_loop_records_per_s=%.0f\n",
		       (double)n_ref / bench_median(t_ref, (int)reps));
	if (!only || strcmp(only, "reader") == 0)
		printf("replay_reader_records_per_s=%.0f\n",
		       (double)n_rd / bench_median(t_rd, (int)reps));
	if (!only || strcmp(only, "batch") == 0)
		printf("replay_batch_reader_records_per_s=%.0f\n",
		       (double)n_bt / bench_median(t_bt, (int)reps));
	if (!only || strcmp(only, "ceiling") == 0)
		printf("replay_ceiling_records_per_s=%.0f\n",
		       (double)n_ce / bench_median(t_ce, (int)reps));
	if (!only || strcmp(only, "replay") == 0)
		printf("replay_records_per_s=%.0f\n", (double)n_rp / bench_median(t_rp, (int)reps));
	if (!only)
		printf("replay_ratio_to_read_loop=%.3f\n",
		       ((double)n_rp / bench_median(t_rp, (int)reps)) /
			       ((double)n_ref / bench_median(t_ref, (int)reps)));
	if (!only)
		printf("replay_ceiling_ratio_to_read_loop=%.3f\n",
		       ((double)n_ce / bench_median(t_ce, (int)reps)) /
			       ((double)n_ref / bench_median(t_ref, (int)reps)));
	if (!only && n_ce != n)
		fprintf(stderr, "bench_replay: the ceiling loop counted %" PRIu64 " records\n", n_ce);
	printf("replay_peak_rss_kib=%ld\n", bench_peak_rss_kib());
	fprintf(stderr, "bench_replay: checksum %" PRIu64 "\n", sink);
	return 0;
}
