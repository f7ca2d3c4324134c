/*
 * live_rec: recording: sample every entity each interval into its trace
 * files (counter deltas, sampler records), and write the generated scenario
 * that replays the recording.
 *
 * The theory of operation: the top of sim/live.c; the other files of
 * live: sim/live_int.h.
 */
#include "sim/live_int.h"

/* ---------------------------------------------------------------------- */
/* recording                                                                */

int live_int_open_writers(struct live *L, struct ent *e, struct jv_diag *d)
{
	char path[LIVE_PATH_MAX];
	const char *names[LPERF_N_EVENTS];
	for (int i = 0; i < e->nctr; i++)
		names[i] = lperf_event_name(e->ev[i]);
	lproc_pathf(path, sizeof path, "%s/%s.pmc.csv", L->recdir, e->name);
	int rc = trc_writer_open(path, TRC_PMC_INTERVAL, names, e->nctr, &e->pw, d);
	if (rc)
		return rc;
	lproc_pathf(path, sizeof path, "%s/%s.blk.csv", L->recdir, e->name);
	return trc_writer_open(path, TRC_BLK_INTERVAL, NULL, 0, &e->bw, d);
}

static int write_pmci(struct ent *e, int64_t t_ns, const uint64_t *delta, struct jv_diag *d)
{
	struct trc_pmc_interval p;
	memset(&p, 0, sizeof p);
	if (t_ns < e->last_t)
		t_ns = e->last_t;
	p.t_ns = t_ns;
	for (int i = 0; i < e->nctr; i++) {
		p.delta[i] = delta[e->ev[i]];
		e->iv[e->ev[i]] += delta[e->ev[i]];
	}
	e->last_t = t_ns;
	e->records++;
	int rc = trc_write_pmci(e->pw, &p, e->name);
	if (rc)
		*d = *trc_writer_diag(e->pw);
	return rc;
}

/* The previous values of a thread's counters on one CPU: with inherited
 * per-CPU counters a sample reads the instance of the CPU it was taken on,
 * so a thread that migrates has one running value per CPU. */
static struct tid_prev *tid_slot(struct ent *e, uint32_t tid, int32_t cpu)
{
	for (int i = 0; i < e->ntids; i++)
		if (e->tids[i].tid == tid && e->tids[i].cpu == cpu)
			return &e->tids[i];
	if (e->ntids >= LIVE_TIDS_MAX)
		return NULL;
	if (e->ntids == e->captids) {
		int cap = e->captids ? 2 * e->captids : 16;
		struct tid_prev *n = realloc(e->tids, (size_t)cap * sizeof *n);
		if (!n)
			return NULL;
		e->tids = n;
		e->captids = cap;
	}
	struct tid_prev *s = &e->tids[e->ntids++];
	memset(s, 0, sizeof *s);
	s->tid = tid;
	s->cpu = cpu;
	return s;
}

static void collect_sample(void *ctx, const struct lperf_sample *smp)
{
	struct live *L = ctx;
	if (L->nsmp == L->capsmp) {
		size_t cap = L->capsmp ? 2 * L->capsmp : 1024;
		struct lperf_sample *n = realloc(L->smp_buf, cap * sizeof *n);
		if (!n)
			return; /* dropped: the interval record reconciles */
		L->smp_buf = n;
		L->capsmp = cap;
	}
	L->smp_buf[L->nsmp++] = *smp;
}

static int cmp_sample(const void *a, const void *b)
{
	const struct lperf_sample *x = a, *y = b;
	return (x->t_mono_ns > y->t_mono_ns) - (x->t_mono_ns < y->t_mono_ns);
}

/* Sampler: one record per switch-out since the last tick. */
static int sampler_records(struct live *L, struct ent *e, int64_t now_mono, struct jv_diag *d)
{
	L->nsmp = 0;
	uint64_t lost = 0;
	lperf_sampler_drain(e->smp, now_mono, collect_sample, L, &lost);
	L->lost += lost;
	qsort(L->smp_buf, L->nsmp, sizeof *L->smp_buf, cmp_sample);
	for (size_t i = 0; i < L->nsmp; i++) {
		const struct lperf_sample *s = &L->smp_buf[i];
		struct tid_prev *tp = tid_slot(e, s->tid, s->cpu);
		if (!tp)
			continue;
		uint64_t delta[LPERF_N_EVENTS];
		for (int ev = 0; ev < LPERF_N_EVENTS; ev++) {
			delta[ev] = s->val[ev] > tp->v[ev] ? s->val[ev] - tp->v[ev] : 0;
			tp->v[ev] = s->val[ev] > tp->v[ev] ? s->val[ev] : tp->v[ev];
			e->written[ev] += delta[ev];
		}
		int64_t t = s->t_mono_ns - L->t0_mono;
		int rc = write_pmci(e, t < 0 ? 0 : t, delta, d);
		if (rc)
			return rc;
		e->switch_records++;
	}
	return 0;
}

