/*
 * check_machine: the simulated host against hand-computed cases, the
 * conservation invariants over random scenarios, determinism, and trace
 * replay in accounting and open modes.
 */
#define _XOPEN_SOURCE 700 /* nftw (check_tmpdir.h) */

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "models/ledger.h"
#include "sim/machine.h"
#include "sim/scenario.h"

#define CK_TMP_PREFIX "check_machine"
#include "check_tmpdir.h"

static const char *write_file(const char *name, const char *text)
{
	const char *p = at(name);
	spit(p, text);
	return p;
}

static struct scn *load(const char *text)
{
	struct scn *s = NULL;
	struct jv_diag d;
	jv_diag_clear(&d);
	int rc = scn_load(write_file("s.ini", text), NULL, 0, &s, &d);
	ck_assert_msg(rc == 0, "scn_load: %s", d.msg);
	return s;
}

static struct machine *run(struct scn *s)
{
	struct machine *m = NULL;
	struct jv_diag d;
	jv_diag_clear(&d);
	int rc = machine_new(s, 0, NULL, &m, &d);
	ck_assert_msg(rc == 0, "machine_new: %s", d.msg);
	rc = machine_run(m, &d);
	ck_assert_msg(rc == 0, "machine_run: %s", d.msg);
	return m;
}

static int consumer(const struct ledger *l, const char *name)
{
	for (int c = 0; c < ledger_n_consumers(l); c++)
		if (strcmp(ledger_consumer_name(l, c), name) == 0)
			return c;
	ck_abort_msg("no consumer %s", name);
	return -1;
}

static int device(const struct ledger *l, const char *name)
{
	for (int d = 0; d < ledger_n_devices(l); d++)
		if (strcmp(ledger_device_name(l, d), name) == 0)
			return d;
	ck_abort_msg("no device %s", name);
	return -1;
}

static double cell(const struct ledger *l, const char *c, const char *dev, int via, int kind)
{
	return ledger_total(l, consumer(l, c), device(l, dev), via, kind);
}

/* A machine with free CPU work and a disk whose requests take exactly
 * size / rate: access = n * size / rate * (Pa - Pi), idle = Pi * T. */
#define ANALYTIC_BASE                                                          \
	"[global]\nduration = 1s\n[machine]\npreset = none\n"                \
	"[disk]\nidle_power = 3.6W\nactive_power = 5.6W\nmedia_rate = 4096000B/s\n" \
	"overhead = 0\n[vm drv]\nkind = driver\nidle_cpu_power = 0W\n"

START_TEST(test_one_client_fixed_rate)
{
	struct scn *s = load(ANALYTIC_BASE
			     "[vm c]\nworkload = disk-stress\nblock_size = 4096B\n");
	struct machine *m = run(s);
	const struct ledger *a = machine_acct(m), *t = machine_truth(m);
	ck_assert_ptr_nonnull(t);
	/* 4096 B at 4096000 B/s = 1 ms each, back to back: 1000 requests */
	ck_assert_uint_eq(machine_vm_stats(m, 1)->requests, 1000);
	double n = 1000, size = 4096, rate = 4096000, pa = 5.6, pi = 3.6, T = 1.0;
	double access = n * size / rate * (pa - pi), idle = pi * T;
	ck_assert_double_eq_tol(cell(a, "c", "disk0", 1, LEDGER_ACTIVE), access, 1e-9);
	ck_assert_double_eq_tol(cell(a, "c", "disk0", 1, LEDGER_IDLE), idle, 1e-9);
	ck_assert_double_eq_tol(cell(t, "c", "disk0", 1, LEDGER_ACTIVE), access, 1e-9);
	ck_assert_double_eq_tol(cell(t, "c", "disk0", 1, LEDGER_IDLE), idle, 1e-9);
	ck_assert_double_eq_tol(ledger_meter_total(a, device(a, "disk0")), access + idle, 1e-9);
	ck_assert_uint_eq(ledger_conservation(a)->violations, 0);
	ck_assert_uint_eq(ledger_conservation(t)->violations, 0);
	machine_free(m);
	scn_free(s);
}
END_TEST

