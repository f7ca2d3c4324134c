/*
 * live: theory of operation.
 *
 * Problem: account the energy of real entities (a process tree, a cgroup,
 * libvirt/QEMU VMs) on the running Linux machine with the same core as
 * simulation and replay, show it as it happens, and make the result
 * reproducible with `joulevisor run`.
 *
 * Strategy ("the same core" by construction):
 *  1. Sources, each interval (default 100 ms, CLOCK_MONOTONIC): per
 *     entity, perf counter groups (traces/live_perf.c: task-clock always,
 *     hardware events where the machine has a PMU), or with --switches a
 *     context-switch sampler (a record at each switch-out), else
 *     /proc/PID/stat or the cgroup's CPU usage; block I/O from
 *     /proc/PID/io or the cgroup's io.stat / blkio.throttle statistics
 *     (traces/live_proc.c), mapped onto the machine's physical disks
 *     (/proc/diskstats order: disk0, disk1, ...).
 *  2. Recording: every sample is written at once as native traces in the
 *     record directory (--record DIR, else a temporary one): one
 *     `pmc-interval` file per entity (t_ns since the start, counter
 *     deltas) and one `blk-interval` file per entity (bytes and requests
 *     per disk), plus `live.ini`, a scenario that replays them in
 *     accounting mode with the session's CPU and disk parameters.
 *  3. Live table: each interval, the same CPU energy model
 *     (models/cpu_energy.h, weighted counters) turns the deltas into
 *     active power; the CPU baseline and disk idle power are split by the
 *     idle policies as the core does; disk active energy is bytes /
 *     nominal rate x (active - idle power). A tty gets a refreshing table,
 *     anything else CSV lines. --metrics-file and --listen export the same
 *     numbers in Prometheus text format.
 *  4. Accounting: at the end live.ini goes through run_main (sim/run.c),
 *     exactly as `joulevisor run REC/live.ini` would: the run directory,
 *     SQLite tables and matrix are the core's, and a replay of the
 *     recording reproduces them byte for byte (tests/scenarios/live.sh).
 *
 * Model without hardware counters (the fallback, stated in the output):
 * power = share of the CPU baseline + (busy - idle power) x utilization,
 * utilization from task-clock. It is the weighted model with one counter,
 * task_clock_ns, weighing (busy - idle) / 1e9 J per ns of CPU time; the
 * generated scenario has one CPU device (cpu0, the whole machine) at
 * 1 GHz whose TSC weighs ncpu x idle / 1e9 J per tick (the baseline), and
 * task_clock_ns as its `cycles` counter so the utilization idle policy
 * splits the baseline by CPU time.
 *
 * Parameters (defaults: the paper-2007 preset's machine): idle power per
 * CPU 36 W (12 nJ x 3 GHz), busy power per CPU 81 W (+ cycles 15 nJ x
 * 3 GHz), disk 3.6 W idle / 5.6 W active at 55 MB/s, CPU idle policy
 * utilization; --scenario FILE takes them from its [cpu] (tsc and cycles
 * weights, freq, a task_clock_ns weight, hardware counter weights by
 * name, idle_policy) and [disk]; --idle-power / --busy-power override.
 *
 * Enforcement (--enforce): each entity with a limit gets a cgroup in every
 * hierarchy (spawned commands and --pid processes are moved into one that
 * joulevisor creates; --cgroup entities use theirs): a CPU limit in watts
 * becomes a quota of limit / (active W per CPU-second measured in the
 * last interval) CPUs, a percentage a quota of that share of one CPU; a
 * disk limit in watts becomes limit / (active - idle) x nominal rate
 * bytes/s, a rate that rate, on every disk. traces/live_cgroup.c saves
 * each value and restores everything at the end, on SIGINT and SIGTERM.
 *
 * Limits: pid entities' disk bytes go to disk0 (/proc/PID/io has no
 * device); cgroup v1 throttle statistics count only devices with a rule;
 * the live table is the model evaluated per interval, the run directory
 * is the core's answer (they agree in totals).
 *
 * The files of live and which does what: sim/live_int.h.
 */
#include "sim/live_int.h"

