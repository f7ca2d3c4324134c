/*
 * power: theory of operation.
 *
 * Problem: power.csv must give each device's true power at a fixed
 * resolution (default 1 ms) while devices report energy in segments of
 * arbitrary length (a 10 ms quantum, a 128 us disk request).
 *
 * Strategy: per device, a growable array of bins starting at the oldest
 * unemitted bin `base_ns`; a segment's energy is spread uniformly over the
 * bins it overlaps (by overlap length). Emitting removes whole bins from
 * the front (memmove of the remainder, amortised O(1) per bin since it is
 * done once per snapshot).
 *
 * Worked example: resolution 1 ms, a CPU segment [0.5 ms, 2.5 ms) of 0.2 J
 * puts 0.05 J in bin 0, 0.1 J in bin 1, 0.05 J in bin 2; bin 1's row reads
 * 100 W.
 *
 * Limits: bins hold joules as doubles; the mean is exact to rounding.
 */
#include "sim/power.h"

#include <stdlib.h>
#include <string.h>

#include "base/jv_err.h"

struct pdev {
	double *bin;  /* bin[i] covers [base + i*res, base + (i+1)*res) */
	size_t cap;
	size_t n;     /* bins touched so far */
};

struct power_sampler {
	int nd;
	int64_t res;
	int64_t base_ns;
	struct pdev *dev;
};

struct power_sampler *power_sampler_new(int n_devices, int64_t resolution_ns)
{
	if (n_devices <= 0 || resolution_ns <= 0)
		return NULL;
	struct power_sampler *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	p->nd = n_devices;
	p->res = resolution_ns;
	p->dev = calloc((size_t)n_devices, sizeof *p->dev);
	if (!p->dev) {
		free(p);
		return NULL;
	}
	return p;
}

void power_sampler_free(struct power_sampler *p)
{
	if (!p)
		return;
	for (int i = 0; i < p->nd; i++)
		free(p->dev[i].bin);
	free(p->dev);
	free(p);
}

static int ensure(struct pdev *d, size_t n)
{
	if (n <= d->cap)
		goto grow_n;
	size_t cap = d->cap ? d->cap : 256;
	while (cap < n)
		cap *= 2;
	double *nb = realloc(d->bin, cap * sizeof(double));
	if (!nb)
		return JV_ENOMEM;
	memset(nb + d->cap, 0, (cap - d->cap) * sizeof(double));
	d->bin = nb;
	d->cap = cap;
grow_n:
	if (n > d->n)
		d->n = n;
	return 0;
}

int power_sampler_add(struct power_sampler *p, int dev, int64_t t0_ns, int64_t t1_ns,
		      double joules)
{
	if (t1_ns <= t0_ns)
		return 0;
	struct pdev *d = &p->dev[dev];
	if (t0_ns < p->base_ns)
		t0_ns = p->base_ns; /* cannot happen with contiguous reports */
	int64_t first = (t0_ns - p->base_ns) / p->res;
	int64_t last = (t1_ns - 1 - p->base_ns) / p->res;
	if (ensure(d, (size_t)last + 1))
		return JV_ENOMEM;
	double per_ns = joules / (double)(t1_ns - t0_ns);
	if (first == last) {
		d->bin[first] += joules;
		return 0;
	}
	for (int64_t b = first; b <= last; b++) {
		int64_t lo = p->base_ns + b * p->res, hi = lo + p->res;
		if (lo < t0_ns)
			lo = t0_ns;
		if (hi > t1_ns)
			hi = t1_ns;
		d->bin[b] += per_ns * (double)(hi - lo);
	}
	return 0;
}

int power_sampler_emit(struct power_sampler *p, int64_t upto_ns, power_row_fn fn, void *ctx)
{
	int64_t nbins = (upto_ns - p->base_ns) / p->res;
	if (nbins <= 0)
		return 0;
	double to_w = 1e9 / (double)p->res;
	for (int64_t b = 0; b < nbins; b++) {
		int64_t t = p->base_ns + b * p->res;
		for (int i = 0; i < p->nd; i++) {
			struct pdev *d = &p->dev[i];
			double e = (size_t)b < d->n ? d->bin[b] : 0.0;
			int rc = fn(ctx, t, i, e * to_w);
			if (rc)
				return rc;
		}
	}
	for (int i = 0; i < p->nd; i++) {
		struct pdev *d = &p->dev[i];
		size_t k = (size_t)nbins;
		if (k >= d->n) {
			if (d->n)
				memset(d->bin, 0, d->n * sizeof(double));
			d->n = 0;
		} else {
			memmove(d->bin, d->bin + k, (d->n - k) * sizeof(double));
			memset(d->bin + (d->n - k), 0, k * sizeof(double));
			d->n -= k;
		}
	}
	p->base_ns += nbins * p->res;
	return 0;
}
