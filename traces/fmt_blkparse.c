/*
 * fmt_blkparse: reader of blkparse's default text output.
 *
 * Problem: `blkparse` prints one line per blktrace event,
 *   "%3d,%-3d %2d %8d %5T.%09t %5p %2a %3d " + an action-specific tail:
 *   maj,min  cpu  seq  sec.nsec  pid  action  RWBS  tail
 * e.g. "259,0    1        2     0.000000184 21279  Q  RA 2348060440 + 8
 * [fio]". Tails: Q/D/I/B "sector + nsectors [process]" (or "[process]"
 * without sectors, "bytes (cdb) [process]" for SCSI pass-through), C/R
 * "sector + nsectors [error]" (optionally "(elapsed)" before "[error]";
 * "(cdb) [error]" for pass-through), A "sector + n <- (maj,min) sector",
 * U/T "[process] depth", m "message text". After the events come summary
 * blocks ("CPU0 (8,0):", "Total (8,0):", "Throughput ...", "Events ...").
 * Lines of different CPUs may be out of time order. The events must become
 * requests like the binary reader's (fmt_blktrace.c) so that a trace and
 * its blkparse rendering import to the same records.
 *
 * Strategy: lines stream through the shared line reader; each is split
 * into the 7 header fields and the tail, checked field by field, and the
 * Q, D, C and R events go to the shared engine (fmt_blk.c: reorder window,
 * attribution Q else D else C, completion matching); the other actions (A
 * B F G I M P S T U UT X m) are checked up to the RWBS field and dropped.
 * Times "sec.nsec" (exactly 9 digits after the point) become ns. RWBS: an
 * optional leading F (flush), then D (discard, skipped), W (write), R
 * (read) or N (no data, skipped), then any of F (FUA) A S M E B; a flush
 * without sectors is skipped; with sectors it is its read or write.
 * Pass-through events are skipped; skips are counted (trc_skipped).
 * "[process]" of Q and D lines names the pid's command (VM attrs);
 * "(null)" is ignored, any other name (even "0") is kept. Lines starting
 * with "Input file " before the first event and blank lines are ignored.
 * Reading of events stops at the first summary line ("CPUn (" or
 * "Total ("); the rest is read and ignored, except that an event line after
 * the summary is an error (concatenated outputs are not merged).
 *
 * Parameters: the reorder window (trc_open_opts.reorder_window_ns,
 * default 1 s). Limits: seconds <= 9223372035 (ns fit int64); pid, cpu
 * <= 4294967295; major < 4096, minor < 2^20; nsectors <= 8388607 (bytes
 * fit u32 as in blktrace); lines <= 64 KiB.
 */
#include "traces/fmt_blk.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define BP_HDR_FIELDS 7
#define BP_SEC_MAX 9223372035ULL     /* whole seconds whose ns fit int64 */
#define BP_NSEC_DIGITS 9
#define BP_MAJOR_MAX 0xfffu
#define BP_MINOR_MAX 0xfffffu
#define BP_MINOR_BITS 20
#define BP_NSECT_MAX (UINT32_MAX / BLK_SECTOR_B)
#define BP_RWBS_MAX 8
#define BP_INPUT_PREFIX "Input file "
#define BP_EXPECT "'maj,min cpu seq sec.nsec pid action rwbs ...'"
#define NS_PER_S 1000000000ULL

struct bp_src {
	int seen_event;
	int in_summary;
	long summary_line;
};

struct tok {
	const char *s;
	size_t n;
};

/* ---- scanners -------------------------------------------------------- */

static inline int is_sp(char c)
{
	return c == ' ' || c == '\t';
}

static inline int is_digit(char c)
{
	return (unsigned)(c - '0') <= 9;
}

/* Digits s[0..n) as a value <= max: 1, or 0 (empty, non-digit, too big). */
static int tok_uint(const char *s, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return 0;
		unsigned dg = (unsigned)(s[i] - '0');
		if (v > (max - dg) / 10)
			return 0;
		v = v * 10 + dg;
	}
	*out = v;
	return 1;
}

