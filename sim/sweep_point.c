/*
 * sweep_point: one point, in a worker process: run it, derive its control
 * and accounting metrics from the run's outputs, and store the run through
 * a temporary database copied into the sweep's.
 *
 * The theory of operation: the top of sim/sweep.c; the other files of
 * sweep: sim/sweep_int.h.
 */
#include "sim/sweep_int.h"

/* ---- one point (in a worker process) ----------------------------------------- */

/* summary.txt as key/value pairs */
struct kv {
	char *buf;
	char **key, **val;
	int n;
};

static void kv_free(struct kv *kv)
{
	free(kv->buf);
	free(kv->key);
	free(kv->val);
	memset(kv, 0, sizeof *kv);
}

static int kv_load(const char *path, struct kv *kv)
{
	memset(kv, 0, sizeof *kv);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t cap = 0, len = 0;
	char tmp[4096];
	size_t r;
	while ((r = fread(tmp, 1, sizeof tmp, f)) > 0) {
		if (len + r + 1 > cap) {
			cap = (len + r + 1) * 2;
			char *p = realloc(kv->buf, cap);
			if (!p) {
				fclose(f);
				kv_free(kv);
				return -1;
			}
			kv->buf = p;
		}
		memcpy(kv->buf + len, tmp, r);
		len += r;
	}
	fclose(f);
	if (!kv->buf)
		return 0;
	kv->buf[len] = '\0';
	int lines = 1;
	for (size_t i = 0; i < len; i++)
		lines += kv->buf[i] == '\n';
	kv->key = calloc((size_t)lines, sizeof *kv->key);
	kv->val = calloc((size_t)lines, sizeof *kv->val);
	if (!kv->key || !kv->val) {
		kv_free(kv);
		return -1;
	}
	for (char *s = kv->buf; s && *s;) {
		char *nl = strchr(s, '\n');
		if (nl)
			*nl = '\0';
		char *sep = strstr(s, ": ");
		if (*s != '#' && sep) {
			*sep = '\0';
			kv->key[kv->n] = s;
			kv->val[kv->n] = sep + 2;
			kv->n++;
		}
		s = nl ? nl + 1 : NULL;
	}
	return 0;
}

/* The leading number of KEY's value; 0 when found. */
static int kv_num(const struct kv *kv, const char *key, double *v)
{
	for (int i = 0; i < kv->n; i++)
		if (strcmp(kv->key[i], key) == 0) {
			char *end;
			*v = strtod(kv->val[i], &end);
			return end == kv->val[i] || !isfinite(*v) ? -1 : 0;
		}
	return -1;
}

struct metric_list {
	int n, cap;
	struct {
		char name[200];
		double value;
		const char *unit;
	} *m;
};

static void ml_add(struct metric_list *ml, const char *name, double value, const char *unit)
{
	if (!isfinite(value))
		return;
	if (ml->n == ml->cap) {
		int cap = ml->cap ? 2 * ml->cap : 32;
		void *p = realloc(ml->m, (size_t)cap * sizeof *ml->m);
		if (!p)
			return; /* the copy fails later on its own allocation */
		ml->m = p;
		ml->cap = cap;
	}
	snprintf(ml->m[ml->n].name, sizeof ml->m[ml->n].name, "%s", name);
	ml->m[ml->n].value = value;
	ml->m[ml->n].unit = unit;
	ml->n++;
}

