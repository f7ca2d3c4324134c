/*
 * trc_csv_write: writers of the native CSV trace formats (trc.h).
 *
 * Problem: converters, generators and live capture write traces that other
 * runs read back; a crash or a bad record must never leave a half-written
 * or unreadable file under the final name.
 *
 * Strategy: trc_writer_open() creates `.NAME.tmp-PID-N` beside NAME
 * (O_EXCL, mode 0666 minus umask) and writes the version line and the
 * header; records are formatted by hand (no printf) into a TRC_WRITE_BUF_B
 * (1 MiB) buffer flushed with write(2); trc_writer_close() flushes, closes
 * and renames the file into place (replacing an existing NAME). "-" writes
 * stdout directly. Every record is checked as the reader would check it
 * (values, VM name, time and counter order via trc_order_check(), with the
 * output line numbers in messages), so what is written always reads back
 * to identical records; the first error sticks: later writes return it and
 * close discards the temporary file and returns it with the diagnostic.
 *
 * Output: pmc `t_ns,cpu,vm,<counters>`, pmc-interval `t_ns,vm,<counters>`,
 * blk always `t_ns,vm,op,offset_b,size_b,latency_ns,disk` (latency -1 when
 * unknown, disk as diskN), blk-interval `t_ns,vm,disk,read_b,write_b,reads,
 * writes`; LF line endings. A path ending in ".jvt" gets the native binary
 * form instead (same checks; traces/fmt_bin.c encodes the header, a name
 * entry before a VM's first record, the records and the end entry), with
 * record numbers in place of line numbers in messages.
 *
 * Limits: the file is not fsync()ed before the rename (readers after a
 * system crash may see an empty file, never a partial one on ext4/xfs with
 * default options). Counter names: non-empty, no ',', CR, LF or NUL, no
 * duplicates; at most TRC_MAX_COUNTERS.
 */
#include "traces/trc_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define RECORD_MAX_B 1024 /* longest formatted record: 16 x 21 + ~200 */
#define TMP_TRIES 100     /* temporary names tried before giving up */

struct trc_writer {
	int kind;
	int fd;
	int own_fd;
	char *path;  /* final name */
	char *tmp;   /* temporary name, NULL for stdout */
	const char *name; /* for diagnostics */
	int n_counters;
	char *counters[TRC_MAX_COUNTERS];
	char *buf;
	size_t len;
	long line;   /* lines written */
	struct trc_names vms;
	struct trc_order ord;
	int err;
	struct jv_diag diag;
	int bin;     /* native binary (path ends in TRC_BIN_EXT; fmt_bin.c):
		      * "line" then counts records */
};

