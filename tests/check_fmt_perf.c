/*
 * check_fmt_perf: the perf stat and perf script importers
 * (traces/fmt_perf_stat.c, traces/fmt_perf_script.c).
 *
 * Golden tests read the real samples copied to tests/fixtures/real/pmc/
 * and compare record counts and sums with figures computed independently
 * with awk over the same files (the commands are next to each figure);
 * fixtures written from perf's documentation (tests/fixtures/fmt/perf/,
 * README there) are compared record by record; every error class is
 * produced from small generated inputs in a table (content, expected code,
 * "FILE:LINE:" and a message fragment).
 */
#define _XOPEN_SOURCE 700 /* nftw (check_tmpdir.h) */
#include <check.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/jv_err.h"
#include "traces/trc.h"

#define CK_TMP_PREFIX "check_fmt_perf"
#include "check_trc_fixture.h"

#ifndef JV_FIXTURES
#define JV_FIXTURES "tests/fixtures"
#endif
#define REAL(name) JV_FIXTURES "/real/pmc/" name
#define PERF(name) JV_FIXTURES "/fmt/perf/" name
#define MIB (1024 * 1024)

/* ---- helpers ------------------------------------------------------------ */

static int counter_index(struct trc_reader *r, const char *name)
{
	for (int i = 0; i < trc_n_counters(r); i++)
		if (strcmp(trc_counter_name(r, i), name) == 0)
			return i;
	ck_abort_msg("no counter '%s'", name);
	return -1;
}

/* Expect reading content (format fmt) to fail with code, "NAME:LINE: "
 * (line 0: "NAME: ") and a message fragment. */
static void expect_error(const char *content, size_t len, const char *fmt,
			 int code, long line, const char *frag)
{
	const char *path = write_tmp("bad.txt", content, len);
	struct jv_diag d;
	long n;
	int rc = read_trace(path, fmt, NULL, 0, &n, &d);
	ck_assert_msg(rc == code, "expected %s, got %s (%s) for:\n%s",
		      jv_errname(code), jv_errname(rc), d.msg, content);
	assert_msg_at(content, d.msg, path, line, "");
	ck_assert_msg(strstr(d.msg, frag) != NULL,
		      "message '%s' lacks '%s'", d.msg, frag);
}

/* ---- perf stat: real samples ------------------------------------------- */

/* Figures by awk over the original files, e.g. for sleep.perf:
 *   awk -F, '{n[$4]++} $4=="cycles"{c+=$2} $4=="instructions"{i+=$2}
 *     $4=="power/energy-pkg/"{split($2,a,".");
 *       p+=a[1]*1e9+substr(a[2]"000000000",1,9)} ... END{...}' sleep.perf
 */
struct paired_case {
	const char *file;
	long intervals;
	uint64_t cycles, instructions, pkg_nj, ram_nj;
	int64_t last_t_ns;
};

static const struct paired_case paired[] = {
	{ "sleep.perf", 100, UINT64_C(1159468578), UINT64_C(322123555),
	  UINT64_C(44502872000), UINT64_C(4375744000), INT64_C(10007595156) },
	{ "stream.perf", 129, UINT64_C(120801461229), UINT64_C(24838578500),
	  UINT64_C(250305239000), UINT64_C(26730981000), INT64_C(12940591408) },
	{ "hpl_mkl.perf", 257, UINT64_C(299135171527), UINT64_C(682777183327),
	  UINT64_C(1212645329000), UINT64_C(54088872000), INT64_C(25684804205) },
};

static const char *const paired_counters[] = {
	"cycles", "instructions", "cache-misses", "cache-references",
	"uncore_imc/data_reads/ (B)", "uncore_imc/data_writes/ (B)",
	"power/energy-cores/ (nJ)", "power/energy-pkg/ (nJ)",
	"power/energy-ram/ (nJ)",
};

START_TEST(stat_real_paired)
{
	const struct paired_case *c = &paired[_i];
	char path[512];
	snprintf(path, sizeof path, "%s/haswell-i5-memsys2016/%s",
		 JV_FIXTURES "/real/pmc", c->file);
	struct trc_reader *r = open_ok(path, NULL); /* auto-detected */
	ck_assert_str_eq(trc_format_name(r), "perf-stat");
	ck_assert_int_eq(trc_kind(r), TRC_PMC_INTERVAL);
	ck_assert_int_eq(trc_n_counters(r), 9);
	for (int i = 0; i < 9; i++)
		ck_assert_str_eq(trc_counter_name(r, i), paired_counters[i]);
	struct trc_record rec;
	struct jv_diag d;
	jv_diag_clear(&d);
	long n = 0;
	uint64_t sum[9] = { 0 };
	int64_t last = -1;
	int rc;
	while ((rc = trc_next(r, &rec, &d)) == 1) {
		ck_assert_int_eq(rec.kind, TRC_PMC_INTERVAL);
		ck_assert_str_eq(trc_vm_name(r, rec.u.pmci.vm), "all");
		ck_assert_int_gt(rec.u.pmci.t_ns, last);
		last = rec.u.pmci.t_ns;
		for (int i = 0; i < 9; i++)
			sum[i] += rec.u.pmci.delta[i];
		n++;
	}
	ck_assert_msg(rc == 0, "%s", d.msg);
	ck_assert_int_eq(n, c->intervals);
	ck_assert_uint_eq(sum[0], c->cycles);
	ck_assert_uint_eq(sum[1], c->instructions);
	ck_assert_uint_eq(sum[7], c->pkg_nj);
	ck_assert_uint_eq(sum[8], c->ram_nj);
	ck_assert_int_eq(last, c->last_t_ns);
	ck_assert_int_eq(trc_n_vms(r), 1);
	ck_assert_uint_eq(trc_skipped(r, NULL), 0);
	trc_close(r);
}
END_TEST

