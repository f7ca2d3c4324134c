/*
 * cpu_energy: the CPU energy model behind an ops table (design §5).
 *
 * A model turns the counter advances of one period (a context-switch
 * period of the hypervisor's PMC log, or a simulated segment) into idle
 * energy (the baseline: TSC-weighted, counting even when halted) and
 * active energy (everything else). The default model is the paper's:
 * weighted PMC events, energy = sum_i weight_i * advance_i, J/event.
 */
#ifndef JV_CPU_ENERGY_H
#define JV_CPU_ENERGY_H

#include <stdint.h>

#define CPU_ENERGY_MAX_COUNTERS 16

struct cpu_energy {
	const struct cpu_energy_ops *ops;
	int n_counters;
	int tsc_index;                           /* baseline counter */
	double weight_j[CPU_ENERGY_MAX_COUNTERS]; /* J/event */
};

struct cpu_energy_ops {
	const char *name;
	const char *help;
	/* Energy of one period of dt_ns with advances delta[n_counters]. */
	void (*period)(const struct cpu_energy *m, int64_t dt_ns, const double *delta,
		       double *idle_j, double *active_j);
};

extern const struct cpu_energy_ops cpu_energy_weighted_pmc; /* default */
extern const struct cpu_energy_ops cpu_energy_null;         /* tests: always 0 */
/* Registry, NULL-terminated; lookup returns NULL for unknown names. */
extern const struct cpu_energy_ops *const cpu_energy_models[];
const struct cpu_energy_ops *cpu_energy_lookup(const char *name);

static inline void cpu_energy_period(const struct cpu_energy *m, int64_t dt_ns,
				     const double *delta, double *idle_j, double *active_j)
{
	m->ops->period(m, dt_ns, delta, idle_j, active_j);
}

#endif
