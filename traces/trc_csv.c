/*
 * trc_csv: readers of the native CSV trace formats (design §7,
 * docs/FORMATS.md "Native trace formats").
 *
 * Problem: PMC logs and block traces of hours of execution are GB of text;
 * they must be read at hundreds of MB/s in O(1) memory and every malformed
 * line reported as "FILE:LINE: field: reason", never skipped.
 *
 * Format (all four kinds): line 1 `# joulevisor <kind> v1`; then comments
 * (blank lines, lines starting with '#'); then the header line; then rows,
 * comments allowed anywhere. CRLF accepted; the final '\n' is optional.
 *   pmc           t_ns,cpu,vm,<counters...>     time per CPU, counters
 *                                               cumulative per CPU
 *   pmc-interval  t_ns,vm,<counters...>         time per VM
 *   blk           t_ns,vm,op,offset_b,size_b[,latency_ns][,disk]
 *                                               time global
 *   blk-interval  t_ns,vm,disk,read_b,write_b,reads,writes  time per VM
 *
 * Strategy: the header is checked against the kind's column table (struct
 * col: type, name) and fixes the row layout (counter count; blk's optional
 * columns). A row is parsed by straight-line code per kind (row_pmc, ...)
 * with hand-written inline scanners (digits, name characters) that stop at
 * ',' or at the line's terminating NUL (trc_lines), storing straight into
 * the caller's record: no tokenising pass, no allocation, no sscanf.
 * VM names are hashed while they are validated and interned by hash. Only
 * on failure does the slow path (row_error) recount the fields and
 * re-examine the failing field to build the message; so a wrong field
 * count wins over a bad value in the same line. Order checks (trc_order_*)
 * keep the last time per CPU or VM in tables that grow with the largest
 * CPU / VM index, never with the trace's length.
 *
 * Parameters: none. Limits: TRC_MAX_COUNTERS (16) counters; cpu 0..1023;
 * disk0..disk1023; VM names [A-Za-z0-9_.-]{1,63}, TRC_MAX_VMS (65536) per
 * trace; numbers plain decimal (no sign, no spaces, no quotes; t_ns,
 * offsets and sizes <= INT64_MAX, counters <= UINT64_MAX); latency_ns -1
 * means unknown; lines <= 64 KiB; counter wrap is not supported in v1.
 *
 * Example: "1000,0,web,5000,1200" under `t_ns,cpu,vm,tsc,inst` yields
 * pmc{t_ns=1000, cpu=0, vm=index of "web", ctr={5000,1200}}.
 */
#include "traces/trc_impl.h"
#include "traces/fmt_text.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define VERSION_PREFIX "# joulevisor "
#define VERSION_SUPPORTED "v1"
#define U64_DIV10 (UINT64_MAX / 10)
#define U64_LAST_DIGIT_MAX 5 /* UINT64_MAX = 18446744073709551615 */
#define U64_SAFE_DIGITS 19   /* any 19-digit number fits in 64 bits */
#define MAX_COLS (3 + TRC_MAX_COUNTERS)
#define KIND_WORD_MAX_B 32

enum col_type {
	COL_TIME,   /* int64 >= 0 */
	COL_NONNEG, /* int64 >= 0 */
	COL_POS,    /* int64 > 0 */
	COL_LAT,    /* int64 >= 0, or -1 (unknown) */
	COL_CTR,    /* uint64 */
	COL_CPU,    /* int32 0 .. TRC_MAX_CPUS - 1 */
	COL_VM,     /* int32 interned name index */
	COL_OP,     /* int32 trc_op from R / W */
	COL_DISK,   /* int32 from diskN */
};

/* A column of a row: what it holds and its header name. The row parsers
 * (row_pmc, ...) are straight-line code; the column table serves the
 * header check and the messages of the slow path. */
struct col {
	int type; /* col_type */
	const char *name;
};

struct csv_state {
	int has_lat, has_disk; /* blk: optional columns present */
	int n_cols;
	struct col cols[MAX_COLS];
	struct trc_order ord;
};

