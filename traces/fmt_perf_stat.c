/*
 * fmt_perf_stat: reader of `perf stat -I MS` interval output, CSV (`-x,`,
 * or another separator) or perf's default human layout, into
 * TRC_PMC_INTERVAL records: per-VM counter deltas over each interval.
 *
 * Problem: calibration (design §5, issue 7) fits PMC weights on per-interval
 * counter deltas and RAPL energy from `perf stat -I`; users have such files
 * from several perf versions and options (`-A` per CPU, `-G` per cgroup,
 * RAPL events in Joules, multiplexed and `<not counted>` counters, 6 or 8
 * CSV fields, the human layout with `# metric` comments and `(pct%)`).
 *
 * Input (perf's tools/perf/util/stat-display.c, perf-stat(1) "CSV FORMAT"),
 * one line per event, VM and interval:
 *   CSV    TIME,[CPUn,]VALUE,UNIT,EVENT,[CGROUP,][RUN,PCT[,METRIC,MUNIT]]
 *          e.g. "     0.100360379,0.911932,Joules,power/energy-pkg/,368734464,100.00"
 *   human  TIME [CPUn] VALUE [UNIT] EVENT [CGROUP] [# metric] [(pct%)]
 *          e.g. "     0.050162524     458.07 msec cpu-clock   #  9.161 CPUs utilized"
 * TIME is the interval's end in seconds since counting started; VALUE is a
 * decimal number (human: thousands separators allowed), `<not counted>` or
 * `<not supported>`. The separator is the byte after the first TIME
 * (',', ';', '|' or TAB); spaces mean the human layout. The first data
 * line fixes the layout: a CPUn field (-A), a cgroup field (-G: CSV has
 * an odd number of fields after EVENT, since metrics come in pairs; human
 * a third word, or a second one that is not a unit). Blank lines and lines
 * starting with '#' are comments; metric-only lines (empty VALUE and
 * EVENT, or only a `# metric` after TIME) are perf's derived metrics and
 * are ignored; the human end-of-run block (from "Performance counter stats
 * for") repeats totals and ends the input.
 *
 * Model: lines with the same TIME form one interval. The first interval
 * defines the counters (each distinct EVENT in order of appearance; the
 * first TRC_MAX_COUNTERS become counters, values of later ones are skipped
 * and counted) and, per VM, which events it has; every later interval must
 * list exactly those (VM, event) pairs, once each (with both -A and -G the
 * CPUs of a cgroup are summed). Intervals must go forward in time. At the
 * end of an interval one record per VM is yielded, VMs in order of first
 * appearance: t_ns = TIME in ns (perf's own epoch, the start of counting:
 * not shifted, so the first record ends its interval at ~MS ms), delta[i]
 * = VALUE of counter i. VM: the cgroup for -G (attrs "cgroup=PATH"), else
 * "cpuN" for -A (attrs "device=cpuN"), else "all".
 *
 * Units: counters are integers, so values with a unit are scaled to a
 * fixed integer unit, named in the counter name as "EVENT (UNIT)" (the
 * binary format stores it as the unit): Joules -> nJ (x1e9), msec -> ns
 * (x1e6), usec/us -> ns, sec/s -> ns, ns/nsec -> ns, MiB/KiB/GiB/B -> B;
 * any other unit U -> uU (x1e6). Plain counts (empty unit) keep the name.
 * E.g. "0.911932,Joules,power/energy-pkg/" -> counter "power/energy-pkg/
 * (nJ)" = 911932000. At most 9 decimals count (more are truncated);
 * results are rounded to the nearest integer.
 *
 * Skipped (trc_skipped()): `<not counted>`/`<not supported>` values (delta
 * 0) and values of events beyond the 16th. Limits: 256 distinct events of
 * up to 200 bytes; lines of 12 fields; values and times below 2^63 after
 * scaling; CPUs 0..1023; per-socket/die/core/node/thread aggregation is
 * not supported (an error says so).
 */
#include "traces/trc_impl.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PS_MAX_EVENTS 256
#define PS_MASK_WORDS (PS_MAX_EVENTS / 64)
#define PS_EVENT_NAME_MAX_B 200
#define PS_UNIT_MAX_B 24
#define PS_MAX_FIELDS 12
#define PS_TIME_FRAC_DIGITS 9
#define PS_NS_PER_S UINT64_C(1000000000)
#define PS_CGROUP_MAX_B 4096
#define PS_SUMMARY "Performance counter stats for"
#define PS_NOT_COUNTED "<not counted>"
#define PS_NOT_SUPPORTED "<not supported>"
#define PS_VM_ALL "all"
#define PS_HASHED_PREFIX_B 12 /* "cg-XXXXXXXX-" */

/* perf unit -> counter unit and integer multiplier */
struct ps_unit {
	const char *perf;
	const char *ours;
	uint64_t mul;
};

static const struct ps_unit ps_units[] = {
	{ "Joules", "nJ", UINT64_C(1000000000) },
	{ "J", "nJ", UINT64_C(1000000000) },
	{ "msec", "ns", UINT64_C(1000000) },
	{ "ms", "ns", UINT64_C(1000000) },
	{ "usec", "ns", UINT64_C(1000) },
	{ "us", "ns", UINT64_C(1000) },
	{ "nsec", "ns", 1 },
	{ "ns", "ns", 1 },
	{ "sec", "ns", UINT64_C(1000000000) },
	{ "s", "ns", UINT64_C(1000000000) },
	{ "GiB", "B", UINT64_C(1) << 30 },
	{ "MiB", "B", UINT64_C(1) << 20 },
	{ "KiB", "B", UINT64_C(1) << 10 },
	{ "B", "B", 1 },
};
#define PS_OTHER_UNIT_MUL UINT64_C(1000000) /* U -> uU */

