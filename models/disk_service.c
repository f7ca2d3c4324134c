/*
 * disk_service: theory of operation.
 *
 * Problem: the simulator needs how long the disk is busy with a request,
 * including what the paper's accounting ignores (so the accounting's error
 * can be measured, design §4 "Two ledgers").
 *
 * Model (linear, the default): service = overhead + size / media_rate,
 * rounded to the nearest nanosecond; reads and writes alike (the paper:
 * "writes look the same"). The disk is busy (active power) for exactly the
 * service time and idle otherwise; requests are served one at a time FIFO.
 *
 * Parameters: [disk] media_rate (B/s), overhead (ns). paper-2007: 55 MB/s
 * and 54 us (the Maxtor's sustained rate; the overhead makes small
 * consecutive raw reads command-bound, as the paper's Figure 7 shows).
 *
 * Worked example: 4 KiB at 55 MB/s with 54 us overhead: 54 us + 74.47 us =
 * 128.47 us, i.e. 7784 requests/s, 31.9 MB/s at queue depth 1.
 *
 * Limits: no seek or rotation model; no caching; no reordering.
 */
#include "models/disk_service.h"

#include <math.h>
#include <stddef.h>

static int64_t linear_service_ns(const struct disk_service *d, int64_t size_b, int op)
{
	(void)op;
	double xfer_ns = (double)size_b * 1e9 / d->media_rate_bps;
	return d->overhead_ns + (int64_t)llround(xfer_ns);
}

const struct disk_service_ops disk_service_linear = {
	.name = "linear",
	.help = "overhead + size / media_rate",
	.service_ns = linear_service_ns,
};

const struct disk_service_ops *const disk_service_models[] = {&disk_service_linear, NULL};
