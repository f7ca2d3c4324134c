/*
 * compare: model power against a power meter (compare.h).
 *
 * Problem: the paper validated its accounting with an external DAQ. A user
 * has a run directory (or a run in the SQLite store) and a meter log with
 * its own clock, rate and units, and wants to know how far the model is
 * from the measurement, over the run, per phase and per window, with a
 * figure that shows where.
 *
 * Strategy:
 *  1. Model: power.csv rows `t_ns,device,power_w`, each the mean over
 *     [t, t + resolution) (resolution = the median row spacing of the
 *     device); a channel's model series is the sum of its devices.
 *  2. Meter: calib/daq.c (channels as expressions, sample i held until
 *     sample i+1).
 *  3. Alignment (align.c): offset = meter time of the model's t = 0;
 *     manual (--offset), or the sync pulse's edge minus the model time it
 *     marks (--sync-at), then optionally refined by the correlation lag
 *     search within --max-lag of that offset, on one channel.
 *  4. Windows of --window (default 100 ms) from the model's start; a
 *     window counts for a channel when model and meter cover at least
 *     CAL_MIN_COVERAGE of it. Metrics (metrics.c) per channel over the run,
 *     per phase (--phase, or from the scenario: segments between VM
 *     start/stop times and limit_from, named by the VMs with a workload
 *     running) and per window.
 *  5. Outputs beside the run, each written to a temporary name in the
 *     same directory and renamed; with --db, the tables `compare` and
 *     `compare_metrics` and `compare_*` metrics of that run (db.c).
 *     compare.gp is always written; gnuplot renders compare.svg (overlay
 *     on top, residual model - measured below); without gnuplot the figure
 *     is skipped with a plain message.
 *
 * Parameters: window 100 ms; sync threshold 4 (V); sync edge 1; sync-at
 * 0 s; max-lag 0 (no search).
 * Limits: CMP_MAX_DEVICES model devices, CAL_MAX_CHANNELS channels,
 * CAL_MAX_PHASES phases; a meter slower than 350 Hz is reported (it misses
 * CPU transients, which the paper's 1 kHz DAQ caught).
 */
#include "calib/compare.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/units.h"
#include "calib/align.h"
#include "calib/compare_db.h"
#include "calib/series.h"

#define CMP_MAX_DEVICES 128
#define CMP_DEV_NAME_MAX 32
#define CMP_LINE_MAX_B 4096
#define CMP_DEFAULT_RES_S 1e-3
#define CMP_PATH_MAX 1024
#define CMP_SYNC_THRESHOLD 4.0
#define CMP_INIT_CAP 1024
#define NS_PER_S 1e9

void cal_compare_opts_init(struct cal_compare_opts *o)
{
	memset(o, 0, sizeof *o);
	cal_meter_opts_init(&o->meter);
	o->sync_threshold = CMP_SYNC_THRESHOLD;
	o->sync_edge = 1;
	o->window_s = CAL_DEFAULT_WINDOW_S;
}

static int parse_time_s(const char *s, double *out, char *why)
{
	int64_t ns;
	int rc = units_parse_time_ns(s, &ns, why);
	if (!rc)
		*out = (double)ns / NS_PER_S;
	return rc;
}

int cal_phase_parse(const char *text, struct cal_phase *ph, struct jv_diag *d)
{
	const char *eq = strchr(text, '='), *colon = eq ? strchr(eq, ':') : NULL;
	if (!eq || eq == text || !colon)
		return jv_diag_set(d, JV_EUSAGE, NULL, 0,
				   "--phase expects NAME=START:END (e.g. load=2s:8s), got '%.80s'", text);
	size_t n = (size_t)(eq - text);
	if (n >= CAL_NAME_MAX)
		return jv_diag_set(d, JV_ELIMIT, NULL, 0, "--phase: name too long");
	memcpy(ph->name, text, n);
	ph->name[n] = '\0';
	if (strchr(ph->name, ',') || strchr(ph->name, '"'))
		return jv_diag_set(d, JV_EUSAGE, NULL, 0, "--phase: name must not hold ',' or '\"'");
	char a[64], b[64], why[UNITS_WHY_MAX];
	snprintf(a, sizeof a, "%.*s", (int)(colon - eq - 1), eq + 1);
	snprintf(b, sizeof b, "%s", colon + 1);
	int rc = parse_time_s(a, &ph->start_s, why);
	if (!rc)
		rc = parse_time_s(b, &ph->end_s, why);
	if (rc)
		return jv_diag_set(d, rc, NULL, 0, "--phase %s: %s", ph->name, why);
	if (!(ph->end_s > ph->start_s))
		return jv_diag_set(d, JV_ERANGE, NULL, 0, "--phase %s: end must be after start",
				   ph->name);
	return 0;
}

int cal_map_parse(const char *text, struct cal_model_map *m, struct jv_diag *d)
{
	const char *eq = strchr(text, '=');
	if (!eq || eq == text || !eq[1])
		return jv_diag_set(d, JV_EUSAGE, NULL, 0,
				   "--model expects CHANNEL=DEVICE[+DEVICE...], got '%.80s'", text);
	size_t n = (size_t)(eq - text);
	if (n >= CAL_NAME_MAX || strlen(eq + 1) >= CAL_MAP_MAX)
		return jv_diag_set(d, JV_ELIMIT, NULL, 0, "--model: too long");
	memcpy(m->channel, text, n);
	m->channel[n] = '\0';
	snprintf(m->devices, CAL_MAP_MAX, "%s", eq + 1);
	return 0;
}

/* ---- model power ------------------------------------------------------------------ */

struct devdata {
	double *t, *w;
	size_t n, cap;
};

struct model {
	int nd;
	char dev[CMP_MAX_DEVICES][CMP_DEV_NAME_MAX];
	struct devdata dd[CMP_MAX_DEVICES];
	struct cal_series s[CMP_MAX_DEVICES];
	char *scenario_text;
	const char *src;
	long line;
	struct jv_diag *d;
};

static void model_free(struct model *m)
{
	for (int i = 0; i < m->nd; i++) {
		free(m->dd[i].t);
		free(m->dd[i].w);
		cal_series_free(&m->s[i]);
	}
	free(m->scenario_text);
}

