/*
 * trc: the reader ops table and its dispatch (design §7, trc.h).
 *
 * Problem: many trace formats (the native CSV kinds now; binary, blkparse,
 * MSR, fio, perf later) must look the same to the runner: open a path,
 * pull typed records in time order, get VM names, see the first error as
 * "FILE:LINE: field: reason".
 *
 * Strategy: trc_formats[] lists every format as name, kind, probe, open,
 * next, close. trc_open() opens the file (or stdin for "-"), buffers its
 * first TRC_PROBE_B bytes in the shared line reader (a UTF-8 byte order
 * mark is skipped), and either asks each probe in table order (format NULL
 * or "auto") or takes the named format. The format's open() reads the
 * preamble; next() yields records. This file also owns what every format
 * shares: the sticky end/error state (after EOF or an error, trc_next()
 * keeps returning the same), the interned VM-name table and the accessors.
 *
 * VM names: an open-addressing hash (linear probing, load <= 1/2, FNV-1a)
 * of names -> dense index 0, 1, ...; names live in chunks of
 * TRC_NAMES_CHUNK fixed TRC_NAME_MAX-byte slots that never move, so
 * trc_vm_name() pointers stay valid while reading. At most TRC_MAX_VMS
 * (65536) names per trace (JV_ELIMIT beyond).
 *
 * Limits: see trc_impl.h; diagnostics name "<stdin>" for "-".
 */
#include "traces/trc_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct trc_format fmt_pmc = {
	"pmc", TRC_PMC, trc_csv_probe_pmc, trc_csv_open, trc_csv_next,
	trc_csv_close, trc_csv_mem_b };
static const struct trc_format fmt_pmci = {
	"pmc-interval", TRC_PMC_INTERVAL, trc_csv_probe_pmci, trc_csv_open,
	trc_csv_next, trc_csv_close, trc_csv_mem_b };
static const struct trc_format fmt_blk = {
	"blk", TRC_BLK, trc_csv_probe_blk, trc_csv_open, trc_csv_next,
	trc_csv_close, trc_csv_mem_b };
static const struct trc_format fmt_blki = {
	"blk-interval", TRC_BLK_INTERVAL, trc_csv_probe_blki, trc_csv_open,
	trc_csv_next, trc_csv_close, trc_csv_mem_b };

/* The registry: probes run in this order (most specific first; formats
 * without a reliable signature, such as headerless CSVs, never claim a
 * file in a probe and must be named with --from / format). Each foreign
 * format lives in its own file (traces/fmt_*.c). */
const struct trc_format *const trc_formats[] = {
	&fmt_pmc, &fmt_pmci, &fmt_blk, &fmt_blki,
	&trc_fmt_bin,
	&trc_fmt_blktrace, &trc_fmt_blkparse,
	&trc_fmt_fio, &trc_fmt_vscsi,
	&trc_fmt_perf_stat, &trc_fmt_perf_script,
	&trc_fmt_msr, &trc_fmt_spc, &trc_fmt_disksim,
};
const int trc_n_formats = (int)(sizeof trc_formats / sizeof trc_formats[0]);

static const char *const kind_names[TRC_KIND_COUNT] = {
	[TRC_PMC] = "pmc",
	[TRC_PMC_INTERVAL] = "pmc-interval",
	[TRC_BLK] = "blk",
	[TRC_BLK_INTERVAL] = "blk-interval",
};

static const char utf8_bom[] = "\xEF\xBB\xBF";
#define UTF8_BOM_B 3
#define NATIVE_PREFIX "# joulevisor "
#define QUOTE_MAX_CHARS 60

const char *trc_kind_name(int kind)
{
	if (kind < 0 || kind >= TRC_KIND_COUNT)
		return NULL;
	return kind_names[kind];
}

int trc_kind_from_name(const char *name)
{
	for (int k = 0; name && k < TRC_KIND_COUNT; k++)
		if (strcmp(name, kind_names[k]) == 0)
			return k;
	return -1;
}

