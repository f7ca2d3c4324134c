/*
 * bench_csv: native CSV ingest and accounting, and general CSV through
 * libcsv (issue 10, benchmark 2).
 *
 * Problem: the tool's own CSV traces are read by a strict hand-written
 * fast path (traces/trc_csv.c) that must beat a general CSV library by a
 * wide margin; general CSV (power-meter logs, calib/daq.c) goes through
 * libcsv, and the tool's work around it must cost little on top of libcsv.
 *
 * Regions (medians of repeated, interleaved runs, files in the page cache):
 *   libcsv     the reference: csv_parse() over the file in 1 MiB read(2)
 *              chunks, callbacks that only count fields and rows;
 *   reader     trc_open + trc_next over the synthetic pmc log in CSV
 *              (bench_util.h; 8 counters; values checked, names interned,
 *              time and counter order checked);
 *   replay     the whole accounting replay of that CSV log by the machine
 *              (as bench_replay, from CSV);
 *   meter      cal_meter_load() of a DAQ log `t_s,c1,c2,c3` (10 kHz, three
 *              channels, one expression per channel) vs libcsv alone on
 *              the same file.
 * Figures: MB/s and rows/s of each; ratios to libcsv on the same file.
 *
 * Usage: bench_csv [-n ROWS] [-m METER_ROWS] [-r REPS] [-d DIR] [--only REGION]
 *   defaults 5000000 log rows, 2000000 meter rows, 5 repetitions.
 */
#include <csv.h>

#include "bench/bench_util.h"
#include "calib/daq.h"

#define CSV_DEFAULT_ROWS 5000000UL
#define CSV_DEFAULT_METER_ROWS 2000000UL
#define CSV_DEFAULT_REPS 5UL
#define CSV_VMS 4
#define CSV_READ_BUF_B (1 << 20)
#define CSV_METER_RATE_HZ 10000.0
#define CSV_MB 1e6

static const char *const USAGE =
	"usage: bench_csv [-n ROWS] [-m METER_ROWS] [-r REPS] [-d DIR] "
	"[--only libcsv|reader|replay|meter_libcsv|meter]\n";

struct count {
	uint64_t fields, rows;
};

static void on_field(void *s, size_t len, void *ctx)
{
	(void)s;
	(void)len;
	((struct count *)ctx)->fields++;
}

static void on_row(int c, void *ctx)
{
	(void)c;
	((struct count *)ctx)->rows++;
}

/* libcsv alone: every byte through csv_parse(), nothing else. */
__attribute__((noinline)) static uint64_t bench_region_libcsv(const char *path)
{
	static char buf[CSV_READ_BUF_B];
	struct csv_parser p;
	struct count c = {0, 0};
	ssize_t got;
	int fd = open(path, O_RDONLY);
	if (fd < 0 || csv_init(&p, 0)) {
		perror(path);
		exit(1);
	}
	while ((got = read(fd, buf, sizeof buf)) > 0)
		if (csv_parse(&p, buf, (size_t)got, on_field, on_row, &c) != (size_t)got) {
			fprintf(stderr, "bench_csv: libcsv: %s\n", csv_strerror(csv_error(&p)));
			exit(1);
		}
	csv_fini(&p, on_field, on_row, &c);
	csv_free(&p);
	close(fd);
	return c.rows;
}

__attribute__((noinline)) static uint64_t bench_region_reader(const char *path)
{
	struct trc_reader *r = NULL;
	struct trc_record rec;
	struct jv_diag d;
	uint64_t n = 0;
	int rc;
	jv_diag_clear(&d);
	if (trc_open(path, "auto", &r, &d))
		bench_fail("bench_csv", "trc_open", &d);
	while ((rc = trc_next(r, &rec, &d)) > 0)
		n++;
	if (rc < 0)
		bench_fail("bench_csv", "trc_next", &d);
	trc_close(r);
	return n;
}

__attribute__((noinline)) static uint64_t bench_region_replay(const struct scn *s)
{
	struct machine *m = NULL;
	bench_run_machine("bench_csv", s, &m);
	uint64_t n = machine_stats(m)->trace_records;
	machine_free(m);
	return n;
}

__attribute__((noinline)) static uint64_t bench_region_meter(const char *path)
{
	struct cal_meter_opts o;
	struct cal_meter *m = NULL;
	struct jv_diag d;
	jv_diag_clear(&d);
	cal_meter_opts_init(&o);
	o.time_col = "t_s";
	static const char *const ch[] = {"a=c1", "b=c2", "c=c3"};
	for (int i = 0; i < 3; i++)
		if (cal_channel_parse(ch[i], &o.ch[o.n_channels++], &d))
			bench_fail("bench_csv", "channel", &d);
	if (cal_meter_load(path, &o, &m, &d))
		bench_fail("bench_csv", "cal_meter_load", &d);
	uint64_t n = m->n;
	cal_meter_free(m);
	return n;
}