/* Leading digits of p (at most max): the end, or NULL. */
static const char *scan_uint(const char *p, uint64_t max, uint64_t *out)
{
	const char *s = p;
	while (is_digit(*p))
		p++;
	return tok_uint(s, (size_t)(p - s), max, out) ? p : NULL;
}

/* "maj,min" */
static int tok_dev(const struct tok *t, uint32_t *dev)
{
	const char *c = memchr(t->s, ',', t->n);
	uint64_t maj, min;
	if (!c || !tok_uint(t->s, (size_t)(c - t->s), BP_MAJOR_MAX, &maj) ||
	    !tok_uint(c + 1, t->n - (size_t)(c + 1 - t->s), BP_MINOR_MAX, &min))
		return 0;
	*dev = (uint32_t)(maj << BP_MINOR_BITS | min);
	return 1;
}

/* "sec.nsec" with exactly 9 digits after the point. */
static int tok_time(const struct tok *t, int64_t *ns)
{
	const char *dot = memchr(t->s, '.', t->n);
	uint64_t sec, nsec;
	if (!dot || t->n - (size_t)(dot + 1 - t->s) != BP_NSEC_DIGITS ||
	    !tok_uint(t->s, (size_t)(dot - t->s), UINT64_MAX, &sec) ||
	    !tok_uint(dot + 1, BP_NSEC_DIGITS, UINT64_MAX, &nsec))
		return 0;
	if (sec > BP_SEC_MAX)
		return -1;
	*ns = (int64_t)(sec * NS_PER_S + nsec);
	return 1;
}

static int action_of(const struct tok *t)
{
	static const char *const ignored[] = {
		"A", "B", "F", "G", "I", "M", "P", "S", "T", "U", "UT", "X", "m",
	};
	if (t->n == 1) {
		switch (t->s[0]) {
		case 'Q': return BLK_ACT_Q;
		case 'D': return BLK_ACT_D;
		case 'C': return BLK_ACT_C;
		case 'R': return BLK_ACT_R;
		default: break;
		}
	}
	for (size_t i = 0; i < sizeof ignored / sizeof ignored[0]; i++)
		if (strlen(ignored[i]) == t->n && memcmp(ignored[i], t->s, t->n) == 0)
			return BLK_ACT_COUNT; /* valid, dropped */
	return -1;
}

/* RWBS: F?[DWRN][FASMEB]*; *op_letter the D/W/R/N, *flush the leading F. */
static int tok_rwbs(const struct tok *t, char *op_letter, int *flush)
{
	size_t i = 0;
	if (t->n == 0 || t->n > BP_RWBS_MAX)
		return 0;
	*flush = t->n > 1 && t->s[0] == 'F' && strchr("DWRN", t->s[1]);
	i = (size_t)*flush;
	if (!strchr("DWRN", t->s[i]))
		return 0;
	*op_letter = t->s[i];
	for (i++; i < t->n; i++)
		if (!strchr("FASMEB", t->s[i]))
			return 0;
	return 1;
}

/* ---- lines ----------------------------------------------------------- */

static int line_err(const struct trc_reader *r, struct jv_diag *d, int err,
		    const char *field, const struct tok *t, const char *what)
{
	char q[80];
	return jv_diag_set(d, err, r->name, r->lines.line, "%s: %s '%s'", field,
			   what, trc_quote(q, sizeof q, t->s, t->n));
}

/* An event line's shape: optional blanks, digits ',' digits, a blank. */
static int looks_like_event(const char *p)
{
	while (is_sp(*p))
		p++;
	if (!is_digit(*p))
		return 0;
	while (is_digit(*p))
		p++;
	if (*p++ != ',' || !is_digit(*p))
		return 0;
	while (is_digit(*p))
		p++;
	return is_sp(*p);
}

