/*
 * check_trc: the native trace readers and writers (traces/trc.h).
 *
 * Valid fixtures (tests/fixtures/trc/) are read completely and their
 * records compared field by field; error cases are generated into a
 * temporary directory from a table (content, expected code, "FILE:LINE: "
 * and a message fragment); a 200k-record file checks streaming (sums,
 * constant reader memory); every kind is written and read back.
 */
#define _XOPEN_SOURCE 700 /* nftw (check_tmpdir.h) */
#include <check.h>
#include <dirent.h>
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

#define CK_TMP_PREFIX "check_trc"
#include "check_trc_fixture.h"

#ifndef JV_FIXTURES
#define JV_FIXTURES "tests/fixtures"
#endif
#define FIX(name) JV_FIXTURES "/trc/" name

/* ---- helpers -------------------------------------------------------- */

static int count_dir_entries(const char *dir)
{
	DIR *dp = opendir(dir);
	ck_assert_ptr_nonnull(dp);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(dp)) != NULL)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(dp);
	return n;
}

static long file_size(const char *path)
{
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	return (long)st.st_size;
}

/* ---- valid fixtures --------------------------------------------------- */

static const struct {
	const char *file;
	int kind;
	long records;
	int vms;
	int counters;
} valid_files[] = {
	{ FIX("pmc.csv"), TRC_PMC, 7, 3, 3 },
	{ FIX("pmc-interval.csv"), TRC_PMC_INTERVAL, 5, 2, 2 },
	{ FIX("blk.csv"), TRC_BLK, 5, 3, 0 },
	{ FIX("blk-interval.csv"), TRC_BLK_INTERVAL, 4, 2, 0 },
	{ FIX("blk-crlf.csv"), TRC_BLK, 2, 2, 0 },
};

START_TEST(test_valid_fixture)
{
	struct jv_diag d;
	struct trc_reader *r;
	struct trc_record rec;
	jv_diag_clear(&d);
	int rc = trc_open(valid_files[_i].file, NULL, &r, &d);
	ck_assert_msg(rc == 0, "%s: %s", valid_files[_i].file, d.msg);
	ck_assert_int_eq(trc_kind(r), valid_files[_i].kind);
	ck_assert_str_eq(trc_path(r), valid_files[_i].file);
	ck_assert_str_eq(trc_format_name(r),
			 trc_kind_name(valid_files[_i].kind));
	ck_assert_int_eq(trc_n_counters(r), valid_files[_i].counters);
	long n = 0, last_line = 0;
	while ((rc = trc_next(r, &rec, &d)) == 1) {
		ck_assert_int_eq(rec.kind, valid_files[_i].kind);
		ck_assert_int_gt(rec.line, last_line);
		last_line = rec.line;
		n++;
	}
	ck_assert_msg(rc == 0, "%s", d.msg);
	ck_assert_int_eq(n, valid_files[_i].records);
	ck_assert_int_eq(trc_n_vms(r), valid_files[_i].vms);
	ck_assert_uint_eq(trc_bytes_read(r),
			  (uint64_t)file_size(valid_files[_i].file));
	/* EOF is sticky */
	ck_assert_int_eq(trc_next(r, &rec, &d), 0);
	ck_assert_int_eq(trc_next(r, &rec, &d), 0);
	trc_close(r);
}
END_TEST

START_TEST(test_pmc_values)
{
	struct jv_diag d;
	struct trc_reader *r;
	struct trc_record rec;
	jv_diag_clear(&d);
	ck_assert_int_eq(trc_open(FIX("pmc.csv"), "pmc", &r, &d), 0);
	ck_assert_str_eq(trc_counter_name(r, 0), "tsc");
	ck_assert_str_eq(trc_counter_name(r, 1), "instructions");
	ck_assert_str_eq(trc_counter_name(r, 2), "llc_misses");
	ck_assert_ptr_null(trc_counter_name(r, 3));
	ck_assert_int_eq(trc_next(r, &rec, &d), 1);
	ck_assert_int_eq(rec.line, 5);
	ck_assert_int_eq(rec.u.pmc.t_ns, 1000000);
	ck_assert_int_eq(rec.u.pmc.cpu, 0);
	ck_assert_str_eq(trc_vm_name(r, rec.u.pmc.vm), "web");
	ck_assert_uint_eq(rec.u.pmc.ctr[0], 2000000);
	ck_assert_uint_eq(rec.u.pmc.ctr[1], 1500000);
	ck_assert_uint_eq(rec.u.pmc.ctr[2], 1200);
	ck_assert_uint_eq(rec.u.pmc.ctr[3], 0); /* unused counters zeroed */
	ck_assert_int_eq(trc_next(r, &rec, &d), 1);
	ck_assert_int_eq(rec.u.pmc.cpu, 1);
	ck_assert_str_eq(trc_vm_name(r, rec.u.pmc.vm), "db");
	ck_assert_int_eq(trc_next(r, &rec, &d), 1);
	ck_assert_int_eq(rec.line, 8); /* after a blank line */
	ck_assert_str_eq(trc_vm_name(r, rec.u.pmc.vm), "batch");
	ck_assert_int_eq(rec.u.pmc.vm, 2);
	ck_assert_int_eq(trc_next(r, &rec, &d), 1);
	ck_assert_int_eq(rec.line, 10);
	ck_assert_int_eq(rec.u.pmc.vm, 0); /* "web" interned once */
	ck_assert_ptr_null(trc_vm_name(r, 3));
	ck_assert_ptr_null(trc_vm_name(r, -1));
	trc_close(r);
}
END_TEST

START_TEST(test_pmci_values)
{
	struct jv_diag d;
	struct trc_reader *r;
	struct trc_record rec;
	jv_diag_clear(&d);
	ck_assert_int_eq(trc_open(FIX("pmc-interval.csv"), NULL, &r, &d), 0);
	ck_assert_str_eq(trc_counter_name(r, 1), "instructions");
	uint64_t sum_cycles = 0;
	int n = 0;
	while (trc_next(r, &rec, &d) == 1) {
		if (n++ == 1) {
			ck_assert_int_eq(rec.line, 5);
			ck_assert_int_eq(rec.u.pmci.t_ns, 100000000);
			ck_assert_str_eq(trc_vm_name(r, rec.u.pmci.vm), "db");
			ck_assert_uint_eq(rec.u.pmci.delta[1], 80000000);
		}
		sum_cycles += rec.u.pmci.delta[0];
	}
	ck_assert_uint_eq(sum_cycles, 740000000);
	trc_close(r);
}
END_TEST

