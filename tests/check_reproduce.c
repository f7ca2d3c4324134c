/*
 * check_reproduce: the readers of run outputs (plots/plot.h), gnuplot string
 * quoting, and `joulevisor reproduce` on fabricated run directories (--no-run):
 * the Figure 5 CSV, the exit status when a number is out of tolerance or a
 * value is missing, usage errors. gnuplot is kept off PATH so that nothing
 * here depends on it (the figures are tested in tests/scenarios/reproduce.sh).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/jv_err.h"
#include "plots/plot.h"
#include "sim/reproduce.h"

static char tmpdir[256];
static char saved_path[8192];

static void setup(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/check_reproduce.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	const char *p = getenv("PATH");
	snprintf(saved_path, sizeof saved_path, "%s", p ? p : "/usr/bin:/bin");
	setenv("PATH", "/nonexistent", 1);
}

static void teardown(void)
{
	char cmd[512];
	setenv("PATH", saved_path, 1);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
}

static const char *write_file(const char *name, const char *text)
{
	static char path[512];
	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
	return path;
}

/* ---- CSV reader --------------------------------------------------------- */

START_TEST(csv_reads_rows_and_numbers)
{
	const char *p = write_file("a.csv", "name,x_w,y_j\r\nalpha,1.5,2\r\nbeta,-3,4e-3\r\n");
	struct plot_tab t;
	struct jv_diag d;
	jv_diag_clear(&d);
	ck_assert_int_eq(plot_tab_load_csv(p, &t, &d), 0);
	ck_assert_int_eq(t.n_cols, 3);
	ck_assert_uint_eq(t.n_rows, 2);
	int c;
	ck_assert_int_eq(plot_tab_col(&t, "y_j", &c, &d), 0);
	ck_assert_int_eq(c, 2);
	ck_assert_str_eq(plot_tab_cell(&t, 1, 0), "beta");
	double v = 0;
	ck_assert_int_eq(plot_tab_num(&t, 1, c, &v, &d), 0);
	ck_assert_double_eq_tol(v, 4e-3, 1e-15);
	ck_assert_int_eq(plot_tab_num(&t, 1, 1, &v, &d), 0);
	ck_assert_double_eq(v, -3.0);
	ck_assert_ptr_null(plot_tab_cell(&t, 2, 0));
	plot_tab_free(&t);
}
END_TEST

static const struct {
	const char *text;
	int err;
	const char *msg; /* fragment */
} CSV_BAD[] = {
	{"", JV_EEMPTY, "empty file"},
	{"a,b,c\n1,2\n", JV_EPARSE, ":2: expected 3 fields, found 2"},
	{"a,b\n1,2\n3,4,5\n", JV_EPARSE, ":3: expected 2 fields, found 3"},
};

START_TEST(csv_rejects_bad_files)
{
	const char *p = write_file("bad.csv", CSV_BAD[_i].text);
	struct plot_tab t;
	struct jv_diag d;
	jv_diag_clear(&d);
	ck_assert_int_eq(plot_tab_load_csv(p, &t, &d), CSV_BAD[_i].err);
	ck_assert_msg(strstr(d.msg, CSV_BAD[_i].msg), "message '%s' lacks '%s'", d.msg,
		      CSV_BAD[_i].msg);
	ck_assert_ptr_null(t.buf);
}
END_TEST

START_TEST(csv_missing_file_and_values_are_errors)
{
	struct plot_tab t;
	struct jv_diag d;
	char p[512];
	snprintf(p, sizeof p, "%s/nope.csv", tmpdir);
	jv_diag_clear(&d);
	ck_assert_int_eq(plot_tab_load_csv(p, &t, &d), JV_ENOENT);
	ck_assert_ptr_nonnull(strstr(d.msg, "cannot open"));

	const char *q = write_file("v.csv", "a,b\n1,\n2,x1\n");
	jv_diag_clear(&d);
	ck_assert_int_eq(plot_tab_load_csv(q, &t, &d), 0);
	int c = 0;
	ck_assert_int_eq(plot_tab_col(&t, "nope", &c, &d), JV_EPARSE);
	ck_assert_ptr_nonnull(strstr(d.msg, "missing column 'nope'"));
	double v;
	jv_diag_clear(&d);
	ck_assert_int_eq(plot_tab_num(&t, 0, 1, &v, &d), JV_EPARSE);
	ck_assert_ptr_nonnull(strstr(d.msg, "v.csv:2: b: empty value"));
	jv_diag_clear(&d);
	ck_assert_int_eq(plot_tab_num(&t, 1, 1, &v, &d), JV_EPARSE);
	ck_assert_ptr_nonnull(strstr(d.msg, "v.csv:3: b: not a number 'x1'"));
	plot_tab_free(&t);
}
END_TEST

