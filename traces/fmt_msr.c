/*
 * fmt_msr: reader of the MSR Cambridge block traces (SNIA IOTTA "MSR
 * Cambridge Traces", collected for Narayanan, Donnelly, Rowstron, "Write
 * Off-Loading: Practical Power Management for Enterprise Storage",
 * FAST'08): one week of block I/O of 36 volumes on 13 servers.
 *
 * Problem: the files (hm_0.csv, web_2.csv, ...) are headerless CSV with
 * Windows timestamps; they must become TRC_BLK records with integer
 * nanoseconds from the trace's start, one VM per volume, and every
 * malformed line reported as "FILE:LINE: field: reason".
 *
 * Format: one request per line, seven comma-separated fields
 *   Timestamp     Windows FILETIME, 100 ns ticks since 1601-01-01 UTC
 *   Hostname      server name (hm, mds, prn, proj, prxy, rsrch, src1, ...)
 *   DiskNumber    volume number on that server
 *   Type          Read or Write (case-insensitive)
 *   Offset        bytes
 *   Size          bytes
 *   ResponseTime  100 ns ticks (completion minus issue)
 * e.g. "128166372003061629,hm,0,Read,3154164736,4096,1831". The published
 * files have no header; a first line that is exactly the field names
 * above (case-insensitive) is accepted and skipped. Blank lines are
 * skipped; CRLF is fine.
 *
 * Strategy: each line is split at commas in place (no allocation), every
 * field checked by a small parser that reports its own error. Time:
 * t_ns = (Timestamp - first Timestamp) * 100, so the first line is at 0;
 * the trace must not go backwards (JV_EORDER). latency_ns = ResponseTime
 * * 100. The VM of a record is "Hostname_DiskNumber" (e.g. hm_0) with
 * mapping keys "host=hm,disk=0"; the last VM is cached so that a run of
 * one volume's lines costs one compare, not a hash. disk is 0 in every
 * record (DiskNumber is a mapping key, not a scenario disk).
 *
 * Skipped (trc_skipped(), reason "zero-size N"): zero-size requests.
 * Limits: numbers plain decimal without sign; Offset, Size, Timestamp and
 * Offset + Size <= 2^63 - 1; ResponseTime <= (2^63 - 1) / 100;
 * DiskNumber <= 999999; Hostname of [A-Za-z0-9_.-] such that
 * "Hostname_DiskNumber" has at most 63 characters; a trace spans at most
 * ~292 years (the int64 nanosecond range); lines <= 64 KiB.
 */
#include "traces/fmt_text.h"
#include "traces/trc_impl.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MSR_FIELDS 7
#define MSR_TICK_NS 100            /* FILETIME and ResponseTime tick */
#define MSR_DISK_MAX 999999u       /* DiskNumber limit */
#define MSR_HEADER "timestamp,hostname,disknumber,type,offset,size,responsetime"
#define MSR_FIELD_LIST \
	"Timestamp,Hostname,DiskNumber,Type,Offset,Size,ResponseTime"

struct msr_state {
	struct trc_epoch ep; /* Timestamps, ticks, at line numbers */
	int last_vm;      /* VM of the previous record, -1 before the first */
	uint64_t last_disk;
	size_t last_host_n;
	char last_host[TRC_NAME_MAX];
	char skip_buf[32]; /* trc_skipped() reason: "zero-size N" */
};

static int open_msr(struct trc_reader *r, struct jv_diag *d)
{
	struct msr_state *st = trc_priv_new(r, sizeof *st, d);
	if (!st)
		return JV_ENOMEM;
	st->last_vm = -1;
	return 0;
}

/* ---- fields ------------------------------------------------------------ */

static int name_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

static int get_host(const struct trc_reader *r, const struct trc_fld *f,
		    struct jv_diag *d)
{
	char q[TRC_QUOTE_B];
	if (f->n == 0)
		return jv_diag_set(d, JV_EPARSE, r->name, r->lines.line,
				   "Hostname: empty field");
	for (size_t i = 0; i < f->n; i++)
		if (!name_char((unsigned char)f->s[i]))
			return jv_diag_set(d, JV_EPARSE, r->name, r->lines.line,
					   "Hostname: invalid host name '%s' "
					   "(allowed characters: A-Z a-z 0-9 _ . -)",
					   trc_fld_quote(q, f));
	return 0;
}

static int strcase_eq(const char *s, size_t n, const char *lower)
{
	size_t i;
	for (i = 0; i < n && lower[i]; i++) {
		char c = s[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != lower[i])
			return 0;
	}
	return i == n && lower[i] == '\0';
}

static int get_type(const struct trc_reader *r, const struct trc_fld *f,
		    int32_t *op, struct jv_diag *d)
{
	char q[TRC_QUOTE_B];
	if (strcase_eq(f->s, f->n, "read"))
		*op = TRC_OP_READ;
	else if (strcase_eq(f->s, f->n, "write"))
		*op = TRC_OP_WRITE;
	else
		return jv_diag_set(d, JV_EPARSE, r->name, r->lines.line,
				   "Type: expected 'Read' or 'Write', found '%s'",
				   trc_fld_quote(q, f));
	return 0;
}

/* ---- records ------------------------------------------------------------- */

/* The VM "host_disk" of this record, interned (with its mapping keys)
 * the first time it appears. */
