/*
 * shaper: disk request shaping in the driver VM (paper §3.3.5, design §5).
 * Per-client request rings; a client is served up to its budget per
 * shaping period, the rest waits in order. The throttle factor the energy
 * manager sets is that budget.
 */
#ifndef JV_SHAPER_H
#define JV_SHAPER_H

#include <stdint.h>

/* Embedded in the caller's request. */
struct shaper_item {
	struct shaper_item *next;
};

struct shaper_client {
	struct shaper_item *head, *tail; /* waiting requests, in order */
	uint64_t queued;                 /* length of the ring */
	int limited;                     /* 0: requests pass unshaped */
	double budget;                   /* throttle factor: requests per period */
	double credit;                   /* requests left this period (fraction carried) */
	uint64_t passed, delayed;        /* statistics */
};

struct shaper {
	int n;
	struct shaper_client *c;
};

typedef void (*shaper_release_fn)(void *ctx, int client, struct shaper_item *it);

int shaper_init(struct shaper *s, int n_clients);
void shaper_destroy(struct shaper *s);
/* Limit client (from now on) to `budget` requests per period; the first
 * period's credit is the budget. */
void shaper_limit(struct shaper *s, int client, double budget);
/* Change the budget; takes effect at the next refresh. */
void shaper_set_budget(struct shaper *s, int client, double budget);
/* A request arrives: returns 1 if it may be served now (credit taken), 0
 * if it was queued behind earlier ones or for lack of credit. */
int shaper_submit(struct shaper *s, int client, struct shaper_item *it);
/* Start a new shaping period: every limited client gets credit = budget
 * (plus the unused fraction of a request carried over, never more than one
 * request), then waiting requests are released in order while credit lasts,
 * clients in index order. */
void shaper_refresh(struct shaper *s, shaper_release_fn release, void *ctx);

#endif