struct ps_event {
	char name[PS_EVENT_NAME_MAX_B + 1];
	size_t len;
	char unit[PS_UNIT_MAX_B + 1]; /* perf's unit as first seen */
	uint64_t mul;
	int ctr;                      /* counter index, -1 beyond the 16th */
};

struct ps_vm {
	uint64_t expect[PS_MASK_WORDS]; /* events of the first interval */
	uint64_t seen[PS_MASK_WORDS];   /* events of the current interval */
	uint64_t delta[TRC_MAX_COUNTERS];
	int active;                     /* appears in the first interval */
};

/* One parsed data line. */
struct ps_line {
	int64_t t_ns;
	int opens;  /* starts a new interval */
	int vm;
	int ev;
	int absent; /* <not counted> / <not supported> */
	uint64_t value;
	long line;
};

struct ps_state {
	int csv;         /* 1: -x output, 0: human layout */
	char sep;
	int layout_set;  /* the first data line was seen */
	int has_cpu;     /* -A */
	int has_cgroup;  /* -G */
	int n_ev;
	struct ps_event ev[PS_MAX_EVENTS];
	int pred;        /* predicted next event index */
	struct ps_vm *vm;
	size_t vm_cap;
	long n_intervals; /* completed intervals */
	int in_interval;
	int64_t cur_t;
	long cur_line;    /* last line of the current interval */
	int pending;
	struct ps_line pend;
	int emit_next, emit_end;
	int64_t emit_t;
	int done;         /* end of input or summary reached */
	int first_extra;  /* first event beyond the 16th, -1 if none */
	uint64_t n_absent, n_extra;
	char reason[192];
	/* last cgroup / cpu field -> VM index */
	char last_key[PS_CGROUP_MAX_B + 1];
	size_t last_key_len;
	int last_key_vm;
};

/* ---- small scanners ---------------------------------------------------- */

struct fld {
	const char *s;
	size_t n;
};

static int is_digit(char c)
{
	return (unsigned)(c - '0') < 10;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t';
}

static struct fld trim(const char *s, size_t n)
{
	while (n && is_space(*s)) {
		s++;
		n--;
	}
	while (n && is_space(s[n - 1]))
		n--;
	return (struct fld){ s, n };
}

static int fld_is(struct fld f, const char *lit)
{
	size_t n = strlen(lit);
	return f.n == n && memcmp(f.s, lit, n) == 0;
}

/* "CPU<digits>" */
static int is_cpu_field(struct fld f)
{
	if (f.n < 4 || memcmp(f.s, "CPU", 3) != 0)
		return 0;
	for (size_t i = 3; i < f.n; i++)
		if (!is_digit(f.s[i]))
			return 0;
	return 1;
}

/* Seconds "S[.F]" -> ns (at most 9 decimals count). 0 or -1. */
static int parse_time(struct fld f, int64_t *out)
{
	uint64_t sec = 0, frac = 0;
	size_t i = 0;
	int nd = 0;
	if (f.n == 0 || !is_digit(f.s[0]))
		return -1;
	for (; i < f.n && is_digit(f.s[i]); i++) {
		if (sec > (uint64_t)INT64_MAX / PS_NS_PER_S)
			return -1;
		sec = sec * 10 + (uint64_t)(f.s[i] - '0');
	}
	if (i < f.n && f.s[i] == '.') {
		for (i++; i < f.n && is_digit(f.s[i]); i++)
			if (nd < PS_TIME_FRAC_DIGITS) {
				frac = frac * 10 + (uint64_t)(f.s[i] - '0');
				nd++;
			}
	}
	if (i != f.n)
		return -1;
	for (; nd < PS_TIME_FRAC_DIGITS; nd++)
		frac *= 10;
	uint64_t ns = sec * PS_NS_PER_S;
	if (ns > (uint64_t)INT64_MAX - frac)
		return -1;
	*out = (int64_t)(ns + frac);
	return 0;
}

/* Decimal "I[.F]" (human: ',' thousands separators in I) times mul,
 * rounded. 0, -1 malformed, -2 too large. */
static int parse_value(struct fld f, uint64_t mul, int commas, uint64_t *out)
{
	uint64_t ip = 0, fd = 0, pow = 1;
	size_t i = 0;
	int nd = 0, digits = 0;
	for (; i < f.n && (is_digit(f.s[i]) || (commas && f.s[i] == ','));
	     i++) {
		if (f.s[i] == ',') {
			if (!digits)
				return -1;
			continue;
		}
		if (ip > (UINT64_MAX - 9) / 10)
			return -2;
		ip = ip * 10 + (uint64_t)(f.s[i] - '0');
		digits++;
	}
	if (!digits || f.s[i - 1] == ',')
		return -1;
	if (i < f.n && f.s[i] == '.') {
		size_t k = ++i;
		for (; i < f.n && is_digit(f.s[i]); i++)
			if (nd < PS_TIME_FRAC_DIGITS) {
				fd = fd * 10 + (uint64_t)(f.s[i] - '0');
				pow *= 10;
				nd++;
			}
		if (i == k)
			return -1;
	}
	if (i != f.n)
		return -1;
	if (ip > (uint64_t)INT64_MAX / mul)
		return -2;
	/* fd < 1e9 and mul <= 2^30: the product fits in 64 bits */
	uint64_t v = ip * mul, fr = (fd * mul + pow / 2) / pow;
	if (v > (uint64_t)INT64_MAX - fr)
		return -2;
	*out = v + fr;
	return 0;
}

