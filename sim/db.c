/*
 * db: theory of operation.
 *
 * Problem: a sweep or a regression suite leaves hundreds of runs in SQLite
 * files (one per shard or per CI job). People need to list them with the
 * numbers that matter, look at one, get its tables back as CSV, delete some,
 * and combine shards; the sweep and regress code needs to open these files,
 * name points the same way everywhere and copy runs between files.
 *
 * Opening (db_open): DB_READ opens read-only and accepts schema versions 1
 * and 2: a version 1 file is read through a TEMP VIEW named `run` that
 * adds the version 2 columns as NULL (temp objects shadow main ones), so
 * nothing is written to it. DB_WRITE and DB_CREATE open read-write, switch
 * to WAL, turn foreign keys on (ON DELETE CASCADE needs them) and create or
 * migrate the schema forward in one BEGIN IMMEDIATE transaction
 * (out_sqlite_schema). Every connection waits up to DB_BUSY_TIMEOUT_MS for
 * another writer.
 *
 * Points: a run of a sweep is the scenario with some overrides and a seed.
 * Its canonical overrides (sorted KEY=VALUE, global.seed left out, space,
 * '%' and control bytes as %XX) go to run.overrides and its point key
 * "SCENARIO seed=SEED[ OVERRIDES]" to run.point_key, which is UNIQUE: one
 * database never holds a point twice. Values are compared as text:
 * `0.25` and `0.250` are different points.
 *
 * Copying (db_copy_*): a run moves between databases with its `run` row,
 * its metrics and its rows of every data table, in rowid order, through
 * prepared statements with bound values (sqlite3_bind_value of the source
 * column: integers, reals and text arrive unchanged). Tables missing in the
 * destination are created with the run store's DDL (run_id REFERENCES
 * run(id) ON DELETE CASCADE, an index on run_id); existing ones must have
 * the same columns and types. Table and column names read from a file are
 * checked to be identifiers before they are quoted into SQL.
 *
 * merge: every input must have the current schema version (no silent
 * conversion); all point keys of the output and the inputs are collected
 * inside the output's write transaction and any key seen twice is an error
 * listing every duplicate, before anything is written. The whole merge is
 * one transaction: the output gets every input or none. Run ids are
 * renumbered; point keys identify runs across files.
 *
 * Exit codes: 0; 1 runtime failure (writing an export); 2 bad usage, a
 * missing or malformed database, unknown run ids, duplicate points.
 */
#include "sim/db.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "sim/out_sqlite.h"

#define DB_NAME_MAX 64           /* identifier incl. NUL (as sim/out.c) */
#define DB_EXPORT_DIR_MODE 0777  /* before umask */
#define DB_MAX_DUPS_LISTED 50    /* duplicate points printed by merge */
#define DB_LS_OVERRIDES_W 60     /* overrides column width in `db ls` */

struct db {
	sqlite3 *h;
	char *path;
	int found_version;
	int in_txn;
};

/* ---- growable string ------------------------------------------------------ */

struct sbuf {
	char *s;
	size_t len, cap;
	int oom;
};

