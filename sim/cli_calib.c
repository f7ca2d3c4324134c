/*
 * cli_calib: theory of operation.
 *
 * Argument parsing for the measurement commands; the work is in calib/
 * (compare.c, calib_cmd.c).
 *
 *   compare RUNDIR --daq FILE --channel NAME=EXPR... [meter] [alignment]
 *           [--window T] [--phase NAME=START:END]... [--model CH=DEV+DEV]...
 *           [--align-channel NAME] [--no-plot] [--gnuplot PROG] [-q]
 *   compare --db DB --run ID [-o DIR] --daq FILE ...   (model from the run store)
 *   calib pmc --pmc FILE... (--target-event EVENT | --meter FILE... --channel NAME=EXPR [meter])
 *           [alignment] [--align-event EVENT] [--counters A,B,..] [--window T]
 *           [--kfold K] [--collinear-tol X] [--tsc-freq HZ] [--tsc-counter NAME]
 *           [--rename EVENT=NAME]... [--format FMT] -o DIR [--force] [-q]
 *   calib disk --blk FILE [--blk-format FMT] [--disk N] --meter FILE --channel NAME=EXPR
 *           [meter] [alignment] [--window T] -o DIR [--force] [-q]
 *
 * meter:     --time COL --time-unit s|ms|us|ns|epoch|iso --rate HZ --delim C
 *            --header --no-header --comment C --no-comment --energy
 * alignment: --offset T --sync EXPR --threshold V --sync-at T --sync-edge N --max-lag T
 *
 * Every option takes `--opt VALUE` or `--opt=VALUE`. Times take a unit
 * (100ms, 2.5s; a bare number is nanoseconds), rates and frequencies Hz
 * (2048, 2.048kHz). Exit codes: 0, 1 (write error), 2 (usage or input).
 */
#include "sim/cli_calib.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/units.h"
#include "calib/calib_cmd.h"
#include "calib/compare.h"

#define CLI_NS_PER_S 1e9

static void compare_usage(FILE *f)
{
	fputs("usage: joulevisor compare RUNDIR --daq FILE --channel NAME=EXPR... [options]\n"
	      "       joulevisor compare --db DB --run ID [-o DIR] --daq FILE --channel NAME=EXPR...\n"
	      "\n"
	      "Compare a run's model power (power.csv) with a power meter / DAQ log.\n"
	      "\n"
	      "meter file:\n"
	      "  --channel NAME=EXPR  a channel in watts: + - * / ( ) over numbers and columns\n"
	      "                       (header names, \"quoted names\" or c1, c2, ...); NAME is\n"
	      "                       matched to model devices: cpu0, disk0, cpu (all cpuN),\n"
	      "                       disk (all diskN), total\n"
	      "  --time COL           time column (default: sample index / --rate)\n"
	      "  --time-unit U        s (default), ms, us, ns, epoch, iso\n"
	      "  --rate HZ            sample rate without a time column (e.g. 2048)\n"
	      "  --delim C            , ; tab space or any character (default: detected)\n"
	      "  --header, --no-header  first row is (not) a header (default: detected)\n"
	      "  --comment C, --no-comment  comment line prefix (default #)\n"
	      "  --energy             channels are cumulative energy (J): power is their rate\n"
	      "alignment (offset = meter time of the model's t = 0):\n"
	      "  --offset T           manual offset (e.g. 2.355s)\n"
	      "  --sync EXPR          sync-pulse channel; its rising edge through --threshold V\n"
	      "                       (default 4) marks model time --sync-at T (default 0s);\n"
	      "                       --sync-edge N picks the Nth edge\n"
	      "  --max-lag T          refine by cross-correlation within +-T of the offset\n"
	      "  --align-channel NAME channel for the lag search (default: the first)\n"
	      "comparison:\n"
	      "  --window T           common window (default 100ms)\n"
	      "  --phase NAME=A:B     a phase of the run (repeatable; default: from the scenario)\n"
	      "  --model CH=DEV+DEV   model devices of a channel\n"
	      "  --no-plot            skip the figure; --gnuplot PROG: the gnuplot to run\n"
	      "  -q, --quiet          no summary on stdout\n"
	      "\n"
	      "outputs in RUNDIR (or -o DIR): compare.csv compare_metrics.csv compare_summary.txt\n"
	      "compare.gp compare.svg; with --db also tables compare, compare_metrics.\n",
	      f);
}

