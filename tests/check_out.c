/*
 * check_out: the run's sinks (sim/out.c, sim/out_sqlite.c).
 *
 * Each test works in a fresh directory under /tmp (checked fixture). The
 * run directory tests compare whole files byte for byte and list the parent
 * directory to prove that no DIR.tmp-* / DIR.old-* is left behind. Write
 * failures are real: RLIMIT_FSIZE with SIGXFSZ ignored makes write(2) fail
 * with EFBIG. SQLite tests read the database back with plain sqlite3 calls
 * and regenerate the CSV text from it.
 */
#define _XOPEN_SOURCE 700 /* nftw */

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>
#include <xxhash.h>

#include "base/jv_err.h"
#include "sim/out.h"

#define CK_TMP_PREFIX "check_out"
#include "check_tmpdir.h"

#define BIG_ROWS 200000 /* enough to overflow the 1 MiB table buffer */
#define FSIZE_LIMIT_B (64 * 1024)

/* ---- helpers ------------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted, comma-joined entries of a directory (no . and ..). */
static const char *listing(const char *dir)
{
	static char out[4096];
	char *names[64];
	int n = 0;
	DIR *dp = opendir(dir);
	ck_assert_ptr_nonnull(dp);
	struct dirent *e;
	while ((e = readdir(dp)) && n < 64)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			names[n++] = strdup(e->d_name);
	closedir(dp);
	qsort(names, (size_t)n, sizeof *names, cmp_str);
	out[0] = '\0';
	for (int i = 0; i < n; i++) {
		if (i)
			strcat(out, ",");
		strncat(out, names[i], sizeof out - strlen(out) - 2);
		free(names[i]);
	}
	return out;
}

static struct out_run *open_run(const char *dir, int force, const char *db)
{
	struct out_run_info info = {
		.scenario_name = "fig5",
		.scenario_file = "scenarios/fig5.ini",
		.scenario_text = "[global]\nseed = 7\n",
		.seed = 7,
		.command_line = "joulevisor run scenarios/fig5.ini",
		.tool_version = "0.1.0",
	};
	struct jv_diag d;
	struct out_run *r = NULL;
	jv_diag_clear(&d);
	int err = out_run_open(dir, force, db, &info, &r, &d);
	ck_assert_msg(err == 0, "out_run_open: %s", d.msg);
	ck_assert_ptr_nonnull(r);
	return r;
}

static void commit_ok(struct out_run *r)
{
	struct jv_diag d;
	jv_diag_clear(&d);
	int err = out_run_commit(r, &d);
	ck_assert_msg(err == 0, "commit: %s", d.msg);
}

/* out_run_open(dir, force, db) without run information, expected to fail:
 * its code (d filled); no run is returned. */
static int open_refused(const char *dir, int force, const char *db, struct jv_diag *d)
{
	struct out_run *r = NULL;
	jv_diag_clear(d);
	int err = out_run_open(dir, force, db, NULL, &r, d);
	ck_assert_ptr_null(r);
	return err;
}

/* out_run_commit expected to fail: its code (d filled). */
static int commit_err(struct out_run *r, struct jv_diag *d)
{
	jv_diag_clear(d);
	return out_run_commit(r, d);
}

/* The path of name in the test's directory, kept (at() rotates). */
static const char *db_path(const char *name)
{
	static char dbp[PATH_LEN];
	snprintf(dbp, sizeof dbp, "%s", at(name));
	return dbp;
}

/* The sample table used by several tests: one row per case. */
struct sample_row {
	int64_t t_ns;
	double power_w;
	const char *vm;
	const char *csv; /* expected line without LF */
};

static const struct sample_row SAMPLE[] = {
	{ 0, 0.1, "dom0", "0,0.1,dom0" },
	{ INT64_MAX, 1.0 / 3.0, "a,b", "9223372036854775807,0.3333333333,\"a,b\"" },
	{ INT64_MIN, -1e-300, "say \"hi\"", "-9223372036854775808,-1e-300,\"say \"\"hi\"\"\"" },
	{ 42, 123456789012.0, "line\nbreak", "42,1.23456789e+11,\"line\nbreak\"" },
	{ 7, 2.5, "", "7,2.5," },
	{ -1, 1e21, "cr\r", "-1,1e+21,\"cr\r\"" },
	{ 8, 0.1 + 0.2, "Robert'); DROP TABLE run;--", "8,0.3,Robert'); DROP TABLE run;--" },
	{ 9, 1234567.891234, "x y", "9,1234567.891,x y" },
};
#define NSAMPLE (sizeof SAMPLE / sizeof SAMPLE[0])
static const char *const SAMPLE_COLS[] = { "t_ns", "power_w", "vm" };

static void write_sample(struct out_run *r)
{
	struct out_table *t = NULL;
	ck_assert_int_eq(out_table_open(r, "power", SAMPLE_COLS, "ids", &t), 0);
	for (size_t i = 0; i < NSAMPLE; i++) {
		int err;
		if (i % 2) {
			struct out_val v[3];
			v[0].v.i = SAMPLE[i].t_ns;
			v[1].v.d = SAMPLE[i].power_w;
			v[2].v.s = SAMPLE[i].vm;
			err = out_table_row(t, v);
		} else {
			err = out_table_rowv(t, SAMPLE[i].t_ns, SAMPLE[i].power_w, SAMPLE[i].vm);
		}
		ck_assert_int_eq(err, 0);
	}
	ck_assert_int_eq(out_table_close(t), 0);
}