static const char *const CPU_SRC_NAMES[] = {"perf counters", "perf context-switch sampling",
					    "/proc/PID/stat", "cgroup CPU usage", "none"};
static const char *const IO_SRC_NAMES[] = {"none", "/proc/PID/io", "cgroup v1 blkio.throttle",
					   "cgroup v2 io.stat"};

static volatile sig_atomic_t g_signal;

static void on_signal(int sig)
{
	if (!g_signal)
		g_signal = sig;
}

int64_t live_int_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ---------------------------------------------------------------------- */
/* the session                                                              */

static int prepare_recdir(struct live *L, struct jv_diag *d)
{
	if (!L->o.record) {
		const char *tmpdir = getenv("TMPDIR");
		lproc_pathf(L->recdir, sizeof L->recdir, "%s/joulevisor-live-XXXXXX",
			       tmpdir && tmpdir[0] ? tmpdir : "/tmp");
		if (!mkdtemp(L->recdir))
			return jv_diag_set(d, JV_EIO, L->recdir, 0, "cannot create: %s", strerror(errno));
		L->rec_tmp = 1;
		return 0;
	}
	lproc_pathf(L->recdir, sizeof L->recdir, "%s", L->o.record);
	if (mkdir(L->recdir, 0755) == 0)
		return 0;
	if (errno != EEXIST)
		return jv_diag_set(d, JV_EIO, L->recdir, 0, "cannot create: %s", strerror(errno));
	char probe[LIVE_PATH_MAX];
	lproc_pathf(probe, sizeof probe, "%s/live.ini", L->recdir);
	if (!access(probe, F_OK) && !L->o.force)
		return jv_diag_set(d, JV_EEXIST, L->recdir, 0,
				   "already holds a recording (use --force to replace it)");
	return 0;
}

static void remove_recdir(struct live *L)
{
	char path[LIVE_PATH_MAX];
	for (int i = 0; i < L->n; i++) {
		lproc_pathf(path, sizeof path, "%s/%s.pmc.csv", L->recdir, L->ent[i].name);
		unlink(path);
		lproc_pathf(path, sizeof path, "%s/%s.blk.csv", L->recdir, L->ent[i].name);
		unlink(path);
	}
	lproc_pathf(path, sizeof path, "%s/live.ini", L->recdir);
	unlink(path);
	rmdir(L->recdir);
}

static int add_entities(struct live *L, struct spawn *sp, struct jv_diag *d)
{
	struct opts *o = &L->o;
	if (o->cmd) {
		const char *base = strrchr(o->cmd[0], '/');
		struct ent *e = live_int_ent_add(L, ENT_SPAWN, o->name ? o->name : base ? base + 1 : o->cmd[0]);
		if (!e)
			return jv_diag_set(d, JV_ELIMIT, NULL, 0, "too many entities");
		int rc = live_int_spawn_hold(L, o->cmd, sp, d);
		if (rc)
			return rc;
		e->pid = sp->pid;
	}
	for (int i = 0; i < o->npids; i++) {
		char comm[64];
		lproc_comm("/proc", o->pids[i], comm, sizeof comm);
		if (!comm[0] || kill(o->pids[i], 0) != 0)
			return jv_diag_set(d, JV_ENOENT, NULL, 0, "--pid %d: no such process",
					   (int)o->pids[i]);
		struct ent *e = live_int_ent_add(L, ENT_PID, comm);
		if (!e)
			return jv_diag_set(d, JV_ELIMIT, NULL, 0, "too many entities");
		e->pid = o->pids[i];
	}
	for (int i = 0; i < o->ncgroups; i++) {
		if (!L->have_mnt)
			return jv_diag_set(d, JV_ENOENT, NULL, 0, "--cgroup: no cgroup mount found");
		char cg[LCG_PATH_MAX];
		lcg_normalize(&L->mnt, o->cgroups[i], cg, sizeof cg);
		const char *base = strrchr(cg, '/');
		char nm[SCN_NAME_MAX];
		lproc_pathf(nm, sizeof nm, "%s", base && base[1] ? base + 1 : "root");
		char *dot = strstr(nm, ".scope");
		if (!dot)
			dot = strstr(nm, ".slice");
		if (dot && dot != nm)
			*dot = '\0';
		struct ent *e = live_int_ent_add(L, ENT_CGROUP, nm);
		if (!e)
			return jv_diag_set(d, JV_ELIMIT, NULL, 0, "too many entities");
		memcpy(e->cgpath, cg, sizeof cg);
		live_int_resolve_dirs(L, e);
		int any = 0;
		for (int k = 0; k < LCG_N_NEEDS; k++)
			any |= e->dir[k][0] != 0;
		if (!any)
			return jv_diag_set(d, JV_ENOENT, o->cgroups[i], 0,
					   "no cgroup of that path in any hierarchy");
	}
	if (o->vms) {
		char (*paths)[LCG_PATH_MAX] = calloc(LIVE_MAX_ENTITIES, sizeof *paths);
		char (*names)[64] = calloc(LIVE_MAX_ENTITIES, sizeof *names);
		int n = paths && names && L->have_mnt
			? lcg_find_vms(&L->mnt, paths, names, LIVE_MAX_ENTITIES) : 0;
		if (n == 0)
			fprintf(L->err, "joulevisor: live: --vms: no libvirt/QEMU scope "
					"(machine-qemu*.scope) under machine.slice\n");
		for (int i = 0; i < n; i++) {
			struct ent *e = live_int_ent_add(L, ENT_CGROUP, names[i]);
			if (!e)
				break;
			memcpy(e->cgpath, paths[i], sizeof e->cgpath);
			live_int_resolve_dirs(L, e);
		}
		free(paths);
		free(names);
	}
	return 0;
}