START_TEST(test_two_clients_equal_idle)
{
	struct scn *s = load(ANALYTIC_BASE
			     "[vm c1]\nworkload = disk-stress\nblock_size = 4096B\n"
			     "[vm c2]\nworkload = disk-stress\nblock_size = 8192B\n");
	struct machine *m = run(s);
	const struct ledger *a = machine_acct(m);
	double i1 = cell(a, "c1", "disk0", 1, LEDGER_IDLE);
	double i2 = cell(a, "c2", "disk0", 1, LEDGER_IDLE);
	ck_assert_double_eq_tol(i1, 3.6 / 2, 1e-9);
	ck_assert_double_eq_tol(i2, 3.6 / 2, 1e-9);
	/* the disk is always busy: active energies add up to 2 W x 1 s */
	double a1 = cell(a, "c1", "disk0", 1, LEDGER_ACTIVE);
	double a2 = cell(a, "c2", "disk0", 1, LEDGER_ACTIVE);
	double un = cell(a, "unattributed", "disk0", 1, LEDGER_ACTIVE);
	ck_assert_double_eq_tol(a1 + a2 + un, 2.0, 1e-9);
	/* FIFO alternation: c2's requests are twice as long */
	ck_assert_double_eq_tol(a2 / a1, 2.0, 0.01);
	machine_free(m);
	scn_free(s);
}
END_TEST

START_TEST(test_utilization_idle)
{
	struct scn *s = load(ANALYTIC_BASE "[disk]\nidle_policy = utilization\n"
			     "[vm c1]\nworkload = disk-stress\nblock_size = 4096B\n"
			     "[vm c2]\nworkload = disk-stress\nblock_size = 12288B\n");
	struct machine *m = run(s);
	const struct ledger *t = machine_truth(m);
	double i1 = cell(t, "c1", "disk0", 1, LEDGER_IDLE);
	double i2 = cell(t, "c2", "disk0", 1, LEDGER_IDLE);
	ck_assert_double_eq_tol(i1 + i2, 3.6, 1e-9);
	ck_assert_double_eq_tol(i2 / i1, 3.0, 0.02); /* busy 3 ms vs 1 ms per turn */
	machine_free(m);
	scn_free(s);
}
END_TEST

/* A PMC log with known weights, replayed in accounting mode. */
START_TEST(test_pmc_log_known_weights)
{
	const char *log = write_file("log.csv",
				     "# joulevisor pmc v1\n"
				     "t_ns,cpu,vm,tsc,ins\n"
				     "0,0,idle,0,0\n"
				     "10000000,0,a,10000000,2000000\n"   /* a: 10 ms, 2e6 ins */
				     "30000000,0,b,30000000,6000000\n"   /* b: 20 ms, 4e6 ins */
				     "40000000,0,idle,40000000,6000000\n" /* halted 10 ms */
				     "100000000,0,a,100000000,7000000\n"); /* a: 60 ms, 1e6 */
	char text[2048];
	snprintf(text, sizeof text,
		 "[global]\nduration = 100ms\nreplay_mode = accounting\n[machine]\npreset = none\n"
		 "[cpu]\nfreq = 1GHz\ncounters = tsc,ins\ncycles_counter = none\n"
		 "weights = tsc:10nJ,ins:2nJ\nidle_policy = equal\npmc_log = %s\n"
		 "[vm a]\n[vm b]\n",
		 log);
	struct scn *s = load(text);
	struct machine *m = run(s);
	const struct ledger *a = machine_acct(m);
	ck_assert_ptr_null(machine_truth(m));
	/* active: a = (2e6 + 1e6) x 2 nJ = 6 mJ; b = 4e6 x 2 nJ = 8 mJ */
	ck_assert_double_eq_tol(cell(a, "a", "cpu0", 0, LEDGER_ACTIVE), 6e-3, 1e-12);
	ck_assert_double_eq_tol(cell(a, "b", "cpu0", 0, LEDGER_ACTIVE), 8e-3, 1e-12);
	/* idle: 1e8 TSC ticks x 10 nJ = 1 J, equal over 2 VMs */
	ck_assert_double_eq_tol(cell(a, "a", "cpu0", 0, LEDGER_IDLE), 0.5, 1e-12);
	ck_assert_double_eq_tol(cell(a, "b", "cpu0", 0, LEDGER_IDLE), 0.5, 1e-12);
	ck_assert_double_eq_tol(ledger_meter_total(a, 0), 1.014, 1e-12);
	machine_free(m);
	scn_free(s);
}
END_TEST