static void sb_addn(struct sbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 128;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = realloc(b->s, cap);
		if (!p) {
			b->oom = 1;
			return;
		}
		b->s = p;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void sb_add(struct sbuf *b, const char *s)
{
	sb_addn(b, s, strlen(s));
}

/* A quoted SQL identifier (embedded quotes doubled). */
static void sb_ident(struct sbuf *b, const char *id, const char *suffix)
{
	sb_add(b, "\"");
	for (int part = 0; part < 2; part++)
		for (const char *p = part ? suffix : id; *p; p++)
			sb_addn(b, *p == '"' ? "\"\"" : p, *p == '"' ? 2 : 1);
	sb_add(b, "\"");
}

/* Hand the string over (NULL and freed on OOM). */
static char *sb_take(struct sbuf *b)
{
	if (b->oom) {
		free(b->s);
		return NULL;
	}
	if (!b->s)
		return strdup("");
	return b->s;
}

static int is_ident(const char *s)
{
	size_t n = 0;
	if (!s || !(*s == '_' || (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z')))
		return 0;
	for (; *s; s++, n++)
		if (!(*s == '_' || (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9')))
			return 0;
	return n < DB_NAME_MAX;
}

/* ---- open / close / transactions ------------------------------------------ */

int db_error(const struct db *db, struct jv_diag *d, const char *what)
{
	int code = sqlite3_errcode(db->h) & 0xff;
	if (code == SQLITE_NOTADB)
		return jv_diag_set(d, JV_EDB, db->path, 0, "not an SQLite database");
	if (code == SQLITE_NOMEM)
		return jv_diag_set(d, JV_ENOMEM, db->path, 0, "%s: out of memory", what);
	return jv_diag_set(d, JV_EDB, db->path, 0, "%s: %s", what, sqlite3_errmsg(db->h));
}

static int exec(struct db *db, const char *sql, const char *what, struct jv_diag *d)
{
	return sqlite3_exec(db->h, sql, NULL, NULL, NULL) == SQLITE_OK ? 0
									: db_error(db, d, what);
}

struct sqlite3 *db_sqlite(const struct db *db)
{
	return db ? db->h : NULL;
}

const char *db_path(const struct db *db)
{
	return db ? db->path : NULL;
}

int db_found_version(const struct db *db)
{
	return db ? db->found_version : 0;
}

int db_begin(struct db *db, struct jv_diag *d)
{
	int err = exec(db, "BEGIN IMMEDIATE", "starting a transaction", d);
	if (!err)
		db->in_txn = 1;
	return err;
}

int db_commit(struct db *db, struct jv_diag *d)
{
	int err = exec(db, "COMMIT", "committing", d);
	if (err)
		db_rollback(db);
	db->in_txn = 0;
	return err;
}

void db_rollback(struct db *db)
{
	if (db && db->in_txn && sqlite3_get_autocommit(db->h) == 0)
		sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
	if (db)
		db->in_txn = 0;
}

void db_close(struct db *db)
{
	if (!db)
		return;
	db_rollback(db);
	sqlite3_close_v2(db->h);
	free(db->path);
	free(db);
}

/* Read-only access to a version 1 file: a temp view adds the new columns. */
static const char COMPAT_V1_SQL[] =
	"CREATE TEMP VIEW run AS SELECT id, scenario_name, scenario_file, scenario_text, seed,"
	" command_line, tool_version, started_at, status, NULL AS overrides,"
	" NULL AS point_key, NULL AS out_dir FROM main.run";

static int open_read(struct db *db, struct jv_diag *d)
{
	int err = out_sqlite_schema_version(db->h, db->path, &db->found_version, d);
	if (err)
		return err;
	if (db->found_version == 0)
		return jv_diag_set(d, JV_EDB, db->path, 0,
				   "not a joulevisor run database (it is empty)");
	if (db->found_version == 1)
		return exec(db, COMPAT_V1_SQL, "reading a version 1 database", d);
	return 0;
}

static int open_write(struct db *db, struct jv_diag *d)
{
	sqlite3_stmt *st = NULL;
	int err;
	if (sqlite3_prepare_v2(db->h, "PRAGMA journal_mode=WAL", -1, &st, NULL) != SQLITE_OK)
		return db_error(db, d, "journal_mode");
	int rc = sqlite3_step(st);
	const char *mode = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		sqlite3_finalize(st);
		return db_error(db, d, "journal_mode");
	}
	if (!mode || strcmp(mode, "wal") != 0)
		jv_warn(db->path, 0, "cannot switch the database to WAL mode (journal_mode is %s)",
			mode ? mode : "unknown");
	sqlite3_finalize(st);
	if ((err = exec(db, "PRAGMA foreign_keys=ON", "foreign_keys", d)) ||
	    (err = db_begin(db, d)))
		return err;
	if ((err = out_sqlite_schema_version(db->h, db->path, &db->found_version, d)) ||
	    (err = out_sqlite_schema(db->h, db->path, d)))
		return err;
	return db_commit(db, d);
}

int db_open(const char *path, enum db_mode mode, struct db **out, struct jv_diag *d)
{
	struct stat st;
	int err;
	*out = NULL;
	if (!path || !*path)
		return jv_diag_set(d, JV_EINVAL, NULL, 0, "empty database file name");
	if (stat(path, &st) != 0) {
		if (mode != DB_CREATE || errno != ENOENT)
			return jv_diag_set(d, errno == ENOENT ? JV_ENOENT : JV_EDB, path, 0,
					   "cannot open database: %s", strerror(errno));
	} else if (S_ISDIR(st.st_mode)) {
		return jv_diag_set(d, JV_EDB, path, 0, "cannot open database: Is a directory");
	}
	struct db *db = calloc(1, sizeof *db);
	if (!db || !(db->path = strdup(path))) {
		free(db);
		return jv_diag_set(d, JV_ENOMEM, path, 0, "out of memory");
	}
	int flags = SQLITE_OPEN_NOMUTEX |
		    (mode == DB_READ ? SQLITE_OPEN_READONLY
				     : SQLITE_OPEN_READWRITE | (mode == DB_CREATE ? SQLITE_OPEN_CREATE : 0));
	if (sqlite3_open_v2(path, &db->h, flags, NULL) != SQLITE_OK) {
		err = db->h ? db_error(db, d, "cannot open database")
			    : jv_diag_set(d, JV_ENOMEM, path, 0, "out of memory");
		goto fail;
	}
	sqlite3_extended_result_codes(db->h, 1);
	if (sqlite3_busy_timeout(db->h, DB_BUSY_TIMEOUT_MS) != SQLITE_OK) {
		err = db_error(db, d, "busy_timeout");
		goto fail;
	}
	err = mode == DB_READ ? open_read(db, d) : open_write(db, d);
	if (err)
		goto fail;
	*out = db;
	return 0;
fail:
	db_close(db);
	return err;
}

/* ---- point identity --------------------------------------------------------- */

static void sb_escaped(struct sbuf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c <= ' ' || c == '%' || c == 0x7f) {
			char hex[4];
			snprintf(hex, sizeof hex, "%%%02X", c);
			sb_add(b, hex);
		} else {
			sb_addn(b, s, 1);
		}
	}
}

static int cmp_ov_key(const void *a, const void *b)
{
	const struct scn_override *x = *(const struct scn_override *const *)a;
	const struct scn_override *y = *(const struct scn_override *const *)b;
	int c = strcmp(x->key, y->key);
	/* stable: equal keys keep their input order (pointers into one array) */
	return c ? c : (x < y ? -1 : x > y);
}

int db_canon_overrides(const struct scn_override *ov, int n, char **out)
{
	struct sbuf b = {0};
	const struct scn_override **p = calloc((size_t)(n > 0 ? n : 1), sizeof *p);
	int m = 0;
	*out = NULL;
	if (!p)
		return JV_ENOMEM;
	for (int i = 0; i < n; i++)
		if (strcmp(ov[i].key, "global.seed") != 0)
			p[m++] = &ov[i];
	qsort(p, (size_t)m, sizeof *p, cmp_ov_key);
	int first = 1;
	for (int i = 0; i < m; i++) {
		if (i + 1 < m && strcmp(p[i]->key, p[i + 1]->key) == 0)
			continue; /* the last of a repeated key wins */
		if (!first)
			sb_add(&b, " ");
		first = 0;
		sb_escaped(&b, p[i]->key);
		sb_add(&b, "=");
		sb_escaped(&b, p[i]->value);
	}
	free(p);
	*out = sb_take(&b);
	return *out ? 0 : JV_ENOMEM;
}

int db_point_key(const char *scenario, uint64_t seed, const char *canon, char **out)
{
	struct sbuf b = {0};
	char num[32];
	sb_escaped(&b, scenario ? scenario : "");
	snprintf(num, sizeof num, " seed=%" PRIu64, seed);
	sb_add(&b, num);
	if (canon && *canon) {
		sb_add(&b, " ");
		sb_add(&b, canon);
	}
	*out = sb_take(&b);
	return *out ? 0 : JV_ENOMEM;
}

int db_canon_drop(const char *canon, const char *const *keys, int n_keys, char **out)
{
	struct sbuf b = {0}, k = {0};
	const char *s = canon ? canon : "";
	int first = 1;
	*out = NULL;
	while (*s) {
		size_t len = strcspn(s, " ");
		const char *eq = memchr(s, '=', len);
		size_t klen = eq ? (size_t)(eq - s) : len;
		int drop = 0;
		for (int i = 0; i < n_keys && !drop; i++) {
			k.len = 0;
			sb_escaped(&k, keys[i]);
			drop = !k.oom && k.s && k.len == klen && memcmp(k.s, s, klen) == 0;
		}
		if (!drop) {
			if (!first)
				sb_add(&b, " ");
			first = 0;
			sb_addn(&b, s, len);
		}
		s += len;
		while (*s == ' ')
			s++;
	}
	int oom = k.oom;
	free(k.s);
	*out = sb_take(&b);
	if (oom) {
		free(*out);
		*out = NULL;
	}
	return *out ? 0 : JV_ENOMEM;
}

/* ---- metrics ---------------------------------------------------------------- */

int db_add_metric(struct db *db, int64_t run_id, const char *name, double value,
		  const char *unit, struct jv_diag *d)
{
	sqlite3_stmt *st = NULL;
	if (!isfinite(value))
		return jv_diag_set(d, JV_EINVAL, db->path, 0, "metric '%s': not a finite number",
				   name);
	if (sqlite3_prepare_v2(db->h,
			       "INSERT INTO metric(run_id, name, value, unit) VALUES(?1, ?2, ?3, ?4)",
			       -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 1, run_id) != SQLITE_OK ||
	    sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
	    sqlite3_bind_double(st, 3, value) != SQLITE_OK ||
	    (unit ? sqlite3_bind_text(st, 4, unit, -1, SQLITE_TRANSIENT)
		  : sqlite3_bind_null(st, 4)) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_DONE) {
		int err = db_error(db, d, "inserting a metric");
		sqlite3_finalize(st);
		return err;
	}
	sqlite3_finalize(st);
	return 0;
}

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

static void free_strv(char **v, int n)
{
	if (!v)
		return;
	for (int i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Columns of table NAME (all, run_id included) from PRAGMA table_info. */
static int table_columns(struct db *db, const char *name, char ***cols, char ***types,
			 int *n, struct jv_diag *d)
{
	struct sbuf q = {0};
	sqlite3_stmt *st = NULL;
	int cap = 0, rc, err = 0;
	*cols = *types = NULL;
	*n = 0;
	sb_add(&q, "PRAGMA table_info(");
	sb_ident(&q, name, "");
	sb_add(&q, ")");
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
		free_strv(*cols, *n);
		free_strv(*types, *n);
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
		sb_add(&b, i ? ", " : "");
		sb_add(&b, cols[i]);
		sb_add(&b, " ");
		sb_add(&b, types[i]);
	}
	return sb_take(&b);
}

static int create_table(struct db *db, const struct ctab *t, struct jv_diag *d)
{
	struct sbuf q = {0};
	sb_add(&q, "CREATE TABLE ");
	sb_ident(&q, t->name, "");
	sb_add(&q, "(run_id INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE");
	for (int k = 0; k < t->ncols; k++) {
		sb_add(&q, ", ");
		sb_ident(&q, t->cols[k], "");
		sb_add(&q, " ");
		sb_add(&q, t->types[k]);
	}
	sb_add(&q, ");CREATE INDEX IF NOT EXISTS ");
	sb_ident(&q, t->name, "_run_id_idx");
	sb_add(&q, " ON ");
	sb_ident(&q, t->name, "");
	sb_add(&q, "(run_id)");
	if (q.oom) {
		free(q.s);
		return jv_diag_set(d, JV_ENOMEM, db->path, 0, "out of memory");
	}
	int err = exec(db, q.s, "creating a table", d);
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
	if ((err = table_columns(c->dst, t->name, &cols, &types, &n, d)))
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
	free_strv(cols, n);
	free_strv(types, n);
	return err;
}

static int prepare_table(struct db_copy *c, struct ctab *t, struct jv_diag *d)
{
	struct sbuf s = {0}, i = {0};
	sb_add(&s, "SELECT ");
	sb_add(&i, "INSERT INTO ");
	sb_ident(&i, t->name, "");
	sb_add(&i, "(run_id");
	for (int k = 0; k < t->ncols; k++) {
		sb_add(&s, k ? ", " : "");
		sb_ident(&s, t->cols[k], "");
		sb_add(&i, ", ");
		sb_ident(&i, t->cols[k], "");
	}
	sb_add(&s, " FROM ");
	sb_ident(&s, t->name, "");
	sb_add(&s, " WHERE run_id = ?1 ORDER BY rowid");
	sb_add(&i, ") VALUES(?1");
	for (int k = 0; k < t->ncols; k++) {
		char p[16];
		snprintf(p, sizeof p, ", ?%d", k + 2);
		sb_add(&i, p);
	}
	sb_add(&i, ")");
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
	if (!is_ident(name))
		return jv_diag_set(d, JV_EDB, c->src->path, 0,
				   "table name '%s' is not an identifier (not a run table)", name);
	if ((err = table_columns(c->src, name, &cols, &types, &n, d)))
		return err;
	if (n < 1 || strcmp(cols[0], "run_id") != 0 || strcmp(types[0], "INTEGER") != 0) {
		err = jv_diag_set(d, JV_EDB, c->src->path, 0,
				  "table '%s' is not a run table (its first column is not run_id "
				  "INTEGER)",
				  name);
		goto out;
	}
	for (int k = 1; k < n; k++)
		if (!is_ident(cols[k]) || !is_col_type(types[k])) {
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
	free_strv(cols, n);
	free_strv(types, n);
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
		free_strv(c->t[i].cols, c->t[i].ncols);
		free_strv(c->t[i].types, c->t[i].ncols);
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

/* ---- CSV ---------------------------------------------------------------------- */

int db_csv_field(FILE *f, const char *s, int quote_empty)
{
	if (!s[strcspn(s, ",\"\r\n")] && (*s || !quote_empty))
		return fputs(s, f) == EOF ? -1 : 0;
	if (putc('"', f) == EOF)
		return -1;
	for (; *s; s++)
		if ((*s == '"' && putc('"', f) == EOF) || putc(*s, f) == EOF)
			return -1;
	return putc('"', f) == EOF ? -1 : 0;
}

/* One column value as the run directory prints it (NULL: empty). */
static void csv_value(FILE *f, sqlite3_stmt *st, int k, int quote_empty, int full_precision)
{
	switch (sqlite3_column_type(st, k)) {
	case SQLITE_INTEGER:
		fprintf(f, "%" PRId64, (int64_t)sqlite3_column_int64(st, k));
		break;
	case SQLITE_FLOAT:
		fprintf(f, full_precision ? "%.17g" : "%.10g", sqlite3_column_double(st, k));
		break;
	case SQLITE_NULL:
		break;
	default:
		db_csv_field(f, (const char *)sqlite3_column_text(st, k), quote_empty);
		break;
	}
}

/* ---- CLI ------------------------------------------------------------------------ */

static void usage(FILE *f)
{
	fputs("usage: joulevisor db ls DB [--scenario NAME] [--status STATUS]\n"
	      "       joulevisor db show DB ID [--scenario-text]\n"
	      "       joulevisor db export DB ID [-o DIR]\n"
	      "       joulevisor db export DB --metrics [-o FILE]\n"
	      "       joulevisor db rm DB ID|FIRST-LAST...\n"
	      "       joulevisor db merge OUT IN...\n"
	      "       joulevisor db migrate DB\n"
	      "\n"
	      "ls      list runs with their key metrics (settling, overshoot, steady-state\n"
	      "        and accounting error, time above the limit, conservation residual)\n"
	      "show    one run: its row, the row count of every table, every metric\n"
	      "export  one run's tables as CSV files in DIR (default run-ID), as in a run\n"
	      "        directory; --metrics: every run's metrics as one CSV (FILE or stdout,\n"
	      "        the format `regress` reads as a baseline)\n"
	      "rm      delete runs and all their rows\n"
	      "merge   combine databases (shards of a sweep) into OUT, created if missing;\n"
	      "        refuses inputs of another schema version and duplicate points\n"
	      "migrate bring DB to the current schema version\n",
	      f);
}

static int fail_diag(FILE *err, const struct jv_diag *d)
{
	fprintf(err, "joulevisor: %s\n", d->msg);
	return jv_exit_code(d->err);
}

static int parse_id(const char *s, int64_t *id)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v <= 0)
		return -1;
	*id = v;
	return 0;
}

static const char *null_dash(const unsigned char *s)
{
	return s ? (const char *)s : "-";
}

static void print_num(FILE *out, sqlite3_stmt *st, int k, int never, const char *fmt_w)
{
	char buf[64];
	if (sqlite3_column_type(st, k) == SQLITE_NULL)
		snprintf(buf, sizeof buf, "-");
	else if (never && sqlite3_column_double(st, k) < 0)
		snprintf(buf, sizeof buf, "never");
	else
		snprintf(buf, sizeof buf, "%.4g", sqlite3_column_double(st, k));
	fprintf(out, fmt_w, buf);
}

static const char LS_SQL[] =
	"SELECT r.id, r.status, r.scenario_name, r.seed, r.overrides,"
	" (SELECT CASE WHEN min(value) < 0 THEN -1 ELSE max(value) END FROM metric"
	"   WHERE run_id = r.id AND name LIKE 'limit\\_%\\_settling\\_time\\_s' ESCAPE '\\'),"
	" (SELECT max(value) FROM metric"
	"   WHERE run_id = r.id AND name LIKE '%\\_overshoot\\_pct' ESCAPE '\\'),"
	" (SELECT max(abs(value)) FROM metric"
	"   WHERE run_id = r.id AND name LIKE '%\\_steady\\_state\\_error\\_pct' ESCAPE '\\'),"
	" (SELECT sum(value) FROM metric"
	"   WHERE run_id = r.id AND name LIKE '%\\_time\\_above\\_limit\\_s' ESCAPE '\\'),"
	" (SELECT max(value) FROM metric"
	"   WHERE run_id = r.id AND name = 'accounting_error_max_abs_pct'),"
	" (SELECT max(value) FROM metric"
	"   WHERE run_id = r.id AND name = 'conservation_max_residual_j')"
	" FROM run r WHERE (?1 IS NULL OR r.scenario_name = ?1) AND (?2 IS NULL OR r.status = ?2)"
	" ORDER BY r.id";

static int cmd_ls(int argc, char **argv, FILE *out, FILE *err)
{
	const char *path = NULL, *scen = NULL, *status = NULL;
	struct jv_diag d;
	jv_diag_clear(&d);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--scenario") && i + 1 < argc) {
			scen = argv[++i];
		} else if (!strcmp(argv[i], "--status") && i + 1 < argc) {
			status = argv[++i];
		} else if (argv[i][0] == '-' || path) {
			fprintf(err, "joulevisor: db ls: unexpected argument '%s'\n", argv[i]);
			return 2;
		} else {
			path = argv[i];
		}
	}
	if (!path) {
		fprintf(err, "joulevisor: db ls: no database given\n");
		return 2;
	}
	struct db *db;
	if (db_open(path, DB_READ, &db, &d))
		return fail_diag(err, &d);
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db->h, LS_SQL, -1, &st, NULL) != SQLITE_OK ||
	    (scen ? sqlite3_bind_text(st, 1, scen, -1, SQLITE_TRANSIENT) : SQLITE_OK) ||
	    (status ? sqlite3_bind_text(st, 2, status, -1, SQLITE_TRANSIENT) : SQLITE_OK)) {
		db_error(db, &d, "listing runs");
		sqlite3_finalize(st);
		db_close(db);
		return fail_diag(err, &d);
	}
	fprintf(out, "%6s %-10s %-14s %6s %8s %10s %8s %8s %9s %9s  %s\n", "id", "status",
		"scenario", "seed", "settle_s", "overshoot%", "sserr%", "above_s", "accterr%",
		"resid_J", "overrides");
	int rc, n = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *ov = null_dash(sqlite3_column_text(st, 4));
		fprintf(out, "%6" PRId64 " %-10s %-14s %6" PRIu64 " ",
			(int64_t)sqlite3_column_int64(st, 0), null_dash(sqlite3_column_text(st, 1)),
			null_dash(sqlite3_column_text(st, 2)), (uint64_t)sqlite3_column_int64(st, 3));
		print_num(out, st, 5, 1, "%8s ");
		print_num(out, st, 6, 0, "%10s ");
		print_num(out, st, 7, 0, "%8s ");
		print_num(out, st, 8, 0, "%8s ");
		print_num(out, st, 9, 0, "%9s ");
		print_num(out, st, 10, 0, "%9s  ");
		if (strlen(ov) > DB_LS_OVERRIDES_W)
			fprintf(out, "%.*s...\n", DB_LS_OVERRIDES_W - 3, ov);
		else
			fprintf(out, "%s\n", *ov ? ov : "-");
		n++;
	}
	if (rc != SQLITE_DONE)
		db_error(db, &d, "listing runs");
	sqlite3_finalize(st);
	db_close(db);
	if (d.err)
		return fail_diag(err, &d);
	fprintf(out, "%d run(s)\n", n);
	return 0;
}