static const struct col pmc_fixed[] = {
	{ COL_TIME, "t_ns" },
	{ COL_CPU, "cpu" },
	{ COL_VM, "vm" },
};
static const struct col pmci_fixed[] = {
	{ COL_TIME, "t_ns" },
	{ COL_VM, "vm" },
};
/* the last two are optional, recognised by name, in this order */
static const struct col blk_cols[] = {
	{ COL_TIME, "t_ns" },
	{ COL_VM, "vm" },
	{ COL_OP, "op" },
	{ COL_NONNEG, "offset_b" },
	{ COL_POS, "size_b" },
	{ COL_LAT, "latency_ns" },
	{ COL_DISK, "disk" },
};
#define BLK_N_REQUIRED 5
static const struct col blki_cols[] = {
	{ COL_TIME, "t_ns" },
	{ COL_VM, "vm" },
	{ COL_DISK, "disk" },
	{ COL_NONNEG, "read_b" },
	{ COL_NONNEG, "write_b" },
	{ COL_NONNEG, "reads" },
	{ COL_NONNEG, "writes" },
};

static const char *const header_hint[TRC_KIND_COUNT] = {
	[TRC_PMC] = "t_ns,cpu,vm,<counters...>",
	[TRC_PMC_INTERVAL] = "t_ns,vm,<counters...>",
	[TRC_BLK] = "t_ns,vm,op,offset_b,size_b[,latency_ns][,disk]",
	[TRC_BLK_INTERVAL] = "t_ns,vm,disk,read_b,write_b,reads,writes",
};

/* ---- probes ---------------------------------------------------------- */