char *trc_quote(char *out, size_t out_b, const char *s, size_t len)
{
	size_t max = out_b > 4 ? out_b - 4 : 0; /* room for "..." and NUL */
	if (max > QUOTE_MAX_CHARS)
		max = QUOTE_MAX_CHARS;
	size_t i;
	for (i = 0; i < len && i < max; i++) {
		unsigned char c = (unsigned char)s[i];
		out[i] = (c >= 0x20 && c < 0x7f) || c >= 0x80 ? (char)c : '?';
	}
	if (i < len && out_b >= 4) {
		memcpy(out + i, "...", 3);
		i += 3;
	}
	if (out_b > 0)
		out[i < out_b ? i : out_b - 1] = '\0';
	return out;
}

/* ---- interned names ------------------------------------------------------ */

#define NAMES_MIN_SLOTS 64

void trc_names_init(struct trc_names *t, int max)
{
	memset(t, 0, sizeof *t);
	t->max = max;
}

void trc_names_free(struct trc_names *t)
{
	for (int i = 0; i < t->attrs_cap; i++)
		free(t->attrs[i]);
	free(t->attrs);
	for (int i = 0; i < t->n_chunks; i++)
		free(t->chunks[i]);
	free(t->chunks);
	free(t->hashes);
	free(t->slots);
	memset(t, 0, sizeof *t);
}

uint32_t trc_names_hash(const char *s, size_t len)
{
	uint32_t h = TRC_HASH_SEED;
	for (size_t i = 0; i < len; i++)
		h = trc_hash_step(h, (unsigned char)s[i]);
	return h;
}

const char *trc_names_get(const struct trc_names *t, int i)
{
	if (i < 0 || i >= t->n)
		return NULL;
	return t->chunks[i / TRC_NAMES_CHUNK][i % TRC_NAMES_CHUNK];
}

size_t trc_names_mem_b(const struct trc_names *t)
{
	return (size_t)t->n_chunks * TRC_NAMES_CHUNK * TRC_NAME_MAX +
	       (size_t)t->n_chunks * sizeof *t->chunks +
	       (size_t)t->hash_cap * sizeof *t->hashes +
	       (t->slots ? ((size_t)t->mask + 1) * sizeof *t->slots : 0);
}

static int names_rehash(struct trc_names *t, uint32_t n_slots)
{
	int32_t *s = calloc(n_slots, sizeof *s);
	if (!s)
		return JV_ENOMEM;
	for (int i = 0; i < t->n; i++) {
		uint32_t k = t->hashes[i] & (n_slots - 1);
		while (s[k])
			k = (k + 1) & (n_slots - 1);
		s[k] = i + 1;
	}
	free(t->slots);
	t->slots = s;
	t->mask = n_slots - 1;
	return 0;
}

/* Make room for name number t->n. */
static int names_grow(struct trc_names *t)
{
	if (t->n >= t->hash_cap) {
		int cap = t->hash_cap ? 2 * t->hash_cap : NAMES_MIN_SLOTS;
		uint32_t *h = realloc(t->hashes, (size_t)cap * sizeof *h);
		if (!h)
			return JV_ENOMEM;
		t->hashes = h;
		t->hash_cap = cap;
	}
	if (t->n / TRC_NAMES_CHUNK >= t->n_chunks) {
		char(**c)[TRC_NAME_MAX] =
			realloc(t->chunks, (size_t)(t->n_chunks + 1) * sizeof *c);
		if (!c)
			return JV_ENOMEM;
		t->chunks = c;
		c[t->n_chunks] = malloc(TRC_NAMES_CHUNK * TRC_NAME_MAX);
		if (!c[t->n_chunks])
			return JV_ENOMEM;
		t->n_chunks++;
	}
	if (!t->slots || (uint32_t)(t->n + 1) * 2 > t->mask + 1)
		return names_rehash(t, t->slots ? 2 * (t->mask + 1)
						: NAMES_MIN_SLOTS);
	return 0;
}

