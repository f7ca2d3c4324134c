/*
 * units: parsing of values with unit suffixes (see units.h, design §4).
 *
 * Problem: every input of joulevisor (scenario files, --set, trace headers)
 * states times, energies, powers, sizes, rates and frequencies as text with
 * a unit suffix ("10ms", "12nJ", "55 MB/s"). They must be read exactly the
 * same way everywhere, reject anything doubtful and say why.
 *
 * Strategy: a value is NUMBER [white space] [UNIT], with optional white
 * space around it. NUMBER is scanned by hand as a C decimal literal (sign,
 * digits, optional fraction, optional exponent), so hexadecimal, "inf" and
 * "nan", which strtod() would take, never get through; strtod() then
 * converts exactly the scanned span (its end pointer must match). UNIT is
 * looked up case-sensitively in the kind's table; an empty unit means the
 * base unit.
 *
 * Integer results (nanoseconds, bytes): a NUMBER without fraction or
 * exponent is converted with strtoll() and multiplied with an overflow
 * check, so every int64_t value is exact ("9223372036854775807ns" works);
 * otherwise the double product is checked against [-2^63, 2^63) before it
 * is rounded to nearest (llround). Floating results must be finite after
 * the multiplication (1e300 GJ is JV_ERANGE). Underflow to zero or a
 * subnormal number is accepted (it is a tiny value, not an error).
 *
 * Limits: units are case-sensitive ("MS" is not "ms"); no white space is
 * allowed inside a unit ("MB /s"); the offending text in a reason is cut at
 * UNITS_QUOTE_MAX characters so the reason fits UNITS_WHY_MAX bytes.
 */
#include "base/units.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/jv_err.h"

/* longest offending text quoted in a reason; keeps `why` inside its buffer */
#define UNITS_QUOTE_MAX 40
/* 2^63 as a double: the first value that no longer fits in int64_t */
#define UNITS_TWO_POW_63 9223372036854775808.0

struct unit {
	const char *sfx;
	double mult; /* base units per unit; exact integers for time and size */
};

static const struct unit time_units[] = {
	{ "ns", 1.0 }, { "us", 1e3 }, { "ms", 1e6 }, { "s", 1e9 },
	{ "min", 60e9 }, { "h", 3600e9 }, { NULL, 0 },
};
static const struct unit energy_units[] = {
	{ "J", 1.0 }, { "mJ", 1e-3 }, { "uJ", 1e-6 }, { "nJ", 1e-9 },
	{ "pJ", 1e-12 }, { "kJ", 1e3 }, { NULL, 0 },
};
static const struct unit power_units[] = {
	{ "W", 1.0 }, { "mW", 1e-3 }, { "uW", 1e-6 }, { "kW", 1e3 }, { NULL, 0 },
};
static const struct unit size_units[] = {
	{ "B", 1.0 },
	{ "KiB", 1024.0 }, { "MiB", 1048576.0 }, { "GiB", 1073741824.0 },
	{ "KB", 1e3 }, { "MB", 1e6 }, { "GB", 1e9 },
	/* fio style: K M G are binary */
	{ "K", 1024.0 }, { "M", 1048576.0 }, { "G", 1073741824.0 },
	{ NULL, 0 },
};
static const struct unit rate_units[] = {
	{ "B/s", 1.0 }, { "KB/s", 1e3 }, { "MB/s", 1e6 }, { "GB/s", 1e9 },
	{ "KiB/s", 1024.0 }, { "MiB/s", 1048576.0 }, { "GiB/s", 1073741824.0 },
	{ NULL, 0 },
};
static const struct unit freq_units[] = {
	{ "Hz", 1.0 }, { "kHz", 1e3 }, { "MHz", 1e6 }, { "GHz", 1e9 }, { NULL, 0 },
};

/* The scanned number. */
struct num {
	double v;         /* value as a double */
	int64_t iv;       /* exact value when is_int */
	int is_int;       /* no fraction, no exponent, fits int64_t */
	const char *unit; /* first character after the number and its spaces */
};

static void set_why(char *why, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_why(char *why, const char *fmt, ...)
{
	if (!why)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, UNITS_WHY_MAX, fmt, ap);
	va_end(ap);
}

