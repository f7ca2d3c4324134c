/*
 * cli: `joulevisor SUBCOMMAND [options]` (design §7), git/perf style: run,
 * reproduce, plot, trace, compare, calib, live, sweep, regress, db, help.
 * Every subcommand answers --help; `help TOPIC` shows it too.
 */
#include "sim/cli.h"

#include <stdlib.h>
#include <string.h>

#include "sim/cli_calib.h"
#include "sim/cli_trace.h"
#include "sim/db.h"
#include "sim/regress.h"
#include "sim/sweep.h"
#include "sim/live.h"
#include "plots/plot.h"
#include "sim/reproduce.h"
#include "sim/run.h"
#include "sim/scenario.h"

#define CLI_MAX_OVERRIDES 256
#define CLI_CMDLINE_MAX 8192

/* Subcommands whose usage `help NAME` shows via `NAME --help`. */
static const char *const TOPICS[] = {"reproduce", "plot", "trace", "compare", "calib",
				     "live", "sweep", "regress", "db", NULL};

static void usage(FILE *f)
{
	fputs("usage: joulevisor [--version] [--help] <command> [<args>]\n"
	      "\n"
	      "Energy accounting and management for hypervisor-based virtual machines\n"
	      "(Stoess, Lang, Bellosa, USENIX ATC 2007): simulate, replay and check.\n"
	      "\n"
	      "commands:\n"
	      "  run SCENARIO     simulate or replay a scenario, write the run directory\n"
	      "  reproduce [FIG]  run the paper's figures, write figN.csv/png and report.md\n"
	      "  plot RUNDIR      render the standard figures of a run directory (gnuplot)\n"
	      "  trace SUBCMD     import, convert, inspect traces (blktrace, MSR, fio, perf...)\n"
	      "  compare RUNDIR   compare a run with power-meter (DAQ) logs\n"
	      "  calib SUBCMD     fit PMC weights (pmc) or disk parameters (disk) to measurements\n"
	      "  live [ENTITIES]  account the running machine (perf, /proc, cgroups), record it\n"
	      "  sweep SCENARIO   run a grid of overrides into an SQLite run store (-j, --shard)\n"
	      "  regress          compare two run stores metric by metric (exit 3 on regression)\n"
	      "  db SUBCMD        list, show, export, remove and merge runs of a run store\n"
	      "  help [TOPIC]     this text; `help scenario` lists every scenario option;\n"
	      "                   `help COMMAND` the options of a command\n"
	      "\n"
	      "exit codes: 0 success, 1 runtime failure (write error, invariant violated),\n"
	      "2 usage or input error, 3 regression found, 130/143 interrupted\n",
	      f);
}

static void run_usage(FILE *f)
{
	fputs("usage: joulevisor run SCENARIO [-o DIR] [--force] [--set KEY=VALUE]...\n"
	      "                      [--db FILE] [--parse-only] [-q]\n"
	      "\n"
	      "  SCENARIO          scenario file (INI), `-` for stdin\n"
	      "  -o, --output DIR  run directory (default out/<scenario name>)\n"
	      "  --force           replace an existing run directory\n"
	      "  --set KEY=VALUE   override an option: section.key, vm.NAME.key,\n"
	      "                    container.VM/NAME.key (repeatable)\n"
	      "  --db FILE         also write the tables to an SQLite database\n"
	      "  --parse-only      load and validate, print the resolved scenario, run nothing\n"
	      "  -q, --quiet       do not print the matrix\n"
	      "\n"
	      "outputs: matrix.csv truth.csv error.csv series.csv power.csv summary.txt\n"
	      "scenario.resolved.ini manifest.txt (see docs/FORMATS.md)\n",
	      f);
}

static void join_cmdline(int argc, char **argv, char *buf, size_t cap)
{
	size_t n = 0;
	buf[0] = '\0';
	for (int i = 0; i < argc && n + 1 < cap; i++) {
		int w = snprintf(buf + n, cap - n, "%s%s", i ? " " : "", argv[i]);
		if (w < 0)
			break;
		n += (size_t)w;
	}
	if (n >= cap)
		buf[cap - 1] = '\0';
}

