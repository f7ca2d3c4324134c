/*
 * check_fmt_block: the imported block-trace readers MSR Cambridge (msr),
 * SPC/UMass (spc), DiskSim ASCII (disksim), fio iolog v2/v3 (fio) and
 * CloudPhysics vSCSI (vscsi), traces/fmt_{msr,spc,disksim,fio,vscsi}.c.
 *
 * Golden tests read the real samples (tests/fixtures/real/blockio/, see
 * PROVENANCE.md there) and check record counts and byte totals against
 * the provenance note; the vSCSI binary is compared record by record with
 * its CSV rendering. Fixtures written from each format's documentation
 * (tests/fixtures/fmt/README.md) are compared field by field. Every error
 * class is generated from a table (content, code, "FILE:LINE: " or
 * "FILE: byte offset N" and a message fragment). Also: probing, skipped
 * operations and their reasons, time units, constant memory on long
 * files, stdin, and regression tests found by fuzzing.
 */
#define _XOPEN_SOURCE 700 /* nftw (check_tmpdir.h) */
#include <check.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/jv_err.h"
#include "traces/trc.h"

#define CK_TMP_PREFIX "check_fmt_block"
#include "check_trc_fixture.h"

#ifndef JV_FIXTURES
#define JV_FIXTURES "tests/fixtures"
#endif
#define REAL(name) JV_FIXTURES "/real/blockio/" name
#define FMT(name) JV_FIXTURES "/fmt/" name

#define MAX_RECS 64

/* ---- helpers -------------------------------------------------------- */

/* What reading a whole trace gave. */
struct got {
	int rc;              /* 0 at EOF, else the error */
	long n;              /* records */
	long reads, writes;
	int64_t read_b, write_b;
	int64_t first_t, last_t;
	uint64_t skipped;
	char reason[300];
	int n_vms;
	char fmt[32];
	struct trc_blk rec[MAX_RECS]; /* the first MAX_RECS records */
	long line[MAX_RECS];
	char vm[MAX_RECS][64];
	struct jv_diag d;
};

static void read_opts(const char *path, const char *format,
		      const struct trc_open_opts *oo, struct got *g)
{
	struct trc_reader *r;
	struct trc_record rec;
	memset(g, 0, sizeof *g);
	jv_diag_clear(&g->d);
	g->rc = trc_open_opts(path, format, oo, &r, &g->d);
	if (g->rc < 0)
		return;
	snprintf(g->fmt, sizeof g->fmt, "%s", trc_format_name(r));
	/* no ck_assert in per-record loops: each one writes to Check's pipe */
	while ((g->rc = trc_next(r, &rec, &g->d)) == 1) {
		const struct trc_blk *b = &rec.u.blk;
		if (rec.kind != TRC_BLK || !trc_vm_name(r, b->vm) ||
		    (b->op != TRC_OP_READ && b->op != TRC_OP_WRITE) ||
		    b->size_b <= 0 || b->offset_b < 0 || b->t_ns < g->last_t)
			ck_abort_msg("record %ld: kind %d, vm %d, op %d, size %"
				     PRId64 ", t %" PRId64, g->n, rec.kind,
				     b->vm, b->op, b->size_b, b->t_ns);
		if (g->n < MAX_RECS) {
			g->rec[g->n] = *b;
			g->line[g->n] = rec.line;
			snprintf(g->vm[g->n], sizeof g->vm[0], "%s",
				 trc_vm_name(r, b->vm));
		}
		if (g->n == 0)
			g->first_t = b->t_ns;
		g->last_t = b->t_ns;
		if (b->op == TRC_OP_READ) {
			g->reads++;
			g->read_b += b->size_b;
		} else {
			g->writes++;
			g->write_b += b->size_b;
		}
		g->n++;
	}
	const char *why;
	g->skipped = trc_skipped(r, &why);
	ck_assert_ptr_nonnull(why);
	snprintf(g->reason, sizeof g->reason, "%s", why);
	g->n_vms = trc_n_vms(r);
	trc_close(r);
}

static void read_all(const char *path, const char *format, struct got *g)
{
	read_opts(path, format, NULL, g);
}

/* The VM named vm in a trace (opened again) has the mapping keys want. */
static void assert_vm_attrs(const char *path, const char *format, int64_t unit,
			    const char *vm, const char *want)
{
	struct trc_reader *r;
	struct trc_record rec;
	struct jv_diag d;
	struct trc_open_opts oo = { unit, 0 };
	jv_diag_clear(&d);
	ck_assert_int_eq(trc_open_opts(path, format, &oo, &r, &d), 0);
	while (trc_next(r, &rec, &d) == 1)
		;
	assert_vm_attrs_of(r, vm, want);
	trc_close(r);
}

static void assert_rec(const struct got *g, int i, int64_t t, const char *vm,
		       int op, int64_t off, int64_t size, int64_t lat)
{
	ck_assert_int_lt(i, g->n);
	const struct trc_blk *b = &g->rec[i];
	ck_assert_msg(b->t_ns == t, "record %d: t_ns %" PRId64 " != %" PRId64,
		      i, b->t_ns, t);
	ck_assert_str_eq(g->vm[i], vm);
	ck_assert_int_eq(b->op, op);
	ck_assert_int_eq(b->offset_b, off);
	ck_assert_int_eq(b->size_b, size);
	ck_assert_int_eq(b->latency_ns, lat);
	ck_assert_int_eq(b->disk, 0);
}

/* Little-endian record builders for vSCSI. */
static void put16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void v1rec(unsigned char *p, uint32_t sn, uint32_t len, unsigned cmd,
		  unsigned ver, uint64_t lbn, uint64_t ts)
{
	put32(p, sn);
	put32(p + 4, len);
	put32(p + 8, 1);
	put16(p + 12, cmd);
	put16(p + 14, ver);
	put64(p + 16, lbn);
	put64(p + 24, ts);
}

static void v2rec(unsigned char *p, unsigned cmd, uint32_t len, uint64_t lbn,
		  uint64_t ts, uint64_t rt)
{
	put16(p, cmd);
	put16(p + 2, 0x0200);
	put32(p + 4, 7);
	put32(p + 8, len);
	put32(p + 12, 1);
	put64(p + 16, lbn);
	put64(p + 24, ts);
	put64(p + 32, rt);
}

/* ---- golden: real samples ------------------------------------------------ */

