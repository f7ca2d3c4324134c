/*
 * check_regress: `joulevisor regress` (sim/regress.c): the thresholds file,
 * rule lookup, the direction-aware comparison (table-driven), and the CLI
 * on metrics CSV files: matching by point, --ignore-override, missing
 * points and metrics, sorting by severity, the report, exit codes.
 */
#define _XOPEN_SOURCE 700 /* nftw */

#include <check.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/jv_err.h"
#include "sim/regress.h"

#define CK_TMP_PREFIX "check_regress"
#include "check_tmpdir.h"

/* ---- thresholds ----------------------------------------------------------------- */

START_TEST(test_parse_thresholds)
{
	struct rg_rule *r;
	int n;
	struct jv_diag d;
	jv_diag_clear(&d);
	spit(at("t.txt"), "# comment\n\n"
			  "limit_*_settling_time_s  lower abs=0.5 rel=10%  # trailing\n"
			  "  vm_*_throughput_bytes_per_s higher rel=0.02\n"
			  "duration_s equal\n"
			  "x zero abs=1e-3\n"
			  "y info\ny2 ignore\n");
	ck_assert_int_eq(regress_parse_thresholds(at("t.txt"), &r, &n, &d), 0);
	ck_assert_int_eq(n, 6);
	ck_assert_str_eq(r[0].pattern, "limit_*_settling_time_s");
	ck_assert_int_eq(r[0].better, RG_LOWER);
	ck_assert_double_eq(r[0].abs_tol, 0.5);
	ck_assert_double_eq_tol(r[0].rel_tol, 0.10, 1e-15);
	ck_assert_int_eq(r[1].better, RG_HIGHER);
	ck_assert_double_eq(r[1].rel_tol, 0.02);
	ck_assert_int_eq(r[2].better, RG_EQUAL);
	ck_assert_int_eq(r[3].better, RG_ZERO);
	ck_assert_int_eq(r[4].better, RG_INFO);
	ck_assert_int_eq(r[5].better, RG_IGNORE);
	ck_assert_ptr_nonnull(strstr(r[0].origin, "t.txt:3"));
	free(r);

	static const struct {
		const char *text, *msg;
		int err;
	} bad[] = {
		{"a\n", "t.txt:1: expected 'PATTERN BETTER", JV_EPARSE},
		{"\n\na lowest\n", "t.txt:3: better: unknown direction 'lowest'", JV_EPARSE},
		{"a lower abs=-1\n", "t.txt:1: abs: want a non-negative number", JV_ERANGE},
		{"a lower rel=x%\n", "t.txt:1: rel: want a non-negative number", JV_ERANGE},
		{"a lower tol=1\n", "t.txt:1: unknown field 'tol=1'", JV_EPARSE},
		{"a lower abs=1 rel=1 abs=2 x\n", "t.txt:1: expected 'PATTERN BETTER", JV_EPARSE},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		spit(at("t.txt"), bad[i].text);
		jv_diag_clear(&d);
		ck_assert_int_eq(regress_parse_thresholds(at("t.txt"), &r, &n, &d), bad[i].err);
		ck_assert_msg(strstr(d.msg, bad[i].msg) != NULL, "case %zu: %s", i, d.msg);
		ck_assert_ptr_null(r);
	}
	jv_diag_clear(&d);
	ck_assert_int_eq(regress_parse_thresholds(at("none.txt"), &r, &n, &d), JV_ENOENT);
}
END_TEST

