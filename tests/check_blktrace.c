/*
 * check_blktrace: the blktrace binary and blkparse text readers
 * (traces/fmt_blktrace.c, traces/fmt_blkparse.c, engine traces/fmt_blk.c).
 *
 * Golden tests on the real samples in tests/fixtures/real/blockio/ (see
 * PROVENANCE.md there; the expected numbers were derived independently from
 * the raw events with a short script: Q/D/C counts per attribution class,
 * byte totals, latency sums): the NVMe binary trace and its blkparse
 * rendering import to identical records; the 8 per-CPU files of the keks
 * trace merge by time; the LevelDB capture (completions only) is rejected
 * by the default reorder window and imports with a larger one. Then the
 * engine's rules (attribution, completion matching, skips, names) and
 * every error class on small generated inputs.
 */
#define _XOPEN_SOURCE 700 /* nftw (check_tmpdir.h) */
#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "traces/trc.h"

#define CK_TMP_PREFIX "check_blktrace"
#include "check_trc_fixture.h"

#ifndef JV_FIXTURES
#define JV_FIXTURES "tests/fixtures"
#endif
#define FX JV_FIXTURES "/real/blockio/"
#define NVME_BIN FX "nvme_sample.blktrace.0"
#define NVME_TXT FX "nvme_sample.blkparse.DERIVED.txt"
#define KEKS FX "sdd4_keks_blktrace/keks"
#define LEVELDB FX "leveldb_ramdisk_blkparse.txt"

#define WARN_B 8192
#define HDR_B 48

/* ---- helpers ------------------------------------------------------------ */

/* What reading a whole trace gave. */
struct sum {
	int open_rc, rc;    /* trc_open, last trc_next */
	long n, reads, writes, with_lat;
	int64_t bytes, lat_sum, first_t, last_t;
	int sorted;
	int vms;
	uint64_t skipped;
	char skip_reason[256];
	char fmt[32];
	struct jv_diag d;
	char warn[WARN_B];  /* stderr while reading */
};

static void read_all(const char *path, const char *fmt, int64_t window_ns,
		     struct sum *s)
{
	memset(s, 0, sizeof *s);
	s->sorted = 1;
	s->first_t = -1;
	jv_diag_clear(&s->d);
	fflush(stderr);
	int saved = dup(2);
	FILE *tf = tmpfile();
	ck_assert_ptr_nonnull(tf);
	dup2(fileno(tf), 2);
	struct trc_open_opts o = { 0, window_ns };
	struct trc_reader *r = NULL;
	s->open_rc = trc_open_opts(path, fmt, &o, &r, &s->d);
	if (s->open_rc == 0) {
		struct trc_record rec;
		int64_t prev = -1;
		while ((s->rc = trc_next(r, &rec, &s->d)) == 1) {
			const struct trc_blk *b = &rec.u.blk;
			ck_assert_int_eq(rec.kind, TRC_BLK);
			ck_assert_ptr_nonnull(trc_vm_name(r, b->vm));
			if (s->n == 0)
				s->first_t = b->t_ns;
			if (b->t_ns < prev)
				s->sorted = 0;
			prev = s->last_t = b->t_ns;
			s->n++;
			s->bytes += b->size_b;
			s->reads += b->op == TRC_OP_READ;
			s->writes += b->op == TRC_OP_WRITE;
			if (b->latency_ns >= 0) {
				s->with_lat++;
				s->lat_sum += b->latency_ns;
			}
		}
		const char *why;
		s->skipped = trc_skipped(r, &why);
		snprintf(s->skip_reason, sizeof s->skip_reason, "%s", why);
		snprintf(s->fmt, sizeof s->fmt, "%s", trc_format_name(r));
		s->vms = trc_n_vms(r);
		trc_close(r);
	}
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(tf);
	size_t k = fread(s->warn, 1, sizeof s->warn - 1, tf);
	s->warn[k] = '\0';
	fclose(tf);
}

/* Both traces yield the same records (and VM names, attrs). */
static long same_records(const char *a, const char *fa, const char *b,
			 const char *fb)
{
	struct trc_reader *ra, *rb;
	struct jv_diag d;
	jv_diag_clear(&d);
	ck_assert_int_eq(trc_open(a, fa, &ra, &d), 0);
	ck_assert_int_eq(trc_open(b, fb, &rb, &d), 0);
	struct trc_record x, y;
	long n = 0;
	int rx, ry;
	while ((rx = trc_next(ra, &x, &d)) == 1) {
		ry = trc_next(rb, &y, &d);
		ck_assert_int_eq(ry, 1);
		ck_assert_int_eq(x.u.blk.t_ns, y.u.blk.t_ns);
		ck_assert_str_eq(trc_vm_name(ra, x.u.blk.vm),
				 trc_vm_name(rb, y.u.blk.vm));
		ck_assert_str_eq(trc_vm_attrs(ra, x.u.blk.vm),
				 trc_vm_attrs(rb, y.u.blk.vm));
		ck_assert_int_eq(x.u.blk.op, y.u.blk.op);
		ck_assert_int_eq(x.u.blk.offset_b, y.u.blk.offset_b);
		ck_assert_int_eq(x.u.blk.size_b, y.u.blk.size_b);
		ck_assert_int_eq(x.u.blk.latency_ns, y.u.blk.latency_ns);
		ck_assert_int_eq(x.u.blk.disk, y.u.blk.disk);
		n++;
	}
	ck_assert_int_eq(rx, 0);
	ck_assert_int_eq(trc_next(rb, &y, &d), 0);
	trc_close(ra);
	trc_close(rb);
	return n;
}

/* ---- golden: real samples -------------------------------------------- */

START_TEST(test_nvme_binary_golden)
{
	struct sum s;
	read_all(NVME_BIN, NULL, 0, &s); /* auto: probed */
	ck_assert_int_eq(s.open_rc, 0);
	ck_assert_int_eq(s.rc, 0);
	ck_assert_str_eq(s.fmt, "blktrace");
	ck_assert_int_eq(s.n, 963);           /* PROVENANCE: 963 requests */
	ck_assert_int_eq(s.reads, 963);
	ck_assert_int_eq(s.bytes, 963 * 4096);
	ck_assert_int_eq(s.with_lat, 963);    /* every Q has its C */
	ck_assert_int_eq(s.lat_sum, 54514424);
	ck_assert_int_eq(s.first_t, 0);
	ck_assert_int_eq(s.last_t, 345488313); /* 0.345488497 - 0.000000184 */
	ck_assert(s.sorted);
	ck_assert_int_eq(s.vms, 1);
	ck_assert_uint_eq(s.skipped, 0);
	ck_assert_str_eq(s.warn, ""); /* Q attribution: no warning */
}
END_TEST

