/*
 * fmt_perf_script: reader of `perf script` text output into TRC_PMC records
 * (cumulative counters per CPU, one record per context switch or per
 * counter sample).
 *
 * Problem: the paper's energy accounting needs, at every context switch on
 * a CPU, the task that ran there and the counters it consumed (design §5,
 * `pmc` log). On Linux this comes from `perf record -e sched:sched_switch
 * -e cycles -e instructions -a` rendered by `perf script`; published
 * captures often hold counter samples only.
 *
 * Input: perf script's default output. An event line is
 *   COMM TID [CPU] SECONDS: [PERIOD] EVENT: ARGS
 * e.g. "noploop 21796 [001] 1410597.984841: instructions:" or
 * "perf 1234 [000] 5.000001: sched:sched_switch: prev_comm=perf
 * prev_pid=1234 prev_prio=120 prev_state=S ==> next_comm=swapper/0
 * next_pid=0 next_prio=120" (the kernel's TP_printk; libtraceevent's
 * plugin form "perf:1234 [120] S ==> swapper/0:0 [120]" is accepted too).
 * COMM may hold spaces; TID may be "PID/TID" (TID is used); SECONDS has any
 * number of decimals (9 count). Indented lines that are not event lines
 * (call chains) and blank lines are ignored; '#' lines are comments,
 * except the `perf script --header` lines "# event : name = E, ...,
 * { sample_period, sample_freq } = N, ..., freq = 1" that give each
 * event's sample period (when not in frequency mode) and kind.
 *
 * Model: an event is a counter event unless it is a tracepoint (the header
 * says type = 2, or its name is SUBSYS:NAME where NAME is not a list of
 * modifier letters such as cycles:u). Counters are the counter events of
 * the header (in its order), or without a header those found in the first
 * 1 MiB of the file (in order of appearance); at most TRC_MAX_COUNTERS.
 * Each counter sample adds its period (the PERIOD field, else the header's
 * sample_period) to counter[event] of its CPU; counters are cumulative per
 * CPU from 0 at the start.
 * - Switch mode (the header or the first 1 MiB holds sched:sched_switch):
 *   each switch on CPU c at time t yields {t, c, vm = prev_pid, counters
 *   of c}: the task switched out is what ran on c since the previous
 *   record of c. VM names are the pid as a decimal string (0 is the idle
 *   task), attrs "pid=N,comm=PREV_COMM".
 * - Sample mode (no sched_switch): each counter sample on CPU c yields {t,
 *   c, vm = TID, counters of c after adding its period}: the sampled task
 *   is charged the period, the best a sample-only capture can tell.
 * t_ns = SECONDS - SECONDS of the first event line of the file (so the
 * first record is near 0); time must not go backwards per CPU (JV_EORDER).
 *
 * Skipped (trc_skipped()): events that are neither counters nor
 * sched:sched_switch (other tracepoints), samples of counter events beyond
 * the 16th or first seen after the first 1 MiB. Errors: a counter sample
 * without a period (no PERIOD field and no header period: record with -c
 * or print with -F +period), a sched_switch in sample mode (first seen
 * after the first 1 MiB), malformed lines, cpu >= 1024, counter overflow.
 * Limits: event names up to 127 bytes, 64 distinct events, lines 64 KiB.
 */
#include "traces/trc_impl.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PSC_MAX_EVENTS 64
#define PSC_EVENT_NAME_MAX_B 127
#define PSC_FRAC_DIGITS 9
#define PSC_NS_PER_S UINT64_C(1000000000)
#define PSC_CPU_DIGITS_MAX 4
#define PSC_SWITCH "sched:sched_switch"
#define PSC_HDR_EVENT "# event : name = "
#define PSC_HDR_PERIOD "{ sample_period, sample_freq } = "
#define PSC_HDR_FREQ ", freq = 1"
#define PSC_HDR_TRACEPOINT "type = 2"
#define PSC_MODIFIERS "ukhIGHpPSDWeb"
#define PSC_ATTRS_MAX_B 96

enum { PSC_SAMPLES = 0, PSC_SWITCHES = 1 };

struct fld {
	const char *s;
	size_t n;
};

struct psc_event {
	char name[PSC_EVENT_NAME_MAX_B + 1];
	size_t len;
	int tracepoint;
	int ctr;            /* counter index, -1 none */
	int hdr;            /* listed in the header */
	uint64_t period;    /* header sample_period, 0 when unknown or freq */
};

