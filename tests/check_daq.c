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
 * against what the line-by-line importer reported.
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "calib/daq.h"

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
		opts_one(&o, "v");
		o.rate_hz = 0;
		o.time_col = "t";
		struct cal_meter *m = NULL;
		struct jv_diag d = {0};
		ck_assert_msg(cal_meter_load(path, &o, &m, &d) == 0, "%s", d.msg);
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
			opts_one(&o, "v");
			o.rate_hz = 0;
			o.time_col = "t";
			struct cal_meter *m = NULL;
			struct jv_diag d = {0};
			ck_assert_msg(cal_meter_load(path, &o, &m, &d) == 0, "%s", d.msg);
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
	opts_one(&o, "c2");
	o.rate_hz = 0;
	o.time_col = "c1";
	struct cal_meter *m = NULL;
	struct jv_diag d = {0};
	ck_assert_msg(cal_meter_load(path, &o, &m, &d) == 0, "%s", d.msg);
	ck_assert_uint_eq(m->n, (size_t)rows);
	for (int r = 1; r < rows; r++) {
		ck_assert_double_eq(m->t_s[r], (double)r);
		ck_assert_double_eq(m->v[0][r], (double)(r % 10));
	}
	cal_meter_free(m);
	free(text);
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