/* Sample one entity at t_ns (since the start): CPU record(s), I/O records. */
int live_int_sample_entity(struct live *L, struct ent *e, int64_t t_ns, int64_t upto_mono,
			   int final, struct jv_diag *d)
{
	uint64_t cur[LPERF_N_EVENTS], delta[LPERF_N_EVENTS];
	memset(cur, 0, sizeof cur);
	memset(delta, 0, sizeof delta);
	memset(e->iv, 0, sizeof e->iv);
	int rc = 0;
	struct jv_diag dd;
	jv_diag_clear(&dd);
	switch (e->cpu_src) {
	case CPU_SAMPLER:
		/* records at the switches up to the tick; the counts since the
		 * last switch of each thread come with its next switch, and at
		 * the end of the session the remainder (total - recorded) */
		rc = sampler_records(L, e, upto_mono, d);
		if (rc)
			return rc;
		if (final && lperf_sampler_read(e->smp, cur, &dd) == 0)
			for (int ev = 0; ev < LPERF_N_EVENTS; ev++) {
				delta[ev] = cur[ev] > e->written[ev] ? cur[ev] - e->written[ev] : 0;
				e->written[ev] += delta[ev];
			}
		break;
	case CPU_PERF:
		if (lperf_read(e->grp, cur, NULL, &dd) == 0)
			for (int ev = 0; ev < LPERF_N_EVENTS; ev++) {
				delta[ev] = cur[ev] > e->cum[ev] ? cur[ev] - e->cum[ev] : 0;
				if (cur[ev] > e->cum[ev])
					e->cum[ev] = cur[ev];
			}
		break;
	case CPU_PROC_STAT:
	case CPU_CGROUP_STAT: {
		uint64_t ns = 0;
		int r2 = e->cpu_src == CPU_PROC_STAT
			? lproc_pid_cpu_ns("/proc", e->pid, &ns, &dd)
			: lproc_cgroup_cpu_ns(e->dir[LCG_CPUACCT], e->v2[LCG_CPUACCT], &ns, &dd);
		if (!r2 && ns > e->cum[LPERF_TASK_CLOCK]) {
			delta[LPERF_TASK_CLOCK] = ns - e->cum[LPERF_TASK_CLOCK];
			e->cum[LPERF_TASK_CLOCK] = ns;
		}
		break;
	}
	default:
		break;
	}
	rc = write_pmci(e, t_ns, delta, d);
	if (rc)
		return rc;
	/* block I/O: one record per disk */
	uint64_t r[LPROC_MAX_DISKS], w[LPROC_MAX_DISKS], rn[LPROC_MAX_DISKS], wn[LPROC_MAX_DISKS];
	int have_io = e->io_src != IO_NONE && live_int_read_io(L, e, r, w, rn, wn) == 0;
	for (int k = 0; k < L->ndisk; k++) {
		struct trc_blk_interval b;
		memset(&b, 0, sizeof b);
		b.t_ns = e->last_t;
		b.disk = k;
		if (have_io) {
			b.read_b = (int64_t)(r[k] > e->io_r[k] ? r[k] - e->io_r[k] : 0);
			b.write_b = (int64_t)(w[k] > e->io_w[k] ? w[k] - e->io_w[k] : 0);
			b.reads = (int64_t)(rn[k] > e->io_rn[k] ? rn[k] - e->io_rn[k] : 0);
			b.writes = (int64_t)(wn[k] > e->io_wn[k] ? wn[k] - e->io_wn[k] : 0);
			if (r[k] > e->io_r[k])
				e->io_r[k] = r[k];
			if (w[k] > e->io_w[k])
				e->io_w[k] = w[k];
			if (rn[k] > e->io_rn[k])
				e->io_rn[k] = rn[k];
			if (wn[k] > e->io_wn[k])
				e->io_wn[k] = wn[k];
		}
		e->iv_r[k] = (uint64_t)b.read_b;
		e->iv_w[k] = (uint64_t)b.write_b;
		e->tot_read_b += (uint64_t)b.read_b;
		e->tot_write_b += (uint64_t)b.write_b;
		rc = trc_write_blki(e->bw, &b, e->name);
		if (rc) {
			*d = *trc_writer_diag(e->bw);
			return rc;
		}
	}
	e->tot_task_ns += e->iv[LPERF_TASK_CLOCK];
	return 0;
}

