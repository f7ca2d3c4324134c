/*
 * scenario: load, validate and print scenario files (see scenario.h,
 * design §7, docs/SCENARIO.md).
 *
 * Problem: a scenario is an INI file with includes, a machine preset and
 * command-line overrides. Every value must land in struct scn with the right
 * precedence (default < preset < file < --set), every mistake must be
 * reported as FILE:LINE naming the section, key and offending text, and the
 * result must print back as a file that reloads to the same struct.
 *
 * Strategy, in two phases:
 *  1. Collect. libinih (Debian: 200-byte line buffer, no line numbers to
 *     the handler, multi-line continuation on) is driven through
 *     ini_parse_stream() with our own reader (rd_line). The reader counts
 *     lines, rejects over-long lines, NUL bytes and indented lines (which
 *     inih would glue to the previous value), strips CRLF and a UTF-8 BOM,
 *     and parses section headers itself: inih cuts section names at 49
 *     bytes and never tells the handler about a header, so it only ever
 *     sees `key = value` lines. The handler checks the key against the
 *     option table and appends an entry (option, section instance, value,
 *     file, line) to a list; `include = FILE` ([global] only) parses FILE
 *     right there, so its entries land in place. Nothing is interpreted yet.
 *  2. Apply, in precedence order: every option's default (table text); the
 *     preset named by the last `[machine] preset` (or --set machine.preset);
 *     the entries in file order; the overrides. Every value is parsed and
 *     range-checked when applied, so a bad value is reported even if a later
 *     line replaces it. Values that depend on other options (counter names
 *     in weight and rate lists, tsc_counter, driver names, stop = duration,
 *     ...) are kept as text with their origin and resolved by finalize()
 *     once everything is applied.
 *
 * Each option instance remembers its origin (default, preset, file:line or
 * --set key): cross-field errors point at the line that set the value, and
 * explicit driver-only keys on a guest are caught whatever the key order.
 * Preset and default list entries that name a counter the scenario dropped
 * are ignored (they were written for the preset's counters); the same in a
 * file or --set is an error.
 *
 * Limits: lines of at most SCN_LINE_MAX_B bytes; includes nested at most
 * SCN_MAX_INCLUDE_DEPTH deep; SCN_MAX_VMS VMs, SCN_MAX_CONTAINERS
 * containers, SCN_MAX_COUNTERS counters, SCN_MAX_TRACES traces per VM and
 * SCN_MAX_INPUTS input files. A resolved file line longer than
 * SCN_LINE_MAX_B (very long absolute paths or counter names) cannot be
 * reloaded; scn_write_resolved() marks it with a comment.
 *
 * The files of the loader and which does what: sim/scenario_int.h.
 */
#include "sim/scenario_int.h"

/* ---------------------------------------------------------------- helpers */

char *scn_int_xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = malloc(n);
	if (p)
		memcpy(p, s, n);
	return p;
}

const char *scn_int_skip_ws(const char *p)
{
	while (*p && isspace((unsigned char)*p))
		p++;
	return p;
}

/* Copy s trimmed into buf (size n); returns 0, or -1 if it does not fit. */
int scn_int_trim_copy(const char *s, size_t len, char *buf, size_t n)
{
	while (len > 0 && isspace((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	if (len >= n)
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return 0;
}

/* [A-Za-z0-9_.-]+, 1..63 characters, not "." or ".." (names become file
 * and directory names, e.g. out/NAME). */
int scn_int_valid_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= SCN_NAME_MAX || !strcmp(s, ".") || !strcmp(s, ".."))
		return 0;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (!isalnum(c) && c != '_' && c != '.' && c != '-')
			return 0;
	}
	return 1;
}

static size_t edit_distance(const char *a, const char *b)
{
	enum { MAXL = 64 };
	size_t la = strlen(a), lb = strlen(b);
	if (la > MAXL)
		la = MAXL;
	if (lb > MAXL)
		lb = MAXL;
	size_t prev[MAXL + 1], cur[MAXL + 1];
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
			cur[j] = sub < del ? (sub < ins ? sub : ins)
					   : (del < ins ? del : ins);
		}
		memcpy(prev, cur, sizeof prev);
	}
	return prev[lb];
}

