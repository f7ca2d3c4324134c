/*
 * fmt_vscsi: reader of CloudPhysics vSCSI block traces (the binary
 * per-virtual-disk SCSI command traces of VMware ESX guests collected by
 * CloudPhysics, Waldspurger et al., "Efficient MRC Construction with
 * SHARDS", FAST'15; layout as read by libCacheSim's vscsi reader,
 * libCacheSim/traceReader/customizedReader/vscsi.h).
 *
 * Problem: the trace is a headerless array of fixed-size little-endian
 * records of one virtual disk; it must become TRC_BLK records with
 * integer nanoseconds, commands other than reads and writes skipped and
 * counted, and a truncated or garbled file reported as
 * "FILE: byte offset N: reason".
 *
 * Format (no file header; all fields little-endian):
 *   v1, 32 bytes: u32 sn, u32 len (bytes), u32 nSG, u16 cmd, u16 ver
 *                 (0x01xx), u64 lbn (512-byte sectors), u64 ts (us)
 *   v2, 40 bytes: u16 cmd, u16 ver (0x02xx), u32 sn, u32 len, u32 nSG,
 *                 u64 lbn, u64 ts (us), u64 rt (response time, us)
 * cmd is the SCSI opcode: 0x28 READ(10) and 0x2a WRITE(10) in the
 * CloudPhysics traces; READ/WRITE(6) 0x08/0x0a, (12) 0xa8/0xaa and (16)
 * 0x88/0x8a are read and written too.
 *
 * Strategy: the version is detected as libCacheSim does: the ver field's
 * high byte of the first two records (one if the file holds only one) is 2
 * at the v2 position, else 1 at the v1 position; every later record's
 * version must match. Records are pulled through the shared read buffer
 * (trc_lines_fill/peek/skip), decoded byte by byte (no alignment or host
 * endianness assumed). Time: t_ns = (ts - first ts) * 1000, the first
 * record at 0 (skipped records included); ts going backwards is an error
 * (JV_EORDER). offset_b = lbn * 512, size_b = len, latency_ns = rt * 1000
 * (v2) or -1 (v1), disk 0. All records belong to VM "vm0" with the mapping
 * key "disk=0" (a trace is one virtual disk). rec->line is the record's
 * byte offset.
 *
 * Skipped (trc_skipped(), reason such as "SCSI 0x35 3, zero-size 1"):
 * other SCSI commands (TEST UNIT READY, SYNCHRONIZE CACHE, ...; the first
 * 8 kinds are named, later ones summed as "other SCSI N"), zero-size
 * reads and writes. Limits: lbn *
 * 512 + len <= 2^63 - 1; ts - first ts <= (2^63 - 1) / 1000 us; rt <=
 * (2^63 - 1) / 1000. A file whose length is not a multiple of the record
 * size ends in an error naming the partial record's byte offset.
 */
#include "traces/trc_impl.h"
#include "traces/fmt_text.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VSCSI_V1_B 32
#define VSCSI_V2_B 40
#define VSCSI_V1_VER_AT 14 /* byte offset of ver in a v1 record */
#define VSCSI_V2_VER_AT 2  /* ... in a v2 record */
#define VSCSI_PROBE_RECS 2 /* records whose version the probe checks */
#define VSCSI_SECTOR_B 512
#define VSCSI_NS_PER_US 1000
#define VSCSI_US_MAX ((uint64_t)INT64_MAX / VSCSI_NS_PER_US)
#define VSCSI_VM "vm0"
#define VSCSI_ATTRS "disk=0"
#define SKIP_KINDS 8          /* skip kinds listed in the reason */
#define SKIP_WIDE 0x100       /* kind: cmd above 0xff */
#define SKIP_ZERO 0x101       /* kind: zero-size read/write */
#define SKIP_BUF_B 320
#define UTF8_BOM "\xEF\xBB\xBF"
#define UTF8_BOM_B 3

struct vscsi_state {
	int version;        /* 1 or 2 */
	size_t rec_b;       /* 32 or 40 */
	int vm;
	struct trc_epoch ep; /* ts, us, at byte offsets */
	/* skipped records per kind, in order of first appearance */
	struct { unsigned kind; uint64_t n; } skips[SKIP_KINDS];
	int n_skips;
	uint64_t skip_other;       /* beyond SKIP_KINDS kinds */
	char skip_buf[SKIP_BUF_B]; /* "SCSI 0x35 3, zero-size 1" */
};

