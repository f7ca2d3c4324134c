/*
 * live_model: the model evaluated per interval (the live table, the
 * metrics) and the live output: the table, CSV lines, the metrics text and
 * the HTTP endpoint.
 *
 * The theory of operation: the top of sim/live.c; the other files of
 * live: sim/live_int.h.
 */
#include "sim/live_int.h"

/* ---------------------------------------------------------------------- */
/* the model (live table, metrics)                                          */

void live_int_model_setup(struct live *L, const struct scn *s, int have_hw[LPERF_N_EVENTS])
{
	L->idle_w = LIVE_DEFAULT_IDLE_W;
	L->active_w = LIVE_DEFAULT_ACTIVE_W;
	L->policy = SCN_IDLE_UTILIZATION;
	L->disk_policy = SCN_IDLE_EQUAL;
	L->disk_idle_w = LIVE_DEFAULT_DISK_IDLE_W;
	L->disk_active_w = LIVE_DEFAULT_DISK_ACTIVE_W;
	L->disk_rate_bps = LIVE_DEFAULT_DISK_RATE_BPS;
	memset(L->w, 0, sizeof L->w);
	double task_w = -1.0; /* J per ns from a task_clock_ns weight */
	if (s) {
		const struct scn_cpu *c = &s->cpu;
		L->idle_w = c->tsc_index >= 0 ? c->weight_j[c->tsc_index] * c->freq_hz : 0.0;
		L->active_w = c->cycles_index >= 0 ? c->weight_j[c->cycles_index] * c->freq_hz : 0.0;
		L->policy = c->idle_policy;
		L->disk_policy = s->disk.idle_policy;
		L->disk_idle_w = s->disk.idle_power_w;
		L->disk_active_w = s->disk.active_power_w;
		L->disk_rate_bps = s->disk.nominal_rate_bps > 0 ? s->disk.nominal_rate_bps
								: s->disk.media_rate_bps;
		for (int ev = 0; ev < LPERF_N_EVENTS; ev++) {
			int k = scn_counter_index(s, lperf_event_name(ev));
			if (k < 0)
				continue;
			if (ev == LPERF_TASK_CLOCK)
				task_w = c->weight_j[k];
			else if (lperf_event_is_hw(ev) && have_hw[ev])
				L->w[ev] = c->weight_j[k];
		}
	}
	if (L->o.idle_w >= 0)
		L->idle_w = L->o.idle_w;
	if (L->o.busy_w >= 0) {
		L->active_w = L->o.busy_w - L->idle_w;
		if (L->active_w < 0)
			L->active_w = 0;
		task_w = -1.0;
	}
	int hw = 0;
	for (int ev = 0; ev < LPERF_N_EVENTS; ev++)
		if (lperf_event_is_hw(ev) && L->w[ev] > 0)
			hw = 1;
	L->fallback = !hw;
	if (L->fallback) {
		L->w[LPERF_TASK_CLOCK] = task_w >= 0 ? task_w : L->active_w / LIVE_FREQ_HZ;
		L->active_w = L->w[LPERF_TASK_CLOCK] * LIVE_FREQ_HZ;
		lproc_pathf(L->fallback_why, sizeof L->fallback_why, "%s",
			       have_hw[LPERF_CYCLES] ? "no weight for the hardware counters"
					    : "no hardware counters");
	}
	L->model.ops = &cpu_energy_weighted_pmc;
	L->model.n_counters = LPERF_N_EVENTS;
	L->model.tsc_index = -1;
	for (int ev = 0; ev < LPERF_N_EVENTS; ev++)
		L->model.weight_j[ev] = L->w[ev];
}

static void split(int policy, const double *by_busy, const double *by_active, int n,
		  int extra, double pot, double *share, double *rest)
{
	double sum = 0;
	*rest = 0;
	for (int i = 0; i < n; i++)
		share[i] = 0;
	switch (policy) {
	case SCN_IDLE_EQUAL:
		for (int i = 0; i < n; i++)
			share[i] = pot / (double)(n + extra);
		*rest = pot * (double)extra / (double)(n + extra);
		return;
	case SCN_IDLE_UTILIZATION:
	case SCN_IDLE_PROPORTIONAL: {
		const double *by = policy == SCN_IDLE_UTILIZATION ? by_busy : by_active;
		for (int i = 0; i < n; i++)
			sum += by[i];
		if (sum <= 0) {
			*rest = pot;
			return;
		}
		for (int i = 0; i < n; i++)
			share[i] = pot * by[i] / sum;
		return;
	}
	default:
		*rest = pot;
	}
}

