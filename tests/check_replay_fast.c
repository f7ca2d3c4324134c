/*
 * check_replay_fast: the fast accounting replay of a `[cpu] pmc_log`
 * (sim/machine_fast.c mach_trace_fast_event: batched records, per-(cpu, vm) sums
 * charged at snapshots) against the record-by-record path
 * (MACHINE_NO_FAST_REPLAY), on random logs in binary and CSV form, over
 * machines that defer the sums to the snapshots and machines that flush
 * them after every run of records (a driver VM, a CPU limit, a second
 * trace): every ledger cell of every interval within 1e-9 relative, CPU
 * times to the nanosecond, the same statistics and conservation, and the
 * same diagnostics for bad records; and the replay's busy time without a
 * division (mach_fast_busy_ns) against the division it replaces on random
 * and edge inputs (counts near every rounding boundary).
 */
#define _XOPEN_SOURCE 700 /* nftw (check_tmpdir.h) */

/* the machine's private header (mach_fast_busy_ns) before check.h, whose
 * fail() macro would rename the header's fail() */
#include "sim/machine_int.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "models/ledger.h"
#include "sim/machine.h"
#include "sim/scenario.h"
#include "traces/trc.h"

#define CK_TMP_PREFIX "check_replay_fast"
#include "check_tmpdir.h"

#define N_VMS 3
#define MAX_SNAPS 256
#define REL_TOL 1e-9

static uint64_t rnd_state;

static uint64_t rnd(void)
{
	rnd_state = rnd_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return rnd_state >> 33;
}

static const char *const ctr_names[] = {"tsc", "cycles", "ins", "l2"};
static const char *const vm_names[] = {"a", "b", "c", "idle"};

/* A random context-switch log over n_cpu CPUs, n records, to path (".jvt":
 * binary, else CSV): irregular spans (1 us .. 3 ms, some zero), VMs and
 * the idle vCPU at random, cycles advancing by odd amounts (so the busy
 * time's rounding matters at 2.4 GHz), records of the CPUs interleaved in
 * time order. */
static void write_log(const char *path, int n_cpu, int n, uint64_t seed)
{
	struct trc_writer *w = NULL;
	struct jv_diag d;
	jv_diag_clear(&d);
	ck_assert_int_eq(trc_writer_open(path, TRC_PMC, ctr_names, 4, &w, &d), 0);
	rnd_state = seed;
	int64_t t[64] = {0};
	uint64_t c[64][4] = {{0}};
	for (int i = 0; i < n; i++) {
		/* the CPU whose next switch comes first */
		int cpu = (int)(rnd() % (uint64_t)n_cpu);
		int64_t span = (rnd() % 8 == 0) ? 0 : 1000 + (int64_t)(rnd() % 3000000);
		int64_t at = t[0];
		for (int k = 1; k < n_cpu; k++)
			if (t[k] > at)
				at = t[k];
		t[cpu] = at + span;
		int vm = (int)(rnd() % 4);
		uint64_t cyc = vm == 3 ? 0 : (uint64_t)(span * 12 / 5) - rnd() % 7;
		if (span == 0)
			cyc = 0;
		c[cpu][0] += (uint64_t)span * 12 / 5;
		c[cpu][1] += cyc;
		c[cpu][2] += cyc / 2 + rnd() % 1000;
		c[cpu][3] += rnd() % 500;
		struct trc_pmc p = {.t_ns = t[cpu], .cpu = cpu};
		memcpy(p.ctr, c[cpu], sizeof c[cpu]);
		ck_assert_int_eq(trc_write_pmc(w, &p, vm_names[vm]), 0);
	}
	ck_assert_int_eq(trc_writer_close(w, &d), 0);
}

