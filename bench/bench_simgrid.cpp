/*
 * bench_simgrid: the peer simulator on bench_sim's scenario (issue 10,
 * benchmark 3), built only when Debian's libsimgrid-dev is installed.
 *
 * Scenario, as close to bench_sim.c as SimGrid's model allows: one host
 * (one core, 3 Gflop/s) with the host energy plugin and the paper-2007
 * CPU powers as its wattage_per_state (idle 36 W, busy 36 W + 69.5 W
 * active); N actors ("VMs"), each executing one compute chunk of one
 * quantum (1 ms of the core, 3e6 flops) after the other, with its tickets
 * as the execution's sharing priority; a manager actor every 100 ms reads
 * the host's energy and charges the period's energy to the VMs in
 * proportion to the chunks each completed (SimGrid has no per-VM energy
 * account; this is the cheapest fair stand-in). One SimGrid compute chunk
 * per quantum of our simulator: the same number of quanta in the same
 * simulated time. SimGrid shares the core among the concurrent chunks (a
 * fluid model) where we time-slice it; the totals are the same.
 *
 * Figures: chunks (quanta) per second of wall time, events per second
 * (chunk completions plus manager periods); with --fidelity the chunks
 * and energy of 4 VMs with tickets 1:2:3:4 over 10 s.
 *
 * Usage: bench_simgrid [-v VMS] [-s SECONDS] [--fidelity]
 * One simulation per process: SimGrid's engine cannot be created twice in
 * one process, so bench/run.sh repeats the process and takes the median.
 */
#include <simgrid/plugins/energy.h>
#include <simgrid/s4u.hpp>

#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace sg4 = simgrid::s4u;

namespace {

constexpr double kSpeedFlops = 3e9;       /* 3 GHz, one flop per cycle */
constexpr double kQuantumS = 1e-3;        /* one chunk = one 1 ms quantum */
constexpr double kManagerPeriodS = 0.1;   /* host manager and accounting */
constexpr const char* kWattage = "36.0:36.0:105.5"; /* idle:epsilon:all cores */

struct Run {
	double duration_s = 0;
	std::vector<long> chunks;
	std::vector<double> energy_j;
	long events = 0;
	double host_energy_j = 0;
};

Run* g_run = nullptr;

/* CPU time of the process, as bench_util.h's clock (JV_BENCH_WALL=1: wall). */
double now_s()
{
	const char* w = std::getenv("JV_BENCH_WALL");
	struct timespec ts;
	clock_gettime(w && !std::strcmp(w, "1") ? CLOCK_MONOTONIC : CLOCK_PROCESS_CPUTIME_ID, &ts);
	return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

void vm_actor(int i, double tickets)
{
	const double flops = kSpeedFlops * kQuantumS;
	while (sg4::Engine::get_clock() + 1e-12 < g_run->duration_s) {
		sg4::this_actor::exec_init(flops)->set_priority(tickets)->wait();
		g_run->chunks[i]++;
		g_run->events++;
	}
}

void manager_actor(sg4::Host* host)
{
	double last_j = 0;
	std::vector<long> last(g_run->chunks.size(), 0);
	while (sg4::Engine::get_clock() + 1e-12 < g_run->duration_s) {
		sg4::this_actor::sleep_for(kManagerPeriodS);
		double e = sg_host_get_consumed_energy(host);
		long total = 0;
		for (size_t i = 0; i < last.size(); i++)
			total += g_run->chunks[i] - last[i];
		for (size_t i = 0; i < last.size() && total > 0; i++) {
			g_run->energy_j[i] += (e - last_j) * double(g_run->chunks[i] - last[i]) / double(total);
			last[i] = g_run->chunks[i];
		}
		last_j = e;
		g_run->events++;
	}
	g_run->host_energy_j = sg_host_get_consumed_energy(host);
}

/* One simulation in a fresh engine; returns the wall time. */
double simulate(const char* prog, Run& run, const std::vector<double>& tickets)
{
	int argc = 2;
	char arg0[256], arg1[] = "--log=root.thres:critical";
	std::snprintf(arg0, sizeof arg0, "%s", prog);
	char* argv[] = {arg0, arg1, nullptr};
	double t0 = now_s();
	sg4::Engine e(&argc, argv);
	sg_host_energy_plugin_init();
	auto* zone = sg4::create_full_zone("host");
	sg4::Host* host = zone->create_host("cpu0", kSpeedFlops);
	host->set_property("wattage_per_state", kWattage);
	host->set_property("wattage_off", "0");
	zone->seal();
	run.chunks.assign(tickets.size(), 0);
	run.energy_j.assign(tickets.size(), 0.0);
	g_run = &run;
	for (size_t i = 0; i < tickets.size(); i++)
		sg4::Actor::create("vm" + std::to_string(i), host, vm_actor, int(i), tickets[i]);
	sg4::Actor::create("manager", host, manager_actor, host);
	e.run();
	return now_s() - t0;
}

int usage()
{
	std::fprintf(stderr, "usage: bench_simgrid [-v VMS] [-s SECONDS] [--fidelity]\n");
	return 2;
}

int fidelity(const char* prog)
{
	Run run;
	run.duration_s = 10;
	simulate(prog, run, {1, 2, 3, 4});
	long sum = 0;
	for (long c : run.chunks)
		sum += c;
	int bad = 0;
	for (size_t i = 0; i < run.chunks.size(); i++) {
		long want = 10000L * long(i + 1) / 10;
		std::printf("simgrid_fidelity_v%zu_chunks=%ld\nsimgrid_fidelity_v%zu_energy_j=%.6f\n", i,
			    run.chunks[i], i, run.energy_j[i]);
		bad += std::labs(run.chunks[i] - want) > 1;
	}
	std::printf("simgrid_fidelity_host_energy_j=%.6f\nsimgrid_fidelity=%s\n", run.host_energy_j,
		    bad ? "off" : "ok");
	(void)sum;
	return 0;
}

} // namespace

int main(int argc, char** argv)
{
	long vms = 4, seconds = 100;
	for (int i = 1; i < argc; i++) {
		if (i + 1 < argc && !std::strcmp(argv[i], "-v"))
			vms = std::atol(argv[++i]);
		else if (i + 1 < argc && !std::strcmp(argv[i], "-s"))
			seconds = std::atol(argv[++i]);
		else if (!std::strcmp(argv[i], "--fidelity"))
			return fidelity(argv[0]);
		else
			return usage();
	}
	if (vms < 1 || vms > 4096 || seconds < 1)
		return usage();
	Run run;
	run.duration_s = double(seconds);
	double med = simulate(argv[0], run, std::vector<double>(size_t(vms), 1.0));
	long chunks = 0;
	for (long c : run.chunks)
		chunks += c;
	std::printf("simgrid_vms=%ld\nsimgrid_seconds=%ld\nsimgrid_chunks=%ld\n", vms, seconds, chunks);
	std::printf("simgrid_wall_s=%.6f\nsimgrid_quanta_per_s=%.0f\nsimgrid_events_per_s=%.0f\n", med,
		    double(seconds) / kQuantumS / med, double(run.events) / med);
	std::printf("simgrid_host_energy_j=%.6f\n", run.host_energy_j);
	return 0;
}