static int model_row(void *ctx, int64_t t_ns, const char *dev, double w)
{
	struct model *m = ctx;
	int i = 0;
	while (i < m->nd && strcmp(m->dev[i], dev))
		i++;
	if (i == m->nd) {
		if (m->nd >= CMP_MAX_DEVICES)
			return jv_diag_set(m->d, JV_ELIMIT, m->src, m->line, "more than %d devices",
					   CMP_MAX_DEVICES);
		if (!*dev || strlen(dev) >= CMP_DEV_NAME_MAX)
			return jv_diag_set(m->d, JV_EPARSE, m->src, m->line, "device: bad name '%.40s'",
					   dev);
		snprintf(m->dev[i], CMP_DEV_NAME_MAX, "%s", dev);
		m->nd++;
	}
	struct devdata *dd = &m->dd[i];
	if (!isfinite(w))
		return jv_diag_set(m->d, JV_EPARSE, m->src, m->line, "power_w: not a finite number");
	if (dd->n && (double)t_ns / NS_PER_S <= dd->t[dd->n - 1])
		return jv_diag_set(m->d, JV_EORDER, m->src, m->line,
				   "t_ns: time does not increase for %s", dev);
	if (dd->n == dd->cap) {
		size_t cap = dd->cap ? 2 * dd->cap : CMP_INIT_CAP;
		double *t = realloc(dd->t, cap * sizeof *t);
		if (t)
			dd->t = t;
		double *ww = t ? realloc(dd->w, cap * sizeof *ww) : NULL;
		if (!t || !ww)
			return jv_diag_set(m->d, JV_ENOMEM, m->src, 0, "out of memory");
		dd->w = ww;
		dd->cap = cap;
	}
	dd->t[dd->n] = (double)t_ns / NS_PER_S;
	dd->w[dd->n++] = w;
	return 0;
}

