/*
 * fmt_bin: the native binary trace format (design §7 "a native binary form
 * of each"), reader and the encoders behind the writer.
 *
 * Problem: replaying hours of 1 kHz PMC logs or week-long block traces must
 * run close to memory speed (issue 10: >= 100 M records/s, >= 70% of a
 * plain read() loop), which text parsing cannot reach; the file must still
 * be self-describing (kind, counter names and units), portable (fixed
 * little-endian layout), streamable (written to a pipe, read from stdin)
 * and checked as strictly as the CSV forms: a truncated or corrupt file is
 * an error naming the byte offset, never a short read.
 *
 * Layout (docs/FORMATS.md "Native binary format" has the byte table):
 *   header   32 fixed bytes: magic "JVTRACE\0", u32 version (1), u32 kind,
 *            u32 n_counters, u32 record_b, u32 header_b, u32 reserved (0);
 *            then per counter u16 name_b, name, u16 unit_b, unit.
 *   entries  from byte header_b to the end of the file, each starting with
 *            a u32:
 *            - < number of names defined so far: a data record of
 *              record_b bytes whose first field is that VM index;
 *            - 0xFFFFFFFF: a name definition, u32 len (1..63), len bytes;
 *              defines the next VM index (0, 1, ...), before its first use;
 *            - 0xFFFFFFFE: the end entry, u32 0, u64 records, u32 names,
 *              u32 0 (24 bytes), which must end the file.
 *   records  (u = unsigned, i = signed, little-endian, no padding):
 *            pmc           u32 vm, u32 cpu, i64 t_ns, u64 ctr[n]   16 + 8n
 *            pmc-interval  u32 vm, u32 0,   i64 t_ns, u64 delta[n] 16 + 8n
 *            blk           u32 vm, u8 op, u8 0, u16 disk, i64 t_ns,
 *                          i64 offset_b, i64 size_b, i64 latency_ns  40
 *            blk-interval  u32 vm, u32 disk, i64 t_ns, i64 read_b,
 *                          i64 write_b, i64 reads, i64 writes        48
 * Records stay fixed-size because VM names live in their own entries; a
 * writer (stdout included) emits a name when it first sees it, so no
 * second pass or seek is needed. The end entry's counts make a file cut at
 * an entry boundary detectable.
 *
 * Strategy (reader): the shared 1 MiB read(2) buffer of trc_lines holds the
 * bytes; next() takes the fast path when a whole record is buffered and
 * its first u32 is a defined VM index: fixed-offset loads (memcpy, which
 * compilers turn into plain loads; byte swaps only on big-endian hosts),
 * the value checks of the CSV reader, and the order checks kept in flat
 * per-key arrays (per CPU for pmc, per VM index for pmc-interval and
 * blk-interval, one global time for blk). Everything else (refill, name
 * and end entries, truncation, errors) is the slow path. No allocation per
 * record; the order arrays grow with the CPU and name counts only.
 * The records are read with read(2) into the 1 MiB buffer, not mmap(2):
 * a mapped file truncated by another process while it is read would
 * raise SIGBUS instead of an error (measured: mapping gained 10-15% on
 * the binary replay benchmark). trc_next_pmc_batch()
 * checks up to BIN_BATCH_MAX buffered pmc records in one pass (the same
 * compares as decode()'s common case, the counter loops specialised per
 * counter count) and hands them out in place; the first record outside
 * that case ends the run and comes alone through bin_next() on the next
 * call, so every check and message is bin_next()'s. trc_next_pmc_raw()
 * hands out the buffered records unchecked to a caller that checks them
 * as it uses them (the replay loop: one pass instead of two); its
 * trc_pmc_done() moves past the records taken and sets each CPU's last
 * time, offset and counters from its last one among them, found from the
 * end (n_seen: once every CPU with a record is found), and the record
 * where the caller stopped goes through bin_next() on the next call.
 *
 * Units: a counter's unit is taken from its name: "NAME (UNIT)" (the
 * convention of the perf importers, e.g. "power/energy-pkg/ (nJ)") gives
 * UNIT, any other name "events". The reader checks units but the trace API
 * has no accessor for them yet; names keep the suffix, so nothing is lost.
 *
 * Limits: TRC_MAX_COUNTERS counters of 1..1024 bytes (no NUL, ',', CR, LF,
 * not duplicated), units 1..32 printable bytes, header <= 64 KiB,
 * TRC_MAX_VMS names of [A-Za-z0-9_.-]{1,63}, cpu < TRC_MAX_CPUS, disk <
 * TRC_MAX_DISKS, the record values of docs/FORMATS.md. Worked example: a
 * pmc file with counters "cycles", "instructions" has record_b 32 and
 * header_b 32 + (2+6+2+6) + (2+12+2+6) = 70; the first record of VM "web"
 * is preceded by FF FF FF FF 03 00 00 00 'w' 'e' 'b'.
 */
#include "traces/trc_impl.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define BIN_MAGIC "JVTRACE" /* + its terminating NUL: 8 bytes */
#define BIN_MAGIC_B 8
#define BIN_VERSION 1
#define BIN_FIXED_HEADER_B 32
#define BIN_HEADER_MAX_B (64 * 1024)
#define BIN_COUNTER_NAME_MAX_B 1024
#define BIN_UNIT_MAX_B 32
#define BIN_TAG_NAME 0xFFFFFFFFu
#define BIN_TAG_END 0xFFFFFFFEu
#define BIN_TAG_MIN 0xFFFFFF00u /* values from here on are entry tags */
#define BIN_NAME_FIXED_B 8      /* tag + length */
#define BIN_END_B 24
#define BIN_PMC_FIXED_B 16
#define BIN_BLK_B 40
#define BIN_BLKI_B 48
#define BIN_DEFAULT_UNIT "events"
#define BIN_ORDER_MIN_KEYS 64
/* pmc: last_t of a CPU without a record yet; no valid time passes the
 * fast tests against it (t < last_t, or t == INT64_MAX, which they route
 * to check_pmc() with the negative ones) */
#define BIN_T_UNSEEN INT64_MAX
/* records per trc_next_pmc_batch() at most: a batch (20 KiB of 80-byte
 * records) is still in the L1 cache when the caller reads it */
#define BIN_BATCH_MAX 256
/* error and refill paths: out of line, so the record loop stays small */
#define BIN_COLD __attribute__((cold, noinline))

/* ---- little-endian loads and stores ---------------------------------- */

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define BIN_SWAP32(x) __builtin_bswap32(x)
#define BIN_SWAP64(x) __builtin_bswap64(x)
#define BIN_SWAP16(x) __builtin_bswap16(x)
#else
#define BIN_SWAP32(x) (x)
#define BIN_SWAP64(x) (x)
#define BIN_SWAP16(x) (x)
#endif