START_TEST(test_vscsi_golden_counts)
{
	struct got g;
	read_all(REAL("cloudphysics_sample.vscsi"), "vscsi", &g);
	ck_assert_msg(g.rc == 0, "%s", g.d.msg);
	/* PROVENANCE.md: 113,872 records, 46,974 READ(10), 66,898 WRITE(10) */
	ck_assert_int_eq(g.n, 113872);
	ck_assert_int_eq(g.reads, 46974);
	ck_assert_int_eq(g.writes, 66898);
	ck_assert_int_eq(g.read_b, INT64_C(1797412352));
	ck_assert_int_eq(g.write_b, INT64_C(2408565760));
	ck_assert_uint_eq(g.skipped, 0);
	ck_assert_str_eq(g.reason, "");
	ck_assert_int_eq(g.n_vms, 1);
	ck_assert_str_eq(g.vm[0], "vm0");
	/* first record: len 512, WRITE(10), lbn 42932745, ts 5633898368802 us;
	 * the last is at 5641098458687 us */
	assert_rec(&g, 0, 0, "vm0", TRC_OP_WRITE, INT64_C(42932745) * 512, 512, -1);
	ck_assert_int_eq(g.line[0], 0);
	ck_assert_int_eq(g.line[1], 32);
	ck_assert_int_eq(g.last_t, (INT64_C(5641098458687) - INT64_C(5633898368802)) * 1000);
	assert_vm_attrs(REAL("cloudphysics_sample.vscsi"), "vscsi", 0, "vm0", "disk=0");
}
END_TEST

/* The binary and its CSV rendering (version,time,op,size,lbn; time in
 * truncated seconds) hold the same records, one for one. */
START_TEST(test_vscsi_matches_csv)
{
	const int64_t t0_us = INT64_C(5633898368802); /* PROVENANCE.md */
	FILE *csv = fopen(REAL("cloudphysics_vscsi_sample.csv"), "r");
	ck_assert_ptr_nonnull(csv);
	char line[256];
	ck_assert_ptr_nonnull(fgets(line, sizeof line, csv));
	ck_assert_str_eq(line, "version,time,op,size,lbn\n");
	struct trc_reader *r;
	struct trc_record rec;
	struct jv_diag d;
	jv_diag_clear(&d);
	ck_assert_int_eq(trc_open(REAL("cloudphysics_sample.vscsi"), "auto", &r, &d), 0);
	ck_assert_str_eq(trc_format_name(r), "vscsi");
	long n = 0;
	int rc;
	while ((rc = trc_next(r, &rec, &d)) == 1) {
		ck_assert_ptr_nonnull(fgets(line, sizeof line, csv));
		int ver;
		long long sec, size, lbn;
		char op[8];
		const struct trc_blk *b = &rec.u.blk;
		int nf = sscanf(line, "%d,%lld,%7[^,],%lld,%lld", &ver, &sec,
				op, &size, &lbn);
		int want_op = nf < 3 ? -2 : strcmp(op, "28") == 0 ? TRC_OP_READ
				  : strcmp(op, "2a") == 0 ? TRC_OP_WRITE : -1;
		if (nf != 5 || ver != 1 ||
		    (t0_us + b->t_ns / 1000) / 1000000 != sec ||
		    b->op != want_op || b->size_b != size ||
		    b->offset_b != lbn * 512 || rec.line != n * 32)
			ck_abort_msg("record %ld differs from CSV line %ld '%s'",
				     n, n + 2, line);
		n++;
	}
	ck_assert_msg(rc == 0, "%s", d.msg);
	ck_assert_ptr_null(fgets(line, sizeof line, csv));
	ck_assert_int_eq(n, 113872);
	ck_assert_uint_eq(trc_bytes_read(r), 3643904);
	trc_close(r);
	fclose(csv);
}
END_TEST

START_TEST(test_disksim_websearch_ns)
{
	struct got g;
	struct trc_open_opts oo = { 1, 0 }; /* MQSim samples: nanoseconds */
	read_opts(REAL("umass_websearch_disksim_ascii.trace"), "disksim", &oo, &g);
	ck_assert_msg(g.rc == 0, "%s", g.d.msg);
	/* PROVENANCE.md: 24,779 reads, 4 writes, ~60 s */
	ck_assert_int_eq(g.reads, 24779);
	ck_assert_int_eq(g.writes, 4);
	ck_assert_int_eq(g.read_b, INT64_C(382085120));
	ck_assert_int_eq(g.write_b, 32768);
	ck_assert_int_eq(g.first_t, 0);
	/* 60066625000 - 11413000 ns: the last line has no newline */
	ck_assert_int_eq(g.last_t, INT64_C(60055212000));
	ck_assert_int_eq(g.n_vms, 6);
	/* "11413000 0 657728 16 1", "11565000 1 31244784 64 1" */
	assert_rec(&g, 0, 0, "dev0", TRC_OP_READ, INT64_C(657728) * 512, 16 * 512, -1);
	assert_rec(&g, 1, 152000, "dev1", TRC_OP_READ, INT64_C(31244784) * 512,
		   64 * 512, -1);
	assert_vm_attrs(REAL("umass_websearch_disksim_ascii.trace"), "disksim", 1,
			"dev3", "device=3");
}
END_TEST

START_TEST(test_disksim_tpcc_units)
{
	struct got g;
	struct trc_open_opts ns = { 1, 0 };
	read_opts(REAL("tpcc_disksim_ascii.trace"), "disksim", &ns, &g);
	ck_assert_msg(g.rc == 0, "%s", g.d.msg);
	/* PROVENANCE.md: 4,381 reads, 2,618 writes */
	ck_assert_int_eq(g.reads, 4381);
	ck_assert_int_eq(g.writes, 2618);
	ck_assert_int_eq(g.read_b, INT64_C(36315136));
	ck_assert_int_eq(g.write_b, INT64_C(23403520));
	ck_assert_int_eq(g.n_vms, 16);
	ck_assert_int_eq(g.last_t, INT64_C(1075002000) - INT64_C(938513000));
	/* "938513000 4 264719034 16 0" */
	assert_rec(&g, 0, 0, "dev4", TRC_OP_WRITE, INT64_C(264719034) * 512,
		   16 * 512, -1);
	/* default unit: DiskSim's milliseconds */
	struct got m;
	read_all(REAL("tpcc_disksim_ascii.trace"), "disksim", &m);
	ck_assert_msg(m.rc == 0, "%s", m.d.msg);
	ck_assert_int_eq(m.n, 6999);
	ck_assert_int_eq(m.last_t, (INT64_C(1075002000) - INT64_C(938513000)) * 1000000);
	ck_assert_int_eq(m.rec[1].t_ns, INT64_C(315000) * 1000000);
	/* explicit 1 ms equals the default */
	struct trc_open_opts ms = { 1000000, 0 };
	struct got e;
	read_opts(REAL("tpcc_disksim_ascii.trace"), "disksim", &ms, &e);
	ck_assert_int_eq(e.last_t, m.last_t);
}
END_TEST