START_TEST(test_rule_lookup)
{
	struct rg_rule mine[] = {
		{"limit_a_*", RG_HIGHER, 0, 0, "f:1"},
		{"limit_*", RG_EQUAL, 0, 0, "f:2"},
	};
	ck_assert_str_eq(regress_rule_for(mine, 2, "limit_a_disk_overshoot_pct")->origin, "f:1");
	ck_assert_str_eq(regress_rule_for(mine, 2, "limit_b_disk_overshoot_pct")->origin, "f:2");
	/* defaults after the file's rules */
	static const struct {
		const char *metric;
		enum rg_better better;
	} def[] = {
		{"limit_c_disk_settling_time_s", RG_LOWER},
		{"limit_c_disk_settling_time_5pct_s", RG_LOWER},
		{"limit_c_cpu_overshoot_pct", RG_LOWER},
		{"limit_c_disk_steady_state_error_pct", RG_ZERO},
		{"limit_c_disk_time_above_limit_s", RG_LOWER},
		{"limit_c_disk_violations", RG_LOWER},
		{"limit_c_disk_throughput_loss_pct", RG_LOWER},
		{"accounting_error_max_abs_pct", RG_LOWER},
		{"accounting_error_max_abs_j", RG_LOWER},
		{"conservation_max_residual_j", RG_LOWER},
		{"vm_c_throughput_bytes_per_s", RG_HIGHER},
		{"vm_c_cpu_share", RG_HIGHER},
		{"duration_s", RG_EQUAL},
		{"energy_j", RG_INFO},
	};
	for (size_t i = 0; i < sizeof def / sizeof def[0]; i++)
		ck_assert_msg(regress_rule_for(NULL, 0, def[i].metric)->better == def[i].better, "%s",
			      def[i].metric);
}
END_TEST

START_TEST(test_compare_table)
{
	static const struct {
		enum rg_better better;
		double abs_tol, rel_tol;
		const char *metric;
		double base, cand;
		enum rg_verdict want;
		double worse, tol;
	} cases[] = {
		/* lower is better, absolute threshold */
		{RG_LOWER, 1, 0, "m", 5, 5, RG_SAME, 0, 1},
		{RG_LOWER, 1, 0, "m", 5, 6, RG_WITHIN, 1, 1},    /* exactly the threshold: ok */
		{RG_LOWER, 1, 0, "m", 5, 6.5, RG_REGRESSED, 1.5, 1},
		{RG_LOWER, 1, 0, "m", 5, 3, RG_IMPROVED, -2, 1},
		/* relative threshold, the larger of the two wins */
		{RG_LOWER, 0.1, 0.10, "m", 100, 109, RG_WITHIN, 9, 10},
		{RG_LOWER, 0.1, 0.10, "m", 100, 111, RG_REGRESSED, 11, 10},
		{RG_LOWER, 0.1, 0.10, "m", 0, 0.2, RG_REGRESSED, 0.2, 0.1},
		/* higher is better */
		{RG_HIGHER, 0, 0.02, "tp", 100, 97, RG_REGRESSED, 3, 2},
		{RG_HIGHER, 0, 0.02, "tp", 100, 99, RG_WITHIN, 1, 2},
		{RG_HIGHER, 0, 0.02, "tp", 100, 110, RG_IMPROVED, -10, 2},
		/* zero: signed errors */
		{RG_ZERO, 0.5, 0, "e", -1, 1, RG_SAME + 1, 0, 0.5}, /* |-1| == |1|: within */
		{RG_ZERO, 0.5, 0, "e", -1, 2, RG_REGRESSED, 1, 0.5},
		{RG_ZERO, 0.5, 0, "e", -3, 0.1, RG_IMPROVED, -2.9, 0.5},
		/* equal: any change past the threshold, either way */
		{RG_EQUAL, 0, 0, "duration_s", 10, 11, RG_REGRESSED, 1, 0},
		{RG_EQUAL, 0, 0, "duration_s", 10, 9, RG_REGRESSED, 1, 0},
		/* info never regresses */
		{RG_INFO, 0, 0, "x", 1, 100, RG_WITHIN, 99, 0},
		/* settling time: -1 is never */
		{RG_LOWER, 0.2, 0, "limit_c_disk_settling_time_s", 1.4, -1, RG_REGRESSED, INFINITY, 0.2},
		{RG_LOWER, 0.2, 0, "limit_c_disk_settling_time_s", -1, 1.4, RG_IMPROVED, -INFINITY, 0.2},
		{RG_LOWER, 0.2, 0, "limit_c_disk_settling_time_s", -1, -1, RG_SAME, 0, 0.2},
		{RG_LOWER, 0.2, 0.1, "limit_c_disk_settling_time_5pct_s", -1, 3, RG_IMPROVED, -INFINITY,
		 0.2},
		/* -1 is only special for settling times */
		{RG_LOWER, 0.2, 0, "other_s", 1.4, -1, RG_IMPROVED, -2.4, 0.2},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct rg_rule r = {"*", cases[i].better, cases[i].abs_tol, cases[i].rel_tol, "t"};
		double worse, tol;
		enum rg_verdict v = regress_compare(&r, cases[i].metric, cases[i].base, cases[i].cand,
						    &worse, &tol);
		ck_assert_msg(v == cases[i].want, "case %zu: verdict %d want %d", i, v, cases[i].want);
		if (isinf(cases[i].worse))
			ck_assert_msg(isinf(worse) && (worse > 0) == (cases[i].worse > 0),
				      "case %zu: worse %g", i, worse);
		else
			ck_assert_msg(fabs(worse - cases[i].worse) < 1e-9, "case %zu: worse %g want %g",
				      i, worse, cases[i].worse);
		ck_assert_msg(fabs(tol - cases[i].tol) < 1e-12, "case %zu: tol %g", i, tol);
	}
}
END_TEST

