/*
 * check_fmt_bin: the native binary trace format (traces/fmt_bin.c and its
 * writer hook in traces/trc_csv_write.c; layout in docs/FORMATS.md).
 *
 * Round trips: every native CSV fixture (all four kinds), generated traces
 * with extreme values, and a real perf stat import are written to ".jvt"
 * and read back to identical records, names and counters. The exact bytes
 * of a small file are compared with the documented layout. Corrupt files
 * are built byte by byte from a table (bad magic, version 2, truncated or
 * inconsistent headers, undefined VM indexes, bad values, time order, end
 * entry mismatches) and every prefix of a valid file must be rejected with
 * a byte offset.
 */
#define _XOPEN_SOURCE 700 /* nftw (check_tmpdir.h) */
#include <check.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/jv_err.h"
#include "traces/trc.h"

#define CK_TMP_PREFIX "check_fmt_bin"
#include "check_trc_fixture.h"

#ifndef JV_FIXTURES
#define JV_FIXTURES "tests/fixtures"
#endif
#define FIX(name) JV_FIXTURES "/" name

/* A trace read completely: records, VM names, counters. */
struct trace {
	int kind;
	int n_ctr;
	char ctr[TRC_MAX_COUNTERS][128];
	long n;
	struct trc_record *rec;
	char (*vm)[64]; /* per record: its VM name */
	size_t max_batch, batches; /* load_batch(): the largest, how many */
};

static int load(const char *path, const char *fmt, struct trace *t,
		struct jv_diag *d)
{
	struct trc_reader *r;
	memset(t, 0, sizeof *t);
	jv_diag_clear(d);
	int rc = trc_open(path, fmt, &r, d);
	if (rc < 0)
		return rc;
	t->kind = trc_kind(r);
	t->n_ctr = trc_n_counters(r);
	for (int i = 0; i < t->n_ctr; i++)
		snprintf(t->ctr[i], sizeof t->ctr[i], "%s", trc_counter_name(r, i));
	long cap = 0;
	struct trc_record rec;
	while ((rc = trc_next(r, &rec, d)) == 1) {
		if (t->n == cap) {
			cap = cap ? 2 * cap : 64;
			t->rec = realloc(t->rec, (size_t)cap * sizeof *t->rec);
			t->vm = realloc(t->vm, (size_t)cap * sizeof *t->vm);
			ck_assert(t->rec && t->vm);
		}
		int vm = rec.kind == TRC_PMC ? rec.u.pmc.vm
			 : rec.kind == TRC_PMC_INTERVAL ? rec.u.pmci.vm
			 : rec.kind == TRC_BLK ? rec.u.blk.vm : rec.u.blki.vm;
		snprintf(t->vm[t->n], 64, "%s", trc_vm_name(r, vm));
		t->rec[t->n++] = rec;
	}
	trc_close(r);
	return rc;
}

static void trace_free(struct trace *t)
{
	free(t->rec);
	free(t->vm);
}

static void assert_same(const struct trace *a, const struct trace *b);

#define RAW_MAX_CPUS 1024 /* the readers' cpu limit (trc_impl.h TRC_MAX_CPUS) */

/* What a caller of trc_next_pmc_raw() keeps per CPU: its previous record
 * (the contract's test runs against it). */
struct raw_prev {
	int have[RAW_MAX_CPUS];
	int64_t t[RAW_MAX_CPUS];
	uint64_t ctr[RAW_MAX_CPUS][TRC_MAX_COUNTERS];
};

/* trc_next_pmc_raw()'s contract test for the raw record p, as a replay loop
 * runs it (the counters: v - prev, v and prev below 2^63). */
static int raw_takes(const struct raw_prev *pv, const unsigned char *p, int n_ctr,
		     int n_vms)
{
	uint32_t vm = trc_ld32(p), cpu = trc_ld32(p + 4);
	int64_t t = (int64_t)trc_ld64(p + 8);
	if (vm >= (uint32_t)n_vms || cpu >= RAW_MAX_CPUS || !pv->have[cpu] || t < pv->t[cpu])
		return 0;
	uint64_t any = 0;
	for (int k = 0; k < n_ctr; k++) {
		uint64_t v = trc_ld64(p + 16 + 8 * k), l = pv->ctr[cpu][k];
		any |= (v - l) | v | l;
	}
	return !(any >> 63);
}

/* load() through trc_next_pmc_batch(), every third call through trc_next()
 * when mix is 1; through trc_next_pmc_raw() with mix 2 (records taken while
 * raw_takes() says so) and 3 (also stopping after every 37th record taken,
 * and every 5th raw run at its first record); each batch's records are
 * decoded from the raw layout. A trace of another kind must refuse batches
 * (JV_EINVAL, returned). */
