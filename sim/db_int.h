/*
 * db_int: the parts of the run store tools (sim/db.h) shared by their
 * files; not installed, included only by sim/db*.c. The theory of
 * operation: the top of sim/db.c.
 *
 * Which file does what:
 *  - db.c: the theory of operation, the growable string, opening,
 *    closing and transactions, point identity, metrics, CSV fields.
 *  - db_copy.c: copying runs between databases (db_copy_*).
 *  - db_cli.c: `joulevisor db` and its subcommands ls, show, export, rm
 *    and migrate.
 *  - db_merge.c: `joulevisor db merge`.
 *
 * Functions called from another file carry the prefix db_int_ (they are
 * internal to the run store tools and declared only here); their
 * prototypes below are grouped by the file that defines them.
 */
#ifndef JV_DB_INT_H
#define JV_DB_INT_H

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

struct sbuf {
	char *s;
	size_t len, cap;
	int oom;
};

/* db.c */
void db_int_sb_add(struct sbuf *b, const char *s);
void db_int_sb_ident(struct sbuf *b, const char *id, const char *suffix);
char *db_int_sb_take(struct sbuf *b);
int db_int_is_ident(const char *s);
int db_int_exec(struct db *db, const char *sql, const char *what, struct jv_diag *d);
void db_int_csv_value(FILE *f, sqlite3_stmt *st, int k, int quote_empty, int full_precision);

/* db_copy.c */
void db_int_free_strv(char **v, int n);
int db_int_table_columns(struct db *db, const char *name, char ***cols, char ***types,
			 int *n, struct jv_diag *d);

/* db_cli.c */
int db_int_fail_diag(FILE *err, const struct jv_diag *d);

/* db_merge.c */
int db_int_cmd_merge(int argc, char **argv, FILE *out, FILE *err);

#endif /* JV_DB_INT_H */
