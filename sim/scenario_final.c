/*
 * scenario_final: finalize a loaded scenario: resolve the values that
 * depend on other options (counter names, drivers, times), load the weights
 * file, check across fields.
 *
 * The loader's theory of operation: the top of sim/scenario.c; its
 * other files: sim/scenario_int.h.
 */
#include "sim/scenario_int.h"

/* ------------------------------------------------------------ finalize */

/* Resolve a weight or rate list against the counters into dst[]. */
static int resolve_pairs(struct ld *L, int opt, int slot, double *dst)
{
	struct scn *s = L->s;
	const struct scn_opt *o = &scn_opt_table[opt];
	const struct origin *org = scn_int_org_at(L, opt, slot);
	int is_rate = o->type == SCN_T_RATE_LIST;
	struct pair pairs[SCN_MAX_COUNTERS];
	int n = 0;
	char why[SCN_MSG_MAX], list[SCN_MSG_MAX];
	int rc = scn_int_parse_pairs(*scn_int_raw_at(L, opt, slot), is_rate, pairs, &n, why,
				     sizeof why);
	if (rc)
		return scn_int_opt_err(L, rc, opt, slot, org, "%s", why);
	for (int i = 0; i < SCN_MAX_COUNTERS; i++)
		dst[i] = 0.0;
	for (int i = 0; i < n; i++) {
		int c = scn_counter_index(s, pairs[i].name);
		if (c < 0) {
			if (!scn_int_explicit_src(org))
				continue; /* preset text for counters now gone */
			scn_int_list_counters(s, list, sizeof list);
			return scn_int_opt_err(L, JV_EUNKNOWN, opt, slot, org,
					       "'%s' is not a counter (counters: %s)",
					       pairs[i].name, list);
		}
		if (is_rate && c == s->cpu.tsc_index)
			return scn_int_opt_err(L, JV_EINVAL, opt, slot, org,
					       "the TSC counter '%s' cannot be given a rate "
					       "(it advances at cpu.freq)", pairs[i].name);
		dst[c] = pairs[i].v;
	}
	return 0;
}

static int resolve_counter_name(struct ld *L, const char *key, int *dst)
{
	int opt = scn_int_find_opt(SCN_SEC_CPU, key);
	int copt = scn_int_find_opt(SCN_SEC_CPU, "counters");
	const char *name = scn_int_skip_ws(*scn_int_raw_at(L, opt, 0));
	char v[SCN_NAME_MAX], list[SCN_MSG_MAX];
	scn_int_trim_copy(name, strlen(name), v, sizeof v);
	if ((scn_opt_table[opt].flags & SCN_F_NONE_OK) && !strcmp(v, "none")) {
		*dst = -1;
		return 0;
	}
	*dst = scn_counter_index(L->s, v);
	if (*dst >= 0)
		return 0;
	scn_int_list_counters(L->s, list, sizeof list);
	return scn_int_opt_err(L, JV_EUNKNOWN, opt, 0,
			       scn_int_blame(scn_int_org_at(L, opt, 0), scn_int_org_at(L, copt, 0)),
			       "'%s' is not one of counters (%s)%s", v, list,
			       (scn_opt_table[opt].flags & SCN_F_NONE_OK)
			       ? "; set it to a counter or none"
			       : "");
}

