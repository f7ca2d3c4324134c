/*
 * pmcdata: interval counter logs for calibration (pmcdata.h).
 *
 * Problem: a calibration needs, per interval, every counter's delta and the
 * measured energy, as real numbers: perf prints RAPL energy in joules with
 * six decimals and uncore traffic in MiB. The trace readers of traces/
 * yield integer records for the simulator; this reader keeps the values.
 *
 * perf stat -x, -I: one row per event (and per CPU with -A, per cgroup
 * with -G) per interval: `time,[CPUn,]value,unit,event,[cgroup,]run_ns,
 * pct[,metric_value,metric_unit]`. Rows with the same time form one
 * interval, ending at that time; the first interval starts at 0 (perf
 * counts from its start). Values of one event in one interval are summed
 * over CPUs/cgroups. `<not counted>`/`<not supported>` marks the interval
 * bad (kept, counted, excluded by the fit). The first interval fixes the
 * event list; an interval lacking an event or an unknown event later is an
 * error naming the line. Times must increase.
 *
 * Native pmc-interval: records of all VMs with the same t_ns are summed;
 * an interval ends at t_ns and starts at the previous t_ns (the first one
 * a median interval earlier, at least 0). Counter names "EVENT (nJ)",
 * "EVENT (ns)", "EVENT (B)", "EVENT (uX)" (how `trace import --from
 * perf-stat` stores perf's units in integers) are turned back into EVENT
 * in J (an energy event), s, B and X.
 *
 * Limits: CAL_MAX_EVENTS events, lines up to 64 KiB; memory O(intervals x
 * events).
 */
#include "calib/pmcdata.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "traces/trc.h"

#define PMC_INIT_CAP 1024
#define PMC_LINE_MAX_B 65536
#define PMC_MAX_FIELDS 12
#define MIB_B 1048576.0
#define MS_S 1e-3

static int grow(struct cal_pmc_run *r, size_t *cap)
{
	size_t nc = *cap ? 2 * *cap : PMC_INIT_CAP;
	double *a = realloc(r->t0_s, nc * sizeof *a);
	if (!a)
		return JV_ENOMEM;
	r->t0_s = a;
	double *b = realloc(r->t1_s, nc * sizeof *b);
	if (!b)
		return JV_ENOMEM;
	r->t1_s = b;
	unsigned char *c = realloc(r->bad, nc);
	if (!c)
		return JV_ENOMEM;
	r->bad = c;
	for (int e = 0; e < CAL_MAX_EVENTS; e++) {
		if (!r->val[e] && e >= r->n_ev)
			continue;
		double *v = realloc(r->val[e], nc * sizeof *v);
		if (!v)
			return JV_ENOMEM;
		r->val[e] = v;
	}
	*cap = nc;
	return 0;
}

/* Start interval n (ending at t1): zero values. */
static int open_interval(struct cal_pmc_run *r, size_t *cap, double t1)
{
	if (r->n == *cap && grow(r, cap))
		return JV_ENOMEM;
	r->t0_s[r->n] = r->n ? r->t1_s[r->n - 1] : 0.0;
	r->t1_s[r->n] = t1;
	r->bad[r->n] = 0;
	for (int e = 0; e < r->n_ev; e++)
		r->val[e][r->n] = 0.0;
	r->n++;
	return 0;
}