/* Names of the run tables of a database (every table with run_id but run). */
static int run_tables(struct db *db, char ***names, int *n, struct jv_diag *d)
{
	sqlite3_stmt *st = NULL;
	int rc, cap = 0;
	*names = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(db->h,
			       "SELECT m.name FROM main.sqlite_master m WHERE m.type='table' AND"
			       " m.name NOT IN ('run', 'schema_version') AND m.name NOT LIKE 'sqlite%'"
			       " AND EXISTS (SELECT 1 FROM pragma_table_info(m.name) p"
			       "   WHERE p.cid = 0 AND p.name = 'run_id') ORDER BY m.name",
			       -1, &st, NULL) != SQLITE_OK)
		return db_error(db, d, "reading schema");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		if (!name || !is_ident(name))
			continue; /* not ours to read: never built into SQL */
		if (*n == cap) {
			cap = cap ? 2 * cap : 16;
			char **p = realloc(*names, (size_t)cap * sizeof *p);
			if (!p)
				goto oom;
			*names = p;
		}
		if (!((*names)[*n] = strdup(name)))
			goto oom;
		(*n)++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_error(db, d, "reading schema");
	return 0;
oom:
	sqlite3_finalize(st);
	return jv_diag_set(d, JV_ENOMEM, db->path, 0, "out of memory");
}

