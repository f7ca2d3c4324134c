/*
 * fmt_text: field helpers shared by the line-oriented foreign readers
 * (fmt_msr.c, fmt_spc.c, fmt_disksim.c, fmt_fio.c): a field is a slice of
 * the current line; integers are parsed strictly, with messages naming
 * the field and quoting its text (traces/ only).
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

/* Intern the VM name nm[0..n) with its mapping keys attrs (recorded the
 * first time the name is seen). Returns the name's index, or JV_ELIMIT
 * ("WHAT (more than N VM names) at 'NAME'") / JV_ENOMEM with d filled at the
 * reader's current line. */
int trc_intern_vm(struct trc_reader *r, const char *nm, int n, const char *attrs,
		  const char *what, struct jv_diag *d);

#endif