/* ---- probe ------------------------------------------------------------- */

static int probe_sep(char c)
{
	return c == ',' || c == ';' || c == '|' || c == '\t';
}

/* The first data line of a perf stat -I output (possibly cut at the end of
 * the probe window when !whole). */
static int probe_line(const char *s, size_t n, int whole)
{
	size_t i = 0;
	while (i < n && s[i] == ' ')
		i++;
	size_t t0 = i;
	while (i < n && is_digit(s[i]))
		i++;
	if (i == t0 || i >= n || s[i] != '.')
		return 0;
	size_t f0 = ++i;
	while (i < n && is_digit(s[i]))
		i++;
	if (i == f0 || i >= n)
		return 0;
	if (probe_sep(s[i])) {
		char sep = s[i++];
		if (i >= n)
			return !whole;
		if (!(is_digit(s[i]) || s[i] == '<' || s[i] == 'C'))
			return 0;
		int seps = 0;
		for (size_t k = i; k < n; k++)
			seps += s[k] == sep;
		return seps >= 3 || !whole;
	}
	if (s[i] != ' ')
		return 0;
	while (i < n && s[i] == ' ')
		i++;
	if (i + 3 < n && memcmp(s + i, "CPU", 3) == 0 && is_digit(s[i + 3])) {
		while (i < n && s[i] != ' ')
			i++;
		while (i < n && s[i] == ' ')
			i++;
	}
	if (i < n && s[i] == '<')
		return 1;
	if (i >= n || !is_digit(s[i]))
		return 0;
	while (i < n && (is_digit(s[i]) || s[i] == '.' || s[i] == ','))
		i++;
	if (i >= n)
		return !whole;
	if (s[i] != ' ')
		return 0;
	while (i < n && s[i] == ' ')
		i++;
	for (; i < n && s[i] != ' '; i++)
		if ((unsigned)((s[i] | 0x20) - 'a') < 26)
			return 1;
	return 0;
}

static int ps_probe(const char *head, size_t len)
{
	const char *p = head, *end = head + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		size_t n = (size_t)(le - p);
		if (n && p[n - 1] == '\r')
			n--;
		struct fld t = trim(p, n);
		if (t.n == 0 || t.s[0] == '#') {
			p = nl ? nl + 1 : end;
			continue;
		}
		return probe_line(p, n, nl != NULL);
	}
	return 0;
}

/* ---- errors ------------------------------------------------------------- */

static int line_err(struct trc_reader *r, long line, int code, const char *fmt,
		    ...) __attribute__((format(printf, 4, 5)));

static int line_err(struct trc_reader *r, long line, int code, const char *fmt,
		    ...)
{
	va_list ap;
	va_start(ap, fmt);
	jv_diag_vset(&r->err, code, r->name, line, fmt, ap);
	va_end(ap);
	return code;
}

/* ---- VMs and events ----------------------------------------------------- */

static int vm_slots(struct ps_state *s, size_t n)
{
	if (n <= s->vm_cap)
		return 0;
	size_t cap = s->vm_cap ? s->vm_cap * 2 : 16;
	while (cap < n)
		cap *= 2;
	struct ps_vm *v = realloc(s->vm, cap * sizeof *v);
	if (!v)
		return JV_ENOMEM;
	memset(v + s->vm_cap, 0, (cap - s->vm_cap) * sizeof *v);
	s->vm = v;
	s->vm_cap = cap;
	return 0;
}

static int vm_char(unsigned char c)
{
	return (unsigned)((c | 0x20) - 'a') < 26 || is_digit((char)c) ||
	       c == '_' || c == '.' || c == '-';
}

/* A valid VM name for a cgroup path: without the leading '/', other
 * characters than [A-Za-z0-9_.-] as '_', "/" as "root"; longer than 63:
 * "cg-" + 8 hex digits of the path's hash + "-" + its last 51 bytes. */
static size_t cgroup_vm_name(struct fld cg, char *out)
{
	const char *s = cg.s;
	size_t n = cg.n;
	while (n && *s == '/') {
		s++;
		n--;
	}
	if (n == 0) {
		memcpy(out, "root", 5);
		return 4;
	}
	size_t tail = TRC_NAME_MAX - 1 - PS_HASHED_PREFIX_B, at = 0;
	const char *src = s;
	size_t len = n;
	if (n > TRC_NAME_MAX - 1) {
		at = (size_t)snprintf(out, PS_HASHED_PREFIX_B + 1, "cg-%08" PRIx32 "-",
				      trc_names_hash(cg.s, cg.n));
		src = s + n - tail;
		len = tail;
	}
	for (size_t i = 0; i < len; i++)
		out[at + i] = vm_char((unsigned char)src[i]) ? src[i] : '_';
	out[at + len] = '\0';
	return at + len;
}