static int load_batch(const char *path, const char *fmt, struct trace *t,
		      struct jv_diag *d, int mix)
{
	struct trc_reader *r;
	memset(t, 0, sizeof *t);
	jv_diag_clear(d);
	int rc = trc_open(path, fmt, &r, d);
	if (rc < 0)
		return rc;
	t->kind = trc_kind(r);
	t->n_ctr = trc_n_counters(r);
	for (int i = 0; i < t->n_ctr; i++)
		snprintf(t->ctr[i], sizeof t->ctr[i], "%s", trc_counter_name(r, i));
	struct trc_pmc_batch b;
	if (t->kind != TRC_PMC) {
		rc = trc_next_pmc_batch(r, &b, d);
		ck_assert_int_eq(rc, JV_EINVAL);
		trc_close(r);
		return rc;
	}
	long cap = 0, calls = 0;
	struct raw_prev *pv = mix >= 2 ? calloc(1, sizeof *pv) : NULL;
	ck_assert(mix < 2 || pv);
	for (;;) {
		struct trc_record one;
		if (mix && ++calls % 3 == 0) {
			rc = trc_next(r, &one, d);
			if (rc != 1)
				break;
			if (t->n == cap) {
				cap = cap ? 2 * cap : 64;
				t->rec = realloc(t->rec, (size_t)cap * sizeof *t->rec);
				t->vm = realloc(t->vm, (size_t)cap * sizeof *t->vm);
				ck_assert(t->rec && t->vm);
			}
			snprintf(t->vm[t->n], 64, "%s", trc_vm_name(r, one.u.pmc.vm));
			t->rec[t->n++] = one;
			continue;
		}
		rc = mix >= 2 ? trc_next_pmc_raw(r, &b, d) : trc_next_pmc_batch(r, &b, d);
		if (rc != 1)
			break;
		ck_assert_uint_ge(b.n, 1);
		int raw = mix >= 2 && b.raw;
		calls += raw;
		ck_assert_uint_eq(b.rec_b, 16 + 8 * (size_t)t->n_ctr);
		if (t->n + (long)b.n > cap) {
			while (t->n + (long)b.n > cap)
				cap = cap ? 2 * cap : 64;
			t->rec = realloc(t->rec, (size_t)cap * sizeof *t->rec);
			t->vm = realloc(t->vm, (size_t)cap * sizeof *t->vm);
			ck_assert(t->rec && t->vm);
		}
		size_t used = 0;
		for (size_t i = 0; i < b.n; i++, used++) {
			const unsigned char *p = b.rec + i * b.rec_b;
			/* a raw record is taken when the contract's test passes
			 * against the records taken so far */
			if (raw && (!raw_takes(pv, p, t->n_ctr, trc_n_vms(r)) ||
				    (mix == 3 && (calls % 5 == 0 || (i > 0 && i % 37 == 0)))))
				break;
			struct trc_record *o = &t->rec[t->n];
			memset(o, 0, sizeof *o);
			o->kind = TRC_PMC;
			o->line = b.line0 + (long)i * b.line_step;
			o->u.pmc.vm = (int32_t)trc_ld32(p);
			o->u.pmc.cpu = (int32_t)trc_ld32(p + 4);
			o->u.pmc.t_ns = (int64_t)trc_ld64(p + 8);
			for (int k = 0; k < t->n_ctr; k++)
				o->u.pmc.ctr[k] = trc_ld64(p + 16 + 8 * k);
			if (o->u.pmc.vm >= trc_n_vms(r)) /* plain compare: per record */
				ck_abort_msg("record %ld: VM index %d undefined", t->n, o->u.pmc.vm);
			snprintf(t->vm[t->n], 64, "%s", trc_vm_name(r, o->u.pmc.vm));
			t->n++;
			if (pv) {
				int c = o->u.pmc.cpu;
				pv->have[c] = 1;
				pv->t[c] = o->u.pmc.t_ns;
				memcpy(pv->ctr[c], o->u.pmc.ctr, sizeof pv->ctr[c]);
			}
		}
		if (raw) {
			trc_pmc_done(r, &b, used);
			trc_pmc_done(r, &b, used); /* a second call: no-op */
		}
		if (used > t->max_batch)
			t->max_batch = used;
		t->batches += used > 0;
	}
	free(pv);
	trc_close(r);
	return rc;
}

/* The same records (and positions), end and error through batches, plain
 * and mixed with trc_next(), and through raw runs taken by the contract's
 * test (to the end of each, or stopping early), as through trc_next(). */
static void assert_batch_same(const char *path, const char *fmt)
{
	struct trace a, b;
	struct jv_diag da, db;
	int ra = load(path, fmt, &a, &da);
	for (int mix = 0; mix < 4; mix++) {
		int rb = load_batch(path, fmt, &b, &db, mix);
		if (a.kind != TRC_PMC || ra == JV_EINVAL) {
			trace_free(&b);
			continue;
		}
		ck_assert_msg(ra == rb, "%s: trc_next %d (%s), batches %d (%s)", path, ra,
			      da.msg, rb, db.msg);
		ck_assert_str_eq(da.msg, db.msg);
		assert_same(&a, &b);
		for (long i = 0; i < a.n; i++)
			if (a.rec[i].line != b.rec[i].line)
				ck_abort_msg("%s: record %ld: line %ld vs %ld", path, i,
					     a.rec[i].line, b.rec[i].line);
		trace_free(&b);
	}
	trace_free(&a);
}

/* Write t to path with the trc writers. */
static int save(const struct trace *t, const char *path, struct jv_diag *d)
{
	const char *names[TRC_MAX_COUNTERS];
	for (int i = 0; i < t->n_ctr; i++)
		names[i] = t->ctr[i];
	struct trc_writer *w;
	jv_diag_clear(d);
	int rc = trc_writer_open(path, t->kind, names, t->n_ctr, &w, d);
	if (rc < 0)
		return rc;
	for (long i = 0; i < t->n && rc == 0; i++) {
		const struct trc_record *r = &t->rec[i];
		switch (t->kind) {
		case TRC_PMC:
			rc = trc_write_pmc(w, &r->u.pmc, t->vm[i]);
			break;
		case TRC_PMC_INTERVAL:
			rc = trc_write_pmci(w, &r->u.pmci, t->vm[i]);
			break;
		case TRC_BLK:
			rc = trc_write_blk(w, &r->u.blk, t->vm[i]);
			break;
		default:
			rc = trc_write_blki(w, &r->u.blki, t->vm[i]);
		}
	}
	int rc2 = trc_writer_close(w, d);
	return rc < 0 ? rc : rc2;
}

/* Same records (all fields but the source position), names, counters. */
/* Record x equals y (kind k). */
static int rec_eq(const struct trc_record *x, const struct trc_record *y, int k)
{
	if (x->kind != y->kind)
		return 0;
	switch (k) {
	case TRC_PMC:
		return x->u.pmc.t_ns == y->u.pmc.t_ns && x->u.pmc.cpu == y->u.pmc.cpu &&
		       !memcmp(x->u.pmc.ctr, y->u.pmc.ctr, sizeof x->u.pmc.ctr);
	case TRC_PMC_INTERVAL:
		return x->u.pmci.t_ns == y->u.pmci.t_ns &&
		       !memcmp(x->u.pmci.delta, y->u.pmci.delta, sizeof x->u.pmci.delta);
	case TRC_BLK:
		return x->u.blk.t_ns == y->u.blk.t_ns && x->u.blk.op == y->u.blk.op &&
		       x->u.blk.offset_b == y->u.blk.offset_b && x->u.blk.size_b == y->u.blk.size_b &&
		       x->u.blk.latency_ns == y->u.blk.latency_ns && x->u.blk.disk == y->u.blk.disk;
	default:
		return x->u.blki.t_ns == y->u.blki.t_ns && x->u.blki.disk == y->u.blki.disk &&
		       x->u.blki.read_b == y->u.blki.read_b && x->u.blki.write_b == y->u.blki.write_b &&
		       x->u.blki.reads == y->u.blki.reads && x->u.blki.writes == y->u.blki.writes;
	}
}

