/* check_units: table-driven tests of base/units.c. */
#include <check.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/jv_err.h"
#include "base/units.h"

enum kind { K_TIME, K_SIZE, K_ENERGY, K_POWER, K_RATE, K_FREQ, K_DOUBLE, K_INT };

static int parse_int(enum kind k, const char *s, int64_t *v, char *why)
{
	switch (k) {
	case K_TIME:
		return units_parse_time_ns(s, v, why);
	case K_SIZE:
		return units_parse_size_b(s, v, why);
	default:
		return units_parse_int64(s, v, why);
	}
}

static int parse_dbl(enum kind k, const char *s, double *v, char *why)
{
	switch (k) {
	case K_ENERGY:
		return units_parse_energy_j(s, v, why);
	case K_POWER:
		return units_parse_power_w(s, v, why);
	case K_RATE:
		return units_parse_rate_bps(s, v, why);
	case K_FREQ:
		return units_parse_freq_hz(s, v, why);
	default:
		return units_parse_double(s, v, why);
	}
}

static int is_int_kind(enum kind k)
{
	return k == K_TIME || k == K_SIZE || k == K_INT;
}

/* ------------------------------------------------------------ valid */

static const struct {
	enum kind k;
	const char *in;
	int64_t iv;
	double dv;
} ok_cases[] = {
	{ K_TIME, "0", 0, 0 },
	{ K_TIME, "10ms", 10000000, 0 },
	{ K_TIME, " 10 ms ", 10000000, 0 },
	{ K_TIME, "\t7s\n", 7000000000, 0 },
	{ K_TIME, "1.5us", 1500, 0 },
	{ K_TIME, "1e3ns", 1000, 0 },
	{ K_TIME, "1E-3s", 1000000, 0 },
	{ K_TIME, ".5s", 500000000, 0 },
	{ K_TIME, "5.s", 5000000000, 0 },
	{ K_TIME, "+3s", 3000000000, 0 },
	{ K_TIME, "-5ms", -5000000, 0 },
	{ K_TIME, "250", 250, 0 },
	{ K_TIME, "42ns", 42, 0 },
	{ K_TIME, "3us", 3000, 0 },
	{ K_TIME, "2min", 120000000000, 0 },
	{ K_TIME, "1h", 3600000000000, 0 },
	{ K_TIME, "2400h", 8640000000000000, 0 },
	{ K_TIME, "0.5ns", 1, 0 },   /* rounded to nearest, halves away */
	{ K_TIME, "0.4ns", 0, 0 },
	{ K_TIME, "0.1s", 100000000, 0 },
	{ K_TIME, "9223372036854775807ns", INT64_MAX, 0 },
	{ K_TIME, "-9223372036854775808", INT64_MIN, 0 },
	{ K_TIME, "1e-400s", 0, 0 }, /* underflow is a tiny value, not an error */
	{ K_SIZE, "4KiB", 4096, 0 },
	{ K_SIZE, "4K", 4096, 0 },
	{ K_SIZE, "2M", 2097152, 0 },
	{ K_SIZE, "1G", 1073741824, 0 },
	{ K_SIZE, "3MiB", 3145728, 0 },
	{ K_SIZE, "8GiB", 8589934592, 0 },
	{ K_SIZE, "1KB", 1000, 0 },
	{ K_SIZE, "1MB", 1000000, 0 },
	{ K_SIZE, "2GB", 2000000000, 0 },
	{ K_SIZE, "512B", 512, 0 },
	{ K_SIZE, "512", 512, 0 },
	{ K_SIZE, "1.5KiB", 1536, 0 },
	{ K_SIZE, "64 MiB", 67108864, 0 },
	{ K_INT, "42", 42, 0 },
	{ K_INT, " -7 ", -7, 0 },
	{ K_INT, "9223372036854775807", INT64_MAX, 0 },
	{ K_INT, "-9223372036854775808", INT64_MIN, 0 },
	{ K_ENERGY, "12nJ", 0, 12e-9 },
	{ K_ENERGY, "1J", 0, 1.0 },
	{ K_ENERGY, "2mJ", 0, 2e-3 },
	{ K_ENERGY, "3uJ", 0, 3e-6 },
	{ K_ENERGY, "4pJ", 0, 4e-12 },
	{ K_ENERGY, "5kJ", 0, 5e3 },
	{ K_ENERGY, "0.5", 0, 0.5 },
	{ K_ENERGY, "1.2e-8 J", 0, 1.2e-8 },
	{ K_ENERGY, "-1nJ", 0, -1e-9 },
	{ K_POWER, "3.6W", 0, 3.6 },
	{ K_POWER, "500mW", 0, 0.5 },
	{ K_POWER, "2uW", 0, 2e-6 },
	{ K_POWER, "1kW", 0, 1000.0 },
	{ K_POWER, " 5.6 W ", 0, 5.6 },
	{ K_POWER, "36", 0, 36.0 },
	{ K_RATE, "55MB/s", 0, 55e6 },
	{ K_RATE, "100B/s", 0, 100.0 },
	{ K_RATE, "2KB/s", 0, 2e3 },
	{ K_RATE, "1GB/s", 0, 1e9 },
	{ K_RATE, "1KiB/s", 0, 1024.0 },
	{ K_RATE, "1MiB/s", 0, 1048576.0 },
	{ K_RATE, "1GiB/s", 0, 1073741824.0 },
	{ K_RATE, "1e6", 0, 1e6 },
	{ K_FREQ, "3GHz", 0, 3e9 },
	{ K_FREQ, "2.5MHz", 0, 2.5e6 },
	{ K_FREQ, "1kHz", 0, 1e3 },
	{ K_FREQ, "50Hz", 0, 50.0 },
	{ K_FREQ, "1e9", 0, 1e9 },
	{ K_DOUBLE, "0.104", 0, 0.104 },
	{ K_DOUBLE, "-1", 0, -1.0 },
	{ K_DOUBLE, "4e9", 0, 4e9 },
	{ K_DOUBLE, " 1.5e-3 ", 0, 1.5e-3 },
};

