/*
 * guest_manager: theory of operation.
 *
 * Problem: the host caps a VM as a whole; an energy-aware guest knows which
 * application spent what and can split the VM's allotment among them
 * (paper §3.4, Figure 9), so a background job does not eat the budget of
 * an interactive one.
 *
 * Model: each container has an explicit limit (W), a share of the VM-wide
 * limit, or neither (it then shares the remainder equally with the others
 * without one). If the explicit parts add up to more than the VM limit,
 * every part is scaled down by the same factor: nested budgets never let
 * the containers together exceed the VM. Every guest period (50 ms of
 * guest time) each container gets budget x period joules; the guest
 * charges each container the active energy of its slices from virtual PMCs
 * (at container switches) and, for a container that issues disk requests,
 * the active cost each reply carries (disk access and driver CPU), and
 * preempts a container whose budget is spent until the next refresh (no
 * slice, no new request). The guest's scheduler shortens a slice to the
 * time the budget lasts at the container's recent power. The VM-wide limit
 * is what the host set and enforces (the machine passes cpu_limit plus
 * disk_limit, each once in force).
 *
 * Worked example: a 40 W VM with containers of 10 W and 30 W: budgets of
 * 0.5 J and 1.5 J per 50 ms; two CPU-bound apps at 69.5 W run 7.2 ms and
 * 21.6 ms per period; the VM draws 40 W and the throughput ratio is 3.
 *
 * Limits: budgets are per period, not banked (an overrun by requests in
 * flight when the budget ran out is forgiven at the refresh); one budget
 * covers all of a container's devices; the guest's clock may drift
 * from the host's ([vm] clock_drift_ppm), so its view of power differs
 * slightly from the host's (a slow guest clock reads higher).
 */
#include "models/guest_manager.h"

#include <stdlib.h>

#include "base/jv_err.h"

int gm_init(struct guest_manager *g, int n_containers, double period_s)
{
	g->n = n_containers;
	g->period_s = period_s;
	g->vm_limit_w = 0;
	g->c = calloc((size_t)(n_containers > 0 ? n_containers : 1), sizeof *g->c);
	return g->c ? 0 : JV_ENOMEM;
}

void gm_free(struct guest_manager *g)
{
	free(g->c);
	g->c = NULL;
}

void gm_resolve(struct guest_manager *g, double vm_limit_w)
{
	g->vm_limit_w = vm_limit_w;
	double fixed = 0.0;
	int n_free = 0;
	for (int i = 0; i < g->n; i++) {
		struct gm_container *c = &g->c[i];
		if (c->limit_w > 0)
			c->budget_w = c->limit_w;
		else if (c->share > 0 && vm_limit_w > 0)
			c->budget_w = c->share * vm_limit_w;
		else {
			c->budget_w = INFINITY;
			n_free++;
			continue;
		}
		fixed += c->budget_w;
	}
	if (vm_limit_w <= 0)
		return; /* explicit limits only; the others run unlimited */
	double scale = fixed > vm_limit_w ? vm_limit_w / fixed : 1.0;
	double rest = fmax(0.0, vm_limit_w - fixed * scale);
	for (int i = 0; i < g->n; i++) {
		struct gm_container *c = &g->c[i];
		if (isinf(c->budget_w))
			c->budget_w = n_free ? rest / n_free : 0.0;
		else
			c->budget_w *= scale;
	}
}

void gm_refresh(struct guest_manager *g)
{
	for (int i = 0; i < g->n; i++) {
		struct gm_container *c = &g->c[i];
		c->left_j = isinf(c->budget_w) ? INFINITY : c->budget_w * g->period_s;
		c->throttled = c->left_j <= 0;
	}
}

int gm_charge(struct guest_manager *g, int i, double joules)
{
	struct gm_container *c = &g->c[i];
	if (isinf(c->left_j))
		return 0;
	c->left_j -= joules;
	if (c->left_j <= 0)
		c->throttled = 1;
	return c->throttled;
}

double gm_time_left_ns(const struct guest_manager *g, int i, double power_w)
{
	const struct gm_container *c = &g->c[i];
	if (isinf(c->left_j) || power_w <= 0)
		return -1.0;
	return c->left_j / power_w * 1e9;
}
