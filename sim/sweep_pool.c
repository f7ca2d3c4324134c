/*
 * sweep_pool: the parent process: the pool of worker processes, progress
 * and tallies, stale temporary files, and sweep_run.
 *
 * The theory of operation: the top of sim/sweep.c; the other files of
 * sweep: sim/sweep_int.h.
 */
#include "sim/sweep_int.h"

/* ---- the parent: worker pool, progress ---------------------------------------- */

struct slot {
	pid_t pid;
	size_t pt;
	double t0;
};

struct tally {
	size_t todo, done, ok, failed, violated, dup;
	double t_start, busy_s;
};

static void fmt_dur(double s, char *buf, size_t cap)
{
	long t = (long)(s + 0.5);
	if (t >= 3600)
		snprintf(buf, cap, "%ldh%02ldm", t / 3600, t / 60 % 60);
	else if (t >= 60)
		snprintf(buf, cap, "%ldm%02lds", t / 60, t % 60);
	else
		snprintf(buf, cap, "%lds", t);
}

static void draw_bar(FILE *err, const struct tally *t, int jobs)
{
	char bar[SWEEP_BAR_W + 1], el[32], eta[32];
	size_t fill = t->todo ? t->done * SWEEP_BAR_W / t->todo : SWEEP_BAR_W;
	for (size_t i = 0; i < SWEEP_BAR_W; i++)
		bar[i] = i < fill ? '#' : '-';
	bar[SWEEP_BAR_W] = '\0';
	double elapsed = sweep_int_now_s() - t->t_start;
	fmt_dur(elapsed, el, sizeof el);
	if (t->done > 0 && t->done < t->todo) {
		double per = t->busy_s / (double)t->done; /* seconds of one worker per point */
		size_t left = t->todo - t->done;
		fmt_dur(per * (double)left / (double)(jobs < (int)left ? jobs : (int)left), eta,
			sizeof eta);
	} else {
		snprintf(eta, sizeof eta, t->done ? "0s" : "?");
	}
	fprintf(err, "\r\033[Ksweep [%s] %zu/%zu %3d%%", bar, t->done, t->todo,
		t->todo ? (int)(100 * t->done / t->todo) : 100);
	if (t->failed)
		fprintf(err, " %zu failed", t->failed);
	fprintf(err, " elapsed %s ETA %s", el, eta);
	fflush(err);
}

static void account(struct tally *t, const struct plan_pt *q, int status, double secs,
		    const struct sweep_opts *o, const char *out_dir, pid_t pid, FILE *err,
		    int tty)
{
	const char *what = "ok";
	t->done++;
	t->busy_s += secs;
	if (WIFEXITED(status)) {
		switch (WEXITSTATUS(status)) {
		case CHILD_OK:
			t->ok++;
			break;
		case CHILD_VIOLATION:
			t->violated++;
			what = "stored, conservation violated";
			break;
		case CHILD_DUP:
			t->dup++;
			what = "already stored by another process";
			break;
		default:
			t->failed++;
			what = "FAILED";
			break;
		}
	} else {
		char tmpdb[SWEEP_DIR_MAX + 64];
		t->failed++;
		what = "FAILED";
		fprintf(err, "%sjoulevisor: sweep: point %s: worker killed by signal %d%s\n",
			tty ? "\r\033[K" : "", q->key, WIFSIGNALED(status) ? WTERMSIG(status) : 0,
			"; the database is unchanged for this point, rerun to retry it");
		sweep_int_tmp_db_path(out_dir, q->id, (long)pid, tmpdb, sizeof tmpdb);
		sweep_int_remove_db_files(tmpdb);
	}
	if (o->quiet)
		return;
	if (tty)
		draw_bar(err, t, o->jobs);
	else
		fprintf(err, "sweep: [%zu/%zu] %s (%.2f s) %s\n", t->done, t->todo, what, secs, q->key);
}

static void stop_workers(struct slot *slots, int jobs, int sig)
{
	for (int i = 0; i < jobs; i++)
		if (slots[i].pid > 0)
			kill(slots[i].pid, sig);
}