START_TEST(test_nvme_binary_names)
{
	struct trc_reader *r = open_ok(NVME_BIN, "blktrace");
	struct jv_diag d = { 0 };
	struct trc_record rec;
	ck_assert_int_eq(trc_next(r, &rec, &d), 1);
	ck_assert_str_eq(trc_vm_name(r, rec.u.blk.vm), "21279");
	/* no notify record for 21279 in the capture: no comm */
	ck_assert_str_eq(trc_vm_attrs(r, rec.u.blk.vm), "pid=21279,device=259:0");
	ck_assert_int_eq(rec.u.blk.offset_b, 2348060440LL * 512);
	ck_assert_int_eq(rec.u.blk.latency_ns, 58336 - 1528); /* C - Q */
	ck_assert_int_eq(rec.u.blk.disk, 0);
	ck_assert_int_eq(rec.line, 64); /* byte offset of the Q event */
	trc_close(r);
}
END_TEST

START_TEST(test_nvme_binary_and_text_identical)
{
	ck_assert_int_eq(same_records(NVME_BIN, "blktrace", NVME_TXT, NULL), 963);
	struct sum s;
	read_all(NVME_TXT, NULL, 0, &s);
	ck_assert_str_eq(s.fmt, "blkparse"); /* probed */
	ck_assert_int_eq(s.n, 963);
}
END_TEST

START_TEST(test_keks_merged_by_prefix)
{
	struct sum s;
	read_all(KEKS, NULL, 0, &s); /* no file "keks": keks.blktrace.0..7 */
	ck_assert_int_eq(s.open_rc, 0);
	ck_assert_int_eq(s.rc, 0);
	ck_assert_str_eq(s.fmt, "blktrace");
	/* 2589 events: 1192 D (1158 writes, 24 flushes, 10 discards), 1206 C,
	 * 191 notify; no Q: attributed at D */
	ck_assert_int_eq(s.n, 1158);
	ck_assert_int_eq(s.writes, 1158);
	ck_assert_int_eq(s.bytes, 13099008);
	ck_assert_int_eq(s.with_lat, 1153);
	ck_assert_int_eq(s.lat_sum, 164786097);
	ck_assert_int_eq(s.last_t, 56331302352LL);
	ck_assert(s.sorted);
	ck_assert_int_eq(s.vms, 145);
	ck_assert_uint_eq(s.skipped, 34);
	ck_assert_str_eq(s.skip_reason, "discard 10, flush 24");
	ck_assert_ptr_nonnull(strstr(s.warn, "no queue (Q) events: 1158 requests "
					     "attributed at their issue (D) events"));
}
END_TEST

START_TEST(test_keks_merged_from_member)
{
	/* naming one per-CPU file, or BASE with the P.N rule, merges all */
	static const char *const paths[] = {
		KEKS ".blktrace.5", KEKS ".blktrace.0", KEKS ".blktrace",
	};
	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
		struct sum s;
		read_all(paths[i], "blktrace", 0, &s);
		ck_assert_int_eq(s.open_rc, 0);
		ck_assert_int_eq(s.rc, 0);
		ck_assert_int_eq(s.n, 1158);
		ck_assert_int_eq(s.lat_sum, 164786097);
	}
	ck_assert_int_eq(same_records(KEKS, NULL, KEKS ".blktrace.3", NULL), 1158);
}
END_TEST

START_TEST(test_keks_comm_from_notify)
{
	struct trc_reader *r = open_ok(KEKS, NULL);
	struct jv_diag d = { 0 };
	struct trc_record rec;
	while (trc_next(r, &rec, &d) == 1)
		;
	assert_vm_attrs_of(r, "899", "pid=899,comm=z_wr_int_1,device=8:52");
	trc_close(r);
}
END_TEST

START_TEST(test_keks_other_name_is_one_file)
{
	/* a name without the .blktrace.N pattern is one input: CPU 3 only */
	size_t n;
	unsigned char *b = slurp_n(KEKS ".blktrace.3", &n);
	const char *p = write_tmp("cpu3.bin", b, n);
	free(b);
	struct sum s;
	read_all(p, NULL, 0, &s);
	ck_assert_int_eq(s.rc, 0);
	ck_assert_int_eq(s.n, 259); /* 270 D: 259 writes, 6 discards, 5 flushes */
	ck_assert_int_eq(s.bytes, 2519040);
	ck_assert_int_eq(s.with_lat, 256);
	ck_assert_int_eq(s.lat_sum, 41713424);
	ck_assert_uint_eq(s.skipped, 11);
}
END_TEST

START_TEST(test_leveldb_default_window_rejects_anomaly)
{
	struct sum s;
	read_all(LEVELDB, NULL, 0, &s);
	ck_assert_int_eq(s.open_rc, 0);
	ck_assert_str_eq(s.fmt, "blkparse");
	ck_assert_int_eq(s.rc, JV_EORDER);
	ck_assert_int_eq(s.n, 0); /* nothing released: C-only decided at end */
	ck_assert_ptr_nonnull(strstr(s.d.msg, "leveldb_ramdisk_blkparse.txt:220: "
					      "time: 0.030248945 s is "));
	ck_assert_ptr_nonnull(strstr(s.d.msg, "(1266874889.670443241 s at line 219)"));
	ck_assert_ptr_nonnull(strstr(s.d.msg, "beyond the reorder window of "
					      "1.000000000 s"));
}
END_TEST

