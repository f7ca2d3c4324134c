/*
 * reproduce_run: plan the runs of the chosen figures and run them in
 * parallel child processes (progress line, failed runs quoted).
 *
 * What is reproduced and checked: the top of sim/reproduce.c; the
 * other files of reproduce: sim/reproduce_int.h.
 */
#include "sim/reproduce_int.h"

/* ---- planning and running ------------------------------------------------- */

static int plan_add(struct repro *r, int fig, const char *name, const char *scn, struct jv_diag *d)
{
	if (r->n_runs >= REPRO_MAX_RUNS)
		return jv_diag_set(d, JV_ELIMIT, NULL, 0, "too many runs");
	struct repro_run *rn = &r->runs[r->n_runs++];
	memset(rn, 0, sizeof *rn);
	rn->fig = fig;
	snprintf(rn->name, sizeof rn->name, "%s", name);
	if (repro_int_path2(rn->scenario, sizeof rn->scenario, r->scn_dir, scn))
		return jv_diag_set(d, JV_ELIMIT, r->scn_dir, 0, "path too long");
	if (access(rn->scenario, R_OK) != 0)
		return jv_diag_set(d, JV_ENOENT, rn->scenario, 0, "cannot read the bundled scenario: %s",
				   strerror(errno));
	return 0;
}

static void plan_ov(struct repro *r, const char *key, const char *value)
{
	struct repro_run *rn = &r->runs[r->n_runs - 1];
	if (rn->n_ov >= REPRO_MAX_OV)
		return; /* the plan below never gets there */
	snprintf(rn->ovk[rn->n_ov], REPRO_OV_LEN, "%s", key);
	snprintf(rn->ovv[rn->n_ov], REPRO_OV_LEN, "%s", value);
	rn->n_ov++;
}

int repro_int_plan(struct repro *r, unsigned figs, struct jv_diag *d)
{
	int q = r->o->quick, rc = 0;
	if (figs & REPRO_FIG5)
		rc = plan_add(r, FIG5, "fig5-matrix", "fig5.ini", d);
	for (int k = 0; !rc && (figs & REPRO_FIG7) && k < FIG7_N_BS; k++) {
		char sz[32], name[48], val[48];
		repro_int_fmt_size((int64_t)FIG7_BS_MIN_B << k, sz, sizeof sz);
		snprintf(name, sizeof name, "fig7-%s", sz);
		snprintf(val, sizeof val, "%" PRId64 "B", (int64_t)FIG7_BS_MIN_B << k);
		rc = plan_add(r, FIG7, name, "fig7.ini", d);
		if (!rc) {
			plan_ov(r, "vm." FIG7_CLIENT ".block_size", val);
			if (q)
				plan_ov(r, "global.duration", QUICK_FIG7_DURATION);
		}
	}
	if (!rc && (figs & REPRO_FIG8)) {
		rc = plan_add(r, FIG8, "fig8-limits", "fig8.ini", d);
		if (!rc && q) {
			plan_ov(r, "global.duration", QUICK_FIG8_DURATION);
			plan_ov(r, "vm.client1.limit_from", QUICK_FIG8_LIMIT_FROM);
			plan_ov(r, "vm.client2.limit_from", QUICK_FIG8_LIMIT_FROM);
		}
	}
	if (!rc && (figs & REPRO_FIG9)) {
		rc = plan_add(r, FIG9, "fig9-unaware", "fig9-unaware.ini", d);
		if (!rc && q)
			plan_ov(r, "global.duration", QUICK_FIG9_DURATION);
		if (!rc)
			rc = plan_add(r, FIG9, "fig9-aware", "fig9-aware.ini", d);
		if (!rc && q)
			plan_ov(r, "global.duration", QUICK_FIG9_DURATION);
	}
	return rc;
}

/* The worker: one run through run_main, its messages into the run's log. */
static void child_run(struct repro *r, struct repro_run *rn)
{
	char rundir[REPRO_PATH_MAX], log[REPRO_PATH_MAX], cmd[4096];
	struct scn_override ov[REPRO_MAX_OV];
	snprintf(rundir, sizeof rundir, "%s/runs/%s", r->dir, rn->name);
	snprintf(log, sizeof log, "%s/runs/%s.log", r->dir, rn->name);
	int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0666);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		close(fd);
	}
	int n = snprintf(cmd, sizeof cmd, "joulevisor run %s -o %s --force -q", rn->scenario, rundir);
	for (int i = 0; i < rn->n_ov; i++) {
		ov[i].key = rn->ovk[i];
		ov[i].value = rn->ovv[i];
		if (n > 0 && (size_t)n < sizeof cmd)
			n += snprintf(cmd + n, sizeof cmd - (size_t)n, " --set %s=%s", rn->ovk[i],
				      rn->ovv[i]);
	}
	struct run_opts o = {
		.scenario = rn->scenario,
		.out_dir = rundir,
		.force = 1,
		.quiet = 1,
		.ov = ov,
		.n_ov = rn->n_ov,
		.command_line = cmd,
	};
	int rc = run_main(&o, stdout, stderr);
	fflush(stdout);
	fflush(stderr);
	_exit(rc);
}