static inline uint16_t ld16(const unsigned char *p)
{
	uint16_t v;
	memcpy(&v, p, sizeof v);
	return BIN_SWAP16(v);
}

static inline uint32_t ld32(const unsigned char *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof v);
	return BIN_SWAP32(v);
}

static inline uint64_t ld64(const unsigned char *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof v);
	return BIN_SWAP64(v);
}

static inline void st16(unsigned char *p, uint16_t v)
{
	v = BIN_SWAP16(v);
	memcpy(p, &v, sizeof v);
}

static inline void st32(unsigned char *p, uint32_t v)
{
	v = BIN_SWAP32(v);
	memcpy(p, &v, sizeof v);
}

static inline void st64(unsigned char *p, uint64_t v)
{
	v = BIN_SWAP64(v);
	memcpy(p, &v, sizeof v);
}

/* ---- shared: sizes, units, names ------------------------------------- */

static size_t record_size(int kind, int n_counters)
{
	switch (kind) {
	case TRC_PMC:
	case TRC_PMC_INTERVAL:
		return BIN_PMC_FIXED_B + 8 * (size_t)n_counters;
	case TRC_BLK:
		return BIN_BLK_B;
	default:
		return BIN_BLKI_B;
	}
}

/* Unit of a counter from its name: "NAME (UNIT)" gives UNIT (1..32
 * printable bytes without spaces or parentheses), else "events". */
static void unit_of(const char *name, const char **u, size_t *ul)
{
	size_t n = strlen(name);
	*u = BIN_DEFAULT_UNIT;
	*ul = sizeof BIN_DEFAULT_UNIT - 1;
	if (n < 4 || name[n - 1] != ')')
		return;
	const char *open = NULL;
	for (size_t i = n - 1; i-- > 0;)
		if (name[i] == '(') {
			open = name + i;
			break;
		}
	if (!open || open == name || open[-1] != ' ')
		return;
	size_t len = (size_t)(name + n - 1 - (open + 1));
	if (len == 0 || len > BIN_UNIT_MAX_B)
		return;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)open[1 + i];
		if (c <= ' ' || c >= 0x7f || c == '(' || c == ')')
			return;
	}
	*u = open + 1;
	*ul = len;
}

static int vm_char(unsigned char ch)
{
	return (unsigned)((ch | 0x20) - 'a') < 26 || (unsigned)(ch - '0') < 10 ||
	       ch == '_' || ch == '.' || ch == '-';
}

/* ---- writer encoders (called by trc_csv_write.c) ---------------------- */

int trc_bin_wanted(const char *path)
{
	size_t n = strlen(path), e = sizeof TRC_BIN_EXT - 1;
	return n > e && strcmp(path + n - e, TRC_BIN_EXT) == 0;
}

long trc_bin_header(char *out, size_t cap, int kind, char *const *counters,
		    int n, const char *file, struct jv_diag *d)
{
	unsigned char *o = (unsigned char *)out;
	size_t need = BIN_FIXED_HEADER_B;
	for (int i = 0; i < n; i++) {
		const char *u;
		size_t ul, nl = strlen(counters[i]);
		if (nl > BIN_COUNTER_NAME_MAX_B)
			return jv_diag_set(d, JV_ELIMIT, file, 0,
					   "counter %d: name of %zu bytes is too "
					   "long for a binary trace (at most %d)",
					   i + 1, nl, BIN_COUNTER_NAME_MAX_B);
		unit_of(counters[i], &u, &ul);
		need += 4 + nl + ul;
	}
	if (need > cap || need > BIN_HEADER_MAX_B)
		return jv_diag_set(d, JV_ELIMIT, file, 0,
				   "binary header of %zu bytes is too long", need);
	memcpy(o, BIN_MAGIC, BIN_MAGIC_B);
	st32(o + 8, BIN_VERSION);
	st32(o + 12, (uint32_t)kind);
	st32(o + 16, (uint32_t)n);
	st32(o + 20, (uint32_t)record_size(kind, n));
	st32(o + 24, (uint32_t)need);
	st32(o + 28, 0);
	size_t at = BIN_FIXED_HEADER_B;
	for (int i = 0; i < n; i++) {
		const char *u;
		size_t ul, nl = strlen(counters[i]);
		unit_of(counters[i], &u, &ul);
		st16(o + at, (uint16_t)nl);
		memcpy(o + at + 2, counters[i], nl);
		at += 2 + nl;
		st16(o + at, (uint16_t)ul);
		memcpy(o + at + 2, u, ul);
		at += 2 + ul;
	}
	return (long)at;
}

size_t trc_bin_name(char *out, const char *name, size_t len)
{
	unsigned char *o = (unsigned char *)out;
	st32(o, BIN_TAG_NAME);
	st32(o + 4, (uint32_t)len);
	memcpy(o + BIN_NAME_FIXED_B, name, len);
	return BIN_NAME_FIXED_B + len;
}

size_t trc_bin_record(char *out, const struct trc_record *rec, int n_counters)
{
	unsigned char *o = (unsigned char *)out;
	switch (rec->kind) {
	case TRC_PMC: {
		const struct trc_pmc *p = &rec->u.pmc;
		st32(o, (uint32_t)p->vm);
		st32(o + 4, (uint32_t)p->cpu);
		st64(o + 8, (uint64_t)p->t_ns);
		for (int i = 0; i < n_counters; i++)
			st64(o + 16 + 8 * i, p->ctr[i]);
		break;
	}
	case TRC_PMC_INTERVAL: {
		const struct trc_pmc_interval *p = &rec->u.pmci;
		st32(o, (uint32_t)p->vm);
		st32(o + 4, 0);
		st64(o + 8, (uint64_t)p->t_ns);
		for (int i = 0; i < n_counters; i++)
			st64(o + 16 + 8 * i, p->delta[i]);
		break;
	}
	case TRC_BLK: {
		const struct trc_blk *b = &rec->u.blk;
		st32(o, (uint32_t)b->vm);
		o[4] = (unsigned char)b->op;
		o[5] = 0;
		st16(o + 6, (uint16_t)b->disk);
		st64(o + 8, (uint64_t)b->t_ns);
		st64(o + 16, (uint64_t)b->offset_b);
		st64(o + 24, (uint64_t)b->size_b);
		st64(o + 32, (uint64_t)b->latency_ns);
		break;
	}
	default: {
		const struct trc_blk_interval *b = &rec->u.blki;
		st32(o, (uint32_t)b->vm);
		st32(o + 4, (uint32_t)b->disk);
		st64(o + 8, (uint64_t)b->t_ns);
		st64(o + 16, (uint64_t)b->read_b);
		st64(o + 24, (uint64_t)b->write_b);
		st64(o + 32, (uint64_t)b->reads);
		st64(o + 40, (uint64_t)b->writes);
		break;
	}
	}
	return record_size(rec->kind, n_counters);
}

