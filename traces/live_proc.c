/*
 * live_proc: theory of operation.
 *
 * Problem: live mode attributes disk traffic to entities and checks CPU
 * time against the kernel's own accounting, from text files whose format
 * the kernel fixes: /proc/diskstats, /proc/PID/io, cgroup v2 io.stat and
 * cpu.stat, cgroup v1 blkio.throttle.* and cpuacct.usage.
 *
 * Strategy: read each file whole (they are small) with one fopen, parse
 * line by line with sscanf/strtoull, and report a malformed line as
 * "FILE:LINE: reason". Nothing is cached: every call is one snapshot of
 * cumulative counters; live.c takes differences per interval.
 *
 * Parameters: the roots (proc_root, sys_root, cgroup directories), so the
 * tests read fixture trees (tests/fixtures/live/). Disk filter: whole
 * disks only (sys_root/block/NAME exists), no loop, ram, zram, nbd or dm
 * (they have no energy of their own).
 *
 * Limits: /proc/PID/io counts reaped children but not running ones; the
 * cgroup v1 throttle statistics count only devices with a throttle rule;
 * at most cap devices are returned (the rest are reported as an error).
 */
#include "traces/live_proc.h"

#include <errno.h>
#include <stddef.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LPROC_PATH_MAX 4096
#define LPROC_LINE_MAX 1024

int lproc_pathf(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, cap, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= cap) {
		buf[0] = '\0';
		return -1;
	}
	return 0;
}

/* A named counter (uint64_t) of a statistics struct. */
struct key_field {
	const char *key;
	size_t off;
};

#define KEY_FIELD(key, type, field) {key, offsetof(type, field)}

static const struct key_field pid_io_keys[] = {
	KEY_FIELD("rchar", struct lproc_io, rchar),
	KEY_FIELD("wchar", struct lproc_io, wchar),
	KEY_FIELD("syscr", struct lproc_io, syscr),
	KEY_FIELD("syscw", struct lproc_io, syscw),
	KEY_FIELD("read_bytes", struct lproc_io, read_b),
	KEY_FIELD("write_bytes", struct lproc_io, write_b),
	KEY_FIELD("cancelled_write_bytes", struct lproc_io, cancelled_write_b),
	{NULL, 0},
};

static const struct key_field io_stat_keys[] = {
	KEY_FIELD("rbytes", struct lproc_devio, read_b),
	KEY_FIELD("wbytes", struct lproc_devio, write_b),
	KEY_FIELD("rios", struct lproc_devio, reads),
	KEY_FIELD("wios", struct lproc_devio, writes),
	{NULL, 0},
};

/* out's counter named key in table t := v; keys not in t are ignored. */
static void set_key(void *out, const struct key_field *t, const char *key, uint64_t v)
{
	for (; t->key; t++)
		if (!strcmp(t->key, key)) {
			*(uint64_t *)((char *)out + t->off) = v;
			return;
		}
}

int lproc_diskstats(const char *path, struct lproc_disk *out, int cap, int *n,
		    struct jv_diag *d)
{
	*n = 0;
	FILE *f = fopen(path, "r");
	if (!f)
		return jv_diag_set(d, JV_ENOENT, path, 0, "cannot open: %s", strerror(errno));
	char line[LPROC_LINE_MAX];
	long ln = 0;
	int rc = 0;
	while (fgets(line, sizeof line, f)) {
		ln++;
		struct lproc_disk k;
		memset(&k, 0, sizeof k);
		unsigned long long r, rm, rs, rt, w, wm, ws, wt, inflight, ioms;
		char name[LPROC_NAME_MAX + 1];
		int got = sscanf(line, "%u %u %32s %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
				 &k.maj, &k.min, name, &r, &rm, &rs, &rt, &w, &wm, &ws, &wt,
				 &inflight, &ioms);
		if (got < 13) {
			rc = jv_diag_set(d, JV_EPARSE, path, ln,
					 "expected 'MAJ MIN NAME' and at least 10 counters");
			break;
		}
		if (*n >= cap)
			continue;
		lproc_pathf(k.name, sizeof k.name, "%s", name);
		k.reads = r;
		k.read_b = rs * LPROC_SECTOR_B;
		k.writes = w;
		k.write_b = ws * LPROC_SECTOR_B;
		k.io_ms = ioms;
		out[(*n)++] = k;
	}
	fclose(f);
	return rc;
}

