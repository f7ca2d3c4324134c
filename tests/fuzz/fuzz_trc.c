/*
 * fuzz_trc: libFuzzer target for one trace reader. Built once per format
 * with -DFUZZ_FORMAT="\"name\"" (see CMakeLists.txt, option JV_FUZZ): the
 * input is written to a temporary file and read to the end with that
 * format (or "auto" probing). A crash, hang, leak or sanitizer report is a
 * bug; every rejected input must come with a diagnostic. A pmc trace is
 * also read through trc_next_pmc_raw() by a caller keeping its contract
 * (raw_read below), which must give the records, the end and the error
 * message trc_next() alone gives.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "traces/trc.h"
#include "tests/fuzz/fuzz_tmp.h"

#ifndef FUZZ_FORMAT
#define FUZZ_FORMAT "auto"
#endif

#define FUZZ_MAX_RECORDS 1000000
#define FUZZ_MAX_CPUS 1024 /* the readers' cpu range */

/* A caller of trc_next_pmc_raw(): its previous record per CPU. */
static struct {
	unsigned char have[FUZZ_MAX_CPUS];
	int64_t t[FUZZ_MAX_CPUS];
	uint64_t ctr[FUZZ_MAX_CPUS][TRC_MAX_COUNTERS];
} raw_prev;

/* Whether record p passes trc_next_pmc_raw()'s contract test. */
static int raw_takes(const unsigned char *p, int n_ctr, int n_vms)
{
	uint32_t vm = trc_ld32(p), cpu = trc_ld32(p + 4);
	if (vm >= (uint32_t)n_vms || cpu >= FUZZ_MAX_CPUS || !raw_prev.have[cpu] ||
	    (int64_t)trc_ld64(p + 8) < raw_prev.t[cpu])
		return 0;
	for (int k = 0; k < n_ctr; k++)
		if (trc_ld64(p + 16 + 8 * k) < raw_prev.ctr[cpu][k])
			return 0;
	return 1;
}

/* Read path to the end: through trc_next() (raw 0) or trc_next_pmc_raw(),
 * taking records while the contract test passes, stopping early now and
 * then (raw 1). The records' (t, cpu, vm, counters) are hashed into *h;
 * the number of records read is returned, the final rc in *rc_out. */
static long read_all(const char *path, int raw, uint64_t *h, int *rc_out,
		     struct jv_diag *d)
{
	struct trc_reader *r = NULL;
	long n = 0, calls = 0;
	int rc;
	*h = 1469598103934665603ULL;
	jv_diag_clear(d);
	if (trc_open(path, FUZZ_FORMAT, &r, d) != 0) {
		*rc_out = -1;
		return -1;
	}
	memset(&raw_prev, 0, sizeof raw_prev);
	int n_ctr = trc_n_counters(r);
	for (;;) {
		struct trc_pmc_batch b;
		struct trc_record rec;
		if (!raw) {
			rc = trc_next(r, &rec, d);
			if (rc != 1 || n >= FUZZ_MAX_RECORDS)
				break;
			*h = (*h ^ (uint64_t)rec.u.pmc.t_ns ^ ((uint64_t)rec.u.pmc.cpu << 32) ^
			      (uint64_t)rec.u.pmc.vm) * 1099511628211ULL;
			for (int k = 0; k < n_ctr; k++)
				*h = (*h ^ rec.u.pmc.ctr[k]) * 1099511628211ULL;
			n++;
			continue;
		}
		rc = trc_next_pmc_raw(r, &b, d);
		if (rc != 1 || n >= FUZZ_MAX_RECORDS)
			break;
		size_t used = 0;
		for (; used < b.n; used++) {
			const unsigned char *p = b.rec + used * b.rec_b;
			if (b.raw && (!raw_takes(p, n_ctr, trc_n_vms(r)) || ++calls % 97 == 0))
				break; /* the reader checks this one next */
			uint32_t cpu = trc_ld32(p + 4);
			if (trc_ld32(p) >= (uint32_t)trc_n_vms(r) || cpu >= FUZZ_MAX_CPUS ||
			    (int64_t)trc_ld64(p + 8) < 0)
				abort();
			raw_prev.have[cpu] = 1;
			raw_prev.t[cpu] = (int64_t)trc_ld64(p + 8);
			*h = (*h ^ trc_ld64(p + 8) ^ ((uint64_t)cpu << 32) ^ trc_ld32(p)) *
			     1099511628211ULL;
			for (int k = 0; k < n_ctr; k++) {
				raw_prev.ctr[cpu][k] = trc_ld64(p + 16 + 8 * k);
				*h = (*h ^ raw_prev.ctr[cpu][k]) * 1099511628211ULL;
			}
		}
		if (b.raw)
			trc_pmc_done(r, &b, used);
		n += (long)used;
	}
	trc_close(r);
	*rc_out = rc;
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[] = "/tmp/jv-fuzz-XXXXXX";
	if (fuzz_write_tmp(path, data, size) != 0)
		return 0;
	struct trc_reader *r = NULL;
	struct jv_diag d;
	jv_diag_clear(&d);
	if (trc_open(path, FUZZ_FORMAT, &r, &d) == 0) {
		struct trc_record rec;
		struct trc_pmc_batch b;
		int rc, n = 0, calls = 0;
		/* a pmc trace is read through trc_next_pmc_batch() too: two
		 * calls in three, mixed with trc_next() */
		int batches = trc_kind(r) == TRC_PMC;
		for (;;) {
			if (batches && ++calls % 3 != 0) {
				rc = trc_next_pmc_batch(r, &b, &d);
				if (rc != 1 || n >= FUZZ_MAX_RECORDS)
					break;
				/* every handed-out record is checked */
				for (size_t i = 0; i < b.n; i++) {
					const unsigned char *p = b.rec + i * b.rec_b;
					if (trc_ld32(p) >= (uint32_t)trc_n_vms(r) ||
					    trc_ld32(p + 4) >= 1024 || (int64_t)trc_ld64(p + 8) < 0)
						abort();
				}
				n += (int)b.n;
				continue;
			}
			rc = trc_next(r, &rec, &d);
			if (rc != 1 || n >= FUZZ_MAX_RECORDS)
				break;
			/* touch the record and names */
			if (rec.kind == TRC_BLK && trc_vm_name(r, rec.u.blk.vm) == NULL)
				abort();
			n++;
		}
		if (rc < 0 && d.msg[0] == '\0')
			abort(); /* an error without a message */
		int pmc = trc_kind(r) == TRC_PMC;
		trc_close(r);
		if (pmc) { /* raw runs give what trc_next() gives */
			struct jv_diag d1, d2;
			uint64_t h1, h2;
			int rc1, rc2;
			long n1 = read_all(path, 0, &h1, &rc1, &d1);
			long n2 = read_all(path, 1, &h2, &rc2, &d2);
			if (n1 != n2 || h1 != h2 || rc1 != rc2 || strcmp(d1.msg, d2.msg) != 0)
				abort();
		}
	} else if (d.msg[0] == '\0') {
		abort();
	}
	unlink(path);
	return 0;
}