void live_int_model_interval(struct live *L, double dt_s)
{
	int n = L->n;
	double busy[LIVE_MAX_ENTITIES] = {0}, act[LIVE_MAX_ENTITIES] = {0},
	       dbusy[LIVE_MAX_ENTITIES] = {0}, dact[LIVE_MAX_ENTITIES] = {0},
	       share[LIVE_MAX_ENTITIES] = {0}, rest = 0;
	for (int i = 0; i < n; i++) {
		struct ent *e = &L->ent[i];
		double delta[CPU_ENERGY_MAX_COUNTERS] = {0};
		for (int ev = 0; ev < LPERF_N_EVENTS; ev++)
			delta[ev] = (double)e->iv[ev];
		double idle_j, active_j;
		cpu_energy_period(&L->model, (int64_t)(dt_s * 1e9), delta, &idle_j, &active_j);
		busy[i] = (double)e->iv[LPERF_TASK_CLOCK];
		act[i] = active_j;
		double bytes = 0;
		for (int k = 0; k < L->ndisk; k++)
			bytes += (double)(e->iv_r[k] + e->iv_w[k]);
		dbusy[i] = L->disk_rate_bps > 0 ? bytes / L->disk_rate_bps : 0;
		dact[i] = dbusy[i] * (L->disk_active_w - L->disk_idle_w);
		e->e_cpu_active += act[i];
		e->e_disk_active += dact[i];
	}
	double base_j = (double)L->ncpu * L->idle_w * dt_s;
	split(L->policy, busy, act, n, 1 /* the kernel driver VM */, base_j, share, &rest);
	/* the driver VM's equal share stays unattributed; the core books it so */
	L->e_hyp_cpu += rest;
	for (int i = 0; i < n; i++) {
		struct ent *e = &L->ent[i];
		e->e_cpu_idle += share[i];
		e->w_cpu = dt_s > 0 ? act[i] / dt_s : 0;
		e->w_idle = dt_s > 0 ? share[i] / dt_s : 0;
	}
	double disk_idle_j = (double)L->ndisk * L->disk_idle_w * dt_s;
	split(L->disk_policy, dbusy, dact, n, 0, disk_idle_j, share, &rest);
	L->e_hyp_disk += rest;
	for (int i = 0; i < n; i++) {
		struct ent *e = &L->ent[i];
		e->e_disk_idle += share[i];
		e->w_idle += dt_s > 0 ? share[i] / dt_s : 0;
		e->w_disk = dt_s > 0 ? dact[i] / dt_s : 0;
	}
}

/* ---------------------------------------------------------------------- */
/* output: table, CSV lines, metrics                                        */

static void fmt_limit(const struct ent *e, char *buf, size_t cap)
{
	char a[48] = "", b[48] = "";
	if (e->cpu_limit_w > 0)
		snprintf(a, sizeof a, "cpu %.3gW", e->cpu_limit_w);
	else if (e->cpu_limit_cpus > 0)
		snprintf(a, sizeof a, "cpu %.3g%%", 100.0 * e->cpu_limit_cpus);
	if (e->disk_limit_w > 0)
		snprintf(b, sizeof b, "disk %.3gW", e->disk_limit_w);
	else if (e->disk_limit_bps > 0)
		snprintf(b, sizeof b, "disk %.3gMiB/s", e->disk_limit_bps / 1048576.0);
	lproc_pathf(buf, cap, "%s%s%s", a, a[0] && b[0] ? " " : "", b[0] || a[0] ? b : "-");
}

static void fmt_throttle(const struct live *L, const struct ent *e, char *buf, size_t cap)
{
	char a[48] = "", b[48] = "";
	if (e->applied_cpus > 0)
		snprintf(a, sizeof a, "%.3g CPU", e->applied_cpus);
	if (e->applied_bps > 0)
		snprintf(b, sizeof b, "%.3gMiB/s", (double)e->applied_bps / 1048576.0);
	lproc_pathf(buf, cap, "%s%s%s%s", a, a[0] && b[0] ? " " : "", b,
		       !a[0] && !b[0] ? "-" : L->o.dry_run ? " (dry-run)" : "");
}