int trc_names_intern(struct trc_names *t, const char *s, size_t len,
		     uint32_t hash)
{
	if (len == 0 || len >= TRC_NAME_MAX)
		return JV_EINVAL;
	if (t->slots) {
		uint32_t k = hash & t->mask;
		int32_t v;
		while ((v = t->slots[k]) != 0) {
			int i = v - 1;
			if (t->hashes[i] == hash) {
				const char *nm = trc_names_get(t, i);
				if (memcmp(nm, s, len) == 0 && nm[len] == '\0')
					return i;
			}
			k = (k + 1) & t->mask;
		}
	}
	if (t->n >= t->max)
		return JV_ELIMIT;
	int rc = names_grow(t);
	if (rc < 0)
		return rc;
	int i = t->n++;
	char *slot = t->chunks[i / TRC_NAMES_CHUNK][i % TRC_NAMES_CHUNK];
	memcpy(slot, s, len);
	slot[len] = '\0';
	t->hashes[i] = hash;
	uint32_t k = hash & t->mask;
	while (t->slots[k])
		k = (k + 1) & t->mask;
	t->slots[k] = i + 1;
	return i;
}

/* ---- opening ----------------------------------------------------------- */

static const struct trc_format *format_by_name(const char *name)
{
	for (int i = 0; i < trc_n_formats; i++)
		if (strcmp(trc_formats[i]->name, name) == 0)
			return trc_formats[i];
	return NULL;
}

/* "pmc, pmc-interval, ..." */
static void format_list(char *out, size_t out_b)
{
	size_t n = 0;
	out[0] = '\0';
	for (int i = 0; i < trc_n_formats && n < out_b; i++)
		n += (size_t)snprintf(out + n, out_b - n, "%s%s", i ? ", " : "",
				      trc_formats[i]->name);
}

static int open_fd(struct trc_reader *r, const char *path, struct jv_diag *d)
{
	if (strcmp(path, "-") == 0) {
		r->fd = STDIN_FILENO;
		r->own_fd = 0;
		return 0;
	}
	int fd;
	do
		fd = open(path, O_RDONLY | O_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	if (fd < 0) {
		int e = errno;
		int code = (e == EMFILE || e == ENFILE || e == ENOMEM || e == EIO)
				   ? JV_EIO : JV_ENOENT;
		return jv_diag_set(d, code, r->name, 0, "cannot open: %s",
				   strerror(e));
	}
	r->fd = fd;
	r->own_fd = 1;
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
		return jv_diag_set(d, JV_EINVAL, r->name, 0,
				   "cannot open: %s (a trace file is needed)",
				   strerror(EISDIR));
	return 0;
}

static int all_blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return 0;
	return 1;
}

/* No probe recognised the file: explain what was expected. */
static int unknown_format(struct trc_reader *r, const char *head, size_t n,
			  struct jv_diag *d)
{
	char list[256], q[80];
	const char *nl = memchr(head, '\n', n);
	size_t len = nl ? (size_t)(nl - head) : n;
	if (len && head[len - 1] == '\r')
		len--;
	format_list(list, sizeof list);
	size_t pl = sizeof NATIVE_PREFIX - 1;
	if (len > pl && memcmp(head, NATIVE_PREFIX, pl) == 0) {
		const char *k = head + pl;
		const char *sp = memchr(k, ' ', len - pl);
		size_t kl = sp ? (size_t)(sp - k) : len - pl;
		return jv_diag_set(d, JV_EUNKNOWN, r->name, 1,
				   "unknown trace kind '%s' (supported: %s; "
				   "first line '# joulevisor <kind> v1')",
				   trc_quote(q, sizeof q, k, kl), list);
	}
	return jv_diag_set(d, JV_EPARSE, r->name, 1,
			   "unrecognised trace format, first line '%s': "
			   "expected '# joulevisor <kind> v1' with kind one of %s",
			   trc_quote(q, sizeof q, head, len), list);
}

