/*
 * live_enforce: limits: parse them, turn them into cgroup quotas and rates,
 * and apply them each interval.
 *
 * The theory of operation: the top of sim/live.c; the other files of
 * live: sim/live_int.h.
 */
#include "sim/live_int.h"

/* ---------------------------------------------------------------------- */
/* enforcement                                                              */

static int parse_limit(struct live *L, const struct limit_arg *l, struct ent *e)
{
	char why[UNITS_WHY_MAX];
	const char *v = l->value;
	size_t n = strlen(v);
	if (!l->disk) {
		if (n && v[n - 1] == '%') {
			char tmp[64];
			double pct;
			lproc_pathf(tmp, sizeof tmp, "%.*s", (int)(n - 1), v);
			if (units_parse_double(tmp, &pct, why) || pct <= 0)
				return live_int_usage_err(L, "--cpu-limit: expected a power or a percentage, got '%s'", v);
			e->cpu_limit_cpus = pct / 100.0;
			e->cpu_limit_w = 0;
			return 0;
		}
		double w;
		if (units_parse_power_w(v, &w, why) || w <= 0)
			return live_int_usage_err(L, "--cpu-limit: %s '%s'", w <= 0 ? "must be > 0" : why, v);
		e->cpu_limit_w = w;
		e->cpu_limit_cpus = 0;
		return 0;
	}
	double w, bps;
	if (units_parse_power_w(v, &w, NULL) == 0 && w > 0 && strchr(v, 'W')) {
		e->disk_limit_w = w;
		e->disk_limit_bps = 0;
		return 0;
	}
	if (units_parse_rate_bps(v, &bps, why) || bps <= 0)
		return live_int_usage_err(L, "--disk-limit: expected a power (W) or a rate (B/s), got '%s'", v);
	e->disk_limit_bps = bps;
	e->disk_limit_w = 0;
	return 0;
}

int live_int_setup_limits(struct live *L, const struct scn *s)
{
	for (int i = 0; i < L->n; i++) {
		struct ent *e = &L->ent[i];
		int k = s ? scn_vm_index(s, e->name) : -1;
		if (k >= 0) {
			e->cpu_limit_w = s->vm[k].cpu_limit_w;
			e->disk_limit_w = s->vm[k].disk_limit_w;
		}
	}
	for (int j = 0; j < L->o.nlim; j++) {
		const struct limit_arg *l = &L->o.lim[j];
		int found = 0;
		for (int i = 0; i < L->n; i++) {
			if (l->name && strcmp(l->name, L->ent[i].name))
				continue;
			found = 1;
			if (parse_limit(L, l, &L->ent[i]))
				return 2;
		}
		if (!found)
			return live_int_usage_err(L, "%s: no entity named '%s'",
						  l->disk ? "--disk-limit" : "--cpu-limit", l->name);
	}
	return 0;
}

static int has_limit(const struct ent *e)
{
	return e->cpu_limit_w > 0 || e->cpu_limit_cpus > 0 || e->disk_limit_w > 0 ||
	       e->disk_limit_bps > 0;
}

/* Directories for enforcement: a cgroup of joulevisor's own for processes. */
int live_int_enforce_prepare(struct live *L, struct ent *e, struct jv_diag *d)
{
	if (!L->o.enforce || !has_limit(e))
		return 0;
	if (!L->have_mnt)
		return jv_diag_set(d, JV_EINVAL, NULL, 0, "--enforce: no cgroup hierarchy found");
	if (e->kind != ENT_CGROUP) {
		char path[LCG_PATH_MAX];
		lproc_pathf(path, sizeof path, "/joulevisor-live-%d-%s", (int)getpid(), e->name);
		int rc = lcg_create(L->enf, &L->mnt, path, d);
		if (!rc)
			rc = lcg_attach(L->enf, &L->mnt, path, e->pid, "/proc", d);
		if (rc)
			return rc;
		memcpy(e->cgpath, path, sizeof path);
		live_int_resolve_dirs(L, e);
	}
	e->has_cg = 1;
	return 0;
}

int live_int_enforce_apply(struct live *L, struct ent *e, int first, struct jv_diag *d)
{
	if (!L->o.enforce || !e->has_cg)
		return 0;
	int rc = 0;
	double cpus = 0;
	if (e->cpu_limit_cpus > 0) {
		cpus = first ? e->cpu_limit_cpus : 0;
	} else if (e->cpu_limit_w > 0) {
		double w_per_cpu = L->active_w;
		double ns = (double)e->iv[LPERF_TASK_CLOCK];
		if (!first && ns > 0 && e->w_cpu > 0) {
			double dt_s = (double)L->o.interval_ns * 1e-9;
			w_per_cpu = e->w_cpu * dt_s / (ns * 1e-9);
		}
		if (w_per_cpu > 0)
			cpus = e->cpu_limit_w / w_per_cpu;
		if (cpus > L->ncpu)
			cpus = L->ncpu;
		if (!first && fabs(cpus - e->applied_cpus) <= 0.01 * e->applied_cpus)
			cpus = 0; /* no change worth a write */
	}
	if (cpus > 0) {
		if (!e->dir[LCG_CPU][0] && !L->o.dry_run)
			return jv_diag_set(d, JV_EINVAL, e->name, 0,
					   "--enforce: no cpu hierarchy has this entity's cgroup");
		rc = lcg_set_cpu(L->enf, e->dir[LCG_CPU][0] ? e->dir[LCG_CPU] : "(cpu)",
				 e->v2[LCG_CPU], cpus, 0, d);
		if (rc)
			return rc;
		e->applied_cpus = cpus;
	}
	if (first && (e->disk_limit_w > 0 || e->disk_limit_bps > 0)) {
		double bps = e->disk_limit_bps;
		if (e->disk_limit_w > 0) {
			double dw = L->disk_active_w - L->disk_idle_w;
			bps = dw > 0 ? e->disk_limit_w / dw * L->disk_rate_bps : 0;
		}
		if (bps >= 1 && !e->dir[LCG_IO][0] && !L->o.dry_run)
			return jv_diag_set(d, JV_EINVAL, e->name, 0,
					   "--enforce: no blkio/io hierarchy has this entity's cgroup");
		for (int k = 0; k < L->ndisk && bps >= 1; k++) {
			rc = lcg_set_io(L->enf, e->dir[LCG_IO][0] ? e->dir[LCG_IO] : "(io)",
					e->v2[LCG_IO], L->disks[k].maj, L->disks[k].min,
					(uint64_t)bps, (uint64_t)bps, d);
			if (rc)
				return rc;
		}
		e->applied_bps = (uint64_t)bps;
	}
	return 0;
}
