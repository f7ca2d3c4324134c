/*
 * vpmc: theory of operation.
 *
 * Problem: a guest that accounts its own applications (resource
 * containers) needs counters that advance only while it runs; the physical
 * counters also count the other VMs (paper §3.4: "virtualized PMCs").
 *
 * Model: the hypervisor's log holds, per context-switch period, the VM that
 * ran and the counter advances. A guest's virtual counter is the sum of the
 * advances of the periods it ran: the physical advance minus the advances
 * that happened while other VMs ran. While the guest runs, the advance
 * since the last log record (the live part, which the guest reads directly
 * from the counters) is added.
 *
 * Worked example: periods (a: 10 events), (b: 5), (a: 3): a reads 13, b 5;
 * if a now runs with 2 events since the last record, a reads 15.
 *
 * Limits: doubles (exact up to 2^53 events per counter).
 */
#include "models/vpmc.h"

#include <stdlib.h>

#include "base/jv_err.h"

int vpmc_init(struct vpmc *v, int n_vms, int n_ctr)
{
	v->n_vms = n_vms;
	v->n_ctr = n_ctr;
	size_t n = (size_t)(n_vms > 0 ? n_vms : 1) * (size_t)(n_ctr > 0 ? n_ctr : 1);
	v->logged = calloc(n, sizeof(double));
	return v->logged ? 0 : JV_ENOMEM;
}

void vpmc_free(struct vpmc *v)
{
	free(v->logged);
	v->logged = NULL;
}

void vpmc_log(struct vpmc *v, int vm, const double *delta)
{
	if (vm < 0 || vm >= v->n_vms)
		return;
	double *x = v->logged + (size_t)vm * (size_t)v->n_ctr;
	for (int k = 0; k < v->n_ctr; k++)
		x[k] += delta[k];
}

void vpmc_read(const struct vpmc *v, int vm, const double *live, double *out)
{
	const double *x = v->logged + (size_t)vm * (size_t)v->n_ctr;
	for (int k = 0; k < v->n_ctr; k++)
		out[k] = x[k] + (live ? live[k] : 0.0);
}
