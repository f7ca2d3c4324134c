/*
 * check_expr: channel expressions (calib/expr.c): values, precedence,
 * column lookup by header name, quoted name and cN, and errors that point
 * at the character.
 */
#include <check.h>
#include <math.h>
#include <string.h>

#include "calib/expr.h"

static const char *const NAMES[] = {"time", "volts", "amps", "ch1-watt_mW"};
static const double ROW[] = {10.0, 12.0, 0.5, 2500.0};

static const struct {
	const char *text;
	double want;
} VALUES[] = {
	{"1", 1.0},
	{"volts*amps", 6.0},
	{"c2*c3", 6.0},
	{"C2 * C3", 6.0},
	{"1+2*3", 7.0},
	{"(1+2)*3", 9.0},
	{"8/4/2", 1.0},
	{"8-4-2", 2.0},
	{"-2*-3", 6.0},
	{"--1", 1.0},
	{"+1.5e1", 15.0},
	{".5+0.25", 0.75},
	{"2E-3*1000", 2.0},
	{"\"ch1-watt_mW\"/1000", 2.5},
	{"(c2-0.5)/0.133*12 + (c3-0.5)/0.133*12", (11.5 / 0.133 + 0.0) * 12.0},
	{" ( ( time ) ) ", 10.0},
	{"c4/1000 - amps", 2.0},
};

START_TEST(expr_values)
{
	struct cal_expr *e;
	struct jv_diag d = {0};
	int rc = cal_expr_compile(VALUES[_i].text, NAMES, 4, 4, "--channel x", &e, &d);
	ck_assert_msg(rc == 0, "%s: %s", VALUES[_i].text, d.msg);
	ck_assert_double_eq_tol(cal_expr_eval(e, ROW), VALUES[_i].want, 1e-9);
	cal_expr_free(e);
}
END_TEST

static const struct {
	const char *text;
	int err;
	const char *frag; /* must appear in the message */
} ERRORS[] = {
	{"", JV_EPARSE, "at character 1: expression ends"},
	{"1+", JV_EPARSE, "at character 3: expression ends"},
	{"(1+2", JV_EPARSE, "at character 1: unclosed '('"},
	{"(c2-0.5))", JV_EPARSE, "at character 9: unmatched ')'"},
	{"1 2", JV_EPARSE, "at character 3: unexpected '2' (expected an operator)"},
	{"volts*wats", JV_EUNKNOWN, "at character 7: unknown column 'wats'"},
	{"c5", JV_EUNKNOWN, "unknown column 'c5'"},
	{"c0", JV_EUNKNOWN, "unknown column 'c0'"},
	{"2^3", JV_EPARSE, "at character 2: unexpected '^'"},
	{"system(1)", JV_EUNKNOWN, "at character 1: unknown column 'system'"},
	{"c2(1)", JV_EPARSE, "at character 3: unexpected '(' (expected an operator)"},
	{"1e", JV_EPARSE, "at character 3: exponent without digits"},
	{"3x", JV_EPARSE, "at character 2: unexpected 'x' after a number"},
	{"\"amps", JV_EPARSE, "unterminated quoted column name"},
	{"1;2", JV_EPARSE, "at character 2: unexpected ';'"},
	{"1e999", JV_ERANGE, "number out of range"},
	{"a\tb\x01", JV_EPARSE, "control character"},
};

START_TEST(expr_errors)
{
	struct cal_expr *e = NULL;
	struct jv_diag d = {0};
	int rc = cal_expr_compile(ERRORS[_i].text, NAMES, 4, 4, "--channel cpu", &e, &d);
	ck_assert_msg(rc == ERRORS[_i].err, "'%s': rc %d msg %s", ERRORS[_i].text, rc, d.msg);
	ck_assert_ptr_null(e);
	ck_assert_msg(strstr(d.msg, ERRORS[_i].frag), "'%s': message '%s' lacks '%s'",
		      ERRORS[_i].text, d.msg, ERRORS[_i].frag);
	ck_assert_msg(strncmp(d.msg, "--channel cpu: ", 15) == 0, "%s", d.msg);
}
END_TEST

START_TEST(expr_caret_points_at_character)
{
	struct cal_expr *e = NULL;
	struct jv_diag d = {0};
	ck_assert_int_eq(cal_expr_compile("(c2-0.5))", NAMES, 4, 4, "x", &e, &d), JV_EPARSE);
	/* second line is the expression, third the caret under character 9 */
	const char *l2 = strchr(d.msg, '\n');
	ck_assert_ptr_nonnull(l2);
	const char *l3 = strchr(l2 + 1, '\n');
	ck_assert_ptr_nonnull(l3);
	ck_assert_str_eq(l3 + 1, "            ^");
}
END_TEST

START_TEST(expr_headerless_and_division_by_zero)
{
	struct cal_expr *e;
	struct jv_diag d = {0};
	ck_assert_int_eq(cal_expr_compile("c1/c2", NULL, 0, 2, "x", &e, &d), 0);
	double row[] = {1.0, 0.0};
	ck_assert(!isfinite(cal_expr_eval(e, row)));
	ck_assert_int_eq(cal_expr_max_col(e), 1);
	ck_assert(cal_expr_uses(e, 0) && cal_expr_uses(e, 1) && !cal_expr_uses(e, 2));
	cal_expr_free(e);
	/* a header name shadows cN */
	const char *names[] = {"c2", "x"};
	ck_assert_int_eq(cal_expr_compile("c2", names, 2, 2, "x", &e, &d), 0);
	double r2[] = {5.0, 6.0};
	ck_assert_double_eq(cal_expr_eval(e, r2), 5.0);
	cal_expr_free(e);
}
END_TEST

START_TEST(expr_limits)
{
	char deep[400];
	memset(deep, '(', 100);
	deep[100] = '1';
	memset(deep + 101, ')', 100);
	deep[201] = '\0';
	struct cal_expr *e = NULL;
	struct jv_diag d = {0};
	ck_assert_int_eq(cal_expr_compile(deep, NULL, 0, 0, "x", &e, &d), JV_ELIMIT);
	static char longx[CAL_EXPR_MAX_LEN + 10];
	memset(longx, '1', sizeof longx - 1);
	jv_diag_clear(&d);
	ck_assert_int_eq(cal_expr_compile(longx, NULL, 0, 0, "x", &e, &d), JV_ELIMIT);
	char minus[200];
	memset(minus, '-', 150);
	strcpy(minus + 150, "1");
	jv_diag_clear(&d);
	ck_assert_int_eq(cal_expr_compile(minus, NULL, 0, 0, "x", &e, &d), JV_ELIMIT);
}
END_TEST

static Suite *expr_suite(void)
{
	Suite *s = suite_create("expr");
	TCase *tc = tcase_create("core");
	tcase_add_loop_test(tc, expr_values, 0, (int)(sizeof VALUES / sizeof *VALUES));
	tcase_add_loop_test(tc, expr_errors, 0, (int)(sizeof ERRORS / sizeof *ERRORS));
	tcase_add_test(tc, expr_caret_points_at_character);
	tcase_add_test(tc, expr_headerless_and_division_by_zero);
	tcase_add_test(tc, expr_limits);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(expr_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
