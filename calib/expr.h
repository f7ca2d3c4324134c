/*
 * expr: channel expressions of `joulevisor compare`/`calib` meter imports.
 *
 * A channel is a small arithmetic expression over the meter file's columns
 * and constants, e.g. `(c2-0.5)/0.133*12 + (c3-0.5)/0.133*12` or
 * `volts*amps`. Grammar (no other evaluation of any kind):
 *
 *   expr   := term (('+' | '-') term)*
 *   term   := unary (('*' | '/') unary)*
 *   unary  := ('+' | '-') unary | atom
 *   atom   := NUMBER | NAME | '"' any text but '"' '"' | '(' expr ')'
 *   NUMBER := digits [ '.' digits ] [ ('e'|'E') ['+'|'-'] digits ]  (or '.' digits ...)
 *   NAME   := [A-Za-z_][A-Za-z0-9_.]*
 *
 * A NAME (or a quoted name, for headers such as `ch1-watt_mW`) is a column
 * of the file's header; failing that, `cN` (N >= 1) is the Nth column.
 * Errors point at the character: "at character 7: unexpected ')'" followed
 * by the expression and a caret line.
 */
#ifndef JV_CAL_EXPR_H
#define JV_CAL_EXPR_H

#include "base/jv_err.h"

#define CAL_EXPR_MAX_LEN 1024  /* characters in one expression */
#define CAL_EXPR_MAX_DEPTH 64  /* nesting of parentheses and unary signs */

struct cal_expr;

/* Compile text. names[0..n_names) are the header's column names (NULL
 * entries or names = NULL for a headerless file); n_cols is the number of
 * columns a row has (cN must satisfy N <= n_cols; n_cols <= 0: any N).
 * what names the expression in messages ("--channel cpu").
 * Returns 0 or JV_EPARSE/JV_EUNKNOWN/JV_ELIMIT/JV_ENOMEM with d filled. */
int cal_expr_compile(const char *text, const char *const *names, int n_names, int n_cols,
		     const char *what, struct cal_expr **out, struct jv_diag *d);
/* Value for one row (row[k] is column k, 0-based). Division by zero and
 * overflow give a non-finite result; the caller reports it. */
double cal_expr_eval(const struct cal_expr *e, const double *row);
/* The column k when the expression is the column alone (`c2`, `volts`),
 * so its value is row[k] without evaluation; -1 otherwise. */
int cal_expr_column(const struct cal_expr *e);
/* Highest 0-based column the expression reads, -1 if none. */
int cal_expr_max_col(const struct cal_expr *e);
/* 1 if column k is read by the expression. */
int cal_expr_uses(const struct cal_expr *e, int col);
void cal_expr_free(struct cal_expr *e);

#endif