static void base_name(const char *path, char *out, size_t cap)
{
	const char *b = strrchr(path, '/');
	b = b ? b + 1 : path;
	snprintf(out, cap, "%s", b);
	char *dot = strrchr(out, '.');
	if (dot && dot != out)
		*dot = '\0';
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

static int is_number(const char *s, double *v)
{
	if (!*s)
		return 0;
	char *end;
	const char *p = s;
	if (*p == '+' || *p == '-')
		p++;
	if (!((*p >= '0' && *p <= '9') || *p == '.'))
		return 0;
	errno = 0;
	*v = strtod(s, &end);
	return !*end && isfinite(*v);
}

struct perf_ctx {
	struct cal_pmc_run *r;
	struct jv_diag *d;
	const char *path;
	long line;
	size_t cap;
	double cur_t;
	int seen[CAL_MAX_EVENTS];  /* rows of each event in the current interval */
	int first_done;            /* first interval complete: event list fixed */
	int groups_max;
};

static int perr(struct perf_ctx *c, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int perr(struct perf_ctx *c, int err, const char *fmt, ...)
{
	char msg[JV_DIAG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return jv_diag_set(c->d, err, c->path, c->line, "%s", msg);
}

static void norm_unit(const char *unit, char *out, double *scale, int *energy)
{
	*scale = 1.0;
	*energy = 0;
	if (!strcmp(unit, "Joules") || !strcmp(unit, "J")) {
		strcpy(out, "J");
		*energy = 1;
	} else if (!strcmp(unit, "MiB")) {
		strcpy(out, "B");
		*scale = MIB_B;
	} else if (!strcmp(unit, "msec")) {
		strcpy(out, "s");
		*scale = MS_S;
	} else {
		snprintf(out, CAL_UNIT_MAX, "%s", unit);
	}
}

/* Check the interval just finished lists every event. */
static int close_interval(struct perf_ctx *c)
{
	struct cal_pmc_run *r = c->r;
	if (!r->n)
		return 0;
	for (int e = 0; e < r->n_ev; e++) {
		if (!c->seen[e])
			return perr(c, JV_EPARSE, "interval ending at %.9g s lacks event '%s'",
				    r->t1_s[r->n - 1], r->ev[e]);
		if (c->seen[e] > c->groups_max)
			c->groups_max = c->seen[e];
	}
	c->first_done = 1;
	memset(c->seen, 0, sizeof c->seen);
	return 0;
}

static int event_index(struct perf_ctx *c, const char *ev, const char *unit)
{
	struct cal_pmc_run *r = c->r;
	for (int e = 0; e < r->n_ev; e++)
		if (!strcmp(r->ev[e], ev))
			return e;
	if (c->first_done)
		return perr(c, JV_EPARSE, "event '%.60s' not in the first interval", ev);
	if (r->n_ev >= CAL_MAX_EVENTS)
		return perr(c, JV_ELIMIT, "more than %d events", CAL_MAX_EVENTS);
	if (strlen(ev) >= CAL_EVENT_MAX)
		return perr(c, JV_ELIMIT, "event name longer than %d characters", CAL_EVENT_MAX - 1);
	int e = r->n_ev;
	double scale;
	snprintf(r->ev[e], CAL_EVENT_MAX, "%s", ev);
	norm_unit(unit, r->unit[e], &scale, &r->is_energy[e]);
	double *v = calloc(c->cap ? c->cap : PMC_INIT_CAP, sizeof *v);
	if (!v)
		return perr(c, JV_ENOMEM, "out of memory");
	r->val[e] = v;
	r->n_ev++;
	return e;
}

static int perf_row(struct perf_ctx *c, char *line)
{
	char *f[PMC_MAX_FIELDS + 1];
	int nf = 0;
	for (char *p = line;; nf++) {
		if (nf > PMC_MAX_FIELDS)
			return perr(c, JV_EPARSE, "too many fields (more than %d)", PMC_MAX_FIELDS);
		f[nf] = p;
		char *comma = strchr(p, ',');
		if (!comma) {
			nf++;
			break;
		}
		*comma = '\0';
		p = comma + 1;
	}
	for (int i = 0; i < nf; i++)
		f[i] = trim(f[i]);
	double t, v;
	if (!is_number(f[0], &t))
		return perr(c, JV_EPARSE, "time: not a number '%.40s' (expected `perf stat -x, -I` rows)",
			    f[0]);
	int k = 1;
	if (nf > 1 && !strncmp(f[1], "CPU", 3) && f[1][3] >= '0' && f[1][3] <= '9')
		k = 2; /* -A: per-CPU rows */
	int base = nf - k;
	if (base < 5 || base > 8)
		return perr(c, JV_EPARSE, "expected 6 to 8 fields (time,value,unit,event,run,pct[,metric,unit]), found %d",
			    nf);
	const char *val = f[k], *unit = f[k + 1], *ev = f[k + 2];
	if (!*ev)
		return perr(c, JV_EPARSE, "empty event name");
	struct cal_pmc_run *r = c->r;
	if (!r->n || t > c->cur_t) {
		if (r->n && close_interval(c))
			return c->d->err;
		if (open_interval(r, &c->cap, t))
			return perr(c, JV_ENOMEM, "out of memory");
		c->cur_t = t;
	} else if (t < c->cur_t) {
		return perr(c, JV_EORDER, "time goes backwards (%.9g s < %.9g s)", t, c->cur_t);
	}
	int e = event_index(c, ev, unit);
	if (e < 0)
		return e;
	c->seen[e]++;
	if (val[0] == '<') {
		if (strcmp(val, "<not counted>") && strcmp(val, "<not supported>"))
			return perr(c, JV_EPARSE, "%s: bad value '%.40s'", ev, val);
		if (!r->bad[r->n - 1])
			r->n_bad++;
		r->bad[r->n - 1] = 1;
		return 0;
	}
	if (!is_number(val, &v) || v < 0)
		return perr(c, JV_EPARSE, "%s: not a non-negative number '%.40s'", ev, val);
	double scale;
	int energy;
	char nu[CAL_UNIT_MAX];
	norm_unit(unit, nu, &scale, &energy);
	r->val[e][r->n - 1] += v * scale;
	return 0;
}

static int load_perf(FILE *f, struct cal_pmc_run *r, struct jv_diag *d)
{
	struct perf_ctx c = {.r = r, .d = d, .path = r->path};
	char *buf = NULL;
	size_t cap = 0;
	ssize_t len;
	int rc = 0;
	while ((len = getline(&buf, &cap, f)) >= 0) {
		c.line++;
		if ((size_t)len != strlen(buf)) {
			rc = perr(&c, JV_EPARSE, "NUL byte in line");
			break;
		}
		if (len > PMC_LINE_MAX_B) {
			rc = perr(&c, JV_ELIMIT, "line too long (more than %d bytes)", PMC_LINE_MAX_B);
			break;
		}
		buf[strcspn(buf, "\r\n")] = '\0';
		char *p = trim(buf);
		if (!*p || *p == '#')
			continue;
		if ((rc = perf_row(&c, p)))
			break;
	}
	if (!rc && ferror(f))
		rc = jv_diag_set(d, JV_EIO, r->path, 0, "read error: %s", strerror(errno));
	if (!rc)
		rc = close_interval(&c);
	free(buf);
	r->lines = c.line;
	r->groups = c.groups_max ? c.groups_max : 1;
	return rc;
}

/* Counter names of a native log imported from perf stat carry the integer
 * unit the trace reader scaled to, "EVENT (UNIT)" (traces/fmt_perf_stat.c):
 * nJ -> J (an energy event), ns -> s, B stays, uX -> X; the suffix goes. */
static void native_name(struct cal_pmc_run *r, int e, const char *name, double *scale)
{
	static const struct {
		const char *suffix, *unit;
		double scale;
		int energy;
	} UNITS[] = {{" (nJ)", "J", 1e-9, 1}, {" (ns)", "s", 1e-9, 0}, {" (B)", "B", 1.0, 0}};
	size_t n = strlen(name);
	*scale = 1.0;
	snprintf(r->ev[e], CAL_EVENT_MAX, "%s", name);
	r->unit[e][0] = '\0';
	for (size_t k = 0; k < sizeof UNITS / sizeof *UNITS; k++) {
		size_t m = strlen(UNITS[k].suffix);
		if (n > m && !strcmp(name + n - m, UNITS[k].suffix)) {
			snprintf(r->ev[e], CAL_EVENT_MAX, "%.*s", (int)(n - m), name);
			snprintf(r->unit[e], CAL_UNIT_MAX, "%s", UNITS[k].unit);
			*scale = UNITS[k].scale;
			r->is_energy[e] = UNITS[k].energy;
			return;
		}
	}
	const char *open = strrchr(name, '(');
	if (open && open > name && open[-1] == ' ' && open[1] == 'u' && name[n - 1] == ')' &&
	    n - (size_t)(open - name) - 3 < CAL_UNIT_MAX && n - (size_t)(open - name) > 3) {
		snprintf(r->ev[e], CAL_EVENT_MAX, "%.*s", (int)(open - name - 1), name);
		snprintf(r->unit[e], CAL_UNIT_MAX, "%.*s", (int)(n - (size_t)(open - name) - 3), open + 2);
		*scale = 1e-6;
	}
}

static int load_native(struct cal_pmc_run *r, struct jv_diag *d)
{
	struct trc_reader *tr;
	int rc = trc_open(r->path, "pmc-interval", &tr, d);
	if (rc)
		return rc;
	size_t cap = 0;
	double scale[CAL_MAX_EVENTS];
	r->n_ev = trc_n_counters(tr);
	for (int e = 0; e < r->n_ev; e++)
		native_name(r, e, trc_counter_name(tr, e), &scale[e]);
	struct trc_record rec;
	int64_t last = -1;
	while ((rc = trc_next(tr, &rec, d)) == 1) {
		const struct trc_pmc_interval *p = &rec.u.pmci;
		if (p->t_ns < last) {
			rc = jv_diag_set(d, JV_EORDER, r->path, rec.line,
					 "t_ns: intervals of different VMs must share times in order "
					 "(%lld < %lld)", (long long)p->t_ns, (long long)last);
			break;
		}
		if (p->t_ns != last) {
			if (open_interval(r, &cap, (double)p->t_ns * 1e-9)) {
				rc = jv_diag_set(d, JV_ENOMEM, r->path, 0, "out of memory");
				break;
			}
			last = p->t_ns;
		}
		for (int e = 0; e < r->n_ev; e++)
			r->val[e][r->n - 1] += (double)p->delta[e] * scale[e];
		r->lines = rec.line;
	}
	trc_close(tr);
	if (rc < 0)
		return rc;
	r->groups = 1;
	/* first interval: one median interval long, not from 0 */
	if (r->n >= 2) {
		struct cal_series s;
		cal_series_init(&s);
		double step = 0.0;
		if (!cal_series_from_samples(&s, r->t1_s, r->t1_s, r->n, 0.0))
			step = cal_series_median_step(&s);
		cal_series_free(&s);
		r->t0_s[0] = fmax(0.0, r->t1_s[0] - step);
	}
	return 0;
}

static const char *detect(FILE *f)
{
	char line[256];
	const char *fmt = "perf-stat";
	long pos = ftell(f);
	while (fgets(line, sizeof line, f)) {
		const char *p = line;
		if (!strncmp(p, "\xEF\xBB\xBF", 3))
			p += 3;
		if (!strncmp(p, "# joulevisor ", 13)) {
			fmt = "pmc-interval";
			break;
		}
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p && *p != '\n' && *p != '\r' && *p != '#')
			break;
	}
	if (pos >= 0)
		fseek(f, pos, SEEK_SET);
	return fmt;
}

int cal_pmc_load(const char *path, const char *format, struct cal_pmc_run **out,
		 struct jv_diag *d)
{
	*out = NULL;
	if (format && strcmp(format, "auto") && strcmp(format, "perf-stat") &&
	    strcmp(format, "pmc-interval"))
		return jv_diag_set(d, JV_EUNKNOWN, path, 0,
				   "unknown counter log format '%s' (auto, perf-stat, pmc-interval)",
				   format);
	FILE *f = fopen(path, "rb");
	if (!f)
		return jv_diag_set(d, JV_ENOENT, path, 0, "cannot open: %s", strerror(errno));
	struct cal_pmc_run *r = calloc(1, sizeof *r);
	if (!r || !(r->path = strdup(path))) {
		fclose(f);
		free(r);
		return jv_diag_set(d, JV_ENOMEM, path, 0, "out of memory");
	}
	base_name(path, r->name, sizeof r->name);
	const char *fmt = (!format || !strcmp(format, "auto")) ? detect(f) : format;
	r->format = !strcmp(fmt, "perf-stat") ? "perf-stat" : "pmc-interval";
	int rc;
	if (!strcmp(fmt, "perf-stat")) {
		rc = load_perf(f, r, d);
		fclose(f);
	} else {
		fclose(f);
		rc = load_native(r, d);
	}
	if (!rc && r->n == 0)
		rc = jv_diag_set(d, JV_EEMPTY, path, 0, "no intervals");
	if (rc) {
		cal_pmc_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

void cal_pmc_free(struct cal_pmc_run *r)
{
	if (!r)
		return;
	free(r->path);
	free(r->t0_s);
	free(r->t1_s);
	free(r->bad);
	for (int e = 0; e < CAL_MAX_EVENTS; e++)
		free(r->val[e]);
	free(r);
}

int cal_pmc_event(const struct cal_pmc_run *r, const char *name)
{
	for (int e = 0; e < r->n_ev; e++)
		if (!strcmp(r->ev[e], name))
			return e;
	size_t n = strlen(name);
	for (int e = 0; e < r->n_ev; e++) {
		const char *s = strchr(r->ev[e], '/');
		if (s && !strncmp(s + 1, name, n) && s[1 + n] == '/' && s[2 + n] == '\0')
			return e;
	}
	return -1;
}

int cal_pmc_rate_series(const struct cal_pmc_run *r, int ev, struct cal_series *out)
{
	cal_series_init(out);
	if (ev < 0 || ev >= r->n_ev)
		return JV_EINVAL;
	for (size_t i = 0; i < r->n; i++) {
		double dt = r->t1_s[i] - r->t0_s[i];
		if (r->bad[i] || !(dt > 0))
			continue;
		int rc = cal_series_add(out, r->t0_s[i], r->t1_s[i], r->val[ev][i] / dt);
		if (rc) {
			cal_series_free(out);
			return rc;
		}
	}
	return 0;
}
