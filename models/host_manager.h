/*
 * host_manager: the host-level energy manager (paper §3.3.6, design §5):
 * static per-VM power limits for CPU and disk, enforced by feedback loops
 * on the stride scheduler (CPU) and the driver's request shaper (disk).
 */
#ifndef JV_HOST_MANAGER_H
#define JV_HOST_MANAGER_H

#include <stdint.h>

#include "models/throttle.h"

struct hm_cpu {
	double limit_w;       /* active CPU power the VM may consume directly */
	uint64_t base_stride; /* SCHED_STRIDE1 / tickets: never go below */
	uint64_t offset;      /* added or subtracted per step */
};

struct hm_disk {
	double limit_w;       /* active power the driver may spend for the VM */
	struct throttle ctl;  /* throttle factor = request budget per period */
};

/* One CPU step: the VM consumed measured_j of active CPU energy in
 * period_ns. Returns the new stride: stride + offset when over the limit,
 * stride - offset (not below base_stride) when under, unchanged when equal. */
uint64_t hm_cpu_step(const struct hm_cpu *c, uint64_t stride, double measured_j,
		     int64_t period_ns);

/* One disk step: returns the new budget (requests per shaping period). */
double hm_disk_step(struct hm_disk *d, double measured_j, int64_t period_ns);

#endif
