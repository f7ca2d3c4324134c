/*
 * db_merge: `joulevisor db merge`: combine run stores in one transaction,
 * refusing duplicate points before anything is written.
 *
 * The theory of operation: the top of sim/db.c; the other files of
 * the run store tools: sim/db_int.h.
 */
#include "sim/db_int.h"

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

int db_int_cmd_merge(int argc, char **argv, FILE *out, FILE *err)
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
	return d.err ? db_int_fail_diag(err, &d) : 0;
}