START_TEST(test_pmc_log_base_policy)
{
	const char *log = write_file("log.csv",
				     "# joulevisor pmc v1\nt_ns,cpu,vm,tsc,ins\n"
				     "0,0,idle,0,0\n50000000,0,a,50000000,1000\n");
	char text[1024];
	snprintf(text, sizeof text,
		 "[global]\nduration = 50ms\nreplay_mode = accounting\n[machine]\npreset = none\n"
		 "[cpu]\nfreq = 1GHz\ncounters = tsc,ins\ncycles_counter = none\n"
		 "weights = tsc:10nJ,ins:2nJ\nidle_policy = base\npmc_log = %s\n[vm a]\n", log);
	struct scn *s = load(text);
	struct machine *m = run(s);
	const struct ledger *a = machine_acct(m);
	ck_assert_double_eq_tol(cell(a, "hypervisor", "cpu0", 0, LEDGER_IDLE), 0.5, 1e-12);
	ck_assert_double_eq_tol(cell(a, "a", "cpu0", 0, LEDGER_ACTIVE), 2e-6, 1e-15);
	machine_free(m);
	scn_free(s);
}
END_TEST

/* CPU hogs: round-robin shares and PMC energy equal to the truth when the
 * accounting weights are the true ones. */
START_TEST(test_cpu_hogs_share_and_energy)
{
	struct scn *s = load("[global]\nduration = 2s\n[machine]\npreset = paper-2007\n"
			     "[cpu]\nidle_policy = equal\n"
			     "[vm a]\nworkload = cpu-hog\n[vm b]\nworkload = cpu-hog\n"
			     "events = instructions:1e9\n");
	struct machine *m = run(s);
	const struct ledger *a = machine_acct(m), *t = machine_truth(m);
	ck_assert_int_eq(machine_vm_stats(m, 0)->cpu_ns, 1000000000LL);
	ck_assert_int_eq(machine_vm_stats(m, 1)->cpu_ns, 1000000000LL);
	/* a: 45 W cycles + 20 W ins + 2 W l2 + 2.5 W bus for 1 s */
	ck_assert_double_eq_tol(cell(a, "a", "cpu0", 0, LEDGER_ACTIVE), 69.5, 1e-6);
	/* b: 45 W + 5 W for 1 s */
	ck_assert_double_eq_tol(cell(a, "b", "cpu0", 0, LEDGER_ACTIVE), 50.0, 1e-6);
	/* the 36 W base over 2 s, equal */
	ck_assert_double_eq_tol(cell(a, "a", "cpu0", 0, LEDGER_IDLE), 36.0, 1e-6);
	ck_assert_double_eq_tol(cell(t, "b", "cpu0", 0, LEDGER_IDLE), 36.0, 1e-6);
	ck_assert_double_eq_tol(cell(t, "a", "cpu0", 0, LEDGER_ACTIVE), 69.5, 1e-6);
	machine_free(m);
	scn_free(s);
}
END_TEST

/* Accounting with wrong weights differs from the truth by the weight error. */
START_TEST(test_weight_error_shows)
{
	struct scn *s = load("[global]\nduration = 1s\n[machine]\npreset = paper-2007\n"
			     "[cpu]\nweights = tsc:12nJ,cycles:15nJ,instructions:6nJ,"
			     "l2_misses:100nJ,bus_accesses:50nJ\n"
			     "true_weights = tsc:12nJ,cycles:15nJ,instructions:5nJ,"
			     "l2_misses:100nJ,bus_accesses:50nJ\n"
			     "[vm a]\nworkload = cpu-hog\nevents = instructions:2e9\n");
	struct machine *m = run(s);
	double acc = cell(machine_acct(m), "a", "cpu0", 0, LEDGER_ACTIVE);
	double tru = cell(machine_truth(m), "a", "cpu0", 0, LEDGER_ACTIVE);
	ck_assert_double_eq_tol(acc - tru, 2e9 * 1e-9, 1e-6); /* 1 nJ x 2e9 */
	machine_free(m);
	scn_free(s);
}
END_TEST

