/*
 * fuzz_meter: libFuzzer target for the DAQ meter-log importer
 * (calib/daq.c with its own splitter, calib/daq_fast.c, and libcsv).
 *
 * The first two input bytes choose the options (delimiter, header mode,
 * comment prefix, time column and unit, channels, sync, energy mode) and a
 * small read-buffer size; the rest is the file. It is loaded three ways:
 * through libcsv only (the reference), through the splitter with the
 * default buffer and with the small one. Every load must succeed or fail
 * with a message (never crash), and the three must agree on the return
 * code, the message, the sample count, every sample bit for bit and every
 * sample's source line; any difference aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "calib/daq.h"
#include "calib/daq_fast.h"
#include "tests/fuzz/fuzz_tmp.h"

#define FUZZ_OPT_BYTES 2
#define FUZZ_BUF_SMALL_MAX 64 /* bytes: small read buffers cut lines */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_opts(uint8_t a, uint8_t b, struct cal_meter_opts *o)
{
	static const int delims[] = {0, ',', ';', '\t', ' ', '|', 0, ','};
	static const char *const exprs[] = {"c2", "c2*2-1", "c2+c3", "1"};
	cal_meter_opts_init(o);
	o->delim = delims[a & 7];
	o->header = (int)((a >> 3) % 3) - 1;
	o->comment = (a & 0x20) ? 0 : '#';
	if (a & 0x40) {
		o->time_col = (a & 0x80) ? "t" : "c1";
		o->time_unit = (int)(b % 6); /* s ms us ns epoch iso */
	} else {
		o->rate_hz = 1000.0;
	}
	int nch = 1 + (int)((b >> 3) & 1);
	for (int c = 0; c < nch; c++) {
		snprintf(o->ch[c].name, CAL_NAME_MAX, "ch%d", c);
		o->ch[c].expr = exprs[((b >> 4) + c) & 3];
	}
	o->n_channels = nch;
	if (b & 0x40)
		o->sync_expr = "c2";
	o->energy = (b & 0x80) != 0;
}

static int same_bits(const double *x, const double *y, size_t n)
{
	return n == 0 || memcmp(x, y, n * sizeof *x) == 0;
}

/* Abort unless load (rc, m, d) equals the reference (rc0, r, d0). */
static void fuzz_same(int rc0, const struct cal_meter *r, const struct jv_diag *d0, int rc,
		      const struct cal_meter *m, const struct jv_diag *d)
{
	if (rc0 != rc || strcmp(d0->msg, d->msg) != 0)
		abort();
	if (rc0 != 0)
		return;
	if (r->n != m->n || r->n_ch != m->n_ch || !same_bits(r->t_s, m->t_s, r->n))
		abort();
	for (int c = 0; c < r->n_ch; c++)
		if (!same_bits(r->v[c], m->v[c], r->n))
			abort();
	if ((r->sync == NULL) != (m->sync == NULL) || (r->sync && !same_bits(r->sync, m->sync, r->n)))
		abort();
	if (memcmp(&r->rate_hz, &m->rate_hz, sizeof r->rate_hz) != 0)
		abort();
	for (size_t i = 0; i < r->n; i++)
		if (cal_meter_line(r, i) != cal_meter_line(m, i))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < FUZZ_OPT_BYTES)
		return 0;
	struct cal_meter_opts o;
	fuzz_opts(data[0], data[1], &o);
	size_t small_b = 1 + (size_t)(data[1] % FUZZ_BUF_SMALL_MAX);
	data += FUZZ_OPT_BYTES;
	size -= FUZZ_OPT_BYTES;
	char path[] = "/tmp/jv-fuzz-meter-XXXXXX";
	if (fuzz_write_tmp(path, data, size) != 0)
		return 0;
	struct cal_meter *ref = NULL;
	struct jv_diag d0;
	jv_diag_clear(&d0);
	int rc0 = cal_daq_load(path, &o, CAL_DAQ_NO_SPLIT, 0, &ref, &d0);
	if (rc0 != 0 && d0.msg[0] == '\0')
		abort(); /* an error must say what */
	const size_t bufs[] = {0, small_b};
	for (size_t k = 0; k < sizeof bufs / sizeof *bufs; k++) {
		struct cal_meter *m = NULL;
		struct jv_diag d;
		jv_diag_clear(&d);
		int rc = cal_daq_load(path, &o, 0, bufs[k], &m, &d);
		fuzz_same(rc0, ref, &d0, rc, m, &d);
		cal_meter_free(m);
	}
	cal_meter_free(ref);
	unlink(path);
	return 0;
}