START_TEST(test_blk_values)
{
	struct jv_diag d;
	struct trc_reader *r;
	struct trc_record rec;
	jv_diag_clear(&d);
	ck_assert_int_eq(trc_open(FIX("blk.csv"), "auto", &r, &d), 0);
	ck_assert_int_eq(trc_n_counters(r), 0);
	ck_assert_ptr_null(trc_counter_name(r, 0));
	ck_assert_int_eq(trc_next(r, &rec, &d), 1);
	ck_assert_int_eq(rec.u.blk.op, TRC_OP_READ);
	ck_assert_int_eq(rec.u.blk.latency_ns, 150000);
	ck_assert_int_eq(trc_next(r, &rec, &d), 1);
	ck_assert_int_eq(rec.u.blk.t_ns, 2000);
	ck_assert_int_eq(rec.u.blk.op, TRC_OP_WRITE);
	ck_assert_int_eq(rec.u.blk.offset_b, 1048576);
	ck_assert_int_eq(rec.u.blk.size_b, 65536);
	ck_assert_int_eq(rec.u.blk.disk, 1);
	ck_assert_int_eq(trc_next(r, &rec, &d), 1);
	ck_assert_int_eq(rec.u.blk.latency_ns, -1); /* -1: unknown */
	ck_assert_int_eq(trc_next(r, &rec, &d), 1);
	ck_assert_str_eq(trc_vm_name(r, rec.u.blk.vm), "db.replica-2");
	ck_assert_int_eq(rec.u.blk.latency_ns, 0);
	trc_close(r);

	ck_assert_int_eq(trc_open(FIX("blk-interval.csv"), NULL, &r, &d), 0);
	int64_t rb = 0, wb = 0, reads = 0, writes = 0;
	while (trc_next(r, &rec, &d) == 1) {
		rb += rec.u.blki.read_b;
		wb += rec.u.blki.write_b;
		reads += rec.u.blki.reads;
		writes += rec.u.blki.writes;
		if (rec.line == 6)
			ck_assert_int_eq(rec.u.blki.disk, 1);
	}
	ck_assert_int_eq(rb, 1228800);
	ck_assert_int_eq(wb, 1052672);
	ck_assert_int_eq(reads, 300);
	ck_assert_int_eq(writes, 17);
	trc_close(r);

	/* CRLF and no final newline */
	ck_assert_int_eq(trc_open(FIX("blk-crlf.csv"), NULL, &r, &d), 0);
	ck_assert_int_eq(trc_next(r, &rec, &d), 1);
	ck_assert_int_eq(rec.line, 5);
	ck_assert_str_eq(trc_vm_name(r, rec.u.blk.vm), "vm1");
	ck_assert_int_eq(rec.u.blk.size_b, 4096);
	ck_assert_int_eq(trc_next(r, &rec, &d), 1);
	ck_assert_int_eq(rec.line, 6);
	ck_assert_int_eq(rec.u.blk.size_b, 1024); /* not "1024\r" */
	ck_assert_int_eq(rec.u.blk.latency_ns, -1);
	ck_assert_int_eq(rec.u.blk.disk, 0);
	ck_assert_int_eq(trc_next(r, &rec, &d), 0);
	trc_close(r);
}
END_TEST

/* blk optional columns, all combinations */
static const struct {
	const char *header;
	const char *row;
	int64_t latency;
	int32_t disk;
} blk_opt[] = {
	{ "t_ns,vm,op,offset_b,size_b", "5,a,W,7,8", -1, 0 },
	{ "t_ns,vm,op,offset_b,size_b,latency_ns", "5,a,W,7,8,99", 99, 0 },
	{ "t_ns,vm,op,offset_b,size_b,disk", "5,a,W,7,8,disk3", -1, 3 },
	{ "t_ns,vm,op,offset_b,size_b,latency_ns,disk", "5,a,W,7,8,42,disk12",
	  42, 12 },
	{ "t_ns,vm,op,offset_b,size_b,latency_ns,disk", "5,a,W,7,8,-1,disk0",
	  -1, 0 },
};

START_TEST(test_blk_optional_columns)
{
	char text[256];
	snprintf(text, sizeof text, "# joulevisor blk v1\n%s\n%s\n",
		 blk_opt[_i].header, blk_opt[_i].row);
	const char *path = write_tmp_str("opt.csv", text);
	struct jv_diag d;
	struct trc_reader *r;
	struct trc_record rec;
	jv_diag_clear(&d);
	ck_assert_int_eq(trc_open(path, NULL, &r, &d), 0);
	ck_assert_msg(trc_next(r, &rec, &d) == 1, "%s", d.msg);
	ck_assert_int_eq(rec.u.blk.t_ns, 5);
	ck_assert_int_eq(rec.u.blk.op, TRC_OP_WRITE);
	ck_assert_int_eq(rec.u.blk.offset_b, 7);
	ck_assert_int_eq(rec.u.blk.size_b, 8);
	ck_assert_int_eq(rec.u.blk.latency_ns, blk_opt[_i].latency);
	ck_assert_int_eq(rec.u.blk.disk, blk_opt[_i].disk);
	ck_assert_int_eq(trc_next(r, &rec, &d), 0);
	trc_close(r);
}
END_TEST

/* Odd but valid inputs. */
static const struct {
	const char *name;
	const char *text;
	long records;
} valid_texts[] = {
	{ "limits",
	  "# joulevisor pmc v1\nt_ns,cpu,vm,c\n"
	  "9223372036854775807,1023,a,18446744073709551615\n", 1 },
	{ "leading zeros", "# joulevisor pmc v1\nt_ns,cpu,vm,c\n007,00,a,0010\n",
	  1 },
	{ "comments before header",
	  "# joulevisor blk v1\n\n# hi\n   \nt_ns,vm,op,offset_b,size_b\n", 0 },
	{ "whitespace-only and tab lines",
	  "# joulevisor blk v1\nt_ns,vm,op,offset_b,size_b\n \t \n1,a,R,0,1\n\t\n", 1 },
	{ "version line trailing blanks",
	  "# joulevisor blk v1  \r\nt_ns,vm,op,offset_b,size_b\r\n1,a,R,0,1\r\n", 1 },
	{ "utf-8 bom",
	  "\xEF\xBB\xBF# joulevisor blk v1\nt_ns,vm,op,offset_b,size_b\n1,a,R,0,1", 1 },
	{ "equal times and counters on one cpu",
	  "# joulevisor pmc v1\nt_ns,cpu,vm,c\n5,0,a,1\n5,0,b,1\n5,1,a,0\n", 3 },
	{ "per-cpu order only",
	  "# joulevisor pmc v1\nt_ns,cpu,vm,c\n9,0,a,1\n3,1,b,1\n10,0,a,2\n", 3 },
	{ "per-vm order only",
	  "# joulevisor pmc-interval v1\nt_ns,vm,c\n9,a,1\n3,b,1\n10,a,0\n", 3 },
	{ "blk-interval per-vm order",
	  "# joulevisor blk-interval v1\nt_ns,vm,disk,read_b,write_b,reads,writes\n"
	  "9,a,disk0,0,0,0,0\n3,b,disk1,1,1,1,1\n", 2 },
	{ "counter names with odd characters",
	  "# joulevisor pmc-interval v1\nt_ns,vm,cpu/event=0x3c/ ,L1-dcache loads,\xc3\xa9\n"
	  "1,a,1,2,3\n", 1 },
	{ "16 counters",
	  "# joulevisor pmc-interval v1\nt_ns,vm,c1,c2,c3,c4,c5,c6,c7,c8,c9,c10,"
	  "c11,c12,c13,c14,c15,c16\n1,a,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16\n", 1 },
	{ "63-character vm name",
	  "# joulevisor blk v1\nt_ns,vm,op,offset_b,size_b\n"
	  "1,abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ01234567_.-,R,0,1\n",
	  1 },
	{ "header only", "# joulevisor blk-interval v1\n"
	  "t_ns,vm,disk,read_b,write_b,reads,writes", 0 },
};

START_TEST(test_valid_text)
{
	const char *path = write_tmp_str("valid.csv", valid_texts[_i].text);
	struct jv_diag d;
	long n;
	int rc = read_trace(path, NULL, NULL, 0, &n, &d);
	ck_assert_msg(rc == 0, "%s: %s", valid_texts[_i].name, d.msg);
	ck_assert_msg(n == valid_texts[_i].records, "%s: %ld records",
		      valid_texts[_i].name, n);
}
END_TEST