/* First record of sleep.perf, field by field (PROVENANCE example line and
 * the file's first nine lines): MiB -> B, Joules -> nJ. */
START_TEST(stat_real_first_record_units)
{
	struct trc_record recs[2];
	long n;
	struct jv_diag d;
	int rc = read_trace(REAL("haswell-i5-memsys2016/sleep.perf"), "perf-stat",
			  recs, 2, &n, &d);
	ck_assert_msg(rc == 0, "%s", d.msg);
	const struct trc_pmc_interval *p = &recs[0].u.pmci;
	ck_assert_int_eq(p->t_ns, 100360379);
	ck_assert_uint_eq(p->delta[0], 8020721);
	ck_assert_uint_eq(p->delta[1], 4535621);
	ck_assert_uint_eq(p->delta[2], 65994);
	ck_assert_uint_eq(p->delta[3], 156569);
	ck_assert_uint_eq(p->delta[4], 5033152); /* 4.799988 MiB, rounded */
	ck_assert_uint_eq(p->delta[5], 2907328); /* 2.772644 MiB, rounded */
	ck_assert_uint_eq(p->delta[6], 5554000); /* 0.005554 J */
	ck_assert_uint_eq(p->delta[7], 911932000);
	ck_assert_uint_eq(p->delta[8], 156067000);
	for (int i = 9; i < TRC_MAX_COUNTERS; i++)
		ck_assert_uint_eq(p->delta[i], 0);
}
END_TEST

/* ODROID-XU4, human layout, 43 events: awk over the lines before
 * "Performance counter stats" (first 16 distinct events are counters):
 *   94 times, 466 <not counted> among the 16, 2538 values of the others,
 *   instructions 5510410529, cpu-cycles 10012718286,
 *   cpu-clock 44842.74 ms (the summary's total says 44842.75 msec). */
START_TEST(stat_real_odroid_human)
{
	struct trc_reader *r =
		open_ok(REAL("odroidxu4_gzip_webster_perfstat_I50.txt"), NULL);
	ck_assert_str_eq(trc_format_name(r), "perf-stat");
	ck_assert_int_eq(trc_n_counters(r), TRC_MAX_COUNTERS);
	ck_assert_str_eq(trc_counter_name(r, 0), "branch-instructions");
	ck_assert_str_eq(trc_counter_name(r, 15), "L1-dcache-stores");
	int ins = counter_index(r, "instructions");
	int cyc = counter_index(r, "cpu-cycles");
	int clk = counter_index(r, "cpu-clock (ns)");
	struct trc_record rec;
	struct jv_diag d;
	jv_diag_clear(&d);
	long n = 0;
	uint64_t s_ins = 0, s_cyc = 0, s_clk = 0;
	int64_t first = -1, t = 0;
	int rc;
	while ((rc = trc_next(r, &rec, &d)) == 1) {
		if (first < 0)
			first = rec.u.pmci.t_ns;
		t = rec.u.pmci.t_ns;
		s_ins += rec.u.pmci.delta[ins];
		s_cyc += rec.u.pmci.delta[cyc];
		s_clk += rec.u.pmci.delta[clk];
		n++;
	}
	ck_assert_msg(rc == 0, "%s", d.msg);
	ck_assert_int_eq(n, 94);
	ck_assert_int_eq(first, 50162524);
	ck_assert_int_eq(t, 5598905094);
	ck_assert_uint_eq(s_ins, UINT64_C(5510410529));
	ck_assert_uint_eq(s_cyc, UINT64_C(10012718286));
	ck_assert_uint_eq(s_clk, UINT64_C(44842740000));
	const char *why;
	ck_assert_uint_eq(trc_skipped(r, &why), 466 + 2538);
	ck_assert_ptr_nonnull(strstr(why, "466 <not counted>"));
	ck_assert_ptr_nonnull(strstr(why, "2538 values of events beyond the 16th"));
	ck_assert_ptr_nonnull(strstr(why, "L1-icache-load-misses"));
	trc_close(r);
}
END_TEST

/* perf stat -> native CSV -> read back: the unit-carrying counter names
 * are valid CSV header names and the records survive unchanged. */