/* What a run left: every interval's ledger cells, totals, statistics. */
struct result {
	int n_snaps;
	int nc, nd, nv;
	double *iv;   /* n_snaps x cells */
	double *tot;  /* cells */
	double meter[8];
	struct machine_stats st;
	int64_t cpu_ns[N_VMS + 1];
	double hv_idle[N_VMS + 1], hv_active[N_VMS + 1];
	double at_on_j[N_VMS + 1];      /* cpu_active_j_at_on */
	int64_t at_on_ns[N_VMS + 1];    /* cpu_ns_at_on */
	double control[MAX_SNAPS * 4];  /* the manager's measured power per step */
	int n_control;
	double *pw;                     /* power.csv rows: t, device, W */
	size_t n_pw, cap_pw;
	uint64_t violations;
	int rc;
	char msg[JV_DIAG_MAX];
};

static size_t n_cells(const struct ledger *l)
{
	return (size_t)ledger_n_consumers(l) * (size_t)ledger_n_devices(l) *
	       (size_t)ledger_n_via(l) * 2;
}

static void cells(const struct ledger *l, double *out, int interval)
{
	size_t k = 0;
	for (int c = 0; c < ledger_n_consumers(l); c++)
		for (int d = 0; d < ledger_n_devices(l); d++)
			for (int v = 0; v < ledger_n_via(l); v++)
				for (int kind = 0; kind < 2; kind++)
					out[k++] = interval ? ledger_interval(l, c, d, v, kind)
							    : ledger_total(l, c, d, v, kind);
}

static int on_snapshot(void *ctx, int64_t t_ns, const struct ledger *acct,
		       const struct ledger *truth)
{
	struct result *r = ctx;
	(void)t_ns;
	(void)truth;
	ck_assert_int_lt(r->n_snaps, MAX_SNAPS);
	if (!r->iv)
		r->iv = calloc(MAX_SNAPS * n_cells(acct), sizeof *r->iv);
	ck_assert_ptr_nonnull(r->iv);
	cells(acct, r->iv + (size_t)r->n_snaps * n_cells(acct), 1);
	r->n_snaps++;
	return 0;
}

static int on_control(void *ctx, int64_t t_ns, int vm, const char *device, double limit_w,
		      double measured_w, const char *actuator, double value)
{
	struct result *r = ctx;
	(void)t_ns;
	(void)vm;
	(void)device;
	(void)limit_w;
	(void)actuator;
	(void)value;
	if (r->n_control < MAX_SNAPS * 4)
		r->control[r->n_control++] = measured_w;
	return 0;
}

static int on_power(void *ctx, int64_t t_ns, int device, double power_w)
{
	struct result *r = ctx;
	if (r->n_pw + 3 > r->cap_pw) {
		r->cap_pw = r->cap_pw ? 2 * r->cap_pw : 3 * 1024;
		r->pw = realloc(r->pw, r->cap_pw * sizeof *r->pw);
		ck_assert_ptr_nonnull(r->pw);
	}
	r->pw[r->n_pw++] = (double)t_ns;
	r->pw[r->n_pw++] = device;
	r->pw[r->n_pw++] = power_w;
	return 0;
}