/* ---- the CLI on metrics CSV ---------------------------------------------------------- */

static const char HDR[] = "run_id,scenario,seed,status,point_key,overrides,name,value,unit\n";

static int regress(const char *args, char **out_text, char **err_text)
{
	static char buf[4096];
	char *argv[64];
	int argc = 0;
	size_t ol = 0, el = 0;
	snprintf(buf, sizeof buf, "regress %s", args);
	for (char *t = strtok(buf, " "); t && argc < 63; t = strtok(NULL, " "))
		argv[argc++] = t;
	argv[argc] = NULL;
	FILE *o = open_memstream(out_text, &ol), *e = open_memstream(err_text, &el);
	int rc = regress_cli(argc, argv, o, e);
	fclose(o);
	fclose(e);
	return rc;
}

static void two_points(const char *path, double settle_a, double tp_b, const char *b_over)
{
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(HDR, f);
	fprintf(f, "1,s,1,complete,,a=1,limit_c_disk_settling_time_s,%.17g,s\n", settle_a);
	fprintf(f, "1,s,1,complete,,a=1,duration_s,10,s\n");
	fprintf(f, "2,s,1,complete,,%s,vm_c_throughput_bytes_per_s,%.17g,B/s\n", b_over, tp_b);
	fprintf(f, "2,s,1,complete,,%s,limit_c_disk_overshoot_pct,1,%%\n", b_over);
	fprintf(f, "3,s,1,incomplete,,a=9,limit_c_disk_overshoot_pct,1,%%\n"); /* ignored */
	fclose(f);
}

START_TEST(test_cli_exit_codes_and_sorting)
{
	char *out, *err, args[2048];
	two_points(at("base.csv"), 1.0, 1000, "a=2");
	/* identical: exit 0, nothing listed */
	two_points(at("same.csv"), 1.0, 1000, "a=2");
	snprintf(args, sizeof args, "--baseline %s --candidate %s", at("base.csv"), at("same.csv"));
	ck_assert_int_eq(regress(args, &out, &err), 0);
	ck_assert_ptr_nonnull(strstr(out, "2 point(s) matched (0 only in the baseline, 0 only in "
					  "the candidate), 4 metric(s) compared: 0 regression(s)"));
	ck_assert_ptr_nonnull(strstr(out, "regress: ok"));
	free(out);
	free(err);
	/* settling never (inf) and throughput -50%: both regress, never first */
	two_points(at("worse.csv"), -1, 500, "a=2");
	snprintf(args, sizeof args, "--baseline %s --candidate %s --report %s", at("base.csv"),
		 at("worse.csv"), at("r.md"));
	ck_assert_int_eq(regress(args, &out, &err), 3);
	char *l1 = strchr(out, '\n') + 1, *l2 = strchr(l1, '\n') + 1;
	ck_assert(strncmp(l1, "REGRESSION      inf  limit_c_disk_settling_time_s", 49) == 0);
	ck_assert(strncmp(l2, "REGRESSION", 10) == 0);
	ck_assert_ptr_nonnull(strstr(l2, "vm_c_throughput_bytes_per_s"));
	ck_assert_ptr_nonnull(strstr(l1, "-> never"));
	ck_assert_ptr_nonnull(strstr(out, "regress: REGRESSION"));
	free(out);
	free(err);
	char *md = slurp(at("r.md"));
	ck_assert_ptr_nonnull(strstr(md, "## Regressions (2)"));
	ck_assert_ptr_nonnull(strstr(md, "Skipped: figures need both inputs as databases"));
	ck_assert_ptr_nonnull(strstr(md, "| *_overshoot_pct | lower | 1 | 0% | default |"));
	free(md);
	/* a stricter file rule makes a small change a regression */
	two_points(at("slower.csv"), 1.1, 1000, "a=2");
	snprintf(args, sizeof args, "--baseline %s --candidate %s", at("base.csv"), at("slower.csv"));
	ck_assert_int_eq(regress(args, &out, &err), 0); /* default: 0.2 s */
	ck_assert_ptr_nonnull(strstr(out, "worse"));
	free(out);
	free(err);
	spit(at("t.txt"), "*settling_time* lower abs=0.05\n");
	snprintf(args, sizeof args, "--baseline %s --candidate %s --thresholds %s", at("base.csv"),
		 at("slower.csv"), at("t.txt"));
	ck_assert_int_eq(regress(args, &out, &err), 3);
	free(out);
	free(err);
}
END_TEST

