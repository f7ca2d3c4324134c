/*
 * fmt_fio: reader of fio I/O logs (fio's write_iolog / read_iolog "trace
 * file format" v2 and v3, fio HOWTO section "Trace file format"; reading
 * follows fio's own iolog.c).
 *
 * Problem: an iolog records one fio job's file management and I/O, one
 * action per line, with timing either as explicit waits (v2) or as a
 * timestamp per line (v3); it must become TRC_BLK records with integer
 * nanoseconds, one VM per file, actions other than reads and writes
 * skipped and counted, every malformed line reported as
 * "FILE:LINE: field: reason".
 *
 * Format: line 1 is `fio version 2 iolog` or `fio version 3 iolog`. Then
 * one action per line, fields separated by spaces or tabs:
 *   v2  FILE ACTION                      file management
 *       FILE ACTION OFFSET LENGTH        I/O (bytes), or `wait`
 *   v3  TIMESTAMP FILE ACTION            as v2 with a leading timestamp
 *       TIMESTAMP FILE ACTION OFFSET LENGTH   (microseconds from the run's
 *                                        start; `wait` not allowed)
 * Actions: add, open, close (file management: consumed, yield nothing);
 * read, write (yield records); trim, sync, datasync (skipped and counted);
 * wait (v2 only: wait OFFSET microseconds after the previous wait).
 * Version 1 (`rw, offset, length` lines with no header; fio dropped it in
 * 1.20) and unknown versions are refused with a clear message.
 *
 * Strategy: lines are split in place at blanks. Time: v3 t_ns = (timestamp
 * - first timestamp of the file) * 1000, the first line being at 0; a
 * timestamp going backwards is an error (JV_EORDER). v2 t_ns = the sum of
 * the waits so far * 1000, exactly (fio's replay ignores waits below 100
 * us; we keep them). Files: a file must be added (`add`) before any other
 * action names it. Its VM name is the file name with every character
 * outside [A-Za-z0-9_.-] replaced by '_' and leading '_' removed
 * ("/dev/sdb" -> dev_sdb; "file" if nothing is left; the last 63
 * characters if longer), with the mapping key "file=<file name>"; two
 * file names that give the same VM name are an error, never merged. The
 * last file's VM is cached. offset_b = OFFSET, size_b = LENGTH, latency
 * -1, disk 0.
 *
 * Skipped (trc_skipped(), reason such as "trim 10, sync 2"): trim,
 * sync, datasync, zero-size reads and writes ("zero-size"). Limits:
 * file names up to 4095 bytes, without ','; OFFSET and OFFSET + LENGTH <=
 * 2^63 - 1; timestamps and summed waits <= (2^63 - 1) / 1000 us; lines
 * <= 64 KiB.
 */
#include "traces/fmt_text.h"
#include "traces/trc_impl.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIO_HDR_PREFIX "fio version "
#define FIO_HDR_V2 "fio version 2 iolog"
#define FIO_HDR_V3 "fio version 3 iolog"
#define FIO_FILE_MAX 4095        /* bytes of a file name */
#define FIO_US_MAX ((uint64_t)INT64_MAX / 1000) /* t_ns must fit */
#define FIO_NS_PER_US 1000
#define FIO_MAX_FIELDS 5
#define SKIP_BUF_B 160

enum fio_act {
	ACT_ADD, ACT_OPEN, ACT_CLOSE,        /* file management */
	ACT_READ, ACT_WRITE,                 /* records */
	ACT_TRIM, ACT_SYNC, ACT_DATASYNC,    /* skipped */
	ACT_WAIT,                            /* v2 delay */
	ACT_COUNT
};

static const char *const act_names[ACT_COUNT] = {
	"add", "open", "close", "read", "write", "trim", "sync", "datasync",
	"wait",
};

enum skip_kind { SKIP_TRIM, SKIP_SYNC, SKIP_DATASYNC, SKIP_ZERO, SKIP_COUNT };