/* The VM of a line from its cpu and cgroup fields (n == 0 when absent). */
static int line_vm(struct trc_reader *r, struct ps_state *s, struct fld cpu,
		   struct fld cg, long line)
{
	char key[PS_CGROUP_MAX_B + 1], name[TRC_NAME_MAX], attrs[PS_CGROUP_MAX_B + 16];
	char q[80];
	struct fld k = s->has_cgroup ? cg : cpu;
	if (k.n > PS_CGROUP_MAX_B)
		return line_err(r, line, JV_ELIMIT,
				"cgroup: name longer than %d bytes '%s'",
				PS_CGROUP_MAX_B, trc_quote(q, sizeof q, k.s, k.n));
	if (k.n == s->last_key_len && s->last_key_vm >= 0 &&
	    memcmp(k.s, s->last_key, k.n) == 0)
		return s->last_key_vm;
	memcpy(key, k.s, k.n);
	key[k.n] = '\0';
	size_t nl;
	attrs[0] = '\0';
	if (s->has_cgroup && cg.n) {
		nl = cgroup_vm_name(cg, name);
		size_t a = (size_t)snprintf(attrs, sizeof attrs, "cgroup=%s", key);
		for (size_t i = 7; i < a; i++)
			if (attrs[i] == ',' || attrs[i] == '=')
				attrs[i] = '_';
	} else if (s->has_cpu && !s->has_cgroup) {
		/* "CPU12" -> "cpu12" */
		nl = (size_t)snprintf(name, sizeof name, "cpu%.*s",
				      (int)(cpu.n - 3), cpu.s + 3);
		if (nl >= sizeof name)
			return line_err(r, line, JV_ERANGE, "cpu: '%s' out of range",
					trc_quote(q, sizeof q, cpu.s, cpu.n));
		snprintf(attrs, sizeof attrs, "device=%s", name);
	} else {
		memcpy(name, PS_VM_ALL, sizeof PS_VM_ALL);
		nl = sizeof PS_VM_ALL - 1;
	}
	int n0 = r->vms.n;
	int vm = trc_names_intern(&r->vms, name, nl, trc_names_hash(name, nl));
	if (vm == JV_ELIMIT)
		return line_err(r, line, JV_ELIMIT,
				"too many distinct VMs (more than %d)", TRC_MAX_VMS);
	if (vm < 0)
		return line_err(r, line, JV_ENOMEM, "out of memory");
	if (r->vms.n > n0) {
		if (attrs[0] && trc_names_set_attrs(&r->vms, vm, attrs) < 0)
			return line_err(r, line, JV_ENOMEM, "out of memory");
		if (vm_slots(s, (size_t)r->vms.n) < 0)
			return line_err(r, line, JV_ENOMEM, "out of memory");
	} else if (strcmp(trc_vm_attrs(r, vm), attrs) != 0) {
		return line_err(r, line, JV_EPARSE,
				"cgroup: '%s' and another cgroup (%s) map to the "
				"same VM name '%s'", trc_quote(q, sizeof q, k.s, k.n),
				trc_vm_attrs(r, vm), name);
	}
	memcpy(s->last_key, key, k.n + 1);
	s->last_key_len = k.n;
	s->last_key_vm = vm;
	return vm;
}

static const struct ps_unit *unit_lookup(struct fld u)
{
	for (size_t i = 0; i < sizeof ps_units / sizeof ps_units[0]; i++)
		if (fld_is(u, ps_units[i].perf))
			return &ps_units[i];
	return NULL;
}

/* Index of event ev (with its unit), created in the first interval. */
static int line_event(struct trc_reader *r, struct ps_state *s, struct fld ev,
		      struct fld unit, const struct ps_line *pl)
{
	char q[80], q2[40];
	long line = pl->line;
	int n = s->n_ev;
	for (int k = 0; k < n; k++) {
		int i = s->pred + k < n ? s->pred + k : s->pred + k - n;
		struct ps_event *e = &s->ev[i];
		if (e->len != ev.n || memcmp(e->name, ev.s, ev.n) != 0)
			continue;
		if (!fld_is(unit, e->unit))
			return line_err(r, line, JV_EPARSE,
					"unit: '%s' for event '%s', which had "
					"unit '%s'",
					trc_quote(q2, sizeof q2, unit.s, unit.n),
					e->name, e->unit);
		s->pred = i + 1 < n ? i + 1 : 0;
		return i;
	}
	/* new events only in the first interval (not in the line that
	 * opens the second) */
	if (s->n_intervals > 0 || (s->in_interval && pl->opens))
		return line_err(r, line, JV_EPARSE,
				"event '%s' was not in the first interval (the "
				"first interval defines the counters)",
				trc_quote(q, sizeof q, ev.s, ev.n));
	if (ev.n == 0)
		return line_err(r, line, JV_EPARSE, "event: empty event name");
	if (ev.n > PS_EVENT_NAME_MAX_B)
		return line_err(r, line, JV_ELIMIT,
				"event: name longer than %d bytes '%s'",
				PS_EVENT_NAME_MAX_B, trc_quote(q, sizeof q, ev.s, ev.n));
	if (unit.n > PS_UNIT_MAX_B)
		return line_err(r, line, JV_ELIMIT,
				"unit: longer than %d bytes '%s'", PS_UNIT_MAX_B,
				trc_quote(q, sizeof q, unit.s, unit.n));
	if (n >= PS_MAX_EVENTS)
		return line_err(r, line, JV_ELIMIT,
				"event: more than %d distinct events at '%s'",
				PS_MAX_EVENTS, trc_quote(q, sizeof q, ev.s, ev.n));
	struct ps_event *e = &s->ev[n];
	memcpy(e->name, ev.s, ev.n);
	e->name[ev.n] = '\0';
	e->len = ev.n;
	memcpy(e->unit, unit.s, unit.n);
	e->unit[unit.n] = '\0';
	const struct ps_unit *pu = unit_lookup(unit);
	e->mul = unit.n == 0 ? 1 : pu ? pu->mul : PS_OTHER_UNIT_MUL;
	e->ctr = -1;
	int used = 0;
	for (int k = 0; k < n; k++)
		used += s->ev[k].ctr >= 0;
	if (used < TRC_MAX_COUNTERS)
		e->ctr = used;
	else if (s->first_extra < 0)
		s->first_extra = n;
	s->n_ev = n + 1;
	s->pred = 0;
	return n;
}