/* The driver's recursive accounting: per-request CPU charged to the client
 * tracks the truth, the remainder is unattributed, totals conserve. */
START_TEST(test_recursive_tracks_truth)
{
	struct scn *s = load("[global]\nduration = 5s\n[machine]\npreset = paper-2007\n"
			     "[cpu]\nidle_policy = base\n"
			     "[vm drv]\nkind = driver\n"
			     "[vm c]\nworkload = disk-stress\nblock_size = 4KiB\n");
	struct machine *m = run(s);
	const struct ledger *a = machine_acct(m), *t = machine_truth(m);
	double acc = ledger_total_cd(a, consumer(a, "c"), 0);
	double tru = ledger_total_cd(t, consumer(t, "c"), 0);
	ck_assert_msg(fabs(acc - tru) / tru < 0.01, "client CPU: accounted %g true %g", acc, tru);
	/* the driver's idle CPU: ~8 W measured by the probe */
	ck_assert_double_eq_tol(machine_driver_idle_w(m, 0), 8.0, 0.1);
	double un = ledger_total_cd(a, LEDGER_UNATTRIBUTED, 0);
	ck_assert_msg(fabs(un) < 0.05, "unattributed CPU %g J", un);
	ck_assert_uint_eq(ledger_conservation(a)->violations, 0);
	ck_assert_uint_eq(ledger_conservation(t)->violations, 0);
	machine_free(m);
	scn_free(s);
}
END_TEST

/* blk trace replay: open mode runs it through the driver and disk,
 * accounting mode charges latencies as recorded. */
START_TEST(test_blk_replay_modes)
{
	const char *tr = write_file("t.csv",
				    "# joulevisor blk v1\nt_ns,vm,op,offset_b,size_b,latency_ns\n"
				    "0,c,R,0,4096,1000000\n"
				    "10000000,c,W,4096,8192,2000000\n"
				    "20000000,c,R,0,4096,1000000\n");
	char text[1024];
	snprintf(text, sizeof text,
		 "[global]\nduration = 100ms\n[machine]\npreset = none\n"
		 "[disk]\nidle_power = 1W\nactive_power = 3W\nmedia_rate = 4096000B/s\n"
		 "[vm drv]\nkind = driver\nidle_cpu_power = 0W\n"
		 "[vm c]\ntrace = %s\ntrace_mode = %%s\n", tr);
	const char *modes[] = {"open", "accounting", "closed"};
	for (int i = 0; i < 3; i++) {
		char t2[1200];
		snprintf(t2, sizeof t2, text, modes[i]);
		struct scn *s = load(t2);
		struct machine *m = run(s);
		ck_assert_uint_eq(machine_vm_stats(m, 1)->requests, 3);
		ck_assert_int_eq(machine_vm_stats(m, 1)->bytes, 16384);
		/* busy 4 ms either way (size / rate = recorded latency) */
		double act = cell(machine_acct(m), "c", "disk0", 1, LEDGER_ACTIVE) +
			     cell(machine_acct(m), "unattributed", "disk0", 1, LEDGER_ACTIVE);
		ck_assert_double_eq_tol(act, 4e-3 * 2.0, 1e-9);
		if (i == 1)
			ck_assert_ptr_null(machine_truth(m));
		else
			ck_assert_ptr_nonnull(machine_truth(m));
		machine_free(m);
		scn_free(s);
	}
}
END_TEST

/* pmc-interval (per-VM deltas, as perf stat -I gives) in accounting and
 * open modes, two VMs sharing the interval timestamps. */