START_TEST(test_fio_v3_golden)
{
	static const int64_t ts_us[10] = { 10752, 10782, 10785, 10788, 10793,
					   10797, 10799, 10802, 10806, 10809 };
	struct got g;
	read_all(REAL("fio_t0038_v3.iolog"), "auto", &g);
	ck_assert_msg(g.rc == 0, "%s", g.d.msg);
	ck_assert_str_eq(g.fmt, "fio");
	ck_assert_int_eq(g.n, 10);
	ck_assert_int_eq(g.writes, 10);
	ck_assert_uint_eq(g.skipped, 10);
	ck_assert_str_eq(g.reason, "trim 10");
	ck_assert_int_eq(g.n_vms, 1);
	for (int i = 0; i < 10; i++) {
		/* first line "30 /dev/null add" is the epoch */
		assert_rec(&g, i, (ts_us[i] - 30) * 1000, "dev_null",
			   TRC_OP_WRITE, 4096 * i, 4096, -1);
		ck_assert_int_eq(g.line[i], 5 + 2 * i);
	}
	assert_vm_attrs(REAL("fio_t0038_v3.iolog"), "fio", 0, "dev_null",
			"file=/dev/null");
}
END_TEST

/* ---- documented fixtures ------------------------------------------------- */

/* A record as expected (disk 0). */
struct rec_want {
	int64_t t;
	const char *vm;
	int op;
	int64_t off, size, lat;
};

#define FIX_MAX_RECS 8

/* A documented fixture read whole, and what it gives. */
struct fixture_case {
	const char *file, *format;
	const char *fmt;   /* the format probing finds (format "auto") */
	long n;            /* records, each listed in rec[] */
	struct rec_want rec[FIX_MAX_RECS];
	struct want line[FIX_MAX_RECS]; /* lines (byte offsets) of records */
	struct want n_vms, skipped;
	const char *reason;          /* trc_skipped()'s reason */
	const char *attrs_vm, *attrs; /* the mapping keys of one VM */
	int headerless;              /* never claimed by probing */
};

static const struct fixture_case fixtures[] = {
	{ FMT("msr_hm_web.csv"), "msr", NULL, 7, .rec = {
		{ 0, "hm_0", TRC_OP_READ, INT64_C(3154164736), 4096, 183100 },
		{ INT64_C(1332052600), "hm_0", TRC_OP_WRITE, INT64_C(3154173952), 8192,
		  4221900 },
		{ INT64_C(2332061600), "hm_1", TRC_OP_READ, INT64_C(1450704896), 4096,
		  2271900 },
		{ INT64_C(2332061600), "hm_1", TRC_OP_READ, INT64_C(1450708992), 65536,
		  513500 },
		{ INT64_C(4332061600), "web_2", TRC_OP_WRITE, INT64_C(2040127488), 4096,
		  30000 },
		{ INT64_C(4332067100), "web_2", TRC_OP_WRITE, INT64_C(2040131584), 512,
		  31000 },
		{ INT64_C(5332061600), "hm_0", TRC_OP_READ, INT64_C(3154178048), 4096, 0 },
	  }, .n_vms = W(3), .skipped = W(0), .attrs_vm = "web_2",
	  .attrs = "host=web,disk=2", .headerless = 1 },
	{ FMT("msr_header_crlf.csv"), "msr", NULL, 2, .rec = {
		{ 0, "src1_1", TRC_OP_WRITE, 0, 4096, 120000 },
		{ 10000, "src1_1", TRC_OP_READ, 8192, 1024, 140000 },
	  }, .line = { W(2), W(4) }, .skipped = W(1), .reason = "zero-size 1" },
	{ FMT("spc_umass_like.spc"), "spc", NULL, 8, .rec = {
		{ 0, "asu0", TRC_OP_WRITE, INT64_C(303567) * 512, 3584, -1 },
		{ 0, "asu1", TRC_OP_WRITE, INT64_C(55590) * 512, 3072, -1 },
		{ 26214000, "asu0", TRC_OP_WRITE, INT64_C(303574) * 512, 3584, -1 },
		{ 78643000, "asu1", TRC_OP_READ, INT64_C(240840) * 512, 3072, -1 },
		{ 117964000, "asu2", TRC_OP_READ, INT64_C(1015198) * 512, 8192, -1 },
		{ 530841000, "asu0", TRC_OP_WRITE, INT64_C(303588) * 512, 3584, -1 },
		{ 550502000, "asu1", TRC_OP_READ, INT64_C(55596) * 512, 3072, -1 },
		{ INT64_C(12500000000), "asu3", TRC_OP_READ, 0, 512, -1 },
	  }, .line = { [5] = W(7) }, .n_vms = W(4), .skipped = W(1),
	  .reason = "zero-size 1", .attrs_vm = "asu2", .attrs = "asu=2" },
	{ FMT("fio_v2_howto.iolog"), "auto", "fio", 4, .rec = {
		{ 0, "dev_sdb", TRC_OP_WRITE, 0, 4096, -1 },
		{ 1000000, "dev_sdb", TRC_OP_READ, 4096, 8192, -1 },
		{ 1250000, "dev_sdb", TRC_OP_WRITE, 12288, 4096, -1 },
		{ 1250000, "tmp_fio.data", TRC_OP_READ, 0, 65536, -1 },
	  }, .n_vms = W(2), .skipped = W(3), .reason = "trim 1, sync 1, datasync 1",
	  .attrs_vm = "tmp_fio.data", .attrs = "file=/tmp/fio.data" },
	{ FMT("vscsi_v2_small.vscsi"), "auto", "vscsi", 3, .rec = {
		{ 0, "vm0", TRC_OP_READ, 1000 * 512, 4096, 150000 },
		{ 250000, "vm0", TRC_OP_WRITE, 2000 * 512, 8192, 900000 },
		{ 1000000, "vm0", TRC_OP_READ, 7 * 512, 512, 75000 },
	  }, .line = { [2] = W(120) }, .skipped = W(1), .reason = "SCSI 0x35 1" },
	{ FMT("disksim_ms.trace"), "disksim", NULL, 5, .rec = {
		{ 0, "dev0", TRC_OP_READ, 2000 * 512, 8 * 512, -1 },
		{ 2500000, "dev0", TRC_OP_WRITE, 2008 * 512, 8 * 512, -1 },
		{ 13191135, "dev1", TRC_OP_READ, 0, 5 * 512, -1 },
		/* flags 3: bit 0 set, a read */
		{ 17829285, "dev1", TRC_OP_READ, INT64_C(576560) * 512, 6 * 512, -1 },
		{ 24314779, "dev2", TRC_OP_WRITE, 0, 24 * 512, -1 },
	  } },
};

enum { FIX_DISKSIM_MS = 5 }; /* also read with other time units */