/* One event line, parsed in place. */
struct psc_line {
	struct fld comm;
	struct fld tid;
	int cpu;
	int64_t t_ns;       /* absolute */
	int has_period;
	uint64_t period;
	struct fld event;
	struct fld args;
};

struct psc_state {
	int mode;
	int n_ev;
	struct psc_event ev[PSC_MAX_EVENTS];
	int have_header;
	int have_t0;
	int64_t t0;
	size_t cpu_cap;
	uint64_t *cum;      /* cpu_cap x n_ctr */
	int64_t *last_t;    /* per CPU, -1 before the first record */
	long *last_line;
	uint64_t n_other, n_extra;
	char reason[160];
	int last_vm;        /* last task -> VM cache */
	char last_tid[24];
};

/* ---- scanners ----------------------------------------------------------- */

static int is_digit(char c)
{
	return (unsigned)(c - '0') < 10;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t';
}

static int all_digits(struct fld f)
{
	if (f.n == 0)
		return 0;
	for (size_t i = 0; i < f.n; i++)
		if (!is_digit(f.s[i]))
			return 0;
	return 1;
}

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

static const char *find(const char *s, size_t n, const char *lit)
{
	size_t k = strlen(lit);
	for (size_t i = 0; i + k <= n; i++)
		if (s[i] == lit[0] && memcmp(s + i, lit, k) == 0)
			return s + i;
	return NULL;
}

/* Decimal digits of f as uint64; -1 if empty, not digits or too large. */
static int to_u64(struct fld f, uint64_t *out)
{
	uint64_t v = 0;
	if (f.n == 0)
		return -1;
	for (size_t i = 0; i < f.n; i++) {
		if (!is_digit(f.s[i]))
			return -1;
		uint64_t dg = (uint64_t)(f.s[i] - '0');
		if (v > UINT64_MAX / 10 || (v == UINT64_MAX / 10 &&
					    dg > UINT64_MAX % 10))
			return -1;
		v = v * 10 + dg;
	}
	*out = v;
	return 0;
}

/* "SECONDS.FRACTION" at s (n bytes, ending before the ':') -> ns. */
static int parse_secs(const char *s, size_t n, int64_t *out)
{
	uint64_t sec = 0, frac = 0;
	size_t i = 0;
	int nd = 0;
	for (; i < n && is_digit(s[i]); i++) {
		if (sec > (uint64_t)INT64_MAX / PSC_NS_PER_S)
			return -1;
		sec = sec * 10 + (uint64_t)(s[i] - '0');
	}
	if (i == 0 || i == n || s[i] != '.')
		return -1;
	for (i++; i < n && is_digit(s[i]); i++)
		if (nd < PSC_FRAC_DIGITS) {
			frac = frac * 10 + (uint64_t)(s[i] - '0');
			nd++;
		}
	if (i != n || nd == 0)
		return -1;
	for (; nd < PSC_FRAC_DIGITS; nd++)
		frac *= 10;
	uint64_t ns = sec * PSC_NS_PER_S;
	if (ns > (uint64_t)INT64_MAX - frac)
		return -1;
	*out = (int64_t)(ns + frac);
	return 0;
}

/* Position of the " [CPU] SECONDS:" part of an event line: the index of
 * '[' and the time's field, or -1. */
static long find_cpu_time(const char *s, size_t n, size_t *t_start,
			  size_t *t_end)
{
	for (size_t i = 1; i < n; i++) {
		if (s[i] != '[' || !is_space(s[i - 1]))
			continue;
		size_t j = i + 1, d0 = j;
		while (j < n && is_digit(s[j]) && j - d0 < PSC_CPU_DIGITS_MAX + 1)
			j++;
		if (j == d0 || j - d0 > PSC_CPU_DIGITS_MAX || j >= n || s[j] != ']')
			continue;
		j++;
		size_t sp = j;
		while (j < n && is_space(s[j]))
			j++;
		if (j == sp)
			continue;
		size_t ts = j;
		while (j < n && (is_digit(s[j]) || s[j] == '.'))
			j++;
		if (j == ts || j >= n || s[j] != ':')
			continue;
		*t_start = ts;
		*t_end = j;
		return (long)i;
	}
	return -1;
}