/* Is candidate close enough to word to suggest it? Keeps the best. */
void scn_int_consider(const char *word, const char *cand, const char **best,
		      size_t *best_d)
{
	size_t d = edit_distance(word, cand);
	size_t limit = strlen(word) / 3;
	if (limit < 2)
		limit = 2;
	if (d <= limit && d < *best_d) {
		*best = cand;
		*best_d = d;
	}
}

int scn_int_sec_by_name(const char *name)
{
	for (int i = 0; i < SCN_SEC_COUNT; i++)
		if (!strcmp(scn_sec_names[i], name))
			return i;
	return -1;
}

const char *scn_int_sec_suggest(const char *word)
{
	const char *best = NULL;
	size_t bd = SIZE_MAX;
	for (int i = 0; i < SCN_SEC_COUNT; i++)
		scn_int_consider(word, scn_sec_names[i], &best, &bd);
	return best;
}

const char *scn_int_sec_display(int sec)
{
	switch (sec) {
	case SCN_SEC_VM:
		return "vm NAME";
	case SCN_SEC_CONTAINER:
		return "container VM/NAME";
	default:
		return scn_sec_names[sec];
	}
}

int scn_int_find_opt(int sec, const char *key)
{
	for (int i = 0; i < scn_opt_count; i++)
		if ((int)scn_opt_table[i].sec == sec &&
		    !strcmp(scn_opt_table[i].key, key))
			return i;
	return -1;
}

/* "(did you mean 'quantum'?)", the valid keys, or a note. */
void scn_int_key_hint(int sec, const char *key, char *buf, size_t n)
{
	const char *best = NULL;
	size_t bd = SIZE_MAX, used = 0;
	int any = 0;
	for (int i = 0; i < scn_opt_count; i++)
		if ((int)scn_opt_table[i].sec == sec) {
			scn_int_consider(key, scn_opt_table[i].key, &best, &bd);
			any = 1;
		}
	if (best) {
		snprintf(buf, n, " (did you mean '%s'?)", best);
		return;
	}
	if (!any) {
		snprintf(buf, n, " (the section has no keys yet)");
		return;
	}
	used = (size_t)snprintf(buf, n, " (valid:");
	for (int i = 0; i < scn_opt_count && used < n; i++)
		if ((int)scn_opt_table[i].sec == sec)
			used += (size_t)snprintf(buf + used, n - used, " %s",
						 scn_opt_table[i].key);
	if (used < n)
		snprintf(buf + used, n - used, ")");
}

void scn_int_list_counters(const struct scn *s, char *buf, size_t n)
{
	size_t used = 0;
	buf[0] = '\0';
	for (int i = 0; i < s->cpu.n_counters && used < n; i++)
		used += (size_t)snprintf(buf + used, n - used, "%s%s",
					 i ? ", " : "", s->cpu.counter[i]);
}

int scn_int_is_abs_or_stdin(const char *p)
{
	return p[0] == '/' || !strcmp(p, "-");
}

/* dir/p, or p when it is absolute, "-" or dir is "." or NULL. */
char *scn_int_path_join(const char *dir, const char *p)
{
	if (!dir || !strcmp(dir, ".") || scn_int_is_abs_or_stdin(p))
		return scn_int_xstrdup(p);
	size_t n = strlen(dir) + strlen(p) + 2;
	char *r = malloc(n);
	if (r)
		snprintf(r, n, "%s/%s", dir, p);
	return r;
}

char *scn_int_dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return scn_int_xstrdup(".");
	if (slash == path)
		return scn_int_xstrdup("/");
	size_t n = (size_t)(slash - path);
	char *r = malloc(n + 1);
	if (r) {
		memcpy(r, path, n);
		r[n] = '\0';
	}
	return r;
}

int scn_int_nomem(struct ld *L)
{
	return jv_diag_set(L->d, JV_ENOMEM, L->top, 0, "out of memory");
}

