/* fmt_text: field helpers of the line-oriented foreign readers (see fmt_text.h). */
#include "traces/fmt_text.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *trc_fld_quote(char *q, const struct trc_fld *f)
{
	return trc_quote(q, TRC_QUOTE_B, f->s, f->n);
}

int trc_is_space(char c)
{
	return c == ' ' || c == '\t';
}

int trc_all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned)(unsigned char)s[i] - '0' > 9)
			return 0;
	return n > 0;
}

int trc_fld_u64(const struct trc_reader *r, const char *name,
		   const struct trc_fld *f, uint64_t max, uint64_t *out,
		   struct jv_diag *d)
{
	char q[TRC_QUOTE_B];
	long ln = r->lines.line;
	if (f->n == 0)
		return jv_diag_set(d, JV_EPARSE, r->name, ln,
				   "%s: empty field, expected an unsigned integer",
				   name);
	if (!trc_all_digits(f->s, f->n)) {
		if (f->s[0] == '-' && trc_all_digits(f->s + 1, f->n - 1))
			return jv_diag_set(d, JV_ERANGE, r->name, ln,
					   "%s: negative value '%s'", name,
					   trc_fld_quote(q, f));
		return jv_diag_set(d, JV_EPARSE, r->name, ln,
				   "%s: not an unsigned integer '%s'", name,
				   trc_fld_quote(q, f));
	}
	uint64_t v = 0;
	for (size_t i = 0; i < f->n; i++) {
		unsigned dg = (unsigned)(unsigned char)f->s[i] - '0';
		if (v > max / 10 || dg > max - v * 10)
			return jv_diag_set(d, JV_ERANGE, r->name, ln,
					   "%s: out of range '%s' (max %" PRIu64 ")",
					   name, trc_fld_quote(q, f), max);
		v = v * 10 + dg;
	}
	*out = v;
	return 0;
}

int trc_split_blanks(const char *line, size_t len, struct trc_fld *f, int max)
{
	int n = 0;
	const char *p = line, *end = line + len;
	for (;;) {
		while (p < end && trc_is_space(*p))
			p++;
		if (p == end)
			return n;
		const char *s = p;
		while (p < end && !trc_is_space(*p))
			p++;
		if (n < max) {
			f[n].s = s;
			f[n].n = (size_t)(p - s);
		}
		n++;
	}
}

int trc_split_commas(const char *line, size_t len, struct trc_fld *f, int max, int trim)
{
	int n = 0;
	const char *p = line, *end = line + len;
	for (;;) {
		const char *c = memchr(p, ',', (size_t)(end - p));
		const char *e = c ? c : end;
		if (n < max) {
			const char *s = p;
			if (trim) {
				while (s < e && trc_is_space(*s))
					s++;
				while (e > s && trc_is_space(e[-1]))
					e--;
			}
			f[n].s = s;
			f[n].n = (size_t)(e - s);
		}
		n++;
		if (!c)
			return n;
		p = c + 1;
	}
}

/* The size of a reader's state, kept in front of it for trc_priv_mem
 * (a whole max_align_t so that the state stays aligned). */
union trc_priv_head {
	size_t size;
	max_align_t align;
};

void *trc_priv_new(struct trc_reader *r, size_t size, struct jv_diag *d)
{
	union trc_priv_head *h = calloc(1, sizeof *h + size);
	if (!h) {
		jv_diag_set(d, JV_ENOMEM, r->name, 0, "out of memory");
		return NULL;
	}
	h->size = size;
	r->priv = h + 1;
	return r->priv;
}

void trc_priv_free(struct trc_reader *r)
{
	if (r->priv)
		free((union trc_priv_head *)r->priv - 1);
	r->priv = NULL;
}

size_t trc_priv_mem(const struct trc_reader *r)
{
	return r->priv ? ((const union trc_priv_head *)r->priv - 1)->size : 0;
}

int trc_probe_named_only(const char *head, size_t len)
{
	(void)head;
	(void)len;
	return 0;
}

int trc_intern_vm(struct trc_reader *r, const char *nm, int n, const char *attrs,
		  const char *what, struct jv_diag *d)
{
	int before = r->vms.n;
	int vm = trc_names_intern(&r->vms, nm, (size_t)n, trc_names_hash(nm, (size_t)n));
	if (vm == JV_ELIMIT)
		return jv_diag_set(d, JV_ELIMIT, r->name, r->lines.line,
				   "%s (more than %d VM names) at '%s'", what, TRC_MAX_VMS, nm);
	if (vm < 0)
		return jv_diag_set(d, JV_ENOMEM, r->name, r->lines.line, "out of memory");
	if (r->vms.n != before && trc_names_set_attrs(&r->vms, vm, attrs) < 0)
		return jv_diag_set(d, JV_ENOMEM, r->name, r->lines.line, "out of memory");
	return vm;
}

int trc_next_line(struct trc_reader *r, struct trc_record *rec, struct jv_diag *d,
		  trc_parse_line_fn *parse)
{
	char *line;
	size_t len;
	for (;;) {
		int rc = trc_lines_next(&r->lines, &line, &len, d);
		if (rc <= 0)
			return rc;
		size_t i = 0;
		while (i < len && trc_is_space(line[i]))
			i++;
		if (i == len)
			continue; /* blank line */
		rc = parse(r, line, len, rec, d);
		if (rc != 0)
			return rc;
	}
}

int trc_skip_zero(struct trc_reader *r, char *buf, size_t n)
{
	r->skipped++;
	snprintf(buf, n, "zero-size %" PRIu64, r->skipped);
	r->skip_reason = buf;
	return 0;
}

int trc_numbered_vm(struct trc_reader *r, struct trc_vm_cache *c,
		    const char *prefix, const char *key, uint64_t id,
		    const char *what, struct jv_diag *d)
{
	if (c->have && id == c->id)
		return c->vm;
	char nm[32], attrs[48];
	int n = snprintf(nm, sizeof nm, "%s%" PRIu64, prefix, id);
	snprintf(attrs, sizeof attrs, "%s=%" PRIu64, key, id);
	int vm = trc_intern_vm(r, nm, n, attrs, what, d);
	if (vm < 0)
		return vm;
	c->have = 1;
	c->vm = vm;
	c->id = id;
	return vm;
}

int trc_blk_yield(struct trc_record *rec, long line, int vm, int32_t op,
		  int64_t offset_b, int64_t size_b, int64_t latency_ns)
{
	struct trc_blk *b = &rec->u.blk;
	rec->kind = TRC_BLK;
	rec->line = line;
	b->vm = vm;
	b->op = op;
	b->offset_b = offset_b;
	b->size_b = size_b;
	b->latency_ns = latency_ns;
	b->disk = 0;
	return 1;
}

enum trc_epoch_step trc_epoch_step(struct trc_epoch *e, uint64_t t, uint64_t at,
				   uint64_t max_span, uint64_t *span)
{
	if (!e->have_t0) {
		e->have_t0 = 1;
		e->t0 = t;
	} else if (t < e->prev) {
		return TRC_EPOCH_BACK;
	}
	if (t - e->t0 > max_span)
		return TRC_EPOCH_FAR;
	e->prev = t;
	e->prev_at = at;
	*span = t - e->t0;
	return TRC_EPOCH_OK;
}