static void check_fixture(const struct fixture_case *c)
{
	struct got g;
	read_all(c->file, c->format, &g);
	ck_assert_msg(g.rc == 0, "%s", g.d.msg);
	if (c->fmt)
		ck_assert_str_eq(g.fmt, c->fmt);
	ck_assert_int_eq(g.n, c->n);
	for (int i = 0; i < c->n; i++) {
		const struct rec_want *w = &c->rec[i];
		assert_rec(&g, i, w->t, w->vm, w->op, w->off, w->size, w->lat);
		if (c->line[i].on)
			ck_assert_int_eq(g.line[i], c->line[i].v);
	}
	if (c->n_vms.on)
		ck_assert_int_eq(g.n_vms, c->n_vms.v);
	if (c->skipped.on)
		ck_assert_uint_eq(g.skipped, c->skipped.v);
	if (c->reason)
		ck_assert_str_eq(g.reason, c->reason);
	if (c->attrs)
		assert_vm_attrs(c->file, c->fmt ? c->fmt : c->format, 0, c->attrs_vm,
				c->attrs);
	if (c->headerless) {
		struct got a;
		read_all(c->file, "auto", &a);
		ck_assert_str_ne(a.fmt, c->format);
	}
}

START_TEST(test_fixture)
{
	check_fixture(&fixtures[_i]);
}
END_TEST

START_TEST(test_disksim_ms_fixture)
{
	check_fixture(&fixtures[FIX_DISKSIM_MS]);
	/* fractions finer than 1 ns are truncated; microsecond units scale */
	struct got g;
	const char *p = write_tmp("us.trace",
				  "1.0000000009 0 0 1 1\n2.5 0 0 1 1\n", 33);
	struct trc_open_opts us = { 1000, 0 };
	read_opts(p, "disksim", &us, &g);
	ck_assert_msg(g.rc == 0, "%s", g.d.msg);
	ck_assert_int_eq(g.rec[1].t_ns, 1500);
	/* a huge unit: exact fixed-point scaling, no overflow in the fraction */
	p = write_tmp("h.trace", "0 0 0 1 1\n0.5 0 0 1 1\n1.25 0 0 1 1\n", 35);
	struct trc_open_opts hr = { INT64_C(3600000000000), 0 };
	read_opts(p, "disksim", &hr, &g);
	ck_assert_msg(g.rc == 0, "%s", g.d.msg);
	ck_assert_int_eq(g.rec[1].t_ns, INT64_C(1800000000000));
	ck_assert_int_eq(g.rec[2].t_ns, INT64_C(4500000000000));
}
END_TEST

/* ---- skipped operations, probing, options -------------------------------- */

START_TEST(test_vscsi_skips_and_opcodes)
{
	unsigned char b[7 * 32];
	v1rec(b + 0, 1, 512, 0x00, 0x0100, 1, 100);   /* TEST UNIT READY */
	v1rec(b + 32, 2, 512, 0x08, 0x0100, 2, 100);  /* READ(6) */
	v1rec(b + 64, 3, 0, 0x28, 0x0100, 3, 101);    /* zero-length read */
	v1rec(b + 96, 4, 1024, 0xaa, 0x0100, 4, 102); /* WRITE(12) */
	v1rec(b + 128, 5, 512, 0x35, 0x0100, 5, 103); /* SYNCHRONIZE CACHE */
	v1rec(b + 160, 6, 512, 0x1235, 0x0100, 5, 103); /* not an opcode */
	v1rec(b + 192, 7, 4096, 0x8a, 0x01ff, 6, 104);  /* WRITE(16), ver 0x01ff */
	struct got g;
	read_all(write_tmp("skip.vscsi", b, sizeof b), "vscsi", &g);
	ck_assert_msg(g.rc == 0, "%s", g.d.msg);
	ck_assert_int_eq(g.n, 3);
	/* the epoch is the first record's time, skipped or not */
	assert_rec(&g, 0, 0, "vm0", TRC_OP_READ, 2 * 512, 512, -1);
	assert_rec(&g, 1, 2000, "vm0", TRC_OP_WRITE, 4 * 512, 1024, -1);
	assert_rec(&g, 2, 4000, "vm0", TRC_OP_WRITE, 6 * 512, 4096, -1);
	ck_assert_uint_eq(g.skipped, 4);
	ck_assert_str_eq(g.reason, "SCSI 0x00 1, zero-size 1, SCSI 0x35 1, "
				   "SCSI > 0xff 1");
}
END_TEST

START_TEST(test_vscsi_skip_reason_other)
{
	unsigned char b[12 * 32];
	for (int i = 0; i < 10; i++) /* opcodes 0x10 .. 0x19, none R/W */
		v1rec(b + 32 * i, (uint32_t)i, 512, 0x10u + (unsigned)i, 0x0100,
		      1, 100);
	v1rec(b + 320, 10, 512, 0x10, 0x0100, 1, 100);
	v1rec(b + 352, 11, 512, 0x28, 0x0100, 1, 100);
	struct got g;
	read_all(write_tmp("other.vscsi", b, sizeof b), "vscsi", &g);
	ck_assert_msg(g.rc == 0, "%s", g.d.msg);
	ck_assert_int_eq(g.n, 1);
	ck_assert_uint_eq(g.skipped, 11);
	ck_assert_str_eq(g.reason, "SCSI 0x10 2, SCSI 0x11 1, SCSI 0x12 1, "
				   "SCSI 0x13 1, SCSI 0x14 1, SCSI 0x15 1, "
				   "SCSI 0x16 1, SCSI 0x17 1, other SCSI 2");
}
END_TEST

START_TEST(test_fio_zero_length_and_reason)
{
	const char *s = "fio version 2 iolog\n/f add\n/f read 0 0\n/f write 0 1\n"
			"/f sync 0 0\n";
	struct got g;
	read_all(write_tmp("z.iolog", s, strlen(s)), "fio", &g);
	ck_assert_msg(g.rc == 0, "%s", g.d.msg);
	ck_assert_int_eq(g.n, 1);
	ck_assert_uint_eq(g.skipped, 2);
	ck_assert_str_eq(g.reason, "sync 1, zero-size 1");
	ck_assert_str_eq(g.vm[0], "f");
}
END_TEST

START_TEST(test_fio_file_names)
{
	/* names that need mapping; a name of only separators; a long name */
	char s[600];
	char longname[200];
	memset(longname, 'x', sizeof longname);
	memcpy(longname, "/very/", 6);
	longname[150] = '\0';
	snprintf(s, sizeof s,
		 "fio version 3 iolog\n0 / add\n1 /a:b@c add\n2 %s add\n"
		 "3 / write 0 1\n4 /a:b@c write 0 1\n5 %s read 0 1\n",
		 longname, longname);
	struct got g;
	read_all(write_tmp("names.iolog", s, strlen(s)), "fio", &g);
	ck_assert_msg(g.rc == 0, "%s", g.d.msg);
	ck_assert_int_eq(g.n, 3);
	ck_assert_str_eq(g.vm[0], "file");
	ck_assert_str_eq(g.vm[1], "a_b_c");
	ck_assert_int_eq(strlen(g.vm[2]), 63); /* the last 63 characters */
	ck_assert_str_eq(g.vm[2], longname + 150 - 63);
	ck_assert_int_eq(g.rec[2].t_ns, 5000);
}
END_TEST

