/*
 * check_trc_fixture.h: test inputs of the trace reader suites (check_trc,
 * check_fmt_perf, check_fmt_block, check_blktrace, check_fmt_bin): files written into
 * the test's own temporary directory, an open reader, a whole-trace read.
 *
 * Built on check_tmpdir.h: define _XOPEN_SOURCE >= 500 and CK_TMP_PREFIX
 * (the program's name) before including it, and create every TCase with
 * tmp_tcase() (or register setup/teardown yourself), so that each test
 * runs with a fresh directory `base`, removed after it; at("x") is the
 * path of x in it. Header-only, like check_tmpdir.h.
 */
#ifndef JV_CHECK_TRC_FIXTURE_H
#define JV_CHECK_TRC_FIXTURE_H

#include "check_tmpdir.h"

#include <stdint.h>

#include "base/jv_err.h"
#include "traces/trc.h"

/* An expected figure in a table of cases; unset ones are not checked. */
struct want {
	int on;
	int64_t v;
};
#define W(v) { 1, (v) }

/* A TCase whose tests each get a fresh temporary directory. */
static inline TCase *tmp_tcase(const char *name)
{
	TCase *tc = tcase_create(name);
	tcase_add_checked_fixture(tc, setup, teardown);
	return tc;
}

/* Write len bytes of data as name in the test's directory; its path. */
static inline const char *write_tmp(const char *name, const void *data, size_t len)
{
	const char *path = at(name);
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
	return path;
}

static inline const char *write_tmp_str(const char *name, const char *s)
{
	return write_tmp(name, s, strlen(s));
}

/* msg starts with "PATH:LINE: TEXT" (line 0: "PATH: TEXT"); what names the
 * case in the failure message. */
static inline void assert_msg_at(const char *what, const char *msg, const char *path, long line,
				 const char *text)
{
	char want[700];
	if (line > 0)
		snprintf(want, sizeof want, "%s:%ld: %s", path, line, text);
	else
		snprintf(want, sizeof want, "%s: %s", path, text);
	ck_assert_msg(strncmp(msg, want, strlen(want)) == 0, "%s:\n got  '%s'\n want '%s...'", what,
		      msg, want);
}

/* An open reader of path (format NULL: probed); fails the test otherwise. */
static inline struct trc_reader *open_ok(const char *path, const char *format)
{
	struct trc_reader *r = NULL;
	struct jv_diag d;
	jv_diag_clear(&d);
	int rc = trc_open(path, format, &r, &d);
	ck_assert_msg(rc == 0, "%s: %s", path, d.msg);
	return r;
}

/* The VM named vm of reader r has the mapping keys want. */
static inline void assert_vm_attrs_of(struct trc_reader *r, const char *vm, const char *want)
{
	for (int v = 0; v < trc_n_vms(r); v++)
		if (strcmp(trc_vm_name(r, v), vm) == 0) {
			ck_assert_str_eq(trc_vm_attrs(r, v), want);
			return;
		}
	ck_abort_msg("no VM '%s'", vm);
}

/* Read a whole trace (format NULL: probed), keeping the first max records
 * in recs (may be NULL). Returns the final rc (0 at the end of the file,
 * else the error with d filled); *n is the number of records. */
static inline int read_trace(const char *path, const char *format, struct trc_record *recs,
			     long max, long *n, struct jv_diag *d)
{
	struct trc_reader *r;
	struct trc_record rec;
	jv_diag_clear(d);
	*n = 0;
	int rc = trc_open(path, format, &r, d);
	if (rc < 0)
		return rc;
	while ((rc = trc_next(r, &rec, d)) == 1) {
		if (recs && *n < max)
			recs[*n] = rec;
		(*n)++;
	}
	trc_close(r);
	return rc;
}

#endif
