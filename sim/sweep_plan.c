/*
 * sweep_plan: the plan: every point of the sweep and this shard's, with
 * their point keys, repeats and whether the database already holds them
 * complete; the values checked by loading the scenario.
 *
 * The theory of operation: the top of sim/sweep.c; the other files of
 * sweep: sim/sweep_int.h.
 */
#include "sim/sweep_int.h"

/* ---- the plan: every point of the sweep, this shard's, their state ---------- */

void sweep_int_plan_free(struct plan *pl)
{
	for (size_t i = 0; i < pl->n; i++) {
		free(pl->pt[i].key);
		free(pl->pt[i].canon);
	}
	free(pl->pt);
	free(pl->scenario_name);
	memset(pl, 0, sizeof *pl);
}

/* qsort has no context argument; plan_build is not reentrant anyway (one
 * sweep per process). */
static char **sort_keys;

static int cmp_index_by_key(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	int c = strcmp(sort_keys[x], sort_keys[y]);
	return c ? c : (x < y ? -1 : x > y);
}

/* Load the scenario with ov; on error d holds "WHAT: <scenario message>". */
int sweep_int_try_load(const char *scenario, const struct scn_override *ov, int n, const char *what,
		       struct scn **out, struct jv_diag *d)
{
	struct jv_diag ld;
	jv_diag_clear(&ld);
	struct scn *s = NULL;
	int err = scn_load(scenario, ov, n, &s, &ld);
	if (err) {
		if (what)
			return jv_diag_set(d, err, NULL, 0, "%s: %s", what, ld.msg);
		*d = ld;
		return err;
	}
	if (out)
		*out = s;
	else
		scn_free(s);
	return 0;
}

/* Every grid value and range bound alone on top of --set. */
static int validate_values(const struct sweep_spec *sp, struct jv_diag *d)
{
	struct scn_override ov[SWEEP_MAX_SET + 1];
	char what[256], bound[SWEEP_VALUE_MAX];
	int n = 0, err;
	for (int i = 0; i < sp->n_set && n < SWEEP_MAX_SET; i++)
		ov[n++] = sp->set[i];
	for (int a = 0; a < sp->n_grid; a++)
		for (int v = 0; v < sp->grid[a].n_vals; v++) {
			ov[n] = (struct scn_override){sp->grid[a].key, sp->grid[a].vals[v]};
			snprintf(what, sizeof what, "--grid %s=%s", sp->grid[a].key, sp->grid[a].vals[v]);
			if ((err = sweep_int_try_load(sp->scenario, ov, n + 1, what, NULL, d)))
				return err;
		}
	for (int r = 0; r < sp->n_range; r++)
		for (int b = 0; b < 2; b++) {
			const struct sweep_axis *ax = &sp->range[r];
			double x = b ? ax->hi : ax->lo;
			if (ax->integer)
				snprintf(bound, sizeof bound, "%.0f%s", x, ax->unit);
			else
				snprintf(bound, sizeof bound, "%.6g%s", x, ax->unit);
			ov[n] = (struct scn_override){ax->key, bound};
			snprintf(what, sizeof what, "--range %s (bound %s)", ax->key, bound);
			if ((err = sweep_int_try_load(sp->scenario, ov, n + 1, what, NULL, d)))
				return err;
		}
	return 0;
}