void live_int_print_tick(struct live *L, int64_t t_ns)
{
	if (L->o.quiet)
		return;
	char lim[96], thr[96];
	double t_s = (double)t_ns * 1e-9;
	if (L->tty) {
		fputs("\033[H\033[J", L->out);
		fprintf(L->out, "joulevisor live  t=%.1fs  interval %.0fms  model: %s",
			t_s, (double)L->o.interval_ns * 1e-6,
			L->fallback ? "fallback (task-clock)" : "weighted counters");
		if (L->energy)
			fprintf(L->out, "  measured %.1fW", L->energy_w);
		fputc('\n', L->out);
		fprintf(L->out, "%-20s %9s %9s %9s %9s  %-20s %s\n", "entity", "cpu_w", "disk_w",
			"idle_w", "total_w", "limit", "throttle");
		for (int i = 0; i < L->n; i++) {
			struct ent *e = &L->ent[i];
			fmt_limit(e, lim, sizeof lim);
			fmt_throttle(L, e, thr, sizeof thr);
			fprintf(L->out, "%-20s %9.3f %9.3f %9.3f %9.3f  %-20s %s\n", e->name, e->w_cpu,
				e->w_disk, e->w_idle, e->w_cpu + e->w_disk + e->w_idle, lim, thr);
		}
		fflush(L->out);
		return;
	}
	if (!L->hdr_done) {
		fprintf(L->out, "t_s,entity,cpu_w,disk_w,idle_w,total_w,limit,throttle\n");
		L->hdr_done = 1;
	}
	for (int i = 0; i < L->n; i++) {
		struct ent *e = &L->ent[i];
		fmt_limit(e, lim, sizeof lim);
		fmt_throttle(L, e, thr, sizeof thr);
		fprintf(L->out, "%.3f,%s,%.6g,%.6g,%.6g,%.6g,%s,%s\n", t_s, e->name, e->w_cpu,
			e->w_disk, e->w_idle, e->w_cpu + e->w_disk + e->w_idle, lim, thr);
	}
	fflush(L->out);
}

static char *metrics_render(const struct live *L)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	fprintf(f, "# HELP joulevisor_energy_joules_total Energy charged to a consumer on a device "
		   "since the live session started.\n");
	fprintf(f, "# TYPE joulevisor_energy_joules_total counter\n");
#define EMIT(cons, dev, via, kind, v)                                                    \
	fprintf(f, "joulevisor_energy_joules_total{consumer=\"%s\",device=\"%s\",via=\"%s\"," \
		   "kind=\"%s\"} %.10g\n", cons, dev, via, kind, v)
	for (int i = 0; i < L->n; i++) {
		const struct ent *e = &L->ent[i];
		EMIT(e->name, "cpu0", "direct", "idle", e->e_cpu_idle);
		EMIT(e->name, "cpu0", "direct", "active", e->e_cpu_active);
		if (L->ndisk) {
			EMIT(e->name, "disk", LIVE_DRIVER, "idle", e->e_disk_idle);
			EMIT(e->name, "disk", LIVE_DRIVER, "active", e->e_disk_active);
		}
	}
	EMIT("hypervisor", "cpu0", "direct", "idle", L->e_hyp_cpu);
	if (L->ndisk)
		EMIT("hypervisor", "disk", "direct", "idle", L->e_hyp_disk);
#undef EMIT
	fprintf(f, "# HELP joulevisor_power_watts Mean power of a consumer on a device over the "
		   "last interval.\n");
	fprintf(f, "# TYPE joulevisor_power_watts gauge\n");
	for (int i = 0; i < L->n; i++) {
		const struct ent *e = &L->ent[i];
		fprintf(f, "joulevisor_power_watts{consumer=\"%s\",device=\"cpu0\"} %.10g\n", e->name,
			e->w_cpu + e->w_idle);
		if (L->ndisk)
			fprintf(f, "joulevisor_power_watts{consumer=\"%s\",device=\"disk\"} %.10g\n",
				e->name, e->w_disk);
	}
	if (L->energy) {
		fprintf(f, "# HELP joulevisor_measured_energy_joules_total Energy measured by %s.\n",
			lenergy_source(L->energy));
		fprintf(f, "# TYPE joulevisor_measured_energy_joules_total counter\n");
		for (int k = 0; k < lenergy_n_domains(L->energy); k++)
			fprintf(f, "joulevisor_measured_energy_joules_total{domain=\"%s\"} %.10g\n",
				lenergy_domain_name(L->energy, k), L->energy_j[k]);
	}
	fprintf(f, "# HELP joulevisor_live_intervals_total Sampling intervals so far.\n");
	fprintf(f, "# TYPE joulevisor_live_intervals_total counter\n");
	fprintf(f, "joulevisor_live_intervals_total %d\n", L->ticks);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