START_TEST(test_cli_matching)
{
	char *out, *err, args[2048];
	two_points(at("base.csv"), 1.0, 1000, "a=2");
	/* candidate point b moved to a=3: missing in the candidate, new there */
	two_points(at("moved.csv"), 1.0, 1000, "a=3");
	snprintf(args, sizeof args, "--baseline %s --candidate %s", at("base.csv"), at("moved.csv"));
	ck_assert_int_eq(regress(args, &out, &err), 3);
	ck_assert_ptr_nonnull(strstr(out, "MISSING"));
	ck_assert_ptr_nonnull(strstr(out, "(point not in candidate)"));
	ck_assert_ptr_nonnull(strstr(out, "(point only in candidate)"));
	ck_assert_ptr_nonnull(strstr(out, "1 point(s) matched (1 only in the baseline, 1 only"));
	free(out);
	free(err);
	snprintf(args, sizeof args, "--baseline %s --candidate %s --allow-missing", at("base.csv"),
		 at("moved.csv"));
	ck_assert_int_eq(regress(args, &out, &err), 0);
	free(out);
	free(err);
	/* --ignore-override a: both sides collapse two points into one: ambiguous */
	snprintf(args, sizeof args, "--baseline %s --candidate %s --ignore-override a",
		 at("base.csv"), at("moved.csv"));
	ck_assert_int_eq(regress(args, &out, &err), 2);
	ck_assert_ptr_nonnull(strstr(err, "match the same point after --ignore-override"));
	free(out);
	free(err);
	/* across a change of one option */
	spit(at("g1.csv"), "run_id,scenario,seed,status,point_key,overrides,name,value,unit\n"
			   "1,s,1,complete,,gain=1 x=1,m_overshoot_pct,1,%\n");
	spit(at("g2.csv"), "run_id,scenario,seed,status,point_key,overrides,name,value,unit\n"
			   "4,s,1,complete,,gain=2 x=1,m_overshoot_pct,5,%\n");
	snprintf(args, sizeof args, "--baseline %s --candidate %s", at("g1.csv"), at("g2.csv"));
	ck_assert_int_eq(regress(args, &out, &err), 2); /* nothing in common */
	ck_assert_ptr_nonnull(strstr(err, "nothing to compare"));
	free(out);
	free(err);
	snprintf(args, sizeof args, "--baseline %s --candidate %s --ignore-override gain",
		 at("g1.csv"), at("g2.csv"));
	ck_assert_int_eq(regress(args, &out, &err), 3);
	ck_assert_ptr_nonnull(strstr(out, "s seed=1 x=1"));
	free(out);
	free(err);
	/* two runs of one point: the latest counts, with a note */
	spit(at("twice.csv"), "run_id,scenario,seed,status,point_key,overrides,name,value,unit\n"
			      "1,s,1,complete,,x=1,m_overshoot_pct,9,%\n"
			      "2,s,1,complete,,x=1,m_overshoot_pct,1,%\n");
	spit(at("one.csv"), "run_id,scenario,seed,status,point_key,overrides,name,value,unit\n"
			    "7,s,1,complete,,x=1,m_overshoot_pct,1,%\n");
	snprintf(args, sizeof args, "--baseline %s --candidate %s", at("twice.csv"), at("one.csv"));
	ck_assert_int_eq(regress(args, &out, &err), 0);
	ck_assert_ptr_nonnull(strstr(err, "comparing the latest (run 2)"));
	free(out);
	free(err);
	/* a metric gone from the candidate */
	spit(at("less.csv"), "run_id,scenario,seed,status,point_key,overrides,name,value,unit\n"
			     "1,s,1,complete,,x=1,other,1,\n");
	snprintf(args, sizeof args, "--baseline %s --candidate %s", at("one.csv"), at("less.csv"));
	ck_assert_int_eq(regress(args, &out, &err), 3);
	ck_assert_ptr_nonnull(strstr(out, "MISSING"));
	ck_assert_ptr_nonnull(strstr(out, "new "));
	free(out);
	free(err);
}
END_TEST