static void calib_usage(FILE *f)
{
	fputs("usage: joulevisor calib pmc --pmc FILE... (--target-event EVENT | --meter FILE...\n"
	      "                            --channel NAME=EXPR) -o DIR [options]\n"
	      "       joulevisor calib disk --blk FILE --meter FILE --channel NAME=EXPR -o DIR [options]\n"
	      "\n"
	      "calib pmc: fit P = P_idle + sum_i w_i * rate_i (non-negative weights, J/event)\n"
	      "  --pmc FILE           per-interval counters: `perf stat -x, -I MS` CSV or a native\n"
	      "                       pmc-interval trace (repeatable: one run each)\n"
	      "  --format F           auto (default), perf-stat, pmc-interval\n"
	      "  --target-event EV    measured power from an energy event of the same log\n"
	      "                       (RAPL: energy-pkg, power/energy-pkg/ ...)\n"
	      "  --meter FILE         or a meter file per --pmc (same options as compare)\n"
	      "  --align-event EV     log event the lag search correlates with (default: an\n"
	      "                       energy event of the log, else cycles)\n"
	      "  --counters A,B,...   counters to weigh (default: every non-energy event)\n"
	      "  --window T           fit windows (default: log intervals, or the coarser of\n"
	      "                       meter period and log interval)\n"
	      "  --kfold K            cross-validation folds (default 5; 1 = none)\n"
	      "  --collinear-tol X    drop a counter whose 1 - R^2 on the others is below X\n"
	      "                       (default 1e-6)\n"
	      "  --tsc-freq HZ        write P_idle as the TSC weight P_idle / HZ (--tsc-counter)\n"
	      "  --rename EV=NAME     counter name in weights.csv (default: EV made\n"
	      "                       scenario-safe, uncore_imc/data_reads/ -> uncore_imc_data_reads)\n"
	      "calib disk: fit idle power, active power and transfer rate\n"
	      "  --blk FILE           block trace with completion times (latency_ns)\n"
	      "  --blk-format F       trace format (default auto); --disk N: only diskN\n"
	      "  --meter FILE --channel NAME=EXPR  the disk's power log (meter options as compare)\n"
	      "  --window T           fit windows (default 100ms)\n"
	      "both: alignment options as compare (--offset --sync --threshold --sync-at\n"
	      "--sync-edge --max-lag), -o DIR (required), --force, -q.\n"
	      "\n"
	      "outputs: pmc: weights.csv (counter,weight_j for [cpu] weights_file),\n"
	      "calib_weights.csv calib_cv.csv calib_fit.csv report.txt; disk: disk.ini\n"
	      "disk_fit.csv report.txt\n",
	      f);
}

/* ---- option helpers ---------------------------------------------------------------- */

struct args {
	int argc, i;
	char **argv;
	const char *cmd;
	FILE *err;
	int bad;
};

/* 1 if argv[i] is --name (value in *v), 0 if not, sets bad on a missing value. */
static int opt(struct args *a, const char *name, const char **v)
{
	const char *s = a->argv[a->i];
	size_t n = strlen(name);
	if (strncmp(s, name, n))
		return 0;
	if (s[n] == '=') {
		*v = s + n + 1;
		return 1;
	}
	if (s[n])
		return 0;
	if (a->i + 1 >= a->argc) {
		fprintf(a->err, "joulevisor: %s: option %s needs a value\n", a->cmd, name);
		a->bad = 1;
		*v = NULL;
		return 1;
	}
	*v = a->argv[++a->i];
	return 1;
}

static int flag(struct args *a, const char *name)
{
	return !strcmp(a->argv[a->i], name);
}

static int bad_value(struct args *a, const char *name, const char *why)
{
	fprintf(a->err, "joulevisor: %s: %s: %s\n", a->cmd, name, why);
	a->bad = 1;
	return 1;
}

static int get_time(struct args *a, const char *name, const char *v, double *out)
{
	int64_t ns;
	char why[UNITS_WHY_MAX];
	if (units_parse_time_ns(v, &ns, why))
		return bad_value(a, name, why);
	*out = (double)ns / CLI_NS_PER_S;
	return 0;
}