static int run_exists(struct db *db, int64_t id, struct jv_diag *d)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db->h, "SELECT 1 FROM run WHERE id = ?1", -1, &st, NULL) !=
		    SQLITE_OK ||
	    sqlite3_bind_int64(st, 1, id) != SQLITE_OK) {
		sqlite3_finalize(st);
		return db_error(db, d, "reading runs");
	}
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc == SQLITE_DONE)
		return jv_diag_set(d, JV_EUNKNOWN, db->path, 0, "no run %" PRId64, id);
	return db_error(db, d, "reading runs");
}

static int count_rows(struct db *db, const char *table, int64_t id, int64_t *n,
		      struct jv_diag *d)
{
	struct sbuf q = {0};
	sqlite3_stmt *st = NULL;
	sb_add(&q, "SELECT count(*) FROM ");
	sb_ident(&q, table, "");
	sb_add(&q, " WHERE run_id = ?1");
	int err = 0;
	if (q.oom)
		err = jv_diag_set(d, JV_ENOMEM, db->path, 0, "out of memory");
	else if (sqlite3_prepare_v2(db->h, q.s, -1, &st, NULL) != SQLITE_OK ||
		 sqlite3_bind_int64(st, 1, id) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW)
		err = db_error(db, d, "counting rows");
	else
		*n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	free(q.s);
	return err;
}