START_TEST(test_ok)
{
	char why[UNITS_WHY_MAX] = "";
	int64_t iv = -12345;
	double dv = -12345;
	enum kind k = ok_cases[_i].k;
	const char *in = ok_cases[_i].in;
	if (is_int_kind(k)) {
		int rc = parse_int(k, in, &iv, why);
		ck_assert_msg(rc == 0, "'%s': rc %d (%s)", in, rc, why);
		ck_assert_msg(iv == ok_cases[_i].iv, "'%s': got %" PRId64
			      " want %" PRId64, in, iv, ok_cases[_i].iv);
	} else {
		int rc = parse_dbl(k, in, &dv, why);
		ck_assert_msg(rc == 0, "'%s': rc %d (%s)", in, rc, why);
		ck_assert_double_eq_tol(dv, ok_cases[_i].dv,
					fabs(ok_cases[_i].dv) * 1e-12);
	}
}
END_TEST

/* ---------------------------------------------------------- invalid */

static const struct {
	enum kind k;
	const char *in;
	int err;
	const char *why; /* expected substring of the reason */
} bad_cases[] = {
	{ K_TIME, "", JV_EPARSE, "empty" },
	{ K_TIME, "   ", JV_EPARSE, "empty" },
	{ K_TIME, NULL, JV_EPARSE, "empty" },
	{ K_TIME, "abc", JV_EPARSE, "not a number: 'abc'" },
	{ K_TIME, "ms", JV_EPARSE, "not a number" },
	{ K_TIME, "10xs", JV_EUNIT,
	  "unknown unit 'xs' in '10xs' (valid: ns us ms s min h)" },
	{ K_TIME, "10MS", JV_EUNIT, "unknown unit 'MS'" },
	{ K_TIME, "10ms x", JV_EUNIT, "unknown unit 'ms x'" },
	{ K_TIME, "10 m s", JV_EUNIT, "unknown unit 'm s'" },
	{ K_TIME, "1e", JV_EUNIT, "unknown unit 'e'" },
	{ K_TIME, "NaN", JV_EPARSE, "not a number" },
	{ K_TIME, "nan", JV_EPARSE, "not a number" },
	{ K_TIME, "inf", JV_EPARSE, "not a number" },
	{ K_TIME, "-inf", JV_EPARSE, "not a number" },
	{ K_TIME, "0x10ns", JV_EPARSE, "not a decimal number" },
	{ K_TIME, "--5ms", JV_EPARSE, "not a number" },
	{ K_TIME, "1e400", JV_ERANGE, "out of range" },
	{ K_TIME, "1e400s", JV_ERANGE, "out of range" },
	{ K_TIME, "9223372036854775808ns", JV_ERANGE, "out of range" },
	{ K_TIME, "-9223372036854775809ns", JV_ERANGE, "out of range" },
	{ K_TIME, "9223372036854775807us", JV_ERANGE, "overflows" },
	{ K_TIME, "1e12s", JV_ERANGE, "overflows" },
	{ K_TIME, "3000000h", JV_ERANGE, "overflows" },
	{ K_SIZE, "1TB", JV_EUNIT, "(valid: B KiB MiB GiB KB MB GB K M G)" },
	{ K_SIZE, "1kb", JV_EUNIT, "unknown unit 'kb'" },
	{ K_SIZE, "1e19B", JV_ERANGE, "overflows" },
	{ K_SIZE, "9223372036854775807KiB", JV_ERANGE, "overflows" },
	{ K_SIZE, "4KiB!", JV_EUNIT, "unknown unit 'KiB!'" },
	{ K_INT, "9223372036854775808", JV_ERANGE, "out of range" },
	{ K_INT, "1.0", JV_EPARSE, "not an integer" },
	{ K_INT, "1e3", JV_EPARSE, "not an integer" },
	{ K_INT, "12abc", JV_EPARSE, "unexpected 'abc'" },
	{ K_INT, "10ms", JV_EPARSE, "unexpected 'ms'" },
	{ K_INT, "", JV_EPARSE, "empty" },
	{ K_ENERGY, "1W", JV_EUNIT, "(valid: J mJ uJ nJ pJ kJ)" },
	{ K_ENERGY, "1e308kJ", JV_ERANGE, "out of range" },
	{ K_ENERGY, "inf", JV_EPARSE, "not a number" },
	{ K_POWER, "1J", JV_EUNIT, "(valid: W mW uW kW)" },
	{ K_POWER, "3.6 W W", JV_EUNIT, "unknown unit 'W W'" },
	{ K_RATE, "55MB", JV_EUNIT, "(valid: B/s KB/s MB/s GB/s KiB/s MiB/s GiB/s)" },
	{ K_RATE, "55 MB / s", JV_EUNIT, "unknown unit 'MB / s'" },
	{ K_FREQ, "3ghz", JV_EUNIT, "(valid: Hz kHz MHz GHz)" },
	{ K_FREQ, "", JV_EPARSE, "empty" },
	{ K_DOUBLE, "1x", JV_EPARSE, "unexpected 'x'" },
	{ K_DOUBLE, "1s", JV_EPARSE, "unexpected 's'" },
	{ K_DOUBLE, "NaN", JV_EPARSE, "not a number" },
	{ K_DOUBLE, "Infinity", JV_EPARSE, "not a number" },
	{ K_DOUBLE, "1e400", JV_ERANGE, "out of range" },
	{ K_DOUBLE, "-1e400", JV_ERANGE, "out of range" },
	{ K_DOUBLE, "1,5", JV_EPARSE, "unexpected ',5'" },
	{ K_DOUBLE, "", JV_EPARSE, "empty" },
};