static int probe_kind(const char *head, size_t len, const char *kind)
{
	size_t pl = sizeof VERSION_PREFIX - 1, kl = strlen(kind);
	if (len < pl + kl || memcmp(head, VERSION_PREFIX, pl) != 0 ||
	    memcmp(head + pl, kind, kl) != 0)
		return 0;
	if (len == pl + kl)
		return 1;
	char c = head[pl + kl];
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int trc_csv_probe_pmc(const char *head, size_t len)
{
	return probe_kind(head, len, "pmc");
}

int trc_csv_probe_pmci(const char *head, size_t len)
{
	return probe_kind(head, len, "pmc-interval");
}

int trc_csv_probe_blk(const char *head, size_t len)
{
	return probe_kind(head, len, "blk");
}

int trc_csv_probe_blki(const char *head, size_t len)
{
	return probe_kind(head, len, "blk-interval");
}

/* ---- order checks (shared with the writer) --------------------------- */

void trc_order_init(struct trc_order *o, int kind, int n_ctr)
{
	memset(o, 0, sizeof *o);
	o->kind = kind;
	o->n_ctr = kind == TRC_PMC ? n_ctr : 0;
	o->g_t = -1;
}

void trc_order_free(struct trc_order *o)
{
	free(o->t);
	free(o->line);
	free(o->ctr);
	memset(o, 0, sizeof *o);
}

size_t trc_order_mem_b(const struct trc_order *o)
{
	return o->cap * (sizeof *o->t + sizeof *o->line +
			 (size_t)o->n_ctr * sizeof *o->ctr);
}

static int order_grow(struct trc_order *o, size_t need)
{
	size_t cap = o->cap ? o->cap : 8;
	while (cap < need)
		cap *= 2;
	int64_t *t = realloc(o->t, cap * sizeof *t);
	if (!t)
		return JV_ENOMEM;
	o->t = t;
	long *ln = realloc(o->line, cap * sizeof *ln);
	if (!ln)
		return JV_ENOMEM;
	o->line = ln;
	if (o->n_ctr) {
		uint64_t *c = realloc(o->ctr, cap * (size_t)o->n_ctr * sizeof *c);
		if (!c)
			return JV_ENOMEM;
		o->ctr = c;
	}
	for (size_t i = o->cap; i < cap; i++) {
		t[i] = -1;
		ln[i] = 0;
	}
	o->cap = cap;
	return 0;
}

static int pmc_counters_check(struct trc_order *o, const struct trc_pmc *p,
			      char *const *ctr_names, const char *file,
			      long line, struct jv_diag *d)
{
	size_t key = (size_t)p->cpu;
	uint64_t *last = o->ctr + key * (size_t)o->n_ctr;
	if (o->t[key] >= 0) {
		for (int i = 0; i < o->n_ctr; i++)
			if (p->ctr[i] < last[i])
				return jv_diag_set(
					d, JV_EORDER, file, line,
					"%.60s: counter goes backwards (%" PRIu64
					" < %" PRIu64 " at line %ld) for cpu %d; "
					"counter wrap is not supported in v1",
					ctr_names ? ctr_names[i] : "counter",
					p->ctr[i], last[i], o->line[key], p->cpu);
	}
	memcpy(last, p->ctr, (size_t)o->n_ctr * sizeof *last);
	return 0;
}

int trc_order_check(struct trc_order *o, const struct trc_record *rec,
		    const struct trc_names *vms, char *const *ctr_names,
		    const char *file, long line, struct jv_diag *d)
{
	int64_t t;
	int key;
	switch (o->kind) {
	case TRC_PMC:
		t = rec->u.pmc.t_ns;
		key = rec->u.pmc.cpu;
		break;
	case TRC_PMC_INTERVAL:
		t = rec->u.pmci.t_ns;
		key = rec->u.pmci.vm;
		break;
	case TRC_BLK_INTERVAL:
		t = rec->u.blki.t_ns;
		key = rec->u.blki.vm;
		break;
	default: /* TRC_BLK: one global time */
		t = rec->u.blk.t_ns;
		if (t < o->g_t)
			return jv_diag_set(d, JV_EORDER, file, line,
					   "t_ns: time goes backwards (%" PRId64
					   " < %" PRId64 " at line %ld)",
					   t, o->g_t, o->g_line);
		o->g_t = t;
		o->g_line = line;
		return 0;
	}
	if ((size_t)key >= o->cap && order_grow(o, (size_t)key + 1) < 0)
		return jv_diag_set(d, JV_ENOMEM, file, line, "out of memory");
	if (t < o->t[key]) {
		if (o->kind == TRC_PMC)
			return jv_diag_set(d, JV_EORDER, file, line,
					   "t_ns: time goes backwards (%" PRId64
					   " < %" PRId64 " at line %ld) for cpu %d",
					   t, o->t[key], o->line[key], key);
		return jv_diag_set(d, JV_EORDER, file, line,
				   "t_ns: time goes backwards (%" PRId64
				   " < %" PRId64 " at line %ld) for vm %s",
				   t, o->t[key], o->line[key],
				   trc_names_get(vms, key));
	}
	if (o->kind == TRC_PMC) {
		int rc = pmc_counters_check(o, &rec->u.pmc, ctr_names, file,
					    line, d);
		if (rc < 0)
			return rc;
	}
	o->t[key] = t;
	o->line[key] = line;
	return 0;
}

/* ---- version line and header ----------------------------------------- */

static int is_blank_line(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t')
			return 0;
	return 1;
}

static inline int is_comment(const char *s, size_t len)
{
	return len == 0 || s[0] == '#' ||
	       ((s[0] == ' ' || s[0] == '\t') && is_blank_line(s, len));
}

static int check_version(struct trc_reader *r, const char *s, size_t len,
			 struct jv_diag *d)
{
	const char *want = trc_kind_name(r->kind);
	size_t pl = sizeof VERSION_PREFIX - 1;
	char q[80];
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (len < pl || memcmp(s, VERSION_PREFIX, pl) != 0)
		return jv_diag_set(d, JV_EPARSE, r->name, 1,
				   "expected '# joulevisor %s v1', found '%s'",
				   want, trc_quote(q, sizeof q, s, len));
	const char *k = s + pl, *end = s + len;
	const char *ke = k;
	while (ke < end && *ke != ' ' && *ke != '\t')
		ke++;
	const char *v = ke;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	char kind[KIND_WORD_MAX_B];
	trc_quote(kind, sizeof kind, k, (size_t)(ke - k));
	int kd = trc_kind_from_name(kind);
	if (kd < 0)
		return jv_diag_set(d, JV_EUNKNOWN, r->name, 1,
				   "unknown trace kind '%s' (supported: pmc, "
				   "pmc-interval, blk, blk-interval; first line "
				   "'# joulevisor <kind> v1')", kind);
	if (kd != r->kind)
		return jv_diag_set(d, JV_EPARSE, r->name, 1,
				   "expected a %s trace ('# joulevisor %s v1'), "
				   "found '%s'", want, want,
				   trc_quote(q, sizeof q, s, len));
	size_t vl = (size_t)(end - v);
	if (vl == 0)
		return jv_diag_set(d, JV_EPARSE, r->name, 1,
				   "missing version: expected '# joulevisor %s v1'",
				   want);
	if (vl != sizeof VERSION_SUPPORTED - 1 ||
	    memcmp(v, VERSION_SUPPORTED, vl) != 0)
		return jv_diag_set(d, JV_EPARSE, r->name, 1,
				   "unsupported version '%s' of %s traces "
				   "(supported: %s)",
				   trc_quote(q, sizeof q, v, vl), want,
				   VERSION_SUPPORTED);
	return 0;
}

static int hfield_is(const struct trc_fld *f, const char *name)
{
	return f->n == strlen(name) && memcmp(f->s, name, f->n) == 0;
}

static int header_err(const struct trc_reader *r, struct jv_diag *d, int err,
		      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int header_err(const struct trc_reader *r, struct jv_diag *d, int err,
		      const char *fmt, ...)
{
	char msg[JV_DIAG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return jv_diag_set(d, err, r->name, r->lines.line,
			   "header: %s", msg);
}

/* The fixed columns cols[0..n) must be f[0..n). */
static int header_fixed(struct trc_reader *r, const struct trc_fld *f, int nf,
			const struct col *cols, int n, struct jv_diag *d)
{
	char q[80];
	for (int i = 0; i < n; i++) {
		if (i >= nf)
			return header_err(r, d, JV_EPARSE,
					  "missing column %d '%s' (expected '%s')",
					  i + 1, cols[i].name,
					  header_hint[r->kind]);
		if (!hfield_is(&f[i], cols[i].name))
			return header_err(r, d, JV_EPARSE,
					  "column %d: expected '%s', found '%s'",
					  i + 1, cols[i].name,
					  trc_quote(q, sizeof q, f[i].s, f[i].n));
	}
	return 0;
}

static int header_counters(struct trc_reader *r, struct csv_state *c,
			   const struct trc_fld *f, int nf, int first,
			   struct jv_diag *d)
{
	char q[80];
	int n = nf - first;
	if (n < 1)
		return header_err(r, d, JV_EPARSE,
				  "no counter columns (expected '%s' with 1 to "
				  "%d counters)", header_hint[r->kind],
				  TRC_MAX_COUNTERS);
	if (n > TRC_MAX_COUNTERS)
		return header_err(r, d, JV_ELIMIT,
				  "too many counter columns (%d, at most %d)", n,
				  TRC_MAX_COUNTERS);
	for (int i = 0; i < n; i++) {
		const struct trc_fld *h = &f[first + i];
		if (h->n == 0)
			return header_err(r, d, JV_EPARSE,
					  "column %d: empty counter name",
					  first + i + 1);
		for (int j = 0; j < i; j++)
			if (f[first + j].n == h->n &&
			    memcmp(f[first + j].s, h->s, h->n) == 0)
				return header_err(
					r, d, JV_EPARSE,
					"column %d: duplicate counter '%s' (also "
					"column %d)", first + i + 1,
					trc_quote(q, sizeof q, h->s, h->n),
					first + j + 1);
		char *nm = malloc(h->n + 1);
		if (!nm)
			return header_err(r, d, JV_ENOMEM, "out of memory");
		memcpy(nm, h->s, h->n);
		nm[h->n] = '\0';
		r->counters[r->n_counters++] = nm;
		struct col *cc = &c->cols[c->n_cols++];
		cc->type = COL_CTR;
		cc->name = nm;
	}
	return 0;
}

static int header_blk(struct trc_reader *r, struct csv_state *c,
		      const struct trc_fld *f, int nf, struct jv_diag *d)
{
	char q[80];
	int rc = header_fixed(r, f, nf, blk_cols, BLK_N_REQUIRED, d);
	if (rc < 0)
		return rc;
	memcpy(c->cols, blk_cols, BLK_N_REQUIRED * sizeof c->cols[0]);
	c->n_cols = BLK_N_REQUIRED;
	int next = BLK_N_REQUIRED; /* next optional column of blk_cols */
	for (int i = BLK_N_REQUIRED; i < nf; i++) {
		while (next < (int)(sizeof blk_cols / sizeof blk_cols[0]) &&
		       !hfield_is(&f[i], blk_cols[next].name))
			next++;
		if (next == (int)(sizeof blk_cols / sizeof blk_cols[0]))
			return header_err(
				r, d, JV_EPARSE,
				"column %d: unexpected column '%s' (expected "
				"'%s': optional latency_ns then disk)",
				i + 1, trc_quote(q, sizeof q, f[i].s, f[i].n),
				header_hint[TRC_BLK]);
		if (next == BLK_N_REQUIRED)
			c->has_lat = 1;
		else
			c->has_disk = 1;
		c->cols[c->n_cols++] = blk_cols[next++];
	}
	return 0;
}

static int parse_header(struct trc_reader *r, struct csv_state *c,
			const char *line, size_t len, struct jv_diag *d)
{
	struct trc_fld f[MAX_COLS + 1];
	int nf = trc_split_commas(line, len, f, MAX_COLS + 1, 0);
	int rc;
	char q[80];
	switch (r->kind) {
	case TRC_PMC:
	case TRC_PMC_INTERVAL: {
		const struct col *fixed =
			r->kind == TRC_PMC ? pmc_fixed : pmci_fixed;
		int n = r->kind == TRC_PMC ? 3 : 2;
		rc = header_fixed(r, f, nf, fixed, n, d);
		if (rc < 0)
			return rc;
		memcpy(c->cols, fixed, (size_t)n * sizeof c->cols[0]);
		c->n_cols = n;
		return header_counters(r, c, f, nf, n, d);
	}
	case TRC_BLK:
		return header_blk(r, c, f, nf, d);
	default: {
		int n = (int)(sizeof blki_cols / sizeof blki_cols[0]);
		rc = header_fixed(r, f, nf, blki_cols, n, d);
		if (rc < 0)
			return rc;
		if (nf > n)
			return header_err(r, d, JV_EPARSE,
					  "column %d: unexpected column '%s' "
					  "(expected '%s')", n + 1,
					  trc_quote(q, sizeof q, f[n].s, f[n].n),
					  header_hint[r->kind]);
		memcpy(c->cols, blki_cols, (size_t)n * sizeof c->cols[0]);
		c->n_cols = n;
		return 0;
	}
	}
}

int trc_csv_open(struct trc_reader *r, struct jv_diag *d)
{
	char *line;
	size_t len;
	struct csv_state *c = calloc(1, sizeof *c);
	if (!c)
		return jv_diag_set(d, JV_ENOMEM, r->name, 0, "out of memory");
	r->priv = c;
	trc_order_init(&c->ord, r->kind, 0);
	int rc = trc_lines_next(&r->lines, &line, &len, d);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return jv_diag_set(d, JV_EEMPTY, r->name, 0,
				   "empty file: expected '# joulevisor <kind> v1'");
	rc = check_version(r, line, len, d);
	if (rc < 0)
		return rc;
	do {
		rc = trc_lines_next(&r->lines, &line, &len, d);
		if (rc < 0)
			return rc;
		if (rc == 0)
			return jv_diag_set(d, JV_EPARSE, r->name,
					   r->lines.line + 1,
					   "missing header: expected '%s'",
					   header_hint[r->kind]);
	} while (is_comment(line, len));
	rc = parse_header(r, c, line, len, d);
	if (rc < 0)
		return rc;
	trc_order_init(&c->ord, r->kind, r->n_counters);
	return 0;
}

void trc_csv_close(struct trc_reader *r)
{
	struct csv_state *c = r->priv;
	if (!c)
		return;
	trc_order_free(&c->ord);
	free(c);
	r->priv = NULL;
}

size_t trc_csv_mem_b(const struct trc_reader *r)
{
	const struct csv_state *c = r->priv;
	return c ? sizeof *c + trc_order_mem_b(&c->ord) : 0;
}

/* ---- rows: slow path (messages) ---------------------------------------- */

static int all_digits(const char *s, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned)(s[i] - '0') > 9)
			return 0;
	return 1;
}

/* Value of n decimal digits, or UINT64_MAX with *over set on overflow. */
static uint64_t digits_value(const char *s, size_t n, int *over)
{
	uint64_t v = 0;
	*over = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned dg = (unsigned)(s[i] - '0');
		if (v > U64_DIV10 || (v == U64_DIV10 && dg > U64_LAST_DIGIT_MAX)) {
			*over = 1;
			return UINT64_MAX;
		}
		v = v * 10 + dg;
	}
	return v;
}

