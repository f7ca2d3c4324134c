/*
 * db_copy: copy runs between databases: the run row, its metrics and its
 * rows of every data table, creating or checking the destination's tables.
 *
 * The theory of operation: the top of sim/db.c; the other files of
 * the run store tools: sim/db_int.h.
 */
#include "sim/db_int.h"

/* ---- copying runs ------------------------------------------------------------ */

struct ctab {
	char *name;
	int ncols;      /* without run_id */
	char **cols;
	char **types;
	sqlite3_stmt *sel; /* on src */
	sqlite3_stmt *ins; /* on dst */
};

struct db_copy {
	struct db *dst, *src;
	struct ctab *t;
	int nt;
	sqlite3_stmt *sel_run, *ins_run, *find_key;
};

void db_int_free_strv(char **v, int n)
{
	if (!v)
		return;
	for (int i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Columns of table NAME (all, run_id included) from PRAGMA table_info. */
int db_int_table_columns(struct db *db, const char *name, char ***cols, char ***types,
			 int *n, struct jv_diag *d)
{
	struct sbuf q = {0};
	sqlite3_stmt *st = NULL;
	int cap = 0, rc, err = 0;
	*cols = *types = NULL;
	*n = 0;
	db_int_sb_add(&q, "PRAGMA table_info(");
	db_int_sb_ident(&q, name, "");
	db_int_sb_add(&q, ")");
	if (q.oom) {
		free(q.s);
		return jv_diag_set(d, JV_ENOMEM, db->path, 0, "out of memory");
	}
	if (sqlite3_prepare_v2(db->h, q.s, -1, &st, NULL) != SQLITE_OK) {
		err = db_error(db, d, "reading table columns");
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *cn = (const char *)sqlite3_column_text(st, 1);
		const char *ct = (const char *)sqlite3_column_text(st, 2);
		if (*n == cap) {
			cap = cap ? 2 * cap : 16;
			char **c2 = realloc(*cols, (size_t)cap * sizeof *c2);
			if (c2)
				*cols = c2;
			char **t2 = c2 ? realloc(*types, (size_t)cap * sizeof *t2) : NULL;
			if (t2)
				*types = t2;
			if (!c2 || !t2) {
				err = jv_diag_set(d, JV_ENOMEM, db->path, 0, "out of memory");
				goto out;
			}
		}
		(*cols)[*n] = strdup(cn ? cn : "");
		(*types)[*n] = strdup(ct ? ct : "");
		(*n)++;
		if (!(*cols)[*n - 1] || !(*types)[*n - 1]) {
			err = jv_diag_set(d, JV_ENOMEM, db->path, 0, "out of memory");
			goto out;
		}
	}
	if (rc != SQLITE_DONE)
		err = db_error(db, d, "reading table columns");
out:
	sqlite3_finalize(st);
	free(q.s);
	if (err) {
		db_int_free_strv(*cols, *n);
		db_int_free_strv(*types, *n);
		*cols = *types = NULL;
		*n = 0;
	}
	return err;
}

static int is_col_type(const char *t)
{
	return strcmp(t, "INTEGER") == 0 || strcmp(t, "REAL") == 0 || strcmp(t, "TEXT") == 0;
}

/* "(run_id INTEGER, t_ns INTEGER, ...)" for messages. */
static char *describe_cols(char **cols, char **types, int n)
{
	struct sbuf b = {0};
	for (int i = 0; i < n; i++) {
		db_int_sb_add(&b, i ? ", " : "");
		db_int_sb_add(&b, cols[i]);
		db_int_sb_add(&b, " ");
		db_int_sb_add(&b, types[i]);
	}
	return db_int_sb_take(&b);
}

static int create_table(struct db *db, const struct ctab *t, struct jv_diag *d)
{
	struct sbuf q = {0};
	db_int_sb_add(&q, "CREATE TABLE ");
	db_int_sb_ident(&q, t->name, "");
	db_int_sb_add(&q, "(run_id INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE");
	for (int k = 0; k < t->ncols; k++) {
		db_int_sb_add(&q, ", ");
		db_int_sb_ident(&q, t->cols[k], "");
		db_int_sb_add(&q, " ");
		db_int_sb_add(&q, t->types[k]);
	}
	db_int_sb_add(&q, ");CREATE INDEX IF NOT EXISTS ");
	db_int_sb_ident(&q, t->name, "_run_id_idx");
	db_int_sb_add(&q, " ON ");
	db_int_sb_ident(&q, t->name, "");
	db_int_sb_add(&q, "(run_id)");
	if (q.oom) {
		free(q.s);
		return jv_diag_set(d, JV_ENOMEM, db->path, 0, "out of memory");
	}
	int err = db_int_exec(db, q.s, "creating a table", d);
	free(q.s);
	return err;
}

/* dst has table t? Create it, or check its columns equal the source's. */
static int ensure_dst_table(struct db_copy *c, const struct ctab *t, char **scols,
			    char **stypes, int sn, struct jv_diag *d)
{
	char **cols, **types;
	int n, err;
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(c->dst->h,
			       "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?1"
			       " COLLATE NOCASE",
			       -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_bind_text(st, 1, t->name, -1, SQLITE_TRANSIENT) != SQLITE_OK) {
		sqlite3_finalize(st);
		return db_error(c->dst, d, "reading schema");
	}
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return create_table(c->dst, t, d);
	if (rc != SQLITE_ROW)
		return db_error(c->dst, d, "reading schema");
	if ((err = db_int_table_columns(c->dst, t->name, &cols, &types, &n, d)))
		return err;
	int same = n == sn;
	for (int i = 0; same && i < n; i++)
		same = strcmp(cols[i], scols[i]) == 0 && strcmp(types[i], stypes[i]) == 0;
	if (!same) {
		char *have = describe_cols(cols, types, n), *want = describe_cols(scols, stypes, sn);
		err = jv_diag_set(d, JV_EDB, c->dst->path, 0,
				  "table '%s' has columns (%s) but %s has (%s)", t->name,
				  have ? have : "?", c->src->path, want ? want : "?");
		free(have);
		free(want);
	}
	db_int_free_strv(cols, n);
	db_int_free_strv(types, n);
	return err;
}

static int prepare_table(struct db_copy *c, struct ctab *t, struct jv_diag *d)
{
	struct sbuf s = {0}, i = {0};
	db_int_sb_add(&s, "SELECT ");
	db_int_sb_add(&i, "INSERT INTO ");
	db_int_sb_ident(&i, t->name, "");
	db_int_sb_add(&i, "(run_id");
	for (int k = 0; k < t->ncols; k++) {
		db_int_sb_add(&s, k ? ", " : "");
		db_int_sb_ident(&s, t->cols[k], "");
		db_int_sb_add(&i, ", ");
		db_int_sb_ident(&i, t->cols[k], "");
	}
	db_int_sb_add(&s, " FROM ");
	db_int_sb_ident(&s, t->name, "");
	db_int_sb_add(&s, " WHERE run_id = ?1 ORDER BY rowid");
	db_int_sb_add(&i, ") VALUES(?1");
	for (int k = 0; k < t->ncols; k++) {
		char p[16];
		snprintf(p, sizeof p, ", ?%d", k + 2);
		db_int_sb_add(&i, p);
	}
	db_int_sb_add(&i, ")");
	int err = 0;
	if (s.oom || i.oom)
		err = jv_diag_set(d, JV_ENOMEM, c->dst->path, 0, "out of memory");
	else if (sqlite3_prepare_v2(c->src->h, s.s, -1, &t->sel, NULL) != SQLITE_OK)
		err = db_error(c->src, d, "reading a table");
	else if (sqlite3_prepare_v2(c->dst->h, i.s, -1, &t->ins, NULL) != SQLITE_OK)
		err = db_error(c->dst, d, "preparing an insert");
	free(s.s);
	free(i.s);
	return err;
}

/* One source table: check it, make dst ready, prepare the statements. */
static int add_table(struct db_copy *c, const char *name, struct jv_diag *d)
{
	char **cols = NULL, **types = NULL;
	int n = 0, err;
	if (!db_int_is_ident(name))
		return jv_diag_set(d, JV_EDB, c->src->path, 0,
				   "table name '%s' is not an identifier (not a run table)", name);
	if ((err = db_int_table_columns(c->src, name, &cols, &types, &n, d)))
		return err;
	if (n < 1 || strcmp(cols[0], "run_id") != 0 || strcmp(types[0], "INTEGER") != 0) {
		err = jv_diag_set(d, JV_EDB, c->src->path, 0,
				  "table '%s' is not a run table (its first column is not run_id "
				  "INTEGER)",
				  name);
		goto out;
	}
	for (int k = 1; k < n; k++)
		if (!db_int_is_ident(cols[k]) || !is_col_type(types[k])) {
			err = jv_diag_set(d, JV_EDB, c->src->path, 0,
					  "table '%s': column '%s %s' is not an identifier of type "
					  "INTEGER, REAL or TEXT",
					  name, cols[k], types[k]);
			goto out;
		}
	struct ctab *nt = realloc(c->t, (size_t)(c->nt + 1) * sizeof *nt);
	if (!nt) {
		err = jv_diag_set(d, JV_ENOMEM, c->dst->path, 0, "out of memory");
		goto out;
	}
	c->t = nt;
	struct ctab *t = &c->t[c->nt];
	memset(t, 0, sizeof *t);
	c->nt++;
	if (!(t->name = strdup(name)) || !(t->cols = calloc((size_t)n, sizeof *t->cols)) ||
	    !(t->types = calloc((size_t)n, sizeof *t->types))) {
		err = jv_diag_set(d, JV_ENOMEM, c->dst->path, 0, "out of memory");
		goto out;
	}
	for (int k = 1; k < n; k++) {
		t->cols[t->ncols] = cols[k];
		t->types[t->ncols] = types[k];
		cols[k] = types[k] = NULL;
		t->ncols++;
	}
	/* cols[0]/types[0] (run_id) are still ours; rebuild a full view for the check */
	char **fc = calloc((size_t)n, sizeof *fc), **ft = calloc((size_t)n, sizeof *ft);
	if (!fc || !ft) {
		free(fc);
		free(ft);
		err = jv_diag_set(d, JV_ENOMEM, c->dst->path, 0, "out of memory");
		goto out;
	}
	fc[0] = cols[0];
	ft[0] = types[0];
	for (int k = 1; k < n; k++) {
		fc[k] = t->cols[k - 1];
		ft[k] = t->types[k - 1];
	}
	err = ensure_dst_table(c, t, fc, ft, n, d);
	free(fc);
	free(ft);
	if (!err)
		err = prepare_table(c, t, d);
out:
	db_int_free_strv(cols, n);
	db_int_free_strv(types, n);
	return err;
}

static const char SEL_RUN_SQL[] =
	"SELECT scenario_name, scenario_file, scenario_text, seed, command_line, tool_version,"
	" started_at, status, overrides, point_key, out_dir FROM run WHERE id = ?1";
static const char INS_RUN_SQL[] =
	"INSERT INTO run(scenario_name, scenario_file, scenario_text, seed, command_line,"
	" tool_version, started_at, status, overrides, point_key, out_dir)"
	" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";

int db_copy_open(struct db *dst, struct db *src, unsigned flags, struct db_copy **out,
		 struct jv_diag *d)
{
	sqlite3_stmt *st = NULL;
	int err = 0, rc;
	*out = NULL;
	struct db_copy *c = calloc(1, sizeof *c);
	if (!c)
		return jv_diag_set(d, JV_ENOMEM, dst->path, 0, "out of memory");
	c->dst = dst;
	c->src = src;
	if (sqlite3_prepare_v2(src->h,
			       "SELECT name FROM main.sqlite_master WHERE type='table' AND name NOT IN"
			       " ('run', 'schema_version') AND name NOT LIKE 'sqlite%' ORDER BY name",
			       -1, &st, NULL) != SQLITE_OK) {
		err = db_error(src, d, "reading schema");
		goto fail;
	}
	while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		if ((flags & DB_COPY_SKIP_POWER) && name && strcmp(name, "power") == 0)
			continue;
		err = add_table(c, name ? name : "", d);
	}
	if (!err && rc != SQLITE_DONE)
		err = db_error(src, d, "reading schema");
	sqlite3_finalize(st);
	if (err)
		goto fail;
	if (sqlite3_prepare_v2(src->h, SEL_RUN_SQL, -1, &c->sel_run, NULL) != SQLITE_OK) {
		err = db_error(src, d, "reading runs");
		goto fail;
	}
	if (sqlite3_prepare_v2(dst->h, INS_RUN_SQL, -1, &c->ins_run, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(dst->h, "SELECT id FROM run WHERE point_key = ?1", -1,
			       &c->find_key, NULL) != SQLITE_OK) {
		err = db_error(dst, d, "preparing an insert");
		goto fail;
	}
	*out = c;
	return 0;
fail:
	db_copy_close(c);
	return err;
}

void db_copy_close(struct db_copy *c)
{
	if (!c)
		return;
	for (int i = 0; i < c->nt; i++) {
		free(c->t[i].name);
		db_int_free_strv(c->t[i].cols, c->t[i].ncols);
		db_int_free_strv(c->t[i].types, c->t[i].ncols);
		sqlite3_finalize(c->t[i].sel);
		sqlite3_finalize(c->t[i].ins);
	}
	free(c->t);
	sqlite3_finalize(c->sel_run);
	sqlite3_finalize(c->ins_run);
	sqlite3_finalize(c->find_key);
	free(c);
}

static int bind_meta(sqlite3_stmt *ins, int i, const char *meta, sqlite3_stmt *sel, int j)
{
	return meta ? sqlite3_bind_text(ins, i, meta, -1, SQLITE_TRANSIENT)
		    : sqlite3_bind_value(ins, i, sqlite3_column_value(sel, j));
}

/* The point key is already in dst: JV_EEXIST naming the run. */
static int check_key_free(struct db_copy *c, const char *key, struct jv_diag *d)
{
	if (!key)
		return 0;
	sqlite3_reset(c->find_key);
	if (sqlite3_bind_text(c->find_key, 1, key, -1, SQLITE_TRANSIENT) != SQLITE_OK)
		return db_error(c->dst, d, "reading runs");
	int rc = sqlite3_step(c->find_key);
	int64_t id = rc == SQLITE_ROW ? sqlite3_column_int64(c->find_key, 0) : 0;
	sqlite3_reset(c->find_key);
	if (rc == SQLITE_ROW)
		return jv_diag_set(d, JV_EEXIST, c->dst->path, 0,
				   "point '%s' is already in the database (run %" PRId64 ")", key,
				   id);
	return rc == SQLITE_DONE ? 0 : db_error(c->dst, d, "reading runs");
}

static int copy_rows(struct db_copy *c, struct ctab *t, int64_t src_id, int64_t new_id,
		     struct jv_diag *d)
{
	int rc;
	sqlite3_reset(t->sel);
	if (sqlite3_bind_int64(t->sel, 1, src_id) != SQLITE_OK ||
	    sqlite3_bind_int64(t->ins, 1, new_id) != SQLITE_OK)
		return db_error(c->src, d, "reading a table");
	while ((rc = sqlite3_step(t->sel)) == SQLITE_ROW) {
		for (int k = 0; k < t->ncols; k++)
			if (sqlite3_bind_value(t->ins, k + 2, sqlite3_column_value(t->sel, k)) !=
			    SQLITE_OK)
				return db_error(c->dst, d, "copying a row");
		int irc = sqlite3_step(t->ins);
		sqlite3_reset(t->ins);
		if (irc != SQLITE_DONE) {
			char what[128];
			snprintf(what, sizeof what, "inserting into table '%s'", t->name);
			sqlite3_reset(t->sel);
			return db_error(c->dst, d, what);
		}
	}
	sqlite3_reset(t->sel);
	if (rc != SQLITE_DONE) {
		char what[128];
		snprintf(what, sizeof what, "reading table '%s'", t->name);
		return db_error(c->src, d, what);
	}
	return 0;
}

int db_copy_run(struct db_copy *c, int64_t src_id, const struct db_run_meta *meta,
		int64_t *new_id, struct jv_diag *d)
{
	static const struct db_run_meta none;
	int err, rc;
	if (!meta)
		meta = &none;
	sqlite3_reset(c->sel_run);
	if (sqlite3_bind_int64(c->sel_run, 1, src_id) != SQLITE_OK)
		return db_error(c->src, d, "reading runs");
	rc = sqlite3_step(c->sel_run);
	if (rc == SQLITE_DONE)
		return jv_diag_set(d, JV_EDB, c->src->path, 0, "no run %" PRId64, src_id);
	if (rc != SQLITE_ROW)
		return db_error(c->src, d, "reading runs");
	const char *key = meta->point_key ? meta->point_key
					  : (const char *)sqlite3_column_text(c->sel_run, 9);
	char *key_copy = key ? strdup(key) : NULL;
	if (key && !key_copy) {
		err = jv_diag_set(d, JV_ENOMEM, c->dst->path, 0, "out of memory");
		goto out;
	}
	if ((err = check_key_free(c, key_copy, d)))
		goto out;
	sqlite3_reset(c->ins_run);
	for (int k = 0; k < 8; k++)
		if (sqlite3_bind_value(c->ins_run, k + 1, sqlite3_column_value(c->sel_run, k)) !=
		    SQLITE_OK) {
			err = db_error(c->dst, d, "copying a run");
			goto out;
		}
	if (bind_meta(c->ins_run, 9, meta->overrides, c->sel_run, 8) != SQLITE_OK ||
	    bind_meta(c->ins_run, 10, key_copy, c->sel_run, 9) != SQLITE_OK ||
	    bind_meta(c->ins_run, 11, meta->out_dir, c->sel_run, 10) != SQLITE_OK) {
		err = db_error(c->dst, d, "copying a run");
		goto out;
	}
	rc = sqlite3_step(c->ins_run);
	sqlite3_reset(c->ins_run);
	if (rc != SQLITE_DONE) {
		err = db_error(c->dst, d, "inserting the run row");
		goto out;
	}
	*new_id = sqlite3_last_insert_rowid(c->dst->h);
	for (int i = 0; i < c->nt && !err; i++)
		err = copy_rows(c, &c->t[i], src_id, *new_id, d);
out:
	sqlite3_reset(c->sel_run);
	free(key_copy);
	return err;
}