START_TEST(test_limit_values)
{
	const char *path = write_tmp_str("lim.csv", valid_texts[0].text);
	struct jv_diag d;
	struct trc_reader *r;
	struct trc_record rec;
	jv_diag_clear(&d);
	ck_assert_int_eq(trc_open(path, NULL, &r, &d), 0);
	ck_assert_int_eq(trc_next(r, &rec, &d), 1);
	ck_assert_int_eq(rec.u.pmc.t_ns, INT64_MAX);
	ck_assert_int_eq(rec.u.pmc.cpu, 1023);
	ck_assert_uint_eq(rec.u.pmc.ctr[0], UINT64_MAX);
	trc_close(r);

	path = write_tmp_str("names.csv", valid_texts[10].text);
	ck_assert_int_eq(trc_open(path, NULL, &r, &d), 0);
	ck_assert_int_eq(trc_n_counters(r), 3);
	ck_assert_str_eq(trc_counter_name(r, 0), "cpu/event=0x3c/ ");
	ck_assert_str_eq(trc_counter_name(r, 1), "L1-dcache loads");
	ck_assert_str_eq(trc_counter_name(r, 2), "\xc3\xa9");
	trc_close(r);
}
END_TEST

/* A comment line of exactly the maximum length is fine; one byte more is
 * an error naming the line. */
START_TEST(test_long_lines)
{
	size_t max = 64 * 1024;
	size_t cap = max + 200;
	char *text = malloc(cap);
	ck_assert_ptr_nonnull(text);
	for (int extra = 0; extra <= 1; extra++) {
		size_t n = (size_t)snprintf(text, cap,
					    "# joulevisor blk v1\nt_ns,vm,op,offset_b,size_b\n1,a,R,0,1\n");
		memset(text + n, '#', max + (size_t)extra);
		n += max + (size_t)extra;
		n += (size_t)snprintf(text + n, cap - n, "\r\n2,a,R,0,1\n");
		const char *path = write_tmp("long.csv", text, n);
		struct jv_diag d;
		long recs;
		int rc = read_trace(path, NULL, NULL, 0, &recs, &d);
		if (!extra) {
			ck_assert_msg(rc == 0, "%s", d.msg);
			ck_assert_int_eq(recs, 2);
		} else {
			ck_assert_int_eq(rc, JV_ELIMIT);
			ck_assert_int_eq(recs, 1);
			ck_assert_ptr_nonnull(strstr(d.msg, "long.csv:4: line too long"));
		}
	}
	free(text);
}
END_TEST

/* ---- errors ------------------------------------------------------------ */

#define V_PMC "# joulevisor pmc v1\n"
#define H_PMC "t_ns,cpu,vm,tsc,instructions\n"
#define V_PMCI "# joulevisor pmc-interval v1\n"
#define H_PMCI "t_ns,vm,cycles\n"
#define V_BLK "# joulevisor blk v1\n"
#define H_BLK "t_ns,vm,op,offset_b,size_b\n"
#define H_BLK7 "t_ns,vm,op,offset_b,size_b,latency_ns,disk\n"
#define V_BLKI "# joulevisor blk-interval v1\n"
#define H_BLKI "t_ns,vm,disk,read_b,write_b,reads,writes\n"