static int name_char(unsigned char ch)
{
	return (unsigned)((ch | 0x20) - 'a') < 26 || (unsigned)(ch - '0') < 10 ||
	       ch == '_' || ch == '.' || ch == '-';
}

static int vm_error(const char *file, long line, const char *s, size_t len,
		    struct jv_diag *d)
{
	char q[80];
	trc_quote(q, sizeof q, s, len);
	if (len == 0)
		return jv_diag_set(d, JV_EPARSE, file, line, "vm: empty VM name");
	if (len >= TRC_NAME_MAX)
		return jv_diag_set(d, JV_EPARSE, file, line,
				   "vm: VM name too long (%zu characters, at most "
				   "%d) '%s'", len, TRC_NAME_MAX - 1, q);
	return jv_diag_set(d, JV_EPARSE, file, line,
			   "vm: invalid VM name '%s' (allowed characters: "
			   "A-Z a-z 0-9 _ . -)", q);
}

static int number_error(const struct col *c, const char *file, long line,
			const char *s, size_t len, struct jv_diag *d)
{
	char q[80];
	const char *nm = c->name;
	trc_quote(q, sizeof q, s, len);
	if (len == 0)
		return jv_diag_set(d, JV_EPARSE, file, line,
				   "%.60s: empty field, expected an unsigned "
				   "integer", nm);
	if (s[0] == '-' && all_digits(s + 1, len - 1)) {
		if (c->type == COL_LAT)
			return jv_diag_set(d, JV_ERANGE, file, line,
					   "latency_ns: negative value '%s' (only "
					   "-1, meaning unknown, is allowed)", q);
		return jv_diag_set(d, JV_ERANGE, file, line,
				   "%.60s: negative value '%s'", nm, q);
	}
	if (!all_digits(s, len))
		return jv_diag_set(d, JV_EPARSE, file, line,
				   "%.60s: not an unsigned integer '%s'", nm, q);
	int over;
	uint64_t v = digits_value(s, len, &over);
	if (c->type == COL_CPU)
		return jv_diag_set(d, JV_ERANGE, file, line,
				   "cpu: out of range '%s' (0..%d)", q,
				   TRC_MAX_CPUS - 1);
	if (c->type == COL_POS && v == 0)
		return jv_diag_set(d, JV_ERANGE, file, line,
				   "%s: must be > 0, found '%s'", nm, q);
	if (over || (c->type != COL_CTR && v > INT64_MAX))
		return jv_diag_set(d, JV_ERANGE, file, line,
				   "%.60s: out of range '%s' (max %" PRIu64 ")",
				   nm, q,
				   c->type == COL_CTR ? UINT64_MAX
						      : (uint64_t)INT64_MAX);
	return jv_diag_set(d, JV_EPARSE, file, line, "%.60s: malformed value '%s'",
			   nm, q);
}

