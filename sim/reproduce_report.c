/*
 * reproduce_report: the checks against the paper (absolute, relative,
 * range, yes/no), the manager periods as configured, rendering the figures
 * and writing report.md.
 *
 * What is reproduced and checked: the top of sim/reproduce.c; the
 * other files of reproduce: sim/reproduce_int.h.
 */
#include "sim/reproduce_int.h"

/* ---- checks -------------------------------------------------------------- */

static struct repro_check *chk_new(struct repro *r, int fig, const char *what, struct jv_diag *d)
{
	if (r->n_chk == r->cap_chk) {
		int nc = r->cap_chk ? 2 * r->cap_chk : 64;
		struct repro_check *c = realloc(r->chk, (size_t)nc * sizeof *c);
		if (!c) {
			jv_diag_set(d, JV_ENOMEM, NULL, 0, "out of memory");
			return NULL;
		}
		r->chk = c;
		r->cap_chk = nc;
	}
	struct repro_check *c = &r->chk[r->n_chk++];
	memset(c, 0, sizeof *c);
	c->fig = fig;
	c->paper_v = NAN;
	c->tool_v = NAN;
	snprintf(c->what, sizeof c->what, "%s", what);
	return c;
}

/* tool within [lo, hi]; paper_v NAN when the paper states no number */
int repro_int_chk_range(struct repro *r, int fig, const char *what, double paper_v,
			const char *paper_txt, double tool, const char *unit, double lo, double hi,
			const char *tol, struct jv_diag *d)
{
	struct repro_check *c = chk_new(r, fig, what, d);
	if (!c)
		return JV_ENOMEM;
	c->paper_v = paper_v;
	c->tool_v = tool;
	snprintf(c->paper, sizeof c->paper, "%s", paper_txt);
	snprintf(c->unit, sizeof c->unit, "%s", unit);
	snprintf(c->tol, sizeof c->tol, "%s", tol);
	c->ok = isfinite(tool) && tool >= lo && tool <= hi;
	return 0;
}

/* paper value +- abs tolerance */
int repro_int_chk_abs(struct repro *r, int fig, const char *what, double paper_v, double tool,
		      const char *unit, double tol_abs, struct jv_diag *d)
{
	char p[64], t[64];
	snprintf(p, sizeof p, "%g %s", paper_v, unit);
	snprintf(t, sizeof t, "±%g %s", tol_abs, unit);
	return repro_int_chk_range(r, fig, what, paper_v, p, tool, unit, paper_v - tol_abs, paper_v + tol_abs,
				   t, d);
}

/* paper value +- relative tolerance */
int repro_int_chk_rel(struct repro *r, int fig, const char *what, double paper_v, double tool,
		      const char *unit, double tol_rel, struct jv_diag *d)
{
	char p[64], t[64];
	snprintf(p, sizeof p, "%g %s", paper_v, unit);
	snprintf(t, sizeof t, "±%g%%", 100.0 * tol_rel);
	double lo = paper_v * (1.0 - tol_rel), hi = paper_v * (1.0 + tol_rel);
	return repro_int_chk_range(r, fig, what, paper_v, p, tool, unit, lo, hi, t, d);
}

int repro_int_chk_bool(struct repro *r, int fig, const char *what, const char *paper_txt, int ok,
		       const char *tool_txt, struct jv_diag *d)
{
	struct repro_check *c = chk_new(r, fig, what, d);
	if (!c)
		return JV_ENOMEM;
	snprintf(c->paper, sizeof c->paper, "%s", paper_txt);
	snprintf(c->tool_txt, sizeof c->tool_txt, "%s", tool_txt);
	snprintf(c->tol, sizeof c->tol, "holds");
	c->ok = ok;
	return 0;
}

/* ---- the manager periods as configured ------------------------------------ */