static int virtual_disk(const char *name)
{
	static const char *const pfx[] = {"loop", "ram", "zram", "nbd", "dm-", "md", NULL};
	for (int i = 0; pfx[i]; i++)
		if (strncmp(name, pfx[i], strlen(pfx[i])) == 0)
			return 1;
	return 0;
}

int lproc_disks(const char *proc_root, const char *sys_root, struct lproc_disk *out, int cap,
		int *n, struct jv_diag *d)
{
	char path[LPROC_PATH_MAX];
	struct lproc_disk all[256];
	int na = 0;
	*n = 0;
	lproc_pathf(path, sizeof path, "%s/diskstats", proc_root);
	int rc = lproc_diskstats(path, all, 256, &na, d);
	if (rc)
		return rc;
	for (int i = 0; i < na; i++) {
		struct stat st;
		lproc_pathf(path, sizeof path, "%s/block/%s", sys_root, all[i].name);
		if (virtual_disk(all[i].name) || stat(path, &st) != 0)
			continue;
		if (*n >= cap)
			return jv_diag_set(d, JV_ELIMIT, NULL, 0,
					   "more than %d disks (at '%s')", cap, all[i].name);
		out[(*n)++] = all[i];
	}
	return 0;
}

int lproc_pid_io(const char *proc_root, pid_t pid, struct lproc_io *out, struct jv_diag *d)
{
	char path[LPROC_PATH_MAX];
	lproc_pathf(path, sizeof path, "%s/%d/io", proc_root, (int)pid);
	memset(out, 0, sizeof *out);
	FILE *f = fopen(path, "r");
	if (!f)
		return jv_diag_set(d, errno == ENOENT || errno == ESRCH ? JV_ENOENT : JV_EIO, path, 0,
				   "cannot open: %s", strerror(errno));
	char key[64];
	unsigned long long v;
	int seen = 0;
	long ln = 0;
	char line[LPROC_LINE_MAX];
	int rc = 0;
	while (fgets(line, sizeof line, f)) {
		ln++;
		if (sscanf(line, "%63[^:]: %llu", key, &v) != 2) {
			rc = jv_diag_set(d, JV_EPARSE, path, ln, "expected 'key: value'");
			break;
		}
		seen++;
		set_key(out, pid_io_keys, key, v);
	}
	if (ferror(f) && !rc)
		rc = jv_diag_set(d, JV_EIO, path, 0, "read error: %s", strerror(errno));
	fclose(f);
	if (!rc && !seen)
		rc = jv_diag_set(d, JV_EEMPTY, path, 0, "empty file");
	return rc;
}

/* *s: the entry of device maj:min in out[0..*n), added if new; JV_ELIMIT
 * ("FILE:LINE: more than CAP devices") when out is full. */
static int devio_slot(struct lproc_devio *out, int cap, int *n, unsigned maj, unsigned min,
		      struct lproc_devio **s, const char *path, long ln, struct jv_diag *d)
{
	for (int i = 0; i < *n; i++)
		if (out[i].maj == maj && out[i].min == min) {
			*s = &out[i];
			return 0;
		}
	if (*n >= cap)
		return jv_diag_set(d, JV_ELIMIT, path, ln, "more than %d devices", cap);
	*s = &out[(*n)++];
	memset(*s, 0, sizeof **s);
	(*s)->maj = maj;
	(*s)->min = min;
	return 0;
}

