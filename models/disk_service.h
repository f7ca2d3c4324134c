/*
 * disk_service: the disk's true service model (what the simulated disk
 * really does), behind an ops table (design §5).
 */
#ifndef JV_DISK_SERVICE_H
#define JV_DISK_SERVICE_H

#include <stdint.h>

struct disk_service {
	const struct disk_service_ops *ops;
	double media_rate_bps; /* bytes per second off the medium */
	int64_t overhead_ns;   /* per request: command, positioning */
};

struct disk_service_ops {
	const char *name;
	const char *help;
	int64_t (*service_ns)(const struct disk_service *d, int64_t size_b, int op);
};

extern const struct disk_service_ops disk_service_linear; /* default */
extern const struct disk_service_ops *const disk_service_models[];

static inline int64_t disk_service_ns(const struct disk_service *d, int64_t size_b, int op)
{
	return d->ops->service_ns(d, size_b, op);
}

#endif