static int chk_period(struct repro *r, int fig, const char *run, const char *section,
		      const char *key, double paper_ms, const char *what, struct jv_diag *d)
{
	int64_t ns = 0;
	int rc = repro_int_ini_time_ns(r, run, section, key, &ns, d);
	char p[64];
	snprintf(p, sizeof p, "%g ms", paper_ms);
	if (!rc)
		rc = repro_int_chk_range(r, fig, what, paper_ms, p, (double)ns / 1e6, "ms", paper_ms, paper_ms,
					 "as configured", d);
	return rc;
}

static int chk_window(struct repro *r, int fig, const char *run, const char *section,
		      const char *key, double paper_n, const char *what, struct jv_diag *d)
{
	int64_t n = 0;
	int rc = repro_int_ini_int(r, run, section, key, &n, d);
	char p[64];
	snprintf(p, sizeof p, "%g requests", paper_n);
	if (!rc)
		rc = repro_int_chk_range(r, fig, what, paper_n, p, (double)n, "requests", paper_n, paper_n,
					 "as configured", d);
	return rc;
}

int repro_int_periods(struct repro *r, unsigned figs, struct jv_diag *d)
{
	int rc = 0;
	const char *r7 = "fig7-4KiB";
	if (figs & REPRO_FIG7) {
		rc = chk_period(r, FIG7, r7, "cpu", "read_period", 20,
				"energy manager reads the PMC log every (§3.3.1, §4)", d);
		if (!rc)
			rc = chk_period(r, FIG7, r7, "disk", "idle_period", 50,
					"disk idle energy charged every (§3.3.2)", d);
		if (!rc)
			rc = chk_window(r, FIG7, r7, "disk", "rate_window", 50,
					"disk transfer rate recomputed every (§3.2.2)", d);
		if (!rc)
			rc = chk_window(r, FIG7, r7, "vm " FIG7_DRIVER, "predict_window", 50,
					"driver's CPU cost per request re-estimated every (§3.3.3)", d);
	}
	if (!rc && (figs & REPRO_FIG8))
		rc = chk_period(r, FIG8, "fig8-limits", "manager", "disk_period", 200,
				"host manager's disk loop period (§3.3.6)", d);
	if (!rc && (figs & REPRO_FIG9))
		rc = chk_period(r, FIG9, "fig9-aware", "manager", "cpu_period", 100,
				"host manager's CPU loop period (§3.3.6)", d);
	if (!rc && (figs & REPRO_FIG9))
		rc = chk_period(r, FIG9, "fig9-aware", "vm " FIG9_VM, "guest_period", 50,
				"guest's container budget period (§3.4)", d);
	return rc;
}

/* ---- figures and report --------------------------------------------------- */

int repro_int_render(struct repro *r, unsigned figs, const struct plot_env *env, struct jv_diag *d)
{
	for (int f = 0; f < N_FIGS; f++) {
		if (!(figs & (1u << f)))
			continue;
		if (env->why[0]) {
			snprintf(r->fig_note[f], sizeof r->fig_note[f], "figure skipped: %.400s", env->why);
			continue;
		}
		char tmpl[32], csv[64], in[REPRO_PATH_MAX], base[REPRO_PATH_MAX], vars[256] = "";
		snprintf(tmpl, sizeof tmpl, "%s.gp", repro_int_fig_name[f]);
		snprintf(csv, sizeof csv, "%s.csv", repro_int_fig_name[f]);
		if (repro_int_path2(in, sizeof in, r->dir, csv) || repro_int_path2(base, sizeof base, r->dir, repro_int_fig_name[f]))
			return jv_diag_set(d, JV_ELIMIT, r->dir, 0, "path too long");
		if (f == FIG8)
			snprintf(vars, sizeof vars, "vms='client1 client2'");
		int rc = plot_render(env, tmpl, in, vars, base, d);
		if (rc)
			return rc;
		fprintf(r->out, "%s.png %s.svg\n", base, base);
		r->figs_done++;
	}
	return 0;
}

static void md_escape_pipe(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			fputc('\\', f);
		fputc(*s, f);
	}
}