static void print_entities(struct live *L)
{
	char ibuf[32];
	fprintf(L->err, "joulevisor: live: %d entit%s, %d CPU(s), interval %s, recording in %s\n",
		L->n, L->n == 1 ? "y" : "ies", L->ncpu, units_fmt_time_ns(L->o.interval_ns, ibuf),
		L->recdir);
	for (int i = 0; i < L->n; i++) {
		const struct ent *e = &L->ent[i];
		static const char *const kinds[] = {"command", "pid", "cgroup"};
		fprintf(L->err, "  %-16s %-7s %-24s cpu: %s%s%s; io: %s%s%s\n", e->name,
			kinds[e->kind], e->kind == ENT_CGROUP ? e->cgpath : "",
			CPU_SRC_NAMES[e->cpu_src], e->cpu_why[0] && e->cpu_src != CPU_PERF &&
			e->cpu_src != CPU_SAMPLER ? " (perf: " : "",
			e->cpu_why[0] && e->cpu_src != CPU_PERF && e->cpu_src != CPU_SAMPLER ? e->cpu_why
											   : "",
			IO_SRC_NAMES[e->io_src], e->io_why[0] ? " " : "", e->io_why);
	}
	if (L->fallback)
		fprintf(L->err, "joulevisor: live: cpu model: fallback (%s): power = share of the "
				"baseline + (busy - idle) x utilization from task-clock; idle %.4g W x "
				"%d CPU(s), busy %.4g W per CPU (%.4g nJ per ns of CPU time)\n",
			L->fallback_why, L->idle_w, L->ncpu, L->idle_w + L->active_w,
			L->w[LPERF_TASK_CLOCK] * 1e9);
	else
		fprintf(L->err, "joulevisor: live: cpu model: weighted hardware counters "
				"(models/cpu_energy.h), baseline %.4g W x %d CPU(s)\n",
			L->idle_w, L->ncpu);
	fflush(L->err);
}

/* One sample of every entity. Regular ticks are labelled with their
 * nominal time t_nominal (a multiple of the interval: the replay's
 * snapshots fall on the same boundaries); the final one (t_nominal < 0)
 * with the actual time. */