START_TEST(test_leveldb_large_window_imports_completions)
{
	struct sum s;
	read_all(LEVELDB, NULL, 2000000000LL * 1000000000LL, &s);
	ck_assert_int_eq(s.rc, 0);
	ck_assert_int_eq(s.n, 840);           /* 840 C lines */
	ck_assert_int_eq(s.writes, 840);      /* 816 WS + 24 W */
	ck_assert_int_eq(s.bytes, 431104);    /* 838 x 1 + 2 x 2 sectors */
	ck_assert_int_eq(s.with_lat, 0);
	ck_assert(s.sorted);
	ck_assert_int_eq(s.first_t, 0);
	/* the CPU 13 block with absolute times sorts last */
	ck_assert_int_eq(s.last_t, 1266874889670443241LL);
	ck_assert_int_eq(s.vms, 3);
	ck_assert_ptr_nonnull(strstr(s.warn, "only completion (C) events: 840 "
					     "requests attributed at their "
					     "completions"));
}
END_TEST

/* ---- engine rules on generated blkparse text ---------------------------- */

#define L(dev, cpu, seq, t, pid, a, rwbs, tail) \
	dev " " cpu " " seq " " t " " pid " " a " " rwbs " " tail "\n"

START_TEST(test_queue_issue_complete_latency)
{
	const char *p = write_tmp_str("qdc.txt",
		L("8,0", "0", "1", "0.000001000", "77", "Q", "R", "100 + 8 [fio]")
		L("8,0", "0", "2", "0.000001500", "77", "G", "R", "100 + 8 [fio]")
		L("8,0", "0", "3", "0.000002000", "77", "D", "R", "100 + 8 [fio]")
		L("8,0", "0", "4", "0.000009000", "0", "C", "R", "100 + 8 [0]"));
	struct trc_reader *r = open_ok(p, "blkparse");
	struct jv_diag d = { 0 };
	struct trc_record rec;
	ck_assert_int_eq(trc_next(r, &rec, &d), 1);
	ck_assert_int_eq(rec.line, 1);
	ck_assert_int_eq(rec.u.blk.t_ns, 0);
	ck_assert_int_eq(rec.u.blk.latency_ns, 8000);
	ck_assert_int_eq(rec.u.blk.offset_b, 51200);
	ck_assert_int_eq(rec.u.blk.size_b, 4096);
	ck_assert_int_eq(rec.u.blk.op, TRC_OP_READ);
	ck_assert_str_eq(trc_vm_name(r, rec.u.blk.vm), "77");
	ck_assert_str_eq(trc_vm_attrs(r, rec.u.blk.vm), "pid=77,comm=fio,device=8:0");
	ck_assert_int_eq(trc_next(r, &rec, &d), 0);
	trc_close(r);
}
END_TEST

/* Whole-trace reads of generated blkparse text and the figures they give. */
static const struct engine_case {
	const char *what, *file, *text;
	struct want rc, n, writes, with_lat, lat_sum, bytes, last_t, sorted,
		skipped;
	const char *warn;        /* fragment of the warnings */
	const char *skip_reason; /* the whole reason */
	const char *msg;         /* fragment of the error */
} engine_cases[] = {
	{ "issue fallback warns", "dc.txt",
	  L("8,16", "1", "1", "1.000000000", "5", "D", "W", "8 + 8 [kw]")
	  L("8,16", "1", "2", "1.000000100", "5", "D", "WS", "64 + 16 [kw]")
	  L("8,16", "1", "3", "1.000000500", "0", "C", "W", "8 + 8 [0]")
	  L("8,16", "1", "4", "1.000000900", "0", "C", "WS", "64 + 16 [0]"),
	  .rc = W(0), .n = W(2), .writes = W(2), .with_lat = W(2),
	  .lat_sum = W(500 + 800), .last_t = W(100),
	  .warn = "no queue (Q) events: 2 requests" },
	{ "completion only warns", "c.txt",
	  L("1,0", "15", "1", "0.500000000", "9", "C", "WS", "10 + 1 [0]")
	  L("1,0", "13", "1", "0.400000000", "9", "C", "W", "11 + 2 [0]"),
	  .rc = W(0), .n = W(2), .with_lat = W(0), .bytes = W(512 * 3),
	  .sorted = W(1), /* CPU 13's line came second but is earlier */
	  .last_t = W(100000000), .warn = "only completion (C) events: 2 " },
	{ "back merge chain completes both", "merge.txt",
	  L("8,0", "0", "1", "0.000001000", "7", "Q", "W", "100 + 8 [dd]")
	  L("8,0", "0", "2", "0.000002000", "7", "Q", "W", "108 + 8 [dd]")
	  L("8,0", "0", "3", "0.000002100", "7", "M", "W", "108 + 8 [dd]")
	  L("8,0", "0", "4", "0.000003000", "7", "D", "W", "100 + 16 [dd]")
	  L("8,0", "0", "5", "0.000010000", "0", "C", "W", "100 + 16 [0]"),
	  .n = W(2), .with_lat = W(2), .lat_sum = W(9000 + 8000) },
	{ "requeue is not a new request", "requeue.txt",
	  L("8,0", "0", "1", "0.000001000", "7", "D", "R", "100 + 8 [a]")
	  L("8,0", "0", "2", "0.000002000", "7", "R", "R", "100 + 8 [0]")
	  L("8,0", "0", "3", "0.000003000", "7", "D", "R", "100 + 8 [a]")
	  L("8,0", "0", "4", "0.000005000", "0", "C", "R", "100 + 8 [0]")
	  L("8,0", "0", "5", "0.000006000", "7", "D", "R", "100 + 8 [a]"),
	  .n = W(2), /* the re-issue is the same request */
	  .with_lat = W(1), .lat_sum = W(4000) },
	{ "same sector twice displaces", "twice.txt",
	  L("8,0", "0", "1", "0.000001000", "7", "Q", "W", "100 + 8 [a]")
	  L("8,0", "0", "2", "0.000002000", "7", "Q", "W", "100 + 8 [a]")
	  L("8,0", "0", "3", "0.000005000", "0", "C", "W", "100 + 8 [0]"),
	  .n = W(2), .with_lat = W(1), .lat_sum = W(3000) /* the newer one */ },
	{ "no completion within timeout", "timeout.txt",
	  L("8,0", "0", "1", "0.000000000", "7", "Q", "R", "100 + 8 [a]")
	  L("8,0", "0", "2", "40.000000000", "7", "Q", "R", "200 + 8 [a]")
	  L("8,0", "0", "3", "40.000001000", "0", "C", "R", "200 + 8 [0]")
	  L("8,0", "0", "4", "42.000000000", "0", "C", "R", "100 + 8 [0]"),
	  .n = W(2), .with_lat = W(1), /* the first gave up after 30 s */
	  .lat_sum = W(1000),
	  .warn = "1 requests without latency: no completion within 30 s" },
	{ "skips counted", "skips.txt",
	  L("8,0", "0", "1", "0.000001000", "7", "Q", "DS", "100 + 8 [a]")
	  L("8,0", "0", "2", "0.000002000", "7", "Q", "FWS", "[a]")
	  L("8,0", "0", "3", "0.000003000", "7", "Q", "N", "[a]")
	  L("8,0", "0", "4", "0.000004000", "7", "Q", "R", "36 (12 00 00 00 24 00) [smartctl]")
	  L("8,0", "0", "5", "0.000005000", "7", "Q", "FWFS", "300 + 8 [a]")
	  L("8,0", "0", "6", "0.000006000", "7", "Q", "WFS", "400 + 8 [a]"),
	  .rc = W(0), .n = W(2), /* a flush with data and a FUA write */
	  .writes = W(2), .skipped = W(4),
	  .skip_reason = "discard 1, flush 1, no-data 1, pass-through 1" },
	{ "summary stops events", "summary.txt",
	  L("8,0", "0", "1", "0.000001000", "7", "Q", "R", "0 + 8 [a]")
	  "CPU0 (8,0):\n"
	  " Reads Queued:           1,        4KiB\n"
	  L("8,0", "0", "2", "0.000002000", "7", "Q", "R", "8 + 8 [a]"),
	  .rc = W(JV_EPARSE),
	  .msg = "summary.txt:4: event line after the summary that starts at line 2" },
	{ "ignored actions and variants", "variants.txt",
	  L("259,0", "1", "1", "0.000000000", "21279", "A", "RA",
	    "2348060440 + 8 <- (259,3) 2345510680")
	  L("259,0", "1", "2", "0.000000184", "21279", "Q", "RA",
	    "2348060440 + 8 [(null)]")
	  L("259,0", "1", "3", "0.000001100", "21279", "P", "N", "[(null)]")
	  L("259,0", "1", "4", "0.000001290", "21279", "U", "N", "[(null)] 1")
	  L("259,0", "1", "5", "0.000001300", "21279", "UT", "N", "[(null)] 1")
	  L("259,0", "1", "6", "0.000001400", "21279", "X", "R", "5 / 9 [a]")
	  L("259,0", "1", "0", "0.000001500", "0", "m", "N", "cfq schedule dispatch")
	  L("259,0", "1", "-2", "0.000001676", "21279", "D", "RA",
	    "2348060440 + 8 [(null)]")
	  L("259,0", "1", "7", "0.000056992", "0", "C", "RA",
	    "2348060440 + 8 (   55316) [0]"),
	  .rc = W(0), .n = W(1), .lat_sum = W(56992 - 184) },
};

