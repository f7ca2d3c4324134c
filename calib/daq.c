/*
 * daq: meter log import (daq.h).
 *
 * Problem: power meters and DAQ boards write every flavour of delimited
 * text: WattsUp `epoch,W, V, A, 0.0, ...` rows, 4-channel A/D dumps
 * `0.43,0.52,0.52,-5.12,` without a header and with a trailing comma,
 * SmartPower logs with a header, ISO times and `b'04988'` fields. The user
 * describes channels as expressions; the importer must get sample counts,
 * units and time bases right and report any bad value at FILE:LINE. A
 * 1-10 kHz DAQ log of a long run has millions of rows, so the import must
 * run at least at 90 % of csv_parse() alone with counting callbacks (issue
 * 10, docs/PERFORMANCE.md): the plain lines bypass libcsv (daq_fast.c).
 *
 * Model: the file is a sequence of lines; blank lines (spaces and tabs
 * only) and comment lines (first non-blank character the comment prefix)
 * are skipped, the rest is CSV as libcsv reads it, and a row's line number
 * is the line where it ended (quoted fields may span lines). libcsv trims
 * spaces and tabs around unquoted fields; in white-space mode tabs become
 * spaces and empty fields from runs of blanks are dropped. A trailing
 * empty field (a trailing delimiter) is dropped. The first row decides the
 * header (auto: a row with any non-numeric field) and the column count;
 * expressions are then compiled against the header, and each data row is
 * parsed only in the columns the expressions and the time column read.
 *
 * Strategy (fast, with the same results as feeding libcsv line by line):
 * - the file is read with read(2) into a 64 KiB buffer, which doubles up
 *   to CAL_LINE_MAX_B + 1 bytes while a line does not fit (so a complete line
 *   in it is never longer than the limit, except one that fills it, which
 *   is checked), and handled in whole lines;
 * - a run of lines without the quote character, the comment prefix or a
 *   NUL byte (found with memchr over the run, not per line), once the
 *   first row has been seen: each line goes to the importer's own
 *   splitter (calib/daq_fast.c: fields split and numbers converted in one
 *   pass, for the plain lines that make up a meter log), and a line it
 *   declines to libcsv alone; after DAQ_SPLIT_GIVE_UP declined lines in a
 *   row the rest of the run goes to csv_parse() in one call (CAL_DAQ_NO_SPLIT
 *   sends every run there: the reference path the tests compare with).
 *   libcsv runs with CSV_REPALL_NL, so every unquoted line feed ends a row
 *   (blank lines give empty rows, which are skipped), and the row callback,
 *   which gets the terminating character, counts lines at '\n'. A line with
 *   one of those characters, the lines before the first row and the lines
 *   of a quoted field that spans lines are fed one at a time as before
 *   (comment and blank lines skipped, CR/LF stripped, a '\n' appended);
 * - fields are parsed in the field callback, only in the columns that are
 *   read, straight from libcsv's buffer (no copies; only the first row is
 *   kept whole, for the header); a failure is kept and reported at the end
 *   of the row, in the order the checks had when rows were parsed whole;
 * - numbers: Clinger's fast path (a mantissa of up to 2^53 times or over
 *   10^k, k <= 22: one rounding, as strtod() rounds), else strtod(), so the
 *   values are strtod()'s bit for bit (cal_parse_number()); in the field
 *   callback the integer digits one by one and a fraction of up to 8
 *   digits as one 8-byte word read from libcsv's buffer (bytes after the
 *   field masked off); a channel that is one column is a copy, other
 *   expressions run their compiled program (calib/expr.c);
 * - samples go to one block sized from the file size and the first data
 *   line (doubling when that was short), advised for transparent huge
 *   pages; source lines are kept as runs of consecutive lines; the median
 *   spacing for the rate is counted by value (a meter's spacings take few
 *   values), else a selection (O(n)), not a sort.
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
 * Worked example: `t_s,c1\n0.0001,0.52\n# pause\n0.0002,0.53\n` with
 * --time t_s: line 1 is fed alone and is the header (t_s is not a number);
 * the lines after it are scanned for quote, comment and NUL characters:
 * line 2 is a run (the splitter gives 1 / 10^4 and 52 / 10^2), line 3 (the
 * '#') goes alone to one_line(), where it is skipped as a comment, line 4
 * is a run again: samples (0.0001, 0.52) from line 2 and (0.0002, 0.53)
 * from line 4. Had line 2 read `1e-4,"0.52"` (a quote), it would have gone
 * to libcsv alone, with the same values.
 *
 * Limits: lines up to CAL_LINE_MAX_B bytes, CAL_MAX_CHANNELS channels,
 * memory O(samples x channels) plus a read buffer of 64 KiB (CAL_LINE_MAX_B
 * when a line needs it). ISO times without a zone are taken as UTC (only
 * differences matter).
 */
#include "calib/daq.h"

#include <csv.h>
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "calib/daq_fast.h"
#include "calib/expr.h"

#define DAQ_INIT_CAP 4096
#define DAQ_MAX_FIELDS 4096   /* columns per row */
#define DAQ_FIELD_QUOTE_MAX 40 /* characters of a bad field quoted */
#define DAQ_QUOTE_B 64         /* buffer of a quoted bad field */
#define DAQ_BUF_B ((size_t)CAL_LINE_MAX_B + 1) /* read buffer: a longest line and its '\n' */
#define DAQ_BUF_START_B ((size_t)64 * 1024) /* read buffer until a line needs more */
#define DAQ_HUGE_B ((size_t)2 << 20)         /* a transparent huge page */
#define DAQ_EST_SLACK 4                      /* row estimate from the file size: + 1/4 */
#define DAQ_EST_ROWS_MAX ((size_t)1 << 24)   /* rows allocated at once from an estimate */
#define DAQ_MEDIAN_SLOTS 256 /* distinct sample spacings counted in a table (power of 2) */
#define DAQ_MEDIAN_DISTINCT_MAX (DAQ_MEDIAN_SLOTS / 2)
#define DAQ_HASH_MUL 0x9E3779B97F4A7C15ULL /* Fibonacci hashing */
#define DAQ_MEDIAN_SAMPLE 255       /* spacings sampled for the median's guess */
#define DAQ_MEDIAN_SAMPLE_MIN 4096  /* spacings from which the guess is tried */
#define DAQ_QUOTE_CHAR '"'     /* libcsv's default quote character */
/* declined lines in a row after which the rest of a run goes to libcsv in
 * one call (a file the splitter cannot take, e.g. ISO times or exponents,
 * costs about what it did without the splitter) */