START_TEST(test_bad)
{
	char why[UNITS_WHY_MAX] = "";
	int64_t iv = 777;
	double dv = 777.0;
	enum kind k = bad_cases[_i].k;
	const char *in = bad_cases[_i].in;
	int rc = is_int_kind(k) ? parse_int(k, in, &iv, why)
				: parse_dbl(k, in, &dv, why);
	ck_assert_msg(rc == bad_cases[_i].err, "'%s': rc %s want %s (%s)",
		      in ? in : "(null)", jv_errname(rc),
		      jv_errname(bad_cases[_i].err), why);
	ck_assert_msg(strstr(why, bad_cases[_i].why), "'%s': why '%s' lacks '%s'",
		      in ? in : "(null)", why, bad_cases[_i].why);
	/* the output is untouched on failure */
	ck_assert_int_eq(iv, 777);
	ck_assert_double_eq(dv, 777.0);
	/* why may be NULL */
	rc = is_int_kind(k) ? parse_int(k, in, &iv, NULL)
			    : parse_dbl(k, in, &dv, NULL);
	ck_assert_int_eq(rc, bad_cases[_i].err);
}
END_TEST

START_TEST(test_why_bounded)
{
	char input[400];
	memset(input, 'x', sizeof input - 1);
	input[0] = '1';
	input[sizeof input - 1] = '\0';
	char why[UNITS_WHY_MAX + 16];
	memset(why, 'Z', sizeof why);
	int64_t v;
	ck_assert_int_eq(units_parse_time_ns(input, &v, why), JV_EUNIT);
	ck_assert_uint_lt(strlen(why), UNITS_WHY_MAX);
	ck_assert_int_eq(why[UNITS_WHY_MAX], 'Z'); /* nothing written past */
}
END_TEST

