/*
 * scenario_parse: parse one option value and set an option instance from
 * its text (numbers with units, ranges, enums, lists, paths).
 *
 * The loader's theory of operation: the top of sim/scenario.c; its
 * other files: sim/scenario_int.h.
 */
#include "sim/scenario_int.h"

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
				 SCN_QUOTE_MAX, scn_int_skip_ws(text),
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
	const char *p = scn_int_skip_ws(text);
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
	if (*scn_int_skip_ws(end)) {
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
	if (scn_int_trim_copy(text, strlen(text), v, sizeof v))
		v[0] = '\0';
	const char *best = NULL;
	size_t bd = SIZE_MAX;
	for (int i = 0; o->allowed[i]; i++) {
		if (!strcmp(o->allowed[i], v)) {
			*idx = i;
			return 0;
		}
		scn_int_consider(v, o->allowed[i], &best, &bd);
	}
	size_t used = (size_t)snprintf(why, whyn, "unknown value '%.*s' (valid:",
				       SCN_QUOTE_MAX, scn_int_skip_ws(text));
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
	const char *p = scn_int_skip_ws(text);
	if (!*p)
		return 0;
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (*n >= max) {
			snprintf(why, whyn, "more than %d items", max);
			return JV_ELIMIT;
		}
		if (scn_int_trim_copy(p, len, items[*n], SCN_LINE_MAX_B + 1)) {
			snprintf(why, whyn, "item too long");
			return JV_EPARSE;
		}
		if (!items[*n][0]) {
			snprintf(why, whyn, "empty item in '%.*s'",
				 SCN_QUOTE_MAX, scn_int_skip_ws(text));
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
		if (!scn_int_valid_name(items[i])) {
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
int scn_int_parse_pairs(const char *text, int is_rate, struct pair *out, int *n,
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
		scn_int_trim_copy(items[i], (size_t)(colon - items[i]), name, sizeof name);
		if (!scn_int_valid_name(name)) {
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
				 SCN_QUOTE_MAX, scn_int_skip_ws(colon + 1));
			return JV_ERANGE;
		}
	}
	return 0;
}

static int parse_disk(const char *text, int *out, char *why, size_t whyn)
{
	char v[SCN_NAME_MAX];
	if (scn_int_trim_copy(text, strlen(text), v, sizeof v) ||
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
		 SCN_QUOTE_MAX, scn_int_skip_ws(text));
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
				 SCN_QUOTE_MAX, scn_int_skip_ws(value));
			return JV_ERANGE;
		}
		*FLD(base, o->off, int) = (int)iv;
		break;
	case SCN_T_UINT32:
		if (iv < 0 || iv > (int64_t)UINT32_MAX) {
			snprintf(why, whyn, "%.*s does not fit 32 bits",
				 SCN_QUOTE_MAX, scn_int_skip_ws(value));
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
	if (scn_int_trim_copy(value, strlen(value), v, sizeof v) || strlen(v) >= o->size) {
		snprintf(why, whyn, "'%.*s' is too long (max %zu characters)",
			 SCN_QUOTE_MAX, scn_int_skip_ws(value), o->size - 1);
		return JV_ELIMIT;
	}
	if (!v[0] && !(o->flags & SCN_F_EMPTY_OK)) {
		snprintf(why, whyn, "empty value");
		return JV_EPARSE;
	}
	if (v[0] && (o->flags & SCN_F_NAME) && !scn_int_valid_name(v)) {
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
	if (scn_int_trim_copy(value, strlen(value), v, sizeof v)) {
		snprintf(why, whyn, "path too long");
		return JV_ELIMIT;
	}
	*out = NULL;
	if (!v[0])
		return 0;
	*out = scn_int_path_join(org->src == SRC_FILE ? org->dir : NULL, v);
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
	if (org->src == SRC_SET && scn_int_org_at(L, opt, slot)->src != SRC_SET) {
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
int scn_int_opt_set(struct ld *L, int opt, int slot, const char *value,
		    const struct origin *org)
{
	const struct scn_opt *o = &scn_opt_table[opt];
	void *base = scn_int_slot_base(L, o, slot);
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
		if (!scn_int_trim_copy(value, strlen(value), v, sizeof v) &&
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
		rc = scn_int_parse_pairs(value, o->type == SCN_T_RATE_LIST, pairs, &n,
					 why, sizeof why);
		break; /* resolved against the counters by scn_int_finalize() */
	}
	case SCN_T_COUNTER: {
		char v[SCN_LINE_MAX_B + 1];
		scn_int_trim_copy(value, strlen(value), v, sizeof v);
		if (!scn_int_valid_name(v)) {
			snprintf(why, sizeof why, "bad counter name '%.*s'",
				 SCN_QUOTE_MAX, v);
			rc = JV_EPARSE;
		}
		break; /* resolved by scn_int_finalize() */
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
		return scn_int_nomem(L);
	if (rc)
		return scn_int_opt_err(L, org->src <= SRC_PRESET ? JV_EINVARIANT : rc,
				       opt, slot, org, "%s", why);
	char **raw = scn_int_raw_at(L, opt, slot);
	char *copy = scn_int_xstrdup(value);
	if (!copy)
		return scn_int_nomem(L);
	free(*raw);
	*raw = copy;
	*scn_int_org_at(L, opt, slot) = *org;
	return 0;
}