#define DAQ_SPLIT_GIVE_UP 16
#define SEC_PER_DAY 86400.0
/* Clinger's fast path: an integer mantissa m <= 2^53 and 10^k with
 * |k| <= 22 are both exact doubles, so m * 10^k and m / 10^k are one
 * correctly rounded operation, as strtod() rounds. 19 digits fit uint64. */
#define NUM_FAST_DIGITS_MAX 19
#define NUM_FAST_MANT_MAX (1ULL << 53)
#define NUM_FAST_POW10_MAX 22
#define NUM_FAST_EXP_DIGITS_MAX 4
#define NUM_TEXT_MAX_B 128 /* longest number field accepted */
#define NUM_FAST_FIELD_MAX_B 24   /* fields the hot path takes: sign, 19 digits, '.' */
#define DAQ_PARSER_BUF_MIN_B 64   /* libcsv's field buffer: the hot path reads ahead */
/* extended-precision evaluation (x87) would round twice: strtod() only */
#define NUM_FAST_OK (FLT_EVAL_METHOD == 0)

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


/* ---- numbers ----------------------------------------------------------------- */

static const double POW10[NUM_FAST_POW10_MAX + 1] = {
	1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

int cal_parse_number_fast(const char *s, size_t n, double *out)
{
	if (!NUM_FAST_OK)
		return 0;
	const unsigned char *p = (const unsigned char *)s, *e = p + n;
	int neg = 0;
	if (p < e && (*p == '-' || *p == '+'))
		neg = *p++ == '-';
	uint64_t m = 0;
	unsigned dg;
	const unsigned char *d0 = p;
	while (p < e && (dg = (unsigned)*p - '0') < 10) {
		m = m * 10 + dg;
		p++;
	}
	size_t nd = (size_t)(p - d0);
	int e10 = 0;
	if (p < e && *p == '.') {
		const unsigned char *f0 = ++p;
		while (p < e && (dg = (unsigned)*p - '0') < 10) {
			m = m * 10 + dg;
			p++;
		}
		nd += (size_t)(p - f0);
		e10 = -(int)(p - f0);
	}
	if (nd == 0 || nd > NUM_FAST_DIGITS_MAX)
		return 0;
	if (p < e) {
		if ((*p | 0x20) != 'e')
			return 0;
		int eneg = 0;
		if (++p < e && (*p == '-' || *p == '+'))
			eneg = *p++ == '-';
		const unsigned char *x0 = p;
		int x = 0;
		while (p < e && (dg = (unsigned)*p - '0') < 10 && p - x0 < NUM_FAST_EXP_DIGITS_MAX) {
			x = x * 10 + (int)dg;
			p++;
		}
		if (p == x0 || p != e)
			return 0;
		e10 += eneg ? -x : x;
	}
	if (m > NUM_FAST_MANT_MAX || e10 < -NUM_FAST_POW10_MAX || e10 > NUM_FAST_POW10_MAX)
		return 0;
	double v = neg ? -(double)m : (double)m; /* signed first: one rounding, any mode */
	*out = e10 < 0 ? v / POW10[-e10] : v * POW10[e10];
	return 1;
}

/* Up to 8 decimal digits in the low bytes of w (first digit lowest, the
 * rest of w zero), as one integer: SWAR, three multiplies. */
static inline uint64_t swar_digits(uint64_t w, size_t r)
{
	w <<= 8 * (8 - r); /* leading zero digits */
	w = w * 10 + (w >> 8);
	return (((w & 0x000000FF000000FFULL) * (100 + (1000000ULL << 32))) +
		(((w >> 16) & 0x000000FF000000FFULL) * (1 + (10000ULL << 32)))) >> 32;
}

static const uint64_t POW10_U[NUM_FAST_DIGITS_MAX + 1] = {
	1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL, 10000000ULL,
	100000000ULL, 1000000000ULL, 10000000000ULL, 100000000000ULL, 1000000000000ULL,
	10000000000000ULL, 100000000000000ULL, 1000000000000000ULL, 10000000000000000ULL,
	100000000000000000ULL, 1000000000000000000ULL, 10000000000000000000ULL,
};

/* The importer's hot path: the same as cal_parse_number_fast() for the
 * usual fields ([+-]digits[.digits], no exponent) in libcsv's field
 * buffer, where s[n] is the CSV_APPEND_NULL terminator (so the integer
 * digits need no bound) and 8 bytes can be read from anywhere in a field
 * of up to NUM_FAST_FIELD_MAX_B bytes (the buffer holds at least
 * DAQ_PARSER_BUF_MIN_B). A fraction of 1 to 8 digits is converted at once
 * (SWAR), the bytes after the field masked off before use. Returns 0 for
 * anything else (exponents included). */
static inline __attribute__((always_inline)) int num_fast_term(const char *s, size_t n,
							       double *out)
{
	if (!NUM_FAST_OK || n > NUM_FAST_FIELD_MAX_B)
		return 0;
	const unsigned char *p = (const unsigned char *)s, *e = p + n;
	int neg = *p == '-';
	p += neg | (*p == '+');
	const unsigned char *d0 = p;
	uint64_t m = 0;
	unsigned dg;
	while ((dg = (unsigned)*p - '0') < 10) {
		m = m * 10 + dg;
		p++;
	}
	size_t nd = (size_t)(p - d0), nf = 0;
	if (*p == '.') {
		nf = (size_t)(e - ++p);
		if (nf - 1 < 8) {
			uint64_t w;
			memcpy(&w, p, sizeof w);
			uint64_t keep = ~0ULL >> (8 * (8 - nf));
			uint64_t x = (w & keep) ^ (0x3030303030303030ULL & keep);
			/* a byte that is not a digit: x > 9 there */
			if ((((x & 0x7F7F7F7F7F7F7F7FULL) + 0x7676767676767676ULL) | x) &
			    0x8080808080808080ULL & keep)
				return 0;
			m = m * POW10_U[nf] + swar_digits(x, nf);
			p = e;
		} else {
			const unsigned char *f0 = p;
			while ((dg = (unsigned)*p - '0') < 10) {
				m = m * 10 + dg;
				p++;
			}
			nf = (size_t)(p - f0);
		}
		nd += nf;
	}
	if (p != e || nd - 1 >= NUM_FAST_DIGITS_MAX || m > NUM_FAST_MANT_MAX ||
	    nf > NUM_FAST_POW10_MAX)
		return 0;
	*out = (neg ? -(double)m : (double)m) / POW10[nf];
	return 1;
}

/* The general case: optional b'...' wrapper, blanks around, sign, decimal,
 * exponent; no nan/inf/hex; strtod() on a NUL-terminated copy. */
static int parse_num_slow(const char *s, size_t n, double *out)
{
	char buf[NUM_TEXT_MAX_B];
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

int cal_parse_number(const char *s, size_t n, double *out)
{
	/* the fast path takes a subset of what the slow one accepts (plain
	 * decimals without blanks, shorter than NUM_TEXT_MAX_B) */
	if (n < NUM_TEXT_MAX_B && cal_parse_number_fast(s, n, out))
		return 1;
	return parse_num_slow(s, n, out);
}

/* ---- loader state ---------------------------------------------------------- */

/* the characters that end a run of lines (next_special()) */
enum { SPEC_QUOTE, SPEC_COMMENT, SPEC_NUL, SPEC_N };

struct loader {
	const char *path;
	const struct cal_meter_opts *o;
	struct cal_meter *m;
	struct jv_diag *d;
	struct csv_parser *P;
	int err;
	long line;        /* last line read; in a run, the line being parsed */
	int fast;         /* the field and row callbacks' fast paths apply */
	int ws_mode;
	int ready;        /* parser initialised (first line that is not blank or a comment) */
	int setup;        /* columns set up (first row seen) */
	int runs_ok;      /* whole runs of lines may be parsed at once */
	int batch;        /* in a run: the row callback counts lines */
	int at_row_start; /* the last '\n' given to libcsv ended a row */
	int tab_blank;    /* tab delimiter: a row of empty fields in a run is a blank line */
	int run_tab_blank; /* tab_blank while in a run */
	/* the first row, kept whole */
	char **field;
	size_t *flen;
	int fcap;
	/* current row */
	int nf;
	size_t last_len;  /* length of the last field */
	size_t len_or;    /* lengths or-ed: 0 when every field is empty */
	int bad;          /* a column read failed (bad_col or bad_time) */
	int bad_col;      /* first column that is not a number, -1: none */
	int bad_time;
	double tval;      /* time column as read, before the unit's scale */
	char bad_q[DAQ_QUOTE_B], time_q[DAQ_QUOTE_B];
	/* after the first row */
	char **names;
	int n_names;
	struct cal_expr *ex[CAL_MAX_CHANNELS], *sync_ex;
	int ch_col[CAL_MAX_CHANNELS]; /* column of a channel that is one column, else -1 */
	int time_col;   /* -1: index */
	int time_rel;   /* epoch or ISO: relative to the first sample */
	double t_scale; /* time unit to seconds */
	int need_max;   /* highest column read */
	int nf_min;     /* a data row has more fields than this: max(need_max, 0) */
	/* what field k is read as: DAQ_NEED_* (daq_fast.h; up to DAQ_NEED_TIME the
	 * field callback's fast path), DAQ_MAX_FIELDS + 1 entries */
	unsigned char *need;
	double **dst;   /* where column k's number goes: row[k] or tval */
	double *row;    /* parsed values, n_cols */
	size_t cap;     /* samples the arrays hold */
	double t_first_abs;
	size_t run_first; /* current line run: first sample and its line */
	long run_line;
	size_t runs_cap;
	long long file_b;    /* size of a regular file, else -1 */
	size_t line_b_hint;  /* length of a data line, for the row estimate */
	const char *spec[SPEC_N]; /* next quote, comment, NUL at or after the scan position */
	int flags;           /* CAL_DAQ_* (daq_fast.h) */
	size_t buf_b;        /* starting read-buffer size */
	int split_ok;        /* lines of runs go to the splitter first (daq_fast.c) */
	struct cal_daq_split split;
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
	L->fast = 0;
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


/* ---- rows -------------------------------------------------------------------- */

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
		if (!cal_parse_number(L->field[i], L->flen[i], &v))
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
	static const double scale[] = {1.0, 1e-3, 1e-6, 1e-9, 1.0, 1.0};
	L->t_scale = scale[o->time_unit];
	L->time_rel = o->time_unit == CAL_TIME_EPOCH || o->time_unit == CAL_TIME_ISO;
	L->need_max = L->time_col;
	for (int c = 0; c < o->n_channels; c++)
		if (cal_expr_max_col(L->ex[c]) > L->need_max)
			L->need_max = cal_expr_max_col(L->ex[c]);
	if (L->sync_ex && cal_expr_max_col(L->sync_ex) > L->need_max)
		L->need_max = cal_expr_max_col(L->sync_ex);
	L->nf_min = L->need_max > 0 ? L->need_max : 0;
	L->need = calloc(DAQ_MAX_FIELDS + 1, 1);
	if (L->need)
		L->need[DAQ_MAX_FIELDS] = DAQ_NEED_LIMIT; /* the field after the last allowed */
	L->row = calloc((size_t)m->n_cols + 1, sizeof *L->row);
	L->dst = calloc((size_t)m->n_cols + 1, sizeof *L->dst);
	if (!L->need || !L->row || !L->dst)
		return lerr(L, JV_ENOMEM, "out of memory");
	for (int k = 0; k < m->n_cols; k++) {
		int used = 0;
		for (int c = 0; c < o->n_channels && !used; c++)
			used = cal_expr_uses(L->ex[c], k);
		if (L->sync_ex && cal_expr_uses(L->sync_ex, k))
			used = 1;
		/* the time column is read as the time only (row[] keeps 0 there) */
		if (k == L->time_col)
			L->need[k] = o->time_unit == CAL_TIME_ISO ? DAQ_NEED_ISO : DAQ_NEED_TIME;
		else
			L->need[k] = used ? DAQ_NEED_NUM : DAQ_NEED_NONE;
		L->dst[k] = k == L->time_col ? &L->tval : &L->row[k];
	}
	m->n_ch = o->n_channels;
	for (int c = 0; c < o->n_channels; c++) {
		snprintf(m->ch_name[c], CAL_NAME_MAX, "%s", o->ch[c].name);
		L->ch_col[c] = cal_expr_column(L->ex[c]);
	}
	/* the hot path reads ahead in libcsv's field buffer (which only grows) */
	L->fast = !L->ws_mode && !L->err && csv_get_buffer_size(L->P) >= DAQ_PARSER_BUF_MIN_B;
	L->split_ok = L->fast && !(L->flags & CAL_DAQ_NO_SPLIT) &&
		      cal_daq_split_usable(m->delim, L->ws_mode);
	if (L->split_ok)
		cal_daq_split_init(&L->split, m->delim, L->need, L->dst);
	return 0;
}

/* The sample arrays (times, channels, sync) are one block, cap samples
 * each; a block of 2 MiB or more is aligned to and advised for transparent
 * huge pages (a page fault per 4 KiB costs about a fifth of libcsv's time
 * here). */
static double *samples_alloc(size_t bytes)
{
#ifdef MADV_HUGEPAGE
	if (bytes >= DAQ_HUGE_B) {
		size_t b = (bytes + DAQ_HUGE_B - 1) & ~(DAQ_HUGE_B - 1);
		void *p = aligned_alloc(DAQ_HUGE_B, b);
		if (p)
			(void)madvise(p, b, MADV_HUGEPAGE); /* advice only */
		return p;
	}
#endif
	return malloc(bytes);
}

static int grow_samples(struct loader *L)
{
	struct cal_meter *m = L->m;
	size_t cap = L->cap ? 2 * L->cap : DAQ_INIT_CAP, est = 0;
	if (!L->cap && L->file_b > 0 && L->line_b_hint) {
		/* all rows at once when the file size tells (virtual until used) */
		est = (size_t)L->file_b / L->line_b_hint;
		est += est / DAQ_EST_SLACK + DAQ_INIT_CAP;
		if (est > DAQ_EST_ROWS_MAX)
			est = DAQ_EST_ROWS_MAX;
	}
	size_t arrays = 1 + (size_t)m->n_ch + (L->sync_ex != NULL);
	if (cap > SIZE_MAX / sizeof(double) / arrays)
		return lerr(L, JV_ENOMEM, "out of memory");
	double *b = NULL;
	if (est > cap && (b = samples_alloc(est * arrays * sizeof(double))))
		cap = est; /* else the estimate could not be had: grow by doubling */
	if (!b && !(b = samples_alloc(cap * arrays * sizeof(double))))
		return lerr(L, JV_ENOMEM, "out of memory");
	double **arr[2 + CAL_MAX_CHANNELS];
	size_t na = 0;
	arr[na++] = &m->t_s;
	for (int c = 0; c < m->n_ch; c++)
		arr[na++] = &m->v[c];
	if (L->sync_ex)
		arr[na++] = &m->sync;
	for (size_t i = 0; i < na; i++) {
		if (m->n)
			memcpy(b + i * cap, *arr[i], m->n * sizeof(double));
		*arr[i] = b + i * cap;
	}
	free(m->samples);
	m->samples = b;
	L->cap = cap;
	return 0;
}

/* Sample n is on line L->line: a new line run unless it continues the last. */
static int note_line(struct loader *L, size_t n)
{
	struct cal_meter *m = L->m;
	if (m->n_line_runs && L->line == L->run_line + (long)(n - L->run_first))
		return 0;
	if (m->n_line_runs == L->runs_cap) {
		size_t cap = L->runs_cap ? 2 * L->runs_cap : 16;
		size_t *f = realloc(m->line_run_first, cap * sizeof *f);
		if (f)
			m->line_run_first = f;
		long *ln = f ? realloc(m->line_run_line, cap * sizeof *ln) : NULL;
		if (!ln)
			return lerr(L, JV_ENOMEM, "out of memory");
		m->line_run_line = ln;
		L->runs_cap = cap;
	}
	m->line_run_first[m->n_line_runs] = L->run_first = n;
	m->line_run_line[m->n_line_runs++] = L->run_line = L->line;
	return 0;
}

long cal_meter_line(const struct cal_meter *m, size_t i)
{
	size_t lo = 0, hi = m->n_line_runs; /* last run with first <= i */
	if (!hi)
		return 0;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->line_run_first[mid] <= i)
			lo = mid;
		else
			hi = mid;
	}
	return m->line_run_line[lo] + (long)(i - m->line_run_first[lo]);
}