static int show_run_row(struct db *db, int64_t id, int with_text, FILE *out, struct jv_diag *d)
{
	static const char *const fields[] = {"status", "scenario_name", "scenario_file", "seed",
					     "point_key", "overrides", "out_dir", "started_at",
					     "tool_version", "command_line"};
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db->h,
			       "SELECT status, scenario_name, scenario_file, seed, point_key, overrides,"
			       " out_dir, started_at, tool_version, command_line, scenario_text"
			       " FROM run WHERE id = ?1",
			       -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 1, id) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return db_error(db, d, "reading runs");
	}
	fprintf(out, "id: %" PRId64 "\n", id);
	for (int k = 0; k < 10; k++) {
		if (k == 3)
			fprintf(out, "seed: %" PRIu64 "\n", (uint64_t)sqlite3_column_int64(st, 3));
		else
			fprintf(out, "%s: %s\n", fields[k], null_dash(sqlite3_column_text(st, k)));
	}
	if (with_text)
		fprintf(out, "scenario_text:\n%s", null_dash(sqlite3_column_text(st, 10)));
	sqlite3_finalize(st);
	return 0;
}

static int cmd_show(int argc, char **argv, FILE *out, FILE *err)
{
	const char *pos[2] = {0};
	int npos = 0, with_text = 0;
	int64_t id;
	struct jv_diag d;
	jv_diag_clear(&d);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--scenario-text"))
			with_text = 1;
		else if (argv[i][0] == '-' || npos == 2) {
			fprintf(err, "joulevisor: db show: unexpected argument '%s'\n", argv[i]);
			return 2;
		} else
			pos[npos++] = argv[i];
	}
	if (npos != 2 || parse_id(pos[1], &id)) {
		fprintf(err, "joulevisor: db show: want DB ID (a positive run id)\n");
		return 2;
	}
	struct db *db;
	if (db_open(pos[0], DB_READ, &db, &d))
		return fail_diag(err, &d);
	char **tables = NULL;
	int nt = 0;
	sqlite3_stmt *st = NULL;
	if (run_exists(db, id, &d) || show_run_row(db, id, with_text, out, &d) ||
	    run_tables(db, &tables, &nt, &d))
		goto out;
	fprintf(out, "tables:");
	for (int i = 0; i < nt && !d.err; i++) {
		int64_t n = 0;
		if (!count_rows(db, tables[i], id, &n, &d) && n > 0)
			fprintf(out, " %s=%" PRId64, tables[i], n);
	}
	fprintf(out, "\nmetrics:\n");
	if (sqlite3_prepare_v2(db->h,
			       "SELECT name, value, unit FROM metric WHERE run_id = ?1 ORDER BY rowid",
			       -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 1, id) != SQLITE_OK) {
		db_error(db, &d, "reading metrics");
		goto out;
	}
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		fprintf(out, "  %-48s %.10g %s\n", null_dash(sqlite3_column_text(st, 0)),
			sqlite3_column_double(st, 1),
			sqlite3_column_text(st, 2) ? (const char *)sqlite3_column_text(st, 2) : "");
	if (rc != SQLITE_DONE)
		db_error(db, &d, "reading metrics");