START_TEST(test_pmc_interval_modes)
{
	const char *tr = write_file("pi.csv", "# joulevisor pmc-interval v1\n"
					      "t_ns,vm,ins\n"
					      "10000000,a,1000000\n"
					      "10000000,b,2000000\n"
					      "20000000,a,3000000\n"
					      "20000000,b,0\n");
	static const char *const modes[] = {"accounting", "open"};
	for (int i = 0; i < 2; i++) {
		char text[1024];
		snprintf(text, sizeof text,
			 "[global]\nduration = 100ms\n[machine]\npreset = none\n"
			 "[cpu]\nfreq = 1GHz\ncounters = tsc,ins\ncycles_counter = none\n"
			 "weights = tsc:10nJ,ins:2nJ\n"
			 "[vm a]\ntrace = %s\ntrace_mode = %s\n[vm b]\n", tr, modes[i]);
		struct scn *s = load(text);
		struct machine *m = run(s);
		const struct ledger *a = machine_acct(m);
		/* active: a (1e6 + 3e6) x 2 nJ, b 2e6 x 2 nJ, in both modes */
		ck_assert_double_eq_tol(cell(a, "a", "cpu0", 0, LEDGER_ACTIVE), 8e-3, 1e-9);
		ck_assert_double_eq_tol(cell(a, "b", "cpu0", 0, LEDGER_ACTIVE), 4e-3, 1e-9);
		/* the CPU baseline over 100 ms, equal split */
		ck_assert_double_eq_tol(cell(a, "a", "cpu0", 0, LEDGER_IDLE) +
					cell(a, "b", "cpu0", 0, LEDGER_IDLE), 1.0, 1e-9);
		if (i == 1) {
			/* open: the VMs ran their intervals' CPU time (10 ms each) */
			ck_assert_int_eq(machine_vm_stats(m, 0)->cpu_ns, 20000000);
			ck_assert_int_eq(machine_vm_stats(m, 1)->cpu_ns, 20000000);
			ck_assert_ptr_nonnull(machine_truth(m));
		} else {
			ck_assert_ptr_null(machine_truth(m));
		}
		machine_free(m);
		scn_free(s);
	}
}
END_TEST

/* The para-virtual meters of the clients add up to the disk's energy
 * (with the unattributed cell): conservation through the meter path. */
START_TEST(test_paravirtual_meter)
{
	struct scn *s = load("[global]\nduration = 3s\n[vm drv]\nkind = driver\n"
			     "[vm c1]\nworkload = disk-stress\nblock_size = 4KiB\n"
			     "[vm c2]\nworkload = disk-stress\nblock_size = 64KiB\n"
			     "think = 1ms\n");
	struct machine *m = run(s);
	const struct ledger *a = machine_acct(m);
	int disk = device(a, "disk0"), cpu = device(a, "cpu0");
	double meters = machine_meter_j(m, 1, disk) + machine_meter_j(m, 2, disk);
	double un = ledger_total_cd(a, LEDGER_UNATTRIBUTED, disk);
	double dev = ledger_meter_total(a, disk);
	ck_assert_double_eq_tol(meters + un, dev, 1e-9 * dev);
	ck_assert(meters > 0.99 * dev);
	/* each meter equals what the ledger charged that client via the driver */
	for (int vm = 1; vm <= 2; vm++) {
		int c = machine_consumer(vm);
		ck_assert_double_eq_tol(machine_meter_j(m, vm, disk),
					ledger_total(a, c, disk, 1, LEDGER_IDLE) +
					ledger_total(a, c, disk, 1, LEDGER_ACTIVE), 1e-9);
		ck_assert_double_eq_tol(machine_meter_j(m, vm, cpu),
					ledger_total(a, c, cpu, 1, LEDGER_IDLE) +
					ledger_total(a, c, cpu, 1, LEDGER_ACTIVE), 1e-9);
	}
	machine_free(m);
	scn_free(s);
}
END_TEST