/* The same header and records. Per record plain compares and an assertion
 * only on the first difference (a ck_assert per field and record made the
 * suite take minutes under valgrind). */
static void assert_same(const struct trace *a, const struct trace *b)
{
	ck_assert_int_eq(a->kind, b->kind);
	ck_assert_int_eq(a->n_ctr, b->n_ctr);
	for (int i = 0; i < a->n_ctr; i++)
		ck_assert_str_eq(a->ctr[i], b->ctr[i]);
	ck_assert_int_eq(a->n, b->n);
	for (long i = 0; i < a->n; i++)
		if (strcmp(a->vm[i], b->vm[i]) != 0 || !rec_eq(&a->rec[i], &b->rec[i], a->kind))
			ck_abort_msg("record %ld differs (vm '%s' vs '%s', line %ld vs %ld)", i,
				     a->vm[i], b->vm[i], a->rec[i].line, b->rec[i].line);
}

/* CSV -> .jvt -> records; the binary is auto-detected as "bin". */
static void roundtrip(const struct trace *a, const char *name)
{
	struct jv_diag d;
	const char *bin = at(name);
	ck_assert_msg(save(a, bin, &d) == 0, "%s", d.msg);
	struct trace b;
	ck_assert_msg(load(bin, NULL, &b, &d) == 0, "%s", d.msg);
	assert_same(a, &b);
	for (long i = 1; i < b.n; i++) /* positions are byte offsets */
		ck_assert_int_gt(b.rec[i].line, b.rec[i - 1].line);
	struct trc_reader *r;
	jv_diag_clear(&d);
	ck_assert_int_eq(trc_open(bin, NULL, &r, &d), 0);
	ck_assert_str_eq(trc_format_name(r), "bin");
	ck_assert_int_eq(trc_kind(r), a->kind);
	trc_close(r);
	trace_free(&b);
	assert_batch_same(bin, NULL);
}

/* ---- byte builder ------------------------------------------------------ */

struct buf {
	unsigned char p[8192];
	size_t n;
};

static void put(struct buf *b, const void *s, size_t n)
{
	ck_assert_uint_le(b->n + n, sizeof b->p);
	memcpy(b->p + b->n, s, n);
	b->n += n;
}

static void put16(struct buf *b, uint16_t v)
{
	unsigned char x[2] = { (unsigned char)v, (unsigned char)(v >> 8) };
	put(b, x, 2);
}

static void put32(struct buf *b, uint32_t v)
{
	for (int i = 0; i < 4; i++) {
		unsigned char c = (unsigned char)(v >> (8 * i));
		put(b, &c, 1);
	}
}

static void put64(struct buf *b, uint64_t v)
{
	for (int i = 0; i < 8; i++) {
		unsigned char c = (unsigned char)(v >> (8 * i));
		put(b, &c, 1);
	}
}

static void poke32(struct buf *b, size_t at, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		b->p[at + (size_t)i] = (unsigned char)(v >> (8 * i));
}

static size_t rec_size(int kind, int n)
{
	return kind <= TRC_PMC_INTERVAL ? 16 + 8 * (size_t)n
	       : kind == TRC_BLK ? 40 : 48;
}

/* Header of kind with counters named c0, c1, ... in unit "events". */
static void hdr(struct buf *b, int kind, int n_ctr)
{
	size_t hb = 32;
	for (int i = 0; i < n_ctr; i++)
		hb += 4 + 2 + 6;
	put(b, "JVTRACE", 8);
	put32(b, 1);
	put32(b, (uint32_t)kind);
	put32(b, (uint32_t)n_ctr);
	put32(b, (uint32_t)rec_size(kind, n_ctr));
	put32(b, (uint32_t)hb);
	put32(b, 0);
	for (int i = 0; i < n_ctr; i++) {
		char nm[3] = { 'c', (char)('0' + i), 0 };
		put16(b, 2);
		put(b, nm, 2);
		put16(b, 6);
		put(b, "events", 6);
	}
}

static void name_entry(struct buf *b, const char *s)
{
	put32(b, 0xFFFFFFFFu);
	put32(b, (uint32_t)strlen(s));
	put(b, s, strlen(s));
}

static void pmc_rec(struct buf *b, uint32_t vm, uint32_t cpu, int64_t t,
		    uint64_t c0)
{
	put32(b, vm);
	put32(b, cpu);
	put64(b, (uint64_t)t);
	put64(b, c0);
}

static void end_entry(struct buf *b, uint64_t recs, uint32_t names)
{
	put32(b, 0xFFFFFFFEu);
	put32(b, 0);
	put64(b, recs);
	put32(b, names);
	put32(b, 0);
}

/* A valid pmc file, one counter: vm a on cpu 0 then 1. */
static void valid_pmc(struct buf *b)
{
	b->n = 0;
	hdr(b, TRC_PMC, 1);
	name_entry(b, "a");
	pmc_rec(b, 0, 0, 10, 100);
	pmc_rec(b, 0, 1, 20, 50);
	end_entry(b, 2, 1);
}