START_TEST(test_probe_headerless_not_claimed)
{
	static const char *const files[] = {
		FMT("msr_hm_web.csv"), FMT("spc_umass_like.spc"),
		FMT("disksim_ms.trace"),
		REAL("umass_websearch_disksim_ascii.trace"),
	};
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		struct got g;
		read_all(files[i], NULL, &g);
		ck_assert_str_ne(g.fmt, "msr");
		ck_assert_str_ne(g.fmt, "spc");
		ck_assert_str_ne(g.fmt, "disksim");
	}
	/* a v1 fio log with the (later) version line is claimed and refused */
	const char *p = write_tmp("v1.iolog", "fio version 1 iolog\n1, 0, 4096\n", 31);
	struct got g;
	read_all(p, "auto", &g);
	ck_assert_int_eq(g.rc, JV_EPARSE);
	ck_assert_ptr_nonnull(strstr(g.d.msg, "fio iolog version 1 is not supported"));
}
END_TEST

START_TEST(test_open_opts_unit_checked)
{
	struct trc_reader *r = NULL;
	struct jv_diag d;
	struct trc_open_opts oo = { -5, 0 };
	jv_diag_clear(&d);
	ck_assert_int_eq(trc_open_opts(FMT("disksim_ms.trace"), "disksim", &oo,
				       &r, &d), JV_EINVAL);
	ck_assert_ptr_null(r);
	ck_assert_ptr_nonnull(strstr(d.msg, "time unit: must be > 0 ns"));
	/* NULL options: the defaults */
	struct got g;
	read_opts(FMT("disksim_ms.trace"), "disksim", NULL, &g);
	ck_assert_int_eq(g.rc, 0);
	ck_assert_int_eq(g.rec[1].t_ns, 2500000);
}
END_TEST

/* The UTF-8 BOM trc_open skips is data in a binary trace. */
START_TEST(test_vscsi_bom_bytes_are_data)
{
	unsigned char b[64];
	v1rec(b, 0x00BFBBEF, 512, 0x28, 0x0100, 11, 1000);
	v1rec(b + 32, 2, 1024, 0x2a, 0x0100, 12, 1001);
	struct got g;
	read_all(write_tmp("bom.vscsi", b, sizeof b), "vscsi", &g);
	ck_assert_msg(g.rc == 0, "%s", g.d.msg);
	ck_assert_int_eq(g.n, 2);
	assert_rec(&g, 0, 0, "vm0", TRC_OP_READ, 11 * 512, 512, -1);
	assert_rec(&g, 1, 1000, "vm0", TRC_OP_WRITE, 12 * 512, 1024, -1);
}
END_TEST

