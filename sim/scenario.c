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
 */
#include "sim/scenario.h"
#include "models/throttle.h"
#include "traces/trc_map.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "base/units.h"
#include "sim/scenario_opts.h"

#define SCN_LINE_MAX_B 199    /* longest accepted line, without CR LF */
#define SCN_MAX_INPUTS 64     /* size of scn.input[] */
#define SCN_QUOTE_MAX 60      /* longest offending text quoted in a message */
#define SCN_MSG_MAX 640       /* one message body */
#define SCN_UTF8_BOM "\xEF\xBB\xBF"

enum src { SRC_NONE = 0, SRC_DEFAULT, SRC_PRESET, SRC_FILE, SRC_SET };

/* Where an option instance got its value. */
struct origin {
	int src;
	const char *file;  /* SRC_FILE: file name as displayed */
	const char *dir;   /* SRC_FILE: directory for relative paths */
	long line;         /* SRC_FILE */
	const char *ovkey; /* SRC_SET: the --set key */
};

/* One file read (scenario or include). */
struct srcfile {
	char *name; /* as opened, used in messages */
	char *dir;  /* its directory, for includes and paths */
};

/* One `key = value` line, not yet interpreted. */
struct ent {
	int opt;
	int sec;  /* enum scn_sec */
	int inst; /* VM or container index, 0 otherwise */
	const struct srcfile *sf;
	long line;
	char *value;
};

struct pos {
	const char *file;
	long line;
};

struct ld {
	struct scn *s;
	struct jv_diag *d;
	const char *top; /* top file name for messages */
	struct srcfile **files;
	int n_files;
	struct ent *ents;
	int n_ents, cap_ents;
	int n_headers;                          /* section headers seen */
	struct pos cont_pos[SCN_MAX_CONTAINERS]; /* [container] headers */
	/* include stack for cycle detection */
	char *stack_real[SCN_MAX_INCLUDE_DEPTH + 1];
	const char *stack_name[SCN_MAX_INCLUDE_DEPTH + 1];
	int depth;
	/* per option instance: slot * scn_opt_count + opt */
	int n_slots;
	struct origin *org;
	char **raw;
};

/* One file being parsed: the reader's and the handler's state. */
struct fctx {
	struct ld *L;
	FILE *fp;
	const struct srcfile *sf;
	int depth;
	long line;
	int sec;  /* current section kind, -1 before the first header */
	int inst; /* current VM / container index */
	char key[SCN_LINE_MAX_B + 1];
};

/* A name:value item of a weight or rate list. */
struct pair {
	char name[SCN_NAME_MAX];
	double v;
};

#define FLD(base, off, T) ((T *)((char *)(base) + (off)))

/* ---------------------------------------------------------------- helpers */

static char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = malloc(n);
	if (p)
		memcpy(p, s, n);
	return p;
}

static const char *skip_ws(const char *p)
{
	while (*p && isspace((unsigned char)*p))
		p++;
	return p;
}

