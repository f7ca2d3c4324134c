/*
 * live_energy: theory of operation.
 *
 * Problem: show what the machine really drew beside what the accounting
 * charged, on whatever meter the host has, and say clearly when it has
 * none (virtual machines, AMD without the driver, ARM boards).
 *
 * Strategy, first that works:
 *  1. perf `power` PMU (sys/bus/event_source/devices/power): each event
 *     file events/energy-* gives `event=0x..`; its .scale (J per count) and
 *     the PMU's cpumask (one CPU per package) tell how to read it; opened
 *     system-wide (pid -1) on that CPU, counts are 64-bit and never wrap.
 *  2. powercap (sys/class/powercap/intel-rapl:N): energy_uj of each
 *     top-level zone (package), wrapping after max_energy_range_uj; each
 *     read adds lenergy_delta_uj(prev, cur, max).
 *  3. none: the reason names both sources and why each failed.
 *
 * Parameters: sys_root (tests use tests/fixtures/live/sys).
 *
 * Worked example (wrap): max 262143328850 uJ, prev 262143000000, cur
 * 1000000: delta = 1000000 + 262143328850 - 262143000000 = 1328850 uJ.
 *
 * Limits: a powercap counter that wraps more than once between reads is
 * under-counted (minutes at a package's power: live reads every interval).
 */
#include "traces/live_energy.h"
#include "traces/live_proc.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define LE_PATH_MAX 4096

enum le_kind { LE_PERF = 1, LE_POWERCAP = 2 };

struct lenergy {
	int kind;
	int n;
	char name[LENERGY_MAX_DOMAINS][64];
	/* perf */
	int fd[LENERGY_MAX_DOMAINS];
	double scale[LENERGY_MAX_DOMAINS];
	uint64_t first[LENERGY_MAX_DOMAINS];
	/* powercap */
	char path[LENERGY_MAX_DOMAINS][LE_PATH_MAX];
	uint64_t max_uj[LENERGY_MAX_DOMAINS], prev_uj[LENERGY_MAX_DOMAINS];
	double acc_j[LENERGY_MAX_DOMAINS];
};

uint64_t lenergy_delta_uj(uint64_t prev, uint64_t cur, uint64_t max_uj)
{
	if (cur >= prev)
		return cur - prev;
	return cur + (max_uj > prev ? max_uj - prev : 0);
}

