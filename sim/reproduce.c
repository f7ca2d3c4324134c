/*
 * reproduce: the paper's figures in one command.
 *
 * Problem: the first thing a researcher does with this tool is check that it
 * reproduces Stoess, Lang and Bellosa (USENIX ATC 2007). That takes eleven
 * runs of five scenarios, numbers pulled out of six kinds of output files
 * and compared with the paper's, and four figures.
 *
 * Strategy:
 *   1. Plan the runs of the chosen figures (bundled scenarios, found in
 *      JV_SOURCE_DIR/scenarios, then PREFIX/share/joulevisor/scenarios):
 *        fig5-matrix         fig5.ini
 *        fig7-512B..32KiB    fig7.ini with vm.client.block_size = 512 B x 2^k, k = 0..6
 *        fig8-limits         fig8.ini
 *        fig9-unaware/aware  fig9-unaware.ini, fig9-aware.ini
 *      --quick shortens them with overrides: Figure 7 runs of 3 s, Figure 8
 *      40 s with the limits from 15 s, Figure 9 10 s (Figure 5 is short).
 *   2. Run them into DIR/runs/<name>/ through run_main() (the `run`
 *      pipeline, quiet), each in its own forked worker process, at most
 *      `-j N` at a time; a worker's messages go to DIR/runs/<name>.log
 *      (removed when empty). Runs are independent and deterministic, so the
 *      order of completion changes nothing. A failed run fails the command,
 *      naming the run and quoting its log.
 *   3. Read the run outputs (plots/plot.h readers: every value asked for
 *      must be present), write DIR/figN.csv (columns in docs/FORMATS.md),
 *      and compare the paper's numbers with the tool's (the checks below).
 *   4. Render DIR/figN.png and .svg with plots/figN.gp; without gnuplot say
 *      so and go on.
 *   5. Write DIR/report.md: per figure, the figure and a table of paper
 *      value, tool value, difference and tolerance; print the checks out of
 *      tolerance on err and exit 1 when there is any.
 *
 * Checks (paper.md §3-§8; tolerances of issue 5 and the enforcement and guest
 * issues):
 *   Fig. 5   every cell of the driver's matrix (vdisk1: disk 3 + 2 W, CPU 4 + 4 W;
 *            vdisk2: disk 3 + 3 W, CPU 4 + 6 W) and the hypervisor's 6 + 12 W, +-0.3 W.
 *   Fig. 7   per block size: base CPU 36 +-0.5 W, driver idle CPU 8 +-0.5 W, disk idle
 *            3.5 +-0.2 W, disk active 2 +-0.3 W, client active CPU below the driver's;
 *            driver active CPU 7.5-10.5 W at 512 B and 0.5-1.5 W at 32 KiB, falling
 *            monotonically; the driver's CPU cost above the disk's at 512 B.
 *   Fig. 8   each client's driver active power held at its limit (1 W, 0.5 W) +-10%
 *            (mean over the second half of the limited period); throughput equal
 *            before the limits (0.9-1.1) and about 2:1 after (1.6-2.4, model-implied).
 *   Fig. 9   bzip2 alone over 50 W; unaware: VM held at 40 W +-5% (steady state),
 *            equal throughput +-10%; aware: 10 W and 30 W +-10%, VM at 40 W +-10%,
 *            throughput ratio 2.7-3.3, guest view above the truth by at most 2%.
 *   Periods  as configured: log read 20 ms, disk idle 50 ms, rate and driver
 *            prediction windows 50 requests (Fig. 7 runs), disk loop 200 ms
 *            (Fig. 8), CPU loop 100 ms and guest period 50 ms (Fig. 9).
 *
 * Limits: the VM names the checks use (client/drv, vdisk1/vdisk2,
 * client1/client2, guest) are those of the bundled scenarios; Figure 8 bins
 * the snapshot intervals (series.csv, throughput.csv) into seconds by their
 * end time, so the interval should divide 1 s (the scenario's is 100 ms).
 *
 * The files of reproduce and which does what: sim/reproduce_int.h.
 */
#include "sim/reproduce_int.h"

const char *const repro_int_fig_name[N_FIGS] = {"fig5", "fig7", "fig8", "fig9"};
const char *const repro_int_fig_title[N_FIGS] = {
	"Figure 5: recursive accounting, the driver's matrix (paper §3.3.3)",
	"Figure 7: disk accounting per block size (paper §4.1.1)",
	"Figure 8: disk power limits enforced by the host-level manager (paper §4.1.2)",
	"Figure 9: guest-level vs host-level CPU energy management (paper §4.2)",
};
const char *const repro_int_fig_header[N_FIGS] = {
	"view,consumer,device,idle_w,active_w",
	("block_size_b,base_cpu_w,client_cpu_active_w,driver_cpu_idle_w,driver_cpu_active_w,"
	 "disk_idle_w,disk_active_w,true_cpu_w,true_disk_w"),
	"t_s,vm,driver_active_w,limit_w,throughput_bytes_per_s",
	"guest,app,true_w,guest_view_w,host_view_w,throughput_rel",
};

/* ---- small helpers ---------------------------------------------------------- */