static int parse_power_line(struct model *m, char *p)
{
	char *c1 = strchr(p, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
	if (!c1 || !c2 || strchr(c2 + 1, ','))
		return jv_diag_set(m->d, JV_EPARSE, m->src, m->line,
				   "expected 3 fields t_ns,device,power_w");
	*c1 = *c2 = '\0';
	char *end;
	errno = 0;
	long long t = strtoll(p, &end, 10);
	if (*end || end == p || errno || t < 0)
		return jv_diag_set(m->d, JV_EPARSE, m->src, m->line, "t_ns: not a time '%.40s'", p);
	double w = strtod(c2 + 1, &end);
	if (*end || end == c2 + 1)
		return jv_diag_set(m->d, JV_EPARSE, m->src, m->line, "power_w: not a number '%.40s'",
				   c2 + 1);
	return model_row(m, (int64_t)t, c1 + 1, w);
}

static int read_file_text(const char *path, char **out)
{
	*out = NULL;
	FILE *f = fopen(path, "rb");
	if (!f)
		return JV_ENOENT;
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	int rc = 0;
	while (buf) {
		if (n + 1 == cap) {
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		size_t got = fread(buf + n, 1, cap - 1 - n, f);
		n += got;
		if (got == 0)
			break;
	}
	if (!buf)
		rc = JV_ENOMEM;
	else if (ferror(f))
		rc = JV_EIO;
	fclose(f);
	if (rc) {
		free(buf);
		return rc;
	}
	buf[n] = '\0';
	*out = buf;
	return 0;
}

static int load_power_csv(struct model *m, const char *dir)
{
	static char path[CMP_PATH_MAX];
	snprintf(path, sizeof path, "%s/power.csv", dir);
	m->src = path;
	FILE *f = fopen(path, "rb");
	if (!f)
		return jv_diag_set(m->d, JV_ENOENT, path, 0, "cannot open: %s (is %s a run directory?)",
				   strerror(errno), dir);
	char *buf = NULL;
	size_t cap = 0;
	ssize_t len;
	int rc = 0;
	while (!rc && (len = getline(&buf, &cap, f)) >= 0) {
		m->line++;
		buf[strcspn(buf, "\r\n")] = '\0';
		char *p = buf;
		if (m->line == 1) {
			if (!strncmp(p, "\xEF\xBB\xBF", 3))
				p += 3;
			if (strcmp(p, "t_ns,device,power_w"))
				rc = jv_diag_set(m->d, JV_EPARSE, path, 1,
						 "expected the header 't_ns,device,power_w', found '%.60s'", p);
			continue;
		}
		if (!*p)
			continue;
		rc = parse_power_line(m, p);
	}
	if (!rc && ferror(f))
		rc = jv_diag_set(m->d, JV_EIO, path, 0, "read error");
	free(buf);
	fclose(f);
	if (!rc && m->nd == 0)
		rc = jv_diag_set(m->d, JV_EEMPTY, path, 0, "no power rows");
	if (!rc) {
		char sp[CMP_PATH_MAX];
		snprintf(sp, sizeof sp, "%s/scenario.resolved.ini", dir);
		if (read_file_text(sp, &m->scenario_text) == JV_ENOMEM)
			rc = jv_diag_set(m->d, JV_ENOMEM, sp, 0, "out of memory");
	}
	return rc;
}

static int build_device_series(struct model *m)
{
	for (int i = 0; i < m->nd; i++) {
		struct devdata *dd = &m->dd[i];
		cal_series_init(&m->s[i]);
		struct cal_series tmp;
		cal_series_init(&tmp);
		double res = CMP_DEFAULT_RES_S;
		if (dd->n >= 2 && !cal_series_from_samples(&tmp, dd->t, dd->w, dd->n, 0.0))
			res = cal_series_median_step(&tmp);
		cal_series_free(&tmp);
		for (size_t k = 0; k < dd->n; k++) {
			double t1 = dd->t[k] + res;
			if (k + 1 < dd->n && dd->t[k + 1] < t1)
				t1 = dd->t[k + 1];
			if (cal_series_add(&m->s[i], dd->t[k], t1, dd->w[k]))
				return jv_diag_set(m->d, JV_ENOMEM, m->src, 0, "out of memory");
		}
	}
	return 0;
}

/* ---- channels to devices ------------------------------------------------------------ */

static int is_group_member(const char *dev, const char *group)
{
	size_t n = strlen(group);
	if (strncmp(dev, group, n) || !dev[n])
		return 0;
	for (const char *p = dev + n; *p; p++)
		if (*p < '0' || *p > '9')
			return 0;
	return 1;
}

static void device_list(const struct model *m, char *buf, size_t cap)
{
	size_t n = 0;
	buf[0] = '\0';
	for (int i = 0; i < m->nd && n + 1 < cap; i++) {
		int w = snprintf(buf + n, cap - n, "%s%s", i ? ", " : "", m->dev[i]);
		if (w > 0)
			n += (size_t)w;
	}
}

/* Mark the devices of one token; 0 if none matched. */
static int mark_token(const struct model *m, const char *tok, unsigned char *use)
{
	int hit = 0;
	int all = !strcmp(tok, "total") || !strcmp(tok, "all");
	for (int i = 0; i < m->nd; i++)
		if (all || !strcmp(m->dev[i], tok) || is_group_member(m->dev[i], tok)) {
			use[i] = 1;
			hit = 1;
		}
	return hit;
}

static int channel_series(const struct cal_compare_opts *o, struct model *m, const char *ch,
			  char *devices, struct cal_series *out, struct jv_diag *d)
{
	const char *spec = ch;
	for (int k = 0; k < o->n_maps; k++)
		if (!strcmp(o->map[k].channel, ch))
			spec = o->map[k].devices;
	unsigned char use[CMP_MAX_DEVICES] = {0};
	char buf[CAL_MAP_MAX], list[512];
	snprintf(buf, sizeof buf, "%s", spec);
	for (char *save = NULL, *tok = strtok_r(buf, "+", &save); tok; tok = strtok_r(NULL, "+", &save))
		if (!mark_token(m, tok, use)) {
			device_list(m, list, sizeof list);
			return jv_diag_set(d, JV_EUNKNOWN, NULL, 0,
					   "channel '%s': no model device '%s' (devices: %s; groups cpu, disk, "
					   "total; map with --model %s=DEV+DEV)", ch, tok, list, ch);
		}
	cal_series_init(out);
	size_t n = 0;
	devices[0] = '\0';
	for (int i = 0; i < m->nd; i++) {
		if (!use[i])
			continue;
		if (n + 1 < CAL_MAP_MAX) {
			int w = snprintf(devices + n, CAL_MAP_MAX - n, "%s%s", n ? "+" : "", m->dev[i]);
			if (w > 0)
				n += (size_t)w;
		}
		struct cal_series sum;
		int rc;
		if (!out->n) {
			cal_series_init(&sum);
			rc = 0;
			for (size_t k = 0; !rc && k < m->s[i].n; k++)
				rc = cal_series_add(&sum, m->s[i].t0_s[k], m->s[i].t1_s[k], m->s[i].v[k]);
		} else {
			rc = cal_series_sum(out, &m->s[i], &sum);
		}
		if (rc)
			cal_series_free(&sum);
		cal_series_free(out);
		if (rc)
			return jv_diag_set(d, JV_ENOMEM, NULL, 0, "out of memory");
		*out = sum;
	}
	return 0;
}

/* ---- phases from the scenario --------------------------------------------------------- */

struct scn_vm_span {
	char name[CAL_NAME_MAX];
	double start, stop, limit_from;
	int workload, limited;
};

static char *strip(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

static void scn_kv(struct scn_vm_span *vm, double *duration, int in_global, const char *k,
		   const char *v)
{
	double t;
	char why[UNITS_WHY_MAX];
	if (in_global && !strcmp(k, "duration") && !parse_time_s(v, &t, why))
		*duration = t;
	if (!vm)
		return;
	if (!strcmp(k, "workload"))
		vm->workload = strcmp(v, "none") != 0;
	else if (!strcmp(k, "start") && !parse_time_s(v, &t, why))
		vm->start = t;
	else if (!strcmp(k, "stop") && !parse_time_s(v, &t, why))
		vm->stop = t;
	else if (!strcmp(k, "limit_from") && !parse_time_s(v, &t, why))
		vm->limit_from = t;
	else if ((!strcmp(k, "cpu_limit") || !strcmp(k, "disk_limit")) && strcmp(v, "0W") &&
		 strcmp(v, "0"))
		vm->limited = 1;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void phase_name(const struct scn_vm_span *vm, int nvm, double a, char *name)
{
	size_t n = 0;
	int limited = 0;
	name[0] = '\0';
	for (int i = 0; i < nvm; i++) {
		if (vm[i].limited && a >= vm[i].limit_from)
			limited = 1;
		if (!vm[i].workload || a < vm[i].start || a >= vm[i].stop)
			continue;
		if (n + strlen(vm[i].name) + 2 < CAL_NAME_MAX)
			n += (size_t)snprintf(name + n, CAL_NAME_MAX - n, "%s%s", n ? "+" : "",
					      vm[i].name);
	}
	if (!n)
		n = (size_t)snprintf(name, CAL_NAME_MAX, "idle");
	if (limited && n + 9 < CAL_NAME_MAX)
		snprintf(name + n, CAL_NAME_MAX - n, ",limited");
}

/* Phases: segments between VM start/stop and limit_from times. */
static int scenario_phases(const char *text, struct cal_phase *ph, int cap)
{
	static struct scn_vm_span vm[64];
	int nvm = 0, in_global = 0;
	double duration = 0;
	char *copy = strdup(text), *save = NULL;
	if (!copy)
		return 0;
	struct scn_vm_span *cur = NULL;
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *p = strip(line);
		if (*p == ';' || *p == '#' || !*p)
			continue;
		if (*p == '[') {
			cur = NULL;
			in_global = !strncmp(p, "[global]", 8);
			if (!strncmp(p, "[vm ", 4) && nvm < 64) {
				cur = &vm[nvm++];
				memset(cur, 0, sizeof *cur);
				cur->stop = -1;
				snprintf(cur->name, CAL_NAME_MAX, "%.*s", (int)strcspn(p + 4, "]"), p + 4);
			}
			continue;
		}
		char *eq = strchr(p, '=');
		if (!eq)
			continue;
		*eq = '\0';
		scn_kv(cur, &duration, in_global, strip(p), strip(eq + 1));
	}
	free(copy);
	if (!(duration > 0))
		return 0;
	double b[3 * 64 + 2];
	int nb = 0;
	b[nb++] = 0;
	b[nb++] = duration;
	for (int i = 0; i < nvm; i++) {
		if (vm[i].stop <= 0 || vm[i].stop > duration)
			vm[i].stop = duration;
		if (vm[i].workload) {
			b[nb++] = vm[i].start;
			b[nb++] = vm[i].stop;
		}
		if (vm[i].limited && vm[i].limit_from > 0)
			b[nb++] = vm[i].limit_from;
	}
	qsort(b, (size_t)nb, sizeof *b, cmp_double);
	int n = 0;
	for (int i = 0; i + 1 < nb && n < cap; i++) {
		if (!(b[i + 1] > b[i]) || b[i] >= duration)
			continue;
		char name[CAL_NAME_MAX];
		phase_name(vm, nvm, b[i], name);
		if (n && !strcmp(ph[n - 1].name, name) && ph[n - 1].end_s == b[i]) {
			ph[n - 1].end_s = b[i + 1];
			continue;
		}
		snprintf(ph[n].name, CAL_NAME_MAX, "%s", name);
		ph[n].start_s = b[i];
		ph[n].end_s = b[i + 1];
		n++;
	}
	return n > 1 ? n : 0;
}

/* ---- comparison proper ---------------------------------------------------------------- */

struct cmp_row {
	int64_t t_ns;
	int ch;
	double model_w, measured_w;
};

struct met_row {
	int ch;
	const char *scope;
	char name[CAL_NAME_MAX];
	int64_t start_ns, end_ns;
	struct cal_metrics m;
};

struct cmp {
	const struct cal_compare_opts *o;
	struct cal_compare_result *res;
	struct model model;
	struct cal_meter *meter;
	struct cal_series ms[CAL_MAX_CHANNELS], ss[CAL_MAX_CHANNELS];
	struct cal_phase phase[CAL_MAX_PHASES];
	int n_phases;
	struct cmp_row *rows;
	size_t nrows, rcap;
	struct met_row *mets;
	size_t nmets, mcap;
	FILE *msg;
	struct jv_diag *d;
};

static void note(struct cmp *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void note(struct cmp *c, const char *fmt, ...)
{
	if (!c->msg)
		return;
	va_list ap;
	va_start(ap, fmt);
	fputs("joulevisor: compare: ", c->msg);
	vfprintf(c->msg, fmt, ap);
	fputc('\n', c->msg);
	va_end(ap);
}

static int align(struct cmp *c)
{
	const struct cal_compare_opts *o = c->o;
	struct cal_compare_result *r = c->res;
	r->offset_s = o->offset_s;
	snprintf(r->method, sizeof r->method, "manual");
	if (o->use_sync) {
		double te;
		int rc = cal_align_sync(c->meter, o->sync_threshold, o->sync_edge, &te, NULL, c->d);
		if (rc)
			return rc;
		r->sync_edge_s = te;
		r->offset_s = te - o->sync_at_s;
		snprintf(r->method, sizeof r->method, "sync");
	}
	if (o->max_lag_s > 0) {
		int ch = 0;
		if (o->align_channel && (ch = cal_meter_channel(c->meter, o->align_channel)) < 0)
			return jv_diag_set(c->d, JV_EUNKNOWN, NULL, 0,
					   "--align-channel: no channel '%s'", o->align_channel);
		struct cal_xcorr x;
		int rc = cal_align_xcorr(&c->ms[ch], &c->ss[ch], r->offset_s, o->max_lag_s,
					 c->meter->period_s, &x, c->d);
		if (rc)
			return rc;
		r->offset_s = x.offset_s;
		r->xcorr_r = x.r;
		r->xcorr_at_edge = x.at_edge;
		if (o->use_sync)
			snprintf(r->method, sizeof r->method, "sync+xcorr");
		else if (o->offset_s != 0)
			snprintf(r->method, sizeof r->method, "manual+xcorr");
		else
			snprintf(r->method, sizeof r->method, "xcorr");
		if (x.at_edge)
			note(c, "warning: the best lag is at the edge of --max-lag %g s; widen it",
			     o->max_lag_s);
	}
	return 0;
}

static int push_row(struct cmp *c, int64_t t, int ch, double mw, double xw)
{
	if (c->nrows == c->rcap) {
		size_t cap = c->rcap ? 2 * c->rcap : CMP_INIT_CAP;
		struct cmp_row *n = realloc(c->rows, cap * sizeof *n);
		if (!n)
			return JV_ENOMEM;
		c->rows = n;
		c->rcap = cap;
	}
	c->rows[c->nrows++] = (struct cmp_row){t, ch, mw, xw};
	return 0;
}

static struct met_row *push_met(struct cmp *c)
{
	if (c->nmets == c->mcap) {
		size_t cap = c->mcap ? 2 * c->mcap : CMP_INIT_CAP;
		struct met_row *n = realloc(c->mets, cap * sizeof *n);
		if (!n)
			return NULL;
		c->mets = n;
		c->mcap = cap;
	}
	struct met_row *m = &c->mets[c->nmets++];
	memset(m, 0, sizeof *m);
	return m;
}

static int64_t to_ns(double s)
{
	return (int64_t)llround(s * NS_PER_S);
}

/* Metrics of channel ch over the rows [from, to) whose windows lie in [a, b). */
static int add_scope(struct cmp *c, int ch, size_t from, size_t to, const char *scope,
		     const char *name, double a, double b, struct cal_metrics *out)
{
	double w = c->res->window_s, eps = 1e-9;
	size_t n = 0;
	for (size_t i = from; i < to; i++) {
		double t = (double)c->rows[i].t_ns / NS_PER_S;
		n += t >= a - eps && t + w <= b + eps;
	}
	double *p = malloc((n ? n : 1) * sizeof *p), *x = malloc((n ? n : 1) * sizeof *x);
	double *dt = malloc((n ? n : 1) * sizeof *dt);
	if (!p || !x || !dt) {
		free(p);
		free(x);
		free(dt);
		return JV_ENOMEM;
	}
	size_t k = 0;
	for (size_t i = from; i < to; i++) {
		double t = (double)c->rows[i].t_ns / NS_PER_S;
		if (t >= a - eps && t + w <= b + eps) {
			p[k] = c->rows[i].model_w;
			x[k] = c->rows[i].measured_w;
			dt[k++] = w;
		}
	}
	struct met_row *m = push_met(c);
	if (m) {
		m->ch = ch;
		m->scope = scope;
		snprintf(m->name, CAL_NAME_MAX, "%s", name);
		m->start_ns = to_ns(a);
		m->end_ns = to_ns(b);
		cal_metrics_compute(p, x, dt, n, &m->m);
		if (out)
			*out = m->m;
	}
	free(p);
	free(x);
	free(dt);
	return m ? 0 : JV_ENOMEM;
}

static int compare_channel(struct cmp *c, int ch, double start, size_t nw)
{
	double w = c->res->window_s;
	double *mm = malloc((nw ? nw : 1) * sizeof *mm), *mc = malloc((nw ? nw : 1) * sizeof *mc);
	double *xm = malloc((nw ? nw : 1) * sizeof *xm), *xc = malloc((nw ? nw : 1) * sizeof *xc);
	int rc = 0;
	if (!mm || !mc || !xm || !xc) {
		rc = JV_ENOMEM;
		goto done;
	}
	cal_series_resample(&c->ms[ch], 0.0, start, w, nw, mm, mc);
	cal_series_resample(&c->ss[ch], c->res->offset_s, start, w, nw, xm, xc);
	size_t from = c->nrows;
	struct cal_compare_channel *cc = &c->res->ch[ch];
	for (size_t k = 0; k < nw && !rc; k++) {
		if (mc[k] < CAL_MIN_COVERAGE || xc[k] < CAL_MIN_COVERAGE) {
			cc->skipped++;
			continue;
		}
		rc = push_row(c, to_ns(start + (double)k * w), ch, mm[k], xm[k]);
		cc->windows++;
	}
	size_t to = c->nrows;
	if (!rc)
		rc = add_scope(c, ch, from, to, "run", "run", start, start + (double)nw * w, &cc->run);
	for (int p = 0; p < c->n_phases && !rc; p++)
		rc = add_scope(c, ch, from, to, "phase", c->phase[p].name, c->phase[p].start_s,
			       c->phase[p].end_s, NULL);
	for (size_t i = from; i < to && !rc; i++) {
		double a = (double)c->rows[i].t_ns / NS_PER_S;
		char name[32];
		snprintf(name, sizeof name, "%zu", i - from);
		rc = add_scope(c, ch, i, i + 1, "window", name, a, a + w, NULL);
	}
done:
	free(mm);
	free(mc);
	free(xm);
	free(xc);
	return rc;
}

static int run_windows(struct cmp *c)
{
	double start = INFINITY, end = -INFINITY;
	for (int ch = 0; ch < c->res->n_ch; ch++) {
		if (!c->ms[ch].n)
			continue;
		start = fmin(start, cal_series_start(&c->ms[ch]));
		end = fmax(end, cal_series_end(&c->ms[ch]));
	}
	if (!(end > start))
		return jv_diag_set(c->d, JV_EEMPTY, c->model.src, 0, "the model power series is empty");
	c->res->model_start_s = start;
	c->res->model_end_s = end;
	size_t nw = (size_t)floor((end - start) / c->res->window_s + 1e-9);
	if (nw == 0)
		return jv_diag_set(c->d, JV_EINVAL, NULL, 0,
				   "--window %g s is longer than the run (%g s)", c->res->window_s,
				   end - start);
	for (int ch = 0; ch < c->res->n_ch; ch++) {
		int rc = compare_channel(c, ch, start, nw);
		if (rc)
			return jv_diag_set(c->d, rc, NULL, 0, "out of memory");
		if (c->res->ch[ch].windows == 0)
			return jv_diag_set(c->d, JV_EEMPTY, c->o->daq, 0,
					   "channel '%s': model and meter never overlap (offset %g s; model "
					   "%g..%g s, meter %g..%g s on its own clock)",
					   c->res->ch[ch].name, c->res->offset_s, start, end,
					   c->meter->t_s[0], c->meter->t_s[c->meter->n - 1]);
	}
	return 0;
}

/* ---- outputs ------------------------------------------------------------------------- */

struct tmpfile {
	char tmp[CMP_PATH_MAX], final[CMP_PATH_MAX];
	FILE *f;
};

static int tmp_open(struct tmpfile *t, const char *dir, const char *name, struct jv_diag *d)
{
	static unsigned seq;
	snprintf(t->final, sizeof t->final, "%s/%s", dir, name);
	snprintf(t->tmp, sizeof t->tmp, "%s/.%s.tmp-%ld-%u", dir, name, (long)getpid(), seq++);
	t->f = fopen(t->tmp, "wx");
	if (!t->f)
		return jv_diag_set(d, JV_EIO, t->final, 0, "cannot write: %s", strerror(errno));
	return 0;
}

static int tmp_commit(struct tmpfile *t, struct jv_diag *d)
{
	int bad = ferror(t->f);
	if (fclose(t->f) || bad) {
		remove(t->tmp);
		return jv_diag_set(d, JV_EIO, t->final, 0, "write error: %s", strerror(errno));
	}
	if (rename(t->tmp, t->final)) {
		int e = errno;
		remove(t->tmp);
		return jv_diag_set(d, JV_EIO, t->final, 0, "cannot rename into place: %s", strerror(e));
	}
	return 0;
}

static void put_opt(FILE *f, int ok, double v)
{
	if (ok)
		fprintf(f, ",%.10g", v);
	else
		fputs(",", f);
}

static int write_compare_csv(struct cmp *c, const char *dir)
{
	struct tmpfile t;
	int rc = tmp_open(&t, dir, "compare.csv", c->d);
	if (rc)
		return rc;
	fputs("t_ns,channel,model_w,measured_w\n", t.f);
	for (size_t i = 0; i < c->nrows; i++)
		fprintf(t.f, "%lld,%s,%.10g,%.10g\n", (long long)c->rows[i].t_ns,
			c->res->ch[c->rows[i].ch].name, c->rows[i].model_w, c->rows[i].measured_w);
	return tmp_commit(&t, c->d);
}

static int write_metrics_csv(struct cmp *c, const char *dir)
{
	struct tmpfile t;
	int rc = tmp_open(&t, dir, "compare_metrics.csv", c->d);
	if (rc)
		return rc;
	fputs("channel,scope,name,start_ns,end_ns,windows,model_j,measured_j,mae_w,rmse_w,"
	      "mape_pct,energy_error_pct,correlation\n",
	      t.f);
	for (size_t i = 0; i < c->nmets; i++) {
		const struct met_row *m = &c->mets[i];
		int have = m->m.n > 0;
		fprintf(t.f, "%s,%s,%s,%lld,%lld,%zu", c->res->ch[m->ch].name, m->scope, m->name,
			(long long)m->start_ns, (long long)m->end_ns, m->m.n);
		put_opt(t.f, have, m->m.predicted_j);
		put_opt(t.f, have, m->m.measured_j);
		put_opt(t.f, have, m->m.mae_w);
		put_opt(t.f, have, m->m.rmse_w);
		put_opt(t.f, m->m.mape_ok, m->m.mape_pct);
		put_opt(t.f, m->m.energy_ok, m->m.energy_error_pct);
		put_opt(t.f, m->m.corr_ok, m->m.corr);
		fputc('\n', t.f);
	}
	return tmp_commit(&t, c->d);
}

static void print_metric(FILE *f, const char *ch, const char *key, int ok, double v)
{
	if (ok)
		fprintf(f, "%s_%s: %.6g\n", ch, key, v);
	else
		fprintf(f, "%s_%s: n/a\n", ch, key);
}

void cal_compare_print(const struct cal_compare_result *r, FILE *f)
{
	fprintf(f, "# joulevisor compare summary\n");
	fprintf(f, "meter_samples: %zu\n", r->samples);
	fprintf(f, "meter_rate_hz: %.6g\n", r->rate_hz);
	if (r->transient_warning)
		fprintf(f, "warning: meter rate below %.0f Hz: transients shorter than a few samples are missed\n",
			CAL_TRANSIENT_MIN_HZ);
	fprintf(f, "alignment: %s\n", r->method);
	fprintf(f, "offset_s: %.9g\n", r->offset_s);
	if (strstr(r->method, "sync"))
		fprintf(f, "sync_edge_s: %.9g\n", r->sync_edge_s);
	if (strstr(r->method, "xcorr"))
		fprintf(f, "xcorr_r: %.6f%s\n", r->xcorr_r,
			r->xcorr_at_edge ? " (at the edge of --max-lag)" : "");
	fprintf(f, "window_s: %.9g\n", r->window_s);
	fprintf(f, "model_span_s: %.9g .. %.9g\n", r->model_start_s, r->model_end_s);
	fprintf(f, "phases: %d\n", r->n_phases);
	for (int i = 0; i < r->n_ch; i++) {
		const struct cal_compare_channel *c = &r->ch[i];
		fprintf(f, "channel %s: model devices %s\n", c->name, c->devices);
		fprintf(f, "%s_windows: %zu (%zu skipped: not covered by both)\n", c->name, c->windows,
			c->skipped);
		fprintf(f, "%s_model_j: %.6g\n", c->name, c->run.predicted_j);
		fprintf(f, "%s_measured_j: %.6g\n", c->name, c->run.measured_j);
		print_metric(f, c->name, "mae_w", 1, c->run.mae_w);
		print_metric(f, c->name, "rmse_w", 1, c->run.rmse_w);
		print_metric(f, c->name, "mape_pct", c->run.mape_ok, c->run.mape_pct);
		print_metric(f, c->name, "energy_error_pct", c->run.energy_ok, c->run.energy_error_pct);
		print_metric(f, c->name, "correlation", c->run.corr_ok, c->run.corr);
	}
}

static int write_summary(struct cmp *c, const char *dir)
{
	struct tmpfile t;
	int rc = tmp_open(&t, dir, "compare_summary.txt", c->d);
	if (rc)
		return rc;
	fprintf(t.f, "meter: %s\n", c->o->daq);
	cal_compare_print(c->res, t.f);
	return tmp_commit(&t, c->d);
}

static int write_gnuplot_script(struct cmp *c, const char *dir, const char *svg_tmp)
{
	struct tmpfile t;
	int rc = tmp_open(&t, dir, "compare.gp", c->d);
	if (rc)
		return rc;
	FILE *f = t.f;
	fprintf(f, "# joulevisor compare: model vs measured power; run `gnuplot compare.gp` here\n"
		   "set datafile separator ','\n"
		   "set terminal svg size 1000,720 dynamic\n"
		   "set output '%s'\n"
		   "set multiplot layout 2,1 title 'model vs measured power (alignment %s, offset %.6g s)'\n"
		   "set grid\nset key outside right\n"
		   "set ylabel 'power (W)'\n"
		   "plot ",
		svg_tmp, c->res->method, c->res->offset_s);
	for (int ch = 0; ch < c->res->n_ch; ch++) {
		const char *n = c->res->ch[ch].name;
		fprintf(f, "%s'compare.csv' every ::1 using ($1/1e9):(strcol(2) eq '%s' ? $3 : NaN) "
			   "with steps title '%s model', "
			   "'compare.csv' every ::1 using ($1/1e9):(strcol(2) eq '%s' ? $4 : NaN) "
			   "with steps title '%s measured'",
			ch ? ", " : "", n, n, n, n);
	}
	fprintf(f, "\nset xlabel 'time (s)'\nset ylabel 'model - measured (W)'\nplot ");
	for (int ch = 0; ch < c->res->n_ch; ch++) {
		const char *n = c->res->ch[ch].name;
		fprintf(f, "%s'compare.csv' every ::1 using ($1/1e9):(strcol(2) eq '%s' ? $3-$4 : NaN) "
			   "with steps title '%s residual'",
			ch ? ", " : "", n, n);
	}
	fprintf(f, "\nunset multiplot\n");
	return tmp_commit(&t, c->d);
}

static int find_in_path(const char *prog)
{
	if (strchr(prog, '/'))
		return access(prog, X_OK) == 0;
	const char *path = getenv("PATH");
	if (!path)
		return 0;
	char buf[CMP_PATH_MAX];
	for (const char *p = path; *p;) {
		size_t n = strcspn(p, ":");
		snprintf(buf, sizeof buf, "%.*s/%s", (int)n, n ? p : ".", prog);
		if (access(buf, X_OK) == 0)
			return 1;
		p += n;
		if (*p == ':')
			p++;
	}
	return 0;
}

/* Run gnuplot in dir on compare.gp; 0 on success. */
static int run_gnuplot(const char *prog, const char *dir)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		if (chdir(dir) == 0)
			execlp(prog, prog, "compare.gp", (char *)NULL);
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static int write_figure(struct cmp *c, const char *dir)
{
	char svg_tmp[128], tmp_path[CMP_PATH_MAX], final[CMP_PATH_MAX];
	snprintf(svg_tmp, sizeof svg_tmp, ".compare.svg.tmp-%ld", (long)getpid());
	int rc = write_gnuplot_script(c, dir, svg_tmp);
	if (rc)
		return rc;
	const char *prog = c->o->gnuplot ? c->o->gnuplot : "gnuplot";
	if (c->o->no_plot) {
		c->res->plot = 0;
		return 0;
	}
	if (!find_in_path(prog)) {
		c->res->plot = 0;
		note(c, "gnuplot not found: figure skipped (compare.gp is in %s; install gnuplot and "
			"run `gnuplot compare.gp` there)", dir);
		return 0;
	}
	snprintf(tmp_path, sizeof tmp_path, "%s/%s", dir, svg_tmp);
	snprintf(final, sizeof final, "%s/compare.svg", dir);
	if (run_gnuplot(prog, dir) || rename(tmp_path, final)) {
		remove(tmp_path);
		c->res->plot = -1;
		note(c, "gnuplot failed: figure skipped (compare.gp is in %s)", dir);
		return 0;
	}
	c->res->plot = 1;
	return 0;
}

/* ---- SQLite ---------------------------------------------------------------------------- */

static const char *const CMP_COLS[] = {"t_ns", "channel", "model_w", "measured_w"};
static const char *const MET_COLS[] = {"channel", "scope", "name", "start_ns", "end_ns",
				       "windows", "model_j", "measured_j", "mae_w", "rmse_w",
				       "mape_pct", "energy_error_pct", "correlation"};

static void cmp_db_row(void *ctx, size_t r, struct cal_db_val *v)
{
	struct cmp *c = ctx;
	const struct cmp_row *x = &c->rows[r];
	v[0] = (struct cal_db_val){.type = 'i', .i = x->t_ns};
	v[1] = (struct cal_db_val){.type = 's', .s = c->res->ch[x->ch].name};
	v[2] = (struct cal_db_val){.type = 'd', .d = x->model_w};
	v[3] = (struct cal_db_val){.type = 'd', .d = x->measured_w};
}

static struct cal_db_val opt_val(int ok, double x)
{
	return ok ? (struct cal_db_val){.type = 'd', .d = x} : (struct cal_db_val){.type = 'n'};
}

static void met_db_row(void *ctx, size_t r, struct cal_db_val *v)
{
	struct cmp *c = ctx;
	const struct met_row *m = &c->mets[r];
	int have = m->m.n > 0;
	v[0] = (struct cal_db_val){.type = 's', .s = c->res->ch[m->ch].name};
	v[1] = (struct cal_db_val){.type = 's', .s = m->scope};
	v[2] = (struct cal_db_val){.type = 's', .s = m->name};
	v[3] = (struct cal_db_val){.type = 'i', .i = m->start_ns};
	v[4] = (struct cal_db_val){.type = 'i', .i = m->end_ns};
	v[5] = (struct cal_db_val){.type = 'i', .i = (int64_t)m->m.n};
	v[6] = opt_val(have, m->m.predicted_j);
	v[7] = opt_val(have, m->m.measured_j);
	v[8] = opt_val(have, m->m.mae_w);
	v[9] = opt_val(have, m->m.rmse_w);
	v[10] = opt_val(m->m.mape_ok, m->m.mape_pct);
	v[11] = opt_val(m->m.energy_ok, m->m.energy_error_pct);
	v[12] = opt_val(m->m.corr_ok, m->m.corr);
}

static int write_db(struct cmp *c)
{
	struct cal_db_table t[2] = {
		{"compare", 4, CMP_COLS, "isdd", c->nrows, cmp_db_row, c},
		{"compare_metrics", 13, MET_COLS, "sssiiiddddddd", c->nmets, met_db_row, c},
	};
	struct cal_db_metric m[CAL_MAX_CHANNELS * 6 + 2];
	size_t n = 0;
	m[n++] = (struct cal_db_metric){"compare_offset_s", c->res->offset_s, "s"};
	m[n++] = (struct cal_db_metric){"compare_meter_rate_hz", c->res->rate_hz, "Hz"};
	for (int ch = 0; ch < c->res->n_ch; ch++) {
		const struct cal_compare_channel *cc = &c->res->ch[ch];
		struct {
			const char *key, *unit;
			int ok;
			double v;
		} kv[] = {
			{"mae_w", "W", 1, cc->run.mae_w},
			{"rmse_w", "W", 1, cc->run.rmse_w},
			{"mape_pct", "%", cc->run.mape_ok, cc->run.mape_pct},
			{"energy_error_pct", "%", cc->run.energy_ok, cc->run.energy_error_pct},
			{"correlation", NULL, cc->run.corr_ok, cc->run.corr},
			{"measured_j", "J", 1, cc->run.measured_j},
		};
		for (size_t k = 0; k < sizeof kv / sizeof *kv; k++)
			if (kv[k].ok) {
				snprintf(m[n].name, sizeof m[n].name, "compare_%s_%s", cc->name, kv[k].key);
				m[n].value = kv[k].v;
				m[n++].unit = kv[k].unit;
			}
	}
	return cal_db_write_compare(c->o->db, c->o->run_id, t, 2, m, n, c->d);
}

/* ---- driver ------------------------------------------------------------------------------ */

static int load_model(struct cmp *c)
{
	const struct cal_compare_opts *o = c->o;
	c->model.d = c->d;
	int rc;
	if (o->db) {
		c->model.src = o->db;
		rc = cal_db_read_power(o->db, o->run_id, model_row, &c->model, &c->model.scenario_text,
				       c->d);
		if (!rc && c->model.nd == 0)
			rc = jv_diag_set(c->d, JV_EEMPTY, o->db, 0,
					 "run %lld has no power rows (was it written with --db?)",
					 (long long)o->run_id);
	} else {
		rc = load_power_csv(&c->model, o->run_dir);
	}
	return rc ? rc : build_device_series(&c->model);
}

static int setup_channels(struct cmp *c)
{
	struct cal_meter *m = c->meter;
	c->res->n_ch = m->n_ch;
	for (int ch = 0; ch < m->n_ch; ch++) {
		struct cal_compare_channel *cc = &c->res->ch[ch];
		snprintf(cc->name, CAL_NAME_MAX, "%s", m->ch_name[ch]);
		int rc = channel_series(c->o, &c->model, cc->name, cc->devices, &c->ms[ch], c->d);
		if (rc)
			return rc;
		if (cal_meter_series(m, ch, &c->ss[ch]))
			return jv_diag_set(c->d, JV_ENOMEM, NULL, 0, "out of memory");
	}
	for (int k = 0; k < c->o->n_maps; k++)
		if (cal_meter_channel(m, c->o->map[k].channel) < 0)
			return jv_diag_set(c->d, JV_EUNKNOWN, NULL, 0,
					   "--model %s: no --channel of that name", c->o->map[k].channel);
	return 0;
}

static int write_outputs(struct cmp *c)
{
	const struct cal_compare_opts *o = c->o;
	const char *dir = o->db ? o->out_dir : o->run_dir;
	int rc = 0;
	if (dir) {
		struct stat st;
		if (o->db && stat(dir, &st) != 0 && mkdir(dir, 0777) != 0)
			return jv_diag_set(c->d, JV_EIO, dir, 0, "cannot create directory: %s",
					   strerror(errno));
		snprintf(c->res->out_dir, sizeof c->res->out_dir, "%s", dir);
		if (!(rc = write_compare_csv(c, dir)) && !(rc = write_metrics_csv(c, dir)) &&
		    !(rc = write_summary(c, dir)))
			rc = write_figure(c, dir);
	}
	if (!rc && o->db)
		rc = write_db(c);
	return rc;
}

static int check_opts(const struct cal_compare_opts *o, struct jv_diag *d)
{
	if (!o->daq)
		return jv_diag_set(d, JV_EUSAGE, NULL, 0, "no meter file (--daq FILE)");
	if (!o->run_dir && !o->db)
		return jv_diag_set(d, JV_EUSAGE, NULL, 0, "no run directory (or --db DB --run ID)");
	if (!(o->window_s > 0) || !isfinite(o->window_s))
		return jv_diag_set(d, JV_EUSAGE, NULL, 0, "--window must be > 0");
	if (o->meter.n_channels < 1)
		return jv_diag_set(d, JV_EUSAGE, NULL, 0, "no channel (--channel NAME=EXPRESSION)");
	if (o->use_sync && !o->meter.sync_expr)
		return jv_diag_set(d, JV_EUSAGE, NULL, 0, "sync alignment needs --sync EXPRESSION");
	if (o->max_lag_s < 0 || !isfinite(o->max_lag_s))
		return jv_diag_set(d, JV_EUSAGE, NULL, 0, "--max-lag must be >= 0");
	return 0;
}

int cal_compare(const struct cal_compare_opts *o, struct cal_compare_result *res, FILE *msg,
		struct jv_diag *d)
{
	memset(res, 0, sizeof *res);
	int rc = check_opts(o, d);
	if (rc)
		return rc;
	static struct cmp c; /* large: keep it off the stack */
	memset(&c, 0, sizeof c);
	c.o = o;
	c.res = res;
	c.msg = msg;
	c.d = d;
	res->window_s = o->window_s;
	if ((rc = load_model(&c)) || (rc = cal_meter_load(o->daq, &o->meter, &c.meter, d)))
		goto done;
	res->rate_hz = c.meter->rate_hz;
	res->samples = c.meter->n;
	if (res->rate_hz < CAL_TRANSIENT_MIN_HZ) {
		res->transient_warning = 1;
		note(&c, "warning: %s samples at %.4g Hz (< %.0f Hz): transients shorter than a few "
			 "samples are missed; compare energies over windows of several seconds",
		     o->daq, res->rate_hz, CAL_TRANSIENT_MIN_HZ);
	}
	if (o->n_phases) {
		c.n_phases = o->n_phases;
		memcpy(c.phase, o->phase, (size_t)o->n_phases * sizeof *o->phase);
	} else if (c.model.scenario_text) {
		c.n_phases = scenario_phases(c.model.scenario_text, c.phase, CAL_MAX_PHASES);
	}
	res->n_phases = c.n_phases;
	if ((rc = setup_channels(&c)) || (rc = align(&c)) || (rc = run_windows(&c)))
		goto done;
	rc = write_outputs(&c);
done:
	for (int ch = 0; ch < CAL_MAX_CHANNELS; ch++) {
		cal_series_free(&c.ms[ch]);
		cal_series_free(&c.ss[ch]);
	}
	cal_meter_free(c.meter);
	model_free(&c.model);
	free(c.rows);
	free(c.mets);
	memset(&c, 0, sizeof c);
	return rc;
}