static int get_freq(struct args *a, const char *name, const char *v, double *out)
{
	char why[UNITS_WHY_MAX];
	if (units_parse_freq_hz(v, out, why) || !(*out > 0))
		return bad_value(a, name, *why ? why : "must be > 0");
	return 0;
}

static int get_double(struct args *a, const char *name, const char *v, double *out)
{
	char why[UNITS_WHY_MAX];
	if (units_parse_double(v, out, why))
		return bad_value(a, name, why);
	return 0;
}

static int get_int(struct args *a, const char *name, const char *v, long lo, long hi, int *out)
{
	int64_t x;
	char why[UNITS_WHY_MAX];
	if (units_parse_int64(v, &x, why))
		return bad_value(a, name, why);
	if (x < lo || x > hi) {
		char msg[96];
		snprintf(msg, sizeof msg, "must be in %ld..%ld", lo, hi);
		return bad_value(a, name, msg);
	}
	*out = (int)x;
	return 0;
}

static int parse_delim(struct args *a, const char *v, int *out)
{
	if (!strcmp(v, "tab") || !strcmp(v, "\\t"))
		*out = '\t';
	else if (!strcmp(v, "space") || !strcmp(v, "ws") || !strcmp(v, " "))
		*out = ' ';
	else if (strlen(v) == 1 && v[0] != '"' && v[0] != '\n')
		*out = (unsigned char)v[0];
	else
		return bad_value(a, "--delim", "expected one character, tab or space");
	return 0;
}

/* Meter options; 1 if argv[i] was one of them. */
static int meter_opt(struct args *a, struct cal_meter_opts *m)
{
	const char *v;
	struct jv_diag d = {0};
	if (opt(a, "--channel", &v)) {
		if (!v)
			return 1;
		if (m->n_channels >= CAL_MAX_CHANNELS)
			return bad_value(a, "--channel", "too many channels");
		if (cal_channel_parse(v, &m->ch[m->n_channels], &d))
			return bad_value(a, "--channel", d.msg);
		m->n_channels++;
	} else if (opt(a, "--time-unit", &v)) {
		if (v && cal_time_unit_parse(v, &m->time_unit))
			return bad_value(a, "--time-unit", "expected s, ms, us, ns, epoch or iso");
	} else if (opt(a, "--time", &v)) {
		m->time_col = v;
	} else if (opt(a, "--rate", &v)) {
		if (v)
			get_freq(a, "--rate", v, &m->rate_hz);
	} else if (opt(a, "--delim", &v)) {
		if (v)
			parse_delim(a, v, &m->delim);
	} else if (flag(a, "--header")) {
		m->header = 1;
	} else if (flag(a, "--no-header")) {
		m->header = 0;
	} else if (opt(a, "--comment", &v)) {
		if (v && strlen(v) != 1)
			return bad_value(a, "--comment", "expected one character");
		if (v)
			m->comment = (unsigned char)v[0];
	} else if (flag(a, "--no-comment")) {
		m->comment = 0;
	} else if (flag(a, "--energy")) {
		m->energy = 1;
	} else if (opt(a, "--sync", &v)) {
		m->sync_expr = v;
	} else {
		return 0;
	}
	return 1;
}

/* Alignment options (all but --sync, which is a meter option). */
static int align_opt(struct args *a, struct cal_align_opts *al)
{
	const char *v;
	if (opt(a, "--offset", &v)) {
		if (v)
			get_time(a, "--offset", v, &al->offset_s);
	} else if (opt(a, "--threshold", &v)) {
		if (v)
			get_double(a, "--threshold", v, &al->sync_threshold);
	} else if (opt(a, "--sync-at", &v)) {
		if (v)
			get_time(a, "--sync-at", v, &al->sync_at_s);
	} else if (opt(a, "--sync-edge", &v)) {
		if (v)
			get_int(a, "--sync-edge", v, 1, 1000000, &al->sync_edge);
	} else if (opt(a, "--max-lag", &v)) {
		if (v && !get_time(a, "--max-lag", v, &al->max_lag_s) && al->max_lag_s < 0)
			bad_value(a, "--max-lag", "must be >= 0");
	} else {
		return 0;
	}
	return 1;
}