int repro_int_path2(char *buf, size_t cap, const char *a, const char *b)
{
	int w = snprintf(buf, cap, "%s/%s", a, b);
	return w > 0 && (size_t)w < cap ? 0 : JV_ELIMIT;
}

int repro_int_run_file(const struct repro *r, const char *run, const char *file, char *buf,
		       size_t cap)
{
	int w = snprintf(buf, cap, "%s/runs/%s/%s", r->dir, run, file);
	return w > 0 && (size_t)w < cap ? 0 : JV_ELIMIT;
}

static int mkdir_p(const char *dir, struct jv_diag *d)
{
	char p[REPRO_PATH_MAX];
	if (snprintf(p, sizeof p, "%s", dir) >= (int)sizeof p)
		return jv_diag_set(d, JV_ELIMIT, dir, 0, "path too long");
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0777) != 0 && errno != EEXIST)
			return jv_diag_set(d, JV_EIO, p, 0, "cannot create: %s", strerror(errno));
		*s = '/';
	}
	if (mkdir(p, 0777) != 0 && errno != EEXIST)
		return jv_diag_set(d, JV_EIO, p, 0, "cannot create: %s", strerror(errno));
	struct stat st;
	if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode))
		return jv_diag_set(d, JV_EINVAL, p, 0, "not a directory");
	return 0;
}

void repro_int_fmt_size(int64_t b, char *buf, size_t cap)
{
	if (b < 1024)
		snprintf(buf, cap, "%" PRId64 "B", b);
	else
		snprintf(buf, cap, "%" PRId64 "KiB", b / 1024);
}

/* A number for the report: 4 significant digits, "-" for NAN. */
const char *repro_int_fmt_num(double v, char *buf, size_t cap)
{
	if (isnan(v))
		snprintf(buf, cap, "-");
	else
		snprintf(buf, cap, "%.4g", v);
	return buf;
}

/* ---- main ------------------------------------------------------------------ */

static int find_scenarios(struct repro *r, struct jv_diag *d)
{
	if (r->o->scenario_dir) {
		snprintf(r->scn_dir, sizeof r->scn_dir, "%s", r->o->scenario_dir);
		return 0;
	}
	if (plot_data_dir("scenarios", "fig5.ini", r->scn_dir, sizeof r->scn_dir) == 0)
		return 0;
	return jv_diag_set(d, JV_ENOENT, NULL, 0,
			   "the bundled scenarios were found neither in %s/scenarios nor in "
			   "share/joulevisor/scenarios beside the executable (use --scenarios DIR)",
			   JV_SOURCE_DIR);
}

static int build_all(struct repro *r, unsigned figs, struct jv_diag *d)
{
	static int (*const BUILD[N_FIGS])(struct repro *, struct jv_diag *) = {
		repro_int_build_fig5, repro_int_build_fig7, repro_int_build_fig8, repro_int_build_fig9};
	for (int f = 0; f < N_FIGS; f++) {
		if (!(figs & (1u << f)))
			continue;
		int rc = BUILD[f](r, d);
		if (rc)
			return rc;
		fprintf(r->out, "%s/%s.csv\n", r->dir, repro_int_fig_name[f]);
	}
	return repro_int_periods(r, figs, d);
}

int repro_main(const struct repro_opts *o, FILE *out, FILE *err)
{
	struct repro *r = calloc(1, sizeof *r);
	struct jv_diag d;
	jv_diag_clear(&d);
	if (!r) {
		fprintf(err, "joulevisor: reproduce: out of memory\n");
		return 1;
	}
	unsigned figs = o->figs ? o->figs : REPRO_ALL;
	r->o = o;
	r->out = out;
	r->err = err;
	r->dir = o->out_dir ? o->out_dir : REPRO_DEFAULT_OUT;
	r->progress = o->progress < 0 ? isatty(fileno(err)) : o->progress;
	int jobs = o->jobs;
	if (jobs <= 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		jobs = n > 0 ? (int)n : 1;
	}
	int rc = find_scenarios(r, &d);
	if (!rc)
		rc = repro_int_plan(r, figs, &d);
	char runs[REPRO_PATH_MAX];
	if (!rc && repro_int_path2(runs, sizeof runs, r->dir, "runs"))
		rc = jv_diag_set(&d, JV_ELIMIT, r->dir, 0, "path too long");
	if (!rc)
		rc = mkdir_p(runs, &d);
	if (!rc && !o->no_run)
		rc = repro_int_run_all(r, jobs, &d);
	if (!rc)
		rc = build_all(r, figs, &d);
	struct plot_env env;
	plot_env_init(&env);
	if (!rc)
		rc = repro_int_render(r, figs, &env, &d);
	int n_bad = 0;
	for (int i = 0; i < r->n_chk; i++)
		n_bad += !r->chk[i].ok;
	if (!rc)
		rc = repro_int_write_report(r, figs, n_bad, &d);
	int code = 0;
	if (rc) {
		fprintf(err, "joulevisor: reproduce: %s\n", d.msg);
		code = rc == JV_EINVARIANT || rc == JV_EIO || rc == JV_ENOMEM ? 1 : jv_exit_code(rc);
		goto done;
	}
	if (env.why[0])
		fprintf(err, "joulevisor: reproduce: figures skipped: %s; the CSV files and the "
			     "report were written\n",
			env.why);
	fprintf(out, "%s/report.md: %d of %d checks within tolerance\n", r->dir, r->n_chk - n_bad,
		r->n_chk);
	for (int i = 0; i < r->n_chk; i++) {
		const struct repro_check *c = &r->chk[i];
		if (c->ok)
			continue;
		char b[64];
		fprintf(err, "joulevisor: reproduce: out of tolerance: %s: %s: %s%s%s (paper %s, tolerance %s)\n",
			repro_int_fig_name[c->fig], c->what,
			isnan(c->tool_v) ? c->tool_txt : repro_int_fmt_num(c->tool_v, b, sizeof b),
			isnan(c->tool_v) || !c->unit[0] ? "" : " ", isnan(c->tool_v) ? "" : c->unit,
			c->paper, c->tol);
	}
	code = n_bad ? 1 : 0;
done:
	free(r->chk);
	free(r);
	return code;
}