/* ---- key: value reader ---------------------------------------------------- */

START_TEST(kv_reads_summary_style_files)
{
	const char *p = write_file("s.txt", "# joulevisor run summary\n"
					    "scenario: fig5\n"
					    "\n"
					    "duration_ns: 10000000000\n"
					    "vm_drv_idle_cpu_w: 7.995 (auto: measured by a no-client probe)\n"
					    "empty:\n"
					    "word: yes\n");
	struct plot_tab t;
	struct jv_diag d;
	jv_diag_clear(&d);
	ck_assert_int_eq(plot_tab_load_kv(p, &t, &d), 0);
	ck_assert_uint_eq(t.n_rows, 5);
	double v = 0;
	ck_assert_int_eq(plot_kv_num(&t, "duration_ns", &v, &d), 0);
	ck_assert_double_eq(v, 1e10);
	ck_assert_int_eq(plot_kv_num(&t, "vm_drv_idle_cpu_w", &v, &d), 0);
	ck_assert_double_eq_tol(v, 7.995, 1e-12);
	ck_assert_str_eq(plot_kv_str(&t, "scenario"), "fig5");
	ck_assert_str_eq(plot_kv_str(&t, "empty"), "");
	ck_assert_ptr_null(plot_kv_str(&t, "nope"));
	jv_diag_clear(&d);
	ck_assert_int_eq(plot_kv_num(&t, "nope", &v, &d), JV_EPARSE);
	ck_assert_ptr_nonnull(strstr(d.msg, "missing key 'nope'"));
	jv_diag_clear(&d);
	ck_assert_int_eq(plot_kv_num(&t, "word", &v, &d), JV_EPARSE);
	ck_assert_ptr_nonnull(strstr(d.msg, "s.txt:7: word: not a number 'yes'"));
	plot_tab_free(&t);

	const char *q = write_file("bad.txt", "a: 1\nno colon here\n");
	jv_diag_clear(&d);
	ck_assert_int_eq(plot_tab_load_kv(q, &t, &d), JV_EPARSE);
	ck_assert_ptr_nonnull(strstr(d.msg, "bad.txt:2: expected 'key: value'"));
}
END_TEST

START_TEST(gp_quote_doubles_quotes)
{
	char buf[16];
	ck_assert_str_eq(plot_gp_quote("a'b", buf, sizeof buf), "'a''b'");
	ck_assert_str_eq(plot_gp_quote("", buf, sizeof buf), "''");
	ck_assert_ptr_null(plot_gp_quote("0123456789abcdef", buf, sizeof buf));
}
END_TEST

/* ---- reproduce on fabricated runs -------------------------------------------- */