static const char *const skip_names[SKIP_COUNT] = {
	"trim", "sync", "datasync", "zero-size",
};

struct fio_state {
	int version;          /* 2 or 3 */
	struct trc_epoch ep;  /* v3: timestamps, us, at line numbers */
	uint64_t wait_us;     /* v2: sum of waits */
	int last_vm;          /* VM of last_file, -1 none */
	size_t last_file_n;
	char last_file[FIO_FILE_MAX + 1];
	uint64_t skip_n[SKIP_COUNT]; /* skipped lines per kind */
	char skip_buf[SKIP_BUF_B];   /* "trim 10, sync 2" */
};

/* ---- probe and header ---------------------------------------------------- */

/* "fio version <digits> iolog" at the start of the file: any version is
 * claimed so that open() can explain unsupported ones. */
static int probe(const char *head, size_t len)
{
	size_t pl = sizeof FIO_HDR_PREFIX - 1, i;
	if (len < pl || memcmp(head, FIO_HDR_PREFIX, pl) != 0)
		return 0;
	for (i = pl; i < len && (unsigned)(unsigned char)head[i] - '0' <= 9; i++)
		;
	if (i == pl || len - i < 6 || memcmp(head + i, " iolog", 6) != 0)
		return 0;
	i += 6;
	return i == len || head[i] == '\n' || head[i] == '\r' ||
	       head[i] == ' ' || head[i] == '\t';
}

static int looks_like_v1(const char *s, size_t n)
{
	/* v1 lines: "rw, offset, length" (digits, commas and blanks) */
	int commas = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == ',')
			commas++;
		else if (!trc_is_space(s[i]) && (unsigned)(unsigned char)s[i] - '0' > 9)
			return 0;
	}
	return commas == 2;
}

static int check_header(struct trc_reader *r, struct fio_state *st,
			const char *s, size_t n, struct jv_diag *d)
{
	char q[TRC_QUOTE_B];
	size_t pl = sizeof FIO_HDR_PREFIX - 1;
	while (n && trc_is_space(s[n - 1]))
		n--;
	if (n == sizeof FIO_HDR_V2 - 1 && memcmp(s, FIO_HDR_V2, n) == 0) {
		st->version = 2;
		return 0;
	}
	if (n == sizeof FIO_HDR_V3 - 1 && memcmp(s, FIO_HDR_V3, n) == 0) {
		st->version = 3;
		return 0;
	}
	if (n > pl && memcmp(s, FIO_HDR_PREFIX, pl) == 0) {
		const char *v = s + pl, *e = v;
		while (e < s + n && !trc_is_space(*e))
			e++;
		trc_quote(q, sizeof q, v, (size_t)(e - v));
		if (strcmp(q, "1") == 0)
			return jv_diag_set(d, JV_EPARSE, r->name, 1,
					   "fio iolog version 1 is not supported "
					   "(fio itself dropped it in 1.20; "
					   "supported: 2, 3)");
		return jv_diag_set(d, JV_EPARSE, r->name, 1,
				   "unsupported fio iolog version '%s' "
				   "(supported: 2, 3; first line '%s' or '%s')",
				   q, FIO_HDR_V2, FIO_HDR_V3);
	}
	if (looks_like_v1(s, n))
		return jv_diag_set(d, JV_EPARSE, r->name, 1,
				   "fio iolog version 1 ('rw, offset, length' "
				   "lines without a header) is not supported: "
				   "expected first line '%s' or '%s'",
				   FIO_HDR_V2, FIO_HDR_V3);
	return jv_diag_set(d, JV_EPARSE, r->name, 1,
			   "expected first line '%s' or '%s', found '%s'",
			   FIO_HDR_V2, FIO_HDR_V3, trc_quote(q, sizeof q, s, n));
}

