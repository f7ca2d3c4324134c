/*
 * check_tmpdir.h: a fresh temporary directory per Check test, and small
 * file helpers, for the suites that write files (check_db, check_out,
 * check_regress, check_sweep).
 *
 * Include it once in a test program after defining CK_TMP_PREFIX (e.g.
 * "check_db") and _XOPEN_SOURCE >= 500 (nftw); register the fixture with
 * tcase_add_checked_fixture(tc, setup, teardown). Each test then runs in
 * /tmp/CK_TMP_PREFIX-XXXXXX (`base`), removed after it; `at("x")` is the
 * path of x in it (eight rotating buffers, so a few may be live at once).
 * Header-only: every function is static (inline where a program may not
 * use it), and each test program is its own translation unit.
 */
#ifndef JV_CHECK_TMPDIR_H
#define JV_CHECK_TMPDIR_H

#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef CK_TMP_PREFIX
#error "define CK_TMP_PREFIX (the test program's name) before including check_tmpdir.h"
#endif

#define PATH_LEN 512
#define CK_TMP_AT_BUFS 8

static char base[64];

static inline int ck_tmp_rm_cb(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void setup(void)
{
	snprintf(base, sizeof base, "/tmp/%s-XXXXXX", CK_TMP_PREFIX);
	ck_assert_ptr_nonnull(mkdtemp(base));
}

static void teardown(void)
{
	nftw(base, ck_tmp_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/* The path of rel inside this test's directory. */
static inline const char *at(const char *rel)
{
	static char bufs[CK_TMP_AT_BUFS][PATH_LEN];
	static int i;
	char *b = bufs[i++ % CK_TMP_AT_BUFS];
	int n = snprintf(b, PATH_LEN, "%s/%s", base, rel);
	ck_assert(n > 0 && n < PATH_LEN);
	return b;
}

static inline int exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

/* Whole file, NUL-terminated, its length in *n unless n is NULL (fails
 * the test if missing). */
static inline unsigned char *slurp_n(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	unsigned char *s = NULL;
	size_t len = 0, cap = 0, got;
	unsigned char buf[4096];
	while ((got = fread(buf, 1, sizeof buf, f)) > 0) {
		if (len + got + 1 > cap) {
			cap = (len + got + 1) * 2;
			s = realloc(s, cap);
			ck_assert_ptr_nonnull(s);
		}
		memcpy(s + len, buf, got);
		len += got;
	}
	fclose(f);
	if (!s)
		s = calloc(1, 1);
	ck_assert_ptr_nonnull(s);
	s[len] = '\0';
	if (n)
		*n = len;
	return s;
}

/* Whole file as a NUL-terminated string (fails the test if missing). */
static inline char *slurp(const char *path)
{
	return (char *)slurp_n(path, NULL);
}

/* Write text to path (replacing it). */
static inline void spit(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	ck_assert_msg(f != NULL, "cannot create %s", path);
	ck_assert_int_ge(fputs(text, f), 0);
	ck_assert_int_eq(fclose(f), 0);
}

#endif
