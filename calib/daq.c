/*
 * daq: meter log import (daq.h).
 *
 * Problem: power meters and DAQ boards write every flavour of delimited
 * text: WattsUp `epoch,W, V, A, 0.0, ...` rows, 4-channel A/D dumps
 * `0.43,0.52,0.52,-5.12,` without a header and with a trailing comma,
 * SmartPower logs with a header, ISO times and `b'04988'` fields. The user
 * describes channels as expressions; the importer must get sample counts,
 * units and time bases right and report any bad value at FILE:LINE.
 *
 * Strategy: lines are read with getline(); blank lines and comment lines
 * are skipped here (libcsv knows no comments), the rest is fed to libcsv
 * line by line, so a row's line number is the line where it ended (quoted
 * fields may span lines). libcsv trims spaces and tabs around unquoted
 * fields; in white-space mode tabs become spaces and empty fields from
 * runs of blanks are dropped. A trailing empty field (a trailing
 * delimiter) is dropped. The first row decides the header (auto: a row
 * with any non-numeric field) and the column count; expressions are then
 * compiled against the header, and each data row is parsed only in the
 * columns the expressions and the time column read.
 *
 * Energy meters: with opts.energy the channels are cumulative joules and
 * become power by differencing successive samples (a decrease, e.g. a
 * counter reset, is an error naming the line).
 *
 * Time: a time column in s, ms, us or ns is taken as is (converted to
 * seconds); epoch and ISO 8601 times are made relative to the first
 * sample (t_origin_s keeps the absolute start). Without a time column,
 * sample i is at i / rate. Times must not decrease. The reported rate is
 * the given one or 1 / median spacing.
 *
 * Limits: lines up to CAL_LINE_MAX_B bytes, CAL_MAX_CHANNELS channels,
 * memory O(samples x channels). ISO times without a zone are taken as UTC
 * (only differences matter).
 */
#include "calib/daq.h"

#include <csv.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calib/expr.h"

#define DAQ_INIT_CAP 4096
#define DAQ_MAX_FIELDS 4096   /* columns per row */
#define DAQ_FIELD_QUOTE_MAX 40 /* characters of a bad field quoted */
#define SEC_PER_DAY 86400.0

void cal_meter_opts_init(struct cal_meter_opts *o)
{
	memset(o, 0, sizeof *o);
	o->header = -1;
	o->comment = '#';
	o->time_unit = CAL_TIME_S;
}

static const char *const TIME_UNITS[] = {"s", "ms", "us", "ns", "epoch", "iso"};

int cal_time_unit_parse(const char *name, int *unit)
{
	for (int i = 0; i < (int)(sizeof TIME_UNITS / sizeof *TIME_UNITS); i++)
		if (strcmp(name, TIME_UNITS[i]) == 0) {
			*unit = i;
			return 0;
		}
	return JV_EUNKNOWN;
}

const char *cal_time_unit_name(int unit)
{
	if (unit < 0 || unit >= (int)(sizeof TIME_UNITS / sizeof *TIME_UNITS))
		return "?";
	return TIME_UNITS[unit];
}

