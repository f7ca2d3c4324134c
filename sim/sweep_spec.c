/*
 * sweep_spec: the sweep specification: parse --grid, --range, --seeds and
 * --shard, check the spec, and enumerate its points (count, shard
 * membership, the overrides and seed of the i-th point).
 *
 * The theory of operation: the top of sim/sweep.c; the other files of
 * sweep: sim/sweep_int.h.
 */
#include "sim/sweep_int.h"

/* ---- argument parsing ------------------------------------------------------ */

void sweep_axis_free(struct sweep_axis *a)
{
	free(a->buf);
	free(a->vals);
	memset(a, 0, sizeof *a);
}

void sweep_spec_free(struct sweep_spec *sp)
{
	for (int i = 0; i < sp->n_grid; i++)
		sweep_axis_free(&sp->grid[i]);
	for (int i = 0; i < sp->n_range; i++)
		sweep_axis_free(&sp->range[i]);
	free(sp->seeds);
	sp->seeds = NULL;
	sp->n_grid = sp->n_range = sp->n_seeds = 0;
}

/* Split "KEY=REST" into a->buf; returns REST or NULL (d set). */
static char *split_key(const char *opt, const char *arg, const char *want,
		       struct sweep_axis *a, struct jv_diag *d)
{
	memset(a, 0, sizeof *a);
	if (!(a->buf = strdup(arg))) {
		jv_diag_set(d, JV_ENOMEM, NULL, 0, "out of memory");
		return NULL;
	}
	char *eq = strchr(a->buf, '=');
	if (!eq || eq == a->buf || !eq[1]) {
		jv_diag_set(d, JV_EUSAGE, NULL, 0, "%s expects %s, got '%s'", opt, want, arg);
		sweep_axis_free(a);
		return NULL;
	}
	*eq = '\0';
	a->key = a->buf;
	return eq + 1;
}

int sweep_parse_grid(const char *arg, struct sweep_axis *a, struct jv_diag *d)
{
	char *list = split_key("--grid", arg, "KEY=V1,V2,...", a, d);
	if (!list)
		return d->err;
	int n = 1;
	for (const char *p = list; *p; p++)
		n += *p == ',';
	if (n > SWEEP_MAX_VALUES) {
		sweep_axis_free(a);
		return jv_diag_set(d, JV_ELIMIT, NULL, 0, "--grid %s: more than %d values",
				   arg, SWEEP_MAX_VALUES);
	}
	if (!(a->vals = calloc((size_t)n, sizeof *a->vals))) {
		sweep_axis_free(a);
		return jv_diag_set(d, JV_ENOMEM, NULL, 0, "out of memory");
	}
	for (char *s = list;;) {
		char *c = strchr(s, ',');
		if (c)
			*c = '\0';
		if (!*s) {
			int err = jv_diag_set(d, JV_EUSAGE, NULL, 0, "--grid %s: empty value", arg);
			sweep_axis_free(a);
			return err;
		}
		for (int j = 0; j < a->n_vals; j++)
			if (strcmp(a->vals[j], s) == 0) {
				int err = jv_diag_set(d, JV_EUSAGE, NULL, 0,
						      "--grid %s: value '%s' given twice", arg, s);
				sweep_axis_free(a);
				return err;
			}
		a->vals[a->n_vals++] = s;
		if (!c)
			break;
		s = c + 1;
	}
	return 0;
}

/* "12.5ms" -> 12.5, "ms"; integer when the number is only digits and a sign. */
static int parse_bound(const char *s, double *v, char *unit, size_t cap, int *integer)
{
	char *end;
	errno = 0;
	*v = strtod(s, &end);
	if (end == s || errno || !isfinite(*v) || (size_t)strlen(end) >= cap)
		return -1;
	*integer = 1;
	for (const char *p = s; p < end; p++)
		if (!(*p >= '0' && *p <= '9') && !(p == s && (*p == '-' || *p == '+')))
			*integer = 0;
	for (const char *p = end; *p; p++)
		if (*p == ' ' || *p == '\t')
			return -1;
	strcpy(unit, end);
	return 0;
}

int sweep_parse_range(const char *arg, struct sweep_axis *a, struct jv_diag *d)
{
	char *rest = split_key("--range", arg, "KEY=LO:HI[:log]", a, d);
	if (!rest)
		return d->err;
	char *hi = strchr(rest, ':');
	char *mode = hi ? strchr(hi + 1, ':') : NULL;
	char u2[sizeof a->unit];
	int i1, i2;
	double h;
	if (hi)
		*hi++ = '\0';
	if (mode)
		*mode++ = '\0';
	if (!hi || (mode && strcmp(mode, "log") != 0) ||
	    parse_bound(rest, &a->lo, a->unit, sizeof a->unit, &i1) ||
	    parse_bound(hi, &h, u2, sizeof u2, &i2)) {
		int err = jv_diag_set(d, JV_EUSAGE, NULL, 0,
				      "--range expects KEY=LO:HI[:log] with numbers LO <= HI (an "
				      "optional unit, the same on both), got '%s'",
				      arg);
		sweep_axis_free(a);
		return err;
	}
	a->hi = h;
	a->integer = i1 && i2;
	a->log = mode != NULL;
	const char *why = strcmp(a->unit, u2) != 0 ? "LO and HI have different units"
			  : a->lo > a->hi		 ? "LO is above HI"
			  : a->log && a->lo <= 0	 ? ":log needs LO > 0"
							 : NULL;
	if (why) {
		int err = jv_diag_set(d, JV_EUSAGE, NULL, 0, "--range %s: %s", arg, why);
		sweep_axis_free(a);
		return err;
	}
	return 0;
}