static int tick(struct live *L, int64_t t_nominal, struct jv_diag *d)
{
	int64_t now = live_int_mono_ns();
	int final = t_nominal < 0;
	int64_t t = final ? now - L->t0_mono : t_nominal;
	if (t <= L->last_tick_t)
		t = L->last_tick_t + 1;
	int64_t upto = final ? now : L->t0_mono + t;
	for (int i = 0; i < L->n; i++) {
		int rc = live_int_sample_entity(L, &L->ent[i], t, upto, final, d);
		if (rc)
			return rc;
		if (L->ent[i].last_t > t)
			t = L->ent[i].last_t;
	}
	double dt_s = (double)(t - L->last_tick_t) * 1e-9;
	L->last_tick_t = t;
	L->ticks++;
	live_int_model_interval(L, dt_s);
	if (L->energy) {
		struct jv_diag ed;
		jv_diag_clear(&ed);
		if (lenergy_read(L->energy, L->energy_j, &ed) == 0) {
			double tot = 0;
			for (int k = 0; k < lenergy_n_domains(L->energy); k++)
				tot += L->energy_j[k];
			L->energy_w = dt_s > 0 ? (tot - L->energy_prev_j) / dt_s : 0;
			L->energy_prev_j = tot;
		}
	}
	for (int i = 0; i < L->n; i++) {
		int rc = live_int_enforce_apply(L, &L->ent[i], 0, d);
		if (rc)
			return rc;
	}
	live_int_print_tick(L, t);
	return live_int_metrics_publish(L, d);
}

static void sleep_until(int64_t t_mono)
{
	struct timespec ts = {(time_t)(t_mono / 1000000000LL), (long)(t_mono % 1000000000LL)};
	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL); /* EINTR: a signal */
}

static int run_loop(struct live *L, struct jv_diag *d)
{
	int64_t next = L->t0_mono + L->o.interval_ns;
	int64_t end = L->o.duration_ns > 0 ? L->t0_mono + L->o.duration_ns : INT64_MAX;
	for (;;) {
		int64_t wake = next < end ? next : end;
		while (!g_signal && !live_int_child_exited(L) && live_int_mono_ns() < wake) {
			/* wake early to notice the child's exit */
			int64_t step = live_int_mono_ns() + 20000000LL;
			sleep_until(step < wake ? step : wake);
		}
		int64_t now = live_int_mono_ns();
		if (now >= next && next <= end) {
			/* every boundary passed gets its record (a missed one, after an
			 * overrun, is merged into the latest) so the replay's snapshot
			 * intervals each hold one */
			while (next + L->o.interval_ns <= now && next + L->o.interval_ns <= end)
				next += L->o.interval_ns;
			int rc = tick(L, next - L->t0_mono, d);
			if (rc)
				return rc;
			next += L->o.interval_ns;
		}
		if (g_signal || live_int_child_exited(L) || now >= end)
			break;
	}
	live_int_child_stop(L);
	return tick(L, -1, d); /* the final sample: up to now */
}

static void close_all(struct live *L)
{
	for (int i = 0; i < L->n; i++) {
		struct ent *e = &L->ent[i];
		lperf_close(e->grp);
		e->grp = NULL;
		lperf_sampler_close(e->smp);
		e->smp = NULL;
		trc_writer_abort(e->pw);
		trc_writer_abort(e->bw);
		e->pw = e->bw = NULL;
		free(e->tids);
		e->tids = NULL;
	}
}

static int finish_writers(struct live *L, struct jv_diag *d)
{
	int rc = 0;
	for (int i = 0; i < L->n; i++) {
		struct ent *e = &L->ent[i];
		if (e->pw) {
			int r = trc_writer_close(e->pw, d);
			e->pw = NULL;
			rc = rc ? rc : r;
		}
		if (e->bw) {
			int r = trc_writer_close(e->bw, d);
			e->bw = NULL;
			rc = rc ? rc : r;
		}
	}
	return rc;
}