/* a Figure 5 run directory: 10 s, the cells given in watts */
static void fake_fig5(const char *dir, double vdisk1_disk_idle_w, int with_hyp)
{
	char p[512], text[2048];
	snprintf(p, sizeof p, "%s/%s", tmpdir, dir);
	ck_assert_int_eq(mkdir(p, 0777), 0);
	snprintf(p, sizeof p, "%s/%s/runs", tmpdir, dir);
	ck_assert_int_eq(mkdir(p, 0777), 0);
	snprintf(p, sizeof p, "%s/%s/runs/fig5-matrix", tmpdir, dir);
	ck_assert_int_eq(mkdir(p, 0777), 0);
	snprintf(p, sizeof p, "%s/runs/fig5-matrix/summary.txt", dir);
	snprintf(text, sizeof text, "duration_ns: 10000000000\n%s",
		 with_hyp ? "vm_drv_hypervisor_view_cpu_idle_w: 6\n"
			    "vm_drv_hypervisor_view_cpu_active_w: 12.0004\n"
			  : "");
	write_file(p, text);
	snprintf(p, sizeof p, "%s/runs/fig5-matrix/matrix.csv", dir);
	snprintf(text, sizeof text,
		 "consumer,device,via,idle_j,active_j,total_j,mean_w\n"
		 "unattributed,cpu0,drv,0,0.05,0.05,0.005\n"
		 "vdisk1,cpu0,direct,60,0,60,6\n"
		 "vdisk1,cpu0,drv,40,39.98,79.98,7.998\n"
		 "vdisk1,disk0,drv,%g,20,50,5\n"
		 "vdisk2,cpu0,direct,60,0,60,6\n"
		 "vdisk2,cpu0,drv,40,59.97,99.97,9.997\n"
		 "vdisk2,disk0,drv,30,30,60,6\n",
		 vdisk1_disk_idle_w * 10);
	write_file(p, text);
}

static int repro_fig5(const char *dir, char *errbuf, size_t cap)
{
	char out_dir[512];
	snprintf(out_dir, sizeof out_dir, "%s/%s", tmpdir, dir);
	struct repro_opts o = {.figs = REPRO_FIG5, .out_dir = out_dir, .jobs = 1, .no_run = 1};
	FILE *out = tmpfile(), *err = tmpfile();
	ck_assert_ptr_nonnull(out);
	ck_assert_ptr_nonnull(err);
	int rc = repro_main(&o, out, err);
	rewind(err);
	size_t n = fread(errbuf, 1, cap - 1, err);
	errbuf[n] = '\0';
	fclose(out);
	fclose(err);
	return rc;
}

static void slurp(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	size_t n = fread(buf, 1, cap - 1, f);
	buf[n] = '\0';
	fclose(f);
}

START_TEST(reproduce_fig5_within_tolerance)
{
	char err[4096], p[512], csv[2048];
	fake_fig5("ok", 3.0, 1);
	ck_assert_int_eq(repro_fig5("ok", err, sizeof err), 0);
	ck_assert_msg(strstr(err, "figures skipped: gnuplot was not found"), "stderr: %s", err);
	snprintf(p, sizeof p, "%s/ok/fig5.csv", tmpdir);
	slurp(p, csv, sizeof csv);
	ck_assert_str_eq(csv, "view,consumer,device,idle_w,active_w\n"
			      "driver,vdisk1,disk0,3,2\n"
			      "driver,vdisk2,disk0,3,3\n"
			      "driver,vdisk1,cpu0,4,3.998\n"
			      "driver,vdisk2,cpu0,4,5.997\n"
			      "hypervisor,drv,cpu0,6,12.0004\n");
	snprintf(p, sizeof p, "%s/ok/report.md", tmpdir);
	char rep[16384];
	slurp(p, rep, sizeof rep);
	ck_assert_ptr_nonnull(strstr(rep, "**10 of 10 checks within tolerance.**"));
	ck_assert_ptr_nonnull(strstr(rep, "| vdisk2, CPU (driver VM), active | 6 W | 5.997 W | -0.003 W | ±0.3 W | yes |"));
	ck_assert_ptr_null(strstr(rep, "**NO**"));
}
END_TEST

START_TEST(reproduce_out_of_tolerance_exits_1)
{
	char err[4096], p[512], rep[16384];
	fake_fig5("off", 3.31, 1); /* 0.31 W off, tolerance 0.3 W */
	ck_assert_int_eq(repro_fig5("off", err, sizeof err), 1);
	ck_assert_msg(strstr(err, "out of tolerance: fig5: vdisk1, disk, idle: 3.31 W (paper 3 W, "
				  "tolerance ±0.3 W)"),
		      "stderr: %s", err);
	snprintf(p, sizeof p, "%s/off/report.md", tmpdir);
	slurp(p, rep, sizeof rep);
	ck_assert_ptr_nonnull(strstr(rep, "**9 of 10 checks within tolerance.**"));
	ck_assert_ptr_nonnull(strstr(rep, "| vdisk1, disk, idle | 3 W | 3.31 W | +0.31 W | ±0.3 W | **NO** |"));
}
END_TEST