static int is_summary(const char *p)
{
	if (strncmp(p, "Total (", 7) == 0)
		return 1;
	if (strncmp(p, "CPU", 3) != 0 || !is_digit(p[3]))
		return 0;
	for (p += 3; is_digit(*p); p++)
		;
	return p[0] == ' ' && p[1] == '(';
}

/* Split into the 7 header fields; *tail after them. Returns the count. */
static int split(const char *line, struct tok *t, const char **tail)
{
	const char *p = line;
	int n = 0;
	while (is_sp(*p))
		p++;
	while (n < BP_HDR_FIELDS && *p) {
		t[n].s = p;
		while (*p && !is_sp(*p))
			p++;
		t[n].n = (size_t)(p - t[n].s);
		n++;
		while (is_sp(*p))
			p++;
	}
	*tail = p;
	return n;
}

/* The tail of a Q/D/C/R line: sector, sectors, op adjustments, name. */
struct tail {
	uint64_t sector, nsect;
	int pc;                /* pass-through */
	const char *name;      /* inside [...] */
	size_t name_n;
};

static int parse_tail(const char *p, int act, struct tail *o)
{
	memset(o, 0, sizeof *o);
	const char *end = p + strlen(p);
	while (end > p && is_sp(end[-1]))
		end--;
	if (end == p || end[-1] != ']')
		return 0;
	const char *lb = NULL; /* the '[' of the final [...] */
	if (*p == '[') {
		lb = p;
	} else if (*p == '(') {
		o->pc = 1; /* "(cdb) [error]" */
		lb = strrchr(p, '[');
	} else {
		p = scan_uint(p, UINT64_MAX, &o->sector);
		if (!p || !is_sp(*p))
			return 0;
		while (is_sp(*p))
			p++;
		if (p[0] == '+' && is_sp(p[1])) {
			p += 2;
			while (is_sp(*p))
				p++;
			p = scan_uint(p, UINT64_MAX, &o->nsect);
			if (!p || !is_sp(*p))
				return 0;
			while (is_sp(*p))
				p++;
			if (*p == '(' || *p == '|') { /* (elapsed) or |align| */
				lb = strrchr(p, '[');
			} else {
				lb = p;
			}
		} else if (*p == '(') {
			/* Q/D "bytes (cdb) [process]"; C/R "sector (elapsed)" */
			o->pc = act == BLK_ACT_Q || act == BLK_ACT_D;
			o->sector = 0;
			lb = strrchr(p, '[');
		} else {
			lb = p; /* "sector [error]": no sectors */
		}
	}
	if (!lb || *lb != '[' || lb + 1 >= end)
		return 0;
	o->name = lb + 1;
	o->name_n = (size_t)(end - 1 - o->name);
	return 1;
}

static int classify(char letter, int flush, const struct tail *tl)
{
	if (tl->pc)
		return BLK_OP_PC;
	if (letter == 'D')
		return BLK_OP_DISCARD;
	if (tl->nsect == 0)
		return flush ? BLK_OP_FLUSH : BLK_OP_NODATA;
	if (letter == 'W')
		return BLK_OP_WRITE;
	return letter == 'R' ? BLK_OP_READ : BLK_OP_NODATA;
}

static int bad_tail(const struct trc_reader *r, const struct tok *a,
		    const char *tail, struct jv_diag *d)
{
	char q[80];
	return jv_diag_set(d, JV_EPARSE, r->name, r->lines.line,
			   "%.*s event: expected 'sector + nsectors [%s]' after "
			   "the rwbs field, found '%s'", (int)a->n, a->s,
			   a->s[0] == 'C' || a->s[0] == 'R' ? "error" : "process",
			   trc_quote(q, sizeof q, tail, strlen(tail)));
}