int sweep_int_parse_u64(const char *s, const char *end, uint64_t *v)
{
	char buf[32];
	if (end - s <= 0 || end - s >= (long)sizeof buf)
		return -1;
	memcpy(buf, s, (size_t)(end - s));
	buf[end - s] = '\0';
	for (const char *p = buf; *p; p++)
		if (*p < '0' || *p > '9')
			return -1;
	char *e;
	errno = 0;
	unsigned long long x = strtoull(buf, &e, 10);
	if (errno || *e)
		return -1;
	*v = x;
	return 0;
}

int sweep_parse_seeds(const char *arg, uint64_t **seeds, int *n, struct jv_diag *d)
{
	uint64_t *v = NULL;
	int cap = 0, cnt = 0;
	const char *s = arg;
	*seeds = NULL;
	*n = 0;
	while (1) {
		const char *c = strchr(s, ',');
		const char *e = c ? c : s + strlen(s);
		const char *dash = memchr(s, '-', (size_t)(e - s));
		uint64_t lo, hi;
		if (dash ? sweep_int_parse_u64(s, dash, &lo) || sweep_int_parse_u64(dash + 1, e, &hi) || hi < lo
			 : sweep_int_parse_u64(s, e, &lo)) {
			free(v);
			return jv_diag_set(d, JV_EUSAGE, NULL, 0,
					   "--seeds expects N, FIRST-LAST or a comma list of them, "
					   "got '%s'",
					   arg);
		}
		if (!dash)
			hi = lo;
		if (hi - lo >= (uint64_t)SWEEP_MAX_SEEDS || cnt + (int)(hi - lo) + 1 > SWEEP_MAX_SEEDS) {
			free(v);
			return jv_diag_set(d, JV_ELIMIT, NULL, 0, "--seeds %s: more than %d seeds",
					   arg, SWEEP_MAX_SEEDS);
		}
		for (uint64_t x = lo;; x++) {
			for (int j = 0; j < cnt; j++)
				if (v[j] == x) {
					free(v);
					return jv_diag_set(d, JV_EUSAGE, NULL, 0,
							   "--seeds %s: seed %" PRIu64 " given twice",
							   arg, x);
				}
			if (cnt == cap) {
				cap = cap ? 2 * cap : 16;
				uint64_t *p = realloc(v, (size_t)cap * sizeof *p);
				if (!p) {
					free(v);
					return jv_diag_set(d, JV_ENOMEM, NULL, 0, "out of memory");
				}
				v = p;
			}
			v[cnt++] = x;
			if (x == hi)
				break;
		}
		if (!c)
			break;
		s = c + 1;
	}
	*seeds = v;
	*n = cnt;
	return 0;
}

int sweep_parse_shard(const char *arg, int *k, int *n, struct jv_diag *d)
{
	const char *slash = strchr(arg, '/');
	uint64_t a, b;
	if (!slash || sweep_int_parse_u64(arg, slash, &a) || sweep_int_parse_u64(slash + 1, slash + strlen(slash), &b) ||
	    a < 1 || a > b || b > SWEEP_MAX_POINTS)
		return jv_diag_set(d, JV_EUSAGE, NULL, 0,
				   "--shard expects K/N with 1 <= K <= N <= %d, got '%s'",
				   SWEEP_MAX_POINTS, arg);
	*k = (int)a;
	*n = (int)b;
	return 0;
}

/* ---- points ------------------------------------------------------------------ */

static const char *dup_key(const struct sweep_spec *sp)
{
	const char *keys[SWEEP_MAX_SET + 2 * SWEEP_MAX_AXES];
	int n = 0;
	for (int i = 0; i < sp->n_set && n < (int)(sizeof keys / sizeof keys[0]); i++)
		keys[n++] = sp->set[i].key;
	for (int i = 0; i < sp->n_grid; i++)
		keys[n++] = sp->grid[i].key;
	for (int i = 0; i < sp->n_range; i++)
		keys[n++] = sp->range[i].key;
	for (int i = 0; i < n; i++)
		for (int j = 0; j < i; j++)
			if (strcmp(keys[i], keys[j]) == 0)
				return keys[i];
	return NULL;
}

