/*
 * scenario_opts: the scenario option table and the machine presets.
 *
 * Every option a scenario file can set is one row of scn_opt_table[]: its
 * section, key, type, where it lives in struct scn (offsetof into the
 * section's struct), its default as text (parsed by the same code as user
 * values, so a default can never be something a user could not write), its
 * range as text, its allowed values and its help. scenario.c walks this
 * table to apply defaults, to parse file entries and --set overrides, to
 * check ranges, to print `joulevisor help scenario` and to write
 * scenario.resolved.ini; docs/SCENARIO.md mirrors it.
 *
 * The table defaults are the `none` preset: a neutral machine with no
 * energy (1 GHz, counters tsc and cycles weighing 0 J, a 0 W disk at
 * 100 MB/s). A preset (`[machine] preset`) overrides some defaults before
 * the file is applied; `paper-2007` (the default) is the testbed of Stoess,
 * Lang and Bellosa (USENIX ATC 2007), see scn_paper_2007[] below.
 *
 * Ranges: time and size ranges are inclusive unless SCN_F_MIN_EXCL /
 * SCN_F_MAX_EXCL say otherwise. The duration limit of 100 days (2400h)
 * keeps every simulated time far from int64_t overflow (292 years).
 */
#include "sim/scenario_opts.h"

#include <stddef.h>

#include "sim/scenario.h"

#define MSIZE(type, member) sizeof(((type *)0)->member)

const char *const scn_sec_names[SCN_SEC_COUNT] = {
	[SCN_SEC_GLOBAL] = "global",       [SCN_SEC_MACHINE] = "machine",
	[SCN_SEC_CPU] = "cpu",             [SCN_SEC_DISK] = "disk",
	[SCN_SEC_VM] = "vm",               [SCN_SEC_CONTAINER] = "container",
	[SCN_SEC_MANAGER] = "manager",     [SCN_SEC_OUTPUT] = "output",
};

static const char *const replay_modes[] = { "accounting", "open", "closed",
					    NULL };
static const char *const trace_modes[] = { "default", "accounting", "open",
					   "closed", NULL };
static const char *const preset_names[] = { "paper-2007", "none", NULL };
static const char *const schedulers[] = { "rr", "stride", NULL };
static const char *const controllers[] = { "paper", "pi", NULL };
static const char *const yes_no[] = { "no", "yes", NULL };
static const char *const idle_policies[] = { "equal", "utilization",
					     "proportional", "base", NULL };
static const char *const vm_kinds[] = { "guest", "driver", NULL };
static const char *const workloads[] = { "none", "cpu-hog", "disk-stress",
					 "trace", NULL };
static const char *const container_workloads[] = { "none", "cpu-hog", "disk-stress",
						   NULL };
static const char *const ops[] = { "read", "write", NULL };

/* Row builders: section struct, key, type, field. */
#define OPT(S, T, K, TY, F, ...)                                        \
	{ .sec = (S), .key = (K), .type = (TY), .off = offsetof(T, F),  \
	  .size = MSIZE(T, F), __VA_ARGS__ }
#define NOFIELD(S, K, TY, ...) { .sec = (S), .key = (K), .type = (TY), __VA_ARGS__ }
#define GLOBAL(...) OPT(SCN_SEC_GLOBAL, struct scn_global, __VA_ARGS__)
#define MACHINE(...) OPT(SCN_SEC_MACHINE, struct scn_machine, __VA_ARGS__)
#define CPU(...) OPT(SCN_SEC_CPU, struct scn_cpu, __VA_ARGS__)
#define DISK(...) OPT(SCN_SEC_DISK, struct scn_disk, __VA_ARGS__)
#define VM(...) OPT(SCN_SEC_VM, struct scn_vm, __VA_ARGS__)
#define CONT(...) OPT(SCN_SEC_CONTAINER, struct scn_container, __VA_ARGS__)
#define OUTPUT(...) OPT(SCN_SEC_OUTPUT, struct scn_output, __VA_ARGS__)
#define MANAGER(...) OPT(SCN_SEC_MANAGER, struct scn_manager, __VA_ARGS__)

/* largest simulated time a scenario may ask for: 100 days */
#define SCN_MAX_TIME "2400h"