out:
	sqlite3_finalize(st);
	free_strv(tables, nt);
	db_close(db);
	return d.err ? fail_diag(err, &d) : 0;
}

/* Write the rows of one table of run id as CSV (columns without run_id). */
static int export_table(struct db *db, const char *table, int64_t id, FILE *f,
			struct jv_diag *d)
{
	char **cols, **types;
	int n, err;
	if ((err = table_columns(db, table, &cols, &types, &n, d)))
		return err;
	struct sbuf q = {0};
	sqlite3_stmt *st = NULL;
	sb_add(&q, "SELECT ");
	for (int k = 1; k < n; k++) {
		sb_add(&q, k > 1 ? ", " : "");
		sb_ident(&q, cols[k], "");
		fprintf(f, "%s%s", k > 1 ? "," : "", cols[k]);
	}
	fputc('\n', f);
	sb_add(&q, " FROM ");
	sb_ident(&q, table, "");
	sb_add(&q, " WHERE run_id = ?1 ORDER BY rowid");
	if (q.oom)
		err = jv_diag_set(d, JV_ENOMEM, db->path, 0, "out of memory");
	else if (n < 2 || sqlite3_prepare_v2(db->h, q.s, -1, &st, NULL) != SQLITE_OK ||
		 sqlite3_bind_int64(st, 1, id) != SQLITE_OK)
		err = n < 2 ? 0 : db_error(db, d, "reading a table");
	int rc = SQLITE_DONE;
	while (!err && st && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (int k = 0; k < n - 1; k++) {
			if (k)
				fputc(',', f);
			csv_value(f, st, k, n == 2, 0);
		}
		fputc('\n', f);
	}
	if (!err && rc != SQLITE_DONE)
		err = db_error(db, d, "reading a table");
	sqlite3_finalize(st);
	free(q.s);
	free_strv(cols, n);
	free_strv(types, n);
	return err;
}

static int close_checked(FILE *f, const char *path, struct jv_diag *d)
{
	int bad = ferror(f);
	if (fclose(f) != 0 || bad)
		return jv_diag_set(d, JV_EIO, path, 0, "write failed: %s",
				   strerror(errno ? errno : EIO));
	return 0;
}

static int write_scenario_text(struct db *db, int64_t id, FILE *f, struct jv_diag *d)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db->h, "SELECT scenario_text FROM run WHERE id = ?1", -1, &st,
			       NULL) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 1, id) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return db_error(db, d, "reading runs");
	}
	const unsigned char *t = sqlite3_column_text(st, 0);
	fputs(t ? (const char *)t : "", f);
	sqlite3_finalize(st);
	return 0;
}

static int export_run(struct db *db, int64_t id, const char *dir, struct jv_diag *d)
{
	char **tables = NULL;
	int nt = 0, err;
	char path[4096];
	if ((err = run_exists(db, id, d)) || (err = run_tables(db, &tables, &nt, d)))
		goto out;
	if (mkdir(dir, DB_EXPORT_DIR_MODE) != 0) {
		err = jv_diag_set(d, errno == EEXIST ? JV_EEXIST : JV_EIO, dir, 0,
				  "cannot create the export directory: %s%s", strerror(errno),
				  errno == EEXIST ? " (choose another with -o)" : "");
		goto out;
	}
	for (int i = 0; i < nt && !err; i++) {
		snprintf(path, sizeof path, "%s/%s.csv", dir, tables[i]);
		FILE *f = fopen(path, "w");
		if (!f) {
			err = jv_diag_set(d, JV_EIO, path, 0, "cannot create: %s", strerror(errno));
			break;
		}
		err = export_table(db, tables[i], id, f, d);
		int cerr = close_checked(f, path, d);
		err = err ? err : cerr;
	}
	for (int text = 0; text < 2 && !err; text++) {
		snprintf(path, sizeof path, "%s/%s", dir, text ? "scenario.resolved.ini" : "run.txt");
		FILE *f = fopen(path, "w");
		if (!f) {
			err = jv_diag_set(d, JV_EIO, path, 0, "cannot create: %s", strerror(errno));
			goto out;
		}
		err = text ? write_scenario_text(db, id, f, d) : show_run_row(db, id, 0, f, d);
		int cerr = close_checked(f, path, d);
		err = err ? err : cerr;
	}
out:
	free_strv(tables, nt);
	return err;
}

static const char METRICS_SQL[] =
	"SELECT r.id, r.scenario_name, r.seed, r.status, r.point_key, r.overrides, m.name,"
	" m.value, m.unit FROM run r JOIN metric m ON m.run_id = r.id ORDER BY r.id, m.rowid";

/* The long metrics table of every run (the format regress reads). */
static int export_metrics(struct db *db, FILE *f, struct jv_diag *d)
{
	sqlite3_stmt *st = NULL;
	int rc;
	if (sqlite3_prepare_v2(db->h, METRICS_SQL, -1, &st, NULL) != SQLITE_OK)
		return db_error(db, d, "reading metrics");
	fputs("run_id,scenario,seed,status,point_key,overrides,name,value,unit\n", f);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		fprintf(f, "%" PRId64 ",", (int64_t)sqlite3_column_int64(st, 0));
		csv_value(f, st, 1, 0, 1);
		fprintf(f, ",%" PRIu64 ",", (uint64_t)sqlite3_column_int64(st, 2));
		for (int k = 3; k <= 8; k++) {
			csv_value(f, st, k, 0, 1);
			fputc(k < 8 ? ',' : '\n', f);
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_error(db, d, "reading metrics");
}

static int cmd_export(int argc, char **argv, FILE *out, FILE *err)
{
	const char *pos[2] = {0}, *dest = NULL;
	int npos = 0, metrics = 0;
	int64_t id = 0;
	struct jv_diag d;
	jv_diag_clear(&d);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--metrics"))
			metrics = 1;
		else if ((!strcmp(argv[i], "-o") || !strcmp(argv[i], "--output")) && i + 1 < argc)
			dest = argv[++i];
		else if (argv[i][0] == '-' || npos == 2) {
			fprintf(err, "joulevisor: db export: unexpected argument '%s'\n", argv[i]);
			return 2;
		} else
			pos[npos++] = argv[i];
	}
	if (npos != (metrics ? 1 : 2) || (!metrics && parse_id(pos[1], &id))) {
		fprintf(err, "joulevisor: db export: want DB ID [-o DIR] or DB --metrics [-o FILE]\n");
		return 2;
	}
	struct db *db;
	if (db_open(pos[0], DB_READ, &db, &d))
		return fail_diag(err, &d);
	if (metrics) {
		FILE *f = !dest || !strcmp(dest, "-") ? out : fopen(dest, "w");
		if (!f)
			jv_diag_set(&d, JV_EIO, dest, 0, "cannot create: %s", strerror(errno));
		else {
			export_metrics(db, f, &d);
			if (f != out) {
				struct jv_diag cd;
				jv_diag_clear(&cd);
				if (close_checked(f, dest, &cd) && !d.err)
					d = cd;
			}
		}
	} else {
		char dir[64];
		snprintf(dir, sizeof dir, "run-%" PRId64, id);
		if (!export_run(db, id, dest ? dest : dir, &d))
			fprintf(out, "exported run %" PRId64 " to %s\n", id, dest ? dest : dir);
	}
	db_close(db);
	return d.err ? fail_diag(err, &d) : 0;
}