/* Each checked figure of s against c; one assertion, on the first
 * difference. */
static void check_sum(const struct engine_case *c, const struct sum *s)
{
	const struct {
		const char *name;
		int64_t got;
		struct want want;
	} f[] = {
		{ "rc", s->rc, c->rc }, { "n", s->n, c->n },
		{ "writes", s->writes, c->writes },
		{ "with_lat", s->with_lat, c->with_lat },
		{ "lat_sum", s->lat_sum, c->lat_sum }, { "bytes", s->bytes, c->bytes },
		{ "last_t", s->last_t, c->last_t }, { "sorted", s->sorted, c->sorted },
		{ "skipped", (int64_t)s->skipped, c->skipped },
	};
	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
		if (f[i].want.on && f[i].got != f[i].want.v)
			ck_abort_msg("%s: %s %" PRId64 ", expected %" PRId64 " (%s)",
				     c->what, f[i].name, f[i].got, f[i].want.v, s->d.msg);
	if (c->warn && !strstr(s->warn, c->warn))
		ck_abort_msg("%s: warnings '%s' lack '%s'", c->what, s->warn, c->warn);
	if (c->skip_reason && strcmp(s->skip_reason, c->skip_reason) != 0)
		ck_abort_msg("%s: skip reason '%s', expected '%s'", c->what,
			     s->skip_reason, c->skip_reason);
	if (c->msg && !strstr(s->d.msg, c->msg))
		ck_abort_msg("%s: error '%s' lacks '%s'", c->what, s->d.msg, c->msg);
}

START_TEST(test_engine_cases)
{
	const struct engine_case *c = &engine_cases[_i];
	struct sum s;
	read_all(write_tmp_str(c->file, c->text), NULL, 0, &s);
	check_sum(c, &s);
}
END_TEST

START_TEST(test_inflight_overflow_counted)
{
	enum { N = 16384 + 100 };
	size_t cap = (size_t)N * 80;
	char *t = malloc(cap), *w = t;
	for (int i = 0; i < N; i++)
		w += sprintf(w, "8,0 0 %d 0.%09d 7 Q R %d + 8 [a]\n", i + 1, i,
			     i * 8);
	const char *p = write_tmp("overflow.txt", t, (size_t)(w - t));
	free(t);
	struct sum s;
	read_all(p, NULL, 0, &s);
	ck_assert_int_eq(s.rc, 0);
	ck_assert_int_eq(s.n, N);
	ck_assert_int_eq(s.with_lat, 0);
	ck_assert(s.sorted);
	ck_assert_ptr_nonnull(strstr(s.warn, "100 requests without latency: more "
					     "than 16384 requests waited"));
}
END_TEST

