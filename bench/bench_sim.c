/*
 * bench_sim: the full simulation core (issue 10, benchmark 3) and the
 * fidelity check that must pass before any speed figure counts.
 *
 * Scenario (the same one bench_simgrid.cpp models with SimGrid): N guest
 * VMs, each an always-runnable cpu-hog with the paper-2007 event rates,
 * time-share one CPU under the stride scheduler with 1 ms quanta; the
 * hypervisor logs a PMC record at every context switch and every 20 ms,
 * accounts it (weighted PMC model, `equal` idle split), both ledgers are
 * snapshot and checked for conservation every 100 ms, and the host-level
 * energy manager runs its CPU loop every 100 ms (VM v0 carries a CPU limit
 * of 10 kW: in force, never binding). No output sinks: this measures the
 * core; the files `joulevisor run` writes are measured by bench/run.sh
 * separately (`[output] power` and `series` switch the bulky ones off).
 *
 * Figures: quanta simulated per second of wall time (duration / quantum),
 * events per second, heap bytes the machine holds after machine_new and at
 * the end of the run (its state: it must not grow with the run), peak RSS.
 *
 * Fidelity (--fidelity): 4 VMs with tickets 1:2:3:4 for 10 s at 1 ms get
 * 1000/2000/3000/4000 quanta (+-1), and the CPU energy the models predict:
 * per VM idle 36 W / 4 x 10 s = 90 J and active 69.5 W x share x 10 s
 * (cycles 45 W + instructions 20 W + L2 misses 2 W + bus 2.5 W), total
 * 1055 J, in both ledgers (relative 1e-9). Exit 1 when anything is off.
 *
 * Usage: bench_sim [-v VMS] [-s SECONDS] [-r REPS] [--fidelity] [--only]
 *   defaults 4 VMs, 1000 s simulated, 3 repetitions (median); --only runs
 *   once (callgrind, --toggle-collect=bench_region_sim).
 */
#include <math.h>

#include "bench/bench_util.h"

#define SIM_DEFAULT_VMS 4UL
#define SIM_DEFAULT_SECONDS 1000UL
#define SIM_DEFAULT_REPS 3UL
#define SIM_QUANTUM_NS BENCH_NS_PER_MS
#define SIM_FIDELITY_SECONDS 10
#define SIM_FIDELITY_VMS 4
#define SIM_FIDELITY_QUANTA_TOL 1
#define SIM_FIDELITY_REL_TOL 1e-9
#define SIM_BASE_W 36.0    /* paper-2007: 12 nJ x 3e9 TSC ticks/s */
#define SIM_ACTIVE_W 69.5  /* 45 W cycles + 20 W instr + 2 W L2 + 2.5 W bus */

static const char *const USAGE =
	"usage: bench_sim [-v VMS] [-s SECONDS] [-r REPS] [--fidelity] [--only]\n";

/* N cpu-hogs on one CPU with 1 ms quanta; tickets[i] or 100 each;
 * with_manager: a 10 kW CPU limit on v0 keeps the manager's loop running. */
static void sim_scenario(char *buf, size_t cap, int n, long seconds, const int *tickets,
			 int with_manager)
{
	buf[0] = '\0';
	bench_cat(buf, cap, "[global]\nduration = %lds\n[machine]\npreset = paper-2007\n"
		  "[cpu]\nquantum = 1ms\n", seconds);
	for (int i = 0; i < n; i++) {
		bench_cat(buf, cap, "[vm v%d]\nworkload = cpu-hog\ntickets = %d\n", i,
			  tickets ? tickets[i] : 100);
		if (with_manager && i == 0)
			bench_cat(buf, cap, "cpu_limit = 10kW\n");
	}
}

__attribute__((noinline)) static double bench_region_sim(const struct scn *s, size_t *state_b,
							 uint64_t *events)
{
	struct machine *m = NULL;
	size_t h0 = bench_heap_bytes();
	double dt = bench_run_machine("bench_sim", s, &m);
	*state_b = bench_heap_bytes() - h0;
	*events = machine_stats(m)->events;
	if (machine_stats(m)->conservation_violations) {
		fprintf(stderr, "bench_sim: conservation violated\n");
		exit(1);
	}
	machine_free(m);
	return dt;
}

static int near(double a, double b)
{
	return fabs(a - b) <= SIM_FIDELITY_REL_TOL * fmax(fabs(a), fabs(b));
}

