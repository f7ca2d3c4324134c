/*
 * check_guest_disk: the disk half of resource containers (paper §3.4). A
 * disk-stress container's requests go through its guest's virtual disk;
 * each reply carries its cost, which the guest charges to the container
 * that issued it. Checked here: the containers' charges add up to what
 * the host charged the VM (per device, active and idle, account and
 * truth); with the other clients' meters they add up to the device's
 * energy; a throttled container issues nothing and runs nothing until the
 * next guest period; energy-unaware guests ignore container limits, and a
 * guest whose only container is disk-stress looks to the host exactly like
 * a disk-stress VM; a disk container without a driver VM is a FILE:LINE
 * error naming the container's workload.
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

#define CK_TMP_PREFIX "check_guest_disk"
#include "check_tmpdir.h"

static int load_rc(const char *text, struct scn **s, struct jv_diag *d)
{
	char path[512];
	snprintf(path, sizeof path, "%s/s.ini", base);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
	jv_diag_clear(d);
	return scn_load(path, NULL, 0, s, d);
}

static struct scn *load(const char *text)
{
	struct scn *s = NULL;
	struct jv_diag d;
	int rc = load_rc(text, &s, &d);
	ck_assert_msg(rc == 0, "scn_load: %s", d.msg);
	return s;
}

static struct machine *run_sink(struct scn *s, const struct machine_sink *sink)
{
	struct machine *m = NULL;
	struct jv_diag d;
	jv_diag_clear(&d);
	int rc = machine_new(s, 0, sink, &m, &d);
	ck_assert_msg(rc == 0, "machine_new: %s", d.msg);
	rc = machine_run(m, &d);
	ck_assert_msg(rc == 0, "machine_run: %s", d.msg);
	ck_assert_uint_eq(machine_stats(m)->conservation_violations, 0);
	return m;
}

static struct machine *run(struct scn *s) { return run_sink(s, NULL); }

static int device(const struct ledger *l, const char *name)
{
	for (int d = 0; d < ledger_n_devices(l); d++)
		if (strcmp(ledger_device_name(l, d), name) == 0)
			return d;
	ck_abort_msg("no device %s", name);
	return -1;
}

static double rel_tol(double x) { return 1e-9 * fabs(x) + 1e-12; }

/* drv (vm 0) serves a plain disk-stress VM c1 (vm 1) and an energy-aware
 * guest g (vm 2) with a CPU container and two disk containers of different
 * sizes, ops, depths and limits; one CPU, so the driver's CPU is cpu0. */
#define MIXED                                                                  \
	"[global]\nduration = 3s\n[machine]\npreset = paper-2007\n"             \
	"[cpu]\nquantum = 1ms\n[vm drv]\nkind = driver\n"                       \
	"[vm c1]\nworkload = disk-stress\nblock_size = 16KiB\nthink = 1ms\n"    \
	"[vm g]\nenergy_aware = yes\n"                                          \
	"[container g/batch]\npower_limit = 20W\n"                              \
	"[container g/db]\nworkload = disk-stress\nqueue_depth = 2\n"           \
	"power_limit = 3W\n"                                                    \
	"[container g/log]\nworkload = disk-stress\nblock_size = 64KiB\n"       \
	"op = write\nthink = 2ms\n"

#define G 2 /* vm index of g */

/* The costs the replies carried, charged to the containers, add up per
 * device to what the host charged the VM for those requests. */