int lproc_cgroup_io_v2(const char *dir, struct lproc_devio *out, int cap, int *n,
		       struct jv_diag *d)
{
	char path[LPROC_PATH_MAX];
	lproc_pathf(path, sizeof path, "%s/io.stat", dir);
	*n = 0;
	FILE *f = fopen(path, "r");
	if (!f)
		return jv_diag_set(d, JV_ENOENT, path, 0, "cannot open: %s", strerror(errno));
	char line[LPROC_LINE_MAX];
	long ln = 0;
	int rc = 0;
	while (fgets(line, sizeof line, f)) {
		ln++;
		unsigned maj, min;
		int off = 0;
		if (sscanf(line, "%u:%u%n", &maj, &min, &off) != 2) {
			rc = jv_diag_set(d, JV_EPARSE, path, ln, "expected 'MAJ:MIN key=value...'");
			break;
		}
		struct lproc_devio *s;
		if ((rc = devio_slot(out, cap, n, maj, min, &s, path, ln, d)) < 0)
			break;
		char *save = NULL;
		for (char *tok = strtok_r(line + off, " \t\n", &save); tok;
		     tok = strtok_r(NULL, " \t\n", &save)) {
			char *eq = strchr(tok, '=');
			if (!eq)
				continue;
			*eq = '\0';
			set_key(s, io_stat_keys, tok, strtoull(eq + 1, NULL, 10));
		}
	}
	fclose(f);
	return rc;
}

/* One v1 blkio file: "MAJ:MIN Read N" ... ; which 0: bytes, 1: requests. */
static int v1_file(const char *path, int which, struct lproc_devio *out, int cap, int *n,
		   struct jv_diag *d)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return JV_ENOENT;
	char line[LPROC_LINE_MAX];
	long ln = 0;
	int rc = 0;
	while (fgets(line, sizeof line, f)) {
		ln++;
		unsigned maj, min;
		char op[32];
		unsigned long long v;
		if (strncmp(line, "Total", 5) == 0)
			continue;
		if (sscanf(line, "%u:%u %31s %llu", &maj, &min, op, &v) != 4) {
			rc = jv_diag_set(d, JV_EPARSE, path, ln, "expected 'MAJ:MIN OP VALUE'");
			break;
		}
		struct lproc_devio *s;
		if ((rc = devio_slot(out, cap, n, maj, min, &s, path, ln, d)) < 0)
			break;
		if (!strcmp(op, "Read"))
			*(which ? &s->reads : &s->read_b) = v;
		else if (!strcmp(op, "Write"))
			*(which ? &s->writes : &s->write_b) = v;
	}
	fclose(f);
	return rc;
}

int lproc_cgroup_io_v1(const char *dir, struct lproc_devio *out, int cap, int *n,
		       struct jv_diag *d)
{
	static const char *const files[2][2] = {
		{"blkio.throttle.io_service_bytes_recursive", "blkio.throttle.io_service_bytes"},
		{"blkio.throttle.io_serviced_recursive", "blkio.throttle.io_serviced"},
	};
	char path[LPROC_PATH_MAX];
	*n = 0;
	for (int which = 0; which < 2; which++) {
		int rc = JV_ENOENT;
		for (int k = 0; k < 2 && rc == JV_ENOENT; k++) {
			lproc_pathf(path, sizeof path, "%s/%s", dir, files[which][k]);
			rc = v1_file(path, which, out, cap, n, d);
		}
		if (rc == JV_ENOENT)
			return jv_diag_set(d, JV_ENOENT, dir, 0,
					   "no blkio.throttle.%s file (not a blkio cgroup?)",
					   which ? "io_serviced" : "io_service_bytes");
		if (rc)
			return rc;
	}
	return 0;
}

