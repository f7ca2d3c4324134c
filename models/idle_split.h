/*
 * idle_split: apportioning a device's idle energy over its consumers by the
 * idle policies of design §5 (equal, utilization, proportional, base).
 *
 * Idle energy is put in a pot; each participant's use of the device (busy
 * time, active energy) is accumulated; at a flush the pot is split and
 * handed to a charge callback (or, for a caller charging in its own loop,
 * read part by part: idle_split_begin/next/end, the same parts), then
 * everything restarts. Accumulating and
 * splitting once per snapshot gives the same totals as splitting per
 * record (the split is linear in the pot) at O(1) cost per record (inline
 * here: a few additions, none under the equal and base policies' use).
 */
#ifndef JV_IDLE_SPLIT_H
#define JV_IDLE_SPLIT_H

#include <stdint.h>

/* Policies: identical values to enum scn_idle_policy. */
enum idle_policy {
	IDLE_EQUAL = 0,        /* pot / n over all participants (paper's code) */
	IDLE_UTILIZATION = 1,  /* in proportion to busy time (paper's text) */
	IDLE_PROPORTIONAL = 2, /* in proportion to active energy */
	IDLE_BASE = 3,         /* all to the base consumer (participant -1) */
};

/* Visible only for the inline accumulators below (run per simulated
 * quantum); everything else goes through the functions. */
struct idle_split {
	int n;
	int policy;
	int weighs_use;    /* utilization or proportional: use is accumulated */
	double pot;
	double *busy_ns;
	double *active_j;
	double busy_sum, active_sum;
};

/* who == -1 means the base consumer (`hypervisor`). */
typedef void (*idle_split_charge_fn)(void *ctx, int who, double joules);

struct idle_split *idle_split_new(int n_participants, int policy);
void idle_split_free(struct idle_split *s);

static inline void idle_split_add_idle(struct idle_split *s, double joules)
{
	s->pot += joules;
}

/* Use is weighed only by the utilization and proportional policies; the
 * others split by n or keep the pot, so their use is not accumulated. */
static inline void idle_split_add_use(struct idle_split *s, int who, int64_t busy_ns,
				      double active_j)
{
	if (!s->weighs_use || who < 0 || who >= s->n)
		return;
	s->busy_ns[who] += (double)busy_ns;
	s->active_j[who] += active_j;
	s->busy_sum += (double)busy_ns;
	s->active_sum += active_j;
}
/* Split the pot and reset. With utilization/proportional and no use at
 * all in the interval, or equal with no participants, the pot goes to the
 * base consumer. Returns the pot that was split. */
double idle_split_flush(struct idle_split *s, idle_split_charge_fn charge, void *ctx);

/* The same split without a callback, for a caller that charges the parts
 * in its own loop (the simulator's CPU idle splits at every snapshot):
 *   struct idle_split_iter it;
 *   switch (idle_split_begin(s, &it)) {
 *   case IDLE_SPLIT_BASE: charge(-1, it.pot); break;
 *   case IDLE_SPLIT_PARTS: for (int i; (i = idle_split_next(&it, &j)) >= 0;) charge(i, j);
 *   }
 *   idle_split_end(s);
 * gives exactly the charges (same participants, order and doubles) of
 * idle_split_flush(s, charge, ctx), which is written this way. */
enum { IDLE_SPLIT_NONE = 0, IDLE_SPLIT_BASE = 1, IDLE_SPLIT_PARTS = 2 };

struct idle_split_iter {
	double pot;        /* the pot being split */
	const double *w;   /* weights, NULL: all 1 (equal) */
	double wsum;
	double given;      /* parts handed out so far */
	double eq_part;    /* equal weights: pot * (1.0 / wsum), each one's part */
	int i, n, last;    /* next participant; count; the one taking the rest */
};

/* NONE: the pot is 0, nothing to charge; BASE: all of it.pot goes to the
 * base consumer (-1); PARTS: idle_split_next hands out the parts. */
int idle_split_begin(const struct idle_split *s, struct idle_split_iter *it);

/* The next participant with a part (*part set), or -1 when done. */
static inline int idle_split_next(struct idle_split_iter *it, double *part)
{
	int i = it->i;
	if (!it->w) { /* equal: every weight 1, pot * (1 / wsum) each */
		if (i >= it->n)
			return -1;
		double p = i == it->last ? it->pot - it->given : it->eq_part;
		it->given += p;
		it->i = i + 1;
		*part = p;
		return i;
	}
	for (; i < it->n; i++) {
		double wi = it->w[i];
		if (wi <= 0)
			continue;
		double p = i == it->last ? it->pot - it->given : it->pot * (wi / it->wsum);
		it->given += p;
		it->i = i + 1;
		*part = p;
		return i;
	}
	it->i = i;
	return -1;
}

/* Reset the pot and the use after a split (or with nothing to split). */
void idle_split_end(struct idle_split *s);
double idle_split_pot(const struct idle_split *s);
const char *idle_policy_name(int policy);

#endif