int scn_int_add_input(struct ld *L, const char *path)
{
	struct scn *s = L->s;
	for (int i = 0; i < s->n_inputs; i++)
		if (!strcmp(s->input[i], path))
			return 0;
	if (s->n_inputs >= SCN_MAX_INPUTS)
		return jv_diag_set(L->d, JV_ELIMIT, L->top, 0,
				   "more than %d input files ('%s')",
				   SCN_MAX_INPUTS, path);
	s->input[s->n_inputs] = scn_int_xstrdup(path);
	if (!s->input[s->n_inputs])
		return scn_int_nomem(L);
	s->n_inputs++;
	return 0;
}

/* ------------------------------------------------------ slots and origins */

int scn_int_slot_of(const struct ld *L, int sec, int inst)
{
	if (sec == SCN_SEC_VM)
		return 1 + inst;
	if (sec == SCN_SEC_CONTAINER)
		return 1 + L->s->n_vms + inst;
	return 0;
}

const void *scn_int_sec_base(const struct scn *s, int sec, int inst)
{
	switch (sec) {
	case SCN_SEC_GLOBAL:
		return &s->global;
	case SCN_SEC_MACHINE:
		return &s->machine;
	case SCN_SEC_CPU:
		return &s->cpu;
	case SCN_SEC_DISK:
		return &s->disk;
	case SCN_SEC_VM:
		return &s->vm[inst];
	case SCN_SEC_CONTAINER:
		return &s->container[inst];
	case SCN_SEC_MANAGER:
		return &s->manager;
	case SCN_SEC_OUTPUT:
		return &s->output;
	default:
		return NULL;
	}
}

void *scn_int_slot_base(struct ld *L, const struct scn_opt *o, int slot)
{
	int inst = 0;
	if (o->sec == SCN_SEC_VM)
		inst = slot - 1;
	else if (o->sec == SCN_SEC_CONTAINER)
		inst = slot - 1 - L->s->n_vms;
	/* the loader's scenario is its own, not const */
	return (void *)scn_int_sec_base(L->s, o->sec, inst);
}

static void slot_label(const struct ld *L, const struct scn_opt *o, int slot,
		       char *buf, size_t n)
{
	if (o->sec == SCN_SEC_VM)
		snprintf(buf, n, "vm %s", L->s->vm[slot - 1].name);
	else if (o->sec == SCN_SEC_CONTAINER)
		snprintf(buf, n, "container %s",
			 L->s->container[slot - 1 - L->s->n_vms].name);
	else
		snprintf(buf, n, "%s", scn_sec_names[o->sec]);
}

struct origin *scn_int_org_at(struct ld *L, int opt, int slot)
{
	return &L->org[slot * scn_opt_count + opt];
}

char **scn_int_raw_at(struct ld *L, int opt, int slot)
{
	return &L->raw[slot * scn_opt_count + opt];
}

int scn_int_explicit_src(const struct origin *o)
{
	return o->src == SRC_FILE || o->src == SRC_SET;
}

/* Report err for option instance (opt, slot) at origin o:
 * "FILE:LINE: [sec] key: why", "--set KEY: why" or "FILE: [sec] key
 * (default): why". */
