/*
 * trc: reading and writing trace files (design §7 native formats).
 *
 * A format is one entry of the reader ops table (trc_formats[] in trc.c):
 * name, probe, open, next, close. The native CSV formats are recognised by
 * their first line (`# joulevisor pmc v1`, ...); other formats (blkparse,
 * MSR, fio, perf ...) join the table later. "-" reads stdin.
 *
 * Readers stream: fixed buffers, no allocation per record, O(1) memory in
 * trace length. They validate as they go and report the first problem as
 * "FILE:LINE: field: reason" through struct jv_diag: wrong column count,
 * bad numbers, unknown op, time going backwards (per CPU for `pmc`, per VM
 * for `pmc-interval`/`blk-interval`, globally for `blk`), counters going
 * backwards in a `pmc` log, empty files (no header), over-long lines.
 */
#ifndef JV_TRC_H
#define JV_TRC_H

#include <stdio.h>
#include <string.h>

#include "base/jv_err.h"
#include "traces/record.h"

struct trc_reader;

/* Open path (or "-") and read its header. format: NULL or "auto" to detect
 * from the first line, or a format name ("pmc", "pmc-interval", "blk",
 * "blk-interval"). Returns 0 or a negative JV_E* code with d filled. */
int trc_open(const char *path, const char *format, struct trc_reader **out,
	     struct jv_diag *d);
/* Next record: 1 when rec is filled, 0 at end of file, < 0 on error (d
 * filled). After an error or EOF further calls return the same. */
int trc_next(struct trc_reader *r, struct trc_record *rec, struct jv_diag *d);
void trc_close(struct trc_reader *r);

/* A run of `pmc` records handed out in place (zero-copy), for replay loops
 * that cannot afford a struct trc_record and a call per record. Record i
 * starts at rec + i * rec_b in the native binary layout (docs/FORMATS.md):
 * u32 vm, u32 cpu, i64 t_ns, u64 ctr[n_counters], little-endian, no
 * alignment (read it with trc_ld32/trc_ld64). Every record was checked
 * exactly as trc_next() checks it (VM index defined, cpu range, per-CPU
 * time and counter order). Its source line (byte offset for binary) is
 * line0 + i * line_step. The bytes stay valid until the next call on r. */
struct trc_pmc_batch {
	const unsigned char *rec;
	size_t n;        /* records, >= 1 */
	size_t rec_b;    /* bytes per record: 16 + 8 x trc_n_counters() */
	long line0;
	long line_step;
	int raw;         /* trc_next_pmc_raw(): 1 unchecked, 0 checked */
};
/* Next run of records of a `pmc` trace: 1 with b filled, 0 at end of file,
 * < 0 on error (d filled), with trc_next()'s sticky end and error; the
 * two calls may be mixed. The binary reader returns every whole, valid
 * record buffered up to the next name entry, refill or bad record (the
 * records before a bad one come first, the error on the next call); other
 * formats return batches of one record through trc_next(). JV_EINVAL for
 * a trace of another kind. */
int trc_next_pmc_batch(struct trc_reader *r, struct trc_pmc_batch *b,
		       struct jv_diag *d);

/* For a replay loop that checks each record while it uses it (one pass
 * over the records instead of the reader's and its own): like
 * trc_next_pmc_batch(), but a binary reader hands out the whole records
 * buffered at its position unchecked (b->raw = 1) and stays there until
 * trc_pmc_done(r, b, used) says how many of them the caller took. The
 * caller takes records from the first on while each of them is, by its
 * own test,
 *   - of a VM index below trc_n_vms(r) (a name it has seen),
 *   - of a CPU that had a record from r before (handed out by a call on
 *     r, checked or taken), and
 *   - not before that record: t_ns >= its t_ns, and every counter >= its
 *     counter (cumulative counters);
 * that is, the checks of trc_next() given its previous record. The first
 * record failing the test (or anything after a raw run's records, such as
 * a name entry, which fails the VM test) is where it stops: the next call
 * takes that one through the reader's checks (a checked run, b->raw = 0,
 * or the error, with trc_next()'s message). A checked run is used as from
 * trc_next_pmc_batch() (trc_pmc_done() is then a no-op). Other formats:
 * trc_next_pmc_batch(). Call trc_pmc_done() before the next call on r (any
 * trc_next* call); the bytes stay valid until then. */