START_TEST(test_process_names)
{
	static const struct {
		const char *tail, *attrs;
	} cases[] = {
		{ "0 + 8 [(null)]", "pid=7,device=8:0" },
		{ "0 + 8 [0]", "pid=7,comm=0,device=8:0" },
		{ "0 + 8 [fio]", "pid=7,comm=fio,device=8:0" },
		{ "0 + 8 [Web Content]", "pid=7,comm=Web Content,device=8:0" },
		{ "0 + 8 [a,b=c]", "pid=7,comm=a_b_c,device=8:0" },
		{ "0 + 8 []", "pid=7,device=8:0" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char text[256];
		snprintf(text, sizeof text, "8,0 0 1 0.000000001 7 Q R %s\n",
			 cases[i].tail);
		char name[32];
		snprintf(name, sizeof name, "names%zu.txt", i);
		const char *p = write_tmp_str(name, text);
		struct trc_reader *r = open_ok(p, NULL);
		struct jv_diag d = { 0 };
		struct trc_record rec;
		ck_assert_int_eq(trc_next(r, &rec, &d), 1);
		ck_assert_str_eq(trc_vm_attrs(r, rec.u.blk.vm), cases[i].attrs);
		trc_close(r);
	}
}
END_TEST

START_TEST(test_devices_are_disks)
{
	const char *p = write_tmp_str("disks.txt",
		L("8,16", "0", "1", "0.000001000", "7", "Q", "R", "0 + 8 [a]")
		L("259,0", "0", "2", "0.000002000", "8", "Q", "W", "0 + 8 [b]")
		L("8,16", "0", "3", "0.000003000", "8", "Q", "R", "8 + 8 [b]"));
	struct trc_reader *r = open_ok(p, NULL);
	struct jv_diag d = { 0 };
	struct trc_record rec;
	static const int disk[] = { 0, 1, 0 };
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(trc_next(r, &rec, &d), 1);
		ck_assert_int_eq(rec.u.blk.disk, disk[i]);
	}
	/* pid 8's device is that of its first request */
	ck_assert_str_eq(trc_vm_attrs(r, rec.u.blk.vm), "pid=8,comm=b,device=259:0");
	trc_close(r);
}
END_TEST

START_TEST(test_cpus_out_of_order_within_window)
{
	const char *p = write_tmp_str("cpus.txt",
		"Input file sda.blktrace.0 added\n"
		"Input file sda.blktrace.1 added\n"
		L("8,0", "1", "1", "0.900000000", "7", "Q", "R", "0 + 8 [a]")
		L("8,0", "0", "1", "0.100000000", "8", "Q", "R", "8 + 8 [b]")
		L("8,0", "1", "2", "1.000000000", "7", "Q", "R", "16 + 8 [a]")
		L("8,0", "0", "2", "0.500000000", "8", "Q", "R", "24 + 8 [b]")
		"\n"
		"CPU0 (8,0):\n"
		" Reads Queued:           2,        8KiB\t Writes Queued:           0,        0KiB\n"
		"CPU1 (8,0):\n"
		"Total (8,0):\n"
		"Throughput (R/W): 11165KiB/s / 0KiB/s\n"
		"Events (8,0): 4 entries\n"
		"Skips: 0 forward (0 -   0.0%)\n");
	struct trc_reader *r = open_ok(p, NULL);
	struct jv_diag d = { 0 };
	struct trc_record rec;
	ck_assert_str_eq(trc_format_name(r), "blkparse");
	static const int64_t t[] = { 0, 400000000, 800000000, 900000000 };
	static const long line[] = { 4, 6, 3, 5 };
	for (int i = 0; i < 4; i++) {
		ck_assert_int_eq(trc_next(r, &rec, &d), 1);
		ck_assert_int_eq(rec.u.blk.t_ns, t[i]);
		ck_assert_int_eq(rec.line, line[i]);
	}
	ck_assert_int_eq(trc_next(r, &rec, &d), 0);
	trc_close(r);
}
END_TEST

START_TEST(test_window_option)
{
	const char *p = write_tmp_str("window.txt",
		L("8,0", "1", "1", "3.000000000", "7", "Q", "R", "0 + 8 [a]")
		L("8,0", "0", "1", "1.000000000", "8", "Q", "R", "8 + 8 [b]"));
	struct sum s;
	read_all(p, NULL, 0, &s); /* 2 s back, default window 1 s */
	ck_assert_int_eq(s.rc, JV_EORDER);
	ck_assert_ptr_nonnull(strstr(s.d.msg, "window.txt:2: time: 1.000000000 s "
					      "is 2.000000000 s before the latest "
					      "event (3.000000000 s at line 1)"));
	read_all(p, NULL, 2000000000LL, &s);
	ck_assert_int_eq(s.rc, 0);
	ck_assert_int_eq(s.n, 2);
	read_all(p, NULL, -1, &s);
	ck_assert_int_eq(s.open_rc, JV_EINVAL);
	ck_assert_ptr_nonnull(strstr(s.d.msg, "reorder window: must be >= 0 ns"));
}
END_TEST

/* ---- blkparse error classes ------------------------------------------- */

