/*
 * db_cli: `joulevisor db`: usage, the subcommands ls, show, export, rm and
 * migrate, and the dispatch to them (merge: db_merge.c).
 *
 * The theory of operation: the top of sim/db.c; the other files of
 * the run store tools: sim/db_int.h.
 */
#include "sim/db_int.h"

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

int db_int_fail_diag(FILE *err, const struct jv_diag *d)
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
		return db_int_fail_diag(err, &d);
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db->h, LS_SQL, -1, &st, NULL) != SQLITE_OK ||
	    (scen ? sqlite3_bind_text(st, 1, scen, -1, SQLITE_TRANSIENT) : SQLITE_OK) ||
	    (status ? sqlite3_bind_text(st, 2, status, -1, SQLITE_TRANSIENT) : SQLITE_OK)) {
		db_error(db, &d, "listing runs");
		sqlite3_finalize(st);
		db_close(db);
		return db_int_fail_diag(err, &d);
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
		return db_int_fail_diag(err, &d);
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
		if (!name || !db_int_is_ident(name))
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
	db_int_sb_add(&q, "SELECT count(*) FROM ");
	db_int_sb_ident(&q, table, "");
	db_int_sb_add(&q, " WHERE run_id = ?1");
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
		return db_int_fail_diag(err, &d);
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
	db_int_free_strv(tables, nt);
	db_close(db);
	return d.err ? db_int_fail_diag(err, &d) : 0;
}

/* Write the rows of one table of run id as CSV (columns without run_id). */
static int export_table(struct db *db, const char *table, int64_t id, FILE *f,
			struct jv_diag *d)
{
	char **cols, **types;
	int n, err;
	if ((err = db_int_table_columns(db, table, &cols, &types, &n, d)))
		return err;
	struct sbuf q = {0};
	sqlite3_stmt *st = NULL;
	db_int_sb_add(&q, "SELECT ");
	for (int k = 1; k < n; k++) {
		db_int_sb_add(&q, k > 1 ? ", " : "");
		db_int_sb_ident(&q, cols[k], "");
		fprintf(f, "%s%s", k > 1 ? "," : "", cols[k]);
	}
	fputc('\n', f);
	db_int_sb_add(&q, " FROM ");
	db_int_sb_ident(&q, table, "");
	db_int_sb_add(&q, " WHERE run_id = ?1 ORDER BY rowid");
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
			db_int_csv_value(f, st, k, n == 2, 0);
		}
		fputc('\n', f);
	}
	if (!err && rc != SQLITE_DONE)
		err = db_error(db, d, "reading a table");
	sqlite3_finalize(st);
	free(q.s);
	db_int_free_strv(cols, n);
	db_int_free_strv(types, n);
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
	db_int_free_strv(tables, nt);
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
		db_int_csv_value(f, st, 1, 0, 1);
		fprintf(f, ",%" PRIu64 ",", (uint64_t)sqlite3_column_int64(st, 2));
		for (int k = 3; k <= 8; k++) {
			db_int_csv_value(f, st, k, 0, 1);
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
		return db_int_fail_diag(err, &d);
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
	return d.err ? db_int_fail_diag(err, &d) : 0;
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
		return db_int_fail_diag(err, &d);
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
	return d.err ? db_int_fail_diag(err, &d) : 0;
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
		return db_int_fail_diag(err, &d);
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
		return db_int_cmd_merge(argc - 1, argv + 1, out, err);
	if (!strcmp(c, "migrate"))
		return cmd_migrate(argc - 1, argv + 1, out, err);
	fprintf(err, "joulevisor: db: unknown subcommand '%s' (ls, show, export, rm, merge, migrate)\n",
		c);
	return 2;
}