/* A DAQ log: time in seconds and three sensor voltages. */
static void write_meter(const char *path, uint64_t rows)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(1);
	}
	fprintf(f, "t_s,c1,c2,c3\n");
	for (uint64_t i = 0; i < rows; i++)
		fprintf(f, "%.6f,%.5f,%.5f,%.5f\n", (double)i / CSV_METER_RATE_HZ,
			0.5 + 0.25 * (double)(i % 97) / 97.0, 0.6 + 0.01 * (double)(i % 13),
			2.5 - 0.001 * (double)(i % 1000));
	if (fclose(f)) {
		perror(path);
		exit(1);
	}
}

enum { R_LIBCSV, R_READER, R_REPLAY, R_METER_LIBCSV, R_METER, R_N };
static const char *const region_name[R_N] = {"libcsv", "reader", "replay", "meter_libcsv",
					     "meter"};

int main(int argc, char **argv)
{
	unsigned long n = CSV_DEFAULT_ROWS, mrows = CSV_DEFAULT_METER_ROWS;
	unsigned long reps = CSV_DEFAULT_REPS;
	const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", *only = NULL;
	for (int i = 1; i < argc; i++) {
		if (i + 1 < argc && strcmp(argv[i], "-n") == 0)
			n = bench_count(argv[++i], USAGE);
		else if (i + 1 < argc && strcmp(argv[i], "-m") == 0)
			mrows = bench_count(argv[++i], USAGE);
		else if (i + 1 < argc && strcmp(argv[i], "-r") == 0)
			reps = bench_count(argv[++i], USAGE);
		else if (i + 1 < argc && strcmp(argv[i], "-d") == 0)
			dir = argv[++i];
		else if (i + 1 < argc && strcmp(argv[i], "--only") == 0)
			only = argv[++i];
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
	int want[R_N];
	for (int k = 0; k < R_N; k++)
		want[k] = !only || strcmp(only, region_name[k]) == 0;
	char log[512], meter[512];
	snprintf(log, sizeof log, "%s/jvbench-csv-%d.csv", dir, (int)getpid());
	snprintf(meter, sizeof meter, "%s/jvbench-meter-%d.csv", dir, (int)getpid());
	bench_write_pmc_log("bench_csv", log, n, CSV_VMS);
	if (want[R_METER] || want[R_METER_LIBCSV])
		write_meter(meter, mrows);
	double size_log = (double)bench_file_size(log);
	double size_meter = want[R_METER] || want[R_METER_LIBCSV] ? (double)bench_file_size(meter)
								  : 0.0;
	static char text[BENCH_SCN_TEXT_MAX_B];
	bench_replay_scenario(text, sizeof text, log, CSV_VMS, (int64_t)n * BENCH_PMC_PERIOD_NS);
	struct scn *s = bench_scenario("bench_csv", text);
	bench_warm_file(log);
	bench_warm_file(meter);
	double t[R_N][BENCH_MAX_REPS];
	uint64_t rows[R_N] = {0};
	for (unsigned long k = 0; k < reps; k++)
		for (int g = 0; g < R_N; g++) {
			if (!want[g])
				continue;
			double t0 = bench_now_s();
			switch (g) {
			case R_LIBCSV: rows[g] = bench_region_libcsv(log); break;
			case R_READER: rows[g] = bench_region_reader(log); break;
			case R_REPLAY: rows[g] = bench_region_replay(s); break;
			case R_METER_LIBCSV: rows[g] = bench_region_libcsv(meter); break;
			default: rows[g] = bench_region_meter(meter); break;
			}
			t[g][k] = bench_now_s() - t0;
		}
	scn_free(s);
	unlink(log);
	unlink(meter);
	double med[R_N];
	printf("csv_rows=%lu\ncsv_file_bytes=%.0f\ncsv_meter_rows=%lu\ncsv_meter_file_bytes=%.0f\n",
	       n, size_log, mrows, size_meter);
	for (int g = 0; g < R_N; g++) {
		if (!want[g])
			continue;
		med[g] = bench_median(t[g], (int)reps);
		double bytes = g >= R_METER_LIBCSV ? size_meter : size_log;
		printf("csv_%s_mb_per_s=%.1f\ncsv_%s_rows_per_s=%.0f\n", region_name[g],
		       bytes / med[g] / CSV_MB, region_name[g], (double)rows[g] / med[g]);
	}
	if (!only) {
		printf("csv_reader_ratio_to_libcsv=%.3f\n", med[R_LIBCSV] / med[R_READER]);
		printf("csv_replay_ratio_to_libcsv=%.3f\n", med[R_LIBCSV] / med[R_REPLAY]);
		printf("csv_meter_ratio_to_libcsv=%.3f\n", med[R_METER_LIBCSV] / med[R_METER]);
	}
	printf("csv_peak_rss_kib=%ld\n", bench_peak_rss_kib());
	return 0;
}