/* r->counters from the first interval's events. */
static int set_counters(struct trc_reader *r, struct ps_state *s)
{
	for (int i = 0; i < s->n_ev; i++) {
		const struct ps_event *e = &s->ev[i];
		if (e->ctr < 0)
			continue;
		const struct ps_unit *pu = unit_lookup((struct fld){ e->unit,
								     strlen(e->unit) });
		char nm[PS_EVENT_NAME_MAX_B + PS_UNIT_MAX_B + 8];
		if (!e->unit[0])
			snprintf(nm, sizeof nm, "%s", e->name);
		else if (pu)
			snprintf(nm, sizeof nm, "%s (%s)", e->name, pu->ours);
		else
			snprintf(nm, sizeof nm, "%s (u%s)", e->name, e->unit);
		for (char *c = nm; *c; c++)
			if (*c == ',')
				*c = ' '; /* names of native CSV headers */
		char *dup = strdup(nm);
		if (!dup)
			return JV_ENOMEM;
		r->counters[r->n_counters++] = dup;
	}
	return 0;
}

/* ---- line parsing ------------------------------------------------------ */

/* Split at sep into at most max fields; returns the count (max + 1 when
 * there are more). */
static int split(const char *s, size_t n, char sep, struct fld *f, int max)
{
	int nf = 0;
	const char *end = s + n;
	for (;;) {
		const char *c = memchr(s, sep, (size_t)(end - s));
		const char *e = c ? c : end;
		if (nf == max)
			return max + 1;
		f[nf++] = (struct fld){ s, (size_t)(e - s) };
		if (!c)
			return nf;
		s = c + 1;
	}
}

static int aggr_unsupported(struct trc_reader *r, long line, struct fld f)
{
	char q[80];
	return line_err(r, line, JV_EPARSE,
			"'%s': per-socket, die, core, node or thread "
			"aggregation is not supported (use the default "
			"aggregation, -A or -G)", trc_quote(q, sizeof q, f.s, f.n));
}

/* After TIME, is f an aggregation id of --per-socket & co? */
static int is_aggr_field(struct fld f)
{
	return f.n >= 2 && (f.s[0] == 'S' || f.s[0] == 'N') && is_digit(f.s[1]);
}

/* A value field: the number, or absent. */
static int line_value(struct trc_reader *r, struct ps_state *s,
		      struct ps_line *pl, struct fld v, int ev)
{
	char q[80];
	if (fld_is(v, PS_NOT_COUNTED) || fld_is(v, PS_NOT_SUPPORTED)) {
		pl->absent = 1;
		pl->value = 0;
		return 0;
	}
	int rc = parse_value(v, s->ev[ev].mul, !s->csv, &pl->value);
	if (rc == -2)
		return line_err(r, pl->line, JV_ERANGE,
				"value: out of range '%s' for event '%s'",
				trc_quote(q, sizeof q, v.s, v.n), s->ev[ev].name);
	if (rc < 0)
		return line_err(r, pl->line, v.n && v.s[0] == '-' ? JV_ERANGE
								 : JV_EPARSE,
				"value: %s '%s' (expected a decimal number, "
				"<not counted> or <not supported>)",
				v.n && v.s[0] == '-' ? "negative value"
						     : "not a number",
				trc_quote(q, sizeof q, v.s, v.n));
	pl->absent = 0;
	return 0;
}

static int bad_time(struct trc_reader *r, long line, struct fld t)
{
	char q[80];
	return line_err(r, line, JV_EPARSE,
			"time: expected the interval's end in seconds "
			"(e.g. 1.000123456), found '%s'",
			trc_quote(q, sizeof q, t.s, t.n));
}

/* A line's time against the open interval: same time (continues it),
 * later (opens the next), earlier (JV_EORDER). Sets pl->opens. */