static int run_pool(const struct sweep_opts *o, struct plan *pl, const char *out_dir,
		    struct tally *t, FILE *err)
{
	struct slot *slots = calloc((size_t)o->jobs, sizeof *slots);
	const char *crash_env = getenv("JV_SWEEP_TEST_CRASH");
	long crash_at = crash_env ? atol(crash_env) : 0, launched = 0;
	int tty = isatty(fileno(err)), running = 0, stop = 0;
	size_t next = 0;
	if (!slots)
		return JV_ENOMEM;
	jv_signal_install();
	if (!o->quiet && tty)
		draw_bar(err, t, o->jobs);
	for (;;) {
		while (!stop && running < o->jobs && next < pl->n) {
			struct plan_pt *q = &pl->pt[next];
			if (q->dup || q->complete) {
				next++;
				continue;
			}
			int s = 0;
			while (slots[s].pid > 0)
				s++;
			fflush(stdout);
			fflush(err);
			launched++;
			pid_t pid = fork();
			if (pid < 0) {
				fprintf(err, "joulevisor: sweep: cannot start a worker: %s\n",
					strerror(errno));
				stop = -1;
				break;
			}
			if (pid == 0) {
				signal(SIGINT, SIG_DFL);
				signal(SIGTERM, SIG_DFL);
				free(slots); /* the parent's; leak checkers run in workers too */
				struct worker_ctx w = {o, out_dir, crash_at == launched};
				int rc = sweep_int_run_point(&w, q, err);
				fflush(NULL);
				_exit(rc);
			}
			slots[s] = (struct slot){pid, next, sweep_int_now_s()};
			running++;
			next++;
		}
		if (running == 0)
			break;
		int status;
		pid_t pid = waitpid(-1, &status, 0);
		if (pid < 0) {
			if (errno == EINTR) {
				if (jv_signal_pending() && !stop) {
					stop = jv_signal_pending();
					stop_workers(slots, o->jobs, SIGTERM);
				}
				continue;
			}
			break; /* ECHILD: nothing left */
		}
		for (int s = 0; s < o->jobs; s++)
			if (slots[s].pid == pid) {
				account(t, &pl->pt[slots[s].pt], status, sweep_int_now_s() - slots[s].t0, o,
					out_dir, pid, err, tty);
				slots[s].pid = 0;
				running--;
			}
		if (jv_signal_pending() && !stop) {
			stop = jv_signal_pending();
			stop_workers(slots, o->jobs, SIGTERM);
		}
	}
	free(slots);
	if (!o->quiet && tty)
		fprintf(err, "\r\033[K");
	return stop > 0 ? jv_signal_exit_code(stop) : stop < 0 ? 1 : 0;
}

