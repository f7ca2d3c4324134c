/*
 * fuzz_trc: libFuzzer target for one trace reader. Built once per format
 * with -DFUZZ_FORMAT="\"name\"" (see CMakeLists.txt, option JV_FUZZ): the
 * input is written to a temporary file and read to the end with that
 * format (or "auto" probing). A crash, hang, leak or sanitizer report is a
 * bug; every rejected input must come with a diagnostic.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "traces/trc.h"

#ifndef FUZZ_FORMAT
#define FUZZ_FORMAT "auto"
#endif

#define FUZZ_MAX_RECORDS 1000000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[] = "/tmp/jv-fuzz-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return 0;
	size_t off = 0;
	while (off < size) {
		ssize_t w = write(fd, data + off, size - off);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	close(fd);
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
		trc_close(r);
	} else if (d.msg[0] == '\0') {
		abort();
	}
	unlink(path);
	return 0;
}