int trc_next_pmc_raw(struct trc_reader *r, struct trc_pmc_batch *b,
		     struct jv_diag *d);
void trc_pmc_done(struct trc_reader *r, const struct trc_pmc_batch *b,
		  size_t used);

static inline uint32_t trc_ld32(const unsigned char *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof v);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap32(v);
#endif
	return v;
}

static inline uint64_t trc_ld64(const unsigned char *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof v);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

int trc_kind(const struct trc_reader *r);          /* trc_kind of the file */
const char *trc_path(const struct trc_reader *r);  /* as given to trc_open */
/* Counter names from the header (pmc, pmc-interval), n <= TRC_MAX_COUNTERS. */
int trc_n_counters(const struct trc_reader *r);
const char *trc_counter_name(const struct trc_reader *r, int i);
/* Interned VM names; a record's vm indexes this table. */
int trc_n_vms(const struct trc_reader *r);
const char *trc_vm_name(const struct trc_reader *r, int vm);
/* The source keys a reader recorded for that name, for mapping records
 * onto scenario VMs ([vm] match, trace import --match): comma-separated
 * key=value pairs with keys among host, disk, device, asu, pid, comm,
 * cgroup, file; "" when none. */
const char *trc_vm_attrs(const struct trc_reader *r, int vm);
/* Bytes consumed so far (progress, stats). */
uint64_t trc_bytes_read(const struct trc_reader *r);

const char *trc_kind_name(int kind); /* "pmc", "pmc-interval", ... */
int trc_kind_from_name(const char *name); /* -1 if unknown */

/* Writers: native CSV. vm names are given per record as strings. */
struct trc_writer;
int trc_writer_open(const char *path, int kind, const char *const *counters,
		    int n_counters, struct trc_writer **out, struct jv_diag *d);
int trc_write_pmc(struct trc_writer *w, const struct trc_pmc *p, const char *vm);
int trc_write_pmci(struct trc_writer *w, const struct trc_pmc_interval *p, const char *vm);
int trc_write_blk(struct trc_writer *w, const struct trc_blk *b, const char *vm);
int trc_write_blki(struct trc_writer *w, const struct trc_blk_interval *b, const char *vm);
/* Flush and close; returns 0 or JV_EIO (d filled). */
int trc_writer_close(struct trc_writer *w, struct jv_diag *d);

/* Additions (beyond design §7's list). */
/* Name of the format table entry reading r ("pmc", "blk", ...). */
const char *trc_format_name(const struct trc_reader *r);
/* Heap bytes the reader holds now (buffer, name and order tables); does
 * not grow with the trace's length, only with its CPUs and VM names. */
size_t trc_mem_bytes(const struct trc_reader *r);
/* A writer checks every record as the reader would (values, VM names, time
 * and counter order) and keeps the first error, which the trc_write_*()
 * call returns and trc_writer_close() reports; after an error nothing is
 * renamed into place. trc_writer_diag() gives that error's message now. */
const struct jv_diag *trc_writer_diag(const struct trc_writer *w);
/* Close without committing: the temporary file is removed. NULL is fine. */
void trc_writer_abort(struct trc_writer *w);

/* Records of operations other than reads and writes (trim, discard, flush,
 * sync, other SCSI commands, zero-length transfers) that the reader
 * skipped so far; *reason (if reason is not NULL) describes what was
 * skipped ("" when nothing was). */
uint64_t trc_skipped(const struct trc_reader *r, const char **reason);
/* Options for trc_open_opts(); a zero field means "the format's default". */
struct trc_open_opts {
	int64_t time_unit_ns;      /* 0 = format default (DiskSim: 1 ms) */
	int64_t reorder_window_ns; /* 0 = format default */
};
/* trc_open() with options (opts NULL: all defaults). */
int trc_open_opts(const char *path, const char *format,
		  const struct trc_open_opts *opts, struct trc_reader **out,
		  struct jv_diag *d);

#endif