static int record_vm(struct trc_reader *r, struct msr_state *st,
		     const struct trc_fld *host, uint64_t disk, struct jv_diag *d)
{
	if (st->last_vm >= 0 && disk == st->last_disk &&
	    host->n == st->last_host_n &&
	    memcmp(host->s, st->last_host, host->n) == 0)
		return st->last_vm;
	char nm[TRC_NAME_MAX + 32], attrs[TRC_NAME_MAX + 64], q[80];
	int n = snprintf(nm, sizeof nm, "%.*s_%" PRIu64, (int)host->n, host->s,
			 disk);
	if (host->n >= TRC_NAME_MAX || n >= TRC_NAME_MAX)
		return jv_diag_set(d, JV_ELIMIT, r->name, r->lines.line,
				   "Hostname: VM name '%s' too long (at most %d "
				   "characters for Hostname_DiskNumber)",
				   trc_quote(q, sizeof q, nm, strlen(nm)),
				   TRC_NAME_MAX - 1);
	snprintf(attrs, sizeof attrs, "host=%.*s,disk=%" PRIu64, (int)host->n, host->s, disk);
	int vm = trc_intern_vm(r, nm, n, attrs, "too many distinct volumes", d);
	if (vm < 0)
		return vm;
	st->last_vm = vm;
	st->last_disk = disk;
	st->last_host_n = host->n;
	memcpy(st->last_host, host->s, host->n);
	return vm;
}

/* Timestamp ts: check order, set the epoch, convert to t_ns. */
static int record_time(struct trc_reader *r, struct msr_state *st,
		       uint64_t ts, int64_t *t_ns, struct jv_diag *d)
{
	long ln = r->lines.line;
	uint64_t span = 0;
	switch (trc_epoch_step(&st->ep, ts, (uint64_t)ln,
			       (uint64_t)INT64_MAX / MSR_TICK_NS, &span)) {
	case TRC_EPOCH_BACK:
		return jv_diag_set(d, JV_EORDER, r->name, ln,
				   "Timestamp: time goes backwards (%" PRIu64
				   " < %" PRIu64 " at line %ld)",
				   ts, st->ep.prev, (long)st->ep.prev_at);
	case TRC_EPOCH_FAR:
		return jv_diag_set(d, JV_ERANGE, r->name, ln,
				   "Timestamp: %" PRIu64 " is too far from the "
				   "first record's %" PRIu64, ts, st->ep.t0);
	case TRC_EPOCH_OK:
		break;
	}
	*t_ns = (int64_t)span * MSR_TICK_NS;
	return 0;
}

/* 1: rec filled; 0: the line is skipped (counted, or the header line);
 * < 0: error. */
static int parse_row(struct trc_reader *r, const char *line, size_t len,
		     struct trc_record *rec, struct jv_diag *d)
{
	struct msr_state *st = r->priv;
	if (r->lines.line == 1 && strcase_eq(line, len, MSR_HEADER))
		return 0;
	struct trc_fld f[MSR_FIELDS + 1];
	int nf = trc_split_commas(line, len, f, MSR_FIELDS + 1, 0);
	if (nf != MSR_FIELDS)
		return jv_diag_set(d, JV_EPARSE, r->name, r->lines.line,
				   "expected %d fields (" MSR_FIELD_LIST
				   "), found %d", MSR_FIELDS, nf);
	struct trc_blk *b = &rec->u.blk;
	uint64_t ts = 0, disk = 0, off = 0, size = 0, rt = 0;
	int rc;
	if ((rc = trc_fld_u64(r, "Timestamp", &f[0], INT64_MAX, &ts, d)) < 0 ||
	    (rc = get_host(r, &f[1], d)) < 0 ||
	    (rc = trc_fld_u64(r, "DiskNumber", &f[2], MSR_DISK_MAX, &disk, d)) < 0 ||
	    (rc = get_type(r, &f[3], &b->op, d)) < 0 ||
	    (rc = trc_fld_u64(r, "Offset", &f[4], INT64_MAX, &off, d)) < 0 ||
	    (rc = trc_fld_u64(r, "Size", &f[5], INT64_MAX, &size, d)) < 0 ||
	    (rc = trc_fld_u64(r, "ResponseTime", &f[6],
			  (uint64_t)INT64_MAX / MSR_TICK_NS, &rt, d)) < 0)
		return rc;
	if (size > (uint64_t)INT64_MAX - off)
		return jv_diag_set(d, JV_ERANGE, r->name, r->lines.line,
				   "Size: request end Offset + Size beyond "
				   "%" PRId64 " bytes", INT64_MAX);
	if ((rc = record_time(r, st, ts, &b->t_ns, d)) < 0)
		return rc;
	if (size == 0)
		return trc_skip_zero(r, st->skip_buf, sizeof st->skip_buf);
	int vm = record_vm(r, st, &f[1], disk, d);
	if (vm < 0)
		return vm;
	return trc_blk_yield(rec, r->lines.line, vm, b->op, (int64_t)off,
			     (int64_t)size, (int64_t)rt * MSR_TICK_NS);
}

static int next_msr(struct trc_reader *r, struct trc_record *rec,
		    struct jv_diag *d)
{
	return trc_next_line(r, rec, d, parse_row);
}

const struct trc_format trc_fmt_msr = {
	"msr", TRC_BLK, trc_probe_named_only, open_msr, next_msr, trc_priv_free,
	trc_priv_mem,
};