static int open_fio(struct trc_reader *r, struct jv_diag *d)
{
	struct fio_state *st = trc_priv_new(r, sizeof *st, d);
	if (!st)
		return JV_ENOMEM;
	st->last_vm = -1;
	char *line;
	size_t len;
	int rc = trc_lines_next(&r->lines, &line, &len, d);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return jv_diag_set(d, JV_EEMPTY, r->name, 0,
				   "empty file: expected first line '%s' or '%s'",
				   FIO_HDR_V2, FIO_HDR_V3);
	return check_header(r, st, line, len, d);
}

/* ---- fields ------------------------------------------------------------ */

static int find_action(const struct trc_fld *f)
{
	for (int a = 0; a < ACT_COUNT; a++)
		if (strlen(act_names[a]) == f->n &&
		    memcmp(act_names[a], f->s, f->n) == 0)
			return a;
	return -1;
}

/* Count a skipped line; the reason lists the kinds seen with counts. */
static void skip_count(struct trc_reader *r, struct fio_state *st, int kind)
{
	r->skipped++;
	st->skip_n[kind]++;
	size_t n = 0;
	st->skip_buf[0] = '\0';
	for (int k = 0; k < SKIP_COUNT; k++)
		if (st->skip_n[k] && n < sizeof st->skip_buf)
			n += (size_t)snprintf(st->skip_buf + n,
					      sizeof st->skip_buf - n,
					      "%s%s %" PRIu64, n ? ", " : "",
					      skip_names[k], st->skip_n[k]);
	r->skip_reason = st->skip_buf;
}

/* ---- files and VMs ------------------------------------------------------- */

static int name_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

/* VM name of file name s[0..n) into out (TRC_NAME_MAX bytes); its length. */
static size_t vm_name_of(const char *s, size_t n, char *out)
{
	size_t i = 0;
	while (i < n && (!name_char((unsigned char)s[i]) || s[i] == '_'))
		i++; /* leading '/', '_' ... */
	if (i == n) {
		memcpy(out, "file", 5);
		return 4;
	}
	if (n - i > TRC_NAME_MAX - 1)
		i = n - (TRC_NAME_MAX - 1); /* keep the tail */
	size_t k = 0;
	for (; i < n; i++)
		out[k++] = name_char((unsigned char)s[i]) ? s[i] : '_';
	out[k] = '\0';
	return k;
}

/* attrs of vm are "file=<s[0..n)>"? */
static int attrs_match(const struct trc_reader *r, int vm, const char *s,
		       size_t n)
{
	const char *a = trc_vm_attrs(r, vm);
	return strncmp(a, "file=", 5) == 0 && strlen(a + 5) == n &&
	       memcmp(a + 5, s, n) == 0;
}