START_TEST(test_vscsi_stdin)
{
	int fd = open(FMT("vscsi_v2_small.vscsi"), O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_ge(dup2(fd, STDIN_FILENO), 0);
	close(fd);
	struct got g;
	read_all("-", "vscsi", &g);
	ck_assert_msg(g.rc == 0, "%s", g.d.msg);
	ck_assert_int_eq(g.n, 3);
	/* an error on stdin names <stdin> */
	unsigned char b[40 + 7];
	v2rec(b, 0x28, 512, 1, 1, 1);
	memset(b + 40, 0, 7);
	fd = open(write_tmp("t.vscsi", b, sizeof b), O_RDONLY);
	ck_assert_int_ge(dup2(fd, STDIN_FILENO), 0);
	close(fd);
	read_all("-", "vscsi", &g);
	ck_assert_int_eq(g.rc, JV_EPARSE);
	ck_assert_str_eq(g.d.msg, "<stdin>: byte offset 40: truncated record "
				  "(7 of 40 bytes): the file size is not a "
				  "multiple of the vSCSI v2 record size");
}
END_TEST

/* Reader memory does not grow with the trace's length. */
START_TEST(test_streaming_constant_memory)
{
	const char *path = at("long.csv");
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	const long n = 200000;
	for (long i = 0; i < n; i++)
		fprintf(f, "%" PRId64 ",hm,%ld,%s,%ld,4096,%ld\n",
			INT64_C(128166372003061629) + i * 10, i % 3,
			i % 2 ? "Write" : "Read", i * 4096, i % 1000);
	ck_assert_int_eq(fclose(f), 0);
	struct trc_reader *r;
	struct trc_record rec;
	struct jv_diag d;
	jv_diag_clear(&d);
	ck_assert_int_eq(trc_open(path, "msr", &r, &d), 0);
	size_t mem0 = 0;
	long k = 0;
	int64_t sum = 0;
	int rc;
	while ((rc = trc_next(r, &rec, &d)) == 1) {
		if (k == 10)
			mem0 = trc_mem_bytes(r);
		sum += rec.u.blk.size_b;
		k++;
	}
	ck_assert_msg(rc == 0, "%s", d.msg);
	ck_assert_int_eq(k, n);
	ck_assert_int_eq(sum, (int64_t)n * 4096);
	ck_assert_uint_eq(trc_mem_bytes(r), mem0);
	ck_assert_int_eq(trc_n_vms(r), 3);
	trc_close(r);
}
END_TEST

/* ---- errors ---------------------------------------------------------------- */

struct err_case {
	const char *format;
	const char *content;
	int code;
	long line;        /* "FILE:LINE: "; 0: "FILE: " */
	const char *frag; /* message fragment */
};

static const char long_host[] =
	"h123456789012345678901234567890123456789012345678901234567890x";

static const struct err_case text_errors[] = {
	/* msr */
	{ "msr", "1,hm,0,Read,0,512\n", JV_EPARSE, 1,
	  "expected 7 fields (Timestamp,Hostname,DiskNumber,Type,Offset,Size,ResponseTime), found 6" },
	{ "msr", "1,hm,0,Read,0,512,1,9\n", JV_EPARSE, 1, "found 8" },
	{ "msr", "1,hm,0,Read,0,512,1\n2,hm,0,Flush,0,512,1\n", JV_EPARSE, 2,
	  "Type: expected 'Read' or 'Write', found 'Flush'" },
	{ "msr", "12a,hm,0,Read,0,512,1\n", JV_EPARSE, 1,
	  "Timestamp: not an unsigned integer '12a'" },
	{ "msr", "1,hm,0,Read,-4096,512,1\n", JV_ERANGE, 1,
	  "Offset: negative value '-4096'" },
	{ "msr", "1,hm,0,Read,0,99999999999999999999,1\n", JV_ERANGE, 1,
	  "Size: out of range '99999999999999999999' (max 9223372036854775807)" },
	{ "msr", "1,hm,,Read,0,512,1\n", JV_EPARSE, 1,
	  "DiskNumber: empty field, expected an unsigned integer" },
	{ "msr", "1,h m,0,Read,0,512,1\n", JV_EPARSE, 1,
	  "Hostname: invalid host name 'h m'" },
	{ "msr", "1,,0,Read,0,512,1\n", JV_EPARSE, 1, "Hostname: empty field" },
	{ "msr", "200,hm,0,Read,0,512,1\n300,hm,0,Read,0,512,1\n100,hm,1,Write,0,512,1\n",
	  JV_EORDER, 3, "Timestamp: time goes backwards (100 < 300 at line 2)" },
	{ "msr", "1,hm,1000000,Read,0,512,1\n", JV_ERANGE, 1,
	  "DiskNumber: out of range '1000000' (max 999999)" },
	{ "msr", "1,hm,0,Read,9223372036854775807,1,1\n", JV_ERANGE, 1,
	  "Size: request end Offset + Size beyond" },
	{ "msr", "1,hm,0,Read,0,1,92233720368547759\n", JV_ERANGE, 1,
	  "ResponseTime: out of range" },
	{ "msr", "0,hm,0,Read,0,1,1\n92233720368547759,hm,0,Read,0,1,1\n",
	  JV_ERANGE, 2, "Timestamp: 92233720368547759 is too far from" },
	{ "msr", "1,hm,0,Read,0,1,1\nTimestamp,Hostname,DiskNumber,Type,Offset,Size,ResponseTime\n",
	  JV_EPARSE, 2, "Timestamp: not an unsigned integer 'Timestamp'" },
	{ "msr", "1,hm,0,Read,0,1,1\n1,hm,0,Re\tad,0,1,1\n", JV_EPARSE, 2,
	  "Type: expected 'Read' or 'Write', found 'Re?ad'" },
	/* spc */
	{ "spc", "0,1,512,r\n", JV_EPARSE, 1,
	  "expected at least 5 fields (ASU,LBA,Size,Opcode,Timestamp[,...]), found 4" },
	{ "spc", "0,1,512,x,0.0\n", JV_EPARSE, 1,
	  "Opcode: expected 'R', 'r', 'W' or 'w', found 'x'" },
	{ "spc", "0,1,512,rw,0.0\n", JV_EPARSE, 1, "Opcode: expected" },
	{ "spc", "0,1,512,r,1e-3\n", JV_EPARSE, 1,
	  "Timestamp: not a decimal number of seconds '1e-3'" },
	{ "spc", "0,1,512,r,-0.5\n", JV_ERANGE, 1, "Timestamp: negative value '-0.5'" },
	{ "spc", "0,1,512,r,.\n", JV_EPARSE, 1, "Timestamp: not a decimal number" },
	{ "spc", "0,1,512,r,1.2.3\n", JV_EPARSE, 1, "Timestamp: not a decimal number" },
	{ "spc", "0,1,512,r,\n", JV_EPARSE, 1, "Timestamp: empty field, expected seconds" },
	{ "spc", "0,1,512,r,9999999999999\n", JV_ERANGE, 1,
	  "Timestamp: out of range '9999999999999' (max 9223372036 s)" },
	{ "spc", "0,1,512,r,1.5\n0,1,512,r,1.25\n", JV_EORDER, 2,
	  "Timestamp: time goes backwards (1.250000000 s < 1.500000000 s at line 1)" },
	{ "spc", "1000000,1,512,r,0\n", JV_ERANGE, 1, "ASU: out of range '1000000'" },
	{ "spc", ",1,512,r,0\n", JV_EPARSE, 1, "ASU: empty field" },
	{ "spc", "0,18014398509481984,512,r,0\n", JV_ERANGE, 1,
	  "LBA: out of range '18014398509481984' (max 18014398509481983)" },
	{ "spc", "0,18014398509481983,1024,r,0\n", JV_ERANGE, 1,
	  "Size: request end LBA * 512 + Size beyond" },
	{ "spc", "0,1,5x,r,0\n", JV_EPARSE, 1, "Size: not an unsigned integer '5x'" },
	/* disksim */
	{ "disksim", "0 0 0 8\n", JV_EPARSE, 1,
	  "expected 5 fields (time device lba size_sectors type), found 4" },
	{ "disksim", "0 0 0 8 1 9\n", JV_EPARSE, 1, "found 6" },
	{ "disksim", "abc 0 0 8 1\n", JV_EPARSE, 1, "time: not a decimal number 'abc'" },
	{ "disksim", "-1.5 0 0 8 1\n", JV_ERANGE, 1, "time: negative value '-1.5'" },
	{ "disksim", "0 -1 0 8 1\n", JV_ERANGE, 1, "device: negative value '-1'" },
	{ "disksim", "0 0 0 8 x\n", JV_EPARSE, 1, "type: not an unsigned integer 'x'" },
	{ "disksim", "0 0 0 8 4294967296\n", JV_ERANGE, 1, "type: out of range" },
	{ "disksim", "5 0 0 8 1\n4.9 0 0 8 1\n", JV_EORDER, 2,
	  "time: time goes backwards (4900000 ns < 5000000 ns at line 1)" },
	{ "disksim", "9223372036855 0 0 8 1\n", JV_ERANGE, 1,
	  "time: out of range '9223372036855' (at most 9223372036854775807 ns at a unit of 1000000 ns)" },
	{ "disksim", "0 0 18014398509481983 1 1\n", JV_ERANGE, 1,
	  "size_sectors: request end (lba + size) * 512 beyond" },
	{ "disksim", "0 1000000 0 8 1\n", JV_ERANGE, 1, "device: out of range '1000000'" },
	{ "disksim", "0,0,0,8,1\n", JV_EPARSE, 1, "found 1" },
	/* fio */
	{ "fio", "1, 0, 4096\n0, 4096, 4096\n", JV_EPARSE, 1,
	  "fio iolog version 1 ('rw, offset, length' lines without a header) is not supported" },
	{ "fio", "fio version 1 iolog\n", JV_EPARSE, 1,
	  "fio iolog version 1 is not supported (fio itself dropped it in 1.20; supported: 2, 3)" },
	{ "fio", "fio version 4 iolog\n", JV_EPARSE, 1,
	  "unsupported fio iolog version '4' (supported: 2, 3;" },
	{ "fio", "hello\n", JV_EPARSE, 1,
	  "expected first line 'fio version 2 iolog' or 'fio version 3 iolog', found 'hello'" },
	{ "fio", "fio version 2 iolog\n/f add\n/f frob 0 1\n", JV_EPARSE, 3,
	  "action: unknown action 'frob' (expected add, open, close, read, write, trim, sync, datasync, wait)" },
	{ "fio", "fio version 2 iolog\n/f add\n/f read\n", JV_EPARSE, 3,
	  "action 'read': expected 4 fields ('FILE read OFFSET LENGTH'), found 2" },
	{ "fio", "fio version 3 iolog\n1 /f add 0 1\n", JV_EPARSE, 2,
	  "action 'add': expected 3 fields ('TIMESTAMP FILE add'), found 5" },
	{ "fio", "fio version 2 iolog\n/f add\n/g read 0 512\n", JV_EPARSE, 3,
	  "file: '/g' used before '/g add'" },
	{ "fio", "fio version 2 iolog\n/f open\n", JV_EPARSE, 2,
	  "file: '/f' used before '/f add'" },
	{ "fio", "fio version 3 iolog\n1 /f add\n2 /f wait 100 0\n", JV_EPARSE, 3,
	  "action: 'wait' is not allowed in fio iolog version 3" },
	{ "fio", "fio version 3 iolog\n10 /f add\n9 /f open\n", JV_EORDER, 3,
	  "timestamp: time goes backwards (9 us < 10 us at line 2)" },
	{ "fio", "fio version 3 iolog\n/f add\n", JV_EPARSE, 2,
	  "expected 'TIMESTAMP FILE ACTION [OFFSET LENGTH]', found 2 fields" },
	{ "fio", "fio version 3 iolog\nabc /f add\n", JV_EPARSE, 2,
	  "timestamp: not an unsigned integer 'abc'" },
	{ "fio", "fio version 2 iolog\n/a/b add\n/a_b add\n", JV_EPARSE, 3,
	  "file: '/a_b' and '/a/b' both give VM name 'a_b'; rename one of them" },
	{ "fio", "fio version 2 iolog\n/a,b add\n", JV_EPARSE, 2,
	  "file: name '/a,b' contains ','" },
	{ "fio", "fio version 2 iolog\n/f add\n/f read -1 512\n", JV_ERANGE, 3,
	  "offset: negative value '-1'" },
	{ "fio", "fio version 2 iolog\n/f add\n/f wait 9223372036854775 0\n/f wait 1 0\n",
	  JV_ERANGE, 4, "offset: waits add up to more than 9223372036854775 us" },
	{ "fio", "fio version 2 iolog\n/f add\n/f read 9223372036854775807 1\n",
	  JV_ERANGE, 3, "length: request end OFFSET + LENGTH beyond" },
	{ "fio", "fio version 2 iolog\n/f\n", JV_EPARSE, 2,
	  "expected 'FILE ACTION [OFFSET LENGTH]', found 1 field" },
	{ "fio", "fio version 3 iolog\n0 /f add\n9223372036854776 /f open\n", JV_ERANGE, 3,
	  "timestamp: 9223372036854776 us is more than 9223372036854775 us after" },
	/* shared line reader */
	{ "disksim", "   \n\t\n", JV_EEMPTY, 0, "empty file" },
};

START_TEST(test_text_errors)
{
	const struct err_case *c = &text_errors[_i];
	char name[32];
	snprintf(name, sizeof name, "e%d.txt", _i);
	const char *path = write_tmp(name, c->content, strlen(c->content));
	struct got g;
	read_all(path, c->format, &g);
	ck_assert_msg(g.rc == c->code, "case %d (%s): rc %d (%s), want %d",
		      _i, c->format, g.rc, g.d.msg, c->code);
	ck_assert_int_eq(g.d.err, c->code);
	assert_msg_at(c->content, g.d.msg, path, c->line, "");
	ck_assert_msg(strstr(g.d.msg, c->frag) != NULL,
		      "case %d: '%s' lacks '%s'", _i, g.d.msg, c->frag);
}
END_TEST

START_TEST(test_text_nul_byte)
{
	static const char s[] = "1,hm,0,Read,0,1,1\n1,hm,0,R\0ad,0,1,1\n";
	struct got g;
	const char *path = write_tmp("nul.csv", s, sizeof s - 1);
	read_all(path, "msr", &g);
	ck_assert_int_eq(g.rc, JV_EPARSE);
	ck_assert_int_eq(g.n, 1);
	char want[600];
	snprintf(want, sizeof want, "%s:2: NUL byte in line (column 9)", path);
	ck_assert_str_eq(g.d.msg, want);
}
END_TEST

START_TEST(test_text_too_long_line)
{
	size_t n = 70000;
	char *s = malloc(n + 2);
	ck_assert_ptr_nonnull(s);
	memset(s, '1', n);
	s[n] = '\n';
	s[n + 1] = '\0';
	static const char *const fmts[] = { "msr", "spc", "disksim" };
	for (int i = 0; i < 3; i++) {
		struct got g;
		read_all(write_tmp("long.txt", s, n + 1), fmts[i], &g);
		ck_assert_int_eq(g.rc, JV_ELIMIT);
		ck_assert_ptr_nonnull(strstr(g.d.msg, ":1: line too long"));
	}
	free(s);
}
END_TEST

START_TEST(test_msr_long_vm_name)
{
	char s[200];
	snprintf(s, sizeof s, "1,%s,0,Read,0,512,1\n", long_host);
	struct got g;
	read_all(write_tmp("lh.csv", s, strlen(s)), "msr", &g);
	ck_assert_int_eq(g.rc, JV_ELIMIT);
	ck_assert_ptr_nonnull(strstr(g.d.msg, ":1: Hostname: VM name '"));
	ck_assert_ptr_nonnull(strstr(g.d.msg, "too long (at most 63 characters"));
	/* one character less fits: 61 + "_0" = 63 */
	snprintf(s, sizeof s, "1,%.61s,0,Read,0,512,1\n", long_host);
	read_all(write_tmp("lh2.csv", s, strlen(s)), "msr", &g);
	ck_assert_msg(g.rc == 0, "%s", g.d.msg);
	ck_assert_int_eq(strlen(g.vm[0]), 63);
}
END_TEST

START_TEST(test_vm_limit)
{
	/* 65537 distinct devices: the 65537th is refused */
	const char *path = at("many.trace");
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	for (int i = 0; i <= 65536; i++)
		fprintf(f, "%d %d 0 1 1\n", i, i);
	ck_assert_int_eq(fclose(f), 0);
	struct got g;
	read_all(path, "disksim", &g);
	ck_assert_int_eq(g.rc, JV_ELIMIT);
	ck_assert_int_eq(g.n, 65536);
	ck_assert_ptr_nonnull(strstr(g.d.msg, ":65537: device: too many distinct "
					      "devices (more than 65536 VM names) at 'dev65536'"));
}
END_TEST

struct bin_case {
	const char *what;
	int code;
	const char *msg; /* after "FILE: " */
};

/* Builds binary case i into b; returns its length. */
static size_t bin_case_build(int i, unsigned char *b)
{
	switch (i) {
	case 0: /* truncated: 2 records and 5 bytes */
		v1rec(b, 1, 512, 0x28, 0x0100, 1, 10);
		v1rec(b + 32, 2, 512, 0x28, 0x0100, 1, 10);
		memset(b + 64, 0, 5);
		return 69;
	case 1: /* shorter than a record */
		memset(b, 1, 10);
		return 10;
	case 2: /* not vSCSI */
		memset(b, 'A', 64);
		return 64;
	case 3: /* garbled version in record 3 */
		v1rec(b, 1, 512, 0x28, 0x0100, 1, 10);
		v1rec(b + 32, 2, 512, 0x28, 0x0100, 1, 10);
		v1rec(b + 64, 3, 512, 0x28, 0x0000, 1, 10);
		return 96;
	case 4: /* time going backwards */
		v1rec(b, 1, 512, 0x28, 0x0100, 1, 10);
		v1rec(b + 32, 2, 512, 0x28, 0x0100, 1, 9);
		return 64;
	case 5: /* lbn beyond 2^63 bytes */
		v1rec(b, 1, 512, 0x28, 0x0100, UINT64_C(1) << 55, 10);
		return 32;
	case 6: /* v2 response time out of range */
		v2rec(b, 0x28, 512, 1, 10, UINT64_MAX);
		return 40;
	case 7: /* ts span beyond int64 ns */
		v1rec(b, 1, 512, 0x28, 0x0100, 1, 0);
		v1rec(b + 32, 2, 512, 0x28, 0x0100, 1, UINT64_C(9223372036854776));
		return 64;
	case 8: /* only the time of a skipped record goes backwards: still an error */
		v1rec(b, 1, 512, 0x28, 0x0100, 1, 10);
		v1rec(b + 32, 2, 0, 0x00, 0x0100, 0, 5);
		return 64;
	default: /* truncated v2 */
		v2rec(b, 0x28, 512, 1, 10, 1);
		v2rec(b + 40, 0x2a, 512, 1, 11, 1);
		memset(b + 80, 0, 39);
		return 119;
	}
}

static const struct bin_case bin_errors[] = {
	{ "truncated", JV_EPARSE, "byte offset 64: truncated record (5 of 32 bytes): "
				  "the file size is not a multiple of the vSCSI v1 record size" },
	{ "short", JV_EPARSE, "byte offset 0: truncated record (10 bytes, a vSCSI v1 record has 32)" },
	{ "not vscsi", JV_EPARSE, "byte offset 0: not a CloudPhysics vSCSI trace: version "
				  "field 0x4141 at byte 14 (v1 expects 0x01xx), nor 0x02xx at byte 2 (v2)" },
	{ "garbled", JV_EPARSE, "byte offset 64: ver: 0x0000 is not a vSCSI v1 record version (0x0100)" },
	{ "backwards", JV_EORDER, "byte offset 32: ts: time goes backwards (9 us < 10 us at byte offset 0)" },
	{ "lbn", JV_ERANGE, "byte offset 0: lbn: 36028797018963968 * 512 + len 512 beyond" },
	{ "rt", JV_ERANGE, "byte offset 0: rt: out of range (18446744073709551615 us, max 9223372036854775 us)" },
	{ "span", JV_ERANGE, "byte offset 32: ts: 9223372036854776 us is more than 9223372036854775 us after" },
	{ "skipped backwards", JV_EORDER, "byte offset 32: ts: time goes backwards (5 us < 10 us" },
	{ "truncated v2", JV_EPARSE, "byte offset 80: truncated record (39 of 40 bytes)" },
};

START_TEST(test_vscsi_errors)
{
	unsigned char b[256];
	size_t n = bin_case_build(_i, b);
	char name[32];
	snprintf(name, sizeof name, "b%d.vscsi", _i);
	const char *path = write_tmp(name, b, n);
	struct got g;
	read_all(path, "vscsi", &g);
	ck_assert_msg(g.rc == bin_errors[_i].code, "case %s: rc %d (%s)",
		      bin_errors[_i].what, g.rc, g.d.msg);
	assert_msg_at(bin_errors[_i].what, g.d.msg, path, 0, bin_errors[_i].msg);
}
END_TEST

/* After an error, trc_next keeps returning it (sticky), no records. */
START_TEST(test_error_sticky)
{
	const char *s = "1,hm,0,Read,0,1,1\nbad\n2,hm,0,Read,0,1,1\n";
	const char *path = write_tmp("sticky.csv", s, strlen(s));
	struct trc_reader *r;
	struct trc_record rec;
	struct jv_diag d;
	jv_diag_clear(&d);
	ck_assert_int_eq(trc_open(path, "msr", &r, &d), 0);
	ck_assert_int_eq(trc_next(r, &rec, &d), 1);
	ck_assert_int_eq(trc_next(r, &rec, &d), JV_EPARSE);
	struct jv_diag d2;
	jv_diag_clear(&d2);
	ck_assert_int_eq(trc_next(r, &rec, &d2), JV_EPARSE);
	ck_assert_str_eq(d.msg, d2.msg);
	trc_close(r);
}
END_TEST

/* ---- suite ----------------------------------------------------------------- */

static Suite *fmt_block_suite(void)
{
	Suite *s = suite_create("fmt_block");
	TCase *tc = tmp_tcase("golden");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_vscsi_golden_counts);
	tcase_add_test(tc, test_vscsi_matches_csv);
	tcase_add_test(tc, test_disksim_websearch_ns);
	tcase_add_test(tc, test_disksim_tpcc_units);
	tcase_add_test(tc, test_fio_v3_golden);
	suite_add_tcase(s, tc);

	tc = tmp_tcase("fixtures");
	tcase_add_loop_test(tc, test_fixture, 0, FIX_DISKSIM_MS);
	tcase_add_test(tc, test_disksim_ms_fixture);
	suite_add_tcase(s, tc);

	tc = tmp_tcase("behaviour");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_vscsi_skips_and_opcodes);
	tcase_add_test(tc, test_vscsi_skip_reason_other);
	tcase_add_test(tc, test_fio_zero_length_and_reason);
	tcase_add_test(tc, test_fio_file_names);
	tcase_add_test(tc, test_probe_headerless_not_claimed);
	tcase_add_test(tc, test_open_opts_unit_checked);
	tcase_add_test(tc, test_vscsi_bom_bytes_are_data);
	tcase_add_test(tc, test_vscsi_stdin);
	tcase_add_test(tc, test_streaming_constant_memory);
	tcase_add_test(tc, test_error_sticky);
	suite_add_tcase(s, tc);

	tc = tmp_tcase("errors");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_text_errors, 0,
			    (int)(sizeof text_errors / sizeof text_errors[0]));
	tcase_add_test(tc, test_text_nul_byte);
	tcase_add_test(tc, test_text_too_long_line);
	tcase_add_test(tc, test_msr_long_vm_name);
	tcase_add_test(tc, test_vm_limit);
	tcase_add_loop_test(tc, test_vscsi_errors, 0,
			    (int)(sizeof bin_errors / sizeof bin_errors[0]));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(fmt_block_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