START_TEST(stat_real_to_native_csv)
{
	struct trc_reader *r = open_ok(REAL("haswell-i5-memsys2016/stream.perf"),
				       NULL);
	const char *out = at("stream.csv");
	const char *names[TRC_MAX_COUNTERS];
	for (int i = 0; i < trc_n_counters(r); i++)
		names[i] = trc_counter_name(r, i);
	struct trc_writer *w;
	struct jv_diag d;
	jv_diag_clear(&d);
	ck_assert_int_eq(trc_writer_open(out, TRC_PMC_INTERVAL, names,
					 trc_n_counters(r), &w, &d), 0);
	static struct trc_record in[200];
	struct trc_record rec;
	long n = 0;
	while (trc_next(r, &rec, &d) == 1) {
		in[n++] = rec;
		ck_assert_int_eq(trc_write_pmci(w, &rec.u.pmci,
						trc_vm_name(r, rec.u.pmci.vm)), 0);
	}
	ck_assert_int_eq(trc_writer_close(w, &d), 0);
	static struct trc_record back[200];
	long m;
	ck_assert_int_eq(read_trace(out, NULL, back, 200, &m, &d), 0);
	ck_assert_int_eq(m, n);
	for (long i = 0; i < n; i++) {
		ck_assert_int_eq(back[i].u.pmci.t_ns, in[i].u.pmci.t_ns);
		ck_assert_mem_eq(back[i].u.pmci.delta, in[i].u.pmci.delta,
				 sizeof in[i].u.pmci.delta);
	}
	trc_close(r);
}
END_TEST

/* ---- perf stat: documented fixtures ---------------------------------- */

struct exp_pmci {
	int64_t t_ns;
	const char *vm;
	uint64_t delta[3];
};

struct stat_fixture {
	const char *file;
	int n_ctr;
	const char *ctr[3];
	long n_rec;
	struct exp_pmci rec[6];
	uint64_t skipped;
	const char *attrs_vm, *attrs; /* one VM's attrs to check */
};

static const struct stat_fixture stat_fixtures[] = {
	{ "stat_percpu.csv", 2, { "cycles", "instructions" }, 6,
	  { { 1001062046, "cpu0", { 1832467, 953312 } },
	    { 1001062046, "cpu1", { 2450316, 1201120 } },
	    { 2002530157, "cpu0", { 1755001, 912640 } },
	    { 2002530157, "cpu1", { 2010077, 0 } },
	    { 3003677412, "cpu0", { 1698342, 874420 } },
	    { 3003677412, "cpu1", { 1911210, 955605 } } },
	  1, "cpu1", "device=cpu1" },
	{ "stat_cgroup.csv", 2, { "cycles", "instructions" }, 4,
	  { { 1000412553, "web", { 3451231, 2120056 } },
	    { 1000412553, "system.slice_db.service", { 0, 0 } },
	    { 2001237001, "web", { 3398123, 2087761 } },
	    { 2001237001, "system.slice_db.service", { 812345, 402211 } } },
	  2, "system.slice_db.service", "cgroup=system.slice/db.service" },
	{ "stat_cpu_cgroup.csv", 1, { "cycles" }, 4,
	  { { 500101000, "web", { 3000 } },
	    { 500101000, "db", { 100 } },
	    { 1000201000, "web", { 4000 } },
	    { 1000201000, "db", { 40 } } },
	  1, "web", "cgroup=web" },
	{ "stat_semicolon.csv", 3,
	  { "task-clock (ns)", "cpu/event=0x3c umask=0x00/",
	    "power/energy-pkg/ (nJ)" }, 2,
	  { { 500254167, "all", { 1502310000, 4512331, 2350000000 } },
	    { 1000512774, "all", { 1498070000, 4423100, 2298781000 } } },
	  0, "all", "" },
	{ "stat_human_percpu.txt", 3,
	  { "cycles", "instructions", "task-clock (ns)" }, 4,
	  { { 1001015349, "cpu0", { 1832467, 953312, 250120000 } },
	    { 1001015349, "cpu1", { 2450316, 0, 999800000 } },
	    { 2002412771, "cpu0", { 1755001, 912640, 100000000 } },
	    { 2002412771, "cpu1", { 2010077, 1201120, 1000010000 } } },
	  1, "cpu0", "device=cpu0" },
};