static char *sample_csv(void)
{
	size_t cap = 4096;
	char *s = malloc(cap);
	strcpy(s, "t_ns,power_w,vm\n");
	for (size_t i = 0; i < NSAMPLE; i++) {
		strcat(s, SAMPLE[i].csv);
		strcat(s, "\n");
	}
	return s;
}

/* Make write(2) fail with EFBIG beyond limit bytes. */
static struct rlimit saved_fsize;
static void limit_file_size(rlim_t limit)
{
	struct rlimit rl;
	signal(SIGXFSZ, SIG_IGN);
	ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &saved_fsize), 0);
	rl = saved_fsize;
	rl.rlim_cur = limit;
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
}

static void unlimit_file_size(void)
{
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &saved_fsize), 0);
	signal(SIGXFSZ, SIG_DFL);
}

/* ---- run directory ---------------------------------------------------------- */

START_TEST(test_tables_and_text)
{
	struct out_run *r = open_run(at("run"), 0, NULL);
	ck_assert_str_eq(out_run_dir(r), at("run"));
	ck_assert_int_eq(out_run_id(r), 0);
	write_sample(r);

	/* A one-column table: an empty string must not become a blank line. */
	static const char *const one[] = { "name" };
	struct out_table *t1;
	ck_assert_int_eq(out_table_open(r, "names", one, "s", &t1), 0);
	ck_assert_int_eq(out_table_rowv(t1, "a"), 0);
	ck_assert_int_eq(out_table_rowv(t1, ""), 0);
	/* left open on purpose: commit closes it */

	FILE *f = out_run_fopen(r, "summary.txt");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "energy: %d J\n", 12);
	ck_assert_int_eq(fclose(f), 0);
	FILE *g = out_run_fopen(r, "manifest.txt");
	ck_assert_ptr_nonnull(g);
	fputs("not closed by the caller\n", g); /* commit flushes and closes it */

	ck_assert_int_eq(out_run_metric(r, "energy_j", 1.5, "J"), 0); /* no-op, no db */
	commit_ok(r);

	ck_assert_str_eq(listing(base), "run");
	ck_assert_str_eq(listing(at("run")), "manifest.txt,names.csv,power.csv,summary.txt");
	char *want = sample_csv();
	char *got = slurp(at("run/power.csv"));
	ck_assert_str_eq(got, want);
	free(got);
	free(want);
	got = slurp(at("run/names.csv"));
	ck_assert_str_eq(got, "name\na\n\"\"\n");
	free(got);
	got = slurp(at("run/summary.txt"));
	ck_assert_str_eq(got, "energy: 12 J\n");
	free(got);
	got = slurp(at("run/manifest.txt"));
	ck_assert_str_eq(got, "not closed by the caller\n");
	free(got);
}
END_TEST

