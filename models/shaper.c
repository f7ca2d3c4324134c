/*
 * shaper: theory of operation.
 *
 * Problem: the disk driver must keep a client's disk (and recursive CPU)
 * power under a limit; it cannot slow the disk, but it can delay requests
 * (paper §3.3.5: "the driver processes a client's requests only up to a
 * per-period budget and delays the rest").
 *
 * Model: each client has a FIFO ring of waiting requests and a credit in
 * requests. A limited client's request passes at once if nothing of it is
 * waiting and it has at least one request of credit; otherwise it joins
 * the ring. Every shaping period ([manager] shaping_period, default the
 * disk period, 200 ms) the credit is reset to the budget (the throttle
 * factor t the energy manager set) plus the fraction of a request left
 * over (so a budget of 2.5 serves 5 requests every two periods), and the
 * ring is drained while credit lasts. Unlimited clients always pass.
 *
 * Worked example: budget 100 per 200 ms, a client issuing 300 per period:
 * 100 pass at once, 200 wait; at each refresh 100 more pass, so the client
 * runs at 500 requests/s and its queue stays 200 long (a closed-loop client
 * simply blocks instead).
 *
 * Limits: credit is not banked across periods beyond one request's
 * fraction; the order between clients at a refresh is by client index.
 */
#include "models/shaper.h"

#include <math.h>
#include <stdlib.h>

#include "base/jv_err.h"

int shaper_init(struct shaper *s, int n_clients)
{
	s->n = n_clients;
	s->c = calloc((size_t)(n_clients > 0 ? n_clients : 1), sizeof *s->c);
	return s->c ? 0 : JV_ENOMEM;
}

void shaper_destroy(struct shaper *s)
{
	free(s->c);
	s->c = NULL;
	s->n = 0;
}

void shaper_limit(struct shaper *s, int client, double budget)
{
	struct shaper_client *c = &s->c[client];
	c->limited = 1;
	c->budget = budget > 0 ? budget : 0;
	c->credit = c->budget;
}

void shaper_set_budget(struct shaper *s, int client, double budget)
{
	s->c[client].budget = budget > 0 ? budget : 0;
}

static void push(struct shaper_client *c, struct shaper_item *it)
{
	it->next = NULL;
	if (c->tail)
		c->tail->next = it;
	else
		c->head = it;
	c->tail = it;
	c->queued++;
	c->delayed++;
}

int shaper_submit(struct shaper *s, int client, struct shaper_item *it)
{
	struct shaper_client *c = &s->c[client];
	if (!c->limited) {
		c->passed++;
		return 1;
	}
	if (!c->head && c->credit >= 1.0) {
		c->credit -= 1.0;
		c->passed++;
		return 1;
	}
	push(c, it);
	return 0;
}

void shaper_refresh(struct shaper *s, shaper_release_fn release, void *ctx)
{
	for (int i = 0; i < s->n; i++) {
		struct shaper_client *c = &s->c[i];
		if (!c->limited)
			continue;
		double frac = c->credit - floor(c->credit);
		c->credit = c->budget + (c->credit > 0 ? frac : 0.0);
		while (c->head && c->credit >= 1.0) {
			struct shaper_item *it = c->head;
			c->head = it->next;
			if (!c->head)
				c->tail = NULL;
			it->next = NULL;
			c->queued--;
			c->credit -= 1.0;
			c->passed++;
			release(ctx, i, it);
		}
	}
}