/* CSV `counter,weight_j` rows override cpu.weight_j. */
static int load_weights_file(struct ld *L)
{
	struct scn *s = L->s;
	const char *path = s->cpu.weights_file;
	int wopt = scn_int_find_opt(SCN_SEC_CPU, "weights_file");
	char *line = NULL;
	size_t cap = 0;
	long lineno = 0;
	int rc = 0, seen_header = 0, seen[SCN_MAX_COUNTERS] = { 0 };
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return scn_int_opt_err(L, JV_ENOENT, wopt, 0, scn_int_org_at(L, wopt, 0),
				       "cannot open '%s': %s", path, strerror(errno));
	ssize_t len;
	while ((len = getline(&line, &cap, fp)) >= 0) {
		lineno++;
		if ((size_t)len != strlen(line)) {
			rc = jv_diag_set(L->d, JV_EPARSE, path, lineno, "NUL byte");
			goto fail;
		}
		char *p = line;
		if (lineno == 1 && !strncmp(p, SCN_UTF8_BOM, 3))
			p += 3;
		p[strcspn(p, "\r\n")] = '\0';
		const char *q = scn_int_skip_ws(p);
		if (!*q || *q == '#')
			continue;
		char *comma = strchr(p, ',');
		char f1[SCN_LINE_MAX_B + 1], f2[SCN_LINE_MAX_B + 1];
		if (!comma || strchr(comma + 1, ',') ||
		    scn_int_trim_copy(p, (size_t)(comma - p), f1, sizeof f1) ||
		    scn_int_trim_copy(comma + 1, strlen(comma + 1), f2, sizeof f2)) {
			rc = jv_diag_set(L->d, JV_EPARSE, path, lineno,
					 "expected two fields 'counter,weight_j', "
					 "not '%.*s'", SCN_QUOTE_MAX, q);
			goto fail;
		}
		if (!seen_header) {
			if (strcmp(f1, "counter") || strcmp(f2, "weight_j")) {
				rc = jv_diag_set(L->d, JV_EPARSE, path, lineno,
						 "expected the header "
						 "'counter,weight_j', not '%.*s'",
						 SCN_QUOTE_MAX, q);
				goto fail;
			}
			seen_header = 1;
			continue;
		}
		int c = scn_counter_index(s, f1);
		if (c < 0) {
			char list[SCN_MSG_MAX];
			scn_int_list_counters(s, list, sizeof list);
			rc = jv_diag_set(L->d, JV_EUNKNOWN, path, lineno,
					 "unknown counter '%.*s' (counters: %s)",
					 SCN_QUOTE_MAX, f1, list);
			goto fail;
		}
		if (seen[c]) {
			rc = jv_diag_set(L->d, JV_EPARSE, path, lineno,
					 "counter '%s' listed twice", f1);
			goto fail;
		}
		seen[c] = 1;
		char why[UNITS_WHY_MAX];
		double w;
		if ((rc = units_parse_energy_j(f2, &w, why))) {
			rc = jv_diag_set(L->d, rc, path, lineno, "%s: %s", f1, why);
			goto fail;
		}
		s->cpu.weight_j[c] = w;
	}
	if (ferror(fp)) {
		rc = jv_diag_set(L->d, JV_EIO, path, 0, "read error");
		goto fail;
	}
	if (!seen_header)
		rc = jv_diag_set(L->d, JV_EEMPTY, path, 0,
				 "empty weights file (expected 'counter,weight_j')");
fail:
	free(line);
	fclose(fp);
	return rc;
}

static int finalize_cpu(struct ld *L)
{
	struct scn *s = L->s;
	int rc;
	if ((rc = resolve_counter_name(L, "tsc_counter", &s->cpu.tsc_index)) ||
	    (rc = resolve_counter_name(L, "cycles_counter", &s->cpu.cycles_index)))
		return rc;
	int w = scn_int_find_opt(SCN_SEC_CPU, "weights");
	int tw = scn_int_find_opt(SCN_SEC_CPU, "true_weights");
	if ((rc = resolve_pairs(L, w, 0, s->cpu.weight_j)))
		return rc;
	if (s->cpu.weights_file && (rc = load_weights_file(L)))
		return rc;
	if (scn_int_org_at(L, tw, 0)->src == SRC_DEFAULT)
		memcpy(s->cpu.true_weight_j, s->cpu.weight_j,
		       sizeof s->cpu.true_weight_j);
	else if ((rc = resolve_pairs(L, tw, 0, s->cpu.true_weight_j)))
		return rc;
	return 0;
}

static int finalize_disk(struct ld *L)
{
	struct scn_disk *d = &L->s->disk;
	if (d->active_power_w < d->idle_power_w) {
		int a = scn_int_find_opt(SCN_SEC_DISK, "active_power");
		int i = scn_int_find_opt(SCN_SEC_DISK, "idle_power");
		return scn_int_opt_err(L, JV_ERANGE, a, 0,
				       scn_int_blame(scn_int_org_at(L, a, 0), scn_int_org_at(L, i, 0)),
				       "active_power %gW is below idle_power %gW",
				       d->active_power_w, d->idle_power_w);
	}
	if (d->nominal_rate_bps == 0.0)
		d->nominal_rate_bps = d->media_rate_bps;
	return 0;
}