int live_int_metrics_publish(struct live *L, struct jv_diag *d)
{
	if (!L->o.metrics && !L->httpd)
		return 0;
	char *text = metrics_render(L);
	if (!text)
		return jv_diag_set(d, JV_ENOMEM, NULL, 0, "out of memory");
	if (L->o.metrics) {
		char tmp[LIVE_PATH_MAX];
		lproc_pathf(tmp, sizeof tmp, "%s.tmp-%d", L->o.metrics, (int)getpid());
		FILE *f = fopen(tmp, "w");
		int ok = f && fputs(text, f) >= 0;
		if (f && fclose(f))
			ok = 0;
		if (!ok || rename(tmp, L->o.metrics)) {
			int e = errno;
			unlink(tmp);
			free(text);
			return jv_diag_set(d, JV_EIO, L->o.metrics, 0, "cannot write: %s", strerror(e));
		}
	}
	pthread_mutex_lock(&L->mx);
	free(L->metrics_text);
	L->metrics_text = text;
	pthread_mutex_unlock(&L->mx);
	return 0;
}

#ifdef JV_HAVE_MICROHTTPD
static enum MHD_Result http_answer(void *cls, struct MHD_Connection *c, const char *url,
				   const char *method, const char *version, const char *upload,
				   size_t *upload_size, void **con_cls)
{
	struct live *L = cls;
	(void)version;
	(void)upload;
	(void)upload_size;
	(void)con_cls;
	int ok = strcmp(method, "GET") == 0 && strcmp(url, "/metrics") == 0;
	pthread_mutex_lock(&L->mx);
	const char *body = ok ? (L->metrics_text ? L->metrics_text : "") : "not found: try /metrics\n";
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body,
								 MHD_RESPMEM_MUST_COPY);
	pthread_mutex_unlock(&L->mx);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", ok ? "text/plain; version=0.0.4" : "text/plain");
	enum MHD_Result rc = MHD_queue_response(c, ok ? MHD_HTTP_OK : MHD_HTTP_NOT_FOUND, r);
	MHD_destroy_response(r);
	return rc;
}
#endif

int live_int_http_start(struct live *L, struct jv_diag *d)
{
	if (!L->o.listen)
		return 0;
#ifndef JV_HAVE_MICROHTTPD
	return jv_diag_set(d, JV_EUSAGE, NULL, 0,
			   "--listen: this joulevisor was built without libmicrohttpd "
			   "(apt-get install libmicrohttpd-dev, then rebuild)");
#else
	char host[256];
	const char *a = L->o.listen;
	const char *colon = strrchr(a, ':');
	if (!colon || colon == a || !colon[1])
		return jv_diag_set(d, JV_EUSAGE, NULL, 0, "--listen: expected ADDR:PORT, got '%s'", a);
	size_t hl = (size_t)(colon - a);
	if (hl >= sizeof host)
		hl = sizeof host - 1;
	memcpy(host, a, hl);
	host[hl] = '\0';
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (*end || port < 0 || port > 65535)
		return jv_diag_set(d, JV_EUSAGE, NULL, 0, "--listen: bad port '%s'", colon + 1);
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	if (!strcmp(host, "localhost"))
		snprintf(host, sizeof host, "127.0.0.1");
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1 ||
	    (ntohl(sa.sin_addr.s_addr) >> 24) != 127)
		return jv_diag_set(d, JV_EUSAGE, NULL, 0,
				   "--listen: '%s' is not a loopback IPv4 address (127.x.x.x or "
				   "localhost): /metrics is served on loopback only", host);
	struct MHD_Daemon *dm = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, (uint16_t)port,
						 NULL, NULL, http_answer, L, MHD_OPTION_SOCK_ADDR,
						 (struct sockaddr *)&sa, MHD_OPTION_END);
	if (!dm)
		return jv_diag_set(d, JV_EIO, NULL, 0, "--listen: cannot listen on %s: %s", a,
				   strerror(errno));
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(dm, MHD_DAEMON_INFO_BIND_PORT);
	L->http_port = info ? (int)info->port : (int)port;
	L->httpd = dm;
	fprintf(L->err, "joulevisor: live: serving http://%s:%d/metrics\n", host, L->http_port);
	fflush(L->err);
	return 0;
#endif
}

void live_int_http_stop(struct live *L)
{
#ifdef JV_HAVE_MICROHTTPD
	if (L->httpd)
		MHD_stop_daemon(L->httpd);
#endif
	L->httpd = NULL;
}