int cal_channel_parse(const char *text, struct cal_channel_def *ch, struct jv_diag *d)
{
	const char *eq = strchr(text, '=');
	if (!eq || eq == text)
		return jv_diag_set(d, JV_EUSAGE, NULL, 0,
				   "--channel expects NAME=EXPRESSION, got '%.80s'", text);
	size_t n = (size_t)(eq - text);
	if (n >= CAL_NAME_MAX)
		return jv_diag_set(d, JV_ELIMIT, NULL, 0, "--channel: name longer than %d characters",
				   CAL_NAME_MAX - 1);
	for (size_t i = 0; i < n; i++) {
		char c = text[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return jv_diag_set(d, JV_EUSAGE, NULL, 0,
					   "--channel: bad name '%.*s' (use A-Z a-z 0-9 _ . -)",
					   (int)n, text);
	}
	memcpy(ch->name, text, n);
	ch->name[n] = '\0';
	ch->expr = eq + 1;
	return 0;
}

/* ---- loader state ---------------------------------------------------------- */

struct loader {
	const char *path;
	const struct cal_meter_opts *o;
	struct cal_meter *m;
	struct jv_diag *d;
	int err;
	long line;
	int ws_mode;
	/* current row */
	char **field;
	size_t *flen;
	int nf, fcap;
	/* after the first row */
	int rows_seen;
	char **names;
	int n_names;
	struct cal_expr *ex[CAL_MAX_CHANNELS], *sync_ex;
	int time_col;   /* -1: index */
	int need_max;   /* highest column read */
	unsigned char *need;
	double *row;    /* parsed values, n_cols */
	size_t cap;
	double t_first_abs;
};

static int lerr(struct loader *L, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int lerr(struct loader *L, int err, const char *fmt, ...)
{
	if (L->err)
		return L->err;
	va_list ap;
	char msg[JV_DIAG_MAX];
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	L->err = jv_diag_set(L->d, err, L->path, L->line, "%s", msg);
	return L->err;
}

static void quote_field(const char *s, size_t n, char *buf, size_t cap)
{
	size_t k = 0;
	for (size_t i = 0; i < n && k + 4 < cap && i < DAQ_FIELD_QUOTE_MAX; i++) {
		unsigned char c = (unsigned char)s[i];
		buf[k++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	if (n > DAQ_FIELD_QUOTE_MAX && k + 4 < cap) {
		memcpy(buf + k, "...", 3);
		k += 3;
	}
	buf[k] = '\0';
}

/* Parse a number field: optional b'...' wrapper, sign, decimal, exponent;
 * no nan/inf/hex. Returns 1 on success. */
static int parse_num(const char *s, size_t n, double *out)
{
	char buf[128];
	if (n >= 3 && s[0] == 'b' && (s[1] == '\'' || s[1] == '"') && s[n - 1] == s[1]) {
		s += 2;
		n -= 3;
	}
	while (n && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n == 0 || n >= sizeof buf)
		return 0;
	memcpy(buf, s, n);
	buf[n] = '\0';
	const char *p = buf;
	if (*p == '+' || *p == '-')
		p++;
	if (!((*p >= '0' && *p <= '9') || *p == '.'))
		return 0;
	if (strchr(buf, 'x') || strchr(buf, 'X'))
		return 0;
	char *end;
	errno = 0;
	double v = strtod(buf, &end);
	if (*end || !isfinite(v))
		return 0;
	*out = v;
	return 1;
}

static int is_leap(long y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
static double days_from_civil(long y, long m, long dd)
{
	y -= m <= 2;
	long era = (y >= 0 ? y : y - 399) / 400;
	long yoe = y - era * 400;
	long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + dd - 1;
	long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (double)(era * 146097 + doe - 719468);
}

static int digits(const char *s, int n, long *v)
{
	long x = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		x = x * 10 + (s[i] - '0');
	}
	*v = x;
	return 1;
}

/* ISO 8601 "YYYY-MM-DD[T ]HH:MM[:SS[.frac]][Z|+HH:MM|-HH:MM|+HHMM]". */
static int parse_iso(const char *s, size_t n, double *out)
{
	char b[80];
	if (n >= sizeof b || n < 16)
		return 0;
	memcpy(b, s, n);
	b[n] = '\0';
	long y, mo, dd, hh, mi, ss = 0;
	if (!digits(b, 4, &y) || b[4] != '-' || !digits(b + 5, 2, &mo) || b[7] != '-' ||
	    !digits(b + 8, 2, &dd) || (b[10] != 'T' && b[10] != ' ' && b[10] != 't') ||
	    !digits(b + 11, 2, &hh) || b[13] != ':' || !digits(b + 14, 2, &mi))
		return 0;
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (mo < 1 || mo > 12 || dd < 1 || dd > mdays[mo - 1] + (mo == 2 && is_leap(y)) ||
	    hh > 24 || mi > 59)
		return 0;
	const char *p = b + 16;
	double frac = 0.0;
	if (*p == ':') {
		if (!digits(p + 1, 2, &ss) || ss > 60)
			return 0;
		p += 3;
		if (*p == '.' || *p == ',') {
			double scale = 0.1;
			p++;
			if (*p < '0' || *p > '9')
				return 0;
			while (*p >= '0' && *p <= '9') {
				frac += (*p - '0') * scale;
				scale *= 0.1;
				p++;
			}
		}
	}
	double tz = 0.0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		long th, tm = 0;
		int sign = *p == '-' ? -1 : 1;
		if (!digits(p + 1, 2, &th))
			return 0;
		p += 3;
		if (*p == ':')
			p++;
		if (*p && !digits(p, 2, &tm))
			return 0;
		if (*p)
			p += 2;
		tz = sign * (double)(th * 3600 + tm * 60);
	}
	if (*p)
		return 0;
	*out = days_from_civil(y, mo, dd) * SEC_PER_DAY + (double)(hh * 3600 + mi * 60 + ss) +
	       frac - tz;
	return 1;
}

/* ---- libcsv callbacks ------------------------------------------------------------ */

static void on_field(void *s, size_t len, void *data)
{
	struct loader *L = data;
	if (L->err)
		return;
	if (L->ws_mode && len == 0)
		return;
	if (L->nf >= DAQ_MAX_FIELDS) {
		lerr(L, JV_ELIMIT, "more than %d fields in a row", DAQ_MAX_FIELDS);
		return;
	}
	if (L->nf == L->fcap) {
		int cap = L->fcap ? 2 * L->fcap : 16;
		char **f = realloc(L->field, (size_t)cap * sizeof *f);
		size_t *fl = f ? realloc(L->flen, (size_t)cap * sizeof *fl) : NULL;
		if (f)
			L->field = f;
		if (!f || !fl) {
			lerr(L, JV_ENOMEM, "out of memory");
			return;
		}
		L->flen = fl;
		for (int i = L->fcap; i < cap; i++)
			L->field[i] = NULL;
		L->fcap = cap;
	}
	char *copy = malloc(len + 1);
	if (!copy) {
		lerr(L, JV_ENOMEM, "out of memory");
		return;
	}
	if (len)
		memcpy(copy, s, len);
	copy[len] = '\0';
	free(L->field[L->nf]);
	L->field[L->nf] = copy;
	L->flen[L->nf] = len;
	L->nf++;
}

static int find_column(struct loader *L, const char *name)
{
	for (int i = 0; i < L->n_names; i++)
		if (L->names[i] && strcmp(L->names[i], name) == 0)
			return i;
	if ((name[0] == 'c' || name[0] == 'C') && name[1] >= '1' && name[1] <= '9') {
		char *end;
		long k = strtol(name + 1, &end, 10);
		if (!*end && k >= 1 && k <= L->m->n_cols)
			return (int)(k - 1);
	}
	return -1;
}

static int row_all_numeric(struct loader *L)
{
	double v;
	for (int i = 0; i < L->nf; i++)
		if (!parse_num(L->field[i], L->flen[i], &v))
			return 0;
	return 1;
}

static int setup_columns(struct loader *L, int is_header)
{
	struct cal_meter *m = L->m;
	const struct cal_meter_opts *o = L->o;
	m->n_cols = L->nf;
	m->has_header = is_header;
	if (is_header) {
		L->names = calloc((size_t)L->nf, sizeof *L->names);
		if (!L->names)
			return lerr(L, JV_ENOMEM, "out of memory");
		L->n_names = L->nf;
		for (int i = 0; i < L->nf; i++) {
			L->names[i] = L->field[i];
			L->field[i] = NULL;
		}
	}
	for (int c = 0; c < o->n_channels; c++) {
		char what[CAL_NAME_MAX + 16];
		snprintf(what, sizeof what, "--channel %s", o->ch[c].name);
		int rc = cal_expr_compile(o->ch[c].expr, (const char *const *)L->names, L->n_names,
					  m->n_cols, what, &L->ex[c], L->d);
		if (rc)
			return L->err = rc;
	}
	if (o->sync_expr) {
		int rc = cal_expr_compile(o->sync_expr, (const char *const *)L->names, L->n_names,
					  m->n_cols, "--sync", &L->sync_ex, L->d);
		if (rc)
			return L->err = rc;
	}
	L->time_col = -1;
	if (o->time_col) {
		L->time_col = find_column(L, o->time_col);
		if (L->time_col < 0)
			return lerr(L, JV_EUNKNOWN, "--time: no column '%.60s' (%d columns%s)",
				    o->time_col, m->n_cols, is_header ? ", see the header" : "");
	}
	L->need_max = L->time_col;
	for (int c = 0; c < o->n_channels; c++)
		if (cal_expr_max_col(L->ex[c]) > L->need_max)
			L->need_max = cal_expr_max_col(L->ex[c]);
	if (L->sync_ex && cal_expr_max_col(L->sync_ex) > L->need_max)
		L->need_max = cal_expr_max_col(L->sync_ex);
	L->need = calloc((size_t)m->n_cols + 1, 1);
	L->row = calloc((size_t)m->n_cols + 1, sizeof *L->row);
	if (!L->need || !L->row)
		return lerr(L, JV_ENOMEM, "out of memory");
	for (int k = 0; k < m->n_cols; k++) {
		int used = k == L->time_col;
		for (int c = 0; c < o->n_channels && !used; c++)
			used = cal_expr_uses(L->ex[c], k);
		if (L->sync_ex && cal_expr_uses(L->sync_ex, k))
			used = 1;
		L->need[k] = (unsigned char)used;
	}
	m->n_ch = o->n_channels;
	for (int c = 0; c < o->n_channels; c++)
		snprintf(m->ch_name[c], CAL_NAME_MAX, "%s", o->ch[c].name);
	return 0;
}

static int grow_samples(struct loader *L)
{
	struct cal_meter *m = L->m;
	size_t cap = L->cap ? 2 * L->cap : DAQ_INIT_CAP;
	double *t = realloc(m->t_s, cap * sizeof *t);
	if (!t)
		return lerr(L, JV_ENOMEM, "out of memory");
	m->t_s = t;
	long *ln = realloc(m->line, cap * sizeof *ln);
	if (!ln)
		return lerr(L, JV_ENOMEM, "out of memory");
	m->line = ln;
	for (int c = 0; c < m->n_ch; c++) {
		double *v = realloc(m->v[c], cap * sizeof *v);
		if (!v)
			return lerr(L, JV_ENOMEM, "out of memory");
		m->v[c] = v;
	}
	if (L->sync_ex) {
		double *v = realloc(m->sync, cap * sizeof *v);
		if (!v)
			return lerr(L, JV_ENOMEM, "out of memory");
		m->sync = v;
	}
	L->cap = cap;
	return 0;
}

static const char *col_label(struct loader *L, int k, char *buf, size_t cap)
{
	if (L->names && k < L->n_names && L->names[k] && *L->names[k])
		snprintf(buf, cap, "column %d '%.40s'", k + 1, L->names[k]);
	else
		snprintf(buf, cap, "column c%d", k + 1);
	return buf;
}

static int parse_time(struct loader *L, double *t)
{
	const struct cal_meter_opts *o = L->o;
	int k = L->time_col;
	const char *s = L->field[k];
	size_t n = L->flen[k];
	double v;
	char q[64], lab[80];
	if (o->time_unit == CAL_TIME_ISO) {
		if (!parse_iso(s, n, &v)) {
			quote_field(s, n, q, sizeof q);
			return lerr(L, JV_EPARSE,
				    "%s: not an ISO 8601 time '%s' (expected YYYY-MM-DD HH:MM:SS[.f][Z|+HH:MM])",
				    col_label(L, k, lab, sizeof lab), q);
		}
	} else if (!parse_num(s, n, &v)) {
		quote_field(s, n, q, sizeof q);
		return lerr(L, JV_EPARSE, "%s: not a number '%s' (time in %s)",
			    col_label(L, k, lab, sizeof lab), q, cal_time_unit_name(o->time_unit));
	}
	static const double scale[] = {1.0, 1e-3, 1e-6, 1e-9, 1.0, 1.0};
	v *= scale[o->time_unit];
	if (o->time_unit == CAL_TIME_EPOCH || o->time_unit == CAL_TIME_ISO) {
		if (L->m->n == 0)
			L->t_first_abs = v;
		v -= L->t_first_abs;
	}
	*t = v;
	return 0;
}

static int data_row(struct loader *L)
{
	struct cal_meter *m = L->m;
	const struct cal_meter_opts *o = L->o;
	char q[64], lab[80];
	if (L->nf <= L->need_max)
		return lerr(L, JV_EPARSE, "expected at least %d fields, found %d", L->need_max + 1,
			    L->nf);
	for (int k = 0; k <= L->need_max; k++) {
		if (!L->need[k] || k == L->time_col)
			continue;
		if (!parse_num(L->field[k], L->flen[k], &L->row[k])) {
			quote_field(L->field[k], L->flen[k], q, sizeof q);
			return lerr(L, JV_EPARSE, "%s: not a number '%s'",
				    col_label(L, k, lab, sizeof lab), q);
		}
	}
	if (m->n == L->cap && grow_samples(L))
		return L->err;
	double t = 0.0;
	if (L->time_col >= 0) {
		if (parse_time(L, &t))
			return L->err;
		if (m->n && t < m->t_s[m->n - 1])
			return lerr(L, JV_EORDER, "time goes backwards (%.9g s < %.9g s at line %ld)",
				    t, m->t_s[m->n - 1], m->line[m->n - 1]);
	} else {
		t = (double)m->n / o->rate_hz;
	}
	for (int c = 0; c < m->n_ch; c++) {
		double v = cal_expr_eval(L->ex[c], L->row);
		if (!isfinite(v))
			return lerr(L, JV_ERANGE,
				    "--channel %s: value is not finite (division by zero?)",
				    m->ch_name[c]);
		m->v[c][m->n] = v;
	}
	if (L->sync_ex) {
		double v = cal_expr_eval(L->sync_ex, L->row);
		if (!isfinite(v))
			return lerr(L, JV_ERANGE, "--sync: value is not finite (division by zero?)");
		m->sync[m->n] = v;
	}
	m->t_s[m->n] = t;
	m->line[m->n] = L->line;
	m->n++;
	return 0;
}

static void on_row(int term, void *data)
{
	struct loader *L = data;
	(void)term;
	if (L->err)
		return;
	/* a trailing delimiter leaves one empty last field */
	if (L->nf > 1 && L->flen[L->nf - 1] == 0)
		L->nf--;
	if (L->nf == 0)
		return;
	if (L->rows_seen++ == 0) {
		int hdr = L->o->header;
		if (hdr < 0)
			hdr = !row_all_numeric(L);
		if (setup_columns(L, hdr) || hdr) {
			L->nf = 0;
			return;
		}
	}
	data_row(L);
	L->nf = 0;
}

/* ---- reading --------------------------------------------------------------------- */

static int detect_delim(const char *line)
{
	size_t comma = 0, semi = 0, tab = 0;
	int in_q = 0;
	for (const char *p = line; *p; p++) {
		if (*p == '"')
			in_q = !in_q;
		if (in_q)
			continue;
		comma += *p == ',';
		semi += *p == ';';
		tab += *p == '\t';
	}
	if (comma)
		return ',';
	if (semi)
		return ';';
	if (tab)
		return '\t';
	return ' ';
}

static int no_space(unsigned char c)
{
	(void)c;
	return 0;
}

static int is_blank_or_comment(const char *p, int comment)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return !*p || (comment && *p == comment);
}

static int feed_line(struct loader *L, struct csv_parser *P, char *p, size_t len)
{
	if (L->ws_mode)
		for (size_t i = 0; i < len; i++)
			if (p[i] == '\t')
				p[i] = ' ';
	p[len] = '\n';
	size_t got = csv_parse(P, p, len + 1, on_field, on_row, L);
	p[len] = '\0';
	if (got != len + 1 && !L->err)
		return lerr(L, JV_EPARSE, "CSV error: %s", csv_strerror(csv_error(P)));
	return L->err;
}

static int read_lines(struct loader *L, FILE *f, struct csv_parser *P, int *parser_ready)
{
	char *buf = NULL;
	size_t cap = 0;
	ssize_t len;
	int rc = 0;
	while ((len = getline(&buf, &cap, f)) >= 0) {
		L->line++;
		char *p = buf;
		if ((size_t)len != strlen(buf)) {
			rc = lerr(L, JV_EPARSE, "NUL byte in line");
			break;
		}
		if (len > CAL_LINE_MAX_B) {
			rc = lerr(L, JV_ELIMIT, "line too long (more than %d bytes)", CAL_LINE_MAX_B);
			break;
		}
		if (L->line == 1 && !strncmp(p, "\xEF\xBB\xBF", 3)) {
			p += 3;
			len -= 3;
		}
		while (len > 0 && (p[len - 1] == '\n' || p[len - 1] == '\r'))
			p[--len] = '\0';
		if (!*parser_ready && is_blank_or_comment(p, L->o->comment))
			continue;
		if (*parser_ready == 0) {
			L->m->delim = L->o->delim ? L->o->delim : detect_delim(p);
			L->ws_mode = L->m->delim == ' ';
			if (csv_init(P, CSV_APPEND_NULL)) {
				rc = lerr(L, JV_ENOMEM, "out of memory");
				break;
			}
			csv_set_delim(P, (unsigned char)L->m->delim);
			if (L->ws_mode)
				csv_set_space_func(P, no_space);
			*parser_ready = 1;
		} else if (is_blank_or_comment(p, L->o->comment)) {
			continue;
		}
		if ((rc = feed_line(L, P, p, (size_t)len)))
			break;
	}
	if (!rc && ferror(f))
		rc = lerr(L, JV_EIO, "read error: %s", strerror(errno));
	free(buf);
	return rc;
}

static void set_rate(struct cal_meter *m, const struct cal_meter_opts *o)
{
	if (!o->time_col) {
		m->rate_hz = o->rate_hz;
	} else {
		struct cal_series s;
		cal_series_init(&s);
		if (cal_series_from_samples(&s, m->t_s, m->t_s, m->n, 0.0) == 0) {
			double step = cal_series_median_step(&s);
			m->rate_hz = step > 0 ? 1.0 / step : 0.0;
		}
		cal_series_free(&s);
	}
	m->period_s = m->rate_hz > 0 ? 1.0 / m->rate_hz : 0.0;
}

/* Cumulative energy (J) to power (W): sample i gets the rate over
 * [t_i, t_i+1); the last sample repeats the one before. */
static int energy_to_power(struct cal_meter *m, struct jv_diag *d)
{
	for (int c = 0; c < m->n_ch; c++) {
		double *v = m->v[c];
		for (size_t i = 0; i + 1 < m->n; i++) {
			double dt = m->t_s[i + 1] - m->t_s[i], de = v[i + 1] - v[i];
			if (de < 0)
				return jv_diag_set(d, JV_EORDER, m->path, m->line[i + 1],
						   "--channel %s: cumulative energy goes backwards "
						   "(%.9g J < %.9g J at line %ld)",
						   m->ch_name[c], v[i + 1], v[i], m->line[i]);
			if (!(dt > 0))
				return jv_diag_set(d, JV_EORDER, m->path, m->line[i + 1],
						   "--energy needs increasing times (two samples at %.9g s)",
						   m->t_s[i]);
			v[i] = de / dt;
		}
		v[m->n - 1] = v[m->n - 2];
	}
	return 0;
}

static int check_opts(const char *path, const struct cal_meter_opts *o, struct jv_diag *d)
{
	if (o->n_channels <= 0 && !o->sync_expr)
		return jv_diag_set(d, JV_EUSAGE, path, 0,
				   "no channel defined (use --channel NAME=EXPRESSION)");
	if (o->n_channels > CAL_MAX_CHANNELS)
		return jv_diag_set(d, JV_ELIMIT, path, 0, "more than %d channels",
				   CAL_MAX_CHANNELS);
	for (int i = 0; i < o->n_channels; i++)
		for (int j = 0; j < i; j++)
			if (!strcmp(o->ch[i].name, o->ch[j].name))
				return jv_diag_set(d, JV_EUSAGE, path, 0,
						   "channel '%s' defined twice", o->ch[i].name);
	if (!o->time_col && !(o->rate_hz > 0 && isfinite(o->rate_hz)))
		return jv_diag_set(d, JV_EUSAGE, path, 0,
				   "no time base: give a time column (--time COL) or the sample rate (--rate HZ)");
	return 0;
}

int cal_meter_load(const char *path, const struct cal_meter_opts *o, struct cal_meter **out,
		   struct jv_diag *d)
{
	*out = NULL;
	int rc = check_opts(path, o, d);
	if (rc)
		return rc;
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	if (!f)
		return jv_diag_set(d, JV_ENOENT, path, 0, "cannot open: %s", strerror(errno));
	struct cal_meter *m = calloc(1, sizeof *m);
	struct loader L = {.path = path, .o = o, .m = m, .d = d};
	struct csv_parser P;
	int ready = 0;
	if (!m || !(m->path = strdup(path))) {
		rc = jv_diag_set(d, JV_ENOMEM, path, 0, "out of memory");
		goto done;
	}
	rc = read_lines(&L, f, &P, &ready);
	if (!rc && ready) {
		csv_fini(&P, on_field, on_row, &L);
		rc = L.err;
	}
	if (!rc && m->n < 2)
		rc = jv_diag_set(d, JV_EEMPTY, path, 0, "%zu data row%s: at least 2 samples needed",
				 m->n, m->n == 1 ? "" : "s");
	if (!rc) {
		m->t_origin_s = L.t_first_abs;
		set_rate(m, o);
		if (!(m->rate_hz > 0))
			rc = jv_diag_set(d, JV_EPARSE, path, 0,
					 "time column '%s' does not advance (no sample rate)",
					 o->time_col);
	}
	if (!rc && o->energy)
		rc = energy_to_power(m, d);
done:
	if (ready)
		csv_free(&P);
	if (f != stdin)
		fclose(f);
	for (int i = 0; i < L.fcap; i++)
		free(L.field[i]);
	free(L.field);
	free(L.flen);
	for (int i = 0; i < L.n_names; i++)
		free(L.names[i]);
	free(L.names);
	for (int c = 0; c < CAL_MAX_CHANNELS; c++)
		cal_expr_free(L.ex[c]);
	cal_expr_free(L.sync_ex);
	free(L.need);
	free(L.row);
	if (rc) {
		cal_meter_free(m);
		return rc;
	}
	*out = m;
	return 0;
}

void cal_meter_free(struct cal_meter *m)
{
	if (!m)
		return;
	free(m->path);
	free(m->t_s);
	free(m->line);
	for (int c = 0; c < CAL_MAX_CHANNELS; c++)
		free(m->v[c]);
	free(m->sync);
	free(m);
}

int cal_meter_channel(const struct cal_meter *m, const char *name)
{
	for (int c = 0; c < m->n_ch; c++)
		if (!strcmp(m->ch_name[c], name))
			return c;
	return -1;
}

int cal_meter_series(const struct cal_meter *m, int ch, struct cal_series *out)
{
	cal_series_init(out);
	const double *v = ch < 0 ? m->sync : m->v[ch];
	if (!v || ch >= m->n_ch)
		return JV_EINVAL;
	int rc = cal_series_from_samples(out, m->t_s, v, m->n, m->period_s);
	if (rc)
		cal_series_free(out);
	return rc;
}