static const struct {
	const char *text;
	int err;
	const char *msg; /* after "FILE:" */
} text_errors[] = {
	{ "hello world\n", JV_EPARSE,
	  ":1: expected a blkparse event 'maj,min cpu seq sec.nsec pid action "
	  "rwbs ...', found 'hello world'" },
	{ "8,0 0 1 0.000000001 7 Q R 0 + 8 [a]\ngarbage here\n", JV_EPARSE,
	  ":2: expected a blkparse event" },
	{ "8,0 0 1 0.000000001 7\n", JV_EPARSE,
	  ":1: expected at least 7 fields 'maj,min cpu seq sec.nsec pid action "
	  "rwbs ...', found 5" },
	{ "8,0 x 1 0.000000001 7 Q R 0 + 8 [a]\n", JV_EPARSE,
	  ":1: cpu: not an unsigned integer 'x'" },
	{ "8,0 0 1z 0.000000001 7 Q R 0 + 8 [a]\n", JV_EPARSE,
	  ":1: sequence: not an integer '1z'" },
	{ "8,0 0 1 0.00000001 7 Q R 0 + 8 [a]\n", JV_EPARSE,
	  ":1: time: expected 'seconds.nanoseconds' with 9 digits after the "
	  "point, found '0.00000001'" },
	{ "8,0 0 1 9223372036.000000000 7 Q R 0 + 8 [a]\n", JV_ERANGE,
	  ":1: time: out of range (at most 9223372035 s) '9223372036.000000000'" },
	{ "8,0 0 1 0.000000001 -7 Q R 0 + 8 [a]\n", JV_EPARSE,
	  ":1: pid: not an unsigned 32-bit integer '-7'" },
	{ "8,0 0 1 0.000000001 7 Z R 0 + 8 [a]\n", JV_EPARSE,
	  ":1: action: unknown (known: A B C D F G I M P Q R S T U UT X m) 'Z'" },
	{ "8,0 0 1 0.000000001 7 Q XY 0 + 8 [a]\n", JV_EPARSE,
	  ":1: rwbs: expected F?[DWRN][FASMEB]*, found 'XY'" },
	{ "8,0 0 1 0.000000001 7 Q R 0 + [a]\n", JV_EPARSE,
	  ":1: Q event: expected 'sector + nsectors [process]' after the rwbs "
	  "field, found '0 + [a]'" },
	{ "8,0 0 1 0.000000001 7 C R 0 + 8\n", JV_EPARSE,
	  ":1: C event: expected 'sector + nsectors [error]'" },
	{ "8,0 0 1 0.000000001 7 Q R 0 + 8388608 [a]\n", JV_ERANGE,
	  ":1: nsectors: out of range 8388608 (at most 8388607)" },
	{ "5000,0 0 1 0.000000001 7 Q R 0 + 8 [a]\n", JV_ERANGE,
	  ":1: device: major or minor out of range" },
	{ "8,0 0 1 0.000000001 7 Q R 36028797018963968 + 8 [a]\n", JV_ERANGE,
	  ":1: sector: out of range 36028797018963968" },
	{ "8,0 0 1 0.000000001 7 Q R 0 + 8 [a]\n8,0 0 2 5.000000000 7 Q R 8 + 8 "
	  "[a]\n8,0 0 3 1.000000000 7 Q R 16 + 8 [a]\n", JV_EORDER,
	  ":3: time: 1.000000000 s is 4.000000000 s before the latest event "
	  "(5.000000000 s at line 2), beyond the reorder window" },
};

START_TEST(test_text_errors)
{
	int i = _i;
	char name[32];
	snprintf(name, sizeof name, "err%d.txt", i);
	const char *p = write_tmp_str(name, text_errors[i].text);
	struct sum s;
	read_all(p, "blkparse", 0, &s);
	int rc = s.open_rc ? s.open_rc : s.rc;
	ck_assert_msg(rc == text_errors[i].err, "case %d: rc %d, msg %s", i, rc,
		      s.d.msg);
	char want[512];
	snprintf(want, sizeof want, "%s%s", p, text_errors[i].msg);
	ck_assert_msg(strncmp(s.d.msg, want, strlen(want)) == 0,
		      "case %d:\n got  %s\n want %s", i, s.d.msg, want);
}
END_TEST

/* ---- generated blktrace binaries --------------------------------------- */

#define MAGIC7 0x65617407u
#define TC(c) ((uint32_t)(c) << 16)
#define TC_READ 0x1u
#define TC_WRITE 0x2u
#define TC_QUEUE 0x10u
#define TC_ISSUE 0x40u
#define TC_COMPLETE 0x80u
#define TC_NOTIFY 0x400u
#define TA_Q 1u
#define TA_D 7u
#define TA_C 8u
#define TA_CGROUP 0x100u
#define DEV(ma, mi) ((uint32_t)(ma) << 20 | (mi))

/* One event in host byte order at b; returns its size. */
static size_t put_ev(unsigned char *b, uint32_t magic, uint64_t t,
		     uint64_t sector, uint32_t bytes, uint32_t action,
		     uint32_t pid, uint32_t dev, const void *pdu, uint16_t pdu_len)
{
	uint32_t zero = 0;
	uint16_t z16 = 0;
	memcpy(b + 0, &magic, 4);
	memcpy(b + 4, &zero, 4);
	memcpy(b + 8, &t, 8);
	memcpy(b + 16, &sector, 8);
	memcpy(b + 24, &bytes, 4);
	memcpy(b + 28, &action, 4);
	memcpy(b + 32, &pid, 4);
	memcpy(b + 36, &dev, 4);
	memcpy(b + 40, &zero, 4);
	memcpy(b + 44, &z16, 2);
	memcpy(b + 46, &pdu_len, 2);
	if (pdu_len)
		memcpy(b + HDR_B, pdu, pdu_len);
	return HDR_B + (size_t)pdu_len;
}

static size_t put_q(unsigned char *b, uint64_t t, uint64_t sector, uint32_t pid)
{
	return put_ev(b, MAGIC7, t, sector, 4096, TC(TC_QUEUE | TC_WRITE) | TA_Q,
		      pid, DEV(8, 16), NULL, 0);
}

static size_t put_c(unsigned char *b, uint64_t t, uint64_t sector)
{
	return put_ev(b, MAGIC7, t, sector, 4096,
		      TC(TC_COMPLETE | TC_WRITE) | TA_C, 0, DEV(8, 16), NULL, 0);
}

