/*
 * trc_impl: private plumbing shared by the trace readers and writers
 * (traces/ only; nothing outside traces/ may include this header).
 *
 * - struct trc_lines: a streaming line reader over a file descriptor
 *   (trc_lines.c): one fixed buffer filled with read(2), lines found with
 *   memchr, returned NUL-terminated in place, CR of CRLF stripped.
 * - struct trc_names: interned names (trc.c): an open-addressing hash of
 *   names -> dense index; name storage never moves, so pointers returned by
 *   trc_names_get() stay valid until trc_names_free().
 * - struct trc_format: one entry of the reader ops table trc_formats[].
 * - struct trc_reader: the state every reader shares; a format keeps its
 *   own state behind r->priv.
 */
#ifndef JV_TRC_IMPL_H
#define JV_TRC_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "base/jv_err.h"
#include "traces/record.h"
#include "traces/trc.h"

/* Limits (also documented in docs/FORMATS.md). */
#define TRC_LINE_MAX_B (64 * 1024)    /* longest line, without CR/LF */
#define TRC_READ_BUF_B (1024 * 1024)  /* read(2) buffer of a reader */
#define TRC_WRITE_BUF_B (1024 * 1024) /* write(2) buffer of a writer */
#define TRC_MAX_VMS 65536             /* distinct VM names per trace */
#define TRC_MAX_CPUS 1024             /* cpu column: 0 .. 1023 */
#define TRC_MAX_DISKS 1024            /* diskN: N in 0 .. 1023 */
#define TRC_PROBE_B 256               /* bytes a probe may look at */

/* ---- line reader (trc_lines.c) ---------------------------------------- */

struct trc_lines {
	int fd;
	const char *name;  /* file name for diagnostics */
	char *buf;         /* cap + 1 bytes: room for a terminating NUL */
	size_t cap;
	size_t pos;        /* start of unconsumed data */
	size_t end;        /* end of valid data */
	size_t scan;       /* where the next memchr for '\n' starts */
	uint64_t buf_off;  /* file offset of buf[0] */
	uint64_t nul_off;  /* file offset of the first NUL byte, or UINT64_MAX */
	long line;         /* number of the last line returned (1-based) */
	int eof;           /* read(2) returned 0 */
};

/* buf_b: buffer size (0: TRC_READ_BUF_B). Returns 0 or JV_ENOMEM. */
int trc_lines_init(struct trc_lines *l, int fd, const char *name, size_t buf_b);
void trc_lines_free(struct trc_lines *l);
/* Buffer at least want bytes (fewer only at end of file). Returns the
 * number of bytes buffered or < 0 (JV_EIO, d filled). */
long trc_lines_fill(struct trc_lines *l, size_t want, struct jv_diag *d);
/* The buffered, unconsumed bytes (after trc_lines_fill). */
const char *trc_lines_peek(const struct trc_lines *l, size_t *len);
/* Skip n buffered bytes (e.g. a UTF-8 byte order mark). */
void trc_lines_skip(struct trc_lines *l, size_t n);
/* Next line: 1 with *line (NUL-terminated, writable, CR/LF removed) and
 * *len, 0 at end of file, < 0 on error (line too long, NUL byte, read
 * error; d filled with "FILE:LINE: ..."). */
int trc_lines_next(struct trc_lines *l, char **line, size_t *len,
		   struct jv_diag *d);
/* Bytes consumed so far (end of the last returned line). */
uint64_t trc_lines_offset(const struct trc_lines *l);

/* ---- interned names (trc.c) ---------------------------------------------- */

#define TRC_NAMES_CHUNK 256 /* names per storage chunk */

struct trc_names {
	int n;                  /* names interned */
	int max;                /* cap on n (TRC_MAX_VMS) */
	char (**chunks)[TRC_NAME_MAX]; /* chunk i holds names i*CHUNK .. */
	int n_chunks;
	uint32_t *hashes;       /* hash of name i */
	int hash_cap;           /* capacity of hashes[] */
	int32_t *slots;         /* open addressing: index + 1, 0 empty */
	uint32_t mask;          /* slot count - 1 */
	char **attrs;           /* per name: "key=value,..." source keys, or NULL */
	int attrs_cap;
};