static void print_end(struct live *L)
{
	fprintf(L->err, "joulevisor: live: %d interval(s), %.3f s", L->ticks,
		(double)L->last_tick_t * 1e-9);
	if (L->lost)
		fprintf(L->err, ", %" PRIu64 " switch sample(s) lost (ring full)", L->lost);
	fputc('\n', L->err);
	for (int i = 0; i < L->n; i++) {
		const struct ent *e = &L->ent[i];
		fprintf(L->err, "  %-16s cpu %.3f s, read %" PRIu64 " B, written %" PRIu64
				" B, %" PRIu64 " record(s)%s",
			e->name, (double)e->tot_task_ns * 1e-9, e->tot_read_b, e->tot_write_b,
			e->records, "");
		if (e->cpu_src == CPU_SAMPLER)
			fprintf(L->err, ", %" PRIu64 " at context switches", e->switch_records);
		fputc('\n', L->err);
	}
	if (L->child_reaped) {
		double ru = (double)(L->child_ru.ru_utime.tv_sec + L->child_ru.ru_stime.tv_sec) +
			    (double)(L->child_ru.ru_utime.tv_usec + L->child_ru.ru_stime.tv_usec) * 1e-6;
		if (WIFEXITED(L->child_status))
			fprintf(L->err, "joulevisor: live: command exited with status %d (rusage "
					"cpu %.3f s)\n", WEXITSTATUS(L->child_status), ru);
		else if (WIFSIGNALED(L->child_status))
			fprintf(L->err, "joulevisor: live: command killed by signal %d (rusage cpu "
					"%.3f s)\n", WTERMSIG(L->child_status), ru);
	}
	fflush(L->err);
}

static int live_session(struct live *L, struct jv_diag *d)
{
	struct scn *s = NULL;
	struct spawn sp = {0, -1, -1};
	int rc = 0, have_hw[LPERF_N_EVENTS] = {0};
	char scen_path[LIVE_PATH_MAX] = "";
	/* the machine */
	rc = lproc_online_cpus("/sys", L->cpus, LPERF_MAX_CPUS, &L->ncpu, d);
	if (rc)
		return rc;
	if (lproc_disks("/proc", "/sys", L->disks, LPROC_MAX_DISKS, &L->ndisk, d)) {
		jv_diag_clear(d);
		L->ndisk = 0;
	}
	struct jv_diag md;
	jv_diag_clear(&md);
	L->have_mnt = lcg_mounts_scan("/proc/self/mountinfo", "", &L->mnt, &md) == 0;
	if (lenergy_open("/sys", &L->energy, L->energy_why, sizeof L->energy_why))
		L->energy = NULL;
	if (L->o.scenario) {
		rc = scn_load(L->o.scenario, NULL, 0, &s, d);
		if (rc)
			return rc;
	}
	rc = lcg_enf_new(L->o.dry_run, L->err, &L->enf);
	if (rc)
		goto out;
	live_int_capability_table(L, have_hw);
	live_int_model_setup(L, s, have_hw);
	rc = prepare_recdir(L, d);
	if (rc)
		goto out;
	rc = add_entities(L, &sp, d);
	if (rc)
		goto out;
	if (L->n == 0) {
		rc = jv_diag_set(d, JV_EIO, NULL, 0, "no entity to measure: no CPU-time source at all");
		goto out;
	}
	if (live_int_setup_limits(L, s)) {
		rc = JV_EUSAGE;
		d->err = JV_EUSAGE; /* message already printed */
		goto out;
	}
	for (int i = 0; i < L->n; i++) {
		struct ent *e = &L->ent[i];
		rc = live_int_enforce_prepare(L, e, d);
		if (rc)
			goto out;
		if (live_int_open_cpu(L, e, e->kind == ENT_SPAWN)) {
			rc = jv_diag_set(d, JV_EIO, NULL, 0,
					 "%s: no CPU-time source at all (%s)", e->name, e->cpu_why);
			goto out;
		}
		live_int_open_io(L, e);
		rc = live_int_open_writers(L, e, d);
		if (rc)
			goto out;
	}
	print_entities(L);
	rc = live_int_http_start(L, d);
	if (rc)
		goto out;
	for (int i = 0; i < L->n; i++) {
		rc = live_int_enforce_apply(L, &L->ent[i], 1, d);
		if (rc)
			goto out;
	}
	L->t0_mono = live_int_mono_ns();
	if (sp.pid) {
		rc = live_int_spawn_release(&sp, L->o.cmd[0], d);
		sp.pid = 0;
		if (rc)
			goto out;
	}
	rc = live_int_metrics_publish(L, d);
	if (!rc)
		rc = run_loop(L, d);
	live_int_child_reap(L);
	if (rc)
		goto out;
	print_end(L);
	rc = finish_writers(L, d);
	if (rc)
		goto out;
	int used[LPERF_N_EVENTS] = {0};
	for (int i = 0; i < L->n; i++)
		for (int k = 0; k < L->ent[i].nctr; k++)
			used[L->ent[i].ev[k]] = 1;
	used[LPERF_TASK_CLOCK] = 1;
	rc = live_int_write_scenario(L, L->last_tick_t, used, scen_path, sizeof scen_path, d);
out:
	if (sp.pid) { /* never released: kill the held child */
		close(sp.go_w);
		close(sp.st_r);
	}
	if (L->child && !L->child_done) {
		live_int_child_stop(L);
	}
	live_int_child_reap(L);
	live_int_http_stop(L);
	close_all(L);
	struct jv_diag rd;
	jv_diag_clear(&rd);
	if (lcg_restore(L->enf, &rd) && !rc) {
		*d = rd;
		rc = rd.err;
	} else if (rd.err) {
		fprintf(L->err, "joulevisor: live: %s\n", rd.msg);
	}
	if (!rc && L->enf && lcg_n_writes(L->enf))
		fprintf(L->err, "joulevisor: live: enforcement: %d write(s)%s, every value "
				"restored\n", lcg_n_writes(L->enf), L->o.dry_run ? " logged" : "");
	scn_free(s);
	if (rc)
		return rc;
	/* the accounting: the core on the recording */
	struct run_opts ro = {0};
	char outbuf[LIVE_PATH_MAX];
	ro.scenario = scen_path;
	if (L->o.out_dir) {
		ro.out_dir = L->o.out_dir;
	} else {
		char name[SCN_NAME_MAX];
		live_int_sanitize_name(L->o.name ? L->o.name : L->n == 1 ? L->ent[0].name : "live", name,
				       sizeof name);
		lproc_pathf(outbuf, sizeof outbuf, "out/%s", name);
		ro.out_dir = outbuf;
	}
	ro.db = L->o.db;
	ro.force = L->o.force;
	ro.quiet = L->o.quiet;
	ro.command_line = L->o.cmdline;
	ro.mark_incomplete = g_signal != 0; /* a session cut short by a signal */
	if (L->rec_tmp)
		fprintf(L->err, "joulevisor: live: accounting the recording with the core "
				"(not kept: use --record DIR to keep it)\n");
	else
		fprintf(L->err, "joulevisor: live: accounting the recording with the core; "
				"`joulevisor run %s` reproduces it\n", scen_path);
	int ec = run_main(&ro, L->out, L->err);
	return ec ? -1000 - ec : 0; /* an exit code from run_main */
}