/* ------------------------------------------------------------- format */

static const struct {
	int64_t ns;
	const char *out;
} fmt_cases[] = {
	{ 0, "0ns" },
	{ 1, "1ns" },
	{ 999, "999ns" },
	{ 1000, "1us" },
	{ 1500, "1500ns" },
	{ 54000, "54us" },
	{ 1500000, "1500us" },
	{ 10000000, "10ms" },
	{ 2000000000, "2s" },
	{ 60000000000, "60s" },
	{ 3600000000000, "3600s" },
	{ -5000000, "-5ms" },
	{ -1, "-1ns" },
	{ INT64_MAX, "9223372036854775807ns" },
	{ INT64_MIN, "-9223372036854775808ns" },
};

START_TEST(test_fmt)
{
	char buf[32];
	ck_assert_ptr_eq(units_fmt_time_ns(fmt_cases[_i].ns, buf), buf);
	ck_assert_str_eq(buf, fmt_cases[_i].out);
	int64_t back = 0;
	ck_assert_int_eq(units_parse_time_ns(buf, &back, NULL), 0);
	ck_assert_int_eq(back, fmt_cases[_i].ns);
}
END_TEST

/* fmt then parse gives the same value, over a spread of magnitudes */
START_TEST(test_fmt_roundtrip)
{
	uint64_t x = 88172645463325252ull; /* xorshift64 */
	char buf[32];
	for (int i = 0; i < 20000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		int shift = (int)(x % 64);
		int64_t ns = (int64_t)(x >> shift);
		if (i % 3 == 0) /* many exact multiples of the units too */
			ns = (ns % 100000) * (i % 2 ? 1000000 : 1000000000);
		if (i % 5 == 0)
			ns = -ns;
		int64_t back = 0;
		units_fmt_time_ns(ns, buf);
		ck_assert_int_eq(units_parse_time_ns(buf, &back, NULL), 0);
		ck_assert_msg(back == ns, "%" PRId64 " -> %s -> %" PRId64, ns, buf,
			      back);
	}
}
END_TEST

static Suite *units_suite(void)
{
	Suite *s = suite_create("units");
	TCase *tc = tcase_create("parse");
	tcase_add_loop_test(tc, test_ok, 0, sizeof ok_cases / sizeof ok_cases[0]);
	tcase_add_loop_test(tc, test_bad, 0,
			    sizeof bad_cases / sizeof bad_cases[0]);
	tcase_add_test(tc, test_why_bounded);
	suite_add_tcase(s, tc);
	TCase *tf = tcase_create("format");
	tcase_add_loop_test(tf, test_fmt, 0, sizeof fmt_cases / sizeof fmt_cases[0]);
	tcase_add_test(tf, test_fmt_roundtrip);
	suite_add_tcase(s, tf);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(units_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