START_TEST(test_reply_costs_equal_host_charge)
{
	struct scn *s = load(MIXED);
	struct machine *m = run(s);
	const struct ledger *a = machine_acct(m), *t = machine_truth(m);
	ck_assert_ptr_nonnull(t);
	int disk = device(a, "disk0"), cpu = device(a, "cpu0"), c = machine_consumer(G);
	double ga[2] = {0}, gi[2] = {0}, ta[2] = {0}, ti[2] = {0};
	uint64_t reqs = 0;
	int64_t bytes = 0;
	for (int k = 0; k < s->n_containers; k++) {
		const struct machine_cont_stats *cs = machine_cont_stats(m, k);
		ga[0] += cs->guest_drv_active_j;
		ga[1] += cs->guest_disk_active_j;
		gi[0] += cs->guest_drv_idle_j;
		gi[1] += cs->guest_disk_idle_j;
		ta[0] += cs->true_drv_active_j;
		ta[1] += cs->true_disk_active_j;
		ti[0] += cs->true_drv_idle_j;
		ti[1] += cs->true_disk_idle_j;
		reqs += cs->requests;
		bytes += cs->bytes;
		if (s->container[k].workload == SCN_WL_DISK_STRESS)
			ck_assert_uint_gt(cs->requests, 100);
		else
			ck_assert_uint_eq(cs->requests, 0);
	}
	ck_assert_uint_eq(reqs, machine_vm_stats(m, G)->requests);
	ck_assert_int_eq(bytes, machine_vm_stats(m, G)->bytes);
	int dev[2] = {cpu, disk};
	for (int p = 0; p < 2; p++) {
		double ha = ledger_total(a, c, dev[p], 1, LEDGER_ACTIVE);
		double hi = ledger_total(a, c, dev[p], 1, LEDGER_IDLE);
		ck_assert(ha > 0 && hi > 0);
		ck_assert_double_eq_tol(ga[p], ha, rel_tol(ha));
		ck_assert_double_eq_tol(gi[p], hi, rel_tol(hi));
		ck_assert_double_eq_tol(ga[p] + gi[p], machine_meter_j(m, G, dev[p]),
					rel_tol(ha + hi));
		/* truth: the idle shares exactly; the active energy per completed
		 * request, so up to the requests in flight at the end (3, at most
		 * 64 KiB: under 3 mJ each) */
		double tha = ledger_total(t, c, dev[p], 1, LEDGER_ACTIVE);
		double thi = ledger_total(t, c, dev[p], 1, LEDGER_IDLE);
		ck_assert_double_eq_tol(ti[p], thi, rel_tol(thi));
		ck_assert(ta[p] <= tha + 1e-9);
		ck_assert_double_eq_tol(ta[p], tha, 0.01);
	}
	machine_free(m);
	scn_free(s);
}
END_TEST

/* The para-virtual meters add up to the disk's energy with containers:
 * the plain client's meter, the guest's containers and unattributed. */
START_TEST(test_container_meters_add_up)
{
	struct scn *s = load(MIXED);
	struct machine *m = run(s);
	const struct ledger *a = machine_acct(m);
	int disk = device(a, "disk0");
	double sum = machine_meter_j(m, 1, disk);
	for (int k = 0; k < s->n_containers; k++) {
		const struct machine_cont_stats *cs = machine_cont_stats(m, k);
		sum += cs->guest_disk_idle_j + cs->guest_disk_active_j;
	}
	double un = ledger_total_cd(a, LEDGER_UNATTRIBUTED, disk);
	double dev = ledger_meter_total(a, disk);
	ck_assert_double_eq_tol(sum + un, dev, rel_tol(dev));
	ck_assert(sum > 0.99 * dev);
	/* the guest's idle share went to its disk containers only, in
	 * proportion to their active disk cost */
	const struct machine_cont_stats *b = machine_cont_stats(m, 0);
	const struct machine_cont_stats *db = machine_cont_stats(m, 1);
	const struct machine_cont_stats *lg = machine_cont_stats(m, 2);
	ck_assert_double_eq(b->guest_disk_idle_j, 0.0);
	ck_assert(db->guest_disk_idle_j > 0 && lg->guest_disk_idle_j > 0);
	double r_idle = db->guest_disk_idle_j / lg->guest_disk_idle_j;
	double r_act = db->guest_disk_active_j / lg->guest_disk_active_j;
	ck_assert_double_eq_tol(r_idle, r_act, 0.05 * r_act);
	machine_free(m);
	scn_free(s);
}
END_TEST

/* Snapshots every 5 ms: what container g/db did in each interval. */
struct trail {
	struct machine *m;
	int cont, n;
	int64_t t[1000];
	uint64_t req[1000];
	int64_t cpu[1000];
	double charged[1000]; /* guest view: CPU slices + reply costs */
};

static int on_snap(void *ctx, int64_t t_ns, const struct ledger *acct, const struct ledger *truth)
{
	struct trail *x = ctx;
	(void)acct;
	(void)truth;
	const struct machine_cont_stats *cs = machine_cont_stats(x->m, x->cont);
	ck_assert_int_lt(x->n, 1000);
	x->t[x->n] = t_ns;
	x->req[x->n] = cs->requests;
	x->cpu[x->n] = cs->cpu_ns;
	x->charged[x->n] = cs->guest_active_j + cs->guest_drv_active_j + cs->guest_disk_active_j;
	x->n++;
	return 0;
}