static const char *skip_ws(const char *p)
{
	while (*p && isspace((unsigned char)*p))
		p++;
	return p;
}

static int all_ws(const char *p)
{
	return *skip_ws(p) == '\0';
}

/* Scan a C decimal literal at p; return its end or p when there is none. */
static const char *scan_decimal(const char *p, int *has_frac_or_exp)
{
	const char *q = p;
	int digits = 0;
	*has_frac_or_exp = 0;
	if (*q == '+' || *q == '-')
		q++;
	while (isdigit((unsigned char)*q)) {
		q++;
		digits++;
	}
	if (*q == '.') {
		q++;
		*has_frac_or_exp = 1;
		while (isdigit((unsigned char)*q)) {
			q++;
			digits++;
		}
	}
	if (!digits)
		return p;
	if (*q == 'e' || *q == 'E') {
		const char *e = q + 1;
		if (*e == '+' || *e == '-')
			e++;
		if (isdigit((unsigned char)*e)) {
			while (isdigit((unsigned char)*e))
				e++;
			q = e;
			*has_frac_or_exp = 1;
		}
	}
	return q;
}

static int parse_number(const char *s, struct num *n, char *why)
{
	if (!s || all_ws(s)) {
		set_why(why, "empty value");
		return JV_EPARSE;
	}
	const char *p = skip_ws(s);
	int frac = 0;
	const char *end = scan_decimal(p, &frac);
	if (end == p) {
		set_why(why, "not a number: '%.*s'", UNITS_QUOTE_MAX, s);
		return JV_EPARSE;
	}
	char *dend = NULL;
	errno = 0;
	double v = strtod(p, &dend);
	int derr = errno;
	if (dend != end) {
		set_why(why, "not a decimal number: '%.*s'", UNITS_QUOTE_MAX, s);
		return JV_EPARSE;
	}
	if (derr == ERANGE && fabs(v) > 1.0) {
		set_why(why, "'%.*s' is out of range", UNITS_QUOTE_MAX, s);
		return JV_ERANGE;
	}
	if (!isfinite(v)) {
		set_why(why, "'%.*s' is not a finite number", UNITS_QUOTE_MAX, s);
		return JV_ERANGE;
	}
	n->v = v;
	n->is_int = 0;
	n->iv = 0;
	if (!frac) {
		char *iend = NULL;
		errno = 0;
		long long iv = strtoll(p, &iend, 10);
		if (errno == ERANGE) {
			set_why(why, "'%.*s' is out of range", UNITS_QUOTE_MAX, s);
			return JV_ERANGE;
		}
		if (iend == end) {
			n->is_int = 1;
			n->iv = (int64_t)iv;
		}
	}
	n->unit = skip_ws(end);
	return 0;
}

/* Length of the unit text at u without trailing white space. */
static size_t unit_len(const char *u)
{
	size_t len = strlen(u);
	while (len > 0 && isspace((unsigned char)u[len - 1]))
		len--;
	return len;
}

static void list_units(const struct unit *t, char *buf, size_t n)
{
	size_t used = 0;
	buf[0] = '\0';
	for (; t->sfx && used < n; t++) {
		int k = snprintf(buf + used, n - used, "%s%s", used ? " " : "",
				 t->sfx);
		if (k < 0)
			break;
		used += (size_t)k;
	}
}

/* Parse s against table t; on success *mult is the unit's multiplier and n
 * holds the number. */
static int parse_with_unit(const char *s, const struct unit *t, struct num *n,
			   double *mult, char *why)
{
	int rc = parse_number(s, n, why);
	if (rc)
		return rc;
	size_t len = unit_len(n->unit);
	if (len == 0) {
		*mult = 1.0;
		return 0;
	}
	for (const struct unit *u = t; u->sfx; u++) {
		if (strlen(u->sfx) == len && !memcmp(u->sfx, n->unit, len)) {
			*mult = u->mult;
			return 0;
		}
	}
	char valid[96];
	list_units(t, valid, sizeof valid);
	set_why(why, "unknown unit '%.*s' in '%.*s' (valid: %s)",
		(int)(len > UNITS_QUOTE_MAX ? UNITS_QUOTE_MAX : len), n->unit,
		UNITS_QUOTE_MAX, skip_ws(s), valid);
	return JV_EUNIT;
}