/* Explicit driver-only keys on guests, guest-only keys on drivers. */
static int check_kind_keys(struct ld *L, int slot, const struct scn_vm *vm)
{
	for (int i = 0; i < scn_opt_count; i++) {
		const struct scn_opt *o = &scn_opt_table[i];
		if (o->sec != SCN_SEC_VM || !scn_int_explicit_src(scn_int_org_at(L, i, slot)))
			continue;
		if ((o->flags & SCN_F_DRIVER_ONLY) && vm->kind != SCN_VM_DRIVER)
			return scn_int_opt_err(L, JV_EINVAL, i, slot, scn_int_org_at(L, i, slot),
					       "applies only to kind = driver");
		if ((o->flags & SCN_F_GUEST_ONLY) && vm->kind != SCN_VM_GUEST)
			return scn_int_opt_err(L, JV_EINVAL, i, slot, scn_int_org_at(L, i, slot),
					       "applies only to kind = guest");
	}
	return 0;
}

static int finalize_workload(struct ld *L, int slot, struct scn_vm *vm)
{
	int wopt = scn_int_find_opt(SCN_SEC_VM, "workload");
	int topt = scn_int_find_opt(SCN_SEC_VM, "trace");
	const struct origin *wo = scn_int_org_at(L, wopt, slot), *to = scn_int_org_at(L, topt, slot);
	if (vm->n_traces > 0 && vm->workload == SCN_WL_NONE && !scn_int_explicit_src(wo))
		vm->workload = SCN_WL_TRACE;
	if (vm->kind == SCN_VM_DRIVER && vm->workload != SCN_WL_NONE)
		return scn_int_opt_err(L, JV_EINVAL, vm->n_traces ? topt : wopt, slot,
				       vm->n_traces ? to : wo,
				       "a driver VM only serves requests: workload must "
				       "be none and it has no traces");
	if (vm->n_traces > 0 && vm->workload != SCN_WL_TRACE)
		return scn_int_opt_err(L, JV_EINVAL, topt, slot, to,
				       "trace files need workload = trace");
	if (vm->workload == SCN_WL_TRACE && vm->n_traces == 0)
		return scn_int_opt_err(L, JV_EINVAL, wopt, slot, wo,
				       "workload = trace needs at least one trace file");
	return 0;
}

static int finalize_times(struct ld *L, int slot, struct scn_vm *vm)
{
	int so = scn_int_find_opt(SCN_SEC_VM, "start"), eo = scn_int_find_opt(SCN_SEC_VM, "stop");
	int dopt = scn_int_find_opt(SCN_SEC_GLOBAL, "duration");
	int64_t dur = L->s->global.duration_ns;
	char a[32], b[32];
	if (vm->stop_ns == 0)
		vm->stop_ns = dur;
	if (vm->stop_ns > dur) {
		const struct origin *o = scn_int_org_at(L, eo, slot);
		if (scn_int_explicit_src(o))
			return scn_int_opt_err(L, JV_ERANGE, eo, slot, o,
					       "stop %s is after duration %s",
					       units_fmt_time_ns(vm->stop_ns, a),
					       units_fmt_time_ns(dur, b));
		return scn_int_opt_err(L, JV_ERANGE, dopt, 0, scn_int_org_at(L, dopt, 0),
				       "duration %s is before [vm %s] stop %s",
				       units_fmt_time_ns(dur, b), vm->name,
				       units_fmt_time_ns(vm->stop_ns, a));
	}
	if (vm->start_ns >= vm->stop_ns)
		return scn_int_opt_err(L, JV_ERANGE, so, slot,
				       scn_int_blame(scn_int_org_at(L, so, slot), scn_int_org_at(L, eo, slot)),
				       "start %s is not before stop %s",
				       units_fmt_time_ns(vm->start_ns, a),
				       units_fmt_time_ns(vm->stop_ns, b));
	return 0;
}