/* One event line: 1 with ev filled, 0 for a dropped action, < 0. */
static int parse_event(struct trc_reader *r, const char *line,
		       struct blk_ev *ev, struct jv_diag *d)
{
	struct tok t[BP_HDR_FIELDS];
	const char *tail;
	char q[80];
	int n = split(line, t, &tail);
	uint32_t dev;
	uint64_t v, pid;
	if (n == 0 || !tok_dev(&t[0], &dev)) {
		if (n > 0 && memchr(t[0].s, ',', t[0].n) && looks_like_event(line))
			return line_err(r, d, JV_ERANGE, "device", &t[0],
					"major or minor out of range (major < "
					"4096, minor < 1048576)");
		return jv_diag_set(d, JV_EPARSE, r->name, r->lines.line,
				   "expected a blkparse event " BP_EXPECT
				   ", found '%s'",
				   trc_quote(q, sizeof q, line, strlen(line)));
	}
	if (n < BP_HDR_FIELDS)
		return jv_diag_set(d, JV_EPARSE, r->name, r->lines.line,
				   "expected at least %d fields " BP_EXPECT
				   ", found %d", BP_HDR_FIELDS, n);
	if (!tok_uint(t[1].s, t[1].n, UINT32_MAX, &v))
		return line_err(r, d, JV_EPARSE, "cpu", &t[1],
				"not an unsigned integer");
	struct tok seq = t[2];
	if (seq.n > 1 && seq.s[0] == '-') { /* blkparse prints u32 with %d */
		seq.s++;
		seq.n--;
	}
	if (!tok_uint(seq.s, seq.n, UINT32_MAX, &v))
		return line_err(r, d, JV_EPARSE, "sequence", &t[2],
				"not an integer");
	int64_t ns;
	int trc = tok_time(&t[3], &ns);
	if (trc < 0)
		return line_err(r, d, JV_ERANGE, "time", &t[3],
				"out of range (at most 9223372035 s)");
	if (trc == 0)
		return line_err(r, d, JV_EPARSE, "time", &t[3],
				"expected 'seconds.nanoseconds' with 9 digits "
				"after the point, found");
	if (!tok_uint(t[4].s, t[4].n, UINT32_MAX, &pid))
		return line_err(r, d, JV_EPARSE, "pid", &t[4],
				"not an unsigned 32-bit integer");
	int act = action_of(&t[5]);
	if (act < 0)
		return line_err(r, d, JV_EPARSE, "action", &t[5],
				"unknown (known: A B C D F G I M P Q R S T U UT "
				"X m)");
	char letter;
	int flush;
	if (!tok_rwbs(&t[6], &letter, &flush))
		return line_err(r, d, JV_EPARSE, "rwbs", &t[6],
				"expected F?[DWRN][FASMEB]*, found");
	if (act == BLK_ACT_COUNT)
		return 0;
	struct tail tl;
	if (!parse_tail(tail, act, &tl))
		return bad_tail(r, &t[5], tail, d);
	if (tl.nsect > BP_NSECT_MAX)
		return jv_diag_set(d, JV_ERANGE, r->name, r->lines.line,
				   "nsectors: out of range %" PRIu64 " (at most %u)",
				   tl.nsect, (unsigned)BP_NSECT_MAX);
	if (act == BLK_ACT_Q || act == BLK_ACT_D) {
		int rc = trc_blk_comm(r, (uint32_t)pid, tl.name, tl.name_n);
		if (rc < 0)
			return jv_diag_set(d, rc, r->name, r->lines.line,
					   "out of memory");
	}
	memset(ev, 0, sizeof *ev);
	ev->t = ns;
	ev->sector = tl.sector;
	ev->bytes = (uint32_t)(tl.nsect * BLK_SECTOR_B);
	ev->pid = (uint32_t)pid;
	ev->dev = dev;
	ev->pos = r->lines.line;
	ev->act = (uint8_t)act;
	ev->op = (uint8_t)classify(letter, flush, &tl);
	return 1;
}