static int field_error(const struct col *c, const char *file, long line,
		       const char *s, size_t len, struct jv_diag *d)
{
	char q[80];
	trc_quote(q, sizeof q, s, len);
	switch (c->type) {
	case COL_OP:
		return jv_diag_set(d, JV_EPARSE, file, line,
				   "op: expected 'R' or 'W', found '%s'", q);
	case COL_DISK:
		return jv_diag_set(d, JV_EPARSE, file, line,
				   "disk: expected 'diskN' with N in 0..%d, "
				   "found '%s'", TRC_MAX_DISKS - 1, q);
	case COL_VM:
		return vm_error(file, line, s, len, d);
	default:
		return number_error(c, file, line, s, len, d);
	}
}

/* Column col of line failed to parse: report the field count if it is
 * wrong, else what is wrong with that field. */
static int row_error(const struct trc_reader *r, const struct csv_state *c,
		     const char *line, int col, struct jv_diag *d)
{
	int nf = 1;
	for (const char *p = line; (p = strchr(p, ',')) != NULL; p++)
		nf++;
	long ln = r->lines.line;
	if (nf != c->n_cols)
		return jv_diag_set(d, JV_EPARSE, r->name, ln,
				   "expected %d fields, found %d", c->n_cols, nf);
	const char *s = line;
	for (int i = 0; i < col; i++)
		s = strchr(s, ',') + 1;
	const char *e = strchr(s, ',');
	size_t len = e ? (size_t)(e - s) : strlen(s);
	return field_error(&c->cols[col], r->name, ln, s, len, d);
}