START_TEST(test_mode_like_mkdir)
{
	/* The final directory gets 0777 & ~umask like mkdir, not mkdtemp's 0700. */
	mode_t old = umask(022);
	struct out_run *r = open_run(at("run"), 0, NULL);
	commit_ok(r);
	umask(old);
	struct stat st;
	ck_assert_int_eq(stat(at("run"), &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0755);
}
END_TEST

START_TEST(test_parent_created)
{
	struct out_run *r = open_run(at("a/b/c/run/"), 0, NULL); /* trailing slash too */
	ck_assert_str_eq(out_run_dir(r), at("a/b/c/run"));
	commit_ok(r);
	ck_assert_str_eq(listing(at("a/b/c")), "run");
	ck_assert_str_eq(listing(at("a/b/c/run")), "");
}
END_TEST

START_TEST(test_exists_refused)
{
	struct jv_diag d;
	char want[PATH_LEN + 100];
	ck_assert_int_eq(mkdir(at("run"), 0777), 0);
	spit(at("run/old.csv"), "keep me\n");
	ck_assert_int_eq(open_refused(at("run"), 0, NULL, &d), JV_EEXIST);
	snprintf(want, sizeof want, "%s: output directory exists (use --force to replace it)",
		 at("run"));
	ck_assert_str_eq(d.msg, want);
	ck_assert_int_eq(d.err, JV_EEXIST);
	ck_assert_str_eq(listing(base), "run");
	ck_assert_str_eq(listing(at("run")), "old.csv");
}
END_TEST

START_TEST(test_exists_file_refused_even_with_force)
{
	struct jv_diag d;
	spit(at("run"), "a file\n");
	ck_assert_int_eq(open_refused(at("run"), 1, NULL, &d), JV_EEXIST);
	ck_assert_ptr_nonnull(strstr(d.msg, "not a directory"));
	ck_assert_str_eq(listing(base), "run");
}
END_TEST

START_TEST(test_force_replaces)
{
	ck_assert_int_eq(mkdir(at("run"), 0777), 0);
	ck_assert_int_eq(mkdir(at("run/sub"), 0777), 0);
	spit(at("run/old.csv"), "old\n");
	spit(at("run/sub/deep.txt"), "old\n");
	struct out_run *r = open_run(at("run"), 1, NULL);
	write_sample(r);
	/* the old run is still there until commit */
	ck_assert(exists(at("run/old.csv")));
	commit_ok(r);
	ck_assert_str_eq(listing(base), "run");
	ck_assert_str_eq(listing(at("run")), "power.csv");
}
END_TEST

START_TEST(test_abort_leaves_nothing)
{
	struct out_run *r = open_run(at("run"), 0, NULL);
	write_sample(r);
	FILE *f = out_run_fopen(r, "summary.txt");
	ck_assert_ptr_nonnull(f);
	fputs("x\n", f); /* not closed: abort closes it */
	ck_assert_str_ne(listing(base), "");
	out_run_abort(r);
	ck_assert_str_eq(listing(base), "");
	out_run_abort(NULL); /* harmless */
}
END_TEST

START_TEST(test_abort_keeps_old_with_force)
{
	ck_assert_int_eq(mkdir(at("run"), 0777), 0);
	spit(at("run/old.csv"), "old\n");
	struct out_run *r = open_run(at("run"), 1, NULL);
	write_sample(r);
	out_run_abort(r);
	ck_assert_str_eq(listing(base), "run");
	char *s = slurp(at("run/old.csv"));
	ck_assert_str_eq(s, "old\n");
	free(s);
}
END_TEST

START_TEST(test_exists_at_commit_refused)
{
	/* DIR appears (non-empty) between open and commit without force. */
	struct jv_diag d;
	struct out_run *r = open_run(at("run"), 0, NULL);
	write_sample(r);
	ck_assert_int_eq(mkdir(at("run"), 0777), 0);
	spit(at("run/other.txt"), "someone else's\n");
	ck_assert_int_eq(commit_err(r, &d), JV_EEXIST);
	ck_assert_ptr_nonnull(strstr(d.msg, "use --force"));
	ck_assert_str_eq(listing(base), "run");
	ck_assert_str_eq(listing(at("run")), "other.txt");
}
END_TEST

/* A table write fails (EFBIG): commit reports JV_EIO naming the file; no DIR,
 * no temporary directory. */
START_TEST(test_write_failure_table)
{
	struct jv_diag d;
	struct out_table *t;
	static const char *const cols[] = { "t_ns", "power_w" };
	struct out_run *r = open_run(at("run"), 0, NULL);
	ck_assert_int_eq(out_table_open(r, "power", cols, "id", &t), 0);
	limit_file_size(FSIZE_LIMIT_B);
	int first_err = 0;
	for (int64_t i = 0; i < BIG_ROWS && !first_err; i++)
		first_err = out_table_rowv(t, i * 1000000, 12.345678 + (double)i);
	/* the 1 MiB buffer spills during the loop and fails there */
	ck_assert_int_eq(first_err, JV_EIO);
	ck_assert_int_eq(out_run_diag(r)->err, JV_EIO);
	/* sticky: every later call fails at once */
	ck_assert_int_eq(out_table_rowv(t, (int64_t)1, 1.0), JV_EIO);
	ck_assert_ptr_null(out_run_fopen(r, "summary.txt"));
	ck_assert_int_eq(commit_err(r, &d), JV_EIO);
	unlimit_file_size();
	char want[PATH_LEN + 100];
	snprintf(want, sizeof want, "%s: write failed: %s", at("run/power.csv"), strerror(EFBIG));
	ck_assert_str_eq(d.msg, want);
	ck_assert_str_eq(listing(base), "");
}
END_TEST

/* The failure shows only when commit flushes the buffer. */
START_TEST(test_write_failure_at_commit)
{
	struct jv_diag d;
	struct out_table *t;
	static const char *const cols[] = { "line" };
	struct out_run *r = open_run(at("run"), 0, NULL);
	ck_assert_int_eq(out_table_open(r, "big", cols, "s", &t), 0);
	char line[1000];
	memset(line, 'x', sizeof line - 1);
	line[sizeof line - 1] = '\0';
	for (int i = 0; i < 200; i++) /* ~200 KB, stays in the 1 MiB buffer */
		ck_assert_int_eq(out_table_rowv(t, line), 0);
	limit_file_size(FSIZE_LIMIT_B);
	ck_assert_int_eq(commit_err(r, &d), JV_EIO);
	unlimit_file_size();
	ck_assert_ptr_nonnull(strstr(d.msg, "big.csv: write failed: "));
	ck_assert_str_eq(listing(base), "");
}
END_TEST

/* With force, a failed commit leaves the previous run in place. */
START_TEST(test_write_failure_keeps_old)
{
	struct jv_diag d;
	ck_assert_int_eq(mkdir(at("run"), 0777), 0);
	spit(at("run/old.csv"), "old\n");
	struct out_run *r = open_run(at("run"), 1, NULL);
	FILE *f = out_run_fopen(r, "summary.txt");
	ck_assert_ptr_nonnull(f);
	limit_file_size(FSIZE_LIMIT_B);
	for (int i = 0; i < 20000; i++)
		fprintf(f, "line %d of a long summary\n", i);
	/* the caller's fclose sees the error, and commit does too */
	ck_assert_int_eq(fclose(f), EOF);
	ck_assert_int_eq(commit_err(r, &d), JV_EIO);
	unlimit_file_size();
	ck_assert_ptr_nonnull(strstr(d.msg, "summary.txt: write failed: "));
	ck_assert_str_eq(listing(base), "run");
	ck_assert_str_eq(listing(at("run")), "old.csv");
}
END_TEST

/* The caller ignores the failing fclose entirely: commit still fails. */
START_TEST(test_write_failure_text_ignored_by_caller)
{
	struct jv_diag d;
	struct out_run *r = open_run(at("run"), 0, NULL);
	FILE *f = out_run_fopen(r, "summary.txt");
	ck_assert_ptr_nonnull(f);
	limit_file_size(FSIZE_LIMIT_B);
	for (int i = 0; i < 20000; i++)
		fprintf(f, "line %d\n", i);
	(void)fclose(f);
	ck_assert_int_eq(commit_err(r, &d), JV_EIO);
	unlimit_file_size();
	ck_assert_str_eq(listing(base), "");
}
END_TEST

START_TEST(test_nonfinite_rejected)
{
	static const double bad[] = { NAN, INFINITY, -INFINITY };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct jv_diag d;
		struct out_table *t;
		static const char *const cols[] = { "t_ns", "power_w" };
		struct out_run *r = open_run(at("run"), 0, NULL);
		ck_assert_int_eq(out_table_open(r, "power", cols, "id", &t), 0);
		ck_assert_int_eq(out_table_rowv(t, (int64_t)1, 2.0), 0);
		ck_assert_int_eq(out_table_rowv(t, (int64_t)2, bad[i]), JV_EINVAL);
		ck_assert_ptr_nonnull(strstr(out_run_diag(r)->msg, "not a finite number"));
		ck_assert_int_eq(commit_err(r, &d), JV_EINVAL);
		ck_assert_ptr_nonnull(strstr(d.msg, "power.csv: column 2: not a finite number"));
		ck_assert_str_eq(listing(base), "");
	}
}
END_TEST

