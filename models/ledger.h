/*
 * ledger: the virtual-to-physical energy matrix (design §4, §6).
 *
 * A cell is (consumer, device, via, kind). Consumers are indexed with the
 * two reserved ones first: LEDGER_HYPERVISOR (base consumption; CPU idle
 * under the `base` policy) and LEDGER_UNATTRIBUTED (energy measured but not
 * yet charged; signed), then the VMs in scenario order. Devices are cpu0..
 * then disk0... `via` 0 is `direct`; via k > 0 names the k-th driver VM.
 * `kind` is idle or active.
 *
 * Every charge goes through ledger_charge(). Independently, the component
 * that owns a device reports the device's energy with ledger_meter(). At
 * each snapshot the ledger checks conservation per device (design §6.1):
 *   | sum of the interval's cells for the device - metered energy |
 *      <= LEDGER_REL_TOL * max(|metered|, sum |cells|) + LEDGER_ABS_TOL_J
 * records the worst residual, then folds the interval into the totals and
 * starts a new interval. Cells that were ever charged are marked `used`, so
 * outputs list a stable set of rows from their first appearance on.
 *
 * Cost: O(1) per charge (flat array; ledger_charge and ledger_meter are
 * inline, as they run several times per simulated quantum), O(cells) per
 * snapshot in one pass over the used rows (unused ones skipped 8 at a time).
 */
#ifndef JV_LEDGER_H
#define JV_LEDGER_H

#include <assert.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#define LEDGER_HYPERVISOR 0
#define LEDGER_UNATTRIBUTED 1
#define LEDGER_FIRST_VM 2

#define LEDGER_REL_TOL 1e-9     /* relative conservation tolerance (design §6.1) */
#define LEDGER_ABS_TOL_J 1e-12  /* absolute floor for near-empty intervals, J */

enum ledger_kind { LEDGER_IDLE = 0, LEDGER_ACTIVE = 1 };

struct ledger_conservation {
	double max_residual_j;     /* worst |cells - meter| over all checks */
	double max_rel_residual;   /* the same relative to the device energy */
	int64_t worst_t_ns;        /* snapshot time of the worst one */
	int worst_device;
	uint64_t checks;           /* device-interval checks made */
	uint64_t violations;       /* checks above tolerance */
};

/* The ledger's state. Visible only for the inline charge and meter below
 * (the simulator's hot path); everything else goes through the functions. */
#define LEDGER_USED_WORD 8 /* used flags the snapshot tests at once (one uint64_t) */

struct ledger {
	int nc, nd, nv;
	const char *const *cname;
	const char *const *dname;
	const char *const *vname;
	size_t ncells;         /* nc * nd * nv * 2 */
	double *cur, *last, *tot;
	unsigned char *used;   /* per (c, dev, via), padded to whole LEDGER_USED_WORDs */
	int *row_dev;          /* per (c, dev, via): dev */
	double *meter_cur, *meter_tot;
	double *dev_sum, *dev_abs; /* snapshot scratch, per device */
	struct ledger_conservation cons;
};

static inline size_t ledger_cell_idx(const struct ledger *l, int c, int dev, int via, int kind)
{
	return ((((size_t)c * (size_t)l->nd + (size_t)dev) * (size_t)l->nv + (size_t)via) << 1) |
	       (size_t)kind;
}

/* names: consumer_names[n_consumers] (incl. the two reserved), device and
 * via names (via_names[0] = "direct"). The strings must outlive the ledger. */
struct ledger *ledger_new(int n_consumers, const char *const *consumer_names,
			  int n_devices, const char *const *device_names,
			  int n_via, const char *const *via_names);
void ledger_free(struct ledger *l);

static inline void ledger_charge(struct ledger *l, int consumer, int device, int via,
				 int kind, double joules)
{
	assert(consumer >= 0 && consumer < l->nc);
	assert(device >= 0 && device < l->nd);
	assert(via >= 0 && via < l->nv);
	assert(kind == LEDGER_IDLE || kind == LEDGER_ACTIVE);
	assert(isfinite(joules));
	if (joules == 0.0)
		return;
	size_t i = ledger_cell_idx(l, consumer, device, via, kind);
	l->cur[i] += joules;
	l->used[i >> 1] = 1;
}

/* The open interval's accumulator of a cell, marked used: for a caller
 * that charges one cell very often (the simulator, per quantum), adding
 * joules != 0 to *ledger_cell_cur() is ledger_charge(). The pointer stays
 * valid until ledger_free; call it at the first non-zero charge (it marks
 * the cell used, as that charge would). */
static inline double *ledger_cell_cur(struct ledger *l, int consumer, int device, int via,
				      int kind)
{
	assert(consumer >= 0 && consumer < l->nc);
	assert(device >= 0 && device < l->nd);
	assert(via >= 0 && via < l->nv);
	size_t i = ledger_cell_idx(l, consumer, device, via, kind);
	l->used[i >> 1] = 1;
	return &l->cur[i];
}

/* Energy the device spent (truth) or the accounting layer measured (account). */
static inline void ledger_meter(struct ledger *l, int device, double joules)
{
	assert(device >= 0 && device < l->nd);
	assert(isfinite(joules));
	l->meter_cur[device] += joules;
}

/* Check conservation for the interval ending at t_ns, fold it into the
 * totals, start a new interval. Returns the number of devices that violated
 * the tolerance in this interval (0 when all conserve). */
int ledger_snapshot(struct ledger *l, int64_t t_ns);

int ledger_n_consumers(const struct ledger *l);
int ledger_n_devices(const struct ledger *l);
int ledger_n_via(const struct ledger *l);
const char *ledger_consumer_name(const struct ledger *l, int c);
const char *ledger_device_name(const struct ledger *l, int dev);
const char *ledger_via_name(const struct ledger *l, int via);

int ledger_cell_used(const struct ledger *l, int c, int dev, int via);
/* Energy of the last completed interval (after ledger_snapshot) ... */
double ledger_interval(const struct ledger *l, int c, int dev, int via, int kind);
/* ... and of the whole run up to the last snapshot. */
double ledger_total(const struct ledger *l, int c, int dev, int via, int kind);
/* Sum over via and kind of a consumer's total on a device. */
double ledger_total_cd(const struct ledger *l, int c, int dev);
/* Device energy metered up to the last snapshot. */
double ledger_meter_total(const struct ledger *l, int dev);
const struct ledger_conservation *ledger_conservation(const struct ledger *l);

#endif