static int finalize_vm(struct ld *L, int i)
{
	struct scn *s = L->s;
	struct scn_vm *vm = &s->vm[i];
	int slot = scn_int_slot_of(L, SCN_SEC_VM, i), rc;
	if ((rc = check_kind_keys(L, slot, vm)) ||
	    (rc = finalize_workload(L, slot, vm)) ||
	    (rc = finalize_times(L, slot, vm)))
		return rc;
	if (vm->disk >= s->disk.count) {
		int dk = scn_int_find_opt(SCN_SEC_VM, "disk");
		int dc = scn_int_find_opt(SCN_SEC_DISK, "count");
		const struct origin *o = scn_int_org_at(L, dk, slot);
		if (!scn_int_explicit_src(o) && scn_int_explicit_src(scn_int_org_at(L, dc, 0)))
			o = scn_int_org_at(L, dc, 0);
		return scn_int_opt_err(L, JV_ERANGE, dk, slot, o,
				       "disk%d does not exist (disk.count = %d)",
				       vm->disk, s->disk.count);
	}
	if ((rc = resolve_pairs(L, scn_int_find_opt(SCN_SEC_VM, "events"), slot,
				vm->events.per_s)) ||
	    (rc = resolve_pairs(L, scn_int_find_opt(SCN_SEC_VM, "req_events"), slot,
				vm->req_events.per_s)) ||
	    (rc = resolve_pairs(L, scn_int_find_opt(SCN_SEC_VM, "bg_events"), slot,
				vm->bg_events.per_s)))
		return rc;
	if (vm->trace_mode < 0)
		vm->trace_mode = s->global.replay_mode;
	return 0;
}

/* The first disk-stress container of VM vm, or -1 (containers resolved). */
static int disk_container(const struct scn *s, int vm)
{
	for (int k = 0; k < s->n_containers; k++)
		if (s->container[k].vm == vm && s->container[k].workload == SCN_WL_DISK_STRESS)
			return k;
	return -1;
}

static int finalize_driver(struct ld *L, int i)
{
	struct scn *s = L->s;
	struct scn_vm *vm = &s->vm[i];
	int slot = scn_int_slot_of(L, SCN_SEC_VM, i);
	int dopt = scn_int_find_opt(SCN_SEC_VM, "driver");
	vm->driver_idx = -1;
	if (vm->kind != SCN_VM_GUEST)
		return 0;
	if (vm->driver[0]) {
		int d = scn_vm_index(s, vm->driver);
		const struct origin *o = scn_int_org_at(L, dopt, slot);
		if (d < 0) {
			const char *best = NULL;
			size_t bd = SIZE_MAX;
			for (int j = 0; j < s->n_vms; j++)
				if (s->vm[j].kind == SCN_VM_DRIVER)
					scn_int_consider(vm->driver, s->vm[j].name, &best, &bd);
			char hint[SCN_NAME_MAX + 32] = "";
			if (best)
				snprintf(hint, sizeof hint, " (did you mean '%s'?)",
					 best);
			return scn_int_opt_err(L, JV_EUNKNOWN, dopt, slot, o,
					       "unknown driver VM '%s'%s", vm->driver, hint);
		}
		if (s->vm[d].kind != SCN_VM_DRIVER)
			return scn_int_opt_err(L, JV_EINVAL, dopt, slot, o,
					       "vm '%s' is not a driver (kind = guest)",
					       vm->driver);
		vm->driver_idx = d;
		return 0;
	}
	/* a VM that may receive block records: its own traces, records other
	 * VMs' traces route to it by a match rule, or a disk container's */
	int dc = disk_container(s, i);
	if (vm->workload != SCN_WL_DISK_STRESS && vm->n_traces == 0 && !vm->match[0] && dc < 0)
		return 0;
	int n = 0, last = -1;
	for (int j = 0; j < s->n_vms; j++)
		if (s->vm[j].kind == SCN_VM_DRIVER) {
			n++;
			last = j;
		}
	if (n == 0 && dc >= 0) {
		int wopt = scn_int_find_opt(SCN_SEC_CONTAINER, "workload");
		int cslot = scn_int_slot_of(L, SCN_SEC_CONTAINER, dc);
		return scn_int_opt_err(L, JV_EINVAL, wopt, cslot, scn_int_org_at(L, wopt, cslot),
				       "disk-stress needs a driver VM serving the virtual disk "
				       "of guest '%s', and the scenario has no driver VM", vm->name);
	}
	if (n == 0 && vm->workload != SCN_WL_DISK_STRESS)
		return 0; /* traces may hold CPU records only: block records without a
			   * driver are an error when the machine meets them */
	if (n == 0)
		return jv_diag_set(L->d, JV_EINVAL, vm->file, vm->line,
				   "vm '%s' does disk I/O but the scenario has no "
				   "driver VM", vm->name);
	if (n > 1)
		return jv_diag_set(L->d, JV_EINVAL, vm->file, vm->line,
				   "vm '%s' does disk I/O and the scenario has %d "
				   "driver VMs: set driver = NAME", vm->name, n);
	vm->driver_idx = last;
	memcpy(vm->driver, s->vm[last].name, sizeof vm->driver);
	return 0;
}