int live_main(int argc, char **argv, FILE *out, FILE *err, const char *cmdline)
{
	struct live *L = calloc(1, sizeof *L);
	if (!L) {
		fprintf(err, "joulevisor: live: out of memory\n");
		return 1;
	}
	L->out = out;
	L->err = err;
	L->tty = isatty(fileno(out));
	L->o.cmdline = cmdline;
	pthread_mutex_init(&L->mx, NULL);
	int ec = live_int_parse_args(L, argc, argv);
	if (ec) {
		ec = ec == 1 ? 0 : ec;
		goto done;
	}
	struct sigaction sa, old_int, old_term;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	g_signal = 0;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	struct jv_diag d;
	jv_diag_clear(&d);
	int rc = live_session(L, &d);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	if (rc <= -1000) {
		ec = -rc - 1000;
	} else if (rc) {
		if (d.msg[0])
			fprintf(err, "joulevisor: live: %s\n", d.msg);
		ec = jv_exit_code(rc);
		if (strstr(d.msg, "no CPU-time source"))
			ec = 1;
	}
	if (L->rec_tmp)
		remove_recdir(L);
	if (g_signal) {
		fprintf(err, "joulevisor: live: stopped by %s; everything restored\n",
			g_signal == SIGINT ? "SIGINT" : "SIGTERM");
		ec = g_signal == SIGINT ? 130 : 143;
	}
done:
	free(L->metrics_text);
	free(L->smp_buf);
	lenergy_close(L->energy);
	lcg_enf_free(L->enf);
	pthread_mutex_destroy(&L->mx);
	free(L);
	return ec;
}
