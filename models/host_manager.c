/*
 * host_manager: theory of operation.
 *
 * Problem: keep each VM inside its static CPU and disk power limits
 * (paper §3.3.6), with mechanisms that only shift resources: stride shares
 * on the CPU, request budgets in the disk driver.
 *
 * CPU loop (every [manager] cpu_period, 100 ms): read the VM's accounted
 * active CPU energy of the last period, compare it with limit x period and
 * add a constant offset to the VM's *stride* when it was over (a larger
 * stride is a smaller share), subtract it when it was under, never below
 * the stride its tickets give. Because the idle vCPU (a minuscule share of
 * its own) is runnable whenever limits are active, the share a limited VM
 * gives up becomes halt cycles instead of being stolen by others only when
 * no other VM wants it: stride scheduling stays work-conserving.
 *
 * Disk loop (every [manager] disk_period, 200 ms): read the active energy
 * the driver spent for the VM in the last period (disk access energy plus
 * the driver's per-request CPU energy, as the driver accounts it) and let
 * the throttle controller (models/throttle.c: the paper's rule or PI) set
 * the VM's request budget per shaping period.
 *
 * Parameters: cpu_period 100 ms, disk_period 200 ms, cpu_offset 2^26 stride
 * units (1/64 of stride1), limits per VM ([vm] cpu_limit, disk_limit,
 * limit_from).
 *
 * Worked example: a VM with 100 tickets (stride 2^32/100) running at 65 W
 * against a 40 W limit with the idle vCPU at 1 ticket: every 100 ms its
 * stride grows by 2^26 until its share is about 40/65, i.e. stride ~ 0.6 x
 * 2^32, about 40 steps (4 s); then it dithers by one offset around it.
 *
 * Limits: the CPU rule is bang-bang with a fixed step, so the power dithers
 * around the limit by about one offset's worth of share.
 */
#include "models/host_manager.h"

uint64_t hm_cpu_step(const struct hm_cpu *c, uint64_t stride, double measured_j,
		     int64_t period_ns)
{
	double el = c->limit_w * (double)period_ns * 1e-9;
	if (measured_j > el) {
		if (stride > UINT64_MAX / 2 - c->offset)
			return stride; /* absurd strides: stop growing */
		return stride + c->offset;
	}
	if (measured_j < el) {
		if (stride < c->base_stride + c->offset)
			return c->base_stride;
		return stride - c->offset;
	}
	return stride;
}

double hm_disk_step(struct hm_disk *d, double measured_j, int64_t period_ns)
{
	double el = d->limit_w * (double)period_ns * 1e-9;
	return d->ctl.ops->step(&d->ctl, measured_j, el);
}