static int parse_id_range(const char *s, int64_t *lo, int64_t *hi)
{
	char buf[64];
	const char *dash = strchr(s, '-');
	if (!dash)
		return parse_id(s, lo) ? -1 : (*hi = *lo, 0);
	if ((size_t)(dash - s) >= sizeof buf)
		return -1;
	memcpy(buf, s, (size_t)(dash - s));
	buf[dash - s] = '\0';
	if (parse_id(buf, lo) || parse_id(dash + 1, hi) || *hi < *lo)
		return -1;
	return 0;
}

static int cmd_rm(int argc, char **argv, FILE *out, FILE *err)
{
	struct jv_diag d;
	jv_diag_clear(&d);
	if (argc < 3) {
		fprintf(err, "joulevisor: db rm: want DB ID|FIRST-LAST...\n");
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		int64_t lo, hi;
		if (parse_id_range(argv[i], &lo, &hi)) {
			fprintf(err, "joulevisor: db rm: '%s' is not a run id or a range FIRST-LAST\n",
				argv[i]);
			return 2;
		}
	}
	struct db *db;
	if (db_open(argv[1], DB_WRITE, &db, &d))
		return fail_diag(err, &d);
	sqlite3_stmt *st = NULL;
	int64_t removed = 0;
	if (db_begin(db, &d))
		goto out;
	if (sqlite3_prepare_v2(db->h, "DELETE FROM run WHERE id BETWEEN ?1 AND ?2", -1, &st,
			       NULL) != SQLITE_OK) {
		db_error(db, &d, "deleting runs");
		goto out;
	}
	for (int i = 2; i < argc && !d.err; i++) {
		int64_t lo, hi;
		parse_id_range(argv[i], &lo, &hi);
		sqlite3_reset(st);
		if (sqlite3_bind_int64(st, 1, lo) != SQLITE_OK ||
		    sqlite3_bind_int64(st, 2, hi) != SQLITE_OK || sqlite3_step(st) != SQLITE_DONE) {
			db_error(db, &d, "deleting runs");
			break;
		}
		int64_t n = sqlite3_changes(db->h);
		if (n == 0)
			jv_diag_set(&d, JV_EUNKNOWN, db->path, 0, "no run %s (nothing removed)",
				    argv[i]);
		removed += n;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (!d.err && !db_commit(db, &d))
		fprintf(out, "removed %" PRId64 " run(s) from %s\n", removed, db->path);
out:
	sqlite3_finalize(st);
	db_close(db);
	return d.err ? fail_diag(err, &d) : 0;
}

/* ---- merge ------------------------------------------------------------------------ */

struct keyref {
	char *key;
	int file;   /* 0: OUT, 1..: inputs */
	int64_t id;
};

static int cmp_keyref(const void *a, const void *b)
{
	const struct keyref *x = a, *y = b;
	int c = strcmp(x->key, y->key);
	if (c)
		return c;
	return x->file != y->file ? (x->file < y->file ? -1 : 1) : (x->id < y->id ? -1 : x->id > y->id);
}

static int collect_keys(struct db *db, int file, struct keyref **v, size_t *n, size_t *cap,
			struct jv_diag *d)
{
	sqlite3_stmt *st = NULL;
	int rc;
	if (sqlite3_prepare_v2(db->h, "SELECT point_key, id FROM run WHERE point_key IS NOT NULL",
			       -1, &st, NULL) != SQLITE_OK)
		return db_error(db, d, "reading runs");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == *cap) {
			size_t c2 = *cap ? 2 * *cap : 256;
			struct keyref *p = realloc(*v, c2 * sizeof *p);
			if (!p)
				goto oom;
			*v = p;
			*cap = c2;
		}
		(*v)[*n].key = strdup((const char *)sqlite3_column_text(st, 0));
		(*v)[*n].file = file;
		(*v)[*n].id = sqlite3_column_int64(st, 1);
		if (!(*v)[*n].key)
			goto oom;
		(*n)++;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_error(db, d, "reading runs");
oom:
	sqlite3_finalize(st);
	return jv_diag_set(d, JV_ENOMEM, db->path, 0, "out of memory");
}

/* Every key seen more than once, listed on err. Returns the count. */
static size_t report_dups(struct keyref *v, size_t n, struct db **dbs, FILE *err)
{
	size_t ndup = 0;
	if (n > 1)
		qsort(v, n, sizeof *v, cmp_keyref);
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;
		while (j < n && strcmp(v[j].key, v[i].key) == 0)
			j++;
		if (j - i > 1) {
			if (ndup < DB_MAX_DUPS_LISTED) {
				fprintf(err, "  %s:", v[i].key);
				for (size_t k = i; k < j; k++)
					fprintf(err, "%s %s run %" PRId64, k > i ? "," : "",
						dbs[v[k].file]->path, v[k].id);
				fputc('\n', err);
			}
			ndup++;
		}
		i = j;
	}
	if (ndup > DB_MAX_DUPS_LISTED)
		fprintf(err, "  ... and %zu more\n", ndup - DB_MAX_DUPS_LISTED);
	return ndup;
}