START_TEST(stat_fixture_records)
{
	const struct stat_fixture *f = &stat_fixtures[_i];
	char path[512];
	snprintf(path, sizeof path, "%s%s", PERF(""), f->file);
	struct trc_reader *r = open_ok(path, "perf-stat");
	ck_assert_int_eq(trc_n_counters(r), f->n_ctr);
	for (int i = 0; i < f->n_ctr; i++)
		ck_assert_str_eq(trc_counter_name(r, i), f->ctr[i]);
	struct trc_record rec;
	struct jv_diag d;
	jv_diag_clear(&d);
	long n = 0;
	int rc;
	while ((rc = trc_next(r, &rec, &d)) == 1) {
		ck_assert_int_lt(n, f->n_rec);
		const struct exp_pmci *e = &f->rec[n];
		ck_assert_int_eq(rec.u.pmci.t_ns, e->t_ns);
		ck_assert_str_eq(trc_vm_name(r, rec.u.pmci.vm), e->vm);
		for (int i = 0; i < f->n_ctr; i++)
			ck_assert_uint_eq(rec.u.pmci.delta[i], e->delta[i]);
		n++;
	}
	ck_assert_msg(rc == 0, "%s: %s", f->file, d.msg);
	ck_assert_int_eq(n, f->n_rec);
	ck_assert_uint_eq(trc_skipped(r, NULL), f->skipped);
	assert_vm_attrs_of(r, f->attrs_vm, f->attrs);
	trc_close(r);
}
END_TEST

/* Generated inputs that read successfully: CRLF, no final newline, more
 * than 9 decimals, unknown units, "/" and long cgroups, extra events. */
START_TEST(stat_generated_ok)
{
	struct trc_record recs[4];
	long n;
	struct jv_diag d;
	/* CRLF, last line without newline, 10 decimals (truncated), unknown
	 * unit "foo" scaled x1e6 as "ufoo" */
	const char *p = write_tmp_str("crlf.csv",
				  "1.0000000019,7,,cycles,1,100.00\r\n"
				  "1.0000000019,2.5,foo,myevent,1,100.00\r\n"
				  "2.5,8,,cycles,1,100.00\r\n"
				  "2.5,0.000001,foo,myevent,1,100.00");
	ck_assert_int_eq(read_trace(p, NULL, recs, 4, &n, &d), 0);
	ck_assert_int_eq(n, 2);
	ck_assert_int_eq(recs[0].u.pmci.t_ns, 1000000001);
	ck_assert_uint_eq(recs[0].u.pmci.delta[1], 2500000);
	ck_assert_int_eq(recs[1].u.pmci.t_ns, 2500000000);
	ck_assert_uint_eq(recs[1].u.pmci.delta[0], 8);
	ck_assert_uint_eq(recs[1].u.pmci.delta[1], 1);
	struct trc_reader *r = open_ok(p, "perf-stat");
	ck_assert_str_eq(trc_counter_name(r, 1), "myevent (ufoo)");
	trc_close(r);

	/* cgroup "/" -> root; a cgroup path of 80 characters -> hashed name */
	char buf[1024], cg[81];
	memset(cg, 'x', 80);
	cg[0] = '/';
	cg[80] = '\0';
	snprintf(buf, sizeof buf, "1.0,5,,cycles,/,1,100.00\n"
				  "1.0,6,,cycles,%s,1,100.00\n", cg);
	p = write_tmp_str("cg.csv", buf);
	r = open_ok(p, "perf-stat");
	struct trc_record rec;
	ck_assert_int_eq(trc_next(r, &rec, &d), 1);
	ck_assert_str_eq(trc_vm_name(r, rec.u.pmci.vm), "root");
	ck_assert_str_eq(trc_vm_attrs(r, rec.u.pmci.vm), "cgroup=/");
	ck_assert_int_eq(trc_next(r, &rec, &d), 1);
	const char *nm = trc_vm_name(r, rec.u.pmci.vm);
	ck_assert_uint_eq(strlen(nm), 63);
	ck_assert_int_eq(strncmp(nm, "cg-", 3), 0);
	ck_assert_int_eq(nm[11], '-');
	ck_assert_int_eq(trc_next(r, &rec, &d), 0);
	trc_close(r);

	/* 18 events: the last two are skipped and counted */
	size_t len = 0;
	for (int t = 1; t <= 2; t++)
		for (int e = 0; e < 18; e++)
			len += (size_t)snprintf(buf + len, sizeof buf - len,
					       "%d.0,%d,,e%d,1,100.00\n", t, e, e);
	p = write_tmp_str("many.csv", buf);
	r = open_ok(p, "perf-stat");
	ck_assert_int_eq(trc_n_counters(r), 16);
	ck_assert_int_eq(trc_next(r, &rec, &d), 1);
	ck_assert_uint_eq(rec.u.pmci.delta[15], 15);
	ck_assert_int_eq(trc_next(r, &rec, &d), 1);
	ck_assert_int_eq(trc_next(r, &rec, &d), 0);
	const char *why;
	ck_assert_uint_eq(trc_skipped(r, &why), 4);
	ck_assert_ptr_nonnull(strstr(why, "'e16'"));
	trc_close(r);
}
END_TEST