/* Parse an event line. 1 when it is one, 0 when not (no "[CPU] TIME:"),
 * < 0 malformed (*why set). Does not need a NUL terminator. */
static int parse_event_line(const char *s, size_t n, struct psc_line *o,
			    const char **why)
{
	size_t ts, te;
	long br = find_cpu_time(s, n, &ts, &te);
	if (br < 0)
		return 0;
	/* before '[': COMM TID */
	size_t e = (size_t)br;
	while (e && is_space(s[e - 1]))
		e--;
	size_t b = e;
	while (b && !is_space(s[b - 1]))
		b--;
	o->tid = (struct fld){ s + b, e - b };
	const char *slash = memchr(o->tid.s, '/', o->tid.n);
	if (slash) /* PID/TID */
		o->tid = (struct fld){ slash + 1,
				       (size_t)(o->tid.s + o->tid.n - slash - 1) };
	if (!all_digits(o->tid) || o->tid.n > 10) {
		*why = "tid: expected 'COMM TID [CPU] SECONDS: EVENT:' with a "
		       "numeric TID";
		return -1;
	}
	size_t ce = b;
	while (ce && is_space(s[ce - 1]))
		ce--;
	size_t cb = 0;
	while (cb < ce && is_space(s[cb]))
		cb++;
	o->comm = (struct fld){ s + cb, ce - cb };
	uint64_t cpu = 0;
	for (size_t k = (size_t)br + 1; s[k] != ']'; k++)
		cpu = cpu * 10 + (uint64_t)(s[k] - '0');
	if (cpu >= TRC_MAX_CPUS) {
		*why = "cpu: out of range (0..1023)";
		return -1;
	}
	o->cpu = (int)cpu;
	if (parse_secs(s + ts, te - ts, &o->t_ns) < 0) {
		*why = "time: expected SECONDS.FRACTION before ':'";
		return -1;
	}
	const char *p = s + te + 1, *end = s + n;
	struct fld w = word(&p, end);
	o->has_period = 0;
	if (all_digits(w)) {
		if (to_u64(w, &o->period) < 0) {
			*why = "period: out of range";
			return -1;
		}
		o->has_period = 1;
		w = word(&p, end);
	}
	if (w.n < 2 || w.s[w.n - 1] != ':') {
		*why = "event: expected 'EVENT:' after the time";
		return -1;
	}
	o->event = (struct fld){ w.s, w.n - 1 };
	while (p < end && is_space(*p))
		p++;
	o->args = (struct fld){ p, (size_t)(end - p) };
	return 1;
}

static int name_is_tracepoint(struct fld ev)
{
	const char *c = NULL;
	for (size_t i = ev.n; i-- > 0;)
		if (ev.s[i] == ':') {
			c = ev.s + i;
			break;
		}
	if (!c || c == ev.s)
		return 0;
	size_t k = (size_t)(ev.s + ev.n - c - 1);
	if (k == 0)
		return 1;
	for (size_t i = 0; i < k; i++)
		if (!strchr(PSC_MODIFIERS, c[1 + i]))
			return 1;
	return 0; /* cycles:u, instructions:ppp */
}

/* ---- events -------------------------------------------------------------- */

static int event_find(const struct psc_state *s, struct fld ev)
{
	for (int i = 0; i < s->n_ev; i++)
		if (s->ev[i].len == ev.n && memcmp(s->ev[i].name, ev.s, ev.n) == 0)
			return i;
	return -1;
}

/* Index of ev, added when new (-1 when the table is full or the name too
 * long: such events are treated as unknown). */
static int event_add(struct psc_state *s, struct fld ev, int tracepoint)
{
	int i = event_find(s, ev);
	if (i >= 0)
		return i;
	if (s->n_ev >= PSC_MAX_EVENTS || ev.n > PSC_EVENT_NAME_MAX_B || !ev.n)
		return -1;
	struct psc_event *e = &s->ev[s->n_ev];
	memset(e, 0, sizeof *e);
	memcpy(e->name, ev.s, ev.n);
	e->name[ev.n] = '\0';
	e->len = ev.n;
	e->tracepoint = tracepoint;
	e->ctr = -1;
	return s->n_ev++;
}

/* "# event : name = cycles, , id = {...}, ..., { sample_period,
 * sample_freq } = 100000000, ..." */