const struct scn_opt scn_opt_table[] = {
	/* [global] */
	GLOBAL("name", SCN_T_STRING, name, .def = "",
	       .flags = SCN_F_NAME,
	       .def_help = "file name without directory and .ini (stdin: stdin)",
	       .help = "run name: output goes to out/NAME"),
	GLOBAL("duration", SCN_T_TIME, duration_ns, .def = "10s", .min = "0",
	       .max = SCN_MAX_TIME, .flags = SCN_F_MIN_EXCL,
	       .help = "simulated time"),
	GLOBAL("seed", SCN_T_UINT64, seed, .def = "1",
	       .help = "random seed; same seed and inputs give identical outputs"),
	GLOBAL("replay_mode", SCN_T_ENUM, replay_mode, .def = "open",
	       .allowed = replay_modes,
	       .help = "how traces are replayed unless a VM sets trace_mode"),
	NOFIELD(SCN_SEC_GLOBAL, "include", SCN_T_INCLUDE, .def = "",
		.flags = SCN_F_REPEATABLE | SCN_F_NO_WRITE,
		.help = "read FILE here (relative to this file)"),

	/* [machine] */
	MACHINE("preset", SCN_T_ENUM, preset, .def = "paper-2007",
		.allowed = preset_names, .flags = SCN_F_ENUM_STR,
		.help = "machine preset applied before the file's values"),

	/* [cpu] */
	CPU("count", SCN_T_INT, count, .def = "1", .min = "1", .max = "64",
	    .help = "physical CPUs"),
	CPU("quantum", SCN_T_TIME, quantum_ns, .def = "10ms", .min = "10us",
	    .max = "1s", .help = "scheduler time slice (L4: 10ms)"),
	CPU("scheduler", SCN_T_ENUM, scheduler, .def = "stride",
	    .allowed = schedulers, .help = "CPU scheduler"),
	CPU("freq", SCN_T_FREQ, freq_hz, .def = "1GHz", .min = "0",
	    .max = "10GHz", .flags = SCN_F_MIN_EXCL | SCN_F_PRESET,
	    .help = "TSC and unhalted-cycle rate"),
	CPU("counters", SCN_T_COUNTER_LIST, counter, .def = "tsc,cycles",
	    .flags = SCN_F_PRESET,
	    .help = "PMC counter names, comma-separated, 1..16, incl. the TSC"),
	CPU("weights", SCN_T_WEIGHT_LIST, weight_j, .def = "tsc:0J,cycles:0J",
	    .flags = SCN_F_PRESET,
	    .help = "accounting energy per event, name:energy pairs; "
		    "unlisted counters weigh 0"),
	CPU("true_weights", SCN_T_WEIGHT_LIST, true_weight_j, .def = "",
	    .def_help = "same as weights",
	    .help = "energy per event of the simulated truth"),
	CPU("weights_file", SCN_T_PATH, weights_file, .def = "",
	    .help = "CSV `counter,weight_j` whose rows override weights"),
	NOFIELD(SCN_SEC_CPU, "tsc_counter", SCN_T_COUNTER, .def = "tsc",
		.off = offsetof(struct scn_cpu, tsc_index),
		.help = "counter giving the CPU's base (time) consumption"),
	NOFIELD(SCN_SEC_CPU, "cycles_counter", SCN_T_COUNTER, .def = "cycles",
		.off = offsetof(struct scn_cpu, cycles_index),
		.flags = SCN_F_NONE_OK,
		.help = "unhalted-cycles counter, or none"),
	CPU("idle_policy", SCN_T_ENUM, idle_policy, .def = "equal",
	    .allowed = idle_policies, .help = "how CPU idle energy is split"),
	CPU("read_period", SCN_T_TIME, read_period_ns, .def = "20ms",
	    .min = "1ms", .max = "10s",
	    .help = "the energy manager reads the PMC log this often"),
	CPU("pmc_log", SCN_T_PATH, pmc_log, .def = "",
	    .help = "per-context-switch PMC log to replay"),

	/* [disk] */
	DISK("count", SCN_T_INT, count, .def = "1", .min = "1", .max = "16",
	     .help = "disks (disk0, disk1, ...)"),
	DISK("idle_power", SCN_T_POWER, idle_power_w, .def = "0W", .min = "0W",
	     .max = "1000W", .flags = SCN_F_PRESET, .help = "idle power"),
	DISK("active_power", SCN_T_POWER, active_power_w, .def = "0W",
	     .min = "0W", .max = "1000W", .flags = SCN_F_PRESET,
	     .help = "power while transferring; >= idle_power"),
	DISK("media_rate", SCN_T_RATE, media_rate_bps, .def = "100MB/s",
	     .min = "0", .max = "100GB/s",
	     .flags = SCN_F_MIN_EXCL | SCN_F_PRESET,
	     .help = "true transfer rate of the medium"),
	DISK("overhead", SCN_T_TIME, overhead_ns, .def = "0ns", .min = "0ns",
	     .max = "1s", .flags = SCN_F_PRESET,
	     .help = "true per-request command/positioning time"),
	DISK("nominal_rate", SCN_T_RATE, nominal_rate_bps, .def = "0",
	     .min = "0", .max = "100GB/s",
	     .def_help = "0 = media_rate",
	     .help = "accounting's rate before the first rate window"),
	DISK("rate_window", SCN_T_INT, rate_window, .def = "50", .min = "1",
	     .max = "1000000",
	     .help = "requests per transfer-rate estimate"),
	DISK("idle_period", SCN_T_TIME, idle_period_ns, .def = "50ms",
	     .min = "1ms", .max = "10s", .help = "disk idle energy charged this often"),
	DISK("idle_policy", SCN_T_ENUM, idle_policy, .def = "equal",
	     .allowed = idle_policies,
	     .help = "how disk idle energy is split over the driver's clients"),

	/* [vm NAME] */
	VM("kind", SCN_T_ENUM, kind, .def = "guest", .allowed = vm_kinds,
	   .help = "guest, or driver (serves the disk)"),
	VM("driver", SCN_T_STRING, driver, .def = "",
	   .flags = SCN_F_NAME | SCN_F_EMPTY_OK | SCN_F_GUEST_ONLY,
	   .def_help = "the only driver VM, when the guest does disk I/O",
	   .help = "driver VM serving this guest's disk requests"),
	VM("disk", SCN_T_DISK, disk, .def = "disk0",
	   .help = "disk the VM's requests go to (diskN, N < disk.count)"),
	VM("workload", SCN_T_ENUM, workload, .def = "none",
	   .allowed = workloads,
	   .def_help = "none (trace when trace files are given)",
	   .help = "synthetic workload, or trace"),
	VM("events", SCN_T_RATE_LIST, events, .def = "", .flags = SCN_F_PRESET,
	   .help = "events per CPU second of the VM's own work, name:rate pairs"),
	VM("start", SCN_T_TIME, start_ns, .def = "0ns", .min = "0ns",
	   .max = SCN_MAX_TIME, .help = "workload starts at this time"),
	VM("stop", SCN_T_TIME, stop_ns, .def = "0ns", .min = "0ns",
	   .max = SCN_MAX_TIME, .def_help = "0 = duration",
	   .help = "workload stops at this time; start < stop <= duration"),
	VM("block_size", SCN_T_SIZE, block_size_b, .def = "4KiB", .min = "512B",
	   .max = "64MiB", .help = "disk-stress request size"),
	VM("op", SCN_T_ENUM, op, .def = "read", .allowed = ops,
	   .help = "disk-stress request type"),
	VM("queue_depth", SCN_T_INT, queue_depth, .def = "1", .min = "1",
	   .max = "1024", .help = "disk-stress requests in flight"),
	VM("client_cpu", SCN_T_TIME, client_cpu_ns, .def = "0ns", .min = "0ns",
	   .max = "1s", .flags = SCN_F_PRESET,
	   .help = "guest CPU work before each disk-stress request"),
	VM("think", SCN_T_TIME, think_ns, .def = "0ns", .min = "0ns",
	   .max = "1h", .help = "disk-stress pause after each completion"),
	VM("trace", SCN_T_PATH_LIST, trace, .def = "",
	   .off2 = offsetof(struct scn_vm, n_traces),
	   .flags = SCN_F_REPEATABLE,
	   .help = "trace file driving the VM (max 16)"),
	VM("trace_mode", SCN_T_ENUM, trace_mode, .def = "default",
	   .allowed = trace_modes, .enum_base = -1,
	   .help = "replay mode of this VM's traces (default: global.replay_mode)"),
	VM("trace_format", SCN_T_STRING, trace_format, .def = "auto",
	   .help = "reader of the trace files: auto, pmc, pmc-interval, blk, bin, blktrace, "
		   "blkparse, msr, spc, disksim, fio, vscsi, perf-stat, perf-script"),
	VM("trace_time_unit", SCN_T_TIME, trace_time_unit_ns, .def = "0ns", .min = "0ns",
	   .max = "1h", .help = "time unit of the trace's timestamps where the format has "
		   "no fixed one (DiskSim: default 1ms), 0 = the format's"),
	VM("match", SCN_T_STRING, match, .def = "", .flags = SCN_F_EMPTY_OK | SCN_F_GUEST_ONLY,
	   .help = "KEY=VALUE[,KEY=VALUE...]: trace records whose source keys match belong to "
		   "this VM (keys: host disk device asu pid comm cgroup file name)"),
	VM("tickets", SCN_T_UINT32, tickets, .def = "100", .min = "1",
	   .max = "1000000", .help = "stride-scheduler share"),
	VM("cpu_limit", SCN_T_POWER, cpu_limit_w, .def = "0W", .min = "0W",
	   .max = "10kW", .flags = SCN_F_GUEST_ONLY,
	   .help = "active CPU power the VM may consume directly, 0 = none"),
	VM("disk_limit", SCN_T_POWER, disk_limit_w, .def = "0W", .min = "0W",
	   .max = "10kW", .flags = SCN_F_GUEST_ONLY,
	   .help = "active power (disk + driver CPU) the driver may spend for the VM, 0 = none"),
	VM("limit_from", SCN_T_TIME, limit_from_ns, .def = "0ns", .min = "0ns",
	   .max = SCN_MAX_TIME, .flags = SCN_F_GUEST_ONLY,
	   .help = "time from which the VM's limits are enforced"),
	VM("energy_aware", SCN_T_ENUM, energy_aware, .def = "no", .allowed = yes_no,
	   .flags = SCN_F_GUEST_ONLY,
	   .help = "yes: the guest splits its limits over its [container]s (paper §3.4)"),
	VM("clock_drift_ppm", SCN_T_DOUBLE, clock_drift_ppm, .def = "0", .min = "-100000",
	   .max = "100000", .flags = SCN_F_GUEST_ONLY,
	   .help = "guest clock rate relative to the host, parts per million"),
	VM("guest_period", SCN_T_TIME, guest_period_ns, .def = "50ms", .min = "1ms",
	   .max = "10s", .flags = SCN_F_GUEST_ONLY,
	   .help = "guest manager budget period (paper: 50ms), in guest time"),
	VM("guest_quantum", SCN_T_TIME, guest_quantum_ns, .def = "10ms", .min = "10us",
	   .max = "1s", .flags = SCN_F_GUEST_ONLY,
	   .help = "guest scheduler slice among its containers"),
	VM("req_cpu", SCN_T_TIME, req_cpu_ns, .def = "0ns", .min = "0ns",
	   .max = "1s", .flags = SCN_F_DRIVER_ONLY | SCN_F_PRESET,
	   .help = "driver CPU work per request (fixed part)"),
	VM("req_cpu_per_kib", SCN_T_TIME, req_cpu_ns_per_kib, .def = "0ns",
	   .min = "0ns", .max = "1s", .flags = SCN_F_DRIVER_ONLY,
	   .help = "driver CPU work per KiB of request size"),
	VM("req_events", SCN_T_RATE_LIST, req_events, .def = "",
	   .flags = SCN_F_DRIVER_ONLY | SCN_F_PRESET,
	   .help = "event rates while the driver works on requests"),
	VM("bg_duty", SCN_T_DOUBLE, bg_duty, .def = "0", .min = "0",
	   .max = "0.9", .flags = SCN_F_DRIVER_ONLY | SCN_F_PRESET,
	   .help = "driver background CPU, fraction of time"),
	VM("bg_period", SCN_T_TIME, bg_period_ns, .def = "1ms", .min = "10us",
	   .max = "10s", .flags = SCN_F_DRIVER_ONLY,
	   .help = "background work arrives once per period"),
	VM("bg_events", SCN_T_RATE_LIST, bg_events, .def = "",
	   .flags = SCN_F_DRIVER_ONLY | SCN_F_PRESET,
	   .help = "event rates of the background work"),
	VM("idle_cpu_power", SCN_T_POWER_AUTO, idle_cpu_w, .def = "auto",
	   .off2 = offsetof(struct scn_vm, idle_cpu_auto), .min = "0W",
	   .max = "1000W", .flags = SCN_F_DRIVER_ONLY,
	   .help = "driver's idle CPU power, or auto (measured by a probe)"),
	VM("idle_probe", SCN_T_TIME, idle_probe_ns, .def = "1s", .min = "10ms",
	   .max = "1h", .flags = SCN_F_DRIVER_ONLY,
	   .help = "length of the no-client probe for idle_cpu_power = auto"),
	VM("predict_window", SCN_T_INT, predict_window, .def = "50", .min = "1",
	   .max = "1000000", .flags = SCN_F_DRIVER_ONLY,
	   .help = "requests per driver CPU-cost prediction"),

	/* [container VM/NAME] */
	CONT("workload", SCN_T_ENUM, workload, .def = "cpu-hog",
	     .allowed = container_workloads, .help = "container workload"),
	CONT("events", SCN_T_RATE_LIST, events, .def = "", .flags = SCN_F_PRESET,
	     .help = "event rates of the container's work"),
	CONT("power_limit", SCN_T_POWER, power_limit_w, .def = "0W",
	     .min = "0W", .help = "power limit, 0 = none"),
	CONT("share", SCN_T_DOUBLE, share, .def = "0", .min = "0", .max = "1",
	     .help = "share of the VM's budget, 0 = none"),
	CONT("block_size", SCN_T_SIZE, block_size_b, .def = "4KiB", .min = "512B",
	     .max = "64MiB", .help = "disk-stress request size"),
	CONT("op", SCN_T_ENUM, op, .def = "read", .allowed = ops,
	     .help = "disk-stress request type"),
	CONT("queue_depth", SCN_T_INT, queue_depth, .def = "1", .min = "1",
	     .max = "1024", .help = "disk-stress requests in flight"),
	CONT("client_cpu", SCN_T_TIME, client_cpu_ns, .def = "0ns", .min = "0ns",
	     .max = "1s", .flags = SCN_F_PRESET,
	     .help = "container CPU work before each disk-stress request (in its slice)"),
	CONT("think", SCN_T_TIME, think_ns, .def = "0ns", .min = "0ns",
	     .max = "1h", .help = "disk-stress pause after each completion"),

	/* [manager]: the host-level energy manager (paper §3.3.6) */
	MANAGER("cpu_period", SCN_T_TIME, cpu_period_ns, .def = "100ms",
		.min = "1ms", .max = "1h", .help = "CPU control loop period (paper: 100ms)"),
	MANAGER("cpu_offset", SCN_T_UINT64, cpu_offset, .def = "67108864",
		.min = "1", .max = "1099511627776",
		.help = "stride offset added or subtracted per CPU step (stride1 = 2^32)"),
	MANAGER("idle_tickets", SCN_T_UINT32, idle_tickets, .def = "1", .min = "1",
		.max = "1000000", .help = "tickets of the idle vCPU (a minuscule share)"),
	MANAGER("disk_period", SCN_T_TIME, disk_period_ns, .def = "200ms",
		.min = "1ms", .max = "1h", .help = "disk control loop period (paper: 200ms)"),
	MANAGER("shaping_period", SCN_T_TIME, shaping_period_ns, .def = "0ns",
		.min = "0ns", .max = "1h",
		.help = "driver budget refresh period, 0 = disk_period"),
	MANAGER("disk_controller", SCN_T_ENUM, disk_controller, .def = "paper",
		.allowed = controllers, .help = "disk throttle controller"),
	MANAGER("disk_gain_damp", SCN_T_DOUBLE, disk_gain_damp, .def = "0.25",
		.min = "0", .max = "10", .help = "paper rule: gain when moving back (1/4)"),
	MANAGER("disk_gain_amp", SCN_T_DOUBLE, disk_gain_amp,
		.def = "1.3333333333333333", .min = "0", .max = "4",
		.help = "paper rule: gain when continuing (4/3)"),
	MANAGER("pi_kp", SCN_T_DOUBLE, pi_kp, .def = "0.1", .min = "0", .max = "100",
		.help = "PI controller proportional gain"),
	MANAGER("pi_ki", SCN_T_DOUBLE, pi_ki, .def = "0.6", .min = "0", .max = "100",
		.help = "PI controller integral gain"),
	MANAGER("t_init", SCN_T_DOUBLE, t_init, .def = "100", .min = "0",
		.max = "1000000", .flags = SCN_F_MIN_EXCL,
		.help = "initial throttle factor (requests per shaping period)"),
	MANAGER("t_min", SCN_T_DOUBLE, t_min, .def = "1", .min = "0", .max = "1000000",
		.help = "smallest throttle factor"),
	MANAGER("t_max", SCN_T_DOUBLE, t_max, .def = "10000", .min = "0",
		.max = "1000000", .help = "largest throttle factor"),

	/* [output] */
	OUTPUT("interval", SCN_T_TIME, interval_ns, .def = "100ms",
	       .min = "1ms", .max = "1h",
	       .help = "ledger snapshot (and invariant check) interval"),
	OUTPUT("power_resolution", SCN_T_TIME, power_resolution_ns,
	       .def = "1ms", .min = "1us", .max = "1s",
	       .help = "row width of power.csv"),
};