/* The probe claims perf stat shapes and leaves look-alikes alone. */
START_TEST(stat_probe)
{
	struct trc_reader *r;
	struct jv_diag d;
	const char *p = write_tmp_str("h.txt", "     1.000 CPU3   12,345  cycles\n");
	r = open_ok(p, NULL);
	ck_assert_str_eq(trc_format_name(r), "perf-stat");
	trc_close(r);
	p = write_tmp_str("x.csv", "# started on Mon\n\n1.5;<not counted>;;cycles;0;0.00\n"
			       "2.5;3;;cycles;1;100.00\n");
	r = open_ok(p, NULL);
	ck_assert_str_eq(trc_format_name(r), "perf-stat");
	trc_close(r);
	/* DiskSim-like numbers only: not perf stat */
	p = write_tmp_str("ds.txt", "0.000000 0 12345 8 1\n");
	jv_diag_clear(&d);
	if (trc_open(p, NULL, &r, &d) == 0) {
		ck_assert_str_ne(trc_format_name(r), "perf-stat");
		trc_close(r);
	}
}
END_TEST

#define S(x) x, sizeof(x) - 1

struct err_case {
	const char *content;
	size_t len;
	int code;
	long line;
	const char *frag;
};

static const struct err_case stat_errors[] = {
	{ S("1.0,100,,cycles,1000,100.00\n0.5,1,,cycles,1,100.00\n"),
	  JV_EORDER, 2, "time: goes backwards" },
	{ S("1.0,100,,cycles,1,100.00\n2.0,1,,cycles,1,100.00\n"
	    "1.5,1,,cycles,1,100.00\n"), JV_EORDER, 3, "time: goes backwards" },
	{ S("1.0,100,,cycles,1000,100.00\n1.0,200,,instructions,1000,100.00\n"
	    "2.0,100,,cycles,1000,100.00\n3.0,1,,cycles,1,100.00\n"),
	  JV_EPARSE, 3, "event 'instructions' missing for vm 'all'" },
	{ S("1.0,100,,cycles,1000,100.00\n2.0,1,,cache-misses,1,100.00\n"),
	  JV_EPARSE, 2, "event 'cache-misses' was not in the first interval" },
	{ S("1.0,100,,cycles,1000,100.00\n1.0,100,,cycles,1000,100.00\n"),
	  JV_EPARSE, 2, "twice in the interval" },
	{ S("1.0,12x,,cycles,1,100.00\n"), JV_EPARSE, 1,
	  "value: not a number '12x'" },
	{ S("1.0,-5,,cycles,1,100.00\n"), JV_ERANGE, 1, "negative value '-5'" },
	{ S("1.0,99999999999999999999,,cycles,1,100.00\n"), JV_ERANGE, 1,
	  "value: out of range" },
	{ S("1.0,99999999999.5,Joules,power/energy-pkg/,1,100.00\n"), JV_ERANGE,
	  1, "value: out of range" },
	{ S("1.0,100,,cycles,1000,100.00\n2.0,100,,cycles,1000\n"), JV_EPARSE,
	  2, "expected 6 or 8 fields" },
	{ S("1.0,CPU0,1,,cycles,1,100.00\n1.0,1,,cycles,1,100.00\n"),
	  JV_EPARSE, 2, "missing CPUn field" },
	{ S("1.0,CPU0,1,,cycles,1,100.00\n2.0,CPU0,1,,cycles,1,100.00\n"
	    "2.0,CPU1,1,,cycles,1,100.00\n"), JV_EPARSE, 3,
	  "vm 'cpu1' was not in the first interval" },
	{ S("1.0,S0,4,100,,cycles,1,100.00\n"), JV_EPARSE, 1,
	  "aggregation is not supported" },
	{ S("1.0,1.5,Joules,power/energy-pkg/,1,100.00\n"
	    "2.0,1.5,,power/energy-pkg/,1,100.00\n"), JV_EPARSE, 2,
	  "unit: '' for event 'power/energy-pkg/', which had unit 'Joules'" },
	{ S("1.0,1,,a,b,c,d,e,f,g,h,i,j,k\n"), JV_EPARSE, 1,
	  "more than 12 fields" },
	{ S("abc,1,,cycles,1,100.00\n"), JV_EPARSE, 1,
	  "time: expected the interval's end in seconds" },
	{ S("1.0,1,,,1,100.00\n"), JV_EPARSE, 1, "event: empty event name" },
	{ S("1.0,1,,cycles,/a/b,1,100.00\n1.0,1,,cycles,/a_b,1,100.00\n"),
	  JV_EPARSE, 2, "map to the same VM name 'a_b'" },
	{ S("# only comments\n\n# nothing else\n"), JV_EEMPTY, 0,
	  "no interval lines" },
	{ S("   1.0   12 msec cycles extra words\n"), JV_EPARSE, 1,
	  "found more words" },
	{ S("   1.0   <not counted cycles\n"), JV_EPARSE, 1,
	  "unterminated '<...>'" },
	{ S("   1.0   12\n"), JV_EPARSE, 1, "no event after the value" },
	{ S("   1.0 CPU0  12 cycles\n   1.0 12 cycles\n"), JV_EPARSE, 2,
	  "missing CPUn field" },
	{ S("1.0,1,,cycles,1,100.00\nbogus line\n"), JV_EPARSE, 2,
	  "time: expected the interval's end in seconds (e.g. 1.000123456), "
	  "found 'bogus line'" },
	{ S("1.0,1,,cycles,1,100.00\n1.0,1\n"), JV_EPARSE, 2,
	  "expected at least 4 fields" },
	{ S("1.0,1,,cycles,1,100.00\n1.0,x\0y,,e,1,1\n"), JV_EPARSE, 2,
	  "NUL byte" },
};

