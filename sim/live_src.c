/*
 * live_src: the entities (spawned command, pids, cgroups), their CPU and
 * I/O sources, and the capability table printed at the start.
 *
 * The theory of operation: the top of sim/live.c; the other files of
 * live: sim/live_int.h.
 */
#include "sim/live_int.h"

/* ---------------------------------------------------------------------- */
/* entities                                                                 */

void live_int_sanitize_name(const char *in, char *out, size_t cap)
{
	size_t j = 0;
	for (const char *p = in; *p && j + 1 < cap && j < SCN_NAME_MAX - 1; p++) {
		char c = *p;
		int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			 c == '_' || c == '.' || c == '-';
		out[j++] = ok ? c : '_';
	}
	out[j] = '\0';
	if (!j || !strcmp(out, ".") || !strcmp(out, ".."))
		lproc_pathf(out, cap, "entity");
}

static int name_taken(const struct live *L, const char *nm)
{
	if (!strcmp(nm, "hypervisor") || !strcmp(nm, "unattributed") || !strcmp(nm, LIVE_DRIVER))
		return 1;
	for (int i = 0; i < L->n; i++)
		if (!strcmp(L->ent[i].name, nm))
			return 1;
	return 0;
}

struct ent *live_int_ent_add(struct live *L, int kind, const char *base)
{
	if (L->n >= LIVE_MAX_ENTITIES)
		return NULL;
	struct ent *e = &L->ent[L->n];
	memset(e, 0, sizeof *e);
	e->kind = kind;
	char nm[SCN_NAME_MAX];
	live_int_sanitize_name(base, nm, sizeof nm);
	if (name_taken(L, nm)) {
		char try[SCN_NAME_MAX + 16];
		for (int k = 2;; k++) {
			snprintf(try, sizeof try, "%.50s-%d", nm, k);
			if (!name_taken(L, try))
				break;
		}
		lproc_pathf(nm, sizeof nm, "%s", try);
	}
	memcpy(e->name, nm, sizeof nm);
	L->n++;
	return e;
}

void live_int_resolve_dirs(struct live *L, struct ent *e)
{
	for (int k = 0; k < LCG_N_NEEDS; k++)
		lcg_dir(&L->mnt, k, e->cgpath, e->dir[k], sizeof e->dir[k], &e->v2[k]);
}

/* ---------------------------------------------------------------------- */
/* sources                                                                  */

static unsigned wanted_events(void)
{
	return LPERF_ALL_EVENTS;
}

/* Open an entity's CPU source; returns 0 or 1 when it has none. */
int live_int_open_cpu(struct live *L, struct ent *e, int before_exec)
{
	struct jv_diag d;
	jv_diag_clear(&d);
	e->cpu_src = CPU_NONE;
	if (e->kind != ENT_CGROUP) {
		if (L->o.switches &&
		    lperf_sampler_open(e->pid, L->cpus, L->ncpu, before_exec, wanted_events(), &e->smp,
				       &d) == 0) {
			e->cpu_src = CPU_SAMPLER;
			for (int ev = 0; ev < LPERF_N_EVENTS; ev++)
				if (lperf_sampler_has(e->smp, ev))
					e->ev[e->nctr++] = ev;
			return 0;
		}
		if (L->o.switches)
			lproc_pathf(e->cpu_why, sizeof e->cpu_why, "switch sampling: %s", d.msg);
		jv_diag_clear(&d);
		if (lperf_open_pid(e->pid, 1, before_exec, wanted_events(), &e->grp, &d) == 0) {
			e->cpu_src = CPU_PERF;
		} else {
			lproc_pathf(e->cpu_why, sizeof e->cpu_why, "%s", d.msg);
			uint64_t ns;
			jv_diag_clear(&d);
			if (lproc_pid_cpu_ns("/proc", e->pid, &ns, &d) == 0) {
				e->cpu_src = CPU_PROC_STAT;
				e->cum[LPERF_TASK_CLOCK] = ns;
			}
		}
	} else {
		if (e->dir[LCG_PERF][0] &&
		    lperf_open_cgroup(e->dir[LCG_PERF], L->cpus, L->ncpu, wanted_events(), &e->grp,
				      &d) == 0) {
			e->cpu_src = CPU_PERF;
		} else {
			lproc_pathf(e->cpu_why, sizeof e->cpu_why, "%s",
				       e->dir[LCG_PERF][0] ? d.msg : "no perf_event hierarchy has this cgroup");
			uint64_t ns;
			jv_diag_clear(&d);
			if (e->dir[LCG_CPUACCT][0] &&
			    lproc_cgroup_cpu_ns(e->dir[LCG_CPUACCT], e->v2[LCG_CPUACCT], &ns, &d) == 0) {
				e->cpu_src = CPU_CGROUP_STAT;
				e->cum[LPERF_TASK_CLOCK] = ns;
			}
		}
	}
	if (e->cpu_src == CPU_PERF) {
		for (int ev = 0; ev < LPERF_N_EVENTS; ev++)
			if (lperf_has(e->grp, ev))
				e->ev[e->nctr++] = ev;
	} else if (e->cpu_src != CPU_NONE) {
		e->ev[e->nctr++] = LPERF_TASK_CLOCK;
	}
	return e->cpu_src == CPU_NONE;
}