int lproc_cgroup_cpu_ns(const char *dir, int v2, uint64_t *ns, struct jv_diag *d)
{
	char path[LPROC_PATH_MAX];
	lproc_pathf(path, sizeof path, "%s/%s", dir, v2 ? "cpu.stat" : "cpuacct.usage");
	FILE *f = fopen(path, "r");
	*ns = 0;
	if (!f)
		return jv_diag_set(d, JV_ENOENT, path, 0, "cannot open: %s", strerror(errno));
	char line[LPROC_LINE_MAX];
	int found = 0;
	while (!found && fgets(line, sizeof line, f)) {
		unsigned long long v;
		if (!v2 && sscanf(line, "%llu", &v) == 1) {
			*ns = v;
			found = 1;
		} else if (v2 && sscanf(line, "usage_usec %llu", &v) == 1) {
			*ns = v * 1000ULL;
			found = 1;
		}
	}
	fclose(f);
	if (!found)
		return jv_diag_set(d, JV_EPARSE, path, 0, "no %s value",
				   v2 ? "usage_usec" : "usage");
	return 0;
}

int lproc_online_cpus(const char *sys_root, int *cpus, int cap, int *n, struct jv_diag *d)
{
	char path[LPROC_PATH_MAX];
	lproc_pathf(path, sizeof path, "%s/devices/system/cpu/online", sys_root);
	*n = 0;
	FILE *f = fopen(path, "r");
	if (!f)
		return jv_diag_set(d, JV_ENOENT, path, 0, "cannot open: %s", strerror(errno));
	char line[LPROC_LINE_MAX];
	int rc = 0;
	if (!fgets(line, sizeof line, f))
		line[0] = '\0';
	fclose(f);
	char *save = NULL;
	for (char *tok = strtok_r(line, ",\n", &save); tok; tok = strtok_r(NULL, ",\n", &save)) {
		int a, b;
		int got = sscanf(tok, "%d-%d", &a, &b);
		if (got == 1)
			b = a;
		if (got < 1 || a < 0 || b < a) {
			return jv_diag_set(d, JV_EPARSE, path, 1, "bad CPU list element '%s'", tok);
		}
		for (int c = a; c <= b; c++) {
			if (*n >= cap)
				return jv_diag_set(d, JV_ELIMIT, path, 1, "more than %d CPUs", cap);
			cpus[(*n)++] = c;
		}
	}
	if (*n == 0)
		rc = jv_diag_set(d, JV_EEMPTY, path, 1, "no online CPU listed");
	return rc;
}

int lproc_pid_cpu_ns(const char *proc_root, pid_t pid, uint64_t *ns, struct jv_diag *d)
{
	char path[LPROC_PATH_MAX], line[LPROC_LINE_MAX];
	lproc_pathf(path, sizeof path, "%s/%d/stat", proc_root, (int)pid);
	*ns = 0;
	FILE *f = fopen(path, "r");
	if (!f)
		return jv_diag_set(d, JV_ENOENT, path, 0, "cannot open: %s", strerror(errno));
	char *ok = fgets(line, sizeof line, f);
	fclose(f);
	char *rp = ok ? strrchr(line, ')') : NULL; /* comm may hold spaces */
	unsigned long long ut, st, cut, cst;
	if (!rp || sscanf(rp + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %llu %llu",
			  &ut, &st, &cut, &cst) != 4)
		return jv_diag_set(d, JV_EPARSE, path, 1, "expected the stat fields utime..cstime");
	long hz = sysconf(_SC_CLK_TCK);
	if (hz <= 0)
		hz = 100;
	*ns = (ut + st + cut + cst) * (1000000000ULL / (unsigned long long)hz);
	return 0;
}

void lproc_comm(const char *proc_root, pid_t pid, char *buf, size_t cap)
{
	char path[LPROC_PATH_MAX];
	lproc_pathf(path, sizeof path, "%s/%d/comm", proc_root, (int)pid);
	buf[0] = '\0';
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	if (fgets(buf, (int)cap, f))
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}
