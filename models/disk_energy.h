/*
 * disk_energy: the paper's disk accounting in the driver VM (paper §3.2.2,
 * §3.3.2; design §5).
 */
#ifndef JV_DISK_ENERGY_H
#define JV_DISK_ENERGY_H

#include <stdint.h>

struct disk_energy {
	double idle_w, active_w;  /* data-sheet powers */
	double rate_bps;          /* current transfer-rate estimate */
	int window;               /* requests per estimate (50) */
	int in_window;            /* requests in the open window */
	double win_bytes, win_busy_ns;
	uint64_t estimates;       /* how many times the rate was recomputed */
};

void disk_energy_init(struct disk_energy *e, double idle_w, double active_w,
		      double nominal_rate_bps, int window);
/* A request of size_b completed after busy_ns of device time. Returns the
 * access energy charged to its client: size / rate * (active - idle), with
 * the estimate in force before this request; then feeds the estimator. */
double disk_energy_complete(struct disk_energy *e, int64_t size_b, int64_t busy_ns);
/* Idle energy for dt_ns (charged every idle period over the clients). */
static inline double disk_energy_idle(const struct disk_energy *e, int64_t dt_ns)
{
	return e->idle_w * (double)dt_ns * 1e-9;
}

#endif