void trc_names_init(struct trc_names *t, int max);
void trc_names_free(struct trc_names *t);
/* FNV-1a; incremental form: h = TRC_HASH_SEED, then trc_hash_step(h, c). */
#define TRC_HASH_SEED 2166136261u
static inline uint32_t trc_hash_step(uint32_t h, unsigned char c)
{
	return (h ^ c) * 16777619u;
}
uint32_t trc_names_hash(const char *s, size_t len);
/* Index of name s[0..len) (len 1 .. TRC_NAME_MAX - 1), interned if new.
 * Returns >= 0, JV_ELIMIT when max names are already interned, JV_ENOMEM. */
int trc_names_intern(struct trc_names *t, const char *s, size_t len,
		     uint32_t hash);
const char *trc_names_get(const struct trc_names *t, int i);
/* Source keys of name i for VM mapping ([vm] match): "host=hm,disk=0",
 * "pid=123,comm=fio", "asu=0", "device=8,0"...; a copy is kept. */
int trc_names_set_attrs(struct trc_names *t, int i, const char *attrs);
size_t trc_names_mem_b(const struct trc_names *t);

/* ---- reader ops table (trc.c) ------------------------------------------- */

struct trc_format {
	const char *name; /* format name for trc_open(format) */
	int kind;         /* trc_kind of the records it yields */
	/* 1 when the first bytes of a file (head[0..len), len <= TRC_PROBE_B,
	 * fewer only for short files) belong to this format. */
	int (*probe)(const char *head, size_t len);
	/* Read and check the file's preamble (version line, header); fill
	 * r->n_counters/r->counters; allocate r->priv. */
	int (*open)(struct trc_reader *r, struct jv_diag *d);
	/* 1 record filled, 0 end of file, < 0 error (d filled). */
	int (*next)(struct trc_reader *r, struct trc_record *rec,
		    struct jv_diag *d);
	void (*close)(struct trc_reader *r); /* free r->priv */
	size_t (*mem_b)(const struct trc_reader *r); /* bytes in r->priv */
};

extern const struct trc_format *const trc_formats[];
extern const int trc_n_formats;

/* Foreign formats, one file each (traces/fmt_*.c). */
extern const struct trc_format trc_fmt_bin;         /* fmt_bin.c: native binary */
extern const struct trc_format trc_fmt_blktrace;    /* fmt_blktrace.c */
/* blktrace per-CPU files (fmt_blktrace.c): the file trc_open should open
 * for path: the first non-empty sibling PREFIX.blktrace.N / PREFIX.N when
 * path names per-CPU files (copied into out), else path itself. */
const char *trc_blktrace_first(const char *path, char *out, size_t out_b);
extern const struct trc_format trc_fmt_blkparse;    /* fmt_blkparse.c */
extern const struct trc_format trc_fmt_msr;         /* fmt_msr.c: MSR Cambridge / SNIA */
extern const struct trc_format trc_fmt_spc;         /* fmt_spc.c: SPC / UMass */
extern const struct trc_format trc_fmt_disksim;     /* fmt_disksim.c: DiskSim ASCII */
extern const struct trc_format trc_fmt_fio;         /* fmt_fio.c: fio iolog v2/v3 */
extern const struct trc_format trc_fmt_vscsi;       /* fmt_vscsi.c: CloudPhysics vSCSI */
extern const struct trc_format trc_fmt_perf_stat;   /* fmt_perf_stat.c */
extern const struct trc_format trc_fmt_perf_script; /* fmt_perf_script.c */

