/*
 * fmt_spc: reader of SPC block traces (Storage Performance Council, "SPC
 * Trace File Format Specification", revision 1.0.1, 2002), the format of
 * the UMass Trace Repository's OLTP (Financial1/2) and WebSearch1..3
 * traces.
 *
 * Problem: the files are headerless CSV in application units (ASU) and
 * 512-byte blocks with real-valued seconds; they must become TRC_BLK
 * records with integer nanoseconds, one VM per ASU, every malformed line
 * reported as "FILE:LINE: field: reason".
 *
 * Format: one request per line, comma-separated,
 *   ASU,LBA,Size,Opcode,Timestamp[,optional fields...]
 *   ASU        application specific unit, 0-based integer
 *   LBA        block offset in the ASU; blocks of 512 bytes (the UMass
 *              traces' block size)
 *   Size       bytes (0 is legal per the specification)
 *   Opcode     one character: R/r read, W/w write
 *   Timestamp  seconds from the start of the trace, a decimal number
 *              such as 0.026214
 * e.g. "0,303567,3584,w,0.000000". Fields may have spaces or tabs around
 * them (allowed since revision 1.0.1); fields after the fifth are ignored.
 * Blank lines are skipped; CRLF is fine.
 *
 * Strategy: split at commas in place, trim, check each field with its own
 * parser. Time: the Timestamp is read exactly as fixed-point (up to 9
 * fraction digits kept, further digits truncated), t_ns = Timestamp -
 * first Timestamp (so the first line is at 0); going backwards is an
 * error (JV_EORDER). offset_b = LBA * 512, size_b = Size, latency -1
 * (the format has none), disk 0. VM "asu<ASU>" (asu0, asu1...) with the
 * mapping key "asu=<ASU>"; the last VM is cached.
 *
 * Skipped (trc_skipped(), reason "zero-size N"): zero-size requests.
 * Limits: ASU <= 999999; LBA * 512 and LBA * 512 + Size <= 2^63 - 1;
 * Timestamp < ~292 years; plain decimal numbers (no sign, no exponent);
 * lines <= 64 KiB.
 */
#include "traces/fmt_text.h"
#include "traces/trc_impl.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SPC_MIN_FIELDS 5
#define SPC_BLOCK_B 512
#define SPC_ASU_MAX 999999u
#define NS_PER_S INT64_C(1000000000)
#define FRAC_DIGITS 9 /* nanoseconds */
#define SPC_FIELD_LIST "ASU,LBA,Size,Opcode,Timestamp"

struct spc_state {
	struct trc_epoch ep; /* Timestamps, ns, at line numbers */
	struct trc_vm_cache last; /* VM of the last ASU */
	char skip_buf[32]; /* trc_skipped() reason: "zero-size N" */
};

static int open_spc(struct trc_reader *r, struct jv_diag *d)
{
	return trc_priv_new(r, sizeof(struct spc_state), d) ? 0 : JV_ENOMEM;
}

/* ---- fields ------------------------------------------------------------ */

/* Decimal seconds "D+[.D*]" or ".D+" into nanoseconds (fraction digits
 * beyond the ninth are truncated). */
static int get_seconds(const struct trc_reader *r, const char *name,
		       const struct trc_fld *f, int64_t *out, struct jv_diag *d)
{
	char q[TRC_QUOTE_B];
	long ln = r->lines.line;
	if (f->n == 0)
		return jv_diag_set(d, JV_EPARSE, r->name, ln,
				   "%s: empty field, expected seconds", name);
	const char *dot = memchr(f->s, '.', f->n);
	size_t ni = dot ? (size_t)(dot - f->s) : f->n;
	size_t nf = dot ? f->n - ni - 1 : 0;
	const char *fr = dot ? dot + 1 : NULL;
	if ((ni && !trc_all_digits(f->s, ni)) || (nf && !trc_all_digits(fr, nf)) ||
	    ni + nf == 0) {
		if (f->s[0] == '-' && f->n > 1 &&
		    ((unsigned)(unsigned char)f->s[1] - '0' <= 9 ||
		     f->s[1] == '.'))
			return jv_diag_set(d, JV_ERANGE, r->name, ln,
					   "%s: negative value '%s'", name,
					   trc_fld_quote(q, f));
		return jv_diag_set(d, JV_EPARSE, r->name, ln,
				   "%s: not a decimal number of seconds '%s'",
				   name, trc_fld_quote(q, f));
	}
	uint64_t s = 0, frac = 0;
	for (size_t i = 0; i < ni; i++) {
		s = s * 10 + (unsigned)(f->s[i] - '0');
		if (s > (uint64_t)INT64_MAX / NS_PER_S)
			return jv_diag_set(d, JV_ERANGE, r->name, ln,
					   "%s: out of range '%s' (max %" PRId64
					   " s)", name, trc_fld_quote(q, f),
					   INT64_MAX / NS_PER_S);
	}
	for (size_t i = 0; i < FRAC_DIGITS; i++)
		frac = frac * 10 + (i < nf ? (unsigned)(fr[i] - '0') : 0);
	if (s * NS_PER_S > (uint64_t)INT64_MAX - frac)
		return jv_diag_set(d, JV_ERANGE, r->name, ln,
				   "%s: out of range '%s'", name,
				   trc_fld_quote(q, f));
	*out = (int64_t)(s * NS_PER_S + frac);
	return 0;
}

