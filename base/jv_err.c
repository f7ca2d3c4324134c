/* jv_err: error names, exit classes and diagnostics (see jv_err.h). */
#include "base/jv_err.h"

#include <stdio.h>
#include <string.h>

const char *jv_strerror(int err)
{
	switch (err) {
	case 0:
		return "success";
#define JV_ERR_STR_(name, val, desc, cls) \
	case val:                         \
		return desc;
		JV_ERRNO_MAP(JV_ERR_STR_)
#undef JV_ERR_STR_
	}
	return "unknown error";
}

const char *jv_errname(int err)
{
	switch (err) {
	case 0:
		return "JV_OK";
#define JV_ERR_NAME_(name, val, desc, cls) \
	case val:                          \
		return "JV_E" #name;
		JV_ERRNO_MAP(JV_ERR_NAME_)
#undef JV_ERR_NAME_
	}
	return "JV_E?";
}

int jv_exit_code(int err)
{
	switch (err) {
	case 0:
		return 0;
#define JV_ERR_CLS_(name, val, desc, cls) \
	case val:                         \
		return cls;
		JV_ERRNO_MAP(JV_ERR_CLS_)
#undef JV_ERR_CLS_
	}
	return 1;
}

void jv_diag_clear(struct jv_diag *d)
{
	d->err = 0;
	d->msg[0] = '\0';
}

int jv_diag_vset(struct jv_diag *d, int err, const char *file, long line,
		 const char *fmt, va_list ap)
{
	if (!d || d->err)
		return err;
	d->err = err;
	size_t n = 0;
	if (file && line > 0)
		n = (size_t)snprintf(d->msg, sizeof d->msg, "%s:%ld: ", file, line);
	else if (file)
		n = (size_t)snprintf(d->msg, sizeof d->msg, "%s: ", file);
	if (n >= sizeof d->msg)
		n = sizeof d->msg - 1;
	vsnprintf(d->msg + n, sizeof d->msg - n, fmt, ap);
	return err;
}

int jv_diag_set(struct jv_diag *d, int err, const char *file, long line,
		const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	jv_diag_vset(d, err, file, line, fmt, ap);
	va_end(ap);
	return err;
}

void jv_warn(const char *file, long line, const char *fmt, ...)
{
	va_list ap;
	fputs("joulevisor: warning: ", stderr);
	if (file && line > 0)
		fprintf(stderr, "%s:%ld: ", file, line);
	else if (file)
		fprintf(stderr, "%s: ", file);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