static int cmd_run(int argc, char **argv, FILE *out, FILE *err, const char *cmdline)
{
	struct run_opts o = {0};
	struct scn_override ov[CLI_MAX_OVERRIDES];
	o.ov = ov;
	o.command_line = cmdline;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *val = NULL;
#define NEED_ARG()                                                                  \
	do {                                                                        \
		if (i + 1 >= argc) {                                                \
			fprintf(err, "joulevisor: run: option %s needs a value\n", a); \
			return 2;                                                   \
		}                                                                   \
		val = argv[++i];                                                    \
	} while (0)
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			run_usage(out);
			return 0;
		} else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
			NEED_ARG();
			o.out_dir = val;
		} else if (strncmp(a, "--output=", 9) == 0) {
			o.out_dir = a + 9;
		} else if (strcmp(a, "--force") == 0 || strcmp(a, "-f") == 0) {
			o.force = 1;
		} else if (strcmp(a, "--parse-only") == 0) {
			o.parse_only = 1;
		} else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
			o.quiet = 1;
		} else if (strcmp(a, "--db") == 0 || strncmp(a, "--db=", 5) == 0) {
			if (a[4] == '=')
				val = a + 5;
			else
				NEED_ARG();
			o.db = val;
		} else if (strcmp(a, "--set") == 0 || strncmp(a, "--set=", 6) == 0) {
			if (a[5] == '=')
				val = a + 6;
			else
				NEED_ARG();
			const char *eq = strchr(val, '=');
			if (!eq || eq == val) {
				fprintf(err, "joulevisor: run: --set expects KEY=VALUE, got '%s'\n", val);
				return 2;
			}
			if (o.n_ov >= CLI_MAX_OVERRIDES) {
				fprintf(err, "joulevisor: run: too many --set (max %d)\n",
					CLI_MAX_OVERRIDES);
				return 2;
			}
			/* split in place: argv strings are writable */
			char *k = (char *)val;
			k[eq - val] = '\0';
			ov[o.n_ov].key = k;
			ov[o.n_ov].value = eq + 1;
			o.n_ov++;
		} else if (a[0] == '-' && a[1] != '\0') {
			fprintf(err, "joulevisor: run: unknown option '%s' (see `joulevisor run --help`)\n", a);
			return 2;
		} else if (!o.scenario) {
			o.scenario = a;
		} else {
			fprintf(err, "joulevisor: run: more than one scenario ('%s', '%s')\n",
				o.scenario, a);
			return 2;
		}
#undef NEED_ARG
	}
	if (!o.scenario) {
		fprintf(err, "joulevisor: run: no scenario given\n");
		run_usage(err);
		return 2;
	}
	return run_main(&o, out, err);
}

int cli_main(int argc, char **argv, FILE *out, FILE *err)
{
	char cmdline[CLI_CMDLINE_MAX];
	join_cmdline(argc, argv, cmdline, sizeof cmdline);
	if (argc < 2) {
		usage(err);
		return 2;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
		fprintf(out, "joulevisor %s\n", JV_VERSION);
		return 0;
	}
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
		usage(out);
		return 0;
	}
	if (strcmp(cmd, "help") == 0) {
		if (argc < 3) {
			usage(out);
			return 0;
		}
		if (strcmp(argv[2], "scenario") == 0) {
			scn_print_help(out);
			return 0;
		}
		if (strcmp(argv[2], "run") == 0) {
			run_usage(out);
			return 0;
		}
		for (int i = 0; TOPICS[i]; i++)
			if (strcmp(argv[2], TOPICS[i]) == 0) {
				char *sub[] = {argv[0], argv[2], (char *)"--help", NULL};
				return cli_main(3, sub, out, err);
			}
		fprintf(err, "joulevisor: help: no help on '%s' (topics: scenario, run, reproduce, "
			"plot, trace, compare, calib, live, sweep, regress, db)\n", argv[2]);
		return 2;
	}
	if (strcmp(cmd, "run") == 0)
		return cmd_run(argc - 1, argv + 1, out, err, cmdline);
	if (strcmp(cmd, "reproduce") == 0)
		return repro_cli(argc - 1, argv + 1, out, err);
	if (strcmp(cmd, "plot") == 0)
		return plot_cli(argc - 1, argv + 1, out, err);
	if (strcmp(cmd, "trace") == 0)
		return cli_trace_main(argc - 1, argv + 1, out, err);
	if (strcmp(cmd, "sweep") == 0)
		return sweep_cli(argc - 1, argv + 1, out, err);
	if (strcmp(cmd, "regress") == 0)
		return regress_cli(argc - 1, argv + 1, out, err);
	if (strcmp(cmd, "db") == 0)
		return db_cli(argc - 1, argv + 1, out, err);
	if (strcmp(cmd, "live") == 0)
		return live_main(argc - 1, argv + 1, out, err, cmdline);
	if (strcmp(cmd, "compare") == 0)
		return cli_compare_main(argc - 1, argv + 1, out, err, cmdline);
	if (strcmp(cmd, "calib") == 0)
		return cli_calib_main(argc - 1, argv + 1, out, err, cmdline);
	fprintf(err, "joulevisor: '%s' is not a joulevisor command (see `joulevisor --help`)\n", cmd);
	return 2;
}