START_TEST(stat_error_table)
{
	const struct err_case *c = &stat_errors[_i];
	expect_error(c->content, c->len, "perf-stat", c->code, c->line, c->frag);
}
END_TEST

/* Limits: more than 256 distinct events, an event name over 200 bytes. */
START_TEST(stat_error_limits)
{
	size_t cap = 64 * 1024, len = 0;
	char *buf = malloc(cap);
	ck_assert_ptr_nonnull(buf);
	for (int e = 0; e <= 256; e++)
		len += (size_t)snprintf(buf + len, cap - len,
				       "1.0,1,,event%d,1,100.00\n", e);
	expect_error(buf, len, "perf-stat", JV_ELIMIT, 257,
		     "more than 256 distinct events");
	char name[260];
	memset(name, 'n', 250);
	name[250] = '\0';
	len = (size_t)snprintf(buf, cap, "1.0,1,,%s,1,100.00\n", name);
	expect_error(buf, len, "perf-stat", JV_ELIMIT, 1,
		     "name longer than 200 bytes");
	free(buf);
}
END_TEST

/* ---- perf script: real sample ------------------------------------------ */

/* awk over perf_script_cycles_instructions.txt (event lines, $3 the CPU,
 * $NF the event): 111 cycles and 333 instructions samples; per CPU
 * [000] 4/6, [001] 34/137, [002] 34/139, [004] 30/51, [005] 9/0; 5 tids;
 * first 1410597.984841 s, last 1410598.977322 s. Period 100000000 from the
 * header's "# event" lines (perf record -c 100000000). */
START_TEST(script_real_samples)
{
	struct trc_reader *r =
		open_ok(REAL("perf_script_cycles_instructions.txt"), NULL);
	ck_assert_str_eq(trc_format_name(r), "perf-script");
	ck_assert_int_eq(trc_kind(r), TRC_PMC);
	ck_assert_int_eq(trc_n_counters(r), 2);
	ck_assert_str_eq(trc_counter_name(r, 0), "cycles");
	ck_assert_str_eq(trc_counter_name(r, 1), "instructions");
	static const uint64_t want[6][2] = {
		{ 4, 6 }, { 34, 137 }, { 34, 139 }, { 0, 0 }, { 30, 51 }, { 9, 0 },
	};
	uint64_t last[6][2] = { { 0 } };
	struct trc_record rec;
	struct jv_diag d;
	jv_diag_clear(&d);
	long n = 0;
	int64_t first = -1, t = 0;
	int rc;
	const uint64_t period = 100000000;
	while ((rc = trc_next(r, &rec, &d)) == 1) {
		const struct trc_pmc *p = &rec.u.pmc;
		ck_assert_int_lt(p->cpu, 6);
		/* each sample adds exactly one period to one counter */
		uint64_t d0 = p->ctr[0] - last[p->cpu][0];
		uint64_t d1 = p->ctr[1] - last[p->cpu][1];
		ck_assert_uint_eq(d0 + d1, period);
		last[p->cpu][0] = p->ctr[0];
		last[p->cpu][1] = p->ctr[1];
		if (first < 0)
			first = p->t_ns;
		t = p->t_ns;
		n++;
	}
	ck_assert_msg(rc == 0, "%s", d.msg);
	ck_assert_int_eq(n, 444);
	ck_assert_int_eq(first, 0);
	ck_assert_int_eq(t, 992481000);
	for (int c = 0; c < 6; c++) {
		ck_assert_uint_eq(last[c][0], want[c][0] * period);
		ck_assert_uint_eq(last[c][1], want[c][1] * period);
	}
	ck_assert_int_eq(trc_n_vms(r), 5);
	assert_vm_attrs_of(r, "21796", "pid=21796,comm=noploop");
	ck_assert_uint_eq(trc_skipped(r, NULL), 0);
	trc_close(r);
}
END_TEST

/* ---- perf script: fixtures --------------------------------------------- */

struct exp_pmc {
	int64_t t_ns;
	int cpu;
	const char *vm;
	uint64_t ctr;
};

struct script_fixture {
	const char *file;
	const char *counter;
	long n_rec;
	struct exp_pmc rec[4];
	uint64_t skipped;
	const char *attrs_vm, *attrs;
};