/* Read bytes as "bin": expect code, "FILE: byte offset N: " and frag. */
static void expect_bin_error(const struct buf *b, int code, long off,
			     const char *frag)
{
	const char *path = write_tmp("bad.jvt", b->p, b->n);
	struct trace t;
	struct jv_diag d;
	int rc = load(path, "bin", &t, &d);
	trace_free(&t);
	ck_assert_msg(rc == code, "expected %s, got %s (%s)", jv_errname(code),
		      jv_errname(rc), d.msg);
	char want[600];
	snprintf(want, sizeof want, "%s: byte offset %ld: ", path, off);
	ck_assert_msg(strncmp(d.msg, want, strlen(want)) == 0,
		      "message '%s' does not start with '%s'", d.msg, want);
	ck_assert_msg(strstr(d.msg, frag) != NULL, "message '%s' lacks '%s'",
		      d.msg, frag);
	assert_batch_same(path, "bin");
}

/* ---- round trips ---------------------------------------------------------- */

static const char *const csv_fixtures[] = {
	"trc/pmc.csv", "trc/pmc-interval.csv", "trc/blk.csv", "trc/blk-crlf.csv",
	"trc/blk-interval.csv",
};

START_TEST(roundtrip_csv_fixtures)
{
	struct trace a;
	struct jv_diag d;
	char path[512];
	snprintf(path, sizeof path, "%s%s", FIX(""), csv_fixtures[_i]);
	ck_assert_msg(load(path, NULL, &a, &d) == 0, "%s", d.msg);
	ck_assert_int_gt(a.n, 0);
	roundtrip(&a, "fixture.jvt");
	trace_free(&a);
}
END_TEST

static uint64_t rng = 88172645463325252u;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Generated traces of every kind: many VMs, 16 counters, extreme values. */
START_TEST(roundtrip_generated_kinds)
{
	int kind = _i;
	struct trace a;
	memset(&a, 0, sizeof a);
	a.kind = kind;
	a.n_ctr = kind <= TRC_PMC_INTERVAL ? TRC_MAX_COUNTERS : 0;
	for (int i = 0; i < a.n_ctr; i++)
		snprintf(a.ctr[i], sizeof a.ctr[i], i == 3 ? "power/energy-pkg/ (nJ)"
						     : "ev %d", i);
	a.n = 3000;
	a.rec = calloc((size_t)a.n, sizeof *a.rec);
	a.vm = calloc((size_t)a.n, sizeof *a.vm);
	ck_assert(a.rec && a.vm);
	uint64_t cum[8][TRC_MAX_COUNTERS] = { { 0 } };
	for (long i = 0; i < a.n; i++) {
		struct trc_record *r = &a.rec[i];
		r->kind = kind;
		int64_t t = (int64_t)i * 1000 + (i == a.n - 1 ? INT64_MAX / 2 : 0);
		snprintf(a.vm[i], 64, "vm-%d.x_%d", (int)(next_rand() % 300),
			 (int)(i % 3));
		switch (kind) {
		case TRC_PMC: {
			int cpu = (int)(next_rand() % 8);
			r->u.pmc.t_ns = t;
			r->u.pmc.cpu = cpu == 7 ? 1023 : cpu; /* the highest CPU */
			for (int k = 0; k < TRC_MAX_COUNTERS; k++) {
				cum[cpu][k] += next_rand() % 1000000;
				r->u.pmc.ctr[k] = i == a.n - 1 && k == 0
							  ? UINT64_MAX : cum[cpu][k];
			}
			break;
		}
		case TRC_PMC_INTERVAL:
			r->u.pmci.t_ns = t;
			for (int k = 0; k < TRC_MAX_COUNTERS; k++)
				r->u.pmci.delta[k] = k == 5 ? UINT64_MAX
							    : next_rand();
			break;
		case TRC_BLK:
			r->u.blk.t_ns = t;
			r->u.blk.op = (int)(next_rand() % 2);
			r->u.blk.offset_b = (int64_t)(next_rand() >> 1);
			r->u.blk.size_b = i % 7 ? (int64_t)(next_rand() % 1048576) + 1
						: INT64_MAX;
			r->u.blk.latency_ns = i % 5 ? (int64_t)(next_rand() >> 1) : -1;
			r->u.blk.disk = (int)(next_rand() % 1024);
			break;
		default:
			r->u.blki.t_ns = t;
			r->u.blki.disk = i % 11 ? (int)(next_rand() % 4) : 1023;
			r->u.blki.read_b = (int64_t)(next_rand() >> 1);
			r->u.blki.write_b = INT64_MAX;
			r->u.blki.reads = 0;
			r->u.blki.writes = (int64_t)(next_rand() % 100);
		}
	}
	roundtrip(&a, "generated.jvt");
	/* the CSV writer of the same records reads back to the same too, so
	 * CSV and binary renderings import identically */
	struct jv_diag d;
	const char *csv = at("generated.csv");
	ck_assert_msg(save(&a, csv, &d) == 0, "%s", d.msg);
	struct trace b;
	ck_assert_msg(load(csv, NULL, &b, &d) == 0, "%s", d.msg);
	assert_same(&a, &b);
	trace_free(&b);
	trace_free(&a);
}
END_TEST

/* A trace without records: header and end entry only. */
START_TEST(roundtrip_empty)
{
	struct trace a;
	memset(&a, 0, sizeof a);
	a.kind = TRC_PMC;
	a.n_ctr = 1;
	snprintf(a.ctr[0], sizeof a.ctr[0], "cycles");
	struct jv_diag d;
	const char *p = at("empty.jvt");
	ck_assert_int_eq(save(&a, p, &d), 0);
	size_t n;
	unsigned char *bytes = slurp_n(p, &n);
	ck_assert_uint_eq(n, 32 + 2 + 6 + 2 + 6 + 24);
	free(bytes);
	struct trace b;
	ck_assert_msg(load(p, NULL, &b, &d) == 0, "%s", d.msg);
	ck_assert_int_eq(b.n, 0);
	ck_assert_str_eq(b.ctr[0], "cycles");
	trace_free(&b);
}
END_TEST

/* perf stat with RAPL energy -> .jvt: same records; the header carries the
 * unit "nJ" of "power/energy-pkg/ (nJ)" and "events" for plain counts. */
