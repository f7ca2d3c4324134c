/*
 * recursive: theory of operation.
 *
 * Problem: a driver VM spends CPU energy on behalf of its clients (about
 * 8 W of background kernel activity and a cost per request). The
 * hypervisor only sees the driver VM run; the driver must pass that energy
 * on, or the clients' energy is understated (paper §3.3.3).
 *
 * Model: the hypervisor's accounting charges the driver VM's CPU energy to
 * a pool (recursive_pool_add). The driver charges its clients
 *   idle:   drv_idle_cpu_power * dt, every idle period, split over clients;
 *   active: cpu_req_energy per completed request.
 * Every `window` (50) requests the prediction is renewed with the paper's
 * algorithm, literally:
 *     unaccounted -= drv_idle_cpu_power * (now - last);
 *     unaccounted += get_cpu_energy();         (pool energy since last query)
 *     unaccounted -= cpu_req_energy * num_req; (what was charged)
 *     cpu_req_energy = unaccounted / num_req;
 * Since `unaccounted` is not reset, it holds the energy consumed and not
 * yet charged; with the recurrence u_k = u_{k-1} + e_k - c_{k-1}, c_k =
 * u_k / n, the prediction equals the last window's mean cost per request
 * and the charge lags the consumption by one window. What the driver has
 * received but not passed on in a ledger interval is booked as
 * `unattributed` (signed), so energy is conserved at every snapshot.
 *
 * Parameters: drv_idle_cpu_power ([vm] idle_cpu_power, or `auto`: measured
 * by running the driver alone for idle_probe, as the paper approximates it
 * "when no client VM uses the disk"), num_req ([vm] predict_window, 50).
 *
 * Worked example: 8 W idle estimate, 100 ms window with 50 requests, pool
 * 1.2 J: unaccounted = 0 - 0.8 + 1.2 - 0 = 0.4 J, so 8 mJ per request from
 * then on.
 *
 * `cpu_req_energy * num_req` is what the window's requests were charged;
 * the tool subtracts exactly that (the sum of the charges), which is the
 * same number unless a prediction was negative.
 *
 * Limits: the first window's requests are charged 0 (no prediction yet);
 * a negative prediction (idle overestimated) is charged as 0, and since
 * only what was really charged is subtracted the deficit stays in
 * `unaccounted` instead of inflating later charges.
 */
#include "models/recursive.h"

void recursive_init(struct recursive *r, double idle_w, int window, int64_t now_ns)
{
	r->idle_w = idle_w;
	r->window = window > 0 ? window : 1;
	r->req_energy_j = 0.0;
	r->unaccounted_j = 0.0;
	r->since_query_j = 0.0;
	r->last_query_ns = now_ns;
	r->in_window = 0;
	r->window_charged_j = 0.0;
	r->predictions = 0;
	r->interval_in_j = r->interval_out_j = 0.0;
	r->last_idle_ns = now_ns;
}

void recursive_pool_add(struct recursive *r, double joules)
{
	r->since_query_j += joules;
	r->interval_in_j += joules;
}

double recursive_request_done(struct recursive *r, int64_t now_ns)
{
	double charge = r->req_energy_j > 0 ? r->req_energy_j : 0.0;
	r->interval_out_j += charge;
	r->window_charged_j += charge;
	if (++r->in_window >= r->window) {
		int num_req = r->window;
		r->unaccounted_j -= r->idle_w * (double)(now_ns - r->last_query_ns) * 1e-9;
		r->last_query_ns = now_ns;
		r->unaccounted_j += r->since_query_j;
		r->since_query_j = 0.0;
		/* the paper: -= cpu_req_energy * num_req, i.e. what was charged */
		r->unaccounted_j -= r->window_charged_j;
		r->window_charged_j = 0.0;
		r->req_energy_j = r->unaccounted_j / num_req;
		r->in_window = 0;
		r->predictions++;
	}
	return charge;
}

double recursive_idle_due(struct recursive *r, int64_t now_ns)
{
	double e = r->idle_w * (double)(now_ns - r->last_idle_ns) * 1e-9;
	r->last_idle_ns = now_ns;
	r->interval_out_j += e;
	return e;
}

double recursive_interval_residual(struct recursive *r)
{
	double res = r->interval_in_j - r->interval_out_j;
	r->interval_in_j = r->interval_out_j = 0.0;
	return res;
}