#define THROTTLE                                                               \
	"[global]\nduration = 1s\n[machine]\npreset = paper-2007\n"             \
	"[cpu]\nquantum = 1ms\n[output]\ninterval = 5ms\n"                      \
	"[vm drv]\nkind = driver\n[vm g]\nenergy_aware = %s\n"                  \
	"[container g/batch]\npower_limit = 20W\n"                              \
	"[container g/db]\nworkload = disk-stress\npower_limit = 0.2W\n"

static void run_trail(const char *aware, struct trail *x)
{
	char text[1024];
	snprintf(text, sizeof text, THROTTLE, aware);
	struct scn *s = load(text);
	memset(x, 0, sizeof *x);
	x->cont = 1;
	struct machine_sink sink = {.ctx = x, .snapshot = on_snap};
	struct machine *m = NULL;
	struct jv_diag d;
	jv_diag_clear(&d);
	ck_assert_int_eq(machine_new(s, 0, &sink, &m, &d), 0);
	x->m = m;
	ck_assert_int_eq(machine_run(m, &d), 0);
	machine_free(m);
	scn_free(s);
}

/* A container over its budget issues no request and gets no CPU slice
 * until the next 50 ms refresh; then it runs again. 0.2 W x 50 ms = 10 mJ
 * is about a dozen requests' worth (the CPU hog and the driver share the
 * one CPU), spent well before the period ends. */
START_TEST(test_throttled_waits_for_refresh)
{
	static struct trail aw, un;
	run_trail("yes", &aw);
	run_trail("no", &un);
	ck_assert_int_eq(aw.n, 200);
	ck_assert_int_eq(un.n, 200);
	const double budget_j = 0.2 * 0.05;
	/* snapshot i is at (i + 1) x 5 ms; period k starts at snapshot 10k - 1 */
	int throttled_periods = 0;
	for (int k = 2; k < 20; k++) {
		int p0 = 10 * k - 1;
		int after = 0;       /* intervals that began with the budget spent */
		uint64_t late_reqs = 0;
		for (int i = p0 + 1; i <= p0 + 10; i++) {
			/* unaware: the limit is ignored, requests every interval */
			ck_assert_uint_gt(un.req[i] - un.req[i - 1], 0);
			if (aw.charged[i - 1] - aw.charged[p0] < budget_j)
				continue;
			after++;
			late_reqs += aw.req[i] - aw.req[i - 1];
			ck_assert_msg(aw.cpu[i] == aw.cpu[i - 1],
				      "throttled container got a slice before %lld ns",
				      (long long)aw.t[i]);
		}
		/* at most the request submitted with the slice that spent it */
		ck_assert_uint_le(late_reqs, 1);
		throttled_periods += after >= 3;
		/* refreshed: it runs again in the first interval */
		ck_assert_uint_gt(aw.req[p0 + 1] - aw.req[p0], 0);
		/* nested budget: never more than the budget plus one request */
		double spent = aw.charged[p0 + 10] - aw.charged[p0];
		ck_assert_msg(spent >= budget_j && spent <= budget_j + 0.002,
			      "spent %g J in a %g J period", spent, budget_j);
	}
	ck_assert_int_ge(throttled_periods, 15);
	/* and over the run the unaware guest's container did far more */
	ck_assert_uint_gt(un.req[199], 2 * aw.req[199]);
}
END_TEST

#define UNAWARE_LIMITS                                                         \
	"[global]\nduration = 2s\n[machine]\npreset = paper-2007\n"             \
	"[cpu]\nquantum = 1ms\n[vm drv]\nkind = driver\n[vm g]\n"               \
	"[container g/batch]\npower_limit = %s\n"                               \
	"[container g/db]\nworkload = disk-stress\npower_limit = %s\n"

/* An energy-unaware guest: container limits are not enforced by the guest
 * (only the host enforces the VM's limits); the run is the same with and
 * without them. */