/* Steps above SWEEP_ABOVE_LIMIT_FACTOR x limit per limited VM and loop. */
static int metrics_control(struct db *tmp, int64_t run_id, const struct scn *s,
			   const struct kv *kv, struct metric_list *ml, struct jv_diag *d)
{
	sqlite3_stmt *st = NULL;
	/* the steps whose period lies after the limit came into force, as
	 * run.c's control metrics count them */
	if (sqlite3_prepare_v2(db_sqlite(tmp),
			       "SELECT count(*), coalesce(sum(measured_w > limit_w * ?3), 0) FROM control"
			       " WHERE run_id = ?1 AND vm = ?2 AND actuator = ?4 AND t_ns - ?5 >= ?6",
			       -1, &st, NULL) != SQLITE_OK) {
		/* no control table: no limit was ever in force */
		return 0;
	}
	for (int i = 0; i < s->n_vms; i++)
		for (int disk = 0; disk < 2; disk++) {
			double limit = disk ? s->vm[i].disk_limit_w : s->vm[i].cpu_limit_w;
			char key[256];
			double on_ns;
			snprintf(key, sizeof key, "limit_%s_%s_in_force_from_ns", s->vm[i].name,
				 disk ? "disk" : "cpu");
			if (limit <= 0 || kv_num(kv, key, &on_ns))
				continue; /* no limit, or never in force */
			int64_t period_ns = disk ? s->manager.disk_period_ns : s->manager.cpu_period_ns;
			sqlite3_reset(st);
			sqlite3_bind_int64(st, 5, period_ns);
			sqlite3_bind_int64(st, 6, (int64_t)on_ns);
			sqlite3_bind_int64(st, 1, run_id);
			sqlite3_bind_text(st, 2, s->vm[i].name, -1, SQLITE_TRANSIENT);
			sqlite3_bind_double(st, 3, SWEEP_ABOVE_LIMIT_FACTOR);
			sqlite3_bind_text(st, 4, disk ? "budget" : "stride", -1, SQLITE_STATIC);
			if (sqlite3_step(st) != SQLITE_ROW) {
				int err = db_error(tmp, d, "reading control steps");
				sqlite3_finalize(st);
				return err;
			}
			int64_t steps = sqlite3_column_int64(st, 0);
			int64_t above = sqlite3_column_int64(st, 1);
			if (steps == 0)
				continue;
			double period_s = (double)period_ns * 1e-9;
			char name[200];
			snprintf(name, sizeof name, "limit_%s_%s_time_above_limit_s", s->vm[i].name,
				 disk ? "disk" : "cpu");
			ml_add(ml, name, (double)above * period_s, "s");
			snprintf(name, sizeof name, "limit_%s_%s_violations", s->vm[i].name,
				 disk ? "disk" : "cpu");
			ml_add(ml, name, (double)above, "steps");
		}
	sqlite3_finalize(st);
	return 0;
}

static int metrics_error(struct db *tmp, int64_t run_id, struct metric_list *ml,
			 struct jv_diag *d)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db_sqlite(tmp),
			       "SELECT consumer, error_j, error_pct FROM error WHERE run_id = ?1", -1,
			       &st, NULL) != SQLITE_OK)
		return 0; /* no truth, no error table */
	sqlite3_bind_int64(st, 1, run_id);
	double max_pct = -1, max_j = -1;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *who = (const char *)sqlite3_column_text(st, 0);
		const char *pct = (const char *)sqlite3_column_text(st, 2);
		if (pct && *pct && fabs(atof(pct)) > max_pct)
			max_pct = fabs(atof(pct));
		if (who && strcmp(who, "unattributed") != 0 &&
		    fabs(sqlite3_column_double(st, 1)) > max_j)
			max_j = fabs(sqlite3_column_double(st, 1));
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_error(tmp, d, "reading the error table");
	if (max_pct >= 0)
		ml_add(ml, "accounting_error_max_abs_pct", max_pct, "%");
	if (max_j >= 0)
		ml_add(ml, "accounting_error_max_abs_j", max_j, "J");
	return 0;
}