static int time_gate(struct trc_reader *r, struct ps_state *s,
		     struct ps_line *pl)
{
	pl->opens = 1;
	if (s->in_interval) {
		if (pl->t_ns == s->cur_t)
			pl->opens = 0;
		else if (pl->t_ns < s->cur_t)
			return line_err(r, pl->line, JV_EORDER,
					"time: goes backwards (%" PRId64 " ns < %"
					PRId64 " ns at line %ld)", pl->t_ns,
					s->cur_t, s->cur_line);
	} else if (s->n_intervals && pl->t_ns <= s->emit_t) {
		return line_err(r, pl->line, JV_EORDER,
				"time: goes backwards (%" PRId64 " ns <= %" PRId64
				" ns of the previous interval)", pl->t_ns,
				s->emit_t);
	}
	return 0;
}

/* CSV line -> pl. 1 data, 0 ignored (metric-only line), < 0 error. */
static int parse_csv(struct trc_reader *r, struct ps_state *s, const char *ln,
		     size_t n, struct ps_line *pl)
{
	struct fld f[PS_MAX_FIELDS];
	int nf = split(ln, n, s->sep, f, PS_MAX_FIELDS);
	long line = pl->line;
	if (nf > PS_MAX_FIELDS)
		return line_err(r, line, JV_EPARSE,
				"more than %d fields (an event name containing "
				"'%c'? use perf stat -x with another separator)",
				PS_MAX_FIELDS, s->sep);
	struct fld t = trim(f[0].s, f[0].n);
	if (parse_time(t, &pl->t_ns) < 0)
		return bad_time(r, line, t);
	int rc = time_gate(r, s, pl);
	if (rc < 0)
		return rc;
	if (nf >= 2 && is_aggr_field(f[1]))
		return aggr_unsupported(r, line, f[1]);
	int cpu_here = nf >= 2 && is_cpu_field(f[1]);
	int base = 1 + cpu_here;
	if (nf > base && f[base].n == 0 && (nf <= base + 2 || f[base + 2].n == 0))
		return 0; /* a metric-only line: no value, no event */
	if (nf < base + 3)
		return line_err(r, line, JV_EPARSE,
				"expected at least %d fields "
				"(time,%svalue,unit,event), found %d",
				base + 3, cpu_here ? "cpu," : "", nf);
	int rest = nf - (base + 3);
	if (!s->layout_set) {
		s->has_cpu = cpu_here;
		s->has_cgroup = rest % 2 == 1;
		s->layout_set = 1;
	}
	if (cpu_here != s->has_cpu)
		return line_err(r, line, JV_EPARSE,
				"cpu: %s (the first data line %s a CPUn field)",
				cpu_here ? "unexpected CPUn field" : "missing CPUn field",
				s->has_cpu ? "has" : "has no");
	if (rest > 5 || rest % 2 != s->has_cgroup) {
		int want = base + 3 + s->has_cgroup;
		return line_err(r, line, JV_EPARSE,
				"expected %d or %d fields (time,%svalue,unit,event,"
				"%srun,pct[,metric,unit]), found %d",
				want + 2, want + 4, s->has_cpu ? "cpu," : "",
				s->has_cgroup ? "cgroup," : "", nf);
	}
	struct fld v = f[base], u = trim(f[base + 1].s, f[base + 1].n);
	struct fld e = trim(f[base + 2].s, f[base + 2].n);
	struct fld cg = s->has_cgroup ? f[base + 3] : (struct fld){ "", 0 };
	int vm = line_vm(r, s, cpu_here ? f[1] : (struct fld){ "", 0 }, cg, line);
	if (vm < 0)
		return vm;
	int ev = line_event(r, s, e, u, pl);
	if (ev < 0)
		return ev;
	pl->vm = vm;
	pl->ev = ev;
	rc = line_value(r, s, pl, trim(v.s, v.n), ev);
	return rc < 0 ? rc : 1;
}

/* Next whitespace-separated word of [*p, end). */
static struct fld word(const char **p, const char *end)
{
	const char *s = *p;
	while (s < end && is_space(*s))
		s++;
	const char *e = s;
	while (e < end && !is_space(*e))
		e++;
	*p = e;
	return (struct fld){ s, (size_t)(e - s) };
}