static const struct err_case {
	const char *name;
	const char *text;
	const char *format; /* NULL: auto */
	int err;
	long line; /* expected "FILE:LINE: ", 0: "FILE: " */
	const char *fragment;
} err_cases[] = {
	/* file level */
	{ "empty", "", NULL, JV_EEMPTY, 0,
	  "empty file: expected '# joulevisor <kind> v1'" },
	{ "blank lines only", "\n\r\n  \n", NULL, JV_EEMPTY, 0, "empty file" },
	{ "empty with format", "", "blk", JV_EEMPTY, 0, "empty file" },
	{ "empty msr names its format", "", "msr", JV_EEMPTY, 0, "empty file: no msr trace records" },
	{ "empty spc names its format", "\n", "spc", JV_EEMPTY, 0, "empty file: no spc trace records" },
	{ "not a trace", "t_ns,vm\n1,a\n", NULL, JV_EPARSE, 1,
	  "unrecognised trace format, first line 't_ns,vm'" },
	{ "unknown kind", "# joulevisor power v1\n", NULL, JV_EUNKNOWN, 1,
	  "unknown trace kind 'power' (supported: pmc, pmc-interval, blk, "
	  "blk-interval" },
	{ "unknown kind explicit", "# joulevisor power v1\n", "pmc",
	  JV_EUNKNOWN, 1, "unknown trace kind 'power'" },
	{ "v2", "# joulevisor pmc v2\n" H_PMC, NULL, JV_EPARSE, 1,
	  "unsupported version 'v2' of pmc traces (supported: v1)" },
	{ "v2 blk-interval", "# joulevisor blk-interval v2\n", NULL, JV_EPARSE,
	  1, "unsupported version 'v2' of blk-interval traces" },
	{ "no version", "# joulevisor pmc\n" H_PMC, NULL, JV_EPARSE, 1,
	  "missing version: expected '# joulevisor pmc v1'" },
	{ "format mismatch", V_BLK H_BLK, "pmc", JV_EPARSE, 1,
	  "expected a pmc trace ('# joulevisor pmc v1'), found '# joulevisor "
	  "blk v1'" },
	{ "format given, not native", "hello\n", "blk-interval", JV_EPARSE, 1,
	  "expected '# joulevisor blk-interval v1', found 'hello'" },
	{ "missing header", V_PMC "# only comments\n\n", NULL, JV_EPARSE, 4,
	  "missing header: expected 't_ns,cpu,vm,<counters...>'" },
	{ "missing header no newline", V_BLK, NULL, JV_EPARSE, 2,
	  "missing header: expected 't_ns,vm,op,offset_b,size_b[,latency_ns][,disk]'" },
	{ "NUL byte", V_BLK H_BLK "1,a,R,0,1\n2,a,R\0,0,1\n", NULL, JV_EPARSE, 4,
	  "NUL byte in line (column 6)" },
	{ "NUL in comment", V_BLK "# a\0b\n" H_BLK, NULL, JV_EPARSE, 2,
	  "NUL byte in line" },
	/* headers */
	{ "header wrong name", V_PMC "t_ns,cpus,vm,tsc\n", NULL, JV_EPARSE, 2,
	  "header: column 2: expected 'cpu', found 'cpus'" },
	{ "header missing column", V_PMC "t_ns,cpu\n", NULL, JV_EPARSE, 2,
	  "header: missing column 3 'vm' (expected 't_ns,cpu,vm,<counters...>')" },
	{ "header is a row", V_BLK "1,a,R,0,1\n", NULL, JV_EPARSE, 2,
	  "header: column 1: expected 't_ns', found '1'" },
	{ "header case", V_PMCI "T_NS,vm,c\n", NULL, JV_EPARSE, 2,
	  "header: column 1: expected 't_ns', found 'T_NS'" },
	{ "no counters", V_PMC "t_ns,cpu,vm\n", NULL, JV_EPARSE, 2,
	  "header: no counter columns" },
	{ "no counters pmci", V_PMCI "# c\nt_ns,vm\n", NULL, JV_EPARSE, 3,
	  "header: no counter columns (expected 't_ns,vm,<counters...>'" },
	{ "17 counters", V_PMCI "t_ns,vm,a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q\n",
	  NULL, JV_ELIMIT, 2, "header: too many counter columns (17, at most 16)" },
	{ "duplicate counter", V_PMC "t_ns,cpu,vm,a,b,a\n", NULL, JV_EPARSE, 2,
	  "header: column 6: duplicate counter 'a' (also column 4)" },
	{ "empty counter", V_PMC "t_ns,cpu,vm,a,,b\n", NULL, JV_EPARSE, 2,
	  "header: column 5: empty counter name" },
	{ "trailing comma header", V_PMC "t_ns,cpu,vm,a,\n", NULL, JV_EPARSE, 2,
	  "header: column 5: empty counter name" },
	{ "blk unknown column", V_BLK "t_ns,vm,op,offset_b,size_b,foo\n", NULL,
	  JV_EPARSE, 2, "header: column 6: unexpected column 'foo'" },
	{ "blk disk before latency",
	  V_BLK "t_ns,vm,op,offset_b,size_b,disk,latency_ns\n", NULL, JV_EPARSE,
	  2, "header: column 7: unexpected column 'latency_ns'" },
	{ "blk duplicate disk", V_BLK "t_ns,vm,op,offset_b,size_b,disk,disk\n",
	  NULL, JV_EPARSE, 2, "header: column 7: unexpected column 'disk'" },
	{ "blk missing size", V_BLK "t_ns,vm,op,offset_b\n", NULL, JV_EPARSE, 2,
	  "header: missing column 5 'size_b'" },
	{ "blki extra column", V_BLKI "t_ns,vm,disk,read_b,write_b,reads,writes,x\n",
	  NULL, JV_EPARSE, 2, "header: column 8: unexpected column 'x'" },
	/* field counts */
	{ "too few fields", V_PMC H_PMC "1,0,a,5\n", NULL, JV_EPARSE, 3,
	  "expected 5 fields, found 4" },
	{ "too many fields", V_PMC H_PMC "1,0,a,5,6,7\n", NULL, JV_EPARSE, 3,
	  "expected 5 fields, found 6" },
	{ "trailing comma", V_BLK H_BLK "1,a,R,0,1,\n", NULL, JV_EPARSE, 3,
	  "expected 5 fields, found 6" },
	{ "count beats value", V_BLK H_BLK7 "1x,a,R,0,1,5\n", NULL, JV_EPARSE, 3,
	  "expected 7 fields, found 6" },
	{ "first error wins", V_BLK H_BLK "1,a,R,0,1\nx,a,R,0,1\n1,a,Q,0,1\n",
	  NULL, JV_EPARSE, 4, "t_ns: not an unsigned integer 'x'" },
	/* numbers */
	{ "t_ns not a number", V_BLK H_BLK "12a,a,R,0,1\n", NULL, JV_EPARSE, 3,
	  "t_ns: not an unsigned integer '12a'" },
	{ "t_ns empty", V_BLK H_BLK ",a,R,0,1\n", NULL, JV_EPARSE, 3,
	  "t_ns: empty field" },
	{ "t_ns space", V_BLK H_BLK " 1,a,R,0,1\n", NULL, JV_EPARSE, 3,
	  "t_ns: not an unsigned integer ' 1'" },
	{ "t_ns plus", V_BLK H_BLK "+1,a,R,0,1\n", NULL, JV_EPARSE, 3,
	  "t_ns: not an unsigned integer '+1'" },
	{ "t_ns float", V_PMCI H_PMCI "1.5,a,1\n", NULL, JV_EPARSE, 3,
	  "t_ns: not an unsigned integer '1.5'" },
	{ "t_ns negative", V_PMCI H_PMCI "-5,a,1\n", NULL, JV_ERANGE, 3,
	  "t_ns: negative value '-5'" },
	{ "t_ns beyond int64", V_PMCI H_PMCI "9223372036854775808,a,1\n", NULL,
	  JV_ERANGE, 3, "t_ns: out of range '9223372036854775808'" },
	{ "size_b overflow", V_BLK H_BLK "1,a,R,0,99999999999999999999\n", NULL,
	  JV_ERANGE, 3, "size_b: out of range" },
	{ "size_b zero", V_BLK H_BLK "1,a,R,0,0\n", NULL, JV_ERANGE, 3,
	  "size_b: must be > 0, found '0'" },
	{ "offset_b negative", V_BLK H_BLK "1,a,R,-4096,1\n", NULL, JV_ERANGE, 3,
	  "offset_b: negative value '-4096'" },
	{ "latency negative", V_BLK H_BLK7 "1,a,R,0,1,-2,disk0\n", NULL,
	  JV_ERANGE, 3, "latency_ns: negative value '-2' (only -1" },
	{ "latency -1x", V_BLK H_BLK7 "1,a,R,0,1,-1x,disk0\n", NULL, JV_EPARSE, 3,
	  "latency_ns: not an unsigned integer '-1x'" },
	{ "latency -10", V_BLK H_BLK7 "1,a,R,0,1,-10,disk0\n", NULL, JV_ERANGE, 3,
	  "latency_ns: negative value '-10'" },
	{ "counter overflow", V_PMC H_PMC "1,0,a,18446744073709551616,1\n", NULL,
	  JV_ERANGE, 3, "tsc: out of range '18446744073709551616' (max "
	  "18446744073709551615)" },
	{ "counter negative", V_PMC H_PMC "1,0,a,1,-1\n", NULL, JV_ERANGE, 3,
	  "instructions: negative value '-1'" },
	{ "counter hex", V_PMCI H_PMCI "1,a,0x10\n", NULL, JV_EPARSE, 3,
	  "cycles: not an unsigned integer '0x10'" },
	{ "cpu out of range", V_PMC H_PMC "1,1024,a,1,1\n", NULL, JV_ERANGE, 3,
	  "cpu: out of range '1024' (0..1023)" },
	{ "cpu negative", V_PMC H_PMC "1,-1,a,1,1\n", NULL, JV_ERANGE, 3,
	  "cpu: negative value '-1'" },
	{ "blki header missing", V_BLKI "1,a,disk0,0,0,-3,0\n", NULL, JV_EPARSE,
	  2, "header: column 1" },
	{ "blki writes negative", V_BLKI H_BLKI "1,a,disk0,0,0,3,-1\n", NULL,
	  JV_ERANGE, 3, "writes: negative value '-1'" },
	{ "blki read_b text", V_BLKI H_BLKI "1,a,disk0,lots,0,3,1\n", NULL,
	  JV_EPARSE, 3, "read_b: not an unsigned integer 'lots'" },
	/* op, disk, vm */
	{ "bad op", V_BLK H_BLK "1,a,D,0,1\n", NULL, JV_EPARSE, 3,
	  "op: expected 'R' or 'W', found 'D'" },
	{ "lowercase op", V_BLK H_BLK "1,a,r,0,1\n", NULL, JV_EPARSE, 3,
	  "op: expected 'R' or 'W', found 'r'" },
	{ "long op", V_BLK H_BLK "1,a,RW,0,1\n", NULL, JV_EPARSE, 3,
	  "op: expected 'R' or 'W', found 'RW'" },
	{ "empty op", V_BLK H_BLK "1,a,,0,1\n", NULL, JV_EPARSE, 3,
	  "op: expected 'R' or 'W', found ''" },
	{ "bad disk", V_BLK H_BLK7 "1,a,R,0,1,5,sda\n", NULL, JV_EPARSE, 3,
	  "disk: expected 'diskN' with N in 0..1023, found 'sda'" },
	{ "disk no number", V_BLK H_BLK7 "1,a,R,0,1,5,disk\n", NULL, JV_EPARSE, 3,
	  "disk: expected 'diskN'" },
	{ "disk leading zero", V_BLKI H_BLKI "1,a,disk01,0,0,0,0\n", NULL,
	  JV_EPARSE, 3, "disk: expected 'diskN' with N in 0..1023, found 'disk01'" },
	{ "disk too big", V_BLKI H_BLKI "1,a,disk1024,0,0,0,0\n", NULL, JV_EPARSE,
	  3, "disk: expected 'diskN' with N in 0..1023, found 'disk1024'" },
	{ "disk short at eol", V_BLK H_BLK7 "1,a,R,0,1,5,di", NULL, JV_EPARSE, 3,
	  "disk: expected 'diskN' with N in 0..1023, found 'di'" },
	{ "vm bad char", V_BLK H_BLK "1,a b,R,0,1\n", NULL, JV_EPARSE, 3,
	  "vm: invalid VM name 'a b'" },
	{ "vm slash", V_PMCI H_PMCI "1,web/c1,1\n", NULL, JV_EPARSE, 3,
	  "vm: invalid VM name 'web/c1'" },
	{ "vm empty", V_PMCI H_PMCI "1,,1\n", NULL, JV_EPARSE, 3,
	  "vm: empty VM name" },
	{ "vm too long", V_PMCI H_PMCI
	  "1,abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ01234567_.-x,1\n",
	  NULL, JV_EPARSE, 3, "vm: VM name too long (64 characters, at most 63)" },
	/* order */
	{ "pmc time backwards", V_PMC H_PMC "2000,0,a,1,1\n1000,1,a,1,1\n"
	  "# comment\n1000,0,b,2,2\n", NULL, JV_EORDER, 6,
	  "t_ns: time goes backwards (1000 < 2000 at line 3) for cpu 0" },
	{ "pmc counter backwards", V_PMC H_PMC "1000,0,a,1,10\n2000,1,a,1,1\n"
	  "3000,0,b,2,5\n", NULL, JV_EORDER, 5,
	  "instructions: counter goes backwards (5 < 10 at line 3) for cpu 0; "
	  "counter wrap is not supported in v1" },
	{ "pmci time backwards", V_PMCI H_PMCI "5,web,1\n3,db,1\n4,web,1\n",
	  NULL, JV_EORDER, 5,
	  "t_ns: time goes backwards (4 < 5 at line 3) for vm web" },
	{ "blk time backwards", V_BLK H_BLK "1000,a,R,0,1\n2000,b,R,0,1\n\n"
	  "1500,c,R,0,1\n", NULL, JV_EORDER, 6,
	  "t_ns: time goes backwards (1500 < 2000 at line 4)" },
	{ "blki time backwards", V_BLKI H_BLKI "10,a,disk0,0,0,0,0\n"
	  "10,a,disk1,0,0,0,0\n9,a,disk1,0,0,0,0\n", NULL, JV_EORDER, 5,
	  "t_ns: time goes backwards (9 < 10 at line 4) for vm a" },
};

