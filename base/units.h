/*
 * units: parsing of values with unit suffixes (design §4).
 *
 *   time    ns us ms s (also min h)          -> int64_t nanoseconds
 *   energy  J mJ uJ nJ (also pJ kJ)           -> double joules
 *   power   W mW (also uW kW)                 -> double watts
 *   size    B KiB MiB GiB KB MB GB (also K M G = KiB MiB GiB, fio style)
 *                                              -> int64_t bytes
 *   rate    B/s KB/s MB/s GB/s KiB/s MiB/s GiB/s -> double bytes per second
 *   freq    Hz kHz MHz GHz                    -> double hertz
 *   plain   a finite number, no suffix        -> double
 *
 * A number is a C decimal literal (sign, digits, optional fraction and
 * exponent); white space around number and unit is allowed. A bare number
 * with no unit is accepted for every kind and taken in the base unit (ns, J,
 * W, B, B/s, Hz). NaN, infinities, trailing garbage and empty strings are
 * rejected. Integer results that do not fit in int64_t give JV_ERANGE; a
 * fractional byte count or nanosecond count is rounded to nearest.
 *
 * Each function returns 0 or a negative JV_E* code (JV_EPARSE: not a
 * number; JV_EUNIT: unknown unit; JV_ERANGE: overflow) and, on failure,
 * writes a short reason into why (may be NULL), e.g. "unknown unit 'xs'
 * (valid: ns us ms s min h)".
 */
#ifndef JV_UNITS_H
#define JV_UNITS_H

#include <stddef.h>
#include <stdint.h>

#define UNITS_WHY_MAX 160

int units_parse_time_ns(const char *s, int64_t *out, char *why);
int units_parse_energy_j(const char *s, double *out, char *why);
int units_parse_power_w(const char *s, double *out, char *why);
int units_parse_size_b(const char *s, int64_t *out, char *why);
int units_parse_rate_bps(const char *s, double *out, char *why);
int units_parse_freq_hz(const char *s, double *out, char *why);
int units_parse_double(const char *s, double *out, char *why);
/* plain integer, decimal, no unit; JV_ERANGE outside [INT64_MIN, INT64_MAX] */
int units_parse_int64(const char *s, int64_t *out, char *why);

/* Format a time in the largest unit that keeps it exact: "100ms", "1500us",
 * "0ns". buf must hold 32 bytes. Returns buf. */
char *units_fmt_time_ns(int64_t ns, char *buf);

#endif
