/*
 * bench_evq: throughput of the event queue in the classic hold model.
 *
 * The queue is filled with QUEUE events at random times; then each of OPS
 * steps pops the earliest event and schedules it again at now + a random
 * increment (uniform in [0, 2 * EVQ_BENCH_MEAN_INCREMENT_NS)), so the
 * queue size stays constant, as in a running simulation. Times come from
 * a fixed-seed xorshift generator: every run does the same work.
 *
 * Usage: bench_evq [QUEUE [OPS]]   (defaults 1024 and 10000000)
 * Prints one line on stdout: evq_hold_events_per_s=<n>, where one event is
 * one pop plus one schedule; details go to stderr.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "sim/evq.h"

#define EVQ_BENCH_QUEUE_EVENTS 1024u
#define EVQ_BENCH_OPS 10000000u
#define EVQ_BENCH_MEAN_INCREMENT_NS 1000u
#define EVQ_BENCH_SEED UINT64_C(0x2545f4914f6cdd1d)
#define NS_PER_S 1000000000.0

static uint64_t rng_state = EVQ_BENCH_SEED;

static inline uint64_t rng_next(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	rng_state = x;
	return x;
}

static inline int64_t increment_ns(void)
{
	return (int64_t)(rng_next() % (2 * EVQ_BENCH_MEAN_INCREMENT_NS));
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / NS_PER_S;
}

static int parse_count(const char *s, unsigned long *out)
{
	char *end;

	*out = strtoul(s, &end, 10);
	return *s && !*end && *out > 0;
}

int main(int argc, char **argv)
{
	unsigned long queue = EVQ_BENCH_QUEUE_EVENTS, ops = EVQ_BENCH_OPS, i;
	struct evq_event *evs;
	struct evq q;
	uint64_t checksum = 0;
	double t0, dt;

	if ((argc > 1 && !parse_count(argv[1], &queue)) ||
	    (argc > 2 && !parse_count(argv[2], &ops)) || argc > 3 ||
	    queue > UINT32_MAX / 2) {
		fprintf(stderr, "usage: bench_evq [QUEUE [OPS]]\n");
		return 2;
	}
	evs = calloc(queue, sizeof(*evs));
	if (!evs || evq_init(&q, (uint32_t)queue) != 0) {
		fprintf(stderr, "bench_evq: out of memory\n");
		free(evs);
		return 1;
	}
	for (i = 0; i < queue; i++) {
		evq_event_init(&evs[i], NULL, NULL);
		evq_schedule(&q, &evs[i], increment_ns());
	}
	t0 = now_s();
	for (i = 0; i < ops; i++) {
		struct evq_event *ev = evq_pop(&q);

		checksum += (uint64_t)ev->t_ns;
		evq_schedule(&q, ev, q.now_ns + increment_ns());
	}
	dt = now_s() - t0;
	fprintf(stderr,
		"bench_evq: queue=%lu ops=%lu time_s=%.3f ns_per_event=%.1f "
		"checksum=%" PRIu64 "\n",
		queue, ops, dt, dt * NS_PER_S / (double)ops, checksum);
	printf("evq_hold_events_per_s=%.0f\n", (double)ops / dt);
	evq_destroy(&q);
	free(evs);
	return 0;
}