/* Cumulative I/O counters of an entity per disk; 0 or < 0. */
int live_int_read_io(struct live *L, struct ent *e, uint64_t *r, uint64_t *w, uint64_t *rn,
		     uint64_t *wn)
{
	struct jv_diag d;
	jv_diag_clear(&d);
	memset(r, 0, LPROC_MAX_DISKS * sizeof *r);
	memset(w, 0, LPROC_MAX_DISKS * sizeof *w);
	memset(rn, 0, LPROC_MAX_DISKS * sizeof *rn);
	memset(wn, 0, LPROC_MAX_DISKS * sizeof *wn);
	if (e->io_src == IO_PID) {
		struct lproc_io io;
		int rc = lproc_pid_io("/proc", e->pid, &io, &d);
		if (rc)
			return rc;
		r[0] = io.read_b;
		w[0] = io.write_b;
		return 0;
	}
	if (e->io_src == IO_CG_V1 || e->io_src == IO_CG_V2) {
		struct lproc_devio dv[64];
		int n = 0;
		int rc = e->io_src == IO_CG_V2 ? lproc_cgroup_io_v2(e->dir[LCG_IO], dv, 64, &n, &d)
					       : lproc_cgroup_io_v1(e->dir[LCG_IO], dv, 64, &n, &d);
		if (rc)
			return rc;
		for (int i = 0; i < n; i++)
			for (int k = 0; k < L->ndisk; k++)
				if (L->disks[k].maj == dv[i].maj && L->disks[k].min == dv[i].min) {
					r[k] = dv[i].read_b;
					w[k] = dv[i].write_b;
					rn[k] = dv[i].reads;
					wn[k] = dv[i].writes;
				}
		return 0;
	}
	return 0;
}

void live_int_open_io(struct live *L, struct ent *e)
{
	e->io_src = IO_NONE;
	if (L->ndisk == 0) {
		lproc_pathf(e->io_why, sizeof e->io_why, "no physical disk");
		return;
	}
	if (e->kind != ENT_CGROUP) {
		e->io_src = IO_PID;
	} else if (e->dir[LCG_IO][0]) {
		e->io_src = e->v2[LCG_IO] ? IO_CG_V2 : IO_CG_V1;
	} else {
		lproc_pathf(e->io_why, sizeof e->io_why, "no blkio/io hierarchy has this cgroup");
		return;
	}
	if (live_int_read_io(L, e, e->io_r, e->io_w, e->io_rn, e->io_wn)) {
		/* a held child has its file; a cgroup without statistics counts 0 */
		memset(e->io_r, 0, sizeof e->io_r);
		memset(e->io_w, 0, sizeof e->io_w);
	}
}

/* ---------------------------------------------------------------------- */
/* capability table                                                         */

static const char *errno_name(int e)
{
	switch (e) {
	case 0: return "ok";
	case ENOENT: return "ENOENT";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case EACCES: return "EACCES";
	case EPERM: return "EPERM";
	case EINVAL: return "EINVAL";
	case ESRCH: return "ESRCH";
	default: return "error";
	}
}

