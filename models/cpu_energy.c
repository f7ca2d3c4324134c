/*
 * cpu_energy: theory of operation.
 *
 * Problem: the CPU has no energy meter per VM; the paper estimates the
 * energy of each context-switch period from performance counters.
 *
 * Model (paper §3.2.1, weighted-pmc, the default): each event type i has a
 * weight w_i in joules per event, calibrated against measured power. The
 * energy of a period is  E = sum_i w_i * delta_i.  The time stamp counter
 * counts even when the CPU halts, so w_tsc * delta_tsc is the baseline the
 * CPU draws whatever runs: the *idle* energy, split over consumers by the
 * idle policy. The other counters only advance while code runs: their
 * weighted sum is the *active* energy of the VM that ran.
 *
 * Parameters: weights (J/event) and the TSC counter index, from [cpu]
 * weights / weights_file / tsc_counter. paper-2007: w_tsc = 12 nJ, so the
 * baseline is 12 nJ x 3e9 /s = 36 W (Figure 7's base).
 *
 * Worked example: 1 ms of a VM at 3 GHz with 4e6 instructions (w = 5 nJ):
 * idle = 12e-9 * 3e6 = 36 mJ; active = 15e-9 * 3e6 (cycles) + 5e-9 * 4e6 =
 * 65 mJ, i.e. 65 W of active power while it runs.
 *
 * Limits: linear in the counters (no interaction terms); the paper reports
 * an error below 10% for integer workloads with such models.
 */
#include "models/cpu_energy.h"

#include <string.h>

static void weighted_period(const struct cpu_energy *m, int64_t dt_ns, const double *delta,
			    double *idle_j, double *active_j)
{
	(void)dt_ns;
	double act = 0.0;
	for (int i = 0; i < m->n_counters; i++)
		if (i != m->tsc_index)
			act += m->weight_j[i] * delta[i];
	*idle_j = m->tsc_index >= 0 ? m->weight_j[m->tsc_index] * delta[m->tsc_index] : 0.0;
	*active_j = act;
}

static void null_period(const struct cpu_energy *m, int64_t dt_ns, const double *delta,
			double *idle_j, double *active_j)
{
	(void)m;
	(void)dt_ns;
	(void)delta;
	*idle_j = 0.0;
	*active_j = 0.0;
}

const struct cpu_energy_ops cpu_energy_weighted_pmc = {
	.name = "weighted-pmc",
	.help = "sum of weight x counter advance; TSC part is idle (paper §3.2.1)",
	.period = weighted_period,
};

const struct cpu_energy_ops cpu_energy_null = {
	.name = "null",
	.help = "always zero (tests)",
	.period = null_period,
};

const struct cpu_energy_ops *const cpu_energy_models[] = {
	&cpu_energy_weighted_pmc,
	&cpu_energy_null,
	NULL,
};

const struct cpu_energy_ops *cpu_energy_lookup(const char *name)
{
	for (int i = 0; cpu_energy_models[i]; i++)
		if (strcmp(cpu_energy_models[i]->name, name) == 0)
			return cpu_energy_models[i];
	return NULL;
}
