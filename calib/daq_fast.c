/*
 * daq_fast: the meter importer's splitter for plain lines (daq_fast.h).
 *
 * Problem: a DAQ log is millions of lines like `0.000100,0.50258,0.60000`.
 * Handing them to libcsv costs a callback per field and a copy of every
 * byte into libcsv's field buffer before the importer even looks at a
 * digit, so the importer could never reach libcsv's own speed (issue 10:
 * >= 90 % of csv_parse() alone, docs/PERFORMANCE.md). The common line has
 * no quote, no comment, nothing libcsv would treat specially: it can be
 * split and its numbers converted in one pass over the bytes.
 *
 * Model: libcsv 3.0.3 with CSV_REPALL_NL, the default space test (space
 * and tab) and term test (CR and LF), delimiter D, on a line without the
 * quote character: spaces and tabs that are not D are skipped before a
 * field and trimmed after it; D ends a field; CR or LF ends the field and
 * the row; a CR or LF before any field is an empty row (which the
 * importer skips). So `x\r\n` is the row `x` (ended by CR) and an empty row
 * (LF); ` \n` is an empty row.
 *
 * Strategy: calib/daq.c finds runs of whole lines without quote, comment
 * prefix or NUL (memchr over its read buffer) and gives each line of a
 * run to cal_daq_split_line() once the first row has set up the columns.
 * The line is walked once with a 256-entry byte-class table (other,
 * blank, delimiter, CR, LF):
 * - a field in a column that is read as a number (seconds, or an
 *   expression's operand) must be `[+-]digits[.digits][(e|E)[+-]digits]`
 *   with 1 to 19 digits, a mantissa <= 2^53, an exponent of at most 4
 *   digits and a power of ten (exponent minus fraction digits) within
 *   +-22, blanks around: the digits are gathered into one integer while
 *   walking, and the value is that integer times or over the power of
 *   ten, one correctly rounded operation (Clinger's fast path, as
 *   cal_parse_number_fast()), so the same double as strtod() and as
 *   daq.c's hot path in libcsv's field callback;
 * - a field in a column that is not read is skipped to its end; only
 *   whether it is empty matters (a trailing delimiter's empty last field
 *   is dropped; with a tab delimiter, a row of empty fields is a blank
 *   line);
 * - the line ends at LF or at CR LF; a line with no field is blank.
 * Anything else declines the line: a b'...' literal, a number too long
 * for one rounding or with a power of ten past 1e+-22, an empty or non-numeric field that is
 * read, a lone CR (it would end a row inside the line), ISO times, too
 * many fields. daq.c then feeds that one line to libcsv exactly as before
 * (the parser is at the start of a row between lines, as every line of a
 * run ends at an unquoted LF), so errors, their FILE:LINE and text, and
 * the slow-path values come from the one reference path. A row the
 * splitter accepts goes through the same row code (checks, channels, line
 * runs) as a row from libcsv's callbacks; a row that fails a check there
 * (time going backwards, a non-finite expression, a full sample array) is
 * declined too and libcsv reports or grows.
 *
 * Worked example, delimiter ',', columns t_s (time) and c1 read, c2 not:
 * ` 0.5, 1.25 ,x\r\n`: blank skipped, 0.5 = 5 / 10; 1.25 = 125 / 100
 * with the trailing blank trimmed; `x` skipped (not empty); CR then LF:
 * a row of 3 fields. `1e-3,2,x\n` gives 1 / 10^3; `1e-30,2,x\n` declines
 * (libcsv's path parses it with strtod()). `,,\n` with c1 read declines
 * (an empty field that is read).
 *
 * Limits: not used in white-space mode (delimiter ' ', where libcsv gets
 * tabs turned into spaces and runs of blanks) or for a delimiter that
 * numbers are made of (digits, '.', '+', '-', 'e', 'E'). The caller guarantees a
 * '\n' in the line (bytes are read up to it without bounds checks).
 */
#include "calib/daq_fast.h"

#include <float.h>
#include <stdint.h>
#include <string.h>

/* Clinger's fast path: a mantissa m <= 2^53 and 10^k, k <= 22, are exact
 * doubles, so m / 10^k is one correctly rounded operation (as strtod()).
 * 19 digits fit uint64 without overflow; the fraction has at most 19. */
#define SPLIT_DIGITS_MAX 19
#define SPLIT_MANT_MAX (1ULL << 53)
#define SPLIT_POW10_MAX 22
#define SPLIT_EXP_DIGITS_MAX 4 /* as cal_parse_number_fast() */
/* extended-precision evaluation (x87) would round twice: decline all */
#define SPLIT_NUM_OK (FLT_EVAL_METHOD == 0)