static int bp_next(struct trc_reader *r, void *src, struct blk_ev *ev,
		   struct jv_diag *d)
{
	struct bp_src *s = src;
	char *line;
	size_t len;
	for (;;) {
		int rc = trc_lines_next(&r->lines, &line, &len, d);
		if (rc <= 0)
			return rc;
		const char *p = line;
		while (is_sp(*p))
			p++;
		if (*p == '\0')
			continue;
		if (s->in_summary) {
			if (looks_like_event(line))
				return jv_diag_set(d, JV_EPARSE, r->name,
						   r->lines.line,
						   "event line after the summary "
						   "that starts at line %ld",
						   s->summary_line);
			continue;
		}
		if (is_summary(line)) {
			s->in_summary = 1;
			s->summary_line = r->lines.line;
			continue;
		}
		if (!s->seen_event &&
		    strncmp(line, BP_INPUT_PREFIX, sizeof BP_INPUT_PREFIX - 1) == 0)
			continue;
		rc = parse_event(r, line, ev, d);
		if (rc < 0)
			return rc;
		s->seen_event = 1;
		if (rc == 1)
			return 1;
	}
}

/* ---- source and format entry ----------------------------------------- */

static int bp_open(struct trc_reader *r, void **out, struct jv_diag *d)
{
	*out = calloc(1, sizeof(struct bp_src));
	if (!*out)
		return jv_diag_set(d, JV_ENOMEM, r->name, 0, "out of memory");
	return 0;
}

static void bp_close(void *src)
{
	free(src);
}

static size_t bp_mem_b(const void *src)
{
	(void)src;
	return sizeof(struct bp_src);
}

static const char *bp_file(const void *src, int idx)
{
	(void)src;
	(void)idx;
	return "?"; /* text positions are lines of r->name */
}

static const struct blk_src_ops bp_ops = {
	bp_open, bp_next, bp_close, bp_mem_b, bp_file, 0,
};

/* Bounded matcher for the probe: head is not NUL-terminated. */
struct cur {
	const char *p, *end;
};

static int c_sp(struct cur *c)
{
	const char *s = c->p;
	while (c->p < c->end && is_sp(*c->p))
		c->p++;
	return c->p > s;
}

static int c_digits(struct cur *c)
{
	const char *s = c->p;
	while (c->p < c->end && is_digit(*c->p))
		c->p++;
	return (int)(c->p - s);
}

static int c_char(struct cur *c, char ch)
{
	if (c->p < c->end && *c->p == ch) {
		c->p++;
		return 1;
	}
	return 0;
}

/* "maj,min cpu seq sec.nsec pid action " at the start of a line. */
static int probe_line(struct cur *c)
{
	c_sp(c);
	if (!c_digits(c) || !c_char(c, ',') || !c_digits(c) || !c_sp(c) ||
	    !c_digits(c) || !c_sp(c))
		return 0;
	c_char(c, '-');
	if (!c_digits(c) || !c_sp(c) || !c_digits(c) || !c_char(c, '.') ||
	    c_digits(c) != BP_NSEC_DIGITS || !c_sp(c) || !c_digits(c) ||
	    !c_sp(c))
		return 0;
	int n = 0;
	while (c->p < c->end && ((*c->p | 0x20) >= 'a' && (*c->p | 0x20) <= 'z')) {
		c->p++;
		n++;
	}
	return n >= 1 && n <= 2 && c->p < c->end && is_sp(*c->p);
}

static int probe_blkparse(const char *head, size_t len)
{
	struct cur c = { head, head + len };
	size_t pl = sizeof BP_INPUT_PREFIX - 1;
	while ((size_t)(c.end - c.p) > pl &&
	       memcmp(c.p, BP_INPUT_PREFIX, pl) == 0) {
		const char *nl = memchr(c.p, '\n', (size_t)(c.end - c.p));
		if (!nl)
			return 0;
		c.p = nl + 1;
	}
	return probe_line(&c);
}

static int open_blkparse(struct trc_reader *r, struct jv_diag *d)
{
	return trc_blk_open(r, &bp_ops, d);
}

const struct trc_format trc_fmt_blkparse = {
	"blkparse", TRC_BLK, probe_blkparse, open_blkparse, trc_blk_next,
	trc_blk_close, trc_blk_mem_b,
};