size_t trc_bin_end(char *out, uint64_t n_records, uint32_t n_names)
{
	unsigned char *o = (unsigned char *)out;
	st32(o, BIN_TAG_END);
	st32(o + 4, 0);
	st64(o + 8, n_records);
	st32(o + 16, n_names);
	st32(o + 20, 0);
	return BIN_END_B;
}

/* ---- reader state ------------------------------------------------------ */

struct bin_state {
	size_t rec_b;        /* bytes per data record */
	int n_ctr;
	int track_ctr;       /* pmc: keep the last counters per CPU */
	uint64_t records;    /* data records read */
	char *units[TRC_MAX_COUNTERS];
	/* order: per key (cpu for pmc, VM index for pmci/blki) */
	size_t ord_cap;
	int64_t *last_t;     /* -1 before the first record of that key (pmc:
			      * BIN_T_UNSEEN, see n_seen) */
	uint64_t *last_off;  /* byte offset of that record */
	uint64_t *last_ctr;  /* pmc: ord_cap x n_ctr */
	int64_t g_t;         /* blk: last t_ns */
	uint64_t g_off;
	/* pmc: CPUs that had a record; their first one always takes
	 * check_pmc() (its last_t is BIN_T_UNSEEN before), which counts it */
	size_t n_seen;
	/* trc_next_pmc_raw(): the run handed out (its first record at byte
	 * raw_pos of the buffer, raw_n records; 0 when none is open), and
	 * whether the record where the caller stopped goes through the
	 * checks next */
	size_t raw_pos, raw_n;
	int raw_stop;
};

static int bin_err(struct trc_reader *r, int code, uint64_t off,
		   const char *fmt, ...) BIN_COLD
	__attribute__((format(printf, 4, 5)));

/* "FILE: byte offset N: message", into the reader's sticky diagnostic
 * (trc_next() hands r->err to next(); bin_open() copies it out). */
static int bin_err(struct trc_reader *r, int code, uint64_t off,
		   const char *fmt, ...)
{
	char msg[JV_DIAG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return jv_diag_set(&r->err, code, r->name, 0,
			   "byte offset %" PRIu64 ": %s", off, msg);
}

static int order_grow(struct bin_state *b, size_t need)
{
	size_t cap = b->ord_cap ? b->ord_cap : BIN_ORDER_MIN_KEYS;
	while (cap < need)
		cap *= 2;
	int64_t *t = realloc(b->last_t, cap * sizeof *t);
	if (!t)
		return JV_ENOMEM;
	b->last_t = t;
	uint64_t *o = realloc(b->last_off, cap * sizeof *o);
	if (!o)
		return JV_ENOMEM;
	b->last_off = o;
	if (b->track_ctr) {
		uint64_t *c = realloc(b->last_ctr,
				      cap * (size_t)b->n_ctr * sizeof *c);
		if (!c)
			return JV_ENOMEM;
		b->last_ctr = c;
		memset(c + b->ord_cap * (size_t)b->n_ctr, 0,
		       (cap - b->ord_cap) * (size_t)b->n_ctr * sizeof *c);
	}
	for (size_t i = b->ord_cap; i < cap; i++) {
		t[i] = b->track_ctr ? BIN_T_UNSEEN : -1;
		o[i] = 0;
	}
	b->ord_cap = cap;
	return 0;
}

/* ---- header ------------------------------------------------------------ */

static uint64_t cur_off(const struct trc_reader *r)
{
	return r->lines.buf_off + r->lines.pos;
}

/* Buffer want bytes at the current position; *avail gets what is there. */
static int need_bytes(struct trc_reader *r, size_t want, size_t *avail,
		      struct jv_diag *d)
{
	long got = trc_lines_fill(&r->lines, want, d);
	if (got < 0)
		return (int)got;
	*avail = (size_t)got;
	return 0;
}

static int check_text(const unsigned char *s, size_t n, int unit)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];
		if (unit ? (c <= ' ' || c >= 0x7f)
			 : (c == '\0' || c == ',' || c == '\r' || c == '\n'))
			return 0;
	}
	return 1;
}

static int read_counters(struct trc_reader *r, struct bin_state *b,
			 const unsigned char *h, size_t header_b, uint64_t base)
{
	size_t at = BIN_FIXED_HEADER_B;
	char q[80];
	for (int i = 0; i < b->n_ctr; i++) {
		size_t len[2];
		const unsigned char *s[2];
		for (int k = 0; k < 2; k++) {
			if (at + 2 > header_b)
				return bin_err(r, JV_EPARSE, base + at,
					       "header: counter %d: %s runs past "
					       "the header's end (header_b %zu)",
					       i + 1, k ? "unit" : "name",
					       header_b);
			len[k] = ld16(h + at);
			size_t max = k ? BIN_UNIT_MAX_B : BIN_COUNTER_NAME_MAX_B;
			if (len[k] == 0 || len[k] > max)
				return bin_err(r, JV_EPARSE, base + at,
					       "header: counter %d: %s length %zu "
					       "(1..%zu)", i + 1,
					       k ? "unit" : "name", len[k], max);
			if (at + 2 + len[k] > header_b)
				return bin_err(r, JV_EPARSE, base + at,
					       "header: counter %d: %s runs past "
					       "the header's end (header_b %zu)",
					       i + 1, k ? "unit" : "name",
					       header_b);
			s[k] = h + at + 2;
			if (!check_text(s[k], len[k], k))
				return bin_err(r, JV_EPARSE, base + at + 2,
					       "header: counter %d: invalid "
					       "character in %s '%s'", i + 1,
					       k ? "unit" : "name",
					       trc_quote(q, sizeof q,
							 (const char *)s[k],
							 len[k]));
			at += 2 + len[k];
		}
		for (int j = 0; j < i; j++)
			if (strlen(r->counters[j]) == len[0] &&
			    memcmp(r->counters[j], s[0], len[0]) == 0)
				return bin_err(r, JV_EPARSE, base + at,
					       "header: counter %d: duplicate name "
					       "'%s' (also counter %d)", i + 1,
					       trc_quote(q, sizeof q,
							 (const char *)s[0],
							 len[0]), j + 1);
		char *nm = malloc(len[0] + 1), *un = malloc(len[1] + 1);
		if (!nm || !un) {
			free(nm);
			free(un);
			return bin_err(r, JV_ENOMEM, base, "out of memory");
		}
		memcpy(nm, s[0], len[0]);
		nm[len[0]] = '\0';
		memcpy(un, s[1], len[1]);
		un[len[1]] = '\0';
		r->counters[r->n_counters++] = nm;
		b->units[i] = un;
	}
	if (at != header_b)
		return bin_err(r, JV_EPARSE, base + 24,
			       "header: header_b %zu does not match the counter "
			       "table's end at %zu", header_b, at);
	return 0;
}