static int pick_format(struct trc_reader *r, const char *format,
		       struct jv_diag *d)
{
	long got = trc_lines_fill(&r->lines, TRC_PROBE_B, d);
	if (got < 0)
		return (int)got;
	size_t n;
	const char *head = trc_lines_peek(&r->lines, &n);
	if (n >= UTF8_BOM_B && memcmp(head, utf8_bom, UTF8_BOM_B) == 0) {
		trc_lines_skip(&r->lines, UTF8_BOM_B);
		head = trc_lines_peek(&r->lines, &n);
	}
	if (all_blank(head, n) && !r->lines.eof) {
		/* only blank so far: look further before calling it empty */
		got = trc_lines_fill(&r->lines, r->lines.cap, d);
		if (got < 0)
			return (int)got;
		head = trc_lines_peek(&r->lines, &n);
	}
	if (r->lines.eof && all_blank(head, n)) {
		const struct trc_format *f = format ? format_by_name(format) : NULL;
		if (f && f != &fmt_pmc && f != &fmt_pmci && f != &fmt_blk && f != &fmt_blki)
			return jv_diag_set(d, JV_EEMPTY, r->name, 0,
					   "empty file: no %s trace records", f->name);
		return jv_diag_set(d, JV_EEMPTY, r->name, 0,
				   "empty file: expected '# joulevisor <kind> v1'");
	}
	if (format && strcmp(format, "auto") != 0) {
		r->fmt = format_by_name(format);
		return 0; /* checked by trc_open */
	}
	for (int i = 0; i < trc_n_formats; i++)
		if (trc_formats[i]->probe(head, n)) {
			r->fmt = trc_formats[i];
			return 0;
		}
	return unknown_format(r, head, n, d);
}

int trc_open(const char *path, const char *format, struct trc_reader **out,
	     struct jv_diag *d)
{
	return trc_open_opts(path, format, NULL, out, d);
}

int trc_open_opts(const char *path, const char *format,
		  const struct trc_open_opts *opts, struct trc_reader **out,
		  struct jv_diag *d)
{
	*out = NULL;
	if (!path)
		return jv_diag_set(d, JV_EINVAL, NULL, 0, "trace: no file name");
	if (format && strcmp(format, "auto") != 0 && !format_by_name(format)) {
		char list[256];
		format_list(list, sizeof list);
		return jv_diag_set(d, JV_EUNKNOWN, path, 0,
				   "unknown trace format '%s' (valid: auto, %s)",
				   format, list);
	}
	int rc = JV_ENOMEM;
	struct trc_reader *r = calloc(1, sizeof *r);
	if (!r)
		return jv_diag_set(d, rc, path, 0, "out of memory");
	r->fd = -1;
	if (opts)
		r->opts = *opts;
	trc_names_init(&r->vms, TRC_MAX_VMS);
	r->path = strdup(path);
	if (!r->path)
		goto nomem;
	r->name = strcmp(path, "-") == 0 ? "<stdin>" : r->path;
	/* blktrace per-CPU files: a missing PREFIX (PREFIX.blktrace.N or
	 * PREFIX.N exist) or an empty X.blktrace.N opens its first non-empty
	 * sibling; the blktrace reader merges the siblings from r->path */
	char first[4096]; /* a path: PATH_MAX on Linux */
	int bt = !format || strcmp(format, "auto") == 0 ||
		 strcmp(format, "blktrace") == 0;
	rc = open_fd(r, bt ? trc_blktrace_first(path, first, sizeof first) : path,
		     d);
	if (rc < 0)
		goto fail;
	rc = trc_lines_init(&r->lines, r->fd, r->name, 0);
	if (rc < 0)
		goto nomem;
	rc = pick_format(r, format, d);
	if (rc < 0)
		goto fail;
	r->kind = r->fmt->kind;
	rc = r->fmt->open(r, d);
	if (rc < 0)
		goto fail;
	*out = r;
	return 0;
nomem:
	rc = jv_diag_set(d, JV_ENOMEM, r->name ? r->name : path, 0,
			 "out of memory");
fail:
	trc_close(r);
	return rc;
}

/* The sticky end/error state after a format's next() returned rc. */
static int next_done(struct trc_reader *r, int rc, struct jv_diag *d)
{
	if (r->state == 0) {
		if (rc > 0)
			return 1;
		if (rc == 0) {
			r->state = 1;
		} else {
			r->state = rc;
			if (!r->err.err)
				jv_diag_set(&r->err, rc, r->name, 0, "%s",
					    jv_strerror(rc));
		}
	}
	if (r->state < 0 && d && !d->err)
		*d = r->err;
	return r->state == 1 ? 0 : r->state;
}

int trc_next(struct trc_reader *r, struct trc_record *rec, struct jv_diag *d)
{
	/* r->err is clear while reading: the format reports into it */
	int rc = r->state == 0 ? r->fmt->next(r, rec, &r->err) : 0;
	return next_done(r, rc, d);
}