static void metrics_summary(const struct kv *kvp, const struct scn *s, struct metric_list *ml)
{
	char key[256], name[256];
	const struct kv kv = *kvp;
	double v;
	double dur = (double)s->global.duration_ns;
	for (int i = 0; i < s->n_vms; i++) {
		const char *vm = s->vm[i].name;
		for (int disk = 0; disk < 2; disk++) {
			snprintf(key, sizeof key, "limit_%s_%s_settling_time_5pct_ns", vm,
				 disk ? "disk" : "cpu");
			snprintf(name, sizeof name, "limit_%s_%s_settling_time_5pct_s", vm,
				 disk ? "disk" : "cpu");
			if (!kv_num(&kv, key, &v))
				ml_add(ml, name, v < 0 ? -1.0 : v * 1e-9, "s");
		}
		snprintf(key, sizeof key, "vm_%s_throughput_bytes_per_s", vm);
		if (s->vm[i].kind != SCN_VM_DRIVER && !kv_num(&kv, key, &v))
			ml_add(ml, key, v, "B/s");
		snprintf(key, sizeof key, "vm_%s_cpu_ns", vm);
		snprintf(name, sizeof name, "vm_%s_cpu_share", vm);
		if (!kv_num(&kv, key, &v) && dur > 0)
			ml_add(ml, name, v / dur, "1");
	}
	if (!kv_num(&kv, "conservation_truth_max_residual_j", &v))
		ml_add(ml, "conservation_truth_max_residual_j", v, "J");
	if (!kv_num(&kv, "conservation_accounted_max_relative_residual", &v))
		ml_add(ml, "conservation_accounted_max_relative_residual", v, "1");
}

void sweep_int_tmp_db_path(const char *out_dir, const char *id, long pid, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s/.%s.rundb-%ld", out_dir, id, pid);
}

/* Copy the run of tmp into the sweep's database with the sweep metrics. */
static int store_point(const struct worker_ctx *w, const struct plan_pt *q, struct db *tmp,
		       int64_t src_id, const char *dir, const struct metric_list *ml,
		       struct jv_diag *d)
{
	struct db *db = NULL;
	struct db_copy *c = NULL;
	int64_t new_id;
	int err;
	/* synchronous=NORMAL: in WAL mode still atomic and consistent after a
	 * crash; a power loss may lose the last commits, and a re-run redoes them */
	if ((err = db_open(w->o->db, DB_WRITE, &db, d)) ||
	    (sqlite3_exec(db_sqlite(db), "PRAGMA synchronous=NORMAL", NULL, NULL, NULL) !=
		     SQLITE_OK &&
	     (err = db_error(db, d, "synchronous"))) ||
	    (err = db_begin(db, d)) ||
	    (err = db_copy_open(db, tmp, DB_COPY_SKIP_POWER, &c, d)))
		goto out;
	struct db_run_meta meta = {.overrides = q->canon, .point_key = q->key, .out_dir = dir};
	if ((err = db_copy_run(c, src_id, &meta, &new_id, d)))
		goto out;
	for (int i = 0; i < ml->n && !err; i++)
		err = db_add_metric(db, new_id, ml->m[i].name, ml->m[i].value, ml->m[i].unit, d);
	if (err)
		goto out;
	if (w->crash)
		raise(SIGKILL);
	db_copy_close(c);
	c = NULL;
	err = db_commit(db, d);
out:
	db_copy_close(c);
	db_close(db); /* rolls back what was not committed */
	return err;
}