const int scn_opt_count = (int)(sizeof scn_opt_table / sizeof scn_opt_table[0]);

/*
 * Preset `paper-2007`: the testbed of Stoess, Lang and Bellosa (USENIX ATC
 * 2007).
 *  - CPU: Pentium D 830 at 3 GHz. The TSC weight is the idle (base) power
 *    spread over TSC ticks: 36 W = 12 nJ x 3e9/s. The other weights are the
 *    paper's per-event energies for its PMC set (unhalted cycles, retired
 *    instructions, L2 misses, bus accesses), rounded.
 *  - Disk: Maxtor DiamondMax Plus 9; 3.6 W idle and 5.6 W active from the
 *    data sheet. The 55 MB/s media rate and 54 us per-request overhead are
 *    tuned so that the paper's disk-stress throughput and Figure 7 land near
 *    the paper's values.
 *  - Guest and driver CPU work (events, client_cpu, req_cpu, req_events,
 *    bg_duty, bg_events): tuned so Figure 7 (disk energy plus the driver's
 *    recursive CPU share) lands near the paper.
 */
static const struct scn_preset_val scn_paper_2007[] = {
	{ .sec = SCN_SEC_CPU, .key = "freq", .value = "3GHz" },
	{ .sec = SCN_SEC_CPU, .key = "counters",
	  .value = "tsc,cycles,instructions,l2_misses,bus_accesses" },
	{ .sec = SCN_SEC_CPU, .key = "weights",
	  .value = "tsc:12nJ,cycles:15nJ,instructions:5nJ,l2_misses:100nJ,"
		   "bus_accesses:50nJ" },
	{ .sec = SCN_SEC_DISK, .key = "idle_power", .value = "3.6W" },
	{ .sec = SCN_SEC_DISK, .key = "active_power", .value = "5.6W" },
	{ .sec = SCN_SEC_DISK, .key = "media_rate", .value = "55MB/s" },
	{ .sec = SCN_SEC_DISK, .key = "overhead", .value = "54us" },
	{ .sec = SCN_SEC_VM, .key = "events",
	  .value = "instructions:4e9,l2_misses:2e7,bus_accesses:5e7" },
	{ .sec = SCN_SEC_VM, .key = "client_cpu", .value = "1500ns" },
	{ .sec = SCN_SEC_VM, .key = "req_cpu", .value = "7us" },
	/* the driver's code is memory-bound: ~97.5 W of active power while it
	 * runs (45 W cycles + 7.5 W instructions + 20 W L2 misses + 25 W bus) */
	{ .sec = SCN_SEC_VM, .key = "req_events",
	  .value = "instructions:1.5e9,l2_misses:2e8,bus_accesses:5e8" },
	/* background kernel activity: 8.2% of the CPU at 97.5 W = 8 W, the
	 * driver's idle CPU of Figure 7, in 8.2 us slices every 100 us */
	{ .sec = SCN_SEC_VM, .key = "bg_duty", .value = "0.082" },
	{ .sec = SCN_SEC_VM, .key = "bg_period", .value = "100us" },
	{ .sec = SCN_SEC_VM, .key = "bg_events",
	  .value = "instructions:1.5e9,l2_misses:2e8,bus_accesses:5e8" },
	/* containers run guest work: same rates as a guest's own work */
	{ .sec = SCN_SEC_CONTAINER, .key = "events",
	  .value = "instructions:4e9,l2_misses:2e7,bus_accesses:5e7" },
	{ .sec = SCN_SEC_CONTAINER, .key = "client_cpu", .value = "1500ns" },
};

/* Names must match preset_names[] above, in the same order. */
const struct scn_preset scn_presets[] = {
	{ .name = "paper-2007", .vals = scn_paper_2007,
	  .n_vals = (int)(sizeof scn_paper_2007 / sizeof scn_paper_2007[0]),
	  .help = "Pentium D 830 at 3 GHz, Maxtor DiamondMax Plus 9 (the paper's testbed)" },
	{ .name = "none", .vals = NULL, .n_vals = 0,
	  .help = "the table defaults: 1 GHz, counters tsc,cycles at 0 J, a 0 W disk" },
};

const int scn_preset_count = (int)(sizeof scn_presets / sizeof scn_presets[0]);