START_TEST(roundtrip_real_perf_stat)
{
	struct trace a;
	struct jv_diag d;
	ck_assert_msg(load(FIX("real/pmc/haswell-i5-memsys2016/sleep.perf"), NULL,
			   &a, &d) == 0, "%s", d.msg);
	ck_assert_int_eq(a.n, 100);
	roundtrip(&a, "sleep.jvt");
	size_t n;
	unsigned char *b = slurp_n(at("sleep.jvt"), &n);
	/* counter 0: u16 6 "cycles" u16 6 "events" right after 32 bytes */
	ck_assert_mem_eq(b + 32, "\x06\x00" "cycles" "\x06\x00" "events", 16);
	const char want[] = "\x16\x00" "power/energy-pkg/ (nJ)" "\x02\x00" "nJ";
	int found = 0;
	for (size_t i = 0; i + sizeof want - 1 <= n && i < 1024; i++)
		if (memcmp(b + i, want, sizeof want - 1) == 0)
			found = 1;
	ck_assert(found);
	free(b);
	trace_free(&a);
}
END_TEST

/* The exact bytes of a small file, as docs/FORMATS.md lays them out. */
START_TEST(golden_bytes)
{
	const char *p = at("golden.jvt");
	const char *names[] = { "cycles", "instructions" };
	struct trc_writer *w;
	struct jv_diag d;
	jv_diag_clear(&d);
	ck_assert_int_eq(trc_writer_open(p, TRC_PMC, names, 2, &w, &d), 0);
	struct trc_pmc rec = { .t_ns = 1000, .cpu = 1, .ctr = { 5, 7 } };
	ck_assert_int_eq(trc_write_pmc(w, &rec, "web"), 0);
	ck_assert_int_eq(trc_writer_close(w, &d), 0);
	struct buf e = { .n = 0 };
	put(&e, "JVTRACE", 8);
	put32(&e, 1);      /* version */
	put32(&e, 0);      /* kind pmc */
	put32(&e, 2);      /* counters */
	put32(&e, 32);     /* record_b = 16 + 8 x 2 */
	put32(&e, 70);     /* header_b = 32 + 16 + 22 */
	put32(&e, 0);      /* reserved */
	put16(&e, 6);
	put(&e, "cycles", 6);
	put16(&e, 6);
	put(&e, "events", 6);
	put16(&e, 12);
	put(&e, "instructions", 12);
	put16(&e, 6);
	put(&e, "events", 6);
	name_entry(&e, "web");
	put32(&e, 0);      /* vm 0 */
	put32(&e, 1);      /* cpu */
	put64(&e, 1000);   /* t_ns */
	put64(&e, 5);
	put64(&e, 7);
	end_entry(&e, 1, 1);
	size_t n;
	unsigned char *got = slurp_n(p, &n);
	ck_assert_uint_eq(n, e.n);
	ck_assert_uint_eq(n, 70 + 11 + 32 + 24);
	ck_assert_mem_eq(got, e.p, n);
	free(got);
}
END_TEST

/* ---- errors --------------------------------------------------------------- */

/* Every proper prefix of a valid file is an error naming a byte offset. */
START_TEST(error_every_truncation)
{
	struct buf b;
	valid_pmc(&b);
	struct trace t;
	struct jv_diag d;
	const char *path = write_tmp("full.jvt", b.p, b.n);
	ck_assert_int_eq(load(path, "bin", &t, &d), 0);
	ck_assert_int_eq(t.n, 2);
	trace_free(&t);
	for (size_t len = 1; len < b.n; len++) {
		path = write_tmp("cut.jvt", b.p, len);
		int rc = load(path, "bin", &t, &d);
		trace_free(&t);
		ck_assert_msg(rc < 0, "prefix of %zu bytes read without error", len);
		ck_assert_msg(strstr(d.msg, "byte offset ") != NULL,
			      "len %zu: '%s'", len, d.msg);
		ck_assert_msg(strstr(d.msg, "truncated") != NULL ||
			      strstr(d.msg, "magic") != NULL,
			      "len %zu: '%s'", len, d.msg);
		assert_batch_same(path, "bin");
	}
}
END_TEST

enum mut {
	M_MAGIC, M_VERSION2, M_KIND, M_NCTR0, M_NCTR17, M_RECB, M_HDRB_SMALL,
	M_HDRB_BIG, M_HDRB_MISMATCH, M_RESERVED, M_NAMELEN0, M_UNITCHAR,
	M_NAMECOMMA, M_DUP_CTR, M_UNDEF_VM, M_TAG, M_NAME0, M_NAME64, M_NAMECHAR,
	M_NAMEDUP, M_CPU, M_NEGT, M_BACK, M_CTRBACK, M_END_COUNT, M_END_NAMES,
	M_END_RESERVED, M_AFTER_END, M_NO_END, M_BLK_OP, M_BLK_PAD, M_BLK_DISK,
	M_BLK_SIZE, M_BLK_LAT, M_BLK_OFF, M_BLK_BACK, M_BLKI_NEG, M_BLKI_DISK,
	M_BLKI_BACK, M_PMCI_RES, M_PMCI_BACK, M_COUNT
};

struct mut_case {
	int code;
	long off;
	const char *frag;
};

