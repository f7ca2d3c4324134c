/*
 * out: the run directory (tidy CSV tables and text files) and its commit
 * protocol; the SQLite side lives in out_sqlite.c (design §7).
 *
 * Problem: a run writes a dozen files, some with millions of rows, and may
 * fail half-way (bad value, full disk, Ctrl-C). Readers (pandas, R, gnuplot,
 * `joulevisor compare`) must never see a half-written run directory, and a
 * previous run must not be lost unless the user asked (--force).
 *
 * Strategy:
 *   open    DIR must not exist unless force; its parent is created (mkdir -p).
 *           Everything is written into a fresh sibling DIR.tmp-XXXXXX (made
 *           with mkdir(2) and a random suffix, retried on EEXIST, so that it
 *           gets the usual 0777 & ~umask mode; mkdtemp would give 0700).
 *           With a database, its transaction starts here (out_sqlite.c).
 *   write   Tables go to <name>.csv through a 1 MiB stdio buffer: a header of
 *           column names, then one line per row: 'i' as %PRId64, 'd' as
 *           %.10g, 's' quoted only when it holds a comma, quote, CR or LF
 *           (RFC 4180, quotes doubled; an empty string in a one-column table
 *           is written "" so the line is not blank). Lines end in LF. Every
 *           stdio call is checked; a NaN or infinity, a NULL string or any
 *           misuse is an internal error (JV_EINVAL).
 *   files   out_run_fopen() returns a FILE* (fopencookie) whose write and
 *           close hooks report to the run, so a write error is seen at commit
 *           even if the caller ignores fclose's result, and a file the caller
 *           forgot to close is flushed and closed by commit. The caller should
 *           fclose it before out_run_commit/out_run_abort and must not touch
 *           it afterwards.
 *   commit  Close (flush, fsync) every table and file, fsync DIR.tmp, move an
 *           existing DIR aside to DIR.old-XXXXXX, rename DIR.tmp to DIR,
 *           fsync the parent, COMMIT the database, then remove DIR.old. Any
 *           failure undoes the renames (the old DIR comes back), removes the
 *           temporary directory and rolls the database back.
 *   abort   Remove DIR.tmp recursively, roll the database back.
 *
 * Errors are sticky: the first failure of any call on a run is recorded
 * (out_run_diag), later calls return it at once, and out_run_commit fails
 * with it. So a caller may check only the commit result and still never
 * publish an incomplete run.
 *
 * Names: tables and columns are identifiers [A-Za-z_][A-Za-z0-9_]* of at
 * most OUT_NAME_MAX - 1 chars (they become file names and SQL names), not
 * the database's own tables (run, metric, schema_version, sqlite_*), and a
 * column is never `run_id`; names compare case-insensitively for
 * uniqueness. Text file names are [A-Za-z0-9._-]+ not starting with '.'.
 *
 * Limits: a crash (SIGKILL, power loss) can leave a DIR.tmp-* or DIR.old-*
 * directory behind; nothing removes stale ones. Error messages name the
 * final path (DIR/power.csv), not the temporary one.
 */
#define _GNU_SOURCE /* fopencookie */

#include "sim/out.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "sim/out_sqlite.h"

#define OUT_TABLE_BUF_B (1024 * 1024)  /* stdio buffer per table */
#define OUT_NAME_MAX 64                /* table/column name incl. NUL */
#define OUT_FILE_NAME_MAX 256          /* text file name incl. NUL */
#define OUT_MAX_COLS 1024              /* columns per table */
#define OUT_SUFFIX_LEN 6               /* XXXXXX in DIR.tmp-XXXXXX */
#define OUT_UNIQUE_TRIES 1000          /* attempts to find a free suffix */
#define OUT_NFTW_FDS 16                /* fds nftw may hold when removing */
#define OUT_HASH_CHUNK_B (64 * 1024)   /* read size for out_file_hash */
#define OUT_DIR_MODE 0777              /* before umask */
#define OUT_FILE_MODE 0666             /* before umask */

struct out_file {
	struct out_run *run;
	char *path; /* final path, for messages */
	int fd;
	FILE *f; /* NULL once closed */
	struct out_file *next;
};

struct out_table {
	struct out_run *run;
	char *name;
	char *path; /* final path, for messages */
	size_t ncols;
	char *types;
	FILE *f; /* NULL once closed */
	char *buf;
	struct out_val *scratch; /* for out_table_rowv */
	struct out_sqlite_table *dbt;
	struct out_table *next;
};