static int fail(struct trc_writer *w, int err, long line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(struct trc_writer *w, int err, long line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	jv_diag_vset(&w->diag, err, w->name, line, fmt, ap);
	va_end(ap);
	if (!w->err)
		w->err = err;
	return w->err;
}

/* ---- output buffer ---------------------------------------------------- */

static int flush_buf(struct trc_writer *w)
{
	size_t off = 0;
	while (off < w->len) {
		ssize_t n = write(w->fd, w->buf + off, w->len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			w->len = 0;
			return fail(w, JV_EIO, 0, "write error: %s",
				    strerror(n < 0 ? errno : EIO));
		}
		off += (size_t)n;
	}
	w->len = 0;
	return 0;
}

static int put_bytes(struct trc_writer *w, const char *s, size_t n)
{
	while (n > 0) {
		if (w->len == TRC_WRITE_BUF_B) {
			int rc = flush_buf(w);
			if (rc < 0)
				return rc;
		}
		size_t k = TRC_WRITE_BUF_B - w->len;
		if (k > n)
			k = n;
		memcpy(w->buf + w->len, s, k);
		w->len += k;
		s += k;
		n -= k;
	}
	return 0;
}

static char *fmt_u64(char *p, uint64_t v)
{
	char tmp[20];
	int n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*p++ = tmp[--n];
	return p;
}

static char *fmt_i64(char *p, int64_t v)
{
	if (v < 0) {
		*p++ = '-';
		return fmt_u64(p, (uint64_t)0 - (uint64_t)v);
	}
	return fmt_u64(p, (uint64_t)v);
}

static char *fmt_str(char *p, const char *s)
{
	size_t n = strlen(s);
	memcpy(p, s, n);
	return p + n;
}

/* Room for one record in the buffer; returns where to format it. */
static char *record_start(struct trc_writer *w)
{
	if (TRC_WRITE_BUF_B - w->len < RECORD_MAX_B && flush_buf(w) < 0)
		return NULL;
	return w->buf + w->len;
}

static void record_end(struct trc_writer *w, char *p)
{
	*p++ = '\n';
	w->len = (size_t)(p - w->buf);
	w->line++;
}

/* ---- checks ------------------------------------------------------------ */

/* Intern a VM name, checking it as the reader does. */
static int check_vm(struct trc_writer *w, const char *vm, long line)
{
	if (!vm)
		return fail(w, JV_EINVAL, line, "vm: no VM name");
	size_t len = strlen(vm);
	int ok = len > 0 && len < TRC_NAME_MAX;
	uint32_t h = TRC_HASH_SEED;
	for (size_t k = 0; ok && k < len; k++) {
		unsigned char ch = (unsigned char)vm[k];
		ok = (unsigned)((ch | 0x20) - 'a') < 26 ||
		     (unsigned)(ch - '0') < 10 || ch == '_' || ch == '.' ||
		     ch == '-';
		h = trc_hash_step(h, ch);
	}
	char q[80];
	if (!ok)
		return fail(w, JV_EINVAL, line,
			    "vm: invalid VM name '%s' (1 to %d characters of "
			    "A-Z a-z 0-9 _ . -)", trc_quote(q, sizeof q, vm, len),
			    TRC_NAME_MAX - 1);
	int n0 = w->vms.n;
	int i = trc_names_intern(&w->vms, vm, len, h);
	if (i == JV_ELIMIT)
		return fail(w, JV_ELIMIT, line,
			    "vm: too many distinct VM names (more than %d)",
			    TRC_MAX_VMS);
	if (i < 0)
		return fail(w, JV_ENOMEM, line, "out of memory");
	if (w->bin && w->vms.n > n0) {
		char *o = record_start(w); /* binary: define the new name */
		if (!o)
			return w->err;
		w->len += trc_bin_name(o, vm, len);
	}
	return i;
}

static int check_nonneg(struct trc_writer *w, long line, const char *field,
			int64_t v)
{
	if (v < 0)
		return fail(w, JV_ERANGE, line, "%s: negative value '%" PRId64 "'",
			    field, v);
	return 0;
}

static int check_disk(struct trc_writer *w, long line, int32_t disk)
{
	if (disk < 0 || disk >= TRC_MAX_DISKS)
		return fail(w, JV_ERANGE, line,
			    "disk: out of range '%" PRId32 "' (0..%d)", disk,
			    TRC_MAX_DISKS - 1);
	return 0;
}

static int begin(struct trc_writer *w, int kind, const char *fn)
{
	if (w->err)
		return w->err;
	if (w->kind != kind)
		return fail(w, JV_EINVAL, 0, "%s: writer is for %s traces", fn,
			    trc_kind_name(w->kind));
	return 0;
}

static int order(struct trc_writer *w, struct trc_record *rec, long line)
{
	rec->kind = w->kind;
	rec->line = line;
	int rc = trc_order_check(&w->ord, rec, &w->vms, w->counters, w->name,
				 line, &w->diag);
	if (rc < 0 && !w->err)
		w->err = rc;
	return rc < 0 ? w->err : 0;
}

/* Binary output of a checked record (fmt_bin.c encodes it). */
static int bin_put(struct trc_writer *w, const struct trc_record *rec)
{
	char *o = record_start(w);
	if (!o)
		return w->err;
	w->len += trc_bin_record(o, rec, w->n_counters);
	w->line++;
	return 0;
}

/* The checks every record starts with, in the reader's order: the writer's
 * kind (fn names the caller), the VM name and t_ns. Returns the VM's index
 * or the error. */
static int record_head(struct trc_writer *w, int kind, const char *fn,
		       const char *vm, int64_t t_ns, long line)
{
	int rc = begin(w, kind, fn);
	if (rc < 0)
		return rc;
	int v = check_vm(w, vm, line);
	if (v < 0)
		return v;
	if ((rc = check_nonneg(w, line, "t_ns", t_ns)) < 0)
		return rc;
	return v;
}

/* Order-check a record and write it: binary output is done (0); CSV output
 * returns 1 with *o where to format the line (ended by record_end());
 * < 0 on error. */
static int record_put(struct trc_writer *w, struct trc_record *rec, long line,
		      char **o)
{
	int rc = order(w, rec, line);
	if (rc < 0)
		return rc;
	if (w->bin)
		return bin_put(w, rec);
	*o = record_start(w);
	if (!*o)
		return w->err;
	return 1;
}

/* "t_ns,vm" (the start of every line but pmc's). */
static char *fmt_t_vm(char *o, int64_t t_ns, const char *vm)
{
	o = fmt_u64(o, (uint64_t)t_ns);
	*o++ = ',';
	return fmt_str(o, vm);
}

/* ",c1,c2,..." of n counters. */
static char *fmt_counters(char *o, const uint64_t *c, int n)
{
	for (int i = 0; i < n; i++) {
		*o++ = ',';
		o = fmt_u64(o, c[i]);
	}
	return o;
}

/* ---- records ---------------------------------------------------------- */

int trc_write_pmc(struct trc_writer *w, const struct trc_pmc *p, const char *vm)
{
	long line = w->line + 1;
	int v = record_head(w, TRC_PMC, "trc_write_pmc", vm, p->t_ns, line);
	if (v < 0)
		return v;
	if (p->cpu < 0 || p->cpu >= TRC_MAX_CPUS)
		return fail(w, JV_ERANGE, line,
			    "cpu: out of range '%" PRId32 "' (0..%d)", p->cpu,
			    TRC_MAX_CPUS - 1);
	struct trc_record rec;
	rec.u.pmc = *p;
	rec.u.pmc.vm = v;
	char *o;
	int rc = record_put(w, &rec, line, &o);
	if (rc <= 0)
		return rc;
	o = fmt_u64(o, (uint64_t)p->t_ns);
	*o++ = ',';
	o = fmt_u64(o, (uint64_t)p->cpu);
	*o++ = ',';
	o = fmt_str(o, vm);
	record_end(w, fmt_counters(o, p->ctr, w->n_counters));
	return 0;
}

int trc_write_pmci(struct trc_writer *w, const struct trc_pmc_interval *p,
		   const char *vm)
{
	long line = w->line + 1;
	int v = record_head(w, TRC_PMC_INTERVAL, "trc_write_pmci", vm, p->t_ns,
			    line);
	if (v < 0)
		return v;
	struct trc_record rec;
	rec.u.pmci = *p;
	rec.u.pmci.vm = v;
	char *o;
	int rc = record_put(w, &rec, line, &o);
	if (rc <= 0)
		return rc;
	o = fmt_t_vm(o, p->t_ns, vm);
	record_end(w, fmt_counters(o, p->delta, w->n_counters));
	return 0;
}

int trc_write_blk(struct trc_writer *w, const struct trc_blk *b, const char *vm)
{
	long line = w->line + 1;
	int rc, v = record_head(w, TRC_BLK, "trc_write_blk", vm, b->t_ns, line);
	if (v < 0)
		return v;
	if ((rc = check_nonneg(w, line, "offset_b", b->offset_b)) < 0 ||
	    (rc = check_disk(w, line, b->disk)) < 0)
		return rc;
	if (b->op != TRC_OP_READ && b->op != TRC_OP_WRITE)
		return fail(w, JV_EINVAL, line, "op: unknown op %" PRId32, b->op);
	if (b->size_b <= 0)
		return fail(w, JV_ERANGE, line,
			    "size_b: must be > 0, found '%" PRId64 "'", b->size_b);
	if (b->latency_ns < -1)
		return fail(w, JV_ERANGE, line,
			    "latency_ns: negative value '%" PRId64 "' (only -1, "
			    "meaning unknown, is allowed)", b->latency_ns);
	struct trc_record rec;
	rec.u.blk = *b;
	rec.u.blk.vm = v;
	char *o;
	if ((rc = record_put(w, &rec, line, &o)) <= 0)
		return rc;
	o = fmt_t_vm(o, b->t_ns, vm);
	*o++ = ',';
	*o++ = b->op == TRC_OP_WRITE ? 'W' : 'R';
	*o++ = ',';
	o = fmt_u64(o, (uint64_t)b->offset_b);
	*o++ = ',';
	o = fmt_u64(o, (uint64_t)b->size_b);
	*o++ = ',';
	o = fmt_i64(o, b->latency_ns);
	o = fmt_str(o, ",disk");
	o = fmt_u64(o, (uint64_t)b->disk);
	record_end(w, o);
	return 0;
}

int trc_write_blki(struct trc_writer *w, const struct trc_blk_interval *b,
		   const char *vm)
{
	long line = w->line + 1;
	int rc, v = record_head(w, TRC_BLK_INTERVAL, "trc_write_blki", vm,
				b->t_ns, line);
	if (v < 0)
		return v;
	if ((rc = check_disk(w, line, b->disk)) < 0 ||
	    (rc = check_nonneg(w, line, "read_b", b->read_b)) < 0 ||
	    (rc = check_nonneg(w, line, "write_b", b->write_b)) < 0 ||
	    (rc = check_nonneg(w, line, "reads", b->reads)) < 0 ||
	    (rc = check_nonneg(w, line, "writes", b->writes)) < 0)
		return rc;
	struct trc_record rec;
	rec.u.blki = *b;
	rec.u.blki.vm = v;
	char *o;
	if ((rc = record_put(w, &rec, line, &o)) <= 0)
		return rc;
	o = fmt_t_vm(o, b->t_ns, vm);
	o = fmt_str(o, ",disk");
	o = fmt_u64(o, (uint64_t)b->disk);
	const int64_t n[] = { b->read_b, b->write_b, b->reads, b->writes };
	for (size_t i = 0; i < sizeof n / sizeof n[0]; i++) {
		*o++ = ',';
		o = fmt_u64(o, (uint64_t)n[i]);
	}
	record_end(w, o);
	return 0;
}

/* ---- open and close --------------------------------------------------- */

static int check_counters(const char *path, int kind, const char *const *c,
			  int n, struct jv_diag *d)
{
	char q[80];
	if (kind == TRC_BLK || kind == TRC_BLK_INTERVAL) {
		if (n != 0)
			return jv_diag_set(d, JV_EINVAL, path, 0,
					   "%s traces have no counter columns",
					   trc_kind_name(kind));
		return 0;
	}
	if (n < 1 || n > TRC_MAX_COUNTERS || !c)
		return jv_diag_set(d, JV_EINVAL, path, 0,
				   "%d counters: a %s trace needs 1 to %d",
				   n, trc_kind_name(kind), TRC_MAX_COUNTERS);
	for (int i = 0; i < n; i++) {
		if (!c[i] || !c[i][0])
			return jv_diag_set(d, JV_EINVAL, path, 0,
					   "counter %d: empty name", i + 1);
		if (strpbrk(c[i], ",\r\n"))
			return jv_diag_set(d, JV_EINVAL, path, 0,
					   "counter %d: name '%s' contains a "
					   "comma or a line break", i + 1,
					   trc_quote(q, sizeof q, c[i], strlen(c[i])));
		for (int j = 0; j < i; j++)
			if (strcmp(c[i], c[j]) == 0)
				return jv_diag_set(d, JV_EINVAL, path, 0,
						   "counter %d: duplicate name "
						   "'%s'", i + 1,
						   trc_quote(q, sizeof q, c[i],
							     strlen(c[i])));
	}
	return 0;
}

/* Create the temporary file beside w->path. */
static int open_tmp(struct trc_writer *w, struct jv_diag *d)
{
	struct stat st;
	if (stat(w->path, &st) == 0 && S_ISDIR(st.st_mode))
		return jv_diag_set(d, JV_EINVAL, w->path, 0,
				   "cannot write: is a directory");
	const char *slash = strrchr(w->path, '/');
	size_t dir_len = slash ? (size_t)(slash - w->path) + 1 : 0;
	const char *base = w->path + dir_len;
	if (!*base)
		return jv_diag_set(d, JV_EINVAL, w->path, 0,
				   "cannot write: no file name");
	size_t n = strlen(w->path) + 64;
	w->tmp = malloc(n);
	if (!w->tmp)
		return jv_diag_set(d, JV_ENOMEM, w->path, 0, "out of memory");
	for (int i = 0; i < TMP_TRIES; i++) {
		snprintf(w->tmp, n, "%.*s.%s.tmp-%ld-%d", (int)dir_len, w->path,
			 base, (long)getpid(), i);
		int fd = open(w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
			      0666);
		if (fd >= 0) {
			w->fd = fd;
			w->own_fd = 1;
			return 0;
		}
		if (errno != EEXIST) {
			int e = errno;
			free(w->tmp);
			w->tmp = NULL;
			return jv_diag_set(d, e == ENOENT || e == ENOTDIR
						      ? JV_ENOENT : JV_EIO,
					   w->path, 0, "cannot create: %s",
					   strerror(e));
		}
	}
	free(w->tmp);
	w->tmp = NULL;
	return jv_diag_set(d, JV_EIO, w->path, 0,
			   "cannot create a temporary file beside it");
}

static int write_preamble(struct trc_writer *w)
{
	static const char *const header[TRC_KIND_COUNT] = {
		[TRC_PMC] = "t_ns,cpu,vm",
		[TRC_PMC_INTERVAL] = "t_ns,vm",
		[TRC_BLK] = "t_ns,vm,op,offset_b,size_b,latency_ns,disk",
		[TRC_BLK_INTERVAL] = "t_ns,vm,disk,read_b,write_b,reads,writes",
	};
	if (w->bin) {
		long n = trc_bin_header(w->buf, TRC_WRITE_BUF_B, w->kind,
					w->counters, w->n_counters, w->name,
					&w->diag);
		if (n < 0)
			return w->err = (int)n;
		w->len = (size_t)n;
		return 0;
	}
	const char *k = trc_kind_name(w->kind);
	int rc = 0;
	rc |= put_bytes(w, "# joulevisor ", 13);
	rc |= put_bytes(w, k, strlen(k));
	rc |= put_bytes(w, " v1\n", 4);
	rc |= put_bytes(w, header[w->kind], strlen(header[w->kind]));
	for (int i = 0; i < w->n_counters; i++) {
		rc |= put_bytes(w, ",", 1);
		rc |= put_bytes(w, w->counters[i], strlen(w->counters[i]));
	}
	rc |= put_bytes(w, "\n", 1);
	w->line = 2;
	return rc ? w->err : 0;
}

static void writer_free(struct trc_writer *w)
{
	for (int i = 0; i < w->n_counters; i++)
		free(w->counters[i]);
	trc_names_free(&w->vms);
	trc_order_free(&w->ord);
	free(w->buf);
	free(w->tmp);
	free(w->path);
	free(w);
}

int trc_writer_open(const char *path, int kind, const char *const *counters,
		    int n_counters, struct trc_writer **out, struct jv_diag *d)
{
	*out = NULL;
	if (!path)
		return jv_diag_set(d, JV_EINVAL, NULL, 0, "trace: no file name");
	if (!trc_kind_name(kind))
		return jv_diag_set(d, JV_EINVAL, path, 0,
				   "unknown trace kind %d", kind);
	int rc = check_counters(path, kind, counters, n_counters, d);
	if (rc < 0)
		return rc;
	struct trc_writer *w = calloc(1, sizeof *w);
	if (!w)
		return jv_diag_set(d, JV_ENOMEM, path, 0, "out of memory");
	w->kind = kind;
	w->fd = -1;
	trc_names_init(&w->vms, TRC_MAX_VMS);
	trc_order_init(&w->ord, kind, n_counters);
	w->path = strdup(path);
	w->buf = malloc(TRC_WRITE_BUF_B);
	if (!w->path || !w->buf)
		goto nomem;
	for (int i = 0; i < (kind == TRC_PMC || kind == TRC_PMC_INTERVAL
				     ? n_counters : 0); i++) {
		w->counters[i] = strdup(counters[i]);
		if (!w->counters[i])
			goto nomem;
		w->n_counters++;
	}
	if (strcmp(path, "-") == 0) {
		w->fd = STDOUT_FILENO;
		w->name = "<stdout>";
	} else {
		w->name = w->path;
		rc = open_tmp(w, d);
		if (rc < 0)
			goto fail;
	}
	w->bin = strcmp(path, "-") != 0 && trc_bin_wanted(path);
	rc = write_preamble(w);
	if (rc < 0) {
		if (d && !d->err)
			*d = w->diag;
		goto fail;
	}
	*out = w;
	return 0;
nomem:
	rc = jv_diag_set(d, JV_ENOMEM, path, 0, "out of memory");
fail:
	trc_writer_abort(w);
	return rc;
}

const struct jv_diag *trc_writer_diag(const struct trc_writer *w)
{
	return &w->diag;
}

void trc_writer_abort(struct trc_writer *w)
{
	if (!w)
		return;
	if (w->own_fd)
		close(w->fd);
	if (w->tmp)
		unlink(w->tmp);
	writer_free(w);
}

int trc_writer_close(struct trc_writer *w, struct jv_diag *d)
{
	if (!w)
		return 0;
	if (w->bin && !w->err) {
		char *o = record_start(w);
		if (o)
			w->len += trc_bin_end(o, (uint64_t)w->line,
					      (uint32_t)w->vms.n);
	}
	if (!w->err)
		flush_buf(w);
	if (w->own_fd) {
		if (close(w->fd) < 0 && !w->err)
			fail(w, JV_EIO, 0, "write error: %s", strerror(errno));
		w->own_fd = 0;
	}
	if (w->tmp && !w->err && rename(w->tmp, w->path) < 0)
		fail(w, JV_EIO, 0, "cannot rename %s into place: %s", w->tmp,
		     strerror(errno));
	if (w->tmp && w->err)
		unlink(w->tmp);
	int rc = w->err;
	if (rc < 0 && d && !d->err)
		*d = w->diag;
	writer_free(w);
	return rc;
}