START_TEST(test_error_case)
{
	const struct err_case *c = &err_cases[_i];
	char fname[64];
	snprintf(fname, sizeof fname, "err%02d.csv", _i);
	/* texts holding a NUL byte: up to the last '\n' after it */
	size_t len = strlen(c->text);
	if (strstr(c->name, "NUL")) {
		const char *p = c->text + len + 1;
		while (*p)
			p++;
		len = (size_t)(p - c->text);
	}
	const char *path = write_tmp(fname, c->text, len);
	struct jv_diag d;
	long n;
	int rc = read_trace(path, c->format, NULL, 0, &n, &d);
	ck_assert_msg(rc == c->err, "%s: rc %s, want %s (%s)", c->name,
		      jv_errname(rc), jv_errname(c->err), d.msg);
	ck_assert_int_eq(d.err, c->err);
	assert_msg_at(c->name, d.msg, path, c->line, c->fragment);
}
END_TEST

/* Errors are sticky: trc_next keeps returning the same code and message. */
/* A file of blank lines longer than the probe is still "empty". */
START_TEST(test_long_blank_file)
{
	char text[4096];
	for (size_t i = 0; i < sizeof text; i++)
		text[i] = i % 3 == 2 ? '\n' : ' ';
	const char *path = write_tmp("blank.csv", text, sizeof text);
	struct jv_diag d;
	long n;
	ck_assert_int_eq(read_trace(path, NULL, NULL, 0, &n, &d), JV_EEMPTY);
	ck_assert_ptr_nonnull(strstr(d.msg, "blank.csv: empty file"));
}
END_TEST

START_TEST(test_sticky_error)
{
	const char *path = write_tmp_str(
		"sticky.csv", V_BLK H_BLK "1,a,R,0,1\n2,a,X,0,1\n3,a,R,0,1\n");
	struct jv_diag d, d2;
	struct trc_reader *r;
	struct trc_record rec;
	jv_diag_clear(&d);
	ck_assert_int_eq(trc_open(path, NULL, &r, &d), 0);
	ck_assert_int_eq(trc_next(r, &rec, &d), 1);
	ck_assert_int_eq(trc_next(r, &rec, &d), JV_EPARSE);
	jv_diag_clear(&d2);
	ck_assert_int_eq(trc_next(r, &rec, &d2), JV_EPARSE);
	ck_assert_str_eq(d.msg, d2.msg);
	ck_assert_int_eq(trc_next(r, &rec, NULL), JV_EPARSE);
	trc_close(r);
}
END_TEST

START_TEST(test_open_errors)
{
	struct jv_diag d;
	struct trc_reader *r = (struct trc_reader *)&d;
	char want[600];

	jv_diag_clear(&d);
	const char *missing = at("no-such-file.csv");
	ck_assert_int_eq(trc_open(missing, NULL, &r, &d), JV_ENOENT);
	ck_assert_ptr_null(r);
	snprintf(want, sizeof want, "%s: cannot open: No such file or directory",
		 missing);
	ck_assert_str_eq(d.msg, want);

	jv_diag_clear(&d);
	ck_assert_int_eq(trc_open(base, NULL, &r, &d), JV_EINVAL);
	ck_assert_ptr_null(r);
	snprintf(want, sizeof want, "%s: cannot open: Is a directory", base);
	ck_assert_msg(strncmp(d.msg, want, strlen(want)) == 0, "%s", d.msg);

	jv_diag_clear(&d);
	ck_assert_int_eq(trc_open(FIX("blk.csv"), "nosuchformat", &r, &d), JV_EUNKNOWN);
	ck_assert_ptr_nonnull(strstr(d.msg, "unknown trace format 'nosuchformat' (valid: "
					    "auto, pmc, pmc-interval, blk, "
					    "blk-interval, "));

	/* the shipped invalid fixtures */
	long n;
	ck_assert_int_eq(read_trace(FIX("pmc-backwards.csv"), NULL, NULL, 0, &n, &d),
			 JV_EORDER);
	ck_assert_ptr_nonnull(strstr(d.msg, "pmc-backwards.csv:5: t_ns: time "
					    "goes backwards (1500 < 2000 at "
					    "line 4) for cpu 1"));
	ck_assert_int_eq(read_trace(FIX("pmc-counter-wrap.csv"), NULL, NULL, 0, &n, &d),
			 JV_EORDER);
	ck_assert_ptr_nonnull(strstr(d.msg, "counter wrap is not supported"));
	ck_assert_int_eq(read_trace(FIX("blk-bad-op.csv"), NULL, NULL, 0, &n, &d),
			 JV_EPARSE);
	ck_assert_int_eq(n, 1);
	ck_assert_ptr_nonnull(strstr(d.msg, "blk-bad-op.csv:4: op: "));
	ck_assert_int_eq(read_trace(FIX("blk-interval-v2.csv"), NULL, NULL, 0, &n, &d),
			 JV_EPARSE);
	ck_assert_ptr_nonnull(strstr(d.msg, ":1: unsupported version 'v2'"));
	ck_assert_int_eq(read_trace(FIX("empty.csv"), NULL, NULL, 0, &n, &d), JV_EEMPTY);
}
END_TEST

