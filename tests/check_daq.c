/*
 * check_daq: the meter importer's number parser and its fast paths
 * (calib/daq.c).
 *
 * cal_parse_number() must give exactly strtod()'s double for every field
 * it accepts, and accept exactly what the importer always accepted
 * (decimal with optional sign, '.', exponent, blanks around, b'...'
 * wrapper; no nan, inf, hex). Its fast path (Clinger: mantissa <= 2^53,
 * |power of ten| <= 22) must be taken for the usual fields and be bit
 * identical to strtod() there, over a table of tricky inputs and many
 * random ones. The importer parses fields in libcsv's buffer with its own
 * hot path (one 8-byte word per field, bytes after the field masked off):
 * values loaded from files are compared with strtod() too, with long and
 * short fields mixed so stale bytes follow each field. Line numbers in
 * runs of lines, comment and blank lines, multi-line quoted fields, CRLF,
 * long lines and the median spacing behind the sample rate are checked
 * against what the line-by-line importer reported. The importer's own
 * splitter for plain lines (calib/daq_fast.c) is checked on a table of
 * lines, and against the libcsv path (CAL_DAQ_NO_SPLIT) on thousands of
 * generated files, clean and messy, with tiny read buffers too: samples
 * bit for bit, lines, return codes and messages equal.
 */
#include <check.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "calib/daq.h"
#include "calib/daq_fast.h"

#define RANDOM_VALUES 300000     /* random strings compared with strtod() */
#define RANDOM_VALUES_QUICK 20000 /* under valgrind (JV_TEST_QUICK) */
#define FILE_ROWS 20000          /* rows of the random-value file */
#define FILE_ROWS_QUICK 3000
#define RUN_ROWS 100000          /* rows of the long-run file */
#define RUN_ROWS_QUICK 10000
#define LCG_MUL 6364136223846793005ULL
#define LCG_ADD 1442695040888963407ULL

static char path[64];

static void setup(void)
{
	strcpy(path, "/tmp/check_daq-XXXXXX");
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	close(fd);
}

static void teardown(void)
{
	unlink(path);
}

static int quick(void)
{
	return getenv("JV_TEST_QUICK") != NULL;
}

static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state = rng_state * LCG_MUL + LCG_ADD;
	return rng_state >> 11;
}

static int same_bits(double a, double b)
{
	return memcmp(&a, &b, sizeof a) == 0;
}

/* strtod() over the whole text, or 0 when it stops early. */
static int strtod_all(const char *s, double *v)
{
	char *end;
	*v = strtod(s, &end);
	return end != s && *end == '\0';
}

/* ---- the table ------------------------------------------------------------------ */

enum { REJECT, FAST, SLOW }; /* not a number; the fast path; strtod() */

static const struct {
	const char *text;
	int how;
} TABLE[] = {
	{"0", FAST},
	{"-0", FAST},
	{"+0", FAST},
	{"0.0", FAST},
	{"-0.0", FAST},
	{"5.", FAST},
	{".5", FAST},
	{"-.5", FAST},
	{"+.5", FAST},
	{"0.1", FAST},
	{"0.3", FAST},
	{"-2.5", FAST},
	{"0.52577", FAST},
	{"12.345600", FAST},
	{"99.999900", FAST},
	{"1e5", FAST},
	{"1E5", FAST},
	{"1e+05", FAST},
	{"1.5e-5", FAST},
	{"-1.5E-05", FAST},
	{"1e22", FAST},
	{"1e-22", FAST},
	{"123456789012345", FAST},          /* 15 digits */
	{"1234567.89012345", FAST},
	{"123456789012345678", SLOW},       /* 18 digits, above 2^53 */
	{"9007199254740992", FAST},         /* 2^53 */
	{"9007199254740993", SLOW},         /* 2^53 + 1: not exact in the mantissa */
	{"9007199254740992e1", FAST},       /* 2^53 * 10 */
	{"1234567890123456789", SLOW},      /* 19 digits, above 2^53 */
	{"12345678901234567890", SLOW},     /* 20 digits */
	{"0.1000000000000000055511151231257827", SLOW}, /* 0.1's exact value */
	{"1.7976931348623157e308", SLOW},   /* DBL_MAX */
	{"2.2250738585072014e-308", SLOW},  /* DBL_MIN */
	{"2.2250738585072011e-308", SLOW},  /* just below: a denormal */
	{"4.9e-324", SLOW},                 /* the smallest denormal */
	{"2.4703282292062327e-324", SLOW},  /* rounds to 0 or the smallest denormal */
	{"1e-400", SLOW},                   /* underflows to 0: accepted, finite */
	{"1e23", SLOW},                     /* 10^23 is not a double */
	{"1e-23", SLOW},
	{"8.98846567431158e307", SLOW},
	{"1e00005", SLOW},                  /* 5 exponent digits */
	{"0.000000000000000000001", SLOW},  /* 22 digits */
	{"3.14159265358979323846", SLOW},
	{"00000000000000000001.5", SLOW},   /* leading zeros count as digits */
	{" 12 ", SLOW},
	{"\t-3.5", SLOW},
	{"b'03277'", SLOW},
	{"b\"12\"", SLOW},
	{"1e400", REJECT},                  /* overflow: not finite */
	{"-1e400", REJECT},
	{"nan", REJECT},
	{"NaN", REJECT},
	{"inf", REJECT},
	{"-inf", REJECT},
	{"infinity", REJECT},
	{"0x10", REJECT},
	{"0x1p3", REJECT},
	{"", REJECT},
	{" ", REJECT},
	{".", REJECT},
	{"-", REJECT},
	{"+", REJECT},
	{"+-1", REJECT},
	{"--1", REJECT},
	{"1e", REJECT},
	{"1e+", REJECT},
	{"e5", REJECT},
	{".e5", REJECT},
	{"1.2.3", REJECT},
	{"1,5", REJECT},
	{"1 2", REJECT},
	{"12a", REJECT},
	{"abc", REJECT},
	{"1_000", REJECT},
};

