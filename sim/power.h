/*
 * power: the physical power series (power.csv): each device's energy,
 * reported as segments [t0, t1) of constant power, binned into rows of
 * `resolution` ns; a row is the mean power over [t_ns, t_ns + resolution).
 * Rows are emitted in time order (then device order) once every device has
 * reported past the end of the bin. Memory: bins between the oldest
 * unfinished device and the newest report (a few snapshot intervals).
 */
#ifndef JV_POWER_H
#define JV_POWER_H

#include <stdint.h>

struct power_sampler;

typedef int (*power_row_fn)(void *ctx, int64_t t_ns, int device, double power_w);

struct power_sampler *power_sampler_new(int n_devices, int64_t resolution_ns);
void power_sampler_free(struct power_sampler *p);
/* Device dev spent joules uniformly over [t0_ns, t1_ns). Segments of one
 * device must be contiguous and in order. Returns 0 or JV_ENOMEM. */
int power_sampler_add(struct power_sampler *p, int dev, int64_t t0_ns, int64_t t1_ns,
		      double joules);
/* Emit every complete bin with end <= upto_ns (all devices must have
 * reported up to there). Stops and returns the callback's non-zero value. */
int power_sampler_emit(struct power_sampler *p, int64_t upto_ns, power_row_fn fn, void *ctx);

#endif