/* More than TRC_MAX_VMS (65536) distinct names: a clear limit error. */
START_TEST(test_vm_limit)
{
	const int n_names = 65536 + 1;
	size_t cap = (size_t)n_names * 24 + 64;
	char *text = malloc(cap);
	ck_assert_ptr_nonnull(text);
	size_t n = (size_t)snprintf(text, cap, V_BLK H_BLK);
	for (int i = 0; i < n_names; i++)
		n += (size_t)snprintf(text + n, cap - n, "%d,v%d,R,0,1\n", i, i);
	const char *path = write_tmp("vms.csv", text, n);
	free(text);
	struct jv_diag d;
	long recs;
	ck_assert_int_eq(read_trace(path, NULL, NULL, 0, &recs, &d), JV_ELIMIT);
	ck_assert_int_eq(recs, 65536);
	ck_assert_ptr_nonnull(strstr(d.msg, "vms.csv:65539: vm: too many "
					    "distinct VM names (more than 65536)"));
}
END_TEST

/* ---- long files: streaming, sums, constant memory -------------------- */

#define BIG_RECORDS 200000
#define BIG_CPUS 4
#define BIG_VMS 8

START_TEST(test_big_file)
{
	const char *path = at("big.csv");
	static const char *const ctrs[] = { "tsc", "instructions" };
	const char *vms[BIG_VMS] = { "vm0", "vm1", "vm2", "vm3",
				     "vm4", "vm5", "vm6", "vm7" };
	struct jv_diag d;
	struct trc_writer *w;
	jv_diag_clear(&d);
	ck_assert_int_eq(trc_writer_open(path, TRC_PMC, ctrs, 2, &w, &d), 0);
	uint64_t want_sum_t = 0, want_sum_inst = 0;
	for (long i = 0; i < BIG_RECORDS; i++) {
		struct trc_pmc p = { 0 };
		p.t_ns = 1000 * (i / BIG_CPUS);
		p.cpu = (int32_t)(i % BIG_CPUS);
		p.ctr[0] = (uint64_t)p.t_ns * 3;
		p.ctr[1] = (uint64_t)i * 7 + 1234567890123ull;
		want_sum_t += (uint64_t)p.t_ns;
		want_sum_inst += p.ctr[1];
		ck_assert_int_eq(trc_write_pmc(w, &p, vms[i % BIG_VMS]), 0);
	}
	ck_assert_int_eq(trc_writer_close(w, &d), 0);
	ck_assert_int_gt(file_size(path), 4 * 1024 * 1024); /* > buffer */

	struct trc_reader *r;
	struct trc_record rec;
	ck_assert_int_eq(trc_open(path, NULL, &r, &d), 0);
	uint64_t sum_t = 0, sum_inst = 0;
	long n = 0, per_vm[BIG_VMS] = { 0 };
	size_t mem_early = 0;
	int rc;
	while ((rc = trc_next(r, &rec, &d)) == 1) {
		sum_t += (uint64_t)rec.u.pmc.t_ns;
		sum_inst += rec.u.pmc.ctr[1];
		per_vm[rec.u.pmc.vm]++;
		if (++n == 1000)
			mem_early = trc_mem_bytes(r);
	}
	ck_assert_msg(rc == 0, "%s", d.msg);
	ck_assert_int_eq(n, BIG_RECORDS);
	ck_assert_uint_eq(sum_t, want_sum_t);
	ck_assert_uint_eq(sum_inst, want_sum_inst);
	for (int v = 0; v < BIG_VMS; v++) {
		ck_assert_int_eq(per_vm[v], BIG_RECORDS / BIG_VMS);
		ck_assert_str_eq(trc_vm_name(r, v), vms[v]);
	}
	ck_assert_uint_eq(trc_bytes_read(r), (uint64_t)file_size(path));
	/* memory after 200k records: what it was after 1000, about the
	 * read buffer, nowhere near the file's size */
	ck_assert_uint_eq(trc_mem_bytes(r), mem_early);
	ck_assert_uint_lt(trc_mem_bytes(r), 2 * 1024 * 1024);
	trc_close(r);
}
END_TEST

/* ---- writers --------------------------------------------------------- */

static int blk_eq(const struct trc_blk *a, const struct trc_blk *b)
{
	return a->t_ns == b->t_ns && a->op == b->op &&
	       a->offset_b == b->offset_b && a->size_b == b->size_b &&
	       a->latency_ns == b->latency_ns && a->disk == b->disk;
}

static int blki_eq(const struct trc_blk_interval *a,
		   const struct trc_blk_interval *b)
{
	return a->t_ns == b->t_ns && a->disk == b->disk &&
	       a->read_b == b->read_b && a->write_b == b->write_b &&
	       a->reads == b->reads && a->writes == b->writes;
}

#define RT_N 1000
static const char *const rt_vms[] = { "web", "db", "batch.1", "x-y_z" };

/* Record i of the round-trip set for kind. */
static void rt_record(int kind, int i, struct trc_record *rec)
{
	memset(rec, 0, sizeof *rec);
	rec->kind = kind;
	int64_t t = (int64_t)i * 977;
	if (i == RT_N - 1)
		t = INT64_MAX;
	switch (kind) {
	case TRC_PMC:
		rec->u.pmc.t_ns = t;
		rec->u.pmc.cpu = i % 3 == 2 ? 1023 : i % 3;
		for (int k = 0; k < 3; k++)
			rec->u.pmc.ctr[k] = (uint64_t)i * (uint64_t)(k + 1) * 1000003u;
		if (i == RT_N - 1)
			rec->u.pmc.ctr[2] = UINT64_MAX;
		break;
	case TRC_PMC_INTERVAL:
		rec->u.pmci.t_ns = t;
		for (int k = 0; k < 3; k++)
			rec->u.pmci.delta[k] = (uint64_t)((i * 31 + k) % 17);
		rec->u.pmci.delta[0] = i == 5 ? UINT64_MAX : rec->u.pmci.delta[0];
		break;
	case TRC_BLK:
		rec->u.blk.t_ns = t;
		rec->u.blk.op = i % 2 ? TRC_OP_WRITE : TRC_OP_READ;
		rec->u.blk.offset_b = (int64_t)i * 4096 + (i == 7 ? INT64_MAX / 2 : 0);
		rec->u.blk.size_b = 512 * (i % 9 + 1);
		rec->u.blk.latency_ns = i % 5 == 0 ? -1 : (int64_t)i * 100;
		rec->u.blk.disk = i % 4 == 3 ? 1023 : i % 4;
		break;
	default:
		rec->u.blki.t_ns = t;
		rec->u.blki.disk = i % 2;
		rec->u.blki.read_b = (int64_t)i * 4096;
		rec->u.blki.write_b = i == 9 ? INT64_MAX : (int64_t)i;
		rec->u.blki.reads = i;
		rec->u.blki.writes = i % 3;
		break;
	}
}

