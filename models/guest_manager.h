/*
 * guest_manager: the energy-aware guest's manager (paper §3.4): splits the
 * VM-wide limits the host set among the guest's resource containers every
 * guest period (50 ms) and preempts a container that exhausted its budget
 * until the next refresh.
 */
#ifndef JV_GUEST_MANAGER_H
#define JV_GUEST_MANAGER_H

#include <math.h>

struct gm_container {
	double limit_w;   /* explicit power limit, 0 = none */
	double share;     /* share of the VM limit, 0 = none */
	double budget_w;  /* resolved: INFINITY when unlimited */
	double left_j;    /* budget left this period */
	int throttled;    /* preempted until the next refresh */
};

struct guest_manager {
	int n;
	struct gm_container *c;
	double vm_limit_w;   /* 0: the host set none */
	double period_s;     /* guest period, guest seconds */
};

int gm_init(struct guest_manager *g, int n_containers, double period_s);
void gm_free(struct guest_manager *g);
/* Resolve the containers' budgets against the VM-wide limit: explicit
 * limits first, shares of the VM limit next, the remainder split equally
 * over the containers with neither; when the parts exceed the VM limit
 * they are scaled down so their sum never exceeds it. */
void gm_resolve(struct guest_manager *g, double vm_limit_w);
/* New period: every container gets budget x period and runs again. */
void gm_refresh(struct guest_manager *g);
/* Charge a container (guest view); returns 1 when it is now throttled. */
int gm_charge(struct guest_manager *g, int c, double joules);
/* Guest ns until container c exhausts its budget at power_w (INFINITY-safe:
 * returns -1 when unlimited). */
double gm_time_left_ns(const struct guest_manager *g, int c, double power_w);

#endif