static int same_file(const char *a, const char *b)
{
	struct stat sa, sb;
	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

static int merge_copy(struct db *outdb, struct db *in, int64_t *copied, struct jv_diag *d)
{
	struct db_copy *c;
	sqlite3_stmt *st = NULL;
	int err = db_copy_open(outdb, in, 0, &c, d), rc;
	if (err)
		return err;
	if (sqlite3_prepare_v2(in->h, "SELECT id FROM run ORDER BY id", -1, &st, NULL) !=
	    SQLITE_OK) {
		db_copy_close(c);
		return db_error(in, d, "reading runs");
	}
	while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t nid;
		err = db_copy_run(c, sqlite3_column_int64(st, 0), NULL, &nid, d);
		if (!err)
			(*copied)++;
	}
	if (!err && rc != SQLITE_DONE)
		err = db_error(in, d, "reading runs");
	sqlite3_finalize(st);
	db_copy_close(c);
	return err;
}

static int cmd_merge(int argc, char **argv, FILE *out, FILE *err)
{
	struct jv_diag d;
	jv_diag_clear(&d);
	if (argc < 3) {
		fprintf(err, "joulevisor: db merge: want OUT IN...\n");
		return 2;
	}
	int nin = argc - 2;
	for (int i = 0; i < nin; i++) {
		if (same_file(argv[1], argv[2 + i])) {
			fprintf(err, "joulevisor: db merge: %s is the output itself\n", argv[2 + i]);
			return 2;
		}
		for (int j = 0; j < i; j++)
			if (same_file(argv[2 + j], argv[2 + i])) {
				fprintf(err, "joulevisor: db merge: %s is given twice (as %s)\n",
					argv[2 + i], argv[2 + j]);
				return 2;
			}
	}
	struct db **dbs = calloc((size_t)nin + 1, sizeof *dbs);
	struct keyref *keys = NULL;
	size_t nkeys = 0, capkeys = 0;
	int64_t copied = 0;
	if (!dbs) {
		fprintf(err, "joulevisor: db merge: out of memory\n");
		return 1;
	}
	for (int i = 0; i < nin && !d.err; i++) {
		if (db_open(argv[2 + i], DB_READ, &dbs[1 + i], &d))
			break;
		if (db_found_version(dbs[1 + i]) != OUT_SQLITE_SCHEMA_VERSION)
			jv_diag_set(&d, JV_EDB, argv[2 + i], 0,
				    "schema version %d, but merge writes version %d: refusing to mix "
				    "versions (`joulevisor db migrate %s` converts it)",
				    db_found_version(dbs[1 + i]), OUT_SQLITE_SCHEMA_VERSION,
				    argv[2 + i]);
	}
	if (d.err || db_open(argv[1], DB_CREATE, &dbs[0], &d) || db_begin(dbs[0], &d))
		goto out;
	for (int i = 0; i <= nin && !d.err; i++)
		collect_keys(dbs[i], i, &keys, &nkeys, &capkeys, &d);
	if (d.err)
		goto out;
	char *dups = NULL;
	size_t ndup = 0, dlen = 0;
	FILE *mem = open_memstream(&dups, &dlen);
	if (!mem) {
		jv_diag_set(&d, JV_ENOMEM, NULL, 0, "out of memory");
		goto out;
	}
	ndup = report_dups(keys, nkeys, dbs, mem);
	fclose(mem);
	if (ndup) {
		/* the list does not fit a diagnostic: print it, then the summary */
		fprintf(err, "joulevisor: db merge: %zu duplicate point(s):\n%s", ndup, dups);
		jv_diag_set(&d, JV_EEXIST, argv[1], 0,
			    "nothing merged: a point must come from one input only");
	}
	free(dups);
	for (int i = 1; i <= nin && !d.err; i++)
		merge_copy(dbs[0], dbs[i], &copied, &d);
	if (!d.err && !db_commit(dbs[0], &d))
		fprintf(out, "merged %" PRId64 " run(s) from %d database(s) into %s\n", copied, nin,
			argv[1]);
out:
	for (size_t i = 0; i < nkeys; i++)
		free(keys[i].key);
	free(keys);
	for (int i = 0; i <= nin; i++)
		db_close(dbs[i]);
	free(dbs);
	return d.err ? fail_diag(err, &d) : 0;
}

static int cmd_migrate(int argc, char **argv, FILE *out, FILE *err)
{
	struct jv_diag d;
	jv_diag_clear(&d);
	if (argc != 2) {
		fprintf(err, "joulevisor: db migrate: want DB\n");
		return 2;
	}
	struct db *db;
	if (db_open(argv[1], DB_WRITE, &db, &d))
		return fail_diag(err, &d);
	if (db_found_version(db) == OUT_SQLITE_SCHEMA_VERSION)
		fprintf(out, "%s: already at schema version %d\n", argv[1], OUT_SQLITE_SCHEMA_VERSION);
	else
		fprintf(out, "%s: schema version %d -> %d\n", argv[1], db_found_version(db),
			OUT_SQLITE_SCHEMA_VERSION);
	db_close(db);
	return 0;
}

int db_cli(int argc, char **argv, FILE *out, FILE *err)
{
	if (argc < 2) {
		usage(err);
		return 2;
	}
	const char *c = argv[1];
	if (!strcmp(c, "-h") || !strcmp(c, "--help") || !strcmp(c, "help")) {
		usage(out);
		return 0;
	}
	for (int i = 2; i < argc; i++)
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(out);
			return 0;
		}
	if (!strcmp(c, "ls"))
		return cmd_ls(argc - 1, argv + 1, out, err);
	if (!strcmp(c, "show"))
		return cmd_show(argc - 1, argv + 1, out, err);
	if (!strcmp(c, "export"))
		return cmd_export(argc - 1, argv + 1, out, err);
	if (!strcmp(c, "rm"))
		return cmd_rm(argc - 1, argv + 1, out, err);
	if (!strcmp(c, "merge"))
		return cmd_merge(argc - 1, argv + 1, out, err);
	if (!strcmp(c, "migrate"))
		return cmd_migrate(argc - 1, argv + 1, out, err);
	fprintf(err, "joulevisor: db: unknown subcommand '%s' (ls, show, export, rm, merge, migrate)\n",
		c);
	return 2;
}