static void cap_row(FILE *f, const char *what, const char *status, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void cap_row(FILE *f, const char *what, const char *status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(f, "  %-26s %-12s ", what, status);
	vfprintf(f, fmt, ap);
	fputc('\n', f);
	va_end(ap);
}

void live_int_capability_table(struct live *L, int have_hw[LPERF_N_EVENTS])
{
	FILE *f = L->err;
	char buf[64] = "?";
	FILE *p = fopen("/proc/sys/kernel/perf_event_paranoid", "r");
	if (p) {
		if (!fgets(buf, sizeof buf, p))
			buf[0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		fclose(p);
	}
	fprintf(f, "joulevisor: live: capabilities of this machine\n");
	cap_row(f, "source", "status", "detail");
	struct jv_diag d;
	jv_diag_clear(&d);
	struct lperf_group *g = NULL;
	int rc = lperf_open_pid(getpid(), 0, 0, LPERF_ALL_EVENTS, &g, &d);
	cap_row(f, "perf_event_open", rc ? "unavailable" : "ok",
		"perf_event_paranoid=%s, euid %d%s", buf, (int)geteuid(), rc ? d.msg : "");
	for (int ev = 0; ev < LPERF_N_EVENTS; ev++) {
		int e = g ? lperf_event_errno(g, ev) : EACCES;
		have_hw[ev] = g && lperf_has(g, ev);
		char what[64];
		snprintf(what, sizeof what, "%s (%s)", lperf_event_perf_name(ev),
			 lperf_event_is_hw(ev) ? "hw" : "sw");
		cap_row(f, what, e ? "unavailable" : "ok", "%s%s%s", e ? errno_name(e) : "counting",
			e ? ": " : "",
			e == ENOENT || e == EOPNOTSUPP ? "no such event (no PMU)"
			: e == EACCES || e == EPERM    ? "permission denied"
			: e                            ? strerror(e)
						       : "");
	}
	lperf_close(g);
	struct lperf_sampler *s = NULL;
	jv_diag_clear(&d);
	rc = lperf_sampler_open(getpid(), L->cpus, L->ncpu, 0, 1u << LPERF_TASK_CLOCK, &s, &d);
	cap_row(f, "context-switch sampling", rc ? "unavailable" : "ok", "%s",
		rc ? d.msg
		   : lperf_sampler_inherits(s) ? "per-CPU rings, inherited (PERF_SAMPLE_READ)"
					       : "main thread only (no inherit with SAMPLE_READ)");
	lperf_sampler_close(s);
	cap_row(f, "libpfm4 event names", "unavailable", "not built in (symbolic names: %s)",
		"perf's generic events only");
	if (L->have_mnt) {
		for (int k = 0; k < LCG_N_NEEDS; k++) {
			const char *base = L->mnt.v1[k][0] ? L->mnt.v1[k]
					 : L->mnt.v2_has[k] ? L->mnt.v2 : "";
			char what[64];
			snprintf(what, sizeof what, "cgroup %s", lcg_need_name(k));
			cap_row(f, what, base[0] ? "ok" : "unavailable", "%s%s%s",
				base[0] ? (L->mnt.v1[k][0] ? "v1 " : "v2 ") : "no hierarchy", base,
				k == LCG_IO && L->mnt.v1[k][0]
					? " (statistics only for devices with a throttle rule)"
					: "");
		}
	} else {
		cap_row(f, "cgroups", "unavailable", "cannot read /proc/self/mountinfo");
	}
	if (L->ndisk) {
		char list[512] = "";
		size_t n = 0;
		for (int k = 0; k < L->ndisk && n < sizeof list; k++) {
			int w = snprintf(list + n, sizeof list - n, "%sdisk%d=%s (%u:%u)", k ? ", " : "",
					 k, L->disks[k].name, L->disks[k].maj, L->disks[k].min);
			if (w > 0)
				n += (size_t)w;
		}
		cap_row(f, "disks (/proc/diskstats)", "ok", "%s", list);
	} else {
		cap_row(f, "disks (/proc/diskstats)", "unavailable", "no physical disk");
	}
	cap_row(f, "process I/O (/proc/PID/io)", access("/proc/self/io", R_OK) ? "unavailable" : "ok",
		"storage-layer bytes per process (to disk0)");
	if (L->energy)
		cap_row(f, "measured energy", "ok", "%s (%d domain(s))", lenergy_source(L->energy),
			lenergy_n_domains(L->energy));
	else
		cap_row(f, "measured energy", "unavailable", "measured energy unavailable: %s",
			L->energy_why);
#ifdef JV_HAVE_MICROHTTPD
	cap_row(f, "http /metrics", "ok", "libmicrohttpd (--listen)");
#else
	cap_row(f, "http /metrics", "unavailable", "built without libmicrohttpd");
#endif
	cap_row(f, "enforcement", L->o.enforce ? "on" : "off", "%s",
		!L->o.enforce ? "--enforce applies limits to cgroups"
		: L->o.dry_run ? "dry-run: writes are logged, not done"
			       : "cpu and io limits written, restored at exit");
	fflush(f);
}
