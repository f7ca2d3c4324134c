/*
 * fmt_disksim: reader of DiskSim ASCII traces (the "ascii" input format of
 * the DiskSim 2.0/4.0 disk simulator, Ganger, Worthington, Patt, CMU/UMich;
 * also read by MQSim, CMU SAFARI, whose converted UMass and TPC-C traces
 * are our real samples).
 *
 * Problem: the files are whitespace-separated request lines whose time
 * unit is not in the file (DiskSim: milliseconds; MQSim: set per workload,
 * nanoseconds for its converted traces); they must become TRC_BLK records
 * with integer nanoseconds, one VM per device, every malformed line
 * reported as "FILE:LINE: field: reason".
 *
 * Format: one request per line, five fields separated by spaces or tabs:
 *   time          arrival time, a decimal number in the time unit
 *   device        device number
 *   lba           start block, 512-byte sectors
 *   size_sectors  length in 512-byte sectors
 *   type          request flags; bit 0 set = read, clear = write
 *                 (DiskSim's READ flag 0x1; MQSim writes 1 / 0)
 * e.g. "11413000 0 657728 16 1". Leading/trailing blanks and blank lines
 * are fine; CRLF is fine.
 *
 * Parameters: the time unit, trc_open_opts() time_unit_ns: 0 means the
 * default, 1000000 (1 ms, DiskSim's own); MQSim's converted samples need
 * 1 (ns). Any unit >= 1 ns is accepted.
 *
 * Strategy: split in place at blanks, parse each field with its own
 * checker. Time is read exactly as fixed-point (9 fraction digits kept,
 * further ones truncated) and scaled by the unit with 64-bit integer
 * arithmetic; t_ns = time - first time (the first line is at 0); going
 * backwards is an error (JV_EORDER). offset_b = lba * 512, size_b =
 * size_sectors * 512, latency -1 (the format has none), disk 0. VM
 * "dev<device>" (dev0, dev1...) with the mapping key "device=<device>";
 * the last VM is cached.
 *
 * Skipped (trc_skipped(), reason "zero-size N"): zero-size requests.
 * Limits: device <= 999999; flags <= 4294967295; byte offsets and ends <=
 * 2^63 - 1; time * unit < 2^63 ns; plain decimal numbers (no sign, no
 * exponent); lines <= 64 KiB.
 */
#include "traces/fmt_text.h"
#include "traces/trc_impl.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DS_FIELDS 5
#define DS_SECTOR_B 512
#define DS_DEV_MAX 999999u
#define DS_FLAGS_MAX UINT64_C(4294967295)
#define DS_FLAG_READ 0x1u
#define DS_DEFAULT_UNIT_NS INT64_C(1000000) /* DiskSim: milliseconds */
#define NANO INT64_C(1000000000)           /* fixed-point scale */
#define FRAC_DIGITS 9
#define DS_FIELD_LIST "time device lba size_sectors type"

struct ds_state {
	int64_t unit_ns;
	struct trc_epoch ep; /* times, ns, at line numbers */
	struct trc_vm_cache last; /* VM of the last device */
	char skip_buf[32]; /* trc_skipped() reason: "zero-size N" */
};

static int open_ds(struct trc_reader *r, struct jv_diag *d)
{
	int64_t unit = r->opts.time_unit_ns;
	if (unit < 0)
		return jv_diag_set(d, JV_EINVAL, r->name, 0,
				   "time unit: must be > 0 ns, found %" PRId64
				   " ns", unit);
	struct ds_state *st = trc_priv_new(r, sizeof *st, d);
	if (!st)
		return JV_ENOMEM;
	st->unit_ns = unit ? unit : DS_DEFAULT_UNIT_NS;
	return 0;
}

/* ---- fields ------------------------------------------------------------ */