struct out_run {
	char *dir;    /* final path, trailing slashes removed */
	char *tmp;    /* DIR.tmp-XXXXXX */
	char *parent; /* directory holding both */
	int force;
	int incomplete;
	int aborting;
	struct out_table *tables;
	struct out_file *files;
	struct out_sqlite *db;
	struct jv_diag err; /* first error, sticky */
};

/* ---- small helpers ---------------------------------------------------- */

static char *str_cat3(const char *a, const char *b, const char *c)
{
	size_t na = strlen(a), nb = strlen(b), nc = strlen(c);
	char *s = malloc(na + nb + nc + 1);
	if (!s)
		return NULL;
	memcpy(s, a, na);
	memcpy(s + na, b, nb);
	memcpy(s + na + nb, c, nc + 1);
	return s;
}

/* Record the run's first error; returns err. */
static int run_fail(struct out_run *r, int err, const char *file, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int run_fail(struct out_run *r, int err, const char *file, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	jv_diag_vset(&r->err, err, file, 0, fmt, ap);
	va_end(ap);
	return err;
}

static int run_io_fail(struct out_run *r, const char *path, const char *what, int errnum)
{
	return run_fail(r, JV_EIO, path, "%s: %s", what, strerror(errnum));
}

static int is_ident(const char *s)
{
	size_t n = 0;
	if (!s || !(*s == '_' || (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z')))
		return 0;
	for (; *s; s++, n++) {
		char c = *s;
		if (!(c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9')))
			return 0;
	}
	return n < OUT_NAME_MAX;
}

static int is_reserved_table(const char *s)
{
	return strcasecmp(s, "run") == 0 || strcasecmp(s, "metric") == 0 ||
	       strcasecmp(s, "schema_version") == 0 || strncasecmp(s, "sqlite_", 7) == 0;
}

static int is_file_name(const char *s)
{
	size_t n = 0;
	if (!s || !*s || *s == '.')
		return 0;
	for (; *s; s++, n++) {
		char c = *s;
		if (!(c == '_' || c == '-' || c == '.' || (c >= 'A' && c <= 'Z') ||
		      (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
			return 0;
	}
	return n < OUT_FILE_NAME_MAX;
}

/* splitmix64 step: a well-mixed 64-bit value from any seed. */
static uint64_t mix64(uint64_t x)
{
	x += 0x9E3779B97F4A7C15ull;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
	return x ^ (x >> 31);
}

/* mkdir(base INFIX XXXXXX) with a fresh random suffix; *out is malloc'd.
 * Returns 0 or -1 with errno set. */
static int make_unique_dir(const char *base, const char *infix, char **out)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	static _Thread_local uint64_t counter;
	struct timespec ts;
	char suffix[OUT_SUFFIX_LEN + 1];
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t state = mix64((uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec) ^
			 mix64((uint64_t)getpid() << 20) ^ mix64((uint64_t)(uintptr_t)&ts);
	for (int tries = 0; tries < OUT_UNIQUE_TRIES; tries++) {
		uint64_t x = mix64(state + ++counter);
		for (int i = 0; i < OUT_SUFFIX_LEN; i++, x /= sizeof alphabet - 1)
			suffix[i] = alphabet[x % (sizeof alphabet - 1)];
		suffix[OUT_SUFFIX_LEN] = '\0';
		char *path = str_cat3(base, infix, suffix);
		if (!path) {
			errno = ENOMEM;
			return -1;
		}
		if (mkdir(path, OUT_DIR_MODE) == 0) {
			*out = path;
			return 0;
		}
		int e = errno;
		free(path);
		if (e != EEXIST) {
			errno = e;
			return -1;
		}
	}
	errno = EEXIST;
	return -1;
}

/* mkdir -p. Returns 0 or -1 with errno set. */
static int mkdir_p(const char *path)
{
	char *p = strdup(path);
	struct stat st;
	int rc = 0;
	if (!p) {
		errno = ENOMEM;
		return -1;
	}
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, OUT_DIR_MODE) != 0 && errno != EEXIST) {
			rc = -1;
			break;
		}
		*s = c;
		if (!c)
			break;
	}
	int e = errno;
	free(p);
	if (rc == 0 && stat(path, &st) != 0)
		return -1;
	if (rc == 0 && !S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	errno = e;
	return rc;
}

static int remove_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) != 0 && errno != ENOENT ? -1 : 0;
}

/* rm -rf path (symbolic links are removed, never followed). */
static int remove_tree(const char *path)
{
	struct stat st;
	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : -1;
	return nftw(path, remove_cb, OUT_NFTW_FDS, FTW_DEPTH | FTW_PHYS);
}

/* fsync a directory; file systems that cannot (EINVAL) are accepted. */
static int fsync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd) != 0 && errno != EINVAL ? -1 : 0;
	int e = errno;
	close(fd);
	errno = e;
	return rc;
}

/* Create name inside the temporary directory, exclusively. */
static int open_in_tmp(struct out_run *r, const char *name, const char *final_path)
{
	char *p = str_cat3(r->tmp, "/", name);
	if (!p)
		return run_fail(r, JV_ENOMEM, final_path, "out of memory");
	int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, OUT_FILE_MODE);
	int e = errno;
	free(p);
	if (fd < 0)
		return run_io_fail(r, final_path, "cannot create", e);
	return fd;
}

/* ---- run ------------------------------------------------------------------ */

static void run_free(struct out_run *r)
{
	while (r->tables) {
		struct out_table *t = r->tables;
		r->tables = t->next;
		free(t->name);
		free(t->path);
		free(t->types);
		free(t->buf);
		free(t->scratch);
		free(t);
	}
	while (r->files) {
		struct out_file *f = r->files;
		r->files = f->next;
		free(f->path);
		free(f);
	}
	free(r->dir);
	free(r->tmp);
	free(r->parent);
	free(r);
}

/* Split dir into r->dir (no trailing slash) and r->parent. */
static int set_paths(struct out_run *r, const char *dir, struct jv_diag *d)
{
	size_t n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (!(r->dir = strndup(dir, n)))
		return jv_diag_set(d, JV_ENOMEM, dir, 0, "out of memory");
	char *slash = strrchr(r->dir, '/');
	const char *base = slash ? slash + 1 : r->dir;
	if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
		return jv_diag_set(d, JV_EINVAL, dir, 0,
				   "not usable as an output directory (name a new directory)");
	if (!slash)
		r->parent = strdup(".");
	else if (slash == r->dir)
		r->parent = strdup("/");
	else
		r->parent = strndup(r->dir, (size_t)(slash - r->dir));
	if (!r->parent)
		return jv_diag_set(d, JV_ENOMEM, dir, 0, "out of memory");
	return 0;
}

/* JV_EEXIST unless dir is absent, or a directory and force is set. */
static int check_existing(const char *dir, int force, int *exists, struct jv_diag *d)
{
	struct stat st;
	*exists = 0;
	if (lstat(dir, &st) != 0) {
		if (errno == ENOENT)
			return 0;
		return jv_diag_set(d, JV_EIO, dir, 0, "%s", strerror(errno));
	}
	*exists = 1;
	if (!S_ISDIR(st.st_mode))
		return jv_diag_set(d, JV_EEXIST, dir, 0,
				   "exists and is not a directory (refusing to replace it)");
	if (!force)
		return jv_diag_set(d, JV_EEXIST, dir, 0,
				   "output directory exists (use --force to replace it)");
	return 0;
}

int out_run_open(const char *dir, int force, const char *db,
		 const struct out_run_info *info, struct out_run **out,
		 struct jv_diag *d)
{
	int err, exists;
	if (!out)
		return jv_diag_set(d, JV_EINVAL, NULL, 0, "out_run_open: no result pointer");
	*out = NULL;
	if (!dir || !*dir)
		return jv_diag_set(d, JV_EINVAL, NULL, 0, "empty output directory name");
	struct out_run *r = calloc(1, sizeof *r);
	if (!r)
		return jv_diag_set(d, JV_ENOMEM, dir, 0, "out of memory");
	r->force = force;
	if ((err = set_paths(r, dir, d)) || (err = check_existing(r->dir, force, &exists, d)))
		goto fail;
	if (mkdir_p(r->parent) != 0) {
		err = jv_diag_set(d, JV_EIO, r->parent, 0, "cannot create directory: %s",
				  strerror(errno));
		goto fail;
	}
	if (make_unique_dir(r->dir, ".tmp-", &r->tmp) != 0) {
		err = jv_diag_set(d, JV_EIO, r->dir, 0, "cannot create a temporary directory: %s",
				  strerror(errno));
		goto fail;
	}
	if (db && (err = out_sqlite_open(db, info, &r->db, d)))
		goto fail;
	*out = r;
	return 0;
fail:
	if (r->tmp)
		remove_tree(r->tmp);
	run_free(r);
	return err;
}

const char *out_run_dir(const struct out_run *r)
{
	return r ? r->dir : NULL;
}

int64_t out_run_id(const struct out_run *r)
{
	return r ? out_sqlite_run_id(r->db) : 0;
}

const struct jv_diag *out_run_diag(const struct out_run *r)
{
	return r ? &r->err : NULL;
}

int out_run_mark_incomplete(struct out_run *r)
{
	if (!r)
		return JV_EINVAL;
	r->incomplete = 1;
	return 0;
}

int out_run_metric(struct out_run *r, const char *name, double value, const char *unit)
{
	if (!r)
		return JV_EINVAL;
	if (r->err.err)
		return r->err.err;
	if (!name || !*name)
		return run_fail(r, JV_EINVAL, r->dir, "metric without a name");
	if (!isfinite(value))
		return run_fail(r, JV_EINVAL, r->dir, "metric '%s': not a finite number (%g)", name,
				value);
	if (!r->db)
		return 0;
	return out_sqlite_metric(r->db, name, value, unit, &r->err);
}

/* ---- text files (fopencookie) ------------------------------------------- */

static ssize_t file_write(void *cookie, const char *buf, size_t n)
{
	struct out_file *of = cookie;
	size_t done = 0;
	while (done < n) {
		ssize_t w = write(of->fd, buf + done, n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int e = w < 0 ? errno : EIO;
			run_io_fail(of->run, of->path, "write failed", e);
			errno = e;
			break;
		}
		done += (size_t)w;
	}
	return (ssize_t)done; /* short count: stdio sets the error flag */
}

static int file_close(void *cookie)
{
	struct out_file *of = cookie;
	int rc = 0;
	if (!of->run->aborting && fsync(of->fd) != 0 && errno != EINVAL) {
		run_io_fail(of->run, of->path, "fsync failed", errno);
		rc = -1;
	}
	if (close(of->fd) != 0 && rc == 0) {
		run_io_fail(of->run, of->path, "close failed", errno);
		rc = -1;
	}
	of->fd = -1;
	of->f = NULL;
	return rc;
}

FILE *out_run_fopen(struct out_run *r, const char *name)
{
	static const cookie_io_functions_t io = { .write = file_write, .close = file_close };
	if (!r || r->err.err)
		return NULL;
	if (!is_file_name(name)) {
		run_fail(r, JV_EINVAL, r->dir, "invalid output file name '%s'", name ? name : "(null)");
		return NULL;
	}
	struct out_file *of = calloc(1, sizeof *of);
	if (!of || !(of->path = str_cat3(r->dir, "/", name))) {
		free(of);
		run_fail(r, JV_ENOMEM, r->dir, "out of memory");
		return NULL;
	}
	of->run = r;
	of->next = r->files;
	r->files = of;
	of->fd = open_in_tmp(r, name, of->path);
	if (of->fd < 0)
		return NULL;
	if (!(of->f = fopencookie(of, "w", io))) {
		run_io_fail(r, of->path, "cannot open", errno);
		close(of->fd);
		of->fd = -1;
		return NULL;
	}
	return of->f;
}

/* ---- tables --------------------------------------------------------------- */

static int check_table_decl(struct out_run *r, const char *name, const char *const *cols,
			    const char *types, size_t *ncols)
{
	if (!is_ident(name) || is_reserved_table(name))
		return run_fail(r, JV_EINVAL, r->dir,
				"invalid table name '%s' (want [A-Za-z_][A-Za-z0-9_]*, at most %d "
				"chars, not run, metric, schema_version or sqlite_*)",
				name ? name : "(null)", OUT_NAME_MAX - 1);
	for (struct out_table *t = r->tables; t; t = t->next)
		if (strcasecmp(t->name, name) == 0)
			return run_fail(r, JV_EINVAL, r->dir, "table '%s' declared twice", name);
	size_t n = types ? strlen(types) : 0;
	if (n == 0 || n > OUT_MAX_COLS || !cols)
		return run_fail(r, JV_EINVAL, r->dir, "table '%s': want 1 to %d columns", name,
				OUT_MAX_COLS);
	for (size_t k = 0; k < n; k++) {
		if (types[k] != OUT_INT && types[k] != OUT_DBL && types[k] != OUT_STR)
			return run_fail(r, JV_EINVAL, r->dir,
					"table '%s': column type '%c' (valid: i d s)", name,
					types[k]);
		if (!is_ident(cols[k]) || strcasecmp(cols[k], "run_id") == 0)
			return run_fail(r, JV_EINVAL, r->dir,
					"table '%s': invalid column name '%s' (want "
					"[A-Za-z_][A-Za-z0-9_]*, not run_id)",
					name, cols[k] ? cols[k] : "(null)");
		for (size_t j = 0; j < k; j++)
			if (strcasecmp(cols[j], cols[k]) == 0)
				return run_fail(r, JV_EINVAL, r->dir,
						"table '%s': column '%s' declared twice", name,
						cols[k]);
	}
	*ncols = n;
	return 0;
}

static int table_io_fail(struct out_table *t)
{
	return run_io_fail(t->run, t->path, "write failed", errno ? errno : EIO);
}

static int write_header(struct out_table *t, const char *const *cols)
{
	for (size_t k = 0; k < t->ncols; k++) {
		errno = 0;
		if ((k && putc(',', t->f) == EOF) || fputs(cols[k], t->f) == EOF)
			return table_io_fail(t);
	}
	errno = 0;
	if (putc('\n', t->f) == EOF)
		return table_io_fail(t);
	return 0;
}

int out_table_open(struct out_run *r, const char *name, const char *const *cols,
		   const char *types, struct out_table **out)
{
	return out_table_open_ex(r, name, cols, types, 0, out);
}

int out_table_open_ex(struct out_run *r, const char *name, const char *const *cols,
		      const char *types, unsigned flags, struct out_table **out)
{
	size_t ncols = 0;
	int err, fd;
	if (!out)
		return r ? run_fail(r, JV_EINVAL, NULL, "out_table_open: no result pointer")
			 : JV_EINVAL;
	*out = NULL;
	if (!r)
		return JV_EINVAL;
	if (r->err.err)
		return r->err.err;
	if (flags & ~OUT_TABLE_NO_DB)
		return run_fail(r, JV_EINVAL, r->dir, "out_table_open_ex: unknown flags %#x", flags);
	if ((err = check_table_decl(r, name, cols, types, &ncols)))
		return err;
	struct out_table *t = calloc(1, sizeof *t);
	if (!t)
		return run_fail(r, JV_ENOMEM, r->dir, "out of memory");
	t->run = r;
	t->ncols = ncols;
	t->next = r->tables;
	r->tables = t; /* freed with the run from here on */
	char *file = str_cat3(name, ".csv", "");
	if (!file || !(t->name = strdup(name)) || !(t->types = strdup(types)) ||
	    !(t->path = str_cat3(r->dir, "/", file)) || !(t->buf = malloc(OUT_TABLE_BUF_B)) ||
	    !(t->scratch = calloc(ncols, sizeof *t->scratch))) {
		free(file);
		return run_fail(r, JV_ENOMEM, r->dir, "out of memory");
	}
	fd = open_in_tmp(r, file, t->path);
	free(file);
	if (fd < 0)
		return fd;
	if (!(t->f = fdopen(fd, "w"))) {
		close(fd);
		return run_io_fail(r, t->path, "cannot open", errno);
	}
	if (setvbuf(t->f, t->buf, _IOFBF, OUT_TABLE_BUF_B) != 0)
		return run_io_fail(r, t->path, "setvbuf failed", errno ? errno : EINVAL);
	if ((err = write_header(t, cols)))
		return err;
	if (r->db && !(flags & OUT_TABLE_NO_DB) &&
	    (err = out_sqlite_table_open(r->db, name, cols, types, ncols, &t->dbt, &r->err)))
		return err;
	*out = t;
	return 0;
}

/* RFC 4180 field: quoted only when needed, quotes doubled. The caller
 * holds the stream lock. */
static int put_str(FILE *f, const char *s, int quote_empty)
{
	if (!s[strcspn(s, ",\"\r\n")] && (*s || !quote_empty))
		return fputs(s, f) == EOF ? -1 : 0;
	if (putc_unlocked('"', f) == EOF)
		return -1;
	for (; *s; s++)
		if ((*s == '"' && putc_unlocked('"', f) == EOF) || putc_unlocked(*s, f) == EOF)
			return -1;
	return putc_unlocked('"', f) == EOF ? -1 : 0;
}

static int check_row(struct out_table *t, const struct out_val *vals)
{
	for (size_t k = 0; k < t->ncols; k++) {
		if (t->types[k] == OUT_DBL && !isfinite(vals[k].v.d))
			return run_fail(t->run, JV_EINVAL, t->path,
					"column %zu: not a finite number (%g)", k + 1, vals[k].v.d);
		if (t->types[k] == OUT_STR && !vals[k].v.s)
			return run_fail(t->run, JV_EINVAL, t->path, "column %zu: NULL string",
					k + 1);
	}
	return 0;
}

static int write_fields(struct out_table *t, const struct out_val *vals)
{
	FILE *f = t->f;
	for (size_t k = 0; k < t->ncols; k++) {
		int rc;
		if (k && putc_unlocked(',', f) == EOF)
			return -1;
		switch (t->types[k]) {
		case OUT_INT:
			rc = fprintf(f, "%" PRId64, vals[k].v.i);
			break;
		case OUT_DBL:
			rc = fprintf(f, "%.10g", vals[k].v.d);
			break;
		default:
			rc = put_str(f, vals[k].v.s, t->ncols == 1);
			break;
		}
		if (rc < 0)
			return -1;
	}
	return putc_unlocked('\n', f) == EOF ? -1 : 0;
}

/* One CSV line; the stream is locked once per row, not per character. */
static int write_row(struct out_table *t, const struct out_val *vals)
{
	errno = 0;
	flockfile(t->f);
	int rc = write_fields(t, vals);
	funlockfile(t->f);
	return rc ? table_io_fail(t) : 0;
}

int out_table_row(struct out_table *t, const struct out_val *vals)
{
	int err;
	if (!t)
		return JV_EINVAL;
	struct out_run *r = t->run;
	if (r->err.err)
		return r->err.err;
	if (!t->f)
		return run_fail(r, JV_EINVAL, t->path, "row written after the table was closed");
	if (!vals)
		return run_fail(r, JV_EINVAL, t->path, "row without values");
	if ((err = check_row(t, vals)) || (err = write_row(t, vals)))
		return err;
	if (t->dbt)
		return out_sqlite_table_row(t->dbt, vals, &r->err);
	return 0;
}

int out_table_rowv(struct out_table *t, ...)
{
	va_list ap;
	if (!t)
		return JV_EINVAL;
	va_start(ap, t);
	for (size_t k = 0; k < t->ncols; k++) {
		switch (t->types[k]) {
		case OUT_INT:
			t->scratch[k].v.i = va_arg(ap, int64_t);
			break;
		case OUT_DBL:
			t->scratch[k].v.d = va_arg(ap, double);
			break;
		default:
			t->scratch[k].v.s = va_arg(ap, const char *);
			break;
		}
	}
	va_end(ap);
	return out_table_row(t, t->scratch);
}

/* Flush, fsync and close the CSV file; finalize the SQL insert. */
static int table_finish(struct out_table *t)
{
	struct out_run *r = t->run;
	int err = 0;
	out_sqlite_table_close(t->dbt);
	t->dbt = NULL;
	if (!t->f)
		return 0;
	if (!r->aborting) {
		if (fflush(t->f) != 0)
			err = run_io_fail(r, t->path, "write failed", errno);
		else if (fsync(fileno(t->f)) != 0 && errno != EINVAL)
			err = run_io_fail(r, t->path, "fsync failed", errno);
	}
	if (fclose(t->f) != 0 && !err && !r->aborting)
		err = run_io_fail(r, t->path, "close failed", errno);
	t->f = NULL;
	free(t->buf);
	t->buf = NULL;
	return err;
}

int out_table_close(struct out_table *t)
{
	if (!t)
		return JV_EINVAL;
	int err = table_finish(t);
	return err ? err : t->run->err.err;
}

/* ---- commit / abort ------------------------------------------------------ */

static void close_all(struct out_run *r)
{
	for (struct out_table *t = r->tables; t; t = t->next)
		table_finish(t);
	for (struct out_file *f = r->files; f; f = f->next)
		if (f->f)
			fclose(f->f); /* file_close records any error */
}

void out_run_abort(struct out_run *r)
{
	if (!r)
		return;
	r->aborting = 1;
	close_all(r);
	if (r->tmp && remove_tree(r->tmp) != 0)
		jv_warn(r->tmp, 0, "cannot remove temporary directory: %s", strerror(errno));
	out_sqlite_abort(r->db);
	r->db = NULL;
	run_free(r);
}

/* Move an existing DIR aside (force) so the new one can take its place. */
static int move_old_aside(struct out_run *r, char **old)
{
	int exists, err;
	struct jv_diag tmpd;
	jv_diag_clear(&tmpd);
	*old = NULL;
	if ((err = check_existing(r->dir, r->force, &exists, &tmpd)))
		return run_fail(r, err, NULL, "%s", tmpd.msg);
	if (!exists)
		return 0;
	if (make_unique_dir(r->dir, ".old-", old) != 0)
		return run_io_fail(r, r->dir, "cannot create a directory to move the old one to",
				   errno);
	if (rename(r->dir, *old) != 0) {
		int e = errno;
		rmdir(*old);
		free(*old);
		*old = NULL;
		return run_io_fail(r, r->dir, "cannot move the old directory aside", e);
	}
	return 0;
}

/* Put things back after a failed commit: the new DIR back to DIR.tmp (then
 * removed by abort) and the old DIR back to its name. */
static void undo_commit(struct out_run *r, int moved, char *old)
{
	if (moved && rename(r->dir, r->tmp) != 0)
		jv_warn(r->dir, 0, "cannot undo the rename of the new run directory: %s",
			strerror(errno));
	if (old && rename(old, r->dir) != 0)
		jv_warn(old, 0, "cannot restore the previous run directory as %s: %s", r->dir,
			strerror(errno));
	free(old);
}

int out_run_commit(struct out_run *r, struct jv_diag *d)
{
	char *old = NULL;
	int moved = 0, err;
	if (!r)
		return jv_diag_set(d, JV_EINVAL, NULL, 0, "out_run_commit: no run");
	close_all(r);
	if ((err = r->err.err))
		goto fail;
	if (fsync_dir(r->tmp) != 0) {
		err = run_io_fail(r, r->dir, "fsync failed", errno);
		goto fail;
	}
	if ((err = move_old_aside(r, &old)))
		goto fail;
	if (rename(r->tmp, r->dir) != 0) {
		err = run_io_fail(r, r->dir, "cannot rename the temporary directory into place",
				  errno);
		goto fail;
	}
	moved = 1;
	if (fsync_dir(r->parent) != 0) {
		err = run_io_fail(r, r->parent, "fsync failed", errno);
		goto fail;
	}
	if (r->db) {
		err = out_sqlite_commit(r->db, r->incomplete ? "incomplete" : "complete", &r->err);
		r->db = NULL; /* freed by out_sqlite_commit either way */
		if (err)
			goto fail;
	}
	if (old && remove_tree(old) != 0)
		jv_warn(old, 0, "cannot remove the previous run directory: %s", strerror(errno));
	free(old);
	run_free(r);
	return 0;
fail:
	undo_commit(r, moved, old);
	jv_diag_set(d, err, NULL, 0, "%s", r->err.msg);
	out_run_abort(r);
	return err;
}

/* ---- manifest helper ------------------------------------------------------ */

int out_file_hash(const char *path, uint64_t *hash, uint64_t *size)
{
	if (!path || !hash || !size)
		return JV_EINVAL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR ? JV_ENOENT : JV_EIO;
	XXH64_state_t *st = XXH64_createState();
	char *buf = malloc(OUT_HASH_CHUNK_B);
	uint64_t total = 0;
	int err = 0;
	if (!st || !buf) {
		err = JV_ENOMEM;
		goto out;
	}
	XXH64_reset(st, 0);
	for (;;) {
		ssize_t n = read(fd, buf, OUT_HASH_CHUNK_B);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = JV_EIO;
			goto out;
		}
		if (n == 0)
			break;
		XXH64_update(st, buf, (size_t)n);
		total += (uint64_t)n;
	}
	*hash = XXH64_digest(st);
	*size = total;
out:
	XXH64_freeState(st);
	free(buf);
	close(fd);
	return err;
}