START_TEST(test_unknown_vm_in_trace)
{
	const char *tr = write_file("t.csv", "# joulevisor blk v1\nt_ns,vm,op,offset_b,size_b\n"
					     "0,c,R,0,4096\n5,ghost,R,0,4096\n");
	char text[1024];
	snprintf(text, sizeof text,
		 "[global]\nduration = 100ms\n[vm drv]\nkind = driver\nidle_cpu_power = 0W\n"
		 "[vm c]\ntrace = %s\n", tr);
	struct scn *s = load(text);
	struct machine *m = NULL;
	struct jv_diag d;
	jv_diag_clear(&d);
	int rc = machine_new(s, 0, NULL, &m, &d);
	if (rc == 0)
		rc = machine_run(m, &d);
	ck_assert_int_eq(rc, JV_EUNKNOWN);
	ck_assert_msg(strstr(d.msg, "t.csv:4:") && strstr(d.msg, "ghost"), "%s", d.msg);
	machine_free(m);
	scn_free(s);
}
END_TEST

/* Both conservation invariants over random scenarios, every policy. */
static uint64_t rng = 88172645463325252ULL;
static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

START_TEST(test_conservation_random)
{
	static const char *const pol[] = {"equal", "utilization", "proportional", "base"};
	static const char *const bs[] = {"512B", "4KiB", "16KiB", "64KiB"};
	for (int iter = 0; iter < 16; iter++) {
		char text[4096];
		int n = 0;
		n += snprintf(text + n, sizeof text - (size_t)n,
			      "[global]\nduration = %dms\n[cpu]\ncount = %d\nidle_policy = %s\nquantum = %dms\n"
			      "[disk]\nidle_policy = %s\n[output]\ninterval = %dms\n"
			      "[vm drv]\nkind = driver\n",
			      500 + (int)(next_rand() % 1500), 1 + (int)(next_rand() % 3), pol[next_rand() % 4],
			      1 + (int)(next_rand() % 10), pol[next_rand() % 4],
			      10 + (int)(next_rand() % 200));
		int nvm = 1 + (int)(next_rand() % 5);
		for (int v = 0; v < nvm; v++) {
			int hog = next_rand() % 3 == 0;
			n += snprintf(text + n, sizeof text - (size_t)n,
				      "[vm g%d]\nworkload = %s\nblock_size = %s\nqueue_depth = %d\n"
				      "start = %dms\nthink = %dus\n",
				      v, hog ? "cpu-hog" : "disk-stress", bs[next_rand() % 4],
				      1 + (int)(next_rand() % 3), (int)(next_rand() % 200),
				      (int)(next_rand() % 500));
		}
		struct scn *s = load(text);
		struct machine *m = run(s);
		const struct ledger *a = machine_acct(m), *t = machine_truth(m);
		ck_assert_msg(ledger_conservation(a)->violations == 0,
			      "accounted ledger violated (iter %d, residual %g):\n%s", iter,
			      ledger_conservation(a)->max_residual_j, text);
		ck_assert_msg(ledger_conservation(t)->violations == 0,
			      "truth ledger violated (iter %d, residual %g):\n%s", iter,
			      ledger_conservation(t)->max_residual_j, text);
		ck_assert_uint_gt(ledger_conservation(a)->checks, 0);
		/* over the run: truth totals equal the device energy */
		for (int dv = 0; dv < ledger_n_devices(t); dv++) {
			double sum = 0;
			for (int c = 0; c < ledger_n_consumers(t); c++)
				sum += ledger_total_cd(t, c, dv);
			ck_assert_double_eq_tol(sum, ledger_meter_total(t, dv),
						1e-9 * ledger_meter_total(t, dv) + 1e-12);
		}
		machine_free(m);
		scn_free(s);
	}
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("machine");
	TCase *tc = tcase_create("analytic");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_one_client_fixed_rate);
	tcase_add_test(tc, test_two_clients_equal_idle);
	tcase_add_test(tc, test_utilization_idle);
	tcase_add_test(tc, test_pmc_log_known_weights);
	tcase_add_test(tc, test_pmc_log_base_policy);
	tcase_add_test(tc, test_cpu_hogs_share_and_energy);
	tcase_add_test(tc, test_weight_error_shows);
	tcase_add_test(tc, test_recursive_tracks_truth);
	tcase_add_test(tc, test_blk_replay_modes);
	tcase_add_test(tc, test_unknown_vm_in_trace);
	tcase_add_test(tc, test_paravirtual_meter);
	tcase_add_test(tc, test_pmc_interval_modes);
	tcase_add_test(tc, test_conservation_random);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