static uint16_t le16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t le64(const unsigned char *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* The records in head[0..len) (at most VSCSI_PROBE_RECS, at least one)
 * all carry version `ver` in the high byte of the field at ver_at. */
static int version_is(const unsigned char *head, size_t len, size_t rec_b,
		      size_t ver_at, int ver)
{
	size_t n = len / rec_b;
	if (n == 0)
		return 0;
	if (n > VSCSI_PROBE_RECS)
		n = VSCSI_PROBE_RECS;
	for (size_t i = 0; i < n; i++)
		if (le16(head + i * rec_b + ver_at) >> 8 != ver)
			return 0;
	return 1;
}

static int detect(const char *head, size_t len)
{
	const unsigned char *h = (const unsigned char *)head;
	if (version_is(h, len, VSCSI_V2_B, VSCSI_V2_VER_AT, 2))
		return 2;
	if (version_is(h, len, VSCSI_V1_B, VSCSI_V1_VER_AT, 1))
		return 1;
	return 0;
}

static int probe(const char *head, size_t len)
{
	return detect(head, len) != 0;
}

static int open_vscsi(struct trc_reader *r, struct jv_diag *d)
{
	struct trc_lines *l = &r->lines;
	/* trc_open skips a UTF-8 byte order mark: here those bytes are data */
	if (l->buf_off == 0 && l->pos == UTF8_BOM_B && l->end >= UTF8_BOM_B &&
	    memcmp(l->buf, UTF8_BOM, UTF8_BOM_B) == 0) {
		l->pos = 0;
		l->scan = 0;
	}
	struct vscsi_state *st = trc_priv_new(r, sizeof *st, d);
	if (!st)
		return JV_ENOMEM;
	long got = trc_lines_fill(l, VSCSI_PROBE_RECS * VSCSI_V2_B, d);
	if (got < 0)
		return (int)got;
	size_t n;
	const char *head = trc_lines_peek(l, &n);
	st->version = detect(head, n);
	if (!st->version) {
		if (n < VSCSI_V1_B)
			return jv_diag_set(d, JV_EPARSE, r->name, 0,
					   "byte offset 0: truncated record (%zu "
					   "bytes, a vSCSI v1 record has %d)",
					   n, VSCSI_V1_B);
		const unsigned char *h = (const unsigned char *)head;
		return jv_diag_set(d, JV_EPARSE, r->name, 0,
				   "byte offset 0: not a CloudPhysics vSCSI "
				   "trace: version field 0x%04x at byte %d (v1 "
				   "expects 0x01xx)%s",
				   le16(h + VSCSI_V1_VER_AT), VSCSI_V1_VER_AT,
				   n >= VSCSI_V2_B ? ", nor 0x02xx at byte 2 (v2)"
						   : "");
	}
	st->rec_b = st->version == 2 ? VSCSI_V2_B : VSCSI_V1_B;
	st->vm = trc_names_intern(&r->vms, VSCSI_VM, sizeof VSCSI_VM - 1,
				  trc_names_hash(VSCSI_VM, sizeof VSCSI_VM - 1));
	if (st->vm < 0 || trc_names_set_attrs(&r->vms, st->vm, VSCSI_ATTRS) < 0)
		return jv_diag_set(d, JV_ENOMEM, r->name, 0, "out of memory");
	return 0;
}

/* ---- records ------------------------------------------------------------- */

/* SCSI opcode -> TRC_OP_READ / TRC_OP_WRITE, or -1. */
static int scsi_op(unsigned cmd)
{
	switch (cmd) {
	case 0x08: case 0x28: case 0xa8: case 0x88:
		return TRC_OP_READ;
	case 0x0a: case 0x2a: case 0xaa: case 0x8a:
		return TRC_OP_WRITE;
	default:
		return -1;
	}
}

static void skip_reason_build(struct vscsi_state *st)
{
	char *b = st->skip_buf;
	size_t cap = sizeof st->skip_buf, n = 0;
	b[0] = '\0';
	for (int i = 0; i < st->n_skips && n < cap; i++) {
		unsigned k = st->skips[i].kind;
		const char *sep = i ? ", " : "";
		uint64_t c = st->skips[i].n;
		if (k == SKIP_ZERO)
			n += (size_t)snprintf(b + n, cap - n,
					      "%szero-size %" PRIu64, sep, c);
		else if (k == SKIP_WIDE)
			n += (size_t)snprintf(b + n, cap - n,
					      "%sSCSI > 0xff %" PRIu64, sep, c);
		else
			n += (size_t)snprintf(b + n, cap - n,
					      "%sSCSI 0x%02x %" PRIu64, sep, k, c);
	}
	if (st->skip_other && n < cap)
		snprintf(b + n, cap - n, ", other SCSI %" PRIu64,
			 st->skip_other);
}

/* Count a skipped record of kind (a SCSI opcode, SKIP_WIDE, SKIP_ZERO). */
static void skip_note(struct trc_reader *r, struct vscsi_state *st,
		      unsigned kind)
{
	int i;
	r->skipped++;
	for (i = 0; i < st->n_skips && st->skips[i].kind != kind; i++)
		;
	if (i < st->n_skips) {
		st->skips[i].n++;
	} else if (st->n_skips < SKIP_KINDS) {
		st->skips[i].kind = kind;
		st->skips[i].n = 1;
		st->n_skips++;
	} else {
		st->skip_other++;
	}
	skip_reason_build(st);
	r->skip_reason = st->skip_buf;
}

struct vrec {
	unsigned cmd, ver;
	uint32_t len;
	uint64_t lbn, ts, rt;
};

static void decode(const struct vscsi_state *st, const unsigned char *p,
		   struct vrec *v)
{
	if (st->version == 1) {
		v->len = le32(p + 4);
		v->cmd = le16(p + 12);
		v->ver = le16(p + 14);
		v->lbn = le64(p + 16);
		v->ts = le64(p + 24);
		v->rt = 0;
	} else {
		v->cmd = le16(p);
		v->ver = le16(p + 2);
		v->len = le32(p + 8);
		v->lbn = le64(p + 16);
		v->ts = le64(p + 24);
		v->rt = le64(p + 32);
	}
}

static int check_time(struct trc_reader *r, struct vscsi_state *st,
		      uint64_t off, uint64_t ts, int64_t *t_ns,
		      struct jv_diag *d)
{
	uint64_t span = 0;
	switch (trc_epoch_step(&st->ep, ts, off, VSCSI_US_MAX, &span)) {
	case TRC_EPOCH_BACK:
		return jv_diag_set(d, JV_EORDER, r->name, 0,
				   "byte offset %" PRIu64 ": ts: time goes "
				   "backwards (%" PRIu64 " us < %" PRIu64
				   " us at byte offset %" PRIu64 ")",
				   off, ts, st->ep.prev, st->ep.prev_at);
	case TRC_EPOCH_FAR:
		return jv_diag_set(d, JV_ERANGE, r->name, 0,
				   "byte offset %" PRIu64 ": ts: %" PRIu64
				   " us is more than %" PRIu64 " us after the "
				   "first record's", off, ts, VSCSI_US_MAX);
	case TRC_EPOCH_OK:
		break;
	}
	*t_ns = (int64_t)span * VSCSI_NS_PER_US;
	return 0;
}

/* 1: rec filled; 0: skipped (counted); < 0: error. */
static int decode_record(struct trc_reader *r, struct vscsi_state *st,
			 const unsigned char *p, uint64_t off,
			 struct trc_record *rec, struct jv_diag *d)
{
	struct vrec v;
	struct trc_blk *b = &rec->u.blk;
	decode(st, p, &v);
	if ((int)(v.ver >> 8) != st->version)
		return jv_diag_set(d, JV_EPARSE, r->name, 0,
				   "byte offset %" PRIu64 ": ver: 0x%04x is not "
				   "a vSCSI v%d record version (0x0%d00); garbled "
				   "record", off, v.ver, st->version, st->version);
	int rc = check_time(r, st, off, v.ts, &b->t_ns, d);
	if (rc < 0)
		return rc;
	int op = scsi_op(v.cmd);
	if (op < 0) {
		skip_note(r, st, v.cmd > 0xff ? SKIP_WIDE : v.cmd);
		return 0;
	}
	if (v.lbn > (uint64_t)INT64_MAX / VSCSI_SECTOR_B ||
	    v.len > (uint64_t)INT64_MAX - v.lbn * VSCSI_SECTOR_B)
		return jv_diag_set(d, JV_ERANGE, r->name, 0,
				   "byte offset %" PRIu64 ": lbn: %" PRIu64
				   " * 512 + len %" PRIu32 " beyond %" PRId64
				   " bytes", off, v.lbn, v.len, INT64_MAX);
	if (v.rt > VSCSI_US_MAX)
		return jv_diag_set(d, JV_ERANGE, r->name, 0,
				   "byte offset %" PRIu64 ": rt: out of range "
				   "(%" PRIu64 " us, max %" PRIu64 " us)",
				   off, v.rt, VSCSI_US_MAX);
	if (v.len == 0) {
		skip_note(r, st, SKIP_ZERO);
		return 0;
	}
	return trc_blk_yield(rec, (long)off, st->vm, op,
			     (int64_t)(v.lbn * VSCSI_SECTOR_B), (int64_t)v.len,
			     st->version == 2 ? (int64_t)v.rt * VSCSI_NS_PER_US : -1);
}

static int next_vscsi(struct trc_reader *r, struct trc_record *rec,
		      struct jv_diag *d)
{
	struct vscsi_state *st = r->priv;
	for (;;) {
		uint64_t off = trc_lines_offset(&r->lines);
		long got = trc_lines_fill(&r->lines, st->rec_b, d);
		if (got < 0)
			return (int)got;
		if (got == 0)
			return 0;
		if ((size_t)got < st->rec_b)
			return jv_diag_set(d, JV_EPARSE, r->name, 0,
					   "byte offset %" PRIu64 ": truncated "
					   "record (%ld of %zu bytes): the file "
					   "size is not a multiple of the vSCSI "
					   "v%d record size",
					   off, got, st->rec_b, st->version);
		size_t n;
		const unsigned char *p =
			(const unsigned char *)trc_lines_peek(&r->lines, &n);
		int rc = decode_record(r, st, p, off, rec, d);
		trc_lines_skip(&r->lines, st->rec_b);
		if (rc != 0)
			return rc;
	}
}

const struct trc_format trc_fmt_vscsi = {
	"vscsi", TRC_BLK, probe, open_vscsi, next_vscsi, trc_priv_free,
	trc_priv_mem,
};
