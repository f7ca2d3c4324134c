/*
 * fmt_text: field helpers shared by the line-oriented foreign readers
 * (fmt_msr.c, fmt_spc.c, fmt_disksim.c, fmt_fio.c, fmt_vscsi.c): a field
 * is a slice of the current line; integers are parsed strictly, with
 * messages naming the field and quoting its text; the one-block reader
 * state and the never-claiming probe of headerless formats (traces/ only).
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
 * close op. */
void *trc_priv_new(struct trc_reader *r, size_t size, struct jv_diag *d);
void trc_priv_free(struct trc_reader *r);
/* The probe of a headerless format: never claims a file (it is read
 * only when named by trace_format or --from). */
int trc_probe_named_only(const char *head, size_t len);

/* Intern the VM name nm[0..n) with its mapping keys attrs (recorded the
 * first time the name is seen). Returns the name's index, or JV_ELIMIT
 * ("WHAT (more than N VM names) at 'NAME'") / JV_ENOMEM with d filled at the
 * reader's current line. */
int trc_intern_vm(struct trc_reader *r, const char *nm, int n, const char *attrs,
		  const char *what, struct jv_diag *d);

#endif