static int read_header(struct trc_reader *r, struct bin_state *b,
		       struct jv_diag *d)
{
	size_t avail = 0;
	uint64_t base = cur_off(r);
	int rc = need_bytes(r, BIN_FIXED_HEADER_B, &avail, d);
	if (rc < 0)
		return rc;
	size_t n;
	const unsigned char *h =
		(const unsigned char *)trc_lines_peek(&r->lines, &n);
	char q[80];
	if (avail < BIN_MAGIC_B || memcmp(h, BIN_MAGIC, BIN_MAGIC_B) != 0)
		return bin_err(r, JV_EPARSE, base,
			       "not a joulevisor binary trace: magic '%s', "
			       "expected 'JVTRACE\\0'",
			       trc_quote(q, sizeof q, (const char *)h,
					 avail < BIN_MAGIC_B ? avail
							     : BIN_MAGIC_B));
	if (avail < BIN_FIXED_HEADER_B)
		return bin_err(r, JV_EPARSE, base + avail,
			       "truncated header: %zu of %d bytes", avail,
			       BIN_FIXED_HEADER_B);
	uint32_t version = ld32(h + 8), kind = ld32(h + 12);
	uint32_t n_ctr = ld32(h + 16), rec_b = ld32(h + 20);
	uint32_t header_b = ld32(h + 24), reserved = ld32(h + 28);
	if (version != BIN_VERSION)
		return bin_err(r, JV_EPARSE, base + 8,
			       "unsupported binary trace version %" PRIu32
			       " (supported: %d)", version, BIN_VERSION);
	if (kind >= TRC_KIND_COUNT)
		return bin_err(r, JV_EPARSE, base + 12,
			       "unknown record kind %" PRIu32 " (0 pmc, 1 "
			       "pmc-interval, 2 blk, 3 blk-interval)", kind);
	int with_ctr = kind == TRC_PMC || kind == TRC_PMC_INTERVAL;
	if (with_ctr ? (n_ctr < 1 || n_ctr > TRC_MAX_COUNTERS) : n_ctr != 0)
		return bin_err(r, with_ctr && n_ctr > TRC_MAX_COUNTERS
					  ? JV_ELIMIT : JV_EPARSE, base + 16,
			       "%" PRIu32 " counters: a %s trace has %s", n_ctr,
			       trc_kind_name((int)kind),
			       with_ctr ? "1 to 16" : "none");
	if (rec_b != record_size((int)kind, (int)n_ctr))
		return bin_err(r, JV_EPARSE, base + 20,
			       "record size %" PRIu32 ", expected %zu for %s "
			       "with %" PRIu32 " counters", rec_b,
			       record_size((int)kind, (int)n_ctr),
			       trc_kind_name((int)kind), n_ctr);
	if (header_b < BIN_FIXED_HEADER_B || header_b > BIN_HEADER_MAX_B)
		return bin_err(r, JV_EPARSE, base + 24,
			       "header size %" PRIu32 " out of range (%d..%d)",
			       header_b, BIN_FIXED_HEADER_B, BIN_HEADER_MAX_B);
	if (reserved != 0)
		return bin_err(r, JV_EPARSE, base + 28,
			       "reserved header field is %" PRIu32 ", expected 0",
			       reserved);
	rc = need_bytes(r, header_b, &avail, d);
	if (rc < 0)
		return rc;
	if (avail < header_b)
		return bin_err(r, JV_EPARSE, base + avail,
			       "truncated header: %zu of %" PRIu32 " bytes",
			       avail, header_b);
	h = (const unsigned char *)trc_lines_peek(&r->lines, &n);
	r->kind = (int)kind;
	b->n_ctr = (int)n_ctr;
	b->rec_b = rec_b;
	rc = read_counters(r, b, h, header_b, base);
	if (rc < 0)
		return rc;
	trc_lines_skip(&r->lines, header_b);
	return 0;
}

static int bin_open(struct trc_reader *r, struct jv_diag *d)
{
	struct bin_state *b = calloc(1, sizeof *b);
	if (!b)
		return jv_diag_set(d, JV_ENOMEM, r->name, 0, "out of memory");
	r->priv = b;
	b->g_t = -1;
	jv_diag_clear(&r->err);
	int rc = read_header(r, b, d);
	if (rc < 0) {
		if (r->err.err && d && !d->err)
			*d = r->err; /* bin_err reports into r->err */
		jv_diag_clear(&r->err);
		return rc;
	}
	b->track_ctr = r->kind == TRC_PMC;
	if (r->kind == TRC_PMC && order_grow(b, BIN_ORDER_MIN_KEYS) < 0)
		return jv_diag_set(d, JV_ENOMEM, r->name, 0, "out of memory");
	return 0;
}

static void bin_close(struct trc_reader *r)
{
	struct bin_state *b = r->priv;
	if (!b)
		return;
	for (int i = 0; i < TRC_MAX_COUNTERS; i++)
		free(b->units[i]);
	free(b->last_t);
	free(b->last_off);
	free(b->last_ctr);
	free(b);
	r->priv = NULL;
}

static size_t bin_mem_b(const struct trc_reader *r)
{
	const struct bin_state *b = r->priv;
	if (!b)
		return 0;
	return sizeof *b + b->ord_cap * (sizeof *b->last_t + sizeof *b->last_off +
					 (size_t)b->n_ctr * sizeof *b->last_ctr);
}

/* ---- records: checks --------------------------------------------------- */

BIN_COLD static int time_back(struct trc_reader *r, uint64_t off, int64_t t,
		     int64_t last, uint64_t last_off, const char *key_kind,
		     const char *key)
{
	if (key_kind)
		return bin_err(r, JV_EORDER, off,
			       "t_ns: time goes backwards (%" PRId64 " < %" PRId64
			       " at byte offset %" PRIu64 ") for %s %s", t, last,
			       last_off, key_kind, key);
	return bin_err(r, JV_EORDER, off,
		       "t_ns: time goes backwards (%" PRId64 " < %" PRId64
		       " at byte offset %" PRIu64 ")", t, last, last_off);
}