static const double SPLIT_POW10[SPLIT_POW10_MAX + 1] = {
	1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/* The digits from p on into *m (m * 10 + digit each, wrapping past 19
 * digits: the caller counts them); returns the first byte that is not a
 * digit (there is one: the line's '\n'). A plain loop: at the 5 to 8
 * digits of a meter's field, 8-byte SWAR conversion costs as many
 * instructions as it saves. */
static inline const unsigned char *take_digits(const unsigned char *p, uint64_t *m)
{
	uint64_t v = *m;
	unsigned dg;
	while ((dg = (unsigned)*p - '0') < 10) {
		v = v * 10 + dg;
		p++;
	}
	*m = v;
	return p;
}

int cal_daq_split_usable(int delim, int ws_mode)
{
	if (ws_mode || !SPLIT_NUM_OK)
		return 0;
	if (delim >= '0' && delim <= '9')
		return 0;
	return delim != '.' && delim != '+' && delim != '-' && delim != 'e' && delim != 'E' &&
	       delim != ' ' && delim != '\r' && delim != '\n' && delim != '"' && delim != '\0';
}

void cal_daq_split_init(struct cal_daq_split *s, int delim, const unsigned char *need,
			double *const *dst)
{
	memset(s->cls, DAQ_C_OTHER, sizeof s->cls);
	s->cls[' '] = DAQ_C_BLANK;
	s->cls['\t'] = DAQ_C_BLANK;
	s->cls['\r'] = DAQ_C_CR;
	s->cls['\n'] = DAQ_C_LF;
	s->cls[(unsigned char)delim] = DAQ_C_DELIM; /* a tab delimiter is no blank */
	s->need = need;
	s->dst = dst;
	s->nf = 0;
	s->all_empty = 0;
}

int cal_daq_split_line(struct cal_daq_split *s, const char *line, const char *end,
		       const char **next)
{
	const unsigned char *p = (const unsigned char *)line;
	const unsigned char *cls = s->cls;
	int k = 0, nonempty = 0, last_empty = 0;
	unsigned c;
	while (cls[*p] == DAQ_C_BLANK)
		p++;
	c = cls[*p];
	if (c == DAQ_C_LF || (c == DAQ_C_CR && p[1] == '\n')) {
		*next = (const char *)p + 1 + (c == DAQ_C_CR);
		return DAQ_SPLIT_BLANK;
	}
	for (;;) {
		/* p: the field's first byte after leading blanks */
		unsigned kind = s->need[k];
		if (kind - DAQ_NEED_NUM < 2) { /* NUM or TIME */
			int neg = *p == '-';
			p += neg | (*p == '+');
			const unsigned char *d0 = p;
			uint64_t m = 0;
			p = take_digits(p, &m);
			size_t nd = (size_t)(p - d0), nfr = 0;
			if (*p == '.') {
				const unsigned char *f0 = ++p;
				p = take_digits(p, &m);
				nfr = (size_t)(p - f0);
				nd += nfr;
			}
			if (nd - 1 >= SPLIT_DIGITS_MAX || m > SPLIT_MANT_MAX)
				goto decline;
			/* signed first: one rounding, any rounding mode */
			double v = neg ? -(double)m : (double)m;
			if (__builtin_expect((*p | 0x20) != 'e', 1)) {
				*s->dst[k] = v / SPLIT_POW10[nfr];
			} else {
				int eneg = *++p == '-', x = 0;
				unsigned dg;
				p += eneg | (*p == '+');
				const unsigned char *x0 = p;
				while ((dg = (unsigned)*p - '0') < 10 && p - x0 < SPLIT_EXP_DIGITS_MAX) {
					x = x * 10 + (int)dg;
					p++;
				}
				int e10 = (eneg ? -x : x) - (int)nfr;
				if (p == x0 || e10 < -SPLIT_POW10_MAX || e10 > SPLIT_POW10_MAX)
					goto decline;
				*s->dst[k] = e10 < 0 ? v / SPLIT_POW10[-e10] : v * SPLIT_POW10[e10];
			}
			while ((c = cls[*p]) == DAQ_C_BLANK)
				p++;
			if (c == DAQ_C_OTHER)
				goto decline;
			last_empty = 0;
			nonempty = 1;
		} else if (kind == DAQ_NEED_NONE) {
			c = cls[*p];
			last_empty = c >= DAQ_C_DELIM;
			nonempty |= !last_empty;
			while (c <= DAQ_C_BLANK)
				c = cls[*++p];
		} else {
			goto decline; /* ISO time, or one field past the limit */
		}
		k++;
		if (c == DAQ_C_DELIM) {
			p++;
			while (cls[*p] == DAQ_C_BLANK)
				p++;
			continue;
		}
		if (c == DAQ_C_CR) {
			if (p[1] != '\n')
				goto decline; /* a lone CR ends a row inside the line */
			p++;
		}
		break; /* at the LF */
	}
	*next = (const char *)p + 1;
	s->nf = k - (k > 1 && last_empty);
	s->all_empty = !nonempty;
	return DAQ_SPLIT_ROW;
decline:
	p = memchr(line, '\n', (size_t)(end - line));
	*next = (const char *)p + 1;
	return DAQ_SPLIT_DECLINE;
}