/* ---- rows: fast path ------------------------------------------------- */

/* Decimal digits at p into *out; NULL if none or on overflow. The loop
 * has no overflow test: up to 19 digits cannot overflow; longer runs (huge
 * values, many leading zeros) are recomputed with checks. (An 8-bytes-at-
 * a-time SWAR version measured slower on typical 1-20 digit fields.) */
static inline const char *scan_u64(const char *p, uint64_t *out)
{
	const char *s = p;
	uint64_t v = 0;
	unsigned dg;
	while ((dg = (unsigned)(unsigned char)*p - '0') <= 9) {
		v = v * 10 + dg;
		p++;
	}
	size_t n = (size_t)(p - s);
	if (n == 0)
		return NULL;
	if (n > U64_SAFE_DIGITS) {
		int over;
		v = digits_value(s, n, &over);
		if (over)
			return NULL;
	}
	*out = v;
	return p;
}
/* A field of digits ending in `want` (',' or the line's NUL): the
 * pointer after it, or NULL. */
static inline const char *fld_u64(const char *p, char want, uint64_t *out)
{
	p = scan_u64(p, out);
	return p && *p == want ? p + 1 : NULL;
}

/* Same for an int64 >= 0. */
static inline const char *fld_i64(const char *p, char want, int64_t *out)
{
	uint64_t v;
	p = scan_u64(p, &v);
	if (!p || *p != want || v > INT64_MAX)
		return NULL;
	*out = (int64_t)v;
	return p + 1;
}