BIN_COLD static int negative(struct trc_reader *r, uint64_t off,
		    const char *field, int64_t v)
{
	return bin_err(r, JV_ERANGE, off, "%s: negative value %" PRId64, field, v);
}

BIN_COLD static int check_pmc(struct trc_reader *r, struct bin_state *b,
		     const struct trc_pmc *p, uint64_t off)
{
	char key[16];
	if (p->t_ns < 0)
		return negative(r, off, "t_ns", p->t_ns);
	if ((uint32_t)p->cpu >= TRC_MAX_CPUS)
		return bin_err(r, JV_ERANGE, off, "cpu: out of range %" PRIu32
			       " (0..%d)", (uint32_t)p->cpu, TRC_MAX_CPUS - 1);
	size_t k = (size_t)p->cpu;
	if (k >= b->ord_cap && order_grow(b, k + 1) < 0)
		return bin_err(r, JV_ENOMEM, off, "out of memory");
	if (b->last_t[k] == BIN_T_UNSEEN) {
		b->n_seen++; /* the CPU's first record */
	} else if (p->t_ns < b->last_t[k]) {
		snprintf(key, sizeof key, "%zu", k);
		return time_back(r, off, p->t_ns, b->last_t[k], b->last_off[k],
				 "cpu", key);
	}
	uint64_t *last = b->last_ctr + k * (size_t)b->n_ctr;
	for (int i = 0; i < b->n_ctr; i++) {
		if (p->ctr[i] < last[i])
			return bin_err(r, JV_EORDER, off,
				       "%.60s: counter goes backwards (%" PRIu64
				       " < %" PRIu64 " at byte offset %" PRIu64
				       ") for cpu %zu; counter wrap is not "
				       "supported in v1", r->counters[i],
				       p->ctr[i], last[i], b->last_off[k], k);
		last[i] = p->ctr[i];
	}
	b->last_t[k] = p->t_ns;
	b->last_off[k] = off;
	return 0;
}

/* Per-VM time order (pmc-interval, blk-interval); the arrays cover every
 * defined name (grown in define_name). */
BIN_COLD static int check_vm_time(struct trc_reader *r, struct bin_state *b, int32_t vm,
			 int64_t t, uint64_t off)
{
	size_t k = (size_t)vm;
	if (t < 0)
		return negative(r, off, "t_ns", t);
	if (t < b->last_t[k])
		return time_back(r, off, t, b->last_t[k], b->last_off[k], "vm",
				 trc_names_get(&r->vms, vm));
	b->last_t[k] = t;
	b->last_off[k] = off;
	return 0;
}

BIN_COLD static int check_blk(struct trc_reader *r, struct bin_state *b,
		     const struct trc_blk *o, const unsigned char *p,
		     uint64_t off)
{
	if (o->t_ns < 0)
		return negative(r, off, "t_ns", o->t_ns);
	if (p[4] > TRC_OP_WRITE)
		return bin_err(r, JV_EPARSE, off + 4,
			       "op: %u is neither 0 (read) nor 1 (write)", p[4]);
	if (p[5] != 0)
		return bin_err(r, JV_EPARSE, off + 5,
			       "reserved byte is %u, expected 0", p[5]);
	if (o->disk >= TRC_MAX_DISKS)
		return bin_err(r, JV_ERANGE, off + 6,
			       "disk: out of range %" PRId32 " (0..%d)", o->disk,
			       TRC_MAX_DISKS - 1);
	if (o->offset_b < 0)
		return negative(r, off + 16, "offset_b", o->offset_b);
	if (o->size_b <= 0)
		return bin_err(r, JV_ERANGE, off + 24,
			       "size_b: must be > 0, found %" PRId64, o->size_b);
	if (o->latency_ns < -1)
		return bin_err(r, JV_ERANGE, off + 32,
			       "latency_ns: negative value %" PRId64 " (only -1, "
			       "meaning unknown, is allowed)", o->latency_ns);
	if (o->t_ns < b->g_t)
		return time_back(r, off, o->t_ns, b->g_t, b->g_off, NULL, NULL);
	b->g_t = o->t_ns;
	b->g_off = off;
	return 0;
}

BIN_COLD static int check_blki(struct trc_reader *r, struct bin_state *b,
		      const struct trc_blk_interval *o, uint64_t off)
{
	if ((uint32_t)o->disk >= TRC_MAX_DISKS)
		return bin_err(r, JV_ERANGE, off + 4,
			       "disk: out of range %" PRIu32 " (0..%d)",
			       (uint32_t)o->disk, TRC_MAX_DISKS - 1);
	if (o->read_b < 0)
		return negative(r, off + 16, "read_b", o->read_b);
	if (o->write_b < 0)
		return negative(r, off + 24, "write_b", o->write_b);
	if (o->reads < 0)
		return negative(r, off + 32, "reads", o->reads);
	if (o->writes < 0)
		return negative(r, off + 40, "writes", o->writes);
	return check_vm_time(r, b, o->vm, o->t_ns, off);
}

/* ---- records: decoding ------------------------------------------------- */

/* ctr[0..n) from p, ctr[n..16) zero (as the CSV reader leaves them).
 * The zeroing is one fixed-size copy: a variable-length loop compiles to
 * `rep stos`, whose start-up cost was half the time per record. */
static inline void load_counters(uint64_t *ctr, const unsigned char *p, int n)
{
	static const uint64_t zero[TRC_MAX_COUNTERS];
	memcpy(ctr, zero, sizeof zero);
	for (int i = 0; i < n; i++)
		ctr[i] = ld64(p + 8 * (size_t)i);
}

/* Decode the record at p (its VM index vm already checked) into rec and
 * check it. The common case (valid values, keys seen before, in order) is
 * tested with a few compares; anything else goes to the check_* functions,
 * which grow the order tables, report errors and update the state. */