/* The VM of file f: created by `add`, looked up by every other action. */
static int file_vm(struct trc_reader *r, struct fio_state *st,
		   const struct trc_fld *f, int add, struct jv_diag *d)
{
	char q[80], nm[TRC_NAME_MAX];
	long ln = r->lines.line;
	if (st->last_vm >= 0 && f->n == st->last_file_n &&
	    memcmp(f->s, st->last_file, f->n) == 0)
		return st->last_vm;
	trc_fld_quote(q, f);
	if (f->n > FIO_FILE_MAX)
		return jv_diag_set(d, JV_ELIMIT, r->name, ln,
				   "file: name too long (%zu bytes, at most %d) "
				   "'%s'",
				   f->n, FIO_FILE_MAX, q);
	if (memchr(f->s, ',', f->n))
		return jv_diag_set(d, JV_EPARSE, r->name, ln,
				   "file: name '%s' contains ',', which VM mapping "
				   "keys (file=NAME) cannot hold", q);
	size_t nl = vm_name_of(f->s, f->n, nm);
	int before = r->vms.n;
	int vm = trc_names_intern(&r->vms, nm, nl, trc_names_hash(nm, nl));
	if (vm == JV_ELIMIT)
		return jv_diag_set(d, JV_ELIMIT, r->name, ln,
				   "file: too many distinct files (more than %d VM "
				   "names) at '%s'", TRC_MAX_VMS, q);
	if (vm < 0)
		return jv_diag_set(d, JV_ENOMEM, r->name, ln, "out of memory");
	if (r->vms.n != before) {
		if (!add)
			return jv_diag_set(d, JV_EPARSE, r->name, ln,
					   "file: '%s' used before '%s add'",
					   q, q);
		char *attrs = malloc(f->n + 6);
		if (!attrs)
			return jv_diag_set(d, JV_ENOMEM, r->name, ln,
					   "out of memory");
		memcpy(attrs, "file=", 5);
		memcpy(attrs + 5, f->s, f->n);
		attrs[f->n + 5] = '\0';
		int rc = trc_names_set_attrs(&r->vms, vm, attrs);
		free(attrs);
		if (rc < 0)
			return jv_diag_set(d, JV_ENOMEM, r->name, ln,
					   "out of memory");
	} else if (!attrs_match(r, vm, f->s, f->n)) {
		if (!add)
			return jv_diag_set(d, JV_EPARSE, r->name, ln,
					   "file: '%s' used before '%s add'",
					   q, q);
		char q2[80];
		const char *other = trc_vm_attrs(r, vm) + 5;
		return jv_diag_set(d, JV_EPARSE, r->name, ln,
				   "file: '%s' and '%s' both give VM name '%s'; "
				   "rename one of them",
				   q, trc_quote(q2, sizeof q2, other, strlen(other)),
				   nm);
	}
	st->last_vm = vm;
	st->last_file_n = f->n;
	memcpy(st->last_file, f->s, f->n);
	return vm;
}

/* ---- lines --------------------------------------------------------------- */

/* Time of this line (v3 timestamp, v2 sum of waits) in t_ns. */
static int line_time(struct trc_reader *r, struct fio_state *st,
		     const struct trc_fld *ts_f, int64_t *t_ns, struct jv_diag *d)
{
	long ln = r->lines.line;
	if (st->version == 2) {
		*t_ns = (int64_t)st->wait_us * FIO_NS_PER_US;
		return 0;
	}
	uint64_t ts = 0;
	int rc = trc_fld_u64(r, "timestamp", ts_f, UINT64_MAX, &ts, d);
	if (rc < 0)
		return rc;
	uint64_t span = 0;
	switch (trc_epoch_step(&st->ep, ts, (uint64_t)ln, FIO_US_MAX, &span)) {
	case TRC_EPOCH_BACK:
		return jv_diag_set(d, JV_EORDER, r->name, ln,
				   "timestamp: time goes backwards (%" PRIu64
				   " us < %" PRIu64 " us at line %ld)",
				   ts, st->ep.prev, (long)st->ep.prev_at);
	case TRC_EPOCH_FAR:
		return jv_diag_set(d, JV_ERANGE, r->name, ln,
				   "timestamp: %" PRIu64 " us is more than %" PRIu64
				   " us after the first line's", ts, FIO_US_MAX);
	case TRC_EPOCH_OK:
		break;
	}
	*t_ns = (int64_t)span * FIO_NS_PER_US;
	return 0;
}

static int field_count_error(const struct trc_reader *r,
			     const struct fio_state *st, int act, int nf,
			     struct jv_diag *d)
{
	int io = act >= ACT_READ;
	const char *ts = st->version == 3 ? "TIMESTAMP " : "";
	return jv_diag_set(d, JV_EPARSE, r->name, r->lines.line,
			   "action '%s': expected %d fields ('%sFILE %s%s'), "
			   "found %d", act_names[act],
			   (st->version == 3) + (io ? 4 : 2), ts, act_names[act],
			   io ? " OFFSET LENGTH" : "", nf);
}

