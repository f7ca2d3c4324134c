/*
 * bench_mem: memory against trace length (issue 10, benchmark 5).
 *
 * Problem: week-long traces must replay in the same memory as short ones:
 * readers stream, the machine keeps O(VMs) state, sinks stream their rows.
 *
 * What it does: writes the synthetic 1 kHz context-switch PMC log
 * (bench_util.h, 8 counters, 4 VMs) with n records and with 10 x n records
 * (native binary, or CSV with --csv), and runs the real tool on each as a
 * child process, `joulevisor run` of a scenario replaying the log in
 * accounting mode with every output file written (power.csv at 10 ms
 * resolution so its size stays reasonable; its memory does not depend on
 * the resolution). The child's peak RSS comes from wait4().
 *
 * Figures: peak RSS (KiB) of the 1x and the 10x run and their ratio
 * (target: the 10x run needs less than 10% more).
 *
 * Usage: bench_mem JOULEVISOR [-n RECORDS] [-d DIR] [--csv]
 *   default 1000000 records (10000000 for the long run).
 */
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "bench/bench_util.h"

#define MEM_DEFAULT_RECORDS 1000000UL
#define MEM_FACTOR 10
#define MEM_VMS 4

static const char *const USAGE = "usage: bench_mem JOULEVISOR [-n RECORDS] [-d DIR] [--csv]\n";

/* Run the tool on the scenario; returns the child's peak RSS in KiB. */
static long run_tool(const char *tool, const char *scn, const char *out_dir)
{
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		exit(1);
	}
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		if (null >= 0)
			dup2(null, STDOUT_FILENO);
		execl(tool, tool, "run", scn, "-o", out_dir, "--force", "--set",
		      "output.power_resolution=10ms", (char *)NULL);
		perror(tool);
		_exit(127);
	}
	int status;
	struct rusage ru;
	if (wait4(pid, &status, 0, &ru) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "bench_mem: %s run %s failed\n", tool, scn);
		exit(1);
	}
	return ru.ru_maxrss;
}

int main(int argc, char **argv)
{
	unsigned long n = MEM_DEFAULT_RECORDS;
	const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	int csv = 0;
	if (argc < 2 || argv[1][0] == '-') {
		fprintf(stderr, "%s", USAGE);
		return 2;
	}
	const char *tool = argv[1];
	for (int i = 2; i < argc; i++) {
		if (i + 1 < argc && strcmp(argv[i], "-n") == 0)
			n = bench_count(argv[++i], USAGE);
		else if (i + 1 < argc && strcmp(argv[i], "-d") == 0)
			dir = argv[++i];
		else if (strcmp(argv[i], "--csv") == 0)
			csv = 1;
		else {
			fprintf(stderr, "%s", USAGE);
			return 2;
		}
	}
	long rss[2];
	uint64_t len[2] = {n, (uint64_t)n * MEM_FACTOR};
	long long size_b[2];
	for (int k = 0; k < 2; k++) {
		char log[512], scn[512], out[512];
		static char text[BENCH_SCN_TEXT_MAX_B];
		int pid = (int)getpid();
		snprintf(log, sizeof log, "%s/jvbench-mem-%d-%d.%s", dir, pid, k, csv ? "csv" : "jvt");
		snprintf(scn, sizeof scn, "%s/jvbench-mem-%d-%d.ini", dir, pid, k);
		snprintf(out, sizeof out, "%s/jvbench-mem-%d-%d.out", dir, pid, k);
		bench_write_pmc_log("bench_mem", log, len[k], MEM_VMS);
		size_b[k] = bench_file_size(log);
		bench_replay_scenario(text, sizeof text, log, MEM_VMS,
				      (int64_t)len[k] * BENCH_PMC_PERIOD_NS);
		FILE *f = fopen(scn, "w");
		if (!f || fputs(text, f) < 0 || fclose(f)) {
			perror(scn);
			return 1;
		}
		rss[k] = run_tool(tool, scn, out);
		char cmd[1200];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", out);
		if (system(cmd) != 0)
			fprintf(stderr, "bench_mem: cannot remove %s\n", out);
		unlink(log);
		unlink(scn);
	}
	printf("mem_format=%s\nmem_records_1x=%" PRIu64 "\nmem_records_10x=%" PRIu64 "\n",
	       csv ? "csv" : "bin", len[0], len[1]);
	printf("mem_file_bytes_1x=%lld\nmem_file_bytes_10x=%lld\n", size_b[0], size_b[1]);
	printf("mem_peak_rss_kib_1x=%ld\nmem_peak_rss_kib_10x=%ld\nmem_rss_ratio=%.3f\n", rss[0],
	       rss[1], (double)rss[1] / (double)rss[0]);
	return 0;
}