/* Human line -> pl. 1 data, 0 ignored, < 0 error. */
static int parse_human(struct trc_reader *r, struct ps_state *s, const char *ln,
		       size_t n, struct ps_line *pl)
{
	const char *p = ln, *end = ln + n;
	long line = pl->line;
	char q[80];
	struct fld t = word(&p, end);
	if (parse_time(t, &pl->t_ns) < 0)
		return bad_time(r, line, t);
	int rc = time_gate(r, s, pl);
	if (rc < 0)
		return rc;
	struct fld w = word(&p, end);
	if (w.n == 0 || w.s[0] == '#')
		return 0; /* a metric-only line */
	if (is_aggr_field(w))
		return aggr_unsupported(r, line, w);
	struct fld cpu = { "", 0 };
	if (is_cpu_field(w)) {
		cpu = w;
		w = word(&p, end);
	}
	struct fld v = w;
	if (w.n && w.s[0] == '<') { /* "<not counted>" has a space */
		const char *gt = memchr(w.s, '>', (size_t)(end - w.s));
		if (!gt)
			return line_err(r, line, JV_EPARSE,
					"value: unterminated '<...>' '%s'",
					trc_quote(q, sizeof q, w.s,
						  (size_t)(end - w.s)));
		v = (struct fld){ w.s, (size_t)(gt + 1 - w.s) };
		p = gt + 1;
	}
	struct fld tok[4];
	int nt = 0;
	for (;;) {
		struct fld x = word(&p, end);
		if (x.n == 0 || x.s[0] == '#' || x.s[0] == '(')
			break;
		if (nt == 3)
			return line_err(r, line, JV_EPARSE,
					"expected 'TIME [CPUn] VALUE [UNIT] EVENT "
					"[CGROUP]', found more words at '%s'",
					trc_quote(q, sizeof q, x.s, x.n));
		tok[nt++] = x;
	}
	if (nt == 0)
		return line_err(r, line, JV_EPARSE,
				"expected 'TIME [CPUn] VALUE [UNIT] EVENT', no "
				"event after the value");
	if (!s->layout_set) {
		s->has_cpu = cpu.n > 0;
		s->has_cgroup = nt == 3 || (nt == 2 && !unit_lookup(tok[0]));
		s->layout_set = 1;
	}
	if ((cpu.n > 0) != s->has_cpu)
		return line_err(r, line, JV_EPARSE,
				"cpu: %s (the first data line %s a CPUn field)",
				cpu.n ? "unexpected CPUn field" : "missing CPUn field",
				s->has_cpu ? "has" : "has no");
	struct fld unit = { "", 0 }, ev, cg = { "", 0 };
	if (nt - s->has_cgroup == 2) {
		unit = tok[0];
		ev = tok[1];
	} else if (nt - s->has_cgroup == 1) {
		ev = tok[0];
	} else {
		return line_err(r, line, JV_EPARSE,
				"expected 'TIME [CPUn] VALUE [UNIT] EVENT%s', "
				"found %d words after the value",
				s->has_cgroup ? " CGROUP" : "", nt);
	}
	if (s->has_cgroup)
		cg = tok[nt - 1];
	int vm = line_vm(r, s, cpu, cg, line);
	if (vm < 0)
		return vm;
	int e = line_event(r, s, ev, unit, pl);
	if (e < 0)
		return e;
	pl->vm = vm;
	pl->ev = e;
	rc = line_value(r, s, pl, v, e);
	return rc < 0 ? rc : 1;
}

/* ---- intervals ---------------------------------------------------------- */

static int test_bit(const uint64_t *m, int i)
{
	return (int)((m[i / 64] >> (i % 64)) & 1);
}

static void set_bit(uint64_t *m, int i)
{
	m[i / 64] |= UINT64_C(1) << (i % 64);
}

static int apply(struct trc_reader *r, struct ps_state *s,
		 const struct ps_line *pl)
{
	struct ps_vm *v = &s->vm[pl->vm];
	const struct ps_event *e = &s->ev[pl->ev];
	const char *vmn = trc_names_get(&r->vms, pl->vm);
	int summed = s->has_cpu && s->has_cgroup;
	if (s->n_intervals == 0) {
		v->active = 1;
	} else if (!v->active) {
		return line_err(r, pl->line, JV_EPARSE,
				"vm '%s' was not in the first interval", vmn);
	} else if (!test_bit(v->expect, pl->ev)) {
		return line_err(r, pl->line, JV_EPARSE,
				"event '%s' for vm '%s' was not in the first "
				"interval", e->name, vmn);
	}
	if (test_bit(v->seen, pl->ev) && !summed)
		return line_err(r, pl->line, JV_EPARSE,
				"event '%s' for vm '%s' twice in the interval "
				"ending at %" PRId64 " ns", e->name, vmn, pl->t_ns);
	set_bit(v->seen, pl->ev);
	if (e->ctr < 0) {
		s->n_extra++;
	} else if (pl->absent) {
		s->n_absent++;
	} else {
		uint64_t *d = &v->delta[e->ctr];
		if (*d > UINT64_MAX - pl->value)
			return line_err(r, pl->line, JV_ERANGE,
					"value: sum over CPUs overflows for '%s'",
					e->name);
		*d += pl->value;
	}
	s->cur_line = pl->line;
	return 0;
}

static void update_reason(struct trc_reader *r, struct ps_state *s)
{
	r->skipped = s->n_absent + s->n_extra;
	int n = 0;
	s->reason[0] = '\0';
	if (s->n_absent)
		n = snprintf(s->reason, sizeof s->reason,
			     "%" PRIu64 " <not counted>/<not supported> values "
			     "(delta 0)", s->n_absent);
	if (s->n_extra && n >= 0 && (size_t)n < sizeof s->reason)
		snprintf(s->reason + n, sizeof s->reason - (size_t)n,
			 "%s%" PRIu64 " values of events beyond the %dth "
			 "counter (from '%.40s')", n ? "; " : "", s->n_extra,
			 TRC_MAX_COUNTERS, s->ev[s->first_extra].name);
	r->skip_reason = s->reason;
}

/* The current interval is complete: check it, queue its records. */
static int finish_interval(struct trc_reader *r, struct ps_state *s)
{
	for (int vm = 0; vm < r->vms.n; vm++) {
		struct ps_vm *v = &s->vm[vm];
		if (s->n_intervals == 0) {
			memcpy(v->expect, v->seen, sizeof v->expect);
			continue;
		}
		if (!v->active)
			continue;
		for (int w = 0; w < PS_MASK_WORDS; w++) {
			uint64_t miss = v->expect[w] & ~v->seen[w];
			if (!miss)
				continue;
			int ev = w * 64 + __builtin_ctzll(miss);
			return line_err(r, s->cur_line, JV_EPARSE,
					"interval ending at %" PRId64 " ns: event "
					"'%s' missing for vm '%s' (every interval "
					"must list the events of the first)",
					s->cur_t, s->ev[ev].name,
					trc_names_get(&r->vms, vm));
		}
	}
	if (s->n_intervals == 0 && set_counters(r, s) < 0)
		return line_err(r, s->cur_line, JV_ENOMEM, "out of memory");
	s->n_intervals++;
	s->in_interval = 0;
	s->emit_next = 0;
	s->emit_end = r->vms.n;
	s->emit_t = s->cur_t;
	update_reason(r, s);
	return 0;
}