static void run(const char *ini, int flags, int power, struct result *r)
{
	memset(r, 0, sizeof *r);
	char sp[512]; /* not from at()'s ring: the log's path lives there */
	snprintf(sp, sizeof sp, "%s/s.ini", base);
	FILE *f = fopen(sp, "w");
	ck_assert_ptr_nonnull(f);
	fputs(ini, f);
	ck_assert_int_eq(fclose(f), 0);
	struct scn *s = NULL;
	struct jv_diag d;
	jv_diag_clear(&d);
	ck_assert_msg(scn_load(sp, NULL, 0, &s, &d) == 0, "scn_load: %s", d.msg);
	struct machine_sink sink = {.ctx = r, .snapshot = on_snapshot, .control = on_control,
				    .power_row = power ? on_power : NULL};
	struct machine *m = NULL;
	r->rc = machine_new(s, flags, &sink, &m, &d);
	if (r->rc == 0)
		r->rc = machine_run(m, &d);
	snprintf(r->msg, sizeof r->msg, "%s", d.msg);
	if (m) {
		const struct ledger *a = machine_acct(m);
		r->nc = ledger_n_consumers(a);
		r->nd = ledger_n_devices(a);
		r->nv = ledger_n_via(a);
		r->tot = calloc(n_cells(a), sizeof *r->tot);
		ck_assert_ptr_nonnull(r->tot);
		cells(a, r->tot, 0);
		for (int i = 0; i < r->nd && i < 8; i++)
			r->meter[i] = ledger_meter_total(a, i);
		r->st = *machine_stats(m);
		for (int i = 0; i < s->n_vms && i <= N_VMS; i++) {
			r->cpu_ns[i] = machine_vm_stats(m, i)->cpu_ns;
			r->hv_idle[i] = machine_vm_stats(m, i)->hv_cpu_idle_j;
			r->hv_active[i] = machine_vm_stats(m, i)->hv_cpu_active_j;
			r->at_on_j[i] = machine_vm_stats(m, i)->cpu_active_j_at_on;
			r->at_on_ns[i] = machine_vm_stats(m, i)->cpu_ns_at_on;
		}
		r->violations = ledger_conservation(a)->violations;
		machine_free(m);
	}
	scn_free(s);
}

static void result_free(struct result *r)
{
	free(r->pw);
	free(r->iv);
	free(r->tot);
}

static void near(double a, double b, const char *what, int i)
{
	double scale = fmax(fabs(a), fabs(b));
	ck_assert_msg(fabs(a - b) <= REL_TOL * scale + 1e-18,
		      "%s %d: fast %.17g, record by record %.17g", what, i, a, b);
}

static void same(const struct result *f, const struct result *g)
{
	ck_assert_int_eq(f->rc, g->rc);
	ck_assert_str_eq(f->msg, g->msg);
	if (f->rc)
		return;
	ck_assert_int_eq(f->n_snaps, g->n_snaps);
	ck_assert_int_gt(f->n_snaps, 2);
	size_t nc = (size_t)f->nc * (size_t)f->nd * (size_t)f->nv * 2;
	int nonzero = 0;
	for (size_t i = 0; i < nc; i++) {
		near(f->tot[i], g->tot[i], "total cell", (int)i);
		nonzero += f->tot[i] != 0.0;
	}
	ck_assert_int_gt(nonzero, 3);
	for (size_t i = 0; i < nc * (size_t)f->n_snaps; i++)
		near(f->iv[i], g->iv[i], "interval cell", (int)i);
	for (int i = 0; i < f->nd && i < 8; i++)
		near(f->meter[i], g->meter[i], "meter", i);
	for (int i = 0; i <= N_VMS; i++) {
		ck_assert_int_eq(f->cpu_ns[i], g->cpu_ns[i]);
		near(f->hv_idle[i], g->hv_idle[i], "hv idle", i);
		near(f->hv_active[i], g->hv_active[i], "hv active", i);
		near(f->at_on_j[i], g->at_on_j[i], "active energy when the limit came", i);
		ck_assert_int_eq(f->at_on_ns[i], g->at_on_ns[i]);
	}
	ck_assert_uint_eq(f->n_pw, g->n_pw);
	for (size_t i = 0; i < f->n_pw; i++)
		near(f->pw[i], g->pw[i], "power.csv value", (int)i);
	ck_assert_int_eq(f->n_control, g->n_control);
	for (int i = 0; i < f->n_control; i++)
		near(f->control[i], g->control[i], "manager's measured power", i);
	ck_assert_uint_eq(f->st.pmc_records, g->st.pmc_records);
	ck_assert_uint_gt(f->st.pmc_records, 0);
	ck_assert_uint_eq(f->st.trace_records, g->st.trace_records);
	ck_assert_uint_eq(f->st.trace_stopped, g->st.trace_stopped);
	ck_assert_uint_eq(f->st.events, g->st.events);
	ck_assert_uint_eq(f->st.snapshots, g->st.snapshots);
	ck_assert_uint_eq(f->st.conservation_violations, g->st.conservation_violations);
	ck_assert_uint_eq(f->violations, g->violations);
	ck_assert_uint_eq(f->violations, 0);
}