START_TEST(reproduce_missing_value_is_an_input_error)
{
	char err[4096];
	fake_fig5("miss", 3.0, 0);
	ck_assert_int_eq(repro_fig5("miss", err, sizeof err), 2);
	ck_assert_msg(strstr(err, "summary.txt: missing key 'vm_drv_hypervisor_view_cpu_idle_w'"),
		      "stderr: %s", err);
	char p[512];
	snprintf(p, sizeof p, "%s/miss/fig5.csv", tmpdir);
	ck_assert_int_ne(access(p, F_OK), 0); /* no half-written figure file */
}
END_TEST

static const struct {
	const char *args[4];
	int rc;
	const char *msg;
} CLI_CASES[] = {
	{{"reproduce", "fig6"}, 2, "unknown figure 'fig6'"},
	{{"reproduce", "-j", "0"}, 2, "expected a number of jobs"},
	{{"reproduce", "-j"}, 2, "option -j needs a value"},
	{{"reproduce", "--bogus"}, 2, "unknown option '--bogus'"},
};

START_TEST(reproduce_usage_errors)
{
	int argc = 0;
	char *argv[5] = {0};
	while (argc < 4 && CLI_CASES[_i].args[argc])
		argv[argc] = (char *)CLI_CASES[_i].args[argc], argc++;
	FILE *out = tmpfile(), *err = tmpfile();
	ck_assert_int_eq(repro_cli(argc, argv, out, err), CLI_CASES[_i].rc);
	char buf[1024];
	rewind(err);
	size_t n = fread(buf, 1, sizeof buf - 1, err);
	buf[n] = '\0';
	ck_assert_msg(strstr(buf, CLI_CASES[_i].msg), "stderr '%s' lacks '%s'", buf, CLI_CASES[_i].msg);
	fclose(out);
	fclose(err);
}
END_TEST

START_TEST(plot_usage_errors)
{
	char *a1[] = {"plot", NULL};
	char *a2[] = {"plot", "/nonexistent-run-dir", NULL};
	char *a3[] = {"plot", "--help", NULL};
	FILE *out = tmpfile(), *err = tmpfile();
	ck_assert_int_eq(plot_cli(1, a1, out, err), 2);
	ck_assert_int_eq(plot_cli(2, a2, out, err), 2);
	ck_assert_int_eq(plot_cli(2, a3, out, err), 0);
	/* without gnuplot a run directory is not an error: the figures are skipped */
	char *a4[] = {"plot", tmpdir, NULL};
	ck_assert_int_eq(plot_cli(2, a4, out, err), 0);
	char buf[2048];
	rewind(err);
	size_t n = fread(buf, 1, sizeof buf - 1, err);
	buf[n] = '\0';
	ck_assert_ptr_nonnull(strstr(buf, "figures skipped"));
	fclose(out);
	fclose(err);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("reproduce");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, csv_reads_rows_and_numbers);
	tcase_add_loop_test(tc, csv_rejects_bad_files, 0, sizeof CSV_BAD / sizeof CSV_BAD[0]);
	tcase_add_test(tc, csv_missing_file_and_values_are_errors);
	tcase_add_test(tc, kv_reads_summary_style_files);
	tcase_add_test(tc, gp_quote_doubles_quotes);
	tcase_add_test(tc, reproduce_fig5_within_tolerance);
	tcase_add_test(tc, reproduce_out_of_tolerance_exits_1);
	tcase_add_test(tc, reproduce_missing_value_is_an_input_error);
	tcase_add_loop_test(tc, reproduce_usage_errors, 0, sizeof CLI_CASES / sizeof CLI_CASES[0]);
	tcase_add_test(tc, plot_usage_errors);
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
