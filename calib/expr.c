/*
 * expr: compile and evaluate channel expressions (grammar in expr.h).
 *
 * Problem: power meters log raw quantities (shunt or Hall-sensor voltages,
 * volts and amps, milliwatts); a channel in watts is a small formula over
 * columns. Users type the formula on the command line, so it must be
 * parsed safely (no code evaluation) and errors must point at the
 * character.
 *
 * Strategy: a recursive-descent parser over the text emits a postfix
 * program (push constant, push column, negate, + - * /); evaluation runs
 * the program on a fixed stack whose depth the compiler computed. The
 * program is at most CAL_EXPR_MAX_LEN operations long because every
 * operation consumes at least one character of text.
 *
 * Limits: CAL_EXPR_MAX_LEN characters, CAL_EXPR_MAX_DEPTH nesting levels
 * (so hostile input cannot exhaust the C stack). Numbers are decimal only
 * (no hex, inf or nan). IEEE semantics in evaluation: x/0 gives +-inf or
 * nan; callers check isfinite() and report the offending row.
 */
#include "calib/expr.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum op { OP_CONST, OP_COL, OP_NEG, OP_ADD, OP_SUB, OP_MUL, OP_DIV };

struct insn {
	int op;
	int col;
	double v;
};

struct cal_expr {
	int n, depth, max_col;
	unsigned char *used; /* per column, size max_col + 1 */
	struct insn prog[];
};

struct parser {
	const char *s, *what;
	size_t pos;
	const char *const *names;
	int n_names, n_cols;
	struct insn *prog;
	int n, cap, sp, max_sp, depth, max_col;
	struct jv_diag *d;
};

#define CARET_PAD_MAX 200 /* caret line printed only for shorter prefixes */

