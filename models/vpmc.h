/*
 * vpmc: virtual performance counters (paper §3.4, design §4 "Views"): what
 * a guest reads as its own counters, computed from the hypervisor's PMC
 * log by keeping only the advances of the periods it ran.
 */
#ifndef JV_VPMC_H
#define JV_VPMC_H

struct vpmc {
	int n_vms, n_ctr;
	double *logged; /* n_vms x n_ctr: sum of the logged advances of each VM */
};

int vpmc_init(struct vpmc *v, int n_vms, int n_ctr);
void vpmc_free(struct vpmc *v);
/* The hypervisor logged a period: vm (or -1: idle, ignored) ran with
 * these advances. */
void vpmc_log(struct vpmc *v, int vm, const double *delta);
/* The guest's counters now: the logged sum plus, while it runs, the
 * advance since the last record (live; NULL when it is not running). */
void vpmc_read(const struct vpmc *v, int vm, const double *live, double *out);

#endif