/* A batch of one record from next(), encoded in the binary layout. */
static int one_batch(struct trc_reader *r, struct trc_pmc_batch *b,
		     struct jv_diag *d)
{
	int rc = r->fmt->next(r, &r->one_rec, d);
	if (rc <= 0)
		return rc;
	b->rec = r->one_buf;
	b->rec_b = trc_bin_record((char *)r->one_buf, &r->one_rec, r->n_counters);
	b->n = 1;
	b->line0 = r->one_rec.line;
	b->line_step = 0;
	return 1;
}

int trc_next_pmc_batch(struct trc_reader *r, struct trc_pmc_batch *b,
		       struct jv_diag *d)
{
	if (r->kind != TRC_PMC)
		return jv_diag_set(d, JV_EINVAL, r->name, 0,
				   "a %s trace has no pmc records",
				   trc_kind_name(r->kind));
	int rc = 0;
	if (r->state == 0)
		rc = r->fmt == &trc_fmt_bin ? trc_bin_next_pmc_batch(r, b, &r->err)
					    : one_batch(r, b, &r->err);
	return next_done(r, rc, d);
}

void trc_close(struct trc_reader *r)
{
	if (!r)
		return;
	if (r->fmt && r->fmt->close)
		r->fmt->close(r);
	for (int i = 0; i < r->n_counters; i++)
		free(r->counters[i]);
	trc_names_free(&r->vms);
	trc_lines_free(&r->lines);
	if (r->own_fd)
		close(r->fd);
	free(r->path);
	free(r);
}

/* ---- accessors ------------------------------------------------------- */

int trc_kind(const struct trc_reader *r)
{
	return r->kind;
}

const char *trc_path(const struct trc_reader *r)
{
	return r->path;
}

int trc_n_counters(const struct trc_reader *r)
{
	return r->n_counters;
}

const char *trc_counter_name(const struct trc_reader *r, int i)
{
	if (i < 0 || i >= r->n_counters)
		return NULL;
	return r->counters[i];
}

int trc_n_vms(const struct trc_reader *r)
{
	return r->vms.n;
}

const char *trc_vm_name(const struct trc_reader *r, int vm)
{
	return trc_names_get(&r->vms, vm);
}

int trc_names_set_attrs(struct trc_names *t, int i, const char *attrs)
{
	if (i < 0 || i >= t->n)
		return JV_EINVAL;
	if (i >= t->attrs_cap) {
		int cap = t->attrs_cap ? t->attrs_cap : 16;
		while (cap <= i)
			cap *= 2;
		char **na = realloc(t->attrs, (size_t)cap * sizeof *na);
		if (!na)
			return JV_ENOMEM;
		memset(na + t->attrs_cap, 0, (size_t)(cap - t->attrs_cap) * sizeof *na);
		t->attrs = na;
		t->attrs_cap = cap;
	}
	char *c = strdup(attrs);
	if (!c)
		return JV_ENOMEM;
	free(t->attrs[i]);
	t->attrs[i] = c;
	return 0;
}

const char *trc_vm_attrs(const struct trc_reader *r, int vm)
{
	const struct trc_names *t = &r->vms;
	if (vm < 0 || vm >= t->attrs_cap || !t->attrs[vm])
		return "";
	return t->attrs[vm];
}

uint64_t trc_bytes_read(const struct trc_reader *r)
{
	return trc_lines_offset(&r->lines);
}

uint64_t trc_skipped(const struct trc_reader *r, const char **reason)
{
	if (reason)
		*reason = r->skip_reason ? r->skip_reason : "";
	return r->skipped;
}

const char *trc_format_name(const struct trc_reader *r)
{
	return r->fmt->name;
}

size_t trc_mem_bytes(const struct trc_reader *r)
{
	size_t n = sizeof *r + r->lines.cap + 1 + trc_names_mem_b(&r->vms);
	for (int i = 0; i < r->n_counters; i++)
		n += strlen(r->counters[i]) + 1;
	if (r->fmt && r->fmt->mem_b)
		n += r->fmt->mem_b(r);
	return n;
}
