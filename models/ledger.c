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
 * as the interval) and added to `tot`, all in one pass over the cells in
 * memory order (each device's sum still adds its cells in the order
 * consumer, via, kind, so the sums are the same doubles as a loop per
 * device). Charges and meters are inline functions in ledger.h.
 *
 * Worked example: a disk of 3.6 W idle for 0.1 s with two clients charged
 * 0.18 J each (equal split): the interval sums to 0.36 J = metered 0.36 J,
 * residual 0.
 *
 * Limits: doubles; over a run of 1e6 intervals the totals keep ~1e-10
 * relative precision. Cells are dense: consumers x devices x via x 2.
 */
#include "models/ledger.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static inline size_t cell_idx(const struct ledger *l, int c, int dev, int via, int kind)
{
	return ledger_cell_idx(l, c, dev, via, kind);
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
	size_t nrows = l->ncells / 2;
	/* used flags padded to whole words of LEDGER_USED_WORD (zeros) */
	l->used = calloc(nrows / LEDGER_USED_WORD + 1, LEDGER_USED_WORD);
	l->row_dev = calloc(nrows ? nrows : 1, sizeof *l->row_dev);
	l->meter_cur = calloc((size_t)n_devices, sizeof(double));
	l->meter_tot = calloc((size_t)n_devices, sizeof(double));
	l->dev_sum = calloc((size_t)n_devices, sizeof(double));
	l->dev_abs = calloc((size_t)n_devices, sizeof(double));
	if (!l->cur || !l->last || !l->tot || !l->used || !l->meter_cur || !l->meter_tot ||
	    !l->dev_sum || !l->dev_abs || !l->row_dev) {
		ledger_free(l);
		return NULL;
	}
	for (size_t row = 0; row < nrows; row++) /* row = (c * nd + dev) * nv + via */
		l->row_dev[row] = (int)(row / (size_t)n_via % (size_t)n_devices);
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
	free(l->dev_sum);
	free(l->dev_abs);
	free(l->row_dev);
	free(l);
}

/* Fold one used row (a cell pair) of the open interval into its device's
 * sums and the totals. */
static inline void snapshot_row(struct ledger *l, size_t row)
{
	size_t i = row << 1;
	int dev = l->row_dev[row];
	double x0 = l->cur[i], x1 = l->cur[i + 1];
	l->dev_sum[dev] = l->dev_sum[dev] + x0 + x1;
	l->dev_abs[dev] = l->dev_abs[dev] + fabs(x0) + fabs(x1);
	l->tot[i] += x0;
	l->tot[i + 1] += x1;
	l->last[i] = x0;
	l->last[i + 1] = x1;
	l->cur[i] = l->cur[i + 1] = 0.0;
}

int ledger_snapshot(struct ledger *l, int64_t t_ns)
{
	/* one pass over the used rows in memory order: each device's sum gets
	 * its cells in the order (consumer, via, kind) as a loop per device
	 * would add them, so the sums are the same doubles; the interval is
	 * folded into the totals in the same pass */
	for (int dev = 0; dev < l->nd; dev++)
		l->dev_sum[dev] = l->dev_abs[dev] = 0.0;
	/* A cell never charged is 0.0 in cur, last and tot and adds nothing
	 * (x + 0.0 == x: no cell or sum is ever -0.0), so unused rows (c, dev,
	 * via) are skipped, eight used flags (one word, zero when all eight
	 * rows are unused; the flags are padded with zeros) at a time. */
	size_t nrows = l->ncells / 2;
	for (size_t base = 0; base < nrows; base += LEDGER_USED_WORD) {
		uint64_t w;
		memcpy(&w, l->used + base, sizeof w);
		if (!w)
			continue;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && defined(__GNUC__)
		/* the flags are 0 or 1: bit 8k is row base + k's */
		for (; w; w &= w - 1)
			snapshot_row(l, base + (size_t)(__builtin_ctzll(w) >> 3));
#else
		for (size_t k = 0; k < LEDGER_USED_WORD; k++)
			if (l->used[base + k])
				snapshot_row(l, base + k);
#endif
	}
	int bad = 0;
	for (int dev = 0; dev < l->nd; dev++) {
		double sum = l->dev_sum[dev], abs_sum = l->dev_abs[dev];
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