static const char *col_label(struct loader *L, int k, char *buf, size_t cap)
{
	if (L->names && k < L->n_names && L->names[k] && *L->names[k])
		snprintf(buf, cap, "column %d '%.40s'", k + 1, L->names[k]);
	else
		snprintf(buf, cap, "column c%d", k + 1);
	return buf;
}

/* A field of a data row in a column that is read (the general parsers):
 * a failure is kept for the end of the row. */
static __attribute__((noinline)) void take_field(struct loader *L, int k, const char *s,
						 size_t len)
{
	int kind = L->need[k];
	if (kind == DAQ_NEED_NUM) {
		if (!cal_parse_number(s, len, &L->row[k]) && L->bad_col < 0) {
			L->bad_col = k;
			L->bad = 1;
			quote_field(s, len, L->bad_q, sizeof L->bad_q);
		}
		return;
	}
	int ok = kind == DAQ_NEED_ISO ? parse_iso(s, len, &L->tval) : cal_parse_number(s, len, &L->tval);
	if (!ok) {
		L->bad_time = 1;
		L->bad = 1;
		quote_field(s, len, L->time_q, sizeof L->time_q);
	}
}

static int time_error(struct loader *L)
{
	const struct cal_meter_opts *o = L->o;
	char lab[80];
	if (o->time_unit == CAL_TIME_ISO)
		return lerr(L, JV_EPARSE,
			    "%s: not an ISO 8601 time '%s' (expected YYYY-MM-DD HH:MM:SS[.f][Z|+HH:MM])",
			    col_label(L, L->time_col, lab, sizeof lab), L->time_q);
	return lerr(L, JV_EPARSE, "%s: not a number '%s' (time in %s)",
		    col_label(L, L->time_col, lab, sizeof lab), L->time_q,
		    cal_time_unit_name(o->time_unit));
}