int sweep_check_spec(const struct sweep_spec *sp, struct jv_diag *d)
{
	const char *k = dup_key(sp);
	if (k)
		return jv_diag_set(d, JV_EUSAGE, NULL, 0,
				   "key '%s' is given more than once (--set, --grid, --range)", k);
	if (sp->n_seeds) {
		for (int i = 0; i < sp->n_set; i++)
			if (!strcmp(sp->set[i].key, "global.seed"))
				return jv_diag_set(d, JV_EUSAGE, NULL, 0,
						   "--seeds and --set global.seed exclude each other");
		for (int i = 0; i < sp->n_grid; i++)
			if (!strcmp(sp->grid[i].key, "global.seed"))
				return jv_diag_set(d, JV_EUSAGE, NULL, 0,
						   "--seeds and --grid global.seed exclude each other");
	}
	if ((sp->n_random > 0) != (sp->n_range > 0))
		return jv_diag_set(d, JV_EUSAGE, NULL, 0,
				   "--random K and --range KEY=LO:HI go together");
	if (sp->shard_n < 1 || sp->shard_k < 1 || sp->shard_k > sp->shard_n)
		return jv_diag_set(d, JV_EUSAGE, NULL, 0, "bad shard %d/%d", sp->shard_k,
				   sp->shard_n);
	uint64_t n = sweep_n_points(sp);
	if (n == 0)
		return jv_diag_set(d, JV_ELIMIT, NULL, 0, "more than %d points in the sweep",
				   SWEEP_MAX_POINTS);
	return 0;
}

uint64_t sweep_n_points(const struct sweep_spec *sp)
{
	uint64_t n = 1;
	for (int i = 0; i < sp->n_grid; i++) {
		n *= (uint64_t)sp->grid[i].n_vals;
		if (n > SWEEP_MAX_POINTS)
			return 0;
	}
	n *= (uint64_t)(sp->n_random > 0 ? sp->n_random : 1);
	if (n > SWEEP_MAX_POINTS)
		return 0;
	n *= (uint64_t)(sp->n_seeds > 0 ? sp->n_seeds : 1);
	return n > SWEEP_MAX_POINTS ? 0 : n;
}

int sweep_in_shard(const struct sweep_spec *sp, uint64_t i)
{
	return sp->shard_n <= 1 || i % (uint64_t)sp->shard_n == (uint64_t)(sp->shard_k - 1);
}

static void sample_value(const struct sweep_axis *a, uint64_t rnd, char *out, size_t cap)
{
	double u = (double)(rnd >> 11) * 0x1.0p-53; /* [0, 1) */
	double v;
	if (a->log)
		v = exp(log(a->lo) + u * (log(a->integer ? a->hi + 1 : a->hi) - log(a->lo)));
	else
		v = a->lo + u * (a->integer ? a->hi - a->lo + 1 : a->hi - a->lo);
	if (a->integer) {
		double f = floor(v);
		if (f > a->hi)
			f = a->hi;
		if (f < a->lo)
			f = a->lo;
		snprintf(out, cap, "%.0f%s", f, a->unit);
	} else {
		snprintf(out, cap, "%.6g%s", v, a->unit);
	}
}

void sweep_point(const struct sweep_spec *sp, uint64_t i, struct sweep_point *p)
{
	uint64_t n_s = (uint64_t)(sp->n_seeds > 0 ? sp->n_seeds : 1);
	uint64_t n_r = (uint64_t)(sp->n_random > 0 ? sp->n_random : 1);
	uint64_t si = i % n_s, rest = i / n_s;
	uint64_t ri = rest % n_r;
	int gidx[SWEEP_MAX_AXES];
	rest /= n_r;
	for (int a = sp->n_grid - 1; a >= 0; a--) {
		gidx[a] = (int)(rest % (uint64_t)sp->grid[a].n_vals);
		rest /= (uint64_t)sp->grid[a].n_vals;
	}
	p->index = i;
	p->n_ov = 0;
	for (int k = 0; k < sp->n_set && p->n_ov < SWEEP_MAX_SET; k++)
		p->ov[p->n_ov++] = sp->set[k];
	for (int a = 0; a < sp->n_grid; a++)
		p->ov[p->n_ov++] = (struct scn_override){sp->grid[a].key, sp->grid[a].vals[gidx[a]]};
	if (sp->n_random > 0)
		for (int r = 0; r < sp->n_range; r++) {
			uint64_t rnd = sweep_int_mix64(sweep_int_mix64(sp->random_seed) ^
						       sweep_int_mix64(ri * SWEEP_MAX_AXES + (uint64_t)r + 1));
			sample_value(&sp->range[r], rnd, p->text[r], sizeof p->text[r]);
			p->ov[p->n_ov++] = (struct scn_override){sp->range[r].key, p->text[r]};
		}
	if (sp->n_seeds > 0) {
		snprintf(p->text[SWEEP_MAX_AXES], sizeof p->text[0], "%" PRIu64, sp->seeds[si]);
		p->ov[p->n_ov++] = (struct scn_override){"global.seed", p->text[SWEEP_MAX_AXES]};
	}
}