/* The fidelity check; prints its figures, returns 0 when it passes. */
static int fidelity(void)
{
	static const int tickets[SIM_FIDELITY_VMS] = {1, 2, 3, 4};
	static char text[BENCH_SCN_TEXT_MAX_B];
	sim_scenario(text, sizeof text, SIM_FIDELITY_VMS, SIM_FIDELITY_SECONDS, tickets, 0);
	struct scn *s = bench_scenario("bench_sim", text);
	struct machine *m = NULL;
	bench_run_machine("bench_sim", s, &m);
	const struct ledger *acct = machine_acct(m), *truth = machine_truth(m);
	int bad = 0, tsum = 0;
	for (int i = 0; i < SIM_FIDELITY_VMS; i++)
		tsum += tickets[i];
	double dur_s = SIM_FIDELITY_SECONDS, total_j = 0.0;
	for (int i = 0; i < SIM_FIDELITY_VMS; i++) {
		const struct machine_vm_stats *st = machine_vm_stats(m, i);
		long quanta = (long)llround((double)st->cpu_ns / (double)SIM_QUANTUM_NS);
		long want = (long)SIM_FIDELITY_SECONDS * 1000 * tickets[i] / tsum;
		double share = (double)tickets[i] / (double)tsum;
		double want_idle = SIM_BASE_W / SIM_FIDELITY_VMS * dur_s;
		double want_active = SIM_ACTIVE_W * share * dur_s;
		int c = machine_consumer(i);
		double a_idle = ledger_total(acct, c, 0, 0, LEDGER_IDLE);
		double a_act = ledger_total(acct, c, 0, 0, LEDGER_ACTIVE);
		double t_idle = ledger_total(truth, c, 0, 0, LEDGER_IDLE);
		double t_act = ledger_total(truth, c, 0, 0, LEDGER_ACTIVE);
		int ok = labs(quanta - want) <= SIM_FIDELITY_QUANTA_TOL && near(a_idle, want_idle) &&
			 near(a_act, want_active) && near(t_idle, want_idle) &&
			 near(t_act, want_active);
		printf("fidelity_v%d_quanta=%ld\nfidelity_v%d_quanta_expected=%ld\n"
		       "fidelity_v%d_energy_j=%.6f\nfidelity_v%d_energy_expected_j=%.6f\n",
		       i, quanta, i, want, i, a_idle + a_act, i, want_idle + want_active);
		total_j += a_idle + a_act;
		bad += !ok;
	}
	double dev_j = ledger_meter_total(acct, 0);
	double want_dev = (SIM_BASE_W + SIM_ACTIVE_W) * dur_s;
	bad += !near(dev_j, want_dev) || !near(total_j, want_dev);
	printf("fidelity_cpu0_energy_j=%.6f\nfidelity_cpu0_energy_expected_j=%.6f\n", dev_j,
	       want_dev);
	printf("fidelity=%s\n", bad ? "FAILED" : "ok");
	machine_free(m);
	scn_free(s);
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	unsigned long vms = SIM_DEFAULT_VMS, seconds = SIM_DEFAULT_SECONDS;
	unsigned long reps = SIM_DEFAULT_REPS;
	int only = 0;
	for (int i = 1; i < argc; i++) {
		if (i + 1 < argc && strcmp(argv[i], "-v") == 0)
			vms = bench_count(argv[++i], USAGE);
		else if (i + 1 < argc && strcmp(argv[i], "-s") == 0)
			seconds = bench_count(argv[++i], USAGE);
		else if (i + 1 < argc && strcmp(argv[i], "-r") == 0)
			reps = bench_count(argv[++i], USAGE);
		else if (strcmp(argv[i], "--fidelity") == 0)
			return fidelity();
		else if (strcmp(argv[i], "--only") == 0)
			only = 1;
		else {
			fprintf(stderr, "%s", USAGE);
			return 2;
		}
	}
	if (reps > BENCH_MAX_REPS || vms > 256) {
		fprintf(stderr, "%s", USAGE);
		return 2;
	}
	if (only)
		reps = 1;
	static char text[BENCH_SCN_TEXT_MAX_B];
	sim_scenario(text, sizeof text, (int)vms, (long)seconds, NULL, 1);
	struct scn *s = bench_scenario("bench_sim", text);
	double t[BENCH_MAX_REPS];
	size_t state_b = 0;
	uint64_t events = 0;
	for (unsigned long k = 0; k < reps; k++)
		t[k] = bench_region_sim(s, &state_b, &events);
	double med = bench_median(t, (int)reps);
	double quanta = (double)seconds * 1e9 / (double)SIM_QUANTUM_NS;
	/* the state at its high-water mark: a machine built and run again */
	struct machine *m = NULL;
	struct machine_sink none = {0};
	struct jv_diag d;
	jv_diag_clear(&d);
	size_t h0 = bench_heap_bytes();
	if (machine_new(s, 0, &none, &m, &d))
		bench_fail("bench_sim", "machine_new", &d);
	size_t new_b = bench_heap_bytes() - h0;
	machine_free(m);
	printf("sim_vms=%lu\nsim_seconds=%lu\nsim_quanta=%.0f\nsim_events=%" PRIu64 "\n", vms,
	       seconds, quanta, events);
	printf("sim_wall_s=%.6f\nsim_quanta_per_s=%.0f\nsim_events_per_s=%.0f\n", med,
	       quanta / med, (double)events / med);
	printf("sim_state_bytes_new=%zu\nsim_state_bytes_end=%zu\nsim_peak_rss_kib=%ld\n", new_b,
	       state_b, bench_peak_rss_kib());
	scn_free(s);
	return 0;
}