static const struct script_fixture script_fixtures[] = {
	{ "script_switch.txt", "cycles", 4,
	  { { 100000, 0, "4321", 250000 },
	    { 400000, 1, "7003", 400000 },
	    { 600000, 0, "0", 300000 },
	    { 900000, 0, "4321", 700000 } },
	  1, "7003", "pid=7003,comm=Web Content" },
	{ "script_switch_plugin.txt", "instructions", 3,
	  { { 200000, 0, "12", 2000000 },
	    { 400000, 1, "900", 1000000 },
	    { 600000, 0, "900", 3000000 } },
	  0, "12", "pid=12,comm=kworker/0:1" },
};

START_TEST(script_fixture_records)
{
	const struct script_fixture *f = &script_fixtures[_i];
	char path[512];
	snprintf(path, sizeof path, "%s%s", PERF(""), f->file);
	struct trc_reader *r = open_ok(path, "perf-script");
	ck_assert_int_eq(trc_n_counters(r), 1);
	ck_assert_str_eq(trc_counter_name(r, 0), f->counter);
	struct trc_record rec;
	struct jv_diag d;
	jv_diag_clear(&d);
	long n = 0;
	int rc;
	while ((rc = trc_next(r, &rec, &d)) == 1) {
		ck_assert_int_lt(n, f->n_rec);
		const struct exp_pmc *e = &f->rec[n];
		ck_assert_int_eq(rec.u.pmc.t_ns, e->t_ns);
		ck_assert_int_eq(rec.u.pmc.cpu, e->cpu);
		ck_assert_str_eq(trc_vm_name(r, rec.u.pmc.vm), e->vm);
		ck_assert_uint_eq(rec.u.pmc.ctr[0], e->ctr);
		n++;
	}
	ck_assert_msg(rc == 0, "%s", d.msg);
	ck_assert_int_eq(n, f->n_rec);
	const char *why;
	ck_assert_uint_eq(trc_skipped(r, &why), f->skipped);
	if (f->skipped)
		ck_assert_ptr_nonnull(strstr(why, "other than counter samples"));
	assert_vm_attrs_of(r, f->attrs_vm, f->attrs);
	trc_close(r);
}
END_TEST

/* Counter events beyond the 16th are skipped and counted; switch-only
 * captures read with no counters. */
START_TEST(script_generated_ok)
{
	char buf[4096];
	size_t len = 0;
	for (int e = 0; e < 18; e++)
		len += (size_t)snprintf(buf + len, sizeof buf - len,
				       "a 1 [000] 1.%06d: 10 ev%d:\n", e, e);
	const char *p = write_tmp_str("many.txt", buf);
	struct trc_reader *r = open_ok(p, "perf-script");
	ck_assert_int_eq(trc_n_counters(r), 16);
	struct trc_record rec;
	struct jv_diag d;
	jv_diag_clear(&d);
	long n = 0;
	while (trc_next(r, &rec, &d) == 1)
		n++;
	ck_assert_int_eq(n, 16);
	const char *why;
	ck_assert_uint_eq(trc_skipped(r, &why), 2);
	ck_assert_ptr_nonnull(strstr(why, "beyond the 16th"));
	trc_close(r);

	p = write_tmp_str("sw.txt",
		      "x 5 [002] 7.5: sched:sched_switch: prev_comm=x prev_pid=5 "
		      "prev_prio=120 prev_state=S ==> next_comm=y next_pid=6 "
		      "next_prio=120\n");
	r = open_ok(p, NULL);
	ck_assert_str_eq(trc_format_name(r), "perf-script");
	ck_assert_int_eq(trc_n_counters(r), 0);
	ck_assert_int_eq(trc_next(r, &rec, &d), 1);
	ck_assert_int_eq(rec.u.pmc.cpu, 2);
	ck_assert_int_eq(rec.u.pmc.t_ns, 0);
	ck_assert_str_eq(trc_vm_name(r, rec.u.pmc.vm), "5");
	ck_assert_int_eq(trc_next(r, &rec, &d), 0);
	trc_close(r);
}
END_TEST

static const char FREQ_HDR[] =
	"# event : name = cycles, , id = { 1 }, { sample_period, sample_freq } "
	"= 4000, sample_type = IP|TID|TIME|PERIOD, freq = 1\n";