START_TEST(table_matches_strtod)
{
	const char *s = TABLE[_i].text;
	int how = TABLE[_i].how;
	double v = 12345.0, ref, fv = 0.0;
	int ok = cal_parse_number(s, strlen(s), &v);
	int fast = cal_parse_number_fast(s, strlen(s), &fv);
	ck_assert_msg(ok == (how != REJECT), "'%s': accepted %d", s, ok);
	ck_assert_msg(fast == (how == FAST), "'%s': fast path %d", s, fast);
	if (!ok)
		return;
	char trimmed[64];
	const char *t = s;
	while (*t == ' ' || *t == '\t')
		t++;
	if (t[0] == 'b' && (t[1] == '\'' || t[1] == '"')) {
		snprintf(trimmed, sizeof trimmed, "%.*s", (int)strlen(t) - 3, t + 2);
	} else {
		snprintf(trimmed, sizeof trimmed, "%s", t);
		trimmed[strcspn(trimmed, " \t")] = '\0';
	}
	ck_assert(strtod_all(trimmed, &ref));
	ck_assert_msg(same_bits(v, ref), "'%s': %.17g, strtod %.17g", s, v, ref);
	if (fast)
		ck_assert_msg(same_bits(fv, ref), "'%s': fast %.17g, strtod %.17g", s, fv, ref);
}
END_TEST

/* A field of n characters: the parser reads only those. */
START_TEST(length_is_respected)
{
	double v;
	ck_assert(cal_parse_number("12345", 3, &v) && v == 123.0);
	ck_assert(cal_parse_number_fast("0.52577999", 7, &v) && v == 0.52577);
	ck_assert(!cal_parse_number("1e", 2, &v));
	ck_assert(cal_parse_number("1e5", 1, &v) && v == 1.0);
	ck_assert(!cal_parse_number("-", 1, &v));
	ck_assert(!cal_parse_number("", 0, &v));
}
END_TEST

/* ---- random strings ----------------------------------------------------------- */

/* A random decimal: sign, 0-21 integer digits, maybe '.', 0-21 fraction
 * digits, maybe an exponent of -40..40 (mostly small). */
static void random_decimal(char *buf, size_t cap)
{
	size_t k = 0;
	uint64_t r = rnd();
	if (r % 4 == 0)
		buf[k++] = '-';
	else if (r % 16 == 1)
		buf[k++] = '+';
	int ni = (int)(rnd() % 8 == 0 ? rnd() % 22 : rnd() % 4);
	int nf = (int)(rnd() % 8 == 0 ? rnd() % 22 : rnd() % 10);
	for (int i = 0; i < ni && k + 2 < cap; i++)
		buf[k++] = (char)('0' + rnd() % 10);
	if (rnd() % 8 || ni == 0) {
		buf[k++] = '.';
		for (int i = 0; i < nf && k + 2 < cap; i++)
			buf[k++] = (char)('0' + rnd() % 10);
	}
	if (rnd() % 5 == 0 && k + 8 < cap) {
		int e = (int)(rnd() % 81) - 40;
		if (rnd() % 2)
			e /= 4;
		k += (size_t)snprintf(buf + k, cap - k, "%c%+d", rnd() % 2 ? 'e' : 'E', e);
	}
	buf[k] = '\0';
}

START_TEST(random_matches_strtod)
{
	rng_state = 42;
	int n = quick() ? RANDOM_VALUES_QUICK : RANDOM_VALUES, fast = 0, accepted = 0;
	char buf[80];
	for (int i = 0; i < n; i++) {
		if (i % 3 == 0) { /* a printf'ed double: the shapes meters write */
			double x = (double)(rnd() % 2000000) / 1000.0 - 1000.0;
			static const char *const fmt[] = {"%.5f", "%.6f", "%g", "%.17g", "%.3e", "%.9f"};
			snprintf(buf, sizeof buf, fmt[rnd() % 6], x * pow(10.0, (double)(rnd() % 9) - 4));
		} else {
			random_decimal(buf, sizeof buf);
		}
		double v, ref, fv;
		int ok = cal_parse_number(buf, strlen(buf), &v);
		int want = strtod_all(buf, &ref) && isfinite(ref);
		ck_assert_msg(ok == want, "'%s': accepted %d, strtod %d", buf, ok, want);
		if (!ok)
			continue;
		accepted++;
		ck_assert_msg(same_bits(v, ref), "'%s': %.17g, strtod %.17g", buf, v, ref);
		if (cal_parse_number_fast(buf, strlen(buf), &fv)) {
			fast++;
			ck_assert_msg(same_bits(fv, ref), "'%s': fast %.17g", buf, fv);
		}
	}
	/* most of them take the fast path (it is not vacuous) */
	ck_assert_int_gt(fast, accepted / 2);
}
END_TEST

/* ---- through the importer --------------------------------------------------------- */

