/*
 * idle_split: theory of operation.
 *
 * Problem: idle energy (the CPU's TSC-weighted baseline, the disk's idle
 * power) is spent whether or not anyone uses the device; the paper charges
 * it to the VMs, and its text and code disagree on how (paper.md §4).
 *
 * Policies (design §5):
 *   equal         each of the n participants gets pot / n (the paper's
 *                 `/ max_vms` and `/ max_client_vms`; the default);
 *   utilization   participant i gets pot * busy_i / sum busy (the text);
 *   proportional  participant i gets pot * active_i / sum active;
 *   base          the base consumer (`hypervisor`) keeps the pot.
 *
 * Worked example: pot 3.6 J, two participants, busy 30 ms and 10 ms:
 * equal 1.8 J + 1.8 J; utilization 2.7 J + 0.9 J.
 *
 * Cost: O(1) per record (add_idle and add_use are inline in the header;
 * use is only accumulated by utilization and proportional, the policies
 * that weigh by it), O(n) per flush.
 *
 * Limits: a policy that has nothing to weigh by (no participants, or no
 * use in the interval) hands the pot to the base consumer, so energy is
 * never lost; the last participant receives the remainder, so the parts
 * add up to the pot to within one rounding step.
 */
#include "models/idle_split.h"

#include <stdlib.h>

struct idle_split *idle_split_new(int n_participants, int policy)
{
	struct idle_split *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->n = n_participants;
	s->policy = policy;
	s->weighs_use = policy == IDLE_UTILIZATION || policy == IDLE_PROPORTIONAL;
	size_t n = n_participants > 0 ? (size_t)n_participants : 1;
	s->busy_ns = calloc(n, sizeof(double));
	s->active_j = calloc(n, sizeof(double));
	if (!s->busy_ns || !s->active_j) {
		idle_split_free(s);
		return NULL;
	}
	return s;
}

void idle_split_free(struct idle_split *s)
{
	if (!s)
		return;
	free(s->busy_ns);
	free(s->active_j);
	free(s);
}

static void reset(struct idle_split *s)
{
	if (s->weighs_use) /* otherwise never written */
		for (int i = 0; i < s->n; i++)
			s->busy_ns[i] = s->active_j[i] = 0.0;
	s->busy_sum = s->active_sum = 0.0;
	s->pot = 0.0;
}

int idle_split_begin(const struct idle_split *s, struct idle_split_iter *it)
{
	it->pot = s->pot;
	it->w = NULL;
	it->wsum = 0.0;
	it->given = 0.0;
	it->eq_part = 0.0;
	it->i = 0;
	it->n = s->n;
	it->last = -1;
	if (s->pot == 0.0)
		return IDLE_SPLIT_NONE;
	switch (s->policy) {
	case IDLE_EQUAL:
		if (s->n <= 0)
			return IDLE_SPLIT_BASE;
		it->wsum = (double)s->n;
		it->eq_part = it->pot * (1.0 / it->wsum); /* pot * (w_i / wsum), w_i = 1 */
		break;
	case IDLE_UTILIZATION:
		if (!(s->busy_sum > 0))
			return IDLE_SPLIT_BASE;
		it->w = s->busy_ns;
		it->wsum = s->busy_sum;
		break;
	case IDLE_PROPORTIONAL:
		if (!(s->active_sum > 0))
			return IDLE_SPLIT_BASE;
		it->w = s->active_j;
		it->wsum = s->active_sum;
		break;
	default:
		return IDLE_SPLIT_BASE;
	}
	/* Split pot by weights w[i] (sum wsum > 0); remainder to the last one
	 * that has a non-zero weight so the parts add up to the pot. */
	it->last = it->w ? -1 : s->n - 1;
	for (int i = 0; it->w && i < s->n; i++)
		if (it->w[i] > 0)
			it->last = i;
	return IDLE_SPLIT_PARTS;
}

void idle_split_end(struct idle_split *s) { reset(s); }

double idle_split_flush(struct idle_split *s, idle_split_charge_fn charge, void *ctx)
{
	struct idle_split_iter it;
	int how = idle_split_begin(s, &it);
	switch (how) {
	case IDLE_SPLIT_BASE:
		charge(ctx, -1, it.pot);
		break;
	case IDLE_SPLIT_PARTS: {
		double part;
		for (int i; (i = idle_split_next(&it, &part)) >= 0;)
			charge(ctx, i, part);
		break;
	}
	default:
		break;
	}
	idle_split_end(s);
	return how == IDLE_SPLIT_NONE ? 0.0 : it.pot;
}

double idle_split_pot(const struct idle_split *s) { return s->pot; }

const char *idle_policy_name(int policy)
{
	static const char *const names[] = {"equal", "utilization", "proportional", "base"};
	return policy >= 0 && policy < 4 ? names[policy] : "?";
}
