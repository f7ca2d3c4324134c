/*
 * fmt_text: field helpers shared by the line-oriented foreign readers
 * (fmt_msr.c, fmt_spc.c, fmt_disksim.c, fmt_fio.c, fmt_vscsi.c): a field
 * is a slice of the current line; integers are parsed strictly, with
 * messages naming the field and quoting its text; the one-block reader
 * state (close and mem_b ops), the never-claiming probe of headerless
 * formats, the blank-skipping line loop of next(), the "zero-size N" skip
 * reason and the time epoch / order bookkeeping (traces/ only).
 */
#ifndef JV_FMT_TEXT_H
#define JV_FMT_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "traces/trc_impl.h"

struct trc_fld {
	const char *s;
	size_t n;
};

#define TRC_QUOTE_B 80 /* buffer of a quoted field in a message */

/* Field f quoted for a message, into q (TRC_QUOTE_B bytes). */
const char *trc_fld_quote(char *q, const struct trc_fld *f);
int trc_is_space(char c); /* blank or tab */
/* 1 when s[0..n) is one or more decimal digits. */
int trc_all_digits(const char *s, size_t n);
/* Field f as an unsigned decimal <= max into *out, or an error naming it
 * at the reader's current line (empty, negative, not a number, too big). */
int trc_fld_u64(const struct trc_reader *r, const char *name, const struct trc_fld *f,
		uint64_t max, uint64_t *out, struct jv_diag *d);
/* Split a line at runs of blanks; returns the number of fields (only the
 * first max are stored). */
int trc_split_blanks(const char *line, size_t len, struct trc_fld *f, int max);

/* Split a line at commas; returns the number of fields (only the first
 * max are stored). With trim, each field loses its leading and trailing
 * blanks and tabs. */
int trc_split_commas(const char *line, size_t len, struct trc_fld *f, int max, int trim);

/* Reader state in one zeroed block of size bytes as r->priv; NULL (with
 * d filled: out of memory) on failure. trc_priv_free is then the reader's
 * close op and trc_priv_mem its mem_b op (size). */
void *trc_priv_new(struct trc_reader *r, size_t size, struct jv_diag *d);
void trc_priv_free(struct trc_reader *r);
size_t trc_priv_mem(const struct trc_reader *r);
/* The probe of a headerless format: never claims a file (it is read
 * only when named by trace_format or --from). */
int trc_probe_named_only(const char *head, size_t len);

/* The next record of a line-oriented reader: lines holding only blanks and
 * tabs are skipped, every other line goes to parse (1: rec filled, 0: line
 * consumed or skipped, < 0: error) until one yields a record. Returns 1, 0
 * at end of file or the error. */
typedef int trc_parse_line_fn(struct trc_reader *r, const char *line, size_t len,
			      struct trc_record *rec, struct jv_diag *d);
int trc_next_line(struct trc_reader *r, struct trc_record *rec, struct jv_diag *d,
		  trc_parse_line_fn *parse);

/* Count a skipped zero-size request: r->skip_reason becomes "zero-size N"
 * (written into buf, n bytes). Returns 0 (the line yields no record). */
int trc_skip_zero(struct trc_reader *r, char *buf, size_t n);

/* The VM of the last numbered source (zeroed: none yet). */
struct trc_vm_cache {
	int have;
	int vm;
	uint64_t id;
};

/* The VM "<prefix><id>" with the mapping key "<key>=<id>" (what as for
 * trc_intern_vm); the last one is cached in c. */
int trc_numbered_vm(struct trc_reader *r, struct trc_vm_cache *c,
		    const char *prefix, const char *key, uint64_t id,
		    const char *what, struct jv_diag *d);

/* rec (its t_ns already set) as a block record of line (or byte offset) on
 * disk 0; latency_ns -1 when the format has none. Returns 1 (a record). */
int trc_blk_yield(struct trc_record *rec, long line, int vm, int32_t op,
		  int64_t offset_b, int64_t size_b, int64_t latency_ns);

/* Record times in a format's own unit: the first time is the epoch t0; a
 * time may not go below the previous one (taken at position prev_at: a
 * line number or a byte offset) nor more than a limit past t0. */
struct trc_epoch {
	int have_t0;
	uint64_t t0;
	uint64_t prev;
	uint64_t prev_at;
};

enum trc_epoch_step {
	TRC_EPOCH_OK,   /* *span = t - t0; t and at become the previous time */
	TRC_EPOCH_BACK, /* t < e->prev: time goes backwards */
	TRC_EPOCH_FAR,  /* t - t0 > max_span */
};

/* Time t of the record at position at; the state changes only with
 * TRC_EPOCH_OK (and the first time always sets t0). The caller words the
 * message of the other results. */
enum trc_epoch_step trc_epoch_step(struct trc_epoch *e, uint64_t t, uint64_t at,
				   uint64_t max_span, uint64_t *span);

/* Intern the VM name nm[0..n) with its mapping keys attrs (recorded the
 * first time the name is seen). Returns the name's index, or JV_ELIMIT
 * ("WHAT (more than N VM names) at 'NAME'") / JV_ENOMEM with d filled at the
 * reader's current line. */
int trc_intern_vm(struct trc_reader *r, const char *nm, int n, const char *attrs,
		  const char *what, struct jv_diag *d);

#endif
