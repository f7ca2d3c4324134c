/*
 * live_opts: usage of `joulevisor live` and parsing its command line.
 *
 * The theory of operation: the top of sim/live.c; the other files of
 * live: sim/live_int.h.
 */
#include "sim/live_int.h"

/* ---------------------------------------------------------------------- */
/* usage and options                                                        */

void live_usage(FILE *f)
{
	fputs("usage: joulevisor live [ENTITIES] [options] [-- COMMAND [ARGS...]]\n"
	      "\n"
	      "Account the energy of live entities with the same core as `run`, record\n"
	      "native traces, show a live table, optionally enforce limits via cgroups.\n"
	      "\n"
	      "entities (at least one; each becomes a VM of the accounting):\n"
	      "  -- COMMAND ...        spawn COMMAND and measure it (the session ends\n"
	      "                        when it exits)\n"
	      "  --name NAME           name of the spawned command's entity (default:\n"
	      "                        its base name)\n"
	      "  --pid PID             a running process and its future children\n"
	      "  --cgroup PATH         a cgroup (repeatable), hierarchy-relative or under a\n"
	      "                        cgroup mount\n"
	      "  --vms                 libvirt/QEMU scopes under machine.slice\n"
	      "options:\n"
	      "  --interval T          sampling interval (default 100ms, at least 10ms)\n"
	      "  --duration T          end after T (a spawned command gets SIGTERM, then\n"
	      "                        SIGKILL after 2 s)\n"
	      "  --switches            context-switch sampling (a record at each switch)\n"
	      "  --scenario FILE       CPU and disk parameters ([cpu] weights, idle_policy,\n"
	      "                        [disk]); limits of [vm NAME] sections\n"
	      "  --idle-power W        CPU baseline per CPU (default 36W)\n"
	      "  --busy-power W        power of one fully busy CPU (default 81W)\n"
	      "  -o, --output DIR      run directory (default out/<name>)\n"
	      "  --force               replace an existing run (and record) directory\n"
	      "  --db FILE             also write the run into an SQLite database\n"
	      "  --record DIR          keep the recording (traces + live.ini) in DIR\n"
	      "  --cpu-limit [NAME=]V  CPU limit: power (9W) or share of one CPU (20%)\n"
	      "  --disk-limit [NAME=]V disk limit: power (1W) or rate (1MiB/s)\n"
	      "  --enforce             apply the limits to real cgroups (restored on exit)\n"
	      "  --dry-run             with --enforce: log the writes, change nothing\n"
	      "  --metrics-file FILE   Prometheus text format, replaced each interval\n"
	      "  --listen ADDR:PORT    serve /metrics over HTTP (loopback only)\n"
	      "  -q, --quiet           no live table, no matrix\n"
	      "\n"
	      "exit codes: 0 success, 1 runtime failure (no CPU-time source), 2 usage or\n"
	      "input error, 130/143 after SIGINT/SIGTERM (everything restored)\n",
	      f);
}

int live_int_usage_err(struct live *L, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("joulevisor: live: ", L->err);
	vfprintf(L->err, fmt, ap);
	fputc('\n', L->err);
	va_end(ap);
	return 2;
}

static int parse_time_opt(struct live *L, const char *opt, const char *v, int64_t *ns)
{
	char why[UNITS_WHY_MAX];
	if (units_parse_time_ns(v, ns, why) || *ns < 0)
		return live_int_usage_err(L, "%s: %s '%s'", opt, *ns < 0 ? "negative time" : why, v);
	return 0;
}