/* An int64_t result of number x unit: exact for integers, else rounded. */
static int to_int64(const char *s, const struct num *n, double mult,
		    int64_t *out, char *why)
{
	if (n->is_int) {
		int64_t r;
		if (__builtin_mul_overflow(n->iv, (int64_t)mult, &r))
			goto range;
		*out = r;
		return 0;
	}
	double x = n->v * mult;
	if (!(x >= -UNITS_TWO_POW_63 && x < UNITS_TWO_POW_63))
		goto range;
	*out = (int64_t)llround(x);
	return 0;
range:
	set_why(why, "'%.*s' is out of range (overflows 64 bits)",
		UNITS_QUOTE_MAX, skip_ws(s));
	return JV_ERANGE;
}

static int to_double(const char *s, const struct num *n, double mult,
		     double *out, char *why)
{
	double x = n->v * mult;
	if (!isfinite(x)) {
		set_why(why, "'%.*s' is out of range", UNITS_QUOTE_MAX,
			skip_ws(s));
		return JV_ERANGE;
	}
	*out = x;
	return 0;
}

static int parse_int_kind(const char *s, const struct unit *t, int64_t *out,
			  char *why)
{
	struct num n;
	double mult;
	int rc = parse_with_unit(s, t, &n, &mult, why);
	if (rc)
		return rc;
	return to_int64(s, &n, mult, out, why);
}

static int parse_dbl_kind(const char *s, const struct unit *t, double *out,
			  char *why)
{
	struct num n;
	double mult;
	int rc = parse_with_unit(s, t, &n, &mult, why);
	if (rc)
		return rc;
	return to_double(s, &n, mult, out, why);
}

int units_parse_time_ns(const char *s, int64_t *out, char *why)
{
	return parse_int_kind(s, time_units, out, why);
}

int units_parse_size_b(const char *s, int64_t *out, char *why)
{
	return parse_int_kind(s, size_units, out, why);
}

int units_parse_energy_j(const char *s, double *out, char *why)
{
	return parse_dbl_kind(s, energy_units, out, why);
}

int units_parse_power_w(const char *s, double *out, char *why)
{
	return parse_dbl_kind(s, power_units, out, why);
}

int units_parse_rate_bps(const char *s, double *out, char *why)
{
	return parse_dbl_kind(s, rate_units, out, why);
}

int units_parse_freq_hz(const char *s, double *out, char *why)
{
	return parse_dbl_kind(s, freq_units, out, why);
}

static int no_trailing(const char *s, const struct num *n, char *why)
{
	size_t len = unit_len(n->unit);
	if (len == 0)
		return 0;
	set_why(why, "unexpected '%.*s' after the number in '%.*s'",
		(int)(len > UNITS_QUOTE_MAX ? UNITS_QUOTE_MAX : len), n->unit,
		UNITS_QUOTE_MAX, skip_ws(s));
	return JV_EPARSE;
}

int units_parse_double(const char *s, double *out, char *why)
{
	struct num n;
	int rc = parse_number(s, &n, why);
	if (rc)
		return rc;
	rc = no_trailing(s, &n, why);
	if (rc)
		return rc;
	*out = n.v;
	return 0;
}

int units_parse_int64(const char *s, int64_t *out, char *why)
{
	struct num n;
	int rc = parse_number(s, &n, why);
	if (rc)
		return rc;
	rc = no_trailing(s, &n, why);
	if (rc)
		return rc;
	if (!n.is_int) {
		set_why(why, "not an integer: '%.*s'", UNITS_QUOTE_MAX,
			skip_ws(s));
		return JV_EPARSE;
	}
	*out = n.iv;
	return 0;
}

char *units_fmt_time_ns(int64_t ns, char *buf)
{
	static const struct {
		int64_t div;
		const char *sfx;
	} steps[] = { { 1000000000, "s" }, { 1000000, "ms" }, { 1000, "us" } };
	if (ns != 0) {
		for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
			if (ns % steps[i].div == 0) {
				snprintf(buf, 32, "%" PRId64 "%s",
					 ns / steps[i].div, steps[i].sfx);
				return buf;
			}
		}
	}
	snprintf(buf, 32, "%" PRId64 "ns", ns);
	return buf;
}