int scn_int_opt_err(struct ld *L, int err, int opt, int slot,
		    const struct origin *o, const char *fmt, ...)
{
	const struct scn_opt *op = &scn_opt_table[opt];
	char lab[2 * SCN_NAME_MAX + 16], where[SCN_MSG_MAX], body[SCN_MSG_MAX];
	slot_label(L, op, slot, lab, sizeof lab);
	switch (o->src) {
	case SRC_SET:
		snprintf(where, sizeof where, "--set %s", o->ovkey);
		break;
	case SRC_FILE:
		snprintf(where, sizeof where, "%s:%ld: [%s] %s", o->file,
			 o->line, lab, op->key);
		break;
	case SRC_PRESET:
		snprintf(where, sizeof where, "%s: [%s] %s (preset %s)", L->top,
			 lab, op->key, L->s->machine.preset);
		break;
	default:
		snprintf(where, sizeof where, "%s: [%s] %s (default)", L->top,
			 lab, op->key);
		break;
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(body, sizeof body, fmt, ap);
	va_end(ap);
	return jv_diag_set(L->d, err, NULL, 0, "%s: %s", where, body);
}

/* The origin to blame for a cross-field error: the first explicit one. */
const struct origin *scn_int_blame(const struct origin *a, const struct origin *b)
{
	if (scn_int_explicit_src(a) || !scn_int_explicit_src(b))
		return a;
	return b;
}

/* ---------------------------------------------------------------- load */

static void ld_free(struct ld *L)
{
	for (int i = 0; i < L->n_files; i++) {
		free(L->files[i]->name);
		free(L->files[i]->dir);
		free(L->files[i]);
	}
	free(L->files);
	for (int i = 0; i < L->n_ents; i++)
		free(L->ents[i].value);
	free(L->ents);
	if (L->raw)
		for (int i = 0; i < L->n_slots * scn_opt_count; i++)
			free(L->raw[i]);
	free(L->raw);
	free(L->org);
}

int scn_load(const char *file, const struct scn_override *ov, int n_ov,
	     struct scn **out, struct jv_diag *d)
{
	struct jv_diag local;
	struct ld L = { 0 };
	int rc;
	if (!d)
		d = &local;
	jv_diag_clear(d);
	if (out)
		*out = NULL;
	if (!file || !out || (n_ov > 0 && !ov))
		return jv_diag_set(d, JV_EINVAL, NULL, 0,
				   "scn_load: bad arguments");
	L.d = d;
	L.top = strcmp(file, "-") ? file : "<stdin>";
	L.s = calloc(1, sizeof *L.s);
	if (!L.s)
		return jv_diag_set(d, JV_ENOMEM, NULL, 0, "out of memory");
	if (!(L.s->file = scn_int_xstrdup(file))) {
		rc = scn_int_nomem(&L);
		goto fail;
	}
	if ((rc = scn_int_parse_file(&L, file, NULL, 0)))
		goto fail;
	if (L.n_headers == 0) {
		rc = jv_diag_set(d, JV_EEMPTY, L.top, 0,
				 "empty scenario (no [section] at all)");
		goto fail;
	}
	L.n_slots = 1 + L.s->n_vms + L.s->n_containers;
	L.org = calloc((size_t)L.n_slots * (size_t)scn_opt_count, sizeof *L.org);
	L.raw = calloc((size_t)L.n_slots * (size_t)scn_opt_count, sizeof *L.raw);
	if (!L.org || !L.raw) {
		rc = scn_int_nomem(&L);
		goto fail;
	}
	if ((rc = scn_int_apply_defaults(&L)) || (rc = scn_int_apply_preset(&L, ov, n_ov)) ||
	    (rc = scn_int_apply_entries(&L)) || (rc = scn_int_apply_overrides(&L, ov, n_ov)) ||
	    (rc = scn_int_finalize(&L)))
		goto fail;
	ld_free(&L);
	*out = L.s;
	return 0;
fail:
	ld_free(&L);
	scn_free(L.s);
	return rc ? rc : JV_EINVARIANT;
}

void scn_free(struct scn *s)
{
	if (!s)
		return;
	free(s->file);
	free(s->cpu.weights_file);
	free(s->cpu.pmc_log);
	for (int i = 0; i < s->n_vms; i++) {
		for (int t = 0; t < s->vm[i].n_traces; t++)
			free(s->vm[i].trace[t]);
		free(s->vm[i].file);
	}
	for (int i = 0; i < s->n_inputs; i++)
		free(s->input[i]);
	free(s);
}

int scn_vm_index(const struct scn *s, const char *name)
{
	for (int i = 0; i < s->n_vms; i++)
		if (!strcmp(s->vm[i].name, name))
			return i;
	return -1;
}

int scn_counter_index(const struct scn *s, const char *name)
{
	for (int i = 0; i < s->cpu.n_counters; i++)
		if (!strcmp(s->cpu.counter[i], name))
			return i;
	return -1;
}