START_TEST(test_bad_declarations)
{
	static const struct {
		const char *name;
		const char *cols[3];
		const char *types;
	} cases[] = {
		{ "", { "a" }, "i" },
		{ NULL, { "a" }, "i" },
		{ "1abc", { "a" }, "i" },
		{ "a-b", { "a" }, "i" },
		{ "../x", { "a" }, "i" },
		{ "run", { "a" }, "i" },
		{ "Metric", { "a" }, "i" },
		{ "schema_version", { "a" }, "i" },
		{ "sqlite_stat1", { "a" }, "i" },
		{ "toolong_toolong_toolong_toolong_toolong_toolong_toolong_toolong_", { "a" }, "i" },
		{ "t", { "run_id" }, "i" },
		{ "t", { "a", "A" }, "ii" },
		{ "t", { "a b" }, "i" },
		{ "t", { "a" }, "x" },
		{ "t", { "a" }, "" },
		{ "t", { "a" }, NULL },
		{ "t", { NULL }, "i" },
		{ "t", { "a", "b" }, "iu" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct out_table *t = (struct out_table *)1;
		struct out_run *r = open_run(at("run"), 0, NULL);
		ck_assert_msg(out_table_open(r, cases[i].name, cases[i].cols, cases[i].types, &t) ==
				      JV_EINVAL,
			      "case %zu accepted", i);
		ck_assert_ptr_null(t);
		ck_assert_int_eq(out_run_diag(r)->err, JV_EINVAL);
		out_run_abort(r);
	}
	ck_assert_str_eq(listing(base), "");
}
END_TEST

START_TEST(test_misuse)
{
	struct out_table *t, *t2;
	static const char *const cols[] = { "a" };
	struct out_run *r;

	r = open_run(at("run"), 0, NULL);
	ck_assert_int_eq(out_table_open(r, "t", cols, "i", &t), 0);
	ck_assert_int_eq(out_table_open(r, "T", cols, "i", &t2), JV_EINVAL); /* twice */
	out_run_abort(r);

	r = open_run(at("run"), 0, NULL);
	ck_assert_int_eq(out_table_open(r, "t", cols, "i", &t), 0);
	ck_assert_int_eq(out_table_close(t), 0);
	ck_assert_int_eq(out_table_close(t), 0); /* double close is harmless */
	ck_assert_int_eq(out_table_rowv(t, (int64_t)1), JV_EINVAL);
	out_run_abort(r);

	static const char *const bad_files[] = { "", ".hidden", "a/b", "../x", NULL };
	for (size_t i = 0; i < sizeof bad_files / sizeof bad_files[0]; i++) {
		r = open_run(at("run"), 0, NULL);
		ck_assert_ptr_null(out_run_fopen(r, bad_files[i]));
		ck_assert_int_eq(out_run_diag(r)->err, JV_EINVAL);
		out_run_abort(r);
	}

	r = open_run(at("run"), 0, NULL);
	ck_assert_int_eq(out_run_metric(r, "x", NAN, "W"), JV_EINVAL);
	out_run_abort(r);

	static const char *const bad_dirs[] = { "", ".", "..", "/" };
	for (size_t i = 0; i < sizeof bad_dirs / sizeof bad_dirs[0]; i++) {
		struct jv_diag d;
		jv_diag_clear(&d);
		r = (struct out_run *)1;
		ck_assert_int_eq(out_run_open(bad_dirs[i], 1, NULL, NULL, &r, &d), JV_EINVAL);
		ck_assert_ptr_null(r);
		ck_assert_int_ne(d.msg[0], '\0');
	}
	ck_assert_str_eq(listing(base), "");
}
END_TEST

START_TEST(test_many_rows)
{
	/* A large table round-trips through the buffer: count lines and the last. */
	struct out_table *t;
	static const char *const cols[] = { "t_ns", "power_w" };
	struct out_run *r = open_run(at("run"), 0, NULL);
	ck_assert_int_eq(out_table_open(r, "power", cols, "id", &t), 0);
	for (int64_t i = 0; i < BIG_ROWS; i++)
		ck_assert_int_eq(out_table_rowv(t, i, (double)i * 0.5), 0);
	commit_ok(r);
	char *s = slurp(at("run/power.csv"));
	size_t lines = 0;
	for (char *p = s; *p; p++)
		lines += *p == '\n';
	ck_assert_uint_eq(lines, BIG_ROWS + 1);
	char last[64];
	snprintf(last, sizeof last, "\n%d,%.10g\n", BIG_ROWS - 1, (BIG_ROWS - 1) * 0.5);
	ck_assert_str_eq(s + strlen(s) - strlen(last), last);
	free(s);
}
END_TEST

/* ---- out_file_hash --------------------------------------------------------- */

START_TEST(test_hash)
{
	uint64_t h = 1, n = 1;
	spit(at("empty"), "");
	ck_assert_int_eq(out_file_hash(at("empty"), &h, &n), 0);
	ck_assert_uint_eq(h, 0xEF46DB3751D8E999ull);
	ck_assert_uint_eq(n, 0);

	const char *text = "joulevisor: where did each joule go?\n";
	spit(at("text"), text);
	ck_assert_int_eq(out_file_hash(at("text"), &h, &n), 0);
	ck_assert_uint_eq(h, XXH64(text, strlen(text), 0));
	ck_assert_uint_eq(n, strlen(text));

	/* larger than one read chunk, not a multiple of it */
	size_t big = 300001;
	char *buf = malloc(big + 1);
	for (size_t i = 0; i < big; i++)
		buf[i] = (char)('a' + (i * 7919) % 26);
	buf[big] = '\0';
	spit(at("big"), buf);
	ck_assert_int_eq(out_file_hash(at("big"), &h, &n), 0);
	ck_assert_uint_eq(h, XXH64(buf, big, 0));
	ck_assert_uint_eq(n, big);
	free(buf);

	ck_assert_int_eq(out_file_hash(at("missing"), &h, &n), JV_ENOENT);
	ck_assert_int_eq(out_file_hash(base, &h, &n), JV_EIO); /* a directory */
}
END_TEST

/* ---- SQLite ------------------------------------------------------------------ */

static sqlite3 *db_open(const char *path)
{
	sqlite3 *h = NULL;
	ck_assert_int_eq(sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	return h;
}

static int64_t db_int(sqlite3 *h, const char *sql)
{
	sqlite3_stmt *st;
	ck_assert_msg(sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql,
		      sqlite3_errmsg(h));
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	int64_t v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* First column of the first row as a string (static buffer). */
static const char *db_text(sqlite3 *h, const char *sql)
{
	static char out[4096];
	sqlite3_stmt *st;
	ck_assert_msg(sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql,
		      sqlite3_errmsg(h));
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	const unsigned char *s = sqlite3_column_text(st, 0);
	snprintf(out, sizeof out, "%s", s ? (const char *)s : "(null)");
	sqlite3_finalize(st);
	return out;
}

static int table_exists(sqlite3 *h, const char *name)
{
	char sql[256];
	snprintf(sql, sizeof sql, "SELECT count(*) FROM sqlite_master WHERE name='%s'", name);
	return db_int(h, sql) > 0;
}

static void csv_field(char *out, size_t cap, const char *s)
{
	if (!s[strcspn(s, ",\"\r\n")]) {
		strncat(out, s, cap - strlen(out) - 1);
		return;
	}
	strncat(out, "\"", cap - strlen(out) - 1);
	for (; *s; s++) {
		char c[2] = { *s, 0 };
		strncat(out, *s == '"' ? "\"\"" : c, cap - strlen(out) - 1);
	}
	strncat(out, "\"", cap - strlen(out) - 1);
}

/* The power table of run_id as CSV text, formatted like out.c does. */
static char *db_power_csv(sqlite3 *h, int64_t run_id)
{
	size_t cap = 8192;
	char *out = malloc(cap);
	sqlite3_stmt *st;
	strcpy(out, "t_ns,power_w,vm\n");
	ck_assert_int_eq(sqlite3_prepare_v2(h,
					    "SELECT t_ns, power_w, vm, typeof(t_ns), typeof(power_w),"
					    " typeof(vm) FROM power WHERE run_id=?1 ORDER BY rowid",
					    -1, &st, NULL),
			 SQLITE_OK);
	sqlite3_bind_int64(st, 1, run_id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		char line[512];
		ck_assert_str_eq((const char *)sqlite3_column_text(st, 3), "integer");
		ck_assert_str_eq((const char *)sqlite3_column_text(st, 4), "real");
		ck_assert_str_eq((const char *)sqlite3_column_text(st, 5), "text");
		snprintf(line, sizeof line, "%" PRId64 ",%.10g,", (int64_t)sqlite3_column_int64(st, 0),
			 sqlite3_column_double(st, 1));
		csv_field(line, sizeof line, (const char *)sqlite3_column_text(st, 2));
		strncat(out, line, cap - strlen(out) - 2);
		strcat(out, "\n");
	}
	sqlite3_finalize(st);
	return out;
}

START_TEST(test_db_rows_equal_csv)
{
	const char *dbp = db_path("runs.db");
	struct out_run *r = open_run(at("run"), 0, dbp);
	ck_assert_int_eq(out_run_id(r), 1);
	write_sample(r);
	ck_assert_int_eq(out_run_metric(r, "energy_j", 12.5, "J"), 0);
	ck_assert_int_eq(out_run_metric(r, "ratio", 0.25, NULL), 0);
	commit_ok(r);

	sqlite3 *h = db_open(dbp);
	char *want = slurp(at("run/power.csv"));
	char *got = db_power_csv(h, 1);
	ck_assert_str_eq(got, want);
	free(got);
	free(want);
	/* exact doubles, not only their %.10g text */
	ck_assert_int_eq(db_int(h, "SELECT count(*) FROM power WHERE run_id=1 AND vm='a,b' "
				   "AND power_w = 1.0/3.0"),
			 1);
	ck_assert_int_eq(db_int(h, "SELECT count(*) FROM power"), NSAMPLE);
	ck_assert_str_eq(db_text(h, "SELECT status FROM run WHERE id=1"), "complete");
	ck_assert_str_eq(db_text(h, "SELECT scenario_name FROM run"), "fig5");
	ck_assert_str_eq(db_text(h, "SELECT scenario_file FROM run"), "scenarios/fig5.ini");
	ck_assert_str_eq(db_text(h, "SELECT scenario_text FROM run"), "[global]\nseed = 7\n");
	ck_assert_str_eq(db_text(h, "SELECT command_line FROM run"),
			 "joulevisor run scenarios/fig5.ini");
	ck_assert_str_eq(db_text(h, "SELECT tool_version FROM run"), "0.1.0");
	ck_assert_int_eq(db_int(h, "SELECT seed FROM run"), 7);
	ck_assert_int_eq(db_int(h, "SELECT started_at GLOB "
				   "'[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:"
				   "[0-9][0-9]Z' FROM run"),
			 1);
	ck_assert_int_eq(db_int(h, "SELECT version FROM schema_version"), 2);
	ck_assert_int_eq(db_int(h, "SELECT count(*) FROM metric WHERE run_id=1 AND "
				   "name='energy_j' AND value=12.5 AND unit='J'"),
			 1);
	ck_assert_int_eq(db_int(h, "SELECT count(*) FROM metric WHERE name='ratio' AND "
				   "unit IS NULL"),
			 1);
	ck_assert_int_eq(db_int(h, "SELECT count(*) FROM sqlite_master WHERE type='index' AND "
				   "tbl_name='power' AND sql LIKE '%run_id%'"),
			 1);
	/* the run is really gone when deleted: ON DELETE CASCADE */
	ck_assert_int_eq(sqlite3_exec(h, "PRAGMA foreign_keys=ON; DELETE FROM run WHERE id=1",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	ck_assert_int_eq(db_int(h, "SELECT count(*) FROM power"), 0);
	ck_assert_int_eq(db_int(h, "SELECT count(*) FROM metric"), 0);
	sqlite3_close(h);
}
END_TEST

START_TEST(test_db_no_db_table)
{
	const char *dbp = db_path("runs.db");
	static const char *const cols[] = { "t_ns", "power_w" };
	struct out_table *t, *bad = (struct out_table *)1;
	struct out_run *r = open_run(at("run"), 0, dbp);
	ck_assert_int_eq(out_table_open_ex(r, "power", cols, "id", OUT_TABLE_NO_DB, &t), 0);
	ck_assert_int_eq(out_table_rowv(t, (int64_t)5, 1.25), 0);
	commit_ok(r);
	char *s = slurp(at("run/power.csv"));
	ck_assert_str_eq(s, "t_ns,power_w\n5,1.25\n");
	free(s);
	sqlite3 *h = db_open(dbp);
	ck_assert(!table_exists(h, "power"));
	ck_assert_str_eq(db_text(h, "SELECT status FROM run"), "complete");
	sqlite3_close(h);

	r = open_run(at("run2"), 0, dbp);
	ck_assert_int_eq(out_table_open_ex(r, "power", cols, "id", 2, &bad), JV_EINVAL);
	ck_assert_ptr_null(bad);
	out_run_abort(r);
}
END_TEST

START_TEST(test_db_journal_wal)
{
	const char *dbp = db_path("runs.db");
	commit_ok(open_run(at("run"), 0, dbp));
	sqlite3 *h = db_open(dbp);
	ck_assert_str_eq(db_text(h, "PRAGMA journal_mode"), "wal");
	sqlite3_close(h);
	/* the last connection closed: no -wal / -shm left */
	ck_assert_str_eq(listing(base), "run,runs.db");
}
END_TEST

START_TEST(test_db_two_runs)
{
	const char *dbp = db_path("runs.db");
	struct out_run *r = open_run(at("run1"), 0, dbp);
	ck_assert_int_eq(out_run_id(r), 1);
	write_sample(r);
	commit_ok(r);
	r = open_run(at("run2"), 0, dbp);
	ck_assert_int_eq(out_run_id(r), 2);
	write_sample(r);
	ck_assert_int_eq(out_run_mark_incomplete(r), 0);
	commit_ok(r);

	sqlite3 *h = db_open(dbp);
	ck_assert_int_eq(db_int(h, "SELECT group_concat(id) = '1,2' FROM run ORDER BY id"), 1);
	ck_assert_str_eq(db_text(h, "SELECT status FROM run WHERE id=2"), "incomplete");
	ck_assert_int_eq(db_int(h, "SELECT count(*) FROM power WHERE run_id=2"), NSAMPLE);
	char *a = db_power_csv(h, 1), *b = db_power_csv(h, 2);
	ck_assert_str_eq(a, b);
	free(a);
	free(b);
	sqlite3_close(h);
}
END_TEST

START_TEST(test_db_abort_rolls_back)
{
	const char *dbp = db_path("runs.db");
	/* a first run commits; the second aborts and must leave no trace */
	struct out_run *r = open_run(at("run1"), 0, dbp);
	write_sample(r);
	commit_ok(r);
	r = open_run(at("run2"), 0, dbp);
	write_sample(r);
	static const char *const cols[] = { "x" };
	struct out_table *t;
	ck_assert_int_eq(out_table_open(r, "extra", cols, "d", &t), 0);
	ck_assert_int_eq(out_table_rowv(t, 1.0), 0);
	ck_assert_int_eq(out_run_metric(r, "m", 1.0, "J"), 0);
	out_run_abort(r);

	sqlite3 *h = db_open(dbp);
	ck_assert_int_eq(db_int(h, "SELECT count(*) FROM run"), 1);
	ck_assert_int_eq(db_int(h, "SELECT count(*) FROM power WHERE run_id<>1"), 0);
	ck_assert_int_eq(db_int(h, "SELECT count(*) FROM power"), NSAMPLE);
	ck_assert_int_eq(db_int(h, "SELECT count(*) FROM metric"), 0);
	ck_assert(!table_exists(h, "extra")); /* created by the aborted run only */
	sqlite3_close(h);
	ck_assert_str_eq(listing(base), "run1,runs.db");
}
END_TEST

START_TEST(test_db_abort_first_run)
{
	const char *dbp = db_path("runs.db");
	struct out_run *r = open_run(at("run"), 0, dbp);
	write_sample(r);
	out_run_abort(r);
	sqlite3 *h = db_open(dbp);
	/* even the schema was rolled back: the next run starts clean with id 1 */
	ck_assert_int_eq(db_int(h, "SELECT count(*) FROM sqlite_master"), 0);
	sqlite3_close(h);
	r = open_run(at("run"), 0, dbp);
	ck_assert_int_eq(out_run_id(r), 1);
	commit_ok(r);
}
END_TEST

START_TEST(test_db_schema_version_refused)
{
	const char *dbp = db_path("runs.db");
	commit_ok(open_run(at("run1"), 0, dbp));
	sqlite3 *h = db_open(dbp);
	ck_assert_int_eq(sqlite3_exec(h, "UPDATE schema_version SET version=3", NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(h);

	struct jv_diag d;
	ck_assert_int_eq(open_refused(at("run2"), 0, dbp, &d), JV_EDB);
	char want[PATH_LEN + 100];
	snprintf(want, sizeof want, "%s: database schema version 3, this joulevisor writes version 2",
		 dbp);
	ck_assert_str_eq(d.msg, want);
	ck_assert_str_eq(listing(base), "run1,runs.db");
}
END_TEST

START_TEST(test_db_foreign_db_refused)
{
	const char *dbp = db_path("other.db");
	sqlite3 *h = NULL;
	ck_assert_int_eq(sqlite3_open(dbp, &h), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(h, "CREATE TABLE t(x)", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
	struct jv_diag d;
	ck_assert_int_eq(open_refused(at("run"), 0, dbp, &d), JV_EDB);
	ck_assert_ptr_nonnull(strstr(d.msg, "no schema_version table"));
	ck_assert_str_eq(listing(base), "other.db");
}
END_TEST

START_TEST(test_db_garbage_refused)
{
	static const char *const garbage[] = {
		"this is not a database\n",
		"SQLite format 2\n........................................................",
	};
	for (size_t i = 0; i < sizeof garbage / sizeof garbage[0]; i++) {
		const char *dbp = db_path("garbage.db");
		char big[8192];
		size_t n = strlen(garbage[i]);
		for (size_t k = 0; k + 1 < sizeof big; k++)
			big[k] = garbage[i][k % n];
		big[sizeof big - 1] = '\0';
		spit(dbp, i ? big : garbage[i]);
		struct jv_diag d;
		ck_assert_int_eq(open_refused(at("run"), 0, dbp, &d), JV_EDB);
		char want[PATH_LEN + 100];
		snprintf(want, sizeof want, "%s: not an SQLite database", dbp);
		ck_assert_str_eq(d.msg, want);
		char *s = slurp(dbp);
		ck_assert_str_eq(s, i ? big : garbage[i]); /* untouched */
		free(s);
		ck_assert_str_eq(listing(base), "garbage.db");
	}
}
END_TEST

START_TEST(test_db_cannot_open)
{
	struct jv_diag d;
	ck_assert_int_eq(open_refused(at("run"), 0, at("no/such/dir/runs.db"), &d), JV_EDB);
	ck_assert_ptr_nonnull(strstr(d.msg, "runs.db: cannot open database"));
	ck_assert_str_eq(listing(base), "");
}
END_TEST

START_TEST(test_db_columns_must_match)
{
	const char *dbp = db_path("runs.db");
	struct out_run *r = open_run(at("run1"), 0, dbp);
	write_sample(r);
	commit_ok(r);

	static const char *const cols[] = { "t_ns", "power_w", "vm" };
	struct out_table *t;
	r = open_run(at("run2"), 0, dbp);
	ck_assert_int_eq(out_table_open(r, "power", cols, "idi", &t), JV_EDB);
	ck_assert_ptr_null(t);
	ck_assert_ptr_nonnull(strstr(out_run_diag(r)->msg,
				     "table 'power' has columns (run_id INTEGER, t_ns INTEGER, "
				     "power_w REAL, vm TEXT) but this run writes (run_id INTEGER, "
				     "t_ns INTEGER, power_w REAL, vm INTEGER)"));
	struct jv_diag d;
	ck_assert_int_eq(commit_err(r, &d), JV_EDB);
	ck_assert_str_eq(listing(base), "run1,runs.db");

	static const char *const fewer[] = { "t_ns", "power_w" };
	r = open_run(at("run2"), 0, dbp);
	ck_assert_int_eq(out_table_open(r, "power", fewer, "id", &t), JV_EDB);
	out_run_abort(r);

	sqlite3 *h = db_open(dbp);
	ck_assert_int_eq(db_int(h, "SELECT count(*) FROM run"), 1);
	sqlite3_close(h);
}
END_TEST

START_TEST(test_db_big_seed_and_null_info)
{
	const char *dbp = db_path("runs.db");
	struct out_run_info info = { .seed = UINT64_MAX };
	struct out_run *r = NULL;
	struct jv_diag d;
	jv_diag_clear(&d);
	ck_assert_int_eq(out_run_open(at("run"), 0, dbp, &info, &r, &d), 0);
	commit_ok(r);
	jv_diag_clear(&d);
	ck_assert_int_eq(out_run_open(at("run2"), 0, dbp, NULL, &r, &d), 0);
	commit_ok(r);
	sqlite3 *h = db_open(dbp);
	ck_assert_uint_eq((uint64_t)db_int(h, "SELECT seed FROM run WHERE id=1"), UINT64_MAX);
	ck_assert_str_eq(db_text(h, "SELECT scenario_name FROM run WHERE id=1"), "(null)");
	ck_assert_int_eq(db_int(h, "SELECT seed FROM run WHERE id=2"), 0);
	sqlite3_close(h);
}
END_TEST

/* The database COMMIT fails after the directory was renamed into place:
 * the new DIR goes away and the old one comes back. */
START_TEST(test_db_commit_failure_restores)
{
	const char *dbp = db_path("runs.db");
	ck_assert_int_eq(mkdir(at("run"), 0777), 0);
	spit(at("run/old.csv"), "old\n");
	struct out_run *r = open_run(at("run"), 1, dbp);
	char name[300];
	memset(name, 'n', sizeof name - 1);
	name[sizeof name - 1] = '\0';
	for (int i = 0; i < 3000; i++) /* ~1 MB of WAL pages, all written at COMMIT */
		ck_assert_int_eq(out_run_metric(r, name, (double)i, "J"), 0);
	limit_file_size(FSIZE_LIMIT_B);
	struct jv_diag d;
	int err = commit_err(r, &d);
	unlimit_file_size();
	ck_assert_int_eq(err, JV_EDB);
	ck_assert_ptr_nonnull(strstr(d.msg, "runs.db: committing the run: "));
	ck_assert_str_eq(listing(at("run")), "old.csv");
	sqlite3 *h = db_open(dbp);
	/* a fresh database: the rollback took the schema with it */
	ck_assert_int_eq(db_int(h, "SELECT count(*) FROM sqlite_master"), 0);
	sqlite3_close(h);
	ck_assert_str_eq(listing(base), "run,runs.db");
}
END_TEST

static Suite *out_suite(void)
{
	Suite *s = suite_create("out");
	TCase *tc = tcase_create("dir");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_tables_and_text);
	tcase_add_test(tc, test_mode_like_mkdir);
	tcase_add_test(tc, test_parent_created);
	tcase_add_test(tc, test_exists_refused);
	tcase_add_test(tc, test_exists_file_refused_even_with_force);
	tcase_add_test(tc, test_force_replaces);
	tcase_add_test(tc, test_abort_leaves_nothing);
	tcase_add_test(tc, test_abort_keeps_old_with_force);
	tcase_add_test(tc, test_exists_at_commit_refused);
	tcase_add_test(tc, test_write_failure_table);
	tcase_add_test(tc, test_write_failure_at_commit);
	tcase_add_test(tc, test_write_failure_keeps_old);
	tcase_add_test(tc, test_write_failure_text_ignored_by_caller);
	tcase_add_test(tc, test_nonfinite_rejected);
	tcase_add_test(tc, test_bad_declarations);
	tcase_add_test(tc, test_misuse);
	tcase_add_test(tc, test_many_rows);
	tcase_add_test(tc, test_hash);
	suite_add_tcase(s, tc);

	TCase *tdb = tcase_create("sqlite");
	tcase_add_checked_fixture(tdb, setup, teardown);
	tcase_set_timeout(tdb, 60);
	tcase_add_test(tdb, test_db_rows_equal_csv);
	tcase_add_test(tdb, test_db_no_db_table);
	tcase_add_test(tdb, test_db_journal_wal);
	tcase_add_test(tdb, test_db_two_runs);
	tcase_add_test(tdb, test_db_abort_rolls_back);
	tcase_add_test(tdb, test_db_abort_first_run);
	tcase_add_test(tdb, test_db_schema_version_refused);
	tcase_add_test(tdb, test_db_foreign_db_refused);
	tcase_add_test(tdb, test_db_garbage_refused);
	tcase_add_test(tdb, test_db_cannot_open);
	tcase_add_test(tdb, test_db_columns_must_match);
	tcase_add_test(tdb, test_db_big_seed_and_null_info);
	tcase_add_test(tdb, test_db_commit_failure_restores);
	suite_add_tcase(s, tdb);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(out_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