#define BASE_INI                                                               \
	"[global]\nduration = %s\nreplay_mode = accounting\n"                  \
	"[machine]\npreset = none\n"                                           \
	"[cpu]\ncount = %d\nfreq = 2.4GHz\ncounters = tsc,cycles,ins,l2\n"     \
	"cycles_counter = cycles\n"                                            \
	"weights = tsc:12.5nJ,cycles:7.25nJ,ins:3.125nJ,l2:40nJ\n"            \
	"idle_policy = %s\npmc_log = %s\n"                                     \
	"[output]\ninterval = 50ms\npower_resolution = 5ms\n"
#define VMS_INI "[vm a]\n[vm b]\n[vm c]\n"

/* One scenario, fast against record by record, without and with a
 * power.csv sink (5 ms bins: records inside one, spanning several, of no
 * length). */
static void compare(const char *ini)
{
	for (int power = 0; power < 2; power++) {
		struct result f, g;
		run(ini, 0, power, &f);
		run(ini, MACHINE_NO_FAST_REPLAY, power, &g);
		same(&f, &g);
		ck_assert_msg(f.rc == 0, "run: %s", f.msg);
		if (power)
			ck_assert_uint_gt(f.n_pw, 300);
		result_free(&f);
		result_free(&g);
	}
}

static const char *const policies[] = {"equal", "utilization", "proportional", "base"};

/* Deferred sums (nothing but snapshots observes them), every idle policy,
 * binary and CSV, one and three CPUs, a run ending before the log does. */
START_TEST(fast_equals_general_deferred)
{
	for (int form = 0; form < 2; form++)
		for (int ncpu = 1; ncpu <= 3; ncpu += 2) {
			const char *log = at(form ? "log.csv" : "log.jvt");
			write_log(log, ncpu, 3000, 77 + (uint64_t)ncpu);
			for (int p = 0; p < 4; p++) {
				char ini[2048];
				snprintf(ini, sizeof ini, BASE_INI VMS_INI,
					 p == 3 ? "700ms" : "5s", ncpu, policies[p], log);
				compare(ini);
			}
		}
}
END_TEST

/* Machines where other events observe the accounted energy between
 * snapshots: a driver VM (under `equal` its share of the idle energy goes
 * to its pool per record), a CPU limit (the manager reads the VM's
 * energy every 100 ms), a second trace. */
START_TEST(fast_equals_general_flushed)
{
	const char *log = at("log.jvt");
	write_log(log, 2, 4000, 5);
	const char *blk = at("blk.csv");
	FILE *f = fopen(blk, "w");
	ck_assert_ptr_nonnull(f);
	fputs("# joulevisor blk v1\nt_ns,vm,op,offset_b,size_b,latency_ns,disk\n", f);
	for (int i = 0; i < 200; i++) /* a request every 13 ms: between snapshots */
		fprintf(f, "%lld,c,%s,%d,4096,-1,disk0\n", 1000000 + 13000000LL * i,
			i % 3 ? "R" : "W", 4096 * i);
	ck_assert_int_eq(fclose(f), 0);
	static const char *const extra[] = {
		VMS_INI "[vm drv]\nkind = driver\nidle_cpu_power = 0W\n"
		"[disk]\nidle_power = 1W\nactive_power = 3W\n",
		"[vm a]\ncpu_limit = 0.001W\n[vm b]\n[vm c]\n",
		"[disk]\nidle_power = 1W\nactive_power = 3W\n"
		"[vm a]\n[vm b]\n[vm drv]\nkind = driver\nidle_cpu_power = 0W\nreq_cpu = 0\n"
		"[vm c]\ntrace = %s\ntrace_mode = accounting\n",
	};
	for (size_t e = 0; e < sizeof extra / sizeof extra[0]; e++)
		for (int p = 0; p < 2; p++) {
			char more[512], ini[4096];
			snprintf(more, sizeof more, extra[e], blk);
			snprintf(ini, sizeof ini, BASE_INI "%s", "3s", 2, policies[p], log, more);
			compare(ini);
		}
}
END_TEST