/* The end of a data row: every check, in order, with its message. */
static __attribute__((noinline)) int data_row(struct loader *L)
{
	struct cal_meter *m = L->m;
	const struct cal_meter_opts *o = L->o;
	if (L->nf <= L->need_max)
		return lerr(L, JV_EPARSE, "expected at least %d fields, found %d", L->need_max + 1,
			    L->nf);
	if (L->bad_col >= 0) {
		char lab[80];
		return lerr(L, JV_EPARSE, "%s: not a number '%s'",
			    col_label(L, L->bad_col, lab, sizeof lab), L->bad_q);
	}
	if (m->n == L->cap && grow_samples(L))
		return L->err;
	size_t n = m->n;
	double t;
	if (L->time_col >= 0) {
		if (L->bad_time)
			return time_error(L);
		t = L->tval * L->t_scale;
		if (L->time_rel) {
			if (n == 0)
				L->t_first_abs = t;
			t -= L->t_first_abs;
		}
		if (n && t < m->t_s[n - 1])
			return lerr(L, JV_EORDER, "time goes backwards (%.9g s < %.9g s at line %ld)",
				    t, m->t_s[n - 1], cal_meter_line(m, n - 1));
	} else {
		t = (double)n / o->rate_hz;
	}
	for (int c = 0; c < m->n_ch; c++) {
		double v;
		if (L->ch_col[c] >= 0) {
			v = L->row[L->ch_col[c]]; /* parsed numbers are finite */
		} else {
			v = cal_expr_eval(L->ex[c], L->row);
			if (!isfinite(v))
				return lerr(L, JV_ERANGE,
					    "--channel %s: value is not finite (division by zero?)",
					    m->ch_name[c]);
		}
		m->v[c][n] = v;
	}
	if (L->sync_ex) {
		double v = cal_expr_eval(L->sync_ex, L->row);
		if (!isfinite(v))
			return lerr(L, JV_ERANGE, "--sync: value is not finite (division by zero?)");
		m->sync[n] = v;
	}
	if (note_line(L, n))
		return L->err;
	m->t_s[n] = t;
	m->n = n + 1;
	return 0;
}