static void header_event(struct psc_state *s, const char *ln, size_t n)
{
	size_t k = sizeof PSC_HDR_EVENT - 1;
	const char *nm = ln + k, *end = ln + n;
	const char *comma = memchr(nm, ',', (size_t)(end - nm));
	struct fld ev = { nm, (size_t)((comma ? comma : end) - nm) };
	while (ev.n && is_space(ev.s[ev.n - 1]))
		ev.n--;
	int tp = find(ln, n, PSC_HDR_TRACEPOINT) != NULL || name_is_tracepoint(ev);
	int i = event_add(s, ev, tp);
	if (i < 0)
		return;
	struct psc_event *e = &s->ev[i];
	e->hdr = 1;
	e->tracepoint = tp;
	const char *pp = find(ln, n, PSC_HDR_PERIOD);
	if (pp && !find(ln, n, PSC_HDR_FREQ)) {
		const char *d = pp + sizeof PSC_HDR_PERIOD - 1;
		struct fld f = { d, 0 };
		while (d + f.n < end && is_digit(d[f.n]))
			f.n++;
		uint64_t v;
		if (to_u64(f, &v) == 0)
			e->period = v;
	}
	s->have_header = 1;
}

/* Look at the buffered start of the file (up to 1 MiB) without consuming
 * it: header events, events of the first lines, sched_switch presence. */
static void prescan(struct trc_reader *r, struct psc_state *s, int *has_switch)
{
	size_t n;
	const char *p = trc_lines_peek(&r->lines, &n), *end = p + n;
	*has_switch = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl && !r->lines.eof)
			break; /* a line cut by the window */
		const char *le = nl ? nl : end;
		size_t len = (size_t)(le - p);
		if (len && p[len - 1] == '\r')
			len--;
		if (len >= sizeof PSC_HDR_EVENT - 1 &&
		    memcmp(p, PSC_HDR_EVENT, sizeof PSC_HDR_EVENT - 1) == 0) {
			header_event(s, p, len);
		} else if (len && p[0] != '#') {
			struct psc_line pl;
			const char *why;
			if (parse_event_line(p, len, &pl, &why) == 1) {
				if (!s->have_header && event_find(s, pl.event) < 0)
					event_add(s, pl.event,
						  name_is_tracepoint(pl.event));
				if (pl.event.n == sizeof PSC_SWITCH - 1 &&
				    memcmp(pl.event.s, PSC_SWITCH, pl.event.n) == 0)
					*has_switch = 1;
			}
		}
		p = nl ? nl + 1 : end;
	}
	for (int i = 0; i < s->n_ev; i++)
		if (s->ev[i].len == sizeof PSC_SWITCH - 1 &&
		    memcmp(s->ev[i].name, PSC_SWITCH, s->ev[i].len) == 0)
			*has_switch = 1;
}

static int set_counters(struct trc_reader *r, struct psc_state *s)
{
	for (int i = 0; i < s->n_ev; i++) {
		struct psc_event *e = &s->ev[i];
		if (e->tracepoint || r->n_counters >= TRC_MAX_COUNTERS)
			continue;
		char *nm = strdup(e->name);
		if (!nm)
			return JV_ENOMEM;
		for (char *c = nm; *c; c++)
			if (*c == ',')
				*c = ' '; /* names of native CSV headers */
		e->ctr = r->n_counters;
		r->counters[r->n_counters++] = nm;
	}
	return 0;
}

/* ---- per-CPU state ---------------------------------------------------- */

static int cpu_grow(struct psc_state *s, int n_ctr, size_t need)
{
	size_t cap = s->cpu_cap ? s->cpu_cap : 8;
	while (cap < need)
		cap *= 2;
	int64_t *t = realloc(s->last_t, cap * sizeof *t);
	if (!t)
		return JV_ENOMEM;
	s->last_t = t;
	long *l = realloc(s->last_line, cap * sizeof *l);
	if (!l)
		return JV_ENOMEM;
	s->last_line = l;
	size_t per = n_ctr ? (size_t)n_ctr : 1;
	uint64_t *c = realloc(s->cum, cap * per * sizeof *c);
	if (!c)
		return JV_ENOMEM;
	s->cum = c;
	memset(c + s->cpu_cap * per, 0, (cap - s->cpu_cap) * per * sizeof *c);
	for (size_t i = s->cpu_cap; i < cap; i++) {
		t[i] = -1;
		l[i] = 0;
	}
	s->cpu_cap = cap;
	return 0;
}

