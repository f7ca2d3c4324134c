/*
 * recursive: the driver VM's recursive CPU accounting (paper §3.3.3,
 * design §5): the driver passes the CPU energy the hypervisor charged it on
 * to its clients, as idle (its background) and per-request active energy.
 */
#ifndef JV_RECURSIVE_H
#define JV_RECURSIVE_H

#include <stdint.h>

struct recursive {
	double idle_w;           /* drv_idle_cpu_power: the driver's idle estimate */
	int window;              /* num_req (50) */
	double req_energy_j;     /* cpu_req_energy: prediction per request */
	double unaccounted_j;    /* unaccounted_cpu_energy */
	double since_query_j;    /* get_cpu_energy(): pool energy since last query */
	int64_t last_query_ns;   /* `last` of the paper's fragment */
	int in_window;           /* requests since the last prediction */
	double window_charged_j; /* charged to those requests */
	uint64_t predictions;
	/* ledger-interval bookkeeping: what came in, what was passed on */
	double interval_in_j, interval_out_j;
	int64_t last_idle_ns;    /* last idle charge */
};

void recursive_init(struct recursive *r, double idle_w, int window, int64_t now_ns);
/* Energy the hypervisor's accounting charged to the driver VM. */
void recursive_pool_add(struct recursive *r, double joules);
/* A request completed: returns the active CPU energy to charge its client
 * (the current prediction, never negative), and every `window` requests
 * re-predicts with the paper's algorithm. */
double recursive_request_done(struct recursive *r, int64_t now_ns);
/* Idle CPU energy of the driver since the last call (to split over the
 * clients): idle_w * (now - last). */
double recursive_idle_due(struct recursive *r, int64_t now_ns);
/* End of a ledger interval: returns in - out (the energy measured but not
 * passed on: the carried prediction error), and restarts the interval. */
double recursive_interval_residual(struct recursive *r);

#endif