/* 1: rec filled; 0: consumed or skipped; < 0: error. */
static int parse_line(struct trc_reader *r, const char *line, size_t len,
		      struct trc_record *rec, struct jv_diag *d)
{
	struct fio_state *st = r->priv;
	char q[TRC_QUOTE_B];
	struct trc_fld f[FIO_MAX_FIELDS + 1];
	int nf = trc_split_blanks(line, len, f, FIO_MAX_FIELDS + 1);
	int base = st->version == 3; /* index of FILE */
	long ln = r->lines.line;
	if (nf < base + 2)
		return jv_diag_set(d, JV_EPARSE, r->name, ln,
				   "expected '%sFILE ACTION [OFFSET LENGTH]', "
				   "found %d field%s",
				   base ? "TIMESTAMP " : "", nf,
				   nf == 1 ? "" : "s");
	const struct trc_fld *file = &f[base], *act_f = &f[base + 1];
	int act = find_action(act_f);
	if (act < 0)
		return jv_diag_set(d, JV_EPARSE, r->name, ln,
				   "action: unknown action '%s' (expected add, "
				   "open, close, read, write, trim, sync, "
				   "datasync%s)",
				   trc_quote(q, sizeof q, act_f->s, act_f->n),
				   base ? "" : ", wait");
	if (act == ACT_WAIT && base)
		return jv_diag_set(d, JV_EPARSE, r->name, ln,
				   "action: 'wait' is not allowed in fio iolog "
				   "version 3 (timestamps give the timing)");
	int io = act >= ACT_READ;
	if (nf != base + (io ? 4 : 2))
		return field_count_error(r, st, act, nf, d);
	struct trc_blk *b = &rec->u.blk;
	int rc = line_time(r, st, &f[0], &b->t_ns, d);
	if (rc < 0)
		return rc;
	uint64_t off = 0, size = 0;
	if (io) {
		if ((rc = trc_fld_u64(r, "offset", &f[base + 2],
				  act == ACT_WAIT ? FIO_US_MAX : INT64_MAX,
				  &off, d)) < 0 ||
		    (rc = trc_fld_u64(r, "length", &f[base + 3], INT64_MAX,
				  &size, d)) < 0)
			return rc;
	}
	if (act == ACT_WAIT) {
		if (off > FIO_US_MAX - st->wait_us)
			return jv_diag_set(d, JV_ERANGE, r->name, ln,
					   "offset: waits add up to more than "
					   "%" PRIu64 " us", FIO_US_MAX);
		st->wait_us += off;
		return 0;
	}
	int vm = file_vm(r, st, file, act == ACT_ADD, d);
	if (vm < 0)
		return vm;
	switch (act) {
	case ACT_ADD:
	case ACT_OPEN:
	case ACT_CLOSE:
		return 0;
	case ACT_TRIM:
		skip_count(r, st, SKIP_TRIM);
		return 0;
	case ACT_SYNC:
		skip_count(r, st, SKIP_SYNC);
		return 0;
	case ACT_DATASYNC:
		skip_count(r, st, SKIP_DATASYNC);
		return 0;
	default:
		break;
	}
	if (size > (uint64_t)INT64_MAX - off)
		return jv_diag_set(d, JV_ERANGE, r->name, ln,
				   "length: request end OFFSET + LENGTH beyond "
				   "%" PRId64 " bytes", INT64_MAX);
	if (size == 0) {
		skip_count(r, st, SKIP_ZERO);
		return 0;
	}
	return trc_blk_yield(rec, ln, vm,
			     act == ACT_READ ? TRC_OP_READ : TRC_OP_WRITE,
			     (int64_t)off, (int64_t)size, -1);
}

static int next_fio(struct trc_reader *r, struct trc_record *rec,
		    struct jv_diag *d)
{
	return trc_next_line(r, rec, d, parse_line);
}

const struct trc_format trc_fmt_fio = {
	"fio", TRC_BLK, probe, open_fio, next_fio, trc_priv_free, trc_priv_mem,
};
