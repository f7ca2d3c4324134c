/*
 * jv_err: the project's error codes and user-facing diagnostics.
 *
 * Functions return 0 on success or a negative JV_E* code from the X-macro
 * list below (libuv UV_ERRNO_MAP style). A function that fails because of
 * user input also fills a struct jv_diag with the message the CLI prints:
 * "FILE:LINE: message" (or "FILE: message" when no line applies), naming the
 * field and the offending text. The CLI prefixes "joulevisor: ".
 */
#ifndef JV_ERR_H
#define JV_ERR_H

#include <stdarg.h>
#include <stddef.h>

/* name, value, description; exit code class: 2 input, 1 runtime */
#define JV_ERRNO_MAP(X)                                             \
	X(NOMEM, -1, "out of memory", 1)                            \
	X(IO, -2, "input/output error", 1)                          \
	X(INVAL, -3, "invalid argument", 2)                         \
	X(PARSE, -4, "malformed input", 2)                          \
	X(RANGE, -5, "value out of range", 2)                       \
	X(NOENT, -6, "no such file or directory", 2)                \
	X(EXIST, -7, "already exists", 2)                           \
	X(UNIT, -8, "unknown or missing unit", 2)                   \
	X(ORDER, -9, "time goes backwards", 2)                      \
	X(UNKNOWN, -10, "unknown name", 2)                          \
	X(CYCLE, -11, "include cycle", 2)                           \
	X(INVARIANT, -12, "invariant violated", 1)                  \
	X(LIMIT, -13, "internal limit exceeded", 2)                 \
	X(EMPTY, -14, "empty input", 2)                             \
	X(DB, -15, "database error", 2)                             \
	X(USAGE, -16, "usage error", 2)

enum jv_errno {
	JV_OK = 0,
#define JV_ERR_ENUM_(name, val, desc, cls) JV_E##name = val,
	JV_ERRNO_MAP(JV_ERR_ENUM_)
#undef JV_ERR_ENUM_
};

/* Human readable text for a JV_E* code ("unknown error" otherwise). */
const char *jv_strerror(int err);
/* Symbolic name ("JV_EPARSE") for a JV_E* code. */
const char *jv_errname(int err);
/* Process exit code for an error: 2 for input/usage errors, 1 for runtime. */
int jv_exit_code(int err);

#define JV_DIAG_MAX 1024

/* One user-facing diagnostic. msg holds the complete text without the
 * "joulevisor: " prefix, e.g. "scen.ini:12: [cpu] quantum: unknown unit 'xs'". */
struct jv_diag {
	int err;               /* JV_E* code of the first error, 0 if none */
	char msg[JV_DIAG_MAX]; /* empty when err == 0 */
};

void jv_diag_clear(struct jv_diag *d);
/* Record an error at FILE:LINE (line <= 0: "FILE: msg"; file NULL: "msg").
 * Keeps the first error: later calls do nothing once d->err != 0.
 * Returns err so callers can write `return jv_diag_set(...)`. */
int jv_diag_set(struct jv_diag *d, int err, const char *file, long line,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));
int jv_diag_vset(struct jv_diag *d, int err, const char *file, long line,
		 const char *fmt, va_list ap);

/* Print "joulevisor: warning: FILE:LINE: msg" to stderr. Warnings never
 * change the exit status. */
void jv_warn(const char *file, long line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