static inline const char *fld_cpu(const char *p, char want, int32_t *out)
{
	uint64_t v;
	p = scan_u64(p, &v);
	if (!p || *p != want || v >= TRC_MAX_CPUS)
		return NULL;
	*out = (int32_t)v;
	return p + 1;
}

/* latency_ns: an int64 >= 0, or -1 (unknown). */
static inline const char *fld_lat(const char *p, char want, int64_t *out)
{
	if (p[0] == '-') {
		if (p[1] != '1' || p[2] != want)
			return NULL;
		*out = -1;
		return p + 3;
	}
	return fld_i64(p, want, out);
}

static inline const char *fld_op(const char *p, char want, int32_t *out)
{
	if (p[0] == 'R')
		*out = TRC_OP_READ;
	else if (p[0] == 'W')
		*out = TRC_OP_WRITE;
	else
		return NULL;
	return p[1] == want ? p + 2 : NULL;
}

/* diskN, N in 0 .. TRC_MAX_DISKS - 1 without leading zeros. */
static inline const char *fld_disk(const char *p, char want, int32_t *out)
{
	uint64_t v;
	if (p[0] != 'd' || p[1] != 'i' || p[2] != 's' || p[3] != 'k')
		return NULL;
	p += 4;
	if (p[0] == '0' && (unsigned)(p[1] - '0') <= 9)
		return NULL;
	p = scan_u64(p, &v);
	if (!p || *p != want || v >= TRC_MAX_DISKS)
		return NULL;
	*out = (int32_t)v;
	return p + 1;
}

/* A VM name, hashed while validated, then interned. NULL on a malformed
 * name; *rc < 0 when interning failed (limit, memory). */
static inline const char *fld_vm(struct trc_reader *r, const char *p,
				 char want, int32_t *out, int *rc)
{
	const char *s = p;
	uint32_t h = TRC_HASH_SEED;
	while (name_char((unsigned char)*p)) {
		h = trc_hash_step(h, (unsigned char)*p);
		p++;
	}
	size_t len = (size_t)(p - s);
	if (*p != want || len == 0 || len >= TRC_NAME_MAX)
		return NULL;
	int vm = trc_names_intern(&r->vms, s, len, h);
	if (vm < 0) {
		*rc = vm;
		return NULL;
	}
	*out = vm;
	return p + 1;
}

static int vm_limit(const struct trc_reader *r, int rc, const char *line,
		    int col, struct jv_diag *d)
{
	char q[80];
	const char *s = line;
	for (int i = 0; i < col; i++)
		s = strchr(s, ',') + 1;
	const char *e = strchr(s, ',');
	size_t len = e ? (size_t)(e - s) : strlen(s);
	if (rc == JV_ELIMIT)
		return jv_diag_set(d, JV_ELIMIT, r->name, r->lines.line,
				   "vm: too many distinct VM names (more than "
				   "%d) at '%s'", TRC_MAX_VMS,
				   trc_quote(q, sizeof q, s, len));
	return jv_diag_set(d, JV_ENOMEM, r->name, r->lines.line,
			   "out of memory");
}

/* Row parsers, one per kind: straight-line code over the fields. `col`
 * tracks the column being parsed for the slow path; FIELD(k, expr) parses
 * column k with expr (which yields the pointer after the field or NULL). */
#define FIELD(k, expr)                   \
	do {                             \
		col = (k);               \
		if (!(p = (expr)))       \
			goto bad;        \
	} while (0)
#define SEP(k, n) ((k) + 1 < (n) ? ',' : '\0')

static int row_pmc(struct trc_reader *r, const struct csv_state *c,
		   const char *line, struct trc_record *rec, struct jv_diag *d)
{
	struct trc_pmc *o = &rec->u.pmc;
	const char *p = line;
	int col, n = c->n_cols, vrc = 0;
	FIELD(0, fld_i64(p, ',', &o->t_ns));
	FIELD(1, fld_cpu(p, ',', &o->cpu));
	FIELD(2, fld_vm(r, p, ',', &o->vm, &vrc));
	for (int k = 3; k < n; k++)
		FIELD(k, fld_u64(p, SEP(k, n), &o->ctr[k - 3]));
	for (int k = n - 3; k < TRC_MAX_COUNTERS; k++)
		o->ctr[k] = 0;
	return 1;
bad:
	return vrc ? vm_limit(r, vrc, line, col, d) : row_error(r, c, line, col, d);
}