START_TEST(test_cli_bad_input)
{
	char *out, *err, args[2048];
	static const struct {
		const char *csv, *msg;
	} bad[] = {
		{"", "empty file"},
		{"a,b\n", ":1: expected 9 fields, found 2"},
		{"run_id,scenario,seed,status,point_key,overrides,name,value,units\n",
		 ":1: header: column 9: expected 'unit', found 'units'"},
		{"run_id,scenario,seed,status,point_key,overrides,name,value,unit\n"
		 "x,s,1,complete,,,m,1,\n",
		 ":2: run_id: not an integer 'x'"},
		{"run_id,scenario,seed,status,point_key,overrides,name,value,unit\n"
		 "1,s,1,complete,,,m,abc,\n",
		 ":2: value: not a number 'abc'"},
		{"run_id,scenario,seed,status,point_key,overrides,name,value,unit\n"
		 "2,s,1,complete,,,m,1,\n1,s,1,complete,,,m,1,\n",
		 ":3: run_id: rows must be ordered by run_id"},
		{"run_id,scenario,seed,status,point_key,overrides,name,value,unit\n"
		 "1,s,1,complete,,\"unterminated,m,1,\n",
		 "malformed CSV"},
	};
	spit(at("ok.csv"), "run_id,scenario,seed,status,point_key,overrides,name,value,unit\n"
			   "1,s,1,complete,,,m,1,\n");
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		spit(at("bad.csv"), bad[i].csv);
		snprintf(args, sizeof args, "--baseline %s --candidate %s", at("bad.csv"), at("ok.csv"));
		ck_assert_int_eq(regress(args, &out, &err), 2);
		ck_assert_msg(strstr(err, bad[i].msg) != NULL, "case %zu: %s", i, err);
		free(out);
		free(err);
	}
	ck_assert_int_eq(regress("--baseline x", &out, &err), 2);
	ck_assert_ptr_nonnull(strstr(err, "--baseline and --candidate are required"));
	free(out);
	free(err);
	ck_assert_int_eq(regress("--frob", &out, &err), 2);
	free(out);
	free(err);
	ck_assert_int_eq(regress("--help", &out, &err), 0);
	ck_assert_ptr_nonnull(strstr(out, "--ignore-override"));
	free(out);
	free(err);
	/* an unwritable report is a runtime failure */
	snprintf(args, sizeof args, "--baseline %s --candidate %s --report %s", at("ok.csv"),
		 at("ok.csv"), at("no/such/dir/r.md"));
	ck_assert_int_eq(regress(args, &out, &err), 1);
	free(out);
	free(err);
}
END_TEST

static Suite *regress_suite(void)
{
	Suite *s = suite_create("regress");
	TCase *tc = tcase_create("regress");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_parse_thresholds);
	tcase_add_test(tc, test_rule_lookup);
	tcase_add_test(tc, test_compare_table);
	tcase_add_test(tc, test_cli_exit_codes_and_sorting);
	tcase_add_test(tc, test_cli_matching);
	tcase_add_test(tc, test_cli_bad_input);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(regress_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