START_TEST(test_round_trip)
{
	int kind = _i;
	static const char *const ctrs[] = { "tsc", "cpu/instructions/", "LLC misses" };
	int n_ctr = kind == TRC_PMC || kind == TRC_PMC_INTERVAL ? 3 : 0;
	char name[64];
	snprintf(name, sizeof name, "rt-%s.csv", trc_kind_name(kind));
	const char *path = at(name);
	struct jv_diag d;
	struct trc_writer *w;
	jv_diag_clear(&d);
	ck_assert_int_eq(trc_writer_open(path, kind, n_ctr ? ctrs : NULL, n_ctr,
					 &w, &d), 0);
	for (int i = 0; i < RT_N; i++) {
		struct trc_record rec;
		rt_record(kind, i, &rec);
		const char *vm = rt_vms[i % 4];
		int rc;
		switch (kind) {
		case TRC_PMC:
			rc = trc_write_pmc(w, &rec.u.pmc, vm);
			break;
		case TRC_PMC_INTERVAL:
			rc = trc_write_pmci(w, &rec.u.pmci, vm);
			break;
		case TRC_BLK:
			rc = trc_write_blk(w, &rec.u.blk, vm);
			break;
		default:
			rc = trc_write_blki(w, &rec.u.blki, vm);
			break;
		}
		ck_assert_msg(rc == 0, "record %d: %s", i, trc_writer_diag(w)->msg);
	}
	/* nothing under the final name before close */
	ck_assert_int_ne(access(path, F_OK), 0);
	ck_assert_int_eq(trc_writer_close(w, &d), 0);
	ck_assert_int_eq(access(path, F_OK), 0);

	struct trc_reader *r;
	ck_assert_int_eq(trc_open(path, NULL, &r, &d), 0);
	ck_assert_int_eq(trc_kind(r), kind);
	ck_assert_int_eq(trc_n_counters(r), n_ctr);
	for (int k = 0; k < n_ctr; k++)
		ck_assert_str_eq(trc_counter_name(r, k), ctrs[k]);
	for (int i = 0; i < RT_N; i++) {
		struct trc_record want, got;
		rt_record(kind, i, &want);
		ck_assert_msg(trc_next(r, &got, &d) == 1, "%d: %s", i, d.msg);
		ck_assert_int_eq(got.kind, kind);
		ck_assert_int_eq(got.line, i + 3);
		int vm = kind == TRC_PMC ? got.u.pmc.vm
			 : kind == TRC_PMC_INTERVAL ? got.u.pmci.vm
			 : kind == TRC_BLK ? got.u.blk.vm : got.u.blki.vm;
		ck_assert_str_eq(trc_vm_name(r, vm), rt_vms[i % 4]);
		switch (kind) {
		case TRC_PMC:
			ck_assert_int_eq(got.u.pmc.t_ns, want.u.pmc.t_ns);
			ck_assert_int_eq(got.u.pmc.cpu, want.u.pmc.cpu);
			ck_assert_mem_eq(got.u.pmc.ctr, want.u.pmc.ctr,
					 sizeof got.u.pmc.ctr);
			break;
		case TRC_PMC_INTERVAL:
			ck_assert_int_eq(got.u.pmci.t_ns, want.u.pmci.t_ns);
			ck_assert_mem_eq(got.u.pmci.delta, want.u.pmci.delta,
					 sizeof got.u.pmci.delta);
			break;
		case TRC_BLK:
			ck_assert_msg(blk_eq(&got.u.blk, &want.u.blk), "record %d", i);
			break;
		default:
			ck_assert_msg(blki_eq(&got.u.blki, &want.u.blki), "record %d", i);
			break;
		}
	}
	{
		struct trc_record end;
		ck_assert_int_eq(trc_next(r, &end, &d), 0);
	}
	trc_close(r);
}
END_TEST

/* Writer errors: the first one sticks, close reports it, no file appears
 * and no temporary file is left behind. */
static const struct {
	const char *name;
	int kind;
	int err;
	const char *fragment; /* after "PATH:LINE: " */
	long line;
} writer_errs[] = {
	{ "bad vm", TRC_BLK, JV_EINVAL, "vm: invalid VM name 'a b'", 4 },
	{ "time backwards", TRC_BLK, JV_EORDER,
	  "t_ns: time goes backwards (5 < 10 at line 3)", 4 },
	{ "size zero", TRC_BLK, JV_ERANGE, "size_b: must be > 0, found '0'", 4 },
	{ "counter backwards", TRC_PMC, JV_EORDER,
	  "c1: counter goes backwards (1 < 2 at line 3) for cpu 0", 4 },
	{ "cpu range", TRC_PMC, JV_ERANGE, "cpu: out of range '1024'", 4 },
	{ "pmci vm backwards", TRC_PMC_INTERVAL, JV_EORDER,
	  "t_ns: time goes backwards (8 < 9 at line 3) for vm a", 4 },
	{ "blki negative", TRC_BLK_INTERVAL, JV_ERANGE,
	  "reads: negative value '-1'", 4 },
};

START_TEST(test_writer_errors)
{
	static const char *const ctrs[] = { "c1" };
	int kind = writer_errs[_i].kind;
	const char *path = at("werr.csv");
	int before = count_dir_entries(base);
	struct jv_diag d;
	struct trc_writer *w;
	jv_diag_clear(&d);
	int n_ctr = kind == TRC_PMC || kind == TRC_PMC_INTERVAL;
	ck_assert_int_eq(trc_writer_open(path, kind, n_ctr ? ctrs : NULL, n_ctr,
					 &w, &d), 0);
	int rc = 0;
	switch (_i) {
	case 0: {
		struct trc_blk b = { .t_ns = 1, .size_b = 1 };
		ck_assert_int_eq(trc_write_blk(w, &b, "ok"), 0);
		rc = trc_write_blk(w, &b, "a b");
		break;
	}
	case 1: {
		struct trc_blk b = { .t_ns = 10, .size_b = 1 };
		ck_assert_int_eq(trc_write_blk(w, &b, "a"), 0);
		b.t_ns = 5;
		rc = trc_write_blk(w, &b, "b");
		break;
	}
	case 2: {
		struct trc_blk b = { .t_ns = 10, .size_b = 1 };
		ck_assert_int_eq(trc_write_blk(w, &b, "a"), 0);
		b.size_b = 0;
		rc = trc_write_blk(w, &b, "a");
		break;
	}
	case 3: {
		struct trc_pmc p = { .t_ns = 1, .ctr = { 2 } };
		ck_assert_int_eq(trc_write_pmc(w, &p, "a"), 0);
		p.ctr[0] = 1;
		rc = trc_write_pmc(w, &p, "a");
		break;
	}
	case 4: {
		struct trc_pmc p = { .t_ns = 1 };
		ck_assert_int_eq(trc_write_pmc(w, &p, "a"), 0);
		p.cpu = 1024;
		rc = trc_write_pmc(w, &p, "a");
		break;
	}
	case 5: {
		struct trc_pmc_interval p = { .t_ns = 9 };
		ck_assert_int_eq(trc_write_pmci(w, &p, "a"), 0);
		p.t_ns = 8;
		rc = trc_write_pmci(w, &p, "a");
		break;
	}
	default: {
		struct trc_blk_interval b = { .t_ns = 9 };
		ck_assert_int_eq(trc_write_blki(w, &b, "a"), 0);
		b.reads = -1;
		rc = trc_write_blki(w, &b, "a");
		break;
	}
	}
	ck_assert_int_eq(rc, writer_errs[_i].err);
	char want[600];
	snprintf(want, sizeof want, "%s:%ld: %s", path, writer_errs[_i].line,
		 writer_errs[_i].fragment);
	ck_assert_msg(strstr(trc_writer_diag(w)->msg, want) != NULL,
		      "got '%s' want '%s'", trc_writer_diag(w)->msg, want);
	/* sticky: a valid record now fails the same way */
	if (kind == TRC_BLK) {
		struct trc_blk b = { .t_ns = 100, .size_b = 1 };
		ck_assert_int_eq(trc_write_blk(w, &b, "a"), writer_errs[_i].err);
	}
	ck_assert_int_eq(trc_writer_close(w, &d), writer_errs[_i].err);
	ck_assert_ptr_nonnull(strstr(d.msg, want));
	ck_assert_int_ne(access(path, F_OK), 0);
	ck_assert_int_eq(count_dir_entries(base), before);
}
END_TEST