static void write_text(const char *text)
{
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fputs(text, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
}

static void opts_one(struct cal_meter_opts *o, const char *expr)
{
	cal_meter_opts_init(o);
	o->rate_hz = 1000.0;
	o->n_channels = 1;
	strcpy(o->ch[0].name, "x");
	o->ch[0].expr = expr;
}

/* opts_one() with the times from column time_col instead of a rate. */
static void opts_timed(struct cal_meter_opts *o, const char *expr, const char *time_col)
{
	opts_one(o, expr);
	o->rate_hz = 0;
	o->time_col = time_col;
}

/* The meter file at path, loaded with o: must succeed. */
static struct cal_meter *load_ok(const struct cal_meter_opts *o, struct jv_diag *d)
{
	struct cal_meter *m = NULL;
	jv_diag_clear(d);
	ck_assert_msg(cal_meter_load(path, o, &m, d) == 0, "%s", d->msg);
	return m;
}

/* Values in libcsv's buffer, fields of every length next to each other:
 * each loaded value is strtod()'s. */
START_TEST(importer_values_match_strtod)
{
	rng_state = 7;
	int rows = quick() ? FILE_ROWS_QUICK : FILE_ROWS;
	size_t cap = (size_t)rows * 3 * 64 + 64, k = 0;
	char *text = malloc(cap), (*field)[64] = malloc((size_t)rows * 3 * sizeof *field);
	ck_assert(text && field);
	k += (size_t)snprintf(text + k, cap - k, "a,b,c\n");
	for (int r = 0; r < rows; r++)
		for (int c = 0; c < 3; c++) {
			char *f = field[r * 3 + c];
			double x = (double)(rnd() % 100000000) / 1e4;
			switch (rnd() % 6) {
			case 0: snprintf(f, 64, "%.5f", x); break;
			case 1: snprintf(f, 64, "%.17g", x * 1e-3); break;
			case 2: snprintf(f, 64, "%.*f", (int)(rnd() % 12), -x); break;
			case 3: snprintf(f, 64, "%.3e", x * 1e10); break;
			case 4: snprintf(f, 64, "%d", (int)(rnd() % 100)); break;
			default: random_decimal(f, 40); break;
			}
			double v;
			if (!cal_parse_number(f, strlen(f), &v))
				strcpy(f, "1.5"); /* every field a number */
			k += (size_t)snprintf(text + k, cap - k, "%s%c", f, c == 2 ? '\n' : ',');
		}
	write_text(text);
	struct cal_meter_opts o;
	cal_meter_opts_init(&o);
	o.rate_hz = 1000.0;
	static const char *const ch[] = {"a=a", "b=b", "c=c"};
	struct jv_diag d = {0};
	for (int c = 0; c < 3; c++)
		ck_assert_int_eq(cal_channel_parse(ch[c], &o.ch[o.n_channels++], &d), 0);
	struct cal_meter *m = NULL;
	ck_assert_msg(cal_meter_load(path, &o, &m, &d) == 0, "%s", d.msg);
	ck_assert_uint_eq(m->n, (size_t)rows);
	for (int r = 0; r < rows; r++)
		for (int c = 0; c < 3; c++) {
			double ref;
			ck_assert(strtod_all(field[r * 3 + c], &ref));
			ck_assert_msg(same_bits(m->v[c][r], ref), "row %d '%s': %.17g", r + 2,
				      field[r * 3 + c], m->v[c][r]);
			ck_assert_int_eq(cal_meter_line(m, (size_t)r), r + 2);
		}
	cal_meter_free(m);
	free(text);
	free(field);
}
END_TEST

/* A long run of clean lines with comment lines, blank lines (tabs in a
 * TSV), a quoted field spanning lines and CRLF lines inside: every
 * sample's line, and an error deep in a run names its line. */
START_TEST(importer_lines_in_runs)
{
	int rows = quick() ? RUN_ROWS_QUICK : RUN_ROWS;
	for (int tsv = 0; tsv < 2; tsv++) {
		char dl = tsv ? '\t' : ',';
		size_t cap = (size_t)rows * 48 + 256, k = 0;
		char *text = malloc(cap);
		long *want = malloc((size_t)rows * sizeof *want);
		ck_assert(text && want);
		long line = 1;
		k += (size_t)snprintf(text + k, cap - k, "t%cv\n", dl);
		int n = 0;
		for (int r = 0; r < rows; r++) {
			if (r % 9973 == 5) {
				/* a comment, a blank line, a row ending on its second line */
				k += (size_t)snprintf(text + k, cap - k, "# note %d\n%s\n", r,
						      tsv ? " \t\t" : "   ");
				k += (size_t)snprintf(text + k, cap - k, "%d.5%c%d%c\"a\nb\"\n", r, dl,
						      r % 97, dl);
				line += 4;
				want[n++] = line;
				continue;
			}
			line++;
			k += (size_t)snprintf(text + k, cap - k, "%d.5%c%d%s", r, dl, r % 97,
					      r % 7 == 3 ? "\r\n" : "\n");
			want[n++] = line;
		}
		text[k] = '\0';
		write_text(text);
		struct cal_meter_opts o;
		opts_timed(&o, "v", "t");
		struct jv_diag d;
		struct cal_meter *m = load_ok(&o, &d);
		ck_assert_uint_eq(m->n, (size_t)n);
		ck_assert_int_eq(m->delim, dl);
		for (int i = 0; i < n; i++)
			ck_assert_msg(cal_meter_line(m, (size_t)i) == want[i], "sample %d: line %ld, want %ld",
				      i, cal_meter_line(m, (size_t)i), want[i]);
		ck_assert_double_eq(m->rate_hz, 1.0);
		cal_meter_free(m);
		/* a bad value deep in a run */
		int bad = n - 3;
		char *at = text;
		for (long l = 1; l < want[bad]; l++)
			at = strchr(at, '\n') + 1;
		at[0] = 'x';
		write_text(text);
		jv_diag_clear(&d);
		ck_assert_int_eq(cal_meter_load(path, &o, &m, &d), JV_EPARSE);
		char frag[64];
		snprintf(frag, sizeof frag, ":%ld: column 1 't': not a number 'x", want[bad]);
		ck_assert_msg(strstr(d.msg, frag), "'%s' lacks '%s'", d.msg, frag);
		free(text);
		free(want);
	}
}
END_TEST

/* Blank lines of tabs in a tab-separated run are skipped even when no
 * column is read (a constant channel, times from the rate). */
START_TEST(importer_tab_blank_lines)
{
	int rows = quick() ? 2000 : 20000, n = 0;
	size_t cap = (size_t)rows * 16 + 64, k = 0;
	char *text = malloc(cap);
	ck_assert_ptr_nonnull(text);
	for (int r = 0; r < rows; r++) {
		if (r % 10 == 9) {
			k += (size_t)snprintf(text + k, cap - k, "%s\n", r % 20 == 9 ? "\t\t" : " \t ");
			continue;
		}
		k += (size_t)snprintf(text + k, cap - k, "%d\t%d\n", r, r % 7);
		n++;
	}
	write_text(text);
	struct cal_meter_opts o;
	opts_one(&o, "1");
	struct cal_meter *m = NULL;
	struct jv_diag d = {0};
	ck_assert_msg(cal_meter_load(path, &o, &m, &d) == 0, "%s", d.msg);
	ck_assert_int_eq(m->delim, '\t');
	ck_assert_uint_eq(m->n, (size_t)n);
	ck_assert_int_eq(cal_meter_line(m, 9), 11);
	cal_meter_free(m);
	free(text);
}
END_TEST

START_TEST(importer_long_line_and_nul)
{
	/* line 3: "5" and blanks, longer than the limit, then exactly one
	 * byte too long (filling the read buffer), then just at the limit */
	static const size_t len[] = {CAL_LINE_MAX_B + 10, CAL_LINE_MAX_B, CAL_LINE_MAX_B - 1};
	char *text = malloc(CAL_LINE_MAX_B + 64);
	ck_assert_ptr_nonnull(text);
	strcpy(text, "1,2\n3,4\n5");
	size_t k = strlen(text);
	struct cal_meter_opts o;
	opts_one(&o, "c1");
	struct cal_meter *m = NULL;
	struct jv_diag d = {0};
	for (int i = 0; i < 2; i++) {
		memset(text + k, ' ', len[i] - 1);
		strcpy(text + k + len[i] - 1, "\n6,7\n");
		write_text(text);
		jv_diag_clear(&d);
		ck_assert_int_eq(cal_meter_load(path, &o, &m, &d), JV_ELIMIT);
		ck_assert_msg(strstr(d.msg, ":3: line too long"), "%s", d.msg);
	}
	/* with its '\n', a line of exactly the limit is accepted */
	memset(text + k, ' ', len[2] - 1);
	strcpy(text + k + len[2] - 1, "\n6,7\n");
	write_text(text);
	jv_diag_clear(&d);
	ck_assert_msg(cal_meter_load(path, &o, &m, &d) == 0, "%s", d.msg);
	ck_assert_uint_eq(m->n, 4);
	ck_assert_double_eq(m->v[0][2], 5.0);
	ck_assert_int_eq(cal_meter_line(m, 3), 4);
	cal_meter_free(m);
	/* a NUL byte in a line */
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fwrite("1,2\n3,4\n5,\0006\n", 1, 13, f);
	fclose(f);
	jv_diag_clear(&d);
	ck_assert_int_eq(cal_meter_load(path, &o, &m, &d), JV_EPARSE);
	ck_assert_msg(strstr(d.msg, ":3: NUL byte in line"), "%s", d.msg);
	free(text);
}
END_TEST

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* The rate is 1 / the median spacing of the times, exactly, for regular
 * logs (one pass), jittery ones with few spacings and irregular ones. */
START_TEST(importer_rate_is_exact_median)
{
	rng_state = 99;
	static const int sizes[] = {3, 10, 5000, 20000};
	for (int kind = 0; kind < 3; kind++)
		for (int si = 0; si < 4; si++) {
			int rows = sizes[si];
			size_t cap = (size_t)rows * 32 + 16, k = 0;
			char *text = malloc(cap);
			ck_assert_ptr_nonnull(text);
			k += (size_t)snprintf(text + k, cap - k, "t,v\n");
			double t = 0.0;
			for (int r = 0; r < rows; r++) {
				if (kind == 0)
					t = r / 2048.0;
				else if (kind == 1)
					t += 0.001 + (double)(rnd() % 3) * 1e-6;
				else
					t += (double)(rnd() % 1000 + 1) * 1e-5;
				k += (size_t)snprintf(text + k, cap - k, "%.9f,1\n", t);
			}
			write_text(text);
			struct cal_meter_opts o;
			opts_timed(&o, "v", "t");
			struct jv_diag d;
			struct cal_meter *m = load_ok(&o, &d);
			double *sp = malloc((m->n - 1) * sizeof *sp);
			ck_assert_ptr_nonnull(sp);
			for (size_t i = 0; i + 1 < m->n; i++)
				sp[i] = m->t_s[i + 1] - m->t_s[i];
			qsort(sp, m->n - 1, sizeof *sp, cmp_d);
			ck_assert_msg(same_bits(m->rate_hz, 1.0 / sp[(m->n - 1) / 2]),
				      "kind %d rows %d: rate %.17g", kind, rows, m->rate_hz);
			free(sp);
			cal_meter_free(m);
			free(text);
		}
}
END_TEST

/* The sample arrays are sized from the first data line: a file whose first
 * line is long and the rest short grows them; values stay in place. */
START_TEST(importer_grows_past_estimate)
{
	int rows = quick() ? 20000 : 100000;
	size_t cap = (size_t)rows * 16 + 256, k = 0;
	char *text = malloc(cap);
	ck_assert_ptr_nonnull(text);
	k += (size_t)snprintf(text + k, cap - k, "0.000000000000000000000000001,%0120d\n", 0);
	for (int r = 1; r < rows; r++)
		k += (size_t)snprintf(text + k, cap - k, "%d,%d\n", r, r % 10);
	write_text(text);
	struct cal_meter_opts o;
	opts_timed(&o, "c2", "c1");
	struct jv_diag d;
	struct cal_meter *m = load_ok(&o, &d);
	ck_assert_uint_eq(m->n, (size_t)rows);
	for (int r = 1; r < rows; r++) {
		ck_assert_double_eq(m->t_s[r], (double)r);
		ck_assert_double_eq(m->v[0][r], (double)(r % 10));
	}
	cal_meter_free(m);
	free(text);
}
END_TEST

/* ---- the splitter (calib/daq_fast.c) against libcsv ------------------------------ */

#define SPLIT_FIELDS 6 /* need[] of the splitter table: 6 fields, the 7th over the limit */

/* Lines through cal_daq_split_line() with delimiter ',' (or tab) and
 * fields read as time, number, not read, number. */
static const struct {
	int delim;
	const char *line;
	int want;      /* DAQ_SPLIT_* */
	int nf;        /* fields of a row */
	int all_empty; /* of a row */
	const char *v[4]; /* texts strtod() must agree with, NULL: not read */
} SPLIT_TABLE[] = {
	{',', "1.5,2,x,3\n", DAQ_SPLIT_ROW, 4, 0, {"1.5", "2", NULL, "3"}},
	{',', " 1.5 ,\t2\t,x y, -3.25 \r\n", DAQ_SPLIT_ROW, 4, 0, {"1.5", "2", NULL, "-3.25"}},
	{',', "-0,+.5,,5.\n", DAQ_SPLIT_ROW, 4, 0, {"-0", ".5", NULL, "5."}},
	{',', "1.5,2,,3,\n", DAQ_SPLIT_ROW, 4, 0, {"1.5", "2", NULL, "3"}},
	{',', "1.5,2,x,3, ,\n", DAQ_SPLIT_ROW, 5, 0, {"1.5", "2", NULL, "3"}},
	{',', "1.5,2,x\n", DAQ_SPLIT_ROW, 3, 0, {"1.5", "2", NULL, NULL}},
	{',', "9007199254740992,0.1234567890123456,x,1\n", DAQ_SPLIT_ROW, 4, 0,
	 {"9007199254740992", "0.1234567890123456", NULL, "1"}},
	{',', "\n", DAQ_SPLIT_BLANK, 0, 0, {NULL}},
	{',', " \t\r\n", DAQ_SPLIT_BLANK, 0, 0, {NULL}},
	{',', "1e3,-2.5E-3,x,+7e+22\n", DAQ_SPLIT_ROW, 4, 0, {"1e3", "-2.5E-3", NULL, "7e+22"}},
	{',', "0.5e0,123456789e-22,x,1.5e0021\n", DAQ_SPLIT_ROW, 4, 0,
	 {"0.5", "123456789e-22", NULL, "1.5e21"}},
	{',', "1e,2,x,3\n", DAQ_SPLIT_DECLINE, 0, 0, {NULL}},
	{',', "1e+,2,x,3\n", DAQ_SPLIT_DECLINE, 0, 0, {NULL}},
	{',', "1e00001,2,x,3\n", DAQ_SPLIT_DECLINE, 0, 0, {NULL}},
	{',', "1e23,2,x,3\n", DAQ_SPLIT_DECLINE, 0, 0, {NULL}},
	{',', "1.5e-22,2,x,3\n", DAQ_SPLIT_DECLINE, 0, 0, {NULL}},
	{',', "1e5x,2,x,3\n", DAQ_SPLIT_DECLINE, 0, 0, {NULL}},
	{',', "1.5,,x,3\n", DAQ_SPLIT_DECLINE, 0, 0, {NULL}},
	{',', "1.5,2,x,3\rz\n", DAQ_SPLIT_DECLINE, 0, 0, {NULL}},
	{',', "1.5,2\r,x\n", DAQ_SPLIT_DECLINE, 0, 0, {NULL}},
	{',', " \r \n", DAQ_SPLIT_DECLINE, 0, 0, {NULL}},
	{',', "12345678901234567890,1,x,1\n", DAQ_SPLIT_DECLINE, 0, 0, {NULL}},
	{',', "9007199254740993,1,x,1\n", DAQ_SPLIT_DECLINE, 0, 0, {NULL}},
	{',', "1.5,2,x,3,y,z,w\n", DAQ_SPLIT_DECLINE, 0, 0, {NULL}},
	{',', "a,2,x,3\n", DAQ_SPLIT_DECLINE, 0, 0, {NULL}},
	{',', "1 5,2,x,3\n", DAQ_SPLIT_DECLINE, 0, 0, {NULL}},
	{',', "b'12',2,x,3\n", DAQ_SPLIT_DECLINE, 0, 0, {NULL}},
	{',', "., 2,x,3\n", DAQ_SPLIT_DECLINE, 0, 0, {NULL}},
	{',', "-,2,x,3\n", DAQ_SPLIT_DECLINE, 0, 0, {NULL}},
	{'\t', "1.5\t 2 \t\t3\n", DAQ_SPLIT_ROW, 4, 0, {"1.5", "2", NULL, "3"}},
	{'\t', "1.5\t2\t \t3\t\n", DAQ_SPLIT_ROW, 4, 0, {"1.5", "2", NULL, "3"}},
	{'\t', "\t\t\n", DAQ_SPLIT_DECLINE, 0, 0, {NULL}},
};

START_TEST(split_table)
{
	int i = _i;
	unsigned char need[SPLIT_FIELDS + 1] = {DAQ_NEED_TIME, DAQ_NEED_NUM, DAQ_NEED_NONE,
						DAQ_NEED_NUM,  DAQ_NEED_NONE, DAQ_NEED_NONE,
						DAQ_NEED_LIMIT};
	double val[4] = {0}, *dst[4] = {&val[0], &val[1], &val[2], &val[3]};
	struct cal_daq_split s;
	ck_assert(cal_daq_split_usable(SPLIT_TABLE[i].delim, 0));
	cal_daq_split_init(&s, SPLIT_TABLE[i].delim, need, dst);
	const char *line = SPLIT_TABLE[i].line, *next = NULL;
	size_t len = strlen(line);
	int r = cal_daq_split_line(&s, line, line + len, &next);
	ck_assert_int_eq(r, SPLIT_TABLE[i].want);
	ck_assert_ptr_eq(next, line + len);
	if (r != DAQ_SPLIT_ROW)
		return;
	ck_assert_int_eq(s.nf, SPLIT_TABLE[i].nf);
	ck_assert_int_eq(s.all_empty, SPLIT_TABLE[i].all_empty);
	for (int k = 0; k < 4; k++) {
		double ref;
		if (!SPLIT_TABLE[i].v[k])
			continue;
		ck_assert(strtod_all(SPLIT_TABLE[i].v[k], &ref));
		ck_assert_msg(same_bits(val[k], ref), "field %d: %a, strtod %a", k, val[k], ref);
	}
}
END_TEST

/* Delimiters a number is made of, and white-space mode, are left to libcsv;
 * a tab delimiter is no blank; a row of empty unread fields is all_empty. */
START_TEST(split_usable_and_empty_rows)
{
	static const int bad[] = {'0', '9', '.', '+', '-', 'e', 'E', ' ', '\r', '\n', '"', 0};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		ck_assert_msg(!cal_daq_split_usable(bad[i], 0), "delimiter %d", bad[i]);
	ck_assert(!cal_daq_split_usable(',', 1));
	unsigned char need[4] = {DAQ_NEED_NONE, DAQ_NEED_NONE, DAQ_NEED_NONE, DAQ_NEED_LIMIT};
	struct cal_daq_split s;
	cal_daq_split_init(&s, '\t', need, NULL);
	const char *line = "\t\t\n", *next;
	ck_assert_int_eq(cal_daq_split_line(&s, line, line + 3, &next), DAQ_SPLIT_ROW);
	ck_assert_int_eq(s.nf, 2); /* three empty fields, the trailing one dropped */
	ck_assert_int_eq(s.all_empty, 1);
	cal_daq_split_init(&s, ';', need, NULL);
	line = " ; x ;\n";
	ck_assert_int_eq(cal_daq_split_line(&s, line, line + 7, &next), DAQ_SPLIT_ROW);
	ck_assert_int_eq(s.nf, 2);
	ck_assert_int_eq(s.all_empty, 0);
}
END_TEST

#define DIFF_FILES 4000       /* generated files through both paths */
#define DIFF_FILES_QUICK 400  /* under valgrind */
#define DIFF_ROWS_MAX 60      /* lines of a generated file */
#define DIFF_BUF_SMALL_MAX 48 /* small read buffers: 1 to this many bytes */

struct gen {
	char *b;
	size_t n, cap;
};

static void put(struct gen *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct gen *g, const char *fmt, ...)
{
	va_list ap;
	for (;;) {
		va_start(ap, fmt);
		int k = vsnprintf(g->b + g->n, g->cap - g->n, fmt, ap);
		va_end(ap);
		ck_assert_int_ge(k, 0);
		if ((size_t)k < g->cap - g->n) {
			g->n += (size_t)k;
			return;
		}
		g->cap = 2 * g->cap + (size_t)k;
		g->b = realloc(g->b, g->cap);
		ck_assert_ptr_nonnull(g->b);
	}
}

/* A random number field: mostly what the splitter takes, sometimes what
 * only the general parser takes, sometimes no number at all. */
static void gen_number(struct gen *g, int mess, double base)
{
	static const char *const odd[] = {
		"", "abc", "1.2.3", "1-2", "--1", "1 2", "nan", "inf", "0x1p3", "1e400", ".", "-",
		"+", "b'04988'", "1e", "1e+", "12345678901234567890123", "9007199254740993",
		"-0", "+.5", "5.", "0.12345678901234567890", "1E5", "-2.5e-3", "\xc3\xa9",
	};
	unsigned pick = (unsigned)(rnd() % 100);
	if (pick >= 100u - (unsigned)mess) {
		put(g, "%s", odd[rnd() % (sizeof odd / sizeof *odd)]);
		return;
	}
	switch (rnd() % 8) {
	case 0: put(g, "%d", (int)(rnd() % 2000) - 1000); break;
	case 1: put(g, "%.3e", base); break;
	case 2: put(g, "%.17g", base); break;
	default: put(g, "%.*f", (int)(rnd() % 9), base); break;
	}
}

static void gen_blanks(struct gen *g, int mess)
{
	if ((int)(rnd() % 100) < mess)
		put(g, "%s", rnd() % 2 ? " " : (rnd() % 2 ? "\t" : " \t "));
}

static const char *gen_eol(int crlf, int mess)
{
	if ((int)(rnd() % 400) < mess)
		return rnd() % 2 ? "\r" : "\r\r\n";
	return crlf ? "\r\n" : "\n";
}

/* A random meter file and options for it. */
static void gen_file(struct gen *g, struct cal_meter_opts *o, char names[][CAL_NAME_MAX])
{
	static const int delims[] = {',', ';', '\t', '|', ' '};
	int dl = delims[rnd() % (sizeof delims / sizeof *delims)];
	int ncols = 2 + (int)(rnd() % 4), crlf = rnd() % 4 == 0;
	int mess = rnd() % 3 == 0 ? 0 : (int)(rnd() % 25); /* odd fields; 0: long runs */
	int lmess = rnd() % 3 == 0 ? 0 : (int)(rnd() % 25); /* odd lines */
	int iso = rnd() % 10 == 0, hdr = rnd() % 2, rows = (int)(rnd() % DIFF_ROWS_MAX);
	cal_meter_opts_init(o);
	o->delim = rnd() % 2 ? 0 : dl;
	o->header = (int)(rnd() % 3) - 1;
	o->comment = rnd() % 5 ? '#' : 0;
	if (rnd() % 3) {
		o->time_col = rnd() % 2 && hdr ? "t" : "c1";
		o->time_unit = iso ? CAL_TIME_ISO : (int)(rnd() % 5);
	} else {
		o->rate_hz = 1000.0;
	}
	static const char *const exprs[] = {"c2", "c3", "c2*2-1", "(c2-0.5)/c3", "c2+c3+c4", "1"};
	int nch = rnd() % 2 ? 1 : 1 + (int)(rnd() % 3);
	for (int c = 0; c < nch; c++) {
		snprintf(names[c], CAL_NAME_MAX, "ch%d", c);
		snprintf(o->ch[c].name, CAL_NAME_MAX, "ch%d", c);
		/* "1" reads no column: rows of empty fields count */
		o->ch[c].expr = rnd() % 5 == 0 ? "1" : exprs[rnd() % (ncols >= 4 ? 5 : ncols >= 3 ? 4 : 1)];
	}
	o->n_channels = nch;
	if (rnd() % 8 == 0)
		o->sync_expr = "c2";
	o->energy = rnd() % 8 == 0;
	if (rnd() % 8 == 0)
		put(g, "\xEF\xBB\xBF");
	if (rnd() % 6 == 0)
		put(g, "# meter log%s", gen_eol(crlf, mess));
	if (hdr) {
		put(g, "t");
		for (int k = 1; k < ncols; k++)
			put(g, "%c%s%c", dl, rnd() % 8 ? "" : " ", 'a' + k);
		put(g, "%s", gen_eol(crlf, mess));
	}
	double t = (double)(rnd() % 1000);
	for (int r = 0; r < rows; r++) {
		int kind = (int)(rnd() % 100);
		if (kind < lmess / 2) { /* an odd line */
			static const char *const lines[] = {"", " ", "\t", " \t ", "# note", "  # x",
							   "\"1\n.5\"", "1#2", "\"q\"", ",", ",,"};
			const char *l = lines[rnd() % (sizeof lines / sizeof *lines)];
			if (!strcmp(l, ","))
				put(g, "%c", dl);
			else if (!strcmp(l, ",,"))
				put(g, "%c%c", dl, dl);
			else
				put(g, "%s", l);
			put(g, "%s", gen_eol(crlf, mess));
			continue;
		}
		t += rnd() % 50 == 0 && mess ? -0.5 : 0.001 * (double)(1 + rnd() % 3);
		int nf = ncols;
		if (mess && rnd() % 40 == 0)
			nf += rnd() % 2 ? 1 : -1;
		for (int k = 0; k < nf; k++) {
			if (k)
				put(g, "%c", dl);
			gen_blanks(g, mess);
			int quoted = mess && rnd() % 30 == 0;
			if (quoted)
				put(g, "\"");
			if (k == 0 && iso)
				put(g, "2024-02-29T12:%02d:%06.3fZ", (int)(t / 60) % 60, fmod(t, 60.0));
			else if (k == 0)
				put(g, "%.6f", t);
			else
				gen_number(g, mess, 0.5 + (double)(rnd() % 100000) / 1e4);
			if (quoted)
				put(g, "\"");
			gen_blanks(g, mess);
		}
		if (mess && rnd() % 20 == 0)
			put(g, "%c", dl); /* a trailing delimiter */
		if (r + 1 < rows || rnd() % 4)
			put(g, "%s", gen_eol(crlf, mess));
	}
	if (mess && rnd() % 30 == 0) {
		put(g, "1%c", dl); /* a NUL byte (the file is written with its length) */
		put(g, "%c", 'X');
		g->b[g->n - 1] = '\0';
		put(g, "2\n");
	}
}

/* First difference of two loads of one file ("" when the same). */
static void diff_loads(int rc0, const struct cal_meter *a, const struct jv_diag *d0, int rc1,
		       const struct cal_meter *b, const struct jv_diag *d1, char *why, size_t cap)
{
	why[0] = '\0';
	if (rc0 != rc1 || strcmp(d0->msg, d1->msg) || d0->err != d1->err) {
		snprintf(why, cap, "rc %d '%.300s' vs rc %d '%.300s'", rc0, d0->msg, rc1, d1->msg);
		return;
	}
	if (rc0)
		return;
	if (a->n != b->n || a->n_ch != b->n_ch || a->n_cols != b->n_cols ||
	    a->has_header != b->has_header || a->delim != b->delim ||
	    !same_bits(a->rate_hz, b->rate_hz) || !same_bits(a->period_s, b->period_s) ||
	    !same_bits(a->t_origin_s, b->t_origin_s) || !a->sync != !b->sync) {
		snprintf(why, cap, "shape: n %zu/%zu cols %d/%d rate %a/%a", a->n, b->n, a->n_cols,
			 b->n_cols, a->rate_hz, b->rate_hz);
		return;
	}
	for (size_t i = 0; i < a->n; i++) {
		int same = same_bits(a->t_s[i], b->t_s[i]) && cal_meter_line(a, i) == cal_meter_line(b, i);
		for (int c = 0; c < a->n_ch; c++)
			same = same && same_bits(a->v[c][i], b->v[c][i]);
		if (a->sync)
			same = same && same_bits(a->sync[i], b->sync[i]);
		if (!same) {
			snprintf(why, cap, "sample %zu: line %ld/%ld t %a/%a", i, cal_meter_line(a, i),
				 cal_meter_line(b, i), a->t_s[i], b->t_s[i]);
			return;
		}
	}
}

/* Random files, clean and messy, loaded through libcsv only and with the
 * splitter, with the default read buffer and with tiny ones (buffer
 * boundaries inside lines): the same samples bit for bit, the same line of
 * every sample, the same return code and message. */
START_TEST(split_matches_libcsv)
{
	rng_state = 2027;
	int files = quick() ? DIFF_FILES_QUICK : DIFF_FILES, loaded = 0;
	struct gen g = {malloc(4096), 0, 4096};
	ck_assert_ptr_nonnull(g.b);
	char why[JV_DIAG_MAX + 256] = "";
	int bad_file = -1, bad_variant = -1;
	for (int f = 0; f < files && bad_file < 0; f++) {
		struct cal_meter_opts o;
		char names[CAL_MAX_CHANNELS][CAL_NAME_MAX];
		g.n = 0;
		put(&g, "%s", "");
		gen_file(&g, &o, names);
		FILE *fp = fopen(path, "wb");
		ck_assert_ptr_nonnull(fp);
		ck_assert_uint_eq(fwrite(g.b, 1, g.n, fp), g.n);
		ck_assert_int_eq(fclose(fp), 0);
		struct cal_meter *ref = NULL;
		struct jv_diag d0 = {0};
		int rc0 = cal_daq_load(path, &o, CAL_DAQ_NO_SPLIT, 0, &ref, &d0);
		loaded += rc0 == 0;
		const struct {
			int flags;
			size_t buf_b;
		} variant[] = {
			{0, 0},
			{0, 1 + rnd() % DIFF_BUF_SMALL_MAX},
			{CAL_DAQ_NO_SPLIT, 1 + rnd() % DIFF_BUF_SMALL_MAX},
		};
		for (int v = 0; v < 3 && bad_file < 0; v++) {
			struct cal_meter *m = NULL;
			struct jv_diag d1 = {0};
			int rc1 = cal_daq_load(path, &o, variant[v].flags, variant[v].buf_b, &m, &d1);
			diff_loads(rc0, ref, &d0, rc1, m, &d1, why, sizeof why);
			if (why[0]) {
				bad_file = f;
				bad_variant = v;
			}
			cal_meter_free(m);
		}
		cal_meter_free(ref);
	}
	ck_assert_msg(bad_file < 0, "file %d, variant %d: %s\n---\n%.*s", bad_file, bad_variant,
		      why, (int)(g.n < 2000 ? g.n : 2000), g.b);
	/* the generator must give both outcomes often */
	ck_assert_msg(loaded > files / 5 && loaded < files - files / 5, "%d of %d loaded", loaded,
		      files);
	free(g.b);
}
END_TEST

static Suite *daq_suite(void)
{
	Suite *s = suite_create("daq");
	TCase *tc = tcase_create("numbers");
	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, table_matches_strtod, 0, (int)(sizeof TABLE / sizeof *TABLE));
	tcase_add_test(tc, length_is_respected);
	tcase_add_test(tc, random_matches_strtod);
	suite_add_tcase(s, tc);
	TCase *im = tcase_create("importer");
	tcase_set_timeout(im, 300);
	tcase_add_checked_fixture(im, setup, teardown);
	tcase_add_test(im, importer_values_match_strtod);
	tcase_add_test(im, importer_lines_in_runs);
	tcase_add_test(im, importer_tab_blank_lines);
	tcase_add_test(im, importer_long_line_and_nul);
	tcase_add_test(im, importer_rate_is_exact_median);
	tcase_add_test(im, importer_grows_past_estimate);
	suite_add_tcase(s, im);
	TCase *sp = tcase_create("splitter");
	tcase_set_timeout(sp, 300);
	tcase_add_checked_fixture(sp, setup, teardown);
	tcase_add_loop_test(sp, split_table, 0, (int)(sizeof SPLIT_TABLE / sizeof *SPLIT_TABLE));
	tcase_add_test(sp, split_usable_and_empty_rows);
	tcase_add_test(sp, split_matches_libcsv);
	suite_add_tcase(s, sp);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(daq_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