/* ---------------------------------------------------------------------- */
/* the generated scenario                                                   */

int live_int_write_scenario(struct live *L, int64_t dur_ns, const int used[LPERF_N_EVENTS],
			    char *path, size_t cap, struct jv_diag *d)
{
	char tmp[LIVE_PATH_MAX];
	lproc_pathf(path, cap, "%s/live.ini", L->recdir);
	lproc_pathf(tmp, sizeof tmp, "%s/.live.ini.tmp-%d", L->recdir, (int)getpid());
	FILE *f = fopen(tmp, "w");
	if (!f)
		return jv_diag_set(d, JV_EIO, tmp, 0, "cannot create: %s", strerror(errno));
	static const char *const pol[] = {"equal", "utilization", "proportional", "base"};
	char name[SCN_NAME_MAX];
	live_int_sanitize_name(L->o.name ? L->o.name : L->n == 1 ? L->ent[0].name : "live", name, sizeof name);
	int64_t power_res = L->o.interval_ns < LIVE_MAX_POWER_RES_NS ? L->o.interval_ns
								     : LIVE_MAX_POWER_RES_NS;
	fprintf(f, "; generated by `joulevisor live`: replays the session's recording in\n"
		   "; accounting mode with the session's CPU and disk parameters.\n"
		   "; `joulevisor run live.ini` reproduces the live run's accounting.\n");
	fprintf(f, "; cpu model: %s (%d CPU(s) as one device cpu0)\n",
		L->fallback ? "fallback: baseline share + (busy - idle) x utilization from task-clock"
			    : "weighted hardware counters",
		L->ncpu);
	fprintf(f, "[global]\nname = %s\nduration = %" PRId64 "ns\nreplay_mode = accounting\n",
		name, dur_ns);
	fprintf(f, "[machine]\npreset = none\n");
	fprintf(f, "[cpu]\ncount = 1\nfreq = 1GHz\ncounters = tsc");
	for (int ev = 0; ev < LPERF_N_EVENTS; ev++)
		if (used[ev])
			fprintf(f, ",%s", lperf_event_name(ev));
	fprintf(f, "\ntsc_counter = tsc\ncycles_counter = task_clock_ns\n");
	fprintf(f, "weights = tsc:%.17gJ", (double)L->ncpu * L->idle_w / LIVE_FREQ_HZ);
	for (int ev = 0; ev < LPERF_N_EVENTS; ev++)
		if (used[ev])
			fprintf(f, ",%s:%.17gJ", lperf_event_name(ev), L->w[ev]);
	fprintf(f, "\nidle_policy = %s\n", pol[L->policy & 3]);
	fprintf(f, "[disk]\ncount = %d\nidle_power = %.17gW\nactive_power = %.17gW\n"
		   "media_rate = %.17gB/s\nnominal_rate = %.17gB/s\nidle_policy = %s\n",
		L->ndisk > 0 ? L->ndisk : 1, L->ndisk > 0 ? L->disk_idle_w : 0.0,
		L->ndisk > 0 ? L->disk_active_w : 0.0, L->disk_rate_bps, L->disk_rate_bps,
		pol[L->disk_policy & 3]);
	fprintf(f, "[output]\ninterval = %" PRId64 "ns\npower_resolution = %" PRId64 "ns\n",
		L->o.interval_ns, power_res);
	fprintf(f, "; the block layer plays the driver VM (via = %s)\n", LIVE_DRIVER);
	fprintf(f, "[vm %s]\nkind = driver\nidle_cpu_power = 0W\n", LIVE_DRIVER);
	for (int i = 0; i < L->n; i++) {
		const struct ent *e = &L->ent[i];
		fprintf(f, "[vm %s]\ntrace_mode = accounting\ntrace = %s.pmc.csv\ntrace = %s.blk.csv\n",
			e->name, e->name, e->name);
	}
	int bad = ferror(f);
	if (fclose(f) || bad || rename(tmp, path)) {
		int e = errno;
		unlink(tmp);
		return jv_diag_set(d, JV_EIO, path, 0, "cannot write: %s", strerror(e));
	}
	return 0;
}