static int read_text(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -errno;
	size_t n = fread(buf, 1, cap - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static int read_u64(const char *path, uint64_t *v)
{
	char buf[64];
	int rc = read_text(path, buf, sizeof buf);
	if (rc)
		return rc;
	char *end;
	errno = 0;
	unsigned long long x = strtoull(buf, &end, 10);
	if (end == buf || errno)
		return -EINVAL;
	*v = x;
	return 0;
}

static int try_perf(const char *sys_root, struct lenergy *e, char *why, size_t cap)
{
	char dir[LE_PATH_MAX], path[LE_PATH_MAX], buf[256];
	lproc_pathf(dir, sizeof dir, "%s/bus/event_source/devices/power", sys_root);
	lproc_pathf(path, sizeof path, "%s/type", dir);
	uint64_t type;
	if (read_u64(path, &type)) {
		lproc_pathf(why, cap, "no perf power PMU (%s absent)", dir);
		return -1;
	}
	int cpu = 0;
	lproc_pathf(path, sizeof path, "%s/cpumask", dir);
	if (read_text(path, buf, sizeof buf) == 0)
		cpu = atoi(buf);
	lproc_pathf(path, sizeof path, "%s/events", dir);
	DIR *dd = opendir(path);
	if (!dd) {
		lproc_pathf(why, cap, "perf power PMU without events (%s)", path);
		return -1;
	}
	struct dirent *de;
	int last_err = 0;
	while ((de = readdir(dd)) && e->n < LENERGY_MAX_DOMAINS) {
		if (strncmp(de->d_name, "energy-", 7) != 0 || strchr(de->d_name, '.'))
			continue;
		unsigned long long config = 0;
		lproc_pathf(path, sizeof path, "%s/events/%s", dir, de->d_name);
		if (read_text(path, buf, sizeof buf) || sscanf(buf, "event=%llx", &config) != 1)
			continue;
		double scale = 1.0;
		lproc_pathf(path, sizeof path, "%s/events/%s.scale", dir, de->d_name);
		if (read_text(path, buf, sizeof buf) == 0)
			scale = strtod(buf, NULL);
		struct perf_event_attr a;
		memset(&a, 0, sizeof a);
		a.size = sizeof a;
		a.type = (uint32_t)type;
		a.config = config;
		int fd = (int)syscall(SYS_perf_event_open, &a, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
		if (fd < 0) {
			last_err = errno;
			continue;
		}
		uint64_t v = 0;
		if (read(fd, &v, sizeof v) != (ssize_t)sizeof v) {
			close(fd);
			continue;
		}
		e->fd[e->n] = fd;
		e->scale[e->n] = scale;
		e->first[e->n] = v;
		lproc_pathf(e->name[e->n], sizeof e->name[e->n], "%s", de->d_name + 7);
		e->n++;
	}
	closedir(dd);
	if (e->n == 0) {
		lproc_pathf(why, cap, "perf power PMU present but no energy event opened (%s)",
			    last_err ? strerror(last_err) : "no energy-* event");
		return -1;
	}
	e->kind = LE_PERF;
	return 0;
}

static int try_powercap(const char *sys_root, struct lenergy *e, char *why, size_t cap)
{
	char dir[LE_PATH_MAX], path[LE_PATH_MAX + 64];
	lproc_pathf(dir, sizeof dir, "%s/class/powercap", sys_root);
	DIR *dd = opendir(dir);
	if (!dd) {
		lproc_pathf(why, cap, "no powercap (%s absent)", dir);
		return -1;
	}
	struct dirent *de;
	int last_err = 0;
	/* top-level zones "intel-rapl:N" (not sub-zones "intel-rapl:N:M") */
	char names[LENERGY_MAX_DOMAINS][64];
	int nn = 0;
	while ((de = readdir(dd)) && nn < LENERGY_MAX_DOMAINS) {
		const char *p = de->d_name;
		if (strncmp(p, "intel-rapl:", 11) != 0 || strchr(p + 11, ':'))
			continue;
		lproc_pathf(names[nn++], sizeof names[0], "%s", p);
	}
	closedir(dd);
	/* readdir order is arbitrary: sort the zone names */
	for (int i = 1; i < nn; i++)
		for (int j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
			char t[64];
			memcpy(t, names[j], sizeof t);
			memcpy(names[j], names[j - 1], sizeof t);
			memcpy(names[j - 1], t, sizeof t);
		}
	for (int i = 0; i < nn; i++) {
		int k = e->n;
		lproc_pathf(e->path[k], sizeof e->path[k], "%s/%s", dir, names[i]);
		lproc_pathf(path, sizeof path, "%s/max_energy_range_uj", e->path[k]);
		int rc = read_u64(path, &e->max_uj[k]);
		lproc_pathf(path, sizeof path, "%s/energy_uj", e->path[k]);
		if (!rc)
			rc = read_u64(path, &e->prev_uj[k]);
		if (rc) {
			last_err = -rc;
			continue;
		}
		char nm[64] = "";
		lproc_pathf(path, sizeof path, "%s/name", e->path[k]);
		if (read_text(path, nm, sizeof nm) || !nm[0])
			lproc_pathf(nm, sizeof nm, "%s", names[i]);
		lproc_pathf(e->name[k], sizeof e->name[k], "%s", nm);
		e->acc_j[k] = 0.0;
		e->n++;
	}
	if (e->n == 0) {
		if (nn == 0)
			lproc_pathf(why, cap, "no powercap intel-rapl zone in %s", dir);
		else
			lproc_pathf(why, cap, "powercap intel-rapl zones unreadable (%s)",
				    strerror(last_err));
		return -1;
	}
	e->kind = LE_POWERCAP;
	return 0;
}

int lenergy_open(const char *sys_root, struct lenergy **out, char *reason, size_t cap)
{
	*out = NULL;
	struct lenergy *e = calloc(1, sizeof *e);
	if (!e) {
		snprintf(reason, cap, "out of memory");
		return JV_ENOMEM;
	}
	char w1[LENERGY_REASON_MAX], w2[LENERGY_REASON_MAX];
	if (try_perf(sys_root, e, w1, sizeof w1) == 0 ||
	    (e->n = 0, try_powercap(sys_root, e, w2, sizeof w2) == 0)) {
		*out = e;
		return 0;
	}
	snprintf(reason, cap, "%s; %s", w1, w2);
	free(e);
	return JV_ENOENT;
}

const char *lenergy_source(const struct lenergy *e)
{
	return e->kind == LE_PERF ? "perf power PMU" : "powercap intel-rapl";
}

int lenergy_n_domains(const struct lenergy *e)
{
	return e->n;
}

const char *lenergy_domain_name(const struct lenergy *e, int i)
{
	return i >= 0 && i < e->n ? e->name[i] : "?";
}

int lenergy_read(struct lenergy *e, double *joules, struct jv_diag *d)
{
	for (int i = 0; i < e->n; i++) {
		if (e->kind == LE_PERF) {
			uint64_t v;
			if (read(e->fd[i], &v, sizeof v) != (ssize_t)sizeof v)
				return jv_diag_set(d, JV_EIO, NULL, 0, "reading energy-%s: %s",
						   e->name[i], strerror(errno));
			joules[i] = (double)(v - e->first[i]) * e->scale[i];
		} else {
			char path[LE_PATH_MAX + 16];
			uint64_t cur;
			lproc_pathf(path, sizeof path, "%s/energy_uj", e->path[i]);
			int rc = read_u64(path, &cur);
			if (rc)
				return jv_diag_set(d, JV_EIO, path, 0, "cannot read: %s", strerror(-rc));
			e->acc_j[i] += (double)lenergy_delta_uj(e->prev_uj[i], cur, e->max_uj[i]) * 1e-6;
			e->prev_uj[i] = cur;
			joules[i] = e->acc_j[i];
		}
	}
	return 0;
}

void lenergy_close(struct lenergy *e)
{
	if (!e)
		return;
	if (e->kind == LE_PERF)
		for (int i = 0; i < e->n; i++)
			close(e->fd[i]);
	free(e);
}
