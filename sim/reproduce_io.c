/*
 * reproduce_io: read a run's outputs (summary, CSV tables, values of the
 * resolved scenario) and write figure CSVs (a temporary file renamed into
 * place).
 *
 * What is reproduced and checked: the top of sim/reproduce.c; the
 * other files of reproduce: sim/reproduce_int.h.
 */
#include "sim/reproduce_int.h"

/* ---- reading run outputs -------------------------------------------------- */

int repro_int_load_summary(struct repro *r, const char *run, struct run_out *ro, struct jv_diag *d)
{
	char p[REPRO_PATH_MAX];
	memset(ro, 0, sizeof *ro);
	if (repro_int_run_file(r, run, "summary.txt", p, sizeof p))
		return jv_diag_set(d, JV_ELIMIT, run, 0, "path too long");
	int rc = plot_tab_load_kv(p, &ro->sum, d);
	if (!rc)
		rc = plot_kv_num(&ro->sum, "duration_ns", &ro->dur_ns, d);
	if (!rc && ro->dur_ns <= 0)
		rc = jv_diag_set(d, JV_EPARSE, p, 0, "duration_ns: must be > 0");
	ro->dur_s = ro->dur_ns / NS_PER_S;
	return rc;
}

int repro_int_load_csv(struct repro *r, const char *run, const char *file, struct plot_tab *t,
		       struct jv_diag *d)
{
	char p[REPRO_PATH_MAX];
	memset(t, 0, sizeof *t);
	if (repro_int_run_file(r, run, file, p, sizeof p))
		return jv_diag_set(d, JV_ELIMIT, run, 0, "path too long");
	return plot_tab_load_csv(p, t, d);
}

/* Mean power (J / duration) of column COL ("idle_j", "active_j" or the sum
 * "idle_j+active_j") of the matrix-like row (consumer, device, via). */
int repro_int_mx_w(const struct plot_tab *t, const char *consumer, const char *device,
		   const char *via, const char *col, double dur_s, double *out, struct jv_diag *d)
{
	int cc, cd, cv, ci, ca;
	int rc = plot_tab_col(t, "consumer", &cc, d);
	if (!rc)
		rc = plot_tab_col(t, "device", &cd, d);
	if (!rc)
		rc = plot_tab_col(t, "via", &cv, d);
	if (!rc)
		rc = plot_tab_col(t, "idle_j", &ci, d);
	if (!rc)
		rc = plot_tab_col(t, "active_j", &ca, d);
	if (rc)
		return rc;
	for (size_t i = 0; i < t->n_rows; i++) {
		if (strcmp(plot_tab_cell(t, i, cc), consumer) || strcmp(plot_tab_cell(t, i, cd), device) ||
		    strcmp(plot_tab_cell(t, i, cv), via))
			continue;
		double idle = 0, active = 0;
		rc = plot_tab_num(t, i, ci, &idle, d);
		if (!rc)
			rc = plot_tab_num(t, i, ca, &active, d);
		if (rc)
			return rc;
		if (strcmp(col, "idle_j") == 0)
			*out = idle / dur_s;
		else if (strcmp(col, "active_j") == 0)
			*out = active / dur_s;
		else
			*out = (idle + active) / dur_s;
		return 0;
	}
	return jv_diag_set(d, JV_EPARSE, t->path, 0,
			   "no row consumer=%s, device=%s, via=%s", consumer, device, via);
}

/* `[section] key = value` of a run's scenario.resolved.ini */
static int ini_value(struct repro *r, const char *run, const char *section, const char *key,
		     char *out, size_t cap, struct jv_diag *d)
{
	char p[REPRO_PATH_MAX];
	if (repro_int_run_file(r, run, "scenario.resolved.ini", p, sizeof p))
		return jv_diag_set(d, JV_ELIMIT, run, 0, "path too long");
	FILE *f = fopen(p, "r");
	if (!f)
		return jv_diag_set(d, JV_ENOENT, p, 0, "cannot open: %s", strerror(errno));
	char line[1024], sec[1024] = "";
	int found = 0;
	while (!found && fgets(line, sizeof line, f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '[') {
			char *end = strchr(line, ']');
			if (end) {
				*end = '\0';
				snprintf(sec, sizeof sec, "%s", line + 1);
			}
			continue;
		}
		if (strcmp(sec, section) != 0)
			continue;
		char *eq = strstr(line, " = ");
		if (!eq)
			continue;
		*eq = '\0';
		if (strcmp(line, key) == 0) {
			snprintf(out, cap, "%s", eq + 3);
			found = 1;
		}
	}
	fclose(f);
	if (!found)
		return jv_diag_set(d, JV_EPARSE, p, 0, "missing [%s] %s", section, key);
	return 0;
}

int repro_int_ini_time_ns(struct repro *r, const char *run, const char *section, const char *key,
			  int64_t *out, struct jv_diag *d)
{
	char v[256], why[UNITS_WHY_MAX];
	int rc = ini_value(r, run, section, key, v, sizeof v, d);
	if (!rc && units_parse_time_ns(v, out, why))
		rc = jv_diag_set(d, JV_EPARSE, run, 0, "[%s] %s: %s", section, key, why);
	return rc;
}

int repro_int_ini_int(struct repro *r, const char *run, const char *section, const char *key,
		      int64_t *out, struct jv_diag *d)
{
	char v[256], why[UNITS_WHY_MAX];
	int rc = ini_value(r, run, section, key, v, sizeof v, d);
	if (!rc && units_parse_int64(v, out, why))
		rc = jv_diag_set(d, JV_EPARSE, run, 0, "[%s] %s: %s", section, key, why);
	return rc;
}

/* ---- writing figure CSVs (temporary file renamed into place) ------------- */

int repro_int_csv_open(struct repro *r, int fig, struct csv_out *c, struct jv_diag *d)
{
	char name[64];
	snprintf(name, sizeof name, "%s.csv", repro_int_fig_name[fig]);
	if (repro_int_path2(c->path, sizeof c->path, r->dir, name))
		return jv_diag_set(d, JV_ELIMIT, r->dir, 0, "path too long");
	int w = snprintf(c->tmp, sizeof c->tmp, "%s/.%s.tmp-%ld", r->dir, name, (long)getpid());
	if (w < 0 || (size_t)w >= sizeof c->tmp)
		return jv_diag_set(d, JV_ELIMIT, r->dir, 0, "path too long");
	c->f = fopen(c->tmp, "w");
	if (!c->f)
		return jv_diag_set(d, JV_EIO, c->tmp, 0, "cannot create: %s", strerror(errno));
	fprintf(c->f, "%s\n", repro_int_fig_header[fig]);
	return 0;
}

int repro_int_csv_close(struct csv_out *c, int ok, struct jv_diag *d)
{
	if (!c->f)
		return 0;
	int bad = ferror(c->f);
	bad |= fclose(c->f) != 0;
	c->f = NULL;
	if (!ok || bad) {
		unlink(c->tmp);
		return ok ? jv_diag_set(d, JV_EIO, c->path, 0, "write error") : 0;
	}
	if (rename(c->tmp, c->path) != 0) {
		int e = errno;
		unlink(c->tmp);
		return jv_diag_set(d, JV_EIO, c->path, 0, "cannot rename into place: %s", strerror(e));
	}
	return 0;
}

/* "%.10g" or empty for NAN (a value that does not apply) */
void repro_int_csv_num(FILE *f, double v, int last)
{
	if (!isnan(v))
		fprintf(f, "%.10g", v);
	fputc(last ? '\n' : ',', f);
}
