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
 *
 * The files of the run store tools and which does what: sim/db_int.h.
 */
#include "sim/db_int.h"

/* ---- growable string ------------------------------------------------------ */

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

void db_int_sb_add(struct sbuf *b, const char *s)
{
	sb_addn(b, s, strlen(s));
}

/* A quoted SQL identifier (embedded quotes doubled). */
void db_int_sb_ident(struct sbuf *b, const char *id, const char *suffix)
{
	db_int_sb_add(b, "\"");
	for (int part = 0; part < 2; part++)
		for (const char *p = part ? suffix : id; *p; p++)
			sb_addn(b, *p == '"' ? "\"\"" : p, *p == '"' ? 2 : 1);
	db_int_sb_add(b, "\"");
}

/* Hand the string over (NULL and freed on OOM). */
char *db_int_sb_take(struct sbuf *b)
{
	if (b->oom) {
		free(b->s);
		return NULL;
	}
	if (!b->s)
		return strdup("");
	return b->s;
}

int db_int_is_ident(const char *s)
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

int db_int_exec(struct db *db, const char *sql, const char *what, struct jv_diag *d)
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
	int err = db_int_exec(db, "BEGIN IMMEDIATE", "starting a transaction", d);
	if (!err)
		db->in_txn = 1;
	return err;
}

int db_commit(struct db *db, struct jv_diag *d)
{
	int err = db_int_exec(db, "COMMIT", "committing", d);
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
		return db_int_exec(db, COMPAT_V1_SQL, "reading a version 1 database", d);
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
	if ((err = db_int_exec(db, "PRAGMA foreign_keys=ON", "foreign_keys", d)) ||
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
			db_int_sb_add(b, hex);
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
			db_int_sb_add(&b, " ");
		first = 0;
		sb_escaped(&b, p[i]->key);
		db_int_sb_add(&b, "=");
		sb_escaped(&b, p[i]->value);
	}
	free(p);
	*out = db_int_sb_take(&b);
	return *out ? 0 : JV_ENOMEM;
}

int db_point_key(const char *scenario, uint64_t seed, const char *canon, char **out)
{
	struct sbuf b = {0};
	char num[32];
	sb_escaped(&b, scenario ? scenario : "");
	snprintf(num, sizeof num, " seed=%" PRIu64, seed);
	db_int_sb_add(&b, num);
	if (canon && *canon) {
		db_int_sb_add(&b, " ");
		db_int_sb_add(&b, canon);
	}
	*out = db_int_sb_take(&b);
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
				db_int_sb_add(&b, " ");
			first = 0;
			sb_addn(&b, s, len);
		}
		s += len;
		while (*s == ' ')
			s++;
	}
	int oom = k.oom;
	free(k.s);
	*out = db_int_sb_take(&b);
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
void db_int_csv_value(FILE *f, sqlite3_stmt *st, int k, int quote_empty, int full_precision)
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