static int finalize_container(struct ld *L, int i)
{
	struct scn *s = L->s;
	struct scn_container *c = &s->container[i];
	char vmname[SCN_NAME_MAX];
	snprintf(vmname, sizeof vmname, "%.*s", (int)strcspn(c->name, "/"),
		 c->name);
	c->vm = scn_vm_index(s, vmname);
	if (c->vm < 0)
		return jv_diag_set(L->d, JV_EUNKNOWN, L->cont_pos[i].file,
				   L->cont_pos[i].line,
				   "container '%s': no [vm %s] section", c->name,
				   vmname);
	if (s->vm[c->vm].kind != SCN_VM_GUEST)
		return jv_diag_set(L->d, JV_EINVAL, L->cont_pos[i].file,
				   L->cont_pos[i].line,
				   "container '%s': vm '%s' is a driver; containers "
				   "live in guests", c->name, vmname);
	if (s->vm[c->vm].workload != SCN_WL_NONE)
		return jv_diag_set(L->d, JV_EINVAL, L->cont_pos[i].file,
				   L->cont_pos[i].line,
				   "container '%s': vm '%s' has its own workload; a guest with "
				   "containers runs only them (set workload = none)", c->name,
				   vmname);
	s->vm[c->vm].n_containers++;
	return resolve_pairs(L, scn_int_find_opt(SCN_SEC_CONTAINER, "events"),
			     scn_int_slot_of(L, SCN_SEC_CONTAINER, i), c->events.per_s);
}

static int record_inputs(struct ld *L)
{
	struct scn *s = L->s;
	int rc = 0;
	if (s->cpu.weights_file && (rc = scn_int_add_input(L, s->cpu.weights_file)))
		return rc;
	if (s->cpu.pmc_log && (rc = scn_int_add_input(L, s->cpu.pmc_log)))
		return rc;
	for (int i = 0; i < s->n_vms; i++)
		for (int t = 0; t < s->vm[i].n_traces; t++)
			if ((rc = scn_int_add_input(L, s->vm[i].trace[t])))
				return rc;
	return 0;
}

/* Two trace entries naming one file (the same path, or the same inode
 * when both can be stat'ed): a file is read once per entry, so every
 * record would be replayed, and charged, twice. */