int sweep_int_run_point(const struct worker_ctx *w, const struct plan_pt *q, FILE *err)
{
	const struct sweep_spec *sp = &w->o->spec;
	struct sweep_point *p = malloc(sizeof *p);
	char dir[SWEEP_DIR_MAX + 32], tmpdb[SWEEP_DIR_MAX + 64];
	char *cap_out = NULL, *cap_err = NULL;
	size_t lo = 0, le = 0;
	struct jv_diag d;
	struct db *tmp = NULL;
	struct scn *s = NULL;
	struct metric_list ml = {0};
	struct kv kv = {0};
	int rc;
	jv_diag_clear(&d);
	if (!p)
		return CHILD_RUNTIME;
	sweep_point(sp, q->index, p);
	snprintf(dir, sizeof dir, "%s/%s", w->out_dir, q->id);
	sweep_int_tmp_db_path(w->out_dir, q->id, (long)getpid(), tmpdb, sizeof tmpdb);
	sweep_int_remove_db_files(tmpdb);
	struct run_opts ro = {.scenario = sp->scenario, .out_dir = dir, .db = tmpdb, .force = 1,
			      .quiet = 1, .ov = p->ov, .n_ov = p->n_ov,
			      .command_line = w->o->command_line};
	FILE *mo = open_memstream(&cap_out, &lo), *me = open_memstream(&cap_err, &le);
	if (!mo || !me) {
		rc = CHILD_RUNTIME;
		jv_diag_set(&d, JV_ENOMEM, NULL, 0, "out of memory");
		goto out;
	}
	rc = run_main(&ro, mo, me);
	fclose(mo);
	fclose(me);
	mo = me = NULL;
	if (rc != 0 && rc != 1) {
		rc = rc == 2 ? CHILD_INPUT : CHILD_RUNTIME;
		goto out;
	}
	int64_t src_id = 0;
	if (db_open(tmpdb, DB_READ, &tmp, &d) == 0) {
		sqlite3_stmt *st = NULL;
		if (sqlite3_prepare_v2(db_sqlite(tmp), "SELECT max(id) FROM run", -1, &st, NULL) ==
			    SQLITE_OK &&
		    sqlite3_step(st) == SQLITE_ROW)
			src_id = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	if (src_id <= 0) {
		if (!d.err)
			jv_diag_set(&d, JV_EIO, tmpdb, 0, "the run stored nothing");
		rc = CHILD_RUNTIME;
		goto out;
	}
	int violated = rc == 1;
	char sum_path[sizeof dir + 16];
	snprintf(sum_path, sizeof sum_path, "%s/summary.txt", dir);
	if (kv_load(sum_path, &kv)) {
		rc = CHILD_RUNTIME;
		jv_diag_set(&d, JV_EIO, sum_path, 0, "cannot read the run's summary");
		goto out;
	}
	if (sweep_int_try_load(sp->scenario, p->ov, p->n_ov, NULL, &s, &d) ||
	    metrics_control(tmp, src_id, s, &kv, &ml, &d) || metrics_error(tmp, src_id, &ml, &d)) {
		rc = CHILD_RUNTIME;
		goto out;
	}
	metrics_summary(&kv, s, &ml);
	int serr = store_point(w, q, tmp, src_id, dir, &ml, &d);
	if (serr == JV_EEXIST) {
		rc = CHILD_DUP;
		jv_diag_clear(&d);
	} else if (serr) {
		rc = CHILD_RUNTIME;
	} else {
		rc = violated ? CHILD_VIOLATION : CHILD_OK;
		if (w->o->discard_dirs)
			sweep_int_remove_tree(dir);
	}
out:
	if (mo)
		fclose(mo);
	if (me)
		fclose(me);
	db_close(tmp);
	sweep_int_remove_db_files(tmpdb);
	if (rc != CHILD_OK && rc != CHILD_DUP) {
		/* one write: lines of parallel workers do not interleave */
		char *msg = NULL;
		size_t ml_len = 0;
		FILE *m = open_memstream(&msg, &ml_len);
		if (m) {
			fprintf(m, "%sjoulevisor: sweep: point %s: %s\n", isatty(fileno(err)) ? "\r\033[K" : "",
				q->key, rc == CHILD_VIOLATION ? "stored, but energy conservation was violated"
							      : "failed");
			if (cap_err && *cap_err)
				fputs(cap_err, m);
			if (d.err)
				fprintf(m, "joulevisor: %s\n", d.msg);
			fclose(m);
			fputs(msg, err);
			fflush(err);
		}
		free(msg);
	}
	scn_free(s);
	kv_free(&kv);
	free(ml.m);
	free(cap_out);
	free(cap_err);
	free(p);
	return rc;
}