static int cmp_id(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Temporary databases left by workers killed with the whole sweep
 * (".<id>.rundb-PID"): removed for the points of this shard, which no other
 * process runs (shards are disjoint). */
static void remove_stale_tmp(const struct plan *pl, const char *out_dir)
{
	static const char tag[] = ".rundb-";
	DIR *dir = opendir(out_dir);
	char **ids = malloc((pl->n ? pl->n : 1) * sizeof *ids);
	size_t n = 0;
	struct dirent *e;
	if (!dir || !ids)
		goto out;
	for (size_t i = 0; i < pl->n; i++)
		if (!pl->pt[i].dup)
			ids[n++] = (char *)pl->pt[i].id;
	qsort(ids, n, sizeof *ids, cmp_id);
	while ((e = readdir(dir))) {
		char id[17], path[SWEEP_DIR_MAX + 300];
		const char *dot = e->d_name;
		if (dot[0] != '.' || strlen(dot) < 1 + 16 + sizeof tag - 1 ||
		    strncmp(dot + 17, tag, sizeof tag - 1) != 0)
			continue;
		memcpy(id, dot + 1, 16);
		id[16] = '\0';
		char *key = id;
		if (!bsearch(&key, ids, n, sizeof *ids, cmp_id))
			continue;
		snprintf(path, sizeof path, "%s/%s", out_dir, e->d_name);
		unlink(path);
	}
out:
	if (dir)
		closedir(dir);
	free(ids);
}

static int list_points(const struct plan *pl, FILE *out)
{
	for (size_t i = 0; i < pl->n; i++)
		fprintf(out, "%" PRIu64 "\t%s\t%s\t%s\n", pl->pt[i].index,
			pl->pt[i].dup ? "repeat" : pl->pt[i].complete ? "complete" : "todo",
			pl->pt[i].id, pl->pt[i].key);
	return 0;
}

int sweep_run(const struct sweep_opts *o, FILE *out, FILE *err)
{
	struct jv_diag d;
	struct plan pl;
	struct db *db = NULL;
	char out_dir[SWEEP_DIR_MAX];
	int rc = 0;
	jv_diag_clear(&d);
	memset(&pl, 0, sizeof pl);
	if (sweep_check_spec(&o->spec, &d) || sweep_int_plan_build(&o->spec, &pl, &d)) {
		fprintf(err, "joulevisor: sweep: %s\n", d.msg);
		sweep_int_plan_free(&pl);
		return jv_exit_code(d.err);
	}
	if (o->db) {
		struct stat st;
		int exists = stat(o->db, &st) == 0;
		if ((!o->list || exists) &&
		    (db_open(o->db, o->list ? DB_READ : DB_CREATE, &db, &d) ||
		     sweep_int_plan_mark_complete(&pl, db, &d))) {
			fprintf(err, "joulevisor: %s\n", d.msg);
			rc = jv_exit_code(d.err);
			goto out;
		}
		db_close(db);
		db = NULL;
	}
	if (o->list) {
		rc = list_points(&pl, out);
		goto out;
	}
	if (o->out_dir)
		snprintf(out_dir, sizeof out_dir, "%s", o->out_dir);
	else
		snprintf(out_dir, sizeof out_dir, "%s/%s", SWEEP_DEFAULT_OUT, pl.scenario_name);
	if (o->out_dir && strlen(o->out_dir) >= SWEEP_DIR_MAX) {
		fprintf(err, "joulevisor: sweep: --out-dir: longer than %d characters\n",
			SWEEP_DIR_MAX - 1);
		rc = 2;
		goto out;
	}
	if (sweep_int_mkdir_p(out_dir) != 0) {
		fprintf(err, "joulevisor: %s: cannot create directory: %s\n", out_dir, strerror(errno));
		rc = 1;
		goto out;
	}
	struct tally t = {.t_start = sweep_int_now_s()};
	size_t skipped = 0, repeats = 0;
	for (size_t i = 0; i < pl.n; i++) {
		repeats += pl.pt[i].dup;
		skipped += !pl.pt[i].dup && pl.pt[i].complete;
	}
	t.todo = pl.n - skipped - repeats;
	remove_stale_tmp(&pl, out_dir);
	int prc = run_pool(o, &pl, out_dir, &t, err);
	fprintf(out,
		"sweep: %s: %zu point(s) in shard %d/%d of %zu: %zu run, %zu already complete",
		pl.scenario_name, pl.n - repeats, o->spec.shard_k, o->spec.shard_n,
		(size_t)(pl.n_total - pl.n_dup_total), t.ok + t.violated, skipped + t.dup);
	if (repeats)
		fprintf(out, ", %zu repeated sample(s) run once", repeats);
	fprintf(out, ", %zu failed (%.1f s); database %s, run directories in %s\n", t.failed,
		sweep_int_now_s() - t.t_start, o->db, out_dir);
	if (t.violated)
		fprintf(err, "joulevisor: sweep: %zu point(s) violated energy conservation "
			"(stored; see their summary.txt)\n", t.violated);
	if (prc > 1)
		fprintf(err, "joulevisor: sweep: interrupted; %zu point(s) not run: rerun the same "
			"command to resume\n", t.todo - t.done);
	else if (t.failed)
		fprintf(err, "joulevisor: sweep: %zu point(s) failed: rerun the same command to "
			"retry them\n", t.failed);
	rc = prc ? prc : (t.failed || t.violated) ? 1 : 0;
out:
	db_close(db);
	sweep_int_plan_free(&pl);
	return rc;
}