static int spawn(struct repro *r, struct repro_run *rn, struct jv_diag *d)
{
	fflush(r->out);
	fflush(r->err);
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0)
		return jv_diag_set(d, JV_EIO, rn->name, 0, "cannot start a worker: %s", strerror(errno));
	if (pid == 0)
		child_run(r, rn);
	rn->pid = pid;
	return 0;
}

/* After a run: its simulated time (progress) and its log (removed when empty). */
static void run_done(struct repro *r, struct repro_run *rn)
{
	char log[REPRO_PATH_MAX];
	snprintf(log, sizeof log, "%s/runs/%s.log", r->dir, rn->name);
	struct stat st;
	if (rn->exit_code == 0 && stat(log, &st) == 0 && st.st_size == 0)
		unlink(log);
	if (rn->exit_code == 0) {
		struct run_out ro;
		struct jv_diag d;
		jv_diag_clear(&d);
		if (repro_int_load_summary(r, rn->name, &ro, &d) == 0)
			rn->sim_s = ro.dur_s;
		plot_tab_free(&ro.sum);
	}
}

static void report_failed_run(struct repro *r, const struct repro_run *rn)
{
	char log[REPRO_PATH_MAX], text[REPRO_LOG_QUOTE_MAX];
	snprintf(log, sizeof log, "%s/runs/%s.log", r->dir, rn->name);
	size_t n = 0;
	FILE *f = fopen(log, "r");
	if (f) {
		n = fread(text, 1, sizeof text - 1, f);
		fclose(f);
	}
	text[n] = '\0';
	while (n && text[n - 1] == '\n')
		text[--n] = '\0';
	if (rn->exit_code >= 0)
		fprintf(r->err, "joulevisor: reproduce: run %s failed (exit %d; log %s)%s%s\n", rn->name,
			rn->exit_code, log, n ? ":\n" : "", text);
	else
		fprintf(r->err, "joulevisor: reproduce: run %s was killed by signal %d (log %s)%s%s\n",
			rn->name, -rn->exit_code, log, n ? ":\n" : "", text);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int repro_int_run_all(struct repro *r, int jobs, struct jv_diag *d)
{
	int next = 0, running = 0, done = 0, failed = 0, rc = 0;
	double t0 = now_s(), sim = 0;
	if (r->progress)
		fprintf(r->err, "reproduce: %d runs, %d workers, into %s/runs\n", r->n_runs, jobs, r->dir);
	while (done < r->n_runs) {
		while (!rc && running < jobs && next < r->n_runs) {
			rc = spawn(r, &r->runs[next], d);
			if (rc)
				break;
			if (r->progress) {
				char msg[2 * REPRO_PROGRESS_W + 64];
				snprintf(msg, sizeof msg, "reproduce: [%d/%d] started %s", done, r->n_runs,
					 r->runs[next].name);
				fprintf(r->err, "\r%-*s", REPRO_PROGRESS_W, msg);
			}
			next++;
			running++;
		}
		if (running == 0)
			break;
		int st = 0;
		pid_t pid = waitpid(-1, &st, 0);
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			rc = jv_diag_set(d, JV_EIO, NULL, 0, "waiting for the workers: %s", strerror(errno));
			break;
		}
		struct repro_run *rn = NULL;
		for (int i = 0; i < r->n_runs; i++)
			if (r->runs[i].pid == pid && !r->runs[i].done)
				rn = &r->runs[i];
		if (!rn)
			continue; /* not one of ours */
		running--;
		done++;
		rn->done = 1;
		rn->exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
		run_done(r, rn);
		if (rn->exit_code != 0)
			failed++;
		sim += rn->sim_s;
		if (r->progress) {
			double dt = now_s() - t0;
			char msg[2 * REPRO_PROGRESS_W + 64];
			snprintf(msg, sizeof msg, "reproduce: [%d/%d] done %s, %.0f s simulated, %.0f s/s",
				 done, r->n_runs, rn->name, sim, dt > 0 ? sim / dt : 0.0);
			fprintf(r->err, "\r%-*s", REPRO_PROGRESS_W, msg);
		}
	}
	if (r->progress)
		fputc('\n', r->err);
	for (int i = 0; i < r->n_runs; i++)
		if (r->runs[i].done && r->runs[i].exit_code != 0)
			report_failed_run(r, &r->runs[i]);
	if (!rc && failed)
		rc = jv_diag_set(d, JV_EINVARIANT, NULL, 0, "%d of %d runs failed", failed, r->n_runs);
	return rc;
}