int sweep_int_plan_build(const struct sweep_spec *sp, struct plan *pl, struct jv_diag *d)
{
	struct scn *s = NULL;
	struct sweep_point *p = malloc(sizeof *p);
	char **keys = NULL;
	int err;
	memset(pl, 0, sizeof *pl);
	if (!p)
		return jv_diag_set(d, JV_ENOMEM, NULL, 0, "out of memory");
	if ((err = sweep_int_try_load(sp->scenario, sp->set, sp->n_set, NULL, &s, d)))
		goto out;
	pl->base_seed = s->global.seed;
	pl->scenario_name = strdup(s->global.name);
	scn_free(s);
	if (!pl->scenario_name) {
		err = jv_diag_set(d, JV_ENOMEM, NULL, 0, "out of memory");
		goto out;
	}
	if ((err = validate_values(sp, d)))
		goto out;
	pl->n_total = sweep_n_points(sp);
	keys = calloc(pl->n_total, sizeof *keys);
	pl->pt = calloc(pl->n_total, sizeof *pl->pt);
	if (!keys || !pl->pt) {
		err = jv_diag_set(d, JV_ENOMEM, NULL, 0, "out of memory");
		goto out;
	}
	/* keys of every point (all shards): a repeat is dropped everywhere */
	for (uint64_t i = 0; i < pl->n_total; i++) {
		char *canon;
		sweep_point(sp, i, p);
		uint64_t seed = sp->n_seeds ? sp->seeds[i % (uint64_t)sp->n_seeds] : pl->base_seed;
		if (db_canon_overrides(p->ov, p->n_ov, &canon) ||
		    db_point_key(pl->scenario_name, seed, canon, &keys[i])) {
			free(canon);
			err = jv_diag_set(d, JV_ENOMEM, NULL, 0, "out of memory");
			goto out;
		}
		if (sweep_in_shard(sp, i)) {
			struct plan_pt *q = &pl->pt[pl->n++];
			q->index = i;
			q->canon = canon;
			q->key = strdup(keys[i]);
			if (!q->key) {
				err = jv_diag_set(d, JV_ENOMEM, NULL, 0, "out of memory");
				goto out;
			}
			snprintf(q->id, sizeof q->id, "%016" PRIx64,
				 (uint64_t)XXH64(q->key, strlen(q->key), 0));
		} else {
			free(canon);
		}
	}
	/* repeats: sort indices by (key, index), mark all but the first of a key */
	uint64_t *order = malloc(pl->n_total * sizeof *order);
	char *repeat = calloc(pl->n_total, 1);
	if (!order || !repeat) {
		free(order);
		free(repeat);
		err = jv_diag_set(d, JV_ENOMEM, NULL, 0, "out of memory");
		goto out;
	}
	for (uint64_t i = 0; i < pl->n_total; i++)
		order[i] = i;
	sort_keys = keys;
	qsort(order, pl->n_total, sizeof *order, cmp_index_by_key);
	sort_keys = NULL;
	for (uint64_t i = 1; i < pl->n_total; i++)
		if (strcmp(keys[order[i]], keys[order[i - 1]]) == 0) {
			repeat[order[i]] = 1;
			pl->n_dup_total++;
		}
	for (size_t k = 0; k < pl->n; k++)
		pl->pt[k].dup = repeat[pl->pt[k].index];
	free(order);
	free(repeat);
out:
	if (keys)
		for (uint64_t i = 0; i < pl->n_total; i++)
			free(keys[i]);
	free(keys);
	free(p);
	return err;
}

/* Mark the points already complete in the database. */
int sweep_int_plan_mark_complete(struct plan *pl, struct db *db, struct jv_diag *d)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db_sqlite(db),
			       "SELECT status FROM run WHERE point_key = ?1", -1, &st, NULL) != SQLITE_OK)
		return db_error(db, d, "reading runs");
	for (size_t i = 0; i < pl->n; i++) {
		sqlite3_reset(st);
		if (sqlite3_bind_text(st, 1, pl->pt[i].key, -1, SQLITE_TRANSIENT) != SQLITE_OK) {
			sqlite3_finalize(st);
			return db_error(db, d, "reading runs");
		}
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			pl->pt[i].complete =
				strcmp((const char *)sqlite3_column_text(st, 0), "complete") == 0;
		else if (rc != SQLITE_DONE) {
			sqlite3_finalize(st);
			return db_error(db, d, "reading runs");
		}
	}
	sqlite3_finalize(st);
	return 0;
}