/* Copy s trimmed into buf (size n); returns 0, or -1 if it does not fit. */
static int trim_copy(const char *s, size_t len, char *buf, size_t n)
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
static int valid_name(const char *s)
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
static void consider(const char *word, const char *cand, const char **best,
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

static int sec_by_name(const char *name)
{
	for (int i = 0; i < SCN_SEC_COUNT; i++)
		if (!strcmp(scn_sec_names[i], name))
			return i;
	return -1;
}

static const char *sec_suggest(const char *word)
{
	const char *best = NULL;
	size_t bd = SIZE_MAX;
	for (int i = 0; i < SCN_SEC_COUNT; i++)
		consider(word, scn_sec_names[i], &best, &bd);
	return best;
}

static const char *sec_display(int sec)
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

static int find_opt(int sec, const char *key)
{
	for (int i = 0; i < scn_opt_count; i++)
		if ((int)scn_opt_table[i].sec == sec &&
		    !strcmp(scn_opt_table[i].key, key))
			return i;
	return -1;
}

/* "(did you mean 'quantum'?)", the valid keys, or a note. */
static void key_hint(int sec, const char *key, char *buf, size_t n)
{
	const char *best = NULL;
	size_t bd = SIZE_MAX, used = 0;
	int any = 0;
	for (int i = 0; i < scn_opt_count; i++)
		if ((int)scn_opt_table[i].sec == sec) {
			consider(key, scn_opt_table[i].key, &best, &bd);
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

static void list_counters(const struct scn *s, char *buf, size_t n)
{
	size_t used = 0;
	buf[0] = '\0';
	for (int i = 0; i < s->cpu.n_counters && used < n; i++)
		used += (size_t)snprintf(buf + used, n - used, "%s%s",
					 i ? ", " : "", s->cpu.counter[i]);
}

static int is_abs_or_stdin(const char *p)
{
	return p[0] == '/' || !strcmp(p, "-");
}

/* dir/p, or p when it is absolute, "-" or dir is "." or NULL. */
static char *path_join(const char *dir, const char *p)
{
	if (!dir || !strcmp(dir, ".") || is_abs_or_stdin(p))
		return xstrdup(p);
	size_t n = strlen(dir) + strlen(p) + 2;
	char *r = malloc(n);
	if (r)
		snprintf(r, n, "%s/%s", dir, p);
	return r;
}

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	size_t n = (size_t)(slash - path);
	char *r = malloc(n + 1);
	if (r) {
		memcpy(r, path, n);
		r[n] = '\0';
	}
	return r;
}

static int nomem(struct ld *L)
{
	return jv_diag_set(L->d, JV_ENOMEM, L->top, 0, "out of memory");
}

static int add_input(struct ld *L, const char *path)
{
	struct scn *s = L->s;
	for (int i = 0; i < s->n_inputs; i++)
		if (!strcmp(s->input[i], path))
			return 0;
	if (s->n_inputs >= SCN_MAX_INPUTS)
		return jv_diag_set(L->d, JV_ELIMIT, L->top, 0,
				   "more than %d input files ('%s')",
				   SCN_MAX_INPUTS, path);
	s->input[s->n_inputs] = xstrdup(path);
	if (!s->input[s->n_inputs])
		return nomem(L);
	s->n_inputs++;
	return 0;
}

/* ------------------------------------------------------ slots and origins */

static int slot_of(const struct ld *L, int sec, int inst)
{
	if (sec == SCN_SEC_VM)
		return 1 + inst;
	if (sec == SCN_SEC_CONTAINER)
		return 1 + L->s->n_vms + inst;
	return 0;
}

static void *slot_base(struct ld *L, const struct scn_opt *o, int slot)
{
	struct scn *s = L->s;
	switch (o->sec) {
	case SCN_SEC_GLOBAL:
		return &s->global;
	case SCN_SEC_MACHINE:
		return &s->machine;
	case SCN_SEC_CPU:
		return &s->cpu;
	case SCN_SEC_DISK:
		return &s->disk;
	case SCN_SEC_VM:
		return &s->vm[slot - 1];
	case SCN_SEC_CONTAINER:
		return &s->container[slot - 1 - s->n_vms];
	case SCN_SEC_MANAGER:
		return &s->manager;
	case SCN_SEC_OUTPUT:
		return &s->output;
	default:
		return NULL;
	}
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

static struct origin *org_at(struct ld *L, int opt, int slot)
{
	return &L->org[slot * scn_opt_count + opt];
}

static char **raw_at(struct ld *L, int opt, int slot)
{
	return &L->raw[slot * scn_opt_count + opt];
}

static int explicit_src(const struct origin *o)
{
	return o->src == SRC_FILE || o->src == SRC_SET;
}

/* Report err for option instance (opt, slot) at origin o:
 * "FILE:LINE: [sec] key: why", "--set KEY: why" or "FILE: [sec] key
 * (default): why". */
static int opt_err(struct ld *L, int err, int opt, int slot,
		   const struct origin *o, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

static int opt_err(struct ld *L, int err, int opt, int slot,
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
static const struct origin *blame(const struct origin *a, const struct origin *b)
{
	if (explicit_src(a) || !explicit_src(b))
		return a;
	return b;
}

/* ------------------------------------------------------------ value parse */

static int is_int_type(int t)
{
	return t == SCN_T_TIME || t == SCN_T_SIZE || t == SCN_T_INT ||
	       t == SCN_T_UINT32;
}

static int opt_number(const struct scn_opt *o, const char *text, int64_t *iv,
		      double *dv, char *why)
{
	switch (o->type) {
	case SCN_T_TIME:
		return units_parse_time_ns(text, iv, why);
	case SCN_T_SIZE:
		return units_parse_size_b(text, iv, why);
	case SCN_T_INT:
	case SCN_T_UINT32:
		return units_parse_int64(text, iv, why);
	case SCN_T_POWER:
	case SCN_T_POWER_AUTO:
		return units_parse_power_w(text, dv, why);
	case SCN_T_ENERGY:
		return units_parse_energy_j(text, dv, why);
	case SCN_T_RATE:
		return units_parse_rate_bps(text, dv, why);
	case SCN_T_FREQ:
		return units_parse_freq_hz(text, dv, why);
	case SCN_T_DOUBLE:
		return units_parse_double(text, dv, why);
	default:
		snprintf(why, UNITS_WHY_MAX, "not a numeric option");
		return JV_EINVARIANT;
	}
}

/* Check the parsed value against the option's [min, max]. */
static int check_range(const struct scn_opt *o, const char *text, int64_t iv,
		       double dv, char *why, size_t whyn)
{
	const char *bound[2] = { o->min, o->max };
	for (int k = 0; k < 2; k++) {
		if (!bound[k])
			continue;
		int64_t biv = 0;
		double bdv = 0;
		char bwhy[UNITS_WHY_MAX];
		if (opt_number(o, bound[k], &biv, &bdv, bwhy)) {
			snprintf(why, whyn, "bad range bound '%s' in the option table",
				 bound[k]);
			return JV_EINVARIANT;
		}
		int excl = k == 0 ? (o->flags & SCN_F_MIN_EXCL) != 0
				  : (o->flags & SCN_F_MAX_EXCL) != 0;
		int cmp = is_int_type(o->type)
				  ? (iv < biv ? -1 : iv > biv)
				  : (dv < bdv ? -1 : dv > bdv);
		int bad = k == 0 ? (excl ? cmp <= 0 : cmp < 0)
				 : (excl ? cmp >= 0 : cmp > 0);
		if (bad) {
			snprintf(why, whyn, "%.*s out of range %c%s, %s%c",
				 SCN_QUOTE_MAX, skip_ws(text),
				 (o->flags & SCN_F_MIN_EXCL) ? '(' : '[',
				 o->min ? o->min : "-inf",
				 o->max ? o->max : "inf",
				 (o->flags & SCN_F_MAX_EXCL) || !o->max ? ')' : ']');
			return JV_ERANGE;
		}
	}
	return 0;
}

static int parse_u64(const char *text, uint64_t *out, char *why, size_t whyn)
{
	const char *p = skip_ws(text);
	if (!isdigit((unsigned char)*p)) {
		snprintf(why, whyn, "not an unsigned integer: '%.*s'",
			 SCN_QUOTE_MAX, p);
		return JV_EPARSE;
	}
	char *end = NULL;
	errno = 0;
	unsigned long long v = strtoull(p, &end, 10);
	if (errno == ERANGE) {
		snprintf(why, whyn, "'%.*s' is out of range [0, %" PRIu64 "]",
			 SCN_QUOTE_MAX, p, UINT64_MAX);
		return JV_ERANGE;
	}
	if (*skip_ws(end)) {
		snprintf(why, whyn, "not an unsigned integer: '%.*s'",
			 SCN_QUOTE_MAX, p);
		return JV_EPARSE;
	}
	*out = (uint64_t)v;
	return 0;
}

static int enum_lookup(const struct scn_opt *o, const char *text, int *idx,
		       char *why, size_t whyn)
{
	char v[SCN_NAME_MAX];
	if (trim_copy(text, strlen(text), v, sizeof v))
		v[0] = '\0';
	const char *best = NULL;
	size_t bd = SIZE_MAX;
	for (int i = 0; o->allowed[i]; i++) {
		if (!strcmp(o->allowed[i], v)) {
			*idx = i;
			return 0;
		}
		consider(v, o->allowed[i], &best, &bd);
	}
	size_t used = (size_t)snprintf(why, whyn, "unknown value '%.*s' (valid:",
				       SCN_QUOTE_MAX, skip_ws(text));
	for (int i = 0; o->allowed[i] && used < whyn; i++)
		used += (size_t)snprintf(why + used, whyn - used, " %s",
					 o->allowed[i]);
	if (used < whyn)
		used += (size_t)snprintf(why + used, whyn - used, ")");
	if (best && used < whyn)
		snprintf(why + used, whyn - used, " (did you mean '%s'?)", best);
	return JV_EUNKNOWN;
}

/* Split a comma-separated list into trimmed items. Empty items are errors;
 * an empty list has no items. */
static int split_list(const char *text, char items[][SCN_LINE_MAX_B + 1],
		      int max, int *n, char *why, size_t whyn)
{
	*n = 0;
	const char *p = skip_ws(text);
	if (!*p)
		return 0;
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (*n >= max) {
			snprintf(why, whyn, "more than %d items", max);
			return JV_ELIMIT;
		}
		if (trim_copy(p, len, items[*n], SCN_LINE_MAX_B + 1)) {
			snprintf(why, whyn, "item too long");
			return JV_EPARSE;
		}
		if (!items[*n][0]) {
			snprintf(why, whyn, "empty item in '%.*s'",
				 SCN_QUOTE_MAX, skip_ws(text));
			return JV_EPARSE;
		}
		(*n)++;
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

static int parse_counter_list(const char *text,
			      char names[SCN_MAX_COUNTERS][SCN_NAME_MAX],
			      int *n, char *why, size_t whyn)
{
	char items[SCN_MAX_COUNTERS][SCN_LINE_MAX_B + 1];
	int rc = split_list(text, items, SCN_MAX_COUNTERS, n, why, whyn);
	if (rc)
		return rc;
	if (*n == 0) {
		snprintf(why, whyn, "needs at least one counter");
		return JV_EPARSE;
	}
	for (int i = 0; i < *n; i++) {
		if (!valid_name(items[i])) {
			snprintf(why, whyn,
				 "bad counter name '%.*s' (use A-Z a-z 0-9 _ . -, "
				 "1..63 characters)", SCN_QUOTE_MAX, items[i]);
			return JV_EPARSE;
		}
		for (int j = 0; j < i; j++)
			if (!strcmp(names[j], items[i])) {
				snprintf(why, whyn, "duplicate counter '%.*s'",
					 SCN_QUOTE_MAX, items[i]);
				return JV_EPARSE;
			}
		memcpy(names[i], items[i], strlen(items[i]) + 1); /* < SCN_NAME_MAX */
	}
	return 0;
}

/* Parse `name:value,...`; weights through units_parse_energy_j, rates as
 * plain numbers >= 0. */
static int parse_pairs(const char *text, int is_rate, struct pair *out, int *n,
		       char *why, size_t whyn)
{
	char items[SCN_MAX_COUNTERS][SCN_LINE_MAX_B + 1];
	int rc = split_list(text, items, SCN_MAX_COUNTERS, n, why, whyn);
	if (rc)
		return rc;
	for (int i = 0; i < *n; i++) {
		char *colon = strchr(items[i], ':');
		if (!colon) {
			snprintf(why, whyn, "item '%.*s' is not name:%s",
				 SCN_QUOTE_MAX, items[i],
				 is_rate ? "rate" : "energy");
			return JV_EPARSE;
		}
		char name[SCN_LINE_MAX_B + 1];
		trim_copy(items[i], (size_t)(colon - items[i]), name, sizeof name);
		if (!valid_name(name)) {
			snprintf(why, whyn, "bad counter name '%.*s' in '%.*s'",
				 SCN_QUOTE_MAX, name, SCN_QUOTE_MAX, items[i]);
			return JV_EPARSE;
		}
		for (int j = 0; j < i; j++)
			if (!strcmp(out[j].name, name)) {
				snprintf(why, whyn, "counter '%s' listed twice", name);
				return JV_EPARSE;
			}
		memcpy(out[i].name, name, strlen(name) + 1); /* < SCN_NAME_MAX */
		char uwhy[UNITS_WHY_MAX];
		rc = is_rate ? units_parse_double(colon + 1, &out[i].v, uwhy)
			     : units_parse_energy_j(colon + 1, &out[i].v, uwhy);
		if (rc) {
			snprintf(why, whyn, "%s: %s", name, uwhy);
			return rc;
		}
		if (is_rate && out[i].v < 0) {
			snprintf(why, whyn, "%s: rate %.*s is negative", name,
				 SCN_QUOTE_MAX, skip_ws(colon + 1));
			return JV_ERANGE;
		}
	}
	return 0;
}

static int parse_disk(const char *text, int *out, char *why, size_t whyn)
{
	char v[SCN_NAME_MAX];
	if (trim_copy(text, strlen(text), v, sizeof v) ||
	    strncmp(v, "disk", 4) || !isdigit((unsigned char)v[4]))
		goto bad;
	char *end = NULL;
	errno = 0;
	long n = strtol(v + 4, &end, 10);
	if (errno || *end || n >= SCN_MAX_DISKS)
		goto bad;
	*out = (int)n;
	return 0;
bad:
	snprintf(why, whyn, "expected diskN (N < %d), not '%.*s'", SCN_MAX_DISKS,
		 SCN_QUOTE_MAX, skip_ws(text));
	return JV_EPARSE;
}

/* ----------------------------------------------------------- opt_set */

static int set_numeric(const struct scn_opt *o, void *base, const char *value,
		       char *why, size_t whyn)
{
	int64_t iv = 0;
	double dv = 0;
	char uwhy[UNITS_WHY_MAX];
	int rc = opt_number(o, value, &iv, &dv, uwhy);
	if (rc) {
		snprintf(why, whyn, "%s", uwhy);
		return rc;
	}
	rc = check_range(o, value, iv, dv, why, whyn);
	if (rc)
		return rc;
	switch (o->type) {
	case SCN_T_TIME:
	case SCN_T_SIZE:
		*FLD(base, o->off, int64_t) = iv;
		break;
	case SCN_T_INT:
		if (iv < INT_MIN || iv > INT_MAX) {
			snprintf(why, whyn, "%.*s does not fit an int",
				 SCN_QUOTE_MAX, skip_ws(value));
			return JV_ERANGE;
		}
		*FLD(base, o->off, int) = (int)iv;
		break;
	case SCN_T_UINT32:
		if (iv < 0 || iv > (int64_t)UINT32_MAX) {
			snprintf(why, whyn, "%.*s does not fit 32 bits",
				 SCN_QUOTE_MAX, skip_ws(value));
			return JV_ERANGE;
		}
		*FLD(base, o->off, uint32_t) = (uint32_t)iv;
		break;
	case SCN_T_POWER_AUTO:
		*FLD(base, o->off, double) = dv;
		*FLD(base, o->off2, int) = 0;
		break;
	default:
		*FLD(base, o->off, double) = dv;
		break;
	}
	return 0;
}

static int set_string(const struct scn_opt *o, void *base, const char *value,
		      char *why, size_t whyn)
{
	char v[SCN_LINE_MAX_B + 1];
	if (trim_copy(value, strlen(value), v, sizeof v) || strlen(v) >= o->size) {
		snprintf(why, whyn, "'%.*s' is too long (max %zu characters)",
			 SCN_QUOTE_MAX, skip_ws(value), o->size - 1);
		return JV_ELIMIT;
	}
	if (!v[0] && !(o->flags & SCN_F_EMPTY_OK)) {
		snprintf(why, whyn, "empty value");
		return JV_EPARSE;
	}
	if (v[0] && (o->flags & SCN_F_NAME) && !valid_name(v)) {
		snprintf(why, whyn,
			 "bad name '%.*s' (use A-Z a-z 0-9 _ . -, 1..63 characters)",
			 SCN_QUOTE_MAX, v);
		return JV_EPARSE;
	}
	/* zero the whole buffer: equal values give equal bytes */
	memset(FLD(base, o->off, char), 0, o->size);
	memcpy(FLD(base, o->off, char), v, strlen(v) + 1);
	return 0;
}

static int resolve_path(const struct origin *org, const char *value,
			char **out, char *why, size_t whyn)
{
	char v[SCN_LINE_MAX_B + 1];
	if (trim_copy(value, strlen(value), v, sizeof v)) {
		snprintf(why, whyn, "path too long");
		return JV_ELIMIT;
	}
	*out = NULL;
	if (!v[0])
		return 0;
	*out = path_join(org->src == SRC_FILE ? org->dir : NULL, v);
	return *out ? 0 : JV_ENOMEM;
}

static int set_path_list(struct ld *L, int opt, int slot, void *base,
			 const char *value, const struct origin *org, char *why,
			 size_t whyn)
{
	const struct scn_opt *o = &scn_opt_table[opt];
	char **list = FLD(base, o->off, char *);
	int *n = FLD(base, o->off2, int);
	/* the first --set of a list replaces what the file gave */
	if (org->src == SRC_SET && org_at(L, opt, slot)->src != SRC_SET) {
		for (int i = 0; i < *n; i++) {
			free(list[i]);
			list[i] = NULL;
		}
		*n = 0;
	}
	char *p = NULL;
	int rc = resolve_path(org, value, &p, why, whyn);
	if (rc)
		return rc;
	if (!p) {
		/* the default is empty; an empty --set clears the list */
		if (org->src == SRC_DEFAULT || org->src == SRC_SET)
			return 0;
		snprintf(why, whyn, "empty path");
		return JV_EPARSE;
	}
	if (*n >= SCN_MAX_TRACES) {
		free(p);
		snprintf(why, whyn, "more than %d files", SCN_MAX_TRACES);
		return JV_ELIMIT;
	}
	list[(*n)++] = p;
	return 0;
}

/* Parse value into option instance (opt, slot) and record its origin. */
static int opt_set(struct ld *L, int opt, int slot, const char *value,
		   const struct origin *org)
{
	const struct scn_opt *o = &scn_opt_table[opt];
	void *base = slot_base(L, o, slot);
	char why[SCN_MSG_MAX] = "";
	int rc = 0, idx;

	switch (o->type) {
	case SCN_T_TIME:
	case SCN_T_SIZE:
	case SCN_T_INT:
	case SCN_T_UINT32:
	case SCN_T_POWER:
	case SCN_T_ENERGY:
	case SCN_T_RATE:
	case SCN_T_FREQ:
	case SCN_T_DOUBLE:
		rc = set_numeric(o, base, value, why, sizeof why);
		break;
	case SCN_T_POWER_AUTO: {
		char v[16];
		if (!trim_copy(value, strlen(value), v, sizeof v) &&
		    !strcmp(v, "auto")) {
			*FLD(base, o->off, double) = 0.0;
			*FLD(base, o->off2, int) = 1;
		} else {
			rc = set_numeric(o, base, value, why, sizeof why);
		}
		break;
	}
	case SCN_T_UINT64:
		rc = parse_u64(value, FLD(base, o->off, uint64_t), why, sizeof why);
		break;
	case SCN_T_ENUM:
		rc = enum_lookup(o, value, &idx, why, sizeof why);
		if (rc)
			break;
		if (o->flags & SCN_F_ENUM_STR) {
			memset(FLD(base, o->off, char), 0, o->size);
			snprintf(FLD(base, o->off, char), o->size, "%s",
				 o->allowed[idx]);
		}
		else
			*FLD(base, o->off, int) = idx + o->enum_base;
		break;
	case SCN_T_STRING:
		rc = set_string(o, base, value, why, sizeof why);
		break;
	case SCN_T_PATH: {
		char *p = NULL;
		rc = resolve_path(org, value, &p, why, sizeof why);
		if (rc)
			break;
		char **dst = FLD(base, o->off, char *);
		free(*dst);
		*dst = p;
		break;
	}
	case SCN_T_PATH_LIST:
		rc = set_path_list(L, opt, slot, base, value, org, why, sizeof why);
		break;
	case SCN_T_COUNTER_LIST: {
		char names[SCN_MAX_COUNTERS][SCN_NAME_MAX] = { { 0 } };
		int n = 0;
		rc = parse_counter_list(value, names, &n, why, sizeof why);
		if (rc)
			break;
		memcpy(L->s->cpu.counter, names, sizeof names);
		L->s->cpu.n_counters = n;
		break;
	}
	case SCN_T_WEIGHT_LIST:
	case SCN_T_RATE_LIST: {
		struct pair pairs[SCN_MAX_COUNTERS];
		int n = 0;
		rc = parse_pairs(value, o->type == SCN_T_RATE_LIST, pairs, &n,
				 why, sizeof why);
		break; /* resolved against the counters by finalize() */
	}
	case SCN_T_COUNTER: {
		char v[SCN_LINE_MAX_B + 1];
		trim_copy(value, strlen(value), v, sizeof v);
		if (!valid_name(v)) {
			snprintf(why, sizeof why, "bad counter name '%.*s'",
				 SCN_QUOTE_MAX, v);
			rc = JV_EPARSE;
		}
		break; /* resolved by finalize() */
	}
	case SCN_T_DISK:
		rc = parse_disk(value, FLD(base, o->off, int), why, sizeof why);
		break;
	case SCN_T_INCLUDE:
		snprintf(why, sizeof why, "include is read while the file is "
			 "parsed and cannot be set here");
		rc = JV_EINVAL;
		break;
	}
	if (rc == JV_ENOMEM)
		return nomem(L);
	if (rc)
		return opt_err(L, org->src <= SRC_PRESET ? JV_EINVARIANT : rc,
			       opt, slot, org, "%s", why);
	char **raw = raw_at(L, opt, slot);
	char *copy = xstrdup(value);
	if (!copy)
		return nomem(L);
	free(*raw);
	*raw = copy;
	*org_at(L, opt, slot) = *org;
	return 0;
}

/* ------------------------------------------------------------- reading */

static int file_err(struct fctx *f, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int file_err(struct fctx *f, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	jv_diag_vset(f->L->d, err, f->sf->name, f->line, fmt, ap);
	va_end(ap);
	return err;
}

/* inih's find_chars_or_comment(): first of chars, or an inline ';'
 * comment (a ';' after white space), or the end. */
static char *find_chars_or_comment(char *s, const char *chars)
{
	int was_space = 0;
	while (*s && (!chars || !strchr(chars, *s)) && !(was_space && *s == ';')) {
		was_space = isspace((unsigned char)*s);
		s++;
	}
	return s;
}

static int header_vm(struct fctx *f, const char *arg)
{
	/* consumers the ledger always has (design §4) */
	static const char *const reserved[] = { "hypervisor", "unattributed" };
	struct ld *L = f->L;
	struct scn *s = L->s;
	if (!valid_name(arg))
		return file_err(f, JV_EPARSE,
				"bad VM name '%.*s' in [vm %.*s] (use A-Z a-z 0-9 "
				"_ . -, 1..63 characters, not . or ..)", SCN_QUOTE_MAX, arg,
				SCN_QUOTE_MAX, arg);
	for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
		if (!strcmp(arg, reserved[i]))
			return file_err(f, JV_EINVAL,
					"VM name '%s' is reserved (it names a "
					"consumer in every output)", arg);
	for (int i = 0; i < s->n_vms; i++)
		if (!strcmp(s->vm[i].name, arg))
			return file_err(f, JV_EEXIST,
					"duplicate VM '%s', first defined at %s:%d",
					arg, s->vm[i].file, s->vm[i].line);
	if (s->n_vms >= SCN_MAX_VMS)
		return file_err(f, JV_ELIMIT, "too many VMs (max %d)", SCN_MAX_VMS);
	struct scn_vm *vm = &s->vm[s->n_vms];
	memcpy(vm->name, arg, strlen(arg) + 1); /* valid: < SCN_NAME_MAX */
	vm->file = xstrdup(f->sf->name);
	if (!vm->file)
		return nomem(L);
	vm->line = (int)f->line;
	f->inst = s->n_vms++;
	return 0;
}

static int header_container(struct fctx *f, const char *arg)
{
	struct ld *L = f->L;
	struct scn *s = L->s;
	const char *slash = strchr(arg, '/');
	char vmname[SCN_LINE_MAX_B + 1], cname[SCN_LINE_MAX_B + 1];
	if (!slash)
		return file_err(f, JV_EPARSE,
				"container '%.*s' must be named VM/NAME",
				SCN_QUOTE_MAX, arg);
	snprintf(vmname, sizeof vmname, "%.*s", (int)(slash - arg), arg);
	snprintf(cname, sizeof cname, "%s", slash + 1);
	if (!valid_name(vmname) || !valid_name(cname))
		return file_err(f, JV_EPARSE,
				"bad container name '%.*s' (VM/NAME, each of A-Z "
				"a-z 0-9 _ . -, 1..63 characters)", SCN_QUOTE_MAX,
				arg);
	for (int i = 0; i < s->n_containers; i++)
		if (!strcmp(s->container[i].name, arg))
			return file_err(f, JV_EEXIST,
					"duplicate container '%s', first defined "
					"at %s:%ld", arg, L->cont_pos[i].file,
					L->cont_pos[i].line);
	if (s->n_containers >= SCN_MAX_CONTAINERS)
		return file_err(f, JV_ELIMIT, "too many containers (max %d)",
				SCN_MAX_CONTAINERS);
	int i = s->n_containers++;
	/* both parts are valid names: at most 2 * 63 + 1 characters */
	memcpy(s->container[i].name, arg, strlen(arg) + 1);
	L->cont_pos[i].file = f->sf->name;
	L->cont_pos[i].line = f->line;
	f->inst = i;
	return 0;
}

/* A `[...]` line at p (not indented). */
static int parse_header(struct fctx *f, char *p)
{
	char *end = find_chars_or_comment(p + 1, "]");
	if (*end != ']')
		return file_err(f, JV_EPARSE, "missing ']' in section header '%.*s'",
				SCN_QUOTE_MAX, p);
	const char *after = skip_ws(end + 1);
	if (*after && *after != ';' && *after != '#')
		return file_err(f, JV_EPARSE, "unexpected text '%.*s' after ']'",
				SCN_QUOTE_MAX, after);
	*end = '\0';
	char inner[SCN_LINE_MAX_B + 1], word[SCN_LINE_MAX_B + 1];
	trim_copy(p + 1, strlen(p + 1), inner, sizeof inner);
	size_t wl = 0;
	while (inner[wl] && !isspace((unsigned char)inner[wl]))
		wl++;
	memcpy(word, inner, wl);
	word[wl] = '\0';
	const char *arg = skip_ws(inner + wl);
	int sec = sec_by_name(word);
	f->L->n_headers++;
	if (sec < 0) {
		const char *best = sec_suggest(word);
		if (best)
			return file_err(f, JV_EUNKNOWN,
					"unknown section [%s] (did you mean [%s]?)",
					inner, sec_display(sec_by_name(best)));
		return file_err(f, JV_EUNKNOWN,
				"unknown section [%s] (valid: global machine cpu "
				"disk vm container manager output)", inner);
	}
	f->sec = sec;
	f->inst = 0;
	if (sec == SCN_SEC_VM || sec == SCN_SEC_CONTAINER) {
		if (!*arg)
			return file_err(f, JV_EPARSE, "section [%s] needs a name: [%s]",
					word, sec_display(sec));
		return sec == SCN_SEC_VM ? header_vm(f, arg)
					 : header_container(f, arg);
	}
	if (*arg)
		return file_err(f, JV_EPARSE, "section [%s] takes no name ('[%s]')",
				word, inner);
	return 0;
}

/* A `key = value` line at p: check the separator and remember the key. */
static int check_key_line(struct fctx *f, char *p)
{
	char *sep = find_chars_or_comment(p, "=:");
	if (*sep != '=' && *sep != ':')
		return file_err(f, JV_EPARSE,
				"expected 'key = value', '[section]' or a comment, "
				"not '%.*s'", SCN_QUOTE_MAX, p);
	trim_copy(p, (size_t)(sep - p), f->key, sizeof f->key);
	if (!f->key[0])
		return file_err(f, JV_EPARSE, "missing key before '%c'", *sep);
	return 0;
}

/* ini_reader: one line per call, like fgets, with our checks. Sections and
 * comments are handled here and handed to inih as blank lines. */
static char *rd_line(char *str, int num, void *stream)
{
	struct fctx *f = stream;
	char buf[SCN_LINE_MAX_B + 2]; /* content and a CR */
	size_t len = 0;
	int c, any = 0;

	if (f->L->d->err)
		return NULL;
	while ((c = getc(f->fp)) != EOF) {
		any = 1;
		if (c == '\n')
			break;
		if (c == '\0') {
			f->line++;
			file_err(f, JV_EPARSE, "NUL byte in the file");
			return NULL;
		}
		if (len >= sizeof buf - 1) {
			f->line++;
			file_err(f, JV_EPARSE, "line too long (max %d bytes)",
				 SCN_LINE_MAX_B);
			return NULL;
		}
		buf[len++] = (char)c;
	}
	if (!any)
		return NULL;
	f->line++;
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	if (len > SCN_LINE_MAX_B) {
		file_err(f, JV_EPARSE, "line too long (max %d bytes)",
			 SCN_LINE_MAX_B);
		return NULL;
	}
	buf[len] = '\0';
	char *p = buf;
	if (f->line == 1 && !strncmp(p, SCN_UTF8_BOM, 3))
		p += 3;
	char *q = (char *)skip_ws(p);
	if (!*q || *q == ';' || *q == '#') {
		str[0] = '\0';
		return str;
	}
	if (q != p) {
		file_err(f, JV_EPARSE, "indented line '%.*s': continuation lines "
			 "are not supported (remove the leading white space)",
			 SCN_QUOTE_MAX, q);
		return NULL;
	}
	if (*q == '[') {
		if (parse_header(f, q))
			return NULL;
		str[0] = '\0';
		return str;
	}
	if (check_key_line(f, q))
		return NULL;
	if ((int)(strlen(q) + 1) > num) {
		file_err(f, JV_EPARSE, "line too long (max %d bytes)", num - 1);
		return NULL;
	}
	memcpy(str, q, strlen(q) + 1);
	return str;
}

static int parse_file(struct ld *L, const char *path, const struct fctx *from,
		      int depth);

static int add_entry(struct fctx *f, int opt, const char *value)
{
	struct ld *L = f->L;
	if (L->n_ents == L->cap_ents) {
		int cap = L->cap_ents ? 2 * L->cap_ents : 64;
		struct ent *e = realloc(L->ents, (size_t)cap * sizeof *e);
		if (!e)
			return nomem(L);
		L->ents = e;
		L->cap_ents = cap;
	}
	struct ent *e = &L->ents[L->n_ents];
	e->value = xstrdup(value);
	if (!e->value)
		return nomem(L);
	e->opt = opt;
	e->sec = f->sec;
	e->inst = f->inst;
	e->sf = f->sf;
	e->line = f->line;
	L->n_ents++;
	return 0;
}

/* ini_handler: section and name from inih are ignored (see rd_line). */
static int on_kv(void *user, const char *section, const char *name,
		 const char *value)
{
	struct fctx *f = user;
	struct ld *L = f->L;
	(void)section;
	(void)name;
	if (L->d->err)
		return 0;
	if (f->sec < 0) {
		file_err(f, JV_EPARSE, "key '%s' before any [section] header",
			 f->key);
		return 0;
	}
	int opt = find_opt(f->sec, f->key);
	if (opt < 0) {
		char hint[SCN_MSG_MAX], lab[2 * SCN_NAME_MAX + 16];
		key_hint(f->sec, f->key, hint, sizeof hint);
		if (f->sec == SCN_SEC_VM)
			snprintf(lab, sizeof lab, "vm %s", L->s->vm[f->inst].name);
		else if (f->sec == SCN_SEC_CONTAINER)
			snprintf(lab, sizeof lab, "container %s",
				 L->s->container[f->inst].name);
		else
			snprintf(lab, sizeof lab, "%s", scn_sec_names[f->sec]);
		file_err(f, JV_EUNKNOWN, "unknown key '%.*s' in [%s]%s",
			 SCN_QUOTE_MAX, f->key, lab, hint);
		return 0;
	}
	if (scn_opt_table[opt].type == SCN_T_INCLUDE) {
		char v[SCN_LINE_MAX_B + 1];
		trim_copy(value, strlen(value), v, sizeof v);
		if (!v[0]) {
			file_err(f, JV_EPARSE, "include: empty file name");
			return 0;
		}
		char *path = path_join(f->sf->dir, v);
		if (!path) {
			nomem(L);
			return 0;
		}
		parse_file(L, path, f, f->depth + 1);
		free(path);
		return L->d->err ? 0 : 1;
	}
	return add_entry(f, opt, value) ? 0 : 1;
}

static struct srcfile *new_srcfile(struct ld *L, const char *name)
{
	struct srcfile **v = realloc(L->files, (size_t)(L->n_files + 1) * sizeof *v);
	if (!v)
		return NULL;
	L->files = v;
	struct srcfile *sf = calloc(1, sizeof *sf);
	if (!sf)
		return NULL;
	sf->name = xstrdup(name);
	sf->dir = dir_of(name);
	L->files[L->n_files++] = sf;
	if (!sf->name || !sf->dir)
		return NULL;
	return sf;
}

/* Refuse an include of a file that is being parsed: a cycle. */
static int check_cycle(struct ld *L, const char *real, const char *path,
		       const struct fctx *from)
{
	for (int i = 0; i < L->depth; i++) {
		if (strcmp(L->stack_real[i], real))
			continue;
		char chain[SCN_MSG_MAX];
		size_t used = 0;
		for (int j = i; j < L->depth && used < sizeof chain; j++)
			used += (size_t)snprintf(chain + used, sizeof chain - used,
						 "%s -> ", L->stack_name[j]);
		if (used < sizeof chain)
			snprintf(chain + used, sizeof chain - used, "%s", path);
		return jv_diag_set(L->d, JV_ECYCLE, from->sf->name, from->line,
				   "include cycle: %s", chain);
	}
	return 0;
}

static int open_input(struct ld *L, const char *path, const struct fctx *from,
		      FILE **fp)
{
	const char *stdin_name = "-";
	if (!from && !strcmp(path, stdin_name)) {
		*fp = stdin;
		return 0;
	}
	*fp = fopen(path, "rb");
	struct stat st;
	int e = errno;
	if (*fp && fstat(fileno(*fp), &st) == 0 && S_ISDIR(st.st_mode)) {
		fclose(*fp);
		*fp = NULL;
		e = EISDIR;
	}
	if (*fp)
		return 0;
	if (from)
		return jv_diag_set(L->d, JV_ENOENT, from->sf->name, from->line,
				   "include: cannot open '%s': %s", path,
				   strerror(e));
	return jv_diag_set(L->d, JV_ENOENT, path, 0, "cannot open: %s",
			   strerror(e));
}

/* Parse one file (top or include) into L's entry list. */
static int parse_file(struct ld *L, const char *path, const struct fctx *from,
		      int depth)
{
	FILE *fp = NULL;
	char *real = NULL;
	int rc = 0, is_stdin = !from && !strcmp(path, "-");
	const char *display = is_stdin ? "<stdin>" : path;

	if (depth > SCN_MAX_INCLUDE_DEPTH)
		return jv_diag_set(L->d, JV_ELIMIT, from->sf->name, from->line,
				   "include: nesting deeper than %d ('%s')",
				   SCN_MAX_INCLUDE_DEPTH, path);
	rc = open_input(L, path, from, &fp);
	if (rc)
		return rc;
	if (!is_stdin) {
		real = realpath(path, NULL);
		if (!real) {
			rc = jv_diag_set(L->d, JV_EIO, path, 0,
					 "cannot resolve path: %s", strerror(errno));
			goto fail;
		}
		if (from && (rc = check_cycle(L, real, path, from)))
			goto fail;
	}
	struct srcfile *sf = new_srcfile(L, display);
	if (!sf) {
		rc = nomem(L);
		goto fail;
	}
	if ((rc = add_input(L, path)))
		goto fail;
	if (!is_stdin) {
		L->stack_real[L->depth] = real;
		L->stack_name[L->depth] = sf->name;
		L->depth++;
	}
	struct fctx f = { .L = L, .fp = fp, .sf = sf, .depth = depth, .sec = -1 };
	int irc = ini_parse_stream(rd_line, &f, on_kv, &f);
	if (!is_stdin)
		L->depth--;
	if (L->d->err) {
		rc = L->d->err;
	} else if (ferror(fp)) {
		rc = jv_diag_set(L->d, JV_EIO, sf->name, 0, "read error: %s",
				 strerror(errno));
	} else if (irc == -2) {
		rc = nomem(L);
	} else if (irc != 0) {
		rc = jv_diag_set(L->d, JV_EPARSE, sf->name, irc > 0 ? irc : 0,
				 "malformed line (inih error %d)", irc);
	}
fail:
	free(real);
	if (fp && fp != stdin)
		fclose(fp);
	return rc;
}

/* --------------------------------------------------------------- apply */

static int slot_matches(const struct ld *L, const struct scn_opt *o, int slot)
{
	if (slot == 0)
		return o->sec != SCN_SEC_VM && o->sec != SCN_SEC_CONTAINER;
	if (slot <= L->s->n_vms)
		return o->sec == SCN_SEC_VM;
	return o->sec == SCN_SEC_CONTAINER;
}

/* Default run name: file name without directory and .ini. */
static void default_name(const char *file, char *out, size_t n)
{
	if (!strcmp(file, "-")) {
		snprintf(out, n, "stdin");
		return;
	}
	const char *b = strrchr(file, '/');
	b = b ? b + 1 : file;
	size_t len = strlen(b);
	if (len > 4 && !strcmp(b + len - 4, ".ini"))
		len -= 4;
	if (len >= n)
		len = n - 1;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)b[i];
		out[i] = (isalnum(c) || c == '_' || c == '.' || c == '-') ? (char)c
									  : '_';
	}
	out[len] = '\0';
	if (!out[0])
		snprintf(out, n, "scenario");
}

static int apply_defaults(struct ld *L)
{
	struct origin org = { .src = SRC_DEFAULT };
	char name[SCN_NAME_MAX];
	default_name(L->s->file, name, sizeof name);
	for (int slot = 0; slot < L->n_slots; slot++)
		for (int i = 0; i < scn_opt_count; i++) {
			const struct scn_opt *o = &scn_opt_table[i];
			if (!slot_matches(L, o, slot) || o->type == SCN_T_INCLUDE)
				continue;
			const char *def = o->def;
			if (o->sec == SCN_SEC_GLOBAL && !strcmp(o->key, "name"))
				def = name;
			int rc = opt_set(L, i, slot, def, &org);
			if (rc)
				return rc;
		}
	return 0;
}

static int apply_preset(struct ld *L, const struct scn_override *ov, int n_ov)
{
	int popt = find_opt(SCN_SEC_MACHINE, "preset");
	const struct ent *last = NULL;
	for (int i = 0; i < L->n_ents; i++)
		if (L->ents[i].opt == popt)
			last = &L->ents[i];
	int rc = 0;
	if (last) {
		struct origin org = { .src = SRC_FILE, .file = last->sf->name,
				      .dir = last->sf->dir, .line = last->line };
		rc = opt_set(L, popt, 0, last->value, &org);
	}
	for (int i = 0; !rc && i < n_ov; i++)
		if (ov[i].key && ov[i].value &&
		    !strcmp(ov[i].key, "machine.preset")) {
			struct origin org = { .src = SRC_SET, .ovkey = ov[i].key };
			rc = opt_set(L, popt, 0, ov[i].value, &org);
		}
	if (rc)
		return rc;
	const struct scn_preset *p = NULL;
	for (int i = 0; i < scn_preset_count; i++)
		if (!strcmp(scn_presets[i].name, L->s->machine.preset))
			p = &scn_presets[i];
	if (!p)
		return jv_diag_set(L->d, JV_EINVARIANT, L->top, 0,
				   "preset '%s' has no table", L->s->machine.preset);
	struct origin org = { .src = SRC_PRESET };
	for (int v = 0; v < p->n_vals; v++) {
		const struct scn_preset_val *pv = &p->vals[v];
		int opt = find_opt(pv->sec, pv->key);
		if (opt < 0)
			return jv_diag_set(L->d, JV_EINVARIANT, L->top, 0,
					   "preset '%s': no option [%s] %s", p->name,
					   scn_sec_names[pv->sec], pv->key);
		for (int slot = 0; slot < L->n_slots; slot++) {
			if (!slot_matches(L, &scn_opt_table[opt], slot))
				continue;
			if ((rc = opt_set(L, opt, slot, pv->value, &org)))
				return rc;
		}
	}
	return 0;
}

static int apply_entries(struct ld *L)
{
	for (int i = 0; i < L->n_ents; i++) {
		const struct ent *e = &L->ents[i];
		struct origin org = { .src = SRC_FILE, .file = e->sf->name,
				      .dir = e->sf->dir, .line = e->line };
		int rc = opt_set(L, e->opt, slot_of(L, e->sec, e->inst), e->value,
				 &org);
		if (rc)
			return rc;
	}
	return 0;
}

static int set_err(struct ld *L, int err, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int set_err(struct ld *L, int err, const char *key, const char *fmt, ...)
{
	char body[SCN_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(body, sizeof body, fmt, ap);
	va_end(ap);
	return jv_diag_set(L->d, err, NULL, 0, "--set %s: %s", key, body);
}

/* Find the option instance an override key names. */
static int override_target(struct ld *L, const char *key, int *opt, int *slot)
{
	struct scn *s = L->s;
	const char *dot = strchr(key, '.');
	if (!dot)
		return set_err(L, JV_EUSAGE, key, "expected SECTION.KEY, "
			       "vm.NAME.KEY or container.VM/NAME.KEY");
	char secname[SCN_NAME_MAX];
	snprintf(secname, sizeof secname, "%.*s", (int)(dot - key), key);
	int sec = sec_by_name(secname);
	if (sec < 0) {
		const char *best = sec_suggest(secname);
		if (best)
			return set_err(L, JV_EUNKNOWN, key,
				       "unknown section '%s' (did you mean '%s'?)",
				       secname, best);
		return set_err(L, JV_EUNKNOWN, key, "unknown section '%s'", secname);
	}
	const char *k = dot + 1;
	*slot = 0;
	if (sec == SCN_SEC_VM || sec == SCN_SEC_CONTAINER) {
		const char *last = strrchr(key, '.');
		if (last == dot)
			return set_err(L, JV_EUSAGE, key, "expected %s.%s.KEY",
				       secname, sec == SCN_SEC_VM ? "NAME" : "VM/NAME");
		char inst[2 * SCN_NAME_MAX];
		snprintf(inst, sizeof inst, "%.*s", (int)(last - dot - 1), dot + 1);
		k = last + 1;
		int idx = -1;
		if (sec == SCN_SEC_VM) {
			idx = scn_vm_index(s, inst);
		} else {
			for (int i = 0; i < s->n_containers; i++)
				if (!strcmp(s->container[i].name, inst))
					idx = i;
		}
		if (idx < 0)
			return set_err(L, JV_EUNKNOWN, key,
				       "no [%s %s] section in the scenario", secname,
				       inst);
		*slot = slot_of(L, sec, idx);
	}
	*opt = find_opt(sec, k);
	if (*opt < 0) {
		char hint[SCN_MSG_MAX];
		key_hint(sec, k, hint, sizeof hint);
		return set_err(L, JV_EUNKNOWN, key, "unknown key '%s' in [%s]%s", k,
			       sec_display(sec), hint);
	}
	return 0;
}

static int apply_overrides(struct ld *L, const struct scn_override *ov, int n_ov)
{
	for (int i = 0; i < n_ov; i++) {
		if (!ov[i].key || !ov[i].key[0])
			return jv_diag_set(L->d, JV_EUSAGE, NULL, 0,
					   "--set: empty key");
		if (!ov[i].value)
			return set_err(L, JV_EUSAGE, ov[i].key, "missing value");
		int opt = 0, slot = 0;
		int rc = override_target(L, ov[i].key, &opt, &slot);
		if (rc)
			return rc;
		struct origin org = { .src = SRC_SET, .ovkey = ov[i].key };
		if ((rc = opt_set(L, opt, slot, ov[i].value, &org)))
			return rc;
	}
	return 0;
}

/* ------------------------------------------------------------ finalize */

/* Resolve a weight or rate list against the counters into dst[]. */
static int resolve_pairs(struct ld *L, int opt, int slot, double *dst)
{
	struct scn *s = L->s;
	const struct scn_opt *o = &scn_opt_table[opt];
	const struct origin *org = org_at(L, opt, slot);
	int is_rate = o->type == SCN_T_RATE_LIST;
	struct pair pairs[SCN_MAX_COUNTERS];
	int n = 0;
	char why[SCN_MSG_MAX], list[SCN_MSG_MAX];
	int rc = parse_pairs(*raw_at(L, opt, slot), is_rate, pairs, &n, why,
			     sizeof why);
	if (rc)
		return opt_err(L, rc, opt, slot, org, "%s", why);
	for (int i = 0; i < SCN_MAX_COUNTERS; i++)
		dst[i] = 0.0;
	for (int i = 0; i < n; i++) {
		int c = scn_counter_index(s, pairs[i].name);
		if (c < 0) {
			if (!explicit_src(org))
				continue; /* preset text for counters now gone */
			list_counters(s, list, sizeof list);
			return opt_err(L, JV_EUNKNOWN, opt, slot, org,
				       "'%s' is not a counter (counters: %s)",
				       pairs[i].name, list);
		}
		if (is_rate && c == s->cpu.tsc_index)
			return opt_err(L, JV_EINVAL, opt, slot, org,
				       "the TSC counter '%s' cannot be given a rate "
				       "(it advances at cpu.freq)", pairs[i].name);
		dst[c] = pairs[i].v;
	}
	return 0;
}

static int resolve_counter_name(struct ld *L, const char *key, int *dst)
{
	int opt = find_opt(SCN_SEC_CPU, key);
	int copt = find_opt(SCN_SEC_CPU, "counters");
	const char *name = skip_ws(*raw_at(L, opt, 0));
	char v[SCN_NAME_MAX], list[SCN_MSG_MAX];
	trim_copy(name, strlen(name), v, sizeof v);
	if ((scn_opt_table[opt].flags & SCN_F_NONE_OK) && !strcmp(v, "none")) {
		*dst = -1;
		return 0;
	}
	*dst = scn_counter_index(L->s, v);
	if (*dst >= 0)
		return 0;
	list_counters(L->s, list, sizeof list);
	return opt_err(L, JV_EUNKNOWN, opt, 0,
		       blame(org_at(L, opt, 0), org_at(L, copt, 0)),
		       "'%s' is not one of counters (%s)%s", v, list,
		       (scn_opt_table[opt].flags & SCN_F_NONE_OK)
			       ? "; set it to a counter or none"
			       : "");
}

/* CSV `counter,weight_j` rows override cpu.weight_j. */
static int load_weights_file(struct ld *L)
{
	struct scn *s = L->s;
	const char *path = s->cpu.weights_file;
	int wopt = find_opt(SCN_SEC_CPU, "weights_file");
	char *line = NULL;
	size_t cap = 0;
	long lineno = 0;
	int rc = 0, seen_header = 0, seen[SCN_MAX_COUNTERS] = { 0 };
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return opt_err(L, JV_ENOENT, wopt, 0, org_at(L, wopt, 0),
			       "cannot open '%s': %s", path, strerror(errno));
	ssize_t len;
	while ((len = getline(&line, &cap, fp)) >= 0) {
		lineno++;
		if ((size_t)len != strlen(line)) {
			rc = jv_diag_set(L->d, JV_EPARSE, path, lineno, "NUL byte");
			goto fail;
		}
		char *p = line;
		if (lineno == 1 && !strncmp(p, SCN_UTF8_BOM, 3))
			p += 3;
		p[strcspn(p, "\r\n")] = '\0';
		const char *q = skip_ws(p);
		if (!*q || *q == '#')
			continue;
		char *comma = strchr(p, ',');
		char f1[SCN_LINE_MAX_B + 1], f2[SCN_LINE_MAX_B + 1];
		if (!comma || strchr(comma + 1, ',') ||
		    trim_copy(p, (size_t)(comma - p), f1, sizeof f1) ||
		    trim_copy(comma + 1, strlen(comma + 1), f2, sizeof f2)) {
			rc = jv_diag_set(L->d, JV_EPARSE, path, lineno,
					 "expected two fields 'counter,weight_j', "
					 "not '%.*s'", SCN_QUOTE_MAX, q);
			goto fail;
		}
		if (!seen_header) {
			if (strcmp(f1, "counter") || strcmp(f2, "weight_j")) {
				rc = jv_diag_set(L->d, JV_EPARSE, path, lineno,
						 "expected the header "
						 "'counter,weight_j', not '%.*s'",
						 SCN_QUOTE_MAX, q);
				goto fail;
			}
			seen_header = 1;
			continue;
		}
		int c = scn_counter_index(s, f1);
		if (c < 0) {
			char list[SCN_MSG_MAX];
			list_counters(s, list, sizeof list);
			rc = jv_diag_set(L->d, JV_EUNKNOWN, path, lineno,
					 "unknown counter '%.*s' (counters: %s)",
					 SCN_QUOTE_MAX, f1, list);
			goto fail;
		}
		if (seen[c]) {
			rc = jv_diag_set(L->d, JV_EPARSE, path, lineno,
					 "counter '%s' listed twice", f1);
			goto fail;
		}
		seen[c] = 1;
		char why[UNITS_WHY_MAX];
		double w;
		if ((rc = units_parse_energy_j(f2, &w, why))) {
			rc = jv_diag_set(L->d, rc, path, lineno, "%s: %s", f1, why);
			goto fail;
		}
		s->cpu.weight_j[c] = w;
	}
	if (ferror(fp)) {
		rc = jv_diag_set(L->d, JV_EIO, path, 0, "read error");
		goto fail;
	}
	if (!seen_header)
		rc = jv_diag_set(L->d, JV_EEMPTY, path, 0,
				 "empty weights file (expected 'counter,weight_j')");
fail:
	free(line);
	fclose(fp);
	return rc;
}

static int finalize_cpu(struct ld *L)
{
	struct scn *s = L->s;
	int rc;
	if ((rc = resolve_counter_name(L, "tsc_counter", &s->cpu.tsc_index)) ||
	    (rc = resolve_counter_name(L, "cycles_counter", &s->cpu.cycles_index)))
		return rc;
	int w = find_opt(SCN_SEC_CPU, "weights");
	int tw = find_opt(SCN_SEC_CPU, "true_weights");
	if ((rc = resolve_pairs(L, w, 0, s->cpu.weight_j)))
		return rc;
	if (s->cpu.weights_file && (rc = load_weights_file(L)))
		return rc;
	if (org_at(L, tw, 0)->src == SRC_DEFAULT)
		memcpy(s->cpu.true_weight_j, s->cpu.weight_j,
		       sizeof s->cpu.true_weight_j);
	else if ((rc = resolve_pairs(L, tw, 0, s->cpu.true_weight_j)))
		return rc;
	return 0;
}

static int finalize_disk(struct ld *L)
{
	struct scn_disk *d = &L->s->disk;
	if (d->active_power_w < d->idle_power_w) {
		int a = find_opt(SCN_SEC_DISK, "active_power");
		int i = find_opt(SCN_SEC_DISK, "idle_power");
		return opt_err(L, JV_ERANGE, a, 0,
			       blame(org_at(L, a, 0), org_at(L, i, 0)),
			       "active_power %gW is below idle_power %gW",
			       d->active_power_w, d->idle_power_w);
	}
	if (d->nominal_rate_bps == 0.0)
		d->nominal_rate_bps = d->media_rate_bps;
	return 0;
}

/* Explicit driver-only keys on guests, guest-only keys on drivers. */
static int check_kind_keys(struct ld *L, int slot, const struct scn_vm *vm)
{
	for (int i = 0; i < scn_opt_count; i++) {
		const struct scn_opt *o = &scn_opt_table[i];
		if (o->sec != SCN_SEC_VM || !explicit_src(org_at(L, i, slot)))
			continue;
		if ((o->flags & SCN_F_DRIVER_ONLY) && vm->kind != SCN_VM_DRIVER)
			return opt_err(L, JV_EINVAL, i, slot, org_at(L, i, slot),
				       "applies only to kind = driver");
		if ((o->flags & SCN_F_GUEST_ONLY) && vm->kind != SCN_VM_GUEST)
			return opt_err(L, JV_EINVAL, i, slot, org_at(L, i, slot),
				       "applies only to kind = guest");
	}
	return 0;
}

static int finalize_workload(struct ld *L, int slot, struct scn_vm *vm)
{
	int wopt = find_opt(SCN_SEC_VM, "workload");
	int topt = find_opt(SCN_SEC_VM, "trace");
	const struct origin *wo = org_at(L, wopt, slot), *to = org_at(L, topt, slot);
	if (vm->n_traces > 0 && vm->workload == SCN_WL_NONE && !explicit_src(wo))
		vm->workload = SCN_WL_TRACE;
	if (vm->kind == SCN_VM_DRIVER && vm->workload != SCN_WL_NONE)
		return opt_err(L, JV_EINVAL, vm->n_traces ? topt : wopt, slot,
			       vm->n_traces ? to : wo,
			       "a driver VM only serves requests: workload must "
			       "be none and it has no traces");
	if (vm->n_traces > 0 && vm->workload != SCN_WL_TRACE)
		return opt_err(L, JV_EINVAL, topt, slot, to,
			       "trace files need workload = trace");
	if (vm->workload == SCN_WL_TRACE && vm->n_traces == 0)
		return opt_err(L, JV_EINVAL, wopt, slot, wo,
			       "workload = trace needs at least one trace file");
	return 0;
}

static int finalize_times(struct ld *L, int slot, struct scn_vm *vm)
{
	int so = find_opt(SCN_SEC_VM, "start"), eo = find_opt(SCN_SEC_VM, "stop");
	int dopt = find_opt(SCN_SEC_GLOBAL, "duration");
	int64_t dur = L->s->global.duration_ns;
	char a[32], b[32];
	if (vm->stop_ns == 0)
		vm->stop_ns = dur;
	if (vm->stop_ns > dur) {
		const struct origin *o = org_at(L, eo, slot);
		if (explicit_src(o))
			return opt_err(L, JV_ERANGE, eo, slot, o,
				       "stop %s is after duration %s",
				       units_fmt_time_ns(vm->stop_ns, a),
				       units_fmt_time_ns(dur, b));
		return opt_err(L, JV_ERANGE, dopt, 0, org_at(L, dopt, 0),
			       "duration %s is before [vm %s] stop %s",
			       units_fmt_time_ns(dur, b), vm->name,
			       units_fmt_time_ns(vm->stop_ns, a));
	}
	if (vm->start_ns >= vm->stop_ns)
		return opt_err(L, JV_ERANGE, so, slot,
			       blame(org_at(L, so, slot), org_at(L, eo, slot)),
			       "start %s is not before stop %s",
			       units_fmt_time_ns(vm->start_ns, a),
			       units_fmt_time_ns(vm->stop_ns, b));
	return 0;
}

static int finalize_vm(struct ld *L, int i)
{
	struct scn *s = L->s;
	struct scn_vm *vm = &s->vm[i];
	int slot = slot_of(L, SCN_SEC_VM, i), rc;
	if ((rc = check_kind_keys(L, slot, vm)) ||
	    (rc = finalize_workload(L, slot, vm)) ||
	    (rc = finalize_times(L, slot, vm)))
		return rc;
	if (vm->disk >= s->disk.count) {
		int dk = find_opt(SCN_SEC_VM, "disk");
		int dc = find_opt(SCN_SEC_DISK, "count");
		const struct origin *o = org_at(L, dk, slot);
		if (!explicit_src(o) && explicit_src(org_at(L, dc, 0)))
			o = org_at(L, dc, 0);
		return opt_err(L, JV_ERANGE, dk, slot, o,
			       "disk%d does not exist (disk.count = %d)",
			       vm->disk, s->disk.count);
	}
	if ((rc = resolve_pairs(L, find_opt(SCN_SEC_VM, "events"), slot,
				vm->events.per_s)) ||
	    (rc = resolve_pairs(L, find_opt(SCN_SEC_VM, "req_events"), slot,
				vm->req_events.per_s)) ||
	    (rc = resolve_pairs(L, find_opt(SCN_SEC_VM, "bg_events"), slot,
				vm->bg_events.per_s)))
		return rc;
	if (vm->trace_mode < 0)
		vm->trace_mode = s->global.replay_mode;
	return 0;
}

/* The first disk-stress container of VM vm, or -1 (containers resolved). */
static int disk_container(const struct scn *s, int vm)
{
	for (int k = 0; k < s->n_containers; k++)
		if (s->container[k].vm == vm && s->container[k].workload == SCN_WL_DISK_STRESS)
			return k;
	return -1;
}

static int finalize_driver(struct ld *L, int i)
{
	struct scn *s = L->s;
	struct scn_vm *vm = &s->vm[i];
	int slot = slot_of(L, SCN_SEC_VM, i);
	int dopt = find_opt(SCN_SEC_VM, "driver");
	vm->driver_idx = -1;
	if (vm->kind != SCN_VM_GUEST)
		return 0;
	if (vm->driver[0]) {
		int d = scn_vm_index(s, vm->driver);
		const struct origin *o = org_at(L, dopt, slot);
		if (d < 0) {
			const char *best = NULL;
			size_t bd = SIZE_MAX;
			for (int j = 0; j < s->n_vms; j++)
				if (s->vm[j].kind == SCN_VM_DRIVER)
					consider(vm->driver, s->vm[j].name, &best, &bd);
			char hint[SCN_NAME_MAX + 32] = "";
			if (best)
				snprintf(hint, sizeof hint, " (did you mean '%s'?)",
					 best);
			return opt_err(L, JV_EUNKNOWN, dopt, slot, o,
				       "unknown driver VM '%s'%s", vm->driver, hint);
		}
		if (s->vm[d].kind != SCN_VM_DRIVER)
			return opt_err(L, JV_EINVAL, dopt, slot, o,
				       "vm '%s' is not a driver (kind = guest)",
				       vm->driver);
		vm->driver_idx = d;
		return 0;
	}
	/* a VM that may receive block records: its own traces, records other
	 * VMs' traces route to it by a match rule, or a disk container's */
	int dc = disk_container(s, i);
	if (vm->workload != SCN_WL_DISK_STRESS && vm->n_traces == 0 && !vm->match[0] && dc < 0)
		return 0;
	int n = 0, last = -1;
	for (int j = 0; j < s->n_vms; j++)
		if (s->vm[j].kind == SCN_VM_DRIVER) {
			n++;
			last = j;
		}
	if (n == 0 && dc >= 0) {
		int wopt = find_opt(SCN_SEC_CONTAINER, "workload");
		int cslot = slot_of(L, SCN_SEC_CONTAINER, dc);
		return opt_err(L, JV_EINVAL, wopt, cslot, org_at(L, wopt, cslot),
			       "disk-stress needs a driver VM serving the virtual disk "
			       "of guest '%s', and the scenario has no driver VM", vm->name);
	}
	if (n == 0 && vm->workload != SCN_WL_DISK_STRESS)
		return 0; /* traces may hold CPU records only: block records without a
			   * driver are an error when the machine meets them */
	if (n == 0)
		return jv_diag_set(L->d, JV_EINVAL, vm->file, vm->line,
				   "vm '%s' does disk I/O but the scenario has no "
				   "driver VM", vm->name);
	if (n > 1)
		return jv_diag_set(L->d, JV_EINVAL, vm->file, vm->line,
				   "vm '%s' does disk I/O and the scenario has %d "
				   "driver VMs: set driver = NAME", vm->name, n);
	vm->driver_idx = last;
	memcpy(vm->driver, s->vm[last].name, sizeof vm->driver);
	return 0;
}

static int finalize_container(struct ld *L, int i)
{
	struct scn *s = L->s;
	struct scn_container *c = &s->container[i];
	char vmname[SCN_NAME_MAX];
	snprintf(vmname, sizeof vmname, "%.*s", (int)strcspn(c->name, "/"),
		 c->name);
	c->vm = scn_vm_index(s, vmname);
	if (c->vm < 0)
		return jv_diag_set(L->d, JV_EUNKNOWN, L->cont_pos[i].file,
				   L->cont_pos[i].line,
				   "container '%s': no [vm %s] section", c->name,
				   vmname);
	if (s->vm[c->vm].kind != SCN_VM_GUEST)
		return jv_diag_set(L->d, JV_EINVAL, L->cont_pos[i].file,
				   L->cont_pos[i].line,
				   "container '%s': vm '%s' is a driver; containers "
				   "live in guests", c->name, vmname);
	if (s->vm[c->vm].workload != SCN_WL_NONE)
		return jv_diag_set(L->d, JV_EINVAL, L->cont_pos[i].file,
				   L->cont_pos[i].line,
				   "container '%s': vm '%s' has its own workload; a guest with "
				   "containers runs only them (set workload = none)", c->name,
				   vmname);
	s->vm[c->vm].n_containers++;
	return resolve_pairs(L, find_opt(SCN_SEC_CONTAINER, "events"),
			     slot_of(L, SCN_SEC_CONTAINER, i), c->events.per_s);
}

static int record_inputs(struct ld *L)
{
	struct scn *s = L->s;
	int rc = 0;
	if (s->cpu.weights_file && (rc = add_input(L, s->cpu.weights_file)))
		return rc;
	if (s->cpu.pmc_log && (rc = add_input(L, s->cpu.pmc_log)))
		return rc;
	for (int i = 0; i < s->n_vms; i++)
		for (int t = 0; t < s->vm[i].n_traces; t++)
			if ((rc = add_input(L, s->vm[i].trace[t])))
				return rc;
	return 0;
}

/* Two trace entries naming one file (the same path, or the same inode
 * when both can be stat'ed): a file is read once per entry, so every
 * record would be replayed, and charged, twice. */
static int same_file(const char *a, const char *b)
{
	struct stat sa, sb;
	if (!strcmp(a, b))
		return 1;
	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

static int check_trace_dups(struct ld *L)
{
	struct scn *s = L->s;
	int topt = find_opt(SCN_SEC_VM, "trace");
	for (int i = 0; i < s->n_vms; i++)
		for (int t = 0; t < s->vm[i].n_traces; t++)
			for (int j = 0; j <= i; j++)
				for (int u = 0; u < (j == i ? t : s->vm[j].n_traces); u++)
					if (same_file(s->vm[i].trace[t], s->vm[j].trace[u]))
						return opt_err(L, JV_EINVAL, topt, 1 + i,
							       org_at(L, topt, 1 + i),
							       "trace '%s' is already listed under "
							       "vm '%s'; a file is replayed once "
							       "(route its records to other VMs "
							       "with match rules)",
							       s->vm[i].trace[t], s->vm[j].name);
	return 0;
}

/* The energy manager's options against each other and the VMs. */
static int finalize_manager(struct ld *L)
{
	struct scn *s = L->s;
	struct scn_manager *mg = &s->manager;
	if (mg->shaping_period_ns == 0)
		mg->shaping_period_ns = mg->disk_period_ns;
	if (mg->t_min > mg->t_init || mg->t_init > mg->t_max) {
		int o = find_opt(SCN_SEC_MANAGER, "t_init");
		return opt_err(L, JV_ERANGE, o, 0, org_at(L, o, 0),
			       "need t_min <= t_init <= t_max, got %g <= %g <= %g",
			       mg->t_min, mg->t_init, mg->t_max);
	}
	struct throttle_cfg tc = {
		.t_init = mg->t_init, .t_min = mg->t_min, .t_max = mg->t_max,
		.gain_damp = mg->disk_gain_damp, .gain_amp = mg->disk_gain_amp,
		.kp = mg->pi_kp, .ki = mg->pi_ki,
	};
	struct throttle probe;
	const struct throttle_ops *tops =
		mg->disk_controller == SCN_CTRL_PI ? &throttle_pi : &throttle_paper;
	if (throttle_init(&probe, tops, &tc)) {
		int o = find_opt(SCN_SEC_MANAGER, "disk_controller");
		return opt_err(L, JV_EINVAL, o, 0, org_at(L, o, 0),
			       "invalid settings for the %s controller (paper: gain_damp in "
			       "[0, 1], gain_amp in [0, %g]; pi: t_min > 0, pi_ki > 0, "
			       "pi_ki + 2 pi_kp < 2)", tops->name, THROTTLE_GAIN_AMP_MAX);
	}
	int co = find_opt(SCN_SEC_VM, "cpu_limit"), dl = find_opt(SCN_SEC_VM, "disk_limit");
	for (int i = 0; i < s->n_vms; i++) {
		const struct scn_vm *vm = &s->vm[i];
		int slot = 1 + i;
		if (vm->cpu_limit_w > 0 && s->cpu.scheduler != SCN_SCHED_STRIDE) {
			int so = find_opt(SCN_SEC_CPU, "scheduler");
			return opt_err(L, JV_EINVAL, co, slot,
				       blame(org_at(L, co, slot), org_at(L, so, 0)),
				       "a CPU limit needs scheduler = stride (the manager "
				       "adjusts strides; rr has no shares)");
		}
		if (vm->disk_limit_w > 0 && vm->driver_idx < 0)
			return opt_err(L, JV_EINVAL, dl, slot, org_at(L, dl, slot),
				       "a disk limit needs a driver VM serving this VM's disk I/O");
		if (vm->disk_limit_w > 0 && s->cpu.pmc_log &&
		    s->global.replay_mode == SCN_REPLAY_ACCOUNTING)
			return opt_err(L, JV_EINVAL, dl, slot, org_at(L, dl, slot),
				       "limits cannot be enforced on a run replayed in accounting mode");
	}
	return 0;
}

static int finalize(struct ld *L)
{
	struct scn *s = L->s;
	int rc;
	if ((rc = finalize_cpu(L)) || (rc = finalize_disk(L)))
		return rc;
	for (int i = 0; i < s->n_vms; i++)
		if ((rc = finalize_vm(L, i)))
			return rc;
	/* containers first: a disk-stress container makes its guest a client
	 * of a driver VM */
	for (int i = 0; i < s->n_containers; i++)
		if ((rc = finalize_container(L, i)))
			return rc;
	for (int i = 0; i < s->n_vms; i++)
		if ((rc = finalize_driver(L, i)))
			return rc;
	if ((rc = finalize_manager(L)) || (rc = check_trace_dups(L)))
		return rc;
	int mo = find_opt(SCN_SEC_VM, "match");
	for (int i = 0; i < s->n_vms; i++) {
		struct trc_map_rule rule;
		char why[160];
		if (s->vm[i].match[0] && trc_map_parse(s->vm[i].match, i, &rule, why))
			return opt_err(L, JV_EPARSE, mo, 1 + i, org_at(L, mo, 1 + i), "%s", why);
	}
	return record_inputs(L);
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
	if (!(L.s->file = xstrdup(file))) {
		rc = nomem(&L);
		goto fail;
	}
	if ((rc = parse_file(&L, file, NULL, 0)))
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
		rc = nomem(&L);
		goto fail;
	}
	if ((rc = apply_defaults(&L)) || (rc = apply_preset(&L, ov, n_ov)) ||
	    (rc = apply_entries(&L)) || (rc = apply_overrides(&L, ov, n_ov)) ||
	    (rc = finalize(&L)))
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

/* ------------------------------------------------------ resolved output */

struct unit_fmt {
	const char *sfx;
	double mult;
};

static const struct unit_fmt fmt_energy[] = {
	{ "J", 1 }, { "mJ", 1e-3 }, { "uJ", 1e-6 }, { "nJ", 1e-9 }, { "pJ", 1e-12 },
	{ NULL, 0 } };
static const struct unit_fmt fmt_power[] = {
	{ "W", 1 }, { "mW", 1e-3 }, { "kW", 1e3 }, { NULL, 0 } };
static const struct unit_fmt fmt_rate[] = {
	{ "B/s", 1 }, { "KB/s", 1e3 }, { "MB/s", 1e6 }, { "GB/s", 1e9 },
	{ "KiB/s", 1024.0 }, { "MiB/s", 1048576.0 }, { NULL, 0 } };
static const struct unit_fmt fmt_freq[] = {
	{ "Hz", 1 }, { "kHz", 1e3 }, { "MHz", 1e6 }, { "GHz", 1e9 }, { NULL, 0 } };
static const struct unit_fmt fmt_plain[] = { { "", 1 }, { NULL, 0 } };

typedef int (*dbl_parser)(const char *, double *, char *);

/* "4e+09" -> "4e9", "1.5e-05" -> "1.5e-5": same value, easier to read. */
static void tidy_exponent(char *num)
{
	char *e = strchr(num, 'e');
	if (!e)
		return;
	char *src = e + 1, *dst = e + 1;
	if (*src == '+')
		src++;
	else if (*src == '-')
		*dst++ = *src++;
	while (*src == '0' && isdigit((unsigned char)src[1]))
		src++;
	memmove(dst, src, strlen(src) + 1);
}

/* Length of a candidate, exponents counting extra: prefer "100nJ" to
 * "1e2nJ". */
static size_t fmt_cost(const char *c)
{
	return strlen(c) + (strchr(c, 'e') ? 2 : 0);
}

/* Keep cand in best if it reads back as exactly v and is shorter; returns
 * whether it reads back exactly. */
static int fmt_try(const char *cand, double v, dbl_parser parse, char *best,
		   size_t n)
{
	double back;
	char why[UNITS_WHY_MAX];
	if (parse(cand, &back, why) || back != v || signbit(back) != signbit(v))
		return 0;
	if (!best[0] || fmt_cost(cand) < fmt_cost(best))
		snprintf(best, n, "%s", cand);
	return 1;
}

/* Shortest text in one of the units that parses back to exactly v. */
static void fmt_exact(double v, const struct unit_fmt *u, dbl_parser parse,
		      char *buf, size_t n)
{
	enum { EXACT_INT_MAX = 1000000000000000 }; /* 1e15: %.0f is exact */
	char best[64] = "", cand[64], num[48];
	for (; u->sfx; u++) {
		double x = v / u->mult;
		if (fabs(x) < (double)EXACT_INT_MAX) {
			snprintf(cand, sizeof cand, "%.0f%s", x, u->sfx);
			fmt_try(cand, v, parse, best, sizeof best);
		}
		for (int prec = 1; prec <= 17; prec++) {
			snprintf(num, sizeof num, "%.*g", prec, x);
			tidy_exponent(num);
			snprintf(cand, sizeof cand, "%s%s", num, u->sfx);
			if (fmt_try(cand, v, parse, best, sizeof best))
				break; /* more digits only get longer */
		}
	}
	if (!best[0]) /* cannot happen for finite v; keep it loadable anyway */
		snprintf(best, sizeof best, "%.17g", v);
	snprintf(buf, n, "%s", best);
}

static void fmt_size(int64_t b, char *buf, size_t n)
{
	static const struct {
		int64_t div;
		const char *sfx;
	} u[] = { { 1073741824, "GiB" }, { 1048576, "MiB" }, { 1024, "KiB" } };
	for (size_t i = 0; i < sizeof u / sizeof u[0]; i++)
		if (b != 0 && b % u[i].div == 0) {
			snprintf(buf, n, "%" PRId64 "%s", b / u[i].div, u[i].sfx);
			return;
		}
	snprintf(buf, n, "%" PRId64 "B", b);
}

static void fmt_pairs(const struct scn *s, const double *v, int is_rate,
		      char *buf, size_t n)
{
	size_t used = 0;
	buf[0] = '\0';
	for (int i = 0; i < s->cpu.n_counters && used < n; i++) {
		if (v[i] == 0.0)
			continue;
		char num[64];
		if (is_rate)
			fmt_exact(v[i], fmt_plain, units_parse_double, num, sizeof num);
		else
			fmt_exact(v[i], fmt_energy, units_parse_energy_j, num,
				  sizeof num);
		used += (size_t)snprintf(buf + used, n - used, "%s%s:%s",
					 used ? "," : "", s->cpu.counter[i], num);
	}
}

static void fmt_path(const char *p, char *buf, size_t n)
{
	char cwd[PATH_MAX];
	if (!p) {
		buf[0] = '\0';
	} else if (is_abs_or_stdin(p) || !getcwd(cwd, sizeof cwd)) {
		snprintf(buf, n, "%s", p);
	} else {
		size_t lc = strlen(cwd), lp = strlen(p);
		if (lc + 1 + lp >= n) {
			snprintf(buf, n, "%s", p); /* cannot grow: keep as given */
			return;
		}
		memcpy(buf, cwd, lc);
		buf[lc] = '/';
		memcpy(buf + lc + 1, p, lp + 1);
	}
}

static int put_line(FILE *f, const char *key, const char *value)
{
	size_t len = strlen(key) + 3 + strlen(value);
	if (len > SCN_LINE_MAX_B)
		fprintf(f, "; the next line is longer than %d bytes and will not "
			"reload\n", SCN_LINE_MAX_B);
	return fprintf(f, "%s =%s%s\n", key, value[0] ? " " : "", value) < 0
		       ? JV_EIO
		       : 0;
}

/* Text of one option instance of a loaded scenario. */
static void fmt_value(const struct scn *s, const struct scn_opt *o,
		      const void *base, char *buf, size_t n)
{
	switch (o->type) {
	case SCN_T_TIME:
		units_fmt_time_ns(*FLD(base, o->off, int64_t), buf);
		break;
	case SCN_T_SIZE:
		fmt_size(*FLD(base, o->off, int64_t), buf, n);
		break;
	case SCN_T_POWER:
		fmt_exact(*FLD(base, o->off, double), fmt_power,
			  units_parse_power_w, buf, n);
		break;
	case SCN_T_POWER_AUTO:
		if (*FLD(base, o->off2, int))
			snprintf(buf, n, "auto");
		else
			fmt_exact(*FLD(base, o->off, double), fmt_power,
				  units_parse_power_w, buf, n);
		break;
	case SCN_T_ENERGY:
		fmt_exact(*FLD(base, o->off, double), fmt_energy,
			  units_parse_energy_j, buf, n);
		break;
	case SCN_T_RATE:
		fmt_exact(*FLD(base, o->off, double), fmt_rate,
			  units_parse_rate_bps, buf, n);
		break;
	case SCN_T_FREQ:
		fmt_exact(*FLD(base, o->off, double), fmt_freq,
			  units_parse_freq_hz, buf, n);
		break;
	case SCN_T_DOUBLE:
		fmt_exact(*FLD(base, o->off, double), fmt_plain,
			  units_parse_double, buf, n);
		break;
	case SCN_T_INT:
		snprintf(buf, n, "%d", *FLD(base, o->off, int));
		break;
	case SCN_T_UINT32:
		snprintf(buf, n, "%" PRIu32, *FLD(base, o->off, uint32_t));
		break;
	case SCN_T_UINT64:
		snprintf(buf, n, "%" PRIu64, *FLD(base, o->off, uint64_t));
		break;
	case SCN_T_ENUM:
		if (o->flags & SCN_F_ENUM_STR)
			snprintf(buf, n, "%s", FLD(base, o->off, char));
		else
			snprintf(buf, n, "%s",
				 o->allowed[*FLD(base, o->off, int) - o->enum_base]);
		break;
	case SCN_T_STRING:
		snprintf(buf, n, "%s", FLD(base, o->off, char));
		break;
	case SCN_T_PATH:
		fmt_path(*FLD(base, o->off, char *), buf, n);
		break;
	case SCN_T_COUNTER_LIST: {
		size_t used = 0;
		buf[0] = '\0';
		for (int i = 0; i < s->cpu.n_counters && used < n; i++)
			used += (size_t)snprintf(buf + used, n - used, "%s%s",
						 i ? "," : "", s->cpu.counter[i]);
		break;
	}
	case SCN_T_WEIGHT_LIST:
	case SCN_T_RATE_LIST:
		fmt_pairs(s, FLD(base, o->off, double),
			  o->type == SCN_T_RATE_LIST, buf, n);
		break;
	case SCN_T_COUNTER: {
		int idx = *FLD(base, o->off, int);
		snprintf(buf, n, "%s", idx < 0 ? "none" : s->cpu.counter[idx]);
		break;
	}
	case SCN_T_DISK:
		snprintf(buf, n, "disk%d", *FLD(base, o->off, int));
		break;
	case SCN_T_PATH_LIST:
	case SCN_T_INCLUDE:
		buf[0] = '\0';
		break;
	}
}

static const void *const_base(const struct scn *s, int sec, int inst)
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

static int write_section(const struct scn *s, FILE *f, int sec, int inst)
{
	enum { VALUE_MAX = 2048 };
	char buf[VALUE_MAX];
	const void *base = const_base(s, sec, inst);
	int rc = 0;
	if (sec == SCN_SEC_VM)
		fprintf(f, "\n[vm %s]\n", s->vm[inst].name);
	else if (sec == SCN_SEC_CONTAINER)
		fprintf(f, "\n[container %s]\n", s->container[inst].name);
	else
		fprintf(f, "%s[%s]\n", sec == SCN_SEC_GLOBAL ? "" : "\n",
			scn_sec_names[sec]);
	for (int i = 0; i < scn_opt_count && !rc; i++) {
		const struct scn_opt *o = &scn_opt_table[i];
		if ((int)o->sec != sec || (o->flags & SCN_F_NO_WRITE))
			continue;
		if (sec == SCN_SEC_VM) {
			int drv = s->vm[inst].kind == SCN_VM_DRIVER;
			if (((o->flags & SCN_F_DRIVER_ONLY) && !drv) ||
			    ((o->flags & SCN_F_GUEST_ONLY) && drv))
				continue;
		}
		if (o->type == SCN_T_PATH_LIST) {
			char *const *list = FLD(base, o->off, char *const);
			int n = *FLD(base, o->off2, const int);
			for (int t = 0; t < n && !rc; t++) {
				fmt_path(list[t], buf, sizeof buf);
				rc = put_line(f, o->key, buf);
			}
			continue;
		}
		fmt_value(s, o, base, buf, sizeof buf);
		rc = put_line(f, o->key, buf);
	}
	return rc;
}

int scn_write_resolved(const struct scn *s, FILE *f)
{
	int rc = 0;
	fputs("; joulevisor scenario.resolved.ini: every option after defaults, "
	      "preset, file and --set\n", f);
	static const int order[] = { SCN_SEC_GLOBAL, SCN_SEC_MACHINE, SCN_SEC_CPU,
				     SCN_SEC_DISK };
	for (size_t i = 0; i < sizeof order / sizeof order[0] && !rc; i++)
		rc = write_section(s, f, order[i], 0);
	for (int i = 0; i < s->n_vms && !rc; i++)
		rc = write_section(s, f, SCN_SEC_VM, i);
	for (int i = 0; i < s->n_containers && !rc; i++)
		rc = write_section(s, f, SCN_SEC_CONTAINER, i);
	if (!rc)
		rc = write_section(s, f, SCN_SEC_MANAGER, 0);
	if (!rc)
		rc = write_section(s, f, SCN_SEC_OUTPUT, 0);
	if (!rc && (ferror(f) || fflush(f)))
		rc = JV_EIO;
	return rc;
}

/* ------------------------------------------------------------------ help */

static const char *type_name(int t)
{
	static const char *const names[] = {
		[SCN_T_TIME] = "time",          [SCN_T_POWER] = "power",
		[SCN_T_ENERGY] = "energy",      [SCN_T_SIZE] = "size",
		[SCN_T_RATE] = "rate",          [SCN_T_FREQ] = "freq",
		[SCN_T_DOUBLE] = "double",      [SCN_T_INT] = "int",
		[SCN_T_UINT32] = "int",         [SCN_T_UINT64] = "uint64",
		[SCN_T_ENUM] = "enum",          [SCN_T_STRING] = "string",
		[SCN_T_PATH] = "path",          [SCN_T_PATH_LIST] = "path-list",
		[SCN_T_COUNTER_LIST] = "counter-list",
		[SCN_T_WEIGHT_LIST] = "weight-list",
		[SCN_T_RATE_LIST] = "rate-list",
		[SCN_T_POWER_AUTO] = "power|auto", [SCN_T_COUNTER] = "counter",
		[SCN_T_DISK] = "disk",          [SCN_T_INCLUDE] = "path",
	};
	return names[t];
}

/* The preset values that replace option (sec, key)'s default. */
static void preset_defaults(const struct scn_opt *o, char *buf, size_t n)
{
	size_t used = 0;
	buf[0] = '\0';
	for (int p = 0; p < scn_preset_count; p++)
		for (int v = 0; v < scn_presets[p].n_vals; v++) {
			const struct scn_preset_val *pv = &scn_presets[p].vals[v];
			if (pv->sec == o->sec && !strcmp(pv->key, o->key) && used < n)
				used += (size_t)snprintf(buf + used, n - used,
							 " (%s: %s)",
							 scn_presets[p].name,
							 pv->value);
		}
}

void scn_print_help(FILE *f)
{
	fputs("Scenario files (INI). Syntax: `[section]` headers, `key = value` "
	      "lines,\n"
	      "comments start with ; or # (also `value ; comment`). Lines are at "
	      "most 199 bytes;\n"
	      "indented (continuation) lines are errors. Values take unit "
	      "suffixes:\n"
	      "  time ns us ms s min h; energy J mJ uJ nJ pJ kJ; power W mW uW kW;"
	      "\n  size B KiB MiB GiB KB MB GB (K M G = KiB MiB GiB); rate B/s KB/s "
	      "MB/s GB/s KiB/s MiB/s GiB/s;\n  freq Hz kHz MHz GHz; a bare "
	      "number is in the base unit.\n"
	      "Precedence, lowest first: default < [machine] preset < file < "
	      "--set.\n"
	      "[global] include = FILE reads FILE in place (relative to the "
	      "including file).\n"
	      "--set KEY=VALUE: KEY is section.key, vm.NAME.key or "
	      "container.VM/NAME.key.\n"
	      "Lists: counter-list `a,b,c`; weight-list `name:energy,...` "
	      "(J/event);\n"
	      "rate-list `name:number,...` (events per CPU second; not the TSC)."
	      "\n\nPresets:\n", f);
	for (int p = 0; p < scn_preset_count; p++)
		fprintf(f, "  %-11s %s\n", scn_presets[p].name, scn_presets[p].help);
	fputs("\nOptions:\n", f);
	for (int i = 0; i < scn_opt_count; i++) {
		const struct scn_opt *o = &scn_opt_table[i];
		char def[512], range[256] = "", presets[512];
		if (o->def_help)
			snprintf(def, sizeof def, "%s", o->def_help);
		else
			snprintf(def, sizeof def, "%s", o->def[0] ? o->def : "(none)");
		preset_defaults(o, presets, sizeof presets);
		if (o->allowed) {
			size_t used = (size_t)snprintf(range, sizeof range, "allowed:");
			for (int a = 0; o->allowed[a] && used < sizeof range; a++)
				used += (size_t)snprintf(range + used,
							 sizeof range - used, "%s%s",
							 a ? "|" : " ", o->allowed[a]);
		} else if (o->min || o->max) {
			snprintf(range, sizeof range, "%c%s, %s%c",
				 (o->flags & SCN_F_MIN_EXCL) ? '(' : '[',
				 o->min ? o->min : "-inf", o->max ? o->max : "inf",
				 (o->flags & SCN_F_MAX_EXCL) || !o->max ? ')' : ']');
		}
		fprintf(f, "[%s] %s  %s  default=%s%s%s%s  %s%s%s\n",
			sec_display(o->sec), o->key, type_name(o->type), def,
			presets, range[0] ? "  " : "", range, o->help,
			(o->flags & SCN_F_REPEATABLE) ? " (repeatable)" : "",
			(o->flags & SCN_F_DRIVER_ONLY) ? " (driver VMs only)"
			: (o->flags & SCN_F_GUEST_ONLY) ? " (guest VMs only)" : "");
	}
	fputs("[manager]  (no keys yet)\n", f);
}