START_TEST(test_binary_notify_comm_and_cgroup)
{
	unsigned char b[1024];
	size_t n = 0;
	char cg[8 + 16] = { 1, 2, 3, 4, 5, 6, 7, 8, 'k', 'w', 'o', 'r', 'k' };
	n += put_ev(b + n, MAGIC7, 10, 0, 0, TC(TC_NOTIFY), 42, DEV(8, 16),
		    "fio\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
	n += put_ev(b + n, MAGIC7, 11, 0, 0, TC(TC_NOTIFY) | TA_CGROUP, 43,
		    DEV(8, 16), cg, 24);
	n += put_ev(b + n, MAGIC7, 12, 0, 8, TC(TC_NOTIFY) | 1u, 0, DEV(8, 16),
		    "\1\2\3\4\5\6\7\10", 8); /* timestamp note: ignored */
	n += put_q(b + n, 100, 64, 42);
	n += put_q(b + n, 200, 128, 43);
	n += put_c(b + n, 700, 64);
	const char *p = write_tmp("notify.bin", b, n);
	struct trc_reader *r = open_ok(p, NULL);
	struct jv_diag d = { 0 };
	struct trc_record rec;
	ck_assert_int_eq(trc_next(r, &rec, &d), 1);
	ck_assert_str_eq(trc_vm_attrs(r, rec.u.blk.vm), "pid=42,comm=fio,device=8:16");
	ck_assert_int_eq(rec.u.blk.latency_ns, 600);
	ck_assert_int_eq(rec.u.blk.op, TRC_OP_WRITE);
	ck_assert_int_eq(rec.line, 48 + 16 + 48 + 24 + 48 + 8);
	ck_assert_int_eq(trc_next(r, &rec, &d), 1);
	ck_assert_str_eq(trc_vm_attrs(r, rec.u.blk.vm), "pid=43,comm=kwork,device=8:16");
	ck_assert_int_eq(rec.u.blk.latency_ns, -1);
	ck_assert_int_eq(rec.u.blk.t_ns, 100);
	ck_assert_int_eq(trc_next(r, &rec, &d), 0);
	trc_close(r);
}
END_TEST

/* Byte-swap every header field of every event of a blktrace file. */
static void swap_events(unsigned char *b, size_t n)
{
	static const int widths[] = { 4, 4, 8, 8, 4, 4, 4, 4, 4, 2, 2 };
	size_t off = 0;
	while (off + HDR_B <= n) {
		uint16_t pdu;
		memcpy(&pdu, b + off + 46, 2);
		size_t f = off;
		for (size_t i = 0; i < sizeof widths / sizeof widths[0]; i++) {
			for (int j = 0; j < widths[i] / 2; j++) {
				unsigned char c = b[f + j];
				b[f + j] = b[f + widths[i] - 1 - j];
				b[f + widths[i] - 1 - j] = c;
			}
			f += (size_t)widths[i];
		}
		off += HDR_B + pdu;
	}
}

START_TEST(test_binary_other_byte_order)
{
	size_t n;
	unsigned char *b = slurp_n(NVME_BIN, &n);
	swap_events(b, n);
	const char *p = write_tmp("swapped.bin", b, n);
	free(b);
	ck_assert_int_eq(same_records(NVME_BIN, NULL, p, NULL), 963);
}
END_TEST

/* Cases built from the first events of the NVMe sample (event 0: A with a
 * 16-byte pdu at 0..64; event 1: Q at 64..112; event 2: G at 112). */
enum { CUT_HDR, CUT_PDU, BAD_MAGIC, BAD_MAGIC_FIRST, VERSION6, PDU_BIG,
       ORDER_FLIP, TIME_BIG, N_BIN_CASES };

static const struct {
	int err;
	const char *msg; /* after "FILE: " */
	int at_open;     /* found while trc_open primes the merge */
} bin_errors[N_BIN_CASES] = {
	[CUT_HDR] = { JV_EPARSE, "byte offset 112: truncated event: 20 of 48 "
				 "header bytes", 0 },
	[CUT_PDU] = { JV_EPARSE, "byte offset 0: truncated event: pdu_len 16 "
				 "needs 64 bytes, 50 present", 1 },
	[BAD_MAGIC] = { JV_EPARSE, "byte offset 64: bad magic 0x12345678: not a "
				   "blktrace event (expected 0x65617407 in "
				   "either byte order)", 1 },
	[BAD_MAGIC_FIRST] = { JV_EPARSE, "byte offset 0: bad magic 0x00000000", 1 },
	[VERSION6] = { JV_EPARSE, "byte offset 64: unsupported blktrace version "
				  "6 (supported: 7)", 1 },
	[PDU_BIG] = { JV_ELIMIT, "byte offset 64: pdu_len 5000 too large (at "
				 "most 4096)", 1 },
	[ORDER_FLIP] = { JV_EPARSE, "byte offset 64: magic 0x07746165 changes the "
				    "byte order within the file", 1 },
	[TIME_BIG] = { JV_ERANGE, "byte offset 64: time 9223372036854775808 ns "
				  "out of range", 1 },
};

START_TEST(test_binary_errors)
{
	int i = _i;
	size_t n;
	unsigned char *b = slurp_n(NVME_BIN, &n);
	uint32_t u32;
	uint16_t u16;
	uint64_t u64;
	switch (i) {
	case CUT_HDR: n = 112 + 20; break;
	case CUT_PDU: n = 50; break;
	case BAD_MAGIC: u32 = 0x12345678u; memcpy(b + 64, &u32, 4); break;
	case BAD_MAGIC_FIRST: memset(b, 0, 4); break;
	case VERSION6: u32 = 0x65617406u; memcpy(b + 64, &u32, 4); break;
	case PDU_BIG: u16 = 5000; memcpy(b + 64 + 46, &u16, 2); break;
	case ORDER_FLIP: u32 = __builtin_bswap32(MAGIC7); memcpy(b + 64, &u32, 4); break;
	case TIME_BIG: u64 = 1ull << 63; memcpy(b + 64 + 8, &u64, 8); break;
	default: break;
	}
	char name[32];
	snprintf(name, sizeof name, "bin%d.bin", i);
	const char *p = write_tmp(name, b, n);
	free(b);
	struct sum s;
	read_all(p, "blktrace", 0, &s);
	int rc = s.open_rc ? s.open_rc : s.rc;
	ck_assert_msg(rc == bin_errors[i].err, "case %d: rc %d (%s)", i, rc, s.d.msg);
	ck_assert_int_eq(s.open_rc != 0, bin_errors[i].at_open);
	assert_msg_at(name, s.d.msg, p, 0, bin_errors[i].msg);
}
END_TEST

START_TEST(test_binary_sector_out_of_range)
{
	unsigned char b[256];
	size_t n = put_q(b, 5, 1ull << 60, 1);
	const char *p = write_tmp("sector.bin", b, n);
	struct sum s;
	read_all(p, NULL, 0, &s);
	ck_assert_int_eq(s.rc, JV_ERANGE);
	assert_msg_at("sector", s.d.msg, p, 0,
		      "byte offset 0: sector: out of range 1152921504606846976");
}
END_TEST

START_TEST(test_binary_time_backwards_beyond_window)
{
	unsigned char b[256];
	size_t n = put_q(b, 5000000000ull, 8, 1);
	n += put_q(b + n, 1000000000ull, 16, 1);
	const char *p = write_tmp("back.bin", b, n);
	struct sum s;
	read_all(p, NULL, 0, &s);
	ck_assert_int_eq(s.rc, JV_EORDER);
	char want[512];
	snprintf(want, sizeof want, "%s: byte offset 48: time: 1.000000000 s is "
		 "4.000000000 s before the latest event (5.000000000 s at %s "
		 "byte offset 0)", p, p);
	ck_assert_msg(strncmp(s.d.msg, want, strlen(want)) == 0, "%s", s.d.msg);
}
END_TEST

START_TEST(test_binary_empty_file_and_directory)
{
	const char *p = write_tmp("empty.bin", "", 0);
	struct sum s;
	read_all(p, "blktrace", 0, &s);
	ck_assert_int_eq(s.open_rc, JV_EEMPTY);
	read_all(base, "blktrace", 0, &s);
	ck_assert_int_ne(s.open_rc, 0);
}
END_TEST

START_TEST(test_siblings_first_empty_and_gaps)
{
	/* cpu0 empty (an idle CPU), cpu1 and cpu3 hold events, no cpu2 */
	unsigned char b1[256], b3[256];
	size_t n1 = put_q(b1, 2000, 8, 1);
	n1 += put_c(b1 + n1, 2500, 16);
	size_t n3 = put_q(b3, 1000, 16, 2);
	n3 += put_c(b3 + n3, 3000, 8);
	write_tmp("dev.blktrace.0", "", 0);
	write_tmp("dev.blktrace.1", b1, n1);
	write_tmp("dev.blktrace.3", b3, n3);
	char prefix[128];
	snprintf(prefix, sizeof prefix, "%s/dev", base);
	struct trc_reader *r = open_ok(prefix, NULL);
	struct jv_diag d = { 0 };
	struct trc_record rec;
	ck_assert_str_eq(trc_format_name(r), "blktrace");
	ck_assert_int_eq(trc_next(r, &rec, &d), 1);
	ck_assert_str_eq(trc_vm_name(r, rec.u.blk.vm), "2"); /* cpu3, t 1000 */
	ck_assert_int_eq(rec.u.blk.latency_ns, 1500);      /* C on cpu1 */
	ck_assert_int_eq(trc_next(r, &rec, &d), 1);
	ck_assert_str_eq(trc_vm_name(r, rec.u.blk.vm), "1");
	ck_assert_int_eq(rec.u.blk.t_ns, 1000);
	ck_assert_int_eq(rec.u.blk.latency_ns, 1000);
	ck_assert_int_eq(trc_next(r, &rec, &d), 0);
	trc_close(r);
	/* naming the empty member works the same */
	char p0[160];
	snprintf(p0, sizeof p0, "%s/dev.blktrace.0", base);
	struct sum s;
	read_all(p0, NULL, 0, &s);
	ck_assert_int_eq(s.rc, 0);
	ck_assert_int_eq(s.n, 2);
	/* a missing prefix with no per-CPU files is "cannot open" */
	snprintf(prefix, sizeof prefix, "%s/nothing", base);
	read_all(prefix, NULL, 0, &s);
	ck_assert_int_eq(s.open_rc, JV_ENOENT);
	ck_assert_ptr_nonnull(strstr(s.d.msg, "nothing: cannot open"));
}
END_TEST

START_TEST(test_probe_does_not_claim_others)
{
	/* a native blk CSV is not taken by the blkparse probe */
	const char *p = write_tmp_str("native.csv",
		"# joulevisor blk v1\nt_ns,vm,op,offset_b,size_b\n0,a,R,0,4096\n");
	struct sum s;
	read_all(p, NULL, 0, &s);
	ck_assert_int_eq(s.rc, 0);
	ck_assert_str_eq(s.fmt, "blk");
	/* blkparse named on a blktrace binary: a clear text error */
	read_all(NVME_BIN, "blkparse", 0, &s);
	ck_assert_int_eq(s.rc, JV_EPARSE);
	ck_assert_ptr_nonnull(strstr(s.d.msg, ":1: "));
}
END_TEST

static Suite *blktrace_suite(void)
{
	Suite *s = suite_create("blktrace");
	TCase *g = tmp_tcase("golden");
	tcase_set_timeout(g, 30);
	tcase_add_test(g, test_nvme_binary_golden);
	tcase_add_test(g, test_nvme_binary_names);
	tcase_add_test(g, test_nvme_binary_and_text_identical);
	tcase_add_test(g, test_keks_merged_by_prefix);
	tcase_add_test(g, test_keks_merged_from_member);
	tcase_add_test(g, test_keks_comm_from_notify);
	tcase_add_test(g, test_keks_other_name_is_one_file);
	tcase_add_test(g, test_leveldb_default_window_rejects_anomaly);
	tcase_add_test(g, test_leveldb_large_window_imports_completions);
	suite_add_tcase(s, g);

	TCase *e = tmp_tcase("engine");
	tcase_set_timeout(e, 30);
	tcase_add_test(e, test_queue_issue_complete_latency);
	tcase_add_loop_test(e, test_engine_cases, 0,
			    (int)(sizeof engine_cases / sizeof engine_cases[0]));
	tcase_add_test(e, test_inflight_overflow_counted);
	tcase_add_test(e, test_process_names);
	tcase_add_test(e, test_devices_are_disks);
	tcase_add_test(e, test_cpus_out_of_order_within_window);
	tcase_add_test(e, test_window_option);
	suite_add_tcase(s, e);

	TCase *t = tmp_tcase("text_errors");
	tcase_add_loop_test(t, test_text_errors, 0,
			    (int)(sizeof text_errors / sizeof text_errors[0]));
	suite_add_tcase(s, t);

	TCase *b = tmp_tcase("binary");
	tcase_set_timeout(b, 30);
	tcase_add_test(b, test_binary_notify_comm_and_cgroup);
	tcase_add_test(b, test_binary_other_byte_order);
	tcase_add_loop_test(b, test_binary_errors, 0, N_BIN_CASES);
	tcase_add_test(b, test_binary_sector_out_of_range);
	tcase_add_test(b, test_binary_time_backwards_beyond_window);
	tcase_add_test(b, test_binary_empty_file_and_directory);
	tcase_add_test(b, test_siblings_first_empty_and_gaps);
	tcase_add_test(b, test_probe_does_not_claim_others);
	suite_add_tcase(s, b);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(blktrace_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