/* Bad records: the same diagnostic from both paths (unknown VM; a CPU the
 * scenario lacks; records of two CPUs out of global time order). */
START_TEST(fast_errors_same)
{
	static const char *const logs[] = {
		"# joulevisor pmc v1\nt_ns,cpu,vm,tsc,cycles,ins,l2\n"
		"0,0,a,0,0,0,0\n1000,0,b,1000,2000,10,1\n2000,0,zz,2000,4000,20,2\n",
		"# joulevisor pmc v1\nt_ns,cpu,vm,tsc,cycles,ins,l2\n"
		"0,0,a,0,0,0,0\n1000,0,b,1000,2000,10,1\n2000,1,a,2000,4000,20,2\n",
		"# joulevisor pmc v1\nt_ns,cpu,vm,tsc,cycles,ins,l2\n"
		"0,0,a,0,0,0,0\n5000,0,b,1000,2000,10,1\n3000,1,a,2000,4000,20,2\n",
	};
	for (size_t i = 0; i < sizeof logs / sizeof logs[0]; i++)
		for (int form = 0; form < 2; form++) {
			const char *csv = at("bad.csv"), *log = csv;
			FILE *f = fopen(csv, "w");
			ck_assert_ptr_nonnull(f);
			fputs(logs[i], f);
			ck_assert_int_eq(fclose(f), 0);
			if (form) { /* the same records as binary */
				log = at("bad.jvt");
				struct trc_reader *r = NULL;
				struct trc_writer *w = NULL;
				struct jv_diag d;
				jv_diag_clear(&d);
				ck_assert_int_eq(trc_open(csv, "auto", &r, &d), 0);
				ck_assert_int_eq(trc_writer_open(log, TRC_PMC, ctr_names, 4, &w, &d),
						 0);
				struct trc_record rec;
				while (trc_next(r, &rec, &d) == 1)
					ck_assert_int_eq(trc_write_pmc(w, &rec.u.pmc,
								       trc_vm_name(r, rec.u.pmc.vm)),
							 0);
				ck_assert_int_eq(trc_writer_close(w, &d), 0);
				trc_close(r);
			}
			char ini[2048];
			snprintf(ini, sizeof ini, BASE_INI VMS_INI, "1s", i == 2 ? 2 : 1, "equal",
				 log);
			struct result fr, gr;
			run(ini, 0, 0, &fr);
			run(ini, MACHINE_NO_FAST_REPLAY, 0, &gr);
			ck_assert_int_lt(fr.rc, 0);
			ck_assert_int_eq(fr.rc, gr.rc);
			ck_assert_str_eq(fr.msg, gr.msg);
			ck_assert_ptr_nonnull(strstr(fr.msg, i == 0 ? "unknown VM 'zz'"
						       : i == 1 ? "cpu 1 but the scenario has 1"
								: "before the simulated time"));
			result_free(&fr);
			result_free(&gr);
		}
}
END_TEST

/* The byte offset of record k of a binary log (its line). */
static long record_offset(const char *path, int k)
{
	struct trc_reader *r = NULL;
	struct trc_record rec;
	struct jv_diag d;
	jv_diag_clear(&d);
	ck_assert_int_eq(trc_open(path, "auto", &r, &d), 0);
	for (int i = 0; i <= k; i++)
		ck_assert_int_eq(trc_next(r, &rec, &d), 1);
	trc_close(r);
	return rec.line;
}