START_TEST(test_writer_open_errors)
{
	struct jv_diag d;
	struct trc_writer *w = (struct trc_writer *)&d;
	static const char *const dup[] = { "a", "a" };
	static const char *const comma[] = { "a,b" };
	static const char *const empty[] = { "" };
	static const char *const many[17] = { "1", "2", "3", "4", "5", "6",
					      "7", "8", "9", "10", "11", "12",
					      "13", "14", "15", "16", "17" };
	const char *path = at("wopen.csv");
	static const struct {
		int kind;
		const char *const *c;
		int n;
		const char *fragment;
	} cases[] = {
		{ TRC_PMC, dup, 2, "counter 2: duplicate name 'a'" },
		{ TRC_PMC, comma, 1, "counter 1: name 'a,b' contains a comma" },
		{ TRC_PMC_INTERVAL, empty, 1, "counter 1: empty name" },
		{ TRC_PMC, NULL, 0, "0 counters: a pmc trace needs 1 to 16" },
		{ TRC_PMC, many, 17, "17 counters" },
		{ TRC_BLK, dup, 1, "blk traces have no counter columns" },
		{ 42, NULL, 0, "unknown trace kind 42" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		jv_diag_clear(&d);
		ck_assert_int_eq(trc_writer_open(path, cases[i].kind, cases[i].c,
						 cases[i].n, &w, &d), JV_EINVAL);
		ck_assert_ptr_null(w);
		ck_assert_msg(strstr(d.msg, cases[i].fragment) != NULL, "%s",
			      d.msg);
	}
	jv_diag_clear(&d);
	ck_assert_int_eq(trc_writer_open(at("no/such/dir.csv"), TRC_BLK,
					 NULL, 0, &w, &d), JV_ENOENT);
	ck_assert_ptr_nonnull(strstr(d.msg, "cannot create: No such file"));
	jv_diag_clear(&d);
	ck_assert_int_eq(trc_writer_open(base, TRC_BLK, NULL, 0, &w, &d),
			 JV_EINVAL);
	ck_assert_ptr_nonnull(strstr(d.msg, "is a directory"));
	/* wrong record kind for the writer */
	ck_assert_int_eq(trc_writer_open(path, TRC_BLK, NULL, 0, &w, &d), 0);
	struct trc_pmc_interval p = { 0 };
	ck_assert_int_eq(trc_write_pmci(w, &p, "a"), JV_EINVAL);
	trc_writer_abort(w);
	ck_assert_int_ne(access(path, F_OK), 0);
	trc_writer_abort(NULL);
}
END_TEST

/* An existing file is replaced only on a successful close. */
START_TEST(test_writer_replace)
{
	const char *path = write_tmp_str("old.csv", "old contents\n");
	struct jv_diag d;
	struct trc_writer *w;
	jv_diag_clear(&d);
	int before = count_dir_entries(base);
	ck_assert_int_eq(trc_writer_open(path, TRC_BLK, NULL, 0, &w, &d), 0);
	struct trc_blk b = { .t_ns = 1, .size_b = 8, .latency_ns = -1 };
	ck_assert_int_eq(trc_write_blk(w, &b, "a"), 0);
	ck_assert_int_eq(count_dir_entries(base), before + 1); /* tmp */
	trc_writer_abort(w);
	ck_assert_int_eq(count_dir_entries(base), before);
	ck_assert_int_eq(file_size(path), 13);

	ck_assert_int_eq(trc_writer_open(path, TRC_BLK, NULL, 0, &w, &d), 0);
	ck_assert_int_eq(trc_write_blk(w, &b, "a"), 0);
	ck_assert_int_eq(file_size(path), 13);
	ck_assert_int_eq(trc_writer_close(w, &d), 0);
	FILE *f = fopen(path, "r");
	char buf[256];
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	ck_assert_str_eq(buf, "# joulevisor blk v1\n"
			      "t_ns,vm,op,offset_b,size_b,latency_ns,disk\n"
			      "1,a,R,0,8,-1,disk0\n");
	ck_assert_int_eq(count_dir_entries(base), before);
}
END_TEST

/* "-" writes stdout. */
START_TEST(test_writer_stdout)
{
	const char *path = at("stdout.csv");
	fflush(stdout);
	int saved = dup(STDOUT_FILENO);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_ge(fd, 0);
	dup2(fd, STDOUT_FILENO);
	close(fd);
	struct jv_diag d;
	struct trc_writer *w;
	jv_diag_clear(&d);
	static const char *const c[] = { "x" };
	int rc = trc_writer_open("-", TRC_PMC_INTERVAL, c, 1, &w, &d);
	struct trc_pmc_interval p = { .t_ns = 3, .delta = { 4 } };
	int rc2 = rc ? rc : trc_write_pmci(w, &p, "v");
	int rc3 = rc ? rc : trc_writer_close(w, &d);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(rc2, 0);
	ck_assert_int_eq(rc3, 0);
	long n;
	ck_assert_int_eq(read_trace(path, NULL, NULL, 0, &n, &d), 0);
	ck_assert_int_eq(n, 1);
}
END_TEST

START_TEST(test_kind_names)
{
	for (int k = 0; k < TRC_KIND_COUNT; k++)
		ck_assert_int_eq(trc_kind_from_name(trc_kind_name(k)), k);
	ck_assert_str_eq(trc_kind_name(TRC_PMC_INTERVAL), "pmc-interval");
	ck_assert_str_eq(trc_kind_name(TRC_BLK_INTERVAL), "blk-interval");
	ck_assert_ptr_null(trc_kind_name(TRC_KIND_COUNT));
	ck_assert_ptr_null(trc_kind_name(-1));
	ck_assert_int_eq(trc_kind_from_name("pmc-int"), -1);
	ck_assert_int_eq(trc_kind_from_name(NULL), -1);
}
END_TEST

static Suite *trc_suite(void)
{
	Suite *s = suite_create("trc");
	TCase *tc = tmp_tcase("read");
	tcase_add_loop_test(tc, test_valid_fixture, 0,
			    sizeof valid_files / sizeof valid_files[0]);
	tcase_add_test(tc, test_pmc_values);
	tcase_add_test(tc, test_pmci_values);
	tcase_add_test(tc, test_blk_values);
	tcase_add_loop_test(tc, test_blk_optional_columns, 0,
			    sizeof blk_opt / sizeof blk_opt[0]);
	tcase_add_loop_test(tc, test_valid_text, 0,
			    sizeof valid_texts / sizeof valid_texts[0]);
	tcase_add_test(tc, test_limit_values);
	tcase_add_test(tc, test_long_lines);
	tcase_add_test(tc, test_kind_names);
	suite_add_tcase(s, tc);

	tc = tmp_tcase("errors");
	tcase_add_loop_test(tc, test_error_case, 0,
			    sizeof err_cases / sizeof err_cases[0]);
	tcase_add_test(tc, test_sticky_error);
	tcase_add_test(tc, test_long_blank_file);
	tcase_add_test(tc, test_open_errors);
	tcase_add_test(tc, test_vm_limit);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tmp_tcase("stream");
	tcase_add_test(tc, test_big_file);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);

	tc = tmp_tcase("write");
	tcase_add_loop_test(tc, test_round_trip, 0, TRC_KIND_COUNT);
	tcase_add_loop_test(tc, test_writer_errors, 0,
			    sizeof writer_errs / sizeof writer_errs[0]);
	tcase_add_test(tc, test_writer_open_errors);
	tcase_add_test(tc, test_writer_replace);
	tcase_add_test(tc, test_writer_stdout);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(trc_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