START_TEST(test_unaware_ignores_container_limits)
{
	char t1[1024], t2[1024];
	snprintf(t1, sizeof t1, UNAWARE_LIMITS, "1W", "0.1W");
	snprintf(t2, sizeof t2, UNAWARE_LIMITS, "0W", "0W");
	struct scn *s1 = load(t1), *s2 = load(t2);
	struct machine *m1 = run(s1), *m2 = run(s2);
	for (int k = 0; k < 2; k++) {
		const struct machine_cont_stats *a = machine_cont_stats(m1, k);
		const struct machine_cont_stats *b = machine_cont_stats(m2, k);
		ck_assert_int_eq(a->cpu_ns, b->cpu_ns);
		ck_assert_uint_eq(a->requests, b->requests);
		ck_assert_double_eq(a->guest_disk_active_j, b->guest_disk_active_j);
		ck_assert_double_eq(machine_cont_budget_w(m1, k), 0.0);
	}
	ck_assert_uint_gt(machine_cont_stats(m1, 1)->requests, 1000);
	machine_free(m1);
	machine_free(m2);
	scn_free(s1);
	scn_free(s2);
}
END_TEST

/* The host cannot tell a guest whose only container is disk-stress from a
 * disk-stress VM with the same settings: same requests, same ledgers. */
START_TEST(test_host_view_like_a_disk_vm)
{
	const char *scn_head = "[global]\nduration = 2s\n[machine]\npreset = paper-2007\n"
			   "[vm drv]\nkind = driver\n[vm g]\n";
	char t1[1024], t2[1024];
	snprintf(t1, sizeof t1, "%sworkload = disk-stress\nblock_size = 8KiB\nqueue_depth = 2\n"
		 "think = 100us\n", scn_head);
	snprintf(t2, sizeof t2, "%s[container g/db]\nworkload = disk-stress\nblock_size = 8KiB\n"
		 "queue_depth = 2\nthink = 100us\n", scn_head);
	struct scn *s1 = load(t1), *s2 = load(t2);
	struct machine *m1 = run(s1), *m2 = run(s2);
	ck_assert_uint_eq(machine_vm_stats(m1, 1)->requests, machine_vm_stats(m2, 1)->requests);
	ck_assert_uint_eq(machine_vm_stats(m2, 1)->requests, machine_cont_stats(m2, 0)->requests);
	ck_assert_int_eq(machine_vm_stats(m1, 1)->cpu_ns, machine_vm_stats(m2, 1)->cpu_ns);
	const struct ledger *l1[2] = {machine_acct(m1), machine_truth(m1)};
	const struct ledger *l2[2] = {machine_acct(m2), machine_truth(m2)};
	for (int w = 0; w < 2; w++)
		for (int c = 0; c < ledger_n_consumers(l1[w]); c++)
			for (int d = 0; d < ledger_n_devices(l1[w]); d++)
				for (int v = 0; v < ledger_n_via(l1[w]); v++)
					for (int k = 0; k < 2; k++) {
						double x = ledger_total(l1[w], c, d, v, k);
						double y = ledger_total(l2[w], c, d, v, k);
						ck_assert_double_eq_tol(x, y, rel_tol(x));
					}
	/* the guest's view of its one container is the VM's meter */
	const struct machine_cont_stats *cs = machine_cont_stats(m2, 0);
	int disk = device(l2[0], "disk0");
	ck_assert_double_eq_tol(cs->guest_disk_idle_j + cs->guest_disk_active_j,
				machine_meter_j(m2, 1, disk), 1e-9);
	machine_free(m1);
	machine_free(m2);
	scn_free(s1);
	scn_free(s2);
}
END_TEST

/* A disk container needs a driver VM: FILE:LINE of its workload. */
START_TEST(test_disk_container_without_driver)
{
	struct scn *s = NULL;
	struct jv_diag d;
	int rc = load_rc("[global]\nduration = 1s\n[vm g]\n[container g/db]\n"
			 "workload = disk-stress\n", &s, &d);
	ck_assert_int_eq(rc, JV_EINVAL);
	ck_assert_ptr_null(s);
	ck_assert_msg(strstr(d.msg, "s.ini:5: [container g/db] workload") != NULL, "%s", d.msg);
	ck_assert_msg(strstr(d.msg, "no driver VM") != NULL, "%s", d.msg);
	/* a CPU container needs none */
	rc = load_rc("[global]\nduration = 1s\n[vm g]\n[container g/x]\n", &s, &d);
	ck_assert_msg(rc == 0, "%s", d.msg);
	scn_free(s);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("guest_disk");
	TCase *tc = tcase_create("containers");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_reply_costs_equal_host_charge);
	tcase_add_test(tc, test_container_meters_add_up);
	tcase_add_test(tc, test_throttled_waits_for_refresh);
	tcase_add_test(tc, test_unaware_ignores_container_limits);
	tcase_add_test(tc, test_host_view_like_a_disk_vm);
	tcase_add_test(tc, test_disk_container_without_driver);
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