/* A data row that passes every check, or 0 (then data_row() reports).
 * Values go straight to slot n of the arrays; the row counts only once
 * every check passed. */
static inline int fast_row(struct loader *L)
{
	struct cal_meter *m = L->m;
	size_t n = m->n;
	double t;
	if (L->time_col >= 0) {
		t = L->tval * L->t_scale;
		if (L->time_rel)
			t -= n ? L->t_first_abs : t;
		if (n && t < m->t_s[n - 1])
			return 0;
	} else {
		t = (double)n / L->o->rate_hz;
	}
	for (int c = 0; c < m->n_ch; c++) {
		int k = L->ch_col[c];
		if (k >= 0) {
			m->v[c][n] = L->row[k];
		} else {
			double v = cal_expr_eval(L->ex[c], L->row);
			if (!isfinite(v))
				return 0;
			m->v[c][n] = v;
		}
	}
	if (L->sync_ex) {
		double v = cal_expr_eval(L->sync_ex, L->row);
		if (!isfinite(v))
			return 0;
		m->sync[n] = v;
	}
	if ((!m->n_line_runs || L->line != L->run_line + (long)(n - L->run_first)) &&
	    note_line(L, n))
		return 1; /* out of memory: reported */
	if (L->time_rel && n == 0)
		L->t_first_abs = L->tval * L->t_scale;
	m->t_s[n] = t;
	m->n = n + 1;
	return 1;
}

/* ---- libcsv callbacks ------------------------------------------------------------ */