static int row_pmci(struct trc_reader *r, const struct csv_state *c,
		    const char *line, struct trc_record *rec, struct jv_diag *d)
{
	struct trc_pmc_interval *o = &rec->u.pmci;
	const char *p = line;
	int col, n = c->n_cols, vrc = 0;
	FIELD(0, fld_i64(p, ',', &o->t_ns));
	FIELD(1, fld_vm(r, p, ',', &o->vm, &vrc));
	for (int k = 2; k < n; k++)
		FIELD(k, fld_u64(p, SEP(k, n), &o->delta[k - 2]));
	for (int k = n - 2; k < TRC_MAX_COUNTERS; k++)
		o->delta[k] = 0;
	return 1;
bad:
	return vrc ? vm_limit(r, vrc, line, col, d) : row_error(r, c, line, col, d);
}

static int row_blk(struct trc_reader *r, const struct csv_state *c,
		   const char *line, struct trc_record *rec, struct jv_diag *d)
{
	struct trc_blk *o = &rec->u.blk;
	const char *p = line;
	int col, n = c->n_cols, vrc = 0;
	FIELD(0, fld_i64(p, ',', &o->t_ns));
	FIELD(1, fld_vm(r, p, ',', &o->vm, &vrc));
	FIELD(2, fld_op(p, ',', &o->op));
	FIELD(3, fld_i64(p, ',', &o->offset_b));
	FIELD(4, fld_i64(p, SEP(4, n), &o->size_b));
	if (o->size_b == 0) {
		col = 4;
		goto bad;
	}
	o->latency_ns = -1;
	o->disk = 0;
	int k = 5;
	if (c->has_lat) {
		FIELD(k, fld_lat(p, SEP(k, n), &o->latency_ns));
		k++;
	}
	if (c->has_disk)
		FIELD(k, fld_disk(p, '\0', &o->disk));
	return 1;
bad:
	return vrc ? vm_limit(r, vrc, line, col, d) : row_error(r, c, line, col, d);
}

static int row_blki(struct trc_reader *r, const struct csv_state *c,
		    const char *line, struct trc_record *rec, struct jv_diag *d)
{
	struct trc_blk_interval *o = &rec->u.blki;
	const char *p = line;
	int col, vrc = 0;
	FIELD(0, fld_i64(p, ',', &o->t_ns));
	FIELD(1, fld_vm(r, p, ',', &o->vm, &vrc));
	FIELD(2, fld_disk(p, ',', &o->disk));
	FIELD(3, fld_i64(p, ',', &o->read_b));
	FIELD(4, fld_i64(p, ',', &o->write_b));
	FIELD(5, fld_i64(p, ',', &o->reads));
	FIELD(6, fld_i64(p, '\0', &o->writes));
	return 1;
bad:
	return vrc ? vm_limit(r, vrc, line, col, d) : row_error(r, c, line, col, d);
}

#undef FIELD
#undef SEP

typedef int (*row_fn)(struct trc_reader *, const struct csv_state *,
		      const char *, struct trc_record *, struct jv_diag *);
static const row_fn row_parsers[TRC_KIND_COUNT] = {
	[TRC_PMC] = row_pmc,
	[TRC_PMC_INTERVAL] = row_pmci,
	[TRC_BLK] = row_blk,
	[TRC_BLK_INTERVAL] = row_blki,
};

int trc_csv_next(struct trc_reader *r, struct trc_record *rec,
		 struct jv_diag *d)
{
	struct csv_state *c = r->priv;
	char *line;
	size_t len;
	for (;;) {
		int rc = trc_lines_next(&r->lines, &line, &len, d);
		if (rc <= 0)
			return rc;
		if (is_comment(line, len))
			continue;
		rc = row_parsers[r->kind](r, c, line, rec, d);
		if (rc < 0)
			return rc;
		rec->kind = r->kind;
		rec->line = r->lines.line;
		rc = trc_order_check(&c->ord, rec, &r->vms, r->counters,
				     r->name, r->lines.line, d);
		return rc < 0 ? rc : 1;
	}
}