/* Patch len bytes at off of path. */
static void patch(const char *path, long off, const void *bytes, size_t len)
{
	FILE *f = fopen(path, "r+b");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fseek(f, off, SEEK_SET), 0);
	ck_assert_uint_eq(fwrite(bytes, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

/* Bad records in the middle of what the fast replay takes as one raw run
 * (trc_next_pmc_raw: checked as they are used): a counter or the time
 * going backwards, a CPU out of the reader's range, a VM name defined
 * there that no [vm] takes; and counters at 2^63 and above (valid, beyond
 * the fused test, so the reader checks them one by one). Both paths give
 * the same diagnostic, or the same results. */
START_TEST(fast_errors_mid_run)
{
	static const char *const want[] = {
		"counter goes backwards", "time goes backwards", "cpu: out of range",
		"unknown VM 'zz'", NULL, "before the simulated time",
	};
	const int n = 3000, k = 1500;
	for (int c = 0; c < 6; c++) {
		const char *log = at("mid.jvt");
		if (c == 5) { /* two CPUs; record k (cpu 0) before record k - 1
				* (cpu 1) but after cpu 0's previous one */
			struct trc_writer *w = NULL;
			struct jv_diag d;
			jv_diag_clear(&d);
			ck_assert_int_eq(trc_writer_open(log, TRC_PMC, ctr_names, 4, &w, &d), 0);
			for (int i = 0; i < n; i++) {
				struct trc_pmc p = {.t_ns = i == k ? 1000000LL * (k - 1) - 1 : 1000000LL * i,
						   .cpu = i % 2};
				for (int j = 0; j < 4; j++)
					p.ctr[j] = (uint64_t)i * (2400000u + 7u * (unsigned)j);
				ck_assert_int_eq(trc_write_pmc(w, &p, vm_names[i % 4]), 0);
			}
			ck_assert_int_eq(trc_writer_close(w, &d), 0);
		} else if (c == 3) { /* VM zz from record k on */
			struct trc_writer *w = NULL;
			struct jv_diag d;
			jv_diag_clear(&d);
			ck_assert_int_eq(trc_writer_open(log, TRC_PMC, ctr_names, 4, &w, &d), 0);
			for (int i = 0; i < n; i++) {
				struct trc_pmc p = {.t_ns = 1000000LL * i, .cpu = 0};
				for (int j = 0; j < 4; j++)
					p.ctr[j] = (uint64_t)i * (2400000u + 7u * (unsigned)j);
				ck_assert_int_eq(trc_write_pmc(w, &p, i >= k ? "zz" : vm_names[i % 4]),
						 0);
			}
			ck_assert_int_eq(trc_writer_close(w, &d), 0);
		} else {
			write_log(log, 1, n, 99);
		}
		long off = record_offset(log, k);
		if (c == 0) {
			uint64_t zero = 0; /* ins */
			patch(log, off + 16 + 16, &zero, sizeof zero);
		} else if (c == 1) {
			int64_t t0 = 0;
			patch(log, off + 8, &t0, sizeof t0);
		} else if (c == 2) {
			uint32_t cpu = 5000;
			patch(log, off + 4, &cpu, sizeof cpu);
		} else if (c == 4) {
			/* l2 of records k .. k + 20 near 2^64 (valid, rising;
			 * the fused test leaves them to the reader), then back
			 * to small values: the next lies less than 2^63 above
			 * the last modulo 2^64, still an error */
			long offs[21];
			for (int i = 0; i < 21; i++)
				offs[i] = record_offset(log, k + i) + 16 + 24;
			for (int i = 0; i < 21; i++) {
				uint64_t v = UINT64_MAX - 1000 + (uint64_t)i;
				patch(log, offs[i], &v, sizeof v);
			}
		}
		char ini[2048];
		snprintf(ini, sizeof ini, BASE_INI VMS_INI, "5s", c == 5 ? 2 : 1, "utilization",
			 log);
		struct result fr, gr;
		run(ini, 0, 0, &fr);
		run(ini, MACHINE_NO_FAST_REPLAY, 0, &gr);
		ck_assert_int_lt(fr.rc, 0);
		ck_assert_int_eq(fr.rc, gr.rc);
		ck_assert_str_eq(fr.msg, gr.msg);
		ck_assert_msg(strstr(fr.msg, want[c] ? want[c] : "counter goes backwards"),
			      "case %d: %s", c, fr.msg);
		result_free(&fr);
		result_free(&gr);
	}
}
END_TEST

/* the busy time mach_trace_cpu_account computes for a cycles advance dc */
static int64_t busy_by_division(uint64_t dc, double freq_hz)
{
	return (int64_t)llround((double)dc / freq_hz * 1e9);
}

/* one busy-time case: 1 when mach_fast_busy_ns disagrees */
static int busy_bad(uint64_t dc, double f, uint64_t *shown)
{
	int64_t want = busy_by_division(dc, f), got = mach_fast_busy_ns(dc, f, 1e9 / f);
	if (got == want)
		return 0;
	if ((*shown)++ < 5)
		fprintf(stderr, "busy: dc %" PRIu64 " freq %.17g: %" PRId64 " want %" PRId64 "\n",
			dc, f, got, want);
	return 1;
}

START_TEST(fast_busy_ns_exact)
{
	static const double freqs[] = {1e9,	 2e9,	   2.4e9,	 2.5e9,	      3e9,
				       3.3e9,	 1.7e9 + 1, 999999937.0, 2.5e6,	      7.3e9,
				       1.0,	 3.0,	   123456789.123, 4.7e12,     1e15};
	uint64_t bad = 0, shown = 0, cases = 0;
	rnd_state = 99;
	for (size_t fi = 0; fi < sizeof freqs / sizeof freqs[0] + 40; fi++) {
		/* the listed frequencies, then random ones from 1 MHz to 10 GHz */
		double f = fi < sizeof freqs / sizeof freqs[0]
				   ? freqs[fi]
				   : 1e6 * pow(1e4, (double)rnd() / 2147483648.0) + (double)(rnd() % 1000);
		for (uint64_t dc = 0; dc < 4096; dc++, cases++)
			bad += busy_bad(dc, f, &shown);
		for (int k = 0; k < 20000; k++) {
			/* near a half-integer of busy time: ns + 0.5 back to cycles */
			double ns = (double)(rnd() << (rnd() % 30)) + 0.5;
			double c = ns * f / 1e9;
			if (!(c < 0x1p64 && c >= 0))
				continue;
			uint64_t c0 = (uint64_t)c;
			for (uint64_t j = 0; j < 5; j++, cases++)
				if (c0 + j >= 2)
					bad += busy_bad(c0 + j - 2, f, &shown);
			/* any size: random bits, a random width */
			uint64_t r = (rnd() << 31 ^ rnd()) << 33 ^ (rnd() << 2 ^ rnd());
			bad += busy_bad(r >> (rnd() % 64), f, &shown);
			cases++;
		}
		static const uint64_t edge[] = {UINT64_MAX, UINT64_MAX - 1, (uint64_t)1 << 63,
						((uint64_t)1 << 63) - 1, (uint64_t)1 << 53,
						((uint64_t)1 << 53) + 1, (uint64_t)1 << 47};
		for (size_t e = 0; e < sizeof edge / sizeof edge[0]; e++, cases++)
			bad += busy_bad(edge[e], f, &shown);
	}
	ck_assert_msg(bad == 0, "%" PRIu64 " of %" PRIu64 " busy times differ", bad, cases);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("replay_fast");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, fast_equals_general_deferred);
	tcase_add_test(tc, fast_equals_general_flushed);
	tcase_add_test(tc, fast_errors_same);
	tcase_add_test(tc, fast_errors_mid_run);
	tcase_add_test(tc, fast_busy_ns_exact);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