static int get_opcode(const struct trc_reader *r, const struct trc_fld *f,
		      int32_t *op, struct jv_diag *d)
{
	char q[TRC_QUOTE_B];
	if (f->n == 1 && (f->s[0] == 'R' || f->s[0] == 'r'))
		*op = TRC_OP_READ;
	else if (f->n == 1 && (f->s[0] == 'W' || f->s[0] == 'w'))
		*op = TRC_OP_WRITE;
	else
		return jv_diag_set(d, JV_EPARSE, r->name, r->lines.line,
				   "Opcode: expected 'R', 'r', 'W' or 'w', "
				   "found '%s'",
				   trc_fld_quote(q, f));
	return 0;
}

/* ---- records ------------------------------------------------------------- */

static int record_time(struct trc_reader *r, struct spc_state *st,
		       int64_t t, int64_t *t_ns, struct jv_diag *d)
{
	long ln = r->lines.line;
	uint64_t span = 0;
	if (trc_epoch_step(&st->ep, (uint64_t)t, (uint64_t)ln, INT64_MAX,
			   &span) != TRC_EPOCH_OK) { /* t <= INT64_MAX: never far */
		int64_t prev = (int64_t)st->ep.prev;
		return jv_diag_set(d, JV_EORDER, r->name, ln,
				   "Timestamp: time goes backwards (%" PRId64
				   ".%09" PRId64 " s < %" PRId64 ".%09" PRId64
				   " s at line %ld)",
				   t / NS_PER_S, t % NS_PER_S,
				   prev / NS_PER_S, prev % NS_PER_S,
				   (long)st->ep.prev_at);
	}
	*t_ns = (int64_t)span;
	return 0;
}

static int parse_row(struct trc_reader *r, const char *line, size_t len,
		     struct trc_record *rec, struct jv_diag *d)
{
	struct spc_state *st = r->priv;
	struct trc_fld f[SPC_MIN_FIELDS];
	int nf = trc_split_commas(line, len, f, SPC_MIN_FIELDS, 1);
	if (nf < SPC_MIN_FIELDS)
		return jv_diag_set(d, JV_EPARSE, r->name, r->lines.line,
				   "expected at least %d fields (" SPC_FIELD_LIST
				   "[,...]), found %d", SPC_MIN_FIELDS, nf);
	struct trc_blk *b = &rec->u.blk;
	uint64_t asu = 0, lba = 0, size = 0;
	int64_t t = 0;
	int rc;
	if ((rc = trc_fld_u64(r, "ASU", &f[0], SPC_ASU_MAX, &asu, d)) < 0 ||
	    (rc = trc_fld_u64(r, "LBA", &f[1], (uint64_t)INT64_MAX / SPC_BLOCK_B,
			  &lba, d)) < 0 ||
	    (rc = trc_fld_u64(r, "Size", &f[2], INT64_MAX, &size, d)) < 0 ||
	    (rc = get_opcode(r, &f[3], &b->op, d)) < 0 ||
	    (rc = get_seconds(r, "Timestamp", &f[4], &t, d)) < 0)
		return rc;
	uint64_t off = lba * SPC_BLOCK_B;
	if (size > (uint64_t)INT64_MAX - off)
		return jv_diag_set(d, JV_ERANGE, r->name, r->lines.line,
				   "Size: request end LBA * 512 + Size beyond "
				   "%" PRId64 " bytes", INT64_MAX);
	if ((rc = record_time(r, st, t, &b->t_ns, d)) < 0)
		return rc;
	if (size == 0)
		return trc_skip_zero(r, st->skip_buf, sizeof st->skip_buf);
	int vm = trc_numbered_vm(r, &st->last, "asu", "asu", asu,
				 "ASU: too many distinct ASUs", d);
	if (vm < 0)
		return vm;
	return trc_blk_yield(rec, r->lines.line, vm, b->op, (int64_t)off,
			     (int64_t)size, -1);
}

static int next_spc(struct trc_reader *r, struct trc_record *rec,
		    struct jv_diag *d)
{
	return trc_next_line(r, rec, d, parse_row);
}

const struct trc_format trc_fmt_spc = {
	"spc", TRC_BLK, trc_probe_named_only, open_spc, next_spc, trc_priv_free,
	trc_priv_mem,
};