/* A field of the first row: kept (header names, the header test). */
static void keep_field(struct loader *L, int k, const char *s, size_t len)
{
	if (k == L->fcap) {
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
	free(L->field[k]);
	L->field[k] = copy;
	L->flen[k] = len;
}

static __attribute__((noinline)) void field_general(struct loader *L, const char *s, size_t len)
{
	if (L->err || (len == 0 && L->ws_mode))
		return;
	if (L->nf >= DAQ_MAX_FIELDS) {
		lerr(L, JV_ELIMIT, "more than %d fields in a row", DAQ_MAX_FIELDS);
		return;
	}
	int k = L->nf++;
	L->last_len = len;
	L->len_or |= len;
	if (!L->setup)
		keep_field(L, k, s, len);
	else if (L->need[k])
		take_field(L, k, s, len);
}

static void on_field(void *s, size_t len, void *data)
{
	struct loader *L = data;
	if (__builtin_expect(L->fast, 1)) {
		int k = L->nf;
		int kind = L->need[k];
		if (__builtin_expect(kind <= DAQ_NEED_TIME, 1)) {
			L->nf = k + 1;
			L->last_len = len;
			L->len_or |= len;
			if (kind == DAQ_NEED_NONE || num_fast_term(s, len, L->dst[k]))
				return;
			take_field(L, k, s, len);
			return;
		}
	}
	field_general(L, s, len);
}

static void first_row(struct loader *L)
{
	int hdr = L->o->header;
	if (hdr < 0)
		hdr = !row_all_numeric(L);
	if (setup_columns(L, hdr))
		return;
	L->setup = 1;
	if (hdr)
		return;
	for (int k = 0; k < L->nf && k <= L->need_max; k++)
		if (L->need[k])
			take_field(L, k, L->field[k], L->flen[k]);
	data_row(L);
}

static void on_row(int term, void *data)
{
	struct loader *L = data;
	int nf = L->nf;
	/* a trailing delimiter leaves one empty last field */
	if (nf > 1 && L->last_len == 0)
		L->nf = --nf;
	if (__builtin_expect(L->fast && nf > L->nf_min && !L->bad && L->m->n < L->cap &&
				     (L->len_or || !L->run_tab_blank), 1)) {
		if (!fast_row(L))
			data_row(L);
	} else if (!L->err && nf > 0 && (L->len_or || !L->run_tab_blank)) {
		if (L->setup)
			data_row(L);
		else
			first_row(L);
	}
	L->nf = 0;
	L->len_or = 0;
	if (__builtin_expect(L->bad, 0)) {
		L->bad = 0;
		L->bad_col = -1;
		L->bad_time = 0;
	}
	if (term == '\n') {
		L->at_row_start = 1;
		L->line += L->batch; /* CSV_REPALL_NL: one call per unquoted '\n' */
	}
}

/* ---- reading --------------------------------------------------------------------- */

static int detect_delim(const char *line, size_t len)
{
	size_t comma = 0, semi = 0, tab = 0;
	int in_q = 0;
	for (const char *p = line; p < line + len; p++) {
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

static int is_blank_or_comment(const char *p, size_t len, int comment)
{
	const char *e = p + len;
	while (p < e && (*p == ' ' || *p == '\t'))
		p++;
	return p == e || (comment && *p == comment);
}

static void feed(struct loader *L, struct csv_parser *P, char *s, size_t n)
{
	size_t got = csv_parse(P, s, n, on_field, on_row, L);
	if (got != n && !L->err)
		lerr(L, JV_EPARSE, "CSV error: %s", csv_strerror(csv_error(P)));
}

static void tabs_to_spaces(char *p, char *e)
{
	while ((p = memchr(p, '\t', (size_t)(e - p))))
		*p++ = ' ';
}

static int start_parser(struct loader *L, struct csv_parser *P, const char *line, size_t len)
{
	const struct cal_meter_opts *o = L->o;
	L->m->delim = o->delim ? o->delim : detect_delim(line, len);
	L->ws_mode = L->m->delim == ' ';
	L->tab_blank = L->m->delim == '\t';
	L->runs_ok = L->m->delim != DAQ_QUOTE_CHAR && L->m->delim != '\n' &&
		     L->m->delim != '\r' && L->m->delim != o->comment;
	if (csv_init(P, CSV_REPALL_NL | CSV_APPEND_NULL))
		return lerr(L, JV_ENOMEM, "out of memory");
	csv_set_delim(P, (unsigned char)L->m->delim);
	if (L->ws_mode)
		csv_set_space_func(P, no_space);
	L->ready = 1;
	return 0;
}

/* One line [p, le); le is its '\n' (has_nl) or the end of the data, with
 * a spare byte after it. */
static int one_line(struct loader *L, struct csv_parser *P, char *p, char *le, int has_nl)
{
	size_t len = (size_t)(le - p);
	L->line++;
	if (memchr(p, '\0', len))
		return lerr(L, JV_EPARSE, "NUL byte in line");
	if (len + (size_t)has_nl > CAL_LINE_MAX_B)
		return lerr(L, JV_ELIMIT, "line too long (more than %d bytes)", CAL_LINE_MAX_B);
	if (L->line == 1 && len >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3)) {
		p += 3;
		len -= 3;
	}
	while (len > 0 && p[len - 1] == '\r')
		len--;
	if (is_blank_or_comment(p, len, L->o->comment))
		return 0;
	if (!L->ready && start_parser(L, P, p, len))
		return L->err;
	if (L->ws_mode)
		tabs_to_spaces(p, p + len);
	p[len] = '\n';
	L->line_b_hint = len + 1;
	L->at_row_start = 0;
	feed(L, P, p, len + 1);
	return L->err;
}

/* Whole lines [p, e) without quote, comment or NUL, parsed in one call. */
static int run_lines_csv(struct loader *L, struct csv_parser *P, char *p, char *e)
{
	if (L->ws_mode)
		tabs_to_spaces(p, e);
	const char *nl = memchr(p, '\n', (size_t)(e - p));
	L->line_b_hint = (size_t)(nl - p) + 1;
	L->batch = 1;
	L->run_tab_blank = L->tab_blank;
	L->line++;
	feed(L, P, p, (size_t)(e - p));
	L->batch = 0;
	L->run_tab_blank = 0;
	L->line--;
	return L->err;
}

/* Whole lines [p, e) without quote, comment or NUL: each through the
 * splitter (daq_fast.c), and a line it declines, or whose row fails a check
 * or needs more room, through libcsv (which then reports or grows); after
 * DAQ_SPLIT_GIVE_UP declines in a row, the rest of the run at once. */
static int run_lines(struct loader *L, struct csv_parser *P, char *p, char *e)
{
	if (!L->split_ok)
		return run_lines_csv(L, P, p, e);
	struct cal_meter *m = L->m;
	struct cal_daq_split *S = &L->split;
	int declined = 0;
	while (p < e) {
		const char *nx;
		int r = cal_daq_split_line(S, p, e, &nx);
		if (__builtin_expect(r == DAQ_SPLIT_ROW, 1) && S->nf > L->nf_min &&
		    m->n < L->cap && !(S->all_empty && L->tab_blank)) {
			L->line++;
			if (fast_row(L)) {
				if (L->err)
					return L->err;
				declined = 0;
				p = (char *)nx;
				continue;
			}
			L->line--;
		} else if (r == DAQ_SPLIT_BLANK) {
			L->line++;
			p = (char *)nx;
			continue;
		}
		if (++declined == DAQ_SPLIT_GIVE_UP)
			return run_lines_csv(L, P, p, e);
		if (run_lines_csv(L, P, p, (char *)nx))
			return L->err;
		p = (char *)nx;
	}
	return 0;
}

/* First quote, comment prefix or NUL byte in [p, e), e if none (each
 * character's next position is kept, so a region is scanned once). */
static const char *next_special(struct loader *L, const char *p, const char *e)
{
	const int ch[SPEC_N] = {DAQ_QUOTE_CHAR, L->o->comment, '\0'};
	const char *first = e;
	for (int i = 0; i < SPEC_N; i++) {
		if (i == SPEC_COMMENT && !ch[i])
			continue;
		const char *q = L->spec[i];
		if (!q || q < p) {
			q = memchr(p, ch[i], (size_t)(e - p));
			L->spec[i] = q = q ? q : e;
		}
		if (q < first)
			first = q;
	}
	return first;
}

static char *line_start(char *lo, char *q)
{
	while (q > lo && q[-1] != '\n')
		q--;
	return q;
}

/* The lines of buf[s, e): complete ones up to ce, then (at the end of the
 * file) one without '\n'. runs: runs of lines may go to libcsv whole. */
static int do_region(struct loader *L, struct csv_parser *P, char *s, char *e, char *ce, int runs)
{
	char *p = s;
	for (int i = 0; i < SPEC_N; i++)
		L->spec[i] = NULL;
	while (p < e) {
		if (runs && L->runs_ok && L->setup && L->at_row_start && p < ce) {
			const char *q = next_special(L, p, ce);
			char *stop = q < ce ? line_start(p, (char *)q) : ce;
			if (stop > p) {
				if (run_lines(L, P, p, stop))
					return L->err;
				p = stop;
				continue;
			}
		}
		char *nl = memchr(p, '\n', (size_t)(e - p));
		if (one_line(L, P, p, nl ? nl : e, nl != NULL))
			return L->err;
		p = nl ? nl + 1 : e;
	}
	return 0;
}

static int read_fail(struct loader *L)
{
	return lerr(L, JV_EIO, "read error: %s", strerror(errno));
}

/* A line that does not fit the buffer: read to its end, then report it
 * as too long (or as holding a NUL byte, which is checked first). */
static int long_line(struct loader *L, int fd, char *buf, size_t have)
{
	int nul = memchr(buf, '\0', have) != NULL;
	L->line++;
	while (!nul) {
		ssize_t got = read(fd, buf, DAQ_BUF_B);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return read_fail(L);
		if (got == 0)
			break;
		char *nl = memchr(buf, '\n', (size_t)got);
		nul = memchr(buf, '\0', nl ? (size_t)(nl - buf) : (size_t)got) != NULL;
		if (nl)
			break;
	}
	if (nul)
		return lerr(L, JV_EPARSE, "NUL byte in line");
	return lerr(L, JV_ELIMIT, "line too long (more than %d bytes)", CAL_LINE_MAX_B);
}

static int read_lines(struct loader *L, int fd, struct csv_parser *P)
{
	size_t cap = L->buf_b, have = 0;
	char *buf = malloc(cap + 1); /* + the '\n' appended to a last line */
	if (!buf)
		return lerr(L, JV_ENOMEM, "out of memory");
	int eof = 0, rc = 0;
	while (!rc) {
		while (!eof && have < cap) {
			ssize_t got = read(fd, buf + have, cap - have);
			if (got < 0 && errno == EINTR)
				continue;
			if (got < 0) {
				rc = read_fail(L);
				break;
			}
			if (got == 0)
				eof = 1;
			have += (size_t)got;
		}
		if (rc || have == 0)
			break;
		char *ce = line_start(buf, buf + have); /* after the last '\n' */
		if (ce == buf && !eof) {
			if (cap < DAQ_BUF_B) { /* a long line: double, up to the limit */
				size_t nc = cap < DAQ_BUF_B / 2 ? 2 * cap : DAQ_BUF_B;
				char *b = realloc(buf, nc + 1);
				if (!b) {
					rc = lerr(L, JV_ENOMEM, "out of memory");
					break;
				}
				buf = b;
				cap = nc;
				continue;
			}
			rc = long_line(L, fd, buf, have);
			break;
		}
		/* one line filling the buffer is too long: leave it to one_line() */
		int runs = !(ce == buf + DAQ_BUF_B && !memchr(buf, '\n', DAQ_BUF_B - 1));
		char *e = eof ? buf + have : ce;
		rc = do_region(L, P, buf, e, ce, runs);
		have -= (size_t)(e - buf);
		memmove(buf, e, have);
		if (eof)
			break;
	}
	free(buf);
	return rc;
}

/* k-th smallest of a[0..n) (reorders a): Hoare's selection with a
 * median-of-three pivot; expected O(n). */
static double select_kth(double *a, size_t n, size_t k)
{
	size_t lo = 0, hi = n - 1;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		double x = a[lo], y = a[mid], z = a[hi];
		double piv = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
		size_t i = lo, j = hi;
		for (;;) {
			while (a[i] < piv)
				i++;
			while (piv < a[j])
				j--;
			if (i >= j)
				break;
			double tmp = a[i];
			a[i] = a[j];
			a[j] = tmp;
			i++;
			j--;
		}
		/* a[lo..j] <= piv <= a[j+1..hi] */
		if (k <= j)
			hi = j;
		else
			lo = j + 1;
	}
	return a[k];
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Median distance between successive samples: the element (n-1)/2 of the
 * sorted n-1 spacings (as cal_series_median_step()), 0 when n < 2, exact,
 * in O(n) and usually one pass: the median c of a sample of spacings is
 * the answer when fewer than k+1 spacings are below c and more than k are
 * at most c (one pass counting both). Otherwise, as a meter's spacings
 * take few distinct values (a period and its rounding), they are counted
 * in a small hash table by value, sorted and walked; with more than
 * DAQ_MEDIAN_DISTINCT_MAX values, a selection over a copy. */
static double median_step(const double *t, size_t n)
{
	if (n < 2)
		return 0.0;
	size_t k = (n - 1) / 2, i;
	if (n - 1 >= DAQ_MEDIAN_SAMPLE_MIN) {
		double smp[DAQ_MEDIAN_SAMPLE];
		for (int j = 0; j < DAQ_MEDIAN_SAMPLE; j++) {
			size_t at = (size_t)j * ((n - 1) / DAQ_MEDIAN_SAMPLE);
			smp[j] = t[at + 1] - t[at];
		}
		qsort(smp, DAQ_MEDIAN_SAMPLE, sizeof *smp, cmp_double);
		double c = smp[DAQ_MEDIAN_SAMPLE / 2];
		size_t below = 0, upto = 0;
		for (i = 0; i + 1 < n; i++) {
			double d = t[i + 1] - t[i];
			below += d < c;
			upto += d <= c;
		}
		if (below <= k && k < upto)
			return c;
	}
	double val[DAQ_MEDIAN_SLOTS];
	size_t cnt[DAQ_MEDIAN_SLOTS] = {0};
	int distinct = 0;
	for (i = 0; i + 1 < n && distinct <= DAQ_MEDIAN_DISTINCT_MAX; i++) {
		double d = t[i + 1] - t[i] + 0.0; /* + 0.0: -0.0 counts as 0.0 */
		uint64_t bits;
		memcpy(&bits, &d, sizeof bits);
		size_t h = (size_t)((bits * DAQ_HASH_MUL) >> 56) & (DAQ_MEDIAN_SLOTS - 1);
		while (cnt[h] && val[h] != d)
			h = (h + 1) & (DAQ_MEDIAN_SLOTS - 1);
		if (!cnt[h]) {
			val[h] = d;
			distinct++;
		}
		cnt[h]++;
	}
	if (i + 1 == n && distinct <= DAQ_MEDIAN_DISTINCT_MAX) {
		int m = 0;
		for (int h = 0; h < DAQ_MEDIAN_SLOTS; h++)
			if (cnt[h]) {
				val[m] = val[h];
				cnt[m++] = cnt[h];
			}
		for (int a = 1; a < m; a++) /* insertion sort by value */
			for (int b = a; b > 0 && val[b] < val[b - 1]; b--) {
				double tv = val[b];
				val[b] = val[b - 1];
				val[b - 1] = tv;
				size_t tc = cnt[b];
				cnt[b] = cnt[b - 1];
				cnt[b - 1] = tc;
			}
		for (int a = 0; a < m; a++) {
			if (k < cnt[a])
				return val[a];
			k -= cnt[a];
		}
	}
	double *d = malloc((n - 1) * sizeof *d);
	if (!d)
		return t[1] - t[0];
	for (i = 0; i + 1 < n; i++)
		d[i] = t[i + 1] - t[i];
	double med = select_kth(d, n - 1, (n - 1) / 2);
	free(d);
	return med;
}

static void set_rate(struct cal_meter *m, const struct cal_meter_opts *o)
{
	if (!o->time_col) {
		m->rate_hz = o->rate_hz;
	} else {
		double step = median_step(m->t_s, m->n);
		m->rate_hz = step > 0 ? 1.0 / step : 0.0;
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
				return jv_diag_set(d, JV_EORDER, m->path, cal_meter_line(m, i + 1),
						   "--channel %s: cumulative energy goes backwards "
						   "(%.9g J < %.9g J at line %ld)",
						   m->ch_name[c], v[i + 1], v[i], cal_meter_line(m, i));
			if (!(dt > 0))
				return jv_diag_set(d, JV_EORDER, m->path, cal_meter_line(m, i + 1),
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
	return cal_daq_load(path, o, 0, 0, out, d);
}

int cal_daq_load(const char *path, const struct cal_meter_opts *o, int flags, size_t buf_b,
		 struct cal_meter **out, struct jv_diag *d)
{
	*out = NULL;
	int rc = check_opts(path, o, d);
	if (rc)
		return rc;
	int use_stdin = strcmp(path, "-") == 0;
	int fd = use_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return jv_diag_set(d, JV_ENOENT, path, 0, "cannot open: %s", strerror(errno));
	struct cal_meter *m = calloc(1, sizeof *m);
	struct loader L = {.path = path, .o = o, .m = m, .d = d, .bad_col = -1, .file_b = -1,
			   .flags = flags};
	L.buf_b = buf_b == 0 ? DAQ_BUF_START_B : buf_b < DAQ_BUF_B ? buf_b : DAQ_BUF_B;
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		L.file_b = (long long)st.st_size;
	struct csv_parser P;
	L.P = &P;
	if (!m || !(m->path = strdup(path))) {
		rc = jv_diag_set(d, JV_ENOMEM, path, 0, "out of memory");
		goto done;
	}
	rc = read_lines(&L, fd, &P);
	if (!rc && L.ready) {
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
	if (L.ready)
		csv_free(&P);
	if (!use_stdin)
		close(fd);
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
	free(L.dst);
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
	free(m->samples);
	free(m->line_run_first);
	free(m->line_run_line);
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