static inline __attribute__((always_inline)) int
decode(struct trc_reader *r, struct bin_state *b,
			 const unsigned char *p, uint32_t vm, uint64_t off,
			 struct trc_record *rec)
{
	rec->kind = r->kind;
	rec->line = (long)off;
	switch (r->kind) {
	case TRC_PMC: {
		struct trc_pmc *o = &rec->u.pmc;
		uint32_t cpu = ld32(p + 4);
		o->vm = (int32_t)vm;
		o->cpu = (int32_t)cpu;
		o->t_ns = (int64_t)ld64(p + 8);
		int n = b->n_ctr;
		/* t < 0 or t == INT64_MAX (a first record may be at that time):
		 * one unsigned compare */
		if (cpu >= b->ord_cap || o->t_ns < b->last_t[cpu] ||
		    (uint64_t)o->t_ns >= (uint64_t)INT64_MAX) {
			load_counters(o->ctr, p + 16, n);
			return check_pmc(r, b, o, off);
		}
		/* counters loaded and compared in one pass; plain loops, since
		 * a variable-length memcpy is a libc call per record */
		uint64_t *last = b->last_ctr + (size_t)cpu * (size_t)n;
		static const uint64_t zero[TRC_MAX_COUNTERS];
		memcpy(o->ctr, zero, sizeof zero);
		unsigned back = 0;
		for (int i = 0; i < n; i++) {
			uint64_t v = ld64(p + 16 + 8 * (size_t)i);
			o->ctr[i] = v;
			back |= v < last[i];
		}
		if (back)
			return check_pmc(r, b, o, off);
		for (int i = 0; i < n; i++)
			last[i] = o->ctr[i];
		b->last_t[cpu] = o->t_ns;
		b->last_off[cpu] = off;
		return 0;
	}
	case TRC_PMC_INTERVAL: {
		struct trc_pmc_interval *o = &rec->u.pmci;
		uint32_t res = ld32(p + 4);
		if (res != 0)
			return bin_err(r, JV_EPARSE, off + 4,
				       "reserved field is %" PRIu32 ", expected 0",
				       res);
		o->vm = (int32_t)vm;
		o->t_ns = (int64_t)ld64(p + 8);
		load_counters(o->delta, p + 16, b->n_ctr);
		if (o->t_ns < b->last_t[vm] || o->t_ns < 0)
			return check_vm_time(r, b, o->vm, o->t_ns, off);
		b->last_t[vm] = o->t_ns;
		b->last_off[vm] = off;
		return 0;
	}
	case TRC_BLK: {
		struct trc_blk *o = &rec->u.blk;
		o->vm = (int32_t)vm;
		o->op = p[4];
		o->disk = ld16(p + 6);
		o->t_ns = (int64_t)ld64(p + 8);
		o->offset_b = (int64_t)ld64(p + 16);
		o->size_b = (int64_t)ld64(p + 24);
		o->latency_ns = (int64_t)ld64(p + 32);
		if (p[4] > TRC_OP_WRITE || p[5] != 0 || o->disk >= TRC_MAX_DISKS ||
		    o->offset_b < 0 || o->size_b <= 0 || o->latency_ns < -1 ||
		    o->t_ns < b->g_t || o->t_ns < 0)
			return check_blk(r, b, o, p, off);
		b->g_t = o->t_ns;
		b->g_off = off;
		return 0;
	}
	default: {
		struct trc_blk_interval *o = &rec->u.blki;
		o->vm = (int32_t)vm;
		o->disk = (int32_t)ld32(p + 4);
		o->t_ns = (int64_t)ld64(p + 8);
		o->read_b = (int64_t)ld64(p + 16);
		o->write_b = (int64_t)ld64(p + 24);
		o->reads = (int64_t)ld64(p + 32);
		o->writes = (int64_t)ld64(p + 40);
		if ((uint32_t)o->disk >= TRC_MAX_DISKS ||
		    (o->read_b | o->write_b | o->reads | o->writes) < 0 ||
		    o->t_ns < b->last_t[vm] || o->t_ns < 0)
			return check_blki(r, b, o, off);
		b->last_t[vm] = o->t_ns;
		b->last_off[vm] = off;
		return 0;
	}
	}
}

/* ---- entries: names, end, truncation ------------------------------------ */

BIN_COLD static int define_name(struct trc_reader *r, struct bin_state *b,
		       const unsigned char *p, size_t avail, uint64_t off,
		       struct jv_diag *d)
{
	char q[80];
	if (avail < BIN_NAME_FIXED_B)
		return bin_err(r, JV_EPARSE, off,
			       "truncated name entry: %zu of %d bytes", avail,
			       BIN_NAME_FIXED_B);
	uint32_t len = ld32(p + 4);
	if (len == 0 || len >= TRC_NAME_MAX)
		return bin_err(r, JV_EPARSE, off + 4,
			       "name entry: length %" PRIu32 " (1..%d)", len,
			       TRC_NAME_MAX - 1);
	int rc = need_bytes(r, BIN_NAME_FIXED_B + len, &avail, d);
	if (rc < 0)
		return rc;
	p = (const unsigned char *)r->lines.buf + r->lines.pos;
	if (avail < BIN_NAME_FIXED_B + len)
		return bin_err(r, JV_EPARSE, off,
			       "truncated name entry: %zu of %" PRIu32 " bytes",
			       avail, BIN_NAME_FIXED_B + len);
	const char *s = (const char *)p + BIN_NAME_FIXED_B;
	for (uint32_t i = 0; i < len; i++)
		if (!vm_char((unsigned char)s[i]))
			return bin_err(r, JV_EPARSE, off + BIN_NAME_FIXED_B,
				       "name entry: invalid VM name '%s' "
				       "(allowed characters: A-Z a-z 0-9 _ . -)",
				       trc_quote(q, sizeof q, s, len));
	int n0 = r->vms.n;
	int i = trc_names_intern(&r->vms, s, len, trc_names_hash(s, len));
	if (i == JV_ELIMIT)
		return bin_err(r, JV_ELIMIT, off,
			       "too many distinct VM names (more than %d)",
			       TRC_MAX_VMS);
	if (i < 0)
		return bin_err(r, JV_ENOMEM, off, "out of memory");
	if (r->vms.n == n0)
		return bin_err(r, JV_EPARSE, off,
			       "name entry: VM name '%s' defined twice (index %d)",
			       trc_quote(q, sizeof q, s, len), i);
	if ((r->kind == TRC_PMC_INTERVAL || r->kind == TRC_BLK_INTERVAL) &&
	    (size_t)r->vms.n > b->ord_cap && order_grow(b, (size_t)r->vms.n) < 0)
		return bin_err(r, JV_ENOMEM, off, "out of memory");
	trc_lines_skip(&r->lines, BIN_NAME_FIXED_B + len);
	return 1;
}