static int unknown(struct args *a)
{
	fprintf(a->err, "joulevisor: %s: unknown option '%s' (see `joulevisor %s --help`)\n", a->cmd,
		a->argv[a->i], a->cmd);
	a->bad = 1;
	return 2;
}

/* ---- compare --------------------------------------------------------------------------- */

static int compare_opt(struct args *a, struct cal_compare_opts *o, struct cal_align_opts *al,
		       const char **run_id, int *quiet)
{
	const char *v;
	struct jv_diag d = {0};
	if (meter_opt(a, &o->meter) || align_opt(a, al))
		return 0;
	if (opt(a, "--daq", &v)) {
		o->daq = v;
	} else if (opt(a, "--db", &v)) {
		o->db = v;
	} else if (opt(a, "--run", &v)) {
		*run_id = v;
	} else if (opt(a, "--output", &v) || opt(a, "-o", &v)) {
		o->out_dir = v;
	} else if (opt(a, "--window", &v)) {
		if (v && !get_time(a, "--window", v, &o->window_s) && !(o->window_s > 0))
			bad_value(a, "--window", "must be > 0");
	} else if (opt(a, "--phase", &v)) {
		if (v && o->n_phases >= CAL_MAX_PHASES)
			bad_value(a, "--phase", "too many phases");
		else if (v && cal_phase_parse(v, &o->phase[o->n_phases++], &d))
			bad_value(a, "--phase", d.msg);
	} else if (opt(a, "--model", &v)) {
		if (v && o->n_maps >= CAL_MAX_CHANNELS)
			bad_value(a, "--model", "too many mappings");
		else if (v && cal_map_parse(v, &o->map[o->n_maps++], &d))
			bad_value(a, "--model", d.msg);
	} else if (opt(a, "--align-channel", &v)) {
		o->align_channel = v;
	} else if (opt(a, "--gnuplot", &v)) {
		o->gnuplot = v;
	} else if (flag(a, "--no-plot")) {
		o->no_plot = 1;
	} else if (flag(a, "-q") || flag(a, "--quiet")) {
		*quiet = 1;
	} else if (a->argv[a->i][0] == '-' && a->argv[a->i][1]) {
		return unknown(a);
	} else if (!o->run_dir) {
		o->run_dir = a->argv[a->i];
	} else {
		fprintf(a->err, "joulevisor: compare: more than one run directory ('%s', '%s')\n",
			o->run_dir, a->argv[a->i]);
		a->bad = 1;
	}
	return 0;
}

int cli_compare_main(int argc, char **argv, FILE *out, FILE *err, const char *cmdline)
{
	static struct cal_compare_opts o;
	struct cal_align_opts al;
	const char *run_id = NULL;
	int quiet = 0;
	(void)cmdline;
	cal_compare_opts_init(&o);
	cal_align_opts_init(&al);
	struct args a = {.argc = argc, .argv = argv, .cmd = "compare", .err = err};
	for (a.i = 1; a.i < argc && !a.bad; a.i++) {
		if (flag(&a, "-h") || flag(&a, "--help")) {
			compare_usage(out);
			return 0;
		}
		compare_opt(&a, &o, &al, &run_id, &quiet);
	}
	if (a.bad)
		return 2;
	if (o.db || run_id) {
		int64_t id;
		char why[UNITS_WHY_MAX];
		if (!o.db || !run_id) {
			fprintf(err, "joulevisor: compare: --db and --run go together\n");
			return 2;
		}
		if (o.run_dir) {
			fprintf(err, "joulevisor: compare: give a run directory or --db/--run, not both\n");
			return 2;
		}
		if (units_parse_int64(run_id, &id, why) || id < 1) {
			fprintf(err, "joulevisor: compare: --run: expected a run id (1, 2, ...), got '%s'\n",
				run_id);
			return 2;
		}
		o.run_id = id;
	} else if (o.out_dir) {
		fprintf(err, "joulevisor: compare: -o is for --db mode; the outputs go into RUNDIR\n");
		return 2;
	}
	if (!o.run_dir && !o.db) {
		fprintf(err, "joulevisor: compare: no run directory given\n");
		compare_usage(err);
		return 2;
	}
	o.offset_s = al.offset_s;
	o.use_sync = o.meter.sync_expr != NULL;
	o.sync_threshold = al.sync_threshold;
	o.sync_at_s = al.sync_at_s;
	o.sync_edge = al.sync_edge;
	o.max_lag_s = al.max_lag_s;
	if (o.use_sync && al.offset_s != 0) {
		fprintf(err, "joulevisor: compare: --offset and --sync exclude each other (use --sync-at)\n");
		return 2;
	}
	struct cal_compare_result res;
	struct jv_diag d = {0};
	int rc = cal_compare(&o, &res, err, &d);
	if (rc) {
		fprintf(err, "joulevisor: %s\n", d.msg);
		return jv_exit_code(d.err ? d.err : rc);
	}
	if (!quiet) {
		cal_compare_print(&res, out);
		if (res.out_dir[0])
			fprintf(out, "outputs: %s (compare.csv compare_metrics.csv compare_summary.txt "
				     "compare.gp%s)\n",
				res.out_dir, res.plot == 1 ? " compare.svg" : "");
		if (o.db)
			fprintf(out, "database: %s run %lld (tables compare, compare_metrics)\n", o.db,
				(long long)o.run_id);
	}
	return 0;
}