struct trc_reader {
	const struct trc_format *fmt;
	char *path;        /* as given to trc_open */
	const char *name;  /* for diagnostics: path, or "<stdin>" for "-" */
	int fd;
	int own_fd;
	int kind;
	struct trc_lines lines;
	struct trc_names vms;
	int n_counters;
	char *counters[TRC_MAX_COUNTERS];
	int state;            /* 0 reading, 1 end of file, < 0 sticky error */
	struct jv_diag err;   /* the sticky error's diagnostic */
	void *priv;
	uint64_t skipped;        /* trc_skipped(): records skipped (trim, sync...) */
	const char *skip_reason; /* what was skipped, NULL/"" when nothing */
	struct trc_open_opts opts; /* trc_open_opts(); zeros = format defaults */
	/* trc_next_pmc_batch() for formats without their own: one record,
	 * encoded in the binary layout */
	struct trc_record one_rec;
	unsigned char one_buf[16 + 8 * TRC_MAX_COUNTERS];
};

/* ---- native CSV formats (trc_csv.c) -------------------------------------- */

int trc_csv_probe_pmc(const char *head, size_t len);
int trc_csv_probe_pmci(const char *head, size_t len);
int trc_csv_probe_blk(const char *head, size_t len);
int trc_csv_probe_blki(const char *head, size_t len);
int trc_csv_open(struct trc_reader *r, struct jv_diag *d);
int trc_csv_next(struct trc_reader *r, struct trc_record *rec,
		 struct jv_diag *d);
void trc_csv_close(struct trc_reader *r);
size_t trc_csv_mem_b(const struct trc_reader *r);

/* Time (and pmc counter) order of a native trace, shared by the readers
 * and the writers so that whatever a writer accepts reads back. Keys are
 * CPUs (pmc), VM indexes (pmc-interval, blk-interval) or none (blk). */
struct trc_order {
	int kind;
	int n_ctr;          /* pmc: counters per record */
	size_t cap;         /* entries in t[], line[] */
	int64_t *t;         /* last t_ns per key, -1 before the first */
	long *line;         /* line of that record */
	uint64_t *ctr;      /* pmc: cap x n_ctr last counter values */
	int64_t g_t;        /* blk: last t_ns */
	long g_line;
};

void trc_order_init(struct trc_order *o, int kind, int n_ctr);
void trc_order_free(struct trc_order *o);
size_t trc_order_mem_b(const struct trc_order *o);
/* Check rec (kind o->kind, vm an index into vms) against the previous
 * records and remember it. Returns 0, JV_EORDER or JV_ENOMEM (d filled
 * with "file:line: ..."). ctr_names names pmc counters in messages. */
int trc_order_check(struct trc_order *o, const struct trc_record *rec,
		    const struct trc_names *vms, char *const *ctr_names,
		    const char *file, long line, struct jv_diag *d);

/* Copy s into out (size out_b) for a diagnostic: at most ~60 characters,
 * non-printable bytes as '?', "..." when cut. Returns out. */
char *trc_quote(char *out, size_t out_b, const char *s, size_t len);

/* ---- native binary writer encoders (fmt_bin.c; trc_csv_write.c) --------- */

#define TRC_BIN_EXT ".jvt" /* trc_writer_open() writes binary for this */
/* 1 when path names a binary trace (ends in TRC_BIN_EXT). */
int trc_bin_wanted(const char *path);
/* Encode the header for kind and counters into out (cap bytes): its size,
 * or < 0 (JV_ELIMIT, d filled with "file: ..."). */
long trc_bin_header(char *out, size_t cap, int kind, char *const *counters,
		    int n, const char *file, struct jv_diag *d);
/* Encoders returning the bytes written at out (at most 8 + 63 for a name,
 * 16 + 8 x 16 for a record, 24 for the end entry). */
size_t trc_bin_name(char *out, const char *name, size_t len);
size_t trc_bin_record(char *out, const struct trc_record *rec, int n_counters);
size_t trc_bin_end(char *out, uint64_t n_records, uint32_t n_names);
/* trc_next_pmc_batch() of the binary reader (a pmc trace); other formats
 * hand out batches of one record through next(). */
int trc_bin_next_pmc_batch(struct trc_reader *r, struct trc_pmc_batch *b,
			   struct jv_diag *d);

#endif