/* ---- errors ------------------------------------------------------------- */

static int line_err(struct trc_reader *r, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int line_err(struct trc_reader *r, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	jv_diag_vset(&r->err, code, r->name, r->lines.line, fmt, ap);
	va_end(ap);
	return code;
}

static void update_reason(struct trc_reader *r, struct psc_state *s)
{
	int n = 0;
	r->skipped = s->n_other + s->n_extra;
	s->reason[0] = '\0';
	if (s->n_other)
		n = snprintf(s->reason, sizeof s->reason,
			     "%" PRIu64 " events other than counter samples and "
			     "sched:sched_switch", s->n_other);
	if (s->n_extra && n >= 0 && (size_t)n < sizeof s->reason)
		snprintf(s->reason + n, sizeof s->reason - (size_t)n,
			 "%s%" PRIu64 " samples of events that are not counters "
			 "(beyond the 16th or first seen after the first MiB)",
			 n ? "; " : "", s->n_extra);
	r->skip_reason = s->reason;
}

/* ---- records -------------------------------------------------------------- */

/* Intern the task tid (comm for its attrs) as a VM. */
static int task_vm(struct trc_reader *r, struct psc_state *s, struct fld tid,
		   struct fld comm)
{
	if (s->last_vm >= 0 && tid.n == strlen(s->last_tid) &&
	    memcmp(tid.s, s->last_tid, tid.n) == 0)
		return s->last_vm;
	int n0 = r->vms.n;
	int vm = trc_names_intern(&r->vms, tid.s, tid.n,
				  trc_names_hash(tid.s, tid.n));
	if (vm == JV_ELIMIT)
		return line_err(r, JV_ELIMIT, "too many distinct tasks (more "
			       "than %d)", TRC_MAX_VMS);
	if (vm < 0)
		return line_err(r, JV_ENOMEM, "out of memory");
	if (r->vms.n > n0) {
		char attrs[PSC_ATTRS_MAX_B];
		int k = snprintf(attrs, sizeof attrs, "pid=%.*s,comm=", (int)tid.n,
				 tid.s);
		size_t at = (size_t)k;
		for (size_t i = 0; i < comm.n && at + 1 < sizeof attrs; i++) {
			char c = comm.s[i];
			attrs[at++] = (c == ',' || c == '=' ||
				       (unsigned char)c < 0x20) ? '_' : c;
		}
		attrs[at] = '\0';
		if (trc_names_set_attrs(&r->vms, vm, attrs) < 0)
			return line_err(r, JV_ENOMEM, "out of memory");
	}
	memcpy(s->last_tid, tid.s, tid.n);
	s->last_tid[tid.n] = '\0';
	s->last_vm = vm;
	return vm;
}

/* prev_pid and prev_comm of a sched_switch's arguments. */
static int switch_prev(struct fld a, struct fld *pid, struct fld *comm)
{
	const char *arrow = find(a.s, a.n, " ==> ");
	if (!arrow)
		return -1;
	size_t ln = (size_t)(arrow - a.s);
	const char *pc = find(a.s, ln, "prev_comm=");
	const char *pp = find(a.s, ln, " prev_pid=");
	if (pc && pp && pp > pc) { /* kernel TP_printk form */
		*comm = (struct fld){ pc + 10, (size_t)(pp - pc - 10) };
		const char *d = pp + 10;
		size_t k = 0;
		while (d + k < arrow && is_digit(d[k]))
			k++;
		*pid = (struct fld){ d, k };
		return k ? 0 : -1;
	}
	/* plugin form "COMM:PID [PRIO] STATE": the last ':' before digits
	 * that end at a space or at the arrow */
	for (size_t i = ln; i-- > 0;) {
		if (a.s[i] != ':')
			continue;
		size_t k = 0;
		while (i + 1 + k < ln && is_digit(a.s[i + 1 + k]))
			k++;
		if (k && (i + 1 + k == ln || is_space(a.s[i + 1 + k]))) {
			*pid = (struct fld){ a.s + i + 1, k };
			*comm = (struct fld){ a.s, i };
			return 0;
		}
	}
	return -1;
}

static int order_check(struct trc_reader *r, struct psc_state *s, int cpu,
		       int64_t t)
{
	if ((size_t)cpu >= s->cpu_cap && cpu_grow(s, r->n_counters,
						  (size_t)cpu + 1) < 0)
		return line_err(r, JV_ENOMEM, "out of memory");
	if (t < s->last_t[cpu])
		return line_err(r, JV_EORDER,
				"time: goes backwards (%" PRId64 " < %" PRId64
				" ns at line %ld) for cpu %d", t, s->last_t[cpu],
				s->last_line[cpu], cpu);
	return 0;
}

static void fill_record(struct trc_reader *r, struct psc_state *s,
			struct trc_record *rec, int cpu, int vm, int64_t t)
{
	rec->kind = TRC_PMC;
	rec->line = r->lines.line;
	rec->u.pmc.t_ns = t;
	rec->u.pmc.cpu = cpu;
	rec->u.pmc.vm = vm;
	int i = 0;
	for (; i < r->n_counters; i++)
		rec->u.pmc.ctr[i] = s->cum[(size_t)cpu * (size_t)r->n_counters + i];
	for (; i < TRC_MAX_COUNTERS; i++)
		rec->u.pmc.ctr[i] = 0;
	s->last_t[cpu] = t;
	s->last_line[cpu] = r->lines.line;
}

/* A counter sample: add its period. 1 when counted, 0 when skipped. */
static int add_sample(struct trc_reader *r, struct psc_state *s,
		      const struct psc_line *pl, int ev)
{
	char q[80];
	if (ev < 0 || s->ev[ev].ctr < 0) {
		s->n_extra++;
		update_reason(r, s);
		return 0;
	}
	const struct psc_event *e = &s->ev[ev];
	uint64_t period = pl->has_period ? pl->period : e->period;
	if (!pl->has_period && !e->period)
		return line_err(r, JV_EPARSE,
				"period: sample of '%s' without a period: the "
				"line has none and the header gives none (record "
				"with -c N, or print with perf script -F +period)",
				trc_quote(q, sizeof q, e->name, e->len));
	uint64_t *c = &s->cum[(size_t)pl->cpu * (size_t)r->n_counters +
			      (size_t)e->ctr];
	if (*c > UINT64_MAX - period)
		return line_err(r, JV_ERANGE, "%s: cumulative counter of cpu %d "
				"overflows", e->name, pl->cpu);
	*c += period;
	return 1;
}

/* One event line. 1 with rec filled, 0 nothing to yield, < 0 error. */
static int event_line(struct trc_reader *r, struct psc_state *s,
		      const struct psc_line *pl, struct trc_record *rec)
{
	char q[80];
	if (!s->have_t0) {
		s->have_t0 = 1;
		s->t0 = pl->t_ns;
	}
	int64_t t = pl->t_ns - s->t0;
	if (t < 0)
		return line_err(r, JV_EORDER,
				"time: before the first event of the file (%"
				PRId64 " ns earlier)", -t);
	int is_switch = pl->event.n == sizeof PSC_SWITCH - 1 &&
			memcmp(pl->event.s, PSC_SWITCH, pl->event.n) == 0;
	int ev = event_find(s, pl->event);
	int tp = ev >= 0 ? s->ev[ev].tracepoint : name_is_tracepoint(pl->event);
	int rc = order_check(r, s, pl->cpu, t);
	if (rc < 0)
		return rc;
	if (is_switch) {
		if (s->mode != PSC_SWITCHES)
			return line_err(r, JV_EPARSE,
					"sched:sched_switch first seen after the "
					"first MiB, which held counter samples "
					"only (the file was read in sample mode)");
		struct fld pid, comm;
		if (switch_prev(pl->args, &pid, &comm) < 0 || pid.n > 10)
			return line_err(r, JV_EPARSE,
					"sched_switch: expected 'prev_comm=X "
					"prev_pid=N ... ==> next_comm=Y next_pid="
					"M' (or 'X:N [P] S ==> Y:M [P]'), found "
					"'%s'", trc_quote(q, sizeof q, pl->args.s,
							  pl->args.n));
		int vm = task_vm(r, s, pid, comm);
		if (vm < 0)
			return vm;
		fill_record(r, s, rec, pl->cpu, vm, t);
		return 1;
	}
	if (tp) {
		s->n_other++;
		update_reason(r, s);
		return 0;
	}
	rc = add_sample(r, s, pl, ev);
	if (rc <= 0 || s->mode == PSC_SWITCHES)
		return rc < 0 ? rc : 0; /* switch mode: records at switches */
	int vm = task_vm(r, s, pl->tid, pl->comm);
	if (vm < 0)
		return vm;
	fill_record(r, s, rec, pl->cpu, vm, t);
	return 1;
}

/* ---- ops --------------------------------------------------------------- */

static int psc_probe(const char *head, size_t len)
{
	static const char hdr[] = "# ========\n# captured on";
	if (len >= sizeof hdr - 1 && memcmp(head, hdr, sizeof hdr - 1) == 0)
		return 1;
	const char *p = head, *end = head + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		size_t n = (size_t)(le - p);
		if (n && p[n - 1] == '\r')
			n--;
		size_t i = 0;
		while (i < n && is_space(p[i]))
			i++;
		if (i == n || p[i] == '#') {
			p = nl ? nl + 1 : end;
			continue;
		}
		struct psc_line pl;
		const char *why;
		return parse_event_line(p, n, &pl, &why) == 1;
	}
	return 0;
}