static void write_check_row(FILE *f, const struct repro_check *c)
{
	char tool[160], diff[64], b[64];
	if (!isnan(c->tool_v))
		snprintf(tool, sizeof tool, "%s%s%s", repro_int_fmt_num(c->tool_v, b, sizeof b),
			 c->unit[0] ? " " : "", c->unit);
	else if (c->tool_txt[0])
		snprintf(tool, sizeof tool, "%s", c->tool_txt);
	else
		snprintf(tool, sizeof tool, "missing");
	if (!isnan(c->paper_v) && !isnan(c->tool_v))
		snprintf(diff, sizeof diff, "%+.3g%s%s", c->tool_v - c->paper_v, c->unit[0] ? " " : "",
			 c->unit);
	else
		snprintf(diff, sizeof diff, "-");
	fputs("| ", f);
	md_escape_pipe(f, c->what);
	fputs(" | ", f);
	md_escape_pipe(f, c->paper);
	fprintf(f, " | %s | %s | %s | %s |\n", tool, diff, c->tol, c->ok ? "yes" : "**NO**");
}

int repro_int_write_report(struct repro *r, unsigned figs, int n_bad, struct jv_diag *d)
{
	char path[REPRO_PATH_MAX], tmp[REPRO_PATH_MAX];
	if (repro_int_path2(path, sizeof path, r->dir, "report.md"))
		return jv_diag_set(d, JV_ELIMIT, r->dir, 0, "path too long");
	snprintf(tmp, sizeof tmp, "%s/.report.md.tmp-%ld", r->dir, (long)getpid());
	FILE *f = fopen(tmp, "w");
	if (!f)
		return jv_diag_set(d, JV_EIO, tmp, 0, "cannot create: %s", strerror(errno));
	fprintf(f,
		"# joulevisor reproduces Stoess, Lang, Bellosa (USENIX ATC 2007)\n\n"
		"joulevisor %s, `joulevisor reproduce%s%s%s%s%s`%s.\n\n"
		"**%d of %d checks within tolerance.** Each row: the paper's number (paper.md "
		"§3-§8), the tool's, the difference (tool − paper) and the tolerance asserted. Where "
		"the paper states no number the row says what the paper says or what its model "
		"implies. The runs are in `runs/`, the figures' data in `figN.csv` (columns in "
		"docs/FORMATS.md).\n",
		JV_VERSION, (figs & REPRO_FIG5) && figs != REPRO_ALL ? " fig5" : "",
		(figs & REPRO_FIG7) && figs != REPRO_ALL ? " fig7" : "",
		(figs & REPRO_FIG8) && figs != REPRO_ALL ? " fig8" : "",
		(figs & REPRO_FIG9) && figs != REPRO_ALL ? " fig9" : "", figs == REPRO_ALL ? " all" : "",
		r->o->quick ? " with `--quick` (shortened runs, same checks)" : " (full durations)",
		r->n_chk - n_bad, r->n_chk);
	for (int fig = 0; fig < N_FIGS; fig++) {
		if (!(figs & (1u << fig)))
			continue;
		fprintf(f, "\n## %s\n\n", repro_int_fig_title[fig]);
		if (r->fig_note[fig][0])
			fprintf(f, "(%s)\n\n", r->fig_note[fig]);
		else
			fprintf(f, "![%s](%s.png)\n\n", repro_int_fig_title[fig], repro_int_fig_name[fig]);
		if (r->setup[fig][0])
			fprintf(f, "%s Data: [%s.csv](%s.csv).\n\n", r->setup[fig], repro_int_fig_name[fig],
				repro_int_fig_name[fig]);
		fputs("| quantity | paper | joulevisor | difference | tolerance | within |\n"
		      "|---|---|---|---|---|---|\n",
		      f);
		for (int i = 0; i < r->n_chk; i++)
			if (r->chk[i].fig == fig)
				write_check_row(f, &r->chk[i]);
	}
	int bad = ferror(f);
	bad |= fclose(f) != 0;
	if (bad || rename(tmp, path) != 0) {
		unlink(tmp);
		return jv_diag_set(d, JV_EIO, path, 0, "cannot write: %s", strerror(errno));
	}
	return 0;
}