static int perr(struct parser *p, size_t at, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int perr(struct parser *p, size_t at, int err, const char *fmt, ...)
{
	char reason[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof reason, fmt, ap);
	va_end(ap);
	if (at <= CARET_PAD_MAX && strlen(p->s) <= 400)
		return jv_diag_set(p->d, err, NULL, 0, "%s: at character %zu: %s\n    %s\n    %*s^",
				   p->what, at + 1, reason, p->s, (int)at, "");
	return jv_diag_set(p->d, err, NULL, 0, "%s: at character %zu: %s", p->what, at + 1,
			   reason);
}

static void skip_ws(struct parser *p)
{
	while (p->s[p->pos] == ' ' || p->s[p->pos] == '\t')
		p->pos++;
}

static int emit(struct parser *p, int op, int col, double v)
{
	if (p->n >= p->cap)
		return jv_diag_set(p->d, JV_ELIMIT, NULL, 0, "%s: expression too long", p->what);
	p->prog[p->n++] = (struct insn){.op = op, .col = col, .v = v};
	if (op == OP_CONST || op == OP_COL) {
		if (++p->sp > p->max_sp)
			p->max_sp = p->sp;
	} else if (op != OP_NEG) {
		p->sp--;
	}
	return 0;
}

static int is_name_start(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static int is_name_char(char c)
{
	return is_name_start(c) || (c >= '0' && c <= '9') || c == '.';
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Column index of name, or -1. Header names first, then cN. */
static int lookup_col(const struct parser *p, const char *name)
{
	for (int i = 0; p->names && i < p->n_names; i++)
		if (p->names[i] && strcmp(p->names[i], name) == 0)
			return i;
	if ((name[0] == 'c' || name[0] == 'C') && name[1] >= '1' && name[1] <= '9') {
		long k = 0;
		const char *q = name + 1;
		for (; is_digit(*q) && k < 1000000; q++)
			k = k * 10 + (*q - '0');
		if (!*q && (p->n_cols <= 0 || k <= p->n_cols))
			return (int)(k - 1);
	}
	return -1;
}

static int name_error(struct parser *p, size_t at, const char *name)
{
	char list[512] = "";
	size_t n = 0;
	for (int i = 0; p->names && i < p->n_names && n + 1 < sizeof list; i++)
		if (p->names[i]) {
			int w = snprintf(list + n, sizeof list - n, "%s%s", n ? ", " : "",
					 p->names[i]);
			if (w < 0)
				break;
			n += (size_t)w;
		}
	if (n >= sizeof list)
		strcpy(list + sizeof list - 5, "...");
	if (p->n_cols > 0)
		return perr(p, at, JV_EUNKNOWN, "unknown column '%.100s' (columns: %s%sc1..c%d)",
			    name, list, n ? "; or " : "", p->n_cols);
	return perr(p, at, JV_EUNKNOWN, "unknown column '%.100s' (columns: %s%scN)", name, list,
		    n ? "; or " : "");
}

static int parse_expr(struct parser *p);

static int parse_number(struct parser *p)
{
	size_t st = p->pos, i = st;
	const char *s = p->s;
	while (is_digit(s[i]))
		i++;
	if (s[i] == '.') {
		i++;
		while (is_digit(s[i]))
			i++;
	}
	if (i == st + 1 && s[st] == '.')
		return perr(p, st, JV_EPARSE, "'.' without digits");
	if (s[i] == 'e' || s[i] == 'E') {
		size_t j = i + 1;
		if (s[j] == '+' || s[j] == '-')
			j++;
		if (!is_digit(s[j]))
			return perr(p, j, JV_EPARSE, "exponent without digits");
		while (is_digit(s[j]))
			j++;
		i = j;
	}
	if (is_name_start(s[i]))
		return perr(p, i, JV_EPARSE, "unexpected '%.1s' after a number", s + i);
	char buf[128];
	if (i - st >= sizeof buf)
		return perr(p, st, JV_ELIMIT, "number too long");
	memcpy(buf, s + st, i - st);
	buf[i - st] = '\0';
	double v = strtod(buf, NULL);
	if (!isfinite(v))
		return perr(p, st, JV_ERANGE, "number out of range '%s'", buf);
	p->pos = i;
	return emit(p, OP_CONST, 0, v);
}

static int push_column(struct parser *p, size_t at, const char *name)
{
	int c = lookup_col(p, name);
	if (c < 0)
		return name_error(p, at, name);
	if (c > p->max_col)
		p->max_col = c;
	return emit(p, OP_COL, c, 0.0);
}

static int parse_name(struct parser *p)
{
	size_t st = p->pos, i = st;
	while (is_name_char(p->s[i]))
		i++;
	char name[256];
	if (i - st >= sizeof name)
		return perr(p, st, JV_ELIMIT, "name too long");
	memcpy(name, p->s + st, i - st);
	name[i - st] = '\0';
	p->pos = i;
	return push_column(p, st, name);
}

static int parse_quoted(struct parser *p)
{
	size_t st = p->pos;
	const char *end = strchr(p->s + st + 1, '"');
	if (!end)
		return perr(p, st, JV_EPARSE, "unterminated quoted column name");
	size_t len = (size_t)(end - (p->s + st + 1));
	char name[256];
	if (len == 0)
		return perr(p, st, JV_EPARSE, "empty quoted column name");
	if (len >= sizeof name)
		return perr(p, st, JV_ELIMIT, "name too long");
	memcpy(name, p->s + st + 1, len);
	name[len] = '\0';
	p->pos = (size_t)(end - p->s) + 1;
	return push_column(p, st, name);
}

static int parse_atom(struct parser *p)
{
	skip_ws(p);
	char c = p->s[p->pos];
	if (is_digit(c) || c == '.')
		return parse_number(p);
	if (is_name_start(c))
		return parse_name(p);
	if (c == '"')
		return parse_quoted(p);
	if (c == '(') {
		size_t open = p->pos++;
		if (++p->depth > CAL_EXPR_MAX_DEPTH)
			return perr(p, open, JV_ELIMIT, "nesting deeper than %d levels", CAL_EXPR_MAX_DEPTH);
		int rc = parse_expr(p);
		if (rc)
			return rc;
		p->depth--;
		skip_ws(p);
		if (p->s[p->pos] != ')') {
			if (!p->s[p->pos])
				return perr(p, open, JV_EPARSE, "unclosed '('");
			return perr(p, p->pos, JV_EPARSE, "expected ')', found '%.1s'", p->s + p->pos);
		}
		p->pos++;
		return 0;
	}
	if (!c)
		return perr(p, p->pos, JV_EPARSE, "expression ends where a value is expected");
	return perr(p, p->pos, JV_EPARSE, "unexpected '%.1s' (expected a number, a column or '(')",
		    p->s + p->pos);
}

static int parse_unary(struct parser *p)
{
	skip_ws(p);
	char c = p->s[p->pos];
	if (c == '+' || c == '-') {
		size_t at = p->pos++;
		if (++p->depth > CAL_EXPR_MAX_DEPTH)
			return perr(p, at, JV_ELIMIT, "nesting deeper than %d levels", CAL_EXPR_MAX_DEPTH);
		int rc = parse_unary(p);
		p->depth--;
		if (rc)
			return rc;
		return c == '-' ? emit(p, OP_NEG, 0, 0.0) : 0;
	}
	return parse_atom(p);
}

static int parse_term(struct parser *p)
{
	int rc = parse_unary(p);
	while (!rc) {
		skip_ws(p);
		char c = p->s[p->pos];
		if (c != '*' && c != '/')
			break;
		p->pos++;
		if (!(rc = parse_unary(p)))
			rc = emit(p, c == '*' ? OP_MUL : OP_DIV, 0, 0.0);
	}
	return rc;
}

static int parse_expr(struct parser *p)
{
	int rc = parse_term(p);
	while (!rc) {
		skip_ws(p);
		char c = p->s[p->pos];
		if (c != '+' && c != '-')
			break;
		p->pos++;
		if (!(rc = parse_term(p)))
			rc = emit(p, c == '+' ? OP_ADD : OP_SUB, 0, 0.0);
	}
	return rc;
}

static int check_chars(struct parser *p)
{
	for (size_t i = 0; p->s[i]; i++) {
		unsigned char c = (unsigned char)p->s[i];
		if (c < 0x20 || c == 0x7f)
			return perr(p, i, JV_EPARSE, "control character in expression");
	}
	return 0;
}

int cal_expr_compile(const char *text, const char *const *names, int n_names, int n_cols,
		     const char *what, struct cal_expr **out, struct jv_diag *d)
{
	*out = NULL;
	const char *w = what ? what : "expression";
	if (!text)
		return jv_diag_set(d, JV_EINVAL, NULL, 0, "%s: no expression", w);
	size_t len = strlen(text);
	if (len > CAL_EXPR_MAX_LEN)
		return jv_diag_set(d, JV_ELIMIT, NULL, 0,
				   "%s: expression longer than %d characters", w, CAL_EXPR_MAX_LEN);
	struct parser p = {.s = text, .what = w, .names = names, .n_names = n_names,
			   .n_cols = n_cols, .cap = (int)len + 1, .max_col = -1, .d = d};
	int rc = check_chars(&p);
	if (rc)
		return rc;
	p.prog = calloc((size_t)p.cap, sizeof *p.prog);
	if (!p.prog)
		return jv_diag_set(d, JV_ENOMEM, NULL, 0, "out of memory");
	rc = parse_expr(&p);
	if (!rc) {
		skip_ws(&p);
		if (text[p.pos] == ')')
			rc = perr(&p, p.pos, JV_EPARSE, "unmatched ')'");
		else if (text[p.pos])
			rc = perr(&p, p.pos, JV_EPARSE, "unexpected '%.1s' (expected an operator)",
				  text + p.pos);
	}
	struct cal_expr *e = NULL;
	if (!rc) {
		e = calloc(1, sizeof *e + (size_t)p.n * sizeof(struct insn));
		if (e)
			e->used = calloc((size_t)(p.max_col + 2), 1);
		if (!e || !e->used) {
			cal_expr_free(e);
			e = NULL;
			rc = jv_diag_set(d, JV_ENOMEM, NULL, 0, "out of memory");
		}
	}
	if (!rc) {
		e->n = p.n;
		e->depth = p.max_sp;
		e->max_col = p.max_col;
		memcpy(e->prog, p.prog, (size_t)p.n * sizeof *p.prog);
		for (int i = 0; i < p.n; i++)
			if (p.prog[i].op == OP_COL)
				e->used[p.prog[i].col] = 1;
		*out = e;
	}
	free(p.prog);
	return rc;
}

double cal_expr_eval(const struct cal_expr *e, const double *row)
{
	double stack[CAL_EXPR_MAX_LEN + 1];
	int sp = 0;
	for (int i = 0; i < e->n; i++) {
		const struct insn *in = &e->prog[i];
		switch (in->op) {
		case OP_CONST:
			stack[sp++] = in->v;
			break;
		case OP_COL:
			stack[sp++] = row[in->col];
			break;
		case OP_NEG:
			stack[sp - 1] = -stack[sp - 1];
			break;
		case OP_ADD:
			sp--;
			stack[sp - 1] += stack[sp];
			break;
		case OP_SUB:
			sp--;
			stack[sp - 1] -= stack[sp];
			break;
		case OP_MUL:
			sp--;
			stack[sp - 1] *= stack[sp];
			break;
		default:
			sp--;
			stack[sp - 1] /= stack[sp];
			break;
		}
	}
	return sp == 1 ? stack[0] : NAN;
}

int cal_expr_column(const struct cal_expr *e)
{
	return e && e->n == 1 && e->prog[0].op == OP_COL ? e->prog[0].col : -1;
}

int cal_expr_max_col(const struct cal_expr *e)
{
	return e ? e->max_col : -1;
}

int cal_expr_uses(const struct cal_expr *e, int col)
{
	return e && col >= 0 && col <= e->max_col && e->used[col];
}

void cal_expr_free(struct cal_expr *e)
{
	if (!e)
		return;
	free(e->used);
	free(e);
}
