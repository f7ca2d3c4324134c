/* check_scenario: tests of sim/scenario.c (loading, precedence, includes,
 * every error class, --set, resolved output, help). Fixtures live in
 * tests/fixtures/scenario/; error cases write small files to a temp dir. */
#define _XOPEN_SOURCE 700 /* nftw() */
#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/jv_err.h"
#include "sim/scenario.h"

#ifndef JV_FIXTURES
#error "compile with -DJV_FIXTURES=\"<repo>/tests/fixtures\""
#endif

#define FX_DIR JV_FIXTURES "/scenario/"
#define NS_PER_MS 1000000LL
#define NS_PER_US 1000LL
#define NS_PER_S 1000000000LL

static char g_tmp[64]; /* "/tmp/check_scenario.XXXXXX" */

/* ----------------------------------------------------------- helpers */

static const char *fx(const char *name)
{
	static char buf[4][PATH_MAX];
	static int k;
	k = (k + 1) % 4;
	snprintf(buf[k], sizeof buf[k], "%s%s", FX_DIR, name);
	return buf[k];
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(p);
}

static void tmp_setup(void)
{
	snprintf(g_tmp, sizeof g_tmp, "/tmp/check_scenario.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(g_tmp));
}

static void tmp_teardown(void)
{
	nftw(g_tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Write len bytes of text to g_tmp/name; returns the path. */
static const char *write_tmp_n(const char *name, const char *text, size_t len)
{
	static char buf[4][PATH_MAX];
	static int k;
	k = (k + 1) % 4;
	snprintf(buf[k], sizeof buf[k], "%s/%s", g_tmp, name);
	char *slash = strrchr(buf[k], '/');
	*slash = '\0';
	mkdir(buf[k], 0700); /* one level of subdirectory is enough here */
	*slash = '/';
	FILE *f = fopen(buf[k], "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(text, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
	return buf[k];
}

static const char *write_tmp(const char *name, const char *text)
{
	return write_tmp_n(name, text, strlen(text));
}

static struct scn *load_ok(const char *path, const struct scn_override *ov,
			   int n_ov)
{
	struct scn *s = NULL;
	struct jv_diag d;
	int rc = scn_load(path, ov, n_ov, &s, &d);
	ck_assert_msg(rc == 0, "%s: %s (%s)", path, d.msg, jv_errname(rc));
	ck_assert_ptr_nonnull(s);
	return s;
}

static int vm_of(const struct scn *s, const char *name)
{
	int i = scn_vm_index(s, name);
	ck_assert_msg(i >= 0, "no vm %s", name);
	return i;
}

static double rate_of(const struct scn *s, const struct scn_rates *r,
		      const char *counter)
{
	int c = scn_counter_index(s, counter);
	ck_assert_msg(c >= 0, "no counter %s", counter);
	return r->per_s[c];
}

static double weight_of(const struct scn *s, const double *w, const char *c)
{
	int i = scn_counter_index(s, c);
	ck_assert_msg(i >= 0, "no counter %s", c);
	return w[i];
}

#define EQ_TOL(a, b) ck_assert_double_eq_tol((a), (b), fabs(b) * 1e-12 + 1e-30)

/* ---------------------------------------------------- defaults, presets */

START_TEST(test_defaults_paper)
{
	struct scn *s = load_ok(fx("minimal.ini"), NULL, 0);
	ck_assert_str_eq(s->global.name, "minimal");
	ck_assert_int_eq(s->global.duration_ns, 10 * NS_PER_S);
	ck_assert_uint_eq(s->global.seed, 1);
	ck_assert_int_eq(s->global.replay_mode, SCN_REPLAY_OPEN);
	ck_assert_str_eq(s->machine.preset, "paper-2007");
	ck_assert_int_eq(s->cpu.count, 1);
	ck_assert_int_eq(s->cpu.quantum_ns, 10 * NS_PER_MS);
	ck_assert_int_eq(s->cpu.scheduler, SCN_SCHED_STRIDE);
	EQ_TOL(s->cpu.freq_hz, 3e9);
	ck_assert_int_eq(s->cpu.n_counters, 5);
	static const char *const names[] = { "tsc", "cycles", "instructions",
					     "l2_misses", "bus_accesses" };
	static const double w[] = { 12e-9, 15e-9, 5e-9, 100e-9, 50e-9 };
	for (int i = 0; i < 5; i++) {
		ck_assert_str_eq(s->cpu.counter[i], names[i]);
		EQ_TOL(s->cpu.weight_j[i], w[i]);
		EQ_TOL(s->cpu.true_weight_j[i], w[i]);
	}
	/* base power of the paper's CPU: 12 nJ x 3e9/s = 36 W */
	EQ_TOL(s->cpu.weight_j[0] * s->cpu.freq_hz, 36.0);
	ck_assert_ptr_null(s->cpu.weights_file);
	ck_assert_ptr_null(s->cpu.pmc_log);
	ck_assert_int_eq(s->cpu.tsc_index, 0);
	ck_assert_int_eq(s->cpu.cycles_index, 1);
	ck_assert_int_eq(s->cpu.idle_policy, SCN_IDLE_EQUAL);
	ck_assert_int_eq(s->cpu.read_period_ns, 20 * NS_PER_MS);
	ck_assert_int_eq(s->disk.count, 1);
	EQ_TOL(s->disk.idle_power_w, 3.6);
	EQ_TOL(s->disk.active_power_w, 5.6);
	EQ_TOL(s->disk.media_rate_bps, 55e6);
	ck_assert_int_eq(s->disk.overhead_ns, 54 * NS_PER_US);
	EQ_TOL(s->disk.nominal_rate_bps, 55e6); /* 0 = media_rate */
	ck_assert_int_eq(s->disk.rate_window, 50);
	ck_assert_int_eq(s->disk.idle_period_ns, 50 * NS_PER_MS);
	ck_assert_int_eq(s->disk.idle_policy, SCN_IDLE_EQUAL);
	ck_assert_int_eq(s->output.interval_ns, 100 * NS_PER_MS);
	ck_assert_int_eq(s->output.power_resolution_ns, NS_PER_MS);
	ck_assert_int_eq(s->n_vms, 0);
	ck_assert_int_eq(s->n_containers, 0);
	ck_assert_int_eq(s->n_inputs, 1);
	ck_assert_str_eq(s->input[0], fx("minimal.ini"));
	ck_assert_str_eq(s->file, fx("minimal.ini"));
	scn_free(s);
}
END_TEST

START_TEST(test_defaults_none)
{
	struct scn *s = load_ok(fx("none.ini"), NULL, 0);
	ck_assert_str_eq(s->machine.preset, "none");
	EQ_TOL(s->cpu.freq_hz, 1e9);
	ck_assert_int_eq(s->cpu.n_counters, 2);
	ck_assert_str_eq(s->cpu.counter[0], "tsc");
	ck_assert_str_eq(s->cpu.counter[1], "cycles");
	for (int i = 0; i < SCN_MAX_COUNTERS; i++) {
		ck_assert_double_eq(s->cpu.weight_j[i], 0.0);
		ck_assert_double_eq(s->cpu.true_weight_j[i], 0.0);
	}
	ck_assert_double_eq(s->disk.idle_power_w, 0.0);
	ck_assert_double_eq(s->disk.active_power_w, 0.0);
	EQ_TOL(s->disk.media_rate_bps, 100e6);
	ck_assert_int_eq(s->disk.overhead_ns, 0);
	ck_assert_int_eq(s->n_vms, 1);
	const struct scn_vm *vm = &s->vm[0];
	ck_assert_str_eq(vm->name, "guest");
	ck_assert_int_eq(vm->kind, SCN_VM_GUEST);
	ck_assert_str_eq(vm->driver, "");
	ck_assert_int_eq(vm->driver_idx, -1);
	ck_assert_int_eq(vm->disk, 0);
	ck_assert_int_eq(vm->workload, SCN_WL_NONE);
	for (int i = 0; i < SCN_MAX_COUNTERS; i++) {
		ck_assert_double_eq(vm->events.per_s[i], 0.0);
		ck_assert_double_eq(vm->req_events.per_s[i], 0.0);
		ck_assert_double_eq(vm->bg_events.per_s[i], 0.0);
	}
	ck_assert_int_eq(vm->start_ns, 0);
	ck_assert_int_eq(vm->stop_ns, 10 * NS_PER_S); /* 0 = duration */
	ck_assert_int_eq(vm->block_size_b, 4096);
	ck_assert_int_eq(vm->op, SCN_OP_READ);
	ck_assert_int_eq(vm->queue_depth, 1);
	ck_assert_int_eq(vm->client_cpu_ns, 0);
	ck_assert_int_eq(vm->think_ns, 0);
	ck_assert_int_eq(vm->n_traces, 0);
	ck_assert_int_eq(vm->trace_mode, SCN_REPLAY_OPEN);
	ck_assert_uint_eq(vm->tickets, 100);
	ck_assert_int_eq(vm->req_cpu_ns, 0);
	ck_assert_int_eq(vm->req_cpu_ns_per_kib, 0);
	ck_assert_double_eq(vm->bg_duty, 0.0);
	ck_assert_int_eq(vm->bg_period_ns, NS_PER_MS);
	ck_assert_int_eq(vm->idle_cpu_auto, 1);
	ck_assert_int_eq(vm->idle_probe_ns, NS_PER_S);
	ck_assert_int_eq(vm->predict_window, 50);
	ck_assert_int_eq(vm->line, 5);
	ck_assert_str_eq(vm->file, fx("none.ini"));
	scn_free(s);
}
END_TEST

START_TEST(test_basic)
{
	struct scn *s = load_ok(fx("basic.ini"), NULL, 0);
	ck_assert_str_eq(s->global.name, "basic-run");
	ck_assert_int_eq(s->global.duration_ns, 5 * NS_PER_S);
	ck_assert_uint_eq(s->global.seed, 42);
	ck_assert_int_eq(s->global.replay_mode, SCN_REPLAY_CLOSED);
	ck_assert_int_eq(s->cpu.count, 2);
	ck_assert_int_eq(s->cpu.quantum_ns, 5 * NS_PER_MS);
	ck_assert_int_eq(s->cpu.idle_policy, SCN_IDLE_UTILIZATION);
	ck_assert_int_eq(s->cpu.read_period_ns, 40 * NS_PER_MS);
	ck_assert_int_eq(s->disk.count, 2);
	EQ_TOL(s->disk.idle_power_w, 3.0);
	EQ_TOL(s->disk.active_power_w, 6.0);
	ck_assert_int_eq(s->disk.rate_window, 25);
	ck_assert_int_eq(s->output.interval_ns, 50 * NS_PER_MS);
	ck_assert_int_eq(s->output.power_resolution_ns, 500 * NS_PER_US);
	ck_assert_int_eq(s->n_vms, 4);

	const struct scn_vm *drv = &s->vm[vm_of(s, "drv")];
	ck_assert_int_eq(drv->kind, SCN_VM_DRIVER);
	ck_assert_int_eq(drv->driver_idx, -1);
	ck_assert_int_eq(drv->req_cpu_ns, 9 * NS_PER_US);
	ck_assert_int_eq(drv->req_cpu_ns_per_kib, 100);
	EQ_TOL(drv->bg_duty, 0.2);
	ck_assert_int_eq(drv->idle_cpu_auto, 0);
	EQ_TOL(drv->idle_cpu_w, 1.5);
	ck_assert_int_eq(drv->predict_window, 10);
	/* preset values for every VM */
	EQ_TOL(rate_of(s, &drv->req_events, "instructions"), 1.5e9);
	EQ_TOL(rate_of(s, &drv->req_events, "l2_misses"), 2e8);
	EQ_TOL(rate_of(s, &drv->bg_events, "bus_accesses"), 5e8);
	ck_assert_int_eq(drv->line, 24);
	ck_assert_str_eq(drv->file, fx("basic.ini"));

	const struct scn_vm *web = &s->vm[vm_of(s, "web")];
	ck_assert_int_eq(web->kind, SCN_VM_GUEST);
	ck_assert_str_eq(web->driver, "drv"); /* the only driver */
	ck_assert_int_eq(web->driver_idx, vm_of(s, "drv"));
	ck_assert_int_eq(web->disk, 1);
	ck_assert_int_eq(web->workload, SCN_WL_DISK_STRESS);
	ck_assert_int_eq(web->block_size_b, 65536);
	ck_assert_int_eq(web->op, SCN_OP_WRITE);
	ck_assert_int_eq(web->queue_depth, 4);
	ck_assert_int_eq(web->think_ns, NS_PER_MS);
	ck_assert_uint_eq(web->tickets, 300);
	ck_assert_int_eq(web->start_ns, NS_PER_S);
	ck_assert_int_eq(web->stop_ns, 4 * NS_PER_S);
	ck_assert_int_eq(web->client_cpu_ns, 1500); /* preset */
	ck_assert_int_eq(web->trace_mode, SCN_REPLAY_CLOSED);
	EQ_TOL(rate_of(s, &web->events, "instructions"), 4e9);
	EQ_TOL(rate_of(s, &web->events, "l2_misses"), 2e7);
	EQ_TOL(rate_of(s, &web->events, "bus_accesses"), 5e7);
	ck_assert_double_eq(rate_of(s, &web->events, "tsc"), 0.0);

	const struct scn_vm *hog = &s->vm[vm_of(s, "hog")];
	ck_assert_int_eq(hog->workload, SCN_WL_CPU_HOG);
	ck_assert_int_eq(hog->driver_idx, -1); /* no disk I/O: no driver */
	ck_assert_str_eq(hog->driver, "");
	/* a file list replaces the preset list: unlisted counters are 0 */
	EQ_TOL(rate_of(s, &hog->events, "instructions"), 2e9);
	EQ_TOL(rate_of(s, &hog->events, "l2_misses"), 1e6);
	ck_assert_double_eq(rate_of(s, &hog->events, "bus_accesses"), 0.0);
	ck_assert_int_eq(hog->stop_ns, 5 * NS_PER_S);

	ck_assert_int_eq(s->n_containers, 1);
	const struct scn_container *c = &s->container[0];
	ck_assert_str_eq(c->name, "box/batch");
	ck_assert_int_eq(c->vm, vm_of(s, "box"));
	ck_assert_int_eq(c->workload, SCN_WL_CPU_HOG);
	EQ_TOL(c->power_limit_w, 10.0);
	EQ_TOL(c->share, 0.25);
	EQ_TOL(rate_of(s, &c->events, "instructions"), 4e9); /* preset */
	scn_free(s);
}
END_TEST

/* default < preset < file < --set, for cpu.freq */
static const struct {
	const char *file;
	struct scn_override ov[2];
	int n_ov;
	double freq_hz;
} prec_cases[] = {
	{ "none.ini", { { 0 } }, 0, 1e9 },     /* default */
	{ "minimal.ini", { { 0 } }, 0, 3e9 },  /* preset */
	{ "preset_last.ini", { { 0 } }, 0, 2e9 }, /* file beats preset */
	{ "preset_last.ini", { { "cpu.freq", "2.5GHz" } }, 1, 2.5e9 },
	{ "minimal.ini", { { "machine.preset", "none" } }, 1, 1e9 },
	{ "none.ini", { { "machine.preset", "paper-2007" } }, 1, 3e9 },
	{ "minimal.ini", { { "cpu.freq", "4GHz" }, { "cpu.freq", "5GHz" } }, 2,
	  5e9 }, /* the last --set wins */
};

START_TEST(test_precedence)
{
	struct scn *s = load_ok(fx(prec_cases[_i].file), prec_cases[_i].ov,
				prec_cases[_i].n_ov);
	EQ_TOL(s->cpu.freq_hz, prec_cases[_i].freq_hz);
	scn_free(s);
}
END_TEST

START_TEST(test_repeat_and_merge)
{
	const char *p = write_tmp("r.ini", "[cpu]\nquantum = 1ms\ncount = 3\n"
					   "[disk]\ncount = 2\n"
					   "[cpu]\nquantum = 4ms\n");
	struct scn *s = load_ok(p, NULL, 0);
	ck_assert_int_eq(s->cpu.quantum_ns, 4 * NS_PER_MS); /* later wins */
	ck_assert_int_eq(s->cpu.count, 3);                  /* sections merge */
	ck_assert_int_eq(s->disk.count, 2);
	scn_free(s);
}
END_TEST

START_TEST(test_preset_drop)
{
	/* preset weights and rates for counters the file dropped are ignored */
	const char *p = write_tmp("d.ini", "[cpu]\ncounters = tsc,cycles,instructions\n"
					   "[vm g]\n");
	struct scn *s = load_ok(p, NULL, 0);
	ck_assert_int_eq(s->cpu.n_counters, 3);
	EQ_TOL(weight_of(s, s->cpu.weight_j, "instructions"), 5e-9);
	EQ_TOL(rate_of(s, &s->vm[0].events, "instructions"), 4e9);
	ck_assert_double_eq(s->cpu.weight_j[3], 0.0);
	scn_free(s);
}
END_TEST

/* ----------------------------------------------------------- includes */

START_TEST(test_include)
{
	struct scn *s = load_ok(fx("inc_main.ini"), NULL, 0);
	ck_assert_int_eq(s->global.duration_ns, 3 * NS_PER_S); /* in place */
	ck_assert_int_eq(s->cpu.quantum_ns, 2 * NS_PER_MS);    /* after it */
	EQ_TOL(s->cpu.freq_hz, 2e9);
	EQ_TOL(s->disk.idle_power_w, 1.0);
	EQ_TOL(s->disk.active_power_w, 2.0);
	ck_assert_int_eq(s->n_vms, 1);
	ck_assert_str_eq(s->vm[0].name, "from_b");
	ck_assert_int_eq(s->vm[0].trace_mode, SCN_REPLAY_ACCOUNTING);
	ck_assert_int_eq(s->vm[0].line, 6);
	ck_assert_str_eq(s->vm[0].file, fx("sub/deeper/inc_b.ini"));
	ck_assert_int_eq(s->n_inputs, 3);
	ck_assert_str_eq(s->input[0], fx("inc_main.ini"));
	ck_assert_str_eq(s->input[1], fx("sub/inc_a.ini"));
	ck_assert_str_eq(s->input[2], fx("sub/deeper/inc_b.ini"));
	scn_free(s);
}
END_TEST

START_TEST(test_include_cycle)
{
	struct scn *s = (struct scn *)1;
	struct jv_diag d;
	ck_assert_int_eq(scn_load(fx("cycle_a.ini"), NULL, 0, &s, &d), JV_ECYCLE);
	ck_assert_ptr_null(s);
	ck_assert_int_eq(d.err, JV_ECYCLE);
	char want[3 * PATH_MAX];
	snprintf(want, sizeof want, "%s:5: include cycle: %s -> %s -> %s",
		 fx("cycle_b.ini"), fx("cycle_a.ini"), fx("cycle_b.ini"),
		 fx("cycle_a.ini"));
	ck_assert_str_eq(d.msg, want);
}
END_TEST

START_TEST(test_include_self)
{
	/* a different spelling of the same file is still a cycle (realpath) */
	const char *p = write_tmp("self.ini", "[global]\ninclude = ./self.ini\n");
	struct scn *s;
	struct jv_diag d;
	ck_assert_int_eq(scn_load(p, NULL, 0, &s, &d), JV_ECYCLE);
	ck_assert_ptr_nonnull(strstr(d.msg, "self.ini:2: include cycle: "));
	ck_assert_ptr_nonnull(strstr(d.msg, "self.ini -> "));
	ck_assert_ptr_nonnull(strstr(d.msg, "/./self.ini"));
}
END_TEST

START_TEST(test_include_missing)
{
	struct scn *s;
	struct jv_diag d;
	ck_assert_int_eq(scn_load(fx("inc_missing.ini"), NULL, 0, &s, &d),
			 JV_ENOENT);
	char want[2 * PATH_MAX];
	snprintf(want, sizeof want,
		 "%s:3: include: cannot open '%s': No such file or directory",
		 fx("inc_missing.ini"), fx("does_not_exist.ini"));
	ck_assert_str_eq(d.msg, want);
}
END_TEST

/* chain d0 -> d1 -> ... -> dN */
static const char *write_chain(int n)
{
	char name[32], text[64];
	for (int i = 0; i <= n; i++) {
		snprintf(name, sizeof name, "d%d.ini", i);
		if (i < n)
			snprintf(text, sizeof text, "[global]\ninclude = d%d.ini\n",
				 i + 1);
		else
			snprintf(text, sizeof text, "[cpu]\ncount = 7\n");
		write_tmp(name, text);
	}
	static char p[PATH_MAX];
	snprintf(p, sizeof p, "%s/d0.ini", g_tmp);
	return p;
}

START_TEST(test_include_depth)
{
	struct scn *s = load_ok(write_chain(SCN_MAX_INCLUDE_DEPTH), NULL, 0);
	ck_assert_int_eq(s->cpu.count, 7);
	ck_assert_int_eq(s->n_inputs, SCN_MAX_INCLUDE_DEPTH + 1);
	scn_free(s);
	struct jv_diag d;
	ck_assert_int_eq(scn_load(write_chain(SCN_MAX_INCLUDE_DEPTH + 1), NULL, 0,
				  &s, &d),
			 JV_ELIMIT);
	ck_assert_ptr_nonnull(strstr(d.msg, "d16.ini:2: include: nesting deeper "
					    "than 16"));
}
END_TEST

START_TEST(test_missing_file)
{
	struct scn *s = (struct scn *)1;
	struct jv_diag d;
	ck_assert_int_eq(scn_load("no/such/x.ini", NULL, 0, &s, &d), JV_ENOENT);
	ck_assert_ptr_null(s);
	ck_assert_str_eq(d.msg, "no/such/x.ini: cannot open: No such file or "
				"directory");
	ck_assert_int_eq(jv_exit_code(d.err), 2);
}
END_TEST

/* ------------------------------------------------------------- errors */

/* a comment line of exactly 199 bytes */
#define L199 "; 23456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678"

static const struct {
	const char *text;
	struct scn_override ov;
	int err;
	const char *frag; /* "e.ini:..." must start the message */
} err_cases[] = {
	/* structure */
	{ "[cpuu]\n", { 0 }, JV_EUNKNOWN,
	  "e.ini:1: unknown section [cpuu] (did you mean [cpu]?)" },
	{ "[global]\n[vmm x]\n", { 0 }, JV_EUNKNOWN,
	  "e.ini:2: unknown section [vmm x] (did you mean [vm NAME]?)" },
	{ "[zzzzzz]\n", { 0 }, JV_EUNKNOWN,
	  "e.ini:1: unknown section [zzzzzz] (valid: global machine cpu disk vm "
	  "container manager output)" },
	{ "[cpu]\nquantm = 1ms\n", { 0 }, JV_EUNKNOWN,
	  "e.ini:2: unknown key 'quantm' in [cpu] (did you mean 'quantum'?)" },
	{ "[vm a]\nblocksize = 1\n", { 0 }, JV_EUNKNOWN,
	  "e.ini:2: unknown key 'blocksize' in [vm a] (did you mean 'block_size'?)" },
	{ "[manager]\nperiod = 1s\n", { 0 }, JV_EUNKNOWN,
	  "e.ini:2: unknown key 'period' in [manager] (valid: cpu_period" },
	{ "[cpu]\ninclude = x.ini\n", { 0 }, JV_EUNKNOWN,
	  "e.ini:2: unknown key 'include' in [cpu]" },
	{ "x = 1\n[cpu]\n", { 0 }, JV_EPARSE,
	  "e.ini:1: key 'x' before any [section] header" },
	{ "[cpu\n", { 0 }, JV_EPARSE, "e.ini:1: missing ']' in section header" },
	{ "[cpu] count = 1\n", { 0 }, JV_EPARSE,
	  "e.ini:1: unexpected text 'count = 1' after ']'" },
	{ "[cpu x]\n", { 0 }, JV_EPARSE, "e.ini:1: section [cpu] takes no name" },
	{ "[vm]\n", { 0 }, JV_EPARSE, "e.ini:1: section [vm] needs a name: [vm NAME]" },
	{ "[cpu]\ncount\n", { 0 }, JV_EPARSE,
	  "e.ini:2: expected 'key = value', '[section]' or a comment, not 'count'" },
	{ "[cpu]\n= 3\n", { 0 }, JV_EPARSE, "e.ini:2: missing key before '='" },
	{ "[cpu]\nquantum = 1ms\n  2ms\n", { 0 }, JV_EPARSE,
	  "e.ini:3: indented line '2ms': continuation lines are not supported" },
	{ "[cpu]\n\tcount = 2\n", { 0 }, JV_EPARSE, "e.ini:2: indented line" },
	{ "[global]\n" L199 "0\n", { 0 }, JV_EPARSE,
	  "e.ini:2: line too long (max 199 bytes)" },
	{ "; only comments\n\n# and blank lines\n", { 0 }, JV_EEMPTY,
	  "e.ini: empty scenario" },
	{ "", { 0 }, JV_EEMPTY, "e.ini: empty scenario" },
	/* section names */
	{ "[vm a]\n[cpu]\n[vm a]\n", { 0 }, JV_EEXIST,
	  "e.ini:3: duplicate VM 'a', first defined at " },
	{ "[vm a*b]\n", { 0 }, JV_EPARSE, "e.ini:1: bad VM name 'a*b' in [vm a*b]" },
	{ "[vm a b]\n", { 0 }, JV_EPARSE, "e.ini:1: bad VM name 'a b'" },
	{ "[vm a234567890123456789012345678901234567890123456789012345678901234]\n",
	  { 0 }, JV_EPARSE, "e.ini:1: bad VM name" },
	{ "[vm hypervisor]\n", { 0 }, JV_EINVAL,
	  "e.ini:1: VM name 'hypervisor' is reserved" },
	{ "[vm ..]\n", { 0 }, JV_EPARSE, "e.ini:1: bad VM name '..'" },
	{ "[global]\nname = ..\n", { 0 }, JV_EPARSE,
	  "e.ini:2: [global] name: bad name '..'" },
	{ "[vm a]\n[container a/b/c]\n", { 0 }, JV_EPARSE,
	  "e.ini:2: bad container name 'a/b/c'" },
	{ "[container nope]\n", { 0 }, JV_EPARSE,
	  "e.ini:1: container 'nope' must be named VM/NAME" },
	{ "[vm a]\n[container a/c]\n[container a/c]\n", { 0 }, JV_EEXIST,
	  "e.ini:3: duplicate container 'a/c', first defined at " },
	{ "[container x/c]\n", { 0 }, JV_EUNKNOWN,
	  "e.ini:1: container 'x/c': no [vm x] section" },
	{ "[vm d]\nkind = driver\n[container d/c]\n", { 0 }, JV_EINVAL,
	  "e.ini:3: container 'd/c': vm 'd' is a driver" },
	/* values */
	{ "[global]\n\n[cpu]\nquantum = 10xs\n", { 0 }, JV_EUNIT,
	  "e.ini:4: [cpu] quantum: unknown unit 'xs' in '10xs' (valid: ns us ms s "
	  "min h)" },
	{ "[cpu]\nquantum = 5xs\nquantum = 5ms\n", { 0 }, JV_EUNIT,
	  "e.ini:2: [cpu] quantum: unknown unit" }, /* even if replaced later */
	{ "[disk]\nrate_window = 0\n", { 0 }, JV_ERANGE,
	  "e.ini:2: [disk] rate_window: 0 out of range [1, 1000000]" },
	{ "[cpu]\nfreq = 0\n", { 0 }, JV_ERANGE,
	  "e.ini:2: [cpu] freq: 0 out of range (0, 10GHz]" },
	{ "[cpu]\nquantum = 5us\n", { 0 }, JV_ERANGE,
	  "e.ini:2: [cpu] quantum: 5us out of range [10us, 1s]" },
	{ "[global]\nduration = 2401h\n", { 0 }, JV_ERANGE,
	  "e.ini:2: [global] duration: 2401h out of range (0, 2400h]" },
	{ "[vm d]\nkind = driver\nbg_duty = 0.95\n", { 0 }, JV_ERANGE,
	  "e.ini:3: [vm d] bg_duty: 0.95 out of range [0, 0.9]" },
	{ "[cpu]\nfreq = nan\n", { 0 }, JV_EPARSE,
	  "e.ini:2: [cpu] freq: not a number: 'nan'" },
	{ "[cpu]\ncount = 1.5\n", { 0 }, JV_EPARSE,
	  "e.ini:2: [cpu] count: not an integer: '1.5'" },
	{ "[global]\nseed = -1\n", { 0 }, JV_EPARSE,
	  "e.ini:2: [global] seed: not an unsigned integer: '-1'" },
	{ "[global]\nreplay_mode = opn\n", { 0 }, JV_EUNKNOWN,
	  "e.ini:2: [global] replay_mode: unknown value 'opn' (valid: accounting "
	  "open closed) (did you mean 'open'?)" },
	{ "[machine]\npreset = paper\n", { 0 }, JV_EUNKNOWN,
	  "e.ini:2: [machine] preset: unknown value 'paper' (valid: paper-2007 none)" },
	{ "[global]\nname = a b\n", { 0 }, JV_EPARSE,
	  "e.ini:2: [global] name: bad name 'a b'" },
	{ "[vm a]\ndisk = sda\n", { 0 }, JV_EPARSE,
	  "e.ini:2: [vm a] disk: expected diskN" },
	{ "[vm a]\ndisk = disk1\n", { 0 }, JV_ERANGE,
	  "e.ini:2: [vm a] disk: disk1 does not exist (disk.count = 1)" },
	{ "[disk]\nactive_power = 1W\n", { 0 }, JV_ERANGE,
	  "e.ini:2: [disk] active_power: active_power 1W is below idle_power 3.6W" },
	/* counters and lists */
	{ "[cpu]\ncounters = tsc,tsc\n", { 0 }, JV_EPARSE,
	  "e.ini:2: [cpu] counters: duplicate counter 'tsc'" },
	{ "[cpu]\ncounters = tsc,,cycles\n", { 0 }, JV_EPARSE,
	  "e.ini:2: [cpu] counters: empty item" },
	{ "[cpu]\ncounters = a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q\n", { 0 }, JV_ELIMIT,
	  "e.ini:2: [cpu] counters: more than 16 items" },
	{ "[cpu]\ncounters = a,b\ncycles_counter = none\n", { 0 }, JV_EUNKNOWN,
	  "e.ini:2: [cpu] tsc_counter: 'tsc' is not one of counters (a, b)" },
	{ "[cpu]\ncounters = tsc,x\n", { 0 }, JV_EUNKNOWN,
	  "e.ini:2: [cpu] cycles_counter: 'cycles' is not one of counters (tsc, x);"
	  " set it to a counter or none" },
	{ "[cpu]\nweights = tsc:1nJ,bar:1nJ\n", { 0 }, JV_EUNKNOWN,
	  "e.ini:2: [cpu] weights: 'bar' is not a counter (counters: tsc, cycles, "
	  "instructions, l2_misses, bus_accesses)" },
	{ "[cpu]\nweights = tsc:1xJ\n", { 0 }, JV_EUNIT,
	  "e.ini:2: [cpu] weights: tsc: unknown unit 'xJ'" },
	{ "[vm a]\nevents = instructions:1,foo:2\n", { 0 }, JV_EUNKNOWN,
	  "e.ini:2: [vm a] events: 'foo' is not a counter (counters: tsc, cycles, "
	  "instructions, l2_misses, bus_accesses)" },
	{ "[vm a]\nevents = tsc:1e9\n", { 0 }, JV_EINVAL,
	  "e.ini:2: [vm a] events: the TSC counter 'tsc' cannot be given a rate" },
	{ "[vm a]\nevents = instructions\n", { 0 }, JV_EPARSE,
	  "e.ini:2: [vm a] events: item 'instructions' is not name:rate" },
	{ "[vm a]\nevents = instructions:-1\n", { 0 }, JV_ERANGE,
	  "e.ini:2: [vm a] events: instructions: rate -1 is negative" },
	{ "[vm a]\nevents = instructions:1,instructions:2\n", { 0 }, JV_EPARSE,
	  "e.ini:2: [vm a] events: counter 'instructions' listed twice" },
	/* VM kinds and drivers */
	{ "[vm a]\nbg_duty = 0.1\n", { 0 }, JV_EINVAL,
	  "e.ini:2: [vm a] bg_duty: applies only to kind = driver" },
	{ "[vm a]\nreq_cpu = 1us\nkind = guest\n", { 0 }, JV_EINVAL,
	  "e.ini:2: [vm a] req_cpu: applies only to kind = driver" },
	{ "[vm d]\nkind = driver\ndriver = x\n", { 0 }, JV_EINVAL,
	  "e.ini:3: [vm d] driver: applies only to kind = guest" },
	{ "[vm d]\nkind = driver\n[vm a]\ndriver = dd\n", { 0 }, JV_EUNKNOWN,
	  "e.ini:4: [vm a] driver: unknown driver VM 'dd' (did you mean 'd'?)" },
	{ "[vm g]\n[vm a]\ndriver = g\n", { 0 }, JV_EINVAL,
	  "e.ini:3: [vm a] driver: vm 'g' is not a driver (kind = guest)" },
	{ "[global]\n[vm a]\nworkload = disk-stress\n", { 0 }, JV_EINVAL,
	  "e.ini:2: vm 'a' does disk I/O but the scenario has no driver VM" },
	{ "[vm d1]\nkind = driver\n[vm d2]\nkind = driver\n[vm a]\n"
	  "workload = disk-stress\n", { 0 }, JV_EINVAL,
	  "e.ini:5: vm 'a' does disk I/O and the scenario has 2 driver VMs: set "
	  "driver = NAME" },
	{ "[vm d]\nkind = driver\nworkload = cpu-hog\n", { 0 }, JV_EINVAL,
	  "e.ini:3: [vm d] workload: a driver VM only serves requests" },
	{ "[vm d]\nkind = driver\n[vm a]\nworkload = cpu-hog\ntrace = t.csv\n", { 0 },
	  JV_EINVAL, "e.ini:5: [vm a] trace: trace files need workload = trace" },
	{ "[vm a]\nworkload = trace\n", { 0 }, JV_EINVAL,
	  "e.ini:2: [vm a] workload: workload = trace needs at least one trace file" },
	{ "[vm a]\nstop = 11s\n", { 0 }, JV_ERANGE,
	  "e.ini:2: [vm a] stop: stop 11s is after duration 10s" },
	{ "[vm a]\nstart = 2s\nstop = 2s\n", { 0 }, JV_ERANGE,
	  "e.ini:2: [vm a] start: start 2s is not before stop 2s" },
	{ "[vm a]\nstart = 10s\n", { 0 }, JV_ERANGE,
	  "e.ini:2: [vm a] start: start 10s is not before stop 10s" },
	/* overrides */
	{ "[vm a]\n", { "vm.x.block_size", "8KiB" }, JV_EUNKNOWN,
	  "--set vm.x.block_size: no [vm x] section in the scenario" },
	{ "[vm a]\n", { "cpu.quantm", "1ms" }, JV_EUNKNOWN,
	  "--set cpu.quantm: unknown key 'quantm' in [cpu] (did you mean "
	  "'quantum'?)" },
	{ "[vm a]\n", { "vm.a.blok_size", "1" }, JV_EUNKNOWN,
	  "--set vm.a.blok_size: unknown key 'blok_size' in [vm NAME] (did you "
	  "mean 'block_size'?)" },
	{ "[vm a]\n", { "cpuu.quantum", "1ms" }, JV_EUNKNOWN,
	  "--set cpuu.quantum: unknown section 'cpuu' (did you mean 'cpu'?)" },
	{ "[vm a]\n", { "quantum", "1ms" }, JV_EUSAGE,
	  "--set quantum: expected SECTION.KEY" },
	{ "[vm a]\n", { "vm.block_size", "1" }, JV_EUSAGE,
	  "--set vm.block_size: expected vm.NAME.KEY" },
	{ "[vm a]\n", { "cpu.quantum", "1xs" }, JV_EUNIT,
	  "--set cpu.quantum: unknown unit 'xs' in '1xs'" },
	{ "[vm a]\n", { "container.a/c.share", "1" }, JV_EUNKNOWN,
	  "--set container.a/c.share: no [container a/c] section in the scenario" },
	{ "[vm a]\n", { "global.include", "x.ini" }, JV_EINVAL,
	  "--set global.include: include is read while the file is parsed" },
	{ "[vm a]\n", { "vm.a.req_cpu", "1us" }, JV_EINVAL,
	  "--set vm.a.req_cpu: applies only to kind = driver" },
};

START_TEST(test_errors)
{
	const char *p = write_tmp("e.ini", err_cases[_i].text);
	struct scn *s = (struct scn *)1;
	struct jv_diag d;
	int n_ov = err_cases[_i].ov.key ? 1 : 0;
	int rc = scn_load(p, &err_cases[_i].ov, n_ov, &s, &d);
	ck_assert_msg(rc == err_cases[_i].err, "case %d: got %s want %s: %s", _i,
		      jv_errname(rc), jv_errname(err_cases[_i].err), d.msg);
	ck_assert_int_eq(d.err, rc);
	ck_assert_ptr_null(s);
	const char *frag = err_cases[_i].frag;
	if (!strncmp(frag, "e.ini", 5)) {
		char full[PATH_MAX + 512];
		snprintf(full, sizeof full, "%s/%s", g_tmp, frag);
		ck_assert_msg(!strncmp(d.msg, full, strlen(full)),
			      "case %d: '%s' does not start with '%s'", _i, d.msg,
			      full);
	} else {
		ck_assert_msg(strstr(d.msg, frag), "case %d: '%s' lacks '%s'", _i,
			      d.msg, frag);
	}
	ck_assert_int_eq(jv_exit_code(rc), 2);
}
END_TEST

START_TEST(test_line_limits)
{
	/* 199 bytes is fine, with LF or CR LF; the error message names the
	 * first line that is too long */
	struct scn *s = load_ok(write_tmp("ok.ini", "[global]\n" L199 "\n"), NULL, 0);
	scn_free(s);
	s = load_ok(write_tmp("ok2.ini", "[global]\r\n" L199 "\r\n"), NULL, 0);
	scn_free(s);
	s = load_ok(write_tmp("ok3.ini", "[global]\n" L199), NULL, 0); /* no LF */
	scn_free(s);
}
END_TEST

START_TEST(test_nul_byte)
{
	const char *p = write_tmp_n("n.ini", "[cpu]\ncount = 1\0\n", 17);
	struct scn *s;
	struct jv_diag d;
	ck_assert_int_eq(scn_load(p, NULL, 0, &s, &d), JV_EPARSE);
	ck_assert_ptr_nonnull(strstr(d.msg, "n.ini:2: NUL byte in the file"));
}
END_TEST

START_TEST(test_crlf_bom)
{
	struct scn *s = load_ok(fx("crlf_bom.ini"), NULL, 0);
	ck_assert_int_eq(s->cpu.quantum_ns, 3 * NS_PER_MS);
	ck_assert_int_eq(s->n_vms, 1);
	ck_assert_str_eq(s->vm[0].name, "w");
	ck_assert_int_eq(s->vm[0].line, 5);
	ck_assert_int_eq(s->vm[0].workload, SCN_WL_CPU_HOG);
	scn_free(s);
}
END_TEST

START_TEST(test_stdin)
{
	ck_assert_ptr_nonnull(freopen(fx("crlf_bom.ini"), "rb", stdin));
	struct scn *s = load_ok("-", NULL, 0);
	ck_assert_str_eq(s->global.name, "stdin");
	ck_assert_str_eq(s->file, "-");
	ck_assert_int_eq(s->cpu.quantum_ns, 3 * NS_PER_MS);
	ck_assert_str_eq(s->vm[0].file, "<stdin>");
	ck_assert_int_eq(s->n_inputs, 1);
	ck_assert_str_eq(s->input[0], "-");
	scn_free(s);
}
END_TEST

START_TEST(test_default_name)
{
	struct scn *s = load_ok(write_tmp("my scen.v2.ini", "[global]\n"), NULL, 0);
	ck_assert_str_eq(s->global.name, "my_scen.v2");
	scn_free(s);
}
END_TEST

/* --------------------------------------------------- weights, traces */

START_TEST(test_weights_file)
{
	struct scn *s = load_ok(fx("weights_file.ini"), NULL, 0);
	EQ_TOL(weight_of(s, s->cpu.weight_j, "tsc"), 11e-9);
	EQ_TOL(weight_of(s, s->cpu.weight_j, "cycles"), 2e-8);      /* file */
	EQ_TOL(weight_of(s, s->cpu.weight_j, "instructions"), 4e-9);
	EQ_TOL(weight_of(s, s->cpu.weight_j, "l2_misses"), 90e-9);  /* file */
	ck_assert_double_eq(weight_of(s, s->cpu.weight_j, "bus_accesses"), 0.0);
	EQ_TOL(weight_of(s, s->cpu.true_weight_j, "tsc"), 12e-9);
	EQ_TOL(weight_of(s, s->cpu.true_weight_j, "cycles"), 16e-9);
	ck_assert_double_eq(weight_of(s, s->cpu.true_weight_j, "l2_misses"), 0.0);
	ck_assert_str_eq(s->cpu.weights_file, fx("weights.csv"));
	ck_assert_int_eq(s->n_inputs, 2);
	ck_assert_str_eq(s->input[1], fx("weights.csv"));
	scn_free(s);

	/* without true_weights, truth copies the final accounting weights */
	struct scn_override ov = { "cpu.weights_file", fx("weights.csv") };
	s = load_ok(fx("minimal.ini"), &ov, 1);
	EQ_TOL(weight_of(s, s->cpu.true_weight_j, "cycles"), 2e-8);
	EQ_TOL(weight_of(s, s->cpu.true_weight_j, "tsc"), 12e-9);
	scn_free(s);
}
END_TEST

START_TEST(test_weights_file_bad)
{
	struct scn *s;
	struct jv_diag d;
	ck_assert_int_eq(scn_load(fx("weights_bad.ini"), NULL, 0, &s, &d),
			 JV_EUNKNOWN);
	char want[PATH_MAX + 200];
	snprintf(want, sizeof want,
		 "%s:3: unknown counter 'tlb_misses' (counters: tsc, cycles, "
		 "instructions, l2_misses, bus_accesses)", fx("weights_bad.csv"));
	ck_assert_str_eq(d.msg, want);
	struct scn_override ov = { "cpu.weights_file", "/nonexistent/w.csv" };
	ck_assert_int_eq(scn_load(fx("minimal.ini"), &ov, 1, &s, &d), JV_ENOENT);
	ck_assert_str_eq(d.msg, "--set cpu.weights_file: cannot open "
				"'/nonexistent/w.csv': No such file or directory");
}
END_TEST

START_TEST(test_traces)
{
	struct scn *s = load_ok(fx("traces.ini"), NULL, 0);
	ck_assert_int_eq(s->cpu.cycles_index, -1);
	ck_assert_str_eq(s->cpu.pmc_log, fx("logs/pmc.csv"));
	const struct scn_vm *r = &s->vm[vm_of(s, "replay")];
	ck_assert_int_eq(r->workload, SCN_WL_TRACE);
	ck_assert_int_eq(r->n_traces, 2);
	ck_assert_str_eq(r->trace[0], fx("traces/a.csv"));
	ck_assert_str_eq(r->trace[1], fx("traces/b.csv"));
	ck_assert_int_eq(r->trace_mode, SCN_REPLAY_ACCOUNTING);
	ck_assert_int_eq(r->driver_idx, vm_of(s, "drv"));
	const struct scn_vm *c = &s->vm[vm_of(s, "closed")];
	ck_assert_int_eq(c->n_traces, 1);
	ck_assert_str_eq(c->trace[0], "/abs/c.csv");
	ck_assert_int_eq(c->trace_mode, SCN_REPLAY_CLOSED);
	static const char *const inputs[] = { "traces.ini", "logs/pmc.csv",
					      "traces/a.csv", "traces/b.csv" };
	ck_assert_int_eq(s->n_inputs, 5);
	for (int i = 0; i < 4; i++)
		ck_assert_str_eq(s->input[i], fx(inputs[i]));
	ck_assert_str_eq(s->input[4], "/abs/c.csv");
	scn_free(s);
}
END_TEST

START_TEST(test_driver_key_order)
{
	struct scn *s = load_ok(fx("driver_key_order.ini"), NULL, 0);
	ck_assert_int_eq(s->vm[0].kind, SCN_VM_DRIVER);
	ck_assert_int_eq(s->vm[0].req_cpu_ns, 5 * NS_PER_US);
	scn_free(s);
}
END_TEST

/* ------------------------------------------------------------- --set */

START_TEST(test_set_ok)
{
	const struct scn_override ov[] = {
		{ "global.duration", "20s" },
		{ "vm.web.block_size", "8KiB" },
		{ "vm.drv.idle_cpu_power", "auto" },
		{ "container.box/batch.share", " 0.5 " },
		{ "cpu.idle_policy", "base" },
		{ "output.interval", "1s" },
	};
	struct scn *s = load_ok(fx("basic.ini"), ov, 6);
	ck_assert_int_eq(s->global.duration_ns, 20 * NS_PER_S);
	ck_assert_int_eq(s->vm[vm_of(s, "web")].block_size_b, 8192);
	ck_assert_int_eq(s->vm[vm_of(s, "web")].stop_ns, 4 * NS_PER_S);
	ck_assert_int_eq(s->vm[vm_of(s, "hog")].stop_ns, 20 * NS_PER_S);
	ck_assert_int_eq(s->vm[vm_of(s, "drv")].idle_cpu_auto, 1);
	EQ_TOL(s->container[0].share, 0.5);
	ck_assert_int_eq(s->cpu.idle_policy, SCN_IDLE_BASE);
	ck_assert_int_eq(s->output.interval_ns, NS_PER_S);
	scn_free(s);
}
END_TEST

START_TEST(test_set_paths)
{
	write_tmp("sub/s.ini", "[cpu]\npmc_log = p.csv\n[vm d]\nkind = driver\n"
			       "[vm x]\ntrace = t1.csv\ntrace = t2.csv\n");
	ck_assert_int_eq(chdir(g_tmp), 0);
	struct scn *s = load_ok("sub/s.ini", NULL, 0);
	ck_assert_str_eq(s->cpu.pmc_log, "sub/p.csv");  /* relative to the file */
	ck_assert_int_eq(s->vm[1].n_traces, 2);
	ck_assert_str_eq(s->vm[1].trace[0], "sub/t1.csv");
	scn_free(s);
	/* --set paths are relative to the cwd; a --set list replaces the
	 * file's list, further --set of it append */
	const struct scn_override ov[] = {
		{ "cpu.pmc_log", "q.csv" },
		{ "vm.x.trace", "u1.csv" },
		{ "vm.x.trace", "u2.csv" },
	};
	s = load_ok("sub/s.ini", ov, 3);
	ck_assert_str_eq(s->cpu.pmc_log, "q.csv");
	ck_assert_int_eq(s->vm[1].n_traces, 2);
	ck_assert_str_eq(s->vm[1].trace[0], "u1.csv");
	ck_assert_str_eq(s->vm[1].trace[1], "u2.csv");
	scn_free(s);
	/* an empty --set clears a path or a path list */
	const struct scn_override clear[] = { { "cpu.pmc_log", "" },
					      { "vm.x.trace", "" } };
	s = load_ok("sub/s.ini", clear, 1);
	ck_assert_ptr_null(s->cpu.pmc_log);
	ck_assert_int_eq(s->vm[1].n_traces, 2);
	scn_free(s);
	s = load_ok("sub/s.ini", clear, 2);
	ck_assert_int_eq(s->vm[1].n_traces, 0);
	ck_assert_int_eq(s->vm[1].workload, SCN_WL_NONE);
	ck_assert_int_eq(s->vm[1].driver_idx, -1);
	scn_free(s);
}
END_TEST

/* ----------------------------------------------------- resolved output */

static char *resolved_text(const struct scn *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(scn_write_resolved(s, f), 0);
	ck_assert_int_eq(fclose(f), 0);
	return buf;
}

static void abs_path(const char *p, char *out, size_t n)
{
	char cwd[PATH_MAX];
	if (p[0] == '/')
		snprintf(out, n, "%s", p);
	else
		snprintf(out, n, "%s/%s", getcwd(cwd, sizeof cwd), p);
}

static void assert_same_path(const char *a, const char *b)
{
	char x[2 * PATH_MAX], y[2 * PATH_MAX];
	ck_assert((a == NULL) == (b == NULL));
	if (!a)
		return;
	abs_path(a, x, sizeof x);
	abs_path(b, y, sizeof y);
	ck_assert_str_eq(x, y);
}

#define SAME(field) ck_assert_msg(!memcmp(&a->field, &b->field, sizeof a->field), \
				  "differs: " #field)

static void assert_same_scn(const struct scn *a, const struct scn *b)
{
	SAME(global);
	SAME(machine);
	SAME(cpu.count);
	SAME(cpu.quantum_ns);
	SAME(cpu.scheduler);
	SAME(cpu.freq_hz);
	SAME(cpu.n_counters);
	SAME(cpu.counter);
	SAME(cpu.weight_j);
	SAME(cpu.true_weight_j);
	SAME(cpu.tsc_index);
	SAME(cpu.cycles_index);
	SAME(cpu.idle_policy);
	SAME(cpu.read_period_ns);
	assert_same_path(a->cpu.weights_file, b->cpu.weights_file);
	assert_same_path(a->cpu.pmc_log, b->cpu.pmc_log);
	SAME(disk);
	SAME(output);
	SAME(n_vms);
	for (int i = 0; i < a->n_vms; i++) {
		SAME(vm[i].name);
		SAME(vm[i].kind);
		SAME(vm[i].driver);
		SAME(vm[i].driver_idx);
		SAME(vm[i].disk);
		SAME(vm[i].workload);
		SAME(vm[i].events);
		SAME(vm[i].start_ns);
		SAME(vm[i].stop_ns);
		SAME(vm[i].block_size_b);
		SAME(vm[i].op);
		SAME(vm[i].queue_depth);
		SAME(vm[i].client_cpu_ns);
		SAME(vm[i].think_ns);
		SAME(vm[i].n_traces);
		for (int t = 0; t < a->vm[i].n_traces; t++)
			assert_same_path(a->vm[i].trace[t], b->vm[i].trace[t]);
		SAME(vm[i].trace_mode);
		SAME(vm[i].tickets);
		SAME(vm[i].req_cpu_ns);
		SAME(vm[i].req_cpu_ns_per_kib);
		SAME(vm[i].req_events);
		SAME(vm[i].bg_duty);
		SAME(vm[i].bg_period_ns);
		SAME(vm[i].bg_events);
		SAME(vm[i].idle_cpu_auto);
		SAME(vm[i].idle_cpu_w);
		SAME(vm[i].idle_probe_ns);
		SAME(vm[i].predict_window);
	}
	SAME(n_containers);
	for (int i = 0; i < a->n_containers; i++)
		SAME(container[i]);
}

static const struct {
	const char *file;
	struct scn_override ov;
} rt_cases[] = {
	{ "minimal.ini", { 0 } },
	{ "none.ini", { 0 } },
	{ "basic.ini", { 0 } },
	{ "none.ini", { "machine.preset", "paper-2007" } },
	{ "basic.ini", { "cpu.weights", "tsc:1.23456789012345e-9,cycles:0.1nJ" } },
	{ "basic.ini", { "vm.hog.events", "instructions:3.3333333333333335e9" } },
	{ "inc_main.ini", { 0 } },
	{ "weights_file.ini", { 0 } },
	{ "traces.ini", { 0 } },
	{ "crlf_bom.ini", { "disk.media_rate", "1.1MiB/s" } },
	{ "preset_last.ini", { "cpu.freq", "2.718281828459045GHz" } },
};

START_TEST(test_resolved_roundtrip)
{
	int n_ov = rt_cases[_i].ov.key ? 1 : 0;
	struct scn *a = load_ok(fx(rt_cases[_i].file), &rt_cases[_i].ov, n_ov);
	char *t1 = resolved_text(a);
	ck_assert_ptr_null(strstr(t1, "include"));
	const char *p = write_tmp("resolved.ini", t1);
	struct scn *b = load_ok(p, NULL, 0);
	char *t2 = resolved_text(b);
	ck_assert_str_eq(t1, t2);
	assert_same_scn(a, b);
	/* every line reloads: none is longer than the reader accepts */
	for (char *line = t1; *line;) {
		char *nl = strchr(line, '\n');
		ck_assert_ptr_nonnull(nl);
		ck_assert_int_le(nl - line, 199);
		line = nl + 1;
	}
	free(t1);
	free(t2);
	scn_free(a);
	scn_free(b);
}
END_TEST

START_TEST(test_resolved_content)
{
	struct scn *s = load_ok(fx("basic.ini"), NULL, 0);
	char *t = resolved_text(s);
	static const char *const want[] = {
		"[global]\nname = basic-run\nduration = 5s\nseed = 42\n",
		"\n[machine]\npreset = paper-2007\n",
		"quantum = 5ms\n",
		"freq = 3GHz\n",
		"counters = tsc,cycles,instructions,l2_misses,bus_accesses\n",
		("weights = tsc:12nJ,cycles:15nJ,instructions:5nJ,l2_misses:100nJ,"
		 "bus_accesses:50nJ\n"),
		"media_rate = 55MB/s\n",
		"overhead = 54us\n",
		"nominal_rate = 55MB/s\n",
		"\n[vm drv]\nkind = driver\n",
		"req_cpu = 9us\n",
		"idle_cpu_power = 1.5W\n",
		"\n[vm web]\nkind = guest\ndriver = drv\ndisk = disk1\n",
		"block_size = 64KiB\n",
		"events = instructions:4e9,l2_misses:2e7,bus_accesses:5e7\n",
		"\n[container box/batch]\n",
		"\n[output]\ninterval = 50ms\npower_resolution = 500us\n",
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		ck_assert_msg(strstr(t, want[i]), "resolved lacks '%s':\n%s", want[i],
			      t);
	/* driver-only keys are not written for guests */
	const char *web = strstr(t, "[vm web]");
	ck_assert_ptr_nonnull(web);
	const char *next = strstr(web, "\n[");
	ck_assert_ptr_nonnull(next);
	const char *req = strstr(web, "req_cpu");
	ck_assert(req == NULL || req > next);
	free(t);
	scn_free(s);
}
END_TEST

/* ---------------------------------------------------------------- help */

START_TEST(test_help)
{
	static const char *const keys[] = {
		"[global] name", "[global] duration", "[global] seed",
		"[global] replay_mode", "[global] include", "[machine] preset",
		"[cpu] count", "[cpu] quantum", "[cpu] scheduler", "[cpu] freq",
		"[cpu] counters", "[cpu] weights", "[cpu] true_weights",
		"[cpu] weights_file", "[cpu] tsc_counter", "[cpu] cycles_counter",
		"[cpu] idle_policy", "[cpu] read_period", "[cpu] pmc_log",
		"[disk] count", "[disk] idle_power", "[disk] active_power",
		"[disk] media_rate", "[disk] overhead", "[disk] nominal_rate",
		"[disk] rate_window", "[disk] idle_period", "[disk] idle_policy",
		"[vm NAME] kind", "[vm NAME] driver", "[vm NAME] disk",
		"[vm NAME] workload", "[vm NAME] events", "[vm NAME] start",
		"[vm NAME] stop", "[vm NAME] block_size", "[vm NAME] op",
		"[vm NAME] queue_depth", "[vm NAME] client_cpu", "[vm NAME] think",
		"[vm NAME] trace", "[vm NAME] trace_mode", "[vm NAME] tickets",
		"[vm NAME] req_cpu", "[vm NAME] req_cpu_per_kib",
		"[vm NAME] req_events", "[vm NAME] bg_duty", "[vm NAME] bg_period",
		"[vm NAME] bg_events", "[vm NAME] idle_cpu_power",
		"[vm NAME] idle_probe", "[vm NAME] predict_window",
		"[container VM/NAME] workload", "[container VM/NAME] events",
		"[container VM/NAME] power_limit", "[container VM/NAME] share",
		"[manager]", "[output] interval", "[output] power_resolution",
		/* header, types, ranges, presets */
		"Precedence", "--set", "paper-2007", "default=10ms  [10us, 1s]",
		"allowed: accounting|open|closed", "(paper-2007: 3GHz)",
		"(driver VMs only)",
	};
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	scn_print_help(f);
	fclose(f);
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		char k[128];
		snprintf(k, sizeof k, "%s%s", keys[i], keys[i][0] == '[' &&
			 strchr(keys[i], ' ') ? "  " : "");
		ck_assert_msg(strstr(buf, k), "help lacks '%s'", k);
	}
	free(buf);
}
END_TEST

START_TEST(test_lookup)
{
	struct scn *s = load_ok(fx("basic.ini"), NULL, 0);
	ck_assert_int_eq(scn_vm_index(s, "drv"), 0);
	ck_assert_int_eq(scn_vm_index(s, "hog"), 2);
	ck_assert_int_eq(scn_vm_index(s, "nope"), -1);
	ck_assert_int_eq(scn_counter_index(s, "tsc"), 0);
	ck_assert_int_eq(scn_counter_index(s, "bus_accesses"), 4);
	ck_assert_int_eq(scn_counter_index(s, "bus"), -1);
	scn_free(s);
	scn_free(NULL);
}
END_TEST

START_TEST(test_bad_args)
{
	struct scn *s = (struct scn *)1;
	struct jv_diag d;
	ck_assert_int_eq(scn_load(NULL, NULL, 0, &s, &d), JV_EINVAL);
	ck_assert_ptr_null(s);
	ck_assert_int_eq(scn_load(fx("minimal.ini"), NULL, 1, &s, &d), JV_EINVAL);
	/* d may be NULL */
	ck_assert_int_eq(scn_load("/nonexistent.ini", NULL, 0, &s, NULL), JV_ENOENT);
}
END_TEST

static Suite *scenario_suite(void)
{
	Suite *su = suite_create("scenario");
	TCase *tc = tcase_create("load");
	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_add_test(tc, test_defaults_paper);
	tcase_add_test(tc, test_defaults_none);
	tcase_add_test(tc, test_basic);
	tcase_add_loop_test(tc, test_precedence, 0,
			    sizeof prec_cases / sizeof prec_cases[0]);
	tcase_add_test(tc, test_repeat_and_merge);
	tcase_add_test(tc, test_preset_drop);
	tcase_add_test(tc, test_include);
	tcase_add_test(tc, test_include_cycle);
	tcase_add_test(tc, test_include_self);
	tcase_add_test(tc, test_include_missing);
	tcase_add_test(tc, test_include_depth);
	tcase_add_test(tc, test_missing_file);
	tcase_add_test(tc, test_line_limits);
	tcase_add_test(tc, test_nul_byte);
	tcase_add_test(tc, test_crlf_bom);
	tcase_add_test(tc, test_stdin);
	tcase_add_test(tc, test_default_name);
	tcase_add_test(tc, test_weights_file);
	tcase_add_test(tc, test_weights_file_bad);
	tcase_add_test(tc, test_traces);
	tcase_add_test(tc, test_driver_key_order);
	tcase_add_test(tc, test_set_ok);
	tcase_add_test(tc, test_set_paths);
	tcase_add_test(tc, test_lookup);
	tcase_add_test(tc, test_bad_args);
	suite_add_tcase(su, tc);

	TCase *te = tcase_create("errors");
	tcase_add_checked_fixture(te, tmp_setup, tmp_teardown);
	tcase_add_loop_test(te, test_errors, 0,
			    sizeof err_cases / sizeof err_cases[0]);
	suite_add_tcase(su, te);

	TCase *to = tcase_create("output");
	tcase_add_checked_fixture(to, tmp_setup, tmp_teardown);
	tcase_add_loop_test(to, test_resolved_roundtrip, 0,
			    sizeof rt_cases / sizeof rt_cases[0]);
	tcase_add_test(to, test_resolved_content);
	tcase_add_test(to, test_help);
	suite_add_tcase(su, to);
	return su;
}

int main(void)
{
	SRunner *sr = srunner_create(scenario_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