BIN_COLD static int read_end(struct trc_reader *r, struct bin_state *b,
		    const unsigned char *p, size_t avail, uint64_t off,
		    struct jv_diag *d)
{
	if (avail < BIN_END_B)
		return bin_err(r, JV_EPARSE, off,
			       "truncated end entry: %zu of %d bytes", avail,
			       BIN_END_B);
	uint64_t n_rec = ld64(p + 8);
	uint32_t n_names = ld32(p + 16);
	if (ld32(p + 4) != 0 || ld32(p + 20) != 0)
		return bin_err(r, JV_EPARSE, off,
			       "end entry: reserved fields are not 0");
	if (n_rec != b->records)
		return bin_err(r, JV_EPARSE, off,
			       "end entry: the file says %" PRIu64 " records, "
			       "%" PRIu64 " were read", n_rec, b->records);
	if (n_names != (uint32_t)r->vms.n)
		return bin_err(r, JV_EPARSE, off,
			       "end entry: the file says %" PRIu32 " VM names, "
			       "%d were defined", n_names, r->vms.n);
	trc_lines_skip(&r->lines, BIN_END_B);
	int rc = need_bytes(r, 1, &avail, d);
	if (rc < 0)
		return rc;
	if (avail)
		return bin_err(r, JV_EPARSE, off + BIN_END_B,
			       "data after the end entry");
	return 0;
}

/* Not a buffered, defined record: refill, names, end, errors. 1 when the
 * caller should retry the fast path, 0 at the end, < 0 on error. */
BIN_COLD static int slow_path(struct trc_reader *r, struct bin_state *b,
		     struct jv_diag *d)
{
	size_t avail = 0;
	uint64_t off = cur_off(r);
	r->lines.scan = r->lines.pos; /* the fast path moves pos only */
	int rc = need_bytes(r, b->rec_b > BIN_END_B ? b->rec_b : BIN_END_B,
			    &avail, d);
	if (rc < 0)
		return rc;
	const unsigned char *p =
		(const unsigned char *)r->lines.buf + r->lines.pos;
	if (avail == 0)
		return bin_err(r, JV_EPARSE, off,
			       "truncated: the file ends without its end entry "
			       "(%" PRIu64 " records read)", b->records);
	if (avail < 4)
		return bin_err(r, JV_EPARSE, off,
			       "truncated entry: %zu bytes left", avail);
	uint32_t tag = ld32(p);
	if (tag == BIN_TAG_NAME)
		return define_name(r, b, p, avail, off, d);
	if (tag == BIN_TAG_END)
		return read_end(r, b, p, avail, off, d);
	if (tag >= BIN_TAG_MIN)
		return bin_err(r, JV_EPARSE, off, "unknown entry tag 0x%08" PRIx32,
			       tag);
	if (tag >= (uint32_t)r->vms.n)
		return bin_err(r, JV_EPARSE, off,
			       "record: VM index %" PRIu32 " is not defined (%d "
			       "names so far)", tag, r->vms.n);
	if (avail < b->rec_b)
		return bin_err(r, JV_EPARSE, off,
			       "truncated record: %zu of %zu bytes", avail,
			       b->rec_b);
	return 1; /* a whole, defined record is buffered now */
}

/* Refill and entries until a record is decoded, the end, or an error. */
BIN_COLD static int next_slow(struct trc_reader *r, struct trc_record *rec,
			      struct jv_diag *d)
{
	struct bin_state *b = r->priv;
	struct trc_lines *l = &r->lines;
	for (;;) {
		int rc = slow_path(r, b, d);
		if (rc <= 0)
			return rc;
		/* a name was defined, or a whole record is buffered now */
		const unsigned char *p = (const unsigned char *)l->buf + l->pos;
		uint64_t off = l->buf_off + l->pos;
		if (l->end - l->pos >= b->rec_b && ld32(p) < (uint32_t)r->vms.n) {
			l->pos += b->rec_b;
			rc = decode(r, b, p, ld32(p), off, rec);
			if (rc < 0)
				return rc;
			b->records++;
			return 1;
		}
	}
}

/* The fast path: a buffered record of a defined VM. Kept free of calls
 * other than the cold ones so it needs few saved registers. */
static int bin_next(struct trc_reader *r, struct trc_record *rec,
		    struct jv_diag *d)
{
	struct bin_state *b = r->priv;
	struct trc_lines *l = &r->lines;
	size_t pos = l->pos;
	if (__builtin_expect(l->end - pos >= b->rec_b, 1)) {
		const unsigned char *p = (const unsigned char *)l->buf + pos;
		uint32_t vm = ld32(p);
		if (__builtin_expect(vm < (uint32_t)r->vms.n, 1)) {
			l->pos = pos + b->rec_b;
			int rc = decode(r, b, p, vm, l->buf_off + pos, rec);
			if (__builtin_expect(rc < 0, 0))
				return rc;
			b->records++;
			return 1;
		}
	}
	return next_slow(r, rec, d);
}

#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
typedef uint64_t bin_u64x2 __attribute__((vector_size(16)));
#define BIN_U64X2 1
#endif

/* The buffered records from p0 (at most max) that pass the checks of
 * decode()'s common case (defined VM, known CPU, time and counters in
 * order), the order state advanced record by record: their count. n is a
 * constant in each copy batch_scan_n() dispatches to, so the counter loops
 * unroll. */
static inline __attribute__((always_inline)) size_t
batch_scan(struct bin_state *b, const unsigned char *p0, size_t max, uint64_t off,
	   uint32_t n_vms, const size_t n)
{
	const size_t rec_b = b->rec_b, cap = b->ord_cap;
	int64_t *last_t = b->last_t;
	uint64_t *last_off = b->last_off, *last_ctr = b->last_ctr;
	size_t k = 0;
	for (const unsigned char *p = p0; k < max; k++, p += rec_b) {
		uint32_t vm = ld32(p), cpu = ld32(p + 4);
		int64_t t = (int64_t)ld64(p + 8);
		if (vm >= n_vms || cpu >= cap || t < last_t[cpu] ||
		    (uint64_t)t >= (uint64_t)INT64_MAX) /* as decode() */
			break;
		uint64_t *last = last_ctr + (size_t)cpu * n;
#ifdef BIN_U64X2
		/* v >= last for counters below 2^63: the top bit of v - last,
		 * v and last clear (two at a time); anything else, a counter
		 * at or above 2^63 included, goes to decode()'s exact test */
		bin_u64x2 acc = {0, 0};
#pragma GCC unroll 8
		for (size_t i = 0; i + 1 < n; i += 2) {
			bin_u64x2 v, l;
			memcpy(&v, p + 16 + 8 * i, sizeof v);
			memcpy(&l, last + i, sizeof l);
			acc |= (v - l) | v | l;
		}
		uint64_t any = acc[0] | acc[1];
		if (n & 1) {
			uint64_t v = ld64(p + 16 + 8 * (n - 1)), l = last[n - 1];
			any |= (v - l) | v | l;
		}
		if (any >> 63)
			break;
		memcpy(last, p + 16, 8 * n);
#else
		unsigned back = 0;
#pragma GCC unroll 16
		for (size_t i = 0; i < n; i++)
			back |= ld64(p + 16 + 8 * i) < last[i];
		if (back)
			break;
#pragma GCC unroll 16
		for (size_t i = 0; i < n; i++)
			last[i] = ld64(p + 16 + 8 * i);
#endif
		last_t[cpu] = t;
		last_off[cpu] = off + k * rec_b;
	}
	return k;
}