/* ---- calib ------------------------------------------------------------------------------- */

static int split_counters(struct args *a, char *list, struct cal_pmc_cmd *c)
{
	for (char *save = NULL, *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (c->n_counters >= CAL_MAX_FEAT)
			return bad_value(a, "--counters", "too many counters");
		c->counters[c->n_counters++] = t;
	}
	return 0;
}

static int pmc_opt(struct args *a, struct cal_pmc_cmd *c)
{
	const char *v;
	if (meter_opt(a, &c->mo) || align_opt(a, &c->al))
		return 0;
	if (opt(a, "--pmc", &v)) {
		if (v && c->n_pmc >= CAL_MAX_RUNS)
			return bad_value(a, "--pmc", "too many logs");
		if (v)
			c->pmc[c->n_pmc++] = v;
	} else if (opt(a, "--meter", &v)) {
		if (v && c->n_meter >= CAL_MAX_RUNS)
			return bad_value(a, "--meter", "too many meter files");
		if (v)
			c->meter[c->n_meter++] = v;
	} else if (opt(a, "--format", &v)) {
		c->format = v;
	} else if (opt(a, "--target-event", &v)) {
		c->target_event = v;
	} else if (opt(a, "--align-event", &v)) {
		c->align_event = v;
	} else if (opt(a, "--counters", &v)) {
		if (v)
			split_counters(a, (char *)v, c);
	} else if (opt(a, "--window", &v)) {
		if (v && !get_time(a, "--window", v, &c->window_s) && !(c->window_s > 0))
			bad_value(a, "--window", "must be > 0");
	} else if (opt(a, "--kfold", &v)) {
		if (v)
			get_int(a, "--kfold", v, 1, 1000, &c->fit.kfold);
	} else if (opt(a, "--collinear-tol", &v)) {
		if (v && !get_double(a, "--collinear-tol", v, &c->fit.collinear_tol) &&
		    !(c->fit.collinear_tol > 0 && c->fit.collinear_tol < 1))
			bad_value(a, "--collinear-tol", "must be in (0, 1)");
	} else if (opt(a, "--tsc-freq", &v)) {
		if (v)
			get_freq(a, "--tsc-freq", v, &c->tsc_freq_hz);
	} else if (opt(a, "--tsc-counter", &v)) {
		c->tsc_counter = v;
	} else if (opt(a, "--rename", &v)) {
		char *eq = v ? strchr(v, '=') : NULL;
		if (v && (!eq || eq == v || !eq[1]))
			return bad_value(a, "--rename", "expected EVENT=NAME");
		if (v && c->n_rename >= CAL_MAX_RENAMES)
			return bad_value(a, "--rename", "too many");
		if (v) {
			*eq = '\0';
			c->rename_from[c->n_rename] = v;
			c->rename_to[c->n_rename++] = eq + 1;
		}
	} else if (opt(a, "--output", &v) || opt(a, "-o", &v)) {
		c->out_dir = v;
	} else if (flag(a, "--force") || flag(a, "-f")) {
		c->force = 1;
	} else if (flag(a, "-q") || flag(a, "--quiet")) {
		c->quiet = 1;
	} else {
		return unknown(a);
	}
	return 0;
}