static int same_file(const char *a, const char *b)
{
	struct stat sa, sb;
	if (!strcmp(a, b))
		return 1;
	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

static int check_trace_dups(struct ld *L)
{
	struct scn *s = L->s;
	int topt = scn_int_find_opt(SCN_SEC_VM, "trace");
	for (int i = 0; i < s->n_vms; i++)
		for (int t = 0; t < s->vm[i].n_traces; t++)
			for (int j = 0; j <= i; j++)
				for (int u = 0; u < (j == i ? t : s->vm[j].n_traces); u++)
					if (same_file(s->vm[i].trace[t], s->vm[j].trace[u]))
						return scn_int_opt_err(L, JV_EINVAL, topt, 1 + i,
								       scn_int_org_at(L, topt, 1 + i),
								       "trace '%s' is already listed under "
								       "vm '%s'; a file is replayed once "
								       "(route its records to other VMs "
								       "with match rules)",
								       s->vm[i].trace[t], s->vm[j].name);
	return 0;
}

/* The energy manager's options against each other and the VMs. */
static int finalize_manager(struct ld *L)
{
	struct scn *s = L->s;
	struct scn_manager *mg = &s->manager;
	if (mg->shaping_period_ns == 0)
		mg->shaping_period_ns = mg->disk_period_ns;
	if (mg->t_min > mg->t_init || mg->t_init > mg->t_max) {
		int o = scn_int_find_opt(SCN_SEC_MANAGER, "t_init");
		return scn_int_opt_err(L, JV_ERANGE, o, 0, scn_int_org_at(L, o, 0),
				       "need t_min <= t_init <= t_max, got %g <= %g <= %g",
				       mg->t_min, mg->t_init, mg->t_max);
	}
	struct throttle_cfg tc = {
		.t_init = mg->t_init, .t_min = mg->t_min, .t_max = mg->t_max,
		.gain_damp = mg->disk_gain_damp, .gain_amp = mg->disk_gain_amp,
		.kp = mg->pi_kp, .ki = mg->pi_ki,
	};
	struct throttle probe;
	const struct throttle_ops *tops =
		mg->disk_controller == SCN_CTRL_PI ? &throttle_pi : &throttle_paper;
	if (throttle_init(&probe, tops, &tc)) {
		int o = scn_int_find_opt(SCN_SEC_MANAGER, "disk_controller");
		return scn_int_opt_err(L, JV_EINVAL, o, 0, scn_int_org_at(L, o, 0),
				       "invalid settings for the %s controller (paper: gain_damp in "
				       "[0, 1], gain_amp in [0, %g]; pi: t_min > 0, pi_ki > 0, "
				       "pi_ki + 2 pi_kp < 2)", tops->name, THROTTLE_GAIN_AMP_MAX);
	}
	int co = scn_int_find_opt(SCN_SEC_VM, "cpu_limit"), dl = scn_int_find_opt(SCN_SEC_VM, "disk_limit");
	for (int i = 0; i < s->n_vms; i++) {
		const struct scn_vm *vm = &s->vm[i];
		int slot = 1 + i;
		if (vm->cpu_limit_w > 0 && s->cpu.scheduler != SCN_SCHED_STRIDE) {
			int so = scn_int_find_opt(SCN_SEC_CPU, "scheduler");
			return scn_int_opt_err(L, JV_EINVAL, co, slot,
					       scn_int_blame(scn_int_org_at(L, co, slot), scn_int_org_at(L, so, 0)),
					       "a CPU limit needs scheduler = stride (the manager "
					       "adjusts strides; rr has no shares)");
		}
		if (vm->disk_limit_w > 0 && vm->driver_idx < 0)
			return scn_int_opt_err(L, JV_EINVAL, dl, slot, scn_int_org_at(L, dl, slot),
					       "a disk limit needs a driver VM serving this VM's disk I/O");
		if (vm->disk_limit_w > 0 && s->cpu.pmc_log &&
		    s->global.replay_mode == SCN_REPLAY_ACCOUNTING)
			return scn_int_opt_err(L, JV_EINVAL, dl, slot, scn_int_org_at(L, dl, slot),
					       "limits cannot be enforced on a run replayed in accounting mode");
	}
	return 0;
}

int scn_int_finalize(struct ld *L)
{
	struct scn *s = L->s;
	int rc;
	if ((rc = finalize_cpu(L)) || (rc = finalize_disk(L)))
		return rc;
	for (int i = 0; i < s->n_vms; i++)
		if ((rc = finalize_vm(L, i)))
			return rc;
	/* containers first: a disk-stress container makes its guest a client
	 * of a driver VM */
	for (int i = 0; i < s->n_containers; i++)
		if ((rc = finalize_container(L, i)))
			return rc;
	for (int i = 0; i < s->n_vms; i++)
		if ((rc = finalize_driver(L, i)))
			return rc;
	if ((rc = finalize_manager(L)) || (rc = check_trace_dups(L)))
		return rc;
	int mo = scn_int_find_opt(SCN_SEC_VM, "match");
	for (int i = 0; i < s->n_vms; i++) {
		struct trc_map_rule rule;
		char why[160];
		if (s->vm[i].match[0] && trc_map_parse(s->vm[i].match, i, &rule, why))
			return scn_int_opt_err(L, JV_EPARSE, mo, 1 + i, scn_int_org_at(L, mo, 1 + i), "%s", why);
	}
	return record_inputs(L);
}