int live_int_parse_args(struct live *L, int argc, char **argv)
{
	struct opts *o = &L->o;
	o->interval_ns = LIVE_DEFAULT_INTERVAL_NS;
	o->idle_w = o->busy_w = -1.0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = NULL;
		const char *eq = strchr(a, '=');
		char key[64];
		if (a[0] == '-' && a[1] == '-' && eq && (size_t)(eq - a) < sizeof key) {
			memcpy(key, a, (size_t)(eq - a));
			key[eq - a] = '\0';
			v = eq + 1;
			a = key;
		}
#define VAL()                                                                   \
	do {                                                                    \
		if (!v) {                                                       \
			if (i + 1 >= argc)                                      \
				return live_int_usage_err(L, "option %s needs a value", a); \
			v = argv[++i];                                          \
		}                                                               \
	} while (0)
		if (!strcmp(a, "--")) {
			if (i + 1 >= argc)
				return live_int_usage_err(L, "'--' must be followed by a command");
			o->cmd = &argv[i + 1];
			break;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			live_usage(L->out);
			return 1;
		} else if (!strcmp(a, "--pid")) {
			VAL();
			char *end;
			long p = strtol(v, &end, 10);
			if (*end || p <= 0 || p > INT32_MAX)
				return live_int_usage_err(L, "--pid: not a process id '%s'", v);
			if (o->npids >= LIVE_MAX_ENTITIES)
				return live_int_usage_err(L, "too many --pid (max %d)", LIVE_MAX_ENTITIES);
			o->pids[o->npids++] = (pid_t)p;
		} else if (!strcmp(a, "--cgroup")) {
			VAL();
			if (o->ncgroups >= LIVE_MAX_ENTITIES)
				return live_int_usage_err(L, "too many --cgroup (max %d)", LIVE_MAX_ENTITIES);
			o->cgroups[o->ncgroups++] = v;
		} else if (!strcmp(a, "--vms")) {
			o->vms = 1;
		} else if (!strcmp(a, "--name")) {
			VAL();
			o->name = v;
		} else if (!strcmp(a, "--interval")) {
			VAL();
			if (parse_time_opt(L, a, v, &o->interval_ns))
				return 2;
			if (o->interval_ns < LIVE_MIN_INTERVAL_NS || o->interval_ns > LIVE_MAX_INTERVAL_NS)
				return live_int_usage_err(L, "--interval: '%s' out of range [10ms, 1h]", v);
		} else if (!strcmp(a, "--duration")) {
			VAL();
			if (parse_time_opt(L, a, v, &o->duration_ns))
				return 2;
			if (o->duration_ns == 0)
				return live_int_usage_err(L, "--duration: must be > 0, found '%s'", v);
		} else if (!strcmp(a, "--scenario")) {
			VAL();
			o->scenario = v;
		} else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
			VAL();
			o->out_dir = v;
		} else if (!strcmp(a, "--force") || !strcmp(a, "-f")) {
			o->force = 1;
		} else if (!strcmp(a, "--db")) {
			VAL();
			o->db = v;
		} else if (!strcmp(a, "--record")) {
			VAL();
			o->record = v;
		} else if (!strcmp(a, "--enforce")) {
			o->enforce = 1;
		} else if (!strcmp(a, "--dry-run")) {
			o->dry_run = 1;
		} else if (!strcmp(a, "--switches")) {
			o->switches = 1;
		} else if (!strcmp(a, "--metrics-file")) {
			VAL();
			o->metrics = v;
		} else if (!strcmp(a, "--listen")) {
			VAL();
			o->listen = v;
		} else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
			o->quiet = 1;
		} else if (!strcmp(a, "--idle-power") || !strcmp(a, "--busy-power")) {
			VAL();
			double w;
			char why[UNITS_WHY_MAX];
			if (units_parse_power_w(v, &w, why) || w < 0)
				return live_int_usage_err(L, "%s: %s '%s'", a, w < 0 ? "negative power" : why, v);
			*(a[2] == 'i' ? &o->idle_w : &o->busy_w) = w;
		} else if (!strcmp(a, "--cpu-limit") || !strcmp(a, "--disk-limit")) {
			VAL();
			if (o->nlim >= LIVE_MAX_ENTITIES)
				return live_int_usage_err(L, "too many limits (max %d)", LIVE_MAX_ENTITIES);
			struct limit_arg *l = &o->lim[o->nlim++];
			l->disk = a[2] == 'd';
			const char *e2 = strchr(v, '=');
			l->name = NULL;
			l->value = v;
			if (e2) {
				char *nm = (char *)v; /* argv strings are writable */
				nm[e2 - v] = '\0';
				l->name = nm;
				l->value = e2 + 1;
			}
		} else {
			return live_int_usage_err(L, "unknown option '%s' (see `joulevisor live --help`)", a);
		}
#undef VAL
	}
	if (!o->cmd && !o->npids && !o->ncgroups && !o->vms)
		return live_int_usage_err(L, "no entity: give --pid, --cgroup, --vms or -- COMMAND");
	if (o->dry_run && !o->enforce)
		return live_int_usage_err(L, "--dry-run applies to --enforce");
	if (o->name && !o->cmd)
		return live_int_usage_err(L, "--name names the spawned command (-- COMMAND)");
	return 0;
}