/* "D+[.D*]" or ".D+" in units of unit_ns, into nanoseconds (truncated). */
static int get_time(const struct trc_reader *r, const struct trc_fld *f,
		    int64_t unit_ns, int64_t *out, struct jv_diag *d)
{
	char q[TRC_QUOTE_B];
	long ln = r->lines.line;
	const char *dot = memchr(f->s, '.', f->n);
	size_t ni = dot ? (size_t)(dot - f->s) : f->n;
	size_t nf = dot ? f->n - ni - 1 : 0;
	const char *fr = dot ? dot + 1 : NULL;
	if ((ni && !trc_all_digits(f->s, ni)) || (nf && !trc_all_digits(fr, nf)) ||
	    ni + nf == 0) {
		if (f->n > 1 && f->s[0] == '-' &&
		    ((unsigned)(unsigned char)f->s[1] - '0' <= 9 || f->s[1] == '.'))
			return jv_diag_set(d, JV_ERANGE, r->name, ln,
					   "time: negative value '%s'",
					   trc_fld_quote(q, f));
		return jv_diag_set(d, JV_EPARSE, r->name, ln,
				   "time: not a decimal number '%s'",
				   trc_fld_quote(q, f));
	}
	uint64_t unit = (uint64_t)unit_ns, ip = 0, f9 = 0;
	uint64_t lim = (uint64_t)INT64_MAX / unit;
	for (size_t i = 0; i < ni; i++) {
		ip = ip * 10 + (unsigned)(f->s[i] - '0');
		if (ip > lim)
			goto range;
	}
	for (size_t i = 0; i < FRAC_DIGITS; i++)
		f9 = f9 * 10 + (i < nf ? (unsigned)(fr[i] - '0') : 0);
	/* f9 / 1e9 of a unit, exactly:
	 * f9 * (unit / 1e9) + f9 * (unit % 1e9) / 1e9 */
	uint64_t part = f9 * (unit / (uint64_t)NANO) +
			f9 * (unit % (uint64_t)NANO) / (uint64_t)NANO;
	if (ip * unit > (uint64_t)INT64_MAX - part)
		goto range;
	*out = (int64_t)(ip * unit + part);
	return 0;
range:
	return jv_diag_set(d, JV_ERANGE, r->name, ln,
			   "time: out of range '%s' (at most %" PRId64
			   " ns at a unit of %" PRId64 " ns)",
			   trc_fld_quote(q, f), INT64_MAX, unit_ns);
}

/* ---- records ------------------------------------------------------------- */

static int record_time(struct trc_reader *r, struct ds_state *st, int64_t t,
		       int64_t *t_ns, struct jv_diag *d)
{
	long ln = r->lines.line;
	uint64_t span = 0;
	if (trc_epoch_step(&st->ep, (uint64_t)t, (uint64_t)ln, INT64_MAX,
			   &span) != TRC_EPOCH_OK) /* t <= INT64_MAX: never far */
		return jv_diag_set(d, JV_EORDER, r->name, ln,
				   "time: time goes backwards (%" PRId64
				   " ns < %" PRId64 " ns at line %ld)",
				   t, (int64_t)st->ep.prev, (long)st->ep.prev_at);
	*t_ns = (int64_t)span;
	return 0;
}

static int parse_row(struct trc_reader *r, const char *line, size_t len,
		     struct trc_record *rec, struct jv_diag *d)
{
	struct ds_state *st = r->priv;
	struct trc_fld f[DS_FIELDS];
	int nf = trc_split_blanks(line, len, f, DS_FIELDS);
	if (nf != DS_FIELDS)
		return jv_diag_set(d, JV_EPARSE, r->name, r->lines.line,
				   "expected %d fields (" DS_FIELD_LIST
				   "), found %d", DS_FIELDS, nf);
	struct trc_blk *b = &rec->u.blk;
	const uint64_t sect_max = (uint64_t)INT64_MAX / DS_SECTOR_B;
	uint64_t dev = 0, lba = 0, n_sect = 0, flags = 0;
	int64_t t = 0;
	int rc;
	if ((rc = get_time(r, &f[0], st->unit_ns, &t, d)) < 0 ||
	    (rc = trc_fld_u64(r, "device", &f[1], DS_DEV_MAX, &dev, d)) < 0 ||
	    (rc = trc_fld_u64(r, "lba", &f[2], sect_max, &lba, d)) < 0 ||
	    (rc = trc_fld_u64(r, "size_sectors", &f[3], sect_max, &n_sect, d)) < 0 ||
	    (rc = trc_fld_u64(r, "type", &f[4], DS_FLAGS_MAX, &flags, d)) < 0)
		return rc;
	if (n_sect > sect_max - lba)
		return jv_diag_set(d, JV_ERANGE, r->name, r->lines.line,
				   "size_sectors: request end (lba + size) * 512 "
				   "beyond %" PRId64 " bytes", INT64_MAX);
	if ((rc = record_time(r, st, t, &b->t_ns, d)) < 0)
		return rc;
	if (n_sect == 0)
		return trc_skip_zero(r, st->skip_buf, sizeof st->skip_buf);
	int vm = trc_numbered_vm(r, &st->last, "dev", "device", dev,
				 "device: too many distinct devices", d);
	if (vm < 0)
		return vm;
	return trc_blk_yield(rec, r->lines.line, vm,
			     (flags & DS_FLAG_READ) ? TRC_OP_READ : TRC_OP_WRITE,
			     (int64_t)(lba * DS_SECTOR_B),
			     (int64_t)(n_sect * DS_SECTOR_B), -1);
}

static int next_ds(struct trc_reader *r, struct trc_record *rec,
		   struct jv_diag *d)
{
	return trc_next_line(r, rec, d, parse_row);
}

const struct trc_format trc_fmt_disksim = {
	"disksim", TRC_BLK, trc_probe_named_only, open_ds, next_ds, trc_priv_free,
	trc_priv_mem,
};