static void repro_usage(FILE *f)
{
	fputs("usage: joulevisor reproduce [fig5|fig7|fig8|fig9|all]... [-o DIR] [-j N] [--quick]\n"
	      "                            [--no-run] [--scenarios DIR]\n"
	      "\n"
	      "Run the bundled scenarios of the paper's figures (Stoess, Lang, Bellosa, USENIX\n"
	      "ATC 2007), write DIR/figN.csv, render DIR/figN.png and .svg with gnuplot and\n"
	      "write DIR/report.md: every number the paper states against the tool's.\n"
	      "\n"
	      "  fig5|fig7|fig8|fig9|all  figures to reproduce (default all)\n"
	      "  -o, --output DIR  output directory (default " REPRO_DEFAULT_OUT "); runs go to\n"
	      "                    DIR/runs/<figN>-<variant>/\n"
	      "  -j, --jobs N      runs in parallel (default: the number of CPUs)\n"
	      "  --quick           shorter runs, same checks (for tests)\n"
	      "  --no-run          rebuild figures and report from the runs in DIR/runs\n"
	      "  --scenarios DIR   take the scenarios from DIR instead of the bundled ones\n"
	      "\n"
	      "Exit: 0 every check within tolerance; 1 a run failed or a check is out of\n"
	      "tolerance (the failing rows are printed); 2 usage error. Without gnuplot the\n"
	      "CSV files and the report are still written and the figures skipped.\n",
	      f);
}

int repro_cli(int argc, char **argv, FILE *out, FILE *err)
{
	struct repro_opts o = {.progress = -1};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *val = NULL;
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			repro_usage(out);
			return 0;
		}
		if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0 || strcmp(a, "-j") == 0 ||
		    strcmp(a, "--jobs") == 0 || strcmp(a, "--scenarios") == 0) {
			if (i + 1 >= argc) {
				fprintf(err, "joulevisor: reproduce: option %s needs a value\n", a);
				return 2;
			}
			val = argv[++i];
		} else if (strncmp(a, "--output=", 9) == 0 || strncmp(a, "--jobs=", 7) == 0 ||
			   strncmp(a, "--scenarios=", 12) == 0) {
			val = strchr(a, '=') + 1;
		} else if (strncmp(a, "-j", 2) == 0 && a[2]) {
			val = a + 2;
		}
		if (val && (a[1] == 'o' || strncmp(a, "--output", 8) == 0)) {
			o.out_dir = val;
		} else if (val && (a[1] == 'j' || strncmp(a, "--jobs", 6) == 0)) {
			int64_t n = 0;
			if (units_parse_int64(val, &n, NULL) || n < 1 || n > 1024) {
				fprintf(err, "joulevisor: reproduce: %s: expected a number of jobs 1..1024, got '%s'\n",
					a, val);
				return 2;
			}
			o.jobs = (int)n;
		} else if (val) {
			o.scenario_dir = val;
		} else if (strcmp(a, "--quick") == 0) {
			o.quick = 1;
		} else if (strcmp(a, "--no-run") == 0) {
			o.no_run = 1;
		} else if (a[0] == '-' && a[1] != '\0') {
			fprintf(err, "joulevisor: reproduce: unknown option '%s' (see `joulevisor reproduce --help`)\n",
				a);
			return 2;
		} else if (strcmp(a, "all") == 0) {
			o.figs |= REPRO_ALL;
		} else if (strcmp(a, "fig5") == 0) {
			o.figs |= REPRO_FIG5;
		} else if (strcmp(a, "fig7") == 0) {
			o.figs |= REPRO_FIG7;
		} else if (strcmp(a, "fig8") == 0) {
			o.figs |= REPRO_FIG8;
		} else if (strcmp(a, "fig9") == 0) {
			o.figs |= REPRO_FIG9;
		} else {
			fprintf(err, "joulevisor: reproduce: unknown figure '%s' (fig5, fig7, fig8, fig9, all)\n",
				a);
			return 2;
		}
	}
	return repro_main(&o, out, err);
}