static int psc_open(struct trc_reader *r, struct jv_diag *d)
{
	struct psc_state *s = calloc(1, sizeof *s);
	if (!s)
		return jv_diag_set(d, JV_ENOMEM, r->name, 0, "out of memory");
	r->priv = s;
	s->last_vm = -1;
	long got = trc_lines_fill(&r->lines, r->lines.cap, d);
	if (got < 0)
		return (int)got;
	int has_switch;
	prescan(r, s, &has_switch);
	s->mode = has_switch ? PSC_SWITCHES : PSC_SAMPLES;
	if (set_counters(r, s) < 0)
		return jv_diag_set(d, JV_ENOMEM, r->name, 0, "out of memory");
	if (!has_switch && r->n_counters == 0)
		return jv_diag_set(d, JV_EEMPTY, r->name, 0,
				   "no counter samples and no sched:sched_switch "
				   "events in the header or the first MiB "
				   "(expected perf script output such as 'perf "
				   "1234 [000] 5.000001: 250000 cycles: ...')");
	if (cpu_grow(s, r->n_counters, 8) < 0)
		return jv_diag_set(d, JV_ENOMEM, r->name, 0, "out of memory");
	return 0;
}

static int psc_next(struct trc_reader *r, struct trc_record *rec,
		    struct jv_diag *d)
{
	struct psc_state *s = r->priv;
	for (;;) {
		char *ln;
		size_t n;
		int rc = trc_lines_next(&r->lines, &ln, &n, d);
		if (rc <= 0)
			return rc;
		if (n == 0 || ln[0] == '#')
			continue;
		struct psc_line pl;
		const char *why = "";
		rc = parse_event_line(ln, n, &pl, &why);
		if (rc < 0) {
			char q[80];
			return line_err(r, JV_EPARSE, "%s, found '%s'", why,
					trc_quote(q, sizeof q, ln, n));
		}
		if (rc == 0) {
			if (is_space(ln[0]))
				continue; /* call chain, raw fields, blank */
			char q[80];
			return line_err(r, JV_EPARSE,
					"expected an event line 'COMM TID [CPU] "
					"SECONDS: [PERIOD] EVENT: ...', found '%s'",
					trc_quote(q, sizeof q, ln, n));
		}
		rc = event_line(r, s, &pl, rec);
		if (rc != 0)
			return rc;
	}
}

static void psc_close(struct trc_reader *r)
{
	struct psc_state *s = r->priv;
	if (!s)
		return;
	free(s->cum);
	free(s->last_t);
	free(s->last_line);
	free(s);
	r->priv = NULL;
}

static size_t psc_mem_b(const struct trc_reader *r)
{
	const struct psc_state *s = r->priv;
	if (!s)
		return 0;
	size_t per = r->n_counters ? (size_t)r->n_counters : 1;
	return sizeof *s + s->cpu_cap * (sizeof *s->last_t + sizeof *s->last_line +
					 per * sizeof *s->cum);
}

const struct trc_format trc_fmt_perf_script = {
	"perf-script", TRC_PMC, psc_probe, psc_open, psc_next, psc_close,
	psc_mem_b,
};