static const struct mut_case muts[M_COUNT] = {
	[M_MAGIC] = { JV_EPARSE, 0, "not a joulevisor binary trace: magic 'JVTRACX" },
	[M_VERSION2] = { JV_EPARSE, 8, "unsupported binary trace version 2 "
				       "(supported: 1)" },
	[M_KIND] = { JV_EPARSE, 12, "unknown record kind 7" },
	[M_NCTR0] = { JV_EPARSE, 16, "0 counters: a pmc trace has 1 to 16" },
	[M_NCTR17] = { JV_ELIMIT, 16, "17 counters" },
	[M_RECB] = { JV_EPARSE, 20, "record size 40, expected 24" },
	[M_HDRB_SMALL] = { JV_EPARSE, 24, "header size 8 out of range" },
	[M_HDRB_BIG] = { JV_EPARSE, 24, "header size 70000 out of range" },
	[M_HDRB_MISMATCH] = { JV_EPARSE, 24, "does not match the counter table" },
	[M_RESERVED] = { JV_EPARSE, 28, "reserved header field is 5" },
	[M_NAMELEN0] = { JV_EPARSE, 32, "counter 1: name length 0" },
	[M_UNITCHAR] = { JV_EPARSE, 38, "invalid character in unit" },
	[M_NAMECOMMA] = { JV_EPARSE, 34, "invalid character in name 'c,'" },
	[M_DUP_CTR] = { JV_EPARSE, 56, "counter 2: duplicate name 'c0'" },
	[M_UNDEF_VM] = { JV_EPARSE, 53, "record: VM index 1 is not defined (1 "
				       "names so far)" },
	[M_TAG] = { JV_EPARSE, 53, "unknown entry tag 0xfffffff0" },
	[M_NAME0] = { JV_EPARSE, 48, "name entry: length 0" },
	[M_NAME64] = { JV_EPARSE, 48, "name entry: length 64" },
	[M_NAMECHAR] = { JV_EPARSE, 52, "invalid VM name 'a b'" },
	[M_NAMEDUP] = { JV_EPARSE, 53, "VM name 'a' defined twice" },
	[M_CPU] = { JV_ERANGE, 53, "cpu: out of range 1024" },
	[M_NEGT] = { JV_ERANGE, 53, "t_ns: negative value -5" },
	[M_BACK] = { JV_EORDER, 77, "time goes backwards (5 < 10 at byte "
				    "offset 53) for cpu 0" },
	[M_CTRBACK] = { JV_EORDER, 77, "c0: counter goes backwards (99 < 100 "
				       "at byte offset 53) for cpu 0" },
	[M_END_COUNT] = { JV_EPARSE, 101, "the file says 3 records, 2 were read" },
	[M_END_NAMES] = { JV_EPARSE, 101, "the file says 2 VM names, 1 were" },
	[M_END_RESERVED] = { JV_EPARSE, 101, "reserved fields are not 0" },
	[M_AFTER_END] = { JV_EPARSE, 125, "data after the end entry" },
	[M_NO_END] = { JV_EPARSE, 101, "ends without its end entry (2 records" },
	[M_BLK_OP] = { JV_EPARSE, 45, "op: 2 is neither 0 (read) nor 1 (write)" },
	[M_BLK_PAD] = { JV_EPARSE, 46, "reserved byte is 1" },
	[M_BLK_DISK] = { JV_ERANGE, 47, "disk: out of range 1024" },
	[M_BLK_SIZE] = { JV_ERANGE, 65, "size_b: must be > 0, found 0" },
	[M_BLK_LAT] = { JV_ERANGE, 73, "latency_ns: negative value -2" },
	[M_BLK_OFF] = { JV_ERANGE, 57, "offset_b: negative value -1" },
	[M_BLK_BACK] = { JV_EORDER, 81, "time goes backwards (1 < 2 at byte "
					"offset 41)" },
	[M_BLKI_NEG] = { JV_ERANGE, 81, "writes: negative value -3" },
	[M_BLKI_DISK] = { JV_ERANGE, 45, "disk: out of range 4096" },
	[M_BLKI_BACK] = { JV_EORDER, 89, "time goes backwards (1 < 2 at byte "
					 "offset 41) for vm a" },
	[M_PMCI_RES] = { JV_EPARSE, 57, "reserved field is 9" },
	[M_PMCI_BACK] = { JV_EORDER, 77, "time goes backwards (1 < 2 at byte "
					 "offset 53) for vm a" },
};

static void blk_rec(struct buf *b, uint32_t vm, unsigned op, unsigned pad,
		    uint16_t disk, int64_t t, int64_t off, int64_t size,
		    int64_t lat)
{
	put32(b, vm);
	unsigned char x[2] = { (unsigned char)op, (unsigned char)pad };
	put(b, x, 2);
	put16(b, disk);
	put64(b, (uint64_t)t);
	put64(b, (uint64_t)off);
	put64(b, (uint64_t)size);
	put64(b, (uint64_t)lat);
}

static void blki_rec(struct buf *b, uint32_t vm, uint32_t disk, int64_t t,
		     int64_t w)
{
	put32(b, vm);
	put32(b, disk);
	put64(b, (uint64_t)t);
	put64(b, 1);
	put64(b, 2);
	put64(b, 3);
	put64(b, (uint64_t)w);
}

/* Build the mutated file for case m. Offsets: header 32 (+12 per counter),
 * so in the one-counter pmc and pmc-interval files the name entry "a" (9
 * bytes) is at 44, the 24-byte records at 53 and 77, the end entry at 101;
 * blk and blk-interval files have no counters: name at 32, records at 41
 * and 81 (blk, 40 bytes) or 89 (blk-interval, 48 bytes). */