static int is_summary(const char *ln, size_t n)
{
	struct fld t = trim(ln, n);
	size_t k = sizeof PS_SUMMARY - 1;
	return t.n >= k && memcmp(t.s, PS_SUMMARY, k) == 0;
}

/* Detect CSV vs human layout from the first data line. */
static void detect_layout(struct ps_state *s, const char *ln, size_t n)
{
	size_t i = 0;
	while (i < n && ln[i] == ' ')
		i++;
	while (i < n && (is_digit(ln[i]) || ln[i] == '.'))
		i++;
	s->csv = i < n && probe_sep(ln[i]);
	s->sep = s->csv ? ln[i] : ' ';
}

/* Read lines until an interval is complete (records queued) or the input
 * ends. */
static int fill_interval(struct trc_reader *r, struct ps_state *s,
			 struct jv_diag *d)
{
	for (int vm = 0; vm < r->vms.n; vm++) {
		memset(s->vm[vm].seen, 0, sizeof s->vm[vm].seen);
		memset(s->vm[vm].delta, 0, sizeof s->vm[vm].delta);
	}
	if (s->pending) {
		s->pending = 0;
		s->in_interval = 1;
		s->cur_t = s->pend.t_ns;
		int rc = apply(r, s, &s->pend);
		if (rc < 0)
			return rc;
	}
	for (;;) {
		char *ln;
		size_t n;
		int rc = trc_lines_next(&r->lines, &ln, &n, d);
		if (rc < 0)
			return rc;
		if (rc == 0 || is_summary(ln, n)) {
			s->done = 1;
			return s->in_interval ? finish_interval(r, s) : 0;
		}
		struct fld t = trim(ln, n);
		if (t.n == 0 || t.s[0] == '#')
			continue;
		if (!s->layout_set && s->sep == 0)
			detect_layout(s, ln, n);
		struct ps_line pl = { .line = r->lines.line };
		rc = s->csv ? parse_csv(r, s, ln, n, &pl)
			    : parse_human(r, s, ln, n, &pl);
		if (rc < 0)
			return rc;
		if (rc == 0)
			continue;
		if (!s->in_interval) {
			s->in_interval = 1;
			s->cur_t = pl.t_ns;
		} else if (pl.opens) { /* time_gate checked the order */
			s->pend = pl;
			s->pending = 1;
			return finish_interval(r, s);
		}
		rc = apply(r, s, &pl);
		if (rc < 0)
			return rc;
	}
}

/* ---- ops ----------------------------------------------------------------- */

static int ps_open(struct trc_reader *r, struct jv_diag *d)
{
	struct ps_state *s = calloc(1, sizeof *s);
	if (!s)
		return jv_diag_set(d, JV_ENOMEM, r->name, 0, "out of memory");
	r->priv = s;
	s->first_extra = -1;
	s->last_key_vm = -1;
	jv_diag_clear(&r->err);
	int rc = fill_interval(r, s, &r->err);
	if (rc == 0 && s->n_intervals == 0)
		rc = jv_diag_set(&r->err, JV_EEMPTY, r->name, 0,
				 "no interval lines: expected perf stat -I "
				 "output such as '1.000123456,1234,,cycles,"
				 "1000000,100.00'");
	if (rc < 0) {
		if (d && !d->err)
			*d = r->err;
		jv_diag_clear(&r->err);
		return rc;
	}
	return 0;
}

static int ps_next(struct trc_reader *r, struct trc_record *rec,
		   struct jv_diag *d)
{
	struct ps_state *s = r->priv;
	for (;;) {
		while (s->emit_next < s->emit_end) {
			int vm = s->emit_next++;
			const struct ps_vm *v = &s->vm[vm];
			if (!v->active)
				continue;
			rec->kind = TRC_PMC_INTERVAL;
			rec->line = s->cur_line;
			rec->u.pmci.t_ns = s->emit_t;
			rec->u.pmci.vm = vm;
			memcpy(rec->u.pmci.delta, v->delta, sizeof v->delta);
			return 1;
		}
		if (s->done)
			return 0;
		int rc = fill_interval(r, s, d);
		if (rc < 0)
			return rc;
	}
}

static void ps_close(struct trc_reader *r)
{
	struct ps_state *s = r->priv;
	if (!s)
		return;
	free(s->vm);
	free(s);
	r->priv = NULL;
}

static size_t ps_mem_b(const struct trc_reader *r)
{
	const struct ps_state *s = r->priv;
	return s ? sizeof *s + s->vm_cap * sizeof *s->vm : 0;
}

const struct trc_format trc_fmt_perf_stat = {
	"perf-stat", TRC_PMC_INTERVAL, ps_probe, ps_open, ps_next, ps_close,
	ps_mem_b,
};