static const struct err_case script_errors[] = {
	{ S("perf 1 [000] 1.000000: cycles:\n"), JV_EPARSE, 1,
	  "without a period" },
	{ S("a 1 [000] 1.0: 10 cycles:\na 1 [000] 1.1: sched:sched_switch: "
	    "garbage\n"), JV_EPARSE, 2, "sched_switch: expected" },
	{ S("a 1 [001] 1.0: 10 cycles:\na 1 [000] 3.0: 10 cycles:\n"
	    "a 1 [000] 2.0: 10 cycles:\n"), JV_EORDER, 3,
	  "time: goes backwards (1000000000 < 2000000000 ns at line 2) for cpu 0" },
	{ S("a 1 [000] 1.0: 10 cycles:\na 1 [001] 0.5: 10 cycles:\n"),
	  JV_EORDER, 2, "before the first event" },
	{ S("a 1 [000] 1.0: 10 cycles:\na 1 [1024] 1.1: 10 cycles:\n"),
	  JV_EPARSE, 2, "cpu: out of range" },
	{ S("a 1 [000] 1.0: 10 cycles:\ngarbage here\n"), JV_EPARSE, 2,
	  "expected an event line" },
	{ S("a 1 [000] 1.0: 18446744073709551615 cycles:\n"
	    "a 1 [000] 1.1: 1 cycles:\n"), JV_ERANGE, 2, "overflows" },
	{ S("a 1 [000] 1.0: sched:sched_wakeup: comm=x pid=1\n"), JV_EEMPTY, 0,
	  "no counter samples and no sched:sched_switch" },
	{ S("a 1 [000] 1.0: 10 cycles:\na b [000] 1.1: 10 cycles:\n"),
	  JV_EPARSE, 2, "numeric TID" },
	{ S("a 1 [000] 1.0: 10 cycles:\na 1 [000] 1.1: 10 cycles\n"),
	  JV_EPARSE, 2, "event: expected 'EVENT:'" },
	{ S("a 1 [000] 1.0: 10 cycles:\n"
	    "a 1 [000] 1.1: 99999999999999999999 cycles:\n"), JV_EPARSE, 2,
	  "period: out of range" },
	{ S("a 1 [000] 1.0: 10 cycles:\na 1 [000] 1.x: 10 cycles:\n"),
	  JV_EPARSE, 2, "expected an event line" },
};

START_TEST(script_error_table)
{
	const struct err_case *c = &script_errors[_i];
	expect_error(c->content, c->len, "perf-script", c->code, c->line,
		     c->frag);
}
END_TEST

/* Frequency mode: the header's number is a frequency, not a period. */
START_TEST(script_error_freq_header)
{
	char buf[512];
	int n = snprintf(buf, sizeof buf, "%sa 1 [000] 1.0: cycles:\n", FREQ_HDR);
	expect_error(buf, (size_t)n, "perf-script", JV_EPARSE, 2,
		     "without a period");
	/* with the period on the line it reads */
	n = snprintf(buf, sizeof buf, "%sa 1 [000] 1.0: 4000 cycles:\n", FREQ_HDR);
	const char *p = write_tmp("freq.txt", buf, (size_t)n);
	struct trc_record rec;
	long cnt;
	struct jv_diag d;
	ck_assert_int_eq(read_trace(p, NULL, &rec, 1, &cnt, &d), 0);
	ck_assert_int_eq(cnt, 1);
	ck_assert_uint_eq(rec.u.pmc.ctr[0], 4000);
}
END_TEST

/* A sched_switch first seen after the first MiB of a sample-only file. */
START_TEST(script_error_late_switch)
{
	size_t cap = MIB + 64 * 1024, at = 0;
	char *buf = malloc(cap);
	ck_assert_ptr_nonnull(buf);
	long lines = 0;
	while (at < MIB + 1000) {
		at += (size_t)snprintf(buf + at, cap - at,
				       "a 1 [000] 1.%06ld: 10 cycles:\n", lines);
		lines++;
	}
	at += (size_t)snprintf(buf + at, cap - at,
			       "a 1 [000] 2.0: sched:sched_switch: prev_comm=a "
			       "prev_pid=1 prev_prio=1 prev_state=S ==> "
			       "next_comm=b next_pid=2 next_prio=1\n");
	expect_error(buf, at, "perf-script", JV_EPARSE, lines + 1,
		     "first seen after the first MiB");
	free(buf);
}
END_TEST

static Suite *fmt_perf_suite(void)
{
	Suite *s = suite_create("fmt_perf");
	TCase *tc = tmp_tcase("perf-stat");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, stat_real_paired, 0,
			    (int)(sizeof paired / sizeof paired[0]));
	tcase_add_test(tc, stat_real_first_record_units);
	tcase_add_test(tc, stat_real_odroid_human);
	tcase_add_test(tc, stat_real_to_native_csv);
	tcase_add_loop_test(tc, stat_fixture_records, 0,
			    (int)(sizeof stat_fixtures / sizeof stat_fixtures[0]));
	tcase_add_test(tc, stat_generated_ok);
	tcase_add_test(tc, stat_probe);
	tcase_add_loop_test(tc, stat_error_table, 0,
			    (int)(sizeof stat_errors / sizeof stat_errors[0]));
	tcase_add_test(tc, stat_error_limits);
	suite_add_tcase(s, tc);
	tc = tmp_tcase("perf-script");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, script_real_samples);
	tcase_add_loop_test(tc, script_fixture_records, 0,
			    (int)(sizeof script_fixtures /
				  sizeof script_fixtures[0]));
	tcase_add_test(tc, script_generated_ok);
	tcase_add_loop_test(tc, script_error_table, 0,
			    (int)(sizeof script_errors / sizeof script_errors[0]));
	tcase_add_test(tc, script_error_freq_header);
	tcase_add_test(tc, script_error_late_switch);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(fmt_perf_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