static void build(struct buf *b, int m)
{
	valid_pmc(b);
	switch (m) {
	case M_MAGIC: b->p[6] = 'X'; break;
	case M_VERSION2: poke32(b, 8, 2); break;
	case M_KIND: poke32(b, 12, 7); break;
	case M_NCTR0: poke32(b, 16, 0); break;
	case M_NCTR17: poke32(b, 16, 17); break;
	case M_RECB: poke32(b, 20, 40); break;
	case M_HDRB_SMALL: poke32(b, 24, 8); break;
	case M_HDRB_BIG: poke32(b, 24, 70000); break;
	case M_HDRB_MISMATCH: poke32(b, 24, 45); break;
	case M_RESERVED: poke32(b, 28, 5); break;
	case M_NAMELEN0: b->p[32] = 0; break;
	case M_UNITCHAR: b->p[40] = ' '; break;
	case M_NAMECOMMA: b->p[35] = ','; break;
	case M_DUP_CTR:
		b->n = 0;
		hdr(b, TRC_PMC, 2);
		b->p[32 + 12 + 3] = '0'; /* second counter also "c0" */
		break;
	case M_UNDEF_VM: poke32(b, 53, 1); break;
	case M_TAG: poke32(b, 53, 0xFFFFFFF0u); break;
	case M_NAME0: poke32(b, 48, 0); break;
	case M_NAME64: poke32(b, 48, 64); break;
	case M_NAMECHAR:
		b->n = 44;
		name_entry(b, "a b");
		break;
	case M_NAMEDUP:
		b->n = 53;
		name_entry(b, "a");
		break;
	case M_CPU: poke32(b, 57, 1024); break;
	case M_NEGT: b->n = 53; pmc_rec(b, 0, 0, -5, 1); break;
	case M_BACK: b->n = 77; pmc_rec(b, 0, 0, 5, 200); break;
	case M_CTRBACK: b->n = 77; pmc_rec(b, 0, 0, 30, 99); break;
	case M_END_COUNT: b->n = 101; end_entry(b, 3, 1); break;
	case M_END_NAMES: b->n = 101; end_entry(b, 2, 2); break;
	case M_END_RESERVED: poke32(b, 105, 1); break;
	case M_AFTER_END: put(b, "x", 1); break;
	case M_NO_END: b->n = 101; break;
	case M_BLK_OP: case M_BLK_PAD: case M_BLK_DISK: case M_BLK_SIZE:
	case M_BLK_LAT: case M_BLK_OFF: case M_BLK_BACK:
		b->n = 0;
		hdr(b, TRC_BLK, 0);
		name_entry(b, "a");
		blk_rec(b, 0, m == M_BLK_OP ? 2 : 1, m == M_BLK_PAD,
			m == M_BLK_DISK ? 1024 : 3, 2, m == M_BLK_OFF ? -1 : 0,
			m == M_BLK_SIZE ? 0 : 4096, m == M_BLK_LAT ? -2 : -1);
		blk_rec(b, 0, 0, 0, 0, m == M_BLK_BACK ? 1 : 3, 0, 512, 5);
		end_entry(b, 2, 1);
		break;
	case M_BLKI_NEG: case M_BLKI_DISK: case M_BLKI_BACK:
		b->n = 0;
		hdr(b, TRC_BLK_INTERVAL, 0);
		name_entry(b, "a");
		blki_rec(b, 0, m == M_BLKI_DISK ? 4096 : 0, 2,
			 m == M_BLKI_NEG ? -3 : 4);
		blki_rec(b, 0, 0, m == M_BLKI_BACK ? 1 : 3, 4);
		end_entry(b, 2, 1);
		break;
	case M_PMCI_RES: case M_PMCI_BACK:
		b->n = 0;
		hdr(b, TRC_PMC_INTERVAL, 1);
		name_entry(b, "a");
		pmc_rec(b, 0, m == M_PMCI_RES ? 9 : 0, 2, 1);
		pmc_rec(b, 0, 0, m == M_PMCI_BACK ? 1 : 3, 1);
		end_entry(b, 2, 1);
		break;
	}
}

START_TEST(error_mutations)
{
	struct buf b;
	build(&b, _i);
	expect_bin_error(&b, muts[_i].code, muts[_i].off, muts[_i].frag);
}
END_TEST

/* A CSV trace opened as "bin", and a binary trace opened as "pmc". */
START_TEST(error_wrong_format)
{
	struct trace t;
	struct jv_diag d;
	int rc = load(FIX("trc/pmc.csv"), "bin", &t, &d);
	trace_free(&t);
	ck_assert_int_eq(rc, JV_EPARSE);
	ck_assert_ptr_nonnull(strstr(d.msg, "byte offset 0: not a joulevisor "
					    "binary trace: magic '# joulev'"));
	struct buf b;
	valid_pmc(&b);
	const char *p = write_tmp("x.jvt", b.p, b.n);
	rc = load(p, "pmc", &t, &d);
	trace_free(&t);
	ck_assert_int_lt(rc, 0);
	ck_assert_ptr_nonnull(strstr(d.msg, p));
}
END_TEST

/* The .jvt writer checks records as the CSV writer does and leaves no
 * file behind on error; counter names too long for the header fail open. */
START_TEST(writer_errors)
{
	const char *p = at("w.jvt");
	unlink(p);
	const char *names[] = { "c" };
	struct trc_writer *w;
	struct jv_diag d;
	jv_diag_clear(&d);
	ck_assert_int_eq(trc_writer_open(p, TRC_PMC, names, 1, &w, &d), 0);
	struct trc_pmc a = { .t_ns = 10, .cpu = 0, .ctr = { 1 } };
	struct trc_pmc b = { .t_ns = 5, .cpu = 0, .ctr = { 2 } };
	ck_assert_int_eq(trc_write_pmc(w, &a, "v"), 0);
	ck_assert_int_eq(trc_write_pmc(w, &b, "v"), JV_EORDER);
	ck_assert_int_eq(trc_writer_close(w, &d), JV_EORDER);
	ck_assert_ptr_nonnull(strstr(d.msg, "time goes backwards"));
	struct stat st;
	ck_assert_int_ne(stat(p, &st), 0);

	char *big = malloc(1100);
	ck_assert_ptr_nonnull(big);
	memset(big, 'n', 1099);
	big[1099] = '\0';
	const char *bn[] = { big };
	jv_diag_clear(&d);
	ck_assert_int_eq(trc_writer_open(p, TRC_PMC, bn, 1, &w, &d), JV_ELIMIT);
	ck_assert_ptr_nonnull(strstr(d.msg, "too long for a binary trace"));
	ck_assert_int_ne(stat(p, &st), 0);
	free(big);
}
END_TEST

/* 300k records across many buffer refills (40-byte records straddle the
 * 1 MiB buffer's end): sums, constant reader memory, bytes read. */
