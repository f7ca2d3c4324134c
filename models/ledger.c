/*
 * ledger: theory of operation.
 *
 * Problem: every joule a device spends must end up in exactly one cell of
 * the virtual-to-physical matrix, and the tool must prove it did.
 *
 * Model: two flat arrays of doubles, `cur` (the open interval) and `tot`
 * (closed intervals), indexed [consumer][device][via][kind]; one `meter`
 * per device for the open interval. Charges add to `cur`; meters add to
 * `meter`. At a snapshot every device's column of `cur` is summed and
 * compared with its meter (relative tolerance LEDGER_REL_TOL = 1e-9, floor
 * LEDGER_ABS_TOL_J), `cur` is copied to `last` (what the snapshot reports
 * as the interval) and added to `tot`.
 *
 * Worked example: a disk of 3.6 W idle for 0.1 s with two clients charged
 * 0.18 J each (equal split): the interval sums to 0.36 J = metered 0.36 J,
 * residual 0.
 *
 * Limits: doubles; over a run of 1e6 intervals the totals keep ~1e-10
 * relative precision. Cells are dense: consumers x devices x via x 2.
 */
#include "models/ledger.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct ledger {
	int nc, nd, nv;
	const char *const *cname;
	const char *const *dname;
	const char *const *vname;
	size_t ncells;         /* nc * nd * nv * 2 */
	double *cur, *last, *tot;
	unsigned char *used;   /* per (c, dev, via) */
	double *meter_cur, *meter_tot;
	struct ledger_conservation cons;
};

static inline size_t cell_idx(const struct ledger *l, int c, int dev, int via, int kind)
{
	return ((((size_t)c * (size_t)l->nd + (size_t)dev) * (size_t)l->nv + (size_t)via) << 1) |
	       (size_t)kind;
}

struct ledger *ledger_new(int n_consumers, const char *const *consumer_names,
			  int n_devices, const char *const *device_names,
			  int n_via, const char *const *via_names)
{
	struct ledger *l = calloc(1, sizeof *l);
	if (!l)
		return NULL;
	l->nc = n_consumers;
	l->nd = n_devices;
	l->nv = n_via;
	l->cname = consumer_names;
	l->dname = device_names;
	l->vname = via_names;
	l->ncells = (size_t)n_consumers * (size_t)n_devices * (size_t)n_via * 2;
	l->cur = calloc(l->ncells, sizeof(double));
	l->last = calloc(l->ncells, sizeof(double));
	l->tot = calloc(l->ncells, sizeof(double));
	l->used = calloc(l->ncells / 2, 1);
	l->meter_cur = calloc((size_t)n_devices, sizeof(double));
	l->meter_tot = calloc((size_t)n_devices, sizeof(double));
	if (!l->cur || !l->last || !l->tot || !l->used || !l->meter_cur || !l->meter_tot) {
		ledger_free(l);
		return NULL;
	}
	l->cons.worst_device = -1;
	return l;
}

void ledger_free(struct ledger *l)
{
	if (!l)
		return;
	free(l->cur);
	free(l->last);
	free(l->tot);
	free(l->used);
	free(l->meter_cur);
	free(l->meter_tot);
	free(l);
}

void ledger_charge(struct ledger *l, int consumer, int device, int via, int kind,
		   double joules)
{
	assert(consumer >= 0 && consumer < l->nc);
	assert(device >= 0 && device < l->nd);
	assert(via >= 0 && via < l->nv);
	assert(kind == LEDGER_IDLE || kind == LEDGER_ACTIVE);
	assert(isfinite(joules));
	if (joules == 0.0)
		return;
	size_t i = cell_idx(l, consumer, device, via, kind);
	l->cur[i] += joules;
	l->used[i >> 1] = 1;
}

void ledger_meter(struct ledger *l, int device, double joules)
{
	assert(device >= 0 && device < l->nd);
	assert(isfinite(joules));
	l->meter_cur[device] += joules;
}

int ledger_snapshot(struct ledger *l, int64_t t_ns)
{
	int bad = 0;
	for (int dev = 0; dev < l->nd; dev++) {
		double sum = 0.0, abs_sum = 0.0;
		for (int c = 0; c < l->nc; c++)
			for (int v = 0; v < l->nv; v++)
				for (int k = 0; k < 2; k++) {
					double x = l->cur[cell_idx(l, c, dev, v, k)];
					sum += x;
					abs_sum += fabs(x);
				}
		double m = l->meter_cur[dev];
		double res = fabs(sum - m);
		double scale = fmax(fabs(m), abs_sum);
		double rel = scale > 0 ? res / scale : 0.0;
		l->cons.checks++;
		if (res > l->cons.max_residual_j) {
			l->cons.max_residual_j = res;
			l->cons.worst_t_ns = t_ns;
			l->cons.worst_device = dev;
		}
		if (rel > l->cons.max_rel_residual)
			l->cons.max_rel_residual = rel;
		if (res > LEDGER_REL_TOL * scale + LEDGER_ABS_TOL_J) {
			l->cons.violations++;
			bad++;
		}
		l->meter_tot[dev] += m;
		l->meter_cur[dev] = 0.0;
	}
	for (size_t i = 0; i < l->ncells; i++) {
		l->tot[i] += l->cur[i];
		l->last[i] = l->cur[i];
		l->cur[i] = 0.0;
	}
	return bad;
}

int ledger_n_consumers(const struct ledger *l) { return l->nc; }
int ledger_n_devices(const struct ledger *l) { return l->nd; }
int ledger_n_via(const struct ledger *l) { return l->nv; }
const char *ledger_consumer_name(const struct ledger *l, int c) { return l->cname[c]; }
const char *ledger_device_name(const struct ledger *l, int dev) { return l->dname[dev]; }
const char *ledger_via_name(const struct ledger *l, int via) { return l->vname[via]; }

int ledger_cell_used(const struct ledger *l, int c, int dev, int via)
{
	return l->used[cell_idx(l, c, dev, via, 0) >> 1];
}

double ledger_interval(const struct ledger *l, int c, int dev, int via, int kind)
{
	return l->last[cell_idx(l, c, dev, via, kind)];
}

double ledger_total(const struct ledger *l, int c, int dev, int via, int kind)
{
	return l->tot[cell_idx(l, c, dev, via, kind)];
}

double ledger_total_cd(const struct ledger *l, int c, int dev)
{
	double s = 0.0;
	for (int v = 0; v < l->nv; v++)
		s += l->tot[cell_idx(l, c, dev, v, 0)] + l->tot[cell_idx(l, c, dev, v, 1)];
	return s;
}

double ledger_meter_total(const struct ledger *l, int dev) { return l->meter_tot[dev]; }

const struct ledger_conservation *ledger_conservation(const struct ledger *l)
{
	return &l->cons;
}