#define BATCH_CASE(N)                                                          \
	case N:                                                                \
		return batch_scan(b, p0, max, off, n_vms, N);

static size_t batch_scan_n(struct bin_state *b, const unsigned char *p0, size_t max,
			   uint64_t off, uint32_t n_vms)
{
	switch (b->n_ctr) {
	BATCH_CASE(1) BATCH_CASE(2) BATCH_CASE(3) BATCH_CASE(4)
	BATCH_CASE(5) BATCH_CASE(6) BATCH_CASE(7) BATCH_CASE(8)
	BATCH_CASE(9) BATCH_CASE(10) BATCH_CASE(11) BATCH_CASE(12)
	BATCH_CASE(13) BATCH_CASE(14) BATCH_CASE(15)
	default:
		return batch_scan(b, p0, max, off, n_vms, TRC_MAX_COUNTERS);
	}
}

/* trc_next_pmc_batch(): the buffered run of records batch_scan() accepts,
 * handed out in place. The run ends before the first record that is not
 * whole, is a name or end entry, or needs more than its compares (a new
 * CPU, an error); a run of none takes that record through bin_next(),
 * which grows the order tables, reports the error or refills, and hands
 * it out alone. */
int trc_bin_next_pmc_batch(struct trc_reader *r, struct trc_pmc_batch *out,
			   struct jv_diag *d)
{
	struct bin_state *b = r->priv;
	struct trc_lines *l = &r->lines;
	size_t rec_b = b->rec_b, pos = l->pos;
	const unsigned char *p0 = (const unsigned char *)l->buf + pos;
	uint64_t off = l->buf_off + pos;
	size_t max = (l->end - pos) / rec_b;
	if (max > BIN_BATCH_MAX)
		max = BIN_BATCH_MAX;
	size_t k = batch_scan_n(b, p0, max, off, (uint32_t)r->vms.n);
	if (k > 0) {
		l->pos = pos + k * rec_b;
		b->records += k;
		out->rec = p0;
		out->n = k;
		out->rec_b = rec_b;
		out->line0 = (long)off;
		out->line_step = (long)rec_b;
		return 1;
	}
	struct trc_record rec;
	int rc = bin_next(r, &rec, d);
	if (rc <= 0)
		return rc;
	out->rec = (const unsigned char *)l->buf + l->pos - rec_b;
	out->n = 1;
	out->rec_b = rec_b;
	out->line0 = rec.line;
	out->line_step = (long)rec_b;
	return 1;
}

/* trc_next_pmc_raw(): the whole records buffered from the current position
 * (at most BIN_BATCH_MAX), unchecked, the position left where it is until
 * trc_pmc_done() says how many the caller took; after a stop (or with no
 * whole record buffered, or in any other state) a checked run through
 * trc_next_pmc_batch(), whose checks and messages are bin_next()'s. */
int trc_next_pmc_raw(struct trc_reader *r, struct trc_pmc_batch *out,
		     struct jv_diag *d)
{
	if (r->fmt == &trc_fmt_bin && r->kind == TRC_PMC && r->state == 0) {
		struct bin_state *b = r->priv;
		struct trc_lines *l = &r->lines;
		size_t rec_b = b->rec_b, pos = l->pos;
		size_t max = (l->end - pos) / rec_b;
		if (max > BIN_BATCH_MAX)
			max = BIN_BATCH_MAX;
		b->raw_n = 0;
		if (!b->raw_stop && max > 0) {
			b->raw_pos = pos;
			b->raw_n = max;
			out->rec = (const unsigned char *)l->buf + pos;
			out->n = max;
			out->rec_b = rec_b;
			out->line0 = (long)(l->buf_off + pos);
			out->line_step = (long)rec_b;
			out->raw = 1;
			return 1;
		}
		b->raw_stop = 0;
	}
	int rc = trc_next_pmc_batch(r, out, d);
	out->raw = 0;
	return rc;
}

/* trc_pmc_done(): records [0, used) of the raw run are taken: the position
 * moves past them and each CPU's last time, offset and counters become
 * those of its last record among them (found from the end; the scan stops
 * once every CPU that had a record is found: at once for a one-CPU log). */
void trc_pmc_done(struct trc_reader *r, const struct trc_pmc_batch *in,
		  size_t used)
{
	if (!in->raw || r->fmt != &trc_fmt_bin)
		return;
	struct bin_state *b = r->priv;
	struct trc_lines *l = &r->lines;
	if (b->raw_n == 0)
		return; /* not open (a second call) */
	if (used > b->raw_n)
		used = b->raw_n;
	const size_t rec_b = b->rec_b, n = (size_t)b->n_ctr;
	const unsigned char *p0 = (const unsigned char *)l->buf + b->raw_pos;
	uint64_t off0 = l->buf_off + b->raw_pos;
	uint64_t seen[TRC_MAX_CPUS / 64] = {0};
	size_t found = 0;
	for (size_t i = used; i-- > 0 && found < b->n_seen;) {
		const unsigned char *p = p0 + i * rec_b;
		uint32_t cpu = ld32(p + 4);
		if (cpu >= b->ord_cap)
			continue; /* never for a caller keeping the contract */
		uint64_t bit = (uint64_t)1 << (cpu % 64);
		if (seen[cpu / 64] & bit)
			continue;
		seen[cpu / 64] |= bit;
		found++;
		b->last_t[cpu] = (int64_t)ld64(p + 8);
		b->last_off[cpu] = off0 + i * rec_b;
		for (size_t k = 0; k < n; k++)
			b->last_ctr[cpu * n + k] = ld64(p + 16 + 8 * k);
	}
	l->pos = b->raw_pos + used * rec_b;
	b->records += used;
	b->raw_stop = used < b->raw_n;
	b->raw_n = 0;
}

/* ---- probe --------------------------------------------------------------- */

static int bin_probe(const char *head, size_t len)
{
	return len >= BIN_MAGIC_B && memcmp(head, BIN_MAGIC, BIN_MAGIC_B) == 0;
}

const struct trc_format trc_fmt_bin = {
	"bin", TRC_BLK, bin_probe, bin_open, bin_next, bin_close, bin_mem_b,
};