static int disk_opt(struct args *a, struct cal_disk_cmd *c)
{
	const char *v;
	if (meter_opt(a, &c->mo) || align_opt(a, &c->al))
		return 0;
	if (opt(a, "--blk", &v)) {
		c->blk = v;
	} else if (opt(a, "--blk-format", &v)) {
		c->blk_format = v;
	} else if (opt(a, "--disk", &v)) {
		if (v)
			get_int(a, "--disk", v, 0, 1023, &c->disk);
	} else if (opt(a, "--meter", &v)) {
		c->meter = v;
	} else if (opt(a, "--window", &v)) {
		if (v && !get_time(a, "--window", v, &c->window_s) && !(c->window_s > 0))
			bad_value(a, "--window", "must be > 0");
	} else if (opt(a, "--output", &v) || opt(a, "-o", &v)) {
		c->out_dir = v;
	} else if (flag(a, "--force") || flag(a, "-f")) {
		c->force = 1;
	} else if (flag(a, "-q") || flag(a, "--quiet")) {
		c->quiet = 1;
	} else {
		return unknown(a);
	}
	return 0;
}

static int check_align(FILE *err, const char *cmd, const struct cal_meter_opts *mo,
		       const struct cal_align_opts *al, struct cal_align_opts *out)
{
	*out = *al;
	out->use_sync = mo->sync_expr != NULL;
	if (out->use_sync && al->offset_s != 0) {
		fprintf(err, "joulevisor: %s: --offset and --sync exclude each other (use --sync-at)\n",
			cmd);
		return 2;
	}
	return 0;
}

int cli_calib_main(int argc, char **argv, FILE *out, FILE *err, const char *cmdline)
{
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		calib_usage(argc < 2 ? err : out);
		return argc < 2 ? 2 : 0;
	}
	int is_pmc = !strcmp(argv[1], "pmc"), is_disk = !strcmp(argv[1], "disk");
	if (!is_pmc && !is_disk) {
		fprintf(err, "joulevisor: calib: unknown subcommand '%s' (pmc, disk)\n", argv[1]);
		return 2;
	}
	static struct cal_pmc_cmd pc;
	static struct cal_disk_cmd dc;
	memset(&pc, 0, sizeof pc);
	memset(&dc, 0, sizeof dc);
	cal_meter_opts_init(&pc.mo);
	cal_meter_opts_init(&dc.mo);
	cal_align_opts_init(&pc.al);
	cal_align_opts_init(&dc.al);
	dc.disk = -1;
	pc.command_line = dc.command_line = cmdline;
	struct args a = {.argc = argc, .argv = argv, .cmd = is_pmc ? "calib pmc" : "calib disk",
			 .err = err};
	for (a.i = 2; a.i < argc && !a.bad; a.i++) {
		if (flag(&a, "-h") || flag(&a, "--help")) {
			calib_usage(out);
			return 0;
		}
		if (is_pmc)
			pmc_opt(&a, &pc);
		else
			disk_opt(&a, &dc);
	}
	if (a.bad)
		return 2;
	const char *dir = is_pmc ? pc.out_dir : dc.out_dir;
	if (!dir) {
		fprintf(err, "joulevisor: %s: no output directory (-o DIR)\n", a.cmd);
		return 2;
	}
	struct cal_align_opts al;
	if (is_pmc) {
		if (check_align(err, a.cmd, &pc.mo, &pc.al, &al))
			return 2;
		pc.al = al;
		if (pc.target_event && (pc.mo.n_channels || pc.al.use_sync || pc.al.max_lag_s > 0)) {
			fprintf(err, "joulevisor: calib pmc: --target-event takes the power from the log "
				     "itself: no --channel, --sync or --max-lag\n");
			return 2;
		}
		return cal_pmc_cmd_run(&pc, out, err);
	}
	if (check_align(err, a.cmd, &dc.mo, &dc.al, &al))
		return 2;
	dc.al = al;
	return cal_disk_cmd_run(&dc, out, err);
}