START_TEST(large_streaming)
{
	const char *p = at("large.jvt");
	const char *names[] = { "a", "b", "c" };
	struct trc_writer *w;
	struct jv_diag d;
	jv_diag_clear(&d);
	ck_assert_int_eq(trc_writer_open(p, TRC_PMC, names, 3, &w, &d), 0);
	const long n = 300000;
	uint64_t cum[4][3] = { { 0 } }, want = 0;
	char vm[16];
	for (long i = 0; i < n; i++) {
		struct trc_pmc r = { .t_ns = i, .cpu = (int)(i % 4) };
		for (int k = 0; k < 3; k++) {
			cum[i % 4][k] += (uint64_t)(i % 97) + (uint64_t)k;
			r.ctr[k] = cum[i % 4][k];
		}
		want += (uint64_t)(i % 97);
		snprintf(vm, sizeof vm, "v%ld", i % 64);
		if (trc_write_pmc(w, &r, vm) != 0)
			ck_abort_msg("record %ld: %s", i, d.msg);
	}
	ck_assert_int_eq(trc_writer_close(w, &d), 0);
	struct trc_reader *r;
	ck_assert_int_eq(trc_open(p, NULL, &r, &d), 0);
	struct trc_record rec;
	long got = 0;
	uint64_t last[4] = { 0 }, sum = 0;
	size_t mem0 = trc_mem_bytes(r);
	while (trc_next(r, &rec, &d) == 1) {
		sum += rec.u.pmc.ctr[0] - last[rec.u.pmc.cpu];
		last[rec.u.pmc.cpu] = rec.u.pmc.ctr[0];
		if (rec.u.pmc.t_ns != got)
			ck_abort_msg("record %ld at t_ns %" PRId64, got, rec.u.pmc.t_ns);
		got++;
	}
	ck_assert_msg(d.err == 0, "%s", d.msg);
	ck_assert_int_eq(got, n);
	ck_assert_uint_eq(sum, want);
	ck_assert_int_eq(trc_n_vms(r), 64);
	ck_assert_uint_le(trc_mem_bytes(r), mem0 + 64 * 1024);
	struct stat st;
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_uint_eq(trc_bytes_read(r), (uint64_t)st.st_size);
	trc_close(r);
}
END_TEST

/* Batches over a file larger than the read buffer (records straddle the
 * refills), with VM names defined every 4999 records (in the middle of
 * what would be a batch), a CPU beyond the order table's first size
 * appearing late, and a bad last record: the same records, positions and
 * error as trc_next(); batches are runs of many records; a CSV trace
 * gives batches of one. */
START_TEST(batch_boundaries)
{
	const char *p = at("batches.jvt");
	const char *names[] = { "a", "b", "c" };
	struct trc_writer *w;
	struct jv_diag d;
	jv_diag_clear(&d);
	ck_assert_int_eq(trc_writer_open(p, TRC_PMC, names, 3, &w, &d), 0);
	const long n = 60000;
	uint64_t cum[128][3] = { { 0 } };
	char vm[16];
	for (long i = 0; i < n; i++) {
		int cpu = i > 40000 && i % 7 == 0 ? 100 : (int)(i % 4);
		struct trc_pmc r = { .t_ns = i, .cpu = cpu };
		for (int k = 0; k < 3; k++) {
			cum[cpu][k] += (uint64_t)(i % 13) + (uint64_t)k;
			r.ctr[k] = cum[cpu][k];
		}
		snprintf(vm, sizeof vm, "v%ld", i / 4999);
		ck_assert_int_eq(trc_write_pmc(w, &r, vm), 0);
	}
	ck_assert_int_eq(trc_writer_close(w, &d), 0);
	struct stat st;
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_int_gt(st.st_size, 2 * 1024 * 1024);
	struct trace t;
	ck_assert_int_eq(load_batch(p, NULL, &t, &d, 0), 0);
	ck_assert_int_eq(t.n, n);
	ck_assert_uint_gt(t.max_batch, 100);
	ck_assert_uint_lt(t.batches, (size_t)n / 50);
	trace_free(&t);
	/* raw runs: as long, the records taken without the reader's checks */
	ck_assert_int_eq(load_batch(p, NULL, &t, &d, 2), 0);
	ck_assert_int_eq(t.n, n);
	ck_assert_uint_gt(t.max_batch, 100);
	ck_assert_uint_lt(t.batches, (size_t)n / 50);
	trace_free(&t);
	assert_batch_same(p, NULL);
	/* the last record's first counter goes backwards (before the end
	 * entry: 24 bytes; the record: 40 bytes) */
	size_t len;
	unsigned char *bytes = slurp_n(p, &len);
	memset(bytes + len - 24 - 40 + 16, 0, 8);
	const char *bad = write_tmp("batches-bad.jvt", bytes, len);
	free(bytes);
	ck_assert_int_eq(load_batch(bad, NULL, &t, &d, 0), JV_EORDER);
	ck_assert_int_eq(t.n, n - 1);
	ck_assert_ptr_nonnull(strstr(d.msg, "a: counter goes backwards"));
	trace_free(&t);
	assert_batch_same(bad, NULL);
	/* CSV: batches of one record */
	ck_assert_int_eq(load_batch(FIX("trc/pmc.csv"), NULL, &t, &d, 0), 0);
	ck_assert_int_gt(t.n, 1);
	ck_assert_uint_eq(t.max_batch, 1);
	trace_free(&t);
	assert_batch_same(FIX("trc/pmc.csv"), NULL);
}
END_TEST

static Suite *fmt_bin_suite(void)
{
	Suite *s = suite_create("fmt_bin");
	TCase *tc = tmp_tcase("roundtrip");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, roundtrip_csv_fixtures, 0,
			    (int)(sizeof csv_fixtures / sizeof csv_fixtures[0]));
	tcase_add_loop_test(tc, roundtrip_generated_kinds, 0, TRC_KIND_COUNT);
	tcase_add_test(tc, roundtrip_empty);
	tcase_add_test(tc, roundtrip_real_perf_stat);
	tcase_add_test(tc, golden_bytes);
	tcase_add_test(tc, large_streaming);
	tcase_add_test(tc, batch_boundaries);
	suite_add_tcase(s, tc);
	tc = tmp_tcase("errors");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, error_every_truncation);
	tcase_add_loop_test(tc, error_mutations, 0, M_COUNT);
	tcase_add_test(tc, error_wrong_format);
	tcase_add_test(tc, writer_errors);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(fmt_bin_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
